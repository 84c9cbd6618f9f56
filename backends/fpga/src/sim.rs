//! The `sim` transport: the RTL of `kernels/rtl/`, compiled by Verilator at build time and
//! linked into this crate, driven in-process through the same registers and DMA beats a
//! card exposes. Everything it reports is simulated: cycle counts are exact for the RTL,
//! wall-clock time means nothing.

use crate::error::{FpgaError, FpgaResult};
use crate::transport::Transport;
use std::time::Duration;

/// Why the simulator is not built in, or `None` when it is.
pub fn unavailable_reason() -> Option<&'static str> {
    let r = env!("ZKACCEL_FPGA_SIM_UNAVAILABLE");
    if cfg!(zkaccel_fpga_sim) && r.is_empty() {
        None
    } else if r.is_empty() {
        Some("verilator not installed")
    } else {
        Some(r)
    }
}

/// The Verilator version the model was built with (empty without the simulator).
pub fn verilator_version() -> &'static str {
    env!("ZKACCEL_FPGA_VERILATOR_VERSION")
}

/// The simulated engine.
pub struct SimTransport {
    #[cfg(zkaccel_fpga_sim)]
    h: ffi::Handle,
    /// Cycles the simulation may run in one `wait_done` before it gives up.
    pub max_wait_cycles: u64,
}

impl std::fmt::Debug for SimTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimTransport").finish_non_exhaustive()
    }
}

impl SimTransport {
    /// Instantiates and resets a fresh model; `Unavailable` without the simulator.
    pub fn open() -> FpgaResult<Self> {
        #[cfg(zkaccel_fpga_sim)]
        {
            if !cfg!(target_endian = "little") {
                return Err(FpgaError::Unavailable(
                    "the simulator shim assumes a little-endian host".into(),
                ));
            }
            let h = ffi::Handle::new();
            h.reset();
            Ok(Self {
                h,
                max_wait_cycles: 1 << 32,
            })
        }
        #[cfg(not(zkaccel_fpga_sim))]
        {
            Err(FpgaError::Unavailable(
                unavailable_reason()
                    .unwrap_or("simulator not built")
                    .to_string(),
            ))
        }
    }

    /// Clock cycles simulated since the model was created (runs, DMA beats, register writes).
    pub fn total_cycles(&self) -> u64 {
        #[cfg(zkaccel_fpga_sim)]
        {
            self.h.cycles()
        }
        #[cfg(not(zkaccel_fpga_sim))]
        {
            0
        }
    }
}

fn check_beats(len: usize, addr: u64) -> FpgaResult<()> {
    if !len.is_multiple_of(crate::regs::BEAT) || !addr.is_multiple_of(crate::regs::BEAT as u64) {
        return Err(FpgaError::Protocol(format!(
            "DMA of {len} bytes at {addr:#x} is not whole 32-byte beats"
        )));
    }
    Ok(())
}

#[cfg(zkaccel_fpga_sim)]
impl Transport for SimTransport {
    fn describe(&self) -> String {
        format!("{} (simulated)", verilator_version())
    }
    fn simulated(&self) -> bool {
        true
    }
    fn read_reg(&mut self, off: u32) -> FpgaResult<u32> {
        Ok(self.h.reg_read(off))
    }
    fn write_reg(&mut self, off: u32, value: u32) -> FpgaResult<()> {
        self.h.reg_write(off, value);
        Ok(())
    }
    fn dma_write(&mut self, addr: u64, data: &[u8]) -> FpgaResult<()> {
        check_beats(data.len(), addr)?;
        self.h.dma_write(addr, data);
        Ok(())
    }
    fn dma_read(&mut self, addr: u64, out: &mut [u8]) -> FpgaResult<()> {
        check_beats(out.len(), addr)?;
        self.h.dma_read(addr, out);
        Ok(())
    }
    fn wait_done(&mut self, expected_cycles: u64, _timeout: Duration) -> FpgaResult<()> {
        // A run takes at most (depth + 1) cycles per point (every point to one bucket) plus
        // the drain; give 64x the hint (or 2^20 cycles) before calling the engine hung.
        let limit = expected_cycles
            .saturating_mul(64)
            .max(1 << 20)
            .min(self.max_wait_cycles);
        if self.h.wait_done(limit) {
            // Observe and clear ap_done through the register, as a card's driver does.
            let ctrl = self.h.reg_read(crate::regs::CTRL);
            if ctrl & crate::regs::AP_DONE == 0 {
                return Err(FpgaError::Protocol(format!(
                    "ap_done seen by the simulator but CTRL reads {ctrl:#x}"
                )));
            }
            Ok(())
        } else {
            Err(FpgaError::Timeout {
                limit: format!("{limit} simulated cycles"),
            })
        }
    }
}

#[cfg(not(zkaccel_fpga_sim))]
impl Transport for SimTransport {
    fn describe(&self) -> String {
        "simulator not built".into()
    }
    fn simulated(&self) -> bool {
        true
    }
    fn read_reg(&mut self, _off: u32) -> FpgaResult<u32> {
        Err(FpgaError::Unavailable("simulator not built".into()))
    }
    fn write_reg(&mut self, _off: u32, _value: u32) -> FpgaResult<()> {
        Err(FpgaError::Unavailable("simulator not built".into()))
    }
    fn dma_write(&mut self, addr: u64, data: &[u8]) -> FpgaResult<()> {
        check_beats(data.len(), addr)?;
        Err(FpgaError::Unavailable("simulator not built".into()))
    }
    fn dma_read(&mut self, addr: u64, out: &mut [u8]) -> FpgaResult<()> {
        check_beats(out.len(), addr)?;
        Err(FpgaError::Unavailable("simulator not built".into()))
    }
    fn wait_done(&mut self, _expected: u64, _timeout: Duration) -> FpgaResult<()> {
        Err(FpgaError::Unavailable("simulator not built".into()))
    }
}

#[cfg(zkaccel_fpga_sim)]
mod ffi {
    use core::ffi::c_void;

    extern "C" {
        fn zk_sim_new() -> *mut c_void;
        fn zk_sim_free(h: *mut c_void);
        fn zk_sim_reset(h: *mut c_void);
        fn zk_sim_cycles(h: *mut c_void) -> u64;
        fn zk_sim_reg_write(h: *mut c_void, addr: u32, value: u32);
        fn zk_sim_reg_read(h: *mut c_void, addr: u32) -> u32;
        fn zk_sim_dma_write(h: *mut c_void, addr: u64, src: *const u8, len: u64);
        fn zk_sim_dma_read(h: *mut c_void, addr: u64, dst: *mut u8, len: u64);
        fn zk_sim_wait_done(h: *mut c_void, max_cycles: u64) -> i32;
    }

    /// Owns one Verilator model (`zk_sim_new` .. `zk_sim_free`).
    pub(super) struct Handle(*mut c_void);

    // SAFETY: the model has no thread affinity; `Handle` is only used through `&mut`
    // (`Transport` methods) or `&` methods that the owner serializes (the driver keeps the
    // transport behind a mutex), so it is never used from two threads at once.
    unsafe impl Send for Handle {}

    impl Handle {
        pub(super) fn new() -> Self {
            // SAFETY: no preconditions; returns a fresh, owned model.
            let p = unsafe { zk_sim_new() };
            assert!(!p.is_null(), "zk_sim_new returned null");
            Self(p)
        }
        pub(super) fn reset(&self) {
            // SAFETY: `self.0` is a live model from `zk_sim_new`.
            unsafe { zk_sim_reset(self.0) }
        }
        pub(super) fn cycles(&self) -> u64 {
            // SAFETY: as above.
            unsafe { zk_sim_cycles(self.0) }
        }
        pub(super) fn reg_write(&self, addr: u32, value: u32) {
            // SAFETY: as above.
            unsafe { zk_sim_reg_write(self.0, addr, value) }
        }
        pub(super) fn reg_read(&self, addr: u32) -> u32 {
            // SAFETY: as above.
            unsafe { zk_sim_reg_read(self.0, addr) }
        }
        pub(super) fn dma_write(&self, addr: u64, data: &[u8]) {
            // SAFETY: live model; the shim reads exactly `data.len()` bytes from the slice
            // (a multiple of 32, checked by the caller).
            unsafe { zk_sim_dma_write(self.0, addr, data.as_ptr(), data.len() as u64) }
        }
        pub(super) fn dma_read(&self, addr: u64, out: &mut [u8]) {
            // SAFETY: live model; the shim writes exactly `out.len()` bytes into the slice
            // (a multiple of 32, checked by the caller).
            unsafe { zk_sim_dma_read(self.0, addr, out.as_mut_ptr(), out.len() as u64) }
        }
        pub(super) fn wait_done(&self, max_cycles: u64) -> bool {
            // SAFETY: live model.
            unsafe { zk_sim_wait_done(self.0, max_cycles) != 0 }
        }
    }

    impl Drop for Handle {
        fn drop(&mut self) {
            // SAFETY: `self.0` came from `zk_sim_new` and is freed exactly once.
            unsafe { zk_sim_free(self.0) }
        }
    }
}
