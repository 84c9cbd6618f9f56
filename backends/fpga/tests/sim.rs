//! The simulated engine through the real driver: MSMs against the CPU backend and
//! arkworks, the register protocol, the counters, and manifest/RTL refusal.
//!
//! Without Verilator every test prints `SKIPPED` and passes, unless `ZKACCEL_REQUIRE`
//! names `fpga-sim` (then absence fails).

use ark_ec::{CurveGroup as _, VariableBaseMSM};
use ark_ff::PrimeField as _;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use zkaccel_backend::conformance::is_required;
use zkaccel_backend::curves::{Bn254Fr, Bn254G1};
use zkaccel_backend::{Affine, Backend, Field, PointsView, PrimeField, Projective, ScalarsView};
use zkaccel_fpga::Transport as _;
use zkaccel_fpga::{open_sim, regs, FpgaError, FpgaOptions, Manifest};

fn sim(options: FpgaOptions) -> Option<zkaccel_fpga::FpgaBackend> {
    match open_sim(&options) {
        Ok(b) => Some(b),
        Err(FpgaError::Unavailable(why)) if !is_required("fpga-sim") => {
            eprintln!("SKIPPED: fpga-sim not available: {why}");
            None
        }
        Err(e) => panic!("fpga-sim did not open: {e}"),
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn random_input(n: usize, seed: u64) -> (Vec<Affine<Bn254G1>>, Vec<Bn254Fr>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let g = Projective::<Bn254G1>::generator();
    let mut acc = g.mul(&Bn254Fr::random_with(&mut || rng.gen()));
    let step = g.mul(&Bn254Fr::random_with(&mut || rng.gen()));
    let mut pts = Vec::with_capacity(n);
    for _ in 0..n {
        pts.push(acc);
        acc = acc.add(&step);
    }
    let scalars = (0..n)
        .map(|_| Bn254Fr::random_with(&mut || rng.gen()))
        .collect();
    (Projective::batch_to_affine(&pts), scalars)
}

fn cpu_msm(points: &[Affine<Bn254G1>], scalars: &[Bn254Fr]) -> Projective<Bn254G1> {
    let cpu = zkaccel_cpu::CpuBackend::new();
    let r = cpu
        .msm(
            &PointsView::from_affine(points).raw(),
            &ScalarsView::from_elements(scalars).raw(),
        )
        .unwrap();
    r.to_projective::<Bn254G1>().unwrap()
}

#[test]
fn msm_matches_cpu_and_arkworks() {
    let Some(b) = sim(FpgaOptions::default()) else {
        return;
    };
    assert!(b.info().simulated && b.info().name.contains("simulated"));
    for (n, seed) in [(1usize, 1u64), (5, 2), (64, 3), (300, 4)] {
        let (pts, sc) = random_input(n, seed);
        let (got, stats) = b.msm_bn254(&pts, &sc).unwrap();
        assert_eq!(
            got,
            cpu_msm(&pts, &sc),
            "n = {n}: FPGA sim differs from the CPU backend"
        );
        // arkworks, independently.
        let ark_pts: Vec<ark_bn254::G1Affine> = pts
            .iter()
            .map(|p| {
                let (x, y) = (p.x.to_canonical(), p.y.to_canonical());
                ark_bn254::G1Affine::new(
                    ark_bn254::Fq::from_bigint(ark_ff::BigInt(x)).unwrap(),
                    ark_bn254::Fq::from_bigint(ark_ff::BigInt(y)).unwrap(),
                )
            })
            .collect();
        let ark_sc: Vec<ark_bn254::Fr> = sc
            .iter()
            .map(|s| ark_bn254::Fr::from_bigint(ark_ff::BigInt(s.to_canonical())).unwrap())
            .collect();
        let want = ark_bn254::G1Projective::msm(&ark_pts, &ark_sc)
            .unwrap()
            .into_affine();
        let g = got.to_affine();
        assert_eq!(
            g.x.to_canonical(),
            want.x.into_bigint().0,
            "n = {n} (arkworks x)"
        );
        assert_eq!(
            g.y.to_canonical(),
            want.y.into_bigint().0,
            "n = {n} (arkworks y)"
        );
        // Counters: every non-zero digit is one addition; cycles cover additions and stalls.
        assert!(stats.simulated && stats.passes == stats.windows as u64 * stats.chunks as u64);
        assert!(stats.busy_cycles > 0 && stats.busy_cycles <= n as u64 * stats.windows as u64);
        assert!(stats.cycles >= stats.busy_cycles + stats.stall_cycles);
        let digits: u64 = sc
            .iter()
            .map(|s| {
                zkaccel_fpga::msm::signed_digits(&s.to_canonical(), stats.window_bits)
                    .iter()
                    .filter(|&&d| d != 0)
                    .count() as u64
            })
            .sum();
        assert_eq!(
            stats.busy_cycles, digits,
            "n = {n}: additions != non-zero digits"
        );
        assert_eq!(b.last_msm_stats(), Some(stats));
        eprintln!("fpga-sim n = {n}: {}", stats.summary(250e6));
    }
}

#[test]
fn edge_cases_and_every_window_width() {
    let Some(b0) = sim(FpgaOptions::default()) else {
        return;
    };
    drop(b0);
    let (mut pts, mut sc) = random_input(40, 9);
    // Equal points in the same bucket (doubling in the adder), opposite points (infinity),
    // infinity bases, zero and r-1 scalars.
    pts[1] = pts[0];
    sc[1] = sc[0];
    pts[3] = pts[2].neg();
    sc[3] = sc[2];
    pts[5] = Affine::IDENTITY;
    sc[6] = Bn254Fr::ZERO;
    sc[7] = -Bn254Fr::ONE;
    for i in 10..20 {
        pts[i] = pts[10];
        sc[i] = sc[10];
    }
    let want = cpu_msm(&pts, &sc);
    for c in [1u32, 2, 3, 5, 8] {
        let b = sim(FpgaOptions {
            window_bits: Some(c),
            ..Default::default()
        })
        .unwrap();
        let (got, stats) = b.msm_bn254(&pts, &sc).unwrap();
        assert_eq!(got, want, "c = {c}");
        assert_eq!(stats.window_bits, c);
        // Ten identical points with identical scalars hit the same bucket in every window:
        // the scoreboard must have stalled.
        assert!(
            stats.stall_cycles > 0,
            "c = {c}: no stalls on repeated buckets"
        );
    }
}

#[test]
fn chunks_longer_than_card_memory() {
    let Some(b) = sim(FpgaOptions::default()) else {
        return;
    };
    let max = b.identity().max_points as usize;
    let (pts, sc) = random_input(max + 37, 11);
    let (got, stats) = b.msm_bn254(&pts, &sc).unwrap();
    assert_eq!(stats.chunks, 2);
    assert_eq!(got, cpu_msm(&pts, &sc));
}

#[test]
fn registers_and_identity() {
    let Some(t) = (match zkaccel_fpga::sim::SimTransport::open() {
        Ok(t) => Some(t),
        Err(e) if !is_required("fpga-sim") => {
            eprintln!("SKIPPED: fpga-sim not available: {e}");
            None
        }
        Err(e) => panic!("{e}"),
    }) else {
        return;
    };
    let mut t = t;
    let m = Manifest::sim_default().unwrap();
    assert_eq!(t.read_reg(regs::IMAGE_ID).unwrap(), m.image.image_id);
    assert_eq!(t.read_reg(regs::VERSION).unwrap(), 0x0001_0000);
    let caps = regs::Caps::decode(t.read_reg(regs::CAPS).unwrap());
    assert_eq!((caps.curve, caps.group), (1, 1));
    assert_eq!(caps.pipeline_depth as u32, m.parameters.pipeline_depth);
    // Idle after reset, and an empty run (0 points) completes with ap_done and an interrupt.
    assert_eq!(
        t.read_reg(regs::CTRL).unwrap() & regs::AP_IDLE,
        regs::AP_IDLE
    );
    t.write_reg(regs::GIE, 1).unwrap();
    t.write_reg(regs::IER, 1).unwrap();
    t.write_reg(regs::ARG_NUM_POINTS, 0).unwrap();
    t.write_reg(regs::ARG_WINDOW_BITS, 4).unwrap();
    t.write_reg(regs::ARG_WINDOW_IDX, 0).unwrap();
    t.write_reg(regs::CTRL, regs::AP_START).unwrap();
    t.wait_done(10, std::time::Duration::from_secs(1)).unwrap();
    assert_eq!(t.read_reg(regs::ISR).unwrap() & 1, 1, "ISR ap_done");
    t.write_reg(regs::ISR, 1).unwrap();
    assert_eq!(
        t.read_reg(regs::ISR).unwrap() & 1,
        0,
        "ISR toggles on write"
    );
    // ap_done is clear-on-read: wait_done read it once, so it is gone now.
    let ctrl = t.read_reg(regs::CTRL).unwrap();
    assert_eq!(ctrl & (regs::AP_DONE | regs::AP_START), 0, "CTRL {ctrl:#x}");
    assert!(t.read_reg(regs::CYCLES_LO).unwrap() > 0);
    assert_eq!(t.read_reg(regs::BUSY_LO).unwrap(), 0);
    // Bad DMA sizes are refused by the transport, not passed to the model.
    assert!(matches!(
        t.dma_write(0, &[0u8; 31]),
        Err(FpgaError::Protocol(_))
    ));
}

#[test]
fn tampered_manifest_is_refused() {
    let Some(_) = sim(FpgaOptions::default()) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("zkaccel-fpga-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = zkaccel_fpga::manifest::SIM_MANIFEST_TOML;
    let cases = [
        ("image_id = 0x7A6B0001", "image_id = 0x7A6B0002", "image_id"),
        (
            "pipeline_depth = 23",
            "pipeline_depth = 22",
            "pipeline_depth",
        ),
        (
            "register_map_version = \"1.0\"",
            "register_map_version = \"1.1\"",
            "register_map_version",
        ),
        ("max_points = 1024", "max_points = 2048", "max_points"),
    ];
    for (from, to, field) in cases {
        assert!(good.contains(from), "manifest lacks `{from}`");
        let p = dir.join(format!("{field}.toml"));
        std::fs::write(&p, good.replace(from, to)).unwrap();
        match open_sim(&FpgaOptions {
            manifest: Some(p.clone()),
            ..Default::default()
        }) {
            Err(FpgaError::ManifestMismatch { field: f, .. }) => assert_eq!(f, field),
            other => panic!("tampered {field}: expected ManifestMismatch, got {other:?}"),
        }
    }
    // A digest changed in the manifest: the simulator was built from other RTL.
    let m = Manifest::sim_default().unwrap();
    let d = &m.rtl.files[2].sha256;
    let flipped = format!("{}{}", if d.starts_with('0') { "1" } else { "0" }, &d[1..]);
    let p = dir.join("digest.toml");
    std::fs::write(&p, good.replace(d.as_str(), &flipped)).unwrap();
    match open_sim(&FpgaOptions {
        manifest: Some(p),
        ..Default::default()
    }) {
        Err(e @ FpgaError::ChecksumMismatch { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("mont_mul.sv") && msg.contains("refused"),
                "{msg}"
            );
        }
        other => panic!("tampered digest: expected ChecksumMismatch, got {other:?}"),
    }
    // Garbage is a parse error, not a panic.
    let p = dir.join("garbage.toml");
    std::fs::write(&p, "schema = [").unwrap();
    assert!(matches!(
        open_sim(&FpgaOptions {
            manifest: Some(p),
            ..Default::default()
        }),
        Err(FpgaError::ManifestInvalid { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn manifest_matches_rtl_on_disk_and_tampered_rtl_is_refused() {
    // No simulator needed: this is the check a hardware team runs on a checkout.
    let root = repo_root();
    let m = Manifest::sim_default().unwrap();
    m.check_rtl_files(&root).expect(
        "the manifest's RTL digests must match kernels/rtl (run `make -C kernels/rtl manifest`)",
    );
    m.check_rtl_digests(&zkaccel_fpga::manifest::built_rtl_digests())
        .expect("the crate was built from the RTL the manifest records");
    // A copy of the RTL with one byte changed is refused.
    let tmp = std::env::temp_dir().join(format!("zkaccel-fpga-rtl-{}", std::process::id()));
    for f in &m.rtl.files {
        let dst = tmp.join(&f.path);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(root.join(&f.path), &dst).unwrap();
    }
    m.check_rtl_files(&tmp).unwrap();
    let victim = tmp.join("kernels/rtl/xyzz_madd.sv");
    let mut src = std::fs::read(&victim).unwrap();
    let i = src.len() / 2;
    src[i] ^= 0x01;
    std::fs::write(&victim, src).unwrap();
    match m.check_rtl_files(&tmp) {
        Err(FpgaError::ChecksumMismatch { file, .. }) => assert!(file.ends_with("xyzz_madd.sv")),
        other => panic!("expected ChecksumMismatch, got {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn rtl_testbench_vectors_agree_with_the_host_arithmetic() {
    // The known answers the RTL testbenches use (kernels/rtl/tb/*.hex, from plain Python
    // integers) checked once more with the host's field and curve code.
    use zkaccel_backend::curves::Bn254Fq;
    use zkaccel_backend::Xyzz;
    let tb = repo_root().join("kernels/rtl/tb");
    let words = |name: &str| -> Vec<[u64; 4]> {
        std::fs::read_to_string(tb.join(name))
            .unwrap()
            .lines()
            .map(|l| {
                let mut w = [0u64; 4];
                for (k, limb) in w.iter_mut().enumerate() {
                    let hi = 64 - 16 * k;
                    *limb = u64::from_str_radix(&l[hi - 16..hi], 16).unwrap();
                }
                w
            })
            .collect()
    };
    let fe = |w: &[u64; 4]| Bn254Fq::from_montgomery(w).expect("vector below p");
    let mm = words("mont_mul.hex");
    assert_eq!(mm.len() % 3, 0);
    for v in mm.chunks(3) {
        assert_eq!(fe(&v[0]) * fe(&v[1]), fe(&v[2]), "mont_mul vector");
    }
    let ad = words("xyzz_madd.hex");
    assert_eq!(ad.len() % 12, 0);
    for v in ad.chunks(12) {
        let mut bucket = if v[0][0] == 1 {
            Xyzz::<Bn254G1>::IDENTITY
        } else {
            Xyzz {
                x: fe(&v[1]),
                y: fe(&v[2]),
                zz: fe(&v[3]),
                zzz: fe(&v[4]),
            }
        };
        bucket.add_affine_assign(&Affine::new(fe(&v[5]), fe(&v[6])));
        let want = if v[7][0] == 1 {
            Xyzz::<Bn254G1>::IDENTITY
        } else {
            Xyzz {
                x: fe(&v[8]),
                y: fe(&v[9]),
                zz: fe(&v[10]),
                zzz: fe(&v[11]),
            }
        };
        assert_eq!(
            bucket.to_projective(),
            want.to_projective(),
            "xyzz_madd vector"
        );
    }
}
