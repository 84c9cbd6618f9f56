//! The Grain LFSR that the Poseidon and Poseidon2 reference scripts use to derive round
//! constants (and, for Poseidon, the Cauchy MDS matrix).
//!
//! Source: Grassi, Khovratovich, Rechberger, Roy, Schofnegger, "Poseidon: A New Hash Function
//! for Zero-Knowledge Proof Systems" (USENIX Security 2021), Appendix E ("The Grain LFSR"), and
//! its reference script `generate_parameters_grain.sage` (hadeshash repository, IAIK). The
//! Poseidon2 reference (`poseidon2_rust_params.sage`, HorizenLabs) and Plonky3's
//! `generate_constants.py` use the same generator with the same initialisation.
//!
//! - The 80-bit state is initialised with, most significant bit first: the field type
//!   (2 bits, `1` for a prime field), the S-box type (4 bits, `0` for `x^α`, `1` for `x⁻¹`),
//!   the field size `n` in bits (12 bits), the width `t` (12 bits), `R_F` (10 bits), `R_P`
//!   (10 bits), then thirty `1` bits.
//! - Each clock computes `b[i+80] = b[i+62] ⊕ b[i+51] ⊕ b[i+38] ⊕ b[i+23] ⊕ b[i+13] ⊕ b[i]`.
//! - The first 160 bits are discarded.
//! - Output bits are drawn in pairs (self-shrinking): if the first bit of a pair is 1 the
//!   second is output, otherwise the pair is discarded.
//! - A field element is `n` output bits read as a big-endian integer; for round constants it
//!   is rejected and redrawn when it is not below the modulus, for the Cauchy matrix entries
//!   it is reduced modulo `p` (the script's `F(grain_random_bits(n))`).

use crate::field::PrimeField;

/// The Grain LFSR in self-shrinking mode, initialised for one Poseidon instance.
#[derive(Clone, Debug)]
pub struct Grain {
    /// Bit `i` of the word is `b[i]`, the oldest bit of the sequence in bit 0.
    state: u128,
}

/// The S-box kind recorded in the Grain initialisation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GrainSbox {
    /// `x^α` (code 0).
    Power,
    /// `x⁻¹` (code 1).
    Inverse,
}

impl Grain {
    /// Initialises the generator for a prime field of `n` bits, width `t`, `r_f` full and
    /// `r_p` partial rounds, and discards the first 160 bits.
    pub fn new(sbox: GrainSbox, n: u32, t: u32, r_f: u32, r_p: u32) -> Self {
        let mut bits: u128 = 0;
        let mut pos = 0u32;
        // Pushes `width` bits of `v`, most significant first, at the next positions.
        let mut push = |v: u32, width: u32| {
            for i in (0..width).rev() {
                if (v >> i) & 1 == 1 {
                    bits |= 1u128 << pos;
                }
                pos += 1;
            }
        };
        push(1, 2); // field type: prime field
        push(
            match sbox {
                GrainSbox::Power => 0,
                GrainSbox::Inverse => 1,
            },
            4,
        );
        push(n, 12);
        push(t, 12);
        push(r_f, 10);
        push(r_p, 10);
        push((1 << 30) - 1, 30);
        let mut g = Self { state: bits };
        for _ in 0..160 {
            g.clock();
        }
        g
    }

    /// One LFSR step; returns the new bit.
    #[inline]
    fn clock(&mut self) -> bool {
        let s = self.state;
        let b = ((s >> 62) ^ (s >> 51) ^ (s >> 38) ^ (s >> 23) ^ (s >> 13) ^ s) & 1;
        self.state = (s >> 1) | (b << 79);
        b == 1
    }

    /// The next output bit of the self-shrinking generator.
    pub fn next_bit(&mut self) -> bool {
        loop {
            let keep = self.clock();
            let bit = self.clock();
            if keep {
                return bit;
            }
        }
    }

    /// `n` output bits as a big-endian integer, in little-endian `u64` limbs.
    pub fn next_bits(&mut self, n: u32, out: &mut [u64]) {
        out.iter_mut().for_each(|l| *l = 0);
        for i in (0..n).rev() {
            if self.next_bit() {
                out[(i / 64) as usize] |= 1u64 << (i % 64);
            }
        }
    }

    /// A field element by rejection sampling of `MODULUS_BITS`-bit integers (round constants).
    pub fn field_element_rejection<F: PrimeField>(&mut self) -> F {
        loop {
            let mut v: F::Limbs = bytemuck::Zeroable::zeroed();
            self.next_bits(F::MODULUS_BITS, v.as_mut());
            if let Some(x) = F::from_canonical(&v) {
                return x;
            }
        }
    }

    /// A field element from `MODULUS_BITS` bits reduced modulo `p` (Cauchy matrix entries).
    pub fn field_element_reduced<F: PrimeField>(&mut self) -> F {
        let mut v: F::Limbs = bytemuck::Zeroable::zeroed();
        self.next_bits(F::MODULUS_BITS, v.as_mut());
        let p = F::modulus();
        while !lt(v.as_ref(), p.as_ref()) {
            sub_in_place(v.as_mut(), p.as_ref());
        }
        F::from_canonical(&v).expect("reduced below the modulus")
    }
}

/// `a < b` for little-endian limb slices of equal length.
pub(crate) fn lt(a: &[u64], b: &[u64]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// `a -= b` for little-endian limb slices (`a ≥ b`).
fn sub_in_place(a: &mut [u64], b: &[u64]) {
    let mut borrow = 0u64;
    for (x, y) in a.iter_mut().zip(b) {
        let (d1, b1) = x.overflowing_sub(*y);
        let (d2, b2) = d1.overflowing_sub(borrow);
        *x = d2;
        borrow = (b1 | b2) as u64;
    }
}
