//! Poseidon and Poseidon2 on the CPU: batches of permutations and hashes, sponges, Merkle
//! trees, all on rayon.
//!
//! The instances and the exact semantics of every operation are those of
//! [`zkaccel_backend::hash`] (see [`zkaccel_backend::hash::modes`]); results agree bit for bit
//! with the reference code there, which is what the tests check, besides agreement with
//! light-poseidon, HorizenLabs' `zkhash` and Plonky3 on random inputs.
//!
//! How it is fast:
//! - each instance is prepared once per process (constants in arrays sized at compile time,
//!   Poseidon in its sparse-matrix form) and dispatched once per call to code monomorphised
//!   for its width;
//! - states are processed in blocks of [`BLOCK`] on the stack (no allocation in the loops),
//!   blocks are spread over rayon's threads;
//! - Poseidon2 over BabyBear runs eight states at once in AVX2 lanes when the CPU has AVX2
//!   (run-time detection, scalar fallback).

mod babybear;
mod fast;
#[cfg(test)]
mod refs;
#[cfg(test)]
mod tests;

use babybear::BabyBearPoseidon2;
use fast::{CircomFast, FastPerm, Poseidon2Fast};
use rayon::prelude::*;
use std::any::Any;
use std::sync::OnceLock;
use zkaccel_backend::curves::Bn254Fr;
use zkaccel_backend::field::{BabyBear, Goldilocks};
use zkaccel_backend::hash::modes::{check_len, tree_height};
pub use zkaccel_backend::hash::modes::{verify_path, MerklePath};
use zkaccel_backend::hash::{HashError, HashFamily, HashField, HashId, HashInfo, Instance};

/// States processed together (on the stack) by one task step.
pub const BLOCK: usize = 16;
/// Blocks per rayon task.
const BLOCKS_PER_TASK: usize = 4;

/// A field the CPU hash code has fast permutations for.
pub trait CpuHashField: HashField {
    #[doc(hidden)]
    fn dispatch<O: Op<Self>>(id: HashId, op: O) -> Result<O::Out, HashError>;
}

/// An operation run with the fast permutation of one instance (implementation detail of the
/// dispatch; not meant to be implemented outside this crate).
#[doc(hidden)]
pub trait Op<F> {
    /// What the operation returns.
    type Out;
    /// Runs with the permutation `p` of width `T`.
    fn run<const T: usize, P: FastPerm<F, T>>(self, p: &P, info: &HashInfo) -> Self::Out;
}

/// The prepared fast permutation of `id`, built on first use and kept for the process.
fn prepared<P: Send + Sync + 'static>(id: HashId, build: impl FnOnce() -> P) -> &'static P {
    static CELLS: [OnceLock<Box<dyn Any + Send + Sync>>; HashId::ALL.len()] =
        [const { OnceLock::new() }; HashId::ALL.len()];
    let slot = HashId::ALL
        .iter()
        .position(|&x| x == id)
        .expect("every id is in ALL");
    CELLS[slot]
        .get_or_init(|| Box::new(build()))
        .downcast_ref::<P>()
        .expect("one permutation type per id")
}

macro_rules! by_width {
    ($w:expr, [$($t:literal),+], |$T:ident| $body:expr) => {
        match $w {
            $($t => {
                const $T: usize = $t;
                $body
            })+
            w => unreachable!("width {w} has no fast path"),
        }
    };
}

impl CpuHashField for Bn254Fr {
    fn dispatch<O: Op<Self>>(id: HashId, op: O) -> Result<O::Out, HashError> {
        let info = id.info();
        match Self::instance(id)? {
            Instance::Poseidon(p) => Ok(by_width!(
                info.width,
                [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],
                |T| op.run(prepared(id, || CircomFast::<T>::new(p)), &info)
            )),
            Instance::Poseidon2(p) => Ok(by_width!(info.width, [3], |T| op
                .run(prepared(id, || Poseidon2Fast::<Bn254Fr, T>::new(p)), &info))),
        }
    }
}

impl CpuHashField for Goldilocks {
    fn dispatch<O: Op<Self>>(id: HashId, op: O) -> Result<O::Out, HashError> {
        let info = id.info();
        match Self::instance(id)? {
            Instance::Poseidon2(p) => Ok(by_width!(info.width, [8, 12, 16, 20], |T| op.run(
                prepared(id, || Poseidon2Fast::<Goldilocks, T>::new(p)),
                &info
            ))),
            Instance::Poseidon(_) => unreachable!("no Poseidon instance over Goldilocks"),
        }
    }
}

impl CpuHashField for BabyBear {
    fn dispatch<O: Op<Self>>(id: HashId, op: O) -> Result<O::Out, HashError> {
        let info = id.info();
        match Self::instance(id)? {
            Instance::Poseidon2(p) => Ok(by_width!(info.width, [16, 24, 32], |T| op.run(
                prepared(id, || BabyBearPoseidon2::<T>::new(Poseidon2Fast::new(p))),
                &info
            ))),
            Instance::Poseidon(_) => unreachable!("no Poseidon instance over BabyBear"),
        }
    }
}

/// How one item's input becomes a state and the state an output.
#[derive(Copy, Clone, Debug)]
enum Mode {
    /// circomlib: `[0, input]` (input `t − 1` long), output `state[0]`.
    Circom,
    /// `PaddingFreeSponge`: absorb `rate` at a time in overwrite mode, output `digest`.
    Sponge { rate: usize, digest: usize },
    /// `TruncatedPermutation`: `[input, 0…]`, output the first `digest`.
    Truncate { digest: usize },
}

impl Mode {
    fn out_len(self) -> usize {
        match self {
            Mode::Circom => 1,
            Mode::Sponge { digest, .. } | Mode::Truncate { digest } => digest,
        }
    }
}

/// Runs `mode` on every item: `inputs` holds items of `in_len` elements, `out` receives
/// `mode.out_len()` elements per item. Blocks of [`BLOCK`] states on the stack, in parallel.
fn run_items<F: HashField, const T: usize, P: FastPerm<F, T>>(
    p: &P,
    mode: Mode,
    in_len: usize,
    inputs: &[F],
    out: &mut [F],
) {
    let ol = mode.out_len();
    let per_task = BLOCK * BLOCKS_PER_TASK;
    out.par_chunks_mut(per_task * ol)
        .enumerate()
        .for_each(|(task, out_task)| {
            for (b, out_block) in out_task.chunks_mut(BLOCK * ol).enumerate() {
                let first = task * per_task + b * BLOCK;
                let m = out_block.len() / ol;
                let items = &inputs[first * in_len..(first + m) * in_len];
                run_block::<F, T, P>(p, mode, in_len, items, out_block, m);
            }
        });
}

#[inline]
fn run_block<F: HashField, const T: usize, P: FastPerm<F, T>>(
    p: &P,
    mode: Mode,
    in_len: usize,
    items: &[F],
    out: &mut [F],
    m: usize,
) {
    let mut st = [[F::ZERO; T]; BLOCK];
    let st = &mut st[..m];
    match mode {
        Mode::Circom => {
            for (s, x) in st.iter_mut().zip(items.chunks_exact(in_len)) {
                s[1..].copy_from_slice(x);
            }
            p.permute_many(st);
            for (o, s) in out.iter_mut().zip(st.iter()) {
                *o = s[0];
            }
        }
        Mode::Truncate { digest } => {
            for (s, x) in st.iter_mut().zip(items.chunks_exact(in_len)) {
                s[..in_len].copy_from_slice(x);
            }
            p.permute_many(st);
            for (o, s) in out.chunks_exact_mut(digest).zip(st.iter()) {
                o.copy_from_slice(&s[..digest]);
            }
        }
        Mode::Sponge { rate, digest } => {
            let mut lo = 0;
            while lo < in_len {
                let hi = (lo + rate).min(in_len);
                for (j, s) in st.iter_mut().enumerate() {
                    s[..hi - lo].copy_from_slice(&items[j * in_len + lo..j * in_len + hi]);
                }
                p.permute_many(st);
                lo = hi;
            }
            for (o, s) in out.chunks_exact_mut(digest).zip(st.iter()) {
                o.copy_from_slice(&s[..digest]);
            }
        }
    }
}

struct PermuteOp<'a, F>(&'a mut [F]);

impl<F: HashField> Op<F> for PermuteOp<'_, F> {
    type Out = ();
    fn run<const T: usize, P: FastPerm<F, T>>(self, p: &P, _: &HashInfo) {
        let states: &mut [[F; T]] = bytemuck::cast_slice_mut(self.0);
        states
            .par_chunks_mut(BLOCK * BLOCKS_PER_TASK)
            .for_each(|c| p.permute_many(c));
    }
}

struct ItemsOp<'a, F> {
    mode: Mode,
    in_len: usize,
    inputs: &'a [F],
    out: &'a mut [F],
}

impl<F: HashField> Op<F> for ItemsOp<'_, F> {
    type Out = ();
    fn run<const T: usize, P: FastPerm<F, T>>(self, p: &P, _: &HashInfo) {
        run_items::<F, T, P>(p, self.mode, self.in_len, self.inputs, self.out);
    }
}

/// Permutes every state of `states` (consecutive states of `width` elements) in place.
pub fn permute_batch<F: CpuHashField>(id: HashId, states: &mut [F]) -> Result<(), HashError> {
    let w = id.info().width;
    if !states.len().is_multiple_of(w) {
        return Err(HashError::Length {
            what: "states (a multiple of the width)",
            expected: states.len().div_ceil(w) * w,
            got: states.len(),
        });
    }
    F::dispatch(id, PermuteOp(states))
}

fn hash_mode(info: &HashInfo) -> Mode {
    match info.family {
        HashFamily::PoseidonCircom => Mode::Circom,
        _ => Mode::Sponge {
            rate: info.rate,
            digest: info.digest,
        },
    }
}

/// Hashes `inputs.len() / input_len` messages of `input_len` elements each into `out`
/// (`info.digest` elements per message), as [`zkaccel_backend::hash::modes::hash`] defines:
/// circomlib's fixed-length hash (`input_len` must be `t − 1`) or Plonky3's
/// `PaddingFreeSponge`.
pub fn hash_batch<F: CpuHashField>(
    id: HashId,
    inputs: &[F],
    input_len: usize,
    out: &mut [F],
) -> Result<(), HashError> {
    let info = id.info();
    if info.family == HashFamily::PoseidonCircom {
        check_len("circomlib Poseidon input", info.width - 1, input_len)?;
    }
    let n = out.len() / info.digest;
    check_len("hash outputs", n * info.digest, out.len())?;
    check_len(
        "hash inputs (messages × input_len)",
        n * input_len,
        inputs.len(),
    )?;
    if n == 0 {
        return Ok(());
    }
    let mode = hash_mode(&info);
    F::dispatch(
        id,
        ItemsOp {
            mode,
            in_len: input_len,
            inputs,
            out,
        },
    )
}

/// Hashes one message (any length for Poseidon2 instances, `t − 1` for circomlib ones).
pub fn hash<F: CpuHashField>(id: HashId, input: &[F]) -> Result<Vec<F>, HashError> {
    let mut out = vec![F::ZERO; id.info().digest];
    hash_batch(id, input, input.len(), &mut out)?;
    Ok(out)
}

/// circomlib's `Poseidon(n)` of `1 ≤ n ≤ 16` inputs: the width is chosen by the length.
pub fn circom_hash(inputs: &[Bn254Fr]) -> Result<Bn254Fr, HashError> {
    let id = HashId::circom_inputs(inputs.len()).ok_or_else(|| HashError::InputLength {
        expected: "1 to 16 inputs".into(),
        got: inputs.len(),
    })?;
    Ok(hash(id, inputs)?[0])
}

fn compress_mode(info: &HashInfo) -> Mode {
    match info.family {
        HashFamily::PoseidonCircom => Mode::Circom,
        _ => Mode::Truncate {
            digest: info.digest,
        },
    }
}

/// Compresses groups of `arity` child digests (`children`, concatenated) into one node digest
/// each (`out`), as [`zkaccel_backend::hash::modes::compress`] defines.
pub fn compress_batch<F: CpuHashField>(
    id: HashId,
    arity: usize,
    children: &[F],
    out: &mut [F],
) -> Result<(), HashError> {
    let info = id.info();
    info.check_arity(arity)?;
    let d = info.digest;
    let n = out.len() / d;
    check_len("Merkle nodes", n * d, out.len())?;
    check_len("Merkle children", n * arity * d, children.len())?;
    if n == 0 {
        return Ok(());
    }
    F::dispatch(
        id,
        ItemsOp {
            mode: compress_mode(&info),
            in_len: arity * d,
            inputs: children,
            out,
        },
    )
}

/// A Merkle tree with every layer kept: `layers[0]` is the leaves, the last is the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree<F> {
    id: HashId,
    arity: usize,
    layers: Vec<Vec<F>>,
}

impl<F: CpuHashField> MerkleTree<F> {
    /// Builds the tree over `leaves` (`n·digest` elements, `n` a power of `arity`).
    pub fn new(id: HashId, arity: usize, leaves: &[F]) -> Result<Self, HashError> {
        let d = check_tree(id, arity, leaves)?;
        let mut layers = vec![leaves.to_vec()];
        while layers.last().expect("leaves").len() > d {
            let prev = layers.last().expect("a layer");
            let mut next = vec![F::ZERO; prev.len() / arity];
            compress_batch(id, arity, prev, &mut next)?;
            layers.push(next);
        }
        Ok(Self { id, arity, layers })
    }

    /// The instance.
    pub fn id(&self) -> HashId {
        self.id
    }

    /// The arity.
    pub fn arity(&self) -> usize {
        self.arity
    }

    /// Every layer, leaves first, root last (`digest` elements per node).
    pub fn layers(&self) -> &[Vec<F>] {
        &self.layers
    }

    /// The root digest.
    pub fn root(&self) -> &[F] {
        self.layers.last().expect("at least the leaves")
    }

    /// The authentication path of leaf `index`.
    pub fn path(&self, index: usize) -> Result<MerklePath<F>, HashError> {
        let d = self.id.info().digest;
        let leaves = self.layers[0].len() / d;
        if index >= leaves {
            return Err(HashError::Length {
                what: "leaf index (must be below the leaf count)",
                expected: leaves,
                got: index,
            });
        }
        let mut siblings = Vec::with_capacity((self.layers.len() - 1) * (self.arity - 1) * d);
        let mut i = index;
        for layer in &self.layers[..self.layers.len() - 1] {
            let first = i - i % self.arity;
            for c in first..first + self.arity {
                if c != i {
                    siblings.extend_from_slice(&layer[c * d..(c + 1) * d]);
                }
            }
            i /= self.arity;
        }
        Ok(MerklePath { index, siblings })
    }
}

fn check_tree<F: HashField>(id: HashId, arity: usize, leaves: &[F]) -> Result<usize, HashError> {
    let info = id.info();
    info.check_arity(arity)?;
    let d = info.digest;
    check_len(
        "Merkle leaves (a multiple of the digest)",
        leaves.len().div_ceil(d) * d,
        leaves.len(),
    )?;
    tree_height(leaves.len() / d, arity)?;
    Ok(d)
}

/// The root of the tree over `leaves` without keeping the inner layers.
pub fn merkle_root<F: CpuHashField>(
    id: HashId,
    arity: usize,
    leaves: &[F],
) -> Result<Vec<F>, HashError> {
    let d = check_tree(id, arity, leaves)?;
    if leaves.len() == d {
        return Ok(leaves.to_vec());
    }
    let mut layer = vec![F::ZERO; leaves.len() / arity];
    compress_batch(id, arity, leaves, &mut layer)?;
    while layer.len() > d {
        let mut next = vec![F::ZERO; layer.len() / arity];
        compress_batch(id, arity, &layer, &mut next)?;
        layer = next;
    }
    Ok(layer)
}
