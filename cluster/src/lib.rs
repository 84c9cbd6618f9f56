//! # zkaccel-cluster
//!
//! zkaccel on a fleet of machines, coordinated through PostgreSQL the way proving services
//! already run their fleets (ZKsync's prover, RISC Zero's Bento, SP1's cluster, Scroll's
//! coordinator, Filecoin's Curio): a durable job table, tasks claimed with
//! `FOR UPDATE SKIP LOCKED` under a lease, large data in an object store and only keys in the
//! rows. There is no scheduler of our own: the task table is the schedule.
//!
//! - [`Client`] submits jobs (MSM over an uploaded SRS, NTT, hashing), polls, waits, and
//!   fetches results. An SRS is uploaded once as named shards; an MSM job is one task per
//!   shard (each carrying only the key of its scalars) plus an aggregation task that depends
//!   on them and adds the partial sums.
//! - [`run_worker`] claims the tasks its devices can run, keeps SRS shards staged as
//!   [`zkaccel::RawMsmBases`] handles (so bases cross to a device once per worker), computes
//!   on the [`zkaccel::Runtime`], uploads outputs and extends its leases with heartbeats.
//! - [`run_coordinator`] verifies every result on arrival with the runtime's checks before
//!   the task counts as done (a wrong result is a failed attempt, retried on another worker)
//!   and reaps expired leases (a task whose worker died is retried).
//!
//! ## Contract
//! - A task is run to an accepted result at most once: claims are exclusive, every
//!   transition of a running task is guarded by its lease (`worker_id`, attempt number), and
//!   outputs are written per attempt so a late worker never overwrites an accepted result.
//! - A task that fails (an error, an expired lease, a rejected result) is retried until
//!   `max_attempts`; then it is `failed` with its last error, and so is its job.
//! - Errors are [`ClusterError`]; nothing panics on bad input or a lost connection: workers
//!   and coordinators back off and retry.
//! - The schema is migrated by every party at start ([`schema::migrate`]); the SQL is in
//!   `cluster/migrations/`, the description in `docs/cluster.md`.

mod client;
mod coordinator;
mod db;
mod error;
mod exec;
pub mod model;
pub mod schema;
pub mod store;
pub mod testpg;
mod verify;
mod worker;

pub use client::{Client, Input, NttJob, SrsInfo};
pub use coordinator::{run_coordinator, run_coordinator_until_signal, CoordinatorOptions};
pub use error::{ClusterError, Result};
pub use exec::{point_bytes_len, point_from_bytes, point_to_bytes};
pub use model::{
    AttemptRecord, JobOptions, JobState, JobStatus, ScalarEncoding, TaskState, TaskStatus,
    WorkerStatus,
};
pub use store::{Blob, BlobStore};
pub use worker::{
    capabilities, default_worker_id, run_worker, run_worker_until_signal, TestHooks, WorkerOptions,
    WorkerReport,
};

use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Exponential backoff with jitter.
pub(crate) struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            next: first,
        }
    }
    pub(crate) fn reset(&mut self) {
        self.next = self.first;
    }
    pub(crate) fn next(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        // ±25 % jitter, so that a fleet does not reconnect in lockstep.
        let j = 0.75 + 0.5 * rand::random::<f64>();
        d.mul_f64(j)
    }
}

/// A connection pool on `url`. With `retry`, connection failures are retried with backoff
/// until the database answers (workers and coordinators wait for it); without, the first
/// error is returned.
pub(crate) async fn connect_pool(url: &str, max: u32, retry: bool) -> Result<PgPool> {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));
    loop {
        let r = PgPoolOptions::new()
            .max_connections(max.max(2))
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await;
        match r {
            Ok(p) => return Ok(p),
            Err(e) => {
                let e = ClusterError::from(e);
                if !retry || !e.is_transient() {
                    return Err(e);
                }
                let d = backoff.next();
                tracing::warn!("database not reachable: {e} (retrying in {d:?})");
                tokio::time::sleep(d).await;
            }
        }
    }
}

/// Wakes `wake` on every notification on `channel` (LISTEN/NOTIFY), reconnecting when the
/// connection drops. Notifications are a latency optimisation only: every loop also polls.
pub(crate) fn listen(
    pool: PgPool,
    channel: &'static str,
    wake: Arc<Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let mut l = match PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::debug!("LISTEN {channel}: {e}");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
            };
            if let Err(e) = l.listen(channel).await {
                tracing::debug!("LISTEN {channel}: {e}");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            loop {
                match l.recv().await {
                    Ok(_) => wake.notify_one(),
                    Err(e) => {
                        tracing::debug!("LISTEN {channel}: {e}");
                        // Something may have been missed while reconnecting.
                        wake.notify_one();
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break;
                    }
                }
            }
        }
    })
}

/// Completes on SIGTERM or ctrl-c (SIGINT).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!("cannot watch SIGTERM: {e}");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
