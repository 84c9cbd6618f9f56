//! NTT on the device: the host side of `kernels/gpu/ntt.h`.
//!
//! Same semantics as the CPU backend (`zkaccel_cpu::ntt`): forward `y_i = Σ_j x_j ω^(ij)`,
//! inverse with the `1/n` scaling, cosets (the forward transform evaluates on `g·H`, the
//! inverse interpolates from it, the powers of `g` following the logical coefficient index
//! whatever the storage order), every (input, output) order, and batches of columns in
//! either layout.
//!
//! # Domain
//!
//! Building a domain checks the root (`ω^(n/2) = −1`) and computes on the device two tables
//! of `n/2` twiddles in bit-reversed order, `T[k] = ρ^bitreverse(k, log_n − 1)` for `ρ = ω`
//! and `ρ = ω⁻¹` (kernel `ntt_twiddles`, from two host tables of about `√n` powers each);
//! they stay on the device with the domain, as does `n⁻¹`.
//!
//! # One call
//!
//! The columns go to the device in groups of as many as fit one allocation (all of them,
//! unless the batch exceeds the device's largest buffer; interleaved groups are gathered and
//! scattered on the host). Per group, one launch per *pass* handles every column:
//!
//! - natural input: Cooley–Tukey levels `0 → log_n − 1` (natural in, bit-reversed out);
//!   bit-reversed input: Gentleman–Sande levels `log_n − 1 → 0` (bit-reversed in, natural
//!   out); so the common orders need no permutation, N→N and R→R one in-place bit-reversal
//!   permutation (`ntt_bitrev_tiles`, or `ntt_bitrev_rows` for wide interleaved rows);
//! - each pass (`ntt_pass`) runs up to `tile_bits` consecutive levels in local memory
//!   (radix-2^k): the last levels (small strides) as contiguous tiles of up to `2^10` (256-bit
//!   fields) or `2^11` (Goldilocks, BabyBear) elements, the first levels as strided tiles
//!   `2^k` deep and `J` wide (`J` adjacent offsets, or `J` adjacent columns of an interleaved
//!   batch, for coalesced access), see [`plan_passes`]: a 2^20 transform over BN254 is three
//!   passes over memory, not twenty;
//! - the coset powers and `n⁻¹` are applied in the first pass's loads (forward) or in the
//!   last pass's stores (inverse), from two tables of about `√n` powers uploaded per call.
//!
//! A session holds the device for the whole call, so one domain can serve several threads.

use super::{Arg, DeviceVec, GpuDevice, GpuSession};
use crate::{ntt_program, ProgramSource, Target};
use std::sync::Arc;
use zkaccel_backend::backend::decode_padded;
use zkaccel_backend::field::{Field, PrimeField, TwoAdicField};
use zkaccel_backend::{
    with_ntt_field, BackendError, BackendNttDomain, BackendResult, BatchLayout, FieldId,
    NttCapability, NttConfig, NttData, NttDirection, NttDomainSpec, NttOrder, OpId,
};

/// Largest `log2(n)`: indices within a column are 32-bit on the device.
const MAX_LOG_N: u32 = 31;

/// Columns in one device group are limited so that `n · columns < 2^31` (32-bit group and
/// work-item counts).
const MAX_GROUP_ELEMS: usize = 1 << 31;

/// Bytes a tile should read contiguously (a memory transaction or cache line); sets the
/// width `J` of strided tiles.
const SEGMENT_BYTES: usize = 128;

/// Largest tile of the bit-reversal permutation: `2^5 × 2^5`.
const MAX_BITREV_BITS: u32 = 5;

/// `ntt_pass` flags (`NTT_F_*` in ntt.h).
const F_GS: u32 = 1;
const F_SCALE_LOAD: u32 = 2;
const F_SCALE_STORE: u32 = 4;
const F_SCALE_BREV: u32 = 8;
const F_COSET: u32 = 16;

/// `log2` of `x ≥ 1`, rounded down.
fn log2_floor(x: u64) -> u32 {
    63 - x.max(1).leading_zeros()
}

/// `log2` of `x ≥ 1`, rounded up.
fn log2_ceil(x: usize) -> u32 {
    usize::BITS - x.max(1).saturating_sub(1).leading_zeros()
}

/// The NTT program for `field` and its local-memory tile (log2 of elements), which the
/// program states in its `#define NTT_TILE_BITS`.
fn program(target: Target, field: FieldId) -> BackendResult<(ProgramSource, u32)> {
    let src = ntt_program(target, field)
        .ok_or_else(|| BackendError::unsupported(OpId::Ntt, format!("{field} on {target:?}")))?;
    let bits = src
        .text
        .lines()
        .find_map(|l| l.strip_prefix("#define NTT_TILE_BITS "))
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|&b| b >= 2)
        .ok_or_else(|| BackendError::Compile {
            kernel: src.name.clone(),
            log: "the NTT program does not state its tile size (NTT_TILE_BITS)".into(),
        })?;
    Ok((src, bits))
}

/// Largest `log2(n)` of field `F` on this device: within the two-adicity, one column (and
/// so each twiddle table) in one allocation, and a local-memory tile that fits; `None` when
/// the device's local memory is too small for the tile.
fn max_log_n<F: TwoAdicField, D: GpuDevice>(ctx: &D) -> Option<u32> {
    let es = size_of::<F>() as u64;
    let (_, tile_bits) = program(ctx.target(), F::ID).ok()?;
    let lim = ctx.limits();
    if lim.local_mem < es << tile_bits || lim.max_alloc < es {
        return None;
    }
    Some(
        F::TWO_ADICITY
            .min(log2_floor(lim.max_alloc / es))
            .min(MAX_LOG_N),
    )
}

/// The NTT capabilities of the device: every NTT field, up to the size whose column fits
/// one allocation.
pub(super) fn capabilities<D: GpuDevice>(ctx: &D) -> Vec<NttCapability> {
    FieldId::ALL
        .iter()
        .filter(|f| f.is_ntt_field())
        .filter_map(|&field| {
            with_ntt_field!(field, |F| max_log_n::<F, D>(ctx), None)
                .map(|max_log_n| NttCapability { field, max_log_n })
        })
        .collect()
}

/// Builds an NTT domain on the device.
pub(super) fn domain<D: GpuDevice>(
    ctx: &Arc<D>,
    spec: &NttDomainSpec,
) -> BackendResult<Arc<dyn BackendNttDomain>> {
    with_ntt_field!(
        spec.field,
        |F| Ok(Arc::new(GpuNttDomain::<F, D>::new(ctx, spec)?) as Arc<dyn BackendNttDomain>),
        Err(BackendError::unsupported(
            OpId::Ntt,
            format!("{} has no NTT", spec.field)
        ))
    )
}

/// One pass of the network: levels `lvl0 .. lvl0 + levels` in local memory, tiles
/// `2^levels` deep and `2^log_j` wide.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Pass {
    lvl0: u32,
    levels: u32,
    log_j: u32,
}

/// The passes of a transform of size `2^log_n` with tiles of at most `2^tile_bits`
/// elements, in increasing level order.
///
/// - `cols_log_j = Some(c)`: tiles are `2^c` adjacent columns wide (interleaved batches),
///   every pass at most `tile_bits − c` levels.
/// - `None`: the last `min(log_n, tile_bits)` levels form one pass of contiguous tiles; the
///   levels before are split evenly into passes of at most `tile_bits − j` levels over tiles
///   `2^j` offsets wide, `j = log_j_target`.
fn plan_passes(
    log_n: u32,
    tile_bits: u32,
    cols_log_j: Option<u32>,
    log_j_target: u32,
) -> Vec<Pass> {
    fn split(out: &mut Vec<Pass>, lvl0: u32, levels: u32, max: u32, log_j: u32) {
        if levels == 0 {
            return;
        }
        let k = levels.div_ceil(max);
        let mut l = lvl0;
        for p in 0..k {
            let s = levels / k + u32::from(p < levels % k);
            out.push(Pass {
                lvl0: l,
                levels: s,
                log_j,
            });
            l += s;
        }
    }
    let mut out = Vec::new();
    match cols_log_j {
        Some(c) => {
            let c = c.min(tile_bits - 1);
            split(&mut out, 0, log_n, tile_bits - c, c);
        }
        None => {
            let last = log_n.min(tile_bits);
            let rest = log_n - last;
            let j = log_j_target.min(tile_bits - 1);
            split(&mut out, 0, rest, tile_bits - j, j);
            if last > 0 {
                out.push(Pass {
                    lvl0: rest,
                    levels: last,
                    log_j: 0,
                });
            }
        }
    }
    out
}

/// How the scale factor of each element is formed.
enum Scale<F: PrimeField, D: GpuDevice> {
    /// No scaling (forward transform on the subgroup).
    None,
    /// `n⁻¹` (the domain's buffer), inverse transform on the subgroup.
    Constant,
    /// `glo[j mod 2^bits] · ghi[j >> bits]`: coset powers (times `n⁻¹` for the inverse).
    Tables {
        glo: DeviceVec<D, F>,
        ghi: DeviceVec<D, F>,
        bits: u32,
    },
}

/// What one call runs, decided from the config.
struct Plan<F: PrimeField, D: GpuDevice> {
    /// Bit-reversed input: Gentleman–Sande levels downwards (else Cooley–Tukey upwards).
    gs: bool,
    /// The inverse twiddles.
    inverse: bool,
    /// A bit-reversal permutation before the passes.
    bitrev_before: bool,
    /// A bit-reversal permutation after the passes.
    bitrev_after: bool,
    /// Scale in the last pass's stores (inverse) rather than the first pass's loads.
    scale_store: bool,
    /// The scaled positions hold bit-reversed logical indices.
    scale_brev: bool,
    scale: Scale<F, D>,
}

/// An NTT domain on a device.
struct GpuNttDomain<F: TwoAdicField, D: GpuDevice> {
    ctx: Arc<D>,
    spec: NttDomainSpec,
    log_n: u32,
    src: ProgramSource,
    tile_bits: u32,
    /// `ω^bitreverse(k)` and `ω^(−bitreverse(k))`, `k < n/2` (`None` for `n = 1`).
    tw: Option<(DeviceVec<D, F>, DeviceVec<D, F>)>,
    /// `[n⁻¹]`.
    n_inv_buf: DeviceVec<D, F>,
    n_inv: F,
}

/// `[ρ^j : j < 2^lo_bits]` and `[s·ρ^(j·2^lo_bits) : j < 2^hi_bits]`.
fn split_powers<F: Field>(rho: F, lo_bits: u32, hi_bits: u32, s: F) -> (Vec<F>, Vec<F>) {
    let mut lo = Vec::with_capacity(1 << lo_bits);
    let mut p = F::ONE;
    for _ in 0..1u64 << lo_bits {
        lo.push(p);
        p *= rho;
    }
    // p = ρ^(2^lo_bits) now.
    let mut hi = Vec::with_capacity(1 << hi_bits);
    let mut q = s;
    for _ in 0..1u64 << hi_bits {
        hi.push(q);
        q *= p;
    }
    (lo, hi)
}

impl<F: TwoAdicField, D: GpuDevice> GpuNttDomain<F, D> {
    fn new(ctx: &Arc<D>, spec: &NttDomainSpec) -> BackendResult<Self> {
        if spec.field != F::ID {
            return Err(BackendError::BadInput(format!(
                "NTT domain is for {} but was built for {}",
                spec.field,
                F::ID
            )));
        }
        let log_n = spec.log_n;
        if log_n > F::TWO_ADICITY {
            return Err(BackendError::BadInput(format!(
                "NTT size 2^{log_n} exceeds the two-adicity 2^{} of {}",
                F::TWO_ADICITY,
                F::ID
            )));
        }
        let max = max_log_n::<F, D>(&**ctx).ok_or_else(|| {
            BackendError::unsupported(
                OpId::Ntt,
                format!("{} on this device (local memory too small)", F::ID),
            )
        })?;
        if log_n > max {
            return Err(BackendError::unsupported(
                OpId::Ntt,
                format!(
                    "{} of size 2^{log_n} on this device (at most 2^{max}: one column must fit \
                     one allocation of {} bytes)",
                    F::ID,
                    ctx.limits().max_alloc
                ),
            ));
        }
        let omega = spec.root_as::<F>()?;
        let n = 1u64 << log_n;
        // ω is a primitive n-th root iff ω^(n/2) = −1; for n = 1 the only root is 1.
        let primitive = if log_n == 0 {
            omega == F::ONE
        } else {
            omega.pow(&[n / 2]) == -F::ONE
        };
        if !primitive {
            return Err(BackendError::BadInput(format!(
                "NTT root {:?} is not a primitive 2^{log_n}-th root of unity in {}",
                spec.root,
                F::ID
            )));
        }
        let n_inv = F::from_u64(n)
            .inverse()
            .ok_or_else(|| BackendError::BadInput(format!("n = {n} is not invertible")))?;
        let (src, tile_bits) = program(ctx.target(), F::ID)?;
        let n_inv_buf = ctx.upload(&[n_inv], "NTT 1/n")?;
        let tw = if log_n == 0 {
            None
        } else {
            let omega_inv = omega
                .inverse()
                .ok_or_else(|| BackendError::BadInput("NTT root is zero".into()))?;
            let mut s = ctx.session();
            let t = twiddles::<F, D>(&mut s, &src, omega, log_n)?;
            let t_inv = twiddles::<F, D>(&mut s, &src, omega_inv, log_n)?;
            s.finish()?;
            Some((t, t_inv))
        };
        Ok(Self {
            ctx: ctx.clone(),
            spec: spec.clone(),
            log_n,
            src,
            tile_bits,
            tw,
            n_inv_buf,
            n_inv,
        })
    }

    /// Decodes the config (the coset shift, its tables) into a plan.
    fn plan(&self, cfg: &NttConfig) -> BackendResult<Plan<F, D>> {
        use NttOrder::{BitReversed as R, Natural as N};
        let shift = match cfg.coset {
            None => None,
            Some(limbs) => {
                let g = decode_padded::<F>(&limbs).ok_or_else(|| {
                    BackendError::BadInput(format!(
                        "NTT coset shift {limbs:?} is not a canonical element of {}",
                        F::ID
                    ))
                })?;
                let g = match cfg.direction {
                    NttDirection::Forward => (!g.is_zero()).then_some(g),
                    NttDirection::Inverse => g.inverse(),
                };
                Some(g.ok_or_else(|| BackendError::BadInput("NTT coset shift is zero".into()))?)
            }
        };
        let inverse = cfg.direction == NttDirection::Inverse;
        let (gs, before, after, brev) = match (inverse, cfg.input_order, cfg.output_order) {
            // Forward: scale the natural coefficients as they are loaded.
            (false, N, R) => (false, false, false, false),
            (false, N, N) => (false, false, true, false),
            (false, R, N) => (true, false, false, true),
            (false, R, R) => (false, true, false, false),
            // Inverse: scale the natural coefficients as they are stored.
            (true, R, N) => (true, false, false, false),
            (true, R, R) => (true, false, true, false),
            (true, N, R) => (false, false, false, true),
            (true, N, N) => (false, false, true, true),
        };
        let scale = match (shift, inverse) {
            (None, false) => Scale::None,
            (None, true) => Scale::Constant,
            (Some(g), _) => {
                let bits = self.log_n.div_ceil(2);
                let s = if inverse { self.n_inv } else { F::ONE };
                let (lo, hi) = split_powers(g, bits, self.log_n - bits, s);
                Scale::Tables {
                    glo: self.ctx.upload(&lo, "NTT coset powers")?,
                    ghi: self.ctx.upload(&hi, "NTT coset powers")?,
                    bits,
                }
            }
        };
        Ok(Plan {
            gs,
            inverse,
            bitrev_before: before,
            bitrev_after: after,
            scale_store: inverse,
            scale_brev: brev,
            scale,
        })
    }

    /// Runs the plan on the `batch` columns in `x` (`layout` within the buffer).
    fn run(
        &self,
        s: &mut D::Session<'_>,
        x: &DeviceVec<D, u8>,
        batch: usize,
        layout: BatchLayout,
        plan: &Plan<F, D>,
    ) -> BackendResult<()> {
        let Some((tw, tw_inv)) = &self.tw else {
            return Ok(());
        };
        let log_n = self.log_n;
        let n = 1usize << log_n;
        let es = size_of::<F>();
        let interleaved = layout == BatchLayout::Interleaved && batch > 1;
        let (estride, cstride) = if interleaved { (batch, 1) } else { (1, n) };
        let geom = Geometry {
            log_n,
            batch: batch as u32,
            es: estride as u32,
            cs: cstride as u32,
        };
        let seg = log2_floor((SEGMENT_BYTES / es).max(1) as u64);
        if plan.bitrev_before {
            self.bitrev(s, x, &geom, interleaved, seg)?;
        }
        let cols_log_j = interleaved.then(|| log2_ceil(batch).min(seg));
        let mut passes = plan_passes(log_n, self.tile_bits, cols_log_j, seg);
        if plan.gs {
            passes.reverse();
        }
        let (glo, ghi, bits, coset) = match &plan.scale {
            Scale::None => (tw, tw, 0, 0),
            Scale::Constant => (&self.n_inv_buf, &self.n_inv_buf, 0, 0),
            Scale::Tables { glo, ghi, bits } => (glo, ghi, *bits, F_COSET),
        };
        let scaled = !matches!(plan.scale, Scale::None);
        let table = if plan.inverse { tw_inv } else { tw };
        // Work-items per group: the 256-bit fields use many registers.
        let wg_cap = if es >= 32 { 128 } else { 256 };
        let last = passes.len() - 1;
        for (p, pass) in passes.iter().enumerate() {
            let mut flags = if plan.gs { F_GS } else { 0 };
            if scaled && !plan.scale_store && p == 0 {
                flags |= F_SCALE_LOAD;
            }
            if scaled && plan.scale_store && p == last {
                flags |= F_SCALE_STORE;
            }
            if flags & (F_SCALE_LOAD | F_SCALE_STORE) != 0 {
                flags |= coset | if plan.scale_brev { F_SCALE_BREV } else { 0 };
            }
            let log_q = log_n - pass.lvl0 - pass.levels;
            let ngroups = if cols_log_j.is_some() {
                (1usize << (pass.lvl0 + log_q)) * batch.div_ceil(1 << pass.log_j)
            } else {
                batch << (pass.lvl0 + log_q - pass.log_j)
            };
            let butterflies = 1usize << (pass.levels + pass.log_j - 1);
            let wg = butterflies.min(wg_cap).min(s.dev().limits().max_work_group);
            s.launch(
                &self.src,
                "ntt_pass",
                ngroups * wg,
                Some(wg),
                &[
                    x.arg(),
                    table.arg(),
                    glo.arg(),
                    ghi.arg(),
                    Arg::U32(log_n),
                    Arg::U32(pass.lvl0),
                    Arg::U32(pass.levels),
                    Arg::U32(pass.log_j),
                    Arg::U32(u32::from(cols_log_j.is_some())),
                    Arg::U32(geom.batch),
                    Arg::U32(geom.es),
                    Arg::U32(geom.cs),
                    Arg::U32(ngroups as u32),
                    Arg::U32(flags),
                    Arg::U32(bits),
                ],
            )?;
        }
        if plan.bitrev_after {
            self.bitrev(s, x, &geom, interleaved, seg)?;
        }
        Ok(())
    }

    /// The in-place bit-reversal permutation of every column.
    fn bitrev(
        &self,
        s: &mut D::Session<'_>,
        x: &DeviceVec<D, u8>,
        geom: &Geometry,
        interleaved: bool,
        seg: u32,
    ) -> BackendResult<()> {
        let log_n = geom.log_n;
        let batch = geom.batch as usize;
        // Largest a with two padded 2^a × 2^a tiles in the local array.
        let mut a = (log_n / 2).min(MAX_BITREV_BITS);
        while a > 0 && 2 * (1usize << a) * ((1usize << a) + 1) > 1usize << self.tile_bits {
            a -= 1;
        }
        let max_wg = s.dev().limits().max_work_group;
        if a == 0 || (interleaved && batch >= 1 << seg) {
            // Whole rows: consecutive work-items take consecutive columns of a row.
            let n = 1usize << log_n;
            let rows_step = n.min(((1usize << 22) / batch).max(1));
            let nthreads = rows_step * batch;
            return s.launch(
                &self.src,
                "ntt_bitrev_rows",
                nthreads,
                Some(nthreads.min(256).min(max_wg)),
                &[
                    x.arg(),
                    Arg::U32(log_n),
                    Arg::U32(geom.batch),
                    Arg::U32(geom.es),
                    Arg::U32(geom.cs),
                    Arg::U32(rows_step as u32),
                    Arg::U32(nthreads as u32),
                ],
            );
        }
        let ngroups = batch << (log_n - 2 * a);
        let wg = (1usize << (2 * a)).min(256).min(max_wg);
        s.launch(
            &self.src,
            "ntt_bitrev_tiles",
            ngroups * wg,
            Some(wg),
            &[
                x.arg(),
                Arg::U32(log_n),
                Arg::U32(a),
                Arg::U32(geom.batch),
                Arg::U32(geom.es),
                Arg::U32(geom.cs),
                Arg::U32(ngroups as u32),
            ],
        )
    }

    /// Transforms the columns of `bytes` (already checked to be `n · batch` elements).
    fn transform(&self, bytes: &mut [u8], cfg: &NttConfig) -> BackendResult<()> {
        let plan = self.plan(cfg)?;
        let n = 1usize << self.log_n;
        let col_bytes = n * size_of::<F>();
        let batch = cfg.batch;
        // Columns per device group: one allocation, and n · columns < 2^31.
        let max_alloc = self.ctx.limits().max_alloc;
        let fit = (max_alloc / col_bytes as u64).min((MAX_GROUP_ELEMS / n) as u64);
        let group = batch.min(fit as usize);
        if group == 0 {
            return Err(BackendError::OutOfMemory {
                requested: col_bytes as u64,
                detail: format!(
                    "one NTT column of {col_bytes} bytes exceeds the device's maximum \
                     allocation of {max_alloc} bytes"
                ),
            });
        }
        let mut buf = self.ctx.alloc::<u8>(group * col_bytes, "NTT data")?;
        let mut s = self.ctx.session();
        let es = size_of::<F>();
        let mut tmp = Vec::new();
        for c0 in (0..batch).step_by(group) {
            let k = group.min(batch - c0);
            match cfg.layout {
                BatchLayout::Interleaved if k < batch => {
                    // Gather columns c0..c0 + k into an n × k matrix and back.
                    let (row, sub) = (batch * es, k * es);
                    tmp.resize(n * sub, 0u8);
                    for (i, dst) in tmp.chunks_exact_mut(sub).enumerate() {
                        let at = i * row + c0 * es;
                        dst.copy_from_slice(&bytes[at..at + sub]);
                    }
                    s.write(&mut buf, 0, &tmp)?;
                    self.run(&mut s, &buf, k, BatchLayout::Interleaved, &plan)?;
                    s.read(&buf, 0, &mut tmp)?;
                    for (i, src) in tmp.chunks_exact(sub).enumerate() {
                        let at = i * row + c0 * es;
                        bytes[at..at + sub].copy_from_slice(src);
                    }
                }
                layout => {
                    // Contiguous columns c0..c0 + k, or the whole interleaved matrix.
                    let range = c0 * col_bytes..(c0 + k) * col_bytes;
                    s.write(&mut buf, 0, &bytes[range.clone()])?;
                    self.run(&mut s, &buf, k, layout, &plan)?;
                    s.read(&buf, 0, &mut bytes[range])?;
                }
            }
        }
        Ok(())
    }
}

/// Where the elements of a group of columns lie in its buffer.
struct Geometry {
    log_n: u32,
    batch: u32,
    /// Element stride within a column.
    es: u32,
    /// Column stride.
    cs: u32,
}

/// Computes `T[k] = ρ^bitreverse(k, log_n − 1)`, `k < n/2`, on the device.
fn twiddles<F: TwoAdicField, D: GpuDevice>(
    s: &mut D::Session<'_>,
    src: &ProgramSource,
    rho: F,
    log_n: u32,
) -> BackendResult<DeviceVec<D, F>> {
    let bits = log_n - 1;
    let lo_bits = bits.div_ceil(2);
    let (lo, hi) = split_powers(rho, lo_bits, bits - lo_bits, F::ONE);
    let count = 1usize << bits;
    let d = s.dev();
    let out = d.alloc::<F>(count, "NTT twiddles")?;
    let lo = d.upload(&lo, "NTT twiddle powers")?;
    let hi = d.upload(&hi, "NTT twiddle powers")?;
    let max_wg = d.limits().max_work_group;
    s.launch(
        src,
        "ntt_twiddles",
        count,
        Some(count.min(256).min(max_wg)),
        &[
            out.arg(),
            lo.arg(),
            hi.arg(),
            Arg::U32(lo_bits),
            Arg::U32(count as u32),
            Arg::U32(bits),
        ],
    )?;
    Ok(out)
}

impl<F: TwoAdicField, D: GpuDevice> BackendNttDomain for GpuNttDomain<F, D> {
    fn spec(&self) -> &NttDomainSpec {
        &self.spec
    }

    fn ntt(&self, data: NttData<'_>, cfg: &NttConfig) -> BackendResult<()> {
        if data.field != F::ID {
            return Err(BackendError::BadInput(format!(
                "NTT data is {} but the domain is over {}",
                data.field,
                F::ID
            )));
        }
        if cfg.batch == 0 {
            return Err(BackendError::BadInput(
                "NTT batch is 0 (at least one column is needed)".into(),
            ));
        }
        let n = 1usize << self.log_n;
        let want = n
            .checked_mul(cfg.batch)
            .and_then(|e| e.checked_mul(size_of::<F>()));
        if want != Some(data.bytes.len()) {
            return Err(BackendError::BadInput(format!(
                "NTT data has {} bytes but n = {n} × batch = {} elements of {} bytes were \
                 expected",
                data.bytes.len(),
                cfg.batch,
                size_of::<F>()
            )));
        }
        if self.log_n == 0 {
            // n = 1: ω⁰ = g⁰ = n⁻¹ = 1; still check the shift.
            return self.plan(cfg).map(|_| ());
        }
        self.transform(data.bytes, cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_cover_every_level_within_the_tile() {
        for log_n in 0..=31 {
            for tile_bits in [2u32, 10, 11] {
                for cols in [None, Some(0), Some(2), Some(5)] {
                    for target in [0u32, 2, 4, 5] {
                        let p = plan_passes(log_n, tile_bits, cols, target);
                        let mut next = 0;
                        for (k, pass) in p.iter().enumerate() {
                            assert_eq!(pass.lvl0, next, "{log_n} {tile_bits} {cols:?} {p:?}");
                            assert!(pass.levels >= 1);
                            assert!(pass.levels + pass.log_j <= tile_bits, "{p:?}");
                            // Strided tiles are at most as wide as the stride.
                            let log_q = log_n - pass.lvl0 - pass.levels;
                            if cols.is_none() {
                                assert!(pass.log_j <= log_q, "{p:?}");
                                if k + 1 == p.len() {
                                    assert_eq!((log_q, pass.log_j), (0, 0));
                                }
                            }
                            next += pass.levels;
                        }
                        assert_eq!(next, log_n);
                    }
                }
            }
        }
        // 2^20 over a 256-bit field: 2^10 contiguous, then two strided passes of 5 levels.
        let p = plan_passes(20, 10, None, 2);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[2],
            Pass {
                lvl0: 10,
                levels: 10,
                log_j: 0
            }
        );
    }

    #[test]
    fn split_powers_factor_every_exponent() {
        use zkaccel_backend::field::Goldilocks;
        let g = Goldilocks::from_u64(7);
        let s = Goldilocks::from_u64(3);
        let (lo, hi) = split_powers(g, 3, 2, s);
        for j in 0..32u64 {
            assert_eq!(
                lo[(j & 7) as usize] * hi[(j >> 3) as usize],
                s * g.pow(&[j])
            );
        }
    }

    #[test]
    fn every_ntt_field_has_a_tiled_program() {
        for &f in FieldId::ALL.iter().filter(|f| f.is_ntt_field()) {
            for target in [Target::OpenCl, Target::Cuda] {
                let (_, bits) = program(target, f).expect("program");
                assert!((f.element_bytes() << bits) <= 32 << 10, "{f}");
            }
        }
    }
}
