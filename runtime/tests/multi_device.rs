//! Many devices in one process: one MSM split by points across devices (in proportions
//! from the calibration profile, or equal parts), partial sums added on the host, and
//! independent calls spread over devices. The devices are CPU backends dressed as
//! accelerators (each with its own name, an optional delay and resident bases), so the
//! tests run anywhere; every split result is compared with the single-device result.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use zkaccel::curves::{Bls12_381G1, Bn254G1, Bn254G2};
use zkaccel::fault::{FaultRates, FaultyBackend};
use zkaccel::{
    Affine, Backend, Capabilities, CurveGroup, DeviceInfo, DeviceKind, MsmOptions, MsmPart,
    MsmSplit, PointsView, Policy, PrimeField, Profile, Projective, RawPoint, RawPoints, RawScalars,
    Runtime, ScalarsView, Verification,
};
use zkaccel_backend::{BackendResult, PreparedBases};

/// A CPU backend (one thread) presented as an accelerator named `name`.
struct TestDevice {
    inner: zkaccel_cpu::CpuBackend,
    info: DeviceInfo,
    delay: Duration,
    /// Resident copies of bases made on this device.
    staged: Arc<AtomicU64>,
    /// Points this device has summed.
    points: Arc<AtomicU64>,
}

impl TestDevice {
    fn new(name: &str, delay: Duration) -> Self {
        let inner = zkaccel_cpu::CpuBackend::with_threads(1).unwrap();
        let mut info = inner.info().clone();
        info.name = name.into();
        info.kind = DeviceKind::Cuda;
        info.runs_on_host = false;
        Self {
            inner,
            info,
            delay,
            staged: Arc::default(),
            points: Arc::default(),
        }
    }
}

impl Backend for TestDevice {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            resident_bases: true,
            ..self.inner.capabilities()
        }
    }
    fn msm(&self, bases: &RawPoints<'_>, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        std::thread::sleep(self.delay);
        self.points.fetch_add(scalars.len() as u64, Relaxed);
        self.inner.msm(bases, scalars)
    }
    fn prepare_bases(&self, bases: &RawPoints<'_>) -> BackendResult<Arc<dyn PreparedBases>> {
        self.staged.fetch_add(1, Relaxed);
        Ok(Arc::new(Counted {
            inner: self.inner.prepare_bases(bases)?,
            points: self.points.clone(),
        }))
    }
}

/// Prepared bases that count the points they sum.
struct Counted {
    inner: Arc<dyn PreparedBases>,
    points: Arc<AtomicU64>,
}

impl PreparedBases for Counted {
    fn id(&self) -> zkaccel::CurveGroupId {
        self.inner.id()
    }
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn resident_bytes(&self) -> u64 {
        self.inner.resident_bytes()
    }
    fn msm(&self, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        self.points.fetch_add(scalars.len() as u64, Relaxed);
        self.inner.msm(scalars)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

struct Devices {
    rt: Runtime,
    points: Vec<Arc<AtomicU64>>,
    staged: Vec<Arc<AtomicU64>>,
}

/// A runtime with the given test devices (registered first, so indices 0..) and the CPU.
fn runtime(devs: Vec<TestDevice>, split: MsmSplit, profile: Option<Profile>) -> Devices {
    let points = devs.iter().map(|d| d.points.clone()).collect();
    let staged = devs.iter().map(|d| d.staged.clone()).collect();
    let mut b = Runtime::builder()
        .without_opencl()
        .without_cuda()
        .msm_split(split);
    for d in devs {
        b = b.with_backend(Arc::new(d));
    }
    b = match profile {
        Some(p) => b.profile(p),
        None => b.without_profile(),
    };
    Devices {
        rt: b.build().unwrap(),
        points,
        staged,
    }
}

fn reference() -> Runtime {
    Runtime::builder()
        .policy(Policy::Only(DeviceKind::Cpu))
        .msm_split(MsmSplit::Off)
        .without_opencl()
        .without_cuda()
        .without_profile()
        .build()
        .unwrap()
}

fn inputs<C: CurveGroup>(n: usize, seed: u64) -> (Vec<Affine<C>>, Vec<C::Scalar>) {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let g = Projective::<C>::generator();
    // A few distinct points repeated, with some at infinity: cheap to make, still a real MSM.
    let distinct: Vec<Affine<C>> = (0..61)
        .map(|_| g.mul(&C::Scalar::random_with(&mut next)).to_affine())
        .collect();
    let bases = (0..n)
        .map(|i| {
            if i % 97 == 5 {
                Affine::<C>::IDENTITY
            } else {
                distinct[(i * 7 + i / 61) % distinct.len()]
            }
        })
        .collect();
    let scalars = (0..n).map(|_| C::Scalar::random_with(&mut next)).collect();
    (bases, scalars)
}

fn split_equals_whole<C: CurveGroup>(n: usize) {
    let d = runtime(
        vec![
            TestDevice::new("gpu-a", Duration::ZERO),
            TestDevice::new("gpu-b", Duration::ZERO),
        ],
        MsmSplit::Always,
        None,
    );
    let (bases, scalars) = inputs::<C>(n, n as u64);
    let plan = d.rt.msm_split_plan(C::id(), n);
    assert_eq!(plan.len(), 3, "two test devices and the CPU: {plan:?}");
    assert_eq!(plan.iter().map(|p| p.len).sum::<usize>(), n);
    let (got, report) =
        d.rt.msm_view(
            PointsView::from_affine(&bases),
            ScalarsView::from_elements(&scalars),
            &MsmOptions {
                verification: Some(Verification::Full),
                ..MsmOptions::default()
            },
        )
        .unwrap();
    assert_eq!(report.parts, 3);
    assert_eq!(got, reference().msm(&bases, &scalars).unwrap());
    let stats = d.rt.stats();
    assert_eq!((stats.msm_calls, stats.split_msm_calls), (1, 1));
    assert_eq!(stats.failed_calls, 0);
    for p in &plan {
        assert_eq!(stats.devices[p.device].completed, 1, "{p:?}");
    }
    for (i, pts) in d.points.iter().enumerate() {
        let planned = plan.iter().find(|p| p.device == i).unwrap().len as u64;
        assert_eq!(pts.load(Relaxed), planned, "device {i} summed its part");
    }
}

#[test]
fn split_msm_equals_the_single_device_msm() {
    split_equals_whole::<Bn254G1>(3 * 1024 + 7);
    split_equals_whole::<Bls12_381G1>(4099);
    split_equals_whole::<Bn254G2>(2 * 1024 + 1024);
}

/// A profile in which `gpu-a` does `a_ms`, `gpu-b` `b_ms` and the CPU `cpu_ms` for
/// 2^12-point BN254 G1 MSMs.
fn profile(rt_for_keys: &Runtime, a_ms: f64, b_ms: f64, cpu_ms: f64) -> Profile {
    let mut p = Profile::new("test");
    for d in rt_for_keys.devices() {
        let ms = match d.info.name.as_str() {
            "gpu-a" => a_ms,
            "gpu-b" => b_ms,
            _ => cpu_ms,
        };
        p.record("msm:bn254-g1", 12, &Profile::device_key(d), ms);
    }
    p
}

fn two_gpus() -> Vec<TestDevice> {
    vec![
        TestDevice::new("gpu-a", Duration::ZERO),
        TestDevice::new("gpu-b", Duration::ZERO),
    ]
}

#[test]
fn the_profile_sets_the_proportions() {
    let keys = runtime(two_gpus(), MsmSplit::Off, None).rt;
    let n = 1 << 13;
    // gpu-a three times as fast as gpu-b; the CPU adds under 5%: left out.
    let d = runtime(
        two_gpus(),
        MsmSplit::Auto,
        Some(profile(&keys, 1.0, 3.0, 100.0)),
    );
    let plan = d.rt.msm_split_plan(Bn254G1::id(), n);
    assert_eq!(
        plan,
        vec![
            MsmPart {
                device: 0,
                start: 0,
                len: 6144
            },
            MsmPart {
                device: 1,
                start: 6144,
                len: 2048
            }
        ]
    );
    let (bases, scalars) = inputs::<Bn254G1>(n, 3);
    let (got, report) =
        d.rt.msm_view(
            PointsView::from_affine(&bases),
            ScalarsView::from_elements(&scalars),
            &MsmOptions::default(),
        )
        .unwrap();
    assert_eq!(report.parts, 2);
    assert_eq!(report.device, 0, "the largest part ran on gpu-a");
    assert_eq!(got, reference().msm(&bases, &scalars).unwrap());
    assert_eq!(d.points[0].load(Relaxed), 6144);
    assert_eq!(d.points[1].load(Relaxed), 2048);

    // The CPU as fast as gpu-b: the three share, in proportion 3:1:1.
    let d = runtime(
        two_gpus(),
        MsmSplit::Auto,
        Some(profile(&keys, 1.0, 3.0, 3.0)),
    );
    let plan = d.rt.msm_split_plan(Bn254G1::id(), 5 << 10);
    let lens: Vec<usize> = plan.iter().map(|p| p.len).collect();
    assert_eq!(lens, vec![3 << 10, 1 << 10, 1 << 10], "{plan:?}");
    assert!(d.rt.devices()[plan[2].device].info.runs_on_host);

    // gpu-b twenty times slower than gpu-a: a split would gain under 15%, so none.
    let d = runtime(
        two_gpus(),
        MsmSplit::Auto,
        Some(profile(&keys, 1.0, 20.0, 100.0)),
    );
    let plan = d.rt.msm_split_plan(Bn254G1::id(), n);
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].device, 0);
    // Off never splits.
    let d = runtime(
        two_gpus(),
        MsmSplit::Off,
        Some(profile(&keys, 1.0, 1.0, 1.0)),
    );
    assert_eq!(d.rt.msm_split_plan(Bn254G1::id(), n).len(), 1);
}

#[test]
fn identical_accelerators_share_large_msms_without_a_profile() {
    let twins = || {
        vec![
            TestDevice::new("gpu-x", Duration::ZERO),
            TestDevice::new("gpu-x", Duration::ZERO),
        ]
    };
    let d = runtime(twins(), MsmSplit::Auto, None);
    let big = zkaccel::split::AUTO_MIN_SPLIT_POINTS;
    let plan = d.rt.msm_split_plan(Bn254G1::id(), big);
    assert_eq!(plan.len(), 2, "{plan:?}");
    assert_eq!((plan[0].len, plan[1].len), (big / 2, big / 2));
    assert_eq!(d.rt.msm_split_plan(Bn254G1::id(), big / 2).len(), 1);
    // Two different models are not split without a profile.
    let d = runtime(two_gpus(), MsmSplit::Auto, None);
    assert_eq!(d.rt.msm_split_plan(Bn254G1::id(), big).len(), 1);
}

#[test]
fn a_failing_part_falls_back_and_the_sum_is_still_right() {
    let broken = FaultyBackend::new(
        Arc::new(TestDevice::new("gpu-b", Duration::ZERO)),
        FaultRates {
            error: 1.0,
            ..FaultRates::default()
        },
        7,
    );
    let rt = Runtime::builder()
        .with_backend(Arc::new(TestDevice::new("gpu-a", Duration::ZERO)))
        .with_backend(Arc::new(broken))
        .msm_split(MsmSplit::Always)
        .without_opencl()
        .without_cuda()
        .without_profile()
        .build()
        .unwrap();
    // Three parts of at least MIN_PART_POINTS: gpu-a, the broken device and the CPU.
    let n = 3500;
    let (bases, scalars) = inputs::<Bn254G1>(n, 11);
    let (got, report) = rt
        .msm_view(
            PointsView::from_affine(&bases),
            ScalarsView::from_elements(&scalars),
            &MsmOptions::default(),
        )
        .unwrap();
    assert_eq!(got, reference().msm(&bases, &scalars).unwrap());
    assert_eq!(report.parts, 3);
    assert_eq!(report.fallbacks, 1);
    let stats = rt.stats();
    assert_eq!((stats.fallbacks, stats.failed_calls), (1, 0));
    assert_eq!(stats.devices[1].errors, 1);
}

#[test]
fn a_bases_handle_stages_each_part_once_per_device() {
    let d = runtime(two_gpus(), MsmSplit::Always, None);
    let n = 5000;
    let (bases, scalars) = inputs::<Bn254G1>(n, 5);
    let handle =
        d.rt.msm_bases(PointsView::from_affine(&bases), &MsmOptions::default())
            .unwrap();
    let cpu = reference();
    // Whole, again (resident parts reused), and prefixes that cut the plan's parts short.
    for len in [n, n, 4000, 2100, 2048, 100] {
        let got = handle.msm(&scalars[..len]).unwrap();
        assert_eq!(
            got,
            cpu.msm(&bases[..len], &scalars[..len]).unwrap(),
            "{len}"
        );
    }
    let stats = d.rt.stats();
    assert_eq!(stats.split_msm_calls, 5, "the 100-point call runs whole");
    assert_eq!(stats.failed_calls, 0);
    // Each accelerator staged only its own part, once (and at most one more copy, of the
    // whole set, for the unsplit call).
    for s in &d.staged {
        assert!((1..=2).contains(&s.load(Relaxed)), "{}", s.load(Relaxed));
    }
}

#[test]
fn independent_calls_spread_over_identical_devices() {
    let slow = || {
        vec![
            TestDevice::new("gpu-x", Duration::from_millis(40)),
            TestDevice::new("gpu-x", Duration::from_millis(40)),
        ]
    };
    let d = runtime(slow(), MsmSplit::Off, None);
    let n = 1 << 12; // routed to accelerators under Auto
    let (bases, scalars) = inputs::<Bn254G1>(n, 9);
    let expected = reference().msm(&bases, &scalars).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..3 {
                    assert_eq!(d.rt.msm(&bases, &scalars).unwrap(), expected);
                }
            });
        }
    });
    let stats = d.rt.stats();
    assert_eq!(stats.msm_calls, 12);
    let (a, b) = (stats.devices[0].completed, stats.devices[1].completed);
    assert_eq!(a + b, 12, "{stats:?}");
    assert!(a >= 3 && b >= 3, "both devices took work: {a} and {b}");
}

#[test]
fn small_msms_are_not_split() {
    let d = runtime(two_gpus(), MsmSplit::Always, None);
    let small = 2 * zkaccel::split::MIN_PART_POINTS - 1;
    assert_eq!(d.rt.msm_split_plan(Bn254G1::id(), small).len(), 1);
    let (bases, scalars) = inputs::<Bn254G1>(3, 1);
    assert_eq!(
        d.rt.msm(&bases, &scalars).unwrap(),
        reference().msm(&bases, &scalars).unwrap()
    );
}
