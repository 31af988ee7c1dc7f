/*
 * test_abuse.c -- protocol abuse and resource limits (DESIGN.md invariant 4:
 * bad input gets an error reply or a closed connection, never a crash, a hang
 * or unbounded memory).
 *
 * Shared-server group: malformed RESP headers, absurd declared lengths (4 GB
 * bulk, 2e9 arguments), deep nesting, a 1 MB inline line, and a few hundred
 * connections of seeded random garbage. A "bystander" connection opened
 * before any abuse must keep being served after every case, new connections
 * must keep working, and the server's RSS must not grow by more than
 * RSS_BUDGET_KB over the whole group.
 *
 * Own-server tests: output buffer soft limit (a client that pipelines and
 * never reads is disconnected), --maxclients, --client-query-buffer-limit,
 * and the pre-AUTH size limits with --requirepass.
 *
 * Error texts are Redis 7's, byte for byte, where Redis defines them.
 */
#include "testkit.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* What the abuse may add to the server's RSS. Under AddressSanitizer (the
 * sanitizer suite sets ASAN_OPTIONS) every allocation carries redzones and
 * freed memory waits in a quarantine before reuse, so the same work shows up
 * to about half as large again in RSS: the bound is doubled there. */
static long rss_budget_kb(void)
{
    return getenv("ASAN_OPTIONS") ? 128 * 1024 : 64 * 1024;
}
#define RSS_BUDGET_KB rss_budget_kb()
#define GARBAGE_CONNECTIONS 400

struct abuse {
    struct tk_server s;
    redisContext *bystander; /* opened before any abuse, kept open */
    long rss0_kb;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Sends up to len bytes without blocking for more than timeout_ms in total.
 * Stops early when the peer closes, or (stop_on_reply) as soon as it has
 * sent something back. Returns the number of bytes sent. */
static size_t send_nb(int fd, const char *buf, size_t len, int timeout_ms, int stop_on_reply)
{
    size_t off = 0;
    long long deadline = now_ms() + timeout_ms;
    while (off < len) {
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = {fd, POLLOUT | (stop_on_reply ? POLLIN : 0), 0};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            break;
        if (pfd.revents & (POLLIN | POLLERR | POLLHUP))
            break;
        ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            break;
        }
        off += (size_t)n;
    }
    return off;
}

/* The server is up, the bystander is still served, and a new client too. */
static void check_bystander(struct abuse *a, const char *after)
{
    if (!tk_server_alive(&a->s))
        fail_msg("server died after %s", after);
    redisReply *r = redisCommand(a->bystander, "GET bystander");
    if (!r)
        fail_msg("bystander connection broken after %s: %s", after, a->bystander->errstr);
    if (r->type != REDIS_REPLY_STRING || strcmp(r->str, "still here") != 0) {
        char what[256];
        snprintf(what, sizeof(what), "type %d \"%.200s\"", r->type,
                 r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_ERROR ? r->str : "");
        freeReplyObject(r);
        fail_msg("bystander got a wrong reply after %s: %s", after, what);
    }
    freeReplyObject(r);
    int fd = tk_raw_connect(&a->s);
    tk_raw_expect(fd, "PING\r\n", "+PONG\r\n");
    close(fd);
}

/* Copies s with CR and LF shown as \\r \\n, for failure messages. */
static const char *esc(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 3 < cap; s++) {
        if (*s == '\r' || *s == '\n') {
            out[o++] = '\\';
            out[o++] = *s == '\r' ? 'r' : 'n';
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return out;
}

/* Sends payload on a fresh connection; expects exactly `reply` followed by
 * the server closing the connection. */
static void expect_error_then_close(struct abuse *a, const char *what, const char *payload, size_t len,
                                    const char *reply)
{
    int fd = tk_raw_connect(&a->s);
    send_nb(fd, payload, len, 5000, 1);
    static char got[65536];
    long n = tk_raw_reply(fd, got, sizeof(got), 10000);
    char e1[512], e2[512];
    if (n <= 0)
        fail_msg("%s: expected \"%s\", got %s", what, esc(reply, e1, sizeof(e1)),
                 n == 0 ? "EOF without a reply" : "no reply (timeout)");
    size_t rl = strlen(reply);
    int prefix_only = rl > 2 && reply[rl - 1] != '\n'; /* a reply without CRLF is a prefix */
    if (prefix_only ? strncmp(got, reply, rl) != 0 : strcmp(got, reply) != 0)
        fail_msg("%s: expected \"%s\"%s, got \"%s\"", what, esc(reply, e1, sizeof(e1)), prefix_only ? "..." : "",
                 esc(got, e2, sizeof(e2)));
    if (!tk_raw_closed(fd, 5000))
        fail_msg("%s: the connection was not closed after the protocol error", what);
    close(fd);
    check_bystander(a, what);
}

static int group_setup(void **state)
{
    static struct abuse a;
    const char *extra[] = {"--threads", "2", NULL};
    if (tk_server_start(&a.s, extra) != 0)
        return -1;
    struct timeval tv = {10, 0};
    a.bystander = redisConnectWithTimeout("127.0.0.1", a.s.port, tv);
    if (!a.bystander || a.bystander->err)
        return -1;
    redisSetTimeout(a.bystander, tv);
    redisReply *r = redisCommand(a.bystander, "SET bystander %s", "still here");
    if (!r)
        return -1;
    freeReplyObject(r);
    /* warm up: some normal traffic, so the baseline includes steady buffers */
    for (int i = 0; i < 1000; i++) {
        r = redisCommand(a.bystander, "SET warm:%d %s", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        if (!r)
            return -1;
        freeReplyObject(r);
    }
    a.rss0_kb = tk_server_rss_kb(&a.s);
    fprintf(stderr, "abuse: baseline RSS %ld KiB\n", a.rss0_kb);
    *state = &a;
    return 0;
}

static int group_teardown(void **state)
{
    struct abuse *a = *state;
    redisFree(a->bystander);
    return tk_server_stop(&a->s) == 0 ? 0 : -1;
}

static void test_malformed_multibulk_count_is_protocol_error(void **state)
{
    struct abuse *a = *state;
    const char *inv = "-ERR Protocol error: invalid multibulk length\r\n";
    expect_error_then_close(a, "*abc", "*abc\r\n", sizeof("*abc\r\n") - 1, inv);
    expect_error_then_close(a, "*1x", "*1x\r\n", sizeof("*1x\r\n") - 1, inv);
    expect_error_then_close(a, "*3000000000", "*3000000000\r\n", sizeof("*3000000000\r\n") - 1, inv);
    expect_error_then_close(a, "*99999999999999999999999", "*99999999999999999999999\r\n", sizeof("*99999999999999999999999\r\n") - 1, inv);
}

static void test_malformed_bulk_length_is_protocol_error(void **state)
{
    struct abuse *a = *state;
    const char *inv = "-ERR Protocol error: invalid bulk length\r\n";
    expect_error_then_close(a, "$-5", "*1\r\n$-5\r\n", sizeof("*1\r\n$-5\r\n") - 1, inv);
    expect_error_then_close(a, "$abc", "*1\r\n$abc\r\n", sizeof("*1\r\n$abc\r\n") - 1, inv);
    expect_error_then_close(a, "$ empty", "*1\r\n$\r\n", sizeof("*1\r\n$\r\n") - 1, inv);
    expect_error_then_close(a, "$4PING (no CRLF after the length)", "*1\r\n$4PING\r\n", sizeof("*1\r\n$4PING\r\n") - 1, inv);
    expect_error_then_close(a, "$4<LF> (LF only after the length)", "*1\r\n$4\nPING\r\n", sizeof("*1\r\n$4\nPING\r\n") - 1, inv);
    expect_error_then_close(a, "*2<LF> (LF only after the count)", "*2\n$4\r\nECHO\r\n$1\r\nx\r\n", sizeof("*2\n$4\r\nECHO\r\n$1\r\nx\r\n") - 1,
                            "-ERR Protocol error: invalid multibulk length\r\n");
    expect_error_then_close(a, "':' where '$' belongs", "*1\r\n:4\r\nPING\r\n", sizeof("*1\r\n:4\r\nPING\r\n") - 1,
                            "-ERR Protocol error: expected '$', got ':'\r\n");
}

/* A bulk payload not followed by CRLF. Redis does not check these two bytes
 * (it answers +PONG); a stricter server may reply a protocol error and close.
 * Either is acceptable; a success reply for anything else, a hang or a crash
 * is not. */
static void test_bulk_without_trailing_crlf(void **state)
{
    struct abuse *a = *state;
    int fd = tk_raw_connect(&a->s);
    assert_int_equal(tk_raw_send(fd, "*1\r\n$4\r\nPINGxx", 14), 0);
    char got[4096];
    long n = tk_raw_reply(fd, got, sizeof(got), 10000);
    assert_true(n > 0);
    if (strcmp(got, "+PONG\r\n") != 0) {
        if (strncmp(got, "-ERR Protocol error", 19) != 0)
            fail_msg("bulk without CRLF: expected +PONG or a protocol error, got \"%s\"", got);
        assert_true(tk_raw_closed(fd, 5000));
    }
    close(fd);
    check_bystander(a, "bulk without trailing CRLF");
}

static void test_4gb_declared_bulk_is_refused_without_allocating(void **state)
{
    struct abuse *a = *state;
    const char *inv = "-ERR Protocol error: invalid bulk length\r\n";
    long before = tk_server_rss_kb(&a->s);
    expect_error_then_close(a, "$4294967296", "*1\r\n$4294967296\r\n", sizeof("*1\r\n$4294967296\r\n") - 1, inv);
    expect_error_then_close(a, "$9223372036854775807", "*1\r\n$9223372036854775807\r\n", sizeof("*1\r\n$9223372036854775807\r\n") - 1, inv);
    expect_error_then_close(a, "$99999999999999999999", "*1\r\n$99999999999999999999\r\n", sizeof("*1\r\n$99999999999999999999\r\n") - 1, inv);
    /* over the default proto-max-bulk-len (512 MB) */
    expect_error_then_close(a, "$629145600", "*2\r\n$3\r\nSET\r\n$629145600\r\n", sizeof("*2\r\n$3\r\nSET\r\n$629145600\r\n") - 1, inv);
    long after = tk_server_rss_kb(&a->s);
    if (after - before > RSS_BUDGET_KB)
        fail_msg("RSS grew from %ld to %ld KiB on refused bulk headers", before, after);
}

static void test_deep_nesting_is_protocol_error(void **state)
{
    struct abuse *a = *state;
    size_t depth = 3000, len = depth * 4;
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    for (size_t i = 0; i < depth; i++)
        memcpy(buf + 4 * i, "*1\r\n", 4);
    expect_error_then_close(a, "*1 nested 3000 deep", buf, len, "-ERR Protocol error");
    free(buf);
}

static void test_1mb_inline_without_newline_is_refused(void **state)
{
    struct abuse *a = *state;
    size_t len = 1 << 20;
    char *buf = malloc(len);
    assert_non_null(buf);
    memset(buf, 'a', len);
    memcpy(buf, "SET k ", 6);
    expect_error_then_close(a, "1 MB inline line", buf, len, "-ERR Protocol error: too big inline request\r\n");
    free(buf);
}

/* Redis 7 accepts counts up to INT_MAX and waits; Strata caps arguments per
 * command (RESP_MULTIBULK_MAX, 1M) and must refuse 2e9 at once. */
static void test_huge_multibulk_count_is_refused(void **state)
{
    struct abuse *a = *state;
    expect_error_then_close(a, "*2000000000", "*2000000000\r\n", sizeof("*2000000000\r\n") - 1,
                            "-ERR Protocol error: invalid multibulk length\r\n");
    /* a plausible count followed by little data must not reserve argv for all */
    long before = tk_server_rss_kb(&a->s);
    int fds[20];
    for (int i = 0; i < 20; i++) {
        fds[i] = tk_raw_connect(&a->s);
        const char *p = "*1000000\r\n$3\r\nSET\r\n$1\r\nk\r\n";
        assert_int_equal(tk_raw_send(fds[i], p, strlen(p)), 0);
    }
    sleep_ms(200);
    long during = tk_server_rss_kb(&a->s);
    for (int i = 0; i < 20; i++)
        close(fds[i]);
    if (during - before > RSS_BUDGET_KB)
        fail_msg("20 clients declaring 1M arguments grew RSS from %ld to %ld KiB", before, during);
    check_bystander(a, "20 clients declaring 1M arguments");
}

/* Bulks declared large (400 MB, under proto-max-bulk-len) but never sent
 * must not cost their declared size; partly sent ones are freed on close. */
static void test_declared_but_unsent_bulks_cost_little(void **state)
{
    struct abuse *a = *state;
    enum { N = 20, PART = 1 << 20 };
    long before = tk_server_rss_kb(&a->s);
    int fds[N];
    char *part = malloc(PART);
    assert_non_null(part);
    memset(part, 'p', PART);
    for (int i = 0; i < N; i++) {
        fds[i] = tk_raw_connect(&a->s);
        const char *h = "*3\r\n$3\r\nSET\r\n$7\r\nbig:one\r\n$400000000\r\n";
        assert_int_equal(tk_raw_send(fds[i], h, strlen(h)), 0);
        if (i % 2) /* half of them send 1 MB of it */
            send_nb(fds[i], part, PART, 5000, 0);
    }
    sleep_ms(300);
    long during = tk_server_rss_kb(&a->s);
    fprintf(stderr, "abuse: RSS %ld -> %ld KiB with %d clients each declaring a 400 MB bulk\n", before, during, N);
    check_bystander(a, "clients declaring 400 MB bulks");
    for (int i = 0; i < N; i++)
        close(fds[i]);
    free(part);
    if (during - before > RSS_BUDGET_KB)
        fail_msg("%d clients declaring 400 MB bulks (10 MB sent in all) grew RSS by %ld KiB", N, during - before);
    sleep_ms(200);
    redisReply *r = redisCommand(a->bystander, "EXISTS big:one");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
}

/* xorshift64*: small, seeded, reproducible. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Fills buf with one garbage payload of a random flavour; returns its length. */
static size_t garbage(uint64_t *rng, char *buf, size_t cap)
{
    static const char *const valid[] = {
        "*3\r\n$3\r\nSET\r\n$6\r\nfuzz:k\r\n$5\r\nvalue\r\n",
        "*2\r\n$3\r\nGET\r\n$6\r\nfuzz:k\r\n",
        "*2\r\n$4\r\nINCR\r\n$6\r\nfuzz:n\r\n",
        "*3\r\n$6\r\nAPPEND\r\n$6\r\nfuzz:a\r\n$3\r\nabc\r\n",
        "SET fuzz:i \"quoted \\x41 value\"\r\n",
        "MGET fuzz:k fuzz:n fuzz:a\r\n",
    };
    static const char alphabet[] = "*$:+-_,#(=%~>|\r\n0123456789 -\"'\\abcSETGET";
    size_t len = 1 + rng_next(rng) % (cap - 1);
    switch (rng_next(rng) % 4) {
    case 0: /* uniform random bytes */
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)rng_next(rng);
        break;
    case 1: /* protocol-ish tokens */
        for (size_t i = 0; i < len; i++)
            buf[i] = alphabet[rng_next(rng) % (sizeof(alphabet) - 1)];
        break;
    case 2: { /* valid commands with a few mutations */
        len = 0;
        int cmds = 1 + (int)(rng_next(rng) % 8);
        for (int c = 0; c < cmds; c++) {
            const char *v = valid[rng_next(rng) % (sizeof(valid) / sizeof(valid[0]))];
            size_t vl = strlen(v);
            if (len + vl >= cap)
                break;
            memcpy(buf + len, v, vl);
            len += vl;
        }
        int muts = 1 + (int)(rng_next(rng) % 4);
        for (int m = 0; m < muts && len > 0; m++) {
            size_t at = rng_next(rng) % len;
            switch (rng_next(rng) % 3) {
            case 0: buf[at] = (char)rng_next(rng); break;
            case 1: buf[at] = alphabet[rng_next(rng) % (sizeof(alphabet) - 1)]; break;
            default: len = at + 1; break; /* truncate */
            }
        }
        break;
    }
    default: { /* a header declaring something big, then random bytes */
        static const char *const heads[] = {"*%llu\r\n", "*1\r\n$%llu\r\n", "*2\r\n$3\r\nSET\r\n$%llu\r\n",
                                            "%%%llu\r\n", "*1\r\n*%llu\r\n"};
        unsigned long long n = rng_next(rng) % 4 == 0 ? rng_next(rng) : rng_next(rng) % 100000;
        int hl = snprintf(buf, cap, heads[rng_next(rng) % 5], n);
        for (size_t i = (size_t)hl; i < len; i++)
            buf[i] = (char)rng_next(rng);
        if (len < (size_t)hl)
            len = (size_t)hl;
        break;
    }
    }
    return len;
}

static void test_random_garbage_connections(void **state)
{
    struct abuse *a = *state;
    uint64_t seed = 0x5eed5eedULL;
    const char *env = getenv("STRATA_SEED");
    if (env && *env)
        seed = strtoull(env, NULL, 0);
    fprintf(stderr, "abuse: garbage seed %llu (set STRATA_SEED to repeat)\n", (unsigned long long)seed);
    uint64_t rng = seed ? seed : 1;
    static char buf[8192];
    char what[96];
    for (int i = 0; i < GARBAGE_CONNECTIONS; i++) {
        size_t len = garbage(&rng, buf, sizeof(buf));
        int fd = tk_raw_connect(&a->s);
        send_nb(fd, buf, len, 200, 0);
        if (rng_next(&rng) % 2) {
            /* sometimes read what comes back for a moment before closing */
            struct pollfd pfd = {fd, POLLIN, 0};
            char sink[4096];
            long long end = now_ms() + 20;
            while (now_ms() < end && poll(&pfd, 1, 5) > 0) {
                if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
                    break;
            }
        }
        close(fd);
        if (i % 20 == 19 || !tk_server_alive(&a->s)) {
            snprintf(what, sizeof(what), "garbage connection %d (seed %llu)", i, (unsigned long long)seed);
            check_bystander(a, what);
        }
    }
    check_bystander(a, "random garbage");
}

/* Runs last in the group: the whole abuse run stayed within the budget. */
static void test_rss_bounded_across_abuse(void **state)
{
    struct abuse *a = *state;
    sleep_ms(300); /* let the server finish closing the abusers */
    long rss = tk_server_rss_kb(&a->s);
    fprintf(stderr, "abuse: RSS %ld KiB after the run (baseline %ld KiB)\n", rss, a->rss0_kb);
    assert_true(rss > 0);
    if (rss - a->rss0_kb > RSS_BUDGET_KB)
        fail_msg("RSS grew by %ld KiB across the abuse run (budget %ld KiB)", rss - a->rss0_kb, RSS_BUDGET_KB);
    check_bystander(a, "the whole run");
}

/* ---- own-server tests ---------------------------------------------------- */

/* Is a client named `name` in CLIENT LIST? */
static int client_listed(redisContext *c, const char *name)
{
    redisReply *r = tk_cmd(c, "CLIENT LIST");
    if (r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        fail_msg("CLIENT LIST did not reply a bulk string");
    }
    char needle[160];
    snprintf(needle, sizeof(needle), "name=%s ", name);
    int found = strstr(r->str, needle) != NULL;
    freeReplyObject(r);
    return found;
}

/* Checks an INFO counter. (Redis 7.0 has neither
 * client_output_buffer_limit_disconnections nor the query-buffer one; newer
 * Redis and Strata do.) */
static void check_counter(redisContext *c, const char *field, long long min)
{
    long long n = tk_info_ll(c, field);
    if (n < min)
        fail_msg("INFO %s = %lld, expected at least %lld", field, n, min);
}

static void test_output_buffer_soft_limit_disconnects_non_reader(void **state)
{
    (void)state;
    struct tk_server s;
    const char *extra[] = {"--client-output-buffer-limit", "normal 0 1mb 1", NULL};
    assert_int_equal(tk_server_start(&s, extra), 0);
    redisContext *admin = tk_connect(&s);
    size_t vlen = 100 * 1024;
    char *big = malloc(vlen);
    assert_non_null(big);
    memset(big, 'o', vlen);
    tk_expect_status(tk_cmd(admin, "SET obuf:big %b", big, vlen), "OK");
    free(big);

    int fd = tk_raw_connect(&s);
    int small = 16384;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    tk_raw_expect(fd, "CLIENT SETNAME obuf-victim\r\n", "+OK\r\n");
    assert_true(client_listed(admin, "obuf-victim"));

    /* 20 GETs of 100 KB every 50 ms, never reading: about 40 MB/s of output */
    static char pipe_buf[20 * 32];
    size_t plen = 0;
    for (int i = 0; i < 20; i++)
        plen += (size_t)sprintf(pipe_buf + plen, "*2\r\n$3\r\nGET\r\n$8\r\nobuf:big\r\n");
    long long start = now_ms(), gone_at = 0;
    while (now_ms() - start < 8000) {
        send_nb(fd, pipe_buf, plen, 50, 0);
        sleep_ms(50);
        if (!client_listed(admin, "obuf-victim")) {
            gone_at = now_ms();
            break;
        }
    }
    if (!gone_at)
        fail_msg("a client over the 1 MB soft limit for 8 s (limit: 1 s) was not disconnected");
    fprintf(stderr, "abuse: non-reading client disconnected after %lld ms\n", gone_at - start);
    assert_true(gone_at - start >= 900); /* soft limit: not before 1 s over the limit */
    /* the victim, once it reads, finds the end of the stream */
    if (!tk_raw_closed(fd, 10000))
        fail_msg("the disconnected client's socket did not reach EOF");
    close(fd);

    tk_expect_status(tk_cmd(admin, "PING"), "PONG");
    check_counter(admin, "client_output_buffer_limit_disconnections", 1);
    redisFree(admin);
    assert_true(tk_server_alive(&s));
    assert_int_equal(tk_server_stop(&s), 0);
}

static void test_maxclients_refuses_the_extra_client(void **state)
{
    (void)state;
    struct tk_server s;
    const char *extra[] = {"--maxclients", "5", NULL};
    assert_int_equal(tk_server_start(&s, extra), 0);
    int fds[5];
    char got[4096];
    for (int i = 0; i < 5; i++) {
        /* the start-up probe's close may still be in flight: retry briefly */
        long long deadline = now_ms() + 3000;
        for (;;) {
            fds[i] = tk_raw_connect(&s);
            assert_int_equal(tk_raw_send(fds[i], "PING\r\n", 6), 0);
            long n = tk_raw_reply(fds[i], got, sizeof(got), 5000);
            if (n > 0 && strcmp(got, "+PONG\r\n") == 0)
                break;
            close(fds[i]);
            if (now_ms() > deadline)
                fail_msg("client %d of 5 refused under --maxclients 5: \"%s\"", i + 1, n > 0 ? got : "");
            sleep_ms(100);
        }
    }
    int extra_fd = tk_raw_connect(&s);
    long n = tk_raw_reply(extra_fd, got, sizeof(got), 5000);
    if (n <= 0 || strcmp(got, "-ERR max number of clients reached\r\n") != 0)
        fail_msg("6th client: expected \"-ERR max number of clients reached\", got %s%s", n > 0 ? got : "",
                 n == 0 ? "EOF" : n < 0 ? "nothing" : "");
    assert_true(tk_raw_closed(extra_fd, 5000));
    close(extra_fd);
    /* the five are still served */
    for (int i = 0; i < 5; i++)
        tk_raw_expect(fds[i], "PING\r\n", "+PONG\r\n");
    /* a slot freed is a slot usable */
    close(fds[4]);
    long long deadline = now_ms() + 3000;
    for (;;) {
        fds[4] = tk_raw_connect(&s);
        assert_int_equal(tk_raw_send(fds[4], "PING\r\n", 6), 0);
        n = tk_raw_reply(fds[4], got, sizeof(got), 5000);
        if (n > 0 && strcmp(got, "+PONG\r\n") == 0)
            break;
        close(fds[4]);
        if (now_ms() > deadline)
            fail_msg("a freed client slot was not reusable: \"%s\"", n > 0 ? got : "");
        sleep_ms(100);
    }
    /* the refusal is counted (every slot is taken: ask on a held connection) */
    static char info[65536];
    assert_int_equal(tk_raw_send(fds[0], "INFO stats\r\n", 12), 0);
    assert_true(tk_raw_reply(fds[0], info, sizeof(info), 10000) > 0);
    const char *rc = strstr(info, "\nrejected_connections:");
    if (!rc)
        fail_msg("INFO stats has no rejected_connections");
    if (atoll(rc + 22) < 1)
        fail_msg("INFO rejected_connections = %lld after a refused client, expected >= 1", atoll(rc + 22));
    for (int i = 0; i < 5; i++)
        close(fds[i]);
    assert_int_equal(tk_server_stop(&s), 0);
}

static void test_query_buffer_limit_closes_connection(void **state)
{
    (void)state;
    struct tk_server s;
    const char *extra[] = {"--client-query-buffer-limit", "1mb", NULL};
    assert_int_equal(tk_server_start(&s, extra), 0);
    redisContext *admin = tk_connect(&s);

    /* under the limit: accepted */
    size_t ok_len = 900 * 1024;
    char *val = malloc(2u << 20);
    assert_non_null(val);
    memset(val, 'q', 2u << 20);
    tk_expect_status(tk_cmd(admin, "SET qbuf:ok %b", val, ok_len), "OK");
    tk_expect_int(tk_cmd(admin, "STRLEN qbuf:ok"), (long long)ok_len);

    /* a 2 MB bulk: the connection is closed, nothing is stored */
    int fd = tk_raw_connect(&s);
    const char *head = "*3\r\n$3\r\nSET\r\n$9\r\nqbuf:over\r\n$2097152\r\n";
    assert_int_equal(tk_raw_send(fd, head, strlen(head)), 0);
    send_nb(fd, val, 2u << 20, 10000, 0);
    send_nb(fd, "\r\n", 2, 1000, 0);
    if (!tk_raw_closed(fd, 10000))
        fail_msg("a 2 MB argument over a 1 MB query buffer limit did not close the connection");
    close(fd);
    free(val);

    assert_true(tk_server_alive(&s));
    tk_expect_int(tk_cmd(admin, "EXISTS qbuf:over"), 0);
    tk_expect_status(tk_cmd(admin, "PING"), "PONG");
    check_counter(admin, "client_query_buffer_limit_disconnections", 1);
    redisFree(admin);
    assert_int_equal(tk_server_stop(&s), 0);
}

/* Before AUTH, Redis accepts at most 10 arguments and 16 KB bulks. */
static void test_unauthenticated_size_limits(void **state)
{
    (void)state;
    struct tk_server s;
    const char *extra[] = {"--requirepass", "pw", NULL};
    assert_int_equal(tk_server_start(&s, extra), 0);
    int fd = tk_raw_connect(&s);
    assert_int_equal(tk_raw_send(fd, "*100\r\n", 6), 0);
    char got[4096];
    assert_true(tk_raw_reply(fd, got, sizeof(got), 10000) > 0);
    assert_string_equal(got, "-ERR Protocol error: unauthenticated multibulk length\r\n");
    assert_true(tk_raw_closed(fd, 5000));
    close(fd);

    fd = tk_raw_connect(&s);
    assert_int_equal(tk_raw_send(fd, "*2\r\n$4\r\nAUTH\r\n$100000\r\n", 23), 0);
    assert_true(tk_raw_reply(fd, got, sizeof(got), 10000) > 0);
    assert_string_equal(got, "-ERR Protocol error: unauthenticated bulk length\r\n");
    assert_true(tk_raw_closed(fd, 5000));
    close(fd);

    /* after AUTH the same sizes are fine */
    fd = tk_raw_connect(&s);
    tk_raw_expect(fd, "AUTH pw\r\n", "+OK\r\n");
    static char cmd[200000];
    size_t len = (size_t)sprintf(cmd, "*2\r\n$4\r\nECHO\r\n$100000\r\n");
    memset(cmd + len, 'e', 100000);
    len += 100000;
    memcpy(cmd + len, "\r\n", 2);
    len += 2;
    assert_int_equal(tk_raw_send(fd, cmd, len), 0);
    static char reply[200000];
    assert_int_equal(tk_raw_reply(fd, reply, sizeof(reply), 10000), 100000 + 11); /* "$100000\r\n" + data + CRLF */
    close(fd);
    assert_int_equal(tk_server_stop(&s), 0);
}

int main(void)
{
    const struct CMUnitTest shared[] = {
        cmocka_unit_test(test_malformed_multibulk_count_is_protocol_error),
        cmocka_unit_test(test_malformed_bulk_length_is_protocol_error),
        cmocka_unit_test(test_bulk_without_trailing_crlf),
        cmocka_unit_test(test_4gb_declared_bulk_is_refused_without_allocating),
        cmocka_unit_test(test_deep_nesting_is_protocol_error),
        cmocka_unit_test(test_1mb_inline_without_newline_is_refused),
        cmocka_unit_test(test_huge_multibulk_count_is_refused),
        cmocka_unit_test(test_declared_but_unsent_bulks_cost_little),
        cmocka_unit_test(test_random_garbage_connections),
        cmocka_unit_test(test_rss_bounded_across_abuse),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_output_buffer_soft_limit_disconnects_non_reader),
        cmocka_unit_test(test_maxclients_refuses_the_extra_client),
        cmocka_unit_test(test_query_buffer_limit_closes_connection),
        cmocka_unit_test(test_unauthenticated_size_limits),
    };
    int failed = cmocka_run_group_tests_name("abuse (shared server)", shared, group_setup, group_teardown);
    failed += cmocka_run_group_tests_name("abuse (own servers)", own, NULL, NULL);
    return failed ? 1 : 0;
}
