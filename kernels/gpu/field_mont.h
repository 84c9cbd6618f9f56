/* Template: a prime field of LIMBS 32-bit limbs in Montgomery form with R = 2^(32*LIMBS).
 *
 * Instantiated with:
 *   FIELD      name prefix (fp, fr, ff, ...)
 *   LIMBS      number of 32-bit limbs (8 for 256-bit, 12 for 384-bit fields)
 *   FIELD_P    brace list of the modulus limbs, least significant first
 *   FIELD_R    brace list of R mod p (the Montgomery form of one)
 *   FIELD_INV  -p^-1 mod 2^32
 * The modulus must leave the top bit of the top limb clear (true of BN254, BLS12-381 and
 * BLS12-377), so sums of two reduced elements never carry out of LIMBS limbs.
 *
 * Elements are kept fully reduced (< p) after every operation, so equality is limb equality
 * and the bytes are exactly the host's little-endian 64-bit Montgomery limbs (two 32-bit
 * limbs per 64-bit limb: the same R, the same bytes).
 *
 * Multiplication is CIOS (Koc, Acar, Kaliski, "Analyzing and comparing Montgomery
 * multiplication algorithms", IEEE Micro 1996, section 4) on 32-bit words with 64-bit
 * accumulators: (2^32-1)^2 + 2(2^32-1) = 2^64-1 never overflows. */
#define F_T CAT(FIELD, _t)
#define F(name) CAT3(FIELD, _, name)

typedef struct {
  u32 v[LIMBS];
} F_T;

DEVICE F_T F(zero)(void) {
  F_T r;
  UNROLL for (int i = 0; i < LIMBS; i++) r.v[i] = 0;
  return r;
}

DEVICE F_T F(one)(void) {
  const u32 one[LIMBS] = FIELD_R;
  F_T r;
  UNROLL for (int i = 0; i < LIMBS; i++) r.v[i] = one[i];
  return r;
}

DEVICE int F(is_zero)(F_T a) {
  u32 acc = 0;
  UNROLL for (int i = 0; i < LIMBS; i++) acc |= a.v[i];
  return acc == 0;
}

DEVICE int F(eq)(F_T a, F_T b) {
  u32 acc = 0;
  UNROLL for (int i = 0; i < LIMBS; i++) acc |= a.v[i] ^ b.v[i];
  return acc == 0;
}

/* r - p if r >= p, else r (r < 2p). */
DEVICE F_T F(reduce_once)(F_T r) {
  const u32 p[LIMBS] = FIELD_P;
  F_T s;
  u32 borrow = 0;
  UNROLL for (int i = 0; i < LIMBS; i++) {
    u64 d = (u64)r.v[i] - p[i] - borrow;
    s.v[i] = (u32)d;
    borrow = (u32)(d >> 63);
  }
  /* borrow == 1: r < p, keep r. */
  u32 keep = MASK32(borrow);
  UNROLL for (int i = 0; i < LIMBS; i++) s.v[i] = (r.v[i] & keep) | (s.v[i] & ~keep);
  return s;
}

DEVICE F_T F(add)(F_T a, F_T b) {
  F_T r;
  u64 c = 0;
  UNROLL for (int i = 0; i < LIMBS; i++) {
    c += (u64)a.v[i] + b.v[i];
    r.v[i] = (u32)c;
    c >>= 32;
  }
  return F(reduce_once)(r);
}

DEVICE F_T F(dbl)(F_T a) { return F(add)(a, a); }

DEVICE F_T F(sub)(F_T a, F_T b) {
  const u32 p[LIMBS] = FIELD_P;
  F_T r;
  u32 borrow = 0;
  UNROLL for (int i = 0; i < LIMBS; i++) {
    u64 d = (u64)a.v[i] - b.v[i] - borrow;
    r.v[i] = (u32)d;
    borrow = (u32)(d >> 63);
  }
  /* a < b: add p back. */
  u32 m = MASK32(borrow);
  u64 c = 0;
  UNROLL for (int i = 0; i < LIMBS; i++) {
    c += (u64)r.v[i] + (p[i] & m);
    r.v[i] = (u32)c;
    c >>= 32;
  }
  return r;
}

DEVICE F_T F(neg)(F_T a) { return F(sub)(F(zero)(), a); }

/* Out of line (DEVICE_CALL): in portable C the product is 500 (8 limbs) to 2500 (12 limbs)
 * instructions; inlined at every use, a curve addition alone was ~100-200 KB of GPU code,
 * more than an instruction cache holds, and a BLS12 G1 MSM program 2 MB and 100 s of NVRTC
 * time. One called copy costs a few register moves per product. To re-measure on a GPU,
 * and to replace with a carry-chain (PTX) product on CUDA. */
DEVICE_CALL F_T F(mul)(F_T a, F_T b) {
  const u32 p[LIMBS] = FIELD_P;
  u32 t[LIMBS + 2];
  UNROLL for (int i = 0; i < LIMBS + 2; i++) t[i] = 0;
  UNROLL for (int i = 0; i < LIMBS; i++) {
    /* t += a * b[i] */
    u32 carry = 0;
    UNROLL for (int j = 0; j < LIMBS; j++) {
      u64 x = (u64)a.v[j] * b.v[i] + t[j] + carry;
      t[j] = (u32)x;
      carry = (u32)(x >> 32);
    }
    u64 x = (u64)t[LIMBS] + carry;
    t[LIMBS] = (u32)x;
    t[LIMBS + 1] = (u32)(x >> 32);
    /* t = (t + m p) / 2^32 with m chosen so the low word vanishes. */
    u32 m = t[0] * (u32)(FIELD_INV);
    x = (u64)m * p[0] + t[0];
    carry = (u32)(x >> 32);
    UNROLL for (int j = 1; j < LIMBS; j++) {
      x = (u64)m * p[j] + t[j] + carry;
      t[j - 1] = (u32)x;
      carry = (u32)(x >> 32);
    }
    x = (u64)t[LIMBS] + carry;
    t[LIMBS - 1] = (u32)x;
    t[LIMBS] = t[LIMBS + 1] + (u32)(x >> 32);
  }
  F_T r;
  UNROLL for (int i = 0; i < LIMBS; i++) r.v[i] = t[i];
  return F(reduce_once)(r);
}

DEVICE F_T F(sqr)(F_T a) { return F(mul)(a, a); }

/* Montgomery form to the canonical integer (a * R^-1). */
DEVICE F_T F(from_mont)(F_T a) {
  F_T one = F(zero)();
  one.v[0] = 1;
  return F(mul)(a, one);
}

#undef F_T
#undef F
