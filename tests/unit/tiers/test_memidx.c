/*
 * test_memidx.c -- unit tests for tiers/memidx.c, the indexed heap tier.
 *
 * The shared indexed-tier contract (index_contract.h) plus what is memidx's
 * own: every read with a completion answers later (ST_EPENDING) after the
 * configured delay, the capacity bound, active expiry by its own thread, and
 * that the stub-tier operations refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "index_contract.h"
#include "tiers/memidx.h"

static int memidx_setup(void **state)
{
    struct ixfix *f = calloc(1, sizeof(*f));
    struct mxtier_conf c = { .databases = 16 };
    if (!f || mxtier_create(&c, &f->t) != ST_OK)
        return -1;
    *state = f;
    return 0;
}

static int memidx_teardown(void **state)
{
    struct ixfix *f = *state;
    tier_destroy(&f->t);
    assert_null(f->t);
    free(f);
    return 0;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void test_memidx_reads_with_done_always_pend_and_wait_the_delay(void **state)
{
    (void)state;
    struct tier *t = NULL;
    struct mxtier_conf c = { .databases = 1, .delay_us = 20000 };
    assert_int_equal(mxtier_create(&c, &t), ST_OK);
    ix_insert(t, 0, "k", 1, 10);
    struct ix_async a = { .caller = pthread_self() };
    a.req = (struct tier_req){ .db = 0, .key = "k", .klen = 1, .done = ix_async_done };
    int64_t t0 = mono_us();
    assert_int_equal(t->index->fetch(t, &a.req), ST_EPENDING);
    struct ix_async miss = { .caller = pthread_self() };
    miss.req = (struct tier_req){ .db = 0, .key = "none", .klen = 4, .done = ix_async_done };
    assert_int_equal(t->index->fetch(t, &miss.req), ST_EPENDING); /* even a miss */
    t->index->drain(t);
    assert_true(mono_us() - t0 >= 20000);
    assert_int_equal(atomic_load(&a.calls), 1);
    assert_int_equal(a.req.rc, ST_OK);
    free(a.req.buf);
    assert_int_equal(atomic_load(&miss.calls), 1);
    assert_int_equal(miss.req.rc, ST_ENOENT);
    tier_destroy(&t);
}

static void test_memidx_capacity_answers_efull(void **state)
{
    (void)state;
    struct tier *t = NULL;
    size_t len;
    void *rec = ix_rec("a", 1, 100, -1, &len);
    struct mxtier_conf c = { .databases = 1, .capacity_bytes = len * 2 };
    assert_int_equal(mxtier_create(&c, &t), ST_OK);
    uint64_t l1, l2, l3;
    assert_int_equal(t->index->insert(t, 0, rec, len, &l1), ST_OK);
    free(rec);
    rec = ix_rec("b", 2, 100, -1, &len);
    assert_int_equal(t->index->insert(t, 0, rec, len, &l2), ST_OK);
    free(rec);
    rec = ix_rec("c", 3, 100, -1, &len);
    assert_int_equal(t->index->insert(t, 0, rec, len, &l3), ST_EFULL);
    assert_int_equal(t->index->remove(t, 0, "a", 1, l1), ST_OK);
    assert_int_equal(t->index->insert(t, 0, rec, len, &l3), ST_OK);
    free(rec);
    struct tier_stats st;
    t->ops->stats(t, &st);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.put_fails, 1);
    assert_int_equal(t->ops->heap_bytes(t), st.used_bytes);
    tier_destroy(&t);
}

static int64_t wall_ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_memidx_drops_expired_records_by_itself(void **state)
{
    struct tier *t = ix_tier(state);
    size_t len;
    uint64_t loc;
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof(key), "e%d", i);
        void *rec = ix_rec(key, (uint64_t)i, 5, i < 60 ? wall_ms_now() + 50 : -1, &len);
        assert_int_equal(t->index->insert(t, 0, rec, len, &loc), ST_OK);
        free(rec);
    }
    uint64_t keys = 0;
    for (int w = 0; w < 100; w++) {
        t->index->db_counts(t, 0, &keys, NULL);
        if (keys == 40)
            break;
        struct timespec d = { 0, 20 * 1000000L };
        nanosleep(&d, NULL);
    }
    assert_int_equal(keys, 40);
    struct tier_stats st;
    t->ops->stats(t, &st);
    assert_int_equal(st.expired, 60);
}

static void test_memidx_stub_operations_refuse(void **state)
{
    struct tier *t = ix_tier(state);
    size_t len;
    uint64_t hint = 0;
    void *rec = ix_rec("x", 1, 5, -1, &len);
    void *buf = NULL;
    size_t blen = 0;
    assert_int_equal(t->ops->put(t, rec, len, &hint, NULL), ST_EINVAL);
    assert_int_equal(t->ops->get(t, "x", 1, 1, 0, &buf, &blen, NULL), ST_EINVAL);
    assert_int_equal(t->ops->del(t, "x", 1, 1, 0), ST_EINVAL);
    free(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        INDEX_CONTRACT_TESTS(memidx_setup, memidx_teardown),
        cmocka_unit_test(test_memidx_reads_with_done_always_pend_and_wait_the_delay),
        cmocka_unit_test(test_memidx_capacity_answers_efull),
        cmocka_unit_test_setup_teardown(test_memidx_drops_expired_records_by_itself, memidx_setup, memidx_teardown),
        cmocka_unit_test_setup_teardown(test_memidx_stub_operations_refuse, memidx_setup, memidx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
