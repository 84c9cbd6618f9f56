//! The transport trait: how the driver reaches an engine. The driver speaks one protocol
//! (registers + DMA into card memory + `ap_done`); a transport only moves words.

use crate::error::FpgaResult;
use std::time::Duration;

/// A path to one MSM engine: its register file, its card memory, and its completion.
pub trait Transport: Send {
    /// Short description for reports (`"verilator 5.006 (simulated)"`, `"/dev/xdma0"`).
    fn describe(&self) -> String;
    /// True when the engine is a simulation of the RTL, not hardware.
    fn simulated(&self) -> bool;
    /// Reads the 32-bit register at byte offset `off`.
    fn read_reg(&mut self, off: u32) -> FpgaResult<u32>;
    /// Writes the 32-bit register at byte offset `off`.
    fn write_reg(&mut self, off: u32, value: u32) -> FpgaResult<()>;
    /// Copies `data` (a multiple of 32 bytes) to card memory at byte address `addr`.
    fn dma_write(&mut self, addr: u64, data: &[u8]) -> FpgaResult<()>;
    /// Copies card memory at byte address `addr` into `out` (a multiple of 32 bytes).
    fn dma_read(&mut self, addr: u64, out: &mut [u8]) -> FpgaResult<()>;
    /// Waits until the engine reports `ap_done` (the read that observes it also clears it).
    /// `expected_cycles` is a hint (the simulator advances the clock by about that much
    /// between checks); `timeout` bounds the wait on hardware.
    fn wait_done(&mut self, expected_cycles: u64, timeout: Duration) -> FpgaResult<()>;
}

/// Reads a 64-bit counter held in two registers (low word first).
pub fn read_u64(t: &mut dyn Transport, lo: u32) -> FpgaResult<u64> {
    let l = t.read_reg(lo)? as u64;
    let h = t.read_reg(lo + 4)? as u64;
    Ok(h << 32 | l)
}
