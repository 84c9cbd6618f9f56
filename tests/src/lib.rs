//! # zkaccel-tests
//!
//! Cross-crate tests of zkaccel; this library is empty on purpose. The tests live next to
//! this crate's manifest: `conformance_cpu.rs` instantiates the conformance suite
//! (`zkaccel_backend::conformance_suite!`, feature `conformance`) for the CPU backend, and
//! each further backend gets one such file of one line.
