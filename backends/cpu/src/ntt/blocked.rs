//! Cache-blocked drivers of the `nr`/`rn` kernels for single columns larger than the cache.
//!
//! This is the four-step decomposition of D. H. Bailey ("FFTs in external or hierarchical
//! memory", J. Supercomputing 4, 1990), specialised to the remainder-tree kernels: view the
//! `n = n1·n2` column as an `n1 × n2` row-major matrix (`n1 = 2^l1` rows of `n2 = 2^l2`
//! contiguous elements). The first `l1` levels of `nr` pair elements whose indices differ only
//! in the top `l1` bits, and a level-`ℓ` block `k` uses the single twiddle `T[k]` whatever
//! the low bits are; so those levels are exactly `nr` of size `n1` applied to every column of
//! the matrix, with the same table, and no twiddle multiplication between the steps is
//! needed (the twiddles of the classic four-step are already folded into the bit-reversed
//! table). The remaining `l2` levels are `nr` on each contiguous row `r`, as block `r` of
//! level `l1`. `rn` runs the same two steps in the opposite order.
//!
//! The column step gathers a tile of `n1 × TW` elements (`TW` columns, 256 bytes per row
//! run) into a per-task buffer that fits in L2, transforms it there as an interleaved batch
//! of `TW` columns, and scatters it back: the matrix is read and written once, and the
//! power-of-two stride between the rows of a tile never meets the cache's associativity
//! (every level of the in-cache kernel walks the buffer sequentially). The row step works on
//! contiguous rows of `n2` elements, also in cache. So a transform reads and writes memory
//! twice, whatever its size, instead of once per pair of levels above the cache size.

use super::arith::Arith;
use super::kernels::{nr_rec, rn_rec};
use rayon::prelude::*;

/// Bytes per row run of a column tile.
const RUN_BYTES: usize = 256;

/// Columns per tile for element type `E`.
#[inline(always)]
fn tile_cols<E>() -> usize {
    (RUN_BYTES / core::mem::size_of::<E>().max(1)).max(1)
}

/// Splits `log_n` into (column levels `l1`, row levels `l2`): rows as long as columns, or one
/// level longer.
#[inline(always)]
fn split(log_n: u32) -> (u32, u32) {
    let l1 = log_n / 2;
    (l1, log_n - l1)
}

/// The base pointer of the matrix, shared by the column tasks (each owns disjoint columns).
#[derive(Clone, Copy)]
struct Base<E>(*mut E);

// SAFETY: `Base` is only dereferenced in `columns`, where each task touches a set of columns
// no other task touches (see there), and `E: Send` lets those elements move between threads.
unsafe impl<E: Send> Send for Base<E> {}
// SAFETY: as above; sharing the wrapper gives no access the disjointness argument does not
// cover.
unsafe impl<E: Send> Sync for Base<E> {}

impl<E> Base<E> {
    #[inline(always)]
    fn ptr(self) -> *mut E {
        self.0
    }
}

/// Runs `f` on every column tile of the `n1 × n2` matrix `data` (row-major), gathered into a
/// contiguous `n1 × tw` buffer, and writes the buffer back.
fn columns<E: Copy + Send + Sync + Default>(
    data: &mut [E],
    l1: u32,
    l2: u32,
    f: impl Fn(&mut [E]) + Sync,
) {
    let (n1, n2) = (1usize << l1, 1usize << l2);
    debug_assert_eq!(data.len(), n1 * n2);
    let tw = tile_cols::<E>().min(n2);
    let base = Base(data.as_mut_ptr());
    (0..n2 / tw).into_par_iter().for_each_init(
        || vec![E::default(); n1 * tw],
        |buf, t| {
            let col = t * tw;
            for (i, run) in buf.chunks_exact_mut(tw).enumerate() {
                // SAFETY: row `i < n1`, columns `col..col + tw ≤ n2` lie inside `data`
                // (`n1·n2` elements, exclusively borrowed by this call); the task for tile
                // `t` is the only one touching columns `col..col + tw`, and the shared
                // slice is dropped before the next row is made.
                let src = unsafe { core::slice::from_raw_parts(base.ptr().add(i * n2 + col), tw) };
                run.copy_from_slice(src);
            }
            f(buf);
            for (i, run) in buf.chunks_exact(tw).enumerate() {
                // SAFETY: as above, for writing the same elements back.
                let dst =
                    unsafe { core::slice::from_raw_parts_mut(base.ptr().add(i * n2 + col), tw) };
                dst.copy_from_slice(run);
            }
        },
    );
}

/// [`super::kernels::nr`] on one column of `2^log_n` elements, in two cache-blocked steps.
pub(super) fn nr<A: Arith>(ar: A, data: &mut [A::E], log_n: u32, tw: &[A::E])
where
    A::E: Default,
{
    if log_n < 2 {
        return super::kernels::nr(ar, data, 1, tw);
    }
    let (l1, l2) = split(log_n);
    let cols = tile_cols::<A::E>().min(1 << l2);
    columns(data, l1, l2, |buf| nr_rec(ar, buf, cols, 0, tw, false));
    data.par_chunks_mut(1 << l2)
        .enumerate()
        .for_each(|(r, row)| nr_rec(ar, row, 1, r, tw, false));
}

/// [`super::kernels::rn`] on one column of `2^log_n` elements, in two cache-blocked steps.
pub(super) fn rn<A: Arith>(ar: A, data: &mut [A::E], log_n: u32, tw: &[A::E])
where
    A::E: Default,
{
    if log_n < 2 {
        return super::kernels::rn(ar, data, 1, tw);
    }
    let (l1, l2) = split(log_n);
    let cols = tile_cols::<A::E>().min(1 << l2);
    data.par_chunks_mut(1 << l2)
        .enumerate()
        .for_each(|(r, row)| rn_rec(ar, row, 1, r, tw, false, false));
    columns(data, l1, l2, |buf| {
        rn_rec(ar, buf, cols, 0, tw, true, false)
    });
}
