//! Poseidon and Poseidon2 on the device (placeholder: no hash capability is declared yet).

use crate::device::Ctx;
use zkaccel_backend::hash::HashId;
use zkaccel_backend::{BackendError, BackendResult, HashOp, OpId};

/// The hash instances the device runs.
pub(crate) fn capabilities(ctx: &Ctx) -> Vec<HashId> {
    let _ = ctx;
    Vec::new()
}

/// Runs a hashing operation (lengths already checked by the caller).
pub(crate) fn hash(
    ctx: &Ctx,
    id: HashId,
    op: HashOp,
    input: &[u8],
    output: &mut [u8],
) -> BackendResult<()> {
    let _ = (ctx, op, input, output);
    Err(BackendError::unsupported(
        OpId::Hash,
        format!("{id} on OpenCL (not yet)"),
    ))
}
