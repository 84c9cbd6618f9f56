//! Field element types and their arithmetic.
//!
//! Every element type is a plain little-endian limb array (`#[repr(transparent)]`), so that a
//! slice of elements can be handed to a device or across the C ABI as bytes without a copy
//! (`bytemuck::cast_slice`). The large prime fields are stored in Montgomery form with
//! `R = 2^(64·N)`, exactly as arkworks, gnark-crypto and halo2curves store them; Goldilocks is
//! stored canonically in one `u64`; BabyBear is stored in Montgomery form with `R = 2³²` in
//! one `u32`, exactly as Plonky3's `MontyField31` stores it.

pub mod asm;
#[cfg(test)]
mod asm_tests;
pub mod limbs;
mod mont;
pub mod safegcd;
mod small;

pub use mont::{Fp, FpParams};
pub use small::{BabyBear, Goldilocks};

use crate::ids::FieldId;
use core::fmt::Debug;
use core::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// Arithmetic shared by every field the runtime knows (prime fields and extensions).
pub trait Field:
    Copy
    + Clone
    + Send
    + Sync
    + 'static
    + PartialEq
    + Eq
    + Debug
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
{
    /// The additive identity.
    const ZERO: Self;
    /// The multiplicative identity.
    const ONE: Self;

    /// True for the additive identity.
    fn is_zero(&self) -> bool;

    /// `self²`.
    #[inline(always)]
    fn square(&self) -> Self {
        *self * *self
    }

    /// `2·self`.
    #[inline(always)]
    fn double(&self) -> Self {
        *self + *self
    }

    /// The multiplicative inverse, `None` for zero.
    fn inverse(&self) -> Option<Self>;

    /// The multiplicative inverse in variable time (its duration depends on the value), for
    /// values that are not secret; `None` for zero. The large prime fields use Bernstein–Yang
    /// divsteps ([`safegcd`]), several times faster than [`Field::inverse`]; the default is
    /// [`Field::inverse`].
    #[inline]
    fn inverse_vartime(&self) -> Option<Self> {
        self.inverse()
    }

    /// `self^e` for an exponent given as little-endian `u64` limbs.
    fn pow(&self, exp: &[u64]) -> Self {
        let mut r = Self::ONE;
        for limb in exp.iter().rev() {
            for i in (0..64).rev() {
                r = r.square();
                if (limb >> i) & 1 == 1 {
                    r *= *self;
                }
            }
        }
        r
    }
}

/// A prime field with a run-time identifier and canonical/Montgomery encodings.
pub trait PrimeField: Field + bytemuck::Pod {
    /// The run-time identifier.
    const ID: FieldId;
    /// Number of 64-bit limbs in the canonical integer form.
    const LIMBS: usize;
    /// Bit length of the modulus.
    const MODULUS_BITS: u32;
    /// The canonical integer as little-endian limbs (`[u64; LIMBS]`).
    type Limbs: bytemuck::Pod + AsRef<[u64]> + AsMut<[u64]> + Debug + Eq + Send + Sync;

    /// The modulus, little-endian limbs.
    fn modulus() -> Self::Limbs;
    /// The element `v mod p`.
    fn from_u64(v: u64) -> Self;
    /// The canonical integer in `[0, p)`.
    fn to_canonical(&self) -> Self::Limbs;
    /// The element for a canonical integer; `None` unless `v < p`.
    fn from_canonical(v: &Self::Limbs) -> Option<Self>;
    /// The element whose Montgomery form is `v` (the storage form of the large fields);
    /// `None` unless `v < p`.
    fn from_montgomery(v: &Self::Limbs) -> Option<Self>;
    /// The Montgomery form `x·R mod p` of the element, with this field's `R`.
    fn to_montgomery(&self) -> Self::Limbs;

    /// True when the integer `v` is below the modulus: the range check every encoded input
    /// gets (canonical and Montgomery limbs alike), a comparison without arithmetic.
    fn below_modulus(v: &Self::Limbs) -> bool {
        let p = Self::modulus();
        for (a, b) in v.as_ref().iter().rev().zip(p.as_ref().iter().rev()) {
            if a != b {
                return a < b;
            }
        }
        false
    }

    /// True when the element's stored word(s) are reduced. Elements made through this trait
    /// always are; elements cast from raw bytes (`bytemuck`, the C ABI) need not be, and
    /// every operation assumes they are. The default is a round trip through the
    /// Montgomery form; the fields override it with a comparison.
    fn is_reduced(&self) -> bool {
        Self::from_montgomery(&self.to_montgomery()) == Some(*self)
    }

    /// A uniformly random element, from a source of random `u64`s (rejection sampling).
    fn random_with(next_u64: &mut dyn FnMut() -> u64) -> Self {
        loop {
            let mut v: Self::Limbs = bytemuck::Zeroable::zeroed();
            let n = v.as_ref().len();
            for limb in v.as_mut().iter_mut() {
                *limb = next_u64();
            }
            let top_bits = Self::MODULUS_BITS - 64 * (n as u32 - 1);
            if top_bits < 64 {
                v.as_mut()[n - 1] &= (1u64 << top_bits) - 1;
            }
            if let Some(x) = Self::from_canonical(&v) {
                return x;
            }
        }
    }
}

/// A prime field with a large power-of-two subgroup: the fields NTTs run over.
pub trait TwoAdicField: PrimeField {
    /// `s` such that `2^s` divides `p − 1` and `2^(s+1)` does not.
    const TWO_ADICITY: u32;

    /// The multiplicative generator whose power defines the default roots of unity.
    fn multiplicative_generator() -> Self;

    /// The default primitive `2^s`-th root of unity, `g^((p−1)/2^s)`.
    ///
    /// This is the arkworks convention (BN254: `5^((r−1)/2^28)`) and Plonky3's for Goldilocks
    /// (`7^((p−1)/2^32)`) and BabyBear (`31^((p−1)/2^27)`).
    fn max_two_adic_root() -> Self;

    /// The default primitive `2^log_n`-th root of unity: the maximal root squared
    /// `TWO_ADICITY − log_n` times. `None` when `log_n > TWO_ADICITY`.
    fn two_adic_root(log_n: u32) -> Option<Self> {
        if log_n > Self::TWO_ADICITY {
            return None;
        }
        let mut w = Self::max_two_adic_root();
        for _ in log_n..Self::TWO_ADICITY {
            w = w.square();
        }
        Some(w)
    }
}

/// Replaces every non-zero element by its inverse with one inversion (Montgomery's trick,
/// "Speeding the Pollard and elliptic curve methods of factorization", 1987). Zeros stay zero.
pub fn batch_inverse<F: Field>(v: &mut [F]) {
    let mut prefix = Vec::with_capacity(v.len());
    let mut acc = F::ONE;
    for x in v.iter() {
        prefix.push(acc);
        if !x.is_zero() {
            acc *= *x;
        }
    }
    let mut inv = match acc.inverse() {
        Some(i) => i,
        None => return,
    };
    for (x, pre) in v.iter_mut().zip(prefix).rev() {
        if x.is_zero() {
            continue;
        }
        let xi = inv * pre;
        inv *= *x;
        *x = xi;
    }
}

/// The quadratic extension `F[u]/(u² − β)` used for the G2 coordinates of BN254 and
/// BLS12-381 (both use `β = −1`). Layout: `c0 + c1·u`, `c0` first.
#[repr(C)]
#[derive(Copy, Clone, PartialEq, Eq, Default, Hash)]
pub struct Fp2<F> {
    /// The constant coefficient.
    pub c0: F,
    /// The coefficient of `u`.
    pub c1: F,
}

// SAFETY: `Fp2<F>` is `repr(C)` with two fields of the same Pod type and no padding.
unsafe impl<F: bytemuck::Pod> bytemuck::Pod for Fp2<F> {}
// SAFETY: all-zero bytes are a valid `Fp2<F>` when they are a valid `F`.
unsafe impl<F: bytemuck::Zeroable> bytemuck::Zeroable for Fp2<F> {}

impl<F: Debug> Debug for Fp2<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Fp2({:?} + {:?}·u)", self.c0, self.c1)
    }
}

impl<F: PrimeField> Fp2<F> {
    /// Builds `c0 + c1·u`.
    pub const fn new(c0: F, c1: F) -> Self {
        Self { c0, c1 }
    }
}

impl<F: PrimeField> Add for Fp2<F> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Self::new(self.c0 + o.c0, self.c1 + o.c1)
    }
}
impl<F: PrimeField> Sub for Fp2<F> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Self::new(self.c0 - o.c0, self.c1 - o.c1)
    }
}
impl<F: PrimeField> Neg for Fp2<F> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Self::new(-self.c0, -self.c1)
    }
}
impl<F: PrimeField> Mul for Fp2<F> {
    type Output = Self;
    /// Karatsuba with `u² = −1`: three base-field multiplications.
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        let v0 = self.c0 * o.c0;
        let v1 = self.c1 * o.c1;
        let c1 = (self.c0 + self.c1) * (o.c0 + o.c1) - v0 - v1;
        Self::new(v0 - v1, c1)
    }
}
impl<F: PrimeField> AddAssign for Fp2<F> {
    #[inline(always)]
    fn add_assign(&mut self, o: Self) {
        *self = *self + o;
    }
}
impl<F: PrimeField> SubAssign for Fp2<F> {
    #[inline(always)]
    fn sub_assign(&mut self, o: Self) {
        *self = *self - o;
    }
}
impl<F: PrimeField> MulAssign for Fp2<F> {
    #[inline(always)]
    fn mul_assign(&mut self, o: Self) {
        *self = *self * o;
    }
}

impl<F: PrimeField> Field for Fp2<F> {
    const ZERO: Self = Self {
        c0: F::ZERO,
        c1: F::ZERO,
    };
    const ONE: Self = Self {
        c0: F::ONE,
        c1: F::ZERO,
    };

    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.c0.is_zero() && self.c1.is_zero()
    }

    /// Complex squaring: `(a+b)(a−b) + 2ab·u`.
    #[inline(always)]
    fn square(&self) -> Self {
        let ab = self.c0 * self.c1;
        Self::new((self.c0 + self.c1) * (self.c0 - self.c1), ab.double())
    }

    fn inverse(&self) -> Option<Self> {
        // 1/(a + bu) = (a − bu)/(a² + b²) when u² = −1.
        let norm = self.c0.square() + self.c1.square();
        let inv = norm.inverse()?;
        Some(Self::new(self.c0 * inv, -(self.c1 * inv)))
    }

    fn inverse_vartime(&self) -> Option<Self> {
        let norm = self.c0.square() + self.c1.square();
        let inv = norm.inverse_vartime()?;
        Some(Self::new(self.c0 * inv, -(self.c1 * inv)))
    }
}
