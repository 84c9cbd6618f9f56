//! Builds the example C plugin (`examples/plugin/example_plugin.c`) and its test-only
//! variants with the system C compiler, once per test process, into Cargo's per-target
//! temporary directory.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// The real plugin.
pub const EXAMPLE: u32 = 0;
/// Table says ABI 99.
pub const ABI_TOO_NEW: u32 = 1;
/// Table says ABI 0.
pub const ABI_TOO_OLD: u32 = 2;
/// Table `struct_size` 24.
pub const TABLE_TOO_SMALL: u32 = 3;
/// The entry point returns NULL.
pub const NULL_TABLE: u32 = 4;
/// `create()` fails.
pub const INIT_FAILS: u32 = 5;
/// No `zkaccel_plugin_entry` symbol.
pub const NO_ENTRY: u32 = 6;
/// MSM results off the curve, NTT output not reduced.
pub const GARBAGE: u32 = 7;
/// MSM results of the wrong length and group.
pub const WRONG_LENGTHS: u32 = 8;

/// A directory private to this test process.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("plugins-{}", std::process::id()))
}

/// The example plugin built with `-D ZKAP_EXAMPLE_VARIANT=variant` (cached per process).
pub fn plugin(variant: u32) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<u32, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    built
        .entry(variant)
        .or_insert_with(|| {
            // Each variant in its own directory, so a directory scan finds only it.
            zkaccel_plugin::compile::build_example(&dir().join(format!("v{variant}")), variant)
                .unwrap_or_else(|e| panic!("building the example plugin failed:\n{e}"))
        })
        .clone()
}
