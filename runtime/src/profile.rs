//! Calibration profiles: which device is fastest for which operation at which size, measured
//! on this machine (`zkaccel calibrate`), read by the `Auto` policy.
//!
//! A profile is a JSON document (schema `zkaccel-profile/1`):
//!
//! ```json
//! { "schema": "zkaccel-profile/1", "created_unix": 1790000000, "host": "AMD EPYC 7B13 (2 threads)",
//!   "ops": [ { "op": "msm:bn254-g1",
//!              "sizes": [ { "log_n": 12, "times": [ { "device": "cpu:AMD EPYC 7B13", "median_ms": 21.5 },
//!                                                   { "device": "cuda:NVIDIA H200", "median_ms": 0.9 } ] } ] } ] }
//! ```
//!
//! - `op` is `msm:<curve group>` (`msm:bn254-g1`), `ntt:<field>` (`ntt:goldilocks`, forward
//!   transforms) or `hash:<instance>` (`hash:poseidon2-plonky3-babybear-t16`, elements hashed).
//! - `log_n` is log2 of the points (MSM), the transform size (NTT) or the input elements
//!   (hashing), rounded up.
//! - `device` is `<kind>:<device name>` as [`Profile::device_key`] writes it, so a profile
//!   names devices, not registry positions, and a device that is gone is simply ignored.
//!
//! For a call, [`Profile::rank`] takes the measured size nearest to the call's (the smaller on a
//! tie) and orders its devices by time; the runtime tries them in that order, then every other
//! capable device in the built-in order. Operations or devices the profile does not mention
//! fall back to the built-in rule (accelerators from `2^12` points or elements, the CPU
//! below).
//!
//! Where the runtime finds it: [`RuntimeBuilder::profile`](crate::RuntimeBuilder::profile), else
//! the file named by `ZKACCEL_PROFILE` (`none` or `0` disables profiles), else
//! [`Profile::default_path`] when it exists. A file that cannot be read or parsed is logged
//! and ignored: a stale profile never stops a prover.

use crate::registry::Device;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The schema this version reads and writes.
pub const PROFILE_SCHEMA: &str = "zkaccel-profile/1";

/// Measured times per operation, size and device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// [`PROFILE_SCHEMA`].
    pub schema: String,
    /// When it was measured, seconds since the Unix epoch.
    pub created_unix: u64,
    /// The machine it was measured on (free text, for people).
    pub host: String,
    /// One entry per operation.
    pub ops: Vec<OpProfile>,
}

/// The measurements of one operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpProfile {
    /// `msm:<curve group>`, `ntt:<field>` or `hash:<instance>`.
    pub op: String,
    /// Sizes measured, in any order.
    pub sizes: Vec<SizeProfile>,
}

/// The devices' times at one size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeProfile {
    /// log2 of the size.
    pub log_n: u32,
    /// One time per device measured.
    pub times: Vec<DeviceTime>,
}

/// One device's median time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceTime {
    /// `<kind>:<device name>` ([`Profile::device_key`]).
    pub device: String,
    /// Median wall time, milliseconds.
    pub median_ms: f64,
}

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read the profile {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a profile this version reads.
    #[error("{path} is not a zkaccel profile ({PROFILE_SCHEMA}): {detail}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

impl Profile {
    /// An empty profile for `host`, stamped now.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            schema: PROFILE_SCHEMA.into(),
            created_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            host: host.into(),
            ops: Vec::new(),
        }
    }

    /// The key a profile uses for a device: `<kind>:<name>`.
    pub fn device_key(d: &Device) -> String {
        format!("{}:{}", d.info.kind.name(), d.info.name)
    }

    /// Records `median_ms` for `device` running `op` at size `2^log_n` (replacing an
    /// earlier time for the same triple).
    pub fn record(&mut self, op: &str, log_n: u32, device: &str, median_ms: f64) {
        let o = match self.ops.iter().position(|o| o.op == op) {
            Some(i) => &mut self.ops[i],
            None => {
                self.ops.push(OpProfile {
                    op: op.into(),
                    sizes: Vec::new(),
                });
                self.ops.last_mut().expect("just pushed")
            }
        };
        let s = match o.sizes.iter().position(|s| s.log_n == log_n) {
            Some(i) => &mut o.sizes[i],
            None => {
                o.sizes.push(SizeProfile {
                    log_n,
                    times: Vec::new(),
                });
                o.sizes.last_mut().expect("just pushed")
            }
        };
        s.times.retain(|t| t.device != device);
        s.times.push(DeviceTime {
            device: device.into(),
            median_ms,
        });
    }

    /// The devices measured for `op` at the size nearest `log_n` (the smaller on a tie),
    /// fastest first; `None` when the profile has no measurement of `op`.
    pub fn rank(&self, op: &str, log_n: u32) -> Option<Vec<&str>> {
        let o = self.ops.iter().find(|o| o.op == op)?;
        let s = o
            .sizes
            .iter()
            .filter(|s| !s.times.is_empty())
            .min_by_key(|s| (s.log_n.abs_diff(log_n), s.log_n))?;
        let mut t: Vec<&DeviceTime> = s.times.iter().filter(|t| t.median_ms.is_finite()).collect();
        t.sort_by(|a, b| a.median_ms.total_cmp(&b.median_ms));
        Some(t.into_iter().map(|t| t.device.as_str()).collect())
    }

    /// `device`'s measured time for `op` at the size nearest `log_n` among those it was
    /// measured at (the smaller on a tie): `(log_n measured, median ms)`. The split of one
    /// large MSM across devices uses it for each device's throughput.
    pub fn time_ms(&self, op: &str, log_n: u32, device: &str) -> Option<(u32, f64)> {
        let o = self.ops.iter().find(|o| o.op == op)?;
        o.sizes
            .iter()
            .filter_map(|s| {
                let t = s.times.iter().find(|t| t.device == device)?;
                (t.median_ms.is_finite() && t.median_ms > 0.0).then_some((s.log_n, t.median_ms))
            })
            .min_by_key(|(k, _)| (k.abs_diff(log_n), *k))
    }

    /// For each operation, the fastest device at each measured size, smallest size first
    /// (what `zkaccel devices` shows: where the crossovers lie).
    pub fn winners(&self) -> Vec<(String, Vec<(u32, String)>)> {
        self.ops
            .iter()
            .map(|o| {
                let mut sizes: Vec<u32> = o.sizes.iter().map(|s| s.log_n).collect();
                sizes.sort_unstable();
                sizes.dedup();
                let w = sizes
                    .into_iter()
                    .filter_map(|k| {
                        let r = self.rank(&o.op, k)?;
                        Some((k, r.first()?.to_string()))
                    })
                    .collect();
                (o.op.clone(), w)
            })
            .collect()
    }

    /// Reads a profile file.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.into(),
            source,
        })?;
        let p: Profile = serde_json::from_str(&text).map_err(|e| ProfileError::Parse {
            path: path.into(),
            detail: e.to_string(),
        })?;
        if p.schema != PROFILE_SCHEMA {
            return Err(ProfileError::Parse {
                path: path.into(),
                detail: format!("schema '{}'", p.schema),
            });
        }
        Ok(p)
    }

    /// Writes the profile as pretty JSON (creating the directory).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")
    }

    /// Where `zkaccel calibrate` writes and the runtime looks by default:
    /// `$XDG_CONFIG_HOME/zkaccel/profile.json`, else `~/.config/zkaccel/profile.json`.
    pub fn default_path() -> Option<PathBuf> {
        let var = |n: &str| std::env::var_os(n).filter(|v| !v.is_empty());
        var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")))
            .map(|d| d.join("zkaccel").join("profile.json"))
    }

    /// The profile the environment names (see the module documentation), with the path it
    /// came from; `None` when there is none or it cannot be used (logged).
    pub fn from_env() -> Option<(Self, PathBuf)> {
        let path = match std::env::var("ZKACCEL_PROFILE") {
            Ok(v) if v == "none" || v == "0" => return None,
            Ok(v) if !v.is_empty() => PathBuf::from(v),
            _ => {
                let p = Self::default_path()?;
                if !p.exists() {
                    return None;
                }
                p
            }
        };
        match Self::load(&path) {
            Ok(p) => Some((p, path)),
            Err(e) => {
                tracing::warn!("calibration profile ignored: {e}");
                None
            }
        }
    }
}

/// log2 of `n`, rounded up (0 for 0 and 1): the size key of a call.
pub(crate) fn log2_ceil(n: usize) -> u32 {
    usize::BITS - n.saturating_sub(1).leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_takes_the_nearest_size() {
        let mut p = Profile::new("test");
        p.record("msm:bn254-g1", 8, "cpu:a", 1.0);
        p.record("msm:bn254-g1", 8, "cuda:b", 2.0);
        p.record("msm:bn254-g1", 16, "cpu:a", 90.0);
        p.record("msm:bn254-g1", 16, "cuda:b", 3.0);
        p.record("msm:bn254-g1", 16, "cuda:b", 4.0); // replaces 3.0
        assert_eq!(p.rank("msm:bn254-g1", 4), Some(vec!["cpu:a", "cuda:b"]));
        assert_eq!(p.rank("msm:bn254-g1", 12), Some(vec!["cpu:a", "cuda:b"]));
        assert_eq!(p.rank("msm:bn254-g1", 13), Some(vec!["cuda:b", "cpu:a"]));
        assert_eq!(p.rank("msm:bn254-g1", 30), Some(vec!["cuda:b", "cpu:a"]));
        assert_eq!(p.rank("ntt:goldilocks", 10), None);
        assert_eq!(
            p.winners(),
            vec![(
                "msm:bn254-g1".to_string(),
                vec![(8, "cpu:a".to_string()), (16, "cuda:b".to_string())]
            )]
        );
        assert_eq!(p.ops[0].sizes[1].times.len(), 2);
    }

    #[test]
    fn files_round_trip_and_bad_files_are_errors() {
        let dir = std::env::temp_dir().join(format!("zkaccel-profile-{}", std::process::id()));
        let path = dir.join("p.json");
        let mut p = Profile::new("test");
        p.record("ntt:goldilocks", 10, "cpu:x", 0.5);
        p.save(&path).unwrap();
        assert_eq!(Profile::load(&path).unwrap(), p);
        std::fs::write(&path, "{\"schema\": \"other/9\"}").unwrap();
        assert!(matches!(
            Profile::load(&path),
            Err(ProfileError::Parse { .. })
        ));
        let mut q = p.clone();
        q.schema = "zkaccel-profile/0".into();
        q.save(&path).unwrap();
        assert!(matches!(
            Profile::load(&path),
            Err(ProfileError::Parse { .. })
        ));
        assert!(matches!(
            Profile::load(&dir.join("missing.json")),
            Err(ProfileError::Read { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn size_keys() {
        assert_eq!(log2_ceil(0), 0);
        assert_eq!(log2_ceil(1), 0);
        assert_eq!(log2_ceil(2), 1);
        assert_eq!(log2_ceil(1000), 10);
        assert_eq!(log2_ceil(1024), 10);
        assert_eq!(log2_ceil(1025), 11);
    }
}
