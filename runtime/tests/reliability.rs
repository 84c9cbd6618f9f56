//! Reliability: a faulty device behind the runtime (fault injection), result verification,
//! time limits, and many threads sharing one runtime. Every answer is compared with the CPU
//! oracle's; every injected fault must show up in the runtime's counters.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zkaccel::curves::{Bls12_381G1, Bn254Fr, Bn254G1};
use zkaccel::fault::{FaultCountsHandle, FaultRates, FaultyBackend};
use zkaccel::{
    Affine, BabyBear, BatchLayout, CallOptions, CurveGroup, DeviceKind, Error, Field, Goldilocks,
    HashId, MsmOptions, NttConfig, NttDirection, NttOrder, OnVerifyFailure, PointsView, Policy,
    PrimeField, Projective, Runtime, ScalarsView, TwoAdicField, Verification,
};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn cpu_only() -> Runtime {
    Runtime::builder()
        .policy(Policy::Only(DeviceKind::Cpu))
        .without_opencl()
        .without_cuda()
        .without_profile()
        .build()
        .unwrap()
}

/// A runtime whose first choice is a fault-injecting device wrapping a CPU backend, with
/// the real CPU behind it as fallback.
fn faulty_runtime(
    rates: FaultRates,
    seed: u64,
    verification: Verification,
) -> (Runtime, FaultCountsHandle) {
    let faulty = FaultyBackend::new(Arc::new(zkaccel_cpu::CpuBackend::new()), rates, seed);
    let counts = faulty.counts_handle();
    let rt = Runtime::builder()
        .with_backend(Arc::new(faulty))
        .policy(Policy::Prefer(DeviceKind::Plugin))
        .verification(verification)
        .without_opencl()
        .without_cuda()
        .without_profile()
        .build()
        .unwrap();
    (rt, counts)
}

fn points<C: CurveGroup>(r: &mut Rng, n: usize) -> Vec<Affine<C>> {
    let g = Projective::<C>::generator();
    let mut next = || r.next();
    let p: Vec<_> = (0..n)
        .map(|_| g.mul(&C::Scalar::random_with(&mut next)))
        .collect();
    Projective::batch_to_affine(&p)
}

fn elements<F: PrimeField>(r: &mut Rng, n: usize) -> Vec<F> {
    let mut next = || r.next();
    (0..n).map(|_| F::random_with(&mut next)).collect()
}

fn ntt_call<F: TwoAdicField>(rt: &Runtime, r: &mut Rng, call: &CallOptions) -> String {
    let log_n = 2 + r.below(5) as u32;
    let batch = 1 + r.below(3) as usize;
    let orders = [NttOrder::Natural, NttOrder::BitReversed];
    let coset = (r.below(2) == 1).then(|| {
        let mut l = [0u64; 4];
        l[..F::LIMBS].copy_from_slice(F::from_u64(3 + r.below(100)).to_canonical().as_ref());
        l
    });
    let cfg = NttConfig {
        direction: if r.below(2) == 0 {
            NttDirection::Forward
        } else {
            NttDirection::Inverse
        },
        input_order: orders[r.below(2) as usize],
        output_order: orders[r.below(2) as usize],
        coset,
        batch,
        layout: if r.below(2) == 0 {
            BatchLayout::Contiguous
        } else {
            BatchLayout::Interleaved
        },
    };
    let mut data: Vec<F> = elements(r, batch << log_n);
    let dom = rt.ntt_domain::<F>(log_n).unwrap();
    dom.run_with(&mut data, &cfg, call).unwrap();
    format!("{data:?}")
}

/// Call number `k` of a deterministic mixed workload (MSM, bases handles, NTT over three
/// fields, permutations, hashes, Merkle trees); returns the result as text.
fn call(rt: &Runtime, k: u64, opts: &CallOptions) -> String {
    let mut r = Rng(k.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    match k % 7 {
        0 => {
            let n = 4 << r.below(4);
            let b = points::<Bn254G1>(&mut r, n);
            let s: Vec<Bn254Fr> = elements(&mut r, n);
            let o = MsmOptions {
                verification: opts.verification,
                timeout: opts.timeout,
                ..MsmOptions::default()
            };
            let (p, _) = rt
                .msm_view(
                    PointsView::from_affine(&b),
                    ScalarsView::from_elements(&s),
                    &o,
                )
                .unwrap();
            format!("{:?}", p.to_affine())
        }
        1 => {
            let b = points::<Bls12_381G1>(&mut r, 12);
            let s: Vec<_> = elements(&mut r, 12);
            let h = rt
                .msm_bases(PointsView::from_affine(&b), &MsmOptions::default())
                .unwrap();
            let (p, _) = h
                .msm_view_with(ScalarsView::from_elements(&s[..9]), opts)
                .unwrap();
            format!("{:?}", p.to_affine())
        }
        2 => ntt_call::<Bn254Fr>(rt, &mut r, opts),
        3 => ntt_call::<Goldilocks>(rt, &mut r, opts),
        4 => ntt_call::<BabyBear>(rt, &mut r, opts),
        5 => {
            let id = HashId::Poseidon2Plonky3BabyBearT16;
            let mut states: Vec<BabyBear> = elements(&mut r, 16 * 3);
            rt.hash_raw_with(
                id,
                zkaccel::HashOp::Permute,
                &[],
                bytemuck::cast_slice_mut(&mut states),
                opts,
            )
            .unwrap();
            let id = HashId::circom_inputs(2).unwrap();
            let msgs: Vec<Bn254Fr> = elements(&mut r, 2 * 5);
            let mut out = vec![Bn254Fr::ZERO; 5];
            rt.hash_raw_with(
                id,
                zkaccel::HashOp::Hash { input_len: 2 },
                bytemuck::cast_slice(&msgs),
                bytemuck::cast_slice_mut(&mut out),
                opts,
            )
            .unwrap();
            format!("{states:?} {out:?}")
        }
        _ => {
            let id = HashId::Poseidon2Plonky3BabyBearT16;
            let leaves: Vec<BabyBear> = elements(&mut r, 8 * 16);
            let t = rt.merkle_tree_with(id, 2, &leaves, opts).unwrap();
            format!("{:?}", t.layers())
        }
    }
}

/// With full verification and fallback, every answer from a device that fails, hangs, runs
/// out of memory, gets lost or corrupts its results is still right, and the counters
/// account for every fault: each one caused exactly one fallback to the CPU.
#[test]
fn every_fault_is_survived_and_counted() {
    let oracle = cpu_only();
    let rates = FaultRates {
        error: 0.08,
        timeout: 0.04,
        out_of_memory: 0.04,
        device_lost: 0.04,
        corrupt: 0.3,
    };
    let (rt, counts) = faulty_runtime(rates, 42, Verification::Full);
    let opts = CallOptions::default();
    // Merkle trees are left out here: one tree is several device calls (one per layer),
    // so faults and fallbacks would not pair one to one. The load test below covers them.
    for k in (0..320).filter(|k| k % 7 != 6) {
        assert_eq!(call(&rt, k, &opts), call(&oracle, k, &opts), "call {k}");
    }
    let c = counts.get();
    let s = rt.stats();
    // Every kind of fault happened.
    assert!(
        c.errors > 0 && c.timeouts > 0 && c.out_of_memory > 0 && c.device_lost > 0,
        "{c:?}"
    );
    assert!(c.corruptions > 10, "{c:?}");
    // Every corruption was caught, every fault led to exactly one fallback, nothing failed.
    assert_eq!(s.verification_failures, c.corruptions, "{s:?} {c:?}");
    assert_eq!(s.fallbacks, c.total(), "{s:?} {c:?}");
    assert_eq!(s.failed_calls, 0);
    let dev = &s.devices[0];
    assert!(dev.name.starts_with("fault-injected"));
    assert_eq!(dev.errors, c.total());
    assert_eq!(dev.verification_failures, c.corruptions);
    // Calls the faulty device answered were all checked.
    assert_eq!(s.verified, dev.completed + c.corruptions);
    assert!(dev.completed > 0);
    eprintln!("faults injected and survived: {c:?}; stats {s:?}");
}

/// Without verification, a corrupting device's wrong answers do get out: the checks above
/// are what stops them.
#[test]
fn without_verification_corruption_gets_through() {
    let oracle = cpu_only();
    let rates = FaultRates {
        corrupt: 1.0,
        ..FaultRates::default()
    };
    let (rt, counts) = faulty_runtime(rates, 7, Verification::Off);
    let opts = CallOptions::default();
    let wrong = (0..14)
        .filter(|&k| call(&rt, k, &opts) != call(&oracle, k, &opts))
        .count();
    assert_eq!(rt.stats().verified, 0);
    // Every device call was corrupted (a Merkle tree is one call per layer, calls 5 and 12
    // are two hashing calls each), so every answer is wrong.
    assert!(counts.get().corruptions >= 16);
    assert_eq!(wrong, 14);
    // The same device with verification asked for per call: all right again.
    for k in 0..14 {
        let full = CallOptions {
            verification: Some(Verification::Full),
            ..CallOptions::default()
        };
        assert_eq!(call(&rt, k, &full), call(&oracle, k, &opts), "call {k}");
    }
    // One failed check per dispatched call: 14 calls, two of which dispatch twice.
    assert_eq!(rt.stats().verification_failures, 16);
}

/// `Sampled` catches every corrupted single-column NTT and single-item hash, and every
/// MSM result that is not on the curve.
#[test]
fn sampled_checks_catch_what_they_cover() {
    let oracle = cpu_only();
    let rates = FaultRates {
        corrupt: 1.0,
        ..FaultRates::default()
    };
    let (rt, _) = faulty_runtime(rates, 3, Verification::Sampled);
    let mut r = Rng(5);
    for _ in 0..10 {
        let mut a: Vec<Goldilocks> = elements(&mut r, 64);
        let mut b = a.clone();
        rt.ntt_domain::<Goldilocks>(6)
            .unwrap()
            .forward(&mut a)
            .unwrap();
        oracle
            .ntt_domain::<Goldilocks>(6)
            .unwrap()
            .forward(&mut b)
            .unwrap();
        assert_eq!(a, b);
        let msg: Vec<Bn254Fr> = elements(&mut r, 2);
        let id = HashId::circom_inputs(2).unwrap();
        assert_eq!(rt.hash(id, &msg).unwrap(), oracle.hash(id, &msg).unwrap());
    }
    assert_eq!(rt.stats().verification_failures, 20);
}

/// Under `OnVerifyFailure::Error` a failed check is the caller's error, and is counted.
#[test]
fn failed_check_can_be_an_error() {
    let faulty = FaultyBackend::new(
        Arc::new(zkaccel_cpu::CpuBackend::new()),
        FaultRates {
            corrupt: 1.0,
            ..FaultRates::default()
        },
        11,
    );
    let rt = Runtime::builder()
        .with_backend(Arc::new(faulty))
        .policy(Policy::Prefer(DeviceKind::Plugin))
        .verification(Verification::Full)
        .on_verify_failure(OnVerifyFailure::Error)
        .without_opencl()
        .without_cuda()
        .without_profile()
        .build()
        .unwrap();
    let mut r = Rng(9);
    let b = points::<Bn254G1>(&mut r, 16);
    let s: Vec<Bn254Fr> = elements(&mut r, 16);
    match rt.msm(&b, &s) {
        Err(Error::VerificationFailed { device: 0, .. }) => {}
        other => panic!("expected a verification failure, got {other:?}"),
    }
    let mut d: Vec<BabyBear> = elements(&mut r, 32);
    assert!(matches!(
        rt.ntt_domain::<BabyBear>(5).unwrap().inverse(&mut d),
        Err(Error::VerificationFailed { .. })
    ));
    let st = rt.stats();
    assert_eq!(
        (st.verification_failures, st.failed_calls, st.fallbacks),
        (2, 2, 0)
    );
}

/// A device that hangs: with a time limit the call ends near the limit with
/// `Error::Timeout`; without one, the device's own timeout leads to the CPU.
#[test]
fn time_limits_end_hung_calls() {
    let hang = FaultRates {
        timeout: 1.0,
        ..FaultRates::default()
    };
    let faulty = FaultyBackend::new(Arc::new(zkaccel_cpu::CpuBackend::new()), hang, 1)
        .hang(Duration::from_secs(30));
    let rt = Runtime::builder()
        .with_backend(Arc::new(faulty))
        .policy(Policy::Prefer(DeviceKind::Plugin))
        .call_timeout(Duration::from_millis(150))
        .without_opencl()
        .without_cuda()
        .without_profile()
        .build()
        .unwrap();
    let mut r = Rng(2);
    let b = points::<Bn254G1>(&mut r, 8);
    let s: Vec<Bn254Fr> = elements(&mut r, 8);
    let t = Instant::now();
    match rt.msm(&b, &s) {
        Err(Error::Timeout {
            millis, attempts, ..
        }) => {
            assert!(millis >= 150, "{millis}");
            assert_eq!(attempts.len(), 1);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // A per-call limit overrides the runtime's.
    let mut d: Vec<Goldilocks> = elements(&mut r, 16);
    let t = Instant::now();
    let short = CallOptions {
        timeout: Some(Duration::from_millis(30)),
        ..CallOptions::default()
    };
    let e = rt
        .ntt_domain::<Goldilocks>(4)
        .unwrap()
        .run_with(&mut d, &NttConfig::default(), &short)
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(t.elapsed() < Duration::from_secs(3));
    let st = rt.stats();
    assert_eq!((st.timeouts, st.failed_calls), (2, 2));

    // No limit: the device gives up after its own hang time, and the CPU answers.
    let (rt, counts) = faulty_runtime(hang, 1, Verification::Off);
    let oracle = cpu_only();
    assert_eq!(rt.msm(&b, &s).unwrap(), oracle.msm(&b, &s).unwrap());
    assert_eq!(counts.get().timeouts, 1);
    assert_eq!(rt.stats().fallbacks, 1);
}

/// Resident set size in bytes (Linux), for the memory bound of the load test.
fn rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Eight threads share one runtime with a faulty device and full verification: 2400 mixed
/// calls in two rounds, every answer right, no deadlock (a watchdog bounds the run), and
/// memory that does not grow from one round to the next.
#[test]
fn load_many_threads_one_faulty_runtime() {
    const THREADS: u64 = 8;
    const PER_THREAD: u64 = 150;
    let rates = FaultRates {
        error: 0.05,
        timeout: 0.01,
        out_of_memory: 0.02,
        device_lost: 0.02,
        corrupt: 0.1,
    };
    let (rt, counts) = faulty_runtime(rates, 99, Verification::Full);
    let oracle = cpu_only();
    let opts = CallOptions::default();
    // The expected answers, computed once on the oracle (single-threaded).
    let kinds = 7 * 6;
    let expected: Arc<Vec<String>> =
        Arc::new((0..kinds).map(|k| call(&oracle, k, &opts)).collect());
    let round = |first: u64| {
        let (tx, rx) = mpsc::channel();
        for t in 0..THREADS {
            let (rt, expected, tx) = (rt.clone(), expected.clone(), tx.clone());
            std::thread::spawn(move || {
                let mut bad = Vec::new();
                for i in 0..PER_THREAD {
                    let k = (first + t * PER_THREAD + i) % kinds;
                    if call(&rt, k, &CallOptions::default()) != expected[k as usize] {
                        bad.push(k);
                    }
                }
                tx.send(bad).unwrap();
            });
        }
        drop(tx);
        let deadline = Instant::now() + Duration::from_secs(600);
        for _ in 0..THREADS {
            let left = deadline.saturating_duration_since(Instant::now());
            let bad = rx
                .recv_timeout(left)
                .expect("a worker did not finish in 10 minutes: deadlock?");
            assert!(bad.is_empty(), "wrong answers for calls {bad:?}");
        }
    };
    let started = Instant::now();
    round(0);
    let after_one = rss();
    round(THREADS * PER_THREAD);
    let after_two = rss();
    if let (Some(a), Some(b)) = (after_one, after_two) {
        // A leak of even a few hundred bytes per call over 2000 calls would show; allow
        // allocator slack.
        assert!(b < a + (64 << 20), "RSS grew from {a} to {b} bytes");
    }
    let s = rt.stats();
    let c = counts.get();
    // Calls `k ≡ 5 (mod 7)` make two hashing calls, every other one runtime call.
    let dispatched: u64 = (0..2 * THREADS * PER_THREAD)
        .map(|j| if (j % kinds) % 7 == 5 { 2 } else { 1 })
        .sum();
    assert_eq!(s.msm_calls + s.ntt_calls + s.hash_calls, dispatched);
    eprintln!(
        "load: {} threads, {} calls ({dispatched} runtime calls) in {:.1?}; faults injected \
         {c:?}; stats {s:?}",
        THREADS,
        2 * THREADS * PER_THREAD,
        started.elapsed()
    );
    assert_eq!(s.failed_calls, 0);
    // Merkle trees make several device calls per runtime call, so faults can outnumber the
    // fallbacks they cause; each failed check was an injected corruption.
    assert!(s.verification_failures > 0 && s.verification_failures <= c.corruptions);
    assert!(s.fallbacks > 0 && s.fallbacks <= c.total(), "{s:?} {c:?}");
    assert!(c.total() > 100, "{c:?}");
}
