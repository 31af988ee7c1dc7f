/*
 * test_hash.c -- the hash command family against a real strata-server,
 * through hiredis and raw RESP3: every command and option of HSET HSETNX
 * HGET HMSET HMGET HDEL HEXISTS HLEN HKEYS HVALS HGETALL HINCRBY
 * HINCRBYFLOAT HSTRLEN HRANDFIELD HSCAN, their exact Redis 7 error texts and
 * reply shapes in RESP2 and RESP3 (each expected reply was checked against
 * redis-server 7.0.15), OBJECT ENCODING at the hash-max-listpack-* limits
 * set with CONFIG SET, the generic commands on hashes (TYPE, COPY, RENAME,
 * SCAN TYPE, EXPIRE, MEMORY USAGE), keyspace_hits / keyspace_misses, and
 * HINCRBY from several clients at once losing no update.
 *
 * One server (group setup) serves every test; each test uses its own keys
 * (prefixed with the test's topic), so tests are independent of order. Tests
 * that change a threshold with CONFIG SET restore the default before they
 * end.
 */
#include "testkit.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Fields enough to pass Redis's default hash-max-listpack-entries (512). */
#define BIG 600

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

/* Asserts an array reply of n elements; returns it (caller frees). */
static redisReply *expect_array(redisReply *r, size_t n)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        int type = r->type;
        size_t got = r->elements;

        freeReplyObject(r);
        fail_msg("expected an array of %zu, got type %d with %zu elements", n, type, got);
    }
    return r;
}

/* Asserts element i of array r is the bulk string s. */
static void elem_str(const redisReply *r, size_t i, const char *s)
{
    const redisReply *e = r->element[i];

    if (e->type != REDIS_REPLY_STRING || e->len != strlen(s) || memcmp(e->str, s, e->len) != 0)
        fail_msg("element %zu: expected \"%s\", got type %d \"%.*s\"", i, s, e->type, (int)e->len,
                 e->str ? e->str : "");
}

static void elem_nil(const redisReply *r, size_t i)
{
    if (r->element[i]->type != REDIS_REPLY_NIL)
        fail_msg("element %zu: expected nil, got type %d", i, r->element[i]->type);
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

/* Opens a raw connection switched to RESP3. */
static int raw3(void **state)
{
    int fd = tk_raw_connect(*state);
    char buf[8192];

    assert_true(fd >= 0);
    assert_int_equal(tk_raw_send(fd, "HELLO 3\r\n", 9), 0);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 10000) > 0);
    return fd;
}

/* Index of field name in a flat field/value array, or -1. */
static long find_field(const redisReply *r, const char *f)
{
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, f) == 0)
            return (long)i;
    return -1;
}

static void config_set(redisContext *c, const char *name, const char *value)
{
    tk_expect_status(tk_cmd(c, "CONFIG SET %s %s", name, value), "OK");
}

/* CONFIG GET name's value as a number. */
static long config_get(redisContext *c, const char *name)
{
    redisReply *r = tk_cmd(c, "CONFIG GET %s", name);
    long v = 0;

    if (r->type == REDIS_REPLY_ARRAY) {
        assert_int_equal(r->elements, 2);
        v = atol(r->element[1]->str);
    } else {
        freeReplyObject(r);
        fail_msg("CONFIG GET %s: unexpected reply type", name);
    }
    freeReplyObject(r);
    return v;
}

static void expect_encoding(redisContext *c, const char *key, const char *enc)
{
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING %s", key), enc);
}

/* ------------------------------------------------------------------------ */
/* HSET HMSET HSETNX HGET                                                   */
/* ------------------------------------------------------------------------ */

static void test_hset_counts_new_fields_and_hget_reads_them(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "HSET hs:k a 1"), 1);
    tk_expect_int(tk_cmd(c, "HSET hs:k b 2 c 3"), 2);
    tk_expect_int(tk_cmd(c, "HSET hs:k a 10 d 4"), 1);      /* a overwritten, d new */
    tk_expect_int(tk_cmd(c, "HSET hs:k a 11 a 12 e 5 e 6"), 1); /* duplicates: last wins */
    tk_expect_str(tk_cmd(c, "HGET hs:k a"), "12");
    tk_expect_str(tk_cmd(c, "HGET hs:k b"), "2");
    tk_expect_str(tk_cmd(c, "HGET hs:k e"), "6");
    tk_expect_nil(tk_cmd(c, "HGET hs:k zz"));
    tk_expect_nil(tk_cmd(c, "HGET hs:none a"));
    tk_expect_int(tk_cmd(c, "HLEN hs:k"), 5);
    /* values kept byte for byte, integer-looking or not */
    tk_expect_int(tk_cmd(c, "HSET hs:k z 007 p +1 n -0 big 99999999999999999999"), 4);
    tk_expect_str(tk_cmd(c, "HGET hs:k z"), "007");
    tk_expect_str(tk_cmd(c, "HGET hs:k p"), "+1");
    tk_expect_str(tk_cmd(c, "HGET hs:k n"), "-0");
    tk_expect_str(tk_cmd(c, "HGET hs:k big"), "99999999999999999999");
    tk_expect_int(tk_cmd(c, "HSET hs:k 12 x 012 y"), 2);   /* "12" and "012" are distinct fields */
    tk_expect_str(tk_cmd(c, "HGET hs:k 12"), "x");
    tk_expect_str(tk_cmd(c, "HGET hs:k 012"), "y");
    tk_expect_status(tk_cmd(c, "TYPE hs:k"), "hash");
    redisFree(c);
}

static void test_hset_binary_and_empty_strings(void **state)
{
    redisContext *c = tk_connect(*state);
    static const char f[] = "f\0\r\n\xff";
    static const char v[] = "\0v\r\n";

    tk_expect_int(tk_cmd(c, "HSET hs:bin %b %b", f, sizeof(f) - 1, v, sizeof(v) - 1), 1);
    expect_bin(tk_cmd(c, "HGET hs:bin %b", f, sizeof(f) - 1), v, sizeof(v) - 1);
    tk_expect_nil(tk_cmd(c, "HGET hs:bin %b", f, sizeof(f) - 2));
    tk_expect_int(tk_cmd(c, "HSET hs:bin %s %s", "", ""), 1);
    tk_expect_str(tk_cmd(c, "HGET hs:bin %s", ""), "");
    tk_expect_int(tk_cmd(c, "HSTRLEN hs:bin %s", ""), 0);
    tk_expect_int(tk_cmd(c, "HEXISTS hs:bin %s", ""), 1);
    tk_expect_int(tk_cmd(c, "HLEN hs:bin"), 2);
    redisFree(c);
}

static void test_hset_hmset_odd_arguments_are_arity_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "HSET hs:odd f"), "ERR wrong number of arguments for 'hset' command");
    tk_expect_error(tk_cmd(c, "HSET hs:odd f v g"), "ERR wrong number of arguments for 'hset' command");
    tk_expect_error(tk_cmd(c, "HMSET hs:odd f"), "ERR wrong number of arguments for 'hmset' command");
    tk_expect_error(tk_cmd(c, "HMSET hs:odd f v g"), "ERR wrong number of arguments for 'hmset' command");
    tk_expect_int(tk_cmd(c, "EXISTS hs:odd"), 0);
    redisFree(c);
}

static void test_hmset_replies_ok(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "HMSET hm:k a 1 b 2"), "OK");
    tk_expect_status(tk_cmd(c, "HMSET hm:k a 3"), "OK");
    tk_expect_str(tk_cmd(c, "HGET hm:k a"), "3");
    tk_expect_int(tk_cmd(c, "HLEN hm:k"), 2);
    redisFree(c);
}

static void test_hsetnx_sets_only_absent_fields(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "HSETNX hnx:k f v1"), 1);
    tk_expect_int(tk_cmd(c, "HSETNX hnx:k f v2"), 0);
    tk_expect_str(tk_cmd(c, "HGET hnx:k f"), "v1");
    tk_expect_int(tk_cmd(c, "HSETNX hnx:k g v3"), 1);
    tk_expect_int(tk_cmd(c, "HLEN hnx:k"), 2);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* HMGET HEXISTS HLEN HSTRLEN                                               */
/* ------------------------------------------------------------------------ */

static void test_hmget_nil_for_absent_fields_and_keys(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    tk_expect_int(tk_cmd(c, "HSET hmg:k a 1 b 2"), 2);
    r = expect_array(tk_cmd(c, "HMGET hmg:k a zz b a"), 4);
    elem_str(r, 0, "1");
    elem_nil(r, 1);
    elem_str(r, 2, "2");
    elem_str(r, 3, "1");
    freeReplyObject(r);
    r = expect_array(tk_cmd(c, "HMGET hmg:none a b"), 2);
    elem_nil(r, 0);
    elem_nil(r, 1);
    freeReplyObject(r);
    redisFree(c);
}

static void test_hexists_hlen_hstrlen(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "HSET hq:k s hello n -12345 e %s", ""), 3);
    tk_expect_int(tk_cmd(c, "HEXISTS hq:k s"), 1);
    tk_expect_int(tk_cmd(c, "HEXISTS hq:k x"), 0);
    tk_expect_int(tk_cmd(c, "HEXISTS hq:none s"), 0);
    tk_expect_int(tk_cmd(c, "HLEN hq:k"), 3);
    tk_expect_int(tk_cmd(c, "HLEN hq:none"), 0);
    tk_expect_int(tk_cmd(c, "HSTRLEN hq:k s"), 5);
    tk_expect_int(tk_cmd(c, "HSTRLEN hq:k n"), 6); /* an integer's text length */
    tk_expect_int(tk_cmd(c, "HSTRLEN hq:k e"), 0);
    tk_expect_int(tk_cmd(c, "HSTRLEN hq:k x"), 0);
    tk_expect_int(tk_cmd(c, "HSTRLEN hq:none s"), 0);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* HKEYS HVALS HGETALL                                                      */
/* ------------------------------------------------------------------------ */

static void test_hkeys_hvals_hgetall_resp2(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    tk_expect_int(tk_cmd(c, "HSET hga:k a 1 b 2 c 3"), 3);
    /* a small hash keeps insertion order, as Redis's listpack */
    r = expect_array(tk_cmd(c, "HKEYS hga:k"), 3);
    elem_str(r, 0, "a");
    elem_str(r, 1, "b");
    elem_str(r, 2, "c");
    freeReplyObject(r);
    r = expect_array(tk_cmd(c, "HVALS hga:k"), 3);
    elem_str(r, 0, "1");
    elem_str(r, 1, "2");
    elem_str(r, 2, "3");
    freeReplyObject(r);
    r = expect_array(tk_cmd(c, "HGETALL hga:k"), 6);
    elem_str(r, 0, "a");
    elem_str(r, 1, "1");
    elem_str(r, 4, "c");
    elem_str(r, 5, "3");
    freeReplyObject(r);
    freeReplyObject(expect_array(tk_cmd(c, "HKEYS hga:none"), 0));
    freeReplyObject(expect_array(tk_cmd(c, "HVALS hga:none"), 0));
    freeReplyObject(expect_array(tk_cmd(c, "HGETALL hga:none"), 0));
    redisFree(c);
}

static void test_hgetall_of_a_large_hash_returns_every_pair(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;
    enum { N = 1000 };

    for (int i = 0; i < N; i++)
        tk_expect_int(tk_cmd(c, "HSET hga:big f%d v%d", i, i), 1);
    expect_encoding(c, "hga:big", "hashtable");
    r = expect_array(tk_cmd(c, "HGETALL hga:big"), 2 * N);
    for (int i = 0; i < N; i++) {
        char f[32], v[32];
        snprintf(f, sizeof(f), "f%d", i);
        snprintf(v, sizeof(v), "v%d", i);
        long at = find_field(r, f);
        if (at < 0)
            fail_msg("field %s missing from HGETALL", f);
        elem_str(r, (size_t)at + 1, v);
    }
    freeReplyObject(r);
    freeReplyObject(expect_array(tk_cmd(c, "HKEYS hga:big"), N));
    freeReplyObject(expect_array(tk_cmd(c, "HVALS hga:big"), N));
    redisFree(c);
}

static void test_resp3_reply_shapes(void **state)
{
    redisContext *c = tk_connect(*state);
    int fd;

    tk_expect_int(tk_cmd(c, "HSET r3h:k a 1 b 2"), 2);
    fd = raw3(state);
    tk_raw_expect(fd, "HGETALL r3h:k\r\n", "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    tk_raw_expect(fd, "HGETALL r3h:none\r\n", "%0\r\n");
    tk_raw_expect(fd, "HKEYS r3h:k\r\n", "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    tk_raw_expect(fd, "HVALS r3h:k\r\n", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    tk_raw_expect(fd, "HKEYS r3h:none\r\n", "*0\r\n");
    tk_raw_expect(fd, "HGET r3h:k zz\r\n", "_\r\n");
    tk_raw_expect(fd, "HGET r3h:none a\r\n", "_\r\n");
    tk_raw_expect(fd, "HMGET r3h:k a zz\r\n", "*2\r\n$1\r\n1\r\n_\r\n");
    tk_raw_expect(fd, "HEXISTS r3h:k a\r\n", ":1\r\n");
    tk_raw_expect(fd, "HLEN r3h:k\r\n", ":2\r\n");
    tk_raw_expect(fd, "HSTRLEN r3h:k a\r\n", ":1\r\n");
    tk_raw_expect(fd, "HINCRBYFLOAT r3h:k a 1.5\r\n", "$3\r\n2.5\r\n");
    tk_raw_expect(fd, "HINCRBY r3h:k b 1\r\n", ":3\r\n");
    tk_raw_expect(fd, "HSCAN r3h:k 0\r\n", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$3\r\n2.5\r\n$1\r\nb\r\n$1\r\n3\r\n");
    tk_raw_expect(fd, "HSCAN r3h:none 0\r\n", "*2\r\n$1\r\n0\r\n*0\r\n");
    tk_raw_expect(fd, "HRANDFIELD r3h:none\r\n", "_\r\n");
    tk_raw_expect(fd, "HRANDFIELD r3h:none 3 WITHVALUES\r\n", "*0\r\n");
    tk_raw_expect(fd, "HRANDFIELD r3h:k 0 WITHVALUES\r\n", "*0\r\n");
    tk_raw_expect(fd, "HMSET r3h:k c 3\r\n", "+OK\r\n");
    tk_raw_expect(fd, "HSETNX r3h:k c 4\r\n", ":0\r\n");
    tk_raw_expect(fd, "HDEL r3h:k c\r\n", ":1\r\n");
    /* every pair a 2-element array with WITHVALUES; all pairs when count >= size */
    tk_raw_expect(fd, "HRANDFIELD r3h:k 5 WITHVALUES\r\n",
                  "*2\r\n*2\r\n$1\r\na\r\n$3\r\n2.5\r\n*2\r\n$1\r\nb\r\n$1\r\n3\r\n");
    close(fd);
    redisFree(c);
}

static void test_resp3_hrandfield_negative_count_nests_pairs(void **state)
{
    redisContext *c = tk_connect(*state);
    int fd;
    char buf[4096];

    tk_expect_int(tk_cmd(c, "HSET r3r:k x 9"), 1);
    fd = raw3(state);
    /* one field: every draw is the same pair */
    tk_raw_expect(fd, "HRANDFIELD r3r:k -3 WITHVALUES\r\n",
                  "*3\r\n*2\r\n$1\r\nx\r\n$1\r\n9\r\n*2\r\n$1\r\nx\r\n$1\r\n9\r\n*2\r\n$1\r\nx\r\n$1\r\n9\r\n");
    tk_raw_expect(fd, "HRANDFIELD r3r:k -2\r\n", "*2\r\n$1\r\nx\r\n$1\r\nx\r\n");
    tk_raw_expect(fd, "HRANDFIELD r3r:k 1\r\n", "*1\r\n$1\r\nx\r\n");
    tk_raw_expect(fd, "HRANDFIELD r3r:k\r\n", "$1\r\nx\r\n");
    assert_int_equal(tk_raw_send(fd, "HRANDFIELD r3r:k 1 WITHVALUES\r\n", 31), 0);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 10000) > 0);
    assert_string_equal(buf, "*1\r\n*2\r\n$1\r\nx\r\n$1\r\n9\r\n");
    close(fd);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* HDEL                                                                     */
/* ------------------------------------------------------------------------ */

static void test_hdel_counts_and_removes_emptied_key(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "HSET hd:k a 1 b 2 c 3"), 3);
    tk_expect_int(tk_cmd(c, "HDEL hd:k a zz"), 1);
    tk_expect_int(tk_cmd(c, "HDEL hd:k a"), 0);
    tk_expect_int(tk_cmd(c, "HDEL hd:k b b"), 1);  /* a field counts once */
    tk_expect_int(tk_cmd(c, "EXISTS hd:k"), 1);
    tk_expect_int(tk_cmd(c, "HDEL hd:k c x y"), 1);
    tk_expect_int(tk_cmd(c, "EXISTS hd:k"), 0);  /* last field gone: key gone */
    tk_expect_nil(tk_cmd(c, "HGET hd:k c"));
    tk_expect_status(tk_cmd(c, "TYPE hd:k"), "none");
    tk_expect_int(tk_cmd(c, "HDEL hd:none a"), 0);
    /* a large hash too */
    for (int i = 0; i < BIG; i++)
        tk_expect_int(tk_cmd(c, "HSET hd:big f%d v", i), 1);
    expect_encoding(c, "hd:big", "hashtable");
    for (int i = 0; i < BIG - 1; i++)
        tk_expect_int(tk_cmd(c, "HDEL hd:big f%d", i), 1);
    tk_expect_int(tk_cmd(c, "HLEN hd:big"), 1);
    expect_encoding(c, "hd:big", "hashtable"); /* never back to listpack */
    tk_expect_int(tk_cmd(c, "HDEL hd:big f%d", BIG - 1), 1);
    tk_expect_int(tk_cmd(c, "EXISTS hd:big"), 0);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* HINCRBY HINCRBYFLOAT                                                     */
/* ------------------------------------------------------------------------ */

static void test_hincrby(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "HINCRBY hi:k n 5"), 5);
    tk_expect_int(tk_cmd(c, "HINCRBY hi:k n -7"), -2);
    tk_expect_str(tk_cmd(c, "HGET hi:k n"), "-2");
    tk_expect_int(tk_cmd(c, "HINCRBY hi:k n 0"), -2);
    tk_expect_int(tk_cmd(c, "HSET hi:k s abc z 010 sp %s f 1.5", " 1"), 4);
    tk_expect_error(tk_cmd(c, "HINCRBY hi:k s 1"), "ERR hash value is not an integer");
    tk_expect_error(tk_cmd(c, "HINCRBY hi:k z 1"), "ERR hash value is not an integer");
    tk_expect_error(tk_cmd(c, "HINCRBY hi:k sp 1"), "ERR hash value is not an integer");
    tk_expect_error(tk_cmd(c, "HINCRBY hi:k f 1"), "ERR hash value is not an integer");
    tk_expect_error(tk_cmd(c, "HINCRBY hi:k n x"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "HINCRBY hi:k n 1.5"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "HINCRBY hi:k n 9223372036854775808"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "HINCRBY hi:none n x"), "ERR value is not an integer or out of range");
    tk_expect_int(tk_cmd(c, "EXISTS hi:none"), 0);
    tk_expect_int(tk_cmd(c, "HSET hi:k max 9223372036854775807 min -9223372036854775808"), 2);
    tk_expect_error(tk_cmd(c, "HINCRBY hi:k max 1"), "ERR increment or decrement would overflow");
    tk_expect_error(tk_cmd(c, "HINCRBY hi:k min -1"), "ERR increment or decrement would overflow");
    tk_expect_str(tk_cmd(c, "HGET hi:k max"), "9223372036854775807");
    tk_expect_int(tk_cmd(c, "HINCRBY hi:k min 9223372036854775807"), -1);
    tk_expect_int(tk_cmd(c, "HINCRBY hi:k new -9223372036854775808"), LLONG_MIN);
    redisFree(c);
}

static void test_hincrbyfloat(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hf:k x 10.5"), "10.5");
    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hf:k x 0.1"), "10.6");
    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hf:k x -0.6"), "10");
    tk_expect_str(tk_cmd(c, "HGET hf:k x"), "10");
    tk_expect_int(tk_cmd(c, "HSET hf:k i 3 e 5.0e3 s abc"), 3);
    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hf:k i 1.25"), "4.25");
    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hf:k e 1"), "5001");
    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hf:k i -4.25"), "0");
    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hf:k n 1e3"), "1000");
    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hf:k n 3.0e-3"), "1000.003");
    tk_expect_error(tk_cmd(c, "HINCRBYFLOAT hf:k s 1"), "ERR hash value is not a float");
    tk_expect_error(tk_cmd(c, "HINCRBYFLOAT hf:k x abc"), "ERR value is not a valid float");
    tk_expect_error(tk_cmd(c, "HINCRBYFLOAT hf:k x nan"), "ERR value is not a valid float");
    tk_expect_error(tk_cmd(c, "HINCRBYFLOAT hf:k x inf"), "ERR value is NaN or Infinity");
    tk_expect_error(tk_cmd(c, "HINCRBYFLOAT hf:k x -inf"), "ERR value is NaN or Infinity");
    tk_expect_error(tk_cmd(c, "HINCRBYFLOAT hf:none x inf"), "ERR value is NaN or Infinity");
    tk_expect_int(tk_cmd(c, "EXISTS hf:none"), 0);
    /* a stored value near the long double limit overflows to infinity */
    tk_expect_int(tk_cmd(c, "HSET hf:k h 1e4932"), 1);
    tk_expect_error(tk_cmd(c, "HINCRBYFLOAT hf:k h 1e4932"), "ERR increment would produce NaN or Infinity");
    tk_expect_str(tk_cmd(c, "HGET hf:k h"), "1e4932");
    /* large values in fixed notation, as Redis */
    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hf:k big 1e20"), "100000000000000000000");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* HRANDFIELD                                                               */
/* ------------------------------------------------------------------------ */

static void fill(redisContext *c, const char *key, int n)
{
    for (int i = 0; i < n; i++)
        tk_expect_int(tk_cmd(c, "HSET %s f%d v%d", key, i, i), 1);
}

/* Checks a flat HRANDFIELD reply of m fields (and values when withvalues)
 * from a hash filled by fill(): every field exists, values match, and with
 * uniq no field repeats. */
static void check_randfield(redisReply *r, size_t m, int withvalues, int uniq, int n)
{
    size_t step = withvalues ? 2 : 1;
    char *seen = calloc((size_t)n, 1);

    expect_array(r, m * step);
    for (size_t i = 0; i < m * step; i += step) {
        const redisReply *f = r->element[i];
        assert_int_equal(f->type, REDIS_REPLY_STRING);
        assert_true(f->len >= 2 && f->str[0] == 'f');
        int idx = atoi(f->str + 1);
        assert_true(idx >= 0 && idx < n);
        if (uniq) {
            if (seen[idx])
                fail_msg("field %s returned twice", f->str);
            seen[idx] = 1;
        }
        if (withvalues) {
            char v[32];
            snprintf(v, sizeof(v), "v%d", idx);
            elem_str(r, i + 1, v);
        }
    }
    free(seen);
    freeReplyObject(r);
}

static void randfield_cases(redisContext *c, const char *key, int n)
{
    redisReply *r;

    r = tk_cmd(c, "HRANDFIELD %s", key);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_true(r->str[0] == 'f' && atoi(r->str + 1) < n);
    freeReplyObject(r);
    int counts[] = { 1, 2, n / 4, n / 2, n - 1, n, n + 10 };
    for (int i = 0; i < 7; i++) {
        int k = counts[i];
        size_t m = (size_t)(k < n ? k : n);
        check_randfield(tk_cmd(c, "HRANDFIELD %s %d", key, k), m, 0, 1, n);
        check_randfield(tk_cmd(c, "HRANDFIELD %s %d WITHVALUES", key, k), m, 1, 1, n);
        check_randfield(tk_cmd(c, "HRANDFIELD %s %d", key, -k), (size_t)k, 0, 0, n);
        check_randfield(tk_cmd(c, "HRANDFIELD %s %d withvalues", key, -k), (size_t)k, 1, 0, n);
    }
    freeReplyObject(expect_array(tk_cmd(c, "HRANDFIELD %s 0", key), 0));
    freeReplyObject(expect_array(tk_cmd(c, "HRANDFIELD %s 0 WITHVALUES", key), 0));
    /* a negative count larger than the hash repeats fields */
    r = expect_array(tk_cmd(c, "HRANDFIELD %s -%d", key, 3 * n), (size_t)(3 * n));
    freeReplyObject(r);
    /* all fields, each once, when count >= size */
    r = expect_array(tk_cmd(c, "HRANDFIELD %s %d", key, n), (size_t)n);
    check_randfield(r, (size_t)n, 0, 1, n);
}

static void test_hrandfield_listpack_and_hashtable(void **state)
{
    redisContext *c = tk_connect(*state);

    fill(c, "hr:small", 20);
    expect_encoding(c, "hr:small", "listpack");
    randfield_cases(c, "hr:small", 20);
    fill(c, "hr:big", BIG);
    expect_encoding(c, "hr:big", "hashtable");
    randfield_cases(c, "hr:big", BIG);
    /* a single field */
    fill(c, "hr:one", 1);
    randfield_cases(c, "hr:one", 1);
    redisFree(c);
}

static void test_hrandfield_reaches_every_field(void **state)
{
    redisContext *c = tk_connect(*state);
    int hit[30] = { 0 };

    fill(c, "hr:reach", 30);
    for (int i = 0; i < 300; i++) {
        redisReply *r = tk_cmd(c, "HRANDFIELD hr:reach");
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        hit[atoi(r->str + 1)]++;
        freeReplyObject(r);
    }
    for (int i = 0; i < 30; i++)
        assert_true(hit[i] > 0);
    redisFree(c);
}

static void test_hrandfield_errors_and_missing_key(void **state)
{
    redisContext *c = tk_connect(*state);

    fill(c, "hre:k", 1);
    tk_expect_nil(tk_cmd(c, "HRANDFIELD hre:none"));
    freeReplyObject(expect_array(tk_cmd(c, "HRANDFIELD hre:none 5"), 0));
    freeReplyObject(expect_array(tk_cmd(c, "HRANDFIELD hre:none -5 WITHVALUES"), 0));
    tk_expect_error(tk_cmd(c, "HRANDFIELD hre:k x"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "HRANDFIELD hre:none x"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "HRANDFIELD hre:k 1 foo"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "HRANDFIELD hre:none 1 foo"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "HRANDFIELD hre:k 1 withvalues x"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "HRANDFIELD hre:k -9223372036854775808"),
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    tk_expect_error(tk_cmd(c, "HRANDFIELD hre:k 4611686018427387904 WITHVALUES"), "ERR value is out of range");
    tk_expect_error(tk_cmd(c, "HRANDFIELD hre:k -4611686018427387904 WITHVALUES"), "ERR value is out of range");
    /* the bounds themselves are fine */
    check_randfield(tk_cmd(c, "HRANDFIELD hre:k 4611686018427387903 WITHVALUES"), 1, 1, 1, 1);
    freeReplyObject(expect_array(tk_cmd(c, "HRANDFIELD hre:k 9223372036854775807"), 1));
    redisFree(c);
}

/* A huge negative count cannot build an unbounded reply: past the output
 * limit the client is closed (Redis stops at CLIENT_CLOSE_ASAP the same
 * way), and the server carries on. */
static void test_hrandfield_huge_negative_count_closes_client_at_output_limit(void **state)
{
    redisContext *c = tk_connect(*state);
    static const char cmd[] = "HRANDFIELD hrh:k -1000000000 WITHVALUES\r\n";
    int fd;

    fill(c, "hrh:k", 3);
    tk_expect_status(tk_cmd(c, "CONFIG SET client-output-buffer-limit %s", "normal 1mb 0 0"), "OK");
    fd = tk_raw_connect(*state);
    assert_int_equal(tk_raw_send(fd, cmd, sizeof(cmd) - 1), 0);
    assert_true(tk_raw_closed(fd, 20000));
    close(fd);
    tk_expect_status(tk_cmd(c, "CONFIG SET client-output-buffer-limit %s", "normal 0 0 0"), "OK");
    tk_expect_status(tk_cmd(c, "PING"), "PONG");
    tk_expect_int(tk_cmd(c, "HLEN hrh:k"), 3);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* HSCAN                                                                    */
/* ------------------------------------------------------------------------ */

/* HSCAN key cursor, then opts split on spaces. */
static redisReply *hscan_cmd(redisContext *c, const char *key, const char *cursor, const char *opts)
{
    const char *argv[16] = { "HSCAN", key, cursor };
    size_t lens[16] = { 5, strlen(key), strlen(cursor) };
    char buf[256];
    int argc = 3;

    snprintf(buf, sizeof(buf), "%s", opts);
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && argc < 16; t = strtok_r(NULL, " ", &save)) {
        argv[argc] = t;
        lens[argc++] = strlen(t);
    }
    return tk_cmdv(c, argc, argv, lens);
}

/* Runs a full HSCAN of key with extra options and marks fields seen.
 * Returns the number of calls. */
static int scan_all(redisContext *c, const char *key, const char *opts, int *seen, int n)
{
    char cursor[32] = "0";
    int calls = 0;

    do {
        redisReply *r = hscan_cmd(c, key, cursor, opts);
        expect_array(r, 2);
        assert_int_equal(r->element[0]->type, REDIS_REPLY_STRING);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        const redisReply *items = r->element[1];
        assert_int_equal(items->type, REDIS_REPLY_ARRAY);
        assert_int_equal(items->elements % 2, 0);
        for (size_t i = 0; i < items->elements; i += 2) {
            int idx = atoi(items->element[i]->str + 1);
            char v[32];
            assert_true(idx >= 0 && idx < n);
            snprintf(v, sizeof(v), "v%d", idx);
            elem_str(items, i + 1, v);
            seen[idx]++;
        }
        freeReplyObject(r);
        calls++;
        assert_true(calls < 100000);
    } while (strcmp(cursor, "0") != 0);
    return calls;
}

static void test_hscan_listpack_returns_everything_at_once(void **state)
{
    redisContext *c = tk_connect(*state);
    int seen[50] = { 0 };

    fill(c, "hsc:small", 50);
    expect_encoding(c, "hsc:small", "listpack");
    assert_int_equal(scan_all(c, "hsc:small", "COUNT 1", seen, 50), 1);
    for (int i = 0; i < 50; i++)
        assert_int_equal(seen[i], 1);
    /* any cursor: the whole pack, cursor 0 */
    redisReply *r = expect_array(tk_cmd(c, "HSCAN hsc:small 12345"), 2);
    elem_str(r, 0, "0");
    assert_int_equal(r->element[1]->elements, 100);
    freeReplyObject(r);
    redisFree(c);
}

static void test_hscan_hashtable_iterates_with_cursor(void **state)
{
    redisContext *c = tk_connect(*state);
    enum { N = 1000 };
    int *seen = calloc(N, sizeof(int));

    fill(c, "hsc:big", N);
    expect_encoding(c, "hsc:big", "hashtable");
    int calls = scan_all(c, "hsc:big", "", seen, N);
    assert_true(calls > 10);
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    memset(seen, 0, N * sizeof(int));
    assert_int_equal(scan_all(c, "hsc:big", "COUNT 100000", seen, N), 1);
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    /* MATCH filters on the field; COUNT bounds the work, not the reply */
    memset(seen, 0, N * sizeof(int));
    scan_all(c, "hsc:big", "MATCH f1?? COUNT 50", seen, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], i >= 100 && i < 200);
    memset(seen, 0, N * sizeof(int));
    scan_all(c, "hsc:big", "MATCH *", seen, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    redisFree(c);
}

static void test_hscan_match_on_listpack(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    tk_expect_int(tk_cmd(c, "HSET hsm:k apple 1 banana 2 avocado 3"), 3);
    r = expect_array(tk_cmd(c, "HSCAN hsm:k 0 MATCH a*"), 2);
    elem_str(r, 0, "0");
    expect_array(r->element[1], 4);
    elem_str(r->element[1], 0, "apple");
    elem_str(r->element[1], 1, "1");
    elem_str(r->element[1], 2, "avocado");
    elem_str(r->element[1], 3, "3");
    freeReplyObject(r);
    r = expect_array(tk_cmd(c, "HSCAN hsm:k 0 MATCH zz* COUNT 5"), 2);
    assert_int_equal(r->element[1]->elements, 0);
    freeReplyObject(r);
    redisFree(c);
}

static void test_hscan_errors(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    tk_expect_int(tk_cmd(c, "HSET hse:k a 1"), 1);
    tk_expect_error(tk_cmd(c, "HSCAN hse:k abc"), "ERR invalid cursor");
    tk_expect_error(tk_cmd(c, "HSCAN hse:k 18446744073709551616"), "ERR invalid cursor");
    tk_expect_error(tk_cmd(c, "HSCAN hse:k %s", " 1"), "ERR invalid cursor");
    tk_expect_error(tk_cmd(c, "HSCAN hse:none abc"), "ERR invalid cursor");
    tk_expect_error(tk_cmd(c, "HSCAN hse:k 0 COUNT 0"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "HSCAN hse:k 0 COUNT -1"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "HSCAN hse:k 0 COUNT x"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "HSCAN hse:k 0 MATCH"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "HSCAN hse:k 0 TYPE hash"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "HSCAN hse:k 0 FOO bar"), "ERR syntax error");
    /* the largest cursor is valid; a missing key answers before options are read */
    r = expect_array(tk_cmd(c, "HSCAN hse:k 18446744073709551615"), 2);
    elem_str(r, 0, "0");
    freeReplyObject(r);
    r = expect_array(tk_cmd(c, "HSCAN hse:none 0 COUNT 0 FOO"), 2);
    elem_str(r, 0, "0");
    assert_int_equal(r->element[1]->elements, 0);
    freeReplyObject(r);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Encodings                                                                */
/* ------------------------------------------------------------------------ */

static void test_encoding_follows_max_listpack_entries(void **state)
{
    redisContext *c = tk_connect(*state);
    char saved[32];

    snprintf(saved, sizeof(saved), "%ld", config_get(c, "hash-max-listpack-entries"));
    config_set(c, "hash-max-listpack-entries", "4");
    tk_expect_int(tk_cmd(c, "HSET he:k a 1 b 2 c 3 d 4"), 4);
    expect_encoding(c, "he:k", "listpack");
    tk_expect_int(tk_cmd(c, "HSET he:k a 5"), 0); /* overwrite at the limit */
    expect_encoding(c, "he:k", "listpack");
    tk_expect_int(tk_cmd(c, "HSET he:k e 5"), 1);
    expect_encoding(c, "he:k", "hashtable");
    tk_expect_int(tk_cmd(c, "HDEL he:k a b c d"), 4);
    expect_encoding(c, "he:k", "hashtable");
    tk_expect_str(tk_cmd(c, "HGET he:k e"), "5");
    /* one HSET of many pairs with repeats counts distinct fields (Redis 7.0) */
    tk_expect_int(tk_cmd(c, "HSET he:dup a 1 a 2 a 3 a 4 a 5 a 6"), 1);
    expect_encoding(c, "he:dup", "listpack");
    tk_expect_int(tk_cmd(c, "HSET he:many a 1 b 2 c 3 d 4 e 5"), 5);
    expect_encoding(c, "he:many", "hashtable");
    /* HINCRBY and HSETNX convert as well */
    tk_expect_int(tk_cmd(c, "HSET he:inc a 1 b 2 c 3 d 4"), 4);
    tk_expect_int(tk_cmd(c, "HINCRBY he:inc e 1"), 1);
    expect_encoding(c, "he:inc", "hashtable");
    tk_expect_int(tk_cmd(c, "HSET he:nx a 1 b 2 c 3 d 4"), 4);
    tk_expect_int(tk_cmd(c, "HSETNX he:nx e 1"), 1);
    expect_encoding(c, "he:nx", "hashtable");
    config_set(c, "hash-max-listpack-entries", "0");
    tk_expect_int(tk_cmd(c, "HSET he:zero a 1"), 1);
    expect_encoding(c, "he:zero", "hashtable");
    config_set(c, "hash-max-listpack-entries", saved);
    /* the limit in force is exact: at it a pack, one more a table */
    long lim = config_get(c, "hash-max-listpack-entries");
    fill(c, "he:def", (int)lim);
    expect_encoding(c, "he:def", "listpack");
    tk_expect_int(tk_cmd(c, "HSET he:def x y"), 1);
    expect_encoding(c, "he:def", "hashtable");
    redisFree(c);
}

/* Redis 7's defaults: hash-max-listpack-entries 512, hash-max-listpack-value
 * 64 (and the old ziplist names as aliases). */
static void test_default_thresholds_are_redis_defaults(void **state)
{
    redisContext *c = tk_connect(*state);

    assert_int_equal(config_get(c, "hash-max-listpack-entries"), 512);
    assert_int_equal(config_get(c, "hash-max-listpack-value"), 64);
    redisFree(c);
}

static void test_encoding_follows_max_listpack_value(void **state)
{
    redisContext *c = tk_connect(*state);
    char saved[32];

    snprintf(saved, sizeof(saved), "%ld", config_get(c, "hash-max-listpack-value"));
    config_set(c, "hash-max-listpack-value", "4");
    tk_expect_int(tk_cmd(c, "HSET hv:k abcd abcd"), 1);
    expect_encoding(c, "hv:k", "listpack");
    tk_expect_int(tk_cmd(c, "HSET hv:k x abcde"), 1); /* a value one byte over */
    expect_encoding(c, "hv:k", "hashtable");
    tk_expect_int(tk_cmd(c, "HSET hv:f abcde x"), 1); /* a field one byte over */
    expect_encoding(c, "hv:f", "hashtable");
    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hv:fl x 1.2345"), "1.2345"); /* the result is the value */
    expect_encoding(c, "hv:fl", "hashtable");
    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hv:fl2 x 1.5"), "1.5");
    expect_encoding(c, "hv:fl2", "listpack");
    tk_expect_int(tk_cmd(c, "HSETNX hv:nx abcdefg 1"), 1);
    expect_encoding(c, "hv:nx", "hashtable");
    tk_expect_int(tk_cmd(c, "HINCRBY hv:inc abcdefg 1"), 1); /* a long field */
    expect_encoding(c, "hv:inc", "hashtable");
    tk_expect_int(tk_cmd(c, "HINCRBY hv:inc2 x 12345"), 12345); /* 5 digits */
    expect_encoding(c, "hv:inc2", "hashtable");
    config_set(c, "hash-max-listpack-value", saved);
    assert_int_equal(config_get(c, "hash-max-listpack-value"), 64);
    tk_expect_int(tk_cmd(c, "HSET hv:def f %s", "0123456789012345678901234567890123456789012345678901234567890123"), 1);
    expect_encoding(c, "hv:def", "listpack");
    tk_expect_int(tk_cmd(c, "HSET hv:def g %s", "01234567890123456789012345678901234567890123456789012345678901234"),
                  1);
    expect_encoding(c, "hv:def", "hashtable");
    tk_expect_str(tk_cmd(c, "HGET hv:def f"), "0123456789012345678901234567890123456789012345678901234567890123");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Generic commands on hashes                                               */
/* ------------------------------------------------------------------------ */

static void test_type_copy_rename_scan_type_on_hashes(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    fill(c, "hg:{1}small", 5);
    fill(c, "hg:{1}big", BIG);
    tk_expect_status(tk_cmd(c, "TYPE hg:{1}small"), "hash");
    tk_expect_status(tk_cmd(c, "TYPE hg:{1}big"), "hash");
    /* COPY: a deep, independent copy in the same encoding */
    tk_expect_int(tk_cmd(c, "COPY hg:{1}small hg:{1}small2"), 1);
    tk_expect_int(tk_cmd(c, "COPY hg:{1}big hg:{1}big2"), 1);
    expect_encoding(c, "hg:{1}small2", "listpack");
    expect_encoding(c, "hg:{1}big2", "hashtable");
    tk_expect_int(tk_cmd(c, "HSET hg:{1}small2 f0 changed"), 0);
    tk_expect_int(tk_cmd(c, "HSET hg:{1}big2 f0 changed"), 0);
    tk_expect_str(tk_cmd(c, "HGET hg:{1}small f0"), "v0");
    tk_expect_str(tk_cmd(c, "HGET hg:{1}big f0"), "v0");
    tk_expect_int(tk_cmd(c, "HLEN hg:{1}big2"), BIG);
    tk_expect_int(tk_cmd(c, "COPY hg:{1}small hg:{1}big2"), 0);
    tk_expect_int(tk_cmd(c, "COPY hg:{1}small hg:{1}big2 REPLACE"), 1);
    tk_expect_int(tk_cmd(c, "HLEN hg:{1}big2"), 5);
    /* RENAME keeps the hash */
    tk_expect_status(tk_cmd(c, "RENAME hg:{1}big hg:{1}moved"), "OK");
    tk_expect_int(tk_cmd(c, "EXISTS hg:{1}big"), 0);
    tk_expect_int(tk_cmd(c, "HLEN hg:{1}moved"), BIG);
    tk_expect_str(tk_cmd(c, "HGET hg:{1}moved f599"), "v599");
    expect_encoding(c, "hg:{1}moved", "hashtable");
    /* SCAN TYPE hash finds them, and no string */
    tk_expect_status(tk_cmd(c, "SET hg:{1}str x"), "OK");
    int found = 0;
    char cursor[32] = "0";
    do {
        r = tk_cmd(c, "SCAN %s MATCH hg:* TYPE hash COUNT 100", cursor);
        expect_array(r, 2);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            assert_string_not_equal(r->element[1]->element[i]->str, "hg:{1}str");
            found++;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    assert_int_equal(found, 4); /* small, small2, big2, moved */
    /* DEL and EXISTS */
    tk_expect_int(tk_cmd(c, "DEL hg:{1}small hg:{1}small2"), 2);
    tk_expect_int(tk_cmd(c, "EXISTS hg:{1}small"), 0);
    redisFree(c);
}

static void test_expire_on_a_hash(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "HSET hx:k a 1"), 1);
    tk_expect_int(tk_cmd(c, "PEXPIRE hx:k 100000"), 1);
    tk_expect_int(tk_cmd(c, "HSET hx:k b 2"), 1);
    tk_expect_int(tk_cmd(c, "HINCRBY hx:k c 1"), 1);
    tk_expect_int(tk_cmd(c, "HDEL hx:k a"), 1);
    redisReply *r = tk_cmd(c, "PTTL hx:k");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_true(r->integer > 90000); /* writes keep the TTL */
    freeReplyObject(r);
    tk_expect_int(tk_cmd(c, "PEXPIRE hx:k 1"), 1);
    usleep(20000);
    tk_expect_int(tk_cmd(c, "HLEN hx:k"), 0);
    tk_expect_int(tk_cmd(c, "HSET hx:k z 1"), 1); /* a fresh hash, no TTL */
    tk_expect_int(tk_cmd(c, "HLEN hx:k"), 1);
    tk_expect_int(tk_cmd(c, "TTL hx:k"), -1);
    redisFree(c);
}

static void test_memory_usage_grows_with_the_hash(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;
    long long small, big;

    fill(c, "hmem:k", 10);
    r = tk_cmd(c, "MEMORY USAGE hmem:k");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    small = r->integer;
    freeReplyObject(r);
    assert_true(small > 60 && small < 400);
    fill(c, "hmem:big", 1000);
    r = tk_cmd(c, "MEMORY USAGE hmem:big");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    big = r->integer;
    freeReplyObject(r);
    assert_true(big > 1000 * 20);
    tk_expect_nil(tk_cmd(c, "MEMORY USAGE hmem:none"));
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Errors, counters                                                         */
/* ------------------------------------------------------------------------ */

static void test_wrongtype_both_ways(void **state)
{
    redisContext *c = tk_connect(*state);
    static const char *const cmds[] = {
        "HSET hw:str f v",        "HSETNX hw:str f v", "HGET hw:str f",       "HMSET hw:str f v",
        "HMGET hw:str f",         "HDEL hw:str f",     "HEXISTS hw:str f",    "HLEN hw:str",
        "HKEYS hw:str",           "HVALS hw:str",      "HGETALL hw:str",      "HINCRBY hw:str f 1",
        "HINCRBYFLOAT hw:str f 1", "HSTRLEN hw:str f", "HRANDFIELD hw:str",   "HRANDFIELD hw:str 2",
        "HSCAN hw:str 0",
    };

    tk_expect_status(tk_cmd(c, "SET hw:str x"), "OK");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        tk_expect_error(tk_cmd(c, cmds[i]), "WRONGTYPE Operation against a key holding the wrong kind of value");
    tk_expect_str(tk_cmd(c, "GET hw:str"), "x");
    /* argument errors come first */
    tk_expect_error(tk_cmd(c, "HINCRBY hw:str f x"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "HINCRBYFLOAT hw:str f x"), "ERR value is not a valid float");
    tk_expect_error(tk_cmd(c, "HRANDFIELD hw:str x"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "HSCAN hw:str x"), "ERR invalid cursor");
    /* string commands on a hash */
    tk_expect_int(tk_cmd(c, "HSET hw:h f v"), 1);
    tk_expect_error(tk_cmd(c, "GET hw:h"), "WRONGTYPE");
    tk_expect_error(tk_cmd(c, "INCR hw:h"), "WRONGTYPE");
    tk_expect_error(tk_cmd(c, "APPEND hw:h x"), "WRONGTYPE");
    tk_expect_str(tk_cmd(c, "HGET hw:h f"), "v");
    redisFree(c);
}

static void test_wrong_arity_errors(void **state)
{
    redisContext *c = tk_connect(*state);
    static const char *const cmds[][2] = {
        { "HSET hz:k f", "hset" },         { "HSETNX hz:k f", "hsetnx" },     { "HGET hz:k", "hget" },
        { "HMSET hz:k", "hmset" },         { "HMGET hz:k", "hmget" },         { "HDEL hz:k", "hdel" },
        { "HEXISTS hz:k", "hexists" },     { "HLEN", "hlen" },                { "HKEYS", "hkeys" },
        { "HVALS hz:k x", "hvals" },       { "HGETALL", "hgetall" },          { "HINCRBY hz:k f", "hincrby" },
        { "HINCRBYFLOAT hz:k f", "hincrbyfloat" }, { "HSTRLEN hz:k", "hstrlen" }, { "HRANDFIELD", "hrandfield" },
        { "HSCAN hz:k", "hscan" },         { "HSETNX hz:k f v x", "hsetnx" }, { "HLEN a b", "hlen" },
    };

    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        char want[128];
        snprintf(want, sizeof(want), "ERR wrong number of arguments for '%s' command", cmds[i][1]);
        tk_expect_error(tk_cmd(c, cmds[i][0]), want);
    }
    redisFree(c);
}

static void test_read_commands_count_hits_and_misses(void **state)
{
    redisContext *c = tk_connect(*state);
    static const char *const reads[] = {
        "HGET %s f",    "HMGET %s f g", "HEXISTS %s f", "HLEN %s",           "HSTRLEN %s f",
        "HKEYS %s",     "HVALS %s",     "HGETALL %s",   "HRANDFIELD %s",     "HRANDFIELD %s 2",
        "HSCAN %s 0",
    };
    size_t n = sizeof(reads) / sizeof(reads[0]);

    tk_expect_int(tk_cmd(c, "HSET hcnt:k f v"), 1);
    long long h0 = tk_info_ll(c, "keyspace_hits"), m0 = tk_info_ll(c, "keyspace_misses");
    for (size_t i = 0; i < n; i++) {
        freeReplyObject(tk_cmd(c, reads[i], "hcnt:k"));
        freeReplyObject(tk_cmd(c, reads[i], "hcnt:none"));
    }
    long long h1 = tk_info_ll(c, "keyspace_hits"), m1 = tk_info_ll(c, "keyspace_misses");
    assert_int_equal(h1 - h0, (long long)n);
    assert_int_equal(m1 - m0, (long long)n);
    /* writes count nothing */
    tk_expect_int(tk_cmd(c, "HSET hcnt:k g w"), 1);
    tk_expect_int(tk_cmd(c, "HDEL hcnt:none g"), 0);
    tk_expect_int(tk_cmd(c, "HINCRBY hcnt:k n 1"), 1);
    tk_expect_str(tk_cmd(c, "HINCRBYFLOAT hcnt:k x 1"), "1");
    tk_expect_int(tk_cmd(c, "HSETNX hcnt:k g w"), 0);
    assert_int_equal(tk_info_ll(c, "keyspace_hits"), h1);
    assert_int_equal(tk_info_ll(c, "keyspace_misses"), m1);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Concurrency                                                              */
/* ------------------------------------------------------------------------ */

enum { CONC_CLIENTS = 6, CONC_OPS = 1500 };

struct conc_arg {
    const struct tk_server *s;
    int id;
    int failures;
};

static void *conc_worker(void *p)
{
    struct conc_arg *a = p;
    struct timeval tv = { 10, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", a->s->port, tv);

    if (!c || c->err) {
        a->failures++;
        if (c)
            redisFree(c);
        return NULL;
    }
    for (int i = 0; i < CONC_OPS; i++) {
        redisReply *r = redisCommand(c, "HINCRBY hconc:k counter 1");
        if (!r || r->type != REDIS_REPLY_INTEGER)
            a->failures++;
        if (r)
            freeReplyObject(r);
        /* each client also grows its own fields, crossing the limit */
        r = redisCommand(c, "HSET hconc:k c%d:%d x", a->id, i % 100);
        if (!r || r->type != REDIS_REPLY_INTEGER)
            a->failures++;
        if (r)
            freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

static void test_concurrent_hincrby_loses_no_update(void **state)
{
    redisContext *c = tk_connect(*state);
    pthread_t th[CONC_CLIENTS];
    struct conc_arg args[CONC_CLIENTS];

    for (int i = 0; i < CONC_CLIENTS; i++) {
        args[i] = (struct conc_arg){ *state, i, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, conc_worker, &args[i]), 0);
    }
    for (int i = 0; i < CONC_CLIENTS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    tk_expect_str(tk_cmd(c, "HGET hconc:k counter"), "9000");
    tk_expect_int(tk_cmd(c, "HLEN hconc:k"), 1 + CONC_CLIENTS * 100);
    expect_encoding(c, "hconc:k", "hashtable");
    redisFree(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hset_counts_new_fields_and_hget_reads_them),
        cmocka_unit_test(test_hset_binary_and_empty_strings),
        cmocka_unit_test(test_hset_hmset_odd_arguments_are_arity_errors),
        cmocka_unit_test(test_hmset_replies_ok),
        cmocka_unit_test(test_hsetnx_sets_only_absent_fields),
        cmocka_unit_test(test_hmget_nil_for_absent_fields_and_keys),
        cmocka_unit_test(test_hexists_hlen_hstrlen),
        cmocka_unit_test(test_hkeys_hvals_hgetall_resp2),
        cmocka_unit_test(test_hgetall_of_a_large_hash_returns_every_pair),
        cmocka_unit_test(test_resp3_reply_shapes),
        cmocka_unit_test(test_resp3_hrandfield_negative_count_nests_pairs),
        cmocka_unit_test(test_hdel_counts_and_removes_emptied_key),
        cmocka_unit_test(test_hincrby),
        cmocka_unit_test(test_hincrbyfloat),
        cmocka_unit_test(test_hrandfield_listpack_and_hashtable),
        cmocka_unit_test(test_hrandfield_reaches_every_field),
        cmocka_unit_test(test_hrandfield_errors_and_missing_key),
        cmocka_unit_test(test_hrandfield_huge_negative_count_closes_client_at_output_limit),
        cmocka_unit_test(test_hscan_listpack_returns_everything_at_once),
        cmocka_unit_test(test_hscan_hashtable_iterates_with_cursor),
        cmocka_unit_test(test_hscan_match_on_listpack),
        cmocka_unit_test(test_hscan_errors),
        cmocka_unit_test(test_encoding_follows_max_listpack_entries),
        cmocka_unit_test(test_encoding_follows_max_listpack_value),
        cmocka_unit_test(test_default_thresholds_are_redis_defaults),
        cmocka_unit_test(test_type_copy_rename_scan_type_on_hashes),
        cmocka_unit_test(test_expire_on_a_hash),
        cmocka_unit_test(test_memory_usage_grows_with_the_hash),
        cmocka_unit_test(test_wrongtype_both_ways),
        cmocka_unit_test(test_wrong_arity_errors),
        cmocka_unit_test(test_read_commands_count_hits_and_misses),
        cmocka_unit_test(test_concurrent_hincrby_loses_no_update),
    };
    return cmocka_run_group_tests_name("hash", tests, group_setup, group_teardown) ? 1 : 0;
}
