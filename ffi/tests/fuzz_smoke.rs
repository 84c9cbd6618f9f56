//! A short, seeded fuzzing run of every exported entry point inside `cargo test`, plus
//! hand-written nasty calls with the exact status each must return.
//!
//! The random run drives the same harness as the cargo-fuzz targets in ffi/fuzz
//! (`zkaccel::fuzzing`, ffi/src/fuzzing.rs): random byte strings, and mutations of them, read
//! as calls. The harness panics when a call misbehaves (an undocumented status,
//! `ZKA_ERR_INTERNAL`, a handle left behind by a failed create, a missing message); this test
//! also requires that each entry point both succeeds and fails at least once, so the harness
//! cannot degenerate into inputs that are all rejected at the first check.
//! `ZKACCEL_FUZZ_SMOKE_ITERS` overrides the number of inputs per entry point.
//!
//! `every_export_is_fuzzed` fails when libzkaccel.so exports a `zka_*` symbol that has no
//! entry in the harness (add one to `Entry` and a target in ffi/fuzz when adding a function).

mod common;
use common::lib_dir;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use zkaccel::fuzzing::{run, Entry};
use zkaccel::*;

/// Inputs per entry point; the heavy entry points (MSM, NTT, hashing) get a quarter.
fn iterations(entry: Entry) -> usize {
    let base = std::env::var("ZKACCEL_FUZZ_SMOKE_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    match entry {
        Entry::RuntimeCreate | Entry::RuntimeDestroy => base / 10,
        Entry::Msm | Entry::MsmBasesCreate | Entry::MsmBasesMsm | Entry::MsmBasesCount => base / 4,
        _ => base,
    }
}

/// xorshift64*: reproducible inputs without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Runs `iterations(entry)` seeded inputs on `entry` and returns how often each status came
/// back. Half the inputs are fresh random strings, half mutate an earlier input (flip,
/// overwrite, insert, truncate), as a fuzzer does.
fn smoke(entry: Entry) -> BTreeMap<i32, usize> {
    let name = entry.symbol();
    let seed = name.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = Rng(seed | 1);
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let mut seen = BTreeMap::new();
    for i in 0..iterations(entry) {
        let input: Vec<u8> = if pool.is_empty() || rng.below(2) == 0 {
            let len = rng.below(200) as usize;
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            let mut v = pool[rng.below(pool.len() as u64) as usize].clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(v.len() as u64 + 1) as usize;
                match rng.below(4) {
                    0 if at < v.len() => v[at] ^= 1 << rng.below(8),
                    1 if at < v.len() => v[at] = rng.next() as u8,
                    2 => v.insert(at, rng.next() as u8),
                    _ => v.truncate(at),
                }
            }
            v
        };
        let status = std::panic::catch_unwind(|| run(entry, &input)).unwrap_or_else(|_| {
            panic!("{name}: input #{i} failed a check; reproduce with fuzzing::run(Entry::{entry:?}, &{input:?})")
        });
        *seen.entry(status).or_insert(0) += 1;
        if pool.len() < 64 {
            pool.push(input);
        } else {
            let k = rng.below(64) as usize;
            pool[k] = input;
        }
    }
    eprintln!("{name}: {} inputs, statuses {seen:?}", iterations(entry));
    seen
}

/// Entry points that only ever succeed.
fn always_ok(e: Entry) -> bool {
    matches!(
        e,
        Entry::Version
            | Entry::StatusStr
            | Entry::RuntimeDestroy
            | Entry::MsmBasesDestroy
            | Entry::NttDomainDestroy
    )
}

fn check(entry: Entry) {
    let seen = smoke(entry);
    assert!(
        seen.contains_key(&ZKA_OK),
        "{}: no input succeeded: {seen:?}",
        entry.symbol()
    );
    if !always_ok(entry) {
        assert!(
            seen.keys().any(|&s| s != ZKA_OK),
            "{}: no input failed: {seen:?}",
            entry.symbol()
        );
    }
}

macro_rules! smoke_tests {
    ($($test:ident: $entry:ident,)+) => {
        $(
            #[test]
            fn $test() {
                check(Entry::$entry);
            }
        )+

        /// The tests above, one per entry point: the list must stay complete.
        const SMOKED: &[Entry] = &[$(Entry::$entry),+];
    };
}

smoke_tests! {
    smoke_version: Version,
    smoke_check_abi: CheckAbi,
    smoke_status_str: StatusStr,
    smoke_runtime_create: RuntimeCreate,
    smoke_runtime_destroy: RuntimeDestroy,
    smoke_last_error: LastError,
    smoke_device_count: DeviceCount,
    smoke_device_get_info: DeviceGetInfo,
    smoke_device_supports_msm: DeviceSupportsMsm,
    smoke_device_supports_ntt: DeviceSupportsNtt,
    smoke_runtime_stats: RuntimeStats,
    smoke_msm: Msm,
    smoke_msm_bases_create: MsmBasesCreate,
    smoke_msm_bases_count: MsmBasesCount,
    smoke_msm_bases_msm: MsmBasesMsm,
    smoke_msm_bases_destroy: MsmBasesDestroy,
    smoke_ntt_domain_create: NttDomainCreate,
    smoke_ntt: Ntt,
    smoke_ntt_domain_destroy: NttDomainDestroy,
    smoke_to_montgomery: ToMontgomery,
    smoke_from_montgomery: FromMontgomery,
    smoke_hash_get_info: HashGetInfo,
    smoke_hash_find: HashFind,
    smoke_hash: Hash,
    smoke_merkle_tree: MerkleTree,
    smoke_merkle_verify: MerkleVerify,
    smoke_plugin_report_count: PluginReportCount,
    smoke_plugin_report_get: PluginReportGet,
}

// ---------------------------------------------------------------------------------------------
// Every export is fuzzed
// ---------------------------------------------------------------------------------------------

/// The `zka_*` functions libzkaccel.so exports (`nm -D`), or those declared in the source
/// when nm is missing outside CI.
fn exported() -> BTreeSet<String> {
    let so = lib_dir().join("libzkaccel.so");
    match Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
    {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let (kind, name) = (f.nth(1)?, f.next()?);
                (kind == "T" && name.starts_with("zka_")).then(|| name.to_string())
            })
            .collect(),
        other => {
            assert!(
                std::env::var_os("CI").is_none(),
                "nm -D {} failed under CI: {other:?}",
                so.display()
            );
            eprintln!("SKIPPED nm: {other:?}; using the declarations in ffi/src/lib.rs");
            declared()
        }
    }
}

/// The `extern "C"` functions declared in ffi/src/lib.rs.
fn declared() -> BTreeSet<String> {
    let src = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("ffi/src/lib.rs");
    src.lines()
        .filter_map(|l| {
            let at = l.find("extern \"C\" fn ")?;
            let rest = &l[at + "extern \"C\" fn ".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            name.starts_with("zka_").then_some(name)
        })
        .collect()
}

#[test]
fn every_export_is_fuzzed() {
    let harness: BTreeSet<String> = Entry::all().iter().map(|e| e.symbol().into()).collect();
    for (what, set) in [
        ("exported by libzkaccel.so", exported()),
        ("declared in lib.rs", declared()),
    ] {
        let missing: Vec<&String> = set.difference(&harness).collect();
        assert!(
            missing.is_empty(),
            "{missing:?} {what} but not fuzzed: add them to `Entry` in ffi/src/fuzzing.rs, a \
             target in ffi/fuzz/fuzz_targets and a line in ffi/tests/fuzz_smoke.rs"
        );
        let stale: Vec<&String> = harness.difference(&set).collect();
        assert!(stale.is_empty(), "{stale:?} fuzzed but not {what}");
    }
    let smoked: BTreeSet<String> = SMOKED.iter().map(|e| e.symbol().into()).collect();
    assert_eq!(smoked, harness, "a smoke test per entry point");
    // And a cargo-fuzz target per entry point.
    let targets = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    for e in Entry::all() {
        let name = e.symbol().strip_prefix("zka_").unwrap();
        let file = targets.join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|_| panic!("no fuzz target {}", file.display()));
        assert!(
            text.contains(e.symbol()),
            "{} drives {}",
            file.display(),
            e.symbol()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written nasty calls
// ---------------------------------------------------------------------------------------------

struct Rt(*mut zka_runtime);

impl Rt {
    fn cpu() -> Rt {
        let o = zka_runtime_options {
            struct_size: size_of::<zka_runtime_options>() as u32,
            policy: ZKA_POLICY_ONLY,
            device_kind: ZKA_DEVICE_CPU,
            cpu_threads: 1,
            point_validation: ZKA_VALIDATE_DEFAULT,
        };
        let mut rt = std::ptr::null_mut();
        // SAFETY: valid options and out pointer.
        assert_eq!(unsafe { zka_runtime_create(&o, &mut rt) }, ZKA_OK);
        Rt(rt)
    }
    fn message(&self) -> String {
        let mut buf = [0 as std::ffi::c_char; 512];
        // SAFETY: live runtime, writable buffer.
        unsafe { zka_last_error(self.0, buf.as_mut_ptr(), buf.len(), std::ptr::null_mut()) };
        // SAFETY: NUL-terminated by zka_last_error.
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        // SAFETY: made by `cpu`, destroyed once.
        unsafe { zka_runtime_destroy(self.0) };
    }
}

/// The BN254 generator (1, 2), canonical.
const G: [u64; 8] = [1, 0, 0, 0, 2, 0, 0, 0];
const BN254_Q: [u64; 4] = [
    0x3c20_8c16_d87c_fd47,
    0x9781_6a91_6871_ca8d,
    0xb850_45b6_8181_585d,
    0x3064_4e72_e131_a029,
];
const BN254_R: [u64; 4] = [
    0x43e1_f593_f000_0001,
    0x2833_e848_79b9_7091,
    0xb850_45b6_8181_585d,
    0x3064_4e72_e131_a029,
];

fn g1_points(data: *const u64, count: usize) -> zka_points {
    zka_points {
        struct_size: size_of::<zka_points>() as u32,
        curve: ZKA_CURVE_BN254,
        group: ZKA_G1,
        encoding: ZKA_ENCODING_CANONICAL,
        infinity: ZKA_INFINITY_ZERO,
        flag_offset: 0,
        stride: 0,
        count,
        data: data.cast(),
    }
}

fn scalars(data: *const u64, count: usize) -> zka_scalars {
    zka_scalars {
        struct_size: size_of::<zka_scalars>() as u32,
        encoding: ZKA_ENCODING_CANONICAL,
        count,
        data,
    }
}

fn out(limbs: &mut [u64]) -> zka_point_out {
    zka_point_out {
        struct_size: size_of::<zka_point_out>() as u32,
        form: ZKA_FORM_AFFINE,
        encoding: ZKA_ENCODING_CANONICAL,
        is_infinity: 0,
        limbs: limbs.as_mut_ptr(),
        capacity: limbs.len(),
        written: 0,
    }
}

#[test]
fn nasty_msm_calls() {
    let rt = Rt::cpu();
    let s1 = [3u64, 0, 0, 0];
    let mut r = [0u64; 8];
    // SAFETY: (all calls below) every descriptor describes memory that exists, or a size the
    // library must refuse before reading.
    unsafe {
        let mut o = out(&mut r);
        let ok = zka_msm(
            rt.0,
            &g1_points(G.as_ptr(), 1),
            &scalars(s1.as_ptr(), 1),
            std::ptr::null(),
            &mut o,
            std::ptr::null_mut(),
        );
        assert_eq!(ok, ZKA_OK, "{}", rt.message());
        let cases: Vec<(&str, zka_points, zka_scalars, usize, i32)> = vec![
            (
                "count × stride overflows",
                zka_points {
                    count: usize::MAX,
                    stride: 64,
                    ..g1_points(G.as_ptr(), 0)
                },
                scalars(s1.as_ptr(), 1),
                8,
                ZKA_ERR_INVALID_ARGUMENT,
            ),
            (
                "stride smaller than a point",
                zka_points {
                    stride: 63,
                    count: 2,
                    ..g1_points(G.as_ptr(), 0)
                },
                scalars(s1.as_ptr(), 1),
                8,
                ZKA_ERR_INVALID_ARGUMENT,
            ),
            (
                "points data NULL",
                g1_points(std::ptr::null(), 1),
                scalars(s1.as_ptr(), 1),
                8,
                ZKA_ERR_NULL_POINTER,
            ),
            (
                "scalars data NULL",
                g1_points(G.as_ptr(), 1),
                scalars(std::ptr::null(), 1),
                8,
                ZKA_ERR_NULL_POINTER,
            ),
            (
                "scalars huge",
                g1_points(G.as_ptr(), 1),
                scalars(s1.as_ptr(), usize::MAX),
                8,
                ZKA_ERR_INVALID_ARGUMENT,
            ),
            (
                "more scalars than points",
                g1_points(G.as_ptr(), 1),
                scalars([0u64; 8].as_ptr(), 2),
                8,
                ZKA_ERR_LENGTH_MISMATCH,
            ),
            (
                "unknown curve",
                zka_points {
                    curve: 99,
                    ..g1_points(G.as_ptr(), 1)
                },
                scalars(s1.as_ptr(), 1),
                8,
                ZKA_ERR_UNKNOWN_ID,
            ),
            (
                "BLS12-377 G2 does not exist",
                zka_points {
                    curve: ZKA_CURVE_BLS12_377,
                    group: ZKA_G2,
                    ..g1_points(G.as_ptr(), 0)
                },
                scalars(s1.as_ptr(), 0),
                8,
                ZKA_ERR_UNKNOWN_ID,
            ),
            (
                "unknown infinity marking",
                zka_points {
                    infinity: 7,
                    ..g1_points(G.as_ptr(), 1)
                },
                scalars(s1.as_ptr(), 1),
                8,
                ZKA_ERR_UNKNOWN_ID,
            ),
            (
                "flag offset inside the coordinates",
                zka_points {
                    infinity: ZKA_INFINITY_FLAG,
                    flag_offset: 3,
                    ..g1_points(G.as_ptr(), 1)
                },
                scalars(s1.as_ptr(), 1),
                8,
                ZKA_ERR_INVALID_ARGUMENT,
            ),
            (
                "x = q",
                g1_points(
                    [BN254_Q[0], BN254_Q[1], BN254_Q[2], BN254_Q[3], 2, 0, 0, 0].as_ptr(),
                    1,
                ),
                scalars(s1.as_ptr(), 1),
                8,
                ZKA_ERR_NOT_REDUCED,
            ),
            (
                "off the curve",
                g1_points([1u64, 0, 0, 0, 3, 0, 0, 0].as_ptr(), 1),
                scalars(s1.as_ptr(), 1),
                8,
                ZKA_ERR_NOT_ON_CURVE,
            ),
            (
                "scalar = r",
                g1_points(G.as_ptr(), 1),
                scalars(BN254_R.as_ptr(), 1),
                8,
                ZKA_ERR_NOT_REDUCED,
            ),
            (
                "scalar = 2^256 - 1",
                g1_points(G.as_ptr(), 1),
                scalars([u64::MAX; 4].as_ptr(), 1),
                8,
                ZKA_ERR_NOT_REDUCED,
            ),
            (
                "result one limb short",
                g1_points(G.as_ptr(), 1),
                scalars(s1.as_ptr(), 1),
                7,
                ZKA_ERR_BUFFER_TOO_SMALL,
            ),
            (
                "struct_size 0",
                zka_points {
                    struct_size: 0,
                    ..g1_points(G.as_ptr(), 1)
                },
                scalars(s1.as_ptr(), 1),
                8,
                ZKA_ERR_STRUCT_SIZE,
            ),
        ];
        for (what, p, s, cap, want) in cases {
            let mut r = vec![0u64; cap];
            let mut o = out(&mut r);
            let opts = zka_msm_options {
                struct_size: size_of::<zka_msm_options>() as u32,
                point_validation: ZKA_VALIDATE_ON_CURVE,
                verification: ZKA_VERIFY_DEFAULT,
                timeout_ms: 0,
            };
            let got = zka_msm(rt.0, &p, &s, &opts, &mut o, std::ptr::null_mut());
            assert_eq!(got, want, "{what}: {}", rt.message());
            assert!(!rt.message().is_empty(), "{what}: a message");
        }
        // Empty MSM: the point at infinity.
        let mut o = out(&mut r);
        assert_eq!(
            zka_msm(
                rt.0,
                &g1_points(std::ptr::null(), 0),
                &scalars(std::ptr::null(), 0),
                std::ptr::null(),
                &mut o,
                std::ptr::null_mut()
            ),
            ZKA_OK
        );
        assert_eq!(o.is_infinity, 1);
        // Misaligned scalars (inside a valid allocation).
        let words = [0u64; 9];
        let odd = words.as_ptr().cast::<u8>().add(4).cast::<u64>();
        let mut o = out(&mut r);
        assert_eq!(
            zka_msm(
                rt.0,
                &g1_points(G.as_ptr(), 1),
                &scalars(odd, 1),
                std::ptr::null(),
                &mut o,
                std::ptr::null_mut()
            ),
            ZKA_ERR_INVALID_ARGUMENT
        );
        // NULL everywhere it is not allowed.
        assert_eq!(
            zka_msm(
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            ZKA_ERR_NULL_POINTER
        );
        assert_eq!(
            zka_msm(
                rt.0,
                &g1_points(G.as_ptr(), 1),
                &scalars(s1.as_ptr(), 1),
                std::ptr::null(),
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            ZKA_ERR_NULL_POINTER
        );
        // Bases: a handle from bad points is never made; from good ones, more scalars than
        // points are refused.
        let mut h = std::ptr::dangling_mut::<zka_msm_bases>();
        assert_eq!(
            zka_msm_bases_create(
                rt.0,
                &g1_points(std::ptr::null(), 1),
                std::ptr::null(),
                &mut h
            ),
            ZKA_ERR_NULL_POINTER
        );
        assert!(h.is_null());
        assert_eq!(
            zka_msm_bases_create(rt.0, &g1_points(G.as_ptr(), 1), std::ptr::null(), &mut h),
            ZKA_OK
        );
        let mut o = out(&mut r);
        assert_eq!(
            zka_msm_bases_msm(
                h,
                &scalars([0u64; 8].as_ptr(), 2),
                &mut o,
                std::ptr::null_mut()
            ),
            ZKA_ERR_LENGTH_MISMATCH
        );
        assert_eq!(
            zka_msm_bases_msm(
                std::ptr::null(),
                &scalars(s1.as_ptr(), 1),
                &mut o,
                std::ptr::null_mut()
            ),
            ZKA_ERR_NULL_POINTER
        );
        assert_eq!(
            zka_msm_bases_count(h, std::ptr::null_mut()),
            ZKA_ERR_NULL_POINTER
        );
        assert_eq!(zka_msm_bases_destroy(h), ZKA_OK);
        assert_eq!(zka_msm_bases_destroy(std::ptr::null_mut()), ZKA_OK);
        // A NULL runtime: refused, and `*out` is NULL rather than left as it was.
        let mut h = std::ptr::dangling_mut::<zka_msm_bases>();
        let p = g1_points(G.as_ptr(), 1);
        let s = zka_msm_bases_create(std::ptr::null(), &p, std::ptr::null(), &mut h);
        assert_eq!((s, h.is_null()), (ZKA_ERR_NULL_POINTER, true));
        let mut d = std::ptr::dangling_mut::<zka_ntt_domain>();
        let s = zka_ntt_domain_create(std::ptr::null(), 4, 3, std::ptr::null(), 0, &mut d);
        assert_eq!((s, d.is_null()), (ZKA_ERR_NULL_POINTER, true));
    }
}

#[test]
fn nasty_ntt_and_conversion_calls() {
    let rt = Rt::cpu();
    // SAFETY: (all calls below) buffers exist for what they promise, or the size is refused
    // before reading.
    unsafe {
        let mut d = std::ptr::dangling_mut::<zka_ntt_domain>();
        for (field, log_n, want) in [
            (ZKA_FIELD_GOLDILOCKS, 33, ZKA_ERR_NTT_SIZE),
            (ZKA_FIELD_BABYBEAR, 28, ZKA_ERR_NTT_SIZE),
            (ZKA_FIELD_BN254_FR, u32::MAX, ZKA_ERR_NTT_SIZE),
            (ZKA_FIELD_BN254_FQ, 4, ZKA_ERR_UNSUPPORTED),
            (0, 4, ZKA_ERR_UNKNOWN_ID),
            (99, 4, ZKA_ERR_UNKNOWN_ID),
        ] {
            let got = zka_ntt_domain_create(rt.0, field, log_n, std::ptr::null(), 0, &mut d);
            assert_eq!(got, want, "field {field} log_n {log_n}: {}", rt.message());
            assert!(d.is_null());
        }
        // A base field (not an NTT field) with a root of its own size (6 limbs): refused
        // before the root is read (this was a caught panic, ZKA_ERR_INTERNAL).
        let six = [1u64; 6];
        for field in [
            ZKA_FIELD_BLS12_381_FQ,
            ZKA_FIELD_BLS12_377_FQ,
            ZKA_FIELD_BN254_FQ,
        ] {
            let limbs = if field == ZKA_FIELD_BN254_FQ { 4 } else { 6 };
            let got = zka_ntt_domain_create(rt.0, field, 3, six.as_ptr(), limbs, &mut d);
            assert_eq!(got, ZKA_ERR_UNSUPPORTED, "field {field}: {}", rt.message());
            assert!(d.is_null());
        }
        // Roots: wrong limb count (refused unread), 1 (not primitive), p (not reduced).
        let one = [1u64];
        assert_eq!(
            zka_ntt_domain_create(
                rt.0,
                ZKA_FIELD_GOLDILOCKS,
                3,
                one.as_ptr(),
                usize::MAX,
                &mut d
            ),
            ZKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            zka_ntt_domain_create(rt.0, ZKA_FIELD_GOLDILOCKS, 3, one.as_ptr(), 1, &mut d),
            ZKA_ERR_INVALID_ARGUMENT
        );
        let p = [0xffff_ffff_0000_0001u64];
        assert_eq!(
            zka_ntt_domain_create(rt.0, ZKA_FIELD_GOLDILOCKS, 3, p.as_ptr(), 1, &mut d),
            ZKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            zka_ntt_domain_create(rt.0, ZKA_FIELD_GOLDILOCKS, 3, std::ptr::null(), 0, &mut d),
            ZKA_OK
        );
        let cfg = |batch: u32| zka_ntt_config {
            struct_size: size_of::<zka_ntt_config>() as u32,
            direction: ZKA_NTT_FORWARD,
            input_order: ZKA_ORDER_NATURAL,
            output_order: ZKA_ORDER_NATURAL,
            encoding: ZKA_ENCODING_CANONICAL,
            layout: ZKA_LAYOUT_CONTIGUOUS,
            batch,
            has_coset: 0,
            coset_shift: [0; 4],
            verification: ZKA_VERIFY_DEFAULT,
            timeout_ms: 0,
        };
        let mut data = [1u64; 17];
        let r = |c: zka_ntt_config, ptr: *mut u64, n: usize| {
            zka_ntt(d, &c, ptr.cast(), n, std::ptr::null_mut())
        };
        assert_eq!(r(cfg(1), data.as_mut_ptr(), 8), ZKA_OK);
        assert_eq!(r(cfg(0), data.as_mut_ptr(), 0), ZKA_ERR_LENGTH_MISMATCH);
        assert_eq!(r(cfg(1), data.as_mut_ptr(), 7), ZKA_ERR_LENGTH_MISMATCH);
        assert_eq!(
            r(cfg(u32::MAX), data.as_mut_ptr(), 8),
            ZKA_ERR_LENGTH_MISMATCH
        );
        assert_eq!(
            r(cfg(1), data.as_mut_ptr(), usize::MAX),
            ZKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(r(cfg(1), std::ptr::null_mut(), 8), ZKA_ERR_NULL_POINTER);
        assert_eq!(
            r(
                zka_ntt_config {
                    has_coset: 2,
                    ..cfg(1)
                },
                data.as_mut_ptr(),
                8
            ),
            ZKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            r(
                zka_ntt_config {
                    has_coset: 1,
                    ..cfg(1)
                },
                data.as_mut_ptr(),
                8
            ),
            ZKA_ERR_INVALID_ARGUMENT,
            "zero coset shift"
        );
        assert_eq!(
            r(
                zka_ntt_config {
                    struct_size: 4,
                    ..cfg(1)
                },
                data.as_mut_ptr(),
                8
            ),
            ZKA_ERR_STRUCT_SIZE
        );
        assert_eq!(
            r(
                zka_ntt_config {
                    layout: 9,
                    ..cfg(1)
                },
                data.as_mut_ptr(),
                8
            ),
            ZKA_ERR_UNKNOWN_ID
        );
        data[3] = u64::MAX;
        assert_eq!(r(cfg(1), data.as_mut_ptr(), 8), ZKA_ERR_NOT_REDUCED);
        // In Montgomery form (converted to the storage form first): refused untouched.
        let mont = zka_ntt_config {
            encoding: ZKA_ENCODING_MONTGOMERY,
            ..cfg(1)
        };
        let before = data;
        assert_eq!(r(mont, data.as_mut_ptr(), 8), ZKA_ERR_NOT_REDUCED);
        assert_eq!(data, before, "refused NTT data is left as it was");
        data[3] = 3;
        // Misaligned Goldilocks words inside a valid allocation.
        let odd = data.as_mut_ptr().cast::<u8>().add(1).cast::<u64>();
        assert_eq!(r(cfg(1), odd, 8), ZKA_ERR_INVALID_ARGUMENT);
        // The same, in Montgomery form (no conversion happens before the layout check).
        assert_eq!(
            r(
                zka_ntt_config {
                    encoding: ZKA_ENCODING_MONTGOMERY,
                    ..cfg(1)
                },
                odd,
                8
            ),
            ZKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(zka_ntt_domain_destroy(d), ZKA_OK);
        assert_eq!(
            zka_ntt(
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut()
            ),
            ZKA_ERR_NULL_POINTER
        );

        let mut w = [5u64, u64::MAX];
        assert_eq!(
            zka_to_montgomery(rt.0, ZKA_FIELD_GOLDILOCKS, w.as_mut_ptr().cast(), 2),
            ZKA_ERR_NOT_REDUCED
        );
        assert!(rt.message().contains("element 1"), "{}", rt.message());
        assert_eq!(w[0], 5, "a refused conversion leaves the data as it was");
        assert_eq!(
            zka_to_montgomery(rt.0, ZKA_FIELD_GOLDILOCKS, std::ptr::null_mut(), 0),
            ZKA_OK
        );
        assert_eq!(
            zka_to_montgomery(rt.0, ZKA_FIELD_GOLDILOCKS, std::ptr::null_mut(), 1),
            ZKA_ERR_NULL_POINTER
        );
        assert_eq!(
            zka_from_montgomery(rt.0, 0, w.as_mut_ptr().cast(), 1),
            ZKA_ERR_UNKNOWN_ID
        );
        assert_eq!(
            zka_from_montgomery(
                rt.0,
                ZKA_FIELD_BLS12_381_FQ,
                w.as_mut_ptr().cast(),
                usize::MAX
            ),
            ZKA_ERR_INVALID_ARGUMENT
        );
        // A BabyBear word at a 4-byte offset is aligned; at 2 it is not.
        let b = w.as_mut_ptr().cast::<u8>();
        assert_eq!(
            zka_to_montgomery(rt.0, ZKA_FIELD_BABYBEAR, b.add(4).cast(), 1),
            ZKA_OK
        );
        assert_eq!(
            zka_to_montgomery(rt.0, ZKA_FIELD_BABYBEAR, b.add(2).cast(), 1),
            ZKA_ERR_INVALID_ARGUMENT
        );
    }
}

#[test]
fn nasty_hash_and_misc_calls() {
    let rt = Rt::cpu();
    // SAFETY: (all calls below) buffers exist for what they promise.
    unsafe {
        let mut inst = 0u32;
        for (name, want) in [
            (&b"\0"[..], ZKA_ERR_UNKNOWN_ID),
            (b"poseidon\0", ZKA_ERR_UNKNOWN_ID),
            (b"poseidon2-plonky3-babybear-t16\0", ZKA_OK),
            (b"POSEIDON2_PLONKY3_BABYBEAR_16\0", ZKA_OK),
            (b"\xff\xfe\xfd\0", ZKA_ERR_UNKNOWN_ID),
        ] {
            assert_eq!(
                zka_hash_find(name.as_ptr().cast(), &mut inst),
                want,
                "{name:?}"
            );
        }
        assert_eq!(
            zka_hash_find(std::ptr::null(), &mut inst),
            ZKA_ERR_NULL_POINTER
        );
        assert_eq!(
            zka_hash_find(c"poseidon-circom-bn254-t3".as_ptr(), std::ptr::null_mut()),
            ZKA_ERR_NULL_POINTER
        );
        let mut info: zka_hash_info = std::mem::zeroed();
        assert_eq!(zka_hash_get_info(0, &mut info), ZKA_ERR_STRUCT_SIZE);
        info.struct_size = size_of::<zka_hash_info>() as u32;
        assert_eq!(zka_hash_get_info(u32::MAX, &mut info), ZKA_ERR_UNKNOWN_ID);
        assert_eq!(
            zka_hash_find(c"poseidon-circom-bn254-t3".as_ptr(), &mut inst),
            ZKA_OK
        );
        assert_eq!(zka_hash_get_info(inst, &mut info), ZKA_OK);
        let (t, d) = (info.width as usize, info.digest as usize);
        let mut state = vec![0u64; 4 * t];
        let mut digest = vec![0u64; 4 * d];
        let h = |op: u32, param: u32, inp: &[u64], n_in: usize, out: &mut [u64], n_out: usize| {
            zka_hash(
                rt.0,
                inst,
                op,
                param,
                ZKA_ENCODING_CANONICAL,
                inp.as_ptr().cast(),
                n_in,
                out.as_mut_ptr().cast(),
                n_out,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(h(ZKA_HASH_PERMUTE, 0, &[], 0, &mut state, t), ZKA_OK);
        assert_eq!(
            h(ZKA_HASH_PERMUTE, 0, &[], 0, &mut state, t - 1),
            ZKA_ERR_LENGTH_MISMATCH
        );
        assert_eq!(
            h(ZKA_HASH_MESSAGES, 0, &[], 0, &mut digest, d),
            ZKA_ERR_LENGTH_MISMATCH,
            "zero-length messages: {}",
            rt.message()
        );
        assert_eq!(
            h(ZKA_HASH_MESSAGES, u32::MAX, &state, t, &mut digest, d),
            ZKA_ERR_LENGTH_MISMATCH
        );
        assert_eq!(
            h(ZKA_HASH_COMPRESS, 0, &state, t, &mut digest, d),
            ZKA_ERR_INVALID_ARGUMENT,
            "arity 0: {}",
            rt.message()
        );
        assert_eq!(h(99, 0, &[], 0, &mut state, t), ZKA_ERR_UNKNOWN_ID);
        // The last element not below r: refused, and the state left as it was (canonical
        // elements are converted in place to the storage form before hashing).
        state.iter_mut().for_each(|x| *x = 0);
        state[0] = 7;
        state[4 * t - 1] = u64::MAX;
        assert_eq!(
            h(ZKA_HASH_PERMUTE, 0, &[], 0, &mut state, t),
            ZKA_ERR_NOT_REDUCED
        );
        assert_eq!(state[..4], [7, 0, 0, 0], "refused state is left as it was");
        // BabyBear words in Montgomery form (the storage form: no conversion) above p are
        // refused (they overflowed the CPU permutation: ZKA_ERR_INTERNAL, or a wrong digest
        // without overflow checks).
        let mut bb = 0u32;
        assert_eq!(
            zka_hash_find(c"poseidon2-plonky3-babybear-t16".as_ptr(), &mut bb),
            ZKA_OK
        );
        let mut words = [1u32; 8];
        words[5] = u32::MAX;
        let mut dig = [0u32; 8];
        let s = zka_hash(
            rt.0,
            bb,
            ZKA_HASH_MESSAGES,
            8,
            ZKA_ENCODING_MONTGOMERY,
            words.as_ptr().cast(),
            8,
            dig.as_mut_ptr().cast(),
            8,
            std::ptr::null_mut(),
        );
        assert_eq!(s, ZKA_ERR_NOT_REDUCED, "{}", rt.message());
        assert!(rt.message().contains("element 5"), "{}", rt.message());
        // Merkle: arity 0 and 1, leaves not a whole tree, out of neither size.
        let leaves = vec![0u64; 4 * 4 * d];
        let mut out = vec![0u64; 4 * 8 * d];
        let m = |arity: u32, n_leaves: usize, out: &mut [u64], n_out: usize| {
            zka_merkle_tree(
                rt.0,
                inst,
                arity,
                ZKA_ENCODING_CANONICAL,
                leaves.as_ptr().cast(),
                n_leaves,
                out.as_mut_ptr().cast(),
                n_out,
            )
        };
        assert_eq!(m(2, 4 * d, &mut out, d), ZKA_OK, "{}", rt.message());
        for arity in [0u32, 1, u32::MAX] {
            let s = m(arity, 4 * d, &mut out, d);
            assert!(
                s == ZKA_ERR_INVALID_ARGUMENT || s == ZKA_ERR_LENGTH_MISMATCH,
                "arity {arity}: {s} {}",
                rt.message()
            );
        }
        assert_eq!(m(2, 3 * d, &mut out, d), ZKA_ERR_LENGTH_MISMATCH);
        assert_eq!(m(2, 4 * d, &mut out, 2 * d), ZKA_ERR_LENGTH_MISMATCH);
        assert_eq!(
            m(2, 0, &mut out, d),
            ZKA_ERR_LENGTH_MISMATCH,
            "no leaves: {}",
            rt.message()
        );
        let mut valid = 9u32;
        let zero = vec![0u64; 4 * d];
        let sib = vec![0u64; 4 * 8 * d];
        for (arity, index, n_sib) in [
            (2u32, usize::MAX, 2 * d),
            (0, 0, 0),
            (1, 0, 0),
            (2, 0, 1),
            (u32::MAX, 0, 8 * d),
        ] {
            let s = zka_merkle_verify(
                rt.0,
                inst,
                arity,
                ZKA_ENCODING_CANONICAL,
                zero.as_ptr().cast(),
                index,
                sib.as_ptr().cast(),
                n_sib,
                zero.as_ptr().cast(),
                &mut valid,
            );
            assert!(
                s == ZKA_OK && valid == 0 || s < 0 && s != ZKA_ERR_INTERNAL,
                "verify arity {arity} index {index} siblings {n_sib}: {s} {}",
                rt.message()
            );
        }
        // Last error: zero-length and one-byte buffers, NULL buffer with a length.
        let mut needed = 0usize;
        assert_eq!(
            zka_last_error(rt.0, std::ptr::null_mut(), 0, &mut needed),
            ZKA_ERR_BUFFER_TOO_SMALL
        );
        assert!(needed > 1);
        let mut one = [b'#' as std::ffi::c_char; 1];
        assert_eq!(
            zka_last_error(rt.0, one.as_mut_ptr(), 1, std::ptr::null_mut()),
            ZKA_ERR_BUFFER_TOO_SMALL
        );
        assert_eq!(one[0], 0);
        assert_eq!(
            zka_last_error(rt.0, std::ptr::null_mut(), 5, std::ptr::null_mut()),
            ZKA_ERR_NULL_POINTER
        );
        assert_eq!(
            zka_last_error(std::ptr::null(), one.as_mut_ptr(), 1, std::ptr::null_mut()),
            ZKA_ERR_NULL_POINTER
        );
        // Devices: index out of range, struct_size too small, unknown ids.
        let mut info: zka_device_info = std::mem::zeroed();
        info.struct_size = size_of::<zka_device_info>() as u32;
        assert_eq!(
            zka_device_get_info(rt.0, usize::MAX, &mut info),
            ZKA_ERR_INVALID_ARGUMENT
        );
        info.struct_size -= 1;
        assert_eq!(zka_device_get_info(rt.0, 0, &mut info), ZKA_ERR_STRUCT_SIZE);
        let mut yes = 9u32;
        assert_eq!(
            zka_device_supports_msm(rt.0, 0, ZKA_CURVE_BLS12_377, ZKA_G2, 1, &mut yes),
            ZKA_ERR_UNKNOWN_ID
        );
        assert_eq!(
            zka_device_supports_ntt(rt.0, 0, ZKA_FIELD_BN254_FR, u32::MAX, &mut yes),
            ZKA_OK
        );
        assert_eq!(yes, 0);
        let mut st: zka_stats = std::mem::zeroed();
        assert_eq!(zka_runtime_stats(rt.0, &mut st), ZKA_ERR_STRUCT_SIZE);
        // Runtime options: unknown policy and kind, too small, absurd thread counts.
        let o = |policy: u32, kind: u32, threads: u32, size: u32| zka_runtime_options {
            struct_size: size,
            policy,
            device_kind: kind,
            cpu_threads: threads,
            point_validation: 0,
        };
        let full = size_of::<zka_runtime_options>() as u32;
        let mut r2 = std::ptr::dangling_mut::<zka_runtime>();
        for (opts, want) in [
            (o(9, 0, 1, full), ZKA_ERR_UNKNOWN_ID),
            (o(ZKA_POLICY_ONLY, 9, 1, full), ZKA_ERR_UNKNOWN_ID),
            (
                o(ZKA_POLICY_ONLY, ZKA_DEVICE_CPU, 1, full - 1),
                ZKA_ERR_STRUCT_SIZE,
            ),
            (
                o(ZKA_POLICY_ONLY, ZKA_DEVICE_CPU, u32::MAX, full),
                ZKA_ERR_INVALID_ARGUMENT,
            ),
        ] {
            assert_eq!(zka_runtime_create(&opts, &mut r2), want, "{opts:?}");
            assert!(r2.is_null());
        }
        assert_eq!(
            zka_runtime_create(std::ptr::null(), std::ptr::null_mut()),
            ZKA_ERR_NULL_POINTER
        );
    }
}
