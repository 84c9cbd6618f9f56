//! Poseidon2 over BabyBear, eight permutations at a time in AVX2 lanes when the CPU has AVX2
//! (detected at run time), the scalar code otherwise.
//!
//! The eight states are transposed into a structure of arrays (`T` vectors of eight lanes,
//! lane `j` holding state `j`) and every round runs on whole vectors. Elements stay in
//! Montgomery form (`x·2³² mod p`, the storage form of [`BabyBear`]). Multiplication is
//! Montgomery's REDC in its subtractive form: with `q = (a·b mod 2³²)·p⁻¹ mod 2³²`, the value
//! `(a·b − q·p)/2³²` is exact, lies in `(−p, p)` and is `a·b·2⁻³²` modulo `p`; one
//! `min(r, r + p)` on unsigned lanes brings it into `[0, p)`. Addition and subtraction use the
//! same `min` trick. (Montgomery, "Modular multiplication without trial division", 1985; the
//! lane layout of 32-bit products with `vpmuludq` on even and odd lanes is the usual one.)

use super::fast::{FastPerm, Poseidon2Fast};
use zkaccel_backend::field::BabyBear;

/// Poseidon2 over BabyBear of width `T`: the scalar permutation plus, where available, the
/// 8-lane AVX2 one for blocks of states.
pub(crate) struct BabyBearPoseidon2<const T: usize> {
    scalar: Poseidon2Fast<BabyBear, T>,
    /// Constants as Montgomery words.
    initial: Vec<[u32; T]>,
    internal: Vec<u32>,
    terminal: Vec<[u32; T]>,
    diag: [u32; T],
    horizen_m4: bool,
    #[cfg(target_arch = "x86_64")]
    avx2: bool,
}

impl<const T: usize> BabyBearPoseidon2<T> {
    pub(crate) fn new(scalar: Poseidon2Fast<BabyBear, T>) -> Self {
        let words = |v: &[BabyBear; T]| -> [u32; T] { core::array::from_fn(|i| v[i].monty_word()) };
        Self {
            initial: scalar.initial.iter().map(words).collect(),
            internal: scalar.internal.iter().map(|x| x.monty_word()).collect(),
            terminal: scalar.terminal.iter().map(words).collect(),
            diag: words(&scalar.diag),
            horizen_m4: scalar.external
                == zkaccel_backend::hash::poseidon2::ExternalMatrix::Horizen,
            #[cfg(target_arch = "x86_64")]
            avx2: std::arch::is_x86_feature_detected!("avx2") && T.is_multiple_of(4) && T >= 8,
            scalar,
        }
    }
}

impl<const T: usize> FastPerm<BabyBear, T> for BabyBearPoseidon2<T> {
    fn permute(&self, state: &mut [BabyBear; T]) {
        self.scalar.permute(state);
    }

    fn permute_many(&self, states: &mut [[BabyBear; T]]) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            let mut chunks = states.chunks_exact_mut(8);
            for c in &mut chunks {
                let c: &mut [[BabyBear; T]; 8] = c.try_into().expect("8 states");
                // SAFETY: `self.avx2` is set only when the CPU reports AVX2.
                unsafe { avx2::permute8(self, c) };
            }
            for s in chunks.into_remainder() {
                self.scalar.permute(s);
            }
            return;
        }
        for s in states {
            self.scalar.permute(s);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::BabyBearPoseidon2;
    use core::arch::x86_64::*;
    use zkaccel_backend::field::BabyBear;

    const P: u32 = BabyBear::P;
    /// `p⁻¹ mod 2³²`.
    const P_INV: u32 = {
        let mut inv = 1u32;
        let mut i = 0;
        while i < 5 {
            // Newton: inv ← inv·(2 − p·inv), doubling the correct bits each time.
            inv = inv.wrapping_mul(2u32.wrapping_sub(P.wrapping_mul(inv)));
            i += 1;
        }
        inv
    };
    const _: () = assert!(P.wrapping_mul(P_INV) == 1);

    #[inline]
    #[target_feature(enable = "avx2")]
    fn add(a: __m256i, b: __m256i, p: __m256i) -> __m256i {
        let t = _mm256_add_epi32(a, b);
        _mm256_min_epu32(t, _mm256_sub_epi32(t, p))
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn mul(a: __m256i, b: __m256i, p: __m256i, pinv: __m256i) -> __m256i {
        let prod_e = _mm256_mul_epu32(a, b);
        let prod_o = _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), _mm256_srli_epi64::<32>(b));
        let q_e = _mm256_mul_epu32(prod_e, pinv);
        let q_o = _mm256_mul_epu32(prod_o, pinv);
        let d_e = _mm256_sub_epi64(prod_e, _mm256_mul_epu32(q_e, p));
        let d_o = _mm256_sub_epi64(prod_o, _mm256_mul_epu32(q_o, p));
        // The low halves cancel; the high halves are the (signed) results.
        let r = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<32>(d_e), d_o);
        _mm256_min_epu32(r, _mm256_add_epi32(r, p))
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn sbox7(x: __m256i, p: __m256i, pinv: __m256i) -> __m256i {
        let x2 = mul(x, x, p, pinv);
        let x3 = mul(x2, x, p, pinv);
        let x6 = mul(x3, x3, p, pinv);
        mul(x6, x, p, pinv)
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn dbl(a: __m256i, p: __m256i) -> __m256i {
        add(a, a, p)
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn m4<const HORIZEN: bool>(x: &mut [__m256i], p: __m256i) {
        if HORIZEN {
            let t0 = add(x[0], x[1], p);
            let t1 = add(x[2], x[3], p);
            let t2 = add(dbl(x[1], p), t1, p);
            let t3 = add(dbl(x[3], p), t0, p);
            let t4 = add(dbl(dbl(t1, p), p), t3, p);
            let t5 = add(dbl(dbl(t0, p), p), t2, p);
            x[0] = add(t3, t5, p);
            x[1] = t5;
            x[2] = add(t2, t4, p);
            x[3] = t4;
        } else {
            let t01 = add(x[0], x[1], p);
            let t23 = add(x[2], x[3], p);
            let t0123 = add(t01, t23, p);
            let t01123 = add(t0123, x[1], p);
            let t01233 = add(t0123, x[3], p);
            x[3] = add(t01233, dbl(x[0], p), p);
            x[1] = add(t01123, dbl(x[2], p), p);
            x[0] = add(t01123, t01, p);
            x[2] = add(t01233, t23, p);
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn external<const T: usize, const HORIZEN: bool>(s: &mut [__m256i; T], p: __m256i) {
        for b in s.chunks_exact_mut(4) {
            m4::<HORIZEN>(b, p);
        }
        let mut sums = [s[0], s[1], s[2], s[3]];
        for i in (4..T).step_by(4) {
            for k in 0..4 {
                sums[k] = add(sums[k], s[i + k], p);
            }
        }
        for i in 0..T {
            s[i] = add(s[i], sums[i % 4], p);
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn rounds<const T: usize, const HORIZEN: bool>(
        perm: &BabyBearPoseidon2<T>,
        s: &mut [__m256i; T],
    ) {
        let p = _mm256_set1_epi32(P as i32);
        let pinv = _mm256_set1_epi32(P_INV as i32);
        external::<T, HORIZEN>(s, p);
        for rc in &perm.initial {
            for i in 0..T {
                s[i] = sbox7(add(s[i], _mm256_set1_epi32(rc[i] as i32), p), p, pinv);
            }
            external::<T, HORIZEN>(s, p);
        }
        let diag: [__m256i; T] = core::array::from_fn(|i| _mm256_set1_epi32(perm.diag[i] as i32));
        for &c in &perm.internal {
            s[0] = sbox7(add(s[0], _mm256_set1_epi32(c as i32), p), p, pinv);
            let mut sum = s[0];
            for x in &s[1..] {
                sum = add(sum, *x, p);
            }
            for i in 0..T {
                s[i] = add(sum, mul(s[i], diag[i], p, pinv), p);
            }
        }
        for rc in &perm.terminal {
            for i in 0..T {
                s[i] = sbox7(add(s[i], _mm256_set1_epi32(rc[i] as i32), p), p, pinv);
            }
            external::<T, HORIZEN>(s, p);
        }
    }

    /// Permutes eight states in AVX2 lanes (callers must check that the CPU has AVX2).
    #[target_feature(enable = "avx2")]
    pub(super) fn permute8<const T: usize>(
        perm: &BabyBearPoseidon2<T>,
        states: &mut [[BabyBear; T]; 8],
    ) {
        let mut s = [_mm256_setzero_si256(); T];
        for (i, v) in s.iter_mut().enumerate() {
            let lanes: [u32; 8] = core::array::from_fn(|j| states[j][i].monty_word());
            // SAFETY: `lanes` is 32 readable bytes; `loadu` has no alignment requirement.
            *v = unsafe { _mm256_loadu_si256(lanes.as_ptr().cast()) };
        }
        if perm.horizen_m4 {
            rounds::<T, true>(perm, &mut s);
        } else {
            rounds::<T, false>(perm, &mut s);
        }
        for (i, v) in s.iter().enumerate() {
            let mut lanes = [0u32; 8];
            // SAFETY: `lanes` is 32 writable bytes; `storeu` has no alignment requirement.
            unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), *v) };
            for j in 0..8 {
                states[j][i] = bytemuck::cast(lanes[j]);
            }
        }
    }
}
