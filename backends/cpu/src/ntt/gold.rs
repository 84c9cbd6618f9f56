//! Goldilocks (`p = 2⁶⁴ − 2³² + 1`) butterflies on eight AVX-512F lanes ([`Gold`]).
//!
//! Values stay canonical (`[0, p)`), as in the field's own arithmetic, so this is a drop-in
//! for [`super::arith::Plain`]: the scalar butterflies are the field's, and every run of at
//! least eight butterflies with one twiddle goes through the lanes, one 512-bit load per
//! eight elements.
//!
//! # Arithmetic (per lane)
//!
//! - Sum: `s = a + b mod 2⁶⁴`; on a carry out add `ε = 2³² − 1` (`2⁶⁴ ≡ ε`, and
//!   `s + ε < p` then); subtract `p` when `s ≥ p`. Unsigned compares give the masks
//!   (`vpcmpuq`), and the corrections are masked adds/subtractions.
//! - Difference: `d = a − b mod 2⁶⁴`, plus `p` on a borrow.
//! - Product: the 128-bit `a·b` from four `vpmuludq` (32×32→64-bit) partial products, then
//!   the reduction of Plonky2's Goldilocks field (described in the appendix of the Plonky2
//!   paper): with `a·b = lo + 2⁶⁴·(h₀ + 2³²·h₁)`, `2⁹⁶ ≡ −1` and `2⁶⁴ ≡ ε` give
//!   `lo − h₁ + ε·h₀`, one borrow fix-up, one carry fix-up and a final conditional
//!   subtraction. This is the scalar `Goldilocks::mul` step for step; the tests check that
//!   the lanes and the scalar butterflies agree word for word.
//!
//! Only used when the CPU reports `avx512f` (checked once) and `ZKACCEL_CPU_AVX512` is not
//! `0`.

use super::arith::{Arith, Plain};
use core::arch::x86_64::*;
use zkaccel_backend::Goldilocks;

/// `p`.
const P: u64 = Goldilocks::P;
/// `2⁶⁴ mod p = 2³² − 1`.
const EPS: u64 = 0xffff_ffff;

/// The Goldilocks butterflies with the eight-lane runs. It exists only when the CPU has
/// AVX-512F, which is what makes its `unsafe` entry points sound to call.
#[derive(Clone, Copy)]
pub(super) struct Gold {
    _cpu: (),
}

impl Gold {
    /// The butterflies, or `None` when the CPU lacks AVX-512F (or it is turned off).
    pub(super) fn new() -> Option<Self> {
        crate::avx512_enabled().then_some(Self { _cpu: () })
    }
}

impl Arith for Gold {
    type E = Goldilocks;
    const LAZY: bool = false;
    #[inline(always)]
    fn ct(self, a: Goldilocks, b: Goldilocks, c: Goldilocks) -> (Goldilocks, Goldilocks) {
        Plain::<Goldilocks>::new().ct(a, b, c)
    }
    #[inline(always)]
    fn ct1(self, a: Goldilocks, b: Goldilocks) -> (Goldilocks, Goldilocks) {
        Plain::<Goldilocks>::new().ct1(a, b)
    }
    #[inline(always)]
    fn gs(self, a: Goldilocks, b: Goldilocks, c: Goldilocks) -> (Goldilocks, Goldilocks) {
        Plain::<Goldilocks>::new().gs(a, b, c)
    }
    #[inline(always)]
    fn fin(self, x: Goldilocks) -> Goldilocks {
        x
    }
    #[inline(always)]
    fn wide2(
        self,
        gs: bool,
        lo: &mut [Goldilocks],
        hi: &mut [Goldilocks],
        c: Goldilocks,
        unit: bool,
        _fin: bool,
    ) -> usize {
        let n = lo.len().min(hi.len()) & !7;
        if n > 0 {
            let (lo, hi, c) = (lo.as_mut_ptr().cast(), hi.as_mut_ptr().cast(), c.value());
            // SAFETY: a `Gold` exists only when the CPU has AVX-512F; both slices hold at
            // least `n` elements, and `Goldilocks` is a transparent `u64`.
            unsafe {
                match (gs, unit) {
                    (_, true) => run2::<false, true>(lo, hi, n, c),
                    (false, false) => run2::<false, false>(lo, hi, n, c),
                    (true, false) => run2::<true, false>(lo, hi, n, c),
                }
            }
        }
        n
    }
    #[inline(always)]
    fn wide4(
        self,
        gs: bool,
        q: [&mut [Goldilocks]; 4],
        c: [Goldilocks; 3],
        unit: bool,
        _fin: bool,
    ) -> usize {
        let n = q.iter().map(|s| s.len()).min().unwrap_or(0) & !7;
        if n > 0 {
            let (q, c) = (q.map(|s| s.as_mut_ptr().cast()), c.map(Goldilocks::value));
            // SAFETY: as in `wide2`; the four quarters are disjoint and hold `n` elements each.
            unsafe {
                match (gs, unit) {
                    (false, false) => run4::<false, false>(q, n, c),
                    (false, true) => run4::<false, true>(q, n, c),
                    (true, false) => run4::<true, false>(q, n, c),
                    (true, true) => run4::<true, true>(q, n, c),
                }
            }
        }
        n
    }
}

/// The loop of [`Gold`]'s `wide2`: Cooley–Tukey `(a, b) ← (a + c·b, a − c·b)`, or Gentleman–Sande
/// `(a, b) ← (a + b, (a − b)·c)` when `GS`, on `n` (a multiple of 8) pairs; `UNIT`: `c = 1`.
#[target_feature(enable = "avx512f")]
unsafe fn run2<const GS: bool, const UNIT: bool>(lo: *mut u64, hi: *mut u64, n: usize, c: u64) {
    let c = Tw::new(c);
    for i in (0..n).step_by(8) {
        // SAFETY: `i + 8 ≤ n`, within both slices (caller).
        unsafe {
            let (a, b) = (load(lo.add(i)), load(hi.add(i)));
            let (x, y) = bf::<GS, UNIT>(a, b, &c);
            store(lo.add(i), x);
            store(hi.add(i), y);
        }
    }
}

/// The loop of [`Gold`]'s `wide4`: Cooley–Tukey level one with `c[0]` (`q0/q2`, `q1/q3`) then
/// level two with `c[1]` (`q0/q1`) and `c[2]` (`q2/q3`); Gentleman–Sande when `GS`, the same
/// levels in the opposite order (as `kernels::ct_block4`/`gs_block4`); `UNIT`:
/// `c[0] = c[1] = 1`.
#[target_feature(enable = "avx512f")]
unsafe fn run4<const GS: bool, const UNIT: bool>(q: [*mut u64; 4], n: usize, c: [u64; 3]) {
    let [c, c0, c1] = [Tw::new(c[0]), Tw::new(c[1]), Tw::new(c[2])];
    for i in (0..n).step_by(8) {
        // SAFETY: `i + 8 ≤ n`, within all four quarters (caller).
        let [a0, a1, a2, a3] = q.map(|p| unsafe { load(p.add(i)) });
        let y = if !GS {
            let ((x0, x2), (x1, x3)) = (bf::<GS, UNIT>(a0, a2, &c), bf::<GS, UNIT>(a1, a3, &c));
            let ((y0, y1), (y2, y3)) = (bf::<GS, UNIT>(x0, x1, &c0), ct(x2, x3, &c1));
            [y0, y1, y2, y3]
        } else {
            let ((x0, x1), (x2, x3)) = (bf::<GS, UNIT>(a0, a1, &c0), gs(a2, a3, &c1));
            let ((y0, y2), (y1, y3)) = (bf::<GS, UNIT>(x0, x2, &c), bf::<GS, UNIT>(x1, x3, &c));
            [y0, y1, y2, y3]
        };
        for (p, y) in q.into_iter().zip(y) {
            // SAFETY: as above.
            unsafe { store(p.add(i), y) };
        }
    }
}

/// A twiddle broadcast to every lane, with its high half shifted down for the products.
#[derive(Clone, Copy)]
struct Tw {
    /// `c` in every lane.
    c: __m512i,
    /// `c >> 32` in every lane.
    hi: __m512i,
}

impl Tw {
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn new(c: u64) -> Self {
        Self {
            c: _mm512_set1_epi64(c as i64),
            hi: _mm512_set1_epi64((c >> 32) as i64),
        }
    }
}

/// Eight elements from `p` (unaligned).
///
/// # Safety
/// `p` must be valid for reading eight `u64`s, and the CPU must have AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn load(p: *const u64) -> __m512i {
    // SAFETY: the caller's contract.
    unsafe { _mm512_loadu_si512(p.cast()) }
}

/// Eight elements to `p` (unaligned).
///
/// # Safety
/// `p` must be valid for writing eight `u64`s, and the CPU must have AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn store(p: *mut u64, x: __m512i) {
    // SAFETY: the caller's contract.
    unsafe { _mm512_storeu_si512(p.cast(), x) }
}

/// [`gs`] when `GS`, else [`ct`]; plain sums and differences when `UNIT` (`c = 1`).
#[inline]
#[target_feature(enable = "avx512f")]
fn bf<const GS: bool, const UNIT: bool>(a: __m512i, b: __m512i, c: &Tw) -> (__m512i, __m512i) {
    match (GS, UNIT) {
        (_, true) => (add(a, b), sub(a, b)),
        (false, false) => ct(a, b, c),
        (true, false) => gs(a, b, c),
    }
}

/// `(a + c·b, a − c·b)`.
#[inline]
#[target_feature(enable = "avx512f")]
fn ct(a: __m512i, b: __m512i, c: &Tw) -> (__m512i, __m512i) {
    let t = mul(b, c);
    (add(a, t), sub(a, t))
}

/// `(a + b, (a − b)·c)`.
#[inline]
#[target_feature(enable = "avx512f")]
fn gs(a: __m512i, b: __m512i, c: &Tw) -> (__m512i, __m512i) {
    (add(a, b), mul(sub(a, b), c))
}

/// `a + b mod p` for canonical `a`, `b`.
#[inline]
#[target_feature(enable = "avx512f")]
fn add(a: __m512i, b: __m512i) -> __m512i {
    let s = _mm512_add_epi64(a, b);
    // Carry out of 2⁶⁴: s < a. Then s + ε < p, and no further subtraction is needed.
    let carry = _mm512_cmplt_epu64_mask(s, a);
    let s = _mm512_mask_add_epi64(s, carry, s, _mm512_set1_epi64(EPS as i64));
    canon(s)
}

/// `a − b mod p` for canonical `a`, `b`.
#[inline]
#[target_feature(enable = "avx512f")]
fn sub(a: __m512i, b: __m512i) -> __m512i {
    let d = _mm512_sub_epi64(a, b);
    let borrow = _mm512_cmplt_epu64_mask(a, b);
    _mm512_mask_add_epi64(d, borrow, d, _mm512_set1_epi64(P as i64))
}

/// `x − p` where `x ≥ p`, else `x`.
#[inline]
#[target_feature(enable = "avx512f")]
fn canon(x: __m512i) -> __m512i {
    let p = _mm512_set1_epi64(P as i64);
    let ge = _mm512_cmpge_epu64_mask(x, p);
    _mm512_mask_sub_epi64(x, ge, x, p)
}

/// `a·c mod p` for canonical `a` and twiddle `c` (any `u64` works for either operand; the
/// result is canonical).
#[inline]
#[target_feature(enable = "avx512f")]
fn mul(a: __m512i, c: &Tw) -> __m512i {
    let lo32 = _mm512_set1_epi64(EPS as i64);
    // 128-bit product from 32×32-bit pieces (vpmuludq reads the low half of each lane).
    let a_hi = _mm512_srli_epi64::<32>(a);
    let ll = _mm512_mul_epu32(a, c.c);
    let lh = _mm512_mul_epu32(a, c.hi);
    let hl = _mm512_mul_epu32(a_hi, c.c);
    let hh = _mm512_mul_epu32(a_hi, c.hi);
    // t, u < 2⁶⁴: (2³² − 1)² + 2 (2³² − 1) = 2⁶⁴ − 1.
    let t = _mm512_add_epi64(lh, _mm512_srli_epi64::<32>(ll));
    let u = _mm512_add_epi64(hl, _mm512_and_si512(t, lo32));
    // lo = (u mod 2³²)·2³² + (ll mod 2³²); hi = hh + ⌊t/2³²⌋ + ⌊u/2³²⌋ (< 2⁶⁴: the product is).
    let lo = _mm512_mask_blend_epi32(0x5555, _mm512_slli_epi64::<32>(u), ll);
    let hi = _mm512_add_epi64(
        hh,
        _mm512_add_epi64(_mm512_srli_epi64::<32>(t), _mm512_srli_epi64::<32>(u)),
    );
    reduce(lo, hi)
}

/// `lo + 2⁶⁴·hi mod p`, canonical (the scalar `Goldilocks::reduce128`).
#[inline]
#[target_feature(enable = "avx512f")]
fn reduce(lo: __m512i, hi: __m512i) -> __m512i {
    let eps = _mm512_set1_epi64(EPS as i64);
    let hi_hi = _mm512_srli_epi64::<32>(hi);
    let hi_lo = _mm512_and_si512(hi, eps);
    // lo − h₁, and on a borrow −ε (adding 2⁶⁴ − ε = p back; no wrap, see the scalar code).
    let t0 = _mm512_sub_epi64(lo, hi_hi);
    let borrow = _mm512_cmplt_epu64_mask(lo, hi_hi);
    let t0 = _mm512_mask_sub_epi64(t0, borrow, t0, eps);
    // ε·h₀ = h₀·2³² − h₀ < 2⁶⁴.
    let t1 = _mm512_sub_epi64(_mm512_slli_epi64::<32>(hi_lo), hi_lo);
    let r = _mm512_add_epi64(t0, t1);
    let carry = _mm512_cmplt_epu64_mask(r, t1);
    let r = _mm512_mask_add_epi64(r, carry, r, eps);
    canon(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkaccel_backend::Field;

    /// Lane arithmetic against the scalar field on edge values and random words.
    #[test]
    fn lanes_match_scalar() {
        if Gold::new().is_none() {
            println!("no AVX-512F here: nothing to compare");
            return;
        }
        let mut vals: Vec<u64> = vec![0, 1, 2, EPS, EPS + 1, 1 << 32, P - 1, P - 2, P >> 1];
        vals.extend((1..32).map(|i| (1u64 << 63).wrapping_sub(i * 0x1234_5678_9abc)));
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        vals.extend((0..200).map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % P
        }));
        let g = Goldilocks::new;
        for (k, &c) in vals.iter().enumerate() {
            // Eight operands: a rotation of the list so every value meets every lane.
            let a: Vec<u64> = (0..8).map(|j| vals[(k + j * 7) % vals.len()]).collect();
            let b: Vec<u64> = (0..8).map(|j| vals[(k * 3 + j) % vals.len()]).collect();
            // SAFETY: AVX-512F is present (checked above); the vectors hold eight words.
            let (sum, dif, prod) = unsafe {
                let (va, vb) = (load(a.as_ptr()), load(b.as_ptr()));
                let (mut sum, mut dif, mut prod) = ([0u64; 8], [0u64; 8], [0u64; 8]);
                store(sum.as_mut_ptr(), add(va, vb));
                store(dif.as_mut_ptr(), sub(va, vb));
                store(prod.as_mut_ptr(), mul(va, &Tw::new(c)));
                (sum, dif, prod)
            };
            for j in 0..8 {
                assert_eq!(sum[j], (g(a[j]) + g(b[j])).value(), "{} + {}", a[j], b[j]);
                assert_eq!(dif[j], (g(a[j]) - g(b[j])).value(), "{} - {}", a[j], b[j]);
                assert_eq!(prod[j], (g(a[j]) * g(c)).value(), "{} * {c}", a[j]);
                assert!(prod[j] < P && sum[j] < P && dif[j] < P);
            }
        }
        // The product of the two largest values, and squares, through the lanes.
        let x = Goldilocks::new(P - 1);
        let v = [P - 1; 8];
        // SAFETY: as above.
        let got = unsafe {
            let mut out = [0u64; 8];
            store(out.as_mut_ptr(), mul(load(v.as_ptr()), &Tw::new(P - 1)));
            out
        };
        assert_eq!(got, [(x * x).value(); 8]);
        assert_eq!(x * x, Goldilocks::ONE);
    }
}
