/*
 * test_hll.c -- the HyperLogLog commands against a real strata-server through
 * hiredis: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST, their replies and Redis
 * 7.0's error texts, the value's bytes (Redis's format), the cached
 * cardinality, sparse-to-dense promotion, accuracy, corrupted values, RESP2 and
 * RESP3 shapes, and the keyspace_hits / keyspace_misses counters.
 *
 * Compatibility with Redis, checked against a real redis-server
 * ($REDIS_SERVER, else /usr/bin/redis-server; without one those tests are
 * skipped and say so):
 *   - the same PFADD / PFMERGE / PFCOUNT sequence leaves byte-identical values
 *     on both servers, through the sparse encoding, the promotion and dense;
 *   - a value written by Strata, SET into Redis, gives the same PFCOUNT there
 *     (with the cached cardinality and with the cache invalidated, so Redis
 *     recomputes it from the registers), and the other way round.
 *
 * Every expectation was checked by running this binary against redis-server
 * 7.0.15 (STRATA_SERVER pointing at a wrapper that adds --save '').
 */
#include "testkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RERR_NOTHLL "WRONGTYPE Key is not a valid HyperLogLog string value."
#define RERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define RERR_CORRUPT "INVALIDOBJ Corrupted HLL object detected"
#define HDR 16
#define DENSE_SIZE 12304

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

    if (!s)
        return -1;
    return tk_server_stop(s) == 0 ? 0 : -1;
}

/* Asserts a bulk reply of exactly len bytes equal to p; frees the reply. */
static void expect_bin(redisReply *r, const void *p, size_t len)
{
    if (r->type != REDIS_REPLY_STRING || r->len != len || memcmp(r->str, p, len) != 0) {
        int type = r->type;
        size_t got = r->len;

        freeReplyObject(r);
        fail_msg("expected a bulk of %zu bytes, got type %d with %zu bytes", len, type, got);
    }
    freeReplyObject(r);
}

/* GET key as an owned buffer; *len its length. Asserts a bulk reply. */
static unsigned char *get_value(redisContext *c, const char *key, size_t *len)
{
    redisReply *r = tk_cmd(c, "GET %s", key);
    unsigned char *v;

    if (r->type != REDIS_REPLY_STRING) {
        int type = r->type;

        freeReplyObject(r);
        fail_msg("GET %s: expected a bulk string, got type %d", key, type);
    }
    v = malloc(r->len + 1);
    assert_non_null(v);
    memcpy(v, r->str, r->len);
    *len = r->len;
    freeReplyObject(r);
    return v;
}

static long long int_reply(redisReply *r)
{
    long long v;

    if (r->type != REDIS_REPLY_INTEGER) {
        int type = r->type;

        if (type == REDIS_REPLY_ERROR)
            fprintf(stderr, "error: %s\n", r->str);
        freeReplyObject(r);
        fail_msg("expected an integer, got type %d", type);
    }
    v = r->integer;
    freeReplyObject(r);
    return v;
}

/* PFADD key e<from>..e<to-1> (prefix p) in one command. */
static long long pfadd_range(redisContext *c, const char *key, const char *p, long from, long to)
{
    size_t n = (size_t)(to - from) + 2;
    const char **argv = calloc(n, sizeof(*argv));
    char(*buf)[48] = calloc(n, sizeof(*buf));
    long long rc;

    assert_non_null(argv);
    assert_non_null(buf);
    argv[0] = "PFADD";
    argv[1] = key;
    for (long i = from; i < to; i++) {
        snprintf(buf[i - from + 2], sizeof(buf[0]), "%s%ld", p, i);
        argv[i - from + 2] = buf[i - from + 2];
    }
    rc = int_reply(tk_cmdv(c, (int)n, argv, NULL));
    free(argv);
    free(buf);
    return rc;
}

static void expect_encoding(redisContext *c, const char *key, const char *enc)
{
    tk_expect_status(tk_cmd(c, "PFDEBUG ENCODING %s", key), enc);
}

/* ------------------------------------------------------------------------ */
/* PFADD / PFCOUNT                                                          */
/* ------------------------------------------------------------------------ */

static void test_pfadd_reports_changes_and_counts(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    tk_expect_int(tk_cmd(c, "PFADD pf:k"), 1);     /* creates the key */
    tk_expect_int(tk_cmd(c, "PFADD pf:k"), 0);
    tk_expect_int(tk_cmd(c, "PFCOUNT pf:k"), 0);
    tk_expect_int(tk_cmd(c, "PFADD pf:k a b c"), 1);
    tk_expect_int(tk_cmd(c, "PFADD pf:k a"), 0);
    tk_expect_int(tk_cmd(c, "PFADD pf:k c b a"), 0);
    tk_expect_int(tk_cmd(c, "PFCOUNT pf:k"), 3);
    tk_expect_int(tk_cmd(c, "PFADD pf:k d"), 1);
    tk_expect_int(tk_cmd(c, "PFCOUNT pf:k"), 4);
    tk_expect_int(tk_cmd(c, "PFCOUNT pf:none"), 0);
    tk_expect_int(tk_cmd(c, "EXISTS pf:none"), 0);
    r = tk_cmd(c, "TYPE pf:k");
    assert_string_equal(r->str, "string");
    freeReplyObject(r);
    /* binary-safe elements, the empty one included */
    tk_expect_int(tk_cmd(c, "PFADD pf:bin %b %b", "a\0b", (size_t)3, "", (size_t)0), 1);
    tk_expect_int(tk_cmd(c, "PFADD pf:bin %b", "a\0b", (size_t)3), 0);
    tk_expect_int(tk_cmd(c, "PFCOUNT pf:bin"), 2);
    redisFree(c);
}

static void test_pfadd_writes_redis_bytes(void **state)
{
    redisContext *c = tk_connect(*state);
    /* PFADD h hello on Redis 7.0.15: XZERO(9216) VAL(1,1) XZERO(7167), the
     * cache marked stale */
    static const unsigned char want[] = { 'H', 'Y', 'L', 'L', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80,
                                          0x63, 0xff, 0x80, 0x5b, 0xfe };
    static const unsigned char empty[] = { 'H', 'Y', 'L', 'L', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x7f, 0xff };

    tk_expect_int(tk_cmd(c, "PFADD pfb:h hello"), 1);
    expect_bin(tk_cmd(c, "GET pfb:h"), want, sizeof(want));
    tk_expect_int(tk_cmd(c, "PFADD pfb:e"), 1);
    expect_bin(tk_cmd(c, "GET pfb:e"), empty, sizeof(empty));
    redisFree(c);
}

static void test_pfcount_caches_cardinality_and_pfadd_invalidates_it(void **state)
{
    redisContext *c = tk_connect(*state);
    unsigned char *v;
    size_t len;

    tk_expect_int(tk_cmd(c, "PFADD pfc:k a b c"), 1);
    v = get_value(c, "pfc:k", &len);
    assert_int_equal(v[15] & 0x80, 0x80);
    free(v);
    tk_expect_int(tk_cmd(c, "PFCOUNT pfc:k"), 3);
    v = get_value(c, "pfc:k", &len);
    assert_int_equal(v[8], 3); /* little-endian cardinality, valid */
    for (int i = 9; i < 16; i++)
        assert_int_equal(v[i], 0);
    free(v);
    /* an add that changes nothing keeps the cache */
    tk_expect_int(tk_cmd(c, "PFADD pfc:k a"), 0);
    v = get_value(c, "pfc:k", &len);
    assert_int_equal(v[15], 0);
    free(v);
    tk_expect_int(tk_cmd(c, "PFADD pfc:k d"), 1);
    v = get_value(c, "pfc:k", &len);
    assert_int_equal(v[8], 3);    /* the old value stays ... */
    assert_int_equal(v[15], 0x80); /* ... marked stale */
    free(v);
    tk_expect_int(tk_cmd(c, "PFCOUNT pfc:k"), 4);
    /* a forged valid cache is believed, as Redis does */
    v = get_value(c, "pfc:k", &len);
    v[8] = 42;
    tk_expect_status(tk_cmd(c, "SET pfc:forged %b", v, len), "OK");
    tk_expect_int(tk_cmd(c, "PFCOUNT pfc:forged"), 42);
    free(v);
    redisFree(c);
}

static void test_pfcount_of_several_keys_is_the_union_and_changes_nothing(void **state)
{
    redisContext *c = tk_connect(*state);
    unsigned char *before, *after;
    size_t lb, la;

    pfadd_range(c, "pfu:a", "u", 0, 200);
    pfadd_range(c, "pfu:b", "u", 100, 300);
    before = get_value(c, "pfu:a", &lb);
    tk_expect_int(tk_cmd(c, "PFCOUNT pfu:a pfu:b"), 300);
    tk_expect_int(tk_cmd(c, "PFCOUNT pfu:a pfu:none pfu:b"), 300);
    tk_expect_int(tk_cmd(c, "PFCOUNT pfu:none pfu:none2"), 0);
    tk_expect_int(tk_cmd(c, "PFCOUNT pfu:a pfu:a"), 199);
    after = get_value(c, "pfu:a", &la);
    /* the multi-key form does not store a cached cardinality */
    assert_int_equal(la, lb);
    assert_memory_equal(before, after, la);
    free(before);
    free(after);
    tk_expect_int(tk_cmd(c, "PFCOUNT pfu:a"), 199); /* estimates of 200 and 300 as Redis gives them */
    redisFree(c);
}

static void test_accuracy_within_three_sigma(void **state)
{
    redisContext *c = tk_connect(*state);
    long n = 100000;
    double err;
    long long est;

    for (long i = 0; i < n; i += 1000)
        pfadd_range(c, "pfa:k", "acc", i, i + 1000);
    est = int_reply(tk_cmd(c, "PFCOUNT pfa:k"));
    err = fabs((double)est - (double)n) / (double)n;
    if (err > 0.0243)
        fail_msg("estimate %lld for %ld distinct elements: error %.4f > 3 x 0.81%%", est, n, err);
    expect_encoding(c, "pfa:k", "dense");
    tk_expect_int(tk_cmd(c, "DEL pfa:k"), 1);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Sparse and dense                                                         */
/* ------------------------------------------------------------------------ */

static void test_sparse_value_is_promoted_past_sparse_max(void **state)
{
    redisContext *c = tk_connect(*state);
    unsigned char *v;
    size_t len;
    int promoted = 0;

    tk_expect_int(tk_cmd(c, "PFADD pfp:k"), 1);
    expect_encoding(c, "pfp:k", "sparse");
    for (long i = 0; i < 3000 && !promoted; i += 50) {
        redisReply *r;

        pfadd_range(c, "pfp:k", "p", i, i + 50);
        r = tk_cmd(c, "PFDEBUG ENCODING pfp:k");
        assert_int_equal(r->type, REDIS_REPLY_STATUS);
        if (strcmp(r->str, "dense") == 0) {
            promoted = 1;
        } else {
            v = get_value(c, "pfp:k", &len);
            assert_true(len <= 3000);
            assert_int_equal(v[4], 1);
            free(v);
        }
        freeReplyObject(r);
    }
    assert_true(promoted);
    v = get_value(c, "pfp:k", &len);
    assert_int_equal(len, DENSE_SIZE);
    assert_int_equal(v[4], 0);
    free(v);
    redisFree(c);
}

static void test_sparse_max_bytes_is_a_live_setting(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "CONFIG SET hll-sparse-max-bytes 30"), "OK");
    tk_expect_int(tk_cmd(c, "PFADD pfs:k a"), 1);
    expect_encoding(c, "pfs:k", "sparse"); /* 21 bytes */
    pfadd_range(c, "pfs:k", "s", 0, 10);
    expect_encoding(c, "pfs:k", "dense");
    tk_expect_status(tk_cmd(c, "CONFIG SET hll-sparse-max-bytes 3000"), "OK");
    tk_expect_int(tk_cmd(c, "PFCOUNT pfs:k"), 11);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* PFMERGE                                                                  */
/* ------------------------------------------------------------------------ */

static void test_pfmerge_is_the_union(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    pfadd_range(c, "pfm:a", "m", 0, 100);
    pfadd_range(c, "pfm:b", "m", 50, 150);
    tk_expect_status(tk_cmd(c, "PFMERGE pfm:d pfm:a pfm:b"), "OK");
    tk_expect_int(tk_cmd(c, "PFCOUNT pfm:d"), int_reply(tk_cmd(c, "PFCOUNT pfm:a pfm:b")));
    tk_expect_int(tk_cmd(c, "PFCOUNT pfm:d"), 151); /* Redis 7.0.15's estimate of 150 */
    expect_encoding(c, "pfm:d", "sparse");
    /* the destination is one of the sources */
    pfadd_range(c, "pfm:c", "m", 140, 160);
    tk_expect_status(tk_cmd(c, "PFMERGE pfm:d pfm:c pfm:none"), "OK");
    tk_expect_int(tk_cmd(c, "PFCOUNT pfm:d"), 161);
    /* no sources: an empty HyperLogLog */
    tk_expect_status(tk_cmd(c, "PFMERGE pfm:e"), "OK");
    tk_expect_int(tk_cmd(c, "EXISTS pfm:e"), 1);
    tk_expect_int(tk_cmd(c, "PFCOUNT pfm:e"), 0);
    tk_expect_status(tk_cmd(c, "PFMERGE pfm:f pfm:none"), "OK");
    tk_expect_int(tk_cmd(c, "PFCOUNT pfm:f"), 0);
    /* a dense source makes the destination dense */
    pfadd_range(c, "pfm:big", "m", 0, 3000);
    expect_encoding(c, "pfm:big", "dense");
    tk_expect_status(tk_cmd(c, "PFMERGE pfm:g pfm:a pfm:big"), "OK");
    expect_encoding(c, "pfm:g", "dense");
    tk_expect_int(tk_cmd(c, "PFCOUNT pfm:g"), int_reply(tk_cmd(c, "PFCOUNT pfm:big")));
    /* the destination keeps its TTL */
    tk_expect_int(tk_cmd(c, "EXPIRE pfm:a 1000"), 1);
    tk_expect_status(tk_cmd(c, "PFMERGE pfm:a pfm:b"), "OK");
    r = tk_cmd(c, "TTL pfm:a");
    assert_true(r->integer > 990);
    freeReplyObject(r);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Errors and corrupted values                                              */
/* ------------------------------------------------------------------------ */

static void test_non_hll_values_are_refused(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET pfe:str hello"), "OK");
    tk_expect_status(tk_cmd(c, "SET pfe:int 12345678901234567"), "OK");
    tk_expect_int(tk_cmd(c, "SADD pfe:set a"), 1);
    tk_expect_int(tk_cmd(c, "PFADD pfe:ok a"), 1);
    tk_expect_error(tk_cmd(c, "PFADD pfe:str a"), RERR_NOTHLL);
    tk_expect_error(tk_cmd(c, "PFADD pfe:int a"), RERR_NOTHLL);
    tk_expect_error(tk_cmd(c, "PFADD pfe:set a"), RERR_WRONGTYPE);
    tk_expect_error(tk_cmd(c, "PFCOUNT pfe:str"), RERR_NOTHLL);
    tk_expect_error(tk_cmd(c, "PFCOUNT pfe:set"), RERR_WRONGTYPE);
    tk_expect_error(tk_cmd(c, "PFCOUNT pfe:ok pfe:str"), RERR_NOTHLL);
    tk_expect_error(tk_cmd(c, "PFCOUNT pfe:ok pfe:set"), RERR_WRONGTYPE);
    tk_expect_error(tk_cmd(c, "PFMERGE pfe:d pfe:ok pfe:str"), RERR_NOTHLL);
    tk_expect_error(tk_cmd(c, "PFMERGE pfe:str pfe:ok"), RERR_NOTHLL);
    tk_expect_error(tk_cmd(c, "PFMERGE pfe:set pfe:ok"), RERR_WRONGTYPE);
    tk_expect_int(tk_cmd(c, "EXISTS pfe:d"), 0);
    tk_expect_str(tk_cmd(c, "GET pfe:str"), "hello");
    /* bad headers */
    tk_expect_status(tk_cmd(c, "SET pfe:h1 %b", "HYLL\x02\0\0\0\0\0\0\0\0\0\0\0\x7f\xff", (size_t)18), "OK");
    tk_expect_error(tk_cmd(c, "PFCOUNT pfe:h1"), RERR_NOTHLL);
    tk_expect_status(tk_cmd(c, "SET pfe:h2 %b", "HYLL\0\0\0\0\0\0\0\0\0\0\0\0\x7f\xff", (size_t)18), "OK");
    tk_expect_error(tk_cmd(c, "PFCOUNT pfe:h2"), RERR_NOTHLL); /* dense of the wrong size */
    tk_expect_status(tk_cmd(c, "SET pfe:h3 HYLL"), "OK");
    tk_expect_error(tk_cmd(c, "PFADD pfe:h3 a"), RERR_NOTHLL);
    tk_expect_error(tk_cmd(c, "PFADD"), "ERR wrong number of arguments for 'pfadd' command");
    tk_expect_error(tk_cmd(c, "PFCOUNT"), "ERR wrong number of arguments for 'pfcount' command");
    tk_expect_error(tk_cmd(c, "PFMERGE"), "ERR wrong number of arguments for 'pfmerge' command");
    redisFree(c);
}

static void test_corrupted_sparse_values_are_detected(void **state)
{
    redisContext *c = tk_connect(*state);
    /* a stale cache and XZERO(16383): one register short */
    static const char shortv[] = "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xfe";
    /* XZERO(16384) then VAL(1) x4: past the last register */
    static const char longv[] = "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff\x83";

    tk_expect_status(tk_cmd(c, "SET pfx:short %b", shortv, sizeof(shortv) - 1), "OK");
    tk_expect_status(tk_cmd(c, "SET pfx:long %b", longv, sizeof(longv) - 1), "OK");
    tk_expect_int(tk_cmd(c, "PFADD pfx:ok a"), 1);
    tk_expect_error(tk_cmd(c, "PFCOUNT pfx:short"), RERR_CORRUPT);
    tk_expect_error(tk_cmd(c, "PFCOUNT pfx:long"), RERR_CORRUPT);
    tk_expect_error(tk_cmd(c, "PFCOUNT pfx:ok pfx:short"), RERR_CORRUPT);
    tk_expect_error(tk_cmd(c, "PFMERGE pfx:d pfx:long"), RERR_CORRUPT);
    tk_expect_error(tk_cmd(c, "PFMERGE pfx:d pfx:ok pfx:short"), RERR_CORRUPT);
    tk_expect_int(tk_cmd(c, "EXISTS pfx:d"), 0);
    tk_expect_error(tk_cmd(c, "PFDEBUG TODENSE pfx:short"), RERR_CORRUPT);
    tk_expect_error(tk_cmd(c, "PFDEBUG GETREG pfx:long"), RERR_CORRUPT);
    /* an element whose register lies past the last run: XZERO(100) covers
     * registers 0..99 only, and some of these 26 elements land above */
    tk_expect_status(tk_cmd(c, "SET pfx:tiny %b", "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x40\x63", (size_t)18), "OK");
    tk_expect_error(tk_cmd(c, "PFADD pfx:tiny a b c d e f g h i j k l m n o p q r s t u v w x y z"), RERR_CORRUPT);
    tk_expect_int(tk_cmd(c, "EXISTS pfx:tiny"), 1);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* PFDEBUG PFSELFTEST                                                       */
/* ------------------------------------------------------------------------ */

static void test_pfdebug_subcommands(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;
    long long ones = 0;

    tk_expect_int(tk_cmd(c, "PFADD pfd:k hello"), 1);
    tk_expect_str(tk_cmd(c, "PFDEBUG DECODE pfd:k"), "Z:9216 v:1,1 Z:7167");
    tk_expect_status(tk_cmd(c, "PFDEBUG ENCODING pfd:k"), "sparse");
    tk_expect_status(tk_cmd(c, "pfdebug encoding pfd:k"), "sparse");
    /* GETREG answers from a dense copy it stores */
    r = tk_cmd(c, "PFDEBUG GETREG pfd:k");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 16384);
    for (size_t i = 0; i < r->elements; i++)
        ones += r->element[i]->integer;
    assert_int_equal(r->element[9216]->integer, 1);
    freeReplyObject(r);
    assert_int_equal(ones, 1);
    tk_expect_status(tk_cmd(c, "PFDEBUG ENCODING pfd:k"), "dense");
    tk_expect_error(tk_cmd(c, "PFDEBUG DECODE pfd:k"), "ERR HLL encoding is not sparse");
    tk_expect_int(tk_cmd(c, "PFDEBUG TODENSE pfd:k"), 0);
    tk_expect_int(tk_cmd(c, "PFADD pfd:j a"), 1);
    tk_expect_int(tk_cmd(c, "PFDEBUG TODENSE pfd:j"), 1);
    tk_expect_status(tk_cmd(c, "PFDEBUG ENCODING pfd:j"), "dense");
    tk_expect_int(tk_cmd(c, "PFCOUNT pfd:j"), 1);
    tk_expect_error(tk_cmd(c, "PFDEBUG FOO pfd:k"), "ERR Unknown PFDEBUG subcommand 'FOO'");
    tk_expect_error(tk_cmd(c, "PFDEBUG FOO pfd:none"), "ERR The specified key does not exist");
    tk_expect_error(tk_cmd(c, "PFDEBUG ENCODING pfd:none"), "ERR The specified key does not exist");
    tk_expect_status(tk_cmd(c, "SET pfd:str x"), "OK");
    tk_expect_error(tk_cmd(c, "PFDEBUG ENCODING pfd:str"), RERR_NOTHLL);
    tk_expect_error(tk_cmd(c, "PFDEBUG ENCODING"), "ERR wrong number of arguments for 'pfdebug' command");
    tk_expect_error(tk_cmd(c, "PFDEBUG ENCODING pfd:k x"), "ERR wrong number of arguments for 'pfdebug' command");
    tk_expect_status(tk_cmd(c, "PFSELFTEST"), "OK");
    tk_expect_error(tk_cmd(c, "PFSELFTEST x"), "ERR wrong number of arguments for 'pfselftest' command");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Encoding, counters, RESP3                                                */
/* ------------------------------------------------------------------------ */

static void test_hll_is_a_raw_string(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "PFADD pfo:k a"), 1);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING pfo:k"), "raw");
    tk_expect_status(tk_cmd(c, "PFMERGE pfo:m pfo:k"), "OK");
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING pfo:m"), "raw");
    tk_expect_int(tk_cmd(c, "STRLEN pfo:k"), 21);
    redisFree(c);
}

static void test_reads_count_hits_and_misses(void **state)
{
    redisContext *c = tk_connect(*state);
    long long h0, m0;

    tk_expect_int(tk_cmd(c, "PFADD pfh:k a"), 1);
    h0 = tk_info_ll(c, "keyspace_hits");
    m0 = tk_info_ll(c, "keyspace_misses");
    tk_expect_int(tk_cmd(c, "PFCOUNT pfh:k"), 1);                 /* hit */
    tk_expect_int(tk_cmd(c, "PFCOUNT pfh:none"), 0);              /* miss */
    tk_expect_int(tk_cmd(c, "PFCOUNT pfh:k pfh:none pfh:k"), 1);  /* 2 hits, 1 miss */
    tk_expect_status(tk_cmd(c, "PFMERGE pfh:d pfh:k"), "OK");     /* miss (d) + hit */
    tk_expect_int(tk_cmd(c, "PFADD pfh:k b"), 1);                 /* a write: nothing */
    assert_int_equal(tk_info_ll(c, "keyspace_hits") - h0, 4);
    assert_int_equal(tk_info_ll(c, "keyspace_misses") - m0, 3);
    redisFree(c);
}

static void test_resp2_and_resp3_reply_shapes(void **state)
{
    int fd = tk_raw_connect(*state);
    char buf[4096];

    tk_raw_expect(fd, "PFADD r:k a b\r\n", ":1\r\n");
    tk_raw_expect(fd, "PFCOUNT r:k\r\n", ":2\r\n");
    tk_raw_expect(fd, "PFMERGE r:d r:k\r\n", "+OK\r\n");
    tk_raw_expect(fd, "PFDEBUG ENCODING r:k\r\n", "+sparse\r\n");
    tk_raw_send(fd, "HELLO 3\r\n", 9);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 10000) > 0);
    tk_raw_expect(fd, "PFADD r:k a\r\n", ":0\r\n");
    tk_raw_expect(fd, "PFCOUNT r:k r:d\r\n", ":2\r\n");
    tk_raw_expect(fd, "PFMERGE r:d r:k\r\n", "+OK\r\n");
    tk_raw_expect(fd, "PFDEBUG DECODE r:none\r\n", "-ERR The specified key does not exist\r\n");
    close(fd);
}

/* ------------------------------------------------------------------------ */
/* Cross-checks against a real redis-server                                 */
/* ------------------------------------------------------------------------ */

/* Starts a real redis-server through testkit (which starts whatever
 * STRATA_SERVER names). Returns 0, or -1 when there is none. */
static int start_redis_peer(struct tk_server *r)
{
    static const char *const extra[] = { "--save", "", "--appendonly", "no", NULL };
    const char *bin = getenv("REDIS_SERVER");
    char *saved;
    int rc;

    if (!bin || !*bin)
        bin = "/usr/bin/redis-server";
    if (access(bin, X_OK) != 0)
        return -1;
    saved = getenv("STRATA_SERVER") ? strdup(getenv("STRATA_SERVER")) : NULL;
    setenv("STRATA_SERVER", bin, 1);
    rc = tk_server_start(r, extra);
    if (saved) {
        setenv("STRATA_SERVER", saved, 1);
        free(saved);
    }
    return rc;
}

#define NEED_PEER(peer)                                                                                        \
    do {                                                                                                       \
        if (start_redis_peer(peer) != 0) {                                                                     \
            print_message("skipped: no redis-server to compare with ($REDIS_SERVER or /usr/bin/redis-server)\n"); \
            skip();                                                                                            \
        }                                                                                                      \
    } while (0)

/* Asserts key holds the same bytes on both servers. */
static void expect_same_value(redisContext *s, redisContext *r, const char *key, const char *what)
{
    size_t ls, lr;
    unsigned char *vs = get_value(s, key, &ls), *vr = get_value(r, key, &lr);

    if (ls != lr || memcmp(vs, vr, ls) != 0) {
        size_t i = 0;

        while (i < ls && i < lr && vs[i] == vr[i])
            i++;
        free(vs);
        free(vr);
        fail_msg("%s: %s differs (strata %zu bytes, redis %zu bytes, first difference at byte %zu)", what, key, ls,
                 lr, i);
    }
    free(vs);
    free(vr);
}

static void test_same_commands_leave_identical_bytes_in_redis(void **state)
{
    struct tk_server peer;
    redisContext *s, *r;
    unsigned seed = 7;
    char what[64];

    NEED_PEER(&peer);
    s = tk_connect(*state);
    r = tk_connect(&peer);
    tk_expect_int(tk_cmd(s, "DEL x:a x:b x:m x:n"), 0);
    /* growing batches: sparse, through the promotion, then dense */
    for (long i = 0, step = 1; i < 20000; i += step, step = step < 512 ? step * 2 : step) {
        long long a = pfadd_range(s, "x:a", "cross", i, i + step), b = pfadd_range(r, "x:a", "cross", i, i + step);

        assert_int_equal(a, b);
        snprintf(what, sizeof(what), "after %ld elements", i + step);
        expect_same_value(s, r, "x:a", what);
        if (rand_r(&seed) % 3 == 0) {
            assert_int_equal(int_reply(tk_cmd(s, "PFCOUNT x:a")), int_reply(tk_cmd(r, "PFCOUNT x:a")));
            expect_same_value(s, r, "x:a", "after PFCOUNT");
        }
    }
    /* random elements, one at a time, into a second key kept sparse */
    for (int i = 0; i < 600; i++) {
        char e[32];

        snprintf(e, sizeof(e), "r%u", (unsigned)rand_r(&seed));
        assert_int_equal(int_reply(tk_cmd(s, "PFADD x:b %s", e)), int_reply(tk_cmd(r, "PFADD x:b %s", e)));
    }
    expect_same_value(s, r, "x:b", "sparse after 600 adds");
    /* PFMERGE: sparse + sparse, then with a dense source */
    pfadd_range(s, "x:c", "cross", 100, 400);
    pfadd_range(r, "x:c", "cross", 100, 400);
    tk_expect_status(tk_cmd(s, "PFMERGE x:m x:b x:c"), "OK");
    tk_expect_status(tk_cmd(r, "PFMERGE x:m x:b x:c"), "OK");
    expect_same_value(s, r, "x:m", "PFMERGE of sparse values");
    tk_expect_status(tk_cmd(s, "PFMERGE x:m x:a"), "OK");
    tk_expect_status(tk_cmd(r, "PFMERGE x:m x:a"), "OK");
    expect_same_value(s, r, "x:m", "PFMERGE with a dense source");
    tk_expect_status(tk_cmd(s, "PFMERGE x:n x:b"), "OK");
    tk_expect_status(tk_cmd(r, "PFMERGE x:n x:b"), "OK");
    expect_same_value(s, r, "x:n", "PFMERGE into a new key");
    assert_int_equal(int_reply(tk_cmd(s, "PFCOUNT x:a x:b x:c")), int_reply(tk_cmd(r, "PFCOUNT x:a x:b x:c")));
    /* a lower promotion threshold on both */
    tk_expect_status(tk_cmd(s, "CONFIG SET hll-sparse-max-bytes 200"), "OK");
    tk_expect_status(tk_cmd(r, "CONFIG SET hll-sparse-max-bytes 200"), "OK");
    for (long i = 0; i < 120; i += 5) {
        pfadd_range(s, "x:t", "t", i, i + 5);
        pfadd_range(r, "x:t", "t", i, i + 5);
        expect_same_value(s, r, "x:t", "with hll-sparse-max-bytes 200");
    }
    tk_expect_status(tk_cmd(s, "CONFIG SET hll-sparse-max-bytes 3000"), "OK");
    redisFree(s);
    redisFree(r);
    assert_int_equal(tk_server_stop(&peer), 0);
}

/* SETs key's value from `from` into `to` (optionally with the cache marked
 * stale) and returns PFCOUNT there. */
static long long count_in(redisContext *from, redisContext *to, const char *key, int invalidate)
{
    size_t len;
    unsigned char *v = get_value(from, key, &len);
    long long n;

    if (invalidate)
        v[15] |= 0x80;
    tk_expect_status(tk_cmd(to, "SET copy:%s %b", key, v, len), "OK");
    free(v);
    n = int_reply(tk_cmd(to, "PFCOUNT copy:%s", key));
    return n;
}

static void test_values_move_between_strata_and_redis(void **state)
{
    struct tk_server peer;
    redisContext *s, *r;
    static const long sizes[] = { 1, 10, 300, 1500, 5000, 60000 };

    NEED_PEER(&peer);
    s = tk_connect(*state);
    r = tk_connect(&peer);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char key[32];
        long long cs, cr;

        /* written by Strata, counted by Redis */
        snprintf(key, sizeof(key), "mv:s%ld", sizes[i]);
        for (long j = 0; j < sizes[i]; j += 1000)
            pfadd_range(s, key, key, j, j + 1000 < sizes[i] ? j + 1000 : sizes[i]);
        cs = int_reply(tk_cmd(s, "PFCOUNT %s", key));
        assert_int_equal(count_in(s, r, key, 0), cs); /* cached */
        assert_int_equal(count_in(s, r, key, 1), cs); /* recomputed by Redis */
        /* written by Redis, counted and extended by Strata */
        snprintf(key, sizeof(key), "mv:r%ld", sizes[i]);
        for (long j = 0; j < sizes[i]; j += 1000)
            pfadd_range(r, key, key, j, j + 1000 < sizes[i] ? j + 1000 : sizes[i]);
        cr = int_reply(tk_cmd(r, "PFCOUNT %s", key));
        assert_int_equal(count_in(r, s, key, 1), cr);
        {
            char copy[48];

            snprintf(copy, sizeof(copy), "copy:%s", key);
            pfadd_range(s, copy, "more", 0, 100);
            tk_expect_status(tk_cmd(r, "RENAME %s %s", key, copy), "OK");
            pfadd_range(r, copy, "more", 0, 100);
            assert_int_equal(int_reply(tk_cmd(s, "PFCOUNT %s", copy)), int_reply(tk_cmd(r, "PFCOUNT %s", copy)));
            expect_same_value(s, r, copy, "a Redis value extended on both");
        }
    }
    redisFree(s);
    redisFree(r);
    assert_int_equal(tk_server_stop(&peer), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pfadd_reports_changes_and_counts),
        cmocka_unit_test(test_pfadd_writes_redis_bytes),
        cmocka_unit_test(test_pfcount_caches_cardinality_and_pfadd_invalidates_it),
        cmocka_unit_test(test_pfcount_of_several_keys_is_the_union_and_changes_nothing),
        cmocka_unit_test(test_accuracy_within_three_sigma),
        cmocka_unit_test(test_sparse_value_is_promoted_past_sparse_max),
        cmocka_unit_test(test_sparse_max_bytes_is_a_live_setting),
        cmocka_unit_test(test_pfmerge_is_the_union),
        cmocka_unit_test(test_non_hll_values_are_refused),
        cmocka_unit_test(test_corrupted_sparse_values_are_detected),
        cmocka_unit_test(test_pfdebug_subcommands),
        cmocka_unit_test(test_hll_is_a_raw_string),
        cmocka_unit_test(test_reads_count_hits_and_misses),
        cmocka_unit_test(test_resp2_and_resp3_reply_shapes),
        cmocka_unit_test(test_same_commands_leave_identical_bytes_in_redis),
        cmocka_unit_test(test_values_move_between_strata_and_redis),
    };

    return cmocka_run_group_tests_name("hll", tests, group_setup, group_teardown) ? 1 : 0;
}
