//! Fixed-width permutations prepared for speed: state and constants in arrays sized at compile
//! time, no allocation, one call per block of states.

use zkaccel_backend::curves::Bn254Fr;
use zkaccel_backend::field::Field;
use zkaccel_backend::hash::poseidon::{PoseidonParams, SparseMatrix};
use zkaccel_backend::hash::poseidon2::{m4_horizen, m4_plonky3, ExternalMatrix, Poseidon2Params};

/// A permutation of `[F; T]`, possibly processing several states at once.
pub trait FastPerm<F, const T: usize>: Send + Sync + 'static {
    /// Permutes one state.
    fn permute(&self, state: &mut [F; T]);

    /// Permutes every state (implementations may interleave them, e.g. in SIMD lanes).
    fn permute_many(&self, states: &mut [[F; T]]) {
        for s in states {
            self.permute(s);
        }
    }
}

#[inline(always)]
fn pow5<F: Field>(x: F) -> F {
    x.square().square() * x
}

#[inline(always)]
pub(crate) fn pow7<F: Field>(x: F) -> F {
    let x2 = x.square();
    let x3 = x2 * x;
    x3 * x3 * x
}

/// BN254 scalar-field arithmetic on raw Montgomery limbs with *lazy reduction*, for the
/// circomlib permutation.
///
/// Values are `[u64; 4]` in Montgomery form (`x·R mod p`, `R = 2²⁵⁶`) that are only kept
/// below `2p`, not below `p`; each function states the range it accepts and returns. This is
/// sound because BN254's `r` is below `2²⁵⁴` (`5p < 2²⁵⁶`, checked at compile time):
///
/// - Montgomery reduction returns `T/R + p` at most without the final conditional
///   subtraction, so products of values below `2p` stay below `2p` (`4p²/R < p`):
///   C. D. Walter, "Montgomery exponentiation needs no final subtractions", Electronics
///   Letters 35(21), 1999 (also used by gnark-crypto and Plonky3's Monty fields).
/// - A sum of up to four products with constants below `p` is reduced once, not once per
///   product ("lazy reduction": Aranha, Karabina, Longa, Gebotys, López, "Faster explicit
///   formulas for computing pairings over ordinary curves", EUROCRYPT 2011, §3; gnark-crypto's
///   sums of products do the same): the CIOS loop keeps its running value below
///   `Σ aₖ + p ≤ 5p < 2²⁵⁶`.
/// - The CIOS loop (Koç, Acar, Kaliski, "Analyzing and comparing Montgomery multiplication
///   algorithms", IEEE Micro 16(3), 1996) is written row by row: each word-times-vector
///   product is formed with its own carry chain and then added with a second one, which
///   compiles to plain `mul`/`add`/`adc` sequences (the fused multiply-accumulate form keeps
///   carries in `setb`/`movzx` pairs and ran about 10 % slower).
///
/// Everything is branch-free: conditional subtractions select with a mask, so the cost does
/// not depend on the data (and no branch is mispredicted on random inputs).
mod lazy {
    use zkaccel_backend::curves::Bn254FrParams;
    use zkaccel_backend::field::FpParams;

    /// Four little-endian limbs of a Montgomery-form value (range stated at each use).
    pub(super) type L = [u64; 4];

    /// The modulus `p` (BN254's `r`).
    pub(super) const P: L = <Bn254FrParams as FpParams<4>>::MODULUS;
    /// `-p⁻¹ mod 2⁶⁴`.
    const INV: u64 = <Bn254FrParams as FpParams<4>>::INV;
    /// `2p`.
    pub(super) const P2: L = times(&P, 2);

    /// `a·k` for a small `k`, panicking (at compile time in constants) on overflow.
    const fn times(a: &L, k: u64) -> L {
        let mut r = [0u64; 4];
        let mut carry = 0u64;
        let mut i = 0;
        while i < 4 {
            let t = a[i] as u128 * k as u128 + carry as u128;
            r[i] = t as u64;
            carry = (t >> 64) as u64;
            i += 1;
        }
        assert!(carry == 0, "overflow");
        r
    }

    // Every bound below needs `5p < 2²⁵⁶`.
    const _: L = times(&P, 5);

    /// `a + b + c` with a carry flag, in the form LLVM lowers to `adc`.
    #[inline(always)]
    fn adc(a: u64, b: u64, c: bool) -> (u64, bool) {
        let (s, c1) = a.overflowing_add(b);
        let (s, c2) = s.overflowing_add(c as u64);
        (s, c1 | c2)
    }

    /// `a − b − c` with a borrow flag, in the form LLVM lowers to `sbb`.
    #[inline(always)]
    fn sbb(a: u64, b: u64, c: bool) -> (u64, bool) {
        let (d, b1) = a.overflowing_sub(b);
        let (d, b2) = d.overflowing_sub(c as u64);
        (d, b1 | b2)
    }

    /// `a + b` without reduction; the caller keeps the sum below `2²⁵⁶`.
    #[inline(always)]
    pub(super) fn add(a: &L, b: &L) -> L {
        let (r0, c) = adc(a[0], b[0], false);
        let (r1, c) = adc(a[1], b[1], c);
        let (r2, c) = adc(a[2], b[2], c);
        let (r3, c) = adc(a[3], b[3], c);
        debug_assert!(!c, "lazy sum overflows 256 bits");
        [r0, r1, r2, r3]
    }

    /// `x − m` when `x ≥ m`, else `x`, selected with a mask (no branch).
    #[inline(always)]
    pub(super) fn csub(x: &L, m: &L) -> L {
        let (d0, b) = sbb(x[0], m[0], false);
        let (d1, b) = sbb(x[1], m[1], b);
        let (d2, b) = sbb(x[2], m[2], b);
        let (d3, b) = sbb(x[3], m[3], b);
        // All ones when the subtraction borrowed, i.e. x < m: keep x.
        let keep = 0u64.wrapping_sub(b as u64);
        [
            d0 ^ ((d0 ^ x[0]) & keep),
            d1 ^ ((d1 ^ x[1]) & keep),
            d2 ^ ((d2 ^ x[2]) & keep),
            d3 ^ ((d3 ^ x[3]) & keep),
        ]
    }

    /// `a·w` as five words.
    #[inline(always)]
    fn row(a: &L, w: u64) -> [u64; 5] {
        let p0 = a[0] as u128 * w as u128;
        let p1 = a[1] as u128 * w as u128;
        let p2 = a[2] as u128 * w as u128;
        let p3 = a[3] as u128 * w as u128;
        let (r1, c) = adc(p1 as u64, (p0 >> 64) as u64, false);
        let (r2, c) = adc(p2 as u64, (p1 >> 64) as u64, c);
        let (r3, c) = adc(p3 as u64, (p2 >> 64) as u64, c);
        // A 256×64-bit product fits in five words: no carry out.
        let r4 = (p3 >> 64) as u64 + c as u64;
        [p0 as u64, r1, r2, r3, r4]
    }

    /// `u += r` on five words (the caller's bounds keep the sum below `2³²⁰`).
    #[inline(always)]
    fn acc(u: &mut [u64; 5], r: &[u64; 5]) {
        let mut c = false;
        for (x, y) in u.iter_mut().zip(r) {
            (*x, c) = adc(*x, *y, c);
        }
    }

    /// One Montgomery step: `(u + m·p) / 2⁶⁴` with `m = −u₀·p⁻¹ mod 2⁶⁴`, which clears the
    /// low word. The caller's bounds keep the quotient below `2²⁵⁶`.
    #[inline(always)]
    fn reduce_step(u: &[u64; 5]) -> L {
        let m = u[0].wrapping_mul(INV);
        let r = row(&P, m);
        // u₀ + r₀ ≡ 0 (mod 2⁶⁴): only its carry is kept.
        let (_, c) = adc(u[0], r[0], false);
        let (x1, c) = adc(u[1], r[1], c);
        let (x2, c) = adc(u[2], r[2], c);
        let (x3, c) = adc(u[3], r[3], c);
        let (x4, _) = adc(u[4], r[4], c);
        [x1, x2, x3, x4]
    }

    /// Step `i` of the CIOS loop of [`dot`]: add `Σ aₖ·bₖ[i]` (and `ka·kb[i]`), reduce a word.
    #[inline(always)]
    fn dot_step(t: &L, a: &[L], b: &[L], extra: Option<(&L, &L)>, i: usize) -> L {
        let mut u = [t[0], t[1], t[2], t[3], 0];
        for (ak, bk) in a.iter().zip(b) {
            acc(&mut u, &row(ak, bk[i]));
        }
        if let Some((ka, kb)) = extra {
            acc(&mut u, &row(ka, kb[i]));
        }
        reduce_step(&u)
    }

    /// `(Σ aₖ·bₖ + ka·kb)·R⁻¹` with one reduction, for at most four terms in all, constants
    /// `aₖ, ka < p` and any `bₖ, kb < 2²⁵⁶`. The result is below `Σ aₖ·bₖ/R + p`: below
    /// `(1 + 0.38·K)·p` for `K` terms when every `bₖ < 2p` (`p/R < 0.19`), so below `1.38p`
    /// for one term, `1.76p` for two, `2.52p` for four.
    ///
    /// CIOS over the words of the `bₖ`: at every step the running value stays below
    /// `Σ aₖ + p ≤ 5p < 2²⁵⁶`, so four words and one top word hold it exactly.
    #[inline(always)]
    pub(super) fn dot(a: &[L], b: &[L], extra: Option<(&L, &L)>) -> L {
        debug_assert!(a.len() == b.len() && a.len() + extra.is_some() as usize <= 4);
        let t = dot_step(&[0; 4], a, b, extra, 0);
        let t = dot_step(&t, a, b, extra, 1);
        let t = dot_step(&t, a, b, extra, 2);
        dot_step(&t, a, b, extra, 3)
    }

    /// `a·b·R⁻¹` for a constant `a < p` (or any `a` with `a + p < 2²⁵⁶`), any `b`: below
    /// `a·b/R + p`, so below `2p` when `a, b < 2p`.
    #[inline(always)]
    pub(super) fn mul(a: &L, b: &L) -> L {
        dot(core::slice::from_ref(a), core::slice::from_ref(b), None)
    }

    /// `(Σ aⱼ·bⱼ + ka·kb)·R⁻¹` for any number of terms, constants `aⱼ, ka < p`, values
    /// `bⱼ, kb < 2p`: below `2p`. Groups of up to four terms share one reduction.
    #[inline(always)]
    pub(super) fn dot_row(a: &[L], b: &[L], extra: Option<(&L, &L)>) -> L {
        let n = a.len();
        if n + extra.is_some() as usize <= 4 {
            // Below 2.52p, then below 1.52p.
            return csub(&dot(a, b, extra), &P);
        }
        let mut sum = csub(&dot(&a[..4], &b[..4], None), &P);
        let mut i = 4;
        while i < n {
            let e = (i + 4).min(n);
            let part = csub(&dot(&a[i..e], &b[i..e], None), &P);
            // Both below 2p: the sum is below 4p < 2²⁵⁶, then below 2p.
            sum = csub(&add(&sum, &part), &P2);
            i = e;
        }
        if let Some(x) = extra {
            let part = dot(&[], &[], Some(x));
            sum = csub(&add(&sum, &part), &P2);
        }
        sum
    }

    /// `x⁵` for `x < 2p`, below `2p`: `x²`, `x⁴`, `x⁴·x`.
    ///
    /// A dedicated squaring (off-diagonal products once, doubled: 10 limb products instead of
    /// 16, in either separated or CIOS form) measured 1–4 % *slower* per permutation on
    /// x86-64 than this loop, which is limited by instruction throughput rather than by the
    /// multiplier, so squarings use the general product.
    #[inline(always)]
    pub(super) fn pow5(x: &L) -> L {
        let x2 = mul(x, x);
        let x4 = mul(&x2, &x2);
        mul(&x4, x)
    }
}

use lazy::L;

/// circomlib Poseidon of width `T` in the optimised form (sparse partial rounds), on lazily
/// reduced Montgomery limbs (see [`lazy`]): the state stays below `2p` between steps and is
/// reduced below `p` once, at the end.
///
/// Partial rounds run two at a time ([`SparsePair`]): the second round's first-row product
/// reads the first round's `sⱼ + colⱼ·x₀` as `sⱼ` plus a precomputed multiple of `x₀`, so the
/// updates `sⱼ + colⱼ·x₀ + col'ⱼ·x₀'` are two-term dot products with one reduction each
/// instead of two products with a reduction each.
pub(crate) struct CircomFast<const T: usize> {
    first_rc: Vec<[L; T]>,
    mds: [[L; T]; T],
    pre_sparse: [[L; T]; T],
    pairs: Vec<SparsePair<T>>,
    /// The last partial round when their number is odd.
    single: Option<SparseRound<T>>,
    last_rc: Vec<[L; T]>,
}

/// One sparse partial round: `x₀ = (s₀ + c)⁵`, `s₀ ← row·(x₀, s₁, …)`, `sⱼ ← sⱼ + colⱼ·x₀`.
struct SparseRound<const T: usize> {
    c: L,
    /// `m00`, then the first row (cells 1..).
    row: [L; T],
    /// The first column (cells 1..; cell 0 unused).
    col: [L; T],
}

/// Two consecutive sparse partial rounds `(c, row, col)` and `(c', row', col')`, with `sⱼ`
/// the state before the pair:
///
/// ```text
/// x  = (s₀ + c)⁵      y  = row·(x, s₁, …)
/// x' = (y + c')⁵      y' = row'·(x', s₁, …) + k·x,   k = Σⱼ≥₁ row'ⱼ·colⱼ
/// s₀ ← y',  sⱼ ← sⱼ + colⱼ·x + col'ⱼ·x'   (j ≥ 1)
/// ```
///
/// This is the two rounds expanded (the second round's `Σ row'ⱼ·(sⱼ + colⱼ·x)` split), so
/// that `y'` is one dot product of `T + 1` terms and each `sⱼ` update one of two terms, each
/// reduced once. The sparse form itself is that of the Poseidon paper (Grassi et al.,
/// USENIX Security 2021, appendix B).
struct SparsePair<const T: usize> {
    c: [L; 2],
    row: [[L; T]; 2],
    k: L,
    /// `[colⱼ, col'ⱼ]` for `j ≥ 1` (cell 0 unused).
    col: [[L; 2]; T],
}

fn square_matrix<const T: usize>(m: &[Bn254Fr]) -> [[L; T]; T] {
    core::array::from_fn(|i| core::array::from_fn(|j| m[i * T + j].limbs))
}

fn rows<const T: usize>(v: &[Bn254Fr]) -> Vec<[L; T]> {
    v.chunks_exact(T)
        .map(|c| core::array::from_fn(|j| c[j].limbs))
        .collect()
}

impl<const T: usize> CircomFast<T> {
    pub(crate) fn new(p: &PoseidonParams<Bn254Fr>) -> Self {
        assert_eq!(p.width, T);
        assert_eq!(p.alpha, 5);
        let o = &p.optimized;
        let rounds: Vec<(Bn254Fr, &SparseMatrix<Bn254Fr>)> =
            o.partial_constants.iter().copied().zip(&o.sparse).collect();
        let row = |s: &SparseMatrix<Bn254Fr>| -> [L; T] {
            core::array::from_fn(|j| if j == 0 { s.m00 } else { s.row[j - 1] }.limbs)
        };
        let pairs = rounds
            .chunks_exact(2)
            .map(|w| {
                let ((c0, s0), (c1, s1)) = (w[0], w[1]);
                let k = s1
                    .row
                    .iter()
                    .zip(&s0.col)
                    .fold(Bn254Fr::ZERO, |acc, (r, c)| acc + *r * *c);
                SparsePair {
                    c: [c0.limbs, c1.limbs],
                    row: [row(s0), row(s1)],
                    k: k.limbs,
                    col: core::array::from_fn(|j| {
                        if j == 0 {
                            [[0; 4]; 2]
                        } else {
                            [s0.col[j - 1].limbs, s1.col[j - 1].limbs]
                        }
                    }),
                }
            })
            .collect();
        let single = rounds
            .chunks_exact(2)
            .remainder()
            .first()
            .map(|&(c, s)| SparseRound {
                c: c.limbs,
                row: row(s),
                col: core::array::from_fn(|j| if j == 0 { [0; 4] } else { s.col[j - 1].limbs }),
            });
        Self {
            first_rc: rows(&o.first_constants),
            mds: square_matrix(&p.mds),
            pre_sparse: square_matrix(&o.pre_sparse),
            pairs,
            single,
            last_rc: rows(&o.last_constants),
        }
    }

    /// `(s + c)⁵` for `s < 2p`, `c < p`: the sum is below `3p`, reduced below `2p` first.
    #[inline(always)]
    fn sbox(s: &L, c: &L) -> L {
        lazy::pow5(&lazy::csub(&lazy::add(s, c), &lazy::P))
    }

    /// Round constants, S-boxes, then the dense matrix `m`. State below `2p` in and out.
    #[inline(always)]
    fn full_round(s: &mut [L; T], rc: &[L; T], m: &[[L; T]; T]) {
        let x: [L; T] = core::array::from_fn(|i| Self::sbox(&s[i], &rc[i]));
        for (si, mi) in s.iter_mut().zip(m) {
            *si = lazy::dot_row(mi, &x, None);
        }
    }

    /// Two sparse partial rounds ([`SparsePair`]). State below `2p` in and out.
    #[inline(always)]
    fn partial_pair(s: &mut [L; T], pr: &SparsePair<T>) {
        let x = Self::sbox(&s[0], &pr.c[0]);
        let mut v = *s;
        v[0] = x;
        let y = lazy::dot_row(&pr.row[0], &v, None);
        let x2 = Self::sbox(&y, &pr.c[1]);
        v[0] = x2;
        let y2 = lazy::dot_row(&pr.row[1], &v, Some((&pr.k, &x)));
        let xs = [x, x2];
        for (sj, cj) in s.iter_mut().zip(&pr.col).skip(1) {
            // colⱼ·x₀ + col'ⱼ·x₀' < 1.76p; plus sⱼ < 2p: below 3.76p, then below 2p.
            let d = lazy::dot(cj, &xs, None);
            *sj = lazy::csub(&lazy::add(sj, &d), &lazy::P2);
        }
        s[0] = y2;
    }

    /// One sparse partial round (`2T − 1` products besides the S-box). State below `2p`.
    #[inline(always)]
    fn partial_round(s: &mut [L; T], pr: &SparseRound<T>) {
        let x0 = Self::sbox(&s[0], &pr.c);
        let mut v = *s;
        v[0] = x0;
        let y0 = lazy::dot_row(&pr.row, &v, None);
        for (sj, cj) in s.iter_mut().zip(&pr.col).skip(1) {
            // colⱼ·x₀ < 1.38p; plus sⱼ < 2p: below 3.38p, then below 2p.
            let prod = lazy::mul(cj, &x0);
            *sj = lazy::csub(&lazy::add(sj, &prod), &lazy::P2);
        }
        s[0] = y0;
    }
}

impl<const T: usize> FastPerm<Bn254Fr, T> for CircomFast<T> {
    fn permute(&self, state: &mut [Bn254Fr; T]) {
        let mut s: [L; T] = core::array::from_fn(|i| state[i].limbs);
        let half = self.first_rc.len();
        for (r, rc) in self.first_rc.iter().enumerate() {
            let m = if r + 1 == half {
                &self.pre_sparse
            } else {
                &self.mds
            };
            Self::full_round(&mut s, rc, m);
        }
        for pr in &self.pairs {
            Self::partial_pair(&mut s, pr);
        }
        if let Some(pr) = &self.single {
            Self::partial_round(&mut s, pr);
        }
        for rc in &self.last_rc {
            Self::full_round(&mut s, rc, &self.mds);
        }
        for (o, x) in state.iter_mut().zip(&s) {
            *o = Bn254Fr::from_montgomery_unchecked(lazy::csub(x, &lazy::P));
        }
    }
}

/// Poseidon2 of width `T` over any field, scalar.
pub(crate) struct Poseidon2Fast<F, const T: usize> {
    pub(crate) initial: Vec<[F; T]>,
    pub(crate) internal: Vec<F>,
    pub(crate) terminal: Vec<[F; T]>,
    pub(crate) diag: [F; T],
    pub(crate) external: ExternalMatrix,
    pub(crate) degree: u64,
}

impl<F: Field, const T: usize> Poseidon2Fast<F, T> {
    pub(crate) fn new(p: &Poseidon2Params<F>) -> Self {
        assert_eq!(p.width, T);
        assert!(p.sbox_degree == 5 || p.sbox_degree == 7);
        let rows = |v: &[F]| -> Vec<[F; T]> {
            v.chunks_exact(T)
                .map(|c| c.try_into().expect("T elements"))
                .collect()
        };
        Self {
            initial: rows(&p.external_initial),
            internal: p.internal_constants.clone(),
            terminal: rows(&p.external_terminal),
            diag: p.internal_diag.as_slice().try_into().expect("T entries"),
            external: p.external,
            degree: p.sbox_degree,
        }
    }

    #[inline(always)]
    fn sbox(&self, x: F) -> F {
        if self.degree == 7 {
            pow7(x)
        } else {
            pow5(x)
        }
    }

    #[inline(always)]
    fn external_layer(&self, s: &mut [F; T]) {
        if T < 4 {
            let mut sum = s[0];
            for x in &s[1..] {
                sum += *x;
            }
            for x in s.iter_mut() {
                *x += sum;
            }
            return;
        }
        for i in (0..T).step_by(4) {
            let b: &mut [F; 4] = (&mut s[i..i + 4]).try_into().expect("4 cells");
            match self.external {
                ExternalMatrix::Horizen => m4_horizen(b),
                ExternalMatrix::Plonky3 => m4_plonky3(b),
            }
        }
        let mut sums = [s[0], s[1], s[2], s[3]];
        for i in (4..T).step_by(4) {
            for k in 0..4 {
                sums[k] += s[i + k];
            }
        }
        for i in 0..T {
            s[i] += sums[i % 4];
        }
    }
}

impl<F: Field, const T: usize> FastPerm<F, T> for Poseidon2Fast<F, T> {
    fn permute(&self, s: &mut [F; T]) {
        self.external_layer(s);
        for rc in &self.initial {
            for i in 0..T {
                s[i] = self.sbox(s[i] + rc[i]);
            }
            self.external_layer(s);
        }
        for c in &self.internal {
            s[0] = self.sbox(s[0] + *c);
            let mut sum = s[0];
            for x in &s[1..] {
                sum += *x;
            }
            for (x, d) in s.iter_mut().zip(&self.diag) {
                *x = sum + *x * *d;
            }
        }
        for rc in &self.terminal {
            for i in 0..T {
                s[i] = self.sbox(s[i] + rc[i]);
            }
            self.external_layer(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::lazy::{self, L, P, P2};
    use zkaccel_backend::curves::Bn254Fr;
    use zkaccel_backend::field::Field;

    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed | 1;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    /// `a < b` as 256-bit integers.
    fn lt(a: &L, b: &L) -> bool {
        a.iter().rev().lt(b.iter().rev())
    }

    /// The field element a value below `2²⁵⁶` stands for (any multiple of `p` removed).
    fn fp(x: &L) -> Bn254Fr {
        let mut r = *x;
        for _ in 0..5 {
            r = lazy::csub(&r, &P);
        }
        assert!(lt(&r, &P));
        Bn254Fr::from_montgomery_unchecked(r)
    }

    fn bound(k: u64) -> L {
        let mut r = [0u64; 4];
        for _ in 0..k {
            r = lazy::add(&r, &P);
        }
        r
    }

    /// Edge values below `2p`: 0, 1, 2, `p − 1`, `p`, `p + 1`, `2p − 1`, values around
    /// `2²⁵⁴` and `2²⁵³`, Montgomery one; then random values below `2p`.
    fn values(n: usize, seed: u64) -> Vec<L> {
        let one = Bn254Fr::ONE.limbs;
        // The low limbs of p and 2p are not zero: subtracting 1 borrows nothing.
        let minus_one = |x: L| [x[0] - 1, x[1], x[2], x[3]];
        let mut v = vec![
            [0; 4],
            [1, 0, 0, 0],
            [2, 0, 0, 0],
            minus_one(P),
            P,
            lazy::add(&P, &[1, 0, 0, 0]),
            minus_one(P2),
            [u64::MAX, u64::MAX, u64::MAX, (1 << 62) - 1],
            [0, 0, 0, 1 << 62],
            [1, 0, 0, 1 << 62],
            [0, 0, 0, 1 << 61],
            one,
            lazy::add(&one, &P),
        ];
        for x in &v {
            assert!(lt(x, &P2));
        }
        let mut r = rng(seed);
        while v.len() < n {
            let x = [r(), r(), r(), r() >> 1];
            v.push(lazy::csub(&x, &P2));
        }
        v
    }

    /// Constants: below `p`.
    fn constants(n: usize, seed: u64) -> Vec<L> {
        values(n, seed).into_iter().filter(|x| lt(x, &P)).collect()
    }

    #[test]
    fn lazy_mul_and_pow5_match_the_field() {
        let vs = values(60, 1);
        let cs = constants(60, 2);
        for b in &vs {
            for a in cs.iter().chain(&vs) {
                let r = lazy::mul(a, b);
                assert!(lt(&r, &P2), "{a:?} · {b:?} not below 2p");
                assert_eq!(fp(&r), fp(a) * fp(b), "{a:?} · {b:?}");
            }
            let r = lazy::pow5(b);
            assert!(lt(&r, &P2));
            let x = fp(b);
            assert_eq!(fp(&r), x.square().square() * x);
            assert_eq!(fp(&lazy::mul(b, b)), x.square());
        }
    }

    #[test]
    fn lazy_dot_matches_the_field() {
        let mut vs = values(40, 3);
        let cs = constants(40, 4);
        let mut r = rng(5);
        let mut pick = |v: &[L]| v[r() as usize % v.len()];
        // One reduction for up to four terms; b may be any 256-bit value there.
        for k in 1..=4usize {
            let bound = [bound(2), bound(2), bound(3), bound(3)][k - 1];
            for trial in 0..200 {
                let a: Vec<L> = (0..k).map(|_| pick(&cs)).collect();
                let mut b: Vec<L> = (0..k).map(|_| pick(&vs)).collect();
                if trial == 0 {
                    b.fill([u64::MAX; 4]);
                }
                let want = a
                    .iter()
                    .zip(&b)
                    .fold(Bn254Fr::ZERO, |s, (x, y)| s + fp(x) * fp(y));
                let got = lazy::dot(&a, &b, None);
                assert_eq!(fp(&got), want);
                if trial > 0 {
                    assert!(lt(&got, &bound), "{k} terms");
                }
                let (la, lb) = (a[k - 1], b[k - 1]);
                let got = lazy::dot(&a[..k - 1], &b[..k - 1], Some((&la, &lb)));
                assert_eq!(fp(&got), want);
            }
        }
        // Any number of terms, with and without an extra one: below 2p.
        vs.extend(values(40, 6));
        for n in 1..=18usize {
            for _ in 0..20 {
                let a: Vec<L> = (0..n).map(|_| pick(&cs)).collect();
                let b: Vec<L> = (0..n).map(|_| pick(&vs)).collect();
                let want = a
                    .iter()
                    .zip(&b)
                    .fold(Bn254Fr::ZERO, |s, (x, y)| s + fp(x) * fp(y));
                let got = lazy::dot_row(&a, &b, None);
                assert!(lt(&got, &P2));
                assert_eq!(fp(&got), want, "{n} terms");
                let (ka, kb) = (pick(&cs), pick(&vs));
                let got = lazy::dot_row(&a, &b, Some((&ka, &kb)));
                assert!(lt(&got, &P2));
                assert_eq!(fp(&got), want + fp(&ka) * fp(&kb), "{n} + 1 terms");
            }
        }
    }

    #[test]
    fn lazy_add_and_csub() {
        let vs = values(40, 7);
        for a in &vs {
            for b in &vs {
                let s = lazy::csub(&lazy::add(a, b), &P2);
                assert!(lt(&s, &P2));
                assert_eq!(fp(&s), fp(a) + fp(b));
                let r = lazy::csub(a, &P);
                assert!(lt(&r, &P));
                assert_eq!(fp(&r), fp(a));
            }
        }
    }
}
