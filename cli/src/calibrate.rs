//! `zkaccel calibrate`: measures which device is fastest for each operation and size on this
//! machine and writes the profile the runtime's `Auto` policy follows
//! (`zkaccel::profile`).
//!
//! Every device the runtime finds (and those of the kinds named with `--backend`) runs the
//! same inputs, each on its own; each (operation, size, device) gets a warm-up and `--reps`
//! timed runs, and the median is recorded. Results are checked equal across devices before they are recorded: a device that
//! disagrees is left out of the profile (and reported), so routing never favours a device
//! that computes something else.

use crate::bench::{random_bases, rng};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;
use zkaccel::curves::{Bls12_381G1, Bn254G1};
use zkaccel::{
    BabyBear, CurveGroup, DeviceKind, Goldilocks, HashId, Policy, PrimeField, Profile, Runtime,
    TwoAdicField,
};

/// Options of `zkaccel calibrate`.
#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Backends to measure (cpu, opencl, cuda, fpga); default: every device the runtime
    /// finds, plus OpenCL devices that run on the host CPU.
    #[arg(long, value_delimiter = ',')]
    backend: Vec<DeviceKind>,
    /// MSM sizes as log2 (BN254 G1 and BLS12-381 G1).
    #[arg(long, value_delimiter = ',', default_value = "6,8,10,12,14,16")]
    msm_sizes: Vec<u32>,
    /// NTT sizes as log2 (BN254 Fr, Goldilocks, BabyBear; forward transforms).
    #[arg(long, value_delimiter = ',', default_value = "8,10,12,14,16,18")]
    ntt_sizes: Vec<u32>,
    /// Poseidon2 (Plonky3 BabyBear width 16) sizes as log2 of the permutations.
    #[arg(long, value_delimiter = ',', default_value = "8,12,16")]
    hash_sizes: Vec<u32>,
    /// Timed repetitions per measurement (after one warm-up run).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Where to write the profile (default: `zkaccel::Profile::default_path()`,
    /// `~/.config/zkaccel/profile.json`).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The devices to measure, one runtime each, with their profile keys.
///
/// Every device the runtime finds is measured on its own, through a runtime that holds only
/// that device (plus the kinds named with `--backend` that `Auto` does not open, such as
/// CUDA without `ZKACCEL_CUDA=1`). Devices with the same profile key (`<kind>:<name>`: several
/// cards of one model) are measured once, since the profile names models, not slots.
fn runtimes(args: &CalibrateArgs) -> Result<Vec<(String, Runtime)>> {
    let probe = Runtime::builder().without_profile().build()?;
    let mut devices: Vec<zkaccel::Device> = probe.devices().to_vec();
    let mut asked = Vec::new();
    for k in &args.backend {
        if !devices.iter().any(|d| d.info.kind == *k) && !asked.contains(k) {
            asked.push(*k);
            let rt = Runtime::builder()
                .policy(Policy::Only(*k))
                .without_profile()
                .build()?;
            devices.extend(rt.devices().iter().filter(|d| d.info.kind == *k).cloned());
        }
    }
    if !args.backend.is_empty() {
        devices.retain(|d| args.backend.contains(&d.info.kind));
    }
    let mut out: Vec<(String, Runtime)> = Vec::new();
    for d in devices {
        let key = Profile::device_key(&d);
        if out.iter().any(|(k, _)| *k == key) {
            continue;
        }
        if d.info.simulated {
            // A simulator's wall time says nothing about the hardware it models.
            eprintln!(
                "calibrate: {} is simulated: left out of the profile",
                d.info.name
            );
            continue;
        }
        let rt = if d.info.kind == DeviceKind::Cpu {
            Runtime::builder()
                .policy(Policy::Only(DeviceKind::Cpu))
                .without_profile()
                .build()?
        } else {
            // This device alone: discovery of its kind is off where the builder allows it,
            // and the device given first is the one `Only(kind)` routes to.
            Runtime::builder()
                .policy(Policy::Only(d.info.kind))
                .with_backend(d.backend().clone())
                .without_cpu()
                .without_opencl()
                .without_cuda()
                .without_plugin_env()
                .without_profile()
                .build()?
        };
        out.push((key, rt));
    }
    if out.is_empty() {
        bail!("no device to calibrate");
    }
    Ok(out)
}

/// Median of a warm-up plus `reps` runs of `f`, milliseconds, and the last result.
fn median_ms<R>(reps: usize, mut f: impl FnMut() -> Result<R>) -> Result<(f64, R)> {
    let mut last = f()?;
    let mut t = Vec::with_capacity(reps.max(1));
    for _ in 0..reps.max(1) {
        let s = Instant::now();
        last = f()?;
        t.push(s.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(|a, b| a.total_cmp(b));
    Ok((t[t.len() / 2], last))
}

/// One measurement row: every device on the same input; devices whose result differs from
/// the first device's are reported and left out.
fn measure<R: PartialEq>(
    profile: &mut Profile,
    op: &str,
    log_n: u32,
    devices: &[(String, Runtime)],
    reps: usize,
    mut run: impl FnMut(&Runtime) -> Result<R>,
) -> Result<()> {
    let mut reference: Option<R> = None;
    let mut row = Vec::new();
    for (key, rt) in devices {
        let (ms, r) = match median_ms(reps, || run(rt)) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("calibrate: {op} 2^{log_n} on {key}: {e:#} (left out)");
                continue;
            }
        };
        match &reference {
            None => reference = Some(r),
            Some(want) if *want != r => {
                eprintln!("calibrate: {op} 2^{log_n} on {key}: result differs (left out)");
                continue;
            }
            Some(_) => {}
        }
        profile.record(op, log_n, key, ms);
        row.push(format!("{key} {ms:.3} ms"));
    }
    println!("{op:<45} 2^{log_n:<3} {}", row.join("  |  "));
    Ok(())
}

fn msm<C: CurveGroup>(
    profile: &mut Profile,
    devices: &[(String, Runtime)],
    args: &CalibrateArgs,
) -> Result<()> {
    let mut next = rng();
    for &k in &args.msm_sizes {
        let n = 1usize << k;
        let bases = random_bases::<C>(n, &mut next);
        let scalars: Vec<C::Scalar> = (0..n).map(|_| C::Scalar::random_with(&mut next)).collect();
        measure(
            profile,
            &format!("msm:{}", C::id()),
            k,
            devices,
            args.reps,
            |rt| Ok(rt.msm(&bases, &scalars)?),
        )?;
    }
    Ok(())
}

fn ntt<F: TwoAdicField>(
    profile: &mut Profile,
    devices: &[(String, Runtime)],
    args: &CalibrateArgs,
) -> Result<()> {
    let mut next = rng();
    for &k in &args.ntt_sizes {
        if k > F::TWO_ADICITY {
            continue;
        }
        let input: Vec<F> = (0..1usize << k)
            .map(|_| F::random_with(&mut next))
            .collect();
        let op = format!("ntt:{}", F::ID.name());
        measure(profile, &op, k, devices, args.reps, |rt| {
            let d = rt.ntt_domain::<F>(k)?;
            let mut v = input.clone();
            d.forward(&mut v)?;
            Ok(v)
        })?;
    }
    Ok(())
}

fn hash(profile: &mut Profile, devices: &[(String, Runtime)], args: &CalibrateArgs) -> Result<()> {
    let id = HashId::Poseidon2Plonky3BabyBearT16;
    let mut next = rng();
    for &k in &args.hash_sizes {
        let input: Vec<BabyBear> = (0..16usize << k)
            .map(|_| BabyBear::random_with(&mut next))
            .collect();
        // The runtime routes hashing by the elements in and out: 16 per state, in place.
        let log_elems = k + 4;
        let op = format!("hash:{}", id.name());
        measure(profile, &op, log_elems, devices, args.reps, |rt| {
            let mut s = input.clone();
            rt.permute(id, &mut s)?;
            Ok(s)
        })?;
    }
    Ok(())
}

/// Runs `zkaccel calibrate`.
pub fn run(args: CalibrateArgs) -> Result<()> {
    let devices = runtimes(&args)?;
    println!(
        "calibrating {} device(s): {}",
        devices.len(),
        devices
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut profile = Profile::new(crate::host_description());
    msm::<Bn254G1>(&mut profile, &devices, &args)?;
    msm::<Bls12_381G1>(&mut profile, &devices, &args)?;
    ntt::<zkaccel::curves::Bn254Fr>(&mut profile, &devices, &args)?;
    ntt::<Goldilocks>(&mut profile, &devices, &args)?;
    ntt::<BabyBear>(&mut profile, &devices, &args)?;
    hash(&mut profile, &devices, &args)?;
    println!();
    print_winners(&profile);
    let path = match &args.out {
        Some(p) => p.clone(),
        None => Profile::default_path()
            .context("no default profile location (set --out, or HOME / XDG_CONFIG_HOME)")?,
    };
    profile
        .save(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    println!("profile written to {}", path.display());
    Ok(())
}

/// The fastest device per operation and size, and where it changes (the crossovers).
pub fn print_winners(profile: &Profile) {
    for (op, winners) in profile.winners() {
        let mut line = String::new();
        let mut last: Option<&str> = None;
        for (k, dev) in &winners {
            if last != Some(dev.as_str()) {
                if last.is_some() {
                    line.push_str(&format!(" → from 2^{k}: "));
                } else {
                    line.push_str(&format!("from 2^{k}: "));
                }
                line.push_str(dev);
                last = Some(dev.as_str());
            }
        }
        println!("  {op:<45} {line}");
    }
}
