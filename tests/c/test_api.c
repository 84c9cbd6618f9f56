/*
 * C ABI tests for libzkaccel: known answers, agreement with the Rust API on random inputs
 * (read from the file given as argv[1], written by ffi/tests/c_api.rs), and every status
 * code on bad input. Built and run by `cargo test -p zkaccel-ffi`; CI also runs it under
 * valgrind.
 */
#include "zkaccel.h"
#include "check.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* circomlib poseidon([1, 2]) = 7853200120776062878684798364095072458815029376092732009249414926327459813530 */
#define CIRCOM_1_2_HEX "115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a"

#define EXPECT_STATUS(rt, call, want)                                                   \
    do {                                                                                \
        int32_t got_ = (call);                                                          \
        char msg_[512] = {0};                                                           \
        if ((rt) != NULL) zka_last_error((rt), msg_, sizeof msg_, NULL);                \
        CHECK(got_ == (want), "%s returned %d (%s), expected %d; last error: %s", #call, \
              got_, zka_status_str(got_), (want), msg_);                                \
    } while (0)

/* BN254 base-field modulus (canonical limbs) and scalar-field modulus. */
static const uint64_t BN254_Q[4] = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL,
                                    0xb85045b68181585dULL, 0x30644e72e131a029ULL};
static const uint64_t BN254_R[4] = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                                    0xb85045b68181585dULL, 0x30644e72e131a029ULL};

/* [k]G on BN254 G1 as canonical affine limbs, computed through the API itself. */
static int32_t bn254_mul_g(zka_runtime *rt, uint64_t k, uint64_t out_xy[8]) {
    uint64_t g[8] = {1, 0, 0, 0, 2, 0, 0, 0};
    uint64_t s[4] = {k, 0, 0, 0};
    zka_points p = ZKA_POINTS_INIT;
    p.encoding = ZKA_ENCODING_CANONICAL;
    p.data = g;
    p.count = 1;
    zka_scalars sc = ZKA_SCALARS_INIT;
    sc.encoding = ZKA_ENCODING_CANONICAL;
    sc.data = s;
    sc.count = 1;
    zka_point_out r = ZKA_POINT_OUT_INIT;
    r.limbs = out_xy;
    r.capacity = 8;
    return zka_msm(rt, &p, &sc, NULL, &r, NULL);
}

static void test_versions(void) {
    uint32_t ma = 99, mi = 99, pa = 99;
    CHECK(zka_version(&ma, &mi, &pa) == ZKA_OK, "zka_version");
    CHECK(ma == ZKA_VERSION_MAJOR && mi == ZKA_VERSION_MINOR && pa == ZKA_VERSION_PATCH,
          "version %u.%u.%u", ma, mi, pa);
    CHECK(zka_version(NULL, NULL, NULL) == ZKA_OK, "zka_version with NULLs");
    CHECK(ZKA_CHECK_ABI() == ZKA_OK, "ABI check");
    CHECK(zka_check_abi(ZKA_ABI_VERSION + 1) == ZKA_ERR_VERSION, "ABI mismatch detected");
    for (int32_t c = 1; c >= -20; c--) CHECK(zka_status_str(c) != NULL, "status_str(%d)", c);
    CHECK(strcmp(zka_status_str(ZKA_ERR_NOT_REDUCED), "value not below the modulus") == 0,
          "status text");
}

static void test_known_answer(zka_runtime *rt, uint32_t kind) {
    uint64_t pts[4][8];
    for (uint64_t k = 1; k <= 4; k++)
        EXPECT_STATUS(rt, bn254_mul_g(rt, k, pts[k - 1]), ZKA_OK);
    uint64_t scalars[4][4] = {{1, 0, 0, 0}, {2, 0, 0, 0}, {3, 0, 0, 0}, {4, 0, 0, 0}};
    zka_points p = ZKA_POINTS_INIT;
    p.encoding = ZKA_ENCODING_CANONICAL;
    p.data = pts;
    p.count = 4;
    zka_scalars sc = ZKA_SCALARS_INIT;
    sc.encoding = ZKA_ENCODING_CANONICAL;
    sc.data = &scalars[0][0];
    sc.count = 4;
    uint64_t out[8] = {0};
    zka_point_out r = ZKA_POINT_OUT_INIT;
    r.limbs = out;
    r.capacity = 8;
    zka_call_report rep = ZKA_CALL_REPORT_INIT;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, &rep), ZKA_OK);
    /* 30G = (0x036083bf…, 0x2630c348…) */
    const uint64_t want[8] = {0x876e93848625f5aeULL, 0x18b019feb45f833aULL,
                              0x4c11f66a3cffd553ULL, 0x036083bfa420b15aULL,
                              0xd56ca8b36adc9e36ULL, 0xaae9621988223514ULL,
                              0xb74fe62a7e921361ULL, 0x2630c348c019c3edULL};
    CHECK(memcmp(out, want, sizeof want) == 0, "BN254 MSM known answer 30G");
    CHECK(r.written == 8 && r.is_infinity == 0, "written %zu", r.written);
    CHECK(rep.device_kind == kind && rep.fallbacks == 0, "report: device kind %u, %u fallbacks",
          rep.device_kind, rep.fallbacks);

    /* Jacobian output in Montgomery form: 3 × 4 limbs. */
    uint64_t jac[12];
    r.form = ZKA_FORM_JACOBIAN;
    r.encoding = ZKA_ENCODING_MONTGOMERY;
    r.limbs = jac;
    r.capacity = 12;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_OK);
    CHECK(r.written == 12, "jacobian limbs %zu", r.written);

    /* An empty MSM is the point at infinity. */
    p.count = 0;
    sc.count = 0;
    r.form = ZKA_FORM_AFFINE;
    r.limbs = out;
    r.capacity = 8;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_OK);
    CHECK(r.is_infinity == 1, "empty MSM is infinity");
}

/* Reads little-endian u64 words of the agreement file. */
static int read_words(FILE *f, uint64_t *w, size_t n) { return fread(w, 8, n, f) == n; }

static void test_agreement(zka_runtime *rt, const char *path) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "open %s", path);
    if (!f) return;
    uint64_t hdr[2];
    if (!read_words(f, hdr, 2)) { CHECK(0, "header"); fclose(f); return; }
    size_t n = (size_t)hdr[0];
    uint64_t log_n = hdr[1];
    size_t m = (size_t)1 << log_n;
    uint64_t *pts = malloc(n * 8 * 8), *sc = malloc(n * 4 * 8), want[8];
    uint64_t *gl = malloc(m * 8), *gl_want = malloc(m * 8);
    uint64_t *fr = malloc(m * 32), *fr_want = malloc(m * 32);
    int ok = read_words(f, pts, n * 8) && read_words(f, sc, n * 4) && read_words(f, want, 8) &&
             read_words(f, gl, m) && read_words(f, gl_want, m) && read_words(f, fr, m * 4) &&
             read_words(f, fr_want, m * 4);
    fclose(f);
    CHECK(ok, "agreement file complete");
    if (ok) {
        /* MSM: Montgomery bases and scalars (as arkworks keeps them), canonical affine out. */
        zka_points p = ZKA_POINTS_INIT;
        p.data = pts;
        p.count = n;
        zka_scalars s = ZKA_SCALARS_INIT;
        s.data = sc;
        s.count = n;
        uint64_t out[8];
        zka_point_out r = ZKA_POINT_OUT_INIT;
        r.limbs = out;
        r.capacity = 8;
        EXPECT_STATUS(rt, zka_msm(rt, &p, &s, NULL, &r, NULL), ZKA_OK);
        CHECK(memcmp(out, want, sizeof want) == 0, "random MSM agrees with the Rust API");

        /* The same through a bases handle. */
        zka_msm_bases *h = NULL;
        EXPECT_STATUS(rt, zka_msm_bases_create(rt, &p, NULL, &h), ZKA_OK);
        memset(out, 0, sizeof out);
        EXPECT_STATUS(rt, zka_msm_bases_msm(h, &s, &r, NULL), ZKA_OK);
        CHECK(memcmp(out, want, sizeof want) == 0, "bases-handle MSM agrees");
        zka_msm_bases_destroy(h);

        /* NTT, Goldilocks canonical, and BN254 Fr canonical. */
        zka_ntt_domain *d = NULL;
        EXPECT_STATUS(rt, zka_ntt_domain_create(rt, ZKA_FIELD_GOLDILOCKS, (uint32_t)log_n, NULL, 0, &d), ZKA_OK);
        zka_ntt_config c = ZKA_NTT_CONFIG_INIT;
        c.encoding = ZKA_ENCODING_CANONICAL;
        EXPECT_STATUS(rt, zka_ntt(d, &c, gl, m, NULL), ZKA_OK);
        CHECK(memcmp(gl, gl_want, m * 8) == 0, "Goldilocks NTT agrees with the Rust API");
        zka_ntt_domain_destroy(d);
        EXPECT_STATUS(rt, zka_ntt_domain_create(rt, ZKA_FIELD_BN254_FR, (uint32_t)log_n, NULL, 0, &d), ZKA_OK);
        EXPECT_STATUS(rt, zka_ntt(d, &c, fr, m, NULL), ZKA_OK);
        CHECK(memcmp(fr, fr_want, m * 32) == 0, "BN254 Fr NTT agrees with the Rust API");
        c.direction = ZKA_NTT_INVERSE;
        EXPECT_STATUS(rt, zka_ntt(d, &c, fr_want, m, NULL), ZKA_OK);
        zka_ntt_domain_destroy(d);
    }
    free(pts); free(sc); free(gl); free(gl_want); free(fr); free(fr_want);
}

static void test_ntt(zka_runtime *rt) {
    zka_ntt_domain *d = NULL;
    EXPECT_STATUS(rt, zka_ntt_domain_create(rt, ZKA_FIELD_BABYBEAR, 3, NULL, 0, &d), ZKA_OK);
    uint32_t v[16], orig[16];
    for (int i = 0; i < 16; i++) v[i] = orig[i] = (uint32_t)(i * 1000003u % 2013265921u);
    zka_ntt_config c = ZKA_NTT_CONFIG_INIT;
    c.encoding = ZKA_ENCODING_CANONICAL;
    c.batch = 2;
    c.layout = ZKA_LAYOUT_INTERLEAVED;
    c.has_coset = 1;
    c.coset_shift[0] = 31;
    EXPECT_STATUS(rt, zka_ntt(d, &c, v, 16, NULL), ZKA_OK);
    CHECK(memcmp(v, orig, sizeof v) != 0, "transform changed the data");
    c.direction = ZKA_NTT_INVERSE;
    EXPECT_STATUS(rt, zka_ntt(d, &c, v, 16, NULL), ZKA_OK);
    CHECK(memcmp(v, orig, sizeof v) == 0, "BabyBear coset batch round trip");

    /* Per-call verification and time limit; a first-version config (without them). */
    c.direction = ZKA_NTT_FORWARD;
    c.verification = ZKA_VERIFY_FULL;
    c.timeout_ms = 60000;
    EXPECT_STATUS(rt, zka_ntt(d, &c, v, 16, NULL), ZKA_OK);
    c.direction = ZKA_NTT_INVERSE;
    c.struct_size = (uint32_t)offsetof(zka_ntt_config, verification);
    c.verification = 77; /* beyond the first version's size: not read */
    EXPECT_STATUS(rt, zka_ntt(d, &c, v, 16, NULL), ZKA_OK);
    CHECK(memcmp(v, orig, sizeof v) == 0, "verified round trip, first-version config");
    c.struct_size = sizeof c;
    EXPECT_STATUS(rt, zka_ntt(d, &c, v, 16, NULL), ZKA_ERR_UNKNOWN_ID);
    c.verification = ZKA_VERIFY_DEFAULT;
    c.timeout_ms = 0;

    /* Errors. */
    EXPECT_STATUS(rt, zka_ntt(d, &c, v, 15, NULL), ZKA_ERR_LENGTH_MISMATCH);
    c.batch = 0;
    EXPECT_STATUS(rt, zka_ntt(d, &c, v, 16, NULL), ZKA_ERR_LENGTH_MISMATCH);
    c.batch = 2;
    c.coset_shift[0] = 0;
    EXPECT_STATUS(rt, zka_ntt(d, &c, v, 16, NULL), ZKA_ERR_INVALID_ARGUMENT);
    c.has_coset = 0;
    c.direction = 7;
    EXPECT_STATUS(rt, zka_ntt(d, &c, v, 16, NULL), ZKA_ERR_UNKNOWN_ID);
    c.direction = ZKA_NTT_FORWARD;
    c.struct_size = 4;
    EXPECT_STATUS(rt, zka_ntt(d, &c, v, 16, NULL), ZKA_ERR_STRUCT_SIZE);
    c.struct_size = sizeof c;
    v[5] = 2013265921u; /* = p, not reduced */
    EXPECT_STATUS(rt, zka_ntt(d, &c, v, 16, NULL), ZKA_ERR_NOT_REDUCED);
    char msg[256];
    zka_last_error(rt, msg, sizeof msg, NULL);
    CHECK(strstr(msg, "element 5") != NULL, "message names the index: %s", msg);
    EXPECT_STATUS(rt, zka_ntt(d, &c, NULL, 16, NULL), ZKA_ERR_NULL_POINTER);
    EXPECT_STATUS(rt, zka_ntt(d, NULL, v, 16, NULL), ZKA_ERR_NULL_POINTER);
    EXPECT_STATUS(rt, zka_ntt(NULL, &c, v, 16, NULL), ZKA_ERR_NULL_POINTER);
    zka_ntt_domain_destroy(d);

    zka_ntt_domain *bad = NULL;
    EXPECT_STATUS(rt, zka_ntt_domain_create(rt, ZKA_FIELD_GOLDILOCKS, 33, NULL, 0, &bad), ZKA_ERR_NTT_SIZE);
    CHECK(bad == NULL, "no handle on failure");
    EXPECT_STATUS(rt, zka_ntt_domain_create(rt, 99, 3, NULL, 0, &bad), ZKA_ERR_UNKNOWN_ID);
    EXPECT_STATUS(rt, zka_ntt_domain_create(rt, ZKA_FIELD_BN254_FQ, 1, NULL, 0, &bad), ZKA_ERR_UNSUPPORTED);
    uint64_t not_root = 5;
    EXPECT_STATUS(rt, zka_ntt_domain_create(rt, ZKA_FIELD_GOLDILOCKS, 3, &not_root, 1, &bad), ZKA_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(rt, zka_ntt_domain_create(rt, ZKA_FIELD_GOLDILOCKS, 3, &not_root, 4, &bad), ZKA_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(rt, zka_ntt_domain_create(rt, ZKA_FIELD_GOLDILOCKS, 3, NULL, 0, NULL), ZKA_ERR_NULL_POINTER);
}

static void test_msm_errors(zka_runtime *rt) {
    uint64_t g[8] = {1, 0, 0, 0, 2, 0, 0, 0};
    uint64_t s[2][4] = {{5, 0, 0, 0}, {6, 0, 0, 0}};
    uint64_t out[8];
    zka_points p = ZKA_POINTS_INIT;
    p.encoding = ZKA_ENCODING_CANONICAL;
    p.data = g;
    p.count = 1;
    zka_scalars sc = ZKA_SCALARS_INIT;
    sc.encoding = ZKA_ENCODING_CANONICAL;
    sc.data = &s[0][0];
    sc.count = 2;
    zka_point_out r = ZKA_POINT_OUT_INIT;
    r.limbs = out;
    r.capacity = 8;

    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_LENGTH_MISMATCH);
    sc.count = 1;
    /* Per-call options: full verification, a time limit, the first (shorter) version of
       the struct, an unknown verification level. */
    zka_msm_options mo = ZKA_MSM_OPTIONS_INIT;
    mo.verification = ZKA_VERIFY_FULL;
    mo.timeout_ms = 60000;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, &mo, &r, NULL), ZKA_OK);
    mo.verification = 9;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, &mo, &r, NULL), ZKA_ERR_UNKNOWN_ID);
    mo.struct_size = (uint32_t)offsetof(zka_msm_options, verification);
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, &mo, &r, NULL), ZKA_OK);
    mo.struct_size = 4;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, &mo, &r, NULL), ZKA_ERR_STRUCT_SIZE);
    EXPECT_STATUS(NULL, zka_msm(NULL, &p, &sc, NULL, &r, NULL), ZKA_ERR_NULL_POINTER);
    EXPECT_STATUS(rt, zka_msm(rt, NULL, &sc, NULL, &r, NULL), ZKA_ERR_NULL_POINTER);
    EXPECT_STATUS(rt, zka_msm(rt, &p, NULL, NULL, &r, NULL), ZKA_ERR_NULL_POINTER);
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, NULL, NULL), ZKA_ERR_NULL_POINTER);
    char msg[256];
    zka_last_error(rt, msg, sizeof msg, NULL);
    CHECK(strstr(msg, "result") != NULL, "message names the argument: %s", msg);

    p.data = NULL;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_NULL_POINTER);
    p.data = g;
    sc.data = NULL;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_NULL_POINTER);
    sc.data = &s[0][0];

    p.curve = 42;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_UNKNOWN_ID);
    p.curve = ZKA_CURVE_BLS12_377;
    p.group = ZKA_G2; /* no BLS12-377 G2 */
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_UNKNOWN_ID);
    p.curve = ZKA_CURVE_BN254;
    p.group = ZKA_G1;
    p.encoding = 9;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_UNKNOWN_ID);
    p.encoding = ZKA_ENCODING_CANONICAL;
    p.struct_size = 8;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_STRUCT_SIZE);
    p.struct_size = sizeof p;
    r.struct_size = 0;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_STRUCT_SIZE);
    r.struct_size = sizeof r;
    p.stride = 8; /* smaller than one point */
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_INVALID_ARGUMENT);
    p.stride = 0;
    p.infinity = ZKA_INFINITY_FLAG;
    p.flag_offset = 70; /* beyond the packed stride */
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_INVALID_ARGUMENT);
    p.infinity = ZKA_INFINITY_ZERO;

    /* Scalar equal to r: not reduced, index 0 named. */
    uint64_t big[4];
    memcpy(big, BN254_R, sizeof big);
    sc.data = big;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_NOT_REDUCED);
    zka_last_error(rt, msg, sizeof msg, NULL);
    CHECK(strstr(msg, "scalar 0") != NULL, "message names the scalar: %s", msg);
    sc.data = &s[0][0];

    /* Coordinate equal to q. */
    uint64_t badpt[8] = {0};
    memcpy(badpt, BN254_Q, 32);
    badpt[4] = 2;
    p.data = badpt;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_NOT_REDUCED);

    /* Off the curve, with validation on; accepted without. */
    uint64_t off[8] = {1, 0, 0, 0, 3, 0, 0, 0};
    p.data = off;
    zka_msm_options o = ZKA_MSM_OPTIONS_INIT;
    o.point_validation = ZKA_VALIDATE_ON_CURVE;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, &o, &r, NULL), ZKA_ERR_NOT_ON_CURVE);
    o.point_validation = 17;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, &o, &r, NULL), ZKA_ERR_UNKNOWN_ID);
    o.point_validation = ZKA_VALIDATE_REDUCED;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, &o, &r, NULL), ZKA_OK);

    /* BLS12-381 G1 point (0, 2): on the curve, outside the subgroup. */
    uint64_t sub[12] = {0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0};
    uint64_t out12[12];
    p.curve = ZKA_CURVE_BLS12_381;
    p.data = sub;
    o.point_validation = ZKA_VALIDATE_SUBGROUP;
    r.limbs = out12;
    r.capacity = 12;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, &o, &r, NULL), ZKA_ERR_NOT_IN_SUBGROUP);
    p.curve = ZKA_CURVE_BN254;
    p.data = g;

    /* Output buffer too small. */
    r.limbs = out;
    r.capacity = 7;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_BUFFER_TOO_SMALL);
    r.capacity = 8;
    r.form = 5;
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_UNKNOWN_ID);
    r.form = ZKA_FORM_AFFINE;

    /* Unaligned scalars. */
    uint64_t raw[9] = {0};
    sc.data = (const uint64_t *)((const char *)raw + 4);
    EXPECT_STATUS(rt, zka_msm(rt, &p, &sc, NULL, &r, NULL), ZKA_ERR_INVALID_ARGUMENT);

    /* The bases handle: fewer scalars fine, more is a length mismatch. */
    uint64_t two[16] = {1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0};
    p.data = two;
    p.count = 2;
    zka_msm_bases *h = NULL;
    EXPECT_STATUS(rt, zka_msm_bases_create(rt, &p, NULL, &h), ZKA_OK);
    size_t cnt = 0;
    EXPECT_STATUS(rt, zka_msm_bases_count(h, &cnt), ZKA_OK);
    CHECK(cnt == 2, "handle count %zu", cnt);
    uint64_t three[3][4] = {{1, 0, 0, 0}, {1, 0, 0, 0}, {1, 0, 0, 0}};
    sc.data = &three[0][0];
    sc.count = 3;
    EXPECT_STATUS(rt, zka_msm_bases_msm(h, &sc, &r, NULL), ZKA_ERR_LENGTH_MISMATCH);
    sc.count = 1;
    EXPECT_STATUS(rt, zka_msm_bases_msm(h, &sc, &r, NULL), ZKA_OK);
    CHECK(out[0] == 1 && out[4] == 2, "1·G from the handle");
    EXPECT_STATUS(rt, zka_msm_bases_msm(NULL, &sc, &r, NULL), ZKA_ERR_NULL_POINTER);
    zka_msm_bases_destroy(h);
    EXPECT_STATUS(rt, zka_msm_bases_create(rt, &p, NULL, NULL), ZKA_ERR_NULL_POINTER);
}

static void test_runtime_and_devices(void) {
    zka_runtime *rt = NULL;
    zka_runtime_options o = ZKA_RUNTIME_OPTIONS_INIT;
    o.policy = ZKA_POLICY_ONLY;
    o.device_kind = ZKA_DEVICE_CPU;
    o.cpu_threads = 2;
    EXPECT_STATUS(NULL, zka_runtime_create(&o, &rt), ZKA_OK);
    size_t n = 0;
    EXPECT_STATUS(rt, zka_device_count(rt, &n), ZKA_OK);
    CHECK(n >= 1, "at least the CPU");
    zka_device_info info = ZKA_DEVICE_INFO_INIT;
    EXPECT_STATUS(rt, zka_device_get_info(rt, 0, &info), ZKA_OK);
    CHECK(info.kind == ZKA_DEVICE_CPU && info.simulated == 0 && strlen(info.name) > 0, "cpu info");
    EXPECT_STATUS(rt, zka_device_get_info(rt, n, &info), ZKA_ERR_INVALID_ARGUMENT);
    info.struct_size = 3;
    EXPECT_STATUS(rt, zka_device_get_info(rt, 0, &info), ZKA_ERR_STRUCT_SIZE);
    uint32_t ok = 0;
    EXPECT_STATUS(rt, zka_device_supports_msm(rt, 0, ZKA_CURVE_BLS12_381, ZKA_G2, 1000, &ok), ZKA_OK);
    CHECK(ok == 1, "cpu supports BLS12-381 G2");
    EXPECT_STATUS(rt, zka_device_supports_ntt(rt, 0, ZKA_FIELD_GOLDILOCKS, 33, &ok), ZKA_OK);
    CHECK(ok == 0, "2^33 beyond Goldilocks two-adicity");
    EXPECT_STATUS(rt, zka_device_supports_ntt(rt, 0, 77, 3, &ok), ZKA_ERR_UNKNOWN_ID);

    /* last_error truncation */
    zka_msm(rt, NULL, NULL, NULL, NULL, NULL);
    char tiny[4];
    size_t need = 0;
    EXPECT_STATUS(rt, zka_last_error(rt, tiny, sizeof tiny, &need), ZKA_ERR_BUFFER_TOO_SMALL);
    CHECK(need > sizeof tiny && tiny[3] == 0, "truncated and terminated");

    zka_stats st = ZKA_STATS_INIT;
    EXPECT_STATUS(rt, zka_runtime_stats(rt, &st), ZKA_OK);
    CHECK(st.failed_calls == 0 && st.hash_calls == 0 && st.timeouts == 0, "fresh counters");
    /* A caller compiled against the first, shorter zka_stats (through failed_calls) still
       gets its fields, and nothing past its struct_size is written. */
    zka_stats v1;
    memset(&v1, 0xAB, sizeof v1);
    v1.struct_size = (uint32_t)offsetof(zka_stats, hash_calls);
    EXPECT_STATUS(rt, zka_runtime_stats(rt, &v1), ZKA_OK);
    CHECK(v1.reserved == 0 && v1.failed_calls == 0, "first-version fields written");
    CHECK(v1.hash_calls == 0xABABABABABABABABull && v1.split_msm_calls == 0xABABABABABABABABull,
          "fields beyond struct_size untouched");
    v1.struct_size = (uint32_t)offsetof(zka_stats, hash_calls) - 1;
    EXPECT_STATUS(rt, zka_runtime_stats(rt, &v1), ZKA_ERR_STRUCT_SIZE);
    EXPECT_STATUS(NULL, zka_runtime_destroy(rt), ZKA_OK);

    o.policy = 9;
    EXPECT_STATUS(NULL, zka_runtime_create(&o, &rt), ZKA_ERR_UNKNOWN_ID);
    CHECK(rt == NULL, "no runtime on failure");
    o.policy = ZKA_POLICY_ONLY;
    o.device_kind = 77;
    EXPECT_STATUS(NULL, zka_runtime_create(&o, &rt), ZKA_ERR_UNKNOWN_ID);
    o.device_kind = ZKA_DEVICE_CPU;
    o.struct_size = 2;
    EXPECT_STATUS(NULL, zka_runtime_create(&o, &rt), ZKA_ERR_STRUCT_SIZE);
    EXPECT_STATUS(NULL, zka_runtime_create(NULL, NULL), ZKA_ERR_NULL_POINTER);
    EXPECT_STATUS(NULL, zka_device_count(NULL, &n), ZKA_ERR_NULL_POINTER);
    EXPECT_STATUS(NULL, zka_last_error(NULL, tiny, sizeof tiny, NULL), ZKA_ERR_NULL_POINTER);
    CHECK(zka_runtime_destroy(NULL) == ZKA_OK && zka_msm_bases_destroy(NULL) == ZKA_OK &&
              zka_ntt_domain_destroy(NULL) == ZKA_OK,
          "destroy accepts NULL");

    /* A handle outlives its runtime. */
    EXPECT_STATUS(NULL, zka_runtime_create(NULL, &rt), ZKA_OK);
    zka_ntt_domain *d = NULL;
    EXPECT_STATUS(rt, zka_ntt_domain_create(rt, ZKA_FIELD_GOLDILOCKS, 2, NULL, 0, &d), ZKA_OK);
    zka_runtime_destroy(rt);
    uint64_t v[4] = {1, 2, 3, 4};
    zka_ntt_config c = ZKA_NTT_CONFIG_INIT;
    CHECK(zka_ntt(d, &c, v, 4, NULL) == ZKA_OK, "domain works after its runtime is destroyed");
    zka_ntt_domain_destroy(d);
}

static void test_conversions(zka_runtime *rt) {
    uint64_t x[2][4] = {{7, 0, 0, 0}, {0, 0, 0, 1}};
    uint64_t orig[2][4];
    memcpy(orig, x, sizeof x);
    EXPECT_STATUS(rt, zka_to_montgomery(rt, ZKA_FIELD_BN254_FR, x, 2), ZKA_OK);
    CHECK(memcmp(x, orig, sizeof x) != 0, "Montgomery form differs");
    EXPECT_STATUS(rt, zka_from_montgomery(rt, ZKA_FIELD_BN254_FR, x, 2), ZKA_OK);
    CHECK(memcmp(x, orig, sizeof x) == 0, "round trip");
    uint64_t q6[6] = {0, 0, 0, 0, 0, 0xffffffffffffffffULL};
    EXPECT_STATUS(rt, zka_to_montgomery(rt, ZKA_FIELD_BLS12_381_FQ, q6, 1), ZKA_ERR_NOT_REDUCED);
    EXPECT_STATUS(rt, zka_to_montgomery(rt, 0, x, 1), ZKA_ERR_UNKNOWN_ID);
    EXPECT_STATUS(rt, zka_to_montgomery(rt, ZKA_FIELD_GOLDILOCKS, NULL, 1), ZKA_ERR_NULL_POINTER);
    uint32_t bb[2] = {1, 2};
    EXPECT_STATUS(rt, zka_to_montgomery(rt, ZKA_FIELD_BABYBEAR, bb, 2), ZKA_OK);
    EXPECT_STATUS(rt, zka_from_montgomery(rt, ZKA_FIELD_BABYBEAR, bb, 2), ZKA_OK);
    CHECK(bb[0] == 1 && bb[1] == 2, "BabyBear round trip");
}

static void test_hashing(zka_runtime *rt) {
    uint32_t circom3 = 0, horizen = 0, bb16 = 0;
    EXPECT_STATUS(rt, zka_hash_find("poseidon-circom-bn254-t3", &circom3), ZKA_OK);
    EXPECT_STATUS(rt, zka_hash_find("poseidon2_horizen_bn254_3", &horizen), ZKA_OK);
    EXPECT_STATUS(rt, zka_hash_find("poseidon2-plonky3-babybear-t16", &bb16), ZKA_OK);
    EXPECT_STATUS(rt, zka_hash_find("poseidon9-nobody", &bb16), ZKA_ERR_UNKNOWN_ID);
    EXPECT_STATUS(rt, zka_hash_find(NULL, &bb16), ZKA_ERR_NULL_POINTER);
    EXPECT_STATUS(rt, zka_hash_find("poseidon2-plonky3-babybear-t16", &bb16), ZKA_OK);
    zka_hash_info hi = ZKA_HASH_INFO_INIT;
    EXPECT_STATUS(rt, zka_hash_get_info(bb16, &hi), ZKA_OK);
    CHECK(hi.width == 16 && hi.digest == 8 && hi.rate == 8 && hi.field == ZKA_FIELD_BABYBEAR &&
              hi.family == ZKA_HASH_FAMILY_POSEIDON2_PLONKY3 && hi.merkle_arities == (1u << 2) &&
              strcmp(hi.name, "poseidon2-plonky3-babybear-t16") == 0,
          "BabyBear t16 info");
    EXPECT_STATUS(rt, zka_hash_get_info(12345, &hi), ZKA_ERR_UNKNOWN_ID);

    /* circomlib poseidon([1, 2]), canonical in and out. */
    uint64_t in[2][4] = {{1, 0, 0, 0}, {2, 0, 0, 0}}, out[4] = {0};
    EXPECT_STATUS(rt, zka_hash(rt, circom3, ZKA_HASH_MESSAGES, 2, ZKA_ENCODING_CANONICAL, in, 2, out, 1, NULL), ZKA_OK);
    char hex[80];
    snprintf(hex, sizeof hex, "%016llx%016llx%016llx%016llx", (unsigned long long)out[3],
             (unsigned long long)out[2], (unsigned long long)out[1], (unsigned long long)out[0]);
    CHECK(strcmp(hex, CIRCOM_1_2_HEX) == 0, "circomlib poseidon([1,2]) = %s", hex);
    /* Three elements (the input must really hold the count it claims: AddressSanitizer caught
     * this call reading a third element past `in`). */
    uint64_t in3[3][4] = {{1, 0, 0, 0}, {2, 0, 0, 0}, {3, 0, 0, 0}};
    EXPECT_STATUS(rt, zka_hash(rt, circom3, ZKA_HASH_MESSAGES, 3, ZKA_ENCODING_CANONICAL, in3, 3, out, 1, NULL), ZKA_ERR_LENGTH_MISMATCH);
    EXPECT_STATUS(rt, zka_hash(rt, circom3, ZKA_HASH_MESSAGES, 2, ZKA_ENCODING_CANONICAL, in, 2, out, 2, NULL), ZKA_ERR_LENGTH_MISMATCH);
    EXPECT_STATUS(rt, zka_hash(rt, circom3, 9, 2, ZKA_ENCODING_CANONICAL, in, 2, out, 1, NULL), ZKA_ERR_UNKNOWN_ID);
    EXPECT_STATUS(rt, zka_hash(rt, 999, ZKA_HASH_MESSAGES, 2, ZKA_ENCODING_CANONICAL, in, 2, out, 1, NULL), ZKA_ERR_UNKNOWN_ID);
    EXPECT_STATUS(rt, zka_hash(rt, circom3, ZKA_HASH_MESSAGES, 2, ZKA_ENCODING_CANONICAL, NULL, 2, out, 1, NULL), ZKA_ERR_NULL_POINTER);
    uint64_t big[2][4] = {{0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL}, {1, 0, 0, 0}};
    EXPECT_STATUS(rt, zka_hash(rt, circom3, ZKA_HASH_MESSAGES, 2, ZKA_ENCODING_CANONICAL, big, 2, out, 1, NULL), ZKA_ERR_NOT_REDUCED);

    /* HorizenLabs Poseidon2 BN254 t=3 permutation of [0, 1, 2]: first word 0x0bb61d24…. */
    uint64_t st[3][4] = {{0, 0, 0, 0}, {1, 0, 0, 0}, {2, 0, 0, 0}};
    EXPECT_STATUS(rt, zka_hash(rt, horizen, ZKA_HASH_PERMUTE, 0, ZKA_ENCODING_CANONICAL, NULL, 0, st, 3, NULL), ZKA_OK);
    snprintf(hex, sizeof hex, "%016llx%016llx%016llx%016llx", (unsigned long long)st[0][3],
             (unsigned long long)st[0][2], (unsigned long long)st[0][1], (unsigned long long)st[0][0]);
    CHECK(strcmp(hex, "0bb61d24daca55eebcb1929a82650f328134334da98ea4f847f760054f4a3033") == 0,
          "HorizenLabs Poseidon2 BN254 t3 known answer: %s", hex);

    /* Merkle tree over 4 BabyBear digests: the root from all layers equals the root alone,
     * a path verifies, a tampered one does not. */
    uint32_t leaves[4 * 8], layers[(2 + 1) * 8], root[8];
    for (int i = 0; i < 32; i++) leaves[i] = (uint32_t)(i * 7 + 1);
    EXPECT_STATUS(rt, zka_merkle_tree(rt, bb16, 2, ZKA_ENCODING_CANONICAL, leaves, 32, layers, 24), ZKA_OK);
    EXPECT_STATUS(rt, zka_merkle_tree(rt, bb16, 2, ZKA_ENCODING_CANONICAL, leaves, 32, root, 8), ZKA_OK);
    CHECK(memcmp(root, layers + 16, sizeof root) == 0, "root equals the last layer");
    uint32_t sib[16], valid = 7;
    memcpy(sib, leaves + 8, 8 * sizeof(uint32_t));      /* sibling of leaf 0 */
    memcpy(sib + 8, layers + 8, 8 * sizeof(uint32_t));  /* sibling of node 0 at level 1 */
    EXPECT_STATUS(rt, zka_merkle_verify(rt, bb16, 2, ZKA_ENCODING_CANONICAL, leaves, 0, sib, 16, root, &valid), ZKA_OK);
    CHECK(valid == 1, "path verifies");
    sib[3] ^= 1;
    EXPECT_STATUS(rt, zka_merkle_verify(rt, bb16, 2, ZKA_ENCODING_CANONICAL, leaves, 0, sib, 16, root, &valid), ZKA_OK);
    CHECK(valid == 0, "tampered path rejected");
    EXPECT_STATUS(rt, zka_merkle_tree(rt, bb16, 4, ZKA_ENCODING_CANONICAL, leaves, 32, root, 8), ZKA_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(rt, zka_merkle_tree(rt, bb16, 2, ZKA_ENCODING_CANONICAL, leaves, 24, root, 8), ZKA_ERR_LENGTH_MISMATCH);
    EXPECT_STATUS(rt, zka_merkle_tree(rt, bb16, 2, ZKA_ENCODING_CANONICAL, leaves, 0, root, 8), ZKA_ERR_LENGTH_MISMATCH);
    EXPECT_STATUS(rt, zka_merkle_tree(rt, bb16, 2, ZKA_ENCODING_CANONICAL, leaves, 32, root, 5), ZKA_ERR_LENGTH_MISMATCH);
    leaves[9] = 2013265921u;
    EXPECT_STATUS(rt, zka_merkle_tree(rt, bb16, 2, ZKA_ENCODING_CANONICAL, leaves, 32, root, 8), ZKA_ERR_NOT_REDUCED);
}

struct worker { zka_runtime *rt; int ok; };

static void *worker_main(void *arg) {
    struct worker *w = (struct worker *)arg;
    w->ok = 1;
    for (int i = 0; i < 10; i++) {
        uint64_t xy[8];
        if (bn254_mul_g(w->rt, 1, xy) != ZKA_OK || xy[0] != 1 || xy[4] != 2) w->ok = 0;
        zka_ntt_domain *d = NULL;
        if (zka_ntt_domain_create(w->rt, ZKA_FIELD_GOLDILOCKS, 4, NULL, 0, &d) != ZKA_OK) { w->ok = 0; continue; }
        uint64_t v[16], o[16];
        for (int k = 0; k < 16; k++) v[k] = o[k] = (uint64_t)(k * k + i);
        zka_ntt_config c = ZKA_NTT_CONFIG_INIT;
        c.encoding = ZKA_ENCODING_CANONICAL;
        if (zka_ntt(d, &c, v, 16, NULL) != ZKA_OK) w->ok = 0;
        c.direction = ZKA_NTT_INVERSE;
        if (zka_ntt(d, &c, v, 16, NULL) != ZKA_OK || memcmp(v, o, sizeof v) != 0) w->ok = 0;
        zka_ntt_domain_destroy(d);
    }
    return NULL;
}

static void test_threads(zka_runtime *rt) {
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i].rt = rt;
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].ok, "thread %d got the right answers", i);
    }
    zka_stats st = ZKA_STATS_INIT;
    EXPECT_STATUS(rt, zka_runtime_stats(rt, &st), ZKA_OK);
    CHECK(st.msm_calls >= 40 && st.ntt_calls >= 80, "stats counted %llu MSMs, %llu NTTs",
          (unsigned long long)st.msm_calls, (unsigned long long)st.ntt_calls);
}

/* The same checks through an OpenCL device only (PoCL in CI). Without one the tests are
 * skipped loudly, unless ZKACCEL_REQUIRE names opencl. */
static void test_opencl(const char *agreement) {
    zka_runtime_options o = ZKA_RUNTIME_OPTIONS_INIT;
    o.policy = ZKA_POLICY_ONLY;
    o.device_kind = ZKA_DEVICE_OPENCL;
    zka_runtime *rt = NULL;
    EXPECT_STATUS(NULL, zka_runtime_create(&o, &rt), ZKA_OK);
    if (!rt) return;
    size_t n = 0, found = 0;
    EXPECT_STATUS(rt, zka_device_count(rt, &n), ZKA_OK);
    for (size_t i = 0; i < n; i++) {
        zka_device_info info = ZKA_DEVICE_INFO_INIT;
        EXPECT_STATUS(rt, zka_device_get_info(rt, i, &info), ZKA_OK);
        if (info.kind != ZKA_DEVICE_OPENCL) continue;
        found++;
        CHECK(info.resident_bases == 1 && strlen(info.name) > 0, "opencl device info");
    }
    const char *req = getenv("ZKACCEL_REQUIRE");
    int required = req && (strstr(req, "opencl") || strstr(req, "all"));
    if (found == 0) {
        CHECK(!required, "ZKACCEL_REQUIRE names opencl but the runtime found no OpenCL device");
        if (!required) fprintf(stderr, "SKIPPED: no OpenCL device for the C ABI tests\n");
    } else {
        test_known_answer(rt, ZKA_DEVICE_OPENCL);
        if (agreement) test_agreement(rt, agreement);
        test_ntt(rt);
        test_hashing(rt);
    }
    zka_runtime_destroy(rt);
}

int main(int argc, char **argv) {
    test_versions();
    zka_runtime *rt = NULL;
    EXPECT_STATUS(NULL, zka_runtime_create(NULL, &rt), ZKA_OK);
    if (!rt) return 1;
    test_known_answer(rt, ZKA_DEVICE_CPU);
    if (argc > 1) test_agreement(rt, argv[1]);
    test_msm_errors(rt);
    test_ntt(rt);
    test_conversions(rt);
    test_hashing(rt);
    test_threads(rt);
    test_runtime_and_devices();
    test_opencl(argc > 1 ? argv[1] : NULL);
    zka_runtime_destroy(rt);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
