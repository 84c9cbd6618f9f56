//! Montgomery multiplication and squaring for 4- and 6-limb moduli: a `mulx`/`adcx`/`adox`
//! assembly product for x86-64 CPUs with BMI2 and ADX, selected at run time, and the portable
//! Rust product everywhere else.
//!
//! # Which path runs
//!
//! [`mont_mul`] and [`mont_sqr`] are what [`Fp`](super::Fp) uses. On x86-64 they test
//! [`has_mulx_adx`] (one relaxed load of a cached flag, a branch that is always taken the same
//! way, so the predictor hides it) and run the assembly for `N = 4` and `N = 6`; when the
//! crate is compiled with `-C target-feature=+bmi2,+adx` (or a `target-cpu` that has them) the
//! test folds away at compile time. Every other case runs [`limbs::mont_mul`] /
//! [`mont_sqr_portable`]. The individual products are public so that tests can force either
//! path, and so that kernels with their own reduction strategy (the NTT's lazily reduced
//! butterflies) can call the unreduced product directly after checking [`has_mulx_adx`] once.
//!
//! The final conditional subtraction of every product ([`reduce_once`], 4 and 6 limbs) and
//! `Fp`'s addition and subtraction (4 limbs: [`add_mod4_x86`], [`sub_mod4_x86`]) are also
//! written out on x86-64, with baseline instructions only (`sub`/`sbb`/`adc` chains and
//! `cmov`), so they need no detection. The portable forms move each borrow through a general
//! register; an addition and a subtraction in a chain went from 8 to 6 ns (BN254) and from 14
//! to 10 ns (BLS12-381, with the assembly `reduce_once`) in `bench_products`. For 6 limbs the
//! addition and subtraction stay portable: written out, the operands do not fit in the free
//! registers, and the version through a scratch buffer was slower (14 ns against 10 ns for an
//! addition and a subtraction in a chain).
//!
//! # The products and their bounds
//!
//! All products are CIOS Montgomery multiplication (Koç, Acar, Kaliski, "Analyzing and
//! comparing Montgomery multiplication algorithms", IEEE Micro 16(3), 1996) in the "no-carry"
//! form of the gnark-crypto note "Faster big-integer modular multiplication for most moduli"
//! (G. Botrel, Y. El Housni, ConsenSys 2020): the running value of each outer step is kept in
//! `N + 1` words and the extra top word of textbook CIOS is dropped. The unreduced products
//! (`*_unreduced`, no final subtraction) compute `(a·b + m·p)/R` exactly, with `R = 2^(64N)`,
//! under the single condition
//!
//! > `a + p < 2^(64N)` (for any `b < 2^(64N)`),
//!
//! because each outer step maps a running value `r < a + p` to
//! `(r + a·bᵢ + k·p)/2⁶⁴ ≤ (r − a − p)/2⁶⁴ + a + p < a + p`, so every running value fits in
//! `N` words and the `N + 1`-word sums never wrap. The result is `≡ a·b·R⁻¹ (mod p)` and
//! below `a·b/R + p`. With `a, b < p` and `p < 2^(64N − 1)` (a spare top bit, which
//! [`Fp`](super::Fp) checks at compile time) it is below `2p`, and the reduced products
//! ([`mont_mul`], [`mont_sqr`]) finish with one branch-free conditional subtraction. With
//! `a < 2p`, `b < p` and `p < 2^(64N − 2)` (the NTT's lazy butterflies) it is below `1.5p`.
//!
//! The squaring is the same product with both operands equal for the assembly path (a
//! separate squaring schedule saves 6 of 32 multiplications for 4 limbs but adds a doubling
//! chain; measured, it did not pay for itself; see the crate's field micro-benchmark), and a
//! dedicated SOS ("separated operand scanning") squaring for the portable path, which halves
//! the off-diagonal products before a word-by-word Montgomery reduction.

use super::limbs;
use core::sync::atomic::{AtomicU8, Ordering};

/// The modulus `p` followed by `−p⁻¹ mod 2⁶⁴`, contiguous, as the assembly reads them.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MontConsts<const N: usize> {
    /// The modulus, little-endian limbs.
    pub p: [u64; N],
    /// `−p⁻¹ mod 2⁶⁴`.
    pub inv: u64,
}

impl<const N: usize> MontConsts<N> {
    /// The constants of the odd modulus `p`.
    pub const fn new(p: [u64; N]) -> Self {
        Self {
            p,
            inv: limbs::mont_inv(p[0]),
        }
    }
}

/// Cached CPU detection: 0 = not yet known, 1 = absent, 2 = present.
static MULX_ADX: AtomicU8 = AtomicU8::new(0);

/// True when the CPU has BMI2 (`mulx`) and ADX (`adcx`/`adox`), so that the assembly products
/// may run. Detected once and cached; constant `true` when the crate is compiled with both
/// target features enabled, constant `false` off x86-64.
#[inline(always)]
pub fn has_mulx_adx() -> bool {
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "bmi2",
        target_feature = "adx"
    ))]
    {
        true
    }
    #[cfg(all(
        target_arch = "x86_64",
        not(all(target_feature = "bmi2", target_feature = "adx"))
    ))]
    {
        match MULX_ADX.load(Ordering::Relaxed) {
            2 => true,
            1 => false,
            _ => detect_mulx_adx(),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = &MULX_ADX;
        false
    }
}

/// The slow path of [`has_mulx_adx`]: asks the CPU and caches the answer.
#[cold]
#[inline(never)]
#[allow(dead_code)]
fn detect_mulx_adx() -> bool {
    #[cfg(target_arch = "x86_64")]
    let yes =
        std::arch::is_x86_feature_detected!("bmi2") && std::arch::is_x86_feature_detected!("adx");
    #[cfg(not(target_arch = "x86_64"))]
    let yes = false;
    MULX_ADX.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
    yes
}

/// `r − p` when `r ≥ p`, else `r`, without a data-dependent branch (for `r < 2p`).
///
/// On x86-64 with 4 or 6 limbs this is one `sub`/`sbb` chain and a `cmovc` per limb
/// ([`reduce4_x86`], [`reduce6_x86`]): the portable form below compiles to a chain that moves
/// every borrow through a general register, and measured in a dependent chain after a
/// product it cost about as much as the product itself.
#[inline(always)]
pub fn reduce_once<const N: usize>(r: [u64; N], p: &[u64; N]) -> [u64; N] {
    #[cfg(target_arch = "x86_64")]
    {
        if N == 4 {
            return back(reduce4_x86(same(&r), same(p)));
        }
        if N == 6 {
            return back(reduce6_x86(same(&r), same(p)));
        }
    }
    reduce_once_portable(r, p)
}

/// The portable [`reduce_once`].
#[inline(always)]
pub fn reduce_once_portable<const N: usize>(r: [u64; N], p: &[u64; N]) -> [u64; N] {
    let (d, borrow) = limbs::sub(&r, p);
    // borrow = 1: r < p, keep r.
    let keep = borrow.wrapping_neg();
    let mut out = [0u64; N];
    for i in 0..N {
        out[i] = (r[i] & keep) | (d[i] & !keep);
    }
    out
}

/// [`reduce_once`] for 4 limbs: `d = r − p` by `sub`/`sbb`, then `cmovc` keeps `r` where the
/// subtraction borrowed (`r < p`). Baseline x86-64 instructions only.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn reduce4_x86(r: &[u64; 4], p: &[u64; 4]) -> [u64; 4] {
    let [mut d0, mut d1, mut d2, mut d3] = *r;
    // SAFETY: baseline x86-64 instructions; reads the 4 words of `p` through a valid
    // reference and writes only the listed registers and the flags.
    unsafe {
        core::arch::asm!(
            "sub {d0}, qword ptr [{p}]",
            "sbb {d1}, qword ptr [{p} + 8]",
            "sbb {d2}, qword ptr [{p} + 16]",
            "sbb {d3}, qword ptr [{p} + 24]",
            "cmovc {d0}, {r0}",
            "cmovc {d1}, {r1}",
            "cmovc {d2}, {r2}",
            "cmovc {d3}, {r3}",
            d0 = inout(reg) d0,
            d1 = inout(reg) d1,
            d2 = inout(reg) d2,
            d3 = inout(reg) d3,
            r0 = in(reg) r[0],
            r1 = in(reg) r[1],
            r2 = in(reg) r[2],
            r3 = in(reg) r[3],
            p = in(reg) p.as_ptr(),
            options(pure, readonly, nostack),
        );
    }
    [d0, d1, d2, d3]
}

/// [`reduce_once`] for 6 limbs, as [`reduce4_x86`] (the kept value is read from memory: 6
/// limbs twice would not fit in the free registers).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn reduce6_x86(r: &[u64; 6], p: &[u64; 6]) -> [u64; 6] {
    let [mut d0, mut d1, mut d2, mut d3, mut d4, mut d5] = *r;
    // SAFETY: baseline x86-64 instructions; reads the 6 words of `r` and of `p` through valid
    // references and writes only the listed registers and the flags.
    unsafe {
        core::arch::asm!(
            "sub {d0}, qword ptr [{p}]",
            "sbb {d1}, qword ptr [{p} + 8]",
            "sbb {d2}, qword ptr [{p} + 16]",
            "sbb {d3}, qword ptr [{p} + 24]",
            "sbb {d4}, qword ptr [{p} + 32]",
            "sbb {d5}, qword ptr [{p} + 40]",
            "cmovc {d0}, qword ptr [{r}]",
            "cmovc {d1}, qword ptr [{r} + 8]",
            "cmovc {d2}, qword ptr [{r} + 16]",
            "cmovc {d3}, qword ptr [{r} + 24]",
            "cmovc {d4}, qword ptr [{r} + 32]",
            "cmovc {d5}, qword ptr [{r} + 40]",
            d0 = inout(reg) d0,
            d1 = inout(reg) d1,
            d2 = inout(reg) d2,
            d3 = inout(reg) d3,
            d4 = inout(reg) d4,
            d5 = inout(reg) d5,
            r = in(reg) r.as_ptr(),
            p = in(reg) p.as_ptr(),
            options(pure, readonly, nostack),
        );
    }
    [d0, d1, d2, d3, d4, d5]
}

/// `(a + b) mod p` for `a, b < p < 2^255` (4 limbs): an `add`/`adc` chain (no carry out:
/// `a + b < 2p < 2^256`), then [`reduce4_x86`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn add_mod4_x86(a: &[u64; 4], b: &[u64; 4], p: &[u64; 4]) -> [u64; 4] {
    let [mut s0, mut s1, mut s2, mut s3] = *a;
    // SAFETY: baseline x86-64 instructions; reads the 4 words of `b` through a valid reference
    // and writes only the listed registers and the flags.
    unsafe {
        core::arch::asm!(
            "add {s0}, qword ptr [{b}]",
            "adc {s1}, qword ptr [{b} + 8]",
            "adc {s2}, qword ptr [{b} + 16]",
            "adc {s3}, qword ptr [{b} + 24]",
            s0 = inout(reg) s0,
            s1 = inout(reg) s1,
            s2 = inout(reg) s2,
            s3 = inout(reg) s3,
            b = in(reg) b.as_ptr(),
            options(pure, readonly, nostack),
        );
    }
    reduce4_x86(&[s0, s1, s2, s3], p)
}

/// `(a − b) mod p` for `a, b < p` (4 limbs): a `sub`/`sbb` chain whose borrow is saved as a
/// mask, `d + p` by `add`/`adc`, and `cmovnz` picks `d + p` where the subtraction borrowed.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn sub_mod4_x86(a: &[u64; 4], b: &[u64; 4], p: &[u64; 4]) -> [u64; 4] {
    let [mut d0, mut d1, mut d2, mut d3] = *a;
    // SAFETY: baseline x86-64 instructions; reads the 4 words of `b` and of `p` through valid
    // references and writes only the listed registers and the flags.
    unsafe {
        core::arch::asm!(
            "sub {d0}, qword ptr [{b}]",
            "sbb {d1}, qword ptr [{b} + 8]",
            "sbb {d2}, qword ptr [{b} + 16]",
            "sbb {d3}, qword ptr [{b} + 24]",
            "sbb {m}, {m}",
            "mov {t0}, {d0}",
            "mov {t1}, {d1}",
            "mov {t2}, {d2}",
            "mov {t3}, {d3}",
            "add {t0}, qword ptr [{p}]",
            "adc {t1}, qword ptr [{p} + 8]",
            "adc {t2}, qword ptr [{p} + 16]",
            "adc {t3}, qword ptr [{p} + 24]",
            "test {m}, {m}",
            "cmovnz {d0}, {t0}",
            "cmovnz {d1}, {t1}",
            "cmovnz {d2}, {t2}",
            "cmovnz {d3}, {t3}",
            d0 = inout(reg) d0,
            d1 = inout(reg) d1,
            d2 = inout(reg) d2,
            d3 = inout(reg) d3,
            m = out(reg) _,
            t0 = out(reg) _,
            t1 = out(reg) _,
            t2 = out(reg) _,
            t3 = out(reg) _,
            b = in(reg) b.as_ptr(),
            p = in(reg) p.as_ptr(),
            options(pure, readonly, nostack),
        );
    }
    [d0, d1, d2, d3]
}

/// Reinterprets `&[u64; N]` as `&[u64; M]` when `N == M` (checked; free after inlining).
#[inline(always)]
#[allow(dead_code)]
pub(super) fn same<const N: usize, const M: usize>(a: &[u64; N]) -> &[u64; M] {
    a.as_slice().try_into().expect("same length")
}

/// Reinterprets `&MontConsts<N>` as `&MontConsts<M>` when `N == M`.
#[inline(always)]
#[allow(dead_code)]
fn same_consts<const N: usize, const M: usize>(m: &MontConsts<N>) -> &MontConsts<M> {
    assert!(N == M);
    // SAFETY: `N == M`, so both are the same `repr(C)` type with the same layout, and the
    // lifetime is carried over from the input reference.
    unsafe { &*(m as *const MontConsts<N>).cast::<MontConsts<M>>() }
}

/// Widens `[u64; M]` back to `[u64; N]` when `N == M`.
#[inline(always)]
#[allow(dead_code)]
pub(super) fn back<const N: usize, const M: usize>(r: [u64; M]) -> [u64; N] {
    let mut out = [0u64; N];
    out.copy_from_slice(&r);
    out
}

/// `a·b·R⁻¹ mod p` in `[0, p)` for `a, b < p` (`R = 2^(64N)`, `p` with a spare top bit):
/// the assembly product when the CPU allows it and `N ∈ {4, 6}`, the portable one otherwise.
#[inline(always)]
pub fn mont_mul<const N: usize>(a: &[u64; N], b: &[u64; N], m: &MontConsts<N>) -> [u64; N] {
    #[cfg(target_arch = "x86_64")]
    if (N == 4 || N == 6) && has_mulx_adx() {
        return reduce_once(
            // SAFETY: `has_mulx_adx()` reported BMI2 and ADX.
            unsafe { mont_mul_unreduced_adx(a, b, m) },
            &m.p,
        );
    }
    #[cfg(target_arch = "x86_64")]
    if N == 4 || N == 6 {
        // Pre-2014 x86-64 CPUs only: a call keeps the portable body out of every hot loop
        // that inlines the assembly.
        return mont_mul_outlined(a, b, m);
    }
    limbs::mont_mul(a, b, &m.p, m.inv)
}

/// [`limbs::mont_mul`], not inlined.
#[inline(never)]
#[allow(dead_code)]
fn mont_mul_outlined<const N: usize>(a: &[u64; N], b: &[u64; N], m: &MontConsts<N>) -> [u64; N] {
    limbs::mont_mul(a, b, &m.p, m.inv)
}

/// [`mont_sqr_portable`], not inlined.
#[inline(never)]
#[allow(dead_code)]
fn mont_sqr_outlined<const N: usize>(a: &[u64; N], m: &MontConsts<N>) -> [u64; N] {
    mont_sqr_portable(a, m)
}

/// `a²·R⁻¹ mod p` in `[0, p)` for `a < p`; see [`mont_mul`].
#[inline(always)]
pub fn mont_sqr<const N: usize>(a: &[u64; N], m: &MontConsts<N>) -> [u64; N] {
    #[cfg(target_arch = "x86_64")]
    if (N == 4 || N == 6) && has_mulx_adx() {
        return reduce_once(
            // SAFETY: `has_mulx_adx()` reported BMI2 and ADX.
            unsafe { mont_mul_unreduced_adx(a, a, m) },
            &m.p,
        );
    }
    #[cfg(target_arch = "x86_64")]
    if N == 4 || N == 6 {
        return mont_sqr_outlined(a, m);
    }
    mont_sqr_portable(a, m)
}

/// The unreduced assembly product for `N ∈ {4, 6}` (see the module docs for the bounds).
///
/// # Safety
///
/// The CPU must support BMI2 and ADX ([`has_mulx_adx`]). Panics unless `N` is 4 or 6.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn mont_mul_unreduced_adx<const N: usize>(
    a: &[u64; N],
    b: &[u64; N],
    m: &MontConsts<N>,
) -> [u64; N] {
    if N == 4 {
        // SAFETY: forwarded from the caller.
        back(unsafe { mul4_unreduced_adx(same(a), same(b), same_consts(m)) })
    } else if N == 6 {
        // SAFETY: forwarded from the caller.
        back(unsafe { mul6_unreduced_adx(same(a), same(b), same_consts(m)) })
    } else {
        panic!("the assembly product exists for 4 and 6 limbs only")
    }
}

/// One outer CIOS step for 4 limbs: `(A..E) ← r + a·b[i] + k·p` with `k = A·(−p⁻¹)`, where
/// `r` is `A..D` on entry; `A` ends at zero and the new `r` is `B..E`. Two carry chains run
/// interleaved, `adcx` on CF for the low halves of the products and `adox` on OF for the high
/// halves (the scheme of Gopal et al., "Large integer squaring on Intel architecture
/// processors", Intel white paper, 2013). `{z}` is written with zero by `mov`, which leaves
/// the flags alone, to absorb the last carries.
#[cfg(target_arch = "x86_64")]
macro_rules! step4 {
    ($i:literal, $A:literal, $B:literal, $C:literal, $D:literal, $E:literal) => {
        concat!(
            "mov rdx, qword ptr [{b} + 8*",
            $i,
            "]\n",
            "xor {t0:e}, {t0:e}\n",
            "mulx {t1}, {t0}, qword ptr [{a}]\n",
            "adcx {",
            $A,
            "}, {t0}\n",
            "adox {",
            $B,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{a} + 8]\n",
            "adcx {",
            $B,
            "}, {t0}\n",
            "adox {",
            $C,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{a} + 16]\n",
            "adcx {",
            $C,
            "}, {t0}\n",
            "adox {",
            $D,
            "}, {t1}\n",
            "mulx {",
            $E,
            "}, {t0}, qword ptr [{a} + 24]\n",
            "adcx {",
            $D,
            "}, {t0}\n",
            "mov {t1:e}, 0\n",
            "adox {",
            $E,
            "}, {t1}\n",
            "adcx {",
            $E,
            "}, {t1}\n",
            "mov rdx, {",
            $A,
            "}\n",
            "imul rdx, qword ptr [{p} + 32]\n",
            "xor {t0:e}, {t0:e}\n",
            "mulx {t1}, {t0}, qword ptr [{p}]\n",
            "adcx {",
            $A,
            "}, {t0}\n",
            "adox {",
            $B,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{p} + 8]\n",
            "adcx {",
            $B,
            "}, {t0}\n",
            "adox {",
            $C,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{p} + 16]\n",
            "adcx {",
            $C,
            "}, {t0}\n",
            "adox {",
            $D,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{p} + 24]\n",
            "adcx {",
            $D,
            "}, {t0}\n",
            "adox {",
            $E,
            "}, {t1}\n",
            "mov {t0:e}, 0\n",
            "adcx {",
            $E,
            "}, {t0}\n",
        )
    };
}

/// [`step4`] for 6 limbs: `r` is `A..F` on entry and `B..G` on exit.
#[cfg(target_arch = "x86_64")]
macro_rules! step6 {
    ($i:literal, $A:literal, $B:literal, $C:literal, $D:literal, $E:literal, $F:literal,
     $G:literal) => {
        concat!(
            "mov rdx, qword ptr [{b} + 8*",
            $i,
            "]\n",
            "xor {t0:e}, {t0:e}\n",
            "mulx {t1}, {t0}, qword ptr [{a}]\n",
            "adcx {",
            $A,
            "}, {t0}\n",
            "adox {",
            $B,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{a} + 8]\n",
            "adcx {",
            $B,
            "}, {t0}\n",
            "adox {",
            $C,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{a} + 16]\n",
            "adcx {",
            $C,
            "}, {t0}\n",
            "adox {",
            $D,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{a} + 24]\n",
            "adcx {",
            $D,
            "}, {t0}\n",
            "adox {",
            $E,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{a} + 32]\n",
            "adcx {",
            $E,
            "}, {t0}\n",
            "adox {",
            $F,
            "}, {t1}\n",
            "mulx {",
            $G,
            "}, {t0}, qword ptr [{a} + 40]\n",
            "adcx {",
            $F,
            "}, {t0}\n",
            "mov {t1:e}, 0\n",
            "adox {",
            $G,
            "}, {t1}\n",
            "adcx {",
            $G,
            "}, {t1}\n",
            "mov rdx, {",
            $A,
            "}\n",
            "imul rdx, qword ptr [{p} + 48]\n",
            "xor {t0:e}, {t0:e}\n",
            "mulx {t1}, {t0}, qword ptr [{p}]\n",
            "adcx {",
            $A,
            "}, {t0}\n",
            "adox {",
            $B,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{p} + 8]\n",
            "adcx {",
            $B,
            "}, {t0}\n",
            "adox {",
            $C,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{p} + 16]\n",
            "adcx {",
            $C,
            "}, {t0}\n",
            "adox {",
            $D,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{p} + 24]\n",
            "adcx {",
            $D,
            "}, {t0}\n",
            "adox {",
            $E,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{p} + 32]\n",
            "adcx {",
            $E,
            "}, {t0}\n",
            "adox {",
            $F,
            "}, {t1}\n",
            "mulx {t1}, {t0}, qword ptr [{p} + 40]\n",
            "adcx {",
            $F,
            "}, {t0}\n",
            "adox {",
            $G,
            "}, {t1}\n",
            "mov {t0:e}, 0\n",
            "adcx {",
            $G,
            "}, {t0}\n",
        )
    };
}

/// The 4-limb unreduced CIOS product in `mulx`/`adcx`/`adox` assembly: `(a·b + m·p)/2²⁵⁶`,
/// `≡ a·b·2⁻²⁵⁶ (mod p)`, for `a + p < 2²⁵⁶` (see the module docs), word for word the same
/// as the portable CIOS loop without its final subtraction.
///
/// # Safety
///
/// The CPU must support BMI2 and ADX ([`has_mulx_adx`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn mul4_unreduced_adx(a: &[u64; 4], b: &[u64; 4], m: &MontConsts<4>) -> [u64; 4] {
    let (mut r0, mut r1, mut r2, r3, mut r4) = (0u64, 0u64, 0u64, 0u64, 0u64);
    // SAFETY: the caller guarantees BMI2/ADX. The assembly reads `a`, `b` (4 words each) and
    // `m` (5 words, `repr(C)`) through valid references, writes only the listed registers and
    // the flags, and does not touch the stack.
    unsafe {
        core::arch::asm!(
            step4!(0, "r0", "r1", "r2", "r3", "r4"),
            step4!(1, "r1", "r2", "r3", "r4", "r0"),
            step4!(2, "r2", "r3", "r4", "r0", "r1"),
            step4!(3, "r3", "r4", "r0", "r1", "r2"),
            a = in(reg) a.as_ptr(),
            b = in(reg) b.as_ptr(),
            p = in(reg) (m as *const MontConsts<4>).cast::<u64>(),
            t0 = out(reg) _,
            t1 = out(reg) _,
            r0 = inout(reg) r0,
            r1 = inout(reg) r1,
            r2 = inout(reg) r2,
            r3 = inout(reg) r3 => _,
            r4 = inout(reg) r4,
            out("rdx") _,
            options(pure, readonly, nostack),
        );
    }
    [r4, r0, r1, r2]
}

/// The 6-limb unreduced CIOS product in `mulx`/`adcx`/`adox` assembly; see
/// [`mul4_unreduced_adx`] (condition `a + p < 2³⁸⁴`).
///
/// # Safety
///
/// The CPU must support BMI2 and ADX ([`has_mulx_adx`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn mul6_unreduced_adx(a: &[u64; 6], b: &[u64; 6], m: &MontConsts<6>) -> [u64; 6] {
    let (mut r0, mut r1, mut r2, mut r3, mut r4, r5, mut r6) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    // SAFETY: the caller guarantees BMI2/ADX. The assembly reads `a`, `b` (6 words each) and
    // `m` (7 words, `repr(C)`) through valid references, writes only the listed registers and
    // the flags, and does not touch the stack.
    unsafe {
        core::arch::asm!(
            step6!(0, "r0", "r1", "r2", "r3", "r4", "r5", "r6"),
            step6!(1, "r1", "r2", "r3", "r4", "r5", "r6", "r0"),
            step6!(2, "r2", "r3", "r4", "r5", "r6", "r0", "r1"),
            step6!(3, "r3", "r4", "r5", "r6", "r0", "r1", "r2"),
            step6!(4, "r4", "r5", "r6", "r0", "r1", "r2", "r3"),
            step6!(5, "r5", "r6", "r0", "r1", "r2", "r3", "r4"),
            a = in(reg) a.as_ptr(),
            b = in(reg) b.as_ptr(),
            p = in(reg) (m as *const MontConsts<6>).cast::<u64>(),
            t0 = out(reg) _,
            t1 = out(reg) _,
            r0 = inout(reg) r0,
            r1 = inout(reg) r1,
            r2 = inout(reg) r2,
            r3 = inout(reg) r3,
            r4 = inout(reg) r4,
            r5 = inout(reg) r5 => _,
            r6 = inout(reg) r6,
            out("rdx") _,
            options(pure, readonly, nostack),
        );
    }
    [r6, r0, r1, r2, r3, r4]
}

/// Portable Montgomery squaring `a²·R⁻¹ mod p` in `[0, p)` for `a < p`, `N ≤ 8`, `p` with a
/// spare top bit: the full square with each off-diagonal product computed once and doubled
/// (SOS, Koç–Acar–Kaliski 1996, §3), then `N` word-by-word Montgomery reduction steps.
///
/// Bounds: the square is below `p²`, the reduction adds `m·p < R·p`, and
/// `p² + R·p < 2^(128N)` as `p < R/2`, so the `2N`-word accumulator never overflows; the
/// result `(a² + m·p)/R < p²/R + p < 2p` takes one conditional subtraction.
#[inline(always)]
pub fn mont_sqr_portable<const N: usize>(a: &[u64; N], m: &MontConsts<N>) -> [u64; N] {
    const { assert!(N <= 8 && N > 0) };
    let mut t = [0u64; 16];
    // Off-diagonal products a_i·a_j, i < j.
    for i in 0..N {
        let mut carry = 0;
        for j in (i + 1)..N {
            let (lo, hi) = limbs::mac(t[i + j], a[i], a[j], carry);
            t[i + j] = lo;
            carry = hi;
        }
        t[i + N] = carry;
    }
    // Double them.
    t[2 * N - 1] = t[2 * N - 2] >> 63;
    for k in (2..2 * N - 1).rev() {
        t[k] = (t[k] << 1) | (t[k - 1] >> 63);
    }
    t[1] <<= 1;
    // Add the squares a_i² on the diagonal.
    let mut carry = 0;
    for i in 0..N {
        let (lo, hi) = limbs::mac(t[2 * i], a[i], a[i], carry);
        t[2 * i] = lo;
        let (s, c) = limbs::adc(t[2 * i + 1], hi, 0);
        t[2 * i + 1] = s;
        carry = c;
    }
    // Montgomery reduction, one word at a time; `extra` carries into word i + N + 1.
    let mut extra = 0;
    for i in 0..N {
        let k = t[i].wrapping_mul(m.inv);
        let mut carry = 0;
        for j in 0..N {
            let (lo, hi) = limbs::mac(t[i + j], k, m.p[j], carry);
            t[i + j] = lo;
            carry = hi;
        }
        let (s, c) = limbs::adc(t[i + N], carry, extra);
        t[i + N] = s;
        extra = c;
    }
    let mut r = [0u64; N];
    r.copy_from_slice(&t[N..2 * N]);
    reduce_once(r, &m.p)
}
