//! # zkaccel-cuda
//!
//! The CUDA backend: MSM, NTT and Poseidon/Poseidon2 on NVIDIA GPUs.
//!
//! **Status: this backend has never run on a GPU.** Everything here compiles and its
//! host-side logic is unit-tested on machines without CUDA, and every kernel program
//! compiles through NVRTC for `sm_80` and `sm_90` (test `nvrtc_compile`); the conformance
//! suite (`cargo test -p zkaccel-tests --test conformance_cuda`) has not yet passed on a
//! device. Until it has, treat results from this backend as unverified.
//!
//! Both CUDA libraries are opened at run time (`cudarc` with dynamic loading): a machine
//! without CUDA builds and runs everything else, and [`discover`] answers with the reason
//! instead of a device. The driver (`libcuda.so.1`) comes with the NVIDIA driver; NVRTC
//! (`libnvrtc.so.12`) comes with the CUDA toolkit or from PyPI
//! (`pip install nvidia-cuda-nvrtc-cu12`) and is looked for in the Python locations too, or
//! where `ZKACCEL_NVRTC_PATH` says (see [`libs`]).
//!
//! The device code is the portable C of `kernels/gpu/` (crate `zkaccel-kernels`) with the
//! CUDA prelude, assembled per curve or field exactly as for OpenCL, compiled by NVRTC into a
//! cubin for the device's architecture (or PTX for one newer than NVRTC, see [`nvrtc`]) and
//! kept on disk ([`zkaccel_kernels::host::BinaryCache`], directory `cuda`, keyed by
//! [`nvrtc::key`]); a compile failure returns NVRTC's log and the program's
//! name in [`BackendError::Compile`]. Driver results map to backend errors by meaning
//! (`CUDA_ERROR_OUT_OF_MEMORY` becomes [`BackendError::OutOfMemory`]), so the runtime's
//! dispatcher can fall back to another device.
//!
//! What runs on the device is what the OpenCL backend runs, driven by the same host code
//! (`zkaccel_kernels::host`, generic over a device): this crate supplies the CUDA
//! [`GpuDevice`] (buffers, one stream, NVRTC builds, launches) and discovery.
//! - MSM: signed-digit windows, a counting sort of (point, sign) by bucket with device-side
//!   prefix sums, bucket accumulation with mixed XYZZ additions, per-window bucket
//!   reduction in segments; the host combines windows. Bases can stay resident
//!   ([`Backend::prepare_bases`]); inputs larger than the largest allocation are split into
//!   chunks whose results are added on the host.
//! - NTT: twiddles computed on the device once per domain, radix-2^k passes in shared
//!   memory, cosets, inverse, both orders, batches in either layout.
//! - Poseidon/Poseidon2: permutations, sponge hashing and Merkle layers, one thread per item.
//!
//! None of the CUDA-specific speed-ups of issue 6 (inline-PTX carry chains, warp
//! primitives, a device-wide sort, overlapped transfers on several streams, precomputed
//! bases) exists yet: the kernels are the portable ones.
//!
//! Work on one device is serialized by a lock per device (one stream); separate devices run
//! concurrently.
//!
//! # Environment
//!
//! - `ZKACCEL_NVRTC_PATH`: NVRTC's library file or directory (see [`libs`]);
//!   `ZKACCEL_PYTHON`: the Python asked where `nvidia-cuda-nvrtc-cu12` is installed.
//! - `ZKACCEL_CUDA_DEVICE`: the ordinal [`default_device`] opens (default 0).
//! - `ZKACCEL_CUDA_MAX_ALLOC`: the largest single buffer, bytes ([`CudaOptions`]).
//! - `ZKACCEL_CACHE_DIR`, `ZKACCEL_CACHE=0`: where compiled programs are kept, or not at
//!   all ([`cache`]).
//! - `ZKACCEL_REQUIRE`: `nvrtc` makes the `nvrtc_compile` test fail without NVRTC, `cuda`
//!   makes the conformance suite fail without a device.

mod device;
mod error;
pub mod libs;
pub mod nvrtc;

pub use error::code_name;
pub use nvrtc::{Arch, ImageKind};

use cudarc::driver::sys::CUdevice_attribute_enum as Attr;
use cudarc::driver::CudaContext;
use device::Ctx;
use zkaccel_backend::{Backend, BackendError, BackendResult, DeviceInfo, DeviceKind};
use zkaccel_kernels::host::{GpuBackend, GpuDevice, GpuOptions};

/// How to open CUDA devices (`ZKACCEL_CUDA_MAX_ALLOC`, cache directory `cuda`). Without an
/// allocation cap the largest buffer is a quarter of the device's memory (the usual OpenCL
/// `CL_DEVICE_MAX_MEM_ALLOC_SIZE`), so that the few buffers of one operation fit together.
pub type CudaOptions = GpuOptions;

/// One CUDA device.
pub struct CudaBackend {
    gpu: GpuBackend<Ctx>,
    ordinal: usize,
    compute_capability: Arch,
}

impl std::fmt::Debug for CudaBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaBackend")
            .field("info", self.gpu.info())
            .field("ordinal", &self.ordinal)
            .field("compute_capability", &self.compute_capability)
            .finish()
    }
}

zkaccel_kernels::forward_backend!(CudaBackend, gpu);

/// The CUDA driver's version, `(major, minor)`, e.g. `(12, 4)`; `Err` without a driver.
pub fn driver_version() -> Result<(u32, u32), String> {
    libs::driver()?;
    let mut v = 0;
    // SAFETY: the driver library is present (checked above); `v` is a live local.
    let r = unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut v) };
    r.result().map_err(|e| code_name(e.0))?;
    Ok(((v / 1000).max(0) as u32, ((v % 1000) / 10).max(0) as u32))
}

/// Every CUDA device, with default options; `Err` says why there are none (no driver, no
/// device, no NVRTC, ...).
pub fn discover() -> Result<Vec<CudaBackend>, String> {
    discover_with(&CudaOptions::default())
}

/// Every CUDA device.
pub fn discover_with(options: &CudaOptions) -> Result<Vec<CudaBackend>, String> {
    // Checked before any cudarc call: cudarc panics when a library is missing.
    libs::driver()?;
    // cudarc also panics when the driver lacks a function it binds (a driver older than
    // CUDA 12.0): discovery must answer, not abort the caller.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| open_all(options))).unwrap_or_else(
        |panic| {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(format!("the CUDA driver library is unusable: {msg}"))
        },
    )
}

fn open_all(options: &CudaOptions) -> Result<Vec<CudaBackend>, String> {
    cudarc::driver::result::init()
        .map_err(|e| format!("the CUDA driver did not initialise: {}", code_name(e.0)))?;
    let count =
        CudaContext::device_count().map_err(|e| format!("no CUDA device: {}", code_name(e.0)))?;
    if count <= 0 {
        return Err("the CUDA driver reports no device".to_string());
    }
    let nvrtc = libs::nvrtc().map_err(|e| {
        format!("{count} CUDA device(s), but kernels cannot be compiled without NVRTC: {e}")
    })?;
    let driver = driver_version()?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for ordinal in 0..count as usize {
        match CudaBackend::open(ordinal, driver, nvrtc, options) {
            Ok(b) => out.push(b),
            Err(e) => errors.push(format!("device {ordinal}: {e}")),
        }
    }
    if out.is_empty() {
        return Err(format!("no usable CUDA device: {}", errors.join("; ")));
    }
    Ok(out)
}

/// The device to use when one is wanted: device `ZKACCEL_CUDA_DEVICE` (an ordinal) when
/// that is set, else device 0.
pub fn default_device(options: &CudaOptions) -> Result<CudaBackend, String> {
    let mut all = discover_with(options)?;
    let want = match std::env::var("ZKACCEL_CUDA_DEVICE") {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .map_err(|_| format!("ZKACCEL_CUDA_DEVICE={v} is not a device ordinal"))?,
        Err(_) => 0,
    };
    match all.iter().position(|b| b.ordinal == want) {
        Some(i) => Ok(all.swap_remove(i)),
        None => Err(format!(
            "no CUDA device {want} ({} device(s) usable)",
            all.len()
        )),
    }
}

impl CudaBackend {
    fn open(
        ordinal: usize,
        driver: (u32, u32),
        nvrtc: &libs::NvrtcLibrary,
        options: &CudaOptions,
    ) -> BackendResult<Self> {
        let what = "device query";
        let context =
            CudaContext::new(ordinal).map_err(|e| error::map(e, "context creation", 0))?;
        let (major, minor) = context
            .compute_capability()
            .map_err(|e| error::map(e, what, 0))?;
        let cc = Arch::new(major.max(0) as u32, minor.max(0) as u32);
        let supported = nvrtc::supported_archs().map_err(BackendError::Other)?;
        let target = cc.image_for(&supported).ok_or_else(|| {
            BackendError::Other(format!(
                "compute capability {cc}: {nvrtc} compiles for no architecture at or below it"
            ))
        })?;
        let memory = context.total_mem().map_err(|e| error::map(e, what, 0))? as u64;
        let sms = context
            .attribute(Attr::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
            .map_err(|e| error::map(e, what, 0))?;
        let name = context.name().map_err(|e| error::map(e, what, 0))?;
        let (max_alloc, cache) = options.resolve("cuda");
        let max_alloc = max_alloc.map_or(memory / 4, |m| m.clamp(1 << 12, memory.max(1 << 12)));
        let (tarch, tkind) = target;
        let info = DeviceInfo {
            name: name.trim().to_string(),
            kind: DeviceKind::Cuda,
            vendor: "NVIDIA".to_string(),
            driver: format!(
                "CUDA driver {}.{}, {nvrtc}, compute capability {cc} ({} for {tarch}); \
                 backend never validated on a GPU",
                driver.0,
                driver.1,
                match tkind {
                    ImageKind::Cubin => "cubin",
                    ImageKind::Ptx => "PTX",
                },
            ),
            memory_bytes: memory,
            compute_units: sms.max(0) as u32,
            simulated: false,
            runs_on_host: false,
            // The driver reports kHz.
            clock_mhz: context
                .attribute(Attr::CU_DEVICE_ATTRIBUTE_CLOCK_RATE)
                .ok()
                .filter(|&k| k > 0)
                .map(|k| (k / 1000) as u32),
        };
        let ctx = Ctx::new(context, target, max_alloc, cache)?;
        Ok(Self {
            gpu: GpuBackend::new(info, ctx),
            ordinal,
            compute_capability: cc,
        })
    }

    /// The device's ordinal in the driver's list.
    pub fn ordinal(&self) -> usize {
        self.ordinal
    }

    /// The device's compute capability (e.g. 9.0 for an H200).
    pub fn compute_capability(&self) -> Arch {
        self.compute_capability
    }

    /// What kernels are compiled into for this device: a cubin for its own architecture, or
    /// PTX for an older one when NVRTC does not know the device's.
    pub fn compile_target(&self) -> (Arch, ImageKind) {
        self.gpu.device().target
    }

    /// The largest single buffer the backend will allocate, bytes.
    pub fn max_alloc_bytes(&self) -> u64 {
        self.gpu.device().limits().max_alloc
    }

    /// Programs compiled by NVRTC and programs loaded from the disk cache so far.
    pub fn program_counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.gpu.device().counters;
        (c.compiled.load(Relaxed), c.loaded.load(Relaxed))
    }
}

/// The default device for unit tests, opened with `max_alloc_bytes`; `None` after a loud
/// skip line when there is none, unless `ZKACCEL_REQUIRE` names `cuda` (then a failure).
#[cfg(test)]
pub(crate) fn test_device(max_alloc_bytes: Option<u64>) -> Option<CudaBackend> {
    match default_device(&CudaOptions {
        max_alloc_bytes,
        ..Default::default()
    }) {
        Ok(b) => Some(b),
        Err(e) if zkaccel_backend::conformance::is_required("cuda") => {
            panic!("ZKACCEL_REQUIRE names cuda but no device opened: {e}")
        }
        Err(e) => {
            zkaccel_backend::conformance::loud(format_args!("SKIPPED: no CUDA device: {e}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a driver, discovery is an error with a reason, never a panic.
    #[test]
    fn discovery_without_a_driver_is_an_error() {
        match discover() {
            Ok(devices) => {
                for d in &devices {
                    assert_eq!(d.info().kind, DeviceKind::Cuda);
                    assert!(d.info().compute_units > 0);
                }
            }
            Err(e) => {
                assert!(!e.is_empty());
                if libs::driver().is_err() {
                    assert!(e.contains("libcuda"), "{e}");
                    assert!(driver_version().is_err());
                }
            }
        }
    }

    /// 4 KiB allocations: hash messages absorbed in segments, NTT batches in groups of
    /// columns, capabilities shrunk to what fits. Needs a GPU.
    #[test]
    fn small_allocations() {
        use zkaccel_kernels::host::checks;
        let Some(small) = test_device(Some(4096)) else {
            return;
        };
        checks::hash_long_messages_in_segments(&small);
        checks::ntt_in_groups_of_columns(&small);
        let Some(full) = test_device(None) else {
            return;
        };
        checks::hash_capabilities_follow_the_allocation_limit(&small, &full);
        checks::hash_bad_shapes_are_errors(&full);
    }
}
