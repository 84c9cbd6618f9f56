//! Prime fields of 4 or 6 limbs in Montgomery form, described by their modulus alone.

use super::asm::{self, MontConsts};
use super::limbs;
use super::{Field, PrimeField, TwoAdicField};
use crate::ids::FieldId;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use core::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// The description of a Montgomery prime field: the modulus and a multiplicative generator;
/// the Montgomery constants are derived from them at compile time.
pub trait FpParams<const N: usize>: 'static + Copy + Send + Sync + fmt::Debug + Default {
    /// Run-time identifier.
    const ID: FieldId;
    /// The modulus `p`, little-endian limbs. Its top limb must leave a spare bit.
    const MODULUS: [u64; N];
    /// A multiplicative generator of `F_p^*`, as a small integer.
    const GENERATOR: u64;
    /// The 2-adicity of `p − 1`.
    const TWO_ADICITY: u32;

    /// `R = 2^(64N) mod p`: the Montgomery form of one.
    const R: [u64; N] = limbs::pow2_mod(64 * N as u32, &Self::MODULUS);
    /// `R² mod p`, used to enter Montgomery form.
    const R2: [u64; N] = limbs::pow2_mod(128 * N as u32, &Self::MODULUS);
    /// `R³ mod p`: a Montgomery product with it turns `(x·R)⁻¹` into `x⁻¹·R`.
    const R3: [u64; N] = limbs::pow2_mod(192 * N as u32, &Self::MODULUS);
    /// `−p⁻¹ mod 2⁶⁴`.
    const INV: u64 = limbs::mont_inv(Self::MODULUS[0]);
    /// `p − 2`, the exponent of Fermat inversion.
    const P_MINUS_2: [u64; N] = {
        let mut two = [0u64; N];
        two[0] = 2;
        limbs::sub(&Self::MODULUS, &two).0
    };
    /// `(p − 1) / 2^s`, the odd part of the group order.
    const TRACE: [u64; N] = {
        let mut t = Self::MODULUS;
        t[0] -= 1;
        let mut i = 0;
        while i < Self::TWO_ADICITY {
            t = limbs::shr1(&t);
            i += 1;
        }
        t
    };
}

/// An element of the prime field described by `P`, in Montgomery form.
#[repr(transparent)]
pub struct Fp<P, const N: usize> {
    /// `x·R mod p`, little-endian.
    pub limbs: [u64; N],
    _params: PhantomData<P>,
}

// SAFETY: `Fp` is `repr(transparent)` over `[u64; N]` (PhantomData is zero-sized), so every
// bit pattern is a valid value (range is an invariant of the API, not of memory safety).
unsafe impl<P: FpParams<N>, const N: usize> bytemuck::Zeroable for Fp<P, N> {}
// SAFETY: as above; no padding, no pointers, `Copy + 'static`.
unsafe impl<P: FpParams<N>, const N: usize> bytemuck::Pod for Fp<P, N> {}

impl<P, const N: usize> Clone for Fp<P, N> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, const N: usize> Copy for Fp<P, N> {}
impl<P, const N: usize> PartialEq for Fp<P, N> {
    #[inline(always)]
    fn eq(&self, other: &Self) -> bool {
        self.limbs == other.limbs
    }
}
impl<P, const N: usize> Eq for Fp<P, N> {}
impl<P, const N: usize> Hash for Fp<P, N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.limbs.hash(state)
    }
}
impl<P: FpParams<N>, const N: usize> Default for Fp<P, N> {
    fn default() -> Self {
        Self::ZERO
    }
}

impl<P: FpParams<N>, const N: usize> fmt::Debug for Fp<P, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.to_canonical();
        write!(f, "0x")?;
        for l in c.iter().rev() {
            write!(f, "{l:016x}")?;
        }
        Ok(())
    }
}

impl<P: FpParams<N>, const N: usize> fmt::Display for Fp<P, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl<P: FpParams<N>, const N: usize> Fp<P, N> {
    /// Compile-time check that the no-carry Montgomery multiplication applies.
    const SPARE_BIT: () = assert!(
        P::MODULUS[N - 1] < (u64::MAX >> 1) - 1,
        "modulus needs a spare top bit"
    );

    /// The modulus and `−p⁻¹ mod 2⁶⁴` in the layout the assembly products read.
    pub const CONSTS: MontConsts<N> = MontConsts {
        p: P::MODULUS,
        inv: P::INV,
    };

    /// Wraps limbs that are already in Montgomery form and below `p` (not checked).
    #[inline(always)]
    pub const fn from_montgomery_unchecked(limbs: [u64; N]) -> Self {
        Self {
            limbs,
            _params: PhantomData,
        }
    }

    /// Converts a canonical integer below `p` (checked at compile time when used in a
    /// constant; panics otherwise). For run-time input use [`PrimeField::from_canonical`].
    pub const fn from_canonical_const(v: [u64; N]) -> Self {
        assert!(
            !limbs::geq(&v, &P::MODULUS),
            "constant not below the modulus"
        );
        Self::from_montgomery_unchecked(limbs::mont_mul(&v, &P::R2, &P::MODULUS, P::INV))
    }

    /// Parses a decimal or `0x` hexadecimal canonical constant at compile time.
    pub const fn from_str_const(s: &str) -> Self {
        Self::from_canonical_const(limbs::parse(s))
    }

    /// The canonical integer, as limbs.
    #[inline]
    pub const fn to_canonical_limbs(&self) -> [u64; N] {
        let mut one = [0u64; N];
        one[0] = 1;
        limbs::mont_mul(&self.limbs, &one, &P::MODULUS, P::INV)
    }

    /// The element for a canonical integer `v < p`: the Montgomery product `v·R²·R⁻¹ = v·R`
    /// with the run-time product (the `const fn` one is for constants).
    #[inline]
    fn from_reduced(v: [u64; N]) -> Self {
        Self::from_montgomery_unchecked(v) * Self::from_montgomery_unchecked(P::R2)
    }
}

impl<P: FpParams<N>, const N: usize> Add for Fp<P, N> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        // With a spare bit, a + b < 2p < 2^(64N): no carry out of the top limb. Whether `p`
        // is subtracted depends on the data, so it is selected by `cmov` or a mask, not a
        // branch.
        #[cfg(target_arch = "x86_64")]
        if N == 4 {
            return Self::from_montgomery_unchecked(asm::back(asm::add_mod4_x86(
                asm::same(&self.limbs),
                asm::same(&o.limbs),
                asm::same(&P::MODULUS),
            )));
        }
        let (s, _) = limbs::add(&self.limbs, &o.limbs);
        Self::from_montgomery_unchecked(asm::reduce_once(s, &P::MODULUS))
    }
}
impl<P: FpParams<N>, const N: usize> Sub for Fp<P, N> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        #[cfg(target_arch = "x86_64")]
        if N == 4 {
            return Self::from_montgomery_unchecked(asm::back(asm::sub_mod4_x86(
                asm::same(&self.limbs),
                asm::same(&o.limbs),
                asm::same(&P::MODULUS),
            )));
        }
        Self::from_montgomery_unchecked(sub_mod_portable(&self.limbs, &o.limbs, &P::MODULUS))
    }
}

/// `(a − b) mod p` for `a, b < p`: adds `p` masked by the borrow (branch-free: the borrow is
/// data-dependent).
#[inline(always)]
fn sub_mod_portable<const N: usize>(a: &[u64; N], b: &[u64; N], p: &[u64; N]) -> [u64; N] {
    let (d, borrow) = limbs::sub(a, b);
    let mask = borrow.wrapping_neg();
    let q: [u64; N] = core::array::from_fn(|i| p[i] & mask);
    limbs::add(&d, &q).0
}

impl<P: FpParams<N>, const N: usize> Neg for Fp<P, N> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        if self.is_zero() {
            self
        } else {
            Self::from_montgomery_unchecked(limbs::sub(&P::MODULUS, &self.limbs).0)
        }
    }
}
impl<P: FpParams<N>, const N: usize> Mul for Fp<P, N> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::SPARE_BIT;
        Self::from_montgomery_unchecked(asm::mont_mul(&self.limbs, &o.limbs, &Self::CONSTS))
    }
}
impl<P: FpParams<N>, const N: usize> AddAssign for Fp<P, N> {
    #[inline(always)]
    fn add_assign(&mut self, o: Self) {
        *self = *self + o;
    }
}
impl<P: FpParams<N>, const N: usize> SubAssign for Fp<P, N> {
    #[inline(always)]
    fn sub_assign(&mut self, o: Self) {
        *self = *self - o;
    }
}
impl<P: FpParams<N>, const N: usize> MulAssign for Fp<P, N> {
    #[inline(always)]
    fn mul_assign(&mut self, o: Self) {
        *self = *self * o;
    }
}

impl<P: FpParams<N>, const N: usize> Field for Fp<P, N> {
    const ZERO: Self = Self::from_montgomery_unchecked([0; N]);
    const ONE: Self = Self::from_montgomery_unchecked(P::R);

    #[inline(always)]
    fn is_zero(&self) -> bool {
        limbs::is_zero(&self.limbs)
    }

    #[inline(always)]
    fn square(&self) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::SPARE_BIT;
        Self::from_montgomery_unchecked(asm::mont_sqr(&self.limbs, &Self::CONSTS))
    }

    fn inverse(&self) -> Option<Self> {
        if self.is_zero() {
            None
        } else {
            Some(self.pow(&P::P_MINUS_2))
        }
    }

    fn inverse_vartime(&self) -> Option<Self> {
        // The limbs hold y = x·R; divsteps give y⁻¹ = x⁻¹·R⁻¹, and a Montgomery product with
        // R³ gives x⁻¹·R, the Montgomery form of x⁻¹.
        match super::safegcd::inverse(&self.limbs, &P::MODULUS) {
            Some(y_inv) => Some(
                Self::from_montgomery_unchecked(y_inv) * Self::from_montgomery_unchecked(P::R3),
            ),
            // Zero, or (never, by Bernstein–Yang's bound) divsteps that did not finish.
            None => self.inverse(),
        }
    }
}

impl<P: FpParams<N>, const N: usize> PrimeField for Fp<P, N> {
    const ID: FieldId = P::ID;
    const LIMBS: usize = N;
    const MODULUS_BITS: u32 = limbs::num_bits(&P::MODULUS);
    type Limbs = [u64; N];

    fn modulus() -> [u64; N] {
        P::MODULUS
    }
    fn from_u64(v: u64) -> Self {
        let mut l = [0u64; N];
        l[0] = v;
        // v < 2^64 < p for every large field.
        Self::from_reduced(l)
    }
    fn to_canonical(&self) -> [u64; N] {
        // x·R times the word 1 (as a stored value) is x·R·1·R⁻¹ = x: one run-time product.
        let mut one = [0u64; N];
        one[0] = 1;
        (*self * Self::from_montgomery_unchecked(one)).limbs
    }
    fn below_modulus(v: &[u64; N]) -> bool {
        !limbs::geq(v, &P::MODULUS)
    }
    fn is_reduced(&self) -> bool {
        // The storage is the Montgomery form, which is reduced when below p.
        Self::below_modulus(&self.limbs)
    }
    fn from_canonical(v: &[u64; N]) -> Option<Self> {
        if limbs::geq(v, &P::MODULUS) {
            None
        } else {
            Some(Self::from_reduced(*v))
        }
    }
    fn from_montgomery(v: &[u64; N]) -> Option<Self> {
        if limbs::geq(v, &P::MODULUS) {
            None
        } else {
            Some(Self::from_montgomery_unchecked(*v))
        }
    }
    fn to_montgomery(&self) -> [u64; N] {
        self.limbs
    }
}

impl<P: FpParams<N>, const N: usize> TwoAdicField for Fp<P, N> {
    const TWO_ADICITY: u32 = P::TWO_ADICITY;

    fn multiplicative_generator() -> Self {
        Self::from_u64(P::GENERATOR)
    }

    fn max_two_adic_root() -> Self {
        Self::multiplicative_generator().pow(&P::TRACE)
    }
}
