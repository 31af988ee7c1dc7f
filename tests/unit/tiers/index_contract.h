/*
 * index_contract.h -- engine/tier.h's indexed-tier contract (struct
 * tier_index_ops) as cmocka tests, shared by every indexed backend
 * (test_memidx.c, test_ssd.c) so each is held to the same behaviour: one
 * live record per (db, key), locations that stop being current and never
 * answer for another record, probe without false negatives, completion
 * later and exactly once, SCAN's guarantee, databases kept apart, flush,
 * swap, iterate and drain.
 *
 * The including file defines the fixture: its setup stores a struct ixfix *
 * (a fresh, empty indexed tier over at least 4 databases) in *state, its
 * teardown destroys it.
 */
#ifndef STRATA_TEST_INDEX_CONTRACT_H
#define STRATA_TEST_INDEX_CONTRACT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/tier.h"

struct ixfix {
    struct tier *t;
    char path[256]; /* a backend's directory or file, if it has one */
};

static struct tier *ix_tier(void **state)
{
    return ((struct ixfix *)*state)->t;
}

/* Value bytes derived from seed, so any copy can be checked. */
static void ix_fill(unsigned char *v, uint32_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 7;
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v[i] = (unsigned char)x;
    }
}

/* A malloc'd encoded record for key with vlen value bytes from seed. */
static void *ix_rec(const char *key, uint64_t seed, uint32_t vlen, int64_t expire_ms, size_t *len)
{
    unsigned char *val = malloc(vlen ? vlen : 1);
    assert_non_null(val);
    ix_fill(val, vlen, seed);
    struct tier_rec r = {
        .gen = seed,
        .expire_ms = expire_ms,
        .key = key,
        .klen = (uint32_t)strlen(key),
        .val = val,
        .vlen = vlen,
        .rawlen = vlen,
        .dict_id = 0,
        .type = (uint8_t)(seed % 5),
        .flags = TIER_REC_F_RAW,
    };
    *len = tier_rec_size(&r);
    void *buf = malloc(*len);
    assert_non_null(buf);
    tier_rec_encode(&r, buf);
    free(val);
    return buf;
}

static uint64_t ix_insert(struct tier *t, int db, const char *key, uint64_t seed, uint32_t vlen)
{
    size_t len;
    uint64_t loc = 0;
    void *rec = ix_rec(key, seed, vlen, -1, &len);
    assert_int_equal(t->index->insert(t, db, rec, len, &loc), ST_OK);
    assert_true(loc != 0);
    free(rec);
    return loc;
}

/* A synchronous fetch; returns rc and, on ST_OK, checks the exact bytes. */
static int ix_fetch(struct tier *t, int db, const char *key, uint64_t seed, uint32_t vlen, uint64_t *loc)
{
    struct tier_req r = { .db = db, .key = key, .klen = (uint32_t)strlen(key), .done = NULL };
    int rc = t->index->fetch(t, &r);
    assert_int_equal(rc, r.rc);
    if (rc == ST_OK) {
        size_t want_len;
        void *want = ix_rec(key, seed, vlen, -1, &want_len);
        assert_int_equal(r.len, want_len);
        assert_memory_equal(r.buf, want, want_len);
        free(want);
        free(r.buf);
        if (loc)
            *loc = r.loc;
    } else {
        assert_null(r.buf);
    }
    return rc;
}

static void test_index_insert_fetch_remove(void **state)
{
    struct tier *t = ix_tier(state);
    uint64_t la = ix_insert(t, 0, "alpha", 1, 100);
    uint64_t lb = ix_insert(t, 0, "beta", 2, 1);
    uint64_t lc = ix_insert(t, 0, "gamma", 3, 5000);
    uint64_t got = 0;
    assert_int_equal(ix_fetch(t, 0, "alpha", 1, 100, &got), ST_OK);
    assert_true(got == la);
    assert_int_equal(ix_fetch(t, 0, "beta", 2, 1, NULL), ST_OK);
    assert_int_equal(ix_fetch(t, 0, "gamma", 3, 5000, NULL), ST_OK);
    assert_int_equal(t->index->probe(t, 0, "alpha", 5), 1);
    assert_int_equal(t->index->current(t, 0, "beta", 4, lb), 1);
    assert_int_equal(t->index->remove(t, 0, "beta", 4, lb), ST_OK);
    assert_int_equal(t->index->remove(t, 0, "beta", 4, lb), ST_ENOENT);
    assert_int_equal(t->index->current(t, 0, "beta", 4, lb), 0);
    assert_int_equal(ix_fetch(t, 0, "beta", 2, 1, NULL), ST_ENOENT);
    assert_int_equal(ix_fetch(t, 0, "nosuch", 0, 0, NULL), ST_ENOENT);
    assert_int_equal(ix_fetch(t, 0, "gamma", 3, 5000, NULL), ST_OK);
    assert_true(t->index->current(t, 0, "gamma", 5, lc));
    /* a loc names one record: it is not current for another key */
    assert_int_equal(t->index->current(t, 0, "alpha", 5, lc), 0);
    assert_int_equal(t->index->remove(t, 0, "alpha", 5, lc), ST_ENOENT);
    assert_int_equal(ix_fetch(t, 0, "alpha", 1, 100, NULL), ST_OK);
}

static void test_index_insert_replaces_and_old_loc_dies(void **state)
{
    struct tier *t = ix_tier(state);
    uint64_t l1 = ix_insert(t, 0, "k", 1, 64);
    uint64_t l2 = ix_insert(t, 0, "k", 2, 300);
    assert_true(l1 != l2);
    assert_int_equal(t->index->current(t, 0, "k", 1, l1), 0);
    assert_int_equal(t->index->current(t, 0, "k", 1, l2), 1);
    assert_int_equal(ix_fetch(t, 0, "k", 2, 300, NULL), ST_OK);
    assert_int_equal(t->index->remove(t, 0, "k", 1, l1), ST_ENOENT);
    /* fetch_at of the old loc answers with the key's current record: a SCAN
     * must return a key rewritten (or moved) during its walk */
    struct tier_req r = { .db = 0, .loc = l1, .done = NULL };
    assert_int_equal(t->index->fetch_at(t, &r), ST_OK);
    size_t wl;
    void *want = ix_rec("k", 2, 300, -1, &wl);
    assert_int_equal(r.len, wl);
    assert_memory_equal(r.buf, want, wl);
    assert_true(r.loc == l2);
    free(want);
    free(r.buf);
    assert_int_equal(t->index->remove(t, 0, "k", 1, l2), ST_OK);
    struct tier_req gone = { .db = 0, .loc = l1, .done = NULL };
    assert_int_equal(t->index->fetch_at(t, &gone), ST_ENOENT); /* removed: gone */
    ix_insert(t, 0, "k", 2, 300);
    uint64_t keys = 9, vol = 9;
    t->index->db_counts(t, 0, &keys, &vol);
    assert_int_equal(keys, 1);
    assert_int_equal(vol, 0);
}

static void test_index_databases_are_apart(void **state)
{
    struct tier *t = ix_tier(state);
    uint64_t l0 = ix_insert(t, 0, "same", 10, 20);
    uint64_t l3 = ix_insert(t, 3, "same", 30, 40);
    assert_int_equal(ix_fetch(t, 0, "same", 10, 20, NULL), ST_OK);
    assert_int_equal(ix_fetch(t, 3, "same", 30, 40, NULL), ST_OK);
    assert_int_equal(ix_fetch(t, 1, "same", 0, 0, NULL), ST_ENOENT);
    assert_int_equal(t->index->current(t, 3, "same", 4, l0), 0);
    assert_int_equal(t->index->remove(t, 0, "same", 4, l3), ST_ENOENT);
    assert_int_equal(t->index->remove(t, 0, "same", 4, l0), ST_OK);
    assert_int_equal(ix_fetch(t, 3, "same", 30, 40, NULL), ST_OK);
    uint64_t k = 0;
    t->index->db_counts(t, 0, &k, NULL);
    assert_int_equal(k, 0);
    t->index->db_counts(t, 3, &k, NULL);
    assert_int_equal(k, 1);
}

static void test_index_rejects_what_is_not_one_record(void **state)
{
    struct tier *t = ix_tier(state);
    size_t len;
    uint64_t loc = 0;
    unsigned char *rec = ix_rec("key", 1, 50, -1, &len);
    assert_int_equal(t->index->insert(t, 0, rec, len - 1, &loc), ST_EINVAL);
    rec[len - 1] ^= 1; /* CRC */
    assert_int_equal(t->index->insert(t, 0, rec, len, &loc), ST_EINVAL);
    free(rec);
    assert_int_equal(ix_fetch(t, 0, "key", 1, 50, NULL), ST_ENOENT);
}

static void test_index_counts_keys_with_expiry(void **state)
{
    struct tier *t = ix_tier(state);
    size_t len;
    uint64_t loc;
    for (int i = 0; i < 10; i++) {
        char key[16];
        snprintf(key, sizeof(key), "v%d", i);
        /* far in the future: no tier may expire them during the test */
        void *rec = ix_rec(key, (uint64_t)i, 10, i < 4 ? INT64_C(4102444800000) : -1, &len);
        assert_int_equal(t->index->insert(t, 1, rec, len, &loc), ST_OK);
        free(rec);
    }
    uint64_t keys = 0, vol = 0;
    t->index->db_counts(t, 1, &keys, &vol);
    assert_int_equal(keys, 10);
    assert_int_equal(vol, 4);
}

struct ix_async {
    struct tier_req req;
    pthread_t caller;
    _Atomic int calls;
    _Atomic int other_thread;
};

static void ix_async_done(struct tier_req *r)
{
    struct ix_async *a = (struct ix_async *)r;
    atomic_fetch_add(&a->calls, 1);
    if (!pthread_equal(pthread_self(), a->caller))
        atomic_store(&a->other_thread, 1);
}

/* With done set, an answer that is not immediate arrives exactly once, later,
 * from a tier thread; drain waits for every one. */
static void test_index_fetch_completes_later_exactly_once(void **state)
{
    struct tier *t = ix_tier(state);
    enum { N = 200 };
    char keys[N][24];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "async:%d", i);
        if (i % 4)
            ix_insert(t, 0, keys[i], (uint64_t)i + 1, (uint32_t)(i * 7));
    }
    struct ix_async *a = calloc(N, sizeof(*a));
    assert_non_null(a);
    int pending = 0;
    for (int i = 0; i < N; i++) {
        a[i].req = (struct tier_req){ .db = 0, .key = keys[i], .klen = (uint32_t)strlen(keys[i]),
                                      .done = ix_async_done };
        a[i].caller = pthread_self();
        int rc = t->index->fetch(t, &a[i].req);
        if (rc == ST_EPENDING)
            pending++;
        else
            a[i].req.rc = rc;
    }
    t->index->drain(t);
    for (int i = 0; i < N; i++) {
        int was_pending = atomic_load(&a[i].calls) > 0;
        if (was_pending) {
            assert_int_equal(atomic_load(&a[i].calls), 1);
            assert_int_equal(atomic_load(&a[i].other_thread), 1);
        }
        if (i % 4) {
            assert_int_equal(a[i].req.rc, ST_OK);
            size_t wl;
            void *want = ix_rec(keys[i], (uint64_t)i + 1, (uint32_t)(i * 7), -1, &wl);
            assert_int_equal(a[i].req.len, wl);
            assert_memory_equal(a[i].req.buf, want, wl);
            free(want);
            free(a[i].req.buf);
        } else {
            assert_int_equal(a[i].req.rc, ST_ENOENT);
        }
        pending -= was_pending;
    }
    assert_int_equal(pending, 0);
    free(a);
}

/* fetch_at answers for the record at a loc only while it is current. */
static void test_index_fetch_at_follows_currency(void **state)
{
    struct tier *t = ix_tier(state);
    uint64_t l = ix_insert(t, 2, "at", 5, 77);
    struct tier_req r = { .db = 2, .loc = l, .done = NULL };
    assert_int_equal(t->index->fetch_at(t, &r), ST_OK);
    struct tier_rec dec;
    size_t used = 0;
    assert_int_equal(tier_rec_decode(r.buf, r.len, &dec, &used), ST_OK);
    assert_int_equal(dec.klen, 2);
    assert_memory_equal(dec.key, "at", 2);
    free(r.buf);
    struct tier_req other = { .db = 1, .loc = l, .done = NULL };
    assert_int_equal(t->index->fetch_at(t, &other), ST_ENOENT); /* another db */
    assert_int_equal(t->index->remove(t, 2, "at", 2, l), ST_OK);
    struct tier_req gone = { .db = 2, .loc = l, .done = NULL };
    assert_int_equal(t->index->fetch_at(t, &gone), ST_ENOENT);
}

/* Full SCAN walks, with keys inserted, rewritten and removed between calls:
 * a key indexed for the whole walk comes back at least once. */
static void test_index_scan_returns_every_stable_key(void **state)
{
    struct tier *t = ix_tier(state);
    enum { STABLE = 3000, CHURN = 2000 };
    char key[32];
    for (int i = 0; i < STABLE; i++) {
        snprintf(key, sizeof(key), "stable:%d", i);
        ix_insert(t, 0, key, (uint64_t)i, 8);
    }
    unsigned char *seen = calloc(STABLE, 1);
    uint64_t *locs = malloc(sizeof(*locs) * 64);
    assert_non_null(seen);
    assert_non_null(locs);
    uint64_t cursor = 0;
    int calls = 0, churn = 0;
    do {
        size_t n = 0;
        cursor = t->index->scan(t, 0, cursor, locs, 64, &n);
        assert_true(n <= 64);
        assert_true(cursor < (1ull << 60));
        for (size_t i = 0; i < n; i++) {
            struct tier_req r = { .db = 0, .loc = locs[i], .done = NULL };
            if (t->index->fetch_at(t, &r) != ST_OK)
                continue; /* removed since: allowed */
            struct tier_rec dec;
            size_t used = 0;
            assert_int_equal(tier_rec_decode(r.buf, r.len, &dec, &used), ST_OK);
            int id = -1;
            if (dec.klen > 7 && dec.klen < 32 && memcmp(dec.key, "stable:", 7) == 0) {
                char k[32];
                memcpy(k, dec.key, dec.klen);
                k[dec.klen] = '\0'; /* the record's key is not terminated */
                id = atoi(k + 7);
            }
            if (id >= 0 && id < STABLE)
                seen[id] = 1;
            free(r.buf);
        }
        /* churn between calls: new keys (growth), rewrites of stable keys
         * (same value: a new location), removals of churn keys */
        for (int j = 0; j < 20 && churn < CHURN; j++, churn++) {
            snprintf(key, sizeof(key), "churn:%d", churn);
            uint64_t l = ix_insert(t, 0, key, (uint64_t)churn, 4);
            if (churn % 3 == 0)
                assert_int_equal(t->index->remove(t, 0, key, strlen(key), l), ST_OK);
            int s = (churn * 7919) % STABLE;
            snprintf(key, sizeof(key), "stable:%d", s);
            ix_insert(t, 0, key, (uint64_t)s, 8);
        }
        calls++;
    } while (cursor != 0 && calls < 100000);
    assert_int_equal(cursor, 0);
    for (int i = 0; i < STABLE; i++)
        if (!seen[i])
            fail_msg("scan missed stable:%d", i);
    free(seen);
    free(locs);
}

static void test_index_random_covers_and_ends_when_empty(void **state)
{
    struct tier *t = ix_tier(state);
    uint64_t loc = 0;
    assert_int_equal(t->index->random(t, 0, 12345, &loc), ST_ENOENT);
    uint64_t locs[8];
    for (int i = 0; i < 8; i++) {
        char key[16];
        snprintf(key, sizeof(key), "r%d", i);
        locs[i] = ix_insert(t, 0, key, (uint64_t)i, 3);
    }
    int hits[8] = { 0 };
    uint64_t x = 88172645463325252ull;
    for (int n = 0; n < 4000; n++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        assert_int_equal(t->index->random(t, 0, x, &loc), ST_OK);
        int found = 0;
        for (int i = 0; i < 8; i++)
            if (locs[i] == loc) {
                hits[i]++;
                found = 1;
            }
        assert_true(found);
    }
    for (int i = 0; i < 8; i++)
        assert_true(hits[i] > 100); /* 500 expected each */
    assert_int_equal(t->index->random(t, 1, x, &loc), ST_ENOENT);
}

static void test_index_flushdb_and_swapdb(void **state)
{
    struct tier *t = ix_tier(state);
    ix_insert(t, 0, "a0", 1, 10);
    ix_insert(t, 1, "a1", 2, 10);
    ix_insert(t, 2, "a2", 3, 10);
    assert_int_equal(t->index->swapdb(t, 0, 1), ST_OK);
    assert_int_equal(ix_fetch(t, 1, "a0", 1, 10, NULL), ST_OK);
    assert_int_equal(ix_fetch(t, 0, "a1", 2, 10, NULL), ST_OK);
    assert_int_equal(ix_fetch(t, 0, "a0", 1, 10, NULL), ST_ENOENT);
    assert_int_equal(t->index->probe(t, 1, "a0", 2), 1);
    assert_int_equal(t->index->flushdb(t, 1), ST_OK);
    assert_int_equal(ix_fetch(t, 1, "a0", 1, 10, NULL), ST_ENOENT);
    assert_int_equal(ix_fetch(t, 0, "a1", 2, 10, NULL), ST_OK);
    assert_int_equal(t->index->flushdb(t, -1), ST_OK);
    assert_int_equal(ix_fetch(t, 0, "a1", 2, 10, NULL), ST_ENOENT);
    assert_int_equal(ix_fetch(t, 2, "a2", 3, 10, NULL), ST_ENOENT);
    uint64_t k = 1;
    t->index->db_counts(t, 2, &k, NULL);
    assert_int_equal(k, 0);
    /* usable after a flush */
    ix_insert(t, 2, "again", 4, 10);
    assert_int_equal(ix_fetch(t, 2, "again", 4, 10, NULL), ST_OK);
}

struct ix_walk {
    int n;
    int dbs[4];
};

static int ix_walk_fn(void *ud, int db, const void *rec, size_t len, uint64_t loc, uint64_t seq)
{
    (void)seq;
    struct ix_walk *w = ud;
    struct tier_rec dec;
    size_t used = 0;
    assert_int_equal(tier_rec_decode(rec, len, &dec, &used), ST_OK);
    assert_true(loc != 0);
    assert_true(db >= 0 && db < 4);
    w->dbs[db]++;
    w->n++;
    return 0;
}

static void test_index_iterate_visits_current_records_once(void **state)
{
    struct tier *t = ix_tier(state);
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof(key), "it%d", i);
        uint64_t l = ix_insert(t, i % 3, key, (uint64_t)i, 30);
        if (i % 5 == 0)
            ix_insert(t, i % 3, key, (uint64_t)i + 100, 31); /* replaced: one record left */
        if (i % 7 == 0 && i % 5 != 0)
            assert_int_equal(t->index->remove(t, i % 3, key, strlen(key), l), ST_OK);
    }
    struct ix_walk w = { 0 };
    assert_int_equal(t->index->iterate(t, ix_walk_fn, &w), 0);
    int removed = 0;
    for (int i = 0; i < 50; i++)
        removed += i % 7 == 0 && i % 5 != 0;
    assert_int_equal(w.n, 50 - removed);
}

/* Sequences grow with each insert; seq_now separates before from after;
 * fetch, fetch_at and iterate report a record's own. */
struct ix_seqs {
    uint64_t mark;
    int before, after;
};

static int ix_seq_fn(void *ud, int db, const void *rec, size_t len, uint64_t loc, uint64_t seq)
{
    struct ix_seqs *q = ud;
    (void)db, (void)rec, (void)len, (void)loc;
    if (seq <= q->mark)
        q->before++;
    else
        q->after++;
    return 0;
}

static void test_index_sequences_tell_before_from_after(void **state)
{
    struct tier *t = ix_tier(state);
    ix_insert(t, 0, "s1", 1, 10);
    ix_insert(t, 0, "s2", 2, 10);
    uint64_t mark = t->index->seq_now(t);
    ix_insert(t, 0, "s3", 3, 10);
    ix_insert(t, 0, "s1", 4, 10); /* rewritten after the mark */
    struct tier_req r = { .db = 0, .key = "s2", .klen = 2, .done = NULL };
    assert_int_equal(t->index->fetch(t, &r), ST_OK);
    assert_true(r.seq > 0 && r.seq <= mark);
    uint64_t s2 = r.seq, s2loc = r.loc;
    free(r.buf);
    struct tier_req q = { .db = 0, .key = "s3", .klen = 2, .done = NULL };
    assert_int_equal(t->index->fetch(t, &q), ST_OK);
    assert_true(q.seq > mark);
    free(q.buf);
    struct tier_req a = { .db = 0, .loc = s2loc, .done = NULL };
    assert_int_equal(t->index->fetch_at(t, &a), ST_OK);
    assert_true(a.seq == s2);
    free(a.buf);
    struct ix_seqs w = { .mark = mark };
    assert_int_equal(t->index->iterate(t, ix_seq_fn, &w), 0);
    assert_int_equal(w.before, 1); /* s2 */
    assert_int_equal(w.after, 2);  /* s3, the new s1 */
    assert_true(t->index->seq_now(t) > mark);
}

struct ix_stress {
    struct tier *t;
    int id;
    _Atomic int *errors;
};

/* Each thread owns its keys: inserts, rewrites, removes and fetches them;
 * what it fetches is always its own latest value or nothing. */
static void *ix_stress_main(void *arg)
{
    struct ix_stress *s = arg;
    char key[32];
    uint64_t seeds[64] = { 0 };
    uint64_t locs[64] = { 0 };
    for (int round = 0; round < 2000; round++) {
        int k = round % 64;
        snprintf(key, sizeof(key), "t%d:%d", s->id, k);
        if (round % 5 == 4 && locs[k]) {
            if (s->t->index->remove(s->t, 0, key, strlen(key), locs[k]) != ST_OK)
                atomic_fetch_add(s->errors, 1);
            locs[k] = 0;
            seeds[k] = 0;
        } else {
            seeds[k] = 1ull << 63 | (uint64_t)s->id << 32 | (uint64_t)round; /* never 0: 0 = absent */
            size_t len;
            void *rec = ix_rec(key, seeds[k], (uint32_t)(round % 300), -1, &len);
            if (s->t->index->insert(s->t, 0, rec, len, &locs[k]) != ST_OK)
                atomic_fetch_add(s->errors, 1);
            free(rec);
        }
        int f = (round * 31) % 64;
        snprintf(key, sizeof(key), "t%d:%d", s->id, f);
        struct tier_req r = { .db = 0, .key = key, .klen = (uint32_t)strlen(key), .done = NULL };
        int rc = s->t->index->fetch(s->t, &r);
        if (seeds[f] == 0) {
            if (rc != ST_ENOENT)
                atomic_fetch_add(s->errors, 1);
        } else if (rc != ST_OK) {
            atomic_fetch_add(s->errors, 1);
        } else {
            struct tier_rec dec;
            size_t used = 0;
            if (tier_rec_decode(r.buf, r.len, &dec, &used) != ST_OK || dec.gen != seeds[f])
                atomic_fetch_add(s->errors, 1);
        }
        free(r.buf);
    }
    return NULL;
}

static void test_index_concurrent_callers(void **state)
{
    struct tier *t = ix_tier(state);
    enum { THREADS = 4 };
    pthread_t th[THREADS];
    struct ix_stress s[THREADS];
    _Atomic int errors = 0;
    for (int i = 0; i < THREADS; i++) {
        s[i] = (struct ix_stress){ .t = t, .id = i, .errors = &errors };
        assert_int_equal(pthread_create(&th[i], NULL, ix_stress_main, &s[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&errors), 0);
}

#define INDEX_CONTRACT_TESTS(setup, teardown)                                                         \
    cmocka_unit_test_setup_teardown(test_index_insert_fetch_remove, setup, teardown),                 \
        cmocka_unit_test_setup_teardown(test_index_insert_replaces_and_old_loc_dies, setup, teardown), \
        cmocka_unit_test_setup_teardown(test_index_databases_are_apart, setup, teardown),             \
        cmocka_unit_test_setup_teardown(test_index_rejects_what_is_not_one_record, setup, teardown),  \
        cmocka_unit_test_setup_teardown(test_index_counts_keys_with_expiry, setup, teardown),         \
        cmocka_unit_test_setup_teardown(test_index_fetch_completes_later_exactly_once, setup, teardown), \
        cmocka_unit_test_setup_teardown(test_index_fetch_at_follows_currency, setup, teardown),       \
        cmocka_unit_test_setup_teardown(test_index_scan_returns_every_stable_key, setup, teardown),   \
        cmocka_unit_test_setup_teardown(test_index_random_covers_and_ends_when_empty, setup, teardown), \
        cmocka_unit_test_setup_teardown(test_index_flushdb_and_swapdb, setup, teardown),              \
        cmocka_unit_test_setup_teardown(test_index_iterate_visits_current_records_once, setup, teardown), \
        cmocka_unit_test_setup_teardown(test_index_sequences_tell_before_from_after, setup, teardown), \
        cmocka_unit_test_setup_teardown(test_index_concurrent_callers, setup, teardown)

#endif
