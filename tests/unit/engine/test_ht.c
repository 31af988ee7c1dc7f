/*
 * test_ht.c -- unit tests for engine/ht.c: the intrusive chained hash table
 * with incremental rehashing.
 *
 * What is protected: every key inserted is found until unlinked, through any
 * number of grows and shrinks and in the middle of a rehash (ht.c invariants
 * 1-3); the used counters of both tables stay exact when entries are unlinked
 * from either table mid-rehash; the SCAN guarantee (an entry present for the
 * whole scan is returned at least once even when the table grows or shrinks
 * between calls, and exactly once when it does not change); ht_random only
 * returns members; ht_deinit frees everything (the Sanitize build's ASan
 * leak check fails the test otherwise).
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
#include "engine/ht.h"
#include "engine/util.h"

#define SEED 0x5eed5eed12345678ull

/* ---- helpers ----------------------------------------------------------- */

static int keyname(char *buf, const char *prefix, long i)
{
    return snprintf(buf, 64, "%s:%ld", prefix, i);
}

static struct entry *mkentry(const char *key, size_t klen, long i)
{
    char val[32];
    int n = snprintf(val, sizeof(val), "v%ld", i);
    struct entry *e = entry_create_str(key, (uint32_t)klen, val, (size_t)n, -1);
    assert_non_null(e);
    return e;
}

static void put(struct ht *ht, const char *prefix, long i)
{
    char k[64];
    int n = keyname(k, prefix, i);
    struct entry *e = mkentry(k, (size_t)n, i);
    assert_int_equal(ht_insert(ht, ht_hash(ht->seed, k, (size_t)n), e), ST_OK);
}

static struct entry *get(struct ht *ht, const char *prefix, long i)
{
    char k[64];
    int n = keyname(k, prefix, i);
    struct entry **ref = ht_find_ref(ht, ht_hash(ht->seed, k, (size_t)n), k, (size_t)n);
    return ref ? *ref : NULL;
}

/* Asserts the entry found for prefix:i carries the value written by put. */
static void assert_has(struct ht *ht, const char *prefix, long i)
{
    char k[64], v[32];
    int n = keyname(k, prefix, i);
    struct entry *e = get(ht, prefix, i);
    if (!e)
        fail_msg("key %s not found (size %llu, rehashing %d)", k, (unsigned long long)ht_size(ht),
                 ht_is_rehashing(ht));
    assert_int_equal(e->klen, n);
    assert_memory_equal(entry_key(e), k, (size_t)n);
    int vn = snprintf(v, sizeof(v), "v%ld", i);
    char tmp[UTIL_LLSTR_SIZE];
    size_t len;
    const char *s = entry_str(e, tmp, &len);
    assert_int_equal(len, vn);
    assert_memory_equal(s, v, len);
}

/* Unlinks and destroys prefix:i, which must be present. */
static void del(struct ht *ht, const char *prefix, long i)
{
    char k[64];
    int n = keyname(k, prefix, i);
    struct entry **ref = ht_find_ref(ht, ht_hash(ht->seed, k, (size_t)n), k, (size_t)n);
    if (!ref)
        fail_msg("key %s not found for delete", k);
    uint64_t before = ht_size(ht);
    struct entry *e = ht_unlink_ref(ht, ref);
    assert_non_null(e);
    assert_int_equal(e->klen, n);
    assert_memory_equal(entry_key(e), k, (size_t)n);
    assert_null(e->next);
    assert_int_equal(ht_size(ht), before - 1);
    entry_destroy(e);
}

/* Counts the entries actually linked in both tables, checking that each sits
 * in the bucket its hash selects and that buckets of t[0] below rehashidx are
 * empty (ht.c invariant 1). Asserts the counts equal the used fields. */
static void check_structure(const struct ht *ht)
{
    for (int t = 0; t < 2; t++) {
        const struct ht_table *tb = &ht->t[t];
        if (!tb->buckets) {
            assert_int_equal(tb->used, 0);
            continue;
        }
        assert_int_equal((tb->mask + 1) & tb->mask, 0); /* power of two */
        uint64_t n = 0;
        for (uint64_t b = 0; b <= tb->mask; b++) {
            if (t == 0 && ht_is_rehashing(ht) && (int64_t)b < ht->rehashidx)
                assert_null(tb->buckets[b]);
            for (const struct entry *e = tb->buckets[b]; e; e = e->next) {
                assert_int_equal(ht_hash(ht->seed, entry_key(e), e->klen) & tb->mask, b);
                n++;
            }
        }
        assert_int_equal(n, tb->used);
    }
    if (!ht_is_rehashing(ht))
        assert_null(ht->t[1].buckets);
}

static uint64_t rng_fn(void *ud)
{
    return util_rng_next(ud);
}

static void finish_rehash(struct ht *ht)
{
    while (ht_rehash_step(ht, 100))
        ;
    assert_false(ht_is_rehashing(ht));
}

/* ---- basic operations -------------------------------------------------- */

static void test_empty_table_finds_nothing(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    assert_int_equal(ht_size(&ht), 0);
    assert_false(ht_is_rehashing(&ht));
    assert_null(get(&ht, "k", 1));
    assert_int_equal(ht_overhead(&ht), 0);
    assert_int_equal(ht_rehash_step(&ht, 10), 0);
    assert_int_equal(ht_maybe_shrink(&ht), 0);
    ht_deinit(&ht);
}

static void test_insert_then_find_returns_same_entry(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    struct entry *e = mkentry("hello", 5, 1);
    uint64_t h = ht_hash(SEED, "hello", 5);
    assert_int_equal(ht_insert(&ht, h, e), ST_OK);
    assert_int_equal(ht_size(&ht), 1);
    struct entry **ref = ht_find_ref(&ht, h, "hello", 5);
    assert_non_null(ref);
    assert_ptr_equal(*ref, e);
    /* same hash, other key: absent; prefix of the key: absent */
    assert_null(ht_find_ref(&ht, h, "hellO", 5));
    assert_null(ht_find_ref(&ht, ht_hash(SEED, "hell", 4), "hell", 4));
    ht_deinit(&ht);
    assert_int_equal(ht_size(&ht), 0);
}

static void test_hash_depends_on_seed_and_bytes(void **state)
{
    (void)state;
    assert_true(ht_hash(1, "abc", 3) == ht_hash(1, "abc", 3));
    assert_true(ht_hash(1, "abc", 3) != ht_hash(2, "abc", 3));
    assert_true(ht_hash(1, "abc", 3) != ht_hash(1, "abd", 3));
    assert_true(ht_hash(1, "a\0b", 3) != ht_hash(1, "a\0c", 3));
}

static void test_empty_key_is_a_key(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    struct entry *e = mkentry("", 0, 1);
    assert_int_equal(ht_insert(&ht, ht_hash(SEED, "", 0), e), ST_OK);
    struct entry **ref = ht_find_ref(&ht, ht_hash(SEED, "", 0), "", 0);
    assert_non_null(ref);
    assert_ptr_equal(*ref, e);
    ht_deinit(&ht);
}

static void test_replace_ref_swaps_entry_in_chain(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    for (long i = 0; i < 64; i++)
        put(&ht, "k", i);
    finish_rehash(&ht);
    for (long i = 0; i < 64; i++) {
        char k[64];
        int n = keyname(k, "k", i);
        uint64_t h = ht_hash(SEED, k, (size_t)n);
        struct entry **ref = ht_find_ref(&ht, h, k, (size_t)n);
        assert_non_null(ref);
        struct entry *old = *ref;
        struct entry *ne = entry_create_str(k, (uint32_t)n, "replaced", 8, -1);
        ne->next = old->next;
        ht_replace_ref(ref, ne);
        entry_destroy(old);
    }
    assert_int_equal(ht_size(&ht), 64);
    check_structure(&ht);
    for (long i = 0; i < 64; i++) {
        struct entry *e = get(&ht, "k", i);
        assert_non_null(e);
        assert_int_equal(e->vlen, 8);
        assert_memory_equal(entry_cval(e), "replaced", 8);
    }
    ht_deinit(&ht);
}

static void test_unlink_from_chain_middle_keeps_others(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    /* 4 buckets, 4 keys: chains are likely; stop before the grow */
    for (long i = 0; i < 4; i++)
        put(&ht, "c", i);
    assert_int_equal(ht.t[0].mask, 3);
    for (long d = 0; d < 4; d++) {
        del(&ht, "c", d);
        for (long i = d + 1; i < 4; i++)
            assert_has(&ht, "c", i);
        check_structure(&ht);
    }
    assert_int_equal(ht_size(&ht), 0);
    ht_deinit(&ht);
}

/* ---- resizes ------------------------------------------------------------- */

static void test_grow_to_100k_keeps_every_key(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    const long N = 100000;
    int grows = 0;
    for (long i = 0; i < N; i++) {
        int was = ht_is_rehashing(&ht);
        put(&ht, "key", i);
        if (!was && ht_is_rehashing(&ht))
            grows++;
        assert_int_equal(ht_size(&ht), i + 1);
        /* spot-check old keys while rehashes are in flight */
        if (i % 997 == 0)
            for (long j = 0; j <= i; j += 101)
                assert_has(&ht, "key", j);
    }
    assert_true(grows >= 14); /* 4 -> 131072 */
    check_structure(&ht);
    for (long i = 0; i < N; i++)
        assert_has(&ht, "key", i);
    assert_null(get(&ht, "key", N));
    assert_null(get(&ht, "other", 1));
    finish_rehash(&ht);
    assert_true(ht.t[0].mask + 1 >= (uint64_t)N);
    assert_true(ht.t[0].mask + 1 <= 2 * 131072);
    assert_int_equal(ht_overhead(&ht), (ht.t[0].mask + 1) * sizeof(struct entry *));
    check_structure(&ht);
    ht_deinit(&ht);
    assert_int_equal(ht_size(&ht), 0);
    assert_int_equal(ht_overhead(&ht), 0);
}

static void test_grow_starts_at_load_factor_one(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    put(&ht, "k", 0);
    assert_int_equal(ht.t[0].mask + 1, 4);
    for (long i = 1; i < 4; i++)
        put(&ht, "k", i);
    assert_false(ht_is_rehashing(&ht));
    put(&ht, "k", 4); /* used (4) >= size (4): grow to 8 */
    assert_true(ht_is_rehashing(&ht) || ht.t[0].mask + 1 == 8);
    finish_rehash(&ht);
    assert_int_equal(ht.t[0].mask + 1, 8);
    check_structure(&ht);
    ht_deinit(&ht);
}

static void test_shrink_back_from_100k(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    const long N = 100000;
    for (long i = 0; i < N; i++)
        put(&ht, "key", i);
    finish_rehash(&ht);
    uint64_t big = ht.t[0].mask + 1;
    int shrinks = 0;
    /* delete all but every 1000th key, shrinking as a cron would */
    for (long i = 0; i < N; i++) {
        if (i % 1000 == 0)
            continue;
        del(&ht, "key", i);
        if (i % 50 == 0) {
            shrinks += ht_maybe_shrink(&ht);
            ht_rehash_step(&ht, 3);
        }
        if (i % 4999 == 0) {
            check_structure(&ht);
            for (long j = 0; j < N; j += 1000)
                assert_has(&ht, "key", j);
        }
    }
    assert_int_equal(ht_size(&ht), N / 1000);
    for (;;) {
        finish_rehash(&ht);
        if (!ht_maybe_shrink(&ht))
            break;
        shrinks++;
    }
    assert_true(shrinks >= 1);
    uint64_t small = ht.t[0].mask + 1;
    assert_true(small < big);
    /* shrunk to the smallest power of two >= used (never below 1/8 full) */
    assert_true(small >= (uint64_t)(N / 1000));
    assert_true(small <= 8 * (uint64_t)(N / 1000));
    check_structure(&ht);
    for (long j = 0; j < N; j += 1000)
        assert_has(&ht, "key", j);
    for (long j = 1; j < N; j += 1000)
        assert_null(get(&ht, "key", j));
    ht_deinit(&ht);
}

static void test_shrink_needs_sparse_table(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    for (long i = 0; i < 64; i++)
        put(&ht, "k", i);
    finish_rehash(&ht);
    assert_int_equal(ht.t[0].mask + 1, 64);
    assert_int_equal(ht_maybe_shrink(&ht), 0); /* full */
    for (long i = 8; i < 64; i++)
        del(&ht, "k", i);
    assert_int_equal(ht_maybe_shrink(&ht), 0); /* 8 of 64 is not < 1/8 */
    del(&ht, "k", 7);
    assert_int_equal(ht_maybe_shrink(&ht), 1);
    assert_true(ht_is_rehashing(&ht));
    assert_int_equal(ht_maybe_shrink(&ht), 0); /* not while rehashing */
    finish_rehash(&ht);
    assert_int_equal(ht.t[0].mask + 1, 8);
    for (long i = 0; i < 7; i++)
        assert_has(&ht, "k", i);
    check_structure(&ht);
    ht_deinit(&ht);
}

static void test_shrink_of_empty_table_frees_buckets(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    for (long i = 0; i < 100; i++)
        put(&ht, "k", i);
    finish_rehash(&ht);
    for (long i = 0; i < 100; i++)
        del(&ht, "k", i);
    assert_int_equal(ht_maybe_shrink(&ht), 1);
    assert_null(ht.t[0].buckets);
    assert_int_equal(ht_overhead(&ht), 0);
    /* and it is usable again */
    put(&ht, "k", 5);
    assert_has(&ht, "k", 5);
    ht_deinit(&ht);
}

static void test_never_shrinks_below_min_size(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    put(&ht, "k", 1);
    assert_int_equal(ht.t[0].mask + 1, 4);
    assert_int_equal(ht_maybe_shrink(&ht), 0);
    ht_deinit(&ht);
}

/* ---- mid-rehash behaviour ------------------------------------------------ */

/* Fills a table up to the point where the next insert starts a grow of a
 * table of `size` buckets, then inserts it. */
static void start_grow(struct ht *ht, const char *prefix, long size)
{
    for (long i = 0; i < size; i++)
        put(ht, prefix, i);
    finish_rehash(ht);
    assert_int_equal(ht->t[0].mask + 1, size);
    put(ht, prefix, size);
    assert_true(ht_is_rehashing(ht));
}

static void test_lookups_correct_in_the_middle_of_a_grow(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    const long S = 65536;
    start_grow(&ht, "g", S);
    /* lookups do not move buckets: all of these run mid-rehash */
    long mid = 0;
    for (long i = 0; i <= S; i++) {
        if (ht_is_rehashing(&ht))
            mid++;
        assert_has(&ht, "g", i);
        assert_null(get(&ht, "absent", i));
    }
    assert_true(mid > 10000);
    check_structure(&ht);
    ht_deinit(&ht);
}

static void test_lookups_correct_in_the_middle_of_a_shrink(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    for (long i = 0; i < 65536; i++)
        put(&ht, "s", i);
    finish_rehash(&ht);
    for (long i = 0; i < 65536; i++)
        if (i % 64)
            del(&ht, "s", i);
    finish_rehash(&ht);
    assert_int_equal(ht_maybe_shrink(&ht), 1);
    long mid = 0;
    for (int round = 0; round < 3; round++) {
        for (long i = 0; i < 65536; i += 64) {
            if (ht_is_rehashing(&ht))
                mid++;
            assert_has(&ht, "s", i);
            assert_null(get(&ht, "s", i + 1));
            ht_rehash_step(&ht, 1);
            if (!ht_is_rehashing(&ht))
                break;
        }
    }
    assert_true(mid > 10);
    check_structure(&ht);
    ht_deinit(&ht);
}

static void test_lookups_do_not_move_buckets_so_links_stay_valid(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    start_grow(&ht, "L", 4096);
    ht_rehash_step(&ht, 100);
    int64_t idx = ht.rehashidx;
    uint64_t u0 = ht.t[0].used, u1 = ht.t[1].used;
    /* hold links to keys in both tables across many other lookups */
    struct entry **refs[64];
    struct entry *ents[64];
    for (long i = 0; i < 64; i++) {
        char k[64];
        int n = keyname(k, "L", i * 61);
        refs[i] = ht_find_ref(&ht, ht_hash(SEED, k, (size_t)n), k, (size_t)n);
        assert_non_null(refs[i]);
        ents[i] = *refs[i];
    }
    for (long i = 0; i <= 4096; i++)
        assert_has(&ht, "L", i);
    assert_int_equal(ht.rehashidx, idx);
    assert_int_equal(ht.t[0].used, u0);
    assert_int_equal(ht.t[1].used, u1);
    for (long i = 0; i < 64; i++)
        assert_ptr_equal(*refs[i], ents[i]);
    /* a held link unlinks the right entry (one at a time: an unlink may
     * invalidate the other links of the same chain) */
    struct entry *e = ht_unlink_ref(&ht, refs[0]);
    assert_ptr_equal(e, ents[0]);
    entry_destroy(e);
    assert_null(get(&ht, "L", 0));
    check_structure(&ht);
    ht_deinit(&ht);
}

/* ht_insert_stable (a key promoted inside a lookup) keeps every link held
 * from earlier lookups valid: no rehash step, no resize, tail of its chain;
 * the next plain insert still grows the table. */
static void test_insert_stable_moves_no_link(void **state)
{
    (void)state;
    for (int rehashing = 0; rehashing < 2; rehashing++) {
        struct ht ht;
        ht_init(&ht, SEED);
        if (rehashing) {
            start_grow(&ht, "S", 4096);
            ht_rehash_step(&ht, 100);
        } else {
            for (long i = 0; i < 1024; i++) /* full: the next ht_insert would grow */
                put(&ht, "S", i);
            assert_false(ht_is_rehashing(&ht));
        }
        int64_t idx = ht.rehashidx;
        struct entry **refs[64];
        struct entry *ents[64];
        for (long i = 0; i < 64; i++) {
            struct entry *e = get(&ht, "S", i * 13);
            assert_non_null(e);
            char k[64];
            int n = keyname(k, "S", i * 13);
            refs[i] = ht_find_ref(&ht, ht_hash(SEED, k, (size_t)n), k, (size_t)n);
            ents[i] = e;
        }
        for (long i = 0; i < 3000; i++) {
            char k[64];
            int n = keyname(k, "new", i);
            struct entry *e = mkentry(k, (size_t)n, i);
            assert_int_equal(ht_insert_stable(&ht, ht_hash(SEED, k, (size_t)n), e), ST_OK);
        }
        assert_int_equal(ht.rehashidx, idx);
        for (long i = 0; i < 64; i++)
            assert_ptr_equal(*refs[i], ents[i]);
        for (long i = 0; i < 3000; i++)
            assert_non_null(get(&ht, "new", i));
        check_structure(&ht);
        if (!rehashing) {
            put(&ht, "after", 0);
            assert_true(ht_is_rehashing(&ht)); /* the plain insert grows it */
        }
        ht_deinit(&ht);
    }
}

static void test_unlink_mid_rehash_from_both_tables_keeps_counts(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    const long S = 1024;
    start_grow(&ht, "u", S);
    /* move some buckets so entries sit in both tables */
    ht_rehash_step(&ht, 200);
    assert_true(ht_is_rehashing(&ht));
    assert_true(ht.t[0].used > 0 && ht.t[1].used > 0);
    uint64_t n = ht_size(&ht);
    /* insert during the rehash: goes to t[1] */
    for (long i = 0; i < 100; i++)
        put(&ht, "new", i);
    n += 100;
    long deleted = 0;
    for (long i = 0; i <= S && ht_is_rehashing(&ht); i += 2) {
        del(&ht, "u", i);
        deleted++;
        check_structure(&ht);
    }
    assert_int_equal(ht_size(&ht), n - (uint64_t)deleted);
    finish_rehash(&ht);
    check_structure(&ht);
    assert_int_equal(ht.t[1].used, 0);
    assert_int_equal(ht.t[0].used, n - (uint64_t)deleted);
    for (long i = 0; i < 100; i++)
        assert_has(&ht, "new", i);
    ht_deinit(&ht);
}

static void test_delete_everything_mid_rehash_then_rehash_completes(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    start_grow(&ht, "d", 256);
    ht_rehash_step(&ht, 10);
    for (long i = 0; i <= 256; i++)
        del(&ht, "d", i);
    assert_int_equal(ht_size(&ht), 0);
    assert_int_equal(ht.t[0].used, 0);
    assert_int_equal(ht.t[1].used, 0);
    finish_rehash(&ht);
    check_structure(&ht);
    put(&ht, "d", 1);
    assert_has(&ht, "d", 1);
    ht_deinit(&ht);
}

static void test_rehash_step_reports_progress(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    start_grow(&ht, "r", 4096);
    int steps = 0;
    while (ht_rehash_step(&ht, 1))
        steps++;
    assert_true(steps > 100);
    assert_false(ht_is_rehashing(&ht));
    assert_int_equal(ht.t[0].mask + 1, 8192);
    check_structure(&ht);
    ht_deinit(&ht);
}

static void test_deinit_mid_rehash_frees_both_tables(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    start_grow(&ht, "x", 2048);
    ht_rehash_step(&ht, 100);
    assert_true(ht.t[0].used > 0 && ht.t[1].used > 0);
    ht_deinit(&ht); /* ASan's leak check in the Sanitize build */
    assert_int_equal(ht_size(&ht), 0);
    assert_false(ht_is_rehashing(&ht));
    assert_null(ht.t[0].buckets);
    assert_null(ht.t[1].buckets);
    /* reusable after deinit */
    put(&ht, "x", 1);
    assert_has(&ht, "x", 1);
    ht_deinit(&ht);
}

/* ---- scan ---------------------------------------------------------------- */

struct seen {
    long n;            /* keys of the stable set */
    unsigned char *cnt; /* times each stable key was returned */
    long others;
};

static void scan_record(struct entry *e, void *ud)
{
    struct seen *s = ud;
    char k[64];
    if (e->klen < sizeof(k)) {
        memcpy(k, entry_key(e), e->klen);
        k[e->klen] = 0;
        long i;
        if (sscanf(k, "stable:%ld", &i) == 1) {
            assert_true(i >= 0 && i < s->n);
            if (s->cnt[i] < 255)
                s->cnt[i]++;
            return;
        }
    }
    s->others++;
}

static void test_scan_of_empty_table_returns_zero(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    struct seen s = { 0 };
    assert_int_equal(ht_scan(&ht, 0, scan_record, &s), 0);
    assert_int_equal(ht_scan(&ht, 12345, scan_record, &s), 0);
    ht_deinit(&ht);
}

static void test_scan_of_stable_table_returns_each_entry_exactly_once(void **state)
{
    (void)state;
    static const long sizes[] = { 1, 3, 4, 5, 100, 1000, 5000 };
    for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
        struct ht ht;
        ht_init(&ht, SEED);
        long N = sizes[z];
        for (long i = 0; i < N; i++)
            put(&ht, "stable", i);
        finish_rehash(&ht);
        struct seen s = { .n = N, .cnt = calloc((size_t)N, 1) };
        uint64_t c = 0;
        long calls = 0;
        do {
            c = ht_scan(&ht, c, scan_record, &s);
            calls++;
            assert_true(calls <= (long)(ht.t[0].mask + 1));
        } while (c != 0);
        assert_int_equal(calls, ht.t[0].mask + 1);
        for (long i = 0; i < N; i++)
            if (s.cnt[i] != 1)
                fail_msg("N=%ld key %ld returned %d times", N, i, s.cnt[i]);
        free(s.cnt);
        ht_deinit(&ht);
    }
}

static void test_scan_mid_rehash_returns_every_entry(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    const long N = 4097;
    for (long i = 0; i < N; i++)
        put(&ht, "stable", i);
    /* a grow is in progress (4096 -> 8192) and stays so: no lookups */
    assert_true(ht_is_rehashing(&ht));
    ht_rehash_step(&ht, 500);
    assert_true(ht_is_rehashing(&ht));
    struct seen s = { .n = N, .cnt = calloc((size_t)N, 1) };
    uint64_t c = 0;
    long calls = 0;
    do {
        c = ht_scan(&ht, c, scan_record, &s);
        assert_true(++calls <= 100000);
    } while (c != 0);
    for (long i = 0; i < N; i++)
        if (s.cnt[i] < 1)
            fail_msg("key stable:%ld never returned", i);
    free(s.cnt);
    ht_deinit(&ht);
}

/* Runs a full scan over a table holding N stable keys while the callback-free
 * gaps between scan calls insert and delete other keys: phase 0 grows the
 * table a lot, phase 1 deletes them again and shrinks, with partial rehash
 * steps in between. Every stable key must be returned at least once. */
static void scan_under_churn(uint64_t seed, long N, long grow_to, int shrink)
{
    struct ht ht;
    ht_init(&ht, SEED ^ seed);
    struct util_rng rng;
    util_rng_seed(&rng, seed);
    if (shrink) {
        /* start big so the scan sees the table shrink */
        for (long i = 0; i < grow_to; i++)
            put(&ht, "churn", i);
    }
    for (long i = 0; i < N; i++)
        put(&ht, "stable", i);
    finish_rehash(&ht);
    long lo = 0, hi = shrink ? grow_to : 0; /* churn keys present: [lo, hi) */
    struct seen s = { .n = N, .cnt = calloc((size_t)N, 1) };
    uint64_t c = 0;
    long calls = 0;
    uint64_t min_size = UINT64_MAX, max_size = 0;
    int saw_rehash = 0;
    do {
        c = ht_scan(&ht, c, scan_record, &s);
        calls++;
        assert_true(calls < 10000000);
        /* churn between calls */
        int ops = 1 + (int)(util_rng_next(&rng) % 64);
        for (int o = 0; o < ops; o++) {
            if (!shrink && hi < grow_to) {
                put(&ht, "churn", hi++);
            } else if (lo < hi) {
                del(&ht, "churn", lo++);
            }
        }
        if (util_rng_next(&rng) % 4 == 0)
            ht_maybe_shrink(&ht);
        ht_rehash_step(&ht, (int)(util_rng_next(&rng) % 3));
        if (ht_is_rehashing(&ht))
            saw_rehash = 1;
        uint64_t sz = ht.t[0].mask + 1;
        if (ht_is_rehashing(&ht) && ht.t[1].mask + 1 > sz)
            sz = ht.t[1].mask + 1;
        if (sz < min_size)
            min_size = sz;
        if (sz > max_size)
            max_size = sz;
    } while (c != 0);
    assert_true(saw_rehash);
    assert_true(max_size >= 4 * min_size); /* the table really changed size */
    for (long i = 0; i < N; i++)
        if (s.cnt[i] < 1)
            fail_msg("seed %llu: stable:%ld never returned (calls %ld, sizes %llu..%llu)",
                     (unsigned long long)seed, i, calls, (unsigned long long)min_size,
                     (unsigned long long)max_size);
    free(s.cnt);
    check_structure(&ht);
    ht_deinit(&ht);
}

static void test_scan_returns_every_stable_entry_while_table_grows(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++)
        scan_under_churn(seed, 500, 40000, 0);
}

static void test_scan_returns_every_stable_entry_while_table_shrinks(void **state)
{
    (void)state;
    for (uint64_t seed = 11; seed <= 16; seed++)
        scan_under_churn(seed, 500, 40000, 1);
}

static void test_scan_returns_every_stable_entry_under_random_churn(void **state)
{
    (void)state;
    /* random inserts and deletes of other keys, grows and shrinks mixed */
    for (uint64_t seed = 21; seed <= 30; seed++) {
        struct ht ht;
        ht_init(&ht, SEED + seed);
        struct util_rng rng;
        util_rng_seed(&rng, seed);
        const long N = 300;
        for (long i = 0; i < N; i++)
            put(&ht, "stable", i);
        long lo = 0, hi = 0;
        struct seen s = { .n = N, .cnt = calloc((size_t)N, 1) };
        uint64_t c = 0;
        long calls = 0;
        do {
            c = ht_scan(&ht, c, scan_record, &s);
            assert_true(++calls < 10000000);
            uint64_t r = util_rng_next(&rng);
            /* alternate bursts of growth and of deletion every ~200 calls */
            int growing = ((calls / 200) % 2) == 0;
            int ops = (int)(r % 200);
            for (int o = 0; o < ops; o++) {
                if (growing)
                    put(&ht, "churn", hi++);
                else if (lo < hi)
                    del(&ht, "churn", lo++);
            }
            ht_maybe_shrink(&ht);
            ht_rehash_step(&ht, (int)((r >> 20) % 4));
        } while (c != 0);
        for (long i = 0; i < N; i++)
            if (s.cnt[i] < 1)
                fail_msg("seed %llu: stable:%ld never returned", (unsigned long long)seed, i);
        free(s.cnt);
        ht_deinit(&ht);
    }
}

/* ---- random -------------------------------------------------------------- */

static void test_random_of_empty_table_is_null(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    struct util_rng rng;
    util_rng_seed(&rng, 1);
    assert_null(ht_random(&ht, rng_fn, &rng));
    ht_deinit(&ht);
}

static void test_random_returns_members_and_reaches_all(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    struct util_rng rng;
    util_rng_seed(&rng, 42);
    const long N = 16;
    for (long i = 0; i < N; i++)
        put(&ht, "stable", i);
    struct seen s = { .n = N, .cnt = calloc((size_t)N, 1) };
    for (int draw = 0; draw < 20000; draw++) {
        struct entry *e = ht_random(&ht, rng_fn, &rng);
        assert_non_null(e);
        scan_record(e, &s);
    }
    assert_int_equal(s.others, 0);
    for (long i = 0; i < N; i++)
        assert_true(s.cnt[i] > 0);
    free(s.cnt);
    ht_deinit(&ht);
}

static void test_random_mid_rehash_returns_members(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    struct util_rng rng;
    util_rng_seed(&rng, 7);
    const long N = 1025;
    for (long i = 0; i < N; i++)
        put(&ht, "stable", i);
    assert_true(ht_is_rehashing(&ht));
    struct seen s = { .n = N, .cnt = calloc((size_t)N, 1) };
    int mid = 0;
    for (int draw = 0; draw < 5000; draw++) {
        if (ht_is_rehashing(&ht))
            mid++;
        struct entry *e = ht_random(&ht, rng_fn, &rng);
        assert_non_null(e);
        scan_record(e, &s);
        if (draw % 3 == 0) {
            /* keep the rehash going by deleting and re-adding */
            long i = (long)(util_rng_next(&rng) % (uint64_t)N);
            del(&ht, "stable", i);
            put(&ht, "stable", i);
        }
    }
    assert_true(mid > 100);
    assert_int_equal(s.others, 0);
    free(s.cnt);
    ht_deinit(&ht);
}

static void test_random_with_single_entry_returns_it(void **state)
{
    (void)state;
    struct ht ht;
    ht_init(&ht, SEED);
    struct util_rng rng;
    util_rng_seed(&rng, 3);
    for (long i = 0; i < 1000; i++)
        put(&ht, "k", i);
    for (long i = 1; i < 1000; i++)
        del(&ht, "k", i);
    for (int d = 0; d < 100; d++) {
        struct entry *e = ht_random(&ht, rng_fn, &rng);
        assert_non_null(e);
        assert_int_equal(e->klen, 3);
        assert_memory_equal(entry_key(e), "k:0", 3);
    }
    ht_deinit(&ht);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_table_finds_nothing),
        cmocka_unit_test(test_insert_then_find_returns_same_entry),
        cmocka_unit_test(test_hash_depends_on_seed_and_bytes),
        cmocka_unit_test(test_empty_key_is_a_key),
        cmocka_unit_test(test_replace_ref_swaps_entry_in_chain),
        cmocka_unit_test(test_unlink_from_chain_middle_keeps_others),
        cmocka_unit_test(test_grow_to_100k_keeps_every_key),
        cmocka_unit_test(test_grow_starts_at_load_factor_one),
        cmocka_unit_test(test_shrink_back_from_100k),
        cmocka_unit_test(test_shrink_needs_sparse_table),
        cmocka_unit_test(test_shrink_of_empty_table_frees_buckets),
        cmocka_unit_test(test_never_shrinks_below_min_size),
        cmocka_unit_test(test_lookups_correct_in_the_middle_of_a_grow),
        cmocka_unit_test(test_lookups_correct_in_the_middle_of_a_shrink),
        cmocka_unit_test(test_lookups_do_not_move_buckets_so_links_stay_valid),
        cmocka_unit_test(test_insert_stable_moves_no_link),
        cmocka_unit_test(test_unlink_mid_rehash_from_both_tables_keeps_counts),
        cmocka_unit_test(test_delete_everything_mid_rehash_then_rehash_completes),
        cmocka_unit_test(test_rehash_step_reports_progress),
        cmocka_unit_test(test_deinit_mid_rehash_frees_both_tables),
        cmocka_unit_test(test_scan_of_empty_table_returns_zero),
        cmocka_unit_test(test_scan_of_stable_table_returns_each_entry_exactly_once),
        cmocka_unit_test(test_scan_mid_rehash_returns_every_entry),
        cmocka_unit_test(test_scan_returns_every_stable_entry_while_table_grows),
        cmocka_unit_test(test_scan_returns_every_stable_entry_while_table_shrinks),
        cmocka_unit_test(test_scan_returns_every_stable_entry_under_random_churn),
        cmocka_unit_test(test_random_of_empty_table_is_null),
        cmocka_unit_test(test_random_returns_members_and_reaches_all),
        cmocka_unit_test(test_random_mid_rehash_returns_members),
        cmocka_unit_test(test_random_with_single_entry_returns_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
