//! Interoperability with arkworks 0.5 (feature `ark05`) and 0.6 (feature `ark06`).
//!
//! arkworks keeps field elements in Montgomery form with `R = 2^(64·N)` as a plain `[u64; N]`,
//! exactly like our [`crate::field::Fp`], so conversions are bit copies. Its affine points are
//! `{ x, y, infinity: bool }`; when the compiler lays that struct out as `x, y, flag` (checked
//! at compile time with `offset_of!`), [`ArkCurve::view`] reads a slice of them in place
//! through a [`PointsView`] with a flag byte, copying nothing. Otherwise the points are
//! converted. arkworks 0.6 made the flag field private, so 0.6 points are always converted
//! (field elements still convert by bit copy).

use crate::curve::{Affine, CurveGroup, Projective};
use crate::field::{Fp2, PrimeField};
use crate::view::{Encoding, Infinity, PointsView, RawPoints};

macro_rules! ark_interop {
    ($modname:ident, $field_trait:ident, $curve_trait:ident, $ff:ident, $ec:ident, $bn:ident, $b381:ident, $b377:ident, flag_offset = $flag:expr) => {
        #[doc = concat!("Conversions for `", stringify!($ff), "` (", stringify!($modname), ").")]
        pub mod $modname {
            use super::{
                Affine, CurveGroup, Encoding, Fp2, Infinity, PointsView, PrimeField, Projective,
                RawPoints,
            };
            use $ec::short_weierstrass as sw;

            /// A field type with an arkworks twin of identical memory layout.
            pub trait $field_trait: Sized + Copy {
                /// The arkworks type.
                type Ark: Copy;
                /// To arkworks (a bit copy).
                fn to_ark(self) -> Self::Ark;
                /// From arkworks (a bit copy).
                fn from_ark(a: Self::Ark) -> Self;
            }

            macro_rules! prime {
                ($ours:ty, $theirs:ty, $n:literal) => {
                    impl $field_trait for $ours {
                        type Ark = $theirs;
                        #[inline(always)]
                        fn to_ark(self) -> $theirs {
                            $ff::Fp(
                                $ff::BigInt::<$n>(self.to_montgomery()),
                                core::marker::PhantomData,
                            )
                        }
                        #[inline(always)]
                        fn from_ark(a: $theirs) -> Self {
                            // arkworks keeps its elements reduced, so this cannot fail.
                            <$ours as PrimeField>::from_montgomery(&(a.0).0).unwrap_or_default()
                        }
                    }
                };
            }
            prime!(crate::curves::Bn254Fr, $bn::Fr, 4);
            prime!(crate::curves::Bn254Fq, $bn::Fq, 4);
            prime!(crate::curves::Bls12_381Fr, $b381::Fr, 4);
            prime!(crate::curves::Bls12_381Fq, $b381::Fq, 6);
            prime!(crate::curves::Bls12_377Fr, $b377::Fr, 4);
            prime!(crate::curves::Bls12_377Fq, $b377::Fq, 6);

            macro_rules! quadratic {
                ($base:ty, $theirs:ty) => {
                    impl $field_trait for Fp2<$base> {
                        type Ark = $theirs;
                        fn to_ark(self) -> $theirs {
                            <$theirs>::new(self.c0.to_ark(), self.c1.to_ark())
                        }
                        fn from_ark(a: $theirs) -> Self {
                            Fp2::new(<$base>::from_ark(a.c0), <$base>::from_ark(a.c1))
                        }
                    }
                };
            }
            quadratic!(crate::curves::Bn254Fq, $bn::Fq2);
            quadratic!(crate::curves::Bls12_381Fq, $b381::Fq2);

            /// A curve group with an arkworks twin.
            pub trait $curve_trait: CurveGroup
            where
                Self::Base: $field_trait,
                Self::Scalar: $field_trait,
            {
                /// arkworks' curve configuration.
                type Config: sw::SWCurveConfig<
                    BaseField = <Self::Base as $field_trait>::Ark,
                    ScalarField = <Self::Scalar as $field_trait>::Ark,
                >;

                /// True when arkworks' `Affine` is laid out as `x, y, flag` with our coordinate
                /// layout, so that slices of it can be read in place.
                const IN_PLACE: bool = {
                    use core::mem::{offset_of, size_of};
                    let coord = size_of::<Self::Base>();
                    size_of::<<Self::Base as $field_trait>::Ark>() == coord
                        && offset_of!(sw::Affine<Self::Config>, x) == 0
                        && offset_of!(sw::Affine<Self::Config>, y) == coord
                        && $flag != usize::MAX
                        && $flag >= 2 * coord
                        && size_of::<bool>() == 1
                };

                /// Our affine point from arkworks'.
                fn affine_from_ark(p: &sw::Affine<Self::Config>) -> Affine<Self> {
                    // arkworks' identity has x = y = 0 (and its flag set); (0, 0) is on none of
                    // these curves, so zero coordinates identify it without the flag, which
                    // arkworks 0.6 keeps private.
                    let a = Affine::new(Self::Base::from_ark(p.x), Self::Base::from_ark(p.y));
                    if a.is_identity() {
                        Affine::IDENTITY
                    } else {
                        a
                    }
                }

                /// arkworks' affine point from ours.
                fn affine_to_ark(p: &Affine<Self>) -> sw::Affine<Self::Config> {
                    if p.is_identity() {
                        sw::Affine::identity()
                    } else {
                        sw::Affine::new_unchecked(p.x.to_ark(), p.y.to_ark())
                    }
                }

                /// Our Jacobian point from arkworks' (the same coordinates).
                fn projective_from_ark(p: &sw::Projective<Self::Config>) -> Projective<Self> {
                    Projective {
                        x: Self::Base::from_ark(p.x),
                        y: Self::Base::from_ark(p.y),
                        z: Self::Base::from_ark(p.z),
                    }
                }

                /// arkworks' Jacobian point from ours.
                fn projective_to_ark(p: &Projective<Self>) -> sw::Projective<Self::Config> {
                    if p.is_identity() {
                        return sw::Projective::default();
                    }
                    sw::Projective::new_unchecked(p.x.to_ark(), p.y.to_ark(), p.z.to_ark())
                }

                /// A view of arkworks affine points, in place when [`Self::IN_PLACE`],
                /// otherwise `None` (convert with [`Self::affine_from_ark`]).
                fn view(points: &[sw::Affine<Self::Config>]) -> Option<PointsView<'_, Self>> {
                    if !Self::IN_PLACE {
                        return None;
                    }
                    let stride = core::mem::size_of::<sw::Affine<Self::Config>>();
                    let offset = $flag;
                    // SAFETY: we only hand out a byte view covering the points' memory; the
                    // view reads the coordinates (plain limb arrays, initialized) and the flag
                    // byte (an initialized `bool`), never the padding between them.
                    let bytes = unsafe {
                        core::slice::from_raw_parts(
                            points.as_ptr().cast::<u8>(),
                            core::mem::size_of_val(points),
                        )
                    };
                    let raw = RawPoints::new(
                        Self::id(),
                        bytes,
                        points.len(),
                        stride,
                        Infinity::FlagByte { offset },
                        Encoding::Montgomery,
                    )
                    .ok()?;
                    raw.typed::<Self>().ok()
                }
            }

            impl $curve_trait for crate::curves::Bn254G1 {
                type Config = $bn::g1::Config;
            }
            impl $curve_trait for crate::curves::Bn254G2 {
                type Config = $bn::g2::Config;
            }
            impl $curve_trait for crate::curves::Bls12_381G1 {
                type Config = $b381::g1::Config;
            }
            impl $curve_trait for crate::curves::Bls12_381G2 {
                type Config = $b381::g2::Config;
            }
            impl $curve_trait for crate::curves::Bls12_377G1 {
                type Config = $b377::g1::Config;
            }
        }
    };
}

#[cfg(feature = "ark05")]
ark_interop!(
    v05,
    ArkField,
    ArkCurve,
    ark_ff,
    ark_ec,
    ark_bn254,
    ark_bls12_381,
    ark_bls12_377,
    flag_offset = core::mem::offset_of!(ark_ec::short_weierstrass::Affine<Self::Config>, infinity)
);
#[cfg(feature = "ark06")]
ark_interop!(
    v06,
    Ark06Field,
    Ark06Curve,
    ark_ff_06,
    ark_ec_06,
    ark_bn254_06,
    ark_bls12_381_06,
    ark_bls12_377_06,
    // arkworks 0.6 made the flag private: its points are converted, never read in place.
    flag_offset = usize::MAX
);

#[cfg(feature = "ark05")]
pub use v05::{ArkCurve, ArkField};
#[cfg(feature = "ark06")]
pub use v06::{Ark06Curve, Ark06Field};
