/*
 * test_keys.c -- the generic key commands (server/cmd_keys.c) against a real
 * server through hiredis: DEL UNLINK EXISTS TYPE, the EXPIRE family with
 * NX/XX/GT/LT and its error texts, TTL PTTL EXPIRETIME PEXPIRETIME PERSIST,
 * lazy and active expiry, KEYS and SCAN (with their iteration guarantees
 * under concurrent resizes), RANDOMKEY, RENAME RENAMENX COPY MOVE (keeping
 * the TTL), TOUCH, OBJECT, DBSIZE FLUSHDB FLUSHALL SWAPDB, 16 databases, and
 * the keyspace_hits/misses counters in INFO.
 *
 * Expected replies and error texts are Redis 7.0's. One server serves every
 * test; each test starts with FLUSHALL so tests do not see each other's keys.
 */
#include "testkit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int group_setup(void **state)
{
    static struct tk_server s;
    if (tk_server_start(&s, NULL) != 0)
        return -1;
    *state = &s;
    return 0;
}

static int group_teardown(void **state)
{
    struct tk_server *s = *state;
    return tk_server_stop(s) == 0 ? 0 : -1;
}

/* A fresh connection on an empty server. */
static redisContext *fresh(void **state)
{
    redisContext *c = tk_connect(*state);
    tk_expect_status(tk_cmd(c, "FLUSHALL"), "OK");
    return c;
}

static long long int_of(redisReply *r)
{
    if (r->type != REDIS_REPLY_INTEGER) {
        int t = r->type;
        freeReplyObject(r);
        fail_msg("expected an integer reply, got type %d", t);
    }
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

static void set_ok(redisContext *c, const char *k, const char *v)
{
    tk_expect_status(tk_cmd(c, "SET %s %s", k, v), "OK");
}

/* Sends SET prefix<i> i for i in [from, to) pipelined (with PX px when > 0). */
static void set_many(redisContext *c, const char *prefix, int from, int to, long px)
{
    for (int i = from; i < to; i++) {
        if (px > 0)
            redisAppendCommand(c, "SET %s%d %d PX %ld", prefix, i, i, px);
        else
            redisAppendCommand(c, "SET %s%d %d", prefix, i, i);
    }
    for (int i = from; i < to; i++) {
        redisReply *r = NULL;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        tk_expect_status(r, "OK");
    }
}

static void del_many(redisContext *c, const char *prefix, int from, int to)
{
    for (int i = from; i < to; i++)
        redisAppendCommand(c, "DEL %s%d", prefix, i);
    for (int i = from; i < to; i++) {
        redisReply *r = NULL;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        assert_int_equal(r->type, REDIS_REPLY_INTEGER);
        freeReplyObject(r);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- DEL UNLINK EXISTS TYPE ---- */

static void test_del_and_unlink_count_only_existing_keys_once(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "a", "1");
    set_ok(c, "b", "2");
    set_ok(c, "c", "3");
    tk_expect_int(tk_cmd(c, "DEL a b missing a"), 2);
    tk_expect_int(tk_cmd(c, "UNLINK c missing"), 1);
    tk_expect_int(tk_cmd(c, "UNLINK c"), 0);
    tk_expect_int(tk_cmd(c, "EXISTS a b c"), 0);
    tk_expect_int(tk_cmd(c, "DBSIZE"), 0);
    tk_expect_error(tk_cmd(c, "DEL"), "ERR wrong number of arguments for 'del' command");
    tk_expect_error(tk_cmd(c, "UNLINK"), "ERR wrong number of arguments for 'unlink' command");
    redisFree(c);
}

static void test_exists_counts_repeated_keys_each_time(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "a", "1");
    set_ok(c, "b", "2");
    tk_expect_int(tk_cmd(c, "EXISTS a"), 1);
    tk_expect_int(tk_cmd(c, "EXISTS a a b nope"), 3);
    tk_expect_int(tk_cmd(c, "EXISTS nope"), 0);
    tk_expect_error(tk_cmd(c, "EXISTS"), "ERR wrong number of arguments for 'exists' command");
    redisFree(c);
}

static void test_type_is_string_or_none(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "s", "hello");
    set_ok(c, "n", "12345");
    tk_expect_status(tk_cmd(c, "TYPE s"), "string");
    tk_expect_status(tk_cmd(c, "TYPE n"), "string");
    tk_expect_status(tk_cmd(c, "TYPE missing"), "none");
    tk_expect_error(tk_cmd(c, "TYPE"), "ERR wrong number of arguments for 'type' command");
    tk_expect_error(tk_cmd(c, "TYPE a b"), "ERR wrong number of arguments for 'type' command");
    redisFree(c);
}

/* ---- EXPIRE family ---- */

static void test_expire_family_sets_ttl_and_misses_absent_keys(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "k", "v");
    tk_expect_int(tk_cmd(c, "EXPIRE missing 100"), 0);
    tk_expect_int(tk_cmd(c, "PEXPIRE missing 100"), 0);
    tk_expect_int(tk_cmd(c, "EXPIREAT missing 99999999999"), 0);
    tk_expect_int(tk_cmd(c, "PEXPIREAT missing 99999999999"), 0);

    tk_expect_int(tk_cmd(c, "EXPIRE k 100"), 1);
    long long ttl = int_of(tk_cmd(c, "TTL k"));
    assert_true(ttl >= 99 && ttl <= 100);
    long long pttl = int_of(tk_cmd(c, "PTTL k"));
    assert_true(pttl > 98000 && pttl <= 100000);

    tk_expect_int(tk_cmd(c, "PEXPIRE k 50000"), 1);
    pttl = int_of(tk_cmd(c, "PTTL k"));
    assert_true(pttl > 48000 && pttl <= 50000);

    long long at = now_ms() / 1000 + 1000;
    tk_expect_int(tk_cmd(c, "EXPIREAT k %lld", at), 1);
    tk_expect_int(tk_cmd(c, "EXPIRETIME k"), at);
    tk_expect_int(tk_cmd(c, "PEXPIRETIME k"), at * 1000);

    long long pat = now_ms() + 777777;
    tk_expect_int(tk_cmd(c, "PEXPIREAT k %lld", pat), 1);
    tk_expect_int(tk_cmd(c, "PEXPIRETIME k"), pat);
    tk_expect_int(tk_cmd(c, "EXPIRETIME k"), (pat + 500) / 1000);
    tk_expect_str(tk_cmd(c, "GET k"), "v");
    redisFree(c);
}

static void test_expire_in_the_past_deletes_the_key_and_replies_1(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "a", "1");
    set_ok(c, "b", "1");
    set_ok(c, "d", "1");
    set_ok(c, "e", "1");
    tk_expect_int(tk_cmd(c, "EXPIRE a -1"), 1);
    tk_expect_int(tk_cmd(c, "PEXPIRE b 0"), 1);
    tk_expect_int(tk_cmd(c, "EXPIREAT d 1"), 1);
    tk_expect_int(tk_cmd(c, "PEXPIREAT e %lld", now_ms() - 1000), 1);
    tk_expect_int(tk_cmd(c, "EXISTS a b d e"), 0);
    tk_expect_int(tk_cmd(c, "DBSIZE"), 0);
    redisFree(c);
}

static void test_expire_nx_xx_gt_lt_follow_redis7_rules(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "k", "v");
    /* no TTL yet: XX and GT fail, NX and LT succeed */
    tk_expect_int(tk_cmd(c, "EXPIRE k 100 XX"), 0);
    tk_expect_int(tk_cmd(c, "EXPIRE k 100 GT"), 0);
    tk_expect_int(tk_cmd(c, "TTL k"), -1);
    tk_expect_int(tk_cmd(c, "EXPIRE k 100 NX"), 1);
    tk_expect_int(tk_cmd(c, "EXPIRE k 200 NX"), 0);
    long long ttl = int_of(tk_cmd(c, "TTL k"));
    assert_true(ttl >= 99 && ttl <= 100);
    tk_expect_int(tk_cmd(c, "EXPIRE k 200 xx"), 1);
    tk_expect_int(tk_cmd(c, "EXPIRE k 100 GT"), 0);
    tk_expect_int(tk_cmd(c, "EXPIRE k 300 gt"), 1);
    tk_expect_int(tk_cmd(c, "EXPIRE k 400 LT"), 0);
    tk_expect_int(tk_cmd(c, "EXPIRE k 50 lt"), 1);
    ttl = int_of(tk_cmd(c, "TTL k"));
    assert_true(ttl >= 49 && ttl <= 50);
    tk_expect_int(tk_cmd(c, "EXPIRE k 40 XX LT"), 1);
    tk_expect_int(tk_cmd(c, "EXPIRE k 60 XX GT"), 1);
    ttl = int_of(tk_cmd(c, "TTL k"));
    assert_true(ttl >= 59 && ttl <= 60);

    set_ok(c, "p", "v"); /* persistent: LT succeeds (no TTL = infinite) */
    tk_expect_int(tk_cmd(c, "PEXPIRE p 100000 LT"), 1);
    ttl = int_of(tk_cmd(c, "PTTL p"));
    assert_true(ttl > 98000 && ttl <= 100000);
    redisFree(c);
}

static void test_expire_option_errors_have_redis7_texts(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "k", "v");
    const char *nx_msg = "ERR NX and XX, GT or LT options at the same time are not compatible";
    const char *gtlt_msg = "ERR GT and LT options at the same time are not compatible";
    tk_expect_error(tk_cmd(c, "EXPIRE k 10 NX XX"), nx_msg);
    tk_expect_error(tk_cmd(c, "EXPIRE k 10 NX GT"), nx_msg);
    tk_expect_error(tk_cmd(c, "PEXPIRE k 10 LT NX"), nx_msg);
    tk_expect_error(tk_cmd(c, "EXPIREAT k 10 GT LT"), gtlt_msg);
    tk_expect_error(tk_cmd(c, "PEXPIREAT k 10 lt gt"), gtlt_msg);
    tk_expect_error(tk_cmd(c, "EXPIRE k 10 FOO"), "ERR Unsupported option FOO");
    /* options are checked before the number */
    tk_expect_error(tk_cmd(c, "EXPIRE k abc NX XX"), nx_msg);
    tk_expect_error(tk_cmd(c, "EXPIRE k abc"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "EXPIRE k 1.5"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "EXPIRE k"), "ERR wrong number of arguments for 'expire' command");
    tk_expect_int(tk_cmd(c, "TTL k"), -1);
    redisFree(c);
}

static void test_expire_overflow_is_invalid_expire_time(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "k", "v");
    tk_expect_error(tk_cmd(c, "EXPIRE k 9223372036854775807"), "ERR invalid expire time in 'expire' command");
    tk_expect_error(tk_cmd(c, "EXPIRE k -9223372036854775808"), "ERR invalid expire time in 'expire' command");
    tk_expect_error(tk_cmd(c, "PEXPIRE k 9223372036854775807"), "ERR invalid expire time in 'pexpire' command");
    tk_expect_error(tk_cmd(c, "EXPIREAT k 9223372036854775807"),
                    "ERR invalid expire time in 'expireat' command");
    /* the largest absolute time in ms does not overflow */
    tk_expect_int(tk_cmd(c, "PEXPIREAT k 9223372036854775807"), 1);
    tk_expect_int(tk_cmd(c, "PEXPIRETIME k"), 9223372036854775807LL);
    tk_expect_str(tk_cmd(c, "GET k"), "v");
    /* an overflowing but present key is left alone */
    tk_expect_int(tk_cmd(c, "EXISTS k"), 1);
    redisFree(c);
}

/* ---- TTL PTTL EXPIRETIME PEXPIRETIME PERSIST ---- */

static void test_ttl_family_reports_minus2_missing_minus1_persistent(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "k", "v");
    tk_expect_int(tk_cmd(c, "TTL missing"), -2);
    tk_expect_int(tk_cmd(c, "PTTL missing"), -2);
    tk_expect_int(tk_cmd(c, "EXPIRETIME missing"), -2);
    tk_expect_int(tk_cmd(c, "PEXPIRETIME missing"), -2);
    tk_expect_int(tk_cmd(c, "TTL k"), -1);
    tk_expect_int(tk_cmd(c, "PTTL k"), -1);
    tk_expect_int(tk_cmd(c, "EXPIRETIME k"), -1);
    tk_expect_int(tk_cmd(c, "PEXPIRETIME k"), -1);
    tk_expect_status(tk_cmd(c, "SET t v EX 10"), "OK");
    long long ttl = int_of(tk_cmd(c, "TTL t"));
    assert_true(ttl == 10 || ttl == 9);
    redisFree(c);
}

static void test_persist_removes_ttl_once(void **state)
{
    redisContext *c = fresh(state);
    tk_expect_status(tk_cmd(c, "SET k v EX 100"), "OK");
    set_ok(c, "p", "v");
    tk_expect_int(tk_cmd(c, "PERSIST k"), 1);
    tk_expect_int(tk_cmd(c, "TTL k"), -1);
    tk_expect_int(tk_cmd(c, "PERSIST k"), 0);
    tk_expect_int(tk_cmd(c, "PERSIST p"), 0);
    tk_expect_int(tk_cmd(c, "PERSIST missing"), 0);
    tk_expect_str(tk_cmd(c, "GET k"), "v");
    redisFree(c);
}

/* ---- expiry actually happens ---- */

static void test_lazy_expiry_hides_key_after_its_ttl(void **state)
{
    redisContext *c = fresh(state);
    tk_expect_status(tk_cmd(c, "SET k v PX 50"), "OK");
    tk_expect_status(tk_cmd(c, "SET j v"), "OK");
    tk_expect_int(tk_cmd(c, "PEXPIRE j 50"), 1);
    sleep_ms(100);
    tk_expect_nil(tk_cmd(c, "GET k"));
    tk_expect_int(tk_cmd(c, "EXISTS k j"), 0);
    tk_expect_int(tk_cmd(c, "TTL j"), -2);
    tk_expect_status(tk_cmd(c, "TYPE j"), "none");
    redisFree(c);
}

static void test_active_expiry_removes_untouched_keys(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "keeper", "1");
    set_many(c, "vol:", 0, 5000, 300);
    long long deadline = mono_ms() + 10000, n = -1;
    while (mono_ms() < deadline) {
        n = int_of(tk_cmd(c, "DBSIZE"));
        if (n == 1)
            break;
        sleep_ms(50);
    }
    if (n != 1)
        fail_msg("active expiry left %lld keys after 10 s (expected 1)", n);
    tk_expect_str(tk_cmd(c, "GET keeper"), "1");
    redisFree(c);
}

/* ---- KEYS ---- */

static void test_keys_matches_glob_patterns(void **state)
{
    redisContext *c = fresh(state);
    const char *names[] = {"hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "foo", "foo:1", "foo:22"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        set_ok(c, names[i], "x");
    struct {
        const char *pat;
        long n;
    } cases[] = {
        {"*", 9},       {"h?llo", 4},   {"h*llo", 6}, {"h[ae]llo", 2}, {"h[^e]llo", 3},
        {"h[a-b]llo", 1}, {"h\\*llo", 1}, {"foo*", 3}, {"foo:?", 1},    {"nomatch*", 0},
        {"FOO", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        redisReply *r = tk_cmd(c, "KEYS %s", cases[i].pat);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        if ((long)r->elements != cases[i].n)
            fail_msg("KEYS %s: %zu keys, expected %ld", cases[i].pat, r->elements, cases[i].n);
        freeReplyObject(r);
    }
    redisReply *r = tk_cmd(c, "KEYS h\\*llo");
    assert_int_equal(r->elements, 1);
    assert_string_equal(r->element[0]->str, "h*llo");
    freeReplyObject(r);
    tk_expect_error(tk_cmd(c, "KEYS"), "ERR wrong number of arguments for 'keys' command");
    redisFree(c);
}

static void test_keys_skips_logically_expired_keys(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "live", "1");
    tk_expect_status(tk_cmd(c, "SET dying 1 PX 20"), "OK");
    sleep_ms(60);
    redisReply *r = tk_cmd(c, "KEYS *");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 1);
    assert_string_equal(r->element[0]->str, "live");
    freeReplyObject(r);
    redisFree(c);
}

struct churn {
    const struct tk_server *s;
    atomic_int stop;
    atomic_long ops;
};

/* Writer thread: grows and shrinks a set of churn keys until told to stop,
 * so the tables resize while the main thread iterates. */
static void *churn_main(void *arg)
{
    struct churn *ch = arg;
    redisContext *c = redisConnect("127.0.0.1", ch->s->port);
    if (!c || c->err)
        return NULL;
    int round = 0;
    while (!atomic_load(&ch->stop)) {
        /* SET a range, DEL it, SET the next range, DEL it, ... */
        int base = ((round / 2) % 2) * 5000;
        for (int i = 0; i < 5000; i++)
            redisAppendCommand(c, round % 2 ? "DEL churn:%d" : "SET churn:%d x", base + i);
        for (int i = 0; i < 5000; i++) {
            redisReply *r = NULL;
            if (redisGetReply(c, (void **)&r) != REDIS_OK)
                goto out;
            freeReplyObject(r);
        }
        atomic_fetch_add(&ch->ops, 5000);
        round++;
    }
out:
    redisFree(c);
    return NULL;
}

/* Invariant 3 of cmd_keys.c: every live key exactly once, even while another
 * client is making the tables grow and shrink. */
static void test_keys_returns_each_key_exactly_once_during_resizes(void **state)
{
    redisContext *c = fresh(state);
    enum { N = 4000 };
    set_many(c, "stable:", 0, N, 0);
    struct churn ch = {.s = *state};
    atomic_init(&ch.stop, 0);
    atomic_init(&ch.ops, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, churn_main, &ch), 0);

    for (int iter = 0; iter < 30; iter++) {
        redisReply *r = tk_cmd(c, iter % 2 ? "KEYS stable:*" : "KEYS *");
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        char **ks = malloc(r->elements * sizeof(*ks));
        size_t n = 0;
        for (size_t i = 0; i < r->elements; i++)
            if (strncmp(r->element[i]->str, "stable:", 7) == 0)
                ks[n++] = r->element[i]->str;
        qsort(ks, n, sizeof(*ks), cmp_str);
        for (size_t i = 1; i < n; i++)
            if (strcmp(ks[i - 1], ks[i]) == 0)
                fail_msg("KEYS returned %s twice (iteration %d)", ks[i], iter);
        if (n != N)
            fail_msg("KEYS returned %zu stable keys, expected %d (iteration %d)", n, N, iter);
        free(ks);
        freeReplyObject(r);
    }
    atomic_store(&ch.stop, 1);
    pthread_join(th, NULL);
    assert_true(atomic_load(&ch.ops) > 0);
    redisFree(c);
}

/* ---- SCAN ---- */

/* Runs a full SCAN with the given extra arguments (a format suffix) and
 * returns the number of keys returned (duplicates included); marks keys
 * "prefix<i>" in seen[] when seen != NULL. */
static long scan_all(redisContext *c, const char *args, const char *prefix, unsigned char *seen, int nseen)
{
    char cursor[32] = "0";
    long total = 0;
    int calls = 0;
    size_t plen = prefix ? strlen(prefix) : 0;
    do {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "SCAN %s %s", cursor, args);
        redisReply *r = tk_cmd(c, cmd);
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY)
            fail_msg("bad SCAN reply shape");
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            total++;
            if (seen && strncmp(k, prefix, plen) == 0) {
                int idx = atoi(k + plen);
                if (idx >= 0 && idx < nseen)
                    seen[idx] = 1;
            }
        }
        freeReplyObject(r);
        if (++calls > 1000000)
            fail_msg("SCAN did not finish");
    } while (strcmp(cursor, "0") != 0);
    return total;
}

static void test_scan_full_iteration_returns_every_key(void **state)
{
    redisContext *c = fresh(state);
    enum { N = 3000 };
    set_many(c, "k:", 0, N, 0);
    unsigned char *seen = calloc(N, 1);
    long total = scan_all(c, "", "k:", seen, N);
    for (int i = 0; i < N; i++)
        if (!seen[i])
            fail_msg("SCAN missed k:%d", i);
    assert_true(total >= N);
    memset(seen, 0, N);
    scan_all(c, "COUNT 1000", "k:", seen, N);
    for (int i = 0; i < N; i++)
        if (!seen[i])
            fail_msg("SCAN COUNT 1000 missed k:%d", i);
    free(seen);

    /* an empty database ends at once */
    tk_expect_status(tk_cmd(c, "FLUSHALL"), "OK");
    redisReply *r = tk_cmd(c, "SCAN 0");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_string_equal(r->element[0]->str, "0");
    assert_int_equal(r->element[1]->elements, 0);
    freeReplyObject(r);
    redisFree(c);
}

static void test_scan_returns_every_stable_key_while_tables_resize(void **state)
{
    redisContext *c = fresh(state);
    redisContext *w = tk_connect(*state);
    enum { N = 3000, BATCH = 250, MAXCHURN = 24000 };
    set_many(c, "stable:", 0, N, 0);
    unsigned char *seen = calloc(N, 1);
    char cursor[32] = "0";
    int churn_hi = 0, churn_lo = 0, growing = 1, calls = 0;
    do {
        redisReply *r = tk_cmd(c, "SCAN %s COUNT 20", cursor);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            if (strncmp(k, "stable:", 7) == 0)
                seen[atoi(k + 7)] = 1;
            else if (strncmp(k, "churn:", 6) != 0)
                fail_msg("SCAN returned a key never written: %s", k);
        }
        freeReplyObject(r);
        /* between calls: grow to MAXCHURN extra keys, then shrink to 0, ... */
        if (growing) {
            set_many(w, "churn:", churn_hi, churn_hi + BATCH, 0);
            churn_hi += BATCH;
            if (churn_hi - churn_lo >= MAXCHURN)
                growing = 0;
        } else {
            del_many(w, "churn:", churn_lo, churn_lo + BATCH);
            churn_lo += BATCH;
            if (churn_lo == churn_hi)
                growing = 1;
        }
        calls++;
    } while (strcmp(cursor, "0") != 0);
    for (int i = 0; i < N; i++)
        if (!seen[i])
            fail_msg("SCAN missed stable:%d (after %d calls with resizes)", i, calls);
    free(seen);
    redisFree(w);
    redisFree(c);
}

static void test_scan_match_count_and_type_filter(void **state)
{
    redisContext *c = fresh(state);
    set_many(c, "user:", 0, 500, 0);
    set_many(c, "item:", 0, 500, 0);
    unsigned char seen[500] = {0};
    long n = scan_all(c, "MATCH user:*", "user:", seen, 500);
    assert_true(n >= 500);
    for (int i = 0; i < 500; i++)
        assert_true(seen[i]);
    /* MATCH filters after collecting: no item: key can appear */
    char cursor[32] = "0";
    do {
        redisReply *r = tk_cmd(c, "SCAN %s MATCH user:1* COUNT 7", cursor);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++)
            assert_memory_equal(r->element[1]->element[i]->str, "user:1", 6);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);

    memset(seen, 0, sizeof(seen));
    assert_true(scan_all(c, "TYPE string", "item:", seen, 500) >= 1000);
    for (int i = 0; i < 500; i++)
        assert_true(seen[i]);
    assert_int_equal(scan_all(c, "TYPE STRING MATCH item:*", NULL, NULL, 0) >= 500, 1);
    assert_int_equal(scan_all(c, "TYPE list", NULL, NULL, 0), 0);
    assert_int_equal(scan_all(c, "TYPE nosuchtype", NULL, NULL, 0), 0);
    assert_int_equal(scan_all(c, "MATCH nomatch* COUNT 5", NULL, NULL, 0), 0);
    assert_true(scan_all(c, "MATCH * COUNT 100000", NULL, NULL, 0) >= 1000);

    /* a large COUNT finishes a small database in one call */
    redisReply *r = tk_cmd(c, "SCAN 0 COUNT 100000");
    assert_string_equal(r->element[0]->str, "0");
    assert_int_equal(r->element[1]->elements, 1000);
    freeReplyObject(r);
    redisFree(c);
}

static void test_scan_argument_errors(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "k", "v");
    tk_expect_error(tk_cmd(c, "SCAN abc"), "ERR invalid cursor");
    tk_expect_error(tk_cmd(c, "SCAN 1x"), "ERR invalid cursor");
    tk_expect_error(tk_cmd(c, "SCAN %s", " 1"), "ERR invalid cursor");
    tk_expect_error(tk_cmd(c, "SCAN 18446744073709551616"), "ERR invalid cursor");
    tk_expect_error(tk_cmd(c, "SCAN 0 COUNT 0"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SCAN 0 COUNT -1"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SCAN 0 COUNT abc"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "SCAN 0 COUNT"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SCAN 0 MATCH"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SCAN 0 TYPE"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SCAN 0 FOO bar"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SCAN"), "ERR wrong number of arguments for 'scan' command");
    /* the largest cursor is valid (it just ends somewhere) */
    redisReply *r = tk_cmd(c, "SCAN 18446744073709551615");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    redisFree(c);
}

/* ---- RANDOMKEY ---- */

static void test_randomkey_nil_when_empty_else_an_existing_key(void **state)
{
    redisContext *c = fresh(state);
    tk_expect_nil(tk_cmd(c, "RANDOMKEY"));
    set_ok(c, "only", "1");
    tk_expect_str(tk_cmd(c, "RANDOMKEY"), "only");
    set_ok(c, "two", "2");
    set_ok(c, "three", "3");
    for (int i = 0; i < 100; i++) {
        redisReply *r = tk_cmd(c, "RANDOMKEY");
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        assert_true(strcmp(r->str, "only") == 0 || strcmp(r->str, "two") == 0 || strcmp(r->str, "three") == 0);
        freeReplyObject(r);
    }
    /* expired keys are never returned */
    tk_expect_status(tk_cmd(c, "FLUSHALL"), "OK");
    tk_expect_status(tk_cmd(c, "SET gone 1 PX 10"), "OK");
    sleep_ms(40);
    tk_expect_nil(tk_cmd(c, "RANDOMKEY"));
    tk_expect_error(tk_cmd(c, "RANDOMKEY x"), "ERR wrong number of arguments for 'randomkey' command");
    redisFree(c);
}

/* ---- RENAME RENAMENX ---- */

static void test_rename_moves_value_and_ttl(void **state)
{
    redisContext *c = fresh(state);
    tk_expect_error(tk_cmd(c, "RENAME missing x"), "ERR no such key");
    tk_expect_error(tk_cmd(c, "RENAME missing missing"), "ERR no such key");
    tk_expect_status(tk_cmd(c, "SET src hello PX 100000"), "OK");
    /* same length key: in place */
    tk_expect_status(tk_cmd(c, "RENAME src dst"), "OK");
    tk_expect_int(tk_cmd(c, "EXISTS src"), 0);
    tk_expect_str(tk_cmd(c, "GET dst"), "hello");
    long long pttl = int_of(tk_cmd(c, "PTTL dst"));
    assert_true(pttl > 90000 && pttl <= 100000);
    /* a longer key: new header */
    tk_expect_status(tk_cmd(c, "RENAME dst a-much-longer-destination-key"), "OK");
    tk_expect_str(tk_cmd(c, "GET a-much-longer-destination-key"), "hello");
    pttl = int_of(tk_cmd(c, "PTTL a-much-longer-destination-key"));
    assert_true(pttl > 90000 && pttl <= 100000);
    /* an integer value keeps its encoding */
    set_ok(c, "n", "12345");
    tk_expect_status(tk_cmd(c, "RENAME n number"), "OK");
    tk_expect_str(tk_cmd(c, "GET number"), "12345");
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING number"), "int");
    tk_expect_int(tk_cmd(c, "TTL number"), -1);
    /* overwrite: the destination's value and TTL are replaced */
    tk_expect_status(tk_cmd(c, "SET old x EX 1000"), "OK");
    set_ok(c, "new", "y");
    tk_expect_status(tk_cmd(c, "RENAME new old"), "OK");
    tk_expect_str(tk_cmd(c, "GET old"), "y");
    tk_expect_int(tk_cmd(c, "TTL old"), -1);
    /* same key: OK when it exists */
    tk_expect_status(tk_cmd(c, "RENAME old old"), "OK");
    tk_expect_str(tk_cmd(c, "GET old"), "y");
    tk_expect_error(tk_cmd(c, "RENAME old"), "ERR wrong number of arguments for 'rename' command");
    redisFree(c);
}

static void test_renamenx_only_when_destination_absent(void **state)
{
    redisContext *c = fresh(state);
    tk_expect_error(tk_cmd(c, "RENAMENX missing x"), "ERR no such key");
    tk_expect_status(tk_cmd(c, "SET a 1 EX 500"), "OK");
    set_ok(c, "b", "2");
    tk_expect_int(tk_cmd(c, "RENAMENX a b"), 0);
    tk_expect_str(tk_cmd(c, "GET a"), "1");
    tk_expect_str(tk_cmd(c, "GET b"), "2");
    tk_expect_int(tk_cmd(c, "RENAMENX a a"), 0);
    tk_expect_int(tk_cmd(c, "RENAMENX a cc"), 1);
    tk_expect_int(tk_cmd(c, "EXISTS a"), 0);
    tk_expect_str(tk_cmd(c, "GET cc"), "1");
    long long ttl = int_of(tk_cmd(c, "TTL cc"));
    assert_true(ttl > 490 && ttl <= 500);
    redisFree(c);
}

/* ---- COPY ---- */

static void test_copy_duplicates_value_and_ttl(void **state)
{
    redisContext *c = fresh(state);
    tk_expect_int(tk_cmd(c, "COPY missing x"), 0);
    tk_expect_status(tk_cmd(c, "SET s hello EX 300"), "OK");
    tk_expect_int(tk_cmd(c, "COPY s d"), 1);
    tk_expect_str(tk_cmd(c, "GET s"), "hello");
    tk_expect_str(tk_cmd(c, "GET d"), "hello");
    long long ttl = int_of(tk_cmd(c, "TTL d"));
    assert_true(ttl > 290 && ttl <= 300);
    /* the copy is independent */
    set_ok(c, "d", "changed");
    tk_expect_str(tk_cmd(c, "GET s"), "hello");
    /* existing destination: 0 unless REPLACE */
    tk_expect_int(tk_cmd(c, "COPY s d"), 0);
    tk_expect_str(tk_cmd(c, "GET d"), "changed");
    tk_expect_int(tk_cmd(c, "COPY s d REPLACE"), 1);
    tk_expect_str(tk_cmd(c, "GET d"), "hello");
    ttl = int_of(tk_cmd(c, "TTL d"));
    assert_true(ttl > 290 && ttl <= 300);
    /* persistent source gives a persistent copy */
    set_ok(c, "p", "12345");
    tk_expect_int(tk_cmd(c, "COPY p p2"), 1);
    tk_expect_int(tk_cmd(c, "TTL p2"), -1);
    tk_expect_str(tk_cmd(c, "GET p2"), "12345");
    redisFree(c);
}

static void test_copy_to_another_db_and_errors(void **state)
{
    redisContext *c = fresh(state);
    tk_expect_status(tk_cmd(c, "SET s v PX 200000"), "OK");
    tk_expect_int(tk_cmd(c, "COPY s s DB 1"), 1);
    tk_expect_int(tk_cmd(c, "COPY s other db 15"), 1);
    tk_expect_int(tk_cmd(c, "COPY s s DB 1"), 0);
    tk_expect_int(tk_cmd(c, "COPY s s REPLACE DB 1"), 1);
    tk_expect_status(tk_cmd(c, "SELECT 1"), "OK");
    tk_expect_str(tk_cmd(c, "GET s"), "v");
    long long pttl = int_of(tk_cmd(c, "PTTL s"));
    assert_true(pttl > 190000 && pttl <= 200000);
    tk_expect_status(tk_cmd(c, "SELECT 15"), "OK");
    tk_expect_str(tk_cmd(c, "GET other"), "v");
    tk_expect_status(tk_cmd(c, "SELECT 0"), "OK");
    tk_expect_int(tk_cmd(c, "EXISTS other"), 0);

    tk_expect_error(tk_cmd(c, "COPY s s"), "ERR source and destination objects are the same");
    tk_expect_error(tk_cmd(c, "COPY s s DB 0"), "ERR source and destination objects are the same");
    tk_expect_error(tk_cmd(c, "COPY s x DB 16"), "ERR DB index is out of range");
    tk_expect_error(tk_cmd(c, "COPY s x DB -1"), "ERR DB index is out of range");
    tk_expect_error(tk_cmd(c, "COPY s x DB abc"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "COPY s x DB 99999999999"),
                    "ERR value is out of range, value must between -2147483648 and 2147483647");
    tk_expect_error(tk_cmd(c, "COPY s x DB"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "COPY s x FOO"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "COPY s"), "ERR wrong number of arguments for 'copy' command");
    tk_expect_int(tk_cmd(c, "EXISTS x"), 0);
    redisFree(c);
}

/* ---- MOVE ---- */

static void test_move_to_another_db_keeps_ttl(void **state)
{
    redisContext *c = fresh(state);
    redisContext *c1 = tk_connect(*state);
    tk_expect_status(tk_cmd(c1, "SELECT 1"), "OK");
    tk_expect_status(tk_cmd(c, "SET k v EX 400"), "OK");
    tk_expect_int(tk_cmd(c, "MOVE k 1"), 1);
    tk_expect_int(tk_cmd(c, "EXISTS k"), 0);
    tk_expect_str(tk_cmd(c1, "GET k"), "v");
    long long ttl = int_of(tk_cmd(c1, "TTL k"));
    assert_true(ttl > 390 && ttl <= 400);
    /* destination exists: nothing moves */
    set_ok(c, "k", "again");
    tk_expect_int(tk_cmd(c, "MOVE k 1"), 0);
    tk_expect_str(tk_cmd(c, "GET k"), "again");
    tk_expect_str(tk_cmd(c1, "GET k"), "v");
    tk_expect_int(tk_cmd(c, "MOVE missing 1"), 0);
    tk_expect_error(tk_cmd(c, "MOVE k 0"), "ERR source and destination objects are the same");
    tk_expect_error(tk_cmd(c, "MOVE k 16"), "ERR DB index is out of range");
    tk_expect_error(tk_cmd(c, "MOVE k -1"), "ERR DB index is out of range");
    tk_expect_error(tk_cmd(c, "MOVE k abc"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "MOVE k 99999999999"),
                    "ERR value is out of range, value must between -2147483648 and 2147483647");
    tk_expect_error(tk_cmd(c, "MOVE k"), "ERR wrong number of arguments for 'move' command");
    redisFree(c1);
    redisFree(c);
}

/* ---- TOUCH OBJECT ---- */

static void test_touch_counts_existing_keys(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "a", "1");
    set_ok(c, "b", "1");
    tk_expect_int(tk_cmd(c, "TOUCH a b missing"), 2);
    tk_expect_int(tk_cmd(c, "TOUCH missing"), 0);
    tk_expect_int(tk_cmd(c, "TOUCH a a"), 2);
    redisFree(c);
}

static void test_object_encoding_refcount_freq_and_missing_keys(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "i", "12345");
    set_ok(c, "e", "hello");
    char big[101];
    memset(big, 'x', 100);
    big[100] = '\0';
    set_ok(c, "r", big);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING i"), "int");
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING e"), "embstr");
    tk_expect_str(tk_cmd(c, "OBJECT encoding r"), "raw");
    tk_expect_int(tk_cmd(c, "OBJECT REFCOUNT e"), 1);
    assert_true(int_of(tk_cmd(c, "OBJECT IDLETIME e")) <= 1);
    tk_expect_error(tk_cmd(c, "OBJECT FREQ e"),
                    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
                    "that when switching between policies at runtime LRU and LFU data will take some time to "
                    "adjust.");
    tk_expect_nil(tk_cmd(c, "OBJECT ENCODING missing"));
    tk_expect_nil(tk_cmd(c, "OBJECT REFCOUNT missing"));
    tk_expect_nil(tk_cmd(c, "OBJECT IDLETIME missing"));
    tk_expect_nil(tk_cmd(c, "OBJECT FREQ missing"));
    tk_expect_error(tk_cmd(c, "OBJECT ENCODING"), "ERR wrong number of arguments for 'object|encoding' command");
    tk_expect_error(tk_cmd(c, "OBJECT ENCODING a b"),
                    "ERR wrong number of arguments for 'object|encoding' command");
    tk_expect_error(tk_cmd(c, "OBJECT NOSUCH k"), "ERR unknown subcommand 'NOSUCH'. Try OBJECT HELP.");
    tk_expect_error(tk_cmd(c, "OBJECT"), "ERR wrong number of arguments for 'object' command");
    redisFree(c);
}

static void test_object_help_lists_subcommands(void **state)
{
    redisContext *c = fresh(state);
    redisReply *r = tk_cmd(c, "OBJECT HELP");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 17); /* Redis's 15 lines plus Strata's TIER */
    assert_int_equal(r->element[0]->type, REDIS_REPLY_STATUS);
    assert_string_equal(r->element[0]->str, "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert_string_equal(r->element[1]->str, "ENCODING <key>");
    assert_string_equal(r->element[5]->str,
                        "    Return the access frequency index of the <key>. The returned integer is");
    assert_string_equal(r->element[13]->str, "TIER <key>");
    assert_string_equal(r->element[15]->str, "HELP");
    assert_string_equal(r->element[16]->str, "    Prints this help.");
    freeReplyObject(r);
    redisFree(c);
}

/* IDLETIME grows with the LRU clock (seconds); TOUCH resets it; OBJECT
 * IDLETIME and TYPE themselves do not touch. */
static void test_object_idletime_grows_and_touch_resets_it(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "a", "1");
    set_ok(c, "b", "1");
    sleep_ms(2300);
    long long ia = int_of(tk_cmd(c, "OBJECT IDLETIME a"));
    assert_true(ia >= 1 && ia <= 4);
    tk_expect_status(tk_cmd(c, "TYPE a"), "string");
    tk_expect_int(tk_cmd(c, "EXISTS a"), 1);
    long long ia2 = int_of(tk_cmd(c, "OBJECT IDLETIME a"));
    assert_true(ia2 >= ia);
    tk_expect_int(tk_cmd(c, "TOUCH b"), 1);
    long long ib = int_of(tk_cmd(c, "OBJECT IDLETIME b"));
    assert_true(ib <= 1);
    redisFree(c);
}

/* ---- DBSIZE FLUSHDB FLUSHALL SWAPDB, databases ---- */

static void test_flushdb_empties_only_the_selected_db(void **state)
{
    redisContext *c = fresh(state);
    set_many(c, "zero:", 0, 100, 0);
    tk_expect_status(tk_cmd(c, "SELECT 1"), "OK");
    set_many(c, "one:", 0, 50, 0);
    tk_expect_int(tk_cmd(c, "DBSIZE"), 50);
    tk_expect_status(tk_cmd(c, "FLUSHDB"), "OK");
    tk_expect_int(tk_cmd(c, "DBSIZE"), 0);
    tk_expect_status(tk_cmd(c, "SELECT 0"), "OK");
    tk_expect_int(tk_cmd(c, "DBSIZE"), 100);
    tk_expect_status(tk_cmd(c, "FLUSHDB ASYNC"), "OK");
    tk_expect_int(tk_cmd(c, "DBSIZE"), 0);
    set_ok(c, "x", "1");
    tk_expect_status(tk_cmd(c, "FLUSHDB sync"), "OK");
    tk_expect_int(tk_cmd(c, "DBSIZE"), 0);
    tk_expect_error(tk_cmd(c, "FLUSHDB FOO"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "FLUSHDB ASYNC SYNC"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "DBSIZE x"), "ERR wrong number of arguments for 'dbsize' command");
    redisFree(c);
}

static void test_flushall_sync_and_async_empty_every_db(void **state)
{
    redisContext *c = fresh(state);
    const char *mode[] = {"ASYNC", "SYNC", ""};
    for (int m = 0; m < 3; m++) {
        for (int db = 0; db < 16; db += 5) {
            tk_expect_status(tk_cmd(c, "SELECT %d", db), "OK");
            set_many(c, "k:", 0, 200, 0);
        }
        tk_expect_status(tk_cmd(c, m == 2 ? "FLUSHALL" : "FLUSHALL %s", mode[m]), "OK");
        for (int db = 0; db < 16; db += 5) {
            tk_expect_status(tk_cmd(c, "SELECT %d", db), "OK");
            tk_expect_int(tk_cmd(c, "DBSIZE"), 0);
            tk_expect_nil(tk_cmd(c, "GET k:1"));
        }
        /* the emptied databases take new keys at once */
        set_ok(c, "after", "1");
        tk_expect_int(tk_cmd(c, "DBSIZE"), 1);
        tk_expect_status(tk_cmd(c, "SELECT 0"), "OK");
    }
    tk_expect_error(tk_cmd(c, "FLUSHALL NOW"), "ERR syntax error");
    redisFree(c);
}

static void test_swapdb_swaps_contents_for_all_clients(void **state)
{
    redisContext *c0 = fresh(state);
    redisContext *c1 = tk_connect(*state);
    tk_expect_status(tk_cmd(c1, "SELECT 1"), "OK");
    set_ok(c0, "where", "zero");
    tk_expect_status(tk_cmd(c0, "SET vol v EX 300"), "OK");
    set_ok(c1, "where", "one");
    set_many(c1, "many:", 0, 100, 0);
    tk_expect_status(tk_cmd(c0, "SWAPDB 0 1"), "OK");
    tk_expect_str(tk_cmd(c0, "GET where"), "one");
    tk_expect_int(tk_cmd(c0, "DBSIZE"), 101);
    tk_expect_str(tk_cmd(c1, "GET where"), "zero");
    tk_expect_int(tk_cmd(c1, "DBSIZE"), 2);
    long long ttl = int_of(tk_cmd(c1, "TTL vol"));
    assert_true(ttl > 290 && ttl <= 300);
    tk_expect_status(tk_cmd(c1, "SWAPDB 1 0"), "OK");
    tk_expect_str(tk_cmd(c0, "GET where"), "zero");
    tk_expect_status(tk_cmd(c0, "SWAPDB 0 0"), "OK");
    tk_expect_str(tk_cmd(c0, "GET where"), "zero");
    tk_expect_error(tk_cmd(c0, "SWAPDB 0 16"), "ERR DB index is out of range");
    tk_expect_error(tk_cmd(c0, "SWAPDB -1 0"), "ERR DB index is out of range");
    tk_expect_error(tk_cmd(c0, "SWAPDB x 1"), "ERR invalid first DB index");
    tk_expect_error(tk_cmd(c0, "SWAPDB 0 y"), "ERR invalid second DB index");
    tk_expect_error(tk_cmd(c0, "SWAPDB 99999999999 0"), "ERR invalid first DB index");
    tk_expect_error(tk_cmd(c0, "SWAPDB 0"), "ERR wrong number of arguments for 'swapdb' command");
    redisFree(c1);
    redisFree(c0);
}

static void test_sixteen_databases_are_independent(void **state)
{
    redisContext *c = fresh(state);
    for (int db = 0; db < 16; db++) {
        tk_expect_status(tk_cmd(c, "SELECT %d", db), "OK");
        tk_expect_status(tk_cmd(c, "SET id %d", db), "OK");
    }
    tk_expect_error(tk_cmd(c, "SELECT 16"), "ERR DB index is out of range");
    for (int db = 0; db < 16; db++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", db);
        tk_expect_status(tk_cmd(c, "SELECT %d", db), "OK");
        tk_expect_str(tk_cmd(c, "GET id"), v);
        tk_expect_int(tk_cmd(c, "DBSIZE"), 1);
    }
    redisFree(c);
}

/* ---- INFO counters ---- */

/* Reads count as hits/misses (EXISTS, TYPE, TTL, TOUCH, OBJECT), writes do
 * not (DEL, EXPIRE, PERSIST, RENAME), as Redis's lookupKeyRead/Write. */
static void test_read_lookups_count_keyspace_hits_and_misses(void **state)
{
    redisContext *c = fresh(state);
    set_ok(c, "a", "1");
    set_ok(c, "b", "1");
    long long h0 = tk_info_ll(c, "keyspace_hits"), m0 = tk_info_ll(c, "keyspace_misses");
    tk_expect_int(tk_cmd(c, "EXISTS a b nope"), 2);     /* +2 / +1 */
    tk_expect_status(tk_cmd(c, "TYPE a"), "string");    /* +1 */
    tk_expect_status(tk_cmd(c, "TYPE nope"), "none");   /* +0 / +1 */
    tk_expect_int(tk_cmd(c, "TTL a"), -1);              /* +1 */
    tk_expect_int(tk_cmd(c, "PTTL nope"), -2);          /* +0 / +1 */
    tk_expect_int(tk_cmd(c, "TOUCH a nope"), 1);        /* +1 / +1 */
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING a"), "int"); /* +1 */
    tk_expect_int(tk_cmd(c, "DEL nope"), 0);
    tk_expect_int(tk_cmd(c, "EXPIRE nope 10"), 0);
    tk_expect_int(tk_cmd(c, "PERSIST a"), 0);
    tk_expect_status(tk_cmd(c, "RENAME b c"), "OK");
    long long h1 = tk_info_ll(c, "keyspace_hits"), m1 = tk_info_ll(c, "keyspace_misses");
    assert_int_equal(h1 - h0, 6);
    assert_int_equal(m1 - m0, 4);
    redisFree(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_del_and_unlink_count_only_existing_keys_once),
        cmocka_unit_test(test_exists_counts_repeated_keys_each_time),
        cmocka_unit_test(test_type_is_string_or_none),
        cmocka_unit_test(test_expire_family_sets_ttl_and_misses_absent_keys),
        cmocka_unit_test(test_expire_in_the_past_deletes_the_key_and_replies_1),
        cmocka_unit_test(test_expire_nx_xx_gt_lt_follow_redis7_rules),
        cmocka_unit_test(test_expire_option_errors_have_redis7_texts),
        cmocka_unit_test(test_expire_overflow_is_invalid_expire_time),
        cmocka_unit_test(test_ttl_family_reports_minus2_missing_minus1_persistent),
        cmocka_unit_test(test_persist_removes_ttl_once),
        cmocka_unit_test(test_lazy_expiry_hides_key_after_its_ttl),
        cmocka_unit_test(test_active_expiry_removes_untouched_keys),
        cmocka_unit_test(test_keys_matches_glob_patterns),
        cmocka_unit_test(test_keys_skips_logically_expired_keys),
        cmocka_unit_test(test_keys_returns_each_key_exactly_once_during_resizes),
        cmocka_unit_test(test_scan_full_iteration_returns_every_key),
        cmocka_unit_test(test_scan_returns_every_stable_key_while_tables_resize),
        cmocka_unit_test(test_scan_match_count_and_type_filter),
        cmocka_unit_test(test_scan_argument_errors),
        cmocka_unit_test(test_randomkey_nil_when_empty_else_an_existing_key),
        cmocka_unit_test(test_rename_moves_value_and_ttl),
        cmocka_unit_test(test_renamenx_only_when_destination_absent),
        cmocka_unit_test(test_copy_duplicates_value_and_ttl),
        cmocka_unit_test(test_copy_to_another_db_and_errors),
        cmocka_unit_test(test_move_to_another_db_keeps_ttl),
        cmocka_unit_test(test_touch_counts_existing_keys),
        cmocka_unit_test(test_object_encoding_refcount_freq_and_missing_keys),
        cmocka_unit_test(test_object_help_lists_subcommands),
        cmocka_unit_test(test_object_idletime_grows_and_touch_resets_it),
        cmocka_unit_test(test_flushdb_empties_only_the_selected_db),
        cmocka_unit_test(test_flushall_sync_and_async_empty_every_db),
        cmocka_unit_test(test_swapdb_swaps_contents_for_all_clients),
        cmocka_unit_test(test_sixteen_databases_are_independent),
        cmocka_unit_test(test_read_lookups_count_keyspace_hits_and_misses),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
