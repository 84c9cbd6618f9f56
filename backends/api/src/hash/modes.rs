//! What the hashing operations compute, written plainly: the definitions every backend's
//! results are checked against (the CPU backend's batched, parallel versions in
//! `zkaccel_cpu::hash` must agree with these bit for bit).
//!
//! # Hash (sponge)
//!
//! - **circomlib Poseidon** (`poseidon-circom-bn254-t{t}`): fixed-length, as circomlib's
//!   `Poseidon(t − 1)`: the input must have exactly `t − 1` elements; the state is
//!   `[0, input…]` (capacity element 0 first, no padding, no length tag: circomlib's domain
//!   separation is the choice of width), the output is `state[0]` after one permutation.
//!   A message of any length `1..=16` is hashed with the width it selects
//!   ([`HashId::circom_inputs`]).
//! - **Poseidon2** (HorizenLabs and Plonky3 instances): Plonky3's
//!   `PaddingFreeSponge<WIDTH, RATE, OUT>` with `RATE = info.rate`, `OUT = info.digest`
//!   (BabyBear t16: rate 8, out 8; t24: rate 16, out 8; t32: rate 24, out 8; Goldilocks
//!   t8: rate 4, out 4; t12: rate 8, out 4; t16: rate 12, out 4; t20: rate 16, out 4; BN254
//!   t3: rate 2, out 1). The state starts at zero; input is absorbed in overwrite mode, `RATE`
//!   elements into `state[0..RATE]` before each permutation; a final partial chunk overwrites
//!   only its prefix and is permuted; no padding and no length encoding, so messages that
//!   differ by trailing zeros within the last chunk collide (Plonky3 uses it only for
//!   fixed-length inputs); the empty message hashes to zeros without a permutation. The
//!   output is `state[0..OUT]`.
//!
//! # Compression (Merkle nodes)
//!
//! - circomlib: a node of arity `t − 1` is `Poseidon(children)` (the hash above).
//! - Poseidon2: Plonky3's `TruncatedPermutation<N = arity, CHUNK = digest, WIDTH>`: the state
//!   is the children's digests concatenated, zero-filled to the width, and the node is the
//!   first `digest` elements of its permutation (for BN254 t3 this is also `zkhash`'s
//!   `MerkleTreeHash::compress`: `perm([l, r, 0])[0]`).
//!
//! # Merkle trees
//!
//! Leaves are digests (`digest` elements each) in order; a tree of arity `k` needs `k^h`
//! leaves (`h ≥ 0`); layer 0 is the leaves, each next layer compresses consecutive groups of
//! `k` nodes, the last layer is the root. A path lists, from the leaves up, the `k − 1`
//! siblings of the current node in child order (the node itself left out).

use super::instances::{HashFamily, HashField, HashId, HashInfo};
use super::HashError;
use crate::field::PrimeField;

/// Checks that `len` equals `expected`, naming the buffer.
pub fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), HashError> {
    if expected == got {
        Ok(())
    } else {
        Err(HashError::Length {
            what,
            expected,
            got,
        })
    }
}

/// Checks that `n` leaves form a tree of the given arity; returns the height.
pub fn tree_height(n: usize, arity: usize) -> Result<usize, HashError> {
    if n == 0 || arity < 2 {
        return Err(HashError::TreeShape { leaves: n, arity });
    }
    let mut h = 0;
    let mut m = n;
    while m > 1 {
        if !m.is_multiple_of(arity) {
            return Err(HashError::TreeShape { leaves: n, arity });
        }
        m /= arity;
        h += 1;
    }
    Ok(h)
}

/// Elements from canonical integers, rejecting any that is not below the modulus.
pub fn from_canonical_slice<F: PrimeField>(v: &[F::Limbs]) -> Result<Vec<F>, HashError> {
    v.iter()
        .enumerate()
        .map(|(index, x)| F::from_canonical(x).ok_or(HashError::NotCanonical { index }))
        .collect()
}

/// The expected input length of one hash, `None` when any length is accepted.
pub fn fixed_input_len(info: &HashInfo) -> Option<usize> {
    match info.family {
        HashFamily::PoseidonCircom => Some(info.width - 1),
        _ => None,
    }
}

/// Hashes one message into `out` (`info.digest` elements), as the module docs define.
pub fn hash<F: HashField>(id: HashId, input: &[F], out: &mut [F]) -> Result<(), HashError> {
    let info = id.info();
    let inst = F::instance(id)?;
    check_len("hash output", info.digest, out.len())?;
    let t = info.width;
    let mut state = vec![F::ZERO; t];
    if let Some(n) = fixed_input_len(&info) {
        check_len("circomlib Poseidon input", n, input.len())?;
        state[1..].copy_from_slice(input);
        inst.permute(&mut state);
    } else {
        for chunk in input.chunks(info.rate) {
            state[..chunk.len()].copy_from_slice(chunk);
            inst.permute(&mut state);
        }
    }
    out.copy_from_slice(&state[..info.digest]);
    Ok(())
}

/// Compresses `arity` child digests (concatenated) into one node digest.
pub fn compress<F: HashField>(
    id: HashId,
    arity: usize,
    children: &[F],
    out: &mut [F],
) -> Result<(), HashError> {
    let info = id.info();
    info.check_arity(arity)?;
    check_len("Merkle children", arity * info.digest, children.len())?;
    match info.family {
        HashFamily::PoseidonCircom => hash(id, children, out),
        _ => {
            check_len("Merkle node", info.digest, out.len())?;
            let mut state = vec![F::ZERO; info.width];
            state[..children.len()].copy_from_slice(children);
            F::instance(id)?.permute(&mut state);
            out.copy_from_slice(&state[..info.digest]);
            Ok(())
        }
    }
}

/// The root of the tree over `leaves` (`n·digest` elements), computed recursively: the
/// naive definition the fast tree builders are tested against.
pub fn merkle_root_naive<F: HashField>(
    id: HashId,
    arity: usize,
    leaves: &[F],
) -> Result<Vec<F>, HashError> {
    let info = id.info();
    info.check_arity(arity)?;
    let d = info.digest;
    if !leaves.len().is_multiple_of(d) {
        return Err(HashError::Length {
            what: "Merkle leaves (a multiple of the digest)",
            expected: (leaves.len() / d + 1) * d,
            got: leaves.len(),
        });
    }
    tree_height(leaves.len() / d, arity)?;
    fn rec<F: HashField>(id: HashId, arity: usize, d: usize, nodes: &[F]) -> Vec<F> {
        if nodes.len() == d {
            return nodes.to_vec();
        }
        let part = nodes.len() / arity;
        let children: Vec<F> = nodes
            .chunks(part)
            .flat_map(|c| rec(id, arity, d, c))
            .collect();
        let mut out = vec![F::ZERO; d];
        compress(id, arity, &children, &mut out).expect("shape checked");
        out
    }
    Ok(rec(id, arity, d, leaves))
}

/// An authentication path: the leaf index and, per level from the leaves up, the `arity − 1`
/// sibling digests in child order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerklePath<F> {
    /// Index of the leaf.
    pub index: usize,
    /// `height·(arity − 1)·digest` elements.
    pub siblings: Vec<F>,
}

/// Recomputes the root from a leaf and its path and compares it with `root`. `Ok(false)` for a
/// path that does not lead to `root`; an error for inputs of the wrong shape.
pub fn verify_path<F: HashField>(
    id: HashId,
    arity: usize,
    leaf: &[F],
    path: &MerklePath<F>,
    root: &[F],
) -> Result<bool, HashError> {
    let info = id.info();
    info.check_arity(arity)?;
    let d = info.digest;
    check_len("Merkle leaf", d, leaf.len())?;
    check_len("Merkle root", d, root.len())?;
    let per_level = (arity - 1) * d;
    if !path.siblings.len().is_multiple_of(per_level) {
        return Err(HashError::Length {
            what: "Merkle path siblings (a multiple of (arity - 1)·digest)",
            expected: (path.siblings.len() / per_level + 1) * per_level,
            got: path.siblings.len(),
        });
    }
    let height = path.siblings.len() / per_level;
    if path.index >= arity.saturating_pow(height as u32) {
        return Ok(false);
    }
    let mut node = leaf.to_vec();
    let mut index = path.index;
    let mut children = vec![F::ZERO; arity * d];
    for level in path.siblings.chunks(per_level) {
        let pos = index % arity;
        let mut sib = level.chunks(d);
        for (c, slot) in children.chunks_mut(d).enumerate() {
            if c == pos {
                slot.copy_from_slice(&node);
            } else {
                slot.copy_from_slice(sib.next().expect("arity − 1 siblings"));
            }
        }
        compress(id, arity, &children, &mut node)?;
        index /= arity;
    }
    Ok(node == root)
}

/// Checks the element counts of a batched operation ([`crate::HashOp`]) against the
/// instance: `input` and `output` are element counts. Returns the number of items (states,
/// messages or nodes).
pub fn check_op(
    info: &HashInfo,
    op: crate::HashOp,
    input: usize,
    output: usize,
) -> Result<usize, HashError> {
    use crate::HashOp;
    match op {
        HashOp::Permute => {
            check_len("permutation input (states are permuted in place)", 0, input)?;
            check_len(
                "states (a multiple of the width)",
                output.div_ceil(info.width) * info.width,
                output,
            )?;
            Ok(output / info.width)
        }
        HashOp::Hash { input_len } => {
            if let Some(fixed) = fixed_input_len(info) {
                check_len("circomlib Poseidon message length", fixed, input_len)?;
            }
            let n = output / info.digest;
            check_len(
                "hash outputs (a multiple of the digest)",
                n * info.digest,
                output,
            )?;
            check_len("hash inputs (messages × input_len)", n * input_len, input)?;
            Ok(n)
        }
        HashOp::Compress { arity } => {
            info.check_arity(arity)?;
            let n = output / info.digest;
            check_len(
                "Merkle nodes (a multiple of the digest)",
                n * info.digest,
                output,
            )?;
            check_len(
                "Merkle children (nodes × arity × digest)",
                n * arity * info.digest,
                input,
            )?;
            Ok(n)
        }
    }
}

/// The authentication path of leaf `index` from a tree's layers (leaves first, root last;
/// `digest` elements per node).
pub fn path_from_layers<F: Copy>(
    layers: &[Vec<F>],
    arity: usize,
    digest: usize,
    index: usize,
) -> Result<MerklePath<F>, HashError> {
    let leaves = layers.first().map_or(0, |l| l.len() / digest);
    if index >= leaves {
        return Err(HashError::Length {
            what: "leaf index (must be below the leaf count)",
            expected: leaves,
            got: index,
        });
    }
    let mut siblings = Vec::with_capacity(layers.len().saturating_sub(1) * (arity - 1) * digest);
    let mut i = index;
    for layer in &layers[..layers.len() - 1] {
        let first = i - i % arity;
        for c in first..first + arity {
            if c != i {
                siblings.extend_from_slice(&layer[c * digest..(c + 1) * digest]);
            }
        }
        i /= arity;
    }
    Ok(MerklePath { index, siblings })
}
