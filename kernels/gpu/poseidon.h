/* Poseidon and Poseidon2 on the device: batched permutations, sponge hashing and Merkle
 * compression, one work-item per state.
 *
 * One program per hash instance (kernels/src/hash.rs): the host instantiates the instance's
 * field as `ff` (ff_t, ff_add, ff_mul, ...) and defines
 *   PSN_T        state width t
 *   PSN_HALF     full (external) rounds before and after the partial rounds, R_F / 2
 *   PSN_RP       partial (internal) rounds R_P
 *   PSN_ALPHA    S-box exponent (3, 5 or 7)
 *   PSN_RATE     sponge rate (Poseidon2 hashing)
 *   PSN_DIGEST   elements per digest
 *   PSN_FAMILY   PSN_POSEIDON (circomlib Poseidon) or PSN_POSEIDON2
 *   PSN_M4       Poseidon2 external 4x4 block: PSN_M4_HORIZEN or PSN_M4_PLONKY3 (unused for
 *                t = 2, 3)
 * The state lives in registers (an array sized at compile time); the round constants and
 * matrices come in four read-only buffers c0..c3 (uniform across work-items, so they are
 * served by the cache), split so that each fits one allocation of a small device:
 *
 * Poseidon, in the optimised form of the Poseidon paper (Grassi et al., eprint 2019/458,
 * Appendix B; zkaccel_backend::hash::poseidon::PoseidonOptimized):
 *   c0  HALF*t first-round constants, then HALF*t last-round constants
 *   c1  the MDS matrix M (t*t, row-major), then the pre-sparse matrix (t*t)
 *   c2  per partial round: its constant, m00 and the first row's t-1 other entries (t+1)
 *   c3  per partial round: the first column's t-1 other entries
 * Poseidon2 (Grassi, Khovratovich, Schofnegger, eprint 2023/323, Section 5):
 *   c0  HALF*t initial external constants, then HALF*t terminal external constants
 *   c1  the internal diagonal delta (t): M_I = J + diag(delta)
 *   c2  R_P internal constants
 *   c3  unused
 *
 * All elements are the host's storage form (the ff_t bytes), so buffers cross unchanged.
 * Indices of batch items are 64-bit: a buffer may hold more than 2^32 elements. */

#define PSN_POSEIDON 1
#define PSN_POSEIDON2 2
#define PSN_M4_HORIZEN 1
#define PSN_M4_PLONKY3 2

#ifdef ZKA_CUDA
#define PSN_RESTRICT __restrict__
#else
#define PSN_RESTRICT restrict
#endif

#if PSN_FAMILY == PSN_POSEIDON
/* circomlib Poseidon (256-bit field, O(t^2) products per round): one out-of-line copy of the
 * product. Inlined at each of them, a wide instance was megabytes of code (t = 17: 2 MB of
 * SASS with the rounds already rolled, a minute of NVRTC time), more than an instruction
 * cache holds. */
DEVICE_CALL ff_t psn_mul(ff_t a, ff_t b) { return ff_mul(a, b); }
#else
/* Poseidon2 (mostly small fields, O(t) products per round): inlined. */
DEVICE ff_t psn_mul(ff_t a, ff_t b) { return ff_mul(a, b); }
#endif

/* x^alpha with the shortest chains: x^5 = (x^2)^2 x, x^7 = (x^2)^2 x^2 x. */
DEVICE ff_t psn_sbox(ff_t x) {
  ff_t x2 = psn_mul(x, x);
#if PSN_ALPHA == 3
  return psn_mul(x2, x);
#elif PSN_ALPHA == 5
  return psn_mul(psn_mul(x2, x2), x);
#elif PSN_ALPHA == 7
  return psn_mul(psn_mul(psn_mul(x2, x2), x2), x);
#else
#error "PSN_ALPHA must be 3, 5 or 7"
#endif
}

#if PSN_FAMILY == PSN_POSEIDON

/* s <- m s for a row-major t x t matrix m. The row loop stays rolled (one row's code; the
 * t sums go through a small array): unrolled, the t^2 inlined 256-bit products made the
 * wide instances megabytes of code and minutes of NVRTC time each. */
DEVICE void psn_mat(ff_t* s, const GLOBAL ff_t* PSN_RESTRICT m) {
  ff_t o[PSN_T];
  NO_UNROLL for (int i = 0; i < PSN_T; i++) {
    const GLOBAL ff_t* row = m + i * PSN_T;
    ff_t acc = psn_mul(row[0], s[0]);
    UNROLL for (int j = 1; j < PSN_T; j++) acc = ff_add(acc, psn_mul(row[j], s[j]));
    o[i] = acc;
  }
  UNROLL for (int i = 0; i < PSN_T; i++) s[i] = o[i];
}

/* A full round: constants, S-box on every cell, matrix (one copy, called from the three
 * places that need it). */
DEVICE_CALL void psn_full_round(ff_t* s, const GLOBAL ff_t* PSN_RESTRICT c,
                                const GLOBAL ff_t* PSN_RESTRICT m) {
  UNROLL for (int i = 0; i < PSN_T; i++) s[i] = psn_sbox(ff_add(s[i], c[i]));
  psn_mat(s, m);
}

/* The permutation (paper Appendix B): the first HALF full rounds (the last of them with the
 * pre-sparse matrix), R_P partial rounds with one constant on s[0] and a sparse matrix
 * y0 = m00 x0 + sum row[k] s[k+1], y[k+1] = s[k+1] + col[k] x0, then HALF full rounds. */
DEVICE_CALL void psn_permute(ff_t* s, const GLOBAL ff_t* PSN_RESTRICT c0,
                             const GLOBAL ff_t* PSN_RESTRICT c1,
                             const GLOBAL ff_t* PSN_RESTRICT c2,
                             const GLOBAL ff_t* PSN_RESTRICT c3) {
  NO_UNROLL for (int r = 0; r < PSN_HALF - 1; r++) psn_full_round(s, c0 + r * PSN_T, c1);
  psn_full_round(s, c0 + (PSN_HALF - 1) * PSN_T, c1 + PSN_T * PSN_T);
  NO_UNROLL for (int r = 0; r < PSN_RP; r++) {
    const GLOBAL ff_t* p = c2 + r * (PSN_T + 1);
    const GLOBAL ff_t* col = c3 + r * (PSN_T - 1);
    ff_t x0 = psn_sbox(ff_add(s[0], p[0]));
    ff_t y0 = psn_mul(p[1], x0);
    UNROLL for (int k = 1; k < PSN_T; k++) {
      y0 = ff_add(y0, psn_mul(p[k + 1], s[k]));
      s[k] = ff_add(s[k], psn_mul(col[k - 1], x0));
    }
    s[0] = y0;
  }
  NO_UNROLL for (int r = 0; r < PSN_HALF; r++) {
    psn_full_round(s, c0 + (PSN_HALF + r) * PSN_T, c1);
  }
}

#elif PSN_FAMILY == PSN_POSEIDON2

#if PSN_T != 2 && PSN_T != 3 && (PSN_T % 4) != 0
#error "Poseidon2 widths are 2, 3 or a multiple of 4"
#endif

/* The 4x4 block of the external matrix, in place on s[0..4]. */
DEVICE void psn_m4(ff_t* x) {
#if PSN_M4 == PSN_M4_HORIZEN
  /* M4 = [[5,7,1,3],[4,6,1,1],[1,3,5,7],[1,1,4,6]] with the addition chain of the
   * Poseidon2 paper, Appendix B. */
  ff_t t0 = ff_add(x[0], x[1]);
  ff_t t1 = ff_add(x[2], x[3]);
  ff_t t2 = ff_add(ff_dbl(x[1]), t1);
  ff_t t3 = ff_add(ff_dbl(x[3]), t0);
  ff_t t4 = ff_add(ff_dbl(ff_dbl(t1)), t3);
  ff_t t5 = ff_add(ff_dbl(ff_dbl(t0)), t2);
  x[0] = ff_add(t3, t5);
  x[1] = t5;
  x[2] = ff_add(t2, t4);
  x[3] = t4;
#elif PSN_M4 == PSN_M4_PLONKY3
  /* M4 = circ(2, 3, 1, 1) (Plonky3's MDSMat4). */
  ff_t t01 = ff_add(x[0], x[1]);
  ff_t t23 = ff_add(x[2], x[3]);
  ff_t t0123 = ff_add(t01, t23);
  ff_t t01123 = ff_add(t0123, x[1]);
  ff_t t01233 = ff_add(t0123, x[3]);
  ff_t y3 = ff_add(t01233, ff_dbl(x[0]));
  ff_t y1 = ff_add(t01123, ff_dbl(x[2]));
  x[0] = ff_add(t01123, t01);
  x[2] = ff_add(t01233, t23);
  x[1] = y1;
  x[3] = y3;
#else
#error "PSN_M4 must name the external 4x4 block"
#endif
}

/* s <- M_E s (paper Section 5.1): circ(2, 1) / circ(2, 1, 1) for t = 2, 3; otherwise
 * circ(2 M4, M4, ..., M4): M4 on every block of four, then every cell gets the sum of the
 * cells with the same index in all blocks. */
DEVICE void psn_external(ff_t* s) {
#if PSN_T == 2 || PSN_T == 3
  ff_t sum = s[0];
  UNROLL for (int i = 1; i < PSN_T; i++) sum = ff_add(sum, s[i]);
  UNROLL for (int i = 0; i < PSN_T; i++) s[i] = ff_add(s[i], sum);
#else
  UNROLL for (int b = 0; b < PSN_T; b += 4) psn_m4(s + b);
  UNROLL for (int k = 0; k < 4; k++) {
    ff_t sum = s[k];
    UNROLL for (int b = 4; b < PSN_T; b += 4) sum = ff_add(sum, s[b + k]);
    UNROLL for (int b = 0; b < PSN_T; b += 4) s[b + k] = ff_add(s[b + k], sum);
  }
#endif
}

/* s <- (J + diag(delta)) s: every cell becomes sum(s) + delta_i s_i (paper Section 5.2). */
DEVICE void psn_internal(ff_t* s, const GLOBAL ff_t* PSN_RESTRICT delta) {
  ff_t sum = s[0];
  UNROLL for (int i = 1; i < PSN_T; i++) sum = ff_add(sum, s[i]);
  UNROLL for (int i = 0; i < PSN_T; i++) s[i] = ff_add(sum, ff_mul(s[i], delta[i]));
}

DEVICE void psn_external_round(ff_t* s, const GLOBAL ff_t* PSN_RESTRICT c) {
  UNROLL for (int i = 0; i < PSN_T; i++) s[i] = psn_sbox(ff_add(s[i], c[i]));
  psn_external(s);
}

/* The permutation: M_E, HALF external rounds, R_P internal rounds (constant and S-box on
 * s[0] only), HALF external rounds. */
DEVICE void psn_permute(ff_t* s, const GLOBAL ff_t* PSN_RESTRICT c0,
                        const GLOBAL ff_t* PSN_RESTRICT c1, const GLOBAL ff_t* PSN_RESTRICT c2,
                        const GLOBAL ff_t* PSN_RESTRICT c3) {
  (void)c3;
  psn_external(s);
  for (int r = 0; r < PSN_HALF; r++) psn_external_round(s, c0 + r * PSN_T);
  for (int r = 0; r < PSN_RP; r++) {
    s[0] = psn_sbox(ff_add(s[0], c2[r]));
    psn_internal(s, c1);
  }
  for (int r = 0; r < PSN_HALF; r++) psn_external_round(s, c0 + (PSN_HALF + r) * PSN_T);
}

#else
#error "PSN_FAMILY must be PSN_POSEIDON or PSN_POSEIDON2"
#endif

/* Permutes n states of t elements in place. */
KERNEL void psn_permute_batch(GLOBAL ff_t* states, u32 n, const GLOBAL ff_t* c0,
                              const GLOBAL ff_t* c1, const GLOBAL ff_t* c2,
                              const GLOBAL ff_t* c3) {
  u32 i = GLOBAL_ID();
  if (i >= n) return;
  GLOBAL ff_t* p = states + (u64)i * PSN_T;
  ff_t s[PSN_T];
  UNROLL for (int j = 0; j < PSN_T; j++) s[j] = p[j];
  psn_permute(s, c0, c1, c2, c3);
  UNROLL for (int j = 0; j < PSN_T; j++) p[j] = s[j];
}

/* Flags of psn_sponge. */
#define PSN_FIRST 1u /* start from the zero state (else from st) */
#define PSN_LAST 2u  /* write the digest to out (else the state to st) */

/* Hashes n messages, seg_len elements of each (consecutive in `in`).
 *
 * circomlib Poseidon: the state is [0, message] (seg_len = t - 1, FIRST and LAST), one
 * permutation, the digest is s[0].
 * Poseidon2: Plonky3's PaddingFreeSponge (zkaccel_backend::hash::modes): rate-sized chunks
 * overwrite s[0..rate] and are permuted, a final shorter chunk overwrites only its prefix; an
 * empty message leaves the zero state. A long message can be absorbed in segments, each a
 * multiple of the rate except the last: FIRST on the first, LAST on the last, the states
 * kept in st (t elements per message) in between. */
KERNEL void psn_sponge(const GLOBAL ff_t* in, u32 seg_len, u32 n, GLOBAL ff_t* st, u32 flags,
                       GLOBAL ff_t* out, const GLOBAL ff_t* c0, const GLOBAL ff_t* c1,
                       const GLOBAL ff_t* c2, const GLOBAL ff_t* c3) {
  u32 i = GLOBAL_ID();
  if (i >= n) return;
  const GLOBAL ff_t* m = in + (u64)i * seg_len;
  ff_t s[PSN_T];
  if (flags & PSN_FIRST) {
    UNROLL for (int j = 0; j < PSN_T; j++) s[j] = ff_zero();
  } else {
    UNROLL for (int j = 0; j < PSN_T; j++) s[j] = st[(u64)i * PSN_T + j];
  }
#if PSN_FAMILY == PSN_POSEIDON
  UNROLL for (int j = 1; j < PSN_T; j++) s[j] = m[j - 1];
  psn_permute(s, c0, c1, c2, c3);
#else
  for (u32 off = 0; off < seg_len; off += PSN_RATE) {
    u32 left = seg_len - off;
    UNROLL for (int j = 0; j < PSN_RATE; j++) {
      if ((u32)j < left) s[j] = m[off + j];
    }
    psn_permute(s, c0, c1, c2, c3);
  }
#endif
  if (flags & PSN_LAST) {
    GLOBAL ff_t* o = out + (u64)i * PSN_DIGEST;
    UNROLL for (int j = 0; j < PSN_DIGEST; j++) o[j] = s[j];
  } else {
    UNROLL for (int j = 0; j < PSN_T; j++) st[(u64)i * PSN_T + j] = s[j];
  }
}

/* One Merkle layer: n nodes, each from len = arity * digest child elements.
 *
 * circomlib Poseidon: a node is Poseidon(children), the hash above (len = t - 1).
 * Poseidon2: Plonky3's TruncatedPermutation: the children fill s[0..len], the rest is zero,
 * one permutation, the node is s[0..digest]. */
KERNEL void psn_compress(const GLOBAL ff_t* in, u32 len, u32 n, GLOBAL ff_t* out,
                         const GLOBAL ff_t* c0, const GLOBAL ff_t* c1, const GLOBAL ff_t* c2,
                         const GLOBAL ff_t* c3) {
  u32 i = GLOBAL_ID();
  if (i >= n) return;
  const GLOBAL ff_t* m = in + (u64)i * len;
  ff_t s[PSN_T];
#if PSN_FAMILY == PSN_POSEIDON
  s[0] = ff_zero();
  UNROLL for (int j = 1; j < PSN_T; j++) s[j] = m[j - 1];
#else
  UNROLL for (int j = 0; j < PSN_T; j++) s[j] = (u32)j < len ? m[j] : ff_zero();
#endif
  psn_permute(s, c0, c1, c2, c3);
  GLOBAL ff_t* o = out + (u64)i * PSN_DIGEST;
  UNROLL for (int j = 0; j < PSN_DIGEST; j++) o[j] = s[j];
}
