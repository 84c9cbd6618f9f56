//! The `xdma` transport: a real card through the Xilinx XDMA driver's character devices
//! (<https://github.com/Xilinx/dma_ip_drivers>, `XDMA/linux-kernel`):
//!
//! - `<prefix>_user`: the AXI4-Lite user BAR; a 4-byte `pread`/`pwrite` at offset
//!   `reg_base + off` reads or writes register `off` of the engine;
//! - `<prefix>_h2c_<n>`: host-to-card DMA; `pwrite` at offset `mem_base + addr` writes card
//!   memory (the engine's DMA port sits behind the shell's AXI-MM interconnect);
//! - `<prefix>_c2h_<n>`: card-to-host DMA; `pread` at offset `mem_base + addr`.
//!
//! `prefix` is `/dev/xdma0` by default (`ZKACCEL_FPGA_XDMA`); `reg_base` and `mem_base`
//! are where the shell maps the engine (`ZKACCEL_FPGA_XDMA_REG_BASE`,
//! `ZKACCEL_FPGA_XDMA_MEM_BASE`, hex or decimal; 0 by default).
//!
//! Untested on hardware: no card was available when this was written. What is tested is
//! the "no device" path (the nodes are absent, so the transport reports itself unavailable).

use crate::error::{FpgaError, FpgaResult};
use crate::transport::Transport;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Where the card is and how the shell maps the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XdmaConfig {
    /// Device-node prefix, e.g. `/dev/xdma0`.
    pub prefix: String,
    /// DMA channel index (`_h2c_<n>`, `_c2h_<n>`).
    pub channel: u32,
    /// Byte offset of the engine's registers in the user BAR.
    pub reg_base: u64,
    /// Card address of the engine's memory window.
    pub mem_base: u64,
}

impl Default for XdmaConfig {
    fn default() -> Self {
        Self {
            prefix: "/dev/xdma0".into(),
            channel: 0,
            reg_base: 0,
            mem_base: 0,
        }
    }
}

fn parse_num(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(&h.replace('_', ""), 16).ok(),
        None => s.parse().ok(),
    }
}

impl XdmaConfig {
    /// The configuration from the environment (`ZKACCEL_FPGA_XDMA`,
    /// `ZKACCEL_FPGA_XDMA_REG_BASE`, `ZKACCEL_FPGA_XDMA_MEM_BASE`), defaults otherwise.
    pub fn from_env() -> Self {
        let mut c = Self::default();
        if let Ok(p) = std::env::var("ZKACCEL_FPGA_XDMA") {
            if !p.trim().is_empty() {
                c.prefix = p.trim().trim_end_matches("_user").to_string();
            }
        }
        if let Some(v) = std::env::var("ZKACCEL_FPGA_XDMA_REG_BASE")
            .ok()
            .and_then(|v| parse_num(&v))
        {
            c.reg_base = v;
        }
        if let Some(v) = std::env::var("ZKACCEL_FPGA_XDMA_MEM_BASE")
            .ok()
            .and_then(|v| parse_num(&v))
        {
            c.mem_base = v;
        }
        c
    }

    /// The register node.
    pub fn user_node(&self) -> String {
        format!("{}_user", self.prefix)
    }
    /// The host-to-card DMA node.
    pub fn h2c_node(&self) -> String {
        format!("{}_h2c_{}", self.prefix, self.channel)
    }
    /// The card-to-host DMA node.
    pub fn c2h_node(&self) -> String {
        format!("{}_c2h_{}", self.prefix, self.channel)
    }

    /// True when the register node exists (a card with the XDMA driver loaded).
    pub fn present(&self) -> bool {
        Path::new(&self.user_node()).exists()
    }
}

/// An open card.
#[derive(Debug)]
pub struct XdmaTransport {
    cfg: XdmaConfig,
    user: File,
    h2c: File,
    c2h: File,
}

fn open_node(path: &str) -> FpgaResult<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                FpgaError::Unavailable(format!("no XDMA device: {path} does not exist"))
            } else {
                FpgaError::Io {
                    op: "open",
                    path: path.to_string(),
                    detail: e.to_string(),
                }
            }
        })
}

impl XdmaTransport {
    /// Opens the three nodes; `Unavailable` when the card (or its driver) is absent.
    pub fn open(cfg: &XdmaConfig) -> FpgaResult<Self> {
        let user = open_node(&cfg.user_node())?;
        let h2c = open_node(&cfg.h2c_node())?;
        let c2h = open_node(&cfg.c2h_node())?;
        Ok(Self {
            cfg: cfg.clone(),
            user,
            h2c,
            c2h,
        })
    }

    fn io(&self, op: &'static str, path: String, e: std::io::Error) -> FpgaError {
        let _ = self;
        FpgaError::Io {
            op,
            path,
            detail: e.to_string(),
        }
    }
}

impl Transport for XdmaTransport {
    fn describe(&self) -> String {
        format!("XDMA {}", self.cfg.prefix)
    }
    fn simulated(&self) -> bool {
        false
    }
    fn read_reg(&mut self, off: u32) -> FpgaResult<u32> {
        let mut b = [0u8; 4];
        self.user
            .read_exact_at(&mut b, self.cfg.reg_base + off as u64)
            .map_err(|e| self.io("register read", self.cfg.user_node(), e))?;
        Ok(u32::from_le_bytes(b))
    }
    fn write_reg(&mut self, off: u32, value: u32) -> FpgaResult<()> {
        self.user
            .write_all_at(&value.to_le_bytes(), self.cfg.reg_base + off as u64)
            .map_err(|e| self.io("register write", self.cfg.user_node(), e))
    }
    fn dma_write(&mut self, addr: u64, data: &[u8]) -> FpgaResult<()> {
        self.h2c
            .write_all_at(data, self.cfg.mem_base + addr)
            .map_err(|e| self.io("DMA write", self.cfg.h2c_node(), e))
    }
    fn dma_read(&mut self, addr: u64, out: &mut [u8]) -> FpgaResult<()> {
        self.c2h
            .read_exact_at(out, self.cfg.mem_base + addr)
            .map_err(|e| self.io("DMA read", self.cfg.c2h_node(), e))
    }
    fn wait_done(&mut self, _expected_cycles: u64, timeout: Duration) -> FpgaResult<()> {
        // Polling: reading CTRL clears ap_done, so the read that sees it is the
        // acknowledgement. (The interrupt path, GIE/IER + the XDMA events node, is left to
        // a later version.)
        let start = Instant::now();
        let mut pause = Duration::from_micros(10);
        loop {
            if self.read_reg(crate::regs::CTRL)? & crate::regs::AP_DONE != 0 {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(FpgaError::Timeout {
                    limit: format!("{} ms", timeout.as_millis()),
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_card_is_unavailable_not_an_error() {
        let cfg = XdmaConfig {
            prefix: "/dev/zkaccel-test-no-such-xdma".into(),
            ..Default::default()
        };
        assert!(!cfg.present());
        match XdmaTransport::open(&cfg) {
            Err(FpgaError::Unavailable(m)) => assert!(m.contains("does not exist"), "{m}"),
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    /// Plain files stand in for the three nodes: checks the offsets the transport uses
    /// (registers at `reg_base + off`, DMA at `mem_base + addr`, little-endian words). A
    /// file has no register side effects, so this is not a card; it only pins the layout.
    #[test]
    fn offsets_on_stand_in_files() {
        let dir = std::env::temp_dir().join(format!("zkaccel-xdma-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let prefix = dir.join("xdma7").display().to_string();
        let cfg = XdmaConfig {
            prefix: prefix.clone(),
            channel: 0,
            reg_base: 0x1000,
            mem_base: 0x40,
        };
        for n in [cfg.user_node(), cfg.h2c_node(), cfg.c2h_node()] {
            std::fs::write(&n, vec![0u8; 0x2000]).unwrap();
        }
        let mut t = XdmaTransport::open(&cfg).unwrap();
        assert!(!t.simulated());
        t.write_reg(crate::regs::ARG_WINDOW_BITS, 0x0102_0304)
            .unwrap();
        let user = std::fs::read(cfg.user_node()).unwrap();
        assert_eq!(&user[0x1018..0x101C], &[4, 3, 2, 1]);
        assert_eq!(
            t.read_reg(crate::regs::ARG_WINDOW_BITS).unwrap(),
            0x0102_0304
        );
        t.dma_write(0x20, &[7u8; 32]).unwrap();
        let h2c = std::fs::read(cfg.h2c_node()).unwrap();
        assert_eq!(&h2c[0x60..0x80], &[7u8; 32]);
        assert!(h2c[0x40..0x60].iter().all(|&b| b == 0));
        let mut back = [1u8; 32];
        t.dma_read(0x20, &mut back).unwrap();
        assert_eq!(back, [0u8; 32], "c2h is its own node");
        // An image whose manifest says `simulated` is refused on hardware.
        let id = crate::manifest::Manifest::sim_default().unwrap();
        for (off, v) in [
            (crate::regs::IMAGE_ID, id.image.image_id),
            (crate::regs::VERSION, 0x0001_0000),
            (crate::regs::CAPS, 0x0A17_8101),
            (crate::regs::MAX_POINTS, 1024),
        ] {
            t.write_reg(off, v).unwrap();
        }
        match crate::FpgaBackend::open(Box::new(t), id, &Default::default()) {
            Err(FpgaError::ManifestInvalid { detail, .. }) => {
                assert!(detail.contains("synthesized"), "{detail}")
            }
            other => panic!("expected refusal of a simulated-only image, got {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn numbers_parse() {
        assert_eq!(parse_num("0x10_0000"), Some(0x100000));
        assert_eq!(parse_num("4096"), Some(4096));
        assert_eq!(parse_num("zz"), None);
    }
}
