/*
 * test_zset.c -- the sorted-set command family against a real strata-server
 * (--threads 2), through hiredis (RESP2) and raw sockets (RESP3 bytes):
 * every command and option of ZADD ZINCRBY ZREM ZSCORE ZMSCORE ZCARD ZCOUNT
 * ZLEXCOUNT ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE
 * ZRANGEBYLEX ZREVRANGEBYLEX ZRANK ZREVRANK ZREMRANGEBYRANK/SCORE/LEX ZPOPMIN
 * ZPOPMAX ZMPOP BZPOPMIN BZPOPMAX BZMPOP ZRANDMEMBER ZUNION ZINTER ZDIFF
 * ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN, their errors, the
 * encoding transitions (OBJECT ENCODING), a leaderboard scenario checked
 * against a model, and blocking pops: FIFO service across worker threads,
 * timeouts, disconnects while blocked, CLIENT UNBLOCK, a concurrent
 * producer/consumer run.
 *
 * Every expected reply was checked against redis-server 7.0.15 (run with
 * STRATA_SERVER pointing at a wrapper that drops --threads), except ZRANK /
 * ZREVRANK ... WITHSCORE, which is Redis 7.2's (7.0 answers an arity error):
 * test_zrank_withscore_as_redis_7_2 fails on 7.0 by design.
 *
 * One server (group setup) serves every test; each test uses its own keys
 * (prefixed with the test's topic), so tests are independent of order.
 */
#include "testkit.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int group_setup(void **state)
{
    static struct tk_server s;
    static const char *const extra[] = { "--threads", "2", NULL };

    if (tk_server_start(&s, extra) != 0)
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

/* ------------------------------------------------------------------------ */
/* Reply helpers                                                            */
/* ------------------------------------------------------------------------ */

/* A compact text form of a RESP2 reply: bulk "abc" -> abc, integer -> :5,
 * nil -> nil, array -> [a,b], nil array -> nil, status -> +OK, error ->
 * -ERR ... */
static void repr_into(const redisReply *r, char *buf, size_t cap, size_t *o)
{
    switch (r->type) {
    case REDIS_REPLY_STRING:
        *o += (size_t)snprintf(buf + *o, cap - *o, "%.*s", (int)r->len, r->str);
        break;
    case REDIS_REPLY_INTEGER:
        *o += (size_t)snprintf(buf + *o, cap - *o, ":%lld", r->integer);
        break;
    case REDIS_REPLY_NIL:
        *o += (size_t)snprintf(buf + *o, cap - *o, "nil");
        break;
    case REDIS_REPLY_STATUS:
        *o += (size_t)snprintf(buf + *o, cap - *o, "+%s", r->str);
        break;
    case REDIS_REPLY_ERROR:
        *o += (size_t)snprintf(buf + *o, cap - *o, "-%s", r->str);
        break;
    case REDIS_REPLY_ARRAY:
        *o += (size_t)snprintf(buf + *o, cap - *o, "[");
        for (size_t i = 0; i < r->elements && *o < cap; i++) {
            if (i)
                *o += (size_t)snprintf(buf + *o, cap - *o, ",");
            repr_into(r->element[i], buf, cap, o);
        }
        if (*o < cap)
            *o += (size_t)snprintf(buf + *o, cap - *o, "]");
        break;
    default:
        *o += (size_t)snprintf(buf + *o, cap - *o, "?%d", r->type);
    }
    if (*o >= cap)
        *o = cap - 1;
}

/* Asserts the reply's text form; frees the reply. */
static void expect_repr_at(redisReply *r, const char *want, int line)
{
    char buf[65536];
    size_t o = 0;

    buf[0] = '\0';
    repr_into(r, buf, sizeof(buf), &o);
    freeReplyObject(r);
    if (strcmp(buf, want) != 0)
        fail_msg("line %d: expected %s\n          got %s", line, want, buf);
}

#define expect_repr(r, want) expect_repr_at((r), (want), __LINE__)
#define EXPECT(c, want, ...) expect_repr_at(tk_cmd((c), __VA_ARGS__), (want), __LINE__)

static long long info_ll(const struct tk_server *s, const char *field)
{
    redisContext *c = tk_connect(s);
    long long v = tk_info_ll(c, field);

    redisFree(c);
    return v;
}

/* Waits (up to 5 s) until INFO blocked_clients == n. */
static void wait_blocked(const struct tk_server *s, long long n)
{
    long long deadline = now_ms() + 5000, v = -1;

    while (now_ms() < deadline) {
        v = info_ll(s, "blocked_clients");
        if (v == n)
            return;
        sleep_ms(5);
    }
    fail_msg("blocked_clients stayed %lld, expected %lld", v, n);
}

/* Sends a command without reading its reply. */
static void send_only(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    int done = 0;

    va_start(ap, fmt);
    assert_int_equal(redisvAppendCommand(c, fmt, ap), REDIS_OK);
    va_end(ap);
    while (!done)
        assert_int_equal(redisBufferWrite(c, &done), REDIS_OK);
}

static redisReply *get_reply(redisContext *c)
{
    redisReply *r = NULL;

    assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
    assert_non_null(r);
    return r;
}

/* A raw RESP3 connection (after HELLO 3). */
static int raw3(const struct tk_server *s)
{
    int fd = tk_raw_connect(s);
    char buf[4096];

    assert_true(fd >= 0);
    tk_raw_send(fd, "HELLO 3\r\n", 9);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 10000) > 0);
    return fd;
}

/* ------------------------------------------------------------------------ */
/* ZADD ZINCRBY ZREM                                                        */
/* ------------------------------------------------------------------------ */

static void test_zadd_adds_and_updates(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":3", "ZADD add:z 1 a 2 b 3 c");
    EXPECT(c, ":0", "ZADD add:z 10 a");
    EXPECT(c, "[b,2,c,3,a,10]", "ZRANGE add:z 0 -1 WITHSCORES");
    EXPECT(c, ":1", "ZADD add:z 5 a 6 d");
    EXPECT(c, ":2", "ZADD add:z CH 7 a 8 e 8 e");
    EXPECT(c, ":0", "ZADD add:z CH 7 a");
    /* a repeated member in one call: the last score wins */
    EXPECT(c, ":1", "ZADD add:rep 1 x 2 x 3 x");
    EXPECT(c, "[x,3]", "ZRANGE add:rep 0 -1 WITHSCORES");
    EXPECT(c, "+zset", "TYPE add:z");
    redisFree(c);
}

static void test_zadd_nx_xx_gt_lt(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":0", "ZADD flags:z XX 1 a");
    EXPECT(c, ":0", "EXISTS flags:z");
    EXPECT(c, ":2", "ZADD flags:z NX 1 a 2 b");
    EXPECT(c, ":1", "ZADD flags:z NX 100 a 3 c");
    EXPECT(c, "1", "ZSCORE flags:z a");
    EXPECT(c, ":0", "ZADD flags:z XX 5 a 4 d");
    EXPECT(c, "5", "ZSCORE flags:z a");
    EXPECT(c, "nil", "ZSCORE flags:z d");
    EXPECT(c, ":1", "ZADD flags:z XX CH 6 a");
    /* GT / LT only move in their direction; new members are still added */
    EXPECT(c, ":0", "ZADD flags:z GT CH 1 a");
    EXPECT(c, ":1", "ZADD flags:z GT CH 9 a");
    EXPECT(c, ":0", "ZADD flags:z LT CH 10 a");
    EXPECT(c, ":1", "ZADD flags:z LT CH 0 a");
    EXPECT(c, ":1", "ZADD flags:z GT 1 newgt");
    EXPECT(c, ":0", "ZADD flags:z LT XX 5 nolt");
    EXPECT(c, "[a,0,newgt,1,b,2,c,3]", "ZRANGE flags:z 0 -1 WITHSCORES");
    /* option words are case-insensitive */
    EXPECT(c, ":1", "ZADD flags:z nx ch 4 lower");
    redisFree(c);
}

static void test_zadd_incr(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, "1.5", "ZADD incr:z INCR 1.5 a");
    EXPECT(c, "4", "ZADD incr:z INCR 2.5 a");
    EXPECT(c, "nil", "ZADD incr:z NX INCR 1 a");
    EXPECT(c, "nil", "ZADD incr:z XX INCR 1 nosuch");
    EXPECT(c, "nil", "ZADD incr:z GT INCR -1 a");
    EXPECT(c, "5", "ZADD incr:z GT INCR 1 a");
    EXPECT(c, "1", "ZADD incr:z XX INCR -4 a");
    EXPECT(c, "2.1000000000000001", "ZADD incr:z INCR 1.1 a");
    EXPECT(c, "inf", "ZADD incr:inf INCR inf a");
    EXPECT(c, "-ERR resulting score is not a number (NaN)", "ZADD incr:inf INCR -inf a");
    EXPECT(c, "inf", "ZSCORE incr:inf a");
    redisFree(c);
}

static void test_zadd_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, "-ERR wrong number of arguments for 'zadd' command", "ZADD err:z 1");
    EXPECT(c, "-ERR syntax error", "ZADD err:z 1 a 2");
    EXPECT(c, "-ERR syntax error", "ZADD err:z NX 1");
    EXPECT(c, "-ERR syntax error", "ZADD err:z NX XX GT");
    EXPECT(c, "-ERR XX and NX options at the same time are not compatible", "ZADD err:z NX XX 1 a");
    EXPECT(c, "-ERR GT, LT, and/or NX options at the same time are not compatible", "ZADD err:z GT LT 1 a");
    EXPECT(c, "-ERR GT, LT, and/or NX options at the same time are not compatible", "ZADD err:z NX GT 1 a");
    EXPECT(c, "-ERR GT, LT, and/or NX options at the same time are not compatible", "ZADD err:z LT NX 1 a");
    EXPECT(c, "-ERR INCR option supports a single increment-element pair", "ZADD err:z INCR 1 a 2 b");
    EXPECT(c, "-ERR value is not a valid float", "ZADD err:z abc a");
    EXPECT(c, "-ERR value is not a valid float", "ZADD err:z nan a");
    EXPECT(c, "-ERR value is not a valid float", "ZADD err:z 1 a x b");
    EXPECT(c, "-ERR value is not a valid float", "ZADD err:z %s a", " 1");
    EXPECT(c, ":0", "EXISTS err:z");
    /* scores in any strtod form Redis accepts */
    EXPECT(c, ":4", "ZADD err:ok 1e2 a -.5 b +inf c 0x10 d");
    EXPECT(c, "[b,-0.5,d,16,a,100,c,inf]", "ZRANGE err:ok 0 -1 WITHSCORES");
    redisFree(c);
}

static void test_zincrby(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, "2", "ZINCRBY zincr:z 2 m");
    EXPECT(c, "-0.5", "ZINCRBY zincr:z -2.5 m");
    EXPECT(c, "-ERR value is not a valid float", "ZINCRBY zincr:z abc m");
    EXPECT(c, "-ERR wrong number of arguments for 'zincrby' command", "ZINCRBY zincr:z 1");
    EXPECT(c, "inf", "ZINCRBY zincr:z inf m");
    EXPECT(c, "-ERR resulting score is not a number (NaN)", "ZINCRBY zincr:z -inf m");
    /* as in Redis, an option word where the increment belongs is parsed as ZADD's option */
    EXPECT(c, "-ERR syntax error", "ZINCRBY zincr:z nx m");
    EXPECT(c, "+OK", "SET zincr:str v");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value", "ZINCRBY zincr:str 1 m");
    redisFree(c);
}

static void test_zrem_deletes_emptied_key(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":3", "ZADD rem:z 1 a 2 b 3 c");
    EXPECT(c, ":2", "ZREM rem:z a b x");
    EXPECT(c, ":0", "ZREM rem:z a");
    EXPECT(c, ":1", "ZREM rem:z c c");
    EXPECT(c, ":0", "EXISTS rem:z");
    EXPECT(c, ":0", "ZREM rem:none a");
    EXPECT(c, "-ERR wrong number of arguments for 'zrem' command", "ZREM rem:z");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Reads                                                                    */
/* ------------------------------------------------------------------------ */

static void test_zscore_zmscore_zcard(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":3", "ZADD read:z 1.5 a 2 b -3 c");
    EXPECT(c, "1.5", "ZSCORE read:z a");
    EXPECT(c, "-3", "ZSCORE read:z c");
    EXPECT(c, "nil", "ZSCORE read:z x");
    EXPECT(c, "nil", "ZSCORE read:none x");
    EXPECT(c, "[1.5,nil,2]", "ZMSCORE read:z a x b");
    EXPECT(c, "[nil,nil]", "ZMSCORE read:none a b");
    EXPECT(c, ":3", "ZCARD read:z");
    EXPECT(c, ":0", "ZCARD read:none");
    /* scores print with %.17g as Redis 7.0 does */
    EXPECT(c, ":2", "ZADD read:f 0.1 a 1e20 b");
    EXPECT(c, "0.10000000000000001", "ZSCORE read:f a");
    EXPECT(c, "1e+20", "ZSCORE read:f b");
    EXPECT(c, "-ERR wrong number of arguments for 'zmscore' command", "ZMSCORE read:z");
    redisFree(c);
}

static void test_zcount_and_zlexcount(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":5", "ZADD cnt:z 1 a 2 b 3 c 4 d 5 e");
    EXPECT(c, ":5", "ZCOUNT cnt:z -inf +inf");
    EXPECT(c, ":3", "ZCOUNT cnt:z 2 4");
    EXPECT(c, ":1", "ZCOUNT cnt:z (2 (4");
    EXPECT(c, ":0", "ZCOUNT cnt:z (3 3");
    EXPECT(c, ":0", "ZCOUNT cnt:z 4 2");
    EXPECT(c, ":0", "ZCOUNT cnt:none 0 10");
    EXPECT(c, "-ERR min or max is not a float", "ZCOUNT cnt:z a b");
    EXPECT(c, "-ERR min or max is not a float", "ZCOUNT cnt:z 1 [2");
    EXPECT(c, "-ERR min or max is not a float", "ZCOUNT cnt:none x 1");
    EXPECT(c, ":5", "ZADD cnt:lex 0 a 0 b 0 c 0 d 0 e");
    EXPECT(c, ":5", "ZLEXCOUNT cnt:lex - +");
    EXPECT(c, ":2", "ZLEXCOUNT cnt:lex [b (d");
    EXPECT(c, ":3", "ZLEXCOUNT cnt:lex (b +");
    EXPECT(c, ":0", "ZLEXCOUNT cnt:lex + -");
    EXPECT(c, ":0", "ZLEXCOUNT cnt:none - +");
    EXPECT(c, "-ERR min or max not valid string range item", "ZLEXCOUNT cnt:lex a c");
    EXPECT(c, "-ERR min or max not valid string range item", "ZLEXCOUNT cnt:lex [a +inf");
    redisFree(c);
}

static void test_zrange_by_rank(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":5", "ZADD rank:z 1 a 2 b 3 c 4 d 5 e");
    EXPECT(c, "[a,b,c,d,e]", "ZRANGE rank:z 0 -1");
    EXPECT(c, "[d,4,e,5]", "ZRANGE rank:z -2 -1 WITHSCORES");
    EXPECT(c, "[a,b,c,d,e]", "ZRANGE rank:z -100 100");
    EXPECT(c, "[]", "ZRANGE rank:z 3 1");
    EXPECT(c, "[]", "ZRANGE rank:z 5 10");
    EXPECT(c, "[]", "ZRANGE rank:z -100 -50");
    EXPECT(c, "[e,d,c]", "ZRANGE rank:z 0 2 REV");
    EXPECT(c, "[b,2,a,1]", "ZREVRANGE rank:z 3 4 WITHSCORES");
    EXPECT(c, "[]", "ZRANGE rank:none 0 -1");
    redisFree(c);
}

static void test_zrange_by_score(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":5", "ZADD score:z 1 a 2 b 3 c 4 d 5 e");
    EXPECT(c, "[b,c,d,e]", "ZRANGE score:z (1 5 BYSCORE");
    EXPECT(c, "[d,4,c,3,b,2]", "ZRANGE score:z (5 (1 BYSCORE REV WITHSCORES");
    EXPECT(c, "[b,c]", "ZRANGE score:z -inf +inf BYSCORE LIMIT 1 2");
    EXPECT(c, "[]", "ZRANGE score:z -inf +inf BYSCORE LIMIT -1 2");
    EXPECT(c, "[b,c,d,e]", "ZRANGE score:z -inf +inf BYSCORE LIMIT 1 -1");
    EXPECT(c, "[]", "ZRANGE score:z -inf +inf BYSCORE LIMIT 0 0");
    EXPECT(c, "[]", "ZRANGE score:z -inf +inf BYSCORE LIMIT 5 1");
    EXPECT(c, "[b,2,c,3]", "ZRANGEBYSCORE score:z 2 3 WITHSCORES");
    EXPECT(c, "[c,d]", "ZRANGEBYSCORE score:z -inf +inf LIMIT 2 2");
    EXPECT(c, "[c,3,d,4]", "ZRANGEBYSCORE score:z -inf +inf LIMIT 2 2 WITHSCORES");
    EXPECT(c, "[e,d,c]", "ZREVRANGEBYSCORE score:z +inf (2");
    EXPECT(c, "[d,4]", "ZREVRANGEBYSCORE score:z +inf -inf WITHSCORES LIMIT 1 1");
    EXPECT(c, "[]", "ZRANGEBYSCORE score:z (3 (3");
    EXPECT(c, "[]", "ZRANGEBYSCORE score:z 5 1");
    EXPECT(c, "[]", "ZRANGEBYSCORE score:none 0 1");
    /* strtod quirks Redis keeps: an empty bound is 0, leading blanks are fine */
    EXPECT(c, ":1", "ZADD score:zero 0 z");
    EXPECT(c, "[z]", "ZRANGEBYSCORE score:zero %s %s", "", "");
    EXPECT(c, "[z]", "ZRANGEBYSCORE score:zero %s 0", " 0");
    EXPECT(c, "-ERR min or max is not a float", "ZRANGEBYSCORE score:z 1 x");
    EXPECT(c, "-ERR min or max is not a float", "ZRANGEBYSCORE score:z nan 1");
    EXPECT(c, "-ERR min or max is not a float", "ZRANGEBYSCORE score:z %s 2", "1 ");
    redisFree(c);
}

static void test_zrange_by_lex(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":6", "ZADD lex:z 0 a 0 aa 0 ab 0 b 0 ba 0 c");
    EXPECT(c, "[a,aa,ab,b,ba,c]", "ZRANGE lex:z - + BYLEX");
    EXPECT(c, "[aa,ab,b]", "ZRANGEBYLEX lex:z [aa [b");
    EXPECT(c, "[ab]", "ZRANGEBYLEX lex:z (aa (b");
    EXPECT(c, "[b,ab]", "ZRANGE lex:z + - BYLEX REV LIMIT 2 2");
    EXPECT(c, "[c,ba,b]", "ZREVRANGEBYLEX lex:z + [b");
    EXPECT(c, "[ba]", "ZREVRANGEBYLEX lex:z + [b LIMIT 1 1");
    EXPECT(c, "[]", "ZRANGEBYLEX lex:z + -");
    EXPECT(c, "[]", "ZRANGEBYLEX lex:z [b [a");
    EXPECT(c, "[a,aa,ab,b,ba,c]", "ZRANGEBYLEX lex:z [ +");
    EXPECT(c, "[]", "ZRANGEBYLEX lex:none - +");
    EXPECT(c, "-ERR min or max not valid string range item", "ZRANGEBYLEX lex:z a +");
    EXPECT(c, "-ERR min or max not valid string range item", "ZRANGEBYLEX lex:z - ++");
    EXPECT(c, "-ERR syntax error, WITHSCORES not supported in combination with BYLEX",
           "ZRANGEBYLEX lex:z - + WITHSCORES");
    EXPECT(c, "-ERR syntax error, WITHSCORES not supported in combination with BYLEX",
           "ZRANGE lex:z - + BYLEX WITHSCORES");
    redisFree(c);
}

static void test_zrange_option_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":2", "ZADD opt:z 1 a 2 b");
    EXPECT(c, "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
           "ZRANGE opt:z 0 -1 LIMIT 0 1");
    /* LIMIT x -1 counts as no LIMIT, as in Redis */
    EXPECT(c, "[a,b]", "ZRANGE opt:z 0 -1 LIMIT 5 -1");
    EXPECT(c, "-ERR syntax error", "ZRANGE opt:z 0 -1 BYSCORE BYLEX");
    EXPECT(c, "-ERR syntax error", "ZRANGE opt:z 0 -1 REV REV");
    EXPECT(c, "-ERR syntax error", "ZRANGE opt:z 0 -1 FOO");
    EXPECT(c, "-ERR syntax error", "ZRANGE opt:z 0 -1 LIMIT 1");
    EXPECT(c, "-ERR syntax error", "ZREVRANGE opt:z 0 -1 REV");
    EXPECT(c, "-ERR syntax error", "ZRANGEBYSCORE opt:z 0 1 BYLEX");
    EXPECT(c, "-ERR value is not an integer or out of range", "ZRANGE opt:z a b");
    EXPECT(c, "-ERR value is not an integer or out of range", "ZRANGE opt:z 0 1 BYSCORE LIMIT a 1");
    EXPECT(c, "-ERR min or max is not a float", "ZRANGE opt:z a b BYSCORE");
    EXPECT(c, "-ERR min or max not valid string range item", "ZRANGE opt:z a b BYLEX");
    EXPECT(c, "-ERR wrong number of arguments for 'zrange' command", "ZRANGE opt:z 0");
    EXPECT(c, "[b,a]", "zrange opt:z 0 -1 rev");
    redisFree(c);
}

static void test_zrangestore(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":5", "ZADD rs:src 1 a 2 b 3 c 4 d 5 e");
    EXPECT(c, ":3", "ZRANGESTORE rs:dst rs:src 1 3");
    EXPECT(c, "[b,2,c,3,d,4]", "ZRANGE rs:dst 0 -1 WITHSCORES");
    EXPECT(c, "listpack", "OBJECT ENCODING rs:dst");
    EXPECT(c, ":2", "ZRANGESTORE rs:dst rs:src 4 (1 BYSCORE REV LIMIT 1 2");
    EXPECT(c, "[b,2,c,3]", "ZRANGE rs:dst 0 -1 WITHSCORES");
    EXPECT(c, ":2", "ZRANGESTORE rs:dst rs:src [c [d BYLEX");
    /* an empty result deletes the destination */
    EXPECT(c, ":0", "ZRANGESTORE rs:dst rs:src 10 20");
    EXPECT(c, ":0", "EXISTS rs:dst");
    EXPECT(c, ":0", "ZRANGESTORE rs:dst rs:none 0 -1");
    /* the destination is replaced whole: any type, expiry dropped */
    EXPECT(c, "+OK", "SET rs:str v EX 100");
    EXPECT(c, ":2", "ZRANGESTORE rs:str rs:src 0 1");
    EXPECT(c, "+zset", "TYPE rs:str");
    EXPECT(c, ":-1", "TTL rs:str");
    /* source and destination may be the same key */
    EXPECT(c, ":2", "ZRANGESTORE rs:src rs:src 0 1");
    EXPECT(c, "[a,b]", "ZRANGE rs:src 0 -1");
    EXPECT(c, "-ERR syntax error", "ZRANGESTORE rs:dst rs:src 0 -1 WITHSCORES");
    EXPECT(c, "+OK", "SET rs:strsrc v");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value",
           "ZRANGESTORE rs:dst rs:strsrc 0 -1");
    redisFree(c);
}

static void test_zrank_zrevrank(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":3", "ZADD zrank:z 1 a 2 b 3 c");
    EXPECT(c, ":0", "ZRANK zrank:z a");
    EXPECT(c, ":2", "ZRANK zrank:z c");
    EXPECT(c, ":2", "ZREVRANK zrank:z a");
    EXPECT(c, "nil", "ZRANK zrank:z x");
    EXPECT(c, "nil", "ZREVRANK zrank:none a");
    redisFree(c);
}

/* Redis 7.2's ZRANK ... WITHSCORE (7.0 has no such option: fails there). */
static void test_zrank_withscore_as_redis_7_2(void **state)
{
    redisContext *c = tk_connect(*state);
    int fd;

    EXPECT(c, ":2", "ZADD zrankws:z 1.5 a 2 b");
    EXPECT(c, "[:1,1.5]", "ZREVRANK zrankws:z a WITHSCORE");
    EXPECT(c, "[:1,2]", "ZRANK zrankws:z b withscore");
    EXPECT(c, "nil", "ZRANK zrankws:z x WITHSCORE");
    EXPECT(c, "-ERR syntax error", "ZRANK zrankws:z a WITHSCORES");
    fd = raw3(*state);
    tk_raw_expect(fd, "ZRANK zrankws:z a WITHSCORE\r\n", "*2\r\n:0\r\n,1.5\r\n");
    tk_raw_expect(fd, "ZRANK zrankws:z x WITHSCORE\r\n", "_\r\n");
    close(fd);
    redisFree(c);
}

static void test_zremrange(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":5", "ZADD remr:z 1 a 2 b 3 c 4 d 5 e");
    EXPECT(c, ":2", "ZREMRANGEBYRANK remr:z 0 1");
    EXPECT(c, ":0", "ZREMRANGEBYRANK remr:z 5 10");
    EXPECT(c, ":1", "ZREMRANGEBYRANK remr:z -1 -1");
    EXPECT(c, "[c,d]", "ZRANGE remr:z 0 -1");
    EXPECT(c, ":5", "ZADD remr:s 1 a 2 b 3 c 4 d 5 e");
    EXPECT(c, ":2", "ZREMRANGEBYSCORE remr:s (1 3");
    EXPECT(c, ":0", "ZREMRANGEBYSCORE remr:s (3 (4");
    EXPECT(c, "[a,d,e]", "ZRANGE remr:s 0 -1");
    EXPECT(c, ":3", "ZREMRANGEBYSCORE remr:s -inf +inf");
    EXPECT(c, ":0", "EXISTS remr:s");
    EXPECT(c, ":4", "ZADD remr:l 0 a 0 b 0 c 0 d");
    EXPECT(c, ":2", "ZREMRANGEBYLEX remr:l (a [c");
    EXPECT(c, "[a,d]", "ZRANGE remr:l 0 -1");
    EXPECT(c, ":2", "ZREMRANGEBYLEX remr:l - +");
    EXPECT(c, ":0", "EXISTS remr:l");
    EXPECT(c, ":0", "ZREMRANGEBYRANK remr:none 0 -1");
    EXPECT(c, "-ERR value is not an integer or out of range", "ZREMRANGEBYRANK remr:z a 1");
    EXPECT(c, "-ERR min or max is not a float", "ZREMRANGEBYSCORE remr:z a 1");
    EXPECT(c, "-ERR min or max not valid string range item", "ZREMRANGEBYLEX remr:z a b");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Pops                                                                     */
/* ------------------------------------------------------------------------ */

static void test_zpopmin_zpopmax(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":5", "ZADD pop:z 1 a 2 b 3 c 4 d 5 e");
    EXPECT(c, "[a,1]", "ZPOPMIN pop:z");
    EXPECT(c, "[e,5,d,4]", "ZPOPMAX pop:z 2");
    EXPECT(c, "[]", "ZPOPMAX pop:z 0");
    EXPECT(c, "[b,2,c,3]", "ZPOPMIN pop:z 10");
    EXPECT(c, ":0", "EXISTS pop:z");
    EXPECT(c, "[]", "ZPOPMIN pop:none");
    EXPECT(c, "[]", "ZPOPMIN pop:none 3");
    EXPECT(c, "-ERR value is out of range, must be positive", "ZPOPMAX pop:z -1");
    EXPECT(c, "-ERR value is out of range, must be positive", "ZPOPMAX pop:z abc");
    EXPECT(c, "-ERR syntax error", "ZPOPMAX pop:z 1 2");
    redisFree(c);
}

static void test_zmpop(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":3", "ZADD mpop:b 1 a 2 b 3 c");
    EXPECT(c, "[mpop:b,[[a,1]]]", "ZMPOP 2 mpop:a mpop:b MIN");
    EXPECT(c, "[mpop:b,[[c,3],[b,2]]]", "ZMPOP 2 mpop:a mpop:b max COUNT 10");
    EXPECT(c, ":0", "EXISTS mpop:b");
    EXPECT(c, "nil", "ZMPOP 1 mpop:b MIN");
    EXPECT(c, "-ERR numkeys should be greater than 0", "ZMPOP 0 mpop:b MIN");
    EXPECT(c, "-ERR numkeys should be greater than 0", "ZMPOP abc mpop:b MIN");
    EXPECT(c, "-ERR syntax error", "ZMPOP 1 mpop:b FOO");
    EXPECT(c, "-ERR syntax error", "ZMPOP 5 mpop:b MIN");
    EXPECT(c, "-ERR count should be greater than 0", "ZMPOP 1 mpop:b MIN COUNT 0");
    EXPECT(c, "-ERR count should be greater than 0", "ZMPOP 1 mpop:b MIN COUNT abc");
    EXPECT(c, "-ERR syntax error", "ZMPOP 1 mpop:b MIN COUNT 1 COUNT 2");
    EXPECT(c, "-ERR syntax error", "ZMPOP 1 mpop:b MIN COUNT");
    EXPECT(c, "-ERR wrong number of arguments for 'zmpop' command", "ZMPOP 1 mpop:b");
    EXPECT(c, "+OK", "SET mpop:str v");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value", "ZMPOP 2 mpop:none mpop:str MIN");
    redisFree(c);
}

static void test_pops_resp3_shapes(void **state)
{
    redisContext *c = tk_connect(*state);
    int fd = raw3(*state);

    EXPECT(c, ":4", "ZADD pop3:z 1 a 2 b 3 c 4.5 d");
    /* the count-less form is flat; with a count, pairs are nested */
    tk_raw_expect(fd, "ZPOPMIN pop3:z\r\n", "*2\r\n$1\r\na\r\n,1\r\n");
    tk_raw_expect(fd, "ZPOPMIN pop3:z 1\r\n", "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n");
    tk_raw_expect(fd, "ZPOPMAX pop3:none\r\n", "*0\r\n");
    tk_raw_expect(fd, "ZMPOP 1 pop3:z MAX\r\n", "*2\r\n$6\r\npop3:z\r\n*1\r\n*2\r\n$1\r\nd\r\n,4.5\r\n");
    tk_raw_expect(fd, "ZMPOP 1 pop3:none MAX\r\n", "_\r\n");
    tk_raw_expect(fd, "BZPOPMIN pop3:z 0\r\n", "*3\r\n$6\r\npop3:z\r\n$1\r\nc\r\n,3\r\n");
    tk_raw_expect(fd, "BZPOPMIN pop3:z 0.01\r\n", "_\r\n");
    close(fd);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* ZRANDMEMBER, ZSCAN                                                       */
/* ------------------------------------------------------------------------ */

static int count_in(const redisReply *r, const char *m)
{
    int n = 0;

    for (size_t i = 0; i < r->elements; i++)
        n += r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, m) == 0;
    return n;
}

static void test_zrandmember(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    EXPECT(c, ":5", "ZADD rand:z 1 a 2 b 3 c 4 d 5 e");
    EXPECT(c, "nil", "ZRANDMEMBER rand:none");
    EXPECT(c, "[]", "ZRANDMEMBER rand:none 5");
    EXPECT(c, "[]", "ZRANDMEMBER rand:z 0");
    /* count >= size: the whole set (Redis 7.0 lists it from the top) */
    EXPECT(c, "[e,d,c,b,a]", "ZRANDMEMBER rand:z 5");
    EXPECT(c, "[e,5,d,4,c,3,b,2,a,1]", "ZRANDMEMBER rand:z 50 WITHSCORES");
    r = tk_cmd(c, "ZRANDMEMBER rand:z");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_true(r->len == 1 && r->str[0] >= 'a' && r->str[0] <= 'e');
    freeReplyObject(r);
    /* distinct members for a positive count */
    for (int round = 0; round < 20; round++) {
        r = tk_cmd(c, "ZRANDMEMBER rand:z 3");
        assert_int_equal(r->elements, 3);
        for (size_t i = 0; i < 3; i++)
            assert_int_equal(count_in(r, r->element[i]->str), 1);
        freeReplyObject(r);
    }
    /* repetitions for a negative count, each member drawn */
    r = tk_cmd(c, "ZRANDMEMBER rand:z -500");
    assert_int_equal(r->elements, 500);
    for (char m = 'a'; m <= 'e'; m++) {
        char s[2] = { m, 0 };
        assert_true(count_in(r, s) > 40);
    }
    freeReplyObject(r);
    r = tk_cmd(c, "ZRANDMEMBER rand:z -3 WITHSCORES");
    assert_int_equal(r->elements, 6);
    for (size_t i = 0; i < 6; i += 2)
        assert_int_equal(r->element[i + 1]->str[0] - '0', r->element[i]->str[0] - 'a' + 1);
    freeReplyObject(r);
    EXPECT(c, "-ERR syntax error", "ZRANDMEMBER rand:z 1 FOO");
    EXPECT(c, "-ERR syntax error", "ZRANDMEMBER rand:z 1 WITHSCORES 1");
    EXPECT(c, "-ERR value is not an integer or out of range", "ZRANDMEMBER rand:z abc");
    EXPECT(c, "-ERR value is out of range", "ZRANDMEMBER rand:z 9223372036854775807 WITHSCORES");
    EXPECT(c, "-ERR value is out of range", "ZRANDMEMBER rand:z -9223372036854775807 WITHSCORES");
    redisFree(c);
}

static void test_zrandmember_large_set(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;
    char cmd[64];

    for (int i = 0; i < 1000; i++) {
        snprintf(cmd, sizeof(cmd), "ZADD randbig:z %d m%d", i, i);
        freeReplyObject(tk_cmd(c, cmd));
    }
    EXPECT(c, "skiplist", "OBJECT ENCODING randbig:z");
    /* both unique strategies (count*3 > size and not) */
    for (int count = 10; count <= 900; count += 890) {
        r = tk_cmd(c, "ZRANDMEMBER randbig:z %d WITHSCORES", count);
        assert_int_equal(r->elements, (size_t)(2 * count));
        char *seen = calloc(1000, 1);
        for (size_t i = 0; i < r->elements; i += 2) {
            int id = atoi(r->element[i]->str + 1);
            assert_true(id >= 0 && id < 1000);
            assert_int_equal(atoi(r->element[i + 1]->str), id);
            assert_int_equal(seen[id], 0);
            seen[id] = 1;
        }
        free(seen);
        freeReplyObject(r);
    }
    redisFree(c);
}

static void test_zscan(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;
    char cmd[64];

    EXPECT(c, ":3", "ZADD scan:small 1 a 2.5 b 3 c");
    EXPECT(c, "[0,[a,1,b,2.5,c,3]]", "ZSCAN scan:small 0");
    EXPECT(c, "[0,[b,2.5]]", "ZSCAN scan:small 0 MATCH b*");
    EXPECT(c, "[0,[]]", "ZSCAN scan:none 0");
    EXPECT(c, "-ERR invalid cursor", "ZSCAN scan:small abc");
    EXPECT(c, "-ERR syntax error", "ZSCAN scan:small 0 COUNT 0");
    EXPECT(c, "-ERR value is not an integer or out of range", "ZSCAN scan:small 0 COUNT x");
    EXPECT(c, "-ERR syntax error", "ZSCAN scan:small 0 TYPE zset");
    EXPECT(c, "-ERR syntax error", "ZSCAN scan:small 0 MATCH");
    /* a missing key answers before the options are read */
    EXPECT(c, "[0,[]]", "ZSCAN scan:none 0 COUNT 0");

    for (int i = 0; i < 500; i++) {
        snprintf(cmd, sizeof(cmd), "ZADD scan:big %d m%d", i, i);
        freeReplyObject(tk_cmd(c, cmd));
    }
    char *seen = calloc(500, 1);
    unsigned long long cursor = 0;
    int rounds = 0, total = 0;
    do {
        r = tk_cmd(c, "ZSCAN scan:big %llu COUNT 20", cursor);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        cursor = strtoull(r->element[0]->str, NULL, 10);
        for (size_t i = 0; i < r->element[1]->elements; i += 2) {
            int id = atoi(r->element[1]->element[i]->str + 1);
            assert_int_equal(atoi(r->element[1]->element[i + 1]->str), id);
            if (!seen[id])
                total++;
            seen[id] = 1;
        }
        freeReplyObject(r);
        rounds++;
    } while (cursor != 0 && rounds < 1000);
    assert_int_equal(cursor, 0);
    assert_int_equal(total, 500);
    assert_true(rounds > 2);
    free(seen);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Set operations                                                           */
/* ------------------------------------------------------------------------ */

static void test_zunion_zinter_zdiff(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":3", "ZADD ops:{1}a 1 a 2 b 3 c");
    EXPECT(c, ":3", "ZADD ops:{1}b 10 b 20 c 30 d");
    EXPECT(c, "[a,b,c,d]", "ZUNION 2 ops:{1}a ops:{1}b");
    EXPECT(c, "[a,1,b,12,c,23,d,30]", "ZUNION 2 ops:{1}a ops:{1}b WITHSCORES");
    EXPECT(c, "[a,2,b,34,c,66,d,90]", "ZUNION 2 ops:{1}a ops:{1}b WEIGHTS 2 3 WITHSCORES");
    EXPECT(c, "[a,1,b,10,c,20,d,30]", "ZUNION 2 ops:{1}a ops:{1}b AGGREGATE MAX WITHSCORES");
    EXPECT(c, "[a,1,b,2,c,3,d,30]", "ZUNION 2 ops:{1}a ops:{1}b aggregate min withscores");
    EXPECT(c, "[b,12,c,23]", "ZINTER 2 ops:{1}a ops:{1}b WITHSCORES");
    EXPECT(c, "[b,2,c,3]", "ZINTER 2 ops:{1}a ops:{1}b AGGREGATE MIN WITHSCORES");
    EXPECT(c, "[a,2,b,4,c,6]", "ZINTER 2 ops:{1}a ops:{1}a WITHSCORES");
    EXPECT(c, "[a,1]", "ZDIFF 2 ops:{1}a ops:{1}b WITHSCORES");
    EXPECT(c, "[]", "ZDIFF 2 ops:{1}a ops:{1}a");
    EXPECT(c, "[a,b,c]", "ZDIFF 2 ops:{1}a ops:{1}none");
    EXPECT(c, "[]", "ZINTER 2 ops:{1}a ops:{1}none");
    EXPECT(c, "[a,b,c]", "ZUNION 2 ops:{1}a ops:{1}none");
    EXPECT(c, ":2", "ZINTERCARD 2 ops:{1}a ops:{1}b");
    EXPECT(c, ":1", "ZINTERCARD 2 ops:{1}a ops:{1}b LIMIT 1");
    EXPECT(c, ":2", "ZINTERCARD 2 ops:{1}a ops:{1}b LIMIT 0");
    /* a plain set counts with score 1 */
    EXPECT(c, ":3", "SADD ops:{1}s a d x");
    EXPECT(c, "[x,3,a,4,b,12,c,23,d,33]", "ZUNION 3 ops:{1}a ops:{1}b ops:{1}s WEIGHTS 1 1 3 WITHSCORES");
    EXPECT(c, "[a,2]", "ZINTER 2 ops:{1}s ops:{1}a WITHSCORES");
    EXPECT(c, "[d,x]", "ZDIFF 2 ops:{1}s ops:{1}a");
    EXPECT(c, ":1", "ZINTERCARD 2 ops:{1}s ops:{1}b");
    /* inf * 0 and inf + -inf count as 0 */
    EXPECT(c, ":1", "ZADD ops:{1}pinf +inf m");
    EXPECT(c, ":1", "ZADD ops:{1}ninf -inf m");
    EXPECT(c, "[m,0]", "ZUNION 2 ops:{1}pinf ops:{1}ninf WITHSCORES");
    EXPECT(c, "[m,0]", "ZINTER 2 ops:{1}pinf ops:{1}ninf WITHSCORES");
    EXPECT(c, "[m,0]", "ZUNION 1 ops:{1}pinf WEIGHTS 0 WITHSCORES");
    redisFree(c);
}

static void test_zsetops_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":1", "ZADD opse:a 1 a");
    EXPECT(c, "+OK", "SET opse:str v");
    EXPECT(c, "-ERR at least 1 input key is needed for 'zunion' command", "ZUNION 0 opse:a");
    EXPECT(c, "-ERR at least 1 input key is needed for 'zinterstore' command", "ZINTERSTORE opse:d -1 opse:a");
    EXPECT(c, "-ERR at least 1 input key is needed for 'zintercard' command", "ZINTERCARD 0 opse:a");
    EXPECT(c, "-ERR value is not an integer or out of range", "ZUNION abc opse:a");
    EXPECT(c, "-ERR syntax error", "ZUNION 3 opse:a opse:b");
    EXPECT(c, "-ERR syntax error", "ZUNION 2 opse:a opse:b WEIGHTS 1");
    EXPECT(c, "-ERR weight value is not a float", "ZUNION 2 opse:a opse:b WEIGHTS 1 x");
    EXPECT(c, "-ERR syntax error", "ZUNION 2 opse:a opse:b AGGREGATE AVG");
    EXPECT(c, "-ERR syntax error", "ZUNION 2 opse:a opse:b FOO");
    EXPECT(c, "-ERR syntax error", "ZUNIONSTORE opse:d 2 opse:a opse:b WITHSCORES");
    EXPECT(c, "-ERR syntax error", "ZDIFF 2 opse:a opse:b WEIGHTS 1 2");
    EXPECT(c, "-ERR syntax error", "ZDIFF 2 opse:a opse:b AGGREGATE SUM");
    EXPECT(c, "-ERR syntax error", "ZINTERCARD 2 opse:a opse:b WITHSCORES");
    EXPECT(c, "-ERR LIMIT can't be negative", "ZINTERCARD 2 opse:a opse:b LIMIT -1");
    EXPECT(c, "-ERR LIMIT can't be negative", "ZINTERCARD 2 opse:a opse:b LIMIT x");
    /* keys are looked up before the options are read, as in Redis */
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value", "ZUNION 2 opse:a opse:str FOO");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value",
           "ZINTERSTORE opse:d 2 opse:str opse:a");
    EXPECT(c, "-ERR wrong number of arguments for 'zunionstore' command", "ZUNIONSTORE opse:d 1");
    redisFree(c);
}

static void test_zsetops_store(void **state)
{
    redisContext *c = tk_connect(*state);
    char cmd[64];

    EXPECT(c, ":3", "ZADD st:a 1 a 2 b 3 c");
    EXPECT(c, ":3", "ZADD st:b 10 b 20 c 30 d");
    EXPECT(c, ":4", "ZUNIONSTORE st:d 2 st:a st:b");
    EXPECT(c, "[a,1,b,12,c,23,d,30]", "ZRANGE st:d 0 -1 WITHSCORES");
    EXPECT(c, "listpack", "OBJECT ENCODING st:d");
    EXPECT(c, ":2", "ZINTERSTORE st:d 2 st:a st:b WEIGHTS 1 0.5");
    EXPECT(c, "[b,7,c,13]", "ZRANGE st:d 0 -1 WITHSCORES");
    EXPECT(c, ":1", "ZDIFFSTORE st:d 2 st:a st:b");
    EXPECT(c, "[a,1]", "ZRANGE st:d 0 -1 WITHSCORES");
    /* an empty result deletes the destination */
    EXPECT(c, ":0", "ZDIFFSTORE st:d 2 st:a st:a");
    EXPECT(c, ":0", "EXISTS st:d");
    EXPECT(c, ":0", "ZINTERSTORE st:d 2 st:a st:none");
    /* replaces any type, drops the expiry; the destination may be an input */
    EXPECT(c, "+OK", "SET st:str v EX 100");
    EXPECT(c, ":3", "ZUNIONSTORE st:str 1 st:a");
    EXPECT(c, ":-1", "TTL st:str");
    EXPECT(c, ":4", "ZUNIONSTORE st:a 2 st:a st:b AGGREGATE MAX");
    EXPECT(c, "[a,1,b,10,c,20,d,30]", "ZRANGE st:a 0 -1 WITHSCORES");
    /* a large result stays a skiplist */
    for (int i = 0; i < 200; i++) {
        snprintf(cmd, sizeof(cmd), "ZADD st:big %d m%d", i, i);
        freeReplyObject(tk_cmd(c, cmd));
    }
    EXPECT(c, ":200", "ZUNIONSTORE st:d 1 st:big");
    EXPECT(c, "skiplist", "OBJECT ENCODING st:d");
    EXPECT(c, ":0", "ZINTERSTORE st:d 2 st:big st:b");
    EXPECT(c, ":1", "ZADD st:b 1 m5");
    EXPECT(c, ":1", "ZINTERSTORE st:d 2 st:big st:b");
    EXPECT(c, "[m5,6]", "ZRANGE st:d 0 -1 WITHSCORES");
    EXPECT(c, "listpack", "OBJECT ENCODING st:d");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Encodings, types, counters                                               */
/* ------------------------------------------------------------------------ */

static void test_encoding_transitions(void **state)
{
    redisContext *c = tk_connect(*state);
    char cmd[128], big[70];

    for (int i = 0; i < 128; i++) {
        snprintf(cmd, sizeof(cmd), "ZADD enc:z %d m%d", i, i);
        freeReplyObject(tk_cmd(c, cmd));
    }
    EXPECT(c, "listpack", "OBJECT ENCODING enc:z");
    EXPECT(c, ":0", "ZADD enc:z 5 m0");
    EXPECT(c, "listpack", "OBJECT ENCODING enc:z");
    EXPECT(c, ":1", "ZADD enc:z 1000 m128");
    EXPECT(c, "skiplist", "OBJECT ENCODING enc:z");
    EXPECT(c, ":129", "ZCARD enc:z");
    EXPECT(c, ":128", "ZRANK enc:z m128");
    EXPECT(c, ":4", "ZRANK enc:z m0");
    /* deleting back under the limit keeps the skiplist, as Redis */
    EXPECT(c, ":100", "ZREMRANGEBYRANK enc:z 0 99");
    EXPECT(c, "skiplist", "OBJECT ENCODING enc:z");

    memset(big, 'x', 64);
    big[64] = '\0';
    EXPECT(c, ":1", "ZADD enc:v 1 %s", big);
    EXPECT(c, "listpack", "OBJECT ENCODING enc:v");
    big[64] = 'y';
    big[65] = '\0';
    EXPECT(c, ":1", "ZADD enc:v 2 %s", big);
    EXPECT(c, "skiplist", "OBJECT ENCODING enc:v");
    EXPECT(c, ":1", "ZADD enc:v2 2 %s", big);
    EXPECT(c, "skiplist", "OBJECT ENCODING enc:v2");

    /* the thresholds are configuration */
    EXPECT(c, "+OK", "CONFIG SET zset-max-listpack-entries 4");
    EXPECT(c, ":4", "ZADD enc:c 1 a 2 b 3 c 4 d");
    EXPECT(c, "listpack", "OBJECT ENCODING enc:c");
    EXPECT(c, ":1", "ZADD enc:c 5 e");
    EXPECT(c, "skiplist", "OBJECT ENCODING enc:c");
    /* one ZADD of more members than the limit makes a skiplist at once */
    EXPECT(c, ":5", "ZADD enc:c2 1 a 2 b 3 c 4 d 5 e");
    EXPECT(c, "skiplist", "OBJECT ENCODING enc:c2");
    EXPECT(c, "+OK", "CONFIG SET zset-max-listpack-entries 0");
    EXPECT(c, ":1", "ZADD enc:c3 1 a");
    EXPECT(c, "skiplist", "OBJECT ENCODING enc:c3");
    EXPECT(c, "+OK", "CONFIG SET zset-max-listpack-entries 128");
    EXPECT(c, "+OK", "CONFIG SET zset-max-listpack-value 3");
    EXPECT(c, ":1", "ZADD enc:c4 1 abcd");
    EXPECT(c, "skiplist", "OBJECT ENCODING enc:c4");
    EXPECT(c, "+OK", "CONFIG SET zset-max-listpack-value 64");
    /* both encodings answer alike */
    EXPECT(c, "[e,5,d,4]", "ZREVRANGE enc:c 0 1 WITHSCORES");
    EXPECT(c, "[b,c]", "ZRANGEBYSCORE enc:c (1 3");
    EXPECT(c, ":3", "ZCOUNT enc:c 2 4");
    redisFree(c);
}

static void test_type_copy_rename_memory(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    EXPECT(c, ":2", "ZADD gen:z 1 a 2 b");
    EXPECT(c, "+zset", "TYPE gen:z");
    EXPECT(c, ":1", "COPY gen:z gen:copy");
    EXPECT(c, ":1", "ZADD gen:copy 3 c");
    EXPECT(c, ":2", "ZCARD gen:z");
    EXPECT(c, "+OK", "RENAME gen:copy gen:renamed");
    EXPECT(c, "[a,b,c]", "ZRANGE gen:renamed 0 -1");
    r = tk_cmd(c, "MEMORY USAGE gen:z");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_true(r->integer > 0 && r->integer < 1000);
    freeReplyObject(r);
    /* SCAN's TYPE filter knows zsets */
    unsigned long long cur = 0;
    int found = 0, rounds = 0;
    do {
        r = tk_cmd(c, "SCAN %llu MATCH gen:* TYPE zset COUNT 100", cur);
        cur = strtoull(r->element[0]->str, NULL, 10);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            assert_true(strcmp(k, "gen:z") == 0 || strcmp(k, "gen:renamed") == 0);
            found++;
        }
        freeReplyObject(r);
    } while (cur != 0 && ++rounds < 100000);
    assert_int_equal(found, 2);
    EXPECT(c, "+OK", "SET gen:str v");
    redisFree(c);
}

static void test_wrongtype_everywhere(void **state)
{
    redisContext *c = tk_connect(*state);
    static const char *const cmds[] = {
        "ZADD wt:s 1 a", "ZINCRBY wt:s 1 a", "ZREM wt:s a", "ZSCORE wt:s a", "ZMSCORE wt:s a", "ZCARD wt:s",
        "ZCOUNT wt:s 0 1", "ZLEXCOUNT wt:s - +", "ZRANGE wt:s 0 -1", "ZREVRANGE wt:s 0 -1",
        "ZRANGEBYSCORE wt:s 0 1", "ZREVRANGEBYSCORE wt:s 1 0", "ZRANGEBYLEX wt:s - +", "ZREVRANGEBYLEX wt:s + -",
        "ZRANK wt:s a", "ZREVRANK wt:s a", "ZREMRANGEBYRANK wt:s 0 1", "ZREMRANGEBYSCORE wt:s 0 1",
        "ZREMRANGEBYLEX wt:s - +", "ZPOPMIN wt:s", "ZPOPMAX wt:s 2", "ZMPOP 1 wt:s MIN", "BZPOPMIN wt:s 0",
        "BZPOPMAX wt:none wt:s 0", "BZMPOP 0 1 wt:s MAX", "ZRANDMEMBER wt:s", "ZRANDMEMBER wt:s 2",
        "ZSCAN wt:s 0", "ZUNION 1 wt:s", "ZINTER 1 wt:s", "ZDIFF 1 wt:s", "ZINTERCARD 1 wt:s",
        "ZUNIONSTORE wt:d 1 wt:s", "ZRANGESTORE wt:d wt:s 0 -1",
    };

    EXPECT(c, "+OK", "SET wt:s v");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value", cmds[i]);
    EXPECT(c, "v", "GET wt:s");
    EXPECT(c, ":0", "EXISTS wt:d");
    redisFree(c);
}

static void test_keyspace_hits_and_misses(void **state)
{
    redisContext *c = tk_connect(*state);
    long long h0, m0;

    EXPECT(c, ":1", "ZADD hits:z 1 a");
    h0 = tk_info_ll(c, "keyspace_hits");
    m0 = tk_info_ll(c, "keyspace_misses");
    EXPECT(c, "1", "ZSCORE hits:z a");
    EXPECT(c, "nil", "ZSCORE hits:none a");
    EXPECT(c, "[a]", "ZRANGE hits:z 0 -1");
    EXPECT(c, ":0", "ZCARD hits:none");
    EXPECT(c, "[a,1]", "ZUNION 2 hits:z hits:none WITHSCORES");
    /* write lookups do not count */
    EXPECT(c, ":0", "ZADD hits:z 1 a");
    EXPECT(c, ":0", "ZREM hits:none a");
    EXPECT(c, "[]", "ZPOPMIN hits:none");
    assert_int_equal(tk_info_ll(c, "keyspace_hits") - h0, 3);
    assert_int_equal(tk_info_ll(c, "keyspace_misses") - m0, 3);
    redisFree(c);
}

static void test_resp3_shapes(void **state)
{
    redisContext *c = tk_connect(*state);
    int fd = raw3(*state);

    EXPECT(c, ":2", "ZADD r3:z 1 a 2.5 b");
    EXPECT(c, ":1", "ZADD r3:y 3 b");
    tk_raw_expect(fd, "ZSCORE r3:z b\r\n", ",2.5\r\n");
    tk_raw_expect(fd, "ZSCORE r3:z x\r\n", "_\r\n");
    tk_raw_expect(fd, "ZSCORE r3:none x\r\n", "_\r\n");
    tk_raw_expect(fd, "ZMSCORE r3:z a x\r\n", "*2\r\n,1\r\n_\r\n");
    tk_raw_expect(fd, "ZINCRBY r3:z 1 a\r\n", ",2\r\n");
    tk_raw_expect(fd, "ZADD r3:z INCR -1 a\r\n", ",1\r\n");
    tk_raw_expect(fd, "ZADD r3:z NX INCR 1 a\r\n", "_\r\n");
    tk_raw_expect(fd, "ZRANK r3:z x\r\n", "_\r\n");
    tk_raw_expect(fd, "ZRANGE r3:z 0 -1\r\n", "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    tk_raw_expect(fd, "ZRANGE r3:z 0 -1 WITHSCORES\r\n", "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
    tk_raw_expect(fd, "ZRANGEBYSCORE r3:z -inf +inf WITHSCORES LIMIT 1 1\r\n", "*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
    tk_raw_expect(fd, "ZREVRANGE r3:z 0 0 WITHSCORES\r\n", "*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
    tk_raw_expect(fd, "ZRANGE r3:none 0 -1 WITHSCORES\r\n", "*0\r\n");
    tk_raw_expect(fd, "ZRANDMEMBER r3:z 2 WITHSCORES\r\n", "*2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\na\r\n,1\r\n");
    tk_raw_expect(fd, "ZRANDMEMBER r3:none\r\n", "_\r\n");
    tk_raw_expect(fd, "ZUNION 2 r3:z r3:y WITHSCORES\r\n", "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,5.5\r\n");
    tk_raw_expect(fd, "ZINTER 2 r3:z r3:y\r\n", "*1\r\n$1\r\nb\r\n");
    tk_raw_expect(fd, "ZDIFF 2 r3:z r3:y WITHSCORES\r\n", "*1\r\n*2\r\n$1\r\na\r\n,1\r\n");
    /* ZSCAN stays flat with scores as strings */
    tk_raw_expect(fd, "ZSCAN r3:z 0\r\n", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n");
    tk_raw_expect(fd, "ZINTERCARD 2 r3:z r3:y\r\n", ":1\r\n");
    close(fd);
    redisFree(c);
}

static void test_scores_text(void **state)
{
    redisContext *c = tk_connect(*state);

    /* a listpack stores integral scores as integers (so -0 reads as 0) */
    EXPECT(c, ":3", "ZADD txt:lp -0 a 123456789012345678 b 1e20 c");
    EXPECT(c, "[a,0,b,1.2345678901234568e+17,c,1e+20]", "ZRANGE txt:lp 0 -1 WITHSCORES");
    EXPECT(c, "[0,[a,0,b,123456789012345680,c,1e+20]]", "ZSCAN txt:lp 0");
    EXPECT(c, "+OK", "CONFIG SET zset-max-listpack-entries 0");
    EXPECT(c, ":2", "ZADD txt:sl -0 a 1e17 b");
    EXPECT(c, "+OK", "CONFIG SET zset-max-listpack-entries 128");
    EXPECT(c, "-0", "ZSCORE txt:sl a");
    EXPECT(c, "1e+17", "ZSCORE txt:sl b");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* A leaderboard                                                            */
/* ------------------------------------------------------------------------ */

enum { LB_PLAYERS = 1000, LB_ROUNDS = 3000 };

struct lb_player {
    int id;
    long long score;
};

static int lb_cmp_desc(const void *a, const void *b)
{
    const struct lb_player *x = a, *y = b;
    char mx[16], my[16];

    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    /* ties: ZREVRANGE orders members descending too */
    snprintf(mx, sizeof(mx), "p%04d", x->id);
    snprintf(my, sizeof(my), "p%04d", y->id);
    return -strcmp(mx, my);
}

static void test_leaderboard(void **state)
{
    redisContext *c = tk_connect(*state);
    struct lb_player *p = calloc(LB_PLAYERS, sizeof(*p)), *sorted = calloc(LB_PLAYERS, sizeof(*p));
    unsigned seed = 12345;
    redisReply *r;

    char *touched = calloc(LB_PLAYERS, 1);
    int players = 0;

    for (int i = 0; i < LB_PLAYERS; i++)
        p[i].id = i;
    /* pipelined score updates */
    for (int i = 0; i < LB_ROUNDS; i++) {
        int who = (int)(rand_r(&seed) % LB_PLAYERS);
        int pts = (int)(rand_r(&seed) % 100);

        p[who].score += pts;
        touched[who] = 1;
        assert_int_equal(redisAppendCommand(c, "ZINCRBY lb:scores %d p%04d", pts, who), REDIS_OK);
    }
    for (int i = 0; i < LB_ROUNDS; i++)
        freeReplyObject(get_reply(c));
    /* players never scored are absent */
    for (int i = 0; i < LB_PLAYERS; i++)
        if (touched[i])
            sorted[players++] = p[i];
    qsort(sorted, (size_t)players, sizeof(*sorted), lb_cmp_desc);

    r = tk_cmd(c, "ZCARD lb:scores");
    assert_int_equal(r->integer, players);
    freeReplyObject(r);
    EXPECT(c, "skiplist", "OBJECT ENCODING lb:scores");

    /* the top 10 with scores */
    r = tk_cmd(c, "ZREVRANGE lb:scores 0 9 WITHSCORES");
    assert_int_equal(r->elements, 20);
    for (int i = 0; i < 10; i++) {
        char m[16];
        snprintf(m, sizeof(m), "p%04d", sorted[i].id);
        assert_string_equal(r->element[2 * i]->str, m);
        assert_int_equal(atoll(r->element[2 * i + 1]->str), sorted[i].score);
    }
    freeReplyObject(r);
    /* every player's rank and score */
    for (int i = 0; i < players; i++) {
        assert_int_equal(redisAppendCommand(c, "ZREVRANK lb:scores p%04d", sorted[i].id), REDIS_OK);
        assert_int_equal(redisAppendCommand(c, "ZSCORE lb:scores p%04d", sorted[i].id), REDIS_OK);
    }
    for (int i = 0; i < players; i++) {
        r = get_reply(c);
        assert_int_equal(r->integer, i);
        freeReplyObject(r);
        r = get_reply(c);
        assert_int_equal(atoll(r->str), sorted[i].score);
        freeReplyObject(r);
    }
    /* pages of 50 by score, high to low, as a UI would walk them */
    int seen = 0;
    for (int off = 0; off < players; off += 50) {
        r = tk_cmd(c, "ZREVRANGEBYSCORE lb:scores +inf -inf WITHSCORES LIMIT %d 50", off);
        for (size_t i = 0; i < r->elements; i += 2, seen++) {
            char m[16];
            snprintf(m, sizeof(m), "p%04d", sorted[seen].id);
            assert_string_equal(r->element[i]->str, m);
        }
        freeReplyObject(r);
    }
    assert_int_equal(seen, players);
    /* how many players have at least the median score */
    long long median = sorted[players / 2].score, want = 0;
    for (int i = 0; i < players; i++)
        want += sorted[i].score >= median;
    r = tk_cmd(c, "ZCOUNT lb:scores %lld +inf", median);
    assert_int_equal(r->integer, want);
    freeReplyObject(r);
    /* keep only the top 100 */
    r = tk_cmd(c, "ZREMRANGEBYRANK lb:scores 0 %d", players - 101);
    assert_int_equal(r->integer, players - 100);
    freeReplyObject(r);
    r = tk_cmd(c, "ZREVRANGE lb:scores 0 0");
    char m0[16];
    snprintf(m0, sizeof(m0), "p%04d", sorted[0].id);
    assert_string_equal(r->element[0]->str, m0);
    freeReplyObject(r);
    EXPECT(c, ":100", "ZCARD lb:scores");
    free(touched);
    free(p);
    free(sorted);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Blocking pops                                                            */
/* ------------------------------------------------------------------------ */

static void test_bzpop_immediate(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT(c, ":3", "ZADD bimm:b 1 a 2 b 3 c");
    EXPECT(c, "[bimm:b,a,1]", "BZPOPMIN bimm:a bimm:b 0");
    EXPECT(c, "[bimm:b,c,3]", "BZPOPMAX bimm:a bimm:b 0");
    EXPECT(c, "[bimm:b,[[b,2]]]", "BZMPOP 1 2 bimm:a bimm:b MIN COUNT 5");
    EXPECT(c, ":0", "EXISTS bimm:b");
    EXPECT(c, "-ERR timeout is not a float or out of range", "BZPOPMIN bimm:b abc");
    EXPECT(c, "-ERR timeout is negative", "BZPOPMIN bimm:b -1");
    EXPECT(c, "-ERR timeout is negative", "BZMPOP -1 1 bimm:b MIN");
    EXPECT(c, "-ERR timeout is not a float or out of range", "BZMPOP x 1 bimm:b MIN");
    EXPECT(c, "-ERR numkeys should be greater than 0", "BZMPOP 0 0 bimm:b MIN");
    EXPECT(c, "-ERR count should be greater than 0", "BZMPOP 0 1 bimm:b MIN COUNT 0");
    EXPECT(c, "-ERR wrong number of arguments for 'bzpopmin' command", "BZPOPMIN bimm:b");
    redisFree(c);
}

static void test_bzpop_timeouts(void **state)
{
    redisContext *c = tk_connect(*state);
    long long t0, dt;

    t0 = now_ms();
    EXPECT(c, "nil", "BZPOPMIN bto:z 0.2");
    dt = now_ms() - t0;
    assert_true(dt >= 150 && dt < 2000);
    t0 = now_ms();
    EXPECT(c, "nil", "BZMPOP 0.05 2 bto:a bto:b MAX COUNT 2");
    dt = now_ms() - t0;
    assert_true(dt >= 30 && dt < 2000);
    t0 = now_ms();
    EXPECT(c, "nil", "BZPOPMAX bto:a bto:b 0.01");
    dt = now_ms() - t0;
    assert_true(dt < 2000);
    assert_int_equal(tk_info_ll(c, "blocked_clients"), 0);
    redisFree(c);
}

static void test_bzpop_served_by_zadd_from_another_client(void **state)
{
    redisContext *b = tk_connect(*state), *c = tk_connect(*state);

    send_only(b, "BZPOPMIN bsrv:z 5");
    wait_blocked(*state, 1);
    EXPECT(c, ":2", "ZADD bsrv:z 2 two 1 one");
    expect_repr(get_reply(b), "[bsrv:z,one,1]");
    EXPECT(c, "[two]", "ZRANGE bsrv:z 0 -1");
    wait_blocked(*state, 0);

    /* BZMPOP takes up to COUNT, nested */
    send_only(b, "BZMPOP 5 2 bsrv:x bsrv:y MAX COUNT 2");
    wait_blocked(*state, 1);
    EXPECT(c, ":3", "ZADD bsrv:y 1 a 2 b 3 c");
    expect_repr(get_reply(b), "[bsrv:y,[[c,3],[b,2]]]");
    EXPECT(c, "[a]", "ZRANGE bsrv:y 0 -1");

    /* a key named twice is waited on once */
    send_only(b, "BZPOPMIN bsrv:dup bsrv:other bsrv:dup 5");
    wait_blocked(*state, 1);
    EXPECT(c, ":2", "ZADD bsrv:dup 1 a 2 b");
    expect_repr(get_reply(b), "[bsrv:dup,a,1]");
    EXPECT(c, "[b]", "ZRANGE bsrv:dup 0 -1");

    /* the key that gets data is the one reported */
    send_only(b, "BZPOPMAX bsrv:k1 bsrv:k2 5");
    wait_blocked(*state, 1);
    EXPECT(c, ":1", "ZADD bsrv:k2 7 m");
    expect_repr(get_reply(b), "[bsrv:k2,m,7]");
    EXPECT(c, ":0", "EXISTS bsrv:k2");
    redisFree(b);
    redisFree(c);
}

/* Clients blocked on one key are served in the order they blocked, on
 * whichever worker they live (--threads 2 places consecutive connections
 * on different workers). One ZADD of three members serves all three, the
 * longest-waiting first, each with the lowest score left. */
static void test_bzpop_fifo_across_workers(void **state)
{
    redisContext *w[4], *c = tk_connect(*state);

    /* connected back to back: the acceptor deals them to workers in turn */
    for (int i = 0; i < 4; i++)
        w[i] = tk_connect(*state);
    for (int i = 0; i < 4; i++) {
        send_only(w[i], "BZPOPMIN bfifo:z 5");
        wait_blocked(*state, i + 1);
    }
    EXPECT(c, ":3", "ZADD bfifo:z 3 c 1 a 2 b");
    expect_repr(get_reply(w[0]), "[bfifo:z,a,1]");
    expect_repr(get_reply(w[1]), "[bfifo:z,b,2]");
    expect_repr(get_reply(w[2]), "[bfifo:z,c,3]");
    wait_blocked(*state, 1);
    EXPECT(c, ":0", "EXISTS bfifo:z");
    EXPECT(c, ":1", "ZADD bfifo:z 9 z");
    expect_repr(get_reply(w[3]), "[bfifo:z,z,9]");
    wait_blocked(*state, 0);
    for (int i = 0; i < 4; i++)
        redisFree(w[i]);
    redisFree(c);
}

/* A STORE command that creates the key serves a blocked client too. */
static void test_bzpop_served_by_store_commands(void **state)
{
    redisContext *b = tk_connect(*state), *c = tk_connect(*state);

    EXPECT(c, ":2", "ZADD bstore:src 1 a 2 b");
    send_only(b, "BZPOPMAX bstore:dst 5");
    wait_blocked(*state, 1);
    EXPECT(c, ":2", "ZUNIONSTORE bstore:dst 1 bstore:src");
    expect_repr(get_reply(b), "[bstore:dst,b,2]");
    EXPECT(c, "[a]", "ZRANGE bstore:dst 0 -1");
    send_only(b, "BZPOPMIN bstore:dst2 5");
    wait_blocked(*state, 1);
    EXPECT(c, ":2", "ZRANGESTORE bstore:dst2 bstore:src 0 -1");
    expect_repr(get_reply(b), "[bstore:dst2,a,1]");
    redisFree(b);
    redisFree(c);
}

/* A key of another type does not serve (nor error) a blocked client. */
static void test_bzpop_ignores_other_types(void **state)
{
    redisContext *b = tk_connect(*state), *c = tk_connect(*state);

    send_only(b, "BZPOPMIN bother:k 5");
    wait_blocked(*state, 1);
    EXPECT(c, ":1", "SADD bother:k x");
    EXPECT(c, "+OK", "SET bother:k v");
    sleep_ms(50);
    assert_int_equal(tk_info_ll(c, "blocked_clients"), 1);
    EXPECT(c, ":1", "DEL bother:k");
    EXPECT(c, ":1", "ZADD bother:k 1 m");
    expect_repr(get_reply(b), "[bother:k,m,1]");
    /* another database does not serve it either */
    send_only(b, "BZPOPMIN bother:db 5");
    wait_blocked(*state, 1);
    EXPECT(c, "+OK", "SELECT 1");
    EXPECT(c, ":1", "ZADD bother:db 1 m");
    EXPECT(c, "+OK", "SELECT 0");
    sleep_ms(50);
    assert_int_equal(tk_info_ll(c, "blocked_clients"), 1);
    EXPECT(c, ":1", "ZADD bother:db 2 n");
    expect_repr(get_reply(b), "[bother:db,n,2]");
    redisFree(b);
    redisFree(c);
}

/* A client that disconnects while blocked is forgotten: a later ZADD goes
 * to the next waiter or stays in the set. */
static void test_bzpop_disconnect_while_blocked(void **state)
{
    redisContext *b1 = tk_connect(*state), *b2 = tk_connect(*state), *c = tk_connect(*state);

    send_only(b1, "BZPOPMIN bdisc:z 0");
    wait_blocked(*state, 1);
    send_only(b2, "BZPOPMIN bdisc:z 0");
    wait_blocked(*state, 2);
    redisFree(b1);
    wait_blocked(*state, 1);
    EXPECT(c, ":1", "ZADD bdisc:z 1 a");
    expect_repr(get_reply(b2), "[bdisc:z,a,1]");
    redisFree(b2);
    wait_blocked(*state, 0);
    EXPECT(c, ":1", "ZADD bdisc:z 2 b");
    EXPECT(c, "[b]", "ZRANGE bdisc:z 0 -1");
    redisFree(c);
}

static void test_bzpop_client_unblock(void **state)
{
    redisContext *b = tk_connect(*state), *c = tk_connect(*state);
    redisReply *r = tk_cmd(b, "CLIENT ID");
    long long id = r->integer;

    freeReplyObject(r);
    send_only(b, "BZPOPMIN bunb:z 0");
    wait_blocked(*state, 1);
    EXPECT(c, ":1", "CLIENT UNBLOCK %lld", id);
    expect_repr(get_reply(b), "nil");
    send_only(b, "BZMPOP 0 1 bunb:z MIN");
    wait_blocked(*state, 1);
    EXPECT(c, ":1", "CLIENT UNBLOCK %lld ERROR", id);
    expect_repr(get_reply(b), "-UNBLOCKED client unblocked via CLIENT UNBLOCK");
    EXPECT(c, ":0", "CLIENT UNBLOCK %lld", id);
    redisFree(b);
    redisFree(c);
}

/* Producers and consumers on both workers: every member pushed is popped
 * exactly once. */
enum { PC_PRODUCERS = 2, PC_CONSUMERS = 4, PC_PER_PRODUCER = 1500 };

struct pc_ctx {
    const struct tk_server *s;
    int id;
    int fail;
    int got;
    int *popped; /* [PC_PRODUCERS * PC_PER_PRODUCER], counts */
    pthread_mutex_t *lock;
};

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

static void *pc_producer(void *arg)
{
    struct pc_ctx *x = arg;
    redisContext *c = thread_connect(x->s);

    if (!c) {
        x->fail = 1;
        return NULL;
    }
    for (int i = 0; i < PC_PER_PRODUCER; i++) {
        int n = x->id * PC_PER_PRODUCER + i;
        redisReply *r = redisCommand(c, "ZADD pc:q%d %d m%d", n % 2, n, n);

        if (!r || r->type != REDIS_REPLY_INTEGER)
            x->fail = 1;
        if (r)
            freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

static void *pc_consumer(void *arg)
{
    struct pc_ctx *x = arg;
    redisContext *c = thread_connect(x->s);

    if (!c) {
        x->fail = 1;
        return NULL;
    }
    for (;;) {
        redisReply *r = redisCommand(c, "BZMPOP 0.5 2 pc:q0 pc:q1 MIN COUNT 3");

        if (!r) {
            x->fail = 1;
            break;
        }
        if (r->type == REDIS_REPLY_NIL) {
            freeReplyObject(r);
            break; /* nothing for half a second: producers are done */
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            x->fail = 1;
            freeReplyObject(r);
            break;
        }
        redisReply *items = r->element[1];
        for (size_t i = 0; i < items->elements; i++) {
            int n = atoi(items->element[i]->element[0]->str + 1);

            pthread_mutex_lock(x->lock);
            if (n >= 0 && n < PC_PRODUCERS * PC_PER_PRODUCER)
                x->popped[n]++;
            else
                x->fail = 1;
            pthread_mutex_unlock(x->lock);
            x->got++;
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

static void test_bzmpop_producers_and_consumers(void **state)
{
    pthread_t tp[PC_PRODUCERS], tc[PC_CONSUMERS];
    struct pc_ctx p[PC_PRODUCERS], cc[PC_CONSUMERS];
    int *popped = calloc(PC_PRODUCERS * PC_PER_PRODUCER, sizeof(int));
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int total = 0;

    for (int i = 0; i < PC_CONSUMERS; i++) {
        cc[i] = (struct pc_ctx){ *state, i, 0, 0, popped, &lock };
        assert_int_equal(pthread_create(&tc[i], NULL, pc_consumer, &cc[i]), 0);
    }
    wait_blocked(*state, PC_CONSUMERS);
    for (int i = 0; i < PC_PRODUCERS; i++) {
        p[i] = (struct pc_ctx){ *state, i, 0, 0, popped, &lock };
        assert_int_equal(pthread_create(&tp[i], NULL, pc_producer, &p[i]), 0);
    }
    for (int i = 0; i < PC_PRODUCERS; i++) {
        pthread_join(tp[i], NULL);
        assert_int_equal(p[i].fail, 0);
    }
    for (int i = 0; i < PC_CONSUMERS; i++) {
        pthread_join(tc[i], NULL);
        assert_int_equal(cc[i].fail, 0);
        total += cc[i].got;
    }
    for (int n = 0; n < PC_PRODUCERS * PC_PER_PRODUCER; n++)
        if (popped[n] != 1)
            fail_msg("member m%d popped %d times", n, popped[n]);
    assert_int_equal(total, PC_PRODUCERS * PC_PER_PRODUCER);
    redisContext *c = tk_connect(*state);
    EXPECT(c, ":0", "EXISTS pc:q0 pc:q1");
    redisFree(c);
    free(popped);
}


/* ------------------------------------------------------------------------ */
/* Model-based run                                                          */
/* ------------------------------------------------------------------------ */

/* Random commands on a few keys, each reply compared with a sorted-array
 * model, at small thresholds so that keys change encoding often (checked
 * with OBJECT ENCODING). Keys mz:0..2 take any scores; mz:3 only score 0,
 * so lex ranges on it are well defined. No -0 score is ever produced (a
 * listpack reads it back as 0, a skiplist as -0: both as Redis 7.0).
 * STRATA_SEED / STRATA_STEPS reproduce a run. */
enum { MZ_KEYS = 4, MZ_MAXE = 8, MZ_MAXV = 6, MZ_CAP = 128 };

struct mz_el {
    char m[16];
    double s;
};

struct mz_set {
    struct mz_el a[MZ_CAP];
    int n;
    int big;
};

static struct mz_set mz[MZ_KEYS + 1]; /* [MZ_KEYS]: scratch for STORE results */
static uint64_t mz_rng;

static uint64_t mz_next(void)
{
    mz_rng ^= mz_rng << 13;
    mz_rng ^= mz_rng >> 7;
    mz_rng ^= mz_rng << 17;
    return mz_rng;
}

static int mz_pick(int n)
{
    return (int)(mz_next() % (uint64_t)n);
}

static const char *const mz_pool[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l",
                                       "1", "2", "10", "-5", "007", "x1", "x2", "y", "longmem1", "longmem2" };

static const char *mz_member(void)
{
    return mz_pool[mz_pick((int)(sizeof(mz_pool) / sizeof(mz_pool[0])))];
}

static double mz_score(void)
{
    static const double v[] = { 1, 2, 3, -1, 0, 0.5, 1.5, -2.25, 100, 1e10, 3.14159 };
    int r = mz_pick(24);

    if (r == 0)
        return INFINITY;
    if (r == 1)
        return -INFINITY;
    return v[r % (int)(sizeof(v) / sizeof(v[0]))];
}

static void mz_fmt(char *buf, size_t cap, double d)
{
    if (isinf(d))
        snprintf(buf, cap, "%s", d > 0 ? "inf" : "-inf");
    else
        snprintf(buf, cap, "%.17g", d);
}

static int mz_cmp(const void *x, const void *y)
{
    const struct mz_el *a = x, *b = y;

    if (a->s != b->s)
        return a->s < b->s ? -1 : 1;
    return strcmp(a->m, b->m); /* members have no NUL: strcmp is memcmp order */
}

static int mz_find(const struct mz_set *z, const char *m)
{
    for (int i = 0; i < z->n; i++)
        if (strcmp(z->a[i].m, m) == 0)
            return i;
    return -1;
}

/* Adds or updates, keeping order; marks a conversion. */
static void mz_set_score(struct mz_set *z, const char *m, double s)
{
    int i = mz_find(z, m);

    if (i < 0) {
        i = z->n++;
        snprintf(z->a[i].m, sizeof(z->a[i].m), "%s", m);
        if (z->n > MZ_MAXE || strlen(m) > MZ_MAXV)
            z->big = 1;
    }
    z->a[i].s = s;
    qsort(z->a, (size_t)z->n, sizeof(z->a[0]), mz_cmp);
}

static void mz_del_at(struct mz_set *z, int i)
{
    memmove(&z->a[i], &z->a[i + 1], (size_t)(z->n - i - 1) * sizeof(z->a[0]));
    if (--z->n == 0)
        z->big = 0; /* the key is gone */
}

/* "[m,s,m,s]" of z->a[from..to] in either direction. */
static void mz_list(char *buf, size_t cap, const struct mz_set *z, int from, int to, int rev, int withscores)
{
    size_t o = (size_t)snprintf(buf, cap, "[");

    for (int k = 0; k <= to - from; k++) {
        const struct mz_el *e = &z->a[rev ? to - k : from + k];
        char sc[64];

        mz_fmt(sc, sizeof(sc), e->s);
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", k ? "," : "", e->m);
        if (withscores)
            o += (size_t)snprintf(buf + o, cap - o, ",%s", sc);
    }
    snprintf(buf + o, cap - o, "]");
}

static void mz_check_key(redisContext *c, int k)
{
    char want[8192];

    if (mz[k].n == 0) {
        EXPECT(c, ":0", "EXISTS mz:%d", k);
        return;
    }
    mz_list(want, sizeof(want), &mz[k], 0, mz[k].n - 1, 0, 1);
    EXPECT(c, want, "ZRANGE mz:%d 0 -1 WITHSCORES", k);
    EXPECT(c, mz[k].big ? "skiplist" : "listpack", "OBJECT ENCODING mz:%d", k);
}

static void mz_step(redisContext *c)
{
    int k = mz_pick(MZ_KEYS), lexkey = k == MZ_KEYS - 1;
    struct mz_set *z = &mz[k];
    char want[8192], a1[64], a2[64];
    const char *m = mz_member();
    int op = mz_pick(100);

    if (op < 30) { /* ZADD with flags, one or two pairs */
        static const char *const flagsets[] = { "", "NX", "XX", "GT", "LT", "CH", "GT CH", "XX CH" };
        const char *fl = flagsets[mz_pick(8)];
        double s1 = lexkey ? 0 : mz_score(), s2 = lexkey ? 0 : mz_score();
        const char *m2 = mz_member();
        int two = mz_pick(2), added = 0, changed = 0;
        int nx = strstr(fl, "NX") != NULL, xx = strstr(fl, "XX") != NULL;
        int gt = strstr(fl, "GT") != NULL, lt = strstr(fl, "LT") != NULL, ch = strstr(fl, "CH") != NULL;

        mz_fmt(a1, sizeof(a1), s1);
        mz_fmt(a2, sizeof(a2), s2);
        for (int p = 0; p < 1 + two; p++) {
            const char *mm = p ? m2 : m;
            double ss = p ? s2 : s1;
            int i = mz_find(z, mm);

            if (i >= 0) {
                double cur = z->a[i].s;
                if (nx || (gt && ss <= cur) || (lt && ss >= cur) || ss == cur)
                    continue;
                mz_set_score(z, mm, ss);
                changed++;
            } else if (!xx) {
                mz_set_score(z, mm, ss);
                added++;
            }
        }
        char cmd[256];

        snprintf(want, sizeof(want), ":%d", ch ? added + changed : added);
        /* the flags are spliced into the text: hiredis splits it on blanks */
        if (two)
            snprintf(cmd, sizeof(cmd), "ZADD mz:%d %s %s %s %s %s", k, fl, a1, m, a2, m2);
        else
            snprintf(cmd, sizeof(cmd), "ZADD mz:%d %s %s %s", k, fl, a1, m);
        EXPECT(c, want, cmd);
    } else if (op < 38 && !lexkey) { /* ZINCRBY */
        double inc = mz_score();
        int i = mz_find(z, m);
        double ns = (i >= 0 ? z->a[i].s : 0) + inc;

        mz_fmt(a1, sizeof(a1), inc);
        if (i >= 0 && isnan(ns)) {
            EXPECT(c, "-ERR resulting score is not a number (NaN)", "ZINCRBY mz:%d %s %s", k, a1, m);
        } else {
            if (i < 0)
                ns = inc;
            mz_set_score(z, m, ns);
            mz_fmt(want, sizeof(want), ns);
            EXPECT(c, want, "ZINCRBY mz:%d %s %s", k, a1, m);
        }
    } else if (op < 45) { /* ZREM */
        const char *m2 = mz_member();
        int n = 0, i;

        if ((i = mz_find(z, m)) >= 0) {
            mz_del_at(z, i);
            n++;
        }
        if ((i = mz_find(z, m2)) >= 0) {
            mz_del_at(z, i);
            n++;
        }
        snprintf(want, sizeof(want), ":%d", n);
        EXPECT(c, want, "ZREM mz:%d %s %s", k, m, m2);
    } else if (op < 52) { /* ZSCORE / ZRANK / ZREVRANK */
        int i = mz_find(z, m);

        if (i < 0) {
            EXPECT(c, "nil", "ZSCORE mz:%d %s", k, m);
            EXPECT(c, "nil", "ZRANK mz:%d %s", k, m);
        } else {
            mz_fmt(want, sizeof(want), z->a[i].s);
            EXPECT(c, want, "ZSCORE mz:%d %s", k, m);
            snprintf(want, sizeof(want), ":%d", i);
            EXPECT(c, want, "ZRANK mz:%d %s", k, m);
            snprintf(want, sizeof(want), ":%d", z->n - 1 - i);
            EXPECT(c, want, "ZREVRANK mz:%d %s", k, m);
        }
    } else if (op < 60) { /* ZRANGE by rank */
        int n = z->n, start = mz_pick(n + 5) - 2 - (n ? mz_pick(n + 1) : 0), stop = mz_pick(n + 5) - 3;
        int rev = mz_pick(2), s0 = start < 0 ? start + n : start, s1 = stop < 0 ? stop + n : stop;

        if (s0 < 0)
            s0 = 0;
        if (s1 >= n)
            s1 = n - 1;
        if (s0 > s1 || s0 >= n)
            snprintf(want, sizeof(want), "[]");
        else if (rev)
            mz_list(want, sizeof(want), z, n - 1 - s1, n - 1 - s0, 1, 1);
        else
            mz_list(want, sizeof(want), z, s0, s1, 0, 1);
        if (rev)
            EXPECT(c, want, "ZRANGE mz:%d %d %d REV WITHSCORES", k, start, stop);
        else
            EXPECT(c, want, "ZRANGE mz:%d %d %d WITHSCORES", k, start, stop);
    } else if (op < 70 && !lexkey) { /* ZRANGEBYSCORE / ZCOUNT / ZREMRANGEBYSCORE */
        double lo = mz_score(), hi = mz_score();
        int lox = mz_pick(2), hix = mz_pick(2), from = -1, to = -2, off = mz_pick(3), cnt = mz_pick(4) - 1;
        int which = mz_pick(4);

        for (int i = 0; i < z->n; i++) {
            double v = z->a[i].s;
            if ((lox ? v > lo : v >= lo) && (hix ? v < hi : v <= hi)) {
                if (from < 0)
                    from = i;
                to = i;
            }
        }
        mz_fmt(a1 + 1, sizeof(a1) - 1, lo);
        mz_fmt(a2 + 1, sizeof(a2) - 1, hi);
        a1[0] = '(';
        a2[0] = '(';
        const char *min = lox ? a1 : a1 + 1, *max = hix ? a2 : a2 + 1;
        int total = from < 0 ? 0 : to - from + 1;
        if (which == 0) {
            snprintf(want, sizeof(want), ":%d", total);
            EXPECT(c, want, "ZCOUNT mz:%d %s %s", k, min, max);
        } else if (which == 1) {
            /* LIMIT off cnt: cnt < 0 is no limit */
            int n = total - off;
            if (n < 0)
                n = 0;
            if (cnt >= 0 && n > cnt)
                n = cnt;
            if (n == 0)
                snprintf(want, sizeof(want), "[]");
            else
                mz_list(want, sizeof(want), z, from + off, from + off + n - 1, 0, 1);
            EXPECT(c, want, "ZRANGEBYSCORE mz:%d %s %s WITHSCORES LIMIT %d %d", k, min, max, off, cnt);
        } else if (which == 2) {
            int n = total - off;
            if (n < 0)
                n = 0;
            if (cnt >= 0 && n > cnt)
                n = cnt;
            if (n == 0)
                snprintf(want, sizeof(want), "[]");
            else
                mz_list(want, sizeof(want), z, to - off - n + 1, to - off, 1, 0);
            EXPECT(c, want, "ZRANGE mz:%d %s %s BYSCORE REV LIMIT %d %d", k, max, min, off, cnt);
        } else {
            snprintf(want, sizeof(want), ":%d", total);
            for (int i = 0; i < total; i++)
                mz_del_at(z, from);
            EXPECT(c, want, "ZREMRANGEBYSCORE mz:%d %s %s", k, min, max);
        }
    } else if (op < 76 && lexkey) { /* lex ranges on the all-zero key */
        const char *lo = mz_member(), *hi = mz_member();
        int lox = mz_pick(2), hix = mz_pick(2), inf = mz_pick(6), from = -1, to = -2;
        char min[32], max[32];

        snprintf(min, sizeof(min), "%c%s", lox ? '(' : '[', lo);
        snprintf(max, sizeof(max), "%c%s", hix ? '(' : '[', hi);
        if (inf == 0)
            snprintf(min, sizeof(min), "-");
        if (inf == 1)
            snprintf(max, sizeof(max), "+");
        for (int i = 0; i < z->n; i++) {
            int c1 = strcmp(z->a[i].m, lo), c2 = strcmp(z->a[i].m, hi);
            int ge = inf == 0 || (lox ? c1 > 0 : c1 >= 0), le = inf == 1 || (hix ? c2 < 0 : c2 <= 0);
            if (ge && le) {
                if (from < 0)
                    from = i;
                to = i;
            }
        }
        int total = from < 0 ? 0 : to - from + 1;
        if (mz_pick(3) == 0) {
            snprintf(want, sizeof(want), ":%d", total);
            for (int i = 0; i < total; i++)
                mz_del_at(z, from);
            EXPECT(c, want, "ZREMRANGEBYLEX mz:%d %s %s", k, min, max);
        } else {
            snprintf(want, sizeof(want), ":%d", total);
            EXPECT(c, want, "ZLEXCOUNT mz:%d %s %s", k, min, max);
            if (total == 0)
                snprintf(want, sizeof(want), "[]");
            else
                mz_list(want, sizeof(want), z, from, to, 1, 0);
            EXPECT(c, want, "ZREVRANGEBYLEX mz:%d %s %s", k, max, min);
        }
    } else if (op < 84) { /* pops and rank removal */
        int cnt = 1 + mz_pick(3), max = mz_pick(2), n = cnt < z->n ? cnt : z->n;

        if (mz_pick(3) == 0) {
            int start = mz_pick(4), stop = start + mz_pick(3);
            int s1 = stop >= z->n ? z->n - 1 : stop, del = start < z->n && start <= s1 ? s1 - start + 1 : 0;

            snprintf(want, sizeof(want), ":%d", del);
            for (int i = 0; i < del; i++)
                mz_del_at(z, start);
            EXPECT(c, want, "ZREMRANGEBYRANK mz:%d %d %d", k, start, stop);
            return;
        }
        if (n == 0)
            snprintf(want, sizeof(want), "[]");
        else
            mz_list(want, sizeof(want), z, max ? z->n - n : 0, max ? z->n - 1 : n - 1, max, 1);
        for (int i = 0; i < n; i++)
            mz_del_at(z, max ? z->n - 1 : 0);
        EXPECT(c, want, "%s mz:%d %d", max ? "ZPOPMAX" : "ZPOPMIN", k, cnt);
    } else if (op < 90 && !lexkey) { /* ZUNIONSTORE / ZINTERSTORE into a key */
        int k2 = mz_pick(MZ_KEYS - 1), dst = mz_pick(MZ_KEYS - 1), inter = mz_pick(2), agg = mz_pick(3);
        static const double w[] = { 1, 2, 0.5, 3 };
        double w1 = w[mz_pick(4)], w2 = w[mz_pick(4)];
        struct mz_set *r = &mz[MZ_KEYS];
        static const char *const aggs[] = { "SUM", "MIN", "MAX" };

        int seen[MZ_CAP] = { 0 };

        memset(r, 0, sizeof(*r));
        for (int side = 0; side < 2; side++) {
            struct mz_set *src = side ? &mz[k2] : z;
            double wt = side ? w2 : w1;

            for (int i = 0; i < src->n; i++) {
                double v = src->a[i].s * wt;
                int j = mz_find(r, src->a[i].m);

                if (isnan(v))
                    v = 0;
                if (j < 0) {
                    if (inter && side == 1)
                        continue;
                    snprintf(r->a[r->n].m, sizeof(r->a[0].m), "%s", src->a[i].m);
                    r->a[r->n].s = v;
                    seen[r->n++] = 1;
                    continue;
                }
                double *t = &r->a[j].s;
                if (agg == 0) {
                    *t += v;
                    if (isnan(*t))
                        *t = 0;
                } else if (agg == 1) {
                    *t = v < *t ? v : *t;
                } else {
                    *t = v > *t ? v : *t;
                }
                seen[j] = 2;
            }
        }
        if (inter) /* members of both */
            for (int i = r->n - 1; i >= 0; i--)
                if (seen[i] != 2) {
                    memmove(&r->a[i], &r->a[i + 1], (size_t)(r->n - i - 1) * sizeof(r->a[0]));
                    r->n--;
                }
        int maxlen = 0;
        for (int i = 0; i < r->n; i++) {
            if ((int)strlen(r->a[i].m) > maxlen)
                maxlen = (int)strlen(r->a[i].m);
        }
        qsort(r->a, (size_t)r->n, sizeof(r->a[0]), mz_cmp);
        r->big = r->n > MZ_MAXE || maxlen > MZ_MAXV;
        if (r->n == 0)
            r->big = 0;
        snprintf(want, sizeof(want), ":%d", r->n);
        mz_fmt(a1, sizeof(a1), w1);
        mz_fmt(a2, sizeof(a2), w2);
        EXPECT(c, want, "%s mz:%d 2 mz:%d mz:%d WEIGHTS %s %s AGGREGATE %s", inter ? "ZINTERSTORE" : "ZUNIONSTORE",
               dst, k, k2, a1, a2, aggs[agg]);
        mz[dst] = *r;
    } else if (op < 94) { /* ZRANGESTORE */
        int dst = mz_pick(MZ_KEYS), n = z->n, start = mz_pick(4), stop = start + mz_pick(10);
        int s1 = stop >= n ? n - 1 : stop, cnt = start < n && start <= s1 ? s1 - start + 1 : 0;
        struct mz_set *r = &mz[MZ_KEYS];
        int maxlen = 0;

        memset(r, 0, sizeof(*r));
        for (int i = 0; i < cnt; i++) {
            r->a[i] = z->a[start + i];
            if ((int)strlen(r->a[i].m) > maxlen)
                maxlen = (int)strlen(r->a[i].m);
        }
        r->n = cnt;
        r->big = cnt > MZ_MAXE || maxlen > MZ_MAXV;
        snprintf(want, sizeof(want), ":%d", cnt);
        EXPECT(c, want, "ZRANGESTORE mz:%d mz:%d %d %d", dst, k, start, stop);
        if (dst == MZ_KEYS - 1 && cnt) {
            /* the lex key must keep all-zero scores: rewrite it */
            for (int i = 0; i < cnt; i++)
                r->a[i].s = 0;
            freeReplyObject(tk_cmd(c, "DEL mz:%d", dst));
            for (int i = 0; i < cnt; i++)
                freeReplyObject(tk_cmd(c, "ZADD mz:%d 0 %s", dst, r->a[i].m));
            qsort(r->a, (size_t)r->n, sizeof(r->a[0]), mz_cmp);
            r->big = maxlen > MZ_MAXV; /* rebuilt by ZADD: grows as a listpack */
        }
        mz[dst] = *r;
    } else { /* ZCARD and ZRANDMEMBER */
        snprintf(want, sizeof(want), ":%d", z->n);
        EXPECT(c, want, "ZCARD mz:%d", k);
        redisReply *r = tk_cmd(c, "ZRANDMEMBER mz:%d %d", k, 3);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, (size_t)(z->n < 3 ? z->n : 3));
        for (size_t i = 0; i < r->elements; i++)
            assert_true(mz_find(z, r->element[i]->str) >= 0);
        freeReplyObject(r);
    }
}

static void test_model_random_operations(void **state)
{
    redisContext *c = tk_connect(*state);
    const char *env = getenv("STRATA_SEED"), *steps_env = getenv("STRATA_STEPS");
    unsigned long long seed = env ? strtoull(env, NULL, 10) : 20261121;
    long steps = steps_env ? atol(steps_env) : 20000;

    fprintf(stderr, "test_zset model: seed %llu, %ld steps (STRATA_SEED / STRATA_STEPS)\n", seed, steps);
    mz_rng = seed ? seed : 1;
    memset(mz, 0, sizeof(mz));
    for (int k = 0; k < MZ_KEYS; k++)
        freeReplyObject(tk_cmd(c, "DEL mz:%d", k));
    EXPECT(c, "+OK", "CONFIG SET zset-max-listpack-entries %d", MZ_MAXE);
    EXPECT(c, "+OK", "CONFIG SET zset-max-listpack-value %d", MZ_MAXV);
    for (long i = 0; i < steps; i++) {
        mz_step(c);
        if (i % 64 == 0)
            for (int k = 0; k < MZ_KEYS; k++)
                mz_check_key(c, k);
    }
    for (int k = 0; k < MZ_KEYS; k++)
        mz_check_key(c, k);
    EXPECT(c, "+OK", "CONFIG SET zset-max-listpack-entries 128");
    EXPECT(c, "+OK", "CONFIG SET zset-max-listpack-value 64");
    redisFree(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zadd_adds_and_updates),
        cmocka_unit_test(test_zadd_nx_xx_gt_lt),
        cmocka_unit_test(test_zadd_incr),
        cmocka_unit_test(test_zadd_errors),
        cmocka_unit_test(test_zincrby),
        cmocka_unit_test(test_zrem_deletes_emptied_key),
        cmocka_unit_test(test_zscore_zmscore_zcard),
        cmocka_unit_test(test_zcount_and_zlexcount),
        cmocka_unit_test(test_zrange_by_rank),
        cmocka_unit_test(test_zrange_by_score),
        cmocka_unit_test(test_zrange_by_lex),
        cmocka_unit_test(test_zrange_option_errors),
        cmocka_unit_test(test_zrangestore),
        cmocka_unit_test(test_zrank_zrevrank),
        cmocka_unit_test(test_zrank_withscore_as_redis_7_2),
        cmocka_unit_test(test_zremrange),
        cmocka_unit_test(test_zpopmin_zpopmax),
        cmocka_unit_test(test_zmpop),
        cmocka_unit_test(test_pops_resp3_shapes),
        cmocka_unit_test(test_zrandmember),
        cmocka_unit_test(test_zrandmember_large_set),
        cmocka_unit_test(test_zscan),
        cmocka_unit_test(test_zunion_zinter_zdiff),
        cmocka_unit_test(test_zsetops_errors),
        cmocka_unit_test(test_zsetops_store),
        cmocka_unit_test(test_encoding_transitions),
        cmocka_unit_test(test_type_copy_rename_memory),
        cmocka_unit_test(test_wrongtype_everywhere),
        cmocka_unit_test(test_keyspace_hits_and_misses),
        cmocka_unit_test(test_resp3_shapes),
        cmocka_unit_test(test_scores_text),
        cmocka_unit_test(test_leaderboard),
        cmocka_unit_test(test_bzpop_immediate),
        cmocka_unit_test(test_bzpop_timeouts),
        cmocka_unit_test(test_bzpop_served_by_zadd_from_another_client),
        cmocka_unit_test(test_bzpop_fifo_across_workers),
        cmocka_unit_test(test_bzpop_served_by_store_commands),
        cmocka_unit_test(test_bzpop_ignores_other_types),
        cmocka_unit_test(test_bzpop_disconnect_while_blocked),
        cmocka_unit_test(test_bzpop_client_unblock),
        cmocka_unit_test(test_bzmpop_producers_and_consumers),
        cmocka_unit_test(test_model_random_operations),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
