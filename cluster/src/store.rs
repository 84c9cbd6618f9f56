//! Blobs in an object store (the `object_store` crate): the local filesystem (a plain path
//! or `file:///…`) and, with the `s3` feature, S3-compatible stores (`s3://bucket/prefix`,
//! configured from the `AWS_*` environment variables: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` for MinIO/Ceph/R2,
//! `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint).
//!
//! Large blobs move in parts: uploads are multipart ([`PART_SIZE`] parts, a few in flight),
//! downloads are streamed into their destination (a file, or one buffer allocated once at
//! the blob's size), so a blob is never held twice in memory.

use crate::error::{ClusterError, Result};
use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, PutPayload, WriteMultipart};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Size of one part of a multipart upload (S3 wants at least 5 MiB per part).
pub const PART_SIZE: usize = 16 << 20;
/// Parts uploaded concurrently.
const PARTS_IN_FLIGHT: usize = 4;

/// A handle on the object store (cheap to clone).
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    url: String,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore").field("url", &self.url).finish()
    }
}

/// A downloaded blob in a buffer aligned for any field element (8 bytes), so the runtime can
/// read it in place.
#[derive(Clone, Default)]
pub struct Blob {
    words: Vec<u64>,
    len: usize,
}

impl Blob {
    /// A zeroed blob of `len` bytes.
    pub fn zeroed(len: usize) -> Self {
        Self {
            words: vec![0u64; len.div_ceil(8)],
            len,
        }
    }
    /// A copy of `bytes`.
    pub fn from_slice(bytes: &[u8]) -> Self {
        let mut b = Self::zeroed(bytes.len());
        b.as_bytes_mut().copy_from_slice(bytes);
        b
    }
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<u64, u8>(&self.words)[..self.len]
    }
    /// The bytes, writable.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut::<u64, u8>(&mut self.words)[..self.len]
    }
    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blob({} bytes)", self.len)
    }
}

fn key(k: &str) -> Result<StorePath> {
    StorePath::parse(k).map_err(|e| ClusterError::BadInput(format!("blob key '{k}': {e}")))
}

impl BlobStore {
    /// Opens the store named by `url`: a directory path or `file:///dir` (created when
    /// missing), `memory://` (in this process only, for tests), or `s3://bucket[/prefix]`
    /// (feature `s3`).
    pub fn open(url: &str) -> Result<Self> {
        let bad = |reason: String| ClusterError::StoreUrl {
            url: url.to_owned(),
            reason,
        };
        let inner: Arc<dyn ObjectStore> = if let Some(rest) = url.strip_prefix("s3://") {
            s3(url, rest).map_err(bad)?
        } else if url == "memory://" {
            Arc::new(object_store::memory::InMemory::new())
        } else {
            let dir = url.strip_prefix("file://").unwrap_or(url);
            if dir.is_empty() || dir.contains("://") {
                return Err(bad(
                    "expected a directory, file:///dir or s3://bucket/prefix".into(),
                ));
            }
            std::fs::create_dir_all(dir).map_err(|e| bad(e.to_string()))?;
            let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
                .map_err(|e| bad(e.to_string()))?;
            Arc::new(fs)
        };
        Ok(Self {
            inner,
            url: url.to_owned(),
        })
    }

    /// Wraps any `object_store` implementation (GCS, Azure, a custom one).
    pub fn from_object_store(inner: Arc<dyn ObjectStore>, url: impl Into<String>) -> Self {
        Self {
            inner,
            url: url.into(),
        }
    }

    /// The URL this store was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Writes `bytes` at `k` (multipart when large).
    pub async fn put_slice(&self, k: &str, bytes: &[u8]) -> Result<()> {
        if bytes.len() <= PART_SIZE {
            self.inner
                .put(&key(k)?, PutPayload::from(Bytes::copy_from_slice(bytes)))
                .await?;
            return Ok(());
        }
        let upload = self.inner.put_multipart(&key(k)?).await?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        for chunk in bytes.chunks(PART_SIZE) {
            if let Err(e) = w.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = w.abort().await;
                return Err(e.into());
            }
            w.write(chunk);
        }
        w.finish().await?;
        Ok(())
    }

    /// Writes `bytes` at `k` without copying them (one request).
    pub async fn put_bytes(&self, k: &str, bytes: Bytes) -> Result<()> {
        self.inner.put(&key(k)?, PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// Uploads the file at `path` to `k`, streaming it in parts; returns its size.
    pub async fn put_file(&self, k: &str, path: &Path) -> Result<u64> {
        let mut f = tokio::fs::File::open(path)
            .await
            .map_err(|e| ClusterError::io(path, e))?;
        let upload = self.inner.put_multipart(&key(k)?).await?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = match f.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = w.abort().await;
                    return Err(ClusterError::io(path, e));
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = w.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = w.abort().await;
                return Err(e.into());
            }
            w.write(&buf[..n]);
            total += n as u64;
        }
        w.finish().await?;
        Ok(total)
    }

    /// The blob at `k`, in one buffer allocated at its size and filled as it streams in.
    pub async fn get_blob(&self, k: &str) -> Result<Blob> {
        let r = self.inner.get(&key(k)?).await?;
        let size = usize::try_from(r.meta.size)
            .map_err(|_| ClusterError::BadInput(format!("blob {k} is too large")))?;
        let mut blob = Blob::zeroed(size);
        let mut at = 0usize;
        let mut stream = r.into_stream();
        {
            let out = blob.as_bytes_mut();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                let end = at + chunk.len();
                if end > size {
                    return Err(ClusterError::Corrupt(format!(
                        "blob {k} is longer than its stated {size} bytes"
                    )));
                }
                out[at..end].copy_from_slice(&chunk);
                at = end;
            }
        }
        if at != size {
            return Err(ClusterError::Corrupt(format!(
                "blob {k}: {at} of {size} bytes arrived"
            )));
        }
        Ok(blob)
    }

    /// The whole blob at `k` (for small blobs).
    pub async fn get_bytes(&self, k: &str) -> Result<Bytes> {
        Ok(self.inner.get(&key(k)?).await?.bytes().await?)
    }

    /// Bytes `range` of the blob at `k`.
    pub async fn get_range(&self, k: &str, range: Range<u64>) -> Result<Bytes> {
        Ok(self.inner.get_range(&key(k)?, range).await?)
    }

    /// Streams the blob at `k` into the file `path`; returns its size.
    pub async fn get_to_file(&self, k: &str, path: &Path) -> Result<u64> {
        let r = self.inner.get(&key(k)?).await?;
        let mut f = tokio::fs::File::create(path)
            .await
            .map_err(|e| ClusterError::io(path, e))?;
        let mut stream = r.into_stream();
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            f.write_all(&chunk)
                .await
                .map_err(|e| ClusterError::io(path, e))?;
            total += chunk.len() as u64;
        }
        f.flush().await.map_err(|e| ClusterError::io(path, e))?;
        Ok(total)
    }

    /// Size in bytes of the blob at `k`.
    pub async fn size(&self, k: &str) -> Result<u64> {
        Ok(self.inner.head(&key(k)?).await?.size)
    }

    /// Deletes every blob under `prefix`; returns how many.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize> {
        let p = key(prefix)?;
        let mut list = self.inner.list(Some(&p));
        let mut n = 0;
        while let Some(meta) = list.next().await {
            self.inner.delete(&meta?.location).await?;
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(feature = "s3")]
fn s3(url: &str, rest: &str) -> std::result::Result<Arc<dyn ObjectStore>, String> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err("no bucket in s3://bucket/prefix".into());
    }
    let store = object_store::aws::AmazonS3Builder::from_env()
        .with_url(format!("s3://{bucket}"))
        .build()
        .map_err(|e| e.to_string())?;
    let prefix = prefix.trim_matches('/');
    let _ = url;
    if prefix.is_empty() {
        Ok(Arc::new(store))
    } else {
        Ok(Arc::new(object_store::prefix::PrefixStore::new(
            store,
            prefix.to_owned(),
        )))
    }
}

#[cfg(not(feature = "s3"))]
fn s3(_url: &str, _rest: &str) -> std::result::Result<Arc<dyn ObjectStore>, String> {
    Err("this build has no S3 support (zkaccel-cluster feature `s3`)".into())
}
