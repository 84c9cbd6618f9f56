//! Fuzzes `zka_plugin_report_count` (see ffi/src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    zkaccel::fuzzing::run(
        zkaccel::fuzzing::Entry::from_symbol("zka_plugin_report_count").unwrap(),
        data,
    );
});
