//! MSM and NTT on arkworks 0.5 slices.
//!
//! arkworks field elements are `[u64; N]` in Montgomery form with our `R`, so slices of them
//! are reinterpreted in place (the sizes and alignments are checked at compile time); affine
//! points are read in place through a flag-byte view when their layout allows
//! ([`ArkCurve::IN_PLACE`]), and converted otherwise.

//!
//! arkworks 0.6 (feature `ark06`) gets the same methods with an `06` suffix
//! (`msm_ark06`, `forward_ark06`, …); its points are always converted (0.6 keeps the
//! infinity flag private), its field elements are still read in place.

macro_rules! ark_api {
    ($modname:ident, $ec:ident, $curve_trait:ident, $field_trait:ident,
     $msm:ident, $bases:ident, $bases_msm:ident, $run:ident, $fwd:ident, $inv:ident) => {
        mod $modname {
            use crate::error::Result;
            use crate::msm::{MsmBases, MsmOptions};
            use crate::ntt::NttDomain;
            use crate::registry::Runtime;
            use $ec::short_weierstrass as sw;
            use zkaccel_backend::ark::{$curve_trait as ArkCurve, $field_trait as ArkField};
            use zkaccel_backend::{NttConfig, PointsView, ScalarsView, TwoAdicField};

            /// `&[F::Ark]` as `&[F]`: the same bits (Montgomery limbs) when the layouts agree.
            fn cast_slice<F: ArkField + Copy>(s: &[F::Ark]) -> Option<&[F]> {
                use core::mem::{align_of, size_of};
                if size_of::<F::Ark>() != size_of::<F>() || align_of::<F::Ark>() != align_of::<F>()
                {
                    return None;
                }
                // SAFETY: same size and alignment; an arkworks prime-field element is a single
                // `[u64; N]` Montgomery integer (plus a zero-sized marker), which is exactly our
                // representation, and every bit pattern is a valid value of our Pod type.
                Some(unsafe { core::slice::from_raw_parts(s.as_ptr().cast(), s.len()) })
            }

            fn cast_slice_mut<F: ArkField + Copy>(s: &mut [F::Ark]) -> Option<&mut [F]> {
                use core::mem::{align_of, size_of};
                if size_of::<F::Ark>() != size_of::<F>() || align_of::<F::Ark>() != align_of::<F>()
                {
                    return None;
                }
                // SAFETY: as in `cast_slice`; the borrow is unique for its lifetime, and every value we
                // write back is a reduced Montgomery integer, which arkworks reads as the same element.
                Some(unsafe { core::slice::from_raw_parts_mut(s.as_mut_ptr().cast(), s.len()) })
            }

            impl Runtime {
                /// `Σ scalars[i]·bases[i]` on arkworks types, reading both slices in place when the
                /// layouts allow (they do for arkworks 0.5 on every supported target).
                pub fn $msm<C>(
                    &self,
                    bases: &[sw::Affine<C::Config>],
                    scalars: &[<C::Scalar as ArkField>::Ark],
                ) -> Result<sw::Projective<C::Config>>
                where
                    C: ArkCurve,
                    C::Base: ArkField,
                    C::Scalar: ArkField,
                {
                    let converted_scalars;
                    let s: &[C::Scalar] = match cast_slice::<C::Scalar>(scalars) {
                        Some(s) => s,
                        None => {
                            converted_scalars = scalars
                                .iter()
                                .map(|x| C::Scalar::from_ark(*x))
                                .collect::<Vec<_>>();
                            &converted_scalars
                        }
                    };
                    let converted_bases;
                    let b = match C::view(bases) {
                        Some(v) => v,
                        None => {
                            converted_bases =
                                bases.iter().map(C::affine_from_ark).collect::<Vec<_>>();
                            PointsView::from_affine(&converted_bases)
                        }
                    };
                    let (p, _) = self.msm_view::<C>(
                        b,
                        ScalarsView::from_elements(s),
                        &MsmOptions::default(),
                    )?;
                    Ok(C::projective_to_ark(&p))
                }

                /// A bases handle from arkworks points.
                pub fn $bases<C>(&self, bases: &[sw::Affine<C::Config>]) -> Result<MsmBases<C>>
                where
                    C: ArkCurve,
                    C::Base: ArkField,
                    C::Scalar: ArkField,
                {
                    match C::view(bases) {
                        Some(v) => self.msm_bases(v, &MsmOptions::default()),
                        None => {
                            let pts: Vec<_> = bases.iter().map(C::affine_from_ark).collect();
                            self.msm_bases(PointsView::from_affine(&pts), &MsmOptions::default())
                        }
                    }
                }
            }

            impl<C> MsmBases<C>
            where
                C: ArkCurve,
                C::Base: ArkField,
                C::Scalar: ArkField,
            {
                /// MSM over the first `scalars.len()` bases, with arkworks scalars and result.
                pub fn $bases_msm(
                    &self,
                    scalars: &[<C::Scalar as ArkField>::Ark],
                ) -> Result<sw::Projective<C::Config>> {
                    let p = match cast_slice::<C::Scalar>(scalars) {
                        Some(s) => self.msm(s)?,
                        None => {
                            let s: Vec<_> =
                                scalars.iter().map(|x| C::Scalar::from_ark(*x)).collect();
                            self.msm(&s)?
                        }
                    };
                    Ok(C::projective_to_ark(&p))
                }
            }

            impl<F: TwoAdicField + ArkField> NttDomain<F> {
                /// Runs `cfg` over arkworks field elements, in place.
                pub fn $run(&self, data: &mut [F::Ark], cfg: &NttConfig) -> Result<()> {
                    match cast_slice_mut::<F>(data) {
                        Some(d) => self.run(d, cfg).map(|_| ()),
                        None => {
                            let mut v: Vec<F> = data.iter().map(|x| F::from_ark(*x)).collect();
                            self.run(&mut v, cfg)?;
                            for (o, x) in data.iter_mut().zip(v) {
                                *o = x.to_ark();
                            }
                            Ok(())
                        }
                    }
                }

                /// Forward transform of arkworks elements (natural order, contiguous columns).
                pub fn $fwd(&self, data: &mut [F::Ark]) -> Result<()> {
                    match cast_slice_mut::<F>(data) {
                        Some(d) => self.forward(d),
                        None => self.$run(data, &NttConfig::default()),
                    }
                }

                /// Inverse transform of arkworks elements (natural order, contiguous columns).
                pub fn $inv(&self, data: &mut [F::Ark]) -> Result<()> {
                    match cast_slice_mut::<F>(data) {
                        Some(d) => self.inverse(d),
                        None => self.$run(
                            data,
                            &NttConfig {
                                direction: zkaccel_backend::NttDirection::Inverse,
                                ..NttConfig::default()
                            },
                        ),
                    }
                }
            }
        }
    };
}

#[cfg(feature = "ark05")]
ark_api!(
    v05,
    ark_ec,
    ArkCurve,
    ArkField,
    msm_ark,
    msm_bases_ark,
    msm_ark,
    run_ark,
    forward_ark,
    inverse_ark
);
#[cfg(feature = "ark06")]
ark_api!(
    v06,
    ark_ec_06,
    Ark06Curve,
    Ark06Field,
    msm_ark06,
    msm_bases_ark06,
    msm_ark06,
    run_ark06,
    forward_ark06,
    inverse_ark06
);
