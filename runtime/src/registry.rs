//! The device registry, routing policy and the dispatch loop with fallback.

use crate::error::{Attempt, Error, Result};
use crate::msm::PointValidation;
use crate::profile::{log2_ceil, Profile};
use crate::split::MsmSplit;
use crate::stats::{self, CallReport, Counters, DeviceCounters, DeviceStats, Stats};
use crate::verify::{CallOptions, OnVerifyFailure, Verification};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
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
    /// True for the runtime's own CPU backend: the oracle, whose results are not verified.
    pub(crate) oracle: bool,
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
    /// What happened to every plugin the builder tried to load.
    pub(crate) plugin_reports: Vec<zkaccel_plugin::PluginLoadReport>,
    /// Default result verification and what a failed check does.
    pub(crate) verification: Verification,
    pub(crate) on_verify_failure: OnVerifyFailure,
    /// Whether the CPU backend's own results are verified too.
    pub(crate) verify_cpu: bool,
    /// Default per-call time limit.
    pub(crate) timeout: Option<Duration>,
    /// Whether one large MSM may be split across devices.
    pub(crate) msm_split: MsmSplit,
    /// The CPU backend that recomputes results for verification (the registered one, or a
    /// private one when the registry has no CPU).
    pub(crate) oracle: Arc<dyn Backend>,
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
    plugin_paths: Vec<PathBuf>,
    no_plugin_env: bool,
    validation: PointValidation,
    verification: Option<Verification>,
    on_verify_failure: OnVerifyFailure,
    verify_cpu: bool,
    timeout: Option<Duration>,
    msm_split: Option<MsmSplit>,
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

/// Plugin devices from the builder's paths and (when `env`) `ZKACCEL_PLUGIN_PATH`, with a
/// report per plugin file tried; every failure is logged by the loader.
fn discover_plugins(
    paths: &[PathBuf],
    env: bool,
) -> (Vec<Arc<dyn Backend>>, Vec<zkaccel_plugin::PluginLoadReport>) {
    use zkaccel_plugin::PluginSource;
    let mut all: Vec<(PathBuf, PluginSource)> = paths
        .iter()
        .map(|p| (p.clone(), PluginSource::Options))
        .collect();
    if env {
        all.extend(
            zkaccel_plugin::env_paths()
                .into_iter()
                .map(|p| (p, PluginSource::Env)),
        );
    }
    if all.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let (devs, reports) = zkaccel_plugin::load_paths(&all);
    (
        devs.into_iter()
            .map(|d| Arc::new(d) as Arc<dyn Backend>)
            .collect(),
        reports,
    )
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

    /// The default result verification (see [`crate::verify`]; default: `ZKACCEL_VERIFY`
    /// from the environment, else [`Verification::Off`]). Calls can override it.
    pub fn verification(mut self, v: Verification) -> Self {
        self.verification = Some(v);
        self
    }

    /// Verifies the CPU backend's results too (default: no, the CPU is the oracle the
    /// checks compare with). The checks then guard against transient faults of the host
    /// (memory without ECC), not against bugs, since the CPU recomputes with the same code;
    /// `zkaccel bench --verify` uses this to measure what the checks cost.
    pub fn verify_cpu(mut self, yes: bool) -> Self {
        self.verify_cpu = yes;
        self
    }

    /// What a failed verification does (default: rerun on the next capable device).
    pub fn on_verify_failure(mut self, v: OnVerifyFailure) -> Self {
        self.on_verify_failure = v;
        self
    }

    /// The default time limit of every call (default: none). Cooperative: see
    /// [`CallOptions::timeout`].
    pub fn call_timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Whether one large MSM may be split by points across devices (default: `Auto`, or
    /// `ZKACCEL_MSM_SPLIT=off|auto|always` from the environment); see [`MsmSplit`].
    pub fn msm_split(mut self, split: MsmSplit) -> Self {
        self.msm_split = Some(split);
        self
    }

    /// Loads the plugin at `path` (a shared library implementing
    /// `ffi/include/zkaccel_backend.h`), or every plugin in the directory `path`, in
    /// addition to those named by `ZKACCEL_PLUGIN_PATH`. A plugin that fails to load never
    /// fails [`RuntimeBuilder::build`]: the failure is logged and kept in
    /// [`Runtime::plugin_reports`].
    pub fn plugin_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.plugin_paths.push(path.into());
        self
    }

    /// [`RuntimeBuilder::plugin_path`] for each of `paths`.
    pub fn plugins<P: Into<PathBuf>>(mut self, paths: impl IntoIterator<Item = P>) -> Self {
        self.plugin_paths.extend(paths.into_iter().map(Into::into));
        self
    }

    /// Ignores `ZKACCEL_PLUGIN_PATH`: only the plugins given to the builder are loaded.
    pub fn without_plugin_env(mut self) -> Self {
        self.no_plugin_env = true;
        self
    }

    /// Discovers devices and builds the runtime.
    pub fn build(self) -> Result<Runtime> {
        let opencl = self.wants(DeviceKind::OpenCl) && !self.no_opencl;
        let cuda = self.wants(DeviceKind::Cuda) && !self.no_cuda;
        let cuda_asked = self.policy == Policy::Only(DeviceKind::Cuda);
        let fpga = self.wants(DeviceKind::Fpga);
        let fpga_asked = self.policy == Policy::Only(DeviceKind::Fpga);
        let plugins = self.wants(DeviceKind::Plugin);
        let mut backends: Vec<Arc<dyn Backend>> = self.extra;
        let cpu: Arc<dyn Backend> = Arc::new(match self.cpu_threads {
            Some(t) => {
                zkaccel_cpu::CpuBackend::with_threads(t).map_err(|e| Error::Setup(e.to_string()))?
            }
            None => zkaccel_cpu::CpuBackend::new(),
        });
        let oracle_index = (!self.no_cpu).then_some(backends.len());
        if !self.no_cpu {
            backends.push(cpu.clone());
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
        let plugin_reports = if plugins {
            let (devs, reports) = discover_plugins(&self.plugin_paths, !self.no_plugin_env);
            backends.extend(devs);
            reports
        } else {
            Vec::new()
        };
        let devices: Vec<Device> = backends
            .into_iter()
            .enumerate()
            .map(|(index, backend)| Device {
                index,
                info: backend.info().clone(),
                capabilities: backend.capabilities(),
                backend,
                oracle: Some(index) == oracle_index,
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
                plugin_reports,
                verification: self
                    .verification
                    .or_else(crate::verify::from_env)
                    .unwrap_or_default(),
                on_verify_failure: self.on_verify_failure,
                verify_cpu: self.verify_cpu,
                timeout: self.timeout,
                msm_split: self
                    .msm_split
                    .or_else(crate::split::from_env)
                    .unwrap_or_default(),
                oracle: cpu,
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
    pub(crate) op: String,
    pub(crate) log_n: u32,
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

    /// What happened to every plugin this runtime tried to load (from
    /// `ZKACCEL_PLUGIN_PATH` and [`RuntimeBuilder::plugin_path`]), in load order: the
    /// plugin and its devices, or a typed [`PluginLoadError`](crate::PluginLoadError).
    pub fn plugin_reports(&self) -> &[zkaccel_plugin::PluginLoadReport] {
        &self.inner.plugin_reports
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
            verified: stats::load(&c.verified),
            verification_failures: stats::load(&c.verification_failures),
            timeouts: stats::load(&c.timeouts),
            split_msm_calls: stats::load(&c.split_calls),
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
                    verification_failures: stats::load(&k.verification_failures),
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
        self.spread(&mut v, &route);
        v
    }

    /// Spreads independent calls over devices. When the first candidate is busy, the device
    /// expected to finish this call soonest goes first instead: under `Auto` with a profile
    /// that measured the operation, the one with the least `time × (calls running + 1)`
    /// among the measured devices (so a busy GPU hands small calls to an idle CPU when that
    /// is quicker); otherwise the least busy of the devices identical to the first (same
    /// kind and name: several GPUs of one model). The others stay behind as fallbacks.
    fn spread(&self, v: &mut Vec<&Device>, route: &Route) {
        let counters = &self.inner.device_counters;
        let busy = |d: &Device| counters[d.index].in_flight.load(Relaxed);
        if v.len() < 2 || busy(v[0]) == 0 {
            return;
        }
        let profile = match self.inner.policy {
            Policy::Auto => self.inner.profile.as_ref().map(|(p, _)| &**p),
            _ => None,
        };
        let cost = |d: &Device| -> Option<f64> {
            let (k, ms) = profile?.time_ms(&route.op, route.log_n, &Profile::device_key(d))?;
            let scale = f64::powi(2.0, route.log_n as i32 - k as i32);
            Some(ms * scale * (busy(d) + 1) as f64)
        };
        let best = if cost(v[0]).is_some() {
            v.iter()
                .enumerate()
                .filter_map(|(i, d)| cost(d).map(|c| (i, c)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i)
        } else {
            let first = v[0];
            v.iter()
                .enumerate()
                .filter(|(_, d)| d.info.kind == first.info.kind && d.info.name == first.info.name)
                .min_by_key(|&(i, d)| (busy(d), i))
                .map(|(i, _)| i)
        };
        if let Some(i) = best.filter(|&i| i != 0) {
            let d = v.remove(i);
            v.insert(0, d);
        }
    }

    /// The verification level a call runs at.
    pub(crate) fn verification_level(&self, call: &CallOptions) -> Verification {
        call.verification.unwrap_or(self.inner.verification)
    }

    /// The runtime's default verification level.
    pub fn verification(&self) -> Verification {
        self.inner.verification
    }

    /// The CPU backend used to recompute results for verification.
    pub(crate) fn oracle(&self) -> &Arc<dyn Backend> {
        &self.inner.oracle
    }

    /// Runs `f` on each candidate until one succeeds and its result passes `check`,
    /// counting and logging fallbacks, failed checks and timeouts.
    ///
    /// `check(device, result, level)` runs only when the call's verification level is not
    /// `Off` and the device is not the runtime's own CPU backend (unless
    /// [`RuntimeBuilder::verify_cpu`] asked for it); it returns why the result is wrong. Each attempt runs with the call's deadline set (see
    /// [`zkaccel_backend::deadline`]); no attempt starts after it.
    pub(crate) fn dispatch<T>(
        &self,
        op: OpId,
        detail: impl Fn() -> String,
        candidates: Vec<&Device>,
        call: &CallOptions,
        f: impl FnMut(&Device) -> std::result::Result<T, BackendError>,
        check: impl FnMut(&Device, &T, Verification) -> std::result::Result<(), String>,
    ) -> Result<(T, CallReport)> {
        let counters = &self.inner.counters;
        counters.call(op);
        self.attempts(op, detail, candidates, call, f, check)
            .inspect_err(|_| {
                counters.failed_calls.fetch_add(1, Relaxed);
            })
    }

    /// The attempts of [`Runtime::dispatch`] without counting a call: also used for each
    /// part of a split call, which counts as one call.
    pub(crate) fn attempts<T>(
        &self,
        op: OpId,
        detail: impl Fn() -> String,
        candidates: Vec<&Device>,
        call: &CallOptions,
        mut f: impl FnMut(&Device) -> std::result::Result<T, BackendError>,
        mut check: impl FnMut(&Device, &T, Verification) -> std::result::Result<(), String>,
    ) -> Result<(T, CallReport)> {
        let counters = &self.inner.counters;
        if candidates.is_empty() {
            return Err(Error::NoCapableBackend {
                op,
                detail: detail(),
                policy: self.inner.policy.to_string(),
            });
        }
        let level = self.verification_level(call);
        let start = Instant::now();
        let deadline = call.timeout.or(self.inner.timeout).map(|t| start + t);
        let mut attempts = Vec::new();
        for d in candidates {
            if deadline.is_some_and(|end| Instant::now() >= end) {
                counters.timeouts.fetch_add(1, Relaxed);
                // Every failure so far was counted as a fallback; the call ends here.
                counters
                    .fallbacks
                    .fetch_sub(attempts.len().min(1) as u64, Relaxed);
                return Err(Error::Timeout {
                    op,
                    millis: start.elapsed().as_millis() as u64,
                    attempts,
                });
            }
            let dc = &self.inner.device_counters[d.index];
            let mut failed_check = false;
            let outcome = {
                let _running = InFlight::enter(&dc.in_flight);
                zkaccel_backend::deadline::scope(start, deadline, || f(d))
            }
            .and_then(|v| {
                if level == Verification::Off || (d.oracle && !self.inner.verify_cpu) {
                    return Ok(v);
                }
                counters.verified.fetch_add(1, Relaxed);
                match check(d, &v, level) {
                    Ok(()) => Ok(v),
                    Err(why) => {
                        failed_check = true;
                        counters.verification_failures.fetch_add(1, Relaxed);
                        dc.verification_failures.fetch_add(1, Relaxed);
                        Err(BackendError::Other(format!(
                            "result failed {level} verification: {why}"
                        )))
                    }
                }
            });
            match outcome {
                Ok(v) => {
                    dc.ok.fetch_add(1, Relaxed);
                    return Ok((
                        v,
                        CallReport {
                            device: d.index,
                            kind: d.info.kind,
                            fallbacks: attempts.len() as u32,
                            parts: 1,
                        },
                    ));
                }
                Err(error) => {
                    dc.errors.fetch_add(1, Relaxed);
                    if failed_check && self.inner.on_verify_failure == OnVerifyFailure::Error {
                        tracing::error!(
                            op = %op, device = d.index, name = %d.info.name, %error,
                            "device result failed verification"
                        );
                        return Err(Error::VerificationFailed {
                            op,
                            device: d.index,
                            name: d.info.name.clone(),
                            detail: error.to_string(),
                        });
                    }
                    counters.fallbacks.fetch_add(1, Relaxed);
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
        counters.fallbacks.fetch_sub(1, Relaxed);
        Err(Error::AllBackendsFailed { op, attempts })
    }
}

/// Counts an attempt as running on its device while alive.
struct InFlight<'a>(&'a std::sync::atomic::AtomicU64);

impl<'a> InFlight<'a> {
    fn enter(c: &'a std::sync::atomic::AtomicU64) -> Self {
        c.fetch_add(1, Relaxed);
        Self(c)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}
