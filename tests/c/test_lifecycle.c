/*
 * Create/destroy loops for every handle type of libzkaccel (runtime, MSM bases, NTT
 * domain), in both destroy orders, with calls in between and failing creates on hostile
 * input, so that a leak on any path repeats and shows up. ffi/tests/memory.rs runs it plainly,
 * under AddressSanitizer + UBSan, and (ZKACCEL_VALGRIND=1, as in CI) under valgrind with
 * --leak-check=full --errors-for-leak-kinds=definite.
 *
 * Usage: test_lifecycle [rounds]   (default 20)
 */
#include "zkaccel.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The BN254 G1 generator (1, 2), then (5, 0), which is not on y^2 = x^3 + 3; canonical. */
static const uint64_t POINTS[16] = {1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0};

static zka_runtime *make_runtime(uint32_t threads) {
    zka_runtime_options o = ZKA_RUNTIME_OPTIONS_INIT;
    o.policy = ZKA_POLICY_ONLY;
    o.device_kind = ZKA_DEVICE_CPU;
    o.cpu_threads = threads;
    zka_runtime *rt = NULL;
    int32_t s = zka_runtime_create(&o, &rt);
    CHECK(s == ZKA_OK && rt != NULL, "zka_runtime_create: %d", s);
    return rt;
}

static void one_msm(zka_msm_bases *bases) {
    uint64_t k[4] = {5, 0, 0, 0};
    zka_scalars sc = ZKA_SCALARS_INIT;
    sc.encoding = ZKA_ENCODING_CANONICAL;
    sc.data = k;
    sc.count = 1;
    uint64_t out[8];
    zka_point_out r = ZKA_POINT_OUT_INIT;
    r.limbs = out;
    r.capacity = 8;
    int32_t s = zka_msm_bases_msm(bases, &sc, &r, NULL);
    CHECK(s == ZKA_OK && r.written == 8 && out[0] != 0, "zka_msm_bases_msm: %d", s);
}

static void one_ntt(zka_ntt_domain *d) {
    uint64_t data[16];
    for (int i = 0; i < 16; i++) data[i] = (uint64_t)i * 7 + 1;
    zka_ntt_config c = ZKA_NTT_CONFIG_INIT;
    c.encoding = ZKA_ENCODING_CANONICAL;
    int32_t s = zka_ntt(d, &c, data, 16, NULL);
    CHECK(s == ZKA_OK, "zka_ntt: %d", s);
    c.direction = ZKA_NTT_INVERSE;
    s = zka_ntt(d, &c, data, 16, NULL);
    CHECK(s == ZKA_OK && data[3] == 22, "inverse zka_ntt: %d", s);
}

/* Failing calls leave messages (heap strings) behind; each must be freed on replacement. */
static void failing_calls(zka_runtime *rt) {
    zka_points p = ZKA_POINTS_INIT;
    p.encoding = ZKA_ENCODING_CANONICAL;
    p.data = POINTS + 8; /* (5, 0): not on the curve */
    p.count = 1;
    zka_msm_options mo = ZKA_MSM_OPTIONS_INIT;
    mo.point_validation = ZKA_VALIDATE_ON_CURVE;
    zka_msm_bases *b = (zka_msm_bases *)&p; /* must be overwritten with NULL */
    int32_t s = zka_msm_bases_create(rt, &p, &mo, &b);
    CHECK(s == ZKA_ERR_NOT_ON_CURVE && b == NULL, "bases off the curve: %d", s);
    zka_ntt_domain *d = (zka_ntt_domain *)&p;
    s = zka_ntt_domain_create(rt, ZKA_FIELD_GOLDILOCKS, 40, NULL, 0, &d);
    CHECK(s == ZKA_ERR_NTT_SIZE && d == NULL, "domain too large: %d", s);
    uint64_t bad[2] = {1, ~0ULL};
    s = zka_to_montgomery(rt, ZKA_FIELD_GOLDILOCKS, bad, 2);
    CHECK(s == ZKA_ERR_NOT_REDUCED, "to_montgomery: %d", s);
    uint32_t inst = 0;
    s = zka_hash_find("no-such-hash", &inst);
    CHECK(s == ZKA_ERR_UNKNOWN_ID, "hash_find: %d", s);
    char msg[8];
    size_t needed = 0;
    s = zka_last_error(rt, msg, sizeof msg, &needed);
    CHECK(s == ZKA_ERR_BUFFER_TOO_SMALL && needed > sizeof msg && msg[7] == 0,
          "truncated last error: %d", s);
    zka_runtime_options o = ZKA_RUNTIME_OPTIONS_INIT;
    o.policy = 77;
    zka_runtime *r2 = (zka_runtime *)&o;
    s = zka_runtime_create(&o, &r2);
    CHECK(s == ZKA_ERR_UNKNOWN_ID && r2 == NULL, "bad policy: %d", s);
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    CHECK(ZKA_CHECK_ABI() == ZKA_OK, "ABI");
    for (int i = 0; i < rounds; i++) {
        /* Runtime alone, with its own thread pool or the shared one. */
        zka_runtime *rt = make_runtime((uint32_t)(i % 3));
        if (!rt) break;
        /* A bases handle and a domain, destroyed before their runtime... */
        zka_points p = ZKA_POINTS_INIT;
        p.encoding = ZKA_ENCODING_CANONICAL;
        p.data = POINTS;
        p.count = 1;
        zka_msm_bases *bases = NULL;
        int32_t s = zka_msm_bases_create(rt, &p, NULL, &bases);
        CHECK(s == ZKA_OK && bases != NULL, "zka_msm_bases_create: %d", s);
        if (bases) one_msm(bases);
        zka_ntt_domain *d = NULL;
        s = zka_ntt_domain_create(rt, i % 2 ? ZKA_FIELD_GOLDILOCKS : ZKA_FIELD_BABYBEAR, 4, NULL,
                                  0, &d);
        CHECK(s == ZKA_OK && d != NULL, "zka_ntt_domain_create: %d", s);
        if (d && i % 2) one_ntt(d);
        zka_msm_bases_destroy(bases);
        zka_ntt_domain_destroy(d);
        failing_calls(rt);

        /* ...and handles that outlive it (a handle keeps its runtime alive). */
        zka_msm_bases *late_bases = NULL;
        zka_ntt_domain *late_domain = NULL;
        s = zka_msm_bases_create(rt, &p, NULL, &late_bases);
        CHECK(s == ZKA_OK, "late bases: %d", s);
        s = zka_ntt_domain_create(rt, ZKA_FIELD_GOLDILOCKS, 4, NULL, 0, &late_domain);
        CHECK(s == ZKA_OK, "late domain: %d", s);
        CHECK(zka_runtime_destroy(rt) == ZKA_OK, "runtime destroy");
        if (late_bases) one_msm(late_bases);
        if (late_domain) one_ntt(late_domain);
        CHECK(zka_ntt_domain_destroy(late_domain) == ZKA_OK, "domain destroy");
        CHECK(zka_msm_bases_destroy(late_bases) == ZKA_OK, "bases destroy");

        /* Destroy accepts NULL. */
        CHECK(zka_runtime_destroy(NULL) == ZKA_OK && zka_msm_bases_destroy(NULL) == ZKA_OK &&
                  zka_ntt_domain_destroy(NULL) == ZKA_OK,
              "destroy(NULL)");
    }
    printf("lifecycle: %d rounds, %d passed, %d failed\n", rounds, passed, failed);
    return failed == 0 ? 0 : 1;
}
