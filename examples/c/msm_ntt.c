/*
 * A C prover's first steps with libzkaccel: one MSM and one NTT.
 * Build: cc -std=c99 msm_ntt.c $(pkg-config --cflags --libs zkaccel) -o msm_ntt
 */
#include <stdio.h>
#include <string.h>
#include <zkaccel.h>

static void die(zka_runtime *rt, const char *what, int32_t status) {
    char msg[256] = "";
    if (rt) zka_last_error(rt, msg, sizeof msg, NULL);
    fprintf(stderr, "%s failed: %s (%s)\n", what, zka_status_str(status), msg);
}

int main(void) {
    if (ZKA_CHECK_ABI() != ZKA_OK) {
        fprintf(stderr, "zkaccel.h and libzkaccel disagree on the ABI version\n");
        return 1;
    }
    zka_runtime *rt = NULL;
    int32_t st = zka_runtime_create(NULL, &rt);
    if (st != ZKA_OK) { die(NULL, "zka_runtime_create", st); return 1; }

    /* MSM over BN254 G1: 5·G + 7·G with G = (1, 2), points and scalars canonical. */
    uint64_t points[2][8] = {{1, 0, 0, 0, 2, 0, 0, 0}, {1, 0, 0, 0, 2, 0, 0, 0}};
    uint64_t scalars[2][4] = {{5, 0, 0, 0}, {7, 0, 0, 0}};
    zka_points p = ZKA_POINTS_INIT;          /* BN254 G1, packed, (0,0) = infinity */
    p.encoding = ZKA_ENCODING_CANONICAL;
    p.data = points;
    p.count = 2;
    zka_scalars s = ZKA_SCALARS_INIT;
    s.encoding = ZKA_ENCODING_CANONICAL;
    s.data = &scalars[0][0];
    s.count = 2;
    uint64_t xy[8];
    zka_point_out r = ZKA_POINT_OUT_INIT;    /* affine, canonical */
    r.limbs = xy;
    r.capacity = 8;
    zka_call_report rep = ZKA_CALL_REPORT_INIT;
    st = zka_msm(rt, &p, &s, NULL, &r, &rep);
    if (st != ZKA_OK) { die(rt, "zka_msm", st); zka_runtime_destroy(rt); return 1; }
    printf("msm: 12*G = (0x%016llx%016llx%016llx%016llx, ...) on device %u\n",
           (unsigned long long)xy[3], (unsigned long long)xy[2], (unsigned long long)xy[1],
           (unsigned long long)xy[0], rep.device_index);

    /* NTT over Goldilocks, size 8, canonical values, forward then inverse. */
    zka_ntt_domain *d = NULL;
    st = zka_ntt_domain_create(rt, ZKA_FIELD_GOLDILOCKS, 3, NULL, 0, &d);
    if (st != ZKA_OK) { die(rt, "zka_ntt_domain_create", st); zka_runtime_destroy(rt); return 1; }
    uint64_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8}, orig[8];
    memcpy(orig, v, sizeof v);
    zka_ntt_config c = ZKA_NTT_CONFIG_INIT;
    c.encoding = ZKA_ENCODING_CANONICAL;
    st = zka_ntt(d, &c, v, 8, NULL);
    if (st == ZKA_OK) printf("ntt: evaluation at 1 = %llu (the sum 36)\n", (unsigned long long)v[0]);
    c.direction = ZKA_NTT_INVERSE;
    if (st == ZKA_OK) st = zka_ntt(d, &c, v, 8, NULL);
    if (st != ZKA_OK) die(rt, "zka_ntt", st);
    else printf("ntt: inverse restores the input: %s\n", memcmp(v, orig, sizeof v) == 0 ? "yes" : "no");

    zka_ntt_domain_destroy(d);
    zka_runtime_destroy(rt);
    return st == ZKA_OK ? 0 : 1;
}
