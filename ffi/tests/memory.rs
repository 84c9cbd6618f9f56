//! Memory safety of libzkaccel as C sees it, and of its unsafe buffer code as Rust sees it.
//!
//! - `lifecycle_loops`: tests/c/test_lifecycle.c (create/destroy loops for every handle type,
//!   both destroy orders, failing creates) against the shared library.
//! - `c_tests_under_asan`: tests/c/test_api.c and test_lifecycle.c built with
//!   `-fsanitize=address,undefined` and linked to the (uninstrumented) libzkaccel.so. The C
//!   side is fully checked; the library is checked through ASan's malloc/free and
//!   memcpy-family interposition (double free, mismatched free, leaks, overflows inside
//!   intercepted copies). Runs when the compiler can build and run a sanitized program
//!   (skipped loudly otherwise; under `CI` a compiler that cannot is a failure).
//! - With `ZKACCEL_VALGRIND=1` (CI): test_lifecycle.c under valgrind
//!   (`--leak-check=full --errors-for-leak-kinds=definite`: zero definite leaks, no invalid
//!   access), and this test binary itself re-run under valgrind on the `inner_*` tests: the
//!   fuzzing harness on seeded inputs (every exported function, buffers sized exactly as
//!   promised so an over-read is an invalid read) and the zero-copy views of
//!   backends/api/src/view.rs on unaligned, strided, flagged, short and empty buffers.

mod common;
use common::{lib_dir, out_dir, repo};
use std::path::{Path, PathBuf};
use std::process::Command;
use zkaccel_backend::curves::{Bn254Fr, Bn254G1};
use zkaccel_backend::{
    Affine, CurveGroup, CurveGroupId, Encoding, Infinity, PrimeField, Projective, RawPoints,
    RawScalars,
};

/// Builds `src` against libzkaccel.so (installed-style SONAME link in `dir/lib`).
fn build(dir: &Path, src: &str, name: &str, extra: &[&str]) -> Result<PathBuf, String> {
    let exe = dir.join(name);
    let libdir = dir.join("lib");
    std::fs::create_dir_all(&libdir).unwrap();
    let soname = format!("libzkaccel.so.{}", zkaccel::ZKA_ABI_VERSION);
    for link in [soname.as_str(), "libzkaccel.so"] {
        let _ = std::fs::remove_file(libdir.join(link));
        std::os::unix::fs::symlink(lib_dir().join("libzkaccel.so"), libdir.join(link)).unwrap();
    }
    let out = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pthread", "-g"])
        .args(extra)
        .arg(format!("-I{}", repo().join("ffi/include").display()))
        .arg(repo().join(src))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", libdir.display()))
        .arg("-lzkaccel")
        .arg(format!("-Wl,-rpath,{}", libdir.display()))
        .output()
        .map_err(|e| format!("cc: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(exe)
}

/// Runs `cmd`, returns stdout + stderr, panics on failure.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{text}",
        out.status
    );
    assert!(
        !text.contains("panicked"),
        "a Rust panic message crossed the boundary:\n{text}"
    );
    text
}

/// The environment of a C test run: CPU only (PoCL compiles kernels with an uninstrumented
/// LLVM inside the process; the OpenCL path of the C ABI is covered by c_api.rs), no
/// preloaded libraries (ASan must come first in the library list).
fn c_env(cmd: &mut Command) -> &mut Command {
    cmd.env("ZKACCEL_OPENCL", "0")
        .env("ZKACCEL_FPGA", "0")
        .env("ZKACCEL_REQUIRE", "cpu")
        .env_remove("LD_PRELOAD")
}

#[test]
fn lifecycle_loops() {
    let dir = out_dir("lifecycle");
    let exe = build(&dir, "tests/c/test_lifecycle.c", "test_lifecycle", &[]).unwrap();
    let out = run(c_env(&mut Command::new(&exe)).arg("50"));
    assert!(
        out.contains("50 rounds") && out.contains(" 0 failed"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const SANITIZE: &[&str] = &[
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
];

/// Whether `cc` can build and run an ASan + UBSan program here, and the command prefix that
/// makes it run (`setarch -R` where the kernel's mmap randomisation defeats older ASan).
fn asan_runner(dir: &Path) -> Option<Vec<String>> {
    let src = dir.join("probe.c");
    std::fs::write(
        &src,
        "#include <stdlib.h>\nint main(void) { char *p = malloc(8); p[7] = 1; int r = p[7] - 1; free(p); return r; }\n",
    )
    .unwrap();
    let exe = dir.join("probe");
    let built = Command::new("cc")
        .args(SANITIZE)
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .ok()?;
    if !built.status.success() {
        eprintln!(
            "cc cannot build with -fsanitize=address,undefined: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        return None;
    }
    let arch = std::env::consts::ARCH.to_string();
    for prefix in [vec![], vec!["setarch".to_string(), arch, "-R".to_string()]] {
        let ok = command(&prefix, &exe)
            .env_remove("LD_PRELOAD")
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(prefix);
        }
    }
    eprintln!("an ASan program built by cc does not run here");
    None
}

/// `exe` run through `prefix` (empty: directly).
fn command(prefix: &[String], exe: &Path) -> Command {
    match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(exe);
            c
        }
        None => Command::new(exe),
    }
}

#[test]
fn c_tests_under_asan() {
    let dir = out_dir("asan");
    let Some(prefix) = asan_runner(&dir) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs gcc, whose libasan/libubsan must work"
        );
        eprintln!("SKIPPED: AddressSanitizer is not usable with this compiler");
        return;
    };
    for (src, name, args) in [
        ("tests/c/test_api.c", "test_api_asan", vec![]),
        (
            "tests/c/test_lifecycle.c",
            "test_lifecycle_asan",
            vec!["20"],
        ),
    ] {
        let exe = build(&dir, src, name, SANITIZE).unwrap_or_else(|e| panic!("{src}: {e}"));
        let mut cmd = command(&prefix, &exe);
        let out = run(c_env(&mut cmd)
            .args(args)
            // Leak checking on; any report is an error exit.
            .env(
                "ASAN_OPTIONS",
                "detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:strict_string_checks=1",
            )
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"));
        assert!(out.contains(" 0 failed"), "{src}:\n{out}");
        assert!(
            !out.contains("ERROR: AddressSanitizer") && !out.contains("runtime error:"),
            "{src}:\n{out}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn valgrind_wanted() -> bool {
    if std::env::var_os("ZKACCEL_VALGRIND").is_none() {
        eprintln!("SKIPPED: set ZKACCEL_VALGRIND=1 to run under valgrind (CI does)");
        return false;
    }
    true
}

const VALGRIND: &[&str] = &[
    "--error-exitcode=99",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite",
    "--show-leak-kinds=definite",
];

#[test]
fn lifecycle_under_valgrind() {
    if !valgrind_wanted() {
        return;
    }
    let dir = out_dir("lifecycle-vg");
    let exe = build(&dir, "tests/c/test_lifecycle.c", "test_lifecycle_vg", &[]).unwrap();
    let out = run(c_env(
        Command::new("valgrind").args(VALGRIND).arg(&exe).arg("10"),
    ));
    assert!(
        out.contains("10 rounds") && out.contains(" 0 failed"),
        "{out}"
    );
    assert!(out.contains("ERROR SUMMARY: 0 errors"), "{out}");
    assert!(
        out.contains("definitely lost: 0 bytes") || out.contains("All heap blocks were freed"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Set in the environment of the re-run under valgrind.
const INNER: &str = "ZKACCEL_MEMORY_INNER";

#[test]
fn rust_buffer_code_under_valgrind() {
    if !valgrind_wanted() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = run(Command::new("valgrind")
        .args(VALGRIND)
        .arg(&exe)
        .args(["inner_", "--test-threads=1", "--nocapture"])
        .env(INNER, "1")
        .env("ZKACCEL_OPENCL", "0")
        .env("ZKACCEL_FPGA", "0")
        .env("ZKACCEL_CUDA", "0"));
    assert!(out.contains("test result: ok. 2 passed"), "{out}");
    assert!(out.contains("ERROR SUMMARY: 0 errors"), "{out}");
}

/// Seeded inputs through the fuzzing harness (fewer under valgrind, where each is slow).
#[test]
fn inner_fuzz_inputs() {
    let n = if std::env::var_os(INNER).is_some() {
        40
    } else {
        200
    };
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut calls = 0usize;
    for &e in zkaccel::fuzzing::Entry::all() {
        use zkaccel::fuzzing::Entry::*;
        let n = match e {
            RuntimeCreate | RuntimeDestroy => n / 8,
            Msm | MsmBasesCreate | MsmBasesCount | MsmBasesMsm => n / 4,
            _ => n,
        };
        for _ in 0..n {
            let len = (next() % 160) as usize;
            let input: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            zkaccel::fuzzing::run(e, &input);
            calls += 1;
        }
    }
    eprintln!("inner_fuzz_inputs: {calls} calls");
    assert!(calls >= 16 * n, "{calls} calls");
}

/// `len` bytes at an odd address inside a larger allocation, with `data` copied in.
struct Unaligned {
    buf: Vec<u8>,
    off: usize,
}

impl Unaligned {
    fn new(data: &[u8], off: usize) -> Self {
        let mut buf = vec![0u8; data.len() + off];
        buf[off..].copy_from_slice(data);
        Unaligned { buf, off }
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[self.off..]
    }
}

fn g1(k: u64) -> Affine<Bn254G1> {
    Projective::<Bn254G1>::generator()
        .mul(&Bn254Fr::from_u64(k))
        .to_affine()
}

/// The views of backends/api/src/view.rs on buffers that are unaligned, strided, flagged,
/// exactly as long as needed, one byte short, or empty.
#[test]
fn inner_view_buffers() {
    let id = CurveGroupId::new(Bn254G1::CURVE, Bn254G1::GROUP);
    let pts: Vec<Affine<Bn254G1>> = (1..=5).map(g1).collect();
    let raw: &[u8] = bytemuck::cast_slice(&pts);
    // Packed, at every misalignment, exactly sized.
    for off in 0..8 {
        let u = Unaligned::new(raw, off);
        let v = RawPoints::new(
            id,
            u.bytes(),
            5,
            64,
            Infinity::ZeroCoordinates,
            Encoding::Montgomery,
        )
        .unwrap();
        let t = v.typed::<Bn254G1>().unwrap();
        assert_eq!(
            t.as_affine_slice().is_some(),
            (u.bytes().as_ptr() as usize).is_multiple_of(8)
        );
        assert_eq!(t.check_encoding(), Ok(()));
        assert_eq!(t.to_vec(), pts);
        let s = v.slice(4, 1).typed::<Bn254G1>().unwrap();
        assert_eq!(s.get(0), pts[4]);
        let empty = v.slice(5, 0);
        assert!(empty.is_empty());
        // One byte short: refused.
        assert!(RawPoints::new(
            id,
            &u.bytes()[..raw.len() - 1],
            5,
            64,
            Infinity::ZeroCoordinates,
            Encoding::Montgomery
        )
        .is_err());
    }
    // arkworks-like layout: stride 72, flag at 64, the last element ending at its flag byte;
    // canonical coordinates; point 2 flagged as infinity (its coordinates are garbage).
    let mut bytes = vec![0u8; 4 * 72 + 65];
    for (i, p) in pts.iter().enumerate() {
        let at = i * 72;
        for (j, c) in [p.x, p.y].iter().enumerate() {
            let limbs = c.to_canonical();
            bytes[at + 32 * j..at + 32 * j + 32].copy_from_slice(bytemuck::cast_slice(&limbs));
        }
    }
    bytes[2 * 72..2 * 72 + 64].fill(0xff);
    bytes[2 * 72 + 64] = 1;
    for off in [0, 3] {
        let u = Unaligned::new(&bytes, off);
        let v = RawPoints::new(
            id,
            u.bytes(),
            5,
            72,
            Infinity::FlagByte { offset: 64 },
            Encoding::Canonical,
        )
        .unwrap();
        let t = v.typed::<Bn254G1>().unwrap();
        assert!(t.as_affine_slice().is_none());
        assert_eq!(t.check_encoding(), Ok(()), "flagged garbage is not checked");
        assert!(t.is_identity_at(2) && !t.is_identity_at(4));
        let got = t.to_vec();
        assert_eq!(got[2], Affine::IDENTITY);
        assert_eq!((got[0], got[4]), (pts[0], pts[4]));
        // One byte short of the last flag: refused.
        assert!(RawPoints::new(
            id,
            &u.bytes()[..bytes.len() - 1],
            5,
            72,
            Infinity::FlagByte { offset: 64 },
            Encoding::Canonical
        )
        .is_err());
    }
    // The flag must lie after the coordinates and inside the stride; counts that overflow.
    let e = |len, stride, inf| RawPoints::new(id, &bytes, len, stride, inf, Encoding::Canonical);
    assert!(e(1, 72, Infinity::FlagByte { offset: 63 }).is_err());
    assert!(e(1, 72, Infinity::FlagByte { offset: 72 }).is_err());
    assert!(e(1, 63, Infinity::ZeroCoordinates).is_err());
    assert!(e(usize::MAX, 72, Infinity::ZeroCoordinates).is_err());
    assert!(e(0, 64, Infinity::ZeroCoordinates).unwrap().is_empty());
    assert!(RawPoints::new(
        id,
        &[],
        0,
        64,
        Infinity::ZeroCoordinates,
        Encoding::Montgomery
    )
    .unwrap()
    .typed::<Bn254G1>()
    .unwrap()
    .to_vec()
    .is_empty());

    // Scalars: canonical and Montgomery views, the modulus refused by the check.
    let xs: Vec<Bn254Fr> = (1..=3).map(Bn254Fr::from_u64).collect();
    let mont: &[[u64; 4]] = bytemuck::cast_slice(&xs);
    let canon: Vec<[u64; 4]> = xs.iter().map(|x| x.to_canonical()).collect();
    let a = RawScalars::new(Bn254Fr::ID, mont, Encoding::Montgomery)
        .typed::<Bn254Fr>()
        .unwrap();
    let b = RawScalars::new(Bn254Fr::ID, &canon, Encoding::Canonical)
        .typed::<Bn254Fr>()
        .unwrap();
    for i in 0..3 {
        assert_eq!(a.canonical(i), b.canonical(i));
    }
    let bad = [Bn254Fr::modulus()];
    let c = RawScalars::new(Bn254Fr::ID, &bad, Encoding::Canonical)
        .typed::<Bn254Fr>()
        .unwrap();
    assert_eq!(c.check_encoding(), Err(0));
    assert!(RawScalars::new(Bn254Fr::ID, &[], Encoding::Canonical)
        .typed::<Bn254Fr>()
        .unwrap()
        .is_empty());
}
