/*
 * test_keyspace.c -- unit tests for engine/keyspace.c: the sharded keyspace.
 *
 * What is protected: keyspace.c's invariants (1: every entry lives in the
 * shard its key hashes to; 2: volatile_keys counts exactly the entries with
 * an expiry; 3: an expired entry is never returned by a lookup), lazy and
 * active expiry and their counters, SET semantics (new, overwrite, KEEPTTL,
 * expiry), the SCAN guarantee across shards and resizes, flush (sync and
 * async, with ks_destroy waiting for the background free), SWAPDB,
 * RANDOMKEY, deadlock-free multi-shard locking under two threads, and
 * DESIGN.md invariant 6 (two keyspaces side by side share nothing).
 *
 * Calls that take a struct ks_key are made with that key's shard locked, as
 * keyspace.h requires.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/entry.h"
#include "engine/err.h"
#include "engine/ht.h"
#include "engine/keyspace.h"
#include "engine/util.h"

#define NOW 1000000LL /* "now" in unix ms for most tests */

/* ---- helpers ----------------------------------------------------------- */

static struct keyspace *mkks(unsigned shard_bits, unsigned databases, uint64_t seed)
{
    struct keyspace_conf conf = { .shard_bits = shard_bits, .databases = databases, .seed = seed };
    struct keyspace *ks = ks_create(&conf);
    assert_non_null(ks);
    return ks;
}

static int kname(char *buf, const char *prefix, long i)
{
    return snprintf(buf, 64, "%s:%ld", prefix, i);
}

/* SET key val [expiry] as a command would: lock, look up, set, unlock. */
static void set_ex(struct keyspace *ks, int db, const char *key, const char *val, int64_t expire_ms, int64_t now)
{
    struct ks_key k;
    ks_key_init(ks, &k, key, strlen(key));
    ks_lock(ks, k.shard);
    struct entry **ref = ks_find_ref(ks, db, &k, now, 0);
    assert_int_equal(ks_set_str(ks, db, &k, ref, val, strlen(val), expire_ms), ST_OK);
    ks_unlock(ks, k.shard);
}

static void setn(struct keyspace *ks, int db, const char *prefix, long i, int64_t expire_ms)
{
    char key[64], val[64];
    kname(key, prefix, i);
    snprintf(val, sizeof(val), "val-%s-%ld", prefix, i);
    set_ex(ks, db, key, val, expire_ms, NOW);
}

/* GET: returns 1 and copies the value into out (size 128) when present. */
static int get_at(struct keyspace *ks, int db, const char *key, int64_t now, char *out, int64_t *expire)
{
    struct ks_key k;
    ks_key_init(ks, &k, key, strlen(key));
    ks_lock(ks, k.shard);
    struct entry *e = ks_find(ks, db, &k, now);
    int found = e != NULL;
    if (e) {
        char tmp[UTIL_LLSTR_SIZE];
        size_t len;
        const char *s = entry_str(e, tmp, &len);
        assert_true(len < 128);
        if (out) {
            memcpy(out, s, len);
            out[len] = 0;
        }
        assert_int_equal(e->klen, strlen(key));
        assert_memory_equal(entry_key(e), key, e->klen);
        if (expire)
            *expire = entry_expire(e);
    }
    ks_unlock(ks, k.shard);
    return found;
}

static void assert_val(struct keyspace *ks, int db, const char *key, const char *want, int64_t want_expire)
{
    char got[128];
    int64_t exp = -5;
    if (!get_at(ks, db, key, NOW, got, &exp))
        fail_msg("key '%s' missing in db %d", key, db);
    assert_string_equal(got, want);
    assert_int_equal(exp, want_expire);
}

static void del_key(struct keyspace *ks, int db, const char *key)
{
    struct ks_key k;
    ks_key_init(ks, &k, key, strlen(key));
    ks_lock(ks, k.shard);
    struct entry **ref = ks_find_ref(ks, db, &k, NOW, 0);
    assert_non_null(ref);
    ks_delete_ref(ks, db, &k, ref);
    ks_unlock(ks, k.shard);
}

/* Walks every table of db and checks invariants 1 and 2 of keyspace.c;
 * returns the number of entries and (in *vol) of those with an expiry. */
static uint64_t walk_check(struct keyspace *ks, int db, uint64_t *vol)
{
    uint64_t n = 0, v = 0;
    for (unsigned s = 0; s < ks->nshards; s++) {
        ks_lock(ks, s);
        struct ks_shard_db *sd = &ks->shards[s].db[db];
        uint64_t sv = 0, sn = 0;
        for (int t = 0; t < 2; t++) {
            struct ht_table *tb = &sd->ht.t[t];
            if (!tb->buckets)
                continue;
            for (uint64_t b = 0; b <= tb->mask; b++)
                for (struct entry *e = tb->buckets[b]; e; e = e->next) {
                    struct ks_key k;
                    ks_key_init(ks, &k, entry_key(e), e->klen);
                    assert_int_equal(k.shard, s); /* invariant 1 */
                    sn++;
                    if (e->flags & ENTRY_F_EXPIRE)
                        sv++;
                }
        }
        assert_int_equal(sn, ht_size(&sd->ht));
        if (sv != sd->volatile_keys)
            fail_msg("shard %u db %d: %llu entries with a TTL, volatile_keys says %llu", s, db,
                     (unsigned long long)sv, (unsigned long long)sd->volatile_keys);
        n += sn;
        v += sv;
        ks_unlock(ks, s);
    }
    uint64_t keys, volatile_keys;
    ks_db_counts(ks, db, &keys, &volatile_keys);
    assert_int_equal(keys, n);
    assert_int_equal(volatile_keys, v);
    assert_int_equal(ks_dbsize(ks, db), n);
    if (vol)
        *vol = v;
    return n;
}

static struct ks_stats stats(struct keyspace *ks)
{
    struct ks_stats st;
    ks_stats(ks, &st);
    return st;
}

/* ---- lifecycle ------------------------------------------------------------ */

static void test_create_rejects_bad_conf(void **state)
{
    (void)state;
    struct keyspace_conf bad[] = {
        { .shard_bits = 13, .databases = 16 },
        { .shard_bits = 4, .databases = 0 },
        { .shard_bits = 4, .databases = KS_MAX_DATABASES + 1 },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_null(ks_create(&bad[i]));
}

static void test_create_and_destroy_nulls_pointer(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(12, 2, 0);
    assert_int_equal(ks->nshards, 4096);
    assert_true(ks->seed != 0); /* 0 asks for a random seed */
    assert_int_equal(ks_dbsize(ks, 0), 0);
    ks_destroy(&ks);
    assert_null(ks);
    ks_destroy(&ks); /* NULL is fine */
}

static void test_keys_spread_over_shards(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 77);
    unsigned hits[16] = { 0 };
    for (long i = 0; i < 1600; i++) {
        char key[64];
        int n = kname(key, "spread", i);
        struct ks_key k;
        ks_key_init(ks, &k, key, (size_t)n);
        assert_true(k.shard < 16);
        assert_true(k.hash == ht_hash(ks->seed, key, (size_t)n));
        assert_int_equal(k.shard, (unsigned)(k.hash >> 60));
        hits[k.shard]++;
    }
    for (int s = 0; s < 16; s++)
        assert_true(hits[s] > 40); /* ~100 each */
    ks_destroy(&ks);
}

/* ---- SET / GET / DEL ------------------------------------------------------ */

static void test_set_new_key_then_get(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 16, 1);
    set_ex(ks, 0, "greeting", "hello", -1, NOW);
    assert_val(ks, 0, "greeting", "hello", -1);
    assert_false(get_at(ks, 1, "greeting", NOW, NULL, NULL)); /* other db */
    assert_int_equal(walk_check(ks, 0, NULL), 1);
    assert_int_equal(stats(ks).dirty, 1);
    ks_destroy(&ks);
}

static void test_set_overwrite_replaces_value_and_drops_ttl(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 2);
    set_ex(ks, 0, "k", "first", NOW + 5000, NOW);
    uint64_t vol;
    walk_check(ks, 0, &vol);
    assert_int_equal(vol, 1);
    /* plain SET clears the TTL, as Redis does */
    set_ex(ks, 0, "k", "a much longer second value that needs a bigger allocation", -1, NOW);
    assert_val(ks, 0, "k", "a much longer second value that needs a bigger allocation", -1);
    assert_int_equal(walk_check(ks, 0, &vol), 1);
    assert_int_equal(vol, 0);
    set_ex(ks, 0, "k", "12345", -1, NOW);
    assert_val(ks, 0, "k", "12345", -1);
    assert_int_equal(walk_check(ks, 0, NULL), 1);
    ks_destroy(&ks);
}

static void test_set_with_expiry_sets_ttl_and_counts_volatile(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 3);
    set_ex(ks, 0, "k", "v", NOW + 100, NOW);
    assert_val(ks, 0, "k", "v", NOW + 100);
    /* overwrite with another TTL */
    set_ex(ks, 0, "k", "w", NOW + 200, NOW);
    assert_val(ks, 0, "k", "w", NOW + 200);
    uint64_t vol;
    assert_int_equal(walk_check(ks, 0, &vol), 1);
    assert_int_equal(vol, 1);
    ks_destroy(&ks);
}

static void test_set_keepttl_keeps_existing_expiry(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 4);
    set_ex(ks, 0, "k", "v1", NOW + 777, NOW);
    set_ex(ks, 0, "k", "v2 is longer than v1 by quite a lot of bytes, forcing a move", KS_KEEPTTL, NOW);
    assert_val(ks, 0, "k", "v2 is longer than v1 by quite a lot of bytes, forcing a move", NOW + 777);
    set_ex(ks, 0, "k", "3", KS_KEEPTTL, NOW);
    assert_val(ks, 0, "k", "3", NOW + 777);
    uint64_t vol;
    walk_check(ks, 0, &vol);
    assert_int_equal(vol, 1);
    /* KEEPTTL on a key without TTL keeps it persistent */
    set_ex(ks, 0, "p", "x", -1, NOW);
    set_ex(ks, 0, "p", "y", KS_KEEPTTL, NOW);
    assert_val(ks, 0, "p", "y", -1);
    ks_destroy(&ks);
}

static void test_set_keepttl_on_new_key_has_no_ttl(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 5);
    set_ex(ks, 0, "fresh", "v", KS_KEEPTTL, NOW);
    assert_val(ks, 0, "fresh", "v", -1);
    uint64_t vol;
    walk_check(ks, 0, &vol);
    assert_int_equal(vol, 0);
    ks_destroy(&ks);
}

static void test_set_many_keys_survive_resizes_in_every_db(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(3, 4, 6);
    for (int db = 0; db < 4; db++)
        for (long i = 0; i < 5000; i++)
            setn(ks, db, db % 2 ? "odd" : "even", i, (i % 3 == 0) ? NOW + 100000 + i : -1);
    for (int db = 0; db < 4; db++) {
        uint64_t vol;
        assert_int_equal(walk_check(ks, db, &vol), 5000);
        assert_int_equal(vol, 1667);
        for (long i = 0; i < 5000; i += 37) {
            char key[64], val[64];
            kname(key, db % 2 ? "odd" : "even", i);
            snprintf(val, sizeof(val), "val-%s-%ld", db % 2 ? "odd" : "even", i);
            assert_val(ks, db, key, val, (i % 3 == 0) ? NOW + 100000 + i : -1);
        }
    }
    struct ks_stats st = stats(ks);
    assert_int_equal(st.keys, 20000);
    assert_int_equal(st.volatile_keys, 4 * 1667);
    assert_int_equal(st.dirty, 20000);
    ks_destroy(&ks);
}

static void test_delete_and_take_keep_volatile_counts(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 7);
    for (long i = 0; i < 100; i++)
        setn(ks, 0, "d", i, i % 2 ? NOW + 1000 : -1);
    for (long i = 0; i < 100; i += 4) {
        char key[64];
        kname(key, "d", i);
        del_key(ks, 0, key);
        kname(key, "d", i + 1);
        /* take: the caller owns the entry afterwards */
        struct ks_key k;
        ks_key_init(ks, &k, key, strlen(key));
        ks_lock(ks, k.shard);
        struct entry **ref = ks_find_ref(ks, 0, &k, NOW, 0);
        assert_non_null(ref);
        struct entry *e = ks_take_ref(ks, 0, &k, ref);
        assert_null(ks_find_ref(ks, 0, &k, NOW, 0));
        ks_unlock(ks, k.shard);
        assert_int_equal(e->klen, strlen(key));
        entry_destroy(e);
    }
    uint64_t vol;
    assert_int_equal(walk_check(ks, 0, &vol), 50);
    assert_int_equal(vol, 25);
    ks_destroy(&ks);
}

static void test_set_expire_and_swap_keep_volatile_counts(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(2, 1, 8);
    set_ex(ks, 0, "a", "1", -1, NOW);
    set_ex(ks, 0, "b", "2", NOW + 10, NOW);
    struct ks_key ka, kb;
    ks_key_init(ks, &ka, "a", 1);
    ks_key_init(ks, &kb, "b", 1);
    const struct ks_key both[2] = { ka, kb };
    ks_lock_keys(ks, both, 2);
    /* EXPIRE a; PERSIST b */
    assert_int_equal(ks_set_expire(ks, 0, &ka, ks_find_ref(ks, 0, &ka, NOW, 0), NOW + 50), ST_OK);
    assert_int_equal(ks_set_expire(ks, 0, &kb, ks_find_ref(ks, 0, &kb, NOW, 0), -1), ST_OK);
    /* swap a's entry for a new one with a TTL */
    struct entry *ne = entry_create_str("a", 1, "new", 3, NOW + 99);
    ks_swap(ks, 0, &ka, ks_find_ref(ks, 0, &ka, NOW, 0), ne);
    ks_unlock_keys(ks, both, 2);
    assert_val(ks, 0, "a", "new", NOW + 99);
    assert_val(ks, 0, "b", "2", -1);
    uint64_t vol;
    assert_int_equal(walk_check(ks, 0, &vol), 2);
    assert_int_equal(vol, 1);
    /* relink after a realloc done by the caller (entry_with_expire) */
    ks_lock(ks, kb.shard);
    struct entry **ref = ks_find_ref(ks, 0, &kb, NOW, 0);
    uint8_t old_flags = (*ref)->flags;
    struct entry *moved = entry_with_expire(*ref, NOW + 5);
    ks_relink(ks, 0, &kb, ref, old_flags, moved);
    ks_unlock(ks, kb.shard);
    assert_val(ks, 0, "b", "2", NOW + 5);
    walk_check(ks, 0, &vol);
    assert_int_equal(vol, 2);
    ks_destroy(&ks);
}

static void test_find_touches_access_clock_unless_notouch(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(0, 1, 9);
    ks_tick(ks, 5000 * 1000LL);
    set_ex(ks, 0, "k", "v", -1, NOW);
    struct ks_key k;
    ks_key_init(ks, &k, "k", 1);
    ks_lock(ks, k.shard);
    /* low 24 bits: the clock; top 8: the LFU counter, which starts at 5 */
    assert_int_equal(ks_find(ks, 0, &k, NOW)->access & KS_LRU_CLOCK_MAX, 5000);
    assert_int_equal(ks_find(ks, 0, &k, NOW)->access >> 24, KS_LFU_INIT_VAL);
    ks_tick(ks, 6000 * 1000LL);
    assert_int_equal((*ks_find_ref(ks, 0, &k, NOW, KS_F_NOTOUCH))->access & KS_LRU_CLOCK_MAX, 5000);
    assert_int_equal(ks_find(ks, 0, &k, NOW)->access & KS_LRU_CLOCK_MAX, 6000);
    assert_int_equal(ks_idle_seconds(ks, ks_find(ks, 0, &k, NOW)->access), 0);
    ks_unlock(ks, k.shard);
    ks_destroy(&ks);
}

static void test_lfu_counter_grows_logarithmically_and_decays(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(0, 1, 10);
    ks_set_access_policy(ks, 1, 10, 1);
    ks_tick(ks, 100000 * 1000LL);
    set_ex(ks, 0, "hot", "v", -1, NOW);
    set_ex(ks, 0, "warm", "v", -1, NOW);
    struct ks_key hot, warm;
    ks_key_init(ks, &hot, "hot", 3);
    ks_key_init(ks, &warm, "warm", 4);
    ks_lock(ks, 0);
    for (int i = 0; i < 100000; i++)
        ks_find(ks, 0, &hot, NOW);
    for (int i = 0; i < 100; i++)
        ks_find(ks, 0, &warm, NOW);
    uint8_t h = ks_lfu_decayed(ks, ks_find_ref(ks, 0, &hot, NOW, KS_F_NOTOUCH)[0]->access);
    uint8_t w = ks_lfu_decayed(ks, ks_find_ref(ks, 0, &warm, NOW, KS_F_NOTOUCH)[0]->access);
    /* Redis's table for factor 10: ~100 hits -> ~10, ~100k hits -> ~140-200 */
    assert_true(w > KS_LFU_INIT_VAL && w < 30);
    assert_true(h > 100 && h < 255);
    assert_true(h > w);
    /* 10 idle minutes at decay 1: ten off */
    ks_tick(ks, (100000 + 600) * 1000LL);
    uint8_t h2 = ks_lfu_decayed(ks, ks_find_ref(ks, 0, &hot, NOW, KS_F_NOTOUCH)[0]->access);
    assert_int_equal(h2, h - 10);
    /* decay 0 never decays */
    ks_set_access_policy(ks, 1, 10, 0);
    assert_int_equal(ks_lfu_decayed(ks, ks_find_ref(ks, 0, &hot, NOW, KS_F_NOTOUCH)[0]->access), h);
    ks_unlock(ks, 0);
    ks_destroy(&ks);
}

/* ---- lazy expiry ---------------------------------------------------------- */

static void test_lazy_expiry_deletes_on_lookup_and_counts(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 10);
    set_ex(ks, 0, "ttl", "v", NOW + 100, NOW);
    set_ex(ks, 0, "keep", "v", -1, NOW);
    uint64_t dirty0 = stats(ks).dirty;
    /* just before the deadline: alive */
    assert_true(get_at(ks, 0, "ttl", NOW + 99, NULL, NULL));
    assert_int_equal(stats(ks).expired_keys, 0);
    /* at the deadline: expired (expiry <= now), deleted and counted */
    assert_false(get_at(ks, 0, "ttl", NOW + 100, NULL, NULL));
    struct ks_stats st = stats(ks);
    assert_int_equal(st.expired_keys, 1);
    assert_int_equal(st.keys, 1);
    assert_int_equal(st.volatile_keys, 0);
    assert_int_equal(st.dirty, dirty0 + 1);
    /* and gone for good, even for an earlier "now" */
    assert_false(get_at(ks, 0, "ttl", NOW, NULL, NULL));
    assert_int_equal(stats(ks).expired_keys, 1);
    assert_true(get_at(ks, 0, "keep", NOW + 1000000, NULL, NULL));
    walk_check(ks, 0, NULL);
    ks_destroy(&ks);
}

static void test_set_over_expired_key_creates_fresh_key(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 11);
    set_ex(ks, 0, "k", "old", NOW + 10, NOW);
    /* the SET's own lookup expires the old key first */
    set_ex(ks, 0, "k", "new", KS_KEEPTTL, NOW + 20);
    assert_val(ks, 0, "k", "new", -1);
    assert_int_equal(stats(ks).expired_keys, 1);
    uint64_t vol;
    assert_int_equal(walk_check(ks, 0, &vol), 1);
    assert_int_equal(vol, 0);
    ks_destroy(&ks);
}

/* ---- active expiry -------------------------------------------------------- */

/* Runs expire cycles over every shard, round after round, until `target`
 * keys have been expired or max_rounds have run; returns the total. (A round
 * may legitimately expire nothing while expired keys remain: each slice
 * stops when its sample is at most 10% stale.) */
static uint64_t expire_until(struct keyspace *ks, int64_t now, uint64_t target, int max_rounds)
{
    uint64_t total = 0;
    for (int r = 0; r < max_rounds && total < target; r++)
        for (unsigned s = 0; s < ks->nshards; s++)
            total += ks_expire_cycle(ks, s, now, 1000000);
    return total;
}

static void test_expire_cycle_removes_expired_keys_without_lookups(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 2, 12);
    for (long i = 0; i < 3000; i++) {
        setn(ks, 0, "gone", i, NOW + 10);
        setn(ks, 0, "later", i, NOW + 10000000);
        setn(ks, 0, "forever", i, -1);
    }
    for (long i = 0; i < 500; i++)
        setn(ks, 1, "gone", i, NOW + 10);
    uint64_t expired = expire_until(ks, NOW + 11, 3500, 20000);
    assert_int_equal(expired, 3500);
    uint64_t vol;
    assert_int_equal(walk_check(ks, 0, &vol), 6000);
    assert_int_equal(vol, 3000);
    assert_int_equal(walk_check(ks, 1, &vol), 0);
    assert_int_equal(stats(ks).expired_keys, 3500);
    /* no expired entry is left in any table */
    for (long i = 0; i < 3000; i += 7) {
        char key[64];
        kname(key, "gone", i);
        assert_false(get_at(ks, 0, key, NOW + 11, NULL, NULL));
    }
    assert_int_equal(stats(ks).expired_keys, 3500); /* the lookups found nothing more */
    ks_destroy(&ks);
}

static void test_expire_cycle_finds_sparse_expired_keys_over_calls(void **state)
{
    (void)state;
    /* 1% expired among volatile keys: each slice stops early (<= 10% stale),
     * so it takes many calls; the cursor must keep advancing */
    struct keyspace *ks = mkks(1, 1, 13);
    for (long i = 0; i < 4000; i++)
        setn(ks, 0, "v", i, i % 100 == 0 ? NOW + 1 : NOW + 10000000);
    uint64_t expired = 0;
    for (int call = 0; call < 100000 && expired < 40; call++)
        expired += ks_expire_cycle(ks, (unsigned)call % 2, NOW + 5, 1000000);
    assert_int_equal(expired, 40);
    uint64_t vol;
    assert_int_equal(walk_check(ks, 0, &vol), 3960);
    assert_int_equal(vol, 3960);
    ks_destroy(&ks);
}

static void test_expire_cycle_with_nothing_expired_is_a_noop(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(2, 1, 14);
    for (long i = 0; i < 200; i++)
        setn(ks, 0, "v", i, NOW + 1000);
    for (unsigned s = 0; s < 4; s++)
        assert_int_equal(ks_expire_cycle(ks, s, NOW, 1000000), 0);
    assert_int_equal(walk_check(ks, 0, NULL), 200);
    /* and on an empty keyspace */
    struct keyspace *empty = mkks(2, 1, 15);
    for (unsigned s = 0; s < 4; s++)
        assert_int_equal(ks_expire_cycle(empty, s, NOW, 1000000), 0);
    ks_destroy(&empty);
    ks_destroy(&ks);
}

/* ---- scan ----------------------------------------------------------------- */

struct scan_seen {
    const char *prefix;
    long n;
    unsigned *cnt;
    long others;
};

static void scan_rec(const struct entry *e, void *ud)
{
    struct scan_seen *s = ud;
    char k[64];
    if (e->klen < sizeof(k)) {
        memcpy(k, entry_key(e), e->klen);
        k[e->klen] = 0;
        size_t pl = strlen(s->prefix);
        if (strncmp(k, s->prefix, pl) == 0 && k[pl] == ':') {
            long i = strtol(k + pl + 1, NULL, 10);
            assert_true(i >= 0 && i < s->n);
            s->cnt[i]++;
            return;
        }
    }
    s->others++;
}

/* Full SCAN with `count`; asserts every key prefix:0..n-1 is returned at
 * least once, and that a 0 cursor comes only at the end. Returns calls. */
static long full_scan(struct keyspace *ks, int db, uint64_t count, const char *prefix, long n, int exactly_once,
                      void (*between)(struct keyspace *, long, void *), void *ud)
{
    struct scan_seen s = { .prefix = prefix, .n = n, .cnt = calloc((size_t)(n ? n : 1), sizeof(unsigned)) };
    uint64_t c = 0;
    long calls = 0;
    do {
        c = ks_scan(ks, db, c, count, NOW, scan_rec, &s);
        calls++;
        assert_true(calls < 10000000);
        if (between && c != 0)
            between(ks, calls, ud);
    } while (c != 0);
    for (long i = 0; i < n; i++) {
        if (s.cnt[i] < 1)
            fail_msg("%s:%ld never returned by SCAN (count %llu)", prefix, i, (unsigned long long)count);
        if (exactly_once && s.cnt[i] != 1)
            fail_msg("%s:%ld returned %u times by a SCAN over a stable keyspace", prefix, i, s.cnt[i]);
    }
    free(s.cnt);
    return calls;
}

static void test_scan_visits_every_key_once_across_shards(void **state)
{
    (void)state;
    static const unsigned bits[] = { 0, 1, 4, 8 };
    for (size_t b = 0; b < sizeof(bits) / sizeof(bits[0]); b++) {
        struct keyspace *ks = mkks(bits[b], 2, 16 + b);
        for (long i = 0; i < 3000; i++)
            setn(ks, 0, "s", i, -1);
        setn(ks, 1, "other-db", 1, -1);
        /* let pending rehashes finish so the tables are stable */
        for (unsigned s = 0; s < ks->nshards; s++)
            ks_rehash_cycle(ks, s, 1000000);
        static const uint64_t counts[] = { 0, 1, 10, 100, 100000 };
        for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
            long calls = full_scan(ks, 0, counts[c], "s", 3000, 1, NULL, NULL);
            if (counts[c] >= 100000)
                assert_int_equal(calls, 1);
            if (counts[c] == 10)
                assert_true(calls >= 3000 / 20);
        }
        ks_destroy(&ks);
    }
}

static void test_scan_of_empty_db_returns_zero(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 2, 20);
    setn(ks, 1, "x", 1, -1);
    struct scan_seen s = { .prefix = "x", .n = 2, .cnt = calloc(2, sizeof(unsigned)) };
    assert_int_equal(ks_scan(ks, 0, 0, 10, NOW, scan_rec, &s), 0);
    assert_int_equal(s.others + s.cnt[0] + s.cnt[1], 0);
    free(s.cnt);
    ks_destroy(&ks);
}

struct churn {
    long next, lo;
    int shrink;
};

static void churn_between(struct keyspace *ks, long call, void *ud)
{
    struct churn *c = ud;
    /* grow hard first, then delete everything again and shrink */
    if (!c->shrink && c->next < 30000) {
        for (int i = 0; i < 300 && c->next < 30000; i++)
            setn(ks, 0, "churn", c->next++, -1);
        if (c->next >= 30000)
            c->shrink = 1;
    } else {
        for (int i = 0; i < 300 && c->lo < c->next; i++) {
            char key[64];
            kname(key, "churn", c->lo++);
            del_key(ks, 0, key);
        }
    }
    for (unsigned s = 0; s < ks->nshards; s++)
        if ((call + s) % 3 == 0)
            ks_rehash_cycle(ks, s, 50);
}

static void test_scan_visits_every_key_while_tables_grow_and_shrink(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(2, 1, 21);
    for (long i = 0; i < 2000; i++)
        setn(ks, 0, "s", i, -1);
    struct churn c = { 0 };
    full_scan(ks, 0, 5, "s", 2000, 0, churn_between, &c);
    assert_true(c.next > 1000); /* the churn really happened during the scan */
    ks_destroy(&ks);
}

static void test_scan_skips_and_deletes_expired_keys(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(3, 1, 22);
    for (long i = 0; i < 500; i++) {
        setn(ks, 0, "live", i, i % 2 ? NOW + 1000 : -1);
        setn(ks, 0, "dead", i, NOW - 1);
    }
    struct scan_seen s = { .prefix = "live", .n = 500, .cnt = calloc(500, sizeof(unsigned)) };
    uint64_t c = 0;
    do
        c = ks_scan(ks, 0, c, 7, NOW, scan_rec, &s);
    while (c != 0);
    assert_int_equal(s.others, 0); /* no dead key was returned */
    for (long i = 0; i < 500; i++)
        assert_int_equal(s.cnt[i], 1);
    free(s.cnt);
    assert_int_equal(walk_check(ks, 0, NULL), 500);
    assert_int_equal(stats(ks).expired_keys, 500);
    ks_destroy(&ks);
}

static void test_scan_cursor_is_never_zero_mid_scan(void **state)
{
    (void)state;
    /* keys in only the last shards: the cursor must carry the shard even
     * when the hash-table cursor part is 0 */
    struct keyspace *ks = mkks(4, 1, 23);
    long placed = 0, maxi = 0;
    for (long i = 0; placed < 50; i++) {
        char key[64];
        kname(key, "s", i);
        struct ks_key k;
        ks_key_init(ks, &k, key, strlen(key));
        if (k.shard == 15 || k.shard == 7) {
            set_ex(ks, 0, key, "v", -1, NOW);
            placed++;
            maxi = i + 1;
        }
    }
    for (uint64_t count = 1; count <= 64; count *= 2) {
        struct scan_seen s = { .prefix = "s", .n = maxi, .cnt = calloc((size_t)maxi, sizeof(unsigned)) };
        uint64_t c = 0;
        long seen_before = 0;
        do {
            c = ks_scan(ks, 0, c, count, NOW, scan_rec, &s);
            long total = 0;
            for (long i = 0; i < maxi; i++)
                total += s.cnt[i] ? 1 : 0;
            if (c == 0)
                assert_int_equal(total, 50);
            seen_before = total;
        } while (c != 0);
        assert_int_equal(seen_before, 50);
        free(s.cnt);
    }
    ks_destroy(&ks);
}

/* ---- flush ---------------------------------------------------------------- */

static void test_flush_sync_one_db_leaves_others(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 3, 30);
    for (long i = 0; i < 2000; i++) {
        setn(ks, 0, "a", i, i % 2 ? NOW + 1000 : -1);
        setn(ks, 1, "b", i, -1);
    }
    ks_flush(ks, 0, 0);
    uint64_t vol;
    assert_int_equal(walk_check(ks, 0, &vol), 0);
    assert_int_equal(vol, 0);
    assert_int_equal(walk_check(ks, 1, NULL), 2000);
    assert_val(ks, 1, "b:5", "val-b-5", -1);
    /* db 0 is usable again */
    setn(ks, 0, "a", 1, NOW + 5);
    assert_int_equal(walk_check(ks, 0, &vol), 1);
    assert_int_equal(vol, 1);
    ks_destroy(&ks);
}

static void test_flush_all_sync(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 3, 31);
    for (int db = 0; db < 3; db++)
        for (long i = 0; i < 500; i++)
            setn(ks, db, "k", i, NOW + 1000);
    ks_flush(ks, -1, 0);
    for (int db = 0; db < 3; db++)
        assert_int_equal(walk_check(ks, db, NULL), 0);
    struct ks_stats st = stats(ks);
    assert_int_equal(st.keys, 0);
    assert_int_equal(st.volatile_keys, 0);
    ks_destroy(&ks);
}

static void test_flush_async_empties_at_once_and_destroy_waits(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 2, 32);
    for (long i = 0; i < 50000; i++)
        setn(ks, i % 2, "big", i, i % 3 ? -1 : NOW + 1000);
    ks_flush(ks, 0, 1);
    assert_int_equal(walk_check(ks, 0, NULL), 0);
    assert_int_equal(walk_check(ks, 1, NULL), 25000);
    /* new writes after the flush are kept (only detached tables are freed) */
    for (long i = 0; i < 1000; i++)
        setn(ks, 0, "after", i, -1);
    ks_flush(ks, -1, 1);
    for (long i = 0; i < 100; i++)
        setn(ks, 1, "after2", i, -1);
    assert_int_equal(walk_check(ks, 0, NULL), 0);
    assert_int_equal(walk_check(ks, 1, NULL), 100);
    /* destroy right away: it must wait for the background frees (ASan's
     * leak check and use-after-free detection in the Sanitize build) */
    ks_destroy(&ks);
    assert_null(ks);
}

static void test_flush_of_empty_db_is_harmless(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(2, 2, 33);
    ks_flush(ks, 0, 0);
    ks_flush(ks, 1, 1);
    ks_flush(ks, -1, 1);
    assert_int_equal(walk_check(ks, 0, NULL), 0);
    ks_destroy(&ks);
}

/* ---- swapdb --------------------------------------------------------------- */

static void test_swapdb_swaps_contents_and_counts(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 4, 34);
    for (long i = 0; i < 300; i++)
        setn(ks, 0, "zero", i, NOW + 1000);
    for (long i = 0; i < 100; i++)
        setn(ks, 3, "three", i, -1);
    ks_swapdb(ks, 0, 3);
    uint64_t vol;
    assert_int_equal(walk_check(ks, 0, &vol), 100);
    assert_int_equal(vol, 0);
    assert_int_equal(walk_check(ks, 3, &vol), 300);
    assert_int_equal(vol, 300);
    assert_val(ks, 3, "zero:7", "val-zero-7", NOW + 1000);
    assert_val(ks, 0, "three:7", "val-three-7", -1);
    assert_false(get_at(ks, 0, "zero:7", NOW, NULL, NULL));
    /* writes after the swap land in the swapped tables */
    setn(ks, 0, "three", 1000, -1);
    assert_int_equal(walk_check(ks, 0, NULL), 101);
    /* swapping a db with itself changes nothing */
    ks_swapdb(ks, 1, 1);
    ks_swapdb(ks, 3, 3);
    assert_int_equal(walk_check(ks, 3, NULL), 300);
    /* expiry still works on swapped tables */
    assert_int_equal(expire_until(ks, NOW + 2000, 300, 20000), 300);
    assert_int_equal(walk_check(ks, 3, NULL), 0);
    ks_destroy(&ks);
}

/* ---- random key ----------------------------------------------------------- */

static void test_random_key_of_empty_db_is_enoent(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 2, 40);
    setn(ks, 1, "x", 1, -1);
    char *key = NULL;
    size_t len = 0;
    assert_int_equal(ks_random_key(ks, 0, NOW, 1, &key, &len), ST_ENOENT);
    assert_null(key);
    ks_destroy(&ks);
}

static void test_random_key_returns_members_and_reaches_all(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 41);
    for (long i = 0; i < 20; i++)
        setn(ks, 0, "r", i, -1);
    unsigned seen[20] = { 0 };
    for (uint64_t rnd = 1; rnd <= 4000; rnd++) {
        char *key = NULL;
        size_t len = 0;
        assert_int_equal(ks_random_key(ks, 0, NOW, rnd * 0x9E3779B97F4A7C15ull, &key, &len), ST_OK);
        assert_non_null(key);
        char buf[64];
        assert_true(len < sizeof(buf));
        memcpy(buf, key, len);
        buf[len] = 0;
        free(key);
        long i;
        assert_int_equal(sscanf(buf, "r:%ld", &i), 1);
        assert_true(i >= 0 && i < 20);
        seen[i]++;
    }
    for (int i = 0; i < 20; i++)
        assert_true(seen[i] > 20); /* ~200 each */
    ks_destroy(&ks);
}

static void test_random_key_with_only_expired_keys_is_enoent(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 42);
    for (long i = 0; i < 30; i++)
        setn(ks, 0, "dead", i, NOW - 1);
    char *key = NULL;
    size_t len = 0;
    assert_int_equal(ks_random_key(ks, 0, NOW, 5, &key, &len), ST_ENOENT);
    /* the expired picks were deleted on the way */
    assert_int_equal(walk_check(ks, 0, NULL), 0);
    ks_destroy(&ks);
}

static void test_random_key_finds_live_key_among_many_expired(void **state)
{
    (void)state;
    /* A cache right after a mass expiry: 2000 keys past their TTL, not yet
     * reclaimed, and one live key. RANDOMKEY must return the live key, as
     * Redis's dbRandomKey does (it keeps deleting expired picks until it
     * finds a live one); ST_ENOENT is for an empty db only (keyspace.h). */
    struct keyspace *ks = mkks(4, 1, 43);
    for (long i = 0; i < 2000; i++)
        setn(ks, 0, "dead", i, NOW - 1);
    set_ex(ks, 0, "alive", "yes", -1, NOW);
    int rc[3];
    char got[3][16];
    unsigned long long left[3];
    for (int t = 0; t < 3; t++) {
        char *key = NULL;
        size_t len = 0;
        rc[t] = ks_random_key(ks, 0, NOW, (uint64_t)t + 1, &key, &len);
        left[t] = (unsigned long long)ks_dbsize(ks, 0);
        snprintf(got[t], sizeof(got[t]), "%.*s", rc[t] == ST_OK ? (int)len : 0, rc[t] == ST_OK ? key : "");
        free(key);
    }
    ks_destroy(&ks); /* before asserting, so a failure leaks nothing */
    for (int t = 0; t < 3; t++) {
        if (rc[t] != ST_OK)
            fail_msg("ks_random_key returned %d (%s) with a live key in the db (%llu keys left)", rc[t],
                     st_strerror(rc[t]), left[t]);
        assert_string_equal(got[t], "alive");
    }
}

/* ---- locking -------------------------------------------------------------- */

static void test_lock_keys_locks_exactly_their_shards(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 50);
    struct ks_key keys[40];
    char names[40][64];
    int want[16] = { 0 };
    /* keys in many shards, with duplicates, in no particular order */
    for (int i = 0; i < 40; i++) {
        kname(names[i], "lk", (i * 7) % 23);
        ks_key_init(ks, &keys[i], names[i], strlen(names[i]));
        want[keys[i].shard] = 1;
    }
    int nwant = 0;
    for (int s = 0; s < 16; s++)
        nwant += want[s];
    assert_true(nwant >= 8);
    ks_lock_keys(ks, keys, 40);
    for (unsigned s = 0; s < 16; s++) {
        int rc = pthread_mutex_trylock(&ks->shards[s].lock);
        if (want[s]) {
            assert_int_equal(rc, EBUSY);
        } else {
            assert_int_equal(rc, 0);
            pthread_mutex_unlock(&ks->shards[s].lock);
        }
    }
    ks_unlock_keys(ks, keys, 40);
    for (unsigned s = 0; s < 16; s++) {
        assert_int_equal(pthread_mutex_trylock(&ks->shards[s].lock), 0);
        pthread_mutex_unlock(&ks->shards[s].lock);
    }
    /* one key */
    ks_lock_keys(ks, keys, 1);
    assert_int_equal(pthread_mutex_trylock(&ks->shards[keys[0].shard].lock), EBUSY);
    ks_unlock_keys(ks, keys, 1);
    /* all */
    ks_lock_all(ks);
    for (unsigned s = 0; s < 16; s++)
        assert_int_equal(pthread_mutex_trylock(&ks->shards[s].lock), EBUSY);
    ks_unlock_all(ks);
    ks_destroy(&ks);
}

#define POOL 48
#define ITERS 100000

struct locker {
    struct keyspace *ks;
    int id;
    uint64_t seed;
    long increments;
    _Atomic int *owner; /* [nshards] */
    _Atomic int *violations;
    char (*names)[64];
    pthread_barrier_t *start;
    int defer; /* run iterations in ks_defer batches of 1..8, as a worker does */
};

/* Each iteration locks a random, overlapping subset of the pool (2..12 keys
 * in random order, duplicates allowed), checks it alone holds those shards,
 * and increments every distinct key's counter, as MSET/MGET-like commands do. */
static void *locker_main(void *arg)
{
    struct locker *L = arg;
    struct util_rng rng;
    util_rng_seed(&rng, L->seed);
    pthread_barrier_wait(L->start); /* both threads contend from the first iteration */
    int batch_left = 0, was = 0;
    for (int it = 0; it < ITERS; it++) {
        if (L->defer && batch_left == 0) {
            was = ks_defer_begin();
            batch_left = 1 + (int)(util_rng_next(&rng) % 8);
        }
        /* with deferral, half the iterations touch one key (the commands a
         * kept lock may carry over to) */
        int n = L->defer && (util_rng_next(&rng) & 1) ? 1 : 2 + (int)(util_rng_next(&rng) % 11);
        struct ks_key keys[12];
        int idx[12];
        for (int i = 0; i < n; i++) {
            idx[i] = (int)(util_rng_next(&rng) % POOL);
            ks_key_init(L->ks, &keys[i], L->names[idx[i]], strlen(L->names[idx[i]]));
        }
        ks_lock_keys(L->ks, keys, (size_t)n);
        uint64_t mine[64] = { 0 };
        for (int i = 0; i < n; i++) {
            unsigned s = keys[i].shard;
            if (mine[s / 64] & (1ull << (s % 64)))
                continue;
            mine[s / 64] |= 1ull << (s % 64);
            if (atomic_exchange(&L->owner[s], L->id) != 0)
                atomic_fetch_add(L->violations, 1);
        }
        int done[POOL] = { 0 };
        for (int i = 0; i < n; i++) {
            if (done[idx[i]])
                continue;
            done[idx[i]] = 1;
            struct entry **ref = ks_find_ref(L->ks, 0, &keys[i], NOW, 0);
            long long v = 0;
            if (ref) {
                if ((*ref)->enc != ENC_INT)
                    atomic_fetch_add(L->violations, 1000000);
                v = entry_int(*ref);
            }
            char buf[UTIL_LLSTR_SIZE];
            int len = util_ll2str(buf, v + 1);
            if (ks_set_str(L->ks, 0, &keys[i], ref, buf, (size_t)len, -1) != ST_OK)
                atomic_fetch_add(L->violations, 1000);
            L->increments++;
        }
        for (unsigned s = 0; s < L->ks->nshards; s++)
            if (mine[s / 64] & (1ull << (s % 64)))
                atomic_store(&L->owner[s], 0);
        ks_unlock_keys(L->ks, keys, (size_t)n);
        if (L->defer && --batch_left == 0)
            ks_defer_end(was);
    }
    if (L->defer && batch_left > 0)
        ks_defer_end(was);
    return NULL;
}

static void run_two_lockers(int defer)
{
    /* few shards, so the two threads' sets overlap on most iterations */
    struct keyspace *ks = mkks(3, 1, 51);
    char names[POOL][64];
    for (int i = 0; i < POOL; i++)
        kname(names[i], "ctr", i);
    _Atomic int *owner = calloc(ks->nshards, sizeof(*owner));
    _Atomic int violations = 0;
    struct locker L[2];
    pthread_t th[2];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    for (int t = 0; t < 2; t++) {
        L[t] = (struct locker){ .ks = ks, .id = t + 1, .seed = 1000 + (uint64_t)t, .owner = owner,
                                .violations = &violations, .names = names, .start = &start,
                                .defer = defer };
        assert_int_equal(pthread_create(&th[t], NULL, locker_main, &L[t]), 0);
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    for (int t = 0; t < 2; t++) {
        int rc = pthread_timedjoin_np(th[t], NULL, &deadline);
        if (rc != 0)
            fail_msg("locker thread %d did not finish within 60 s: deadlock?", t);
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(atomic_load(&violations), 0);
    long sum = 0;
    for (int i = 0; i < POOL; i++) {
        char v[128];
        if (get_at(ks, 0, names[i], NOW, v, NULL))
            sum += strtol(v, NULL, 10);
    }
    assert_int_equal(sum, L[0].increments + L[1].increments);
    free(owner);
    ks_destroy(&ks);
}

static void test_lock_keys_from_two_threads_no_deadlock_no_lost_update(void **state)
{
    (void)state;
    run_two_lockers(0);
}

static void test_deferred_locks_from_two_threads_no_deadlock_no_lost_update(void **state)
{
    (void)state;
    run_two_lockers(1);
}

struct trylock_arg {
    struct keyspace *ks;
    unsigned shard;
    int rc;
};

/* pthread_mutex_trylock from another thread: EBUSY while anyone holds it */
static void *trylock_main(void *arg)
{
    struct trylock_arg *a = arg;
    a->rc = pthread_mutex_trylock(&a->ks->shards[a->shard].lock);
    if (a->rc == 0)
        pthread_mutex_unlock(&a->ks->shards[a->shard].lock);
    return NULL;
}

static int held_elsewhere(struct keyspace *ks, unsigned shard)
{
    struct trylock_arg a = { ks, shard, -1 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, trylock_main, &a), 0);
    pthread_join(th, NULL);
    return a.rc == EBUSY;
}

static void test_defer_keeps_one_lock_until_another_shard_or_the_end(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(4, 1, 52);
    int was = ks_defer_begin();
    assert_int_equal(was, 0);
    ks_lock(ks, 3);
    ks_unlock(ks, 3);
    assert_ptr_equal(ks_defer.held, &ks->shards[3].lock);
    assert_true(held_elsewhere(ks, 3)); /* kept */
    ks_lock(ks, 3);                     /* taken over without waiting */
    assert_null(ks_defer.held);
    ks_unlock(ks, 3);
    ks_lock(ks, 5); /* another shard: the kept one goes first */
    assert_false(held_elsewhere(ks, 3));
    assert_true(held_elsewhere(ks, 5));
    /* two locks at once: only the first given back is kept */
    ks_lock(ks, 9);
    ks_unlock(ks, 9);
    ks_unlock(ks, 5);
    assert_ptr_equal(ks_defer.held, &ks->shards[9].lock);
    assert_false(held_elsewhere(ks, 5));
    /* lock_keys over several shards releases the kept one first */
    struct ks_key keys[16];
    char names[16][64];
    for (int i = 0; i < 16; i++) {
        kname(names[i], "dk", i);
        ks_key_init(ks, &keys[i], names[i], strlen(names[i]));
    }
    ks_lock_keys(ks, keys, 16);
    ks_unlock_keys(ks, keys, 16);
    assert_non_null(ks_defer.held);
    /* nested begin/end leaves the outer batch's lock alone */
    unsigned held = 0;
    while (held < ks->nshards && &ks->shards[held].lock != ks_defer.held)
        held++;
    assert_true(held < ks->nshards);
    int inner = ks_defer_begin();
    assert_int_equal(inner, 1);
    ks_defer_end(inner);
    assert_ptr_equal(ks_defer.held, &ks->shards[held].lock);
    assert_true(held_elsewhere(ks, held));
    ks_defer_end(was);
    assert_null(ks_defer.held);
    assert_false(held_elsewhere(ks, held));
    /* two keyspaces side by side: shard 3 of one is not shard 3 of the other */
    struct keyspace *ks2 = mkks(4, 1, 53);
    was = ks_defer_begin();
    ks_lock(ks, 3);
    ks_unlock(ks, 3);
    ks_lock(ks2, 3);
    assert_true(held_elsewhere(ks2, 3));
    assert_false(held_elsewhere(ks, 3));
    ks_unlock(ks2, 3);
    ks_defer_end(was);
    assert_false(held_elsewhere(ks2, 3));
    ks_destroy(&ks2);
    /* outside a batch nothing is kept */
    ks_lock(ks, 3);
    ks_unlock(ks, 3);
    assert_null(ks_defer.held);
    assert_false(held_elsewhere(ks, 3));
    ks_destroy(&ks);
}

/* ---- housekeeping and stats ----------------------------------------------- */

static void test_rehash_cycle_shrinks_sparse_tables(void **state)
{
    (void)state;
    struct keyspace *ks = mkks(2, 1, 60);
    for (long i = 0; i < 40000; i++)
        setn(ks, 0, "k", i, -1);
    for (unsigned s = 0; s < 4; s++)
        ks_rehash_cycle(ks, s, 1000000);
    uint64_t big = stats(ks).overhead_bytes;
    for (long i = 0; i < 40000; i++)
        if (i % 100) {
            char key[64];
            kname(key, "k", i);
            del_key(ks, 0, key);
        }
    for (int round = 0; round < 20; round++)
        for (unsigned s = 0; s < 4; s++)
            ks_rehash_cycle(ks, s, 1000000);
    struct ks_stats st = stats(ks);
    assert_int_equal(st.keys, 400);
    assert_int_equal(st.rehashing, 0);
    assert_true(st.overhead_bytes * 8 < big);
    assert_int_equal(walk_check(ks, 0, NULL), 400);
    assert_val(ks, 0, "k:300", "val-k-300", -1);
    ks_destroy(&ks);
}

/* ---- two keyspaces side by side (DESIGN.md invariant 6) ------------------- */

static void test_two_keyspaces_side_by_side_share_nothing(void **state)
{
    (void)state;
    struct keyspace *a = mkks(4, 2, 0), *b = mkks(2, 2, 0);
    for (long i = 0; i < 1000; i++) {
        setn(a, 0, "shared", i, NOW + 10);
        set_ex(b, 0, "shared:1", "b's value", -1, NOW);
    }
    setn(b, 1, "only-b", 1, -1);
    assert_int_equal(walk_check(a, 0, NULL), 1000);
    assert_int_equal(walk_check(b, 0, NULL), 1);
    assert_val(a, 0, "shared:1", "val-shared-1", NOW + 10);
    assert_val(b, 0, "shared:1", "b's value", -1);
    /* expiry in a does not touch b */
    assert_int_equal(expire_until(a, NOW + 20, 1000, 20000), 1000);
    assert_val(b, 0, "shared:1", "b's value", -1);
    /* flush, swap and tick in b do not touch a */
    setn(a, 0, "again", 1, -1);
    ks_tick(b, 99000);
    ks_swapdb(b, 0, 1);
    ks_flush(b, 0, 1);
    assert_val(a, 0, "again:1", "val-again-1", -1);
    assert_int_equal(stats(a).expired_keys, 1000);
    assert_int_equal(stats(b).expired_keys, 0);
    assert_val(b, 1, "shared:1", "b's value", -1);
    ks_destroy(&b);
    /* a outlives b */
    setn(a, 1, "late", 1, -1);
    assert_val(a, 1, "late:1", "val-late-1", -1);
    ks_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_bad_conf),
        cmocka_unit_test(test_create_and_destroy_nulls_pointer),
        cmocka_unit_test(test_keys_spread_over_shards),
        cmocka_unit_test(test_set_new_key_then_get),
        cmocka_unit_test(test_set_overwrite_replaces_value_and_drops_ttl),
        cmocka_unit_test(test_set_with_expiry_sets_ttl_and_counts_volatile),
        cmocka_unit_test(test_set_keepttl_keeps_existing_expiry),
        cmocka_unit_test(test_set_keepttl_on_new_key_has_no_ttl),
        cmocka_unit_test(test_set_many_keys_survive_resizes_in_every_db),
        cmocka_unit_test(test_delete_and_take_keep_volatile_counts),
        cmocka_unit_test(test_set_expire_and_swap_keep_volatile_counts),
        cmocka_unit_test(test_find_touches_access_clock_unless_notouch),
        cmocka_unit_test(test_lfu_counter_grows_logarithmically_and_decays),
        cmocka_unit_test(test_lazy_expiry_deletes_on_lookup_and_counts),
        cmocka_unit_test(test_set_over_expired_key_creates_fresh_key),
        cmocka_unit_test(test_expire_cycle_removes_expired_keys_without_lookups),
        cmocka_unit_test(test_expire_cycle_finds_sparse_expired_keys_over_calls),
        cmocka_unit_test(test_expire_cycle_with_nothing_expired_is_a_noop),
        cmocka_unit_test(test_scan_visits_every_key_once_across_shards),
        cmocka_unit_test(test_scan_of_empty_db_returns_zero),
        cmocka_unit_test(test_scan_visits_every_key_while_tables_grow_and_shrink),
        cmocka_unit_test(test_scan_skips_and_deletes_expired_keys),
        cmocka_unit_test(test_scan_cursor_is_never_zero_mid_scan),
        cmocka_unit_test(test_flush_sync_one_db_leaves_others),
        cmocka_unit_test(test_flush_all_sync),
        cmocka_unit_test(test_flush_async_empties_at_once_and_destroy_waits),
        cmocka_unit_test(test_flush_of_empty_db_is_harmless),
        cmocka_unit_test(test_swapdb_swaps_contents_and_counts),
        cmocka_unit_test(test_random_key_of_empty_db_is_enoent),
        cmocka_unit_test(test_random_key_returns_members_and_reaches_all),
        cmocka_unit_test(test_random_key_with_only_expired_keys_is_enoent),
        cmocka_unit_test(test_random_key_finds_live_key_among_many_expired),
        cmocka_unit_test(test_lock_keys_locks_exactly_their_shards),
        cmocka_unit_test(test_lock_keys_from_two_threads_no_deadlock_no_lost_update),
        cmocka_unit_test(test_deferred_locks_from_two_threads_no_deadlock_no_lost_update),
        cmocka_unit_test(test_defer_keeps_one_lock_until_another_shard_or_the_end),
        cmocka_unit_test(test_rehash_cycle_shrinks_sparse_tables),
        cmocka_unit_test(test_two_keyspaces_side_by_side_share_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
