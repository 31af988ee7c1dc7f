/*
 * test_intset.c -- unit tests for engine/intset.c: width upgrades at every
 * boundary (int16 -> int32 -> int64, negative values going first and
 * positive ones last), byte layout (Redis's intset), sorted order, add and
 * remove with duplicates and absentees, get/random/min/max, blob size, and
 * validation of good, truncated and unsorted blobs, plus a randomized run
 * against a sorted-array model.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/err.h"
#include "engine/intset.h"

static uint64_t rng_state = 0x243F6A8885A308D3ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint32_t enc_of(const struct intset *is)
{
    uint32_t e;

    memcpy(&e, is, 4);
    return e; /* tests run on little-endian hosts */
}

/* Checks order, blob size and validation. */
static void check_set(const struct intset *is)
{
    uint32_t n = intset_len(is);
    int64_t prev = 0, v;

    assert_int_equal(intset_blob_len(is), INTSET_HDR + (size_t)n * enc_of(is));
    assert_true(intset_validate(is, intset_blob_len(is), 1));
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(intset_get(is, i, &v), ST_OK);
        if (i > 0)
            assert_true(v > prev);
        assert_true(intset_find(is, v));
        prev = v;
    }
    assert_int_equal(intset_get(is, n, &v), ST_ERANGE);
    if (n > 0) {
        int64_t lo, hi;

        intset_get(is, 0, &lo);
        intset_get(is, n - 1, &hi);
        assert_true(intset_min(is) == lo);
        assert_true(intset_max(is) == hi);
    }
}

static struct intset *add(struct intset *is, int64_t v, int want_added)
{
    int added = -1;

    is = intset_add(is, v, &added);
    assert_non_null(is);
    assert_int_equal(added, want_added);
    return is;
}

static void test_empty_set(void **state)
{
    struct intset *is = intset_create();
    int64_t v;
    int removed = -1;

    (void)state;
    assert_non_null(is);
    assert_int_equal(intset_len(is), 0);
    assert_int_equal(enc_of(is), 2);
    assert_int_equal(intset_blob_len(is), INTSET_HDR);
    assert_false(intset_find(is, 0));
    assert_int_equal(intset_get(is, 0, &v), ST_ERANGE);
    is = intset_remove(is, 5, &removed);
    assert_int_equal(removed, 0);
    check_set(is);
    intset_destroy(is);
}

static void test_add_keeps_order_and_rejects_duplicates(void **state)
{
    struct intset *is = intset_create();
    const int64_t vals[] = {5, 1, 9, 3, 7, -2, 0};

    (void)state;
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        is = add(is, vals[i], 1);
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        is = add(is, vals[i], 0);
    assert_int_equal(intset_len(is), 7);
    check_set(is);
    {
        const int64_t want[] = {-2, 0, 1, 3, 5, 7, 9};
        int64_t v;

        for (uint32_t i = 0; i < 7; i++) {
            intset_get(is, i, &v);
            assert_true(v == want[i]);
        }
    }
    assert_false(intset_find(is, 2));
    assert_false(intset_find(is, 10));
    assert_false(intset_find(is, -3));
    intset_destroy(is);
}

static void test_byte_layout_matches_redis_intset(void **state)
{
    struct intset *is = intset_create();

    (void)state;
    is = add(is, 2, 1);
    is = add(is, -1, 1);
    /* encoding 2, length 2, -1 then 2 as int16 little endian */
    assert_int_equal(intset_blob_len(is), 12);
    assert_memory_equal(is, "\x02\x00\x00\x00\x02\x00\x00\x00\xFF\xFF\x02\x00", 12);
    is = add(is, 65536, 1);
    assert_int_equal(intset_blob_len(is), 20);
    assert_memory_equal(is,
                        "\x04\x00\x00\x00\x03\x00\x00\x00"
                        "\xFF\xFF\xFF\xFF\x02\x00\x00\x00\x00\x00\x01\x00",
                        20);
    intset_destroy(is);
}

/* Upgrading at each width boundary: the new value lands first (negative) or
 * last (positive), the old values survive widened. */
static void check_upgrade(int64_t seed_a, int64_t seed_b, int64_t wide, uint32_t want_enc)
{
    struct intset *is = intset_create();
    int64_t v;

    is = add(is, seed_a, 1);
    is = add(is, seed_b, 1);
    is = add(is, wide, 1);
    assert_int_equal(enc_of(is), want_enc);
    assert_int_equal(intset_len(is), 3);
    check_set(is);
    intset_get(is, wide < 0 ? 0 : 2, &v);
    assert_true(v == wide);
    assert_true(intset_find(is, seed_a));
    assert_true(intset_find(is, seed_b));
    is = add(is, wide, 0);
    intset_destroy(is);
}

static void test_upgrade_at_every_width_boundary(void **state)
{
    struct intset *is;

    (void)state;
    /* still int16 at the limits */
    is = intset_create();
    is = add(is, INT16_MAX, 1);
    is = add(is, INT16_MIN, 1);
    assert_int_equal(enc_of(is), 2);
    check_set(is);
    intset_destroy(is);

    check_upgrade(INT16_MIN, INT16_MAX, (int64_t)INT16_MAX + 1, 4);
    check_upgrade(INT16_MIN, INT16_MAX, (int64_t)INT16_MIN - 1, 4);
    check_upgrade(-5, 5, INT32_MAX, 4);
    check_upgrade(-5, 5, INT32_MIN, 4);
    check_upgrade(-5, 5, (int64_t)INT32_MAX + 1, 8);
    check_upgrade(-5, 5, (int64_t)INT32_MIN - 1, 8);
    check_upgrade(INT16_MIN, INT16_MAX, INT64_MAX, 8);
    check_upgrade(INT16_MIN, INT16_MAX, INT64_MIN, 8);
    /* int32 set upgraded to int64 */
    check_upgrade(INT32_MIN, INT32_MAX, INT64_MIN, 8);
    check_upgrade(INT32_MIN, INT32_MAX, INT64_MAX, 8);
}

static void test_find_of_wider_value_is_false_without_upgrade(void **state)
{
    struct intset *is = intset_create();
    int removed = -1;

    (void)state;
    is = add(is, 1, 1);
    assert_false(intset_find(is, INT64_MAX));
    assert_false(intset_find(is, 70000));
    is = intset_remove(is, 70000, &removed);
    assert_int_equal(removed, 0);
    assert_int_equal(enc_of(is), 2);
    intset_destroy(is);
}

static void test_remove_first_middle_last_and_absent(void **state)
{
    struct intset *is = intset_create();
    int removed;

    (void)state;
    for (int64_t v = 0; v < 10; v++)
        is = add(is, v * 10, 1);
    is = intset_remove(is, 0, &removed);
    assert_int_equal(removed, 1);
    is = intset_remove(is, 50, &removed);
    assert_int_equal(removed, 1);
    is = intset_remove(is, 90, &removed);
    assert_int_equal(removed, 1);
    is = intset_remove(is, 55, &removed);
    assert_int_equal(removed, 0);
    is = intset_remove(is, 50, &removed);
    assert_int_equal(removed, 0);
    assert_int_equal(intset_len(is), 7);
    assert_false(intset_find(is, 0));
    assert_false(intset_find(is, 50));
    assert_false(intset_find(is, 90));
    assert_true(intset_min(is) == 10);
    assert_true(intset_max(is) == 80);
    check_set(is);
    /* no downgrade after removing the wide member */
    is = add(is, 1LL << 40, 1);
    is = intset_remove(is, 1LL << 40, &removed);
    assert_int_equal(removed, 1);
    assert_int_equal(enc_of(is), 8);
    check_set(is);
    while (intset_len(is) > 0)
        is = intset_remove(is, intset_min(is), NULL);
    check_set(is);
    intset_destroy(is);
}

static void test_random_returns_members_and_covers_all(void **state)
{
    struct intset *is = intset_create();
    int seen[5] = {0};

    (void)state;
    for (int64_t v = 1; v <= 5; v++)
        is = add(is, v * 1000000000LL, 1);
    for (int i = 0; i < 200; i++) {
        int64_t v = intset_random(is, rnd());

        assert_true(intset_find(is, v));
        seen[v / 1000000000LL - 1] = 1;
    }
    for (int i = 0; i < 5; i++)
        assert_true(seen[i]);
    intset_destroy(is);
}

static void test_validate_accepts_good_rejects_bad_blobs(void **state)
{
    struct intset *is = intset_create();
    size_t size;
    unsigned char *b;

    (void)state;
    for (int64_t v = -3; v <= 3; v++)
        is = add(is, v, 1);
    size = intset_blob_len(is);
    assert_true(intset_validate(is, size, 1));
    assert_true(intset_validate(is, size, 0));
    assert_false(intset_validate(NULL, 0, 1));
    assert_false(intset_validate(is, INTSET_HDR - 1, 0));
    /* truncated or padded, in exactly sized buffers */
    for (size_t cut = 0; cut < size + 3; cut++) {
        if (cut == size)
            continue;
        b = calloc(1, cut ? cut : 1);
        memcpy(b, is, cut < size ? cut : size);
        assert_false(intset_validate(b, cut, 1));
        free(b);
    }
    b = malloc(size);
    /* bad encodings */
    for (uint32_t e = 0; e < 16; e++) {
        if (e == 2)
            continue;
        memcpy(b, is, size);
        memcpy(b, &e, 4);
        assert_false(intset_validate(b, size, 1));
    }
    /* unsorted, and a duplicate: only the deep check sees them */
    memcpy(b, is, size);
    b[INTSET_HDR] = 5;
    b[INTSET_HDR + 1] = 0;
    assert_false(intset_validate(b, size, 1));
    assert_true(intset_validate(b, size, 0));
    memcpy(b, is, size);
    memcpy(b + INTSET_HDR + 2, b + INTSET_HDR, 2);
    assert_false(intset_validate(b, size, 1));
    /* length overflowing the size */
    memcpy(b, is, size);
    b[7] = 0x80;
    assert_false(intset_validate(b, size, 0));
    free(b);
    intset_destroy(is);
}

/* Compares against a sorted array after random adds and removes across all
 * widths. */
static void test_random_ops_match_sorted_model(void **state)
{
    enum { CAP = 3000 };
    int64_t *m = malloc(CAP * sizeof(*m));
    uint32_t n = 0;
    struct intset *is = intset_create();

    (void)state;
    for (int op = 0; op < 30000; op++) {
        uint64_t r = rnd();
        int64_t v;
        uint32_t pos = 0;
        int found = 0, res;

        switch (r % 4) {
        case 0:
            v = (int64_t)(rnd() % 200) - 100;
            break;
        case 1:
            v = (int64_t)(int16_t)rnd();
            break;
        case 2:
            v = op > 10000 ? (int64_t)(int32_t)rnd() : (int64_t)(rnd() % 1000);
            break;
        default:
            v = op > 20000 ? (int64_t)rnd() : (int64_t)(rnd() % 50);
            break;
        }
        while (pos < n && m[pos] < v)
            pos++;
        found = pos < n && m[pos] == v;
        if ((r >> 8) % 3 != 0 && n < CAP) {
            is = intset_add(is, v, &res);
            assert_non_null(is);
            assert_int_equal(res, !found);
            if (!found) {
                memmove(&m[pos + 1], &m[pos], (n - pos) * sizeof(*m));
                m[pos] = v;
                n++;
            }
        } else {
            is = intset_remove(is, v, &res);
            assert_int_equal(res, found);
            if (found) {
                memmove(&m[pos], &m[pos + 1], (n - pos - 1) * sizeof(*m));
                n--;
            }
        }
        pos = 0;
        while (pos < n && m[pos] < v)
            pos++;
        assert_int_equal(intset_find(is, v), pos < n && m[pos] == v);
        if (op % 500 == 0 || op == 29999) {
            assert_int_equal(intset_len(is), n);
            for (uint32_t i = 0; i < n; i++) {
                int64_t got;

                intset_get(is, i, &got);
                assert_true(got == m[i]);
            }
            check_set(is);
        }
    }
    free(m);
    intset_destroy(is);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_set),
        cmocka_unit_test(test_add_keeps_order_and_rejects_duplicates),
        cmocka_unit_test(test_byte_layout_matches_redis_intset),
        cmocka_unit_test(test_upgrade_at_every_width_boundary),
        cmocka_unit_test(test_find_of_wider_value_is_false_without_upgrade),
        cmocka_unit_test(test_remove_first_middle_last_and_absent),
        cmocka_unit_test(test_random_returns_members_and_covers_all),
        cmocka_unit_test(test_validate_accepts_good_rejects_bad_blobs),
        cmocka_unit_test(test_random_ops_match_sorted_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
