//! The engine's register map and card memory map, version 1.0: the Rust twin of the header
//! comment and the `case` statements of `kernels/rtl/zkaccel_msm_bn254.sv`. A unit test
//! parses the RTL and checks every constant here against it.
//!
//! The control block follows XRT's `ap_ctrl_hs` protocol (Vitis HLS kernels): the host
//! writes the arguments, sets `ap_start`, waits for `ap_done` (polling `CTRL`, or the
//! interrupt when `GIE`/`IER` enable it), and reads the results. `ap_done` and `ap_ready`
//! clear when `CTRL` is read; `ISR` bits toggle when written with 1.

/// `CTRL`: bit 0 `ap_start`, bit 1 `ap_done`, bit 2 `ap_idle`, bit 3 `ap_ready`.
pub const CTRL: u32 = 0x00;
/// `GIE`: global interrupt enable (bit 0).
pub const GIE: u32 = 0x04;
/// `IER`: interrupt enable, bit 0 `ap_done`, bit 1 `ap_ready`.
pub const IER: u32 = 0x08;
/// `ISR`: interrupt status, bit 0 `ap_done`, bit 1 `ap_ready` (toggle on write).
pub const ISR: u32 = 0x0C;
/// Argument: number of points of this pass (at most `MAX_POINTS`).
pub const ARG_NUM_POINTS: u32 = 0x10;
/// Argument: window bits `c` (1 to the CAPS maximum).
pub const ARG_WINDOW_BITS: u32 = 0x18;
/// Argument: window index `w`: the pass uses scalar bits `[w·c, w·c + c)`.
pub const ARG_WINDOW_IDX: u32 = 0x20;
/// Read-only image identifier; must equal the manifest's `image_id`.
pub const IMAGE_ID: u32 = 0x40;
/// Read-only register-map version, `major << 16 | minor`.
pub const VERSION: u32 = 0x44;
/// Read-only capabilities: `[7:0]` curve id, `[11:8]` group id, `[15:12]` maximum window
/// bits, `[23:16]` adder pipeline depth in cycles, `[31:24]` log2 of `MAX_POINTS`.
pub const CAPS: u32 = 0x48;
/// Read-only: points the card memory holds.
pub const MAX_POINTS: u32 = 0x4C;
/// Read-only 64-bit counter (low word; high word at +4): cycles of the last run.
pub const CYCLES_LO: u32 = 0x50;
/// Read-only 64-bit counter (low word): cycles in which the adder accepted an addition.
pub const BUSY_LO: u32 = 0x58;
/// Read-only 64-bit counter (low word): cycles the slicer waited on the scoreboard.
pub const STALL_LO: u32 = 0x60;

/// `CTRL` bit: start (written by the host, cleared by the engine at the end of the run).
pub const AP_START: u32 = 1 << 0;
/// `CTRL` bit: the run finished (clear on read).
pub const AP_DONE: u32 = 1 << 1;
/// `CTRL` bit: the engine is idle.
pub const AP_IDLE: u32 = 1 << 2;
/// `CTRL` bit: the engine can take new arguments (clear on read).
pub const AP_READY: u32 = 1 << 3;

/// Register-map version this driver speaks (major, minor): majors must match.
pub const DRIVER_VERSION: (u16, u16) = (1, 0);

/// Card memory: point `i` at `POINTS_BASE + 64·i` (x then y, Montgomery, 32 bytes each).
pub const POINTS_BASE: u64 = 0x0000_0000;
/// Card memory: scalar `i` at `SCALARS_BASE + 32·i` (canonical, little-endian).
pub const SCALARS_BASE: u64 = 0x2000_0000;
/// Card memory: bucket `b` at `BUCKETS_BASE + 128·b` (X, Y, ZZ, ZZZ; empty: ZZ = 0).
pub const BUCKETS_BASE: u64 = 0x4000_0000;
/// DMA beat size in bytes: one 256-bit word.
pub const BEAT: usize = 32;

/// The decoded `CAPS` register.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Curve id, in zkaccel's `CurveId` numbering (1 = BN254).
    pub curve: u8,
    /// Group id (1 = G1).
    pub group: u8,
    /// Largest window `c` the engine accepts.
    pub max_window_bits: u8,
    /// Adder pipeline depth, cycles.
    pub pipeline_depth: u8,
    /// log2 of the number of points the card memory holds.
    pub log_max_points: u8,
}

impl Caps {
    /// Decodes the register value.
    pub fn decode(v: u32) -> Self {
        Self {
            curve: (v & 0xFF) as u8,
            group: ((v >> 8) & 0xF) as u8,
            max_window_bits: ((v >> 12) & 0xF) as u8,
            pipeline_depth: ((v >> 16) & 0xFF) as u8,
            log_max_points: (v >> 24) as u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn rtl() -> String {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../kernels/rtl/zkaccel_msm_bn254.sv"
        );
        std::fs::read_to_string(p).expect("read the RTL top level")
    }

    /// Every `12'hXXX: reg_rdata = <expr>;` line of the RTL's read mux, by offset.
    fn read_mux(src: &str) -> BTreeMap<u32, String> {
        let mut m = BTreeMap::new();
        for line in src.lines() {
            let l = line.trim();
            if let Some(rest) = l.strip_prefix("12'h") {
                if let Some((off, expr)) = rest.split_once(':') {
                    if let Some(e) = expr.trim().strip_prefix("reg_rdata = ") {
                        let off = u32::from_str_radix(off.trim(), 16).expect("hex offset");
                        m.insert(off, e.trim_end_matches(';').trim().to_string());
                    }
                }
            }
        }
        m
    }

    #[test]
    fn constants_match_the_rtl() {
        let src = rtl();
        let m = read_mux(&src);
        let expect = [
            (CTRL, "ap_start"),
            (GIE, "gie"),
            (IER, "ier"),
            (ISR, "isr"),
            (ARG_NUM_POINTS, "arg_n"),
            (ARG_WINDOW_BITS, "arg_c"),
            (ARG_WINDOW_IDX, "arg_w"),
            (IMAGE_ID, "IMAGE_ID"),
            (VERSION, "VERSION_MAJOR"),
            (CAPS, "CAPS"),
            (MAX_POINTS, "MAX_POINTS"),
            (CYCLES_LO, "cnt_cycles[31:0]"),
            (CYCLES_LO + 4, "cnt_cycles[63:32]"),
            (BUSY_LO, "cnt_busy[31:0]"),
            (BUSY_LO + 4, "cnt_busy[63:32]"),
            (STALL_LO, "cnt_stall[31:0]"),
            (STALL_LO + 4, "cnt_stall[63:32]"),
        ];
        for (off, needle) in expect {
            let e = m
                .get(&off)
                .unwrap_or_else(|| panic!("the RTL read mux has no register at {off:#x}"));
            assert!(
                e.contains(needle),
                "register {off:#x}: the RTL reads `{e}`, expected it to involve `{needle}`"
            );
        }
        // The writable registers decode the same offsets.
        for (off, needle) in [
            (CTRL, "ap_start <= 1'b1"),
            (GIE, "gie <="),
            (IER, "ier <="),
            (ISR, "isr <="),
            (ARG_NUM_POINTS, "arg_n <="),
            (ARG_WINDOW_BITS, "arg_c <="),
            (ARG_WINDOW_IDX, "arg_w <="),
        ] {
            let pat = format!("12'h{off:03X}:");
            assert!(
                src.lines()
                    .any(|l| l.trim().starts_with(&pat) && l.contains(needle)),
                "no RTL write decode `{pat} ... {needle}`"
            );
        }
        // CTRL bit positions.
        let ctrl = &m[&CTRL];
        assert_eq!(
            ctrl, "{28'd0, ap_ready, state == S_IDLE && !ap_start, ap_done, ap_start}",
            "CTRL layout changed in the RTL"
        );
        assert_eq!((AP_START, AP_DONE, AP_IDLE, AP_READY), (1, 2, 4, 8));
        // Version and memory map.
        assert!(src.contains(&format!(
            "localparam logic [15:0] VERSION_MAJOR = 16'd{};",
            DRIVER_VERSION.0
        )));
        assert!(src.contains(&format!(
            "localparam logic [15:0] VERSION_MINOR = 16'd{};",
            DRIVER_VERSION.1
        )));
        for (base, region) in [(POINTS_BASE, 0u64), (SCALARS_BASE, 1), (BUCKETS_BASE, 2)] {
            // Region = beat-address bits [25:24] = byte-address bits [30:29].
            assert_eq!(base >> 29, region);
            assert!(
                src.contains(&format!("0x{base:08X}")),
                "memory map comment lacks {base:#x}"
            );
        }
        assert!(src.contains("2'd1: mem_s[") && src.contains("if (dma_raddr[25:24] == 2'd2)"));
        // CAPS packing.
        assert!(
            src.contains("localparam logic [31:0] CAPS = {LOG_MAX_POINTS[7:0], ADD_LATENCY[7:0],")
        );
        assert!(src.contains("MAX_WINDOW_BITS[3:0], GROUP_ID, CURVE_ID};"));
    }

    #[test]
    fn caps_decode() {
        let c = Caps::decode(0x0A17_8101);
        assert_eq!(
            c,
            Caps {
                curve: 1,
                group: 1,
                max_window_bits: 8,
                pipeline_depth: 0x17,
                log_max_points: 10
            }
        );
    }
}
