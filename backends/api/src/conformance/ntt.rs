//! NTT cases: every backend against ark-poly (pairing scalar fields) or Plonky3 (Goldilocks,
//! BabyBear), and against an O(n²) naive DFT.
//!
//! Conventions under test (see [`crate::backend`]): `Forward` is `yᵢ = Σⱼ xⱼ·(g·ωⁱ)ʲ` (with
//! coset shift `g`, `1` without), `Inverse` is its inverse including the `1/n` scaling; a
//! bit-reversed array holds logical element `bitreverse(i)` at index `i`; the coset shift
//! applies to the logical coefficient index whatever the storage order.

use super::refs::RefNttField;
use super::Ctx;
use crate::backend::{
    pad4, Backend, BackendNttDomain, BatchLayout, NttConfig, NttData, NttDirection, NttDomainSpec,
    NttOrder,
};
use crate::curves::Bn254Fr;
use crate::field::{Field, PrimeField, TwoAdicField};
use std::sync::Arc;

const DIRECTIONS: [NttDirection; 2] = [NttDirection::Forward, NttDirection::Inverse];
const ORDERS: [(NttOrder, NttOrder); 4] = [
    (NttOrder::Natural, NttOrder::Natural),
    (NttOrder::Natural, NttOrder::BitReversed),
    (NttOrder::BitReversed, NttOrder::Natural),
    (NttOrder::BitReversed, NttOrder::BitReversed),
];
const LAYOUTS: [BatchLayout; 2] = [BatchLayout::Contiguous, BatchLayout::Interleaved];

/// A case over field `F`: `None` (after a loud skip) when the backend does not declare NTT
/// over `F`, else the largest `log2(n)` it accepts.
fn start<'a, F: RefNttField>(b: &'a dyn Backend, case: &str) -> Option<(Ctx<'a>, u32)> {
    let cx = Ctx::new(b, format_args!("ntt {} {case}", F::ID));
    match b.capabilities().ntt_for(F::ID) {
        Some(cap) => {
            let max = cap.max_log_n;
            Some((cx, max))
        }
        None => {
            cx.skip(format_args!("NTT over {}", F::ID));
            None
        }
    }
}

/// The sizes of `wanted` the backend accepts; a loud skip for the others.
fn sizes(cx: &Ctx<'_>, max: u32, wanted: &[u32]) -> Vec<u32> {
    let (ok, too_big): (Vec<u32>, Vec<u32>) = wanted.iter().partition(|&&k| k <= max);
    if !too_big.is_empty() {
        cx.skip(format_args!(
            "sizes 2^{too_big:?} exceed the declared maximum 2^{max}"
        ));
    }
    ok
}

fn domain(cx: &Ctx<'_>, spec: &NttDomainSpec) -> Arc<dyn BackendNttDomain> {
    let d = cx
        .guard("building the domain", || cx.b.ntt_domain(spec))
        .unwrap_or_else(|e| {
            cx.fail(format_args!(
                "building the domain of size 2^{} (root {:?}) failed, though the backend declares \
             NTT over {}: {e}",
                spec.log_n, spec.root, spec.field
            ))
        });
    if d.spec() != spec {
        cx.fail(format_args!(
            "the domain reports spec {:?}, built from {spec:?}",
            d.spec()
        ));
    }
    d
}

fn default_domain<F: TwoAdicField>(cx: &Ctx<'_>, log_n: u32) -> Arc<dyn BackendNttDomain> {
    let spec = NttDomainSpec::with_default_root::<F>(log_n)
        .unwrap_or_else(|| cx.fail(format_args!("no default root for 2^{log_n}")));
    domain(cx, &spec)
}

fn config<F: PrimeField>(
    direction: NttDirection,
    (input_order, output_order): (NttOrder, NttOrder),
    shift: Option<F>,
    batch: usize,
    layout: BatchLayout,
) -> NttConfig {
    NttConfig {
        direction,
        input_order,
        output_order,
        coset: shift.map(|g| pad4(g.to_canonical().as_ref())),
        batch,
        layout,
    }
}

fn plain<F: PrimeField>(direction: NttDirection) -> NttConfig {
    config::<F>(direction, ORDERS[0], None, 1, BatchLayout::Contiguous)
}

fn describe(log_n: u32, cfg: &NttConfig) -> String {
    format!(
        "2^{log_n} {:?}, {:?} in, {:?} out, coset {}, batch {} {:?}",
        cfg.direction,
        cfg.input_order,
        cfg.output_order,
        match cfg.coset {
            Some(g) => format!("{g:x?}"),
            None => "none".into(),
        },
        cfg.batch,
        cfg.layout
    )
}

fn run<F: PrimeField>(
    cx: &Ctx<'_>,
    d: &dyn BackendNttDomain,
    data: &mut [F],
    cfg: &NttConfig,
    case: &str,
) {
    cx.guard(case, || d.ntt(NttData::from_slice(data), cfg))
        .unwrap_or_else(|e| cx.fail(format_args!("{case}: the transform failed: {e}")));
}

fn bitrev(i: usize, log_n: u32) -> usize {
    if log_n == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - log_n)
    }
}

fn random_vec<F: PrimeField>(cx: &mut Ctx<'_>, n: usize) -> Vec<F> {
    (0..n).map(|_| F::random_with(&mut || cx.u64())).collect()
}

fn random_nonzero<F: PrimeField>(cx: &mut Ctx<'_>) -> F {
    loop {
        let x = F::random_with(&mut || cx.u64());
        if !x.is_zero() && x != F::ONE {
            return x;
        }
    }
}

fn check_vec<F: PrimeField>(cx: &Ctx<'_>, case: &str, got: &[F], want: &[F], reference: &str) {
    assert_eq!(got.len(), want.len());
    if got != want {
        let bad: Vec<usize> = (0..got.len()).filter(|&i| got[i] != want[i]).collect();
        let i = bad[0];
        cx.fail(format_args!(
            "{case}: {} of {} elements differ from {reference}; first at index {i}: got {:?}, \
             expected {:?}",
            bad.len(),
            got.len(),
            got[i],
            want[i]
        ));
    }
}

/// The expected output of the backend for `input` under `cfg`: undoes the batch layout and
/// the input order, applies `transform` to the logical columns (stored one after the other,
/// natural order), then applies the output order and the layout.
fn expected<F: PrimeField>(
    input: &[F],
    log_n: u32,
    cfg: &NttConfig,
    transform: impl Fn(&[F], usize, usize, NttDirection, Option<F>) -> Vec<F>,
) -> Vec<F> {
    let n = 1usize << log_n;
    let b = cfg.batch;
    assert_eq!(input.len(), n * b);
    let at = |c: usize, i: usize| match cfg.layout {
        BatchLayout::Contiguous => c * n + i,
        BatchLayout::Interleaved => i * b + c,
    };
    let shift = cfg
        .coset
        .map(|g| crate::backend::decode_padded::<F>(&g).expect("coset shift is a valid element"));
    let mut cols = vec![F::ZERO; n * b];
    for c in 0..b {
        for i in 0..n {
            let logical = match cfg.input_order {
                NttOrder::Natural => i,
                NttOrder::BitReversed => bitrev(i, log_n),
            };
            cols[c * n + logical] = input[at(c, i)];
        }
    }
    let out = transform(&cols, n, b, cfg.direction, shift);
    let mut res = vec![F::ZERO; n * b];
    for c in 0..b {
        for i in 0..n {
            let logical = match cfg.output_order {
                NttOrder::Natural => i,
                NttOrder::BitReversed => bitrev(i, log_n),
            };
            res[at(c, i)] = out[c * n + logical];
        }
    }
    res
}

/// The O(n²) DFT with an explicit root: forward `yᵢ = Σⱼ xⱼ·gʲ·ρ^(ij)`, inverse
/// `xⱼ = g^(−j)·n⁻¹·Σᵢ yᵢ·ρ^(−ij)`, per column.
fn naive_dft<F: TwoAdicField>(
    root: F,
) -> impl Fn(&[F], usize, usize, NttDirection, Option<F>) -> Vec<F> {
    move |cols, n, _b, direction, shift| {
        let (w, scale) = match direction {
            NttDirection::Forward => (root, F::ONE),
            NttDirection::Inverse => (
                root.inverse().expect("root is non-zero"),
                F::from_u64(n as u64).inverse().expect("n is invertible"),
            ),
        };
        let mut powers = Vec::with_capacity(n);
        let mut p = F::ONE;
        for _ in 0..n {
            powers.push(p);
            p *= w;
        }
        let g = shift.unwrap_or(F::ONE);
        let mut out = Vec::with_capacity(cols.len());
        for col in cols.chunks(n) {
            let src: Vec<F> = match direction {
                NttDirection::Forward => {
                    let mut gj = F::ONE;
                    col.iter()
                        .map(|&x| {
                            let v = x * gj;
                            gj *= g;
                            v
                        })
                        .collect()
                }
                NttDirection::Inverse => col.to_vec(),
            };
            let mut dst: Vec<F> = (0..n)
                .map(|i| {
                    let mut acc = F::ZERO;
                    for (j, &x) in src.iter().enumerate() {
                        acc += x * powers[(i * j) % n];
                    }
                    acc * scale
                })
                .collect();
            if direction == NttDirection::Inverse {
                let gi = g.inverse().expect("shift is non-zero");
                let mut gj = F::ONE;
                for x in dst.iter_mut() {
                    *x *= gj;
                    gj *= gi;
                }
            }
            out.extend(dst);
        }
        out
    }
}

/// Runs one transform of random data on the backend and compares it with the library
/// reference.
fn check_against_reference<F: RefNttField>(
    cx: &mut Ctx<'_>,
    d: &dyn BackendNttDomain,
    log_n: u32,
    cfg: &NttConfig,
) {
    let input = random_vec::<F>(cx, (1usize << log_n) * cfg.batch);
    let mut got = input.clone();
    let case = describe(log_n, cfg);
    run(cx, d, &mut got, cfg, &case);
    let want = expected(&input, log_n, cfg, F::reference_ntt);
    check_vec(cx, &case, &got, &want, F::REFERENCE);
}

/// Runs one transform of random data on the backend and compares it with the naive DFT
/// over `root`.
fn check_against_naive<F: RefNttField>(
    cx: &mut Ctx<'_>,
    d: &dyn BackendNttDomain,
    log_n: u32,
    cfg: &NttConfig,
    root: F,
) {
    let input = random_vec::<F>(cx, (1usize << log_n) * cfg.batch);
    let mut got = input.clone();
    let case = format!("{}, root {root:?}", describe(log_n, cfg));
    run(cx, d, &mut got, cfg, &case);
    let want = expected(&input, log_n, cfg, naive_dft(root));
    check_vec(cx, &case, &got, &want, "the naive O(n²) DFT");
}

/// The root-of-unity convention: `F::two_adic_root(k)` is the reference library's root for
/// every `k` (arkworks' `get_root_of_unity(2^k)`, Plonky3's `two_adic_generator(k)`) and is
/// primitive; the backend's domains use it (the transform of `e₁` is `(ωⁱ)ᵢ`).
pub fn ntt_roots<F: RefNttField>(b: &dyn Backend) {
    let cx = Ctx::new(b, format_args!("ntt {} root convention", F::ID));
    for k in 0..=F::TWO_ADICITY {
        let ours = F::two_adic_root(k).unwrap_or_else(|| cx.fail(format_args!("no root 2^{k}")));
        let theirs = F::reference_root(k);
        if ours != theirs {
            cx.fail(format_args!(
                "two_adic_root({k}) = {ours:?} but {} says {theirs:?}",
                F::REFERENCE
            ));
        }
        if ours.pow(&[1u64 << k]) != F::ONE {
            cx.fail(format_args!(
                "two_adic_root({k}) is not a 2^{k}-th root of unity"
            ));
        }
        if k > 0 && ours.pow(&[1u64 << (k - 1)]) != -F::ONE {
            cx.fail(format_args!("two_adic_root({k}) is not primitive"));
        }
    }
    if F::two_adic_root(F::TWO_ADICITY + 1).is_some() {
        cx.fail("two_adic_root beyond the two-adicity is not None");
    }
    let Some((cx, max)) = start::<F>(b, "root convention") else {
        return;
    };
    for log_n in sizes(&cx, max, &(0..=12).collect::<Vec<_>>()) {
        let n = 1usize << log_n;
        let d = default_domain::<F>(&cx, log_n);
        let w = F::two_adic_root(log_n).expect("checked above");
        // Forward of e₁ (of a constant for n = 1) gives the powers of ω.
        let mut data = vec![F::ZERO; n];
        let want: Vec<F> = if n == 1 {
            data[0] = F::from_u64(7);
            vec![F::from_u64(7)]
        } else {
            data[1] = F::ONE;
            (0..n as u64).map(|i| w.pow(&[i])).collect()
        };
        let case = format!("forward NTT of e₁, 2^{log_n}");
        run(
            &cx,
            &*d,
            &mut data,
            &plain::<F>(NttDirection::Forward),
            &case,
        );
        check_vec(&cx, &case, &data, &want, "the powers of the default root");
        // Inverse of e₁ gives n⁻¹·ω^(−j).
        if n > 1 {
            let mut data = vec![F::ZERO; n];
            data[1] = F::ONE;
            let ninv = F::from_u64(n as u64).inverse().expect("n is invertible");
            let wi = w.inverse().expect("ω is non-zero");
            let want: Vec<F> = (0..n as u64).map(|j| ninv * wi.pow(&[j])).collect();
            let case = format!("inverse NTT of e₁, 2^{log_n}");
            run(
                &cx,
                &*d,
                &mut data,
                &plain::<F>(NttDirection::Inverse),
                &case,
            );
            check_vec(&cx, &case, &data, &want, "n⁻¹ times the powers of ω⁻¹");
        }
    }
}

const ALL_SIZES: [u32; 14] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16];

/// Forward transforms of sizes `2^0..2^12` and `2^16` against the library reference.
pub fn ntt_forward<F: RefNttField>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<F>(b, "forward") else {
        return;
    };
    for log_n in sizes(&cx, max, &ALL_SIZES) {
        let d = default_domain::<F>(&cx, log_n);
        check_against_reference::<F>(&mut cx, &*d, log_n, &plain::<F>(NttDirection::Forward));
    }
}

/// Inverse transforms of sizes `2^0..2^12` and `2^16` against the library reference.
pub fn ntt_inverse<F: RefNttField>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<F>(b, "inverse") else {
        return;
    };
    for log_n in sizes(&cx, max, &ALL_SIZES) {
        let d = default_domain::<F>(&cx, log_n);
        check_against_reference::<F>(&mut cx, &*d, log_n, &plain::<F>(NttDirection::Inverse));
    }
}

/// Small transforms (forward, inverse, on the subgroup and on a coset) against the naive
/// O(n²) DFT over the default root.
pub fn ntt_naive<F: RefNttField>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<F>(b, "naive DFT") else {
        return;
    };
    let g = F::multiplicative_generator();
    for log_n in sizes(&cx, max, &[0, 1, 2, 3, 4, 5, 6, 8]) {
        let d = default_domain::<F>(&cx, log_n);
        let w = F::two_adic_root(log_n).expect("within the two-adicity");
        for dir in DIRECTIONS {
            for shift in [None, Some(g)] {
                let cfg = config(dir, ORDERS[0], shift, 1, BatchLayout::Contiguous);
                check_against_naive::<F>(&mut cx, &*d, log_n, &cfg, w);
            }
        }
    }
}

/// Every (input order, output order) pair, forward and inverse.
pub fn ntt_orders<F: RefNttField>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<F>(b, "orders") else {
        return;
    };
    for log_n in sizes(&cx, max, &[0, 1, 2, 3, 7, 10]) {
        let d = default_domain::<F>(&cx, log_n);
        for dir in DIRECTIONS {
            for orders in ORDERS {
                let cfg = config::<F>(dir, orders, None, 1, BatchLayout::Contiguous);
                check_against_reference::<F>(&mut cx, &*d, log_n, &cfg);
            }
        }
    }
}

/// Coset transforms (forward evaluates on `g·H`, inverse interpolates from it) with the
/// multiplicative generator and a random shift, in every order.
pub fn ntt_coset<F: RefNttField>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<F>(b, "coset") else {
        return;
    };
    let shifts = [F::multiplicative_generator(), random_nonzero::<F>(&mut cx)];
    for log_n in sizes(&cx, max, &[0, 1, 4, 9, 12]) {
        let d = default_domain::<F>(&cx, log_n);
        for dir in DIRECTIONS {
            for g in shifts {
                let cfg = config(dir, ORDERS[0], Some(g), 1, BatchLayout::Contiguous);
                check_against_reference::<F>(&mut cx, &*d, log_n, &cfg);
            }
        }
    }
    for log_n in sizes(&cx, max, &[5]) {
        let d = default_domain::<F>(&cx, log_n);
        for dir in DIRECTIONS {
            for orders in ORDERS {
                let cfg = config(dir, orders, Some(shifts[1]), 1, BatchLayout::Contiguous);
                check_against_reference::<F>(&mut cx, &*d, log_n, &cfg);
            }
        }
    }
}

/// `inverse(forward(x)) = x`, with matching orders (natural → bit-reversed → natural, …) and
/// with a coset.
pub fn ntt_roundtrip<F: RefNttField>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<F>(b, "round trip") else {
        return;
    };
    let (n_, br) = (NttOrder::Natural, NttOrder::BitReversed);
    let g = random_nonzero::<F>(&mut cx);
    for log_n in sizes(&cx, max, &[0, 1, 5, 10, 16]) {
        let d = default_domain::<F>(&cx, log_n);
        for ((fwd_orders, inv_orders), shift) in [
            (((n_, n_), (n_, n_)), None),
            (((n_, br), (br, n_)), None),
            (((br, n_), (n_, br)), None),
            (((br, br), (br, br)), None),
            (((n_, n_), (n_, n_)), Some(g)),
            (((n_, br), (br, n_)), Some(g)),
        ] {
            let x = random_vec::<F>(&mut cx, 1 << log_n);
            let mut data = x.clone();
            let fwd = config(
                NttDirection::Forward,
                fwd_orders,
                shift,
                1,
                BatchLayout::Contiguous,
            );
            let inv = config(
                NttDirection::Inverse,
                inv_orders,
                shift,
                1,
                BatchLayout::Contiguous,
            );
            let case = format!("{} then {}", describe(log_n, &fwd), describe(log_n, &inv));
            run(&cx, &*d, &mut data, &fwd, &case);
            run(&cx, &*d, &mut data, &inv, &case);
            check_vec(&cx, &case, &data, &x, "the original input");
        }
    }
}

/// Several columns in one call, contiguous and interleaved, forward and inverse, also with
/// orders and a coset.
pub fn ntt_batch<F: RefNttField>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<F>(b, "batch") else {
        return;
    };
    for log_n in sizes(&cx, max, &[0, 3, 8]) {
        let d = default_domain::<F>(&cx, log_n);
        for batch in [1usize, 2, 3, 5] {
            for layout in LAYOUTS {
                for dir in DIRECTIONS {
                    let cfg = config::<F>(dir, ORDERS[0], None, batch, layout);
                    check_against_reference::<F>(&mut cx, &*d, log_n, &cfg);
                }
            }
        }
    }
    let g = random_nonzero::<F>(&mut cx);
    for log_n in sizes(&cx, max, &[6]) {
        let d = default_domain::<F>(&cx, log_n);
        for layout in LAYOUTS {
            for dir in DIRECTIONS {
                for orders in ORDERS {
                    for shift in [None, Some(g)] {
                        let cfg = config(dir, orders, shift, 4, layout);
                        check_against_reference::<F>(&mut cx, &*d, log_n, &cfg);
                    }
                }
            }
        }
    }
}

/// Domains built with a caller-given root (`NttDomainSpec::with_root`: `ω⁻¹`, `ω³`, and
/// `ω^(n/2+1)`), compared with the naive DFT over that root.
pub fn ntt_custom_root<F: RefNttField>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<F>(b, "caller-given root") else {
        return;
    };
    let g = random_nonzero::<F>(&mut cx);
    for log_n in sizes(&cx, max, &[1, 2, 3, 5, 8]) {
        let n = 1u64 << log_n;
        let w = F::two_adic_root(log_n).expect("within the two-adicity");
        let mut roots = vec![w.inverse().expect("ω is non-zero"), w.pow(&[3])];
        if n >= 4 {
            roots.push(w.pow(&[n / 2 + 1]));
        }
        for root in roots {
            let d = domain(&cx, &NttDomainSpec::with_root::<F>(log_n, root));
            for dir in DIRECTIONS {
                let cfg = plain::<F>(dir);
                check_against_naive::<F>(&mut cx, &*d, log_n, &cfg, root);
                let cfg = config(dir, ORDERS[2], Some(g), 1, BatchLayout::Contiguous);
                check_against_naive::<F>(&mut cx, &*d, log_n, &cfg, root);
                let cfg = config::<F>(dir, ORDERS[1], None, 3, BatchLayout::Interleaved);
                check_against_naive::<F>(&mut cx, &*d, log_n, &cfg, root);
            }
        }
    }
}

/// One domain used from several threads at once (domains are shared objects, never
/// per-call global state).
pub fn ntt_threads<F: RefNttField>(b: &dyn Backend) {
    let Some((mut cx, max)) = start::<F>(b, "one domain, several threads") else {
        return;
    };
    let log_n = max.min(10);
    let n = 1usize << log_n;
    let d = default_domain::<F>(&cx, log_n);
    let g = random_nonzero::<F>(&mut cx);
    let configs = [
        plain::<F>(NttDirection::Forward),
        config(
            NttDirection::Inverse,
            ORDERS[1],
            Some(g),
            1,
            BatchLayout::Contiguous,
        ),
        config::<F>(
            NttDirection::Forward,
            ORDERS[2],
            None,
            2,
            BatchLayout::Interleaved,
        ),
    ];
    let jobs: Vec<(NttConfig, Vec<F>, Vec<F>)> = (0..4)
        .flat_map(|_| configs)
        .map(|cfg| {
            let input = random_vec::<F>(&mut cx, n * cfg.batch);
            let want = expected(&input, log_n, &cfg, F::reference_ntt);
            (cfg, input, want)
        })
        .collect();
    let cx = &cx;
    let d = &*d;
    std::thread::scope(|s| {
        for chunk in jobs.chunks(3) {
            s.spawn(move || {
                for _ in 0..2 {
                    for (cfg, input, want) in chunk {
                        let mut got = input.clone();
                        let case = format!("concurrent {}", describe(log_n, cfg));
                        run(cx, d, &mut got, cfg, &case);
                        check_vec(cx, &case, &got, want, F::REFERENCE);
                    }
                }
            });
        }
    });
}

/// The published BN254 root: `ω = 5^((r−1)/2^28)` is
/// `19103219067921713944291392827692070036145651957329286315305642004821462161904`; it is
/// `Bn254Fr::two_adic_root(28)` and arkworks' root, and the backend's `2^4` domain uses
/// `ω^(2^24)`.
pub fn ntt_known_answer_bn254_root(b: &dyn Backend) {
    use crate::ark::ArkField;
    use ark_ff::{FftField, Field as _};
    use core::str::FromStr;
    const OMEGA: &str =
        "19103219067921713944291392827692070036145651957329286315305642004821462161904";
    let cx = Ctx::new(b, "ntt bn254-fr known root");
    let lit = ark_bn254::Fr::from_str(OMEGA).unwrap_or_else(|_| cx.fail("cannot parse ω"));
    if ark_bn254::Fr::get_root_of_unity(1 << 28) != Some(lit) {
        cx.fail("arkworks' root of unity of order 2^28 is not the published ω");
    }
    if Bn254Fr::two_adic_root(28).map(|w| w.to_ark()) != Some(lit) {
        cx.fail(format_args!(
            "Bn254Fr::two_adic_root(28) = {:?}, not the published ω",
            Bn254Fr::two_adic_root(28)
        ));
    }
    if Bn254Fr::from_ark(lit).pow(&[1 << 27]) != -Bn254Fr::ONE {
        cx.fail("ω is not a primitive 2^28-th root of unity");
    }
    let Some((cx, max)) = start::<Bn254Fr>(b, "known root") else {
        return;
    };
    let log_n = 4u32.min(max);
    let n = 1usize << log_n;
    let w = lit.pow([1u64 << (28 - log_n)]);
    let d = default_domain::<Bn254Fr>(&cx, log_n);
    let mut data = vec![Bn254Fr::ZERO; n];
    data[n.min(2) - 1] = Bn254Fr::ONE;
    let case = format!("forward NTT of e₁, 2^{log_n}");
    run(
        &cx,
        &*d,
        &mut data,
        &plain::<Bn254Fr>(NttDirection::Forward),
        &case,
    );
    let want: Vec<Bn254Fr> = (0..n as u64)
        .map(|i| {
            Bn254Fr::from_ark(if n == 1 {
                ark_bn254::Fr::from(1u64)
            } else {
                w.pow([i])
            })
        })
        .collect();
    check_vec(&cx, &case, &data, &want, "the powers of the published ω");
}

/// One large transform over `F` (several passes over memory on a device) against Horner
/// evaluation at a few points, and round trips through the other orders and a coset.
fn large<F: RefNttField>(b: &dyn Backend, log_n: u32) {
    let Some((mut cx, max)) = start::<F>(b, "large") else {
        return;
    };
    if sizes(&cx, max, &[log_n]).is_empty() {
        return;
    }
    let n = 1usize << log_n;
    let d = default_domain::<F>(&cx, log_n);
    let x = random_vec::<F>(&mut cx, n);
    let mut y = x.clone();
    let fwd = plain::<F>(NttDirection::Forward);
    run(&cx, &*d, &mut y, &fwd, &describe(log_n, &fwd));
    let w = F::two_adic_root(log_n).unwrap_or_else(|| cx.fail("no root"));
    for i in [0usize, 1, 5, n / 2 + 3, n - 1] {
        let pt = w.pow(&[i as u64]);
        let v = x.iter().rev().fold(F::ZERO, |acc, &c| acc * pt + c);
        if y[i] != v {
            cx.fail(format_args!(
                "2^{log_n} forward: element {i} is {:?}, Horner evaluation gives {v:?}",
                y[i]
            ));
        }
    }
    let g = Some(F::multiplicative_generator());
    for (orders, shift) in [(ORDERS[1], None), (ORDERS[2], g), (ORDERS[3], g)] {
        let fwd = config::<F>(
            NttDirection::Forward,
            orders,
            shift,
            1,
            BatchLayout::Contiguous,
        );
        let inv = config::<F>(
            NttDirection::Inverse,
            (orders.1, orders.0),
            shift,
            1,
            BatchLayout::Contiguous,
        );
        let mut v = x.clone();
        let case = format!("round trip {}", describe(log_n, &fwd));
        run(&cx, &*d, &mut v, &fwd, &case);
        run(&cx, &*d, &mut v, &inv, &case);
        check_vec(&cx, &case, &v, &x, "the input");
    }
}

/// Large transforms: BN254 at `2^20`, Goldilocks at `2^19`, BabyBear at `2^22` (sizes at
/// which a device runs its strided passes).
pub fn ntt_large_sizes(b: &dyn Backend) {
    large::<Bn254Fr>(b, 20);
    large::<crate::field::Goldilocks>(b, 19);
    large::<crate::field::BabyBear>(b, 22);
}

/// Wide interleaved batches equal column-by-column transforms, in every order, both
/// directions, with a coset.
fn wide<F: RefNttField>(b: &dyn Backend, log_n: u32, batch: usize) {
    let Some((mut cx, max)) = start::<F>(b, "wide interleaved") else {
        return;
    };
    if sizes(&cx, max, &[log_n]).is_empty() {
        return;
    }
    let n = 1usize << log_n;
    let d = default_domain::<F>(&cx, log_n);
    let m = random_vec::<F>(&mut cx, n * batch);
    let g = Some(F::from_u64(5));
    for direction in DIRECTIONS {
        for orders in ORDERS {
            let one = config::<F>(direction, orders, g, 1, BatchLayout::Contiguous);
            let all = config::<F>(direction, orders, g, batch, BatchLayout::Interleaved);
            let case = describe(log_n, &all);
            let mut inter = m.clone();
            run(&cx, &*d, &mut inter, &all, &case);
            for col in [0, batch / 2, batch - 1] {
                let mut x: Vec<F> = (0..n).map(|i| m[i * batch + col]).collect();
                run(&cx, &*d, &mut x, &one, &describe(log_n, &one));
                let got: Vec<F> = (0..n).map(|i| inter[i * batch + col]).collect();
                check_vec(
                    &cx,
                    &format!("{case}, column {col}"),
                    &got,
                    &x,
                    "the column transformed alone",
                );
            }
        }
    }
}

/// Wide interleaved batches (on a device: tiles across columns, several passes, bit
/// reversal by rows) over every NTT field of the small and the large kind.
pub fn ntt_wide_interleaved(b: &dyn Backend) {
    wide::<crate::field::Goldilocks>(b, 14, 3);
    wide::<crate::field::Goldilocks>(b, 12, 37);
    wide::<Bn254Fr>(b, 13, 6);
    wide::<crate::field::BabyBear>(b, 15, 70);
}
