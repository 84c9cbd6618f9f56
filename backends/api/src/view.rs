//! Borrowed, zero-copy views of caller memory: affine points with a stride and an infinity
//! marker, scalars with an encoding, NTT columns.
//!
//! Each view exists twice: an erased form (`Raw*`, carrying run-time ids, used by the
//! object-safe backend trait and the C ABI) and a typed form (`PointsView<C>`,
//! `ScalarsView<F>`) that Rust code and backend implementations use. Converting between the
//! two checks the id and copies nothing.

use crate::curve::{Affine, CurveGroup};
use crate::error::BackendError;
use crate::field::PrimeField;
use crate::ids::{CurveGroupId, FieldId};
use core::marker::PhantomData;

/// How field elements in an array are encoded.
#[repr(u32)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Montgomery form `x·R mod p` with the field's `R` (`2^(64·limbs)` for the large fields,
    /// `2⁶⁴` for Goldilocks, `2³²` for BabyBear): what arkworks, gnark-crypto, halo2curves
    /// and Plonky3 (BabyBear) keep in memory.
    Montgomery = 0,
    /// The canonical integer in `[0, p)`, little-endian limbs.
    Canonical = 1,
}

/// How the point at infinity is marked in an affine array.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Infinity {
    /// Both coordinates zero (gnark-crypto, halo2curves, blst's affine form, [`Affine`]).
    ZeroCoordinates,
    /// A byte at this offset inside each element, non-zero for infinity (arkworks'
    /// `infinity: bool`, which sits after the coordinates).
    FlagByte {
        /// Byte offset of the flag within one element.
        offset: usize,
    },
}

/// An erased, borrowed array of affine points.
#[derive(Copy, Clone, Debug)]
pub struct RawPoints<'a> {
    id: CurveGroupId,
    ptr: *const u8,
    len: usize,
    stride: usize,
    infinity: Infinity,
    encoding: Encoding,
    _lt: PhantomData<&'a [u8]>,
}

// SAFETY: a `RawPoints` is a shared borrow of plain bytes (`&'a [u8]`), which is Send + Sync.
unsafe impl Send for RawPoints<'_> {}
// SAFETY: as above.
unsafe impl Sync for RawPoints<'_> {}

/// Size in bytes of one coordinate of the group's points.
pub fn coordinate_bytes(id: CurveGroupId) -> usize {
    let base = id.curve.base_field().element_bytes();
    match id.group {
        crate::ids::GroupId::G1 => base,
        crate::ids::GroupId::G2 => 2 * base,
    }
}

impl<'a> RawPoints<'a> {
    /// A view of `len` points in `bytes`, element `i` starting at byte `i·stride`, with `x`
    /// then `y` at its start. Fails when the bytes are too short, the stride is smaller than
    /// the coordinates, or the flag does not fit in the stride.
    pub fn new(
        id: CurveGroupId,
        bytes: &'a [u8],
        len: usize,
        stride: usize,
        infinity: Infinity,
        encoding: Encoding,
    ) -> Result<Self, String> {
        if !id.is_known() {
            return Err(format!("unknown curve group {id}"));
        }
        let coords = 2 * coordinate_bytes(id);
        if stride < coords {
            return Err(format!(
                "stride {stride} is smaller than the {coords} bytes of one point's coordinates"
            ));
        }
        if let Infinity::FlagByte { offset } = infinity {
            if offset >= stride || offset < coords {
                return Err(format!(
                    "infinity flag offset {offset} must lie in [{coords}, {stride})"
                ));
            }
        }
        let last = match infinity {
            Infinity::FlagByte { offset } => offset + 1,
            Infinity::ZeroCoordinates => coords,
        };
        let need = if len == 0 {
            0
        } else {
            (len - 1)
                .checked_mul(stride)
                .and_then(|v| v.checked_add(last))
                .ok_or_else(|| "point array size overflows".to_string())?
        };
        if bytes.len() < need {
            return Err(format!(
                "{len} points with stride {stride} need {need} bytes, got {}",
                bytes.len()
            ));
        }
        Ok(Self {
            id,
            ptr: bytes.as_ptr(),
            len,
            stride,
            infinity,
            encoding,
            _lt: PhantomData,
        })
    }

    /// The (curve, group).
    pub fn id(&self) -> CurveGroupId {
        self.id
    }
    /// Number of points.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Bytes from one point to the next.
    pub fn stride(&self) -> usize {
        self.stride
    }
    /// How infinity is marked.
    pub fn infinity(&self) -> Infinity {
        self.infinity
    }
    /// How coordinates are encoded.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The typed view, when `C` is this array's group.
    pub fn typed<C: CurveGroup>(&self) -> Result<PointsView<'a, C>, BackendError> {
        if C::id() != self.id {
            return Err(BackendError::BadInput(format!(
                "points are {} but {} was expected",
                self.id,
                C::id()
            )));
        }
        Ok(PointsView {
            raw: *self,
            _c: PhantomData,
        })
    }

    /// A view of points `[start, start + len)` of this one.
    pub fn slice(&self, start: usize, len: usize) -> Self {
        assert!(start + len <= self.len, "slice out of range");
        Self {
            // SAFETY: `start ≤ self.len`, so the offset stays inside (or one past) the
            // borrowed allocation checked in `new`.
            ptr: unsafe { self.ptr.add(start * self.stride) },
            len,
            ..*self
        }
    }
}

/// A typed, borrowed array of affine points of `C`.
#[derive(Copy, Clone, Debug)]
pub struct PointsView<'a, C: CurveGroup> {
    raw: RawPoints<'a>,
    _c: PhantomData<C>,
}

impl<'a, C: CurveGroup> PointsView<'a, C> {
    /// A view of our own [`Affine`] layout: Montgomery coordinates, `(0, 0)` for infinity.
    pub fn from_affine(points: &'a [Affine<C>]) -> Self {
        Self {
            raw: RawPoints {
                id: C::id(),
                ptr: points.as_ptr().cast(),
                len: points.len(),
                stride: core::mem::size_of::<Affine<C>>(),
                infinity: Infinity::ZeroCoordinates,
                encoding: Encoding::Montgomery,
                _lt: PhantomData,
            },
            _c: PhantomData,
        }
    }

    /// The erased view.
    pub fn raw(&self) -> RawPoints<'a> {
        self.raw
    }
    /// Number of points.
    pub fn len(&self) -> usize {
        self.raw.len
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.raw.len == 0
    }

    /// The slice itself when the memory is exactly `[Affine<C>]` (our layout, Montgomery,
    /// zero coordinates for infinity, suitably aligned): the fast path.
    pub fn as_affine_slice(&self) -> Option<&'a [Affine<C>]> {
        let r = &self.raw;
        if r.stride == core::mem::size_of::<Affine<C>>()
            && r.infinity == Infinity::ZeroCoordinates
            && r.encoding == Encoding::Montgomery
            && (r.ptr as usize).is_multiple_of(core::mem::align_of::<Affine<C>>())
        {
            // SAFETY: `new`/`from_affine` checked that `len` elements of `stride` bytes are
            // borrowed for 'a; the stride equals the element size, the pointer is aligned,
            // and `Affine<C>` is Pod, so any initialized bytes are a valid value.
            Some(unsafe { core::slice::from_raw_parts(r.ptr.cast(), r.len) })
        } else {
            None
        }
    }

    /// The raw coordinate limbs of point `i` (`x` then `y`), before decoding.
    #[inline(always)]
    fn read(&self, i: usize) -> Affine<C> {
        debug_assert!(i < self.raw.len);
        // SAFETY: `i < len`, and `new` checked that element `i`'s coordinates lie inside the
        // borrowed bytes; `Affine<C>` is Pod, so an unaligned read of its bytes is valid.
        unsafe { core::ptr::read_unaligned(self.raw.ptr.add(i * self.raw.stride).cast()) }
    }

    /// True when point `i` is marked as the point at infinity.
    #[inline(always)]
    pub fn is_identity_at(&self, i: usize) -> bool {
        match self.raw.infinity {
            Infinity::FlagByte { offset } => {
                // SAFETY: `new` checked that the flag byte of every element lies inside the
                // borrowed bytes; it is read as a plain byte.
                unsafe { *self.raw.ptr.add(i * self.raw.stride + offset) != 0 }
            }
            Infinity::ZeroCoordinates => self.read(i).is_identity(),
        }
    }

    /// Point `i` in our form (Montgomery, `(0, 0)` for infinity). Canonical coordinates are
    /// converted; coordinates not below the modulus give an unspecified point, so callers
    /// validate first ([`PointsView::check_encoding`]).
    #[inline(always)]
    pub fn get(&self, i: usize) -> Affine<C> {
        if let Infinity::FlagByte { .. } = self.raw.infinity {
            if self.is_identity_at(i) {
                return Affine::IDENTITY;
            }
        }
        let p = self.read(i);
        match self.raw.encoding {
            Encoding::Montgomery => p,
            Encoding::Canonical => decode_canonical_point::<C>(p),
        }
    }

    /// Checks that every coordinate of every non-infinity point is below the modulus:
    /// returns the index of the first bad point.
    pub fn check_encoding(&self) -> Result<(), usize> {
        self.check_encoding_in(0..self.len())
    }

    /// [`PointsView::check_encoding`] for the points in `range` (clamped to the view), so
    /// that callers can split the check across threads.
    pub fn check_encoding_in(&self, range: core::ops::Range<usize>) -> Result<(), usize> {
        for i in range.start..range.end.min(self.len()) {
            if let Infinity::FlagByte { .. } = self.raw.infinity {
                if self.is_identity_at(i) {
                    continue;
                }
            }
            let p = self.read(i);
            let coords: &[C::BasePrime] = bytemuck::cast_slice(core::slice::from_ref(&p));
            for c in coords {
                // The storage limbs of a prime field element are its Montgomery or canonical
                // integer; either must be below p.
                let limbs =
                    bytemuck::cast_ref::<C::BasePrime, <C::BasePrime as PrimeField>::Limbs>(c);
                if !<C::BasePrime as PrimeField>::below_modulus(limbs) {
                    return Err(i);
                }
            }
        }
        Ok(())
    }

    /// Copies the points into our own layout.
    pub fn to_vec(&self) -> Vec<Affine<C>> {
        (0..self.len()).map(|i| self.get(i)).collect()
    }
}

fn decode_canonical_point<C: CurveGroup>(mut p: Affine<C>) -> Affine<C> {
    let coords: &mut [C::BasePrime] = bytemuck::cast_slice_mut(core::slice::from_mut(&mut p));
    for c in coords.iter_mut() {
        let limbs = *bytemuck::cast_ref::<C::BasePrime, <C::BasePrime as PrimeField>::Limbs>(c);
        *c = <C::BasePrime as PrimeField>::from_canonical(&limbs).unwrap_or_default();
    }
    p
}

/// An erased, borrowed array of scalars (four 64-bit limbs each).
#[derive(Copy, Clone, Debug)]
pub struct RawScalars<'a> {
    field: FieldId,
    limbs: &'a [[u64; 4]],
    encoding: Encoding,
}

impl<'a> RawScalars<'a> {
    /// A view of scalars of `field` in `encoding`.
    pub fn new(field: FieldId, limbs: &'a [[u64; 4]], encoding: Encoding) -> Self {
        Self {
            field,
            limbs,
            encoding,
        }
    }
    /// The scalar field.
    pub fn field(&self) -> FieldId {
        self.field
    }
    /// The limbs.
    pub fn limbs(&self) -> &'a [[u64; 4]] {
        self.limbs
    }
    /// The encoding.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }
    /// Number of scalars.
    pub fn len(&self) -> usize {
        self.limbs.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.limbs.is_empty()
    }
    /// The typed view, when `F` is this array's field.
    pub fn typed<F: PrimeField<Limbs = [u64; 4]>>(
        &self,
    ) -> Result<ScalarsView<'a, F>, BackendError> {
        if F::ID != self.field {
            return Err(BackendError::BadInput(format!(
                "scalars are {} but {} was expected",
                self.field,
                F::ID
            )));
        }
        Ok(ScalarsView {
            raw: *self,
            _f: PhantomData,
        })
    }
    /// Scalars `[start, start + len)`.
    pub fn slice(&self, start: usize, len: usize) -> Self {
        Self {
            limbs: &self.limbs[start..start + len],
            ..*self
        }
    }
}

/// A typed, borrowed array of scalars of `F`.
#[derive(Copy, Clone, Debug)]
pub struct ScalarsView<'a, F: PrimeField<Limbs = [u64; 4]>> {
    raw: RawScalars<'a>,
    _f: PhantomData<F>,
}

impl<'a, F: PrimeField<Limbs = [u64; 4]>> ScalarsView<'a, F> {
    /// A view of field elements (storage form, i.e. Montgomery).
    pub fn from_elements(s: &'a [F]) -> Self {
        Self {
            raw: RawScalars::new(F::ID, bytemuck::cast_slice(s), Encoding::Montgomery),
            _f: PhantomData,
        }
    }
    /// A view of canonical integers.
    pub fn from_canonical(s: &'a [[u64; 4]]) -> Self {
        Self {
            raw: RawScalars::new(F::ID, s, Encoding::Canonical),
            _f: PhantomData,
        }
    }
    /// The erased view.
    pub fn raw(&self) -> RawScalars<'a> {
        self.raw
    }
    /// Number of scalars.
    pub fn len(&self) -> usize {
        self.raw.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    /// Scalar `i` as a canonical integer (converted from Montgomery when needed; limbs not
    /// below the modulus give an unspecified value, so callers validate first).
    #[inline(always)]
    pub fn canonical(&self, i: usize) -> [u64; 4] {
        let l = &self.raw.limbs[i];
        match self.raw.encoding {
            Encoding::Canonical => *l,
            Encoding::Montgomery => F::from_montgomery(l).unwrap_or_default().to_canonical(),
        }
    }
    /// Index of the first scalar not below the modulus, if any.
    pub fn check_encoding(&self) -> Result<(), usize> {
        self.check_encoding_in(0..self.len())
    }

    /// [`ScalarsView::check_encoding`] for the scalars in `range` (clamped to the view).
    pub fn check_encoding_in(&self, range: core::ops::Range<usize>) -> Result<(), usize> {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        match self.raw.limbs[start..end]
            .iter()
            .position(|l| !F::below_modulus(l))
        {
            Some(i) => Err(start + i),
            None => Ok(()),
        }
    }
}
