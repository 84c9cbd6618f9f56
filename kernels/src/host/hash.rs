//! Poseidon and Poseidon2 on the device: the host side of `kernels/gpu/poseidon.h`.
//!
//! Every instance of [`HashId::ALL`] has its own program (width, rounds and S-box fixed at
//! compile time, so a state lives in registers; one work-item per state), built on first use
//! and cached like every program. The instance's round constants and matrices (Poseidon in
//! the optimised form of eprint 2019/458, Appendix B; Poseidon2 as in eprint 2023/323) are
//! uploaded per call in four small buffers ([`zkaccel_kernels::hash_constants`]).
//!
//! - `Permute`: the states are uploaded, permuted in place, read back.
//! - `Hash`: one work-item per message runs the whole sponge (circomlib's fixed-length hash,
//!   or Plonky3's `PaddingFreeSponge`). A message too large for one allocation is absorbed in
//!   segments (multiples of the rate), the states kept on the device in between.
//! - `Compress`: one Merkle layer, one work-item per node.
//!
//! Batches larger than one allocation ([`Limits::max_alloc`](super::Limits)) are split into
//! chunks of whole items, processed one after another with the same buffers.

use super::{Arg, DeviceVec, GpuDevice, GpuSession};
use crate::{hash_constants, hash_program, ProgramSource, Target, SPONGE_FIRST, SPONGE_LAST};
use std::sync::OnceLock;
use zkaccel_backend::curves::Bn254Fr;
use zkaccel_backend::field::{BabyBear, Goldilocks};
use zkaccel_backend::hash::{modes, HashFamily, HashField, HashId};
use zkaccel_backend::{BackendError, BackendResult, FieldId, HashOp, OpId};

/// Bytes of one element of `field` (its storage form), `None` for fields without instances.
fn element_bytes(field: FieldId) -> Option<usize> {
    match field {
        FieldId::Bn254Fr => Some(size_of::<Bn254Fr>()),
        FieldId::Goldilocks => Some(size_of::<Goldilocks>()),
        FieldId::BabyBear => Some(size_of::<BabyBear>()),
        _ => None,
    }
}

/// Elements in the largest of the four constant buffers of `id` (layouts in
/// [`hash_constants`]), without deriving the constants.
fn largest_constant_buffer(id: HashId) -> usize {
    let i = id.info();
    let (t, half, rp) = (i.width, i.full_rounds / 2, i.partial_rounds);
    match i.family {
        HashFamily::PoseidonCircom => (2 * half * t).max(2 * t * t).max(rp * (t + 1)),
        _ => (2 * half * t).max(t).max(rp),
    }
}

/// The hash instances the device runs: every instance whose program the kernels handle and
/// whose constants and single state fit in one allocation of this device.
pub(super) fn capabilities<D: GpuDevice>(ctx: &D) -> Vec<HashId> {
    HashId::ALL
        .iter()
        .copied()
        .filter(|&id| {
            let Some(es) = element_bytes(id.info().field) else {
                return false;
            };
            let biggest = largest_constant_buffer(id).max(id.info().width) * es;
            biggest as u64 <= ctx.limits().max_alloc && program(ctx.target(), id).is_ok()
        })
        .collect()
}

/// The program of `id` for `target`, assembled once per process.
fn program(target: Target, id: HashId) -> BackendResult<&'static ProgramSource> {
    type Slots = [OnceLock<Option<ProgramSource>>; HashId::ALL.len()];
    static PROGRAMS: [Slots; 2] = [
        [const { OnceLock::new() }; HashId::ALL.len()],
        [const { OnceLock::new() }; HashId::ALL.len()],
    ];
    let t = match target {
        Target::OpenCl => 0,
        Target::Cuda => 1,
    };
    let slot = HashId::ALL.iter().position(|&x| x == id).unwrap_or(0);
    PROGRAMS[t][slot]
        .get_or_init(|| hash_program(target, id))
        .as_ref()
        .ok_or_else(|| BackendError::unsupported(OpId::Hash, format!("{id} on {target:?}")))
}

/// Runs a hashing operation. Lengths are checked here too (a typed error, never a panic).
pub(super) fn hash<D: GpuDevice>(
    ctx: &D,
    id: HashId,
    op: HashOp,
    input: &[u8],
    output: &mut [u8],
) -> BackendResult<()> {
    match id.info().field {
        FieldId::Bn254Fr => run::<Bn254Fr, D>(ctx, id, op, input, output),
        FieldId::Goldilocks => run::<Goldilocks, D>(ctx, id, op, input, output),
        FieldId::BabyBear => run::<BabyBear, D>(ctx, id, op, input, output),
        f => Err(BackendError::unsupported(
            OpId::Hash,
            format!("{id} over {f}"),
        )),
    }
}

/// The constant buffers of one instance on the device.
struct Constants<D: GpuDevice>([DeviceVec<D, u8>; 4]);

impl<D: GpuDevice> Constants<D> {
    fn upload<F: HashField>(ctx: &D, id: HashId) -> BackendResult<Self> {
        let [c0, c1, c2, c3] = hash_constants::<F>(id)?;
        let up = |c: &[F]| ctx.upload::<u8>(bytemuck::cast_slice(c), "hash constants");
        Ok(Self([up(&c0)?, up(&c1)?, up(&c2)?, up(&c3)?]))
    }

    fn args(&self) -> [Arg<'_, D>; 4] {
        let [a, b, c, d] = &self.0;
        [a.arg(), b.arg(), c.arg(), d.arg()]
    }
}

/// Items per chunk: as many as fit one allocation for each per-item size in `bytes` (zero
/// sizes impose nothing), at most `n` and `u32::MAX`; zero when one item does not fit.
fn chunk_items(max_alloc: u64, n: usize, bytes: &[usize]) -> usize {
    let by_mem = bytes
        .iter()
        .filter(|&&b| b > 0)
        .map(|&b| max_alloc / b as u64)
        .min()
        .unwrap_or(u64::MAX);
    (by_mem.min(u32::MAX as u64) as usize).min(n)
}

fn too_large(id: HashId, what: &str, bytes: usize, max_alloc: u64) -> BackendError {
    BackendError::OutOfMemory {
        requested: bytes as u64,
        detail: format!(
            "{id}: {what} of {bytes} bytes exceeds the device's maximum allocation of \
             {max_alloc} bytes"
        ),
    }
}

fn run<F: HashField, D: GpuDevice>(
    ctx: &D,
    id: HashId,
    op: HashOp,
    input: &[u8],
    output: &mut [u8],
) -> BackendResult<()> {
    let info = id.info();
    let es = size_of::<F>();
    if !input.len().is_multiple_of(es) || !output.len().is_multiple_of(es) {
        return Err(BackendError::BadInput(format!(
            "{id}: buffers of {} and {} bytes are not whole {es}-byte elements",
            input.len(),
            output.len()
        )));
    }
    let n = modes::check_op(&info, op, input.len() / es, output.len() / es)?;
    if n == 0 {
        return Ok(());
    }
    let src = program(ctx.target(), id)?;
    let consts = Constants::<D>::upload::<F>(ctx, id)?;
    let mut s = ctx.session();
    let job = Job {
        src,
        id,
        es,
        n,
        consts: &consts,
    };
    match op {
        HashOp::Permute => job.permute(&mut s, output),
        HashOp::Hash { input_len } => job.sponge(&mut s, input_len, input, output),
        HashOp::Compress { arity } => job.compress(&mut s, arity * info.digest, input, output),
    }
}

/// One hashing call: the program, the instance and its constants on the device.
struct Job<'a, D: GpuDevice> {
    src: &'a ProgramSource,
    id: HashId,
    /// Bytes per element.
    es: usize,
    /// Items (states, messages, nodes).
    n: usize,
    consts: &'a Constants<D>,
}

impl<D: GpuDevice> Job<'_, D> {
    /// `n` states of `width` elements in `states`, permuted in place.
    fn permute(&self, s: &mut D::Session<'_>, states: &mut [u8]) -> BackendResult<()> {
        let item = self.id.info().width * self.es;
        let c = chunk_items(s.dev().limits().max_alloc, self.n, &[item]);
        if c == 0 {
            return Err(too_large(
                self.id,
                "one state",
                item,
                s.dev().limits().max_alloc,
            ));
        }
        let mut buf = s.dev().alloc::<u8>(c * item, "hash states")?;
        for chunk in states.chunks_mut(c * item) {
            let m = chunk.len() / item;
            s.write(&mut buf, 0, chunk)?;
            let [c0, c1, c2, c3] = self.consts.args();
            s.launch(
                self.src,
                "psn_permute_batch",
                m,
                None,
                &[buf.arg(), Arg::U32(m as u32), c0, c1, c2, c3],
            )?;
            s.read(&buf, 0, chunk)?;
        }
        Ok(())
    }

    /// One Merkle layer: `n` nodes from `len` child elements each.
    fn compress(
        &self,
        s: &mut D::Session<'_>,
        len: usize,
        input: &[u8],
        output: &mut [u8],
    ) -> BackendResult<()> {
        let (inb, outb) = (len * self.es, self.id.info().digest * self.es);
        let c = chunk_items(s.dev().limits().max_alloc, self.n, &[inb, outb]);
        if c == 0 {
            return Err(too_large(
                self.id,
                "one node's children",
                inb,
                s.dev().limits().max_alloc,
            ));
        }
        let mut ibuf = s.dev().alloc::<u8>(c * inb, "Merkle children")?;
        let obuf = s.dev().alloc::<u8>(c * outb, "Merkle nodes")?;
        for (ichunk, ochunk) in input.chunks(c * inb).zip(output.chunks_mut(c * outb)) {
            let m = ochunk.len() / outb;
            s.write(&mut ibuf, 0, ichunk)?;
            let [c0, c1, c2, c3] = self.consts.args();
            s.launch(
                self.src,
                "psn_compress",
                m,
                None,
                &[
                    ibuf.arg(),
                    Arg::U32(len as u32),
                    Arg::U32(m as u32),
                    obuf.arg(),
                    c0,
                    c1,
                    c2,
                    c3,
                ],
            )?;
            s.read(&obuf, 0, ochunk)?;
        }
        Ok(())
    }

    /// `n` messages of `len` elements each, hashed into `digest` elements each.
    fn sponge(
        &self,
        s: &mut D::Session<'_>,
        len: usize,
        input: &[u8],
        output: &mut [u8],
    ) -> BackendResult<()> {
        let info = self.id.info();
        let (es, max_alloc) = (self.es, s.dev().limits().max_alloc);
        let (msgb, outb, stateb) = (len * es, info.digest * es, info.width * es);
        if msgb as u64 <= max_alloc && len <= u32::MAX as usize {
            // Whole messages: one launch per chunk, no state kept.
            let c = chunk_items(max_alloc, self.n, &[msgb, outb]);
            if c == 0 {
                return Err(too_large(self.id, "one digest", outb, max_alloc));
            }
            let mut ibuf = s.dev().alloc::<u8>(c * msgb, "hash messages")?;
            let obuf = s.dev().alloc::<u8>(c * outb, "hash digests")?;
            let st = s.dev().alloc::<u8>(1, "hash states (unused)")?;
            for (i0, ochunk) in (0..).step_by(c).zip(output.chunks_mut(c * outb)) {
                let m = ochunk.len() / outb;
                s.write(&mut ibuf, 0, &input[i0 * msgb..(i0 + m) * msgb])?;
                self.absorb(s, &ibuf, len, m, &st, SPONGE_FIRST | SPONGE_LAST, &obuf)?;
                s.read(&obuf, 0, ochunk)?;
            }
            return Ok(());
        }
        // Long messages: segments of a multiple of the rate, states on the device between
        // them. At least 16 blocks of the rate per segment when several messages share a
        // chunk.
        let elems = (max_alloc / es as u64) as usize;
        let c =
            chunk_items(max_alloc, self.n, &[stateb, outb]).min((elems / (16 * info.rate)).max(1));
        let seg = ((elems / c.max(1)) / info.rate * info.rate).min(u32::MAX as usize / 2);
        if c == 0 || seg == 0 {
            return Err(too_large(self.id, "one sponge state", stateb, max_alloc));
        }
        let segb = seg * es;
        let mut ibuf = s.dev().alloc::<u8>(c * segb, "hash message segments")?;
        let obuf = s.dev().alloc::<u8>(c * outb, "hash digests")?;
        let st = s.dev().alloc::<u8>(c * stateb, "hash states")?;
        let mut staging = vec![0u8; c * segb];
        for (i0, ochunk) in (0..).step_by(c).zip(output.chunks_mut(c * outb)) {
            let m = ochunk.len() / outb;
            let mut off = 0;
            while off < len {
                let l = seg.min(len - off);
                for k in 0..m {
                    let from = ((i0 + k) * len + off) * es;
                    staging[k * l * es..(k + 1) * l * es]
                        .copy_from_slice(&input[from..from + l * es]);
                }
                s.write(&mut ibuf, 0, &staging[..m * l * es])?;
                let flags = if off == 0 { SPONGE_FIRST } else { 0 }
                    | if off + l == len { SPONGE_LAST } else { 0 };
                self.absorb(s, &ibuf, l, m, &st, flags, &obuf)?;
                off += l;
            }
            s.read(&obuf, 0, ochunk)?;
        }
        Ok(())
    }

    /// Launches `psn_sponge` over `m` messages of `l` elements.
    #[allow(clippy::too_many_arguments)]
    fn absorb(
        &self,
        s: &mut D::Session<'_>,
        ibuf: &DeviceVec<D, u8>,
        l: usize,
        m: usize,
        st: &DeviceVec<D, u8>,
        flags: u32,
        obuf: &DeviceVec<D, u8>,
    ) -> BackendResult<()> {
        let [c0, c1, c2, c3] = self.consts.args();
        s.launch(
            self.src,
            "psn_sponge",
            m,
            None,
            &[
                ibuf.arg(),
                Arg::U32(l as u32),
                Arg::U32(m as u32),
                st.arg(),
                Arg::U32(flags),
                obuf.arg(),
                c0,
                c1,
                c2,
                c3,
            ],
        )
    }
}
