/* Template: the quadratic extension BASE[u]/(u^2 + 1) (BN254's and BLS12-381's F_p^2).
 *
 * Instantiated with EXT (name prefix of the extension) and BASE (prefix of an instantiated
 * base field). Layout (c0, c1) matches the host's `Fp2`. Multiplication is Karatsuba:
 * three base multiplications. */
#define E_T CAT(EXT, _t)
#define E(name) CAT3(EXT, _, name)
#define B_T CAT(BASE, _t)
#define B(name) CAT3(BASE, _, name)

typedef struct {
  B_T c0;
  B_T c1;
} E_T;

DEVICE E_T E(zero)(void) { E_T r; r.c0 = B(zero)(); r.c1 = B(zero)(); return r; }
DEVICE E_T E(one)(void) { E_T r; r.c0 = B(one)(); r.c1 = B(zero)(); return r; }
DEVICE int E(is_zero)(E_T a) { return B(is_zero)(a.c0) & B(is_zero)(a.c1); }
DEVICE int E(eq)(E_T a, E_T b) { return B(eq)(a.c0, b.c0) & B(eq)(a.c1, b.c1); }

DEVICE E_T E(add)(E_T a, E_T b) {
  E_T r; r.c0 = B(add)(a.c0, b.c0); r.c1 = B(add)(a.c1, b.c1); return r;
}
DEVICE E_T E(dbl)(E_T a) { return E(add)(a, a); }
DEVICE E_T E(sub)(E_T a, E_T b) {
  E_T r; r.c0 = B(sub)(a.c0, b.c0); r.c1 = B(sub)(a.c1, b.c1); return r;
}
DEVICE E_T E(neg)(E_T a) {
  E_T r; r.c0 = B(neg)(a.c0); r.c1 = B(neg)(a.c1); return r;
}

DEVICE_CALL E_T E(mul)(E_T a, E_T b) {
  B_T v0 = B(mul)(a.c0, b.c0);
  B_T v1 = B(mul)(a.c1, b.c1);
  B_T s = B(mul)(B(add)(a.c0, a.c1), B(add)(b.c0, b.c1));
  E_T r;
  r.c0 = B(sub)(v0, v1);
  r.c1 = B(sub)(B(sub)(s, v0), v1);
  return r;
}

/* (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u: two base multiplications. */
DEVICE_CALL E_T E(sqr)(E_T a) {
  B_T m = B(mul)(a.c0, a.c1);
  E_T r;
  r.c0 = B(mul)(B(add)(a.c0, a.c1), B(sub)(a.c0, a.c1));
  r.c1 = B(dbl)(m);
  return r;
}

#undef E_T
#undef E
#undef B_T
#undef B
