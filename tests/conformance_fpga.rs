//! The conformance suite for the FPGA backend (`zkaccel-fpga`) on the simulated engine:
//! the RTL of `kernels/rtl/` compiled by Verilator, driven through the real driver (register
//! protocol, DMA into card memory, host bucket reduction). `cargo test --release -p
//! zkaccel-tests --test conformance_fpga`.
//!
//! The engine declares MSM over BN254 G1 only, so every other case prints `SKIPPED` (the
//! backend said so honestly). Without Verilator at build time every test prints `SKIPPED:
//! fpga_sim not available: verilator not installed` and passes, unless `ZKACCEL_REQUIRE`
//! names `fpga-sim` (CI does): then absence fails. An image that opens but fails its
//! manifest check is always a failure, never a skip.
//!
//! Sizes: the engine's card memory holds 1024 points; longer inputs (the suite's 4096-point
//! case) are split into chunks by the driver, as they would be on a card.

use std::sync::{Arc, OnceLock};
use zkaccel_backend::Backend;
use zkaccel_fpga::{open_sim, FpgaError, FpgaOptions};

type Shared = Result<Arc<dyn Backend>, String>;

/// One simulated engine for every test of the process (calls are serialized on it).
fn device() -> Shared {
    static DEV: OnceLock<Shared> = OnceLock::new();
    DEV.get_or_init(|| match open_sim(&FpgaOptions::default()) {
        Ok(b) => Ok(Arc::new(b) as Arc<dyn Backend>),
        Err(FpgaError::Unavailable(why)) => Err(why),
        Err(e) => panic!("the simulated FPGA image was refused: {e}"),
    })
    .clone()
}

zkaccel_backend::conformance_suite!(fpga_sim, device());
