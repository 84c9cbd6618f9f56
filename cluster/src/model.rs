//! What rows hold: task specifications (JSON in `zkaccel_tasks.spec`), states, and the
//! status views the client returns.
//!
//! Blob encodings (all little-endian, fields in storage form unless said otherwise):
//! - SRS shard: affine points in zkaccel's layout (`Affine<C>`: `x` then `y`, Montgomery
//!   form, infinity as `(0, 0)`), `2·coordinate_bytes` per point, no header.
//! - MSM scalars: four 64-bit limbs (32 bytes) per scalar, in the encoding the spec names.
//! - MSM partial sums and results: the Jacobian point `X, Y, Z` (Montgomery form), the bytes
//!   of `Projective<C>`.
//! - NTT and hashing: the elements in storage form (Montgomery; BabyBear and Goldilocks as
//!   zkaccel stores them), as the runtime's `*_raw` entry points take them.

use serde::{Deserialize, Serialize};
use zkaccel::{BatchLayout, Encoding, HashOp, NttConfig, NttDirection, NttOrder, Verification};

/// State of a job.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Tasks are waiting, running or being verified.
    Running,
    /// Every task is done; the result is in the store.
    Done,
    /// A task failed more than its attempts allow.
    Failed,
    /// The client cancelled it.
    Cancelled,
}

/// State of a task.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Waits for the tasks it depends on.
    Waiting,
    /// Can be claimed.
    Ready,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Computed; the coordinator checks the result.
    Verifying,
    /// Result accepted.
    Done,
    /// Failed more than its attempts allow.
    Failed,
    /// Its job failed or was cancelled.
    Cancelled,
}

macro_rules! str_enum {
    ($t:ident { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            /// The name stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($t::$v => $s),+ }
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($s => Ok($t::$v),)+ other => Err(format!("unknown state '{other}'")) }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(JobState { Running => "running", Done => "done", Failed => "failed", Cancelled => "cancelled" });
str_enum!(TaskState {
    Waiting => "waiting", Ready => "ready", Running => "running", Verifying => "verifying",
    Done => "done", Failed => "failed", Cancelled => "cancelled",
});

/// How scalars are encoded in a blob.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScalarEncoding {
    /// Montgomery form (what arkworks and zkaccel keep in memory).
    #[default]
    Montgomery,
    /// Canonical integers.
    Canonical,
}

impl From<ScalarEncoding> for Encoding {
    fn from(e: ScalarEncoding) -> Self {
        match e {
            ScalarEncoding::Montgomery => Encoding::Montgomery,
            ScalarEncoding::Canonical => Encoding::Canonical,
        }
    }
}

/// One NTT step as stored (mirrors [`NttConfig`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NttStep {
    /// `forward` or `inverse`.
    pub inverse: bool,
    /// Input in bit-reversed order.
    pub input_bit_reversed: bool,
    /// Output in bit-reversed order.
    pub output_bit_reversed: bool,
    /// Coset shift, canonical limbs.
    pub coset: Option<[u64; 4]>,
    /// Columns.
    pub batch: u64,
    /// Columns row-major (`n × batch`) instead of one after another.
    pub interleaved: bool,
}

impl NttStep {
    /// The stored form of `cfg`.
    pub fn from_config(cfg: &NttConfig) -> Self {
        Self {
            inverse: cfg.direction == NttDirection::Inverse,
            input_bit_reversed: cfg.input_order == NttOrder::BitReversed,
            output_bit_reversed: cfg.output_order == NttOrder::BitReversed,
            coset: cfg.coset,
            batch: cfg.batch as u64,
            interleaved: cfg.layout == BatchLayout::Interleaved,
        }
    }
    /// The runtime's configuration.
    pub fn config(&self) -> NttConfig {
        let order = |b: bool| {
            if b {
                NttOrder::BitReversed
            } else {
                NttOrder::Natural
            }
        };
        NttConfig {
            direction: if self.inverse {
                NttDirection::Inverse
            } else {
                NttDirection::Forward
            },
            input_order: order(self.input_bit_reversed),
            output_order: order(self.output_bit_reversed),
            coset: self.coset,
            batch: self.batch as usize,
            layout: if self.interleaved {
                BatchLayout::Interleaved
            } else {
                BatchLayout::Contiguous
            },
        }
    }
}

/// A hashing operation as stored (mirrors [`HashOp`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashOpSpec {
    /// Permute `width`-element states.
    Permute,
    /// Hash messages of `input_len` elements.
    Hash {
        /// Elements per message.
        input_len: u64,
    },
    /// Compress groups of `arity` digests (one Merkle layer).
    Compress {
        /// Children per node.
        arity: u64,
    },
}

impl HashOpSpec {
    /// The stored form of `op`.
    pub fn from_op(op: HashOp) -> Self {
        match op {
            HashOp::Permute => HashOpSpec::Permute,
            HashOp::Hash { input_len } => HashOpSpec::Hash {
                input_len: input_len as u64,
            },
            HashOp::Compress { arity } => HashOpSpec::Compress {
                arity: arity as u64,
            },
        }
    }
    /// The runtime's operation.
    pub fn op(self) -> HashOp {
        match self {
            HashOpSpec::Permute => HashOp::Permute,
            HashOpSpec::Hash { input_len } => HashOp::Hash {
                input_len: input_len as usize,
            },
            HashOpSpec::Compress { arity } => HashOp::Compress {
                arity: arity as usize,
            },
        }
    }
}

/// What a task computes (`zkaccel_tasks.spec`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskSpec {
    /// `Σ scalars[i]·bases[offset + i]` over one SRS shard; input 0 is the scalars blob.
    MsmShard {
        /// Curve group (`bn254-g1`, …).
        group: String,
        /// SRS name.
        srs: String,
        /// Store key of the shard's points (also the workers' cache key).
        shard_key: String,
        /// Shard index.
        shard: u32,
        /// Points in the shard.
        shard_len: u64,
        /// Scalars in this task (at most `shard_len`; the first bases of the shard).
        count: u64,
        /// Scalar encoding.
        encoding: ScalarEncoding,
    },
    /// The sum of its dependencies' partial results (in dependency position order).
    MsmAggregate {
        /// Curve group.
        group: String,
        /// Number of partial sums.
        parts: u32,
    },
    /// One NTT over input 0 (or the previous step's output).
    Ntt {
        /// Field (`bn254-fr`, `babybear`, …).
        field: String,
        /// `log2` of the column length.
        log_n: u32,
        /// Root of unity, canonical limbs; `None` for the field's default.
        root: Option<[u64; 4]>,
        /// The transform.
        step: NttStep,
    },
    /// Hashing of input 0.
    Hash {
        /// Instance name (`poseidon2-plonky3-babybear-t16`, …).
        hash: String,
        /// Operation.
        op: HashOpSpec,
    },
}

impl TaskSpec {
    /// The `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            TaskSpec::MsmShard { .. } => "msm_shard",
            TaskSpec::MsmAggregate { .. } => "msm_aggregate",
            TaskSpec::Ntt { .. } => "ntt",
            TaskSpec::Hash { .. } => "hash",
        }
    }
    /// The `capability` and `size` columns: what a worker must support.
    pub fn capability(&self) -> (String, i64) {
        match self {
            TaskSpec::MsmShard {
                group, shard_len, ..
            } => (format!("msm:{group}"), *shard_len as i64),
            TaskSpec::MsmAggregate { group, .. } => (format!("aggregate:{group}"), 0),
            TaskSpec::Ntt { field, log_n, .. } => (format!("ntt:{field}"), i64::from(*log_n)),
            TaskSpec::Hash { hash, .. } => (format!("hash:{hash}"), 0),
        }
    }
}

/// Per-job options.
#[derive(Clone, Debug)]
pub struct JobOptions {
    /// How results are checked on arrival (default [`Verification::Sampled`]; `Full`
    /// recomputes MSM shards on the coordinator's CPU: the MSM cross-check).
    pub verification: Verification,
    /// Attempts per task before the job fails (default 3).
    pub max_attempts: u32,
    /// A free-form label shown by `zkaccel status`.
    pub label: Option<String>,
}

impl Default for JobOptions {
    fn default() -> Self {
        Self {
            verification: Verification::Sampled,
            max_attempts: 3,
            label: None,
        }
    }
}

/// A job as `status` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobStatus {
    /// Id.
    pub id: i64,
    /// `msm`, `ntt` or `hash`.
    pub kind: String,
    /// State.
    pub state: JobState,
    /// Label given at submission.
    pub label: Option<String>,
    /// Verification level.
    pub verification: String,
    /// Parameters given at submission.
    pub params: serde_json::Value,
    /// Store key of the result, once done.
    pub result_key: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Tasks in each state.
    pub tasks_total: i64,
    /// Tasks done.
    pub tasks_done: i64,
    /// Seconds since the epoch.
    pub created_at: f64,
    /// Seconds since the epoch, once finished.
    pub finished_at: Option<f64>,
}

/// A task as `status` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskStatus {
    /// Id.
    pub id: i64,
    /// Job.
    pub job_id: i64,
    /// `msm_shard`, `msm_aggregate`, `ntt`, `hash`.
    pub kind: String,
    /// Required capability.
    pub capability: String,
    /// State.
    pub state: TaskState,
    /// Claims so far.
    pub attempts: i32,
    /// Claims allowed.
    pub max_attempts: i32,
    /// Worker holding (or that last held) the lease.
    pub worker_id: Option<String>,
    /// Seconds until the lease expires (negative: expired).
    pub lease_left: Option<f64>,
    /// Dependencies not done yet.
    pub pending_deps: i32,
    /// Last error.
    pub error: Option<String>,
    /// Input blob keys.
    pub input_keys: Vec<String>,
    /// Output blob key of the latest completed attempt.
    pub output_key: Option<String>,
}

/// One claim of a task (the execution ledger).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// Task.
    pub task_id: i64,
    /// Attempt number (1-based).
    pub attempt: i32,
    /// Worker that claimed it.
    pub worker_id: String,
    /// `completed`, `accepted`, `rejected`, `failed`, `lease_expired`, `released`,
    /// `cancelled`, or `None` while running.
    pub outcome: Option<String>,
    /// Error of a failed or rejected attempt.
    pub error: Option<String>,
}

/// A worker as `status` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerStatus {
    /// Id (`host-pid-random`).
    pub id: String,
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: i32,
    /// `running`, `stopped`.
    pub state: String,
    /// Capabilities.
    pub capabilities: Vec<String>,
    /// Seconds since it was last seen.
    pub seen_ago: f64,
}
