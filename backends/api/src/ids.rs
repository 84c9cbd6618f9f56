//! Run-time identifiers for curves, groups, fields and operations.
//!
//! The C ABI and the dispatcher choose at run time; these ids are stable numbers that appear
//! in the C header, in JSON reports and on the command line. Rust callers mostly use the
//! static types ([`crate::curves`]), each of which carries its id as an associated constant.

use core::fmt;
use core::str::FromStr;

macro_rules! id_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $n:literal => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[repr(u32)]
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v = $n),+ }

        impl $name {
            /// Every value, in id order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The stable numeric id.
            pub const fn as_u32(self) -> u32 { self as u32 }

            /// The value with this numeric id.
            pub const fn from_u32(v: u32) -> Option<Self> {
                match v { $($n => Some($name::$v),)+ _ => None }
            }

            /// The stable lower-case name used on the command line and in reports.
            pub const fn name(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.name()) }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let l = s.to_ascii_lowercase().replace('-', "_");
                $(if l == $s.replace('-', "_") { return Ok($name::$v); })+
                Err(format!("unknown {} '{}' (expected one of: {})", stringify!($name), s,
                    [$($s),+].join(", ")))
            }
        }
    };
}

id_enum! {
    /// A pairing-friendly curve.
    CurveId {
        /// BN254 (alt_bn128), the Ethereum precompile curve.
        Bn254 = 1 => "bn254",
        /// BLS12-381.
        Bls12_381 = 2 => "bls12-381",
        /// BLS12-377.
        Bls12_377 = 3 => "bls12-377",
    }
}

id_enum! {
    /// A group of a curve.
    GroupId {
        /// The group over the base field.
        G1 = 1 => "g1",
        /// The group over the quadratic extension (BN254 and BLS12-381).
        G2 = 2 => "g2",
    }
}

id_enum! {
    /// A prime field.
    FieldId {
        /// BN254 scalar field `r`.
        Bn254Fr = 1 => "bn254-fr",
        /// BLS12-381 scalar field.
        Bls12_381Fr = 2 => "bls12-381-fr",
        /// BLS12-377 scalar field.
        Bls12_377Fr = 3 => "bls12-377-fr",
        /// Goldilocks, `2⁶⁴ − 2³² + 1`.
        Goldilocks = 4 => "goldilocks",
        /// BabyBear, `15·2²⁷ + 1`.
        BabyBear = 5 => "babybear",
        /// BN254 base field `q`.
        Bn254Fq = 6 => "bn254-fq",
        /// BLS12-381 base field.
        Bls12_381Fq = 7 => "bls12-381-fq",
        /// BLS12-377 base field.
        Bls12_377Fq = 8 => "bls12-377-fq",
    }
}

id_enum! {
    /// An operation a backend may support.
    OpId {
        /// Multi-scalar multiplication.
        Msm = 1 => "msm",
        /// Number-theoretic transform.
        Ntt = 2 => "ntt",
        /// Poseidon / Poseidon2 hashing (reserved for the hashing issue).
        Hash = 3 => "hash",
    }
}

impl CurveId {
    /// The scalar field of the curve.
    pub const fn scalar_field(self) -> FieldId {
        match self {
            CurveId::Bn254 => FieldId::Bn254Fr,
            CurveId::Bls12_381 => FieldId::Bls12_381Fr,
            CurveId::Bls12_377 => FieldId::Bls12_377Fr,
        }
    }

    /// The base field of the curve.
    pub const fn base_field(self) -> FieldId {
        match self {
            CurveId::Bn254 => FieldId::Bn254Fq,
            CurveId::Bls12_381 => FieldId::Bls12_381Fq,
            CurveId::Bls12_377 => FieldId::Bls12_377Fq,
        }
    }
}

impl FieldId {
    /// Size in bytes of one element in storage form.
    pub const fn element_bytes(self) -> usize {
        match self {
            FieldId::Bn254Fr | FieldId::Bls12_381Fr | FieldId::Bls12_377Fr | FieldId::Bn254Fq => 32,
            FieldId::Bls12_381Fq | FieldId::Bls12_377Fq => 48,
            FieldId::Goldilocks => 8,
            FieldId::BabyBear => 4,
        }
    }

    /// True for the fields the NTT is defined over (the three scalar fields and the two
    /// STARK fields).
    pub const fn is_ntt_field(self) -> bool {
        !matches!(
            self,
            FieldId::Bn254Fq | FieldId::Bls12_381Fq | FieldId::Bls12_377Fq
        )
    }
}

/// A (curve, group) pair: what an MSM runs over.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurveGroupId {
    /// The curve.
    pub curve: CurveId,
    /// The group.
    pub group: GroupId,
}

impl CurveGroupId {
    /// Every (curve, group) pair the runtime knows.
    pub const ALL: &'static [CurveGroupId] = &[
        CurveGroupId::new(CurveId::Bn254, GroupId::G1),
        CurveGroupId::new(CurveId::Bn254, GroupId::G2),
        CurveGroupId::new(CurveId::Bls12_381, GroupId::G1),
        CurveGroupId::new(CurveId::Bls12_381, GroupId::G2),
        CurveGroupId::new(CurveId::Bls12_377, GroupId::G1),
    ];

    /// Builds the pair (not checked: see [`CurveGroupId::is_known`]).
    pub const fn new(curve: CurveId, group: GroupId) -> Self {
        Self { curve, group }
    }

    /// True for the pairs the runtime has types for.
    pub fn is_known(self) -> bool {
        Self::ALL.contains(&self)
    }
}

impl fmt::Display for CurveGroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.curve, self.group)
    }
}

impl FromStr for CurveGroupId {
    type Err = String;
    /// Parses `bn254-g1`, `bls12-381-g2`, …
    fn from_str(s: &str) -> Result<Self, String> {
        let l = s.to_ascii_lowercase();
        let (c, g) = l
            .rsplit_once(['-', '_'])
            .ok_or_else(|| format!("expected CURVE-GROUP such as bn254-g1, got '{s}'"))?;
        let id = CurveGroupId::new(c.parse()?, g.parse()?);
        if id.is_known() {
            Ok(id)
        } else {
            Err(format!("{id} is not supported"))
        }
    }
}
