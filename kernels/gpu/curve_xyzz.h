/* Template: a short Weierstrass curve y^2 = x^3 + b (a = 0) in XYZZ coordinates.
 *
 * Instantiated with CURVE (name prefix of the point types and functions) and COORD (prefix
 * of the coordinate field: a prime field for G1, the quadratic extension for G2). b is not
 * needed by these formulas.
 *
 * Affine points are (x, y) with (0, 0) the point at infinity, the host's `Affine` layout.
 * XYZZ points (X, Y, ZZ, ZZZ) represent x = X/ZZ, y = Y/ZZZ with ZZ^3 = ZZZ^2; ZZ = 0 is
 * infinity; the layout matches the host's `Xyzz`. Formulas: Explicit-Formulas Database,
 * "xyzz" coordinates for short Weierstrass curves with a = 0: madd-2008-s (mixed addition),
 * add-2008-s (addition), dbl-2008-s-1 and mdbl-2008-s-1 (doubling), with the equal and
 * opposite operand cases routed explicitly. */
#define A_T CAT(CURVE, _affine_t)
#define P_T CAT(CURVE, _xyzz_t)
#define G(name) CAT3(CURVE, _, name)
#define C_T CAT(COORD, _t)
#define C(name) CAT3(COORD, _, name)

typedef struct {
  C_T x;
  C_T y;
} A_T;

typedef struct {
  C_T x;
  C_T y;
  C_T zz;
  C_T zzz;
} P_T;

DEVICE P_T G(inf)(void) {
  P_T r;
  r.x = C(one)(); r.y = C(one)(); r.zz = C(zero)(); r.zzz = C(zero)();
  return r;
}

DEVICE int G(is_inf)(P_T p) { return C(is_zero)(p.zz); }

DEVICE int G(affine_is_inf)(A_T p) { return C(is_zero)(p.x) & C(is_zero)(p.y); }

DEVICE A_T G(affine_neg)(A_T p) {
  A_T r; r.x = p.x; r.y = C(neg)(p.y); return r;
}

DEVICE P_T G(from_affine)(A_T p) {
  if (G(affine_is_inf)(p)) return G(inf)();
  P_T r; r.x = p.x; r.y = p.y; r.zz = C(one)(); r.zzz = C(one)();
  return r;
}

/* dbl-2008-s-1 with a = 0. */
DEVICE_CALL P_T G(dbl)(P_T p) {
  if (G(is_inf)(p)) return p;
  C_T u = C(dbl)(p.y);
  C_T v = C(sqr)(u);
  C_T w = C(mul)(u, v);
  C_T s = C(mul)(p.x, v);
  C_T x2 = C(sqr)(p.x);
  C_T m = C(add)(C(dbl)(x2), x2);
  P_T r;
  r.x = C(sub)(C(sqr)(m), C(dbl)(s));
  r.y = C(sub)(C(mul)(m, C(sub)(s, r.x)), C(mul)(w, p.y));
  r.zz = C(mul)(v, p.zz);
  r.zzz = C(mul)(w, p.zzz);
  return r;
}

/* mdbl-2008-s-1 with a = 0: doubling of an affine point (not infinity). */
DEVICE_CALL P_T G(dbl_affine)(A_T q) {
  C_T u = C(dbl)(q.y);
  C_T v = C(sqr)(u);
  C_T w = C(mul)(u, v);
  C_T s = C(mul)(q.x, v);
  C_T x2 = C(sqr)(q.x);
  C_T m = C(add)(C(dbl)(x2), x2);
  P_T r;
  r.x = C(sub)(C(sqr)(m), C(dbl)(s));
  r.y = C(sub)(C(mul)(m, C(sub)(s, r.x)), C(mul)(w, q.y));
  r.zz = v;
  r.zzz = w;
  return r;
}

/* madd-2008-s: p + q with q affine (q may be infinity). */
DEVICE_CALL P_T G(add_affine)(P_T p, A_T q) {
  if (G(affine_is_inf)(q)) return p;
  if (G(is_inf)(p)) return G(from_affine)(q);
  C_T u2 = C(mul)(q.x, p.zz);
  C_T s2 = C(mul)(q.y, p.zzz);
  C_T pp_ = C(sub)(u2, p.x);
  C_T r_ = C(sub)(s2, p.y);
  if (C(is_zero)(pp_)) {
    if (C(is_zero)(r_)) return G(dbl_affine)(q);
    return G(inf)();
  }
  C_T pp = C(sqr)(pp_);
  C_T ppp = C(mul)(pp_, pp);
  C_T qq = C(mul)(p.x, pp);
  P_T r;
  r.x = C(sub)(C(sub)(C(sqr)(r_), ppp), C(dbl)(qq));
  r.y = C(sub)(C(mul)(r_, C(sub)(qq, r.x)), C(mul)(p.y, ppp));
  r.zz = C(mul)(p.zz, pp);
  r.zzz = C(mul)(p.zzz, ppp);
  return r;
}

/* add-2008-s: p + q. */
DEVICE_CALL P_T G(add)(P_T p, P_T q) {
  if (G(is_inf)(q)) return p;
  if (G(is_inf)(p)) return q;
  C_T u1 = C(mul)(p.x, q.zz);
  C_T u2 = C(mul)(q.x, p.zz);
  C_T s1 = C(mul)(p.y, q.zzz);
  C_T s2 = C(mul)(q.y, p.zzz);
  C_T pp_ = C(sub)(u2, u1);
  C_T r_ = C(sub)(s2, s1);
  if (C(is_zero)(pp_)) {
    if (C(is_zero)(r_)) return G(dbl)(p);
    return G(inf)();
  }
  C_T pp = C(sqr)(pp_);
  C_T ppp = C(mul)(pp_, pp);
  C_T qq = C(mul)(u1, pp);
  P_T r;
  r.x = C(sub)(C(sub)(C(sqr)(r_), ppp), C(dbl)(qq));
  r.y = C(sub)(C(mul)(r_, C(sub)(qq, r.x)), C(mul)(s1, ppp));
  r.zz = C(mul)(C(mul)(p.zz, q.zz), pp);
  r.zzz = C(mul)(C(mul)(p.zzz, q.zzz), ppp);
  return r;
}

/* k p for a small non-negative k, double-and-add from the top bit. */
DEVICE_CALL P_T G(mul_small)(P_T p, u32 k) {
  P_T r = G(inf)();
  for (int i = 31; i >= 0; i--) {
    r = G(dbl)(r);
    if ((k >> i) & 1u) r = G(add)(r, p);
  }
  return r;
}

#undef A_T
#undef P_T
#undef G
#undef C_T
#undef C
