//! Loading plugins: every way a plugin can fail to load is reported as a typed
//! [`PluginLoadError`] (in `Runtime::plugin_reports`, with a message naming the file and the
//! cause), the runtime still builds, and the CPU still serves calls. A plugin that loads but
//! answers garbage (results off the curve, NTT output not reduced, results of the wrong
//! length or group) is caught by the adapter's validation and the call falls back to the
//! CPU. `cargo test -p zkaccel-tests --test plugin_loading`.
//!
//! The failing plugins are variants of `examples/plugin/example_plugin.c` built with
//! `-D ZKAP_EXAMPLE_VARIANT=<n>` (see `plugin_common`).

mod plugin_common;

use plugin_common::*;
use std::path::Path;
use zkaccel::curves::{Bn254Fr, Bn254G1};
use zkaccel::{
    Affine, DeviceKind, NttConfig, PluginLoadError, Policy, PrimeField, Projective, Runtime,
};

/// A runtime with the CPU and the plugin at `path` (OpenCL and CUDA left out, the
/// environment's plugin path ignored).
fn runtime_with(path: &Path, policy: Policy) -> Runtime {
    Runtime::builder()
        .policy(policy)
        .without_opencl()
        .without_cuda()
        .without_profile()
        .without_plugin_env()
        .plugin_path(path)
        .build()
        .expect("a failing plugin never fails the runtime")
}

/// `MSM([1, 2, 3, 4], [G, 2G, 3G, 4G])` on the runtime must be `30G`.
fn known_msm(rt: &Runtime) -> zkaccel::CallReport {
    let g = Projective::<Bn254G1>::generator();
    let bases: Vec<Affine<Bn254G1>> = (1..=4u64)
        .map(|k| g.mul(&Bn254Fr::from_u64(k)).to_affine())
        .collect();
    let scalars: Vec<Bn254Fr> = (1..=4u64).map(Bn254Fr::from_u64).collect();
    let (r, report) = rt
        .msm_view(
            zkaccel::PointsView::from_affine(&bases),
            zkaccel::ScalarsView::from_elements(&scalars),
            &Default::default(),
        )
        .expect("the MSM runs");
    assert_eq!(r, g.mul(&Bn254Fr::from_u64(30)), "30G");
    report
}

/// The runtime reports exactly one failed plugin, with no plugin device, and the CPU
/// answers an MSM afterwards. Returns the error.
fn fails_to_load(path: &Path) -> PluginLoadError {
    let rt = runtime_with(path, Policy::Auto);
    let reports = rt.plugin_reports();
    assert_eq!(reports.len(), 1, "one report per plugin file: {reports:?}");
    let r = &reports[0];
    assert_eq!(r.path, path);
    let err = r.outcome.clone().expect_err("the plugin must not load");
    assert_eq!(err.path(), path);
    let shown = r.to_string();
    assert!(shown.contains("FAILED"), "{shown}");
    assert!(shown.contains(&path.display().to_string()), "{shown}");
    assert!(
        rt.devices()
            .iter()
            .all(|d| d.info.kind != DeviceKind::Plugin),
        "no plugin device after a failed load"
    );
    let report = known_msm(&rt);
    assert_eq!(report.kind, DeviceKind::Cpu, "the CPU still serves");
    err
}

#[test]
fn missing_file() {
    let path = dir().join("no-such-plugin.so");
    let e = fails_to_load(&path);
    assert!(matches!(e, PluginLoadError::NotFound { .. }), "{e}");
    assert_eq!(e.code(), 1);
    assert!(e.to_string().contains("no such file"), "{e}");
}

#[test]
fn not_a_library() {
    let d = dir().join("not-a-library");
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join(zkaccel_plugin::compile::library_file_name("not_a_plugin"));
    std::fs::write(&path, "this is text, not ELF\n").unwrap();
    let e = fails_to_load(&path);
    assert!(matches!(e, PluginLoadError::NotALibrary { .. }), "{e}");
    assert_eq!(e.code(), 2);
    assert!(
        e.to_string().contains("not a loadable shared library"),
        "{e}"
    );
}

#[test]
fn missing_entry_symbol() {
    let e = fails_to_load(&plugin(NO_ENTRY));
    match &e {
        PluginLoadError::MissingEntry { symbol, .. } => assert_eq!(symbol, "zkaccel_plugin_entry"),
        other => panic!("expected MissingEntry, got {other}"),
    }
    assert_eq!(e.code(), 3);
    assert!(
        e.to_string()
            .contains("does not export `zkaccel_plugin_entry`"),
        "{e}"
    );
}

#[test]
fn null_table() {
    let e = fails_to_load(&plugin(NULL_TABLE));
    assert!(matches!(e, PluginLoadError::NullTable { .. }), "{e}");
    assert_eq!(e.code(), 4);
    assert!(e.to_string().contains("returned NULL"), "{e}");
}

#[test]
fn abi_too_new() {
    let e = fails_to_load(&plugin(ABI_TOO_NEW));
    assert!(
        matches!(
            e,
            PluginLoadError::AbiTooNew {
                plugin: 99,
                supported: 1,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.code(), 5);
    assert!(e.to_string().contains("plugin ABI 99, newer than"), "{e}");
}

#[test]
fn abi_too_old() {
    let e = fails_to_load(&plugin(ABI_TOO_OLD));
    assert!(
        matches!(
            e,
            PluginLoadError::AbiTooOld {
                plugin: 0,
                min: 1,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.code(), 6);
    assert!(e.to_string().contains("older than the oldest"), "{e}");
}

#[test]
fn table_too_small() {
    let e = fails_to_load(&plugin(TABLE_TOO_SMALL));
    match e {
        PluginLoadError::TableTooSmall { size, min, abi, .. } => {
            assert_eq!(size, 24);
            assert_eq!(min, zkaccel_plugin::abi::ZKAP_PLUGIN_SIZE_V1);
            assert_eq!(abi, 1);
        }
        ref other => panic!("expected TableTooSmall, got {other}"),
    }
    assert_eq!(e.code(), 7);
}

#[test]
fn init_failure_carries_the_plugins_message() {
    let e = fails_to_load(&plugin(INIT_FAILS));
    match &e {
        PluginLoadError::Init { code, message, .. } => {
            assert_eq!(*code, zkaccel_plugin::abi::ZKAP_ERR_DEVICE_LOST);
            assert!(message.contains("the card did not answer"), "{message}");
        }
        other => panic!("expected Init, got {other}"),
    }
    assert_eq!(e.code(), 9);
}

#[test]
fn every_failure_in_one_runtime_and_the_example_still_loads() {
    // A directory of broken plugins next to a good one: each is reported, the good one
    // works, nothing stops the process.
    let d = dir().join("mixed");
    std::fs::create_dir_all(&d).unwrap();
    let variants = [
        EXAMPLE,
        ABI_TOO_NEW,
        ABI_TOO_OLD,
        TABLE_TOO_SMALL,
        NULL_TABLE,
        INIT_FAILS,
        NO_ENTRY,
    ];
    for v in variants {
        let src = plugin(v);
        std::fs::copy(&src, d.join(src.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        d.join(zkaccel_plugin::compile::library_file_name("garbage")),
        [0u8; 64],
    )
    .unwrap();
    let rt = Runtime::builder()
        .policy(Policy::Only(DeviceKind::Plugin))
        .without_plugin_env()
        .plugin_path(&d)
        .plugin_path(d.join("missing.so"))
        .build()
        .unwrap();
    let reports = rt.plugin_reports();
    assert_eq!(reports.len(), variants.len() + 2, "{reports:#?}");
    let loaded: Vec<_> = reports.iter().filter(|r| r.is_loaded()).collect();
    assert_eq!(loaded.len(), 1, "only the real example loads: {reports:#?}");
    let mut codes: Vec<u32> = reports
        .iter()
        .filter_map(|r| r.outcome.as_ref().err().map(|e| e.code()))
        .collect();
    codes.sort();
    assert_eq!(codes, vec![1, 2, 3, 4, 5, 6, 7, 9]);
    let report = known_msm(&rt);
    assert_eq!(report.kind, DeviceKind::Plugin, "the good plugin serves");
}

// ---------------------------------------------------------------------------------------------
// Misbehaving plugins
// ---------------------------------------------------------------------------------------------

/// The plugin's device alone (its `Backend` adapter).
fn adapter(variant: u32) -> zkaccel_plugin::PluginBackend {
    let (_, devs) = zkaccel_plugin::load(&plugin(variant)).expect("the variant loads");
    devs.into_iter().next().expect("one device")
}

fn known_inputs() -> (Vec<Affine<Bn254G1>>, Vec<Bn254Fr>) {
    let g = Projective::<Bn254G1>::generator();
    (
        (1..=4u64)
            .map(|k| g.mul(&Bn254Fr::from_u64(k)).to_affine())
            .collect(),
        (1..=4u64).map(Bn254Fr::from_u64).collect(),
    )
}

#[test]
fn garbage_msm_result_is_rejected_by_validation() {
    use zkaccel::Backend;
    let b = adapter(GARBAGE);
    let (bases, scalars) = known_inputs();
    let e = b
        .msm(
            &zkaccel::PointsView::from_affine(&bases).raw(),
            &zkaccel::ScalarsView::from_elements(&scalars).raw(),
        )
        .expect_err("a point off the curve is not a result");
    assert!(e.to_string().contains("not on the bn254-g1 curve"), "{e}");
    // Bases handles go through the same validation.
    let p = b
        .prepare_bases(&zkaccel::PointsView::from_affine(&bases).raw())
        .expect("bases are taken in");
    let e = p
        .msm(&zkaccel::ScalarsView::from_elements(&scalars).raw())
        .expect_err("garbage through a handle too");
    assert!(e.to_string().contains("invalid result"), "{e}");
}

#[test]
fn wrong_lengths_are_rejected_by_validation() {
    use zkaccel::Backend;
    let b = adapter(WRONG_LENGTHS);
    let (bases, scalars) = known_inputs();
    let e = b
        .msm(
            &zkaccel::PointsView::from_affine(&bases).raw(),
            &zkaccel::ScalarsView::from_elements(&scalars).raw(),
        )
        .expect_err("a result of the wrong group is not a result");
    assert!(e.to_string().contains("invalid result"), "{e}");
    assert!(e.to_string().contains("group 2"), "{e}");
}

#[test]
fn misbehaving_plugin_falls_back_to_the_cpu() {
    for variant in [GARBAGE, WRONG_LENGTHS] {
        let rt = runtime_with(&plugin(variant), Policy::Prefer(DeviceKind::Plugin));
        assert!(rt.plugin_reports()[0].is_loaded());
        let report = known_msm(&rt);
        assert_eq!(report.kind, DeviceKind::Cpu, "variant {variant}");
        assert_eq!(report.fallbacks, 1, "variant {variant}");
        let stats = rt.stats();
        let plugin_dev = stats
            .devices
            .iter()
            .find(|d| d.kind == DeviceKind::Plugin)
            .expect("the plugin device is registered");
        assert_eq!(plugin_dev.errors, 1, "variant {variant}");
        assert!(stats.fallbacks >= 1);
    }
}

#[test]
fn garbage_ntt_output_falls_back_and_leaves_the_input_intact() {
    let rt = runtime_with(&plugin(GARBAGE), Policy::Prefer(DeviceKind::Plugin));
    let cpu = Runtime::builder()
        .policy(Policy::Only(DeviceKind::Cpu))
        .without_plugin_env()
        .without_profile()
        .build()
        .unwrap();
    let x: Vec<Bn254Fr> = (0..256u64).map(|i| Bn254Fr::from_u64(i * i + 7)).collect();
    let cfg = NttConfig::default();
    let mut want = x.clone();
    cpu.ntt(&mut want, &cfg).unwrap();
    let mut got = x.clone();
    let report = rt.ntt(&mut got, &cfg).expect("the CPU takes over");
    assert_eq!(report.kind, DeviceKind::Cpu);
    assert_eq!(report.fallbacks, 1);
    assert_eq!(
        got, want,
        "the fallback saw the caller's input, not the plugin's garbage"
    );
    // Only the plugin: the call fails with the validation message, and nothing else breaks.
    let only = runtime_with(&plugin(GARBAGE), Policy::Only(DeviceKind::Plugin));
    let mut data = x.clone();
    let e = only.ntt(&mut data, &cfg).expect_err("no device left");
    assert!(e.to_string().contains("not below the modulus"), "{e}");
    assert_eq!(data, x, "a failed call leaves the data as it was");
}

#[test]
fn plugin_path_env_is_read() {
    // Run `env_child` in a child process with ZKACCEL_PLUGIN_PATH set (setting the
    // environment of this multi-threaded process would race with the other tests).
    let dir = plugin(EXAMPLE).parent().unwrap().to_path_buf();
    let missing = dir.join("does-not-exist.so");
    let value = std::env::join_paths([dir.clone(), missing]).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "env_child", "--ignored", "--nocapture"])
        .env(zkaccel::PLUGIN_PATH_ENV, value)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
}

#[test]
#[ignore = "run by plugin_path_env_is_read in a child process"]
fn env_child() {
    let rt = Runtime::builder()
        .without_opencl()
        .without_cuda()
        .build()
        .unwrap();
    let reports = rt.plugin_reports();
    assert_eq!(reports.len(), 2, "{reports:#?}");
    assert!(reports[0].is_loaded(), "{}", reports[0]);
    assert_eq!(reports[0].source, zkaccel::PluginSource::Env);
    assert!(matches!(
        reports[1].outcome,
        Err(PluginLoadError::NotFound { .. })
    ));
    assert!(rt
        .devices()
        .iter()
        .any(|d| d.info.kind == DeviceKind::Plugin));
}
