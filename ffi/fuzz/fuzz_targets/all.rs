//! Fuzzes every entry point, the first byte choosing which (see ffi/src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    zkaccel::fuzzing::run_any(data);
});
