//! Fault injection: a backend wrapper that fails, hangs, runs out of memory, loses its
//! device or returns corrupted results at chosen rates, for testing what the runtime does
//! with a faulty device (fallback, verification, time limits, counters).
//!
//! ```
//! use std::sync::Arc;
//! use zkaccel::fault::{FaultRates, FaultyBackend};
//! use zkaccel::{Runtime, Verification};
//!
//! let faulty = FaultyBackend::new(
//!     Arc::new(zkaccel_cpu::CpuBackend::new()),
//!     FaultRates { corrupt: 0.5, error: 0.2, ..FaultRates::default() },
//!     7,
//! );
//! let faults = faulty.counts_handle();
//! let rt = Runtime::builder()
//!     .with_backend(Arc::new(faulty))
//!     .verification(Verification::Full)
//!     .build()
//!     .unwrap();
//! # let _ = (rt, faults);
//! ```
//!
//! The wrapper is a test double and says so: its device name starts with
//! `fault-injected`, and it reports itself as an accelerator ([`DeviceKind::Plugin`] unless
//! told otherwise, `runs_on_host: false`) so that the runtime routes work to it first and
//! verifies its results.
//!
//! Faults are drawn per call from a seeded generator, so a test is reproducible. A
//! corruption is either a flipped bit (MSM: in a coordinate, usually leaving the curve) or a
//! wrong but well-formed value (MSM: the double of the right point; NTT and hashing: one
//! element plus one), so that both cheap and full checks are exercised. A failing NTT first
//! scribbles on its buffer, as a device that fails half-way through a copy-back would.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zkaccel_backend::backend::{BackendNttDomain, PreparedBases};
use zkaccel_backend::hash::HashId;
use zkaccel_backend::{
    with_curve_group, with_ntt_field, with_prime_field, Backend, BackendError, BackendResult,
    Capabilities, CurveGroupId, DeviceInfo, DeviceKind, HashOp, NttConfig, NttData, NttDomainSpec,
    PrimeField, RawPoint, RawPoints, RawScalars,
};

/// Probabilities, per call, of each fault (their sum must not exceed one).
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct FaultRates {
    /// The call fails with a launch error.
    pub error: f64,
    /// The call hangs until the caller's deadline (or [`FaultyBackend::hang`] when the
    /// call has none) and then reports a timeout.
    pub timeout: f64,
    /// The call fails with out-of-memory.
    pub out_of_memory: f64,
    /// The call fails with device lost.
    pub device_lost: f64,
    /// The call succeeds but its result is corrupted.
    pub corrupt: f64,
}

/// How many faults of each kind were injected (a snapshot).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Calls that reached the wrapper.
    pub calls: u64,
    /// Launch errors injected.
    pub errors: u64,
    /// Timeouts injected.
    pub timeouts: u64,
    /// Out-of-memory errors injected.
    pub out_of_memory: u64,
    /// Device-lost errors injected.
    pub device_lost: u64,
    /// Results corrupted.
    pub corruptions: u64,
}

impl FaultCounts {
    /// Faults that made the call fail (everything but corruptions).
    pub fn failures(&self) -> u64 {
        self.errors + self.timeouts + self.out_of_memory + self.device_lost
    }
    /// Every fault injected.
    pub fn total(&self) -> u64 {
        self.failures() + self.corruptions
    }
}

#[derive(Debug, Default)]
struct Counts {
    calls: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    out_of_memory: AtomicU64,
    device_lost: AtomicU64,
    corruptions: AtomicU64,
}

/// Shared state of a wrapper, its domains and its prepared bases.
#[derive(Debug)]
struct State {
    rates: FaultRates,
    rng: Mutex<u64>,
    counts: Counts,
    hang: Duration,
}

/// What happens to one call.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Fault {
    None,
    Error,
    Timeout,
    OutOfMemory,
    DeviceLost,
    /// Corrupt the result; `bool`: a well-formed wrong value (else a flipped bit).
    Corrupt(bool),
}

impl State {
    fn next(&self) -> u64 {
        // splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
        // 2014): reproducible from the seed, good enough to pick faults.
        let mut s = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn draw(&self) -> Fault {
        self.counts.calls.fetch_add(1, Relaxed);
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let r = &self.rates;
        let mut edge = 0.0;
        for (rate, fault, counter) in [
            (r.error, Fault::Error, &self.counts.errors),
            (r.timeout, Fault::Timeout, &self.counts.timeouts),
            (
                r.out_of_memory,
                Fault::OutOfMemory,
                &self.counts.out_of_memory,
            ),
            (r.device_lost, Fault::DeviceLost, &self.counts.device_lost),
            (r.corrupt, Fault::Corrupt(false), &self.counts.corruptions),
        ] {
            edge += rate;
            if u < edge {
                counter.fetch_add(1, Relaxed);
                return match fault {
                    Fault::Corrupt(_) => Fault::Corrupt(self.next() & 1 == 1),
                    f => f,
                };
            }
        }
        Fault::None
    }

    /// The error of a failing fault (after hanging, for a timeout).
    fn fail(&self, f: Fault, what: &str) -> BackendResult<()> {
        match f {
            Fault::Error => Err(BackendError::Launch {
                kernel: what.into(),
                detail: "injected fault".into(),
            }),
            Fault::OutOfMemory => Err(BackendError::OutOfMemory {
                requested: 1 << 30,
                detail: format!("injected fault in {what}"),
            }),
            Fault::DeviceLost => Err(BackendError::DeviceLost(format!(
                "injected fault in {what}"
            ))),
            Fault::Timeout => {
                let start = Instant::now();
                let wait = zkaccel_backend::deadline::remaining()
                    .map_or(self.hang, |left| left.min(Duration::from_secs(60)));
                // Sleep in slices, checking the deadline as a real backend would.
                while start.elapsed() < wait {
                    std::thread::sleep(Duration::from_millis(2).min(wait));
                    zkaccel_backend::deadline::check()?;
                }
                Err(BackendError::Timeout {
                    millis: start.elapsed().as_millis() as u64,
                })
            }
            Fault::None | Fault::Corrupt(_) => Ok(()),
        }
    }

    fn index(&self, len: usize) -> usize {
        (self.next() % len.max(1) as u64) as usize
    }
}

/// A backend that injects faults into the calls it forwards to `inner`.
pub struct FaultyBackend {
    inner: Arc<dyn Backend>,
    info: DeviceInfo,
    state: Arc<State>,
}

/// Reads a [`FaultyBackend`]'s counters after the backend has been moved into a runtime.
#[derive(Clone, Debug)]
pub struct FaultCountsHandle(Arc<State>);

impl FaultCountsHandle {
    /// A snapshot of the counters.
    pub fn get(&self) -> FaultCounts {
        counts(&self.0)
    }
}

fn counts(s: &State) -> FaultCounts {
    let c = &s.counts;
    FaultCounts {
        calls: c.calls.load(Relaxed),
        errors: c.errors.load(Relaxed),
        timeouts: c.timeouts.load(Relaxed),
        out_of_memory: c.out_of_memory.load(Relaxed),
        device_lost: c.device_lost.load(Relaxed),
        corruptions: c.corruptions.load(Relaxed),
    }
}

impl FaultyBackend {
    /// Wraps `inner`; faults are drawn at `rates` from a generator seeded with `seed`.
    pub fn new(inner: Arc<dyn Backend>, rates: FaultRates, seed: u64) -> Self {
        let mut info = inner.info().clone();
        info.name = format!("fault-injected {}", info.name);
        info.kind = DeviceKind::Plugin;
        info.runs_on_host = false;
        Self {
            inner,
            info,
            state: Arc::new(State {
                rates,
                rng: Mutex::new(seed),
                counts: Counts::default(),
                hang: Duration::from_millis(20),
            }),
        }
    }

    /// Reports this device kind instead of [`DeviceKind::Plugin`].
    pub fn kind(mut self, kind: DeviceKind) -> Self {
        self.info.kind = kind;
        self
    }

    /// How long an injected timeout hangs when the call has no deadline (default 20 ms).
    pub fn hang(mut self, d: Duration) -> Self {
        if let Some(s) = Arc::get_mut(&mut self.state) {
            s.hang = d;
        }
        self
    }

    /// A snapshot of the counters.
    pub fn counts(&self) -> FaultCounts {
        counts(&self.state)
    }

    /// A handle that reads the counters after the backend has moved into a runtime.
    pub fn counts_handle(&self) -> FaultCountsHandle {
        FaultCountsHandle(self.state.clone())
    }
}

/// Corrupts an MSM result: a flipped bit of `X`, or the double of the point.
fn corrupt_point(state: &State, p: &mut RawPoint, well_formed: bool) {
    let id: CurveGroupId = p.id;
    with_curve_group!(
        id,
        |C| {
            let q = p.to_projective::<C>().expect("own id");
            if well_formed && !q.is_identity() {
                *p = RawPoint::from_projective(&q.double());
            } else {
                p.limbs[0] ^= 1 << state.index(64);
            }
        },
        p.limbs[0] ^= 1
    )
}

/// Adds one to element `k` of a buffer of `field` elements in storage form.
fn bump<F: PrimeField>(bytes: &mut [u8], k: usize) {
    let size = std::mem::size_of::<F>();
    let mut x: F = bytemuck::pod_read_unaligned(&bytes[k * size..][..size]);
    x += F::ONE;
    bytes[k * size..][..size].copy_from_slice(bytemuck::bytes_of(&x));
}

impl Backend for FaultyBackend {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn msm(&self, bases: &RawPoints<'_>, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        let f = self.state.draw();
        self.state.fail(f, "msm")?;
        let mut p = self.inner.msm(bases, scalars)?;
        if let Fault::Corrupt(w) = f {
            corrupt_point(&self.state, &mut p, w);
        }
        Ok(p)
    }

    fn prepare_bases(&self, bases: &RawPoints<'_>) -> BackendResult<Arc<dyn PreparedBases>> {
        Ok(Arc::new(FaultyBases {
            inner: self.inner.prepare_bases(bases)?,
            state: self.state.clone(),
        }))
    }

    fn hash(&self, id: HashId, op: HashOp, input: &[u8], output: &mut [u8]) -> BackendResult<()> {
        let f = self.state.draw();
        self.state.fail(f, "hash")?;
        self.inner.hash(id, op, input, output)?;
        if let Fault::Corrupt(_) = f {
            let field = id.info().field;
            let n = output.len() / field.element_bytes();
            if n > 0 {
                let k = self.state.index(n);
                with_prime_field!(field, |F| bump::<F>(output, k));
            }
        }
        Ok(())
    }

    fn ntt_domain(&self, spec: &NttDomainSpec) -> BackendResult<Arc<dyn BackendNttDomain>> {
        Ok(Arc::new(FaultyDomain {
            inner: self.inner.ntt_domain(spec)?,
            state: self.state.clone(),
        }))
    }
}

struct FaultyBases {
    inner: Arc<dyn PreparedBases>,
    state: Arc<State>,
}

impl PreparedBases for FaultyBases {
    fn id(&self) -> CurveGroupId {
        self.inner.id()
    }
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn resident_bytes(&self) -> u64 {
        self.inner.resident_bytes()
    }
    fn msm(&self, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        let f = self.state.draw();
        self.state.fail(f, "msm (prepared bases)")?;
        let mut p = self.inner.msm(scalars)?;
        if let Fault::Corrupt(w) = f {
            corrupt_point(&self.state, &mut p, w);
        }
        Ok(p)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct FaultyDomain {
    inner: Arc<dyn BackendNttDomain>,
    state: Arc<State>,
}

impl BackendNttDomain for FaultyDomain {
    fn spec(&self) -> &NttDomainSpec {
        self.inner.spec()
    }
    fn ntt(&self, data: NttData<'_>, cfg: &NttConfig) -> BackendResult<()> {
        let f = self.state.draw();
        let field = data.field;
        let n = data.bytes.len() / field.element_bytes();
        if f != Fault::None && !matches!(f, Fault::Corrupt(_)) && n > 0 {
            // Fail half-way: the buffer is left with garbage in it.
            let k = self.state.index(n);
            with_ntt_field!(field, |F| bump::<F>(data.bytes, k), ());
        }
        self.state.fail(f, "ntt")?;
        let NttData { field, bytes } = data;
        self.inner.ntt(
            NttData {
                field,
                bytes: &mut *bytes,
            },
            cfg,
        )?;
        if let Fault::Corrupt(_) = f {
            if n > 0 {
                let k = self.state.index(n);
                with_ntt_field!(field, |F| bump::<F>(bytes, k), ());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_followed_and_counted() {
        let b = FaultyBackend::new(
            Arc::new(zkaccel_cpu::CpuBackend::new()),
            FaultRates {
                error: 0.1,
                timeout: 0.1,
                out_of_memory: 0.1,
                device_lost: 0.1,
                corrupt: 0.2,
            },
            1,
        );
        let mut seen = [0u32; 6];
        for _ in 0..10_000 {
            let i = match b.state.draw() {
                Fault::None => 0,
                Fault::Error => 1,
                Fault::Timeout => 2,
                Fault::OutOfMemory => 3,
                Fault::DeviceLost => 4,
                Fault::Corrupt(_) => 5,
            };
            seen[i] += 1;
        }
        let c = b.counts();
        assert_eq!(c.calls, 10_000);
        assert_eq!(
            [
                c.errors,
                c.timeouts,
                c.out_of_memory,
                c.device_lost,
                c.corruptions
            ],
            [
                seen[1] as u64,
                seen[2] as u64,
                seen[3] as u64,
                seen[4] as u64,
                seen[5] as u64
            ]
        );
        // Within 5σ of the rates.
        for (i, rate) in [(0, 0.4f64), (1, 0.1), (5, 0.2)] {
            let expect = 10_000.0 * rate;
            let sigma = (10_000.0 * rate * (1.0 - rate)).sqrt();
            assert!((seen[i] as f64 - expect).abs() < 5.0 * sigma, "{seen:?}");
        }
        assert!(b.info().name.starts_with("fault-injected"));
        assert!(!b.info().runs_on_host);
    }
}
