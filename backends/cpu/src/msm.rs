//! Multi-scalar multiplication on the CPU: Pippenger's bucket method with signed digits.
//!
//! For `n` points and `b`-bit scalars split into windows of `c` bits:
//! 1. every scalar is recoded once into `W = ⌈(b+2)/c⌉` signed digits in
//!    `[−2^(c−1), 2^(c−1))` (a digit ≥ `2^(c−1)` becomes `digit − 2^c` with a carry into the
//!    next window), which halves the number of buckets: a negative digit adds `−P` (free to
//!    negate). The top window's bits plus a carry stay below `2^(c−1)` only when
//!    `W·c ≥ b + 2`, hence the count;
//! 2. each (window, chunk of points) is an independent task: its points are added into
//!    `2^(c−1)` XYZZ buckets (`madd-2008-s`, 8M+2S), then the buckets are reduced with the
//!    running-sum trick `Σ k·B_k = Σ_k (B_top + … + B_k)`;
//! 3. window sums are combined from the top with `c` doublings per window.
//!
//! The window size minimises the estimated cost `W·(n·madd + 2^c·add)`; tasks are split over
//! points as well as windows so that every thread has work even when windows are few.
//! References: Pippenger (1976); Bernstein et al., "Faster batch forgery identification"
//! (signed digits, bucket reduction); the XYZZ accumulators of the ZPrize 2022 MSM entries.

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

/// `Σ scalars[i]·point(i)` for `n` points read through `point` and canonical scalars.
///
/// `point` must be cheap and thread-safe: it is called once per (point, non-zero window).
pub fn msm_with<C, P>(n: usize, point: P, scalars: &[[u64; 4]]) -> Projective<C>
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
    let mut digits = vec![0i16; n * windows];
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

    #[test]
    fn window_choice_grows_with_size() {
        assert!(window_bits(1 << 10, 254) < window_bits(1 << 20, 254));
    }
}
