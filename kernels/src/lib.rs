//! # zkaccel-kernels
//!
//! The device code of zkaccel's GPU backends, and the assembly of one program per operation
//! and curve or field.
//!
//! The kernels live in `kernels/gpu/` as portable C: one text that compiles as OpenCL C 1.2
//! (with `kernels/opencl/prelude.h`) and as CUDA C++ through NVRTC (with
//! `kernels/cuda/prelude.cuh`). The preludes define the few names the kernels use: `u32`,
//! `u64`, `KERNEL`, `GLOBAL`, `LOCAL`, `DEVICE`, work-item indices, barriers, `ATOMIC_INC` and
//! `MUL_HI64`.
//!
//! Fields and curves are *templates* (`field_mont.h`, `field_goldilocks.h`,
//! `field_monty31.h`, `field_ext2.h`, `curve_xyzz.h`) instantiated here by prepending
//! `#define`s. The constants come from the Rust field types ([`PrimeField`]), so a field
//! is described once, by its parameters, for the CPU and every device alike; nothing in
//! `kernels/gpu/` names a particular modulus.
//!
//! Every source is embedded in the binary (`include_str!`): nothing is read from disk at run
//! time. A [`ProgramSource`] carries a name for logs and errors and the full text, whose
//! hash the backends use as their compile-cache key.

mod hash;
pub mod host;
mod ntt;

pub use hash::{hash_constants, hash_program, SPONGE_FIRST, SPONGE_LAST};
pub use ntt::ntt_program;

use zkaccel_backend::field::PrimeField;
use zkaccel_backend::{with_prime_field, CurveGroupId, FieldId, GroupId};

/// The language a program is assembled for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// OpenCL C 1.2.
    OpenCl,
    /// CUDA C++ compiled by NVRTC.
    Cuda,
}

/// A complete program text, ready for the target's compiler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramSource {
    /// A short name for logs and errors, e.g. `msm_bn254_g1`.
    pub name: String,
    /// The target it was assembled for.
    pub target: Target,
    /// The source text.
    pub text: String,
}

impl ProgramSource {
    /// Writes the text to the temporary directory, named by program and text hash
    /// (`zkaccel-<target>-<name>-<hash>.cl` or `.cu`), so that a compiler log's line numbers
    /// can be read against it; returns what to say about it in the error.
    pub fn save_for_log(&self) -> String {
        let (tag, ext) = match self.target {
            Target::OpenCl => ("opencl", "cl"),
            Target::Cuda => ("cuda", "cu"),
        };
        let path = std::env::temp_dir().join(format!(
            "zkaccel-{tag}-{}-{:016x}.{ext}",
            self.name,
            stable_hash(&[self.text.as_bytes()])
        ));
        match std::fs::write(&path, &self.text) {
            Ok(()) => format!("source written to {}", path.display()),
            Err(_) => "source not saved".to_string(),
        }
    }
}

/// The raw template and kernel files, by name (for tools that want to inspect them).
pub mod files {
    /// OpenCL prelude.
    pub const OPENCL_PRELUDE: &str = include_str!("../opencl/prelude.h");
    /// CUDA prelude.
    pub const CUDA_PRELUDE: &str = include_str!("../cuda/prelude.cuh");
    /// Shared macros.
    pub const COMMON: &str = include_str!("../gpu/common.h");
    /// Montgomery prime field template (multi-limb).
    pub const FIELD_MONT: &str = include_str!("../gpu/field_mont.h");
    /// Goldilocks field template.
    pub const FIELD_GOLDILOCKS: &str = include_str!("../gpu/field_goldilocks.h");
    /// 31-bit Montgomery field template (BabyBear).
    pub const FIELD_MONTY31: &str = include_str!("../gpu/field_monty31.h");
    /// Quadratic extension template.
    pub const FIELD_EXT2: &str = include_str!("../gpu/field_ext2.h");
    /// Curve arithmetic template (XYZZ).
    pub const CURVE_XYZZ: &str = include_str!("../gpu/curve_xyzz.h");
    /// Device prefix sums.
    pub const SCAN: &str = include_str!("../gpu/scan.h");
    /// MSM kernels.
    pub const MSM: &str = include_str!("../gpu/msm.h");
    /// NTT kernels.
    pub const NTT: &str = include_str!("../gpu/ntt.h");
    /// Poseidon and Poseidon2 kernels.
    pub const POSEIDON: &str = include_str!("../gpu/poseidon.h");
}

/// Starts a program: the target's prelude and the shared macros.
pub fn program_start(target: Target) -> String {
    let mut s = String::with_capacity(64 * 1024);
    s.push_str(match target {
        Target::OpenCl => files::OPENCL_PRELUDE,
        Target::Cuda => files::CUDA_PRELUDE,
    });
    s.push('\n');
    s.push_str(files::COMMON);
    s.push('\n');
    s
}

/// Appends `file` under a `#line`-free banner naming it (so compiler logs can be traced).
pub fn push_file(s: &mut String, name: &str, file: &str) {
    s.push_str(&format!("\n/* ---- {name} ---- */\n"));
    s.push_str(file);
    s.push('\n');
}

fn brace_list(words: &[u32]) -> String {
    let items: Vec<String> = words.iter().map(|w| format!("0x{w:08x}u")).collect();
    format!("{{{}}}", items.join(", "))
}

fn u32_words(limbs: &[u64]) -> Vec<u32> {
    limbs
        .iter()
        .flat_map(|&l| [l as u32, (l >> 32) as u32])
        .collect()
}

/// `x⁻¹ mod 2³²` for odd `x` (Newton iteration, five steps from a 3-bit seed).
fn inv_mod_2_32(x: u32) -> u32 {
    let mut y = x; // correct to 3 bits for odd x
    for _ in 0..5 {
        y = y.wrapping_mul(2u32.wrapping_sub(x.wrapping_mul(y)));
    }
    y
}

fn instantiate(s: &mut String, defines: &[(&str, String)], template_name: &str, template: &str) {
    for (k, v) in defines {
        s.push_str(&format!("#define {k} {v}\n"));
    }
    push_file(s, template_name, template);
    for (k, _) in defines {
        s.push_str(&format!("#undef {k}\n"));
    }
}

/// Appends an instance of prime field `F` named `prefix` (`prefix_t`, `prefix_mul`, ...),
/// choosing the template by the field's storage: multi-limb Montgomery, Goldilocks
/// (canonical u64) or a 31-bit Montgomery field.
pub fn push_field<F: PrimeField>(s: &mut String, prefix: &str) {
    let p = F::modulus();
    let p = p.as_ref();
    match F::ID {
        FieldId::Goldilocks => instantiate(
            s,
            &[("FIELD", prefix.into())],
            "field_goldilocks.h",
            files::FIELD_GOLDILOCKS,
        ),
        FieldId::BabyBear => {
            let p32 = p[0] as u32;
            let r = ((1u64 << 32) % p[0]) as u32;
            instantiate(
                s,
                &[
                    ("FIELD", prefix.into()),
                    ("FIELD_P", format!("0x{p32:08x}u")),
                    ("FIELD_MU", format!("0x{:08x}u", inv_mod_2_32(p32))),
                    ("FIELD_R", format!("0x{r:08x}u")),
                ],
                "field_monty31.h",
                files::FIELD_MONTY31,
            )
        }
        _ => {
            let pw = u32_words(p);
            let one = F::ONE.to_montgomery();
            let inv = inv_mod_2_32(pw[0]).wrapping_neg();
            instantiate(
                s,
                &[
                    ("FIELD", prefix.into()),
                    ("LIMBS", pw.len().to_string()),
                    ("FIELD_P", brace_list(&pw)),
                    ("FIELD_R", brace_list(&u32_words(one.as_ref()))),
                    ("FIELD_INV", format!("0x{inv:08x}u")),
                ],
                "field_mont.h",
                files::FIELD_MONT,
            )
        }
    }
}

/// Appends an instance of the prime field with run-time id `field`.
pub fn push_field_id(s: &mut String, field: FieldId, prefix: &str) {
    with_prime_field!(field, |F| push_field::<F>(s, prefix))
}

/// Appends the curve template for `id` as `g`, over coordinates `fp` (G1) or `f2` (G2,
/// the extension of `fp`), with the scalar field as `fr`.
fn push_curve(s: &mut String, id: CurveGroupId) {
    let base = id.curve.base_field();
    let scalar = id.curve.scalar_field();
    push_field_id(s, base, "fp");
    push_field_id(s, scalar, "fr");
    let coord = match id.group {
        GroupId::G1 => "fp",
        GroupId::G2 => {
            instantiate(
                s,
                &[("EXT", "f2".into()), ("BASE", "fp".into())],
                "field_ext2.h",
                files::FIELD_EXT2,
            );
            "f2"
        }
    };
    instantiate(
        s,
        &[("CURVE", "g".into()), ("COORD", coord.into())],
        "curve_xyzz.h",
        files::CURVE_XYZZ,
    );
}

/// The MSM program for (curve, group) `id` (kernels `msm_count`, `msm_scatter`,
/// `msm_accumulate`, `msm_reduce` and the `scan_*` kernels); `None` when the curve is
/// unknown here.
pub fn msm_program(target: Target, id: CurveGroupId) -> Option<ProgramSource> {
    let mut s = program_start(target);
    push_curve(&mut s, id);
    push_file(&mut s, "scan.h", files::SCAN);
    push_file(&mut s, "msm.h", files::MSM);
    Some(ProgramSource {
        name: format!(
            "msm_{}",
            id.to_string().to_ascii_lowercase().replace([' ', '-'], "_")
        ),
        target,
        text: s,
    })
}

/// A stable 64-bit FNV-1a hash of `parts` (lengths included), for cache keys that must not
/// change between Rust releases.
pub fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    for p in parts {
        for b in (p.len() as u64).to_le_bytes() {
            eat(b);
        }
        for &b in *p {
            eat(b);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_mod_2_32() {
        for x in [1u32, 3, 0x7800_0001, 0xd87c_fd47, 0xffff_ffff] {
            assert_eq!(x.wrapping_mul(inv_mod_2_32(x)), 1, "{x:#x}");
        }
    }

    #[test]
    fn every_curve_group_has_an_msm_program() {
        for &id in CurveGroupId::ALL {
            for t in [Target::OpenCl, Target::Cuda] {
                let p = msm_program(t, id).expect("program");
                assert!(p.text.contains("KERNEL void msm_accumulate"));
                assert!(!p.name.contains(' '), "{}", p.name);
            }
        }
    }

    /// Writes every program, for both targets, into `$ZKACCEL_KERNEL_DUMP` (for reading the
    /// assembled text or compiling it offline, e.g. with clang's OpenCL and CUDA front ends).
    #[test]
    #[ignore = "writes files; run with ZKACCEL_KERNEL_DUMP=<dir> -- --ignored"]
    fn dump_programs() {
        let Some(dir) = std::env::var_os("ZKACCEL_KERNEL_DUMP") else {
            eprintln!("SKIPPED: set ZKACCEL_KERNEL_DUMP=<dir>");
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for t in [Target::OpenCl, Target::Cuda] {
            let ext = if t == Target::OpenCl { "cl" } else { "cu" };
            let mut progs: Vec<ProgramSource> = Vec::new();
            progs.extend(
                CurveGroupId::ALL
                    .iter()
                    .filter_map(|&id| msm_program(t, id)),
            );
            progs.extend(FieldId::ALL.iter().filter_map(|&f| ntt_program(t, f)));
            progs.extend(
                zkaccel_backend::hash::HashId::ALL
                    .iter()
                    .filter_map(|&h| hash_program(t, h)),
            );
            for p in progs {
                std::fs::write(dir.join(format!("{}.{ext}", p.name)), &p.text).unwrap();
            }
        }
    }

    #[test]
    fn montgomery_constants_match_the_host() {
        // BN254 Fr: -p^-1 mod 2^32 is the low word of the host's 64-bit INV.
        let mut s = String::new();
        push_field::<zkaccel_backend::curves::Bn254Fr>(&mut s, "fr");
        assert!(s.contains("#define LIMBS 8"));
        assert!(s.contains("0xefffffffu"), "{s}");
    }
}
