//! Hashing entry points: batches of Poseidon/Poseidon2 permutations and hashes, and Merkle
//! trees, validated once and dispatched like every other operation.

use crate::error::{Error, Result};
use crate::registry::{Route, Runtime};
use crate::stats::CallReport;
use crate::verify::{self, CallOptions, Verification};
use std::cell::RefCell;
use zkaccel_backend::hash::modes::{check_op, path_from_layers, tree_height};
use zkaccel_backend::hash::{HashError, HashField, HashId, MerklePath};
use zkaccel_backend::{HashOp, OpId, PrimeField};

/// A Merkle tree with every layer kept: `layers()[0]` is the leaves, the last the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree<F> {
    id: HashId,
    arity: usize,
    layers: Vec<Vec<F>>,
}

impl<F: HashField> MerkleTree<F> {
    /// The instance.
    pub fn id(&self) -> HashId {
        self.id
    }
    /// Children per node.
    pub fn arity(&self) -> usize {
        self.arity
    }
    /// Every layer, leaves first, root last (`digest` elements per node).
    pub fn layers(&self) -> &[Vec<F>] {
        &self.layers
    }
    /// The root digest.
    pub fn root(&self) -> &[F] {
        self.layers.last().expect("a tree has at least its leaves")
    }
    /// The authentication path of leaf `index`.
    pub fn path(&self, index: usize) -> Result<MerklePath<F>> {
        Ok(path_from_layers(
            &self.layers,
            self.arity,
            self.id.info().digest,
            index,
        )?)
    }
    /// Checks a path against this tree's root (see [`verify_path`]).
    pub fn verify(&self, leaf: &[F], path: &MerklePath<F>) -> Result<bool> {
        verify_path(self.id, self.arity, leaf, path, self.root())
    }
}

/// Recomputes the root from `leaf` and `path` and compares it with `root` (on the CPU: a
/// path is a handful of permutations). `Ok(false)` for a path that does not lead to `root`.
pub fn verify_path<F: HashField>(
    id: HashId,
    arity: usize,
    leaf: &[F],
    path: &MerklePath<F>,
    root: &[F],
) -> Result<bool> {
    check_field::<F>(id)?;
    Ok(zkaccel_backend::hash::modes::verify_path(
        id, arity, leaf, path, root,
    )?)
}

fn check_field<F: PrimeField>(id: HashId) -> Result<()> {
    let expected = id.info().field;
    if F::ID != expected {
        return Err(HashError::FieldMismatch {
            id,
            expected,
            got: F::ID,
        }
        .into());
    }
    Ok(())
}

impl Runtime {
    /// Permutes, in place, every `width`-element state of `states`.
    pub fn permute<F: HashField>(&self, id: HashId, states: &mut [F]) -> Result<CallReport> {
        check_field::<F>(id)?;
        self.hash_raw(id, HashOp::Permute, &[], bytemuck::cast_slice_mut(states))
    }

    /// Hashes `out.len() / digest` messages of `input_len` elements each (concatenated in
    /// `inputs`) into `out`, `digest` elements per message.
    pub fn hash_batch<F: HashField>(
        &self,
        id: HashId,
        inputs: &[F],
        input_len: usize,
        out: &mut [F],
    ) -> Result<CallReport> {
        check_field::<F>(id)?;
        self.hash_raw(
            id,
            HashOp::Hash { input_len },
            bytemuck::cast_slice(inputs),
            bytemuck::cast_slice_mut(out),
        )
    }

    /// Hashes one message; returns its digest.
    pub fn hash<F: HashField>(&self, id: HashId, input: &[F]) -> Result<Vec<F>> {
        let mut out = vec![F::ZERO; id.info().digest];
        self.hash_batch(id, input, input.len(), &mut out)?;
        Ok(out)
    }

    /// The erased entry point (the C ABI's): element counts are checked against the
    /// instance before dispatch; data are in storage form of the instance's field.
    pub fn hash_raw(
        &self,
        id: HashId,
        op: HashOp,
        input: &[u8],
        output: &mut [u8],
    ) -> Result<CallReport> {
        self.hash_raw_with(id, op, input, output, &CallOptions::default())
    }

    /// The same with per-call verification and time limit.
    pub fn hash_raw_with(
        &self,
        id: HashId,
        op: HashOp,
        input: &[u8],
        output: &mut [u8],
        call: &CallOptions,
    ) -> Result<CallReport> {
        let info = id.info();
        let elem = info.field.element_bytes();
        for (what, len) in [("input", input.len()), ("output", output.len())] {
            if !len.is_multiple_of(elem) {
                return Err(Error::BadLayout(format!(
                    "hash {what} of {len} bytes is not a whole number of {} elements",
                    info.field
                )));
            }
        }
        let items = check_op(&info, op, input.len() / elem, output.len() / elem)?;
        let candidates = self.candidates(
            |d| d.capabilities.supports_hash(id),
            Route::hash(id, (input.len() + output.len()) / elem),
        );
        // A permutation works in place: keep the input so that a fallback, or the check,
        // starts from it.
        let keep = op == HashOp::Permute
            && (candidates.len() > 1 || self.verification_level(call) != Verification::Off);
        let saved = keep.then(|| output.to_vec());
        let output = RefCell::new(output);
        self.dispatch(
            OpId::Hash,
            || format!("{id} {op:?} × {items}"),
            candidates,
            call,
            |d| {
                let mut out = output.borrow_mut();
                if let Some(s) = &saved {
                    out.copy_from_slice(s);
                }
                d.backend.hash(id, op, input, &mut out)
            },
            |_, (), level| {
                let original = saved.as_deref().unwrap_or(input);
                self.check_hash(id, op, original, &output.borrow(), level)
            },
        )
        .map(|((), r)| r)
    }

    /// Recomputes a sample of the items of a hashing result on the CPU (all of them under
    /// `Full`). `input` is the operation's input (the original states for a permutation).
    pub(crate) fn check_hash(
        &self,
        id: HashId,
        op: HashOp,
        input: &[u8],
        output: &[u8],
        level: Verification,
    ) -> std::result::Result<(), String> {
        let info = id.info();
        let elem = info.field.element_bytes();
        let (in_len, out_len) = match op {
            HashOp::Permute => (info.width, info.width),
            HashOp::Hash { input_len } => (input_len, info.digest),
            HashOp::Compress { arity } => (arity * info.digest, info.digest),
        };
        let (in_len, out_len) = (in_len * elem, out_len * elem);
        let items = output.len() / out_len;
        let oracle = self.oracle();
        let recompute = |inp: &[u8], out: &mut [u8]| match op {
            HashOp::Permute => {
                out.copy_from_slice(inp);
                oracle.hash(id, op, &[], out)
            }
            _ => oracle.hash(id, op, inp, out),
        };
        let cpu_failed = |e| format!("the CPU recomputation failed: {e}");
        if level == Verification::Full {
            let mut expected = vec![0u8; output.len()];
            recompute(input, &mut expected).map_err(cpu_failed)?;
            return match (0..items)
                .find(|&k| expected[k * out_len..][..out_len] != output[k * out_len..][..out_len])
            {
                Some(k) => Err(format!("output {k} of {items} differs from the CPU's")),
                None => Ok(()),
            };
        }
        let mut expected = vec![0u8; out_len];
        for k in verify::hash_sample(level, items) {
            recompute(&input[k * in_len..][..in_len], &mut expected).map_err(cpu_failed)?;
            if expected[..] != output[k * out_len..][..out_len] {
                return Err(format!("output {k} of {items} differs from the CPU's"));
            }
        }
        Ok(())
    }

    /// Builds the Merkle tree of arity `arity` over `leaves` (`n·digest` elements, `n` a
    /// power of the arity), keeping every layer. One dispatched call: all layers are built
    /// on the same device.
    pub fn merkle_tree<F: HashField>(
        &self,
        id: HashId,
        arity: usize,
        leaves: &[F],
    ) -> Result<MerkleTree<F>> {
        self.merkle_tree_with(id, arity, leaves, &CallOptions::default())
    }

    /// The same with per-call verification and time limit.
    pub fn merkle_tree_with<F: HashField>(
        &self,
        id: HashId,
        arity: usize,
        leaves: &[F],
        call: &CallOptions,
    ) -> Result<MerkleTree<F>> {
        check_field::<F>(id)?;
        let info = id.info();
        info.check_arity(arity)?;
        let d = info.digest;
        if !leaves.len().is_multiple_of(d) {
            return Err(HashError::Length {
                what: "Merkle leaves (a multiple of the digest)",
                expected: leaves.len().div_ceil(d) * d,
                got: leaves.len(),
            }
            .into());
        }
        let height = tree_height(leaves.len() / d, arity)?;
        let candidates = self.candidates(
            |dev| dev.capabilities.supports_hash(id),
            Route::hash(id, leaves.len()),
        );
        let (layers, _) = self.dispatch(
            OpId::Hash,
            || {
                format!(
                    "{id} Merkle tree, {} leaves, arity {arity}",
                    leaves.len() / d
                )
            },
            candidates,
            call,
            |dev| {
                let mut layers: Vec<Vec<F>> = Vec::with_capacity(height + 1);
                layers.push(leaves.to_vec());
                for _ in 0..height {
                    let prev = layers.last().expect("a layer");
                    let mut next = vec![F::ZERO; prev.len() / arity];
                    dev.backend.hash(
                        id,
                        HashOp::Compress { arity },
                        bytemuck::cast_slice(prev),
                        bytemuck::cast_slice_mut(&mut next),
                    )?;
                    layers.push(next);
                }
                Ok(layers)
            },
            |_, layers: &Vec<Vec<F>>, level| {
                for (l, pair) in layers.windows(2).enumerate() {
                    self.check_hash(
                        id,
                        HashOp::Compress { arity },
                        bytemuck::cast_slice(&pair[0]),
                        bytemuck::cast_slice(&pair[1]),
                        level,
                    )
                    .map_err(|e| format!("layer {}: {e}", l + 1))?;
                }
                Ok(())
            },
        )?;
        Ok(MerkleTree { id, arity, layers })
    }
}

impl From<HashError> for Error {
    fn from(e: HashError) -> Self {
        Error::Hash(e)
    }
}
