//! Bucket accumulation for one window of Pippenger's method: affine buckets updated in
//! batches that share one field inversion, or XYZZ buckets for sparse windows.
//!
//! Adding an affine point to an affine bucket costs one inversion plus `2M + 1S`
//! (`λ = (y₂ − y₁)/(x₂ − x₁)`, `x₃ = λ² − x₁ − x₂`, `y₃ = λ(x₁ − x₃) − y₁`). Montgomery's
//! trick ("Speeding the Pollard and elliptic curve methods of factorization", 1987) replaces
//! `B` inversions by one inversion and `3(B − 1)` multiplications, so a batch of `B`
//! independent additions costs about `5M + 1S` each plus `inversion/B`, against `8M + 2S` for
//! a mixed XYZZ addition. The additions of one batch must be independent: each touches a
//! different bucket. A point whose bucket already has an addition pending in the current batch
//! waits in a queue and joins the next batch. This is the scheme of the ZPrize 2022 MSM
//! entries and of gnark-crypto's `multiexp_affine` (Aranha, Housni, Guillevic, "Faster
//! multi-scalar multiplication", and the gnark-crypto batch-affine write-up); written anew here.
//!
//! Special cases, all handled before a point joins a batch: an empty bucket takes the point as
//! it is; `x₁ = x₂, y₁ = −y₂` empties the bucket; `x₁ = x₂, y₁ = y₂` (a doubling, which random
//! inputs essentially never produce) goes into an XYZZ overflow bucket, so that every batch
//! entry uses the one addition formula. When the queue grows past a bound (many points in few
//! buckets: equal scalars, a sparse top window), the queued points go into the overflow buckets
//! too, so no input can make the batches degenerate into one inversion per point.
//!
//! The shared inversion is the variable-time [`Field::inverse_vartime`] (Bernstein–Yang
//! divsteps, about 50 multiplications' time instead of Fermat's 320): the values inverted are
//! bucket coordinates, whose access pattern the bucket method reveals anyway.
//!
//! Where the CPU has AVX-512 IFMA and the base field has four Montgomery limbs below `2²⁵⁴`
//! (BN254 G1) or six below `2³⁸²` (BLS12-381 and BLS12-377 G1), a batch runs on eight lanes
//! instead (module `msm::wide`): `insert` only records the bucket's value next to the point,
//! and the flush does the products of Montgomery's trick and the additions eight at a time.

use zkaccel_backend::field::Field;
use zkaccel_backend::{Affine, CurveGroup, Xyzz};

/// Signed-digit tables: `windows` digits per (virtual) point, point-major.
///
/// Digits of every window but the top one lie in `[−2^(c−1), 2^(c−1))` and are stored as
/// `i16`; the top window takes the final carry without recoding, so its digit lies in
/// `[0, 2^(c−1)]` and is stored as the bits of a `u16` (this keeps `c = 16` possible).
pub struct Digits<'a> {
    /// The digits, `windows` per point.
    pub data: &'a [i16],
    /// Digits per point.
    pub windows: usize,
}

impl Digits<'_> {
    /// `(|digit|, digit < 0)` of point `j` in window `w`.
    #[inline(always)]
    pub fn get(&self, j: usize, w: usize) -> (u32, bool) {
        let d = self.data[j * self.windows + w];
        if w + 1 == self.windows {
            (d as u16 as u32, false)
        } else {
            (d.unsigned_abs() as u32, d < 0)
        }
    }
}

/// Recodes the little-endian integer `v` into `out.len()` signed `c`-bit digits
/// (see [`Digits`]). `v` must be below `2^(out.len()·c − 1)`.
pub fn recode(v: &[u64], c: u32, out: &mut [i16]) {
    let windows = out.len();
    let half = 1i64 << (c - 1);
    let full = 1i64 << c;
    let mask = (1u64 << c) - 1;
    let mut carry = 0i64;
    for (w, d) in out.iter_mut().enumerate() {
        let bit = w * c as usize;
        let limb = bit / 64;
        let shift = bit % 64;
        let mut raw = if limb < v.len() { v[limb] >> shift } else { 0 };
        if shift + c as usize > 64 && limb + 1 < v.len() {
            raw |= v[limb + 1] << (64 - shift);
        }
        let mut digit = (raw & mask) as i64 + carry;
        if w + 1 == windows {
            debug_assert!(digit <= half, "value too large for the windows");
            *d = digit as u16 as i16;
        } else {
            carry = 0;
            if digit >= half {
                digit -= full;
                carry = 1;
            }
            *d = digit as i16;
        }
    }
}

/// Affine buckets with batched additions for one window.
pub struct BatchAffineBuckets<C: CurveGroup> {
    buckets: Vec<Affine<C>>,
    /// Batch number in which each bucket last got a pending addition.
    stamp: Vec<u32>,
    epoch: u32,
    batch_bucket: Vec<u32>,
    batch_point: Vec<Affine<C>>,
    /// The denominator `x₂ − x₁` of each pending addition.
    den: Vec<C::Base>,
    /// `prefix[k]` = product of the denominators of the entries before `k` with the same
    /// parity as `k`; [`Self::flush`] overwrites it with the inverse of entry `k`'s
    /// denominator.
    prefix: Vec<C::Base>,
    /// Running products of the denominators of the even and of the odd entries: two
    /// independent chains of multiplications, so that the processor overlaps them instead of
    /// waiting for each product's latency (the same in the backward pass of [`Self::flush`]).
    acc: [C::Base; 2],
    queue: Vec<(u32, Affine<C>)>,
    spare: Vec<(u32, Affine<C>)>,
    /// XYZZ buckets for what the affine batches do not take: doublings, and queued points
    /// past the queue bound.
    overflow: Option<Vec<Xyzz<C>>>,
    cap: usize,
    queue_cap: usize,
    /// The eight-lane flush, when the CPU and the field allow it.
    #[cfg(target_arch = "x86_64")]
    wide: Option<Wide>,
    /// Wide flush only: the value of each pending entry's bucket, and the new values.
    batch_old: Vec<Affine<C>>,
    batch_new: Vec<Affine<C>>,
}

/// The eight-lane flush of one base-field shape ([`super::wide::WideFlush`]).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
enum Wide {
    /// Four 64-bit limbs, five 52-bit lane limbs (BN254).
    Four(super::wide::WideFlush<4, 5>),
    /// Six 64-bit limbs, eight 52-bit lane limbs (BLS12-381, BLS12-377).
    Six(super::wide::WideFlush<6, 8>),
}

/// The eight-lane flush for curve `C`, when its affine points are two Montgomery coordinates
/// of four or six limbs (`[x, y]`) of a prime base field and the CPU has AVX-512 IFMA.
#[cfg(target_arch = "x86_64")]
fn wide_flush<C: CurveGroup>() -> Option<Wide> {
    use super::wide::WideFlush;
    let same_field = core::mem::size_of::<C::Base>() == core::mem::size_of::<C::BasePrime>()
        && bytemuck::bytes_of(&C::Base::ONE) == bytemuck::bytes_of(&C::BasePrime::ONE);
    if !same_field {
        return None;
    }
    fn shape<C: CurveGroup, const L: usize, const N: usize>() -> Option<WideFlush<L, N>> {
        let layout = core::mem::size_of::<Affine<C>>() == 16 * L
            && core::mem::align_of::<Affine<C>>() >= core::mem::align_of::<u64>();
        let p = crate::mont_modulus::<C::BasePrime, L>().filter(|_| layout)?;
        let mut alpha = C::BasePrime::ONE;
        for _ in 0..WideFlush::<L, N>::ALPHA_LOG2 {
            alpha = alpha.double();
        }
        // `BasePrime` is `L` limbs of words (`mont_modulus`), so the cast fits.
        WideFlush::new(p, bytemuck::cast(alpha))
    }
    shape::<C, 4, 5>()
        .map(Wide::Four)
        .or_else(|| shape::<C, 6, 8>().map(Wide::Six))
}

impl<C: CurveGroup> BatchAffineBuckets<C> {
    /// `buckets` empty buckets, batches of up to `cap` additions.
    pub fn new(buckets: usize, cap: usize) -> Self {
        let cap = cap.max(1);
        Self {
            buckets: vec![Affine::IDENTITY; buckets],
            stamp: vec![0; buckets],
            epoch: 1,
            batch_bucket: Vec::with_capacity(cap),
            batch_point: Vec::with_capacity(cap),
            den: Vec::with_capacity(cap),
            prefix: Vec::with_capacity(cap),
            acc: [C::Base::ONE; 2],
            queue: Vec::with_capacity(cap),
            spare: Vec::with_capacity(cap),
            overflow: None,
            cap,
            queue_cap: 4 * cap,
            #[cfg(target_arch = "x86_64")]
            wide: wide_flush::<C>(),
            batch_old: Vec::new(),
            batch_new: Vec::new(),
        }
    }

    /// True when batches run on the eight-lane path.
    #[inline(always)]
    fn is_wide(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        return self.wide.is_some();
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    /// The same buckets with the scalar flush only (for tests of the wide one).
    #[cfg(test)]
    pub fn scalar_only(mut self) -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            self.wide = None;
        }
        self
    }

    /// Hints the processor to fetch bucket `b` (and its stamp) into cache: bucket accesses are
    /// random, and the arrays outgrow the L2 cache for the larger windows.
    #[inline(always)]
    pub fn prefetch(&self, b: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            if b < self.buckets.len() {
                let bucket = self.buckets[b..].as_ptr() as *const i8;
                let stamp = self.stamp[b..].as_ptr() as *const i8;
                // SAFETY: SSE is part of the x86_64 baseline; a prefetch never faults and both
                // pointers are in bounds of their arrays.
                unsafe {
                    _mm_prefetch::<_MM_HINT_T0>(bucket);
                    _mm_prefetch::<_MM_HINT_T0>(stamp);
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = b;
    }

    /// Hints the processor to fetch bucket `b` (not its stamp) into cache.
    #[inline(always)]
    fn prefetch_bucket(&self, b: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            if b < self.buckets.len() {
                // SAFETY: SSE is part of the x86_64 baseline; a prefetch never faults and the
                // pointer is in bounds of the array.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(self.buckets[b..].as_ptr() as *const i8) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = b;
    }

    /// Adds the (non-identity) point `p` into bucket `b`.
    #[inline(always)]
    pub fn add(&mut self, b: usize, p: Affine<C>) {
        self.insert(b as u32, p);
        if self.batch_bucket.len() >= self.cap {
            self.flush();
            self.drain_queue();
        }
    }

    /// Schedules `bucket += p`, or queues it when `bucket` is busy in this batch.
    #[inline(always)]
    fn insert(&mut self, b: u32, p: Affine<C>) {
        let bi = b as usize;
        if self.stamp[bi] == self.epoch {
            self.queue.push((b, p));
            if self.queue.len() > self.queue_cap {
                self.spill_queue();
            }
            return;
        }
        let bucket = &mut self.buckets[bi];
        if bucket.is_identity() {
            *bucket = p;
            return;
        }
        if bucket.x == p.x {
            if bucket.y == p.y && !p.y.is_zero() {
                // P + P: a doubling, rare outside crafted inputs. It goes to the XYZZ overflow
                // bucket, which keeps the batch free of a second formula (and of its branch).
                self.overflow_add(bi, &p);
            } else {
                // P + (−P), or the double of a 2-torsion point: the bucket empties.
                *bucket = Affine::IDENTITY;
            }
            return;
        }
        let old = *bucket;
        self.stamp[bi] = self.epoch;
        if self.is_wide() {
            // The eight-lane flush does all the products.
            self.batch_old.push(old);
        } else {
            let den = p.x - old.x;
            let chain = &mut self.acc[self.batch_bucket.len() & 1];
            self.prefix.push(*chain);
            *chain *= den;
            self.den.push(den);
        }
        self.batch_bucket.push(b);
        self.batch_point.push(p);
    }

    /// `overflow[b] += p`.
    #[cold]
    fn overflow_add(&mut self, b: usize, p: &Affine<C>) {
        let n = self.buckets.len();
        self.overflow.get_or_insert_with(|| vec![Xyzz::IDENTITY; n])[b].add_affine_assign(p);
    }

    /// Performs the pending additions with one inversion.
    ///
    /// Two passes keep the products of different entries independent, so that the processor
    /// can overlap them instead of waiting on one long chain: the backward pass turns
    /// `prefix[k]` into `1/den[k]` along two interleaved chains; the forward pass then does
    /// the additions two at a time, each a chain of three products that does not depend on
    /// the other entries.
    fn flush(&mut self) {
        let len = self.batch_bucket.len();
        if len == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(wide) = self.wide {
            match wide {
                Wide::Four(w) => self.flush_wide(&w),
                Wide::Six(w) => self.flush_wide(&w),
            }
            self.end_batch();
            return;
        }
        // Non-zero: a product of non-zero denominators. One inversion serves both chains:
        // 1/a₀ = a₁/(a₀a₁) and 1/a₁ = a₀/(a₀a₁).
        let [a0, a1] = self.acc;
        let both = (a0 * a1).inverse_vartime().expect("non-zero product");
        let mut chain_inv = [both * a1, both * a0];
        for k in (0..len).rev() {
            let inv = &mut chain_inv[k & 1];
            let inv_k = *inv * self.prefix[k];
            *inv *= self.den[k];
            self.prefix[k] = inv_k;
        }
        // The buckets were fetched when their additions were scheduled, but a batch touches
        // more of them than the L1/L2 caches keep: fetch them again a few entries ahead.
        const AHEAD: usize = 8;
        let mut k = 0;
        while k + 2 <= len {
            if k + AHEAD + 1 < len {
                self.prefetch_bucket(self.batch_bucket[k + AHEAD] as usize);
                self.prefetch_bucket(self.batch_bucket[k + AHEAD + 1] as usize);
            }
            // Both sums are computed before either is stored: their buckets differ, and the
            // two chains of products overlap.
            let (ba, sa) = self.entry_sum(k);
            let (bb, sb) = self.entry_sum(k + 1);
            self.buckets[ba] = sa;
            self.buckets[bb] = sb;
            k += 2;
        }
        if k < len {
            let (b, sum) = self.entry_sum(k);
            self.buckets[b] = sum;
        }
        self.end_batch();
    }

    /// Empties the batch and starts the next one.
    fn end_batch(&mut self) {
        self.batch_bucket.clear();
        self.batch_point.clear();
        self.batch_old.clear();
        self.den.clear();
        self.prefix.clear();
        self.acc = [C::Base::ONE; 2];
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // Stamps from 2³² batches ago could collide: start over.
            self.stamp.fill(0);
            self.epoch = 1;
        }
    }

    /// [`Self::flush`] on eight lanes ([`super::wide`]): pads the batch to a multiple of 8
    /// with `(1, 0) + (0, 0)` (denominator 1, as words), runs it, and writes the new bucket
    /// values.
    #[cfg(target_arch = "x86_64")]
    fn flush_wide<const L: usize, const N: usize>(&mut self, wide: &super::wide::WideFlush<L, N>) {
        use super::wide::Pair;
        let len = self.batch_bucket.len();
        let n = len.next_multiple_of(8);
        let one: [u64; L] = core::array::from_fn(|i| (i == 0) as u64);
        let pad = Affine::new(bytemuck::cast(one), C::Base::ZERO);
        self.batch_point.resize(n, pad);
        self.batch_old.resize(n, Affine::IDENTITY);
        self.den.resize(n, C::Base::ZERO);
        self.prefix.resize(n, C::Base::ZERO);
        self.batch_new.resize(n, Affine::IDENTITY);
        let pairs = |v: &[Affine<C>]| {
            // SAFETY: `Affine<C>` is `repr(C)` `{x, y}` of an `8L`-byte `Pod` field, `16L`
            // bytes aligned like `u64` (checked in `wide_flush`, which made `wide` exist): the
            // layout of `[[u64; L]; 2]`, and any bits are valid words.
            unsafe { core::slice::from_raw_parts(v.as_ptr() as *const Pair<L>, v.len()) }
        };
        // SAFETY: as above, for the new values, exclusively borrowed.
        let out = unsafe {
            core::slice::from_raw_parts_mut(self.batch_new.as_mut_ptr() as *mut Pair<L>, n)
        };
        wide.run(
            pairs(&self.batch_point),
            pairs(&self.batch_old),
            bytemuck::cast_slice_mut(&mut self.den),
            bytemuck::cast_slice_mut(&mut self.prefix),
            out,
            |tot| {
                // ALPHA/t for the 16 totals with one inversion (Montgomery's trick).
                let vals: [C::Base; 16] = tot.map(bytemuck::cast);
                let mut before = [C::Base::ONE; 16];
                let mut all = C::Base::ONE;
                for (b, v) in before.iter_mut().zip(&vals) {
                    *b = all;
                    all *= *v;
                }
                let alpha: C::Base = bytemuck::cast(wide.alpha);
                let mut inv = all.inverse_vartime().expect("non-zero product") * alpha;
                for i in (0..16).rev() {
                    tot[i] = bytemuck::cast(inv * before[i]);
                    inv *= vals[i];
                }
            },
        );
        for (&b, sum) in self.batch_bucket.iter().zip(&self.batch_new[..len]) {
            self.buckets[b as usize] = *sum;
        }
    }

    /// The bucket of pending entry `k` and its new value, `bucket + point`, once
    /// `prefix[k]` holds `1/den[k]`.
    #[inline(always)]
    fn entry_sum(&self, k: usize) -> (usize, Affine<C>) {
        let b = self.batch_bucket[k] as usize;
        let q = &self.buckets[b];
        let p = &self.batch_point[k];
        let lambda = (p.y - q.y) * self.prefix[k];
        let x3 = lambda.square() - q.x - p.x;
        let y3 = lambda * (q.x - x3) - q.y;
        (b, Affine::new(x3, y3))
    }

    /// Re-schedules the queued points (after a flush, every bucket is free again).
    fn drain_queue(&mut self) {
        let mut q = core::mem::replace(&mut self.queue, core::mem::take(&mut self.spare));
        for (b, p) in q.drain(..) {
            self.insert(b, p);
            if self.batch_bucket.len() >= self.cap {
                self.flush();
            }
        }
        self.spare = q;
    }

    /// Moves every queued point into XYZZ overflow buckets.
    fn spill_queue(&mut self) {
        let mut q = core::mem::take(&mut self.queue);
        for (b, p) in q.drain(..) {
            self.overflow_add(b as usize, &p);
        }
        self.queue = q;
    }

    /// Completes every pending addition and returns `Σ_k (k+1)·bucket_k`.
    pub fn finish(mut self) -> Xyzz<C> {
        loop {
            self.flush();
            if self.queue.is_empty() {
                break;
            }
            self.drain_queue();
        }
        weighted_sum(&self.buckets, self.overflow.as_deref())
    }
}

/// `Σ_k (k+1)·(buckets[k] + extra[k])` by running sums.
///
/// Each running-sum step depends on the one before, so a single pass runs at the latency of
/// the XYZZ formulas, not at the multiplier's throughput. The buckets are therefore cut into
/// `SEGMENTS` consecutive segments of `L` buckets whose running sums advance side by side
/// (independent chains the processor overlaps). Segment `s` yields `T_s = Σ_j (j+1)·B_{sL+j}`
/// and `R_s = Σ_j B_{sL+j}`, and `Σ_k (k+1)·B_k = Σ_s T_s + L·Σ_s s·R_s`; the last sum is
/// one more short running sum and `L·` a few doublings and additions.
pub fn weighted_sum<C: CurveGroup>(buckets: &[Affine<C>], extra: Option<&[Xyzz<C>]>) -> Xyzz<C> {
    const SEGMENTS: usize = 4;
    let n = buckets.len();
    let seg = n.div_ceil(SEGMENTS);
    let mut running = [Xyzz::<C>::IDENTITY; SEGMENTS];
    let mut sums = [Xyzz::<C>::IDENTITY; SEGMENTS];
    for j in (0..seg).rev() {
        for (s, r) in running.iter_mut().enumerate() {
            let k = s * seg + j;
            if k < n {
                r.add_affine_assign(&buckets[k]);
                if let Some(e) = extra {
                    r.add_assign(&e[k]);
                }
            }
        }
        for (t, r) in sums.iter_mut().zip(&running) {
            t.add_assign(r);
        }
    }
    // Σ_s s·R_s, by running sums over the segments.
    let mut acc = Xyzz::<C>::IDENTITY;
    let mut weighted = Xyzz::<C>::IDENTITY;
    for r in running[1..].iter().rev() {
        acc.add_assign(r);
        weighted.add_assign(&acc);
    }
    // L·weighted by double-and-add (L < 2^16).
    let mut total = Xyzz::<C>::IDENTITY;
    for bit in (0..usize::BITS - seg.leading_zeros()).rev() {
        total = total.double();
        if (seg >> bit) & 1 == 1 {
            total.add_assign(&weighted);
        }
    }
    for t in &sums {
        total.add_assign(t);
    }
    total
}

/// `Σ_j digit(j, w)·point(j)` over `range` with affine buckets in batches of `cap`.
///
/// `point(j)` must not be the identity where the digit is non-zero; `negate(j)` flips the
/// sign of point `j` (the sign of a GLV half).
pub fn window_sum_batch_affine<C, G, N>(
    point: &G,
    negate: &N,
    digits: &Digits<'_>,
    w: usize,
    range: core::ops::Range<usize>,
    buckets: usize,
    cap: usize,
) -> Xyzz<C>
where
    C: CurveGroup,
    G: Fn(usize) -> Affine<C>,
    N: Fn(usize) -> bool,
{
    /// How many points ahead the bucket of a point is prefetched.
    const AHEAD: usize = 12;
    let mut acc = BatchAffineBuckets::<C>::new(buckets, cap);
    let end = range.end;
    for j in range {
        if j + AHEAD < end {
            let (m, _) = digits.get(j + AHEAD, w);
            acc.prefetch((m as usize).wrapping_sub(1));
        }
        let (m, neg) = digits.get(j, w);
        if m == 0 {
            continue;
        }
        let mut p = point(j);
        if neg ^ negate(j) {
            p.y = -p.y;
        }
        acc.add(m as usize - 1, p);
    }
    acc.finish()
}

/// The same sum with XYZZ buckets and mixed additions (for sparse windows and small inputs).
pub fn window_sum_xyzz<C, G, N>(
    point: &G,
    negate: &N,
    digits: &Digits<'_>,
    w: usize,
    range: core::ops::Range<usize>,
    buckets: usize,
) -> Xyzz<C>
where
    C: CurveGroup,
    G: Fn(usize) -> Affine<C>,
    N: Fn(usize) -> bool,
{
    let mut b = vec![Xyzz::<C>::IDENTITY; buckets];
    let mut top = 0;
    for j in range {
        let (m, neg) = digits.get(j, w);
        if m == 0 {
            continue;
        }
        let mut p = point(j);
        if neg ^ negate(j) {
            p.y = -p.y;
        }
        let k = m as usize - 1;
        top = top.max(k + 1);
        b[k].add_affine_assign(&p);
    }
    let mut running = Xyzz::<C>::IDENTITY;
    let mut sum = Xyzz::<C>::IDENTITY;
    for bucket in b[..top].iter().rev() {
        running.add_assign(bucket);
        sum.add_assign(&running);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkaccel_backend::curves::{Bls12_377G1, Bls12_381G1, Bls12_381G2, Bn254Fq, Bn254G1};
    use zkaccel_backend::field::{batch_inverse, PrimeField};
    use zkaccel_backend::Projective;

    fn points<C: CurveGroup>(n: usize, seed: u64) -> Vec<Affine<C>> {
        let g = Projective::<C>::generator();
        let mut acc = g.mul(&C::Scalar::from_u64(seed + 2));
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(acc);
            acc = acc.double().add(&g);
        }
        Projective::batch_to_affine(&v)
    }

    /// Σ (b+1)·P over (bucket, point) pairs, the slow way.
    fn expected<C: CurveGroup>(adds: &[(usize, Affine<C>)]) -> Projective<C> {
        adds.iter().fold(Projective::IDENTITY, |acc, (b, p)| {
            acc.add(&Projective::from(*p).mul_limbs(&[*b as u64 + 1]))
        })
    }

    /// Both flushes (the eight-lane one where the CPU has it, and the scalar one) against
    /// the slow sum.
    fn run<C: CurveGroup>(adds: &[(usize, Affine<C>)], buckets: usize, cap: usize) {
        let want = expected(adds);
        for scalar in [false, true] {
            let mut acc = BatchAffineBuckets::<C>::new(buckets, cap);
            if scalar {
                acc = acc.scalar_only();
            }
            for (b, p) in adds {
                acc.add(*b, *p);
            }
            assert_eq!(
                acc.finish().to_projective(),
                want,
                "{} adds, cap {cap}, scalar flush {scalar}",
                adds.len()
            );
        }
    }

    /// Which flush each group gets here: the eight-lane one (it needs AVX-512 IFMA) for the
    /// three G1 groups, never for G2 (coordinates in F_q²).
    #[test]
    fn wide_flush_for_g1_only() {
        let wide = [
            BatchAffineBuckets::<Bn254G1>::new(4, 8).is_wide(),
            BatchAffineBuckets::<Bls12_381G1>::new(4, 8).is_wide(),
            BatchAffineBuckets::<Bls12_377G1>::new(4, 8).is_wide(),
        ];
        println!("BN254, BLS12-381, BLS12-377 G1 batch on eight lanes: {wide:?}");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            wide,
            [std::arch::is_x86_feature_detected!("avx512ifma")
                && std::env::var("ZKACCEL_CPU_IFMA").map_or(true, |v| v != "0")
                && crate::avx512_enabled(); 3]
        );
        assert!(!BatchAffineBuckets::<Bls12_381G2>::new(4, 8).is_wide());
        assert!(!BatchAffineBuckets::<zkaccel_backend::curves::Bn254G2>::new(4, 8).is_wide());
    }

    #[test]
    fn batch_inverse_edge_cases() {
        let mut empty: Vec<Bn254Fq> = vec![];
        batch_inverse(&mut empty);
        let mut one = vec![Bn254Fq::from_u64(7)];
        batch_inverse(&mut one);
        assert_eq!(one[0] * Bn254Fq::from_u64(7), Bn254Fq::ONE);
        let vals: Vec<Bn254Fq> = [3u64, 0, 5, 0, 9]
            .iter()
            .map(|&v| Bn254Fq::from_u64(v))
            .collect();
        let mut inv = vals.clone();
        batch_inverse(&mut inv);
        for (v, i) in vals.iter().zip(&inv) {
            if v.is_zero() {
                assert!(i.is_zero());
            } else {
                assert_eq!(*v * *i, Bn254Fq::ONE);
            }
        }
    }

    #[test]
    fn all_points_equal_one_bucket() {
        all_points_equal::<Bn254G1>();
        all_points_equal::<Bls12_381G1>();
        all_points_equal::<Bls12_377G1>();
    }

    fn all_points_equal<C: CurveGroup>() {
        let p = points::<C>(1, 1)[0];
        for n in 0..12 {
            let adds: Vec<_> = (0..n).map(|_| (0usize, p)).collect();
            run(&adds, 4, 3);
        }
        // Past the queue bound: the overflow buckets take over.
        let adds: Vec<_> = (0..200).map(|i| (i % 2, p)).collect();
        run(&adds, 4, 8);
    }

    #[test]
    fn opposite_points_cancel() {
        opposite_points::<Bn254G1>();
        opposite_points::<Bls12_381G1>();
        opposite_points::<Bls12_377G1>();
    }

    fn opposite_points<C: CurveGroup>() {
        let pts = points::<C>(4, 3);
        let mut adds = vec![];
        for p in &pts {
            adds.push((1, *p));
            adds.push((1, p.neg()));
            adds.push((2, p.neg()));
        }
        adds.push((2, pts[0]));
        adds.push((2, pts[0]));
        for cap in [1, 2, 3, 64] {
            run(&adds, 3, cap);
        }
        // P, −P, P again into one bucket: empty, then P.
        let p = pts[1];
        run(&[(0, p), (0, p.neg()), (0, p)], 1, 1);
        run(&[(0, p), (0, p), (0, p.neg()), (0, p.neg().neg())], 1, 2);
    }

    #[test]
    fn random_buckets_around_batch_boundaries() {
        random_buckets::<Bn254G1>();
        random_buckets::<Bls12_381G1>();
        random_buckets::<Bls12_377G1>();
        // Same in G2 (coordinates in F_q²).
        let g2 = points::<Bls12_381G2>(20, 2);
        let adds: Vec<_> = (0..40).map(|i| (i % 5, g2[i % 20])).collect();
        run(&adds, 5, 4);
    }

    fn random_buckets<C: CurveGroup>() {
        let pts = points::<C>(300, 5);
        let mut state = 99u64;
        for n in [0, 1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 300] {
            let adds: Vec<_> = (0..n)
                .map(|i| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((state >> 40) as usize % 13, pts[(i * 7) % pts.len()])
                })
                .collect();
            for cap in [1, 8, 16, 64] {
                run(&adds, 13, cap);
            }
        }
    }

    #[test]
    fn weighted_sum_matches_naive() {
        let pts = points::<Bn254G1>(120, 11);
        for n in [0usize, 1, 2, 3, 4, 5, 7, 8, 9, 31, 100, 120] {
            let mut buckets = pts[..n].to_vec();
            // Some empty buckets, and a bucket equal to a neighbour's running sum.
            for i in (0..n).step_by(5) {
                buckets[i] = Affine::IDENTITY;
            }
            let extra: Vec<Xyzz<Bn254G1>> = (0..n)
                .map(|i| {
                    let mut x = Xyzz::IDENTITY;
                    if i % 3 == 0 {
                        x.add_affine_assign(&pts[(i * 7) % 120]);
                    }
                    x
                })
                .collect();
            let naive = |with_extra: bool| {
                (0..n).fold(Projective::<Bn254G1>::IDENTITY, |acc, k| {
                    let mut b = Projective::from(buckets[k]);
                    if with_extra {
                        b = b.add(&extra[k].to_projective());
                    }
                    acc.add(&b.mul_limbs(&[k as u64 + 1]))
                })
            };
            assert_eq!(
                weighted_sum(&buckets, None).to_projective(),
                naive(false),
                "n = {n}"
            );
            assert_eq!(
                weighted_sum(&buckets, Some(&extra)).to_projective(),
                naive(true),
                "n = {n} with overflow"
            );
        }
    }

    #[test]
    fn recode_round_trips() {
        for c in [2u32, 5, 13, 16] {
            for v in [
                0u128,
                1,
                (1 << 126) + 12345,
                (1u128 << 127) - 1,
                0x5555_aaaa_1234,
            ] {
                let windows = (128 + c as usize).div_ceil(c as usize);
                let mut out = vec![0i16; windows];
                recode(&[v as u64, (v >> 64) as u64], c, &mut out);
                let d = Digits {
                    data: &out,
                    windows,
                };
                // Horner's rule modulo 2^128: a prefix may pass 2^127 (a negative low digit
                // borrows from it), but the final value is in [0, 2^128), so wrapping
                // arithmetic gives it exactly.
                let mut back: i128 = 0;
                for w in (0..windows).rev() {
                    let (m, neg) = d.get(0, w);
                    assert!(m <= 1 << (c - 1));
                    let digit = if neg { -(m as i128) } else { m as i128 };
                    back = back.wrapping_shl(c).wrapping_add(digit);
                }
                assert_eq!(back as u128, v, "c = {c}");
            }
        }
    }
}
