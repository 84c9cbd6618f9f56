//! One OpenCL device: its context and queue, program building with the disk cache, buffers,
//! transfers and launches.
//!
//! Every operation takes a [`Session`], which holds the device's lock for the operation's
//! duration: kernels objects are not thread-safe (`clSetKernelArg`), and one in-order queue
//! per device keeps each operation's launches and transfers in sequence. Buffers belong to
//! the context and may outlive sessions (prepared MSM bases, NTT twiddles).

use crate::cache::BinaryCache;
use crate::error::{code_name, map};
use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::device::Device;
use opencl3::error_codes::ClError;
use opencl3::kernel::Kernel;
use opencl3::memory::{Buffer, ClMem, CL_MEM_COPY_HOST_PTR, CL_MEM_READ_WRITE};
use opencl3::program::Program;
use opencl3::types::{cl_mem, CL_BLOCKING};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use zkaccel_backend::{BackendError, BackendResult};
use zkaccel_kernels::ProgramSource;

/// Build options for every program (the kernels are written for OpenCL C 1.2).
const BUILD_OPTIONS: &str = "-cl-std=CL1.2";

/// How programs were obtained, for tests and reports.
#[derive(Debug, Default)]
pub struct ProgramCounters {
    /// Programs compiled from source.
    pub compiled: AtomicU64,
    /// Programs loaded from the disk cache.
    pub loaded: AtomicU64,
}

#[derive(Default)]
struct State {
    programs: HashMap<String, Program>,
    kernels: HashMap<(String, String), Kernel>,
}

/// An OpenCL device ready for work.
pub(crate) struct Ctx {
    pub(crate) device: Device,
    context: Context,
    queue: CommandQueue,
    /// Largest single buffer, bytes (the device's limit, or a lower one from the options).
    pub(crate) max_alloc: u64,
    /// Largest work-group.
    pub(crate) max_work_group: usize,
    /// Local memory per work-group, bytes.
    pub(crate) local_mem: u64,
    device_key: String,
    cache: Option<BinaryCache>,
    state: Mutex<State>,
    pub(crate) counters: ProgramCounters,
}

impl Ctx {
    pub(crate) fn new(
        device: Device,
        platform_key: &str,
        max_alloc_override: Option<u64>,
        cache: Option<BinaryCache>,
    ) -> BackendResult<Self> {
        let what = "context creation";
        let context = Context::from_device(&device).map_err(|e| map(e, what, 0))?;
        // SAFETY: the device is the context's only device.
        let queue = unsafe { CommandQueue::create(&context, device.id(), 0) }
            .map_err(|e| map(e, "command queue creation", 0))?;
        let dev_max = device.max_mem_alloc_size().map_err(|e| map(e, what, 0))?;
        let max_alloc =
            max_alloc_override.map_or(dev_max, |m| m.clamp(1 << 12, dev_max.max(1 << 12)));
        let device_key = format!(
            "{platform_key}|{}|{}|{}",
            device.name().unwrap_or_default(),
            device.version().unwrap_or_default(),
            device.driver_version().unwrap_or_default()
        );
        Ok(Self {
            max_work_group: device.max_work_group_size().unwrap_or(64).max(1),
            local_mem: device.local_mem_size().unwrap_or(16 << 10),
            device,
            context,
            queue,
            max_alloc,
            device_key,
            cache,
            state: Mutex::new(State::default()),
            counters: ProgramCounters::default(),
        })
    }

    /// Takes the device for one operation.
    pub(crate) fn session(&self) -> Session<'_> {
        Session {
            ctx: self,
            // A panic while holding the lock leaves only caches behind: keep going.
            state: self.state.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    fn build(&self, src: &ProgramSource) -> BackendResult<Program> {
        let key = format!(
            "{}|{BUILD_OPTIONS}|{}|{:016x}",
            self.device_key,
            src.name,
            zkaccel_kernels::stable_hash(&[src.text.as_bytes()])
        );
        if let Some(bin) = self.cache.as_ref().and_then(|c| c.load(&key)) {
            match Program::create_and_build_from_binary(&self.context, &[&bin], BUILD_OPTIONS) {
                Ok(p) => {
                    self.counters.loaded.fetch_add(1, Ordering::Relaxed);
                    return Ok(p);
                }
                Err(e) => tracing::debug!("cached binary for {} refused: {e}", src.name),
            }
        }
        let mut program = Program::create_from_source(&self.context, &src.text)
            .map_err(|e| map(e, &src.name, 0))?;
        let started = std::time::Instant::now();
        if let Err(e) = program.build(self.context.devices(), BUILD_OPTIONS) {
            let log = program.get_build_log(self.device.id()).unwrap_or_default();
            let path = std::env::temp_dir().join(format!(
                "zkaccel-opencl-{}-{:016x}.cl",
                src.name,
                zkaccel_kernels::stable_hash(&[src.text.as_bytes()])
            ));
            let saved = match std::fs::write(&path, &src.text) {
                Ok(()) => format!("source written to {}", path.display()),
                Err(_) => "source not saved".to_string(),
            };
            return Err(BackendError::Compile {
                kernel: src.name.clone(),
                log: format!(
                    "{} with options '{BUILD_OPTIONS}' ({saved}):\n{log}",
                    code_name(e.0)
                ),
            });
        }
        tracing::debug!("built {} in {:?}", src.name, started.elapsed());
        self.counters.compiled.fetch_add(1, Ordering::Relaxed);
        if let Some(cache) = &self.cache {
            if let Ok(bins) = program.get_binaries() {
                if let Some(bin) = bins.first().filter(|b| !b.is_empty()) {
                    cache.store(&key, bin);
                }
            }
        }
        Ok(program)
    }

    fn check_alloc(&self, bytes: u64, what: &str) -> BackendResult<()> {
        if bytes > self.max_alloc {
            return Err(BackendError::OutOfMemory {
                requested: bytes,
                detail: format!(
                    "{what}: one buffer of {bytes} bytes exceeds the device's maximum \
                     allocation of {} bytes",
                    self.max_alloc
                ),
            });
        }
        Ok(())
    }

    /// A device buffer of `len` elements (at least one: OpenCL has no empty buffers).
    pub(crate) fn alloc<T>(&self, len: usize, what: &str) -> BackendResult<Buffer<T>> {
        let bytes = (len.max(1) * size_of::<T>()) as u64;
        self.check_alloc(bytes, what)?;
        // SAFETY: no host pointer is passed.
        unsafe {
            Buffer::<T>::create(
                &self.context,
                CL_MEM_READ_WRITE,
                len.max(1),
                std::ptr::null_mut(),
            )
        }
        .map_err(|e| map(e, what, bytes))
    }

    /// A device buffer holding a copy of `data` (one element of garbage when `data` is empty).
    pub(crate) fn upload<T: bytemuck::Pod>(
        &self,
        data: &[T],
        what: &str,
    ) -> BackendResult<Buffer<T>> {
        if data.is_empty() {
            return self.alloc(1, what);
        }
        let bytes = size_of_val(data) as u64;
        self.check_alloc(bytes, what)?;
        // SAFETY: with CL_MEM_COPY_HOST_PTR the driver copies `data.len()` elements from the
        // pointer during the call and never writes through it.
        unsafe {
            Buffer::<T>::create(
                &self.context,
                CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                data.len(),
                data.as_ptr() as *mut std::ffi::c_void,
            )
        }
        .map_err(|e| map(e, what, bytes))
    }
}

/// A value passed to a kernel.
#[derive(Clone, Copy)]
pub(crate) enum Arg<'a> {
    /// A buffer of any element type.
    Mem(cl_mem, std::marker::PhantomData<&'a ()>),
    /// A 32-bit unsigned integer.
    U32(u32),
}

/// Passes a buffer to a kernel.
pub(crate) fn mem<T>(b: &Buffer<T>) -> Arg<'_> {
    Arg::Mem(b.get(), std::marker::PhantomData)
}

/// The device, held for one operation.
pub(crate) struct Session<'a> {
    pub(crate) ctx: &'a Ctx,
    state: MutexGuard<'a, State>,
}

impl Session<'_> {
    /// Builds (or fetches) `src` and launches its kernel `name` over `global` work-items
    /// (rounded up to a multiple of `local` when given; kernels check their bounds).
    pub(crate) fn launch(
        &mut self,
        src: &ProgramSource,
        name: &str,
        global: usize,
        local: Option<usize>,
        args: &[Arg<'_>],
    ) -> BackendResult<()> {
        if global == 0 {
            return Ok(());
        }
        let pkey = src.name.clone();
        if !self.state.programs.contains_key(&pkey) {
            let p = self.ctx.build(src)?;
            self.state.programs.insert(pkey.clone(), p);
        }
        let kkey = (pkey.clone(), name.to_string());
        if !self.state.kernels.contains_key(&kkey) {
            let k = Kernel::create(&self.state.programs[&pkey], name)
                .map_err(|e| map(e, &format!("{}::{name}", src.name), 0))?;
            self.state.kernels.insert(kkey.clone(), k);
        }
        let kernel = &self.state.kernels[&kkey];
        let fail = |e: ClError| map(e, name, 0);
        for (i, a) in args.iter().enumerate() {
            let i = i as u32;
            // SAFETY: each value has the size and kind of the kernel's parameter `i` (the
            // launch sites mirror the kernel signatures in kernels/gpu/), and buffers are
            // live for the call (they are borrowed by `args`).
            unsafe {
                match a {
                    Arg::Mem(m, _) => kernel.set_arg(i, m),
                    Arg::U32(v) => kernel.set_arg(i, v),
                }
            }
            .map_err(fail)?;
        }
        let global = match local {
            Some(l) => global.div_ceil(l) * l,
            None => global,
        };
        let local_ptr = local
            .as_ref()
            .map_or(std::ptr::null(), |l| l as *const usize);
        // SAFETY: the kernel's arguments are all set above; sizes point to live locals.
        unsafe {
            self.ctx.queue.enqueue_nd_range_kernel(
                kernel.get(),
                1,
                std::ptr::null(),
                &global,
                local_ptr,
                &[],
            )
        }
        .map_err(fail)?;
        Ok(())
    }

    /// Copies `data` into `buf` at element `offset`.
    pub(crate) fn write<T: bytemuck::Pod>(
        &mut self,
        buf: &mut Buffer<T>,
        offset: usize,
        data: &[T],
    ) -> BackendResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        // SAFETY: blocking write of `data`, which outlives the call.
        unsafe {
            self.ctx.queue.enqueue_write_buffer(
                buf,
                CL_BLOCKING,
                offset * size_of::<T>(),
                data,
                &[],
            )
        }
        .map_err(|e| map(e, "upload", size_of_val(data) as u64))?;
        Ok(())
    }

    /// Copies `out.len()` elements of `buf`, from element `offset`, into `out` (waits for
    /// everything queued before).
    pub(crate) fn read<T: bytemuck::Pod>(
        &mut self,
        buf: &Buffer<T>,
        offset: usize,
        out: &mut [T],
    ) -> BackendResult<()> {
        if out.is_empty() {
            return self.finish();
        }
        // SAFETY: blocking read into `out`, which outlives the call.
        unsafe {
            self.ctx
                .queue
                .enqueue_read_buffer(buf, CL_BLOCKING, offset * size_of::<T>(), out, &[])
        }
        .map_err(|e| map(e, "download", size_of_val(out) as u64))?;
        Ok(())
    }

    /// Sets the first `len` words of `buf` to zero.
    pub(crate) fn zero(&mut self, buf: &mut Buffer<u32>, len: usize) -> BackendResult<()> {
        if len == 0 {
            return Ok(());
        }
        let bytes = len * size_of::<u32>();
        // SAFETY: a fill of `len` words within the buffer (callers size it).
        unsafe {
            self.ctx
                .queue
                .enqueue_fill_buffer(buf, &[0u32], 0, bytes, &[])
        }
        .map_err(|e| map(e, "fill", bytes as u64))?;
        Ok(())
    }

    /// Copies `len` elements from `src` to `dst` on the device.
    pub(crate) fn copy<T>(
        &mut self,
        src: &Buffer<T>,
        dst: &mut Buffer<T>,
        len: usize,
    ) -> BackendResult<()> {
        if len == 0 {
            return Ok(());
        }
        let bytes = len * size_of::<T>();
        // SAFETY: both ranges lie within their buffers (callers size them).
        unsafe {
            self.ctx
                .queue
                .enqueue_copy_buffer(src, dst, 0, 0, bytes, &[])
        }
        .map_err(|e| map(e, "device copy", bytes as u64))?;
        Ok(())
    }

    /// Waits for everything queued.
    pub(crate) fn finish(&mut self) -> BackendResult<()> {
        self.ctx.queue.finish().map_err(|e| map(e, "finish", 0))
    }
}
