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
 *   4. msm_accumulate: sums of equal-length runs of entries (mixed additions into XYZZ),
 *      and msm_fixup: per bucket, the pieces of buckets that straddle runs;
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

/* Walks scalar i's signed digits of windows [0, w0 + wn); for each non-zero digit of a window
 * in [w0, w0 + wn) bumps its bucket's counter and, when `scatter`, stores the entry
 * i | sign << 31 at the position the counter had. */
DEVICE void msm_digits_pass(GLOBAL const fr_t* scalars, u32 n, u32 montgomery, u32 c, u32 w0,
                            u32 wn, GLOBAL u32* counters, GLOBAL u32* entries, int scatter) {
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
      u32 pos = ATOMIC_INC(&counters[(w - w0) * nb + b]);
      if (scatter) entries[pos] = i | (d < 0 ? 0x80000000u : 0u);
    }
  }
}

KERNEL void msm_count(GLOBAL const fr_t* scalars, u32 n, u32 montgomery, u32 c, u32 w0,
                      u32 wn, GLOBAL u32* counts) {
  msm_digits_pass(scalars, n, montgomery, c, w0, wn, counts, counts, 0);
}

KERNEL void msm_scatter(GLOBAL const fr_t* scalars, u32 n, u32 montgomery, u32 c, u32 w0,
                        u32 wn, GLOBAL u32* cursor, GLOBAL u32* entries) {
  msm_digits_pass(scalars, n, montgomery, c, w0, wn, cursor, entries, 1);
}

/* Bucket accumulation, balanced: work-item t sums the sorted entries
 * [t task_len, (t + 1) task_len) (clipped to the total), whatever buckets they belong to, so
 * a bucket holding half of all points (zero or repeated scalars are common in real
 * witnesses) costs many work-items a little each instead of one work-item everything.
 * A bucket that lies wholly inside one task is written to buckets[] directly. A run that
 * starts at the task's first entry is stored in partials[2t] (slot 0), a run that starts
 * inside the task but continues past its end in partials[2t + 1] (slot 1); msm_fixup then
 * adds each straddling bucket's pieces. offsets has nbuckets + 1 entries (the last is the
 * total). */
KERNEL void msm_accumulate(GLOBAL const g_affine_t* points, GLOBAL const u32* entries,
                           GLOBAL const u32* offsets, u32 nbuckets, u32 task_len,
                           GLOBAL g_xyzz_t* buckets, GLOBAL g_xyzz_t* partials) {
  u32 t = GLOBAL_ID();
  u32 total = offsets[nbuckets];
  u32 start = t * task_len;
  if (start >= total) return;
  u32 end = total - start < task_len ? total : start + task_len;
  /* The bucket holding entry `start`: the last k with offsets[k] <= start. */
  u32 lo = 0, hi = nbuckets;
  while (lo + 1 < hi) {
    u32 mid = lo + (hi - lo) / 2;
    if (offsets[mid] <= start) lo = mid; else hi = mid;
  }
  u32 k = lo;
  u32 e = start;
  while (e < end) {
    while (offsets[k + 1] <= e) k++; /* skip empty buckets */
    u32 bstart = offsets[k];
    u32 bend = offsets[k + 1];
    u32 run_end = bend < end ? bend : end;
    u32 run_start = e;
    g_xyzz_t acc = g_inf();
    for (; e < run_end; e++) {
      u32 ent = entries[e];
      g_affine_t p = points[ent & 0x7fffffffu];
      if (ent >> 31) p = g_affine_neg(p);
      acc = g_add_affine(acc, p);
    }
    if (bstart >= start && bend <= end) {
      buckets[k] = acc;
    } else if (run_start == start) {
      partials[2 * t] = acc;
    } else {
      partials[2 * t + 1] = acc;
    }
  }
}

/* Completes every bucket msm_accumulate did not write whole: empty buckets become infinity,
 * straddling ones the sum of their pieces (slot 0 or 1 of their first task, slot 0 of the
 * following ones). */
KERNEL void msm_fixup(GLOBAL const u32* offsets, u32 nbuckets, u32 task_len,
                      GLOBAL const g_xyzz_t* partials, GLOBAL g_xyzz_t* buckets) {
  u32 k = GLOBAL_ID();
  if (k >= nbuckets) return;
  u32 b0 = offsets[k];
  u32 b1 = offsets[k + 1];
  if (b0 == b1) {
    buckets[k] = g_inf();
    return;
  }
  u32 t0 = b0 / task_len;
  u32 t1 = (b1 - 1) / task_len;
  if (t0 == t1) return;
  g_xyzz_t acc = partials[2 * t0 + (b0 == t0 * task_len ? 0u : 1u)];
  for (u32 t = t0 + 1; t <= t1; t++) acc = g_add(acc, partials[2 * t]);
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
