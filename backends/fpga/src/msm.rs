//! The host side of an MSM on the engine: chunking, window choice, streaming points and
//! scalars into card memory, one engine run per window, bucket read-back, bucket reduction
//! and window combination on the CPU, and the cycle statistics.
//!
//! Split of the work (as in the ZPrize 2022 Hardcaml MSM and CycloneMSM): the card owns the
//! `n · ⌈255/c⌉` bucket additions, the host the `2 · 2^(c−1)` additions per window of the
//! running-sum reduction and the `c` doublings per window of the combination.

use crate::error::{FpgaError, FpgaResult};
use crate::regs;
use crate::transport::{read_u64, Transport};
use std::time::Duration;
use zkaccel_backend::curves::Bn254G1;
use zkaccel_backend::{Affine, Projective, Xyzz};

/// Bits of the largest BN254 scalar plus one (signed digits may carry one bit further).
const SCALAR_BITS_SIGNED: u32 = 255;

/// Windows needed for `c`-bit signed digits of a 254-bit scalar.
pub fn windows_for(c: u32) -> u32 {
    SCALAR_BITS_SIGNED.div_ceil(c)
}

/// The window `c` (1..=`max_c`) minimising the estimated engine cycles plus host work for
/// `n` points: `windows · (n + depth + 2^(c−1))`, i.e. one cycle per point, the pipeline
/// drain, and the bucket read-back/reduction per window.
pub fn choose_window_bits(n: usize, max_c: u32, depth: u32) -> u32 {
    (1..=max_c.max(1))
        .min_by_key(|&c| windows_for(c) as u64 * (n as u64 + depth as u64 + (1u64 << (c - 1))))
        .unwrap_or(1)
}

/// Per-call engine statistics, summed over every window pass (and chunk) of one MSM.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct MsmStats {
    /// Points in the call.
    pub points: usize,
    /// Chunks the points were split into (card memory holds `max_points`).
    pub chunks: usize,
    /// Window bits `c`.
    pub window_bits: u32,
    /// Windows per chunk.
    pub windows: u32,
    /// Engine runs (`ap_start` .. `ap_done`).
    pub passes: u64,
    /// Engine cycles (`CYCLES` counter), summed.
    pub cycles: u64,
    /// Cycles in which the adder accepted an addition (`BUSY` counter), summed: also the
    /// number of bucket additions done on the card.
    pub busy_cycles: u64,
    /// Cycles the slicer waited on the scoreboard (`STALL` counter), summed.
    pub stall_cycles: u64,
    /// Bytes sent to card memory (points and scalars).
    pub h2c_bytes: u64,
    /// Bytes read back from card memory (buckets).
    pub c2h_bytes: u64,
    /// True when the engine was the RTL simulation, not a card.
    pub simulated: bool,
}

impl MsmStats {
    /// Clock assumed by [`MsmStats::projected_seconds`] in reports: the image's target.
    pub const DEFAULT_CLOCK_HZ: f64 = 250e6;

    /// `busy / cycles`: the fraction of cycles the adder accepted a new addition.
    pub fn utilisation(&self) -> f64 {
        if self.cycles == 0 {
            0.0
        } else {
            self.busy_cycles as f64 / self.cycles as f64
        }
    }

    /// `stalls / cycles`.
    pub fn stall_rate(&self) -> f64 {
        if self.cycles == 0 {
            0.0
        } else {
            self.stall_cycles as f64 / self.cycles as f64
        }
    }

    /// A projection, not a measurement: `cycles / clock_hz`, the engine's time at that clock
    /// (excluding PCIe transfers and host work).
    pub fn projected_seconds(&self, clock_hz: f64) -> f64 {
        self.cycles as f64 / clock_hz
    }

    /// One line for reports: cycles, utilisation, stalls and the labelled projection.
    pub fn summary(&self, clock_hz: f64) -> String {
        format!(
            "{} points, c = {}, {} passes: {} cycles, adder utilisation {:.1}%, stalls {} \
             ({:.1}%); projection at {:.0} MHz{}: {:.3} ms (engine only, excludes DMA and host)",
            self.points,
            self.window_bits,
            self.passes,
            self.cycles,
            100.0 * self.utilisation(),
            self.stall_cycles,
            100.0 * self.stall_rate(),
            clock_hz / 1e6,
            if self.simulated { ", simulated" } else { "" },
            1e3 * self.projected_seconds(clock_hz)
        )
    }
}

/// Engine facts the driver needs for an MSM.
#[derive(Copy, Clone, Debug)]
pub struct EngineParams {
    /// Points per chunk.
    pub max_points: usize,
    /// Largest `c`.
    pub max_window_bits: u32,
    /// Adder depth.
    pub depth: u32,
    /// Forced `c` (options), if any.
    pub window_bits: Option<u32>,
    /// How long a pass may take on hardware.
    pub timeout: Duration,
}

/// `Σ scalars[i]·points[i]` (scalars canonical) on the engine behind `t`.
pub fn msm(
    t: &mut dyn Transport,
    p: &EngineParams,
    points: &[Affine<Bn254G1>],
    scalars: &[[u64; 4]],
) -> FpgaResult<(Projective<Bn254G1>, MsmStats)> {
    let n = points.len().min(scalars.len());
    let mut stats = MsmStats {
        points: n,
        simulated: t.simulated(),
        ..Default::default()
    };
    let mut total = Xyzz::<Bn254G1>::IDENTITY;
    if n == 0 {
        return Ok((total.to_projective(), stats));
    }
    let chunk = p.max_points.max(1);
    let c = p
        .window_bits
        .unwrap_or_else(|| choose_window_bits(n.min(chunk), p.max_window_bits, p.depth))
        .clamp(1, p.max_window_bits);
    stats.window_bits = c;
    stats.windows = windows_for(c);
    for start in (0..n).step_by(chunk) {
        let end = (start + chunk).min(n);
        let r = msm_chunk(
            t,
            p,
            c,
            &points[start..end],
            &scalars[start..end],
            &mut stats,
        )?;
        total.add_assign(&r);
        stats.chunks += 1;
    }
    Ok((total.to_projective(), stats))
}

fn msm_chunk(
    t: &mut dyn Transport,
    p: &EngineParams,
    c: u32,
    points: &[Affine<Bn254G1>],
    scalars: &[[u64; 4]],
    stats: &mut MsmStats,
) -> FpgaResult<Xyzz<Bn254G1>> {
    let n = points.len();
    // Points go as they are (x, y Montgomery, 64 bytes); the engine never adds a point whose
    // digit is 0, so an infinity base (0, 0) is given the scalar 0 and never touched.
    let pbytes: &[u8] = bytemuck::cast_slice(points);
    t.dma_write(regs::POINTS_BASE, pbytes)?;
    let s: Vec<[u64; 4]> = points
        .iter()
        .zip(scalars)
        .map(|(pt, s)| if pt.is_identity() { [0; 4] } else { *s })
        .collect();
    let sbytes: &[u8] = bytemuck::cast_slice(&s);
    t.dma_write(regs::SCALARS_BASE, sbytes)?;
    stats.h2c_bytes += (pbytes.len() + sbytes.len()) as u64;

    let nb = 1usize << (c - 1);
    let mut buckets = vec![Xyzz::<Bn254G1>::IDENTITY; nb];
    let windows = windows_for(c);
    let mut window_sums = Vec::with_capacity(windows as usize);
    t.write_reg(regs::ARG_NUM_POINTS, n as u32)?;
    t.write_reg(regs::ARG_WINDOW_BITS, c)?;
    for w in 0..windows {
        t.write_reg(regs::ARG_WINDOW_IDX, w)?;
        t.write_reg(regs::CTRL, regs::AP_START)?;
        t.wait_done((n + p.depth as usize) as u64, p.timeout)?;
        stats.passes += 1;
        stats.cycles += read_u64(t, regs::CYCLES_LO)?;
        stats.busy_cycles += read_u64(t, regs::BUSY_LO)?;
        stats.stall_cycles += read_u64(t, regs::STALL_LO)?;
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buckets);
        t.dma_read(regs::BUCKETS_BASE, bytes)?;
        stats.c2h_bytes += bytes.len() as u64;
        window_sums.push(reduce_buckets(&buckets));
    }
    // Σ_w 2^(w·c) · S_w, from the top window down.
    let mut acc = Xyzz::<Bn254G1>::IDENTITY;
    for s in window_sums.iter().rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        acc.add_assign(s);
    }
    Ok(acc)
}

/// `Σ_b (b+1)·bucket[b]` by running sums from the top bucket down (two additions per bucket).
pub fn reduce_buckets(buckets: &[Xyzz<Bn254G1>]) -> Xyzz<Bn254G1> {
    let mut running = Xyzz::<Bn254G1>::IDENTITY;
    let mut acc = Xyzz::<Bn254G1>::IDENTITY;
    for b in buckets.iter().rev() {
        running.add_assign(b);
        acc.add_assign(&running);
    }
    acc
}

/// The signed `c`-bit digits of a canonical scalar, as the engine's slicer computes them
/// (a host-side model, used by tests and by the bench to explain stall rates).
pub fn signed_digits(s: &[u64; 4], c: u32) -> Vec<i32> {
    let bit = |i: u32| -> u32 {
        if i >= 256 {
            0
        } else {
            ((s[(i / 64) as usize] >> (i % 64)) & 1) as u32
        }
    };
    let mut carry = 0u32;
    (0..windows_for(c))
        .map(|w| {
            let raw = (0..c).map(|k| bit(w * c + k) << k).sum::<u32>() + carry;
            if raw > 1 << (c - 1) {
                carry = 1;
                raw as i32 - (1 << c)
            } else {
                carry = 0;
                raw as i32
            }
        })
        .collect()
}

/// Errors from a transport become a failure of the MSM; used by the backend.
pub(crate) fn check_len(points: usize, scalars: usize) -> FpgaResult<()> {
    if points != scalars {
        return Err(FpgaError::Protocol(format!(
            "{points} bases but {scalars} scalars"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_digits_recompose() {
        let s = [
            0x1234_5678_9abc_def0,
            0xffff_ffff_ffff_ffff,
            0x8000_0000_0000_0001,
            0x3064_4e72_e131_a029,
        ];
        for c in 1..=8 {
            let d = signed_digits(&s, c);
            // Σ d_w 2^(w c) == s, checked with i128 pieces over 4 limbs via u64 arithmetic.
            let mut acc = [0i128; 5];
            for (w, &dw) in d.iter().enumerate() {
                let pos = w as u32 * c;
                acc[(pos / 64) as usize] += (dw as i128) << (pos % 64);
            }
            // Normalize carries.
            for k in 0..4 {
                let carry = acc[k] >> 64;
                acc[k] -= carry << 64;
                acc[k + 1] += carry;
            }
            let got: Vec<u64> = acc[..4].iter().map(|&x| x as u64).collect();
            assert_eq!(got, s.to_vec(), "c = {c}");
            assert_eq!(acc[4], 0, "c = {c}: carry out of the top window");
            assert!(d.iter().all(|&x| x <= 1 << (c - 1) && x > -(1 << (c - 1))));
        }
    }

    #[test]
    fn window_choice_is_sane() {
        assert_eq!(windows_for(8), 32);
        assert_eq!(windows_for(1), 255);
        let c = choose_window_bits(1024, 8, 23);
        assert!(c >= 7, "{c}");
        assert!(choose_window_bits(1, 8, 23) <= 6);
    }
}
