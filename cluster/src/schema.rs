//! The database schema, as embedded, versioned migrations.
//!
//! Every party (client, coordinator, worker) calls [`migrate`] when it connects. Applied
//! versions are recorded in `zkaccel_migrations`; the migrations run in one transaction under
//! a transaction-scoped advisory lock, so concurrent starters neither race nor apply a
//! migration twice, and an already migrated database costs one `SELECT`.
//!
//! Tables (see `docs/cluster.md` for the full description):
//!
//! - `zkaccel_jobs`: what a client submitted (kind, parameters, verification level, blob
//!   prefix), its state and, once done, the key of its result blob.
//! - `zkaccel_tasks`: the units workers claim. State machine
//!   `waiting → ready → running → verifying → done`, with `failed` and `cancelled` as the
//!   other terminal states; `attempts`/`max_attempts`, the lease (`worker_id`,
//!   `lease_expires_at`, `heartbeat_at`), the last `error`, `input_keys`/`output_key` (blob
//!   keys: rows never carry data), and the `capability` a worker must have (`msm:bn254-g1`,
//!   `ntt:babybear`, `hash:<instance>`, `aggregate:<group>`) with the task's `size`.
//! - `zkaccel_task_deps`: task `task_id` waits for task `depends_on`; `pending_deps` on the
//!   task counts the dependencies not yet done.
//! - `zkaccel_task_attempts`: one row per claim (the execution ledger) with its outcome.
//! - `zkaccel_workers`: who is (or was) in the fleet, their capabilities and `last_seen`.
//! - `zkaccel_srs`: SRSs uploaded as named shards.

use crate::error::{ClusterError, Result};
use sqlx::PgPool;

/// One schema migration.
struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
}

/// The migrations, oldest first. Never edit one that has shipped: add a new one.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "jobs, tasks, dependencies, attempts, workers, SRS",
    sql: include_str!("../migrations/0001_init.sql"),
}];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = 1;

/// Key of the advisory lock the migrations run under (an arbitrary constant: "zkaccel" in
/// ASCII).
const MIGRATION_LOCK: i64 = 0x007a_6b61_6363_656c;

/// Brings the schema up to [`SCHEMA_VERSION`]. Idempotent and safe to call from many
/// processes at once.
pub async fn migrate(pool: &PgPool) -> Result<()> {
    // Fast path: everything applied already (no DDL, no lock).
    if let Ok(v) = current_version(pool).await {
        if v > SCHEMA_VERSION {
            return Err(ClusterError::SchemaTooNew {
                found: v,
                known: SCHEMA_VERSION,
            });
        }
        if v == SCHEMA_VERSION {
            return Ok(());
        }
    }
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS zkaccel_migrations (
             version    INT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(&mut *tx)
    .await?;
    let applied: Option<i32> = sqlx::query_scalar("SELECT max(version) FROM zkaccel_migrations")
        .fetch_one(&mut *tx)
        .await?;
    let applied = applied.unwrap_or(0);
    if applied > SCHEMA_VERSION {
        return Err(ClusterError::SchemaTooNew {
            found: applied,
            known: SCHEMA_VERSION,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > applied) {
        sqlx::raw_sql(m.sql)
            .execute(&mut *tx)
            .await
            .map_err(|source| ClusterError::Migration {
                version: m.version,
                name: m.name,
                source,
            })?;
        sqlx::query("INSERT INTO zkaccel_migrations (version, name) VALUES ($1, $2)")
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "schema migration applied"
        );
    }
    tx.commit().await?;
    Ok(())
}

/// The highest migration applied (0 for an empty database with the bookkeeping table).
pub async fn current_version(pool: &PgPool) -> Result<i32> {
    let v: Option<i32> = sqlx::query_scalar("SELECT max(version) FROM zkaccel_migrations")
        .fetch_one(pool)
        .await?;
    Ok(v.unwrap_or(0))
}
