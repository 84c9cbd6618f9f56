//! The fast code against the reference code of `zkaccel_backend::hash`, and against
//! independent implementations (light-poseidon, zkhash, Plonky3).

use super::*;
use zkaccel_backend::field::{Field, PrimeField};
use zkaccel_backend::hash::modes;

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

fn check_instance<F: CpuHashField>(id: HashId) {
    let info = id.info();
    let t = info.width;
    // Permutations: a count that is not a multiple of the SIMD lanes or the block.
    let n = 2 * BLOCK + 3;
    let mut states = random::<F>(n * t, id.as_u32() as u64);
    let mut want = states.clone();
    let inst = F::instance(id).unwrap();
    for s in want.chunks_mut(t) {
        inst.permute(s);
    }
    permute_batch(id, &mut states).unwrap();
    assert_eq!(states, want, "{id} permute_batch");

    // Hashes.
    let lens: Vec<usize> = if info.family == HashFamily::PoseidonCircom {
        vec![t - 1]
    } else {
        vec![0, 1, info.rate, info.rate + 1, 3 * info.rate - 1]
    };
    for len in lens {
        let msgs = random::<F>(n * len, 7 + len as u64);
        let mut out = vec![F::ZERO; n * info.digest];
        hash_batch(id, &msgs, len, &mut out).unwrap();
        for i in 0..n {
            let mut o = vec![F::ZERO; info.digest];
            modes::hash(id, &msgs[i * len..(i + 1) * len], &mut o).unwrap();
            assert_eq!(
                &out[i * info.digest..(i + 1) * info.digest],
                &o[..],
                "{id} hash len {len}"
            );
        }
    }

    // Merkle trees for every supported arity.
    for &arity in info.merkle_arities() {
        let leaves_n = arity.pow(if arity == 2 { 5 } else { 2 });
        let leaves = random::<F>(leaves_n * info.digest, 99);
        let tree = MerkleTree::new(id, arity, &leaves).unwrap();
        let naive = modes::merkle_root_naive(id, arity, &leaves).unwrap();
        assert_eq!(tree.root(), &naive[..], "{id} arity {arity}");
        assert_eq!(merkle_root(id, arity, &leaves).unwrap(), naive);
        for idx in [0, leaves_n / 2 + 1, leaves_n - 1] {
            let path = tree.path(idx).unwrap();
            let leaf = &leaves[idx * info.digest..(idx + 1) * info.digest];
            assert_eq!(verify_path(id, arity, leaf, &path, tree.root()), Ok(true));
            let mut bad = path.clone();
            let k = bad.siblings.len() - 1;
            bad.siblings[k] += F::ONE;
            assert_eq!(verify_path(id, arity, leaf, &bad, tree.root()), Ok(false));
            let mut bad_leaf = leaf.to_vec();
            bad_leaf[0] += F::ONE;
            assert_eq!(
                verify_path(id, arity, &bad_leaf, &path, tree.root()),
                Ok(false)
            );
        }
    }
}

#[test]
fn fast_equals_reference_every_instance() {
    for &id in HashId::ALL {
        match id.info().field {
            zkaccel_backend::FieldId::Bn254Fr => check_instance::<Bn254Fr>(id),
            zkaccel_backend::FieldId::Goldilocks => check_instance::<Goldilocks>(id),
            zkaccel_backend::FieldId::BabyBear => check_instance::<BabyBear>(id),
            f => panic!("unexpected field {f}"),
        }
    }
}

#[test]
fn circom_known_answers_fast() {
    let f = Bn254Fr::from_u64;
    assert_eq!(
        circom_hash(&[f(1), f(2)]).unwrap(),
        Bn254Fr::from_str_const(
            "7853200120776062878684798364095072458815029376092732009249414926327459813530"
        )
    );
    assert_eq!(
        circom_hash(&[f(1), f(2), f(3), f(4)]).unwrap(),
        Bn254Fr::from_str_const(
            "0x299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465"
        )
    );
    assert!(matches!(
        circom_hash(&[]),
        Err(HashError::InputLength { .. })
    ));
    assert!(matches!(
        circom_hash(&[f(0); 17]),
        Err(HashError::InputLength { .. })
    ));
}

#[test]
fn errors() {
    let id = HashId::Poseidon2Plonky3BabyBearT16;
    assert!(matches!(
        permute_batch(id, &mut [BabyBear::ZERO; 17]),
        Err(HashError::Length { .. })
    ));
    assert!(matches!(
        permute_batch(id, &mut [Goldilocks::ZERO; 16]),
        Err(HashError::FieldMismatch { .. })
    ));
    assert!(matches!(
        hash_batch(
            HashId::PoseidonCircomT3,
            &[Bn254Fr::ZERO; 6],
            3,
            &mut [Bn254Fr::ZERO; 2]
        ),
        Err(HashError::Length { .. })
    ));
    assert!(matches!(
        hash_batch(id, &[BabyBear::ZERO; 10], 5, &mut [BabyBear::ZERO; 8]),
        Err(HashError::Length { .. })
    ));
    assert!(matches!(
        MerkleTree::new(id, 2, &[BabyBear::ZERO; 8 * 3]),
        Err(HashError::TreeShape {
            leaves: 3,
            arity: 2
        })
    ));
    assert!(matches!(
        MerkleTree::<BabyBear>::new(id, 2, &[]),
        Err(HashError::TreeShape { leaves: 0, .. })
    ));
    assert!(matches!(
        merkle_root(id, 4, &[BabyBear::ZERO; 8 * 16]),
        Err(HashError::UnsupportedArity { .. })
    ));
    assert!(matches!(
        MerkleTree::new(id, 2, &[BabyBear::ZERO; 8 * 4])
            .unwrap()
            .path(4),
        Err(HashError::Length { .. })
    ));
    // A single leaf is a tree of height 0.
    let one = [BabyBear::ONE; 8];
    assert_eq!(merkle_root(id, 2, &one).unwrap(), one.to_vec());
}
