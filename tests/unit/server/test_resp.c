/*
 * test_resp.c -- unit tests for server/resp.c, the incremental request parser.
 *
 * What is protected:
 *  - a request split at any byte boundary (two pieces at every cut, and one
 *    byte at a time) parses to exactly the same arguments, spans, argc and
 *    cmdlen as the same bytes parsed at once; the same holds for pipelined
 *    sequences, whose commands are parsed one after the other;
 *  - argument spans are relative to the command start and never reach past
 *    cmdlen, so the caller may move its buffer between calls (the driver
 *    below hands the parser a fresh exact-size copy on every call, which
 *    also lets ASan catch any read past `len`);
 *  - protocol errors carry Redis's exact texts (clients and tests match on
 *    them), whichever way the bytes arrive;
 *  - the limits (proto-max-bulk-len, argument count, the 64 KB inline and
 *    header line bound, and the small pre-AUTH limits) are enforced from the
 *    header alone, before any memory is reserved.
 *
 * The driver mirrors server/client.c: parse at the command start; on
 * RESP_MORE wait for more bytes and call again with the same start; on
 * RESP_DONE advance by cmdlen and call resp_parser_reset; on RESP_EPROTO
 * stop. resp.h also promises the parser resets itself after RESP_DONE, so
 * every corpus is driven a second time without the resets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/resp.h"

/* ---- limits ------------------------------------------------------------ */

static const struct resp_limits AUTHED = { .max_bulk = 512LL * 1024 * 1024, .max_multibulk = RESP_MULTIBULK_MAX };
static const struct resp_limits UNAUTH = { .max_bulk = RESP_UNAUTH_BULK_MAX,
                                           .max_multibulk = RESP_UNAUTH_MULTIBULK_MAX,
                                           .unauthenticated = 1 };

/* ---- the driver -------------------------------------------------------- */

#define MAX_CMDS 64
#define MAX_ARGS 64

struct cmd {
    int argc;
    size_t cmdlen;
    size_t off[MAX_ARGS];
    size_t len[MAX_ARGS];
    char *bytes; /* the arguments concatenated (owned) */
    size_t nbytes;
};

struct outcome {
    int ncmds;
    struct cmd *cmds;    /* [MAX_CMDS] */
    int error;           /* RESP_EPROTO seen */
    char *errmsg;        /* copied: it may point into the parser */
    size_t pending;      /* bytes left unparsed at the end (RESP_MORE) */
    int more_calls;      /* RESP_MORE answers */
};

static struct outcome *outcome_new(void)
{
    struct outcome *o = calloc(1, sizeof(*o));
    assert_non_null(o);
    o->cmds = calloc(MAX_CMDS, sizeof(struct cmd));
    assert_non_null(o->cmds);
    return o;
}

static void outcome_free(struct outcome *o)
{
    for (int i = 0; i < o->ncmds; i++)
        free(o->cmds[i].bytes);
    free(o->cmds);
    free(o->errmsg);
    free(o);
}

/* Records the command the parser just completed in buf. */
static void record(struct outcome *o, const struct resp_parser *p, const char *buf, size_t cmdlen)
{
    assert_true(o->ncmds < MAX_CMDS);
    assert_true(p->argc >= 0 && p->argc <= MAX_ARGS);
    struct cmd *c = &o->cmds[o->ncmds++];
    c->argc = p->argc;
    c->cmdlen = cmdlen;
    size_t total = 0;
    for (int i = 0; i < p->argc; i++) {
        c->off[i] = p->spans[i].off;
        c->len[i] = p->spans[i].len;
        /* spans lie inside the command */
        assert_true(p->spans[i].off <= cmdlen);
        assert_true(p->spans[i].len <= cmdlen - p->spans[i].off);
        total += p->spans[i].len;
    }
    c->bytes = malloc(total + 1);
    assert_non_null(c->bytes);
    c->nbytes = 0;
    for (int i = 0; i < p->argc; i++) {
        memcpy(c->bytes + c->nbytes, buf + p->spans[i].off, p->spans[i].len);
        c->nbytes += p->spans[i].len;
    }
}

/* Feeds stream[0..total) to a fresh parser in pieces ending at cuts[0..ncuts)
 * (ascending, each < total) and then at total. Each call gets a malloc'd
 * copy of exactly the bytes available from the command start. */
static struct outcome *drive(const char *stream, size_t total, const size_t *cuts, size_t ncuts,
                             const struct resp_limits *lim, int reset_after_done)
{
    struct outcome *o = outcome_new();
    struct resp_parser p;
    resp_parser_init(&p);
    size_t qpos = 0;
    for (size_t piece = 0; piece <= ncuts && !o->error; piece++) {
        size_t arrived = piece < ncuts ? cuts[piece] : total;
        while (qpos < arrived) {
            size_t avail = arrived - qpos;
            char *tmp = malloc(avail);
            assert_non_null(tmp);
            memcpy(tmp, stream + qpos, avail);
            size_t cmdlen = 0;
            const char *err = NULL;
            enum resp_result r = resp_parse(&p, tmp, avail, lim, &cmdlen, &err);
            if (r == RESP_MORE) {
                o->more_calls++;
                free(tmp);
                break;
            }
            if (r == RESP_EPROTO) {
                assert_non_null(err);
                o->error = 1;
                o->errmsg = strdup(err);
                assert_non_null(o->errmsg);
                free(tmp);
                resp_parser_reset(&p);
                break;
            }
            assert_int_equal(r, RESP_DONE);
            assert_true(cmdlen > 0);
            assert_true(cmdlen <= avail);
            record(o, &p, tmp, cmdlen);
            free(tmp);
            qpos += cmdlen;
            if (reset_after_done)
                resp_parser_reset(&p);
        }
    }
    o->pending = total - qpos;
    resp_parser_deinit(&p);
    return o;
}

static struct outcome *drive_whole(const char *stream, size_t total, const struct resp_limits *lim)
{
    return drive(stream, total, NULL, 0, lim, 1);
}

static void assert_same(const struct outcome *a, const struct outcome *b, const char *what, size_t at)
{
    if (a->ncmds != b->ncmds || a->error != b->error || a->pending != b->pending)
        fail_msg("%s %zu: %d cmds/err %d/pending %zu vs %d cmds/err %d/pending %zu", what, at, a->ncmds,
                 a->error, a->pending, b->ncmds, b->error, b->pending);
    if (a->error && strcmp(a->errmsg, b->errmsg) != 0)
        fail_msg("%s %zu: error '%s' vs '%s'", what, at, a->errmsg, b->errmsg);
    for (int i = 0; i < a->ncmds; i++) {
        const struct cmd *x = &a->cmds[i], *y = &b->cmds[i];
        if (x->argc != y->argc || x->cmdlen != y->cmdlen)
            fail_msg("%s %zu: cmd %d argc %d/cmdlen %zu vs argc %d/cmdlen %zu", what, at, i, x->argc, x->cmdlen,
                     y->argc, y->cmdlen);
        for (int j = 0; j < x->argc; j++)
            if (x->off[j] != y->off[j] || x->len[j] != y->len[j])
                fail_msg("%s %zu: cmd %d arg %d span (%zu,%zu) vs (%zu,%zu)", what, at, i, j, x->off[j], x->len[j],
                         y->off[j], y->len[j]);
        assert_int_equal(x->nbytes, y->nbytes);
        if (x->nbytes)
            assert_memory_equal(x->bytes, y->bytes, x->nbytes);
    }
}

/* Parses stream whole, then split in two at every cut, then one byte at a
 * time, with and without resets after each command; every way must agree
 * with the whole parse. Returns the whole parse (caller frees). */
static struct outcome *check_all_splits(const char *stream, size_t total, const struct resp_limits *lim)
{
    struct outcome *whole = drive_whole(stream, total, lim);
    struct outcome *o = drive(stream, total, NULL, 0, lim, 0);
    assert_same(whole, o, "whole without reset", 0);
    outcome_free(o);
    for (size_t cut = 1; cut < total; cut++) {
        for (int reset = 0; reset <= 1; reset++) {
            o = drive(stream, total, &cut, 1, lim, reset);
            assert_same(whole, o, reset ? "split at" : "split (no reset) at", cut);
            outcome_free(o);
        }
    }
    size_t *bytes = malloc(sizeof(size_t) * (total ? total : 1));
    assert_non_null(bytes);
    for (size_t i = 0; i + 1 < total; i++)
        bytes[i] = i + 1;
    for (int reset = 0; reset <= 1; reset++) {
        o = drive(stream, total, bytes, total ? total - 1 : 0, lim, reset);
        assert_same(whole, o, "byte at a time", (size_t)reset);
        outcome_free(o);
    }
    free(bytes);
    return whole;
}

/* Expected arguments: a NULL-terminated list of (bytes, length) pairs. */
struct arg {
    const char *p;
    size_t n;
};
#define A(s) { s, sizeof(s) - 1 }
#define END { NULL, 0 }

static void assert_cmd(const struct outcome *o, int i, const struct arg *args, size_t cmdlen)
{
    assert_true(i < o->ncmds);
    const struct cmd *c = &o->cmds[i];
    int n = 0;
    size_t at = 0;
    while (args[n].p) {
        assert_true(n < c->argc);
        if (c->len[n] != args[n].n || memcmp(c->bytes + at, args[n].p, args[n].n) != 0)
            fail_msg("cmd %d arg %d: got %zu bytes '%.*s', want '%.*s'", i, n, c->len[n], (int)c->len[n],
                     c->bytes + at, (int)args[n].n, args[n].p);
        at += c->len[n];
        n++;
    }
    assert_int_equal(c->argc, n);
    assert_int_equal(c->cmdlen, cmdlen);
}

#define S(lit) lit, (sizeof(lit) - 1)

/* ---- the corpus: single requests ----------------------------------------- */

static void test_multibulk_with_several_args_every_split(void **state)
{
    (void)state;
    static const char req[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
    struct outcome *o = check_all_splits(S(req), &AUTHED);
    assert_int_equal(o->ncmds, 1);
    assert_false(o->error);
    assert_int_equal(o->pending, 0);
    const struct arg want[] = { A("SET"), A("key"), A("value"), END };
    assert_cmd(o, 0, want, sizeof(req) - 1);
    /* spans are offsets from the command start */
    assert_int_equal(o->cmds[0].off[0], 8);
    assert_int_equal(o->cmds[0].off[1], 17);
    assert_int_equal(o->cmds[0].off[2], 26);
    outcome_free(o);
}

static void test_multibulk_with_empty_bulk_every_split(void **state)
{
    (void)state;
    static const char req[] = "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n";
    struct outcome *o = check_all_splits(S(req), &AUTHED);
    const struct arg want[] = { A("SET"), A(""), A(""), END };
    assert_cmd(o, 0, want, sizeof(req) - 1);
    assert_int_equal(o->pending, 0);
    outcome_free(o);
}

static void test_multibulk_binary_bulk_with_crlf_inside_every_split(void **state)
{
    (void)state;
    /* the payload holds CRLFs, a NUL, '*', '$' and high bytes: only the
     * declared length delimits it */
    static const char req[] = "*3\r\n$4\r\nECHO\r\n$12\r\n\r\n*1\r\n$\0\xff" "!\r\n\r\n$2\r\n\r\n\r\n";
    struct outcome *o = check_all_splits(S(req), &AUTHED);
    assert_int_equal(o->ncmds, 1);
    const struct arg want[] = { A("ECHO"), A("\r\n*1\r\n$\0\xff" "!\r\n"), A("\r\n"), END };
    assert_cmd(o, 0, want, sizeof(req) - 1);
    outcome_free(o);
}

static void test_multibulk_many_args_every_split(void **state)
{
    (void)state;
    char req[1024];
    size_t n = (size_t)snprintf(req, sizeof(req), "*20\r\n");
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "$%d\r\n%.*s\r\n", i, i, "abcdefghijklmnopqrstuvwxyz");
    struct outcome *o = check_all_splits(req, n, &AUTHED);
    assert_int_equal(o->ncmds, 1);
    assert_int_equal(o->cmds[0].argc, 20);
    assert_int_equal(o->cmds[0].cmdlen, n);
    for (int i = 0; i < 20; i++)
        assert_int_equal(o->cmds[0].len[i], i);
    outcome_free(o);
}

static void test_inline_command_every_split(void **state)
{
    (void)state;
    static const char req[] = "SET key value\r\n";
    struct outcome *o = check_all_splits(S(req), &AUTHED);
    const struct arg want[] = { A("SET"), A("key"), A("value"), END };
    assert_cmd(o, 0, want, sizeof(req) - 1);
    assert_int_equal(o->cmds[0].off[0], 0);
    assert_int_equal(o->cmds[0].off[1], 4);
    assert_int_equal(o->cmds[0].off[2], 8);
    outcome_free(o);
}

static void test_inline_with_bare_newline_every_split(void **state)
{
    (void)state;
    static const char req[] = "GET k\n";
    struct outcome *o = check_all_splits(S(req), &AUTHED);
    const struct arg want[] = { A("GET"), A("k"), END };
    assert_cmd(o, 0, want, 6);
    outcome_free(o);
}

static void test_inline_with_quotes_every_split(void **state)
{
    (void)state;
    static const char req[] = "SET \"a b\" 'c d' \"x\\ny\\x41\" '' \"\" 'it\\'s'\r\n";
    struct outcome *o = check_all_splits(S(req), &AUTHED);
    const struct arg want[] = { A("SET"), A("a b"), A("c d"), A("x\nyA"), A(""), A(""), A("it's"), END };
    assert_cmd(o, 0, want, sizeof(req) - 1);
    outcome_free(o);
}

static void test_inline_blanks_are_collapsed_every_split(void **state)
{
    (void)state;
    static const char req[] = "  set \t  a    b  \r\n";
    struct outcome *o = check_all_splits(S(req), &AUTHED);
    const struct arg want[] = { A("set"), A("a"), A("b"), END };
    assert_cmd(o, 0, want, sizeof(req) - 1);
    outcome_free(o);
}

static void test_star_zero_is_an_empty_command_every_split(void **state)
{
    (void)state;
    struct outcome *o = check_all_splits(S("*0\r\n"), &AUTHED);
    assert_int_equal(o->ncmds, 1);
    assert_int_equal(o->cmds[0].argc, 0);
    assert_int_equal(o->cmds[0].cmdlen, 4);
    assert_false(o->error);
    outcome_free(o);
}

static void test_star_minus_one_is_an_empty_command_every_split(void **state)
{
    (void)state;
    struct outcome *o = check_all_splits(S("*-1\r\n"), &AUTHED);
    assert_int_equal(o->ncmds, 1);
    assert_int_equal(o->cmds[0].argc, 0);
    assert_int_equal(o->cmds[0].cmdlen, 5);
    outcome_free(o);
}

static void test_empty_inline_line_is_an_empty_command(void **state)
{
    (void)state;
    struct outcome *o = check_all_splits(S("\r\n"), &AUTHED);
    assert_int_equal(o->ncmds, 1);
    assert_int_equal(o->cmds[0].argc, 0);
    assert_int_equal(o->cmds[0].cmdlen, 2);
    outcome_free(o);
    o = check_all_splits(S("\n"), &AUTHED);
    assert_int_equal(o->ncmds, 1);
    assert_int_equal(o->cmds[0].argc, 0);
    assert_int_equal(o->cmds[0].cmdlen, 1);
    outcome_free(o);
    o = check_all_splits(S("   \t \r\n"), &AUTHED);
    assert_int_equal(o->ncmds, 1);
    assert_int_equal(o->cmds[0].argc, 0);
    assert_int_equal(o->cmds[0].cmdlen, 7);
    outcome_free(o);
}

static void test_incomplete_request_waits(void **state)
{
    (void)state;
    static const char *const partial[] = { "*", "*3", "*3\r", "*3\r\n", "*3\r\n$", "*3\r\n$3", "*3\r\n$3\r\n",
                                           "*3\r\n$3\r\nSET", "*3\r\n$3\r\nSET\r", "*3\r\n$3\r\nSET\r\n",
                                           "PING", "PING\r", "SET \"unclosed", "*1\r\n$3\r\nabc" };
    for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
        struct outcome *o = drive_whole(partial[i], strlen(partial[i]), &AUTHED);
        if (o->ncmds != 0 || o->error || o->pending != strlen(partial[i]))
            fail_msg("'%s' did not wait for more", partial[i]);
        outcome_free(o);
    }
    /* no bytes at all */
    struct resp_parser p;
    resp_parser_init(&p);
    size_t cmdlen = 0;
    const char *err = NULL;
    char b[1] = { 0 };
    assert_int_equal(resp_parse(&p, b, 0, &AUTHED, &cmdlen, &err), RESP_MORE);
    resp_parser_deinit(&p);
}

/* ---- pipelines ------------------------------------------------------------ */

static void test_pipelined_mixed_sequence_every_split(void **state)
{
    (void)state;
    static const char req[] = "*1\r\n$4\r\nPING\r\n"
                              "PING\r\n"
                              "*0\r\n"
                              "*2\r\n$3\r\nGET\r\n$0\r\n\r\n"
                              "\r\n"
                              "ECHO \"a\\r\\nb\"\n"
                              "*-1\r\n"
                              "*2\r\n$4\r\nECHO\r\n$4\r\n\r\n\r\n\r\n"
                              "\n"
                              "*1\r\n$4\r\nQUIT\r\n";
    struct outcome *o = check_all_splits(S(req), &AUTHED);
    assert_false(o->error);
    assert_int_equal(o->pending, 0);
    assert_int_equal(o->ncmds, 10);
    const struct arg c0[] = { A("PING"), END };
    const struct arg c2[] = { END };
    const struct arg c3[] = { A("GET"), A(""), END };
    const struct arg c5[] = { A("ECHO"), A("a\r\nb"), END };
    const struct arg c7[] = { A("ECHO"), A("\r\n\r\n"), END };
    const struct arg c9[] = { A("QUIT"), END };
    assert_cmd(o, 0, c0, 14);
    assert_cmd(o, 1, c0, 6);
    assert_cmd(o, 2, c2, 4);
    assert_cmd(o, 3, c3, 19);
    assert_cmd(o, 4, c2, 2);
    assert_cmd(o, 5, c5, 14);
    assert_cmd(o, 6, c2, 5);
    assert_cmd(o, 7, c7, 24);
    assert_cmd(o, 8, c2, 1);
    assert_cmd(o, 9, c9, 14);
    outcome_free(o);
}

static void test_pipelined_multibulk_commands_every_split(void **state)
{
    (void)state;
    char req[4096];
    size_t n = 0;
    for (int i = 0; i < 12; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "*3\r\n$3\r\nSET\r\n$%d\r\nk%0*d\r\n$%d\r\n%.*s\r\n",
                              i + 2, i + 1, i, i * 3, i * 3, "0123456789012345678901234567890123456789");
    struct outcome *o = check_all_splits(req, n, &AUTHED);
    assert_int_equal(o->ncmds, 12);
    assert_int_equal(o->pending, 0);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(o->cmds[i].argc, 3);
        assert_int_equal(o->cmds[i].len[1], i + 2);
        assert_int_equal(o->cmds[i].len[2], i * 3);
    }
    outcome_free(o);
}

static void test_pipeline_leaves_partial_tail_pending(void **state)
{
    (void)state;
    static const char req[] = "PING\r\n*2\r\n$3\r\nGET\r\n$1\r\n";
    struct outcome *o = check_all_splits(S(req), &AUTHED);
    assert_int_equal(o->ncmds, 1);
    assert_false(o->error);
    assert_int_equal(o->pending, sizeof(req) - 1 - 6);
    outcome_free(o);
}

static void test_error_after_good_commands_in_pipeline(void **state)
{
    (void)state;
    static const char req[] = "PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n*1\r\n$4\r\nPING\r\n";
    struct outcome *o = check_all_splits(S(req), &AUTHED);
    assert_int_equal(o->ncmds, 2);
    assert_true(o->error);
    assert_string_equal(o->errmsg, "Protocol error: expected '$', got '*'");
    outcome_free(o);
}

/* ---- big bulks ------------------------------------------------------------- */

static void test_big_bulk_split_at_many_points_and_need_hint(void **state)
{
    (void)state;
    const size_t blen = 200000;
    char *req = malloc(blen + 64);
    size_t n = (size_t)sprintf(req, "*2\r\n$3\r\nSET\r\n$%zu\r\n", blen);
    size_t payload_at = n;
    for (size_t i = 0; i < blen; i++)
        req[n + i] = (char)(i * 7 + (i >> 8));
    n += blen;
    memcpy(req + n, "\r\n", 2);
    n += 2;
    struct outcome *whole = drive_whole(req, n, &AUTHED);
    assert_int_equal(whole->ncmds, 1);
    assert_int_equal(whole->cmds[0].len[1], blen);
    assert_int_equal(whole->cmds[0].off[1], payload_at);
    assert_memory_equal(whole->cmds[0].bytes + 3, req + payload_at, blen);
    /* a few hundred cut points, dense around the headers and the end */
    for (size_t cut = 1; cut < n; cut += (cut < 40 || cut > n - 40) ? 1 : 997) {
        struct outcome *o = drive(req, n, &cut, 1, &AUTHED, 1);
        assert_same(whole, o, "big bulk split at", cut);
        outcome_free(o);
    }
    /* 4 KB reads, as a socket would deliver */
    size_t cuts[64], nc = 0;
    for (size_t c = 4096; c < n && nc < 64; c += 4096)
        cuts[nc++] = c;
    struct outcome *o = drive(req, n, cuts, nc, &AUTHED, 1);
    assert_same(whole, o, "4k reads", 0);
    outcome_free(o);

    /* once the bulk header is in, need is the whole command's length */
    struct resp_parser p;
    resp_parser_init(&p);
    size_t cmdlen = 0;
    const char *err = NULL;
    assert_int_equal(resp_parse(&p, req, payload_at + 10, &AUTHED, &cmdlen, &err), RESP_MORE);
    assert_int_equal(p.need, n);
    assert_int_equal(resp_parse(&p, req, n - 1, &AUTHED, &cmdlen, &err), RESP_MORE);
    assert_int_equal(resp_parse(&p, req, n, &AUTHED, &cmdlen, &err), RESP_DONE);
    assert_int_equal(cmdlen, n);
    resp_parser_deinit(&p);
    outcome_free(whole);
    free(req);
}

static void test_many_args_then_reset_gives_memory_back(void **state)
{
    (void)state;
    const int N = 5000;
    size_t cap = 16 + (size_t)N * 10;
    char *req = malloc(cap);
    size_t n = (size_t)sprintf(req, "*%d\r\n", N);
    for (int i = 0; i < N; i++)
        n += (size_t)sprintf(req + n, "$1\r\n%c\r\n", 'a' + i % 26);
    struct resp_parser p;
    resp_parser_init(&p);
    size_t cmdlen = 0;
    const char *err = NULL;
    assert_int_equal(resp_parse(&p, req, n, &AUTHED, &cmdlen, &err), RESP_DONE);
    assert_int_equal(p.argc, N);
    assert_int_equal(cmdlen, n);
    for (int i = 0; i < N; i++) {
        assert_int_equal(p.spans[i].len, 1);
        assert_int_equal(req[p.spans[i].off], 'a' + i % 26);
    }
    assert_true(p.cap >= N);
    resp_parser_reset(&p);
    assert_true(p.cap <= 64);
    /* and still works */
    static const char small[] = "*1\r\n$4\r\nPING\r\n";
    char buf[sizeof(small)];
    memcpy(buf, small, sizeof(small));
    assert_int_equal(resp_parse(&p, buf, sizeof(small) - 1, &AUTHED, &cmdlen, &err), RESP_DONE);
    assert_int_equal(p.argc, 1);
    resp_parser_deinit(&p);
    free(req);
}

/* ---- errors --------------------------------------------------------------- */

/* Asserts stream (whole and at every split) ends in the error msg after
 * ncmds good commands. */
static void assert_error_every_split(const char *stream, size_t n, const struct resp_limits *lim, int ncmds,
                                     const char *msg)
{
    struct outcome *o = check_all_splits(stream, n, lim);
    if (!o->error)
        fail_msg("no error for '%.*s'", (int)(n > 60 ? 60 : n), stream);
    assert_string_equal(o->errmsg, msg);
    assert_int_equal(o->ncmds, ncmds);
    outcome_free(o);
}

static void test_error_invalid_multibulk_length_not_a_number(void **state)
{
    (void)state;
    const char *msg = "Protocol error: invalid multibulk length";
    assert_error_every_split(S("*abc\r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("*\r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("*+1\r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("*1 \r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("*01\r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("*99999999999999999999\r\n"), &AUTHED, 0, msg);
}

static void test_error_invalid_multibulk_length_too_many_args(void **state)
{
    (void)state;
    const char *msg = "Protocol error: invalid multibulk length";
    assert_error_every_split(S("*2000000\r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("*1048577\r\n"), &AUTHED, 0, msg);
    /* exactly the limit is accepted (and waits for the arguments) */
    struct outcome *o = drive_whole(S("*1048576\r\n"), &AUTHED);
    assert_false(o->error);
    assert_int_equal(o->ncmds, 0);
    outcome_free(o);
}

static void test_error_invalid_bulk_length_negative(void **state)
{
    (void)state;
    const char *msg = "Protocol error: invalid bulk length";
    assert_error_every_split(S("*1\r\n$-1\r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("*2\r\n$3\r\nGET\r\n$-5\r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("*1\r\n$abc\r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("*1\r\n$\r\n"), &AUTHED, 0, msg);
}

static void test_error_invalid_bulk_length_over_max_bulk(void **state)
{
    (void)state;
    const char *msg = "Protocol error: invalid bulk length";
    assert_error_every_split(S("*1\r\n$4294967296\r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("*1\r\n$536870913\r\n"), &AUTHED, 0, msg);
    /* 512 MB itself is allowed: the parser waits for the payload without
     * reserving it */
    struct outcome *o = drive_whole(S("*1\r\n$536870912\r\n"), &AUTHED);
    assert_false(o->error);
    assert_int_equal(o->ncmds, 0);
    outcome_free(o);
}

static void test_error_nested_multibulk(void **state)
{
    (void)state;
    assert_error_every_split(S("*1\r\n*1\r\n$4\r\nPING\r\n"), &AUTHED, 0, "Protocol error: expected '$', got '*'");
    assert_error_every_split(S("*2\r\n$3\r\nGET\r\n*1\r\n"), &AUTHED, 0, "Protocol error: expected '$', got '*'");
}

static void test_error_expected_dollar_names_the_byte(void **state)
{
    (void)state;
    /* Redis 7 prints the offending byte */
    assert_error_every_split(S("*1\r\nPING\r\n"), &AUTHED, 0, "Protocol error: expected '$', got 'P'");
    assert_error_every_split(S("*1\r\n:1\r\n"), &AUTHED, 0, "Protocol error: expected '$', got ':'");
    assert_error_every_split(S("*2\r\n$1\r\na\r\n+x\r\n"), &AUTHED, 0, "Protocol error: expected '$', got '+'");
}

static void test_error_unbalanced_quotes(void **state)
{
    (void)state;
    const char *msg = "Protocol error: unbalanced quotes in request";
    assert_error_every_split(S("SET \"abc\r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("SET 'abc\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("SET \"a\"b\r\n"), &AUTHED, 0, msg);
    assert_error_every_split(S("PING\r\nSET k \"v\r\n"), &AUTHED, 1, msg);
}

static void test_error_too_big_inline_request(void **state)
{
    (void)state;
    const size_t n = RESP_INLINE_MAX + 1;
    char *req = malloc(n + 2);
    memset(req, 'a', n + 2);
    /* 64 KB exactly without a newline: still waiting */
    struct outcome *o = drive_whole(req, n - 1, &AUTHED);
    assert_false(o->error);
    assert_int_equal(o->pending, n - 1);
    outcome_free(o);
    /* one more byte: refused, however it arrived */
    o = drive_whole(req, n, &AUTHED);
    assert_true(o->error);
    assert_string_equal(o->errmsg, "Protocol error: too big inline request");
    outcome_free(o);
    size_t cuts[] = { 1, 100, 4096, 65535, 65536 };
    for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
        o = drive(req, n, &cuts[c], 1, &AUTHED, 1);
        assert_true(o->error);
        assert_string_equal(o->errmsg, "Protocol error: too big inline request");
        outcome_free(o);
    }
    /* a complete line longer than the limit is refused too */
    req[n] = '\n';
    o = drive_whole(req, n + 1, &AUTHED);
    assert_true(o->error);
    assert_string_equal(o->errmsg, "Protocol error: too big inline request");
    outcome_free(o);
    /* a line of exactly 64 KB (without its '\n') is fine */
    req[n - 1] = '\n';
    o = drive_whole(req, n, &AUTHED);
    assert_false(o->error);
    assert_int_equal(o->ncmds, 1);
    assert_int_equal(o->cmds[0].argc, 1);
    assert_int_equal(o->cmds[0].len[0], RESP_INLINE_MAX);
    outcome_free(o);
    free(req);
}

static void test_error_too_big_header_lines(void **state)
{
    (void)state;
    const size_t n = RESP_INLINE_MAX + 8;
    char *req = malloc(n + 8);
    req[0] = '*';
    memset(req + 1, '1', n - 1);
    struct outcome *o = drive_whole(req, n, &AUTHED);
    assert_true(o->error);
    assert_string_equal(o->errmsg, "Protocol error: too big mbulk count string");
    outcome_free(o);
    memcpy(req, "*1\r\n$", 5);
    memset(req + 5, '1', n - 5);
    o = drive_whole(req, n, &AUTHED);
    assert_true(o->error);
    assert_string_equal(o->errmsg, "Protocol error: too big bulk count string");
    outcome_free(o);
    free(req);
}

/* ---- pre-AUTH limits ------------------------------------------------------ */

static void test_unauthenticated_multibulk_limit_is_10(void **state)
{
    (void)state;
    assert_error_every_split(S("*11\r\n"), &UNAUTH, 0, "Protocol error: unauthenticated multibulk length");
    /* a malformed count is still "invalid" before AUTH */
    assert_error_every_split(S("*x\r\n"), &UNAUTH, 0, "Protocol error: invalid multibulk length");
    char req[256];
    size_t n = (size_t)sprintf(req, "*10\r\n");
    for (int i = 0; i < 10; i++)
        n += (size_t)sprintf(req + n, "$1\r\n%d\r\n", i);
    struct outcome *o = check_all_splits(req, n, &UNAUTH);
    assert_false(o->error);
    assert_int_equal(o->ncmds, 1);
    assert_int_equal(o->cmds[0].argc, 10);
    outcome_free(o);
}

static void test_unauthenticated_bulk_limit_is_16384(void **state)
{
    (void)state;
    assert_error_every_split(S("*2\r\n$4\r\nAUTH\r\n$16385\r\n"), &UNAUTH, 0,
                             "Protocol error: unauthenticated bulk length");
    assert_error_every_split(S("*2\r\n$4\r\nAUTH\r\n$-1\r\n"), &UNAUTH, 0, "Protocol error: invalid bulk length");
    const size_t blen = RESP_UNAUTH_BULK_MAX;
    char *req = malloc(blen + 64);
    size_t n = (size_t)sprintf(req, "*2\r\n$4\r\nAUTH\r\n$%zu\r\n", blen);
    memset(req + n, 'p', blen);
    n += blen;
    memcpy(req + n, "\r\n", 2);
    n += 2;
    struct outcome *o = drive_whole(req, n, &UNAUTH);
    assert_false(o->error);
    assert_int_equal(o->ncmds, 1);
    assert_int_equal(o->cmds[0].len[1], blen);
    outcome_free(o);
    free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multibulk_with_several_args_every_split),
        cmocka_unit_test(test_multibulk_with_empty_bulk_every_split),
        cmocka_unit_test(test_multibulk_binary_bulk_with_crlf_inside_every_split),
        cmocka_unit_test(test_multibulk_many_args_every_split),
        cmocka_unit_test(test_inline_command_every_split),
        cmocka_unit_test(test_inline_with_bare_newline_every_split),
        cmocka_unit_test(test_inline_with_quotes_every_split),
        cmocka_unit_test(test_inline_blanks_are_collapsed_every_split),
        cmocka_unit_test(test_star_zero_is_an_empty_command_every_split),
        cmocka_unit_test(test_star_minus_one_is_an_empty_command_every_split),
        cmocka_unit_test(test_empty_inline_line_is_an_empty_command),
        cmocka_unit_test(test_incomplete_request_waits),
        cmocka_unit_test(test_pipelined_mixed_sequence_every_split),
        cmocka_unit_test(test_pipelined_multibulk_commands_every_split),
        cmocka_unit_test(test_pipeline_leaves_partial_tail_pending),
        cmocka_unit_test(test_error_after_good_commands_in_pipeline),
        cmocka_unit_test(test_big_bulk_split_at_many_points_and_need_hint),
        cmocka_unit_test(test_many_args_then_reset_gives_memory_back),
        cmocka_unit_test(test_error_invalid_multibulk_length_not_a_number),
        cmocka_unit_test(test_error_invalid_multibulk_length_too_many_args),
        cmocka_unit_test(test_error_invalid_bulk_length_negative),
        cmocka_unit_test(test_error_invalid_bulk_length_over_max_bulk),
        cmocka_unit_test(test_error_nested_multibulk),
        cmocka_unit_test(test_error_expected_dollar_names_the_byte),
        cmocka_unit_test(test_error_unbalanced_quotes),
        cmocka_unit_test(test_error_too_big_inline_request),
        cmocka_unit_test(test_error_too_big_header_lines),
        cmocka_unit_test(test_unauthenticated_multibulk_limit_is_10),
        cmocka_unit_test(test_unauthenticated_bulk_limit_is_16384),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
