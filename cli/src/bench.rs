//! `zkaccel bench`: a quick, honest suite. Every backend and every peer library runs the same
//! inputs in the same process; results are checked equal before a time is reported; times are
//! medians over repetitions after a warm-up, with min and max.
//!
//! Hashing rows (`--ops hash`) run each case twice: on every thread (the runtime's backends
//! as they are, the peer under rayon over the inputs) and on one thread (the CPU backend built
//! with `cpu_threads(1)`, the peer inside a one-thread rayon pool), labelled `… NT (all)` and
//! `… 1T`. Peers: light-poseidon 0.4 for circomlib Poseidon, Plonky3 0.8's default Poseidon2
//! BabyBear permutation (with its packed-field path, whatever `Packing` it was compiled with)
//! for Poseidon2 and for a Merkle tree built with that permutation layer by layer.

use anyhow::{bail, Context, Result};
use ark_ec::short_weierstrass as sw;
use ark_ec::VariableBaseMSM;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::time::Instant;
use zkaccel::curves::{Bls12_381G1, Bn254Fr, Bn254G1};
use zkaccel::{
    Affine, ArkCurve, ArkField, BabyBear, CurveGroup, DeviceKind, Field, Goldilocks, HashId,
    NttConfig, NttOrder, Policy, PrimeField, Projective, Runtime, TwoAdicField,
};

/// The operations `--ops` accepts.
const OPS: [&str; 3] = ["msm", "ntt", "hash"];
/// The curve groups `--curves` accepts.
const CURVES: [&str; 3] = ["bn254-g1", "bls12-381-g1", "bls12-377-g1"];
/// The fields `--fields` accepts.
const FIELDS: [&str; 5] = [
    "bn254-fr",
    "bls12-381-fr",
    "bls12-377-fr",
    "goldilocks",
    "babybear",
];

/// Options of `zkaccel bench`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    /// Backends to run (cpu, opencl, cuda, fpga); default: the CPU and every accelerator
    /// present (OpenCL devices that run on the host CPU, such as PoCL, only when named).
    #[arg(long, value_delimiter = ',')]
    backend: Vec<DeviceKind>,
    /// Operations to run (msm, ntt, hash).
    #[arg(long, value_delimiter = ',', default_value = "msm,ntt,hash")]
    ops: Vec<String>,
    /// MSM curve groups (bn254-g1, bls12-381-g1, bls12-377-g1).
    #[arg(long, value_delimiter = ',', default_value = "bn254-g1,bls12-381-g1")]
    curves: Vec<String>,
    /// NTT fields (bn254-fr, bls12-381-fr, bls12-377-fr, goldilocks, babybear).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "bn254-fr,bls12-381-fr,goldilocks,babybear"
    )]
    fields: Vec<String>,
    /// MSM sizes as log2.
    #[arg(long, value_delimiter = ',', default_value = "12,14,16")]
    msm_sizes: Vec<u32>,
    /// NTT sizes as log2.
    #[arg(long, value_delimiter = ',', default_value = "14,16,18")]
    ntt_sizes: Vec<u32>,
    /// circomlib Poseidon (BN254, t = 3, two inputs) batch sizes as log2 of the message count.
    #[arg(long, value_delimiter = ',', default_value = "14")]
    poseidon_sizes: Vec<u32>,
    /// Poseidon2 (Plonky3 BabyBear, width 16) batch sizes as log2 of the permutation count.
    #[arg(long, value_delimiter = ',', default_value = "16")]
    poseidon2_sizes: Vec<u32>,
    /// Merkle tree sizes (Poseidon2 Plonky3 BabyBear width 16, arity 2) as log2 of the leaf
    /// count.
    #[arg(long, value_delimiter = ',', default_value = "20")]
    merkle_sizes: Vec<u32>,
    /// Timed repetitions per measurement (after one warm-up run).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Worker threads for every library (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Skip the peer libraries (arkworks, Plonky3, light-poseidon).
    #[arg(long)]
    no_peers: bool,
    /// Print JSON (schema `zkaccel-bench/1`, see `report.rs`) instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the JSON report to this file (the table is still printed).
    #[arg(long, value_name = "PATH")]
    json_out: Option<std::path::PathBuf>,
    /// Write the results as CSV to this file (`-` for standard output).
    #[arg(long, value_name = "PATH")]
    csv: Option<std::path::PathBuf>,
    /// Write log-log plots (time against size, a line per runner) as SVG and PNG here.
    #[arg(long, value_name = "DIR")]
    plot: Option<std::path::PathBuf>,
    /// MSM sizes (log2) for the FPGA engine (`--backend fpga`): it reports engine cycles,
    /// utilisation, stalls and a labelled projection, never wall-clock throughput of a
    /// simulation.
    #[arg(long, value_delimiter = ',', default_value = "6,8,10")]
    fpga_sizes: Vec<u32>,
    /// Clock for the FPGA projection (`cycles / f_clock`), MHz.
    #[arg(long, default_value_t = 250.0)]
    fpga_clock_mhz: f64,
}

/// `zkaccel bench compare`.
#[derive(clap::Subcommand, Debug)]
enum BenchCommand {
    /// Compare two JSON reports (`--json-out`): ratio of medians per case and runner; fails
    /// when one got slower than the threshold.
    Compare {
        /// The earlier report.
        old: std::path::PathBuf,
        /// The later report.
        new: std::path::PathBuf,
        /// Slow-down (percent) above which a median is flagged as a regression.
        #[arg(long, default_value_t = 10.0)]
        threshold: f64,
    },
}

/// Times of one runner on one case.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct Timing {
    pub(crate) median_ms: f64,
    pub(crate) min_ms: f64,
    pub(crate) max_ms: f64,
    pub(crate) reps: usize,
}

/// One runner's row of a case.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct Entry {
    /// "zkaccel:<kind>" or the peer's name.
    pub(crate) runner: String,
    pub(crate) device: String,
    pub(crate) timing: Timing,
    /// Millions of points (MSM), elements (NTT), hashes or permutations (hashing) or leaves
    /// (Merkle trees) per second.
    pub(crate) throughput_m_per_s: f64,
    /// Result equal to the first runner's (ours on the first backend).
    pub(crate) verified: bool,
}

/// One case (operation, target, size) and every runner's row.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct CaseResult {
    pub(crate) op: String,
    pub(crate) target: String,
    pub(crate) log_n: u32,
    /// Worker threads every runner had (1 for the single-thread hashing rows).
    pub(crate) threads: usize,
    pub(crate) note: String,
    pub(crate) entries: Vec<Entry>,
    /// Peer median / our best median: > 1 means zkaccel is faster.
    pub(crate) speedup_vs_peer: Option<f64>,
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

/// A fixed-seed xorshift stream: every runner and every run sees the same inputs.
pub(crate) fn rng() -> impl FnMut() -> u64 {
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
    /// The CPU backend on one thread (`cpu_threads(1)`), when the CPU is benchmarked and
    /// hashing is asked for.
    single: Option<(String, Runtime)>,
    /// A one-thread pool for the peers' single-thread rows.
    one_pool: Option<rayon::ThreadPool>,
    reps: usize,
    peers: bool,
    bar: ProgressBar,
}

pub fn run(mut args: BenchArgs) -> Result<()> {
    if let Some(BenchCommand::Compare {
        old,
        new,
        threshold,
    }) = &args.command
    {
        return crate::report::compare(old, new, *threshold);
    }
    // The FPGA engine gets its own rows (cycles, not times): see bench_fpga.rs.
    let mut fpga_rows = None;
    if args.backend.contains(&DeviceKind::Fpga) {
        fpga_rows = Some(crate::bench_fpga::run(
            &args.fpga_sizes,
            args.fpga_clock_mhz,
            args.json,
        )?);
        args.backend.retain(|k| *k != DeviceKind::Fpga);
        if args.backend.is_empty() {
            args.ops.clear();
        }
    }
    if let Some(t) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .context("setting the thread count")?;
    }
    for op in &args.ops {
        if !OPS.contains(&op.as_str()) {
            bail!(
                "unknown operation '{op}' in --ops (expected {})",
                OPS.join(", ")
            );
        }
    }
    for c in &args.curves {
        if !CURVES.contains(&c.as_str()) {
            bail!(
                "unknown curve group '{c}' in --curves (expected {})",
                CURVES.join(", ")
            );
        }
    }
    for f in &args.fields {
        if !FIELDS.contains(&f.as_str()) {
            bail!(
                "unknown field '{f}' in --fields (expected {})",
                FIELDS.join(", ")
            );
        }
    }
    let probe = Runtime::new()?;
    let mut kinds: Vec<DeviceKind> = Vec::new();
    for d in probe.devices() {
        let host_opencl = d.info.runs_on_host && d.info.kind != DeviceKind::Cpu;
        if host_opencl && !args.backend.contains(&d.info.kind) {
            continue;
        }
        if !kinds.contains(&d.info.kind) {
            kinds.push(d.info.kind);
        }
    }
    if !args.backend.is_empty() {
        for k in &args.backend {
            // Some backends are opened only when asked for by name (CUDA until it has been
            // validated on a GPU): look again with the policy that names them.
            let named = || -> Result<bool> {
                let rt = Runtime::builder().policy(Policy::Only(*k)).build()?;
                Ok(rt.devices().iter().any(|d| d.info.kind == *k))
            };
            if !kinds.contains(k) {
                if !named()? {
                    bail!("backend '{k}' is not available on this machine (run `zkaccel devices`)");
                }
                kinds.push(*k);
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
    let hash = args.ops.iter().any(|o| o == "hash");
    let (single, one_pool) = match runtimes.iter().find(|(k, _, _)| *k == DeviceKind::Cpu) {
        Some((_, name, _)) if hash => {
            let rt = Runtime::builder()
                .policy(Policy::Only(DeviceKind::Cpu))
                .cpu_threads(1)
                .build()?;
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .context("building the one-thread pool")?;
            (Some((name.clone(), rt)), Some(pool))
        }
        _ => (None, None),
    };
    let mut plan: Vec<(&str, &str, u32, Threads)> = Vec::new();
    let all = Threads::All;
    if msm {
        for c in CURVES
            .iter()
            .filter(|c| args.curves.iter().any(|a| a == *c))
        {
            for &s in &args.msm_sizes {
                plan.push(("msm", c, s, all));
            }
        }
    }
    if ntt {
        for f in FIELDS
            .iter()
            .filter(|f| args.fields.iter().any(|a| a == *f))
        {
            for &s in &args.ntt_sizes {
                plan.push(("ntt", f, s, all));
            }
        }
    }
    if hash {
        let both: &[Threads] = if single.is_some() {
            &[Threads::One, Threads::All]
        } else {
            &[Threads::All]
        };
        for &s in &args.poseidon_sizes {
            for &t in both {
                plan.push(("hash", HashId::PoseidonCircomT3.name(), s, t));
            }
        }
        for &s in &args.poseidon2_sizes {
            for &t in both {
                plan.push(("hash", HashId::Poseidon2Plonky3BabyBearT16.name(), s, t));
            }
        }
        for &s in &args.merkle_sizes {
            plan.push(("hash", "merkle", s, all));
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
        single,
        one_pool,
        reps: args.reps,
        peers: !args.no_peers,
        bar,
    };
    let mut results = Vec::new();
    for (op, target, log_n, threads) in plan {
        ctx.bar
            .set_message(format!("{op} {target} {} 2^{log_n}", threads.label()));
        let r = match (op, target) {
            ("msm", "bn254-g1") => bench_msm::<Bn254G1>(&ctx, log_n)?,
            ("msm", "bls12-381-g1") => bench_msm::<Bls12_381G1>(&ctx, log_n)?,
            ("msm", "bls12-377-g1") => bench_msm::<zkaccel::curves::Bls12_377G1>(&ctx, log_n)?,
            ("ntt", "bls12-377-fr") => bench_ntt_ark::<zkaccel::curves::Bls12_377Fr>(&ctx, log_n)?,
            ("ntt", "bn254-fr") => bench_ntt_ark::<zkaccel::curves::Bn254Fr>(&ctx, log_n)?,
            ("ntt", "bls12-381-fr") => bench_ntt_ark::<zkaccel::curves::Bls12_381Fr>(&ctx, log_n)?,
            ("ntt", "goldilocks") => {
                bench_ntt_p3::<Goldilocks, p3_goldilocks::Goldilocks>(&ctx, log_n, |x| {
                    p3_goldilocks::Goldilocks::new(x.value())
                })?
            }
            ("ntt", "babybear") => {
                bench_ntt_p3::<BabyBear, p3_baby_bear::BabyBear>(&ctx, log_n, |x| {
                    p3_baby_bear::BabyBear::new(x.value())
                })?
            }
            ("hash", "merkle") => bench_merkle(&ctx, log_n)?,
            ("hash", t) if t == HashId::PoseidonCircomT3.name() => {
                bench_poseidon_circom(&ctx, log_n, threads)?
            }
            ("hash", t) if t == HashId::Poseidon2Plonky3BabyBearT16.name() => {
                bench_poseidon2_babybear(&ctx, log_n, threads)?
            }
            _ => unreachable!(),
        };
        results.push(r);
        ctx.bar.inc(1);
    }
    ctx.bar.finish_and_clear();
    let mut doc = serde_json::json!({
        "schema": "zkaccel-bench/1",
        "host": crate::host_description(),
        "machine": machine_json(&probe),
        "threads": rayon::current_num_threads(),
        "results": results,
    });
    if let Some(rows) = fpga_rows {
        doc["fpga"] = serde_json::Value::Array(rows);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if !results.is_empty() {
        print_table(&probe, &results);
    }
    if let Some(path) = &args.json_out {
        crate::report::write_text(path, &(serde_json::to_string_pretty(&doc)? + "\n"))?;
        eprintln!("JSON report written to {}", path.display());
    }
    if let Some(path) = &args.csv {
        crate::report::write_text(path, &crate::report::csv(&results))?;
        if path.as_os_str() != "-" {
            eprintln!("CSV written to {}", path.display());
        }
    }
    if let Some(dir) = &args.plot {
        let files = crate::report::write_plots(dir, &results)?;
        eprintln!("{} plot files written to {}", files.len(), dir.display());
    }
    if results
        .iter()
        .any(|r| r.entries.iter().any(|e| !e.verified))
    {
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
        threads: rayon::current_num_threads(),
        note: note.into(),
        speedup_vs_peer: best_peer.is_finite().then(|| best_peer / best_ours),
        entries,
    }
}

/// Random bases without a scalar multiplication per point: a random start and a random
/// step, `P_i = P_0 + i·S`, normalised with one batch inversion.
pub(crate) fn random_bases<C: CurveGroup>(
    n: usize,
    next: &mut impl FnMut() -> u64,
) -> Vec<Affine<C>> {
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
            <sw::Projective<C::Config> as VariableBaseMSM>::msm(&ab, &asc).expect("equal lengths")
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
        entries.push(entry(
            "ark-poly 0.5".into(),
            "cpu".into(),
            summarize(t_all),
            n,
            ok,
        ));
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
        entries.push(entry(
            format!("zkaccel:{kind}"),
            name.clone(),
            summarize(t_all),
            n,
            ok,
        ));
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
        entries.push(entry(
            "Plonky3 0.8 Radix2DitParallel".into(),
            "cpu".into(),
            summarize(t_all),
            n,
            ok,
        ));
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
    println!(
        "zkaccel bench — every runner on the same inputs in this process; results checked equal"
    );
    println!("host: {}", crate::host_description());
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
    let tw = results
        .iter()
        .map(|r| r.target.chars().count())
        .max()
        .unwrap_or(0)
        .max(13);
    let rw = results
        .iter()
        .flat_map(|r| &r.entries)
        .map(|e| e.runner.chars().count())
        .max()
        .unwrap_or(0)
        .max(30);
    println!(
        "{:<4} {:<tw$} {:>5}  {:<rw$} {:>10} {:>10} {:>10} {:>10}  check",
        "op", "target", "size", "runner", "median ms", "min ms", "max ms", "M/s"
    );
    for r in results {
        for e in &r.entries {
            let spread = e.timing.max_ms > 1.5 * e.timing.min_ms;
            println!(
                "{:<4} {:<tw$} {:>5}  {:<rw$} {:>10.3} {:>10.3} {:>10.3} {:>10.2}  {}{}",
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
                "{:<4} {:<tw$} {:>5}  {:<rw$} {:>10}",
                "",
                "",
                "",
                "→ zkaccel speed-up vs peer",
                format!("{s:.2}×")
            );
        }
        if r.op == "hash" {
            println!("{:<4} {:<tw$} {:>5}  ↳ {}", "", "", "", r.note);
        }
    }
}

/// Which threads a hashing case runs on.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Threads {
    /// Every worker thread (the global rayon pool; `--threads` or all cores).
    All,
    /// One thread: the CPU backend built with `cpu_threads(1)`, peers in a one-thread pool.
    One,
}

impl Threads {
    fn count(self) -> usize {
        match self {
            Threads::All => rayon::current_num_threads(),
            Threads::One => 1,
        }
    }

    fn label(self) -> String {
        match self {
            Threads::All => format!("{}T (all)", rayon::current_num_threads()),
            Threads::One => "1T".into(),
        }
    }
}

impl Ctx {
    /// Our runners for a hashing case: every backend on all threads, or the CPU backend
    /// alone on one thread.
    fn ours(&self, threads: Threads) -> Vec<(String, String, &Runtime)> {
        match threads {
            Threads::All => self
                .runtimes
                .iter()
                .map(|(k, name, rt)| (format!("zkaccel:{k}"), name.clone(), rt))
                .collect(),
            Threads::One => self
                .single
                .iter()
                .map(|(name, rt)| ("zkaccel:cpu 1T".to_string(), name.clone(), rt))
                .collect(),
        }
    }

    /// Runs a peer on the case's threads (inside the one-thread pool for `One`).
    fn peer<R: Send>(&self, threads: Threads, f: impl FnOnce() -> R + Send) -> R {
        match (threads, &self.one_pool) {
            (Threads::One, Some(pool)) => pool.install(f),
            _ => f(),
        }
    }
}

/// Like [`time`] for an in-place operation: `buf` is refilled from `fresh` (untimed) before
/// every run.
fn time_fresh<T: Copy, R>(
    reps: usize,
    fresh: &[T],
    buf: &mut [T],
    mut f: impl FnMut(&mut [T]) -> R,
) -> (Timing, R) {
    buf.copy_from_slice(fresh);
    let mut last = f(buf); // warm-up
    let mut t = Vec::with_capacity(reps.max(1));
    for _ in 0..reps.max(1) {
        buf.copy_from_slice(fresh);
        let s = Instant::now();
        last = f(buf);
        t.push(s.elapsed().as_secs_f64() * 1e3);
    }
    (summarize(t), last)
}

/// circomlib Poseidon, BN254, t = 3 (two inputs, one output): `2^log_n` messages through
/// `Runtime::hash_batch`, against light-poseidon 0.4 (`Poseidon::new_circom(2)`), which hashes
/// one message at a time; on all threads it gets one hasher per thread over an equal share
/// of the messages (rayon), built before the clock starts.
fn bench_poseidon_circom(ctx: &Ctx, log_n: u32, threads: Threads) -> Result<CaseResult> {
    use light_poseidon::{Poseidon, PoseidonHasher};
    use rayon::prelude::*;
    let id = HashId::PoseidonCircomT3;
    let n = 1usize << log_n;
    let mut next = rng();
    let inputs: Vec<Bn254Fr> = (0..2 * n)
        .map(|_| Bn254Fr::random_with(&mut next))
        .collect();
    let mut entries = Vec::new();
    let mut reference: Option<Vec<Bn254Fr>> = None;
    for (runner, device, rt) in ctx.ours(threads) {
        let mut out = vec![Bn254Fr::ZERO; n];
        let (t, r) = time(ctx.reps, || rt.hash_batch(id, &inputs, 2, &mut out));
        r?;
        let ok = *reference.get_or_insert_with(|| out.clone()) == out;
        entries.push(entry(runner, device, t, n, ok));
    }
    let ours = entries.len();
    if ctx.peers {
        let ark_in: Vec<ark_bn254::Fr> = inputs.iter().map(|x| x.to_ark()).collect();
        let (t, out) = ctx.peer(threads, || -> Result<_> {
            let k = rayon::current_num_threads();
            let mut hashers = (0..k)
                .map(|_| Poseidon::<ark_bn254::Fr>::new_circom(2))
                .collect::<Result<Vec<_>, _>>()
                .context("light-poseidon parameters")?;
            let per = n.div_ceil(k).max(1);
            let mut out = vec![ark_bn254::Fr::from(0u64); n];
            let (t, r) = time(ctx.reps, || {
                hashers
                    .par_iter_mut()
                    .zip(ark_in.par_chunks(2 * per))
                    .zip(out.par_chunks_mut(per))
                    .try_for_each(|((h, msgs), outs)| {
                        for (m, o) in msgs.chunks_exact(2).zip(outs) {
                            *o = h.hash(m)?;
                        }
                        Ok::<_, light_poseidon::PoseidonError>(())
                    })
            });
            r.context("light-poseidon hash")?;
            Ok((t, out))
        })?;
        let ok = reference
            .as_ref()
            .is_none_or(|r| r.iter().zip(&out).all(|(a, b)| a.to_ark() == *b));
        entries.push(entry("light-poseidon 0.4".into(), "cpu".into(), t, n, ok));
    }
    let mut r = finish(
        "hash",
        &format!("{id} {}", threads.label()),
        log_n,
        "2-input hashes/s (circomlib Poseidon(2)); ours through Runtime::hash_batch",
        entries,
        ours,
    );
    r.threads = threads.count();
    Ok(r)
}

type P3BabyBear = p3_baby_bear::BabyBear;
type P3Packed = <P3BabyBear as p3_field::Field>::Packing;
/// States Plonky3 permutes at once in its packed field (1 without SIMD at build time).
const P3_LANES: usize = <P3Packed as p3_field::PackedValue>::WIDTH;

/// Permutes `states` with Plonky3's permutation, `P3_LANES` states at a time in its packed
/// field (transposed in and out), the ragged end one by one.
fn p3_permute_block(perm: &p3_baby_bear::Poseidon2BabyBear<16>, states: &mut [[P3BabyBear; 16]]) {
    use p3_field::PackedValue;
    use p3_symmetric::Permutation;
    let mut groups = states.chunks_exact_mut(P3_LANES);
    for g in &mut groups {
        let mut packed: [P3Packed; 16] =
            core::array::from_fn(|j| P3Packed::from_fn(|lane| g[lane][j]));
        perm.permute_mut(&mut packed);
        for (lane, s) in g.iter_mut().enumerate() {
            for (x, p) in s.iter_mut().zip(&packed) {
                *x = p.as_slice()[lane];
            }
        }
    }
    for s in groups.into_remainder() {
        perm.permute_mut(s);
    }
}

/// How Plonky3 was built, for the notes: its SIMD path is chosen at compile time.
fn p3_packing_note() -> String {
    if P3_LANES == 1 {
        "Plonky3 ran its scalar code: this binary was built without AVX2/AVX-512/NEON target \
         features, which Plonky3 selects at compile time (ours detects AVX2 at run time), so \
         the speed-up overstates ours; rebuild with RUSTFLAGS=-Ctarget-cpu=native to compare \
         with Plonky3's SIMD path"
            .into()
    } else {
        format!("Plonky3 permuted {P3_LANES} states at a time in its packed field")
    }
}

/// [`p3_permute_block`] over blocks of 64 states on the current rayon pool.
fn p3_permute_all(perm: &p3_baby_bear::Poseidon2BabyBear<16>, states: &mut [[P3BabyBear; 16]]) {
    use rayon::prelude::*;
    states
        .par_chunks_mut(64)
        .for_each(|c| p3_permute_block(perm, c));
}

fn p3_equal(ours: &[BabyBear], theirs: &[P3BabyBear]) -> bool {
    use p3_field::PrimeField32;
    ours.len() == theirs.len()
        && ours
            .iter()
            .zip(theirs)
            .all(|(a, b)| a.value() == b.as_canonical_u32())
}

/// Poseidon2, Plonky3's default BabyBear width-16 instance: `2^log_n` permutations in place
/// through `Runtime::permute`, against Plonky3 0.8 (`default_babybear_poseidon2_16`).
fn bench_poseidon2_babybear(ctx: &Ctx, log_n: u32, threads: Threads) -> Result<CaseResult> {
    let id = HashId::Poseidon2Plonky3BabyBearT16;
    let n = 1usize << log_n;
    let mut next = rng();
    let input: Vec<BabyBear> = (0..16 * n)
        .map(|_| BabyBear::random_with(&mut next))
        .collect();
    let mut entries = Vec::new();
    let mut reference: Option<Vec<BabyBear>> = None;
    for (runner, device, rt) in ctx.ours(threads) {
        let mut states = input.clone();
        let (t, r) = time_fresh(ctx.reps, &input, &mut states, |s| rt.permute(id, s));
        r?;
        let ok = *reference.get_or_insert_with(|| states.clone()) == states;
        entries.push(entry(runner, device, t, n, ok));
    }
    let ours = entries.len();
    if ctx.peers {
        let perm = p3_baby_bear::default_babybear_poseidon2_16();
        let p3_in: Vec<[P3BabyBear; 16]> = input
            .chunks_exact(16)
            .map(|c| core::array::from_fn(|j| P3BabyBear::new(c[j].value())))
            .collect();
        let mut states = p3_in.clone();
        let t = ctx.peer(threads, || {
            time_fresh(ctx.reps, &p3_in, &mut states, |s| p3_permute_all(&perm, s)).0
        });
        let flat: Vec<P3BabyBear> = states.iter().flatten().copied().collect();
        let ok = reference.as_ref().is_none_or(|r| p3_equal(r, &flat));
        entries.push(entry(
            format!("Plonky3 0.8 ({P3_LANES}-lane)"),
            "cpu".into(),
            t,
            n,
            ok,
        ));
    }
    let note = format!("permutations/s, in place; {}", p3_packing_note());
    let mut r = finish(
        "hash",
        &format!("{id} {}", threads.label()),
        log_n,
        &note,
        entries,
        ours,
    );
    r.threads = threads.count();
    Ok(r)
}

/// The root of the arity-2 tree over `leaves` (8-element digests) with Plonky3's
/// permutation: each node is the first 8 elements of the permutation of its two children
/// (Plonky3's `TruncatedPermutation<_, 2, 8, 16>`), layer by layer, on all threads.
fn p3_merkle_root(
    perm: &p3_baby_bear::Poseidon2BabyBear<16>,
    leaves: &[[P3BabyBear; 8]],
) -> Vec<P3BabyBear> {
    use rayon::prelude::*;
    let pair =
        |c: &[[P3BabyBear; 8]]| -> [P3BabyBear; 16] { core::array::from_fn(|j| c[j / 8][j % 8]) };
    let mut states: Vec<[P3BabyBear; 16]> = leaves.par_chunks_exact(2).map(pair).collect();
    loop {
        p3_permute_all(perm, &mut states);
        if states.len() <= 1 {
            break;
        }
        // Each state's first 8 elements are a node; pairs of nodes are the next states.
        states = states
            .par_chunks_exact(2)
            .map(|c| core::array::from_fn(|j| c[j / 8][j % 8]))
            .collect();
    }
    states.first().map(|s| s[..8].to_vec()).unwrap_or_default()
}

/// A Merkle tree of `2^log_n` leaves (Plonky3 BabyBear width 16, arity 2, 8-element
/// digests) through `Runtime::merkle_tree` (every layer kept); its root is checked against
/// `zkaccel_cpu::hash::merkle_root` on the same leaves. The peer is Plonky3's packed
/// permutation in a layer-by-layer loop written here (`p3-merkle-tree` itself, which also
/// hashes the leaf rows, is not a dependency).
fn bench_merkle(ctx: &Ctx, log_n: u32) -> Result<CaseResult> {
    let id = HashId::Poseidon2Plonky3BabyBearT16;
    let n = 1usize << log_n;
    let d = id.info().digest;
    let mut next = rng();
    let leaves: Vec<BabyBear> = (0..d * n)
        .map(|_| BabyBear::random_with(&mut next))
        .collect();
    let want = zkaccel_cpu::hash::merkle_root(id, 2, &leaves)
        .map_err(|e| anyhow::anyhow!("zkaccel_cpu::hash::merkle_root: {e}"))?;
    let mut entries = Vec::new();
    for (runner, device, rt) in ctx.ours(Threads::All) {
        let (t, tree) = time(ctx.reps, || rt.merkle_tree(id, 2, &leaves));
        let ok = tree?.root() == want.as_slice();
        entries.push(entry(runner, device, t, n, ok));
    }
    let ours = entries.len();
    if ctx.peers {
        let perm = p3_baby_bear::default_babybear_poseidon2_16();
        let p3_leaves: Vec<[P3BabyBear; 8]> = leaves
            .chunks_exact(8)
            .map(|c| core::array::from_fn(|j| P3BabyBear::new(c[j].value())))
            .collect();
        let (t, root) = if n == 1 {
            // One leaf is its own root: nothing to compress.
            time(ctx.reps, || p3_leaves[0].to_vec())
        } else {
            time(ctx.reps, || p3_merkle_root(&perm, &p3_leaves))
        };
        let ok = p3_equal(&want, &root);
        entries.push(entry(
            format!("Plonky3 0.8 ({P3_LANES}-lane), tree loop"),
            "cpu".into(),
            t,
            n,
            ok,
        ));
    }
    let mut r = finish(
        "hash",
        &format!("merkle {id} {}", Threads::All.label()),
        log_n,
        &format!(
            "leaves/s, arity 2, {} compressions, every layer kept; roots checked against \
             zkaccel_cpu::hash::merkle_root; the peer is Plonky3's permutation in a tree loop \
             written here, not p3-merkle-tree; {}",
            n - 1,
            p3_packing_note()
        ),
        entries,
        ours,
    );
    r.threads = Threads::All.count();
    Ok(r)
}
