//! Result verification: catching a wrong answer from a device before it reaches the caller.
//!
//! A GPU with a marginal memory cell, an FPGA image with a timing fault or a buggy plugin
//! can return a wrong MSM, and the prover only finds out when the proof fails to verify
//! (on-chain, hours later). The runtime can check what a device returns, per runtime
//! ([`crate::RuntimeBuilder::verification`], or `ZKACCEL_VERIFY=off|sampled|full`) or per
//! call ([`CallOptions`]):
//!
//! | operation | `Sampled` | `Full` |
//! |---|---|---|
//! | NTT | the randomized O(n) check below on one random column of the batch | the same check on every column |
//! | hashing | recompute `8 + items/128` random outputs on the CPU | recompute every output on the CPU |
//! | MSM | the result is on the curve and in the prime-order subgroup; and one call in [`MSM_CROSS_CHECK_ONE_IN`] is recomputed on the CPU | every call recomputed on the CPU (or another device) |
//!
//! **The NTT check** (Freivalds-style, after "Probabilistic machines can use less running
//! time", 1977): every transform the runtime offers has the form
//! `out_i = c·hⁱ·Σ_j bʲ·in_j·wⁱʲ` (`w` the domain's root or its inverse, `b`/`h` the coset
//! shift or its inverse, `c` one or `1/n`). For a random `r`,
//! `Σ_i rⁱ·out_i = c·Σ_j bʲ·in_j·((rh)ⁿ − 1)/(rh·wʲ − 1)`, which costs O(n) multiplications
//! and one batched inversion instead of a second transform. A wrong output is a non-zero
//! error polynomial of degree < n in `r`, so one check misses it with probability at most
//! `n/p`; the check is repeated until that bound is below 2⁻⁴⁰ (once for the 254-bit and
//! 64-bit fields, four times for BabyBear at 2²⁰). It needs the input, so a verified NTT
//! keeps one copy of its data (the same copy lets a fallback start from the original input).
//!
//! **MSM**: no check much cheaper than the MSM itself is known for a general MSM. The
//! on-curve and subgroup tests catch corrupted coordinates (a random point of the
//! ambient space is off the curve with overwhelming probability) but not a wrong valid
//! point (a dropped bucket, a wrong digit); only the cross-check catches those, so `Sampled`
//! does it for a random fraction of the calls and `Full` for all of them.
//!
//! Results computed by the runtime's own CPU backend (the oracle every other backend is
//! tested against) are not checked. A failed check is counted in [`crate::Stats`] and, by
//! [`OnVerifyFailure`], either reruns the call on the next device or returns
//! [`crate::Error::VerificationFailed`].

use rayon::prelude::*;
use std::time::Duration;
use zkaccel_backend::{
    BatchLayout, NttConfig, NttDirection, NttDomainSpec, NttOrder, TwoAdicField,
};

/// How much of a device's results the runtime checks.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verification {
    /// No checks (the default).
    #[default]
    Off,
    /// Cheap probabilistic checks on every call (see the module documentation).
    Sampled,
    /// Every result checked: NTT columns all tested, hashes all recomputed, MSMs
    /// recomputed on another backend.
    Full,
}

impl std::str::FromStr for Verification {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" | "none" | "0" => Ok(Verification::Off),
            "sampled" | "sample" => Ok(Verification::Sampled),
            "full" | "all" => Ok(Verification::Full),
            other => Err(format!(
                "unknown verification level '{other}' (expected off, sampled or full)"
            )),
        }
    }
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verification::Off => "off",
            Verification::Sampled => "sampled",
            Verification::Full => "full",
        })
    }
}

/// What a failed check does.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum OnVerifyFailure {
    /// Run the call again on the next capable device, as after a device error (the default).
    #[default]
    Rerun,
    /// Return [`crate::Error::VerificationFailed`] to the caller.
    Error,
}

/// Per-call settings that override the runtime's defaults.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Result verification for this call (`None`: the runtime's default).
    pub verification: Option<Verification>,
    /// Give up after this long (`None`: the runtime's default, which is no limit). The
    /// limit is cooperative: no new device is tried after it, and backends stop at their
    /// next check point (see [`zkaccel_backend::deadline`]).
    pub timeout: Option<Duration>,
}

/// Under [`Verification::Sampled`], one MSM call in this many (chosen at random) is
/// recomputed on the CPU.
pub const MSM_CROSS_CHECK_ONE_IN: u32 = 16;

/// Soundness target of the randomized NTT check: the probability that a wrong result
/// passes is below `2^-NTT_CHECK_BITS`.
pub const NTT_CHECK_BITS: u32 = 40;

/// A random `u64` from the thread's OS-seeded generator (the device cannot predict it).
pub(crate) fn random_u64() -> u64 {
    rand::random()
}

/// Items of `total` to recompute for a sampled hashing check.
pub(crate) fn hash_sample(level: Verification, total: usize) -> Vec<usize> {
    match level {
        Verification::Off => Vec::new(),
        Verification::Full => (0..total).collect(),
        Verification::Sampled => {
            let k = (8 + total / 128).min(total);
            if k == total {
                return (0..total).collect();
            }
            let mut v: Vec<usize> = (0..k)
                .map(|_| (random_u64() % total as u64) as usize)
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        }
    }
}

/// Repetitions of the NTT check for a field of `bits` bits and size `2^log_n`.
fn ntt_reps(bits: u32, log_n: u32) -> u32 {
    let per = bits.saturating_sub(log_n + 1).max(1);
    NTT_CHECK_BITS.div_ceil(per)
}

/// Where element `i` of column `col` lives.
struct Layout {
    n: usize,
    log_n: u32,
    batch: usize,
    layout: BatchLayout,
}

impl Layout {
    #[inline]
    fn pos(&self, col: usize, i: usize, order: NttOrder) -> usize {
        let k = match order {
            NttOrder::Natural => i,
            NttOrder::BitReversed if self.log_n == 0 => i,
            NttOrder::BitReversed => i.reverse_bits() >> (usize::BITS - self.log_n),
        };
        match self.layout {
            BatchLayout::Contiguous => col * self.n + k,
            BatchLayout::Interleaved => k * self.batch + col,
        }
    }
}

/// Checks that `output` is the transform `cfg` of `input` over the domain `spec`, on the
/// columns `columns` (see the module documentation). `input` and `output` hold
/// `n · cfg.batch` elements each. Returns the first failing column.
pub(crate) fn ntt_check<F: TwoAdicField>(
    input: &[F],
    output: &[F],
    spec: &NttDomainSpec,
    cfg: &NttConfig,
    columns: &[usize],
) -> Result<(), usize> {
    let n = spec.size();
    let log_n = spec.log_n;
    let omega: F = spec.root_as::<F>().expect("validated domain root");
    let g: F = match &cfg.coset {
        Some(l) => zkaccel_backend::backend::decode_padded::<F>(l).expect("validated coset"),
        None => F::ONE,
    };
    // out_i = c · hⁱ · Σ_j bʲ · in_j · wⁱʲ
    let (c, h, b, w) = match cfg.direction {
        NttDirection::Forward => (F::ONE, F::ONE, g, omega),
        NttDirection::Inverse => {
            let n_inv = F::from_u64(n as u64).inverse().expect("n < p");
            let g_inv = g.inverse().expect("validated non-zero coset");
            let w_inv = omega.inverse().expect("root is non-zero");
            (n_inv, g_inv, F::ONE, w_inv)
        }
    };
    let lay = Layout {
        n,
        log_n,
        batch: cfg.batch,
        layout: cfg.layout,
    };
    let reps = ntt_reps(F::MODULUS_BITS, log_n);
    for &col in columns {
        for _ in 0..reps {
            if !ntt_check_once(input, output, &lay, col, cfg, (c, h, b, w)) {
                return Err(col);
            }
        }
    }
    Ok(())
}

/// Chunk of the parallel sums (elements).
const CHUNK: usize = 1 << 12;

fn ntt_check_once<F: TwoAdicField>(
    input: &[F],
    output: &[F],
    lay: &Layout,
    col: usize,
    cfg: &NttConfig,
    (c, h, b, w): (F, F, F, F),
) -> bool {
    let n = lay.n;
    let mut next = random_u64;
    // r such that (rh)ⁿ ≠ 1: otherwise the closed form divides by zero (probability n/p).
    let (r, s, s_n) = loop {
        let r = F::random_with(&mut next);
        let s = r * h;
        let s_n = s.pow(&[n as u64]);
        if s_n != F::ONE && !r.is_zero() {
            break (r, s, s_n);
        }
    };
    let starts: Vec<usize> = (0..n).step_by(CHUNK).collect();
    // Left: Σ_i rⁱ · out_i, Horner inside each chunk.
    let left = starts
        .par_iter()
        .map(|&start| {
            let end = (start + CHUNK).min(n);
            let mut acc = F::ZERO;
            for i in (start..end).rev() {
                acc = acc * r + output[lay.pos(col, i, cfg.output_order)];
            }
            acc * r.pow(&[start as u64])
        })
        .reduce(|| F::ZERO, |x, y| x + y);
    // Right: c·(sⁿ − 1)·Σ_j bʲ·in_j / (s·wʲ − 1).
    let sum = starts
        .par_iter()
        .map(|&start| {
            let end = (start + CHUNK).min(n);
            let mut den = Vec::with_capacity(end - start);
            let mut sw = s * w.pow(&[start as u64]);
            for _ in start..end {
                den.push(sw - F::ONE);
                sw *= w;
            }
            zkaccel_backend::field::batch_inverse(&mut den);
            let mut bj = b.pow(&[start as u64]);
            let mut acc = F::ZERO;
            for (j, d) in (start..end).zip(&den) {
                acc += bj * input[lay.pos(col, j, cfg.input_order)] * *d;
                bj *= b;
            }
            acc
        })
        .reduce(|| F::ZERO, |x, y| x + y);
    // A zero denominator (s·wʲ = 1) would need sⁿ = 1, excluded above.
    left == c * (s_n - F::ONE) * sum
}

/// The NTT columns to check at `level` for a batch of `batch` columns.
pub(crate) fn ntt_columns(level: Verification, batch: usize) -> Vec<usize> {
    match level {
        Verification::Off => Vec::new(),
        Verification::Sampled => vec![(random_u64() % batch as u64) as usize],
        Verification::Full => (0..batch).collect(),
    }
}

/// True when the sampled MSM policy picks this call for a cross-check.
pub(crate) fn msm_cross_check_sampled() -> bool {
    random_u64().is_multiple_of(u64::from(MSM_CROSS_CHECK_ONE_IN))
}

/// Reads `ZKACCEL_VERIFY` (the runtime default when the builder sets none).
pub(crate) fn from_env() -> Option<Verification> {
    let v = std::env::var("ZKACCEL_VERIFY").ok()?;
    match v.parse() {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!("ignoring ZKACCEL_VERIFY: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkaccel_backend::curves::Bn254Fr;
    use zkaccel_backend::{BabyBear, Goldilocks};

    /// Naive O(n²) transform with the same conventions as the runtime's.
    fn naive<F: TwoAdicField>(input: &[F], spec: &NttDomainSpec, cfg: &NttConfig) -> Vec<F> {
        let n = spec.size();
        let lay = Layout {
            n,
            log_n: spec.log_n,
            batch: cfg.batch,
            layout: cfg.layout,
        };
        let omega: F = spec.root_as().unwrap();
        let g = cfg
            .coset
            .map(|l| zkaccel_backend::backend::decode_padded::<F>(&l).unwrap())
            .unwrap_or(F::ONE);
        let mut out = vec![F::ZERO; input.len()];
        for col in 0..cfg.batch {
            let x: Vec<F> = (0..n)
                .map(|j| input[lay.pos(col, j, cfg.input_order)])
                .collect();
            for i in 0..n {
                let y = match cfg.direction {
                    NttDirection::Forward => (0..n).fold(F::ZERO, |acc, j| {
                        acc + x[j] * g.pow(&[j as u64]) * omega.pow(&[(i * j) as u64])
                    }),
                    NttDirection::Inverse => {
                        let wi = omega.inverse().unwrap();
                        let s =
                            (0..n).fold(F::ZERO, |acc, j| acc + x[j] * wi.pow(&[(i * j) as u64]));
                        s * F::from_u64(n as u64).inverse().unwrap()
                            * g.inverse().unwrap().pow(&[i as u64])
                    }
                };
                out[lay.pos(col, i, cfg.output_order)] = y;
            }
        }
        out
    }

    fn configs<F: TwoAdicField>() -> Vec<NttConfig> {
        let mut v = Vec::new();
        let g = F::from_u64(7).to_canonical();
        let mut coset = [0u64; 4];
        coset[..F::LIMBS].copy_from_slice(g.as_ref());
        for direction in [NttDirection::Forward, NttDirection::Inverse] {
            for (input_order, output_order) in [
                (NttOrder::Natural, NttOrder::Natural),
                (NttOrder::BitReversed, NttOrder::Natural),
                (NttOrder::Natural, NttOrder::BitReversed),
            ] {
                for c in [None, Some(coset)] {
                    for (batch, layout) in [
                        (1, BatchLayout::Contiguous),
                        (3, BatchLayout::Contiguous),
                        (3, BatchLayout::Interleaved),
                    ] {
                        v.push(NttConfig {
                            direction,
                            input_order,
                            output_order,
                            coset: c,
                            batch,
                            layout,
                        });
                    }
                }
            }
        }
        v
    }

    fn accepts_right_rejects_wrong<F: TwoAdicField>() {
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for log_n in [0u32, 1, 3, 5] {
            let spec = NttDomainSpec::with_default_root::<F>(log_n).unwrap();
            for cfg in configs::<F>() {
                let len = spec.size() * cfg.batch;
                let input: Vec<F> = (0..len).map(|_| F::random_with(&mut next)).collect();
                let out = naive(&input, &spec, &cfg);
                let all: Vec<usize> = (0..cfg.batch).collect();
                assert_eq!(
                    ntt_check(&input, &out, &spec, &cfg, &all),
                    Ok(()),
                    "{cfg:?}"
                );
                // One element off by one, in each column in turn.
                for col in 0..cfg.batch {
                    let mut bad = out.clone();
                    let lay = Layout {
                        n: spec.size(),
                        log_n,
                        batch: cfg.batch,
                        layout: cfg.layout,
                    };
                    let k = lay.pos(col, (next() as usize) % spec.size(), NttOrder::Natural);
                    bad[k] += F::ONE;
                    assert_eq!(
                        ntt_check(&input, &bad, &spec, &cfg, &all),
                        Err(col),
                        "{cfg:?}"
                    );
                }
                // A wrong direction (the other transform's output) is caught too.
                if log_n >= 2 && cfg.coset.is_none() {
                    let other = NttConfig {
                        direction: match cfg.direction {
                            NttDirection::Forward => NttDirection::Inverse,
                            NttDirection::Inverse => NttDirection::Forward,
                        },
                        ..cfg
                    };
                    let wrong = naive(&input, &spec, &other);
                    assert!(ntt_check(&input, &wrong, &spec, &cfg, &all).is_err());
                }
            }
        }
    }

    #[test]
    fn ntt_check_bn254() {
        accepts_right_rejects_wrong::<Bn254Fr>();
    }

    #[test]
    fn ntt_check_small_fields() {
        accepts_right_rejects_wrong::<Goldilocks>();
        accepts_right_rejects_wrong::<BabyBear>();
    }

    #[test]
    fn repetitions_reach_the_target() {
        assert_eq!(ntt_reps(254, 20), 1);
        assert_eq!(ntt_reps(64, 20), 1);
        assert_eq!(ntt_reps(31, 20), 4);
        assert!(ntt_reps(31, 27) * (31 - 28) >= NTT_CHECK_BITS);
    }

    #[test]
    fn levels_parse() {
        assert_eq!("Full".parse::<Verification>(), Ok(Verification::Full));
        assert_eq!("sampled".parse::<Verification>(), Ok(Verification::Sampled));
        assert_eq!("off".parse::<Verification>(), Ok(Verification::Off));
        assert!("sometimes".parse::<Verification>().is_err());
        let s = hash_sample(Verification::Sampled, 10_000);
        assert!(!s.is_empty() && s.len() <= 8 + 10_000 / 128);
        assert!(s.iter().all(|&i| i < 10_000));
        assert_eq!(hash_sample(Verification::Sampled, 5), vec![0, 1, 2, 3, 4]);
        assert_eq!(hash_sample(Verification::Full, 3), vec![0, 1, 2]);
        assert!(hash_sample(Verification::Off, 3).is_empty());
    }
}
