//! Errors a backend reports: only what the caller could not have foreseen.
//!
//! Input validation is the runtime's job and happens once, before dispatch; a backend that is
//! handed valid input fails only because of its device (lost, out of memory, a kernel that
//! does not compile or launch, a timeout) or because it does not support what was asked. The
//! dispatcher falls back to the next capable backend on every one of these.

use crate::ids::OpId;

/// What went wrong inside a backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The backend does not implement this operation, curve, field or size.
    #[error("{op} is not supported by this backend: {detail}")]
    Unsupported {
        /// The operation asked for.
        op: OpId,
        /// What exactly is missing.
        detail: String,
    },
    /// The device ran out of memory.
    #[error("out of device memory: {requested} bytes requested ({detail})")]
    OutOfMemory {
        /// Bytes the failing allocation asked for.
        requested: u64,
        /// Context.
        detail: String,
    },
    /// The device stopped answering or was reset.
    #[error("device lost: {0}")]
    DeviceLost(String),
    /// A kernel failed to compile; the compiler log is attached.
    #[error("kernel '{kernel}' failed to compile:\n{log}")]
    Compile {
        /// Kernel (or program) name.
        kernel: String,
        /// The compiler's log.
        log: String,
    },
    /// A kernel failed to launch or to run.
    #[error("kernel '{kernel}' failed: {detail}")]
    Launch {
        /// Kernel name.
        kernel: String,
        /// Driver message.
        detail: String,
    },
    /// The operation did not finish in time.
    #[error("timed out after {millis} ms")]
    Timeout {
        /// Milliseconds waited.
        millis: u64,
    },
    /// The data handed over does not have the layout the backend was promised (a bug in
    /// the caller of the backend, normally the runtime).
    #[error("bad backend input: {0}")]
    BadInput(String),
    /// Anything else; the message says what.
    #[error("backend failure: {0}")]
    Other(String),
}

impl BackendError {
    /// Shorthand for [`BackendError::Unsupported`].
    pub fn unsupported(op: OpId, detail: impl Into<String>) -> Self {
        BackendError::Unsupported {
            op,
            detail: detail.into(),
        }
    }
}

/// Result alias for backend calls.
pub type BackendResult<T> = Result<T, BackendError>;
