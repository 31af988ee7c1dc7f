/*
 * test_protocol.c -- the wire protocol as clients see it, over raw sockets:
 * pipelining, inline commands and their quoting, commands split at every byte
 * boundary, RESP3 through HELLO (map reply, RESP3 null), HELLO 2 / HELLO 4,
 * HELLO ... AUTH, AUTH / NOAUTH with --requirepass, and the exact Redis 7
 * wording of the unknown-command and wrong-arity errors.
 *
 * Every expected reply here is byte for byte what Redis 7.0 sends (checked
 * against redis-server 7.0.15), because clients parse these strings.
 *
 * One server (group setup) serves the tests that need no special options; the
 * auth tests start their own with --requirepass.
 */
#include "testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REPLY_CAP (1 << 20)

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Appends the RESP encoding of argv to out (cap bytes); returns the new length. */
static size_t resp_build(char *out, size_t cap, size_t len, int argc, const char *const *argv)
{
    len += (size_t)snprintf(out + len, cap - len, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        len += (size_t)snprintf(out + len, cap - len, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    assert_true(len < cap);
    return len;
}

/* Copies s with control bytes escaped, for failure messages. */
static const char *esc(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 5 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\r' || ch == '\n') {
            out[o++] = '\\';
            out[o++] = ch == '\r' ? 'r' : 'n';
        } else if (ch < 32 || ch >= 127) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
    return out;
}

/* Reads the next reply and compares it with expect. */
static void expect_reply(int fd, const char *expect)
{
    static char got[REPLY_CAP];
    char e1[512], e2[512];
    long n = tk_raw_reply(fd, got, sizeof(got), 10000);
    if (n <= 0)
        fail_msg("expected \"%s\", got %s", esc(expect, e1, sizeof(e1)), n == 0 ? "EOF" : "timeout/garbage");
    if (strcmp(got, expect) != 0)
        fail_msg("expected \"%s\", got \"%s\"", esc(expect, e1, sizeof(e1)), esc(got, e2, sizeof(e2)));
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

/* 100 commands in one write get 100 replies, in order. */
static void test_pipeline_100_commands_in_one_write_replies_in_order(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    static char buf[65536];
    size_t len = 0;
    char key[32], val[32];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "pipe:%d", i);
        snprintf(val, sizeof(val), "value-%d", i);
        const char *set[] = {"SET", key, val};
        len = resp_build(buf, sizeof(buf), len, 3, set);
        const char *incr[] = {"INCR", "pipe:seq"};
        len = resp_build(buf, sizeof(buf), len, 2, incr);
    }
    assert_int_equal(tk_raw_send(fd, buf, len), 0);
    char expect[64];
    for (int i = 0; i < 50; i++) {
        expect_reply(fd, "+OK\r\n");
        snprintf(expect, sizeof(expect), ":%d\r\n", i + 1);
        expect_reply(fd, expect);
    }

    /* and 100 reads in one write come back in the order asked */
    len = 0;
    for (int i = 99; i >= 0; i--) {
        snprintf(key, sizeof(key), "pipe:%d", i % 50);
        const char *get[] = {"GET", key};
        len = resp_build(buf, sizeof(buf), len, 2, get);
    }
    assert_int_equal(tk_raw_send(fd, buf, len), 0);
    for (int i = 99; i >= 0; i--) {
        snprintf(val, sizeof(val), "value-%d", i % 50);
        snprintf(expect, sizeof(expect), "$%zu\r\n%s\r\n", strlen(val), val);
        expect_reply(fd, expect);
    }
    close(fd);
}

/* A pipeline of mixed inline and RESP commands, written in one go. */
static void test_pipeline_mixes_inline_and_resp(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    const char *cmds = "PING\r\n*3\r\n$3\r\nSET\r\n$3\r\nmix\r\n$2\r\nv1\r\nGET mix\r\n*1\r\n$4\r\nPING\r\n";
    assert_int_equal(tk_raw_send(fd, cmds, strlen(cmds)), 0);
    expect_reply(fd, "+PONG\r\n");
    expect_reply(fd, "+OK\r\n");
    expect_reply(fd, "$2\r\nv1\r\n");
    expect_reply(fd, "+PONG\r\n");
    close(fd);
}

/* A pipeline far bigger than the socket buffers and the server's output
 * backpressure threshold: 40,000 INCRs interleaved with 2,000 GETs of a
 * 10 KB value (about 1 MB of requests, 20 MB of replies), written and read
 * concurrently. Every reply arrives, in order, intact. */
static void test_huge_pipeline_with_output_backpressure_keeps_order(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    enum { VLEN = 10240, NCMD = 42000 };
    char *val = malloc(VLEN + 1);
    assert_non_null(val);
    for (int i = 0; i < VLEN; i++)
        val[i] = (char)('A' + i % 23);
    val[VLEN] = '\0';
    size_t setlen = (size_t)VLEN + 64;
    char *set = malloc(setlen);
    assert_non_null(set);
    const char *sargv[] = {"SET", "bp:val", val};
    size_t sl = resp_build(set, setlen, 0, 3, sargv);
    assert_int_equal(tk_raw_send(fd, set, sl), 0);
    expect_reply(fd, "+OK\r\n");
    free(set);

    static const char incr[] = "*2\r\n$4\r\nINCR\r\n$6\r\nbp:ctr\r\n";
    static const char get[] = "*2\r\n$3\r\nGET\r\n$6\r\nbp:val\r\n";
    size_t cap = (size_t)NCMD * sizeof(incr), len = 0;
    char *req = malloc(cap);
    assert_non_null(req);
    for (int i = 0; i < NCMD; i++) {
        const char *c = i % 21 == 20 ? get : incr;
        size_t cl = strlen(c);
        memcpy(req + len, c, cl);
        len += cl;
    }
    char *expect_get = malloc(VLEN + 32);
    assert_non_null(expect_get);
    snprintf(expect_get, VLEN + 32, "$%d\r\n%s\r\n", VLEN, val);

    static char got[64 * 1024];
    size_t sent = 0;
    long counter = 0;
    for (int i = 0; i < NCMD; i++) {
        /* write what the socket takes without blocking, then read one reply */
        while (sent < len) {
            ssize_t n = send(fd, req + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n <= 0)
                break;
            sent += (size_t)n;
        }
        long n = tk_raw_reply(fd, got, sizeof(got), 10000);
        if (n <= 0)
            fail_msg("reply %d of %d: %s", i, NCMD, n == 0 ? "EOF" : "timeout");
        if (i % 21 == 20) {
            if (strcmp(got, expect_get) != 0)
                fail_msg("reply %d: GET bp:val returned %ld bytes that differ from the value", i, n);
        } else {
            char e[32];
            snprintf(e, sizeof(e), ":%ld\r\n", ++counter);
            if (strcmp(got, e) != 0)
                fail_msg("reply %d: expected INCR result %ld, got \"%.40s\"", i, counter, got);
        }
    }
    assert_int_equal(sent, len);
    free(req);
    free(expect_get);
    free(val);
    close(fd);
}

/* HELLO in the middle of a pipeline switches protocol exactly at its place. */
static void test_hello_inside_pipeline_switches_at_its_position(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    const char *p = "GET hp:absent\r\nHELLO 3\r\nGET hp:absent\r\nHELLO 2\r\nGET hp:absent\r\n";
    assert_int_equal(tk_raw_send(fd, p, strlen(p)), 0);
    static char got[65536];
    expect_reply(fd, "$-1\r\n");
    assert_true(tk_raw_reply(fd, got, sizeof(got), 10000) > 0);
    assert_int_equal(got[0], '%');
    expect_reply(fd, "_\r\n");
    assert_true(tk_raw_reply(fd, got, sizeof(got), 10000) > 0);
    assert_int_equal(got[0], '*');
    expect_reply(fd, "$-1\r\n");
    close(fd);
}

/* Empty and null arrays are skipped; bulks are binary safe. */
static void test_empty_arrays_and_binary_bulks(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    tk_raw_expect(fd, "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
    /* CR, LF, NUL and '$' inside an argument */
    static const char set[] = "*3\r\n$3\r\nSET\r\n$8\r\nbin\r\nkey\r\n$8\r\n\r\n\0$*\xff\n\r\r\n";
    assert_int_equal(tk_raw_send(fd, set, sizeof(set) - 1), 0);
    expect_reply(fd, "+OK\r\n");
    static const char get[] = "*2\r\n$3\r\nGET\r\n$8\r\nbin\r\nkey\r\n";
    assert_int_equal(tk_raw_send(fd, get, sizeof(get) - 1), 0);
    char got[64];
    assert_int_equal(tk_raw_reply(fd, got, sizeof(got), 10000), 14);
    assert_memory_equal(got, "$8\r\n\r\n\0$*\xff\n\r\r\n", 14);
    /* an empty bulk argument */
    tk_raw_expect(fd, "*3\r\n$3\r\nSET\r\n$5\r\nempty\r\n$0\r\n\r\n", "+OK\r\n");
    tk_raw_expect(fd, "*2\r\n$6\r\nSTRLEN\r\n$5\r\nempty\r\n", ":0\r\n");
    tk_raw_expect(fd, "*2\r\n$3\r\nGET\r\n$5\r\nempty\r\n", "$0\r\n\r\n");
    close(fd);
}

/* An inline line just under Redis's 64 KB inline limit is accepted. */
static void test_long_inline_line_under_limit(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    size_t vlen = 60 * 1024;
    char *line = malloc(vlen + 32);
    assert_non_null(line);
    size_t len = (size_t)sprintf(line, "SET inl:long ");
    memset(line + len, 'z', vlen);
    len += vlen;
    memcpy(line + len, "\r\n", 2);
    len += 2;
    assert_int_equal(tk_raw_send(fd, line, len), 0);
    expect_reply(fd, "+OK\r\n");
    tk_raw_expect(fd, "STRLEN inl:long\r\n", ":61440\r\n");
    free(line);
    close(fd);
}

static void test_inline_commands_and_quoting(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    tk_raw_expect(fd, "PING\r\n", "+PONG\r\n");
    tk_raw_expect(fd, "PING\n", "+PONG\r\n");                 /* bare LF ends a line too */
    tk_raw_expect(fd, "PING hello\r\n", "$5\r\nhello\r\n");
    tk_raw_expect(fd, "SET a \"b c\"\r\n", "+OK\r\n");
    tk_raw_expect(fd, "GET a\r\n", "$3\r\nb c\r\n");
    tk_raw_expect(fd, "SET   a    'x y z'  \r\n", "+OK\r\n"); /* runs of spaces, single quotes */
    tk_raw_expect(fd, "GET a\r\n", "$5\r\nx y z\r\n");
    tk_raw_expect(fd, "SET a \"q\\x41\\n\\t\\\"\"\r\n", "+OK\r\n"); /* escapes inside double quotes */
    tk_raw_expect(fd, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n", "$5\r\nqA\n\t\"\r\n");
    tk_raw_expect(fd, "SET a 'it\\'s'\r\n", "+OK\r\n");       /* \' inside single quotes */
    tk_raw_expect(fd, "GET a\r\n", "$4\r\nit's\r\n");
    tk_raw_expect(fd, "SET a \"\"\r\n", "+OK\r\n");           /* empty quoted argument */
    tk_raw_expect(fd, "STRLEN a\r\n", ":0\r\n");
    tk_raw_expect(fd, "\r\n\r\nPING\r\n", "+PONG\r\n");      /* empty lines are skipped */
    tk_raw_expect(fd, "set a lower\r\nget a\r\n", "+OK\r\n"); /* command names are case-insensitive */
    expect_reply(fd, "$5\r\nlower\r\n");
    close(fd);
}

static void test_inline_unbalanced_quotes_is_protocol_error_and_closes(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    tk_raw_expect(fd, "SET a \"b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n");
    assert_true(tk_raw_closed(fd, 5000));
    close(fd);
    fd = tk_raw_connect(s);
    tk_raw_expect(fd, "SET a \"b\"c\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n");
    assert_true(tk_raw_closed(fd, 5000));
    close(fd);
}

/* A 3-argument SET split into two writes at every byte boundary. */
static void test_command_split_at_every_byte_boundary(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    char cmd[128], val[16], expect[64];
    for (int round = 0; round < 2; round++) {
        snprintf(val, sizeof(val), "v%03d", 0);
        const char *argv[] = {"SET", "split:key", val};
        size_t len = resp_build(cmd, sizeof(cmd), 0, 3, argv);
        for (size_t k = 1; k < len; k++) {
            snprintf(val, sizeof(val), "v%03u", (unsigned)(k % 1000));
            const char *av[] = {"SET", "split:key", val};
            size_t l2 = resp_build(cmd, sizeof(cmd), 0, 3, av);
            assert_int_equal(l2, len);
            assert_int_equal(tk_raw_send(fd, cmd, k), 0);
            sleep_us(round == 0 ? 2000 : 200);
            assert_int_equal(tk_raw_send(fd, cmd + k, len - k), 0);
            expect_reply(fd, "+OK\r\n");
            snprintf(expect, sizeof(expect), "$4\r\n%s\r\n", val);
            tk_raw_expect(fd, "*2\r\n$3\r\nGET\r\n$9\r\nsplit:key\r\n", expect);
        }
    }
    close(fd);
}

/* One byte per write, for a RESP and an inline command. */
static void test_command_sent_one_byte_per_write(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    const char *cmds[] = {
        "*3\r\n$3\r\nSET\r\n$8\r\nbyte:key\r\n$11\r\nhello world\r\n",
        "*2\r\n$3\r\nGET\r\n$8\r\nbyte:key\r\n",
        "SET byte:key \"inline value\"\r\n",
        "GET byte:key\r\n",
    };
    const char *expect[] = {"+OK\r\n", "$11\r\nhello world\r\n", "+OK\r\n", "$12\r\ninline value\r\n"};
    for (size_t c = 0; c < 4; c++) {
        for (size_t i = 0; cmds[c][i]; i++) {
            assert_int_equal(tk_raw_send(fd, cmds[c] + i, 1), 0);
            sleep_us(1000);
        }
        expect_reply(fd, expect[c]);
    }
    close(fd);
}

/* A large bulk argument arriving in many small pieces. */
static void test_large_bulk_split_in_pieces(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    const size_t vlen = 200000;
    char *cmd = malloc(vlen + 128);
    assert_non_null(cmd);
    size_t len = (size_t)sprintf(cmd, "*3\r\n$3\r\nSET\r\n$7\r\nbig:key\r\n$%zu\r\n", vlen);
    for (size_t i = 0; i < vlen; i++)
        cmd[len + i] = (char)('a' + i % 26);
    len += vlen;
    memcpy(cmd + len, "\r\n", 2);
    len += 2;
    for (size_t off = 0; off < len; off += 7919) {
        size_t n = len - off < 7919 ? len - off : 7919;
        assert_int_equal(tk_raw_send(fd, cmd + off, n), 0);
        if (off % 5 == 0)
            sleep_us(500);
    }
    expect_reply(fd, "+OK\r\n");
    tk_raw_expect(fd, "STRLEN big:key\r\n", ":200000\r\n");
    char expect[32];
    snprintf(expect, sizeof(expect), "$2\r\n%c%c\r\n", 'a' + (int)(199998 % 26), 'a' + (int)(199999 % 26));
    tk_raw_expect(fd, "GETRANGE big:key 199998 199999\r\n", expect);
    free(cmd);
    close(fd);
}

static void test_hello3_switches_to_resp3(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    static char got[65536];
    assert_int_equal(tk_raw_send(fd, "HELLO 3\r\n", 9), 0);
    long n = tk_raw_reply(fd, got, sizeof(got), 10000);
    assert_true(n > 0);
    if (got[0] != '%')
        fail_msg("HELLO 3 must reply a RESP3 map, got \"%s\"", got);
    assert_non_null(strstr(got, "$5\r\nproto\r\n:3\r\n"));
    assert_non_null(strstr(got, "$6\r\nserver\r\n"));
    assert_non_null(strstr(got, "$7\r\nversion\r\n"));

    tk_raw_expect(fd, "*2\r\n$3\r\nGET\r\n$12\r\nhello:absent\r\n", "_\r\n");
    tk_raw_expect(fd, "SET hello:k v\r\n", "+OK\r\n");
    tk_raw_expect(fd, "MGET hello:k hello:absent\r\n", "*2\r\n$1\r\nv\r\n_\r\n");
    tk_raw_expect(fd, "INCR hello:n\r\n", ":1\r\n");
    tk_raw_expect(fd, "GET\r\n", "-ERR wrong number of arguments for 'get' command\r\n");

    /* HELLO without a version reports the current one */
    assert_int_equal(tk_raw_send(fd, "HELLO\r\n", 7), 0);
    n = tk_raw_reply(fd, got, sizeof(got), 10000);
    assert_true(n > 0);
    assert_int_equal(got[0], '%');
    assert_non_null(strstr(got, "$5\r\nproto\r\n:3\r\n"));

    /* back to RESP2: the reply is a flat array and nulls are $-1 again */
    assert_int_equal(tk_raw_send(fd, "HELLO 2\r\n", 9), 0);
    n = tk_raw_reply(fd, got, sizeof(got), 10000);
    assert_true(n > 0);
    if (got[0] != '*')
        fail_msg("HELLO 2 must reply a RESP2 array, got \"%s\"", got);
    assert_non_null(strstr(got, "$5\r\nproto\r\n:2\r\n"));
    tk_raw_expect(fd, "GET hello:absent\r\n", "$-1\r\n");
    tk_raw_expect(fd, "MGET hello:k hello:absent\r\n", "*2\r\n$1\r\nv\r\n$-1\r\n");
    close(fd);
}

static void test_hello_with_unsupported_version_is_noproto(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    tk_raw_expect(fd, "HELLO 4\r\n", "-NOPROTO unsupported protocol version\r\n");
    tk_raw_expect(fd, "HELLO 1\r\n", "-NOPROTO unsupported protocol version\r\n");
    /* the connection stays usable and in RESP2 */
    tk_raw_expect(fd, "PING\r\n", "+PONG\r\n");
    tk_raw_expect(fd, "GET hello4:absent\r\n", "$-1\r\n");
    close(fd);
}

static void test_unknown_command_error_text(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    tk_raw_expect(fd, "*3\r\n$3\r\nfoo\r\n$1\r\na\r\n$1\r\nb\r\n",
                  "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
    tk_raw_expect(fd, "*1\r\n$3\r\nfoo\r\n", "-ERR unknown command 'foo', with args beginning with: \r\n");
    tk_raw_expect(fd, "foo a b\r\n", "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
    /* the connection survives */
    tk_raw_expect(fd, "PING\r\n", "+PONG\r\n");
    close(fd);
}

static void test_wrong_arity_error_text(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    tk_raw_expect(fd, "*1\r\n$3\r\nget\r\n", "-ERR wrong number of arguments for 'get' command\r\n");
    tk_raw_expect(fd, "GET a b\r\n", "-ERR wrong number of arguments for 'get' command\r\n");
    tk_raw_expect(fd, "SET a\r\n", "-ERR wrong number of arguments for 'set' command\r\n");
    tk_raw_expect(fd, "PING\r\n", "+PONG\r\n");
    close(fd);
}

static void test_auth_without_password_configured_is_error(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    tk_raw_expect(fd, "AUTH secret\r\n",
                  "-ERR AUTH <password> called without any password configured for the default user. "
                  "Are you sure your configuration is correct?\r\n");
    close(fd);
}

static void test_quit_replies_ok_and_closes(void **state)
{
    struct tk_server *s = *state;
    int fd = tk_raw_connect(s);
    tk_raw_expect(fd, "QUIT\r\n", "+OK\r\n");
    assert_true(tk_raw_closed(fd, 5000));
    close(fd);
}

/* --requirepass: NOAUTH before AUTH, wrong and right passwords, HELLO AUTH. */
static void test_requirepass_noauth_then_auth(void **state)
{
    (void)state;
    struct tk_server s;
    const char *extra[] = {"--requirepass", "s3cret", NULL};
    assert_int_equal(tk_server_start(&s, extra), 0);

    int fd = tk_raw_connect(&s);
    tk_raw_expect(fd, "GET a\r\n", "-NOAUTH Authentication required.\r\n");
    tk_raw_expect(fd, "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n", "-NOAUTH Authentication required.\r\n");
    tk_raw_expect(fd, "AUTH wrong\r\n", "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    tk_raw_expect(fd, "AUTH default wrong\r\n",
                  "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    tk_raw_expect(fd, "GET a\r\n", "-NOAUTH Authentication required.\r\n");
    tk_raw_expect(fd, "AUTH s3cret\r\n", "+OK\r\n");
    tk_raw_expect(fd, "SET a b\r\n", "+OK\r\n");
    tk_raw_expect(fd, "GET a\r\n", "$1\r\nb\r\n");
    close(fd);

    fd = tk_raw_connect(&s);
    tk_raw_expect(fd, "AUTH default s3cret\r\n", "+OK\r\n"); /* two-argument form */
    tk_raw_expect(fd, "GET a\r\n", "$1\r\nb\r\n");
    close(fd);

    /* hiredis sees the same */
    redisContext *c = tk_connect(&s);
    tk_expect_error(tk_cmd(c, "GET a"), "NOAUTH");
    tk_expect_status(tk_cmd(c, "AUTH %s", "s3cret"), "OK");
    tk_expect_str(tk_cmd(c, "GET a"), "b");
    redisFree(c);

    assert_int_equal(tk_server_stop(&s), 0);
}

static void test_hello_with_auth(void **state)
{
    (void)state;
    struct tk_server s;
    const char *extra[] = {"--requirepass", "s3cret", NULL};
    assert_int_equal(tk_server_start(&s, extra), 0);
    static char got[65536];

    /* HELLO without AUTH is refused while unauthenticated */
    int fd = tk_raw_connect(&s);
    assert_int_equal(tk_raw_send(fd, "HELLO 3\r\n", 9), 0);
    assert_true(tk_raw_reply(fd, got, sizeof(got), 10000) > 0);
    if (strncmp(got, "-NOAUTH", 7) != 0)
        fail_msg("HELLO 3 before AUTH: expected -NOAUTH..., got \"%s\"", got);
    tk_raw_expect(fd, "GET a\r\n", "-NOAUTH Authentication required.\r\n"); /* still RESP2, still locked */

    /* wrong password */
    tk_raw_expect(fd, "HELLO 3 AUTH default nope\r\n",
                  "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    tk_raw_expect(fd, "GET a\r\n", "-NOAUTH Authentication required.\r\n");

    /* right password: authenticated and switched to RESP3 in one step */
    const char *hello = "HELLO 3 AUTH default s3cret SETNAME tk-hello\r\n";
    assert_int_equal(tk_raw_send(fd, hello, strlen(hello)), 0);
    assert_true(tk_raw_reply(fd, got, sizeof(got), 10000) > 0);
    if (got[0] != '%')
        fail_msg("HELLO 3 AUTH ...: expected a map, got \"%s\"", got);
    assert_non_null(strstr(got, "$5\r\nproto\r\n:3\r\n"));
    tk_raw_expect(fd, "GET hello:absent\r\n", "_\r\n");
    tk_raw_expect(fd, "CLIENT GETNAME\r\n", "$8\r\ntk-hello\r\n");
    close(fd);

    /* HELLO 2 AUTH works too and keeps RESP2 */
    fd = tk_raw_connect(&s);
    hello = "HELLO 2 AUTH default s3cret\r\n";
    assert_int_equal(tk_raw_send(fd, hello, strlen(hello)), 0);
    assert_true(tk_raw_reply(fd, got, sizeof(got), 10000) > 0);
    assert_int_equal(got[0], '*');
    tk_raw_expect(fd, "GET hello:absent\r\n", "$-1\r\n");
    close(fd);

    assert_int_equal(tk_server_stop(&s), 0);
}

int main(void)
{
    const struct CMUnitTest shared[] = {
        cmocka_unit_test(test_pipeline_100_commands_in_one_write_replies_in_order),
        cmocka_unit_test(test_pipeline_mixes_inline_and_resp),
        cmocka_unit_test(test_huge_pipeline_with_output_backpressure_keeps_order),
        cmocka_unit_test(test_hello_inside_pipeline_switches_at_its_position),
        cmocka_unit_test(test_empty_arrays_and_binary_bulks),
        cmocka_unit_test(test_long_inline_line_under_limit),
        cmocka_unit_test(test_inline_commands_and_quoting),
        cmocka_unit_test(test_inline_unbalanced_quotes_is_protocol_error_and_closes),
        cmocka_unit_test(test_command_split_at_every_byte_boundary),
        cmocka_unit_test(test_command_sent_one_byte_per_write),
        cmocka_unit_test(test_large_bulk_split_in_pieces),
        cmocka_unit_test(test_hello3_switches_to_resp3),
        cmocka_unit_test(test_hello_with_unsupported_version_is_noproto),
        cmocka_unit_test(test_unknown_command_error_text),
        cmocka_unit_test(test_wrong_arity_error_text),
        cmocka_unit_test(test_auth_without_password_configured_is_error),
        cmocka_unit_test(test_quit_replies_ok_and_closes),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_requirepass_noauth_then_auth),
        cmocka_unit_test(test_hello_with_auth),
    };
    int failed = cmocka_run_group_tests_name("protocol (shared server)", shared, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("protocol (requirepass)", own, NULL, NULL);
    return failed ? 1 : 0;
}
