//! The on-disk cache of compiled programs, one directory per GPU API.
//!
//! Compiling the field and curve kernels takes seconds (tens of seconds for the BLS12-381 G2
//! MSM on PoCL), so compiled programs are kept on disk, keyed by a stable hash of a key the
//! backend composes: the kernel source, the build options, and what the binary depends on
//! (OpenCL: the device, its driver version and its platform; CUDA: the architecture and
//! NVRTC's version). A file
//! holds a header line with the full key (checked on load, so a hash collision is harmless)
//! followed by the binary; files are written to a temporary name and renamed into place, so
//! concurrent processes never read a half-written entry. Any problem with the cache (missing
//! directory, unreadable file, a driver that refuses the binary) falls back to compiling.
//!
//! Location: `$ZKACCEL_CACHE_DIR/<api>`, else `$XDG_CACHE_HOME/zkaccel/<api>`, else
//! `$HOME/.cache/zkaccel/<api>` (`<api>` is `opencl` or `cuda`). `ZKACCEL_CACHE=0` disables
//! it.

use std::path::PathBuf;

/// A directory of cached program binaries.
#[derive(Clone, Debug)]
pub struct BinaryCache {
    dir: PathBuf,
}

/// First line of every file.
const MAGIC: &str = "zkaccel-program-cache-v1";

impl BinaryCache {
    /// The cache of `api` (a directory name, e.g. `opencl`) in its default location, `None`
    /// when disabled or when no location is known.
    pub fn from_env(api: &str) -> Option<Self> {
        if std::env::var("ZKACCEL_CACHE").is_ok_and(|v| v == "0") {
            return None;
        }
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let base = var("ZKACCEL_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("zkaccel")))
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache").join("zkaccel")))?;
        Some(Self::at(base.join(api)))
    }

    /// A cache in `dir`.
    pub fn at(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        let h = crate::stable_hash(&[key.as_bytes()]);
        self.dir.join(format!("{h:016x}.bin"))
    }

    /// The binary stored under `key`, if any.
    pub fn load(&self, key: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let header = format!("{MAGIC}\n{key}\n");
        bytes
            .strip_prefix(header.as_bytes())
            .map(|b| b.to_vec())
            .filter(|b| !b.is_empty())
    }

    /// Stores `binary` under `key` (errors are logged and otherwise ignored).
    pub fn store(&self, key: &str, binary: &[u8]) {
        let run = || -> std::io::Result<()> {
            std::fs::create_dir_all(&self.dir)?;
            let path = self.path(key);
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            let mut data = format!("{MAGIC}\n{key}\n").into_bytes();
            data.extend_from_slice(binary);
            std::fs::write(&tmp, data)?;
            std::fs::rename(&tmp, &path)
        };
        if let Err(e) = run() {
            tracing::debug!("program cache not written in {}: {e}", self.dir.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_key_check() {
        let dir = std::env::temp_dir().join(format!("zkaccel-cache-test-{}", std::process::id()));
        let c = BinaryCache::at(dir.clone());
        assert_eq!(c.load("k1"), None);
        c.store("k1", b"binary");
        assert_eq!(c.load("k1").as_deref(), Some(&b"binary"[..]));
        assert_eq!(c.load("k2"), None);
        // A file whose header names another key is not returned.
        std::fs::write(c.path("k3"), format!("{MAGIC}\nk4\nxx")).unwrap();
        assert_eq!(c.load("k3"), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
