/*
 * test_list.c -- the list command family against a real strata-server
 * started with 3 worker threads, through hiredis and raw sockets: every
 * command and option of LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE
 * LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP, their errors and
 * edge cases, RESP2 and RESP3 reply shapes, OBJECT ENCODING transitions, and
 * the blocking BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP: FIFO service of clients
 * on several workers, several keys, sub-second timeouts, disconnects,
 * CLIENT UNBLOCK, chains of BLMOVE, and concurrent producers/consumers.
 *
 * Every expectation was checked against redis-server 7.0.15 (the binary
 * passes there with a wrapper that drops --threads). Where 7.0 differs from
 * the 7.2 behaviour Strata follows, the test asks the server which it is
 * (INFO strata_version) and says so at the assertion: OBJECT ENCODING
 * (7.0 reports every list as quicklist), LPOS RANK LLONG_MIN (7.0 accepts it
 * through undefined behaviour; 7.2 refuses it).
 *
 * One server (group setup) serves every test; each test uses its own keys
 * (prefixed with the test's topic), so tests are independent of order.
 * Waits are bounded: a blocked client is awaited through INFO
 * blocked_clients (5 s at most), and hiredis reads time out after 10 s.
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

static const char *const server_args[] = { "--threads", "3", NULL };

static int group_setup(void **state)
{
    static struct tk_server s;

    if (tk_server_start(&s, server_args) != 0)
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

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

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

/* 1 when the server is Strata (0: the reference Redis). */
static int is_strata(redisContext *c)
{
    char *v = tk_info_field(c, "strata_version");
    int yes = v != NULL;

    free(v);
    return yes;
}

/* Asserts an array reply of exactly the strings given (NULL-terminated);
 * frees the reply. */
static void expect_strs(redisReply *r, ...)
{
    va_list ap;
    size_t i = 0;
    const char *s;

    if (r->type != REDIS_REPLY_ARRAY) {
        int t = r->type;
        char msg[128];

        snprintf(msg, sizeof(msg), "%s", r->type == REDIS_REPLY_ERROR ? r->str : "");
        freeReplyObject(r);
        fail_msg("expected an array, got type %d %s", t, msg);
    }
    va_start(ap, r);
    while ((s = va_arg(ap, const char *)) != NULL) {
        if (i >= r->elements) {
            va_end(ap);
            freeReplyObject(r);
            fail_msg("array has %zu elements, expected more", i);
        }
        if (r->element[i]->type != REDIS_REPLY_STRING || strcmp(r->element[i]->str, s) != 0) {
            char got[64];

            snprintf(got, sizeof(got), "%s", r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str : "?");
            va_end(ap);
            freeReplyObject(r);
            fail_msg("element %zu: expected \"%s\", got \"%s\"", i, s, got);
        }
        i++;
    }
    va_end(ap);
    if (i != r->elements) {
        size_t n = r->elements;

        freeReplyObject(r);
        fail_msg("array has %zu elements, expected %zu", n, i);
    }
    freeReplyObject(r);
}

/* Asserts an array of integers (count given first); frees the reply. */
static void expect_ints(redisReply *r, size_t n, ...)
{
    va_list ap;

    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, n);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        long long v = va_arg(ap, long long);

        assert_int_equal(r->element[i]->type, REDIS_REPLY_INTEGER);
        assert_int_equal(r->element[i]->integer, v);
    }
    va_end(ap);
    freeReplyObject(r);
}

/* Asserts the RESP2 nil array / nil bulk (hiredis maps both to NIL). */
static void expect_nil(redisReply *r)
{
    tk_expect_nil(r);
}

static void expect_empty_array(redisReply *r)
{
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 0);
    freeReplyObject(r);
}

/* [key, [elements...]] as LMPOP/BLMPOP reply (elements NULL-terminated). */
static void expect_mpop(redisReply *r, const char *key, ...)
{
    va_list ap;
    size_t i = 0;
    const char *s;
    redisReply *a;

    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_int_equal(r->element[0]->type, REDIS_REPLY_STRING);
    assert_string_equal(r->element[0]->str, key);
    a = r->element[1];
    assert_int_equal(a->type, REDIS_REPLY_ARRAY);
    va_start(ap, key);
    while ((s = va_arg(ap, const char *)) != NULL) {
        assert_true(i < a->elements);
        assert_int_equal(a->element[i]->type, REDIS_REPLY_STRING);
        assert_string_equal(a->element[i]->str, s);
        i++;
    }
    va_end(ap);
    assert_int_equal(a->elements, i);
    freeReplyObject(r);
}

/* Waits (5 s at most) until INFO blocked_clients is n. */
static void wait_blocked(redisContext *ctl, long long n)
{
    long long deadline = now_ms() + 5000, got = -1;

    while (now_ms() < deadline) {
        got = tk_info_ll(ctl, "blocked_clients");
        if (got == n)
            return;
        sleep_ms(2);
    }
    fail_msg("blocked_clients stayed %lld, expected %lld", got, n);
}

/* Sends a command without reading its reply. */
static void send_cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    int done = 0;

    va_start(ap, fmt);
    assert_int_equal(redisvAppendCommand(c, fmt, ap), REDIS_OK);
    va_end(ap);
    while (!done)
        assert_int_equal(redisBufferWrite(c, &done), REDIS_OK);
}

/* Reads the next reply (hiredis timeout: 10 s). */
static redisReply *get_reply(redisContext *c)
{
    void *r = NULL;

    if (redisGetReply(c, &r) != REDIS_OK || !r)
        fail_msg("no reply: %s", c->errstr);
    return r;
}

/* Sends cmd on a fresh blocking client and waits until it is blocked
 * (expect_blocked clients in total). */
static redisContext *block_on(const struct tk_server *s, redisContext *ctl, long long expect_blocked,
                              const char *cmd)
{
    redisContext *c = tk_connect(s);

    send_cmd(c, cmd);
    wait_blocked(ctl, expect_blocked);
    return c;
}

/* Raw RESP3 connection (HELLO 3 already answered). */
static int raw3(const struct tk_server *s)
{
    int fd = tk_raw_connect(s);
    char buf[4096];

    tk_raw_send(fd, "HELLO 3\r\n", 9);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 10000) > 0);
    return fd;
}

/* ------------------------------------------------------------------------ */
/* Pushes, LLEN, LRANGE                                                     */
/* ------------------------------------------------------------------------ */

static void test_push_both_ends_and_range(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "RPUSH push:k b c"), 2);
    tk_expect_int(tk_cmd(c, "LPUSH push:k a z"), 4); /* z a b c */
    tk_expect_int(tk_cmd(c, "RPUSH push:k 10 -5"), 6);
    tk_expect_int(tk_cmd(c, "LLEN push:k"), 6);
    expect_strs(tk_cmd(c, "LRANGE push:k 0 -1"), "z", "a", "b", "c", "10", "-5", NULL);
    expect_strs(tk_cmd(c, "LRANGE push:k 1 2"), "a", "b", NULL);
    expect_strs(tk_cmd(c, "LRANGE push:k -2 -1"), "10", "-5", NULL);
    expect_strs(tk_cmd(c, "LRANGE push:k -100 1"), "z", "a", NULL);
    expect_strs(tk_cmd(c, "LRANGE push:k 4 100"), "10", "-5", NULL);
    expect_empty_array(tk_cmd(c, "LRANGE push:k 3 2"));
    expect_empty_array(tk_cmd(c, "LRANGE push:k 6 10"));
    expect_empty_array(tk_cmd(c, "LRANGE push:k 0 -7"));
    expect_empty_array(tk_cmd(c, "LRANGE push:none 0 -1"));
    expect_strs(tk_cmd(c, "LRANGE push:k -9223372036854775808 9223372036854775807"), "z", "a", "b", "c", "10",
                "-5", NULL);
    tk_expect_error(tk_cmd(c, "LRANGE push:k a 1"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "LRANGE push:none 0 1.5"), "ERR value is not an integer or out of range");
    tk_expect_int(tk_cmd(c, "LLEN push:none"), 0);
    tk_expect_status(tk_cmd(c, "TYPE push:k"), "list");
    redisFree(c);
}

static void test_binary_and_empty_elements(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    tk_expect_int(tk_cmd(c, "RPUSH bin:k %b %b", "a\0b", (size_t)3, "", (size_t)0), 2);
    r = tk_cmd(c, "LRANGE bin:k 0 -1");
    assert_int_equal(r->elements, 2);
    assert_int_equal(r->element[0]->len, 3);
    assert_memory_equal(r->element[0]->str, "a\0b", 3);
    assert_int_equal(r->element[1]->len, 0);
    freeReplyObject(r);
    /* integers keep their exact text; non-canonical ones stay distinct */
    tk_expect_int(tk_cmd(c, "RPUSH bin:n 007 7 -0 9223372036854775807 -9223372036854775808"), 5);
    expect_strs(tk_cmd(c, "LRANGE bin:n 0 -1"), "007", "7", "-0", "9223372036854775807", "-9223372036854775808",
                NULL);
    tk_expect_int(tk_cmd(c, "LREM bin:n 0 7"), 1);
    tk_expect_int(tk_cmd(c, "LPOS bin:n 007"), 0);
    redisFree(c);
}

static void test_pushx_only_on_existing_lists(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "LPUSHX pushx:k a"), 0);
    tk_expect_int(tk_cmd(c, "RPUSHX pushx:k a b"), 0);
    tk_expect_int(tk_cmd(c, "EXISTS pushx:k"), 0);
    tk_expect_int(tk_cmd(c, "RPUSH pushx:k m"), 1);
    tk_expect_int(tk_cmd(c, "LPUSHX pushx:k l k"), 3);
    tk_expect_int(tk_cmd(c, "RPUSHX pushx:k n o"), 5);
    expect_strs(tk_cmd(c, "LRANGE pushx:k 0 -1"), "k", "l", "m", "n", "o", NULL);
    tk_expect_status(tk_cmd(c, "SET pushx:s v"), "OK");
    tk_expect_error(tk_cmd(c, "LPUSHX pushx:s a"), "WRONGTYPE");
    redisFree(c);
}

static void test_wrongtype_everywhere(void **state)
{
    redisContext *c = tk_connect(*state);
    const char *cmds[] = {
        "LPUSH wt:s a", "RPUSH wt:s a", "RPUSHX wt:s a", "LPOP wt:s", "RPOP wt:s 2", "LLEN wt:s",
        "LRANGE wt:s 0 -1", "LINDEX wt:s 0", "LSET wt:s 0 a", "LINSERT wt:s BEFORE a b", "LREM wt:s 0 a",
        "LTRIM wt:s 0 1", "LPOS wt:s a", "LMOVE wt:s wt:l LEFT LEFT", "LMOVE wt:l wt:s LEFT LEFT",
        "RPOPLPUSH wt:l wt:s", "LMPOP 1 wt:s LEFT", "BLPOP wt:s 0", "BRPOP wt:s wt:l 0",
        "BLMOVE wt:s wt:l LEFT LEFT 0", "BLMOVE wt:l wt:s LEFT LEFT 0", "BLMPOP 0 1 wt:s RIGHT", NULL,
    };

    tk_expect_status(tk_cmd(c, "SET wt:s v"), "OK");
    tk_expect_int(tk_cmd(c, "RPUSH wt:l x"), 1);
    for (int i = 0; cmds[i]; i++)
        tk_expect_error(tk_cmd(c, cmds[i]), "WRONGTYPE Operation against a key holding the wrong kind of value");
    /* nothing moved */
    expect_strs(tk_cmd(c, "LRANGE wt:l 0 -1"), "x", NULL);
    /* a key of another type met after a list with elements is not looked at */
    expect_strs(tk_cmd(c, "BLPOP wt:l wt:s 0"), "wt:l", "x", NULL);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* LPOP RPOP                                                                */
/* ------------------------------------------------------------------------ */

static void test_pop_single_and_count(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "RPUSH pop:k a b c d e"), 5);
    tk_expect_str(tk_cmd(c, "LPOP pop:k"), "a");
    tk_expect_str(tk_cmd(c, "RPOP pop:k"), "e");
    expect_strs(tk_cmd(c, "LPOP pop:k 2"), "b", "c", NULL);
    expect_empty_array(tk_cmd(c, "LPOP pop:k 0"));
    tk_expect_int(tk_cmd(c, "RPUSH pop:k x y"), 3);
    expect_strs(tk_cmd(c, "RPOP pop:k 2"), "y", "x", NULL);
    expect_strs(tk_cmd(c, "RPOP pop:k 10"), "d", NULL);
    tk_expect_int(tk_cmd(c, "EXISTS pop:k"), 0); /* emptied: gone */
    expect_nil(tk_cmd(c, "LPOP pop:k"));
    expect_nil(tk_cmd(c, "LPOP pop:k 2"));
    expect_nil(tk_cmd(c, "RPOP pop:k 0"));
    tk_expect_error(tk_cmd(c, "LPOP pop:k -1"), "ERR value is out of range, must be positive");
    tk_expect_error(tk_cmd(c, "RPOP pop:k abc"), "ERR value is out of range, must be positive");
    tk_expect_error(tk_cmd(c, "LPOP pop:k 1 2"), "ERR wrong number of arguments for 'lpop' command");
    tk_expect_error(tk_cmd(c, "RPOP"), "ERR wrong number of arguments for 'rpop' command");
    redisFree(c);
}

/* Exact bytes: a missing key answers a nil bulk without count and a nil
 * array with one, in RESP2; `_` for both in RESP3. */
static void test_pop_null_shapes_resp2_and_resp3(void **state)
{
    int fd = tk_raw_connect(*state);

    tk_raw_expect(fd, "LPOP nullshape:none\r\n", "$-1\r\n");
    tk_raw_expect(fd, "LPOP nullshape:none 1\r\n", "*-1\r\n");
    tk_raw_expect(fd, "RPOP nullshape:none 0\r\n", "*-1\r\n");
    tk_raw_expect(fd, "RPUSH nullshape:k a\r\n", ":1\r\n");
    tk_raw_expect(fd, "LPOP nullshape:k 0\r\n", "*0\r\n");
    tk_raw_expect(fd, "LPOP nullshape:k 5\r\n", "*1\r\n$1\r\na\r\n");
    tk_raw_expect(fd, "LINDEX nullshape:none 0\r\n", "$-1\r\n");
    tk_raw_expect(fd, "LPOS nullshape:none a\r\n", "$-1\r\n");
    tk_raw_expect(fd, "LPOS nullshape:none a COUNT 0\r\n", "*0\r\n");
    tk_raw_expect(fd, "LMPOP 1 nullshape:none LEFT\r\n", "*-1\r\n");
    tk_raw_expect(fd, "LMOVE nullshape:none nullshape:d LEFT LEFT\r\n", "$-1\r\n");
    tk_raw_expect(fd, "BLPOP nullshape:none 0.01\r\n", "*-1\r\n");
    tk_raw_expect(fd, "BLMPOP 0.01 1 nullshape:none LEFT\r\n", "*-1\r\n");
    /* a timed-out BLMOVE answers a null array, unlike LMOVE's null bulk */
    tk_raw_expect(fd, "BLMOVE nullshape:none nullshape:d LEFT LEFT 0.01\r\n", "*-1\r\n");
    tk_raw_expect(fd, "BRPOPLPUSH nullshape:none nullshape:d 0.01\r\n", "*-1\r\n");
    close(fd);

    fd = raw3(*state);
    tk_raw_expect(fd, "LPOP nullshape3:none\r\n", "_\r\n");
    tk_raw_expect(fd, "LPOP nullshape3:none 1\r\n", "_\r\n");
    tk_raw_expect(fd, "RPUSH nullshape3:k a b\r\n", ":2\r\n");
    tk_raw_expect(fd, "RPOP nullshape3:k 0\r\n", "*0\r\n");
    tk_raw_expect(fd, "LINDEX nullshape3:k 5\r\n", "_\r\n");
    tk_raw_expect(fd, "LPOS nullshape3:k zz\r\n", "_\r\n");
    tk_raw_expect(fd, "LPOS nullshape3:k b COUNT 0\r\n", "*1\r\n:1\r\n");
    tk_raw_expect(fd, "LMPOP 1 nullshape3:none LEFT\r\n", "_\r\n");
    tk_raw_expect(fd, "LMPOP 1 nullshape3:k RIGHT\r\n", "*2\r\n$12\r\nnullshape3:k\r\n*1\r\n$1\r\nb\r\n");
    tk_raw_expect(fd, "BLPOP nullshape3:k 0\r\n", "*2\r\n$12\r\nnullshape3:k\r\n$1\r\na\r\n");
    tk_raw_expect(fd, "BLPOP nullshape3:none 0.01\r\n", "_\r\n");
    tk_raw_expect(fd, "BLMPOP 0.01 1 nullshape3:none LEFT\r\n", "_\r\n");
    tk_raw_expect(fd, "BLMOVE nullshape3:none nullshape3:d LEFT LEFT 0.01\r\n", "_\r\n");
    tk_raw_expect(fd, "LMOVE nullshape3:none nullshape3:d LEFT LEFT\r\n", "_\r\n");
    close(fd);
}

/* ------------------------------------------------------------------------ */
/* LINDEX LSET LINSERT LREM LTRIM                                           */
/* ------------------------------------------------------------------------ */

static void test_lindex(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "RPUSH lindex:k a b c"), 3);
    tk_expect_str(tk_cmd(c, "LINDEX lindex:k 0"), "a");
    tk_expect_str(tk_cmd(c, "LINDEX lindex:k 2"), "c");
    tk_expect_str(tk_cmd(c, "LINDEX lindex:k -1"), "c");
    tk_expect_str(tk_cmd(c, "LINDEX lindex:k -3"), "a");
    expect_nil(tk_cmd(c, "LINDEX lindex:k 3"));
    expect_nil(tk_cmd(c, "LINDEX lindex:k -4"));
    expect_nil(tk_cmd(c, "LINDEX lindex:k -9223372036854775808"));
    tk_expect_error(tk_cmd(c, "LINDEX lindex:k x"), "ERR value is not an integer or out of range");
    /* a missing key answers nil before the index is parsed */
    expect_nil(tk_cmd(c, "LINDEX lindex:none x"));
    redisFree(c);
}

static void test_lset(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "LSET lset:none 0 x"), "ERR no such key");
    tk_expect_error(tk_cmd(c, "LSET lset:none x x"), "ERR no such key");
    tk_expect_int(tk_cmd(c, "RPUSH lset:k a b c"), 3);
    tk_expect_status(tk_cmd(c, "LSET lset:k 0 A"), "OK");
    tk_expect_status(tk_cmd(c, "LSET lset:k -1 C"), "OK");
    tk_expect_status(tk_cmd(c, "LSET lset:k 1 12345"), "OK");
    expect_strs(tk_cmd(c, "LRANGE lset:k 0 -1"), "A", "12345", "C", NULL);
    tk_expect_error(tk_cmd(c, "LSET lset:k 3 x"), "ERR index out of range");
    tk_expect_error(tk_cmd(c, "LSET lset:k -4 x"), "ERR index out of range");
    tk_expect_error(tk_cmd(c, "LSET lset:k x x"), "ERR value is not an integer or out of range");
    redisFree(c);
}

static void test_linsert(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "RPUSH linsert:k a c c"), 3);
    tk_expect_int(tk_cmd(c, "LINSERT linsert:k BEFORE c b"), 4);
    tk_expect_int(tk_cmd(c, "LINSERT linsert:k after c d"), 5); /* the first c, from the head */
    tk_expect_int(tk_cmd(c, "LINSERT linsert:k AfTeR a a2"), 6);
    expect_strs(tk_cmd(c, "LRANGE linsert:k 0 -1"), "a", "a2", "b", "c", "d", "c", NULL);
    tk_expect_int(tk_cmd(c, "LINSERT linsert:k BEFORE zz x"), -1);
    tk_expect_int(tk_cmd(c, "LINSERT linsert:none BEFORE a x"), 0);
    tk_expect_int(tk_cmd(c, "EXISTS linsert:none"), 0);
    tk_expect_error(tk_cmd(c, "LINSERT linsert:k MIDDLE a x"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "LINSERT linsert:none MIDDLE a x"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "LINSERT linsert:k BEFORE a"), "ERR wrong number of arguments for 'linsert' command");
    redisFree(c);
}

static void test_lrem(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "RPUSH lrem:k x a x b x x c x"), 8);
    tk_expect_int(tk_cmd(c, "LREM lrem:k 2 x"), 2);
    expect_strs(tk_cmd(c, "LRANGE lrem:k 0 -1"), "a", "b", "x", "x", "c", "x", NULL);
    tk_expect_int(tk_cmd(c, "LREM lrem:k -2 x"), 2);
    expect_strs(tk_cmd(c, "LRANGE lrem:k 0 -1"), "a", "b", "x", "c", NULL);
    tk_expect_int(tk_cmd(c, "LREM lrem:k 0 zz"), 0);
    tk_expect_int(tk_cmd(c, "LREM lrem:k 0 x"), 1);
    tk_expect_int(tk_cmd(c, "LREM lrem:k -100 a"), 1);
    tk_expect_int(tk_cmd(c, "LREM lrem:k 0 b"), 1);
    tk_expect_int(tk_cmd(c, "LREM lrem:k 1 c"), 1);
    tk_expect_int(tk_cmd(c, "EXISTS lrem:k"), 0);
    tk_expect_int(tk_cmd(c, "LREM lrem:none 0 a"), 0);
    tk_expect_error(tk_cmd(c, "LREM lrem:none x a"), "ERR value is not an integer or out of range");
    redisFree(c);
}

static void test_ltrim(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "RPUSH ltrim:k a b c d e f"), 6);
    tk_expect_status(tk_cmd(c, "LTRIM ltrim:k 1 -2"), "OK");
    expect_strs(tk_cmd(c, "LRANGE ltrim:k 0 -1"), "b", "c", "d", "e", NULL);
    tk_expect_status(tk_cmd(c, "LTRIM ltrim:k -100 100"), "OK");
    tk_expect_int(tk_cmd(c, "LLEN ltrim:k"), 4);
    tk_expect_status(tk_cmd(c, "LTRIM ltrim:k 2 2"), "OK");
    expect_strs(tk_cmd(c, "LRANGE ltrim:k 0 -1"), "d", NULL);
    tk_expect_status(tk_cmd(c, "LTRIM ltrim:k 1 0"), "OK"); /* empty range: the key goes */
    tk_expect_int(tk_cmd(c, "EXISTS ltrim:k"), 0);
    tk_expect_status(tk_cmd(c, "LTRIM ltrim:none 0 1"), "OK");
    tk_expect_error(tk_cmd(c, "LTRIM ltrim:none a 1"), "ERR value is not an integer or out of range");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* LPOS                                                                     */
/* ------------------------------------------------------------------------ */

static void test_lpos(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "RPUSH lpos:k a b c 1 2 3 c c"), 8);
    tk_expect_int(tk_cmd(c, "LPOS lpos:k c"), 2);
    tk_expect_int(tk_cmd(c, "LPOS lpos:k c RANK 2"), 6);
    tk_expect_int(tk_cmd(c, "LPOS lpos:k c RANK -1"), 7);
    tk_expect_int(tk_cmd(c, "LPOS lpos:k c RANK -3"), 2);
    expect_nil(tk_cmd(c, "LPOS lpos:k c RANK 4"));
    expect_ints(tk_cmd(c, "LPOS lpos:k c COUNT 2"), 2, 2LL, 6LL);
    expect_ints(tk_cmd(c, "LPOS lpos:k c COUNT 0"), 3, 2LL, 6LL, 7LL);
    expect_ints(tk_cmd(c, "LPOS lpos:k c COUNT 0 RANK 2"), 2, 6LL, 7LL);
    expect_ints(tk_cmd(c, "LPOS lpos:k c COUNT 2 RANK -1"), 2, 7LL, 6LL);
    expect_ints(tk_cmd(c, "LPOS lpos:k c COUNT 0 MAXLEN 7"), 2, 2LL, 6LL);
    expect_nil(tk_cmd(c, "LPOS lpos:k c MAXLEN 2"));
    tk_expect_int(tk_cmd(c, "LPOS lpos:k c MAXLEN 3"), 2);
    expect_nil(tk_cmd(c, "LPOS lpos:k a MAXLEN 1 RANK -1"));
    tk_expect_int(tk_cmd(c, "LPOS lpos:k c MAXLEN 1 RANK -1"), 7);
    expect_nil(tk_cmd(c, "LPOS lpos:k a MAXLEN 7 RANK -1"));
    tk_expect_int(tk_cmd(c, "LPOS lpos:k 3"), 5);
    expect_empty_array(tk_cmd(c, "LPOS lpos:k zz COUNT 0"));
    expect_nil(tk_cmd(c, "LPOS lpos:k zz"));
    expect_nil(tk_cmd(c, "LPOS lpos:none a"));
    expect_empty_array(tk_cmd(c, "LPOS lpos:none a COUNT 1"));
    tk_expect_error(tk_cmd(c, "LPOS lpos:k a RANK 0"),
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or "
                    "use negative to start from the end of the list");
    tk_expect_error(tk_cmd(c, "LPOS lpos:none a RANK 0"), "ERR RANK can't be zero");
    tk_expect_error(tk_cmd(c, "LPOS lpos:k a RANK x"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "LPOS lpos:k a COUNT -1"), "ERR COUNT can't be negative");
    tk_expect_error(tk_cmd(c, "LPOS lpos:k a COUNT x"), "ERR COUNT can't be negative");
    tk_expect_error(tk_cmd(c, "LPOS lpos:k a MAXLEN -1"), "ERR MAXLEN can't be negative");
    tk_expect_error(tk_cmd(c, "LPOS lpos:k a MAXLEN x"), "ERR MAXLEN can't be negative");
    tk_expect_error(tk_cmd(c, "LPOS lpos:k a COUNT"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "LPOS lpos:k a FOO 1"), "ERR syntax error");
    if (is_strata(c))
        /* Redis 7.2 refuses RANK LLONG_MIN (7.0.15 answers 7 through undefined behaviour) */
        tk_expect_error(tk_cmd(c, "LPOS lpos:k c RANK -9223372036854775808"),
                        "ERR value is out of range, value must between -9223372036854775807 and "
                        "9223372036854775807");
    expect_nil(tk_cmd(c, "LPOS lpos:k c RANK -9223372036854775807"));
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* LMOVE RPOPLPUSH LMPOP                                                    */
/* ------------------------------------------------------------------------ */

static void test_lmove_all_directions(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "RPUSH lmove:s a b c d"), 4);
    tk_expect_str(tk_cmd(c, "LMOVE lmove:s lmove:d LEFT LEFT"), "a");
    tk_expect_str(tk_cmd(c, "LMOVE lmove:s lmove:d LEFT RIGHT"), "b");
    tk_expect_str(tk_cmd(c, "LMOVE lmove:s lmove:d right left"), "d");
    tk_expect_str(tk_cmd(c, "LMOVE lmove:s lmove:d RIGHT RIGHT"), "c");
    tk_expect_int(tk_cmd(c, "EXISTS lmove:s"), 0);
    expect_strs(tk_cmd(c, "LRANGE lmove:d 0 -1"), "d", "a", "b", "c", NULL);
    expect_nil(tk_cmd(c, "LMOVE lmove:s lmove:d LEFT LEFT"));
    tk_expect_error(tk_cmd(c, "LMOVE lmove:s lmove:d UP LEFT"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "LMOVE lmove:d lmove:d LEFT DOWN"), "ERR syntax error");
    /* same key: rotation, including a single element */
    tk_expect_str(tk_cmd(c, "LMOVE lmove:d lmove:d LEFT RIGHT"), "d");
    expect_strs(tk_cmd(c, "LRANGE lmove:d 0 -1"), "a", "b", "c", "d", NULL);
    tk_expect_int(tk_cmd(c, "RPUSH lmove:one x"), 1);
    tk_expect_str(tk_cmd(c, "LMOVE lmove:one lmove:one RIGHT LEFT"), "x");
    expect_strs(tk_cmd(c, "LRANGE lmove:one 0 -1"), "x", NULL);
    /* integers keep their text across the move */
    tk_expect_int(tk_cmd(c, "RPUSH lmove:n 42"), 1);
    tk_expect_str(tk_cmd(c, "LMOVE lmove:n lmove:d LEFT LEFT"), "42");
    tk_expect_str(tk_cmd(c, "LINDEX lmove:d 0"), "42");
    redisFree(c);
}

static void test_rpoplpush(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "RPUSH rpl:s a b c"), 3);
    tk_expect_str(tk_cmd(c, "RPOPLPUSH rpl:s rpl:d"), "c");
    tk_expect_str(tk_cmd(c, "RPOPLPUSH rpl:s rpl:d"), "b");
    expect_strs(tk_cmd(c, "LRANGE rpl:d 0 -1"), "b", "c", NULL);
    tk_expect_str(tk_cmd(c, "RPOPLPUSH rpl:d rpl:d"), "c");
    expect_strs(tk_cmd(c, "LRANGE rpl:d 0 -1"), "c", "b", NULL);
    expect_nil(tk_cmd(c, "RPOPLPUSH rpl:none rpl:d"));
    tk_expect_int(tk_cmd(c, "EXISTS rpl:none"), 0);
    redisFree(c);
}

static void test_lmpop(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "RPUSH lmpop:b 1 2 3 4"), 4);
    tk_expect_int(tk_cmd(c, "RPUSH lmpop:c x"), 1);
    expect_mpop(tk_cmd(c, "LMPOP 3 lmpop:a lmpop:b lmpop:c LEFT"), "lmpop:b", "1", NULL);
    expect_mpop(tk_cmd(c, "LMPOP 2 lmpop:a lmpop:b RIGHT COUNT 2"), "lmpop:b", "4", "3", NULL);
    expect_mpop(tk_cmd(c, "LMPOP 2 lmpop:b lmpop:c left count 10"), "lmpop:b", "2", NULL);
    tk_expect_int(tk_cmd(c, "EXISTS lmpop:b"), 0);
    expect_mpop(tk_cmd(c, "LMPOP 2 lmpop:b lmpop:c LEFT"), "lmpop:c", "x", NULL);
    expect_nil(tk_cmd(c, "LMPOP 2 lmpop:b lmpop:c LEFT"));
    tk_expect_error(tk_cmd(c, "LMPOP 0 lmpop:a LEFT"), "ERR numkeys should be greater than 0");
    tk_expect_error(tk_cmd(c, "LMPOP -1 lmpop:a LEFT"), "ERR numkeys should be greater than 0");
    tk_expect_error(tk_cmd(c, "LMPOP x lmpop:a LEFT"), "ERR numkeys should be greater than 0");
    tk_expect_error(tk_cmd(c, "LMPOP 2 lmpop:a LEFT"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "LMPOP 1 lmpop:a MIDDLE"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "LMPOP 1 lmpop:a LEFT COUNT 0"), "ERR count should be greater than 0");
    tk_expect_error(tk_cmd(c, "LMPOP 1 lmpop:a LEFT COUNT -1"), "ERR count should be greater than 0");
    tk_expect_error(tk_cmd(c, "LMPOP 1 lmpop:a LEFT COUNT x"), "ERR count should be greater than 0");
    tk_expect_error(tk_cmd(c, "LMPOP 1 lmpop:a LEFT COUNT 1 COUNT 1"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "LMPOP 1 lmpop:a LEFT FOO"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "LMPOP 1 lmpop:a LEFT COUNT"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "LMPOP 1 lmpop:a"), "ERR wrong number of arguments for 'lmpop' command");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Encodings, big lists, counters                                           */
/* ------------------------------------------------------------------------ */

/* Redis 7.2: a list is "listpack" while it fits one node of
 * list-max-listpack-size, "quicklist" past it, and back to "listpack" once
 * one node of at most half the limit is left. Redis 7.0 says "quicklist"
 * for every list. */
static void test_object_encoding_transitions(void **state)
{
    redisContext *c = tk_connect(*state);
    int strata = is_strata(c);
    const char *small = strata ? "listpack" : "quicklist";
    char big[9000];

    tk_expect_status(tk_cmd(c, "CONFIG SET list-max-listpack-size 3"), "OK");
    tk_expect_int(tk_cmd(c, "RPUSH enc:k a b c"), 3);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING enc:k"), small);
    tk_expect_int(tk_cmd(c, "RPUSH enc:k d"), 4);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING enc:k"), "quicklist");
    tk_expect_str(tk_cmd(c, "RPOP enc:k"), "d");
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING enc:k"), "quicklist"); /* 3 > 3 / 2 */
    expect_strs(tk_cmd(c, "RPOP enc:k 2"), "c", "b", NULL);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING enc:k"), small);
    /* a batch that passes the limit converts at once */
    tk_expect_int(tk_cmd(c, "LPUSH enc:k2 1 2 3 4"), 4);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING enc:k2"), "quicklist");
    /* LINSERT and LSET grow it too; LREM and LTRIM shrink it */
    tk_expect_int(tk_cmd(c, "RPUSH enc:k3 a b c"), 3);
    tk_expect_int(tk_cmd(c, "LINSERT enc:k3 BEFORE zz x"), -1); /* converted even without the pivot */
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING enc:k3"), "quicklist");
    tk_expect_int(tk_cmd(c, "LREM enc:k3 0 a"), 1);
    tk_expect_int(tk_cmd(c, "LREM enc:k3 0 b"), 1);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING enc:k3"), small);
    tk_expect_status(tk_cmd(c, "CONFIG SET list-max-listpack-size -2"), "OK");
    /* byte limit: one 9000-byte element does not fit an 8 KB listpack */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    tk_expect_int(tk_cmd(c, "RPUSH enc:k4 a"), 1);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING enc:k4"), small);
    tk_expect_status(tk_cmd(c, "LSET enc:k4 0 %s", big), "OK");
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING enc:k4"), "quicklist");
    tk_expect_status(tk_cmd(c, "LSET enc:k4 0 a"), "OK");
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING enc:k4"), small);
    redisFree(c);
}

/* 20,000 elements (many nodes) driven by every positional command and
 * compared with a model kept here. */
static void test_big_list_against_model(void **state)
{
    redisContext *c = tk_connect(*state);
    enum { N = 20000 };
    static int model[N + 16];
    int n = 0;
    redisReply *r;

    for (int i = 0; i < N; i += 500) {
        char cmd[8192];
        size_t off = (size_t)snprintf(cmd, sizeof(cmd), "RPUSH big:k");

        for (int j = i; j < i + 500; j++) {
            off += (size_t)snprintf(cmd + off, sizeof(cmd) - off, " %d", j);
            model[n++] = j;
        }
        tk_expect_int(tk_cmd(c, cmd), n);
    }
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING big:k"), "quicklist");
    tk_expect_str(tk_cmd(c, "LINDEX big:k 12345"), "12345");
    tk_expect_str(tk_cmd(c, "LINDEX big:k -7000"), "13000");
    tk_expect_status(tk_cmd(c, "LSET big:k 9999 -1"), "OK");
    model[9999] = -1;
    tk_expect_int(tk_cmd(c, "LINSERT big:k AFTER 15000 -2"), N + 1);
    memmove(model + 15002, model + 15001, (size_t)(n - 15001) * sizeof(int));
    model[15001] = -2;
    n++;
    tk_expect_int(tk_cmd(c, "LREM big:k 0 5000"), 1);
    memmove(model + 5000, model + 5001, (size_t)(n - 5001) * sizeof(int));
    n--;
    tk_expect_int(tk_cmd(c, "LPOS big:k -2"), 15000);
    tk_expect_int(tk_cmd(c, "LPOS big:k -1 RANK -1"), 9998);
    r = tk_cmd(c, "LRANGE big:k 0 -1");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, (size_t)n);
    for (int i = 0; i < n; i++)
        assert_int_equal(strtol(r->element[i]->str, NULL, 10), model[i]);
    freeReplyObject(r);
    r = tk_cmd(c, "LRANGE big:k 9990 10010");
    assert_int_equal(r->elements, 21);
    for (int i = 0; i < 21; i++)
        assert_int_equal(strtol(r->element[i]->str, NULL, 10), model[9990 + i]);
    freeReplyObject(r);
    tk_expect_status(tk_cmd(c, "LTRIM big:k 100 -101"), "OK");
    tk_expect_int(tk_cmd(c, "LLEN big:k"), n - 200);
    tk_expect_str(tk_cmd(c, "LINDEX big:k 0"), "100");
    redisFree(c);
}

static void test_read_commands_count_hits_and_misses(void **state)
{
    redisContext *c = tk_connect(*state);
    long long h0, m0;

    tk_expect_int(tk_cmd(c, "RPUSH hits:k a"), 1);
    h0 = tk_info_ll(c, "keyspace_hits");
    m0 = tk_info_ll(c, "keyspace_misses");
    tk_expect_int(tk_cmd(c, "LLEN hits:k"), 1);
    expect_strs(tk_cmd(c, "LRANGE hits:k 0 -1"), "a", NULL);
    tk_expect_str(tk_cmd(c, "LINDEX hits:k 0"), "a");
    tk_expect_int(tk_cmd(c, "LPOS hits:k a"), 0);
    tk_expect_int(tk_cmd(c, "LLEN hits:none"), 0);
    expect_nil(tk_cmd(c, "LINDEX hits:none 0"));
    /* writes do not count */
    tk_expect_int(tk_cmd(c, "RPUSH hits:k b"), 2);
    tk_expect_str(tk_cmd(c, "LPOP hits:k"), "a");
    expect_nil(tk_cmd(c, "LPOP hits:none"));
    assert_int_equal(tk_info_ll(c, "keyspace_hits"), h0 + 4);
    assert_int_equal(tk_info_ll(c, "keyspace_misses"), m0 + 2);
    redisFree(c);
}

static void test_arity_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "LPUSH k"), "ERR wrong number of arguments for 'lpush' command");
    tk_expect_error(tk_cmd(c, "LLEN"), "ERR wrong number of arguments for 'llen' command");
    tk_expect_error(tk_cmd(c, "LRANGE k 0"), "ERR wrong number of arguments for 'lrange' command");
    tk_expect_error(tk_cmd(c, "LPOS k"), "ERR wrong number of arguments for 'lpos' command");
    tk_expect_error(tk_cmd(c, "BLPOP k"), "ERR wrong number of arguments for 'blpop' command");
    tk_expect_error(tk_cmd(c, "BLMOVE a b LEFT LEFT"), "ERR wrong number of arguments for 'blmove' command");
    tk_expect_error(tk_cmd(c, "BLMPOP 0 1 k"), "ERR wrong number of arguments for 'blmpop' command");
    tk_expect_error(tk_cmd(c, "RPOPLPUSH a"), "ERR wrong number of arguments for 'rpoplpush' command");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Blocking: immediate service, timeouts, errors                           */
/* ------------------------------------------------------------------------ */

static void test_blocking_served_at_once_like_plain_pops(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "RPUSH now:b a b c"), 3);
    expect_strs(tk_cmd(c, "BLPOP now:a now:b 0"), "now:b", "a", NULL);
    expect_strs(tk_cmd(c, "BRPOP now:a now:b 1"), "now:b", "c", NULL);
    tk_expect_str(tk_cmd(c, "BLMOVE now:b now:d LEFT RIGHT 0"), "b");
    tk_expect_int(tk_cmd(c, "EXISTS now:b"), 0);
    tk_expect_str(tk_cmd(c, "BRPOPLPUSH now:d now:e 0"), "b");
    tk_expect_int(tk_cmd(c, "RPUSH now:m 1 2 3"), 3);
    expect_mpop(tk_cmd(c, "BLMPOP 0 2 now:a now:m RIGHT COUNT 2"), "now:m", "3", "2", NULL);
    expect_mpop(tk_cmd(c, "BLMPOP 0 1 now:m LEFT"), "now:m", "1", NULL);
    tk_expect_int(tk_cmd(c, "EXISTS now:m"), 0);
    redisFree(c);
}

static void test_blocking_argument_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "BLPOP berr:k -1"), "ERR timeout is negative");
    tk_expect_error(tk_cmd(c, "BLPOP berr:k inf"), "ERR timeout is negative");
    tk_expect_error(tk_cmd(c, "BLPOP berr:k 1e16"), "ERR timeout is negative");
    tk_expect_error(tk_cmd(c, "BRPOP berr:k abc"), "ERR timeout is not a float or out of range");
    tk_expect_error(tk_cmd(c, "BRPOP berr:k nan"), "ERR timeout is not a float or out of range");
    tk_expect_error(tk_cmd(c, "BLPOP berr:k 1x"), "ERR timeout is not a float or out of range");
    tk_expect_error(tk_cmd(c, "BLPOP berr:k 0.1 extra"), "ERR timeout is not a float or out of range");
    tk_expect_error(tk_cmd(c, "BLMOVE berr:k berr:d LEFT LEFT -0.5"), "ERR timeout is negative");
    tk_expect_error(tk_cmd(c, "BLMOVE berr:k berr:d UP LEFT -1"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BRPOPLPUSH berr:k berr:d x"), "ERR timeout is not a float or out of range");
    tk_expect_error(tk_cmd(c, "BLMPOP -1 1 berr:k LEFT"), "ERR timeout is negative");
    /* BLMPOP checks numkeys, direction and COUNT before the timeout */
    tk_expect_error(tk_cmd(c, "BLMPOP x 0 berr:k LEFT"), "ERR numkeys should be greater than 0");
    tk_expect_error(tk_cmd(c, "BLMPOP x 1 berr:k UP"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BLMPOP x 1 berr:k LEFT COUNT 0"), "ERR count should be greater than 0");
    /* a source of another type: WRONGTYPE; a missing source blocks whatever
     * the destination holds (here: times out) */
    tk_expect_status(tk_cmd(c, "SET berr:s v"), "OK");
    expect_nil(tk_cmd(c, "BLMOVE berr:none berr:s LEFT LEFT 0.05"));
    tk_expect_int(tk_cmd(c, "EXISTS berr:k berr:d berr:none"), 0);
    redisFree(c);
}

static void test_subsecond_timeout_returns_nil(void **state)
{
    redisContext *c = tk_connect(*state);
    long long t0 = now_ms(), dt;

    expect_nil(tk_cmd(c, "BLPOP tmo:k 0.1"));
    dt = now_ms() - t0;
    assert_true(dt >= 90);
    assert_true(dt < 5000);
    t0 = now_ms();
    expect_nil(tk_cmd(c, "BLMOVE tmo:k tmo:d RIGHT LEFT 0.15"));
    dt = now_ms() - t0;
    assert_true(dt >= 140 && dt < 5000);
    t0 = now_ms();
    expect_nil(tk_cmd(c, "BLMPOP 0.05 2 tmo:k tmo:j LEFT COUNT 3"));
    dt = now_ms() - t0;
    assert_true(dt >= 40 && dt < 5000);
    tk_expect_int(tk_cmd(c, "EXISTS tmo:k tmo:d"), 0);
    assert_int_equal(tk_info_ll(c, "blocked_clients"), 0);
    redisFree(c);
}

/* A shorter timeout started later still fires first. */
static void test_timeouts_fire_in_deadline_order(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *a = tk_connect(*state), *b = tk_connect(*state);
    long long t0 = now_ms(), ta, tb;

    send_cmd(a, "BLPOP tord:a 0.6");
    wait_blocked(ctl, 1);
    send_cmd(b, "BRPOP tord:b 0.15");
    expect_nil(get_reply(b));
    tb = now_ms();
    expect_nil(get_reply(a));
    ta = now_ms();
    assert_true(tb < ta);
    assert_true(ta - t0 >= 550);
    assert_true(ta - t0 < 6000);
    wait_blocked(ctl, 0);
    redisFree(a);
    redisFree(b);
    redisFree(ctl);
}

/* ------------------------------------------------------------------------ */
/* Blocking: service by pushes                                              */
/* ------------------------------------------------------------------------ */

/* The element goes to the blocked client before the pusher's reply is
 * even read: LPUSH answers 1, the list is empty afterwards. */
static void test_push_to_blocked_client_is_taken_at_once(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *b = block_on(*state, ctl, 1, "BLPOP once:k 0");

    tk_expect_int(tk_cmd(ctl, "LPUSH once:k a"), 1);
    tk_expect_int(tk_cmd(ctl, "LLEN once:k"), 0);
    tk_expect_int(tk_cmd(ctl, "EXISTS once:k"), 0);
    expect_strs(get_reply(b), "once:k", "a", NULL);
    wait_blocked(ctl, 0);
    redisFree(b);
    redisFree(ctl);
}

enum { FIFO_CLIENTS = 6 };

/* Clients blocked on one key, connected to different workers (3 threads,
 * round-robin), are served in the order they blocked, by one multi-element
 * push and by single pushes. */
static void test_blocked_clients_served_fifo_across_workers(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *w[FIFO_CLIENTS];
    char want[16];

    for (int i = 0; i < FIFO_CLIENTS; i++)
        w[i] = block_on(*state, ctl, i + 1, "BLPOP fifo:k 0");
    tk_expect_int(tk_cmd(ctl, "RPUSH fifo:k e0 e1 e2 e3 e4 e5 e6"), 7);
    for (int i = 0; i < FIFO_CLIENTS; i++) {
        snprintf(want, sizeof(want), "e%d", i);
        expect_strs(get_reply(w[i]), "fifo:k", want, NULL);
    }
    expect_strs(tk_cmd(ctl, "LRANGE fifo:k 0 -1"), "e6", NULL);
    tk_expect_str(tk_cmd(ctl, "LPOP fifo:k"), "e6");
    wait_blocked(ctl, 0);

    /* again, with one push per element, from the head */
    for (int i = 0; i < FIFO_CLIENTS; i++) {
        send_cmd(w[i], "BRPOP fifo:k 0");
        wait_blocked(ctl, i + 1);
    }
    for (int i = 0; i < FIFO_CLIENTS; i++) {
        snprintf(want, sizeof(want), "x%d", i);
        tk_expect_int(tk_cmd(ctl, "LPUSH fifo:k %s", want), 1);
    }
    for (int i = 0; i < FIFO_CLIENTS; i++) {
        snprintf(want, sizeof(want), "x%d", i);
        expect_strs(get_reply(w[i]), "fifo:k", want, NULL);
    }
    tk_expect_int(tk_cmd(ctl, "EXISTS fifo:k"), 0);
    for (int i = 0; i < FIFO_CLIENTS; i++)
        redisFree(w[i]);
    redisFree(ctl);
}

/* LPUSH k a b c with two waiters: the list is c b a when they are served. */
static void test_multi_element_push_serves_in_list_order(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *a = block_on(*state, ctl, 1, "BLPOP order:k 0");
    redisContext *b = block_on(*state, ctl, 2, "BRPOP order:k 0");

    tk_expect_int(tk_cmd(ctl, "LPUSH order:k a b c"), 3);
    expect_strs(get_reply(a), "order:k", "c", NULL);
    expect_strs(get_reply(b), "order:k", "a", NULL);
    expect_strs(tk_cmd(ctl, "LRANGE order:k 0 -1"), "b", NULL);
    redisFree(a);
    redisFree(b);
    redisFree(ctl);
}

static void test_blocked_on_several_keys(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *a = block_on(*state, ctl, 1, "BLPOP multi:k1 multi:k2 multi:k3 0");
    redisContext *b, *d;

    tk_expect_int(tk_cmd(ctl, "RPUSH multi:k3 v3"), 1);
    expect_strs(get_reply(a), "multi:k3", "v3", NULL);
    wait_blocked(ctl, 0);
    /* b waits on k1 and k2, d on k2 only: a push to k2 goes to b (longest
     * waiting on k2), and b no longer waits on k1 */
    b = block_on(*state, ctl, 1, "BRPOP multi:k1 multi:k2 0");
    d = block_on(*state, ctl, 2, "BLPOP multi:k2 0");
    tk_expect_int(tk_cmd(ctl, "RPUSH multi:k2 x"), 1);
    expect_strs(get_reply(b), "multi:k2", "x", NULL);
    wait_blocked(ctl, 1);
    tk_expect_int(tk_cmd(ctl, "RPUSH multi:k1 y"), 1);
    tk_expect_int(tk_cmd(ctl, "LLEN multi:k1"), 1);
    tk_expect_int(tk_cmd(ctl, "RPUSH multi:k2 z"), 1);
    expect_strs(get_reply(d), "multi:k2", "z", NULL);
    /* the same key twice is one wait */
    redisFree(a);
    a = block_on(*state, ctl, 1, "BLPOP multi:k4 multi:k4 0");
    tk_expect_int(tk_cmd(ctl, "RPUSH multi:k4 w1 w2"), 2);
    expect_strs(get_reply(a), "multi:k4", "w1", NULL);
    expect_strs(tk_cmd(ctl, "LRANGE multi:k4 0 -1"), "w2", NULL);
    wait_blocked(ctl, 0);
    redisFree(a);
    redisFree(b);
    redisFree(d);
    redisFree(ctl);
}

static void test_blmpop_served_by_push_with_count(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *a = block_on(*state, ctl, 1, "BLMPOP 0 2 bm:k1 bm:k2 RIGHT COUNT 2");
    redisContext *b = block_on(*state, ctl, 2, "BLMPOP 0 1 bm:k2 LEFT COUNT 5");

    tk_expect_int(tk_cmd(ctl, "RPUSH bm:k2 a b c"), 3);
    expect_mpop(get_reply(a), "bm:k2", "c", "b", NULL);
    expect_mpop(get_reply(b), "bm:k2", "a", NULL);
    tk_expect_int(tk_cmd(ctl, "EXISTS bm:k2"), 0);
    redisFree(a);
    redisFree(b);
    redisFree(ctl);
}

static void test_blmove_served_by_push(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *a = block_on(*state, ctl, 1, "BLMOVE bmv:s bmv:d LEFT RIGHT 0");
    redisContext *b;

    tk_expect_int(tk_cmd(ctl, "RPUSH bmv:d d0"), 1);
    tk_expect_int(tk_cmd(ctl, "RPUSH bmv:s a b"), 2);
    tk_expect_str(get_reply(a), "a");
    expect_strs(tk_cmd(ctl, "LRANGE bmv:s 0 -1"), "b", NULL);
    expect_strs(tk_cmd(ctl, "LRANGE bmv:d 0 -1"), "d0", "a", NULL);
    tk_expect_int(tk_cmd(ctl, "DEL bmv:s bmv:d"), 2);

    /* BRPOPLPUSH, and a chain: the moved element wakes a BLPOP on the
     * destination */
    redisFree(a);
    a = block_on(*state, ctl, 1, "BRPOPLPUSH bmv:s bmv:d 0");
    b = block_on(*state, ctl, 2, "BLPOP bmv:d 0");
    tk_expect_int(tk_cmd(ctl, "RPUSH bmv:s x y"), 2);
    tk_expect_str(get_reply(a), "y");
    expect_strs(get_reply(b), "bmv:d", "y", NULL);
    wait_blocked(ctl, 0);
    tk_expect_int(tk_cmd(ctl, "EXISTS bmv:d"), 0);
    expect_strs(tk_cmd(ctl, "LRANGE bmv:s 0 -1"), "x", NULL);
    redisFree(a);
    redisFree(b);
    redisFree(ctl);
}

/* A served BLMOVE whose destination holds another type gets WRONGTYPE and
 * the element stays in the source. */
static void test_blmove_to_wrongtype_destination(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *a;

    tk_expect_status(tk_cmd(ctl, "SET bwt:d v"), "OK");
    a = block_on(*state, ctl, 1, "BLMOVE bwt:s bwt:d RIGHT LEFT 0");
    tk_expect_int(tk_cmd(ctl, "RPUSH bwt:s a b"), 2);
    tk_expect_error(get_reply(a), "WRONGTYPE");
    wait_blocked(ctl, 0);
    expect_strs(tk_cmd(ctl, "LRANGE bwt:s 0 -1"), "a", "b", NULL);
    tk_expect_str(tk_cmd(ctl, "GET bwt:d"), "v");
    redisFree(a);
    redisFree(ctl);
}

/* A key of another type does not serve; the client keeps waiting and is
 * served once the key is a list again. RENAME onto the key serves too. */
static void test_blocked_client_survives_type_changes_and_rename(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *a = block_on(*state, ctl, 1, "BLPOP tc:k 0");

    tk_expect_status(tk_cmd(ctl, "SET tc:k str"), "OK");
    tk_expect_int(tk_cmd(ctl, "DEL tc:k"), 1);
    wait_blocked(ctl, 1);
    tk_expect_int(tk_cmd(ctl, "RPUSH tc:k v"), 1);
    expect_strs(get_reply(a), "tc:k", "v", NULL);
    send_cmd(a, "BLPOP tc:k 0");
    wait_blocked(ctl, 1);
    tk_expect_int(tk_cmd(ctl, "RPUSH tc:src r1 r2"), 2);
    tk_expect_status(tk_cmd(ctl, "RENAME tc:src tc:k"), "OK");
    expect_strs(get_reply(a), "tc:k", "r1", NULL);
    expect_strs(tk_cmd(ctl, "LRANGE tc:k 0 -1"), "r2", NULL);
    redisFree(a);
    redisFree(ctl);
}

static void test_push_after_timeout_stays_in_list(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *a = tk_connect(*state);

    expect_nil(tk_cmd(a, "BLPOP late:k 0.05"));
    tk_expect_int(tk_cmd(ctl, "RPUSH late:k v"), 1);
    tk_expect_int(tk_cmd(ctl, "LLEN late:k"), 1);
    redisFree(a);
    redisFree(ctl);
}

/* ------------------------------------------------------------------------ */
/* Blocking: disconnects and CLIENT UNBLOCK                                 */
/* ------------------------------------------------------------------------ */

static void test_disconnect_while_blocked(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *a = block_on(*state, ctl, 1, "BLPOP disc:k 0");
    redisContext *b = block_on(*state, ctl, 2, "BLMOVE disc:k disc:d LEFT LEFT 0");
    redisContext *d = block_on(*state, ctl, 3, "BLMPOP 0 1 disc:k LEFT");

    redisFree(a);
    redisFree(b);
    wait_blocked(ctl, 1);
    redisFree(d);
    wait_blocked(ctl, 0);
    tk_expect_int(tk_cmd(ctl, "RPUSH disc:k v"), 1);
    tk_expect_int(tk_cmd(ctl, "LLEN disc:k"), 1); /* nobody took it */
    tk_expect_int(tk_cmd(ctl, "EXISTS disc:d"), 0);
    tk_expect_status(tk_cmd(ctl, "PING"), "PONG");
    /* a client blocked after the others left is served normally */
    tk_expect_str(tk_cmd(ctl, "LPOP disc:k"), "v");
    a = block_on(*state, ctl, 1, "BLPOP disc:k 0");
    tk_expect_int(tk_cmd(ctl, "RPUSH disc:k w"), 1);
    expect_strs(get_reply(a), "disc:k", "w", NULL);
    redisFree(a);
    redisFree(ctl);
}

static long long client_id(redisContext *c)
{
    redisReply *r = tk_cmd(c, "CLIENT ID");
    long long id;

    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    id = r->integer;
    freeReplyObject(r);
    return id;
}

static void test_client_unblock(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *a = tk_connect(*state), *b = tk_connect(*state);
    long long ida = client_id(a), idb = client_id(b);

    send_cmd(a, "BLPOP unb:k 0");
    send_cmd(b, "BLMOVE unb:k unb:d LEFT LEFT 0");
    wait_blocked(ctl, 2);
    tk_expect_int(tk_cmd(ctl, "CLIENT UNBLOCK %lld", ida), 1);
    expect_nil(get_reply(a));
    tk_expect_int(tk_cmd(ctl, "CLIENT UNBLOCK %lld ERROR", idb), 1);
    tk_expect_error(get_reply(b), "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    wait_blocked(ctl, 0);
    tk_expect_int(tk_cmd(ctl, "CLIENT UNBLOCK %lld", ida), 0);
    send_cmd(a, "BLMPOP 0 1 unb:k LEFT");
    wait_blocked(ctl, 1);
    tk_expect_int(tk_cmd(ctl, "CLIENT UNBLOCK %lld TIMEOUT", ida), 1);
    expect_nil(get_reply(a));
    /* the clients work normally afterwards */
    tk_expect_status(tk_cmd(a, "PING"), "PONG");
    tk_expect_int(tk_cmd(ctl, "RPUSH unb:k v"), 1);
    tk_expect_int(tk_cmd(ctl, "LLEN unb:k"), 1);
    redisFree(a);
    redisFree(b);
    redisFree(ctl);
}

/* A blocked client's later pipelined commands wait for its reply. */
static void test_pipeline_behind_blocked_command_keeps_order(void **state)
{
    redisContext *ctl = tk_connect(*state);
    redisContext *a = tk_connect(*state);

    send_cmd(a, "BLPOP pipe:k 0");
    send_cmd(a, "LLEN pipe:k");
    wait_blocked(ctl, 1);
    tk_expect_int(tk_cmd(ctl, "RPUSH pipe:k a b"), 2);
    expect_strs(get_reply(a), "pipe:k", "a", NULL);
    tk_expect_int(get_reply(a), 1);
    redisFree(a);
    redisFree(ctl);
}

/* ------------------------------------------------------------------------ */
/* Blocking: concurrent producers and consumers                            */
/* ------------------------------------------------------------------------ */

enum { CC_CONSUMERS = 4, CC_PRODUCERS = 2, CC_ITEMS = 300 };

struct cc_arg {
    const struct tk_server *s;
    int id;
    int got[CC_ITEMS * CC_PRODUCERS]; /* consumers: values received */
    int ngot;
    int err;
};

/* cmocka's assertions must stay on the test's thread: helpers report errors
 * through err. */
static redisContext *thread_connect(const struct tk_server *s)
{
    struct timeval tv = { 10, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);

    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

static void *cc_consumer(void *p)
{
    struct cc_arg *a = p;
    redisContext *c = thread_connect(a->s);

    if (!c) {
        a->err = 1;
        return NULL;
    }
    for (;;) {
        redisReply *r = redisCommand(c, "BLPOP cc:q cc:stop 5");

        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            a->err = 1;
            if (r)
                freeReplyObject(r);
            break;
        }
        if (strcmp(r->element[0]->str, "cc:stop") == 0) {
            freeReplyObject(r);
            break;
        }
        if (a->ngot < CC_ITEMS * CC_PRODUCERS)
            a->got[a->ngot++] = atoi(r->element[1]->str);
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

static void *cc_producer(void *p)
{
    struct cc_arg *a = p;
    redisContext *c = thread_connect(a->s);

    if (!c) {
        a->err = 1;
        return NULL;
    }
    for (int i = 0; i < CC_ITEMS; i++) {
        redisReply *r = redisCommand(c, "%s cc:q %d", i % 2 ? "LPUSH" : "RPUSH", a->id * CC_ITEMS + i);

        if (!r || r->type != REDIS_REPLY_INTEGER)
            a->err = 1;
        if (r)
            freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

/* Every pushed item is received exactly once by some consumer, whatever
 * worker each connection is on; nothing is left behind. */
static void test_concurrent_producers_and_blocked_consumers(void **state)
{
    redisContext *ctl = tk_connect(*state);
    static struct cc_arg cons[CC_CONSUMERS], prod[CC_PRODUCERS];
    pthread_t tc[CC_CONSUMERS], tp[CC_PRODUCERS];
    static char seen[CC_ITEMS * CC_PRODUCERS];
    int total = 0;

    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < CC_CONSUMERS; i++) {
        cons[i] = (struct cc_arg){ .s = *state, .id = i };
        assert_int_equal(pthread_create(&tc[i], NULL, cc_consumer, &cons[i]), 0);
    }
    wait_blocked(ctl, CC_CONSUMERS);
    for (int i = 0; i < CC_PRODUCERS; i++) {
        prod[i] = (struct cc_arg){ .s = *state, .id = i };
        assert_int_equal(pthread_create(&tp[i], NULL, cc_producer, &prod[i]), 0);
    }
    for (int i = 0; i < CC_PRODUCERS; i++)
        pthread_join(tp[i], NULL);
    /* wait until the queue drained, then stop the consumers */
    for (long long deadline = now_ms() + 10000; now_ms() < deadline;) {
        redisReply *r = tk_cmd(ctl, "LLEN cc:q");
        long long n = r->integer;

        freeReplyObject(r);
        if (n == 0 && tk_info_ll(ctl, "blocked_clients") == CC_CONSUMERS)
            break;
        sleep_ms(5);
    }
    for (int i = 0; i < CC_CONSUMERS; i++)
        tk_expect_int(tk_cmd(ctl, "RPUSH cc:stop s"), 1);
    for (int i = 0; i < CC_CONSUMERS; i++)
        pthread_join(tc[i], NULL);
    for (int i = 0; i < CC_PRODUCERS; i++)
        assert_int_equal(prod[i].err, 0);
    for (int i = 0; i < CC_CONSUMERS; i++) {
        assert_int_equal(cons[i].err, 0);
        for (int j = 0; j < cons[i].ngot; j++) {
            int v = cons[i].got[j];

            assert_true(v >= 0 && v < CC_ITEMS * CC_PRODUCERS);
            assert_int_equal(seen[v], 0);
            seen[v] = 1;
            total++;
        }
    }
    assert_int_equal(total, CC_ITEMS * CC_PRODUCERS);
    tk_expect_int(tk_cmd(ctl, "EXISTS cc:q cc:stop"), 0);
    wait_blocked(ctl, 0);
    redisFree(ctl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_both_ends_and_range),
        cmocka_unit_test(test_binary_and_empty_elements),
        cmocka_unit_test(test_pushx_only_on_existing_lists),
        cmocka_unit_test(test_wrongtype_everywhere),
        cmocka_unit_test(test_pop_single_and_count),
        cmocka_unit_test(test_pop_null_shapes_resp2_and_resp3),
        cmocka_unit_test(test_lindex),
        cmocka_unit_test(test_lset),
        cmocka_unit_test(test_linsert),
        cmocka_unit_test(test_lrem),
        cmocka_unit_test(test_ltrim),
        cmocka_unit_test(test_lpos),
        cmocka_unit_test(test_lmove_all_directions),
        cmocka_unit_test(test_rpoplpush),
        cmocka_unit_test(test_lmpop),
        cmocka_unit_test(test_object_encoding_transitions),
        cmocka_unit_test(test_big_list_against_model),
        cmocka_unit_test(test_read_commands_count_hits_and_misses),
        cmocka_unit_test(test_arity_errors),
        cmocka_unit_test(test_blocking_served_at_once_like_plain_pops),
        cmocka_unit_test(test_blocking_argument_errors),
        cmocka_unit_test(test_subsecond_timeout_returns_nil),
        cmocka_unit_test(test_timeouts_fire_in_deadline_order),
        cmocka_unit_test(test_push_to_blocked_client_is_taken_at_once),
        cmocka_unit_test(test_blocked_clients_served_fifo_across_workers),
        cmocka_unit_test(test_multi_element_push_serves_in_list_order),
        cmocka_unit_test(test_blocked_on_several_keys),
        cmocka_unit_test(test_blmpop_served_by_push_with_count),
        cmocka_unit_test(test_blmove_served_by_push),
        cmocka_unit_test(test_blmove_to_wrongtype_destination),
        cmocka_unit_test(test_blocked_client_survives_type_changes_and_rename),
        cmocka_unit_test(test_push_after_timeout_stays_in_list),
        cmocka_unit_test(test_disconnect_while_blocked),
        cmocka_unit_test(test_client_unblock),
        cmocka_unit_test(test_pipeline_behind_blocked_command_keeps_order),
        cmocka_unit_test(test_concurrent_producers_and_blocked_consumers),
    };

    return cmocka_run_group_tests_name("list", tests, group_setup, group_teardown) ? 1 : 0;
}
