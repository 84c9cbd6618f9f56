//! The runtime's errors: validation failures (one variant each, with the offending index or
//! value) and dispatch failures (with every backend's own error).

use zkaccel_backend::{BackendError, CurveGroupId, FieldId, OpId};

/// One backend's failed attempt at a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Registry index of the device.
    pub device: usize,
    /// Device name.
    pub name: String,
    /// What it reported.
    pub error: BackendError,
}

/// Everything a runtime call can report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// MSM bases and scalars have different lengths.
    #[error("MSM length mismatch: {bases} bases but {scalars} scalars")]
    LengthMismatch {
        /// Number of bases.
        bases: usize,
        /// Number of scalars.
        scalars: usize,
    },
    /// More scalars than the prepared bases hold.
    #[error("{scalars} scalars for a bases handle of {bases} points")]
    TooManyScalars {
        /// Points in the handle.
        bases: usize,
        /// Scalars given.
        scalars: usize,
    },
    /// A scalar's integer is not below the scalar-field modulus.
    #[error("scalar {index} is not below the {field} modulus")]
    ScalarNotReduced {
        /// Index of the first bad scalar.
        index: usize,
        /// The scalar field.
        field: FieldId,
    },
    /// A field element (NTT input, coset, root) is not below the modulus.
    #[error("element {index} is not below the {field} modulus")]
    ElementNotReduced {
        /// Index of the first bad element.
        index: usize,
        /// The field.
        field: FieldId,
    },
    /// Scalars of one field were given for a curve whose scalar field is another.
    #[error("scalars are {got} elements but the curve's scalar field is {expected}")]
    ScalarFieldMismatch {
        /// The curve's scalar field.
        expected: FieldId,
        /// The field the scalars were described as.
        got: FieldId,
    },
    /// A point coordinate's integer is not below the base-field modulus.
    #[error("base {index}: a coordinate is not below the {id} base-field modulus")]
    PointNotReduced {
        /// Index of the first bad point.
        index: usize,
        /// The (curve, group).
        id: CurveGroupId,
    },
    /// A point does not satisfy the curve equation (checked when validation asks for it).
    #[error("base {index} is not on the {id} curve")]
    PointNotOnCurve {
        /// Index of the first bad point.
        index: usize,
        /// The (curve, group).
        id: CurveGroupId,
    },
    /// A point is on the curve but outside the prime-order subgroup.
    #[error("base {index} is not in the prime-order subgroup of {id}")]
    PointNotInSubgroup {
        /// Index of the first bad point.
        index: usize,
        /// The (curve, group).
        id: CurveGroupId,
    },
    /// The layout description of a point array is inconsistent (stride, flag, length).
    #[error("bad point layout: {0}")]
    BadLayout(String),
    /// An NTT length that is not a power of two.
    #[error("NTT size {len} is not a power of two")]
    NttSizeNotPowerOfTwo {
        /// The length given.
        len: usize,
    },
    /// An NTT size beyond the field's two-adicity.
    #[error("NTT size 2^{log_n} exceeds the {field} two-adicity 2^{max_log_n}")]
    NttSizeTooLarge {
        /// `log2` of the size asked for.
        log_n: u32,
        /// The field.
        field: FieldId,
        /// The largest `log2` the field allows.
        max_log_n: u32,
    },
    /// Data length, domain size and batch count disagree.
    #[error("NTT batch shape: {len} elements is not {batch} columns of {n}")]
    BatchShape {
        /// Elements given.
        len: usize,
        /// Domain size.
        n: usize,
        /// Columns asked for.
        batch: usize,
    },
    /// A batch of zero columns.
    #[error("NTT batch must have at least one column")]
    EmptyBatch,
    /// A caller-given root is not a primitive root of unity of the domain's order.
    #[error("the given root is not a primitive 2^{log_n}-th root of unity in {field}")]
    InvalidRoot {
        /// The domain's `log2` size.
        log_n: u32,
        /// The field.
        field: FieldId,
    },
    /// A coset shift of zero (or not a valid element).
    #[error("coset shift must be a non-zero element of {field}")]
    InvalidCoset {
        /// The field.
        field: FieldId,
    },
    /// No registered device can run this call under the current policy.
    #[error("no backend can run {op} ({detail}) under policy {policy}")]
    NoCapableBackend {
        /// The operation.
        op: OpId,
        /// What was asked (curve, field, size).
        detail: String,
        /// The routing policy in force.
        policy: String,
    },
    /// Every capable backend failed.
    #[error("{op} failed on every capable backend: {}", attempts.iter().map(|a| format!("[{}] {}: {}", a.device, a.name, a.error)).collect::<Vec<_>>().join("; "))]
    AllBackendsFailed {
        /// The operation.
        op: OpId,
        /// Each failed attempt in order.
        attempts: Vec<Attempt>,
    },
    /// A device's result failed verification and the runtime is set to report it
    /// ([`crate::OnVerifyFailure::Error`]) rather than rerun the call.
    #[error("{op} result from device [{device}] {name} failed verification: {detail}")]
    VerificationFailed {
        /// The operation.
        op: OpId,
        /// Registry index of the device.
        device: usize,
        /// Device name.
        name: String,
        /// What the check found.
        detail: String,
    },
    /// A result computed elsewhere (another process or machine) failed its check
    /// ([`Runtime::check_ntt_result_raw`](crate::Runtime::check_ntt_result_raw) and friends).
    #[error("{op} result from {origin} rejected: {detail}")]
    ResultRejected {
        /// The operation.
        op: OpId,
        /// Who computed it.
        origin: String,
        /// What the check found.
        detail: String,
    },
    /// The call's time limit passed before a device produced a result.
    #[error("{op} timed out after {millis} ms ({} failed attempts before)", attempts.len())]
    Timeout {
        /// The operation.
        op: OpId,
        /// Milliseconds since the call started.
        millis: u64,
        /// Attempts that failed before the limit.
        attempts: Vec<Attempt>,
    },
    /// A hashing request that does not fit its instance (lengths, arity, tree shape, field,
    /// unknown instance).
    #[error("hash: {0}")]
    Hash(zkaccel_backend::hash::HashError),
    /// A runtime could not be set up.
    #[error("runtime setup: {0}")]
    Setup(String),
}

/// Result alias for runtime calls.
pub type Result<T, E = Error> = core::result::Result<T, E>;
