/* Template: a 31-bit prime field in Montgomery form with R = 2^32, stored as u32 (Plonky3's
 * storage for BabyBear, so host bytes cross unchanged).
 *
 * Instantiated with:
 *   FIELD      name prefix
 *   FIELD_P    the modulus (< 2^31)
 *   FIELD_MU   p^-1 mod 2^32
 *   FIELD_R    2^32 mod p (the Montgomery form of one)
 * Montgomery reduction of x < p 2^32: t = x mu mod 2^32, u = t p, then (x - u) / 2^32 lies in
 * (-p, p); the low words of x and u agree, so only the high words are subtracted (Plonky3's
 * `monty_reduce` arrangement). */
#define F_T CAT(FIELD, _t)
#define F(name) CAT3(FIELD, _, name)

typedef struct {
  u32 v;
} F_T;

DEVICE F_T F(zero)(void) { F_T r; r.v = 0; return r; }
DEVICE F_T F(one)(void) { F_T r; r.v = (u32)(FIELD_R); return r; }
DEVICE int F(is_zero)(F_T a) { return a.v == 0; }
DEVICE int F(eq)(F_T a, F_T b) { return a.v == b.v; }

DEVICE F_T F(add)(F_T a, F_T b) {
  u32 s = a.v + b.v;
  if (s >= (u32)(FIELD_P)) s -= (u32)(FIELD_P);
  F_T r; r.v = s; return r;
}

DEVICE F_T F(dbl)(F_T a) { return F(add)(a, a); }

DEVICE F_T F(sub)(F_T a, F_T b) {
  u32 d = a.v - b.v;
  if (a.v < b.v) d += (u32)(FIELD_P);
  F_T r; r.v = d; return r;
}

DEVICE F_T F(neg)(F_T a) { return F(sub)(F(zero)(), a); }

DEVICE u32 F(monty_reduce)(u64 x) {
  u32 t = (u32)x * (u32)(FIELD_MU);
  u64 u = (u64)t * (u32)(FIELD_P);
  u32 r = (u32)(x >> 32) - (u32)(u >> 32);
  if ((u32)(x >> 32) < (u32)(u >> 32)) r += (u32)(FIELD_P);
  return r;
}

DEVICE F_T F(mul)(F_T a, F_T b) {
  F_T r;
  r.v = F(monty_reduce)((u64)a.v * b.v);
  return r;
}

DEVICE F_T F(sqr)(F_T a) { return F(mul)(a, a); }

/* Montgomery form to the canonical integer. */
DEVICE u32 F(to_canonical)(F_T a) { return F(monty_reduce)((u64)a.v); }

#undef F_T
#undef F
