//! AVX-512 IFMA butterflies for the lazily reduced 4-limb arithmetic ([`super::arith::Mont4Lazy`]):
//! eight butterflies at a time, one per 64-bit lane, in radix 2⁵².
//!
//! # Representation
//!
//! The transform's data stays in the field's storage (four 64-bit limbs, Montgomery form with
//! `R = 2²⁵⁶`, values in `[0, 2p)` between levels, as for the scalar path). A run of eight
//! elements is loaded with four 512-bit loads, transposed with `vpermt2q` so that register
//! `j` holds 64-bit limb `j` of all eight, and re-cut into five 52-bit limbs (`2²⁶⁰ > 4p`).
//! After the butterflies the same steps run backwards. Two fused levels ([`Ifma::ct4`],
//! [`Ifma::gs4`]) share one load and one store of four runs.
//!
//! # Product
//!
//! `vpmadd52luq`/`vpmadd52huq` add the low/high 52 bits of a 52×52-bit product to a 64-bit
//! accumulator. The Montgomery product is the operand-scanning (CIOS) loop over the five limbs
//! of `b` with `R' = 2²⁶⁰`, as in S. Gueron and V. Krasnov, "Accelerating big integer
//! arithmetic using Intel IFMA extensions" (ARITH 2016): per limb, `t += a·b_i`,
//! `m = t₀·(−p⁻¹) mod 2⁵²`, `t += m·p`, shift `t` down one limb. Accumulators take at most
//! four 52-bit terms per step and five steps (`< 2⁵⁷`), so they never overflow; carries are
//! resolved once at the end.
//!
//! The product computes `a·b·2⁻²⁶⁰`, the data is in `R = 2²⁵⁶` form: the twiddle is given as
//! `16·c mod p` ([`Ifma::twiddle`]), so that `mont52(x, 16c) = x·c·2⁻²⁵⁶`, the same value
//! (mod `p`) as the scalar Montgomery product with `c`.
//!
//! Bounds: for `a < 2²⁶⁰` (any normalised input) and `b < p`, the result is
//! `(a·b + m·p)/2²⁶⁰ < p·a/2²⁶⁰ + p < 2p`. Sums and differences of values in `[0, 2p)` are
//! brought back into `[0, 2p)` by one conditional subtraction or addition of `2p`, as in the
//! scalar path; the last level subtracts `p` once more.
//!
//! Nothing here is chosen unless the CPU reports `avx512f` and `avx512ifma` (checked once, in
//! [`Ifma::new`]); `ZKACCEL_CPU_IFMA=0` turns it off (for comparisons).

use core::arch::x86_64::*;
use std::sync::OnceLock;

/// `2⁵² − 1`.
const MASK52: u64 = (1 << 52) - 1;

/// Eight elements in radix 2⁵²: register `j` holds limb `j` of every lane.
type V5 = [__m512i; 5];

/// The constants of the IFMA butterflies for one modulus `p < 2²⁵⁴`.
#[derive(Clone, Copy)]
pub(super) struct Ifma {
    /// `p`, 64-bit limbs.
    p64: [u64; 4],
    /// `p`, 52-bit limbs.
    p: [u64; 5],
    /// `2p`, 52-bit limbs.
    p2: [u64; 5],
    /// `−p⁻¹ mod 2⁵²`.
    k0: u64,
}

/// True when the CPU has AVX-512F and AVX-512 IFMA and `ZKACCEL_CPU_IFMA` is not `0`; asked
/// once per process.
fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        let off = std::env::var("ZKACCEL_CPU_IFMA").is_ok_and(|v| v == "0");
        !off && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512ifma")
    })
}

/// Five 52-bit limbs of a value below `2²⁶⁰` given as four 64-bit limbs.
const fn to52(x: [u64; 4]) -> [u64; 5] {
    [
        x[0] & MASK52,
        (x[0] >> 52 | x[1] << 12) & MASK52,
        (x[1] >> 40 | x[2] << 24) & MASK52,
        (x[2] >> 28 | x[3] << 36) & MASK52,
        x[3] >> 16,
    ]
}

impl Ifma {
    /// The butterflies for the odd modulus `p < 2²⁵⁴`, or `None` when the CPU lacks IFMA (or
    /// it is turned off).
    pub(super) fn new(p: [u64; 4]) -> Option<Self> {
        if !enabled() || p[3] >> 62 != 0 || p[0] & 1 == 0 {
            return None;
        }
        // p⁻¹ mod 2⁶⁴ by Newton iteration (each step doubles the correct low bits).
        let mut inv = 1u64;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(p[0].wrapping_mul(inv)));
        }
        let (p2, _) = super::arith::add4(&p, &p);
        Some(Self {
            p64: p,
            p: to52(p),
            p2: to52(p2),
            k0: inv.wrapping_neg() & MASK52,
        })
    }

    /// `16·c mod p` for a canonical twiddle `c`, in 52-bit limbs (see the module docs).
    #[inline(always)]
    fn twiddle(&self, c: &[u64; 4]) -> [u64; 5] {
        let mut x = *c;
        for _ in 0..4 {
            let (d, _) = super::arith::add4(&x, &x);
            let (e, borrow) = super::arith::sub4(&d, &self.p64);
            x = if borrow { d } else { e };
        }
        to52(x)
    }

    /// Cooley–Tukey butterflies `(a, b) ← (a + c·b, a − c·b)` on the first multiple of 8 of
    /// `lo`/`hi` (equal lengths); `unit`: `c = 1`; `fin`: outputs canonical. Returns how many
    /// pairs it did.
    pub(super) fn ct(
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
            // SAFETY: `Ifma` exists only when the CPU has AVX-512F and IFMA (`new`); both
            // slices hold at least `n` elements.
            unsafe { self.run2::<false>(lo.as_mut_ptr(), hi.as_mut_ptr(), n, &c, unit, fin) };
        }
        n
    }

    /// Gentleman–Sande butterflies `(a, b) ← (a + b, (a − b)·c)`; otherwise as [`Self::ct`].
    pub(super) fn gs(
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
            // SAFETY: as in `ct`.
            unsafe { self.run2::<true>(lo.as_mut_ptr(), hi.as_mut_ptr(), n, &c, unit, fin) };
        }
        n
    }

    /// Two fused Cooley–Tukey levels on quarters `q` (the scalar `ct_block4`): level one
    /// with `c[0]` (`q0/q2`, `q1/q3`), level two with `c[1]` (`q0/q1`) and `c[2]`
    /// (`q2/q3`); `unit`: `c[0] = c[1] = 1`. Returns how many elements of each quarter it did.
    pub(super) fn ct4(
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
            // SAFETY: as in `ct`; the four quarters are disjoint and hold `n` elements each.
            unsafe { self.run4::<false>(ptrs, n, &c, unit, fin) };
        }
        n
    }

    /// Two fused Gentleman–Sande levels, the inverse order of [`Self::ct4`] (the scalar
    /// `gs_block4`).
    pub(super) fn gs4(
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
            // SAFETY: as in `ct4`.
            unsafe { self.run4::<true>(ptrs, n, &c, unit, fin) };
        }
        n
    }

    /// The loop of [`Self::ct`] (`GS = false`) and [`Self::gs`] (`GS = true`).
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
        let k = Consts::new(self);
        let c = splat(c);
        for i in (0..n).step_by(8) {
            // SAFETY: `i + 8 ≤ n`, within both slices (caller).
            let (a, b) = unsafe { (load8(lo.add(i)), load8(hi.add(i))) };
            let (x, y) = match (GS, unit) {
                (_, true) => k.ct1(&a, &b),
                (false, false) => k.ct(&a, &b, &c),
                (true, false) => k.gs(&a, &b, &c),
            };
            let (x, y) = if fin { (k.fin(&x), k.fin(&y)) } else { (x, y) };
            // SAFETY: as above.
            unsafe {
                store8(lo.add(i), &x);
                store8(hi.add(i), &y);
            }
        }
    }

    /// The loop of [`Self::ct4`] (`GS = false`) and [`Self::gs4`] (`GS = true`).
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn run4<const GS: bool>(
        &self,
        q: [*mut [u64; 4]; 4],
        n: usize,
        c: &[[u64; 5]; 3],
        unit: bool,
        fin: bool,
    ) {
        let k = Consts::new(self);
        let (c, c0, c1) = (splat(&c[0]), splat(&c[1]), splat(&c[2]));
        for i in (0..n).step_by(8) {
            // SAFETY: `i + 8 ≤ n`, within all four quarters (caller).
            let [a0, a1, a2, a3] = q.map(|p| unsafe { load8(p.add(i)) });
            let (y0, y1, y2, y3) = if !GS {
                let ((x0, x2), (x1, x3)) = if unit {
                    (k.ct1(&a0, &a2), k.ct1(&a1, &a3))
                } else {
                    (k.ct(&a0, &a2, &c), k.ct(&a1, &a3, &c))
                };
                let (y0, y1) = if unit {
                    k.ct1(&x0, &x1)
                } else {
                    k.ct(&x0, &x1, &c0)
                };
                let (y2, y3) = k.ct(&x2, &x3, &c1);
                (y0, y1, y2, y3)
            } else {
                let (x0, x1) = if unit {
                    k.ct1(&a0, &a1)
                } else {
                    k.gs(&a0, &a1, &c0)
                };
                let (x2, x3) = k.gs(&a2, &a3, &c1);
                let ((y0, y2), (y1, y3)) = if unit {
                    (k.ct1(&x0, &x2), k.ct1(&x1, &x3))
                } else {
                    (k.gs(&x0, &x2, &c), k.gs(&x1, &x3, &c))
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

/// The constants broadcast to every lane.
#[derive(Clone, Copy)]
struct Consts {
    p: V5,
    p2: V5,
    k0: __m512i,
}

/// Every lane of limb `j` set to `x[j]`.
#[inline]
#[target_feature(enable = "avx512f")]
fn splat(x: &[u64; 5]) -> V5 {
    x.map(|l| _mm512_set1_epi64(l as i64))
}

impl Consts {
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn new(f: &Ifma) -> Self {
        Self {
            p: splat(&f.p),
            p2: splat(&f.p2),
            k0: _mm512_set1_epi64(f.k0 as i64),
        }
    }

    /// `a·b·2⁻²⁶⁰ mod p` in `[0, 2p)`, normalised, for normalised `a` and `b < p`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn mul(&self, a: &V5, b: &V5) -> V5 {
        let z = _mm512_setzero_si512();
        let mut t = [z; 6];
        for &bi in b {
            for j in 0..5 {
                t[j] = _mm512_madd52lo_epu64(t[j], a[j], bi);
                t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], a[j], bi);
            }
            let m = _mm512_madd52lo_epu64(z, t[0], self.k0);
            for j in 0..5 {
                t[j] = _mm512_madd52lo_epu64(t[j], m, self.p[j]);
                t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], m, self.p[j]);
            }
            // t₀ ≡ 0 (mod 2⁵²): carry its top bits into t₁ and shift down one limb.
            let carry = _mm512_srli_epi64::<52>(t[0]);
            t = [_mm512_add_epi64(t[1], carry), t[2], t[3], t[4], t[5], z];
        }
        norm([t[0], t[1], t[2], t[3], t[4]])
    }

    /// `(a + c·b, a − c·b)` in `[0, 2p)` for `a, b` in `[0, 2p)` and the prepared twiddle `c`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn ct(&self, a: &V5, b: &V5, c: &V5) -> (V5, V5) {
        let t = self.mul(b, c);
        self.ct1(a, &t)
    }

    /// `(a + b, a − b)` in `[0, 2p)`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn ct1(&self, a: &V5, b: &V5) -> (V5, V5) {
        let s = norm(add(a, b));
        (sub_if_ge(&s, &self.p2), self.sub(a, b))
    }

    /// `(a + b, (a − b)·c)` in `[0, 2p)`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn gs(&self, a: &V5, b: &V5, c: &V5) -> (V5, V5) {
        let s = norm(add(a, b));
        let d = self.sub(a, b);
        (sub_if_ge(&s, &self.p2), self.mul(&d, c))
    }

    /// `a − b`, plus `2p` when negative, normalised.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn sub(&self, a: &V5, b: &V5) -> V5 {
        let d = norm_signed(sub(a, b));
        let neg = _mm512_cmplt_epi64_mask(d[4], _mm512_setzero_si512());
        let mut e = d;
        for j in 0..5 {
            e[j] = _mm512_mask_add_epi64(d[j], neg, d[j], self.p2[j]);
        }
        norm(e)
    }

    /// The canonical value of `x < 2p`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn fin(&self, x: &V5) -> V5 {
        sub_if_ge(x, &self.p)
    }
}

/// Limbwise `a + b` (limbs up to `2⁵³`, not normalised).
#[inline]
#[target_feature(enable = "avx512f")]
fn add(a: &V5, b: &V5) -> V5 {
    core::array::from_fn(|j| _mm512_add_epi64(a[j], b[j]))
}

/// Limbwise `a − b` (signed limbs, not normalised).
#[inline]
#[target_feature(enable = "avx512f")]
fn sub(a: &V5, b: &V5) -> V5 {
    core::array::from_fn(|j| _mm512_sub_epi64(a[j], b[j]))
}

/// Carries of non-negative limbs: limbs 0..4 below `2⁵²`, the top limb takes the rest.
#[inline]
#[target_feature(enable = "avx512f")]
fn norm(mut t: V5) -> V5 {
    let m = _mm512_set1_epi64(MASK52 as i64);
    for j in 0..4 {
        let c = _mm512_srli_epi64::<52>(t[j]);
        t[j] = _mm512_and_si512(t[j], m);
        t[j + 1] = _mm512_add_epi64(t[j + 1], c);
    }
    t
}

/// Carries of signed limbs (arithmetic shifts): limbs 0..4 in `[0, 2⁵²)`, the top limb
/// signed, negative exactly when the value is.
#[inline]
#[target_feature(enable = "avx512f")]
fn norm_signed(mut t: V5) -> V5 {
    let m = _mm512_set1_epi64(MASK52 as i64);
    for j in 0..4 {
        let c = _mm512_srai_epi64::<52>(t[j]);
        t[j] = _mm512_and_si512(t[j], m);
        t[j + 1] = _mm512_add_epi64(t[j + 1], c);
    }
    t
}

/// `x − m` when `x ≥ m`, else `x`, for normalised `x` and `m`.
#[inline]
#[target_feature(enable = "avx512f")]
fn sub_if_ge(x: &V5, m: &V5) -> V5 {
    let d = norm_signed(sub(x, m));
    let neg = _mm512_cmplt_epi64_mask(d[4], _mm512_setzero_si512());
    core::array::from_fn(|j| _mm512_mask_blend_epi64(neg, d[j], x[j]))
}

/// `vpermt2q` indices of [`to_limbs`] and [`to_elements`].
const PAIR_A: [i64; 8] = [0, 4, 8, 12, 1, 5, 9, 13];
const PAIR_B: [i64; 8] = [2, 6, 10, 14, 3, 7, 11, 15];
const HALF_LO: [i64; 8] = [0, 1, 2, 3, 8, 9, 10, 11];
const HALF_HI: [i64; 8] = [4, 5, 6, 7, 12, 13, 14, 15];

/// The index vector `i` (lane `l` takes `i[l]`).
#[inline]
#[target_feature(enable = "avx512f")]
fn idx(i: [i64; 8]) -> __m512i {
    _mm512_set_epi64(i[7], i[6], i[5], i[4], i[3], i[2], i[1], i[0])
}

/// Element order (register `r` holds elements `2r` and `2r + 1`, four limbs each) to limb
/// order (register `j` holds limb `j` of all eight elements). Inverse: [`to_elements`].
#[inline]
#[target_feature(enable = "avx512f")]
fn to_limbs(v: [__m512i; 4]) -> [__m512i; 4] {
    let (pa, pb, hl, hh) = (idx(PAIR_A), idx(PAIR_B), idx(HALF_LO), idx(HALF_HI));
    // Limbs 0/1 (`pa`) and 2/3 (`pb`) of elements 0..4 and of 4..8, then the halves joined.
    let a = _mm512_permutex2var_epi64(v[0], pa, v[1]);
    let b = _mm512_permutex2var_epi64(v[0], pb, v[1]);
    let c = _mm512_permutex2var_epi64(v[2], pa, v[3]);
    let d = _mm512_permutex2var_epi64(v[2], pb, v[3]);
    [
        _mm512_permutex2var_epi64(a, hl, c),
        _mm512_permutex2var_epi64(a, hh, c),
        _mm512_permutex2var_epi64(b, hl, d),
        _mm512_permutex2var_epi64(b, hh, d),
    ]
}

/// The inverse of [`to_limbs`]: the same two steps in the opposite order.
#[inline]
#[target_feature(enable = "avx512f")]
fn to_elements(l: [__m512i; 4]) -> [__m512i; 4] {
    let (pa, pb, hl, hh) = (idx(PAIR_A), idx(PAIR_B), idx(HALF_LO), idx(HALF_HI));
    let a = _mm512_permutex2var_epi64(l[0], hl, l[1]);
    let c = _mm512_permutex2var_epi64(l[0], hh, l[1]);
    let b = _mm512_permutex2var_epi64(l[2], hl, l[3]);
    let d = _mm512_permutex2var_epi64(l[2], hh, l[3]);
    [
        _mm512_permutex2var_epi64(a, pa, b),
        _mm512_permutex2var_epi64(a, pb, b),
        _mm512_permutex2var_epi64(c, pa, d),
        _mm512_permutex2var_epi64(c, pb, d),
    ]
}

/// Loads eight consecutive elements (64-bit limbs) as five 52-bit limb registers.
///
/// # Safety
/// `p..p + 8` must be readable.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn load8(p: *const [u64; 4]) -> V5 {
    let p = p as *const __m512i;
    // SAFETY: 8 elements of 32 bytes are four 64-byte registers (caller); unaligned loads.
    let v = unsafe { core::array::from_fn(|r| _mm512_loadu_si512(p.add(r))) };
    let [l0, l1, l2, l3] = to_limbs(v);
    let m = _mm512_set1_epi64(MASK52 as i64);
    let or = _mm512_or_si512;
    [
        _mm512_and_si512(l0, m),
        _mm512_and_si512(
            or(_mm512_srli_epi64::<52>(l0), _mm512_slli_epi64::<12>(l1)),
            m,
        ),
        _mm512_and_si512(
            or(_mm512_srli_epi64::<40>(l1), _mm512_slli_epi64::<24>(l2)),
            m,
        ),
        _mm512_and_si512(
            or(_mm512_srli_epi64::<28>(l2), _mm512_slli_epi64::<36>(l3)),
            m,
        ),
        _mm512_srli_epi64::<16>(l3),
    ]
}

/// Stores five normalised 52-bit limb registers (values below `2²⁵⁶`) as eight consecutive
/// elements.
///
/// # Safety
/// `p..p + 8` must be writable.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn store8(p: *mut [u64; 4], x: &V5) {
    let or = _mm512_or_si512;
    let l = [
        or(x[0], _mm512_slli_epi64::<52>(x[1])),
        or(_mm512_srli_epi64::<12>(x[1]), _mm512_slli_epi64::<40>(x[2])),
        or(_mm512_srli_epi64::<24>(x[2]), _mm512_slli_epi64::<28>(x[3])),
        or(_mm512_srli_epi64::<36>(x[3]), _mm512_slli_epi64::<16>(x[4])),
    ];
    let v = to_elements(l);
    let p = p as *mut __m512i;
    for (r, v) in v.into_iter().enumerate() {
        // SAFETY: as in `load8`, for writing.
        unsafe { _mm512_storeu_si512(p.add(r), v) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The transpose and the radix change are exact inverses, on random words below `2²⁵⁶`.
    #[test]
    fn load_store_round_trip() {
        if !enabled() {
            println!("no AVX-512 IFMA on this CPU: nothing to check here");
            return;
        }
        let mut s = 0x1234_5678_9abc_def0u64;
        let mut word = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let src: Vec<[u64; 4]> = (0..8).map(|_| [word(), word(), word(), word()]).collect();
        let mut dst = vec![[0u64; 4]; 8];
        // SAFETY: IFMA and AVX-512F are present (`enabled`); both buffers hold 8 elements.
        unsafe {
            let v = load8(src.as_ptr());
            store8(dst.as_mut_ptr(), &v);
        }
        assert_eq!(src, dst);
    }
}
