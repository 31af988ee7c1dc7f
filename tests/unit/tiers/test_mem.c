/*
 * test_mem.c -- unit tests for tiers/mem.c, the heap tier.
 *
 * The shared engine/tier.h contract (tier_contract.h) plus what is the mem
 * tier's own: the capacity bound (ST_EFULL, then room again after a delete),
 * heap_bytes, and two instances side by side.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tier_contract.h"
#include "tiers/mem.h"

static int mem_setup(void **state)
{
    struct tfix *f = calloc(1, sizeof(*f));
    if (!f || mtier_create(NULL, &f->t) != ST_OK)
        return -1;
    *state = f;
    return 0;
}

static int mem_teardown(void **state)
{
    struct tfix *f = *state;
    tier_destroy(&f->t);
    assert_null(f->t);
    free(f);
    return 0;
}

static void test_mem_capacity_answers_efull_until_a_delete_makes_room(void **state)
{
    (void)state;
    struct mtier_conf conf = {.capacity_bytes = 1000};
    struct tier *t = NULL;
    size_t len;
    uint64_t hint = 0;

    assert_int_equal(mtier_create(&conf, &t), ST_OK);
    assert_int_equal(stats_of(t).capacity_bytes, 1000);
    /* each record: 44 + 2 + 254 = 300 bytes */
    uint64_t h1 = put_ok(t, "k1", 1, 254);
    uint64_t h2 = put_ok(t, "k2", 2, 254);
    uint64_t h3 = put_ok(t, "k3", 3, 254);
    assert_int_equal(stats_of(t).used_bytes, 900);
    void *rec = make_rec("k4", 4, 254, &len);
    assert_int_equal(t->ops->put(t, rec, len, &hint, NULL), ST_EFULL);
    struct tier_stats s = stats_of(t);
    assert_int_equal(s.records, 3);
    assert_int_equal(s.used_bytes, 900);
    assert_int_equal(s.put_fails, 1);
    /* exactly up to the capacity fits */
    uint64_t h5 = put_ok(t, "k5", 5, 54); /* 100 bytes: 1000 in all */
    assert_int_equal(stats_of(t).used_bytes, 1000);
    assert_int_equal(t->ops->del(t, "k2", 2, 2, h2), ST_OK);
    assert_int_equal(t->ops->put(t, rec, len, &hint, NULL), ST_OK);
    expect_get(t, "k4", 4, 254, hint);
    expect_get(t, "k1", 1, 254, h1);
    expect_get(t, "k3", 3, 254, h3);
    expect_get(t, "k5", 5, 54, h5);
    /* a record bigger than the whole capacity */
    void *big = make_rec("big", 9, 2000, &len);
    assert_int_equal(t->ops->put(t, big, len, &hint, NULL), ST_EFULL);
    free(big);
    free(rec);
    tier_destroy(&t);
}

static void test_mem_heap_bytes_counts_records_and_dictionaries(void **state)
{
    struct tier *t = fix_tier(state);
    unsigned char dict[500] = {1};

    assert_int_equal(t->ops->heap_bytes(t), 0);
    uint64_t h = put_ok(t, "abc", 1, 100); /* 147 bytes */
    assert_int_equal(t->ops->heap_bytes(t), 147);
    assert_int_equal(t->ops->put_dict(t, 5, dict, sizeof(dict)), ST_OK);
    assert_int_equal(t->ops->heap_bytes(t), 647);
    assert_int_equal(t->ops->del(t, "abc", 3, 1, h), ST_OK);
    assert_int_equal(t->ops->heap_bytes(t), 500);
    assert_int_equal(t->ops->clear(t, 1), ST_OK);
    assert_int_equal(t->ops->heap_bytes(t), 0);
    assert_string_equal(t->name, "mem");
}

static void test_mem_two_tiers_side_by_side_are_independent(void **state)
{
    (void)state;
    struct tier *a = NULL, *b = NULL;

    assert_int_equal(mtier_create(NULL, &a), ST_OK);
    assert_int_equal(mtier_create(NULL, &b), ST_OK);
    uint64_t ha = put_ok(a, "same", 1, 10);
    uint64_t hb = put_ok(b, "same", 2, 20);
    assert_true(ha == hb); /* both slot 0: hints are per tier */
    expect_get(a, "same", 1, 10, ha);
    expect_get(b, "same", 2, 20, hb);
    assert_int_equal(get_rc(a, "same", 2, hb), ST_ENOENT);
    assert_int_equal(a->ops->del(a, "same", 4, 1, ha), ST_OK);
    expect_get(b, "same", 2, 20, hb);
    assert_int_equal(stats_of(a).records, 0);
    assert_int_equal(stats_of(b).records, 1);
    tier_destroy(&a);
    expect_get(b, "same", 2, 20, hb);
    tier_destroy(&b);
    tier_destroy(&b); /* NULL: a no-op */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TIER_CONTRACT_TESTS(mem_setup, mem_teardown),
        cmocka_unit_test(test_mem_capacity_answers_efull_until_a_delete_makes_room),
        cmocka_unit_test_setup_teardown(test_mem_heap_bytes_counts_records_and_dictionaries, mem_setup,
                                        mem_teardown),
        cmocka_unit_test(test_mem_two_tiers_side_by_side_are_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
