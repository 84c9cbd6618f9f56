//! # libzkaccel — the stable C ABI of zkaccel
//!
//! This crate builds `libzkaccel.so` (SONAME `libzkaccel.so.<ABI>`) and `libzkaccel.a`, and
//! its declarations generate `include/zkaccel.h` through cbindgen (checked in; a test fails
//! when they drift apart).
//!
//! Conventions, which the header repeats:
//! - one prefix, `zka_`; every function returns an `int32_t` status: `ZKA_OK` (0) or a
//!   stable negative `ZKA_ERR_*` code, never errno; `zka_status_str` names a code, and
//!   `zka_last_error` gives the runtime's message for its most recent failure (which
//!   argument, which index);
//! - opaque handles with create/destroy pairs; destroy accepts NULL; no global mutable
//!   state, no thread-local current device: every function may be called from many threads
//!   on one runtime, and handles keep their runtime alive (destroy in any order);
//! - descriptor structs start with `struct_size`, so later versions can add fields; the
//!   `ZKA_*_INIT` macros fill it and the defaults; structs hold no `bool`;
//! - every array says how its elements are encoded (Montgomery or canonical, little-endian
//!   64-bit limbs; Goldilocks one `uint64_t`, BabyBear one `uint32_t`) and, for points, how
//!   infinity is marked and the stride between points;
//! - no Rust panic crosses the boundary: each export is wrapped and a panic becomes
//!   `ZKA_ERR_INTERNAL` with a message, printed nowhere.

#![allow(non_camel_case_types)]

use std::cell::Cell;
use std::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, Once};
use zk::{
    CallOptions, CurveGroupId, CurveId, DeviceKind, Encoding, Error, FieldId, GroupId, Infinity,
    MsmOptions, NttConfig, PointValidation, Policy, RawMsmBases, RawNttDomain, RawPoint, RawPoints,
    RawScalars, Runtime, Verification,
};
use zk::{HashFamily, HashId, HashOp};
use zkaccel_backend::view::coordinate_bytes;

/// Expands `$body` with `$F` bound to the static type of a hash field id.
macro_rules! with_hash_field {
    ($field:expr, |$F:ident| $body:expr) => {
        match $field {
            FieldId::Bn254Fr => {
                type $F = zkaccel_backend::curves::Bn254Fr;
                $body
            }
            FieldId::Goldilocks => {
                type $F = zkaccel_backend::field::Goldilocks;
                $body
            }
            FieldId::BabyBear => {
                type $F = zkaccel_backend::field::BabyBear;
                $body
            }
            f => {
                return Err(fail(
                    ZKA_ERR_UNSUPPORTED,
                    format!("no hash instances over {f}"),
                ))
            }
        }
    };
}
use zkaccel_backend::{
    with_curve_group, with_prime_field, BatchLayout, CurveGroup, NttDirection, NttOrder,
    PrimeField, Projective,
};

#[doc(hidden)]
pub mod fuzzing;

// ---------------------------------------------------------------------------------------------
// Versions and status codes
// ---------------------------------------------------------------------------------------------

/// Major version of the library.
pub const ZKA_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const ZKA_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const ZKA_VERSION_PATCH: u32 = 0;
/// `MAJOR·1 000 000 + MINOR·1 000 + PATCH`.
pub const ZKA_VERSION_NUMBER: u32 = 1_000;
/// The ABI version: the SONAME is `libzkaccel.so.<ZKA_ABI_VERSION>`; a program built
/// against a header with another ABI version must not use this library.
pub const ZKA_ABI_VERSION: u32 = 1;

/// Success.
pub const ZKA_OK: i32 = 0;
/// A required pointer argument was NULL.
pub const ZKA_ERR_NULL_POINTER: i32 = -1;
/// An argument is out of range or inconsistent (the message says which).
pub const ZKA_ERR_INVALID_ARGUMENT: i32 = -2;
/// An unknown curve, group, field, policy, device kind or enum value.
pub const ZKA_ERR_UNKNOWN_ID: i32 = -3;
/// A descriptor's `struct_size` is smaller than the oldest layout this library accepts.
pub const ZKA_ERR_STRUCT_SIZE: i32 = -4;
/// Array lengths disagree (bases and scalars, data and domain × batch).
pub const ZKA_ERR_LENGTH_MISMATCH: i32 = -5;
/// A value is not below its field's modulus.
pub const ZKA_ERR_NOT_REDUCED: i32 = -6;
/// A point is not on the curve (checked when validation asks for it).
pub const ZKA_ERR_NOT_ON_CURVE: i32 = -7;
/// A point is not in the prime-order subgroup (checked when validation asks for it).
pub const ZKA_ERR_NOT_IN_SUBGROUP: i32 = -8;
/// An NTT size that is not a power of two or exceeds the field's two-adicity.
pub const ZKA_ERR_NTT_SIZE: i32 = -9;
/// No device can run the call (operation, curve, field or size unsupported).
pub const ZKA_ERR_UNSUPPORTED: i32 = -10;
/// Every capable device failed; the message lists each failure.
pub const ZKA_ERR_BACKEND: i32 = -11;
/// An output buffer is too small.
pub const ZKA_ERR_BUFFER_TOO_SMALL: i32 = -12;
/// The header and the library disagree on the ABI version.
pub const ZKA_ERR_VERSION: i32 = -13;
/// A bug inside zkaccel (a caught panic); the message says where.
pub const ZKA_ERR_INTERNAL: i32 = -14;
/// A device's result failed result verification and the runtime is set to report that
/// rather than rerun the call (see `ZKACCEL_VERIFY` in the README).
pub const ZKA_ERR_VERIFICATION: i32 = -15;
/// The call's time limit passed before a device produced a result.
pub const ZKA_ERR_TIMEOUT: i32 = -16;

/// Routing: accelerators for large inputs, the CPU for small ones, everything as fallback.
pub const ZKA_POLICY_AUTO: u32 = 0;
/// Routing: the device kind in `device_kind` first, then the others.
pub const ZKA_POLICY_PREFER: u32 = 1;
/// Routing: only the device kind in `device_kind`.
pub const ZKA_POLICY_ONLY: u32 = 2;

/// Device kind: the host CPU.
pub const ZKA_DEVICE_CPU: u32 = 0;
/// Device kind: CUDA GPU.
pub const ZKA_DEVICE_CUDA: u32 = 1;
/// Device kind: OpenCL device.
pub const ZKA_DEVICE_OPENCL: u32 = 2;
/// Device kind: FPGA (or its simulation).
pub const ZKA_DEVICE_FPGA: u32 = 3;
/// Device kind: third-party plugin.
pub const ZKA_DEVICE_PLUGIN: u32 = 4;

/// Curve id: BN254.
pub const ZKA_CURVE_BN254: u32 = 1;
/// Curve id: BLS12-381.
pub const ZKA_CURVE_BLS12_381: u32 = 2;
/// Curve id: BLS12-377.
pub const ZKA_CURVE_BLS12_377: u32 = 3;
/// Group id: G1.
pub const ZKA_G1: u32 = 1;
/// Group id: G2 (BN254 and BLS12-381).
pub const ZKA_G2: u32 = 2;

/// Field id: BN254 scalar field (4 limbs).
pub const ZKA_FIELD_BN254_FR: u32 = 1;
/// Field id: BLS12-381 scalar field (4 limbs).
pub const ZKA_FIELD_BLS12_381_FR: u32 = 2;
/// Field id: BLS12-377 scalar field (4 limbs).
pub const ZKA_FIELD_BLS12_377_FR: u32 = 3;
/// Field id: Goldilocks (one `uint64_t` per element).
pub const ZKA_FIELD_GOLDILOCKS: u32 = 4;
/// Field id: BabyBear (one `uint32_t` per element).
pub const ZKA_FIELD_BABYBEAR: u32 = 5;
/// Field id: BN254 base field (4 limbs).
pub const ZKA_FIELD_BN254_FQ: u32 = 6;
/// Field id: BLS12-381 base field (6 limbs).
pub const ZKA_FIELD_BLS12_381_FQ: u32 = 7;
/// Field id: BLS12-377 base field (6 limbs).
pub const ZKA_FIELD_BLS12_377_FQ: u32 = 8;

/// Encoding: Montgomery form `x·R mod p` (`R = 2^(64·limbs)`; Goldilocks `2^64`; BabyBear
/// `2^32`), as arkworks, gnark-crypto and halo2curves keep elements in memory.
pub const ZKA_ENCODING_MONTGOMERY: u32 = 0;
/// Encoding: the canonical integer in `[0, p)`.
pub const ZKA_ENCODING_CANONICAL: u32 = 1;

/// Infinity marking: both coordinates zero (gnark-crypto, halo2curves, blst affine).
pub const ZKA_INFINITY_ZERO: u32 = 0;
/// Infinity marking: a byte at `flag_offset` within each point, non-zero for infinity
/// (arkworks' `infinity: bool`).
pub const ZKA_INFINITY_FLAG: u32 = 1;

/// Point validation: the runtime's default.
pub const ZKA_VALIDATE_DEFAULT: u32 = 0;
/// Point validation: coordinates below the modulus only.
pub const ZKA_VALIDATE_REDUCED: u32 = 1;
/// Point validation: also on the curve.
pub const ZKA_VALIDATE_ON_CURVE: u32 = 2;
/// Point validation: also in the prime-order subgroup.
pub const ZKA_VALIDATE_SUBGROUP: u32 = 3;

/// Result verification of a call: the runtime's default (`ZKACCEL_VERIFY`, else off).
pub const ZKA_VERIFY_DEFAULT: u32 = 0;
/// No result verification for this call.
pub const ZKA_VERIFY_OFF: u32 = 1;
/// Sampled verification: the randomized NTT check on one column, a sample of hashed items,
/// MSM results on the curve and in the subgroup plus a CPU cross-check of 1 call in 16.
pub const ZKA_VERIFY_SAMPLED: u32 = 2;
/// Full verification: every NTT column, every hashed item, every MSM cross-checked.
pub const ZKA_VERIFY_FULL: u32 = 3;

/// Output form: affine `(x, y)`; infinity is `(0, 0)` with `is_infinity = 1`.
pub const ZKA_FORM_AFFINE: u32 = 0;
/// Output form: Jacobian `(X, Y, Z)`, `x = X/Z²`, `y = Y/Z³`; infinity has `Z = 0`.
pub const ZKA_FORM_JACOBIAN: u32 = 1;

/// NTT direction: forward.
pub const ZKA_NTT_FORWARD: u32 = 0;
/// NTT direction: inverse (scaled by 1/n).
pub const ZKA_NTT_INVERSE: u32 = 1;
/// NTT order: natural.
pub const ZKA_ORDER_NATURAL: u32 = 0;
/// NTT order: bit-reversed.
pub const ZKA_ORDER_BIT_REVERSED: u32 = 1;
/// Batch layout: column `c` is elements `[c·n, (c+1)·n)`.
pub const ZKA_LAYOUT_CONTIGUOUS: u32 = 0;
/// Batch layout: row-major `n × batch` matrix (element `i` of column `c` at `i·batch + c`).
pub const ZKA_LAYOUT_INTERLEAVED: u32 = 1;

/// Hash operation: permute each `width`-element state of `output` in place (`input` NULL, 0).
pub const ZKA_HASH_PERMUTE: u32 = 0;
/// Hash operation: hash each message of `param` elements of `input` into `digest` elements.
pub const ZKA_HASH_MESSAGES: u32 = 1;
/// Hash operation: compress each `param` (the arity) digests of `input` into one (a Merkle
/// layer).
pub const ZKA_HASH_COMPRESS: u32 = 2;

/// Hash family: circomlib's Poseidon over BN254.
pub const ZKA_HASH_FAMILY_POSEIDON_CIRCOM: u32 = 0;
/// Hash family: Poseidon2 with the HorizenLabs reference parameters.
pub const ZKA_HASH_FAMILY_POSEIDON2_HORIZEN: u32 = 1;
/// Hash family: Poseidon2 with Plonky3's default parameters.
pub const ZKA_HASH_FAMILY_POSEIDON2_PLONKY3: u32 = 2;

// ---------------------------------------------------------------------------------------------
// Descriptors
// ---------------------------------------------------------------------------------------------

/// Options for `zka_runtime_create`. Initialise with `ZKA_RUNTIME_OPTIONS_INIT`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zka_runtime_options {
    /// `sizeof(zka_runtime_options)`.
    pub struct_size: u32,
    /// `ZKA_POLICY_*`.
    pub policy: u32,
    /// `ZKA_DEVICE_*`, used by `ZKA_POLICY_PREFER` and `ZKA_POLICY_ONLY`.
    pub device_kind: u32,
    /// CPU worker threads; 0 = all cores.
    pub cpu_threads: u32,
    /// Default point validation for MSM bases (`ZKA_VALIDATE_*`).
    pub point_validation: u32,
}

/// A borrowed array of affine points. Initialise with `ZKA_POINTS_INIT`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zka_points {
    /// `sizeof(zka_points)`.
    pub struct_size: u32,
    /// `ZKA_CURVE_*`.
    pub curve: u32,
    /// `ZKA_G1` or `ZKA_G2`.
    pub group: u32,
    /// `ZKA_ENCODING_*` of the coordinates.
    pub encoding: u32,
    /// `ZKA_INFINITY_*`.
    pub infinity: u32,
    /// Byte offset of the infinity flag within a point (`ZKA_INFINITY_FLAG` only).
    pub flag_offset: u32,
    /// Bytes from one point to the next; 0 means packed (`2 ×` coordinate size).
    pub stride: usize,
    /// Number of points.
    pub count: usize,
    /// The first point: `x` then `y` (each `c0` then `c1` for G2), little-endian limbs.
    pub data: *const c_void,
}

/// A borrowed array of scalars, four little-endian `uint64_t` limbs each. Initialise with
/// `ZKA_SCALARS_INIT`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zka_scalars {
    /// `sizeof(zka_scalars)`.
    pub struct_size: u32,
    /// `ZKA_ENCODING_*`.
    pub encoding: u32,
    /// Number of scalars.
    pub count: usize,
    /// `4 × count` limbs, 8-byte aligned.
    pub data: *const u64,
}

/// Where an MSM result goes. Initialise with `ZKA_POINT_OUT_INIT`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zka_point_out {
    /// `sizeof(zka_point_out)`.
    pub struct_size: u32,
    /// `ZKA_FORM_AFFINE` or `ZKA_FORM_JACOBIAN`.
    pub form: u32,
    /// `ZKA_ENCODING_*` of the written coordinates.
    pub encoding: u32,
    /// Written: 1 when the result is the point at infinity, else 0.
    pub is_infinity: u32,
    /// Caller's buffer for the coordinates (little-endian limbs).
    pub limbs: *mut u64,
    /// Capacity of `limbs`; affine needs `2 × coordinate limbs`, Jacobian `3 ×`
    /// (coordinate limbs: 4 for BN254 G1, 6 for BLS12 G1, 8 for BN254 G2, 12 for BLS12-381 G2).
    pub capacity: usize,
    /// Written: limbs used.
    pub written: usize,
}

/// Options for one MSM. Initialise with `ZKA_MSM_OPTIONS_INIT`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zka_msm_options {
    /// `sizeof(zka_msm_options)`.
    pub struct_size: u32,
    /// `ZKA_VALIDATE_*` for the bases.
    pub point_validation: u32,
    /// `ZKA_VERIFY_*` for the result. This field and the next came after the first
    /// version of this struct; a `struct_size` that does not cover them leaves them at 0.
    pub verification: u32,
    /// Time limit of the call in milliseconds (0: the runtime's, by default none). The
    /// limit is cooperative: no device is tried after it, and a call past it returns
    /// `ZKA_ERR_TIMEOUT`.
    pub timeout_ms: u32,
}

/// Where a call ran. Initialise with `ZKA_CALL_REPORT_INIT`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zka_call_report {
    /// `sizeof(zka_call_report)`.
    pub struct_size: u32,
    /// Written: registry index of the device that produced the result.
    pub device_index: u32,
    /// Written: its `ZKA_DEVICE_*` kind.
    pub device_kind: u32,
    /// Written: devices that failed before it.
    pub fallbacks: u32,
}

/// How an NTT runs. Initialise with `ZKA_NTT_CONFIG_INIT`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zka_ntt_config {
    /// `sizeof(zka_ntt_config)`.
    pub struct_size: u32,
    /// `ZKA_NTT_FORWARD` or `ZKA_NTT_INVERSE`.
    pub direction: u32,
    /// `ZKA_ORDER_*` of the input.
    pub input_order: u32,
    /// `ZKA_ORDER_*` of the output.
    pub output_order: u32,
    /// `ZKA_ENCODING_*` of the data (input and output).
    pub encoding: u32,
    /// `ZKA_LAYOUT_*` of the columns.
    pub layout: u32,
    /// Number of columns (at least 1).
    pub batch: u32,
    /// 1 to evaluate on (interpolate from) the coset `shift·H`, else 0.
    pub has_coset: u32,
    /// The coset shift, canonical, little-endian limbs, zero-padded.
    pub coset_shift: [u64; 4],
    /// `ZKA_VERIFY_*` for the result. This field and the next came after the first
    /// version of this struct; a `struct_size` that does not cover them leaves them at 0.
    pub verification: u32,
    /// Time limit of the call in milliseconds (0: the runtime's, by default none); as in
    /// `zka_msm_options`.
    pub timeout_ms: u32,
}

/// Facts about one device. Initialise `struct_size` before calling `zka_device_get_info`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zka_device_info {
    /// `sizeof(zka_device_info)`.
    pub struct_size: u32,
    /// Registry index.
    pub index: u32,
    /// `ZKA_DEVICE_*`.
    pub kind: u32,
    /// 1 for a simulated device (never reported as hardware).
    pub simulated: u32,
    /// Threads, SMs or compute units.
    pub compute_units: u32,
    /// 1 when MSM bases handles stay resident on the device.
    pub resident_bases: u32,
    /// Device (or host) memory in bytes.
    pub memory_bytes: u64,
    /// NUL-terminated name (truncated).
    pub name: [c_char; 128],
    /// NUL-terminated vendor (truncated).
    pub vendor: [c_char; 64],
    /// NUL-terminated driver/runtime version (truncated).
    pub driver: [c_char; 64],
}

/// Runtime counters. Initialise `struct_size` before calling `zka_runtime_stats`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zka_stats {
    /// `sizeof(zka_stats)`.
    pub struct_size: u32,
    /// Padding; written as 0.
    pub reserved: u32,
    /// MSM calls made.
    pub msm_calls: u64,
    /// NTT calls made.
    pub ntt_calls: u64,
    /// Times a call moved on to another device after one failed.
    pub fallbacks: u64,
    /// Calls that failed on every capable device.
    pub failed_calls: u64,
    /// Hashing calls made. This field and the ones after it came after the first version
    /// of this struct and are written only when `struct_size` covers them (a caller
    /// compiled against the first, shorter struct gets the fields it knows).
    pub hash_calls: u64,
    /// Device results checked by result verification (`ZKACCEL_VERIFY`).
    pub verified: u64,
    /// Device results that failed verification.
    pub verification_failures: u64,
    /// Calls that ran out of their time limit.
    pub timeouts: u64,
    /// MSM calls split by points across several devices.
    pub split_msm_calls: u64,
}

/// `sizeof(zka_stats)` as first published (through `failed_calls`): the smallest
/// `struct_size` `zka_runtime_stats` accepts.
const ZKA_STATS_V1_SIZE: usize = std::mem::offset_of!(zka_stats, hash_calls);

/// What a hash instance is. Initialise `struct_size` before calling `zka_hash_get_info`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zka_hash_info {
    /// `sizeof(zka_hash_info)`.
    pub struct_size: u32,
    /// The instance id (stable number, e.g. 103 = `poseidon-circom-bn254-t3`).
    pub instance: u32,
    /// `ZKA_HASH_FAMILY_*`.
    pub family: u32,
    /// `ZKA_FIELD_*` of the state.
    pub field: u32,
    /// Permutation width `t`.
    pub width: u32,
    /// Sponge rate (circomlib: the fixed input length `t − 1`).
    pub rate: u32,
    /// Elements per digest.
    pub digest: u32,
    /// Supported Merkle arities as a bit mask (bit `k` set: arity `k` supported).
    pub merkle_arities: u32,
    /// NUL-terminated instance name.
    pub name: [c_char; 48],
}

// ---------------------------------------------------------------------------------------------
// Handles
// ---------------------------------------------------------------------------------------------

struct Shared {
    rt: Runtime,
    last_error: Mutex<String>,
}

/// A runtime: devices, policy, counters, last error. Opaque.
pub struct zka_runtime {
    shared: Arc<Shared>,
}

/// MSM bases kept for many MSMs (an SRS). Opaque; keeps its runtime alive.
pub struct zka_msm_bases {
    shared: Arc<Shared>,
    bases: RawMsmBases,
}

/// An NTT domain (size, root, per-device twiddles). Opaque; keeps its runtime alive.
pub struct zka_ntt_domain {
    shared: Arc<Shared>,
    domain: RawNttDomain,
}

// ---------------------------------------------------------------------------------------------
// The guard: no panic crosses the boundary, every failure becomes a status and a message
// ---------------------------------------------------------------------------------------------

/// A failure on its way to C: a status code and the message for `zka_last_error`.
struct Fail {
    code: i32,
    msg: String,
}

type R<T = ()> = Result<T, Fail>;

fn fail(code: i32, msg: impl Into<String>) -> Fail {
    Fail {
        code,
        msg: msg.into(),
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::LengthMismatch { .. }
            | Error::TooManyScalars { .. }
            | Error::BatchShape { .. } => ZKA_ERR_LENGTH_MISMATCH,
            Error::ScalarNotReduced { .. }
            | Error::ElementNotReduced { .. }
            | Error::PointNotReduced { .. } => ZKA_ERR_NOT_REDUCED,
            Error::PointNotOnCurve { .. } => ZKA_ERR_NOT_ON_CURVE,
            Error::PointNotInSubgroup { .. } => ZKA_ERR_NOT_IN_SUBGROUP,
            Error::NttSizeNotPowerOfTwo { .. } | Error::NttSizeTooLarge { .. } => ZKA_ERR_NTT_SIZE,
            Error::NoCapableBackend { .. } => ZKA_ERR_UNSUPPORTED,
            Error::AllBackendsFailed { .. } => ZKA_ERR_BACKEND,
            Error::ScalarFieldMismatch { .. }
            | Error::BadLayout(_)
            | Error::EmptyBatch
            | Error::InvalidRoot { .. }
            | Error::InvalidCoset { .. } => ZKA_ERR_INVALID_ARGUMENT,
            Error::Setup(_) => ZKA_ERR_BACKEND,
            Error::VerificationFailed { .. } | Error::ResultRejected { .. } => ZKA_ERR_VERIFICATION,
            Error::Timeout { .. } => ZKA_ERR_TIMEOUT,
            Error::Hash(h) => match h {
                zk::HashError::Length { .. }
                | zk::HashError::InputLength { .. }
                | zk::HashError::TreeShape { .. } => ZKA_ERR_LENGTH_MISMATCH,
                zk::HashError::NotCanonical { .. } => ZKA_ERR_NOT_REDUCED,
                zk::HashError::UnknownInstance(_) => ZKA_ERR_UNKNOWN_ID,
                _ => ZKA_ERR_INVALID_ARGUMENT,
            },
            _ => ZKA_ERR_INTERNAL,
        };
        fail(code, e.to_string())
    }
}

thread_local! {
    /// Set while this thread is inside a `zka_*` call: the panic hook stays silent then.
    static IN_ZKA: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that prints nothing for panics inside `zka_*` calls and
/// defers to the previous hook for every other panic of the process.
fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_ZKA.with(|f| f.get()) {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, converting a failure or a panic into a status code, and records the message in
/// `shared` (when there is one).
fn guard(shared: Option<&Shared>, f: impl FnOnce() -> R) -> i32 {
    install_quiet_panic_hook();
    let was = IN_ZKA.with(|c| c.replace(true));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    IN_ZKA.with(|c| c.set(was));
    let failure = match outcome {
        Ok(Ok(())) => return ZKA_OK,
        Ok(Err(f)) => f,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            fail(
                ZKA_ERR_INTERNAL,
                format!("internal error (caught panic): {what}"),
            )
        }
    };
    if let Some(s) = shared {
        *s.last_error.lock().unwrap_or_else(|e| e.into_inner()) = failure.msg;
    }
    failure.code
}

/// Releases a handle made by `Box::into_raw` (NULL is accepted).
///
/// # Safety
/// `p` is NULL or came from `Box::into_raw` and is not used by anyone else.
unsafe fn destroy<T>(p: *mut T) -> i32 {
    guard(None, || {
        if !p.is_null() {
            // SAFETY: by the caller's contract.
            drop(unsafe { Box::from_raw(p) });
        }
        Ok(())
    })
}

/// Device `index` of the runtime, or an out-of-range failure.
fn device(s: &Shared, index: usize) -> R<&zk::Device> {
    s.rt.devices().get(index).ok_or_else(|| {
        fail(
            ZKA_ERR_INVALID_ARGUMENT,
            format!(
                "device index {index} out of range (have {})",
                s.rt.devices().len()
            ),
        )
    })
}

/// `&*p`, or a NULL-pointer failure naming the argument.
///
/// # Safety
/// `p` must be NULL or valid for reads for the returned lifetime.
unsafe fn arg<'a, T>(p: *const T, name: &str) -> R<&'a T> {
    // SAFETY: the caller promises `p` is NULL or valid; NULL is rejected here.
    unsafe { p.as_ref() }
        .ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, format!("argument `{name}` is NULL")))
}

/// `&mut *p`, or a NULL-pointer failure naming the argument.
///
/// # Safety
/// `p` must be NULL or valid for reads and writes for the returned lifetime, and unaliased.
unsafe fn arg_mut<'a, T>(p: *mut T, name: &str) -> R<&'a mut T> {
    // SAFETY: as above.
    unsafe { p.as_mut() }
        .ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, format!("argument `{name}` is NULL")))
}

/// Checks a descriptor's `struct_size` against the size of its first published layout.
fn check_size(got: u32, min: usize, name: &str) -> R {
    if (got as usize) < min {
        return Err(fail(
            ZKA_ERR_STRUCT_SIZE,
            format!("{name}.struct_size is {got}, at least {min} is required"),
        ));
    }
    Ok(())
}

/// An option struct that grew after its first version: callers compiled against the first
/// one pass a shorter buffer.
///
/// # Safety
/// Implementors are `#[repr(C)]` structs of integers only (all-zero bytes are a valid
/// value) whose first field is `struct_size: u32`, and every field after the first version
/// is a `u32`.
unsafe trait Versioned: Copy {
    /// `size_of` the first version: the smallest `struct_size` accepted.
    const V1: usize;
}

// SAFETY: integers only; `verification` and `timeout_ms` (u32) came after the first version.
unsafe impl Versioned for zka_msm_options {
    const V1: usize = std::mem::offset_of!(zka_msm_options, verification);
}

// SAFETY: as above.
unsafe impl Versioned for zka_ntt_config {
    const V1: usize = std::mem::offset_of!(zka_ntt_config, verification);
}

/// Reads a caller's option struct of any version: `struct_size` first, through the raw
/// pointer (no reference to a whole `T` is made from a shorter buffer), then the fields it
/// covers; later fields are zero (their defaults).
///
/// # Safety
/// `p` is non-NULL and readable for its own `struct_size` bytes, or for `size_of::<T>()`.
unsafe fn read_versioned<T: Versioned>(p: *const T, name: &str) -> R<T> {
    // SAFETY: every version starts with `struct_size: u32`.
    let size = unsafe { p.cast::<u32>().read_unaligned() } as usize;
    check_size(size as u32, T::V1, name)?;
    // Whole fields only: every field after the first version is 4 bytes.
    let len = size.min(size_of::<T>()) & !3;
    // SAFETY: all-zero bytes are a valid `T` (trait contract).
    let mut out: T = unsafe { std::mem::zeroed() };
    // SAFETY: `len` bytes are readable at `p` (the caller's contract) and fit in `out`.
    unsafe { std::ptr::copy_nonoverlapping(p.cast::<u8>(), (&raw mut out).cast::<u8>(), len) };
    Ok(out)
}

/// The call options of a `ZKA_VERIFY_*` and a time limit in milliseconds.
fn call_options(verification: u32, timeout_ms: u32, name: &str) -> R<CallOptions> {
    Ok(CallOptions {
        verification: match verification {
            ZKA_VERIFY_DEFAULT => None,
            ZKA_VERIFY_OFF => Some(Verification::Off),
            ZKA_VERIFY_SAMPLED => Some(Verification::Sampled),
            ZKA_VERIFY_FULL => Some(Verification::Full),
            v => {
                return Err(fail(
                    ZKA_ERR_UNKNOWN_ID,
                    format!("{name}.verification: unknown {v}"),
                ))
            }
        },
        timeout: (timeout_ms > 0).then(|| std::time::Duration::from_millis(timeout_ms.into())),
    })
}

fn shared_of<'a>(rt: *const zka_runtime) -> Option<&'a Shared> {
    // SAFETY: callers pass a pointer from `zka_runtime_create` (or NULL); the runtime stays
    // alive for the duration of the call by the API's contract.
    unsafe { rt.as_ref() }.map(|r| &*r.shared)
}

fn encoding(v: u32, what: &str) -> R<Encoding> {
    match v {
        ZKA_ENCODING_MONTGOMERY => Ok(Encoding::Montgomery),
        ZKA_ENCODING_CANONICAL => Ok(Encoding::Canonical),
        _ => Err(fail(
            ZKA_ERR_UNKNOWN_ID,
            format!("{what}: unknown encoding {v}"),
        )),
    }
}

fn device_kind(v: u32) -> R<DeviceKind> {
    Ok(match v {
        ZKA_DEVICE_CPU => DeviceKind::Cpu,
        ZKA_DEVICE_CUDA => DeviceKind::Cuda,
        ZKA_DEVICE_OPENCL => DeviceKind::OpenCl,
        ZKA_DEVICE_FPGA => DeviceKind::Fpga,
        ZKA_DEVICE_PLUGIN => DeviceKind::Plugin,
        _ => return Err(fail(ZKA_ERR_UNKNOWN_ID, format!("unknown device kind {v}"))),
    })
}

fn kind_code(k: DeviceKind) -> u32 {
    match k {
        DeviceKind::Cpu => ZKA_DEVICE_CPU,
        DeviceKind::Cuda => ZKA_DEVICE_CUDA,
        DeviceKind::OpenCl => ZKA_DEVICE_OPENCL,
        DeviceKind::Fpga => ZKA_DEVICE_FPGA,
        DeviceKind::Plugin => ZKA_DEVICE_PLUGIN,
    }
}

fn validation(v: u32) -> R<Option<PointValidation>> {
    Ok(match v {
        ZKA_VALIDATE_DEFAULT => None,
        ZKA_VALIDATE_REDUCED => Some(PointValidation::Reduced),
        ZKA_VALIDATE_ON_CURVE => Some(PointValidation::OnCurve),
        ZKA_VALIDATE_SUBGROUP => Some(PointValidation::Subgroup),
        _ => {
            return Err(fail(
                ZKA_ERR_UNKNOWN_ID,
                format!("unknown point validation {v}"),
            ))
        }
    })
}

fn field_id(v: u32) -> R<FieldId> {
    FieldId::from_u32(v).ok_or_else(|| fail(ZKA_ERR_UNKNOWN_ID, format!("unknown field id {v}")))
}

fn curve_group(curve: u32, group: u32) -> R<CurveGroupId> {
    let c = CurveId::from_u32(curve)
        .ok_or_else(|| fail(ZKA_ERR_UNKNOWN_ID, format!("unknown curve id {curve}")))?;
    let g = GroupId::from_u32(group)
        .ok_or_else(|| fail(ZKA_ERR_UNKNOWN_ID, format!("unknown group id {group}")))?;
    let id = CurveGroupId::new(c, g);
    if !id.is_known() {
        return Err(fail(ZKA_ERR_UNKNOWN_ID, format!("{id} is not supported")));
    }
    Ok(id)
}

fn report_out(report: *mut zka_call_report, r: &zk::CallReport) -> R {
    // SAFETY: NULL or a valid, writable `zka_call_report` by the API contract.
    if let Some(out) = unsafe { report.as_mut() } {
        check_size(out.struct_size, size_of::<zka_call_report>(), "report")?;
        out.device_index = r.device as u32;
        out.device_kind = kind_code(r.kind);
        out.fallbacks = r.fallbacks;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Versions, status strings, runtime
// ---------------------------------------------------------------------------------------------

/// Writes the library's version. Any pointer may be NULL. Thread-safe. Returns `ZKA_OK`.
///
/// # Safety
/// Each pointer is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zka_version(major: *mut u32, minor: *mut u32, patch: *mut u32) -> i32 {
    // SAFETY: each pointer is NULL or writable by the API contract.
    unsafe {
        if let Some(m) = major.as_mut() {
            *m = ZKA_VERSION_MAJOR;
        }
        if let Some(m) = minor.as_mut() {
            *m = ZKA_VERSION_MINOR;
        }
        if let Some(m) = patch.as_mut() {
            *m = ZKA_VERSION_PATCH;
        }
    }
    ZKA_OK
}

/// Checks that the header a program was compiled with (pass `ZKA_ABI_VERSION`) matches the
/// loaded library. Returns `ZKA_OK` or `ZKA_ERR_VERSION`. Thread-safe.
#[no_mangle]
pub extern "C" fn zka_check_abi(header_abi_version: u32) -> i32 {
    if header_abi_version == ZKA_ABI_VERSION {
        ZKA_OK
    } else {
        ZKA_ERR_VERSION
    }
}

/// A static, NUL-terminated name for a status code (never NULL; unknown codes give
/// "unknown status"). The string is owned by the library. Thread-safe.
#[no_mangle]
pub extern "C" fn zka_status_str(status: i32) -> *const c_char {
    let s: &'static CStr = match status {
        ZKA_OK => c"ok",
        ZKA_ERR_NULL_POINTER => c"null pointer argument",
        ZKA_ERR_INVALID_ARGUMENT => c"invalid argument",
        ZKA_ERR_UNKNOWN_ID => c"unknown id",
        ZKA_ERR_STRUCT_SIZE => c"struct_size too small",
        ZKA_ERR_LENGTH_MISMATCH => c"length mismatch",
        ZKA_ERR_NOT_REDUCED => c"value not below the modulus",
        ZKA_ERR_NOT_ON_CURVE => c"point not on the curve",
        ZKA_ERR_NOT_IN_SUBGROUP => c"point not in the subgroup",
        ZKA_ERR_NTT_SIZE => c"invalid NTT size",
        ZKA_ERR_UNSUPPORTED => c"no device supports this call",
        ZKA_ERR_BACKEND => c"every capable device failed",
        ZKA_ERR_BUFFER_TOO_SMALL => c"buffer too small",
        ZKA_ERR_VERSION => c"ABI version mismatch",
        ZKA_ERR_INTERNAL => c"internal error",
        ZKA_ERR_VERIFICATION => c"a device's result failed verification",
        ZKA_ERR_TIMEOUT => c"time limit passed",
        _ => c"unknown status",
    };
    s.as_ptr()
}

/// The largest `cpu_threads` `zka_runtime_create` accepts.
const MAX_CPU_THREADS: u32 = 4096;

/// Creates a runtime: discovers devices (the CPU is always one). `options` may be NULL for
/// the defaults. On success `*out` owns a runtime to release with `zka_runtime_destroy`.
/// Returns `ZKA_OK`, `ZKA_ERR_NULL_POINTER` (out), `ZKA_ERR_STRUCT_SIZE`,
/// `ZKA_ERR_UNKNOWN_ID` (policy, device kind, validation), `ZKA_ERR_BACKEND` (setup).
/// There is no runtime for a message yet, so failures here have only their status.
///
/// # Safety
/// `options` is NULL or points to a valid `zka_runtime_options`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zka_runtime_create(
    options: *const zka_runtime_options,
    out: *mut *mut zka_runtime,
) -> i32 {
    guard(None, || {
        // SAFETY: by the caller's contract.
        let out = unsafe { arg_mut(out, "out") }?;
        *out = std::ptr::null_mut();
        let mut b = Runtime::builder();
        // SAFETY: by the caller's contract.
        if let Some(o) = unsafe { options.as_ref() } {
            check_size(o.struct_size, size_of::<zka_runtime_options>(), "options")?;
            let policy = match o.policy {
                ZKA_POLICY_AUTO => Policy::Auto,
                ZKA_POLICY_PREFER => Policy::Prefer(device_kind(o.device_kind)?),
                ZKA_POLICY_ONLY => Policy::Only(device_kind(o.device_kind)?),
                p => return Err(fail(ZKA_ERR_UNKNOWN_ID, format!("unknown policy {p}"))),
            };
            b = b.policy(policy);
            // A wild thread count would start up to 65 535 threads (rayon's limit) before
            // anything could fail: refuse counts no machine needs.
            if o.cpu_threads > MAX_CPU_THREADS {
                return Err(fail(
                    ZKA_ERR_INVALID_ARGUMENT,
                    format!(
                        "options.cpu_threads is {}, at most {MAX_CPU_THREADS} is accepted",
                        o.cpu_threads
                    ),
                ));
            }
            if o.cpu_threads > 0 {
                b = b.cpu_threads(o.cpu_threads as usize);
            }
            if let Some(v) = validation(o.point_validation)? {
                b = b.point_validation(v);
            }
        }
        let rt = b.build()?;
        *out = Box::into_raw(Box::new(zka_runtime {
            shared: Arc::new(Shared {
                rt,
                last_error: Mutex::new(String::new()),
            }),
        }));
        Ok(())
    })
}

/// Releases a runtime (NULL is accepted). Handles made from it stay usable until they are
/// destroyed themselves. Must not race with other calls on the same runtime pointer.
/// Returns `ZKA_OK`.
///
/// # Safety
/// `rt` is NULL or a pointer from `zka_runtime_create` not yet destroyed.
#[no_mangle]
pub unsafe extern "C" fn zka_runtime_destroy(rt: *mut zka_runtime) -> i32 {
    // SAFETY: forwarded contract (NULL or a pointer from `Box::into_raw`, not in use).
    unsafe { destroy(rt) }
}

/// Copies the message of the runtime's most recent failure (empty if none) into `buf`
/// (NUL-terminated, truncated to `len`); `*needed` (may be NULL) receives the full length
/// including the NUL. With many threads failing at once, the message is one of theirs.
/// Returns `ZKA_OK`, `ZKA_ERR_NULL_POINTER` (rt; buf when len > 0),
/// `ZKA_ERR_BUFFER_TOO_SMALL` (the message was truncated).
///
/// # Safety
/// `rt` is a live runtime; `buf` is NULL or writable for `len` bytes; `needed` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn zka_last_error(
    rt: *const zka_runtime,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> i32 {
    guard(None, || {
        // SAFETY: by the caller's contract.
        let rt = unsafe { arg(rt, "rt") }?;
        let msg = rt
            .shared
            .last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let bytes = msg.as_bytes();
        // SAFETY: NULL or writable by the caller's contract.
        if let Some(n) = unsafe { needed.as_mut() } {
            *n = bytes.len() + 1;
        }
        if len == 0 {
            return if bytes.is_empty() {
                Ok(())
            } else {
                Err(fail(ZKA_ERR_BUFFER_TOO_SMALL, "zero-length buffer"))
            };
        }
        if buf.is_null() {
            return Err(fail(ZKA_ERR_NULL_POINTER, "argument `buf` is NULL"));
        }
        let k = bytes.len().min(len - 1);
        // SAFETY: `buf` is writable for `len` bytes and `k + 1 ≤ len`.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), k);
            *buf.add(k) = 0;
        }
        if k < bytes.len() {
            Err(fail(ZKA_ERR_BUFFER_TOO_SMALL, "message truncated"))
        } else {
            Ok(())
        }
    })
}

/// Writes the number of devices. Returns `ZKA_OK` or `ZKA_ERR_NULL_POINTER`. Thread-safe.
///
/// # Safety
/// `rt` is a live runtime; `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zka_device_count(rt: *const zka_runtime, count: *mut usize) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let s = shared.ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, "argument `rt` is NULL"))?;
        // SAFETY: by the caller's contract.
        *unsafe { arg_mut(count, "count") }? = s.rt.devices().len();
        Ok(())
    })
}

fn copy_str<const N: usize>(dst: &mut [c_char; N], s: &str) {
    let b = s.as_bytes();
    let k = b.len().min(N - 1);
    for (d, &c) in dst.iter_mut().zip(&b[..k]) {
        *d = c as c_char;
    }
    dst[k] = 0;
}

/// Describes device `index`. `info->struct_size` must be set. Returns `ZKA_OK`,
/// `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_STRUCT_SIZE`, `ZKA_ERR_INVALID_ARGUMENT` (index out of
/// range). Thread-safe.
///
/// # Safety
/// `rt` is a live runtime; `info` is NULL or a writable `zka_device_info`.
#[no_mangle]
pub unsafe extern "C" fn zka_device_get_info(
    rt: *const zka_runtime,
    index: usize,
    info: *mut zka_device_info,
) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let s = shared.ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, "argument `rt` is NULL"))?;
        // SAFETY: by the caller's contract.
        let out = unsafe { arg_mut(info, "info") }?;
        check_size(out.struct_size, size_of::<zka_device_info>(), "info")?;
        let d = device(s, index)?;
        out.index = d.index as u32;
        out.kind = kind_code(d.info.kind);
        out.simulated = d.info.simulated as u32;
        out.compute_units = d.info.compute_units;
        out.resident_bases = d.capabilities.resident_bases as u32;
        out.memory_bytes = d.info.memory_bytes;
        copy_str(&mut out.name, &d.info.name);
        copy_str(&mut out.vendor, &d.info.vendor);
        copy_str(&mut out.driver, &d.info.driver);
        Ok(())
    })
}

/// Writes 1 to `*supported` when device `index` can run an MSM of `count` points over
/// (curve, group), else 0. Returns `ZKA_OK`, `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_UNKNOWN_ID`,
/// `ZKA_ERR_INVALID_ARGUMENT` (index). Thread-safe.
///
/// # Safety
/// `rt` is a live runtime; `supported` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zka_device_supports_msm(
    rt: *const zka_runtime,
    index: usize,
    curve: u32,
    group: u32,
    count: usize,
    supported: *mut u32,
) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let s = shared.ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, "argument `rt` is NULL"))?;
        // SAFETY: by the caller's contract.
        let out = unsafe { arg_mut(supported, "supported") }?;
        let id = curve_group(curve, group)?;
        let d = device(s, index)?;
        *out = d.capabilities.supports_msm(id, count) as u32;
        Ok(())
    })
}

/// Writes 1 to `*supported` when device `index` can run an NTT of size `2^log_n` over
/// `field`, else 0. Returns `ZKA_OK`, `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_UNKNOWN_ID`,
/// `ZKA_ERR_INVALID_ARGUMENT` (index). Thread-safe.
///
/// # Safety
/// `rt` is a live runtime; `supported` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zka_device_supports_ntt(
    rt: *const zka_runtime,
    index: usize,
    field: u32,
    log_n: u32,
    supported: *mut u32,
) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let s = shared.ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, "argument `rt` is NULL"))?;
        // SAFETY: by the caller's contract.
        let out = unsafe { arg_mut(supported, "supported") }?;
        let f = field_id(field)?;
        let d = device(s, index)?;
        *out = d.capabilities.supports_ntt(f, log_n) as u32;
        Ok(())
    })
}

/// Reads the runtime's counters into `*stats` (`struct_size` must be set: the size of
/// the first version, through `failed_calls`, or more; fields beyond `struct_size` are not
/// written). Returns `ZKA_OK`, `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_STRUCT_SIZE`. Thread-safe.
///
/// # Safety
/// `rt` is a live runtime; `stats` is NULL or writable for `stats->struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn zka_runtime_stats(rt: *const zka_runtime, stats: *mut zka_stats) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let s = shared.ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, "argument `rt` is NULL"))?;
        if stats.is_null() {
            return Err(fail(ZKA_ERR_NULL_POINTER, "argument `stats` is NULL"));
        }
        // SAFETY: non-NULL and, by the caller's contract, writable for at least its own
        // `struct_size` bytes, which is read first: the caller's struct may be the shorter
        // first version, so no reference to a whole `zka_stats` is made.
        let size = unsafe { std::ptr::addr_of!((*stats).struct_size).read_unaligned() };
        check_size(size, ZKA_STATS_V1_SIZE, "stats")?;
        let st = s.rt.stats();
        use std::mem::offset_of;
        let fields = [
            (offset_of!(zka_stats, msm_calls), st.msm_calls),
            (offset_of!(zka_stats, ntt_calls), st.ntt_calls),
            (offset_of!(zka_stats, fallbacks), st.fallbacks),
            (offset_of!(zka_stats, failed_calls), st.failed_calls),
            (offset_of!(zka_stats, hash_calls), st.hash_calls),
            (offset_of!(zka_stats, verified), st.verified),
            (
                offset_of!(zka_stats, verification_failures),
                st.verification_failures,
            ),
            (offset_of!(zka_stats, timeouts), st.timeouts),
            (offset_of!(zka_stats, split_msm_calls), st.split_msm_calls),
        ];
        let base = stats.cast::<u8>();
        // SAFETY: `reserved` lies within the first version's size, checked above.
        unsafe {
            base.add(offset_of!(zka_stats, reserved))
                .cast::<u32>()
                .write_unaligned(0)
        };
        for (offset, value) in fields {
            if offset + 8 <= size as usize {
                // SAFETY: the field lies within the caller's `struct_size` bytes.
                unsafe { base.add(offset).cast::<u64>().write_unaligned(value) };
            }
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// MSM
// ---------------------------------------------------------------------------------------------

/// Builds the borrowed view of a `zka_points` descriptor.
///
/// # Safety
/// `p.data` must be valid for reads of the bytes the descriptor describes.
unsafe fn points_view<'a>(p: &zka_points) -> R<RawPoints<'a>> {
    check_size(p.struct_size, size_of::<zka_points>(), "points")?;
    let id = curve_group(p.curve, p.group)?;
    let enc = encoding(p.encoding, "points")?;
    let coords = 2 * coordinate_bytes(id);
    let stride = if p.stride == 0 { coords } else { p.stride };
    let infinity = match p.infinity {
        ZKA_INFINITY_ZERO => Infinity::ZeroCoordinates,
        ZKA_INFINITY_FLAG => Infinity::FlagByte {
            offset: p.flag_offset as usize,
        },
        v => {
            return Err(fail(
                ZKA_ERR_UNKNOWN_ID,
                format!("points: unknown infinity marking {v}"),
            ))
        }
    };
    let last = match infinity {
        Infinity::FlagByte { offset } => offset.max(coords - 1) + 1,
        Infinity::ZeroCoordinates => coords,
    };
    let bytes_len = if p.count == 0 {
        0
    } else {
        (p.count - 1)
            .checked_mul(stride)
            .and_then(|v| v.checked_add(last))
            .filter(|&v| v <= isize::MAX as usize)
            .ok_or_else(|| fail(ZKA_ERR_INVALID_ARGUMENT, "points: count × stride overflows"))?
    };
    let bytes: &[u8] = if bytes_len == 0 {
        &[]
    } else {
        if p.data.is_null() {
            return Err(fail(ZKA_ERR_NULL_POINTER, "points.data is NULL"));
        }
        // SAFETY: the caller promises `count` points of `stride` bytes at `data`.
        unsafe { std::slice::from_raw_parts(p.data.cast::<u8>(), bytes_len) }
    };
    RawPoints::new(id, bytes, p.count, stride, infinity, enc)
        .map_err(|m| fail(ZKA_ERR_INVALID_ARGUMENT, format!("points: {m}")))
}

/// Builds the borrowed view of a `zka_scalars` descriptor for `field`.
///
/// # Safety
/// `s.data` must be valid for reads of `4 × count` limbs.
unsafe fn scalars_view<'a>(s: &zka_scalars, field: FieldId) -> R<RawScalars<'a>> {
    check_size(s.struct_size, size_of::<zka_scalars>(), "scalars")?;
    let enc = encoding(s.encoding, "scalars")?;
    let limbs: &[[u64; 4]] = if s.count == 0 {
        &[]
    } else {
        if s.data.is_null() {
            return Err(fail(ZKA_ERR_NULL_POINTER, "scalars.data is NULL"));
        }
        if !(s.data as usize).is_multiple_of(8) {
            return Err(fail(
                ZKA_ERR_INVALID_ARGUMENT,
                "scalars.data is not 8-byte aligned",
            ));
        }
        if s.count > isize::MAX as usize / 32 {
            return Err(fail(ZKA_ERR_INVALID_ARGUMENT, "scalars.count too large"));
        }
        // SAFETY: the caller promises `4 × count` aligned limbs at `data`.
        unsafe { std::slice::from_raw_parts(s.data.cast::<[u64; 4]>(), s.count) }
    };
    Ok(RawScalars::new(field, limbs, enc))
}

fn write_point(raw: &RawPoint, out: &mut zka_point_out) -> R {
    check_size(out.struct_size, size_of::<zka_point_out>(), "result")?;
    let enc = encoding(out.encoding, "result")?;
    with_curve_group!(
        raw.id,
        |C| write_typed::<C>(
            &raw.to_projective::<C>()
                .map_err(|e| fail(ZKA_ERR_INTERNAL, e.to_string()))?,
            out,
            enc
        ),
        Err(fail(ZKA_ERR_INTERNAL, "result of an unknown group"))
    )
}

fn write_typed<C: CurveGroup>(p: &Projective<C>, out: &mut zka_point_out, enc: Encoding) -> R {
    let coords: Vec<C::Base> = match out.form {
        ZKA_FORM_AFFINE => {
            let a = p.to_affine();
            vec![a.x, a.y]
        }
        ZKA_FORM_JACOBIAN => vec![p.x, p.y, p.z],
        f => {
            return Err(fail(
                ZKA_ERR_UNKNOWN_ID,
                format!("result: unknown form {f}"),
            ))
        }
    };
    let primes: &[C::BasePrime] = bytemuck::cast_slice(&coords);
    let need = primes.len() * <C::BasePrime as PrimeField>::LIMBS;
    if out.capacity < need {
        return Err(fail(
            ZKA_ERR_BUFFER_TOO_SMALL,
            format!("result needs {need} limbs, capacity is {}", out.capacity),
        ));
    }
    if out.limbs.is_null() {
        return Err(fail(ZKA_ERR_NULL_POINTER, "result.limbs is NULL"));
    }
    // SAFETY: `limbs` is writable for `capacity ≥ need` limbs by the API contract.
    let dst = unsafe { std::slice::from_raw_parts_mut(out.limbs, need) };
    for (chunk, x) in dst
        .chunks_mut(<C::BasePrime as PrimeField>::LIMBS)
        .zip(primes)
    {
        let v = match enc {
            Encoding::Montgomery => x.to_montgomery(),
            Encoding::Canonical => x.to_canonical(),
        };
        chunk.copy_from_slice(v.as_ref());
    }
    out.written = need;
    out.is_infinity = p.is_identity() as u32;
    Ok(())
}

fn msm_options(o: *const zka_msm_options) -> R<MsmOptions> {
    if o.is_null() {
        return Ok(MsmOptions::default());
    }
    // SAFETY: non-NULL and valid for its `struct_size` by the API contract.
    let o = unsafe { read_versioned(o, "options") }?;
    let call = call_options(o.verification, o.timeout_ms, "options")?;
    Ok(MsmOptions {
        validation: validation(o.point_validation)?,
        verification: call.verification,
        timeout: call.timeout,
    })
}

/// Computes `Σ scalars[i]·points[i]` on the best device (with fallback) into `*result`.
/// `options` and `report` may be NULL. The inputs are borrowed for the call only.
/// Returns `ZKA_OK`, `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_STRUCT_SIZE`, `ZKA_ERR_UNKNOWN_ID`,
/// `ZKA_ERR_INVALID_ARGUMENT` (layout), `ZKA_ERR_LENGTH_MISMATCH`, `ZKA_ERR_NOT_REDUCED`,
/// `ZKA_ERR_NOT_ON_CURVE`, `ZKA_ERR_NOT_IN_SUBGROUP`, `ZKA_ERR_BUFFER_TOO_SMALL`,
/// `ZKA_ERR_UNSUPPORTED`, `ZKA_ERR_BACKEND`. Thread-safe.
///
/// # Safety
/// `rt` is a live runtime; the descriptors are valid and describe readable memory;
/// `result->limbs` is writable for `result->capacity` limbs; `report` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zka_msm(
    rt: *const zka_runtime,
    points: *const zka_points,
    scalars: *const zka_scalars,
    options: *const zka_msm_options,
    result: *mut zka_point_out,
    report: *mut zka_call_report,
) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let s = shared.ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, "argument `rt` is NULL"))?;
        // SAFETY: by the caller's contract (all four).
        let (p, sc, out) = unsafe {
            (
                arg(points, "points")?,
                arg(scalars, "scalars")?,
                arg_mut(result, "result")?,
            )
        };
        check_size(out.struct_size, size_of::<zka_point_out>(), "result")?;
        // SAFETY: the descriptors describe readable memory by the caller's contract.
        let bases = unsafe { points_view(p) }?;
        // SAFETY: as above.
        let sv = unsafe { scalars_view(sc, bases.id().curve.scalar_field()) }?;
        let opts = msm_options(options)?;
        let (raw, rep) = s.rt.msm_raw(&bases, &sv, &opts)?;
        write_point(&raw, out)?;
        report_out(report, &rep)
    })
}

/// Takes in MSM bases (an SRS) once for many MSMs: validates and copies them (the caller's
/// memory is not kept) and uploads them lazily to devices that keep bases resident. On
/// success `*out` owns a handle to release with `zka_msm_bases_destroy`. Returns the
/// statuses of `zka_msm` that apply to bases. Thread-safe.
///
/// # Safety
/// As for `zka_msm`; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn zka_msm_bases_create(
    rt: *const zka_runtime,
    points: *const zka_points,
    options: *const zka_msm_options,
    out: *mut *mut zka_msm_bases,
) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        // SAFETY: by the caller's contract.
        let out = unsafe { arg_mut(out, "out") }?;
        // NULL before anything can fail (also a NULL `rt`): no garbage handle on failure.
        *out = std::ptr::null_mut();
        // SAFETY: `rt` is live by the caller's contract.
        let owner = unsafe { arg(rt, "rt") }?.shared.clone();
        // SAFETY: by the caller's contract.
        let p = unsafe { arg(points, "points") }?;
        // SAFETY: the descriptor describes readable memory by the caller's contract.
        let bases = unsafe { points_view(p) }?;
        let opts = msm_options(options)?;
        let handle = owner.rt.msm_bases_raw(&bases, &opts)?;
        *out = Box::into_raw(Box::new(zka_msm_bases {
            shared: owner,
            bases: handle,
        }));
        Ok(())
    })
}

/// Writes the number of points of a bases handle. Returns `ZKA_OK` or
/// `ZKA_ERR_NULL_POINTER`. Thread-safe.
///
/// # Safety
/// `bases` is a live handle; `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zka_msm_bases_count(
    bases: *const zka_msm_bases,
    count: *mut usize,
) -> i32 {
    // SAFETY: NULL or live by the caller's contract.
    let shared = unsafe { bases.as_ref() }.map(|b| &*b.shared);
    guard(shared, || {
        // SAFETY: by the caller's contract.
        let b = unsafe { arg(bases, "bases") }?;
        // SAFETY: by the caller's contract.
        *unsafe { arg_mut(count, "count") }? = b.bases.len();
        Ok(())
    })
}

/// MSM over the first `scalars->count` points of a bases handle (fewer scalars than points
/// is allowed; more is `ZKA_ERR_LENGTH_MISMATCH`). Messages go to the runtime that made the
/// handle. Returns the statuses of `zka_msm`. Thread-safe.
///
/// # Safety
/// `bases` is a live handle; otherwise as for `zka_msm`.
#[no_mangle]
pub unsafe extern "C" fn zka_msm_bases_msm(
    bases: *const zka_msm_bases,
    scalars: *const zka_scalars,
    result: *mut zka_point_out,
    report: *mut zka_call_report,
) -> i32 {
    // SAFETY: NULL or live by the caller's contract.
    let shared = unsafe { bases.as_ref() }.map(|b| &*b.shared);
    guard(shared, || {
        // SAFETY: by the caller's contract.
        let (b, sc, out) = unsafe {
            (
                arg(bases, "bases")?,
                arg(scalars, "scalars")?,
                arg_mut(result, "result")?,
            )
        };
        check_size(out.struct_size, size_of::<zka_point_out>(), "result")?;
        // SAFETY: the descriptor describes readable memory by the caller's contract.
        let sv = unsafe { scalars_view(sc, b.bases.id().curve.scalar_field()) }?;
        let (raw, rep) = b.bases.msm_raw(&sv)?;
        write_point(&raw, out)?;
        report_out(report, &rep)
    })
}

/// Releases a bases handle (NULL is accepted). Returns `ZKA_OK`.
///
/// # Safety
/// `bases` is NULL or a live handle not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn zka_msm_bases_destroy(bases: *mut zka_msm_bases) -> i32 {
    // SAFETY: forwarded contract (NULL or a pointer from `Box::into_raw`, not in use).
    unsafe { destroy(bases) }
}

// ---------------------------------------------------------------------------------------------
// NTT
// ---------------------------------------------------------------------------------------------

/// Creates the NTT domain of size `2^log_n` over `field` (an NTT field: the three scalar
/// fields, Goldilocks, BabyBear). `root` is NULL for the default root of unity, or points to
/// the canonical limbs (`root_limbs` of them: 4, or 1 for Goldilocks and BabyBear) of a
/// primitive `2^log_n`-th root. On success `*out` owns a domain to release with
/// `zka_ntt_domain_destroy`. Returns `ZKA_OK`, `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_UNKNOWN_ID`,
/// `ZKA_ERR_NTT_SIZE`, `ZKA_ERR_INVALID_ARGUMENT` (root), `ZKA_ERR_UNSUPPORTED`. Thread-safe.
///
/// # Safety
/// `rt` is a live runtime; `root` is NULL or readable for `root_limbs` limbs; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn zka_ntt_domain_create(
    rt: *const zka_runtime,
    field: u32,
    log_n: u32,
    root: *const u64,
    root_limbs: usize,
    out: *mut *mut zka_ntt_domain,
) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        // SAFETY: by the caller's contract.
        let out = unsafe { arg_mut(out, "out") }?;
        // NULL before anything can fail (also a NULL `rt`): no garbage handle on failure.
        *out = std::ptr::null_mut();
        // SAFETY: `rt` is live by the caller's contract.
        let owner = unsafe { arg(rt, "rt") }?.shared.clone();
        let f = field_id(field)?;
        // Before the root is read: a base field's root would not fit the 4 limbs below.
        if !f.is_ntt_field() {
            return Err(fail(
                ZKA_ERR_UNSUPPORTED,
                format!("{f} is not an NTT field"),
            ));
        }
        let root = if root.is_null() {
            None
        } else {
            let limbs = f.element_bytes().div_ceil(8);
            if root_limbs != limbs {
                return Err(fail(
                    ZKA_ERR_INVALID_ARGUMENT,
                    format!("root has {root_limbs} limbs, {f} needs {limbs}"),
                ));
            }
            let mut r = [0u64; 4];
            // SAFETY: readable for `root_limbs` limbs by the caller's contract.
            r[..limbs].copy_from_slice(unsafe { std::slice::from_raw_parts(root, limbs) });
            Some(r)
        };
        let domain = owner.rt.ntt_domain_raw(f, log_n, root)?;
        *out = Box::into_raw(Box::new(zka_ntt_domain {
            shared: owner,
            domain,
        }));
        Ok(())
    })
}

fn ntt_config(c: &zka_ntt_config) -> R<(NttConfig, Encoding, CallOptions)> {
    let call = call_options(c.verification, c.timeout_ms, "config")?;
    let order = |v: u32, what: &str| -> R<NttOrder> {
        match v {
            ZKA_ORDER_NATURAL => Ok(NttOrder::Natural),
            ZKA_ORDER_BIT_REVERSED => Ok(NttOrder::BitReversed),
            _ => Err(fail(
                ZKA_ERR_UNKNOWN_ID,
                format!("config.{what}: unknown order {v}"),
            )),
        }
    };
    Ok((
        NttConfig {
            direction: match c.direction {
                ZKA_NTT_FORWARD => NttDirection::Forward,
                ZKA_NTT_INVERSE => NttDirection::Inverse,
                v => {
                    return Err(fail(
                        ZKA_ERR_UNKNOWN_ID,
                        format!("config.direction: unknown {v}"),
                    ))
                }
            },
            input_order: order(c.input_order, "input_order")?,
            output_order: order(c.output_order, "output_order")?,
            coset: match c.has_coset {
                0 => None,
                1 => Some(c.coset_shift),
                v => {
                    return Err(fail(
                        ZKA_ERR_INVALID_ARGUMENT,
                        format!("config.has_coset must be 0 or 1, got {v}"),
                    ))
                }
            },
            batch: c.batch as usize,
            layout: match c.layout {
                ZKA_LAYOUT_CONTIGUOUS => BatchLayout::Contiguous,
                ZKA_LAYOUT_INTERLEAVED => BatchLayout::Interleaved,
                v => {
                    return Err(fail(
                        ZKA_ERR_UNKNOWN_ID,
                        format!("config.layout: unknown {v}"),
                    ))
                }
            },
        },
        encoding(c.encoding, "config")?,
        call,
    ))
}

/// How the integer in an element's memory is to be read or written.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Form {
    /// The canonical integer.
    Canonical,
    /// The Montgomery integer.
    Montgomery,
    /// The library's storage form (Montgomery, except canonical Goldilocks).
    Storage,
}

impl From<Encoding> for Form {
    fn from(e: Encoding) -> Self {
        match e {
            Encoding::Canonical => Form::Canonical,
            Encoding::Montgomery => Form::Montgomery,
        }
    }
}

/// The integer held in an element's bytes, as limbs (BabyBear's one `u32` is widened).
fn raw_get<F: PrimeField>(x: &F) -> F::Limbs {
    let mut l: F::Limbs = bytemuck::Zeroable::zeroed();
    let n = size_of::<F>();
    bytemuck::bytes_of_mut(&mut l)[..n].copy_from_slice(bytemuck::bytes_of(x));
    l
}

/// Writes an integer into an element's bytes (the low `size_of::<F>()` bytes of `v`).
fn raw_set<F: PrimeField>(x: &mut F, v: &F::Limbs) {
    let n = size_of::<F>();
    bytemuck::bytes_of_mut(x).copy_from_slice(&bytemuck::bytes_of(v)[..n]);
}

/// Rewrites `bytes` (elements of `field`) from one form to another in place, checking that
/// every input integer is below the modulus (the first bad index is in the message).
fn recode(field: FieldId, bytes: &mut [u8], from: Form, to: Form) -> R {
    if from == to || bytes.is_empty() {
        return Ok(());
    }
    with_prime_field!(field, |F| {
        let xs: &mut [F] = bytemuck::try_cast_slice_mut(bytes)
            .map_err(|e| fail(ZKA_ERR_INVALID_ARGUMENT, format!("data layout: {e}")))?;
        // Check every element before rewriting any, so that a refused call leaves the
        // caller's data as it was (a retry after fixing element i must not meet elements
        // 0..i already converted). Both forms are valid exactly when the integer is below p.
        if from != Form::Storage {
            check_reduced(field, bytemuck::cast_slice(xs))?;
        }
        for (i, x) in xs.iter_mut().enumerate() {
            let value = match from {
                Form::Storage => Some(*x),
                Form::Canonical => F::from_canonical(&raw_get(x)),
                Form::Montgomery => F::from_montgomery(&raw_get(x)),
            }
            .ok_or_else(|| {
                fail(
                    ZKA_ERR_NOT_REDUCED,
                    format!("element {i} is not below the {field} modulus"),
                )
            })?;
            match to {
                Form::Storage => *x = value,
                Form::Canonical => raw_set(x, &value.to_canonical()),
                Form::Montgomery => raw_set(x, &value.to_montgomery()),
            }
        }
        Ok(())
    })
}

/// The element size in bytes for the C ABI (storage word size of small fields).
fn elem_bytes(field: FieldId) -> usize {
    field.element_bytes()
}

/// Transforms `count` elements at `data` (all columns) in place, per `config`. Elements are
/// `uint64_t` limbs (4 for the scalar fields, 1 for Goldilocks) or one `uint32_t`
/// (BabyBear), in `config->encoding`. `report` may be NULL. On failure the data may have
/// been converted between encodings but never holds a partial transform. Returns `ZKA_OK`,
/// `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_STRUCT_SIZE`, `ZKA_ERR_UNKNOWN_ID`,
/// `ZKA_ERR_INVALID_ARGUMENT` (coset, alignment), `ZKA_ERR_LENGTH_MISMATCH` (count ≠ n ×
/// batch), `ZKA_ERR_NOT_REDUCED`, `ZKA_ERR_UNSUPPORTED`, `ZKA_ERR_BACKEND`. Calls on one
/// domain may run concurrently on different data.
///
/// # Safety
/// `domain` is live; `config` valid; `data` readable and writable for `count` elements and
/// aligned to the element's word; `report` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zka_ntt(
    domain: *const zka_ntt_domain,
    config: *const zka_ntt_config,
    data: *mut c_void,
    count: usize,
    report: *mut zka_call_report,
) -> i32 {
    // SAFETY: NULL or live by the caller's contract.
    let shared = unsafe { domain.as_ref() }.map(|d| &*d.shared);
    guard(shared, || {
        // SAFETY: by the caller's contract.
        if config.is_null() {
            return Err(fail(ZKA_ERR_NULL_POINTER, "argument `config` is NULL"));
        }
        // SAFETY: by the caller's contract; the config may be of the first, shorter version.
        let (d, c) = unsafe { (arg(domain, "domain")?, read_versioned(config, "config")?) };
        let (cfg, enc, call) = ntt_config(&c)?;
        let field = d.domain.spec().field;
        let size = elem_bytes(field);
        let bytes: &mut [u8] = if count == 0 {
            &mut []
        } else {
            if data.is_null() {
                return Err(fail(ZKA_ERR_NULL_POINTER, "argument `data` is NULL"));
            }
            let len = count
                .checked_mul(size)
                .filter(|&v| v <= isize::MAX as usize)
                .ok_or_else(|| fail(ZKA_ERR_INVALID_ARGUMENT, "count too large"))?;
            // SAFETY: readable and writable for `count` elements by the caller's contract.
            unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), len) }
        };
        // The runtime checks the shape before touching data; recode only a valid shape.
        let n = d.domain.spec().size();
        if cfg.batch == 0 || Some(count) != n.checked_mul(cfg.batch) {
            return Err(Error::BatchShape {
                len: count,
                n,
                batch: cfg.batch,
            }
            .into());
        }
        recode(field, bytes, enc.into(), Form::Storage)?;
        let r = d.domain.run_raw_with(bytes, &cfg, &call);
        recode(field, bytes, Form::Storage, enc.into())?;
        report_out(report, &r?)
    })
}

/// Releases an NTT domain (NULL is accepted). Returns `ZKA_OK`.
///
/// # Safety
/// `domain` is NULL or a live domain not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn zka_ntt_domain_destroy(domain: *mut zka_ntt_domain) -> i32 {
    // SAFETY: forwarded contract (NULL or a pointer from `Box::into_raw`, not in use).
    unsafe { destroy(domain) }
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

/// Converts `count` elements of `field` in place from canonical to Montgomery form (every
/// input must be below the modulus; the first bad index is in the message). Elements are
/// `uint64_t` limbs (4 or 6; 1 for Goldilocks) or one `uint32_t` (BabyBear). Returns
/// `ZKA_OK`, `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_UNKNOWN_ID`, `ZKA_ERR_NOT_REDUCED`,
/// `ZKA_ERR_INVALID_ARGUMENT` (alignment). Thread-safe.
///
/// # Safety
/// `rt` is a live runtime (for the message); `data` is writable for `count` elements.
#[no_mangle]
pub unsafe extern "C" fn zka_to_montgomery(
    rt: *const zka_runtime,
    field: u32,
    data: *mut c_void,
    count: usize,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { montgomery(rt, field, data, count, true) }
}

/// Converts `count` elements of `field` in place from Montgomery to canonical form. Same
/// conventions and statuses as `zka_to_montgomery`.
///
/// # Safety
/// As for `zka_to_montgomery`.
#[no_mangle]
pub unsafe extern "C" fn zka_from_montgomery(
    rt: *const zka_runtime,
    field: u32,
    data: *mut c_void,
    count: usize,
) -> i32 {
    // SAFETY: forwarded contract.
    unsafe { montgomery(rt, field, data, count, false) }
}

/// # Safety
/// As for `zka_to_montgomery`.
unsafe fn montgomery(
    rt: *const zka_runtime,
    field: u32,
    data: *mut c_void,
    count: usize,
    to_mont: bool,
) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let f = field_id(field)?;
        if count == 0 {
            return Ok(());
        }
        if data.is_null() {
            return Err(fail(ZKA_ERR_NULL_POINTER, "argument `data` is NULL"));
        }
        let len = count
            .checked_mul(elem_bytes(f))
            .filter(|&v| v <= isize::MAX as usize)
            .ok_or_else(|| fail(ZKA_ERR_INVALID_ARGUMENT, "count too large"))?;
        // SAFETY: writable for `count` elements by the caller's contract.
        let bytes = unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), len) };
        if to_mont {
            recode(f, bytes, Form::Canonical, Form::Montgomery)
        } else {
            recode(f, bytes, Form::Montgomery, Form::Canonical)
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------------------------

fn hash_id(v: u32) -> R<HashId> {
    HashId::from_u32(v)
        .ok_or_else(|| fail(ZKA_ERR_UNKNOWN_ID, format!("unknown hash instance {v}")))
}

/// Describes hash instance `instance` (`struct_size` must be set). Returns `ZKA_OK`,
/// `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_STRUCT_SIZE`, `ZKA_ERR_UNKNOWN_ID`. Thread-safe; needs no
/// runtime (failures have only their status).
///
/// # Safety
/// `info` is NULL or a writable `zka_hash_info`.
#[no_mangle]
pub unsafe extern "C" fn zka_hash_get_info(instance: u32, info: *mut zka_hash_info) -> i32 {
    guard(None, || {
        // SAFETY: by the caller's contract.
        let out = unsafe { arg_mut(info, "info") }?;
        check_size(out.struct_size, size_of::<zka_hash_info>(), "info")?;
        let id = hash_id(instance)?;
        let i = id.info();
        out.instance = id.as_u32();
        out.family = match i.family {
            HashFamily::PoseidonCircom => ZKA_HASH_FAMILY_POSEIDON_CIRCOM,
            HashFamily::Poseidon2Horizen => ZKA_HASH_FAMILY_POSEIDON2_HORIZEN,
            HashFamily::Poseidon2Plonky3 => ZKA_HASH_FAMILY_POSEIDON2_PLONKY3,
        };
        out.field = i.field.as_u32();
        out.width = i.width as u32;
        out.rate = i.rate as u32;
        out.digest = i.digest as u32;
        out.merkle_arities = i.merkle_arities().iter().fold(0, |m, &a| m | (1 << a));
        copy_str(&mut out.name, id.name());
        Ok(())
    })
}

/// Looks up an instance by name (e.g. "poseidon2-plonky3-babybear-t16"). Returns `ZKA_OK`,
/// `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_UNKNOWN_ID`. Thread-safe.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `instance` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zka_hash_find(name: *const c_char, instance: *mut u32) -> i32 {
    guard(None, || {
        if name.is_null() {
            return Err(fail(ZKA_ERR_NULL_POINTER, "argument `name` is NULL"));
        }
        // SAFETY: NUL-terminated by the caller's contract.
        let s = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        // SAFETY: by the caller's contract.
        let out = unsafe { arg_mut(instance, "instance") }?;
        let id: HashId = s
            .parse()
            .map_err(|e: zk::HashError| fail(ZKA_ERR_UNKNOWN_ID, e.to_string()))?;
        *out = id.as_u32();
        Ok(())
    })
}

/// Borrows `count` elements of `field` at `p` as bytes (`NULL` allowed when `count` is 0).
///
/// # Safety
/// `p` readable for `count` elements.
unsafe fn elems<'a>(p: *const c_void, count: usize, field: FieldId, what: &str) -> R<&'a [u8]> {
    if count == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(fail(
            ZKA_ERR_NULL_POINTER,
            format!("argument `{what}` is NULL"),
        ));
    }
    let size = elem_bytes(field);
    if !(p as usize).is_multiple_of(size.min(8)) {
        return Err(fail(
            ZKA_ERR_INVALID_ARGUMENT,
            format!("`{what}` is not aligned for {field}"),
        ));
    }
    let len = count
        .checked_mul(size)
        .filter(|&v| v <= isize::MAX as usize)
        .ok_or_else(|| {
            fail(
                ZKA_ERR_INVALID_ARGUMENT,
                format!("`{what}` count too large"),
            )
        })?;
    // SAFETY: readable for `count` elements by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
}

/// Mutable counterpart of [`elems`].
///
/// # Safety
/// `p` readable and writable for `count` elements, unaliased.
unsafe fn elems_mut<'a>(
    p: *mut c_void,
    count: usize,
    field: FieldId,
    what: &str,
) -> R<&'a mut [u8]> {
    // SAFETY: forwarded contract; the shared borrow is dropped before the unique one is made.
    let len = unsafe { elems(p, count, field, what) }?.len();
    if len == 0 {
        return Ok(&mut []);
    }
    // SAFETY: as above, writable and unaliased by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(p.cast::<u8>(), len) })
}

/// Runs a batched hashing operation: `ZKA_HASH_PERMUTE` (in place on `output`; `input` NULL
/// and `input_count` 0), `ZKA_HASH_MESSAGES` (`param` = elements per message; circomlib
/// instances need exactly `t − 1`), or `ZKA_HASH_COMPRESS` (`param` = Merkle arity).
/// Elements are in `encoding` (`ZKA_ENCODING_*`), one `uint64_t` limb array per element (4
/// for BN254, 1 for Goldilocks) or one `uint32_t` (BabyBear); counts are in elements.
/// Returns `ZKA_OK`, `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_UNKNOWN_ID` (instance, op,
/// encoding), `ZKA_ERR_LENGTH_MISMATCH` (counts that do not fit the instance),
/// `ZKA_ERR_INVALID_ARGUMENT` (arity, alignment), `ZKA_ERR_NOT_REDUCED`,
/// `ZKA_ERR_UNSUPPORTED`, `ZKA_ERR_BACKEND`. Thread-safe.
///
/// # Safety
/// `rt` is live; `input` readable for `input_count` elements; `output` readable and
/// writable for `output_count` elements and not overlapping `input`; `report` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn zka_hash(
    rt: *const zka_runtime,
    instance: u32,
    op: u32,
    param: u32,
    encoding: u32,
    input: *const c_void,
    input_count: usize,
    output: *mut c_void,
    output_count: usize,
    report: *mut zka_call_report,
) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let s = shared.ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, "argument `rt` is NULL"))?;
        let id = hash_id(instance)?;
        let enc = self::encoding(encoding, "hash")?;
        let field = id.info().field;
        let op = match op {
            ZKA_HASH_PERMUTE => HashOp::Permute,
            ZKA_HASH_MESSAGES => HashOp::Hash {
                input_len: param as usize,
            },
            ZKA_HASH_COMPRESS => HashOp::Compress {
                arity: param as usize,
            },
            v => {
                return Err(fail(
                    ZKA_ERR_UNKNOWN_ID,
                    format!("unknown hash operation {v}"),
                ))
            }
        };
        // SAFETY: by the caller's contract.
        let inp = unsafe { elems(input, input_count, field, "input") }?;
        // SAFETY: by the caller's contract.
        let out = unsafe { elems_mut(output, output_count, field, "output") }?;
        // Inputs are const: recode a copy when they are not in storage form. In storage
        // form they are used as they are, but still checked: the backends assume reduced
        // elements (an unreduced BabyBear word overflowed the CPU permutation's addition).
        let mut converted;
        let inp: &[u8] = if inp.is_empty() {
            inp
        } else if Form::from(enc) == storage_form(field) {
            check_reduced(field, inp)?;
            inp
        } else {
            converted = inp.to_vec();
            recode(field, &mut converted, enc.into(), Form::Storage)?;
            &converted
        };
        if op == HashOp::Permute {
            recode(field, out, enc.into(), Form::Storage)?;
        }
        let r = s.rt.hash_raw(id, op, inp, out);
        if r.is_ok() || op == HashOp::Permute {
            recode(field, out, Form::Storage, enc.into())?;
        }
        report_out(report, &r?)
    })
}

/// Checks that every element of `bytes` (of `field`, in either form) is below the modulus.
fn check_reduced(field: FieldId, bytes: &[u8]) -> R {
    with_prime_field!(field, |F| {
        let xs: &[F] = bytemuck::try_cast_slice(bytes)
            .map_err(|e| fail(ZKA_ERR_INVALID_ARGUMENT, format!("data layout: {e}")))?;
        // Both forms are valid exactly when the integer is below p.
        match xs
            .iter()
            .position(|x| F::from_montgomery(&raw_get(x)).is_none())
        {
            Some(i) => Err(fail(
                ZKA_ERR_NOT_REDUCED,
                format!("element {i} is not below the {field} modulus"),
            )),
            None => Ok(()),
        }
    })
}

/// The storage form of a field, as a `Form`.
fn storage_form(field: FieldId) -> Form {
    if field == FieldId::Goldilocks {
        Form::Canonical
    } else {
        Form::Montgomery
    }
}

/// Builds a Merkle tree over `leaf_count` leaf elements (`n·digest`, `n` a power of
/// `arity`) and writes, into `out`, either only the root (`out_count` = digest) or every
/// layer above the leaves, lowest first, root last (`out_count` = digest·(n/arity + … + 1)).
/// Encodings as in `zka_hash`. Returns `ZKA_OK`, `ZKA_ERR_NULL_POINTER`,
/// `ZKA_ERR_UNKNOWN_ID`, `ZKA_ERR_LENGTH_MISMATCH` (leaves not a whole tree, or `out_count`
/// neither size), `ZKA_ERR_INVALID_ARGUMENT` (arity), `ZKA_ERR_NOT_REDUCED`,
/// `ZKA_ERR_UNSUPPORTED`, `ZKA_ERR_BACKEND`. Thread-safe.
///
/// # Safety
/// `rt` is live; `leaves` readable for `leaf_count` elements; `out` writable for
/// `out_count` elements.
#[no_mangle]
pub unsafe extern "C" fn zka_merkle_tree(
    rt: *const zka_runtime,
    instance: u32,
    arity: u32,
    encoding: u32,
    leaves: *const c_void,
    leaf_count: usize,
    out: *mut c_void,
    out_count: usize,
) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let s = shared.ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, "argument `rt` is NULL"))?;
        let id = hash_id(instance)?;
        let enc = self::encoding(encoding, "merkle")?;
        let field = id.info().field;
        // SAFETY: by the caller's contract.
        let leaves = unsafe { elems(leaves, leaf_count, field, "leaves") }?;
        // SAFETY: by the caller's contract.
        let out = unsafe { elems_mut(out, out_count, field, "out") }?;
        let mut storage = leaves.to_vec();
        recode(field, &mut storage, enc.into(), Form::Storage)?;
        with_hash_field!(field, |F| {
            let leaves: &[F] = if storage.is_empty() {
                &[]
            } else {
                bytemuck::cast_slice(&storage)
            };
            let tree = s.rt.merkle_tree::<F>(id, arity as usize, leaves)?;
            let above: Vec<&F> = tree.layers()[1..].iter().flatten().collect();
            let root = tree.root();
            let dst: &mut [F] = if out.is_empty() {
                &mut []
            } else {
                bytemuck::cast_slice_mut(out)
            };
            if dst.len() == root.len() {
                dst.copy_from_slice(root);
            } else if dst.len() == above.len() {
                for (d, x) in dst.iter_mut().zip(above) {
                    *d = *x;
                }
            } else {
                return Err(fail(
                    ZKA_ERR_LENGTH_MISMATCH,
                    format!(
                        "out holds {} elements: the root needs {}, all layers {}",
                        dst.len(),
                        root.len(),
                        above.len()
                    ),
                ));
            }
            Ok::<(), Fail>(())
        })?;
        recode(field, out, Form::Storage, enc.into())
    })
}

/// Checks a Merkle path: recomputes the root from `leaf` (digest elements) and the
/// `sibling_count` sibling elements (from the leaves up, `arity − 1` siblings per level in
/// child order) for leaf `index`, and writes 1 to `*valid` when it equals `root`, else 0.
/// Encodings as in `zka_hash`. Returns `ZKA_OK` (whatever the verdict),
/// `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_UNKNOWN_ID`, `ZKA_ERR_LENGTH_MISMATCH`,
/// `ZKA_ERR_INVALID_ARGUMENT`, `ZKA_ERR_NOT_REDUCED`. Thread-safe.
///
/// # Safety
/// `rt` is live; `leaf` and `root` readable for a digest; `siblings` readable for
/// `sibling_count` elements; `valid` writable.
#[no_mangle]
pub unsafe extern "C" fn zka_merkle_verify(
    rt: *const zka_runtime,
    instance: u32,
    arity: u32,
    encoding: u32,
    leaf: *const c_void,
    index: usize,
    siblings: *const c_void,
    sibling_count: usize,
    root: *const c_void,
    valid: *mut u32,
) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let id = hash_id(instance)?;
        let enc = self::encoding(encoding, "merkle")?;
        let info = id.info();
        let (field, d) = (info.field, info.digest);
        // SAFETY: by the caller's contract (all three).
        let (leaf, sib, root) = unsafe {
            (
                elems(leaf, d, field, "leaf")?,
                elems(siblings, sibling_count, field, "siblings")?,
                elems(root, d, field, "root")?,
            )
        };
        // SAFETY: by the caller's contract.
        let valid = unsafe { arg_mut(valid, "valid") }?;
        let mut bufs = [leaf.to_vec(), sib.to_vec(), root.to_vec()];
        for b in bufs.iter_mut() {
            recode(field, b, enc.into(), Form::Storage)?;
        }
        let [leaf, sib, root] = &bufs;
        let ok = with_hash_field!(field, |F| {
            let cast = |b: &Vec<u8>| -> Vec<F> {
                b.chunks_exact(size_of::<F>())
                    .map(bytemuck::pod_read_unaligned)
                    .collect()
            };
            let path = zk::MerklePath {
                index,
                siblings: cast(sib),
            };
            zk::verify_path::<F>(id, arity as usize, &cast(leaf), &path, &cast(root))?
        });
        *valid = ok as u32;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Plugins: what happened to each plugin the runtime tried to load
// ---------------------------------------------------------------------------------------------

/// Plugin report status: the plugin loaded.
pub const ZKA_PLUGIN_LOADED: u32 = 0;
/// Plugin report status: no such file.
pub const ZKA_PLUGIN_ERR_NOT_FOUND: u32 = 1;
/// Plugin report status: the file is not a loadable shared library.
pub const ZKA_PLUGIN_ERR_NOT_A_LIBRARY: u32 = 2;
/// Plugin report status: the library does not export `zkaccel_plugin_entry`.
pub const ZKA_PLUGIN_ERR_MISSING_ENTRY: u32 = 3;
/// Plugin report status: the entry point returned NULL.
pub const ZKA_PLUGIN_ERR_NULL_TABLE: u32 = 4;
/// Plugin report status: built for a newer plugin ABI than this library speaks.
pub const ZKA_PLUGIN_ERR_ABI_TOO_NEW: u32 = 5;
/// Plugin report status: built for a plugin ABI older than this library accepts.
pub const ZKA_PLUGIN_ERR_ABI_TOO_OLD: u32 = 6;
/// Plugin report status: the plugin's table is smaller than its ABI version requires.
pub const ZKA_PLUGIN_ERR_TABLE_TOO_SMALL: u32 = 7;
/// Plugin report status: a required function of the table is NULL.
pub const ZKA_PLUGIN_ERR_MISSING_FUNCTION: u32 = 8;
/// Plugin report status: the plugin's initialisation (`create`) failed.
pub const ZKA_PLUGIN_ERR_INIT: u32 = 9;
/// Plugin report status: describing one of its devices failed.
pub const ZKA_PLUGIN_ERR_DEVICE: u32 = 10;

/// What happened to one plugin the runtime tried to load (from `ZKACCEL_PLUGIN_PATH`).
/// Initialise with `ZKA_PLUGIN_REPORT_INIT` before calling `zka_plugin_report_get`.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct zka_plugin_report {
    /// `sizeof(zka_plugin_report)`.
    pub struct_size: u32,
    /// Written: `ZKA_PLUGIN_LOADED` or a `ZKA_PLUGIN_ERR_*` code.
    pub status: u32,
    /// Written: 1 when the path came from `ZKACCEL_PLUGIN_PATH`, 0 from the options.
    pub from_env: u32,
    /// Written: devices the plugin added (0 when it did not load).
    pub devices: u32,
    /// Written: NUL-terminated path of the plugin file (truncated).
    pub path: [c_char; 512],
    /// Written: NUL-terminated description: the plugin's name and version when it loaded,
    /// else why it did not (truncated).
    pub message: [c_char; 512],
}

/// Writes how many plugin files the runtime tried to load (each has a report). Returns
/// `ZKA_OK` or `ZKA_ERR_NULL_POINTER`. Thread-safe.
///
/// # Safety
/// `rt` is a live runtime; `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn zka_plugin_report_count(rt: *const zka_runtime, count: *mut usize) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let s = shared.ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, "argument `rt` is NULL"))?;
        // SAFETY: by the caller's contract.
        *unsafe { arg_mut(count, "count") }? = s.rt.plugin_reports().len();
        Ok(())
    })
}

/// Describes what happened to plugin file `index` (load order): loaded, or the
/// `ZKA_PLUGIN_ERR_*` reason with its message. A plugin that fails to load never fails
/// `zka_runtime_create`; this is where the failure is reported. `report->struct_size` must
/// be set. Returns `ZKA_OK`, `ZKA_ERR_NULL_POINTER`, `ZKA_ERR_STRUCT_SIZE`,
/// `ZKA_ERR_INVALID_ARGUMENT` (index out of range). Thread-safe.
///
/// # Safety
/// `rt` is a live runtime; `report` is NULL or a writable `zka_plugin_report`.
#[no_mangle]
pub unsafe extern "C" fn zka_plugin_report_get(
    rt: *const zka_runtime,
    index: usize,
    report: *mut zka_plugin_report,
) -> i32 {
    let shared = shared_of(rt);
    guard(shared, || {
        let s = shared.ok_or_else(|| fail(ZKA_ERR_NULL_POINTER, "argument `rt` is NULL"))?;
        // SAFETY: by the caller's contract.
        let out = unsafe { arg_mut(report, "report") }?;
        check_size(out.struct_size, size_of::<zka_plugin_report>(), "report")?;
        let reports = s.rt.plugin_reports();
        let r = reports.get(index).ok_or_else(|| {
            fail(
                ZKA_ERR_INVALID_ARGUMENT,
                format!(
                    "plugin report {index} out of range ({} reports)",
                    reports.len()
                ),
            )
        })?;
        out.from_env = (r.source == zk::PluginSource::Env) as u32;
        copy_str(&mut out.path, &r.path.to_string_lossy());
        match &r.outcome {
            Ok(p) => {
                out.status = ZKA_PLUGIN_LOADED;
                out.devices = p.devices.len() as u32;
                copy_str(
                    &mut out.message,
                    &format!("plugin '{}' {} (ABI {})", p.name, p.version, p.abi_version),
                );
            }
            Err(e) => {
                out.status = e.code();
                out.devices = 0;
                copy_str(&mut out.message, &e.to_string());
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_version_matches_soname() {
        assert_eq!(env!("ZKA_BUILD_ABI"), ZKA_ABI_VERSION.to_string());
        assert_eq!(
            ZKA_VERSION_NUMBER,
            ZKA_VERSION_MAJOR * 1_000_000 + ZKA_VERSION_MINOR * 1_000 + ZKA_VERSION_PATCH
        );
        assert_eq!(
            env!("CARGO_PKG_VERSION_MAJOR"),
            ZKA_VERSION_MAJOR.to_string()
        );
        assert_eq!(
            env!("CARGO_PKG_VERSION_MINOR"),
            ZKA_VERSION_MINOR.to_string()
        );
        assert_eq!(
            env!("CARGO_PKG_VERSION_PATCH"),
            ZKA_VERSION_PATCH.to_string()
        );
    }

    #[test]
    fn babybear_words_round_trip() {
        let mut words: [u32; 3] = [0, 7, zkaccel_backend::BabyBear::P - 1];
        let bytes = bytemuck::cast_slice_mut(&mut words);
        recode(FieldId::BabyBear, bytes, Form::Canonical, Form::Montgomery)
            .map_err(|f| f.msg)
            .unwrap();
        recode(FieldId::BabyBear, bytes, Form::Montgomery, Form::Canonical)
            .map_err(|f| f.msg)
            .unwrap();
        assert_eq!(words, [0, 7, zkaccel_backend::BabyBear::P - 1]);
        let mut bad: [u32; 2] = [1, zkaccel_backend::BabyBear::P];
        let e = recode(
            FieldId::BabyBear,
            bytemuck::cast_slice_mut(&mut bad),
            Form::Canonical,
            Form::Storage,
        )
        .err()
        .unwrap();
        assert_eq!(e.code, ZKA_ERR_NOT_REDUCED);
        assert!(e.msg.contains("element 1"), "{}", e.msg);
    }
}
