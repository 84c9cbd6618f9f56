//! The client API: upload an SRS, submit MSM / NTT / hashing jobs, poll, wait, fetch.

use crate::connect_pool;
use crate::db::{self, READY_CHANNEL};
use crate::error::{ClusterError, Result};
use crate::exec::{affine_bytes, point_bytes_len, point_from_bytes};
use crate::model::{
    AttemptRecord, HashOpSpec, JobOptions, JobState, JobStatus, NttStep, ScalarEncoding, TaskSpec,
    TaskState, TaskStatus, WorkerStatus,
};
use crate::store::{Blob, BlobStore};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use std::path::Path;
use std::time::{Duration, Instant};
use zkaccel::{
    Affine, CurveGroup, CurveGroupId, Encoding, FieldId, HashId, HashOp, NttConfig, RawPoint,
    RawScalars,
};

/// Where a job's input comes from.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// Bytes in memory (uploaded by the client).
    Bytes(&'a [u8]),
    /// A local file (streamed to the store in parts).
    File(&'a Path),
    /// A blob already in the store (nothing is copied).
    Key(&'a str),
}

/// An NTT job: one or more transforms over the same data, each a task that depends on the
/// previous one (e.g. an inverse NTT then a coset NTT: a low-degree extension).
#[derive(Clone, Debug)]
pub struct NttJob {
    /// The field.
    pub field: FieldId,
    /// `log2` of the column length.
    pub log_n: u32,
    /// Root of unity (canonical limbs), `None` for the field's default.
    pub root: Option<[u64; 4]>,
    /// The transforms, in order; all with the same batch size.
    pub steps: Vec<NttConfig>,
}

/// An SRS uploaded as shards.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SrsInfo {
    /// Name.
    pub name: String,
    /// Curve group.
    pub curve_group: String,
    /// Points.
    pub len: u64,
    /// Points per shard (the last shard may hold fewer).
    pub shard_len: u64,
    /// Shards.
    pub shards: u32,
    /// Store prefix; shard `k` is `<prefix>/shard-<k>`.
    pub prefix: String,
}

impl SrsInfo {
    /// Store key of shard `k`.
    pub fn shard_key(&self, k: u32) -> String {
        format!("{}/shard-{k}", self.prefix)
    }
}

struct NewTask {
    spec: TaskSpec,
    input_keys: Vec<String>,
    /// Indices of earlier tasks of the same job, in input order.
    deps: Vec<usize>,
}

fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(ClusterError::BadInput(format!(
            "SRS name '{name}': use letters, digits, '-', '_' and '.'"
        )))
    }
}

const JOB_COLUMNS: &str = "j.id, j.kind, j.state, j.label, j.verification, j.params, j.result_key,
    j.error, extract(epoch FROM j.created_at)::float8 AS created,
    extract(epoch FROM j.finished_at)::float8 AS finished,
    (SELECT count(*) FROM zkaccel_tasks t WHERE t.job_id = j.id) AS total,
    (SELECT count(*) FROM zkaccel_tasks t WHERE t.job_id = j.id AND t.state = 'done') AS done";

fn job_status(row: &sqlx::postgres::PgRow) -> Result<JobStatus> {
    let state: String = row.try_get("state")?;
    Ok(JobStatus {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        state: state.parse().map_err(ClusterError::Corrupt)?,
        label: row.try_get("label")?,
        verification: row.try_get("verification")?,
        params: row.try_get("params")?,
        result_key: row.try_get("result_key")?,
        error: row.try_get("error")?,
        tasks_total: row.try_get("total")?,
        tasks_done: row.try_get("done")?,
        created_at: row.try_get("created")?,
        finished_at: row.try_get("finished")?,
    })
}

/// A connection to the fleet: the database and the object store.
#[derive(Clone, Debug)]
pub struct Client {
    pool: PgPool,
    store: BlobStore,
}

impl Client {
    /// Connects and migrates the schema.
    pub async fn connect(database_url: &str, store_url: &str) -> Result<Self> {
        let store = BlobStore::open(store_url)?;
        let pool = connect_pool(database_url, 4, false).await?;
        crate::schema::migrate(&pool).await?;
        Ok(Self { pool, store })
    }

    /// The object store.
    pub fn store(&self) -> &BlobStore {
        &self.store
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Uploads an SRS (`points`: affine points of `group` in zkaccel's layout, see
    /// [`crate::model`]) as shards of `shard_len` points named `name`.
    pub async fn upload_srs(
        &self,
        name: &str,
        group: CurveGroupId,
        points: &[u8],
        shard_len: usize,
    ) -> Result<SrsInfo> {
        let stride = affine_bytes(group);
        if points.is_empty() || !points.len().is_multiple_of(stride) {
            return Err(ClusterError::BadInput(format!(
                "{} bytes are not whole {group} points of {stride} bytes",
                points.len()
            )));
        }
        let len = points.len() / stride;
        self.upload_srs_with(name, group, len, shard_len, |_, range| {
            Ok(points[range.start * stride..range.end * stride].to_vec())
        })
        .await
    }

    /// [`Client::upload_srs`] for typed points.
    pub async fn upload_srs_points<C: CurveGroup>(
        &self,
        name: &str,
        points: &[Affine<C>],
        shard_len: usize,
    ) -> Result<SrsInfo> {
        self.upload_srs(name, C::id(), bytemuck::cast_slice(points), shard_len)
            .await
    }

    /// [`Client::upload_srs`] from a file, read one shard at a time.
    pub async fn upload_srs_file(
        &self,
        name: &str,
        group: CurveGroupId,
        path: &Path,
        shard_len: usize,
    ) -> Result<SrsInfo> {
        use std::io::{Read, Seek, SeekFrom};
        let stride = affine_bytes(group);
        let size = std::fs::metadata(path)
            .map_err(|e| ClusterError::io(path, e))?
            .len() as usize;
        if size == 0 || !size.is_multiple_of(stride) {
            return Err(ClusterError::BadInput(format!(
                "{}: {size} bytes are not whole {group} points of {stride} bytes",
                path.display()
            )));
        }
        let mut f = std::fs::File::open(path).map_err(|e| ClusterError::io(path, e))?;
        self.upload_srs_with(name, group, size / stride, shard_len, |_, range| {
            let mut buf = vec![0u8; (range.end - range.start) * stride];
            f.seek(SeekFrom::Start((range.start * stride) as u64))
                .and_then(|_| f.read_exact(&mut buf))
                .map_err(|e| ClusterError::io(path, e))?;
            Ok(buf)
        })
        .await
    }

    async fn upload_srs_with(
        &self,
        name: &str,
        group: CurveGroupId,
        len: usize,
        shard_len: usize,
        mut shard: impl FnMut(u32, std::ops::Range<usize>) -> Result<Vec<u8>>,
    ) -> Result<SrsInfo> {
        check_name(name)?;
        if !group.is_known() {
            return Err(ClusterError::BadInput(format!(
                "unknown curve group {group}"
            )));
        }
        if shard_len == 0 {
            return Err(ClusterError::BadInput("shard length 0".into()));
        }
        if self.srs(name).await.is_ok() {
            return Err(ClusterError::SrsExists(name.into()));
        }
        let shards = len.div_ceil(shard_len);
        let info = SrsInfo {
            name: name.into(),
            curve_group: group.to_string(),
            len: len as u64,
            shard_len: shard_len as u64,
            shards: u32::try_from(shards)
                .map_err(|_| ClusterError::BadInput("too many shards".into()))?,
            prefix: format!("srs/{name}/{}", token()),
        };
        for k in 0..info.shards {
            let start = k as usize * shard_len;
            let bytes = shard(k, start..(start + shard_len).min(len))?;
            self.store.put_slice(&info.shard_key(k), &bytes).await?;
        }
        let r = sqlx::query(
            "INSERT INTO zkaccel_srs (name, curve_group, len, shard_len, shards, prefix)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&info.name)
        .bind(&info.curve_group)
        .bind(info.len as i64)
        .bind(info.shard_len as i64)
        .bind(info.shards as i32)
        .bind(&info.prefix)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 0 {
            let _ = self.store.delete_prefix(&info.prefix).await;
            return Err(ClusterError::SrsExists(name.into()));
        }
        Ok(info)
    }

    /// The SRS named `name`.
    pub async fn srs(&self, name: &str) -> Result<SrsInfo> {
        let row = sqlx::query(
            "SELECT name, curve_group, len, shard_len, shards, prefix FROM zkaccel_srs
             WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ClusterError::NoSuchSrs(name.into()))?;
        Ok(SrsInfo {
            name: row.try_get("name")?,
            curve_group: row.try_get("curve_group")?,
            len: row.try_get::<i64, _>("len")? as u64,
            shard_len: row.try_get::<i64, _>("shard_len")? as u64,
            shards: row.try_get::<i32, _>("shards")? as u32,
            prefix: row.try_get("prefix")?,
        })
    }

    /// Deletes an SRS and its shards (jobs still using it will fail).
    pub async fn delete_srs(&self, name: &str) -> Result<()> {
        let info = self.srs(name).await?;
        sqlx::query("DELETE FROM zkaccel_srs WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        self.store.delete_prefix(&info.prefix).await?;
        Ok(())
    }

    async fn insert_job(
        &self,
        kind: &str,
        params: serde_json::Value,
        opts: &JobOptions,
        prefix: &str,
        tasks: Vec<NewTask>,
    ) -> Result<i64> {
        if opts.max_attempts == 0 {
            return Err(ClusterError::BadInput(
                "max_attempts must be at least 1".into(),
            ));
        }
        let mut tx = self.pool.begin().await?;
        let job: i64 = sqlx::query_scalar(
            "INSERT INTO zkaccel_jobs (kind, params, verification, prefix, label)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(kind)
        .bind(&params)
        .bind(opts.verification.to_string())
        .bind(prefix)
        .bind(&opts.label)
        .fetch_one(&mut *tx)
        .await?;
        let mut ids: Vec<i64> = Vec::with_capacity(tasks.len());
        for (i, t) in tasks.iter().enumerate() {
            if t.deps.iter().any(|&d| d >= i) {
                return Err(ClusterError::BadInput(
                    "task graph is not topological".into(),
                ));
            }
            let (cap, size) = t.spec.capability();
            let spec = serde_json::to_value(&t.spec)
                .map_err(|e| ClusterError::Other(format!("task spec: {e}")))?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO zkaccel_tasks
                     (job_id, kind, capability, size, spec, state, pending_deps, max_attempts,
                      input_keys)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(job)
            .bind(t.spec.kind())
            .bind(cap)
            .bind(size)
            .bind(spec)
            .bind(if t.deps.is_empty() {
                "ready"
            } else {
                "waiting"
            })
            .bind(t.deps.len() as i32)
            .bind(opts.max_attempts as i32)
            .bind(&t.input_keys)
            .fetch_one(&mut *tx)
            .await?;
            for (pos, &d) in t.deps.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO zkaccel_task_deps (task_id, depends_on, position)
                     VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(ids[d])
                .bind(pos as i32)
                .execute(&mut *tx)
                .await?;
            }
            ids.push(id);
        }
        // The job's result is its last task's output.
        sqlx::query("UPDATE zkaccel_jobs SET result_task = $2 WHERE id = $1")
            .bind(job)
            .bind(ids.last().copied())
            .execute(&mut *tx)
            .await?;
        db::notify(&mut tx, READY_CHANNEL).await?;
        tx.commit().await?;
        tracing::info!(job, kind, tasks = ids.len(), "job submitted");
        Ok(job)
    }

    async fn upload_input(&self, key: &str, input: Input<'_>) -> Result<(String, u64)> {
        match input {
            Input::Bytes(b) => {
                self.store.put_slice(key, b).await?;
                Ok((key.into(), b.len() as u64))
            }
            Input::File(p) => Ok((key.into(), self.store.put_file(key, p).await?)),
            Input::Key(k) => Ok((k.into(), self.store.size(k).await?)),
        }
    }

    /// Submits `Σ scalars[i]·srs[i]` over the first `scalars.len()` points of the SRS `srs`:
    /// one task per shard plus the aggregation of their partial sums.
    pub async fn submit_msm(
        &self,
        srs: &str,
        scalars: &RawScalars<'_>,
        opts: &JobOptions,
    ) -> Result<i64> {
        let info = self.srs(srs).await?;
        let group: CurveGroupId = info
            .curve_group
            .parse()
            .map_err(|e: String| ClusterError::Corrupt(e))?;
        let field = group.curve.scalar_field();
        if scalars.field() != field {
            return Err(ClusterError::BadInput(format!(
                "scalars are {} elements but {} takes {field}",
                scalars.field(),
                group
            )));
        }
        let n = scalars.len();
        if n == 0 || n as u64 > info.len {
            return Err(ClusterError::BadInput(format!(
                "{n} scalars for an SRS of {} points",
                info.len
            )));
        }
        let encoding = match scalars.encoding() {
            Encoding::Montgomery => ScalarEncoding::Montgomery,
            Encoding::Canonical => ScalarEncoding::Canonical,
        };
        let bytes: &[u8] = bytemuck::cast_slice(scalars.limbs());
        let prefix = format!("jobs/{}", token());
        let shard_len = info.shard_len as usize;
        let parts = n.div_ceil(shard_len);
        let mut tasks = Vec::with_capacity(parts + 1);
        for k in 0..parts {
            let start = k * shard_len;
            let count = shard_len.min(n - start);
            let key = format!("{prefix}/scalars-{k}");
            self.store
                .put_slice(&key, &bytes[start * 32..(start + count) * 32])
                .await?;
            tasks.push(NewTask {
                spec: TaskSpec::MsmShard {
                    group: group.to_string(),
                    srs: info.name.clone(),
                    shard_key: info.shard_key(k as u32),
                    shard: k as u32,
                    shard_len: (info.len - start as u64).min(info.shard_len),
                    count: count as u64,
                    encoding,
                },
                input_keys: vec![key],
                deps: vec![],
            });
        }
        if parts > 1 {
            tasks.push(NewTask {
                spec: TaskSpec::MsmAggregate {
                    group: group.to_string(),
                    parts: parts as u32,
                },
                input_keys: vec![],
                deps: (0..parts).collect(),
            });
        }
        let params = serde_json::json!({
            "group": group.to_string(), "srs": info.name, "scalars": n, "shards": parts,
        });
        self.insert_job("msm", params, opts, &prefix, tasks).await
    }

    /// [`Client::submit_msm`] for typed scalars (Montgomery form).
    pub async fn submit_msm_scalars<F>(
        &self,
        srs: &str,
        scalars: &[F],
        opts: &JobOptions,
    ) -> Result<i64>
    where
        F: zkaccel::PrimeField<Limbs = [u64; 4]>,
    {
        let raw = RawScalars::new(F::ID, bytemuck::cast_slice(scalars), Encoding::Montgomery);
        self.submit_msm(srs, &raw, opts).await
    }

    /// Submits an NTT job: `input` holds `batch` columns of `2^log_n` elements in storage
    /// form; each step is one task on the previous step's output.
    pub async fn submit_ntt(
        &self,
        job: &NttJob,
        input: Input<'_>,
        opts: &JobOptions,
    ) -> Result<i64> {
        if !job.field.is_ntt_field() {
            return Err(ClusterError::BadInput(format!("{} has no NTT", job.field)));
        }
        let Some(first) = job.steps.first() else {
            return Err(ClusterError::BadInput(
                "an NTT job needs at least one step".into(),
            ));
        };
        let batch = first.batch;
        if batch == 0 || job.steps.iter().any(|s| s.batch != batch) {
            return Err(ClusterError::BadInput(
                "every step needs the same non-zero batch size".into(),
            ));
        }
        if job.log_n > 40 {
            return Err(ClusterError::BadInput(format!(
                "log_n {} is too large",
                job.log_n
            )));
        }
        let expected = (1u64 << job.log_n) * batch as u64 * job.field.element_bytes() as u64;
        let prefix = format!("jobs/{}", token());
        let (key, size) = self.upload_input(&format!("{prefix}/input"), input).await?;
        if size != expected {
            return Err(ClusterError::BadInput(format!(
                "NTT input has {size} bytes, {batch} columns of 2^{} {} need {expected}",
                job.log_n, job.field
            )));
        }
        let tasks = job
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| NewTask {
                spec: TaskSpec::Ntt {
                    field: job.field.to_string(),
                    log_n: job.log_n,
                    root: job.root,
                    step: NttStep::from_config(s),
                },
                input_keys: if i == 0 { vec![key.clone()] } else { vec![] },
                deps: if i == 0 { vec![] } else { vec![i - 1] },
            })
            .collect();
        let params = serde_json::json!({
            "field": job.field.to_string(), "log_n": job.log_n, "batch": batch,
            "steps": job.steps.len(), "input": key,
        });
        self.insert_job("ntt", params, opts, &prefix, tasks).await
    }

    /// Submits a hashing job over `input` (whole items of `op` for instance `id`).
    pub async fn submit_hash(
        &self,
        id: HashId,
        op: HashOp,
        input: Input<'_>,
        opts: &JobOptions,
    ) -> Result<i64> {
        let info = id.info();
        let elem = info.field.element_bytes() as u64;
        let item = match op {
            HashOp::Permute => info.width,
            HashOp::Hash { input_len } => input_len,
            HashOp::Compress { arity } => arity * info.digest,
        } as u64
            * elem;
        let prefix = format!("jobs/{}", token());
        let (key, size) = self.upload_input(&format!("{prefix}/input"), input).await?;
        if item == 0 || size == 0 || size % item != 0 {
            return Err(ClusterError::BadInput(format!(
                "hash input of {size} bytes is not whole items of {item} bytes"
            )));
        }
        let tasks = vec![NewTask {
            spec: TaskSpec::Hash {
                hash: id.to_string(),
                op: HashOpSpec::from_op(op),
            },
            input_keys: vec![key.clone()],
            deps: vec![],
        }];
        let params = serde_json::json!({
            "hash": id.to_string(), "op": HashOpSpec::from_op(op), "items": size / item,
            "input": key,
        });
        self.insert_job("hash", params, opts, &prefix, tasks).await
    }

    /// The job's status.
    pub async fn job(&self, id: i64) -> Result<JobStatus> {
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM zkaccel_jobs j WHERE j.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(ClusterError::NoSuchJob(id))?;
        job_status(&row)
    }

    /// The latest `limit` jobs, newest first.
    pub async fn jobs(&self, limit: i64) -> Result<Vec<JobStatus>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM zkaccel_jobs j ORDER BY j.id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_status).collect()
    }

    /// The job's tasks.
    pub async fn tasks(&self, job: i64) -> Result<Vec<TaskStatus>> {
        let rows = sqlx::query(
            "SELECT id, job_id, kind, capability, state, attempts, max_attempts, worker_id,
                    extract(epoch FROM lease_expires_at - now())::float8 AS lease_left,
                    pending_deps, error, input_keys, output_key
             FROM zkaccel_tasks WHERE job_id = $1 ORDER BY id",
        )
        .bind(job)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(TaskStatus {
                    id: r.try_get("id")?,
                    job_id: r.try_get("job_id")?,
                    kind: r.try_get("kind")?,
                    capability: r.try_get("capability")?,
                    state: state.parse::<TaskState>().map_err(ClusterError::Corrupt)?,
                    attempts: r.try_get("attempts")?,
                    max_attempts: r.try_get("max_attempts")?,
                    worker_id: r.try_get("worker_id")?,
                    lease_left: r.try_get("lease_left")?,
                    pending_deps: r.try_get("pending_deps")?,
                    error: r.try_get("error")?,
                    input_keys: r.try_get("input_keys")?,
                    output_key: r.try_get("output_key")?,
                })
            })
            .collect()
    }

    /// Every claim of the job's tasks (the execution ledger), in order.
    pub async fn attempts(&self, job: i64) -> Result<Vec<AttemptRecord>> {
        let rows = sqlx::query(
            "SELECT a.task_id, a.attempt, a.worker_id, a.outcome, a.error
             FROM zkaccel_task_attempts a JOIN zkaccel_tasks t ON t.id = a.task_id
             WHERE t.job_id = $1 ORDER BY a.task_id, a.attempt",
        )
        .bind(job)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AttemptRecord {
                    task_id: r.try_get("task_id")?,
                    attempt: r.try_get("attempt")?,
                    worker_id: r.try_get("worker_id")?,
                    outcome: r.try_get("outcome")?,
                    error: r.try_get("error")?,
                })
            })
            .collect()
    }

    /// The workers the fleet has seen.
    pub async fn workers(&self) -> Result<Vec<WorkerStatus>> {
        let rows = sqlx::query(
            "SELECT id, host, pid, state, capabilities,
                    extract(epoch FROM now() - last_seen)::float8 AS ago
             FROM zkaccel_workers ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WorkerStatus {
                    id: r.try_get("id")?,
                    host: r.try_get("host")?,
                    pid: r.try_get("pid")?,
                    state: r.try_get("state")?,
                    capabilities: r.try_get("capabilities")?,
                    seen_ago: r.try_get("ago")?,
                })
            })
            .collect()
    }

    /// Waits until the job is done (`Ok`), failed or cancelled (`Err`), or `timeout`
    /// passes.
    pub async fn wait(&self, id: i64, timeout: Option<Duration>) -> Result<JobStatus> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            let s = self.job(id).await?;
            match s.state {
                JobState::Done => return Ok(s),
                JobState::Failed => {
                    return Err(ClusterError::JobFailed {
                        job: id,
                        error: s.error.unwrap_or_default(),
                    })
                }
                JobState::Cancelled => return Err(ClusterError::JobCancelled(id)),
                JobState::Running => {}
            }
            if timeout.is_some_and(|t| start.elapsed() >= t) {
                return Err(ClusterError::WaitTimeout {
                    job: id,
                    waited: start.elapsed(),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    async fn result_key(&self, id: i64) -> Result<String> {
        let s = self.job(id).await?;
        match (s.state, s.result_key) {
            (JobState::Done, Some(k)) => Ok(k),
            (JobState::Failed, _) => Err(ClusterError::JobFailed {
                job: id,
                error: s.error.unwrap_or_default(),
            }),
            (state, _) => Err(ClusterError::NotFinished {
                job: id,
                state: state.to_string(),
            }),
        }
    }

    /// The result blob of a finished job.
    pub async fn result(&self, id: i64) -> Result<Blob> {
        let k = self.result_key(id).await?;
        self.store.get_blob(&k).await
    }

    /// Streams the result of a finished job into the file `path`; returns its size.
    pub async fn result_to_file(&self, id: i64, path: &Path) -> Result<u64> {
        let k = self.result_key(id).await?;
        self.store.get_to_file(&k, path).await
    }

    /// The result of a finished MSM job.
    pub async fn msm_result(&self, id: i64) -> Result<RawPoint> {
        let s = self.job(id).await?;
        let group: CurveGroupId = s
            .params
            .get("group")
            .and_then(|g| g.as_str())
            .ok_or_else(|| ClusterError::BadInput(format!("job {id} is not an MSM")))?
            .parse()
            .map_err(ClusterError::Corrupt)?;
        let blob = self.result(id).await?;
        if blob.len() != point_bytes_len(group) {
            return Err(ClusterError::Corrupt(format!(
                "MSM result of {} bytes",
                blob.len()
            )));
        }
        point_from_bytes(group, blob.as_bytes())
    }

    /// Cancels a running job (its running tasks' results are dropped).
    pub async fn cancel(&self, id: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        db::end_job(&mut tx, id, "cancelled", Some("cancelled by the client")).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a finished job: its rows and every blob under its prefix.
    pub async fn delete_job(&self, id: i64) -> Result<()> {
        let s = self.job(id).await?;
        if s.state == JobState::Running {
            return Err(ClusterError::NotFinished {
                job: id,
                state: s.state.to_string(),
            });
        }
        let prefix: String =
            sqlx::query_scalar("DELETE FROM zkaccel_jobs WHERE id = $1 RETURNING prefix")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        self.store.delete_prefix(&prefix).await?;
        Ok(())
    }
}
