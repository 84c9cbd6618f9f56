//! MSM peers besides arkworks: halo2curves' `msm_best` and blst's Pippenger (the MSM behind
//! blstrs' `multi_exp`), run on the bench's own inputs.
//!
//! Inputs are converted to each library's types before the clock starts (coordinates through
//! their canonical integers, so nothing depends on a library's internal Montgomery form);
//! the timed region is the library's MSM call alone. A peer's answer is checked against ours
//! by converting our result into the peer's types and comparing there.

use crate::bench::{time, Timing};
use halo2curves::group::Curve as _;
use halo2curves::CurveAffine;
use zkaccel::{Affine, CurveGroup, PrimeField, Projective};
use zkaccel_backend::ids::{CurveId, GroupId};

/// One peer's measurement on one MSM case.
pub(crate) struct PeerRun {
    /// Library and entry point, as printed in the runner column.
    pub(crate) name: String,
    pub(crate) timing: Timing,
    /// The peer's result equals ours (`None`: there was no result of ours to compare with).
    pub(crate) verified: Option<bool>,
}

/// The canonical integers (little-endian limbs) of a coordinate's prime-field components:
/// one for G1, `c0` then `c1` for G2.
fn components<C: CurveGroup>(v: &C::Base) -> Vec<Vec<u64>> {
    let limbs: &[u64] = bytemuck::cast_slice(std::slice::from_ref(v));
    limbs
        .chunks(<C::BasePrime as PrimeField>::LIMBS)
        .map(|m| {
            let mut mont = <C::BasePrime as PrimeField>::modulus();
            mont.as_mut().copy_from_slice(m);
            let x = <C::BasePrime as PrimeField>::from_montgomery(&mont)
                .expect("coordinates are reduced");
            x.to_canonical().as_ref().to_vec()
        })
        .collect()
}

fn limbs_n<const N: usize>(v: &[u64]) -> [u64; N] {
    let mut out = [0u64; N];
    out.copy_from_slice(v);
    out
}

/// Big-endian bytes of a canonical integer, `len` bytes long.
fn be_bytes(v: &[u64], len: usize) -> Vec<u8> {
    let le: Vec<u8> = v.iter().flat_map(|l| l.to_le_bytes()).collect();
    le[..len].iter().rev().copied().collect()
}

/// Runs every MSM peer that covers `C` (other than arkworks) on `bases`/`scalars`.
/// `ours` is our result (compared in each peer's types).
pub(crate) fn msm_peers<C: CurveGroup>(
    reps: usize,
    bases: &[Affine<C>],
    scalars: &[C::Scalar],
    ours: Option<&Projective<C>>,
) -> Vec<PeerRun> {
    let ours = ours.map(|p| p.to_affine());
    let mut runs = Vec::new();
    match (C::CURVE, C::GROUP) {
        (CurveId::Bn254, GroupId::G1) => {
            use halo2curves::bn256::{Fq, Fr, G1Affine};
            let conv = |p: &Affine<C>| {
                let (x, y) = (components::<C>(&p.x), components::<C>(&p.y));
                (Fq::from_raw(limbs_n(&x[0])), Fq::from_raw(limbs_n(&y[0])))
            };
            runs.push(halo2::<G1Affine, C>(
                reps,
                bases,
                scalars,
                ours,
                conv,
                Fr::from_raw,
            ));
        }
        (CurveId::Bn254, GroupId::G2) => {
            use halo2curves::bn256::{Fq, Fq2, Fr, G2Affine};
            let conv = |p: &Affine<C>| {
                let (x, y) = (components::<C>(&p.x), components::<C>(&p.y));
                let f = |v: &[u64]| Fq::from_raw(limbs_n(v));
                (Fq2::new(f(&x[0]), f(&x[1])), Fq2::new(f(&y[0]), f(&y[1])))
            };
            runs.push(halo2::<G2Affine, C>(
                reps,
                bases,
                scalars,
                ours,
                conv,
                Fr::from_raw,
            ));
        }
        (CurveId::Bls12_381, GroupId::G1) => {
            use halo2curves::bls12381::{Fq, Fr, G1Affine};
            runs.push(blst_g1(reps, bases, scalars, ours));
            let conv = |p: &Affine<C>| {
                let (x, y) = (components::<C>(&p.x), components::<C>(&p.y));
                (Fq::from_raw(limbs_n(&x[0])), Fq::from_raw(limbs_n(&y[0])))
            };
            runs.push(halo2::<G1Affine, C>(
                reps,
                bases,
                scalars,
                ours,
                conv,
                Fr::from_raw,
            ));
        }
        (CurveId::Bls12_381, GroupId::G2) => {
            use halo2curves::bls12381::{Fq, Fq2, Fr, G2Affine};
            runs.push(blst_g2(reps, bases, scalars, ours));
            let conv = |p: &Affine<C>| {
                let (x, y) = (components::<C>(&p.x), components::<C>(&p.y));
                let f = |v: &[u64]| Fq::from_raw(limbs_n(v));
                (Fq2::new(f(&x[0]), f(&x[1])), Fq2::new(f(&y[0]), f(&y[1])))
            };
            runs.push(halo2::<G2Affine, C>(
                reps,
                bases,
                scalars,
                ours,
                conv,
                Fr::from_raw,
            ));
        }
        _ => {}
    }
    runs
}

/// halo2curves 0.10 `msm::msm_best` (rayon over all worker threads).
fn halo2<A, C>(
    reps: usize,
    bases: &[Affine<C>],
    scalars: &[C::Scalar],
    ours: Option<Affine<C>>,
    conv: impl Fn(&Affine<C>) -> (A::Base, A::Base),
    scalar: impl Fn([u64; 4]) -> A::ScalarExt,
) -> PeerRun
where
    A: CurveAffine,
    C: CurveGroup,
{
    let point = |p: &Affine<C>| {
        if p.is_identity() {
            return A::identity();
        }
        let (x, y) = conv(p);
        Option::from(A::from_xy(x, y)).expect("our bases are on the curve")
    };
    let hb: Vec<A> = bases.iter().map(point).collect();
    let hs: Vec<A::ScalarExt> = scalars.iter().map(|s| scalar(s.to_canonical())).collect();
    let (timing, r) = time(reps, || halo2curves::msm::msm_best(&hs, &hb));
    let verified = ours.map(|o| r.to_affine() == point(&o));
    PeerRun {
        name: format!(
            "halo2curves 0.10 msm_best{}",
            if cfg!(feature = "peer-asm") {
                " (asm)"
            } else {
                ""
            }
        ),
        timing,
        verified,
    }
}

/// Little-endian 32-byte scalars, concatenated (blst's `mult` input).
fn blst_scalars<C: CurveGroup>(scalars: &[C::Scalar]) -> Vec<u8> {
    scalars
        .iter()
        .flat_map(|s| s.to_canonical().into_iter().flat_map(u64::to_le_bytes))
        .collect()
}

/// The ZCash serialisation (uncompressed, big-endian; `c1` before `c0` in `F_p²`) that blst
/// reads; the point at infinity is the flag byte 0x40 followed by zeros.
fn zcash_uncompressed<C: CurveGroup>(p: &Affine<C>) -> Vec<u8> {
    let size = 48; // BLS12-381 base field bytes
    let len = 2 * size * C::EXTENSION_DEGREE;
    if p.is_identity() {
        let mut v = vec![0u8; len];
        v[0] = 0x40;
        return v;
    }
    let mut out = Vec::with_capacity(len);
    for c in [&p.x, &p.y] {
        for comp in components::<C>(c).iter().rev() {
            out.extend(be_bytes(comp, size));
        }
    }
    out
}

/// blst 0.3 `MultiPoint::mult` on `blst_p1_affine` points: blst's multi-threaded Pippenger,
/// which blstrs' `G1Projective::multi_exp` calls after converting its inputs to affine. blst
/// runs on its own thread pool of every core (it ignores `--threads`).
fn blst_g1<C: CurveGroup>(
    reps: usize,
    bases: &[Affine<C>],
    scalars: &[C::Scalar],
    ours: Option<Affine<C>>,
) -> PeerRun {
    use blst::{blst_p1_affine, blst_p1_affine_is_equal, blst_p1_deserialize, blst_p1_to_affine};
    use blst::{MultiPoint, BLST_ERROR};
    let de = |p: &Affine<C>| {
        let bytes = zcash_uncompressed::<C>(p);
        let mut a = blst_p1_affine::default();
        // SAFETY: `bytes` holds the 96 bytes an uncompressed G1 encoding has; `a` is a
        // valid output location.
        let e = unsafe { blst_p1_deserialize(&mut a, bytes.as_ptr()) };
        assert_eq!(e, BLST_ERROR::BLST_SUCCESS, "our bases are valid points");
        a
    };
    let pts: Vec<blst_p1_affine> = bases.iter().map(de).collect();
    let sc = blst_scalars::<C>(scalars);
    let (timing, r) = time(reps, || pts.as_slice().mult(&sc, 255));
    let verified = ours.map(|o| {
        let mut got = blst_p1_affine::default();
        // SAFETY: both pointers are valid blst values.
        unsafe { blst_p1_to_affine(&mut got, &r) };
        let want = de(&o);
        // SAFETY: both pointers are valid affine points.
        unsafe { blst_p1_affine_is_equal(&got, &want) }
    });
    PeerRun {
        name: "blst 0.3 (blstrs' MSM)".into(),
        timing,
        verified,
    }
}

/// As [`blst_g1`], for G2.
fn blst_g2<C: CurveGroup>(
    reps: usize,
    bases: &[Affine<C>],
    scalars: &[C::Scalar],
    ours: Option<Affine<C>>,
) -> PeerRun {
    use blst::{blst_p2_affine, blst_p2_affine_is_equal, blst_p2_deserialize, blst_p2_to_affine};
    use blst::{MultiPoint, BLST_ERROR};
    let de = |p: &Affine<C>| {
        let bytes = zcash_uncompressed::<C>(p);
        let mut a = blst_p2_affine::default();
        // SAFETY: `bytes` holds the 192 bytes an uncompressed G2 encoding has; `a` is a
        // valid output location.
        let e = unsafe { blst_p2_deserialize(&mut a, bytes.as_ptr()) };
        assert_eq!(e, BLST_ERROR::BLST_SUCCESS, "our bases are valid points");
        a
    };
    let pts: Vec<blst_p2_affine> = bases.iter().map(de).collect();
    let sc = blst_scalars::<C>(scalars);
    let (timing, r) = time(reps, || pts.as_slice().mult(&sc, 255));
    let verified = ours.map(|o| {
        let mut got = blst_p2_affine::default();
        // SAFETY: both pointers are valid blst values.
        unsafe { blst_p2_to_affine(&mut got, &r) };
        let want = de(&o);
        // SAFETY: both pointers are valid affine points.
        unsafe { blst_p2_affine_is_equal(&got, &want) }
    });
    PeerRun {
        name: "blst 0.3 (blstrs' MSM)".into(),
        timing,
        verified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkaccel::curves::{Bls12_381G1, Bls12_381G2, Bn254G1, Bn254G2};

    fn case<C: CurveGroup>(n: usize) -> (Vec<Affine<C>>, Vec<C::Scalar>, Projective<C>) {
        let mut next = crate::bench::rng();
        let mut bases = crate::bench::random_bases::<C>(n, &mut next);
        bases[1] = Affine::<C>::default(); // the point at infinity among the bases
        let scalars: Vec<C::Scalar> = (0..n).map(|_| C::Scalar::random_with(&mut next)).collect();
        let ours = bases
            .iter()
            .zip(&scalars)
            .fold(Projective::<C>::IDENTITY, |acc, (p, s)| {
                acc.add(&Projective::from(*p).mul(s))
            });
        (bases, scalars, ours)
    }

    fn agree<C: CurveGroup>(peers: usize) {
        let (bases, scalars, ours) = case::<C>(40);
        let runs = msm_peers(1, &bases, &scalars, Some(&ours));
        assert_eq!(runs.len(), peers);
        for r in &runs {
            assert_eq!(r.verified, Some(true), "{} on {}", r.name, C::id());
        }
        // A wrong answer of ours must show up as a mismatch.
        let wrong = ours.add(&Projective::generator());
        for r in msm_peers(1, &bases, &scalars, Some(&wrong)) {
            assert_eq!(r.verified, Some(false), "{} on {}", r.name, C::id());
        }
    }

    #[test]
    fn peers_agree_with_the_naive_sum() {
        assert_eq!(be_bytes(&[0x0102, 0], 3), vec![0, 1, 2]);
        agree::<Bn254G1>(1);
        agree::<Bn254G2>(1);
        agree::<Bls12_381G1>(2);
        agree::<Bls12_381G2>(2);
    }
}
