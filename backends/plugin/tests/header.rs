//! `ffi/include/zkaccel_backend.h` is written by hand: it must compile cleanly as C99 and
//! as C++17, and every struct must have exactly the size, alignment and field offsets of
//! its Rust mirror in `zkaccel_plugin::abi` (checked by a C program printing `sizeof`,
//! `offsetof` and the constants), so that a plugin built from the header and the runtime
//! agree on every byte.

use std::path::PathBuf;
use std::process::Command;
use zkaccel_plugin::{abi, compile};

fn tmp() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("plugin-header-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn header() -> PathBuf {
    compile::include_dir().join("zkaccel_backend.h")
}

fn syntax_check(compiler: &str, std: &str, lang: &str) {
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
        .arg("-I")
        .arg(compile::include_dir())
        .arg(header())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} -std={std} rejects zkaccel_backend.h:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_as_c99_and_cpp17() {
    syntax_check("cc", "c99", "c");
    syntax_check("c++", "c++17", "c++");
}

#[test]
fn c_layout_matches_rust_mirror() {
    let table = abi::layout_table();
    let mut src = String::from(
        "#include <stdio.h>\n#include \"zkaccel_backend.h\"\n\
         #define ALIGNOF(T) offsetof(struct { char c; T t; }, t)\n\
         int main(void) {\n",
    );
    for abi::StructLayout { name, fields, .. } in &table {
        src +=
            &format!("  printf(\"{name} %zu %zu\\n\", sizeof({name}), (size_t)ALIGNOF({name}));\n");
        for (f, _) in fields {
            src += &format!("  printf(\"{name}.{f} %zu\\n\", offsetof({name}, {f}));\n");
        }
    }
    for (c, _) in constants() {
        src += &format!("  printf(\"{c} %lld\\n\", (long long)({c}));\n");
    }
    src += "  return 0;\n}\n";
    let dir = tmp();
    let c_file = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&c_file, src).unwrap();
    let out = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(compile::include_dir())
        .arg(&c_file)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("cc runs");
    assert!(
        out.status.success(),
        "layout program does not compile:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().expect("layout program runs");
    let text = String::from_utf8(run.stdout).unwrap();
    let c: std::collections::HashMap<&str, Vec<i64>> = text
        .lines()
        .map(|l| {
            let mut it = l.split_whitespace();
            let k = it.next().unwrap();
            (k, it.map(|v| v.parse().unwrap()).collect())
        })
        .collect();
    let mut mismatches = Vec::new();
    for abi::StructLayout {
        name,
        size,
        align,
        fields,
    } in &table
    {
        let want = vec![*size as i64, *align as i64];
        if c[name] != want {
            mismatches.push(format!("{name}: C size/align {:?}, Rust {want:?}", c[name]));
        }
        for (f, off) in fields {
            let key = format!("{name}.{f}");
            if c[key.as_str()] != vec![*off as i64] {
                mismatches.push(format!("{key}: C offset {:?}, Rust {off}", c[key.as_str()]));
            }
        }
    }
    for (k, v) in constants() {
        if c[k] != vec![v] {
            mismatches.push(format!("{k}: C {:?}, Rust {v}", c[k]));
        }
    }
    assert!(
        mismatches.is_empty(),
        "zkaccel_backend.h and zkaccel_plugin::abi disagree:\n{}",
        mismatches.join("\n")
    );
}

/// The header's constants and their Rust values (ids shared with zkaccel.h included).
fn constants() -> Vec<(&'static str, i64)> {
    use zkaccel_backend::{CurveId, FieldId, GroupId};
    vec![
        ("ZKAP_ABI_VERSION", abi::ZKAP_ABI_VERSION as i64),
        ("ZKAP_PLUGIN_SIZE_V1", abi::ZKAP_PLUGIN_SIZE_V1 as i64),
        ("ZKAP_OK", abi::ZKAP_OK as i64),
        ("ZKAP_ERR_UNSUPPORTED", abi::ZKAP_ERR_UNSUPPORTED as i64),
        (
            "ZKAP_ERR_INVALID_ARGUMENT",
            abi::ZKAP_ERR_INVALID_ARGUMENT as i64,
        ),
        ("ZKAP_ERR_OUT_OF_MEMORY", abi::ZKAP_ERR_OUT_OF_MEMORY as i64),
        ("ZKAP_ERR_DEVICE_LOST", abi::ZKAP_ERR_DEVICE_LOST as i64),
        ("ZKAP_ERR_TIMEOUT", abi::ZKAP_ERR_TIMEOUT as i64),
        ("ZKAP_ERR_INTERNAL", abi::ZKAP_ERR_INTERNAL as i64),
        ("ZKAP_PLUGIN_SERIALIZE", abi::ZKAP_PLUGIN_SERIALIZE as i64),
        ("ZKAP_NTT_ORDERS", abi::ZKAP_NTT_ORDERS as i64),
        ("ZKAP_NTT_COSET", abi::ZKAP_NTT_COSET as i64),
        ("ZKAP_NTT_BATCH", abi::ZKAP_NTT_BATCH as i64),
        ("ZKAP_NTT_INTERLEAVED", abi::ZKAP_NTT_INTERLEAVED as i64),
        ("ZKAP_MAX_MSM_CAPS", abi::ZKAP_MAX_MSM_CAPS as i64),
        ("ZKAP_MAX_NTT_CAPS", abi::ZKAP_MAX_NTT_CAPS as i64),
        ("ZKAP_MAX_HASH_CAPS", abi::ZKAP_MAX_HASH_CAPS as i64),
        ("ZKAP_MAX_RESULT_LIMBS", abi::ZKAP_MAX_RESULT_LIMBS as i64),
        // The ids the plugin ABI reuses from zkaccel.h are the runtime's own.
        ("ZKA_CURVE_BN254", CurveId::Bn254.as_u32() as i64),
        ("ZKA_CURVE_BLS12_381", CurveId::Bls12_381.as_u32() as i64),
        ("ZKA_CURVE_BLS12_377", CurveId::Bls12_377.as_u32() as i64),
        ("ZKA_G1", GroupId::G1.as_u32() as i64),
        ("ZKA_G2", GroupId::G2.as_u32() as i64),
        ("ZKA_FIELD_BN254_FR", FieldId::Bn254Fr.as_u32() as i64),
        (
            "ZKA_FIELD_BLS12_381_FR",
            FieldId::Bls12_381Fr.as_u32() as i64,
        ),
        (
            "ZKA_FIELD_BLS12_377_FR",
            FieldId::Bls12_377Fr.as_u32() as i64,
        ),
        ("ZKA_FIELD_GOLDILOCKS", FieldId::Goldilocks.as_u32() as i64),
        ("ZKA_FIELD_BABYBEAR", FieldId::BabyBear.as_u32() as i64),
        (
            "ZKA_NTT_FORWARD",
            zkaccel_backend::NttDirection::Forward as i64,
        ),
        (
            "ZKA_NTT_INVERSE",
            zkaccel_backend::NttDirection::Inverse as i64,
        ),
        (
            "ZKA_ORDER_NATURAL",
            zkaccel_backend::NttOrder::Natural as i64,
        ),
        (
            "ZKA_ORDER_BIT_REVERSED",
            zkaccel_backend::NttOrder::BitReversed as i64,
        ),
        (
            "ZKA_LAYOUT_CONTIGUOUS",
            zkaccel_backend::BatchLayout::Contiguous as i64,
        ),
        (
            "ZKA_LAYOUT_INTERLEAVED",
            zkaccel_backend::BatchLayout::Interleaved as i64,
        ),
    ]
}
