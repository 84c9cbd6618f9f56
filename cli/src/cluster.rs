//! `zkaccel worker`, `zkaccel coordinator`, `zkaccel submit`, `zkaccel status`: the fleet
//! through PostgreSQL (see zkaccel-cluster and docs/cluster.md).

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::Duration;
use zkaccel::{FieldId, HashId, HashOp, NttConfig, NttDirection, NttOrder, Policy, Verification};
use zkaccel_cluster::{
    Client, CoordinatorOptions, Input, JobOptions, JobStatus, NttJob, ScalarEncoding, TestHooks,
    WorkerOptions,
};

/// Where the fleet lives.
#[derive(Args, Debug, Clone)]
pub struct Conn {
    /// PostgreSQL URL, e.g. postgres://zkaccel:secret@db.internal:5432/zkaccel?sslmode=require
    #[arg(long, env = "ZKACCEL_DATABASE_URL")]
    database_url: String,
    /// Object store: a directory (shared, e.g. NFS), file:///dir, or s3://bucket/prefix
    /// (credentials and endpoint from AWS_* variables).
    #[arg(long, env = "ZKACCEL_STORE")]
    store: String,
}

/// `zkaccel worker`.
#[derive(Args, Debug)]
pub struct WorkerArgs {
    #[command(flatten)]
    conn: Conn,
    /// Worker id (default: host-pid-random).
    #[arg(long)]
    id: Option<String>,
    /// Lease per claimed task, seconds.
    #[arg(long, default_value_t = 30.0)]
    lease_secs: f64,
    /// Heartbeat period, seconds (default: a third of the lease).
    #[arg(long)]
    heartbeat_secs: Option<f64>,
    /// Poll period when no notification arrives, milliseconds.
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// Tasks run at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Device policy: auto, prefer:KIND, only:KIND (cpu, cuda, opencl, fpga).
    #[arg(long, default_value = "auto")]
    policy: String,
    /// SRS shards kept staged, MiB.
    #[arg(long, default_value_t = 8192)]
    bases_cache_mb: u64,
    /// Seconds given to running tasks at SIGTERM before their leases are released.
    #[arg(long, default_value_t = 30.0)]
    shutdown_grace_secs: f64,
    /// TEST ONLY: sleep this long before each task.
    #[arg(long, hide = true, default_value_t = 0)]
    test_delay_ms: u64,
    /// TEST ONLY: corrupt every result (to exercise verification on arrival).
    #[arg(long, hide = true)]
    test_corrupt_results: bool,
    /// TEST ONLY: append an execution ledger to this file.
    #[arg(long, hide = true)]
    test_ledger: Option<PathBuf>,
}

/// `zkaccel coordinator`.
#[derive(Args, Debug)]
pub struct CoordinatorArgs {
    #[command(flatten)]
    conn: Conn,
    /// Results verified at once.
    #[arg(long, default_value_t = 2)]
    verifiers: usize,
    /// Poll period, milliseconds.
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
}

/// Options every submitted job takes.
#[derive(Args, Debug)]
pub struct JobArgs {
    /// Verification on arrival: sampled, full (MSM: recomputed on the coordinator), off.
    #[arg(long, default_value = "sampled")]
    verification: String,
    /// Attempts per task before the job fails.
    #[arg(long, default_value_t = 3)]
    max_attempts: u32,
    /// A label shown by `zkaccel status`.
    #[arg(long)]
    label: Option<String>,
    /// Wait for the job to finish.
    #[arg(long)]
    wait: bool,
    /// With --wait: write the result here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Give up waiting after this many seconds.
    #[arg(long)]
    timeout_secs: Option<f64>,
}

/// An input: a local file or a blob already in the store.
#[derive(Args, Debug)]
pub struct InputArgs {
    /// Local file (uploaded to the store, streamed).
    #[arg(long, conflicts_with = "input_key")]
    input: Option<PathBuf>,
    /// Key of a blob already in the store.
    #[arg(long)]
    input_key: Option<String>,
}

impl InputArgs {
    fn input(&self) -> Result<Input<'_>> {
        match (&self.input, &self.input_key) {
            (Some(p), None) => Ok(Input::File(p)),
            (None, Some(k)) => Ok(Input::Key(k)),
            _ => bail!("give --input FILE or --input-key KEY"),
        }
    }
}

/// `zkaccel submit`.
#[derive(Args, Debug)]
pub struct SubmitArgs {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    what: SubmitCommand,
}

#[derive(Subcommand, Debug)]
enum SubmitCommand {
    /// Upload an SRS once, as named shards (affine points in zkaccel's layout: x, y in
    /// Montgomery form, infinity as (0, 0)).
    Srs {
        /// Name jobs refer to.
        #[arg(long)]
        name: String,
        /// Curve group: bn254-g1, bn254-g2, bls12-381-g1, bls12-381-g2, bls12-377-g1.
        #[arg(long)]
        curve: String,
        /// File of points.
        #[arg(long)]
        points: PathBuf,
        /// Points per shard (one task per shard).
        #[arg(long)]
        shard_len: usize,
    },
    /// Σ scalars[i]·srs[i]: one task per shard plus the aggregation.
    Msm {
        /// SRS name.
        #[arg(long)]
        srs: String,
        /// File of scalars, 32 bytes (four little-endian u64 limbs) each.
        #[arg(long)]
        scalars: PathBuf,
        /// Scalars are canonical integers (default: Montgomery form).
        #[arg(long)]
        canonical: bool,
        #[command(flatten)]
        job: JobArgs,
    },
    /// NTT of `batch` columns of 2^log_n elements (storage form); several --step values run
    /// one after the other (e.g. --step inverse --step forward).
    Ntt {
        /// bn254-fr, bls12-381-fr, bls12-377-fr, goldilocks, babybear.
        #[arg(long)]
        field: String,
        /// log2 of the column length.
        #[arg(long)]
        log_n: u32,
        /// Columns (one after another).
        #[arg(long, default_value_t = 1)]
        batch: usize,
        /// forward or inverse (repeatable).
        #[arg(long = "step", default_value = "forward")]
        steps: Vec<String>,
        /// Output in bit-reversed order.
        #[arg(long)]
        bit_reversed_output: bool,
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        job: JobArgs,
    },
    /// Poseidon/Poseidon2 over items of the input.
    Hash {
        /// Instance, e.g. poseidon2-plonky3-babybear-t16.
        #[arg(long)]
        hash: String,
        /// permute, hash:N (messages of N elements), compress:A (arity A).
        #[arg(long, default_value = "permute")]
        op: String,
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        job: JobArgs,
    },
}

/// `zkaccel status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    conn: Conn,
    /// A job: its tasks and attempts (default: the latest jobs and the workers).
    job: Option<i64>,
    /// Jobs listed without a job id.
    #[arg(long, default_value_t = 20)]
    limit: i64,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// With a job id: write its result here once done.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn tokio() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn secs(s: f64, what: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(s).with_context(|| format!("--{what} {s}"))
}

/// Runs a worker until SIGTERM or ctrl-c.
pub fn worker(a: WorkerArgs) -> Result<()> {
    let policy: Policy = a.policy.parse().map_err(anyhow::Error::msg)?;
    let mut o = WorkerOptions::new(a.conn.database_url, a.conn.store);
    o.worker_id = a.id;
    o.lease = secs(a.lease_secs, "lease-secs")?;
    o.heartbeat = a
        .heartbeat_secs
        .map(|s| secs(s, "heartbeat-secs"))
        .transpose()?;
    o.poll_interval = Duration::from_millis(a.poll_ms.max(10));
    o.concurrency = a.concurrency.max(1);
    o.policy = policy;
    o.bases_cache_bytes = a.bases_cache_mb << 20;
    o.shutdown_grace = secs(a.shutdown_grace_secs, "shutdown-grace-secs")?;
    o.test_hooks = TestHooks {
        delay: Duration::from_millis(a.test_delay_ms),
        corrupt_results: a.test_corrupt_results,
        ledger: a.test_ledger,
    };
    if o.test_hooks.corrupt_results {
        eprintln!("zkaccel worker: --test-corrupt-results: THIS WORKER RETURNS WRONG RESULTS (tests only)");
    }
    let r = zkaccel_cluster::run_worker_until_signal(o)?;
    eprintln!(
        "zkaccel worker {}: {} completed, {} failed, {} lost, {} released",
        r.worker_id, r.completed, r.failed, r.lost, r.released
    );
    Ok(())
}

/// Runs a coordinator until SIGTERM or ctrl-c.
pub fn coordinator(a: CoordinatorArgs) -> Result<()> {
    let mut o = CoordinatorOptions::new(a.conn.database_url, a.conn.store);
    o.verifiers = a.verifiers.max(1);
    o.poll_interval = Duration::from_millis(a.poll_ms.max(10));
    zkaccel_cluster::run_coordinator_until_signal(o)?;
    Ok(())
}

fn job_options(j: &JobArgs) -> Result<JobOptions> {
    Ok(JobOptions {
        verification: j
            .verification
            .parse::<Verification>()
            .map_err(anyhow::Error::msg)?,
        max_attempts: j.max_attempts,
        label: j.label.clone(),
    })
}

fn parse_op(s: &str) -> Result<HashOp> {
    let num = |v: &str| v.parse::<usize>().with_context(|| format!("--op {s}"));
    Ok(match s.split_once(':') {
        None if s == "permute" => HashOp::Permute,
        Some(("hash", n)) => HashOp::Hash { input_len: num(n)? },
        Some(("compress", a)) => HashOp::Compress { arity: num(a)? },
        _ => bail!("--op {s}: expected permute, hash:N or compress:A"),
    })
}

/// Submits a job (or uploads an SRS).
pub fn submit(a: SubmitArgs) -> Result<()> {
    tokio()?.block_on(async move {
        let client = Client::connect(&a.conn.database_url, &a.conn.store).await?;
        let (job, j) = match &a.what {
            SubmitCommand::Srs {
                name,
                curve,
                points,
                shard_len,
            } => {
                let group = curve.parse().map_err(anyhow::Error::msg)?;
                let info = client
                    .upload_srs_file(name, group, points, *shard_len)
                    .await?;
                println!(
                    "SRS '{}': {} {} points in {} shards of {} under {}",
                    info.name, info.len, info.curve_group, info.shards, info.shard_len, info.prefix
                );
                return Ok(());
            }
            SubmitCommand::Msm {
                srs,
                scalars,
                canonical,
                job,
            } => {
                let bytes =
                    std::fs::read(scalars).with_context(|| format!("{}", scalars.display()))?;
                if bytes.len() % 32 != 0 {
                    bail!("{}: not whole 32-byte scalars", scalars.display());
                }
                let mut limbs = vec![[0u64; 4]; bytes.len() / 32];
                bytemuck::cast_slice_mut::<[u64; 4], u8>(&mut limbs).copy_from_slice(&bytes);
                let info = client.srs(srs).await?;
                let group: zkaccel::CurveGroupId =
                    info.curve_group.parse().map_err(anyhow::Error::msg)?;
                let enc = if *canonical {
                    ScalarEncoding::Canonical
                } else {
                    ScalarEncoding::Montgomery
                };
                let raw = zkaccel::RawScalars::new(group.curve.scalar_field(), &limbs, enc.into());
                (client.submit_msm(srs, &raw, &job_options(job)?).await?, job)
            }
            SubmitCommand::Ntt {
                field,
                log_n,
                batch,
                steps,
                bit_reversed_output,
                input,
                job,
            } => {
                let field: FieldId = field.parse().map_err(anyhow::Error::msg)?;
                let steps = steps
                    .iter()
                    .map(|s| {
                        let direction = match s.as_str() {
                            "forward" => NttDirection::Forward,
                            "inverse" => NttDirection::Inverse,
                            other => bail!("--step {other}: expected forward or inverse"),
                        };
                        Ok(NttConfig {
                            direction,
                            batch: *batch,
                            output_order: if *bit_reversed_output {
                                NttOrder::BitReversed
                            } else {
                                NttOrder::Natural
                            },
                            ..NttConfig::default()
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let spec = NttJob {
                    field,
                    log_n: *log_n,
                    root: None,
                    steps,
                };
                (
                    client
                        .submit_ntt(&spec, input.input()?, &job_options(job)?)
                        .await?,
                    job,
                )
            }
            SubmitCommand::Hash {
                hash,
                op,
                input,
                job,
            } => {
                let id: HashId = hash.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
                (
                    client
                        .submit_hash(id, parse_op(op)?, input.input()?, &job_options(job)?)
                        .await?,
                    job,
                )
            }
        };
        println!("job {job}");
        if j.wait {
            let timeout = j
                .timeout_secs
                .map(|s| secs(s, "timeout-secs"))
                .transpose()?;
            let s = client.wait(job, timeout).await?;
            println!("job {job}: {} ({} tasks)", s.state, s.tasks_total);
            if let Some(out) = &j.out {
                let n = client.result_to_file(job, out).await?;
                println!("result: {n} bytes written to {}", out.display());
            }
        } else if j.out.is_some() {
            bail!("--out needs --wait (or fetch later with `zkaccel status {job} --out FILE`)");
        }
        Ok(())
    })
}

fn ago(t: f64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(t);
    format!("{:.0}s ago", (now - t).max(0.0))
}

fn print_job(s: &JobStatus) {
    println!(
        "{:>6}  {:<5} {:<9} {:>3}/{:<3} tasks  {:<7} {:<12} {}{}",
        s.id,
        s.kind,
        s.state.as_str(),
        s.tasks_done,
        s.tasks_total,
        s.verification,
        ago(s.created_at),
        s.label.as_deref().unwrap_or(""),
        s.error
            .as_deref()
            .map(|e| format!("  error: {e}"))
            .unwrap_or_default()
    );
}

/// Shows jobs, tasks and workers.
pub fn status(a: StatusArgs) -> Result<()> {
    tokio()?.block_on(async move {
        let client = Client::connect(&a.conn.database_url, &a.conn.store).await?;
        match a.job {
            Some(id) => {
                let job = client.job(id).await?;
                let tasks = client.tasks(id).await?;
                let attempts = client.attempts(id).await?;
                if a.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&serde_json::json!({
                            "job": job, "tasks": tasks, "attempts": attempts,
                        }))?
                    );
                } else {
                    print_job(&job);
                    println!(
                        "\n  {:>6}  {:<13} {:<22} {:<9} {:>7}  {:<24} error",
                        "task", "kind", "capability", "state", "attempt", "worker"
                    );
                    for t in &tasks {
                        println!(
                            "  {:>6}  {:<13} {:<22} {:<9} {:>3}/{:<3}  {:<24} {}",
                            t.id,
                            t.kind,
                            t.capability,
                            t.state.as_str(),
                            t.attempts,
                            t.max_attempts,
                            t.worker_id.as_deref().unwrap_or("-"),
                            t.error.as_deref().unwrap_or("")
                        );
                    }
                    println!("\n  attempts:");
                    for r in &attempts {
                        println!(
                            "  task {:>6} #{:<2} {:<24} {:<13} {}",
                            r.task_id,
                            r.attempt,
                            r.worker_id,
                            r.outcome.as_deref().unwrap_or("running"),
                            r.error.as_deref().unwrap_or("")
                        );
                    }
                }
                if let Some(out) = &a.out {
                    let n = client.result_to_file(id, out).await?;
                    eprintln!("result: {n} bytes written to {}", out.display());
                }
            }
            None => {
                let jobs = client.jobs(a.limit).await?;
                let workers = client.workers().await?;
                if a.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&serde_json::json!({
                            "jobs": jobs, "workers": workers,
                        }))?
                    );
                } else {
                    println!("jobs (newest first):");
                    for j in &jobs {
                        print_job(j);
                    }
                    println!("\nworkers:");
                    for w in &workers {
                        println!(
                            "  {:<28} {:<8} pid {:<7} seen {:.0}s ago  {} capabilities",
                            w.id,
                            w.state,
                            w.pid,
                            w.seen_ago,
                            w.capabilities.len()
                        );
                    }
                }
            }
        }
        Ok(())
    })
}
