//! The conformance suite for the CUDA backend (`zkaccel-cuda`) on CUDA device 0
//! (`ZKACCEL_CUDA_DEVICE` picks another ordinal): `cargo test -p zkaccel-tests --test
//! conformance_cuda`. Without a CUDA driver, device or NVRTC every test prints `SKIPPED` and
//! passes, unless `ZKACCEL_REQUIRE` names `cuda` (`cuda_chunked` for the second instance):
//! then it fails. CI has no GPU: there the kernels are only compiled
//! (`cargo test -p zkaccel-cuda --test nvrtc_compile`).
//!
//! A second instance, `cuda_chunked`, runs the suite on the same device with the largest
//! allocation capped at 64 KiB, so that inputs are split into many chunks and the per-chunk
//! results are combined: the path a large input takes on a real device.

use std::sync::{Arc, OnceLock};
use zkaccel_backend::Backend;
use zkaccel_cuda::{default_device, CudaOptions};

type Shared = Result<Arc<dyn Backend>, String>;

fn open(options: CudaOptions) -> Shared {
    default_device(&options).map(|b| Arc::new(b) as Arc<dyn Backend>)
}

/// One device for every test of the process (contexts and compiled programs are shared).
fn device() -> Shared {
    static DEV: OnceLock<Shared> = OnceLock::new();
    DEV.get_or_init(|| open(CudaOptions::default())).clone()
}

/// The same device with allocations capped at 64 KiB.
fn chunked() -> Shared {
    static DEV: OnceLock<Shared> = OnceLock::new();
    DEV.get_or_init(|| {
        open(CudaOptions {
            max_alloc_bytes: Some(64 << 10),
            ..Default::default()
        })
    })
    .clone()
}

zkaccel_backend::conformance_suite!(cuda, device());
zkaccel_backend::conformance_suite!(cuda_chunked, chunked());
