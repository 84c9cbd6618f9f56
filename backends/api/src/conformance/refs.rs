//! The independent references the suite compares backends against: arkworks 0.5 for the
//! curves and the three pairing scalar fields (`ark-ec`'s `VariableBaseMSM`, `ark-poly`'s
//! `Radix2EvaluationDomain`), Plonky3 0.8 for Goldilocks and BabyBear (`p3-dft`'s
//! `Radix2Dit`).
//!
//! Conversions between our types and theirs are bit copies for the Montgomery fields (through
//! [`crate::ark::ArkField`]) and go through the canonical integer for Goldilocks and BabyBear
//! (our `value()` against Plonky3's `as_canonical_u64`/`as_canonical_u32`).

use crate::ark::{ArkCurve, ArkField};
use crate::backend::NttDirection;
use crate::curve::{Affine, CurveGroup, Projective};
use crate::curves::{Bls12_377Fr, Bls12_381Fr, Bn254Fr};
use crate::field::{BabyBear, Goldilocks, TwoAdicField};
use crate::view::PointsView;
use ark_ec::short_weierstrass::{Affine as SwAffine, Projective as SwProjective, SWCurveConfig};
use ark_ec::CurveConfig;

/// A curve group with an arkworks twin, with the conversions the suite needs written once
/// (so that the generic cases carry a single bound).
pub trait RefCurve: CurveGroup {
    /// arkworks' curve configuration.
    type Cfg: SWCurveConfig;

    /// arkworks' affine point for ours.
    fn to_ark(p: &Affine<Self>) -> SwAffine<Self::Cfg>;
    /// Our affine point for arkworks'.
    fn from_ark(p: &SwAffine<Self::Cfg>) -> Affine<Self>;
    /// arkworks' Jacobian point for ours.
    fn projective_to_ark(p: &Projective<Self>) -> SwProjective<Self::Cfg>;
    /// arkworks' scalar for ours.
    fn scalar_to_ark(s: Self::Scalar) -> <Self::Cfg as CurveConfig>::ScalarField;
    /// Our scalar for arkworks'.
    fn scalar_from_ark(s: <Self::Cfg as CurveConfig>::ScalarField) -> Self::Scalar;
    /// A view of arkworks affine points read in place (flag-byte infinity), when the layout
    /// allows it.
    fn ark_view(points: &[SwAffine<Self::Cfg>]) -> Option<PointsView<'_, Self>>;
}

impl<C> RefCurve for C
where
    C: ArkCurve,
    C::Base: ArkField,
    C::Scalar: ArkField,
{
    type Cfg = <C as ArkCurve>::Config;

    fn to_ark(p: &Affine<Self>) -> SwAffine<Self::Cfg> {
        C::affine_to_ark(p)
    }
    fn from_ark(p: &SwAffine<Self::Cfg>) -> Affine<Self> {
        C::affine_from_ark(p)
    }
    fn projective_to_ark(p: &Projective<Self>) -> SwProjective<Self::Cfg> {
        <C as ArkCurve>::projective_to_ark(p)
    }
    fn scalar_to_ark(s: Self::Scalar) -> <Self::Cfg as CurveConfig>::ScalarField {
        s.to_ark()
    }
    fn scalar_from_ark(s: <Self::Cfg as CurveConfig>::ScalarField) -> Self::Scalar {
        <C::Scalar as ArkField>::from_ark(s)
    }
    fn ark_view(points: &[SwAffine<Self::Cfg>]) -> Option<PointsView<'_, Self>> {
        C::view(points)
    }
}

/// An NTT field with an independent reference transform and root of unity.
pub trait RefNttField: TwoAdicField {
    /// What the reference is (named in failure messages).
    const REFERENCE: &'static str;

    /// The reference library's primitive `2^log_n`-th root of unity.
    fn reference_root(log_n: u32) -> Self;

    /// The reference transform of `cols` columns of `n` elements each, stored one column
    /// after the other (`data[c·n + i]`), natural order in and out. `Forward` evaluates the
    /// columns (as coefficients) on `shift·H`; `Inverse` interpolates them from `shift·H`
    /// (scaled by `1/n`). `shift = None` is the subgroup `H` itself.
    fn reference_ntt(
        data: &[Self],
        n: usize,
        cols: usize,
        direction: NttDirection,
        shift: Option<Self>,
    ) -> Vec<Self>;
}

macro_rules! ark_ntt_field {
    ($ours:ty) => {
        impl RefNttField for $ours {
            const REFERENCE: &'static str = "ark-poly 0.5 Radix2EvaluationDomain";

            fn reference_root(log_n: u32) -> Self {
                use ark_ff::FftField;
                let w = <<$ours as ArkField>::Ark as FftField>::get_root_of_unity(1u64 << log_n)
                    .unwrap_or_else(|| panic!("arkworks has no root of unity of order 2^{log_n}"));
                <$ours as ArkField>::from_ark(w)
            }

            fn reference_ntt(
                data: &[Self],
                n: usize,
                cols: usize,
                direction: NttDirection,
                shift: Option<Self>,
            ) -> Vec<Self> {
                use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
                assert_eq!(data.len(), n * cols, "reference: data length");
                let mut domain = Radix2EvaluationDomain::<<$ours as ArkField>::Ark>::new(n)
                    .unwrap_or_else(|| panic!("arkworks has no domain of size {n}"));
                assert_eq!(domain.size(), n, "reference: domain size");
                if let Some(g) = shift {
                    domain = domain
                        .get_coset(g.to_ark())
                        .expect("coset shift must be invertible");
                }
                let mut out = Vec::with_capacity(data.len());
                for col in data.chunks(n.max(1)) {
                    let mut v: Vec<_> = col.iter().map(|x| x.to_ark()).collect();
                    match direction {
                        NttDirection::Forward => domain.fft_in_place(&mut v),
                        NttDirection::Inverse => domain.ifft_in_place(&mut v),
                    }
                    assert_eq!(v.len(), n, "reference: output length");
                    out.extend(v.into_iter().map(<$ours as ArkField>::from_ark));
                }
                out
            }
        }
    };
}

ark_ntt_field!(Bn254Fr);
ark_ntt_field!(Bls12_381Fr);
ark_ntt_field!(Bls12_377Fr);

/// Plonky3's transform of `cols` columns stored one after the other, through a row-major
/// matrix (`Radix2Dit`, the plain decimation-in-time FFT).
fn p3_ntt<F, P>(
    data: &[F],
    n: usize,
    cols: usize,
    direction: NttDirection,
    shift: Option<F>,
    to_p3: impl Fn(F) -> P,
    from_p3: impl Fn(P) -> F,
) -> Vec<F>
where
    F: Copy,
    P: p3_field::TwoAdicField,
{
    use p3_dft::{Radix2Dit, TwoAdicSubgroupDft};
    use p3_matrix::dense::RowMajorMatrix;
    assert_eq!(data.len(), n * cols, "reference: data length");
    let mut values = Vec::with_capacity(n * cols);
    for i in 0..n {
        for c in 0..cols {
            values.push(to_p3(data[c * n + i]));
        }
    }
    let mat = RowMajorMatrix::new(values, cols);
    let dft = Radix2Dit::<P>::default();
    let out: RowMajorMatrix<P> = match (direction, shift) {
        (NttDirection::Forward, None) => dft.dft_batch(mat),
        (NttDirection::Forward, Some(g)) => dft.coset_dft_batch(mat, to_p3(g)),
        (NttDirection::Inverse, None) => dft.idft_batch(mat),
        (NttDirection::Inverse, Some(g)) => dft.coset_idft_batch(mat, to_p3(g)),
    };
    assert_eq!(out.values.len(), n * cols, "reference: output length");
    let mut res = Vec::with_capacity(n * cols);
    for c in 0..cols {
        for i in 0..n {
            res.push(from_p3(out.values[i * cols + c]));
        }
    }
    res
}

fn gl_to_p3(x: Goldilocks) -> p3_goldilocks::Goldilocks {
    p3_goldilocks::Goldilocks::new(x.value())
}
fn gl_from_p3(x: p3_goldilocks::Goldilocks) -> Goldilocks {
    use p3_field::PrimeField64;
    Goldilocks::new(x.as_canonical_u64())
}
fn bb_to_p3(x: BabyBear) -> p3_baby_bear::BabyBear {
    p3_baby_bear::BabyBear::new(x.value())
}
fn bb_from_p3(x: p3_baby_bear::BabyBear) -> BabyBear {
    use p3_field::PrimeField32;
    BabyBear::new(x.as_canonical_u32())
}

impl RefNttField for Goldilocks {
    const REFERENCE: &'static str = "Plonky3 0.8 p3-dft Radix2Dit";

    fn reference_root(log_n: u32) -> Self {
        use p3_field::TwoAdicField as _;
        gl_from_p3(p3_goldilocks::Goldilocks::two_adic_generator(
            log_n as usize,
        ))
    }

    fn reference_ntt(
        data: &[Self],
        n: usize,
        cols: usize,
        direction: NttDirection,
        shift: Option<Self>,
    ) -> Vec<Self> {
        p3_ntt(data, n, cols, direction, shift, gl_to_p3, gl_from_p3)
    }
}

impl RefNttField for BabyBear {
    const REFERENCE: &'static str = "Plonky3 0.8 p3-dft Radix2Dit";

    fn reference_root(log_n: u32) -> Self {
        use p3_field::TwoAdicField as _;
        bb_from_p3(p3_baby_bear::BabyBear::two_adic_generator(log_n as usize))
    }

    fn reference_ntt(
        data: &[Self],
        n: usize,
        cols: usize,
        direction: NttDirection,
        shift: Option<Self>,
    ) -> Vec<Self> {
        p3_ntt(data, n, cols, direction, shift, bb_to_p3, bb_from_p3)
    }
}
