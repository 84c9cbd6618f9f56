/*
 * example_plugin.c — a zkaccel backend plugin in plain C: BN254 G1 MSM and BN254 Fr NTT.
 *
 * This is the reference for writing a plugin (see README.md, "Plugins"). It runs on the host
 * CPU and says so (runs_on_host = 1): it is a template for a real accelerator's driver
 * glue, not a fast backend. Everything is written out in straightforward C:
 *
 *  - 4-limb Montgomery arithmetic (CIOS multiplication, R = 2^256) for the BN254 base field q
 *    and scalar field r; the Montgomery constants (-p^-1 mod 2^64, R^2 mod p) are derived at
 *    start-up from the modulus instead of being pasted in;
 *  - Jacobian point arithmetic on y^2 = x^3 + 3 (formulas dbl-2009-l, madd-2007-bl and
 *    add-2007-bl from the Explicit-Formulas Database, hyperelliptic.org/EFD, a = 0);
 *  - MSM by the bucket method (Pippenger: windows of c bits, buckets summed by a running
 *    sum), with the bases-handle hooks (bases copied once, later calls send only scalars);
 *  - an iterative radix-2 Cooley-Tukey NTT (bit-reversal permutation, then log2(n) passes
 *    of butterflies) that handles both directions, both element orders and contiguous
 *    batches; coset transforms and the interleaved layout are left to the runtime (it
 *    scales and transposes around the call, as ZKAP_NTT_* flags declare).
 *
 * Encodings are the ones zkaccel_backend.h fixes: bases and results in Montgomery form
 * (infinity: affine (0, 0), Jacobian Z = 0), scalars canonical, NTT data Montgomery.
 *
 * Build (CI does the same from the tests, with the system `cc`):
 *
 *     cc -std=c99 -O2 -fPIC -shared -I ffi/include examples/plugin/example_plugin.c \
 *        -o libzkaccel_example_plugin.so
 *
 * It needs the unsigned __int128 type of GCC and Clang (marked __extension__, so -pedantic
 * stays quiet). Test-only variants are built with -D ZKAP_EXAMPLE_VARIANT=<n> (see
 * VARIANT_* below): they break the plugin on purpose, to test the runtime's load errors and
 * result validation. Never build a variant for real use.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zkaccel_backend.h"

/* Test-only variants (0: the real plugin). */
#define VARIANT_NONE 0
#define VARIANT_ABI_TOO_NEW 1      /* table says ABI 99 */
#define VARIANT_ABI_TOO_OLD 2      /* table says ABI 0 */
#define VARIANT_TABLE_TOO_SMALL 3  /* struct_size 24 */
#define VARIANT_NULL_TABLE 4       /* the entry point returns NULL */
#define VARIANT_INIT_FAILS 5       /* create() fails with a message */
#define VARIANT_NO_ENTRY 6         /* the entry point is not exported under its name */
#define VARIANT_GARBAGE 7          /* MSM results off the curve, NTT output not reduced */
#define VARIANT_WRONG_LENGTHS 8    /* MSM results of the wrong size and group */

#ifndef ZKAP_EXAMPLE_VARIANT
#define ZKAP_EXAMPLE_VARIANT VARIANT_NONE
#endif

__extension__ typedef unsigned __int128 u128;
typedef uint64_t u64;

/* ------------------------------------------------------------------------------------------
 * Error messages: one per thread (the runtime asks right after a failure, on that thread).
 * ---------------------------------------------------------------------------------------- */

#if defined(__GNUC__)
static __thread char last_error[256];
#else
static char last_error[256]; /* not thread-safe without __thread; messages may mix */
#endif

static int32_t fail(int32_t code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return code;
}

static int32_t error_message(void *ctx, char *buf, size_t len) {
  (void)ctx;
  if (buf == NULL || len == 0) return ZKAP_ERR_INVALID_ARGUMENT;
  strncpy(buf, last_error, len - 1);
  buf[len - 1] = 0;
  return ZKAP_OK;
}

/* ------------------------------------------------------------------------------------------
 * Montgomery arithmetic modulo a 4-limb prime p < 2^255, R = 2^256.
 * ---------------------------------------------------------------------------------------- */

typedef struct field {
  u64 p[4];   /* the modulus, little-endian */
  u64 inv;    /* -p^-1 mod 2^64 */
  u64 r2[4];  /* R^2 mod p */
  u64 one[4]; /* R mod p: 1 in Montgomery form */
} field;

static int geq(const u64 a[4], const u64 b[4]) {
  int i;
  for (i = 3; i >= 0; i--) {
    if (a[i] != b[i]) return a[i] > b[i];
  }
  return 1;
}

static u64 sub_limbs(u64 r[4], const u64 a[4], const u64 b[4]) {
  u64 borrow = 0;
  int i;
  for (i = 0; i < 4; i++) {
    u128 d = (u128)a[i] - b[i] - borrow;
    r[i] = (u64)d;
    borrow = (u64)(d >> 64) & 1;
  }
  return borrow;
}

static u64 add_limbs(u64 r[4], const u64 a[4], const u64 b[4]) {
  u64 carry = 0;
  int i;
  for (i = 0; i < 4; i++) {
    u128 s = (u128)a[i] + b[i] + carry;
    r[i] = (u64)s;
    carry = (u64)(s >> 64);
  }
  return carry;
}

static void f_add(const field *f, u64 r[4], const u64 a[4], const u64 b[4]) {
  u64 carry = add_limbs(r, a, b);
  if (carry || geq(r, f->p)) sub_limbs(r, r, f->p);
}

static void f_sub(const field *f, u64 r[4], const u64 a[4], const u64 b[4]) {
  if (sub_limbs(r, a, b)) add_limbs(r, r, f->p);
}

/* r = a·b·R^-1 mod p (coarsely integrated operand scanning). r may alias a or b. */
static void f_mul(const field *f, u64 r[4], const u64 a[4], const u64 b[4]) {
  u64 t[6] = {0, 0, 0, 0, 0, 0};
  int i, j;
  for (i = 0; i < 4; i++) {
    u128 uv;
    u64 carry = 0, m;
    for (j = 0; j < 4; j++) {
      uv = (u128)t[j] + (u128)a[j] * b[i] + carry;
      t[j] = (u64)uv;
      carry = (u64)(uv >> 64);
    }
    uv = (u128)t[4] + carry;
    t[4] = (u64)uv;
    t[5] = (u64)(uv >> 64);
    m = t[0] * f->inv;
    uv = (u128)t[0] + (u128)m * f->p[0];
    carry = (u64)(uv >> 64);
    for (j = 1; j < 4; j++) {
      uv = (u128)t[j] + (u128)m * f->p[j] + carry;
      t[j - 1] = (u64)uv;
      carry = (u64)(uv >> 64);
    }
    uv = (u128)t[4] + carry;
    t[3] = (u64)uv;
    t[4] = t[5] + (u64)(uv >> 64);
  }
  if (t[4] || geq(t, f->p)) sub_limbs(t, t, f->p);
  memcpy(r, t, 4 * sizeof(u64));
}

static int f_is_zero(const u64 a[4]) { return (a[0] | a[1] | a[2] | a[3]) == 0; }

static void f_to_mont(const field *f, u64 r[4], const u64 a[4]) { f_mul(f, r, a, f->r2); }

/* r = a^e (a and r in Montgomery form, e a plain 4-limb integer). */
static void f_pow(const field *f, u64 r[4], const u64 a[4], const u64 e[4]) {
  u64 acc[4], base[4];
  int i;
  memcpy(acc, f->one, sizeof acc);
  memcpy(base, a, sizeof base);
  for (i = 255; i >= 0; i--) {
    f_mul(f, acc, acc, acc);
    if ((e[i / 64] >> (i % 64)) & 1) f_mul(f, acc, acc, base);
  }
  memcpy(r, acc, sizeof acc);
}

/* r = a^-1 = a^(p-2) (Fermat); a must be non-zero. */
static void f_inv(const field *f, u64 r[4], const u64 a[4]) {
  static const u64 two[4] = {2, 0, 0, 0};
  u64 e[4];
  sub_limbs(e, f->p, two);
  f_pow(f, r, a, e);
}

/* Derives inv, R mod p and R^2 mod p from p. */
static void field_init(field *f, const u64 p[4]) {
  u64 x[4] = {1, 0, 0, 0};
  u64 inv = 1;
  int i;
  memcpy(f->p, p, 4 * sizeof(u64));
  /* Newton's iteration doubles the correct low bits each step: 1 → 64 in six steps. */
  for (i = 0; i < 6; i++) inv *= 2 - p[0] * inv;
  f->inv = (u64)0 - inv;
  /* 2^512 mod p by 512 modular doublings of 1; 2^256 mod p on the way. */
  for (i = 0; i < 512; i++) {
    f_add(f, x, x, x);
    if (i == 255) memcpy(f->one, x, sizeof x);
  }
  memcpy(f->r2, x, sizeof x);
}

/* ------------------------------------------------------------------------------------------
 * BN254 G1: y^2 = x^3 + 3 over q, Jacobian coordinates, Montgomery form.
 * ---------------------------------------------------------------------------------------- */

typedef struct jac {
  u64 x[4], y[4], z[4];
} jac;

typedef struct aff {
  u64 x[4], y[4];
} aff;

static const u64 BN254_Q[4] = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL,
                               0xb85045b68181585dULL, 0x30644e72e131a029ULL};
static const u64 BN254_R[4] = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                               0xb85045b68181585dULL, 0x30644e72e131a029ULL};

static void jac_set_infinity(const field *q, jac *p) {
  memcpy(p->x, q->one, sizeof p->x);
  memcpy(p->y, q->one, sizeof p->y);
  memset(p->z, 0, sizeof p->z);
}

static int jac_is_infinity(const jac *p) { return f_is_zero(p->z); }

/* dbl-2009-l. */
static void jac_double(const field *q, jac *r, const jac *p) {
  u64 a[4], b[4], c[4], d[4], e[4], ff[4], t[4], y3[4], z3[4];
  if (jac_is_infinity(p)) {
    *r = *p;
    return;
  }
  f_mul(q, a, p->x, p->x);
  f_mul(q, b, p->y, p->y);
  f_mul(q, c, b, b);
  f_add(q, t, p->x, b);
  f_mul(q, t, t, t);
  f_sub(q, t, t, a);
  f_sub(q, t, t, c);
  f_add(q, d, t, t);
  f_add(q, e, a, a);
  f_add(q, e, e, a);
  f_mul(q, ff, e, e);
  f_mul(q, z3, p->y, p->z);
  f_add(q, z3, z3, z3);
  f_sub(q, r->x, ff, d);
  f_sub(q, r->x, r->x, d);
  f_sub(q, t, d, r->x);
  f_mul(q, y3, e, t);
  f_add(q, c, c, c);
  f_add(q, c, c, c);
  f_add(q, c, c, c);
  f_sub(q, r->y, y3, c);
  memcpy(r->z, z3, sizeof z3);
}

/* madd-2007-bl: r = p + (x2, y2); the affine point is not infinity. r may alias p. */
static void jac_add_affine(const field *q, jac *r, const jac *p, const aff *a) {
  u64 z1z1[4], u2[4], s2[4], h[4], hh[4], i4[4], j[4], rr[4], v[4], t[4];
  u64 x3[4], y3[4], z3[4];
  if (jac_is_infinity(p)) {
    memcpy(r->x, a->x, sizeof r->x);
    memcpy(r->y, a->y, sizeof r->y);
    memcpy(r->z, q->one, sizeof r->z);
    return;
  }
  f_mul(q, z1z1, p->z, p->z);
  f_mul(q, u2, a->x, z1z1);
  f_mul(q, s2, a->y, p->z);
  f_mul(q, s2, s2, z1z1);
  f_sub(q, h, u2, p->x);
  f_sub(q, rr, s2, p->y);
  if (f_is_zero(h)) {
    if (f_is_zero(rr)) {
      jac_double(q, r, p);
    } else {
      jac_set_infinity(q, r);
    }
    return;
  }
  f_add(q, rr, rr, rr);           /* r = 2(S2 - Y1) */
  f_mul(q, hh, h, h);             /* HH = H^2 */
  f_add(q, i4, hh, hh);
  f_add(q, i4, i4, i4);           /* I = 4HH */
  f_mul(q, j, h, i4);             /* J = H·I */
  f_mul(q, v, p->x, i4);          /* V = X1·I */
  f_mul(q, x3, rr, rr);
  f_sub(q, x3, x3, j);
  f_sub(q, x3, x3, v);
  f_sub(q, x3, x3, v);            /* X3 = r^2 - J - 2V */
  f_sub(q, t, v, x3);
  f_mul(q, y3, rr, t);
  f_mul(q, t, p->y, j);
  f_sub(q, y3, y3, t);
  f_sub(q, y3, y3, t);            /* Y3 = r(V - X3) - 2·Y1·J */
  f_add(q, t, p->z, h);
  f_mul(q, t, t, t);
  f_sub(q, t, t, z1z1);
  f_sub(q, z3, t, hh);            /* Z3 = (Z1 + H)^2 - Z1Z1 - HH */
  memcpy(r->x, x3, sizeof x3);
  memcpy(r->y, y3, sizeof y3);
  memcpy(r->z, z3, sizeof z3);
}

/* add-2007-bl: r = p + o. */
static void jac_add(const field *q, jac *r, const jac *p, const jac *o) {
  u64 z1z1[4], z2z2[4], u1[4], u2[4], s1[4], s2[4], h[4], i4[4], j[4], rr[4], v[4], t[4];
  u64 x3[4], y3[4], z3[4];
  if (jac_is_infinity(p)) {
    *r = *o;
    return;
  }
  if (jac_is_infinity(o)) {
    *r = *p;
    return;
  }
  f_mul(q, z1z1, p->z, p->z);
  f_mul(q, z2z2, o->z, o->z);
  f_mul(q, u1, p->x, z2z2);
  f_mul(q, u2, o->x, z1z1);
  f_mul(q, s1, p->y, o->z);
  f_mul(q, s1, s1, z2z2);
  f_mul(q, s2, o->y, p->z);
  f_mul(q, s2, s2, z1z1);
  f_sub(q, h, u2, u1);
  f_sub(q, rr, s2, s1);
  if (f_is_zero(h)) {
    if (f_is_zero(rr)) {
      jac_double(q, r, p);
    } else {
      jac_set_infinity(q, r);
    }
    return;
  }
  f_add(q, rr, rr, rr);
  f_add(q, i4, h, h);
  f_mul(q, i4, i4, i4);
  f_mul(q, j, h, i4);
  f_mul(q, v, u1, i4);
  f_mul(q, x3, rr, rr);
  f_sub(q, x3, x3, j);
  f_sub(q, x3, x3, v);
  f_sub(q, x3, x3, v);
  f_sub(q, t, v, x3);
  f_mul(q, y3, rr, t);
  f_mul(q, t, s1, j);
  f_sub(q, y3, y3, t);
  f_sub(q, y3, y3, t);
  f_add(q, t, p->z, o->z);
  f_mul(q, t, t, t);
  f_sub(q, t, t, z1z1);
  f_sub(q, t, t, z2z2);
  f_mul(q, z3, t, h);
  memcpy(r->x, x3, sizeof x3);
  memcpy(r->y, y3, sizeof y3);
  memcpy(r->z, z3, sizeof z3);
}

/* ------------------------------------------------------------------------------------------
 * MSM: the bucket method.
 * ---------------------------------------------------------------------------------------- */

/* Bits [bit, bit + c) of a 256-bit scalar. */
static unsigned window_digit(const u64 s[4], unsigned bit, unsigned c) {
  unsigned limb = bit / 64, off = bit % 64;
  u64 v;
  if (limb >= 4) return 0;
  v = s[limb] >> off;
  if (off + c > 64 && limb + 1 < 4) v |= s[limb + 1] << (64 - off);
  return (unsigned)(v & ((1ULL << c) - 1));
}

/* Σ scalars[i]·points[i] with windows of c bits: per window, each point goes into the
 * bucket of its digit; Σ_k k·bucket[k] comes from a running sum from the top bucket down;
 * windows are combined from the most significant, c doublings apart. */
static int32_t msm_bn254(const field *q, const aff *points, const u64 *scalars, u64 count,
                         jac *out) {
  unsigned lg = 0, c, windows, w, k;
  u64 i;
  jac *buckets;
  jac total;
  while (lg < 63 && (1ULL << (lg + 1)) <= count) lg++;
  c = lg < 4 ? 2 : lg - 2;
  if (c > 16) c = 16;
  windows = (254 + c - 1) / c;
  buckets = (jac *)malloc(((size_t)1 << c) * sizeof(jac));
  if (buckets == NULL) return fail(ZKAP_ERR_OUT_OF_MEMORY, "no memory for %u buckets", 1u << c);
  jac_set_infinity(q, &total);
  for (w = windows; w-- > 0;) {
    jac running, acc;
    for (k = 0; k < c; k++) jac_double(q, &total, &total);
    for (k = 0; k < (1u << c); k++) jac_set_infinity(q, &buckets[k]);
    for (i = 0; i < count; i++) {
      unsigned d = window_digit(&scalars[4 * i], w * c, c);
      const aff *pt = &points[i];
      if (d == 0 || (f_is_zero(pt->x) && f_is_zero(pt->y))) continue;
      jac_add_affine(q, &buckets[d], &buckets[d], pt);
    }
    jac_set_infinity(q, &running);
    jac_set_infinity(q, &acc);
    for (k = (1u << c) - 1; k >= 1; k--) {
      jac_add(q, &running, &running, &buckets[k]);
      jac_add(q, &acc, &acc, &running);
    }
    jac_add(q, &total, &total, &acc);
  }
  free(buckets);
  *out = total;
  return ZKAP_OK;
}

/* ------------------------------------------------------------------------------------------
 * The plugin's state and table functions.
 * ---------------------------------------------------------------------------------------- */

typedef struct ctx {
  field q; /* BN254 base field */
  field r; /* BN254 scalar field */
} ctx;

static int32_t create(const zkap_host *host, void **out) {
  ctx *c;
  if (host == NULL || out == NULL) return fail(ZKAP_ERR_INVALID_ARGUMENT, "NULL argument");
#if ZKAP_EXAMPLE_VARIANT == VARIANT_INIT_FAILS
  return fail(ZKAP_ERR_DEVICE_LOST, "example plugin: the card did not answer (test variant)");
#endif
  c = (ctx *)malloc(sizeof *c);
  if (c == NULL) return fail(ZKAP_ERR_OUT_OF_MEMORY, "no memory for the plugin state");
  field_init(&c->q, BN254_Q);
  field_init(&c->r, BN254_R);
  *out = c;
  return ZKAP_OK;
}

static void destroy(void *c) { free(c); }

static uint32_t device_count(void *c) {
  (void)c;
  return 1;
}

static int32_t device_info(void *c, uint32_t device, zkap_device_info *info) {
  (void)c;
  if (device != 0) return fail(ZKAP_ERR_INVALID_ARGUMENT, "no device %u", device);
  if (info == NULL || info->struct_size < sizeof *info)
    return fail(ZKAP_ERR_INVALID_ARGUMENT, "device info struct too small");
  info->compute_units = 1;
  info->clock_mhz = 0;
  info->simulated = 0;
  info->runs_on_host = 1;
  info->memory_bytes = 0;
  snprintf(info->name, sizeof info->name, "example C plugin (BN254, host CPU)");
  snprintf(info->vendor, sizeof info->vendor, "zkaccel examples");
  snprintf(info->driver, sizeof info->driver, "example_plugin.c");
  return ZKAP_OK;
}

static int32_t capabilities(void *c, uint32_t device, zkap_capabilities *caps) {
  (void)c;
  if (device != 0) return fail(ZKAP_ERR_INVALID_ARGUMENT, "no device %u", device);
  if (caps == NULL || caps->struct_size < sizeof *caps)
    return fail(ZKAP_ERR_INVALID_ARGUMENT, "capabilities struct too small");
  caps->msm_count = 1;
  caps->msm[0].curve = ZKA_CURVE_BN254;
  caps->msm[0].group = ZKA_G1;
  caps->msm[0].max_len = (u64)1 << 24;
  caps->ntt_count = 1;
  caps->ntt[0].field = ZKA_FIELD_BN254_FR;
  caps->ntt[0].max_log_n = 24;
  caps->ntt[0].flags = ZKAP_NTT_ORDERS | ZKAP_NTT_BATCH;
  caps->hash_count = 0;
  return ZKAP_OK;
}

static int32_t check_msm_args(const zkap_msm_args *a, int need_points, int need_scalars) {
  if (a == NULL || a->struct_size < sizeof *a) return fail(ZKAP_ERR_INVALID_ARGUMENT, "bad args");
  if (a->curve != ZKA_CURVE_BN254 || a->group != ZKA_G1 || a->coord_limbs != 4)
    return fail(ZKAP_ERR_UNSUPPORTED, "only BN254 G1 (curve %u group %u asked)", a->curve,
                a->group);
  if ((need_points && a->points == NULL) || (need_scalars && a->scalars == NULL))
    return fail(ZKAP_ERR_INVALID_ARGUMENT, "NULL points or scalars");
  return ZKAP_OK;
}

static void write_result(const ctx *c, const jac *p, zkap_msm_result *out) {
  out->curve = ZKA_CURVE_BN254;
  out->group = ZKA_G1;
  out->limbs_written = 12;
  memcpy(&out->limbs[0], p->x, 32);
  memcpy(&out->limbs[4], p->y, 32);
  memcpy(&out->limbs[8], p->z, 32);
#if ZKAP_EXAMPLE_VARIANT == VARIANT_GARBAGE
  /* (1, 1, 1) is reduced but not on the curve: 1 != 1 + 3. */
  memcpy(&out->limbs[0], c->q.one, 32);
  memcpy(&out->limbs[4], c->q.one, 32);
  memcpy(&out->limbs[8], c->q.one, 32);
#elif ZKAP_EXAMPLE_VARIANT == VARIANT_WRONG_LENGTHS
  out->limbs_written = 8;
  out->group = ZKA_G2;
  (void)c;
#else
  (void)c;
#endif
}

static int32_t msm(void *vc, uint32_t device, const zkap_msm_args *a, zkap_msm_result *out) {
  const ctx *c = (const ctx *)vc;
  jac r;
  int32_t st;
  if (device != 0) return fail(ZKAP_ERR_INVALID_ARGUMENT, "no device %u", device);
  if ((st = check_msm_args(a, 1, 1)) != ZKAP_OK) return st;
  if (out == NULL) return fail(ZKAP_ERR_INVALID_ARGUMENT, "NULL result");
  st = msm_bn254(&c->q, (const aff *)a->points, a->scalars, a->count, &r);
  if (st != ZKAP_OK) return st;
  write_result(c, &r, out);
  return ZKAP_OK;
}

/* A bases handle: the points, copied. A device plugin would upload them here. */
typedef struct bases {
  u64 count;
  aff *points;
} bases;

static int32_t bases_create(void *vc, uint32_t device, const zkap_msm_args *a, void **out) {
  bases *b;
  int32_t st;
  (void)vc;
  if (device != 0) return fail(ZKAP_ERR_INVALID_ARGUMENT, "no device %u", device);
  if ((st = check_msm_args(a, 1, 0)) != ZKAP_OK) return st;
  if (out == NULL) return fail(ZKAP_ERR_INVALID_ARGUMENT, "NULL handle");
  b = (bases *)malloc(sizeof *b);
  if (b == NULL) return fail(ZKAP_ERR_OUT_OF_MEMORY, "no memory for a bases handle");
  b->count = a->count;
  b->points = (aff *)malloc((size_t)a->count * sizeof(aff) + 1);
  if (b->points == NULL) {
    free(b);
    return fail(ZKAP_ERR_OUT_OF_MEMORY, "no memory for %llu bases", (unsigned long long)a->count);
  }
  memcpy(b->points, a->points, (size_t)a->count * sizeof(aff));
  *out = b;
  return ZKAP_OK;
}

static int32_t bases_msm(void *vc, void *vb, const zkap_msm_args *a, zkap_msm_result *out) {
  const ctx *c = (const ctx *)vc;
  const bases *b = (const bases *)vb;
  jac r;
  int32_t st;
  if (b == NULL || out == NULL) return fail(ZKAP_ERR_INVALID_ARGUMENT, "NULL handle or result");
  if ((st = check_msm_args(a, 0, 1)) != ZKAP_OK) return st;
  if (a->count > b->count)
    return fail(ZKAP_ERR_INVALID_ARGUMENT, "%llu scalars for %llu bases",
                (unsigned long long)a->count, (unsigned long long)b->count);
  st = msm_bn254(&c->q, b->points, a->scalars, a->count, &r);
  if (st != ZKAP_OK) return st;
  write_result(c, &r, out);
  return ZKAP_OK;
}

static void bases_destroy(void *vc, void *vb) {
  bases *b = (bases *)vb;
  (void)vc;
  if (b != NULL) {
    free(b->points);
    free(b);
  }
}

/* ------------------------------------------------------------------------------------------
 * NTT over BN254 Fr.
 * ---------------------------------------------------------------------------------------- */

typedef struct domain {
  unsigned log_n;
  u64 n;
  u64 (*tw)[4];     /* ω^k, k < n/2, Montgomery */
  u64 (*tw_inv)[4]; /* ω^-k */
  u64 n_inv[4];     /* 1/n, Montgomery */
} domain;

static int32_t ntt_domain_create(void *vc, uint32_t device, const zkap_ntt_domain_args *a,
                                 void **out) {
  const ctx *c = (const ctx *)vc;
  const field *f = &c->r;
  domain *d;
  u64 w[4], wi[4], nn[4] = {0, 0, 0, 0}, half, k;
  if (device != 0) return fail(ZKAP_ERR_INVALID_ARGUMENT, "no device %u", device);
  if (a == NULL || a->struct_size < sizeof *a || out == NULL)
    return fail(ZKAP_ERR_INVALID_ARGUMENT, "bad domain args");
  if (a->field != ZKA_FIELD_BN254_FR) return fail(ZKAP_ERR_UNSUPPORTED, "only BN254 Fr");
  if (a->log_n > 24) return fail(ZKAP_ERR_UNSUPPORTED, "2^%u is above 2^24", a->log_n);
  if (geq(a->root, f->p)) return fail(ZKAP_ERR_INVALID_ARGUMENT, "root not reduced");
  d = (domain *)calloc(1, sizeof *d);
  if (d == NULL) return fail(ZKAP_ERR_OUT_OF_MEMORY, "no memory for a domain");
  d->log_n = a->log_n;
  d->n = (u64)1 << a->log_n;
  half = d->n / 2 ? d->n / 2 : 1;
  d->tw = (u64(*)[4])malloc((size_t)half * sizeof *d->tw);
  d->tw_inv = (u64(*)[4])malloc((size_t)half * sizeof *d->tw_inv);
  if (d->tw == NULL || d->tw_inv == NULL) {
    free(d->tw);
    free(d->tw_inv);
    free(d);
    return fail(ZKAP_ERR_OUT_OF_MEMORY, "no memory for twiddles");
  }
  f_to_mont(f, w, a->root);
  f_inv(f, wi, w);
  memcpy(d->tw[0], f->one, 32);
  memcpy(d->tw_inv[0], f->one, 32);
  for (k = 1; k < half; k++) {
    f_mul(f, d->tw[k], d->tw[k - 1], w);
    f_mul(f, d->tw_inv[k], d->tw_inv[k - 1], wi);
  }
  nn[0] = d->n;
  f_to_mont(f, nn, nn);
  f_inv(f, d->n_inv, nn);
  *out = d;
  return ZKAP_OK;
}

static void ntt_domain_destroy(void *vc, void *vd) {
  domain *d = (domain *)vd;
  (void)vc;
  if (d != NULL) {
    free(d->tw);
    free(d->tw_inv);
    free(d);
  }
}

static u64 bitrev(u64 i, unsigned log_n) {
  u64 r = 0;
  unsigned b;
  for (b = 0; b < log_n; b++) r |= ((i >> b) & 1) << (log_n - 1 - b);
  return r;
}

static void bit_reverse_permute(u64 (*a)[4], const domain *d) {
  u64 i, j, t[4];
  for (i = 0; i < d->n; i++) {
    j = bitrev(i, d->log_n);
    if (i < j) {
      memcpy(t, a[i], 32);
      memcpy(a[i], a[j], 32);
      memcpy(a[j], t, 32);
    }
  }
}

/* One column: bit-reversed input → natural output by radix-2 decimation in time. */
static void ntt_column(const field *f, const domain *d, u64 (*a)[4], int inverse,
                       int input_bitrev, int output_bitrev) {
  u64 len, i, j, u[4], v[4];
  u64(*tw)[4] = inverse ? d->tw_inv : d->tw;
  if (!input_bitrev) bit_reverse_permute(a, d);
  for (len = 2; len <= d->n; len <<= 1) {
    u64 half = len / 2, step = d->n / len;
    for (i = 0; i < d->n; i += len) {
      for (j = 0; j < half; j++) {
        memcpy(u, a[i + j], 32);
        f_mul(f, v, a[i + j + half], tw[j * step]);
        f_add(f, a[i + j], u, v);
        f_sub(f, a[i + j + half], u, v);
      }
    }
  }
  if (inverse) {
    for (i = 0; i < d->n; i++) f_mul(f, a[i], a[i], d->n_inv);
  }
  if (output_bitrev) bit_reverse_permute(a, d);
}

static int32_t ntt(void *vc, void *vd, const zkap_ntt_args *a) {
  const ctx *c = (const ctx *)vc;
  const domain *d = (const domain *)vd;
  u64 col;
  if (d == NULL || a == NULL || a->struct_size < sizeof *a || a->data == NULL)
    return fail(ZKAP_ERR_INVALID_ARGUMENT, "bad NTT args");
  if (a->has_coset) return fail(ZKAP_ERR_UNSUPPORTED, "cosets are not declared");
  if (a->layout != ZKA_LAYOUT_CONTIGUOUS && a->batch > 1)
    return fail(ZKAP_ERR_UNSUPPORTED, "the interleaved layout is not declared");
  if (a->batch == 0 || a->data_bytes != a->batch * d->n * 32)
    return fail(ZKAP_ERR_INVALID_ARGUMENT, "%llu bytes for %llu columns of 2^%u",
                (unsigned long long)a->data_bytes, (unsigned long long)a->batch, d->log_n);
  for (col = 0; col < a->batch; col++) {
    u64(*x)[4] = (u64(*)[4])a->data + col * d->n;
    ntt_column(&c->r, d, x, a->direction == ZKA_NTT_INVERSE,
               a->input_order == ZKA_ORDER_BIT_REVERSED,
               a->output_order == ZKA_ORDER_BIT_REVERSED);
#if ZKAP_EXAMPLE_VARIANT == VARIANT_GARBAGE
    memset(x[0], 0xff, 32); /* not below the modulus */
#endif
  }
  return ZKAP_OK;
}

/* ------------------------------------------------------------------------------------------
 * The table and the entry point.
 * ---------------------------------------------------------------------------------------- */

static const zkap_plugin TABLE = {
#if ZKAP_EXAMPLE_VARIANT == VARIANT_TABLE_TOO_SMALL
    24,
#else
    (uint32_t)sizeof(zkap_plugin),
#endif
#if ZKAP_EXAMPLE_VARIANT == VARIANT_ABI_TOO_NEW
    99,
#elif ZKAP_EXAMPLE_VARIANT == VARIANT_ABI_TOO_OLD
    0,
#else
    ZKAP_ABI_VERSION,
#endif
    0, /* flags: thread-safe, no lock needed */
    0,
    "zkaccel-example",
    "1.0.0",
    create,
    destroy,
    error_message,
    device_count,
    device_info,
    capabilities,
    msm,
    bases_create,
    bases_msm,
    bases_destroy,
    ntt_domain_create,
    ntt,
    ntt_domain_destroy,
    NULL, /* no hashing: the runtime routes Poseidon elsewhere */
};

#if ZKAP_EXAMPLE_VARIANT == VARIANT_NO_ENTRY
#define ENTRY_NAME zkaccel_plugin_entry_misspelled
const zkap_plugin *ENTRY_NAME(const zkap_host *host);
#else
#define ENTRY_NAME zkaccel_plugin_entry
#endif

const zkap_plugin *ENTRY_NAME(const zkap_host *host) {
  if (host == NULL || host->abi_version < 1) return NULL;
#if ZKAP_EXAMPLE_VARIANT == VARIANT_NULL_TABLE
  (void)&TABLE;
  return NULL;
#else
  return &TABLE;
#endif
}
