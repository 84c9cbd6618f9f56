//! Known answers, plain-vs-optimised agreement, modes and errors.

use super::modes::{self, MerklePath};
use super::*;
use crate::curves::Bn254Fr;
use crate::field::{BabyBear, Field, Goldilocks, PrimeField};

fn fr(s: &str) -> Bn254Fr {
    Bn254Fr::from_str_const(s)
}

fn perm<F: HashField>(id: HashId, input: &[F]) -> Vec<F> {
    let mut s = input.to_vec();
    F::instance(id).unwrap().permute(&mut s);
    s
}

/// circomlib known answers (circomlib's `poseidon` tests, also light-poseidon's).
#[test]
fn circom_known_answers() {
    let f = Bn254Fr::from_u64;
    let h = poseidon::circom_hash(&[f(1), f(2)]).unwrap();
    assert_eq!(
        h,
        fr("7853200120776062878684798364095072458815029376092732009249414926327459813530")
    );
    let h = poseidon::circom_hash(&[f(1)]).unwrap();
    assert_eq!(
        h,
        fr("18586133768512220936620570745912940619677854269274689475585506675881198879027")
    );
    let h = poseidon::circom_hash(&[f(1), f(2), f(3), f(4)]).unwrap();
    assert_eq!(
        h,
        fr("0x299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465")
    );
    // The same through the generic mode.
    let mut out = [Bn254Fr::ZERO];
    modes::hash(HashId::PoseidonCircomT3, &[f(1), f(2)], &mut out).unwrap();
    assert_eq!(out[0], poseidon::circom_hash(&[f(1), f(2)]).unwrap());
}

/// The optimised partial rounds agree with the textbook rounds for every circomlib width.
#[test]
fn circom_optimized_equals_plain() {
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for t in poseidon::CIRCOM_WIDTHS {
        let p = poseidon::circom_params(t).unwrap();
        for _ in 0..3 {
            let s: Vec<Bn254Fr> = (0..t).map(|_| Bn254Fr::random_with(&mut next)).collect();
            let mut a = s.clone();
            let mut b = s;
            p.permute(&mut a);
            p.permute_plain(&mut b);
            assert_eq!(a, b, "t = {t}");
        }
    }
}

/// HorizenLabs Poseidon2 BN254 t=3 on [0, 1, 2] (`zkhash` `poseidon2_tests_bn256::kats`).
#[test]
fn horizen_bn254_known_answer() {
    let out = perm(
        HashId::Poseidon2HorizenBn254T3,
        &[0, 1, 2].map(Bn254Fr::from_u64),
    );
    assert_eq!(
        out,
        vec![
            fr("0x0bb61d24daca55eebcb1929a82650f328134334da98ea4f847f760054f4a3033"),
            fr("0x303b6f7c86d043bfcbcc80214f26a30277a15d3f74ca654992defe7ff8d03570"),
            fr("0x1ed25194542b12eef8617361c3ba7c52e660b145994427cc86296242cf766ec8"),
        ]
    );
}

/// HorizenLabs Goldilocks t=12 and BabyBear t=24 on [0, 1, …] (`zkhash` KATs).
#[test]
fn horizen_small_field_known_answers() {
    let input: Vec<Goldilocks> = (0..12).map(Goldilocks::new).collect();
    let out: Vec<u64> = perm(HashId::Poseidon2HorizenGoldilocksT12, &input)
        .iter()
        .map(|x| x.value())
        .collect();
    assert_eq!(
        out,
        [
            0x01eaef96bdf1c0c1,
            0x1f0d2cc525b2540c,
            0x6282c1dfe1e0358d,
            0xe780d721f698e1e6,
            0x280c0b6f753d833b,
            0x1b942dd5023156ab,
            0x43f0df3fcccb8398,
            0xe8e8190585489025,
            0x56bdbf72f77ada22,
            0x7911c32bf9dcd705,
            0xec467926508fbe67,
            0x6a50450ddf85a6ed,
        ]
    );
    let input: Vec<BabyBear> = (0..24).map(BabyBear::new).collect();
    let out: Vec<u32> = perm(HashId::Poseidon2HorizenBabyBearT24, &input)
        .iter()
        .map(|x| x.value())
        .collect();
    assert_eq!(
        out,
        [
            0x2ed3e23d, 0x12921fb0, 0x0e659e79, 0x61d81dc9, 0x32bae33b, 0x62486ae3, 0x1e681b60,
            0x24b91325, 0x2a2ef5b9, 0x50e8593e, 0x5bc818ec, 0x10691997, 0x35a14520, 0x2ba6a3c5,
            0x279d47ec, 0x55014e81, 0x5953a67f, 0x2f403111, 0x6b8828ff, 0x1801301f, 0x2749207a,
            0x3dc9cf21, 0x3c985ba2, 0x57a99864,
        ]
    );
}

/// Plonky3 0.8 default instances (`p3-baby-bear` / `p3-goldilocks` `test_default_*`).
#[test]
fn plonky3_known_answers() {
    let input = [
        894848333, 1437655012, 1200606629, 1690012884, 71131202, 1749206695, 1717947831, 120589055,
        19776022, 42382981, 1831865506, 724844064, 171220207, 1299207443, 227047920, 1783754913,
    ]
    .map(BabyBear::new);
    let out: Vec<u32> = perm(HashId::Poseidon2Plonky3BabyBearT16, &input)
        .iter()
        .map(|x| x.value())
        .collect();
    assert_eq!(
        out,
        [
            516096821, 90309867, 1101817252, 1660784290, 360715097, 1789519026, 1788910906,
            563338433, 319524748, 1741414159, 1650859320, 894311162, 1121347488, 1692793758,
            1052633829, 1344246938,
        ]
    );
    let input = [
        886409618, 1327899896, 1902407911, 591953491, 648428576, 1844789031, 1198336108, 355597330,
        1799586834, 59617783, 790334801, 1968791836, 559272107, 31054313, 1042221543, 474748436,
        135686258, 263665994, 1962340735, 1741539604, 2026927696, 449439011, 1131357108, 50869465,
    ]
    .map(BabyBear::new);
    let out: Vec<u32> = perm(HashId::Poseidon2Plonky3BabyBearT24, &input)
        .iter()
        .map(|x| x.value())
        .collect();
    assert_eq!(
        out,
        [
            882297297, 1264077610, 512812497, 782602970, 867738552, 1251075457, 309180082,
            340784773, 524041877, 351272188, 404451680, 15001466, 322926653, 1773004150,
            1718440818, 674682955, 1154713225, 1719133502, 324232301, 1005243141, 443371079,
            268735940, 770060019, 718377682,
        ]
    );
    let input: Vec<Goldilocks> = (0..8).map(Goldilocks::new).collect();
    let out: Vec<u64> = perm(HashId::Poseidon2Plonky3GoldilocksT8, &input)
        .iter()
        .map(|x| x.value())
        .collect();
    assert_eq!(
        out,
        [
            0x020cf04a1b214d14,
            0x84e14aaaeacaed25,
            0x1ae0f640e81c7457,
            0xa4d204cbaeb0d8a5,
            0x0cf637b627b3a7ff,
            0x788d304d948b486b,
            0x7327133ea1949af4,
            0xf415abb924da395b,
        ]
    );
    let input: Vec<Goldilocks> = (0..12).map(Goldilocks::new).collect();
    let out: Vec<u64> = perm(HashId::Poseidon2Plonky3GoldilocksT12, &input)
        .iter()
        .map(|x| x.value())
        .collect();
    assert_eq!(
        out,
        [
            0xf292ab67c0f14b03,
            0x0a32f1b37656544c,
            0x053c61ab895498de,
            0x02ff92e55b196ffb,
            0x58176e8f6f58cab2,
            0xb0aa1206e7aec0f8,
            0xe90c13f3dce83ca4,
            0xf4da15333edf39c2,
            0x23b701c053c2ca6c,
            0xd233d593dcdfbf58,
            0x4effa5f9516fb52e,
            0x0aaf4489f1f40166,
        ]
    );
}

#[test]
fn ids_names_and_fields() {
    for &id in HashId::ALL {
        assert_eq!(HashId::from_u32(id.as_u32()), Some(id));
        assert_eq!(id.name().parse::<HashId>().unwrap(), id);
        assert_eq!(id.info().id, id);
        let i = id.info();
        assert!(i.rate < i.width || i.family == HashFamily::PoseidonCircom);
        let ok = match i.field {
            FieldId::Bn254Fr => Bn254Fr::instance(id).map(|p| p.width()),
            FieldId::Goldilocks => Goldilocks::instance(id).map(|p| p.width()),
            FieldId::BabyBear => BabyBear::instance(id).map(|p| p.width()),
            _ => unreachable!(),
        };
        assert_eq!(ok, Ok(i.width), "{id}");
    }
    assert_eq!(
        "poseidon2-plonky3-babybear-16".parse::<HashId>(),
        Ok(HashId::Poseidon2Plonky3BabyBearT16)
    );
    assert_eq!(
        "POSEIDON_CIRCOM_BN254_T3".parse::<HashId>(),
        Ok(HashId::PoseidonCircomT3)
    );
    assert!(matches!(
        "poseidon9".parse::<HashId>(),
        Err(HashError::UnknownInstance(_))
    ));
    assert!(matches!(
        BabyBear::instance(HashId::PoseidonCircomT3),
        Err(HashError::FieldMismatch { .. })
    ));
    assert_eq!(HashId::circom_inputs(16), Some(HashId::PoseidonCircomT17));
    assert_eq!(HashId::circom_inputs(17), None);
}

#[test]
fn sponge_semantics() {
    let id = HashId::Poseidon2Plonky3BabyBearT16;
    let msg: Vec<BabyBear> = (1..=11).map(BabyBear::new).collect();
    let mut out = [BabyBear::ZERO; 8];
    modes::hash(id, &msg, &mut out).unwrap();
    // By hand: two absorptions of rate 8, overwrite mode.
    let inst = BabyBear::instance(id).unwrap();
    let mut s = [BabyBear::ZERO; 16];
    s[..8].copy_from_slice(&msg[..8]);
    inst.permute(&mut s);
    s[..3].copy_from_slice(&msg[8..]);
    inst.permute(&mut s);
    assert_eq!(out, s[..8]);
    // Empty input: zeros, no permutation.
    modes::hash(id, &[], &mut out).unwrap();
    assert_eq!(out, [BabyBear::ZERO; 8]);
    // Errors.
    assert!(matches!(
        modes::hash(id, &msg, &mut [BabyBear::ZERO; 4]),
        Err(HashError::Length { .. })
    ));
    assert!(matches!(
        modes::hash(
            HashId::PoseidonCircomT3,
            &[Bn254Fr::ONE],
            &mut [Bn254Fr::ZERO]
        ),
        Err(HashError::Length { .. })
    ));
}

#[test]
fn merkle_naive_and_paths() {
    let id = HashId::Poseidon2Plonky3GoldilocksT16;
    for arity in [2usize, 4] {
        let d = id.info().digest;
        let n = if arity == 2 { 8 } else { 16 };
        let leaves: Vec<Goldilocks> = (0..(n * d) as u64).map(Goldilocks::new).collect();
        let root = modes::merkle_root_naive(id, arity, &leaves).unwrap();
        // Level by level, by hand, with a path for leaf 5.
        let mut layer = leaves.clone();
        let mut siblings = Vec::new();
        let mut idx = 5usize;
        while layer.len() > d {
            let pos = idx % arity;
            let group = &layer[(idx - pos) * d..(idx - pos + arity) * d];
            for (c, chunk) in group.chunks(d).enumerate() {
                if c != pos {
                    siblings.extend_from_slice(chunk);
                }
            }
            let mut next = vec![Goldilocks::ZERO; layer.len() / arity];
            for (g, o) in layer.chunks(arity * d).zip(next.chunks_mut(d)) {
                modes::compress(id, arity, g, o).unwrap();
            }
            layer = next;
            idx /= arity;
        }
        assert_eq!(layer, root);
        let path = MerklePath { index: 5, siblings };
        let leaf = &leaves[5 * d..6 * d];
        assert_eq!(modes::verify_path(id, arity, leaf, &path, &root), Ok(true));
        let mut bad = path.clone();
        bad.siblings[0] += Goldilocks::ONE;
        assert_eq!(modes::verify_path(id, arity, leaf, &bad, &root), Ok(false));
        let wrong_index = MerklePath {
            index: 6,
            ..path.clone()
        };
        assert_eq!(
            modes::verify_path(id, arity, leaf, &wrong_index, &root),
            Ok(false)
        );
    }
    assert!(matches!(
        modes::merkle_root_naive(id, 8, &[Goldilocks::ZERO; 32]),
        Err(HashError::UnsupportedArity { .. })
    ));
    assert!(matches!(
        modes::merkle_root_naive(id, 2, &[Goldilocks::ZERO; 12]),
        Err(HashError::TreeShape {
            leaves: 3,
            arity: 2
        })
    ));
    assert!(matches!(
        modes::merkle_root_naive::<Goldilocks>(id, 2, &[]),
        Err(HashError::TreeShape { leaves: 0, .. })
    ));
    // circomlib: arity is t − 1.
    let c = HashId::PoseidonCircomT5;
    assert_eq!(c.info().merkle_arities(), &[4]);
    let leaves: Vec<Bn254Fr> = (0..16).map(Bn254Fr::from_u64).collect();
    let root = modes::merkle_root_naive(c, 4, &leaves).unwrap();
    let l1: Vec<Bn254Fr> = leaves
        .chunks(4)
        .map(|g| poseidon::circom_hash(g).unwrap())
        .collect();
    assert_eq!(root, vec![poseidon::circom_hash(&l1).unwrap()]);
}

#[test]
fn canonical_inputs_are_checked() {
    let p = Goldilocks::P;
    assert_eq!(
        modes::from_canonical_slice::<Goldilocks>(&[[1], [p]]),
        Err(HashError::NotCanonical { index: 1 })
    );
    assert_eq!(
        modes::from_canonical_slice::<Goldilocks>(&[[1], [p - 1]]),
        Ok(vec![Goldilocks::new(1), Goldilocks::new(p - 1)])
    );
}
