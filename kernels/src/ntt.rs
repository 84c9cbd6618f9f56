//! NTT program assembly (placeholder until the NTT kernels land).

use crate::{ProgramSource, Target};
use zkaccel_backend::FieldId;

/// The NTT program for `field`; `None` while the NTT kernels are not written.
pub fn ntt_program(target: Target, field: FieldId) -> Option<ProgramSource> {
    let _ = (target, field);
    None
}
