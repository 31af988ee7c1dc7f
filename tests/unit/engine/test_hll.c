/*
 * test_hll.c -- unit tests for engine/hll.c: Redis-compatible hashing (vectors
 * taken from Redis 7.0.15's PFDEBUG DECODE), validation, the sparse and dense
 * paths and the promotion between them (registers checked against a naive
 * model after every step), merging, the estimator's accuracy (standard error
 * 1.04/sqrt(16384) = 0.81%), and corrupted inputs that must be refused
 * without a crash (run this under the Sanitize build).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/err.h"
#include "engine/hll.h"
#include "engine/util.h"

#define SPARSE_MAX 3000

static void new_empty(struct hll *h)
{
    unsigned char v[HLL_SPARSE_EMPTY_SIZE];

    hll_init_empty(v);
    assert_int_equal(hll_load(h, v, sizeof(v)), 0);
}

/* Registers of any valid value, one byte each. */
static void regs_of(const struct hll *h, uint8_t *regs)
{
    memset(regs, 0, HLL_REGISTERS);
    assert_int_equal(hll_merge_regs(regs, h->p, h->len), 0);
}

static int elem(char *buf, const char *prefix, unsigned long i)
{
    return snprintf(buf, 64, "%s%lu", prefix, i);
}

/* ------------------------------------------------------------------------ */
/* Hashing and header                                                       */
/* ------------------------------------------------------------------------ */

static void test_pattern_matches_redis_vectors(void **state)
{
    unsigned idx;

    (void)state;
    /* PFADD k <e>; PFDEBUG DECODE k on Redis 7.0.15 */
    assert_int_equal(hll_pattern("hello", 5, &idx), 1);
    assert_int_equal(idx, 9216);
    assert_int_equal(hll_pattern("", 0, &idx), 2);
    assert_int_equal(idx, 5938);
    assert_int_equal(hll_pattern("foobar12", 8, &idx), 2);
    assert_int_equal(idx, 15489);
}

static void test_empty_value_is_redis_bytes(void **state)
{
    unsigned char v[HLL_SPARSE_EMPTY_SIZE];
    static const unsigned char want[HLL_SPARSE_EMPTY_SIZE] = { 'H', 'Y', 'L', 'L', 1, 0, 0, 0, 0, 0,
                                                               0,   0,   0,   0,   0, 0, 0x7f, 0xff };
    uint64_t card = 99;

    (void)state;
    hll_init_empty(v);
    assert_memory_equal(v, want, sizeof(want));
    assert_int_equal(hll_check(v, sizeof(v)), 0);
    assert_int_equal(hll_encoding_of(v), HLL_ENC_SPARSE);
    assert_int_equal(hll_cache_get(v, &card), 1);
    assert_int_equal(card, 0);
    assert_int_equal(hll_count(v, sizeof(v), &card), 0);
    assert_int_equal(card, 0);
}

static void test_check_rejects_non_hll_strings(void **state)
{
    unsigned char v[HLL_DENSE_SIZE];

    (void)state;
    hll_init_empty(v);
    assert_int_equal(hll_check("hello", 5), ST_EWRONGTYPE);
    assert_int_equal(hll_check(v, 15), ST_EWRONGTYPE);   /* shorter than the header */
    assert_int_equal(hll_check(v, 16), 0);               /* header only: sparse, walks find it corrupt */
    v[0] = 'h';
    assert_int_equal(hll_check(v, 18), ST_EWRONGTYPE);   /* magic */
    v[0] = 'H';
    v[4] = 2;
    assert_int_equal(hll_check(v, 18), ST_EWRONGTYPE);   /* encoding */
    v[4] = HLL_ENC_DENSE;
    assert_int_equal(hll_check(v, 18), ST_EWRONGTYPE);   /* dense of the wrong size */
    assert_int_equal(hll_check(v, HLL_DENSE_SIZE - 1), ST_EWRONGTYPE);
    memset(v + HLL_HDR_SIZE, 0, HLL_DENSE_SIZE - HLL_HDR_SIZE);
    assert_int_equal(hll_check(v, HLL_DENSE_SIZE), 0);
}

static void test_cache_roundtrip_and_invalidate_keeps_low_bytes(void **state)
{
    unsigned char v[HLL_SPARSE_EMPTY_SIZE];
    uint64_t card;

    (void)state;
    hll_init_empty(v);
    hll_cache_set(v, 0x0102030405060708ull);
    assert_int_equal(hll_cache_get(v, &card), 1);
    assert_int_equal(card, 0x0102030405060708ull);
    hll_cache_invalidate(v);
    assert_int_equal(hll_cache_get(v, &card), 0);
    assert_int_equal(v[8], 0x08); /* Redis only sets the top bit of byte 15 */
    assert_int_equal(v[15], 0x81);
}

/* ------------------------------------------------------------------------ */
/* Sparse, dense and promotion                                              */
/* ------------------------------------------------------------------------ */

static void test_sparse_adds_match_model_and_redis_counts(void **state)
{
    struct hll h;
    uint8_t model[HLL_REGISTERS] = { 0 }, regs[HLL_REGISTERS];
    char buf[64];
    uint64_t card;

    (void)state;
    new_empty(&h);
    for (unsigned long i = 1; i <= 1000; i++) {
        int n = elem(buf, "e", i), rc;
        unsigned idx, cnt = hll_pattern(buf, (size_t)n, &idx);
        int grows = cnt > model[idx];

        rc = hll_add(&h, buf, (size_t)n, SPARSE_MAX);
        assert_int_equal(rc, grows);
        if (grows)
            model[idx] = (uint8_t)cnt;
        if (i % 25 == 0) {
            regs_of(&h, regs);
            assert_memory_equal(regs, model, HLL_REGISTERS);
        }
    }
    /* Redis 7.0.15: PFADD hh e1 .. e1000 -> sparse, PFCOUNT 1008 */
    assert_int_equal(hll_encoding_of(h.p), HLL_ENC_SPARSE);
    assert_true(h.len <= SPARSE_MAX);
    assert_int_equal(hll_count(h.p, h.len, &card), 0);
    assert_int_equal(card, 1008);
    hll_release(&h);
}

static void test_promotion_past_sparse_max_keeps_registers(void **state)
{
    struct hll h;
    uint8_t model[HLL_REGISTERS] = { 0 }, regs[HLL_REGISTERS];
    char buf[64];
    uint64_t card;
    unsigned long promoted_at = 0;

    (void)state;
    new_empty(&h);
    for (unsigned long i = 1; i <= 5000; i++) {
        int n = elem(buf, "e", i);
        unsigned idx, cnt = hll_pattern(buf, (size_t)n, &idx);

        if (cnt > model[idx])
            model[idx] = (uint8_t)cnt;
        assert_true(hll_add(&h, buf, (size_t)n, SPARSE_MAX) >= 0);
        if (!promoted_at && hll_encoding_of(h.p) == HLL_ENC_DENSE) {
            promoted_at = i;
            assert_int_equal(h.len, HLL_DENSE_SIZE);
            regs_of(&h, regs);
            assert_memory_equal(regs, model, HLL_REGISTERS);
        }
        if (!promoted_at)
            assert_true(h.len <= SPARSE_MAX);
    }
    assert_true(promoted_at > 1000);
    regs_of(&h, regs);
    assert_memory_equal(regs, model, HLL_REGISTERS);
    /* Redis 7.0.15: PFADD hd e1 .. e5000 -> dense, PFCOUNT 4968 */
    assert_int_equal(hll_count(h.p, h.len, &card), 0);
    assert_int_equal(card, 4968);
    hll_release(&h);
}

static void test_small_sparse_max_promotes_at_first_growth(void **state)
{
    struct hll h;

    (void)state;
    new_empty(&h);
    assert_int_equal(hll_add(&h, "hello", 5, 18), 1);
    assert_int_equal(hll_encoding_of(h.p), HLL_ENC_DENSE);
    assert_int_equal(hll_dense_get(h.p, 9216), 1);
    hll_release(&h);
}

static void test_register_above_32_forces_dense(void **state)
{
    struct hll h;

    (void)state;
    new_empty(&h);
    assert_int_equal(hll_set(&h, 77, 32, SPARSE_MAX), 1);
    assert_int_equal(hll_encoding_of(h.p), HLL_ENC_SPARSE);
    assert_int_equal(hll_set(&h, 78, 33, SPARSE_MAX), 1);
    assert_int_equal(hll_encoding_of(h.p), HLL_ENC_DENSE);
    assert_int_equal(hll_dense_get(h.p, 77), 32);
    assert_int_equal(hll_dense_get(h.p, 78), 33);
    assert_int_equal(hll_set(&h, 78, 51, SPARSE_MAX), 1);
    assert_int_equal(hll_set(&h, 78, 40, SPARSE_MAX), 0);
    assert_int_equal(hll_dense_get(h.p, 78), 51);
    hll_release(&h);
}

static void test_sparse_opcodes_split_and_merge_like_redis(void **state)
{
    struct hll h;
    char out[256];

    (void)state;
    new_empty(&h);
    /* XZERO split in the middle: Z / v / Z */
    assert_int_equal(hll_set(&h, 100, 3, SPARSE_MAX), 1);
    assert_true(hll_decode_sparse(h.p, h.len, out, sizeof(out)) > 0);
    assert_string_equal(out, "Z:100 v:3,1 Z:16283");
    /* the neighbour with the same value merges into one VAL run */
    assert_int_equal(hll_set(&h, 101, 3, SPARSE_MAX), 1);
    assert_true(hll_decode_sparse(h.p, h.len, out, sizeof(out)) > 0);
    assert_string_equal(out, "Z:100 v:3,2 Z:16282");
    /* a short zero run uses ZERO, not XZERO */
    assert_int_equal(hll_set(&h, 110, 1, SPARSE_MAX), 1);
    assert_true(hll_decode_sparse(h.p, h.len, out, sizeof(out)) > 0);
    assert_string_equal(out, "Z:100 v:3,2 z:8 v:1,1 Z:16273");
    /* raising inside a VAL run splits it */
    assert_int_equal(hll_set(&h, 100, 5, SPARSE_MAX), 1);
    assert_true(hll_decode_sparse(h.p, h.len, out, sizeof(out)) > 0);
    assert_string_equal(out, "Z:100 v:5,1 v:3,1 z:8 v:1,1 Z:16273");
    /* a lower value changes nothing */
    assert_int_equal(hll_set(&h, 100, 2, SPARSE_MAX), 0);
    /* first and last registers */
    assert_int_equal(hll_set(&h, 0, 1, SPARSE_MAX), 1);
    assert_int_equal(hll_set(&h, HLL_REGISTERS - 1, 2, SPARSE_MAX), 1);
    assert_true(hll_decode_sparse(h.p, h.len, out, sizeof(out)) > 0);
    assert_string_equal(out, "v:1,1 Z:99 v:5,1 v:3,1 z:8 v:1,1 Z:16272 v:2,1");
    hll_release(&h);
}

static void test_dense_registers_roundtrip_every_register(void **state)
{
    struct hll h;
    struct util_rng r;
    uint8_t want[HLL_REGISTERS], regs[HLL_REGISTERS];

    (void)state;
    util_rng_seed(&r, 11);
    new_empty(&h);
    assert_int_equal(hll_to_dense(&h), 1);
    assert_int_equal(hll_to_dense(&h), 0);
    for (unsigned i = 0; i < HLL_REGISTERS; i++) {
        want[i] = (uint8_t)(util_rng_next(&r) % 64);
        assert_int_equal(hll_set(&h, i, want[i], SPARSE_MAX), want[i] > 0);
    }
    for (unsigned i = 0; i < HLL_REGISTERS; i++)
        assert_int_equal(hll_dense_get(h.p, i), want[i]);
    regs_of(&h, regs);
    assert_memory_equal(regs, want, HLL_REGISTERS);
    hll_release(&h);
}

static void test_dense_add_in_place_equals_hll_add(void **state)
{
    struct hll a, b;
    char buf[64];

    (void)state;
    new_empty(&a);
    new_empty(&b);
    assert_int_equal(hll_to_dense(&a), 1);
    assert_int_equal(hll_to_dense(&b), 1);
    for (unsigned long i = 0; i < 20000; i++) {
        int n = elem(buf, "x", i);

        assert_int_equal(hll_dense_add(a.p, buf, (size_t)n), hll_add(&b, buf, (size_t)n, SPARSE_MAX));
    }
    assert_memory_equal(a.p, b.p, HLL_DENSE_SIZE);
    hll_release(&a);
    hll_release(&b);
}

/* ------------------------------------------------------------------------ */
/* Accuracy                                                                 */
/* ------------------------------------------------------------------------ */

static void check_error(unsigned long n, unsigned long seed)
{
    struct hll h;
    char buf[64];
    uint64_t card;
    double err;

    new_empty(&h);
    for (unsigned long i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf), "s%lu:%lu", seed, i);

        assert_true(hll_add(&h, buf, (size_t)len, SPARSE_MAX) >= 0);
    }
    assert_int_equal(hll_count(h.p, h.len, &card), 0);
    err = fabs((double)card - (double)n) / (double)n;
    /* 3 sigma of the 0.81% standard error */
    if (err > 0.0243)
        fail_msg("n=%lu estimate=%llu error=%.4f", n, (unsigned long long)card, err);
    hll_release(&h);
}

static void test_standard_error_at_100k_and_1m(void **state)
{
    (void)state;
    check_error(100000, 1);
    check_error(100000, 2);
    check_error(1000000, 3);
}

static void test_small_cardinalities_are_nearly_exact(void **state)
{
    (void)state;
    for (unsigned long n = 1; n <= 200; n += 7) {
        struct hll h;
        char buf[64];
        uint64_t card;

        new_empty(&h);
        for (unsigned long i = 0; i < n; i++) {
            int len = elem(buf, "small", i);

            assert_true(hll_add(&h, buf, (size_t)len, SPARSE_MAX) >= 0);
        }
        assert_int_equal(hll_count(h.p, h.len, &card), 0);
        assert_true(fabs((double)card - (double)n) <= 0.03 * (double)n + 1);
        hll_release(&h);
    }
}

static void test_sparse_and_dense_count_alike(void **state)
{
    struct hll h, d;
    char buf[64];
    uint64_t c1, c2;

    (void)state;
    new_empty(&h);
    for (unsigned long i = 0; i < 700; i++) {
        int len = elem(buf, "sd", i);

        assert_true(hll_add(&h, buf, (size_t)len, SPARSE_MAX) >= 0);
    }
    assert_int_equal(hll_encoding_of(h.p), HLL_ENC_SPARSE);
    assert_int_equal(hll_load(&d, h.p, h.len), 0);
    assert_int_equal(hll_to_dense(&d), 1);
    assert_int_equal(hll_count(h.p, h.len, &c1), 0);
    assert_int_equal(hll_count(d.p, d.len, &c2), 0);
    assert_int_equal(c1, c2);
    hll_release(&h);
    hll_release(&d);
}

/* ------------------------------------------------------------------------ */
/* Merge                                                                    */
/* ------------------------------------------------------------------------ */

static void test_merge_equals_union(void **state)
{
    struct hll a, b, u, dst;
    uint8_t regs[HLL_REGISTERS] = { 0 }, ru[HLL_REGISTERS], rd[HLL_REGISTERS];
    char buf[64];
    uint64_t cu, cm, cd;

    (void)state;
    new_empty(&a);
    new_empty(&b);
    new_empty(&u);
    for (unsigned long i = 0; i < 30000; i++) {
        int n = elem(buf, "m", i);

        if (i < 20000)
            assert_true(hll_add(&a, buf, (size_t)n, SPARSE_MAX) >= 0);
        if (i >= 10000 || i % 100 == 0)
            assert_true(hll_add(&b, buf, (size_t)n, SPARSE_MAX) >= 0);
        assert_true(hll_add(&u, buf, (size_t)n, SPARSE_MAX) >= 0);
    }
    assert_int_equal(hll_merge_regs(regs, a.p, a.len), 0);
    assert_int_equal(hll_merge_regs(regs, b.p, b.len), 0);
    regs_of(&u, ru);
    assert_memory_equal(regs, ru, HLL_REGISTERS);
    cm = hll_count_regs(regs);
    assert_int_equal(hll_count(u.p, u.len, &cu), 0);
    assert_int_equal(cm, cu);

    /* PFMERGE's write into an empty (sparse) destination */
    new_empty(&dst);
    assert_int_equal(hll_store_regs(&dst, regs, 0, SPARSE_MAX), 0);
    assert_int_equal(hll_encoding_of(dst.p), HLL_ENC_DENSE);
    regs_of(&dst, rd);
    assert_memory_equal(rd, ru, HLL_REGISTERS);
    assert_int_equal(hll_count(dst.p, dst.len, &cd), 0);
    assert_int_equal(cd, cu);
    hll_release(&a);
    hll_release(&b);
    hll_release(&u);
    hll_release(&dst);
}

static void test_store_regs_small_union_stays_sparse(void **state)
{
    struct hll a, dst;
    uint8_t regs[HLL_REGISTERS] = { 0 }, rd[HLL_REGISTERS];
    char buf[64];
    uint64_t card;

    (void)state;
    new_empty(&a);
    for (unsigned long i = 0; i < 50; i++) {
        int n = elem(buf, "few", i);

        assert_true(hll_add(&a, buf, (size_t)n, SPARSE_MAX) >= 0);
    }
    assert_int_equal(hll_merge_regs(regs, a.p, a.len), 0);
    new_empty(&dst);
    assert_int_equal(hll_store_regs(&dst, regs, 0, SPARSE_MAX), 0);
    assert_int_equal(hll_encoding_of(dst.p), HLL_ENC_SPARSE);
    assert_int_equal(hll_cache_get(dst.p, &card), 0); /* invalidated */
    regs_of(&dst, rd);
    assert_memory_equal(rd, regs, HLL_REGISTERS);
    /* with to_dense the destination is dense whatever its size */
    hll_release(&dst);
    new_empty(&dst);
    assert_int_equal(hll_store_regs(&dst, regs, 1, SPARSE_MAX), 0);
    assert_int_equal(hll_encoding_of(dst.p), HLL_ENC_DENSE);
    regs_of(&dst, rd);
    assert_memory_equal(rd, regs, HLL_REGISTERS);
    hll_release(&a);
    hll_release(&dst);
}

/* ------------------------------------------------------------------------ */
/* Corruption                                                               */
/* ------------------------------------------------------------------------ */

static void test_corrupt_sparse_values_are_refused(void **state)
{
    unsigned char v[64];
    uint8_t regs[HLL_REGISTERS];
    uint64_t card;
    struct hll h;

    (void)state;
    hll_init_empty(v);
    /* too few registers: XZERO(16383) */
    v[16] = 0x7f;
    v[17] = 0xfe;
    assert_int_equal(hll_count(v, 18, &card), ST_ECORRUPT);
    memset(regs, 0, sizeof(regs));
    assert_int_equal(hll_merge_regs(regs, v, 18), ST_ECORRUPT);
    assert_int_equal(hll_load(&h, v, 18), 0);
    assert_int_equal(hll_to_dense(&h), ST_ECORRUPT);
    assert_int_equal(hll_encoding_of(h.p), HLL_ENC_SPARSE); /* unchanged */
    /* the last register is not covered: an update there is corrupt */
    assert_int_equal(hll_set(&h, HLL_REGISTERS - 1, 1, SPARSE_MAX), ST_ECORRUPT);
    hll_release(&h);
    /* too many: XZERO(16384) then a VAL run past the end */
    v[16] = 0x7f;
    v[17] = 0xff;
    v[18] = 0x83; /* VAL 1 x4 */
    assert_int_equal(hll_count(v, 19, &card), ST_ECORRUPT);
    assert_int_equal(hll_merge_regs(regs, v, 19), ST_ECORRUPT);
    /* a truncated XZERO */
    assert_int_equal(hll_count(v, 17, &card), ST_ECORRUPT);
    /* header only */
    assert_int_equal(hll_count(v, 16, &card), ST_ECORRUPT);
}

static void test_random_sparse_bodies_never_crash(void **state)
{
    struct util_rng r;
    unsigned char v[HLL_HDR_SIZE + 400];
    uint8_t regs[HLL_REGISTERS];

    (void)state;
    util_rng_seed(&r, 12);
    for (int round = 0; round < 20000; round++) {
        size_t len = HLL_HDR_SIZE + util_rng_next(&r) % 400;
        uint64_t card;
        struct hll h;
        int rc;

        hll_init_empty(v);
        for (size_t i = HLL_HDR_SIZE; i < len; i++) {
            /* mostly long zero runs, so some bodies add up to 16384 */
            uint64_t x = util_rng_next(&r);
            v[i] = (unsigned char)(x % 3 == 0 ? 0x40 | ((x >> 8) & 0x07) : x >> 16);
        }
        assert_int_equal(hll_check(v, len), 0);
        rc = hll_count(v, len, &card);
        memset(regs, 0, sizeof(regs));
        assert_int_equal(hll_merge_regs(regs, v, len), rc);
        assert_true(hll_decode_sparse(v, len, (char[8192]){ 0 }, 8192) >= 0);
        assert_int_equal(hll_load(&h, v, len), 0);
        for (int k = 0; k < 4; k++) {
            int a = hll_set(&h, (unsigned)(util_rng_next(&r) % HLL_REGISTERS),
                            1 + (unsigned)(util_rng_next(&r) % 40), SPARSE_MAX);

            assert_true(a == 0 || a == 1 || a == ST_ECORRUPT);
            if (a < 0)
                break;
        }
        hll_release(&h);
    }
}

static void test_decode_small_buffer_is_refused(void **state)
{
    unsigned char v[HLL_SPARSE_EMPTY_SIZE];
    char out[8];

    (void)state;
    hll_init_empty(v);
    assert_int_equal(hll_decode_sparse(v, sizeof(v), out, 4), ST_ETOOBIG);
    assert_int_equal(hll_decode_sparse(v, sizeof(v), out, sizeof(out)), 7);
    assert_string_equal(out, "Z:16384");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_matches_redis_vectors),
        cmocka_unit_test(test_empty_value_is_redis_bytes),
        cmocka_unit_test(test_check_rejects_non_hll_strings),
        cmocka_unit_test(test_cache_roundtrip_and_invalidate_keeps_low_bytes),
        cmocka_unit_test(test_sparse_adds_match_model_and_redis_counts),
        cmocka_unit_test(test_promotion_past_sparse_max_keeps_registers),
        cmocka_unit_test(test_small_sparse_max_promotes_at_first_growth),
        cmocka_unit_test(test_register_above_32_forces_dense),
        cmocka_unit_test(test_sparse_opcodes_split_and_merge_like_redis),
        cmocka_unit_test(test_dense_registers_roundtrip_every_register),
        cmocka_unit_test(test_dense_add_in_place_equals_hll_add),
        cmocka_unit_test(test_standard_error_at_100k_and_1m),
        cmocka_unit_test(test_small_cardinalities_are_nearly_exact),
        cmocka_unit_test(test_sparse_and_dense_count_alike),
        cmocka_unit_test(test_merge_equals_union),
        cmocka_unit_test(test_store_regs_small_union_stays_sparse),
        cmocka_unit_test(test_corrupt_sparse_values_are_refused),
        cmocka_unit_test(test_random_sparse_bodies_never_crash),
        cmocka_unit_test(test_decode_small_buffer_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
