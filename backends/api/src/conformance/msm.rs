//! MSM cases: every backend against arkworks' `VariableBaseMSM` and a naive `Σ sᵢ·Pᵢ`.

use super::refs::RefCurve;
use super::Ctx;
use crate::backend::{Backend, PreparedBases, RawPoint};
use crate::curve::{Affine, CurveGroup};
use crate::curves::{Bn254Fr, Bn254G1};
use crate::error::BackendError;
use crate::field::{Field, PrimeField};
use crate::ids::GroupId;
use crate::view::{Encoding, Infinity, PointsView, RawPoints, RawScalars, ScalarsView};
use ark_ec::short_weierstrass::{Affine as SwAffine, Projective as SwProjective};
use ark_ec::{AffineRepr, CurveConfig, CurveGroup as _, PrimeGroup, VariableBaseMSM};
use ark_ff::{Field as _, PrimeField as _, Zero as _};
use std::sync::Arc;

type ArkAffine<C> = SwAffine<<C as RefCurve>::Cfg>;
type ArkProjective<C> = SwProjective<<C as RefCurve>::Cfg>;
type ArkScalar<C> = <<C as RefCurve>::Cfg as CurveConfig>::ScalarField;

/// Sizes of the random MSMs: up to `2^12` for G1, smaller for the (slower) G2.
fn random_sizes<C: CurveGroup>() -> &'static [usize] {
    match C::GROUP {
        GroupId::G1 => &[0, 1, 2, 3, 7, 100, 1003, 4096],
        GroupId::G2 => &[0, 1, 2, 3, 7, 100, 259],
    }
}

/// A case over (curve, group) `C`: `None` (after a loud skip) when the backend does not
/// declare MSM for `C`, else the largest length it accepts.
fn start<'a, C: RefCurve>(b: &'a dyn Backend, case: &str) -> Option<(Ctx<'a>, usize)> {
    let cx = Ctx::new(b, format_args!("msm {} {case}", C::id()));
    match b.capabilities().msm_for(C::id()) {
        Some(cap) => {
            let max = cap.max_len;
            Some((cx, max))
        }
        None => {
            cx.skip(format_args!("MSM over {}", C::id()));
            None
        }
    }
}

/// True when `n` points fit; otherwise a loud skip of that size.
fn fits(cx: &Ctx<'_>, max: usize, n: usize) -> bool {
    if n > max {
        cx.skip(format_args!("{n} points exceed the declared maximum {max}"));
        false
    } else {
        true
    }
}

fn random_scalar<C: RefCurve>(cx: &mut Ctx<'_>) -> C::Scalar {
    C::Scalar::random_with(&mut || cx.u64())
}

fn random_scalars<C: RefCurve>(cx: &mut Ctx<'_>, n: usize) -> Vec<C::Scalar> {
    (0..n).map(|_| random_scalar::<C>(cx)).collect()
}

/// `n` random points, made by arkworks: a few random multiples of the generator, then a
/// random walk adding those (one addition per point instead of a scalar multiplication).
fn random_ark_points<C: RefCurve>(cx: &mut Ctx<'_>, n: usize) -> Vec<ArkAffine<C>> {
    let k = n.clamp(1, 8);
    let seeds: Vec<ArkProjective<C>> = (0..k)
        .map(|_| ArkProjective::<C>::generator() * C::scalar_to_ark(random_scalar::<C>(cx)))
        .collect();
    let mut acc = seeds[0];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if i < k {
            out.push(seeds[i]);
        } else {
            acc += seeds[cx.below(k)];
            out.push(acc);
        }
    }
    ArkProjective::<C>::normalize_batch(&out)
}

fn to_ours<C: RefCurve>(points: &[ArkAffine<C>]) -> Vec<Affine<C>> {
    points.iter().map(C::from_ark).collect()
}

/// arkworks' MSM.
fn ark_msm<C: RefCurve>(bases: &[ArkAffine<C>], scalars: &[C::Scalar]) -> ArkProjective<C> {
    assert_eq!(bases.len(), scalars.len(), "reference MSM: lengths");
    if bases.is_empty() {
        return ArkProjective::<C>::zero();
    }
    let s: Vec<ArkScalar<C>> = scalars.iter().map(|&s| C::scalar_to_ark(s)).collect();
    <ArkProjective<C> as VariableBaseMSM>::msm(bases, &s).expect("reference MSM: lengths")
}

/// The naive `Σ sᵢ·Pᵢ`, one arkworks scalar multiplication per point.
fn naive_msm<C: RefCurve>(bases: &[ArkAffine<C>], scalars: &[C::Scalar]) -> ArkProjective<C> {
    bases
        .iter()
        .zip(scalars)
        .fold(ArkProjective::<C>::zero(), |acc, (p, &s)| {
            acc + p.mul_bigint(C::scalar_to_ark(s).into_bigint())
        })
}

fn show<C: RefCurve>(p: &ArkProjective<C>) -> String {
    if p.is_zero() {
        "infinity".to_string()
    } else {
        format!("{}", p.into_affine())
    }
}

/// The backend's result as an arkworks point.
fn result_to_ark<C: RefCurve>(cx: &Ctx<'_>, case: &str, r: RawPoint) -> ArkProjective<C> {
    if r.id != C::id() {
        cx.fail(format_args!(
            "{case}: result is tagged {} instead of {}",
            r.id,
            C::id()
        ));
    }
    let p = r
        .to_projective::<C>()
        .unwrap_or_else(|e| cx.fail(format_args!("{case}: {e}")));
    C::projective_to_ark(&p)
}

/// The backend's MSM; any error fails the case (the backend declared the group).
fn raw_msm(cx: &Ctx<'_>, case: &str, bases: &RawPoints<'_>, scalars: &RawScalars<'_>) -> RawPoint {
    cx.guard(case, || cx.b.msm(bases, scalars))
        .unwrap_or_else(|e| {
            cx.fail(format_args!(
                "{case}: MSM of {} points failed (the backend declares MSM over {}): {e}",
                bases.len(),
                bases.id()
            ))
        })
}

fn backend_msm<C: RefCurve>(
    cx: &Ctx<'_>,
    case: &str,
    bases: &RawPoints<'_>,
    scalars: &RawScalars<'_>,
) -> ArkProjective<C> {
    let r = raw_msm(cx, case, bases, scalars);
    result_to_ark::<C>(cx, case, r)
}

fn check<C: RefCurve>(
    cx: &Ctx<'_>,
    case: &str,
    got: &ArkProjective<C>,
    want: &ArkProjective<C>,
    reference: &str,
) {
    if got != want {
        cx.fail(format_args!(
            "{case}: result differs from {reference}\n       got: {}\n  expected: {}",
            show::<C>(got),
            show::<C>(want)
        ));
    }
}

/// Runs the backend on our own layout and compares with arkworks' MSM.
fn check_plain<C: RefCurve>(
    cx: &Ctx<'_>,
    case: &str,
    bases: &[Affine<C>],
    scalars: &[C::Scalar],
    want: &ArkProjective<C>,
) {
    let got = backend_msm::<C>(
        cx,
        case,
        &PointsView::from_affine(bases).raw(),
        &ScalarsView::from_elements(scalars).raw(),
    );
    check::<C>(cx, case, &got, want, "arkworks");
}

/// Random points and scalars of many sizes (including 0, 1, non-powers of two and `2^12`
/// for G1) against arkworks' MSM.
pub fn msm_random<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "random") else {
        return;
    };
    let sizes = random_sizes::<C>();
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let ark_points = random_ark_points::<C>(&mut cx, largest);
    let points = to_ours::<C>(&ark_points);
    for &n in sizes {
        if !fits(&cx, max, n) {
            continue;
        }
        let scalars = random_scalars::<C>(&mut cx, n);
        let want = ark_msm::<C>(&ark_points[..n], &scalars);
        check_plain::<C>(&cx, &format!("n={n}"), &points[..n], &scalars, &want);
    }
}

/// Small inputs against the naive sum of scalar multiplications (and arkworks' MSM, so the
/// two references check each other); also checks that our generator is arkworks'.
pub fn msm_naive<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "naive") else {
        return;
    };
    let g = C::from_ark(&ArkAffine::<C>::generator());
    if g != C::GENERATOR {
        cx.fail("our generator differs from arkworks' (conversion or constants are wrong)");
    }
    let ark_points = random_ark_points::<C>(&mut cx, 16);
    let points = to_ours::<C>(&ark_points);
    for n in [1usize, 2, 3, 4, 5, 8, 13, 16] {
        if !fits(&cx, max, n) {
            continue;
        }
        let scalars = random_scalars::<C>(&mut cx, n);
        let want = naive_msm::<C>(&ark_points[..n], &scalars);
        let ark = ark_msm::<C>(&ark_points[..n], &scalars);
        assert!(
            ark == want,
            "the references disagree (arkworks MSM vs naive)"
        );
        let case = format!("n={n}");
        let got = backend_msm::<C>(
            &cx,
            &case,
            &PointsView::from_affine(&points[..n]).raw(),
            &ScalarsView::from_elements(&scalars).raw(),
        );
        check::<C>(&cx, &case, &got, &want, "the naive sum Σ sᵢ·Pᵢ");
    }
    // The generator itself, with small scalars.
    if fits(&cx, max, 3) {
        let bases = [C::GENERATOR; 3];
        let scalars = [1u64, 2, 3].map(C::Scalar::from_u64);
        let want = ArkProjective::<C>::generator() * C::scalar_to_ark(C::Scalar::from_u64(6));
        check_plain::<C>(&cx, "G+2G+3G", &bases, &scalars, &want);
    }
}

/// Zero scalars, points at infinity only, and empty input all give the point at infinity.
pub fn msm_zero_scalars<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "zero scalars") else {
        return;
    };
    let zero = ArkProjective::<C>::zero();
    let ark_points = random_ark_points::<C>(&mut cx, 300);
    let points = to_ours::<C>(&ark_points);
    for n in [0usize, 1, 7, 100, 300] {
        if !fits(&cx, max, n) {
            continue;
        }
        let scalars = vec![C::Scalar::ZERO; n];
        check_plain::<C>(
            &cx,
            &format!("all-zero scalars, n={n}"),
            &points[..n],
            &scalars,
            &zero,
        );
        let infinities = vec![Affine::<C>::IDENTITY; n];
        let scalars = random_scalars::<C>(&mut cx, n);
        check_plain::<C>(
            &cx,
            &format!("all bases at infinity, n={n}"),
            &infinities,
            &scalars,
            &zero,
        );
    }
}

/// Extreme scalars: `r − 1`, `r − 2`, `(r ± 1)/2`, powers of two at limb and window
/// boundaries, alone and mixed with random ones.
pub fn msm_edge_scalars<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "edge scalars") else {
        return;
    };
    let one = ArkScalar::<C>::from(1u64);
    let two = ArkScalar::<C>::from(2u64);
    let half = two.inverse().expect("2 is invertible");
    let mut special: Vec<ArkScalar<C>> = vec![
        ArkScalar::<C>::zero(),
        one,
        two,
        ArkScalar::<C>::from(3u64),
        -one,        // r − 1
        -two,        // r − 2
        -half,       // (r − 1)/2
        half,        // (r + 1)/2
        -one - half, // (r − 3)/2
        ArkScalar::<C>::from(u64::MAX),
    ];
    for k in [1u64, 8, 15, 16, 31, 32, 63, 64, 65, 127, 128, 191, 192, 250] {
        let p = two.pow([k]);
        special.push(p);
        special.push(p - one);
        special.push(-p);
    }
    let special: Vec<C::Scalar> = special.into_iter().map(C::scalar_from_ark).collect();
    let ark_points = random_ark_points::<C>(&mut cx, special.len() + 64);
    let points = to_ours::<C>(&ark_points);

    // Each special scalar alone, on one point.
    if fits(&cx, max, 1) {
        for (i, &s) in special.iter().enumerate() {
            let want = naive_msm::<C>(&ark_points[..1], &[s]);
            check_plain::<C>(
                &cx,
                &format!("special scalar #{i} alone"),
                &points[..1],
                &[s],
                &want,
            );
        }
    }
    // (r − 1)·P + 1·P = O.
    if fits(&cx, max, 2) {
        let s = [C::scalar_from_ark(-one), C::Scalar::ONE];
        let bases = [points[0], points[0]];
        check_plain::<C>(&cx, "(r−1)·P + P", &bases, &s, &ArkProjective::<C>::zero());
    }
    // All special scalars together, and mixed with random ones.
    let n = special.len();
    if fits(&cx, max, n) {
        let want = naive_msm::<C>(&ark_points[..n], &special);
        check_plain::<C>(&cx, "all special scalars", &points[..n], &special, &want);
    }
    let n = special.len() + 64;
    if fits(&cx, max, n) {
        let mut scalars = random_scalars::<C>(&mut cx, n);
        for &s in &special {
            let at = cx.below(n);
            scalars[at] = s;
        }
        let want = ark_msm::<C>(&ark_points, &scalars);
        check_plain::<C>(
            &cx,
            "special scalars among random ones",
            &points,
            &scalars,
            &want,
        );
    }
    // Every scalar r − 1: the sum of all points, negated.
    let n = 100.min(ark_points.len());
    if fits(&cx, max, n) {
        let scalars = vec![C::scalar_from_ark(-one); n];
        let want = -ark_points[..n]
            .iter()
            .fold(ArkProjective::<C>::zero(), |acc, p| acc + p);
        check_plain::<C>(&cx, "every scalar r − 1", &points[..n], &scalars, &want);
    }
}

/// Points at infinity mixed among ordinary ones.
pub fn msm_infinity_bases<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "infinity bases") else {
        return;
    };
    for n in [1usize, 2, 7, 100, 1000] {
        if !fits(&cx, max, n) {
            continue;
        }
        let mut ark_points = random_ark_points::<C>(&mut cx, n);
        for (i, p) in ark_points.iter_mut().enumerate() {
            if i % 4 == 1 || cx.below(5) == 0 {
                *p = ArkAffine::<C>::identity();
            }
        }
        let points = to_ours::<C>(&ark_points);
        let scalars = random_scalars::<C>(&mut cx, n);
        // The reference sums only the finite points, so arkworks' own handling of
        // infinity in its MSM is not what we test against.
        let (fin_p, fin_s): (Vec<_>, Vec<_>) = ark_points
            .iter()
            .zip(&scalars)
            .filter(|(p, _)| !p.is_zero())
            .map(|(p, s)| (*p, *s))
            .unzip();
        let want = ark_msm::<C>(&fin_p, &fin_s);
        check_plain::<C>(
            &cx,
            &format!("infinity among n={n}"),
            &points,
            &scalars,
            &want,
        );
    }
}

/// `P` together with `−P`: equal scalars cancel, different ones leave `(a − b)·P`.
pub fn msm_negated_points<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "P and −P") else {
        return;
    };
    let ark_points = random_ark_points::<C>(&mut cx, 64);
    let p = C::from_ark(&ark_points[0]);
    let q = C::from_ark(&ark_points[1]);
    if fits(&cx, max, 2) {
        let s = random_scalar::<C>(&mut cx);
        check_plain::<C>(
            &cx,
            "s·P + s·(−P)",
            &[p, p.neg()],
            &[s, s],
            &ArkProjective::<C>::zero(),
        );
        check_plain::<C>(
            &cx,
            "P + (−P)",
            &[p, p.neg()],
            &[C::Scalar::ONE, C::Scalar::ONE],
            &ArkProjective::<C>::zero(),
        );
        let (a, c) = (random_scalar::<C>(&mut cx), random_scalar::<C>(&mut cx));
        let want = naive_msm::<C>(&[ark_points[0], -ark_points[0]], &[a, c]);
        check_plain::<C>(&cx, "a·P + c·(−P)", &[p, p.neg()], &[a, c], &want);
    }
    if fits(&cx, max, 3) {
        let (s, t) = (random_scalar::<C>(&mut cx), random_scalar::<C>(&mut cx));
        let want = naive_msm::<C>(&ark_points[1..2], &[t]);
        check_plain::<C>(
            &cx,
            "s·P + s·(−P) + t·Q",
            &[p, p.neg(), q],
            &[s, s, t],
            &want,
        );
    }
    // 64 points, each also present negated with the same scalar, plus a few unpaired.
    let n = 2 * 60 + 4;
    if fits(&cx, max, n) {
        let mut bases = Vec::new();
        let mut scalars = Vec::new();
        for ap in &ark_points[..60] {
            let pt = C::from_ark(ap);
            let s = random_scalar::<C>(&mut cx);
            bases.extend([pt, pt.neg()]);
            scalars.extend([s, s]);
        }
        let extra_s = random_scalars::<C>(&mut cx, 4);
        bases.extend(to_ours::<C>(&ark_points[60..64]));
        scalars.extend(&extra_s);
        // Shuffle so that a point and its negation are not adjacent.
        for i in (1..bases.len()).rev() {
            let j = cx.below(i + 1);
            bases.swap(i, j);
            scalars.swap(i, j);
        }
        let want = ark_msm::<C>(&ark_points[60..64], &extra_s);
        check_plain::<C>(
            &cx,
            "60 cancelling pairs + 4 points",
            &bases,
            &scalars,
            &want,
        );
    }
}

/// The same base many times (bucket doublings), bases that repeat in patterns, and many
/// distinct bases under one scalar (one bucket holds every point).
pub fn msm_repeated_points<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "repeated points") else {
        return;
    };
    let ark_points = random_ark_points::<C>(&mut cx, 4);
    let p = C::from_ark(&ark_points[0]);
    let sum = |s: &[C::Scalar]| {
        s.iter()
            .fold(ArkScalar::<C>::zero(), |a, &x| a + C::scalar_to_ark(x))
    };
    if fits(&cx, max, 2) {
        let want = ark_points[0] + ark_points[0];
        check_plain::<C>(&cx, "P + P", &[p, p], &[C::Scalar::ONE; 2], &want);
    }
    for n in [2usize, 64, 1000] {
        if !fits(&cx, max, n) {
            continue;
        }
        let bases = vec![p; n];
        let scalars = random_scalars::<C>(&mut cx, n);
        let want = ark_points[0] * sum(&scalars);
        check_plain::<C>(
            &cx,
            &format!("one point repeated {n} times, random scalars"),
            &bases,
            &scalars,
            &want,
        );
        let s = random_scalar::<C>(&mut cx);
        let scalars = vec![s; n];
        let want = ark_points[0] * sum(&scalars);
        check_plain::<C>(
            &cx,
            &format!("one point repeated {n} times, one scalar"),
            &bases,
            &scalars,
            &want,
        );
        let scalars = vec![C::Scalar::from_u64(5); n];
        let want = ark_points[0] * ArkScalar::<C>::from(5 * n as u64);
        check_plain::<C>(
            &cx,
            &format!("one point repeated {n} times, scalar 5"),
            &bases,
            &scalars,
            &want,
        );
    }
    let n = 500;
    if fits(&cx, max, n) {
        let idx: Vec<usize> = (0..n).map(|i| (i * 7 + i / 3) % 4).collect();
        let bases: Vec<Affine<C>> = idx.iter().map(|&i| C::from_ark(&ark_points[i])).collect();
        let ark_bases: Vec<ArkAffine<C>> = idx.iter().map(|&i| ark_points[i]).collect();
        let scalars = random_scalars::<C>(&mut cx, n);
        let want = naive_msm::<C>(&ark_bases, &scalars);
        check_plain::<C>(
            &cx,
            "four points repeated in a pattern",
            &bases,
            &scalars,
            &want,
        );
    }
    // Distinct points, one scalar: every point lands in the same bucket of each window, so
    // one bucket holds all n entries (a device has to share it among many work-items).
    let n = match C::GROUP {
        GroupId::G1 => 3000,
        GroupId::G2 => 600,
    };
    if fits(&cx, max, n) {
        let ark_points = random_ark_points::<C>(&mut cx, n);
        let bases = to_ours::<C>(&ark_points);
        let r = random_scalar::<C>(&mut cx);
        for s in [C::Scalar::ONE, C::Scalar::from_u64(0xffff_ffff), r] {
            let scalars = vec![s; n];
            let want = ark_msm::<C>(&ark_points, &scalars);
            check_plain::<C>(
                &cx,
                &format!("{n} distinct points, one scalar"),
                &bases,
                &scalars,
                &want,
            );
        }
    }
}

/// Scalars handed over as canonical integers (`Encoding::Canonical`).
pub fn msm_canonical_scalars<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "canonical scalars") else {
        return;
    };
    let ark_points = random_ark_points::<C>(&mut cx, 1003);
    let points = to_ours::<C>(&ark_points);
    for n in [1usize, 3, 100, 1003] {
        if !fits(&cx, max, n) {
            continue;
        }
        let mut scalars = random_scalars::<C>(&mut cx, n);
        scalars[0] = -C::Scalar::ONE;
        if n > 2 {
            scalars[1] = C::Scalar::ZERO;
            scalars[2] = C::Scalar::ONE;
        }
        let canonical: Vec<[u64; 4]> = scalars.iter().map(|s| s.to_canonical()).collect();
        let case = format!("n={n}");
        let got = backend_msm::<C>(
            &cx,
            &case,
            &PointsView::from_affine(&points[..n]).raw(),
            &RawScalars::new(C::Scalar::ID, &canonical, Encoding::Canonical),
        );
        check::<C>(
            &cx,
            &case,
            &got,
            &ark_msm::<C>(&ark_points[..n], &scalars),
            "arkworks",
        );
    }
}

/// How to lay points out in a byte buffer.
#[derive(Copy, Clone, Debug)]
struct Layout {
    stride: usize,
    infinity: Infinity,
    encoding: Encoding,
    pad: u8,
}

/// Writes `points` in `layout`: coordinates (Montgomery or canonical limbs) at the start of
/// each element, `pad` in the gaps, random junk in the coordinates of flagged infinities.
fn encode_points<C: CurveGroup>(cx: &mut Ctx<'_>, points: &[Affine<C>], l: Layout) -> Vec<u8> {
    let coords = core::mem::size_of::<Affine<C>>();
    let mut out = vec![l.pad; points.len() * l.stride];
    for (i, p) in points.iter().enumerate() {
        let at = i * l.stride;
        if let Infinity::FlagByte { offset } = l.infinity {
            if p.is_identity() {
                for byte in &mut out[at..at + coords] {
                    *byte = cx.u64() as u8;
                }
                out[at + offset] = 0x5a;
                continue;
            }
            out[at + offset] = 0;
        }
        let primes: &[C::BasePrime] = bytemuck::cast_slice(core::slice::from_ref(p));
        let mut o = at;
        for e in primes {
            let limbs = match l.encoding {
                Encoding::Montgomery => e.to_montgomery(),
                Encoding::Canonical => e.to_canonical(),
            };
            let bytes = bytemuck::bytes_of(&limbs);
            out[o..o + bytes.len()].copy_from_slice(bytes);
            o += bytes.len();
        }
    }
    out
}

fn raw_points<'a, C: CurveGroup>(
    cx: &Ctx<'_>,
    bytes: &'a [u8],
    n: usize,
    l: Layout,
) -> RawPoints<'a> {
    RawPoints::new(C::id(), bytes, n, l.stride, l.infinity, l.encoding)
        .unwrap_or_else(|e| cx.fail(format_args!("cannot build the view {l:?}: {e}")))
}

/// Random points with some at infinity, in both worlds.
fn points_with_infinity<C: RefCurve>(
    cx: &mut Ctx<'_>,
    n: usize,
) -> (Vec<ArkAffine<C>>, Vec<Affine<C>>) {
    let mut ark_points = random_ark_points::<C>(cx, n);
    for (i, p) in ark_points.iter_mut().enumerate() {
        if i % 5 == 3 {
            *p = ArkAffine::<C>::identity();
        }
    }
    let points = to_ours::<C>(&ark_points);
    (ark_points, points)
}

/// Runs layouts over the same points and scalars and compares with arkworks.
fn check_layouts<C: RefCurve>(cx: &mut Ctx<'_>, max: usize, layouts: &[(&str, Layout)]) {
    for n in [1usize, 4, 100, 1003] {
        if !fits(cx, max, n) {
            continue;
        }
        let (ark_points, points) = points_with_infinity::<C>(cx, n);
        let scalars = random_scalars::<C>(cx, n);
        let want = ark_msm::<C>(&ark_points, &scalars);
        for &(name, l) in layouts {
            let bytes = encode_points::<C>(cx, &points, l);
            let raw = raw_points::<C>(cx, &bytes, n, l);
            let case = format!("{name}, n={n}");
            let got =
                backend_msm::<C>(cx, &case, &raw, &ScalarsView::from_elements(&scalars).raw());
            check::<C>(cx, &case, &got, &want, "arkworks");
        }
    }
}

/// Bases handed over with canonical coordinates (`Encoding::Canonical`), infinity as zero
/// coordinates or as a flag byte; together with canonical scalars.
pub fn msm_canonical_bases<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "canonical bases") else {
        return;
    };
    let coords = core::mem::size_of::<Affine<C>>();
    let layouts = [
        (
            "canonical, zero-coordinate infinity",
            Layout {
                stride: coords,
                infinity: Infinity::ZeroCoordinates,
                encoding: Encoding::Canonical,
                pad: 0,
            },
        ),
        (
            "canonical, flag byte after the coordinates",
            Layout {
                stride: coords + 8,
                infinity: Infinity::FlagByte { offset: coords },
                encoding: Encoding::Canonical,
                pad: 0xa5,
            },
        ),
    ];
    check_layouts::<C>(&mut cx, max, &layouts);
    // Canonical bases and canonical scalars together.
    let n = 100;
    if fits(&cx, max, n) {
        let (ark_points, points) = points_with_infinity::<C>(&mut cx, n);
        let scalars = random_scalars::<C>(&mut cx, n);
        let canonical: Vec<[u64; 4]> = scalars.iter().map(|s| s.to_canonical()).collect();
        let l = layouts[0].1;
        let bytes = encode_points::<C>(&mut cx, &points, l);
        let raw = raw_points::<C>(&cx, &bytes, n, l);
        let case = "canonical bases and canonical scalars";
        let got = backend_msm::<C>(
            &cx,
            case,
            &raw,
            &RawScalars::new(C::Scalar::ID, &canonical, Encoding::Canonical),
        );
        check::<C>(
            &cx,
            case,
            &got,
            &ark_msm::<C>(&ark_points, &scalars),
            "arkworks",
        );
    }
}

/// arkworks' own affine points (`x, y, infinity: bool`) read in place through
/// [`RefCurve::ark_view`].
pub fn msm_ark_layout<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "arkworks layout") else {
        return;
    };
    for n in [1usize, 3, 100, 1003] {
        if !fits(&cx, max, n) {
            continue;
        }
        let (ark_points, _) = points_with_infinity::<C>(&mut cx, n);
        let scalars = random_scalars::<C>(&mut cx, n);
        let Some(view) = C::ark_view(&ark_points) else {
            super::loud(format_args!(
                "NOTE: arkworks' affine layout for {} cannot be read in place on this target; \
                 the in-place case is not run",
                C::id()
            ));
            return;
        };
        if !matches!(view.raw().infinity(), Infinity::FlagByte { .. }) {
            cx.fail("the arkworks view does not use a flag byte for infinity");
        }
        let case = format!("arkworks slice in place, n={n}");
        let got = backend_msm::<C>(
            &cx,
            &case,
            &view.raw(),
            &ScalarsView::from_elements(&scalars).raw(),
        );
        check::<C>(
            &cx,
            &case,
            &got,
            &ark_msm::<C>(&ark_points, &scalars),
            "arkworks",
        );
    }
}

/// Strides larger than a point (aligned and unaligned), padding filled with junk, and a
/// flag byte at an unusual offset.
pub fn msm_strided<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "strided") else {
        return;
    };
    let coords = core::mem::size_of::<Affine<C>>();
    let mont = |stride, infinity, pad| Layout {
        stride,
        infinity,
        encoding: Encoding::Montgomery,
        pad,
    };
    let layouts = [
        (
            "stride = point size, byte buffer",
            mont(coords, Infinity::ZeroCoordinates, 0),
        ),
        (
            "stride + 8, junk padding",
            mont(coords + 8, Infinity::ZeroCoordinates, 0xa5),
        ),
        (
            "stride + 13 (unaligned), junk padding",
            mont(coords + 13, Infinity::ZeroCoordinates, 0xff),
        ),
        (
            "stride + 64, junk padding",
            mont(coords + 64, Infinity::ZeroCoordinates, 0x3c),
        ),
        (
            "stride + 16, flag byte at +5, junk coordinates under the flag",
            mont(coords + 16, Infinity::FlagByte { offset: coords + 5 }, 0xa5),
        ),
        (
            "stride + 1, flag byte last",
            mont(coords + 1, Infinity::FlagByte { offset: coords }, 0),
        ),
    ];
    check_layouts::<C>(&mut cx, max, &layouts);
}

fn prepare<C: RefCurve>(
    cx: &Ctx<'_>,
    case: &str,
    raw: &RawPoints<'_>,
) -> Option<Arc<dyn PreparedBases>> {
    match cx.guard(case, || cx.b.prepare_bases(raw)) {
        Ok(p) => {
            if p.id() != C::id() || p.len() != raw.len() || p.is_empty() != raw.is_empty() {
                cx.fail(format_args!(
                    "{case}: prepared bases report id {} and {} points, expected {} and {}",
                    p.id(),
                    p.len(),
                    C::id(),
                    raw.len()
                ));
            }
            Some(p)
        }
        Err(BackendError::Unsupported { detail, .. }) => {
            super::loud(format_args!(
                "SKIPPED: {}: {case}: the backend does not prepare bases ({detail})",
                cx.label
            ));
            None
        }
        Err(e) => cx.fail(format_args!("{case}: prepare_bases failed: {e}")),
    }
}

fn prepared_msm<C: RefCurve>(
    cx: &Ctx<'_>,
    case: &str,
    p: &dyn PreparedBases,
    scalars: &RawScalars<'_>,
) -> ArkProjective<C> {
    let r = cx.guard(case, || p.msm(scalars)).unwrap_or_else(|e| {
        cx.fail(format_args!(
            "{case}: MSM of {} scalars over {} prepared bases failed: {e}",
            scalars.len(),
            p.len()
        ))
    });
    result_to_ark::<C>(cx, case, r)
}

/// Prepared bases (`prepare_bases` then `msm`), with as many scalars as bases, fewer, one
/// and none, repeated calls, and bases prepared from other layouts.
pub fn msm_prepared<C: RefCurve>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<C>(b, "prepared bases") else {
        return;
    };
    let n = match C::GROUP {
        GroupId::G1 => 1003,
        GroupId::G2 => 130,
    }
    .min(max);
    if n < 4 {
        cx.skip(format_args!(
            "the declared maximum of {max} points is too small for this case"
        ));
        return;
    }
    let (ark_points, points) = points_with_infinity::<C>(&mut cx, n);
    let Some(prepared) = prepare::<C>(&cx, "our layout", &PointsView::from_affine(&points).raw())
    else {
        return;
    };
    let mut lens = vec![n, n - 1, n / 2, 3, 1, 0];
    lens.dedup();
    for round in 0..2 {
        for &m in &lens {
            let scalars = random_scalars::<C>(&mut cx, m);
            let case = format!("round {round}, {m} scalars for {n} prepared bases");
            let got = prepared_msm::<C>(
                &cx,
                &case,
                &*prepared,
                &ScalarsView::from_elements(&scalars).raw(),
            );
            check::<C>(
                &cx,
                &case,
                &got,
                &ark_msm::<C>(&ark_points[..m], &scalars),
                "arkworks",
            );
        }
    }
    // Canonical scalars on prepared bases.
    let scalars = random_scalars::<C>(&mut cx, n);
    let canonical: Vec<[u64; 4]> = scalars.iter().map(|s| s.to_canonical()).collect();
    let case = "canonical scalars on prepared bases";
    let got = prepared_msm::<C>(
        &cx,
        case,
        &*prepared,
        &RawScalars::new(C::Scalar::ID, &canonical, Encoding::Canonical),
    );
    check::<C>(
        &cx,
        case,
        &got,
        &ark_msm::<C>(&ark_points, &scalars),
        "arkworks",
    );

    // Bases prepared from a strided canonical layout with flag bytes, and from a sub-slice:
    // the backend must copy (or upload) them, so the caller's buffer is dropped before use.
    let coords = core::mem::size_of::<Affine<C>>();
    let l = Layout {
        stride: coords + 24,
        infinity: Infinity::FlagByte { offset: coords + 7 },
        encoding: Encoding::Canonical,
        pad: 0xa5,
    };
    let prepared2 = {
        let bytes = encode_points::<C>(&mut cx, &points, l);
        let raw = raw_points::<C>(&cx, &bytes, n, l);
        let start = n / 3;
        let Some(p) = prepare::<C>(
            &cx,
            "strided canonical layout, sub-slice",
            &raw.slice(start, n - start),
        ) else {
            return;
        };
        (p, start)
    };
    let (p2, start) = prepared2;
    let m = n - start;
    let scalars = random_scalars::<C>(&mut cx, m);
    let case = "bases prepared from a strided canonical sub-slice";
    let got = prepared_msm::<C>(&cx, case, &*p2, &ScalarsView::from_elements(&scalars).raw());
    check::<C>(
        &cx,
        case,
        &got,
        &ark_msm::<C>(&ark_points[start..], &scalars),
        "arkworks",
    );
    // Both handles stay usable side by side.
    let scalars = random_scalars::<C>(&mut cx, 2.min(n));
    let case = "first handle after the second was made";
    let got = prepared_msm::<C>(
        &cx,
        case,
        &*prepared,
        &ScalarsView::from_elements(&scalars).raw(),
    );
    check::<C>(
        &cx,
        case,
        &got,
        &ark_msm::<C>(&ark_points[..scalars.len()], &scalars),
        "arkworks",
    );
}

/// Parses a `0x` hexadecimal literal into four little-endian limbs.
fn hex4(s: &str) -> [u64; 4] {
    let h = s.trim_start_matches("0x");
    assert!(h.len() <= 64, "literal too long");
    let padded = format!("{h:0>64}");
    let mut out = [0u64; 4];
    for (i, limb) in out.iter_mut().enumerate() {
        let lo = 64 - 16 * (i + 1);
        *limb = u64::from_str_radix(&padded[lo..lo + 16], 16).expect("hex literal");
    }
    out
}

/// The published known answer: on BN254 G1 with `G = (1, 2)`,
/// `MSM([1, 2, 3, 4], [G, 2G, 3G, 4G]) = 30G`, whose affine coordinates are checked against
/// literal hexadecimal values (independently of arkworks and of our conversions).
pub fn msm_known_answer_bn254(b: &dyn Backend) {
    type C = Bn254G1;
    let Some((cx, _)) = start::<C>(b, "known answer (BN254 30G)") else {
        return;
    };
    const X30: &str = "0x036083bfa420b15a4c11f66a3cffd55318b019feb45f833a876e93848625f5ae";
    const Y30: &str = "0x2630c348c019c3edb74fe62a7e921361aae9621988223514d56ca8b36adc9e36";
    let g = C::GENERATOR;
    if g.x.to_canonical() != [1, 0, 0, 0] || g.y.to_canonical() != [2, 0, 0, 0] {
        cx.fail("the BN254 G1 generator is not (1, 2)");
    }
    let g1 = crate::curve::Projective::<C>::from(g);
    let g2 = g1.double();
    let g3 = g2.add_affine(&g);
    let g4 = g2.double();
    let bases = crate::curve::Projective::batch_to_affine(&[g1, g2, g3, g4]);
    let scalars = [1u64, 2, 3, 4].map(Bn254Fr::from_u64);
    let r = raw_msm(
        &cx,
        "MSM([1,2,3,4], [G,2G,3G,4G])",
        &PointsView::from_affine(&bases).raw(),
        &ScalarsView::from_elements(&scalars).raw(),
    );
    let a = r
        .to_projective::<C>()
        .unwrap_or_else(|e| cx.fail(format_args!("{e}")))
        .to_affine();
    let (x, y) = (a.x.to_canonical(), a.y.to_canonical());
    if x != hex4(X30) || y != hex4(Y30) {
        cx.fail(format_args!(
            "30G = ({X30}, {Y30}) expected, got ({:?}, {:?})",
            a.x, a.y
        ));
    }
    // And the same bases read with canonical coordinates and canonical scalars.
    let canonical: Vec<[u64; 4]> = scalars.iter().map(|s| s.to_canonical()).collect();
    let mut cx = cx;
    let l = Layout {
        stride: 64,
        infinity: Infinity::ZeroCoordinates,
        encoding: Encoding::Canonical,
        pad: 0,
    };
    let bytes = encode_points::<C>(&mut cx, &bases, l);
    let raw = raw_points::<C>(&cx, &bytes, 4, l);
    let r = raw_msm(
        &cx,
        "canonical MSM([1,2,3,4], [G,2G,3G,4G])",
        &raw,
        &RawScalars::new(Bn254Fr::ID, &canonical, Encoding::Canonical),
    );
    let a = r
        .to_projective::<C>()
        .unwrap_or_else(|e| cx.fail(format_args!("{e}")))
        .to_affine();
    if a.x.to_canonical() != hex4(X30) || a.y.to_canonical() != hex4(Y30) {
        cx.fail(format_args!(
            "canonical inputs: 30G = ({X30}, {Y30}) expected, got ({:?}, {:?})",
            a.x, a.y
        ));
    }
}
