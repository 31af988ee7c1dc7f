/*
 * test_strings.c -- the string command family against a real strata-server,
 * through hiredis: every command and every option of GET SET SETNX SETEX
 * PSETEX GETSET GETDEL GETEX MGET MSET MSETNX APPEND STRLEN GETRANGE SUBSTR
 * SETRANGE INCR DECR INCRBY DECRBY INCRBYFLOAT, their edge cases and their
 * exact Redis 7 error texts (each expected reply was checked against
 * redis-server 7.0.15), plus the keyspace_hits / keyspace_misses counters of
 * INFO that read commands move.
 *
 * Not covered here: WRONGTYPE (needs a second data type; add it with the
 * first one), OBJECT ENCODING of strings (cmd_keys' tests).
 *
 * One server (group setup) serves every test; each test uses its own keys
 * (prefixed with the test's topic), so tests are independent of order.
 */
#include "testkit.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

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

    /* cmocka runs the teardown even when the setup failed */
    if (!s)
        return -1;
    return tk_server_stop(s) == 0 ? 0 : -1;
}

static long long now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* Asserts lo <= integer reply <= hi; frees the reply. */
static void expect_int_between(redisReply *r, long long lo, long long hi)
{
    if (r->type != REDIS_REPLY_INTEGER || r->integer < lo || r->integer > hi) {
        long long got = r->type == REDIS_REPLY_INTEGER ? r->integer : LLONG_MIN;
        int type = r->type;

        freeReplyObject(r);
        fail_msg("expected an integer in [%lld, %lld], got type %d value %lld", lo, hi, type, got);
    }
    freeReplyObject(r);
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

/* Asserts an array reply of n elements; returns it (caller frees). */
static redisReply *expect_array(redisReply *r, size_t n)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        int type = r->type;

        freeReplyObject(r);
        fail_msg("expected an array of %zu, got type %d", n, type);
    }
    return r;
}

/* ------------------------------------------------------------------------ */
/* GET / SET                                                                */
/* ------------------------------------------------------------------------ */

static void test_set_then_get_returns_value(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET s:k hello"), "OK");
    tk_expect_str(tk_cmd(c, "GET s:k"), "hello");
    tk_expect_status(tk_cmd(c, "SET s:k world"), "OK");
    tk_expect_str(tk_cmd(c, "GET s:k"), "world");
    tk_expect_status(tk_cmd(c, "SET s:empty %s", ""), "OK");
    tk_expect_str(tk_cmd(c, "GET s:empty"), "");
    tk_expect_status(tk_cmd(c, "SET s:int 12345"), "OK");
    tk_expect_str(tk_cmd(c, "GET s:int"), "12345");
    tk_expect_status(tk_cmd(c, "SET s:neg -9223372036854775808"), "OK");
    tk_expect_str(tk_cmd(c, "GET s:neg"), "-9223372036854775808");
    /* not canonical integers: kept byte for byte */
    tk_expect_status(tk_cmd(c, "SET s:lead 007"), "OK");
    tk_expect_str(tk_cmd(c, "GET s:lead"), "007");
    tk_expect_status(tk_cmd(c, "SET s:plus +1"), "OK");
    tk_expect_str(tk_cmd(c, "GET s:plus"), "+1");
    redisFree(c);
}

static void test_get_missing_key_is_nil(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_nil(tk_cmd(c, "GET s:nope"));
    redisFree(c);
}

static void test_set_get_binary_safe_value(void **state)
{
    redisContext *c = tk_connect(*state);
    static const char v[] = "a\0b\r\nc\xff";

    tk_expect_status(tk_cmd(c, "SET s:bin %b", v, sizeof(v) - 1), "OK");
    expect_bin(tk_cmd(c, "GET s:bin"), v, sizeof(v) - 1);
    tk_expect_status(tk_cmd(c, "SET %b x", v, sizeof(v) - 1), "OK");
    tk_expect_str(tk_cmd(c, "GET %b", v, sizeof(v) - 1), "x");
    redisFree(c);
}

static void test_set_get_large_value(void **state)
{
    redisContext *c = tk_connect(*state);
    size_t n = 4u << 20;
    char *v = malloc(n);

    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (char)('a' + i % 26);
    tk_expect_status(tk_cmd(c, "SET s:big %b", v, n), "OK");
    expect_bin(tk_cmd(c, "GET s:big"), v, n);
    tk_expect_int(tk_cmd(c, "STRLEN s:big"), (long long)n);
    free(v);
    redisFree(c);
}

static void test_set_nx_only_when_absent(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET nx:k v1 NX"), "OK");
    tk_expect_nil(tk_cmd(c, "SET nx:k v2 NX"));
    tk_expect_str(tk_cmd(c, "GET nx:k"), "v1");
    tk_expect_nil(tk_cmd(c, "SET nx:k v2 nx nx"));
    redisFree(c);
}

static void test_set_xx_only_when_present(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_nil(tk_cmd(c, "SET xx:k v1 XX"));
    tk_expect_int(tk_cmd(c, "EXISTS xx:k"), 0);
    tk_expect_status(tk_cmd(c, "SET xx:k v1"), "OK");
    tk_expect_status(tk_cmd(c, "SET xx:k v2 xx"), "OK");
    tk_expect_str(tk_cmd(c, "GET xx:k"), "v2");
    redisFree(c);
}

static void test_set_option_conflicts_are_syntax_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "SET cf:k v NX XX"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SET cf:k v XX NX"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SET cf:k v EX 10 KEEPTTL"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SET cf:k v KEEPTTL EX 10"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SET cf:k v EX 10 PX 100"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SET cf:k v EX 1 EXAT 2"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SET cf:k v PXAT 1 PX 2"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SET cf:k v EX"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SET cf:k v PERSIST"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SET cf:k v FOO"), "ERR syntax error");
    tk_expect_int(tk_cmd(c, "EXISTS cf:k"), 0);
    redisFree(c);
}

static void test_set_options_are_case_insensitive(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "set ci:k v nX eX 100"), "OK");
    expect_int_between(tk_cmd(c, "TTL ci:k"), 99, 100);
    tk_expect_str(tk_cmd(c, "sEt ci:k v2 Xx gEt kEePtTl"), "v");
    expect_int_between(tk_cmd(c, "TTL ci:k"), 99, 100);
    redisFree(c);
}

static void test_set_ex_and_px_set_ttl(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET ex:k v EX 100"), "OK");
    expect_int_between(tk_cmd(c, "TTL ex:k"), 99, 100);
    tk_expect_status(tk_cmd(c, "SET ex:k v PX 50000"), "OK");
    expect_int_between(tk_cmd(c, "PTTL ex:k"), 49000, 50000);
    /* the last of repeated expiries wins */
    tk_expect_status(tk_cmd(c, "SET ex:k v PX 100000 PX 200000"), "OK");
    expect_int_between(tk_cmd(c, "PTTL ex:k"), 199000, 200000);
    redisFree(c);
}

static void test_set_exat_and_pxat_set_absolute_expiry(void **state)
{
    redisContext *c = tk_connect(*state);
    long long at_s = now_ms() / 1000 + 1000;
    long long at_ms = now_ms() + 500000;

    tk_expect_status(tk_cmd(c, "SET at:k v EXAT %lld", at_s), "OK");
    expect_int_between(tk_cmd(c, "TTL at:k"), 998, 1000);
    tk_expect_status(tk_cmd(c, "SET at:k v PXAT %lld", at_ms), "OK");
    expect_int_between(tk_cmd(c, "PTTL at:k"), 490000, 500000);
    redisFree(c);
}

static void test_set_exat_in_the_past_leaves_no_key(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET past:k v EXAT 1"), "OK");
    tk_expect_int(tk_cmd(c, "EXISTS past:k"), 0);
    tk_expect_nil(tk_cmd(c, "GET past:k"));
    tk_expect_status(tk_cmd(c, "SET past:k v PXAT 1000"), "OK");
    tk_expect_nil(tk_cmd(c, "GET past:k"));
    redisFree(c);
}

static void test_set_short_px_expires(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET short:k v PX 50"), "OK");
    tk_expect_str(tk_cmd(c, "GET short:k"), "v");
    sleep_ms(120);
    tk_expect_nil(tk_cmd(c, "GET short:k"));
    redisFree(c);
}

static void test_set_invalid_expire_time(void **state)
{
    redisContext *c = tk_connect(*state);
    const char *bad = "ERR invalid expire time in 'set' command";

    tk_expect_error(tk_cmd(c, "SET ie:k v EX 0"), bad);
    tk_expect_error(tk_cmd(c, "SET ie:k v EX -1"), bad);
    tk_expect_error(tk_cmd(c, "SET ie:k v PX 0"), bad);
    tk_expect_error(tk_cmd(c, "SET ie:k v EXAT 0"), bad);
    tk_expect_error(tk_cmd(c, "SET ie:k v PXAT -5"), bad);
    /* seconds * 1000 overflows; now + ms overflows */
    tk_expect_error(tk_cmd(c, "SET ie:k v EX 9223372036854775807"), bad);
    tk_expect_error(tk_cmd(c, "SET ie:k v EX 9223372036854775"), bad);
    tk_expect_error(tk_cmd(c, "SET ie:k v PX 9223372036854775807"), bad);
    tk_expect_error(tk_cmd(c, "SET ie:k v EX abc"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "SET ie:k v EX 1.5"), "ERR value is not an integer or out of range");
    tk_expect_int(tk_cmd(c, "EXISTS ie:k"), 0);
    redisFree(c);
}

static void test_set_without_ttl_option_clears_ttl(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET clr:k v EX 100"), "OK");
    tk_expect_status(tk_cmd(c, "SET clr:k v2"), "OK");
    tk_expect_int(tk_cmd(c, "TTL clr:k"), -1);
    redisFree(c);
}

static void test_set_keepttl_keeps_ttl(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET kt:k v PX 100000"), "OK");
    tk_expect_status(tk_cmd(c, "SET kt:k v2 KEEPTTL"), "OK");
    tk_expect_str(tk_cmd(c, "GET kt:k"), "v2");
    expect_int_between(tk_cmd(c, "PTTL kt:k"), 95000, 100000);
    /* a longer value that needs a new allocation keeps it too */
    tk_expect_status(tk_cmd(c, "SET kt:k %s KEEPTTL",
                            "a-much-longer-value-that-cannot-fit-in-the-old-allocation-0123456789"),
                     "OK");
    expect_int_between(tk_cmd(c, "PTTL kt:k"), 95000, 100000);
    /* KEEPTTL on a new key: no TTL */
    tk_expect_status(tk_cmd(c, "SET kt:new v KEEPTTL"), "OK");
    tk_expect_int(tk_cmd(c, "TTL kt:new"), -1);
    redisFree(c);
}

static void test_set_get_returns_old_value(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_nil(tk_cmd(c, "SET sg:k v1 GET"));
    tk_expect_str(tk_cmd(c, "GET sg:k"), "v1");
    tk_expect_str(tk_cmd(c, "SET sg:k v2 GET"), "v1");
    tk_expect_str(tk_cmd(c, "GET sg:k"), "v2");
    tk_expect_status(tk_cmd(c, "SET sg:i 42"), "OK");
    tk_expect_str(tk_cmd(c, "SET sg:i x GET"), "42");
    redisFree(c);
}

static void test_set_get_with_nx_and_xx(void **state)
{
    redisContext *c = tk_connect(*state);

    /* NX GET on an existing key: old value, nothing set */
    tk_expect_status(tk_cmd(c, "SET sgn:k v"), "OK");
    tk_expect_str(tk_cmd(c, "SET sgn:k v2 NX GET"), "v");
    tk_expect_str(tk_cmd(c, "GET sgn:k"), "v");
    /* NX GET on a missing key: nil, and set */
    tk_expect_nil(tk_cmd(c, "SET sgn:n v NX GET"));
    tk_expect_str(tk_cmd(c, "GET sgn:n"), "v");
    /* XX GET on a missing key: nil, nothing set */
    tk_expect_nil(tk_cmd(c, "SET sgn:x v XX GET"));
    tk_expect_int(tk_cmd(c, "EXISTS sgn:x"), 0);
    /* XX GET on an existing key: old value, set */
    tk_expect_str(tk_cmd(c, "SET sgn:k v3 XX GET"), "v");
    tk_expect_str(tk_cmd(c, "GET sgn:k"), "v3");
    redisFree(c);
}

static void test_set_get_with_expiry(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET sge:k v"), "OK");
    tk_expect_str(tk_cmd(c, "SET sge:k v2 GET EX 100"), "v");
    expect_int_between(tk_cmd(c, "TTL sge:k"), 99, 100);
    /* an invalid expiry is reported before anything is read or written */
    tk_expect_error(tk_cmd(c, "SET sge:k v3 GET EX 0"), "ERR invalid expire time in 'set' command");
    tk_expect_str(tk_cmd(c, "GET sge:k"), "v2");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* SETNX SETEX PSETEX GETSET GETDEL                                         */
/* ------------------------------------------------------------------------ */

static void test_setnx(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "SETNX snx:k v1"), 1);
    tk_expect_int(tk_cmd(c, "SETNX snx:k v2"), 0);
    tk_expect_str(tk_cmd(c, "GET snx:k"), "v1");
    tk_expect_error(tk_cmd(c, "SETNX snx:k"), "ERR wrong number of arguments for 'setnx' command");
    redisFree(c);
}

static void test_setex_and_psetex(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SETEX sx:k 100 v"), "OK");
    tk_expect_str(tk_cmd(c, "GET sx:k"), "v");
    expect_int_between(tk_cmd(c, "TTL sx:k"), 99, 100);
    tk_expect_status(tk_cmd(c, "PSETEX sx:p 100000 w"), "OK");
    tk_expect_str(tk_cmd(c, "GET sx:p"), "w");
    expect_int_between(tk_cmd(c, "PTTL sx:p"), 99000, 100000);
    /* SETEX replaces the TTL */
    tk_expect_status(tk_cmd(c, "SETEX sx:p 5 w2"), "OK");
    expect_int_between(tk_cmd(c, "TTL sx:p"), 4, 5);
    redisFree(c);
}

static void test_setex_invalid_expire_names_the_command(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "SETEX sxe:k 0 v"), "ERR invalid expire time in 'setex' command");
    tk_expect_error(tk_cmd(c, "SETEX sxe:k -10 v"), "ERR invalid expire time in 'setex' command");
    tk_expect_error(tk_cmd(c, "PSETEX sxe:k 0 v"), "ERR invalid expire time in 'psetex' command");
    tk_expect_error(tk_cmd(c, "SETEX sxe:k abc v"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "SETEX sxe:k 10"), "ERR wrong number of arguments for 'setex' command");
    tk_expect_int(tk_cmd(c, "EXISTS sxe:k"), 0);
    redisFree(c);
}

static void test_getset_returns_old_and_clears_ttl(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_nil(tk_cmd(c, "GETSET gs:k v1"));
    tk_expect_str(tk_cmd(c, "GET gs:k"), "v1");
    tk_expect_status(tk_cmd(c, "SET gs:k v2 EX 100"), "OK");
    tk_expect_str(tk_cmd(c, "GETSET gs:k v3"), "v2");
    tk_expect_str(tk_cmd(c, "GET gs:k"), "v3");
    tk_expect_int(tk_cmd(c, "TTL gs:k"), -1);
    tk_expect_status(tk_cmd(c, "SET gs:n 10"), "OK");
    tk_expect_int(tk_cmd(c, "INCR gs:n"), 11);
    tk_expect_str(tk_cmd(c, "GETSET gs:n 0"), "11");
    tk_expect_int(tk_cmd(c, "INCR gs:n"), 1);
    redisFree(c);
}

static void test_getdel(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_nil(tk_cmd(c, "GETDEL gd:k"));
    tk_expect_status(tk_cmd(c, "SET gd:k v EX 100"), "OK");
    tk_expect_str(tk_cmd(c, "GETDEL gd:k"), "v");
    tk_expect_int(tk_cmd(c, "EXISTS gd:k"), 0);
    tk_expect_nil(tk_cmd(c, "GETDEL gd:k"));
    tk_expect_status(tk_cmd(c, "SET gd:i 77"), "OK");
    tk_expect_str(tk_cmd(c, "GETDEL gd:i"), "77");
    tk_expect_nil(tk_cmd(c, "GET gd:i"));
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* GETEX                                                                    */
/* ------------------------------------------------------------------------ */

static void test_getex_without_options_is_get(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_nil(tk_cmd(c, "GETEX gx0:k"));
    tk_expect_status(tk_cmd(c, "SET gx0:k v EX 100"), "OK");
    tk_expect_str(tk_cmd(c, "GETEX gx0:k"), "v");
    expect_int_between(tk_cmd(c, "TTL gx0:k"), 99, 100);
    redisFree(c);
}

static void test_getex_sets_expiry(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET gx:k v"), "OK");
    tk_expect_str(tk_cmd(c, "GETEX gx:k EX 100"), "v");
    expect_int_between(tk_cmd(c, "TTL gx:k"), 99, 100);
    tk_expect_str(tk_cmd(c, "GETEX gx:k PX 200000"), "v");
    expect_int_between(tk_cmd(c, "PTTL gx:k"), 199000, 200000);
    tk_expect_str(tk_cmd(c, "GETEX gx:k EXAT %lld", now_ms() / 1000 + 300), "v");
    expect_int_between(tk_cmd(c, "TTL gx:k"), 298, 300);
    tk_expect_str(tk_cmd(c, "GETEX gx:k PXAT %lld", now_ms() + 400000), "v");
    expect_int_between(tk_cmd(c, "PTTL gx:k"), 390000, 400000);
    tk_expect_str(tk_cmd(c, "GETEX gx:k PXAT 9223372036854775807"), "v");
    expect_int_between(tk_cmd(c, "TTL gx:k"), 9000000000000000LL, LLONG_MAX / 1000);
    redisFree(c);
}

static void test_getex_persist_removes_ttl(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET gxp:k v EX 100"), "OK");
    tk_expect_str(tk_cmd(c, "GETEX gxp:k PERSIST"), "v");
    tk_expect_int(tk_cmd(c, "TTL gxp:k"), -1);
    /* on a key without TTL: no change */
    tk_expect_str(tk_cmd(c, "GETEX gxp:k persist"), "v");
    tk_expect_int(tk_cmd(c, "TTL gxp:k"), -1);
    redisFree(c);
}

static void test_getex_past_absolute_time_deletes_key(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET gxd:k v"), "OK");
    tk_expect_str(tk_cmd(c, "GETEX gxd:k EXAT 1"), "v");
    tk_expect_int(tk_cmd(c, "EXISTS gxd:k"), 0);
    tk_expect_status(tk_cmd(c, "SET gxd:k w"), "OK");
    tk_expect_str(tk_cmd(c, "GETEX gxd:k PXAT %lld", now_ms() - 1000), "w");
    tk_expect_nil(tk_cmd(c, "GET gxd:k"));
    redisFree(c);
}

static void test_getex_errors(void **state)
{
    redisContext *c = tk_connect(*state);
    const char *bad = "ERR invalid expire time in 'getex' command";

    tk_expect_status(tk_cmd(c, "SET gxe:k v"), "OK");
    tk_expect_error(tk_cmd(c, "GETEX gxe:k EX 0"), bad);
    tk_expect_error(tk_cmd(c, "GETEX gxe:k EXAT 0"), bad);
    tk_expect_error(tk_cmd(c, "GETEX gxe:k PX -1"), bad);
    tk_expect_error(tk_cmd(c, "GETEX gxe:k EX 9223372036854775"), bad);
    tk_expect_error(tk_cmd(c, "GETEX gxe:k EX abc"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "GETEX gxe:k PX 1000 PERSIST"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "GETEX gxe:k PERSIST EX 10"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "GETEX gxe:k EX 1 PX 1"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "GETEX gxe:k KEEPTTL"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "GETEX gxe:k NX"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "GETEX gxe:k EX"), "ERR syntax error");
    tk_expect_int(tk_cmd(c, "TTL gxe:k"), -1);
    /* as in Redis: a missing key answers nil before the value is checked */
    tk_expect_nil(tk_cmd(c, "GETEX gxe:nokey EX -1"));
    tk_expect_nil(tk_cmd(c, "GETEX gxe:nokey EX abc"));
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* MGET MSET MSETNX                                                         */
/* ------------------------------------------------------------------------ */

static void test_mget(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    tk_expect_status(tk_cmd(c, "MSET mg:a 1 mg:b two"), "OK");
    r = expect_array(tk_cmd(c, "MGET mg:a mg:missing mg:b mg:a"), 4);
    assert_int_equal(r->element[0]->type, REDIS_REPLY_STRING);
    assert_string_equal(r->element[0]->str, "1");
    assert_int_equal(r->element[1]->type, REDIS_REPLY_NIL);
    assert_string_equal(r->element[2]->str, "two");
    assert_string_equal(r->element[3]->str, "1");
    freeReplyObject(r);
    r = expect_array(tk_cmd(c, "MGET mg:none"), 1);
    assert_int_equal(r->element[0]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    tk_expect_error(tk_cmd(c, "MGET"), "ERR wrong number of arguments for 'mget' command");
    redisFree(c);
}

static void test_mget_many_keys_across_shards(void **state)
{
    redisContext *c = tk_connect(*state);
    enum { N = 300 };
    const char *argv[2 * N + 1];
    size_t lens[2 * N + 1];
    static char keys[N][32], vals[N][32];
    redisReply *r;

    argv[0] = "MSET";
    lens[0] = 4;
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "mgm:%d", i);
        snprintf(vals[i], sizeof(vals[i]), "val-%d", i);
        argv[1 + 2 * i] = keys[i];
        lens[1 + 2 * i] = strlen(keys[i]);
        argv[2 + 2 * i] = vals[i];
        lens[2 + 2 * i] = strlen(vals[i]);
    }
    tk_expect_status(tk_cmdv(c, 2 * N + 1, argv, lens), "OK");
    argv[0] = "MGET";
    for (int i = 0; i < N; i++) {
        argv[1 + i] = keys[i];
        lens[1 + i] = strlen(keys[i]);
    }
    r = expect_array(tk_cmdv(c, N + 1, argv, lens), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r->element[i]->type, REDIS_REPLY_STRING);
        assert_string_equal(r->element[i]->str, vals[i]);
    }
    freeReplyObject(r);
    redisFree(c);
}

static void test_mset_overwrites_and_clears_ttl(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET ms:a old EX 100"), "OK");
    tk_expect_status(tk_cmd(c, "MSET ms:a 1 ms:b 2"), "OK");
    tk_expect_str(tk_cmd(c, "GET ms:a"), "1");
    tk_expect_str(tk_cmd(c, "GET ms:b"), "2");
    tk_expect_int(tk_cmd(c, "TTL ms:a"), -1);
    /* a repeated key: the last value wins */
    tk_expect_status(tk_cmd(c, "MSET ms:d x ms:d y"), "OK");
    tk_expect_str(tk_cmd(c, "GET ms:d"), "y");
    redisFree(c);
}

static void test_mset_odd_arguments_is_arity_error(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "MSET ms:o"), "ERR wrong number of arguments for 'mset' command");
    tk_expect_error(tk_cmd(c, "MSET ms:o 1 ms:p"), "ERR wrong number of arguments for 'mset' command");
    tk_expect_error(tk_cmd(c, "MSETNX ms:o 1 ms:p"), "ERR wrong number of arguments for 'msetnx' command");
    tk_expect_int(tk_cmd(c, "EXISTS ms:o"), 0);
    redisFree(c);
}

static void test_msetnx_is_all_or_nothing(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    tk_expect_int(tk_cmd(c, "MSETNX mnx:a 1 mnx:b 2"), 1);
    tk_expect_int(tk_cmd(c, "MSETNX mnx:c 3 mnx:b 20 mnx:d 4"), 0);
    r = expect_array(tk_cmd(c, "MGET mnx:a mnx:b mnx:c mnx:d"), 4);
    assert_string_equal(r->element[0]->str, "1");
    assert_string_equal(r->element[1]->str, "2");
    assert_int_equal(r->element[2]->type, REDIS_REPLY_NIL);
    assert_int_equal(r->element[3]->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
    /* a repeated absent key: set, last value wins */
    tk_expect_int(tk_cmd(c, "MSETNX mnx:e x mnx:e y"), 1);
    tk_expect_str(tk_cmd(c, "GET mnx:e"), "y");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* APPEND STRLEN                                                            */
/* ------------------------------------------------------------------------ */

static void test_append(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "APPEND ap:k Hello"), 5);
    tk_expect_int(tk_cmd(c, "APPEND ap:k %s", " World"), 11);
    tk_expect_str(tk_cmd(c, "GET ap:k"), "Hello World");
    tk_expect_int(tk_cmd(c, "APPEND ap:k %s", ""), 11);
    tk_expect_str(tk_cmd(c, "GET ap:k"), "Hello World");
    /* empty append to a missing key creates an empty string */
    tk_expect_int(tk_cmd(c, "APPEND ap:e %s", ""), 0);
    tk_expect_int(tk_cmd(c, "EXISTS ap:e"), 1);
    tk_expect_str(tk_cmd(c, "GET ap:e"), "");
    redisFree(c);
}

static void test_append_to_integer_value(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET api:k 10"), "OK");
    tk_expect_int(tk_cmd(c, "APPEND api:k 5"), 3);
    tk_expect_str(tk_cmd(c, "GET api:k"), "105");
    tk_expect_int(tk_cmd(c, "INCR api:k"), 106);
    tk_expect_int(tk_cmd(c, "APPEND api:k x"), 4);
    tk_expect_str(tk_cmd(c, "GET api:k"), "106x");
    tk_expect_status(tk_cmd(c, "SET api:n -9223372036854775808"), "OK");
    tk_expect_int(tk_cmd(c, "APPEND api:n 0"), 21);
    tk_expect_str(tk_cmd(c, "GET api:n"), "-92233720368547758080");
    redisFree(c);
}

static void test_append_keeps_ttl(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET apt:k v EX 100"), "OK");
    tk_expect_int(tk_cmd(c, "APPEND apt:k %s", "-a-longer-tail-that-grows-the-value-past-its-allocation"), 56);
    expect_int_between(tk_cmd(c, "TTL apt:k"), 99, 100);
    redisFree(c);
}

static void test_append_grows_binary_safely(void **state)
{
    redisContext *c = tk_connect(*state);
    char expect[4096];
    size_t n = 0;

    for (int i = 0; i < 256; i++) {
        char piece[16];
        size_t pl = (size_t)snprintf(piece, sizeof(piece), "%c%d,", '\0', i);

        memcpy(expect + n, piece, pl);
        n += pl;
        tk_expect_int(tk_cmd(c, "APPEND apg:k %b", piece, pl), (long long)n);
    }
    expect_bin(tk_cmd(c, "GET apg:k"), expect, n);
    redisFree(c);
}

static void test_strlen(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "STRLEN sl:missing"), 0);
    tk_expect_status(tk_cmd(c, "SET sl:k %s", "Hello world"), "OK");
    tk_expect_int(tk_cmd(c, "STRLEN sl:k"), 11);
    tk_expect_status(tk_cmd(c, "SET sl:i -12345"), "OK");
    tk_expect_int(tk_cmd(c, "STRLEN sl:i"), 6);
    tk_expect_status(tk_cmd(c, "SET sl:e %s", ""), "OK");
    tk_expect_int(tk_cmd(c, "STRLEN sl:e"), 0);
    tk_expect_status(tk_cmd(c, "SET sl:b %b", "a\0b", (size_t)3), "OK");
    tk_expect_int(tk_cmd(c, "STRLEN sl:b"), 3);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* GETRANGE SUBSTR SETRANGE                                                 */
/* ------------------------------------------------------------------------ */

static void test_getrange_indexes(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET gr:k %s", "This is a string"), "OK");
    tk_expect_str(tk_cmd(c, "GETRANGE gr:k 0 3"), "This");
    tk_expect_str(tk_cmd(c, "GETRANGE gr:k -3 -1"), "ing");
    tk_expect_str(tk_cmd(c, "GETRANGE gr:k 0 -1"), "This is a string");
    tk_expect_str(tk_cmd(c, "GETRANGE gr:k 10 100"), "string");
    tk_expect_str(tk_cmd(c, "GETRANGE gr:k 5 5"), "i");
    redisFree(c);
}

static void test_getrange_out_of_range_indexes(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET gro:k abc"), "OK");
    tk_expect_str(tk_cmd(c, "GETRANGE gro:k -100 100"), "abc");
    tk_expect_str(tk_cmd(c, "GETRANGE gro:k 0 -100"), "a");
    tk_expect_str(tk_cmd(c, "GETRANGE gro:k -1 -5"), "");
    tk_expect_str(tk_cmd(c, "GETRANGE gro:k 5 100"), "");
    tk_expect_str(tk_cmd(c, "GETRANGE gro:k 2 1"), "");
    tk_expect_str(tk_cmd(c, "GETRANGE gro:k -1 0"), "");
    tk_expect_str(tk_cmd(c, "GETRANGE gro:k -9223372036854775808 9223372036854775807"), "abc");
    tk_expect_str(tk_cmd(c, "GETRANGE gro:missing 0 -1"), "");
    tk_expect_status(tk_cmd(c, "SET gro:e %s", ""), "OK");
    tk_expect_str(tk_cmd(c, "GETRANGE gro:e 0 -1"), "");
    redisFree(c);
}

static void test_getrange_on_integer_value(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET gri:k 1234567"), "OK");
    tk_expect_str(tk_cmd(c, "GETRANGE gri:k 0 2"), "123");
    tk_expect_str(tk_cmd(c, "GETRANGE gri:k -2 -1"), "67");
    redisFree(c);
}

static void test_getrange_non_integer_index(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "GETRANGE grn:k a 1"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "GETRANGE grn:k 0 1.5"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "GETRANGE grn:k 0 9223372036854775808"),
                    "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "GETRANGE grn:k 0"), "ERR wrong number of arguments for 'getrange' command");
    redisFree(c);
}

static void test_substr_is_getrange(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET sub:k abcdef"), "OK");
    tk_expect_str(tk_cmd(c, "SUBSTR sub:k 1 3"), "bcd");
    tk_expect_str(tk_cmd(c, "SUBSTR sub:k -2 -1"), "ef");
    tk_expect_str(tk_cmd(c, "SUBSTR sub:missing 0 1"), "");
    redisFree(c);
}

static void test_setrange_overwrites_and_grows(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET sr:k %s", "Hello World"), "OK");
    tk_expect_int(tk_cmd(c, "SETRANGE sr:k 6 Redis"), 11);
    tk_expect_str(tk_cmd(c, "GET sr:k"), "Hello Redis");
    tk_expect_int(tk_cmd(c, "SETRANGE sr:k 9 XYZ"), 12);
    tk_expect_str(tk_cmd(c, "GET sr:k"), "Hello RedXYZ");
    tk_expect_int(tk_cmd(c, "SETRANGE sr:k 0 J"), 12);
    tk_expect_str(tk_cmd(c, "GET sr:k"), "Jello RedXYZ");
    redisFree(c);
}

static void test_setrange_pads_with_zero_bytes(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "SETRANGE srp:k 5 ab"), 7);
    expect_bin(tk_cmd(c, "GET srp:k"), "\0\0\0\0\0ab", 7);
    tk_expect_int(tk_cmd(c, "SETRANGE srp:k 10 c"), 11);
    expect_bin(tk_cmd(c, "GET srp:k"), "\0\0\0\0\0ab\0\0\0c", 11);
    tk_expect_int(tk_cmd(c, "SETRANGE srp:z 0 x"), 1);
    tk_expect_str(tk_cmd(c, "GET srp:z"), "x");
    redisFree(c);
}

static void test_setrange_empty_value(void **state)
{
    redisContext *c = tk_connect(*state);

    /* missing key: reply 0, no key created */
    tk_expect_int(tk_cmd(c, "SETRANGE sre:k 0 %s", ""), 0);
    tk_expect_int(tk_cmd(c, "EXISTS sre:k"), 0);
    tk_expect_int(tk_cmd(c, "SETRANGE sre:k 536870911 %s", ""), 0);
    tk_expect_int(tk_cmd(c, "EXISTS sre:k"), 0);
    /* existing key: its length, unchanged, even at a huge offset */
    tk_expect_status(tk_cmd(c, "SET sre:e abc"), "OK");
    tk_expect_int(tk_cmd(c, "SETRANGE sre:e 100 %s", ""), 3);
    tk_expect_int(tk_cmd(c, "SETRANGE sre:e 9223372036854775807 %s", ""), 3);
    tk_expect_str(tk_cmd(c, "GET sre:e"), "abc");
    redisFree(c);
}

static void test_setrange_offset_limits(void **state)
{
    redisContext *c = tk_connect(*state);
    const char *big = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

    tk_expect_error(tk_cmd(c, "SETRANGE sro:k -1 x"), "ERR offset is out of range");
    tk_expect_error(tk_cmd(c, "SETRANGE sro:k abc x"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "SETRANGE sro:k 536870912 x"), big);
    tk_expect_error(tk_cmd(c, "SETRANGE sro:k 536870911 xy"), big);
    tk_expect_error(tk_cmd(c, "SETRANGE sro:k 9223372036854775807 x"), big);
    tk_expect_int(tk_cmd(c, "EXISTS sro:k"), 0);
    tk_expect_status(tk_cmd(c, "SET sro:e abc"), "OK");
    tk_expect_error(tk_cmd(c, "SETRANGE sro:e 536870912 x"), big);
    tk_expect_error(tk_cmd(c, "SETRANGE sro:e -1 x"), "ERR offset is out of range");
    tk_expect_str(tk_cmd(c, "GET sro:e"), "abc");
    redisFree(c);
}

static void test_setrange_on_integer_value_and_keeps_ttl(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET sri:k 100 EX 100"), "OK");
    tk_expect_int(tk_cmd(c, "SETRANGE sri:k 1 9"), 3);
    tk_expect_str(tk_cmd(c, "GET sri:k"), "190");
    tk_expect_int(tk_cmd(c, "INCR sri:k"), 191);
    tk_expect_int(tk_cmd(c, "SETRANGE sri:k 3 %s", "-and-a-tail-long-enough-to-move"), 34);
    tk_expect_str(tk_cmd(c, "GET sri:k"), "191-and-a-tail-long-enough-to-move");
    expect_int_between(tk_cmd(c, "TTL sri:k"), 99, 100);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* INCR DECR INCRBY DECRBY                                                  */
/* ------------------------------------------------------------------------ */

static void test_incr_decr_basic(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "INCR ic:k"), 1);
    tk_expect_int(tk_cmd(c, "INCR ic:k"), 2);
    tk_expect_int(tk_cmd(c, "DECR ic:k"), 1);
    tk_expect_int(tk_cmd(c, "INCRBY ic:k 10"), 11);
    tk_expect_int(tk_cmd(c, "INCRBY ic:k -20"), -9);
    tk_expect_int(tk_cmd(c, "DECRBY ic:k 5"), -14);
    tk_expect_int(tk_cmd(c, "DECRBY ic:k -14"), 0);
    tk_expect_str(tk_cmd(c, "GET ic:k"), "0");
    tk_expect_int(tk_cmd(c, "DECR ic:new"), -1);
    tk_expect_int(tk_cmd(c, "DECRBY ic:new2 7"), -7);
    tk_expect_int(tk_cmd(c, "INCRBY ic:new3 -3"), -3);
    redisFree(c);
}

static void test_incr_on_string_integer_values(void **state)
{
    redisContext *c = tk_connect(*state);

    /* a raw string that holds a canonical integer (built by APPEND) */
    tk_expect_int(tk_cmd(c, "APPEND ics:k 1"), 1);
    tk_expect_int(tk_cmd(c, "APPEND ics:k 2"), 2);
    tk_expect_int(tk_cmd(c, "INCR ics:k"), 13);
    tk_expect_str(tk_cmd(c, "GET ics:k"), "13");
    tk_expect_status(tk_cmd(c, "SET ics:big 9223372036854775806"), "OK");
    tk_expect_int(tk_cmd(c, "INCR ics:big"), LLONG_MAX);
    tk_expect_str(tk_cmd(c, "GET ics:big"), "9223372036854775807");
    redisFree(c);
}

static void test_incr_non_integer_value_is_error(void **state)
{
    redisContext *c = tk_connect(*state);
    const char *notint = "ERR value is not an integer or out of range";

    tk_expect_status(tk_cmd(c, "SET icn:k abc"), "OK");
    tk_expect_error(tk_cmd(c, "INCR icn:k"), notint);
    tk_expect_error(tk_cmd(c, "DECRBY icn:k 1"), notint);
    tk_expect_status(tk_cmd(c, "SET icn:sp %s", " 1"), "OK");
    tk_expect_error(tk_cmd(c, "INCR icn:sp"), notint);
    tk_expect_status(tk_cmd(c, "SET icn:z 01"), "OK");
    tk_expect_error(tk_cmd(c, "INCR icn:z"), notint);
    tk_expect_status(tk_cmd(c, "SET icn:f 1.5"), "OK");
    tk_expect_error(tk_cmd(c, "INCR icn:f"), notint);
    tk_expect_status(tk_cmd(c, "SET icn:e %s", ""), "OK");
    tk_expect_error(tk_cmd(c, "INCR icn:e"), notint);
    tk_expect_status(tk_cmd(c, "SET icn:o 9223372036854775808"), "OK");
    tk_expect_error(tk_cmd(c, "INCR icn:o"), notint);
    tk_expect_str(tk_cmd(c, "GET icn:k"), "abc");
    /* non-integer increments */
    tk_expect_error(tk_cmd(c, "INCRBY icn:n abc"), notint);
    tk_expect_error(tk_cmd(c, "INCRBY icn:n 1.0"), notint);
    tk_expect_error(tk_cmd(c, "DECRBY icn:n 9223372036854775808"), notint);
    tk_expect_int(tk_cmd(c, "EXISTS icn:n"), 0);
    redisFree(c);
}

static void test_incr_overflow_is_error(void **state)
{
    redisContext *c = tk_connect(*state);
    const char *ovf = "ERR increment or decrement would overflow";

    tk_expect_status(tk_cmd(c, "SET ico:max 9223372036854775807"), "OK");
    tk_expect_error(tk_cmd(c, "INCR ico:max"), ovf);
    tk_expect_error(tk_cmd(c, "INCRBY ico:max 1"), ovf);
    tk_expect_str(tk_cmd(c, "GET ico:max"), "9223372036854775807");
    tk_expect_status(tk_cmd(c, "SET ico:min -9223372036854775808"), "OK");
    tk_expect_error(tk_cmd(c, "DECR ico:min"), ovf);
    tk_expect_error(tk_cmd(c, "DECRBY ico:min 1"), ovf);
    tk_expect_error(tk_cmd(c, "INCRBY ico:min -1"), ovf);
    tk_expect_str(tk_cmd(c, "GET ico:min"), "-9223372036854775808");
    tk_expect_int(tk_cmd(c, "INCRBY ico:min 9223372036854775807"), -1);
    redisFree(c);
}

static void test_decrby_llong_min_is_error(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "DECRBY idm:k -9223372036854775808"), "ERR decrement would overflow");
    tk_expect_int(tk_cmd(c, "EXISTS idm:k"), 0);
    tk_expect_int(tk_cmd(c, "INCRBY idm:k -9223372036854775808"), LLONG_MIN);
    redisFree(c);
}

static void test_incr_keeps_ttl(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET ict:k 5 EX 100"), "OK");
    tk_expect_int(tk_cmd(c, "INCR ict:k"), 6);
    expect_int_between(tk_cmd(c, "TTL ict:k"), 99, 100);
    tk_expect_status(tk_cmd(c, "SET ict:r x EX 100"), "OK");
    tk_expect_int(tk_cmd(c, "SETRANGE ict:r 0 7"), 1); /* raw "7" */
    tk_expect_int(tk_cmd(c, "INCRBY ict:r 100"), 107);
    expect_int_between(tk_cmd(c, "TTL ict:r"), 99, 100);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* INCRBYFLOAT                                                              */
/* ------------------------------------------------------------------------ */

static void test_incrbyfloat_formatting(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET if:k 10.50"), "OK");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT if:k 0.1"), "10.6");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT if:k -5"), "5.6");
    tk_expect_status(tk_cmd(c, "SET if:e 5.0e3"), "OK");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT if:e 2.0e2"), "5200");
    tk_expect_str(tk_cmd(c, "GET if:e"), "5200");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT if:n 0.1"), "0.1");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT if:n 0.2"), "0.3");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT if:z -0.0"), "0");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT if:t 1e-20"), "0");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT if:h 0x10"), "16");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT if:h -16"), "0");
    tk_expect_status(tk_cmd(c, "SET if:i 3"), "OK");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT if:i 1.5"), "4.5");
    /* the stored result is a plain string: INCR works on an integral one */
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT if:i 0.5"), "5");
    tk_expect_int(tk_cmd(c, "INCR if:i"), 6);
    redisFree(c);
}

static void test_incrbyfloat_large_value_fixed_notation(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r = tk_cmd(c, "INCRBYFLOAT ifl:k 1e308");

    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(r->len, 308);
    assert_memory_equal(r->str, "99999999999999999996685879655845645660560099847", 47);
    freeReplyObject(r);
    redisFree(c);
}

static void test_incrbyfloat_errors(void **state)
{
    redisContext *c = tk_connect(*state);
    const char *notf = "ERR value is not a valid float";
    const char *nan = "ERR increment would produce NaN or Infinity";

    tk_expect_error(tk_cmd(c, "INCRBYFLOAT ife:k inf"), nan);
    tk_expect_error(tk_cmd(c, "INCRBYFLOAT ife:k -inf"), nan);
    tk_expect_int(tk_cmd(c, "EXISTS ife:k"), 0);
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT ife:big 1e308"), "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT ife:big 1e308"), "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096");
    tk_expect_error(tk_cmd(c, "INCRBYFLOAT ife:k abc"), notf);
    tk_expect_error(tk_cmd(c, "INCRBYFLOAT ife:k nan"), notf);
    tk_expect_error(tk_cmd(c, "INCRBYFLOAT ife:k %s", " 1"), notf);
    tk_expect_error(tk_cmd(c, "INCRBYFLOAT ife:k %s", "1 "), notf);
    tk_expect_error(tk_cmd(c, "INCRBYFLOAT ife:k %s", ""), notf);
    tk_expect_status(tk_cmd(c, "SET ife:s abc"), "OK");
    tk_expect_error(tk_cmd(c, "INCRBYFLOAT ife:s 1"), notf);
    tk_expect_str(tk_cmd(c, "GET ife:s"), "abc");
    tk_expect_int(tk_cmd(c, "EXISTS ife:k"), 0);
    redisFree(c);
}

static void test_incrbyfloat_keeps_ttl(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET ift:k 1.5 EX 100"), "OK");
    tk_expect_str(tk_cmd(c, "INCRBYFLOAT ift:k 1"), "2.5");
    expect_int_between(tk_cmd(c, "TTL ift:k"), 99, 100);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Counters, arity, RESP3                                                   */
/* ------------------------------------------------------------------------ */

static void test_read_commands_count_hits_and_misses(void **state)
{
    redisContext *c = tk_connect(*state);
    long long h0, m0;

    tk_expect_status(tk_cmd(c, "SET hm:a 1"), "OK");
    tk_expect_status(tk_cmd(c, "SET hm:b 2"), "OK");
    h0 = tk_info_ll(c, "keyspace_hits");
    m0 = tk_info_ll(c, "keyspace_misses");
    tk_expect_str(tk_cmd(c, "GET hm:a"), "1");                  /* hit */
    tk_expect_nil(tk_cmd(c, "GET hm:none"));                    /* miss */
    freeReplyObject(expect_array(tk_cmd(c, "MGET hm:a hm:b hm:none"), 3)); /* 2 hits, 1 miss */
    tk_expect_int(tk_cmd(c, "STRLEN hm:a"), 1);                 /* hit */
    tk_expect_str(tk_cmd(c, "GETRANGE hm:none 0 1"), "");       /* miss */
    tk_expect_nil(tk_cmd(c, "GETEX hm:none"));                  /* miss */
    tk_expect_str(tk_cmd(c, "GETDEL hm:b"), "2");               /* hit */
    /* writes do not count */
    tk_expect_int(tk_cmd(c, "INCR hm:c"), 1);
    tk_expect_int(tk_cmd(c, "APPEND hm:c x"), 2);
    tk_expect_status(tk_cmd(c, "SET hm:a 3"), "OK");
    assert_int_equal(tk_info_ll(c, "keyspace_hits") - h0, 5);
    assert_int_equal(tk_info_ll(c, "keyspace_misses") - m0, 4);
    redisFree(c);
}

static void test_wrong_arity_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "GET"), "ERR wrong number of arguments for 'get' command");
    tk_expect_error(tk_cmd(c, "GET a b"), "ERR wrong number of arguments for 'get' command");
    tk_expect_error(tk_cmd(c, "SET a"), "ERR wrong number of arguments for 'set' command");
    tk_expect_error(tk_cmd(c, "INCR"), "ERR wrong number of arguments for 'incr' command");
    tk_expect_error(tk_cmd(c, "SETRANGE a 0"), "ERR wrong number of arguments for 'setrange' command");
    tk_expect_error(tk_cmd(c, "INCRBYFLOAT a"), "ERR wrong number of arguments for 'incrbyfloat' command");
    redisFree(c);
}

static void test_resp3_null_replies(void **state)
{
    int fd = tk_raw_connect(*state);
    char buf[4096];

    tk_raw_send(fd, "HELLO 3\r\n", 9);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 10000) > 0);
    tk_raw_expect(fd, "GET r3:none\r\n", "_\r\n");
    tk_raw_expect(fd, "MGET r3:none r3:none\r\n", "*2\r\n_\r\n_\r\n");
    tk_raw_expect(fd, "SET r3:k v NX\r\n", "+OK\r\n");
    tk_raw_expect(fd, "SET r3:k v NX\r\n", "_\r\n");
    tk_raw_expect(fd, "GET r3:k\r\n", "$1\r\nv\r\n");
    tk_raw_expect(fd, "GETRANGE r3:none 0 1\r\n", "$0\r\n\r\n");
    close(fd);
}

/* ------------------------------------------------------------------------ */
/* Atomicity across workers                                                 */
/* ------------------------------------------------------------------------ */

enum { CONC_CLIENTS = 8, CONC_OPS = 2000 };

/* A connection for a helper thread: cmocka's assertions must stay on the
 * test's thread, so failures are returned, not asserted. */
static redisContext *thread_connect(const struct tk_server *s)
{
    struct timeval tv = { 10, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);

    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    if (c)
        redisSetTimeout(c, tv);
    return c;
}

static void *incr_worker(void *arg)
{
    redisContext *c = thread_connect(arg);

    if (!c)
        return (void *)1;
    for (int i = 0; i < CONC_OPS; i++) {
        redisReply *r = redisCommand(c, "INCR conc:counter");

        if (!r || r->type != REDIS_REPLY_INTEGER) {
            if (r)
                freeReplyObject(r);
            redisFree(c);
            return (void *)1;
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

static void test_concurrent_incr_loses_no_update(void **state)
{
    pthread_t th[CONC_CLIENTS];
    redisContext *c;

    for (int i = 0; i < CONC_CLIENTS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, incr_worker, *state), 0);
    for (int i = 0; i < CONC_CLIENTS; i++) {
        void *rv;

        pthread_join(th[i], &rv);
        assert_null(rv);
    }
    c = tk_connect(*state);
    tk_expect_str(tk_cmd(c, "GET conc:counter"), "16000");
    redisFree(c);
}

struct mset_race {
    const struct tk_server *s;
    volatile int stop;
    int torn;      /* MGET saw values from two different MSETs */
    int errors;
};

static void *mset_writer(void *arg)
{
    struct mset_race *m = arg;
    redisContext *c = thread_connect(m->s);

    if (!c) {
        __atomic_add_fetch(&m->errors, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&m->stop, 1, __ATOMIC_RELEASE);
        return NULL;
    }
    for (int i = 0; i < 3000; i++) {
        redisReply *r = redisCommand(c, "MSET race:a %d race:b %d race:c %d race:d %d", i, i, i, i);

        if (!r || r->type != REDIS_REPLY_STATUS)
            __atomic_add_fetch(&m->errors, 1, __ATOMIC_RELAXED);
        if (r)
            freeReplyObject(r);
    }
    __atomic_store_n(&m->stop, 1, __ATOMIC_RELEASE);
    redisFree(c);
    return NULL;
}

static void *mget_reader(void *arg)
{
    struct mset_race *m = arg;
    redisContext *c = thread_connect(m->s);

    if (!c) {
        __atomic_add_fetch(&m->errors, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
        redisReply *r = redisCommand(c, "MGET race:a race:b race:c race:d");

        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
            __atomic_add_fetch(&m->errors, 1, __ATOMIC_RELAXED);
        } else if (r->element[0]->type == REDIS_REPLY_STRING) {
            for (int k = 1; k < 4; k++)
                if (r->element[k]->type != REDIS_REPLY_STRING ||
                    strcmp(r->element[k]->str, r->element[0]->str) != 0)
                    __atomic_add_fetch(&m->torn, 1, __ATOMIC_RELAXED);
        }
        if (r)
            freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

static void test_mset_is_atomic_for_concurrent_mget(void **state)
{
    struct mset_race m = { .s = *state };
    pthread_t w, r[3];

    assert_int_equal(pthread_create(&w, NULL, mset_writer, &m), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&r[i], NULL, mget_reader, &m), 0);
    pthread_join(w, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(r[i], NULL);
    assert_int_equal(m.errors, 0);
    assert_int_equal(m.torn, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_then_get_returns_value),
        cmocka_unit_test(test_get_missing_key_is_nil),
        cmocka_unit_test(test_set_get_binary_safe_value),
        cmocka_unit_test(test_set_get_large_value),
        cmocka_unit_test(test_set_nx_only_when_absent),
        cmocka_unit_test(test_set_xx_only_when_present),
        cmocka_unit_test(test_set_option_conflicts_are_syntax_errors),
        cmocka_unit_test(test_set_options_are_case_insensitive),
        cmocka_unit_test(test_set_ex_and_px_set_ttl),
        cmocka_unit_test(test_set_exat_and_pxat_set_absolute_expiry),
        cmocka_unit_test(test_set_exat_in_the_past_leaves_no_key),
        cmocka_unit_test(test_set_short_px_expires),
        cmocka_unit_test(test_set_invalid_expire_time),
        cmocka_unit_test(test_set_without_ttl_option_clears_ttl),
        cmocka_unit_test(test_set_keepttl_keeps_ttl),
        cmocka_unit_test(test_set_get_returns_old_value),
        cmocka_unit_test(test_set_get_with_nx_and_xx),
        cmocka_unit_test(test_set_get_with_expiry),
        cmocka_unit_test(test_setnx),
        cmocka_unit_test(test_setex_and_psetex),
        cmocka_unit_test(test_setex_invalid_expire_names_the_command),
        cmocka_unit_test(test_getset_returns_old_and_clears_ttl),
        cmocka_unit_test(test_getdel),
        cmocka_unit_test(test_getex_without_options_is_get),
        cmocka_unit_test(test_getex_sets_expiry),
        cmocka_unit_test(test_getex_persist_removes_ttl),
        cmocka_unit_test(test_getex_past_absolute_time_deletes_key),
        cmocka_unit_test(test_getex_errors),
        cmocka_unit_test(test_mget),
        cmocka_unit_test(test_mget_many_keys_across_shards),
        cmocka_unit_test(test_mset_overwrites_and_clears_ttl),
        cmocka_unit_test(test_mset_odd_arguments_is_arity_error),
        cmocka_unit_test(test_msetnx_is_all_or_nothing),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_append_to_integer_value),
        cmocka_unit_test(test_append_keeps_ttl),
        cmocka_unit_test(test_append_grows_binary_safely),
        cmocka_unit_test(test_strlen),
        cmocka_unit_test(test_getrange_indexes),
        cmocka_unit_test(test_getrange_out_of_range_indexes),
        cmocka_unit_test(test_getrange_on_integer_value),
        cmocka_unit_test(test_getrange_non_integer_index),
        cmocka_unit_test(test_substr_is_getrange),
        cmocka_unit_test(test_setrange_overwrites_and_grows),
        cmocka_unit_test(test_setrange_pads_with_zero_bytes),
        cmocka_unit_test(test_setrange_empty_value),
        cmocka_unit_test(test_setrange_offset_limits),
        cmocka_unit_test(test_setrange_on_integer_value_and_keeps_ttl),
        cmocka_unit_test(test_incr_decr_basic),
        cmocka_unit_test(test_incr_on_string_integer_values),
        cmocka_unit_test(test_incr_non_integer_value_is_error),
        cmocka_unit_test(test_incr_overflow_is_error),
        cmocka_unit_test(test_decrby_llong_min_is_error),
        cmocka_unit_test(test_incr_keeps_ttl),
        cmocka_unit_test(test_incrbyfloat_formatting),
        cmocka_unit_test(test_incrbyfloat_large_value_fixed_notation),
        cmocka_unit_test(test_incrbyfloat_errors),
        cmocka_unit_test(test_incrbyfloat_keeps_ttl),
        cmocka_unit_test(test_read_commands_count_hits_and_misses),
        cmocka_unit_test(test_wrong_arity_errors),
        cmocka_unit_test(test_resp3_null_replies),
        cmocka_unit_test(test_concurrent_incr_loses_no_update),
        cmocka_unit_test(test_mset_is_atomic_for_concurrent_mget),
    };

    return cmocka_run_group_tests_name("strings", tests, group_setup, group_teardown) ? 1 : 0;
}
