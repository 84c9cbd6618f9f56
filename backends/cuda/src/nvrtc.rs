//! Compiling programs with NVRTC: CUDA C++ text to a cubin (machine code for one
//! architecture) or to PTX (for the driver to finish).
//!
//! This needs only NVRTC, not a GPU: the crate's test `nvrtc_compile` compiles every
//! program for `sm_80` and `sm_90` on machines without one (CI installs NVRTC from PyPI).
//!
//! For a device, [`Arch::image_for`] picks a cubin for the device's own architecture when
//! NVRTC knows it, so the result loads on any driver of the same major version whatever
//! NVRTC's minor version; for an architecture newer than NVRTC it picks PTX for the newest
//! virtual architecture NVRTC has below it, which the driver compiles on load.

use crate::libs;
use cudarc::nvrtc::sys::{self, nvrtcProgram, nvrtcResult};
use std::ffi::{c_char, CString};
use zkaccel_backend::{BackendError, BackendResult};
use zkaccel_kernels::host::BinaryCache;
use zkaccel_kernels::ProgramSource;

/// A GPU architecture (compute capability), e.g. 9.0 for H100/H200.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arch {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl Arch {
    /// `sm_80`: A100.
    pub const SM_80: Arch = Arch::new(8, 0);
    /// `sm_90`: H100, H200.
    pub const SM_90: Arch = Arch::new(9, 0);

    /// The architecture `major.minor`.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }

    /// NVRTC's number for it (`90` for 9.0).
    pub fn number(self) -> u32 {
        self.major * 10 + self.minor
    }

    /// What to compile for a device of this architecture given the architectures NVRTC
    /// supports (see the module documentation); `None` when NVRTC knows none at or below it.
    pub fn image_for(self, supported: &[Arch]) -> Option<(Arch, ImageKind)> {
        if supported.contains(&self) {
            return Some((self, ImageKind::Cubin));
        }
        supported
            .iter()
            .copied()
            .filter(|&a| a < self)
            .max()
            .map(|a| (a, ImageKind::Ptx))
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The kind of image NVRTC produces.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ImageKind {
    /// Machine code for exactly one architecture (`--gpu-architecture=sm_XY`).
    Cubin,
    /// PTX for a virtual architecture (`--gpu-architecture=compute_XY`), finished by the
    /// driver when loaded; the image ends with a NUL byte, as the driver wants.
    Ptx,
}

/// A compiled program.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The cubin or the PTX (NUL-terminated).
    pub image: Vec<u8>,
    /// Which of the two.
    pub kind: ImageKind,
    /// The architecture compiled for.
    pub arch: Arch,
    /// NVRTC's log (warnings; usually empty).
    pub log: String,
}

/// The NVRTC options for `arch` and `kind`.
pub fn options(arch: Arch, kind: ImageKind) -> Vec<String> {
    let prefix = match kind {
        ImageKind::Cubin => "sm",
        ImageKind::Ptx => "compute",
    };
    vec![
        format!("--gpu-architecture={prefix}_{}", arch.number()),
        "--std=c++17".to_string(),
        // "declared but never referenced": every program instantiates whole field and curve
        // templates and uses part of them.
        "--diag-suppress=177".to_string(),
    ]
}

/// NVRTC's version, loading NVRTC if needed.
pub fn version() -> Result<(u32, u32), String> {
    libs::nvrtc().map(|l| l.version)
}

/// The real architectures NVRTC can compile cubins for.
pub fn supported_archs() -> Result<Vec<Arch>, String> {
    libs::nvrtc()?;
    let mut n = 0;
    // SAFETY: NVRTC is loaded (above); `n` is a live local.
    check(unsafe { sys::nvrtcGetNumSupportedArchs(&mut n) }).map_err(|e| e.to_string())?;
    let mut archs = vec![0i32; n.max(0) as usize];
    // SAFETY: the buffer has room for the `n` entries NVRTC reported.
    check(unsafe { sys::nvrtcGetSupportedArchs(archs.as_mut_ptr()) }).map_err(|e| e.to_string())?;
    Ok(archs
        .into_iter()
        .filter(|&a| a > 0)
        .map(|a| Arch::new(a as u32 / 10, a as u32 % 10))
        .collect())
}

/// A failed NVRTC call.
#[derive(Debug, Clone, Copy)]
struct NvrtcError(nvrtcResult);

impl std::fmt::Display for NvrtcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

fn check(r: nvrtcResult) -> Result<(), NvrtcError> {
    if r == nvrtcResult::NVRTC_SUCCESS {
        Ok(())
    } else {
        Err(NvrtcError(r))
    }
}

/// An NVRTC program, destroyed on drop.
struct Program(nvrtcProgram);

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: the handle came from nvrtcCreateProgram and is destroyed only here.
        let r = unsafe { sys::nvrtcDestroyProgram(&mut self.0) };
        if r != nvrtcResult::NVRTC_SUCCESS {
            tracing::debug!("nvrtcDestroyProgram: {r:?}");
        }
    }
}

impl Program {
    /// Reads one of NVRTC's outputs through its (size, copy) pair of calls.
    fn output(
        &self,
        size: unsafe fn(nvrtcProgram, *mut usize) -> nvrtcResult,
        copy: unsafe fn(nvrtcProgram, *mut c_char) -> nvrtcResult,
    ) -> Result<Vec<u8>, NvrtcError> {
        let mut n = 0usize;
        // SAFETY: a live program handle and a live local.
        check(unsafe { size(self.0, &mut n) })?;
        let mut buf = vec![0u8; n];
        // SAFETY: the buffer has the size NVRTC just reported for this output.
        check(unsafe { copy(self.0, buf.as_mut_ptr().cast()) })?;
        Ok(buf)
    }

    fn log(&self) -> String {
        self.output(sys::nvrtcGetProgramLogSize, sys::nvrtcGetProgramLog)
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .trim_end_matches('\0')
                    .trim_end()
                    .to_string()
            })
            .unwrap_or_default()
    }
}

/// Compiles `src` for `arch` into a cubin or PTX. A compilation failure returns
/// [`BackendError::Compile`] with the program's name, the options and NVRTC's log (and the
/// source written to the temporary directory, to read the log's line numbers against).
pub fn compile(src: &ProgramSource, arch: Arch, kind: ImageKind) -> BackendResult<Compiled> {
    let unavailable = |e: String| BackendError::Compile {
        kernel: src.name.clone(),
        log: format!("NVRTC unavailable: {e}"),
    };
    libs::nvrtc().map_err(|e| unavailable(e.to_string()))?;
    let fail = |what: &str, e: NvrtcError| BackendError::Compile {
        kernel: src.name.clone(),
        log: format!("{what}: {e}"),
    };
    let text = CString::new(src.text.as_str()).map_err(|_| BackendError::Compile {
        kernel: src.name.clone(),
        log: "the program text contains a NUL byte".into(),
    })?;
    let name = CString::new(format!("{}.cu", src.name)).map_err(|_| BackendError::Compile {
        kernel: src.name.clone(),
        log: "the program name contains a NUL byte".into(),
    })?;
    let opts = options(arch, kind);
    let copts: Vec<CString> = opts
        .iter()
        .filter_map(|o| CString::new(o.as_str()).ok())
        .collect();
    let ptrs: Vec<*const c_char> = copts.iter().map(|o| o.as_ptr()).collect();

    // NVRTC calls are serialised: its documentation does not promise that compilations may
    // run concurrently, and compiling is rare (programs are cached in memory and on disk).
    static NVRTC_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = NVRTC_LOCK.lock().unwrap_or_else(|e| e.into_inner());

    let mut handle: nvrtcProgram = std::ptr::null_mut();
    // SAFETY: `text` and `name` are NUL-terminated and outlive the program (NVRTC copies
    // them); no headers are passed (count 0, null arrays).
    check(unsafe {
        sys::nvrtcCreateProgram(
            &mut handle,
            text.as_ptr(),
            name.as_ptr(),
            0,
            std::ptr::null(),
            std::ptr::null(),
        )
    })
    .map_err(|e| fail("nvrtcCreateProgram", e))?;
    let prog = Program(handle);
    let started = std::time::Instant::now();
    // SAFETY: a live program; `ptrs` holds `ptrs.len()` NUL-terminated strings that outlive
    // the call.
    let r = check(unsafe { sys::nvrtcCompileProgram(prog.0, ptrs.len() as i32, ptrs.as_ptr()) });
    let log = prog.log();
    if let Err(e) = r {
        let saved = src.save_for_log();
        return Err(BackendError::Compile {
            kernel: src.name.clone(),
            log: format!(
                "NVRTC {e} for {} with options '{}' ({saved}):\n{log}",
                arch,
                opts.join(" ")
            ),
        });
    }
    let image = match kind {
        ImageKind::Cubin => prog.output(sys::nvrtcGetCUBINSize, sys::nvrtcGetCUBIN),
        ImageKind::Ptx => prog
            .output(sys::nvrtcGetPTXSize, sys::nvrtcGetPTX)
            .map(|mut p| {
                // The driver reads PTX up to its NUL.
                if p.last() != Some(&0) {
                    p.push(0);
                }
                p
            }),
    }
    .map_err(|e| fail("reading the compiled image", e))?;
    tracing::debug!(
        "NVRTC compiled {} for {arch} ({kind:?}, {} bytes) in {:?}",
        src.name,
        image.len(),
        started.elapsed()
    );
    Ok(Compiled {
        image,
        kind,
        arch,
        log,
    })
}

/// Where [`compile_cached`] got an image from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// NVRTC compiled it now (and it was stored in the cache, if any).
    Compiled,
    /// The disk cache had it: NVRTC compiled the identical text with the identical options
    /// and NVRTC version before.
    Cache,
}

/// [`compile`] through the disk cache: the image stored under the program's key (its name,
/// a hash of its text, `arch`, `kind`, the options and NVRTC's version, see [`key`]) when
/// there is one, else a fresh compilation, stored on success.
/// A compilation that fails is never cached, so a cache hit proves that the program
/// compiles.
pub fn compile_cached(
    src: &ProgramSource,
    arch: Arch,
    kind: ImageKind,
    cache: Option<&BinaryCache>,
) -> BackendResult<(Compiled, Origin)> {
    let key = cache_key(src, arch, kind)?;
    if let Some(image) = cache.and_then(|c| c.load(&key)) {
        let c = Compiled {
            image,
            kind,
            arch,
            log: String::new(),
        };
        return Ok((c, Origin::Cache));
    }
    let c = compile(src, arch, kind)?;
    if let Some(cache) = cache {
        cache.store(&key, &c.image);
    }
    Ok((c, Origin::Compiled))
}

/// The cache key of `src` compiled for `arch` into `kind` by the NVRTC in use.
pub(crate) fn cache_key(src: &ProgramSource, arch: Arch, kind: ImageKind) -> BackendResult<String> {
    let version = version().map_err(|e| BackendError::Compile {
        kernel: src.name.clone(),
        log: format!("NVRTC unavailable: {e}"),
    })?;
    Ok(key(
        &src.name,
        &src.text,
        arch,
        kind,
        &options(arch, kind),
        version,
    ))
}

/// The cache key of a program: its name, a hash of its text, the architecture and image
/// kind, the NVRTC options and NVRTC's version. Keys never contain a newline.
pub fn key(
    name: &str,
    text: &str,
    arch: Arch,
    kind: ImageKind,
    options: &[String],
    nvrtc_version: (u32, u32),
) -> String {
    let (major, minor) = nvrtc_version;
    format!(
        "{name}|{:016x}|{arch}|{kind:?}|{}|nvrtc {major}.{minor}",
        zkaccel_kernels::stable_hash(&[text.as_bytes()]),
        options.join(" ")
    )
    .replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_source_arch_kind_and_version() {
        let opts = vec!["--gpu-architecture=sm_90".to_string()];
        let k = |text: &str, arch, kind, v| key("p", text, arch, kind, &opts, v);
        let base = k("a", Arch::SM_90, ImageKind::Cubin, (12, 9));
        assert_ne!(base, k("b", Arch::SM_90, ImageKind::Cubin, (12, 9)));
        assert_ne!(base, k("a", Arch::SM_80, ImageKind::Cubin, (12, 9)));
        assert_ne!(base, k("a", Arch::SM_90, ImageKind::Ptx, (12, 9)));
        assert_ne!(base, k("a", Arch::SM_90, ImageKind::Cubin, (12, 8)));
        assert!(!base.contains('\n'));
    }

    #[test]
    fn image_choice() {
        let supported = [Arch::new(7, 5), Arch::SM_80, Arch::new(8, 6), Arch::SM_90];
        assert_eq!(
            Arch::SM_90.image_for(&supported),
            Some((Arch::SM_90, ImageKind::Cubin))
        );
        // A newer device than NVRTC knows: PTX for the newest architecture below it.
        assert_eq!(
            Arch::new(10, 0).image_for(&supported),
            Some((Arch::SM_90, ImageKind::Ptx))
        );
        assert_eq!(
            Arch::new(8, 9).image_for(&supported),
            Some((Arch::new(8, 6), ImageKind::Ptx))
        );
        assert_eq!(Arch::new(7, 0).image_for(&supported), None);
        assert_eq!(
            options(Arch::SM_80, ImageKind::Ptx)[0],
            "--gpu-architecture=compute_80"
        );
        assert_eq!(Arch::new(12, 0).number(), 120);
    }
}
