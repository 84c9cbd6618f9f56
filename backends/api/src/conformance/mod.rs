//! The conformance suite (feature `conformance`): one set of tests that every backend runs,
//! each checked against an independent reference.
//!
//! # What is checked
//!
//! - **MSM**, for every (curve, group) (BN254 G1/G2, BLS12-381 G1/G2, BLS12-377 G1), against
//!   arkworks 0.5 (`VariableBaseMSM::msm`) and, for small inputs, a naive `Σ sᵢ·Pᵢ` computed
//!   with arkworks' scalar multiplication: random inputs of many sizes (0, 1, 2, 3, 7, 100,
//!   1003, and 4096 for G1), zero and extreme scalars (`r − 1`, powers of two), points at
//!   infinity mixed in, `P` with `−P`, repeated points, canonical scalars and bases, arkworks'
//!   own layout read in place, strided layouts with padding, and prepared bases. Plus the
//!   BN254 known answer `MSM([1,2,3,4], [G,2G,3G,4G]) = 30G` against literal coordinates.
//! - **NTT**, for the three pairing scalar fields (against ark-poly's
//!   `Radix2EvaluationDomain`) and Goldilocks and BabyBear (against Plonky3's `Radix2Dit`),
//!   plus an O(n²) naive DFT: the root-of-unity convention, sizes `2^0..2^12` and `2^16`,
//!   forward and inverse, every (input, output) order, cosets, round trips, batches in both
//!   layouts, caller-given roots, and one domain shared by several threads.
//! - **Hashing**, for every instance in [`crate::hash::HashId::ALL`] the backend declares,
//!   against the reference permutations and modes of [`crate::hash`]: `Permute` on batches
//!   of 0, 1, 7, 16 and 131 random states (all-zero and all-`−1` states mixed in); `Hash` on
//!   random messages (circomlib: `t − 1` elements; Poseidon2: 0, 1, rate − 1, rate,
//!   rate + 1 and 3·rate + 2 elements) one at a time, 70 at a time and as an empty batch;
//!   `Compress` for every supported Merkle arity; Merkle roots built from `Compress` layers
//!   (`k^0`, `k^1` and about `2^10` leaves) against the naive recursive root, with a path
//!   checked. Plus published known answers: circomlib `poseidon([1])`, `([1, 2])`,
//!   `([1, 2, 3, 4])`, the HorizenLabs (`zkhash`) and Plonky3 0.8 permutation test vectors.
//!
//! Each check is a generic function taking `&dyn Backend` (and the curve or field as a type
//! parameter) that panics with a message naming the backend, the case, the size and the
//! random seed when the backend disagrees with the reference.
//!
//! # Instantiating the suite
//!
//! ```ignore
//! zkaccel_backend::conformance_suite!(cpu, zkaccel_cpu::CpuBackend::new());
//! ```
//!
//! expands to `mod cpu { ... }` with one `#[test]` per (case, curve or field), named
//! `cpu::msm_bn254_g1_random`, `cpu::ntt_goldilocks_orders`, `cpu::msm_known_answer_bn254`,
//! and so on. Hashing tests are one per (instance family and field, operation), each running
//! every instance of the group: `cpu::hash_poseidon_circom_bn254_permute`,
//! `cpu::hash_poseidon2_plonky3_babybear_merkle`, `cpu::hash_known_answers`. The second
//! argument is evaluated afresh in every test and may be anything that implements
//! [`BackendSource`]: a backend, an `Arc` of one, an `Option` of an `Arc` (`None`: no
//! device), or a `Result` of an `Arc` (`Err(reason)`: no device, and why).
//!
//! # Skipping
//!
//! A backend whose device is absent makes every test print a loud
//! `SKIPPED: <backend> not available: <reason>` line to stderr and pass, unless the
//! environment variable `ZKACCEL_REQUIRE` (a comma-separated list such as
//! `cpu,opencl,cuda,fpga-sim,nvrtc`, or `all`) names the backend: then absence is a failure
//! ([`require_or_skip`]). A (curve, group), field, hash instance or size that the backend
//! does not list in its [`crate::Capabilities`] is skipped with a `SKIPPED:` line as well:
//! the backend said so honestly, so this is never a failure (set `ZKACCEL_REQUIRE_CAPS=1` to
//! make it one).
//! An operation the backend *does* list but then answers with an error is always a failure.
//!
//! Random inputs come from a ChaCha generator seeded from the test's name; set
//! `ZKACCEL_SEED=<u64>` to vary them.

mod hash;
mod msm;
mod ntt;
mod refs;

pub use hash::*;
pub use msm::*;
pub use ntt::*;
pub use refs::{RefCurve, RefNttField};

use crate::backend::Backend;
use rand::{RngCore, SeedableRng};
use std::fmt::Display;
use std::sync::Arc;

#[doc(hidden)]
pub mod __private {
    pub use paste::paste;
}

/// The environment variable listing the backends whose absence fails the suite.
pub const REQUIRE_ENV: &str = "ZKACCEL_REQUIRE";
/// The environment variable that, when set to a non-empty value other than `0`, turns a
/// capability a backend does not declare into a failure instead of a skip.
pub const REQUIRE_CAPS_ENV: &str = "ZKACCEL_REQUIRE_CAPS";
/// The environment variable that changes the random inputs (a `u64`, decimal or `0x` hex).
pub const SEED_ENV: &str = "ZKACCEL_SEED";

/// What [`conformance_suite!`](crate::conformance_suite) accepts as its backend expression.
pub trait BackendSource {
    /// The backend, or why there is none.
    fn into_backend(self) -> Result<Arc<dyn Backend>, String>;
}

impl<T: Backend> BackendSource for T {
    fn into_backend(self) -> Result<Arc<dyn Backend>, String> {
        Ok(Arc::new(self))
    }
}
impl BackendSource for Arc<dyn Backend> {
    fn into_backend(self) -> Result<Arc<dyn Backend>, String> {
        Ok(self)
    }
}
impl<T: Backend> BackendSource for Arc<T> {
    fn into_backend(self) -> Result<Arc<dyn Backend>, String> {
        Ok(self)
    }
}
impl<B: BackendSource> BackendSource for Option<B> {
    fn into_backend(self) -> Result<Arc<dyn Backend>, String> {
        match self {
            Some(b) => b.into_backend(),
            None => Err("no device found".to_string()),
        }
    }
}
impl<B: BackendSource, E: Display> BackendSource for Result<B, E> {
    fn into_backend(self) -> Result<Arc<dyn Backend>, String> {
        match self {
            Ok(b) => b.into_backend(),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn normalize(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

/// True when `ZKACCEL_REQUIRE` names the backend `name` (or says `all`); `-` and `_` are
/// interchangeable, case is ignored.
pub fn is_required(name: &str) -> bool {
    let want = normalize(name);
    std::env::var(REQUIRE_ENV)
        .map(|list| {
            list.split(',')
                .map(normalize)
                .any(|n| n == want || n == "all")
        })
        .unwrap_or(false)
}

/// The backend to test, or `None` after a loud `SKIPPED:` line on stderr when it is not
/// available. Panics instead when `ZKACCEL_REQUIRE` names `name`.
pub fn require_or_skip(name: &str, source: impl BackendSource) -> Option<Arc<dyn Backend>> {
    match source.into_backend() {
        Ok(b) => Some(b),
        Err(reason) => {
            if is_required(name) {
                panic!(
                    "backend '{name}' is required ({REQUIRE_ENV}={}) but not available: {reason}",
                    std::env::var(REQUIRE_ENV).unwrap_or_default()
                );
            }
            loud(format_args!(
                "SKIPPED: {name} not available: {reason} (set {REQUIRE_ENV}={name} to fail instead)"
            ));
            None
        }
    }
}

/// Writes a line straight to the process's stderr, past the test harness's output capture
/// (which only intercepts `print!`/`eprint!`), so that skips are visible in a normal
/// `cargo test` run.
pub fn loud(line: impl Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn caps_required() -> bool {
    std::env::var(REQUIRE_CAPS_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The state of one running case: the backend, a label for messages, the random source.
pub(crate) struct Ctx<'a> {
    pub b: &'a dyn Backend,
    label: String,
    rng: rand_chacha::ChaCha8Rng,
}

impl<'a> Ctx<'a> {
    pub fn new(b: &'a dyn Backend, what: impl Display) -> Self {
        let what = what.to_string();
        // FNV-1a of the case name, so that every case has its own reproducible inputs.
        let mut seed = 0xcbf2_9ce4_8422_2325u64;
        for byte in what.bytes() {
            seed = (seed ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
        }
        if let Ok(s) = std::env::var(SEED_ENV) {
            let s = s.trim();
            let v = match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            seed ^= v.unwrap_or_else(|_| panic!("{SEED_ENV}={s} is not a u64"));
        }
        let info = b.info();
        Self {
            b,
            label: format!(
                "[{} backend '{}'] {what} (seed {seed:#x})",
                info.kind, info.name
            ),
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// A random `u64`.
    pub fn u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// A random index below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.u64() % n as u64) as usize
    }

    /// Fails the case.
    #[track_caller]
    pub fn fail(&self, msg: impl Display) -> ! {
        panic!("{}: {msg}", self.label)
    }

    /// Runs a call into the backend, turning a panic inside it into a failure that names
    /// the case (a backend must report errors, not panic).
    #[track_caller]
    pub fn guard<T>(&self, case: &str, f: impl FnOnce() -> T) -> T {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(v) => v,
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".into());
                self.fail(format_args!("{case}: the backend panicked: {msg}"))
            }
        }
    }

    /// Reports something the backend does not declare: a loud skip, or a failure under
    /// `ZKACCEL_REQUIRE_CAPS`.
    #[track_caller]
    pub fn skip(&self, msg: impl Display) {
        if caps_required() {
            self.fail(format_args!(
                "not in the backend's capabilities ({REQUIRE_CAPS_ENV} is set): {msg}"
            ));
        }
        loud(format_args!("SKIPPED: {}: {msg}", self.label));
    }
}

/// Checks that the capabilities a backend declares are coherent: known ids, no duplicates,
/// non-zero MSM lengths, NTT sizes within the fields' two-adicity, hash instances listed
/// once.
pub fn capabilities_are_coherent(b: &dyn Backend) {
    let cx = Ctx::new(b, "capabilities");
    let caps = b.capabilities();
    for (i, m) in caps.msm.iter().enumerate() {
        if !m.id.is_known() {
            cx.fail(format_args!("MSM capability for unknown group {}", m.id));
        }
        if caps.msm[..i].iter().any(|o| o.id == m.id) {
            cx.fail(format_args!("MSM capability for {} listed twice", m.id));
        }
        if m.max_len == 0 {
            cx.fail(format_args!("MSM capability for {} with max_len 0", m.id));
        }
    }
    for (i, n) in caps.ntt.iter().enumerate() {
        let adicity = crate::with_ntt_field!(
            n.field,
            |F| <F as crate::field::TwoAdicField>::TWO_ADICITY,
            cx.fail(format_args!("NTT capability for non-NTT field {}", n.field))
        );
        if caps.ntt[..i].iter().any(|o| o.field == n.field) {
            cx.fail(format_args!("NTT capability for {} listed twice", n.field));
        }
        if n.max_log_n > adicity {
            cx.fail(format_args!(
                "NTT capability for {} claims 2^{} beyond the two-adicity {adicity}",
                n.field, n.max_log_n
            ));
        }
    }
    for (i, h) in caps.hash.iter().enumerate() {
        if caps.hash[..i].contains(h) {
            cx.fail(format_args!("hash capability for {h} listed twice"));
        }
    }
    if caps.msm.is_empty() && caps.ntt.is_empty() && caps.hash.is_empty() {
        cx.skip("the backend declares no MSM, NTT or hash capability");
    }
}

/// Instantiates the whole conformance suite for one backend.
///
/// `conformance_suite!(name, backend_expr)` expands to `mod name { ... }` with one `#[test]`
/// per (case, curve or field): `name::msm_bn254_g1_random`, `name::ntt_babybear_coset`, …,
/// and one per (hash family and field, operation): `name::hash_poseidon_circom_bn254_hash`,
/// `name::hash_poseidon2_horizen_goldilocks_compress`, ….
/// `backend_expr` is evaluated in each test and may be any [`BackendSource`]
/// (`CpuBackend::new()`, `Option<Arc<dyn Backend>>`, `Result<Arc<T>, E>`, …); when it yields
/// no backend, the tests skip loudly unless `ZKACCEL_REQUIRE` names `name`
/// ([`require_or_skip`]). Requires the `conformance` feature of `zkaccel-backend`.
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, $make_backend:expr $(,)?) => {
        #[allow(unused_imports)]
        mod $name {
            use super::*;

            fn __backend() -> ::core::option::Option<::std::sync::Arc<dyn $crate::Backend>> {
                $crate::conformance::require_or_skip(::core::stringify!($name), $make_backend)
            }

            #[test]
            fn capabilities() {
                if let ::core::option::Option::Some(b) = __backend() {
                    $crate::conformance::capabilities_are_coherent(&*b);
                }
            }
            #[test]
            fn msm_known_answer_bn254() {
                if let ::core::option::Option::Some(b) = __backend() {
                    $crate::conformance::msm_known_answer_bn254(&*b);
                }
            }
            #[test]
            fn ntt_known_answer_bn254_root() {
                if let ::core::option::Option::Some(b) = __backend() {
                    $crate::conformance::ntt_known_answer_bn254_root(&*b);
                }
            }
            #[test]
            fn ntt_large_sizes() {
                if let ::core::option::Option::Some(b) = __backend() {
                    $crate::conformance::ntt_large_sizes(&*b);
                }
            }
            #[test]
            fn ntt_wide_interleaved() {
                if let ::core::option::Option::Some(b) = __backend() {
                    $crate::conformance::ntt_wide_interleaved(&*b);
                }
            }
            #[test]
            fn hash_known_answers() {
                if let ::core::option::Option::Some(b) = __backend() {
                    $crate::conformance::hash_known_answers(&*b);
                }
            }

            $crate::__conformance_msm!(__backend, bn254_g1, $crate::curves::Bn254G1);
            $crate::__conformance_msm!(__backend, bn254_g2, $crate::curves::Bn254G2);
            $crate::__conformance_msm!(__backend, bls12_381_g1, $crate::curves::Bls12_381G1);
            $crate::__conformance_msm!(__backend, bls12_381_g2, $crate::curves::Bls12_381G2);
            $crate::__conformance_msm!(__backend, bls12_377_g1, $crate::curves::Bls12_377G1);

            $crate::__conformance_ntt!(__backend, bn254_fr, $crate::curves::Bn254Fr);
            $crate::__conformance_ntt!(__backend, bls12_381_fr, $crate::curves::Bls12_381Fr);
            $crate::__conformance_ntt!(__backend, bls12_377_fr, $crate::curves::Bls12_377Fr);
            $crate::__conformance_ntt!(__backend, goldilocks, $crate::field::Goldilocks);
            $crate::__conformance_ntt!(__backend, babybear, $crate::field::BabyBear);

            $crate::__conformance_hash!(
                __backend,
                poseidon_circom_bn254,
                PoseidonCircom,
                $crate::curves::Bn254Fr
            );
            $crate::__conformance_hash!(
                __backend,
                poseidon2_horizen_bn254,
                Poseidon2Horizen,
                $crate::curves::Bn254Fr
            );
            $crate::__conformance_hash!(
                __backend,
                poseidon2_horizen_goldilocks,
                Poseidon2Horizen,
                $crate::field::Goldilocks
            );
            $crate::__conformance_hash!(
                __backend,
                poseidon2_horizen_babybear,
                Poseidon2Horizen,
                $crate::field::BabyBear
            );
            $crate::__conformance_hash!(
                __backend,
                poseidon2_plonky3_goldilocks,
                Poseidon2Plonky3,
                $crate::field::Goldilocks
            );
            $crate::__conformance_hash!(
                __backend,
                poseidon2_plonky3_babybear,
                Poseidon2Plonky3,
                $crate::field::BabyBear
            );
        }
    };
}

/// One generated test: `fn $test` calling `conformance::$func::<$T>` on the backend.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_case {
    ($backend:ident, $test:ident, $func:ident, $T:ty) => {
        #[test]
        fn $test() {
            if let ::core::option::Option::Some(b) = $backend() {
                $crate::conformance::$func::<$T>(&*b);
            }
        }
    };
}

/// The MSM cases for one (curve, group).
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_msm {
    ($backend:ident, $tag:ident, $C:ty) => {
        $crate::conformance::__private::paste! {
            $crate::__conformance_case!($backend, [<msm_ $tag _random>], msm_random, $C);
            $crate::__conformance_case!($backend, [<msm_ $tag _naive>], msm_naive, $C);
            $crate::__conformance_case!($backend, [<msm_ $tag _zero_scalars>], msm_zero_scalars, $C);
            $crate::__conformance_case!($backend, [<msm_ $tag _edge_scalars>], msm_edge_scalars, $C);
            $crate::__conformance_case!($backend, [<msm_ $tag _infinity_bases>], msm_infinity_bases, $C);
            $crate::__conformance_case!($backend, [<msm_ $tag _negated_points>], msm_negated_points, $C);
            $crate::__conformance_case!($backend, [<msm_ $tag _repeated_points>], msm_repeated_points, $C);
            $crate::__conformance_case!($backend, [<msm_ $tag _canonical_scalars>], msm_canonical_scalars, $C);
            $crate::__conformance_case!($backend, [<msm_ $tag _canonical_bases>], msm_canonical_bases, $C);
            $crate::__conformance_case!($backend, [<msm_ $tag _ark_layout>], msm_ark_layout, $C);
            $crate::__conformance_case!($backend, [<msm_ $tag _strided>], msm_strided, $C);
            $crate::__conformance_case!($backend, [<msm_ $tag _prepared>], msm_prepared, $C);
        }
    };
}

/// The NTT cases for one field.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_ntt {
    ($backend:ident, $tag:ident, $F:ty) => {
        $crate::conformance::__private::paste! {
            $crate::__conformance_case!($backend, [<ntt_ $tag _roots>], ntt_roots, $F);
            $crate::__conformance_case!($backend, [<ntt_ $tag _forward>], ntt_forward, $F);
            $crate::__conformance_case!($backend, [<ntt_ $tag _inverse>], ntt_inverse, $F);
            $crate::__conformance_case!($backend, [<ntt_ $tag _naive>], ntt_naive, $F);
            $crate::__conformance_case!($backend, [<ntt_ $tag _orders>], ntt_orders, $F);
            $crate::__conformance_case!($backend, [<ntt_ $tag _coset>], ntt_coset, $F);
            $crate::__conformance_case!($backend, [<ntt_ $tag _roundtrip>], ntt_roundtrip, $F);
            $crate::__conformance_case!($backend, [<ntt_ $tag _batch>], ntt_batch, $F);
            $crate::__conformance_case!($backend, [<ntt_ $tag _custom_root>], ntt_custom_root, $F);
            $crate::__conformance_case!($backend, [<ntt_ $tag _threads>], ntt_threads, $F);
        }
    };
}

/// The hashing cases for one (family, field) group: every instance of `$fam` over `$F`.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_hash {
    ($backend:ident, $tag:ident, $fam:ident, $F:ty) => {
        $crate::conformance::__private::paste! {
            $crate::__conformance_hash_case!($backend, [<hash_ $tag _permute>], hash_permute, $F, $fam);
            $crate::__conformance_hash_case!($backend, [<hash_ $tag _hash>], hash_hash, $F, $fam);
            $crate::__conformance_hash_case!($backend, [<hash_ $tag _compress>], hash_compress, $F, $fam);
            $crate::__conformance_hash_case!($backend, [<hash_ $tag _merkle>], hash_merkle, $F, $fam);
        }
    };
}

/// One generated hashing test: `fn $test` calling `conformance::$func::<$F>(backend, $fam)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_hash_case {
    ($backend:ident, $test:ident, $func:ident, $F:ty, $fam:ident) => {
        #[test]
        fn $test() {
            if let ::core::option::Option::Some(b) = $backend() {
                $crate::conformance::$func::<$F>(&*b, $crate::hash::HashFamily::$fam);
            }
        }
    };
}
