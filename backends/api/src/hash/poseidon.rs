//! Poseidon (Grassi, Khovratovich, Rechberger, Roy, Schofnegger, USENIX Security 2021) with
//! the parameters of circomlib over BN254's scalar field.
//!
//! # The instances
//!
//! circomlib's `Poseidon(nInputs)` for `nInputs = 1..=16` is the permutation of width
//! `t = nInputs + 1` with the S-box `x⁵`, `R_F = 8` full rounds and
//! `R_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68][t − 2]` partial
//! rounds ([`CIRCOM_PARTIAL_ROUNDS`]). The hash of `inputs` is `state[0]` after permuting
//! `[0, inputs…]`.
//!
//! Round constants and the MDS matrix are not stored: they are derived here, once per width
//! and lazily, exactly as the reference script `generate_parameters_grain.sage` (hadeshash,
//! IAIK; invoked as `sage generate_parameters_grain.sage 1 0 254 t 8 R_P p`) derives them,
//! which is where circomlib's constants come from: `(R_F + R_P)·t` round constants from the
//! Grain LFSR ([`super::grain`]) by rejection sampling, then a Cauchy matrix
//! `M[i][j] = 1/(x_i + y_j)` from `2t` further Grain outputs reduced modulo `p` (redrawn while
//! they contain a duplicate). The state is multiplied as `state ← M·state`.
//!
//! # Plain and optimised forms
//!
//! [`PoseidonParams::permute_plain`] is the textbook round function (add constants, S-box,
//! multiply by `M`), kept as the test oracle. [`PoseidonParams::permute`] runs the equivalent
//! optimised form of the Poseidon paper's Appendix B (also circomlib's `poseidon_opt`): the
//! partial rounds' constants are folded so that only `state[0]` receives one, and the dense
//! matrix of each partial round is factored as `M = S·D` with `D = diag(1, M̂)` pushed into
//! the previous round, leaving a sparse `S` (first row, first column and identity), so a
//! partial round costs `3 + 2(t − 1) + 1` multiplications instead of `3 + t²`.

use super::grain::{Grain, GrainSbox};
use super::HashError;
use crate::curves::Bn254Fr;
use crate::field::{Field, PrimeField};
use std::sync::OnceLock;

/// Number of full rounds of every circomlib instance.
pub const CIRCOM_FULL_ROUNDS: usize = 8;

/// circomlib's partial-round counts, indexed by `t − 2` for `t = 2..=17` (`N_ROUNDS_P` in
/// circomlib's `poseidon.circom`).
pub const CIRCOM_PARTIAL_ROUNDS: [usize; 16] = [
    56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68,
];

/// Smallest and largest circomlib widths.
pub const CIRCOM_WIDTHS: core::ops::RangeInclusive<usize> = 2..=17;

/// The sparse matrix of one optimised partial round:
/// `y₀ = m00·x₀ + Σ row[k]·x_{k+1}` and `y_{k+1} = col[k]·x₀ + x_{k+1}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SparseMatrix<F> {
    /// The top-left entry.
    pub m00: F,
    /// The rest of the first row (`t − 1` entries).
    pub row: Vec<F>,
    /// The rest of the first column (`t − 1` entries).
    pub col: Vec<F>,
}

/// The optimised (equivalent) round data of a Poseidon instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoseidonOptimized<F> {
    /// Round constants of the first `R_F/2` full rounds (unchanged), round-major.
    pub first_constants: Vec<F>,
    /// The matrix of the last full round before the partial rounds, `D₀·M`, row-major.
    pub pre_sparse: Vec<F>,
    /// One constant per partial round, added to `state[0]` before its S-box.
    pub partial_constants: Vec<F>,
    /// One sparse matrix per partial round.
    pub sparse: Vec<SparseMatrix<F>>,
    /// Round constants of the last `R_F/2` full rounds (the first absorbs what the partial
    /// rounds no longer add), round-major.
    pub last_constants: Vec<F>,
}

/// A Poseidon instance: width, rounds, S-box exponent, constants and matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoseidonParams<F> {
    /// State width `t`.
    pub width: usize,
    /// Total number of full rounds `R_F` (half before, half after the partial rounds).
    pub full_rounds: usize,
    /// Number of partial rounds `R_P`.
    pub partial_rounds: usize,
    /// The S-box exponent `α` (5 here).
    pub alpha: u64,
    /// `(R_F + R_P)·t` round constants, round-major.
    pub round_constants: Vec<F>,
    /// The MDS matrix, row-major: `state'[i] = Σ_j mds[i·t + j]·state[j]`.
    pub mds: Vec<F>,
    /// The equivalent optimised form.
    pub optimized: PoseidonOptimized<F>,
}

/// Largest state any permutation in this module handles (stack scratch size).
pub(crate) const MAX_WIDTH: usize = 32;

/// `x^α` for the exponents used here (5 and 7 with short chains, others by square-and-multiply).
#[inline(always)]
pub fn sbox<F: Field>(x: F, alpha: u64) -> F {
    match alpha {
        3 => x.square() * x,
        5 => x.square().square() * x,
        7 => {
            let x2 = x.square();
            x2.square() * x2 * x
        }
        _ => x.pow(&[alpha]),
    }
}

impl<F: PrimeField> PoseidonParams<F> {
    /// Derives an instance with the reference Grain procedure (module docs) for a prime field
    /// of `F::MODULUS_BITS` bits and the S-box `x^alpha`.
    pub fn generate(width: usize, full_rounds: usize, partial_rounds: usize, alpha: u64) -> Self {
        assert!(
            (2..=MAX_WIDTH).contains(&width),
            "unsupported width {width}"
        );
        let mut grain = Grain::new(
            GrainSbox::Power,
            F::MODULUS_BITS,
            width as u32,
            full_rounds as u32,
            partial_rounds as u32,
        );
        let round_constants: Vec<F> = (0..(full_rounds + partial_rounds) * width)
            .map(|_| grain.field_element_rejection())
            .collect();
        let mds = cauchy_mds(&mut grain, width);
        let mut p = Self {
            width,
            full_rounds,
            partial_rounds,
            alpha,
            round_constants,
            mds,
            optimized: PoseidonOptimized {
                first_constants: Vec::new(),
                pre_sparse: Vec::new(),
                partial_constants: Vec::new(),
                sparse: Vec::new(),
                last_constants: Vec::new(),
            },
        };
        p.optimized = p.compute_optimized();
        p
    }

    /// The textbook permutation: every round adds its constants, applies the S-box (to all
    /// cells in full rounds, to `state[0]` in partial rounds) and multiplies by the MDS matrix.
    ///
    /// # Panics
    /// If `state.len() != self.width`.
    pub fn permute_plain(&self, state: &mut [F]) {
        let t = self.width;
        assert_eq!(state.len(), t, "state length must equal the width");
        let half = self.full_rounds / 2;
        let rounds = self.full_rounds + self.partial_rounds;
        for r in 0..rounds {
            let rc = &self.round_constants[r * t..(r + 1) * t];
            state.iter_mut().zip(rc).for_each(|(s, c)| *s += *c);
            if r < half || r >= half + self.partial_rounds {
                state.iter_mut().for_each(|s| *s = sbox(*s, self.alpha));
            } else {
                state[0] = sbox(state[0], self.alpha);
            }
            mat_vec(&self.mds, state);
        }
    }

    /// The permutation in the optimised form (same output as [`Self::permute_plain`]).
    ///
    /// # Panics
    /// If `state.len() != self.width`.
    pub fn permute(&self, state: &mut [F]) {
        let t = self.width;
        assert_eq!(state.len(), t, "state length must equal the width");
        let o = &self.optimized;
        let half = self.full_rounds / 2;
        for r in 0..half {
            let rc = &o.first_constants[r * t..(r + 1) * t];
            state
                .iter_mut()
                .zip(rc)
                .for_each(|(s, c)| *s = sbox(*s + *c, self.alpha));
            mat_vec(
                if r + 1 == half {
                    &o.pre_sparse
                } else {
                    &self.mds
                },
                state,
            );
        }
        for (c, s) in o.partial_constants.iter().zip(&o.sparse) {
            let x0 = sbox(state[0] + *c, self.alpha);
            let mut y0 = s.m00 * x0;
            for ((x, r), c) in state[1..].iter_mut().zip(&s.row).zip(&s.col) {
                y0 += *r * *x;
                *x += *c * x0;
            }
            state[0] = y0;
        }
        for r in 0..half {
            let rc = &o.last_constants[r * t..(r + 1) * t];
            state
                .iter_mut()
                .zip(rc)
                .for_each(|(s, c)| *s = sbox(*s + *c, self.alpha));
            mat_vec(&self.mds, state);
        }
    }

    /// Builds the optimised form from the plain constants and matrix (module docs).
    fn compute_optimized(&self) -> PoseidonOptimized<F> {
        let t = self.width;
        let half = self.full_rounds / 2;
        let rp = self.partial_rounds;
        let rc = |r: usize| &self.round_constants[r * t..(r + 1) * t];

        // Constants: carry every partial round's constants on cells 1.. forward through the
        // matrix (the S-box does not touch them) into the next round.
        let mut acc = vec![F::ZERO; t];
        let mut partial_constants = Vec::with_capacity(rp);
        for r in 0..rp {
            let mut c: Vec<F> = rc(half + r)
                .iter()
                .zip(&acc)
                .map(|(a, b)| *a + *b)
                .collect();
            partial_constants.push(c[0]);
            c[0] = F::ZERO;
            mat_vec(&self.mds, &mut c);
            acc = c;
        }
        let mut last_constants: Vec<F> = (half + rp..self.full_rounds + rp)
            .flat_map(|r| rc(r).to_vec())
            .collect();
        last_constants[..t]
            .iter_mut()
            .zip(&acc)
            .for_each(|(a, b)| *a += *b);

        // Matrices: from the last partial round backwards, A = S·D with D = diag(1, Â);
        // D moves into the previous round's matrix.
        let mut sparse = Vec::with_capacity(rp);
        let mut a = self.mds.clone();
        for _ in 0..rp {
            let hat: Vec<F> = (1..t)
                .flat_map(|i| (1..t).map(move |j| (i, j)))
                .map(|(i, j)| a[i * t + j])
                .collect();
            let hat_inv = mat_inverse(&hat, t - 1).expect("MDS submatrices are invertible");
            // row^T = a01^T · Â⁻¹
            let row: Vec<F> = (0..t - 1)
                .map(|j| {
                    (0..t - 1).fold(F::ZERO, |acc, k| acc + a[k + 1] * hat_inv[k * (t - 1) + j])
                })
                .collect();
            let col: Vec<F> = (1..t).map(|i| a[i * t]).collect();
            sparse.push(SparseMatrix {
                m00: a[0],
                row,
                col,
            });
            let mut d = vec![F::ZERO; t * t];
            d[0] = F::ONE;
            for i in 1..t {
                for j in 1..t {
                    d[i * t + j] = a[i * t + j];
                }
            }
            a = mat_mul(&d, &self.mds, t);
        }
        sparse.reverse();
        PoseidonOptimized {
            first_constants: self.round_constants[..half * t].to_vec(),
            pre_sparse: a,
            partial_constants,
            sparse,
            last_constants,
        }
    }
}

/// The circomlib instance of width `t` (`t = 2..=17`, i.e. 1 to 16 inputs), derived on first
/// use and kept for the life of the process.
pub fn circom_params(t: usize) -> Result<&'static PoseidonParams<Bn254Fr>, HashError> {
    static CELLS: [OnceLock<PoseidonParams<Bn254Fr>>; 16] = [const { OnceLock::new() }; 16];
    if !CIRCOM_WIDTHS.contains(&t) {
        return Err(HashError::InputLength {
            expected: "1 to 16 inputs (circomlib widths 2..=17)".into(),
            got: t.saturating_sub(1),
        });
    }
    Ok(CELLS[t - 2].get_or_init(|| {
        PoseidonParams::generate(t, CIRCOM_FULL_ROUNDS, CIRCOM_PARTIAL_ROUNDS[t - 2], 5)
    }))
}

/// circomlib's `Poseidon(n)`: `state[0]` of the width-`n+1` permutation of `[0, inputs…]`,
/// for `1 ≤ n ≤ 16` (reference code; the CPU backend has the fast batch version).
pub fn circom_hash(inputs: &[Bn254Fr]) -> Result<Bn254Fr, HashError> {
    if inputs.is_empty() || inputs.len() > 16 {
        return Err(HashError::InputLength {
            expected: "1 to 16 inputs".into(),
            got: inputs.len(),
        });
    }
    let p = circom_params(inputs.len() + 1)?;
    let mut state = [Bn254Fr::ZERO; 17];
    state[1..=inputs.len()].copy_from_slice(inputs);
    p.permute(&mut state[..=inputs.len()]);
    Ok(state[0])
}

/// Draws the Cauchy matrix of `generate_parameters_grain.sage` (`create_mds_p`): `2t` reduced
/// Grain elements, redrawn while two coincide or some `x_i + y_j` is zero;
/// `M[i][j] = (x_i + y_j)⁻¹`.
fn cauchy_mds<F: PrimeField>(grain: &mut Grain, t: usize) -> Vec<F> {
    loop {
        let mut v: Vec<F> = (0..2 * t).map(|_| grain.field_element_reduced()).collect();
        while has_duplicates(&v) {
            v = (0..2 * t).map(|_| grain.field_element_reduced()).collect();
        }
        let (xs, ys) = v.split_at(t);
        let mut m = Vec::with_capacity(t * t);
        let mut ok = true;
        'rows: for x in xs {
            for y in ys {
                match (*x + *y).inverse() {
                    Some(e) => m.push(e),
                    None => {
                        ok = false;
                        break 'rows;
                    }
                }
            }
        }
        if ok {
            return m;
        }
    }
}

fn has_duplicates<F: PartialEq>(v: &[F]) -> bool {
    v.iter()
        .enumerate()
        .any(|(i, a)| v[i + 1..].iter().any(|b| a == b))
}

/// `state ← M·state` for a row-major `t×t` matrix.
#[inline]
pub(crate) fn mat_vec<F: Field>(m: &[F], state: &mut [F]) {
    let t = state.len();
    let mut out = [F::ZERO; MAX_WIDTH];
    for (i, o) in out[..t].iter_mut().enumerate() {
        let row = &m[i * t..(i + 1) * t];
        *o = row
            .iter()
            .zip(state.iter())
            .fold(F::ZERO, |acc, (a, b)| acc + *a * *b);
    }
    state.copy_from_slice(&out[..t]);
}

/// Row-major product of two `t×t` matrices.
pub(crate) fn mat_mul<F: Field>(a: &[F], b: &[F], t: usize) -> Vec<F> {
    let mut c = vec![F::ZERO; t * t];
    for i in 0..t {
        for k in 0..t {
            let aik = a[i * t + k];
            for j in 0..t {
                c[i * t + j] += aik * b[k * t + j];
            }
        }
    }
    c
}

/// Inverse of a row-major `n×n` matrix by Gauss–Jordan elimination; `None` if singular.
pub(crate) fn mat_inverse<F: Field>(m: &[F], n: usize) -> Option<Vec<F>> {
    let mut a = m.to_vec();
    let mut inv = vec![F::ZERO; n * n];
    for i in 0..n {
        inv[i * n + i] = F::ONE;
    }
    for c in 0..n {
        let p = (c..n).find(|&r| !a[r * n + c].is_zero())?;
        if p != c {
            for j in 0..n {
                a.swap(p * n + j, c * n + j);
                inv.swap(p * n + j, c * n + j);
            }
        }
        let pinv = a[c * n + c].inverse()?;
        for j in 0..n {
            a[c * n + j] *= pinv;
            inv[c * n + j] *= pinv;
        }
        for r in 0..n {
            if r != c && !a[r * n + c].is_zero() {
                let f = a[r * n + c];
                for j in 0..n {
                    let (ac, ic) = (a[c * n + j], inv[c * n + j]);
                    a[r * n + j] -= f * ac;
                    inv[r * n + j] -= f * ic;
                }
            }
        }
    }
    Some(inv)
}
