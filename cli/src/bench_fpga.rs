//! `zkaccel bench --backend fpga`: the FPGA engine's rows. An FPGA simulation never reports
//! wall-clock throughput: each row gives the engine cycles the RTL took (summed over the
//! window passes), the adder utilisation (cycles in which the adder accepted an addition,
//! over all cycles), the scoreboard stalls, and a projection `cycles / f_clock` labelled as
//! such. A real card (XDMA) additionally gets its measured wall-clock time. Every result is
//! checked against the CPU backend first.

use anyhow::{bail, Result};
use std::time::Instant;
use zkaccel::curves::{Bn254Fr, Bn254G1};
use zkaccel::{Affine, Backend, PointsView, PrimeField, Projective, ScalarsView};

/// Runs MSM BN254 G1 of `2^log_n` points for each size on every FPGA engine (the simulator
/// included: asking for `--backend fpga` is asking for it); prints a table, or returns
/// JSON rows when `json`.
pub fn run(sizes: &[u32], clock_mhz: f64, json: bool) -> Result<Vec<serde_json::Value>> {
    let engines = match zkaccel_fpga::discover(true) {
        Ok(e) => e,
        Err(why) => bail!("backend 'fpga' is not available on this machine: {why}"),
    };
    let cpu = zkaccel_cpu::CpuBackend::new();
    let clock = clock_mhz * 1e6;
    let mut rows = Vec::new();
    for e in &engines {
        let sim = e.info().simulated;
        if !json {
            println!(
                "\nFPGA engine: {}{}\n  {}",
                e.info().name,
                if sim {
                    "  [SIMULATED: cycles from the RTL simulation, no wall-clock figures]"
                } else {
                    ""
                },
                e.info().driver
            );
            println!(
                "  {:<12} {:>7} {:>3} {:>6} {:>11} {:>10} {:>18} {:>28} {:>9}",
                "msm",
                "points",
                "c",
                "passes",
                "cycles",
                "adder util",
                "stalls (rate)",
                format!(
                    "projection at {clock_mhz:.0} MHz{}",
                    if sim { ", simulated" } else { "" }
                ),
                "verified"
            );
        }
        for &log_n in sizes {
            let n = 1usize << log_n;
            let (bases, scalars) = input(n, log_n as u64);
            let start = Instant::now();
            let (r, stats) = e.msm_bn254(&bases, &scalars)?;
            let wall = start.elapsed();
            let want = cpu
                .msm(
                    &PointsView::from_affine(&bases).raw(),
                    &ScalarsView::from_elements(&scalars).raw(),
                )?
                .to_projective::<Bn254G1>()?;
            let ok = want == r;
            let proj_ms = 1e3 * stats.projected_seconds(clock);
            if json {
                rows.push(serde_json::json!({
                    "op": "msm", "target": "bn254-g1", "log_n": log_n,
                    "device": e.info().name, "simulated": sim,
                    "window_bits": stats.window_bits, "passes": stats.passes,
                    "cycles": stats.cycles, "adder_busy_cycles": stats.busy_cycles,
                    "stall_cycles": stats.stall_cycles, "adder_utilisation": stats.utilisation(),
                    "stall_rate": stats.stall_rate(),
                    "projection": { "clock_mhz": clock_mhz, "ms": proj_ms,
                                    "label": if sim { "projection, simulated" } else { "projection" } },
                    "wall_ms": if sim { None } else { Some(wall.as_secs_f64() * 1e3) },
                    "verified": ok,
                }));
            } else {
                println!(
                    "  {:<12} {:>7} {:>3} {:>6} {:>11} {:>9.1}% {:>10} ({:>4.1}%) {:>25.3} ms {:>9}{}",
                    "bn254-g1",
                    n,
                    stats.window_bits,
                    stats.passes,
                    stats.cycles,
                    100.0 * stats.utilisation(),
                    stats.stall_cycles,
                    100.0 * stats.stall_rate(),
                    proj_ms,
                    if ok { "yes" } else { "MISMATCH" },
                    if sim { String::new() } else { format!("  wall {:.3} ms", wall.as_secs_f64() * 1e3) }
                );
            }
            if !ok {
                bail!("the FPGA result for 2^{log_n} points differs from the CPU backend");
            }
        }
        if !json && sim {
            println!(
                "  (projection = engine cycles / {clock_mhz:.0} MHz: not a measurement; excludes \
                 PCIe DMA and the host's bucket reduction)"
            );
        }
    }
    Ok(rows)
}

fn input(n: usize, seed: u64) -> (Vec<Affine<Bn254G1>>, Vec<Bn254Fr>) {
    let mut s = 0x9e37_79b9_7f4a_7c15u64 ^ seed;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let g = Projective::<Bn254G1>::generator();
    let step = g.mul(&Bn254Fr::random_with(&mut next)).to_affine();
    let mut p = g.mul(&Bn254Fr::random_with(&mut next));
    let mut pts = Vec::with_capacity(n);
    for _ in 0..n {
        pts.push(p);
        p = p.add_affine(&step);
    }
    let scalars = (0..n).map(|_| Bn254Fr::random_with(&mut next)).collect();
    (Projective::batch_to_affine(&pts), scalars)
}
