//! Butterfly arithmetic used by the NTT kernels: the field's own operations ([`Plain`]), or,
//! for 4-limb Montgomery fields with two spare bits, lazily reduced operations
//! ([`Mont4Lazy`]).
//!
//! The kernels are written once, generic over [`Arith`]; [`Plain`] gives exactly the
//! field's arithmetic, so every field works, and [`Mont4Lazy`] is chosen at run time (once per
//! call) for BN254 and BLS12-377 scalars.

use zkaccel_backend::field::asm::{has_mulx_adx, MontConsts};
use zkaccel_backend::Field;

/// The arithmetic of one butterfly kernel.
///
/// Elements are of type `E`; between butterflies they may be kept in a redundant
/// representation, which [`Arith::fin`] brings back to the field's canonical storage. Inputs
/// of a transform are canonical, and twiddles are always canonical.
pub(super) trait Arith: Copy + Send + Sync {
    /// The element type the kernel moves around.
    type E: Copy + Send + Sync;
    /// True when intermediate values may be non-canonical (so [`Arith::fin`] matters).
    const LAZY: bool;
    /// Cooley–Tukey: `(a, b) ← (a + c·b, a − c·b)`.
    fn ct(self, a: Self::E, b: Self::E, c: Self::E) -> (Self::E, Self::E);
    /// Cooley–Tukey or Gentleman–Sande with `c = 1`: `(a, b) ← (a + b, a − b)`.
    fn ct1(self, a: Self::E, b: Self::E) -> (Self::E, Self::E);
    /// Gentleman–Sande: `(a, b) ← (a + b, (a − b)·c)`.
    fn gs(self, a: Self::E, b: Self::E, c: Self::E) -> (Self::E, Self::E);
    /// The canonical representative of a (possibly redundant) value.
    fn fin(self, x: Self::E) -> Self::E;

    /// A wide (SIMD) form of a run of butterflies with one twiddle, as `kernels::ct_block`
    /// ([`Arith::ct`]) or, when `gs`, `kernels::gs_block` ([`Arith::gs`]) does them: it may do
    /// a prefix of the pairs `(lo[i], hi[i])` and returns how many it did (the kernel does
    /// the rest). `unit`: `c = 1`; `fin`: outputs canonical. None by default.
    #[inline(always)]
    fn wide2(
        self,
        gs: bool,
        lo: &mut [Self::E],
        hi: &mut [Self::E],
        c: Self::E,
        unit: bool,
        fin: bool,
    ) -> usize {
        let _ = (gs, lo, hi, c, unit, fin);
        0
    }
    /// As [`Arith::wide2`], for two fused levels on four quarters (`kernels::ct_block4`, or
    /// `kernels::gs_block4` when `gs`; twiddles `[c, c0, c1]`); returns the prefix length
    /// done in each quarter.
    #[inline(always)]
    fn wide4(
        self,
        gs: bool,
        q: [&mut [Self::E]; 4],
        c: [Self::E; 3],
        unit: bool,
        fin: bool,
    ) -> usize {
        let _ = (gs, q, c, unit, fin);
        0
    }
}

/// The field's own arithmetic (canonical values throughout).
pub(super) struct Plain<F>(core::marker::PhantomData<F>);

impl<F> Clone for Plain<F> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<F> Copy for Plain<F> {}

impl<F> Plain<F> {
    /// The arithmetic of `F`.
    pub(super) const fn new() -> Self {
        Self(core::marker::PhantomData)
    }
}

impl<F: Field> Arith for Plain<F> {
    type E = F;
    const LAZY: bool = false;
    #[inline(always)]
    fn ct(self, a: F, b: F, c: F) -> (F, F) {
        let t = b * c;
        (a + t, a - t)
    }
    #[inline(always)]
    fn ct1(self, a: F, b: F) -> (F, F) {
        (a + b, a - b)
    }
    #[inline(always)]
    fn gs(self, a: F, b: F, c: F) -> (F, F) {
        (a + b, (a - b) * c)
    }
    #[inline(always)]
    fn fin(self, x: F) -> F {
        x
    }
}

/// Lazily reduced arithmetic for 4-limb Montgomery fields with `p < 2²⁵⁴` (BN254 and
/// BLS12-377 scalars), on the raw limbs (`R = 2²⁵⁶`).
///
/// Values between butterflies lie in `[0, 2p)` instead of `[0, p)` (D. Harvey, "Faster
/// arithmetic for number-theoretic transforms", J. Symbolic Comput. 60, 2014, §3, whose
/// butterflies keep values in `[0, 2p)` or `[0, 4p)`): a butterfly then needs one conditional
/// subtraction per output and the Montgomery product skips its final subtraction.
///
/// Bounds. The product `mul(a, b)` with `a < 2p`, `b < p` runs the CIOS loop over the limbs
/// of `b`; each outer step leaves `r < r/2⁶⁴ + a + p < 3p + 1 < 2²⁵⁶` (as `p < 2²⁵⁴`), so the
/// top word `carry1 + carry2` of the loop never wraps (the "no-carry" form of the
/// gnark-crypto note, valid here under this weaker input bound), and the result is
/// `(a·b + m·p)/2²⁵⁶ < 2p²/2²⁵⁶ + p < 1.5p`. Sums of two values `< 2p` are `< 4p < 2²⁵⁶`.
#[derive(Clone, Copy)]
pub(super) struct Mont4Lazy {
    p: [u64; 4],
    p2: [u64; 4],
    inv: u64,
    /// `p` and `inv`, contiguous, for the assembly product.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pinv: MontConsts<4>,
    /// The CPU has BMI2 and ADX: use the shared assembly product
    /// ([`zkaccel_backend::field::asm::mul4_unreduced_adx`]).
    fast: bool,
    /// The CPU has AVX-512 IFMA: runs of eight or more butterflies take the wide path
    /// ([`super::ifma`]).
    #[cfg(target_arch = "x86_64")]
    ifma: Option<super::ifma::Ifma>,
}

impl Mont4Lazy {
    /// The arithmetic for modulus `p` (little-endian limbs), or `None` unless `p` is odd and
    /// below `2²⁵⁴`.
    pub(super) fn new(p: [u64; 4]) -> Option<Self> {
        if p[3] >> 62 != 0 || p[0] & 1 == 0 {
            return None;
        }
        let (p2, _) = add4(&p, &p);
        let pinv = MontConsts::new(p);
        Some(Self {
            p,
            p2,
            inv: pinv.inv,
            pinv,
            fast: has_mulx_adx(),
            #[cfg(target_arch = "x86_64")]
            ifma: super::ifma::Ifma::new(p),
        })
    }

    /// The same arithmetic with the portable product only (for tests of the assembly one
    /// and of the wide path).
    #[cfg(test)]
    pub(super) fn portable(mut self) -> Self {
        self.fast = false;
        #[cfg(target_arch = "x86_64")]
        {
            self.ifma = None;
        }
        self
    }

    /// The wide path, for its tests.
    #[cfg(all(test, target_arch = "x86_64"))]
    pub(super) fn ifma_for_test(&self) -> Option<super::ifma::Ifma> {
        self.ifma
    }

    /// True when runs of butterflies take the AVX-512 IFMA path.
    #[cfg(test)]
    pub(super) fn has_ifma(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        return self.ifma.is_some();
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    /// True when the assembly product is used.
    #[cfg(test)]
    pub(super) fn is_fast(&self) -> bool {
        self.fast
    }

    /// [`Self::mul`], exposed to tests.
    #[cfg(test)]
    pub(super) fn mul_for_test(&self, a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
        self.mul(a, b)
    }

    /// `a·b·2⁻²⁵⁶ mod p`, in `[0, 2p)`, for `a < 2p` and `b < p` (see the type's docs).
    #[inline(always)]
    fn mul(&self, a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
        #[cfg(target_arch = "x86_64")]
        if self.fast {
            // SAFETY: `fast` is set only when the CPU reports BMI2 and ADX (`has_mulx_adx`).
            // The product's condition `a + p < 2²⁵⁶` holds: `a < 2p` and `p < 2²⁵⁴`.
            return unsafe { zkaccel_backend::field::asm::mul4_unreduced_adx(a, b, &self.pinv) };
        }
        self.mul_portable(a, b)
    }

    /// The portable CIOS loop of [`Self::mul`].
    #[inline(always)]
    fn mul_portable(&self, a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
        let p = &self.p;
        let mut r = [0u64; 4];
        for &bi in b.iter() {
            let (r0, mut c1) = mac(r[0], a[0], bi, 0);
            let k = r0.wrapping_mul(self.inv);
            let (_, mut c2) = mac(r0, k, p[0], 0);
            for j in 1..4 {
                let (t, h1) = mac(r[j], a[j], bi, c1);
                c1 = h1;
                let (t2, h2) = mac(t, k, p[j], c2);
                c2 = h2;
                r[j - 1] = t2;
            }
            r[3] = c1.wrapping_add(c2);
        }
        r
    }

    /// `x mod 2p`-style reduction of `x < 4p` into `[0, 2p)`.
    #[inline(always)]
    fn red2p(&self, x: [u64; 4]) -> [u64; 4] {
        let (d, borrow) = sub4(&x, &self.p2);
        if borrow {
            x
        } else {
            d
        }
    }

    /// `a + b` reduced into `[0, 2p)` for `a, b < 2p`.
    #[inline(always)]
    fn add(&self, a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
        self.red2p(add4(a, b).0)
    }

    /// `a − b` in `[0, 2p)` for `a, b < 2p` (adds `2p` when negative).
    #[inline(always)]
    fn sub(&self, a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
        let (d, borrow) = sub4(a, b);
        let mask = (borrow as u64).wrapping_neg();
        let q = [
            self.p2[0] & mask,
            self.p2[1] & mask,
            self.p2[2] & mask,
            self.p2[3] & mask,
        ];
        add4(&d, &q).0
    }
}

impl Arith for Mont4Lazy {
    type E = [u64; 4];
    const LAZY: bool = true;
    #[inline(always)]
    fn ct(self, a: [u64; 4], b: [u64; 4], c: [u64; 4]) -> ([u64; 4], [u64; 4]) {
        let t = self.mul(&b, &c);
        (self.add(&a, &t), self.sub(&a, &t))
    }
    #[inline(always)]
    fn ct1(self, a: [u64; 4], b: [u64; 4]) -> ([u64; 4], [u64; 4]) {
        (self.add(&a, &b), self.sub(&a, &b))
    }
    #[inline(always)]
    fn gs(self, a: [u64; 4], b: [u64; 4], c: [u64; 4]) -> ([u64; 4], [u64; 4]) {
        let d = self.sub(&a, &b);
        (self.add(&a, &b), self.mul(&d, &c))
    }
    #[inline(always)]
    fn fin(self, x: [u64; 4]) -> [u64; 4] {
        let (d, borrow) = sub4(&x, &self.p);
        if borrow {
            x
        } else {
            d
        }
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn wide2(
        self,
        gs: bool,
        lo: &mut [[u64; 4]],
        hi: &mut [[u64; 4]],
        c: [u64; 4],
        unit: bool,
        fin: bool,
    ) -> usize {
        match self.ifma {
            Some(f) if gs => f.two::<true>(lo, hi, &c, unit, fin),
            Some(f) => f.two::<false>(lo, hi, &c, unit, fin),
            None => 0,
        }
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn wide4(
        self,
        gs: bool,
        q: [&mut [[u64; 4]]; 4],
        c: [[u64; 4]; 3],
        unit: bool,
        fin: bool,
    ) -> usize {
        match self.ifma {
            Some(f) if gs => f.four::<true>(q, &c, unit, fin),
            Some(f) => f.four::<false>(q, &c, unit, fin),
            None => 0,
        }
    }
}

/// `a + b·c + carry` as (low, high) words.
#[inline(always)]
fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + (b as u128) * (c as u128) + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// `a + b` with the carry out.
#[inline(always)]
pub(super) fn add4(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let (r0, c0) = a[0].overflowing_add(b[0]);
    let (r1, c1) = carrying_add(a[1], b[1], c0);
    let (r2, c2) = carrying_add(a[2], b[2], c1);
    let (r3, c3) = carrying_add(a[3], b[3], c2);
    ([r0, r1, r2, r3], c3)
}

/// `a − b` with the borrow out.
#[inline(always)]
pub(super) fn sub4(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let (r0, b0) = a[0].overflowing_sub(b[0]);
    let (r1, b1) = borrowing_sub(a[1], b[1], b0);
    let (r2, b2) = borrowing_sub(a[2], b[2], b1);
    let (r3, b3) = borrowing_sub(a[3], b[3], b2);
    ([r0, r1, r2, r3], b3)
}

#[inline(always)]
fn carrying_add(a: u64, b: u64, c: bool) -> (u64, bool) {
    let (s, c1) = a.overflowing_add(b);
    let (s, c2) = s.overflowing_add(c as u64);
    (s, c1 | c2)
}

#[inline(always)]
fn borrowing_sub(a: u64, b: u64, c: bool) -> (u64, bool) {
    let (s, b1) = a.overflowing_sub(b);
    let (s, b2) = s.overflowing_sub(c as u64);
    (s, b1 | b2)
}
