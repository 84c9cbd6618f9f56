//! Arithmetic modulo a prime on eight lanes at once with AVX-512 IFMA, in radix 2⁵², for the
//! hot loops of the NTT ([`crate::ntt`]) and of the batch-affine MSM
//! ([`crate::msm::batch_affine`]).
//!
//! Two shapes are used ([`Modulus52`]'s `L` and `N`): moduli below `2²⁵⁴` stored in four
//! 64-bit limbs, computed in five 52-bit limbs (BN254 and BLS12-377 scalars, the BN254 base
//! field), and moduli below `2³⁸²` stored in six 64-bit limbs, computed in eight 52-bit limbs
//! (the BLS12-381 and BLS12-377 base fields).
//!
//! # Representation
//!
//! Elements live in memory as the fields store them (`L` 64-bit limbs, Montgomery form with
//! `R = 2^(64L)`). Eight of them are loaded so that register `j` holds 64-bit limb `j` of all
//! eight, and re-cut into `N` 52-bit limbs (`2^(52N) ≥ 2^(64L) > 4p`) ([`load8`]); [`store8`]
//! runs the same steps backwards. With four limbs the transposition is four 512-bit loads
//! and eight `vpermt2q`; with six it is six gathers (and scatters to store). Values in
//! registers are kept in `[0, 2p)` with normalised limbs (limbs `0..N−1` below `2⁵²`).
//!
//! # Product
//!
//! `vpmadd52luq`/`vpmadd52huq` add the low/high 52 bits of a 52×52-bit product to a 64-bit
//! accumulator. [`Lanes::mul`] is the operand-scanning (CIOS) Montgomery loop over the `N`
//! limbs of `b` with `R' = 2^(52N)`, as in S. Gueron and V. Krasnov, "Accelerating big
//! integer arithmetic using Intel IFMA extensions" (ARITH 2016): per limb, `t += a·b_i`,
//! `m = t₀·(−p⁻¹) mod 2⁵²`, `t += m·p`, shift `t` down one limb. Accumulators take at most
//! four 52-bit terms per step and `N ≤ 8` steps (`≤ 2⁵⁷`), so they never overflow; carries
//! are resolved once at the end.
//!
//! It computes `a·b·2^(−52N)`, while the data is in `R = 2^(64L)` form: on the values the
//! data stands for, it is `a·b/f` with `f = 2^(52N − 64L)` ([`Modulus52::F_LOG2`]: 16 for
//! four limbs, `2³²` for six). Each caller folds `f` into a constant it already has (the
//! NTT's twiddles, the MSM's batch inversion).
//!
//! Nothing here runs unless the CPU reports `avx512f` and `avx512ifma` (checked once, in
//! [`Modulus52::new`]); `ZKACCEL_CPU_IFMA=0` or `ZKACCEL_CPU_AVX512=0` turns it off (for
//! comparisons).

use core::arch::x86_64::*;
use std::sync::OnceLock;

/// `2⁵² − 1`.
const MASK52: u64 = (1 << 52) - 1;

/// Eight elements in radix 2⁵² (`N` limbs): register `j` holds limb `j` of every lane.
pub(crate) type V<const N: usize> = [__m512i; N];

/// [`V`] for moduli below `2²⁵⁴` (five limbs).
pub(crate) type V5 = V<5>;

/// True when AVX-512F is on ([`crate::avx512_enabled`]), the CPU has AVX-512 IFMA and
/// `ZKACCEL_CPU_IFMA` is not `0`; asked once per process.
fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        let off = std::env::var("ZKACCEL_CPU_IFMA").is_ok_and(|v| v == "0");
        !off && crate::avx512_enabled() && std::arch::is_x86_feature_detected!("avx512ifma")
    })
}

/// The `N` 52-bit limbs of the value with 64-bit limbs `x` (`52N ≥ 64L`).
pub(crate) fn to52<const L: usize, const N: usize>(x: [u64; L]) -> [u64; N] {
    core::array::from_fn(|k| {
        let (w, o) = (52 * k / 64, 52 * k % 64);
        let lo = x.get(w).map_or(0, |&v| v >> o);
        let hi = match x.get(w + 1) {
            Some(&v) if o > 12 => v << (64 - o),
            _ => 0,
        };
        (lo | hi) & MASK52
    })
}

/// The constants of the eight-lane arithmetic for one odd modulus `p < 2^(64L − 2)` stored in
/// `L` 64-bit limbs and computed in `N` 52-bit limbs. It exists only when the CPU can run it,
/// which is what makes its `unsafe` entry points sound to call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Modulus52<const L: usize, const N: usize> {
    /// `p`, 64-bit limbs.
    pub(crate) p64: [u64; L],
    /// `p`, 52-bit limbs.
    p: [u64; N],
    /// `2p`, 52-bit limbs.
    p2: [u64; N],
    /// `−p⁻¹ mod 2⁵²`.
    k0: u64,
}

impl<const L: usize, const N: usize> Modulus52<L, N> {
    /// `log₂ f`: the product gives `a·b/f` on the values (`R = 2^(64L)`) the data stands for.
    pub(crate) const F_LOG2: u32 = (52 * N - 64 * L) as u32;

    /// The arithmetic modulo `p` (little-endian limbs), or `None` unless `p` is odd and below
    /// `2^(64L − 2)`, the shape is one of the two supported (`(L, N)` = `(4, 5)` or `(6, 8)`)
    /// and the CPU has AVX-512 IFMA (and it is not turned off).
    pub(crate) fn new(p: [u64; L]) -> Option<Self> {
        let shape = matches!((L, N), (4, 5) | (6, 8));
        if !shape || !enabled() || p[L - 1] >> 62 != 0 || p[0] & 1 == 0 {
            return None;
        }
        // 2p < 2^(64L − 1): a shift, no carry out.
        let p2: [u64; L] =
            core::array::from_fn(|i| p[i] << 1 | if i > 0 { p[i - 1] >> 63 } else { 0 });
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
    pub(crate) fn lanes(&self) -> Lanes<N> {
        Lanes {
            p: splat(&self.p),
            p2: splat(&self.p2),
            k0: _mm512_set1_epi64(self.k0 as i64),
        }
    }
}

/// The constants of [`Modulus52`] broadcast to every lane, and the arithmetic on them.
#[derive(Clone, Copy)]
pub(crate) struct Lanes<const N: usize> {
    p: V<N>,
    p2: V<N>,
    k0: __m512i,
}

/// Every lane of limb `j` set to `x[j]`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) fn splat<const N: usize>(x: &[u64; N]) -> V<N> {
    x.map(|l| _mm512_set1_epi64(l as i64))
}

impl<const N: usize> Lanes<N> {
    /// `a·b·2^(−52N) mod p` in `[0, 2p)`, normalised, for normalised `a, b < 2p`
    /// (`(a·b + m·p)/2^(52N) < 4p²/2^(52N) + p < 2p` as `4p < 2^(52N)`).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub(crate) fn mul(&self, a: &V<N>, b: &V<N>) -> V<N> {
        let (a, b, p) = (*a, *b, self.p);
        // The two shapes `Modulus52::new` admits.
        match N {
            5 => cast(mul5(&cast(a), &cast(b), &cast(p), self.k0)),
            _ => cast(mul8(&cast(a), &cast(b), &cast(p), self.k0)),
        }
    }

    /// `a + b` in `[0, 2p)` for `a, b` in `[0, 2p)`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn add(&self, a: &V<N>, b: &V<N>) -> V<N> {
        sub_if_ge(&norm(add(a, b)), &self.p2)
    }

    /// `a − b`, plus `2p` when negative, normalised.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn sub(&self, a: &V<N>, b: &V<N>) -> V<N> {
        let d = norm_signed(sub(a, b));
        let neg = _mm512_cmplt_epi64_mask(d[N - 1], _mm512_setzero_si512());
        let mut e = d;
        for j in 0..N {
            e[j] = _mm512_mask_add_epi64(d[j], neg, d[j], self.p2[j]);
        }
        norm(e)
    }

    /// The canonical value of `x < 2p`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn fin(&self, x: &V<N>) -> V<N> {
        sub_if_ge(x, &self.p)
    }
}

/// [`Lanes::mul`] for one limb count `$n`, with the one-limb shift of the running value
/// written as an array literal (indices `2..=$n`): a loop doing the shift, generic over the
/// limb count, compiled to code 35–45% slower in the BN254 MSM and NTT.
macro_rules! mont_mul {
    ($name:ident, $n:literal, [$($k:literal),*], [$($j:literal),*]) => {
        #[inline]
        #[target_feature(enable = "avx512f,avx512ifma")]
        fn $name(a: &V<$n>, b: &V<$n>, p: &V<$n>, k0: __m512i) -> V<$n> {
            let z = _mm512_setzero_si512();
            let mut t = [z; $n + 1];
            for &bi in b {
                for j in 0..$n {
                    t[j] = _mm512_madd52lo_epu64(t[j], a[j], bi);
                    t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], a[j], bi);
                }
                let m = _mm512_madd52lo_epu64(z, t[0], k0);
                for j in 0..$n {
                    t[j] = _mm512_madd52lo_epu64(t[j], m, p[j]);
                    t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], m, p[j]);
                }
                // t₀ ≡ 0 (mod 2⁵²): carry its top bits into t₁ and shift down one limb.
                let carry = _mm512_srli_epi64::<52>(t[0]);
                t = [_mm512_add_epi64(t[1], carry), $(t[$k]),*, z];
            }
            norm([$(t[$j]),*])
        }
    };
}
mont_mul!(mul5, 5, [2, 3, 4, 5], [0, 1, 2, 3, 4]);
mont_mul!(mul8, 8, [2, 3, 4, 5, 6, 7, 8], [0, 1, 2, 3, 4, 5, 6, 7]);

/// Limbwise `a + b` (limbs up to `2⁵³`, not normalised).
#[inline]
#[target_feature(enable = "avx512f")]
fn add<const N: usize>(a: &V<N>, b: &V<N>) -> V<N> {
    core::array::from_fn(|j| _mm512_add_epi64(a[j], b[j]))
}

/// Limbwise `a − b` (signed limbs, not normalised).
#[inline]
#[target_feature(enable = "avx512f")]
fn sub<const N: usize>(a: &V<N>, b: &V<N>) -> V<N> {
    core::array::from_fn(|j| _mm512_sub_epi64(a[j], b[j]))
}

/// Carries of non-negative limbs: limbs `0..N−1` below `2⁵²`, the top limb takes the rest.
#[inline]
#[target_feature(enable = "avx512f")]
fn norm<const N: usize>(mut t: V<N>) -> V<N> {
    let m = _mm512_set1_epi64(MASK52 as i64);
    for j in 0..N - 1 {
        let c = _mm512_srli_epi64::<52>(t[j]);
        t[j] = _mm512_and_si512(t[j], m);
        t[j + 1] = _mm512_add_epi64(t[j + 1], c);
    }
    t
}

/// Carries of signed limbs (arithmetic shifts): limbs `0..N−1` in `[0, 2⁵²)`, the top limb
/// signed, negative exactly when the value is.
#[inline]
#[target_feature(enable = "avx512f")]
fn norm_signed<const N: usize>(mut t: V<N>) -> V<N> {
    let m = _mm512_set1_epi64(MASK52 as i64);
    for j in 0..N - 1 {
        let c = _mm512_srai_epi64::<52>(t[j]);
        t[j] = _mm512_and_si512(t[j], m);
        t[j + 1] = _mm512_add_epi64(t[j + 1], c);
    }
    t
}

/// `x − m` when `x ≥ m`, else `x`, for normalised `x` and `m`.
#[inline]
#[target_feature(enable = "avx512f")]
fn sub_if_ge<const N: usize>(x: &V<N>, m: &V<N>) -> V<N> {
    let d = norm_signed(sub(x, m));
    let neg = _mm512_cmplt_epi64_mask(d[N - 1], _mm512_setzero_si512());
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

/// `x >> s` in every lane (`s < 64`).
#[inline]
#[target_feature(enable = "avx512f")]
fn shr(x: __m512i, s: usize) -> __m512i {
    _mm512_srl_epi64(x, _mm_cvtsi64_si128(s as i64))
}

/// `x << s` in every lane (`s < 64`).
#[inline]
#[target_feature(enable = "avx512f")]
fn shl(x: __m512i, s: usize) -> __m512i {
    _mm512_sll_epi64(x, _mm_cvtsi64_si128(s as i64))
}

/// Limb order, `L` 64-bit limbs to `N` 52-bit limbs (`52N ≥ 64L`; the shifts are constants
/// once the loops are unrolled).
#[inline]
#[target_feature(enable = "avx512f")]
fn from64<const L: usize, const N: usize>(l: [__m512i; L]) -> V<N> {
    let m = _mm512_set1_epi64(MASK52 as i64);
    if L == 4 {
        // Spelled out for the four-limb shape (see `mont_mul!`).
        let [l0, l1, l2, l3]: [__m512i; 4] = cast(l);
        let (and, or) = (_mm512_and_si512, _mm512_or_si512);
        return cast([
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
        ]);
    }
    core::array::from_fn(|k| {
        let (w, o) = (52 * k / 64, 52 * k % 64);
        let mut v = shr(l[w], o);
        if o > 12 && w + 1 < L {
            v = _mm512_or_si512(v, shl(l[w + 1], 64 - o));
        }
        _mm512_and_si512(v, m)
    })
}

/// `N` normalised 52-bit limbs (value below `2^(64L)`) to limb order, `L` 64-bit limbs.
#[inline]
#[target_feature(enable = "avx512f")]
fn to64<const L: usize, const N: usize>(x: &V<N>) -> [__m512i; L] {
    if L == 4 {
        // Spelled out for the four-limb shape (see `mont_mul!`).
        let x: V5 = cast(*x);
        let or = _mm512_or_si512;
        return cast([
            or(x[0], _mm512_slli_epi64::<52>(x[1])),
            or(_mm512_srli_epi64::<12>(x[1]), _mm512_slli_epi64::<40>(x[2])),
            or(_mm512_srli_epi64::<24>(x[2]), _mm512_slli_epi64::<28>(x[3])),
            or(_mm512_srli_epi64::<36>(x[3]), _mm512_slli_epi64::<16>(x[4])),
        ]);
    }
    core::array::from_fn(|w| {
        let (lo, hi) = (64 * w, 64 * w + 64);
        let mut v = _mm512_setzero_si512();
        for (k, &xk) in x.iter().enumerate() {
            let b = 52 * k;
            if b >= hi || b + 52 <= lo {
                continue;
            }
            let part = if b >= lo {
                shl(xk, b - lo)
            } else {
                shr(xk, lo - b)
            };
            v = _mm512_or_si512(v, part);
        }
        v
    })
}

/// `[0, s, 2s, …, 7s]`: the word offsets of eight rows `s` words apart.
#[inline]
#[target_feature(enable = "avx512f")]
fn rows(s: usize) -> __m512i {
    let s = s as i64;
    _mm512_set_epi64(7 * s, 6 * s, 5 * s, 4 * s, 3 * s, 2 * s, s, 0)
}

/// Register `j` ← word `j` of each of eight rows `stride` words apart from `p` (gathers).
///
/// # Safety
/// The `8 × stride` words from `p` must be readable (`L ≤ stride`).
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn gather<const L: usize>(p: *const u64, stride: usize) -> [__m512i; L] {
    let idx = rows(stride);
    // SAFETY: every index is below `8 × stride` (caller).
    core::array::from_fn(|j| unsafe { _mm512_i64gather_epi64::<8>(idx, p.add(j).cast()) })
}

/// The inverse of [`gather`] (scatters).
///
/// # Safety
/// The `8 × stride` words from `p` must be writable (`L ≤ stride`).
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn scatter<const L: usize>(p: *mut u64, stride: usize, v: &[__m512i; L]) {
    let idx = rows(stride);
    for (j, &vj) in v.iter().enumerate() {
        // SAFETY: as in `gather`, for writing.
        unsafe { _mm512_i64scatter_epi64::<8>(p.add(j).cast(), idx, vj) };
    }
}

/// `v` as an array of another length (`L = M`; a no-op once monomorphised).
#[inline(always)]
fn cast<const L: usize, const M: usize>(v: [__m512i; L]) -> [__m512i; M] {
    debug_assert_eq!(L, M);
    core::array::from_fn(|j| v[j])
}

/// Loads eight consecutive elements (`L` 64-bit limbs) as `N` 52-bit limb registers.
///
/// # Safety
/// `p..p + 8` must be readable.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn load8<const L: usize, const N: usize>(p: *const [u64; L]) -> V<N> {
    if L == 4 {
        let p = p as *const __m512i;
        // SAFETY: 8 elements of 32 bytes are four 64-byte registers (caller); unaligned loads.
        let v: [__m512i; 4] = unsafe { core::array::from_fn(|r| _mm512_loadu_si512(p.add(r))) };
        from64::<L, N>(cast(to_limbs(v)))
    } else {
        // SAFETY: the caller's contract.
        from64::<L, N>(unsafe { gather(p.cast(), L) })
    }
}

/// Stores `N` normalised 52-bit limb registers (values below `2^(64L)`) as eight consecutive
/// elements.
///
/// # Safety
/// `p..p + 8` must be writable.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn store8<const L: usize, const N: usize>(p: *mut [u64; L], x: &V<N>) {
    let l = to64::<L, N>(x);
    if L == 4 {
        let v = to_elements(cast(l));
        let p = p as *mut __m512i;
        for (r, v) in v.into_iter().enumerate() {
            // SAFETY: as in `load8`, for writing.
            unsafe { _mm512_storeu_si512(p.add(r), v) };
        }
    } else {
        // SAFETY: the caller's contract.
        unsafe { scatter(p.cast(), L, &l) }
    }
}

/// Loads eight consecutive pairs `[x, y]` (affine points, `L` limbs per coordinate) as the
/// registers of the eight `x` and of the eight `y`.
///
/// # Safety
/// `p..p + 8` must be readable.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn load8_xy<const L: usize, const N: usize>(
    p: *const [[u64; L]; 2],
) -> (V<N>, V<N>) {
    if L != 4 {
        let p = p as *const u64;
        // SAFETY: eight pairs of `2L` words (caller).
        return unsafe {
            (
                from64(gather::<L>(p, 2 * L)),
                from64(gather::<L>(p.add(L), 2 * L)),
            )
        };
    }
    let p = p as *const __m512i;
    // SAFETY: 8 pairs of 64 bytes are eight 64-byte registers (caller); unaligned loads.
    let v: [__m512i; 8] = unsafe { core::array::from_fn(|r| _mm512_loadu_si512(p.add(r))) };
    // Register `r` holds pair `r` = [x_r, y_r]: two pairs give [x_2i, x_2i+1] and [y_2i, y_2i+1].
    let (lo, hi) = (idx(HALF_LO), idx(HALF_HI));
    let xs = core::array::from_fn(|i| _mm512_permutex2var_epi64(v[2 * i], lo, v[2 * i + 1]));
    let ys = core::array::from_fn(|i| _mm512_permutex2var_epi64(v[2 * i], hi, v[2 * i + 1]));
    (
        from64::<L, N>(cast(to_limbs(xs))),
        from64::<L, N>(cast(to_limbs(ys))),
    )
}

/// Stores eight `x` and eight `y` (normalised, below `2^(64L)`) as eight consecutive pairs
/// `[x, y]`; the inverse of [`load8_xy`].
///
/// # Safety
/// `p..p + 8` must be writable.
#[inline]
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn store8_xy<const L: usize, const N: usize>(
    p: *mut [[u64; L]; 2],
    x: &V<N>,
    y: &V<N>,
) {
    if L != 4 {
        let p = p as *mut u64;
        // SAFETY: eight pairs of `2L` words (caller).
        unsafe {
            scatter(p, 2 * L, &to64::<L, N>(x));
            scatter(p.add(L), 2 * L, &to64::<L, N>(y));
        }
        return;
    }
    let xs = to_elements(cast(to64::<L, N>(x)));
    let ys = to_elements(cast(to64::<L, N>(y)));
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
    use zkaccel_backend::curves::{Bls12_377Fq, Bls12_381Fq, Bn254Fq};
    use zkaccel_backend::PrimeField;

    /// Random words (xorshift).
    fn words(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    /// The transpose and the radix change are exact inverses, on random words below
    /// `2^(64L)`, for elements and for `[x, y]` pairs.
    fn round_trip<const L: usize, const N: usize>() {
        let mut word = words(0x1234_5678_9abc_def0 + L as u64);
        let src: Vec<[u64; L]> = (0..8).map(|_| core::array::from_fn(|_| word())).collect();
        let mut dst = vec![[0u64; L]; 8];
        // SAFETY: IFMA and AVX-512F are present (`enabled`, checked by the caller); both
        // buffers hold 8 elements.
        unsafe {
            let v = load8::<L, N>(src.as_ptr());
            store8::<L, N>(dst.as_mut_ptr(), &v);
        }
        assert_eq!(src, dst, "L = {L}");
        let pairs: Vec<[[u64; L]; 2]> = src
            .iter()
            .zip(src.iter().rev())
            .map(|(a, b)| [*a, *b])
            .collect();
        let mut back = vec![[[0u64; L]; 2]; 8];
        // SAFETY: as above.
        unsafe {
            let (x, y) = load8_xy::<L, N>(pairs.as_ptr());
            store8_xy::<L, N>(back.as_mut_ptr(), &x, &y);
            // The x registers are the x coordinates: the same as loading them contiguously.
            let mut xs = vec![[0u64; L]; 8];
            store8::<L, N>(xs.as_mut_ptr(), &x);
            assert_eq!(xs, src, "L = {L}");
        }
        assert_eq!(pairs, back, "L = {L}");
    }

    #[test]
    fn load_store_round_trip() {
        if !enabled() {
            println!("no AVX-512 IFMA on this CPU: nothing to check here");
            return;
        }
        round_trip::<4, 5>();
        round_trip::<6, 8>();
    }

    /// `mul`, `add`, `sub` and `fin` on eight lanes against the field `F` (Montgomery form,
    /// `L` limbs): `a ⊗ b = a·b/f`, on edge values (0, 1, p − 1, and non-canonical `p`,
    /// `2p − 1` as lazy inputs) and random ones.
    fn lanes_match_field<F: PrimeField, const L: usize, const N: usize>() {
        let p: [u64; L] = F::modulus().as_ref().try_into().unwrap();
        let m = Modulus52::<L, N>::new(p).expect("IFMA present and the modulus fits");
        let f_inv = F::from_u64(1 << (Modulus52::<L, N>::F_LOG2 / 2))
            .square()
            .inverse()
            .unwrap();
        let words_of = |x: F| -> [u64; L] { bytemuck::cast(x) };
        let add_p = |x: [u64; L]| -> [u64; L] {
            let mut r = [0u64; L];
            let mut carry = false;
            for i in 0..L {
                let (s, c1) = x[i].overflowing_add(p[i]);
                let (s, c2) = s.overflowing_add(carry as u64);
                r[i] = s;
                carry = c1 | c2;
            }
            r
        };
        let mut word = words(77 + L as u64);
        let mut vals: Vec<F> = vec![F::ZERO, F::ONE, -F::ONE, F::from_u64(2)];
        vals.extend((0..60).map(|_| F::from_u64(word()) * F::from_u64(word()).square()));
        let k = {
            // SAFETY: `m` exists, so the CPU has AVX-512F.
            unsafe { m.lanes() }
        };
        for r in 0..vals.len() {
            let a: Vec<F> = (0..8).map(|j| vals[(r + j) % vals.len()]).collect();
            let b: Vec<F> = (0..8)
                .map(|j| vals[(3 * r + 5 * j + 1) % vals.len()])
                .collect();
            // Lazy inputs: lanes 1 and 2 carry `a + p` (below 2p), the non-canonical form.
            let mut aw: Vec<[u64; L]> = a.iter().map(|&x| words_of(x)).collect();
            for lane in [1, 2] {
                aw[lane] = add_p(aw[lane]);
            }
            let bw: Vec<[u64; L]> = b.iter().map(|&x| words_of(x)).collect();
            let (mut prod, mut sum, mut dif) =
                (vec![[0u64; L]; 8], vec![[0u64; L]; 8], vec![[0u64; L]; 8]);
            // SAFETY: IFMA is present (`m` exists); every buffer holds eight elements.
            unsafe {
                let (va, vb) = (load8::<L, N>(aw.as_ptr()), load8::<L, N>(bw.as_ptr()));
                store8::<L, N>(prod.as_mut_ptr(), &k.fin(&k.mul(&va, &vb)));
                store8::<L, N>(sum.as_mut_ptr(), &k.fin(&k.add(&va, &vb)));
                store8::<L, N>(dif.as_mut_ptr(), &k.fin(&k.sub(&va, &vb)));
            }
            for j in 0..8 {
                let want = a[j] * b[j] * f_inv;
                assert_eq!(prod[j], words_of(want), "L = {L}: {:?} ⊗ {:?}", a[j], b[j]);
                assert_eq!(sum[j], words_of(a[j] + b[j]), "L = {L}: sum");
                assert_eq!(dif[j], words_of(a[j] - b[j]), "L = {L}: difference");
            }
        }
    }

    #[test]
    fn lanes_match_the_fields() {
        if !enabled() {
            println!("no AVX-512 IFMA on this CPU: nothing to check here");
            return;
        }
        lanes_match_field::<Bn254Fq, 4, 5>();
        lanes_match_field::<Bls12_381Fq, 6, 8>();
        lanes_match_field::<Bls12_377Fq, 6, 8>();
        // Shapes and moduli that do not fit are refused.
        assert!(Modulus52::<4, 8>::new([1, 0, 0, 0]).is_none());
        assert!(Modulus52::<4, 5>::new([1, 0, 0, 1 << 62]).is_none());
        assert!(Modulus52::<6, 8>::new([2, 0, 0, 0, 0, 1]).is_none());
    }
}
