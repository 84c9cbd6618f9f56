//! Image manifests: `fpga-bitstreams/<image>/manifest.toml`.
//!
//! A manifest says what an image is (operation, curve, parameters, register-map version,
//! `IMAGE_ID`), how far it got (`status`: `simulated`, `synthesized`, `hardware-verified`),
//! what it was built from (the SHA-256 of every RTL source, and of the bitstream artifact
//! when there is one), its target platform and clocks, its resource use with the source of
//! that figure, and measurements. The driver refuses an image when any identity field
//! disagrees with the image's registers, or when a checksum disagrees with the RTL the
//! image was built from ([`Manifest::check_device`], [`Manifest::check_rtl_digests`],
//! [`Manifest::check_rtl_files`], [`Manifest::check_artifact`]).

use crate::error::{FpgaError, FpgaResult};
use crate::regs::Caps;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The manifest of the image this crate's simulator is built from.
pub const SIM_IMAGE: &str = "zkaccel-msm-bn254-v1";

/// The repository's copy of the simulated image's manifest, embedded at build time.
pub const SIM_MANIFEST_TOML: &str =
    include_str!("../../../fpga-bitstreams/zkaccel-msm-bn254-v1/manifest.toml");

/// Where [`SIM_MANIFEST_TOML`] lives in the repository.
pub const SIM_MANIFEST_PATH: &str = "fpga-bitstreams/zkaccel-msm-bn254-v1/manifest.toml";

/// A parsed manifest (the fields the driver checks; the rest of the file is documentation
/// for people and is kept as parsed TOML in [`Manifest::raw`]).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version of the manifest file (1).
    pub schema: u32,
    /// What the image is.
    pub image: ImageSection,
    /// Engine parameters, as the `CAPS`/`MAX_POINTS` registers report them.
    pub parameters: Parameters,
    /// The RTL the image was built from.
    pub rtl: RtlSection,
    /// Target platform and clocks.
    pub target: toml::Table,
    /// Resource use and its source.
    pub resources: toml::Table,
    /// The synthesized artifact, when there is one.
    #[serde(default)]
    pub artifact: Option<Artifact>,
    /// Measurements (cycle counts from simulation, or hardware timings), free-form.
    #[serde(default)]
    pub measurements: toml::Table,
    /// Where it was read from (not part of the file).
    #[serde(skip)]
    pub source: String,
}

/// `[image]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSection {
    /// Image name (the folder name).
    pub name: String,
    /// Operation (`msm-bucket-accumulation`).
    pub op: String,
    /// Curve (`bn254`).
    pub curve: String,
    /// Group (`g1`).
    pub group: String,
    /// The `IMAGE_ID` register's value.
    pub image_id: u32,
    /// Register-map version, `"major.minor"`, as the `VERSION` register reports it.
    pub register_map_version: String,
    /// `simulated`, `synthesized` or `hardware-verified`.
    pub status: String,
    /// RTL top module.
    pub top: String,
}

/// `[parameters]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    /// Largest window `c`.
    pub max_window_bits: u32,
    /// Adder pipeline depth, cycles.
    pub pipeline_depth: u32,
    /// Points the card memory holds.
    pub max_points: u32,
    /// Multiplier latency, cycles (documentation; not in a register).
    pub multiplier_latency: u32,
    /// Scoreboard policy (documentation).
    pub scoreboard: String,
}

/// `[rtl]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RtlSection {
    /// Every source, with its digest, in compilation order.
    pub files: Vec<FileDigest>,
}

/// A file and its SHA-256.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// Path relative to the repository root.
    pub path: String,
    /// Lower-case hex SHA-256 (what `sha256sum` prints).
    pub sha256: String,
}

/// `[artifact]`: the bitstream (`.xclbin`, `.bit`) built from the RTL.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Path relative to the manifest's folder.
    pub path: String,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

/// What the image reports about itself in its registers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DeviceIdentity {
    /// `IMAGE_ID`.
    pub image_id: u32,
    /// `VERSION` (`major << 16 | minor`).
    pub version: u32,
    /// `CAPS`, decoded.
    pub caps: Caps,
    /// `MAX_POINTS`.
    pub max_points: u32,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn mismatch(field: &str, manifest: impl ToString, device: impl ToString) -> FpgaError {
    FpgaError::ManifestMismatch {
        field: field.to_string(),
        manifest: manifest.to_string(),
        device: device.to_string(),
    }
}

impl Manifest {
    /// Parses a manifest; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> FpgaResult<Self> {
        let mut m: Manifest = toml::from_str(text).map_err(|e| FpgaError::ManifestInvalid {
            path: source.to_string(),
            detail: e.to_string(),
        })?;
        m.source = source.to_string();
        let invalid = |detail: String| FpgaError::ManifestInvalid {
            path: source.to_string(),
            detail,
        };
        if m.schema != 1 {
            return Err(invalid(format!(
                "schema {} (this driver reads 1)",
                m.schema
            )));
        }
        if !["simulated", "synthesized", "hardware-verified"].contains(&m.image.status.as_str()) {
            return Err(invalid(format!("unknown status '{}'", m.image.status)));
        }
        if m.rtl.files.is_empty() {
            return Err(invalid("no RTL sources listed".into()));
        }
        for f in m.rtl.files.iter().chain(
            m.artifact
                .as_ref()
                .map(|a| FileDigest {
                    path: a.path.clone(),
                    sha256: a.sha256.clone(),
                })
                .as_ref(),
        ) {
            if f.sha256.len() != 64 || !f.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(format!("{}: sha256 is not 64 hex digits", f.path)));
            }
        }
        Ok(m)
    }

    /// Reads and parses a manifest file.
    pub fn load(path: &Path) -> FpgaResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| FpgaError::ManifestInvalid {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The repository's manifest of the simulated image.
    pub fn sim_default() -> FpgaResult<Self> {
        Self::parse(SIM_MANIFEST_TOML, SIM_MANIFEST_PATH)
    }

    /// `(major, minor)` of `register_map_version`.
    pub fn version(&self) -> FpgaResult<(u16, u16)> {
        let bad = || FpgaError::ManifestInvalid {
            path: self.source.clone(),
            detail: format!(
                "register_map_version '{}' is not major.minor",
                self.image.register_map_version
            ),
        };
        let (a, b) = self
            .image
            .register_map_version
            .split_once('.')
            .ok_or_else(bad)?;
        Ok((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
    }

    /// Checks every identity field against the image's registers.
    pub fn check_device(&self, d: &DeviceIdentity) -> FpgaResult<()> {
        if self.image.image_id != d.image_id {
            return Err(mismatch(
                "image_id",
                format!("{:#010x}", self.image.image_id),
                format!("{:#010x}", d.image_id),
            ));
        }
        let (maj, min) = self.version()?;
        let dev = ((d.version >> 16) as u16, d.version as u16);
        if (maj, min) != dev {
            return Err(mismatch(
                "register_map_version",
                format!("{maj}.{min}"),
                format!("{}.{}", dev.0, dev.1),
            ));
        }
        let curve = match d.caps.curve {
            1 => "bn254",
            2 => "bls12-381",
            3 => "bls12-377",
            _ => "unknown",
        };
        if self.image.curve != curve {
            return Err(mismatch("curve", &self.image.curve, curve));
        }
        let group = match d.caps.group {
            1 => "g1",
            2 => "g2",
            _ => "unknown",
        };
        if self.image.group != group {
            return Err(mismatch("group", &self.image.group, group));
        }
        let p = &self.parameters;
        if p.max_window_bits != d.caps.max_window_bits as u32 {
            return Err(mismatch(
                "max_window_bits",
                p.max_window_bits,
                d.caps.max_window_bits,
            ));
        }
        if p.pipeline_depth != d.caps.pipeline_depth as u32 {
            return Err(mismatch(
                "pipeline_depth",
                p.pipeline_depth,
                d.caps.pipeline_depth,
            ));
        }
        if p.max_points != d.max_points || d.max_points != 1u32 << d.caps.log_max_points {
            return Err(mismatch(
                "max_points",
                p.max_points,
                format!("{} (CAPS: 2^{})", d.max_points, d.caps.log_max_points),
            ));
        }
        Ok(())
    }

    /// Checks the manifest's RTL digests against `built`: `(path, sha256)` of the sources a
    /// model or bitstream was actually built from (same files, same digests).
    pub fn check_rtl_digests(&self, built: &[(String, String)]) -> FpgaResult<()> {
        for (path, actual) in built {
            match self.rtl.files.iter().find(|f| &f.path == path) {
                Some(f) if f.sha256.eq_ignore_ascii_case(actual) => {}
                Some(f) => {
                    return Err(FpgaError::ChecksumMismatch {
                        file: path.clone(),
                        manifest: f.sha256.clone(),
                        actual: actual.clone(),
                    })
                }
                None => {
                    return Err(FpgaError::ChecksumMismatch {
                        file: path.clone(),
                        manifest: "(not listed)".into(),
                        actual: actual.clone(),
                    })
                }
            }
        }
        if let Some(f) = self
            .rtl
            .files
            .iter()
            .find(|f| !built.iter().any(|(p, _)| p == &f.path))
        {
            return Err(FpgaError::ChecksumMismatch {
                file: f.path.clone(),
                manifest: f.sha256.clone(),
                actual: "(not part of the build)".into(),
            });
        }
        Ok(())
    }

    /// Hashes the RTL sources on disk under `repo_root` and checks them against the
    /// manifest (what a hardware team runs before building a bitstream from a checkout).
    pub fn check_rtl_files(&self, repo_root: &Path) -> FpgaResult<()> {
        let mut built = Vec::new();
        for f in &self.rtl.files {
            let p = repo_root.join(&f.path);
            let bytes = std::fs::read(&p).map_err(|e| FpgaError::Io {
                op: "read RTL source",
                path: p.display().to_string(),
                detail: e.to_string(),
            })?;
            built.push((f.path.clone(), sha256_hex(&bytes)));
        }
        self.check_rtl_digests(&built)
    }

    /// Checks the bitstream artifact, if the manifest names one, against its digest;
    /// `manifest_dir` is the folder holding the manifest.
    pub fn check_artifact(&self, manifest_dir: &Path) -> FpgaResult<()> {
        let Some(a) = &self.artifact else {
            return Ok(());
        };
        let p = manifest_dir.join(&a.path);
        let bytes = std::fs::read(&p).map_err(|e| FpgaError::Io {
            op: "read artifact",
            path: p.display().to_string(),
            detail: e.to_string(),
        })?;
        let actual = sha256_hex(&bytes);
        if !actual.eq_ignore_ascii_case(&a.sha256) {
            return Err(FpgaError::ChecksumMismatch {
                file: p.display().to_string(),
                manifest: a.sha256.clone(),
                actual,
            });
        }
        Ok(())
    }
}

/// The `(path, sha256)` of every RTL source compiled into this crate's simulator (computed
/// by build.rs when the crate was built).
pub fn built_rtl_digests() -> Vec<(String, String)> {
    env!("ZKACCEL_FPGA_RTL_DIGESTS")
        .split(';')
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.split_once('='))
        .map(|(p, d)| (p.to_string(), d.to_string()))
        .collect()
}
