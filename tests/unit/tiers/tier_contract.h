/*
 * tier_contract.h -- the engine/tier.h contract as cmocka tests, shared by
 * test_mem.c and test_pmem.c so both backends are held to the same
 * behaviour: put/get/del, stale hints never returning a value, exact stats,
 * iterate, dictionaries, malformed input, clear, concurrent callers.
 *
 * The including file defines the fixture: its setup stores a struct tfix *
 * (a fresh, empty tier) in *state, its teardown destroys it. The contract
 * tests take the tier from there.
 */
#ifndef STRATA_TEST_TIER_CONTRACT_H
#define STRATA_TEST_TIER_CONTRACT_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/tier.h"

struct tfix {
    struct tier *t;
    char path[256]; /* the pmem fixture's pool file; unused by mem */
};

static struct tier *fix_tier(void **state)
{
    return ((struct tfix *)*state)->t;
}

/* Value bytes derived from gen, so any copy can be checked. */
static void fill_val(unsigned char *v, uint32_t n, uint64_t gen)
{
    uint64_t x = gen * 0x9E3779B97F4A7C15ull + 1;
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v[i] = (unsigned char)x;
    }
}

/* A malloc'd encoded record for key/gen with vlen value bytes; *len set. */
static void *make_rec(const char *key, uint64_t gen, uint32_t vlen, size_t *len)
{
    unsigned char *val = malloc(vlen ? vlen : 1);
    assert_non_null(val);
    fill_val(val, vlen, gen);
    struct tier_rec r = {
        .gen = gen,
        .expire_ms = (int64_t)gen * 1000,
        .key = key,
        .klen = (uint32_t)strlen(key),
        .val = val,
        .vlen = vlen,
        .rawlen = vlen * 2 + 1,
        .dict_id = 0,
        .type = (uint8_t)(gen % 5),
        .flags = TIER_REC_F_RAW,
    };
    *len = tier_rec_size(&r);
    void *buf = malloc(*len);
    assert_non_null(buf);
    tier_rec_encode(&r, buf);
    free(val);
    return buf;
}

static uint64_t put_ok(struct tier *t, const char *key, uint64_t gen, uint32_t vlen)
{
    size_t len;
    uint64_t hint = 0;
    void *rec = make_rec(key, gen, vlen, &len);
    assert_int_equal(t->ops->put(t, rec, len, &hint, NULL), ST_OK);
    free(rec);
    return hint;
}

/* get must return exactly the bytes put for key/gen/vlen. */
static void expect_get(struct tier *t, const char *key, uint64_t gen, uint32_t vlen, uint64_t hint)
{
    size_t want_len, len = 0;
    void *buf = NULL;
    void *want = make_rec(key, gen, vlen, &want_len);
    assert_int_equal(t->ops->get(t, key, strlen(key), gen, hint, &buf, &len, NULL), ST_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, len);
    free(buf);
    free(want);
}

static int get_rc(struct tier *t, const char *key, uint64_t gen, uint64_t hint)
{
    void *buf = (void *)0x1;
    size_t len = 12345;
    int rc = t->ops->get(t, key, strlen(key), gen, hint, &buf, &len, NULL);
    if (rc == ST_OK)
        free(buf);
    else
        assert_ptr_equal(buf, (void *)0x1); /* untouched on a miss */
    return rc;
}

static struct tier_stats stats_of(struct tier *t)
{
    struct tier_stats s;
    memset(&s, 0xa5, sizeof(s));
    t->ops->stats(t, &s);
    return s;
}

static void test_contract_put_get_del_round_trip(void **state)
{
    struct tier *t = fix_tier(state);
    uint64_t h1 = put_ok(t, "alpha", 10, 100);
    uint64_t h2 = put_ok(t, "beta", 11, 1);
    uint64_t h3 = put_ok(t, "gamma", 12, 5000);

    expect_get(t, "alpha", 10, 100, h1);
    expect_get(t, "beta", 11, 1, h2);
    expect_get(t, "gamma", 12, 5000, h3);
    assert_int_equal(t->ops->del(t, "beta", 4, 11, h2), ST_OK);
    assert_int_equal(get_rc(t, "beta", 11, h2), ST_ENOENT);
    assert_int_equal(t->ops->del(t, "beta", 4, 11, h2), ST_ENOENT);
    expect_get(t, "alpha", 10, 100, h1);
    expect_get(t, "gamma", 12, 5000, h3);
    /* same key, new generation, alongside the old one */
    uint64_t h4 = put_ok(t, "alpha", 13, 7);
    expect_get(t, "alpha", 13, 7, h4);
    expect_get(t, "alpha", 10, 100, h1);
}

static void test_contract_stale_hints_miss_never_return_a_value(void **state)
{
    struct tier *t = fix_tier(state);
    uint64_t h = put_ok(t, "key", 5, 64);
    uint64_t other = put_ok(t, "kez", 5, 64);

    assert_int_equal(get_rc(t, "key", 4, h), ST_ENOENT);       /* wrong gen */
    assert_int_equal(get_rc(t, "key", 6, h), ST_ENOENT);
    assert_int_equal(get_rc(t, "kez", 5, h), ST_ENOENT);       /* other key, same gen */
    assert_int_equal(get_rc(t, "ke", 5, h), ST_ENOENT);        /* prefix */
    assert_int_equal(get_rc(t, "keyy", 5, h), ST_ENOENT);
    assert_int_equal(get_rc(t, "key", 5, other), ST_ENOENT);   /* another record's hint */
    assert_int_equal(t->ops->del(t, "key", 3, 4, h), ST_ENOENT);
    assert_int_equal(t->ops->del(t, "kez", 3, 5, h), ST_ENOENT);
    expect_get(t, "key", 5, 64, h);                          /* wrong dels did nothing */
    /* hints nowhere near a record */
    static const uint64_t wild[] = {0, 1, 7, 8, 15, 16, 4096, 4097, 1u << 20, (1u << 20) + 16, 1ull << 32,
                                    (1ull << 40) + 16, UINT64_MAX - 15, UINT64_MAX};
    for (size_t i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
        if (wild[i] == h)
            continue;
        assert_int_equal(get_rc(t, "key", 5, wild[i]), ST_ENOENT);
        assert_int_equal(t->ops->del(t, "key", 3, 5, wild[i]), ST_ENOENT);
    }
    /* a hint just past the record, inside it, and just before it */
    for (uint64_t d = 1; d < 64; d++) {
        assert_int_equal(get_rc(t, "key", 5, h + d), ST_ENOENT);
        if (h >= d)
            assert_int_equal(get_rc(t, "key", 5, h - d), ST_ENOENT);
    }
    /* deleted: the slot/space may be reused by another record */
    assert_int_equal(t->ops->del(t, "key", 3, 5, h), ST_OK);
    assert_int_equal(get_rc(t, "key", 5, h), ST_ENOENT);
    uint64_t h2 = put_ok(t, "key2", 6, 64);
    assert_int_equal(get_rc(t, "key", 5, h), ST_ENOENT);
    assert_int_equal(t->ops->del(t, "key", 3, 5, h), ST_ENOENT);
    expect_get(t, "key2", 6, 64, h2);
    expect_get(t, "kez", 5, 64, other);
    /* NULL key with a length is a miss, not a crash */
    void *buf = NULL;
    size_t len;
    assert_int_equal(t->ops->get(t, NULL, 3, 5, h2, &buf, &len, NULL), ST_ENOENT);
    assert_int_equal(t->ops->del(t, NULL, 3, 5, h2), ST_ENOENT);
}

static void test_contract_stats_count_exactly(void **state)
{
    struct tier *t = fix_tier(state);
    struct tier_stats s0 = stats_of(t);

    assert_int_equal(s0.records, 0);
    assert_int_equal(s0.raw_bytes, 0);
    assert_int_equal(s0.stored_bytes, 0);
    assert_int_equal(s0.used_bytes, 0);
    assert_int_equal(s0.puts + s0.put_fails + s0.gets + s0.hits + s0.misses + s0.dels + s0.errors, 0);
    assert_int_equal(s0.failed, 0);

    uint64_t h1 = put_ok(t, "a", 1, 10);   /* raw 21, stored 10, len 44+1+10 */
    uint64_t h2 = put_ok(t, "bb", 2, 300); /* raw 601, stored 300, len 44+2+300 */
    struct tier_stats s = stats_of(t);
    assert_int_equal(s.records, 2);
    assert_int_equal(s.raw_bytes, 21 + 601);
    assert_int_equal(s.stored_bytes, 310);
    assert_true(s.used_bytes >= 55 + 346);
    assert_int_equal(s.puts, 2);
    assert_int_equal(s.put_fails, 0);

    expect_get(t, "a", 1, 10, h1);
    assert_int_equal(get_rc(t, "a", 2, h1), ST_ENOENT);
    assert_int_equal(get_rc(t, "a", 1, h2), ST_ENOENT);
    s = stats_of(t);
    assert_int_equal(s.gets, 3);
    assert_int_equal(s.hits, 1);
    assert_int_equal(s.misses, 2);
    assert_int_equal(s.errors, 0);

    uint64_t used2 = s.used_bytes;
    assert_int_equal(t->ops->del(t, "bb", 2, 2, h2), ST_OK);
    assert_int_equal(t->ops->del(t, "bb", 2, 2, h2), ST_ENOENT);
    s = stats_of(t);
    assert_int_equal(s.records, 1);
    assert_int_equal(s.raw_bytes, 21);
    assert_int_equal(s.stored_bytes, 10);
    assert_true(s.used_bytes >= 55 && s.used_bytes < used2);
    assert_int_equal(s.dels, 1);

    /* a rejected put is counted as a put and a failure, stores nothing */
    size_t len;
    unsigned char *bad = make_rec("c", 3, 5, &len);
    bad[len - 1] ^= 1;
    uint64_t hint;
    assert_int_equal(t->ops->put(t, bad, len, &hint, NULL), ST_EINVAL);
    free(bad);
    s = stats_of(t);
    assert_int_equal(s.puts, 3);
    assert_int_equal(s.put_fails, 1);
    assert_int_equal(s.records, 1);

    /* put then delete returns used_bytes to where it was */
    uint64_t before = s.used_bytes;
    uint64_t h3 = put_ok(t, "dd", 4, 1000);
    assert_int_equal(t->ops->del(t, "dd", 2, 4, h3), ST_OK);
    s = stats_of(t);
    assert_int_equal(s.used_bytes, before);
    assert_int_equal(s.records, 1);
    assert_int_equal(s.dels, 2);
}

struct visit_log {
    int n;
    int stop_after;
    uint64_t gens[64];
    uint64_t hints[64];
    struct tier *del_from; /* if set, deletes each visited record */
};

static int visit_rec(void *ud, const void *rec, size_t len, uint64_t hint)
{
    struct visit_log *v = ud;
    struct tier_rec r;
    size_t used;

    assert_int_equal(tier_rec_decode(rec, len, &r, &used), ST_OK);
    assert_int_equal(used, len);
    assert_true(v->n < 64);
    v->gens[v->n] = r.gen;
    v->hints[v->n] = hint;
    v->n++;
    if (v->del_from)
        assert_int_equal(v->del_from->ops->del(v->del_from, r.key, r.klen, r.gen, hint), ST_OK);
    return v->stop_after && v->n == v->stop_after ? 42 : 0;
}

static void test_contract_iterate_visits_every_live_record_once(void **state)
{
    struct tier *t = fix_tier(state);
    uint64_t hints[20];
    char key[16];

    struct visit_log empty = {0};
    assert_int_equal(t->ops->iterate(t, visit_rec, &empty), 0);
    assert_int_equal(empty.n, 0);

    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "it:%d", i);
        hints[i] = put_ok(t, key, 100 + (uint64_t)i, (uint32_t)(i * 97 % 3000 + 1));
    }
    for (int i = 0; i < 20; i += 3) {
        snprintf(key, sizeof(key), "it:%d", i);
        assert_int_equal(t->ops->del(t, key, strlen(key), 100 + (uint64_t)i, hints[i]), ST_OK);
    }
    struct visit_log v = {0};
    assert_int_equal(t->ops->iterate(t, visit_rec, &v), 0);
    assert_int_equal(v.n, 13);
    int seen[20] = {0};
    for (int k = 0; k < v.n; k++) {
        int i = (int)(v.gens[k] - 100);
        assert_true(i >= 0 && i < 20 && i % 3 != 0);
        assert_int_equal(seen[i], 0);
        seen[i] = 1;
        assert_true(v.hints[k] == hints[i]); /* the hint put returned */
    }

    /* a non-zero return stops the walk and is returned */
    struct visit_log stop = {.stop_after = 4};
    assert_int_equal(t->ops->iterate(t, visit_rec, &stop), 42);
    assert_int_equal(stop.n, 4);

    /* fn may call back into the tier: delete every record while walking */
    struct visit_log del = {.del_from = t};
    assert_int_equal(t->ops->iterate(t, visit_rec, &del), 0);
    assert_int_equal(del.n, 13);
    assert_int_equal(stats_of(t).records, 0);
    struct visit_log after = {0};
    assert_int_equal(t->ops->iterate(t, visit_rec, &after), 0);
    assert_int_equal(after.n, 0);
}

struct dict_log {
    int n;
    uint32_t ids[8];
    size_t lens[8];
    int content_ok;
};

static int visit_dict(void *ud, uint32_t id, const void *dict, size_t len)
{
    struct dict_log *d = ud;
    unsigned char want[4096];

    assert_true(d->n < 8 && len <= sizeof(want));
    fill_val(want, (uint32_t)len, id);
    d->content_ok &= (len == 0 || memcmp(want, dict, len) == 0);
    d->ids[d->n] = id;
    d->lens[d->n] = len;
    d->n++;
    return 0;
}

static void put_dict_ok(struct tier *t, uint32_t id, size_t len)
{
    unsigned char buf[4096];
    fill_val(buf, (uint32_t)len, id);
    assert_int_equal(t->ops->put_dict(t, id, buf, len), ST_OK);
}

static void test_contract_dictionaries_are_kept_by_id(void **state)
{
    struct tier *t = fix_tier(state);
    struct dict_log d = {.content_ok = 1};
    unsigned char buf[16] = {0};

    assert_int_equal(t->ops->each_dict(t, visit_dict, &d), 0);
    assert_int_equal(d.n, 0);
    put_dict_ok(t, 1, 4096);
    put_dict_ok(t, 7, 100);
    put_dict_ok(t, 3, 1);
    assert_int_equal(t->ops->put_dict(t, 7, buf, sizeof(buf)), ST_EEXIST);
    assert_int_equal(t->ops->put_dict(t, 0, buf, sizeof(buf)), ST_EINVAL);
    assert_int_equal(t->ops->each_dict(t, visit_dict, &d), 0);
    assert_int_equal(d.n, 3);
    assert_true(d.content_ok);
    uint32_t idsum = 0;
    size_t lensum = 0;
    for (int i = 0; i < d.n; i++) {
        idsum += d.ids[i];
        lensum += d.lens[i];
    }
    assert_int_equal(idsum, 11);
    assert_int_equal(lensum, 4197);

    /* clear(0) keeps dictionaries, clear(1) drops them */
    uint64_t h = put_ok(t, "r", 1, 10);
    assert_int_equal(t->ops->clear(t, 0), ST_OK);
    assert_int_equal(get_rc(t, "r", 1, h), ST_ENOENT);
    struct dict_log d2 = {.content_ok = 1};
    assert_int_equal(t->ops->each_dict(t, visit_dict, &d2), 0);
    assert_int_equal(d2.n, 3);
    assert_int_equal(t->ops->clear(t, 1), ST_OK);
    struct dict_log d3 = {.content_ok = 1};
    assert_int_equal(t->ops->each_dict(t, visit_dict, &d3), 0);
    assert_int_equal(d3.n, 0);
    put_dict_ok(t, 7, 10); /* the id is free again */
}

static void test_contract_put_rejects_malformed_records(void **state)
{
    struct tier *t = fix_tier(state);
    size_t len;
    uint64_t hint = 777;
    unsigned char *rec = make_rec("key", 9, 50, &len);

    assert_int_equal(t->ops->put(t, NULL, len, &hint, NULL), ST_EINVAL);
    assert_int_equal(t->ops->put(t, rec, len - 1, &hint, NULL), ST_EINVAL);  /* truncated */
    assert_int_equal(t->ops->put(t, rec, 10, &hint, NULL), ST_EINVAL);
    unsigned char *longer = malloc(len + 8);
    assert_non_null(longer);
    memcpy(longer, rec, len);
    memset(longer + len, 0, 8);
    assert_int_equal(t->ops->put(t, longer, len + 8, &hint, NULL), ST_EINVAL); /* trailing bytes */
    free(longer);
    rec[0] ^= 0xff;
    assert_int_equal(t->ops->put(t, rec, len, &hint, NULL), ST_EINVAL); /* bad magic */
    rec[0] ^= 0xff;
    rec[len - 1] ^= 0x10;
    assert_int_equal(t->ops->put(t, rec, len, &hint, NULL), ST_EINVAL); /* bad CRC */
    assert_int_equal(hint, 777);
    free(rec);
    struct tier_stats s = stats_of(t);
    assert_int_equal(s.records, 0);
    assert_int_equal(s.puts, 6);
    assert_int_equal(s.put_fails, 6);
}

static void test_contract_clear_drops_every_record(void **state)
{
    struct tier *t = fix_tier(state);
    uint64_t h[50];
    char key[16];

    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "c%d", i);
        h[i] = put_ok(t, key, (uint64_t)i + 1, 200);
    }
    assert_int_equal(stats_of(t).records, 50);
    assert_int_equal(t->ops->clear(t, 0), ST_OK);
    struct tier_stats s = stats_of(t);
    assert_int_equal(s.records, 0);
    assert_int_equal(s.raw_bytes, 0);
    assert_int_equal(s.stored_bytes, 0);
    assert_int_equal(s.used_bytes, 0);
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "c%d", i);
        assert_int_equal(get_rc(t, key, (uint64_t)i + 1, h[i]), ST_ENOENT);
    }
    struct visit_log v = {0};
    assert_int_equal(t->ops->iterate(t, visit_rec, &v), 0);
    assert_int_equal(v.n, 0);
    uint64_t again = put_ok(t, "after", 99, 10);
    expect_get(t, "after", 99, 10, again);
}

/* ---- concurrent callers ------------------------------------------------ */

#define CT_THREADS 4
#define CT_KEYS 32
#define CT_ROUNDS 300

struct ct_arg {
    struct tier *t;
    int id;
    int failures;
};

static void *ct_worker(void *p)
{
    struct ct_arg *a = p;
    struct tier *t = a->t;
    uint64_t gens[CT_KEYS] = {0}, hints[CT_KEYS] = {0};
    uint32_t sizes[CT_KEYS] = {0};
    char key[32];

    for (int round = 0; round < CT_ROUNDS; round++) {
        int k = (round * 7 + a->id) % CT_KEYS;
        snprintf(key, sizeof(key), "t%d:k%d", a->id, k);
        if (gens[k]) {
            size_t len;
            void *buf = NULL;
            void *want = make_rec(key, gens[k], sizes[k], &len);
            size_t got_len = 0;
            if (t->ops->get(t, key, strlen(key), gens[k], hints[k], &buf, &got_len, NULL) != ST_OK ||
                got_len != len || memcmp(buf, want, len) != 0)
                a->failures++;
            free(buf);
            free(want);
            if (t->ops->del(t, key, strlen(key), gens[k], hints[k]) != ST_OK)
                a->failures++;
            gens[k] = 0;
        } else {
            size_t len;
            uint64_t gen = ((uint64_t)a->id << 32) | (uint64_t)(round + 1);
            uint32_t vlen = (uint32_t)((round * 131 + a->id * 17) % 4000 + 1);
            void *rec = make_rec(key, gen, vlen, &len);
            if (t->ops->put(t, rec, len, &hints[k], NULL) != ST_OK)
                a->failures++;
            else {
                gens[k] = gen;
                sizes[k] = vlen;
            }
            free(rec);
        }
    }
    for (int k = 0; k < CT_KEYS; k++) {
        if (!gens[k])
            continue;
        snprintf(key, sizeof(key), "t%d:k%d", a->id, k);
        if (t->ops->del(t, key, strlen(key), gens[k], hints[k]) != ST_OK)
            a->failures++;
    }
    return NULL;
}

struct ct_walk {
    int n;
};

static int ct_visit(void *ud, const void *rec, size_t len, uint64_t hint)
{
    struct ct_walk *w = ud;
    struct tier_rec r;
    (void)hint;
    if (tier_rec_decode(rec, len, &r, NULL) == ST_OK)
        w->n++;
    return 0;
}

static void test_contract_concurrent_callers_see_their_own_records(void **state)
{
    struct tier *t = fix_tier(state);
    pthread_t th[CT_THREADS];
    struct ct_arg args[CT_THREADS];

    for (int i = 0; i < CT_THREADS; i++) {
        args[i] = (struct ct_arg){.t = t, .id = i + 1};
        assert_int_equal(pthread_create(&th[i], NULL, ct_worker, &args[i]), 0);
    }
    /* walks concurrent with the writers must not crash or fail */
    for (int i = 0; i < 5; i++) {
        struct ct_walk w = {0};
        assert_int_equal(t->ops->iterate(t, ct_visit, &w), 0);
    }
    for (int i = 0; i < CT_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].failures, 0);
    }
    struct tier_stats s = stats_of(t);
    assert_int_equal(s.records, 0);
    assert_int_equal(s.used_bytes, 0);
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.puts, s.dels);
    assert_int_equal(s.hits, s.gets);
}

#define TIER_CONTRACT_TESTS(setup, teardown)                                                          \
    cmocka_unit_test_setup_teardown(test_contract_put_get_del_round_trip, setup, teardown),            \
        cmocka_unit_test_setup_teardown(test_contract_stale_hints_miss_never_return_a_value, setup,    \
                                        teardown),                                                     \
        cmocka_unit_test_setup_teardown(test_contract_stats_count_exactly, setup, teardown),           \
        cmocka_unit_test_setup_teardown(test_contract_iterate_visits_every_live_record_once, setup,    \
                                        teardown),                                                     \
        cmocka_unit_test_setup_teardown(test_contract_dictionaries_are_kept_by_id, setup, teardown),   \
        cmocka_unit_test_setup_teardown(test_contract_put_rejects_malformed_records, setup, teardown),  \
        cmocka_unit_test_setup_teardown(test_contract_clear_drops_every_record, setup, teardown),      \
        cmocka_unit_test_setup_teardown(test_contract_concurrent_callers_see_their_own_records, setup, \
                                        teardown)

#endif
