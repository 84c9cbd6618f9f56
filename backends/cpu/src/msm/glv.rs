//! The GLV endomorphism of the `j = 0` curves BN254, BLS12-381 and BLS12-377 (G1).
//!
//! On `y² = x³ + b` over `F_q` with `q ≡ 1 (mod 3)`, the map `φ(x, y) = (β·x, y)`, for `β` a
//! primitive cube root of unity in `F_q`, is an endomorphism acting on the prime-order
//! subgroup as multiplication by `λ`, a primitive cube root of unity in `F_r`
//! (Gallant, Lambert, Vanstone, "Faster point multiplication on elliptic curves with
//! efficient endomorphisms", CRYPTO 2001). Which of the two cube roots of `F_r` goes with a
//! given `β` is fixed by checking `φ(G) = λ·G`; the tests re-derive and check every pair.
//!
//! A scalar `k` is split as `k ≡ k₁ + k₂·λ (mod r)` with `|k₁|, |k₂| < 2¹²⁷` by Babai's
//! rounding against a short basis `v₁ = (a₁, b₁)`, `v₂ = (a₂, b₂)` of the lattice
//! `{(x, y) : x + y·λ ≡ 0 (mod r)}` (GLV 2001, §4; the basis comes from the extended
//! Euclidean algorithm on `(r, λ)`, Hankerson–Menezes–Vanstone, "Guide to Elliptic Curve
//! Cryptography", Algorithm 3.74). With `det(v₁, v₂) = r`:
//! `c₁ = round(b₂·k / r)`, `c₂ = round(−b₁·k / r)`,
//! `k₁ = k − c₁a₁ − c₂a₂`, `k₂ = −c₁b₁ − c₂b₂`.
//! The divisions are replaced by multiplications with `g = ⌊b·2³²⁰ / r⌋` and a shift; the
//! truncation error is below `2⁻⁶⁴`, so `|kᵢ| ≤ (|v₁|∞ + |v₂|∞)/2 + 1 < 2¹²⁷` (the exact
//! bounds are 126, 127 and 126 bits for BN254, BLS12-381 and BLS12-377). Since the result
//! is that small, `k₁` and `k₂` are computed modulo `2¹²⁸` with wrapping arithmetic.
//!
//! The constants were derived with a short script (cube roots `g^((p−1)/3)`, the pairing
//! `φ(G) = λG`, Algorithm 3.74) and are checked by the tests below.

use zkaccel_backend::field::PrimeField;
use zkaccel_backend::{CurveGroup, CurveGroupId, CurveId, GroupId};

/// Bound on the bit length of the magnitude of both halves of a decomposed scalar.
pub const HALF_BITS: u32 = 127;

/// GLV constants of one curve.
#[derive(Debug)]
pub struct GlvParams {
    /// `β`, a cube root of unity of the base field, canonical limbs (6 limbs, zero-padded).
    pub beta: [u64; 6],
    /// `λ` with `φ(P) = λ·P`, canonical limbs of the scalar field.
    pub lambda: [u64; 4],
    /// The basis `(a₁, b₁), (a₂, b₂)` modulo `2¹²⁸` (for every curve here `a₁, a₂, b₂ ≥ 0`
    /// and `b₁ < 0`, stored as `2¹²⁸ − |b₁|`).
    pub basis: [u128; 4],
    /// `⌊b₂·2³²⁰/r⌋` and `⌊−b₁·2³²⁰/r⌋`.
    pub g: [[u64; 4]; 2],
}

/// BN254 G1.
pub static BN254: GlvParams = GlvParams {
    beta: limbs6("21888242871839275220042445260109153167277707414472061641714758635765020556616"),
    lambda: limbs4("21888242871839275217838484774961031246154997185409878258781734729429964517155"),
    basis: [
        147946756881789319000765030803803410728,
        9931322734385697763,
        340282366920938463453443284697382513693,
        147946756881789319010696353538189108491,
    ],
    g: [
        [
            0x149d540fd5e495cc,
            0x5398fd0300ff6565,
            0x4ccef014a773d2d2,
            0x2,
        ],
        [0x6eb9c714773a6ef2, 0xd91d232ec7e0b3d7, 0x2, 0x0],
    ],
};

/// BLS12-381 G1.
pub static BLS12_381: GlvParams = GlvParams {
    beta: limbs6("793479390729215512621379701633421447060886740281060493010456487427281649075476305620758731620350"),
    lambda: limbs4("52435875175126190479447740508185965837461563690374988244538805122978187051009"),
    basis: [
        1,
        228988810152649578064853576960394133504,
        111293556768288885398521030471374077953,
        1,
    ],
    g: [
        [0x355094edfede377c, 0x2, 0x0, 0x0],
        [0x034eb4b927adc027, 0x63f6e522f6cfee2e, 0x7c6becf1e01faadd, 0x1],
    ],
};

/// BLS12-377 G1.
pub static BLS12_377: GlvParams = GlvParams {
    beta: limbs6("258664426012969093929703085429980814127835149614277183275038967946009968870203535512256352201271898244626862047231"),
    lambda: limbs4("8444461749428370424248824938781546531284005582649182570233710176290576793600"),
    basis: [
        1,
        91893752504881257701523279626832445441,
        248388614416057205761851327804935766016,
        1,
    ],
    g: [
        [0xb65247b102cb27b9, 0xd, 0x0, 0x0],
        [0x7d14b4d66c5a9efc, 0x7f72ed32af90181e, 0xb3f7aa969fd37160, 0x3],
    ],
};

const fn limbs6(s: &str) -> [u64; 6] {
    zkaccel_backend::field::limbs::parse(s)
}
const fn limbs4(s: &str) -> [u64; 4] {
    zkaccel_backend::field::limbs::parse(s)
}

/// The GLV constants of a group, when it has them (G1 of the three pairing curves).
pub fn params(id: CurveGroupId) -> Option<&'static GlvParams> {
    match (id.curve, id.group) {
        (CurveId::Bn254, GroupId::G1) => Some(&BN254),
        (CurveId::Bls12_381, GroupId::G1) => Some(&BLS12_381),
        (CurveId::Bls12_377, GroupId::G1) => Some(&BLS12_377),
        _ => None,
    }
}

/// `β` as an element of the coordinate field of `C` (only for groups over a prime field).
pub fn beta<C: CurveGroup>(p: &GlvParams) -> Option<C::Base> {
    if core::mem::size_of::<C::Base>() != core::mem::size_of::<C::BasePrime>() {
        return None;
    }
    let mut limbs: <C::BasePrime as PrimeField>::Limbs = bytemuck::Zeroable::zeroed();
    let n = limbs.as_ref().len();
    if p.beta[n..].iter().any(|&l| l != 0) {
        return None;
    }
    limbs.as_mut().copy_from_slice(&p.beta[..n]);
    let b = C::BasePrime::from_canonical(&limbs)?;
    // Same size, both Pod: for G1 `Base` is `BasePrime` itself.
    Some(bytemuck::cast(b))
}

/// `⌊(k·g + 2³¹⁹) / 2³²⁰⌋`, i.e. `round(k·g / 2³²⁰)`, as a `u128` (it is below `2¹²⁸`).
#[inline(always)]
fn round_mul_shift(k: &[u64; 4], g: &[u64; 4]) -> u128 {
    let mut prod = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u128;
        for j in 0..4 {
            let t = prod[i + j] as u128 + (k[i] as u128) * (g[j] as u128) + carry;
            prod[i + j] = t as u64;
            carry = t >> 64;
        }
        prod[i + 4] = carry as u64;
    }
    // Add 2^319 (bit 63 of limb 4) and propagate.
    let (l4, c) = prod[4].overflowing_add(1 << 63);
    prod[4] = l4;
    if c {
        let (l5, c5) = prod[5].overflowing_add(1);
        prod[5] = l5;
        if c5 {
            prod[6] = prod[6].wrapping_add(1);
        }
    }
    debug_assert_eq!(prod[7], 0, "the rounded quotient fits in 128 bits");
    (prod[5] as u128) | ((prod[6] as u128) << 64)
}

/// Splits a canonical scalar `k < r` into `(|k₁|, k₁ < 0, |k₂|, k₂ < 0)` with
/// `k ≡ k₁ + k₂·λ (mod r)` and `|kᵢ| < 2¹²⁷`.
#[inline]
pub fn decompose(p: &GlvParams, k: &[u64; 4]) -> (u128, bool, u128, bool) {
    let c1 = round_mul_shift(k, &p.g[0]);
    let c2 = round_mul_shift(k, &p.g[1]);
    let [a1, a2, b1, b2] = p.basis;
    let k_low = (k[0] as u128) | ((k[1] as u128) << 64);
    let k1 = k_low
        .wrapping_sub(c1.wrapping_mul(a1))
        .wrapping_sub(c2.wrapping_mul(a2)) as i128;
    let k2 = c1
        .wrapping_mul(b1)
        .wrapping_add(c2.wrapping_mul(b2))
        .wrapping_neg() as i128;
    (k1.unsigned_abs(), k1 < 0, k2.unsigned_abs(), k2 < 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkaccel_backend::curves::{Bls12_377G1, Bls12_381G1, Bn254G1};
    use zkaccel_backend::field::Field;
    use zkaccel_backend::{Affine, Projective};

    fn scalar_from_u128<F: PrimeField<Limbs = [u64; 4]>>(m: u128, neg: bool) -> F {
        let v = F::from_canonical(&[m as u64, (m >> 64) as u64, 0, 0]).unwrap();
        if neg {
            -v
        } else {
            v
        }
    }

    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state ^ (state >> 29)
        }
    }

    fn check_curve<C: CurveGroup>(p: &GlvParams)
    where
        C::Scalar: PrimeField<Limbs = [u64; 4]>,
    {
        let beta = beta::<C>(p).expect("a G1 coordinate field");
        let lambda = C::Scalar::from_canonical(&p.lambda).unwrap();
        // Both are primitive cube roots of unity.
        assert_ne!(beta, C::Base::ONE);
        assert_eq!(beta.square() * beta, C::Base::ONE);
        assert_ne!(lambda, C::Scalar::ONE);
        assert_eq!(lambda.square() * lambda, C::Scalar::ONE);
        // φ(P) = λ·P on the generator and on random points: β and λ are paired.
        let mut next = rng(11);
        let g = Projective::<C>::generator();
        let mut points = vec![C::GENERATOR];
        for _ in 0..3 {
            points.push(g.mul(&C::Scalar::random_with(&mut next)).to_affine());
        }
        for pt in points {
            let phi = Affine::<C>::new(beta * pt.x, pt.y);
            assert!(phi.is_on_curve());
            assert_eq!(Projective::from(phi), Projective::from(pt).mul(&lambda));
        }
        // The basis vectors lie in the lattice: a + b·λ ≡ 0 (a₁, a₂, b₂ ≥ 0 and b₁ < 0).
        let [a1, a2, b1, b2] = p.basis;
        let u = |v: u128| scalar_from_u128::<C::Scalar>(v, false);
        let b1 = scalar_from_u128::<C::Scalar>(b1.wrapping_neg(), true);
        assert!((u(a1) + b1 * lambda).is_zero());
        assert!((u(a2) + u(b2) * lambda).is_zero());

        // Decomposition: k ≡ k1 + k2·λ and both halves below 2^127.
        let r_minus_1 = (-C::Scalar::ONE).to_canonical();
        let lambda_minus_1 = (lambda - C::Scalar::ONE).to_canonical();
        let mut ks: Vec<[u64; 4]> = vec![
            [0; 4],
            [1, 0, 0, 0],
            r_minus_1,
            p.lambda,
            lambda_minus_1,
            (-lambda).to_canonical(),
            (C::Scalar::ONE.double().inverse().unwrap()).to_canonical(),
            [u64::MAX, u64::MAX, 0, 0],
        ];
        for _ in 0..2000 {
            ks.push(C::Scalar::random_with(&mut next).to_canonical());
        }
        for k in ks {
            let (m1, n1, m2, n2) = decompose(p, &k);
            assert!(m1 < 1u128 << HALF_BITS && m2 < 1u128 << HALF_BITS, "{k:?}");
            let k1 = scalar_from_u128::<C::Scalar>(m1, n1);
            let k2 = scalar_from_u128::<C::Scalar>(m2, n2);
            assert_eq!(
                k1 + k2 * lambda,
                C::Scalar::from_canonical(&k).unwrap(),
                "{k:?}"
            );
        }
        assert_eq!(decompose(p, &[0; 4]), (0, false, 0, false));
        assert_eq!(decompose(p, &[1, 0, 0, 0]), (1, false, 0, false));
        // λ itself splits as (0, 1).
        assert_eq!(decompose(p, &p.lambda), (0, false, 1, false));
    }

    #[test]
    fn bn254_constants_and_decomposition() {
        check_curve::<Bn254G1>(&BN254);
    }

    #[test]
    fn bls12_381_constants_and_decomposition() {
        check_curve::<Bls12_381G1>(&BLS12_381);
    }

    #[test]
    fn bls12_377_constants_and_decomposition() {
        check_curve::<Bls12_377G1>(&BLS12_377);
    }

    #[test]
    fn only_g1_has_params() {
        use zkaccel_backend::curves::Bn254G2;
        assert!(params(Bn254G1::id()).is_some());
        assert!(params(Bn254G2::id()).is_none());
        assert!(beta::<Bn254G2>(&BN254).is_none());
    }
}
