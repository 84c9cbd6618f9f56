//! Fuzzes `zka_hash_get_info` (see ffi/src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    zkaccel::fuzzing::run(
        zkaccel::fuzzing::Entry::from_symbol("zka_hash_get_info").unwrap(),
        data,
    );
});
