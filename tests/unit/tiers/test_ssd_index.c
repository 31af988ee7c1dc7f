/*
 * test_ssd_index.c -- unit tests for tiers/ssd_index.c, the SSD tier's DRAM
 * index: insert/lookup/remove, growth and shrinking across many keys,
 * backward-shift deletion against a reference model (with forced
 * fingerprint collisions), the scan guarantee while another thread makes
 * the tables grow and shrink, random picks' uniformity, db_counts,
 * flushdb, swapdb, and the DRAM per key at 1M keys (<= 12 bytes).
 *
 * Entries are synthetic: key i's hash gives stripe and fingerprint, and
 * (slot, off) is derived from i, so every entry has its own identity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "tiers/ssd_index.h"

static uint64_t key_hash(struct sidx *x, uint64_t i)
{
    char k[32];
    int n = snprintf(k, sizeof(k), "key:%llu", (unsigned long long)i);
    return sidx_hash(x, k, (size_t)n);
}

static uint64_t ent_of(uint64_t h, uint64_t i)
{
    return sidx_ent(sidx_fp_of(h), (int)(i % 3 == 0), (unsigned)(i % 8), (unsigned)(i % SIDX_SLOTS),
                    4096 + 8 * (i / SIDX_SLOTS));
}

static void add(struct sidx *x, int db, uint64_t i)
{
    uint64_t h = key_hash(x, i);
    struct sidx_stripe *s = sidx_lock(x, db, h, 1);
    assert_non_null(s);
    assert_int_equal(sidx_add_locked(s, ent_of(h, i)), ST_OK);
    sidx_unlock(s);
}

static int has(struct sidx *x, int db, uint64_t i)
{
    uint64_t h = key_hash(x, i), want = ent_of(h, i), c[64];
    struct sidx_stripe *s = sidx_lock(x, db, h, 0);
    if (!s)
        return 0;
    size_t n = sidx_find_locked(s, sidx_fp_of(h), c, 64);
    sidx_unlock(s);
    for (size_t k = 0; k < n && k < 64; k++)
        if (c[k] == want)
            return 1;
    return 0;
}

static int del(struct sidx *x, int db, uint64_t i)
{
    uint64_t h = key_hash(x, i);
    struct sidx_stripe *s = sidx_lock(x, db, h, 0);
    if (!s)
        return ST_ENOENT;
    int rc = sidx_del_locked(s, ent_of(h, i));
    sidx_unlock(s);
    return rc;
}

static struct sidx *mk(unsigned dbs)
{
    struct sidx *x = NULL;
    assert_int_equal(sidx_create(dbs, 0x1234567890abcdefull, &x), ST_OK);
    return x;
}

static void test_index_entry_packing_round_trips(void **state)
{
    (void)state;
    uint64_t e = sidx_ent(0x7ffff, 1, 7, SIDX_SLOTS - 1, (1ull << 30) - 8);
    assert_int_equal(sidx_ent_fp(e), 0x7ffff);
    assert_int_equal(sidx_ent_ttl(e), 1);
    assert_int_equal(sidx_ent_sz(e), 7);
    assert_int_equal(sidx_ent_slot(e), SIDX_SLOTS - 1);
    assert_int_equal(sidx_ent_off(e), (1ull << 30) - 8);
    e = sidx_ent(0, 0, 0, 0, 4096);
    assert_true(e != 0); /* offsets start at 4096: no entry is 0 */
    assert_int_equal(sidx_ent_off(e), 4096);
    assert_int_equal(sidx_sz_class(4096, 100), 0);
    assert_int_equal(sidx_sz_class(4096 + 4000, 100), 1);  /* crosses a block */
    assert_int_equal(sidx_sz_class(4096, 4096 * 3), 2);
    assert_int_equal(sidx_sz_class(4096, 4096ull * 1000), 7);
    /* identity ignores ttl and sz */
    assert_true((sidx_ent(5, 0, 1, 2, 4096) & SIDX_ID_MASK) == (sidx_ent(5, 1, 6, 2, 4096) & SIDX_ID_MASK));
}

static void test_index_insert_lookup_remove(void **state)
{
    (void)state;
    struct sidx *x = mk(2);
    for (uint64_t i = 0; i < 1000; i++)
        add(x, 0, i);
    for (uint64_t i = 0; i < 1000; i++) {
        assert_true(has(x, 0, i));
        assert_false(has(x, 1, i));
    }
    assert_false(has(x, 0, 5000));
    for (uint64_t i = 0; i < 1000; i += 2)
        assert_int_equal(del(x, 0, i), ST_OK);
    assert_int_equal(del(x, 0, 0), ST_ENOENT);
    for (uint64_t i = 0; i < 1000; i++)
        assert_int_equal(has(x, 0, i), (int)(i & 1));
    uint64_t k, v;
    sidx_counts(x, 0, &k, &v);
    assert_int_equal(k, 500);
    uint64_t vol = 0;
    for (uint64_t i = 1; i < 1000; i += 2)
        vol += i % 3 == 0;
    assert_int_equal(v, vol);
    assert_int_equal(sidx_check(x), ST_OK);
    /* replace keeps the position, swaps slot/off and the ttl count */
    uint64_t h = key_hash(x, 1), old = ent_of(h, 1), nw = sidx_ent(sidx_fp_of(h), 1, 0, 77, 8192);
    struct sidx_stripe *s = sidx_lock(x, 0, h, 0);
    assert_int_equal(sidx_replace_locked(s, old, nw), ST_OK);
    assert_int_equal(sidx_replace_locked(s, old, nw), ST_ENOENT);
    uint64_t c[4];
    assert_int_equal(sidx_find_locked(s, sidx_fp_of(h), c, 4), 1);
    assert_true(c[0] == nw);
    sidx_unlock(s);
    sidx_counts(x, 0, &k, &v);
    assert_int_equal(v, vol + 1);
    assert_int_equal(sidx_check(x), ST_OK);
    sidx_destroy(&x);
    assert_null(x);
    sidx_destroy(&x);
}

static void test_index_grows_and_shrinks_across_many_keys(void **state)
{
    (void)state;
    struct sidx *x = mk(1);
    const uint64_t n = 200000;
    uint64_t b0 = sidx_bytes(x);
    for (uint64_t i = 0; i < n; i++)
        add(x, 0, i);
    assert_int_equal(sidx_entries(x), n);
    assert_int_equal(sidx_check(x), ST_OK);
    uint64_t big = sidx_bytes(x);
    for (uint64_t i = 0; i < n; i++)
        assert_true(has(x, 0, i));
    for (uint64_t i = 0; i < n; i++)
        if (i % 10)
            assert_int_equal(del(x, 0, i), ST_OK);
    assert_int_equal(sidx_entries(x), n / 10);
    assert_int_equal(sidx_check(x), ST_OK);
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(has(x, 0, i), i % 10 == 0);
    assert_true(sidx_bytes(x) < big / 3); /* tables shrank */
    assert_true(sidx_bytes(x) > b0);
    sidx_destroy(&x);
}

/* Entries crafted to share fingerprints and homes: one stripe, small fp
 * range, so runs are long and deletions shift a lot. Checked against a
 * reference set after every operation. */
static void test_index_backward_shift_deletion_matches_a_reference_model(void **state)
{
    (void)state;
    struct sidx *x = mk(1);
    enum { N = 3000 };
    static uint64_t model[N];
    static int live[N];
    uint64_t h = 0; /* stripe 0; fp set below */
    uint64_t rng = 42;
    memset(live, 0, sizeof(live));
    for (int i = 0; i < N; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        /* 64 clusters of shared fps, half of them spread over the cluster */
        uint32_t r = (uint32_t)(rng >> 32);
        uint32_t fp = (r % 64) << 13 | (i % 2 ? 0 : (r >> 8) % 8192);
        model[i] = sidx_ent(fp, i & 1, 0, (unsigned)(i % SIDX_SLOTS), 4096 + 8 * (uint64_t)i);
    }
    for (int round = 0; round < 40000; round++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int i = (int)((rng >> 33) % N);
        struct sidx_stripe *s = sidx_lock(x, 0, h, 1);
        if (live[i]) {
            assert_int_equal(sidx_del_locked(s, model[i]), ST_OK);
            live[i] = 0;
        } else {
            assert_int_equal(sidx_add_locked(s, model[i]), ST_OK);
            live[i] = 1;
        }
        sidx_unlock(s);
        if (round % 997 == 0) {
            assert_int_equal(sidx_check(x), ST_OK);
            uint64_t c[N];
            s = sidx_lock(x, 0, h, 1);
            for (int k = 0; k < N; k++) {
                size_t n = sidx_find_locked(s, sidx_ent_fp(model[k]), c, N);
                int found = 0;
                for (size_t j = 0; j < n; j++)
                    found |= c[j] == model[k];
                assert_int_equal(found, live[k]);
            }
            sidx_unlock(s);
        }
    }
    assert_int_equal(sidx_check(x), ST_OK);
    sidx_destroy(&x);
}

struct churn {
    struct sidx *x;
    int stop; /* atomic */
    uint64_t base;
};

/* Inserts and removes keys base.. in waves, so stripes grow and shrink. */
static void *churn_main(void *arg)
{
    struct churn *c = arg;
    while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
        for (uint64_t i = 0; i < 40000 && !__atomic_load_n(&c->stop, __ATOMIC_RELAXED); i++)
            add(c->x, 0, c->base + i);
        for (uint64_t i = 0; i < 40000; i++)
            if (has(c->x, 0, c->base + i))
                assert_int_equal(del(c->x, 0, c->base + i), ST_OK);
    }
    return NULL;
}

static uint64_t map_id(void *ud, uint64_t e)
{
    (void)ud;
    return e;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_index_scan_returns_every_stable_entry_across_concurrent_resizes(void **state)
{
    (void)state;
    struct sidx *x = mk(1);
    enum { STABLE = 20000 };
    for (uint64_t i = 0; i < STABLE; i++)
        add(x, 0, i);
    struct churn c = {.x = x, .base = 1000000};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, churn_main, &c), 0);
    uint64_t *seen = malloc(sizeof(uint64_t) * 400000);
    assert_non_null(seen);
    for (int walk = 0; walk < 6; walk++) {
        size_t nseen = 0, n;
        uint64_t cur = 0, buf[64];
        int calls = 0;
        do {
            cur = sidx_scan(x, 0, cur, map_id, NULL, buf, 64, &n);
            assert_true(n <= 64);
            assert_true(nseen + n <= 400000);
            memcpy(seen + nseen, buf, n * sizeof(uint64_t));
            nseen += n;
            calls++;
        } while (cur != 0);
        qsort(seen, nseen, sizeof(uint64_t), cmp_u64);
        for (uint64_t i = 0; i < STABLE; i++) {
            uint64_t e = ent_of(key_hash(x, i), i);
            assert_non_null(bsearch(&e, seen, nseen, sizeof(uint64_t), cmp_u64));
        }
        /* never twice: a stable entry appears exactly once */
        for (size_t k = 1; k < nseen; k++)
            assert_true(seen[k] != seen[k - 1]);
        assert_true(calls > 1);
    }
    __atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
    pthread_join(th, NULL);
    assert_int_equal(sidx_check(x), ST_OK);
    /* an empty database's walk ends at once */
    size_t n = 9;
    uint64_t b[4];
    sidx_destroy(&x);
    x = mk(1);
    assert_int_equal(sidx_scan(x, 0, 0, map_id, NULL, b, 4, &n), 0);
    assert_int_equal(n, 0);
    sidx_destroy(&x);
    free(seen);
}

static uint64_t map_skip_odd_slots(void *ud, uint64_t e)
{
    (void)ud;
    return sidx_ent_slot(e) & 1 ? 0 : e;
}

static void test_index_random_is_roughly_uniform(void **state)
{
    (void)state;
    struct sidx *x = mk(1);
    enum { K = 500, DRAWS = 250000 };
    static uint32_t hits[K];
    memset(hits, 0, sizeof(hits));
    uint64_t out;
    assert_int_equal(sidx_random(x, 0, 1, map_id, NULL, &out), ST_ENOENT);
    for (uint64_t i = 0; i < K; i++)
        add(x, 0, i);
    uint64_t rng = 7;
    for (int d = 0; d < DRAWS; d++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        assert_int_equal(sidx_random(x, 0, rng, map_id, NULL, &out), ST_OK);
        /* slot = i % SIDX_SLOTS = i for i < K */
        unsigned i = sidx_ent_slot(out);
        assert_true(i < K);
        hits[i]++;
    }
    double mean = (double)DRAWS / K, chi = 0;
    for (int i = 0; i < K; i++)
        chi += (hits[i] - mean) * (hits[i] - mean) / mean;
    /* K-1 degrees of freedom: mean 499, sd ~32; 700 is > 6 sd */
    assert_true(chi < 700);
    for (int i = 0; i < K; i++)
        assert_true(hits[i] > mean / 2);
    /* map can refuse entries: the pick moves on to others */
    for (int d = 0; d < 1000; d++) {
        assert_int_equal(sidx_random(x, 0, (uint64_t)d * 7919, map_skip_odd_slots, NULL, &out), ST_OK);
        assert_int_equal(sidx_ent_slot(out) & 1, 0);
    }
    sidx_destroy(&x);
}

static int walk_odd(void *ud, int db, uint64_t e)
{
    (void)ud;
    (void)db;
    return (int)(sidx_ent_slot(e) & 1);
}

static int walk_gone(void *ud, int db, uint64_t e)
{
    uint64_t *n = ud;
    (void)db;
    (void)e;
    (*n)++;
    return 0;
}

static int n_under;
static void under_fn(void *ud)
{
    (void)ud;
    n_under++;
}

static void test_index_db_counts_flushdb_swapdb(void **state)
{
    (void)state;
    struct sidx *x = mk(4);
    for (uint64_t i = 0; i < 300; i++)
        add(x, 0, i);
    for (uint64_t i = 1000; i < 1100; i++)
        add(x, 1, i);
    uint64_t k, v;
    sidx_counts(x, 0, &k, &v);
    assert_int_equal(k, 300);
    assert_int_equal(v, 100);
    sidx_counts(x, 2, &k, &v);
    assert_int_equal(k, 0);
    sidx_counts(x, 99, &k, &v); /* out of range: nothing */
    assert_int_equal(k, 0);

    n_under = 0;
    assert_int_equal(sidx_swapdb(x, 0, 2, under_fn, NULL), ST_OK);
    assert_int_equal(n_under, 1);
    sidx_counts(x, 0, &k, &v);
    assert_int_equal(k, 0);
    sidx_counts(x, 2, &k, &v);
    assert_int_equal(k, 300);
    assert_true(has(x, 2, 7));
    assert_false(has(x, 0, 7));
    assert_int_equal(sidx_swapdb(x, 0, 9, NULL, NULL), ST_EINVAL);

    uint64_t gone = 0;
    assert_int_equal(sidx_flushdb(x, 2, under_fn, walk_gone, &gone), ST_OK);
    assert_int_equal(gone, 300);
    assert_int_equal(n_under, 2);
    sidx_counts(x, 2, &k, &v);
    assert_int_equal(k, 0);
    assert_false(has(x, 2, 7));
    assert_true(has(x, 1, 1050));
    gone = 0;
    assert_int_equal(sidx_flushdb(x, -1, NULL, walk_gone, &gone), ST_OK);
    assert_int_equal(gone, 100);
    assert_int_equal(sidx_entries(x), 0);
    /* usable again afterwards */
    add(x, 1, 5);
    assert_true(has(x, 1, 5));

    /* walk removes what fn says */
    for (uint64_t i = 0; i < 100; i++)
        add(x, 3, i);
    uint64_t seen = 0;
    assert_int_equal(sidx_walk(x, 3, walk_gone, &seen), 0);
    assert_int_equal(seen, 100);
    assert_int_equal(sidx_walk(x, -1, walk_odd, NULL), 51); /* odd slots, +key 5 */
    assert_int_equal(sidx_check(x), ST_OK);
    sidx_destroy(&x);
}

static void test_index_costs_at_most_12_bytes_per_key_at_1m_keys(void **state)
{
    (void)state;
    struct sidx *x = mk(16);
    const uint64_t n = 1000000;
    for (uint64_t i = 0; i < n; i++)
        add(x, 0, i);
    double per_key = (double)sidx_bytes(x) / (double)n;
    print_message("index: %.2f bytes per key at %llu keys\n", per_key, (unsigned long long)n);
    assert_true(per_key <= 12.0);
    /* and still after churn: a tenth rewritten elsewhere */
    for (uint64_t i = 0; i < n; i += 10) {
        assert_int_equal(del(x, 0, i), ST_OK);
        add(x, 0, n + i);
    }
    per_key = (double)sidx_bytes(x) / (double)n;
    print_message("index: %.2f bytes per key after churn\n", per_key);
    assert_true(per_key <= 12.0);
    sidx_destroy(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_entry_packing_round_trips),
        cmocka_unit_test(test_index_insert_lookup_remove),
        cmocka_unit_test(test_index_grows_and_shrinks_across_many_keys),
        cmocka_unit_test(test_index_backward_shift_deletion_matches_a_reference_model),
        cmocka_unit_test(test_index_scan_returns_every_stable_entry_across_concurrent_resizes),
        cmocka_unit_test(test_index_random_is_roughly_uniform),
        cmocka_unit_test(test_index_db_counts_flushdb_swapdb),
        cmocka_unit_test(test_index_costs_at_most_12_bytes_per_key_at_1m_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
