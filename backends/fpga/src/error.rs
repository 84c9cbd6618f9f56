//! The FPGA driver's errors, and how they map onto [`BackendError`].

use zkaccel_backend::BackendError;

/// What went wrong while opening or driving an FPGA image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FpgaError {
    /// The transport cannot be used here (no Verilator at build time, no device node);
    /// not an error of the device, just its absence.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The manifest file could not be read or parsed.
    #[error("manifest {path}: {detail}")]
    ManifestInvalid {
        /// Where the manifest came from.
        path: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A manifest field disagrees with what the image reports in its registers.
    #[error(
        "image refused: manifest says {field} = {manifest}, the image reports {device} \
         (wrong image loaded, or a tampered manifest)"
    )]
    ManifestMismatch {
        /// The field (`image_id`, `register_map_version`, `pipeline_depth`, ...).
        field: String,
        /// The manifest's value.
        manifest: String,
        /// The device's value.
        device: String,
    },
    /// An RTL source (or the bitstream artifact) does not have the SHA-256 the manifest
    /// records.
    #[error(
        "image refused: {file} has sha256 {actual} but the manifest records {manifest} \
         (the RTL or artifact changed without a new manifest, or one was tampered with)"
    )]
    ChecksumMismatch {
        /// The file.
        file: String,
        /// The digest in the manifest.
        manifest: String,
        /// The digest of the file (or of the source the simulator was built from).
        actual: String,
    },
    /// A device file operation failed.
    #[error("{op} {path}: {detail}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The device node or file.
        path: String,
        /// The OS error.
        detail: String,
    },
    /// The engine did not raise `ap_done` in time.
    #[error("the engine did not finish within {limit}")]
    Timeout {
        /// The limit (cycles for the simulator, milliseconds for a card).
        limit: String,
    },
    /// The engine answered with something the protocol does not allow.
    #[error("protocol violation: {0}")]
    Protocol(String),
}

impl From<FpgaError> for BackendError {
    fn from(e: FpgaError) -> Self {
        match e {
            FpgaError::Timeout { limit } => BackendError::Launch {
                kernel: "zkaccel_msm_bn254".into(),
                detail: format!("timed out after {limit}"),
            },
            FpgaError::Io { .. } | FpgaError::Protocol(_) => {
                BackendError::DeviceLost(e.to_string())
            }
            other => BackendError::Other(other.to_string()),
        }
    }
}

/// Result alias for the driver.
pub type FpgaResult<T> = Result<T, FpgaError>;
