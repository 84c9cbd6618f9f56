//! MSM on the device: the host side of `kernels/gpu/msm.h`.
//!
//! Per chunk of at most [`chunk_len`] points: upload the scalars (as given: Montgomery
//! scalars are converted on the device), count bucket sizes, scan, scatter `(point, sign)`
//! entries into bucket order, accumulate buckets in equal-length runs of entries (so one
//! huge bucket is shared by many work-items) and add up the pieces of buckets that straddle
//! runs, reduce each window in segments and
//! sum the segments per window; the host reads one XYZZ point per window and combines the
//! windows by doubling (Horner). Chunks exist only when the input exceeds the device's
//! largest allocation; their results are added on the host.

use super::{Arg, DeviceVec, GpuDevice, GpuSession};
use crate::{msm_program, ProgramSource};
use std::sync::Arc;
use zkaccel_backend::curve::{Affine, Projective, Xyzz};
use zkaccel_backend::field::PrimeField;
use zkaccel_backend::{
    with_curve_group, BackendError, BackendResult, CurveGroup, CurveGroupId, Encoding, OpId,
    PreparedBases, RawPoint, RawPoints, RawScalars,
};

/// Work-group size of the scan kernels (`SCAN_WG` in scan.h).
const SCAN_WG: usize = 256;
/// Entries per scan tile (`SCAN_TILE` in scan.h).
const SCAN_TILE: usize = 2048;
/// Largest window: 2^15 buckets per window.
const MAX_WINDOW: u32 = 16;

/// The MSM program of `id` for the device's language.
pub(super) fn program<D: GpuDevice>(d: &D, id: CurveGroupId) -> BackendResult<ProgramSource> {
    msm_program(d.target(), id)
        .ok_or_else(|| BackendError::unsupported(OpId::Msm, format!("{id} on {:?}", d.target())))
}

/// Window width for `n` points: about log2(n) - 4, so that the bucket count stays well
/// below the number of point additions (GPU practice, e.g. sppark and ICICLE use 16-bit
/// windows around 2^20 points), then narrowed until one window's buckets fit in one
/// allocation.
fn window_bits<C: CurveGroup>(n: usize, max_alloc: u64) -> u32 {
    let log = usize::BITS - n.max(1).leading_zeros();
    let mut c = log.saturating_sub(4).clamp(4, MAX_WINDOW);
    while c > 1 && (size_of::<Xyzz<C>>() as u64) << (c - 1) > max_alloc {
        c -= 1;
    }
    c
}

/// Windows per device pass: as many as fit, for both the buckets and the sorted entries,
/// with entry positions (32-bit on the device) below 2^32.
fn window_group<C: CurveGroup>(n: usize, nb: usize, nwin: usize, max_alloc: u64) -> usize {
    let by_buckets = max_alloc / (nb * size_of::<Xyzz<C>>()) as u64;
    let by_entries = max_alloc / (4 * n.max(1)) as u64;
    let by_index = u64::from(u32::MAX) / (n.max(nb) as u64 + 1);
    (by_buckets.min(by_entries).min(by_index) as usize).clamp(1, nwin)
}

/// Most points in one device pass: every per-point buffer (bases, scalars, and one window's
/// sorted entries) must fit one allocation, and entry indices are 31 bits.
fn chunk_len<C: CurveGroup>(max_alloc: u64) -> usize {
    let per_point = [size_of::<Affine<C>>() as u64, 32, 4];
    let by_mem = per_point.iter().map(|b| max_alloc / b).min().unwrap_or(1);
    by_mem.clamp(1, (1 << 31) - 1) as usize
}

/// Σ scalars[i]·points[i] over one chunk whose bases are already on the device.
fn run<C: CurveGroup, D: GpuDevice>(
    s: &mut D::Session<'_>,
    src: &ProgramSource,
    points: &DeviceVec<D, Affine<C>>,
    scalars: &[[u64; 4]],
    encoding: Encoding,
) -> BackendResult<Projective<C>> {
    let n = scalars.len();
    if n == 0 {
        return Ok(Projective::IDENTITY);
    }
    let ctx = s.dev();
    let lim = ctx.limits();
    if lim.max_work_group < SCAN_WG {
        return Err(BackendError::unsupported(
            OpId::Msm,
            format!("work-groups of {} items (256 needed)", lim.max_work_group),
        ));
    }
    let c = window_bits::<C>(n, lim.max_alloc);
    let nwin = (C::Scalar::MODULUS_BITS + 1).div_ceil(c) as usize;
    let nb = 1usize << (c - 1);
    let wg = window_group::<C>(n, nb, nwin, lim.max_alloc);
    let nbk = wg * nb;
    // Reduction segments: about 32 buckets each, so that windows × segments work-items keep
    // the device busy; at most 2^12 segments per window, and all of them in one allocation.
    let nseg = nb
        .div_ceil(nb.div_ceil(4096).max(nb.min(32)))
        .min(segs_capacity::<C>(lim.max_alloc, wg))
        .max(1);
    let seg_len = nb.div_ceil(nseg);
    let nseg = nb.div_ceil(seg_len);

    let mut sbuf = ctx.upload(scalars, "MSM scalars")?;
    let mut counts = ctx.alloc::<u32>(nbk + 1, "MSM bucket offsets")?;
    let mut cursor = ctx.alloc::<u32>(nbk + 1, "MSM bucket cursors")?;
    let mut entries = ctx.alloc::<u32>(wg * n, "MSM sorted entries")?;
    let mut buckets = ctx.alloc::<Xyzz<C>>(nbk, "MSM buckets")?;
    let segs = ctx.alloc::<Xyzz<C>>(wg * nseg, "MSM segment sums")?;
    // Accumulation tasks: at least 16 entries each, and two partial sums per task in one
    // allocation (the entry count is bounded by windows × points).
    let max_entries = wg * n;
    let task_len = max_entries
        .div_ceil((lim.max_alloc as usize / (2 * size_of::<Xyzz<C>>())).max(1))
        .max(16);
    let ntasks = max_entries.div_ceil(task_len);
    let partials = ctx.alloc::<Xyzz<C>>(2 * ntasks, "MSM partial bucket sums")?;
    let ntiles = (nbk + 1).div_ceil(SCAN_TILE);
    let sums = ctx.alloc::<u32>(ntiles, "MSM scan sums")?;

    let mont = u32::from(encoding == Encoding::Montgomery);
    let mut windows = vec![Xyzz::<C>::IDENTITY; nwin];
    for w0 in (0..nwin).step_by(wg) {
        let wn = wg.min(nwin - w0);
        let nbk = wn * nb;
        let head = [
            sbuf.arg(),
            Arg::U32(n as u32),
            Arg::U32(mont),
            Arg::U32(c),
            Arg::U32(w0 as u32),
            Arg::U32(wn as u32),
        ];
        s.zero(&mut counts, nbk + 1)?;
        s.launch(
            src,
            "msm_count",
            n,
            None,
            &[&head[..], &[counts.arg()]].concat(),
        )?;
        scan(
            s,
            src,
            &counts,
            nbk + 1,
            &sums,
            (nbk + 1).div_ceil(SCAN_TILE),
        )?;
        s.copy(&counts, &mut cursor, nbk + 1)?;
        s.launch(
            src,
            "msm_scatter",
            n,
            None,
            &[&head[..], &[cursor.arg(), entries.arg()]].concat(),
        )?;
        s.launch(
            src,
            "msm_accumulate",
            (wn * n).div_ceil(task_len),
            None,
            &[
                points.arg(),
                entries.arg(),
                counts.arg(),
                Arg::U32(nbk as u32),
                Arg::U32(task_len as u32),
                buckets.arg(),
                partials.arg(),
            ],
        )?;
        s.launch(
            src,
            "msm_fixup",
            nbk,
            None,
            &[
                counts.arg(),
                Arg::U32(nbk as u32),
                Arg::U32(task_len as u32),
                partials.arg(),
                buckets.arg(),
            ],
        )?;
        s.launch(
            src,
            "msm_reduce",
            wn * nseg,
            None,
            &[
                buckets.arg(),
                Arg::U32(nb as u32),
                Arg::U32(wn as u32),
                Arg::U32(seg_len as u32),
                Arg::U32(nseg as u32),
                segs.arg(),
            ],
        )?;
        // Sum the segments of each window on the device (into the front of `buckets`).
        s.launch(
            src,
            "msm_sum_segments",
            wn,
            None,
            &[
                segs.arg(),
                Arg::U32(wn as u32),
                Arg::U32(nseg as u32),
                buckets.arg(),
            ],
        )?;
        s.read(&buckets, 0, &mut windows[w0..w0 + wn])?;
    }
    // The scalars may be witness data: clear them, and what was derived from them (digits
    // in the sorted entries, bucket sizes, bucket sums), before the buffers are freed and
    // the device memory is handed to the next allocation. (Not done when a launch failed
    // half-way: then the buffers are freed as they are.)
    s.zero(&mut sbuf, n)?;
    s.zero(&mut entries, wg * n)?;
    s.zero(&mut counts, nbk + 1)?;
    s.zero(&mut cursor, nbk + 1)?;
    s.zero(&mut buckets, nbk)?;

    let mut acc = Projective::<C>::IDENTITY;
    for w in windows.iter().rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        acc = acc.add(&w.to_projective());
    }
    Ok(acc)
}

/// Segment results that fit one allocation for `wg` windows.
fn segs_capacity<C: CurveGroup>(max_alloc: u64, wg: usize) -> usize {
    (max_alloc as usize / size_of::<Xyzz<C>>() / wg).max(1)
}

/// Exclusive prefix sums of `data[..n]` in place (scan.h).
fn scan<D: GpuDevice>(
    s: &mut D::Session<'_>,
    src: &ProgramSource,
    data: &DeviceVec<D, u32>,
    n: usize,
    sums: &DeviceVec<D, u32>,
    ntiles: usize,
) -> BackendResult<()> {
    let n32 = n as u32;
    s.launch(
        src,
        "scan_tiles",
        ntiles * SCAN_WG,
        Some(SCAN_WG),
        &[data.arg(), Arg::U32(n32), sums.arg()],
    )?;
    s.launch(
        src,
        "scan_sums",
        SCAN_WG,
        Some(SCAN_WG),
        &[sums.arg(), Arg::U32(ntiles as u32)],
    )?;
    s.launch(
        src,
        "scan_add",
        n,
        None,
        &[data.arg(), Arg::U32(n32), sums.arg()],
    )
}

/// The bases as one contiguous affine slice (borrowed when the view already is one).
fn with_affine<C: CurveGroup, R>(
    bases: &RawPoints<'_>,
    f: impl FnOnce(&[Affine<C>]) -> BackendResult<R>,
) -> BackendResult<R> {
    let b = bases.typed::<C>()?;
    match b.as_affine_slice() {
        Some(p) => f(p),
        None => f(&b.to_vec()),
    }
}

fn msm_typed<C: CurveGroup, D: GpuDevice>(
    ctx: &D,
    bases: &RawPoints<'_>,
    scalars: &RawScalars<'_>,
) -> BackendResult<RawPoint> {
    scalars.typed::<C::Scalar>()?;
    let src = program(ctx, C::id())?;
    let chunk = chunk_len::<C>(ctx.limits().max_alloc);
    with_affine::<C, _>(bases, |points| {
        let mut total = Projective::<C>::IDENTITY;
        let mut s = ctx.session();
        for (start, pts) in (0..).step_by(chunk).zip(points.chunks(chunk)) {
            let pbuf = ctx.upload(pts, "MSM bases")?;
            let sc = &scalars.limbs()[start..start + pts.len()];
            total = total.add(&run::<C, D>(&mut s, &src, &pbuf, sc, scalars.encoding())?);
        }
        Ok(RawPoint::from_projective(&total))
    })
}

/// `Σ scalars[i]·bases[i]`.
pub(super) fn msm<D: GpuDevice>(
    ctx: &D,
    bases: &RawPoints<'_>,
    scalars: &RawScalars<'_>,
) -> BackendResult<RawPoint> {
    with_curve_group!(
        bases.id(),
        |C| msm_typed::<C, D>(ctx, bases, scalars),
        Err(BackendError::unsupported(OpId::Msm, bases.id().to_string()))
    )
}

/// Bases resident on the device, in chunks of at most one allocation each.
struct DeviceBases<C: CurveGroup, D: GpuDevice> {
    ctx: Arc<D>,
    chunks: Vec<DeviceVec<D, Affine<C>>>,
    chunk: usize,
    len: usize,
}

impl<C: CurveGroup, D: GpuDevice> PreparedBases for DeviceBases<C, D> {
    fn id(&self) -> CurveGroupId {
        C::id()
    }
    fn len(&self) -> usize {
        self.len
    }
    fn resident_bytes(&self) -> u64 {
        (self.len * size_of::<Affine<C>>()) as u64
    }
    fn msm(&self, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        if scalars.len() > self.len {
            return Err(BackendError::BadInput(format!(
                "{} scalars for {} prepared bases",
                scalars.len(),
                self.len
            )));
        }
        scalars.typed::<C::Scalar>()?;
        let src = program(&*self.ctx, C::id())?;
        let mut s = self.ctx.session();
        let mut total = Projective::<C>::IDENTITY;
        for (i, buf) in self.chunks.iter().enumerate() {
            let start = i * self.chunk;
            if start >= scalars.len() {
                break;
            }
            let end = (start + self.chunk).min(scalars.len());
            let sc = &scalars.limbs()[start..end];
            total = total.add(&run::<C, D>(&mut s, &src, buf, sc, scalars.encoding())?);
        }
        Ok(RawPoint::from_projective(&total))
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Uploads bases once for many MSMs.
pub(super) fn prepare<D: GpuDevice>(
    ctx: &Arc<D>,
    bases: &RawPoints<'_>,
) -> BackendResult<Arc<dyn PreparedBases>> {
    with_curve_group!(
        bases.id(),
        |C| {
            let chunk = chunk_len::<C>(ctx.limits().max_alloc);
            with_affine::<C, _>(bases, |points| {
                let chunks = points
                    .chunks(chunk)
                    .map(|p| ctx.upload(p, "prepared MSM bases"))
                    .collect::<BackendResult<Vec<_>>>()?;
                Ok(Arc::new(DeviceBases::<C, D> {
                    ctx: ctx.clone(),
                    chunks,
                    chunk,
                    len: points.len(),
                }) as Arc<dyn PreparedBases>)
            })
        },
        Err(BackendError::unsupported(OpId::Msm, bases.id().to_string()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkaccel_backend::curves::{Bls12_381G2, Bn254G1};

    #[test]
    fn windows_shrink_to_fit_one_allocation() {
        assert_eq!(window_bits::<Bn254G1>(1 << 20, u64::MAX), 16);
        assert_eq!(window_bits::<Bn254G1>(10, u64::MAX), 4);
        let c = window_bits::<Bls12_381G2>(1 << 20, 1 << 16);
        assert!((1u64 << (c - 1)) * size_of::<Xyzz<Bls12_381G2>>() as u64 <= 1 << 16);
        // Window groups keep buckets and entries within one allocation.
        let wg = window_group::<Bls12_381G2>(1000, 1 << (c - 1), 64, 1 << 16);
        assert!(wg >= 1 && wg * 4000 <= 1 << 16);
        // Entry positions stay 32-bit for the largest chunks.
        let n = (1usize << 31) - 1;
        let wg = window_group::<Bn254G1>(n, 1 << 15, 16, u64::MAX);
        assert!((wg * n) as u64 <= u64::from(u32::MAX));
    }

    #[test]
    fn chunks_respect_the_allocation_limit() {
        let n = chunk_len::<Bn254G1>(1 << 16);
        assert!(n as u64 * 64 <= 1 << 16 && n >= 1);
        assert_eq!(chunk_len::<Bn254G1>(u64::MAX), (1 << 31) - 1);
    }
}
