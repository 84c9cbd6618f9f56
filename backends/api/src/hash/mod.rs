//! Poseidon and Poseidon2: parameters, named instances and reference permutations shared by
//! every backend (the CPU backend's fast code, the host side of GPU and FPGA backends, the
//! conformance suite).
//!
//! - [`HashId`] names an instance after whose parameters it uses and carries a stable
//!   number: circomlib's Poseidon over BN254 for every width it supports
//!   (`poseidon-circom-bn254-t2` … `-t17`), the HorizenLabs Poseidon2 reference instances
//!   (`poseidon2-horizen-bn254-t3`, `-goldilocks-t8/t12/t16/t20`, `-babybear-t16/t24`) and
//!   Plonky3's default Poseidon2 instances (`poseidon2-plonky3-babybear-t16/t24/t32`,
//!   `-goldilocks-t8/t12/t16`). [`HashId::info`] gives width, rounds, sponge rate and digest
//!   size; [`HashInfo::merkle_arities`] the Merkle arities it supports.
//! - [`HashField::instance`] maps an id to its parameters over the static field type
//!   ([`Bn254Fr`](crate::curves::Bn254Fr), [`Goldilocks`](crate::Goldilocks),
//!   [`BabyBear`](crate::BabyBear)). Parameters are derived on first use, once per process:
//!   round constants (and Poseidon's MDS matrix) from the Grain LFSR of the Poseidon paper
//!   ([`grain`]), exactly as the reference scripts do; only the Poseidon2 internal diagonals
//!   are data ([`horizen_diag`], [`instances::plonky3_diagonals`]).
//! - [`poseidon`] and [`poseidon2`] hold the permutations (Poseidon in the plain and in the
//!   optimised sparse-matrix form); [`modes`] defines, plainly, what hashing, Merkle
//!   compression, tree building and path verification compute for each family (circomlib's
//!   fixed-length hash; Plonky3's `PaddingFreeSponge` and `TruncatedPermutation`).
//!
//! Errors are [`HashError`]; they convert into [`BackendError::BadInput`] for the backend
//! traits.

pub mod grain;
pub mod horizen_diag;
pub mod instances;
pub mod modes;
pub mod poseidon;
pub mod poseidon2;

pub use instances::{HashFamily, HashField, HashId, HashInfo, Instance};
pub use modes::MerklePath;

use crate::error::BackendError;
use crate::ids::FieldId;

/// What is wrong with a hashing request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// A buffer has the wrong number of elements.
    #[error("{what}: expected {expected} elements, got {got}")]
    Length {
        /// Which buffer.
        what: &'static str,
        /// Elements expected.
        expected: usize,
        /// Elements given.
        got: usize,
    },
    /// An input length outside what the instance accepts.
    #[error("wrong input length: expected {expected}, got {got}")]
    InputLength {
        /// What is accepted.
        expected: String,
        /// What was given.
        got: usize,
    },
    /// An element given as a canonical integer is not below the modulus.
    #[error("element {index} is not below the field modulus")]
    NotCanonical {
        /// Position of the offending element.
        index: usize,
    },
    /// No instance has this name or number.
    #[error("unknown hash instance '{0}'")]
    UnknownInstance(String),
    /// The instance is defined over another field than the one the data is in.
    #[error("{id} is defined over {expected}, not {got}")]
    FieldMismatch {
        /// The instance.
        id: HashId,
        /// Its field.
        expected: FieldId,
        /// The field of the data.
        got: FieldId,
    },
    /// The instance's width does not allow this Merkle arity.
    #[error("{id} does not support Merkle arity {arity} (supported: {supported:?})")]
    UnsupportedArity {
        /// The instance.
        id: HashId,
        /// The arity asked for.
        arity: usize,
        /// The arities it supports.
        supported: &'static [usize],
    },
    /// A Merkle tree needs a leaf count that is a power of the arity (and at least one leaf).
    #[error("{leaves} leaves do not form a tree of arity {arity} (need arity^h leaves)")]
    TreeShape {
        /// Leaves given.
        leaves: usize,
        /// The arity.
        arity: usize,
    },
}

impl From<HashError> for BackendError {
    fn from(e: HashError) -> Self {
        BackendError::BadInput(e.to_string())
    }
}

#[cfg(test)]
mod tests;
