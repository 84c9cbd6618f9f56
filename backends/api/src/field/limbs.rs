//! Constant-time-agnostic multi-precision helpers on little-endian `u64` limb arrays.
//!
//! Everything here is `const fn` so that field constants (Montgomery `R`, `R²`, `-p⁻¹ mod 2⁶⁴`,
//! constants written as decimal or hex strings) are computed by the compiler from the modulus
//! alone: a new field is described by its modulus and generator, nothing else.

/// `a + b + carry`, returning (sum, carry).
#[inline(always)]
pub const fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + b as u128 + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// `a - b - borrow`, returning (difference, borrow) with borrow ∈ {0, 1}.
#[inline(always)]
pub const fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let t = (a as u128).wrapping_sub(b as u128 + borrow as u128);
    (t as u64, (t >> 127) as u64)
}

/// `a + b * c + carry`, returning (low, high). Never overflows 128 bits.
#[inline(always)]
pub const fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + (b as u128) * (c as u128) + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// `a >= b` on equal-length limb arrays.
#[inline(always)]
pub const fn geq<const N: usize>(a: &[u64; N], b: &[u64; N]) -> bool {
    let mut i = N;
    while i > 0 {
        i -= 1;
        if a[i] > b[i] {
            return true;
        }
        if a[i] < b[i] {
            return false;
        }
    }
    true
}

/// `a - b` with the final borrow.
#[inline(always)]
pub const fn sub<const N: usize>(a: &[u64; N], b: &[u64; N]) -> ([u64; N], u64) {
    let mut r = [0u64; N];
    let mut borrow = 0;
    let mut i = 0;
    while i < N {
        let (d, br) = sbb(a[i], b[i], borrow);
        r[i] = d;
        borrow = br;
        i += 1;
    }
    (r, borrow)
}

/// `a + b` with the final carry.
#[inline(always)]
pub const fn add<const N: usize>(a: &[u64; N], b: &[u64; N]) -> ([u64; N], u64) {
    let mut r = [0u64; N];
    let mut carry = 0;
    let mut i = 0;
    while i < N {
        let (s, c) = adc(a[i], b[i], carry);
        r[i] = s;
        carry = c;
        i += 1;
    }
    (r, carry)
}

/// `(a + b) mod p` for `a, b < p`, correct for any `p < 2^(64N)`.
pub const fn add_mod<const N: usize>(a: &[u64; N], b: &[u64; N], p: &[u64; N]) -> [u64; N] {
    let (s, carry) = add(a, b);
    if carry != 0 || geq(&s, p) {
        sub(&s, p).0
    } else {
        s
    }
}

/// True when every limb is zero.
#[inline(always)]
pub const fn is_zero<const N: usize>(a: &[u64; N]) -> bool {
    let mut i = 0;
    while i < N {
        if a[i] != 0 {
            return false;
        }
        i += 1;
    }
    true
}

/// Number of significant bits.
pub const fn num_bits<const N: usize>(a: &[u64; N]) -> u32 {
    let mut i = N;
    while i > 0 {
        i -= 1;
        if a[i] != 0 {
            return 64 * i as u32 + (64 - a[i].leading_zeros());
        }
    }
    0
}

/// Bit `i` of `a` (little-endian), false beyond the end.
#[inline(always)]
pub const fn bit<const N: usize>(a: &[u64; N], i: usize) -> bool {
    let limb = i / 64;
    limb < N && (a[limb] >> (i % 64)) & 1 == 1
}

/// Parses a decimal or `0x`-prefixed hexadecimal string into limbs, at compile time.
///
/// Panics (a compile error when used in a constant) on bad digits or overflow.
pub const fn parse<const N: usize>(s: &str) -> [u64; N] {
    let b = s.as_bytes();
    let (radix, start) = if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        (16u64, 2)
    } else {
        (10u64, 0)
    };
    let mut r = [0u64; N];
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c == b'_' {
            continue;
        }
        let d = match c {
            b'0'..=b'9' => (c - b'0') as u64,
            b'a'..=b'f' => (c - b'a' + 10) as u64,
            b'A'..=b'F' => (c - b'A' + 10) as u64,
            _ => panic!("invalid digit in field constant"),
        };
        assert!(d < radix, "invalid digit in field constant");
        // r = r * radix + d
        let mut carry = d;
        let mut j = 0;
        while j < N {
            let (lo, hi) = mac(carry, r[j], radix, 0);
            r[j] = lo;
            carry = hi;
            j += 1;
        }
        assert!(carry == 0, "field constant does not fit in the limbs");
    }
    r
}

/// `-p⁻¹ mod 2⁶⁴` for odd `p0` (the low limb of the modulus).
pub const fn mont_inv(p0: u64) -> u64 {
    // Newton/Hensel: the inverse of p0 modulo 2^64 is p0^(2^63 - 1).
    let mut inv = 1u64;
    let mut i = 0;
    while i < 63 {
        inv = inv.wrapping_mul(inv);
        inv = inv.wrapping_mul(p0);
        i += 1;
    }
    inv.wrapping_neg()
}

/// `2^k mod p`, by repeated modular doubling (compile-time use only).
pub const fn pow2_mod<const N: usize>(k: u32, p: &[u64; N]) -> [u64; N] {
    let mut r = [0u64; N];
    r[0] = 1;
    // 1 < p for every prime, so r starts reduced.
    let mut i = 0;
    while i < k {
        r = add_mod(&r, &r, p);
        i += 1;
    }
    r
}

/// `(a >> 1)`.
pub const fn shr1<const N: usize>(a: &[u64; N]) -> [u64; N] {
    let mut r = [0u64; N];
    let mut i = 0;
    while i < N {
        r[i] = a[i] >> 1;
        if i + 1 < N {
            r[i] |= a[i + 1] << 63;
        }
        i += 1;
    }
    r
}

/// Montgomery multiplication `a·b·R⁻¹ mod p` with `R = 2^(64N)`, for `a, b < p`.
///
/// This is the CIOS form with the "no-carry" shortcut that applies when the top limb of the
/// modulus leaves one spare bit (top limb < 2⁶³ − 1): the two running carries of the inner
/// loop can be folded into the last limb without an extra word. The shortcut is described in
/// the gnark-crypto note "Faster big-integer modular multiplication for most moduli"
/// (ConsenSys, 2020) and is the same trick arkworks uses for its 4- and 6-limb fields.
#[inline(always)]
pub const fn mont_mul<const N: usize>(
    a: &[u64; N],
    b: &[u64; N],
    p: &[u64; N],
    inv: u64,
) -> [u64; N] {
    let mut r = [0u64; N];
    let mut i = 0;
    while i < N {
        let (r0, mut carry1) = mac(r[0], a[0], b[i], 0);
        let k = r0.wrapping_mul(inv);
        let (_, mut carry2) = mac(r0, k, p[0], 0);
        let mut j = 1;
        while j < N {
            let (t, c1) = mac(r[j], a[j], b[i], carry1);
            carry1 = c1;
            let (t2, c2) = mac(t, k, p[j], carry2);
            carry2 = c2;
            r[j - 1] = t2;
            j += 1;
        }
        r[N - 1] = carry1.wrapping_add(carry2);
        i += 1;
    }
    // One conditional subtraction (r < 2p), selected with a mask rather than a branch: the
    // outcome is data-dependent, so a branch would mispredict often.
    let (d, borrow) = sub(&r, p);
    let keep = borrow.wrapping_neg();
    let mut k = 0;
    while k < N {
        r[k] = (r[k] & keep) | (d[k] & !keep);
        k += 1;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_dec_and_hex_agree() {
        let a: [u64; 2] = parse("340282366920938463463374607431768211455");
        assert_eq!(a, [u64::MAX, u64::MAX]);
        let b: [u64; 2] = parse("0x1_0000000000000002");
        assert_eq!(b, [2, 1]);
    }

    #[test]
    fn mont_inv_is_negated_inverse() {
        for p0 in [3u64, 0x43e1f593f0000001, 0xffffffff00000001, 12345677] {
            assert_eq!(p0.wrapping_mul(mont_inv(p0)), u64::MAX);
        }
    }
}
