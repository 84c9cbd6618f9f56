//! Input validation, done once before dispatch.

use crate::error::{Error, Result};
use crate::msm::PointValidation;
use rayon::prelude::*;
use zkaccel_backend::{CurveGroup, PointsView, PrimeField, ScalarsView};

/// Every scalar below the modulus (whatever its encoding).
pub(crate) fn scalars<F: PrimeField<Limbs = [u64; 4]>>(s: &ScalarsView<'_, F>) -> Result<()> {
    s.check_encoding().map_err(|index| Error::ScalarNotReduced {
        index,
        field: F::ID,
    })
}

/// Coordinates reduced, then on-curve / subgroup checks as asked (in parallel).
pub(crate) fn points<C: CurveGroup>(p: &PointsView<'_, C>, v: PointValidation) -> Result<()> {
    let id = C::id();
    p.check_encoding()
        .map_err(|index| Error::PointNotReduced { index, id })?;
    if v >= PointValidation::OnCurve {
        if let Some(index) = (0..p.len())
            .into_par_iter()
            .with_min_len(1024)
            .find_first(|&i| !p.get(i).is_on_curve())
        {
            return Err(Error::PointNotOnCurve { index, id });
        }
    }
    if v >= PointValidation::Subgroup {
        if let Some(index) = (0..p.len())
            .into_par_iter()
            .with_min_len(16)
            .find_first(|&i| !p.get(i).is_in_subgroup())
        {
            return Err(Error::PointNotInSubgroup { index, id });
        }
    }
    Ok(())
}

/// Every element of an NTT input below the modulus (storage form).
pub(crate) fn elements<F: PrimeField>(data: &[F]) -> Result<()> {
    match data.par_iter().with_min_len(4096).position_first(|x| {
        let limbs = x.to_montgomery();
        F::from_montgomery(&limbs).is_none_or(|y| y != *x)
    }) {
        Some(index) => Err(Error::ElementNotReduced {
            index,
            field: F::ID,
        }),
        None => Ok(()),
    }
}
