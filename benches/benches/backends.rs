//! criterion benches for developers tracking regressions: one macro instantiates the MSM and
//! NTT groups for every backend kind present (`cargo bench -p zkaccel-benches`).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use zkaccel::curves::{Bls12_381G1, Bn254Fr, Bn254G1};
use zkaccel::{DeviceKind, Goldilocks, Policy, Runtime};
use zkaccel_benches::{elements, msm_input};

/// Instantiates a bench function for one backend kind; absent kinds are skipped.
macro_rules! backend_benches {
    ($($fn_name:ident => $kind:expr),+ $(,)?) => {$(
        fn $fn_name(c: &mut Criterion) {
            let kind: DeviceKind = $kind;
            let rt = match Runtime::builder().policy(Policy::Only(kind)).build() {
                Ok(rt) if rt.devices().iter().any(|d| d.info.kind == kind) => rt,
                _ => {
                    eprintln!("SKIPPED: no {kind} device");
                    return;
                }
            };
            let mut g = c.benchmark_group(format!("{kind}"));
            g.sample_size(10);
            for log_n in [10u32, 14] {
                let (b, s) = msm_input::<Bn254G1>(1 << log_n, 1);
                g.bench_with_input(BenchmarkId::new("msm-bn254-g1", log_n), &log_n, |bch, _| {
                    bch.iter(|| rt.msm(&b, &s).expect("msm"))
                });
                let (b, s) = msm_input::<Bls12_381G1>(1 << log_n, 2);
                g.bench_with_input(BenchmarkId::new("msm-bls12-381-g1", log_n), &log_n, |bch, _| {
                    bch.iter(|| rt.msm(&b, &s).expect("msm"))
                });
            }
            for log_n in [12u32, 16] {
                let d = rt.ntt_domain::<Bn254Fr>(log_n).expect("domain");
                let mut v = elements::<Bn254Fr>(1 << log_n, 3);
                g.bench_with_input(BenchmarkId::new("ntt-bn254-fr", log_n), &log_n, |bch, _| {
                    bch.iter(|| d.forward(&mut v).expect("ntt"))
                });
                let d = rt.ntt_domain::<Goldilocks>(log_n).expect("domain");
                let mut v = elements::<Goldilocks>(1 << log_n, 4);
                g.bench_with_input(BenchmarkId::new("ntt-goldilocks", log_n), &log_n, |bch, _| {
                    bch.iter(|| d.forward(&mut v).expect("ntt"))
                });
            }
            g.finish();
        }
    )+
    criterion_group!(benches, $($fn_name),+);
    };
}

backend_benches!(
    cpu => DeviceKind::Cpu,
    opencl => DeviceKind::OpenCl,
    cuda => DeviceKind::Cuda,
    fpga => DeviceKind::Fpga,
);
criterion_main!(benches);
