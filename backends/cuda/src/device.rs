//! One CUDA device: its context and stream, program building with the disk cache, buffers,
//! transfers and launches — the [`GpuDevice`] the shared host code
//! (`zkaccel_kernels::host`) drives, exactly as it drives the OpenCL backend's.
//!
//! Every operation takes a [`Session`], which holds the device's lock for the operation's
//! duration: one stream per device keeps each operation's launches and transfers in
//! sequence, as OpenCL's in-order queue does. Buffers belong to the context and may outlive
//! sessions (prepared MSM bases, NTT twiddles); they are freed in stream order.
//!
//! Launch geometry: the OpenCL code's `Some(local)` is the CUDA block size; `None` picks
//! [`DEFAULT_BLOCK`] threads, fewer when the compiled kernel cannot run that many (its
//! register use limits `CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK`). The grid is the global
//! size rounded up to whole blocks; kernels check their bounds.

use crate::error::map;
use crate::nvrtc::{self, Arch, ImageKind, Origin};
use cudarc::driver::sys::CUfunction_attribute_enum;
use cudarc::driver::{
    CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, DriverError, LaunchConfig,
    PushKernelArg,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use zkaccel_backend::{BackendError, BackendResult};
use zkaccel_kernels::host::{Arg, BinaryCache, GpuDevice, GpuSession, Limits};
use zkaccel_kernels::{ProgramSource, Target};

/// Block size of launches that leave it to the backend (`local = None`).
pub(crate) const DEFAULT_BLOCK: usize = 256;

/// How programs were obtained, for tests and reports.
#[derive(Debug, Default)]
pub struct ProgramCounters {
    /// Programs compiled by NVRTC.
    pub compiled: AtomicU64,
    /// Programs loaded from the disk cache.
    pub loaded: AtomicU64,
}

/// A loaded kernel and the most threads per block it can run.
#[derive(Clone)]
struct Function {
    func: CudaFunction,
    max_block: usize,
}

#[derive(Default)]
struct State {
    modules: HashMap<String, Arc<CudaModule>>,
    functions: HashMap<(String, String), Function>,
}

/// A CUDA device ready for work.
pub struct Ctx {
    context: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    /// What programs are compiled into for this device.
    pub(crate) target: (Arch, ImageKind),
    /// Largest single buffer, bytes.
    pub(crate) max_alloc: u64,
    /// Largest block.
    pub(crate) max_work_group: usize,
    /// Static shared memory per block, bytes.
    pub(crate) local_mem: u64,
    cache: Option<BinaryCache>,
    state: Mutex<State>,
    pub(crate) counters: ProgramCounters,
}

impl Ctx {
    pub(crate) fn new(
        context: Arc<CudaContext>,
        target: (Arch, ImageKind),
        max_alloc: u64,
        cache: Option<BinaryCache>,
    ) -> BackendResult<Self> {
        use cudarc::driver::sys::CUdevice_attribute_enum as A;
        let attr = |a: A| context.attribute(a).map_err(|e| map(e, "device query", 0));
        let max_work_group = attr(A::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK)?.max(1) as usize;
        let local_mem = attr(A::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK)?.max(0) as u64;
        // SAFETY: this backend uses one stream per context (created next) and orders every
        // use of a buffer on it, so cudarc's cross-stream events are not needed; the flag only
        // affects buffers allocated through this `CudaContext` value, all of which are ours.
        unsafe { context.disable_event_tracking() };
        let stream = context
            .new_stream()
            .map_err(|e| map(e, "stream creation", 0))?;
        Ok(Self {
            context,
            stream,
            target,
            max_alloc,
            max_work_group,
            local_mem,
            cache,
            state: Mutex::new(State::default()),
            counters: ProgramCounters::default(),
        })
    }

    fn load_image(&self, image: Vec<u8>) -> Result<Arc<CudaModule>, DriverError> {
        self.context
            .load_module(cudarc::nvrtc::Ptx::from_binary(image))
    }

    /// Compiles `src` for this device (or takes it from the disk cache) and loads it. A
    /// cached image the driver refuses is compiled afresh (and replaces the cached one).
    fn build(&self, src: &ProgramSource) -> BackendResult<Arc<CudaModule>> {
        let (arch, kind) = self.target;
        let (image, origin) = nvrtc::compile_cached(src, arch, kind, self.cache.as_ref())?;
        if !image.log.is_empty() {
            tracing::debug!("NVRTC log for {}:\n{}", src.name, image.log);
        }
        let module = match (self.load_image(image.image), origin) {
            (Ok(m), _) => m,
            (Err(e), Origin::Cache) => {
                tracing::debug!("cached image for {} refused: {e:?}", src.name);
                let fresh = nvrtc::compile(src, arch, kind)?;
                let m = self
                    .load_image(fresh.image.clone())
                    .map_err(|e| map(e, &src.name, 0))?;
                if let Some(cache) = &self.cache {
                    cache.store(&nvrtc::cache_key(src, arch, kind)?, &fresh.image);
                }
                self.counters.compiled.fetch_add(1, Ordering::Relaxed);
                return Ok(m);
            }
            (Err(e), Origin::Compiled) => return Err(map(e, &src.name, 0)),
        };
        let counter = match origin {
            Origin::Compiled => &self.counters.compiled,
            Origin::Cache => &self.counters.loaded,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(module)
    }
}

impl GpuDevice for Ctx {
    type Mem = CudaSlice<u8>;
    type Session<'a> = Session<'a>;

    fn target(&self) -> Target {
        Target::Cuda
    }

    fn limits(&self) -> Limits {
        Limits {
            max_alloc: self.max_alloc,
            max_work_group: self.max_work_group,
            local_mem: self.local_mem,
        }
    }

    fn alloc_bytes(&self, bytes: usize, what: &str) -> BackendResult<CudaSlice<u8>> {
        // SAFETY: the memory is left uninitialised; the shared host code writes every
        // buffer (upload, fill or kernel) before a kernel or a download reads it.
        unsafe { self.stream.alloc::<u8>(bytes.max(1)) }.map_err(|e| map(e, what, bytes as u64))
    }

    fn upload_bytes(&self, data: &[u8], what: &str) -> BackendResult<CudaSlice<u8>> {
        let mut buf = self.alloc_bytes(data.len(), what)?;
        if !data.is_empty() {
            self.stream
                .memcpy_htod(data, &mut buf.slice_mut(..data.len()))
                .map_err(|e| map(e, what, data.len() as u64))?;
        }
        Ok(buf)
    }

    fn session(&self) -> Session<'_> {
        Session {
            ctx: self,
            // A panic while holding the lock leaves only caches behind: keep going.
            state: self.state.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }
}

/// The device, held for one operation.
pub struct Session<'a> {
    ctx: &'a Ctx,
    state: MutexGuard<'a, State>,
}

impl Session<'_> {
    fn function(&mut self, src: &ProgramSource, name: &str) -> BackendResult<Function> {
        let fkey = (src.name.clone(), name.to_string());
        if let Some(f) = self.state.functions.get(&fkey) {
            return Ok(f.clone());
        }
        let module = match self.state.modules.get(&src.name) {
            Some(m) => m.clone(),
            None => {
                let m = self.ctx.build(src)?;
                self.state.modules.insert(src.name.clone(), m.clone());
                m
            }
        };
        let what = format!("{}::{name}", src.name);
        let func = module.load_function(name).map_err(|e| map(e, &what, 0))?;
        let max_block = func
            .get_attribute(CUfunction_attribute_enum::CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK)
            .map_err(|e| map(e, &what, 0))?
            .max(1) as usize;
        let f = Function { func, max_block };
        self.state.functions.insert(fkey, f.clone());
        Ok(f)
    }
}

impl GpuSession for Session<'_> {
    type Dev = Ctx;

    fn dev(&self) -> &Ctx {
        self.ctx
    }

    /// Launches `name` over `global` threads, in blocks of `local` threads when given (else
    /// [`DEFAULT_BLOCK`] or what the compiled kernel allows).
    fn launch(
        &mut self,
        src: &ProgramSource,
        name: &str,
        global: usize,
        local: Option<usize>,
        args: &[Arg<'_, Ctx>],
    ) -> BackendResult<()> {
        if global == 0 {
            return Ok(());
        }
        let f = self.function(src, name)?;
        let block = match local {
            Some(l) if l > f.max_block || l == 0 => {
                return Err(BackendError::Launch {
                    kernel: name.to_string(),
                    detail: format!(
                        "blocks of {l} threads requested, the compiled kernel allows at most {}",
                        f.max_block
                    ),
                })
            }
            Some(l) => l,
            None => DEFAULT_BLOCK.min(f.max_block),
        };
        let grid = global.div_ceil(block);
        if grid > i32::MAX as usize {
            return Err(BackendError::Launch {
                kernel: name.to_string(),
                detail: format!("{grid} blocks exceed the grid limit"),
            });
        }
        let cfg = LaunchConfig {
            grid_dim: (grid as u32, 1, 1),
            block_dim: (block as u32, 1, 1),
            shared_mem_bytes: 0,
        };
        let stream = &self.ctx.stream;
        let mut builder = stream.launch_builder(&f.func);
        for a in args {
            match a {
                Arg::Mem(m) => builder.arg(*m),
                Arg::U32(v) => builder.arg(v),
            };
        }
        // SAFETY: the arguments match the kernel's parameters in number, order and size (the
        // launch sites mirror the kernel signatures in kernels/gpu/: a device pointer per
        // buffer, a u32 per scalar); buffers are borrowed by `args` for the call and freed
        // only in stream order after it; kernels check their indices against the sizes
        // passed, which the callers derive from the buffers' lengths.
        unsafe { builder.launch(cfg) }.map_err(|e| map(e, name, 0))?;
        Ok(())
    }

    fn write_bytes(
        &mut self,
        mem: &mut CudaSlice<u8>,
        offset: usize,
        data: &[u8],
    ) -> BackendResult<()> {
        let range = offset..offset + data.len();
        self.ctx
            .stream
            .memcpy_htod(data, &mut mem.slice_mut(range))
            .map_err(|e| map(e, "upload", data.len() as u64))
    }

    fn read_bytes(
        &mut self,
        mem: &CudaSlice<u8>,
        offset: usize,
        out: &mut [u8],
    ) -> BackendResult<()> {
        let n = out.len();
        self.ctx
            .stream
            .memcpy_dtoh(&mem.slice(offset..offset + n), out)
            .map_err(|e| map(e, "download", n as u64))?;
        // The copy is asynchronous in the stream: wait for it before `out` is read.
        self.finish()
    }

    fn zero_bytes(&mut self, mem: &mut CudaSlice<u8>, bytes: usize) -> BackendResult<()> {
        self.ctx
            .stream
            .memset_zeros(&mut mem.slice_mut(..bytes))
            .map_err(|e| map(e, "fill", bytes as u64))
    }

    fn copy_bytes(
        &mut self,
        src: &CudaSlice<u8>,
        dst: &mut CudaSlice<u8>,
        bytes: usize,
    ) -> BackendResult<()> {
        self.ctx
            .stream
            .memcpy_dtod(&src.slice(..bytes), &mut dst.slice_mut(..bytes))
            .map_err(|e| map(e, "device copy", bytes as u64))
    }

    /// Waits for everything queued; also reports an error the driver returned to a call
    /// that could not return it (freeing a buffer on drop).
    fn finish(&mut self) -> BackendResult<()> {
        self.ctx
            .stream
            .synchronize()
            .map_err(|e| map(e, "synchronize", 0))?;
        self.ctx
            .context
            .check_err()
            .map_err(|e| map(e, "an earlier buffer release", 0))
    }
}
