//! The device registry, routing policy and the dispatch loop with fallback.

use crate::error::{Attempt, Error, Result};
use crate::msm::PointValidation;
use crate::profile::{log2_ceil, Profile};
use crate::stats::{self, CallReport, Counters, DeviceCounters, DeviceStats, Stats};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use zkaccel_backend::{Backend, BackendError, Capabilities, DeviceInfo, DeviceKind, OpId};

/// How calls are routed among devices.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Policy {
    /// Accelerators first for inputs large enough to pay for the transfer, the CPU first
    /// for small ones; every capable device remains a fallback.
    #[default]
    Auto,
    /// This kind of device first, then the others in `Auto` order.
    Prefer(DeviceKind),
    /// Only this kind of device; no fallback to others.
    Only(DeviceKind),
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::Auto => f.write_str("auto"),
            Policy::Prefer(k) => write!(f, "prefer:{k}"),
            Policy::Only(k) => write!(f, "only:{k}"),
        }
    }
}

impl std::str::FromStr for Policy {
    type Err = String;
    /// `auto`, `prefer:KIND`, `only:KIND`, or a bare `KIND` (= `only:KIND`).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        if s == "auto" {
            return Ok(Policy::Auto);
        }
        if let Some(k) = s.strip_prefix("prefer:") {
            return Ok(Policy::Prefer(k.parse()?));
        }
        let k = s.strip_prefix("only:").unwrap_or(&s);
        Ok(Policy::Only(k.parse()?))
    }
}

/// A device in the registry.
#[derive(Clone)]
pub struct Device {
    /// Registry index (stable for the runtime's life).
    pub index: usize,
    /// What the device is.
    pub info: DeviceInfo,
    /// What it can do.
    pub capabilities: Capabilities,
    pub(crate) backend: Arc<dyn Backend>,
}

impl Device {
    /// The backend driving this device.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("index", &self.index)
            .field("info", &self.info)
            .finish()
    }
}

pub(crate) struct Inner {
    pub(crate) devices: Vec<Device>,
    pub(crate) policy: Policy,
    /// The calibration profile `Auto` and `Prefer` follow, and where it came from.
    pub(crate) profile: Option<(Arc<Profile>, Option<PathBuf>)>,
    pub(crate) validation: PointValidation,
    pub(crate) counters: Counters,
    pub(crate) device_counters: Vec<DeviceCounters>,
}

/// The runtime: a registry of devices, a policy, and counters. Cheap to clone (shared
/// state); every method may be called from any number of threads at once.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("devices", &self.inner.devices)
            .field("policy", &self.inner.policy)
            .finish()
    }
}

/// Builds a [`Runtime`].
#[derive(Default)]
pub struct RuntimeBuilder {
    policy: Policy,
    cpu_threads: Option<usize>,
    no_cpu: bool,
    no_opencl: bool,
    no_cuda: bool,
    profile: Option<Profile>,
    no_profile: bool,
    extra: Vec<Arc<dyn Backend>>,
    validation: PointValidation,
}

/// OpenCL devices found on this machine (none when the feature is off, the library is
/// missing, or `ZKACCEL_OPENCL=0`).
fn discover_opencl() -> Vec<Arc<dyn Backend>> {
    #[cfg(feature = "opencl")]
    {
        if std::env::var("ZKACCEL_OPENCL").is_ok_and(|v| v == "0") {
            return Vec::new();
        }
        match zkaccel_opencl::discover() {
            Ok(devs) => devs
                .into_iter()
                .map(|d| Arc::new(d) as Arc<dyn Backend>)
                .collect(),
            Err(e) => {
                tracing::debug!("no OpenCL device: {e}");
                Vec::new()
            }
        }
    }
    #[cfg(not(feature = "opencl"))]
    Vec::new()
}

/// CUDA devices found on this machine: none when the feature is off, the driver, a device
/// or NVRTC is missing, or `ZKACCEL_CUDA=0`.
///
/// The CUDA backend has not yet been validated on a GPU (its kernels are the OpenCL ones,
/// conformance-tested on PoCL, compiled by NVRTC in CI), so `Auto` and `Prefer` policies use
/// it only when `ZKACCEL_CUDA=1` asks for it; `Only(Cuda)` always looks for it.
fn discover_cuda(asked: bool) -> Vec<Arc<dyn Backend>> {
    #[cfg(feature = "cuda")]
    {
        match std::env::var("ZKACCEL_CUDA").as_deref() {
            Ok("0") => return Vec::new(),
            Ok("1") => {}
            _ if asked => {}
            _ => {
                tracing::debug!("CUDA not opened: unvalidated backend, set ZKACCEL_CUDA=1");
                return Vec::new();
            }
        }
        match zkaccel_cuda::discover() {
            Ok(devs) => devs
                .into_iter()
                .map(|d| Arc::new(d) as Arc<dyn Backend>)
                .collect(),
            Err(e) => {
                tracing::debug!("no CUDA device: {e}");
                Vec::new()
            }
        }
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = asked;
        Vec::new()
    }
}

/// FPGA engines: a card when its XDMA device nodes exist (`ZKACCEL_FPGA_XDMA`, default
/// `/dev/xdma0`); the RTL simulator only when asked for, by `ZKACCEL_FPGA=sim` or by
/// `Policy::Only(DeviceKind::Fpga)` (`asked`), so that simulated hardware never takes real
/// work under `Auto` (it also reports `runs_on_host`). None when the feature is off or
/// `ZKACCEL_FPGA=0`.
fn discover_fpga(asked: bool) -> Vec<Arc<dyn Backend>> {
    #[cfg(feature = "fpga")]
    {
        if std::env::var("ZKACCEL_FPGA").is_ok_and(|v| v == "0") {
            return Vec::new();
        }
        match zkaccel_fpga::discover(asked) {
            Ok(devs) => devs
                .into_iter()
                .map(|d| Arc::new(d) as Arc<dyn Backend>)
                .collect(),
            Err(e) => {
                tracing::debug!("no FPGA device: {e}");
                Vec::new()
            }
        }
    }
    #[cfg(not(feature = "fpga"))]
    {
        let _ = asked;
        Vec::new()
    }
}

impl RuntimeBuilder {
    /// True when the policy may route work to devices of `kind` (so they are worth
    /// opening).
    fn wants(&self, kind: DeviceKind) -> bool {
        match self.policy {
            Policy::Only(k) => k == kind,
            _ => true,
        }
    }

    /// The routing policy (default `Auto`).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Runs the CPU backend on its own pool of this many threads (default: rayon's global
    /// pool).
    pub fn cpu_threads(mut self, threads: usize) -> Self {
        self.cpu_threads = Some(threads);
        self
    }

    /// Registers an additional backend (a plugin, a test double, a second device).
    /// Registered backends come before the discovered ones in `Auto` order.
    pub fn with_backend(mut self, backend: Arc<dyn Backend>) -> Self {
        self.extra.push(backend);
        self
    }

    /// Leaves the CPU out of the registry (for tests that need a runtime with only other
    /// backends; normally the CPU is always present).
    pub fn without_cpu(mut self) -> Self {
        self.no_cpu = true;
        self
    }

    /// Does not look for OpenCL devices (also: `ZKACCEL_OPENCL=0` in the environment).
    pub fn without_opencl(mut self) -> Self {
        self.no_opencl = true;
        self
    }

    /// Does not look for CUDA devices (also: `ZKACCEL_CUDA=0` in the environment).
    pub fn without_cuda(mut self) -> Self {
        self.no_cuda = true;
        self
    }

    /// Routes `Auto` and `Prefer` calls by this calibration profile instead of the one the
    /// environment names (see [`crate::profile`]).
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = Some(profile);
        self
    }

    /// Uses no calibration profile, whatever the environment says: the built-in routing.
    pub fn without_profile(mut self) -> Self {
        self.no_profile = true;
        self
    }

    /// The default point validation for MSM bases (default: coordinates reduced only).
    pub fn point_validation(mut self, v: PointValidation) -> Self {
        self.validation = v;
        self
    }

    /// Discovers devices and builds the runtime.
    pub fn build(self) -> Result<Runtime> {
        let opencl = self.wants(DeviceKind::OpenCl) && !self.no_opencl;
        let cuda = self.wants(DeviceKind::Cuda) && !self.no_cuda;
        let cuda_asked = self.policy == Policy::Only(DeviceKind::Cuda);
        let fpga = self.wants(DeviceKind::Fpga);
        let fpga_asked = self.policy == Policy::Only(DeviceKind::Fpga);
        let mut backends: Vec<Arc<dyn Backend>> = self.extra;
        if !self.no_cpu {
            let cpu = match self.cpu_threads {
                Some(t) => zkaccel_cpu::CpuBackend::with_threads(t)
                    .map_err(|e| Error::Setup(e.to_string()))?,
                None => zkaccel_cpu::CpuBackend::new(),
            };
            backends.push(Arc::new(cpu));
        }
        if cuda {
            backends.extend(discover_cuda(cuda_asked));
        }
        if opencl {
            backends.extend(discover_opencl());
        }
        if fpga {
            backends.extend(discover_fpga(fpga_asked));
        }
        let devices: Vec<Device> = backends
            .into_iter()
            .enumerate()
            .map(|(index, backend)| Device {
                index,
                info: backend.info().clone(),
                capabilities: backend.capabilities(),
                backend,
            })
            .collect();
        for d in &devices {
            tracing::debug!(index = d.index, name = %d.info.name, kind = %d.info.kind, "device registered");
        }
        let device_counters = devices.iter().map(|_| DeviceCounters::default()).collect();
        let profile = match (self.no_profile, self.profile) {
            (true, _) => None,
            (false, Some(p)) => Some((Arc::new(p), None)),
            (false, None) => Profile::from_env().map(|(p, path)| (Arc::new(p), Some(path))),
        };
        Ok(Runtime {
            inner: Arc::new(Inner {
                devices,
                policy: self.policy,
                profile,
                validation: self.validation,
                counters: Counters::default(),
                device_counters,
            }),
        })
    }
}

/// Inputs below these sizes run on the CPU first under `Auto` (a device round trip costs
/// more than the work) when no calibration profile says otherwise.
pub(crate) const AUTO_MIN_MSM_LEN: usize = 1 << 12;
pub(crate) const AUTO_MIN_NTT_LOG: u32 = 12;
pub(crate) const AUTO_MIN_HASH_ELEMS: usize = 1 << 16;

/// What routing needs to know about a call: the operation's profile key, its size, and
/// whether the built-in rule calls it large.
pub(crate) struct Route {
    op: String,
    log_n: u32,
    large: bool,
}

impl Route {
    /// An MSM of `n` points over `id`.
    pub(crate) fn msm(id: zkaccel_backend::CurveGroupId, n: usize) -> Self {
        Self {
            op: format!("msm:{id}"),
            log_n: log2_ceil(n),
            large: n >= AUTO_MIN_MSM_LEN,
        }
    }

    /// A transform of size `2^log_n` over `field`.
    pub(crate) fn ntt(field: zkaccel_backend::FieldId, log_n: u32) -> Self {
        Self {
            op: format!("ntt:{}", field.name()),
            log_n,
            large: log_n >= AUTO_MIN_NTT_LOG,
        }
    }

    /// Hashing `elems` elements (input and output) with instance `id`.
    pub(crate) fn hash(id: zkaccel_backend::hash::HashId, elems: usize) -> Self {
        Self {
            op: format!("hash:{}", id.name()),
            log_n: log2_ceil(elems),
            large: elems >= AUTO_MIN_HASH_ELEMS,
        }
    }
}

impl Runtime {
    /// A runtime with every device found and the `Auto` policy.
    pub fn new() -> Result<Self> {
        RuntimeBuilder::default().build()
    }

    /// A builder for options.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// The registered devices, in registry order.
    pub fn devices(&self) -> &[Device] {
        &self.inner.devices
    }

    /// The routing policy.
    pub fn policy(&self) -> Policy {
        self.inner.policy
    }

    /// The calibration profile routing follows, and the file it was read from (`None` for a
    /// profile given to the builder).
    pub fn profile(&self) -> Option<(&Profile, Option<&std::path::Path>)> {
        self.inner
            .profile
            .as_ref()
            .map(|(p, path)| (&**p, path.as_deref()))
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        Stats {
            msm_calls: stats::load(&c.calls[0]),
            ntt_calls: stats::load(&c.calls[1]),
            hash_calls: stats::load(&c.calls[2]),
            fallbacks: stats::load(&c.fallbacks),
            failed_calls: stats::load(&c.failed_calls),
            devices: self
                .inner
                .devices
                .iter()
                .zip(&self.inner.device_counters)
                .map(|(d, k)| DeviceStats {
                    device: d.index,
                    name: d.info.name.clone(),
                    kind: d.info.kind,
                    completed: stats::load(&k.ok),
                    errors: stats::load(&k.errors),
                })
                .collect(),
        }
    }

    /// The devices that may run a call, in the order to try them. `capable` filters by
    /// capability; `route` names the operation and its size: the calibration profile ranks
    /// the devices it measured, and the built-in rule (accelerators for large inputs, the
    /// CPU for small ones) orders the rest.
    pub(crate) fn candidates(
        &self,
        capable: impl Fn(&Device) -> bool,
        route: Route,
    ) -> Vec<&Device> {
        let large = route.large;
        let mut v: Vec<&Device> = self
            .inner
            .devices
            .iter()
            .filter(|d| match self.inner.policy {
                Policy::Only(k) => d.info.kind == k,
                _ => true,
            })
            .filter(|d| capable(d))
            .collect();
        // Stable sort: registry order within a rank.
        let measured = self
            .inner
            .profile
            .as_ref()
            .and_then(|(p, _)| p.rank(&route.op, route.log_n));
        let auto_rank = |d: &Device| -> (usize, u8) {
            let is_cpu = d.info.runs_on_host;
            let builtin = match (large, is_cpu) {
                (true, false) | (false, true) => 0,
                _ => 1,
            };
            // The key is formatted only when a profile ranks this operation.
            let profiled = measured
                .as_ref()
                .and_then(|m| {
                    let key = Profile::device_key(d);
                    m.iter().position(|k| *k == key)
                })
                .unwrap_or(usize::MAX);
            (profiled, builtin)
        };
        match self.inner.policy {
            Policy::Prefer(k) => v.sort_by_key(|d| (d.info.kind != k, auto_rank(d))),
            _ => v.sort_by_key(|d| auto_rank(d)),
        }
        v
    }

    /// Runs `f` on each candidate until one succeeds, counting and logging fallbacks.
    pub(crate) fn dispatch<T>(
        &self,
        op: OpId,
        detail: impl Fn() -> String,
        candidates: Vec<&Device>,
        mut f: impl FnMut(&Device) -> std::result::Result<T, BackendError>,
    ) -> Result<(T, CallReport)> {
        let counters = &self.inner.counters;
        counters.call(op);
        if candidates.is_empty() {
            counters
                .failed_calls
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Err(Error::NoCapableBackend {
                op,
                detail: detail(),
                policy: self.inner.policy.to_string(),
            });
        }
        let mut attempts = Vec::new();
        for d in candidates {
            let dc = &self.inner.device_counters[d.index];
            match f(d) {
                Ok(v) => {
                    dc.ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return Ok((
                        v,
                        CallReport {
                            device: d.index,
                            kind: d.info.kind,
                            fallbacks: attempts.len() as u32,
                        },
                    ));
                }
                Err(error) => {
                    dc.errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    counters
                        .fallbacks
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::warn!(
                        op = %op, device = d.index, name = %d.info.name, %error,
                        "backend failed; falling back to the next capable device"
                    );
                    attempts.push(Attempt {
                        device: d.index,
                        name: d.info.name.clone(),
                        error,
                    });
                }
            }
        }
        // The last failure had nothing to fall back to.
        counters
            .fallbacks
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        counters
            .failed_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Err(Error::AllBackendsFailed { op, attempts })
    }
}
