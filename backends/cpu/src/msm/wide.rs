//! The batch-affine additions of [`super::batch_affine`] on eight lanes with AVX-512 IFMA
//! ([`crate::ifma52`]), for curves whose base field is stored in Montgomery form as four
//! 64-bit limbs with a modulus below `2²⁵⁴` (BN254 G1) or as six limbs with a modulus below
//! `2³⁸²` (BLS12-381 G1, BLS12-377 G1).
//!
//! A batch of `n` pending additions `bucket_k + point_k` (`n` a multiple of 8; the caller
//! pads) runs in two passes over contiguous arrays:
//!
//! 1. **Forward**: `d_k = x(point_k) − x(bucket_k)`, stored, and the running products of the
//!    `d_k` along 16 independent chains (two registers of eight lanes; group `g` of eight
//!    entries belongs to register `g mod 2`), whose value before each group is stored.
//! 2. The caller inverts the 16 chain totals with one scalar inversion (Montgomery's trick).
//! 3. **Backward**: the chain inverses walk back through the groups, giving each entry
//!    `inv_k = α/d_k`; each group's sums are computed right away:
//!    `λ = (y_p − y_b)/d`, `x₃ = λ² − x_b − x_p`, `y₃ = λ(x_b − x₃) − y_b`.
//!
//! # The factor `f`
//!
//! On the values the data stands for (`R = 2^(64L)` Montgomery form), the eight-lane product
//! is `a ⊗ b = a·b/f` with `f = 16` for four limbs and `f = 2³²` for six
//! ([`crate::ifma52`]). Montgomery's trick run with `⊗` throughout gives `inv_k = α/d_k` for
//! whatever `α` the inversion of the totals puts in: with the prefix `A_k = A_{k−1} ⊗ d_k`
//! and `I = α/A_last`, `I ⊗ d_k = α/A_{k−1}` and `I ⊗ A_{k−1} = α/d_k`. With `α = f^{3/2}`
//! (64, or `2⁴⁸`):
//! - `λ' = (y_p − y_b) ⊗ inv_k = f^{1/2}·λ` (`4λ`, or `2¹⁶λ`);
//! - `λ' ⊗ λ' = λ²`;
//! - `fλ ⊗ (x_b − x₃) = λ(x_b − x₃)`, with `fλ = f^{1/2}·λ'` from two doublings when
//!   `f = 16`, and as `λ' ⊗ α` (one product with a constant) when `f = 2³²`.
//!
//! Values stay in `[0, 2p)` (the product of two such values does too) and are made canonical
//! before they are stored as points.

use crate::ifma52::{load8, load8_xy, splat, store8, store8_xy, to52, Lanes, Modulus52, V};

/// Pending additions of one batch: `[x, y]` words, `L` limbs each.
pub(crate) type Pair<const L: usize> = [[u64; L]; 2];

/// The eight-lane batch additions for one base field stored in `L` limbs, computed in `N`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WideFlush<const L: usize, const N: usize> {
    m: Modulus52<L, N>,
    /// `α = 2^ALPHA_LOG2`: the canonical words of the field's storage.
    pub(crate) alpha: [u64; L],
    /// `α` in 52-bit limbs.
    alpha52: [u64; N],
}

impl<const L: usize, const N: usize> WideFlush<L, N> {
    /// `log₂ α`: `α = f^{3/2}` is what the inverses of [`WideFlush::run`] carry (see the
    /// module docs).
    pub(crate) const ALPHA_LOG2: u32 = 3 * Modulus52::<L, N>::F_LOG2 / 2;

    /// The additions modulo `p` (odd, below `2^(64L − 2)`), with `alpha` the canonical words
    /// of `2^ALPHA_LOG2` in the field's storage; `None` when the CPU lacks AVX-512 IFMA (or it
    /// is turned off) or the shape is not supported.
    pub(crate) fn new(p: [u64; L], alpha: [u64; L]) -> Option<Self> {
        Modulus52::new(p).map(|m| Self {
            m,
            alpha,
            alpha52: to52(alpha),
        })
    }

    /// `out[k] = bks[k] + pts[k]` for every `k` (affine, canonical words), where no `x`
    /// coordinates of a pair are equal and `bks[k]` is not the identity. `den` and `pre`
    /// are scratch. All slices have the same length, a multiple of 8. `invert` replaces
    /// each of the 16 canonical chain totals `t` (non-zero) by the canonical words of
    /// `α/t` (`α = 2^ALPHA_LOG2`).
    pub(crate) fn run(
        &self,
        pts: &[Pair<L>],
        bks: &[Pair<L>],
        den: &mut [[u64; L]],
        pre: &mut [[u64; L]],
        out: &mut [Pair<L>],
        invert: impl FnOnce(&mut [[u64; L]; 16]),
    ) {
        let n = pts.len();
        let same = [bks.len(), den.len(), pre.len(), out.len()]
            .iter()
            .all(|&l| l == n);
        assert!(
            same && n.is_multiple_of(8),
            "batch slices must have one length, a multiple of 8"
        );
        if n == 0 {
            return;
        }
        // SAFETY: a `Modulus52` exists only when the CPU has AVX-512F and IFMA; every slice
        // holds `n` elements (checked above).
        let mut tot = unsafe { self.forward(pts.as_ptr(), bks.as_ptr(), den, pre) };
        invert(&mut tot);
        // SAFETY: as above.
        unsafe { self.backward(pts.as_ptr(), bks.as_ptr(), den, pre, out.as_mut_ptr(), &tot) };
    }

    /// Pass 1: denominators, prefix products, and the 16 canonical chain totals.
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn forward(
        &self,
        pts: *const Pair<L>,
        bks: *const Pair<L>,
        den: &mut [[u64; L]],
        pre: &mut [[u64; L]],
    ) -> [[u64; L]; 16] {
        let k = self.m.lanes();
        let one = splat(&to52::<L, N>(core::array::from_fn(|i| (i == 0) as u64)));
        let mut acc = [one, one];
        for g in 0..den.len() / 8 {
            let i = 8 * g;
            // SAFETY: `i + 8 ≤ n` for all four arrays (caller).
            let d = unsafe {
                let (xp, _) = load8_xy(pts.add(i));
                let (xb, _) = load8_xy(bks.add(i));
                let d = k.sub(&xp, &xb);
                store8(den.as_mut_ptr().add(i), &d);
                store8(pre.as_mut_ptr().add(i), &acc[g & 1]);
                d
            };
            acc[g & 1] = k.mul(&acc[g & 1], &d);
        }
        let mut tot = [[0u64; L]; 16];
        // SAFETY: `tot` holds 16 elements.
        unsafe {
            store8(tot.as_mut_ptr(), &k.fin(&acc[0]));
            store8(tot.as_mut_ptr().add(8), &k.fin(&acc[1]));
        }
        tot
    }

    /// Pass 3: per-entry inverses from the inverted totals, and the sums.
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn backward(
        &self,
        pts: *const Pair<L>,
        bks: *const Pair<L>,
        den: &[[u64; L]],
        pre: &[[u64; L]],
        out: *mut Pair<L>,
        tot: &[[u64; L]; 16],
    ) {
        let k = self.m.lanes();
        let alpha = splat(&self.alpha52);
        // SAFETY: `tot` holds 16 elements.
        let mut inv = unsafe { [load8(tot.as_ptr()), load8(tot.as_ptr().add(8))] };
        for g in (0..den.len() / 8).rev() {
            let i = 8 * g;
            let c = g & 1;
            // SAFETY: `i + 8 ≤ n` for every array (caller).
            let (d, a, (xp, yp), (xb, yb)) = unsafe {
                (
                    load8(den.as_ptr().add(i)),
                    load8(pre.as_ptr().add(i)),
                    load8_xy(pts.add(i)),
                    load8_xy(bks.add(i)),
                )
            };
            let e = k.mul(&inv[c], &a);
            inv[c] = k.mul(&inv[c], &d);
            let (x3, y3) = sum::<L, N>(&k, &alpha, &e, &xp, &yp, &xb, &yb);
            // SAFETY: as above.
            unsafe { store8_xy(out.add(i), &k.fin(&x3), &k.fin(&y3)) };
        }
    }
}

/// `(x₃, y₃) = (x_b, y_b) + (x_p, y_p)` given `inv = α/(x_p − x_b)` and `α` in lanes (see
/// the module docs).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn sum<const L: usize, const N: usize>(
    k: &Lanes<N>,
    alpha: &V<N>,
    inv: &V<N>,
    xp: &V<N>,
    yp: &V<N>,
    xb: &V<N>,
    yb: &V<N>,
) -> (V<N>, V<N>) {
    // λ' = f^{1/2}·λ.
    let l = k.mul(&k.sub(yp, yb), inv);
    let x3 = k.sub(&k.sub(&k.mul(&l, &l), xb), xp);
    // fλ: f^{1/2} = 4 is two doublings; 2¹⁶ is cheaper as one product with α.
    let lf = if Modulus52::<L, N>::F_LOG2 == 4 {
        let l2 = k.add(&l, &l);
        k.add(&l2, &l2)
    } else {
        k.mul(&l, alpha)
    };
    let y3 = k.sub(&k.mul(&lf, &k.sub(xb, &x3)), yb);
    (x3, y3)
}
