//! `zkaccel bench`: a quick, honest suite. Every backend and every peer library runs the same
//! inputs in the same process; results are checked equal before a time is reported; times are
//! medians over repetitions after a warm-up, with min and max.

use anyhow::{bail, Context, Result};
use ark_ec::short_weierstrass as sw;
use ark_ec::VariableBaseMSM;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::time::Instant;
use zkaccel::curves::{Bls12_381G1, Bn254G1};
use zkaccel::{
    Affine, ArkCurve, ArkField, BabyBear, CurveGroup, DeviceKind, Goldilocks, NttConfig,
    NttOrder, Policy, PrimeField, Projective, Runtime, TwoAdicField,
};

/// Options of `zkaccel bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Backends to run (cpu, opencl, cuda, fpga); default: every one present.
    #[arg(long, value_delimiter = ',')]
    backend: Vec<DeviceKind>,
    /// Operations to run.
    #[arg(long, value_delimiter = ',', default_value = "msm,ntt")]
    ops: Vec<String>,
    /// MSM sizes as log2.
    #[arg(long, value_delimiter = ',', default_value = "12,14,16")]
    msm_sizes: Vec<u32>,
    /// NTT sizes as log2.
    #[arg(long, value_delimiter = ',', default_value = "14,16,18")]
    ntt_sizes: Vec<u32>,
    /// Timed repetitions per measurement (after one warm-up run).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Worker threads for every library (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Skip the peer libraries (arkworks, Plonky3).
    #[arg(long)]
    no_peers: bool,
    /// Print JSON (schema `zkaccel-bench/1`) instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Clone, Debug)]
struct Timing {
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    reps: usize,
}

#[derive(Serialize, Clone, Debug)]
struct Entry {
    /// "zkaccel:<kind>" or the peer's name.
    runner: String,
    device: String,
    timing: Timing,
    /// Millions of points (MSM) or elements (NTT) per second.
    throughput_m_per_s: f64,
    /// Result equal to the first runner's (ours on the first backend).
    verified: bool,
}

#[derive(Serialize, Clone, Debug)]
struct CaseResult {
    op: String,
    target: String,
    log_n: u32,
    note: String,
    entries: Vec<Entry>,
    /// Peer median / our best median: > 1 means zkaccel is faster.
    speedup_vs_peer: Option<f64>,
}

fn time<R>(reps: usize, mut f: impl FnMut() -> R) -> (Timing, R) {
    let mut last = f(); // warm-up (compiles kernels, fills twiddle caches)
    let mut t: Vec<f64> = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let s = Instant::now();
        last = f();
        t.push(s.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(|a, b| a.total_cmp(b));
    (
        Timing {
            median_ms: t[t.len() / 2],
            min_ms: t[0],
            max_ms: t[t.len() - 1],
            reps: t.len(),
        },
        last,
    )
}

fn rng() -> impl FnMut() -> u64 {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

struct Ctx {
    runtimes: Vec<(DeviceKind, String, Runtime)>,
    reps: usize,
    peers: bool,
    bar: ProgressBar,
}

pub fn run(args: BenchArgs) -> Result<()> {
    if let Some(t) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .context("setting the thread count")?;
    }
    let probe = Runtime::new()?;
    let mut kinds: Vec<DeviceKind> = Vec::new();
    for d in probe.devices() {
        if !kinds.contains(&d.info.kind) {
            kinds.push(d.info.kind);
        }
    }
    if !args.backend.is_empty() {
        for k in &args.backend {
            if !kinds.contains(k) {
                bail!("backend '{k}' is not available on this machine (run `zkaccel devices`)");
            }
        }
        kinds.retain(|k| args.backend.contains(k));
    }
    let mut runtimes = Vec::new();
    for k in kinds {
        let rt = Runtime::builder().policy(Policy::Only(k)).build()?;
        let name = rt
            .devices()
            .iter()
            .find(|d| d.info.kind == k)
            .map(|d| {
                if d.info.simulated {
                    format!("{} (SIMULATED)", d.info.name)
                } else {
                    d.info.name.clone()
                }
            })
            .unwrap_or_default();
        runtimes.push((k, name, rt));
    }

    let msm = args.ops.iter().any(|o| o == "msm");
    let ntt = args.ops.iter().any(|o| o == "ntt");
    let mut plan: Vec<(&str, &str, u32)> = Vec::new();
    if msm {
        for &s in &args.msm_sizes {
            plan.push(("msm", "bn254-g1", s));
        }
        for &s in &args.msm_sizes {
            plan.push(("msm", "bls12-381-g1", s));
        }
    }
    if ntt {
        for f in ["bn254-fr", "bls12-381-fr", "goldilocks", "babybear"] {
            for &s in &args.ntt_sizes {
                plan.push(("ntt", f, s));
            }
        }
    }
    let bar = if args.json || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(plan.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
            .expect("valid template"),
    );
    let ctx = Ctx {
        runtimes,
        reps: args.reps,
        peers: !args.no_peers,
        bar,
    };
    let mut results = Vec::new();
    for (op, target, log_n) in plan {
        ctx.bar.set_message(format!("{op} {target} 2^{log_n}"));
        let r = match (op, target) {
            ("msm", "bn254-g1") => bench_msm::<Bn254G1>(&ctx, log_n)?,
            ("msm", "bls12-381-g1") => bench_msm::<Bls12_381G1>(&ctx, log_n)?,
            ("ntt", "bn254-fr") => bench_ntt_ark::<zkaccel::curves::Bn254Fr>(&ctx, log_n)?,
            ("ntt", "bls12-381-fr") => bench_ntt_ark::<zkaccel::curves::Bls12_381Fr>(&ctx, log_n)?,
            ("ntt", "goldilocks") => bench_ntt_p3::<Goldilocks, p3_goldilocks::Goldilocks>(
                &ctx,
                log_n,
                |x| p3_goldilocks::Goldilocks::new(x.value()),
            )?,
            ("ntt", "babybear") => bench_ntt_p3::<BabyBear, p3_baby_bear::BabyBear>(
                &ctx,
                log_n,
                |x| p3_baby_bear::BabyBear::new(x.value()),
            )?,
            _ => unreachable!(),
        };
        results.push(r);
        ctx.bar.inc(1);
    }
    ctx.bar.finish_and_clear();
    if args.json {
        let machine = machine_json(&probe);
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "schema": "zkaccel-bench/1",
                "machine": machine,
                "threads": rayon::current_num_threads(),
                "results": results,
            }))?
        );
    } else {
        print_table(&probe, &results);
    }
    if results.iter().any(|r| r.entries.iter().any(|e| !e.verified)) {
        bail!("some results disagreed with the reference (marked MISMATCH above)");
    }
    Ok(())
}

fn machine_json(rt: &Runtime) -> serde_json::Value {
    serde_json::json!(rt
        .devices()
        .iter()
        .map(|d| serde_json::json!({
            "kind": d.info.kind.name(), "name": d.info.name, "driver": d.info.driver,
            "compute_units": d.info.compute_units, "memory_bytes": d.info.memory_bytes,
            "simulated": d.info.simulated,
        }))
        .collect::<Vec<_>>())
}

fn entry(runner: String, device: String, timing: Timing, n: usize, verified: bool) -> Entry {
    Entry {
        throughput_m_per_s: n as f64 / (timing.median_ms * 1e3),
        runner,
        device,
        timing,
        verified,
    }
}

fn finish(
    op: &str,
    target: &str,
    log_n: u32,
    note: &str,
    entries: Vec<Entry>,
    ours: usize,
) -> CaseResult {
    let best_ours = entries[..ours]
        .iter()
        .map(|e| e.timing.median_ms)
        .fold(f64::INFINITY, f64::min);
    let best_peer = entries[ours..]
        .iter()
        .map(|e| e.timing.median_ms)
        .fold(f64::INFINITY, f64::min);
    CaseResult {
        op: op.into(),
        target: target.into(),
        log_n,
        note: note.into(),
        speedup_vs_peer: best_peer.is_finite().then(|| best_peer / best_ours),
        entries,
    }
}

/// Random bases without a scalar multiplication per point: a random start and a random
/// step, `P_i = P_0 + i·S`, normalised with one batch inversion.
fn random_bases<C: CurveGroup>(n: usize, next: &mut impl FnMut() -> u64) -> Vec<Affine<C>> {
    let g = Projective::<C>::generator();
    let step = g.mul(&C::Scalar::random_with(next)).to_affine();
    let mut p = g.mul(&C::Scalar::random_with(next));
    let mut pts = Vec::with_capacity(n);
    for _ in 0..n {
        pts.push(p);
        p = p.add_affine(&step);
    }
    Projective::batch_to_affine(&pts)
}

fn bench_msm<C>(ctx: &Ctx, log_n: u32) -> Result<CaseResult>
where
    C: ArkCurve,
    C::Base: ArkField,
    C::Scalar: ArkField,
{
    let n = 1usize << log_n;
    let mut next = rng();
    let bases = random_bases::<C>(n, &mut next);
    let scalars: Vec<C::Scalar> = (0..n).map(|_| C::Scalar::random_with(&mut next)).collect();
    let mut entries = Vec::new();
    let mut reference: Option<Projective<C>> = None;
    for (kind, name, rt) in &ctx.runtimes {
        let (t, r) = time(ctx.reps, || rt.msm(&bases, &scalars));
        let r = r?;
        let ok = *reference.get_or_insert(r) == r;
        entries.push(entry(format!("zkaccel:{kind}"), name.clone(), t, n, ok));
    }
    let ours = entries.len();
    if ctx.peers {
        let ab: Vec<_> = bases.iter().map(C::affine_to_ark).collect();
        let asc: Vec<_> = scalars.iter().map(|s| s.to_ark()).collect();
        let (t, r) = time(ctx.reps, || {
            <sw::Projective<C::Config> as VariableBaseMSM>::msm(&ab, &asc)
                .expect("equal lengths")
        });
        let ok = reference.is_none_or(|p| C::projective_to_ark(&p) == r);
        entries.push(entry("arkworks 0.5".into(), "cpu".into(), t, n, ok));
    }
    Ok(finish(
        "msm",
        &C::id().to_string(),
        log_n,
        "points/s",
        entries,
        ours,
    ))
}

fn bench_ntt_ark<F>(ctx: &Ctx, log_n: u32) -> Result<CaseResult>
where
    F: TwoAdicField + ArkField,
    F::Ark: ark_ff::FftField,
{
    let n = 1usize << log_n;
    let mut next = rng();
    let input: Vec<F> = (0..n).map(|_| F::random_with(&mut next)).collect();
    let mut entries = Vec::new();
    let mut reference: Option<Vec<F>> = None;
    for (kind, name, rt) in &ctx.runtimes {
        let domain = rt.ntt_domain::<F>(log_n)?;
        let mut data = input.clone();
        // Copy in fresh input each time, outside the timed region.
        let mut t_all = Vec::new();
        domain.forward(&mut data)?; // warm-up
        for _ in 0..ctx.reps.max(1) {
            data.copy_from_slice(&input);
            let s = Instant::now();
            domain.forward(&mut data)?;
            t_all.push(s.elapsed().as_secs_f64() * 1e3);
        }
        let t = summarize(t_all);
        let ok = reference.get_or_insert_with(|| data.clone()) == &data;
        entries.push(entry(format!("zkaccel:{kind}"), name.clone(), t, n, ok));
    }
    let ours = entries.len();
    if ctx.peers {
        let dom = Radix2EvaluationDomain::<F::Ark>::new(n).context("ark-poly domain")?;
        let ark_in: Vec<F::Ark> = input.iter().map(|x| x.to_ark()).collect();
        let mut data = ark_in.clone();
        dom.fft_in_place(&mut data);
        let mut t_all = Vec::new();
        for _ in 0..ctx.reps.max(1) {
            data.copy_from_slice(&ark_in);
            let s = Instant::now();
            dom.fft_in_place(&mut data);
            t_all.push(s.elapsed().as_secs_f64() * 1e3);
        }
        let ok = reference
            .as_ref()
            .is_none_or(|r| r.iter().zip(&data).all(|(a, b)| a.to_ark() == *b));
        entries.push(entry("ark-poly 0.5".into(), "cpu".into(), summarize(t_all), n, ok));
    }
    Ok(finish(
        "ntt",
        F::ID.name(),
        log_n,
        "forward, natural order in and out; elements/s",
        entries,
        ours,
    ))
}

fn bench_ntt_p3<F, P>(ctx: &Ctx, log_n: u32, to_p3: impl Fn(F) -> P) -> Result<CaseResult>
where
    F: TwoAdicField,
    P: p3_field::TwoAdicField + p3_field::PrimeField64 + Ord,
{
    use p3_dft::TwoAdicSubgroupDft;
    use p3_matrix::Matrix;
    let n = 1usize << log_n;
    let mut next = rng();
    let input: Vec<F> = (0..n).map(|_| F::random_with(&mut next)).collect();
    let cfg = NttConfig {
        output_order: NttOrder::BitReversed,
        ..NttConfig::default()
    };
    let mut entries = Vec::new();
    let mut reference: Option<Vec<F>> = None;
    for (kind, name, rt) in &ctx.runtimes {
        let domain = rt.ntt_domain::<F>(log_n)?;
        let mut data = input.clone();
        domain.run(&mut data, &cfg)?;
        let mut t_all = Vec::new();
        for _ in 0..ctx.reps.max(1) {
            data.copy_from_slice(&input);
            let s = Instant::now();
            domain.run(&mut data, &cfg)?;
            t_all.push(s.elapsed().as_secs_f64() * 1e3);
        }
        let ok = reference.get_or_insert_with(|| data.clone()) == &data;
        entries.push(entry(format!("zkaccel:{kind}"), name.clone(), summarize(t_all), n, ok));
    }
    let ours = entries.len();
    if ctx.peers {
        let dft = p3_dft::Radix2DitParallel::<P>::default();
        let p3_in: Vec<P> = input.iter().map(|&x| to_p3(x)).collect();
        let mut out = dft.dft_batch(p3_matrix::dense::RowMajorMatrix::new(p3_in.clone(), 1));
        let mut t_all = Vec::new();
        for _ in 0..ctx.reps.max(1) {
            let m = p3_matrix::dense::RowMajorMatrix::new(p3_in.clone(), 1);
            let s = Instant::now();
            out = dft.dft_batch(m);
            t_all.push(s.elapsed().as_secs_f64() * 1e3);
        }
        // p3 returns a bit-reversed buffer behind a natural-order view; compare in natural
        // order (our bit-reversed output, read through bit reversal).
        let natural = out.to_row_major_matrix().values;
        let ok = reference.as_ref().is_none_or(|r| {
            (0..n).all(|i| {
                let j = i.reverse_bits() >> (usize::BITS - log_n.max(1)) & (n - 1);
                let j = if log_n == 0 { 0 } else { j };
                to_p3(r[j]) == natural[i]
            })
        });
        entries.push(entry("Plonky3 0.8 Radix2DitParallel".into(), "cpu".into(), summarize(t_all), n, ok));
    }
    Ok(finish(
        "ntt",
        F::ID.name(),
        log_n,
        "forward, natural in, bit-reversed out (Plonky3 returns a bit-reversed view); elements/s",
        entries,
        ours,
    ))
}

fn summarize(mut t: Vec<f64>) -> Timing {
    t.sort_by(|a, b| a.total_cmp(b));
    Timing {
        median_ms: t[t.len() / 2],
        min_ms: t[0],
        max_ms: t[t.len() - 1],
        reps: t.len(),
    }
}

fn print_table(rt: &Runtime, results: &[CaseResult]) {
    println!("zkaccel bench — every runner on the same inputs in this process; results checked equal");
    for d in rt.devices() {
        println!(
            "device {}: {} [{}]{}  {}",
            d.index,
            d.info.name,
            d.info.kind,
            if d.info.simulated { " SIMULATED" } else { "" },
            d.info.driver
        );
    }
    println!("threads: {}", rayon::current_num_threads());
    println!();
    println!(
        "{:<4} {:<13} {:>5}  {:<30} {:>10} {:>10} {:>10} {:>10}  {}",
        "op", "target", "size", "runner", "median ms", "min ms", "max ms", "M/s", "check"
    );
    for r in results {
        for e in &r.entries {
            let spread = e.timing.max_ms > 1.5 * e.timing.min_ms;
            println!(
                "{:<4} {:<13} {:>5}  {:<30} {:>10.3} {:>10.3} {:>10.3} {:>10.2}  {}{}",
                r.op,
                r.target,
                format!("2^{}", r.log_n),
                e.runner,
                e.timing.median_ms,
                e.timing.min_ms,
                e.timing.max_ms,
                e.throughput_m_per_s,
                if e.verified { "ok" } else { "MISMATCH" },
                if spread { " (wide spread)" } else { "" }
            );
        }
        if let Some(s) = r.speedup_vs_peer {
            println!(
                "{:<4} {:<13} {:>5}  {:<30} {:>10}",
                "", "", "", "→ zkaccel speed-up vs peer", format!("{s:.2}×")
            );
        }
    }
}

