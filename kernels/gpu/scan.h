/* Exclusive prefix sums of u32 counts on the device, in three launches:
 *   scan_tiles:  each work-group scans a tile of SCAN_TILE consecutive entries in place
 *                (exclusive) and writes the tile's total to sums[group];
 *   scan_sums:   one work-group scans the tile totals in place (exclusive), any number of
 *                them, SCAN_TILE at a time with a running carry;
 *   scan_add:    adds the scanned total of its tile to every entry.
 * The work-group size must be SCAN_WG; each work-item handles SCAN_TILE / SCAN_WG entries
 * sequentially, then the per-item totals are scanned in local memory (Hillis-Steele). */
#ifndef ZKA_SCAN_H
#define ZKA_SCAN_H

#define SCAN_WG 256
#define SCAN_PER_ITEM 8
#define SCAN_TILE (SCAN_WG * SCAN_PER_ITEM)

/* Exclusive scan of one value per work-item across the work-group; returns this item's
 * prefix and writes the work-group total to *total. */
DEVICE u32 scan_group(u32 v, LOCAL_PARAM u32* tmp, u32* total) {
  u32 lid = LOCAL_ID();
  tmp[lid] = v;
  BARRIER();
  for (u32 off = 1; off < SCAN_WG; off <<= 1) {
    u32 add = lid >= off ? tmp[lid - off] : 0;
    BARRIER();
    tmp[lid] += add;
    BARRIER();
  }
  u32 inclusive = tmp[lid];
  *total = tmp[SCAN_WG - 1];
  BARRIER();
  return inclusive - v;
}

/* Exclusive scan of data[tile_base .. tile_base + SCAN_TILE) (clipped to n), in place. */
DEVICE u32 scan_tile(GLOBAL u32* data, u32 n, u32 tile_base, LOCAL_PARAM u32* tmp) {
  u32 lid = LOCAL_ID();
  u32 base = tile_base + lid * SCAN_PER_ITEM;
  u32 local_sum = 0;
  for (u32 k = 0; k < SCAN_PER_ITEM; k++) {
    if (base + k < n) local_sum += data[base + k];
  }
  u32 total;
  u32 prefix = scan_group(local_sum, tmp, &total);
  for (u32 k = 0; k < SCAN_PER_ITEM; k++) {
    if (base + k < n) {
      u32 x = data[base + k];
      data[base + k] = prefix;
      prefix += x;
    }
  }
  return total;
}

KERNEL void scan_tiles(GLOBAL u32* data, u32 n, GLOBAL u32* sums) {
  LOCAL u32 tmp[SCAN_WG];
  u32 total = scan_tile(data, n, GROUP_ID() * SCAN_TILE, tmp);
  if (LOCAL_ID() == 0) sums[GROUP_ID()] = total;
}

KERNEL void scan_sums(GLOBAL u32* sums, u32 n) {
  LOCAL u32 tmp[SCAN_WG];
  u32 carry = 0;
  for (u32 base = 0; base < n; base += SCAN_TILE) {
    u32 total = scan_tile(sums, n, base, tmp);
    u32 lid = LOCAL_ID();
    for (u32 k = 0; k < SCAN_PER_ITEM; k++) {
      u32 i = base + lid * SCAN_PER_ITEM + k;
      if (i < n) sums[i] += carry;
    }
    carry += total;
    BARRIER_GLOBAL();
  }
}

KERNEL void scan_add(GLOBAL u32* data, u32 n, GLOBAL const u32* sums) {
  u32 i = GLOBAL_ID();
  if (i < n) data[i] += sums[i / SCAN_TILE];
}

#endif
