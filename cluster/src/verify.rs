//! Verification on arrival: the coordinator re-reads a task's inputs and output from the
//! store and checks the output with the runtime's own checks ([`Runtime::check_msm_result_raw`],
//! [`Runtime::check_ntt_result_raw`], [`Runtime::check_hash_result_raw`]) before the task
//! counts as done. A worker is never trusted with checking itself: a faulty GPU, a flipped
//! bit on the wire or a buggy build is caught by another party.
//!
//! - MSM shard: the partial sum is on the curve and in the subgroup; under `Full` (and for a
//!   random fraction of results under `Sampled`) it is recomputed on the coordinator's CPU
//!   (the MSM cross-check).
//! - MSM aggregate: recomputed exactly (a handful of point additions) from the accepted
//!   partial sums, at every level.
//! - NTT: the randomized O(n) check. Under `Sampled` one random column, fetched with two
//!   range reads (the rest of the batch never leaves the store); under `Full` every column,
//!   a bounded group of columns at a time.
//! - Hashing: a random sample of the items (`Sampled`) or all of them (`Full`) recomputed.

use crate::db::HeldTask;
use crate::error::{ClusterError, Result};
use crate::exec::{affine_bytes, input, parse, point_from_bytes, scalar_limbs, sum_points};
use crate::model::TaskSpec;
use crate::store::{Blob, BlobStore};
use rand::Rng;
use std::sync::{Arc, Mutex};
use zkaccel::{
    BatchLayout, CurveGroupId, Encoding, FieldId, HashId, Infinity, RawPoints, RawScalars, Runtime,
    Verification,
};

/// What the check concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Accept,
    Reject(String),
}

/// Columns fetched at once by a `Full` NTT check.
const NTT_CHECK_BYTES: u64 = 64 << 20;

pub(crate) struct Verifier {
    rt: Runtime,
    store: BlobStore,
    /// SRS shards used by recent checks (few: the coordinator checks many shards of few SRSs).
    shards: Mutex<Vec<(String, Arc<Blob>)>>,
    shard_cache_bytes: u64,
}

fn reject(e: impl std::fmt::Display) -> Verdict {
    Verdict::Reject(e.to_string())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ClusterError::Other(format!("verification thread: {e}")))
}

impl Verifier {
    pub(crate) fn new(rt: Runtime, store: BlobStore, shard_cache_bytes: u64) -> Self {
        Self {
            rt,
            store,
            shards: Mutex::new(Vec::new()),
            shard_cache_bytes,
        }
    }

    async fn shard(&self, key: &str) -> Result<Arc<Blob>> {
        {
            let s = self.shards.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, b)) = s.iter().find(|(k, _)| k == key) {
                return Ok(b.clone());
            }
        }
        let b = Arc::new(self.store.get_blob(key).await?);
        let mut s = self.shards.lock().unwrap_or_else(|e| e.into_inner());
        s.insert(0, (key.to_owned(), b.clone()));
        let mut total = 0u64;
        s.retain(|(_, b)| {
            total += b.len() as u64;
            total <= self.shard_cache_bytes
        });
        Ok(b)
    }

    /// Checks the output of `t`. `Err` only for trouble on our side (the store did not
    /// answer): the check is then retried later.
    pub(crate) async fn check(&self, t: &HeldTask) -> Result<Verdict> {
        match self.check_inner(t).await {
            Ok(v) => Ok(v),
            Err(e) if e.is_transient() => Err(e),
            Err(ClusterError::Store(object_store::Error::NotFound { path, .. })) => {
                Ok(reject(format!("blob {path} is missing")))
            }
            // Malformed output or inputs: not the coordinator's fault, the attempt fails.
            Err(e) => Ok(reject(e)),
        }
    }

    async fn check_inner(&self, t: &HeldTask) -> Result<Verdict> {
        let level: Verification = parse("verification level", &t.verification)?;
        let source = t.worker_id.clone().unwrap_or_else(|| "?".into());
        let out_key = t
            .output_key
            .as_deref()
            .ok_or_else(|| ClusterError::Corrupt(format!("task {} has no output", t.id)))?;
        match &t.spec {
            TaskSpec::MsmShard {
                group,
                shard_key,
                count,
                encoding,
                ..
            } => {
                let id: CurveGroupId = parse("curve group", group)?;
                let result = match point_from_bytes(id, &self.store.get_bytes(out_key).await?) {
                    Ok(p) => p,
                    Err(e) => return Ok(reject(e)),
                };
                let bases = self.shard(shard_key).await?;
                let scalars = self.store.get_blob(input(t, 0)?).await?;
                let n = *count as usize;
                let enc: Encoding = (*encoding).into();
                let rt = self.rt.clone();
                blocking(move || {
                    let stride = affine_bytes(id);
                    let bytes = bases.as_bytes().get(..n * stride).ok_or_else(|| {
                        ClusterError::BadInput(format!("SRS shard shorter than {n} points"))
                    })?;
                    let points = RawPoints::new(
                        id,
                        bytes,
                        n,
                        stride,
                        Infinity::ZeroCoordinates,
                        Encoding::Montgomery,
                    )
                    .map_err(ClusterError::BadInput)?;
                    let raw =
                        RawScalars::new(id.curve.scalar_field(), scalar_limbs(&scalars)?, enc);
                    Ok(
                        match rt.check_msm_result_raw(&points, &raw, &result, level, &source) {
                            Ok(()) => Verdict::Accept,
                            Err(e) => reject(e),
                        },
                    )
                })
                .await?
            }
            TaskSpec::MsmAggregate { group, .. } => {
                let id: CurveGroupId = parse("curve group", group)?;
                let result = match point_from_bytes(id, &self.store.get_bytes(out_key).await?) {
                    Ok(p) => p,
                    Err(e) => return Ok(reject(e)),
                };
                let mut parts = Vec::with_capacity(t.inputs.len());
                for k in &t.inputs {
                    parts.push(point_from_bytes(id, &self.store.get_bytes(k).await?)?);
                }
                let expected = sum_points(id, &parts)?;
                let same = zkaccel_backend::with_curve_group!(
                    id,
                    |C| expected.to_projective::<C>().ok() == result.to_projective::<C>().ok(),
                    false
                );
                Ok(if same {
                    Verdict::Accept
                } else {
                    reject(format!(
                        "the aggregate from {source} differs from the sum of its {} accepted partial sums",
                        parts.len()
                    ))
                })
            }
            TaskSpec::Ntt {
                field,
                log_n,
                root,
                step,
            } => {
                let field: FieldId = parse("field", field)?;
                let spec = self.rt.ntt_domain_raw(field, *log_n, *root)?.spec().clone();
                let cfg = step.config();
                let elem = field.element_bytes() as u64;
                let col = (1u64 << log_n) * elem;
                let batch = step.batch;
                let total = col * batch;
                let in_key = input(t, 0)?;
                let got = self.store.size(out_key).await?;
                if got != total {
                    return Ok(reject(format!(
                        "output has {got} bytes, expected {total} ({batch} columns of 2^{log_n} {field})"
                    )));
                }
                if level == Verification::Off {
                    return Ok(Verdict::Accept);
                }
                // Groups of whole columns: [first, last) with the batch size of the group.
                let groups: Vec<(u64, u64)> = if cfg.layout == BatchLayout::Interleaved {
                    vec![(0, batch)]
                } else if level == Verification::Sampled {
                    let c = rand::thread_rng().gen_range(0..batch.max(1));
                    vec![(c, c + 1)]
                } else {
                    let per = (NTT_CHECK_BYTES / col.max(1)).max(1);
                    (0..batch)
                        .step_by(per as usize)
                        .map(|c| (c, (c + per).min(batch)))
                        .collect()
                };
                for (first, last) in groups {
                    let range = first * col..last * col;
                    let inp = self.store.get_range(in_key, range.clone()).await?;
                    let out = self.store.get_range(out_key, range).await?;
                    let mut sub = cfg;
                    sub.batch = (last - first) as usize;
                    let rt = self.rt.clone();
                    let spec = spec.clone();
                    let source = source.clone();
                    let v = blocking(move || {
                        rt.check_ntt_result_raw(&spec, &sub, &inp, &out, level, &source)
                    })
                    .await?;
                    if let Err(e) = v {
                        return Ok(reject(format!("columns {first}..{last}: {e}")));
                    }
                }
                Ok(Verdict::Accept)
            }
            TaskSpec::Hash { hash, op } => {
                let id: HashId = parse("hash instance", hash)?;
                let op = op.op();
                let inp = self.store.get_blob(input(t, 0)?).await?;
                let out = self.store.get_blob(out_key).await?;
                let rt = self.rt.clone();
                let v = blocking(move || {
                    rt.check_hash_result_raw(id, op, inp.as_bytes(), out.as_bytes(), level, &source)
                })
                .await?;
                Ok(match v {
                    Ok(()) => Verdict::Accept,
                    Err(e) => reject(e),
                })
            }
        }
    }
}
