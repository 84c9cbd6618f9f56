/* zkaccel portable kernels: helpers shared by every template.
 *
 * Templates (field_*.h, curve_xyzz.h) are instantiated by the host, which prepends
 * `#define` lines naming the instance (FIELD, LIMBS, constants) and appends `#undef`s; see
 * kernels/src/lib.rs. Names are formed with CAT: FIELD = fr gives fr_t, fr_mul, ... */
#ifndef ZKA_COMMON_H
#define ZKA_COMMON_H

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define CAT3(a, b, c) CAT(CAT(a, b), c)

/* Bit i of a 32-bit mask, all ones when c is non-zero. */
#define MASK32(c) ((u32)0 - (u32)((c) != 0))

#endif
