//! The conformance suite for the CPU backend (`zkaccel-cpu`), which is always present:
//! `cargo test -p zkaccel-tests --test conformance_cpu`. Test names are generated, e.g.
//! `cpu::msm_bn254_g1_random`, `cpu::ntt_goldilocks_orders`.

zkaccel_backend::conformance_suite!(cpu, zkaccel_cpu::CpuBackend::new());
