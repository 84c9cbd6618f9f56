//! # zkaccel-opencl
//!
//! The OpenCL backend: MSM, NTT and Poseidon/Poseidon2 on any OpenCL 1.2+ device — GPUs
//! from any vendor, and CPUs through PoCL, which is how CI runs the very kernels a GPU runs.
//!
//! The OpenCL library (`libOpenCL.so.1`, the ICD loader) is opened at run time through
//! `opencl3`'s `dynamic` feature: a machine without OpenCL builds and runs everything else,
//! and [`discover`] answers with the reason instead of a device.
//!
//! The device code is the portable C of `kernels/gpu/` (crate `zkaccel-kernels`), assembled
//! per curve or field, compiled once per device and kept on disk
//! ([`zkaccel_kernels::host::BinaryCache`], directory `opencl`); a compile
//! failure returns the compiler's log in [`BackendError::Compile`]. OpenCL status codes map
//! to backend errors by meaning (allocation failures and `CL_OUT_OF_RESOURCES` become
//! [`BackendError::OutOfMemory`]), so the runtime's dispatcher can fall back to another
//! device.
//!
//! What runs on the device, and the host code around it, is shared with the CUDA backend
//! (`zkaccel_kernels::host`): this crate supplies the OpenCL [`GpuDevice`] (buffers, queue,
//! program builds) and discovery.
//! - MSM: signed-digit windows, a counting sort of (point, sign) by bucket with device-side
//!   prefix sums, bucket accumulation with mixed XYZZ additions, per-window bucket
//!   reduction in segments; the host combines windows. Bases can stay resident
//!   ([`Backend::prepare_bases`]); inputs larger than the device's largest allocation are
//!   split into chunks whose results are added on the host.
//! - NTT: twiddles resident per domain, radix-2^k passes in local memory, cosets, both
//!   orders, batches; hashing: one work-item per state, sponge or Merkle node.
//!
//! Work on one device is serialized by a lock per device (one in-order queue); separate
//! devices run concurrently.

mod device;
mod error;

pub use error::code_name;

use device::Ctx;
use opencl3::device::{Device, CL_DEVICE_TYPE_ALL, CL_DEVICE_TYPE_CPU};
use zkaccel_backend::{Backend, BackendResult, DeviceInfo, DeviceKind};
use zkaccel_kernels::host::{GpuBackend, GpuDevice, GpuOptions};

/// How to open OpenCL devices (`ZKACCEL_OPENCL_MAX_ALLOC`, cache directory `opencl`).
pub type OpenClOptions = GpuOptions;

/// One OpenCL device.
pub struct OpenClBackend {
    gpu: GpuBackend<Ctx>,
    platform: String,
}

impl std::fmt::Debug for OpenClBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenClBackend")
            .field("info", self.gpu.info())
            .field("platform", &self.platform)
            .finish()
    }
}

zkaccel_kernels::forward_backend!(OpenClBackend, gpu);

/// Every OpenCL device of every platform, with default options; `Err` says why there are
/// none (no OpenCL library, no platform, ...).
pub fn discover() -> Result<Vec<OpenClBackend>, String> {
    discover_with(&OpenClOptions::default())
}

/// Every OpenCL device of every platform.
pub fn discover_with(options: &OpenClOptions) -> Result<Vec<OpenClBackend>, String> {
    // PoCL 3.1 can crash when two threads query devices while a platform initialises
    // (seen as a fault in clGetDeviceInfo under parallel tests): enumerate and open devices
    // one thread at a time.
    static DISCOVERY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = DISCOVERY.lock().unwrap_or_else(|e| e.into_inner());
    let platforms = opencl3::platform::get_platforms().map_err(|e| {
        if e.0 == -2000 {
            "the OpenCL library (libOpenCL.so.1) could not be loaded: install an ICD loader \
             and a driver (e.g. Debian's ocl-icd-libopencl1 and pocl-opencl-icd)"
                .to_string()
        } else {
            format!("no OpenCL platform: {}", code_name(e.0))
        }
    })?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in &platforms {
        let pname = p.name().unwrap_or_default();
        let pversion = p.version().unwrap_or_default();
        let ids = match p.get_devices(CL_DEVICE_TYPE_ALL) {
            Ok(ids) => ids,
            Err(e) => {
                errors.push(format!("{pname}: {}", code_name(e.0)));
                continue;
            }
        };
        for id in ids {
            match OpenClBackend::open(Device::new(id), &pname, &pversion, options) {
                Ok(b) => out.push(b),
                Err(e) => errors.push(format!("{pname}: {e}")),
            }
        }
    }
    if out.is_empty() {
        return Err(if errors.is_empty() {
            format!("{} OpenCL platform(s), no device", platforms.len())
        } else {
            format!("no usable OpenCL device: {}", errors.join("; "))
        });
    }
    Ok(out)
}

/// The device to use when one is wanted: the first whose platform or device name contains
/// `ZKACCEL_OPENCL_DEVICE` (case-insensitive) when that is set, else the first GPU or
/// accelerator, else the first device.
pub fn default_device(options: &OpenClOptions) -> Result<OpenClBackend, String> {
    let mut all = discover_with(options)?;
    if let Ok(want) = std::env::var("ZKACCEL_OPENCL_DEVICE") {
        let want = want.to_ascii_lowercase();
        return match all.iter().position(|b| {
            b.platform.to_ascii_lowercase().contains(&want)
                || b.info().name.to_ascii_lowercase().contains(&want)
        }) {
            Some(i) => Ok(all.swap_remove(i)),
            None => Err(format!(
                "no OpenCL device matches ZKACCEL_OPENCL_DEVICE={want}"
            )),
        };
    }
    let i = all.iter().position(|b| !b.info().runs_on_host).unwrap_or(0);
    Ok(all.swap_remove(i))
}

impl OpenClBackend {
    fn open(
        device: Device,
        platform: &str,
        platform_version: &str,
        options: &OpenClOptions,
    ) -> BackendResult<Self> {
        let (max_alloc, cache) = options.resolve("opencl");
        let is_cpu = device.dev_type().is_ok_and(|t| t & CL_DEVICE_TYPE_CPU != 0);
        let info = DeviceInfo {
            name: device.name().unwrap_or_default().trim().to_string(),
            kind: DeviceKind::OpenCl,
            vendor: device.vendor().unwrap_or_default().trim().to_string(),
            driver: format!(
                "{platform}, driver {}, {}",
                device.driver_version().unwrap_or_default().trim(),
                device.version().unwrap_or_default().trim()
            ),
            memory_bytes: device.global_mem_size().unwrap_or(0),
            compute_units: device.max_compute_units().unwrap_or(0),
            simulated: false,
            runs_on_host: is_cpu,
            clock_mhz: device.max_clock_frequency().ok().filter(|&c| c > 0),
        };
        let ctx = Ctx::new(
            device,
            &format!("{platform}|{platform_version}"),
            max_alloc,
            cache,
        )?;
        Ok(Self {
            gpu: GpuBackend::new(info, ctx),
            platform: platform.to_string(),
        })
    }

    /// The platform's name (e.g. "Portable Computing Language", "NVIDIA CUDA").
    pub fn platform(&self) -> &str {
        &self.platform
    }

    /// The largest single buffer the backend will allocate, bytes.
    pub fn max_alloc_bytes(&self) -> u64 {
        self.gpu.device().limits().max_alloc
    }

    /// Programs compiled from source and programs loaded from the disk cache so far.
    pub fn program_counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.gpu.device().counters;
        (c.compiled.load(Relaxed), c.loaded.load(Relaxed))
    }
}

/// The default device for unit tests, opened with `max_alloc_bytes`; `None` after a loud
/// skip line when there is none, unless `ZKACCEL_REQUIRE` names `opencl` (then a failure).
#[cfg(test)]
pub(crate) fn test_device(max_alloc_bytes: Option<u64>) -> Option<OpenClBackend> {
    match default_device(&OpenClOptions {
        max_alloc_bytes,
        ..Default::default()
    }) {
        Ok(b) => Some(b),
        Err(e) if zkaccel_backend::conformance::is_required("opencl") => {
            panic!("ZKACCEL_REQUIRE names opencl but no device opened: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: no OpenCL device: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkaccel_kernels::host::checks;

    /// 4 KiB allocations: hash messages absorbed in segments, NTT batches in groups of
    /// columns, capabilities shrunk to what fits.
    #[test]
    fn small_allocations() {
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
