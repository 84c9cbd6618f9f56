//! Load through the C ABI: eight threads share one `zka_runtime`, one bases handle and one
//! NTT domain, and make 2000 mixed MSM / bases-handle MSM / NTT / hashing calls. Every
//! answer must equal the Rust API's, every call return `ZKA_OK`, and the runtime's counters
//! must add up; a watchdog fails the test instead of letting a deadlock hang CI.

use std::sync::mpsc;
use std::time::{Duration, Instant};
use zk::curves::{Bn254Fr, Bn254G1};
use zk::{Affine, Field, Goldilocks, HashId, PrimeField, Projective, Runtime};
use zkaccel::*;

const THREADS: usize = 8;
const PER_THREAD: usize = 250;
const N: usize = 16;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Raw pointers shared with the workers (the C ABI documents these handles as
/// thread-safe).
#[derive(Copy, Clone)]
struct Handles {
    rt: *const zka_runtime,
    bases: *const zka_msm_bases,
    domain: *const zka_ntt_domain,
}
// SAFETY: `zka_runtime`, `zka_msm_bases` and `zka_ntt_domain` may be used from any number of
// threads at once (the header says so for every function used here), and all three outlive
// the workers (destroyed after they are joined).
unsafe impl Send for Handles {}

struct Instance {
    points: Vec<Affine<Bn254G1>>,
    scalars: Vec<Vec<Bn254Fr>>,
    msm: Vec<[u64; 8]>,
    messages: Vec<Bn254Fr>,
    digests: Vec<Bn254Fr>,
    column: Vec<u64>,
    transformed: Vec<u64>,
}

fn instance() -> Instance {
    let rt = Runtime::builder()
        .without_opencl()
        .without_cuda()
        .build()
        .unwrap();
    let mut r = Rng(0x5eed);
    let mut next = || r.next();
    let g = Projective::<Bn254G1>::generator();
    let pts: Vec<_> = (0..N)
        .map(|_| g.mul(&Bn254Fr::random_with(&mut next)))
        .collect();
    let points = Projective::batch_to_affine(&pts);
    let scalars: Vec<Vec<Bn254Fr>> = (0..4)
        .map(|_| (0..N).map(|_| Bn254Fr::random_with(&mut next)).collect())
        .collect();
    let msm = scalars
        .iter()
        .map(|s| {
            let a = rt.msm(&points, s).unwrap().to_affine();
            let mut l = [0u64; 8];
            l[..4].copy_from_slice(&a.x.to_montgomery());
            l[4..].copy_from_slice(&a.y.to_montgomery());
            l
        })
        .collect();
    let messages: Vec<Bn254Fr> = (0..8).map(|_| Bn254Fr::random_with(&mut next)).collect();
    let mut digests = vec![Bn254Fr::ZERO; 4];
    rt.hash_batch(
        HashId::circom_inputs(2).unwrap(),
        &messages,
        2,
        &mut digests,
    )
    .unwrap();
    let col: Vec<Goldilocks> = (0..64)
        .map(|_| Goldilocks::random_with(&mut next))
        .collect();
    let mut t = col.clone();
    rt.ntt_domain::<Goldilocks>(6)
        .unwrap()
        .forward(&mut t)
        .unwrap();
    Instance {
        points,
        scalars,
        msm,
        messages,
        digests,
        column: col.iter().map(|x| x.to_canonical()[0]).collect(),
        transformed: t.iter().map(|x| x.to_canonical()[0]).collect(),
    }
}

/// The instance's bases as a C descriptor (packed affine, Montgomery form).
fn points_desc(inst: &Instance) -> zka_points {
    zka_points {
        struct_size: size_of::<zka_points>() as u32,
        curve: ZKA_CURVE_BN254,
        group: ZKA_G1,
        encoding: ZKA_ENCODING_MONTGOMERY,
        infinity: ZKA_INFINITY_ZERO,
        flag_offset: 0,
        stride: 0,
        count: N,
        data: inst.points.as_ptr().cast(),
    }
}

fn scalars_desc(s: &[Bn254Fr]) -> zka_scalars {
    zka_scalars {
        struct_size: size_of::<zka_scalars>() as u32,
        encoding: ZKA_ENCODING_MONTGOMERY,
        count: s.len(),
        data: s.as_ptr().cast(),
    }
}

fn point_out(buf: &mut [u64; 8]) -> zka_point_out {
    zka_point_out {
        struct_size: size_of::<zka_point_out>() as u32,
        form: ZKA_FORM_AFFINE,
        encoding: ZKA_ENCODING_MONTGOMERY,
        is_infinity: 0,
        limbs: buf.as_mut_ptr(),
        capacity: 8,
        written: 0,
    }
}

/// One worker's calls; returns a description of each wrong answer.
fn work(h: Handles, inst: &Instance, t: usize) -> Vec<String> {
    let mut bad = Vec::new();
    let points = points_desc(inst);
    for i in 0..PER_THREAD {
        let k = (t + i) % 4;
        let status;
        match i % 4 {
            0 => {
                let sc = scalars_desc(&inst.scalars[k]);
                let mut buf = [0u64; 8];
                let mut out = point_out(&mut buf);
                // SAFETY: live runtime; descriptors over live vectors; `out` over `buf`.
                status = unsafe {
                    zka_msm(
                        h.rt,
                        &points,
                        &sc,
                        std::ptr::null(),
                        &mut out,
                        std::ptr::null_mut(),
                    )
                };
                if status == ZKA_OK && buf != inst.msm[k] {
                    bad.push(format!("thread {t} call {i}: MSM"));
                }
            }
            1 => {
                let sc = scalars_desc(&inst.scalars[k]);
                let mut buf = [0u64; 8];
                let mut out = point_out(&mut buf);
                // SAFETY: live bases handle; as above.
                status = unsafe { zka_msm_bases_msm(h.bases, &sc, &mut out, std::ptr::null_mut()) };
                if status == ZKA_OK && buf != inst.msm[k] {
                    bad.push(format!("thread {t} call {i}: bases-handle MSM"));
                }
            }
            2 => {
                let mut v = inst.column.clone();
                let mut cfg = zka_ntt_config {
                    struct_size: size_of::<zka_ntt_config>() as u32,
                    direction: ZKA_NTT_FORWARD,
                    input_order: ZKA_ORDER_NATURAL,
                    output_order: ZKA_ORDER_NATURAL,
                    encoding: ZKA_ENCODING_CANONICAL,
                    layout: ZKA_LAYOUT_CONTIGUOUS,
                    batch: 1,
                    has_coset: 0,
                    coset_shift: [0; 4],
                    verification: ZKA_VERIFY_DEFAULT,
                    timeout_ms: 0,
                };
                // SAFETY: live domain; `v` holds 64 Goldilocks elements.
                let s1 = unsafe {
                    zka_ntt(
                        h.domain,
                        &cfg,
                        v.as_mut_ptr().cast(),
                        v.len(),
                        std::ptr::null_mut(),
                    )
                };
                if s1 == ZKA_OK && v != inst.transformed {
                    bad.push(format!("thread {t} call {i}: forward NTT"));
                }
                cfg.direction = ZKA_NTT_INVERSE;
                // SAFETY: as above.
                status = unsafe {
                    zka_ntt(
                        h.domain,
                        &cfg,
                        v.as_mut_ptr().cast(),
                        v.len(),
                        std::ptr::null_mut(),
                    )
                };
                if s1 != ZKA_OK || (status == ZKA_OK && v != inst.column) {
                    bad.push(format!("thread {t} call {i}: inverse NTT ({s1})"));
                }
            }
            _ => {
                let mut out = vec![Bn254Fr::ZERO; 4];
                // SAFETY: live runtime; 8 input elements, 4 output elements.
                status = unsafe {
                    zka_hash(
                        h.rt,
                        HashId::circom_inputs(2).unwrap().as_u32(),
                        ZKA_HASH_MESSAGES,
                        2,
                        ZKA_ENCODING_MONTGOMERY,
                        inst.messages.as_ptr().cast(),
                        8,
                        out.as_mut_ptr().cast(),
                        4,
                        std::ptr::null_mut(),
                    )
                };
                if status == ZKA_OK && out != inst.digests {
                    bad.push(format!("thread {t} call {i}: hash"));
                }
            }
        }
        if status != ZKA_OK {
            bad.push(format!("thread {t} call {i}: status {status}"));
        }
    }
    bad
}

#[test]
fn many_threads_share_one_c_runtime() {
    let inst = std::sync::Arc::new(instance());
    let opts = zka_runtime_options {
        struct_size: size_of::<zka_runtime_options>() as u32,
        policy: ZKA_POLICY_ONLY,
        device_kind: ZKA_DEVICE_CPU,
        ..zka_runtime_options_default()
    };
    let mut rt: *mut zka_runtime = std::ptr::null_mut();
    // SAFETY: valid options, writable out-pointer.
    assert_eq!(unsafe { zka_runtime_create(&opts, &mut rt) }, ZKA_OK);
    let points = points_desc(&inst);
    let mut bases: *mut zka_msm_bases = std::ptr::null_mut();
    let mut domain: *mut zka_ntt_domain = std::ptr::null_mut();
    // SAFETY: live runtime, valid descriptors, writable out-pointers.
    unsafe {
        assert_eq!(
            zka_msm_bases_create(rt, &points, std::ptr::null(), &mut bases),
            ZKA_OK
        );
        assert_eq!(
            zka_ntt_domain_create(
                rt,
                ZKA_FIELD_GOLDILOCKS,
                6,
                std::ptr::null(),
                0,
                &mut domain
            ),
            ZKA_OK
        );
    }
    let h = Handles { rt, bases, domain };
    let (tx, rx) = mpsc::channel();
    for t in 0..THREADS {
        let (tx, inst) = (tx.clone(), inst.clone());
        std::thread::spawn(move || {
            let h = h;
            tx.send(work(h, &inst, t)).unwrap();
        });
    }
    drop(tx);
    let deadline = Instant::now() + Duration::from_secs(600);
    for _ in 0..THREADS {
        let bad = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a worker did not finish in 10 minutes: deadlock?");
        assert!(bad.is_empty(), "{bad:?}");
    }
    let mut st = zka_stats {
        struct_size: size_of::<zka_stats>() as u32,
        ..zka_stats_default()
    };
    // SAFETY: live runtime, writable stats.
    assert_eq!(unsafe { zka_runtime_stats(rt, &mut st) }, ZKA_OK);
    // Per thread: calls `i % 4 == 0, 1` are MSMs, `i % 4 == 2` two NTTs, the rest hashes.
    let kind = |r: usize| (THREADS * (0..PER_THREAD).filter(|i| i % 4 == r).count()) as u64;
    assert_eq!(st.msm_calls, kind(0) + kind(1));
    assert_eq!(st.ntt_calls, 2 * kind(2));
    assert_eq!(st.failed_calls, 0);
    // SAFETY: every worker has finished; each handle is destroyed once.
    unsafe {
        assert_eq!(zka_ntt_domain_destroy(domain), ZKA_OK);
        assert_eq!(zka_msm_bases_destroy(bases), ZKA_OK);
        assert_eq!(zka_runtime_destroy(rt), ZKA_OK);
    }
}

/// Zeroed option structs (their C `*_INIT` macros set `struct_size` and defaults of zero).
fn zka_runtime_options_default() -> zka_runtime_options {
    // SAFETY: a plain C struct of integers, for which all-zero is valid.
    unsafe { std::mem::zeroed() }
}

fn zka_stats_default() -> zka_stats {
    // SAFETY: as above.
    unsafe { std::mem::zeroed() }
}
