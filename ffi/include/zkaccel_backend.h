/*
 * zkaccel_backend.h — the stable C ABI for third-party zkaccel backends (plugins).
 *
 * Written by hand and checked in (ffi/include/, beside zkaccel.h). The Rust mirror of every
 * struct below lives in backends/plugin/src/abi.rs; a test (backends/plugin/tests/header.rs)
 * compiles this header as C99 and as C++17 and compares sizeof/offsetof of every struct with
 * the Rust layout.
 *
 * A plugin is a shared library (.so / .dylib / .dll) exporting one function,
 *
 *     const zkap_plugin *zkaccel_plugin_entry(const zkap_host *host);
 *
 * which returns a static, versioned table of function pointers (zkap_plugin). The runtime
 * finds plugins in the directories and files listed in ZKACCEL_PLUGIN_PATH (colon-separated)
 * and in RuntimeBuilder::plugin_path(); every failure to load is reported (log, `zkaccel
 * devices`, Runtime::plugin_reports(), zka_plugin_report_get()) and never stops the process.
 *
 * Conventions:
 *  - Ids are those of the main C ABI (zkaccel.h): ZKA_CURVE_*, ZKA_G1/ZKA_G2, ZKA_FIELD_*,
 *    ZKA_NTT_FORWARD/INVERSE, ZKA_ORDER_*, ZKA_LAYOUT_*, ZKA_HASH_* and hash instance ids.
 *  - Every function returns an int32_t status: ZKAP_OK (0) or a negative ZKAP_ERR_* code.
 *    After a failure the runtime asks error_message() (on the same thread) for details.
 *  - Encodings are fixed per array (the runtime converts the caller's layout before calling):
 *      * MSM bases: packed affine points, x then y (G2: c0 then c1 of each coordinate),
 *        little-endian 64-bit limbs, MONTGOMERY form (R = 2^(64·limbs)), the point at
 *        infinity as x = y = 0. Never the flag-byte layout, never canonical.
 *      * MSM scalars: four little-endian 64-bit limbs each, CANONICAL integers in [0, r).
 *      * MSM result: Jacobian (X, Y, Z), x = X/Z², y = Y/Z³, MONTGOMERY form, coordinates
 *        reduced below the modulus; the point at infinity has Z = 0 (X, Y arbitrary reduced).
 *      * NTT data: the field's storage form — MONTGOMERY for BN254/BLS12-381/BLS12-377 Fr
 *        (4 limbs) and BabyBear (one uint32_t, R = 2^32), CANONICAL for Goldilocks (one
 *        uint64_t). Every element reduced.
 *      * NTT roots and coset shifts: CANONICAL, four limbs, zero-padded.
 *      * Hash data: the instance field's storage form, as for NTT data.
 *  - The runtime validates every input before calling (lengths, ids, reduced values) and
 *    every result after (ids, lengths, reduced coordinates, result on the curve, NTT
 *    output reduced): a plugin that answers garbage gets a backend error and the runtime
 *    falls back to another device.
 *  - Threads: unless the table sets ZKAP_PLUGIN_SERIALIZE, the runtime calls any function
 *    from any number of threads at once, including on the same bases or domain handle.
 *    With ZKAP_PLUGIN_SERIALIZE, the runtime holds one lock per plugin around every call.
 *  - Nothing may unwind across the boundary: a C++ plugin catches its exceptions and
 *    returns a status. The runtime never calls back into a plugin with Rust frames that
 *    could panic through it.
 *  - Structs begin with struct_size. Structs the runtime passes in (zkap_host, *_args,
 *    zkap_device_info, zkap_capabilities, zkap_msm_result) have struct_size set by the
 *    runtime to the size it allocated, at least the ABI-1 size; the plugin writes only the
 *    fields of the header it was built with. The table returned by the plugin carries the
 *    plugin's sizeof(zkap_plugin); the runtime rejects a table smaller than
 *    ZKAP_PLUGIN_SIZE_V1.
 *
 * What this ABI does not have yet (ABI 1): asynchronous calls and streams, device memory
 * buffers exposed to the caller (bases handles are the only resident state), G2 or
 * BLS12 helpers in the example plugin. See README.md, section "Plugins".
 */

#ifndef ZKACCEL_BACKEND_H
#define ZKACCEL_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "zkaccel.h"

/* ------------------------------------------------------------------------------------------
 * Versions, entry point, status codes
 * ---------------------------------------------------------------------------------------- */

/* The plugin ABI version this header describes. */
#define ZKAP_ABI_VERSION 1

/* The name of the one symbol a plugin exports. */
#define ZKAP_ENTRY_SYMBOL "zkaccel_plugin_entry"

/* Success. */
#define ZKAP_OK 0
/* The operation, curve, field, size or option is not supported (the runtime routes the call
 * elsewhere; this is not counted as a device failure of the plugin's hardware). */
#define ZKAP_ERR_UNSUPPORTED -1
/* An argument is inconsistent (a bug in the runtime or the plugin: reported, then fallback). */
#define ZKAP_ERR_INVALID_ARGUMENT -2
/* The device ran out of memory. */
#define ZKAP_ERR_OUT_OF_MEMORY -3
/* The device stopped answering. */
#define ZKAP_ERR_DEVICE_LOST -4
/* The operation did not finish in time. */
#define ZKAP_ERR_TIMEOUT -5
/* Anything else (error_message() says what). */
#define ZKAP_ERR_INTERNAL -6

/* zkap_plugin.flags: the runtime serialises every call into this plugin with one lock. */
#define ZKAP_PLUGIN_SERIALIZE 1u

/* zkap_ntt_cap.flags: what a plugin's ntt() handles itself. Whatever is not declared, the
 * runtime does around the plugin's call (reordering, coset scaling, transposition, one
 * column at a time), so the minimum a plugin implements is one contiguous column, natural
 * order in and out, forward and inverse (the inverse scaled by 1/n). */
/* Bit-reversed input and/or output orders. */
#define ZKAP_NTT_ORDERS 1u
/* Coset transforms (has_coset = 1). */
#define ZKAP_NTT_COSET 2u
/* Several contiguous columns in one call (batch > 1, ZKA_LAYOUT_CONTIGUOUS). */
#define ZKAP_NTT_BATCH 4u
/* The row-major interleaved layout (ZKA_LAYOUT_INTERLEAVED; implies batches). */
#define ZKAP_NTT_INTERLEAVED 8u

/* Capacity of the capability arrays. */
#define ZKAP_MAX_MSM_CAPS 16
#define ZKAP_MAX_NTT_CAPS 16
#define ZKAP_MAX_HASH_CAPS 32

/* Largest MSM result: three coordinates of 12 limbs (BLS12-381 G2). */
#define ZKAP_MAX_RESULT_LIMBS 36

/* ------------------------------------------------------------------------------------------
 * Structs
 * ---------------------------------------------------------------------------------------- */

/* What the runtime tells the plugin when it loads it. */
typedef struct zkap_host {
  /* sizeof(zkap_host) of the runtime. */
  uint32_t struct_size;
  /* The newest plugin ABI the runtime speaks (ZKAP_ABI_VERSION of its build). */
  uint32_t abi_version;
  /* The oldest plugin ABI the runtime still accepts. */
  uint32_t abi_version_min;
  /* Version of the runtime: MAJOR·1 000 000 + MINOR·1 000 + PATCH (ZKA_VERSION_NUMBER). */
  uint32_t runtime_version;
} zkap_host;

/* Facts about one device of the plugin, written by device_info(). */
typedef struct zkap_device_info {
  /* Set by the runtime. */
  uint32_t struct_size;
  /* Compute units (cores, SMs, pipelines). */
  uint32_t compute_units;
  /* Peak clock in MHz; 0 when unknown. */
  uint32_t clock_mhz;
  /* 1 for a simulated device (reported as SIMULATED everywhere), else 0. */
  uint32_t simulated;
  /* 1 when the work runs on the host's CPU cores (automatic routing then does not treat
   * the device as an accelerator), else 0. */
  uint32_t runs_on_host;
  /* Must be 0. */
  uint32_t reserved;
  /* Device memory in bytes (0 when unknown). */
  uint64_t memory_bytes;
  /* NUL-terminated strings (the runtime forces a NUL at the last byte). */
  char name[128];
  char vendor[64];
  char driver[64];
} zkap_device_info;

/* MSM support for one (curve, group). */
typedef struct zkap_msm_cap {
  /* ZKA_CURVE_*. */
  uint32_t curve;
  /* ZKA_G1 or ZKA_G2. */
  uint32_t group;
  /* Largest number of points in one call (at least 1). */
  uint64_t max_len;
} zkap_msm_cap;

/* NTT support for one field. */
typedef struct zkap_ntt_cap {
  /* ZKA_FIELD_* (an NTT field: the three Fr, Goldilocks, BabyBear). */
  uint32_t field;
  /* Largest log2(n); clamped to the field's two-adicity. */
  uint32_t max_log_n;
  /* ZKAP_NTT_* bits: what ntt() handles itself. */
  uint32_t flags;
  /* Must be 0. */
  uint32_t reserved;
} zkap_ntt_cap;

/* What one device can do, written by capabilities(). The runtime zero-fills it first. An
 * operation absent here is never asked of the plugin: the runtime routes it elsewhere.
 * Unknown ids are ignored with a warning (a newer plugin on an older runtime). */
typedef struct zkap_capabilities {
  /* Set by the runtime. */
  uint32_t struct_size;
  /* Entries used in msm[] (at most ZKAP_MAX_MSM_CAPS). */
  uint32_t msm_count;
  /* Entries used in ntt[] (at most ZKAP_MAX_NTT_CAPS). */
  uint32_t ntt_count;
  /* Entries used in hash[] (at most ZKAP_MAX_HASH_CAPS). */
  uint32_t hash_count;
  zkap_msm_cap msm[ZKAP_MAX_MSM_CAPS];
  zkap_ntt_cap ntt[ZKAP_MAX_NTT_CAPS];
  /* Hash instance ids (zka_hash_get_info numbers, e.g. 103 = poseidon-circom-bn254-t3). */
  uint32_t hash[ZKAP_MAX_HASH_CAPS];
} zkap_capabilities;

/* One MSM: sum of scalars[i]·points[i]. Used by msm(), bases_create() (points only) and
 * bases_msm() (scalars only). */
typedef struct zkap_msm_args {
  /* Set by the runtime. */
  uint32_t struct_size;
  /* ZKA_CURVE_*. */
  uint32_t curve;
  /* ZKA_G1 or ZKA_G2. */
  uint32_t group;
  /* Limbs per coordinate: 4 (BN254 G1), 6 (BLS12 G1), 8 (BN254 G2), 12 (BLS12-381 G2). */
  uint32_t coord_limbs;
  /* Number of points and of scalars (at least 1; bases_msm: at most the handle's count). */
  uint64_t count;
  /* count × 2 × coord_limbs limbs: affine x then y, Montgomery, infinity = (0, 0).
   * NULL in bases_msm(). Borrowed for the call only: copy what you keep. */
  const uint64_t *points;
  /* count × 4 limbs: canonical scalars. NULL in bases_create(). */
  const uint64_t *scalars;
} zkap_msm_args;

/* Where an MSM result goes (msm(), bases_msm()). The runtime zero-fills it and sets
 * struct_size; the plugin writes every other field. */
typedef struct zkap_msm_result {
  /* Set by the runtime. */
  uint32_t struct_size;
  /* Written: ZKA_CURVE_* and ZKA_G1/ZKA_G2 of the result (checked by the runtime). */
  uint32_t curve;
  uint32_t group;
  /* Written: limbs used in limbs[]: 3 × coord_limbs (checked by the runtime). */
  uint32_t limbs_written;
  /* Written: Jacobian X, Y, Z (each coord_limbs limbs), Montgomery; infinity has Z = 0. */
  uint64_t limbs[ZKAP_MAX_RESULT_LIMBS];
} zkap_msm_result;

/* An NTT domain: the field, the size and the root of unity. */
typedef struct zkap_ntt_domain_args {
  /* Set by the runtime. */
  uint32_t struct_size;
  /* ZKA_FIELD_*. */
  uint32_t field;
  /* log2(n). */
  uint32_t log_n;
  /* Must be 0. */
  uint32_t reserved;
  /* The primitive n-th root of unity ω, canonical, zero-padded to four limbs. It is the
   * field's default (BN254: 5^((r−1)/2^28) raised to 2^(28 − log_n), as arkworks, gnark and
   * ICICLE use) unless the caller chose another primitive root: use what is given. */
  uint64_t root[4];
} zkap_ntt_domain_args;

/* One transform on a domain, in place. Forward: y_i = Σ_j x_j·(g·ω^i)^j (g = coset shift,
 * 1 without a coset). Inverse: the inverse of that, scaled by 1/n. A bit-reversed array
 * holds logical element bitreverse(i, log_n) at index i; the coset applies to the logical
 * coefficient index whatever the storage order. */
typedef struct zkap_ntt_args {
  /* Set by the runtime. */
  uint32_t struct_size;
  /* ZKA_NTT_FORWARD or ZKA_NTT_INVERSE. */
  uint32_t direction;
  /* ZKA_ORDER_NATURAL or ZKA_ORDER_BIT_REVERSED (BIT_REVERSED only with ZKAP_NTT_ORDERS). */
  uint32_t input_order;
  uint32_t output_order;
  /* ZKA_LAYOUT_* (INTERLEAVED only with ZKAP_NTT_INTERLEAVED). */
  uint32_t layout;
  /* 1 with a coset shift (only with ZKAP_NTT_COSET), else 0. */
  uint32_t has_coset;
  /* Number of columns (> 1 only with ZKAP_NTT_BATCH or ZKAP_NTT_INTERLEAVED). */
  uint64_t batch;
  /* The coset shift g, canonical, zero-padded (when has_coset). */
  uint64_t coset_shift[4];
  /* n × batch elements in storage form (see the conventions above), 8-byte aligned. */
  void *data;
  /* Size of data in bytes: n × batch × element size. */
  uint64_t data_bytes;
} zkap_ntt_args;

/* One hashing operation (see zkaccel.h, zka_hash, for the semantics of each operation). */
typedef struct zkap_hash_args {
  /* Set by the runtime. */
  uint32_t struct_size;
  /* The instance id. */
  uint32_t instance;
  /* ZKA_HASH_PERMUTE, ZKA_HASH_MESSAGES or ZKA_HASH_COMPRESS. */
  uint32_t op;
  /* ZKA_HASH_MESSAGES: elements per message; ZKA_HASH_COMPRESS: the arity; else 0. */
  uint32_t param;
  /* Input elements (NULL and 0 for ZKA_HASH_PERMUTE), storage form. */
  const void *input;
  uint64_t input_len;
  /* Output elements, storage form (ZKA_HASH_PERMUTE: the states, permuted in place). */
  void *output;
  uint64_t output_len;
} zkap_hash_args;

/* The table a plugin returns. Required entries: create, destroy, device_count, device_info,
 * capabilities. Every other entry may be NULL: the operation is then unsupported (for msm,
 * ntt, hash) or done by the runtime (bases_* NULL: bases stay on the host and each MSM
 * sends them again). */
typedef struct zkap_plugin {
  /* sizeof(zkap_plugin) as the plugin was compiled (at least ZKAP_PLUGIN_SIZE_V1). */
  uint32_t struct_size;
  /* ZKAP_ABI_VERSION the plugin was compiled with. */
  uint32_t abi_version;
  /* ZKAP_PLUGIN_* bits. */
  uint32_t flags;
  /* Must be 0. */
  uint32_t reserved;
  /* Static NUL-terminated plugin name and version (shown in `zkaccel devices`). */
  const char *name;
  const char *version;

  /* Creates the plugin's state; *ctx is passed back to every other call. A failure here is
   * reported as a load error with error_message(NULL, ...). */
  int32_t (*create)(const zkap_host *host, void **ctx);
  /* Releases the state (after every bases and domain handle was destroyed). */
  void (*destroy)(void *ctx);
  /* Copies the message of the most recent failure on the calling thread into buf
   * (NUL-terminated, truncated to len). ctx may be NULL (create failed). Optional. */
  int32_t (*error_message)(void *ctx, char *buf, size_t len);

  /* Number of devices (0 is allowed: the plugin loads with no device). */
  uint32_t (*device_count)(void *ctx);
  /* Describes device `device` (< device_count). */
  int32_t (*device_info)(void *ctx, uint32_t device, zkap_device_info *info);
  /* What device `device` supports. */
  int32_t (*capabilities)(void *ctx, uint32_t device, zkap_capabilities *caps);

  /* One MSM; writes *result. */
  int32_t (*msm)(void *ctx, uint32_t device, const zkap_msm_args *args, zkap_msm_result *result);
  /* Takes in bases (args->points, args->count) for many MSMs; copies them (to the device). */
  int32_t (*bases_create)(void *ctx, uint32_t device, const zkap_msm_args *args, void **bases);
  /* MSM of args->count scalars against the first args->count bases of the handle. */
  int32_t (*bases_msm)(void *ctx, void *bases, const zkap_msm_args *args, zkap_msm_result *result);
  /* Releases a bases handle. */
  void (*bases_destroy)(void *ctx, void *bases);

  /* Builds a domain (twiddles) on device `device`. */
  int32_t (*ntt_domain_create)(void *ctx, uint32_t device, const zkap_ntt_domain_args *args,
                               void **domain);
  /* Transforms args->batch columns in place on a domain. */
  int32_t (*ntt)(void *ctx, void *domain, const zkap_ntt_args *args);
  /* Releases a domain. */
  void (*ntt_domain_destroy)(void *ctx, void *domain);

  /* One hashing operation with an instance listed in the capabilities. */
  int32_t (*hash)(void *ctx, uint32_t device, const zkap_hash_args *args);
} zkap_plugin;

/* The size of an ABI-1 table: the runtime rejects smaller ones. */
#define ZKAP_PLUGIN_SIZE_V1 (offsetof(zkap_plugin, hash) + sizeof(void (*)(void)))

/* The entry point's type. */
typedef const zkap_plugin *(*zkap_entry_fn)(const zkap_host *host);

#ifdef __cplusplus
extern "C" {
#endif

/* Implemented by the plugin, not by libzkaccel: returns its table (NULL to refuse to load,
 * for instance when host->abi_version is older than what it needs). The table must stay
 * valid until the library is unloaded. Must not allocate per call or keep state: create()
 * does that. */
const zkap_plugin *zkaccel_plugin_entry(const zkap_host *host);

#ifdef __cplusplus
}
#endif

#endif /* ZKACCEL_BACKEND_H */
