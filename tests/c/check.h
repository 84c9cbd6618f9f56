/*
 * The counting CHECK macro shared by the C ABI tests (test_api.c, test_lifecycle.c): a
 * failed check prints where and why and is counted; each test's main reports the counts.
 */
#ifndef ZKACCEL_TEST_CHECK_H
#define ZKACCEL_TEST_CHECK_H

#include <stdio.h>

static int passed = 0, failed = 0;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

#endif
