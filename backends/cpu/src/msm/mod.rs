//! Multi-scalar multiplication on the CPU: Pippenger's bucket method with signed digits, the
//! GLV endomorphism and batch-affine buckets.
//!
//! [`msm_with`] computes `Σ kᵢ·Pᵢ` in four steps:
//! 1. **GLV** (G1 of BN254, BLS12-381, BLS12-377; [`glv`]): each scalar is split as
//!    `k ≡ k₁ + k₂·λ` with `|k₁|, |k₂| < 2¹²⁷`, and `k·P = k₁·P + k₂·φ(P)` with
//!    `φ(x, y) = (β·x, y)` (one multiplication per point, done once). The MSM becomes one over
//!    `2n` points with 127-bit scalars: half the windows. Negative halves negate the point.
//!    Other groups (G2) keep their full scalars.
//! 2. **Signed digits**: every (half) scalar is recoded once into `W = ⌈(b+1)/c⌉` digits in
//!    `[−2^(c−1), 2^(c−1))`, the top one in `[0, 2^(c−1)]` ([`batch_affine::recode`]), so a
//!    window needs `2^(c−1)` buckets. Points at infinity get no digits.
//! 3. **Buckets** per (window, chunk of points) task: affine buckets updated in batches that
//!    share one inversion (Montgomery's trick; `≈ 5M + 1S` per point instead of `8M + 2S`
//!    for an XYZZ mixed addition), with conflict queues and the doubling / cancellation cases
//!    ([`batch_affine`]); windows with few live buckets (the top window) or inputs too small
//!    to fill batches use XYZZ buckets. Each task ends with the running-sum reduction
//!    `Σ k·B_k = Σ_k (B_top + … + B_k)`.
//! 4. Window sums are combined from the top with `c` doublings per window.
//!
//! The window size and the split of points into chunks come from a cost model
//! ([`Plan::choose`]) that counts field multiplications per task and schedules the tasks on
//! the pool's threads, so that the windows divide evenly among threads (for two threads and
//! `2^16..2^20` points it picks `c = 13..16` with 8 or 10 windows).
//!
//! References: Pippenger (1976); Bernstein et al., "Faster batch forgery identification"
//! (signed digits, bucket reduction); Gallant–Lambert–Vanstone (CRYPTO 2001) for the
//! endomorphism; the ZPrize 2022 MSM entries and gnark-crypto's batch-affine MSM (Aranha,
//! El Housni, Guillevic) for affine buckets in batches. [`msm_xyzz`] keeps the previous
//! algorithm (plain Pippenger, XYZZ buckets) as a second oracle.

pub mod batch_affine;
pub mod glv;
#[cfg(target_arch = "x86_64")]
mod wide;

use rayon::prelude::*;
use zkaccel_backend::field::PrimeField;
use zkaccel_backend::{Affine, CurveGroup, Projective, Xyzz};

/// Cost of a mixed XYZZ addition relative to the unit (field multiplications, squarings ≈ 0.8).
const MADD_COST: usize = 10;
/// Cost of a full XYZZ addition.
const ADD_COST: usize = 14;

/// Window size minimising the estimated work for `n` points of `bits`-bit scalars.
pub fn window_bits(n: usize, bits: u32) -> u32 {
    if n < 4 {
        return 2;
    }
    let mut best = (usize::MAX, 2);
    for c in 2..=16u32 {
        let windows = (bits as usize + 2).div_ceil(c as usize);
        // Each bucket costs two full additions in the reduction.
        let cost = windows * (n * MADD_COST + (1usize << (c - 1)) * 2 * ADD_COST);
        if cost < best.0 {
            best = (cost, c);
        }
    }
    best.1
}

/// Recodes `scalars` into signed `c`-bit digits, `windows` per scalar, scalar-major.
fn signed_digits(scalars: &[[u64; 4]], c: u32, windows: usize, out: &mut [i16]) {
    let half = 1i64 << (c - 1);
    let full = 1i64 << c;
    let mask = (1u64 << c) - 1;
    out.par_chunks_mut(windows)
        .zip(scalars.par_iter())
        .with_min_len(1024)
        .for_each(|(digits, s)| {
            let mut carry = 0i64;
            for (w, d) in digits.iter_mut().enumerate() {
                let bit = w * c as usize;
                let limb = bit / 64;
                let shift = bit % 64;
                let mut v = if limb < 4 { s[limb] >> shift } else { 0 };
                if shift + c as usize > 64 && limb + 1 < 4 {
                    v |= s[limb + 1] << (64 - shift);
                }
                let mut digit = (v & mask) as i64 + carry;
                if digit >= half {
                    digit -= full;
                    carry = 1;
                } else {
                    carry = 0;
                }
                *d = digit as i16;
            }
            debug_assert_eq!(carry, 0, "one spare window absorbs the last carry");
        });
}

/// Cost, in base-field multiplications, of one point added into an affine bucket in a batch
/// (`5M + 1S` plus bookkeeping; the shared inversion is counted separately).
const AFFINE_ADD_COST: f64 = 6.5;
/// Cost of one mixed XYZZ addition (`8M + 2S`).
const XYZZ_MADD_COST: f64 = 10.0;
/// Cost per bucket of the running-sum reduction (one mixed and one full XYZZ addition).
const REDUCE_COST: f64 = 24.0;
/// Largest batch of affine additions sharing one inversion.
const MAX_BATCH: usize = 2048;
/// Batches hold at most `buckets / BATCH_DIV` additions, which keeps bucket collisions (and so
/// the waiting queue) to a few percent.
const BATCH_DIV: usize = 16;
/// Smallest batch worth an inversion.
const MIN_BATCH: usize = 32;

/// How an MSM over `points` (virtual) points of `bits`-bit scalars is run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// Window size in bits.
    pub c: u32,
    /// Number of windows.
    pub windows: usize,
    /// Point ranges per window (tasks = windows × chunks).
    pub chunks: usize,
    /// Batch size forced on every window (tests); `None` lets the cost model decide per window.
    pub force_batch: Option<usize>,
}

impl Plan {
    /// Buckets per window (digit magnitudes `1..=2^(c−1)`).
    pub fn buckets(&self) -> usize {
        1 << (self.c - 1)
    }

    /// Buckets window `w` can reach for `bits`-bit scalars.
    fn live_buckets(&self, w: usize, bits: u32) -> usize {
        if w + 1 < self.windows {
            self.buckets()
        } else {
            let top_bits = bits.saturating_sub((self.windows as u32 - 1) * self.c);
            (1usize << top_bits.min(self.c - 1)) + 1
        }
    }

    /// Batch size for window `w`, or `None` when XYZZ buckets are cheaper there.
    fn batch(&self, w: usize, bits: u32, chunk_points: usize, inversion: f64) -> Option<usize> {
        if self.force_batch.is_some() {
            return self.force_batch;
        }
        let live = self.live_buckets(w, bits);
        let cap = (live / BATCH_DIV).clamp(MIN_BATCH, MAX_BATCH);
        let affine = AFFINE_ADD_COST + inversion / cap as f64;
        (cap * BATCH_DIV <= 2 * live && chunk_points >= 4 * cap && affine < XYZZ_MADD_COST)
            .then_some(cap)
    }

    /// Estimated run time (in multiplications on the busiest of `threads` threads).
    fn cost(&self, points: usize, bits: u32, threads: usize, inversion: f64) -> f64 {
        let chunk_points = points.div_ceil(self.chunks);
        let mut tasks = Vec::with_capacity(self.windows * self.chunks);
        for w in 0..self.windows {
            let live = self.live_buckets(w, bits) as f64;
            let per_point = match self.batch(w, bits, chunk_points, inversion) {
                Some(cap) => AFFINE_ADD_COST + inversion / cap as f64,
                None => XYZZ_MADD_COST,
            };
            // Digits are roughly uniform: a point misses a window with probability 1/2^c.
            let t = chunk_points as f64 * per_point + live * REDUCE_COST;
            tasks.extend(core::iter::repeat_n(t, self.chunks));
        }
        // Longest-processing-time-first schedule of the tasks on the threads.
        tasks.sort_by(|a, b| b.total_cmp(a));
        let mut load = vec![0f64; threads.max(1)];
        for t in tasks {
            let i = (0..load.len())
                .min_by(|&a, &b| load[a].total_cmp(&load[b]))
                .unwrap_or(0);
            load[i] += t;
        }
        load.into_iter().fold(0.0, f64::max)
    }

    /// The cheapest plan for `points` points of `bits`-bit scalars on `threads` threads;
    /// `inversion` is the cost of one field inversion in multiplications.
    pub fn choose(points: usize, bits: u32, threads: usize, inversion: f64) -> Plan {
        let mut best: Option<(f64, Plan)> = None;
        for c in 2..=16u32 {
            let windows = (bits as usize + 1).div_ceil(c as usize);
            for chunks in 1..=(2 * threads).max(1) {
                if chunks > 1 && points < chunks * 1024 {
                    break;
                }
                let plan = Plan {
                    c,
                    windows,
                    chunks,
                    force_batch: None,
                };
                let cost = plan.cost(points, bits, threads, inversion);
                if best.is_none_or(|(b, _)| cost < b) {
                    best = Some((cost, plan));
                }
            }
        }
        best.map(|(_, p)| p).unwrap_or(Plan {
            c: 2,
            windows: (bits as usize + 1).div_ceil(2),
            chunks: 1,
            force_batch: None,
        })
    }
}

/// Approximate cost of the batch inversion ([`Field::inverse_vartime`], Bernstein–Yang
/// divsteps) in multiplications of the same field: measured at 52 dependent multiplications'
/// time for BN254 and 50 for BLS12-381 (`inversion_timing` in `zkaccel-backend`), rounded up
/// for the surrounding bookkeeping.
///
/// [`Field::inverse_vartime`]: zkaccel_backend::field::Field::inverse_vartime
const INVERSION_COST: f64 = 64.0;

/// `Σ scalars[i]·point(i)` for `n` points read through `point` and canonical scalars.
///
/// `point` must be cheap and thread-safe: it is called once per (point, non-zero window),
/// and once more to skip points at infinity.
pub fn msm_with<C, P>(n: usize, point: P, scalars: &[[u64; 4]]) -> Projective<C>
where
    C: CurveGroup,
    P: Fn(usize) -> Affine<C> + Sync,
{
    let threads = rayon::current_num_threads().max(1);
    msm_planned(n, point, scalars, |points, bits| {
        Plan::choose(points, bits, threads, INVERSION_COST)
    })
}

/// [`msm_with`] with the plan chosen by `plan(points, bits)` for the number of (virtual)
/// points and their scalar bits.
pub fn msm_planned<C, P>(
    n: usize,
    point: P,
    scalars: &[[u64; 4]],
    plan: impl FnOnce(usize, u32) -> Plan,
) -> Projective<C>
where
    C: CurveGroup,
    P: Fn(usize) -> Affine<C> + Sync,
{
    assert_eq!(n, scalars.len(), "bases and scalars have the same length");
    if n == 0 {
        return Projective::IDENTITY;
    }
    let glv = glv::params(C::id()).and_then(|p| glv::beta::<C>(p).map(|b| (p, b)));
    match glv {
        Some((params, beta)) => {
            let m = 2 * n;
            let plan = plan(m, glv::HALF_BITS);
            let windows = plan.windows;
            // Digits and signs are derived from the scalars (possibly witness data): both
            // are wiped when dropped.
            let mut digits = crate::wiped::Wiped::new(vec![0i16; m * windows]);
            // One byte per virtual point: 1 when its GLV half is negative.
            let mut negative = crate::wiped::Wiped::new(vec![0u8; m]);
            digits
                .par_chunks_mut(2 * windows)
                .zip(negative.par_chunks_mut(2))
                .enumerate()
                .with_min_len(1024)
                .for_each(|(i, (d, neg))| {
                    if point(i).is_identity() {
                        return;
                    }
                    let (k1, n1, k2, n2) = glv::decompose(params, &scalars[i]);
                    let (d1, d2) = d.split_at_mut(windows);
                    batch_affine::recode(&[k1 as u64, (k1 >> 64) as u64], plan.c, d1);
                    batch_affine::recode(&[k2 as u64, (k2 >> 64) as u64], plan.c, d2);
                    neg[0] = n1 as u8;
                    neg[1] = n2 as u8;
                });
            // x-coordinates of φ(P) = (β·x, y).
            let endo_x: Vec<C::Base> = (0..n)
                .into_par_iter()
                .with_min_len(4096)
                .map(|i| beta * point(i).x)
                .collect();
            let get = |j: usize| {
                let p = point(j >> 1);
                if j & 1 == 0 {
                    p
                } else {
                    Affine::new(endo_x[j >> 1], p.y)
                }
            };
            run_plan(
                &plan,
                m,
                glv::HALF_BITS,
                &get,
                &|j| negative[j] != 0,
                &digits,
            )
        }
        None => {
            let bits = <C::Scalar as PrimeField>::MODULUS_BITS;
            let plan = plan(n, bits);
            let windows = plan.windows;
            let mut digits = crate::wiped::Wiped::new(vec![0i16; n * windows]);
            digits
                .par_chunks_mut(windows)
                .zip(scalars.par_iter())
                .enumerate()
                .with_min_len(1024)
                .for_each(|(i, (d, s))| {
                    if !point(i).is_identity() {
                        batch_affine::recode(s, plan.c, d);
                    }
                });
            run_plan(&plan, n, bits, &point, &|_| false, &digits)
        }
    }
}

/// Runs the (window, chunk) tasks of `plan` and combines the window sums.
fn run_plan<C, G, N>(
    plan: &Plan,
    points: usize,
    bits: u32,
    get: &G,
    negate: &N,
    digits: &[i16],
) -> Projective<C>
where
    C: CurveGroup,
    G: Fn(usize) -> Affine<C> + Sync,
    N: Fn(usize) -> bool + Sync,
{
    let digits = batch_affine::Digits {
        data: digits,
        windows: plan.windows,
    };
    let chunks = plan.chunks;
    let chunk_len = points.div_ceil(chunks);
    let inversion = INVERSION_COST;
    let partial: Vec<Xyzz<C>> = (0..plan.windows * chunks)
        .into_par_iter()
        .with_max_len(1)
        .map(|task| {
            let w = task / chunks;
            let chunk = task % chunks;
            let start = (chunk * chunk_len).min(points);
            let end = (start + chunk_len).min(points);
            match plan.batch(w, bits, chunk_len, inversion) {
                Some(cap) => batch_affine::window_sum_batch_affine(
                    get,
                    negate,
                    &digits,
                    w,
                    start..end,
                    plan.buckets(),
                    cap,
                ),
                None => batch_affine::window_sum_xyzz(
                    get,
                    negate,
                    &digits,
                    w,
                    start..end,
                    plan.buckets(),
                ),
            }
        })
        .collect();

    // Window sums, then Horner from the top window.
    let mut acc = Projective::<C>::IDENTITY;
    for w in (0..plan.windows).rev() {
        for _ in 0..plan.c {
            acc = acc.double();
        }
        let mut window_sum = Xyzz::<C>::IDENTITY;
        for chunk in 0..chunks {
            window_sum.add_assign(&partial[w * chunks + chunk]);
        }
        acc = acc.add(&window_sum.to_projective());
    }
    acc
}

/// The previous algorithm (no endomorphism, XYZZ buckets), kept as a second oracle for the
/// tests and as a baseline for measurements.
pub fn msm_xyzz<C, P>(n: usize, point: P, scalars: &[[u64; 4]]) -> Projective<C>
where
    C: CurveGroup,
    P: Fn(usize) -> Affine<C> + Sync,
{
    assert_eq!(n, scalars.len(), "bases and scalars have the same length");
    if n == 0 {
        return Projective::IDENTITY;
    }
    let bits = <C::Scalar as PrimeField>::MODULUS_BITS;
    let c = window_bits(n, bits);
    let windows = (bits as usize + 2).div_ceil(c as usize);
    let mut digits = crate::wiped::Wiped::new(vec![0i16; n * windows]);
    signed_digits(scalars, c, windows, &mut digits);

    let threads = rayon::current_num_threads().max(1);
    // Enough tasks for every thread, at least a few thousand points each.
    let chunks = (2 * threads).div_ceil(windows).min(n.div_ceil(4096)).max(1);
    let chunk_len = n.div_ceil(chunks);
    let buckets_len = 1usize << (c - 1);

    let partial: Vec<Xyzz<C>> = (0..windows * chunks)
        .into_par_iter()
        .map(|task| {
            let w = task / chunks;
            let chunk = task % chunks;
            let start = chunk * chunk_len;
            let end = (start + chunk_len).min(n);
            let mut buckets = vec![Xyzz::<C>::IDENTITY; buckets_len];
            for i in start..end {
                let d = digits[i * windows + w];
                if d > 0 {
                    buckets[d as usize - 1].add_affine_assign(&point(i));
                } else if d < 0 {
                    buckets[(-(d as i32)) as usize - 1].sub_affine_assign(&point(i));
                }
            }
            // Σ_k k·B_k by running sums, from the top bucket down.
            let mut running = Xyzz::<C>::IDENTITY;
            let mut sum = Xyzz::<C>::IDENTITY;
            for b in buckets.iter().rev() {
                running.add_assign(b);
                sum.add_assign(&running);
            }
            sum
        })
        .collect();

    // Window sums, then Horner from the top window.
    let mut acc = Projective::<C>::IDENTITY;
    for w in (0..windows).rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        let mut window_sum = Xyzz::<C>::IDENTITY;
        for chunk in 0..chunks {
            window_sum.add_assign(&partial[w * chunks + chunk]);
        }
        acc = acc.add(&window_sum.to_projective());
    }
    acc
}

/// The naive `Σ sᵢ·Pᵢ` by double-and-add, for tests and tiny inputs.
pub fn msm_naive<C: CurveGroup>(points: &[Affine<C>], scalars: &[[u64; 4]]) -> Projective<C> {
    points
        .iter()
        .zip(scalars)
        .fold(Projective::IDENTITY, |acc, (p, s)| {
            acc.add(&Projective::from(*p).mul_limbs(s))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkaccel_backend::curves::{Bls12_381G2, Bn254G1};
    use zkaccel_backend::field::Field;

    fn random_points<C: CurveGroup>(n: usize, seed: u64) -> (Vec<Affine<C>>, Vec<[u64; 4]>) {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state ^ (state >> 29)
        };
        let g = Projective::<C>::generator();
        let pts: Vec<_> = (0..n)
            .map(|_| g.mul(&C::Scalar::random_with(&mut next)))
            .collect();
        let scalars = (0..n)
            .map(|_| C::Scalar::random_with(&mut next).to_canonical())
            .collect();
        (Projective::batch_to_affine(&pts), scalars)
    }

    fn check<C: CurveGroup>(n: usize) {
        let (pts, sc) = random_points::<C>(n, n as u64 + 7);
        let fast = msm_with(n, |i| pts[i], &sc);
        assert_eq!(fast, msm_naive(&pts, &sc), "n = {n}");
    }

    #[test]
    fn matches_naive_small_sizes() {
        for n in [0, 1, 2, 3, 5, 17, 100] {
            check::<Bn254G1>(n);
        }
        check::<Bls12_381G2>(9);
    }

    #[test]
    fn extreme_scalars() {
        let (pts, _) = random_points::<Bn254G1>(4, 1);
        let r_minus_1 = (-<Bn254G1 as CurveGroup>::Scalar::ONE).to_canonical();
        let sc = vec![r_minus_1, [0; 4], r_minus_1, [1, 0, 0, 0]];
        assert_eq!(msm_with(4, |i| pts[i], &sc), msm_naive(&pts, &sc));
    }

    #[test]
    fn top_window_carry_for_255_bit_scalars() {
        // BLS12-381's r − 1 with tiny windows: the last carry needs its own window.
        use zkaccel_backend::curves::Bls12_381G1;
        let (pts, _) = random_points::<Bls12_381G1>(3, 5);
        let r_minus_1 = (-<Bls12_381G1 as CurveGroup>::Scalar::ONE).to_canonical();
        for n in 1..=3 {
            let sc = vec![r_minus_1; n];
            assert_eq!(msm_with(n, |i| pts[i], &sc), msm_naive(&pts[..n], &sc));
        }
    }

    /// `msm_with` under a forced plan (window `c`, `chunks`, batch size or XYZZ), checked
    /// against the naive sum and the previous algorithm.
    fn check_forced<C: CurveGroup>(pts: &[Affine<C>], sc: &[[u64; 4]], what: &str) {
        let n = pts.len();
        let expect = msm_naive(pts, sc);
        assert_eq!(msm_xyzz(n, |i| pts[i], sc), expect, "{what}: msm_xyzz");
        assert_eq!(msm_with(n, |i| pts[i], sc), expect, "{what}: msm_with");
        for (c, chunks, batch) in [
            (3, 1, Some(1)),
            (4, 2, Some(3)),
            (5, 1, Some(8)),
            (8, 3, Some(16)),
            (6, 1, None),
            (16, 2, Some(64)),
        ] {
            let got = msm_planned(
                n,
                |i| pts[i],
                sc,
                |_, bits| {
                    let mut plan = Plan::choose(2 * n.max(1), bits, 2, 300.0);
                    plan.c = c;
                    plan.windows = (bits as usize + 1).div_ceil(c as usize);
                    plan.chunks = chunks;
                    plan.force_batch = batch;
                    plan
                },
            );
            assert_eq!(
                got, expect,
                "{what}: c = {c}, chunks = {chunks}, batch = {batch:?}"
            );
        }
    }

    fn edge_cases<C: CurveGroup>() {
        let (pts, sc) = random_points::<C>(70, 3);
        let minus_one = (-C::Scalar::ONE).to_canonical();
        // Small sizes, including around the forced batch sizes.
        for n in (0..=10).chain([15, 16, 17, 63, 64, 65]) {
            check_forced(&pts[..n], &sc[..n], &format!("{:?} n = {n}", C::id()));
        }
        // All points equal, all scalars equal: every point lands in one bucket per window.
        let same_p = vec![pts[0]; 40];
        check_forced(&same_p, &vec![sc[1]; 40], "equal points, equal scalars");
        check_forced(&same_p, &sc[..40], "equal points");
        check_forced(&pts[..40], &vec![minus_one; 40], "r − 1 everywhere");
        // P and −P with equal scalars (cancel in every bucket), and with P + P.
        let mut pm = Vec::new();
        for p in &pts[..10] {
            pm.extend([*p, p.neg(), *p]);
        }
        check_forced(&pm, &vec![sc[2]; 30], "P, −P, P");
        // Points at infinity mixed in, and zero scalars.
        let mut with_id = pts[..20].to_vec();
        for i in (0..20).step_by(3) {
            with_id[i] = Affine::IDENTITY;
        }
        let mut zeros = sc[..20].to_vec();
        for i in (1..20).step_by(4) {
            zeros[i] = [0; 4];
        }
        check_forced(&with_id, &zeros, "identities and zero scalars");
        // Small scalars: most digits zero, a handful of buckets.
        let small: Vec<[u64; 4]> = (0..40).map(|i| [i % 5, 0, 0, 0]).collect();
        check_forced(&pts[..40], &small, "small scalars");
    }

    #[test]
    fn edge_cases_bn254() {
        edge_cases::<Bn254G1>();
    }

    #[test]
    fn edge_cases_bls12_381() {
        edge_cases::<zkaccel_backend::curves::Bls12_381G1>();
    }

    #[test]
    fn edge_cases_bls12_377() {
        edge_cases::<zkaccel_backend::curves::Bls12_377G1>();
    }

    #[test]
    fn edge_cases_g2_without_glv() {
        let (pts, sc) = random_points::<zkaccel_backend::curves::Bn254G2>(12, 4);
        check_forced(&pts, &sc, "bn254 g2");
        let same = vec![pts[0]; 12];
        check_forced(&same, &vec![sc[0]; 12], "bn254 g2 equal");
    }

    #[test]
    fn batch_affine_path_matches_previous_algorithm() {
        // Large enough for the cost model to pick affine batches on its own.
        for (n, threads) in [(1usize << 13, 2), (5000, 1), (3000, 3)] {
            let (pts, sc) = random_points::<Bn254G1>(n, 9);
            let plan = Plan::choose(2 * n, glv::HALF_BITS, threads, INVERSION_COST);
            let fast = msm_planned(
                n,
                |i| pts[i],
                &sc,
                |m, bits| Plan::choose(m, bits, threads, INVERSION_COST),
            );
            assert_eq!(fast, msm_xyzz(n, |i| pts[i], &sc), "n = {n}, {plan:?}");
        }
    }

    #[test]
    fn plans_for_two_threads_balance_windows() {
        for log in [16, 18, 20] {
            let plan = Plan::choose(2 << log, glv::HALF_BITS, 2, INVERSION_COST);
            assert_eq!((plan.windows * plan.chunks) % 2, 0, "2^{log}: {plan:?}");
            assert!(plan
                .batch(0, glv::HALF_BITS, (2 << log) / plan.chunks, INVERSION_COST)
                .is_some());
        }
    }

    #[test]
    fn window_choice_grows_with_size() {
        assert!(window_bits(1 << 10, 254) < window_bits(1 << 20, 254));
    }
}

/// Timing harness for tuning (not a benchmark of record: `zkaccel bench` is).
/// `ZKACCEL_MSM_BENCH=16,18 cargo test --release -p zkaccel-cpu msm_timing -- --ignored --nocapture`
#[cfg(test)]
mod timing {
    use super::*;
    use zkaccel_backend::curves::{Bls12_381G1, Bn254G1};

    fn inputs<C: CurveGroup>(n: usize) -> (Vec<Affine<C>>, Vec<[u64; 4]>) {
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state ^ (state >> 29)
        };
        let g = Projective::<C>::generator();
        let step = g.mul(&C::Scalar::random_with(&mut next));
        let mut acc = g;
        let pts: Vec<_> = (0..n)
            .map(|_| {
                acc = acc.add(&step);
                acc
            })
            .collect();
        let scalars = (0..n)
            .map(|_| C::Scalar::random_with(&mut next).to_canonical())
            .collect();
        (Projective::batch_to_affine(&pts), scalars)
    }

    /// CPU time of this process (all threads) in ms: less sensitive to other load than
    /// wall time on a shared machine.
    fn cpu_ms() -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let after = stat.rsplit(')').next().unwrap_or("");
        let f: Vec<&str> = after.split_whitespace().collect();
        let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (t(11) + t(12)) * 10.0
    }

    fn time<C: CurveGroup>(name: &str, log: u32) {
        let n = 1usize << log;
        let (pts, sc) = inputs::<C>(n);
        let reps = 3;
        let mut best = f64::MAX;
        let mut r1 = Projective::IDENTITY;
        let cpu0 = cpu_ms();
        // Tuning knobs: ZKACCEL_MSM_C forces the window size, ZKACCEL_MSM_CHUNKS the split.
        let knob = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
        };
        let threads = rayon::current_num_threads();
        let choose = |m: usize, bits: u32| {
            let mut plan = Plan::choose(m, bits, threads, INVERSION_COST);
            if let Some(c) = knob("ZKACCEL_MSM_C") {
                plan.c = c as u32;
                plan.windows = (bits as usize + 1).div_ceil(c);
            }
            if let Some(chunks) = knob("ZKACCEL_MSM_CHUNKS") {
                plan.chunks = chunks;
            }
            plan
        };
        let mut plan = choose(2 * n, glv::HALF_BITS);
        for _ in 0..reps {
            let t = std::time::Instant::now();
            r1 = msm_planned(
                n,
                |i| pts[i],
                &sc,
                |m, bits| {
                    plan = choose(m, bits);
                    plan
                },
            );
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
        }
        let cpu = (cpu_ms() - cpu0) / reps as f64;
        let t = std::time::Instant::now();
        let r0 = if std::env::var("ZKACCEL_MSM_SKIP_OLD").is_ok() {
            r1
        } else {
            msm_xyzz(n, |i| pts[i], &sc)
        };
        let old = t.elapsed().as_secs_f64() * 1e3;
        assert_eq!(r0, r1);
        println!("{name} 2^{log}: new {best:.1} ms (best of {reps}), cpu {cpu:.0} ms, old {old:.1} ms, {plan:?}");
    }

    #[test]
    #[ignore]
    fn msm_timing() {
        let sizes = std::env::var("ZKACCEL_MSM_BENCH").unwrap_or_else(|_| "16".into());
        for log in sizes.split(',').filter_map(|s| s.parse::<u32>().ok()) {
            time::<Bn254G1>("bn254", log);
            if std::env::var("ZKACCEL_MSM_BN_ONLY").is_err() {
                time::<Bls12_381G1>("bls12-381", log);
            }
        }
    }
}
