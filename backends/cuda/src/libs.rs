//! Finding the CUDA driver library and NVRTC at run time.
//!
//! `cudarc` opens its libraries lazily, by file name, through the system loader, and panics
//! when none of its names is found. This module answers *before* any `cudarc` call whether
//! each library can be opened, so that a machine without CUDA gets a reason in an `Err`,
//! never a panic.
//!
//! # The driver (`libcuda.so.1`)
//!
//! Installed with the NVIDIA driver, in a directory the system loader searches: nothing to
//! configure. [`driver`] reports whether it opens.
//!
//! # NVRTC (`libnvrtc.so.12`)
//!
//! NVRTC is part of the CUDA toolkit, which a machine with a GPU driver often lacks; it is
//! also published on PyPI (`pip install nvidia-cuda-nvrtc-cu12`), which puts it in
//! `site-packages/nvidia/cuda_nvrtc/lib/`, a directory no loader searches. [`nvrtc`] looks,
//! in this order:
//!
//! 1. `ZKACCEL_NVRTC_PATH`: the library file itself, or a directory holding it (directly or
//!    in `lib/`, `lib64/`). When set it is the only place looked at, so a wrong value is an
//!    error rather than a silent fallback.
//! 2. Wherever the system loader finds it (`LD_LIBRARY_PATH`, `ldconfig`'s cache).
//! 3. `$CUDA_HOME`, `$CUDA_PATH` (their `lib64/` and `lib/`), `/usr/local/cuda/lib64`.
//! 4. The `nvidia/cuda_nvrtc/lib/` directory of Python's site-packages: first the usual
//!    locations (`$VIRTUAL_ENV`, `$CONDA_PREFIX`, `~/.local`, `/usr/local`, `/usr`), then
//!    the answer of `python3` itself (`$ZKACCEL_PYTHON` names another interpreter).
//!
//! A library found outside the loader's path is opened by its absolute path and kept open
//! for the life of the process. The loader then answers `cudarc`'s later request by file name
//! (`libnvrtc.so.12`) with that already-open library, as it matches loaded libraries by
//! their `SONAME`. NVRTC finds its companion `libnvrtc-builtins.so.12.*` next to itself.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Environment variable naming NVRTC's library file or its directory.
pub const NVRTC_PATH_ENV: &str = "ZKACCEL_NVRTC_PATH";

/// Environment variable naming the Python interpreter asked where `nvidia-cuda-nvrtc-cu12`
/// is installed (default `python3`).
pub const PYTHON_ENV: &str = "ZKACCEL_PYTHON";

/// File names NVRTC 12 has on Linux, preferred first. `cudarc` (built for CUDA 12) asks the
/// loader for `libnvrtc.so.12` among others, which is the `SONAME` of all of them.
const NVRTC_FILES: &[&str] = &["libnvrtc.so.12", "libnvrtc.so"];

/// How NVRTC was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NvrtcLibrary {
    /// The file opened by absolute path; `None` when the system loader found it by name.
    pub path: Option<PathBuf>,
    /// NVRTC's version, `(major, minor)`.
    pub version: (u32, u32),
}

impl std::fmt::Display for NvrtcLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (major, minor) = self.version;
        match &self.path {
            Some(p) => write!(f, "NVRTC {major}.{minor} ({})", p.display()),
            None => write!(f, "NVRTC {major}.{minor} (system loader)"),
        }
    }
}

/// Whether the CUDA driver library opens; `Err` says why not.
pub fn driver() -> Result<(), String> {
    static FOUND: OnceLock<bool> = OnceLock::new();
    // SAFETY: `is_culib_present` only tries to open the library by its usual names (running
    // its initialisers, as any use would) and closes it again.
    let found = *FOUND.get_or_init(|| unsafe { cudarc::driver::sys::is_culib_present() });
    if found {
        Ok(())
    } else {
        Err(
            "the CUDA driver library (libcuda.so.1) could not be loaded: no NVIDIA driver \
             is installed on this machine"
                .to_string(),
        )
    }
}

/// NVRTC, located and opened once per process (see the module documentation for where it
/// is looked for); `Err` says where it was looked for.
pub fn nvrtc() -> Result<&'static NvrtcLibrary, String> {
    static LIB: OnceLock<Result<NvrtcLibrary, String>> = OnceLock::new();
    LIB.get_or_init(|| {
        let explicit = std::env::var_os(NVRTC_PATH_ENV).filter(|v| !v.is_empty());
        locate(explicit.as_deref().map(Path::new))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Finds and opens NVRTC: only at `explicit` when given, else by the search of the module
/// documentation.
fn locate(explicit: Option<&Path>) -> Result<NvrtcLibrary, String> {
    if let Some(p) = explicit {
        let candidates = files_at(p);
        if candidates.is_empty() {
            return Err(format!(
                "{NVRTC_PATH_ENV}={} holds no NVRTC library ({})",
                p.display(),
                NVRTC_FILES.join(", ")
            ));
        }
        let mut errors = Vec::new();
        for c in candidates {
            match open_at(&c) {
                Ok(lib) => return Ok(lib),
                Err(e) => errors.push(e),
            }
        }
        return Err(errors.join("; "));
    }
    if system_has_nvrtc() {
        return Ok(NvrtcLibrary {
            path: None,
            version: version()?,
        });
    }
    let mut looked = Vec::new();
    let mut errors = Vec::new();
    for dir in toolkit_dirs().into_iter().chain(python_dirs()) {
        for c in files_at(&dir) {
            match open_at(&c) {
                Ok(lib) => return Ok(lib),
                Err(e) => errors.push(e),
            }
        }
        looked.push(dir.display().to_string());
    }
    let mut msg = String::from(
        "NVRTC (libnvrtc.so.12) could not be loaded: not on the loader's path, nor in the CUDA \
         toolkit or Python locations",
    );
    if !looked.is_empty() {
        msg.push_str(&format!(" ({})", looked.join(", ")));
    }
    if !errors.is_empty() {
        msg.push_str(&format!("; {}", errors.join("; ")));
    }
    msg.push_str(&format!(
        "; install it with `pip install nvidia-cuda-nvrtc-cu12` or set {NVRTC_PATH_ENV}"
    ));
    Err(msg)
}

/// Whether `cudarc` would find NVRTC by itself (by name, through the system loader).
fn system_has_nvrtc() -> bool {
    // SAFETY: `is_culib_present` only tries to open the library by its usual names and
    // closes it again.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// NVRTC library files at `p`: `p` itself when it is a file, else the known names in `p`,
/// `p/lib`, `p/lib64`.
fn files_at(p: &Path) -> Vec<PathBuf> {
    if p.is_file() {
        return vec![p.to_path_buf()];
    }
    let mut out = Vec::new();
    for dir in [p.to_path_buf(), p.join("lib"), p.join("lib64")] {
        for name in NVRTC_FILES {
            let f = dir.join(name);
            if f.is_file() {
                out.push(f);
            }
        }
    }
    out
}

/// Opens `file` for the rest of the process and checks that `cudarc` now finds it.
fn open_at(file: &Path) -> Result<NvrtcLibrary, String> {
    // SAFETY: opening NVRTC runs its initialisers, which have no preconditions; the library
    // is never closed (leaked below), so nothing obtained from it can dangle.
    let lib = unsafe { libloading::Library::new(file) }
        .map_err(|e| format!("{}: {e}", file.display()))?;
    std::mem::forget(lib);
    if !system_has_nvrtc() {
        return Err(format!(
            "{} was opened but is not the NVRTC 12 library cudarc asks for (libnvrtc.so.12)",
            file.display()
        ));
    }
    Ok(NvrtcLibrary {
        path: Some(file.to_path_buf()),
        version: version()?,
    })
}

/// NVRTC's version (NVRTC must be loadable).
fn version() -> Result<(u32, u32), String> {
    let (mut major, mut minor) = (0, 0);
    // SAFETY: NVRTC is loadable (checked by the callers); the pointers are to live locals.
    let r = unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) };
    if r != cudarc::nvrtc::sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(format!("nvrtcVersion failed: {r:?}"));
    }
    Ok((major.max(0) as u32, minor.max(0) as u32))
}

/// The CUDA toolkit's library directories.
fn toolkit_dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for var in ["CUDA_HOME", "CUDA_PATH"] {
        if let Some(root) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            out.push(PathBuf::from(root));
        }
    }
    out.push(PathBuf::from("/usr/local/cuda"));
    out
}

/// Where `pip install nvidia-cuda-nvrtc-cu12` may have put NVRTC: the usual site-packages
/// directories, then the one Python reports (only asked when the usual ones have nothing).
fn python_dirs() -> impl Iterator<Item = PathBuf> {
    let mut prefixes: Vec<PathBuf> = Vec::new();
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            prefixes.push(PathBuf::from(v));
        }
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        prefixes.push(PathBuf::from(home).join(".local"));
    }
    prefixes.push(PathBuf::from("/usr/local"));
    prefixes.push(PathBuf::from("/usr"));
    let mut dirs = Vec::new();
    for prefix in prefixes {
        for lib in ["lib", "lib64"] {
            let Ok(entries) = std::fs::read_dir(prefix.join(lib)) else {
                continue;
            };
            let mut pythons: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
                .map(|e| e.path())
                .collect();
            pythons.sort();
            for py in pythons.into_iter().rev() {
                for pkgs in ["site-packages", "dist-packages"] {
                    let d = py.join(pkgs).join("nvidia").join("cuda_nvrtc");
                    if d.is_dir() {
                        dirs.push(d);
                    }
                }
            }
        }
    }
    dirs.into_iter()
        .chain(std::iter::once_with(ask_python).flatten())
}

/// The `nvidia/cuda_nvrtc` package directory according to Python, if it has one.
fn ask_python() -> Option<PathBuf> {
    let python = std::env::var_os(PYTHON_ENV)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "python3".into());
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import nvidia.cuda_nvrtc as m; print(list(m.__path__)[0])",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    dir.is_dir().then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wrong explicit location is an error naming it, not a panic and not a fallback.
    #[test]
    fn explicit_location_without_nvrtc_is_an_error() {
        let dir = std::env::temp_dir().join(format!("zkaccel-no-nvrtc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let e = locate(Some(&dir)).expect_err("no NVRTC there");
        assert!(e.contains(NVRTC_PATH_ENV), "{e}");
        // A file that is not a shared library fails to open, with the loader's reason.
        let bogus = dir.join("libnvrtc.so.12");
        std::fs::write(&bogus, b"not a library").expect("write");
        let e = locate(Some(&dir)).expect_err("not a library");
        assert!(e.contains("libnvrtc.so.12"), "{e}");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    /// Without a driver, the answer is an error, never a panic.
    #[test]
    fn driver_absence_is_an_error() {
        match driver() {
            Ok(()) => eprintln!("the CUDA driver library is present here"),
            Err(e) => assert!(e.contains("libcuda"), "{e}"),
        }
    }
}
