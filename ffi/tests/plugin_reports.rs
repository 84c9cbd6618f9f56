//! `zka_plugin_report_count` / `zka_plugin_report_get`: a C caller reads what happened to
//! every plugin in `ZKACCEL_PLUGIN_PATH` — the example plugin (built here from
//! `examples/plugin/example_plugin.c` with the system `cc`) loads and adds a device, a
//! missing file is reported with its status and message, and the runtime works either way.
//!
//! One test in its own process: it sets the environment before any runtime exists.

use std::ffi::CStr;
use std::path::PathBuf;
use std::process::Command;
use zkaccel::*;

fn build_example() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ffi-plugin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!(
        "{}zkaccel_example_plugin{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    let status = Command::new("cc")
        .args(["-std=c99", "-O2", "-fPIC", "-shared", "-I"])
        .arg(repo.join("ffi/include"))
        .arg(repo.join("examples/plugin/example_plugin.c"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("cc runs");
    assert!(status.success(), "building the example plugin failed");
    out
}

fn text(a: &[std::ffi::c_char]) -> String {
    // SAFETY: the library NUL-terminates every string it writes into these arrays.
    unsafe { CStr::from_ptr(a.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn blank() -> zka_plugin_report {
    zka_plugin_report {
        struct_size: std::mem::size_of::<zka_plugin_report>() as u32,
        status: u32::MAX,
        from_env: 0,
        devices: 0,
        path: [0; 512],
        message: [0; 512],
    }
}

#[test]
fn plugin_reports_through_the_c_abi() {
    let lib = build_example();
    let missing = lib.with_file_name("missing_plugin.so");
    let value = std::env::join_paths([lib.clone(), missing.clone()]).unwrap();
    // The only test of this process, before any runtime exists: nothing reads the
    // environment concurrently.
    std::env::set_var("ZKACCEL_PLUGIN_PATH", value);
    let mut rt: *mut zka_runtime = std::ptr::null_mut();
    // SAFETY: NULL options, a writable out pointer.
    let st = unsafe { zka_runtime_create(std::ptr::null(), &mut rt) };
    assert_eq!(st, ZKA_OK);
    let mut count = 0usize;
    // SAFETY: a live runtime and a writable count.
    assert_eq!(unsafe { zka_plugin_report_count(rt, &mut count) }, ZKA_OK);
    assert_eq!(count, 2);

    let mut r = blank();
    // SAFETY: a live runtime and a writable, sized report.
    assert_eq!(unsafe { zka_plugin_report_get(rt, 0, &mut r) }, ZKA_OK);
    assert_eq!(r.status, ZKA_PLUGIN_LOADED, "{}", text(&r.message));
    assert_eq!(r.from_env, 1);
    assert_eq!(r.devices, 1);
    assert_eq!(text(&r.path), lib.display().to_string());
    assert!(
        text(&r.message).contains("zkaccel-example"),
        "{}",
        text(&r.message)
    );

    let mut r = blank();
    // SAFETY: as above.
    assert_eq!(unsafe { zka_plugin_report_get(rt, 1, &mut r) }, ZKA_OK);
    assert_eq!(r.status, ZKA_PLUGIN_ERR_NOT_FOUND);
    assert_eq!(r.devices, 0);
    assert!(
        text(&r.message).contains("no such file"),
        "{}",
        text(&r.message)
    );

    // Out of range, struct too small, NULLs: statuses, never a crash.
    let mut r = blank();
    // SAFETY: as above.
    let st = unsafe { zka_plugin_report_get(rt, 2, &mut r) };
    assert_eq!(st, ZKA_ERR_INVALID_ARGUMENT);
    r.struct_size = 8;
    // SAFETY: as above.
    let st = unsafe { zka_plugin_report_get(rt, 0, &mut r) };
    assert_eq!(st, ZKA_ERR_STRUCT_SIZE);
    // SAFETY: NULL pointers are documented to give ZKA_ERR_NULL_POINTER.
    unsafe {
        assert_eq!(
            zka_plugin_report_get(rt, 0, std::ptr::null_mut()),
            ZKA_ERR_NULL_POINTER
        );
        assert_eq!(
            zka_plugin_report_count(std::ptr::null(), &mut count),
            ZKA_ERR_NULL_POINTER
        );
    }

    // The plugin's device is in the registry, as a plugin.
    let mut n = 0usize;
    // SAFETY: a live runtime.
    assert_eq!(unsafe { zka_device_count(rt, &mut n) }, ZKA_OK);
    let kinds: Vec<u32> = (0..n)
        .map(|i| {
            // SAFETY: a zeroed info with its size set is a valid argument.
            let mut info: zka_device_info = unsafe { std::mem::zeroed() };
            info.struct_size = std::mem::size_of::<zka_device_info>() as u32;
            // SAFETY: a live runtime and a writable info.
            assert_eq!(unsafe { zka_device_get_info(rt, i, &mut info) }, ZKA_OK);
            info.kind
        })
        .collect();
    assert!(kinds.contains(&ZKA_DEVICE_PLUGIN), "{kinds:?}");
    // SAFETY: the runtime from zka_runtime_create, destroyed once.
    assert_eq!(unsafe { zka_runtime_destroy(rt) }, ZKA_OK);
}
