/*
 * sb_selftest.c -- `strata-bench --selftest`: checks of the parts a benchmark
 * figure silently depends on, run without a server in about a second.
 *
 *   zipf     1e6 ranks for N = 1000, theta = 0.99 (and 0.5, 1.2): the share
 *            of the top 1% and 10% of keys against H(m, theta) / H(N, theta);
 *            fails beyond 2 percentage points
 *   hot      20% of keys get 80% +- 1 point of the draws; uniform 10% +- 1
 *   scramble a bijection of [0, n) for awkward n; the top key keeps its share
 *   hist     bucket bounds for 10^6 values (invariants 1-2 of sb_hist.c);
 *            percentiles of 2e5 log-uniform values within 1% of the exact ones
 *   resp     every reply type, whole, split at every byte and byte by byte;
 *            malformed streams fail
 *   values   every size 1..3000 and a few large: exact length; json values
 *            pass a strict JSON validator
 *   keys     key names: prefix + 12 zero-padded digits
 *
 * Prints "ok - ..." / "FAIL - ..." per check and returns 0 when all passed.
 * Owns no state beyond its stack and a few heap buffers it frees.
 */
#include "sb.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sb_st {
    int pass, fail;
};

static void sb_check(struct sb_st *t, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void sb_check(struct sb_st *t, int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s - ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (ok)
        t->pass++;
    else
        t->fail++;
}

/* ---- distributions ---------------------------------------------------------- */

static void sb_test_zipf(struct sb_st *t, uint64_t n, double theta, uint64_t draws)
{
    struct sb_dist d;
    char err[128];
    struct sb_rng r;
    sb_rng_seed(&r, 42);
    if (sb_dist_init(&d, SB_DIST_ZIPF, n, theta, 0, 0, 0, 1, err, sizeof(err)) < 0) {
        sb_check(t, 0, "zipf init: %s", err);
        return;
    }
    uint64_t top1 = 0, top10 = 0, out = 0, m1 = n / 100, m10 = n / 10;
    for (uint64_t i = 0; i < draws; i++) {
        uint64_t k = sb_dist_next(&d, &r);
        out += k >= n;
        top1 += k < m1;
        top10 += k < m10;
    }
    double s1 = 100.0 * (double)top1 / (double)draws, s10 = 100.0 * (double)top10 / (double)draws;
    double a1 = 100.0 * sb_zipf_share(n, theta, m1), a10 = 100.0 * sb_zipf_share(n, theta, m10);
    sb_check(t, out == 0 && fabs(s1 - a1) <= 2.0 && fabs(s10 - a10) <= 2.0,
             "zipf N=%llu theta=%g, %llu draws: top 1%% of keys %.2f%% of draws (analytic %.2f%%), "
             "top 10%% %.2f%% (analytic %.2f%%)",
             (unsigned long long)n, theta, (unsigned long long)draws, s1, a1, s10, a10);
}

static void sb_test_hot_uniform(struct sb_st *t)
{
    struct sb_dist d;
    char err[128];
    struct sb_rng r;
    sb_rng_seed(&r, 7);
    const uint64_t n = 1000, draws = 500000;
    uint64_t hot = 0, out = 0;
    sb_dist_init(&d, SB_DIST_HOT, n, 0, 20, 80, 0, 1, err, sizeof(err));
    for (uint64_t i = 0; i < draws; i++) {
        uint64_t k = sb_dist_next(&d, &r);
        out += k >= n;
        hot += k < 200;
    }
    double s = 100.0 * (double)hot / (double)draws;
    sb_check(t, out == 0 && fabs(s - 80) <= 1.0, "hot 20%%/80%%: top 20%% of keys %.2f%% of draws", s);

    uint64_t low = 0;
    out = 0;
    sb_dist_init(&d, SB_DIST_UNIFORM, n, 0, 0, 0, 0, 1, err, sizeof(err));
    for (uint64_t i = 0; i < draws; i++) {
        uint64_t k = sb_dist_next(&d, &r);
        out += k >= n;
        low += k < 100;
    }
    s = 100.0 * (double)low / (double)draws;
    sb_check(t, out == 0 && fabs(s - 10) <= 1.0, "uniform: first 10%% of keys %.2f%% of draws", s);
}

static void sb_test_scramble(struct sb_st *t)
{
    static const uint64_t ns[] = { 1, 2, 3, 7, 1000, 1024, 1025, 65537 };
    int ok = 1;
    for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        uint64_t n = ns[i];
        struct sb_dist d;
        char err[128];
        sb_dist_init(&d, SB_DIST_UNIFORM, n, 0, 0, 0, 1, 12345 + i, err, sizeof(err));
        unsigned char *seen = calloc(n, 1);
        if (!seen)
            return;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t x = sb_dist_key(&d, k);
            if (x >= n || seen[x]) {
                ok = 0;
                break;
            }
            seen[x] = 1;
        }
        free(seen);
    }
    sb_check(t, ok, "scramble is a bijection of [0, n) for n in 1, 2, 3, 7, 1000, 1024, 1025, 65537");

    struct sb_dist d;
    char err[128];
    struct sb_rng r;
    sb_rng_seed(&r, 9);
    sb_dist_init(&d, SB_DIST_ZIPF, 1000, 0.99, 0, 0, 1, 77, err, sizeof(err));
    uint64_t top = sb_dist_key(&d, 0), hits = 0, draws = 300000;
    for (uint64_t i = 0; i < draws; i++)
        hits += sb_dist_next(&d, &r) == top;
    double s = 100.0 * (double)hits / (double)draws, a = 100.0 * sb_zipf_share(1000, 0.99, 1);
    sb_check(t, top != 0 && fabs(s - a) <= 1.0,
             "scrambled zipf: the most popular key is %llu, %.2f%% of draws (analytic %.2f%%)",
             (unsigned long long)top, s, a);
}

/* ---- histogram ---------------------------------------------------------------- */

static int sb_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void sb_test_hist(struct sb_st *t)
{
    struct sb_rng r;
    sb_rng_seed(&r, 3);
    int ok = 1;
    for (int i = 0; i < 1000000 && ok; i++) {
        uint64_t v = sb_rng_next(&r) >> (sb_rng_next(&r) % 64);
        unsigned idx = sb_hist_index(v);
        uint64_t lo = sb_hist_low(idx), w = sb_hist_width(idx);
        if (idx >= SB_HIST_BUCKETS || lo > v || v - lo >= w || (idx >= 256 && (double)w / (double)lo > 1.0 / 128))
            ok = 0;
    }
    for (unsigned i = 1; i < SB_HIST_BUCKETS && ok; i++)
        if (sb_hist_low(i) != sb_hist_low(i - 1) + sb_hist_width(i - 1) || sb_hist_index(sb_hist_low(i)) != i)
            ok = 0;
    sb_check(t, ok, "histogram: %u contiguous buckets cover uint64, each <= 1/128 of its value wide",
             SB_HIST_BUCKETS);

    const size_t n = 200000;
    uint64_t *vals = malloc(n * sizeof(*vals));
    struct sb_hist *h = malloc(sizeof(*h));
    if (!vals || !h) {
        free(vals);
        free(h);
        return;
    }
    sb_hist_init(h);
    for (size_t i = 0; i < n; i++) {
        /* log-uniform over 1 us .. 100 ms in ns */
        vals[i] = (uint64_t)exp(log(1e3) + sb_rng_double(&r) * (log(1e8) - log(1e3)));
        sb_hist_record(h, vals[i]);
    }
    qsort(vals, n, sizeof(*vals), sb_cmp_u64);
    static const double qs[] = { 1, 10, 50, 90, 99, 99.9, 99.99, 100 };
    double worst = 0;
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        size_t rank = (size_t)ceil((double)n * qs[i] / 100.0);
        if (rank == 0)
            rank = 1;
        double exact = (double)vals[rank - 1], got = (double)sb_hist_percentile(h, qs[i]);
        double e = fabs(got - exact) / exact;
        if (e > worst)
            worst = e;
    }
    sb_check(t, worst < 0.01 && sb_get(&h->count) == n && sb_get(&h->max) == vals[n - 1] &&
                    sb_get(&h->min) == vals[0],
             "histogram: percentiles of %zu log-uniform values within %.3f%% of exact (< 1%%)", n, worst * 100);
    uint64_t p50 = sb_hist_percentile(h, 50), p99 = sb_hist_percentile(h, 99), p999 = sb_hist_percentile(h, 99.9);
    sb_check(t, p50 <= p99 && p99 <= p999 && p999 <= sb_get(&h->max), "histogram: p50 <= p99 <= p999 <= max");
    free(vals);
    free(h);
}

/* ---- RESP ------------------------------------------------------------------------ */

struct sb_exp {
    enum sb_reply_type type;
    const char *err;
};

/* Parses stream in chunks of `step` bytes (0: whole); checks the replies. */
static int sb_resp_run(const char *stream, size_t len, size_t step, const struct sb_exp *exp, size_t nexp)
{
    struct sb_resp p;
    sb_resp_init(&p);
    size_t got = 0, off = 0;
    while (off < len) {
        size_t chunk = step ? (len - off < step ? len - off : step) : len - off;
        size_t coff = 0;
        while (coff < chunk) {
            size_t used = 0;
            struct sb_reply rep;
            int rc = sb_resp_feed(&p, stream + off + coff, chunk - coff, &used, &rep);
            if (rc < 0)
                return 0;
            coff += used;
            if (rc == 0)
                break;
            if (got >= nexp || rep.type != exp[got].type)
                return 0;
            if (exp[got].err && (rep.errlen != strlen(exp[got].err) || memcmp(rep.err, exp[got].err, rep.errlen)))
                return 0;
            got++;
        }
        off += chunk;
    }
    return got == nexp && p.depth == 0;
}

static int sb_resp_fails(const char *stream, size_t len)
{
    struct sb_resp p;
    sb_resp_init(&p);
    size_t off = 0;
    while (off < len) {
        size_t used = 0;
        struct sb_reply rep;
        int rc = sb_resp_feed(&p, stream + off, len - off, &used, &rep);
        if (rc < 0)
            return 1;
        off += used;
    }
    return 0;
}

static void sb_test_resp(struct sb_st *t)
{
    static const char stream[] =
        "+OK\r\n"
        "-ERR unknown command 'FOO'\r\n"
        ":12345\r\n"
        ":-7\r\n"
        "$5\r\nhello\r\n"
        "$0\r\n\r\n"
        "$-1\r\n"
        "*-1\r\n"
        "*0\r\n"
        "*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n-WRONGTYPE inner\r\n$-1\r\n"
        "_\r\n"
        ",3.14\r\n"
        "#t\r\n"
        "(12345678901234567890\r\n"
        "=15\r\ntxt:Some string\r\n"
        "!21\r\nSYNTAX invalid syntax\r\n"
        "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"
        "~2\r\n+x\r\n+y\r\n"
        ">3\r\n+message\r\n+chan\r\n$2\r\nhi\r\n"   /* a push: dropped */
        "|1\r\n+key-popularity\r\n*2\r\n:1\r\n:2\r\n$3\r\nbar\r\n" /* attribute, then a bulk */
        "*2\r\n|1\r\n+a\r\n+b\r\n:5\r\n:6\r\n"       /* attribute inside an array */
        "$4\r\n\r\n\r\n\r\n"                          /* CRLF inside a payload */
        "-MOVED 1 x\r\n";
    static const struct sb_exp exp[] = {
        { SB_R_SIMPLE, NULL }, { SB_R_ERROR, "ERR unknown command 'FOO'" }, { SB_R_INT, NULL },
        { SB_R_INT, NULL },    { SB_R_BULK, NULL },  { SB_R_BULK, NULL },  { SB_R_NULL, NULL },
        { SB_R_NULL, NULL },   { SB_R_ARRAY, NULL }, { SB_R_ARRAY, NULL }, { SB_R_NULL, NULL },
        { SB_R_OTHER, NULL },  { SB_R_OTHER, NULL }, { SB_R_OTHER, NULL }, { SB_R_BULK, NULL },
        { SB_R_ERROR, "SYNTAX invalid syntax" }, { SB_R_ARRAY, NULL }, { SB_R_ARRAY, NULL },
        { SB_R_BULK, NULL },   { SB_R_ARRAY, NULL }, { SB_R_BULK, NULL }, { SB_R_ERROR, "MOVED 1 x" },
    };
    size_t len = sizeof(stream) - 1, nexp = sizeof(exp) / sizeof(exp[0]);
    int ok = sb_resp_run(stream, len, 0, exp, nexp) && sb_resp_run(stream, len, 1, exp, nexp);
    for (size_t step = 2; step < 40 && ok; step++)
        ok = sb_resp_run(stream, len, step, exp, nexp);
    /* every split point of the stream into two reads */
    for (size_t cut = 1; cut < len && ok; cut++) {
        struct sb_resp p;
        sb_resp_init(&p);
        size_t got = 0;
        const char *parts[2] = { stream, stream + cut };
        size_t plen[2] = { cut, len - cut };
        for (int k = 0; k < 2 && ok; k++) {
            size_t off = 0;
            while (off < plen[k]) {
                size_t used = 0;
                struct sb_reply rep;
                int rc = sb_resp_feed(&p, parts[k] + off, plen[k] - off, &used, &rep);
                off += used;
                if (rc < 0 || (rc == 1 && (got >= nexp || rep.type != exp[got++].type))) {
                    ok = 0;
                    break;
                }
                if (rc == 0)
                    break;
            }
        }
        ok = ok && got == nexp;
    }
    sb_check(t, ok, "resp: %zu replies of every type parse alike whole, byte by byte, in chunks of 2..39 "
                    "and split at each of %zu points", nexp, len - 1);

    static const char *const bad[] = {
        "?what\r\n", ":12a\r\n", "$abc\r\n", "$-2\r\n", "*-5\r\n", "+OK\n", "$3\r\nfooXY",
        ":\r\n", "$99999999999999999999999\r\n", "\0\r\n",
    };
    int all_fail = 1;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (!sb_resp_fails(bad[i], i == 9 ? 3 : strlen(bad[i])))
            all_fail = 0;
    char deep[4 * 70];
    size_t dl = 0;
    for (int i = 0; i < 70; i++) {
        memcpy(deep + dl, "*1\r\n", 4);
        dl += 4;
    }
    if (!sb_resp_fails(deep, dl))
        all_fail = 0;
    sb_check(t, all_fail, "resp: unknown type, bad numbers, bad lengths, bare LF, missing CRLF after a "
                          "payload, NUL, nesting past %d all fail", SB_RESP_MAX_DEPTH);

    /* a huge bulk is skipped, not buffered: parse its header and 1 MB of it */
    struct sb_resp p;
    sb_resp_init(&p);
    const char *hdr = "$536870912\r\n";
    size_t used;
    struct sb_reply rep;
    int rc = sb_resp_feed(&p, hdr, strlen(hdr), &used, &rep);
    char *mb = calloc(1, 1 << 20);
    for (int i = 0; mb && i < 8 && rc == 0; i++)
        rc = sb_resp_feed(&p, mb, 1 << 20, &used, &rep);
    free(mb);
    sb_check(t, rc == 0 && p.body_left == 536870912ULL - (8ULL << 20),
             "resp: a 512 MB bulk streams past in a fixed %zu-byte parser", sizeof(struct sb_resp));
}

/* ---- values --------------------------------------------------------------------- */

struct sb_js {
    const char *s;
    size_t n, i;
    int depth;
};

static int sb_js_value(struct sb_js *j);

static void sb_js_ws(struct sb_js *j)
{
    while (j->i < j->n && strchr(" \t\r\n", j->s[j->i]) && j->s[j->i])
        j->i++;
}

static int sb_js_lit(struct sb_js *j, const char *lit)
{
    size_t l = strlen(lit);
    if (j->n - j->i < l || memcmp(j->s + j->i, lit, l))
        return 0;
    j->i += l;
    return 1;
}

static int sb_js_string(struct sb_js *j)
{
    if (j->i >= j->n || j->s[j->i] != '"')
        return 0;
    j->i++;
    while (j->i < j->n) {
        unsigned char c = (unsigned char)j->s[j->i++];
        if (c == '"')
            return 1;
        if (c < 0x20 || c >= 0x7f)
            return 0; /* our generator writes ASCII only */
        if (c == '\\') {
            if (j->i >= j->n || !strchr("\"\\/bfnrtu", j->s[j->i]) || !j->s[j->i])
                return 0;
            if (j->s[j->i++] == 'u') {
                for (int k = 0; k < 4; k++, j->i++)
                    if (j->i >= j->n || !strchr("0123456789abcdefABCDEF", j->s[j->i]) || !j->s[j->i])
                        return 0;
            }
        }
    }
    return 0;
}

static int sb_js_digits(struct sb_js *j)
{
    size_t s = j->i;
    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
        j->i++;
    return j->i > s;
}

static int sb_js_number(struct sb_js *j)
{
    if (j->i < j->n && j->s[j->i] == '-')
        j->i++;
    if (j->i < j->n && j->s[j->i] == '0')
        j->i++;
    else if (!sb_js_digits(j))
        return 0;
    if (j->i < j->n && j->s[j->i] == '.') {
        j->i++;
        if (!sb_js_digits(j))
            return 0;
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
            j->i++;
        if (!sb_js_digits(j))
            return 0;
    }
    return 1;
}

static int sb_js_seq(struct sb_js *j, char close, int object)
{
    j->i++;
    if (++j->depth > 64)
        return 0;
    sb_js_ws(j);
    if (j->i < j->n && j->s[j->i] == close) {
        j->i++;
        j->depth--;
        return 1;
    }
    for (;;) {
        sb_js_ws(j);
        if (object) {
            if (!sb_js_string(j))
                return 0;
            sb_js_ws(j);
            if (j->i >= j->n || j->s[j->i++] != ':')
                return 0;
            sb_js_ws(j);
        }
        if (!sb_js_value(j))
            return 0;
        sb_js_ws(j);
        if (j->i >= j->n)
            return 0;
        char c = j->s[j->i++];
        if (c == close) {
            j->depth--;
            return 1;
        }
        if (c != ',')
            return 0;
    }
}

static int sb_js_value(struct sb_js *j)
{
    if (j->i >= j->n)
        return 0;
    switch (j->s[j->i]) {
    case '{': return sb_js_seq(j, '}', 1);
    case '[': return sb_js_seq(j, ']', 0);
    case '"': return sb_js_string(j);
    case 't': return sb_js_lit(j, "true");
    case 'f': return sb_js_lit(j, "false");
    case 'n': return sb_js_lit(j, "null");
    default: return sb_js_number(j);
    }
}

/* 1 when s[0..n) is one JSON text (RFC 8259). */
static int sb_json_valid(const char *s, size_t n)
{
    struct sb_js j = { s, n, 0, 0 };
    sb_js_ws(&j);
    if (!sb_js_value(&j))
        return 0;
    sb_js_ws(&j);
    return j.i == n;
}

static void sb_test_values(struct sb_st *t)
{
    static const size_t big[] = { 4096, 10000, 65536, 1000000 };
    size_t cap = 1000000 + 16;
    char *buf = malloc(cap);
    struct sb_rng r;
    sb_rng_seed(&r, 5);
    if (!buf)
        return;
    int len_ok = 1, json_ok = 1;
    size_t bad_size = 0;
    for (int kind = 0; kind < 3; kind++) {
        for (size_t i = 0; i < 3000 + sizeof(big) / sizeof(big[0]); i++) {
            size_t len = i < 3000 ? i + 1 : big[i - 3000];
            memset(buf, 0x7f, len + 16);
            sb_value_fill((enum sb_value_kind)kind, buf, len, &r);
            for (size_t k = len; k < len + 16; k++)
                if (buf[k] != 0x7f)
                    len_ok = 0;
            if (kind == SB_VAL_JSON && !sb_json_valid(buf, len) && json_ok) {
                json_ok = 0;
                bad_size = len;
            }
            if (kind == SB_VAL_REPEAT && (buf[0] != 'x' || buf[len - 1] != 'x'))
                len_ok = 0;
        }
    }
    sb_check(t, len_ok, "values: random, json and repeat of every size 1..3000 and 4 KB..1 MB are exactly that long");
    if (json_ok)
        sb_check(t, 1, "values: every json value is valid JSON");
    else
        sb_check(t, 0, "values: every json value is valid JSON: not the one of %zu bytes", bad_size);
    sb_value_fill(SB_VAL_JSON, buf, 1024, &r);
    printf("#    a 1 KB json value: %.160s...\n", buf);
    free(buf);
}

static void sb_test_keys(struct sb_st *t)
{
    char k[64];
    size_t a = sb_key_name(k, "key:", 4, 42);
    int ok = a == 16 && !memcmp(k, "key:000000000042", 16);
    a = sb_key_name(k, "", 0, 1234567890123ULL);
    ok = ok && a == 13 && !memcmp(k, "1234567890123", 13);
    sb_check(t, ok, "keys: prefix + 12 zero-padded digits (key:000000000042), wider past 10^12");
}

int sb_selftest(void)
{
    struct sb_st t = { 0, 0 };
    sb_test_zipf(&t, 1000, 0.99, 1000000);
    sb_test_zipf(&t, 1000, 0.5, 1000000);
    sb_test_zipf(&t, 1000, 1.2, 1000000);
    sb_test_zipf(&t, 100000, 0.99, 1000000);
    sb_test_hot_uniform(&t);
    sb_test_scramble(&t);
    sb_test_hist(&t);
    sb_test_resp(&t);
    sb_test_values(&t);
    sb_test_keys(&t);
    printf("%d passed, %d failed\n", t.pass, t.fail);
    return t.fail ? -1 : 0;
}
