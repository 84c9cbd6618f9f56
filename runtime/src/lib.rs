//! # zkaccel
//!
//! A proving-acceleration runtime: a prover hands it multi-scalar multiplications and
//! number-theoretic transforms and Poseidon/Poseidon2 hashing, and the runtime routes each call to the
//! best device it has — a CUDA GPU, an OpenCL device, an FPGA card, or the CPU, which is
//! always there — falling back to the next capable device when one fails.
//!
//! ```
//! use zkaccel::{Runtime, curves::{Bn254G1, Bn254Fr}, Affine, Projective, PrimeField};
//!
//! let rt = Runtime::new()?;
//! let g = Projective::<Bn254G1>::generator();
//! let bases: Vec<Affine<Bn254G1>> = (1..=4u64).map(|k| g.mul(&Bn254Fr::from_u64(k)).to_affine()).collect();
//! let scalars: Vec<Bn254Fr> = (1..=4u64).map(Bn254Fr::from_u64).collect();
//! // 1·G + 2·2G + 3·3G + 4·4G = 30·G
//! let r = rt.msm(&bases, &scalars)?;
//! assert_eq!(r, g.mul(&Bn254Fr::from_u64(30)));
//!
//! // NTT over the BN254 scalar field, through a domain object (twiddles cached in it).
//! let domain = rt.ntt_domain::<Bn254Fr>(3)?;
//! let mut v: Vec<Bn254Fr> = (0..8u64).map(Bn254Fr::from_u64).collect();
//! let original = v.clone();
//! domain.forward(&mut v)?;
//! domain.inverse(&mut v)?;
//! assert_eq!(v, original);
//! # Ok::<(), zkaccel::Error>(())
//! ```
//!
//! ## Contract
//! - **Validation happens once, here, before dispatch**, each failure with its own
//!   [`Error`] variant: length mismatches, NTT sizes that are not powers of two or exceed the
//!   field's two-adicity, inconsistent batch shapes, values not below the modulus, and —
//!   when [`PointValidation`] asks for it — points off the curve or outside the subgroup.
//!   Backends only report device failures.
//! - **Routing** follows a [`Policy`]: `Auto` (the fastest device for the operation and
//!   size according to the machine's calibration [`Profile`] when there is one, else
//!   accelerators for large inputs and the CPU for small ones), `Prefer(kind)` or
//!   `Only(kind)`. A failing backend hands the call to the
//!   next capable one; each fallback is logged with `tracing` and counted in [`Stats`].
//! - **State belongs to objects, never to globals**: a [`Runtime`] is cheap to clone and
//!   safe to share between threads; [`MsmBases`] (an SRS kept for many MSMs) and
//!   [`NttDomain`] (twiddles) are independent objects.
//! - **Encodings** are explicit: field elements are in Montgomery form unless a view says
//!   canonical; affine points mark infinity as `(0, 0)` or, for arkworks slices, with their
//!   flag byte (read in place).

mod check;
mod error;
pub mod fault;
mod hash;
mod msm;
mod ntt;
pub mod profile;
mod registry;
pub mod split;
mod stats;
mod validate;
pub mod verify;

#[cfg(any(feature = "ark05", feature = "ark06"))]
mod ark;

pub use error::{Attempt, Error, Result};
pub use hash::{verify_path, MerkleTree};
pub use msm::{MsmBases, MsmOptions, PointValidation, RawMsmBases};
pub use ntt::{NttDomain, RawNttDomain};
pub use profile::Profile;
pub use registry::{Device, Policy, Runtime, RuntimeBuilder};
pub use split::{MsmPart, MsmSplit};
pub use stats::{CallReport, DeviceStats, Stats};
pub use verify::{CallOptions, OnVerifyFailure, Verification};
/// Hash instances, their parameters and the semantics of each operation.
pub use zkaccel_backend::hash::{HashError, HashFamily, HashField, HashId, HashInfo, MerklePath};
/// Plugin load reports and errors (see [`Runtime::plugin_reports`]).
pub use zkaccel_plugin::{
    LoadedPlugin, PluginLoadError, PluginLoadReport, PluginSource, PLUGIN_PATH_ENV,
};

/// arkworks 0.6 interop traits (feature `ark06`).
#[cfg(feature = "ark06")]
pub use zkaccel_backend::ark::{Ark06Curve, Ark06Field};
/// arkworks interop traits (feature `ark05`).
#[cfg(feature = "ark05")]
pub use zkaccel_backend::ark::{ArkCurve, ArkField};
/// Field types for the STARK fields.
pub use zkaccel_backend::field::{BabyBear, Goldilocks};
pub use zkaccel_backend::{
    curves, Affine, Backend, BackendError, BatchLayout, Capabilities, CurveGroup, CurveGroupId,
    CurveId, DeviceInfo, DeviceKind, Encoding, Field, FieldId, GroupId, HashOp, Infinity,
    NttConfig, NttDirection, NttOrder, OpId, PointsView, PrimeField, Projective, RawPoint,
    RawPoints, RawScalars, ScalarsView, TwoAdicField,
};

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
