//! # zkaccel-backend
//!
//! The contract between the zkaccel runtime and its compute backends (CPU, CUDA, OpenCL,
//! FPGA, third-party plugins), and the types both sides share.
//!
//! - **Element types** ([`field`], [`curve`], [`curves`]): BN254, BLS12-381 and BLS12-377
//!   fields and points, Goldilocks and BabyBear, as `repr(C)`/`repr(transparent)`
//!   little-endian limb arrays that cast to bytes with `bytemuck`, so the same memory goes to
//!   a device or across the C ABI without a copy. Each type carries its run-time id
//!   ([`ids`]); [`with_curve_group!`] and [`with_ntt_field!`] map ids back to types in one
//!   place.
//! - **Views** ([`view`]): borrowed arrays in the caller's layout (stride, how infinity is
//!   marked, Montgomery or canonical encoding), read in place.
//! - **The backend traits** ([`backend`]): object-safe, one required method, every operation
//!   defaulted to a typed `Unsupported` error, with room for device-resident state (prepared
//!   MSM bases, NTT domains).
//! - **Errors** ([`error`]): what a backend may report; validation belongs to the runtime.
//! - **The conformance suite** (feature `conformance`, [`conformance`]): one macro that
//!   instantiates every test for a backend, checked against independent references
//!   (arkworks, Plonky3) and naive implementations.

pub mod backend;
pub mod curve;
pub mod curves;
pub mod deadline;
pub mod error;
pub mod field;
pub mod hash;
pub mod ids;
pub mod typed;
pub mod view;

#[cfg(any(feature = "ark05", feature = "ark06"))]
pub mod ark;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use backend::{
    Backend, BackendNttDomain, BatchLayout, Capabilities, DeviceInfo, DeviceKind, HashOp,
    MsmCapability, NttCapability, NttConfig, NttData, NttDirection, NttDomainSpec, NttOrder,
    PreparedBases, RawPoint,
};
pub use curve::{Affine, CurveGroup, Projective, Xyzz};
pub use error::{BackendError, BackendResult};
pub use field::{BabyBear, Field, Fp2, Goldilocks, PrimeField, TwoAdicField};
pub use ids::{CurveGroupId, CurveId, FieldId, GroupId, OpId};
pub use view::{Encoding, Infinity, PointsView, RawPoints, RawScalars, ScalarsView};

// Compile-time layout guarantees: the bytes handed to devices and to C are exactly these.
const _: () = {
    use core::mem::{align_of, size_of};
    assert!(size_of::<curves::Bn254Fr>() == 32 && align_of::<curves::Bn254Fr>() == 8);
    assert!(size_of::<curves::Bls12_381Fq>() == 48 && align_of::<curves::Bls12_381Fq>() == 8);
    assert!(size_of::<curves::Bls12_377Fq>() == 48);
    assert!(size_of::<Goldilocks>() == 8 && align_of::<Goldilocks>() == 8);
    assert!(size_of::<BabyBear>() == 4 && align_of::<BabyBear>() == 4);
    assert!(size_of::<curves::Bn254Fq2>() == 64);
    assert!(size_of::<Affine<curves::Bn254G1>>() == 64);
    assert!(size_of::<Projective<curves::Bn254G1>>() == 96);
    assert!(size_of::<Affine<curves::Bls12_381G1>>() == 96);
    assert!(size_of::<Affine<curves::Bn254G2>>() == 128);
    assert!(size_of::<Affine<curves::Bls12_381G2>>() == 192);
    assert!(size_of::<Projective<curves::Bls12_381G2>>() == 8 * RawPoint::MAX_LIMBS);
};
