//! NTT on the device (placeholder: no NTT capability is declared yet).

use crate::device::Ctx;
use std::sync::Arc;
use zkaccel_backend::{
    BackendError, BackendNttDomain, BackendResult, NttCapability, NttDomainSpec, OpId,
};

/// The NTT capabilities of the device.
pub(crate) fn capabilities(ctx: &Ctx) -> Vec<NttCapability> {
    let _ = ctx;
    Vec::new()
}

/// Builds an NTT domain on the device.
pub(crate) fn domain(
    ctx: &Arc<Ctx>,
    spec: &NttDomainSpec,
) -> BackendResult<Arc<dyn BackendNttDomain>> {
    let _ = ctx;
    Err(BackendError::unsupported(
        OpId::Ntt,
        format!("{} on OpenCL (not yet)", spec.field),
    ))
}
