//! Installs the library into a temporary prefix with ffi/install.sh, then builds and runs
//! the C example with `pkg-config --cflags --libs zkaccel` and the Go example with cgo.
//! Under CI (`CI` set) a missing pkg-config or Go toolchain is a failure, not a skip.

mod common;
use common::repo;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The x coordinate of 12·(1, 2) on BN254 G1.
const TWELVE_G_X: &str =
    "msm: 12*G = (0x25d32c471c8cd1ab9ac9b4118d040166f75ad9e4f36526b09fc0b7d1002bc851";

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

fn require(tool: &str) -> bool {
    if have(tool) {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{tool} is required under CI (.ci/run installs it)"
    );
    eprintln!("SKIPPED: {tool} is not installed");
    false
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Installs into a fresh prefix from the library this test build produced.
fn install(name: &str) -> PathBuf {
    let prefix = std::env::temp_dir().join(format!("zkaccel-prefix-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&prefix);
    let from = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    sh(Command::new("bash")
        .arg(repo().join("ffi/install.sh"))
        .arg("--prefix")
        .arg(&prefix)
        .arg("--from")
        .arg(&from));
    prefix
}

fn pkg_config(prefix: &Path, args: &[&str]) -> Vec<String> {
    let out = sh(Command::new("pkg-config")
        .args(args)
        .arg("zkaccel")
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig")));
    out.split_whitespace().map(String::from).collect()
}

#[test]
fn c_example_links_with_pkg_config() {
    if !require("pkg-config") {
        return;
    }
    let prefix = install("c");
    for f in [
        "lib/libzkaccel.so",
        "lib/libzkaccel.so.1",
        "lib/libzkaccel.a",
        "include/zkaccel.h",
    ] {
        assert!(prefix.join(f).exists(), "{f} installed");
    }
    let exe = prefix.join("msm_ntt");
    let mut cc = Command::new("cc");
    cc.args(["-std=c99", "-Wall", "-Wextra", "-Werror"])
        .arg(repo().join("examples/c/msm_ntt.c"))
        .arg("-o")
        .arg(&exe)
        .args(pkg_config(&prefix, &["--cflags", "--libs"]))
        .arg(format!("-Wl,-rpath,{}", prefix.join("lib").display()));
    sh(&mut cc);
    let out = sh(&mut Command::new(&exe));
    assert!(
        out.contains("ntt: inverse restores the input: yes"),
        "{out}"
    );
    // 12·G on BN254, x computed independently (affine doubling/adding in Python).
    assert!(out.contains(TWELVE_G_X), "{out}");
    let _ = std::fs::remove_dir_all(&prefix);
}

#[test]
fn go_example_runs_through_cgo() {
    if !require("go") || !require("pkg-config") {
        return;
    }
    let prefix = install("go");
    let gocache = prefix.join("gocache");
    let out = sh(Command::new("go")
        .args(["run", "."])
        .current_dir(repo().join("examples/go"))
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
        .env("CGO_ENABLED", "1")
        .env(
            "CGO_LDFLAGS",
            format!("-Wl,-rpath,{}", prefix.join("lib").display()),
        )
        .env("GOCACHE", &gocache)
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local"));
    assert!(
        out.contains("ntt: inverse restores the input: true"),
        "{out}"
    );
    assert!(out.contains(TWELVE_G_X), "{out}");
    let _ = std::fs::remove_dir_all(&prefix);
}
