//! Typed conveniences over the erased backend interface.

use crate::backend::{Backend, NttConfig, NttData, NttDomainSpec};
use crate::curve::{CurveGroup, Projective};
use crate::error::{BackendError, BackendResult};
use crate::field::TwoAdicField;
use crate::ids::OpId;
use crate::view::{PointsView, ScalarsView};

/// `Σ scalars[i]·bases[i]` on `backend`, typed.
pub fn msm<C: CurveGroup>(
    backend: &dyn Backend,
    bases: PointsView<'_, C>,
    scalars: ScalarsView<'_, C::Scalar>,
) -> BackendResult<Projective<C>> {
    backend.msm(&bases.raw(), &scalars.raw())?.to_projective()
}

/// One NTT of `data` (all columns) on `backend`, with the field's default root.
pub fn ntt<F: TwoAdicField>(
    backend: &dyn Backend,
    log_n: u32,
    data: &mut [F],
    cfg: &NttConfig,
) -> BackendResult<()> {
    let spec = NttDomainSpec::with_default_root::<F>(log_n).ok_or_else(|| {
        BackendError::unsupported(OpId::Ntt, format!("2^{log_n} exceeds the two-adicity"))
    })?;
    backend
        .ntt_domain(&spec)?
        .ntt(NttData::from_slice(data), cfg)
}
