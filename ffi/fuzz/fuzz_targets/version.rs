//! Fuzzes `zka_version` (see ffi/src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    zkaccel::fuzzing::run(
        zkaccel::fuzzing::Entry::from_symbol("zka_version").unwrap(),
        data,
    );
});
