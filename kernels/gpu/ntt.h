/* NTT kernels over the field instance `ff` (ff_t, ff_add, ff_sub, ff_mul, ...).
 *
 * Assembled by kernels/src/ntt.rs, which defines before this file:
 *   NTT_TILE_BITS    log2 of the local-memory tile, in elements (the host may use smaller
 *                    tiles at run time; this sizes the arrays)
 *   NTT_LW           the type of one local-memory word (u32, or u64 for Goldilocks)
 *   NTT_WORDS        words per element
 *   NTT_GETW(a, k)   word k of element a;  NTT_SETW(a, k, w): sets it
 *
 * The transform (the host side, backends/opencl/src/ntt.rs, says which runs when):
 * one table per direction of n/2 twiddles in bit-reversed order, T[k] = rho^bitrev(k, L-1)
 * (rho = omega forward, omega^-1 inverse, L = log2 n). Level l (0 <= l < L) of the network
 * splits the column into 2^l blocks of n >> l elements; block k pairs element j of its lower
 * half with element j of its upper half and uses the single twiddle T[k].
 *   - CT, natural in, bit-reversed out: levels 0, 1, ..., L-1 with Cooley-Tukey butterflies
 *     (lo, hi) <- (lo + w hi, lo - w hi): the FFT as a remainder tree (D. J. Bernstein, "Fast
 *     multiplication and its applications", 2008, section 2; E. Chu and A. George, "Inside
 *     the FFT Black Box", 2000, the natural-to-bit-reversed DIT with bit-reversed twiddles).
 *   - GS, bit-reversed in, natural out: levels L-1, ..., 0 with Gentleman-Sande butterflies
 *     (lo, hi) <- (lo + hi, (lo - hi) w) (W. M. Gentleman and G. Sande, "Fast Fourier
 *     transforms - for fun and profit", 1966).
 *
 * ntt_pass runs s consecutive levels l0 .. l0+s-1 in one launch, radix-2^s: with
 * q = n >> (l0 + s), the elements b (n >> l0) + t q + j (t < 2^s) of one block b of level l0
 * and one offset j < q interact only with each other during these levels, so a work-group
 * loads such a tile into local memory, runs the s levels there with a barrier between
 * levels, and writes it back: one global read and write per element per pass instead of per
 * level. A tile holds 2^s such sets side by side, J = 2^log_j of them, for coalescing:
 * J consecutive offsets j (their elements are adjacent in a column) or, for interleaved
 * batches, J consecutive columns (adjacent in a row). This is the local-memory radix-2^k
 * arrangement of GPU NTTs such as Bellman/ec-gpu's `radix_fft` and sppark's NTT kernels;
 * the last levels (q = 1) form contiguous tiles. Local memory holds each word of the
 * elements in its own plane (structure of arrays), so that consecutive work-items touch
 * consecutive words (no bank conflicts from the element size).
 *
 * The coset powers g^j and the inverse's 1/n are applied in the first pass's loads (forward)
 * or the last pass's stores (inverse), j being the element's logical (natural) index, from
 * two small tables: g^j = glo[j mod 2^g_bits] * ghi[j >> g_bits], 1/n folded into ghi.
 *
 * The bit-reversal permutation (ntt_bitrev_tiles) swaps 2^a x 2^a tiles through local memory
 * (for index i = (hi, mid, lo) with a, L - 2a, a bits, bitrev(i) = (rev lo, rev mid, rev hi),
 * so the tiles mid and rev(mid) are exchanged with their rows and columns transposed), so
 * that both reads and writes run along rows: the blocked scheme of L. Carter and K. S.
 * Gatlin, "Towards an optimal bit-reversal permutation program", FOCS 1998.
 * ntt_bitrev_rows swaps whole rows of an interleaved batch (adjacent columns are adjacent in
 * memory), and handles the tiny sizes.
 *
 * Addressing: element i of column c is x[c cs + i es] (contiguous: es = 1, cs = n;
 * interleaved: es = batch, cs = 1), computed in 64 bits. Indices within a column are u32
 * (n <= 2^31). Every kernel checks its bounds; early returns are uniform per work-group. */
#ifndef ZKA_NTT_H
#define ZKA_NTT_H

#define NTT_TILE (1u << NTT_TILE_BITS)

/* ntt_pass flags. */
#define NTT_F_GS 1u          /* Gentleman-Sande levels, downwards (else Cooley-Tukey, upwards) */
#define NTT_F_SCALE_LOAD 2u  /* multiply by the scale factor after loading */
#define NTT_F_SCALE_STORE 4u /* multiply by the scale factor before storing */
#define NTT_F_SCALE_BREV 8u  /* the logical index of position i is bitrev(i, L) */
#define NTT_F_COSET 16u      /* factor glo[..] * ghi[..] (else the constant ghi[0]) */

/* The element's size must be NTT_WORDS words of NTT_LW. */
typedef char ntt_words_check[(sizeof(ff_t) == NTT_WORDS * sizeof(NTT_LW)) ? 1 : -1];

/* Local-memory element access; `lm` is the kernel's local array of NTT_WORDS planes of
 * NTT_TILE words (local pointers are not passed to functions: CUDA has no such qualifier on
 * parameters). */
#define NTT_LPUT(idx, a)                                                              \
  {                                                                                   \
    UNROLL for (u32 k_ = 0; k_ < NTT_WORDS; k_++) lm[k_ * NTT_TILE + (idx)] = NTT_GETW(a, k_); \
  }
#define NTT_LGET(a, idx)                                                              \
  {                                                                                   \
    UNROLL for (u32 k_ = 0; k_ < NTT_WORDS; k_++) NTT_SETW(a, k_, lm[k_ * NTT_TILE + (idx)]); \
  }

/* The low `bits` bits of x in reverse order (0 for bits = 0). */
DEVICE u32 ntt_brv(u32 x, u32 bits) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
  x = (x >> 16) | (x << 16);
  return bits == 0u ? 0u : x >> (32u - bits);
}

/* Offset of element i of column c. */
DEVICE u64 ntt_addr(u32 c, u32 i, u32 es, u32 cs) { return (u64)c * cs + (u64)i * es; }

/* The scale factor of the element at position i (see NTT_F_*). */
DEVICE ff_t ntt_factor(GLOBAL const ff_t* glo, GLOBAL const ff_t* ghi, u32 flags, u32 g_bits,
                       u32 log_n, u32 i) {
  if ((flags & NTT_F_COSET) == 0u) return ghi[0];
  u32 j = (flags & NTT_F_SCALE_BREV) ? ntt_brv(i, log_n) : i;
  return ff_mul(glo[j & ((1u << g_bits) - 1u)], ghi[j >> g_bits]);
}

/* out[k] = rho^bitrev(k, bits) for k < count, as lo[e mod 2^lo_bits] * hi[e >> lo_bits]
 * with e = bitrev(k, bits): the twiddle table from two tables of about sqrt(n) powers. */
KERNEL void ntt_twiddles(GLOBAL ff_t* out, GLOBAL const ff_t* lo, GLOBAL const ff_t* hi,
                         u32 lo_bits, u32 count, u32 bits) {
  u32 k = GLOBAL_ID();
  if (k >= count) return;
  u32 e = ntt_brv(k, bits);
  out[k] = ff_mul(lo[e & ((1u << lo_bits) - 1u)], hi[e >> lo_bits]);
}

/* Levels lvl0 .. lvl0+s-1 of the network on every column (see the top of this file).
 * Work-group g takes one tile of 2^s x 2^log_j elements:
 *   inner_cols = 0: g = (column, block b, offset group jb): offsets jb 2^log_j + jj;
 *   inner_cols = 1: g = (column group cb, block b, offset j): columns cb 2^log_j + jj
 *                   (those >= batch are skipped).
 * Any work-group size works (each item takes every LOCAL_SIZE()-th element / butterfly). */
KERNEL void ntt_pass(GLOBAL ff_t* x, GLOBAL const ff_t* tw, GLOBAL const ff_t* glo,
                     GLOBAL const ff_t* ghi, u32 log_n, u32 lvl0, u32 s, u32 log_j,
                     u32 inner_cols, u32 batch, u32 es, u32 cs, u32 ngroups, u32 flags,
                     u32 g_bits) {
  LOCAL NTT_LW lm[NTT_WORDS * NTT_TILE];
  u32 g = GROUP_ID();
  if (g >= ngroups) return;
  u32 log_q = log_n - lvl0 - s;
  u32 jmask = (1u << log_j) - 1u;
  u32 b, c0, j0;
  if (inner_cols) {
    j0 = g & ((1u << log_q) - 1u);
    g >>= log_q;
    b = g & ((1u << lvl0) - 1u);
    c0 = (g >> lvl0) << log_j;
  } else {
    u32 lj = log_q - log_j;
    j0 = (g & ((1u << lj) - 1u)) << log_j;
    g >>= lj;
    b = g & ((1u << lvl0) - 1u);
    c0 = g >> lvl0;
  }
  /* First element of the tile in its column. */
  u32 base = (b << (log_n - lvl0)) + j0;
  u32 tile = 1u << (s + log_j);
  u32 lid = LOCAL_ID();
  u32 ls = LOCAL_SIZE();

  for (u32 e = lid; e < tile; e += ls) {
    u32 jj = e & jmask;
    u32 c = inner_cols ? c0 + jj : c0;
    u32 i = base + ((e >> log_j) << log_q) + (inner_cols ? 0u : jj);
    ff_t a = ff_zero();
    if (c < batch) {
      a = x[ntt_addr(c, i, es, cs)];
      if (flags & NTT_F_SCALE_LOAD) a = ff_mul(a, ntt_factor(glo, ghi, flags, g_bits, log_n, i));
    }
    NTT_LPUT(e, a);
  }
  BARRIER();

  u32 gs = flags & NTT_F_GS;
  for (u32 rr = 0; rr < s; rr++) {
    u32 r = gs ? s - 1u - rr : rr; /* level lvl0 + r */
    u32 hb = s - 1u - r;           /* log2 of the half-block, in rows t */
    for (u32 p = lid; p < tile / 2u; p += ls) {
      u32 jj = p & jmask;
      u32 pt = p >> log_j;
      u32 blk = pt >> hb; /* block within the tile; the block of the level is b 2^r + blk */
      u32 tlo = (blk << (hb + 1u)) | (pt & ((1u << hb) - 1u));
      u32 ilo = (tlo << log_j) | jj;
      u32 ihi = ilo + (1u << (hb + log_j));
      ff_t w = tw[(b << r) + blk];
      ff_t lo, hi;
      NTT_LGET(lo, ilo);
      NTT_LGET(hi, ihi);
      if (gs) {
        ff_t sum = ff_add(lo, hi);
        hi = ff_mul(ff_sub(lo, hi), w);
        lo = sum;
      } else {
        ff_t t = ff_mul(hi, w);
        hi = ff_sub(lo, t);
        lo = ff_add(lo, t);
      }
      NTT_LPUT(ilo, lo);
      NTT_LPUT(ihi, hi);
    }
    BARRIER();
  }

  for (u32 e = lid; e < tile; e += ls) {
    u32 jj = e & jmask;
    u32 c = inner_cols ? c0 + jj : c0;
    u32 i = base + ((e >> log_j) << log_q) + (inner_cols ? 0u : jj);
    if (c < batch) {
      ff_t a;
      NTT_LGET(a, e);
      if (flags & NTT_F_SCALE_STORE) a = ff_mul(a, ntt_factor(glo, ghi, flags, g_bits, log_n, i));
      x[ntt_addr(c, i, es, cs)] = a;
    }
  }
}

/* In-place bit-reversal permutation of every column, by tiles: work-group g = (column,
 * mid) with mid < 2^(log_n - 2a) exchanges the 2^a x 2^a tiles mid and bitrev(mid) (groups
 * with mid > bitrev(mid) have nothing to do). Local rows are padded by one element. Needs
 * 2 * 2^a * (2^a + 1) <= NTT_TILE. */
KERNEL void ntt_bitrev_tiles(GLOBAL ff_t* x, u32 log_n, u32 a, u32 batch, u32 es, u32 cs,
                             u32 ngroups) {
  LOCAL NTT_LW lm[NTT_WORDS * NTT_TILE];
  u32 g = GROUP_ID();
  if (g >= ngroups) return;
  u32 m = log_n - 2u * a;
  u32 mid = g & ((1u << m) - 1u);
  u32 c = g >> m;
  u32 mid2 = ntt_brv(mid, m);
  if (mid > mid2 || c >= batch) return;
  u32 side = 1u << a;
  u32 amask = side - 1u;
  u32 pitch = side + 1u;
  u32 second = side * pitch;
  u32 hs = a + m;
  u32 lid = LOCAL_ID();
  u32 ls = LOCAL_SIZE();
  for (u32 e = lid; e < side * side; e += ls) {
    u32 hi = e >> a;
    u32 lo = e & amask;
    u32 l = hi * pitch + lo;
    ff_t v = x[ntt_addr(c, (hi << hs) | (mid << a) | lo, es, cs)];
    ff_t w = x[ntt_addr(c, (hi << hs) | (mid2 << a) | lo, es, cs)];
    NTT_LPUT(l, v);
    NTT_LPUT(second + l, w);
  }
  BARRIER();
  for (u32 e = lid; e < side * side; e += ls) {
    u32 hi = e >> a;
    u32 lo = e & amask;
    /* Position (hi, mid2, lo) receives the element at (rev lo, mid, rev hi), and
     * symmetrically. */
    u32 l = ntt_brv(lo, a) * pitch + ntt_brv(hi, a);
    ff_t v, w;
    NTT_LGET(v, l);
    NTT_LGET(w, second + l);
    x[ntt_addr(c, (hi << hs) | (mid2 << a) | lo, es, cs)] = v;
    x[ntt_addr(c, (hi << hs) | (mid << a) | lo, es, cs)] = w;
  }
}

/* In-place bit-reversal permutation by rows: work-item (row i0, column c) with
 * gid = i0 batch + c < nthreads swaps rows i and bitrev(i) of column c for
 * i = i0, i0 + rows_step, ... (when i < bitrev(i)). For an interleaved batch, consecutive
 * work-items touch consecutive elements. */
KERNEL void ntt_bitrev_rows(GLOBAL ff_t* x, u32 log_n, u32 batch, u32 es, u32 cs,
                            u32 rows_step, u32 nthreads) {
  u32 gid = GLOBAL_ID();
  if (gid >= nthreads) return;
  u32 c = gid % batch;
  u32 n = 1u << log_n;
  for (u32 i = gid / batch; i < n; i += rows_step) {
    u32 r = ntt_brv(i, log_n);
    if (i < r) {
      u64 pi = ntt_addr(c, i, es, cs);
      u64 pr = ntt_addr(c, r, es, cs);
      ff_t t = x[pi];
      x[pi] = x[pr];
      x[pr] = t;
    }
  }
}

#endif
