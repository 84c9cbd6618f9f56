//! NTT program assembly: the field instance `ff` followed by `kernels/gpu/ntt.h`
//! (kernels `ntt_twiddles`, `ntt_pass`, `ntt_bitrev_tiles`, `ntt_bitrev_rows`; see that
//! file for the algorithm).
//!
//! The kernels keep one tile of elements in local memory as `NTT_WORDS` planes of
//! `NTT_LW` words; the tile holds `2^NTT_TILE_BITS` elements, the most that fit in
//! [`NTT_LOCAL_BYTES`] (at most `2^`[`NTT_MAX_TILE_BITS`]): `2^10` elements of the 256-bit
//! fields, `2^11` of Goldilocks and BabyBear.

use crate::{files, program_start, push_field_id, push_file, ProgramSource, Target};
use zkaccel_backend::FieldId;

/// Local memory one NTT work-group may use, bytes: 32 KiB is the least any OpenCL 1.2
/// full-profile device offers (`CL_DEVICE_LOCAL_MEM_SIZE`) and fits CUDA's static limit.
pub const NTT_LOCAL_BYTES: usize = 32 << 10;

/// Largest tile, log2 of elements (larger tiles only add barriers and idle work-items).
pub const NTT_MAX_TILE_BITS: u32 = 11;

/// log2 of the local-memory tile, in elements, of the NTT program for `field`.
pub fn ntt_tile_bits(field: FieldId) -> u32 {
    let per = (NTT_LOCAL_BYTES / field.element_bytes()).max(1);
    (usize::BITS - 1 - per.leading_zeros()).min(NTT_MAX_TILE_BITS)
}

/// The NTT program for `field` (kernels `ntt_twiddles`, `ntt_pass`, `ntt_bitrev_tiles` and
/// `ntt_bitrev_rows`, over the field instance `ff`); `None` for fields that have no NTT
/// (the curves' base fields).
pub fn ntt_program(target: Target, field: FieldId) -> Option<ProgramSource> {
    if !field.is_ntt_field() {
        return None;
    }
    let mut s = program_start(target);
    push_field_id(&mut s, field, "ff");
    // How the kernels see an element as words (the field templates' storage: one u64 for
    // Goldilocks, one u32 for BabyBear, 32-bit limbs `v[LIMBS]` for the Montgomery fields).
    let (lw, words, getw, setw) = match field {
        FieldId::Goldilocks => ("u64", 1, "((a).v)", "((a).v = (w))"),
        FieldId::BabyBear => ("u32", 1, "((a).v)", "((a).v = (w))"),
        _ => (
            "u32",
            field.element_bytes() / 4,
            "((a).v[k])",
            "((a).v[k] = (w))",
        ),
    };
    s.push_str(&format!(
        "\n#define NTT_TILE_BITS {}\n#define NTT_LW {lw}\n#define NTT_WORDS {words}u\n\
         #define NTT_GETW(a, k) {getw}\n#define NTT_SETW(a, k, w) {setw}\n",
        ntt_tile_bits(field)
    ));
    push_file(&mut s, "ntt.h", files::NTT);
    Some(ProgramSource {
        name: format!("ntt_{}", format!("{field:?}").to_ascii_lowercase()),
        target,
        text: s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ntt_field_has_a_program() {
        for &f in FieldId::ALL {
            for t in [Target::OpenCl, Target::Cuda] {
                match ntt_program(t, f) {
                    Some(p) => {
                        assert!(f.is_ntt_field());
                        assert!(p.text.contains("KERNEL void ntt_pass"));
                        assert!(p
                            .text
                            .contains(&format!("#define NTT_TILE_BITS {}\n", ntt_tile_bits(f))));
                        assert!(!p.name.contains(' '), "{}", p.name);
                    }
                    None => assert!(!f.is_ntt_field()),
                }
            }
        }
    }

    #[test]
    fn tiles_fit_the_local_memory_budget() {
        assert_eq!(ntt_tile_bits(FieldId::Bn254Fr), 10);
        assert_eq!(ntt_tile_bits(FieldId::Goldilocks), 11);
        assert_eq!(ntt_tile_bits(FieldId::BabyBear), 11);
        for &f in FieldId::ALL.iter().filter(|f| f.is_ntt_field()) {
            assert!(f.element_bytes() << ntt_tile_bits(f) <= NTT_LOCAL_BYTES);
        }
    }
}
