//! Hashing through the runtime: known answers, Merkle trees and paths, typed errors.

use zkaccel::curves::Bn254Fr;
use zkaccel::{BabyBear, Error, Goldilocks, HashError, HashId, PrimeField, Runtime};

fn fr(s: &str) -> Bn254Fr {
    Bn254Fr::from_str_const(s)
}

#[test]
fn circomlib_known_answers() {
    let rt = Runtime::new().unwrap();
    let id = HashId::circom_inputs(2).unwrap();
    let out = rt
        .hash(id, &[Bn254Fr::from_u64(1), Bn254Fr::from_u64(2)])
        .unwrap();
    assert_eq!(
        out,
        vec![fr(
            "7853200120776062878684798364095072458815029376092732009249414926327459813530"
        )]
    );
    let out = rt
        .hash(HashId::circom_inputs(1).unwrap(), &[Bn254Fr::from_u64(1)])
        .unwrap();
    assert_eq!(
        out,
        vec![fr(
            "18586133768512220936620570745912940619677854269274689475585506675881198879027"
        )]
    );
    let four: Vec<_> = (1..=4).map(Bn254Fr::from_u64).collect();
    let out = rt.hash(HashId::circom_inputs(4).unwrap(), &four).unwrap();
    assert_eq!(
        out,
        vec![fr(
            "0x299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465"
        )]
    );
}

#[test]
fn horizen_poseidon2_bn254_known_answer() {
    let rt = Runtime::new().unwrap();
    let mut state: Vec<_> = (0..3).map(Bn254Fr::from_u64).collect();
    rt.permute(HashId::Poseidon2HorizenBn254T3, &mut state)
        .unwrap();
    assert_eq!(
        state,
        vec![
            fr("0x0bb61d24daca55eebcb1929a82650f328134334da98ea4f847f760054f4a3033"),
            fr("0x303b6f7c86d043bfcbcc80214f26a30277a15d3f74ca654992defe7ff8d03570"),
            fr("0x1ed25194542b12eef8617361c3ba7c52e660b145994427cc86296242cf766ec8"),
        ]
    );
}

fn check_tree<F: zkaccel::HashField>(
    rt: &Runtime,
    id: HashId,
    arity: usize,
    make: impl Fn(u64) -> F,
) {
    let d = id.info().digest;
    let n = arity.pow(3);
    let leaves: Vec<F> = (0..(n * d) as u64).map(|i| make(i * 7 + 1)).collect();
    let tree = rt.merkle_tree(id, arity, &leaves).unwrap();
    assert_eq!(tree.layers().len(), 4);
    assert_eq!(tree.root().len(), d);
    for index in [0, n / 2, n - 1] {
        let path = tree.path(index).unwrap();
        let leaf = &leaves[index * d..(index + 1) * d];
        assert!(tree.verify(leaf, &path).unwrap());
        let mut bad = path.clone();
        bad.siblings[0] += make(1);
        assert!(!tree.verify(leaf, &bad).unwrap());
    }
    assert!(tree.path(n).is_err());
}

#[test]
fn merkle_tree_paths_verify() {
    let rt = Runtime::new().unwrap();
    check_tree(&rt, HashId::Poseidon2Plonky3BabyBearT16, 2, |v| {
        BabyBear::new(v as u32)
    });
    check_tree(
        &rt,
        HashId::Poseidon2HorizenGoldilocksT16,
        4,
        Goldilocks::new,
    );
    check_tree(&rt, HashId::circom(3).unwrap(), 2, Bn254Fr::from_u64);
    // A one-leaf tree is its leaf.
    let leaf: Vec<Goldilocks> = (0..4).map(Goldilocks::new).collect();
    let t = rt
        .merkle_tree(HashId::Poseidon2Plonky3GoldilocksT8, 2, &leaf)
        .unwrap();
    assert_eq!(t.root(), &leaf[..]);
}

#[test]
fn hashing_errors_are_typed() {
    let rt = Runtime::new().unwrap();
    // Field mismatch.
    let mut s = vec![Goldilocks::new(1); 16];
    assert!(matches!(
        rt.permute(HashId::Poseidon2Plonky3BabyBearT16, &mut s)
            .unwrap_err(),
        Error::Hash(HashError::FieldMismatch { .. })
    ));
    // Not a whole number of states.
    let mut s = vec![BabyBear::new(1); 17];
    assert!(matches!(
        rt.permute(HashId::Poseidon2Plonky3BabyBearT16, &mut s)
            .unwrap_err(),
        Error::Hash(HashError::Length { .. })
    ));
    // circomlib t=3 takes exactly two inputs.
    let three = vec![Bn254Fr::from_u64(1); 3];
    assert!(matches!(
        rt.hash(HashId::circom(3).unwrap(), &three).unwrap_err(),
        Error::Hash(HashError::Length { .. })
    ));
    // Arity the width does not allow, and a leaf count that is not a power of the arity.
    let leaves = vec![BabyBear::new(3); 8 * 8];
    assert!(matches!(
        rt.merkle_tree(HashId::Poseidon2Plonky3BabyBearT16, 8, &leaves)
            .unwrap_err(),
        Error::Hash(HashError::UnsupportedArity { arity: 8, .. })
    ));
    let leaves = vec![BabyBear::new(3); 8 * 6];
    assert!(matches!(
        rt.merkle_tree(HashId::Poseidon2Plonky3BabyBearT16, 2, &leaves)
            .unwrap_err(),
        Error::Hash(HashError::TreeShape {
            leaves: 6,
            arity: 2
        })
    ));
    // An empty tree.
    assert!(matches!(
        rt.merkle_tree::<BabyBear>(HashId::Poseidon2Plonky3BabyBearT16, 2, &[])
            .unwrap_err(),
        Error::Hash(HashError::TreeShape { leaves: 0, .. })
    ));
    // Unknown instance names.
    assert!(matches!(
        "poseidon3-nobody-t9".parse::<HashId>().unwrap_err(),
        HashError::UnknownInstance(_)
    ));
    assert_eq!(
        rt.stats().hash_calls,
        0,
        "validation happens before dispatch"
    );
}

#[test]
fn batches_match_single_calls() {
    let rt = Runtime::new().unwrap();
    let id = HashId::Poseidon2HorizenGoldilocksT12;
    let msgs: Vec<Goldilocks> = (0..5 * 11).map(|i| Goldilocks::new(i * 31 + 5)).collect();
    let mut out = vec![Goldilocks::new(0); 5 * 4];
    let report = rt.hash_batch(id, &msgs, 11, &mut out).unwrap();
    assert_eq!(report.kind, zkaccel::DeviceKind::Cpu);
    for m in 0..5 {
        assert_eq!(
            rt.hash(id, &msgs[m * 11..(m + 1) * 11]).unwrap(),
            &out[m * 4..(m + 1) * 4]
        );
    }
}
