//! Tests of the Montgomery products of [`super::asm`]: the assembly and portable paths, each
//! forced explicitly, against an independent big-integer reference and against arkworks, on
//! edge cases and random values; plus an ignored micro-benchmark (`ns` per product).

use super::asm::{self, MontConsts};
use super::limbs;
use super::{Field, Fp, FpParams, PrimeField};
use crate::curves::*;
use num_bigint::BigUint;
use rand::{Rng, SeedableRng};

fn big<const N: usize>(v: &[u64; N]) -> BigUint {
    let mut r = BigUint::default();
    for l in v.iter().rev() {
        r = (r << 64u32) + BigUint::from(*l);
    }
    r
}

fn from_big<const N: usize>(v: &BigUint) -> [u64; N] {
    let d = v.to_u64_digits();
    assert!(d.len() <= N);
    let mut r = [0u64; N];
    r[..d.len()].copy_from_slice(&d);
    r
}

/// `a·b·R⁻¹ mod p` by big integers.
fn reference<const N: usize>(a: &[u64; N], b: &[u64; N], p: &[u64; N]) -> [u64; N] {
    let pb = big(p);
    let r = BigUint::from(1u8) << (64 * N as u32);
    let rinv = (r % &pb).modpow(&(&pb - 2u32), &pb);
    from_big(&(big(a) * big(b) % &pb * rinv % &pb))
}

/// Edge cases and random values below `p`, as raw limbs (the Montgomery storage form).
fn values<P: FpParams<N>, const N: usize>(
    rng: &mut rand::rngs::StdRng,
    random: usize,
) -> Vec<[u64; N]> {
    let p = P::MODULUS;
    let mut one = [0u64; N];
    one[0] = 1;
    let mut two = [0u64; N];
    two[0] = 2;
    let pm1 = limbs::sub(&p, &one).0;
    let pm2 = limbs::sub(&p, &two).0;
    let half = limbs::shr1(&p);
    // R mod p, R² mod p, R − 1 mod p, R⁻¹-ish (p − R mod p), 2^(64N−1) mod p.
    let rm = P::R;
    let r2 = P::R2;
    let rm1 = limbs::sub(&rm, &one).0;
    let prm = limbs::sub(&p, &rm).0;
    let top = limbs::pow2_mod(64 * N as u32 - 1, &p);
    let mut top_limb = [0u64; N];
    top_limb[N - 1] = p[N - 1] - 1;
    let mut all_low = [u64::MAX; N];
    all_low[N - 1] = 0;
    let mut v = vec![
        [0u64; N], one, two, pm1, pm2, half, rm, r2, rm1, prm, top, top_limb, all_low,
    ];
    let bits = limbs::num_bits(&p);
    while v.len() < 13 + random {
        let mut x = [0u64; N];
        for l in x.iter_mut() {
            *l = rng.gen();
        }
        x[N - 1] &= (1u64 << (bits - 64 * (N as u32 - 1))) - 1;
        if !limbs::geq(&x, &p) {
            v.push(x);
        }
    }
    v
}

/// Every product path agrees with the big-integer reference on all pairs of `values`.
fn check_products<P: FpParams<N>, const N: usize>() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed ^ N as u64);
    let vals = values::<P, N>(&mut rng, 40);
    let m = MontConsts::new(P::MODULUS);
    assert_eq!(m, Fp::<P, N>::CONSTS);
    let fast = asm::has_mulx_adx();
    println!("{:?}: assembly available: {fast}", P::ID);
    for a in &vals {
        let sq = reference(a, a, &P::MODULUS);
        assert_eq!(asm::mont_sqr_portable(a, &m), sq, "portable sqr {a:x?}");
        assert_eq!(asm::mont_sqr(a, &m), sq, "dispatched sqr {a:x?}");
        for b in &vals {
            let want = reference(a, b, &P::MODULUS);
            assert_eq!(
                limbs::mont_mul(a, b, &P::MODULUS, P::INV),
                want,
                "portable {a:x?} {b:x?}"
            );
            assert_eq!(asm::mont_mul(a, b, &m), want, "dispatched {a:x?} {b:x?}");
            #[cfg(target_arch = "x86_64")]
            if fast {
                // SAFETY: the CPU has BMI2 and ADX (checked just above).
                let u = unsafe { asm::mont_mul_unreduced_adx(a, b, &m) };
                assert!(!limbs::geq(&u, &limbs::add(&P::MODULUS, &P::MODULUS).0));
                assert_eq!(
                    asm::reduce_once(u, &P::MODULUS),
                    want,
                    "assembly {a:x?} {b:x?}"
                );
            }
        }
    }
}

/// The unreduced assembly product equals the portable CIOS loop word for word, also for
/// lazily reduced left operands `a < 2p` (the NTT's contract, `p < 2^(64N−2)`).
fn check_unreduced_lazy<P: FpParams<N>, const N: usize>() {
    #[cfg(target_arch = "x86_64")]
    if asm::has_mulx_adx() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(77);
        let vals = values::<P, N>(&mut rng, 30);
        let m = MontConsts::new(P::MODULUS);
        let p2 = limbs::add(&P::MODULUS, &P::MODULUS).0;
        for a in &vals {
            // a + p: still below 2p.
            let a2 = limbs::add(a, &P::MODULUS).0;
            for b in &vals {
                for x in [a, &a2] {
                    // SAFETY: BMI2 and ADX are present (checked above).
                    let u = unsafe { asm::mont_mul_unreduced_adx(x, b, &m) };
                    assert!(!limbs::geq(&u, &p2), "unreduced product not below 2p");
                    assert_eq!(
                        asm::reduce_once(u, &P::MODULUS),
                        reference(x, b, &P::MODULUS)
                    );
                }
            }
        }
    }
}

/// Modular addition, subtraction and the final conditional subtraction (the x86-64 assembly
/// where it exists, through `Fp` and `reduce_once`) against big integers, on all pairs of
/// `values` and on every `r < 2p` built from them.
fn check_add_sub_reduce<P: FpParams<N>, const N: usize>() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xadd ^ N as u64);
    let vals = values::<P, N>(&mut rng, 40);
    let pb = big(&P::MODULUS);
    for a in &vals {
        let fa = Fp::<P, N>::from_montgomery_unchecked(*a);
        for b in &vals {
            let fb = Fp::<P, N>::from_montgomery_unchecked(*b);
            let sum: [u64; N] = from_big(&((big(a) + big(b)) % &pb));
            let diff: [u64; N] = from_big(&((big(a) + &pb - big(b)) % &pb));
            assert_eq!((fa + fb).limbs, sum, "add {a:x?} {b:x?}");
            assert_eq!((fa - fb).limbs, diff, "sub {a:x?} {b:x?}");
            // r = a + b < 2p: reduce_once gives r mod p, as the portable form does.
            let r = limbs::add(a, b).0;
            assert_eq!(asm::reduce_once(r, &P::MODULUS), sum, "reduce {r:x?}");
            assert_eq!(asm::reduce_once_portable(r, &P::MODULUS), sum);
        }
    }
}

/// The conversions between canonical integers and the Montgomery storage (run-time products
/// since the range checks were made cheap) and the range checks themselves, against big
/// integers, on `values` and on the integers just at and above `p`.
fn check_conversions<P: FpParams<N>, const N: usize>() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xc0 ^ N as u64);
    let vals = values::<P, N>(&mut rng, 40);
    let (p, pb) = (P::MODULUS, big(&P::MODULUS));
    let r = BigUint::from(1u8) << (64 * N as u32);
    let rinv = (&r % &pb).modpow(&(&pb - 2u32), &pb);
    for v in &vals {
        let canonical = Fp::<P, N>::from_canonical(v).expect("below p");
        assert_eq!(
            canonical.limbs,
            from_big::<N>(&(big(v) * &r % &pb)),
            "{v:x?}"
        );
        assert_eq!(canonical.to_canonical(), *v, "round trip {v:x?}");
        let stored = Fp::<P, N>::from_montgomery(v).expect("below p");
        assert_eq!(
            stored.to_canonical(),
            from_big::<N>(&(big(v) * &rinv % &pb))
        );
        assert_eq!(stored.to_canonical(), stored.to_canonical_limbs());
        assert!(Fp::<P, N>::below_modulus(v) && stored.is_reduced());
        assert_eq!(
            Fp::<P, N>::from_u64(v[0]).to_canonical(),
            from_big::<N>(&(BigUint::from(v[0]) % &pb))
        );
    }
    let mut one = [0u64; N];
    one[0] = 1;
    // p, p + 1, and 2^(64N) − 1 (the top limb decides) and p's top limb with zeros below it
    // plus one (a lower limb decides).
    let mut top_only = [0u64; N];
    top_only[N - 1] = p[N - 1];
    let top_plus: [u64; N] = limbs::add(&top_only, &one).0;
    for bad in [p, limbs::add(&p, &one).0, [u64::MAX; N]] {
        assert!(!Fp::<P, N>::below_modulus(&bad), "{bad:x?}");
        assert!(Fp::<P, N>::from_canonical(&bad).is_none());
        assert!(!Fp::<P, N>::from_montgomery_unchecked(bad).is_reduced());
    }
    // Below p although its top limb equals p's (p's lower limbs are not all zero).
    assert!(Fp::<P, N>::below_modulus(&top_plus));
    // p − 1 and the largest value with p's top limb minus one.
    let mut top_less = [u64::MAX; N];
    top_less[N - 1] = p[N - 1] - 1;
    for good in [limbs::sub(&p, &one).0, top_less] {
        assert!(Fp::<P, N>::below_modulus(&good), "{good:x?}");
    }
}

#[test]
fn conversions_and_range_checks_all_fields() {
    check_conversions::<Bn254FqParams, 4>();
    check_conversions::<Bn254FrParams, 4>();
    check_conversions::<Bls12_381FqParams, 6>();
    check_conversions::<Bls12_381FrParams, 4>();
    check_conversions::<Bls12_377FqParams, 6>();
    check_conversions::<Bls12_377FrParams, 4>();
}

#[test]
fn add_sub_reduce_all_fields() {
    check_add_sub_reduce::<Bn254FqParams, 4>();
    check_add_sub_reduce::<Bn254FrParams, 4>();
    check_add_sub_reduce::<Bls12_381FqParams, 6>();
    check_add_sub_reduce::<Bls12_381FrParams, 4>();
    check_add_sub_reduce::<Bls12_377FqParams, 6>();
}

#[test]
fn products_bn254() {
    check_products::<Bn254FqParams, 4>();
    check_products::<Bn254FrParams, 4>();
    check_unreduced_lazy::<Bn254FqParams, 4>();
    check_unreduced_lazy::<Bn254FrParams, 4>();
}

#[test]
fn products_bls12_381() {
    check_products::<Bls12_381FqParams, 6>();
    check_products::<Bls12_381FrParams, 4>();
    check_unreduced_lazy::<Bls12_381FqParams, 6>();
}

#[test]
fn products_bls12_377() {
    check_products::<Bls12_377FqParams, 6>();
    check_products::<Bls12_377FrParams, 4>();
    check_unreduced_lazy::<Bls12_377FqParams, 6>();
    check_unreduced_lazy::<Bls12_377FrParams, 4>();
}

/// `Fp` arithmetic (dispatched products, branch-free add/sub) against arkworks.
#[cfg(feature = "ark05")]
fn check_against_ark<
    P: FpParams<N>,
    A: ark_ff::PrimeField<BigInt = ark_ff::BigInt<N>>,
    const N: usize,
>() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1234);
    let vals = values::<P, N>(&mut rng, 30);
    let ark = |x: &Fp<P, N>| A::from_bigint(ark_ff::BigInt(x.to_canonical())).expect("below p");
    let back = |x: A| Fp::<P, N>::from_canonical(&x.into_bigint().0).expect("below p");
    let elems: Vec<Fp<P, N>> = vals
        .iter()
        .map(|v| Fp::<P, N>::from_montgomery(v).expect("below p"))
        .collect();
    for x in &elems {
        let ax = ark(x);
        assert_eq!(x.square(), back(ax.square()));
        assert_eq!(x.double(), back(ax.double()));
        assert_eq!(-*x, back(-ax));
        for y in &elems {
            let ay = ark(y);
            assert_eq!(*x * *y, back(ax * ay), "mul {x:?} {y:?}");
            assert_eq!(*x + *y, back(ax + ay), "add {x:?} {y:?}");
            assert_eq!(*x - *y, back(ax - ay), "sub {x:?} {y:?}");
        }
    }
    // Canonical conversions at the edges.
    let one = Fp::<P, N>::ONE;
    assert_eq!(ark(&one), A::one());
    assert_eq!(ark(&-one), -A::one());
}

#[cfg(feature = "ark05")]
#[test]
fn fp_matches_arkworks() {
    check_against_ark::<Bn254FqParams, ark_bn254::Fq, 4>();
    check_against_ark::<Bn254FrParams, ark_bn254::Fr, 4>();
    check_against_ark::<Bls12_381FqParams, ark_bls12_381::Fq, 6>();
    check_against_ark::<Bls12_381FrParams, ark_bls12_381::Fr, 4>();
    check_against_ark::<Bls12_377FqParams, ark_bls12_377::Fq, 6>();
    check_against_ark::<Bls12_377FrParams, ark_bls12_377::Fr, 4>();
}

#[test]
fn detection_is_cached_and_stable() {
    let a = asm::has_mulx_adx();
    for _ in 0..10 {
        assert_eq!(asm::has_mulx_adx(), a);
    }
}

/// Micro-benchmark: nanoseconds per product on dependent chains (latency-bound, as in
/// inversion) and on independent pairs (throughput-bound, as in batched bucket additions).
/// Run with `cargo test -p zkaccel-backend --release --lib -- --ignored --nocapture bench_`.
#[test]
#[ignore]
fn bench_products() {
    bench_field::<Bn254FqParams, 4>("bn254 fq");
    bench_field::<Bls12_381FqParams, 6>("bls12-381 fq");
    #[cfg(feature = "ark05")]
    {
        bench_ark::<ark_bn254::Fq>("ark bn254 fq");
        bench_ark::<ark_bls12_381::Fq>("ark bls12-381 fq");
    }
}

#[cfg(feature = "ark05")]
fn bench_ark<A: ark_ff::Field>(name: &str) {
    use std::hint::black_box;
    const ITERS: usize = 2_000_000;
    let y = A::from(0x1234_5678_9abc_def1u64)
        .inverse()
        .expect("non-zero");
    let x0 = A::from(77u64).inverse().expect("non-zero");
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let mut x = x0;
        for _ in 0..ITERS {
            x *= black_box(y);
        }
        black_box(x);
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / ITERS as f64);
    }
    println!("{name:>14} {:<40} {best:7.2} ns", "arkworks mul (latency)");
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let mut x = x0;
        for _ in 0..ITERS {
            x.square_in_place();
        }
        black_box(x);
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / ITERS as f64);
    }
    println!("{name:>14} {:<40} {best:7.2} ns", "arkworks sqr (latency)");
}

/// This thread's CPU time in nanoseconds (Linux `schedstat`), so that time spent descheduled
/// on a shared machine does not count; wall-clock time elsewhere.
struct Instant(Option<u64>, std::time::Instant);

impl Instant {
    fn cpu_ns() -> Option<u64> {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        s.split_whitespace().next()?.parse().ok()
    }
    fn now() -> Self {
        Self(Self::cpu_ns(), std::time::Instant::now())
    }
    fn elapsed(&self) -> std::time::Duration {
        match (self.0, Self::cpu_ns()) {
            (Some(a), Some(b)) => std::time::Duration::from_nanos(b - a),
            _ => self.1.elapsed(),
        }
    }
}

fn bench_field<P: FpParams<N>, const N: usize>(name: &str) {
    use std::hint::black_box;
    const ITERS: usize = 2_000_000;
    let m = Fp::<P, N>::CONSTS;
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let vals = values::<P, N>(&mut rng, 64);
    let x0 = vals[20];
    let y = vals[21];
    let time = |label: &str, f: &mut dyn FnMut() -> [u64; N]| {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            black_box(f());
            best = best.min(t.elapsed().as_secs_f64() * 1e9 / ITERS as f64);
        }
        println!("{name:>14} {label:<40} {best:7.2} ns");
    };
    time("portable mul (latency)", &mut || {
        let mut x = x0;
        for _ in 0..ITERS {
            x = limbs::mont_mul(&x, black_box(&y), &m.p, m.inv);
        }
        x
    });
    time("portable sqr-as-mul (latency)", &mut || {
        let mut x = x0;
        for _ in 0..ITERS {
            x = limbs::mont_mul(&x, &x, &m.p, m.inv);
        }
        x
    });
    time("portable sqr (latency)", &mut || {
        let mut x = x0;
        for _ in 0..ITERS {
            x = asm::mont_sqr_portable(&x, &m);
        }
        x
    });
    #[cfg(target_arch = "x86_64")]
    if asm::has_mulx_adx() {
        time("assembly mul, no dispatch (latency)", &mut || {
            let mut x = x0;
            for _ in 0..ITERS {
                // SAFETY: BMI2 and ADX are present.
                x = asm::reduce_once(
                    unsafe { asm::mont_mul_unreduced_adx(&x, black_box(&y), &m) },
                    &m.p,
                );
            }
            x
        });
    }
    time("dispatched mul (latency)", &mut || {
        let mut x = x0;
        for _ in 0..ITERS {
            x = asm::mont_mul(&x, black_box(&y), &m);
        }
        x
    });
    time("dispatched sqr (latency)", &mut || {
        let mut x = x0;
        for _ in 0..ITERS {
            x = asm::mont_sqr(&x, &m);
        }
        x
    });
    // Throughput: four independent chains.
    time("portable mul (4 chains, per product)", &mut || {
        let mut x = [vals[30], vals[31], vals[32], vals[33]];
        for _ in 0..ITERS / 4 {
            for v in x.iter_mut() {
                *v = limbs::mont_mul(v, black_box(&y), &m.p, m.inv);
            }
        }
        x[0]
    });
    time("dispatched mul (4 chains, per product)", &mut || {
        let mut x = [vals[30], vals[31], vals[32], vals[33]];
        for _ in 0..ITERS / 4 {
            for v in x.iter_mut() {
                *v = asm::mont_mul(v, black_box(&y), &m);
            }
        }
        x[0]
    });
    let a = Fp::<P, N>::from_montgomery(&x0).expect("below p");
    let b = Fp::<P, N>::from_montgomery(&y).expect("below p");
    time("Fp add+sub (latency)", &mut || {
        let mut x = a;
        for _ in 0..ITERS {
            x = (x + black_box(b)) - black_box(a);
        }
        x.limbs
    });
}
