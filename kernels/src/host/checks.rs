//! Checks for backends built on [`GpuBackend`](super::GpuBackend) that need a device opened
//! with particular limits, so they cannot be part of the conformance suite (which takes a
//! backend as it comes). Each backend crate calls them from its tests with its own devices;
//! they panic with a message on failure. Feature `checks`.

use zkaccel_backend::curves::Bn254Fr;
use zkaccel_backend::field::{BabyBear, Field, Goldilocks, PrimeField};
use zkaccel_backend::hash::{modes, HashId};
use zkaccel_backend::{Backend, BackendError, FieldId, HashOp};

/// On a device whose allocations are capped at 4 KiB: messages longer than one allocation
/// are absorbed in segments and agree with the reference sponge.
pub fn hash_long_messages_in_segments(b: &dyn Backend) {
    let id = HashId::Poseidon2HorizenBn254T3;
    assert!(b.capabilities().supports_hash(id));
    let len = 301; // 9632 bytes: three segments, the last a partial chunk
    let n: usize = 3;
    let input: Vec<Bn254Fr> = (0..(n * len) as u64)
        .map(|i| Bn254Fr::from_u64(i * 7 + 1))
        .collect();
    let mut got = vec![Bn254Fr::ONE; n];
    b.hash(
        id,
        HashOp::Hash { input_len: len },
        bytemuck::cast_slice(&input),
        bytemuck::cast_slice_mut(&mut got),
    )
    .expect("hash");
    for (k, g) in got.iter().enumerate() {
        let mut want = [Bn254Fr::ZERO];
        modes::hash(id, &input[k * len..(k + 1) * len], &mut want).expect("reference");
        assert_eq!(*g, want[0], "message {k}");
    }
}

/// Wrong shapes are typed errors, not panics.
pub fn hash_bad_shapes_are_errors(b: &dyn Backend) {
    let id = HashId::Poseidon2Plonky3BabyBearT16;
    let e = b.hash(id, HashOp::Permute, &[], &mut [0u8; 60]);
    assert!(matches!(e, Err(BackendError::BadInput(_))), "{e:?}");
    let e = b.hash(id, HashOp::Permute, &[], &mut [0u8; 3]);
    assert!(matches!(e, Err(BackendError::BadInput(_))), "{e:?}");
    let e = b.hash(
        id,
        HashOp::Compress { arity: 3 },
        &[0u8; 96],
        &mut [0u8; 32],
    );
    assert!(matches!(e, Err(BackendError::BadInput(_))), "{e:?}");
    let e = b.hash(
        HashId::PoseidonCircomT3,
        HashOp::Hash { input_len: 3 },
        &[0u8; 96],
        &mut [0u8; 32],
    );
    assert!(matches!(e, Err(BackendError::BadInput(_))), "{e:?}");
}

/// `small` has allocations capped at 4 KiB, `full` has none: the hash instances whose
/// constants do not fit 4 KiB are left out of `small`'s capabilities, the rest kept, and
/// `full` has every instance.
pub fn hash_capabilities_follow_the_allocation_limit(small: &dyn Backend, full: &dyn Backend) {
    let caps = small.capabilities();
    assert!(!caps.supports_hash(HashId::PoseidonCircomT17));
    assert!(caps.supports_hash(HashId::Poseidon2Plonky3BabyBearT32));
    assert_eq!(full.capabilities().hash, HashId::ALL);
}

/// On a device whose allocations are capped at 4 KiB: the NTT capabilities shrink to one
/// column per allocation, and batches are split into groups of columns (interleaved groups
/// gathered on the host) with the conformance results.
pub fn ntt_in_groups_of_columns(b: &dyn Backend) {
    use zkaccel_backend::conformance as c;
    use zkaccel_backend::curves::Bls12_377Fr;
    let caps = b.capabilities();
    assert_eq!(caps.ntt_for(FieldId::Bn254Fr).map(|c| c.max_log_n), Some(7));
    assert_eq!(
        caps.ntt_for(FieldId::BabyBear).map(|c| c.max_log_n),
        Some(10)
    );
    c::ntt_batch::<Bn254Fr>(b);
    c::ntt_batch::<Bls12_377Fr>(b);
    c::ntt_batch::<Goldilocks>(b);
    c::ntt_batch::<BabyBear>(b);
    c::ntt_custom_root::<Goldilocks>(b);
}
