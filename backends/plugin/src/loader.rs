//! Finding and opening plugins, and what goes wrong doing so.

use crate::abi::{self, zkap_host, zkap_plugin};
use crate::backend::PluginBackend;
use std::ffi::{c_char, c_void};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use zkaccel_backend::{BackendError, OpId};

/// The environment variable listing plugin files and directories (separated like `PATH`:
/// `:` on Unix).
pub const PLUGIN_PATH_ENV: &str = "ZKACCEL_PLUGIN_PATH";

/// Where the runtime was told about a plugin.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum PluginSource {
    /// From `ZKACCEL_PLUGIN_PATH`.
    Env,
    /// From the runtime's options (`RuntimeBuilder::plugin_path`).
    Options,
}

impl fmt::Display for PluginSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PluginSource::Env => PLUGIN_PATH_ENV,
            PluginSource::Options => "runtime options",
        })
    }
}

/// Why a plugin did not load. Each variant has a stable number ([`PluginLoadError::code`])
/// that the C ABI reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PluginLoadError {
    /// The file does not exist.
    #[error("{}: no such file", path.display())]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// The file exists but the dynamic loader refused it.
    #[error("{}: not a loadable shared library: {detail}", path.display())]
    NotALibrary {
        /// The path.
        path: PathBuf,
        /// The dynamic loader's message.
        detail: String,
    },
    /// The library does not export the entry point.
    #[error("{}: does not export `{symbol}` (is it a zkaccel plugin?): {detail}", path.display())]
    MissingEntry {
        /// The path.
        path: PathBuf,
        /// The symbol looked for.
        symbol: String,
        /// The dynamic loader's message.
        detail: String,
    },
    /// The entry point returned NULL.
    #[error("{}: `zkaccel_plugin_entry` returned NULL (the plugin refused to load)", path.display())]
    NullTable {
        /// The path.
        path: PathBuf,
    },
    /// The plugin was built for a newer plugin ABI than this runtime speaks.
    #[error(
        "{}: built for plugin ABI {plugin}, newer than this runtime's {supported}: upgrade zkaccel \
         or rebuild the plugin against this runtime's zkaccel_backend.h",
        path.display()
    )]
    AbiTooNew {
        /// The path.
        path: PathBuf,
        /// The plugin's ABI version.
        plugin: u32,
        /// The newest this runtime speaks.
        supported: u32,
    },
    /// The plugin was built for a plugin ABI older than this runtime accepts.
    #[error(
        "{}: built for plugin ABI {plugin}, older than the oldest this runtime accepts ({min}): \
         rebuild the plugin against this runtime's zkaccel_backend.h",
        path.display()
    )]
    AbiTooOld {
        /// The path.
        path: PathBuf,
        /// The plugin's ABI version.
        plugin: u32,
        /// The oldest this runtime accepts.
        min: u32,
    },
    /// The table's `struct_size` is smaller than its ABI version requires.
    #[error(
        "{}: plugin table is {size} bytes, smaller than the {min} bytes of ABI {abi}",
        path.display()
    )]
    TableTooSmall {
        /// The path.
        path: PathBuf,
        /// The table's `struct_size`.
        size: usize,
        /// The smallest accepted.
        min: usize,
        /// The ABI version the table claims.
        abi: u32,
    },
    /// A required function pointer of the table is NULL.
    #[error("{}: plugin table has no `{function}`, which is required", path.display())]
    MissingFunction {
        /// The path.
        path: PathBuf,
        /// The table entry.
        function: &'static str,
    },
    /// The plugin's `create()` failed.
    #[error("{}: plugin initialisation failed (status {code}): {message}", path.display())]
    Init {
        /// The path.
        path: PathBuf,
        /// The plugin's status code.
        code: i32,
        /// The plugin's message.
        message: String,
    },
    /// Describing a device failed.
    #[error("{}: device {device}: {what} failed (status {code}): {message}", path.display())]
    Device {
        /// The path.
        path: PathBuf,
        /// The device index.
        device: u32,
        /// `device_info` or `capabilities`.
        what: &'static str,
        /// The plugin's status code.
        code: i32,
        /// The plugin's message.
        message: String,
    },
}

impl PluginLoadError {
    /// The plugin's path.
    pub fn path(&self) -> &Path {
        match self {
            PluginLoadError::NotFound { path }
            | PluginLoadError::NotALibrary { path, .. }
            | PluginLoadError::MissingEntry { path, .. }
            | PluginLoadError::NullTable { path }
            | PluginLoadError::AbiTooNew { path, .. }
            | PluginLoadError::AbiTooOld { path, .. }
            | PluginLoadError::TableTooSmall { path, .. }
            | PluginLoadError::MissingFunction { path, .. }
            | PluginLoadError::Init { path, .. }
            | PluginLoadError::Device { path, .. } => path,
        }
    }

    /// A stable number for the kind of failure (the C ABI's `ZKA_PLUGIN_ERR_*`): 1 not
    /// found, 2 not a library, 3 missing entry point, 4 NULL table, 5 ABI too new, 6 ABI too
    /// old, 7 table too small, 8 missing required function, 9 initialisation failed, 10
    /// device query failed.
    pub fn code(&self) -> u32 {
        match self {
            PluginLoadError::NotFound { .. } => 1,
            PluginLoadError::NotALibrary { .. } => 2,
            PluginLoadError::MissingEntry { .. } => 3,
            PluginLoadError::NullTable { .. } => 4,
            PluginLoadError::AbiTooNew { .. } => 5,
            PluginLoadError::AbiTooOld { .. } => 6,
            PluginLoadError::TableTooSmall { .. } => 7,
            PluginLoadError::MissingFunction { .. } => 8,
            PluginLoadError::Init { .. } => 9,
            PluginLoadError::Device { .. } => 10,
        }
    }
}

/// A plugin that loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedPlugin {
    /// The plugin's name (from its table).
    pub name: String,
    /// The plugin's version string.
    pub version: String,
    /// The plugin ABI version it was built for.
    pub abi_version: u32,
    /// The names of its devices, in device order (may be empty).
    pub devices: Vec<String>,
}

/// What happened to one plugin path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginLoadReport {
    /// The file (or the missing path) that was tried.
    pub path: PathBuf,
    /// Where the path came from.
    pub source: PluginSource,
    /// The plugin, or why it did not load.
    pub outcome: Result<LoadedPlugin, PluginLoadError>,
}

impl PluginLoadReport {
    /// True when the plugin loaded.
    pub fn is_loaded(&self) -> bool {
        self.outcome.is_ok()
    }
}

impl fmt::Display for PluginLoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(p) => write!(
                f,
                "{}: loaded plugin '{}' {} (ABI {}), {} device(s) (from {})",
                self.path.display(),
                p.name,
                p.version,
                p.abi_version,
                p.devices.len(),
                self.source
            ),
            Err(e) => write!(f, "FAILED ({}): {e}", self.source),
        }
    }
}

/// The paths named by `ZKACCEL_PLUGIN_PATH` (empty entries skipped).
pub fn env_paths() -> Vec<PathBuf> {
    match std::env::var_os(PLUGIN_PATH_ENV) {
        Some(v) => std::env::split_paths(&v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        None => Vec::new(),
    }
}

/// The plugin files a path names: a directory gives its shared libraries (`*.so`, `*.dylib`
/// or `*.dll`, by platform) in name order; anything else is itself (a missing path is kept
/// so that loading reports it).
pub fn expand_path(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        let mut v: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .is_some_and(|e| e == std::env::consts::DLL_EXTENSION)
                })
                .collect(),
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot read plugin directory: {e}");
                Vec::new()
            }
        };
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    }
}

/// Loads every plugin the paths name (directories expanded, each file once), logging each
/// failure with `tracing::warn!`. Returns the devices of the plugins that loaded and one
/// report per file tried.
pub fn load_paths(
    paths: &[(PathBuf, PluginSource)],
) -> (Vec<PluginBackend>, Vec<PluginLoadReport>) {
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut backends = Vec::new();
    let mut reports = Vec::new();
    for (p, source) in paths {
        for file in expand_path(p) {
            let key = file.canonicalize().unwrap_or_else(|_| file.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let outcome = match load(&file) {
                Ok((loaded, devs)) => {
                    tracing::info!(
                        path = %file.display(), name = %loaded.name, version = %loaded.version,
                        devices = devs.len(), "plugin loaded"
                    );
                    backends.extend(devs);
                    Ok(loaded)
                }
                Err(e) => {
                    tracing::warn!(source = %source, "plugin not loaded: {e}");
                    Err(e)
                }
            };
            reports.push(PluginLoadReport {
                path: file,
                source: *source,
                outcome,
            });
        }
    }
    (backends, reports)
}

/// The runtime's version as `MAJOR·1 000 000 + MINOR·1 000 + PATCH`.
fn runtime_version() -> u32 {
    let n = |s: &str| s.parse::<u32>().unwrap_or(0);
    n(env!("CARGO_PKG_VERSION_MAJOR")) * 1_000_000
        + n(env!("CARGO_PKG_VERSION_MINOR")) * 1_000
        + n(env!("CARGO_PKG_VERSION_PATCH"))
}

/// What the runtime tells plugins about itself.
fn host() -> zkap_host {
    zkap_host {
        struct_size: core::mem::size_of::<zkap_host>() as u32,
        abi_version: abi::ZKAP_ABI_VERSION,
        abi_version_min: abi::ZKAP_ABI_VERSION_MIN,
        runtime_version: runtime_version(),
    }
}

/// Reads a NUL-terminated string of at most `max` bytes (lossy UTF-8); NULL gives "".
///
/// # Safety
/// `p` is NULL or points to readable bytes up to a NUL or `max` bytes, whichever comes
/// first.
unsafe fn read_c_str(p: *const c_char, max: usize) -> String {
    if p.is_null() {
        return String::new();
    }
    let mut bytes = Vec::new();
    for i in 0..max {
        // SAFETY: the caller guarantees the bytes up to the NUL (or `max`) are readable, and
        // we stop at the first NUL.
        let b = unsafe { *p.add(i) } as u8;
        if b == 0 {
            break;
        }
        bytes.push(b);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The text of a fixed-size `char` array, up to its first NUL (or its end).
pub(crate) fn c_chars(a: &[c_char]) -> String {
    let bytes: Vec<u8> = a
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The plugin's message for the most recent failure on this thread ("" without one).
///
/// # Safety
/// `f` is the plugin's `error_message`; `ctx` is its context or NULL.
unsafe fn plugin_message(f: Option<abi::ErrorMessageFn>, ctx: *mut c_void) -> String {
    let Some(f) = f else {
        return String::new();
    };
    let mut buf = [0 as c_char; 512];
    // SAFETY: `buf` is writable for its whole length, which is passed; the plugin writes at
    // most that many bytes (ABI contract).
    let st = unsafe { f(ctx, buf.as_mut_ptr(), buf.len()) };
    if st != abi::ZKAP_OK {
        return String::new();
    }
    let last = buf.len() - 1;
    buf[last] = 0;
    c_chars(&buf)
}

/// An open plugin: the library, its table and its context. Shared by its devices, bases
/// handles and domains, so the library stays loaded while any of them lives.
pub(crate) struct PluginLibrary {
    pub(crate) path: PathBuf,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) table: zkap_plugin,
    pub(crate) ctx: *mut c_void,
    lock: Option<Mutex<()>>,
    // Dropped after `Drop::drop` has called the plugin's `destroy`.
    _lib: libloading::Library,
}

// SAFETY: the plugin ABI requires a plugin to accept calls from any thread at once, or to
// set ZKAP_PLUGIN_SERIALIZE, in which case `lock` serialises every call (`invoke`). The
// context pointer is only ever passed back to the plugin.
unsafe impl Send for PluginLibrary {}
// SAFETY: as above.
unsafe impl Sync for PluginLibrary {}

impl Drop for PluginLibrary {
    fn drop(&mut self) {
        if let Some(destroy) = self.table.destroy {
            let _g = self.guard();
            // SAFETY: `ctx` came from this plugin's `create` and is destroyed exactly once,
            // after every handle holding this library was dropped (they hold an `Arc`).
            unsafe { destroy(self.ctx) };
        }
    }
}

impl PluginLibrary {
    fn guard(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        self.lock
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs one plugin call (holding the plugin's lock when it asked for one) and maps a
    /// failure status to a [`BackendError`] carrying the plugin's message.
    pub(crate) fn invoke(&self, op: OpId, f: impl FnOnce() -> i32) -> Result<(), BackendError> {
        let _g = self.guard();
        let code = f();
        if code == abi::ZKAP_OK {
            return Ok(());
        }
        // SAFETY: the table's own `error_message` with its own context.
        let msg = unsafe { plugin_message(self.table.error_message, self.ctx) };
        Err(self.error(op, code, msg))
    }

    /// Runs a call that cannot fail (destroy functions), holding the lock when asked for.
    pub(crate) fn invoke_void(&self, f: impl FnOnce()) {
        let _g = self.guard();
        f()
    }

    fn error(&self, op: OpId, code: i32, msg: String) -> BackendError {
        let detail = format!("plugin '{}' (status {code}): {msg}", self.name);
        match code {
            abi::ZKAP_ERR_UNSUPPORTED => BackendError::unsupported(op, detail),
            abi::ZKAP_ERR_OUT_OF_MEMORY => BackendError::OutOfMemory {
                requested: 0,
                detail,
            },
            abi::ZKAP_ERR_DEVICE_LOST => BackendError::DeviceLost(detail),
            abi::ZKAP_ERR_TIMEOUT => BackendError::Timeout { millis: 0 },
            abi::ZKAP_ERR_INVALID_ARGUMENT => BackendError::BadInput(detail),
            _ => BackendError::Other(detail),
        }
    }

    /// The plugin's message for the most recent failure on this thread.
    fn message(&self) -> String {
        // SAFETY: the table's own `error_message` with its own context.
        unsafe { plugin_message(self.table.error_message, self.ctx) }
    }
}

/// Opens one plugin file and describes its devices.
pub fn load(path: &Path) -> Result<(LoadedPlugin, Vec<PluginBackend>), PluginLoadError> {
    let p = || path.to_path_buf();
    if !path.exists() {
        return Err(PluginLoadError::NotFound { path: p() });
    }
    // SAFETY: opening a shared library runs its initialisers. A plugin is trusted native
    // code by design (the user named it in ZKACCEL_PLUGIN_PATH or the runtime's options);
    // what we can check, we check below.
    let lib =
        unsafe { libloading::Library::new(path) }.map_err(|e| PluginLoadError::NotALibrary {
            path: p(),
            detail: e.to_string(),
        })?;
    // SAFETY: the symbol's type is the entry point's type in zkaccel_backend.h; a library
    // exporting this name with another type breaks the plugin contract.
    let entry: abi::EntryFn = unsafe {
        lib.get::<abi::EntryFn>(abi::ZKAP_ENTRY_SYMBOL.as_bytes())
            .map(|s| *s)
    }
    .map_err(|e| PluginLoadError::MissingEntry {
        path: p(),
        symbol: abi::ZKAP_ENTRY_SYMBOL.to_string(),
        detail: e.to_string(),
    })?;
    let host = host();
    // SAFETY: the entry point takes a pointer to a host description that lives for the
    // call; the plugin returns a pointer to its static table, or NULL.
    let table_ptr = unsafe { entry(&host) };
    if table_ptr.is_null() {
        return Err(PluginLoadError::NullTable { path: p() });
    }
    // The first two fields, read one at a time: a table is at least this big in every ABI.
    // SAFETY: a non-NULL table pointer points to a table, which starts with two u32 fields
    // (struct_size, abi_version) in every ABI version; unaligned reads accept any pointer.
    let (size, version) = unsafe {
        let base = table_ptr.cast::<u32>();
        (
            core::ptr::read_unaligned(base) as usize,
            core::ptr::read_unaligned(base.add(1)),
        )
    };
    if version > abi::ZKAP_ABI_VERSION {
        return Err(PluginLoadError::AbiTooNew {
            path: p(),
            plugin: version,
            supported: abi::ZKAP_ABI_VERSION,
        });
    }
    if version < abi::ZKAP_ABI_VERSION_MIN {
        return Err(PluginLoadError::AbiTooOld {
            path: p(),
            plugin: version,
            min: abi::ZKAP_ABI_VERSION_MIN,
        });
    }
    if size < abi::ZKAP_PLUGIN_SIZE_V1 {
        return Err(PluginLoadError::TableTooSmall {
            path: p(),
            size,
            min: abi::ZKAP_PLUGIN_SIZE_V1,
            abi: version,
        });
    }
    // SAFETY: the plugin says its table is at least ZKAP_PLUGIN_SIZE_V1 bytes, the size of
    // `zkap_plugin`; every field is a plain integer, pointer or nullable function pointer,
    // valid for any bit pattern the C compiler produces for them.
    let table: zkap_plugin = unsafe { core::ptr::read_unaligned(table_ptr) };
    let required: [(&'static str, bool); 5] = [
        ("create", table.create.is_some()),
        ("destroy", table.destroy.is_some()),
        ("device_count", table.device_count.is_some()),
        ("device_info", table.device_info.is_some()),
        ("capabilities", table.capabilities.is_some()),
    ];
    if let Some((function, _)) = required.iter().find(|(_, present)| !present) {
        return Err(PluginLoadError::MissingFunction {
            path: p(),
            function,
        });
    }
    // SAFETY: the table's strings are static NUL-terminated strings (ABI contract), read
    // up to 256 bytes.
    let (name, version_str) =
        unsafe { (read_c_str(table.name, 256), read_c_str(table.version, 256)) };
    let name = if name.is_empty() {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plugin".into())
    } else {
        name
    };
    let mut ctx: *mut c_void = core::ptr::null_mut();
    let create = table.create.expect("checked above");
    // SAFETY: `create` is the plugin's; it reads `host` during the call and writes `ctx`.
    let code = unsafe { create(&host, &mut ctx) };
    if code != abi::ZKAP_OK {
        // SAFETY: the plugin's own message function; NULL context as the header allows.
        let message = unsafe { plugin_message(table.error_message, core::ptr::null_mut()) };
        return Err(PluginLoadError::Init {
            path: p(),
            code,
            message,
        });
    }
    let serialize = table.flags & abi::ZKAP_PLUGIN_SERIALIZE != 0;
    let lib = Arc::new(PluginLibrary {
        path: p(),
        name: name.clone(),
        version: version_str.clone(),
        table,
        ctx,
        lock: serialize.then(|| Mutex::new(())),
        _lib: lib,
    });
    let count = {
        let f = lib.table.device_count.expect("checked above");
        let _g = lib.guard();
        // SAFETY: the plugin's own function with its own context.
        unsafe { f(lib.ctx) }
    };
    const MAX_DEVICES: u32 = 256;
    if count > MAX_DEVICES {
        tracing::warn!(path = %path.display(), "plugin reports {count} devices; using the first {MAX_DEVICES}");
    }
    let mut devices = Vec::new();
    for d in 0..count.min(MAX_DEVICES) {
        let b = PluginBackend::open(lib.clone(), d).map_err(|(what, code)| {
            PluginLoadError::Device {
                path: p(),
                device: d,
                what,
                code,
                message: lib.message(),
            }
        })?;
        devices.push(b);
    }
    let loaded = LoadedPlugin {
        name,
        version: version_str,
        abi_version: version,
        devices: devices
            .iter()
            .map(|d| d.device_name().to_string())
            .collect(),
    };
    Ok((loaded, devices))
}
