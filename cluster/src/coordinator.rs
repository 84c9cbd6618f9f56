//! The coordinator: verifies results on arrival and reaps expired leases. It schedules
//! nothing itself — the task table is the schedule, and workers claim from it — so any
//! number of coordinators may run (each verification holds its task's row lock, so a result
//! is checked by one of them; one that dies mid-check releases the row by dying).

use crate::db::{self, VERIFY_CHANNEL};
use crate::error::{ClusterError, Result};
use crate::store::BlobStore;
use crate::verify::{Verdict, Verifier};
use crate::{connect_pool, listen, shutdown_signal, Backoff};
use sqlx::PgPool;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use zkaccel::{DeviceKind, Policy, Runtime};

/// How a coordinator runs.
#[derive(Clone, Debug)]
pub struct CoordinatorOptions {
    /// PostgreSQL URL.
    pub database_url: String,
    /// Object store URL.
    pub store_url: String,
    /// Results checked at once (default 2).
    pub verifiers: usize,
    /// How often to look for results and expired leases without a notification (1 s).
    pub poll_interval: Duration,
    /// Bytes of SRS shards kept for MSM checks (default 2 GiB).
    pub shard_cache_bytes: u64,
}

impl CoordinatorOptions {
    /// Defaults for a coordinator on `database_url` and `store_url`.
    pub fn new(database_url: impl Into<String>, store_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            store_url: store_url.into(),
            verifiers: 2,
            poll_interval: Duration::from_secs(1),
            shard_cache_bytes: 2 << 30,
        }
    }
}

/// Verifies one result, if one awaits; `Ok(true)` when it did.
async fn verify_one(pool: &PgPool, verifier: &Verifier) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let Some(t) = db::claim_verification(&mut tx).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    let source = t.worker_id.clone().unwrap_or_default();
    match verifier.check(&t).await {
        Ok(Verdict::Accept) => {
            db::accept(&mut tx, &t).await?;
            tracing::info!(
                task = t.id,
                job = t.job_id,
                worker = source,
                "result accepted"
            );
        }
        Ok(Verdict::Reject(why)) => {
            let msg = format!("result from {source} rejected: {why}");
            tracing::warn!(task = t.id, job = t.job_id, "{msg}");
            db::fail_attempt(
                &mut tx,
                t.id,
                t.attempt,
                &msg,
                "rejected",
                t.worker_id.as_deref(),
            )
            .await?;
        }
        Err(e) => {
            // Our side failed (the store did not answer): leave it for a later check.
            tx.rollback().await?;
            return Err(e);
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Runs a coordinator until `shutdown` completes.
pub async fn run_coordinator(
    opts: CoordinatorOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let store = BlobStore::open(&opts.store_url)?;
    // Checks recompute on the CPU (the runtime's oracle): no accelerator is opened.
    let rt = tokio::task::spawn_blocking(|| {
        Runtime::builder()
            .policy(Policy::Only(DeviceKind::Cpu))
            .without_plugin_env()
            .build()
    })
    .await
    .map_err(|e| ClusterError::Other(e.to_string()))??;
    tokio::pin!(shutdown);
    let pool = tokio::select! {
        p = connect_pool(&opts.database_url, opts.verifiers as u32 + 3, true) => p?,
        () = &mut shutdown => return Ok(()),
    };
    crate::schema::migrate(&pool).await?;
    tracing::info!("coordinator started");
    let verifier = Arc::new(Verifier::new(rt, store, opts.shard_cache_bytes));
    let wake = Arc::new(Notify::new());
    let listener = listen(pool.clone(), VERIFY_CHANNEL, wake.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..opts.verifiers.max(1) {
        let (pool, verifier, wake, mut stop) = (
            pool.clone(),
            verifier.clone(),
            wake.clone(),
            stop_rx.clone(),
        );
        let poll = opts.poll_interval;
        loops.spawn(async move {
            let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
            while !*stop.borrow() {
                let pause = match verify_one(&pool, &verifier).await {
                    Ok(true) => {
                        backoff.reset();
                        // More may be waiting: let a sibling look too.
                        wake.notify_one();
                        continue;
                    }
                    Ok(false) => poll,
                    Err(e) => {
                        let d = backoff.next();
                        tracing::warn!("verification: {e} (retrying in {d:?})");
                        d
                    }
                };
                tokio::select! {
                    _ = stop.changed() => {}
                    () = wake.notified() => {}
                    () = tokio::time::sleep(pause) => {}
                }
            }
        });
    }
    {
        let (pool, mut stop) = (pool.clone(), stop_rx.clone());
        let poll = opts.poll_interval;
        loops.spawn(async move {
            while !*stop.borrow() {
                if let Err(e) = db::reap_expired(&pool).await {
                    tracing::warn!("reaping expired leases: {e}");
                }
                tokio::select! {
                    _ = stop.changed() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
        });
    }
    shutdown.await;
    tracing::info!("coordinator shutting down");
    let _ = stop_tx.send(true);
    while loops.join_next().await.is_some() {}
    listener.abort();
    pool.close().await;
    Ok(())
}

/// [`run_coordinator`] in a new tokio runtime, until SIGTERM or ctrl-c: what
/// `zkaccel coordinator` runs.
pub fn run_coordinator_until_signal(opts: CoordinatorOptions) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ClusterError::Other(format!("tokio runtime: {e}")))?;
    rt.block_on(async move { run_coordinator(opts, shutdown_signal()).await })
}
