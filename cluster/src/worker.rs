//! The worker: claims tasks its devices can run, holds each under a lease it extends with
//! heartbeats, computes on the zkaccel runtime, uploads the output and hands it to
//! verification.
//!
//! - **Claiming** is filtered by capability: the worker advertises `msm:<group>` (with the
//!   largest MSM its devices take), `ntt:<field>` (largest `log2 n`), `hash:<instance>` and
//!   `aggregate:<group>`, computed from the runtime's devices under its policy.
//! - **Leases**: a claim sets `lease_expires_at = now() + lease`; a heartbeat every
//!   `heartbeat` extends it. A worker that dies stops heartbeating; once the lease expires
//!   any worker (or the coordinator) turns the claim into a failed attempt and the task is
//!   claimable again. A worker whose heartbeat finds the lease gone drops its result.
//! - **Lost database**: every database call is retried with exponential backoff (capped);
//!   the pool reconnects by itself. A result whose completion cannot be recorded before the
//!   lease expires is simply redone elsewhere.
//! - **Shutdown** (SIGTERM, ctrl-c, or the future given to [`run_worker`]): no new claims;
//!   tasks in flight get `shutdown_grace` to finish, then their leases are released without
//!   counting the attempt.

use crate::db::{self, HeldTask, READY_CHANNEL};
use crate::error::{ClusterError, Result};
use crate::exec::Executor;
use crate::store::BlobStore;
use crate::{connect_pool, listen, shutdown_signal, Backoff};
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use zkaccel::{CurveGroupId, Policy, Runtime};

/// Test-only knobs: they make a worker slow, wrong or observable so that the tests can show
/// lease expiry, rejection of wrong results and exactly-once execution. Never set them in
/// production (the CLI exposes them only as hidden `--test-*` flags).
#[derive(Clone, Debug, Default)]
pub struct TestHooks {
    /// Sleep this long (heartbeating) before computing each task.
    pub delay: Duration,
    /// Corrupt every result before uploading it (MSM: add the generator, a valid but wrong
    /// point; NTT and hashing: flip one bit).
    pub corrupt_results: bool,
    /// Append `exec <task> <attempt> <worker>` (each execution) and `stage <shard>
    /// <worker>` (each SRS shard staged) lines to this file.
    pub ledger: Option<PathBuf>,
}

/// How a worker runs.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// PostgreSQL URL (`postgres://user:pass@host:5432/db?sslmode=require`).
    pub database_url: String,
    /// Object store URL (directory, `file:///dir`, `s3://bucket/prefix`).
    pub store_url: String,
    /// Worker id (default: `<host>-<pid>-<random>`).
    pub worker_id: Option<String>,
    /// Lease per claim (default 30 s).
    pub lease: Duration,
    /// Heartbeat period (default a third of the lease).
    pub heartbeat: Option<Duration>,
    /// How often to look for work when no notification arrives (default 1 s).
    pub poll_interval: Duration,
    /// Tasks run at once (default 1: one task owns the devices).
    pub concurrency: usize,
    /// Routing policy of the worker's runtime (default `Auto`).
    pub policy: Policy,
    /// Bytes of SRS shards kept staged (default 8 GiB).
    pub bases_cache_bytes: u64,
    /// Time given to tasks in flight at shutdown before their leases are released
    /// (default 30 s).
    pub shutdown_grace: Duration,
    /// Test-only knobs.
    pub test_hooks: TestHooks,
}

impl WorkerOptions {
    /// Defaults for a worker on `database_url` and `store_url`.
    pub fn new(database_url: impl Into<String>, store_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            store_url: store_url.into(),
            worker_id: None,
            lease: Duration::from_secs(30),
            heartbeat: None,
            poll_interval: Duration::from_secs(1),
            concurrency: 1,
            policy: Policy::Auto,
            bases_cache_bytes: 8 << 30,
            shutdown_grace: Duration::from_secs(30),
            test_hooks: TestHooks::default(),
        }
    }
}

/// What a worker did, returned when it stops.
#[derive(Clone, Debug, Default)]
pub struct WorkerReport {
    /// The worker's id.
    pub worker_id: String,
    /// Results handed to verification.
    pub completed: u64,
    /// Tasks that failed here.
    pub failed: u64,
    /// Tasks whose lease was lost while running (result dropped).
    pub lost: u64,
    /// Tasks released at shutdown.
    pub released: u64,
}

/// The capabilities a runtime offers the fleet: `(capability, largest size)` pairs.
pub fn capabilities(rt: &Runtime, policy: Policy) -> Vec<(String, i64)> {
    let mut caps: BTreeMap<String, i64> = BTreeMap::new();
    let mut put = |k: String, v: i64| {
        let e = caps.entry(k).or_insert(v);
        *e = (*e).max(v);
    };
    for d in rt.devices() {
        let allowed = match policy {
            Policy::Only(k) => d.info.kind == k,
            _ => true,
        };
        if !allowed {
            continue;
        }
        for m in &d.capabilities.msm {
            put(
                format!("msm:{}", m.id),
                i64::try_from(m.max_len).unwrap_or(i64::MAX),
            );
        }
        for n in &d.capabilities.ntt {
            put(format!("ntt:{}", n.field), i64::from(n.max_log_n));
        }
        for h in &d.capabilities.hash {
            put(format!("hash:{h}"), i64::MAX);
        }
    }
    // Adding partial sums is a few point additions on the host.
    for g in CurveGroupId::ALL {
        put(format!("aggregate:{g}"), i64::MAX);
    }
    caps.into_iter().collect()
}

/// A worker id: `<host>-<pid>-<4 hex digits>`.
pub fn default_worker_id() -> String {
    format!(
        "{}-{}-{:04x}",
        hostname(),
        std::process::id(),
        rand::random::<u16>()
    )
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

struct Ctx {
    pool: PgPool,
    exec: Executor,
    worker: String,
    lease: Duration,
    heartbeat: Duration,
    /// Tasks in flight, for release at shutdown.
    held: Mutex<HashMap<i64, HeldTask>>,
    completed: AtomicU64,
    failed: AtomicU64,
    lost: AtomicU64,
}

/// Runs a worker until `shutdown` completes. Builds a runtime with `opts.policy` unless
/// `runtime` is given (tests pass one with a faulty backend).
pub async fn run_worker(
    opts: WorkerOptions,
    runtime: Option<Runtime>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<WorkerReport> {
    let worker = opts.worker_id.clone().unwrap_or_else(default_worker_id);
    let store = BlobStore::open(&opts.store_url)?;
    let policy = opts.policy;
    let rt = match runtime {
        Some(rt) => rt,
        None => tokio::task::spawn_blocking(move || Runtime::builder().policy(policy).build())
            .await
            .map_err(|e| ClusterError::Other(e.to_string()))??,
    };
    let caps = capabilities(&rt, policy);
    let devices: Vec<serde_json::Value> = rt
        .devices()
        .iter()
        .map(|d| serde_json::json!({ "name": d.info.name, "kind": d.info.kind.to_string() }))
        .collect();
    tokio::pin!(shutdown);
    let pool = tokio::select! {
        p = connect_pool(&opts.database_url, opts.concurrency as u32 + 3, true) => p?,
        () = &mut shutdown => return Ok(WorkerReport { worker_id: worker, ..Default::default() }),
    };
    crate::schema::migrate(&pool).await?;
    let names: Vec<String> = caps.iter().map(|(k, _)| k.clone()).collect();
    let sizes: Vec<i64> = caps.iter().map(|(_, v)| *v).collect();
    sqlx::query(
        "INSERT INTO zkaccel_workers (id, host, pid, capabilities, devices)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET state = 'running', last_seen = now(),
             capabilities = EXCLUDED.capabilities, devices = EXCLUDED.devices",
    )
    .bind(&worker)
    .bind(hostname())
    .bind(std::process::id() as i32)
    .bind(&names)
    .bind(serde_json::Value::Array(devices))
    .execute(&pool)
    .await?;
    tracing::info!(worker, capabilities = ?names, "worker started");

    let heartbeat = opts
        .heartbeat
        .unwrap_or(opts.lease / 3)
        .max(Duration::from_millis(50));
    let ctx = Arc::new(Ctx {
        pool: pool.clone(),
        exec: Executor::new(
            rt,
            store,
            opts.test_hooks.clone(),
            worker.clone(),
            opts.bases_cache_bytes,
        ),
        worker: worker.clone(),
        lease: opts.lease,
        heartbeat,
        held: Mutex::new(HashMap::new()),
        completed: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        lost: AtomicU64::new(0),
    });
    let wake = Arc::new(Notify::new());
    let listener = listen(pool.clone(), READY_CHANNEL, wake.clone());
    // last_seen, independent of tasks.
    let seen = {
        let pool = pool.clone();
        let worker = worker.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(heartbeat).await;
                let r = sqlx::query("UPDATE zkaccel_workers SET last_seen = now() WHERE id = $1")
                    .bind(&worker)
                    .execute(&pool)
                    .await;
                if let Err(e) = r {
                    tracing::warn!("worker heartbeat: {e}");
                }
            }
        })
    };

    let mut inflight = tokio::task::JoinSet::new();
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
    let mut last_reap = Instant::now() - opts.lease;
    let reap_every = (opts.lease / 2).max(Duration::from_millis(200));
    loop {
        if last_reap.elapsed() >= reap_every {
            last_reap = Instant::now();
            if let Err(e) = db::reap_expired(&pool).await {
                tracing::warn!("reaping expired leases: {e}");
            }
        }
        let mut pause = opts.poll_interval;
        while inflight.len() < opts.concurrency.max(1) {
            match db::claim(
                &pool,
                &worker,
                &names,
                &sizes,
                &ctx.exec.staged(),
                opts.lease,
            )
            .await
            {
                Ok(Some(t)) => {
                    backoff.reset();
                    tracing::info!(
                        task = t.id,
                        job = t.job_id,
                        attempt = t.attempt,
                        max_attempts = t.max_attempts,
                        kind = t.spec.kind(),
                        "claimed"
                    );
                    ctx.held
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(t.id, t.clone());
                    inflight.spawn(run_task(ctx.clone(), t));
                }
                Ok(None) => break,
                Err(e) => {
                    pause = backoff.next();
                    tracing::warn!("claiming: {e} (retrying in {pause:?})");
                    break;
                }
            }
        }
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
            () = wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }

    tracing::info!(worker, tasks = inflight.len(), "shutting down");
    let drained = tokio::time::timeout(opts.shutdown_grace, async {
        while inflight.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    let mut released = 0;
    if !drained {
        inflight.abort_all();
        let left: Vec<HeldTask> = ctx
            .held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, t)| t)
            .collect();
        for t in left {
            match db::release(&pool, &t, &worker).await {
                Ok(true) => released += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(task = t.id, "releasing at shutdown: {e}"),
            }
        }
    }
    listener.abort();
    seen.abort();
    let _ = sqlx::query(
        "UPDATE zkaccel_workers SET state = 'stopped', last_seen = now() WHERE id = $1",
    )
    .bind(&worker)
    .execute(&pool)
    .await;
    pool.close().await;
    Ok(WorkerReport {
        worker_id: worker,
        completed: ctx.completed.load(Ordering::Relaxed),
        failed: ctx.failed.load(Ordering::Relaxed),
        lost: ctx.lost.load(Ordering::Relaxed),
        released,
    })
}

/// [`run_worker`] in a new tokio runtime, until SIGTERM or ctrl-c: what `zkaccel worker`
/// runs.
pub fn run_worker_until_signal(opts: WorkerOptions) -> Result<WorkerReport> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ClusterError::Other(format!("tokio runtime: {e}")))?;
    rt.block_on(async move { run_worker(opts, None, shutdown_signal()).await })
}

/// Retries a database call on transient errors until it succeeds or `deadline` passes.
async fn retry<T, F, Fut>(what: &str, deadline: Instant, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_transient() && Instant::now() < deadline => {
                let d = backoff.next();
                tracing::warn!("{what}: {e} (retrying in {d:?})");
                tokio::time::sleep(d).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn run_task(ctx: Arc<Ctx>, t: HeldTask) {
    ctx.exec.ledger(&format!("exec {} {}", t.id, t.attempt));
    let lost_notify = Arc::new(Notify::new());
    let hb = {
        let (ctx, t, lost_notify) = (ctx.clone(), t.clone(), lost_notify.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(ctx.heartbeat).await;
                match db::heartbeat(&ctx.pool, &t, &ctx.worker, ctx.lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        lost_notify.notify_one();
                        return;
                    }
                    Err(e) => tracing::warn!(task = t.id, "heartbeat: {e}"),
                }
            }
        })
    };
    let work = async {
        if !ctx.exec.hooks.delay.is_zero() {
            tokio::time::sleep(ctx.exec.hooks.delay).await;
        }
        let out = ctx.exec.run(&t).await?;
        let key = db::output_key(&t);
        ctx.exec.store.put_slice(&key, out.as_bytes()).await?;
        Ok::<_, ClusterError>(key)
    };
    let outcome = tokio::select! {
        r = work => Some(r),
        () = lost_notify.notified() => None,
    };
    // Records the outcome while the heartbeat keeps the lease.
    let deadline = Instant::now() + ctx.lease;
    let recorded = match outcome {
        None => Ok(false),
        Some(Ok(key)) => {
            retry("completing", deadline, || {
                db::complete(&ctx.pool, &t, &ctx.worker, &key)
            })
            .await
        }
        Some(Err(e)) => {
            let msg = e.to_string();
            tracing::warn!(task = t.id, attempt = t.attempt, "task failed: {msg}");
            let r = retry("recording a failure", deadline, || {
                db::fail(&ctx.pool, &t, &ctx.worker, &msg)
            })
            .await;
            if matches!(r, Ok(true)) {
                ctx.failed.fetch_add(1, Ordering::Relaxed);
                ctx.held
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&t.id);
                hb.abort();
                return;
            }
            r
        }
    };
    hb.abort();
    ctx.held
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&t.id);
    match recorded {
        Ok(true) => {
            ctx.completed.fetch_add(1, Ordering::Relaxed);
            tracing::info!(task = t.id, attempt = t.attempt, "completed");
        }
        Ok(false) => {
            ctx.lost.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                task = t.id,
                attempt = t.attempt,
                "lease lost: result dropped"
            );
        }
        Err(e) => {
            ctx.lost.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                task = t.id,
                "could not record the result ({e}); the lease will expire"
            );
        }
    }
}
