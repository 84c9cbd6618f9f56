//! Agreement with independent implementations on random inputs, and timing against them.
//!
//! - light-poseidon 0.4 (circomlib Poseidon over BN254, widths 2..=13),
//! - HorizenLabs' `zkhash` 0.2 (Poseidon2 reference instances),
//! - Plonky3 0.8 (`default_babybear_poseidon2_*`, `default_goldilocks_poseidon2_*`,
//!   `PaddingFreeSponge`, `TruncatedPermutation`).

use super::*;
use ark_ff::{BigInteger, PrimeField as ArkPrimeField};
use ark_ff_04::PrimeField as Ark04PrimeField;
use p3_field::{PrimeField32, PrimeField64};
use p3_symmetric::{CryptographicHasher, Permutation, PseudoCompressionFunction};
use zkaccel_backend::field::{Field, PrimeField};

fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

fn random<F: PrimeField>(n: usize, seed: u64) -> Vec<F> {
    let mut r = rng(seed);
    (0..n).map(|_| F::random_with(&mut r)).collect()
}

fn to_ark(x: Bn254Fr) -> ark_bn254::Fr {
    ark_bn254::Fr::from_bigint(ark_ff::BigInt(x.to_canonical())).unwrap()
}

fn from_ark(x: ark_bn254::Fr) -> Bn254Fr {
    let b = x.into_bigint();
    assert_eq!(b.to_bytes_le().len(), 32);
    Bn254Fr::from_canonical(&b.0).unwrap()
}

#[test]
fn circom_matches_light_poseidon() {
    use light_poseidon::{Poseidon, PoseidonHasher};
    for n in 1..=12usize {
        let id = HashId::circom_inputs(n).unwrap();
        let count = 20;
        let msgs = random::<Bn254Fr>(count * n, n as u64);
        let mut out = vec![Bn254Fr::ZERO; count];
        hash_batch(id, &msgs, n, &mut out).unwrap();
        let mut lp = Poseidon::<ark_bn254::Fr>::new_circom(n).unwrap();
        for (m, o) in msgs.chunks(n).zip(&out) {
            let a: Vec<ark_bn254::Fr> = m.iter().map(|&x| to_ark(x)).collect();
            assert_eq!(from_ark(lp.hash(&a).unwrap()), *o, "n = {n}");
        }
    }
}

fn zk_bn(x: Bn254Fr) -> zkhash::fields::bn256::FpBN256 {
    zkhash::fields::bn256::FpBN256::from_bigint(ark_ff_04::BigInt(x.to_canonical())).unwrap()
}

fn zk_bn_back(x: zkhash::fields::bn256::FpBN256) -> Bn254Fr {
    Bn254Fr::from_canonical(&x.into_bigint().0).unwrap()
}

fn zk_u64<F: Ark04PrimeField<BigInt = ark_ff_04::BigInt<1>>>(v: u64) -> F {
    F::from_bigint(ark_ff_04::BigInt([v])).unwrap()
}

fn zk_back<F: Ark04PrimeField<BigInt = ark_ff_04::BigInt<1>>>(x: F) -> u64 {
    x.into_bigint().0[0]
}

#[test]
fn horizen_matches_zkhash() {
    use zkhash::poseidon2::poseidon2::Poseidon2 as Zk;
    use zkhash::poseidon2::{
        poseidon2_instance_babybear as bb, poseidon2_instance_bn256 as bn,
        poseidon2_instance_goldilocks as gl,
    };
    let n = 10;
    // BN254 t = 3.
    let id = HashId::Poseidon2HorizenBn254T3;
    let mut states = random::<Bn254Fr>(3 * n, 5);
    let inputs = states.clone();
    permute_batch(id, &mut states).unwrap();
    let zk = Zk::new(&bn::POSEIDON2_BN256_PARAMS);
    for (i, o) in inputs.chunks(3).zip(states.chunks(3)) {
        let a: Vec<_> = i.iter().map(|&x| zk_bn(x)).collect();
        let b: Vec<Bn254Fr> = zk.permutation(&a).into_iter().map(zk_bn_back).collect();
        assert_eq!(b, o);
    }
    // Goldilocks.
    for (id, params) in [
        (
            HashId::Poseidon2HorizenGoldilocksT8,
            &*gl::POSEIDON2_GOLDILOCKS_8_PARAMS,
        ),
        (
            HashId::Poseidon2HorizenGoldilocksT12,
            &*gl::POSEIDON2_GOLDILOCKS_12_PARAMS,
        ),
        (
            HashId::Poseidon2HorizenGoldilocksT16,
            &*gl::POSEIDON2_GOLDILOCKS_16_PARAMS,
        ),
        (
            HashId::Poseidon2HorizenGoldilocksT20,
            &*gl::POSEIDON2_GOLDILOCKS_20_PARAMS,
        ),
    ] {
        let t = id.info().width;
        let mut states = random::<Goldilocks>(t * n, t as u64);
        let inputs = states.clone();
        permute_batch(id, &mut states).unwrap();
        let zk = Zk::new(params);
        for (i, o) in inputs.chunks(t).zip(states.chunks(t)) {
            let a: Vec<zkhash::fields::goldilocks::FpGoldiLocks> =
                i.iter().map(|x| zk_u64(x.value())).collect();
            let b: Vec<u64> = zk.permutation(&a).into_iter().map(zk_back).collect();
            let o: Vec<u64> = o.iter().map(|x| x.value()).collect();
            assert_eq!(b, o, "{id}");
        }
    }
    // BabyBear.
    for (id, params) in [
        (
            HashId::Poseidon2HorizenBabyBearT16,
            &*bb::POSEIDON2_BABYBEAR_16_PARAMS,
        ),
        (
            HashId::Poseidon2HorizenBabyBearT24,
            &*bb::POSEIDON2_BABYBEAR_24_PARAMS,
        ),
    ] {
        let t = id.info().width;
        let mut states = random::<BabyBear>(t * n, t as u64);
        let inputs = states.clone();
        permute_batch(id, &mut states).unwrap();
        let zk = Zk::new(params);
        for (i, o) in inputs.chunks(t).zip(states.chunks(t)) {
            let a: Vec<zkhash::fields::babybear::FpBabyBear> =
                i.iter().map(|x| zk_u64(x.value() as u64)).collect();
            let b: Vec<u64> = zk.permutation(&a).into_iter().map(zk_back).collect();
            let o: Vec<u64> = o.iter().map(|x| x.value() as u64).collect();
            assert_eq!(b, o, "{id}");
        }
    }
}

fn p3_bb<const N: usize>(v: &[BabyBear]) -> [p3_baby_bear::BabyBear; N] {
    core::array::from_fn(|i| p3_baby_bear::BabyBear::new(v[i].value()))
}

fn p3_bb_back(v: &[p3_baby_bear::BabyBear]) -> Vec<BabyBear> {
    v.iter()
        .map(|x| BabyBear::new(x.as_canonical_u32()))
        .collect()
}

fn p3_gl<const N: usize>(v: &[Goldilocks]) -> [p3_goldilocks::Goldilocks; N] {
    core::array::from_fn(|i| p3_goldilocks::Goldilocks::new(v[i].value()))
}

fn p3_gl_back(v: &[p3_goldilocks::Goldilocks]) -> Vec<Goldilocks> {
    v.iter()
        .map(|x| Goldilocks::new(x.as_canonical_u64()))
        .collect()
}

macro_rules! p3_perm_check {
    ($id:expr, $perm:expr, $t:literal, $f:ty, $to:ident, $back:ident) => {{
        let n = 19;
        let mut states = random::<$f>($t * n, $t as u64 + 1000);
        let inputs = states.clone();
        permute_batch($id, &mut states).unwrap();
        let perm = $perm;
        for (i, o) in inputs.chunks($t).zip(states.chunks($t)) {
            let mut s = $to::<$t>(i);
            perm.permute_mut(&mut s);
            assert_eq!($back(&s), o, "{}", $id);
        }
        perm
    }};
}

#[test]
fn plonky3_permutations_match() {
    use p3_baby_bear::{
        default_babybear_poseidon2_16, default_babybear_poseidon2_24, default_babybear_poseidon2_32,
    };
    use p3_goldilocks::{
        default_goldilocks_poseidon2_12, default_goldilocks_poseidon2_16,
        default_goldilocks_poseidon2_8,
    };
    p3_perm_check!(
        HashId::Poseidon2Plonky3BabyBearT16,
        default_babybear_poseidon2_16(),
        16,
        BabyBear,
        p3_bb,
        p3_bb_back
    );
    p3_perm_check!(
        HashId::Poseidon2Plonky3BabyBearT24,
        default_babybear_poseidon2_24(),
        24,
        BabyBear,
        p3_bb,
        p3_bb_back
    );
    p3_perm_check!(
        HashId::Poseidon2Plonky3BabyBearT32,
        default_babybear_poseidon2_32(),
        32,
        BabyBear,
        p3_bb,
        p3_bb_back
    );
    p3_perm_check!(
        HashId::Poseidon2Plonky3GoldilocksT8,
        default_goldilocks_poseidon2_8(),
        8,
        Goldilocks,
        p3_gl,
        p3_gl_back
    );
    p3_perm_check!(
        HashId::Poseidon2Plonky3GoldilocksT12,
        default_goldilocks_poseidon2_12(),
        12,
        Goldilocks,
        p3_gl,
        p3_gl_back
    );
    p3_perm_check!(
        HashId::Poseidon2Plonky3GoldilocksT16,
        default_goldilocks_poseidon2_16(),
        16,
        Goldilocks,
        p3_gl,
        p3_gl_back
    );
}

/// Plonky3's `PaddingFreeSponge` and `TruncatedPermutation` with the rates and digests our
/// instances document.
#[test]
fn plonky3_sponge_and_compression_match() {
    use p3_symmetric::{PaddingFreeSponge, TruncatedPermutation};
    // BabyBear width 16: rate 8, out 8; compression 2 × 8 → 8.
    let id = HashId::Poseidon2Plonky3BabyBearT16;
    let sponge =
        PaddingFreeSponge::<_, 16, 8, 8>::new(p3_baby_bear::default_babybear_poseidon2_16());
    for len in [0usize, 1, 7, 8, 9, 16, 33] {
        let msg = random::<BabyBear>(len, len as u64 + 1);
        let theirs = sponge.hash_iter(msg.iter().map(|x| p3_baby_bear::BabyBear::new(x.value())));
        assert_eq!(hash(id, &msg).unwrap(), p3_bb_back(&theirs), "len {len}");
    }
    let tp =
        TruncatedPermutation::<_, 2, 8, 16>::new(p3_baby_bear::default_babybear_poseidon2_16());
    let ch = random::<BabyBear>(16, 3);
    let theirs = tp.compress([p3_bb::<8>(&ch[..8]), p3_bb::<8>(&ch[8..])]);
    let mut ours = [BabyBear::ZERO; 8];
    compress_batch(id, 2, &ch, &mut ours).unwrap();
    assert_eq!(p3_bb_back(&theirs), ours);
    // BabyBear width 24: rate 16, out 8.
    let id = HashId::Poseidon2Plonky3BabyBearT24;
    let sponge =
        PaddingFreeSponge::<_, 24, 16, 8>::new(p3_baby_bear::default_babybear_poseidon2_24());
    let msg = random::<BabyBear>(40, 9);
    let theirs = sponge.hash_iter(msg.iter().map(|x| p3_baby_bear::BabyBear::new(x.value())));
    assert_eq!(hash(id, &msg).unwrap(), p3_bb_back(&theirs));
    // Goldilocks width 8: rate 4, out 4; width 12: rate 8, out 4.
    let id = HashId::Poseidon2Plonky3GoldilocksT8;
    let sponge =
        PaddingFreeSponge::<_, 8, 4, 4>::new(p3_goldilocks::default_goldilocks_poseidon2_8());
    let msg = random::<Goldilocks>(13, 4);
    let theirs = sponge.hash_iter(
        msg.iter()
            .map(|x| p3_goldilocks::Goldilocks::new(x.value())),
    );
    assert_eq!(hash(id, &msg).unwrap(), p3_gl_back(&theirs));
    let tp =
        TruncatedPermutation::<_, 2, 4, 8>::new(p3_goldilocks::default_goldilocks_poseidon2_8());
    let ch = random::<Goldilocks>(8, 5);
    let theirs = tp.compress([p3_gl::<4>(&ch[..4]), p3_gl::<4>(&ch[4..])]);
    let mut ours = [Goldilocks::ZERO; 4];
    compress_batch(id, 2, &ch, &mut ours).unwrap();
    assert_eq!(p3_gl_back(&theirs), ours);
    let id = HashId::Poseidon2Plonky3GoldilocksT12;
    let sponge =
        PaddingFreeSponge::<_, 12, 8, 4>::new(p3_goldilocks::default_goldilocks_poseidon2_12());
    let msg = random::<Goldilocks>(21, 6);
    let theirs = sponge.hash_iter(
        msg.iter()
            .map(|x| p3_goldilocks::Goldilocks::new(x.value())),
    );
    assert_eq!(hash(id, &msg).unwrap(), p3_gl_back(&theirs));
}

macro_rules! p3_time {
    ($perm:expr, $t:literal, $states:expr) => {{
        use p3_field::PackedValue;
        type Pk = <p3_baby_bear::BabyBear as p3_field::Field>::Packing;
        let perm = $perm;
        let mut theirs: Vec<[p3_baby_bear::BabyBear; $t]> =
            $states.chunks($t).map(|c| p3_bb::<$t>(c)).collect();
        let scalar = time(5, || theirs.iter_mut().for_each(|s| perm.permute_mut(s)));
        let w = Pk::WIDTH;
        let mut packed: Vec<[Pk; $t]> = theirs
            .chunks(w)
            .map(|c| core::array::from_fn(|i| Pk::from_fn(|l| c[l][i])))
            .collect();
        let packed_t = time(5, || packed.iter_mut().for_each(|s| perm.permute_mut(s)));
        (scalar, packed_t, w)
    }};
}

fn one_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(f)
}

fn time<R>(reps: usize, mut f: impl FnMut() -> R) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = std::time::Instant::now();
        std::hint::black_box(f());
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

/// One thread, same process: circomlib Poseidon t = 3 against light-poseidon, and Poseidon2
/// BabyBear width 16 against Plonky3's default instance (scalar and packed).
/// `cargo test -p zkaccel-cpu --release --lib hash::refs::timing -- --ignored --nocapture`
///
/// The circom timings alternate ours and light-poseidon's over several rounds (best of each
/// kept), so that load from other processes hits both alike.
#[test]
#[ignore]
fn timing() {
    use light_poseidon::{Poseidon, PoseidonHasher};
    let n = 4_000;
    let msgs = random::<Bn254Fr>(2 * n, 1);
    let ark: Vec<ark_bn254::Fr> = msgs.iter().map(|&x| to_ark(x)).collect();
    let mut out = vec![Bn254Fr::ZERO; n];
    let mut lp = Poseidon::<ark_bn254::Fr>::new_circom(2).unwrap();
    let (mut ours, mut single, mut theirs) = (f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..10 {
        ours = ours.min(one_thread(|| {
            time(2, || {
                hash_batch(HashId::PoseidonCircomT3, &msgs, 2, &mut out).unwrap()
            })
        }));
        single = single.min(time(2, || {
            msgs.chunks(2)
                .map(|m| circom_hash(m).unwrap())
                .fold(Bn254Fr::ZERO, |a, b| a + b)
        }));
        theirs = theirs.min(time(2, || {
            ark.chunks(2)
                .map(|m| lp.hash(m).unwrap())
                .fold(ark_bn254::Fr::from(0u64), |a, b| a + b)
        }));
    }
    println!(
        "circom t3, {n} hashes, 1 thread: zkaccel batch {:.3} us/hash, zkaccel single calls {:.3} us/hash, light-poseidon {:.3} us/hash; ratio light/batch {:.2}x, light/single {:.2}x",
        ours / n as f64 * 1e6,
        single / n as f64 * 1e6,
        theirs / n as f64 * 1e6,
        theirs / ours,
        theirs / single
    );

    let n = 1 << 16;
    for (id, name) in [
        (HashId::Poseidon2Plonky3BabyBearT16, "babybear-16"),
        (HashId::Poseidon2Plonky3BabyBearT24, "babybear-24"),
    ] {
        let t = id.info().width;
        let mut states = random::<BabyBear>(t * n, 2);
        let ours = one_thread(|| time(5, || permute_batch(id, &mut states).unwrap()));
        let (scalar, packed, lanes) = if t == 16 {
            p3_time!(p3_baby_bear::default_babybear_poseidon2_16(), 16, states)
        } else {
            p3_time!(p3_baby_bear::default_babybear_poseidon2_24(), 24, states)
        };
        println!(
            "poseidon2 plonky3 {name}, {n} permutations, 1 thread: zkaccel {:.1} ns/perm, plonky3 scalar {:.1} ns/perm, plonky3 packed ({lanes} lanes) {:.1} ns/perm; ours/packed {:.2}x",
            ours / n as f64 * 1e9,
            scalar / n as f64 * 1e9,
            packed / n as f64 * 1e9,
            ours / packed
        );
    }
}
