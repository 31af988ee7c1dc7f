/*
 * test_util.c -- unit tests for engine/util.c and engine/err.c.
 *
 * One test per behaviour; the expected values are what Redis itself returns
 * for the same input (string2ll, string2d, string2ld, ld2string, memtoll,
 * stringmatchlen, sdssplitargs), except where util.c's header comment lists
 * a deliberate departure, which has its own test here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/err.h"
#include "engine/util.h"

/* ---- helpers ----------------------------------------------------------- */

static int ll(const char *s, long long *out)
{
    return util_str2ll(s, strlen(s), out);
}

static int ll_ok(const char *s, long long want)
{
    long long v = 0;

    return ll(s, &v) == ST_OK && v == want;
}

static int ll_bad(const char *s)
{
    long long v = 12345;

    return ll(s, &v) == ST_EINVAL;
}

static int d_ok(const char *s, double want)
{
    double v = 0;

    return util_str2d(s, strlen(s), &v) == ST_OK && v == want;
}

static int d_bad(const char *s)
{
    double v;

    return util_str2d(s, strlen(s), &v) == ST_EINVAL;
}

static int ld_bad(const char *s)
{
    long double v;

    return util_str2ld(s, strlen(s), &v) == ST_EINVAL;
}

static int glob(const char *pat, const char *s)
{
    return util_glob_match(pat, strlen(pat), s, strlen(s), 0);
}

static int globi(const char *pat, const char *s)
{
    return util_glob_match(pat, strlen(pat), s, strlen(s), 1);
}

/* Formats an INCRBYFLOAT result the way the server will. */
static void ld_fmt(long double v, const char *want)
{
    char buf[UTIL_DBLSTR_SIZE];
    int n = util_ld2str(buf, sizeof(buf), v);

    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

static void d_fmt(double v, const char *want)
{
    char buf[128];
    int n = util_d2str(buf, sizeof(buf), v);

    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

#define SPLIT_MAX 16

struct split {
    char line[256];
    struct util_span sp[SPLIT_MAX];
    int n;
};

static void split(struct split *r, const char *line)
{
    size_t len = strlen(line);

    assert_true(len < sizeof(r->line));
    memcpy(r->line, line, len + 1);
    r->n = util_splitargs(r->line, len, r->sp, SPLIT_MAX);
}

static void arg_is(const struct split *r, int i, const char *want, size_t wantlen)
{
    assert_true(i < r->n);
    assert_int_equal(r->sp[i].len, wantlen);
    assert_memory_equal(r->line + r->sp[i].off, want, wantlen);
}

#define ARG(r, i, lit) arg_is((r), (i), (lit), sizeof(lit) - 1)

/* ---- util_str2ll ------------------------------------------------------- */

static void test_str2ll_parses_zero(void **st)
{
    (void)st;
    assert_true(ll_ok("0", 0));
}

static void test_str2ll_parses_positive_and_negative(void **st)
{
    (void)st;
    assert_true(ll_ok("1", 1));
    assert_true(ll_ok("123456", 123456));
    assert_true(ll_ok("-1", -1));
    assert_true(ll_ok("-987", -987));
}

static void test_str2ll_accepts_llong_max(void **st)
{
    (void)st;
    assert_true(ll_ok("9223372036854775807", LLONG_MAX));
}

static void test_str2ll_accepts_llong_min(void **st)
{
    (void)st;
    assert_true(ll_ok("-9223372036854775808", LLONG_MIN));
}

static void test_str2ll_rejects_llong_max_plus_one(void **st)
{
    (void)st;
    assert_true(ll_bad("9223372036854775808"));
}

static void test_str2ll_rejects_llong_min_minus_one(void **st)
{
    (void)st;
    assert_true(ll_bad("-9223372036854775809"));
}

static void test_str2ll_rejects_ullong_overflow(void **st)
{
    (void)st;
    assert_true(ll_bad("18446744073709551615"));
    assert_true(ll_bad("18446744073709551616"));
    assert_true(ll_bad("99999999999999999999"));
}

static void test_str2ll_rejects_21_chars_or_more(void **st)
{
    (void)st;
    assert_true(ll_bad("000000000000000000001"));
    assert_true(ll_bad("-00000000000000000001"));
}

static void test_str2ll_rejects_empty(void **st)
{
    long long v;

    (void)st;
    assert_int_equal(util_str2ll("", 0, &v), ST_EINVAL);
}

static void test_str2ll_rejects_lone_minus(void **st)
{
    (void)st;
    assert_true(ll_bad("-"));
}

static void test_str2ll_rejects_minus_zero(void **st)
{
    (void)st;
    assert_true(ll_bad("-0"));
    assert_true(ll_bad("-01"));
}

static void test_str2ll_rejects_leading_zero(void **st)
{
    (void)st;
    assert_true(ll_bad("01"));
    assert_true(ll_bad("00"));
}

static void test_str2ll_rejects_plus_sign(void **st)
{
    (void)st;
    assert_true(ll_bad("+1"));
}

static void test_str2ll_rejects_spaces(void **st)
{
    (void)st;
    assert_true(ll_bad(" 1"));
    assert_true(ll_bad("1 "));
    assert_true(ll_bad("1 2"));
}

static void test_str2ll_rejects_trailing_garbage(void **st)
{
    (void)st;
    assert_true(ll_bad("12a"));
    assert_true(ll_bad("1.0"));
    assert_true(ll_bad("0x10"));
    assert_true(ll_bad("1e3"));
}

static void test_str2ll_uses_len_not_nul(void **st)
{
    long long v = 0;

    (void)st;
    assert_int_equal(util_str2ll("12345", 3, &v), ST_OK);
    assert_int_equal(v, 123);
    assert_int_equal(util_str2ll("1\0" "2", 3, &v), ST_EINVAL);
}

static void test_str2ll_leaves_out_untouched_on_error(void **st)
{
    long long v = 77;

    (void)st;
    assert_int_equal(ll("x", &v), ST_EINVAL);
    assert_int_equal(v, 77);
}

/* ---- util_str2ull ------------------------------------------------------ */

static void test_str2ull_accepts_ullong_max(void **st)
{
    unsigned long long v = 0;

    (void)st;
    assert_int_equal(util_str2ull("18446744073709551615", 20, &v), ST_OK);
    assert_true(v == ULLONG_MAX);
    assert_int_equal(util_str2ull("0", 1, &v), ST_OK);
    assert_true(v == 0);
}

static void test_str2ull_rejects_ullong_max_plus_one(void **st)
{
    unsigned long long v;

    (void)st;
    assert_int_equal(util_str2ull("18446744073709551616", 20, &v), ST_EINVAL);
}

static void test_str2ull_rejects_sign_leading_zero_and_empty(void **st)
{
    unsigned long long v;

    (void)st;
    assert_int_equal(util_str2ull("-1", 2, &v), ST_EINVAL);
    assert_int_equal(util_str2ull("+1", 2, &v), ST_EINVAL);
    assert_int_equal(util_str2ull("01", 2, &v), ST_EINVAL);
    assert_int_equal(util_str2ull("", 0, &v), ST_EINVAL);
    assert_int_equal(util_str2ull(" 1", 2, &v), ST_EINVAL);
}

/* ---- util_ll2str ------------------------------------------------------- */

static void test_ll2str_formats_boundaries(void **st)
{
    char buf[UTIL_LLSTR_SIZE];

    (void)st;
    assert_int_equal(util_ll2str(buf, 0), 1);
    assert_string_equal(buf, "0");
    assert_int_equal(util_ll2str(buf, -42), 3);
    assert_string_equal(buf, "-42");
    assert_int_equal(util_ll2str(buf, LLONG_MAX), 19);
    assert_string_equal(buf, "9223372036854775807");
    assert_int_equal(util_ll2str(buf, LLONG_MIN), 20);
    assert_string_equal(buf, "-9223372036854775808");
}

static void test_ll2str_round_trips_through_str2ll(void **st)
{
    static const long long vals[] = {0, 1, -1, 9, 10, -10, 999999, LLONG_MAX, LLONG_MIN,
                                     LLONG_MAX - 1, LLONG_MIN + 1};
    char buf[UTIL_LLSTR_SIZE];
    size_t i;

    (void)st;
    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        long long back = 0;
        int n = util_ll2str(buf, vals[i]);

        assert_int_equal(util_str2ll(buf, (size_t)n, &back), ST_OK);
        assert_true(back == vals[i]);
    }
}

/* ---- util_str2d / util_str2ld ------------------------------------------ */

static void test_str2d_parses_plain_and_exponent(void **st)
{
    (void)st;
    assert_true(d_ok("1.5", 1.5));
    assert_true(d_ok("-2", -2.0));
    assert_true(d_ok("3e2", 300.0));
    assert_true(d_ok(".5", 0.5));
    assert_true(d_ok("+1.5", 1.5));
    assert_true(d_ok("0", 0.0));
}

static void test_str2d_accepts_infinities(void **st)
{
    (void)st;
    assert_true(d_ok("inf", INFINITY));
    assert_true(d_ok("+inf", INFINITY));
    assert_true(d_ok("-inf", -INFINITY));
    assert_true(d_ok("INF", INFINITY));
    assert_true(d_ok("infinity", INFINITY));
}

static void test_str2d_rejects_nan(void **st)
{
    (void)st;
    assert_true(d_bad("nan"));
    assert_true(d_bad("NaN"));
    assert_true(d_bad("-nan"));
}

static void test_str2d_rejects_empty(void **st)
{
    double v;

    (void)st;
    assert_int_equal(util_str2d("", 0, &v), ST_EINVAL);
}

static void test_str2d_rejects_leading_whitespace(void **st)
{
    (void)st;
    assert_true(d_bad(" 1"));
    assert_true(d_bad("\t1"));
    assert_true(d_bad("\n1"));
}

static void test_str2d_rejects_trailing_garbage(void **st)
{
    (void)st;
    assert_true(d_bad("1 "));
    assert_true(d_bad("1.5x"));
    assert_true(d_bad("1.2.3"));
    assert_true(d_bad("abc"));
}

static void test_str2d_rejects_overflow_and_underflow_to_zero(void **st)
{
    (void)st;
    assert_true(d_bad("1e400"));
    assert_true(d_bad("-1e400"));
    assert_true(d_bad("1e-400"));
}

static void test_str2d_uses_len_not_nul(void **st)
{
    double v = 0;

    (void)st;
    assert_int_equal(util_str2d("1.25xyz", 4, &v), ST_OK);
    assert_true(v == 1.25);
    assert_int_equal(util_str2d("1\0" "5", 3, &v), ST_EINVAL);
}

static void test_str2d_rejects_too_long(void **st)
{
    static char big[UTIL_DBLSTR_SIZE + 10];
    double v;

    (void)st;
    memset(big, '1', sizeof(big));
    assert_int_equal(util_str2d(big, sizeof(big), &v), ST_EINVAL);
}

static void test_str2ld_parses_incrbyfloat_operands(void **st)
{
    long double v = 0;

    (void)st;
    assert_int_equal(util_str2ld("10.5", 4, &v), ST_OK);
    assert_true(v == 10.5L);
    assert_int_equal(util_str2ld("5.0e3", 5, &v), ST_OK);
    assert_true(v == 5000.0L);
    assert_int_equal(util_str2ld("-inf", 4, &v), ST_OK);
    assert_true(isinf(v) && v < 0);
}

static void test_str2ld_rejects_nan_space_garbage_empty(void **st)
{
    long double v;

    (void)st;
    assert_true(ld_bad("nan"));
    assert_true(ld_bad(" 1"));
    assert_true(ld_bad("1 "));
    assert_true(ld_bad("1x"));
    assert_true(ld_bad("1e99999"));
    assert_int_equal(util_str2ld("", 0, &v), ST_EINVAL);
}

/* ---- util_ld2str ------------------------------------------------------- */

static void test_ld2str_incrbyfloat_10_5_plus_0_1_is_10_6(void **st)
{
    long double a, b;

    (void)st;
    assert_int_equal(util_str2ld("10.5", 4, &a), ST_OK);
    assert_int_equal(util_str2ld("0.1", 3, &b), ST_OK);
    ld_fmt(a + b, "10.6");
}

static void test_ld2str_exponent_operands_give_plain_integers(void **st)
{
    long double a, b;

    (void)st;
    assert_int_equal(util_str2ld("3.0e3", 5, &a), ST_OK);
    assert_int_equal(util_str2ld("2.0e2", 5, &b), ST_OK);
    ld_fmt(a + b, "3200");
    assert_int_equal(util_str2ld("5.0e3", 5, &a), ST_OK);
    ld_fmt(a, "5000");
}

static void test_ld2str_strips_trailing_zeros_and_dot(void **st)
{
    (void)st;
    ld_fmt(1.5L, "1.5");
    ld_fmt(100.0L, "100");
    ld_fmt(0.0L, "0");
    ld_fmt(-2.25L, "-2.25");
}

static void test_ld2str_minus_zero_is_zero(void **st)
{
    (void)st;
    ld_fmt(-0.0L, "0");
    ld_fmt(-1e-30L, "0"); /* rounds to "-0.000..." then "-0" */
}

static void test_ld2str_spells_infinities(void **st)
{
    (void)st;
    ld_fmt((long double)INFINITY, "inf");
    ld_fmt(-(long double)INFINITY, "-inf");
}

static void test_ld2str_returns_zero_when_buffer_too_small(void **st)
{
    char buf[4];

    (void)st;
    assert_int_equal(util_ld2str(buf, sizeof(buf), 12345.0L), 0);
    assert_int_equal(util_ld2str(buf, 2, (long double)INFINITY), 0);
}

static void test_ld2str_fits_largest_long_double(void **st)
{
    char buf[UTIL_DBLSTR_SIZE];
    int n;

    (void)st;
    n = util_ld2str(buf, sizeof(buf), -LDBL_MAX);
    assert_true(n > 4000);
    assert_int_equal((int)strlen(buf), n);
    assert_int_equal(buf[0], '-');
}

/* ---- util_d2str -------------------------------------------------------- */

static void test_d2str_integers_have_no_fraction(void **st)
{
    (void)st;
    d_fmt(3.0, "3");
    d_fmt(-42.0, "-42");
    d_fmt(0.0, "0");
}

static void test_d2str_uses_17_significant_digits(void **st)
{
    (void)st;
    d_fmt(1.5, "1.5");
    d_fmt(1.1, "1.1000000000000001");
    d_fmt(0.1, "0.10000000000000001");
    d_fmt(1e20, "1e+20");
}

/* the integral fast path must print exactly what %.17g prints */
static void test_d2str_integral_fast_path_matches_printf(void **st)
{
    (void)st;
    const double edge[] = { 0.0, -0.0, 1.0, -1.0, 9007199254740991.0, -9007199254740991.0,
                            9007199254740992.0, -9007199254740992.0, 9007199254740994.0,
                            1e16, 1e17, -1e17, 123456789012345678.0, 4294967296.0, 1e300 };
    char got[64], want[64];
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        int n = util_d2str(got, sizeof(got), edge[i]);
        snprintf(want, sizeof(want), "%.17g", edge[i]);
        assert_string_equal(got, want);
        assert_int_equal(n, (int)strlen(want));
    }
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* integers of every magnitude up to 2^60, and some halves */
        double v = (double)(int64_t)(x >> (4 + x % 60)) * ((x & 1) ? -1 : 1);
        if (i % 7 == 0)
            v += 0.5;
        int n = util_d2str(got, sizeof(got), v);
        snprintf(want, sizeof(want), "%.17g", v);
        assert_string_equal(got, want);
        assert_int_equal(n, (int)strlen(want));
    }
    /* too small a buffer: 0, as on the printf path */
    assert_int_equal(util_d2str(got, 3, 12345.0), 0);
    assert_int_equal(util_d2str(got, 6, 12345.0), 5);
}

static void test_d2str_spells_infinities(void **st)
{
    (void)st;
    d_fmt(INFINITY, "inf");
    d_fmt(-INFINITY, "-inf");
}

static void test_d2str_round_trips_through_str2d(void **st)
{
    static const double vals[] = {0.1, 1.0 / 3, -123.456, 1e-300, 5e-324, DBL_MAX};
    char buf[128];
    size_t i;

    (void)st;
    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        double back = 0;
        int n = util_d2str(buf, sizeof(buf), vals[i]);

        assert_int_equal(util_str2d(buf, (size_t)n, &back), ST_OK);
        assert_true(back == vals[i]);
    }
}

/* ---- util_glob_match --------------------------------------------------- */

static void test_glob_literal_matches_exactly(void **st)
{
    (void)st;
    assert_true(glob("hello", "hello"));
    assert_false(glob("hello", "hell"));
    assert_false(glob("hello", "helloo"));
    assert_false(glob("hello", "Hello"));
    assert_true(glob("", ""));
    assert_false(glob("", "a"));
    assert_false(glob("a", ""));
}

static void test_glob_star_matches_any_run(void **st)
{
    (void)st;
    assert_true(glob("*", "anything"));
    assert_true(glob("h*o", "hello"));
    assert_true(glob("h*o", "ho"));
    assert_true(glob("user:*:name", "user:42:name"));
    assert_false(glob("user:*:name", "user:42:age"));
    assert_true(glob("*a", "banana"));
    assert_false(glob("*x", "banana"));
    assert_true(glob("a*", "a"));
    assert_true(glob("a**", "a"));
    assert_true(glob("***a***", "a"));
}

static void test_glob_star_matches_empty_string(void **st)
{
    (void)st;
    /* Deliberate departure from Redis 7 (see util.c). */
    assert_true(glob("*", ""));
    assert_true(glob("**", ""));
    assert_false(glob("*a", ""));
}

static void test_glob_star_backtracks(void **st)
{
    (void)st;
    assert_true(glob("*ab*cd", "xxabyyabzzcd"));
    assert_true(glob("a*b*c", "aXbYbZc"));
    assert_false(glob("a*b*c", "aXbYbZ"));
    assert_true(glob("*aab", "aaaab"));
    assert_true(glob("*?b", "aaab"));
}

static void test_glob_question_matches_one_byte(void **st)
{
    (void)st;
    assert_true(glob("h?llo", "hello"));
    assert_true(glob("h?llo", "hallo"));
    assert_false(glob("h?llo", "hllo"));
    assert_false(glob("?", ""));
    assert_true(glob("???", "abc"));
}

static void test_glob_class_matches_listed_bytes(void **st)
{
    (void)st;
    assert_true(glob("h[ae]llo", "hello"));
    assert_true(glob("h[ae]llo", "hallo"));
    assert_false(glob("h[ae]llo", "hillo"));
    assert_false(glob("h[ae]llo", "hllo"));
}

static void test_glob_negated_class(void **st)
{
    (void)st;
    assert_true(glob("h[^e]llo", "hallo"));
    assert_false(glob("h[^e]llo", "hello"));
    assert_false(glob("h[^e]llo", "hllo"));
}

static void test_glob_range(void **st)
{
    (void)st;
    assert_true(glob("h[a-b]llo", "hallo"));
    assert_true(glob("h[a-b]llo", "hbllo"));
    assert_false(glob("h[a-b]llo", "hcllo"));
    assert_true(glob("[0-9][0-9]", "42"));
    assert_false(glob("[0-9]", "x"));
    assert_true(glob("[a-cx-z]", "y"));
    assert_false(glob("[a-cx-z]", "m"));
    assert_true(glob("[^0-9]", "x"));
    assert_false(glob("[^0-9]", "5"));
}

static void test_glob_reversed_range_is_swapped(void **st)
{
    (void)st;
    assert_true(glob("[z-a]", "m"));
    assert_false(glob("[z-a]", "A"));
}

static void test_glob_escape_makes_special_literal(void **st)
{
    (void)st;
    assert_true(glob("a\\*b", "a*b"));
    assert_false(glob("a\\*b", "axb"));
    assert_true(glob("a\\?b", "a?b"));
    assert_false(glob("a\\?b", "axb"));
    assert_true(glob("\\[x]", "[x]"));
    assert_true(glob("a\\\\b", "a\\b"));
    assert_true(glob("\\a", "a"));
}

static void test_glob_trailing_backslash_is_literal(void **st)
{
    (void)st;
    assert_true(glob("a\\", "a\\"));
    assert_false(glob("a\\", "a"));
}

static void test_glob_escape_inside_class(void **st)
{
    (void)st;
    assert_true(glob("[\\]]", "]"));
    assert_true(glob("[\\^a]", "^"));
    assert_true(glob("[a\\-z]", "-"));
    assert_false(glob("[a\\-z]", "m"));
}

static void test_glob_empty_class_matches_nothing(void **st)
{
    (void)st;
    /* As in Redis: "[]" closes at once; it is not POSIX's "[]]". */
    assert_false(glob("[]", "a"));
    assert_false(glob("[]a]", "a"));
    assert_false(glob("[]a]", ""));
}

static void test_glob_unterminated_class_runs_to_end(void **st)
{
    (void)st;
    assert_true(glob("[abc", "b"));
    assert_false(glob("[abc", "d"));
    assert_false(glob("[", "a"));
    assert_true(glob("[^", "a"));
    assert_true(glob("x[a-", "xa"));
}

static void test_glob_nocase(void **st)
{
    (void)st;
    assert_true(globi("HeLLo", "hello"));
    assert_true(globi("h*O", "HELLO"));
    assert_true(globi("[A-C]x", "bX"));
    assert_true(globi("[abc]", "B"));
    assert_false(globi("[^abc]", "B"));
    assert_true(globi("\\H", "h"));
    assert_false(glob("[A-C]", "b"));
}

static void test_glob_is_binary_safe(void **st)
{
    (void)st;
    assert_true(util_glob_match("a?c", 3, "a\0c", 3, 0));
    assert_true(util_glob_match("a*", 2, "a\0\xff", 3, 0));
    assert_true(util_glob_match("[\x80-\xff]", 5, "\xc3", 1, 0));
    assert_false(util_glob_match("[\x80-\xff]", 5, "a", 1, 0));
}

static void test_glob_pathological_pattern_returns(void **st)
{
    static char s[20001];
    static char pat[200];
    size_t i, plen = 0;

    (void)st;
    /* "a*a*a*...*b" against "aaaa...": exponential for a naive recursive
     * matcher, O(plen * slen) here. */
    memset(s, 'a', sizeof(s) - 1);
    for (i = 0; i < 40; i++) {
        pat[plen++] = 'a';
        pat[plen++] = '*';
    }
    pat[plen++] = 'b';
    assert_false(util_glob_match(pat, plen, s, sizeof(s) - 1, 0));
    s[sizeof(s) - 2] = 'b';
    assert_true(util_glob_match(pat, plen, s, sizeof(s) - 1, 0));
    /* Redis's own regression pattern. */
    assert_false(glob("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

/* ---- clocks ------------------------------------------------------------ */

static void test_time_ms_and_us_agree_and_are_after_2020(void **st)
{
    int64_t ms, us;

    (void)st;
    ms = util_time_ms();
    us = util_time_us();
    assert_true(ms > 1577836800000LL); /* 2020-01-01 */
    assert_true(us / 1000 >= ms);
    assert_true(us / 1000 - ms < 10000);
}

static void test_mono_us_never_goes_back(void **st)
{
    int64_t a, b;
    int i;

    (void)st;
    a = util_mono_us();
    for (i = 0; i < 1000; i++) {
        b = util_mono_us();
        assert_true(b >= a);
        a = b;
    }
}

/* ---- util_parse_memsize ------------------------------------------------ */

static long long mem(const char *s)
{
    long long v = -999;

    assert_int_equal(util_parse_memsize(s, &v), ST_OK);
    return v;
}

static void test_memsize_plain_number_is_bytes(void **st)
{
    (void)st;
    assert_true(mem("100") == 100);
    assert_true(mem("0") == 0);
    assert_true(mem("5b") == 5);
    assert_true(mem("007") == 7);
}

static void test_memsize_decimal_units(void **st)
{
    (void)st;
    assert_true(mem("1k") == 1000);
    assert_true(mem("2m") == 2000000);
    assert_true(mem("3g") == 3000000000LL);
}

static void test_memsize_binary_units(void **st)
{
    (void)st;
    assert_true(mem("1kb") == 1024);
    assert_true(mem("2mb") == 2 * 1024 * 1024);
    assert_true(mem("3gb") == 3LL * 1024 * 1024 * 1024);
}

static void test_memsize_units_are_case_insensitive(void **st)
{
    (void)st;
    assert_true(mem("1KB") == 1024);
    assert_true(mem("1Mb") == 1024 * 1024);
    assert_true(mem("1G") == 1000000000LL);
}

static void test_memsize_accepts_negative(void **st)
{
    (void)st;
    assert_true(mem("-1") == -1);
    assert_true(mem("-2kb") == -2048);
}

static void test_memsize_rejects_garbage(void **st)
{
    static const char *bad[] = {"", "-", "kb", "1x", "1 kb", " 1", "1.5gb", "1kbb", "+1", "--1", "1k ", "0x10"};
    size_t i;

    (void)st;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long long v;

        assert_int_equal(util_parse_memsize(bad[i], &v), ST_EINVAL);
    }
}

static void test_memsize_rejects_overflow(void **st)
{
    long long v;

    (void)st;
    assert_true(mem("9223372036854775807") == LLONG_MAX);
    assert_true(mem("-9223372036854775808") == LLONG_MIN);
    assert_int_equal(util_parse_memsize("9223372036854775808", &v), ST_EINVAL);
    assert_int_equal(util_parse_memsize("9223372036854775807kb", &v), ST_EINVAL);
    assert_int_equal(util_parse_memsize("99999999999999999999999", &v), ST_EINVAL);
    assert_int_equal(util_parse_memsize("9000000000gb", &v), ST_EINVAL);
}

/* ---- rng --------------------------------------------------------------- */

static void test_rng_matches_reference_vector_for_seed_zero(void **st)
{
    struct util_rng r;

    (void)st;
    util_rng_seed(&r, 0);
    /* splitmix64(0) state, then xorshift128+ (23, 18, 5). */
    assert_true(r.s[0] == 0xe220a8397b1dcdafULL);
    assert_true(r.s[1] == 0x6e789e6aa1b965f4ULL);
    assert_true(util_rng_next(&r) == 0x509946a41cd733a3ULL);
    assert_true(util_rng_next(&r) == 0x020ee24bb357ee47ULL);
    assert_true(util_rng_next(&r) == 0x5fb8e9cd63bb975eULL);
}

static void test_rng_same_seed_same_stream(void **st)
{
    struct util_rng a, b;
    int i;

    (void)st;
    util_rng_seed(&a, 12345);
    util_rng_seed(&b, 12345);
    for (i = 0; i < 100; i++)
        assert_true(util_rng_next(&a) == util_rng_next(&b));
}

static void test_rng_different_seeds_differ(void **st)
{
    struct util_rng a, b;

    (void)st;
    util_rng_seed(&a, 1);
    util_rng_seed(&b, 2);
    assert_true(util_rng_next(&a) != util_rng_next(&b));
}

static void test_rng_uses_all_bits(void **st)
{
    struct util_rng r;
    uint64_t ored = 0, anded = ~(uint64_t)0;
    int i;

    (void)st;
    util_rng_seed(&r, 42);
    for (i = 0; i < 1000; i++) {
        uint64_t v = util_rng_next(&r);

        ored |= v;
        anded &= v;
    }
    assert_true(ored == ~(uint64_t)0);
    assert_true(anded == 0);
}

/* ---- util_eqi ---------------------------------------------------------- */

static void test_eqi_ignores_case(void **st)
{
    (void)st;
    assert_true(util_eqi("GET", 3, "get"));
    assert_true(util_eqi("gEt", 3, "GeT"));
    assert_true(util_eqi("", 0, ""));
}

static void test_eqi_requires_same_length(void **st)
{
    (void)st;
    assert_false(util_eqi("GET", 3, "getx"));
    assert_false(util_eqi("GETX", 4, "get"));
    assert_false(util_eqi("", 0, "a"));
    assert_false(util_eqi("a", 1, ""));
}

static void test_eqi_rejects_embedded_nul(void **st)
{
    (void)st;
    assert_false(util_eqi("ge\0", 3, "ge"));
    assert_false(util_eqi("g\0t", 3, "get"));
}

/* ---- util_splitargs ---------------------------------------------------- */

static void test_splitargs_splits_on_blanks(void **st)
{
    struct split r;

    (void)st;
    split(&r, "set key value");
    assert_int_equal(r.n, 3);
    ARG(&r, 0, "set");
    ARG(&r, 1, "key");
    ARG(&r, 2, "value");
}

static void test_splitargs_collapses_and_trims_blanks(void **st)
{
    struct split r;

    (void)st;
    split(&r, "  \t a \t\r\n  b  \r\n");
    assert_int_equal(r.n, 2);
    ARG(&r, 0, "a");
    ARG(&r, 1, "b");
}

static void test_splitargs_empty_and_blank_lines_give_zero(void **st)
{
    struct split r;

    (void)st;
    split(&r, "");
    assert_int_equal(r.n, 0);
    split(&r, "   \t\r\n");
    assert_int_equal(r.n, 0);
}

static void test_splitargs_unescaped_args_keep_their_offsets(void **st)
{
    struct split r;

    (void)st;
    split(&r, "ab  cd");
    assert_int_equal(r.n, 2);
    assert_int_equal(r.sp[0].off, 0);
    assert_int_equal(r.sp[1].off, 4);
}

static void test_splitargs_double_quotes_keep_blanks(void **st)
{
    struct split r;

    (void)st;
    split(&r, "set \"hello world\" x");
    assert_int_equal(r.n, 3);
    ARG(&r, 1, "hello world");
    ARG(&r, 2, "x");
}

static void test_splitargs_double_quote_escapes(void **st)
{
    struct split r;

    (void)st;
    split(&r, "\"a\\nb\\rc\\td\\be\\af\\\\g\\\"h\"");
    assert_int_equal(r.n, 1);
    ARG(&r, 0, "a\nb\rc\td\be\af\\g\"h");
}

static void test_splitargs_double_quote_unknown_escape_is_the_char(void **st)
{
    struct split r;

    (void)st;
    split(&r, "\"\\q\\'\\ \"");
    assert_int_equal(r.n, 1);
    ARG(&r, 0, "q' ");
}

static void test_splitargs_hex_escape(void **st)
{
    struct split r;

    (void)st;
    split(&r, "\"\\x41\\x6a\\xFF\\x00z\"");
    assert_int_equal(r.n, 1);
    arg_is(&r, 0, "Aj\xff\0z", 5);
}

static void test_splitargs_bad_hex_escape_is_x(void **st)
{
    struct split r;

    (void)st;
    split(&r, "\"\\xg1\" \"\\x4\"");
    assert_int_equal(r.n, 2);
    ARG(&r, 0, "xg1");
    ARG(&r, 1, "x4");
}

static void test_splitargs_single_quotes_are_literal(void **st)
{
    struct split r;

    (void)st;
    split(&r, "'a\\nb \"c\"'");
    assert_int_equal(r.n, 1);
    ARG(&r, 0, "a\\nb \"c\"");
}

static void test_splitargs_single_quote_escape(void **st)
{
    struct split r;

    (void)st;
    split(&r, "'it\\'s' 'a\\\\b'");
    assert_int_equal(r.n, 2);
    ARG(&r, 0, "it's");
    ARG(&r, 1, "a\\\\b");
}

static void test_splitargs_empty_quotes_give_empty_arg(void **st)
{
    struct split r;

    (void)st;
    split(&r, "a \"\" '' b");
    assert_int_equal(r.n, 4);
    ARG(&r, 0, "a");
    ARG(&r, 1, "");
    ARG(&r, 2, "");
    ARG(&r, 3, "b");
}

static void test_splitargs_quote_may_open_mid_argument(void **st)
{
    struct split r;

    (void)st;
    split(&r, "foo\"bar baz\" x'y z'");
    assert_int_equal(r.n, 2);
    ARG(&r, 0, "foobar baz");
    ARG(&r, 1, "xy z");
}

static void test_splitargs_closing_quote_must_be_followed_by_blank(void **st)
{
    struct split r;

    (void)st;
    split(&r, "\"a\"b");
    assert_int_equal(r.n, -1);
    split(&r, "'a'b");
    assert_int_equal(r.n, -1);
    split(&r, "\"a\"\"b\"");
    assert_int_equal(r.n, -1);
    split(&r, "\"a\"\tb");
    assert_int_equal(r.n, 2);
}

static void test_splitargs_unbalanced_double_quote_fails(void **st)
{
    struct split r;

    (void)st;
    split(&r, "set \"abc");
    assert_int_equal(r.n, -1);
    split(&r, "\"abc\\\"");
    assert_int_equal(r.n, -1);
    split(&r, "\"abc\\");
    assert_int_equal(r.n, -1);
}

static void test_splitargs_unbalanced_single_quote_fails(void **st)
{
    struct split r;

    (void)st;
    split(&r, "set 'abc");
    assert_int_equal(r.n, -1);
    split(&r, "'abc\\'");
    assert_int_equal(r.n, -1);
}

static void test_splitargs_too_many_args_fails(void **st)
{
    char line[] = "a b c";
    char line2[] = "a b c";
    char line3[] = "a";
    struct util_span sp[3];

    (void)st;
    assert_int_equal(util_splitargs(line, strlen(line), sp, 2), -1);
    assert_int_equal(util_splitargs(line2, strlen(line2), sp, 3), 3);
    assert_int_equal(util_splitargs(line3, strlen(line3), sp, 0), -1);
}

static void test_splitargs_vertical_tab_is_data_inside_arg(void **st)
{
    struct split r;

    (void)st;
    split(&r, "\va\vb c");
    assert_int_equal(r.n, 2);
    ARG(&r, 0, "a\vb");
    ARG(&r, 1, "c");
}

static void test_splitargs_respects_len(void **st)
{
    char line[] = "abc def";
    struct util_span sp[4];

    (void)st;
    assert_int_equal(util_splitargs(line, 5, sp, 4), 2);
    assert_int_equal(sp[1].off, 4);
    assert_int_equal(sp[1].len, 1);
    /* A quote that only closes past len is unbalanced. */
    {
        char q[] = "\"ab\"";

        assert_int_equal(util_splitargs(q, 3, sp, 4), -1);
    }
}

static void test_splitargs_nul_ends_the_line(void **st)
{
    char line[] = "a b\0c d";
    struct util_span sp[4];

    (void)st;
    assert_int_equal(util_splitargs(line, sizeof(line) - 1, sp, 4), 2);
}

static void test_splitargs_config_line(void **st)
{
    struct split r;

    (void)st;
    split(&r, "save 900 1\n");
    assert_int_equal(r.n, 3);
    ARG(&r, 0, "save");
    ARG(&r, 2, "1");
    split(&r, "requirepass \"p@ss word\"");
    assert_int_equal(r.n, 2);
    ARG(&r, 1, "p@ss word");
}

/* ---- st_strerror ------------------------------------------------------- */

static void test_strerror_names_every_code(void **st)
{
    int e;

    (void)st;
    for (e = ST_ETOOBIG; e <= ST_OK; e++) {
        const char *s = st_strerror(e);

        assert_non_null(s);
        assert_string_not_equal(s, "unknown error");
    }
    assert_string_equal(st_strerror(ST_ENOMEM), "out of memory");
    assert_string_equal(st_strerror(ST_OK), "ok");
}

static void test_strerror_unknown_code(void **st)
{
    (void)st;
    assert_string_equal(st_strerror(-1000), "unknown error");
    assert_string_equal(st_strerror(5), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str2ll_parses_zero),
        cmocka_unit_test(test_str2ll_parses_positive_and_negative),
        cmocka_unit_test(test_str2ll_accepts_llong_max),
        cmocka_unit_test(test_str2ll_accepts_llong_min),
        cmocka_unit_test(test_str2ll_rejects_llong_max_plus_one),
        cmocka_unit_test(test_str2ll_rejects_llong_min_minus_one),
        cmocka_unit_test(test_str2ll_rejects_ullong_overflow),
        cmocka_unit_test(test_str2ll_rejects_21_chars_or_more),
        cmocka_unit_test(test_str2ll_rejects_empty),
        cmocka_unit_test(test_str2ll_rejects_lone_minus),
        cmocka_unit_test(test_str2ll_rejects_minus_zero),
        cmocka_unit_test(test_str2ll_rejects_leading_zero),
        cmocka_unit_test(test_str2ll_rejects_plus_sign),
        cmocka_unit_test(test_str2ll_rejects_spaces),
        cmocka_unit_test(test_str2ll_rejects_trailing_garbage),
        cmocka_unit_test(test_str2ll_uses_len_not_nul),
        cmocka_unit_test(test_str2ll_leaves_out_untouched_on_error),
        cmocka_unit_test(test_str2ull_accepts_ullong_max),
        cmocka_unit_test(test_str2ull_rejects_ullong_max_plus_one),
        cmocka_unit_test(test_str2ull_rejects_sign_leading_zero_and_empty),
        cmocka_unit_test(test_ll2str_formats_boundaries),
        cmocka_unit_test(test_ll2str_round_trips_through_str2ll),
        cmocka_unit_test(test_str2d_parses_plain_and_exponent),
        cmocka_unit_test(test_str2d_accepts_infinities),
        cmocka_unit_test(test_str2d_rejects_nan),
        cmocka_unit_test(test_str2d_rejects_empty),
        cmocka_unit_test(test_str2d_rejects_leading_whitespace),
        cmocka_unit_test(test_str2d_rejects_trailing_garbage),
        cmocka_unit_test(test_str2d_rejects_overflow_and_underflow_to_zero),
        cmocka_unit_test(test_str2d_uses_len_not_nul),
        cmocka_unit_test(test_str2d_rejects_too_long),
        cmocka_unit_test(test_str2ld_parses_incrbyfloat_operands),
        cmocka_unit_test(test_str2ld_rejects_nan_space_garbage_empty),
        cmocka_unit_test(test_ld2str_incrbyfloat_10_5_plus_0_1_is_10_6),
        cmocka_unit_test(test_ld2str_exponent_operands_give_plain_integers),
        cmocka_unit_test(test_ld2str_strips_trailing_zeros_and_dot),
        cmocka_unit_test(test_ld2str_minus_zero_is_zero),
        cmocka_unit_test(test_ld2str_spells_infinities),
        cmocka_unit_test(test_ld2str_returns_zero_when_buffer_too_small),
        cmocka_unit_test(test_ld2str_fits_largest_long_double),
        cmocka_unit_test(test_d2str_integers_have_no_fraction),
        cmocka_unit_test(test_d2str_uses_17_significant_digits),
        cmocka_unit_test(test_d2str_spells_infinities),
        cmocka_unit_test(test_d2str_integral_fast_path_matches_printf),
        cmocka_unit_test(test_d2str_round_trips_through_str2d),
        cmocka_unit_test(test_glob_literal_matches_exactly),
        cmocka_unit_test(test_glob_star_matches_any_run),
        cmocka_unit_test(test_glob_star_matches_empty_string),
        cmocka_unit_test(test_glob_star_backtracks),
        cmocka_unit_test(test_glob_question_matches_one_byte),
        cmocka_unit_test(test_glob_class_matches_listed_bytes),
        cmocka_unit_test(test_glob_negated_class),
        cmocka_unit_test(test_glob_range),
        cmocka_unit_test(test_glob_reversed_range_is_swapped),
        cmocka_unit_test(test_glob_escape_makes_special_literal),
        cmocka_unit_test(test_glob_trailing_backslash_is_literal),
        cmocka_unit_test(test_glob_escape_inside_class),
        cmocka_unit_test(test_glob_empty_class_matches_nothing),
        cmocka_unit_test(test_glob_unterminated_class_runs_to_end),
        cmocka_unit_test(test_glob_nocase),
        cmocka_unit_test(test_glob_is_binary_safe),
        cmocka_unit_test(test_glob_pathological_pattern_returns),
        cmocka_unit_test(test_time_ms_and_us_agree_and_are_after_2020),
        cmocka_unit_test(test_mono_us_never_goes_back),
        cmocka_unit_test(test_memsize_plain_number_is_bytes),
        cmocka_unit_test(test_memsize_decimal_units),
        cmocka_unit_test(test_memsize_binary_units),
        cmocka_unit_test(test_memsize_units_are_case_insensitive),
        cmocka_unit_test(test_memsize_accepts_negative),
        cmocka_unit_test(test_memsize_rejects_garbage),
        cmocka_unit_test(test_memsize_rejects_overflow),
        cmocka_unit_test(test_rng_matches_reference_vector_for_seed_zero),
        cmocka_unit_test(test_rng_same_seed_same_stream),
        cmocka_unit_test(test_rng_different_seeds_differ),
        cmocka_unit_test(test_rng_uses_all_bits),
        cmocka_unit_test(test_eqi_ignores_case),
        cmocka_unit_test(test_eqi_requires_same_length),
        cmocka_unit_test(test_eqi_rejects_embedded_nul),
        cmocka_unit_test(test_splitargs_splits_on_blanks),
        cmocka_unit_test(test_splitargs_collapses_and_trims_blanks),
        cmocka_unit_test(test_splitargs_empty_and_blank_lines_give_zero),
        cmocka_unit_test(test_splitargs_unescaped_args_keep_their_offsets),
        cmocka_unit_test(test_splitargs_double_quotes_keep_blanks),
        cmocka_unit_test(test_splitargs_double_quote_escapes),
        cmocka_unit_test(test_splitargs_double_quote_unknown_escape_is_the_char),
        cmocka_unit_test(test_splitargs_hex_escape),
        cmocka_unit_test(test_splitargs_bad_hex_escape_is_x),
        cmocka_unit_test(test_splitargs_single_quotes_are_literal),
        cmocka_unit_test(test_splitargs_single_quote_escape),
        cmocka_unit_test(test_splitargs_empty_quotes_give_empty_arg),
        cmocka_unit_test(test_splitargs_quote_may_open_mid_argument),
        cmocka_unit_test(test_splitargs_closing_quote_must_be_followed_by_blank),
        cmocka_unit_test(test_splitargs_unbalanced_double_quote_fails),
        cmocka_unit_test(test_splitargs_unbalanced_single_quote_fails),
        cmocka_unit_test(test_splitargs_too_many_args_fails),
        cmocka_unit_test(test_splitargs_vertical_tab_is_data_inside_arg),
        cmocka_unit_test(test_splitargs_respects_len),
        cmocka_unit_test(test_splitargs_nul_ends_the_line),
        cmocka_unit_test(test_splitargs_config_line),
        cmocka_unit_test(test_strerror_names_every_code),
        cmocka_unit_test(test_strerror_unknown_code),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
