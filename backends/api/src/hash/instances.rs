//! The named hash instances, their run-time ids and their parameters.

use super::horizen_diag as hd;
use super::poseidon::{circom_params, PoseidonParams, CIRCOM_FULL_ROUNDS, CIRCOM_PARTIAL_ROUNDS};
use super::poseidon2::{DiagEntry, ExternalMatrix, Poseidon2Params};
use super::HashError;
use crate::curves::Bn254Fr;
use crate::field::{BabyBear, Goldilocks, PrimeField};
use crate::ids::FieldId;
use core::fmt;
use core::str::FromStr;
use std::sync::OnceLock;

/// Whose parameters an instance uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum HashFamily {
    /// Poseidon with circomlib's parameters (BN254 `Fr`, `x⁵`, Grain constants, Cauchy MDS).
    PoseidonCircom,
    /// Poseidon2 with the HorizenLabs reference parameters (`zkhash`).
    Poseidon2Horizen,
    /// Poseidon2 with Plonky3's default parameters (`default_*_poseidon2_*` in 0.8).
    Poseidon2Plonky3,
}

macro_rules! hash_ids {
    ($($v:ident = $n:literal => $s:literal, $fam:ident, $field:ident, $t:literal, $rf:expr, $rp:expr, $d:literal, $rate:literal, $out:literal;)+) => {
        /// A hash instance: a permutation with its parameters, named after whose they are.
        ///
        /// The numbers are stable (C ABI, reports); the names are the command-line spelling.
        #[repr(u32)]
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum HashId {
            $(
                #[doc = concat!("`", $s, "`.")]
                $v = $n,
            )+
        }

        impl HashId {
            /// Every instance, in id order.
            pub const ALL: &'static [HashId] = &[$(HashId::$v),+];

            /// The stable numeric id.
            pub const fn as_u32(self) -> u32 {
                self as u32
            }

            /// The instance with this numeric id.
            pub const fn from_u32(v: u32) -> Option<Self> {
                match v {
                    $($n => Some(HashId::$v),)+
                    _ => None,
                }
            }

            /// The stable lower-case name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(HashId::$v => $s),+
                }
            }

            /// The instance's parameters in brief.
            pub const fn info(self) -> HashInfo {
                match self {
                    $(HashId::$v => HashInfo {
                        id: HashId::$v,
                        family: HashFamily::$fam,
                        field: FieldId::$field,
                        width: $t,
                        full_rounds: $rf,
                        partial_rounds: $rp,
                        sbox_degree: $d,
                        rate: $rate,
                        digest: $out,
                    }),+
                }
            }
        }
    };
}

hash_ids! {
    PoseidonCircomT2 = 102 => "poseidon-circom-bn254-t2", PoseidonCircom, Bn254Fr, 2, 8, CIRCOM_PARTIAL_ROUNDS[0], 5, 1, 1;
    PoseidonCircomT3 = 103 => "poseidon-circom-bn254-t3", PoseidonCircom, Bn254Fr, 3, 8, CIRCOM_PARTIAL_ROUNDS[1], 5, 2, 1;
    PoseidonCircomT4 = 104 => "poseidon-circom-bn254-t4", PoseidonCircom, Bn254Fr, 4, 8, CIRCOM_PARTIAL_ROUNDS[2], 5, 3, 1;
    PoseidonCircomT5 = 105 => "poseidon-circom-bn254-t5", PoseidonCircom, Bn254Fr, 5, 8, CIRCOM_PARTIAL_ROUNDS[3], 5, 4, 1;
    PoseidonCircomT6 = 106 => "poseidon-circom-bn254-t6", PoseidonCircom, Bn254Fr, 6, 8, CIRCOM_PARTIAL_ROUNDS[4], 5, 5, 1;
    PoseidonCircomT7 = 107 => "poseidon-circom-bn254-t7", PoseidonCircom, Bn254Fr, 7, 8, CIRCOM_PARTIAL_ROUNDS[5], 5, 6, 1;
    PoseidonCircomT8 = 108 => "poseidon-circom-bn254-t8", PoseidonCircom, Bn254Fr, 8, 8, CIRCOM_PARTIAL_ROUNDS[6], 5, 7, 1;
    PoseidonCircomT9 = 109 => "poseidon-circom-bn254-t9", PoseidonCircom, Bn254Fr, 9, 8, CIRCOM_PARTIAL_ROUNDS[7], 5, 8, 1;
    PoseidonCircomT10 = 110 => "poseidon-circom-bn254-t10", PoseidonCircom, Bn254Fr, 10, 8, CIRCOM_PARTIAL_ROUNDS[8], 5, 9, 1;
    PoseidonCircomT11 = 111 => "poseidon-circom-bn254-t11", PoseidonCircom, Bn254Fr, 11, 8, CIRCOM_PARTIAL_ROUNDS[9], 5, 10, 1;
    PoseidonCircomT12 = 112 => "poseidon-circom-bn254-t12", PoseidonCircom, Bn254Fr, 12, 8, CIRCOM_PARTIAL_ROUNDS[10], 5, 11, 1;
    PoseidonCircomT13 = 113 => "poseidon-circom-bn254-t13", PoseidonCircom, Bn254Fr, 13, 8, CIRCOM_PARTIAL_ROUNDS[11], 5, 12, 1;
    PoseidonCircomT14 = 114 => "poseidon-circom-bn254-t14", PoseidonCircom, Bn254Fr, 14, 8, CIRCOM_PARTIAL_ROUNDS[12], 5, 13, 1;
    PoseidonCircomT15 = 115 => "poseidon-circom-bn254-t15", PoseidonCircom, Bn254Fr, 15, 8, CIRCOM_PARTIAL_ROUNDS[13], 5, 14, 1;
    PoseidonCircomT16 = 116 => "poseidon-circom-bn254-t16", PoseidonCircom, Bn254Fr, 16, 8, CIRCOM_PARTIAL_ROUNDS[14], 5, 15, 1;
    PoseidonCircomT17 = 117 => "poseidon-circom-bn254-t17", PoseidonCircom, Bn254Fr, 17, 8, CIRCOM_PARTIAL_ROUNDS[15], 5, 16, 1;
    Poseidon2HorizenBn254T3 = 203 => "poseidon2-horizen-bn254-t3", Poseidon2Horizen, Bn254Fr, 3, 8, 56, 5, 2, 1;
    Poseidon2HorizenGoldilocksT8 = 308 => "poseidon2-horizen-goldilocks-t8", Poseidon2Horizen, Goldilocks, 8, 8, 22, 7, 4, 4;
    Poseidon2HorizenGoldilocksT12 = 312 => "poseidon2-horizen-goldilocks-t12", Poseidon2Horizen, Goldilocks, 12, 8, 22, 7, 8, 4;
    Poseidon2HorizenGoldilocksT16 = 316 => "poseidon2-horizen-goldilocks-t16", Poseidon2Horizen, Goldilocks, 16, 8, 22, 7, 12, 4;
    Poseidon2HorizenGoldilocksT20 = 320 => "poseidon2-horizen-goldilocks-t20", Poseidon2Horizen, Goldilocks, 20, 8, 22, 7, 16, 4;
    Poseidon2HorizenBabyBearT16 = 416 => "poseidon2-horizen-babybear-t16", Poseidon2Horizen, BabyBear, 16, 8, 13, 7, 8, 8;
    Poseidon2HorizenBabyBearT24 = 424 => "poseidon2-horizen-babybear-t24", Poseidon2Horizen, BabyBear, 24, 8, 21, 7, 16, 8;
    Poseidon2Plonky3BabyBearT16 = 516 => "poseidon2-plonky3-babybear-t16", Poseidon2Plonky3, BabyBear, 16, 8, 13, 7, 8, 8;
    Poseidon2Plonky3BabyBearT24 = 524 => "poseidon2-plonky3-babybear-t24", Poseidon2Plonky3, BabyBear, 24, 8, 21, 7, 16, 8;
    Poseidon2Plonky3BabyBearT32 = 532 => "poseidon2-plonky3-babybear-t32", Poseidon2Plonky3, BabyBear, 32, 8, 30, 7, 24, 8;
    Poseidon2Plonky3GoldilocksT8 = 608 => "poseidon2-plonky3-goldilocks-t8", Poseidon2Plonky3, Goldilocks, 8, 8, 22, 7, 4, 4;
    Poseidon2Plonky3GoldilocksT12 = 612 => "poseidon2-plonky3-goldilocks-t12", Poseidon2Plonky3, Goldilocks, 12, 8, 22, 7, 8, 4;
    Poseidon2Plonky3GoldilocksT16 = 616 => "poseidon2-plonky3-goldilocks-t16", Poseidon2Plonky3, Goldilocks, 16, 8, 22, 7, 12, 4;
}

/// What an instance is, in brief (everything a dispatcher or a report needs).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct HashInfo {
    /// The instance.
    pub id: HashId,
    /// Whose parameters.
    pub family: HashFamily,
    /// The field the state lives in.
    pub field: FieldId,
    /// Permutation width `t`.
    pub width: usize,
    /// Total full (external) rounds.
    pub full_rounds: usize,
    /// Partial (internal) rounds.
    pub partial_rounds: usize,
    /// S-box exponent.
    pub sbox_degree: u64,
    /// Sponge rate: elements absorbed per permutation (the capacity is `width − rate`). For
    /// circomlib instances this is the fixed input length `t − 1`.
    pub rate: usize,
    /// Elements in a digest (hash output, Merkle node).
    pub digest: usize,
}

impl HashInfo {
    /// The Merkle arities (among 2, 4, 8) this instance supports: `arity·digest ≤ width`
    /// for Poseidon2 (Plonky3's `TruncatedPermutation`), `arity = t − 1` for circomlib
    /// (a node is `Poseidon(children)`).
    pub fn merkle_arities(&self) -> &'static [usize] {
        match self.family {
            HashFamily::PoseidonCircom => match self.width {
                3 => &[2],
                5 => &[4],
                9 => &[8],
                _ => &[],
            },
            _ => match self.width / self.digest {
                0 | 1 => &[],
                2 | 3 => &[2],
                4..=7 => &[2, 4],
                _ => &[2, 4, 8],
            },
        }
    }

    /// Checks that `arity` is supported.
    pub fn check_arity(&self, arity: usize) -> Result<(), HashError> {
        if self.merkle_arities().contains(&arity) {
            Ok(())
        } else {
            Err(HashError::UnsupportedArity {
                id: self.id,
                arity,
                supported: self.merkle_arities(),
            })
        }
    }
}

impl HashId {
    /// The circomlib instance of width `t` (`2..=17`).
    pub const fn circom(t: usize) -> Option<HashId> {
        if t >= 2 && t <= 17 {
            HashId::from_u32(100 + t as u32)
        } else {
            None
        }
    }

    /// The circomlib instance that hashes `n` inputs (`1..=16`).
    pub const fn circom_inputs(n: usize) -> Option<HashId> {
        Self::circom(n + 1)
    }
}

impl fmt::Display for HashId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashId {
    type Err = HashError;
    /// Parses a name such as `poseidon2-plonky3-babybear-t16`; `_` for `-` and a width
    /// without the `t` (`poseidon2-plonky3-babybear-16`) are accepted.
    fn from_str(s: &str) -> Result<Self, HashError> {
        let norm = |x: &str| -> String {
            let l = x.to_ascii_lowercase().replace('_', "-");
            match l.rsplit_once('-') {
                Some((head, tail)) => format!("{head}-{}", tail.trim_start_matches('t')),
                None => l,
            }
        };
        let want = norm(s);
        HashId::ALL
            .iter()
            .copied()
            .find(|id| norm(id.name()) == want)
            .ok_or_else(|| HashError::UnknownInstance(s.to_string()))
    }
}

/// A borrowed permutation of one instance over `F`.
#[derive(Copy, Clone, Debug)]
pub enum Instance<F: 'static> {
    /// A Poseidon instance.
    Poseidon(&'static PoseidonParams<F>),
    /// A Poseidon2 instance.
    Poseidon2(&'static Poseidon2Params<F>),
}

impl<F: PrimeField> Instance<F> {
    /// The permutation width.
    pub fn width(&self) -> usize {
        match self {
            Instance::Poseidon(p) => p.width,
            Instance::Poseidon2(p) => p.width,
        }
    }

    /// Permutes one state in place (reference code).
    ///
    /// # Panics
    /// If `state.len()` is not the width.
    pub fn permute(&self, state: &mut [F]) {
        match self {
            Instance::Poseidon(p) => p.permute(state),
            Instance::Poseidon2(p) => p.permute(state),
        }
    }
}

/// A field that hash instances are defined over; maps an id to that field's parameters.
pub trait HashField: PrimeField {
    /// The parameters of `id`, derived on first use; `FieldMismatch` when `id` is over
    /// another field.
    fn instance(id: HashId) -> Result<Instance<Self>, HashError>;
}

fn mismatch(id: HashId, got: FieldId) -> HashError {
    HashError::FieldMismatch {
        id,
        expected: id.info().field,
        got,
    }
}

fn grain_instance<F: PrimeField>(
    id: HashId,
    external: ExternalMatrix,
    diag: Vec<F>,
) -> Poseidon2Params<F> {
    let i = id.info();
    Poseidon2Params::from_grain(
        i.width,
        i.full_rounds,
        i.partial_rounds,
        i.sbox_degree,
        external,
        diag,
    )
}

fn canonical_diag<F: PrimeField<Limbs = [u64; 1]>>(v: &[u64]) -> Vec<F> {
    v.iter()
        .map(|&x| F::from_canonical(&[x]).expect("published diagonal entries are canonical"))
        .collect()
}

fn plonky3_diag<F: PrimeField>(v: &[(i64, u32)]) -> Vec<F> {
    v.iter()
        .map(|&(n, s)| DiagEntry::new(n, s).to_field())
        .collect()
}

/// Plonky3's internal diagonals `V` (`p3-baby-bear` 0.8 `poseidon2.rs`, `p3-goldilocks` 0.8
/// `MATRIX_DIAG_*_GOLDILOCKS`), as `(numerator, log₂ denominator)`.
pub mod plonky3_diagonals {
    /// BabyBear width 16.
    pub const BABYBEAR_16: [(i64, u32); 16] = [
        (-2, 0),
        (1, 0),
        (2, 0),
        (1, 1),
        (3, 0),
        (4, 0),
        (-1, 1),
        (-3, 0),
        (-4, 0),
        (1, 8),
        (1, 2),
        (1, 3),
        (1, 27),
        (-1, 8),
        (-1, 4),
        (-1, 27),
    ];
    /// BabyBear width 24.
    pub const BABYBEAR_24: [(i64, u32); 24] = [
        (-2, 0),
        (1, 0),
        (2, 0),
        (1, 1),
        (3, 0),
        (4, 0),
        (-1, 1),
        (-3, 0),
        (-4, 0),
        (1, 8),
        (1, 2),
        (1, 3),
        (1, 4),
        (1, 7),
        (1, 9),
        (1, 27),
        (-1, 8),
        (-1, 2),
        (-1, 3),
        (-1, 4),
        (-1, 5),
        (-1, 6),
        (-1, 7),
        (-1, 27),
    ];
    /// BabyBear width 32.
    pub const BABYBEAR_32: [(i64, u32); 32] = [
        (-2, 0),
        (1, 0),
        (2, 0),
        (1, 1),
        (3, 0),
        (4, 0),
        (-1, 1),
        (-3, 0),
        (-4, 0),
        (1, 8),
        (1, 2),
        (1, 3),
        (1, 4),
        (1, 5),
        (1, 6),
        (1, 7),
        (1, 9),
        (1, 10),
        (1, 12),
        (1, 27),
        (-1, 8),
        (-1, 2),
        (-1, 3),
        (-1, 4),
        (-1, 5),
        (-1, 6),
        (-1, 7),
        (-1, 9),
        (-1, 10),
        (-1, 12),
        (-1, 14),
        (-1, 27),
    ];
    /// Goldilocks width 8.
    pub const GOLDILOCKS_8: [(i64, u32); 8] = [
        (-2, 0),
        (1, 0),
        (2, 0),
        (1, 1),
        (3, 0),
        (-1, 1),
        (-3, 0),
        (-4, 0),
    ];
    /// Goldilocks width 12.
    pub const GOLDILOCKS_12: [(i64, u32); 12] = [
        (-2, 0),
        (1, 0),
        (2, 0),
        (1, 1),
        (3, 0),
        (4, 0),
        (-1, 1),
        (-3, 0),
        (-4, 0),
        (1, 2),
        (-1, 2),
        (1, 3),
    ];
    /// Goldilocks width 16.
    pub const GOLDILOCKS_16: [(i64, u32); 16] = [
        (-2, 0),
        (1, 0),
        (2, 0),
        (1, 1),
        (3, 0),
        (4, 0),
        (-1, 1),
        (-3, 0),
        (-4, 0),
        (1, 3),
        (1, 4),
        (1, 5),
        (-1, 3),
        (-1, 4),
        (-1, 5),
        (1, 32),
    ];
}

macro_rules! cached {
    ($ty:ty, $init:expr) => {{
        static CELL: OnceLock<$ty> = OnceLock::new();
        CELL.get_or_init(|| $init)
    }};
}

impl HashField for Bn254Fr {
    fn instance(id: HashId) -> Result<Instance<Self>, HashError> {
        use HashId::*;
        let info = id.info();
        match id {
            _ if info.family == HashFamily::PoseidonCircom => {
                Ok(Instance::Poseidon(circom_params(info.width)?))
            }
            Poseidon2HorizenBn254T3 => Ok(Instance::Poseidon2(cached!(
                Poseidon2Params<Bn254Fr>,
                grain_instance(
                    id,
                    ExternalMatrix::Horizen,
                    [1, 1, 2].iter().map(|&v| Bn254Fr::from_u64(v)).collect()
                )
            ))),
            _ => Err(mismatch(id, FieldId::Bn254Fr)),
        }
    }
}

impl HashField for Goldilocks {
    fn instance(id: HashId) -> Result<Instance<Self>, HashError> {
        use plonky3_diagonals as p3;
        use HashId::*;
        type P = Poseidon2Params<Goldilocks>;
        let h = ExternalMatrix::Horizen;
        let p = ExternalMatrix::Plonky3;
        let params: &'static P = match id {
            Poseidon2HorizenGoldilocksT8 => {
                cached!(
                    P,
                    grain_instance(id, h, canonical_diag(&hd::HORIZEN_GOLDILOCKS_8))
                )
            }
            Poseidon2HorizenGoldilocksT12 => {
                cached!(
                    P,
                    grain_instance(id, h, canonical_diag(&hd::HORIZEN_GOLDILOCKS_12))
                )
            }
            Poseidon2HorizenGoldilocksT16 => {
                cached!(
                    P,
                    grain_instance(id, h, canonical_diag(&hd::HORIZEN_GOLDILOCKS_16))
                )
            }
            Poseidon2HorizenGoldilocksT20 => {
                cached!(
                    P,
                    grain_instance(id, h, canonical_diag(&hd::HORIZEN_GOLDILOCKS_20))
                )
            }
            Poseidon2Plonky3GoldilocksT8 => {
                cached!(P, grain_instance(id, p, plonky3_diag(&p3::GOLDILOCKS_8)))
            }
            Poseidon2Plonky3GoldilocksT12 => {
                cached!(P, grain_instance(id, p, plonky3_diag(&p3::GOLDILOCKS_12)))
            }
            Poseidon2Plonky3GoldilocksT16 => {
                cached!(P, grain_instance(id, p, plonky3_diag(&p3::GOLDILOCKS_16)))
            }
            _ => return Err(mismatch(id, FieldId::Goldilocks)),
        };
        Ok(Instance::Poseidon2(params))
    }
}

impl HashField for BabyBear {
    fn instance(id: HashId) -> Result<Instance<Self>, HashError> {
        use plonky3_diagonals as p3;
        use HashId::*;
        type P = Poseidon2Params<BabyBear>;
        let h = ExternalMatrix::Horizen;
        let p = ExternalMatrix::Plonky3;
        let params: &'static P = match id {
            Poseidon2HorizenBabyBearT16 => {
                cached!(
                    P,
                    grain_instance(id, h, canonical_diag(&hd::HORIZEN_BABYBEAR_16))
                )
            }
            Poseidon2HorizenBabyBearT24 => {
                cached!(
                    P,
                    grain_instance(id, h, canonical_diag(&hd::HORIZEN_BABYBEAR_24))
                )
            }
            Poseidon2Plonky3BabyBearT16 => {
                cached!(P, grain_instance(id, p, plonky3_diag(&p3::BABYBEAR_16)))
            }
            Poseidon2Plonky3BabyBearT24 => {
                cached!(P, grain_instance(id, p, plonky3_diag(&p3::BABYBEAR_24)))
            }
            Poseidon2Plonky3BabyBearT32 => {
                cached!(P, grain_instance(id, p, plonky3_diag(&p3::BABYBEAR_32)))
            }
            _ => return Err(mismatch(id, FieldId::BabyBear)),
        };
        Ok(Instance::Poseidon2(params))
    }
}

/// Number of full rounds shared by every instance here.
pub const FULL_ROUNDS: usize = CIRCOM_FULL_ROUNDS;
