//! Many devices in one process: one large MSM split by points across devices.
//!
//! An MSM is linear in its points, so `Σ sᵢ·Pᵢ` over `[0, n)` is the sum of the MSMs over
//! consecutive ranges. The runtime cuts the points into one range per device, in
//! proportion to each device's throughput, runs the ranges at the same time (one host
//! thread per part, each part with the usual fallback and verification), and adds the
//! partial sums on the host. Independent calls are spread over devices by the dispatcher
//! itself (see `Runtime::candidates`).
//!
//! Throughput comes from the calibration [`Profile`](crate::Profile): a device's rate is
//! `2^log_n / median_ms` at the measured size nearest the call's. Under [`MsmSplit::Auto`] the
//! runtime splits only when the profile predicts the devices together finish at least
//! [`AUTO_MIN_GAIN`] sooner than the fastest alone — so a GPU and the CPU work together only
//! where the CPU adds enough — and, without a profile, across identical accelerators (same
//! kind and name) from [`AUTO_MIN_SPLIT_POINTS`] points, in equal parts. The predicted time
//! ignores the host additions and the extra bucket reductions of each part (a few
//! milliseconds at most), which is why the gain must be clear.

use crate::error::Result;
use crate::profile::Profile;
use crate::registry::{Device, Route, Runtime};
use crate::stats::CallReport;
use std::sync::atomic::Ordering::Relaxed;
use zkaccel_backend::{with_curve_group, CurveGroupId, OpId, Projective, RawPoint};

/// Whether one large MSM may be split by points across devices.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum MsmSplit {
    /// Never: every call runs whole on one device.
    Off,
    /// When it pays (see the [module documentation](self)): by the calibration profile, or
    /// across identical accelerators without one.
    #[default]
    Auto,
    /// Across every capable device the policy allows, from [`MIN_PART_POINTS`] points per
    /// part: in proportion to the profile's rates when it measured every one of them, in
    /// equal parts otherwise. For tests and for measuring a split by hand.
    Always,
}

impl std::str::FromStr for MsmSplit {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" | "0" | "no" => Ok(Self::Off),
            "auto" => Ok(Self::Auto),
            "always" | "1" | "yes" => Ok(Self::Always),
            other => Err(format!("unknown MSM split '{other}' (off, auto, always)")),
        }
    }
}

impl std::fmt::Display for MsmSplit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Off => "off",
            Self::Auto => "auto",
            Self::Always => "always",
        })
    }
}

/// Reads `ZKACCEL_MSM_SPLIT` (the default when the builder sets none).
pub(crate) fn from_env() -> Option<MsmSplit> {
    let v = std::env::var("ZKACCEL_MSM_SPLIT").ok()?;
    v.parse()
        .inspect_err(|e| tracing::warn!("ignoring ZKACCEL_MSM_SPLIT: {e}"))
        .ok()
}

/// Under `Auto`, a split must be predicted to take at most this fraction less time than
/// the fastest device alone (15%).
pub const AUTO_MIN_GAIN: f64 = 0.15;
/// Under `Auto` without a profile, identical accelerators share an MSM from this many
/// points.
pub const AUTO_MIN_SPLIT_POINTS: usize = 1 << 16;
/// No part is smaller than this many points (smaller ones are not worth a device call).
pub const MIN_PART_POINTS: usize = 1 << 10;
/// Under `Auto`, a device whose share would be below this fraction is left out.
const AUTO_MIN_SHARE: f64 = 0.05;

/// One part of a split MSM: the points `[start, start + len)` on device `device`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MsmPart {
    /// Registry index of the device.
    pub device: usize,
    /// First point of the range.
    pub start: usize,
    /// Number of points.
    pub len: usize,
}

/// Cuts `n` points into consecutive ranges in proportion to `weights` (one per device,
/// positive), dropping parts that would get nothing; the rounding remainder goes to the
/// heaviest device.
fn cut(n: usize, devices: &[(usize, f64)]) -> Vec<MsmPart> {
    let total: f64 = devices.iter().map(|(_, w)| w).sum();
    let mut lens: Vec<usize> = devices
        .iter()
        .map(|(_, w)| ((n as f64) * w / total).floor() as usize)
        .collect();
    let given: usize = lens.iter().sum();
    let heaviest = devices
        .iter()
        .enumerate()
        .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
        .map_or(0, |(i, _)| i);
    lens[heaviest] += n - given.min(n);
    let mut start = 0;
    let mut parts = Vec::with_capacity(devices.len());
    for (&(device, _), len) in devices.iter().zip(lens) {
        if len > 0 {
            parts.push(MsmPart { device, start, len });
            start += len;
        }
    }
    parts
}

impl Runtime {
    /// How an MSM of `n` points over `id` would run now: one part per device. A single
    /// part means the call is not split (it runs on the first device the dispatcher picks).
    pub fn msm_split_plan(&self, id: CurveGroupId, n: usize) -> Vec<MsmPart> {
        let candidates = self.candidates(|d| d.capabilities.supports_msm(id, n), Route::msm(id, n));
        self.plan_msm(&candidates, &Route::msm(id, n), n)
    }

    /// The parts of an MSM of `n` points over the ordered `candidates`.
    pub(crate) fn plan_msm(&self, candidates: &[&Device], route: &Route, n: usize) -> Vec<MsmPart> {
        let whole = |d: &Device| {
            vec![MsmPart {
                device: d.index,
                start: 0,
                len: n,
            }]
        };
        let Some(&first) = candidates.first() else {
            return Vec::new();
        };
        let mode = self.inner.msm_split;
        if mode == MsmSplit::Off || candidates.len() < 2 || n < 2 * MIN_PART_POINTS {
            return whole(first);
        }
        let profile = self.inner.profile.as_ref().map(|(p, _)| &**p);
        // Points per millisecond, from the profile.
        let rate = |d: &Device| -> Option<f64> {
            let (k, ms) = profile?.time_ms(&route.op, route.log_n, &Profile::device_key(d))?;
            Some(f64::powi(2.0, k as i32) / ms)
        };
        let max_parts = n / MIN_PART_POINTS;
        let mut chosen: Vec<(usize, f64)> = match mode {
            MsmSplit::Off => unreachable!("handled above"),
            MsmSplit::Always => {
                let rates: Option<Vec<f64>> = candidates.iter().map(|d| rate(d)).collect();
                match rates {
                    Some(r) => candidates.iter().map(|d| d.index).zip(r).collect(),
                    None => candidates.iter().map(|d| (d.index, 1.0)).collect(),
                }
            }
            MsmSplit::Auto => {
                let mut measured: Vec<(usize, f64)> = candidates
                    .iter()
                    .filter_map(|d| rate(d).map(|r| (d.index, r)))
                    .collect();
                if measured.len() >= 2 {
                    measured.sort_by(|a, b| b.1.total_cmp(&a.1));
                    let best = measured[0].1;
                    let total: f64 = measured.iter().map(|m| m.1).sum();
                    measured.retain(|m| m.1 / total >= AUTO_MIN_SHARE);
                    let total: f64 = measured.iter().map(|m| m.1).sum();
                    // Time alone ∝ 1/best, together ∝ 1/total.
                    if best / total > 1.0 - AUTO_MIN_GAIN {
                        return whole(first);
                    }
                    measured
                } else if n >= AUTO_MIN_SPLIT_POINTS && !first.info.runs_on_host {
                    candidates
                        .iter()
                        .filter(|d| {
                            d.info.kind == first.info.kind && d.info.name == first.info.name
                        })
                        .map(|d| (d.index, 1.0))
                        .collect()
                } else {
                    return whole(first);
                }
            }
        };
        chosen.sort_by(|a, b| b.1.total_cmp(&a.1));
        chosen.truncate(max_parts);
        if chosen.len() < 2 {
            return whole(first);
        }
        let parts = cut(n, &chosen);
        if parts.len() < 2 {
            return whole(first);
        }
        parts
    }

    /// Runs the parts of a split MSM at once, one host thread each, and adds the partial
    /// sums. `run(part, candidates)` runs one part through [`Runtime::attempts`] with the
    /// part's device first and every other capable device behind it as fallbacks. The call
    /// is counted once; a part that fails on every device fails the call.
    pub(crate) fn run_split_msm(
        &self,
        id: CurveGroupId,
        parts: &[MsmPart],
        candidates: &[&Device],
        run: impl Fn(MsmPart, Vec<&Device>) -> Result<(RawPoint, CallReport)> + Sync,
    ) -> Result<(RawPoint, CallReport)> {
        let counters = &self.inner.counters;
        counters.call(OpId::Msm);
        counters.split_calls.fetch_add(1, Relaxed);
        let order = |device: usize| -> Vec<&Device> {
            let mut v: Vec<&Device> = candidates.to_vec();
            if let Some(i) = v.iter().position(|d| d.index == device) {
                let d = v.remove(i);
                v.insert(0, d);
            }
            v
        };
        let results: Vec<Result<(RawPoint, CallReport)>> = std::thread::scope(|s| {
            let run = &run;
            let handles: Vec<_> = parts[1..]
                .iter()
                .map(|&p| {
                    let c = order(p.device);
                    s.spawn(move || run(p, c))
                })
                .collect();
            // The first (largest) part runs on this thread.
            let mut out = vec![run(parts[0], order(parts[0].device))];
            out.extend(handles.into_iter().map(|h| match h.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            }));
            out
        });
        let mut sum: Option<RawPoint> = None;
        let mut fallbacks = 0;
        let mut largest: Option<(usize, CallReport)> = None;
        for (p, r) in parts.iter().zip(results) {
            let (point, report) = match r {
                Ok(x) => x,
                Err(e) => {
                    counters.failed_calls.fetch_add(1, Relaxed);
                    return Err(e);
                }
            };
            fallbacks += report.fallbacks;
            if largest.as_ref().is_none_or(|(len, _)| p.len > *len) {
                largest = Some((p.len, report));
            }
            sum = Some(match sum {
                None => point,
                Some(acc) => add_points(id, &acc, &point),
            });
        }
        let (_, report) = largest.expect("at least two parts");
        Ok((
            sum.expect("at least two parts"),
            CallReport {
                fallbacks,
                parts: parts.len() as u32,
                ..report
            },
        ))
    }
}

/// `a + b` for two points of group `id` (each part's result was checked to be a point of
/// this group by the dispatcher's validation of backend results).
fn add_points(id: CurveGroupId, a: &RawPoint, b: &RawPoint) -> RawPoint {
    with_curve_group!(
        id,
        |C| {
            let x: Projective<C> = a.to_projective::<C>().expect("a point of the call's group");
            let y: Projective<C> = b.to_projective::<C>().expect("a point of the call's group");
            RawPoint::from_projective(&x.add(&y))
        },
        unreachable!("a validated curve group")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_is_proportional_and_covers_everything() {
        let parts = cut(1000, &[(3, 3.0), (1, 1.0)]);
        assert_eq!(
            parts,
            vec![
                MsmPart {
                    device: 3,
                    start: 0,
                    len: 750
                },
                MsmPart {
                    device: 1,
                    start: 750,
                    len: 250
                }
            ]
        );
        for n in [2usize, 7, 1001, 65_537] {
            let parts = cut(n, &[(0, 1.0), (1, 2.0), (2, 0.5)]);
            assert_eq!(parts.iter().map(|p| p.len).sum::<usize>(), n);
            let mut next = 0;
            for p in &parts {
                assert_eq!(p.start, next);
                next += p.len;
            }
        }
    }

    #[test]
    fn split_modes_parse() {
        assert_eq!("off".parse::<MsmSplit>(), Ok(MsmSplit::Off));
        assert_eq!("Auto".parse::<MsmSplit>(), Ok(MsmSplit::Auto));
        assert_eq!("always".parse::<MsmSplit>(), Ok(MsmSplit::Always));
        assert!("sometimes".parse::<MsmSplit>().is_err());
    }
}
