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
use zkaccel::curves::{self, Bls12_381G1, Bn254Fr, Bn254G1};
use zkaccel::{
    Affine, ArkCurve, ArkField, BabyBear, BatchLayout, CurveGroup, DeviceKind, Field, Goldilocks,
    HashId, MsmOptions, NttConfig, NttDirection, NttOrder, PointsView, Policy, PrimeField,
    Projective, Runtime, TwoAdicField,
};

/// The operations `--ops` accepts.
const OPS: [&str; 3] = ["msm", "ntt", "hash"];
/// The curve groups `--curves` accepts.
const CURVES: [&str; 5] = [
    "bn254-g1",
    "bls12-381-g1",
    "bls12-377-g1",
    "bn254-g2",
    "bls12-381-g2",
];
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
    /// Backends to run (cpu, opencl, cuda, fpga, plugin); default: the CPU and every
    /// accelerator present (devices that run on the host CPU, such as PoCL or the example
    /// plugin, only when named).
    #[arg(long, value_delimiter = ',')]
    backend: Vec<DeviceKind>,
    /// Plugin libraries (or directories of them) to load, in addition to those in
    /// ZKACCEL_PLUGIN_PATH; `--backend plugin` benchmarks them.
    #[arg(long = "plugin")]
    plugins: Vec<std::path::PathBuf>,
    /// Operations to run (msm, ntt, hash).
    #[arg(long, value_delimiter = ',', default_value = "msm,ntt,hash")]
    ops: Vec<String>,
    /// MSM curve groups (bn254-g1, bls12-381-g1, bls12-377-g1, bn254-g2, bls12-381-g2).
    #[arg(long, value_delimiter = ',', default_value = "bn254-g1,bls12-381-g1")]
    curves: Vec<String>,
    /// NTT fields (bn254-fr, bls12-381-fr, bls12-377-fr, goldilocks, babybear).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "bn254-fr,bls12-381-fr,goldilocks,babybear"
    )]
    fields: Vec<String>,
    /// MSM sizes as log2; `max` is the largest size every benchmarked backend and this
    /// host's free memory take (see `max_msm_log`), `A..B` a range.
    #[arg(long, value_delimiter = ',', default_value = "12,14,16")]
    msm_sizes: Vec<SizeArg>,
    /// NTT sizes as log2 (total elements of a case, batches included); `max` and `A..B` as
    /// for `--msm-sizes`.
    #[arg(long, value_delimiter = ',', default_value = "14,16,18")]
    ntt_sizes: Vec<SizeArg>,
    /// NTT kinds: forward, inverse, batch (`--ntt-batch` columns sharing a case's elements).
    #[arg(long, value_delimiter = ',', default_value = "forward,inverse,batch")]
    ntt_kinds: Vec<String>,
    /// Columns of a batch NTT case (a power of two).
    #[arg(long, default_value_t = 16)]
    ntt_batch: usize,
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
    /// Timed repetitions per measurement.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Untimed warm-up runs before the repetitions (kernel compilation, twiddle tables,
    /// caches and clocks settle there).
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Worker threads for every library (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Also run the CPU backend on one thread in MSM and NTT cases (`cpu_threads(1)`, the
    /// whole call inside a one-thread pool, so the runtime's own passes too), and report its
    /// speed-up from one thread to all.
    #[arg(long)]
    scaling: bool,
    /// Also time each backend's MSM, NTT and Merkle rows with result verification at these
    /// levels (`sampled`, `full`; comma-separated): rows `zkaccel:<kind> (verify <level>)`
    /// measure what the checks cost. CPU results are verified too for these rows.
    #[arg(long, value_delimiter = ',')]
    verify: Vec<zkaccel::Verification>,
    /// Skip the peer libraries (arkworks, halo2curves, blst, Plonky3, light-poseidon).
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

/// One entry of `--msm-sizes`/`--ntt-sizes`: a log2 size, a range of them, or `max`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SizeArg {
    /// `2^k`.
    Log(u32),
    /// `2^a`, `2^(a+1)`, …, `2^b` (`a..b`, inclusive).
    Range(u32, u32),
    /// The largest size that fits (see [`max_msm_log`], [`max_ntt_log`]).
    Max,
}

impl std::str::FromStr for SizeArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let num = |t: &str| {
            t.trim()
                .parse::<u32>()
                .ok()
                .filter(|&k| k < 40)
                .ok_or_else(|| format!("'{t}' is not a log2 size (0..=39), a range A..B or max"))
        };
        if s.trim().eq_ignore_ascii_case("max") {
            Ok(SizeArg::Max)
        } else if let Some((a, b)) = s.split_once("..") {
            let (a, b) = (num(a)?, num(b)?);
            if a > b {
                return Err(format!("empty range '{s}'"));
            }
            Ok(SizeArg::Range(a, b))
        } else {
            num(s).map(SizeArg::Log)
        }
    }
}

/// The log2 sizes `args` names, in order and without repeats; a size above `max` (the
/// largest that fits) is left out, and `max` itself stands for it.
fn sizes(args: &[SizeArg], max: u32) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for a in args {
        let (lo, hi) = match *a {
            SizeArg::Log(k) => (k, k),
            SizeArg::Range(lo, hi) => (lo, hi),
            SizeArg::Max => (max, max),
        };
        for k in lo..=hi.min(max) {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// Free host memory in bytes (`MemAvailable`; the total when that is unknown).
fn host_free_bytes() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(8 << 30, |kb| kb * 1024)
}

/// Largest `k` with `2^k · per_item ≤ budget`.
fn fit_log(budget: u64, per_item: u64) -> u32 {
    let items = (budget / per_item.max(1)).max(1);
    63 - items.leading_zeros()
}

/// True when a device of the runtime declares what `cap` asks (plugins declare only some
/// curves, fields and operations; the others get no row).
fn declares(rt: &Runtime, cap: impl Fn(&zkaccel::Capabilities) -> bool) -> bool {
    rt.devices().iter().any(|d| cap(&d.capabilities))
}

/// The largest MSM (log2 points) over `id` that every benchmarked backend accepts and that
/// the host holds: the case keeps the points and scalars in our layout and once more for each
/// peer library, plus the backends' working memory (budgeted as the same again).
fn max_msm_log(runtimes: &[(DeviceKind, String, Runtime)], id: zkaccel::CurveGroupId) -> u32 {
    let per_point = 2 * zkaccel_backend::view::coordinate_bytes(id) as u64;
    let mut max = fit_log(host_free_bytes(), 5 * (per_point + 32));
    for (_, _, rt) in runtimes {
        for d in rt.devices() {
            if let Some(c) = d.capabilities.msm_for(id) {
                max = max.min(63 - (c.max_len.max(1) as u64).leading_zeros());
            }
        }
    }
    max
}

/// The largest NTT (log2 elements) over `field` that every benchmarked backend accepts and
/// that the host holds (input, working copy, reference and a peer's copies).
fn max_ntt_log(runtimes: &[(DeviceKind, String, Runtime)], field: zkaccel::FieldId) -> u32 {
    let mut max = fit_log(host_free_bytes(), 6 * field.element_bytes() as u64);
    for (_, _, rt) in runtimes {
        for d in rt.devices() {
            if let Some(c) = d.capabilities.ntt_for(field) {
                max = max.min(c.max_log_n);
            }
        }
    }
    max
}

/// Times of one runner on one case.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct Timing {
    pub(crate) median_ms: f64,
    pub(crate) min_ms: f64,
    pub(crate) max_ms: f64,
    pub(crate) reps: usize,
    /// Peak heap (MiB) the runner allocated beyond what was allocated when its warm-up
    /// started (inputs are in that baseline), over warm-up and repetitions; Rust heap only.
    pub(crate) peak_extra_mib: f64,
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
    /// The CPU backend's one-thread median / its all-thread median (`--scaling`).
    pub(crate) cpu_scaling: Option<f64>,
}

/// Untimed runs before the timed ones (`--warmup`).
static WARMUP: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

fn warmups() -> usize {
    WARMUP.load(std::sync::atomic::Ordering::Relaxed)
}

/// Times `f`: `--warmup` untimed runs, then `reps` (at least one) timed ones; returns the
/// timing and the last result.
pub(crate) fn time<R>(reps: usize, mut f: impl FnMut() -> R) -> (Timing, R) {
    crate::mem::reset();
    for _ in 0..warmups() {
        f();
    }
    let mut t: Vec<f64> = Vec::with_capacity(reps);
    let s = Instant::now();
    let mut last = f();
    t.push(s.elapsed().as_secs_f64() * 1e3);
    for _ in 1..reps.max(1) {
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
            peak_extra_mib: crate::mem::peak_extra_mib(),
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
    /// hashing or `--scaling` is asked for.
    single: Option<(String, Runtime)>,
    /// `--scaling`: MSM and NTT cases get a one-thread CPU row too.
    scaling: bool,
    /// A one-thread pool for the single-thread rows (ours and the peers').
    one_pool: Option<rayon::ThreadPool>,
    /// `--verify`: levels to add verified rows for.
    verify: Vec<zkaccel::Verification>,
    reps: usize,
    peers: bool,
    bar: ProgressBar,
}

pub fn run(mut args: BenchArgs) -> Result<()> {
    crate::add_plugin_paths(&args.plugins)?;
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
    WARMUP.store(args.warmup, std::sync::atomic::Ordering::Relaxed);
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
        // `verify_cpu`: the `--verify` rows check the CPU's results too (the default level is
        // off, so the plain rows are not affected).
        let rt = Runtime::builder()
            .policy(Policy::Only(k))
            .verification(zkaccel::Verification::Off)
            .verify_cpu(true)
            .build()?;
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
        Some((_, name, _)) if hash || args.scaling => {
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
    let mut plan: Vec<(&str, &str, u32, Threads, NttKind)> = Vec::new();
    let all = Threads::All;
    let fwd = NttKind::Forward;
    if msm {
        for c in CURVES
            .iter()
            .filter(|c| args.curves.iter().any(|a| a == *c))
        {
            let id: zkaccel::CurveGroupId = c.parse().expect("listed curve groups parse");
            let max = max_msm_log(&runtimes, id);
            for s in sizes(&args.msm_sizes, max) {
                plan.push(("msm", c, s, all, fwd));
            }
        }
    }
    if ntt {
        let mut kinds = Vec::new();
        for k in &args.ntt_kinds {
            kinds.push(match k.as_str() {
                "forward" => NttKind::Forward,
                "inverse" => NttKind::Inverse,
                "batch" if args.ntt_batch.is_power_of_two() => NttKind::Batch(args.ntt_batch),
                "batch" => bail!("--ntt-batch must be a power of two"),
                other => bail!("unknown NTT kind '{other}' (expected forward, inverse, batch)"),
            });
        }
        for f in FIELDS
            .iter()
            .filter(|f| args.fields.iter().any(|a| a == *f))
        {
            let id: zkaccel::FieldId = f.parse().expect("listed fields parse");
            let max = max_ntt_log(&runtimes, id);
            for s in sizes(&args.ntt_sizes, max) {
                for &k in &kinds {
                    plan.push(("ntt", f, s, all, k));
                }
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
                plan.push(("hash", HashId::PoseidonCircomT3.name(), s, t, fwd));
            }
        }
        for &s in &args.poseidon2_sizes {
            for &t in both {
                plan.push((
                    "hash",
                    HashId::Poseidon2Plonky3BabyBearT16.name(),
                    s,
                    t,
                    fwd,
                ));
            }
        }
        for &s in &args.merkle_sizes {
            plan.push(("hash", "merkle", s, all, fwd));
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
        scaling: args.scaling,
        verify: args
            .verify
            .iter()
            .copied()
            .filter(|v| *v != zkaccel::Verification::Off)
            .collect(),
        reps: args.reps,
        peers: !args.no_peers,
        bar,
    };
    let mut results = Vec::new();
    for (op, target, log_n, threads, kind) in plan {
        let shown = if op == "ntt" {
            kind.target(target)
        } else {
            target.to_string()
        };
        ctx.bar
            .set_message(format!("{op} {shown} {} 2^{log_n}", threads.label()));
        let r = match (op, target) {
            ("msm", "bn254-g1") => Some(bench_msm::<Bn254G1>(&ctx, log_n)?),
            ("msm", "bls12-381-g1") => Some(bench_msm::<Bls12_381G1>(&ctx, log_n)?),
            ("msm", "bls12-377-g1") => Some(bench_msm::<curves::Bls12_377G1>(&ctx, log_n)?),
            ("msm", "bn254-g2") => Some(bench_msm::<curves::Bn254G2>(&ctx, log_n)?),
            ("msm", "bls12-381-g2") => Some(bench_msm::<curves::Bls12_381G2>(&ctx, log_n)?),
            ("ntt", "bls12-377-fr") => bench_ntt_ark::<curves::Bls12_377Fr>(&ctx, log_n, kind)?,
            ("ntt", "bn254-fr") => bench_ntt_ark::<curves::Bn254Fr>(&ctx, log_n, kind)?,
            ("ntt", "bls12-381-fr") => bench_ntt_ark::<curves::Bls12_381Fr>(&ctx, log_n, kind)?,
            ("ntt", "goldilocks") => {
                bench_ntt_p3::<Goldilocks, p3_goldilocks::Goldilocks>(&ctx, log_n, kind, |x| {
                    p3_goldilocks::Goldilocks::new(x.value())
                })?
            }
            ("ntt", "babybear") => {
                bench_ntt_p3::<BabyBear, p3_baby_bear::BabyBear>(&ctx, log_n, kind, |x| {
                    p3_baby_bear::BabyBear::new(x.value())
                })?
            }
            ("hash", "merkle") => Some(bench_merkle(&ctx, log_n)?),
            ("hash", t) if t == HashId::PoseidonCircomT3.name() => {
                Some(bench_poseidon_circom(&ctx, log_n, threads)?)
            }
            ("hash", t) if t == HashId::Poseidon2Plonky3BabyBearT16.name() => {
                Some(bench_poseidon2_babybear(&ctx, log_n, threads)?)
            }
            _ => unreachable!(),
        };
        results.extend(r);
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
            "clock_mhz": d.info.clock_mhz, "simulated": d.info.simulated,
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
    let median = |runner: &str| {
        entries
            .iter()
            .find(|e| e.runner == runner)
            .map(|e| e.timing.median_ms)
    };
    let cpu_scaling = median(SINGLE_CPU)
        .zip(median("zkaccel:cpu"))
        .map(|(one, all)| one / all);
    CaseResult {
        op: op.into(),
        target: target.into(),
        log_n,
        threads: rayon::current_num_threads(),
        note: note.into(),
        speedup_vs_peer: best_peer.is_finite().then(|| best_peer / best_ours),
        cpu_scaling,
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
        // A backend that does not declare this group (a plugin for one curve) has no row.
        if !declares(rt, |c| c.msm_for(C::id()).is_some()) {
            continue;
        }
        let (t, r) = time(ctx.reps, || rt.msm(&bases, &scalars));
        let r = r?;
        let ok = *reference.get_or_insert(r) == r;
        entries.push(entry(format!("zkaccel:{kind}"), name.clone(), t, n, ok));
        for &level in &ctx.verify {
            let opts = MsmOptions {
                verification: Some(level),
                ..MsmOptions::default()
            };
            let (t, r) = time(ctx.reps, || {
                rt.msm_view(
                    PointsView::from_affine(&bases),
                    zkaccel::ScalarsView::from_elements(&scalars),
                    &opts,
                )
            });
            let ok = reference == Some(r?.0);
            let runner = format!("zkaccel:{kind} (verify {level})");
            entries.push(entry(runner, name.clone(), t, n, ok));
        }
        if *kind != DeviceKind::Cpu {
            // The same device with the bases already resident (an SRS taken in once through
            // `Runtime::msm_bases`): only the scalars and the result cross the bus.
            let handle = rt.msm_bases(PointsView::from_affine(&bases), &MsmOptions::default())?;
            let (t, r) = time(ctx.reps, || handle.msm(&scalars));
            let ok = reference == Some(r?);
            entries.push(entry(
                format!("zkaccel:{kind} (bases resident)"),
                name.clone(),
                t,
                n,
                ok,
            ));
        }
    }
    if let Some((name, rt)) = ctx.single.as_ref().filter(|_| ctx.scaling) {
        let (t, r) = ctx.on_threads(Threads::One, || time(ctx.reps, || rt.msm(&bases, &scalars)));
        let ok = reference == Some(r?);
        entries.push(entry(SINGLE_CPU.into(), name.clone(), t, n, ok));
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
        for p in crate::peers::msm_peers(ctx.reps, &bases, &scalars, reference.as_ref()) {
            let ok = p.verified.unwrap_or(true);
            entries.push(entry(p.name, "cpu".into(), p.timing, n, ok));
        }
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

/// Which transform an NTT case times.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum NttKind {
    /// One forward transform of `2^log_n` elements.
    Forward,
    /// One inverse transform of `2^log_n` elements.
    Inverse,
    /// `w` columns of `2^log_n / w` elements each, forward, in one call.
    Batch(usize),
}

impl NttKind {
    /// The case's target: the field's name, then the kind (plain for forward, so that
    /// reports from before inverse and batch rows existed still compare).
    fn target(self, field: &str) -> String {
        match self {
            NttKind::Forward => field.to_string(),
            NttKind::Inverse => format!("{field} inverse"),
            NttKind::Batch(w) => format!("{field} batch{w}"),
        }
    }

    /// log2 of one column's length, `None` when the batch is wider than the case.
    fn column_log(self, log_n: u32) -> Option<u32> {
        match self {
            NttKind::Batch(w) => log_n.checked_sub(w.trailing_zeros()),
            _ => Some(log_n),
        }
    }

    fn width(self) -> usize {
        match self {
            NttKind::Batch(w) => w,
            _ => 1,
        }
    }
}

/// Every backend on one NTT case: `input` refilled before each timed run (untimed), results
/// checked equal to the first backend's. Returns the rows and the reference output.
fn ntt_ours<F: TwoAdicField>(
    ctx: &Ctx,
    input: &[F],
    col_log: u32,
    cfg: &NttConfig,
) -> Result<(Vec<Entry>, Option<Vec<F>>)> {
    let mut entries = Vec::new();
    let mut reference: Option<Vec<F>> = None;
    let mut data = input.to_vec();
    for (kind, name, rt) in &ctx.runtimes {
        if !declares(rt, |c| c.ntt_for(F::ID).is_some()) {
            continue;
        }
        let domain = rt.ntt_domain::<F>(col_log)?;
        let (t, r) = time_fresh(ctx.reps, input, &mut data, |d| domain.run(d, cfg));
        r?;
        let ok = reference.get_or_insert_with(|| data.clone()) == &data;
        entries.push(entry(
            format!("zkaccel:{kind}"),
            name.clone(),
            t,
            input.len(),
            ok,
        ));
        for &level in &ctx.verify {
            let call = zkaccel::CallOptions {
                verification: Some(level),
                ..zkaccel::CallOptions::default()
            };
            let (t, r) = time_fresh(ctx.reps, input, &mut data, |d| {
                domain.run_with(d, cfg, &call)
            });
            r?;
            let ok = reference.as_ref() == Some(&data);
            let runner = format!("zkaccel:{kind} (verify {level})");
            entries.push(entry(runner, name.clone(), t, input.len(), ok));
        }
    }
    if let Some((name, rt)) = ctx.single.as_ref().filter(|_| ctx.scaling) {
        let domain = rt.ntt_domain::<F>(col_log)?;
        let (t, r) = ctx.on_threads(Threads::One, || {
            time_fresh(ctx.reps, input, &mut data, |d| domain.run(d, cfg))
        });
        r?;
        let ok = reference.as_ref() == Some(&data);
        entries.push(entry(SINGLE_CPU.into(), name.clone(), t, input.len(), ok));
    }
    Ok((entries, reference))
}

/// A big-field NTT case against ark-poly 0.5 (`Radix2EvaluationDomain`, natural order in
/// and out; ark-poly has no batch call, so a batch is a loop over its columns).
fn bench_ntt_ark<F>(ctx: &Ctx, log_n: u32, kind: NttKind) -> Result<Option<CaseResult>>
where
    F: TwoAdicField + ArkField,
    F::Ark: ark_ff::FftField,
{
    let Some(col_log) = kind.column_log(log_n) else {
        return Ok(None);
    };
    let n = 1usize << log_n;
    let mut next = rng();
    let input: Vec<F> = (0..n).map(|_| F::random_with(&mut next)).collect();
    let cfg = NttConfig {
        direction: if kind == NttKind::Inverse {
            NttDirection::Inverse
        } else {
            NttDirection::Forward
        },
        batch: kind.width(),
        layout: BatchLayout::Contiguous,
        ..NttConfig::default()
    };
    let (mut entries, reference) = ntt_ours(ctx, &input, col_log, &cfg)?;
    let ours = entries.len();
    if ctx.peers {
        let dom = Radix2EvaluationDomain::<F::Ark>::new(1 << col_log).context("ark-poly domain")?;
        // ark-poly transforms a `Vec` in place: one per column.
        let fresh: Vec<Vec<F::Ark>> = input
            .chunks(1 << col_log)
            .map(|c| c.iter().map(|x| x.to_ark()).collect())
            .collect();
        let mut cols = fresh.clone();
        let run = |cols: &mut Vec<Vec<F::Ark>>| {
            for col in cols {
                match kind {
                    NttKind::Inverse => dom.ifft_in_place(col),
                    _ => dom.fft_in_place(col),
                }
            }
        };
        crate::mem::reset();
        for _ in 0..warmups() {
            run(&mut cols);
            cols.clone_from(&fresh);
        }
        let mut t_all = Vec::new();
        for _ in 0..ctx.reps.max(1) {
            for (c, f) in cols.iter_mut().zip(&fresh) {
                c.copy_from_slice(f);
            }
            let s = Instant::now();
            run(&mut cols);
            t_all.push(s.elapsed().as_secs_f64() * 1e3);
        }
        let t = summarize(t_all);
        let data = cols.concat();
        let ok = reference
            .as_ref()
            .is_none_or(|r| r.iter().zip(&data).all(|(a, b)| a.to_ark() == *b));
        entries.push(entry("ark-poly 0.5".into(), "cpu".into(), t, n, ok));
    }
    let what = match kind {
        NttKind::Forward => "forward".to_string(),
        NttKind::Inverse => "inverse".to_string(),
        NttKind::Batch(w) => format!("{w} columns of 2^{col_log}, contiguous, forward"),
    };
    Ok(Some(finish(
        "ntt",
        &kind.target(F::ID.name()),
        log_n,
        &format!("{what}, natural order in and out; elements/s"),
        entries,
        ours,
    )))
}

/// A small-field NTT case against Plonky3 0.8 `Radix2DitParallel` (a batch is one
/// `RowMajorMatrix` of `w` columns, our interleaved layout).
fn bench_ntt_p3<F, P>(
    ctx: &Ctx,
    log_n: u32,
    kind: NttKind,
    to_p3: impl Fn(F) -> P,
) -> Result<Option<CaseResult>>
where
    F: TwoAdicField,
    P: p3_field::TwoAdicField + p3_field::PrimeField64 + Ord,
{
    use p3_dft::TwoAdicSubgroupDft;
    use p3_matrix::Matrix;
    let Some(col_log) = kind.column_log(log_n) else {
        return Ok(None);
    };
    let n = 1usize << log_n;
    let w = kind.width();
    let mut next = rng();
    let input: Vec<F> = (0..n).map(|_| F::random_with(&mut next)).collect();
    let inverse = kind == NttKind::Inverse;
    // Plonky3's forward transform returns its output bit-reversed behind a natural-order
    // view; ours is asked for bit-reversed output so neither pays for a reordering pass.
    // Its inverse returns natural order, and so does ours here.
    let cfg = NttConfig {
        direction: if inverse {
            NttDirection::Inverse
        } else {
            NttDirection::Forward
        },
        output_order: if inverse {
            NttOrder::Natural
        } else {
            NttOrder::BitReversed
        },
        batch: w,
        layout: BatchLayout::Interleaved,
        ..NttConfig::default()
    };
    let (mut entries, reference) = ntt_ours(ctx, &input, col_log, &cfg)?;
    let ours = entries.len();
    if ctx.peers {
        let dft = p3_dft::Radix2DitParallel::<P>::default();
        let p3_in: Vec<P> = input.iter().map(|&x| to_p3(x)).collect();
        // The clock stops at what Plonky3 hands back (for the forward transform a
        // bit-reversed matrix); the natural-order copy after it is for the comparison only.
        let run = |m, times: &mut Vec<f64>| {
            let s = Instant::now();
            if inverse {
                let v = dft.idft_batch(m).values;
                times.push(s.elapsed().as_secs_f64() * 1e3);
                v
            } else {
                let e = dft.dft_batch(m);
                times.push(s.elapsed().as_secs_f64() * 1e3);
                e.to_row_major_matrix().values
            }
        };
        let matrix = || p3_matrix::dense::RowMajorMatrix::new(p3_in.clone(), w);
        crate::mem::reset();
        for _ in 0..warmups() {
            run(matrix(), &mut Vec::new());
        }
        let mut t_all = Vec::new();
        let mut out = run(matrix(), &mut t_all);
        for _ in 1..ctx.reps.max(1) {
            out = run(matrix(), &mut t_all);
        }
        // Compare in natural row order (our forward output read through bit reversal).
        let rows = 1usize << col_log;
        let ok = reference.as_ref().is_none_or(|r| {
            (0..rows).all(|i| {
                let j = if inverse || col_log == 0 {
                    i
                } else {
                    i.reverse_bits() >> (usize::BITS - col_log)
                };
                (0..w).all(|c| to_p3(r[j * w + c]) == out[i * w + c])
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
    let what = match kind {
        NttKind::Forward => "forward, natural in, bit-reversed out".to_string(),
        NttKind::Inverse => "inverse, natural in and out".to_string(),
        NttKind::Batch(w) => format!(
            "{w} columns of 2^{col_log} (row-major matrix), forward, natural in, bit-reversed out"
        ),
    };
    Ok(Some(finish(
        "ntt",
        &kind.target(F::ID.name()),
        log_n,
        &format!("{what} (Plonky3 returns a bit-reversed view); elements/s"),
        entries,
        ours,
    )))
}

/// Median, min and max of `t`, with the peak memory since the last `mem::reset`.
fn summarize(mut t: Vec<f64>) -> Timing {
    t.sort_by(|a, b| a.total_cmp(b));
    Timing {
        median_ms: t[t.len() / 2],
        min_ms: t[0],
        max_ms: t[t.len() - 1],
        reps: t.len(),
        peak_extra_mib: crate::mem::peak_extra_mib(),
    }
}

fn print_table(rt: &Runtime, results: &[CaseResult]) {
    println!(
        "zkaccel bench — every runner on the same inputs in this process; results checked equal"
    );
    println!("host: {}", crate::host_description());
    for d in rt.devices() {
        println!(
            "device {}: {} [{}]{}{}  {}",
            d.index,
            d.info.name,
            d.info.kind,
            if d.info.simulated { " SIMULATED" } else { "" },
            d.info
                .clock_mhz
                .map(|m| format!(", {m} MHz"))
                .unwrap_or_default(),
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
        "{:<4} {:<tw$} {:>5}  {:<rw$} {:>10} {:>10} {:>10} {:>10} {:>9}  check",
        "op", "target", "size", "runner", "median ms", "min ms", "max ms", "M/s", "peak MiB"
    );
    for r in results {
        for e in &r.entries {
            let spread = e.timing.max_ms > 1.5 * e.timing.min_ms;
            println!(
                "{:<4} {:<tw$} {:>5}  {:<rw$} {:>10.3} {:>10.3} {:>10.3} {:>10.2} {:>9.1}  {}{}",
                r.op,
                r.target,
                format!("2^{}", r.log_n),
                e.runner,
                e.timing.median_ms,
                e.timing.min_ms,
                e.timing.max_ms,
                e.throughput_m_per_s,
                e.timing.peak_extra_mib,
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
        if let Some(s) = r.cpu_scaling {
            println!(
                "{:<4} {:<tw$} {:>5}  {:<rw$} {:>10}",
                "",
                "",
                "",
                "→ CPU speed-up 1 thread → all",
                format!("{s:.2}×")
            );
        }
        if r.op == "hash" {
            println!("{:<4} {:<tw$} {:>5}  ↳ {}", "", "", "", r.note);
        }
    }
}

/// The runner name of the CPU backend on one thread.
const SINGLE_CPU: &str = "zkaccel:cpu 1T";

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
                .filter(|(_, _, rt)| declares(rt, |c| !c.hash.is_empty()))
                .map(|(k, name, rt)| (format!("zkaccel:{k}"), name.clone(), rt))
                .collect(),
            Threads::One => self
                .single
                .iter()
                .map(|(name, rt)| (SINGLE_CPU.to_string(), name.clone(), rt))
                .collect(),
        }
    }

    /// Runs `f` on the case's threads (inside the one-thread pool for `One`): peers and our
    /// one-thread rows alike, so that every pass of a call — the runtime's input checks and
    /// copies as well as the backend's work — runs on that many threads.
    fn on_threads<R: Send>(&self, threads: Threads, f: impl FnOnce() -> R + Send) -> R {
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
    crate::mem::reset();
    for _ in 0..warmups() {
        buf.copy_from_slice(fresh);
        f(buf);
    }
    let mut t = Vec::with_capacity(reps.max(1));
    buf.copy_from_slice(fresh);
    let s = Instant::now();
    let mut last = f(buf);
    t.push(s.elapsed().as_secs_f64() * 1e3);
    for _ in 1..reps.max(1) {
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
        let (t, r) = ctx.on_threads(threads, || {
            time(ctx.reps, || rt.hash_batch(id, &inputs, 2, &mut out))
        });
        r?;
        let ok = *reference.get_or_insert_with(|| out.clone()) == out;
        entries.push(entry(runner, device, t, n, ok));
    }
    let ours = entries.len();
    if ctx.peers {
        let ark_in: Vec<ark_bn254::Fr> = inputs.iter().map(|x| x.to_ark()).collect();
        let (t, out) = ctx.on_threads(threads, || -> Result<_> {
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
        let (t, r) = ctx.on_threads(threads, || {
            time_fresh(ctx.reps, &input, &mut states, |s| rt.permute(id, s))
        });
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
        let t = ctx.on_threads(threads, || {
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
        entries.push(entry(runner.clone(), device.clone(), t, n, ok));
        for &level in &ctx.verify {
            let call = zkaccel::CallOptions {
                verification: Some(level),
                ..zkaccel::CallOptions::default()
            };
            let (t, tree) = time(ctx.reps, || rt.merkle_tree_with(id, 2, &leaves, &call));
            let ok = tree?.root() == want.as_slice();
            let verified = format!("{runner} (verify {level})");
            entries.push(entry(verified, device.clone(), t, n, ok));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_lists_expand_ranges_and_max_and_drop_what_does_not_fit() {
        let args: Vec<SizeArg> = ["10..12", "11", "max", "30"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(sizes(&args, 20), vec![10, 11, 12, 20]);
        assert_eq!(sizes(&args, 11), vec![10, 11]);
        assert!("12..10".parse::<SizeArg>().is_err());
        assert!("40".parse::<SizeArg>().is_err());
        assert_eq!("MAX".parse::<SizeArg>(), Ok(SizeArg::Max));
    }

    #[test]
    fn fit_log_is_the_largest_power_that_fits() {
        assert_eq!(fit_log(1 << 30, 1 << 10), 20);
        assert_eq!(fit_log((1 << 30) - 1, 1 << 10), 19);
        assert_eq!(fit_log(10, 100), 0);
    }
}
