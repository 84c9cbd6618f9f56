/* Template: the Goldilocks field p = 2^64 - 2^32 + 1, canonical u64 (the host's storage).
 *
 * Instantiated with FIELD (name prefix). Reduction of a 128-bit product uses
 * 2^64 = 2^32 - 1 (mod p) and 2^96 = -1 (mod p) (the standard Goldilocks reduction, e.g.
 * Plonky2's `reduce128`); results are kept canonical (< p) after every operation. */
#define F_T CAT(FIELD, _t)
#define F(name) CAT3(FIELD, _, name)

typedef struct {
  u64 v;
} F_T;

#define GL_P 0xFFFFFFFF00000001UL
#define GL_EPS 0xFFFFFFFFUL

DEVICE F_T F(zero)(void) { F_T r; r.v = 0; return r; }
DEVICE F_T F(one)(void) { F_T r; r.v = 1; return r; }
DEVICE int F(is_zero)(F_T a) { return a.v == 0; }
DEVICE int F(eq)(F_T a, F_T b) { return a.v == b.v; }

DEVICE F_T F(add)(F_T a, F_T b) {
  u64 s = a.v + b.v;
  if (s < a.v) {
    /* carried: s + 2^64 = s + EPS (mod p), and s + EPS < p here. */
    s += GL_EPS;
  } else if (s >= GL_P) {
    s -= GL_P;
  }
  F_T r; r.v = s; return r;
}

DEVICE F_T F(dbl)(F_T a) { return F(add)(a, a); }

DEVICE F_T F(sub)(F_T a, F_T b) {
  u64 d = a.v - b.v;
  /* borrowed: d - 2^64 + p = d - EPS. */
  if (a.v < b.v) d -= GL_EPS;
  F_T r; r.v = d; return r;
}

DEVICE F_T F(neg)(F_T a) { return F(sub)(F(zero)(), a); }

DEVICE F_T F(mul)(F_T a, F_T b) {
  u64 lo = a.v * b.v;
  u64 hi = MUL_HI64(a.v, b.v);
  u64 hi_hi = hi >> 32;
  u64 hi_lo = hi & GL_EPS;
  /* lo - hi_hi (2^96 = -1) */
  u64 t0 = lo - hi_hi;
  if (lo < hi_hi) t0 -= GL_EPS;
  /* + hi_lo * (2^32 - 1) (2^64 = 2^32 - 1) */
  u64 t1 = (hi_lo << 32) - hi_lo;
  u64 s = t0 + t1;
  if (s < t0) s += GL_EPS;
  if (s >= GL_P) s -= GL_P;
  F_T r; r.v = s; return r;
}

DEVICE F_T F(sqr)(F_T a) { return F(mul)(a, a); }

#undef F_T
#undef F
