//! Fixed-width permutations prepared for speed: state and constants in arrays sized at compile
//! time, no allocation, one call per block of states.

use zkaccel_backend::curves::Bn254Fr;
use zkaccel_backend::field::Field;
use zkaccel_backend::hash::poseidon::PoseidonParams;
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

/// circomlib Poseidon of width `T` in the optimised form (sparse partial rounds).
pub(crate) struct CircomFast<const T: usize> {
    first_rc: Vec<[Bn254Fr; T]>,
    mds: [[Bn254Fr; T]; T],
    pre_sparse: [[Bn254Fr; T]; T],
    /// Per partial round: the constant, `m00`, the first row (cells 1..), the first column.
    partial: Vec<SparseRound<T>>,
    last_rc: Vec<[Bn254Fr; T]>,
}

struct SparseRound<const T: usize> {
    c: Bn254Fr,
    m00: Bn254Fr,
    row: [Bn254Fr; T],
    col: [Bn254Fr; T],
}

fn square_matrix<const T: usize>(m: &[Bn254Fr]) -> [[Bn254Fr; T]; T] {
    core::array::from_fn(|i| core::array::from_fn(|j| m[i * T + j]))
}

fn rows<const T: usize>(v: &[Bn254Fr]) -> Vec<[Bn254Fr; T]> {
    v.chunks_exact(T)
        .map(|c| c.try_into().expect("T elements"))
        .collect()
}

impl<const T: usize> CircomFast<T> {
    pub(crate) fn new(p: &PoseidonParams<Bn254Fr>) -> Self {
        assert_eq!(p.width, T);
        assert_eq!(p.alpha, 5);
        let o = &p.optimized;
        let partial = o
            .partial_constants
            .iter()
            .zip(&o.sparse)
            .map(|(c, s)| {
                let mut row = [Bn254Fr::ZERO; T];
                let mut col = [Bn254Fr::ZERO; T];
                row[1..].copy_from_slice(&s.row);
                col[1..].copy_from_slice(&s.col);
                SparseRound {
                    c: *c,
                    m00: s.m00,
                    row,
                    col,
                }
            })
            .collect();
        Self {
            first_rc: rows(&o.first_constants),
            mds: square_matrix(&p.mds),
            pre_sparse: square_matrix(&o.pre_sparse),
            partial,
            last_rc: rows(&o.last_constants),
        }
    }

    #[inline(always)]
    fn full_round(s: &mut [Bn254Fr; T], rc: &[Bn254Fr; T], m: &[[Bn254Fr; T]; T]) {
        let mut x = [Bn254Fr::ZERO; T];
        for i in 0..T {
            x[i] = pow5(s[i] + rc[i]);
        }
        for i in 0..T {
            let mut acc = m[i][0] * x[0];
            for j in 1..T {
                acc += m[i][j] * x[j];
            }
            s[i] = acc;
        }
    }
}

impl<const T: usize> FastPerm<Bn254Fr, T> for CircomFast<T> {
    fn permute(&self, s: &mut [Bn254Fr; T]) {
        let half = self.first_rc.len();
        for (r, rc) in self.first_rc.iter().enumerate() {
            let m = if r + 1 == half {
                &self.pre_sparse
            } else {
                &self.mds
            };
            Self::full_round(s, rc, m);
        }
        for pr in &self.partial {
            let x0 = pow5(s[0] + pr.c);
            let mut y0 = pr.m00 * x0;
            for ((x, r), c) in s.iter_mut().zip(&pr.row).zip(&pr.col).skip(1) {
                y0 += *r * *x;
                *x += *c * x0;
            }
            s[0] = y0;
        }
        for rc in &self.last_rc {
            Self::full_round(s, rc, &self.mds);
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
