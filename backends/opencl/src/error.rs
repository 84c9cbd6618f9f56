//! OpenCL status codes mapped to [`BackendError`], so that the dispatcher can tell an
//! exhausted device (fall back elsewhere) from a broken one.

use opencl3::error_codes::ClError;
use zkaccel_backend::BackendError;

/// `CL_MEM_OBJECT_ALLOCATION_FAILURE`.
const MEM_OBJECT_ALLOCATION_FAILURE: i32 = -4;
/// `CL_OUT_OF_RESOURCES`.
const OUT_OF_RESOURCES: i32 = -5;
/// `CL_OUT_OF_HOST_MEMORY`.
const OUT_OF_HOST_MEMORY: i32 = -6;
/// `CL_BUILD_PROGRAM_FAILURE`.
const BUILD_PROGRAM_FAILURE: i32 = -11;
/// `CL_INVALID_BUFFER_SIZE`.
const INVALID_BUFFER_SIZE: i32 = -61;
/// `CL_INVALID_DEVICE`, `CL_INVALID_CONTEXT`, `CL_INVALID_COMMAND_QUEUE`.
const INVALID_DEVICE: i32 = -33;
const INVALID_CONTEXT: i32 = -34;
const INVALID_COMMAND_QUEUE: i32 = -36;
/// NVIDIA's driver reports a faulting kernel (illegal address) with this code.
const NV_KERNEL_FAULT: i32 = -9999;
/// cl3's codes for a missing OpenCL library / entry point.
const DLOPEN_RUNTIME_LOAD_FAILED: i32 = -2000;
const DLOPEN_FUNCTION_NOT_AVAILABLE: i32 = -2001;

/// The OpenCL name of a status code, for messages.
pub fn code_name(code: i32) -> String {
    format!("{} ({code})", ClError(code))
}

/// Maps a failed OpenCL call. `what` says what was being done (a kernel name, "upload of N
/// bytes", ...); `bytes` is the size of the allocation or transfer involved, if any.
pub(crate) fn map(err: ClError, what: &str, bytes: u64) -> BackendError {
    let code = err.0;
    let name = code_name(code);
    match code {
        MEM_OBJECT_ALLOCATION_FAILURE
        | OUT_OF_RESOURCES
        | OUT_OF_HOST_MEMORY
        | INVALID_BUFFER_SIZE => BackendError::OutOfMemory {
            requested: bytes,
            detail: format!("{what}: {name}"),
        },
        INVALID_DEVICE | INVALID_CONTEXT | INVALID_COMMAND_QUEUE | NV_KERNEL_FAULT => {
            BackendError::DeviceLost(format!("{what}: {name}"))
        }
        BUILD_PROGRAM_FAILURE => BackendError::Compile {
            kernel: what.to_string(),
            log: name,
        },
        DLOPEN_RUNTIME_LOAD_FAILED | DLOPEN_FUNCTION_NOT_AVAILABLE => {
            BackendError::Other(format!("{what}: OpenCL library unusable: {name}"))
        }
        _ => BackendError::Launch {
            kernel: what.to_string(),
            detail: name,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhaustion_is_out_of_memory() {
        for code in [-4, -5, -6, -61] {
            assert!(matches!(
                map(ClError(code), "x", 7),
                BackendError::OutOfMemory { requested: 7, .. }
            ));
        }
        assert!(matches!(
            map(ClError(-36), "x", 0),
            BackendError::DeviceLost(_)
        ));
        assert!(matches!(
            map(ClError(-11), "k", 0),
            BackendError::Compile { .. }
        ));
        match map(ClError(-52), "msm_count", 0) {
            BackendError::Launch { kernel, detail } => {
                assert_eq!(kernel, "msm_count");
                assert!(detail.contains("-52"), "{detail}");
            }
            e => panic!("{e:?}"),
        }
    }
}
