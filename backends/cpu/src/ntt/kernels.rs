//! The in-place radix-2/radix-4 kernels `nr` (natural in, bit-reversed out, Cooley–Tukey)
//! and `rn` (bit-reversed in, natural out, Gentleman–Sande), generic over the butterfly
//! arithmetic ([`Arith`]); see the [module documentation](super) for the algorithm.

use super::arith::Arith;
use super::{CHUNK, LEAF_BYTES, PAR_MIN};
use rayon::prelude::*;

/// Elements per leaf block for element type `E`.
#[inline(always)]
fn leaf_elems<E>() -> usize {
    (LEAF_BYTES / core::mem::size_of::<E>().max(1)).max(2)
}

// ---------------------------------------------------------------------------------------------
// Butterflies
// ---------------------------------------------------------------------------------------------

/// Cooley–Tukey butterflies with one twiddle: `(a, b) ← (a + c·b, a − c·b)`; `unit`: `c = 1`;
/// `fin`: the outputs are final (made canonical).
#[inline(always)]
fn ct_block<A: Arith>(ar: A, lo: &mut [A::E], hi: &mut [A::E], c: A::E, unit: bool, fin: bool) {
    let done = ar.wide2(false, lo, hi, c, unit, fin);
    let (lo, hi) = (&mut lo[done..], &mut hi[done..]);
    #[inline(always)]
    fn body<A: Arith, const UNIT: bool, const FIN: bool>(
        ar: A,
        lo: &mut [A::E],
        hi: &mut [A::E],
        c: A::E,
    ) {
        for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
            let (x, y) = if UNIT {
                ar.ct1(*a, *b)
            } else {
                ar.ct(*a, *b, c)
            };
            if FIN {
                *a = ar.fin(x);
                *b = ar.fin(y);
            } else {
                *a = x;
                *b = y;
            }
        }
    }
    match (unit, fin && A::LAZY) {
        (true, false) => body::<A, true, false>(ar, lo, hi, c),
        (false, false) => body::<A, false, false>(ar, lo, hi, c),
        (true, true) => body::<A, true, true>(ar, lo, hi, c),
        (false, true) => body::<A, false, true>(ar, lo, hi, c),
    }
}

/// Gentleman–Sande butterflies with one twiddle: `(a, b) ← (a + b, (a − b)·c)`.
#[inline(always)]
fn gs_block<A: Arith>(ar: A, lo: &mut [A::E], hi: &mut [A::E], c: A::E, unit: bool, fin: bool) {
    let done = ar.wide2(true, lo, hi, c, unit, fin);
    let (lo, hi) = (&mut lo[done..], &mut hi[done..]);
    #[inline(always)]
    fn body<A: Arith, const UNIT: bool, const FIN: bool>(
        ar: A,
        lo: &mut [A::E],
        hi: &mut [A::E],
        c: A::E,
    ) {
        for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
            let (x, y) = if UNIT {
                ar.ct1(*a, *b)
            } else {
                ar.gs(*a, *b, c)
            };
            if FIN {
                *a = ar.fin(x);
                *b = ar.fin(y);
            } else {
                *a = x;
                *b = y;
            }
        }
    }
    match (unit, fin && A::LAZY) {
        (true, false) => body::<A, true, false>(ar, lo, hi, c),
        (false, false) => body::<A, false, false>(ar, lo, hi, c),
        (true, true) => body::<A, true, true>(ar, lo, hi, c),
        (false, true) => body::<A, false, true>(ar, lo, hi, c),
    }
}

/// Two fused Cooley–Tukey levels on a block of four quarters `q0..q3`: level one with `c`
/// (pairs `q0/q2`, `q1/q3`), level two with `c0` (`q0/q1`) and `c1` (`q2/q3`); `unit`:
/// `c = c0 = 1`; `fin`: the outputs are final.
#[inline(always)]
fn ct_block4<A: Arith>(ar: A, q: [&mut [A::E]; 4], c: [A::E; 3], unit: bool, fin: bool) {
    let [q0, q1, q2, q3] = q;
    let done = ar.wide4(
        false,
        [&mut *q0, &mut *q1, &mut *q2, &mut *q3],
        c,
        unit,
        fin,
    );
    let q = [
        &mut q0[done..],
        &mut q1[done..],
        &mut q2[done..],
        &mut q3[done..],
    ];
    #[inline(always)]
    fn body<A: Arith, const UNIT: bool, const FIN: bool>(
        ar: A,
        q: [&mut [A::E]; 4],
        [c, c0, c1]: [A::E; 3],
    ) {
        let [q0, q1, q2, q3] = q;
        let len = q0.len();
        let (q1, q2, q3) = (&mut q1[..len], &mut q2[..len], &mut q3[..len]);
        for i in 0..len {
            let (a0, a1, a2, a3) = (q0[i], q1[i], q2[i], q3[i]);
            let ((x0, x2), (x1, x3)) = if UNIT {
                (ar.ct1(a0, a2), ar.ct1(a1, a3))
            } else {
                (ar.ct(a0, a2, c), ar.ct(a1, a3, c))
            };
            let (y0, y1) = if UNIT {
                ar.ct1(x0, x1)
            } else {
                ar.ct(x0, x1, c0)
            };
            let (y2, y3) = ar.ct(x2, x3, c1);
            if FIN {
                (q0[i], q1[i], q2[i], q3[i]) = (ar.fin(y0), ar.fin(y1), ar.fin(y2), ar.fin(y3));
            } else {
                (q0[i], q1[i], q2[i], q3[i]) = (y0, y1, y2, y3);
            }
        }
    }
    match (unit, fin && A::LAZY) {
        (true, false) => body::<A, true, false>(ar, q, c),
        (false, false) => body::<A, false, false>(ar, q, c),
        (true, true) => body::<A, true, true>(ar, q, c),
        (false, true) => body::<A, false, true>(ar, q, c),
    }
}

/// Two fused Gentleman–Sande levels, the inverse order of [`ct_block4`]: level two first
/// (`q0/q1` with `c0`, `q2/q3` with `c1`), then level one with `c`.
#[inline(always)]
fn gs_block4<A: Arith>(ar: A, q: [&mut [A::E]; 4], c: [A::E; 3], unit: bool, fin: bool) {
    let [q0, q1, q2, q3] = q;
    let done = ar.wide4(true, [&mut *q0, &mut *q1, &mut *q2, &mut *q3], c, unit, fin);
    let q = [
        &mut q0[done..],
        &mut q1[done..],
        &mut q2[done..],
        &mut q3[done..],
    ];
    #[inline(always)]
    fn body<A: Arith, const UNIT: bool, const FIN: bool>(
        ar: A,
        q: [&mut [A::E]; 4],
        [c, c0, c1]: [A::E; 3],
    ) {
        let [q0, q1, q2, q3] = q;
        let len = q0.len();
        let (q1, q2, q3) = (&mut q1[..len], &mut q2[..len], &mut q3[..len]);
        for i in 0..len {
            let (a0, a1, a2, a3) = (q0[i], q1[i], q2[i], q3[i]);
            let (x0, x1) = if UNIT {
                ar.ct1(a0, a1)
            } else {
                ar.gs(a0, a1, c0)
            };
            let (x2, x3) = ar.gs(a2, a3, c1);
            let ((y0, y2), (y1, y3)) = if UNIT {
                (ar.ct1(x0, x2), ar.ct1(x1, x3))
            } else {
                (ar.gs(x0, x2, c), ar.gs(x1, x3, c))
            };
            if FIN {
                (q0[i], q1[i], q2[i], q3[i]) = (ar.fin(y0), ar.fin(y1), ar.fin(y2), ar.fin(y3));
            } else {
                (q0[i], q1[i], q2[i], q3[i]) = (y0, y1, y2, y3);
            }
        }
    }
    match (unit, fin && A::LAZY) {
        (true, false) => body::<A, true, false>(ar, q, c),
        (false, false) => body::<A, false, false>(ar, q, c),
        (true, true) => body::<A, true, true>(ar, q, c),
        (false, true) => body::<A, false, true>(ar, q, c),
    }
}

/// [`ct_block4`], for tests of the wide paths.
#[cfg(test)]
pub(super) fn ct_block4_for_test<A: Arith>(
    ar: A,
    q: [&mut [A::E]; 4],
    c: [A::E; 3],
    unit: bool,
    fin: bool,
) {
    ct_block4(ar, q, c, unit, fin)
}

/// [`gs_block4`], for tests of the wide paths.
#[cfg(test)]
pub(super) fn gs_block4_for_test<A: Arith>(
    ar: A,
    q: [&mut [A::E]; 4],
    c: [A::E; 3],
    unit: bool,
    fin: bool,
) {
    gs_block4(ar, q, c, unit, fin)
}

/// Splits a block into four equal quarters.
#[inline(always)]
pub(super) fn quarters<E>(data: &mut [E]) -> [&mut [E]; 4] {
    let q = data.len() / 4;
    let (a, rest) = data.split_at_mut(q);
    let (b, rest) = rest.split_at_mut(q);
    let (c, d) = rest.split_at_mut(q);
    [a, b, c, d]
}

// ---------------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------------

/// Natural in, bit-reversed out: `data` (an `n × w` row-major matrix, `n` a power of two)
/// becomes `bitreverse ∘ DFT_ρ` of each column, where `tw[k] = ρ^bitreverse(k, log n − 1)`.
/// The outputs are canonical.
pub(super) fn nr<A: Arith>(ar: A, data: &mut [A::E], w: usize, tw: &[A::E]) {
    nr_rec(ar, data, w, 0, tw, true);
}

/// [`nr`] on block `k` of its level (a block of `2^j` rows holding `a mod (x^(2^j) − c²)`).
/// Its outputs are canonical once it returns. `par_ok`: large blocks may run in parallel.
pub(super) fn nr_rec<A: Arith>(
    ar: A,
    data: &mut [A::E],
    w: usize,
    k: usize,
    tw: &[A::E],
    par_ok: bool,
) {
    let len = data.len();
    if len <= w {
        return;
    }
    if len <= leaf_elems::<A::E>() {
        nr_leaf(ar, data, w, k, tw);
        return;
    }
    let par = par_ok && len >= PAR_MIN;
    if len >= 4 * w {
        // Two levels in one pass: the block's own, then its two halves' (blocks 2k, 2k+1).
        let c = [tw[k], tw[2 * k], tw[2 * k + 1]];
        let unit = k == 0;
        let fin = len == 4 * w;
        let [q0, q1, q2, q3] = quarters(data);
        if par {
            q0.par_chunks_mut(CHUNK)
                .zip(q1.par_chunks_mut(CHUNK))
                .zip(q2.par_chunks_mut(CHUNK))
                .zip(q3.par_chunks_mut(CHUNK))
                .for_each(|(((a, b), c2), d)| ct_block4(ar, [a, b, c2, d], c, unit, fin));
        } else {
            ct_block4(ar, [q0, q1, q2, q3], c, unit, fin);
        }
        let (j0, j1, j2, j3) = (4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3);
        if par {
            rayon::join(
                || {
                    rayon::join(
                        || nr_rec(ar, q0, w, j0, tw, par),
                        || nr_rec(ar, q1, w, j1, tw, par),
                    )
                },
                || {
                    rayon::join(
                        || nr_rec(ar, q2, w, j2, tw, par),
                        || nr_rec(ar, q3, w, j3, tw, par),
                    )
                },
            );
        } else {
            nr_rec(ar, q0, w, j0, tw, par);
            nr_rec(ar, q1, w, j1, tw, par);
            nr_rec(ar, q2, w, j2, tw, par);
            nr_rec(ar, q3, w, j3, tw, par);
        }
        return;
    }
    let (lo, hi) = data.split_at_mut(len / 2);
    let (c, unit, fin) = (tw[k], k == 0, len == 2 * w);
    if par {
        lo.par_chunks_mut(CHUNK)
            .zip(hi.par_chunks_mut(CHUNK))
            .for_each(|(a, b)| ct_block(ar, a, b, c, unit, fin));
        rayon::join(
            || nr_rec(ar, lo, w, 2 * k, tw, par),
            || nr_rec(ar, hi, w, 2 * k + 1, tw, par),
        );
    } else {
        ct_block(ar, lo, hi, c, unit, fin);
        nr_rec(ar, lo, w, 2 * k, tw, par);
        nr_rec(ar, hi, w, 2 * k + 1, tw, par);
    }
}

/// All remaining levels of block `k`, level by level (the block is in cache); the last
/// level's outputs are made canonical.
fn nr_leaf<A: Arith>(ar: A, data: &mut [A::E], w: usize, k: usize, tw: &[A::E]) {
    let log_rows = (data.len() / w).trailing_zeros();
    for d in 0..log_rows {
        let half = data.len() >> (d + 1);
        let k0 = k << d;
        let last = d + 1 == log_rows;
        if half == 1 {
            // Last level of a single column: one butterfly per twiddle.
            for (s, pair) in data.chunks_exact_mut(2).enumerate() {
                let (x, y) = ar.ct(pair[0], pair[1], tw[k0 + s]);
                pair[0] = ar.fin(x);
                pair[1] = ar.fin(y);
            }
        } else {
            for (s, blk) in data.chunks_exact_mut(2 * half).enumerate() {
                let (lo, hi) = blk.split_at_mut(half);
                ct_block(ar, lo, hi, tw[k0 + s], k0 + s == 0, last);
            }
        }
    }
}

/// Bit-reversed in, natural out: `data` (an `n × w` row-major matrix) becomes
/// `DFT_ρ ∘ bitreverse` of each column, where `tw[k] = ρ^bitreverse(k, log n − 1)`
/// (`n` times the inverse of [`nr`] with the table of `ρ⁻¹`). The outputs are canonical.
pub(super) fn rn<A: Arith>(ar: A, data: &mut [A::E], w: usize, tw: &[A::E]) {
    rn_rec(ar, data, w, 0, tw, true, true);
}

/// [`rn`] on block `k` of its level: the halves first, then the block's own butterflies;
/// `last`: those are the last operation on these elements (their outputs are made
/// canonical). `par_ok`: large blocks may run in parallel.
pub(super) fn rn_rec<A: Arith>(
    ar: A,
    data: &mut [A::E],
    w: usize,
    k: usize,
    tw: &[A::E],
    last: bool,
    par_ok: bool,
) {
    let len = data.len();
    if len <= w {
        return;
    }
    if len <= leaf_elems::<A::E>() {
        rn_leaf(ar, data, w, k, tw, last);
        return;
    }
    let par = par_ok && len >= PAR_MIN;
    if len >= 4 * w {
        let c = [tw[k], tw[2 * k], tw[2 * k + 1]];
        let unit = k == 0;
        let [q0, q1, q2, q3] = quarters(data);
        let (j0, j1, j2, j3) = (4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3);
        if par {
            rayon::join(
                || {
                    rayon::join(
                        || rn_rec(ar, q0, w, j0, tw, false, par),
                        || rn_rec(ar, q1, w, j1, tw, false, par),
                    )
                },
                || {
                    rayon::join(
                        || rn_rec(ar, q2, w, j2, tw, false, par),
                        || rn_rec(ar, q3, w, j3, tw, false, par),
                    )
                },
            );
            q0.par_chunks_mut(CHUNK)
                .zip(q1.par_chunks_mut(CHUNK))
                .zip(q2.par_chunks_mut(CHUNK))
                .zip(q3.par_chunks_mut(CHUNK))
                .for_each(|(((a, b), c2), d)| gs_block4(ar, [a, b, c2, d], c, unit, last));
        } else {
            rn_rec(ar, q0, w, j0, tw, false, par);
            rn_rec(ar, q1, w, j1, tw, false, par);
            rn_rec(ar, q2, w, j2, tw, false, par);
            rn_rec(ar, q3, w, j3, tw, false, par);
            gs_block4(ar, [q0, q1, q2, q3], c, unit, last);
        }
        return;
    }
    let (lo, hi) = data.split_at_mut(len / 2);
    let (c, unit) = (tw[k], k == 0);
    if par {
        rayon::join(
            || rn_rec(ar, lo, w, 2 * k, tw, false, par),
            || rn_rec(ar, hi, w, 2 * k + 1, tw, false, par),
        );
        lo.par_chunks_mut(CHUNK)
            .zip(hi.par_chunks_mut(CHUNK))
            .for_each(|(a, b)| gs_block(ar, a, b, c, unit, last));
    } else {
        rn_rec(ar, lo, w, 2 * k, tw, false, par);
        rn_rec(ar, hi, w, 2 * k + 1, tw, false, par);
        gs_block(ar, lo, hi, c, unit, last);
    }
}

/// All levels of block `k` below and including its own, deepest first; `last`: the block's
/// own level is the last operation on these elements.
fn rn_leaf<A: Arith>(ar: A, data: &mut [A::E], w: usize, k: usize, tw: &[A::E], last: bool) {
    let log_rows = (data.len() / w).trailing_zeros();
    for d in (0..log_rows).rev() {
        let half = data.len() >> (d + 1);
        let k0 = k << d;
        let fin = last && d == 0;
        if half == 1 {
            for (s, pair) in data.chunks_exact_mut(2).enumerate() {
                let (x, y) = ar.gs(pair[0], pair[1], tw[k0 + s]);
                if fin && A::LAZY {
                    pair[0] = ar.fin(x);
                    pair[1] = ar.fin(y);
                } else {
                    pair[0] = x;
                    pair[1] = y;
                }
            }
        } else {
            for (s, blk) in data.chunks_exact_mut(2 * half).enumerate() {
                let (lo, hi) = blk.split_at_mut(half);
                gs_block(ar, lo, hi, tw[k0 + s], k0 + s == 0, fin);
            }
        }
    }
}
