//! Builds the C test programs in tests/c/ against the real libzkaccel (shared and static),
//! runs them, and checks their answers against the Rust API on random inputs. With
//! `ZKACCEL_VALGRIND=1` (CI) the shared-library build also runs under valgrind, which must
//! report no invalid accesses and no definite or indirect leaks.

mod common;
use common::{lib_dir, out_dir, repo};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use zk::curves::{Bn254Fr, Bn254G1};
use zk::{Affine, Goldilocks, PrimeField, Projective, Runtime};

fn rng() -> impl FnMut() -> u64 {
    let mut s = 0x1234_5678_9abc_def1u64;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

/// Random inputs and the Rust API's answers, in the word format test_api.c reads.
fn agreement_file(dir: &Path) -> PathBuf {
    let mut next = rng();
    let n = 100usize;
    let log_n = 6u32;
    let m = 1usize << log_n;
    let rt = Runtime::new().unwrap();
    let g = Projective::<Bn254G1>::generator();
    let pts: Vec<Affine<Bn254G1>> = (0..n)
        .map(|_| g.mul(&Bn254Fr::random_with(&mut next)).to_affine())
        .collect();
    let sc: Vec<Bn254Fr> = (0..n).map(|_| Bn254Fr::random_with(&mut next)).collect();
    let r = rt.msm(&pts, &sc).unwrap().to_affine();
    let gl: Vec<Goldilocks> = (0..m).map(|_| Goldilocks::random_with(&mut next)).collect();
    let mut gl_out = gl.clone();
    rt.ntt_domain::<Goldilocks>(log_n)
        .unwrap()
        .forward(&mut gl_out)
        .unwrap();
    let fr: Vec<Bn254Fr> = (0..m).map(|_| Bn254Fr::random_with(&mut next)).collect();
    let mut fr_out = fr.clone();
    rt.ntt_domain::<Bn254Fr>(log_n)
        .unwrap()
        .forward(&mut fr_out)
        .unwrap();

    let mut w: Vec<u64> = vec![n as u64, log_n as u64];
    w.extend_from_slice(bytemuck::cast_slice(&pts)); // Montgomery, our layout
    w.extend_from_slice(bytemuck::cast_slice(&sc)); // Montgomery
    w.extend(r.x.to_canonical());
    w.extend(r.y.to_canonical());
    w.extend(gl.iter().map(|x| x.value()));
    w.extend(gl_out.iter().map(|x| x.value()));
    for v in [&fr, &fr_out] {
        for x in v.iter() {
            w.extend(x.to_canonical());
        }
    }
    let path = dir.join("agreement.bin");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(bytemuck::cast_slice(&w)).unwrap();
    path
}

fn cc(args: &[&str]) {
    let out = Command::new("cc").args(args).output().expect("cc runs");
    assert!(
        out.status.success(),
        "cc {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn build(dir: &Path, src: &str, name: &str, static_link: bool) -> PathBuf {
    let exe = dir.join(name);
    let lib = lib_dir();
    let include = repo().join("ffi/include");
    let src = repo().join(src);
    let mut args: Vec<String> = vec![
        "-std=c99".into(),
        "-Wall".into(),
        "-Wextra".into(),
        "-Werror".into(),
        "-pthread".into(),
        format!("-I{}", include.display()),
        src.display().to_string(),
        "-o".into(),
        exe.display().to_string(),
    ];
    if static_link {
        args.push(lib.join("libzkaccel.a").display().to_string());
        args.extend(["-lpthread", "-ldl", "-lm"].map(String::from));
        if zkaccel_fpga::SIM_LINKED {
            args.push("-lstdc++".into());
        }
    } else {
        // Lay the library out as an install would: the real file under its SONAME and the
        // development link beside it.
        let libdir = dir.join("lib");
        std::fs::create_dir_all(&libdir).unwrap();
        let soname = format!("libzkaccel.so.{}", zkaccel::ZKA_ABI_VERSION);
        for link in [soname.as_str(), "libzkaccel.so"] {
            let _ = std::fs::remove_file(libdir.join(link));
            std::os::unix::fs::symlink(lib.join("libzkaccel.so"), libdir.join(link)).unwrap();
        }
        args.push(format!("-L{}", libdir.display()));
        args.push("-lzkaccel".into());
        args.push(format!("-Wl,-rpath,{}", libdir.display()));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    cc(&refs);
    exe
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("test program runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        !stderr.contains("panicked"),
        "a Rust panic message crossed the boundary:\n{stderr}"
    );
    stdout + &stderr
}

#[test]
fn c_tests_shared_and_static() {
    let dir = out_dir("api");
    let data = agreement_file(&dir);
    for static_link in [false, true] {
        let exe = build(
            &dir,
            "tests/c/test_api.c",
            if static_link {
                "test_api_static"
            } else {
                "test_api"
            },
            static_link,
        );
        let out = run(Command::new(&exe).arg(&data));
        assert!(out.contains(" passed, 0 failed"), "{out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn c_tests_under_valgrind() {
    if std::env::var_os("ZKACCEL_VALGRIND").is_none() {
        eprintln!("SKIPPED: set ZKACCEL_VALGRIND=1 to run the C tests under valgrind (CI does)");
        return;
    }
    let dir = out_dir("valgrind");
    let data = agreement_file(&dir);
    let exe = build(&dir, "tests/c/test_api.c", "test_api_vg", false);
    let out = run(Command::new("valgrind")
        .args([
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect",
        ])
        .arg(&exe)
        .arg(&data)
        // OpenCL stays out of the valgrind run: PoCL compiles kernels with LLVM inside the
        // process, which takes many minutes under valgrind, and the loader's RPATH scan
        // trips memcheck's strncmp false positive. `c_tests_shared_and_static` covers the
        // C ABI on OpenCL.
        .env("ZKACCEL_OPENCL", "0")
        .env("ZKACCEL_REQUIRE", "cpu"));
    assert!(out.contains(" passed, 0 failed"), "{out}");
    assert!(out.contains("ERROR SUMMARY: 0 errors"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn only_zka_symbols_are_exported() {
    let so = lib_dir().join("libzkaccel.so");
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .expect("nm runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let foreign: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|s| !s.starts_with("zka_"))
        .collect();
    assert!(foreign.is_empty(), "exported non-zka symbols: {foreign:?}");
    assert!(text.contains("zka_msm"), "zka_msm is exported");
    let soname = Command::new("objdump")
        .arg("-p")
        .arg(&so)
        .output()
        .expect("objdump runs");
    let text = String::from_utf8_lossy(&soname.stdout);
    assert!(
        text.contains(&format!(
            "SONAME               libzkaccel.so.{}",
            zkaccel::ZKA_ABI_VERSION
        )),
        "SONAME carries the ABI version:\n{text}"
    );
}
