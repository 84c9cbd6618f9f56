//! Every program the CUDA backend runs, compiled by NVRTC for `sm_80` and `sm_90`.
//!
//! Needs NVRTC only, not a GPU (`pip install nvidia-cuda-nvrtc-cu12`; see the crate's
//! `libs` module for where it is looked for). Without NVRTC the test prints `SKIPPED` and
//! passes, unless `ZKACCEL_REQUIRE` names `nvrtc` (CI does): then it fails. A program that
//! does not compile fails the test with its name, the architecture and NVRTC's log.
//!
//! Compiled images go through the backend's disk cache (`ZKACCEL_CACHE_DIR`, see
//! `zkaccel_kernels::host::BinaryCache`, directory `cuda`), which stores only successful
//! compilations keyed by the full program text, architecture, options and NVRTC version: a
//! cache hit proves the program compiles, so unchanged kernels are not recompiled. A cold
//! run compiles all programs for one architecture in about a minute on one core (NVRTC
//! 12.9; the largest, BLS12-381 G2 MSM, about 7 s). `ZKACCEL_CACHE=0` compiles everything.
//!
//! `cargo test -p zkaccel-cuda --test nvrtc_compile -- --nocapture` prints one line per
//! program and architecture.

use zkaccel_backend::conformance::{is_required, loud};
use zkaccel_backend::hash::HashId;
use zkaccel_backend::{CurveGroupId, FieldId};
use zkaccel_cuda::nvrtc::{compile, compile_cached, supported_archs, Arch, ImageKind, Origin};
use zkaccel_kernels::host::BinaryCache;
use zkaccel_kernels::{hash_program, msm_program, ntt_program, ProgramSource, Target};

/// Every CUDA program: MSM per (curve, group), NTT per field, one per hash instance.
fn programs() -> Vec<ProgramSource> {
    let mut out: Vec<ProgramSource> = CurveGroupId::ALL
        .iter()
        .map(|&id| {
            msm_program(Target::Cuda, id).unwrap_or_else(|| panic!("no MSM program for {id}"))
        })
        .collect();
    out.extend(FieldId::ALL.iter().filter(|f| f.is_ntt_field()).map(|&f| {
        ntt_program(Target::Cuda, f).unwrap_or_else(|| panic!("no NTT program for {f}"))
    }));
    out.extend(HashId::ALL.iter().map(|&id| {
        hash_program(Target::Cuda, id).unwrap_or_else(|| panic!("no hash program for {id}"))
    }));
    out
}

#[test]
fn every_program_compiles_for_sm80_and_sm90() {
    let nvrtc = match zkaccel_cuda::libs::nvrtc() {
        Ok(lib) => lib,
        Err(e) if is_required("nvrtc") => {
            panic!("ZKACCEL_REQUIRE names nvrtc but NVRTC is not available: {e}")
        }
        Err(e) => {
            loud(format_args!(
                "SKIPPED: NVRTC not available: {e} (set ZKACCEL_REQUIRE=nvrtc to fail instead)"
            ));
            return;
        }
    };
    loud(format_args!("using {nvrtc}"));
    let supported = supported_archs().expect("NVRTC's supported architectures");
    let cache = BinaryCache::from_env("cuda");
    match &cache {
        Some(c) => loud(format_args!("compile cache: {}", c.dir().display())),
        None => loud("compile cache disabled: compiling every program"),
    }
    let mut failures = Vec::new();
    let mut compiled = 0;
    for arch in [Arch::SM_80, Arch::SM_90] {
        assert!(
            supported.contains(&arch),
            "NVRTC {nvrtc} cannot compile for sm_{}",
            arch.number()
        );
        for p in programs() {
            let started = std::time::Instant::now();
            match compile_cached(&p, arch, ImageKind::Cubin, cache.as_ref()) {
                Ok((c, origin)) => {
                    compiled += 1;
                    println!(
                        "ok   sm_{} {:<40} {:>8} bytes  {:.1} s{}{}",
                        arch.number(),
                        p.name,
                        c.image.len(),
                        started.elapsed().as_secs_f64(),
                        if origin == Origin::Cache {
                            " (cached)"
                        } else {
                            ""
                        },
                        if c.log.is_empty() {
                            String::new()
                        } else {
                            format!("\n{}", c.log)
                        }
                    );
                }
                Err(e) => {
                    println!("FAIL sm_{} {}", arch.number(), p.name);
                    failures.push(format!("{} for sm_{}: {e}", p.name, arch.number()));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} compilations failed:\n\n{}",
        failures.len(),
        failures.len() + compiled,
        failures.join("\n\n")
    );
}

/// A deliberately broken program fails with its name and NVRTC's log.
#[test]
fn a_broken_program_reports_its_log() {
    if zkaccel_cuda::libs::nvrtc().is_err() {
        // The test above reports the skip (or the failure CI asks for).
        return;
    }
    let mut p = msm_program(Target::Cuda, CurveGroupId::ALL[0]).expect("program");
    p.name = "broken".into();
    p.text
        .push_str("\nKERNEL void broken(u32 x) { undefined_name(x); }\n");
    match compile(&p, Arch::SM_80, ImageKind::Ptx) {
        Err(zkaccel_backend::BackendError::Compile { kernel, log }) => {
            assert_eq!(kernel, "broken");
            assert!(log.contains("undefined_name"), "{log}");
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

/// A compiled image is stored and found again under the same key; a changed text misses.
#[test]
fn the_cache_returns_what_was_compiled() {
    if zkaccel_cuda::libs::nvrtc().is_err() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("zkaccel-nvrtc-cache-{}", std::process::id()));
    let cache = BinaryCache::at(dir.clone());
    let mut p = ProgramSource {
        name: "tiny".into(),
        target: Target::Cuda,
        text: format!(
            "{}\nKERNEL void tiny(GLOBAL u32* x) {{ x[GLOBAL_ID()] += 1u; }}\n",
            zkaccel_kernels::files::CUDA_PRELUDE
        ),
    };
    let first = compile_cached(&p, Arch::SM_90, ImageKind::Cubin, Some(&cache)).expect("compile");
    assert_eq!(first.1, Origin::Compiled);
    let again = compile_cached(&p, Arch::SM_90, ImageKind::Cubin, Some(&cache)).expect("cache");
    assert_eq!(again.1, Origin::Cache);
    assert_eq!(again.0.image, first.0.image);
    let ptx = compile_cached(&p, Arch::SM_90, ImageKind::Ptx, Some(&cache)).expect("ptx");
    assert_eq!(ptx.1, Origin::Compiled);
    assert_eq!(ptx.0.image.last(), Some(&0), "PTX is NUL-terminated");
    p.text.push_str("/* changed */\n");
    let changed = compile_cached(&p, Arch::SM_90, ImageKind::Cubin, Some(&cache)).expect("compile");
    assert_eq!(changed.1, Origin::Compiled);
    std::fs::remove_dir_all(dir).expect("cleanup");
}
