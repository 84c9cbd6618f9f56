//! Running one claimed task on this worker's runtime: download the inputs, compute on the
//! best device the runtime has, return the output blob.
//!
//! MSM bases are staged once per worker: the first shard task of an SRS shard downloads the
//! shard and turns it into a [`RawMsmBases`] handle (which devices that keep bases resident
//! upload and precompute once); later tasks on that shard send only scalars. The cache is
//! bounded in bytes and evicts the least recently used shard.

use crate::db::HeldTask;
use crate::error::{ClusterError, Result};
use crate::model::TaskSpec;
use crate::store::{Blob, BlobStore};
use crate::worker::TestHooks;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use zkaccel::{
    CallOptions, CurveGroupId, Encoding, FieldId, HashId, HashOp, Infinity, MsmOptions, Projective,
    RawMsmBases, RawNttDomain, RawPoint, RawPoints, RawScalars, Runtime,
};
use zkaccel_backend::view::coordinate_bytes;
use zkaccel_backend::with_curve_group;

/// Bytes of one affine point of `id` in a shard blob.
pub(crate) fn affine_bytes(id: CurveGroupId) -> usize {
    2 * coordinate_bytes(id)
}

/// Bytes of one Jacobian point (`X, Y, Z`) of `id`: a partial sum or an MSM result.
pub fn point_bytes_len(id: CurveGroupId) -> usize {
    with_curve_group!(id, |C| core::mem::size_of::<Projective<C>>(), 0)
}

/// The blob form of an MSM result.
pub fn point_to_bytes(p: &RawPoint) -> Vec<u8> {
    let n = point_bytes_len(p.id);
    bytemuck::cast_slice::<u64, u8>(&p.limbs)[..n].to_vec()
}

/// An MSM result from its blob form.
pub fn point_from_bytes(id: CurveGroupId, bytes: &[u8]) -> Result<RawPoint> {
    let n = point_bytes_len(id);
    if n == 0 || bytes.len() != n {
        return Err(ClusterError::BadInput(format!(
            "a {id} point is {n} bytes, the blob has {}",
            bytes.len()
        )));
    }
    let mut limbs = [0u64; RawPoint::MAX_LIMBS];
    bytemuck::cast_slice_mut::<u64, u8>(&mut limbs)[..n].copy_from_slice(bytes);
    Ok(RawPoint { id, limbs })
}

/// `Σ parts`.
pub(crate) fn sum_points(id: CurveGroupId, parts: &[RawPoint]) -> Result<RawPoint> {
    with_curve_group!(
        id,
        |C| {
            let mut acc = Projective::<C>::IDENTITY;
            for p in parts {
                let q = p
                    .to_projective::<C>()
                    .map_err(|e| ClusterError::BadInput(e.to_string()))?;
                acc = acc.add(&q);
            }
            Ok(RawPoint::from_projective(&acc))
        },
        Err(ClusterError::BadInput(format!("unknown curve group {id}")))
    )
}

/// `p + G` (a valid point, but the wrong one): the test hook's corruption of MSM results.
fn add_generator(p: &RawPoint) -> Result<RawPoint> {
    with_curve_group!(
        p.id,
        |C| {
            let q = p
                .to_projective::<C>()
                .map_err(|e| ClusterError::BadInput(e.to_string()))?;
            Ok(RawPoint::from_projective(
                &q.add(&Projective::<C>::generator()),
            ))
        },
        Err(ClusterError::BadInput(format!(
            "unknown curve group {}",
            p.id
        )))
    )
}

pub(crate) fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e| ClusterError::BadInput(format!("{what} '{s}': {e}")))
}

/// Reads scalars (32 bytes each) from an aligned blob.
pub(crate) fn scalar_limbs(blob: &Blob) -> Result<&[[u64; 4]]> {
    bytemuck::try_cast_slice(blob.as_bytes())
        .map_err(|e| ClusterError::BadInput(format!("scalars blob of {} bytes: {e}", blob.len())))
}

pub(crate) fn input(t: &HeldTask, k: usize) -> Result<&str> {
    t.inputs
        .get(k)
        .map(String::as_str)
        .ok_or_else(|| ClusterError::Corrupt(format!("task {} has no input {k}", t.id)))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ClusterError::Other(format!("compute thread: {e}")))?
}

/// An NTT domain: field, `log2 n`, root.
type DomainKey = (FieldId, u32, Option<[u64; 4]>);

struct CacheEntry {
    cell: Arc<OnceCell<Arc<RawMsmBases>>>,
    bytes: u64,
    used: u64,
}

#[derive(Default)]
struct CacheState {
    map: HashMap<String, CacheEntry>,
    tick: u64,
}

/// Computes tasks on this worker's runtime.
pub(crate) struct Executor {
    pub rt: Runtime,
    pub store: BlobStore,
    pub hooks: TestHooks,
    pub worker: String,
    cache_cap: u64,
    cache: Mutex<CacheState>,
    domains: Mutex<HashMap<DomainKey, Arc<RawNttDomain>>>,
}

impl Executor {
    pub(crate) fn new(
        rt: Runtime,
        store: BlobStore,
        hooks: TestHooks,
        worker: String,
        cache_cap: u64,
    ) -> Self {
        Self {
            rt,
            store,
            hooks,
            worker,
            cache_cap,
            cache: Mutex::new(CacheState::default()),
            domains: Mutex::new(HashMap::new()),
        }
    }

    /// Keys of the SRS shards staged here (claims prefer tasks on them).
    pub(crate) fn staged(&self) -> Vec<String> {
        let c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        c.map
            .iter()
            .filter(|(_, e)| e.cell.initialized())
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Appends a line to the test ledger, when one is set.
    pub(crate) fn ledger(&self, line: &str) {
        if let Some(path) = &self.hooks.ledger {
            // O_APPEND: each short line lands whole even with several processes writing.
            let r = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(format!("{line} {}\n", self.worker).as_bytes()));
            if let Err(e) = r {
                tracing::warn!("test ledger {}: {e}", path.display());
            }
        }
    }

    /// The bases handle of one SRS shard, staged on first use.
    async fn bases(&self, key: &str, id: CurveGroupId, len: u64) -> Result<Arc<RawMsmBases>> {
        let cell = {
            let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            c.tick += 1;
            let tick = c.tick;
            let e = c.map.entry(key.to_owned()).or_insert_with(|| CacheEntry {
                cell: Arc::new(OnceCell::new()),
                bytes: 0,
                used: 0,
            });
            e.used = tick;
            e.cell.clone()
        };
        let bases = cell
            .get_or_try_init(|| async {
                let blob = self.store.get_blob(key).await?;
                let stride = affine_bytes(id);
                let n = usize::try_from(len).unwrap_or(usize::MAX);
                if Some(blob.len()) != n.checked_mul(stride) {
                    return Err(ClusterError::BadInput(format!(
                        "SRS shard {key}: {} bytes for {len} points of {stride} bytes",
                        blob.len()
                    )));
                }
                self.ledger(&format!("stage {key}"));
                let rt = self.rt.clone();
                let bases = blocking(move || {
                    let points = RawPoints::new(
                        id,
                        blob.as_bytes(),
                        n,
                        stride,
                        Infinity::ZeroCoordinates,
                        Encoding::Montgomery,
                    )
                    .map_err(ClusterError::BadInput)?;
                    Ok(rt.msm_bases_raw(&points, &MsmOptions::default())?)
                })
                .await?;
                tracing::info!(shard = key, points = n, "SRS shard staged");
                Ok(Arc::new(bases))
            })
            .await?
            .clone();
        // Account for it and evict the least recently used shards beyond the cap.
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = c.map.get_mut(key) {
            e.bytes = len * affine_bytes(id) as u64;
        }
        loop {
            let total: u64 = c.map.values().map(|e| e.bytes).sum();
            if total <= self.cache_cap {
                break;
            }
            let victim = c
                .map
                .iter()
                .filter(|(k, e)| k.as_str() != key && e.bytes > 0)
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            match victim {
                Some(k) => {
                    tracing::info!(shard = k, "SRS shard evicted from the bases cache");
                    c.map.remove(&k);
                }
                None => break,
            }
        }
        Ok(bases)
    }

    fn domain(
        &self,
        field: FieldId,
        log_n: u32,
        root: Option<[u64; 4]>,
    ) -> Result<Arc<RawNttDomain>> {
        let mut d = self.domains.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(x) = d.get(&(field, log_n, root)) {
            return Ok(x.clone());
        }
        let x = Arc::new(self.rt.ntt_domain_raw(field, log_n, root)?);
        d.insert((field, log_n, root), x.clone());
        Ok(x)
    }

    /// Computes `t` and returns its output (corrupted when the test hook asks).
    pub(crate) async fn run(&self, t: &HeldTask) -> Result<Blob> {
        let out = match &t.spec {
            TaskSpec::MsmShard {
                group,
                shard_key,
                shard_len,
                count,
                encoding,
                ..
            } => {
                let id: CurveGroupId = parse("curve group", group)?;
                let bases = self.bases(shard_key, id, *shard_len).await?;
                let scalars = self.store.get_blob(input(t, 0)?).await?;
                if scalars.len() as u64 != count * 32 {
                    return Err(ClusterError::BadInput(format!(
                        "{} bytes of scalars for {count} scalars",
                        scalars.len()
                    )));
                }
                let enc: Encoding = (*encoding).into();
                let mut p = blocking(move || {
                    let raw =
                        RawScalars::new(id.curve.scalar_field(), scalar_limbs(&scalars)?, enc);
                    Ok(bases.msm_raw_with(&raw, &CallOptions::default())?.0)
                })
                .await?;
                if self.hooks.corrupt_results {
                    p = add_generator(&p)?;
                }
                Blob::from_slice(&point_to_bytes(&p))
            }
            TaskSpec::MsmAggregate { group, parts } => {
                let id: CurveGroupId = parse("curve group", group)?;
                if t.inputs.len() != *parts as usize {
                    return Err(ClusterError::Corrupt(format!(
                        "aggregate of {parts} parts has {} inputs",
                        t.inputs.len()
                    )));
                }
                let mut points = Vec::with_capacity(t.inputs.len());
                for k in &t.inputs {
                    points.push(point_from_bytes(id, &self.store.get_bytes(k).await?)?);
                }
                let mut p = sum_points(id, &points)?;
                if self.hooks.corrupt_results {
                    p = add_generator(&p)?;
                }
                Blob::from_slice(&point_to_bytes(&p))
            }
            TaskSpec::Ntt {
                field,
                log_n,
                root,
                step,
            } => {
                let field: FieldId = parse("field", field)?;
                let domain = self.domain(field, *log_n, *root)?;
                let mut data = self.store.get_blob(input(t, 0)?).await?;
                let cfg = step.config();
                let mut data = blocking(move || {
                    domain.run_raw_with(data.as_bytes_mut(), &cfg, &CallOptions::default())?;
                    Ok(data)
                })
                .await?;
                if self.hooks.corrupt_results && !data.is_empty() {
                    data.as_bytes_mut()[0] ^= 1;
                }
                data
            }
            TaskSpec::Hash { hash, op } => {
                let id: HashId = parse("hash instance", hash)?;
                let op = op.op();
                let mut data = self.store.get_blob(input(t, 0)?).await?;
                let rt = self.rt.clone();
                let mut out = blocking(move || {
                    if op == HashOp::Permute {
                        rt.hash_raw_with(
                            id,
                            op,
                            &[],
                            data.as_bytes_mut(),
                            &CallOptions::default(),
                        )?;
                        return Ok(data);
                    }
                    let info = id.info();
                    let elem = info.field.element_bytes();
                    let (in_len, out_len) = match op {
                        HashOp::Hash { input_len } => (input_len, info.digest),
                        HashOp::Compress { arity } => (arity * info.digest, info.digest),
                        HashOp::Permute => (info.width, info.width),
                    };
                    let item = in_len * elem;
                    if item == 0 || data.len() % item != 0 {
                        return Err(ClusterError::BadInput(format!(
                            "{} input bytes are not whole items of {item} bytes",
                            data.len()
                        )));
                    }
                    let mut out = Blob::zeroed(data.len() / item * out_len * elem);
                    rt.hash_raw_with(
                        id,
                        op,
                        data.as_bytes(),
                        out.as_bytes_mut(),
                        &CallOptions::default(),
                    )?;
                    Ok(out)
                })
                .await?;
                if self.hooks.corrupt_results && !out.is_empty() {
                    out.as_bytes_mut()[0] ^= 1;
                }
                out
            }
        };
        Ok(out)
    }
}
