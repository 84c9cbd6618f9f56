//! Runtime behaviour: validation errors, routing, fallback, stats, handles, arkworks API.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use zkaccel::curves::{Bls12_381G1, Bls12_381G2, Bn254Fr, Bn254G1};
use zkaccel::{
    Affine, Backend, BackendError, BatchLayout, Capabilities, CurveGroup, DeviceInfo, DeviceKind,
    Encoding, Error, Field, Goldilocks, Infinity, MsmOptions, NttConfig, NttDirection,
    PointValidation, PointsView, Policy, PrimeField, Projective, RawPoint, RawPoints, RawScalars,
    Runtime, ScalarsView, TwoAdicField,
};
use zkaccel_backend::{CurveGroupId, MsmCapability, NttCapability, NttDomainSpec};

fn rng() -> impl FnMut() -> u64 {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

fn random_instance<C: CurveGroup>(n: usize) -> (Vec<Affine<C>>, Vec<C::Scalar>) {
    let mut r = rng();
    let g = Projective::<C>::generator();
    let pts: Vec<_> = (0..n)
        .map(|_| g.mul(&C::Scalar::random_with(&mut r)))
        .collect();
    let sc = (0..n).map(|_| C::Scalar::random_with(&mut r)).collect();
    (Projective::batch_to_affine(&pts), sc)
}

fn naive<C: CurveGroup>(b: &[Affine<C>], s: &[C::Scalar]) -> Projective<C> {
    b.iter().zip(s).fold(Projective::IDENTITY, |acc, (p, k)| {
        acc.add(&Projective::from(*p).mul(k))
    })
}

#[test]
fn known_answer_bn254_30g() {
    let rt = Runtime::new().unwrap();
    let g = Projective::<Bn254G1>::generator();
    let bases: Vec<_> = (1..=4u64)
        .map(|k| g.mul(&Bn254Fr::from_u64(k)).to_affine())
        .collect();
    let scalars: Vec<_> = (1..=4u64).map(Bn254Fr::from_u64).collect();
    let r = rt.msm(&bases, &scalars).unwrap().to_affine();
    assert_eq!(
        format!("{:?}", r.x),
        "0x036083bfa420b15a4c11f66a3cffd55318b019feb45f833a876e93848625f5ae"
    );
    assert_eq!(
        format!("{:?}", r.y),
        "0x2630c348c019c3edb74fe62a7e921361aae9621988223514d56ca8b36adc9e36"
    );
}

#[test]
fn length_mismatch_is_typed() {
    let rt = Runtime::new().unwrap();
    let (b, s) = random_instance::<Bn254G1>(3);
    assert_eq!(
        rt.msm(&b, &s[..2]).unwrap_err(),
        Error::LengthMismatch {
            bases: 3,
            scalars: 2
        }
    );
}

#[test]
fn canonical_scalar_not_below_modulus() {
    let rt = Runtime::new().unwrap();
    let (b, _) = random_instance::<Bn254G1>(3);
    let modulus = Bn254Fr::modulus();
    let scalars = [[1, 0, 0, 0], modulus, [2, 0, 0, 0]];
    let err = rt
        .msm_view(
            PointsView::from_affine(&b),
            ScalarsView::<Bn254Fr>::from_canonical(&scalars),
            &MsmOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::ScalarNotReduced {
            index: 1,
            field: zkaccel::FieldId::Bn254Fr
        }
    );
}

#[test]
fn off_curve_and_subgroup_checks_when_asked() {
    let rt = Runtime::new().unwrap();
    let (mut b, s) = random_instance::<Bn254G1>(4);
    b[2].y += <Bn254G1 as CurveGroup>::Base::ONE;
    let opts = MsmOptions {
        validation: Some(PointValidation::OnCurve),
        ..MsmOptions::default()
    };
    let err = rt
        .msm_view(
            PointsView::from_affine(&b),
            ScalarsView::from_elements(&s),
            &opts,
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::PointNotOnCurve { index: 2, .. }),
        "{err}"
    );
    // Without validation the call goes through (the default trusts the SRS's curve membership).
    assert!(rt.msm(&b, &s).is_ok());

    // A BLS12-381 G1 point on the curve but outside the subgroup: x = 0 is not on
    // y² = x³ + 4 with y = 2? It is: 2² = 0 + 4. (0, 2) has order 3, not r.
    let p = Affine::<Bls12_381G1>::new(
        <Bls12_381G1 as CurveGroup>::Base::ZERO,
        <Bls12_381G1 as CurveGroup>::Base::from_u64(2),
    );
    assert!(p.is_on_curve() && !p.is_in_subgroup());
    let (mut b, s) = random_instance::<Bls12_381G1>(3);
    b[1] = p;
    let opts = MsmOptions {
        validation: Some(PointValidation::Subgroup),
        ..MsmOptions::default()
    };
    let err = rt
        .msm_view(
            PointsView::from_affine(&b),
            ScalarsView::from_elements(&s),
            &opts,
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::PointNotInSubgroup { index: 1, .. }),
        "{err}"
    );
}

/// The error of an MSM over raw BN254 G1 points (64 bytes each, zero coordinates for
/// infinity), one per scalar of `s`.
fn raw_bn254_msm_error(rt: &Runtime, bytes: &[u8], encoding: Encoding, s: &[Bn254Fr]) -> Error {
    let raw = RawPoints::new(
        Bn254G1::id(),
        bytes,
        s.len(),
        64,
        Infinity::ZeroCoordinates,
        encoding,
    )
    .unwrap();
    rt.msm_raw(
        &raw,
        &ScalarsView::from_elements(s).raw(),
        &MsmOptions::default(),
    )
    .unwrap_err()
}

#[test]
fn coordinates_not_reduced() {
    let rt = Runtime::new().unwrap();
    let (b, s) = random_instance::<Bn254G1>(2);
    let mut bytes: Vec<u8> = bytemuck::cast_slice(&b).to_vec();
    // Overwrite point 1's x with the modulus itself (canonical encoding).
    let q = <<Bn254G1 as CurveGroup>::BasePrime as PrimeField>::modulus();
    bytes[64..96].copy_from_slice(bytemuck::cast_slice(&q));
    let err = raw_bn254_msm_error(&rt, &bytes, Encoding::Canonical, &s);
    assert!(
        matches!(err, Error::PointNotReduced { index: 1, .. }),
        "{err}"
    );
}

/// The range checks run on chunks in parallel: the first unreduced input is still the one
/// reported wherever the chunks fall, for each storage form (Goldilocks canonical, BabyBear
/// and the large fields in Montgomery form), for scalars and for coordinates.
#[test]
fn first_unreduced_input_is_reported_across_chunks() {
    // Indices in three different chunks, written out of order.
    const BAD: [usize; 3] = [40_000, 20_001, 60_000];
    fn ntt_case<F: TwoAdicField>(rt: &Runtime, stored: &[u8]) {
        let mut data = vec![F::ONE; 1 << 16];
        let size = core::mem::size_of::<F>();
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut data);
        for i in BAD {
            bytes[i * size..(i + 1) * size].copy_from_slice(stored);
        }
        let d = rt.ntt_domain::<F>(16).unwrap();
        assert_eq!(
            d.run(&mut data, &NttConfig::default()).unwrap_err(),
            Error::ElementNotReduced {
                index: 20_001,
                field: F::ID
            }
        );
    }
    let rt = Runtime::new().unwrap();
    ntt_case::<Goldilocks>(&rt, &Goldilocks::modulus()[0].to_le_bytes());
    ntt_case::<Goldilocks>(&rt, &u64::MAX.to_le_bytes());
    ntt_case::<zkaccel::BabyBear>(&rt, &0x7800_0001u32.to_le_bytes());
    ntt_case::<Bn254Fr>(&rt, bytemuck::cast_slice(&Bn254Fr::modulus()));

    let n = 1 << 16;
    let (b, s) = random_instance::<Bn254G1>(1);
    let (b, s) = (vec![b[0]; n], vec![s[0]; n]);
    let q = <<Bn254G1 as CurveGroup>::BasePrime as PrimeField>::modulus();
    let mut scalars: Vec<[u64; 4]> = vec![[7, 0, 0, 0]; n];
    let mut bytes: Vec<u8> = bytemuck::cast_slice(&b).to_vec();
    for i in BAD {
        scalars[i] = Bn254Fr::modulus();
        // y of point i (Montgomery encoding: its limbs are checked against q as they are).
        bytes[64 * i + 32..64 * i + 64].copy_from_slice(bytemuck::cast_slice(&q));
    }
    let err = rt
        .msm_view(
            PointsView::from_affine(&b),
            ScalarsView::<Bn254Fr>::from_canonical(&scalars),
            &MsmOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::ScalarNotReduced {
            index: 20_001,
            field: zkaccel::FieldId::Bn254Fr
        }
    );
    let err = raw_bn254_msm_error(&rt, &bytes, Encoding::Montgomery, &s);
    assert!(
        matches!(err, Error::PointNotReduced { index: 20_001, .. }),
        "{err}"
    );
}

#[test]
fn bad_layouts_are_rejected_before_dispatch() {
    let bytes = vec![0u8; 100];
    assert!(RawPoints::new(
        Bn254G1::id(),
        &bytes,
        2,
        64,
        Infinity::ZeroCoordinates,
        Encoding::Montgomery
    )
    .is_err());
    assert!(RawPoints::new(
        Bn254G1::id(),
        &bytes,
        1,
        32,
        Infinity::ZeroCoordinates,
        Encoding::Montgomery
    )
    .is_err());
    assert!(RawPoints::new(
        Bn254G1::id(),
        &bytes,
        1,
        72,
        Infinity::FlagByte { offset: 72 },
        Encoding::Montgomery
    )
    .is_err());
    // Scalars of the wrong field.
    let rt = Runtime::new().unwrap();
    let (b, _) = random_instance::<Bn254G1>(1);
    let s = [[1u64, 0, 0, 0]];
    let err = rt
        .msm_raw(
            &PointsView::from_affine(&b).raw(),
            &RawScalars::new(zkaccel::FieldId::Bls12_381Fr, &s, Encoding::Canonical),
            &MsmOptions::default(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::ScalarFieldMismatch { .. }), "{err}");
}

#[test]
fn ntt_validation_errors() {
    let rt = Runtime::new().unwrap();
    let mut v = vec![Goldilocks::ONE; 6];
    assert_eq!(
        rt.ntt(&mut v, &NttConfig::default()).unwrap_err(),
        Error::NttSizeNotPowerOfTwo { len: 6 }
    );
    assert!(matches!(
        rt.ntt_domain::<Goldilocks>(33).err().unwrap(),
        Error::NttSizeTooLarge {
            log_n: 33,
            max_log_n: 32,
            ..
        }
    ));
    assert!(matches!(
        rt.ntt_domain::<Bn254Fr>(29).err().unwrap(),
        Error::NttSizeTooLarge {
            log_n: 29,
            max_log_n: 28,
            ..
        }
    ));
    let d = rt.ntt_domain::<Goldilocks>(2).unwrap();
    let mut v = vec![Goldilocks::ONE; 12];
    let cfg = NttConfig {
        batch: 2,
        ..NttConfig::default()
    };
    assert_eq!(
        d.run(&mut v, &cfg).unwrap_err(),
        Error::BatchShape {
            len: 12,
            n: 4,
            batch: 2
        }
    );
    let cfg = NttConfig {
        batch: 0,
        ..NttConfig::default()
    };
    assert_eq!(d.run(&mut v, &cfg).unwrap_err(), Error::EmptyBatch);
    let cfg = NttConfig {
        batch: 3,
        coset: Some([0; 4]),
        ..NttConfig::default()
    };
    assert!(matches!(
        d.run(&mut v, &cfg).unwrap_err(),
        Error::InvalidCoset { .. }
    ));
    // A root that is not primitive of the right order.
    let w4 = Goldilocks::two_adic_root(2).unwrap();
    assert!(matches!(
        rt.ntt_domain_with_root::<Goldilocks>(3, w4).err().unwrap(),
        Error::InvalidRoot { log_n: 3, .. }
    ));
    assert!(rt.ntt_domain_with_root::<Goldilocks>(2, w4).is_ok());
}

/// The description of a test double: a simulated plugin device called `name`.
fn test_device_info(name: &str) -> DeviceInfo {
    DeviceInfo {
        name: name.into(),
        kind: DeviceKind::Plugin,
        vendor: "tests".into(),
        driver: String::new(),
        memory_bytes: 0,
        compute_units: 1,
        simulated: true,
        runs_on_host: false,
        clock_mhz: None,
    }
}

/// A backend that claims everything and fails every call the way a device would.
struct Flaky {
    info: DeviceInfo,
    calls: AtomicU64,
}

impl Flaky {
    fn new() -> Self {
        Self {
            info: test_device_info("flaky test device"),
            calls: AtomicU64::new(0),
        }
    }
}

impl Backend for Flaky {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            msm: CurveGroupId::ALL
                .iter()
                .map(|&id| MsmCapability {
                    id,
                    max_len: 1 << 30,
                })
                .collect(),
            ntt: vec![NttCapability {
                field: zkaccel::FieldId::Goldilocks,
                max_log_n: 32,
            }],
            hash: vec![],
            resident_bases: true,
        }
    }
    fn msm(&self, _: &RawPoints<'_>, _: &RawScalars<'_>) -> Result<RawPoint, BackendError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Err(BackendError::OutOfMemory {
            requested: 1 << 40,
            detail: "test".into(),
        })
    }
    fn prepare_bases(
        &self,
        _: &RawPoints<'_>,
    ) -> Result<Arc<dyn zkaccel_backend::PreparedBases>, BackendError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Err(BackendError::DeviceLost("unplugged".into()))
    }
    fn ntt_domain(
        &self,
        _: &NttDomainSpec,
    ) -> Result<Arc<dyn zkaccel_backend::BackendNttDomain>, BackendError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Err(BackendError::Timeout { millis: 1 })
    }
}

#[test]
fn fallback_to_cpu_is_counted() {
    let flaky = Arc::new(Flaky::new());
    let rt = Runtime::builder()
        .with_backend(flaky.clone())
        .without_opencl()
        .policy(Policy::Prefer(DeviceKind::Plugin))
        .build()
        .unwrap();
    assert_eq!(rt.devices().len(), 2);
    let (b, s) = random_instance::<Bn254G1>(10);
    let (r, report) = rt
        .msm_view(
            PointsView::from_affine(&b),
            ScalarsView::from_elements(&s),
            &MsmOptions::default(),
        )
        .unwrap();
    assert_eq!(r, naive(&b, &s));
    assert_eq!(report.fallbacks, 1);
    assert_eq!(report.kind, DeviceKind::Cpu);

    let handle = rt
        .msm_bases(PointsView::from_affine(&b), &MsmOptions::default())
        .unwrap();
    assert_eq!(handle.msm(&s[..5]).unwrap(), naive(&b[..5], &s[..5]));

    let d = rt.ntt_domain::<Goldilocks>(4).unwrap();
    let mut v: Vec<Goldilocks> = (0..16u64).map(Goldilocks::new).collect();
    let orig = v.clone();
    d.forward(&mut v).unwrap();
    d.inverse(&mut v).unwrap();
    assert_eq!(v, orig);

    let st = rt.stats();
    assert_eq!(st.msm_calls, 2);
    assert_eq!(st.ntt_calls, 2);
    assert_eq!(st.fallbacks, 4);
    assert_eq!(st.devices[0].errors, 4);
    assert_eq!(st.devices[1].completed, 4);
    assert_eq!(flaky.calls.load(Ordering::Relaxed), 4);
}

#[test]
fn only_policy_reports_every_failure() {
    let rt = Runtime::builder()
        .with_backend(Arc::new(Flaky::new()))
        .policy(Policy::Only(DeviceKind::Plugin))
        .build()
        .unwrap();
    let (b, s) = random_instance::<Bn254G1>(2);
    let err = rt.msm(&b, &s).unwrap_err();
    match err {
        Error::AllBackendsFailed { attempts, .. } => {
            assert_eq!(attempts.len(), 1);
            assert!(matches!(
                attempts[0].error,
                BackendError::OutOfMemory { .. }
            ));
        }
        e => panic!("unexpected {e}"),
    }
    assert_eq!(rt.stats().failed_calls, 1);
    // NTT over a field the plugin does not support: no capable backend.
    let d = rt.ntt_domain::<Bn254Fr>(2).unwrap();
    let mut v = vec![Bn254Fr::ONE; 4];
    assert!(matches!(
        d.forward(&mut v).unwrap_err(),
        Error::NoCapableBackend { .. }
    ));
}

#[test]
fn bases_handle_reused_and_g2() {
    let rt = Runtime::new().unwrap();
    let (b, s) = random_instance::<Bls12_381G2>(7);
    let h = rt
        .msm_bases(PointsView::from_affine(&b), &MsmOptions::default())
        .unwrap();
    assert_eq!(h.len(), 7);
    for k in [0, 1, 7] {
        assert_eq!(h.msm(&s[..k]).unwrap(), naive(&b[..k], &s[..k]));
    }
    let (_, s8) = random_instance::<Bls12_381G2>(8);
    assert!(matches!(
        h.msm(&s8).unwrap_err(),
        Error::TooManyScalars {
            bases: 7,
            scalars: 8
        }
    ));
}

#[test]
fn arkworks_slices_in_place() {
    use ark_ec::{CurveGroup as _, VariableBaseMSM};
    use ark_std::UniformRand;
    let mut rng = ark_std::test_rng();
    let n = 300;
    let bases: Vec<ark_bn254::G1Affine> = (0..n)
        .map(|i| {
            if i % 50 == 0 {
                ark_bn254::G1Affine::identity()
            } else {
                ark_bn254::G1Projective::rand(&mut rng).into_affine()
            }
        })
        .collect();
    let scalars: Vec<ark_bn254::Fr> = (0..n).map(|_| ark_bn254::Fr::rand(&mut rng)).collect();
    const { assert!(<Bn254G1 as zkaccel::ArkCurve>::IN_PLACE) };
    let rt = Runtime::new().unwrap();
    let ours = rt.msm_ark::<Bn254G1>(&bases, &scalars).unwrap();
    let theirs = ark_bn254::G1Projective::msm(&bases, &scalars).unwrap();
    assert_eq!(ours, theirs);

    let h = rt.msm_bases_ark::<Bn254G1>(&bases).unwrap();
    assert_eq!(h.msm_ark(&scalars).unwrap(), theirs);

    // NTT on arkworks elements against ark-poly.
    use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
    let mut a: Vec<ark_bn254::Fr> = (0..64).map(|_| ark_bn254::Fr::rand(&mut rng)).collect();
    let mut b = a.clone();
    Radix2EvaluationDomain::<ark_bn254::Fr>::new(64)
        .unwrap()
        .fft_in_place(&mut a);
    let d = rt.ntt_domain::<Bn254Fr>(6).unwrap();
    d.forward_ark(&mut b).unwrap();
    assert_eq!(a, b);
}

#[test]
fn interleaved_batch_through_runtime() {
    let rt = Runtime::new().unwrap();
    let d = rt.ntt_domain::<Goldilocks>(3).unwrap();
    let mut r = rng();
    let cols: Vec<Vec<Goldilocks>> = (0..3)
        .map(|_| (0..8).map(|_| Goldilocks::random_with(&mut r)).collect())
        .collect();
    let mut inter: Vec<Goldilocks> = (0..8)
        .flat_map(|i| cols.iter().map(move |c| c[i]))
        .collect();
    let cfg = NttConfig {
        batch: 3,
        layout: BatchLayout::Interleaved,
        ..NttConfig::default()
    };
    d.run(&mut inter, &cfg).unwrap();
    for (c, col) in cols.iter().enumerate() {
        let mut one = col.clone();
        d.forward(&mut one).unwrap();
        let got: Vec<_> = (0..8).map(|i| inter[i * 3 + c]).collect();
        assert_eq!(got, one);
    }
    let inv = NttConfig {
        direction: NttDirection::Inverse,
        ..cfg
    };
    d.run(&mut inter, &inv).unwrap();
    let expect: Vec<Goldilocks> = (0..8)
        .flat_map(|i| cols.iter().map(move |c| c[i]))
        .collect();
    assert_eq!(inter, expect);
}

#[test]
fn many_threads_share_one_runtime() {
    let rt = Runtime::new().unwrap();
    let (b, s) = random_instance::<Bn254G1>(64);
    let expect = naive(&b, &s);
    let h = Arc::new(
        rt.msm_bases(PointsView::from_affine(&b), &MsmOptions::default())
            .unwrap(),
    );
    std::thread::scope(|sc| {
        for _ in 0..4 {
            let h = h.clone();
            let rt = rt.clone();
            let (b, s) = (&b, &s);
            sc.spawn(move || {
                for _ in 0..5 {
                    assert_eq!(h.msm(s).unwrap(), expect);
                    assert_eq!(rt.msm(b, s).unwrap(), expect);
                }
            });
        }
    });
    assert_eq!(rt.stats().msm_calls, 40);
}

/// A device of another kind that computes on a CPU backend: a stand-in accelerator whose
/// answers are right, for routing tests.
struct Relay {
    info: DeviceInfo,
    cpu: zkaccel_cpu::CpuBackend,
}

impl Relay {
    fn new() -> Self {
        Self {
            info: test_device_info("relay test device"),
            cpu: zkaccel_cpu::CpuBackend::new(),
        }
    }
}

impl Backend for Relay {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
    fn capabilities(&self) -> Capabilities {
        self.cpu.capabilities()
    }
    fn msm(&self, b: &RawPoints<'_>, s: &RawScalars<'_>) -> Result<RawPoint, BackendError> {
        self.cpu.msm(b, s)
    }
}

/// With a calibration profile, `Auto` routes each size to the device the profile measured
/// fastest there (the nearest measured size), whatever the built-in rule would pick; without
/// one, the built-in rule (the CPU for small inputs) applies.
#[test]
fn auto_routing_follows_the_calibration_profile() {
    let relay = "plugin:relay test device";
    let cpu_key = |rt: &Runtime| {
        let d = rt
            .devices()
            .iter()
            .find(|d| d.info.kind == DeviceKind::Cpu)
            .expect("cpu");
        zkaccel::Profile::device_key(d)
    };
    let build = |p: Option<zkaccel::Profile>| {
        let b = Runtime::builder()
            .with_backend(Arc::new(Relay::new()))
            .without_opencl()
            .without_cuda();
        match p {
            Some(p) => b.profile(p),
            None => b.without_profile(),
        }
        .build()
        .unwrap()
    };
    let plain = build(None);
    let cpu = cpu_key(&plain);
    // The relay wins at 2^4, the CPU at 2^8 and beyond.
    let mut p = zkaccel::Profile::new("test");
    p.record("msm:bn254-g1", 4, relay, 1.0);
    p.record("msm:bn254-g1", 4, &cpu, 5.0);
    p.record("msm:bn254-g1", 8, relay, 9.0);
    p.record("msm:bn254-g1", 8, &cpu, 2.0);
    let rt = build(Some(p));
    assert!(rt.profile().is_some());
    let route = |rt: &Runtime, n: usize| {
        let (b, s) = random_instance::<Bn254G1>(n);
        let (r, report) = rt
            .msm_view(
                PointsView::from_affine(&b),
                ScalarsView::from_elements(&s),
                &MsmOptions::default(),
            )
            .unwrap();
        assert_eq!(r, naive(&b, &s));
        report.kind
    };
    assert_eq!(route(&rt, 16), DeviceKind::Plugin);
    assert_eq!(route(&rt, 20), DeviceKind::Plugin); // nearest measured size: 2^4
    assert_eq!(route(&rt, 200), DeviceKind::Cpu); // nearest: 2^8
    assert_eq!(route(&rt, 1000), DeviceKind::Cpu);
    // Operations the profile does not mention keep the built-in rule.
    let (b, s) = random_instance::<Bls12_381G1>(16);
    let (_, report) = rt
        .msm_view(
            PointsView::from_affine(&b),
            ScalarsView::from_elements(&s),
            &MsmOptions::default(),
        )
        .unwrap();
    assert_eq!(report.kind, DeviceKind::Cpu);
    // Without the profile, small inputs go to the CPU first.
    assert_eq!(route(&plain, 16), DeviceKind::Cpu);
}
