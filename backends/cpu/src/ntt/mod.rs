//! CPU NTT: radix-2 transforms over a precomputed domain, every input/output order, cosets,
//! inverse, and batches of columns in either layout.
//!
//! # Semantics
//!
//! A domain ([`CpuNttDomain`]) has size `n = 2^log_n` and root `ω = spec.root`, a primitive
//! `n`-th root of unity (checked when the domain is built). For `n = 1` every transform is the
//! identity.
//!
//! - **Forward**: `y_i = Σ_j x_j ω^(ij)`.
//! - **Inverse**: `x_j = n⁻¹ Σ_i y_i ω^(−ij)` (scaled by `1/n`, so inverse∘forward = id).
//! - **Coset** `g` (`cfg.coset`, canonical limbs, non-zero): the forward transform evaluates on
//!   `g·H`, `y_i = Σ_j x_j (g ω^i)^j` (the coefficients are scaled by `g^j`, then transformed);
//!   the inverse interpolates from `g·H` (inverse transform, then `x_j` scaled by `g^(−j)`).
//!   The scaling always applies to the coefficient index `j` in natural order: with
//!   bit-reversed coefficients, position `i` holds coefficient `bitreverse(i)` and is scaled by
//!   `g^bitreverse(i)`.
//! - **Orders**: `Natural` (index `i` holds element `i`) or `BitReversed` (index `i` holds
//!   element `bitreverse(i, log_n)`), independently for input and output; all four
//!   combinations are supported in both directions.
//! - **Batches**: `cfg.batch ≥ 1` columns; `Contiguous` (column `c` is
//!   `data[c·n..(c+1)·n]`) or `Interleaved` (row-major `n × batch` matrix, element `i` of
//!   column `c` at `i·batch + c`, Plonky3's `RowMajorMatrix`).
//!
//! # Algorithm
//!
//! Two in-place kernels, both reading one table of `n/2` twiddles stored in **bit-reversed
//! order**, `T[k] = ρ^bitreverse(k, log_n − 1)` (`ρ = ω` for the forward transform, `ρ = ω⁻¹`
//! for the inverse):
//!
//! - `nr` — natural in, bit-reversed out. This is the FFT as a remainder tree (the "FFT
//!   trick" of D. J. Bernstein, "Fast multiplication and its applications", 2008): a block of
//!   `2m` values holding `a mod (x^(2m) − c²)` is split into `a mod (x^m − c)` and
//!   `a mod (x^m + c)` by Cooley–Tukey butterflies `(lo, hi) ← (lo + c·hi, lo − c·hi)` with
//!   **one twiddle `c` per block**. Block `k` of level `ℓ` uses `c = T[k]` (its children are
//!   blocks `2k` and `2k + 1`), so level `ℓ` reads the prefix `T[0..2^ℓ]` in order, and the
//!   outputs come out bit-reversed. (The natural → bit-reversed ordering with bit-reversed
//!   twiddles of E. Chu and A. George, *Inside the FFT Black Box*, 2000, and of the reference
//!   NTT of Kyber.)
//! - `rn` — bit-reversed in, natural out: the same tree run backwards with Gentleman–Sande
//!   butterflies `(lo, hi) ← (lo + hi, (lo − hi)·c)` (W. M. Gentleman and G. Sande, "Fast
//!   Fourier transforms — for fun and profit", 1966). With the table of `ρ` it computes
//!   `DFT_ρ ∘ bitreverse`, which is `n` times the inverse of `nr` with the table of `ρ⁻¹`:
//!   so `rn` with `T_ω` is the forward transform from bit-reversed input, and with `T_ω⁻¹` the
//!   (unscaled) inverse to natural output.
//!
//! So the common orders (forward N→R and R→N, inverse R→N and N→R) need no permutation;
//! N→N and R→R add one in-place, cache-blocked bit-reversal permutation. The `1/n` and the
//! coset powers are applied in one extra elementwise pass, computed on the fly (running
//! products in parallel chunks; for bit-reversed positions, a 256-entry stack table for the
//! low bits times a per-chunk factor for the high bits), so a call allocates nothing.
//!
//! Because each block uses a single twiddle, a butterfly between two *rows* of `batch`
//! elements is the same broadcast multiply-add over `2·batch` contiguous elements as between
//! two elements. So the `Interleaved` layout is transformed in place, row-wise, by the very
//! same kernels (a "row" is just a wider element): every butterfly streams two contiguous
//! runs of `m·batch` elements, which is cache- and prefetch-friendly and needs neither a
//! transpose (two extra passes over memory plus a scratch buffer or a slow in-place
//! transpose) nor strided access. Plonky3's radix-2 DFTs likewise work on whole rows.
//!
//! # Parallelism and cache
//!
//! The kernels recurse depth first (a block's butterflies, then its halves in `rayon::join`;
//! for `rn` the other way round), so once a block fits in cache all its remaining levels run
//! there. Blocks of at most `LEAF_BYTES` are finished by a plain level-by-level loop; above
//! that, each step does two levels in one radix-4 pass (the same arithmetic as two radix-2
//! levels, half the passes over memory). Large blocks split their butterflies into chunks
//! (`par_chunks_mut`), so even the first levels use every thread. `Contiguous` batches are
//! also parallelised across columns. Work runs on the domain's pool when it has one
//! (`pool.install`), else on rayon's global pool. Everything is generic over the field and
//! monomorphised per field; the hot loops have no allocation and no dynamic dispatch.
//!
//! Single columns of at least `BLOCKED_MIN_BYTES` take a cache-blocked two-step path
//! ([`blocked`], Bailey's four-step decomposition fitted to these kernels): the top half of
//! the levels runs on column tiles gathered into an L2-sized buffer, the bottom half on
//! contiguous rows, so memory is read and written twice per transform instead of once per
//! pair of levels above the cache size.
//!
//! # Arithmetic
//!
//! The kernels are generic over their butterfly arithmetic ([`arith`]). Every field works
//! with its own operations; 4-limb Montgomery fields with `p < 2²⁵⁴` (BN254 and BLS12-377
//! scalars) use lazily reduced values in `[0, 2p)` between levels (Harvey's butterflies),
//! made canonical by the last level, and a Montgomery product without final subtraction
//! written with `mulx`/`adcx`/`adox` when the CPU has BMI2 and ADX (detected at run time;
//! a portable loop otherwise, tested to give identical words). Where the CPU has AVX-512
//! IFMA, every run of at least eight butterflies with one twiddle takes an eight-lane path
//! in radix 2⁵² instead (module `ifma`); the shorter blocks of the last levels and the tails
//! stay on the scalar butterflies.
//!
//! Goldilocks takes its own eight-lane butterflies where the CPU has AVX-512F (module `gold`:
//! canonical values, 64×64-bit products from four `vpmuludq`, Plonky2's reduction), with the
//! same split between runs of at least eight butterflies and the scalar rest.

mod arith;
mod blocked;
#[cfg(target_arch = "x86_64")]
mod gold;
#[cfg(target_arch = "x86_64")]
mod ifma;
mod kernels;

use arith::{Arith, Mont4Lazy, Plain};
use rayon::prelude::*;
use std::sync::Arc;
use zkaccel_backend::backend::decode_padded;
use zkaccel_backend::{
    BackendError, BackendNttDomain, BackendResult, BatchLayout, Field, NttConfig, NttData,
    NttDirection, NttDomainSpec, NttOrder, PrimeField, TwoAdicField,
};

/// Blocks of at most this many bytes run all their remaining levels in a sequential
/// level-by-level loop (they are in L1/L2 by then).
const LEAF_BYTES: usize = 1 << 15;

/// Single columns of at least this many bytes take the cache-blocked two-step path
/// ([`blocked`]).
const BLOCKED_MIN_BYTES: usize = 1 << 22;

/// Blocks of at least this many elements recurse into their halves in parallel.
const PAR_MIN: usize = 1 << 12;

/// Elements per parallel task in butterfly passes and elementwise passes.
const CHUNK: usize = 1 << 12;

/// Largest tile of the bit-reversal permutation: `2^4 × 2^4` rows.
const MAX_TILE_BITS: u32 = 4;

/// Elements in each of the two tile buffers of the bit-reversal permutation.
const TILE_BUF: usize = 256;

/// An NTT domain on the CPU: the spec, the twiddles of `ω` and of `ω⁻¹` (each `n/2`
/// elements, in bit-reversed order) and `n⁻¹`.
pub struct CpuNttDomain<F: TwoAdicField> {
    spec: NttDomainSpec,
    log_n: u32,
    /// `ω^bitreverse(k, log_n − 1)` for `k < n/2`.
    tw: Vec<F>,
    /// `ω^(−bitreverse(k, log_n − 1))` for `k < n/2`.
    tw_inv: Vec<F>,
    /// `n⁻¹`.
    n_inv: F,
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl<F: TwoAdicField> CpuNttDomain<F> {
    /// Builds the domain: checks the root and precomputes the twiddles of `ω` and `ω⁻¹` and
    /// `n⁻¹`. `pool`: where the work runs (`None`: rayon's global pool).
    ///
    /// Errors: `BadInput` when the spec is for another field, when `log_n` exceeds the
    /// field's two-adicity, or when the root is not a primitive `2^log_n`-th root of unity;
    /// `OutOfMemory` when the twiddle tables cannot be allocated.
    pub fn new(spec: &NttDomainSpec, pool: Option<Arc<rayon::ThreadPool>>) -> BackendResult<Self> {
        if spec.field != F::ID {
            return Err(BackendError::BadInput(format!(
                "NTT domain is for {} but the CPU domain was built for {}",
                spec.field,
                F::ID
            )));
        }
        let log_n = spec.log_n;
        if log_n > F::TWO_ADICITY || log_n >= usize::BITS - 1 {
            return Err(BackendError::BadInput(format!(
                "NTT size 2^{log_n} exceeds the two-adicity 2^{} of {}",
                F::TWO_ADICITY,
                F::ID
            )));
        }
        let omega = spec.root_as::<F>()?;
        let n = 1usize << log_n;
        let half = n / 2;
        let build = || -> BackendResult<(Vec<F>, Vec<F>)> {
            let mut tw = alloc_elems::<F>(half)?;
            let mut tw_inv = alloc_elems::<F>(half)?;
            // Natural-order powers ω^j, j < n/2: running products in parallel chunks.
            tw.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
                let mut p = omega.pow(&[(c * CHUNK) as u64]);
                for x in chunk.iter_mut() {
                    *x = p;
                    p *= omega;
                }
            });
            // ω is a primitive n-th root iff ω^(n/2) = −1 (then its order divides n but not
            // n/2); for n = 1 the only such root is 1.
            let ok = if half == 0 {
                omega == F::ONE
            } else {
                tw[half - 1] * omega == -F::ONE
            };
            if !ok {
                return Err(BackendError::BadInput(format!(
                    "NTT root {:?} is not a primitive 2^{log_n}-th root of unity in {}",
                    spec.root,
                    F::ID
                )));
            }
            // ω^(−j) = ω^(n − j) = −ω^(n/2 − j) for 0 < j < n/2: no inversions needed.
            if half > 0 {
                tw_inv[0] = F::ONE;
                let src = &tw;
                tw_inv[1..]
                    .par_iter_mut()
                    .with_min_len(CHUNK)
                    .enumerate()
                    .for_each(|(j, x)| *x = -src[half - 1 - j]);
                bit_reverse_rows(&mut tw, log_n - 1, 1);
                bit_reverse_rows(&mut tw_inv, log_n - 1, 1);
            }
            Ok((tw, tw_inv))
        };
        let (tw, tw_inv) = match &pool {
            Some(p) => p.install(build),
            None => build(),
        }?;
        let n_inv = F::from_u64(n as u64)
            .inverse()
            .ok_or_else(|| BackendError::BadInput(format!("n = {n} is not invertible")))?;
        Ok(Self {
            spec: spec.clone(),
            log_n,
            tw,
            tw_inv,
            n_inv,
            pool,
        })
    }

    /// `n = 2^log_n`.
    pub fn size(&self) -> usize {
        1usize << self.log_n
    }

    /// Transforms `cfg.batch` columns of `n` elements in place, as described in the
    /// [module documentation](self).
    ///
    /// Errors (`BadInput`, nothing is modified): `cfg.batch == 0`, `data.len() != n·batch`,
    /// or a coset shift that is not a non-zero element of `F`.
    pub fn run(&self, data: &mut [F], cfg: &NttConfig) -> BackendResult<()> {
        let n = self.size();
        if cfg.batch == 0 {
            return Err(BackendError::BadInput(
                "NTT batch is 0 (at least one column is needed)".into(),
            ));
        }
        if n.checked_mul(cfg.batch) != Some(data.len()) {
            return Err(BackendError::BadInput(format!(
                "NTT data has {} elements but n = {n} × batch = {} was expected",
                data.len(),
                cfg.batch
            )));
        }
        let shift = match cfg.coset {
            None => None,
            Some(limbs) => {
                let g = decode_padded::<F>(&limbs).ok_or_else(|| {
                    BackendError::BadInput(format!(
                        "NTT coset shift {limbs:?} is not a canonical element of {}",
                        F::ID
                    ))
                })?;
                let g = match cfg.direction {
                    NttDirection::Forward => (!g.is_zero()).then_some(g),
                    NttDirection::Inverse => g.inverse(),
                };
                Some(g.ok_or_else(|| BackendError::BadInput("NTT coset shift is zero".into()))?)
            }
        };
        if self.log_n == 0 {
            // n = 1: ω⁰ = g⁰ = n⁻¹ = 1, every transform is the identity.
            return Ok(());
        }
        let plan = Plan {
            direction: cfg.direction,
            input: cfg.input_order,
            output: cfg.output_order,
            shift,
        };
        let mut work = move || match cfg.layout {
            BatchLayout::Interleaved => self.transform(data, cfg.batch, &plan),
            BatchLayout::Contiguous if cfg.batch == 1 => self.transform(data, 1, &plan),
            BatchLayout::Contiguous => data
                .par_chunks_mut(n)
                .for_each(|col| self.transform(col, 1, &plan)),
        };
        match &self.pool {
            Some(p) => p.install(work),
            None => work(),
        }
        Ok(())
    }

    /// One transform of an `n × w` row-major matrix (`w = 1`: one column).
    fn transform(&self, data: &mut [F], w: usize, plan: &Plan<F>) {
        use NttOrder::{BitReversed as R, Natural as N};
        let log_n = self.log_n;
        let g = plan.shift;
        match plan.direction {
            NttDirection::Forward => {
                let tw = &self.tw;
                match (plan.input, plan.output) {
                    (N, R) => {
                        scale_rows(data, w, log_n, N, F::ONE, g);
                        nr(data, w, tw);
                    }
                    (N, N) => {
                        scale_rows(data, w, log_n, N, F::ONE, g);
                        nr(data, w, tw);
                        bit_reverse_rows(data, log_n, w);
                    }
                    (R, N) => {
                        scale_rows(data, w, log_n, R, F::ONE, g);
                        rn(data, w, tw);
                    }
                    (R, R) => {
                        bit_reverse_rows(data, log_n, w);
                        scale_rows(data, w, log_n, N, F::ONE, g);
                        nr(data, w, tw);
                    }
                }
            }
            NttDirection::Inverse => {
                let tw = &self.tw_inv;
                let s = self.n_inv;
                match (plan.input, plan.output) {
                    (R, N) => {
                        rn(data, w, tw);
                        scale_rows(data, w, log_n, N, s, g);
                    }
                    (R, R) => {
                        rn(data, w, tw);
                        scale_rows(data, w, log_n, N, s, g);
                        bit_reverse_rows(data, log_n, w);
                    }
                    (N, R) => {
                        nr(data, w, tw);
                        scale_rows(data, w, log_n, R, s, g);
                    }
                    (N, N) => {
                        nr(data, w, tw);
                        bit_reverse_rows(data, log_n, w);
                        scale_rows(data, w, log_n, N, s, g);
                    }
                }
            }
        }
    }
}

impl<F: TwoAdicField> BackendNttDomain for CpuNttDomain<F> {
    fn spec(&self) -> &NttDomainSpec {
        &self.spec
    }
    fn ntt(&self, mut data: NttData<'_>, cfg: &NttConfig) -> BackendResult<()> {
        self.run(data.typed::<F>()?, cfg)
    }
}

/// What one call does, decoded once.
struct Plan<F> {
    direction: NttDirection,
    input: NttOrder,
    output: NttOrder,
    /// The coset shift for the forward transform, its inverse for the inverse transform.
    shift: Option<F>,
}

/// A zero-filled vector of `len` elements, or `OutOfMemory`.
fn alloc_elems<F: Field>(len: usize) -> BackendResult<Vec<F>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|e| BackendError::OutOfMemory {
            requested: (len as u64).saturating_mul(core::mem::size_of::<F>() as u64),
            detail: format!("NTT twiddle table of {len} elements: {e}"),
        })?;
    v.resize(len, F::ZERO);
    Ok(v)
}

/// `bitreverse(i)` over `bits` bits.
#[inline(always)]
fn brv(i: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - bits)
    }
}

// ---------------------------------------------------------------------------------------------
// Kernel dispatch
// ---------------------------------------------------------------------------------------------

/// The lazily reduced 4-limb arithmetic when `F` is a 4-limb Montgomery field (storage =
/// Montgomery limbs with `R = 2²⁵⁶`) whose modulus is below `2²⁵⁴`; decided once per call.
fn mont4<F: PrimeField>() -> Option<Mont4Lazy> {
    Mont4Lazy::new(crate::mont_modulus::<F, 4>()?)
}

/// True when a transform of `rows × w` elements of `E` takes the cache-blocked path.
#[inline(always)]
fn blocked<E>(rows: usize, w: usize) -> bool {
    w == 1 && rows * core::mem::size_of::<E>() >= BLOCKED_MIN_BYTES
}

/// Natural in, bit-reversed out, with arithmetic `ar` (see [`kernels::nr`]).
fn nr_with<A: Arith>(ar: A, data: &mut [A::E], w: usize, tw: &[A::E])
where
    A::E: Default,
{
    let rows = data.len() / w;
    if blocked::<A::E>(rows, w) {
        blocked::nr(ar, data, rows.trailing_zeros(), tw);
    } else {
        kernels::nr(ar, data, w, tw);
    }
}

/// Bit-reversed in, natural out, with arithmetic `ar` (see [`kernels::rn`]).
fn rn_with<A: Arith>(ar: A, data: &mut [A::E], w: usize, tw: &[A::E])
where
    A::E: Default,
{
    let rows = data.len() / w;
    if blocked::<A::E>(rows, w) {
        blocked::rn(ar, data, rows.trailing_zeros(), tw);
    } else {
        kernels::rn(ar, data, w, tw);
    }
}

/// The Goldilocks butterflies with AVX-512F lanes when `F` is Goldilocks and the CPU has
/// them; decided once per call.
#[cfg(target_arch = "x86_64")]
fn gold<F: PrimeField>() -> Option<gold::Gold> {
    use core::any::TypeId;
    (TypeId::of::<F>() == TypeId::of::<zkaccel_backend::Goldilocks>())
        .then(gold::Gold::new)
        .flatten()
}

/// Runs `$go(arith, data, tw)` on the best arithmetic for `F`: the lazy 4-limb one, the
/// Goldilocks lanes, or the field's own (the data and twiddles cast to the arithmetic's
/// element type, which has the same layout).
macro_rules! with_best_arith {
    ($F:ty, $data:expr, $tw:expr, $go:expr) => {{
        let (data, tw) = ($data, $tw);
        if let Some(ar) = mont4::<$F>() {
            return $go(ar, bytemuck::cast_slice_mut(data), bytemuck::cast_slice(tw));
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(ar) = gold::<$F>() {
            return $go(ar, bytemuck::cast_slice_mut(data), bytemuck::cast_slice(tw));
        }
        $go(Plain::<$F>::new(), data, tw)
    }};
}

/// Natural in, bit-reversed out, on the best arithmetic for `F` (see [`kernels::nr`]).
fn nr<F: PrimeField>(data: &mut [F], w: usize, tw: &[F]) {
    with_best_arith!(F, data, tw, |ar, d, t| nr_with(ar, d, w, t))
}

/// Bit-reversed in, natural out, on the best arithmetic for `F` (see [`kernels::rn`]).
fn rn<F: PrimeField>(data: &mut [F], w: usize, tw: &[F]) {
    with_best_arith!(F, data, tw, |ar, d, t| rn_with(ar, d, w, t))
}

// ---------------------------------------------------------------------------------------------
// Elementwise passes
// ---------------------------------------------------------------------------------------------

/// Multiplies row `i` of an `n × w` matrix by `s·g^j`, where `j` is the natural index of the
/// coefficient stored there (`i` for `Natural`, `bitreverse(i)` for `BitReversed`); by `s`
/// alone when `g` is `None`. Does nothing when `s = 1` and `g` is `None`.
fn scale_rows<F: Field>(data: &mut [F], w: usize, log_n: u32, order: NttOrder, s: F, g: Option<F>) {
    let Some(g) = g else {
        if s != F::ONE {
            data.par_chunks_mut(CHUNK)
                .for_each(|c| c.iter_mut().for_each(|x| *x *= s));
        }
        return;
    };
    match order {
        NttOrder::Natural => {
            // Chunks of whole rows; each starts from s·g^(first row) and runs a product.
            let rows_per = (CHUNK / w).max(1);
            data.par_chunks_mut(rows_per * w)
                .enumerate()
                .for_each(|(c, chunk)| {
                    let mut f = s * g.pow(&[(c * rows_per) as u64]);
                    for row in chunk.chunks_exact_mut(w) {
                        row.iter_mut().for_each(|x| *x *= f);
                        f *= g;
                    }
                });
        }
        NttOrder::BitReversed => {
            // Row i = (hi, lo) with lo its low `kb` bits: bitreverse(i) =
            // bitreverse(hi, log_n − kb) + bitreverse(lo, kb)·2^(log_n − kb), so the factor is
            // g^bitreverse(hi) (a product of the squares below, once per chunk) times
            // low[lo] = (g^(2^(log_n − kb)))^bitreverse(lo, kb) (a table, once per call).
            const LOW_BITS: u32 = 8;
            // Chunks of 2^kb rows: at most 256, and about CHUNK elements when rows are wide.
            let kb = log_n.min(LOW_BITS).min((CHUNK / w).max(1).ilog2());
            let mut sq = [F::ONE; 64];
            let mut p = g;
            for x in sq.iter_mut().take(log_n as usize) {
                *x = p;
                p = p.square();
            }
            // low[t + 2^b] = low[t]·g^(2^(log_n − 1 − b)) for t < 2^b.
            let mut low = [F::ONE; 1 << LOW_BITS];
            for b in 0..kb {
                let step = sq[(log_n - 1 - b) as usize];
                let m = 1usize << b;
                for t in 0..m {
                    low[t + m] = low[t] * step;
                }
            }
            let rows_per = 1usize << kb;
            let high_bits = log_n - kb;
            let (sq, low) = (&sq, &low);
            data.par_chunks_mut(rows_per * w)
                .with_min_len((CHUNK / (rows_per * w)).max(1))
                .enumerate()
                .for_each(|(c, chunk)| {
                    let e = brv(c, high_bits);
                    let mut f = s;
                    for (b, sqb) in sq.iter().enumerate().take(high_bits as usize) {
                        if (e >> b) & 1 == 1 {
                            f *= *sqb;
                        }
                    }
                    for (row, l) in chunk.chunks_exact_mut(w).zip(low.iter()) {
                        let fr = f * *l;
                        row.iter_mut().for_each(|x| *x *= fr);
                    }
                });
        }
    }
}

/// Wraps the base pointer of a slice so that disjoint parts of it can be written from
/// several threads.
#[derive(Clone, Copy)]
struct SharedRows<F>(*mut F);

// SAFETY: the pointer is only dereferenced in `bit_reverse_rows`, where every element is
// accessed by exactly one task (see there), and `F: Send` lets those elements move between
// threads.
unsafe impl<F: Send> Send for SharedRows<F> {}
// SAFETY: as above; sharing the wrapper gives no access the disjointness argument does not
// cover.
unsafe impl<F: Send> Sync for SharedRows<F> {}

impl<F> SharedRows<F> {
    #[inline(always)]
    fn ptr(self) -> *mut F {
        self.0
    }
}

/// Permutes the rows of an `n × w` matrix, `n = 2^log_n`: row `i` ↔ row `bitreverse(i)`.
///
/// Narrow rows are permuted tile by tile through two small buffers (the COBRA scheme of
/// L. Carter and K. S. Gatlin, "Towards an optimal bit-reversal permutation program",
/// FOCS 1998): write a row index as `(a, m, c)` with `a` its top and `c` its bottom `t` bits;
/// then `bitreverse(a, m, c) = (bitreverse(c), bitreverse(m), bitreverse(a))`, so the tile of
/// the `2^(2t)` rows with middle bits `m` (`2^t` runs of `2^t` consecutive rows) is exchanged
/// with the tile of `bitreverse(m)`, transposed. A task copies both tiles into its buffers
/// run by run and writes them back transposed: every cache line is read and written once,
/// whereas swapping in place would touch the runs, which lie a power of two apart and so
/// share cache sets, `2^t` times each. Rows of 128 bytes or more are swapped directly.
fn bit_reverse_rows<F: Field>(data: &mut [F], log_n: u32, w: usize) {
    let n = 1usize << log_n;
    debug_assert_eq!(data.len(), n * w);
    if n <= 2 {
        return;
    }
    let mut t = 0;
    if w * core::mem::size_of::<F>() < 128 {
        while t < MAX_TILE_BITS && (w << (2 * (t + 1))) <= TILE_BUF && 2 * (t + 1) <= log_n {
            t += 1;
        }
    }
    if data.len() < PAR_MIN {
        for i in 0..n {
            let j = brv(i, log_n);
            if i < j {
                let (a, b) = data.split_at_mut(j * w);
                a[i * w..(i + 1) * w].swap_with_slice(&mut b[..w]);
            }
        }
        return;
    }
    let base = SharedRows(data.as_mut_ptr());
    if t == 0 {
        (0..n)
            .into_par_iter()
            .with_min_len((CHUNK / w).max(1))
            .for_each(|i| {
                let j = brv(i, log_n);
                if i < j {
                    // SAFETY: `i < j < n`, so rows `i` and `j` are distinct, non-overlapping
                    // and inside `data` (`n·w` elements, exclusively borrowed for this call).
                    // `bitreverse` is an involution, so the pair {i, j} is handled by the
                    // task for `i = min(i, j)` only: no other task touches these rows.
                    unsafe {
                        core::ptr::swap_nonoverlapping(
                            base.ptr().add(i * w),
                            base.ptr().add(j * w),
                            w,
                        );
                    }
                }
            });
        return;
    }
    let mid_bits = log_n - 2 * t;
    let tile = 1usize << t;
    let run_len = tile * w;
    // Run `a` of tile `m`: rows (a, m, 0..2^t), contiguous.
    let run_start = move |a: usize, m: usize| ((a << (log_n - t)) | (m << t)) * w;
    (0..1usize << mid_bits)
        .into_par_iter()
        .with_min_len((CHUNK / (w << (2 * t))).max(1))
        .for_each_init(
            || ([F::ZERO; TILE_BUF], [F::ZERO; TILE_BUF]),
            |(buf_m, buf_r), m| {
                let mr = brv(m, mid_bits);
                if m > mr {
                    return;
                }
                let run = |a: usize, mm: usize| {
                    // SAFETY: a run lies inside `data` (`n·w` elements, exclusively borrowed
                    // for this call) and belongs to tile `m` or `mr`; only this task (the one
                    // for `min(m, mr)`, `bitreverse` being an involution) touches these two
                    // tiles, and each `&mut` run is dropped before the next is made, so no two
                    // live references overlap.
                    unsafe {
                        core::slice::from_raw_parts_mut(base.ptr().add(run_start(a, mm)), run_len)
                    }
                };
                for a in 0..tile {
                    buf_m[a * run_len..(a + 1) * run_len].copy_from_slice(run(a, m));
                    if m != mr {
                        buf_r[a * run_len..(a + 1) * run_len].copy_from_slice(run(a, mr));
                    }
                }
                // Row (a, m, c) receives row (bitreverse(c), mr, bitreverse(a)), and row
                // (a, mr, c) row (bitreverse(c), m, bitreverse(a)).
                let fill = |dst: &mut [F], src: &[F], a: usize| {
                    let col = brv(a, t) * w;
                    if w == 1 {
                        for (c, x) in dst.iter_mut().enumerate() {
                            *x = src[brv(c, t) * run_len + col];
                        }
                    } else {
                        for (c, row) in dst.chunks_exact_mut(w).enumerate() {
                            let s = brv(c, t) * run_len + col;
                            row.copy_from_slice(&src[s..s + w]);
                        }
                    }
                };
                let src_m: &[F] = if m != mr { buf_r } else { buf_m };
                for a in 0..tile {
                    fill(run(a, m), src_m, a);
                }
                if m != mr {
                    for a in 0..tile {
                        fill(run(a, mr), buf_m, a);
                    }
                }
            },
        );
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkaccel_backend::curves::Bn254Fr;
    use zkaccel_backend::{BabyBear, Goldilocks};

    const ORDERS: [NttOrder; 2] = [NttOrder::Natural, NttOrder::BitReversed];

    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        move || {
            // xorshift64*
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            s.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    fn random_vec<F: PrimeField>(len: usize, seed: u64) -> Vec<F> {
        let mut r = rng(seed);
        (0..len).map(|_| F::random_with(&mut r)).collect()
    }

    fn domain<F: TwoAdicField>(log_n: u32) -> CpuNttDomain<F> {
        let spec = NttDomainSpec::with_default_root::<F>(log_n).unwrap();
        CpuNttDomain::<F>::new(&spec, None).unwrap()
    }

    fn limbs<F: PrimeField>(x: F) -> [u64; 4] {
        zkaccel_backend::backend::pad4(x.to_canonical().as_ref())
    }

    /// `out_i = Σ_j x_j (g·ρ^i)^j`, O(n²).
    fn naive_eval<F: Field>(x: &[F], rho: F, g: F) -> Vec<F> {
        let mut point = g;
        (0..x.len())
            .map(|_| {
                let mut acc = F::ZERO;
                let mut p = F::ONE;
                for &c in x {
                    acc += c * p;
                    p *= point;
                }
                point *= rho;
                acc
            })
            .collect()
    }

    /// Forward reference: evaluations on `g·H`.
    fn naive_forward<F: TwoAdicField>(x: &[F], log_n: u32, g: F) -> Vec<F> {
        naive_eval(x, F::two_adic_root(log_n).unwrap(), g)
    }

    /// Inverse reference: coefficients interpolated from `g·H`.
    fn naive_inverse<F: TwoAdicField>(y: &[F], log_n: u32, g: F) -> Vec<F> {
        let w_inv = F::two_adic_root(log_n).unwrap().inverse().unwrap();
        let n_inv = F::from_u64(y.len() as u64).inverse().unwrap();
        let g_inv = g.inverse().unwrap();
        let mut f = n_inv;
        naive_eval(y, w_inv, F::ONE)
            .into_iter()
            .map(|v| {
                let r = v * f;
                f *= g_inv;
                r
            })
            .collect()
    }

    /// `v` in `order` (a copy, permuted when bit-reversed).
    fn ordered<F: Copy>(v: &[F], order: NttOrder) -> Vec<F> {
        let log_n = v.len().trailing_zeros();
        match order {
            NttOrder::Natural => v.to_vec(),
            NttOrder::BitReversed => (0..v.len()).map(|i| v[brv(i, log_n)]).collect(),
        }
    }

    fn cfg(
        dir: NttDirection,
        input: NttOrder,
        output: NttOrder,
        coset: Option<[u64; 4]>,
    ) -> NttConfig {
        NttConfig {
            direction: dir,
            input_order: input,
            output_order: output,
            coset,
            batch: 1,
            layout: BatchLayout::Contiguous,
        }
    }

    /// Forward and inverse, all four orders, with and without a coset, against the naive
    /// transforms, for `n = 2^0 ..= 2^max_log`.
    fn check_against_naive<F: TwoAdicField>(max_log: u32) {
        let shift = F::multiplicative_generator();
        for log_n in 0..=max_log {
            let dom = domain::<F>(log_n);
            let n = 1usize << log_n;
            let x = random_vec::<F>(n, 17 + log_n as u64);
            for coset in [None, Some(shift)] {
                let g = coset.unwrap_or(F::ONE);
                let fwd = naive_forward(&x, log_n, g);
                let inv = naive_inverse(&x, log_n, g);
                for dir in [NttDirection::Forward, NttDirection::Inverse] {
                    let expect = if dir == NttDirection::Forward {
                        &fwd
                    } else {
                        &inv
                    };
                    for input in ORDERS {
                        for output in ORDERS {
                            let mut data = ordered(&x, input);
                            dom.run(&mut data, &cfg(dir, input, output, coset.map(limbs)))
                                .unwrap();
                            assert_eq!(
                                data,
                                ordered(expect, output),
                                "{:?} 2^{log_n} {dir:?} {input:?}->{output:?} coset {}",
                                F::ID,
                                coset.is_some()
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn ntt_matches_naive_bn254() {
        check_against_naive::<Bn254Fr>(10);
    }

    #[test]
    fn ntt_matches_naive_goldilocks() {
        check_against_naive::<Goldilocks>(10);
    }

    #[test]
    fn ntt_matches_naive_babybear() {
        check_against_naive::<BabyBear>(10);
    }

    /// inverse ∘ forward = identity for every order pairing and with a coset.
    fn check_round_trip<F: TwoAdicField>(log_n: u32) {
        let dom = domain::<F>(log_n);
        let x = random_vec::<F>(1 << log_n, 99 + log_n as u64);
        let g = limbs(F::from_u64(7));
        for coset in [None, Some(g)] {
            for a in ORDERS {
                for b in ORDERS {
                    let mut data = ordered(&x, a);
                    dom.run(&mut data, &cfg(NttDirection::Forward, a, b, coset))
                        .unwrap();
                    dom.run(&mut data, &cfg(NttDirection::Inverse, b, a, coset))
                        .unwrap();
                    assert_eq!(data, ordered(&x, a), "{:?} 2^{log_n} {a:?}->{b:?}", F::ID);
                }
            }
        }
    }

    #[test]
    fn ntt_round_trip_small() {
        for log_n in 0..=10 {
            check_round_trip::<Bn254Fr>(log_n);
            check_round_trip::<Goldilocks>(log_n);
            check_round_trip::<BabyBear>(log_n);
        }
    }

    /// A 2^16 round trip, plus spot checks of the forward transform at a few points (Horner).
    fn check_large<F: TwoAdicField>() {
        let log_n = 16;
        let n = 1usize << log_n;
        let dom = domain::<F>(log_n);
        let x = random_vec::<F>(n, 5);
        let mut y = x.clone();
        dom.run(&mut y, &NttConfig::default()).unwrap();
        let w = F::two_adic_root(log_n).unwrap();
        for i in [0usize, 1, 2, 3, 1000, n / 2, n - 1] {
            let pt = w.pow(&[i as u64]);
            let v = x.iter().rev().fold(F::ZERO, |acc, &c| acc * pt + c);
            assert_eq!(y[i], v, "{:?} 2^16 forward at {i}", F::ID);
        }
        // The other kernel: bit-reversed input, natural output.
        let mut y2 = ordered(&x, NttOrder::BitReversed);
        dom.run(
            &mut y2,
            &cfg(
                NttDirection::Forward,
                NttOrder::BitReversed,
                NttOrder::Natural,
                None,
            ),
        )
        .unwrap();
        assert_eq!(y2, y, "{:?} 2^16 forward R->N", F::ID);
        let mut z = y.clone();
        dom.run(
            &mut z,
            &NttConfig {
                direction: NttDirection::Inverse,
                ..NttConfig::default()
            },
        )
        .unwrap();
        assert_eq!(z, x, "{:?} 2^16 round trip", F::ID);
        // Also the order pairs that use the other kernel, and a coset.
        let g = Some(limbs(F::multiplicative_generator()));
        for (a, b) in [
            (NttOrder::BitReversed, NttOrder::Natural),
            (NttOrder::Natural, NttOrder::BitReversed),
            (NttOrder::BitReversed, NttOrder::BitReversed),
        ] {
            let mut d = x.clone();
            dom.run(&mut d, &cfg(NttDirection::Forward, a, b, g))
                .unwrap();
            dom.run(&mut d, &cfg(NttDirection::Inverse, b, a, g))
                .unwrap();
            assert_eq!(d, x, "{:?} 2^16 {a:?}->{b:?} coset round trip", F::ID);
        }
    }

    #[test]
    fn ntt_round_trip_2p16() {
        check_large::<Bn254Fr>();
        check_large::<Goldilocks>();
        check_large::<BabyBear>();
    }

    /// Three columns in both layouts equal three single-column transforms.
    fn check_batch<F: TwoAdicField>(log_n: u32) {
        let n = 1usize << log_n;
        let batch = 3;
        let dom = domain::<F>(log_n);
        let cols: Vec<Vec<F>> = (0..batch)
            .map(|c| random_vec::<F>(n, 1000 + c as u64 + 10 * log_n as u64))
            .collect();
        let g = Some(limbs(F::from_u64(3)));
        for dir in [NttDirection::Forward, NttDirection::Inverse] {
            for coset in [None, g] {
                for input in ORDERS {
                    for output in ORDERS {
                        let one = cfg(dir, input, output, coset);
                        let expect: Vec<Vec<F>> = cols
                            .iter()
                            .map(|c| {
                                let mut d = c.clone();
                                dom.run(&mut d, &one).unwrap();
                                d
                            })
                            .collect();
                        let mut contiguous: Vec<F> = cols.concat();
                        dom.run(
                            &mut contiguous,
                            &NttConfig {
                                batch,
                                layout: BatchLayout::Contiguous,
                                ..one
                            },
                        )
                        .unwrap();
                        assert_eq!(contiguous, expect.concat(), "contiguous 2^{log_n} {one:?}");
                        let mut inter: Vec<F> =
                            (0..n * batch).map(|e| cols[e % batch][e / batch]).collect();
                        dom.run(
                            &mut inter,
                            &NttConfig {
                                batch,
                                layout: BatchLayout::Interleaved,
                                ..one
                            },
                        )
                        .unwrap();
                        let expect_inter: Vec<F> = (0..n * batch)
                            .map(|e| expect[e % batch][e / batch])
                            .collect();
                        assert_eq!(inter, expect_inter, "interleaved 2^{log_n} {one:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn ntt_batch_layouts() {
        for log_n in [0, 1, 2, 5, 10, 13] {
            check_batch::<Bn254Fr>(log_n);
            check_batch::<Goldilocks>(log_n);
            check_batch::<BabyBear>(log_n);
        }
    }

    #[test]
    fn ntt_wide_interleaved_matches_columns() {
        // Rows wider than a leaf block, and a power-of-two width.
        for (log_n, batch) in [(4u32, 4096usize), (9, 64)] {
            let n = 1usize << log_n;
            let dom = domain::<Goldilocks>(log_n);
            let m = random_vec::<Goldilocks>(n * batch, 3);
            let mut inter = m.clone();
            let c = NttConfig {
                batch,
                layout: BatchLayout::Interleaved,
                ..NttConfig::default()
            };
            dom.run(&mut inter, &c).unwrap();
            for col in [0, 1, batch - 1] {
                let x: Vec<Goldilocks> = (0..n).map(|i| m[i * batch + col]).collect();
                let got: Vec<Goldilocks> = (0..n).map(|i| inter[i * batch + col]).collect();
                assert_eq!(got, naive_forward(&x, log_n, Goldilocks::ONE));
            }
            // Coset scaling of bit-reversed wide rows, both directions.
            let g = Some(limbs(Goldilocks::from_u64(11)));
            for (dir, a, b) in [
                (
                    NttDirection::Forward,
                    NttOrder::BitReversed,
                    NttOrder::Natural,
                ),
                (
                    NttDirection::Inverse,
                    NttOrder::Natural,
                    NttOrder::BitReversed,
                ),
            ] {
                let one = cfg(dir, a, b, g);
                let mut inter = m.clone();
                dom.run(
                    &mut inter,
                    &NttConfig {
                        batch,
                        layout: BatchLayout::Interleaved,
                        ..one
                    },
                )
                .unwrap();
                for col in [0, 2, batch - 1] {
                    let mut x: Vec<Goldilocks> = (0..n).map(|i| m[i * batch + col]).collect();
                    dom.run(&mut x, &one).unwrap();
                    let got: Vec<Goldilocks> = (0..n).map(|i| inter[i * batch + col]).collect();
                    assert_eq!(got, x, "2^{log_n} x{batch} {one:?} column {col}");
                }
            }
        }
    }

    /// The cache-blocked two-step path equals the recursive kernels, for both kernels, with
    /// both arithmetics where they apply, at every split (odd and even `log_n`, rows shorter
    /// than a tile) and for the domain's own table (the table of a larger domain is used
    /// through its prefix, as the blocked path does).
    fn check_blocked<F: TwoAdicField>(max_log: u32) {
        for log_n in 1..=max_log {
            let dom = domain::<F>(log_n);
            let x = random_vec::<F>(1 << log_n, 300 + log_n as u64);
            for tw in [&dom.tw, &dom.tw_inv] {
                let mut a = x.clone();
                kernels::nr(Plain::<F>::new(), &mut a, 1, tw);
                let mut b = x.clone();
                blocked::nr(Plain::<F>::new(), &mut b, log_n, tw);
                assert_eq!(a, b, "{:?} nr 2^{log_n}", F::ID);
                let mut a = x.clone();
                kernels::rn(Plain::<F>::new(), &mut a, 1, tw);
                let mut b = x.clone();
                blocked::rn(Plain::<F>::new(), &mut b, log_n, tw);
                assert_eq!(a, b, "{:?} rn 2^{log_n}", F::ID);
                if let Some(ar) = mont4::<F>() {
                    let t: &[[u64; 4]] = bytemuck::cast_slice(tw);
                    let mut c = x.clone();
                    blocked::nr(ar, bytemuck::cast_slice_mut(&mut c), log_n, t);
                    let mut a = x.clone();
                    kernels::nr(Plain::<F>::new(), &mut a, 1, tw);
                    assert_eq!(a, c, "{:?} lazy nr 2^{log_n}", F::ID);
                    let mut c = x.clone();
                    blocked::rn(ar, bytemuck::cast_slice_mut(&mut c), log_n, t);
                    let mut a = x.clone();
                    kernels::rn(Plain::<F>::new(), &mut a, 1, tw);
                    assert_eq!(a, c, "{:?} lazy rn 2^{log_n}", F::ID);
                }
            }
        }
    }

    #[test]
    fn blocked_path_matches_recursive_kernels() {
        check_blocked::<Bn254Fr>(14);
        check_blocked::<Goldilocks>(16);
        check_blocked::<BabyBear>(16);
    }

    /// The assembly product (when the CPU has BMI2/ADX) and the portable one agree word for
    /// word, on random and extreme inputs (`a < 2p`, `b < p`), and so do whole transforms.
    #[test]
    fn mont4_assembly_matches_portable() {
        let ar = mont4::<Bn254Fr>().expect("BN254 Fr takes the lazy 4-limb path");
        let portable = ar.portable();
        println!("assembly product in use: {}", ar.is_fast());
        let p = Bn254Fr::modulus();
        let (p2, _) = {
            let mut c = 0u128;
            let mut r = [0u64; 4];
            for i in 0..4 {
                c += 2 * p[i] as u128;
                r[i] = c as u64;
                c >>= 64;
            }
            (r, c)
        };
        let minus1 = |x: [u64; 4]| {
            let mut r = x;
            for l in r.iter_mut() {
                let (v, b) = l.overflowing_sub(1);
                *l = v;
                if !b {
                    break;
                }
            }
            r
        };
        let mut next = rng(77);
        let mut a_vals = vec![[0u64; 4], [1, 0, 0, 0], minus1(p), p, minus1(p2)];
        let mut b_vals = vec![[0u64; 4], [1, 0, 0, 0], minus1(p)];
        for _ in 0..2000 {
            a_vals.push(Bn254Fr::random_with(&mut next).limbs);
            b_vals.push(Bn254Fr::random_with(&mut next).limbs);
        }
        for a in &a_vals {
            for b in b_vals.iter().take(64) {
                assert_eq!(
                    ar.mul_for_test(a, b),
                    portable.mul_for_test(a, b),
                    "{a:?} {b:?}"
                );
            }
        }
        for (a, b) in a_vals.iter().zip(&b_vals) {
            assert_eq!(
                ar.mul_for_test(a, b),
                portable.mul_for_test(a, b),
                "{a:?} {b:?}"
            );
        }
        for log_n in [0u32, 1, 2, 3, 4, 11, 16] {
            let dom = domain::<Bn254Fr>(log_n);
            let x = random_vec::<Bn254Fr>(1 << log_n, 41);
            let tw: &[[u64; 4]] = bytemuck::cast_slice(&dom.tw);
            let mut a = x.clone();
            let mut b = x.clone();
            nr_with(ar, bytemuck::cast_slice_mut(&mut a), 1, tw);
            nr_with(portable, bytemuck::cast_slice_mut(&mut b), 1, tw);
            assert_eq!(a, b, "nr 2^{log_n}");
            rn_with(ar, bytemuck::cast_slice_mut(&mut a), 1, tw);
            rn_with(portable, bytemuck::cast_slice_mut(&mut b), 1, tw);
            assert_eq!(a, b, "rn 2^{log_n}");
        }
    }

    /// The AVX-512 IFMA butterflies against the scalar lazy ones, on runs of eight with
    /// extreme inputs (`0`, `1`, `p − 1`, `p`, `2p − 1`) and random ones in `[0, 2p)`, extreme
    /// and random twiddles, every kind (Cooley–Tukey and Gentleman–Sande, single and fused
    /// levels, unit or not): outputs must lie in `[0, 2p)` and agree mod `p`, and be equal
    /// word for word when final.
    #[cfg(target_arch = "x86_64")]
    fn check_ifma_butterflies<F: PrimeField>() {
        let Some(ar) = mont4::<F>() else {
            panic!("{:?} takes the lazy 4-limb path", F::ID)
        };
        let Some(wide) = ar.ifma_for_test() else {
            println!("no AVX-512 IFMA on this CPU: only the scalar butterflies run here");
            return;
        };
        let p: [u64; 4] = F::modulus().as_ref().try_into().unwrap();
        let (p2, _) = arith::add4(&p, &p);
        let one = [1u64, 0, 0, 0];
        let minus = |x: [u64; 4]| arith::sub4(&x, &one).0;
        let mut next = rng(99);
        let lazy = |next: &mut dyn FnMut() -> u64| {
            // A random value in [0, 2p): a canonical one, plus p half the time.
            let x = limbs(F::random_with(next));
            if next() & 1 == 1 {
                arith::add4(&x, &p).0
            } else {
                x
            }
        };
        let edges = [[0u64; 4], one, minus(p), p, minus(p2)];
        let mut vals: Vec<[u64; 4]> = edges.to_vec();
        vals.extend((0..8 * 64 - edges.len()).map(|_| lazy(&mut next)));
        let mut tws: Vec<[u64; 4]> = vec![[0u64; 4], one, minus(p)];
        tws.extend((0..5).map(|_| limbs(F::random_with(&mut next))));
        let canon = |x: [u64; 4]| {
            assert!(arith::sub4(&x, &p2).1, "{x:?} not below 2p");
            ar.fin(x)
        };
        for (round, c) in tws.iter().enumerate() {
            // Rotate the values so that edges meet every lane and every twiddle.
            vals.rotate_left(round * 3 + 1);
            let cs = [
                *c,
                tws[(round + 1) % tws.len()],
                tws[(round + 2) % tws.len()],
            ];
            for unit in [false, true] {
                for fin in [false, true] {
                    // Two-level runs: lo = vals[..n], hi = vals[n..2n].
                    let n = vals.len() / 2;
                    for gs in [false, true] {
                        let (mut lo, mut hi) = (vals[..n].to_vec(), vals[n..].to_vec());
                        let done = if gs {
                            wide.two::<true>(&mut lo, &mut hi, c, unit, fin)
                        } else {
                            wide.two::<false>(&mut lo, &mut hi, c, unit, fin)
                        };
                        assert_eq!(done, n);
                        for i in 0..n {
                            let (a, b) = (vals[i], vals[n + i]);
                            let (x, y) = match (unit, gs) {
                                (true, _) => ar.ct1(a, b),
                                (false, false) => ar.ct(a, b, *c),
                                (false, true) => ar.gs(a, b, *c),
                            };
                            let what = format!("gs {gs} unit {unit} fin {fin} {a:?} {b:?} {c:?}");
                            assert_eq!(canon(lo[i]), ar.fin(x), "{what}");
                            assert_eq!(canon(hi[i]), ar.fin(y), "{what}");
                            if fin {
                                assert_eq!((lo[i], hi[i]), (ar.fin(x), ar.fin(y)), "{what}");
                            }
                        }
                    }
                    // Fused levels on four quarters, against the scalar kernels.
                    let m = vals.len() / 4;
                    for gs in [false, true] {
                        let mut got = vals.clone();
                        let mut want = vals.clone();
                        let done = if gs {
                            wide.four::<true>(kernels::quarters(&mut got), &cs, unit, fin)
                        } else {
                            wide.four::<false>(kernels::quarters(&mut got), &cs, unit, fin)
                        };
                        assert_eq!(done, m);
                        let qw = kernels::quarters(&mut want);
                        let scalar = ar.portable();
                        if gs {
                            kernels::gs_block4_for_test(scalar, qw, cs, unit, fin);
                        } else {
                            kernels::ct_block4_for_test(scalar, qw, cs, unit, fin);
                        }
                        for (g, w) in got.iter().zip(&want) {
                            assert_eq!(canon(*g), canon(*w), "4 gs {gs} unit {unit} fin {fin}");
                            if fin {
                                assert_eq!(g, w);
                            }
                        }
                    }
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn ifma_butterflies_match_scalar() {
        check_ifma_butterflies::<Bn254Fr>();
        check_ifma_butterflies::<zkaccel_backend::curves::Bls12_377Fr>();
    }

    /// `(log₂ rows, columns)` of the wide-path transform tests for elements of `bytes`
    /// bytes: short and long single columns, the first two cache-blocked sizes, and
    /// interleaved rows that are not a multiple of eight elements (scalar tails).
    fn wide_cases(bytes: usize) -> Vec<(u32, usize)> {
        let blocked_at = (BLOCKED_MIN_BYTES / bytes).trailing_zeros();
        let mut v: Vec<(u32, usize)> = [1, 3, 4, 5, 9, 12, blocked_at, blocked_at + 1]
            .map(|l| (l, 1))
            .to_vec();
        v.extend([(6, 3), (5, 8), (7, 9), (3, 17)]);
        v
    }

    /// Whole transforms with and without the wide path (and the assembly product) agree,
    /// for both kernels, single columns (recursive and cache-blocked) and interleaved
    /// batches whose rows are not a multiple of eight elements (scalar tails).
    fn check_wide_transforms<F: TwoAdicField>() {
        let ar = mont4::<F>().expect("lazy 4-limb path");
        println!("{:?}: wide IFMA path in use: {}", F::ID, ar.has_ifma());
        let portable = ar.portable();
        for (log_n, w) in wide_cases(32) {
            let dom = domain::<F>(log_n);
            let x = random_vec::<F>(w << log_n, 7 + log_n as u64 + w as u64);
            for tw in [&dom.tw, &dom.tw_inv] {
                let t: &[[u64; 4]] = bytemuck::cast_slice(tw);
                let (mut a, mut b) = (x.clone(), x.clone());
                nr_with(ar, bytemuck::cast_slice_mut(&mut a), w, t);
                nr_with(portable, bytemuck::cast_slice_mut(&mut b), w, t);
                assert_eq!(a, b, "{:?} nr 2^{log_n} x{w}", F::ID);
                rn_with(ar, bytemuck::cast_slice_mut(&mut a), w, t);
                rn_with(portable, bytemuck::cast_slice_mut(&mut b), w, t);
                assert_eq!(a, b, "{:?} rn 2^{log_n} x{w}", F::ID);
            }
        }
    }

    #[test]
    fn wide_transforms_match_portable() {
        check_wide_transforms::<Bn254Fr>();
        check_wide_transforms::<zkaccel_backend::curves::Bls12_377Fr>();
    }

    /// Goldilocks: whole transforms on the AVX-512F lanes and on the field's own scalar
    /// butterflies give the same words (single columns, recursive and cache-blocked, and
    /// interleaved rows with scalar tails).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn goldilocks_lanes_match_scalar_transforms() {
        let Some(ar) = gold::<Goldilocks>() else {
            println!("no AVX-512F here: the Goldilocks lanes are not used");
            return;
        };
        for (log_n, w) in wide_cases(8) {
            let dom = domain::<Goldilocks>(log_n);
            let mut x = random_vec::<Goldilocks>(w << log_n, 70 + log_n as u64 + w as u64);
            // Edge values among the random ones.
            let len = x.len();
            for (i, v) in [0, 1, Goldilocks::P - 1, Goldilocks::P - 2, 0xffff_ffff]
                .into_iter()
                .enumerate()
            {
                x[i * 7 % len] = Goldilocks::new(v);
            }
            for tw in [&dom.tw, &dom.tw_inv] {
                let (mut a, mut b) = (x.clone(), x.clone());
                nr_with(ar, &mut a, w, tw);
                nr_with(Plain::<Goldilocks>::new(), &mut b, w, tw);
                assert_eq!(a, b, "nr 2^{log_n} x{w}");
                rn_with(ar, &mut a, w, tw);
                rn_with(Plain::<Goldilocks>::new(), &mut b, w, tw);
                assert_eq!(a, b, "rn 2^{log_n} x{w}");
            }
        }
    }

    /// Every order, direction and a coset at the sizes around the blocked-path threshold
    /// (`BLOCKED_MIN_BYTES`), against the recursive kernels' results and by round trip.
    fn check_threshold<F: TwoAdicField>() {
        let at = (BLOCKED_MIN_BYTES / core::mem::size_of::<F>()).trailing_zeros();
        for log_n in [at - 1, at] {
            assert_eq!(
                blocked::<F>(1 << log_n, 1),
                log_n == at,
                "{:?} threshold",
                F::ID
            );
            let dom = domain::<F>(log_n);
            let n = 1usize << log_n;
            let x = random_vec::<F>(n, 600 + log_n as u64);
            // Forward N→R against the unblocked kernel on the plain arithmetic.
            let mut want = x.clone();
            scale_rows(&mut want, 1, log_n, NttOrder::Natural, F::ONE, None);
            kernels::nr(Plain::<F>::new(), &mut want, 1, &dom.tw);
            let mut got = x.clone();
            dom.run(
                &mut got,
                &cfg(
                    NttDirection::Forward,
                    NttOrder::Natural,
                    NttOrder::BitReversed,
                    None,
                ),
            )
            .unwrap();
            assert_eq!(got, want, "{:?} 2^{log_n} N->R", F::ID);
            let g = Some(limbs(F::multiplicative_generator()));
            for a in ORDERS {
                for b in ORDERS {
                    let mut d = ordered(&x, a);
                    dom.run(&mut d, &cfg(NttDirection::Forward, a, b, g))
                        .unwrap();
                    dom.run(&mut d, &cfg(NttDirection::Inverse, b, a, g))
                        .unwrap();
                    assert_eq!(d, ordered(&x, a), "{:?} 2^{log_n} {a:?}->{b:?}", F::ID);
                }
            }
        }
    }

    #[test]
    fn ntt_blocked_threshold_edges() {
        check_threshold::<Bn254Fr>();
        check_threshold::<Goldilocks>();
        check_threshold::<BabyBear>();
    }

    #[test]
    fn bit_reversal_permutation_matches_definition() {
        for (log_n, w) in [
            (0u32, 1usize),
            (1, 1),
            (3, 2),
            (8, 1),
            (9, 1),
            (12, 1),
            (13, 1),
            (13, 3),
            (14, 1),
            (16, 1),
            (11, 40),
            (12, 15),
            (10, 16),
            (9, 5),
            (12, 4),
        ] {
            let n = 1usize << log_n;
            let v: Vec<Goldilocks> = (0..(n * w) as u64).map(Goldilocks::from_u64).collect();
            let mut p = v.clone();
            bit_reverse_rows(&mut p, log_n, w);
            for i in 0..n {
                let j = brv(i, log_n);
                assert_eq!(
                    &p[i * w..(i + 1) * w],
                    &v[j * w..(j + 1) * w],
                    "2^{log_n} x{w} row {i}"
                );
            }
        }
    }

    #[test]
    fn ntt_size_one_is_identity() {
        let dom = domain::<Bn254Fr>(0);
        let x = random_vec::<Bn254Fr>(4, 1);
        for dir in [NttDirection::Forward, NttDirection::Inverse] {
            for layout in [BatchLayout::Contiguous, BatchLayout::Interleaved] {
                let mut d = x.clone();
                let c = NttConfig {
                    direction: dir,
                    batch: 4,
                    layout,
                    coset: Some(limbs(Bn254Fr::from_u64(5))),
                    ..NttConfig::default()
                };
                dom.run(&mut d, &c).unwrap();
                assert_eq!(d, x);
            }
        }
    }

    #[test]
    fn ntt_bad_input_is_an_error() {
        let dom = domain::<Goldilocks>(3);
        let mut d = vec![Goldilocks::ONE; 8];
        let before = d.clone();
        let bad = |c: NttConfig, d: &mut [Goldilocks]| {
            matches!(dom.run(d, &c), Err(BackendError::BadInput(_)))
        };
        let zero_batch = NttConfig {
            batch: 0,
            ..NttConfig::default()
        };
        assert!(bad(zero_batch, &mut d));
        let two = NttConfig {
            batch: 2,
            ..NttConfig::default()
        };
        assert!(bad(two, &mut d));
        assert!(bad(NttConfig::default(), &mut d[..7]));
        for coset in [[0, 0, 0, 0], [Goldilocks::P, 0, 0, 0], [1, 1, 0, 0]] {
            for direction in [NttDirection::Forward, NttDirection::Inverse] {
                let c = NttConfig {
                    direction,
                    coset: Some(coset),
                    ..NttConfig::default()
                };
                assert!(bad(c, &mut d), "coset {coset:?}");
            }
        }
        assert_eq!(d, before);
        // Bad domains.
        let mut spec = NttDomainSpec::with_default_root::<Goldilocks>(3).unwrap();
        spec.root = limbs(Goldilocks::two_adic_root(2).unwrap());
        assert!(matches!(
            CpuNttDomain::<Goldilocks>::new(&spec, None),
            Err(BackendError::BadInput(_))
        ));
        spec.log_n = 33;
        assert!(CpuNttDomain::<Goldilocks>::new(&spec, None).is_err());
        let spec = NttDomainSpec::with_default_root::<BabyBear>(3).unwrap();
        assert!(CpuNttDomain::<Goldilocks>::new(&spec, None).is_err());
    }

    #[test]
    fn ntt_through_erased_data_and_private_pool() {
        let pool = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap(),
        );
        let spec = NttDomainSpec::with_default_root::<BabyBear>(12).unwrap();
        let dom = CpuNttDomain::<BabyBear>::new(&spec, Some(pool)).unwrap();
        assert_eq!(BackendNttDomain::spec(&dom), &spec);
        let x = random_vec::<BabyBear>(1 << 12, 8);
        let mut y = x.clone();
        dom.ntt(NttData::from_slice(&mut y), &NttConfig::default())
            .unwrap();
        let w = BabyBear::two_adic_root(12).unwrap();
        let pt = w.pow(&[77]);
        let v = x.iter().rev().fold(BabyBear::ZERO, |acc, &c| acc * pt + c);
        assert_eq!(y[77], v);
        let mut wrong = vec![Goldilocks::ONE; 1 << 12];
        assert!(dom
            .ntt(NttData::from_slice(&mut wrong), &NttConfig::default())
            .is_err());
    }

    /// Rough timing on the global pool (best of 5):
    /// `cargo test -p zkaccel-cpu --release ntt_timing -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn ntt_timing() {
        fn time<F: TwoAdicField>(log_n: u32) {
            let dom = domain::<F>(log_n);
            let mut x = random_vec::<F>(1 << log_n, 1);
            for (name, c) in [
                ("fwd N->N", NttConfig::default()),
                (
                    "fwd N->R",
                    NttConfig {
                        output_order: NttOrder::BitReversed,
                        ..NttConfig::default()
                    },
                ),
                (
                    "inv N->N",
                    NttConfig {
                        direction: NttDirection::Inverse,
                        ..NttConfig::default()
                    },
                ),
            ] {
                dom.run(&mut x, &c).unwrap();
                let mut ms = f64::MAX;
                for _ in 0..5 {
                    let t = std::time::Instant::now();
                    dom.run(&mut x, &c).unwrap();
                    ms = ms.min(t.elapsed().as_secs_f64() * 1e3);
                }
                println!("{:?} 2^{log_n} {name}: {ms:.2} ms (best of 5)", F::ID);
            }
        }
        for log_n in [16, 18, 20] {
            time::<Bn254Fr>(log_n);
            time::<Goldilocks>(log_n);
            time::<BabyBear>(log_n);
        }
    }
}
