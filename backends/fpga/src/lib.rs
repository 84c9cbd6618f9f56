//! # zkaccel-fpga
//!
//! The FPGA backend: multi-scalar multiplication over BN254 G1 on the MSM bucket-accumulation
//! engine of `kernels/rtl/` (a pipelined Montgomery multiplier, a pipelined XYZZ mixed
//! adder, a signed-digit slicer, bucket memory and a stalling scoreboard, behind an XRT
//! `ap_ctrl_hs` register map). One driver, several transports ([`Transport`]):
//!
//! - **`sim`** ([`sim::SimTransport`]): the RTL itself, compiled by Verilator when this crate
//!   is built and driven in-process through the same registers and DMA beats a card would
//!   see. **Everything it reports is simulated**: its [`DeviceInfo`] says `simulated: true`
//!   and its name says "simulated RTL"; it reports engine cycles, adder utilisation and
//!   stalls, and a projection at a stated clock, never wall-clock throughput. Without
//!   Verilator at build time the crate still builds and the transport reports itself
//!   unavailable ("verilator not installed"), which is not an error.
//! - **`xdma`** ([`xdma::XdmaTransport`]): a real card through the Xilinx XDMA driver's
//!   device nodes (`/dev/xdma0_user`, `_h2c_0`, `_c2h_0`), the path a hardware team switches
//!   on with `ZKACCEL_FPGA_XDMA=/dev/xdma0`. No card was available when it was written: only
//!   its "no device" path is tested.
//!
//! The host does what the card does not ([`msm`]): it converts scalars out of Montgomery
//! form and streams them with the points into card memory, starts one engine run per
//! window, reads the buckets back, and reduces buckets and combines windows on the CPU.
//! Inputs longer than the card memory are split into chunks whose results are added.
//!
//! Every image has a manifest (`fpga-bitstreams/<image>/manifest.toml`, [`manifest`]); the
//! driver refuses to use an image whose `IMAGE_ID`, register-map version or parameters
//! disagree with the manifest, or whose RTL (or bitstream) digests disagree with what was
//! built ([`FpgaError::ManifestMismatch`], [`FpgaError::ChecksumMismatch`]).
//!
//! Capabilities: MSM over BN254 G1 only; everything else is `Unsupported`, so the runtime
//! routes it elsewhere. Calls are serialized per engine (one engine, one lock).

pub mod error;
pub mod manifest;
pub mod msm;
pub mod regs;
pub mod sim;
pub mod transport;
pub mod xdma;

pub use error::{FpgaError, FpgaResult};
pub use manifest::{DeviceIdentity, Manifest};
pub use msm::MsmStats;
pub use transport::Transport;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zkaccel_backend::curves::{Bn254Fr, Bn254G1};
use zkaccel_backend::{
    Affine, Backend, BackendError, BackendResult, Capabilities, CurveGroup, CurveGroupId,
    DeviceInfo, DeviceKind, MsmCapability, OpId, PreparedBases, Projective, RawPoint, RawPoints,
    RawScalars, ScalarsView,
};

/// True when this build links the simulator (the RTL verilated into C++, feature `sim` with
/// Verilator present at build time): a static library containing it must then be linked
/// with `-lstdc++`.
pub const SIM_LINKED: bool = cfg!(zkaccel_fpga_sim);

/// How to open an FPGA image.
#[derive(Clone, Debug, Default)]
pub struct FpgaOptions {
    /// The image's manifest; `None` reads `ZKACCEL_FPGA_MANIFEST` when set, else uses the
    /// repository's manifest of the simulated image ([`manifest::SIM_MANIFEST_TOML`]).
    pub manifest: Option<PathBuf>,
    /// Largest MSM accepted by [`Backend::capabilities`] (`None`: unbounded; longer inputs
    /// are chunked). Also read from `ZKACCEL_FPGA_MAX_LEN` when `None`.
    pub max_len: Option<usize>,
    /// Force the window `c` (`None`: chosen per call).
    pub window_bits: Option<u32>,
    /// How long one engine run may take on hardware (default 10 s).
    pub timeout: Option<Duration>,
}

struct Inner {
    engine: Mutex<Box<dyn Transport>>,
    params: msm::EngineParams,
    last: Mutex<Option<MsmStats>>,
}

/// One FPGA engine (simulated or on a card) behind the [`Backend`] trait.
pub struct FpgaBackend {
    info: DeviceInfo,
    identity: DeviceIdentity,
    manifest: Manifest,
    max_len: usize,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FpgaBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FpgaBackend")
            .field("info", &self.info)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

fn load_manifest(options: &FpgaOptions) -> FpgaResult<Manifest> {
    let path = options.manifest.clone().or_else(|| {
        std::env::var_os("ZKACCEL_FPGA_MANIFEST")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    match path {
        Some(p) => Manifest::load(&p),
        None => Manifest::sim_default(),
    }
}

/// Opens the simulated engine (a fresh Verilator model) and checks it against its manifest.
pub fn open_sim(options: &FpgaOptions) -> FpgaResult<FpgaBackend> {
    let manifest = load_manifest(options)?;
    let t = sim::SimTransport::open()?;
    FpgaBackend::open(Box::new(t), manifest, options)
}

/// Opens a card through XDMA and checks it against its manifest (which must name a
/// synthesized image with its artifact).
pub fn open_xdma(cfg: &xdma::XdmaConfig, options: &FpgaOptions) -> FpgaResult<FpgaBackend> {
    let manifest = load_manifest(options)?;
    let t = xdma::XdmaTransport::open(cfg)?;
    FpgaBackend::open(Box::new(t), manifest, options)
}

/// The FPGA engines to register: the simulator only when asked for
/// (`ZKACCEL_FPGA=sim`, or `want_sim`), a card when its XDMA nodes exist (or
/// `ZKACCEL_FPGA=xdma`). `Err` says why there is none.
pub fn discover(want_sim: bool) -> Result<Vec<FpgaBackend>, String> {
    let env = std::env::var("ZKACCEL_FPGA")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let modes: Vec<&str> = env.split(',').map(str::trim).collect();
    let options = FpgaOptions::default();
    let mut out = Vec::new();
    let mut why = Vec::new();
    let xcfg = xdma::XdmaConfig::from_env();
    if xcfg.present() || modes.contains(&"xdma") {
        match open_xdma(&xcfg, &options) {
            Ok(b) => out.push(b),
            Err(e) => why.push(format!("xdma: {e}")),
        }
    } else {
        why.push(format!("xdma: no card ({} absent)", xcfg.user_node()));
    }
    if want_sim || modes.contains(&"sim") {
        match open_sim(&options) {
            Ok(b) => out.push(b),
            Err(e) => why.push(format!("sim: {e}")),
        }
    } else {
        why.push("sim: not requested (ZKACCEL_FPGA=sim)".into());
    }
    if out.is_empty() {
        Err(why.join("; "))
    } else {
        Ok(out)
    }
}

impl FpgaBackend {
    /// Opens the engine behind `t`: reads `IMAGE_ID`, `VERSION`, `CAPS` and `MAX_POINTS`,
    /// and refuses the image unless they, and the RTL or artifact digests, match `manifest`.
    pub fn open(
        mut t: Box<dyn Transport>,
        manifest: Manifest,
        options: &FpgaOptions,
    ) -> FpgaResult<Self> {
        let identity = DeviceIdentity {
            image_id: t.read_reg(regs::IMAGE_ID)?,
            version: t.read_reg(regs::VERSION)?,
            caps: regs::Caps::decode(t.read_reg(regs::CAPS)?),
            max_points: t.read_reg(regs::MAX_POINTS)?,
        };
        manifest.check_device(&identity)?;
        let (major, _) = manifest.version()?;
        if major != regs::DRIVER_VERSION.0 {
            return Err(FpgaError::ManifestMismatch {
                field: "register_map_version (driver)".into(),
                manifest: manifest.image.register_map_version.clone(),
                device: format!("{}.x spoken by this driver", regs::DRIVER_VERSION.0),
            });
        }
        if (identity.caps.curve, identity.caps.group) != (1, 1) {
            return Err(FpgaError::Protocol(format!(
                "the image computes curve {} group {}; this driver handles BN254 G1 only",
                identity.caps.curve, identity.caps.group
            )));
        }
        let simulated = t.simulated();
        if simulated {
            // The model was built from these sources: the manifest must record them.
            manifest.check_rtl_digests(&manifest::built_rtl_digests())?;
        } else {
            if manifest.image.status == "simulated" || manifest.artifact.is_none() {
                return Err(FpgaError::ManifestInvalid {
                    path: manifest.source.clone(),
                    detail: "a card needs a synthesized image: status is 'simulated' or no \
                             [artifact] is recorded"
                        .into(),
                });
            }
            let dir = PathBuf::from(&manifest.source)
                .parent()
                .map(PathBuf::from)
                .unwrap_or_default();
            manifest.check_artifact(&dir)?;
        }
        let max_len = options
            .max_len
            .or_else(|| {
                std::env::var("ZKACCEL_FPGA_MAX_LEN")
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or(usize::MAX)
            .max(1);
        let info = DeviceInfo {
            name: if simulated {
                format!("{} (simulated RTL)", manifest.image.name)
            } else {
                format!("{} on {}", manifest.image.name, t.describe())
            },
            kind: DeviceKind::Fpga,
            vendor: "zkaccel RTL".into(),
            driver: format!(
                "zkaccel-fpga {}, register map {}, {} transport: {}",
                env!("CARGO_PKG_VERSION"),
                manifest.image.register_map_version,
                if simulated { "sim" } else { "xdma" },
                t.describe()
            ),
            memory_bytes: identity.max_points as u64 * 96,
            compute_units: 1,
            simulated,
            // The simulator's work runs on the host CPU; automatic dispatch must not treat it
            // as an accelerator.
            runs_on_host: simulated,
            // No achieved clock to report: the image is not synthesized (the manifest's
            // target clock is a goal, and the bench states it as such in its projection).
            clock_mhz: None,
        };
        let params = msm::EngineParams {
            max_points: identity.max_points as usize,
            max_window_bits: identity.caps.max_window_bits as u32,
            depth: identity.caps.pipeline_depth as u32,
            window_bits: options.window_bits,
            timeout: options.timeout.unwrap_or(Duration::from_secs(10)),
        };
        Ok(Self {
            info,
            identity,
            manifest,
            max_len,
            inner: Arc::new(Inner {
                engine: Mutex::new(t),
                params,
                last: Mutex::new(None),
            }),
        })
    }

    /// What the image reported about itself.
    pub fn identity(&self) -> DeviceIdentity {
        self.identity
    }

    /// The manifest the image was checked against.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Statistics of the most recent MSM on this engine (from any thread).
    pub fn last_msm_stats(&self) -> Option<MsmStats> {
        *self.inner.last.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Σ scalars[i]·points[i]` with the call's engine statistics.
    pub fn msm_bn254(
        &self,
        points: &[Affine<Bn254G1>],
        scalars: &[Bn254Fr],
    ) -> FpgaResult<(Projective<Bn254G1>, MsmStats)> {
        msm::check_len(points.len(), scalars.len())?;
        let view = ScalarsView::from_elements(scalars);
        let canon: Vec<[u64; 4]> = (0..view.len()).map(|i| view.canonical(i)).collect();
        self.inner.run(points, &canon)
    }
}

impl Inner {
    fn run(
        &self,
        points: &[Affine<Bn254G1>],
        scalars: &[[u64; 4]],
    ) -> FpgaResult<(Projective<Bn254G1>, MsmStats)> {
        let mut t = self.engine.lock().unwrap_or_else(|e| e.into_inner());
        let r = msm::msm(t.as_mut(), &self.params, points, scalars)?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(r.1);
        tracing::debug!(target: "zkaccel_fpga", "{}", r.1.summary(MsmStats::DEFAULT_CLOCK_HZ));
        Ok(r)
    }

    fn raw_msm(
        &self,
        points: &[Affine<Bn254G1>],
        scalars: &RawScalars<'_>,
    ) -> BackendResult<RawPoint> {
        let s = scalars.typed::<Bn254Fr>()?;
        let canon: Vec<[u64; 4]> = (0..s.len()).map(|i| s.canonical(i)).collect();
        let (p, _) = self.run(&points[..canon.len()], &canon)?;
        Ok(RawPoint::from_projective(&p))
    }
}

fn bn254_g1() -> CurveGroupId {
    Bn254G1::id()
}

impl Backend for FpgaBackend {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            msm: vec![MsmCapability {
                id: bn254_g1(),
                max_len: self.max_len,
            }],
            ..Default::default()
        }
    }

    fn msm(&self, bases: &RawPoints<'_>, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        if bases.id() != bn254_g1() {
            return Err(BackendError::unsupported(
                OpId::Msm,
                format!("{} on {} (BN254 G1 only)", bases.id(), self.info.name),
            ));
        }
        if bases.len() != scalars.len() {
            return Err(BackendError::BadInput(format!(
                "{} bases but {} scalars",
                bases.len(),
                scalars.len()
            )));
        }
        let points = bases.typed::<Bn254G1>()?.to_vec();
        self.inner.raw_msm(&points, scalars)
    }

    fn prepare_bases(&self, bases: &RawPoints<'_>) -> BackendResult<Arc<dyn PreparedBases>> {
        if bases.id() != bn254_g1() {
            return Err(BackendError::unsupported(
                OpId::Msm,
                format!("prepared {} bases on {}", bases.id(), self.info.name),
            ));
        }
        let points = bases.typed::<Bn254G1>()?.to_vec();
        Ok(Arc::new(FpgaBases {
            points,
            inner: self.inner.clone(),
        }))
    }
}

/// Bases kept on the host (the card memory is reloaded per call: one engine serves every
/// caller, so nothing stays resident between calls).
struct FpgaBases {
    points: Vec<Affine<Bn254G1>>,
    inner: Arc<Inner>,
}

impl PreparedBases for FpgaBases {
    fn id(&self) -> CurveGroupId {
        bn254_g1()
    }
    fn len(&self) -> usize {
        self.points.len()
    }
    fn resident_bytes(&self) -> u64 {
        0
    }
    fn msm(&self, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        if scalars.len() > self.points.len() {
            return Err(BackendError::BadInput(format!(
                "{} scalars for {} prepared bases",
                scalars.len(),
                self.points.len()
            )));
        }
        self.inner.raw_msm(&self.points, scalars)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
