//! The `zkaccel` command: list devices and benchmark every backend against arkworks and
//! Plonky3 in the same run.

/// Every heap allocation is counted, for the bench's peak-memory column.
#[global_allocator]
static ALLOC: mem::Counting = mem::Counting;

mod bench;
mod bench_fpga;
mod calibrate;
mod cluster;
mod mem;
mod peers;
mod report;

use anyhow::Result;
use clap::{Parser, Subcommand};
use zkaccel::{DeviceKind, Policy, Runtime};

/// zkaccel: MSM, NTT and hashing on the best device present.
#[derive(Parser, Debug)]
#[command(name = "zkaccel", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the devices the runtime found and what each supports.
    Devices {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Plugin libraries (or directories of them) to load, in addition to those in
        /// ZKACCEL_PLUGIN_PATH.
        #[arg(long = "plugin")]
        plugins: Vec<std::path::PathBuf>,
    },
    /// Benchmark MSM and NTT on every available backend against arkworks and Plonky3.
    Bench(Box<bench::BenchArgs>),
    /// Measure which device is fastest per operation and size, and write the profile that
    /// auto routing follows.
    Calibrate(calibrate::CalibrateArgs),
    /// Run a cluster worker: claim tasks from PostgreSQL and compute them on this machine's
    /// devices (docs/cluster.md).
    Worker(Box<cluster::WorkerArgs>),
    /// Run a cluster coordinator: verify results on arrival, reap expired leases.
    Coordinator(cluster::CoordinatorArgs),
    /// Submit a job to the cluster (or upload an SRS).
    Submit(Box<cluster::SubmitArgs>),
    /// Show cluster jobs, tasks and workers (and fetch a job's result).
    Status(cluster::StatusArgs),
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ZKACCEL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Devices { json, plugins } => {
            add_plugin_paths(&plugins).and_then(|()| devices(json))
        }
        Command::Bench(args) => bench::run(*args),
        Command::Calibrate(args) => calibrate::run(args),
        Command::Worker(args) => cluster::worker(*args),
        Command::Coordinator(args) => cluster::coordinator(args),
        Command::Submit(args) => cluster::submit(*args),
        Command::Status(args) => cluster::status(args),
    };
    if let Err(e) = r {
        eprintln!("zkaccel: {e:#}");
        std::process::exit(1);
    }
}

/// Puts `--plugin` paths in front of `ZKACCEL_PLUGIN_PATH`, so that every runtime the
/// command builds loads them. Called before any thread starts.
pub(crate) fn add_plugin_paths(paths: &[std::path::PathBuf]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut all: Vec<std::path::PathBuf> = paths.to_vec();
    all.extend(zkaccel_plugin_env());
    let joined = std::env::join_paths(all)?;
    // Single-threaded here: nothing else reads the environment concurrently.
    std::env::set_var(zkaccel::PLUGIN_PATH_ENV, joined);
    Ok(())
}

fn zkaccel_plugin_env() -> Vec<std::path::PathBuf> {
    std::env::var_os(zkaccel::PLUGIN_PATH_ENV)
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default()
}

/// Prints what happened to each plugin the runtime tried to load.
fn print_plugin_reports(rt: &Runtime) {
    let reports = rt.plugin_reports();
    if reports.is_empty() {
        println!(
            "plugins: none ({} is not set; `--plugin PATH` loads one)",
            zkaccel::PLUGIN_PATH_ENV
        );
        return;
    }
    println!("plugins:");
    for r in reports {
        match &r.outcome {
            Ok(p) => println!(
                "    ok      {} — '{}' {} (ABI {}), {} device(s)",
                r.path.display(),
                p.name,
                p.version,
                p.abi_version,
                p.devices.len()
            ),
            Err(e) => println!("    FAILED  {e}"),
        }
    }
}

fn devices(json: bool) -> Result<()> {
    let rt = Runtime::builder().policy(Policy::Auto).build()?;
    if json {
        let devs: Vec<_> = rt
            .devices()
            .iter()
            .map(|d| {
                serde_json::json!({
                    "index": d.index,
                    "name": d.info.name,
                    "kind": d.info.kind.name(),
                    "vendor": d.info.vendor,
                    "driver": d.info.driver,
                    "memory_bytes": d.info.memory_bytes,
                    "compute_units": d.info.compute_units,
                    "clock_mhz": d.info.clock_mhz,
                    "simulated": d.info.simulated,
                    "runs_on_host": d.info.runs_on_host,
                    "msm": d.capabilities.msm.iter().map(|c| serde_json::json!({
                        "curve_group": c.id.to_string(), "max_len": c.max_len })).collect::<Vec<_>>(),
                    "ntt": d.capabilities.ntt.iter().map(|c| serde_json::json!({
                        "field": c.field.name(), "max_log_n": c.max_log_n })).collect::<Vec<_>>(),
                    "hash": d.capabilities.hash.iter().map(|h| h.name()).collect::<Vec<_>>(),
                    "resident_bases": d.capabilities.resident_bases,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "schema": "zkaccel-devices/1",
                "policy": rt.policy().to_string(),
                "devices": devs,
                "plugins": rt.plugin_reports().iter().map(|r| serde_json::json!({
                    "path": r.path.display().to_string(),
                    "source": r.source.to_string(),
                    "loaded": r.is_loaded(),
                    "name": r.outcome.as_ref().ok().map(|p| p.name.clone()),
                    "version": r.outcome.as_ref().ok().map(|p| p.version.clone()),
                    "devices": r.outcome.as_ref().map(|p| p.devices.len()).unwrap_or(0),
                    "error_code": r.outcome.as_ref().err().map(|e| e.code()),
                    "error": r.outcome.as_ref().err().map(|e| e.to_string()),
                })).collect::<Vec<_>>(),
            }))?
        );
        return Ok(());
    }
    println!("policy: {}", rt.policy());
    println!(
        "{:<3} {:<7} {:<44} {:>10} {:>6} {:<10}",
        "#", "kind", "name", "memory", "units", "status"
    );
    for d in rt.devices() {
        println!(
            "{:<3} {:<7} {:<44} {:>10} {:>6} {:<10}",
            d.index,
            d.info.kind.name(),
            truncate(&d.info.name, 44),
            format!(
                "{:.1} GiB",
                d.info.memory_bytes as f64 / (1u64 << 30) as f64
            ),
            d.info.compute_units,
            if d.info.simulated {
                "SIMULATED"
            } else {
                "hardware"
            },
        );
        if let Some(mhz) = d.info.clock_mhz {
            println!("    clock: {mhz} MHz");
        }
        println!(
            "    driver: {}{}",
            d.info.driver,
            if d.info.runs_on_host && d.info.kind != zkaccel::DeviceKind::Cpu {
                " (runs on the host CPU)"
            } else {
                ""
            }
        );
        let msm: Vec<String> = d
            .capabilities
            .msm
            .iter()
            .map(|c| c.id.to_string())
            .collect();
        let ntt: Vec<String> = d
            .capabilities
            .ntt
            .iter()
            .map(|c| format!("{} (≤2^{})", c.field, c.max_log_n))
            .collect();
        let hash: Vec<&str> = d.capabilities.hash.iter().map(|h| h.name()).collect();
        println!(
            "    msm: {}",
            if msm.is_empty() {
                "-".into()
            } else {
                msm.join(", ")
            }
        );
        println!(
            "    ntt: {}",
            if ntt.is_empty() {
                "-".into()
            } else {
                ntt.join(", ")
            }
        );
        println!(
            "    hash: {}",
            if hash.is_empty() {
                "-".into()
            } else {
                hash.join(", ")
            }
        );
        println!(
            "    bases kept on device: {}",
            if d.capabilities.resident_bases {
                "yes"
            } else {
                "no"
            }
        );
    }
    print_plugin_reports(&rt);
    match rt.profile() {
        Some((p, path)) => {
            println!(
                "calibration profile{} (measured on {}); fastest device per size:",
                path.map(|p| format!(" {}", p.display()))
                    .unwrap_or_default(),
                p.host
            );
            calibrate::print_winners(p);
        }
        None => println!(
            "no calibration profile: built-in routing (accelerators from 2^12 points or \
             elements); `zkaccel calibrate` measures this machine"
        ),
    }
    let has_cuda = rt.devices().iter().any(|d| d.info.kind == DeviceKind::Cuda);
    if !has_cuda && std::env::var_os("ZKACCEL_CUDA").is_none() {
        let only = Runtime::builder()
            .policy(Policy::Only(DeviceKind::Cuda))
            .build()?;
        let found = only
            .devices()
            .iter()
            .filter(|d| d.info.kind == DeviceKind::Cuda)
            .count();
        if found > 0 {
            println!(
                "note: {found} CUDA device(s) found but not used by auto routing: the CUDA \
                 backend is not yet validated on a GPU; ZKACCEL_CUDA=1 enables it, \
                 `zkaccel bench --backend cuda` measures it"
            );
        }
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n - 1).collect();
        format!("{t}…")
    }
}

/// This machine's CPU model and hardware threads, for reports and profiles.
pub(crate) fn host_description() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model} ({threads} threads)")
}
