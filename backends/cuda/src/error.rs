//! CUDA driver results mapped to [`BackendError`], so that the dispatcher can tell an
//! exhausted device (fall back elsewhere) from a broken one.
//!
//! - `CUDA_ERROR_OUT_OF_MEMORY` → [`BackendError::OutOfMemory`];
//! - the "sticky" errors after which the context is unusable (illegal address, launch
//!   failure, a kernel stopped by the display watchdog, ECC, ...) and a missing or
//!   unavailable device → [`BackendError::DeviceLost`];
//! - images the driver refuses (bad PTX, PTX newer than the driver, no code for this GPU)
//!   → [`BackendError::Compile`];
//! - anything else → [`BackendError::Launch`] naming the kernel or the operation.

use cudarc::driver::sys::CUresult;
use cudarc::driver::DriverError;
use zkaccel_backend::BackendError;

/// The driver's name for a result, e.g. `CUDA_ERROR_OUT_OF_MEMORY`.
pub fn code_name(code: CUresult) -> String {
    format!("{code:?}")
}

/// Maps a failed driver call. `what` says what was being done (a kernel name, "upload of N
/// bytes", ...); `bytes` is the size of the allocation or transfer involved, if any.
pub(crate) fn map(err: DriverError, what: &str, bytes: u64) -> BackendError {
    use CUresult as R;
    let code = err.0;
    let detail = format!("{what}: {}", code_name(code));
    match code {
        R::CUDA_ERROR_OUT_OF_MEMORY => BackendError::OutOfMemory {
            requested: bytes,
            detail,
        },
        R::CUDA_ERROR_ILLEGAL_ADDRESS
        | R::CUDA_ERROR_LAUNCH_FAILED
        | R::CUDA_ERROR_LAUNCH_TIMEOUT
        | R::CUDA_ERROR_HARDWARE_STACK_ERROR
        | R::CUDA_ERROR_ILLEGAL_INSTRUCTION
        | R::CUDA_ERROR_MISALIGNED_ADDRESS
        | R::CUDA_ERROR_INVALID_ADDRESS_SPACE
        | R::CUDA_ERROR_INVALID_PC
        | R::CUDA_ERROR_ECC_UNCORRECTABLE
        | R::CUDA_ERROR_NVLINK_UNCORRECTABLE
        | R::CUDA_ERROR_ASSERT
        | R::CUDA_ERROR_CONTAINED
        | R::CUDA_ERROR_CONTEXT_IS_DESTROYED
        | R::CUDA_ERROR_INVALID_CONTEXT
        | R::CUDA_ERROR_DEINITIALIZED
        | R::CUDA_ERROR_NOT_INITIALIZED
        | R::CUDA_ERROR_NO_DEVICE
        | R::CUDA_ERROR_INVALID_DEVICE
        | R::CUDA_ERROR_DEVICE_UNAVAILABLE
        | R::CUDA_ERROR_SYSTEM_NOT_READY
        | R::CUDA_ERROR_SYSTEM_DRIVER_MISMATCH => BackendError::DeviceLost(detail),
        R::CUDA_ERROR_INVALID_PTX
        | R::CUDA_ERROR_UNSUPPORTED_PTX_VERSION
        | R::CUDA_ERROR_INVALID_IMAGE
        | R::CUDA_ERROR_NO_BINARY_FOR_GPU
        | R::CUDA_ERROR_JIT_COMPILER_NOT_FOUND
        | R::CUDA_ERROR_JIT_COMPILATION_DISABLED
        | R::CUDA_ERROR_INVALID_SOURCE => BackendError::Compile {
            kernel: what.to_string(),
            log: format!("the driver refused the compiled image: {}", code_name(code)),
        },
        _ => BackendError::Launch {
            kernel: what.to_string(),
            detail: code_name(code),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_map_by_meaning() {
        assert!(matches!(
            map(DriverError(CUresult::CUDA_ERROR_OUT_OF_MEMORY), "x", 7),
            BackendError::OutOfMemory { requested: 7, .. }
        ));
        assert!(matches!(
            map(DriverError(CUresult::CUDA_ERROR_ILLEGAL_ADDRESS), "x", 0),
            BackendError::DeviceLost(_)
        ));
        assert!(matches!(
            map(
                DriverError(CUresult::CUDA_ERROR_UNSUPPORTED_PTX_VERSION),
                "k",
                0
            ),
            BackendError::Compile { .. }
        ));
        match map(
            DriverError(CUresult::CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES),
            "msm_count",
            0,
        ) {
            BackendError::Launch { kernel, detail } => {
                assert_eq!(kernel, "msm_count");
                assert!(detail.contains("LAUNCH_OUT_OF_RESOURCES"), "{detail}");
            }
            e => panic!("{e:?}"),
        }
    }
}
