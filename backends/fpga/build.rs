//! Builds the Verilator model of `kernels/rtl/` (the MSM engine) and the C shim of
//! `csrc/sim_shim.cpp` into a static library when `verilator` is on `PATH` (or named by
//! `VERILATOR`), and sets `cfg(zkaccel_fpga_sim)`. Without Verilator (or with
//! `ZKACCEL_FPGA_NO_SIM=1`) the crate builds without the simulator and the `sim` transport
//! reports itself unavailable, with the reason in `ZKACCEL_FPGA_SIM_UNAVAILABLE`.
//!
//! The SHA-256 of every RTL source compiled into the model is embedded
//! (`ZKACCEL_FPGA_RTL_DIGESTS`), so the driver can check the image's manifest against the
//! RTL it actually runs.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The RTL sources, in compilation order (the same list as kernels/rtl/Makefile).
const RTL_SOURCES: &[&str] = &[
    "zk_bn254_pkg.sv",
    "delay_line.sv",
    "mont_mul.sv",
    "xyzz_madd.sv",
    "zkaccel_msm_bn254.sv",
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(zkaccel_fpga_sim)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=csrc/sim_shim.cpp");
    println!("cargo::rerun-if-env-changed=VERILATOR");
    println!("cargo::rerun-if-env-changed=ZKACCEL_FPGA_NO_SIM");
    println!("cargo::rerun-if-env-changed=PATH");

    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let rtl_dir = manifest_dir.join("../../kernels/rtl");
    let rtl_dir = rtl_dir.canonicalize().unwrap_or(rtl_dir);

    // Digests of the sources, as "kernels/rtl/<name>=<sha256>;..." (hex, lower case).
    let mut digests = Vec::new();
    for s in RTL_SOURCES {
        let p = rtl_dir.join(s);
        println!("cargo::rerun-if-changed={}", p.display());
        match std::fs::read(&p) {
            Ok(bytes) => {
                let d = Sha256::digest(&bytes);
                let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
                digests.push(format!("kernels/rtl/{s}={hex}"));
            }
            Err(e) => {
                unavailable(&format!("RTL source {} unreadable: {e}", p.display()));
                println!("cargo::rustc-env=ZKACCEL_FPGA_RTL_DIGESTS=");
                return;
            }
        }
    }
    println!(
        "cargo::rustc-env=ZKACCEL_FPGA_RTL_DIGESTS={}",
        digests.join(";")
    );

    if std::env::var_os("CARGO_FEATURE_SIM").is_none() {
        unavailable("built without the `sim` feature of zkaccel-fpga");
        return;
    }
    if std::env::var("ZKACCEL_FPGA_NO_SIM").is_ok_and(|v| !v.is_empty() && v != "0") {
        unavailable("simulator disabled at build time (ZKACCEL_FPGA_NO_SIM)");
        return;
    }
    let verilator = std::env::var("VERILATOR").unwrap_or_else(|_| "verilator".into());
    let version = match Command::new(&verilator).arg("--version").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => {
            unavailable("verilator not installed (install it, e.g. `apt-get install verilator`, and rebuild)");
            return;
        }
    };
    match build_model(&verilator, &rtl_dir, &manifest_dir) {
        Ok(()) => {
            println!("cargo::rustc-cfg=zkaccel_fpga_sim");
            println!("cargo::rustc-env=ZKACCEL_FPGA_SIM_UNAVAILABLE=");
            println!("cargo::rustc-env=ZKACCEL_FPGA_VERILATOR_VERSION={version}");
        }
        Err(log) => {
            println!("cargo::warning=zkaccel-fpga: the Verilator model did not build; the sim transport is unavailable");
            let tail: String = log
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join(" | ");
            unavailable(&format!("the Verilator model failed to build: {tail}"));
        }
    }
}

fn unavailable(reason: &str) {
    let reason = reason.replace('\n', " ");
    println!("cargo::rustc-env=ZKACCEL_FPGA_SIM_UNAVAILABLE={reason}");
    println!("cargo::rustc-env=ZKACCEL_FPGA_VERILATOR_VERSION=");
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn build_model(verilator: &str, rtl_dir: &Path, manifest_dir: &Path) -> Result<(), String> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mdir = out_dir.join("vmodel");
    let _ = std::fs::remove_dir_all(&mdir);
    std::fs::create_dir_all(&mdir).map_err(|e| e.to_string())?;
    let shim = manifest_dir.join("csrc/sim_shim.cpp");
    let jobs = std::env::var("NUM_JOBS").unwrap_or_else(|_| "2".into());

    // Verilate (C++ only; we drive the generated Makefile ourselves to get the objects).
    let mut v = Command::new(verilator);
    v.args(["--cc", "-O2", "--x-assign", "fast", "--x-initial", "fast"])
        .args([
            "--prefix",
            "Vzk_engine",
            "--top-module",
            "zkaccel_msm_bn254",
        ])
        .arg("--Mdir")
        .arg(&mdir);
    for s in RTL_SOURCES {
        v.arg(rtl_dir.join(s));
    }
    v.arg(&shim);
    run(&mut v)?;

    let objs = [
        "Vzk_engine__ALL.a",
        "sim_shim.o",
        "verilated.o",
        "verilated_threads.o",
    ];
    let mut mk = Command::new("make");
    mk.arg("-C")
        .arg(&mdir)
        .args(["-f", "Vzk_engine.mk", "-j", &jobs])
        .args(["OPT_FAST=-O2", "OPT_SLOW=-O1", "OPT_GLOBAL=-O2"])
        // Position-independent: the model ends up in libzkaccel.so (zkaccel-ffi's cdylib)
        // as well as in executables; without it the shared library does not link.
        .arg("OPT=-fPIC")
        .args(objs);
    run(&mut mk)?;

    // One archive with everything: the model's objects plus the shim and the runtime.
    let lib = out_dir.join("libzkaccel_fpga_sim.a");
    let _ = std::fs::remove_file(&lib);
    let scratch = mdir.join("objs");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    run(Command::new("ar")
        .current_dir(&scratch)
        .arg("x")
        .arg(mdir.join("Vzk_engine__ALL.a")))?;
    let mut ar = Command::new("ar");
    ar.arg("rcs").arg(&lib);
    for entry in std::fs::read_dir(&scratch).map_err(|e| e.to_string())? {
        ar.arg(entry.map_err(|e| e.to_string())?.path());
    }
    for o in &objs[1..] {
        ar.arg(mdir.join(o));
    }
    run(&mut ar)?;

    println!("cargo::rustc-link-search=native={}", out_dir.display());
    println!("cargo::rustc-link-lib=static=zkaccel_fpga_sim");
    println!("cargo::rustc-link-lib=dylib=stdc++");
    println!("cargo::rustc-link-lib=dylib=pthread");
    Ok(())
}
