//! Poseidon/Poseidon2 program assembly: one program per hash instance (`kernels/gpu/poseidon.h`
//! specialised by its width, rounds, S-box and matrices), and the instance's constants laid
//! out in the four buffers the kernels read.
//!
//! The kernels (see `poseidon.h` for their arguments):
//! - `psn_permute_batch(states, n, c0, c1, c2, c3)`: `n` states permuted in place;
//! - `psn_sponge(in, seg_len, n, st, flags, out, c0, c1, c2, c3)`: `n` messages hashed as
//!   [`zkaccel_backend::hash::modes::hash`] defines (a long message may be absorbed in
//!   segments; `flags` is [`SPONGE_FIRST`] | [`SPONGE_LAST`] for a whole message);
//! - `psn_compress(in, len, n, out, c0, c1, c2, c3)`: one Merkle layer, `n` nodes of `len`
//!   child elements each, as [`zkaccel_backend::hash::modes::compress`] defines.

use crate::{files, program_start, push_field_id, push_file, ProgramSource, Target};
use zkaccel_backend::hash::poseidon2::ExternalMatrix;
use zkaccel_backend::hash::{HashError, HashFamily, HashField, HashId, Instance};

/// `psn_sponge` flag: start from the zero state (otherwise from `st`).
pub const SPONGE_FIRST: u32 = 1;
/// `psn_sponge` flag: write the digest to `out` (otherwise the state to `st`).
pub const SPONGE_LAST: u32 = 2;

/// The program of hash instance `id` (kernels `psn_permute_batch`, `psn_sponge` and
/// `psn_compress`); `None` when the instance's parameters are outside what the kernels
/// handle (no instance of [`HashId::ALL`] is).
pub fn hash_program(target: Target, id: HashId) -> Option<ProgramSource> {
    let info = id.info();
    let t = info.width;
    let (family, m4) = match info.family {
        HashFamily::PoseidonCircom => ("PSN_POSEIDON", "0"),
        HashFamily::Poseidon2Horizen => ("PSN_POSEIDON2", "PSN_M4_HORIZEN"),
        HashFamily::Poseidon2Plonky3 => ("PSN_POSEIDON2", "PSN_M4_PLONKY3"),
    };
    let poseidon2 = info.family != HashFamily::PoseidonCircom;
    let shape_ok = t >= 2
        && info.full_rounds >= 2
        && info.full_rounds.is_multiple_of(2)
        && matches!(info.sbox_degree, 3 | 5 | 7)
        && (1..=t).contains(&info.rate)
        && (1..=t).contains(&info.digest)
        && (!poseidon2 || t == 2 || t == 3 || t.is_multiple_of(4));
    if !shape_ok {
        return None;
    }
    let mut s = program_start(target);
    push_field_id(&mut s, info.field, "ff");
    s.push_str(&format!(
        "\n/* ---- instance {id} ---- */\n\
         #define PSN_T {t}\n\
         #define PSN_HALF {}\n\
         #define PSN_RP {}\n\
         #define PSN_ALPHA {}\n\
         #define PSN_RATE {}\n\
         #define PSN_DIGEST {}\n\
         #define PSN_FAMILY {family}\n\
         #define PSN_M4 {m4}\n",
        info.full_rounds / 2,
        info.partial_rounds,
        info.sbox_degree,
        info.rate,
        info.digest,
    ));
    push_file(&mut s, "poseidon.h", files::POSEIDON);
    Some(ProgramSource {
        name: format!("hash_{}", id.name().replace('-', "_")),
        target,
        text: s,
    })
}

/// The constants of instance `id` over `F` as the kernels read them: the contents of the
/// buffers `c0`, `c1`, `c2`, `c3` (layouts in `poseidon.h`; never empty, so each can be
/// a device buffer). Split in four so that no buffer is much larger than a quarter of the
/// whole (circomlib's widest instance needs about 90 KB).
///
/// Poseidon uses its optimised form (Poseidon paper, eprint 2019/458, Appendix B):
/// `c0` full-round constants, `c1` the MDS and pre-sparse matrices, `c2` per partial round
/// its constant, `m00` and the first row, `c3` per partial round the first column.
/// Poseidon2 (eprint 2023/323): `c0` external constants, `c1` the internal diagonal, `c2`
/// internal constants, `c3` one zero.
pub fn hash_constants<F: HashField>(id: HashId) -> Result<[Vec<F>; 4], HashError> {
    Ok(match F::instance(id)? {
        Instance::Poseidon(p) => {
            let o = &p.optimized;
            let t = p.width;
            let c0 = [o.first_constants.as_slice(), &o.last_constants].concat();
            let c1 = [p.mds.as_slice(), &o.pre_sparse].concat();
            let mut c2 = Vec::with_capacity(o.sparse.len() * (t + 1));
            let mut c3 = Vec::with_capacity(o.sparse.len() * (t - 1));
            for (c, m) in o.partial_constants.iter().zip(&o.sparse) {
                c2.push(*c);
                c2.push(m.m00);
                c2.extend_from_slice(&m.row);
                c3.extend_from_slice(&m.col);
            }
            if c2.is_empty() {
                c2.push(F::ZERO);
                c3.push(F::ZERO);
            }
            [c0, c1, c2, c3]
        }
        Instance::Poseidon2(p) => {
            // The kernels' M4 is chosen by the family (hash_program); a mismatch would be a
            // bug in the instance table.
            let want = match id.info().family {
                HashFamily::Poseidon2Plonky3 => ExternalMatrix::Plonky3,
                _ => ExternalMatrix::Horizen,
            };
            debug_assert!(p.width <= 3 || p.external == want, "{id}: external matrix");
            let c0 = [p.external_initial.as_slice(), &p.external_terminal].concat();
            let mut c2 = p.internal_constants.clone();
            if c2.is_empty() {
                c2.push(F::ZERO);
            }
            [c0, p.internal_diag.clone(), c2, vec![F::ZERO]]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkaccel_backend::curves::Bn254Fr;
    use zkaccel_backend::field::{BabyBear, Goldilocks};
    use zkaccel_backend::FieldId;

    #[test]
    fn every_instance_has_a_program() {
        for &id in HashId::ALL {
            for t in [Target::OpenCl, Target::Cuda] {
                let p = hash_program(t, id).expect("program");
                assert!(p.text.contains("KERNEL void psn_sponge"));
                assert!(p
                    .text
                    .contains(&format!("#define PSN_T {}\n", id.info().width)));
                assert!(!p.name.contains(['-', ' ']), "{}", p.name);
            }
        }
    }

    #[test]
    fn constants_have_the_documented_sizes() {
        fn sizes<F: HashField>(id: HashId) -> [usize; 4] {
            hash_constants::<F>(id).expect("constants").map(|v| v.len())
        }
        for &id in HashId::ALL {
            let i = id.info();
            let (t, half, rp) = (i.width, i.full_rounds / 2, i.partial_rounds);
            let got = match i.field {
                FieldId::Bn254Fr => sizes::<Bn254Fr>(id),
                FieldId::Goldilocks => sizes::<Goldilocks>(id),
                FieldId::BabyBear => sizes::<BabyBear>(id),
                f => panic!("{id} over {f}"),
            };
            let want = match i.family {
                HashFamily::PoseidonCircom => [2 * half * t, 2 * t * t, rp * (t + 1), rp * (t - 1)],
                _ => [2 * half * t, t, rp, 1],
            };
            assert_eq!(got, want, "{id}");
        }
    }
}
