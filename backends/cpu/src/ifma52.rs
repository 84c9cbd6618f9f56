//! Arithmetic modulo a prime `p < 2²⁵⁴` on eight lanes at once with AVX-512 IFMA, in radix
//! 2⁵², for the hot loops of the NTT ([`crate::ntt`]) and of the batch-affine MSM
//! ([`crate::msm::batch_affine`]).
//!
//! # Representation
//!
//! Elements live in memory as the fields store them (four 64-bit limbs, Montgomery form with
//! `R = 2²⁵⁶`). Eight of them are loaded with four 512-bit loads, transposed with `vpermt2q`
//! so that register `j` holds 64-bit limb `j` of all eight, and re-cut into five 52-bit limbs
//! (`2²⁶⁰ > 4p`) ([`load8`]); [`store8`] runs the same steps backwards. Values in registers
//! are kept in `[0, 2p)` with normalised limbs (limbs 0–3 below `2⁵²`).
//!
//! # Product
//!
//! `vpmadd52luq`/`vpmadd52huq` add the low/high 52 bits of a 52×52-bit product to a 64-bit
//! accumulator. [`Lanes::mul`] is the operand-scanning (CIOS) Montgomery loop over the five
//! limbs of `b` with `R' = 2²⁶⁰`, as in S. Gueron and V. Krasnov, "Accelerating big integer
//! arithmetic using Intel IFMA extensions" (ARITH 2016): per limb, `t += a·b_i`,
//! `m = t₀·(−p⁻¹) mod 2⁵²`, `t += m·p`, shift `t` down one limb. Accumulators take at most
//! four 52-bit terms per step and five steps (`< 2⁵⁷`), so they never overflow; carries are
//! resolved once at the end.
//!
//! It computes `a·b·2⁻²⁶⁰`, while the data is in `R = 2²⁵⁶` form: on the values the data
//! stands for, it is `a·b/16`. Each caller folds the 16 into a constant it already has (the
//! NTT's twiddles, the MSM's batch inversion).
//!
//! Nothing here runs unless the CPU reports `avx512f` and `avx512ifma` (checked once, in
//! [`Modulus52::new`]); `ZKACCEL_CPU_IFMA=0` turns it off (for comparisons).

use core::arch::x86_64::*;
use std::sync::OnceLock;

/// `2⁵² − 1`.
const MASK52: u64 = (1 << 52) - 1;

/// Eight elements in radix 2⁵²: register `j` holds limb `j` of every lane.
pub(crate) type V5 = [__m512i; 5];

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
pub(crate) const fn to52(x: [u64; 4]) -> [u64; 5] {
    [
        x[0] & MASK52,
        (x[0] >> 52 | x[1] << 12) & MASK52,
        (x[1] >> 40 | x[2] << 24) & MASK52,
        (x[2] >> 28 | x[3] << 36) & MASK52,
        x[3] >> 16,
    ]
}

/// The constants of the eight-lane arithmetic for one odd modulus `p < 2²⁵⁴`. It exists only
/// when the CPU can run it, which is what makes its `unsafe` entry points sound to call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Modulus52 {
    /// `p`, 64-bit limbs.
    pub(crate) p64: [u64; 4],
    /// `p`, 52-bit limbs.
    p: [u64; 5],
    /// `2p`, 52-bit limbs.
    p2: [u64; 5],
    /// `−p⁻¹ mod 2⁵²`.
    k0: u64,
}

impl Modulus52 {
    /// The arithmetic modulo `p` (little-endian limbs), or `None` unless `p` is odd and below
    /// `2²⁵⁴` and the CPU has AVX-512 IFMA (and it is not turned off).
    pub(crate) fn new(p: [u64; 4]) -> Option<Self> {
        if !enabled() || p[3] >> 62 != 0 || p[0] & 1 == 0 {
            return None;
        }
        // 2p < 2²⁵⁵: a shift, no carry out.
        let p2 = [
            p[0] << 1,
            p[1] << 1 | p[0] >> 63,
            p[2] << 1 | p[1] >> 63,
            p[3] << 1 | p[2] >> 63,
        ];
        Some(Self {
            p64: p,
            p: to52(p),
            p2: to52(p2),
            // −p⁻¹ mod 2⁵² is the low bits of −p⁻¹ mod 2⁶⁴.
            k0: zkaccel_backend::field::asm::MontConsts::new(p).inv & MASK52,
        })
    }

    /// The constants broadcast to every lane (a `Modulus52` exists only where AVX-512F
    /// does, so callers may enter this `target_feature` function).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn lanes(&self) -> Lanes {
        Lanes {
            p: splat(&self.p),
            p2: splat(&self.p2),
            k0: _mm512_set1_epi64(self.k0 as i64),
        }
    }
}

/// The constants of [`Modulus52`] broadcast to every lane, and the arithmetic on them.
#[derive(Clone, Copy)]
pub(crate) struct Lanes {
    p: V5,
    p2: V5,
    k0: __m512i,
}

/// Every lane of limb `j` set to `x[j]`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn splat(x: &[u64; 5]) -> V5 {
    x.map(|l| _mm512_set1_epi64(l as i64))
}

impl Lanes {
    /// `a·b·2⁻²⁶⁰ mod p` in `[0, 2p)`, normalised, for normalised `a, b < 2p`
    /// (`(a·b + m·p)/2²⁶⁰ < 4p²/2²⁶⁰ + p < 1.07p` as `p < 2²⁵⁴`).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn mul(&self, a: &V5, b: &V5) -> V5 {
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

    /// `a + b` in `[0, 2p)` for `a, b` in `[0, 2p)`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn add(&self, a: &V5, b: &V5) -> V5 {
        sub_if_ge(&norm(add(a, b)), &self.p2)
    }

    /// `a − b`, plus `2p` when negative, normalised.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn sub(&self, a: &V5, b: &V5) -> V5 {
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
    pub(crate) fn fin(&self, x: &V5) -> V5 {
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

/// Limb order, 64-bit limbs (values below `2²⁶⁰`) to 52-bit limbs.
#[inline]
#[target_feature(enable = "avx512f")]
fn from64([l0, l1, l2, l3]: [__m512i; 4]) -> V5 {
    let m = _mm512_set1_epi64(MASK52 as i64);
    let (and, or) = (_mm512_and_si512, _mm512_or_si512);
    [
        and(l0, m),
        and(
            or(_mm512_srli_epi64::<52>(l0), _mm512_slli_epi64::<12>(l1)),
            m,
        ),
        and(
            or(_mm512_srli_epi64::<40>(l1), _mm512_slli_epi64::<24>(l2)),
            m,
        ),
        and(
            or(_mm512_srli_epi64::<28>(l2), _mm512_slli_epi64::<36>(l3)),
            m,
        ),
        _mm512_srli_epi64::<16>(l3),
    ]
}

/// 52-bit limbs (normalised, value below `2²⁵⁶`) to limb order, 64-bit limbs.
#[inline]
#[target_feature(enable = "avx512f")]
fn to64(x: &V5) -> [__m512i; 4] {
    let or = _mm512_or_si512;
    [
        or(x[0], _mm512_slli_epi64::<52>(x[1])),
        or(_mm512_srli_epi64::<12>(x[1]), _mm512_slli_epi64::<40>(x[2])),
        or(_mm512_srli_epi64::<24>(x[2]), _mm512_slli_epi64::<28>(x[3])),
        or(_mm512_srli_epi64::<36>(x[3]), _mm512_slli_epi64::<16>(x[4])),
    ]
}

/// Loads eight consecutive elements (64-bit limbs) as five 52-bit limb registers.
///
/// # Safety
/// `p..p + 8` must be readable.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn load8(p: *const [u64; 4]) -> V5 {
    let p = p as *const __m512i;
    // SAFETY: 8 elements of 32 bytes are four 64-byte registers (caller); unaligned loads.
    let v = unsafe { core::array::from_fn(|r| _mm512_loadu_si512(p.add(r))) };
    from64(to_limbs(v))
}

/// Stores five normalised 52-bit limb registers (values below `2²⁵⁶`) as eight consecutive
/// elements.
///
/// # Safety
/// `p..p + 8` must be writable.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn store8(p: *mut [u64; 4], x: &V5) {
    let v = to_elements(to64(x));
    let p = p as *mut __m512i;
    for (r, v) in v.into_iter().enumerate() {
        // SAFETY: as in `load8`, for writing.
        unsafe { _mm512_storeu_si512(p.add(r), v) };
    }
}

/// Loads eight consecutive pairs `[x, y]` (affine points, four limbs per coordinate) as the
/// registers of the eight `x` and of the eight `y`.
///
/// # Safety
/// `p..p + 8` must be readable.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn load8_xy(p: *const [[u64; 4]; 2]) -> (V5, V5) {
    let p = p as *const __m512i;
    // SAFETY: 8 pairs of 64 bytes are eight 64-byte registers (caller); unaligned loads.
    let v: [__m512i; 8] = unsafe { core::array::from_fn(|r| _mm512_loadu_si512(p.add(r))) };
    // Register `r` holds pair `r` = [x_r, y_r]: two pairs give [x_2i, x_2i+1] and [y_2i, y_2i+1].
    let (lo, hi) = (idx(HALF_LO), idx(HALF_HI));
    let xs = core::array::from_fn(|i| _mm512_permutex2var_epi64(v[2 * i], lo, v[2 * i + 1]));
    let ys = core::array::from_fn(|i| _mm512_permutex2var_epi64(v[2 * i], hi, v[2 * i + 1]));
    (from64(to_limbs(xs)), from64(to_limbs(ys)))
}

/// Stores eight `x` and eight `y` (normalised, below `2²⁵⁶`) as eight consecutive pairs
/// `[x, y]`; the inverse of [`load8_xy`].
///
/// # Safety
/// `p..p + 8` must be writable.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn store8_xy(p: *mut [[u64; 4]; 2], x: &V5, y: &V5) {
    let xs = to_elements(to64(x));
    let ys = to_elements(to64(y));
    let (lo, hi) = (idx(HALF_LO), idx(HALF_HI));
    let p = p as *mut __m512i;
    for i in 0..4 {
        let a = _mm512_permutex2var_epi64(xs[i], lo, ys[i]);
        let b = _mm512_permutex2var_epi64(xs[i], hi, ys[i]);
        // SAFETY: as in `load8_xy`, for writing.
        unsafe {
            _mm512_storeu_si512(p.add(2 * i), a);
            _mm512_storeu_si512(p.add(2 * i + 1), b);
        }
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
        let pairs: Vec<[[u64; 4]; 2]> = src
            .iter()
            .zip(src.iter().rev())
            .map(|(a, b)| [*a, *b])
            .collect();
        let mut back = vec![[[0u64; 4]; 2]; 8];
        // SAFETY: as above.
        unsafe {
            let (x, y) = load8_xy(pairs.as_ptr());
            store8_xy(back.as_mut_ptr(), &x, &y);
            // The x registers are the x coordinates: the same as loading them contiguously.
            let mut xs = vec![[0u64; 4]; 8];
            store8(xs.as_mut_ptr(), &x);
            assert_eq!(xs, src);
        }
        assert_eq!(pairs, back);
    }
}
