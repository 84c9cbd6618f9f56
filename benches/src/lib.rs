//! Support for the criterion benches in `benches/`: deterministic inputs shared by every
//! backend's bench group. Run with `cargo bench -p zkaccel-benches`.

use zkaccel::{Affine, CurveGroup, PrimeField, Projective};

/// A deterministic xorshift source of `u64`s.
pub fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

/// `n` random bases (`P_i = P_0 + i·S`, one batch normalisation) and `n` random scalars.
pub fn msm_input<C: CurveGroup>(n: usize, seed: u64) -> (Vec<Affine<C>>, Vec<C::Scalar>) {
    let mut next = rng(seed);
    let g = Projective::<C>::generator();
    let step = g.mul(&C::Scalar::random_with(&mut next)).to_affine();
    let mut p = g.mul(&C::Scalar::random_with(&mut next));
    let mut pts = Vec::with_capacity(n);
    for _ in 0..n {
        pts.push(p);
        p = p.add_affine(&step);
    }
    let scalars = (0..n).map(|_| C::Scalar::random_with(&mut next)).collect();
    (Projective::batch_to_affine(&pts), scalars)
}

/// `n` random field elements.
pub fn elements<F: PrimeField>(n: usize, seed: u64) -> Vec<F> {
    let mut next = rng(seed);
    (0..n).map(|_| F::random_with(&mut next)).collect()
}
