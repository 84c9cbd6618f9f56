//! The conformance suite against the example C plugin (`examples/plugin/example_plugin.c`,
//! BN254 G1 MSM and BN254 Fr NTT), built from source with the system `cc` by this test.
//! `cargo test -p zkaccel-tests --test conformance_plugin`.
//!
//! Two instances:
//! - `plugin`: every call goes through the dispatcher — a [`Runtime`] built with the plugin
//!   from `RuntimeBuilder::plugin_path` and `Policy::Only(Plugin)` (so a plugin failure is
//!   a test failure, not a silent CPU fallback), with the runtime's validation, routing,
//!   bases handles and domains, and a check that each call ran on the plugin device.
//! - `plugin_direct`: the plugin's `Backend` adapter alone (what the runtime registers).
//!
//! The plugin declares only BN254 G1 and BN254 Fr: every other curve, field and the hash
//! cases print `SKIPPED` lines (capabilities the backend does not declare), as for any
//! backend.

mod plugin_common;

use std::sync::Arc;
use zkaccel::{
    Backend, BackendError, Capabilities, DeviceInfo, DeviceKind, MsmOptions, OpId, Policy,
    RawMsmBases, RawNttDomain, RawPoint, RawPoints, RawScalars, Runtime,
};
use zkaccel_backend::{BackendNttDomain, NttConfig, NttData, NttDomainSpec, PreparedBases};

/// A `Backend` whose every operation is a runtime call restricted to the plugin device.
struct Dispatched {
    rt: Runtime,
    info: DeviceInfo,
    caps: Capabilities,
}

fn rt_err(e: zkaccel::Error) -> BackendError {
    BackendError::Other(format!("runtime: {e}"))
}

fn ran_on_plugin(report: &zkaccel::CallReport) -> Result<(), BackendError> {
    if report.kind == DeviceKind::Plugin && report.fallbacks == 0 {
        Ok(())
    } else {
        Err(BackendError::Other(format!(
            "the call ran on {} after {} fallbacks, not on the plugin",
            report.kind, report.fallbacks
        )))
    }
}

impl Backend for Dispatched {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
    fn capabilities(&self) -> Capabilities {
        self.caps.clone()
    }
    fn msm(
        &self,
        bases: &RawPoints<'_>,
        scalars: &RawScalars<'_>,
    ) -> Result<RawPoint, BackendError> {
        let (p, report) = self
            .rt
            .msm_raw(bases, scalars, &MsmOptions::default())
            .map_err(rt_err)?;
        ran_on_plugin(&report)?;
        Ok(p)
    }
    fn prepare_bases(&self, bases: &RawPoints<'_>) -> Result<Arc<dyn PreparedBases>, BackendError> {
        let b = self
            .rt
            .msm_bases_raw(bases, &MsmOptions::default())
            .map_err(rt_err)?;
        Ok(Arc::new(Bases(b)))
    }
    fn ntt_domain(&self, spec: &NttDomainSpec) -> Result<Arc<dyn BackendNttDomain>, BackendError> {
        let d = self
            .rt
            .ntt_domain_raw(spec.field, spec.log_n, Some(spec.root))
            .map_err(rt_err)?;
        Ok(Arc::new(Domain(d)))
    }
}

struct Bases(RawMsmBases);

impl PreparedBases for Bases {
    fn id(&self) -> zkaccel::CurveGroupId {
        self.0.id()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn resident_bytes(&self) -> u64 {
        0
    }
    fn msm(&self, scalars: &RawScalars<'_>) -> Result<RawPoint, BackendError> {
        let (p, report) = self.0.msm_raw(scalars).map_err(rt_err)?;
        ran_on_plugin(&report)?;
        Ok(p)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct Domain(RawNttDomain);

impl BackendNttDomain for Domain {
    fn spec(&self) -> &NttDomainSpec {
        self.0.spec()
    }
    fn ntt(&self, data: NttData<'_>, cfg: &NttConfig) -> Result<(), BackendError> {
        let report = self.0.run_raw(data.bytes, cfg).map_err(rt_err)?;
        ran_on_plugin(&report)
    }
}

/// The runtime with the example plugin as its only device kind in use.
fn dispatched() -> Result<Arc<dyn Backend>, String> {
    let rt = Runtime::builder()
        .policy(Policy::Only(DeviceKind::Plugin))
        .without_plugin_env()
        .plugin_path(plugin_common::plugin(plugin_common::EXAMPLE))
        .build()
        .map_err(|e| e.to_string())?;
    let failed: Vec<String> = rt
        .plugin_reports()
        .iter()
        .filter(|r| !r.is_loaded())
        .map(|r| r.to_string())
        .collect();
    if !failed.is_empty() {
        // The example must load: this is a failure, never a skip.
        panic!("the example plugin did not load: {}", failed.join("; "));
    }
    let dev = rt
        .devices()
        .iter()
        .find(|d| d.info.kind == DeviceKind::Plugin)
        .unwrap_or_else(|| panic!("the example plugin loaded but has no device"))
        .clone();
    Ok(Arc::new(Dispatched {
        info: dev.info.clone(),
        caps: dev.capabilities.clone(),
        rt,
    }))
}

/// The plugin's adapter alone.
fn direct() -> Result<Arc<dyn Backend>, String> {
    let (_, devs) = zkaccel_plugin::load(&plugin_common::plugin(plugin_common::EXAMPLE))
        .unwrap_or_else(|e| panic!("the example plugin did not load: {e}"));
    let dev = devs
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("the example plugin has no device"));
    Ok(Arc::new(dev))
}

#[test]
fn example_declares_bn254_only() {
    let b = direct().unwrap();
    let caps = b.capabilities();
    assert_eq!(caps.msm.len(), 1);
    assert_eq!(caps.msm[0].id.to_string(), "bn254-g1");
    assert_eq!(caps.ntt.len(), 1);
    assert_eq!(caps.ntt[0].field, zkaccel::FieldId::Bn254Fr);
    assert!(caps.hash.is_empty());
    assert!(caps.resident_bases, "the example has bases hooks");
    assert_eq!(b.info().kind, DeviceKind::Plugin);
    assert!(
        b.info().runs_on_host,
        "the example says it runs on the host"
    );
    // An undeclared operation is a typed Unsupported error, not a crash.
    let spec = zkaccel_backend::NttDomainSpec::with_default_root::<zkaccel::Goldilocks>(4)
        .expect("a root");
    assert!(matches!(
        b.ntt_domain(&spec),
        Err(BackendError::Unsupported { op: OpId::Ntt, .. })
    ));
}

zkaccel_backend::conformance_suite!(plugin, dispatched());
zkaccel_backend::conformance_suite!(plugin_direct, direct());
