//! One OpenCL device: its context and queue, program building with the disk cache, buffers,
//! transfers and launches — the [`GpuDevice`] the shared host code
//! (`zkaccel_kernels::host`) drives.
//!
//! Every operation takes a [`Session`], which holds the device's lock for the operation's
//! duration: kernels objects are not thread-safe (`clSetKernelArg`), and one in-order queue
//! per device keeps each operation's launches and transfers in sequence. Buffers belong to
//! the context and may outlive sessions (prepared MSM bases, NTT twiddles).

use crate::error::{code_name, map};
use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::device::Device;
use opencl3::error_codes::ClError;
use opencl3::kernel::Kernel;
use opencl3::memory::{Buffer, ClMem, CL_MEM_COPY_HOST_PTR, CL_MEM_READ_WRITE};
use opencl3::program::Program;
use opencl3::types::CL_BLOCKING;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use zkaccel_backend::{BackendError, BackendResult};
use zkaccel_kernels::host::{Arg, BinaryCache, GpuDevice, GpuSession, Limits};
use zkaccel_kernels::{ProgramSource, Target};

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
pub struct Ctx {
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
            let saved = src.save_for_log();
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
}

impl GpuDevice for Ctx {
    type Mem = Buffer<u8>;
    type Session<'a> = Session<'a>;

    fn target(&self) -> Target {
        Target::OpenCl
    }

    fn limits(&self) -> Limits {
        Limits {
            max_alloc: self.max_alloc,
            max_work_group: self.max_work_group,
            local_mem: self.local_mem,
        }
    }

    fn alloc_bytes(&self, bytes: usize, what: &str) -> BackendResult<Buffer<u8>> {
        // SAFETY: no host pointer is passed.
        unsafe {
            Buffer::<u8>::create(
                &self.context,
                CL_MEM_READ_WRITE,
                bytes.max(1),
                std::ptr::null_mut(),
            )
        }
        .map_err(|e| map(e, what, bytes as u64))
    }

    fn upload_bytes(&self, data: &[u8], what: &str) -> BackendResult<Buffer<u8>> {
        if data.is_empty() {
            return self.alloc_bytes(1, what);
        }
        // SAFETY: with CL_MEM_COPY_HOST_PTR the driver copies `data.len()` bytes from the
        // pointer during the call and never writes through it.
        unsafe {
            Buffer::<u8>::create(
                &self.context,
                CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                data.len(),
                data.as_ptr() as *mut std::ffi::c_void,
            )
        }
        .map_err(|e| map(e, what, data.len() as u64))
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

impl GpuSession for Session<'_> {
    type Dev = Ctx;

    fn dev(&self) -> &Ctx {
        self.ctx
    }

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
                    Arg::Mem(m) => kernel.set_arg(i, &m.get()),
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

    fn write_bytes(
        &mut self,
        mem: &mut Buffer<u8>,
        offset: usize,
        data: &[u8],
    ) -> BackendResult<()> {
        // SAFETY: blocking write of `data`, which outlives the call, into a range the caller
        // checked to lie within the buffer.
        unsafe {
            self.ctx
                .queue
                .enqueue_write_buffer(mem, CL_BLOCKING, offset, data, &[])
        }
        .map_err(|e| map(e, "upload", data.len() as u64))?;
        Ok(())
    }

    fn read_bytes(&mut self, mem: &Buffer<u8>, offset: usize, out: &mut [u8]) -> BackendResult<()> {
        // SAFETY: blocking read into `out`, which outlives the call, from a range the caller
        // checked to lie within the buffer.
        unsafe {
            self.ctx
                .queue
                .enqueue_read_buffer(mem, CL_BLOCKING, offset, out, &[])
        }
        .map_err(|e| map(e, "download", out.len() as u64))?;
        Ok(())
    }

    fn zero_bytes(&mut self, mem: &mut Buffer<u8>, bytes: usize) -> BackendResult<()> {
        // SAFETY: a fill of `bytes` bytes within the buffer (the caller checked the range).
        unsafe {
            self.ctx
                .queue
                .enqueue_fill_buffer(mem, &[0u8], 0, bytes, &[])
        }
        .map_err(|e| map(e, "fill", bytes as u64))?;
        Ok(())
    }

    fn copy_bytes(
        &mut self,
        src: &Buffer<u8>,
        dst: &mut Buffer<u8>,
        bytes: usize,
    ) -> BackendResult<()> {
        // SAFETY: both ranges lie within their buffers (the caller checked them).
        unsafe {
            self.ctx
                .queue
                .enqueue_copy_buffer(src, dst, 0, 0, bytes, &[])
        }
        .map_err(|e| map(e, "device copy", bytes as u64))?;
        Ok(())
    }

    fn finish(&mut self) -> BackendResult<()> {
        self.ctx.queue.finish().map_err(|e| map(e, "finish", 0))
    }
}
