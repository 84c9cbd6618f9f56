//! The host side of the portable kernels, written once for every GPU API.
//!
//! What a call does on a device — which buffers it needs, which kernels it launches in which
//! order with which arguments, what it reads back and what the host finishes — depends only
//! on the kernels in `kernels/gpu/`, not on whether OpenCL or CUDA carries it out. So the
//! launch sequences live here, next to the kernels whose signatures they mirror, generic
//! over [`GpuDevice`]: a handful of primitives (allocate, upload, launch, copy, read) that a
//! backend crate implements on its API. [`GpuBackend`] turns any such device into a
//! complete [`Backend`]: MSM (with device-resident bases), NTT domains (twiddles resident)
//! and Poseidon/Poseidon2 hashing.
//!
//! - MSM: signed-digit windows, a device counting sort of (point, sign) entries by bucket,
//!   balanced bucket accumulation, per-window reduction on the device; the host combines
//!   the windows;
//! - NTT: radix-2^k passes in local memory, cosets, both orders, batches in either layout;
//! - hashing: one work-item per state, sponge or Merkle node.
//!
//! Buffers are typed on the host side only ([`DeviceVec`]): the device holds bytes, and
//! every transfer is range-checked here before it reaches the API, so a wrong length is an
//! error, never an out-of-bounds copy.

pub mod cache;
#[cfg(feature = "checks")]
pub mod checks;
mod hash;
mod msm;
mod ntt;

pub use cache::BinaryCache;

use crate::{ProgramSource, Target};
use std::marker::PhantomData;
use std::sync::Arc;
use zkaccel_backend::hash::HashId;
use zkaccel_backend::{
    Backend, BackendError, BackendNttDomain, BackendResult, Capabilities, CurveGroupId, DeviceInfo,
    HashOp, MsmCapability, NttDomainSpec, PreparedBases, RawPoint, RawPoints, RawScalars,
};

/// How a GPU backend opens its devices (`OpenClOptions` and `CudaOptions` are this type).
#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// Treat buffers above this many bytes as too large even when the device allows them,
    /// so that chunking can be exercised on small inputs (tests) or memory kept in check.
    /// Also read from `ZKACCEL_<API>_MAX_ALLOC` (bytes, e.g. `ZKACCEL_OPENCL_MAX_ALLOC`) when
    /// `None`.
    pub max_alloc_bytes: Option<u64>,
    /// The compiled-program cache; `None` uses the default location
    /// ([`BinaryCache::from_env`] for the API).
    pub cache: Option<BinaryCache>,
    /// Do not use a program cache at all.
    pub no_cache: bool,
}

impl GpuOptions {
    /// The allocation cap and the program cache for API `api` (`opencl`, `cuda`): the
    /// options' values, else the environment's (`ZKACCEL_<API>_MAX_ALLOC`, the default
    /// cache location).
    pub fn resolve(&self, api: &str) -> (Option<u64>, Option<BinaryCache>) {
        let max_alloc = self.max_alloc_bytes.or_else(|| {
            std::env::var(format!("ZKACCEL_{}_MAX_ALLOC", api.to_ascii_uppercase()))
                .ok()
                .and_then(|v| v.trim().parse().ok())
        });
        let cache = if self.no_cache {
            None
        } else {
            self.cache.clone().or_else(|| BinaryCache::from_env(api))
        };
        (max_alloc, cache)
    }
}

/// What one device can hold and run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest single buffer, bytes.
    pub max_alloc: u64,
    /// Most work-items (threads) in one work-group (block).
    pub max_work_group: usize,
    /// Local (shared) memory one work-group may use, bytes.
    pub local_mem: u64,
}

/// A device the shared host code can drive: memory, programs and an ordered queue.
///
/// Implementations report what the caller cannot foresee (out of memory, compile or launch
/// failures, a lost device) as [`BackendError`]s; sizes and ranges are checked before the
/// calls reach them.
pub trait GpuDevice: Send + Sync + 'static {
    /// One device allocation (untyped).
    type Mem: Send + Sync + 'static;
    /// The device held for one operation.
    type Session<'a>: GpuSession<Dev = Self>
    where
        Self: 'a;

    /// The language programs are assembled in for this device.
    fn target(&self) -> Target;
    /// The device's limits.
    fn limits(&self) -> Limits;
    /// An allocation of `bytes ≥ 1` bytes (at most [`Limits::max_alloc`]), contents
    /// undefined.
    fn alloc_bytes(&self, bytes: usize, what: &str) -> BackendResult<Self::Mem>;
    /// An allocation holding a copy of `data` (not empty, at most [`Limits::max_alloc`]).
    fn upload_bytes(&self, data: &[u8], what: &str) -> BackendResult<Self::Mem>;
    /// Takes the device for one operation; launches and transfers of a session run in the
    /// order they are issued.
    fn session(&self) -> Self::Session<'_>;

    /// A buffer of `len` elements of `T` (at least one byte is allocated), contents
    /// undefined; [`BackendError::OutOfMemory`] when it exceeds one allocation.
    fn alloc<T>(&self, len: usize, what: &str) -> BackendResult<DeviceVec<Self, T>>
    where
        Self: Sized,
    {
        let bytes = self.check_alloc(len, size_of::<T>(), what)?;
        Ok(DeviceVec::new(self.alloc_bytes(bytes.max(1), what)?, len))
    }

    /// A buffer holding a copy of `data`.
    fn upload<T: bytemuck::Pod>(&self, data: &[T], what: &str) -> BackendResult<DeviceVec<Self, T>>
    where
        Self: Sized,
    {
        if data.is_empty() {
            return self.alloc(0, what);
        }
        self.check_alloc(data.len(), size_of::<T>(), what)?;
        let mem = self.upload_bytes(bytemuck::cast_slice(data), what)?;
        Ok(DeviceVec::new(mem, data.len()))
    }

    /// The bytes of `len` elements of `size` bytes when they fit one allocation.
    #[doc(hidden)]
    fn check_alloc(&self, len: usize, size: usize, what: &str) -> BackendResult<usize> {
        let max = self.limits().max_alloc;
        match len.checked_mul(size) {
            Some(b) if b as u64 <= max => Ok(b),
            b => Err(BackendError::OutOfMemory {
                requested: b.map_or(u64::MAX, |b| b as u64),
                detail: format!(
                    "{what}: {len} elements of {size} bytes exceed the device's largest \
                     allocation of {max} bytes"
                ),
            }),
        }
    }
}

/// A device held for one operation (see [`GpuDevice::session`]).
pub trait GpuSession {
    /// The device.
    type Dev: GpuDevice;

    /// The device this session holds.
    fn dev(&self) -> &Self::Dev;

    /// Builds (or fetches from the caches) `src` and launches its kernel `name` over
    /// `global` work-items, in work-groups of `local` when given (else the backend's
    /// choice); the global size is rounded up to whole groups, so kernels check their
    /// bounds.
    fn launch(
        &mut self,
        src: &ProgramSource,
        name: &str,
        global: usize,
        local: Option<usize>,
        args: &[Arg<'_, Self::Dev>],
    ) -> BackendResult<()>;
    /// Copies `data` into `mem` at byte `offset` (the range lies within `mem`).
    fn write_bytes(
        &mut self,
        mem: &mut <Self::Dev as GpuDevice>::Mem,
        offset: usize,
        data: &[u8],
    ) -> BackendResult<()>;
    /// Copies bytes of `mem` from `offset` into `out`, after everything issued before; the
    /// range lies within `mem`.
    fn read_bytes(
        &mut self,
        mem: &<Self::Dev as GpuDevice>::Mem,
        offset: usize,
        out: &mut [u8],
    ) -> BackendResult<()>;
    /// Sets the first `bytes` bytes of `mem` to zero.
    fn zero_bytes(
        &mut self,
        mem: &mut <Self::Dev as GpuDevice>::Mem,
        bytes: usize,
    ) -> BackendResult<()>;
    /// Copies the first `bytes` bytes of `src` to the start of `dst` on the device.
    fn copy_bytes(
        &mut self,
        src: &<Self::Dev as GpuDevice>::Mem,
        dst: &mut <Self::Dev as GpuDevice>::Mem,
        bytes: usize,
    ) -> BackendResult<()>;
    /// Waits for everything issued.
    fn finish(&mut self) -> BackendResult<()>;

    /// Copies `data` into `buf` from element `offset`.
    fn write<T: bytemuck::Pod>(
        &mut self,
        buf: &mut DeviceVec<Self::Dev, T>,
        offset: usize,
        data: &[T],
    ) -> BackendResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        let r = byte_range::<T>(buf.len, offset, data.len(), "upload")?;
        self.write_bytes(&mut buf.mem, r.start, bytemuck::cast_slice(data))
    }

    /// Copies `out.len()` elements of `buf` from element `offset` into `out`, after
    /// everything issued before.
    fn read<T: bytemuck::Pod>(
        &mut self,
        buf: &DeviceVec<Self::Dev, T>,
        offset: usize,
        out: &mut [T],
    ) -> BackendResult<()> {
        if out.is_empty() {
            return self.finish();
        }
        let r = byte_range::<T>(buf.len, offset, out.len(), "download")?;
        self.read_bytes(&buf.mem, r.start, bytemuck::cast_slice_mut(out))
    }

    /// Sets the first `len` elements of `buf` to zero.
    fn zero<T>(&mut self, buf: &mut DeviceVec<Self::Dev, T>, len: usize) -> BackendResult<()> {
        if len == 0 {
            return Ok(());
        }
        let r = byte_range::<T>(buf.len, 0, len, "fill")?;
        self.zero_bytes(&mut buf.mem, r.end)
    }

    /// Copies the first `len` elements of `src` to `dst`.
    fn copy<T>(
        &mut self,
        src: &DeviceVec<Self::Dev, T>,
        dst: &mut DeviceVec<Self::Dev, T>,
        len: usize,
    ) -> BackendResult<()> {
        if len == 0 {
            return Ok(());
        }
        byte_range::<T>(src.len, 0, len, "device copy")?;
        let r = byte_range::<T>(dst.len, 0, len, "device copy")?;
        self.copy_bytes(&src.mem, &mut dst.mem, r.end)
    }
}

/// The byte range of elements `offset .. offset + count` of a buffer of `len` elements of
/// `T`; an error (not a panic) when it does not lie within the buffer.
fn byte_range<T>(
    len: usize,
    offset: usize,
    count: usize,
    what: &str,
) -> BackendResult<std::ops::Range<usize>> {
    match offset.checked_add(count).filter(|&e| e <= len) {
        Some(end) => Ok(offset * size_of::<T>()..end * size_of::<T>()),
        None => Err(BackendError::Other(format!(
            "{what}: elements {offset}..{offset}+{count} outside a buffer of {len}"
        ))),
    }
}

/// A device allocation seen from the host as `len` elements of `T`.
pub struct DeviceVec<D: GpuDevice, T> {
    mem: D::Mem,
    len: usize,
    _t: PhantomData<fn() -> T>,
}

impl<D: GpuDevice, T> DeviceVec<D, T> {
    fn new(mem: D::Mem, len: usize) -> Self {
        Self {
            mem,
            len,
            _t: PhantomData,
        }
    }

    /// Elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the buffer holds no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The buffer as a kernel argument.
    pub fn arg(&self) -> Arg<'_, D> {
        Arg::Mem(&self.mem)
    }
}

/// A value passed to a kernel: the launch sites mirror the kernel signatures in
/// `kernels/gpu/` (a global pointer per buffer, a `u32` per scalar).
pub enum Arg<'a, D: GpuDevice> {
    /// A buffer.
    Mem(&'a D::Mem),
    /// A 32-bit unsigned integer.
    U32(u32),
}

impl<D: GpuDevice> Clone for Arg<'_, D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<D: GpuDevice> Copy for Arg<'_, D> {}

/// A complete backend on one device: the operations of this module behind
/// [`zkaccel_backend::Backend`].
pub struct GpuBackend<D: GpuDevice> {
    info: DeviceInfo,
    dev: Arc<D>,
}

impl<D: GpuDevice> GpuBackend<D> {
    /// The backend on `dev`, described by `info`.
    pub fn new(info: DeviceInfo, dev: D) -> Self {
        Self {
            info,
            dev: Arc::new(dev),
        }
    }

    /// The device.
    pub fn device(&self) -> &Arc<D> {
        &self.dev
    }
}

impl<D: GpuDevice> std::fmt::Debug for GpuBackend<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuBackend")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<D: GpuDevice> Backend for GpuBackend<D> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            msm: CurveGroupId::ALL
                .iter()
                .filter(|&&id| msm::program(&*self.dev, id).is_ok())
                .map(|&id| MsmCapability {
                    id,
                    // Chunks of at most 2^31 - 1 points (entry indices are 31 bits); any
                    // number of chunks.
                    max_len: usize::MAX,
                })
                .collect(),
            ntt: ntt::capabilities(&*self.dev),
            hash: hash::capabilities(&*self.dev),
            resident_bases: true,
        }
    }

    fn msm(&self, bases: &RawPoints<'_>, scalars: &RawScalars<'_>) -> BackendResult<RawPoint> {
        if bases.len() != scalars.len() {
            return Err(BackendError::BadInput(format!(
                "{} bases but {} scalars",
                bases.len(),
                scalars.len()
            )));
        }
        msm::msm(&*self.dev, bases, scalars)
    }

    fn prepare_bases(&self, bases: &RawPoints<'_>) -> BackendResult<Arc<dyn PreparedBases>> {
        msm::prepare(&self.dev, bases)
    }

    fn hash(&self, id: HashId, op: HashOp, input: &[u8], output: &mut [u8]) -> BackendResult<()> {
        hash::hash(&*self.dev, id, op, input, output)
    }

    fn ntt_domain(&self, spec: &NttDomainSpec) -> BackendResult<Arc<dyn BackendNttDomain>> {
        ntt::domain(&self.dev, spec)
    }
}

/// Implements [`zkaccel_backend::Backend`] for a backend type by forwarding every method to
/// its [`GpuBackend`] field: `forward_backend!(OpenClBackend, gpu)`.
#[macro_export]
macro_rules! forward_backend {
    ($ty:ty, $field:ident) => {
        impl ::zkaccel_backend::Backend for $ty {
            fn info(&self) -> &::zkaccel_backend::DeviceInfo {
                self.$field.info()
            }
            fn capabilities(&self) -> ::zkaccel_backend::Capabilities {
                self.$field.capabilities()
            }
            fn msm(
                &self,
                bases: &::zkaccel_backend::RawPoints<'_>,
                scalars: &::zkaccel_backend::RawScalars<'_>,
            ) -> ::zkaccel_backend::BackendResult<::zkaccel_backend::RawPoint> {
                self.$field.msm(bases, scalars)
            }
            fn prepare_bases(
                &self,
                bases: &::zkaccel_backend::RawPoints<'_>,
            ) -> ::zkaccel_backend::BackendResult<
                ::std::sync::Arc<dyn ::zkaccel_backend::PreparedBases>,
            > {
                self.$field.prepare_bases(bases)
            }
            fn hash(
                &self,
                id: ::zkaccel_backend::hash::HashId,
                op: ::zkaccel_backend::HashOp,
                input: &[u8],
                output: &mut [u8],
            ) -> ::zkaccel_backend::BackendResult<()> {
                self.$field.hash(id, op, input, output)
            }
            fn ntt_domain(
                &self,
                spec: &::zkaccel_backend::NttDomainSpec,
            ) -> ::zkaccel_backend::BackendResult<
                ::std::sync::Arc<dyn ::zkaccel_backend::BackendNttDomain>,
            > {
                self.$field.ntt_domain(spec)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_are_checked() {
        assert_eq!(byte_range::<u32>(10, 2, 3, "x").ok(), Some(8..20));
        assert_eq!(byte_range::<u32>(10, 7, 3, "x").ok(), Some(28..40));
        assert!(byte_range::<u32>(10, 8, 3, "x").is_err());
        assert!(byte_range::<u64>(10, usize::MAX, 1, "x").is_err());
    }
}
