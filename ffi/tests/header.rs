//! The checked-in header is exactly what cbindgen generates from the source, and it compiles
//! cleanly as C99 and as C++17 with -Wall -Wextra -Werror.

use std::path::{Path, PathBuf};
use std::process::Command;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("utf-8 header")
}

#[test]
fn header_matches_source() {
    let path = crate_dir().join("include/zkaccel.h");
    let fresh = generate();
    if std::env::var_os("ZKACCEL_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write header");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "include/zkaccel.h is out of date with ffi/src/lib.rs; regenerate with \
         `ZKACCEL_BLESS=1 cargo test -p zkaccel-ffi --test header` and commit it"
    );
}

fn compile(compiler: &str, std: &str, lang: &str, header: &Path) {
    let out = Command::new(compiler)
        .args([
            &format!("-std={std}"),
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-fsyntax-only",
            "-x",
            lang,
        ])
        .arg(header)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} -std={std} rejects the header:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_as_c99_and_cpp17() {
    let dir = tempdir();
    // A translation unit that includes the header and uses every INIT macro.
    let src = dir.join("use.h");
    std::fs::write(
        &src,
        format!(
            "#include \"{}\"\n\
             static inline int zka_header_smoke(void) {{\n\
               zka_runtime_options o = ZKA_RUNTIME_OPTIONS_INIT; zka_points p = ZKA_POINTS_INIT;\n\
               zka_scalars s = ZKA_SCALARS_INIT; zka_point_out r = ZKA_POINT_OUT_INIT;\n\
               zka_msm_options m = ZKA_MSM_OPTIONS_INIT; zka_call_report c = ZKA_CALL_REPORT_INIT;\n\
               zka_ntt_config n = ZKA_NTT_CONFIG_INIT; zka_device_info d = ZKA_DEVICE_INFO_INIT;\n\
               zka_stats t = ZKA_STATS_INIT;\n\
               return (int)(o.struct_size + p.struct_size + s.struct_size + r.struct_size +\n\
                 m.struct_size + c.struct_size + n.struct_size + d.struct_size + t.struct_size);\n\
             }}\n",
            crate_dir().join("include/zkaccel.h").display()
        ),
    )
    .unwrap();
    compile("cc", "c99", "c", &src);
    compile("c++", "c++17", "c++", &src);
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("zkaccel-header-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
