//! Short-Weierstrass curves `y² = x³ + b` (all our curves have `a = 0`) and their point types.
//!
//! Three representations, all plain `repr(C)` coordinate arrays:
//! - [`Affine`]: `(x, y)`, the point at infinity written as `(0, 0)` (never on these curves
//!   since `b ≠ 0`). This is the gnark-crypto / halo2curves layout; arkworks' layout (with an
//!   explicit flag) is read through [`crate::view::PointsView`] without a copy.
//! - [`Projective`]: Jacobian `(X, Y, Z)` with `x = X/Z²`, `y = Y/Z³`, infinity at `Z = 0`;
//!   the same layout as arkworks' `Projective`.
//! - [`Xyzz`]: `(X, Y, ZZ, ZZZ)` with `x = X/ZZ`, `y = Y/ZZZ`, the bucket accumulator of the
//!   MSM (cheaper mixed additions, and complete handling of doubling inside buckets).
//!
//! Formulas are from the Explicit-Formulas Database (Bernstein–Lange, hyperelliptic.org/EFD):
//! Jacobian `dbl-2009-l`, `add-2007-bl`, `madd-2007-bl`; XYZZ `add-2008-s`, `madd-2008-s`,
//! `dbl-2008-s-1`, `mdbl-2008-s-1`.

use crate::field::{batch_inverse, Field, PrimeField, TwoAdicField};
use crate::ids::{CurveGroupId, CurveId, GroupId};
use core::fmt;

/// A group of points on a curve over `Base`, with scalars in `Scalar`.
pub trait CurveGroup: 'static + Copy + Send + Sync + fmt::Debug + Default {
    /// The coordinate field (the base field, or its quadratic extension for G2).
    type Base: Field + bytemuck::Pod;
    /// The prime field under `Base` (for encodings).
    type BasePrime: PrimeField;
    /// The scalar field (four 64-bit limbs for every curve here).
    type Scalar: TwoAdicField<Limbs = [u64; 4]>;
    /// The curve.
    const CURVE: CurveId;
    /// The group.
    const GROUP: GroupId;
    /// The coefficient `b` of `y² = x³ + b`.
    const B: Self::Base;
    /// The standard generator.
    const GENERATOR: Affine<Self>;
    /// Number of `BasePrime` elements per coordinate (1 for G1, 2 for G2).
    const EXTENSION_DEGREE: usize;

    /// The (curve, group) id.
    fn id() -> CurveGroupId {
        CurveGroupId::new(Self::CURVE, Self::GROUP)
    }
}

// ---------------------------------------------------------------------------------------------
// Affine
// ---------------------------------------------------------------------------------------------

/// An affine point `(x, y)`; the point at infinity is `(0, 0)`.
#[repr(C)]
pub struct Affine<C: CurveGroup> {
    /// x coordinate.
    pub x: C::Base,
    /// y coordinate.
    pub y: C::Base,
}

/// A Jacobian point `(X, Y, Z)`: `x = X/Z²`, `y = Y/Z³`; infinity has `Z = 0`.
#[repr(C)]
pub struct Projective<C: CurveGroup> {
    /// X coordinate.
    pub x: C::Base,
    /// Y coordinate.
    pub y: C::Base,
    /// Z coordinate.
    pub z: C::Base,
}

/// An extended Jacobian point `(X, Y, ZZ, ZZZ)`: `x = X/ZZ`, `y = Y/ZZZ`, `ZZ³ = ZZZ²`;
/// infinity has `ZZ = 0`.
#[repr(C)]
pub struct Xyzz<C: CurveGroup> {
    /// X coordinate.
    pub x: C::Base,
    /// Y coordinate.
    pub y: C::Base,
    /// ZZ coordinate.
    pub zz: C::Base,
    /// ZZZ coordinate.
    pub zzz: C::Base,
}

macro_rules! point_boilerplate {
    ($t:ident { $($f:ident),+ }) => {
        impl<C: CurveGroup> Clone for $t<C> {
            #[inline(always)]
            fn clone(&self) -> Self { *self }
        }
        impl<C: CurveGroup> Copy for $t<C> {}
        // SAFETY: `repr(C)` struct of fields of one Pod type `C::Base`, whose size is a
        // multiple of its alignment, so there is no padding.
        unsafe impl<C: CurveGroup> bytemuck::Zeroable for $t<C> {}
        // SAFETY: as above.
        unsafe impl<C: CurveGroup> bytemuck::Pod for $t<C> {}
        impl<C: CurveGroup> fmt::Debug for $t<C> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($t))$(.field(stringify!($f), &self.$f))+.finish()
            }
        }
    };
}
point_boilerplate!(Affine { x, y });
point_boilerplate!(Projective { x, y, z });
point_boilerplate!(Xyzz { x, y, zz, zzz });

impl<C: CurveGroup> PartialEq for Affine<C> {
    fn eq(&self, o: &Self) -> bool {
        self.x == o.x && self.y == o.y
    }
}
impl<C: CurveGroup> Eq for Affine<C> {}
impl<C: CurveGroup> Default for Affine<C> {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl<C: CurveGroup> Affine<C> {
    /// The point at infinity, `(0, 0)`.
    pub const IDENTITY: Self = Self {
        x: <C::Base as Field>::ZERO,
        y: <C::Base as Field>::ZERO,
    };

    /// Builds a point from coordinates (not checked).
    pub const fn new(x: C::Base, y: C::Base) -> Self {
        Self { x, y }
    }

    /// True for the point at infinity.
    #[inline(always)]
    pub fn is_identity(&self) -> bool {
        self.x.is_zero() && self.y.is_zero()
    }

    /// True when the point satisfies the curve equation (the identity counts as on the curve).
    pub fn is_on_curve(&self) -> bool {
        self.is_identity() || self.y.square() == self.x.square() * self.x + C::B
    }

    /// True when `[r]P = O` for the scalar-field order `r` (the prime-order subgroup test).
    pub fn is_in_subgroup(&self) -> bool {
        Projective::from(*self)
            .mul_limbs(&<C::Scalar as PrimeField>::modulus())
            .is_identity()
    }

    /// The negation `(x, −y)`.
    pub fn neg(&self) -> Self {
        if self.is_identity() {
            *self
        } else {
            Self::new(self.x, -self.y)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Jacobian
// ---------------------------------------------------------------------------------------------

impl<C: CurveGroup> Default for Projective<C> {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl<C: CurveGroup> From<Affine<C>> for Projective<C> {
    #[inline]
    fn from(p: Affine<C>) -> Self {
        if p.is_identity() {
            Self::IDENTITY
        } else {
            Self {
                x: p.x,
                y: p.y,
                z: C::Base::ONE,
            }
        }
    }
}

impl<C: CurveGroup> PartialEq for Projective<C> {
    /// Equality of the points represented (not of the coordinates).
    fn eq(&self, o: &Self) -> bool {
        match (self.is_identity(), o.is_identity()) {
            (true, true) => return true,
            (false, false) => {}
            _ => return false,
        }
        let z1z1 = self.z.square();
        let z2z2 = o.z.square();
        self.x * z2z2 == o.x * z1z1 && self.y * (z2z2 * o.z) == o.y * (z1z1 * self.z)
    }
}
impl<C: CurveGroup> Eq for Projective<C> {}

impl<C: CurveGroup> Projective<C> {
    /// The point at infinity `(1, 1, 0)`.
    pub const IDENTITY: Self = Self {
        x: <C::Base as Field>::ONE,
        y: <C::Base as Field>::ONE,
        z: <C::Base as Field>::ZERO,
    };

    /// True for the point at infinity.
    #[inline(always)]
    pub fn is_identity(&self) -> bool {
        self.z.is_zero()
    }

    /// The standard generator.
    pub fn generator() -> Self {
        C::GENERATOR.into()
    }

    /// `2P` (`dbl-2009-l`, `a = 0`).
    #[inline]
    pub fn double(&self) -> Self {
        if self.is_identity() {
            return *self;
        }
        let a = self.x.square();
        let b = self.y.square();
        let c = b.square();
        let d = ((self.x + b).square() - a - c).double();
        let e = a.double() + a;
        let f = e.square();
        let x3 = f - d.double();
        let y3 = e * (d - x3) - c.double().double().double();
        let z3 = (self.y * self.z).double();
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `P + Q` (`add-2007-bl`), complete: handles identity and doubling.
    pub fn add(&self, o: &Self) -> Self {
        if self.is_identity() {
            return *o;
        }
        if o.is_identity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = o.z.square();
        let u1 = self.x * z2z2;
        let u2 = o.x * z1z1;
        let s1 = self.y * o.z * z2z2;
        let s2 = o.y * self.z * z1z1;
        if u1 == u2 {
            return if s1 == s2 {
                self.double()
            } else {
                Self::IDENTITY
            };
        }
        let h = u2 - u1;
        let i = h.double().square();
        let j = h * i;
        let r = (s2 - s1).double();
        let v = u1 * i;
        let x3 = r.square() - j - v.double();
        let y3 = r * (v - x3) - (s1 * j).double();
        let z3 = ((self.z + o.z).square() - z1z1 - z2z2) * h;
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `P + Q` for affine `Q` (`madd-2007-bl`), complete.
    pub fn add_affine(&self, q: &Affine<C>) -> Self {
        if q.is_identity() {
            return *self;
        }
        if self.is_identity() {
            return (*q).into();
        }
        let z1z1 = self.z.square();
        let u2 = q.x * z1z1;
        let s2 = q.y * self.z * z1z1;
        if self.x == u2 {
            return if self.y == s2 {
                self.double()
            } else {
                Self::IDENTITY
            };
        }
        let h = u2 - self.x;
        let hh = h.square();
        let i = hh.double().double();
        let j = h * i;
        let r = (s2 - self.y).double();
        let v = self.x * i;
        let x3 = r.square() - j - v.double();
        let y3 = r * (v - x3) - (self.y * j).double();
        let z3 = (self.z + h).square() - z1z1 - hh;
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `−P`.
    pub fn neg(&self) -> Self {
        Self {
            x: self.x,
            y: -self.y,
            z: self.z,
        }
    }

    /// `[k]P` for a scalar given as little-endian limbs (double-and-add, not constant time).
    pub fn mul_limbs(&self, k: &[u64]) -> Self {
        let mut r = Self::IDENTITY;
        for limb in k.iter().rev() {
            for i in (0..64).rev() {
                r = r.double();
                if (limb >> i) & 1 == 1 {
                    r = r.add(self);
                }
            }
        }
        r
    }

    /// `[k]P` for a field scalar.
    pub fn mul(&self, k: &C::Scalar) -> Self {
        self.mul_limbs(&k.to_canonical())
    }

    /// The affine form (one inversion).
    pub fn to_affine(&self) -> Affine<C> {
        match self.z.inverse() {
            None => Affine::IDENTITY,
            Some(zi) => {
                let zi2 = zi.square();
                Affine::new(self.x * zi2, self.y * zi2 * zi)
            }
        }
    }

    /// Affine forms of many points with one inversion.
    pub fn batch_to_affine(points: &[Self]) -> Vec<Affine<C>> {
        let mut zs: Vec<C::Base> = points.iter().map(|p| p.z).collect();
        batch_inverse(&mut zs);
        points
            .iter()
            .zip(zs)
            .map(|(p, zi)| {
                if p.is_identity() {
                    Affine::IDENTITY
                } else {
                    let zi2 = zi.square();
                    Affine::new(p.x * zi2, p.y * zi2 * zi)
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// XYZZ
// ---------------------------------------------------------------------------------------------

impl<C: CurveGroup> Default for Xyzz<C> {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl<C: CurveGroup> Xyzz<C> {
    /// The point at infinity (`ZZ = ZZZ = 0`).
    pub const IDENTITY: Self = Self {
        x: <C::Base as Field>::ONE,
        y: <C::Base as Field>::ONE,
        zz: <C::Base as Field>::ZERO,
        zzz: <C::Base as Field>::ZERO,
    };

    /// True for the point at infinity.
    #[inline(always)]
    pub fn is_identity(&self) -> bool {
        self.zz.is_zero()
    }

    /// `2Q` for affine `Q` (`mdbl-2008-s-1`).
    #[inline]
    fn double_affine(q: &Affine<C>) -> Self {
        let u = q.y.double();
        let v = u.square();
        let w = u * v;
        let s = q.x * v;
        let xx = q.x.square();
        let m = xx.double() + xx;
        let x3 = m.square() - s.double();
        let y3 = m * (s - x3) - w * q.y;
        Self {
            x: x3,
            y: y3,
            zz: v,
            zzz: w,
        }
    }

    /// `2P` (`dbl-2008-s-1`, `a = 0`).
    #[inline]
    pub fn double(&self) -> Self {
        if self.is_identity() {
            return *self;
        }
        let u = self.y.double();
        let v = u.square();
        let w = u * v;
        let s = self.x * v;
        let xx = self.x.square();
        let m = xx.double() + xx;
        let x3 = m.square() - s.double();
        let y3 = m * (s - x3) - w * self.y;
        Self {
            x: x3,
            y: y3,
            zz: v * self.zz,
            zzz: w * self.zzz,
        }
    }

    /// `P += Q` for affine `Q` (`madd-2008-s`), complete.
    #[inline]
    pub fn add_affine_assign(&mut self, q: &Affine<C>) {
        if q.is_identity() {
            return;
        }
        if self.is_identity() {
            *self = Self {
                x: q.x,
                y: q.y,
                zz: C::Base::ONE,
                zzz: C::Base::ONE,
            };
            return;
        }
        let u2 = q.x * self.zz;
        let s2 = q.y * self.zzz;
        let p = u2 - self.x;
        let r = s2 - self.y;
        if p.is_zero() {
            *self = if r.is_zero() {
                Self::double_affine(q)
            } else {
                Self::IDENTITY
            };
            return;
        }
        let pp = p.square();
        let ppp = p * pp;
        let q2 = self.x * pp;
        let x3 = r.square() - ppp - q2.double();
        let y3 = r * (q2 - x3) - self.y * ppp;
        self.x = x3;
        self.y = y3;
        self.zz *= pp;
        self.zzz *= ppp;
    }

    /// `P −= Q` for affine `Q`.
    #[inline]
    pub fn sub_affine_assign(&mut self, q: &Affine<C>) {
        self.add_affine_assign(&q.neg());
    }

    /// `P += Q` (`add-2008-s`), complete.
    #[inline]
    pub fn add_assign(&mut self, q: &Self) {
        if q.is_identity() {
            return;
        }
        if self.is_identity() {
            *self = *q;
            return;
        }
        let u1 = self.x * q.zz;
        let u2 = q.x * self.zz;
        let s1 = self.y * q.zzz;
        let s2 = q.y * self.zzz;
        let p = u2 - u1;
        let r = s2 - s1;
        if p.is_zero() {
            *self = if r.is_zero() {
                self.double()
            } else {
                Self::IDENTITY
            };
            return;
        }
        let pp = p.square();
        let ppp = p * pp;
        let q2 = u1 * pp;
        let x3 = r.square() - ppp - q2.double();
        let y3 = r * (q2 - x3) - s1 * ppp;
        self.x = x3;
        self.y = y3;
        self.zz = self.zz * q.zz * pp;
        self.zzz = self.zzz * q.zzz * ppp;
    }

    /// The Jacobian form: `(X·ZZ², Y·ZZZ², ZZZ)` (uses `ZZ³ = ZZZ²`).
    pub fn to_projective(&self) -> Projective<C> {
        if self.is_identity() {
            return Projective::IDENTITY;
        }
        Projective {
            x: self.x * self.zz.square(),
            y: self.y * self.zzz.square(),
            z: self.zzz,
        }
    }
}
