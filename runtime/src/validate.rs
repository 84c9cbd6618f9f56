//! Input validation, done once before dispatch.

use crate::error::{Error, Result};
use crate::msm::PointValidation;
use core::ops::Range;
use rayon::prelude::*;
use zkaccel_backend::{CurveGroup, PointsView, PrimeField, ScalarsView};

/// Inputs per task of the range checks: a few microseconds of comparisons each.
const CHECK_CHUNK: usize = 1 << 14;

/// The first index in `0..len` at which `check(range)` fails, the ranges checked in parallel
/// (the range checks run before every call, so they must not be a serial pass).
fn first_bad(
    len: usize,
    check: impl Fn(Range<usize>) -> core::result::Result<(), usize> + Sync,
) -> Option<usize> {
    (0..len.div_ceil(CHECK_CHUNK))
        .into_par_iter()
        .find_map_first(|c| check(c * CHECK_CHUNK..((c + 1) * CHECK_CHUNK).min(len)).err())
}

/// Every scalar below the modulus (whatever its encoding).
pub(crate) fn scalars<F: PrimeField<Limbs = [u64; 4]>>(s: &ScalarsView<'_, F>) -> Result<()> {
    match first_bad(s.len(), |r| s.check_encoding_in(r)) {
        Some(index) => Err(Error::ScalarNotReduced {
            index,
            field: F::ID,
        }),
        None => Ok(()),
    }
}

/// Coordinates reduced, then on-curve / subgroup checks as asked (in parallel).
pub(crate) fn points<C: CurveGroup>(p: &PointsView<'_, C>, v: PointValidation) -> Result<()> {
    let id = C::id();
    if let Some(index) = first_bad(p.len(), |r| p.check_encoding_in(r)) {
        return Err(Error::PointNotReduced { index, id });
    }
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
    // A plain loop per chunk: rayon's `position_first` pays its bookkeeping per element,
    // which (with a Montgomery round trip per element, before) made this check cost as much
    // as a small-field transform.
    let bad = first_bad(data.len(), |r| {
        let start = r.start;
        match data[r].iter().position(|x| !x.is_reduced()) {
            Some(i) => Err(start + i),
            None => Ok(()),
        }
    });
    match bad {
        Some(index) => Err(Error::ElementNotReduced {
            index,
            field: F::ID,
        }),
        None => Ok(()),
    }
}
