/*
 * test_evict.c -- victim sampling for the maxmemory policies (engine/evict.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/entry.h"
#include "engine/err.h"
#include "engine/evict.h"
#include "engine/keyspace.h"

#define NOW 1000000000000LL

static struct keyspace *mkks(unsigned bits)
{
    struct keyspace_conf conf = { .shard_bits = bits, .databases = 2, .seed = 77 };
    struct keyspace *ks = ks_create(&conf);
    assert_non_null(ks);
    return ks;
}

/* key "k<i>" in db with access clock `clock` and expiry (-1 none) */
static void put(struct keyspace *ks, int db, int i, uint32_t clock, int64_t expire_ms)
{
    char name[32];
    int n = snprintf(name, sizeof(name), "k%d", i);
    struct ks_key k;
    ks_key_init(ks, &k, name, (size_t)n);
    ks_lock(ks, k.shard);
    assert_int_equal(ks_set_str(ks, db, &k, NULL, "v", 1, expire_ms), ST_OK);
    struct entry **ref = ks_find_ref(ks, db, &k, NOW, KS_F_NOTOUCH);
    (*ref)->access = ((*ref)->access & ~KS_LRU_CLOCK_MAX) | clock;
    ks_unlock(ks, k.shard);
}

static int key_num(const struct evict_cand *c)
{
    char buf[64];
    memcpy(buf, c->key, c->klen);
    buf[c->klen] = '\0';
    return atoi(buf + 1);
}

static void test_lru_pool_keeps_the_idlest_first(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(2);
    ks_tick(ks, 100000 * 1000LL);
    /* clock i*10: key 0 is the idlest */
    for (int i = 0; i < 64; i++)
        put(ks, 0, i, 100000 - 1000 + (uint32_t)i * 10, -1);
    struct evict_pool p;
    evict_pool_init(&p, 5);
    /* sampling everything (samples >= keys per shard) must find key 0 */
    for (int r = 0; r < 20; r++)
        evict_sample(ks, EVICT_ALLKEYS_LRU, 64, NOW, &p, NULL, NULL);
    struct evict_cand c;
    assert_true(evict_pool_pop(&p, &c));
    assert_int_equal(key_num(&c), 0);
    struct evict_cand d;
    assert_true(evict_pool_pop(&p, &d));
    assert_int_equal(key_num(&d), 1);
    /* pool is ordered and free of duplicates */
    uint64_t last = UINT64_MAX;
    for (int i = p.n - 1; i >= 0; i--) {
        assert_true(p.c[i].score <= last);
        last = p.c[i].score;
        for (int j = 0; j < i; j++)
            assert_false(p.c[j].klen == p.c[i].klen && memcmp(p.c[j].key, p.c[i].key, p.c[i].klen) == 0);
    }
    /* evict_take finds the key and leaves its shard locked */
    struct ks_key k;
    struct entry **ref = evict_take(ks, EVICT_ALLKEYS_LRU, &c, NOW, &k);
    assert_non_null(ref);
    ks_delete_ref(ks, c.db, &k, ref);
    ks_unlock(ks, k.shard);
    /* gone now: take answers NULL with nothing locked */
    assert_null(evict_take(ks, EVICT_ALLKEYS_LRU, &c, NOW, &k));
    evict_cand_free(&c);
    evict_cand_free(&d);
    evict_pool_deinit(&p);
    ks_destroy(&ks);
}

static void test_volatile_policies_only_pick_keys_with_ttl(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(3);
    ks_tick(ks, 100000 * 1000LL);
    for (int i = 0; i < 200; i++)
        put(ks, i % 2, i, 90000, (i % 10 == 0) ? NOW + 1000000 + i * 1000 : -1);
    const int policies[] = { EVICT_VOLATILE_LRU, EVICT_VOLATILE_LFU, EVICT_VOLATILE_RANDOM, EVICT_VOLATILE_TTL };
    for (size_t pi = 0; pi < sizeof(policies) / sizeof(policies[0]); pi++) {
        struct evict_pool p;
        evict_pool_init(&p, 9 + pi);
        for (int r = 0; r < 50; r++)
            evict_sample(ks, policies[pi], 5, NOW, &p, NULL, NULL);
        assert_true(p.n > 0);
        for (int i = 0; i < p.n; i++)
            assert_int_equal(key_num(&p.c[i]) % 10, 0);
        evict_pool_deinit(&p);
    }
    /* volatile-ttl: the soonest expiry scores highest (key 0 when all are seen) */
    struct evict_pool p;
    evict_pool_init(&p, 3);
    for (int r = 0; r < 100; r++)
        evict_sample(ks, EVICT_VOLATILE_TTL, 64, NOW, &p, NULL, NULL);
    struct evict_cand c;
    assert_true(evict_pool_pop(&p, &c));
    assert_int_equal(key_num(&c), 0);
    evict_cand_free(&c);
    evict_pool_deinit(&p);
    ks_destroy(&ks);
}

static void test_lfu_prefers_the_least_frequent(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(0);
    ks_set_access_policy(ks, 1, 10, 1);
    ks_tick(ks, 100000 * 1000LL);
    for (int i = 0; i < 20; i++)
        put(ks, 0, i, 100000, -1);
    /* every key but 7 is read often */
    ks_lock(ks, 0);
    for (int i = 0; i < 20; i++) {
        if (i == 7)
            continue;
        char name[8];
        int n = snprintf(name, sizeof(name), "k%d", i);
        struct ks_key k;
        ks_key_init(ks, &k, name, (size_t)n);
        for (int r = 0; r < 2000; r++)
            ks_find(ks, 0, &k, NOW);
    }
    ks_unlock(ks, 0);
    struct evict_pool p;
    evict_pool_init(&p, 4);
    for (int r = 0; r < 20; r++)
        evict_sample(ks, EVICT_ALLKEYS_LFU, 20, NOW, &p, NULL, NULL);
    struct evict_cand c;
    assert_true(evict_pool_pop(&p, &c));
    assert_int_equal(key_num(&c), 7);
    evict_cand_free(&c);
    evict_pool_deinit(&p);
    ks_destroy(&ks);
}

static int none(const struct entry *e, void *ud)
{
    (void)e;
    (void)ud;
    return 0;
}

static void test_filter_and_empty_keyspace_give_no_candidates(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(2);
    struct evict_pool p;
    evict_pool_init(&p, 1);
    assert_int_equal(evict_sample(ks, EVICT_ALLKEYS_LRU, 5, NOW, &p, NULL, NULL), 0);
    struct evict_cand c;
    assert_false(evict_pool_pop(&p, &c));
    for (int i = 0; i < 30; i++)
        put(ks, 0, i, 1, -1);
    evict_sample(ks, EVICT_ALLKEYS_LRU, 5, NOW, &p, none, NULL);
    assert_int_equal(p.n, 0);
    /* long keys are copied to the heap and freed */
    char big[200];
    memset(big, 'x', sizeof(big));
    struct ks_key k;
    ks_key_init(ks, &k, big, sizeof(big));
    ks_lock(ks, k.shard);
    assert_int_equal(ks_set_str(ks, 1, &k, NULL, "v", 1, -1), ST_OK);
    ks_unlock(ks, k.shard);
    for (int r = 0; r < 50; r++)
        evict_sample(ks, EVICT_ALLKEYS_RANDOM, 5, NOW, &p, NULL, NULL);
    assert_true(p.n > 0);
    evict_pool_deinit(&p);
    ks_destroy(&ks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_pool_keeps_the_idlest_first),
        cmocka_unit_test(test_volatile_policies_only_pick_keys_with_ttl),
        cmocka_unit_test(test_lfu_prefers_the_least_frequent),
        cmocka_unit_test(test_filter_and_empty_keyspace_give_no_candidates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
