/*
 * test_tiers.c -- the DRAM budget, the eviction policies and the cold tiers
 * against a real strata-server: maxmemory with each policy and without
 * tiers (evict or -OOM, as Redis), LFU/LRU introspection (OBJECT FREQ /
 * IDLETIME), and with tiers: TIER DEMOTE / PROMOTE, OBJECT TIER, every type
 * read back exactly from a tier, metadata commands that leave a key cold,
 * writes and admitted reads that promote it, records dropped with their keys
 * (DEL, overwrite, expiry, FLUSHALL), demotion instead of eviction under a
 * budget, eviction or -OOM once the last tier is full, cold keys evicted when
 * their stubs fill the budget and never for client buffers, and INFO tiers.
 *
 * These tests configure tiers themselves, so they clear STRATA_SERVER_ARGS
 * (the all-cold and mixed suite runs) before starting servers.
 */
#include "testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct tk_server *start(const char *const *extra)
{
    struct tk_server *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    if (tk_server_start(s, extra) != 0)
        fail_msg("cannot start strata-server");
    return s;
}

static void stop(struct tk_server *s)
{
    assert_int_equal(tk_server_stop(s), 0);
    free(s);
}

static long long ll_reply(redisReply *r)
{
    if (r->type != REDIS_REPLY_INTEGER) {
        int t = r->type;
        if (t == REDIS_REPLY_ERROR)
            fprintf(stderr, "error: %s\n", r->str);
        freeReplyObject(r);
        fail_msg("expected an integer, got type %d", t);
    }
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* a field of an INFO tiers "tier_<name>:a=1,b=2" line */
static long long tier_field(redisContext *c, const char *tier, const char *field)
{
    char name[64];
    snprintf(name, sizeof(name), "tier_%s", tier);
    char *line = tk_info_field(c, name);
    assert_non_null(line);
    char pat[64];
    snprintf(pat, sizeof(pat), "%s=", field);
    char *p = strstr(line, pat);
    assert_non_null(p);
    long long v = atoll(p + strlen(pat));
    free(line);
    return v;
}

static void expect_tier(redisContext *c, const char *key, const char *where)
{
    tk_expect_str(tk_cmd(c, "OBJECT TIER %s", key), where);
}

static void fill(redisContext *c, const char *prefix, int n, size_t vlen)
{
    char *v = malloc(vlen + 1);
    assert_non_null(v);
    for (int i = 0; i < n; i++) {
        /* compressible, JSON-ish, distinct per key */
        snprintf(v, vlen + 1, "{\"id\":%d,\"name\":\"user-%d\",\"tags\":[\"a\",\"b\"],\"pad\":\"", i, i);
        size_t l = strlen(v);
        while (l < vlen)
            { v[l] = (char)('a' + (i + (int)l) % 7); l++; }
        v[vlen] = '\0';
        redisAppendCommand(c, "SET %s:%d %s", prefix, i, v);
    }
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        freeReplyObject(r);
    }
    free(v);
}

/* ---- maxmemory without tiers ------------------------------------------------ */

static void test_noeviction_refuses_writes_with_oom_but_serves_reads(void **state)
{
    (void)state;
    const char *args[] = { "--maxmemory", "8mb", "--maxmemory-policy", "noeviction", NULL };
    struct tk_server *s = start(args);
    redisContext *c = tk_connect(s);
    redisReply *r = NULL;
    int i = 0;
    char val[1024];
    memset(val, 'x', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    for (; i < 100000; i++) {
        r = tk_cmd(c, "SET k:%d %s", i, val);
        if (r->type == REDIS_REPLY_ERROR)
            break;
        freeReplyObject(r);
        r = NULL;
    }
    assert_non_null(r);
    assert_string_equal(r->str, "OOM command not allowed when used memory > 'maxmemory'.");
    freeReplyObject(r);
    assert_true(i > 100);
    tk_expect_str(tk_cmd(c, "GET k:0"), val);
    tk_expect_int(tk_cmd(c, "DEL k:0"), 1); /* not DENYOOM */
    assert_int_equal(tk_info_ll(c, "evicted_keys"), 0);
    char *pol = tk_info_field(c, "maxmemory_policy");
    assert_string_equal(pol, "noeviction");
    free(pol);
    assert_int_equal(tk_info_ll(c, "maxmemory"), 8 * 1024 * 1024);
    redisFree(c);
    stop(s);
}

static void test_allkeys_lru_evicts_the_idle_and_keeps_the_used(void **state)
{
    (void)state;
    const char *args[] = { "--maxmemory", "12mb", "--maxmemory-policy", "allkeys-lru", "--maxmemory-samples",
                           "10", NULL };
    struct tk_server *s = start(args);
    redisContext *c = tk_connect(s);
    fill(c, "old", 8000, 1000);
    sleep(2); /* the LRU clock counts seconds, as Redis's does */
    fill(c, "hot", 200, 1000);
    /* about 7 MB past the budget: less than the idle keys hold. The hot keys
     * are read between batches, so they are never older than the newest
     * writes (the LRU clock counts seconds: unread, they would be a second
     * older than the last batches, and once the idle keys run short the
     * sampling rightly takes them first). */
    for (int b = 0; b < 8; b++) {
        char prefix[16];
        snprintf(prefix, sizeof(prefix), "new%d", b);
        fill(c, prefix, 1000, 1000);
        for (int i = 0; i < 200; i++)
            redisAppendCommand(c, "GET hot:%d", i);
        for (int i = 0; i < 200; i++) {
            redisReply *r = NULL;
            assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
            freeReplyObject(r);
        }
    }
    long long evicted = tk_info_ll(c, "evicted_keys");
    assert_true(evicted > 3000);
    assert_true(tk_info_ll(c, "mem_counted_for_maxmemory") < 13 * 1024 * 1024);
    int hot_left = 0, old_left = 0, new_left = 0;
    for (int i = 0; i < 200; i++)
        hot_left += (int)ll_reply(tk_cmd(c, "EXISTS hot:%d", i));
    for (int i = 0; i < 8000; i++)
        old_left += (int)ll_reply(tk_cmd(c, "EXISTS old:%d", i));
    for (int i = 0; i < 8000; i++)
        new_left += (int)ll_reply(tk_cmd(c, "EXISTS new%d:%d", i / 1000, i % 1000));
    /* approximate LRU: the victims are (almost all) the idle keys */
    if (hot_left < 190 || new_left < 7600 || old_left >= 5000)
        print_message("left: hot %d/200 old %d/8000 new %d/8000, evicted %lld\n", hot_left, old_left, new_left,
                      evicted);
    assert_true(hot_left >= 190);
    assert_true(new_left >= 7600);
    assert_true(old_left < 5000);
    redisFree(c);
    stop(s);
}

static void test_volatile_policies_evict_only_keys_with_ttl(void **state)
{
    (void)state;
    const char *args[] = { "--maxmemory", "10mb", "--maxmemory-policy", "volatile-ttl", NULL };
    struct tk_server *s = start(args);
    redisContext *c = tk_connect(s);
    fill(c, "keep", 1000, 1000);
    char val[1001];
    memset(val, 'v', 1000);
    val[1000] = '\0';
    redisReply *r = NULL;
    int i = 0, oom = 0;
    for (; i < 50000; i++) {
        r = tk_cmd(c, "SET t:%d %s EX %d", i, val, 100000 + i);
        if (r->type == REDIS_REPLY_ERROR) {
            oom = 1;
            freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
    }
    /* keys without a TTL were never victims */
    for (int k = 0; k < 1000; k++)
        tk_expect_int(tk_cmd(c, "EXISTS keep:%d", k), 1);
    assert_true(tk_info_ll(c, "evicted_keys") > 0);
    /* volatile-ttl takes the soonest expiring first: the first ones are gone */
    tk_expect_int(tk_cmd(c, "EXISTS t:0"), 0);
    (void)oom;
    redisFree(c);
    stop(s);
}

static void test_lfu_policy_reports_freq_and_refuses_idletime(void **state)
{
    (void)state;
    struct tk_server *s = start(NULL);
    redisContext *c = tk_connect(s);
    tk_expect_status(tk_cmd(c, "SET f v"), "OK");
    tk_expect_error(tk_cmd(c, "OBJECT FREQ f"), "ERR An LFU maxmemory policy is not selected");
    tk_expect_int(tk_cmd(c, "OBJECT IDLETIME f"), 0);
    tk_expect_status(tk_cmd(c, "CONFIG SET maxmemory-policy allkeys-lfu"), "OK");
    for (int i = 0; i < 1000; i++)
        freeReplyObject(tk_cmd(c, "GET f"));
    long long freq = ll_reply(tk_cmd(c, "OBJECT FREQ f"));
    assert_true(freq > 5 && freq < 255);
    tk_expect_error(tk_cmd(c, "OBJECT IDLETIME f"), "ERR An LFU maxmemory policy is selected");
    tk_expect_nil(tk_cmd(c, "OBJECT FREQ nosuch"));
    redisFree(c);
    stop(s);
}

/* ---- tiers ------------------------------------------------------------------- */

static const char *mem_tier[] = { "--mem-tier-size", "64mb", "--tier-promote-window", "-1", NULL };

static void test_every_type_reads_back_exactly_from_a_tier(void **state)
{
    (void)state;
    struct tk_server *s = start(mem_tier);
    redisContext *c = tk_connect(s);
    tk_expect_status(tk_cmd(c, "SET s hello"), "OK");
    tk_expect_status(tk_cmd(c, "SET n 12345"), "OK");
    tk_expect_int(tk_cmd(c, "RPUSH l a b c 1 2 3"), 6);
    tk_expect_int(tk_cmd(c, "SADD st x y z"), 3);
    tk_expect_int(tk_cmd(c, "SADD si 1 2 3"), 3);
    tk_expect_int(tk_cmd(c, "ZADD z 1 a 2.5 b -3 c"), 3);
    tk_expect_int(tk_cmd(c, "HSET h f1 v1 f2 v2"), 2);
    tk_expect_int(tk_cmd(c, "PFADD p a b c d"), 1);
    /* big encodings too */
    for (int i = 0; i < 300; i++) {
        freeReplyObject(tk_cmd(c, "HSET hb f%d v%d", i, i));
        freeReplyObject(tk_cmd(c, "ZADD zb %d m%d", i, i));
        freeReplyObject(tk_cmd(c, "SADD sb m%d", i));
        freeReplyObject(tk_cmd(c, "RPUSH lb e%d", i));
    }
    const char *keys[] = { "s", "n", "l", "st", "si", "z", "h", "p", "hb", "zb", "sb", "lb" };
    const size_t nk = sizeof(keys) / sizeof(keys[0]);
    char *enc[16];
    for (size_t i = 0; i < nk; i++) {
        redisReply *r = tk_cmd(c, "OBJECT ENCODING %s", keys[i]);
        enc[i] = strdup(r->str);
        freeReplyObject(r);
    }
    tk_expect_int(tk_cmd(c, "TIER DEMOTE s n l st si z h p hb zb sb lb nosuch"), (long long)nk);
    for (size_t i = 0; i < nk; i++)
        expect_tier(c, keys[i], "mem");
    tk_expect_str(tk_cmd(c, "GET s"), "hello");
    tk_expect_str(tk_cmd(c, "GET n"), "12345");
    redisReply *r = tk_cmd(c, "LRANGE l 0 -1");
    assert_int_equal(r->elements, 6);
    assert_string_equal(r->element[3]->str, "1");
    freeReplyObject(r);
    tk_expect_int(tk_cmd(c, "SISMEMBER st y"), 1);
    tk_expect_int(tk_cmd(c, "SCARD si"), 3);
    tk_expect_str(tk_cmd(c, "ZSCORE z b"), "2.5");
    tk_expect_int(tk_cmd(c, "ZRANK z c"), 0);
    tk_expect_str(tk_cmd(c, "HGET h f2"), "v2");
    tk_expect_int(tk_cmd(c, "PFCOUNT p"), 4); /* caches the count in the value: promotes */
    expect_tier(c, "p", "dram");
    tk_expect_int(tk_cmd(c, "TIER DEMOTE p"), 1);
    tk_expect_int(tk_cmd(c, "HLEN hb"), 300);
    tk_expect_str(tk_cmd(c, "HGET hb f299"), "v299");
    tk_expect_str(tk_cmd(c, "ZSCORE zb m150"), "150");
    tk_expect_int(tk_cmd(c, "SCARD sb"), 300);
    tk_expect_str(tk_cmd(c, "LINDEX lb 299"), "e299");
    /* reads never promote here (window -1): still cold, same encodings */
    for (size_t i = 0; i < nk; i++) {
        expect_tier(c, keys[i], "mem");
        tk_expect_str(tk_cmd(c, "OBJECT ENCODING %s", keys[i]), enc[i]);
        free(enc[i]);
    }
    assert_int_equal(tk_info_ll(c, "cold_keys"), (long long)nk);
    assert_true(tk_info_ll(c, "cold_reads_served") >= 12);
    redisFree(c);
    stop(s);
}

static void test_metadata_commands_leave_keys_cold_and_writes_promote(void **state)
{
    (void)state;
    struct tk_server *s = start(mem_tier);
    redisContext *c = tk_connect(s);
    tk_expect_status(tk_cmd(c, "SET a 1"), "OK");
    tk_expect_status(tk_cmd(c, "SET b 2 EX 1000"), "OK");
    tk_expect_int(tk_cmd(c, "TIER DEMOTE a b"), 2);
    tk_expect_status(tk_cmd(c, "TYPE a"), "string");
    tk_expect_int(tk_cmd(c, "EXISTS a b"), 2);
    long long ttl = ll_reply(tk_cmd(c, "TTL b"));
    assert_true(ttl > 990 && ttl <= 1000);
    tk_expect_int(tk_cmd(c, "DBSIZE"), 2);
    redisReply *r = tk_cmd(c, "SCAN 0 TYPE string COUNT 100");
    assert_int_equal(r->element[1]->elements, 2);
    freeReplyObject(r);
    tk_expect_int(tk_cmd(c, "EXPIRE b 2000"), 1); /* the expiry lives in the stub */
    ttl = ll_reply(tk_cmd(c, "TTL b"));
    assert_true(ttl > 1990 && ttl <= 2000);
    tk_expect_int(tk_cmd(c, "TOUCH a b"), 2);
    expect_tier(c, "a", "mem");
    expect_tier(c, "b", "mem");
    assert_int_equal(tier_field(c, "mem", "gets"), 0); /* nothing above read a record */
    /* a write promotes */
    tk_expect_int(tk_cmd(c, "INCR a"), 2);
    expect_tier(c, "a", "dram");
    /* rename and copy work on a cold key */
    tk_expect_status(tk_cmd(c, "RENAME b c"), "OK");
    tk_expect_str(tk_cmd(c, "GET c"), "2");
    ttl = ll_reply(tk_cmd(c, "TTL c"));
    assert_true(ttl > 990);
    tk_expect_int(tk_cmd(c, "TIER DEMOTE c"), 1);
    tk_expect_int(tk_cmd(c, "COPY c d"), 1);
    tk_expect_str(tk_cmd(c, "GET d"), "2");
    tk_expect_int(tk_cmd(c, "TIER DEMOTE c"), 1); /* COPY is a write: it promoted c */
    tk_expect_int(tk_cmd(c, "TIER PROMOTE c a nosuch"), 1);   /* a is in DRAM already */
    expect_tier(c, "c", "dram");
    tk_expect_nil(tk_cmd(c, "OBJECT TIER nosuch"));
    redisFree(c);
    stop(s);
}

static void test_records_go_with_their_keys(void **state)
{
    (void)state;
    struct tk_server *s = start(mem_tier);
    redisContext *c = tk_connect(s);
    fill(c, "r", 100, 200);
    for (int i = 0; i < 100; i++)
        tk_expect_int(tk_cmd(c, "TIER DEMOTE r:%d", i), 1);
    assert_int_equal(tier_field(c, "mem", "keys"), 100);
    tk_expect_int(tk_cmd(c, "DEL r:0 r:1"), 2);                  /* delete */
    tk_expect_status(tk_cmd(c, "SET r:2 fresh"), "OK");           /* overwrite */
    tk_expect_int(tk_cmd(c, "PEXPIRE r:3 1"), 1);                  /* expiry */
    usleep(20000);
    tk_expect_nil(tk_cmd(c, "GET r:3"));
    assert_int_equal(tier_field(c, "mem", "keys"), 96);
    tk_expect_str(tk_cmd(c, "GET r:2"), "fresh");
    tk_expect_status(tk_cmd(c, "FLUSHALL"), "OK");
    assert_int_equal(tier_field(c, "mem", "keys"), 0);
    assert_int_equal(tk_info_ll(c, "cold_keys"), 0);
    redisFree(c);
    stop(s);
}

static void test_second_read_within_the_window_promotes(void **state)
{
    (void)state;
    const char *args[] = { "--mem-tier-size", "64mb", "--tier-promote-window", "30", NULL };
    struct tk_server *s = start(args);
    redisContext *c = tk_connect(s);
    tk_expect_status(tk_cmd(c, "SET k v"), "OK");
    tk_expect_status(tk_cmd(c, "DEBUG SLEEP 0"), "OK");
    tk_expect_int(tk_cmd(c, "TIER DEMOTE k"), 1);
    /* the first read after demotion is served from the tier ... */
    tk_expect_str(tk_cmd(c, "GET k"), "v");
    expect_tier(c, "k", "mem");
    /* ... the second within 30 s of it brings the key back */
    tk_expect_str(tk_cmd(c, "GET k"), "v");
    expect_tier(c, "k", "dram");
    redisFree(c);
    stop(s);
}

static void test_budget_demotes_before_it_evicts(void **state)
{
    (void)state;
    const char *args[] = { "--maxmemory", "12mb", "--maxmemory-policy", "allkeys-lru", "--mem-tier-size", "256mb",
                           "--tier-promote-window", "-1", NULL };
    struct tk_server *s = start(args);
    redisContext *c = tk_connect(s);
    fill(c, "b", 40000, 1000); /* ~40 MB of values: over three times the budget */
    assert_int_equal(tk_info_ll(c, "evicted_keys"), 0);
    long long cold = tk_info_ll(c, "cold_keys");
    assert_true(cold > 20000);
    tk_expect_int(tk_cmd(c, "DBSIZE"), 40000);
    for (int i = 0; i < 40000; i += 997) {
        redisReply *r = tk_cmd(c, "GET b:%d", i);
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        assert_int_equal(r->len, 1000);
        freeReplyObject(r);
    }
    assert_true(tk_info_ll(c, "mem_counted_for_maxmemory") < 14 * 1024 * 1024);
    /* compression is doing its job on JSON-like values */
    char *ratio = tk_info_field(c, "compression_ratio");
    assert_true(atof(ratio) > 0 && atof(ratio) < 0.5);
    free(ratio);
    redisFree(c);
    stop(s);
}

static void test_full_last_tier_means_eviction_or_oom(void **state)
{
    (void)state;
    const char *evict[] = { "--maxmemory", "10mb", "--maxmemory-policy", "allkeys-lru", "--mem-tier-size", "2mb",
                            "--tier-dict-size", "0", NULL };
    struct tk_server *s = start(evict);
    redisContext *c = tk_connect(s);
    fill(c, "e", 30000, 1000);
    assert_true(tk_info_ll(c, "evicted_keys") > 0);
    assert_true(tier_field(c, "mem", "failures") > 0);
    redisFree(c);
    stop(s);

    const char *noevict[] = { "--maxmemory", "10mb", "--maxmemory-policy", "noeviction", "--mem-tier-size", "2mb",
                              NULL };
    s = start(noevict);
    c = tk_connect(s);
    char val[1001];
    memset(val, 'q', 1000);
    val[1000] = '\0';
    int oom = 0;
    for (int i = 0; i < 100000 && !oom; i++) {
        /* random-ish bytes so they do not compress away */
        for (int j = 0; j < 1000; j += 7)
            val[j] = (char)('a' + (i * 31 + j * 17) % 26);
        redisReply *r = tk_cmd(c, "SET o:%d %s", i, val);
        if (r->type == REDIS_REPLY_ERROR) {
            assert_string_equal(r->str, "OOM command not allowed when used memory > 'maxmemory'.");
            oom = 1;
        }
        freeReplyObject(r);
    }
    assert_true(oom);
    assert_int_equal(tk_info_ll(c, "evicted_keys"), 0);
    assert_true(tk_info_ll(c, "cold_keys") > 0);
    redisFree(c);
    stop(s);
}

static void test_pmem_tier_serves_cold_keys(void **state)
{
    (void)state;
    const char *args[] = { "--pmem-path", "tier.pool", "--pmem-size", "16mb", "--tier-promote-window", "-1", NULL };
    struct tk_server *s = start(args);
    redisContext *c = tk_connect(s);
    fill(c, "p", 500, 500);
    tk_expect_int(tk_cmd(c, "ZADD pz 1 a 2 b"), 2);
    for (int i = 0; i < 500; i++)
        tk_expect_int(tk_cmd(c, "TIER DEMOTE p:%d", i), 1);
    tk_expect_int(tk_cmd(c, "TIER DEMOTE pz"), 1);
    expect_tier(c, "p:7", "pmem");
    redisReply *r = tk_cmd(c, "GET p:7");
    assert_int_equal(r->len, 500);
    assert_true(strncmp(r->str, "{\"id\":7,", 8) == 0);
    freeReplyObject(r);
    tk_expect_str(tk_cmd(c, "ZSCORE pz b"), "2");
    assert_int_equal(tier_field(c, "pmem", "keys"), 501);
    assert_true(tier_field(c, "pmem", "hits") >= 2);
    char *p50 = tk_info_field(c, "tier_pmem");
    assert_non_null(strstr(p50, "read_p99_us="));
    free(p50);
    redisFree(c);
    stop(s);
}

/* Over the budget because of client buffers, not keys: the cold keys' stubs
 * are a sliver of the budget, so evicting them would destroy data and give
 * back nothing. No key is evicted, and reads and writes are served. */
static void test_client_buffers_over_budget_evict_no_cold_key(void **state)
{
    (void)state;
    const char *args[] = { "--maxmemory", "8mb", "--maxmemory-policy", "allkeys-lru", "--mem-tier-size", "256mb",
                           "--tier-demote-on-write", "yes", "--tier-promote-window", "-1", NULL };
    struct tk_server *s = start(args);
    redisContext *c = tk_connect(s);
    fill(c, "cb", 2000, 1000);
    assert_int_equal(tk_info_ll(c, "cold_keys"), 2000);

    /* 24 clients each declare a 400 MB bulk and send 1 MB of it: 24 MB of
     * query buffers against an 8 MB budget */
    enum { HOLDERS = 24, SENT = 1 << 20 };
    int fds[HOLDERS];
    char *chunk = malloc(SENT);
    assert_non_null(chunk);
    memset(chunk, 'z', SENT);
    const char *head = "*3\r\n$3\r\nSET\r\n$4\r\nhold\r\n$400000000\r\n";
    for (int i = 0; i < HOLDERS; i++) {
        fds[i] = tk_raw_connect(s);
        assert_int_equal(tk_raw_send(fds[i], head, strlen(head)), 0);
        assert_int_equal(tk_raw_send(fds[i], chunk, SENT), 0);
    }
    free(chunk);
    /* the server has read them (its counted memory shows the buffers) */
    long long counted = 0;
    for (int tries = 0; tries < 100; tries++) {
        counted = tk_info_ll(c, "mem_counted_for_maxmemory");
        if (counted > 16ll << 20)
            break;
        usleep(20000);
    }
    assert_true(counted > 16ll << 20);

    for (int i = 0; i < 2000; i++) { /* every command runs the budget check */
        redisReply *r = tk_cmd(c, "GET cb:%d", i);
        if (r->type != REDIS_REPLY_STRING || r->len != 1000)
            fail_msg("GET cb:%d: type %d (evicted_keys %lld)", i, r->type, tk_info_ll(c, "evicted_keys"));
        freeReplyObject(r);
    }
    tk_expect_status(tk_cmd(c, "SET cb:new v"), "OK");
    assert_int_equal(tk_info_ll(c, "evicted_keys"), 0);
    tk_expect_int(tk_cmd(c, "DBSIZE"), 2001);
    for (int i = 0; i < HOLDERS; i++)
        close(fds[i]);
    redisFree(c);
    stop(s);
}

/* When the cold keys' stubs themselves fill the budget, the coldest are
 * evicted (their records dropped) and the budget holds. */
static void test_stubs_filling_the_budget_are_evicted(void **state)
{
    (void)state;
    const char *args[] = { "--maxmemory", "24mb", "--maxmemory-policy", "allkeys-lru", "--pmem-path", "tier.pool",
                           "--pmem-size", "128mb", "--tier-demote-on-write", "yes", "--tier-promote-window", "-1",
                           NULL };
    struct tk_server *s = start(args);
    redisContext *c = tk_connect(s);
    enum { N = 300000, BATCH = 1000 };
    for (int i = 0; i < N; i += BATCH) {
        for (int j = i; j < i + BATCH; j++)
            redisAppendCommand(c, "SET stub:%d v%d", j, j);
        for (int j = i; j < i + BATCH; j++) {
            redisReply *r = NULL;
            assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
            if (r->type != REDIS_REPLY_STATUS)
                fail_msg("SET stub:%d: type %d %s", j, r->type, r->type == REDIS_REPLY_ERROR ? r->str : "");
            freeReplyObject(r);
        }
    }
    /* the cron may go on evicting: every key is there or counted as evicted */
    long long evicted = tk_info_ll(c, "evicted_keys");
    redisReply *r = tk_cmd(c, "DBSIZE");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long keys = r->integer;
    freeReplyObject(r);
    long long evicted_after = tk_info_ll(c, "evicted_keys");
    assert_true(evicted > 0);
    assert_true(keys <= N - evicted && keys >= N - evicted_after);
    long long counted = tk_info_ll(c, "mem_counted_for_maxmemory");
    if (counted > 26ll << 20)
        fail_msg("counted memory %lld over a 24 MB budget (%lld keys evicted)", counted, evicted);
    redisFree(c);
    stop(s);
}

int main(void)
{
    unsetenv("STRATA_SERVER_ARGS");
    setenv("PMEM_IS_PMEM_FORCE", "1", 1);
    setenv("PMEMOBJ_CONF", "sds.at_create=0", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noeviction_refuses_writes_with_oom_but_serves_reads),
        cmocka_unit_test(test_allkeys_lru_evicts_the_idle_and_keeps_the_used),
        cmocka_unit_test(test_volatile_policies_evict_only_keys_with_ttl),
        cmocka_unit_test(test_lfu_policy_reports_freq_and_refuses_idletime),
        cmocka_unit_test(test_every_type_reads_back_exactly_from_a_tier),
        cmocka_unit_test(test_metadata_commands_leave_keys_cold_and_writes_promote),
        cmocka_unit_test(test_records_go_with_their_keys),
        cmocka_unit_test(test_second_read_within_the_window_promotes),
        cmocka_unit_test(test_budget_demotes_before_it_evicts),
        cmocka_unit_test(test_full_last_tier_means_eviction_or_oom),
        cmocka_unit_test(test_client_buffers_over_budget_evict_no_cold_key),
        cmocka_unit_test(test_stubs_filling_the_budget_are_evicted),
        cmocka_unit_test(test_pmem_tier_serves_cold_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
