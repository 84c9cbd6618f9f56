//! AVX-512 IFMA butterflies for the lazily reduced 4-limb arithmetic ([`super::arith::Mont4Lazy`]):
//! eight butterflies at a time, one per lane, on the shared radix-2⁵² arithmetic
//! ([`crate::ifma52`]).
//!
//! A run of eight elements of `lo` and of `hi` is loaded, transformed and stored back; two
//! fused levels ([`Ifma::ct4`], [`Ifma::gs4`]) share one load and one store of four runs. The
//! data stays in the field's storage between calls (`[0, 2p)`, as for the scalar path).
//!
//! The product computes `a·b·2⁻²⁶⁰`, the data is in `R = 2²⁵⁶` form: each twiddle is used as
//! `16·c mod p` ([`Ifma::twiddle`]), so that `mont52(x, 16c) = x·c·2⁻²⁵⁶`, the same value
//! (mod `p`) as the scalar Montgomery product with `c`. Bounds: the product of values in
//! `[0, 2p)` lies in `[0, 2p)` ([`Lanes::mul`]); sums and differences are brought back into
//! `[0, 2p)` by one conditional subtraction or addition of `2p`, as in the scalar path; the
//! last level subtracts `p` once more.

use crate::ifma52::{load8, splat, store8, to52, Lanes, Modulus52, V5};

/// The IFMA butterflies for one modulus `p < 2²⁵⁴`.
#[derive(Clone, Copy)]
pub(super) struct Ifma {
    m: Modulus52<4, 5>,
}

impl Ifma {
    /// The butterflies for the odd modulus `p < 2²⁵⁴`, or `None` when the CPU lacks IFMA (or
    /// it is turned off).
    pub(super) fn new(p: [u64; 4]) -> Option<Self> {
        Modulus52::new(p).map(|m| Self { m })
    }

    /// `16·c mod p` for a canonical twiddle `c`, in 52-bit limbs (see the module docs).
    #[inline(always)]
    fn twiddle(&self, c: &[u64; 4]) -> [u64; 5] {
        let mut x = *c;
        for _ in 0..Modulus52::<4, 5>::F_LOG2 {
            let (d, _) = super::arith::add4(&x, &x);
            let (e, borrow) = super::arith::sub4(&d, &self.m.p64);
            x = if borrow { d } else { e };
        }
        to52(x)
    }

    /// Butterflies with one twiddle on the first multiple of 8 of `lo`/`hi` (equal lengths):
    /// Cooley–Tukey `(a, b) ← (a + c·b, a − c·b)`, or Gentleman–Sande
    /// `(a, b) ← (a + b, (a − b)·c)` when `GS`; `unit`: `c = 1`; `fin`: outputs canonical.
    /// Returns how many pairs it did.
    pub(super) fn two<const GS: bool>(
        &self,
        lo: &mut [[u64; 4]],
        hi: &mut [[u64; 4]],
        c: &[u64; 4],
        unit: bool,
        fin: bool,
    ) -> usize {
        let n = lo.len().min(hi.len()) & !7;
        if n > 0 {
            let c = self.twiddle(c);
            // SAFETY: a `Modulus52` exists only when the CPU has AVX-512F and IFMA; both
            // slices hold at least `n` elements.
            unsafe { self.run2::<GS>(lo.as_mut_ptr(), hi.as_mut_ptr(), n, &c, unit, fin) };
        }
        n
    }

    /// Two fused levels on quarters `q`. Cooley–Tukey (the scalar `ct_block4`): level one
    /// with `c[0]` (`q0/q2`, `q1/q3`), then level two with `c[1]` (`q0/q1`) and `c[2]`
    /// (`q2/q3`); Gentleman–Sande when `GS` (the scalar `gs_block4`): the same levels in the
    /// opposite order. `unit`: `c[0] = c[1] = 1`. Returns how many elements of each quarter
    /// it did.
    pub(super) fn four<const GS: bool>(
        &self,
        q: [&mut [[u64; 4]]; 4],
        c: &[[u64; 4]; 3],
        unit: bool,
        fin: bool,
    ) -> usize {
        let n = q.iter().map(|s| s.len()).min().unwrap_or(0) & !7;
        if n > 0 {
            let c = [
                self.twiddle(&c[0]),
                self.twiddle(&c[1]),
                self.twiddle(&c[2]),
            ];
            let ptrs = q.map(|s| s.as_mut_ptr());
            // SAFETY: as in `two`; the four quarters are disjoint and hold `n` elements each.
            unsafe { self.run4::<GS>(ptrs, n, &c, unit, fin) };
        }
        n
    }

    /// The loop of [`Self::two`].
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn run2<const GS: bool>(
        &self,
        lo: *mut [u64; 4],
        hi: *mut [u64; 4],
        n: usize,
        c: &[u64; 5],
        unit: bool,
        fin: bool,
    ) {
        let k = self.m.lanes();
        let c = splat(c);
        for i in (0..n).step_by(8) {
            // SAFETY: `i + 8 ≤ n`, within both slices (caller).
            let (a, b) = unsafe { (load8(lo.add(i)), load8(hi.add(i))) };
            let (x, y) = match (GS, unit) {
                (_, true) => ct1(&k, &a, &b),
                (false, false) => ct(&k, &a, &b, &c),
                (true, false) => gs(&k, &a, &b, &c),
            };
            let (x, y) = if fin { (k.fin(&x), k.fin(&y)) } else { (x, y) };
            // SAFETY: as above.
            unsafe {
                store8(lo.add(i), &x);
                store8(hi.add(i), &y);
            }
        }
    }

    /// The loop of [`Self::four`].
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn run4<const GS: bool>(
        &self,
        q: [*mut [u64; 4]; 4],
        n: usize,
        c: &[[u64; 5]; 3],
        unit: bool,
        fin: bool,
    ) {
        let k = self.m.lanes();
        let (c, c0, c1) = (splat(&c[0]), splat(&c[1]), splat(&c[2]));
        for i in (0..n).step_by(8) {
            // SAFETY: `i + 8 ≤ n`, within all four quarters (caller).
            let [a0, a1, a2, a3] = q.map(|p| unsafe { load8(p.add(i)) });
            let (y0, y1, y2, y3) = if !GS {
                let ((x0, x2), (x1, x3)) = if unit {
                    (ct1(&k, &a0, &a2), ct1(&k, &a1, &a3))
                } else {
                    (ct(&k, &a0, &a2, &c), ct(&k, &a1, &a3, &c))
                };
                let (y0, y1) = if unit {
                    ct1(&k, &x0, &x1)
                } else {
                    ct(&k, &x0, &x1, &c0)
                };
                let (y2, y3) = ct(&k, &x2, &x3, &c1);
                (y0, y1, y2, y3)
            } else {
                let (x0, x1) = if unit {
                    ct1(&k, &a0, &a1)
                } else {
                    gs(&k, &a0, &a1, &c0)
                };
                let (x2, x3) = gs(&k, &a2, &a3, &c1);
                let ((y0, y2), (y1, y3)) = if unit {
                    (ct1(&k, &x0, &x2), ct1(&k, &x1, &x3))
                } else {
                    (gs(&k, &x0, &x2, &c), gs(&k, &x1, &x3, &c))
                };
                (y0, y1, y2, y3)
            };
            for (p, y) in q.into_iter().zip([y0, y1, y2, y3]) {
                let y = if fin { k.fin(&y) } else { y };
                // SAFETY: as above.
                unsafe { store8(p.add(i), &y) };
            }
        }
    }
}

/// `(a + c·b, a − c·b)` in `[0, 2p)` for `a, b` in `[0, 2p)` and the prepared twiddle `c`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn ct(k: &Lanes<5>, a: &V5, b: &V5, c: &V5) -> (V5, V5) {
    ct1(k, a, &k.mul(b, c))
}

/// `(a + b, a − b)` in `[0, 2p)`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn ct1(k: &Lanes<5>, a: &V5, b: &V5) -> (V5, V5) {
    (k.add(a, b), k.sub(a, b))
}

/// `(a + b, (a − b)·c)` in `[0, 2p)`.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn gs(k: &Lanes<5>, a: &V5, b: &V5, c: &V5) -> (V5, V5) {
    (k.add(a, b), k.mul(&k.sub(a, b), c))
}
