//! Variable-time modular inversion by Bernstein–Yang divsteps ("Fast constant-time gcd
//! computation and modular inversion", TCHES 2019), in batches of 62 steps whose effect is
//! applied to the full-width numbers as one 2×2 matrix (the structure Pieter Wuille describes in
//! "The safegcd implementation in libsecp256k1 explained"). Written anew for this crate.
//!
//! For an odd modulus `p` and `0 < x < p` the state is `(δ, f, g, d, e)` with `f = p`, `g = x`,
//! `d = 0`, `e = 1`, and the invariant `f ≡ d·x`, `g ≡ e·x (mod p)`. A divstep maps
//! `(δ, f, g)` to `(1 − δ, g, (g − f)/2)` when `δ > 0` and `g` is odd, to `(1 + δ, f, (g + f)/2)`
//! when `g` is odd otherwise, and to `(1 + δ, f, g/2)` when `g` is even. Every divstep halves
//! `g`, so after `k` of them `2^k·(f, g)` is an integer matrix times the starting `(f, g)`; the
//! first `k ≤ 62` steps depend only on the low 64 bits of `f` and `g`. When `g` reaches 0,
//! `f = ±1` (the gcd) and `x⁻¹ = ±d`.
//!
//! Bernstein and Yang bound the number of divsteps from `δ = 1` by `⌊(49·b + 57)/17⌋` for
//! `b`-bit inputs (Theorem 11.2): 735 for 254 bits, 1104 for 384. A run that has not finished
//! by that bound (impossible by the theorem) gives up and the caller falls back to Fermat's
//! inversion, so a bug here could cost speed but never give a wrong inverse silently past the
//! tests.
//!
//! This is **variable time**: the number and kind of steps depend on `x`. It is used where
//! the inverted values are not secret (the affine bucket additions of the MSM, whose bucket
//! access pattern already depends on the scalars); [`super::Field::inverse`] stays Fermat's
//! constant-time exponentiation.

/// Bits per limb of the signed representation.
const BITS: u32 = 62;
/// `2^62 − 1`.
const MASK: i64 = (1 << BITS) - 1;
/// Limbs of the signed representation: enough for `N = 6` (384-bit moduli) with room for the
/// growth of `d` and `e` (below `(iterations + 1)·p`, about 19p) and a sign.
const MAX_LIMBS: usize = 8;

/// A signed integer as 62-bit limbs, little-endian; every limb but the top one is in
/// `[0, 2^62)`, the top one carries the sign.
type Signed = [i64; MAX_LIMBS];

/// The transition matrix of 62 divsteps: `2^62·(f', g') = (u·f + v·g, q·f + r·g)`.
#[derive(Clone, Copy, Debug)]
struct Matrix {
    u: i64,
    v: i64,
    q: i64,
    r: i64,
}

/// Runs 62 divsteps on the low 64 bits of `f` (odd) and `g`, starting from `eta = −δ`.
/// Returns the new `eta` and the transition matrix.
#[inline]
fn divsteps_62(mut eta: i64, mut f: u64, mut g: u64) -> (i64, Matrix) {
    // Rows of the matrix, with 2^(steps done)·(f, g) = (u·f₀ + v·g₀, q·f₀ + r·g₀).
    let (mut u, mut v, mut q, mut r) = (1i64, 0i64, 0i64, 1i64);
    let mut left = BITS;
    loop {
        // Every divstep on an even g halves it: take all the trailing zeros at once (each is
        // one step: δ grows by one, the f row doubles).
        let zeros = (g.trailing_zeros()).min(left);
        g >>= zeros;
        u <<= zeros;
        v <<= zeros;
        eta -= zeros as i64;
        left -= zeros;
        if left == 0 {
            break;
        }
        // g is odd. When δ > 0 the step is (f, g) ← (g, (g − f)/2): swap with a negation,
        // then add as in the other case.
        if eta < 0 {
            eta = -eta;
            let (of, ou, ov) = (f, u, v);
            f = g;
            u = q;
            v = r;
            g = of.wrapping_neg();
            q = -ou;
            r = -ov;
        }
        // (f, g) ← (f, g + f); the halving (and δ's increment) is the next zero shift.
        g = g.wrapping_add(f);
        q += u;
        r += v;
    }
    (eta, Matrix { u, v, q, r })
}

/// `(a, b) ← ((u·a + v·b)/2^62, (q·a + r·b)/2^62)`, exact divisions.
///
/// For `(f, g)` (`MODULAR = false`) the numerators are divisible by `2^62` by construction of
/// the matrix. For `(d, e)` (`MODULAR = true`) the result is taken modulo `p`: a multiple of
/// `p`, chosen with `p_inv = p⁻¹ mod 2^62`, is added to make each numerator divisible.
#[inline]
fn update<const MODULAR: bool>(
    a: &mut Signed,
    b: &mut Signed,
    t: &Matrix,
    p: &Signed,
    p_inv: i64,
    len: usize,
) {
    let (u, v, q, r) = (t.u as i128, t.v as i128, t.q as i128, t.r as i128);
    let mut ca = u * a[0] as i128 + v * b[0] as i128;
    let mut cb = q * a[0] as i128 + r * b[0] as i128;
    // ma·p ≡ −ca (mod 2^62).
    let (ma, mb) = if MODULAR {
        let ma = ((ca as i64).wrapping_mul(p_inv)).wrapping_neg() & MASK;
        let mb = ((cb as i64).wrapping_mul(p_inv)).wrapping_neg() & MASK;
        (ma as i128, mb as i128)
    } else {
        (0, 0)
    };
    ca += ma * p[0] as i128;
    cb += mb * p[0] as i128;
    debug_assert_eq!(ca as i64 & MASK, 0);
    debug_assert_eq!(cb as i64 & MASK, 0);
    ca >>= BITS;
    cb >>= BITS;
    for i in 1..len {
        ca += u * a[i] as i128 + v * b[i] as i128 + ma * p[i] as i128;
        cb += q * a[i] as i128 + r * b[i] as i128 + mb * p[i] as i128;
        a[i - 1] = ca as i64 & MASK;
        b[i - 1] = cb as i64 & MASK;
        ca >>= BITS;
        cb >>= BITS;
    }
    a[len - 1] = ca as i64;
    b[len - 1] = cb as i64;
}

/// `a` (non-negative, below `2^(64N)`) as signed 62-bit limbs.
fn to_signed<const N: usize>(a: &[u64; N]) -> Signed {
    let mut out = [0i64; MAX_LIMBS];
    for (i, o) in out.iter_mut().enumerate() {
        let bit = i * BITS as usize;
        let limb = bit / 64;
        let shift = bit % 64;
        if limb >= N {
            break;
        }
        let mut v = a[limb] >> shift;
        if shift + BITS as usize > 64 && limb + 1 < N {
            v |= a[limb + 1] << (64 - shift);
        }
        *o = v as i64 & MASK;
    }
    out
}

/// `a` (in `[0, 2^(64N))`) back to 64-bit limbs.
fn from_signed<const N: usize>(a: &Signed, len: usize) -> [u64; N] {
    let mut out = [0u64; N];
    for (i, &l) in a[..len].iter().enumerate() {
        let bit = i * BITS as usize;
        let limb = bit / 64;
        let shift = bit % 64;
        if limb < N {
            out[limb] |= (l as u64) << shift;
        }
        if shift + BITS as usize > 64 && limb + 1 < N {
            out[limb + 1] |= (l as u64) >> (64 - shift);
        }
    }
    out
}

/// `a + k·b` for `k ∈ {−1, 1}`, limb-wise with carries (signed top limb).
fn add_times(a: &mut Signed, b: &Signed, k: i64, len: usize) {
    let mut c = 0i64;
    for i in 0..len {
        let s = a[i] + k * b[i] + c;
        if i + 1 < len {
            a[i] = s & MASK;
            c = s >> BITS;
        } else {
            a[i] = s;
        }
    }
}

/// `−a`.
fn negate(a: &mut Signed, len: usize) {
    let mut out = [0i64; MAX_LIMBS];
    add_times(&mut out, a, -1, len);
    *a = out;
}

/// `a ≥ b` for normalised values (limbs below the top in `[0, 2^62)`).
fn geq_signed(a: &Signed, b: &Signed, len: usize) -> bool {
    for i in (0..len).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

/// `x⁻¹ mod p` for `0 < x < p`, `p` odd with `N ≤ 6` limbs, in variable time; `None` when
/// `x` is zero or shares a factor with `p`, or (never, by Bernstein–Yang's bound) when the
/// divsteps have not finished in time.
pub fn inverse<const N: usize>(x: &[u64; N], p: &[u64; N]) -> Option<[u64; N]> {
    debug_assert!(N <= 6 && p[0] & 1 == 1);
    // Limbs for values up to 2^(64N + 6) with a sign: N = 4 → 5, N = 6 → 7.
    let len = (64 * N + 7).div_ceil(BITS as usize);
    if len > MAX_LIMBS || x.iter().all(|&l| l == 0) {
        return None;
    }
    let bits = 64 * N as u64 - p[N - 1].leading_zeros() as u64;
    let max_steps = (49 * bits + 57) / 17;
    let max_rounds = max_steps.div_ceil(BITS as u64) + 1;
    // p⁻¹ mod 2^62 by Newton's iteration (each step doubles the correct low bits).
    let p0 = p[0];
    let mut inv = p0; // correct to 3 bits for odd p0
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(p0.wrapping_mul(inv)));
    }
    let p_inv = inv as i64 & MASK;
    let modulus = to_signed(p);
    let mut f = modulus;
    let mut g = to_signed(x);
    let mut d = [0i64; MAX_LIMBS];
    let mut e = [0i64; MAX_LIMBS];
    e[0] = 1;
    let mut eta = -1i64;
    let low = |a: &Signed| (a[0] as u64) | ((a[1] as u64) << BITS);
    let mut rounds = 0;
    while g[..len].iter().any(|&l| l != 0) {
        rounds += 1;
        if rounds > max_rounds {
            return None;
        }
        let (next_eta, t) = divsteps_62(eta, low(&f), low(&g));
        eta = next_eta;
        update::<false>(&mut f, &mut g, &t, &modulus, p_inv, len);
        update::<true>(&mut d, &mut e, &t, &modulus, p_inv, len);
    }
    // f is the gcd up to sign: it must be ±1, and x⁻¹ = d·f.
    if f[len - 1] < 0 {
        negate(&mut f, len);
        negate(&mut d, len);
    }
    let mut one = [0i64; MAX_LIMBS];
    one[0] = 1;
    if f[..len] != one[..len] {
        return None;
    }
    // |d| < (rounds + 1)·p: bring it into [0, p).
    while d[len - 1] < 0 {
        add_times(&mut d, &modulus, 1, len);
    }
    while geq_signed(&d, &modulus, len) {
        add_times(&mut d, &modulus, -1, len);
    }
    Some(from_signed(&d, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curves::{Bls12_377Fq, Bls12_381Fq, Bls12_381Fr, Bn254Fq, Bn254Fr};
    use crate::field::{Field, PrimeField};

    /// Deterministic pseudo-random words (a 64-bit LCG with an output shift).
    pub(super) fn words(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state ^ (state >> 29)
        }
    }

    fn check<F: PrimeField<Limbs = [u64; N]>, const N: usize>() {
        let mut next = words(0x1234_5678_9abc_def0);
        let p = F::modulus();
        let minus_one = -F::ONE;
        let mut cases: Vec<F> = vec![
            F::ONE,
            F::from_u64(2),
            F::from_u64(3),
            minus_one,
            minus_one - F::ONE,
            F::from_u64(u64::MAX),
        ];
        // Powers of two (long runs of zero divsteps) and values near p.
        let mut two_k = F::ONE;
        for _ in 0..F::MODULUS_BITS {
            two_k = two_k.double();
            cases.push(two_k);
            cases.push(-two_k);
        }
        for _ in 0..2000 {
            cases.push(F::random_with(&mut next));
        }
        for x in cases {
            // Invert the canonical value itself (the raw integer), and compare with Fermat.
            let got = inverse(&x.to_canonical(), &p);
            let got = got.map(|v| F::from_canonical(&v).expect("reduced"));
            let want = x.inverse();
            assert_eq!(got, want, "{:?} x = {x:?}", F::ID);
            assert_eq!(got.map(|i| i * x), Some(F::ONE));
            // The same through the field type (Montgomery form in and out).
            assert_eq!(x.inverse_vartime(), want);
        }
        assert_eq!(inverse(&F::ZERO.to_canonical(), &p), None);
        assert_eq!(F::ZERO.inverse_vartime(), None);
    }

    #[test]
    fn matches_fermat() {
        check::<Bn254Fq, 4>();
        check::<Bn254Fr, 4>();
        check::<Bls12_381Fq, 6>();
        check::<Bls12_381Fr, 4>();
        check::<Bls12_377Fq, 6>();
    }

    #[test]
    fn quadratic_extension() {
        use crate::curves::Bls12_381Fq2;
        let mut next = words(7);
        for _ in 0..200 {
            let x = Bls12_381Fq2::new(
                Bls12_381Fq::random_with(&mut next),
                Bls12_381Fq::random_with(&mut next),
            );
            assert_eq!(x.inverse_vartime(), x.inverse());
        }
        assert_eq!(Bls12_381Fq2::ZERO.inverse_vartime(), None);
    }

    #[test]
    fn not_coprime_gives_none() {
        // p = 15 (odd, not prime): 3 and 5 share a factor with it, 2 and 7 do not.
        let p = [15u64, 0, 0, 0];
        assert_eq!(inverse(&[3u64, 0, 0, 0], &p), None);
        assert_eq!(inverse(&[5u64, 0, 0, 0], &p), None);
        assert_eq!(inverse(&[2u64, 0, 0, 0], &p), Some([8, 0, 0, 0]));
        assert_eq!(inverse(&[7u64, 0, 0, 0], &p), Some([13, 0, 0, 0]));
    }
}

/// Timing harness for tuning (not a benchmark of record):
/// `cargo test -p zkaccel-backend --lib inversion_timing -- --ignored --nocapture`
#[cfg(test)]
mod timing {
    use crate::curves::{Bls12_381Fq, Bn254Fq};
    use crate::field::PrimeField;

    fn time<F: PrimeField>(name: &str) {
        let mut next = super::tests::words(3);
        let xs: Vec<F> = (0..20_000).map(|_| F::random_with(&mut next)).collect();
        let t = std::time::Instant::now();
        let a = xs.iter().fold(F::ZERO, |s, x| s + x.inverse().unwrap());
        let fermat = t.elapsed().as_nanos() as f64 / xs.len() as f64;
        let t = std::time::Instant::now();
        let b = xs
            .iter()
            .fold(F::ZERO, |s, x| s + x.inverse_vartime().unwrap());
        let vartime = t.elapsed().as_nanos() as f64 / xs.len() as f64;
        let t = std::time::Instant::now();
        let mut m = F::ONE;
        for x in &xs {
            m *= *x;
        }
        let mul = t.elapsed().as_nanos() as f64 / xs.len() as f64;
        assert_eq!(a, b);
        println!(
            "{name}: Fermat {fermat:.0} ns, divsteps {vartime:.0} ns, dependent mul {mul:.1} ns \
             (divsteps = {:.0} mul) {m:?}",
            vartime / mul
        );
    }

    #[test]
    #[ignore]
    fn inversion_timing() {
        time::<Bn254Fq>("bn254 fq");
        time::<Bls12_381Fq>("bls12-381 fq");
    }
}
