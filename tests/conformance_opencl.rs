//! The conformance suite for the OpenCL backend (`zkaccel-opencl`) on the default OpenCL
//! device (`ZKACCEL_OPENCL_DEVICE` picks another): `cargo test -p zkaccel-tests --test
//! conformance_opencl`. Without an OpenCL device every test prints `SKIPPED` and passes,
//! unless `ZKACCEL_REQUIRE` names `opencl` (CI does, with PoCL installed).
//!
//! A second instance, `opencl_chunked`, runs the MSM cases on the same device with the
//! largest allocation capped at 64 KiB, so that inputs are split into many chunks and the
//! per-chunk results are combined: the path a large input takes on a real device.

use std::sync::{Arc, OnceLock};
use zkaccel_backend::Backend;
use zkaccel_opencl::{default_device, OpenClOptions};

type Shared = Result<Arc<dyn Backend>, String>;

fn open(options: OpenClOptions) -> Shared {
    default_device(&options).map(|b| Arc::new(b) as Arc<dyn Backend>)
}

/// One device for every test of the process (contexts and compiled programs are shared).
fn device() -> Shared {
    static DEV: OnceLock<Shared> = OnceLock::new();
    DEV.get_or_init(|| open(OpenClOptions::default())).clone()
}

/// The same device with allocations capped at 64 KiB.
fn chunked() -> Shared {
    static DEV: OnceLock<Shared> = OnceLock::new();
    DEV.get_or_init(|| {
        open(OpenClOptions {
            max_alloc_bytes: Some(64 << 10),
            ..Default::default()
        })
    })
    .clone()
}

zkaccel_backend::conformance_suite!(opencl, device());
zkaccel_backend::conformance_suite!(opencl_chunked, chunked());
