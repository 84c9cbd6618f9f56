//! Paths shared by the test programs that build C against libzkaccel (`mod common;`).
// Each test program uses only some of these.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where cargo put libzkaccel.so / libzkaccel.a for this test build (target/<profile>/deps).
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent().expect("deps dir").to_path_buf()
}

/// A private scratch directory per test (tests run in parallel in one process).
pub fn out_dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zkaccel-ffi-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
