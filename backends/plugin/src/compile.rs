//! Building a C plugin with the system C compiler, for tests (ours, and a plugin author's).
//!
//! The workspace's tests build `examples/plugin/example_plugin.c` (and its test-only
//! variants) with this, so a fresh clone needs nothing but `cc` on the `PATH`. `CC` in the
//! environment picks another compiler.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory of the plugin headers (`zkaccel.h`, `zkaccel_backend.h`).
pub fn include_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ffi/include")
}

/// The example plugin's C source (`examples/plugin/example_plugin.c`).
pub fn example_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/plugin/example_plugin.c")
}

/// The file name of a shared library called `stem` on this platform (`libstem.so`,
/// `libstem.dylib`, `stem.dll`).
pub fn library_file_name(stem: &str) -> String {
    format!(
        "{}{stem}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// Compiles `source` into the shared library `out` (C99, `-O2`, warnings as errors), with
/// `-D` definitions `defines` (`"NAME=VALUE"` or `"NAME"`) and the plugin headers on the
/// include path. Returns the compiler's output when it fails.
pub fn compile_plugin(source: &Path, defines: &[&str], out: &Path) -> Result<(), String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let mut cmd = Command::new(&cc);
    cmd.args([
        "-std=c99", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror",
    ])
    .arg("-I")
    .arg(include_dir());
    if cfg!(target_os = "macos") {
        cmd.args(["-undefined", "dynamic_lookup"]);
    }
    for d in defines {
        cmd.arg(format!("-D{d}"));
    }
    // Write to a temporary name first: several test processes may build the same library,
    // and a reader must never see a half-written file.
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    cmd.arg(source).arg("-o").arg(&tmp);
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run the C compiler `{cc}`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{cc}` failed to build {}:\n{}{}",
            source.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    std::fs::rename(&tmp, out).map_err(|e| format!("cannot move {}: {e}", tmp.display()))
}

/// Builds the example plugin (or one of its test-only variants, `variant > 0`, see the
/// `VARIANT_*` list in the source) into `dir` and returns the library's path.
pub fn build_example(dir: &Path, variant: u32) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let stem = if variant == 0 {
        "zkaccel_example_plugin".to_string()
    } else {
        format!("zkaccel_example_plugin_v{variant}")
    };
    let out = dir.join(library_file_name(&stem));
    let define = format!("ZKAP_EXAMPLE_VARIANT={variant}");
    compile_plugin(&example_source(), &[&define], &out)?;
    Ok(out)
}
