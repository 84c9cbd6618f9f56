//! Poseidon2 (Grassi, Khovratovich, Schofnegger, "Poseidon2: A Faster Version of the Poseidon
//! Hash Function", AFRICACRYPT 2023, eprint 2023/323): parameters and the reference
//! permutation shared by every backend.
//!
//! # The round function
//!
//! Both published families (HorizenLabs' reference implementation and Plonky3) run
//!
//! ```text
//! state ← M_E·state
//! R_F/2 times: state ← M_E·(state + c_r)^d             (external / full rounds)
//! R_P  times: state[0] ← (state[0] + c_r)^d; state ← M_I·state   (internal rounds)
//! R_F/2 times: state ← M_E·(state + c_r)^d
//! ```
//!
//! with `M_I = J + diag(δ)` (every output is `Σ state + δ_i·state_i`). For widths 2 and 3 the
//! external matrix is `circ(2,1)` / `circ(2,1,1)`. For widths that are multiples of 4 it is
//! `circ(2·M4, M4, …, M4)`: each 4-cell block is multiplied by `M4`, then each cell gets the
//! sum of the cells with the same index in every block. The two families differ in `M4`
//! ([`ExternalMatrix`]), in `δ` and in the constants.
//!
//! # Constants
//!
//! Round constants of every instance here come from the Grain LFSR of the Poseidon paper
//! ([`super::grain`], initialised with field type 1, S-box code 0, `n`, `t`, `R_F`, `R_P`):
//! `R_F·t + R_P` elements drawn by rejection sampling, in round order, one per cell in external
//! rounds and one per internal round. This is what HorizenLabs' `poseidon2_rust_params.sage`
//! and Plonky3's `poseidon2/generate_constants.py` do; the tests check the derivation against
//! the constants those projects publish. The internal diagonals are data: HorizenLabs'
//! (`MAT_DIAG*_M_1` in `poseidon2_instance_*.rs`) are random-looking field elements
//! transcribed in [`super::horizen_diag`]; Plonky3's are small signed powers of two chosen
//! for cheap multiplication ([`DiagEntry`]).

use super::grain::{Grain, GrainSbox};
use super::poseidon::{sbox, MAX_WIDTH};
use crate::field::{Field, PrimeField};

/// The 4×4 block of the external matrix.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExternalMatrix {
    /// HorizenLabs' `M4 = [[5,7,1,3],[4,6,1,1],[1,3,5,7],[1,1,4,6]]` (paper, Section 5.1).
    Horizen,
    /// Plonky3's `M4 = circ(2,3,1,1)`, rows `[2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2]`
    /// (`MDSMat4` in `p3-poseidon2`).
    Plonky3,
}

/// One entry `δ_i` of a Plonky3-style internal diagonal: `num / 2^shift`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DiagEntry {
    /// Small signed numerator.
    pub num: i64,
    /// Power of two in the denominator.
    pub shift: u32,
}

impl DiagEntry {
    /// `num / 2^shift`.
    pub const fn new(num: i64, shift: u32) -> Self {
        Self { num, shift }
    }

    /// The field element.
    pub fn to_field<F: PrimeField>(self) -> F {
        let mag = F::from_u64(self.num.unsigned_abs());
        let v = if self.num < 0 { -mag } else { mag };
        let half = F::from_u64(2).inverse().expect("odd characteristic");
        (0..self.shift).fold(v, |acc, _| acc * half)
    }
}

/// A Poseidon2 instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Poseidon2Params<F> {
    /// State width `t`.
    pub width: usize,
    /// Total number of external (full) rounds `R_F`.
    pub rounds_f: usize,
    /// Number of internal (partial) rounds `R_P`.
    pub rounds_p: usize,
    /// The S-box exponent `d`.
    pub sbox_degree: u64,
    /// The 4×4 block of the external matrix (unused for widths 2 and 3).
    pub external: ExternalMatrix,
    /// Constants of the first `R_F/2` external rounds, round-major (`t` per round).
    pub external_initial: Vec<F>,
    /// Constants of the last `R_F/2` external rounds, round-major.
    pub external_terminal: Vec<F>,
    /// One constant per internal round.
    pub internal_constants: Vec<F>,
    /// `δ`: the internal matrix is `J + diag(δ)` (HorizenLabs' `mat_internal_diag_m_1`).
    pub internal_diag: Vec<F>,
}

impl<F: PrimeField> Poseidon2Params<F> {
    /// Builds an instance whose round constants are derived with the Grain LFSR (module
    /// docs) for a field of `F::MODULUS_BITS` bits.
    pub fn from_grain(
        width: usize,
        rounds_f: usize,
        rounds_p: usize,
        sbox_degree: u64,
        external: ExternalMatrix,
        internal_diag: Vec<F>,
    ) -> Self {
        assert!(width <= MAX_WIDTH && (width == 2 || width == 3 || width.is_multiple_of(4)));
        assert_eq!(internal_diag.len(), width);
        let mut g = Grain::new(
            GrainSbox::Power,
            F::MODULUS_BITS,
            width as u32,
            rounds_f as u32,
            rounds_p as u32,
        );
        let half = rounds_f / 2;
        let mut draw =
            |n: usize| -> Vec<F> { (0..n).map(|_| g.field_element_rejection()).collect() };
        let external_initial = draw(half * width);
        let internal_constants = draw(rounds_p);
        let external_terminal = draw(half * width);
        Self {
            width,
            rounds_f,
            rounds_p,
            sbox_degree,
            external,
            external_initial,
            external_terminal,
            internal_constants,
            internal_diag,
        }
    }

    /// The permutation, in place.
    ///
    /// # Panics
    /// If `state.len() != self.width`.
    pub fn permute(&self, state: &mut [F]) {
        let t = self.width;
        assert_eq!(state.len(), t, "state length must equal the width");
        let d = self.sbox_degree;
        self.external_layer(state);
        for rc in self.external_initial.chunks_exact(t) {
            state
                .iter_mut()
                .zip(rc)
                .for_each(|(s, c)| *s = sbox(*s + *c, d));
            self.external_layer(state);
        }
        for c in &self.internal_constants {
            state[0] = sbox(state[0] + *c, d);
            self.internal_layer(state);
        }
        for rc in self.external_terminal.chunks_exact(t) {
            state
                .iter_mut()
                .zip(rc)
                .for_each(|(s, c)| *s = sbox(*s + *c, d));
            self.external_layer(state);
        }
    }

    /// `state ← M_E·state`.
    pub fn external_layer(&self, state: &mut [F]) {
        let t = state.len();
        if t == 2 || t == 3 {
            let sum = state.iter().fold(F::ZERO, |a, b| a + *b);
            state.iter_mut().for_each(|s| *s += sum);
            return;
        }
        for block in state.chunks_exact_mut(4) {
            let b: &mut [F; 4] = block.try_into().expect("4 cells");
            match self.external {
                ExternalMatrix::Horizen => m4_horizen(b),
                ExternalMatrix::Plonky3 => m4_plonky3(b),
            }
        }
        let mut sums = [F::ZERO; 4];
        for block in state.chunks_exact(4) {
            for k in 0..4 {
                sums[k] += block[k];
            }
        }
        state
            .iter_mut()
            .enumerate()
            .for_each(|(i, s)| *s += sums[i % 4]);
    }

    /// `state ← (J + diag(δ))·state`.
    pub fn internal_layer(&self, state: &mut [F]) {
        let sum = state.iter().fold(F::ZERO, |a, b| a + *b);
        state
            .iter_mut()
            .zip(&self.internal_diag)
            .for_each(|(s, d)| *s = sum + *s * *d);
    }
}

/// HorizenLabs' `M4` (module docs), with the addition chain of the paper's Appendix B.
#[inline(always)]
pub fn m4_horizen<F: Field>(x: &mut [F; 4]) {
    let t0 = x[0] + x[1];
    let t1 = x[2] + x[3];
    let t2 = x[1].double() + t1;
    let t3 = x[3].double() + t0;
    let t4 = t1.double().double() + t3;
    let t5 = t0.double().double() + t2;
    let t6 = t3 + t5;
    let t7 = t2 + t4;
    *x = [t6, t5, t7, t4];
}

/// Plonky3's `M4 = circ(2,3,1,1)`.
#[inline(always)]
pub fn m4_plonky3<F: Field>(x: &mut [F; 4]) {
    let t01 = x[0] + x[1];
    let t23 = x[2] + x[3];
    let t0123 = t01 + t23;
    let t01123 = t0123 + x[1];
    let t01233 = t0123 + x[3];
    let y3 = t01233 + x[0].double();
    let y1 = t01123 + x[2].double();
    let y0 = t01123 + t01;
    let y2 = t01233 + t23;
    *x = [y0, y1, y2, y3];
}
