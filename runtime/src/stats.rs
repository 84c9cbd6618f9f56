//! Counters the caller can read: calls, fallbacks and errors per device.

use std::sync::atomic::{AtomicU64, Ordering};
use zkaccel_backend::{DeviceKind, OpId};

/// Per-device counters (atomics; shared by all threads using the runtime).
#[derive(Debug, Default)]
pub(crate) struct DeviceCounters {
    pub(crate) ok: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) verification_failures: AtomicU64,
    /// Attempts running on the device now (for spreading independent calls).
    pub(crate) in_flight: AtomicU64,
}

/// Runtime-wide counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) calls: [AtomicU64; 3],
    pub(crate) fallbacks: AtomicU64,
    pub(crate) failed_calls: AtomicU64,
    pub(crate) verified: AtomicU64,
    pub(crate) verification_failures: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) split_calls: AtomicU64,
}

impl Counters {
    pub(crate) fn call(&self, op: OpId) {
        self.calls[op as usize - 1].fetch_add(1, Ordering::Relaxed);
    }
}

/// A snapshot of one device's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceStats {
    /// Registry index.
    pub device: usize,
    /// Device name.
    pub name: String,
    /// Device kind.
    pub kind: DeviceKind,
    /// Calls this device completed.
    pub completed: u64,
    /// Calls this device failed (each followed by a fallback or a reported error),
    /// including results that failed verification.
    pub errors: u64,
    /// Results from this device that failed verification (also counted in `errors`).
    pub verification_failures: u64,
}

/// A snapshot of the runtime's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// MSM calls made.
    pub msm_calls: u64,
    /// NTT calls made.
    pub ntt_calls: u64,
    /// Hash calls made.
    pub hash_calls: u64,
    /// Times a call moved on to the next backend after one failed.
    pub fallbacks: u64,
    /// Calls that failed on every capable backend (or timed out, or failed verification
    /// under [`crate::OnVerifyFailure::Error`]).
    pub failed_calls: u64,
    /// Device results checked by result verification.
    pub verified: u64,
    /// Device results that failed verification.
    pub verification_failures: u64,
    /// Calls that ran out of their time limit.
    pub timeouts: u64,
    /// MSM calls split by points across several devices (each part is counted in its
    /// device's `completed`).
    pub split_msm_calls: u64,
    /// Per device.
    pub devices: Vec<DeviceStats>,
}

/// What happened in one call: where it ran and how many backends failed before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallReport {
    /// Registry index of the device that produced the result.
    pub device: usize,
    /// Its kind.
    pub kind: DeviceKind,
    /// Backends that failed before it (summed over the parts of a split call).
    pub fallbacks: u32,
    /// The parts the call was split into across devices: 1 when it ran whole on one
    /// device; for a split MSM, `device` and `kind` name the device of the largest part.
    pub parts: u32,
}

pub(crate) fn load(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}
