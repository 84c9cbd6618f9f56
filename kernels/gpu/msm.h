/* MSM by the bucket method (Pippenger), one (curve, group) per program.
 *
 * Needs: the scalar field instantiated as `fr` (8 limbs), the curve as `g` (curve_xyzz.h),
 * and scan.h. Host-driven pipeline for n points, window width c, nwin windows and
 * nb = 2^(c-1) buckets per window (signed digits in [-(2^(c-1) - 1), 2^(c-1)]), run for a
 * group of windows [w0, w0 + wn) at a time (all windows at once unless the buckets or the
 * entries of every window would not fit one allocation); window indices below are relative
 * to w0:
 *   1. msm_count:      per scalar, signed digits; counts[w*nb + |d|-1] += 1 (atomics);
 *   2. scan (scan.h):  offsets = exclusive prefix sums of counts; cursor = copy of offsets;
 *   3. msm_scatter:    per scalar again, entries[cursor[k]++] = i | sign << 31 (counting sort
 *                      of (point, sign) by bucket, all windows at once);
 *   4. msm_accumulate: per bucket, sum of its points (mixed additions into XYZZ);
 *   5. msm_reduce:     per (window, segment of buckets), sum_b (b+1) B_b over the segment by
 *                      the running-sum trick, plus lo * (sum of the segment) for its offset.
 * The host adds the segment results of each window and combines windows by doubling.
 * Digits are recomputed in steps 1 and 3 rather than stored: a few integer operations per
 * window cost less than writing and reading nwin * n words. */

/* The raw c-bit window w of a canonical scalar (signed digits add the carry from below). */
DEVICE i32 msm_digit(const fr_t* s, u32 w, u32 c) {
  u32 bit = w * c;
  u32 limb = bit >> 5;
  u32 shift = bit & 31;
  u32 v = 0;
  if (limb < 8) {
    v = s->v[limb] >> shift;
    if (shift != 0 && limb + 1 < 8) v |= s->v[limb + 1] << (32 - shift);
  }
  return (i32)(v & ((1u << c) - 1u));
}

DEVICE fr_t msm_load_scalar(GLOBAL const fr_t* scalars, u32 i, u32 montgomery) {
  fr_t s = scalars[i];
  if (montgomery) s = fr_from_mont(s);
  return s;
}

KERNEL void msm_count(GLOBAL const fr_t* scalars, u32 n, u32 montgomery, u32 c, u32 w0,
                      u32 wn, GLOBAL u32* counts) {
  u32 i = GLOBAL_ID();
  if (i >= n) return;
  fr_t s = msm_load_scalar(scalars, i, montgomery);
  u32 nb = 1u << (c - 1);
  i32 carry = 0;
  for (u32 w = 0; w < w0 + wn; w++) {
    i32 d = msm_digit(&s, w, c) + carry;
    carry = d > (i32)nb;
    d -= carry << c;
    if (d != 0 && w >= w0) {
      u32 b = (u32)(d < 0 ? -d : d) - 1;
      ATOMIC_INC(&counts[(w - w0) * nb + b]);
    }
  }
}

KERNEL void msm_scatter(GLOBAL const fr_t* scalars, u32 n, u32 montgomery, u32 c, u32 w0,
                        u32 wn, GLOBAL u32* cursor, GLOBAL u32* entries) {
  u32 i = GLOBAL_ID();
  if (i >= n) return;
  fr_t s = msm_load_scalar(scalars, i, montgomery);
  u32 nb = 1u << (c - 1);
  i32 carry = 0;
  for (u32 w = 0; w < w0 + wn; w++) {
    i32 d = msm_digit(&s, w, c) + carry;
    carry = d > (i32)nb;
    d -= carry << c;
    if (d != 0 && w >= w0) {
      u32 b = (u32)(d < 0 ? -d : d) - 1;
      u32 pos = ATOMIC_INC(&cursor[(w - w0) * nb + b]);
      entries[pos] = i | (d < 0 ? 0x80000000u : 0u);
    }
  }
}

/* offsets has nbuckets + 1 entries (the last is the total). */
KERNEL void msm_accumulate(GLOBAL const g_affine_t* points, GLOBAL const u32* entries,
                           GLOBAL const u32* offsets, u32 nbuckets, GLOBAL g_xyzz_t* buckets) {
  u32 k = GLOBAL_ID();
  if (k >= nbuckets) return;
  u32 end = offsets[k + 1];
  g_xyzz_t acc = g_inf();
  for (u32 e = offsets[k]; e < end; e++) {
    u32 ent = entries[e];
    g_affine_t p = points[ent & 0x7fffffffu];
    if (ent >> 31) p = g_affine_neg(p);
    acc = g_add_affine(acc, p);
  }
  buckets[k] = acc;
}

/* One work-item per (window, segment): segments of seg_len buckets, nseg per window. */
KERNEL void msm_reduce(GLOBAL const g_xyzz_t* buckets, u32 nb, u32 nwin, u32 seg_len, u32 nseg,
                       GLOBAL g_xyzz_t* out) {
  u32 t = GLOBAL_ID();
  if (t >= nwin * nseg) return;
  u32 w = t / nseg;
  u32 lo = (t % nseg) * seg_len;
  u32 hi = lo + seg_len < nb ? lo + seg_len : nb;
  g_xyzz_t run = g_inf();
  g_xyzz_t acc = g_inf();
  for (u32 b = hi; b > lo; b--) {
    run = g_add(run, buckets[w * nb + b - 1]);
    acc = g_add(acc, run);
  }
  /* acc = sum (b - lo + 1) B_b; the digit of bucket b is b + 1. */
  if (lo > 0) acc = g_add(acc, g_mul_small(run, lo));
  out[t] = acc;
}

/* out[w] = sum of the nseg segment results of window w (one work-item per window). */
KERNEL void msm_sum_segments(GLOBAL const g_xyzz_t* segs, u32 nwin, u32 nseg,
                             GLOBAL g_xyzz_t* out) {
  u32 w = GLOBAL_ID();
  if (w >= nwin) return;
  g_xyzz_t acc = g_inf();
  for (u32 s = 0; s < nseg; s++) acc = g_add(acc, segs[w * nseg + s]);
  out[w] = acc;
}
