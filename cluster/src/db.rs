//! The task table's transitions, each one SQL statement or one transaction.
//!
//! Claiming follows the pattern every PostgreSQL-backed queue uses (ZKsync's prover DAL,
//! RISC Zero Bento's `taskdb`, Curio's harmony, graphile-worker): `UPDATE … WHERE id =
//! (SELECT id … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING …`, so concurrent claimers skip the
//! rows others are taking instead of waiting on them, and a row is claimed by one of them
//! only. Every later transition of a running task is guarded by `(id, worker_id, attempts,
//! state = 'running')`: a worker whose lease expired cannot complete, fail or extend the
//! task that another worker now holds.

use crate::error::{ClusterError, Result};
use crate::model::TaskSpec;
use sqlx::{PgConnection, PgPool, Row};
use std::time::Duration;

/// Channel notified when tasks become claimable.
pub(crate) const READY_CHANNEL: &str = "zkaccel_ready";
/// Channel notified when a result awaits verification.
pub(crate) const VERIFY_CHANNEL: &str = "zkaccel_verify";

/// The inputs of task `t`: its own `input_keys`, then the outputs of the tasks it depends on
/// in position order.
const RESOLVED_INPUTS: &str = "t.input_keys || coalesce((
        SELECT array_agg(p.output_key ORDER BY d.position)
        FROM zkaccel_task_deps d JOIN zkaccel_tasks p ON p.id = d.depends_on
        WHERE d.task_id = t.id), '{}') AS inputs";

/// A task a worker (or the coordinator, to verify it) holds.
#[derive(Clone, Debug)]
pub(crate) struct HeldTask {
    pub id: i64,
    pub job_id: i64,
    pub spec: TaskSpec,
    pub attempt: i32,
    pub max_attempts: i32,
    pub prefix: String,
    pub verification: String,
    pub inputs: Vec<String>,
    /// The worker that produced the output (verification only).
    pub worker_id: Option<String>,
    /// The output to verify (verification only).
    pub output_key: Option<String>,
}

fn held(row: &sqlx::postgres::PgRow) -> Result<HeldTask> {
    let spec: serde_json::Value = row.try_get("spec")?;
    let spec: TaskSpec = serde_json::from_value(spec)
        .map_err(|e| ClusterError::Corrupt(format!("task spec: {e}")))?;
    Ok(HeldTask {
        id: row.try_get("id")?,
        job_id: row.try_get("job_id")?,
        spec,
        attempt: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        prefix: row.try_get("prefix")?,
        verification: row.try_get("verification")?,
        inputs: row.try_get("inputs")?,
        worker_id: row.try_get("worker_id")?,
        output_key: row.try_get("output_key")?,
    })
}

/// Key of the output blob of one attempt (per attempt, so that a late worker whose lease
/// expired never overwrites the output another attempt produced).
pub(crate) fn output_key(t: &HeldTask) -> String {
    format!("{}/tasks/{}/attempt-{}", t.prefix, t.id, t.attempt)
}

pub(crate) async fn notify(conn: &mut PgConnection, channel: &str) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(channel)
        .execute(conn)
        .await?;
    Ok(())
}

/// Claims the oldest ready task this worker can run (one whose capability is in `caps` with
/// a size up to the matching entry of `max_sizes`, and whose result from this worker was
/// never rejected), under a lease of `lease`. Within a job, MSM shards whose bases this
/// worker has staged (`staged`, shard keys) come first. Records the claim in the attempts
/// ledger.
pub(crate) async fn claim(
    pool: &PgPool,
    worker: &str,
    caps: &[String],
    max_sizes: &[i64],
    staged: &[String],
    lease: Duration,
) -> Result<Option<HeldTask>> {
    let mut tx = pool.begin().await?;
    let sql = format!(
        "UPDATE zkaccel_tasks t
         SET state = 'running', attempts = t.attempts + 1, worker_id = $1,
             lease_expires_at = now() + make_interval(secs => $4), heartbeat_at = now(),
             started_at = coalesce(t.started_at, now()), output_key = NULL
         FROM zkaccel_jobs j
         WHERE t.id = (
             SELECT c.id FROM zkaccel_tasks c
             WHERE c.state = 'ready'
               AND NOT ($1 = ANY (c.excluded_workers))
               AND EXISTS (SELECT 1 FROM unnest($2::text[], $3::bigint[]) AS cap(name, max_size)
                           WHERE cap.name = c.capability AND c.size <= cap.max_size)
             ORDER BY c.job_id, coalesce((c.spec ->> 'shard_key') = ANY ($5::text[]), false) DESC,
                      c.id
             LIMIT 1
             FOR UPDATE SKIP LOCKED)
           AND j.id = t.job_id
         RETURNING t.id, t.job_id, t.spec, t.attempts, t.max_attempts, j.prefix, j.verification,
                   t.worker_id, t.output_key, {RESOLVED_INPUTS}"
    );
    let row = sqlx::query(&sql)
        .bind(worker)
        .bind(caps)
        .bind(max_sizes)
        .bind(lease.as_secs_f64())
        .bind(staged)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    let task = held(&row)?;
    sqlx::query(
        "INSERT INTO zkaccel_task_attempts (task_id, attempt, worker_id) VALUES ($1, $2, $3)
         ON CONFLICT (task_id, attempt) DO UPDATE
         SET worker_id = EXCLUDED.worker_id, claimed_at = now(), outcome = NULL, error = NULL",
    )
    .bind(task.id)
    .bind(task.attempt)
    .bind(worker)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(task))
}

/// Extends the lease; `false` when it is no longer ours (expired and taken, job cancelled).
pub(crate) async fn heartbeat(
    pool: &PgPool,
    t: &HeldTask,
    worker: &str,
    lease: Duration,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE zkaccel_tasks
         SET lease_expires_at = now() + make_interval(secs => $4), heartbeat_at = now()
         WHERE id = $1 AND worker_id = $2 AND attempts = $3 AND state = 'running'",
    )
    .bind(t.id)
    .bind(worker)
    .bind(t.attempt)
    .bind(lease.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Hands a computed result to verification; `false` when the lease was lost.
pub(crate) async fn complete(
    pool: &PgPool,
    t: &HeldTask,
    worker: &str,
    output_key: &str,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let r = sqlx::query(
        "UPDATE zkaccel_tasks t
         SET state = CASE WHEN j.state = 'running' THEN 'verifying' ELSE 'cancelled' END,
             output_key = $4, lease_expires_at = NULL, heartbeat_at = now()
         FROM zkaccel_jobs j
         WHERE t.id = $1 AND t.worker_id = $2 AND t.attempts = $3 AND t.state = 'running'
           AND j.id = t.job_id",
    )
    .bind(t.id)
    .bind(worker)
    .bind(t.attempt)
    .bind(output_key)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    set_outcome(&mut tx, t.id, t.attempt, "completed", None).await?;
    notify(&mut tx, VERIFY_CHANNEL).await?;
    tx.commit().await?;
    Ok(true)
}

/// Records a failed attempt reported by its worker; `false` when the lease was lost.
pub(crate) async fn fail(pool: &PgPool, t: &HeldTask, worker: &str, error: &str) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let held = sqlx::query(
        "SELECT id FROM zkaccel_tasks
         WHERE id = $1 AND worker_id = $2 AND attempts = $3 AND state = 'running' FOR UPDATE",
    )
    .bind(t.id)
    .bind(worker)
    .bind(t.attempt)
    .fetch_optional(&mut *tx)
    .await?;
    if held.is_none() {
        tx.rollback().await?;
        return Ok(false);
    }
    fail_attempt(&mut tx, t.id, t.attempt, error, "failed", None).await?;
    tx.commit().await?;
    Ok(true)
}

/// Gives a claimed task back without counting the attempt (graceful shutdown).
pub(crate) async fn release(pool: &PgPool, t: &HeldTask, worker: &str) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let r = sqlx::query(
        "UPDATE zkaccel_tasks
         SET state = 'ready', attempts = attempts - 1, lease_expires_at = NULL
         WHERE id = $1 AND worker_id = $2 AND attempts = $3 AND state = 'running'",
    )
    .bind(t.id)
    .bind(worker)
    .bind(t.attempt)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    // The ledger keeps the claim; the attempt number is reused by the next claim.
    sqlx::query("DELETE FROM zkaccel_task_attempts WHERE task_id = $1 AND attempt = $2")
        .bind(t.id)
        .bind(t.attempt)
        .execute(&mut *tx)
        .await?;
    notify(&mut tx, READY_CHANNEL).await?;
    tx.commit().await?;
    Ok(true)
}

async fn set_outcome(
    conn: &mut PgConnection,
    task: i64,
    attempt: i32,
    outcome: &str,
    error: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE zkaccel_task_attempts SET outcome = $3, error = $4, finished_at = now()
         WHERE task_id = $1 AND attempt = $2",
    )
    .bind(task)
    .bind(attempt)
    .bind(outcome)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// A failed attempt of a task whose row the caller has locked: back to `ready` (without
/// `exclude`, when given: that worker's result was rejected), or `failed` when the attempts
/// are used up, which fails the job.
pub(crate) async fn fail_attempt(
    conn: &mut PgConnection,
    task: i64,
    attempt: i32,
    error: &str,
    outcome: &str,
    exclude: Option<&str>,
) -> Result<()> {
    set_outcome(conn, task, attempt, outcome, Some(error)).await?;
    let row = sqlx::query(
        "UPDATE zkaccel_tasks
         SET state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'ready' END,
             error = $2, lease_expires_at = NULL,
             excluded_workers = CASE WHEN $3::text IS NULL THEN excluded_workers
                                     ELSE array_append(excluded_workers, $3::text) END,
             finished_at = CASE WHEN attempts >= max_attempts THEN now() END
         WHERE id = $1
         RETURNING state, job_id, kind, attempts",
    )
    .bind(task)
    .bind(error)
    .bind(exclude)
    .fetch_one(&mut *conn)
    .await?;
    let state: String = row.try_get("state")?;
    if state == "failed" {
        let job: i64 = row.try_get("job_id")?;
        let kind: String = row.try_get("kind")?;
        let attempts: i32 = row.try_get("attempts")?;
        let msg = format!("task {task} ({kind}) failed after {attempts} attempt(s): {error}");
        tracing::warn!(job, task, "{msg}");
        fail_job(conn, job, &msg).await?;
    } else {
        notify(conn, READY_CHANNEL).await?;
    }
    Ok(())
}

/// Marks a job failed (or cancelled) and cancels its unfinished tasks.
pub(crate) async fn fail_job(conn: &mut PgConnection, job: i64, error: &str) -> Result<()> {
    end_job(conn, job, "failed", Some(error)).await
}

pub(crate) async fn end_job(
    conn: &mut PgConnection,
    job: i64,
    state: &str,
    error: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE zkaccel_jobs SET state = $2, error = $3, finished_at = now()
         WHERE id = $1 AND state = 'running'",
    )
    .bind(job)
    .bind(state)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE zkaccel_task_attempts a SET outcome = 'cancelled', finished_at = now()
         FROM zkaccel_tasks t
         WHERE t.job_id = $1 AND a.task_id = t.id AND a.outcome IS NULL",
    )
    .bind(job)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE zkaccel_tasks SET state = 'cancelled', lease_expires_at = NULL, finished_at = now()
         WHERE job_id = $1 AND state IN ('waiting', 'ready', 'running', 'verifying')",
    )
    .bind(job)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Turns expired leases into failed attempts (the task becomes claimable again, or fails
/// when its attempts are used up). Safe to run from every worker and coordinator at once:
/// rows another reaper holds are skipped. Returns how many leases expired.
pub(crate) async fn reap_expired(pool: &PgPool) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query(
        "SELECT id, attempts, worker_id,
                extract(epoch FROM now() - heartbeat_at)::float8 AS silent
         FROM zkaccel_tasks
         WHERE state = 'running' AND lease_expires_at < now()
         ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let attempt: i32 = row.try_get("attempts")?;
        let worker: Option<String> = row.try_get("worker_id")?;
        let silent: Option<f64> = row.try_get("silent")?;
        let msg = format!(
            "lease expired: worker {} sent no heartbeat for {:.1} s (attempt {attempt})",
            worker.as_deref().unwrap_or("?"),
            silent.unwrap_or(0.0)
        );
        tracing::warn!(task = id, "{msg}");
        fail_attempt(&mut tx, id, attempt, &msg, "lease_expired", None).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Takes one result awaiting verification, with its row locked until `tx` ends (a
/// coordinator that dies mid-check releases it by dying).
pub(crate) async fn claim_verification(conn: &mut PgConnection) -> Result<Option<HeldTask>> {
    let sql = format!(
        "SELECT t.id, t.job_id, t.spec, t.attempts, t.max_attempts, j.prefix, j.verification,
                t.worker_id, t.output_key, {RESOLVED_INPUTS}
         FROM zkaccel_tasks t JOIN zkaccel_jobs j ON j.id = t.job_id
         WHERE t.state = 'verifying'
         ORDER BY t.id LIMIT 1
         FOR UPDATE OF t SKIP LOCKED"
    );
    let row = sqlx::query(&sql).fetch_optional(&mut *conn).await?;
    row.as_ref().map(held).transpose()
}

/// Accepts a verified result: the task is done, its dependents lose one pending dependency
/// (and become ready at zero), and the job is done when all its tasks are.
pub(crate) async fn accept(conn: &mut PgConnection, t: &HeldTask) -> Result<()> {
    sqlx::query(
        "UPDATE zkaccel_tasks SET state = 'done', error = NULL, finished_at = now()
         WHERE id = $1",
    )
    .bind(t.id)
    .execute(&mut *conn)
    .await?;
    set_outcome(conn, t.id, t.attempt, "accepted", None).await?;
    let ready: Vec<i64> = sqlx::query_scalar(
        "UPDATE zkaccel_tasks c
         SET pending_deps = c.pending_deps - 1,
             state = CASE WHEN c.pending_deps = 1 AND c.state = 'waiting' THEN 'ready'
                          ELSE c.state END
         FROM zkaccel_task_deps d
         WHERE d.depends_on = $1 AND c.id = d.task_id
         RETURNING c.id",
    )
    .bind(t.id)
    .fetch_all(&mut *conn)
    .await?;
    if !ready.is_empty() {
        notify(conn, READY_CHANNEL).await?;
    }
    sqlx::query(
        "UPDATE zkaccel_jobs j
         SET state = 'done', finished_at = now(),
             result_key = (SELECT output_key FROM zkaccel_tasks WHERE id = j.result_task)
         WHERE j.id = $1 AND j.state = 'running'
           AND NOT EXISTS (SELECT 1 FROM zkaccel_tasks WHERE job_id = $1 AND state <> 'done')",
    )
    .bind(t.job_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
