//! The concrete fields and curves: each is described once by its parameters.
//!
//! Moduli, generators and curve coefficients are the published ones (EIP-196/197 for BN254,
//! the IETF pairing-friendly-curves draft for BLS12-381, Zexe/arkworks for BLS12-377);
//! multiplicative generators follow arkworks (5, 7, 22) so that default roots of unity agree.

use crate::curve::{Affine, CurveGroup};
use crate::field::{Fp, Fp2, FpParams};
use crate::ids::{CurveId, FieldId, GroupId};

macro_rules! fp_params {
    ($(#[$m:meta])* $params:ident, $elem:ident, $n:literal, $id:expr, $modulus:literal, $gen:literal, $adicity:literal) => {
        #[doc = concat!("Parameters of [`", stringify!($elem), "`].")]
        #[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $params;
        impl FpParams<$n> for $params {
            const ID: FieldId = $id;
            const MODULUS: [u64; $n] = crate::field::limbs::parse($modulus);
            const GENERATOR: u64 = $gen;
            const TWO_ADICITY: u32 = $adicity;
        }
        $(#[$m])*
        pub type $elem = Fp<$params, $n>;
    };
}

fp_params!(
    /// BN254 base field `q`.
    Bn254FqParams, Bn254Fq, 4, FieldId::Bn254Fq,
    "21888242871839275222246405745257275088696311157297823662689037894645226208583", 3, 1
);
fp_params!(
    /// BN254 scalar field `r`.
    Bn254FrParams, Bn254Fr, 4, FieldId::Bn254Fr,
    "21888242871839275222246405745257275088548364400416034343698204186575808495617", 5, 28
);
fp_params!(
    /// BLS12-381 base field.
    Bls12_381FqParams, Bls12_381Fq, 6, FieldId::Bls12_381Fq,
    "0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab", 2, 1
);
fp_params!(
    /// BLS12-381 scalar field.
    Bls12_381FrParams, Bls12_381Fr, 4, FieldId::Bls12_381Fr,
    "0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 7, 32
);
fp_params!(
    /// BLS12-377 base field.
    Bls12_377FqParams, Bls12_377Fq, 6, FieldId::Bls12_377Fq,
    "0x01ae3a4617c510eac63b05c06ca1493b1a22d9f300f5138f1ef3622fba094800170b5d44300000008508c00000000001", 15, 46
);
fp_params!(
    /// BLS12-377 scalar field.
    Bls12_377FrParams, Bls12_377Fr, 4, FieldId::Bls12_377Fr,
    "0x12ab655e9a2ca55660b44d1e5c37b00159aa76fed00000010a11800000000001", 22, 47
);

/// BN254 `F_q²` with `u² = −1`.
pub type Bn254Fq2 = Fp2<Bn254Fq>;
/// BLS12-381 `F_p²` with `u² = −1`.
pub type Bls12_381Fq2 = Fp2<Bls12_381Fq>;

macro_rules! curve {
    ($(#[$m:meta])* $name:ident, $curve:expr, $group:expr, $base:ty, $prime:ty, $scalar:ty, $deg:literal, b = $b:expr, g = ($gx:expr, $gy:expr)) => {
        $(#[$m])*
        #[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name;
        impl CurveGroup for $name {
            type Base = $base;
            type BasePrime = $prime;
            type Scalar = $scalar;
            const CURVE: CurveId = $curve;
            const GROUP: GroupId = $group;
            const B: $base = $b;
            const GENERATOR: Affine<Self> = Affine::new($gx, $gy);
            const EXTENSION_DEGREE: usize = $deg;
        }
    };
}

const fn fq(s: &str) -> Bn254Fq {
    Bn254Fq::from_str_const(s)
}
const fn fq381(s: &str) -> Bls12_381Fq {
    Bls12_381Fq::from_str_const(s)
}
const fn fq377(s: &str) -> Bls12_377Fq {
    Bls12_377Fq::from_str_const(s)
}

curve!(
    /// BN254 G1: `y² = x³ + 3` over `F_q`, generator `(1, 2)`.
    Bn254G1, CurveId::Bn254, GroupId::G1, Bn254Fq, Bn254Fq, Bn254Fr, 1,
    b = fq("3"),
    g = (fq("1"), fq("2"))
);

curve!(
    /// BN254 G2: the sextic twist `y² = x³ + 3/(9 + u)` over `F_q²`.
    Bn254G2, CurveId::Bn254, GroupId::G2, Bn254Fq2, Bn254Fq, Bn254Fr, 2,
    b = Fp2::new(
        fq("19485874751759354771024239261021720505790618469301721065564631296452457478373"),
        fq("266929791119991161246907387137283842545076965332900288569378510910307636690")
    ),
    g = (
        Fp2::new(
            fq("10857046999023057135944570762232829481370756359578518086990519993285655852781"),
            fq("11559732032986387107991004021392285783925812861821192530917403151452391805634")
        ),
        Fp2::new(
            fq("8495653923123431417604973247489272438418190587263600148770280649306958101930"),
            fq("4082367875863433681332203403145435568316851327593401208105741076214120093531")
        )
    )
);

curve!(
    /// BLS12-381 G1: `y² = x³ + 4` over `F_p`.
    Bls12_381G1, CurveId::Bls12_381, GroupId::G1, Bls12_381Fq, Bls12_381Fq, Bls12_381Fr, 1,
    b = fq381("4"),
    g = (
        fq381("0x17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"),
        fq381("0x08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1")
    )
);

curve!(
    /// BLS12-381 G2: `y² = x³ + 4(1 + u)` over `F_p²`.
    Bls12_381G2, CurveId::Bls12_381, GroupId::G2, Bls12_381Fq2, Bls12_381Fq, Bls12_381Fr, 2,
    b = Fp2::new(fq381("4"), fq381("4")),
    g = (
        Fp2::new(
            fq381("0x024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8"),
            fq381("0x13e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e")
        ),
        Fp2::new(
            fq381("0x0ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801"),
            fq381("0x0606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be")
        )
    )
);

curve!(
    /// BLS12-377 G1: `y² = x³ + 1` over `F_q`.
    Bls12_377G1, CurveId::Bls12_377, GroupId::G1, Bls12_377Fq, Bls12_377Fq, Bls12_377Fr, 1,
    b = fq377("1"),
    g = (
        fq377("0x008848defe740a67c8fc6225bf87ff5485951e2caa9d41bb188282c8bd37cb5cd5481512ffcd394eeab9b16eb21be9ef"),
        fq377("0x01914a69c5102eff1f674f5d30afeec4bd7fb348ca3e52d96d182ad44fb82305c2fe3d3634a9591afd82de55559c8ea6")
    )
);

/// Expands `$body` once with `$C` bound to the static curve type for a run-time
/// [`crate::ids::CurveGroupId`]; evaluates `$unknown` for a pair without a type. This is the
/// one place that maps ids to types: a new curve is one more line here.
#[macro_export]
macro_rules! with_curve_group {
    ($id:expr, |$C:ident| $body:expr, $unknown:expr) => {{
        use $crate::ids::{CurveId as __C, GroupId as __G};
        match ($id.curve, $id.group) {
            (__C::Bn254, __G::G1) => {
                type $C = $crate::curves::Bn254G1;
                $body
            }
            (__C::Bn254, __G::G2) => {
                type $C = $crate::curves::Bn254G2;
                $body
            }
            (__C::Bls12_381, __G::G1) => {
                type $C = $crate::curves::Bls12_381G1;
                $body
            }
            (__C::Bls12_381, __G::G2) => {
                type $C = $crate::curves::Bls12_381G2;
                $body
            }
            (__C::Bls12_377, __G::G1) => {
                type $C = $crate::curves::Bls12_377G1;
                $body
            }
            #[allow(unreachable_patterns)]
            _ => $unknown,
        }
    }};
}

/// Expands `$body` with `$F` bound to the static type of an NTT field id
/// ([`crate::ids::FieldId::is_ntt_field`]); evaluates `$other` for the base fields.
#[macro_export]
macro_rules! with_ntt_field {
    ($id:expr, |$F:ident| $body:expr, $other:expr) => {{
        use $crate::ids::FieldId as __F;
        match $id {
            __F::Bn254Fr => {
                type $F = $crate::curves::Bn254Fr;
                $body
            }
            __F::Bls12_381Fr => {
                type $F = $crate::curves::Bls12_381Fr;
                $body
            }
            __F::Bls12_377Fr => {
                type $F = $crate::curves::Bls12_377Fr;
                $body
            }
            __F::Goldilocks => {
                type $F = $crate::field::Goldilocks;
                $body
            }
            __F::BabyBear => {
                type $F = $crate::field::BabyBear;
                $body
            }
            #[allow(unreachable_patterns)]
            _ => $other,
        }
    }};
}

/// Expands `$body` with `$F` bound to the static type of any prime field id.
#[macro_export]
macro_rules! with_prime_field {
    ($id:expr, |$F:ident| $body:expr) => {{
        use $crate::ids::FieldId as __F;
        match $id {
            __F::Bn254Fq => {
                type $F = $crate::curves::Bn254Fq;
                $body
            }
            __F::Bls12_381Fq => {
                type $F = $crate::curves::Bls12_381Fq;
                $body
            }
            __F::Bls12_377Fq => {
                type $F = $crate::curves::Bls12_377Fq;
                $body
            }
            other => $crate::with_ntt_field!(other, |$F| $body, unreachable!()),
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::Projective;
    use crate::field::{PrimeField, TwoAdicField};

    fn check_curve<C: CurveGroup>() {
        let g = C::GENERATOR;
        assert!(g.is_on_curve(), "{:?} generator off curve", C::id());
        assert!(
            g.is_in_subgroup(),
            "{:?} generator not in subgroup",
            C::id()
        );
        let gp = Projective::<C>::from(g);
        let two = gp.double();
        assert_eq!(gp.add(&gp), two);
        assert_eq!(gp.add_affine(&g), two);
        let three = two.add(&gp);
        assert_eq!(three.to_affine(), two.add_affine(&g).to_affine());
        assert!(three.add(&three.neg()).is_identity());
        let mut acc = crate::curve::Xyzz::<C>::IDENTITY;
        acc.add_affine_assign(&g);
        acc.add_affine_assign(&g);
        acc.add_affine_assign(&g);
        assert_eq!(acc.to_projective(), three);
        acc.sub_affine_assign(&g);
        assert_eq!(acc.to_projective(), two);
        let mut d = acc;
        d.add_assign(&acc);
        assert_eq!(d.to_projective(), two.double());
        assert_eq!(acc.double().to_projective(), two.double());
        let five = Projective::<C>::generator().mul(&C::Scalar::from_u64(5));
        assert_eq!(five, two.double().add(&gp));
    }

    #[test]
    fn curves_are_consistent() {
        check_curve::<Bn254G1>();
        check_curve::<Bn254G2>();
        check_curve::<Bls12_381G1>();
        check_curve::<Bls12_381G2>();
        check_curve::<Bls12_377G1>();
    }

    fn check_field<F: TwoAdicField>() {
        let a = F::from_u64(123456789);
        let b = F::from_u64(987654321);
        assert_eq!(a * b, F::from_u64(123456789 * 987654321));
        assert_eq!(a * a.inverse().unwrap(), F::ONE);
        assert_eq!(F::from_canonical(&a.to_canonical()), Some(a));
        assert_eq!(F::from_montgomery(&a.to_montgomery()), Some(a));
        assert!(F::from_canonical(&F::modulus()).is_none());
        let w = F::max_two_adic_root();
        let half = w.pow(&[1u64 << (F::TWO_ADICITY - 1)]);
        assert_eq!(half, -F::ONE);
    }

    #[test]
    fn fields_are_consistent() {
        check_field::<Bn254Fr>();
        check_field::<Bls12_381Fr>();
        check_field::<Bls12_377Fr>();
        check_field::<crate::field::Goldilocks>();
        check_field::<crate::field::BabyBear>();
        let w = Bn254Fr::two_adic_root(28).unwrap();
        assert_eq!(
            w,
            Bn254Fr::from_str_const(
                "19103219067921713944291392827692070036145651957329286315305642004821462161904"
            )
        );
    }
}
