//! The small STARK fields: Goldilocks (`2⁶⁴ − 2³² + 1`) and BabyBear (`15·2²⁷ + 1`).

use super::{Field, PrimeField, TwoAdicField};
use crate::ids::FieldId;
use core::fmt;
use core::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub, SubAssign};

macro_rules! assign_ops {
    ($t:ty) => {
        impl AddAssign for $t {
            #[inline(always)]
            fn add_assign(&mut self, o: Self) {
                *self = *self + o;
            }
        }
        impl SubAssign for $t {
            #[inline(always)]
            fn sub_assign(&mut self, o: Self) {
                *self = *self - o;
            }
        }
        impl MulAssign for $t {
            #[inline(always)]
            fn mul_assign(&mut self, o: Self) {
                *self = *self * o;
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Goldilocks
// ---------------------------------------------------------------------------------------------

/// An element of the Goldilocks field `p = 2⁶⁴ − 2³² + 1`, stored canonically (`< p`).
#[repr(transparent)]
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Goldilocks(pub(crate) u64);

impl Goldilocks {
    /// The modulus.
    pub const P: u64 = 0xffff_ffff_0000_0001;
    /// `2⁶⁴ mod p = 2³² − 1`.
    const EPSILON: u64 = 0xffff_ffff;

    /// The element `v mod p`.
    #[inline(always)]
    pub const fn new(v: u64) -> Self {
        Self(if v >= Self::P { v - Self::P } else { v })
    }

    /// The canonical value in `[0, p)`.
    #[inline(always)]
    pub const fn value(self) -> u64 {
        self.0
    }

    /// Reduces a 128-bit product using `2⁶⁴ ≡ 2³² − 1` and `2⁹⁶ ≡ −1` (the reduction of
    /// Plonky2's Goldilocks field, described in its paper's appendix).
    #[inline(always)]
    fn reduce128(x: u128) -> Self {
        let lo = x as u64;
        let hi = (x >> 64) as u64;
        let hi_hi = hi >> 32;
        let hi_lo = hi & Self::EPSILON;
        let (mut t0, borrow) = lo.overflowing_sub(hi_hi);
        if borrow {
            t0 = t0.wrapping_sub(Self::EPSILON);
        }
        let t1 = hi_lo * Self::EPSILON;
        let (mut r, carry) = t0.overflowing_add(t1);
        if carry {
            r = r.wrapping_add(Self::EPSILON);
        }
        Self::new(r)
    }
}

impl fmt::Debug for Goldilocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Add for Goldilocks {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        let (s, carry) = self.0.overflowing_add(o.0);
        // a + b < 2p; on overflow, 2^64 ≡ ε and s + ε < p.
        let s = if carry { s + Self::EPSILON } else { s };
        Self::new(s)
    }
}
impl Sub for Goldilocks {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        let (d, borrow) = self.0.overflowing_sub(o.0);
        Self(if borrow { d.wrapping_add(Self::P) } else { d })
    }
}
impl Neg for Goldilocks {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Self(if self.0 == 0 { 0 } else { Self::P - self.0 })
    }
}
impl Mul for Goldilocks {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Self::reduce128(self.0 as u128 * o.0 as u128)
    }
}
assign_ops!(Goldilocks);

impl Field for Goldilocks {
    const ZERO: Self = Self(0);
    const ONE: Self = Self(1);
    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.0 == 0
    }
    fn inverse(&self) -> Option<Self> {
        if self.0 == 0 {
            None
        } else {
            Some(self.pow(&[Self::P - 2]))
        }
    }
}

impl PrimeField for Goldilocks {
    const ID: FieldId = FieldId::Goldilocks;
    const LIMBS: usize = 1;
    const MODULUS_BITS: u32 = 64;
    type Limbs = [u64; 1];
    fn modulus() -> [u64; 1] {
        [Self::P]
    }
    fn from_u64(v: u64) -> Self {
        Self::new(v)
    }
    fn to_canonical(&self) -> [u64; 1] {
        [self.0]
    }
    fn below_modulus(v: &[u64; 1]) -> bool {
        v[0] < Self::P
    }
    fn is_reduced(&self) -> bool {
        // Stored canonical.
        self.0 < Self::P
    }
    fn from_canonical(v: &[u64; 1]) -> Option<Self> {
        (v[0] < Self::P).then_some(Self(v[0]))
    }
    /// Goldilocks' Montgomery form uses `R = 2⁶⁴`.
    fn from_montgomery(v: &[u64; 1]) -> Option<Self> {
        if v[0] >= Self::P {
            return None;
        }
        // x = v · 2^-64; 2^-64 = (2^64)^-1 = ε^-1.
        const R_INV: Goldilocks = Goldilocks(0xfffffffe00000001);
        Some(Self(v[0]) * R_INV)
    }
    fn to_montgomery(&self) -> [u64; 1] {
        [(*self * Self(Self::EPSILON)).0]
    }
}

impl TwoAdicField for Goldilocks {
    const TWO_ADICITY: u32 = 32;
    fn multiplicative_generator() -> Self {
        Self(7)
    }
    fn max_two_adic_root() -> Self {
        // 7^((p−1)/2^32), Plonky3's `Goldilocks::two_adic_generator(32)`.
        Self(1_753_635_133_440_165_772)
    }
}

// ---------------------------------------------------------------------------------------------
// BabyBear
// ---------------------------------------------------------------------------------------------

/// An element of BabyBear `p = 15·2²⁷ + 1`, stored in Montgomery form `x·2³² mod p` (the
/// storage of Plonky3's `BabyBear`).
#[repr(transparent)]
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct BabyBear(pub(crate) u32);

impl BabyBear {
    /// The modulus.
    pub const P: u32 = 0x7800_0001;
    /// `−p⁻¹ mod 2³²`.
    const NEG_P_INV: u32 = {
        let mut inv = 1u32;
        let mut i = 0;
        while i < 31 {
            inv = inv.wrapping_mul(inv);
            inv = inv.wrapping_mul(Self::P);
            i += 1;
        }
        inv.wrapping_neg()
    };
    /// `2⁶⁴ mod p`, to enter Montgomery form.
    const R2: u32 = ((1u128 << 64) % (Self::P as u128)) as u32;

    /// Montgomery reduction of `x < p·2³²`: `x·2⁻³² mod p`.
    #[inline(always)]
    const fn monty_reduce(x: u64) -> u32 {
        let t = (x as u32).wrapping_mul(Self::NEG_P_INV) as u64;
        let u = ((x + t * Self::P as u64) >> 32) as u32;
        if u >= Self::P {
            u - Self::P
        } else {
            u
        }
    }

    /// The element `v mod p`.
    #[inline(always)]
    pub const fn new(v: u32) -> Self {
        Self(Self::monty_reduce((v % Self::P) as u64 * Self::R2 as u64))
    }

    /// The canonical value in `[0, p)`.
    #[inline(always)]
    pub const fn value(self) -> u32 {
        Self::monty_reduce(self.0 as u64)
    }

    /// The Montgomery-form storage word.
    #[inline(always)]
    pub const fn monty_word(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for BabyBear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value())
    }
}

impl Add for BabyBear {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        let s = self.0 + o.0; // < 2p < 2^32
        Self(if s >= Self::P { s - Self::P } else { s })
    }
}
impl Sub for BabyBear {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        let (d, borrow) = self.0.overflowing_sub(o.0);
        Self(if borrow { d.wrapping_add(Self::P) } else { d })
    }
}
impl Neg for BabyBear {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Self(if self.0 == 0 { 0 } else { Self::P - self.0 })
    }
}
impl Mul for BabyBear {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Self(Self::monty_reduce(self.0 as u64 * o.0 as u64))
    }
}
assign_ops!(BabyBear);

impl Field for BabyBear {
    const ZERO: Self = Self(0);
    const ONE: Self = Self(((1u64 << 32) % (Self::P as u64)) as u32);
    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.0 == 0
    }
    fn inverse(&self) -> Option<Self> {
        if self.0 == 0 {
            None
        } else {
            Some(self.pow(&[(Self::P - 2) as u64]))
        }
    }
}

impl PrimeField for BabyBear {
    const ID: FieldId = FieldId::BabyBear;
    const LIMBS: usize = 1;
    const MODULUS_BITS: u32 = 31;
    type Limbs = [u64; 1];
    fn modulus() -> [u64; 1] {
        [Self::P as u64]
    }
    fn from_u64(v: u64) -> Self {
        Self::new((v % Self::P as u64) as u32)
    }
    fn to_canonical(&self) -> [u64; 1] {
        [self.value() as u64]
    }
    fn below_modulus(v: &[u64; 1]) -> bool {
        v[0] < Self::P as u64
    }
    fn is_reduced(&self) -> bool {
        // Stored in Montgomery form, reduced when below p.
        self.0 < Self::P
    }
    fn from_canonical(v: &[u64; 1]) -> Option<Self> {
        (v[0] < Self::P as u64).then(|| Self::new(v[0] as u32))
    }
    fn from_montgomery(v: &[u64; 1]) -> Option<Self> {
        (v[0] < Self::P as u64).then_some(Self(v[0] as u32))
    }
    fn to_montgomery(&self) -> [u64; 1] {
        [self.0 as u64]
    }
}

impl TwoAdicField for BabyBear {
    const TWO_ADICITY: u32 = 27;
    fn multiplicative_generator() -> Self {
        Self::new(31)
    }
    fn max_two_adic_root() -> Self {
        // 31^((p−1)/2^27) = 0x1a427a41, Plonky3's `BabyBear::two_adic_generator(27)`.
        Self::new(0x1a42_7a41)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goldilocks_basic_identities() {
        let a = Goldilocks::new(Goldilocks::P - 1);
        assert_eq!(a * a, Goldilocks::ONE);
        assert_eq!(a + Goldilocks::ONE, Goldilocks::ZERO);
        let x = Goldilocks::new(0x1234_5678_9abc_def0);
        assert_eq!(x * x.inverse().unwrap(), Goldilocks::ONE);
        let m = x.to_montgomery();
        assert_eq!(Goldilocks::from_montgomery(&m), Some(x));
        let w = Goldilocks::max_two_adic_root();
        assert_eq!(w.pow(&[1 << 31]), -Goldilocks::ONE);
    }

    #[test]
    fn range_checks_of_the_small_fields() {
        let gp = Goldilocks::P;
        for v in [0, 1, gp - 1, u32::MAX as u64, 0xffff_fffe_ffff_ffff] {
            assert!(
                Goldilocks::below_modulus(&[v]) && Goldilocks(v).is_reduced(),
                "{v:x}"
            );
        }
        for v in [gp, gp + 1, u64::MAX] {
            assert!(
                !Goldilocks::below_modulus(&[v]) && !Goldilocks(v).is_reduced(),
                "{v:x}"
            );
            // The trait's default (a round trip) agrees.
            let x = Goldilocks(v);
            assert_ne!(Goldilocks::from_montgomery(&x.to_montgomery()), Some(x));
        }
        let bp = BabyBear::P;
        for v in [0, 1, bp - 1] {
            assert!(BabyBear::below_modulus(&[v as u64]) && BabyBear(v).is_reduced());
        }
        for v in [bp, bp + 1, u32::MAX] {
            assert!(!BabyBear::below_modulus(&[v as u64]) && !BabyBear(v).is_reduced());
        }
        assert!(!BabyBear::below_modulus(&[1 << 40]));
    }

    #[test]
    fn babybear_basic_identities() {
        let a = BabyBear::new(BabyBear::P - 1);
        assert_eq!(a * a, BabyBear::ONE);
        assert_eq!(BabyBear::new(7).value(), 7);
        let x = BabyBear::new(123_456_789);
        assert_eq!(x * x.inverse().unwrap(), BabyBear::ONE);
        let w = BabyBear::max_two_adic_root();
        assert_eq!(w.pow(&[1 << 26]), -BabyBear::ONE);
    }
}
