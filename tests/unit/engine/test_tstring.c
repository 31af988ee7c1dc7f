/*
 * test_tstring.c -- unit tests for engine/tstring.c: the edge cases of every
 * string command that can be decided without a server. Expected values were
 * checked against Redis 7.0.15 where they are observable through commands.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/err.h"
#include "engine/tstring.h"
#include "engine/util.h"

#define MAXLEN (512ull * 1024 * 1024)

/* GETRANGE as a string, for readable assertions. */
static void expect_range(const char *s, long long start, long long end, const char *want)
{
    size_t off = 99;
    size_t n = tstr_range(start, end, strlen(s), &off);

    assert_int_equal(n, strlen(want));
    if (n > 0)
        assert_memory_equal(s + off, want, n);
}

static void test_range_positive_indexes(void **state)
{
    (void)state;
    expect_range("Hello World", 0, 4, "Hello");
    expect_range("Hello World", 6, 10, "World");
    expect_range("Hello World", 0, 0, "H");
    expect_range("Hello World", 10, 10, "d");
}

static void test_range_negative_indexes_count_from_end(void **state)
{
    (void)state;
    expect_range("Hello World", -3, -1, "rld");
    expect_range("Hello World", 0, -1, "Hello World");
    expect_range("Hello World", -1, -1, "d");
    expect_range("Hello World", -5, 10, "World");
}

static void test_range_end_past_length_is_clamped(void **state)
{
    (void)state;
    expect_range("Hello World", 5, 100, " World");
    expect_range("abc", 0, LLONG_MAX, "abc");
    expect_range("abc", -100, 100, "abc");
}

static void test_range_start_before_beginning_is_clamped(void **state)
{
    (void)state;
    expect_range("abc", -100, 0, "a");
    expect_range("abc", LLONG_MIN, 1, "ab");
    /* end < -len clamps to 0: the first byte, as Redis does. */
    expect_range("abc", 0, -100, "a");
}

static void test_range_empty_cases(void **state)
{
    (void)state;
    expect_range("abc", 5, 100, "");          /* start past the end */
    expect_range("abc", 2, 1, "");            /* start > end */
    expect_range("abc", -1, -5, "");          /* both negative, start > end */
    expect_range("abc", LLONG_MAX, LLONG_MAX, "");
    expect_range("abc", -1, 0, "");           /* start converts to 2 > end 0 */
    expect_range("", 0, -1, "");              /* empty string */
    expect_range("", 0, 0, "");
    expect_range("", LLONG_MIN, LLONG_MAX, "");
}

static void test_check_len_limit_and_overflow(void **state)
{
    (void)state;
    assert_int_equal(tstr_check_len(0, 0, MAXLEN), ST_OK);
    assert_int_equal(tstr_check_len(MAXLEN - 1, 1, MAXLEN), ST_OK);
    assert_int_equal(tstr_check_len(MAXLEN, 1, MAXLEN), ST_ETOOBIG);
    assert_int_equal(tstr_check_len(1, MAXLEN, MAXLEN), ST_ETOOBIG);
    assert_int_equal(tstr_check_len(UINT64_MAX, 2, UINT64_MAX), ST_ETOOBIG);
    assert_int_equal(tstr_check_len(10, 5, 15), ST_OK);
    assert_int_equal(tstr_check_len(10, 6, 15), ST_ETOOBIG);
}

static void test_setrange_negative_offset_is_out_of_range(void **state)
{
    size_t nl = 7;

    (void)state;
    assert_int_equal(tstr_setrange_len(3, -1, 1, MAXLEN, &nl), ST_ERANGE);
    assert_int_equal(tstr_setrange_len(3, LLONG_MIN, 0, MAXLEN, &nl), ST_ERANGE);
    assert_int_equal(nl, 7);
}

static void test_setrange_empty_value_changes_nothing(void **state)
{
    size_t nl = 0;

    (void)state;
    /* Redis returns the current length, even with an offset past the limit. */
    assert_int_equal(tstr_setrange_len(5, LLONG_MAX, 0, MAXLEN, &nl), ST_OK);
    assert_int_equal(nl, 5);
    assert_int_equal(tstr_setrange_len(0, 100, 0, MAXLEN, &nl), ST_OK);
    assert_int_equal(nl, 0);
}

static void test_setrange_size_limit(void **state)
{
    size_t nl = 0;

    (void)state;
    assert_int_equal(tstr_setrange_len(0, (long long)MAXLEN - 1, 1, MAXLEN, &nl), ST_OK);
    assert_int_equal(nl, MAXLEN);
    assert_int_equal(tstr_setrange_len(0, (long long)MAXLEN, 1, MAXLEN, &nl), ST_ETOOBIG);
    assert_int_equal(tstr_setrange_len(0, LLONG_MAX, 10, MAXLEN, &nl), ST_ETOOBIG);
    assert_int_equal(tstr_setrange_len(0, LLONG_MAX, 10, UINT64_MAX, &nl), ST_OK);
}

static void test_setrange_new_length_is_max_of_old_and_end(void **state)
{
    size_t nl = 0;

    (void)state;
    assert_int_equal(tstr_setrange_len(11, 6, 5, MAXLEN, &nl), ST_OK);
    assert_int_equal(nl, 11); /* inside */
    assert_int_equal(tstr_setrange_len(11, 6, 10, MAXLEN, &nl), ST_OK);
    assert_int_equal(nl, 16); /* grows */
    assert_int_equal(tstr_setrange_len(0, 5, 1, MAXLEN, &nl), ST_OK);
    assert_int_equal(nl, 6);  /* missing key: padding + value */
}

static void test_setrange_apply_pads_with_zeros(void **state)
{
    char buf[16];

    (void)state;
    memset(buf, 'z', sizeof(buf));
    memcpy(buf, "ab", 2);
    tstr_setrange_apply(buf, 2, 5, "XY", 2);
    assert_memory_equal(buf, "ab\0\0\0XY", 7);
    assert_int_equal(buf[7], 'z');
}

static void test_setrange_apply_overwrites_inside(void **state)
{
    char buf[16] = "Hello World";

    (void)state;
    tstr_setrange_apply(buf, 11, 6, "Redis", 5);
    assert_memory_equal(buf, "Hello Redis", 11);
    tstr_setrange_apply(buf, 11, 0, "J", 1);
    assert_memory_equal(buf, "Jello Redis", 11);
    /* Overlapping the end: the tail grows. */
    tstr_setrange_apply(buf, 11, 9, "XYZ", 3);
    assert_memory_equal(buf, "Jello RedXYZ", 12);
}

static void test_setrange_apply_at_end_appends(void **state)
{
    char buf[8] = "abc";

    (void)state;
    tstr_setrange_apply(buf, 3, 3, "de", 2);
    assert_memory_equal(buf, "abcde", 5);
}

static void test_incrby_basic(void **state)
{
    long long v = 0;

    (void)state;
    assert_int_equal(tstr_incrby(10, 5, &v), ST_OK);
    assert_int_equal(v, 15);
    assert_int_equal(tstr_incrby(10, -15, &v), ST_OK);
    assert_int_equal(v, -5);
    assert_int_equal(tstr_incrby(0, LLONG_MIN, &v), ST_OK);
    assert_true(v == LLONG_MIN);
}

static void test_incrby_overflow_is_refused(void **state)
{
    long long v = 42;

    (void)state;
    assert_int_equal(tstr_incrby(LLONG_MAX, 1, &v), ST_ERANGE);
    assert_int_equal(tstr_incrby(LLONG_MIN, -1, &v), ST_ERANGE);
    assert_int_equal(tstr_incrby(1, LLONG_MAX, &v), ST_ERANGE);
    assert_int_equal(tstr_incrby(-2, LLONG_MIN + 1, &v), ST_ERANGE);
    assert_int_equal(v, 42); /* untouched */
}

static void test_incrby_limits_are_reachable(void **state)
{
    long long v = 0;

    (void)state;
    assert_int_equal(tstr_incrby(LLONG_MAX - 1, 1, &v), ST_OK);
    assert_true(v == LLONG_MAX);
    assert_int_equal(tstr_incrby(LLONG_MIN + 1, -1, &v), ST_OK);
    assert_true(v == LLONG_MIN);
    /* Opposite signs can never overflow. */
    assert_int_equal(tstr_incrby(LLONG_MAX, LLONG_MIN, &v), ST_OK);
    assert_int_equal(v, -1);
}

static void test_negate_llong_min_overflows(void **state)
{
    long long v = 0;

    (void)state;
    assert_int_equal(tstr_negate(LLONG_MIN, &v), ST_ERANGE);
    assert_int_equal(tstr_negate(LLONG_MAX, &v), ST_OK);
    assert_true(v == -LLONG_MAX);
    assert_int_equal(tstr_negate(0, &v), ST_OK);
    assert_int_equal(v, 0);
}

/* INCRBYFLOAT on string operands, as the command sees them. */
static void expect_incrbyfloat(const char *cur, const char *incr, const char *want)
{
    char buf[UTIL_DBLSTR_SIZE];
    long double a, b;
    int n;

    assert_int_equal(util_str2ld(cur, strlen(cur), &a), ST_OK);
    assert_int_equal(util_str2ld(incr, strlen(incr), &b), ST_OK);
    n = tstr_incrbyfloat(a, b, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(want));
    assert_memory_equal(buf, want, (size_t)n);
}

static void test_incrbyfloat_formatting(void **state)
{
    (void)state;
    expect_incrbyfloat("10.50", "0.1", "10.6");
    expect_incrbyfloat("0.1", "0.2", "0.3");
    expect_incrbyfloat("0", "5.0e3", "5000");
    expect_incrbyfloat("5.0e3", "2.0e2", "5200");
    expect_incrbyfloat("3", "-3", "0");
    expect_incrbyfloat("0", "-0.0", "0");    /* never "-0" */
    expect_incrbyfloat("0", "1e-20", "0");   /* below 17 decimals */
    expect_incrbyfloat("1", "-1.5", "-0.5");
    expect_incrbyfloat("5000", "0x10", "5016"); /* strtold takes hex, as Redis */
}

static void test_incrbyfloat_large_values_are_fixed_notation(void **state)
{
    (void)state;
    /* Redis 7.0.15: INCRBYFLOAT f 1e308 on a missing key, twice. */
    expect_incrbyfloat("0", "1e308",
        "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048");
    expect_incrbyfloat(
        "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048",
        "1e308",
        "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096");
}

static void test_incrbyfloat_nan_and_inf_are_refused(void **state)
{
    char buf[UTIL_DBLSTR_SIZE];

    (void)state;
    assert_int_equal(tstr_incrbyfloat(0, INFINITY, buf, sizeof(buf)), ST_ERANGE);
    assert_int_equal(tstr_incrbyfloat(0, -INFINITY, buf, sizeof(buf)), ST_ERANGE);
    assert_int_equal(tstr_incrbyfloat(INFINITY, -INFINITY, buf, sizeof(buf)), ST_ERANGE);
    assert_int_equal(tstr_incrbyfloat(LDBL_MAX, LDBL_MAX, buf, sizeof(buf)), ST_ERANGE);
}

static void test_incrbyfloat_small_buffer(void **state)
{
    char buf[4];

    (void)state;
    assert_int_equal(tstr_incrbyfloat(12345, 0, buf, sizeof(buf)), ST_ETOOBIG);
}

static void test_expire_relative_seconds_and_ms(void **state)
{
    int64_t at = 0;

    (void)state;
    assert_int_equal(tstr_expire_at(10, TSTR_EXP_RELATIVE, 1000000, &at), ST_OK);
    assert_int_equal(at, 1010000);
    assert_int_equal(tstr_expire_at(10, TSTR_EXP_RELATIVE | TSTR_EXP_MS, 1000000, &at), ST_OK);
    assert_int_equal(at, 1000010);
}

static void test_expire_absolute(void **state)
{
    int64_t at = 0;

    (void)state;
    assert_int_equal(tstr_expire_at(1, 0, 1700000000000, &at), ST_OK);
    assert_int_equal(at, 1000); /* in the past: allowed, the caller expires it */
    assert_int_equal(tstr_expire_at(LLONG_MAX, TSTR_EXP_MS, 1700000000000, &at), ST_OK);
    assert_true(at == LLONG_MAX);
}

static void test_expire_zero_and_negative_are_invalid(void **state)
{
    int64_t at = 5;

    (void)state;
    assert_int_equal(tstr_expire_at(0, TSTR_EXP_RELATIVE, 1000, &at), ST_EINVAL);
    assert_int_equal(tstr_expire_at(-1, TSTR_EXP_RELATIVE, 1000, &at), ST_EINVAL);
    assert_int_equal(tstr_expire_at(0, 0, 1000, &at), ST_EINVAL);
    assert_int_equal(tstr_expire_at(LLONG_MIN, TSTR_EXP_MS, 1000, &at), ST_EINVAL);
    assert_int_equal(at, 5);
}

static void test_expire_overflow_is_invalid(void **state)
{
    int64_t at = 5;
    int64_t now = 1700000000000;

    (void)state;
    /* seconds * 1000 overflows */
    assert_int_equal(tstr_expire_at(LLONG_MAX / 1000 + 1, 0, now, &at), ST_EINVAL);
    assert_int_equal(tstr_expire_at(LLONG_MAX, TSTR_EXP_RELATIVE, now, &at), ST_EINVAL);
    /* fits after * 1000, but now + ms overflows (Redis: invalid expire time) */
    assert_int_equal(tstr_expire_at(LLONG_MAX / 1000, TSTR_EXP_RELATIVE, now, &at), ST_EINVAL);
    assert_int_equal(tstr_expire_at(LLONG_MAX, TSTR_EXP_RELATIVE | TSTR_EXP_MS, now, &at), ST_EINVAL);
    /* absolute seconds just fitting */
    assert_int_equal(tstr_expire_at(LLONG_MAX / 1000, 0, now, &at), ST_OK);
    assert_true(at == LLONG_MAX / 1000 * 1000);
}

/* Feeds a whole option list; returns the flags or -1 on a syntax error. */
static long feed_all(enum tstr_cmd cmd, const char *const *opts, int n)
{
    unsigned flags = 0;

    for (int i = 0; i < n; i++) {
        int r = tstr_opt_feed(&flags, cmd, opts[i], strlen(opts[i]), i + 1 < n);

        if (r < 0)
            return -1;
        if (r == 1)
            i++; /* the expiry value */
    }
    return (long)flags;
}

#define FEED(cmd, ...) \
    feed_all(cmd, (const char *const[]){ __VA_ARGS__ }, \
             (int)(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)))

static void test_opts_set_accepts_each_option_any_case(void **state)
{
    (void)state;
    assert_int_equal(FEED(TSTR_CMD_SET, "nx"), TSTR_NX);
    assert_int_equal(FEED(TSTR_CMD_SET, "Xx"), TSTR_XX);
    assert_int_equal(FEED(TSTR_CMD_SET, "GET"), TSTR_GET);
    assert_int_equal(FEED(TSTR_CMD_SET, "keepttl"), TSTR_KEEPTTL);
    assert_int_equal(FEED(TSTR_CMD_SET, "ex", "10"), TSTR_EX);
    assert_int_equal(FEED(TSTR_CMD_SET, "PX", "10"), TSTR_PX);
    assert_int_equal(FEED(TSTR_CMD_SET, "exat", "10"), TSTR_EXAT);
    assert_int_equal(FEED(TSTR_CMD_SET, "pxAT", "10"), TSTR_PXAT);
    assert_int_equal(FEED(TSTR_CMD_SET, "NX", "GET", "EX", "5"), TSTR_NX | TSTR_GET | TSTR_EX);
    assert_int_equal(FEED(TSTR_CMD_SET, "XX", "KEEPTTL", "GET"), TSTR_XX | TSTR_KEEPTTL | TSTR_GET);
}

static void test_opts_set_repeats_are_allowed(void **state)
{
    (void)state;
    assert_int_equal(FEED(TSTR_CMD_SET, "NX", "NX"), TSTR_NX);
    assert_int_equal(FEED(TSTR_CMD_SET, "EX", "1", "EX", "2"), TSTR_EX);
    assert_int_equal(FEED(TSTR_CMD_SET, "GET", "GET"), TSTR_GET);
}

static void test_opts_set_conflicts_are_syntax_errors(void **state)
{
    (void)state;
    assert_int_equal(FEED(TSTR_CMD_SET, "NX", "XX"), -1);
    assert_int_equal(FEED(TSTR_CMD_SET, "XX", "NX"), -1);
    assert_int_equal(FEED(TSTR_CMD_SET, "EX", "1", "KEEPTTL"), -1);
    assert_int_equal(FEED(TSTR_CMD_SET, "KEEPTTL", "EX", "1"), -1);
    assert_int_equal(FEED(TSTR_CMD_SET, "EX", "1", "PX", "1"), -1);
    assert_int_equal(FEED(TSTR_CMD_SET, "EX", "1", "EXAT", "2"), -1);
    assert_int_equal(FEED(TSTR_CMD_SET, "PXAT", "1", "PX", "2"), -1);
}

static void test_opts_set_missing_value_or_unknown_word(void **state)
{
    (void)state;
    assert_int_equal(FEED(TSTR_CMD_SET, "EX"), -1);
    assert_int_equal(FEED(TSTR_CMD_SET, "NX", "PXAT"), -1);
    assert_int_equal(FEED(TSTR_CMD_SET, "PERSIST"), -1); /* GETEX's */
    assert_int_equal(FEED(TSTR_CMD_SET, "NXX"), -1);
    assert_int_equal(FEED(TSTR_CMD_SET, "N"), -1);
    assert_int_equal(FEED(TSTR_CMD_SET, ""), -1);
}

static void test_opts_getex_grammar(void **state)
{
    (void)state;
    assert_int_equal(FEED(TSTR_CMD_GETEX, "persist"), TSTR_PERSIST);
    assert_int_equal(FEED(TSTR_CMD_GETEX, "EX", "1"), TSTR_EX);
    assert_int_equal(FEED(TSTR_CMD_GETEX, "pxat", "1"), TSTR_PXAT);
    assert_int_equal(FEED(TSTR_CMD_GETEX, "PX", "1", "PERSIST"), -1);
    assert_int_equal(FEED(TSTR_CMD_GETEX, "PERSIST", "EX", "1"), -1);
    assert_int_equal(FEED(TSTR_CMD_GETEX, "NX"), -1);
    assert_int_equal(FEED(TSTR_CMD_GETEX, "XX"), -1);
    assert_int_equal(FEED(TSTR_CMD_GETEX, "GET"), -1);
    assert_int_equal(FEED(TSTR_CMD_GETEX, "KEEPTTL"), -1);
    assert_int_equal(FEED(TSTR_CMD_GETEX, "EX"), -1);
}

static void test_opts_expire_how(void **state)
{
    (void)state;
    assert_int_equal(tstr_opt_expire_how(TSTR_EX | TSTR_NX), TSTR_EXP_RELATIVE);
    assert_int_equal(tstr_opt_expire_how(TSTR_PX), TSTR_EXP_RELATIVE | TSTR_EXP_MS);
    assert_int_equal(tstr_opt_expire_how(TSTR_EXAT), 0);
    assert_int_equal(tstr_opt_expire_how(TSTR_PXAT | TSTR_GET), TSTR_EXP_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_positive_indexes),
        cmocka_unit_test(test_range_negative_indexes_count_from_end),
        cmocka_unit_test(test_range_end_past_length_is_clamped),
        cmocka_unit_test(test_range_start_before_beginning_is_clamped),
        cmocka_unit_test(test_range_empty_cases),
        cmocka_unit_test(test_check_len_limit_and_overflow),
        cmocka_unit_test(test_setrange_negative_offset_is_out_of_range),
        cmocka_unit_test(test_setrange_empty_value_changes_nothing),
        cmocka_unit_test(test_setrange_size_limit),
        cmocka_unit_test(test_setrange_new_length_is_max_of_old_and_end),
        cmocka_unit_test(test_setrange_apply_pads_with_zeros),
        cmocka_unit_test(test_setrange_apply_overwrites_inside),
        cmocka_unit_test(test_setrange_apply_at_end_appends),
        cmocka_unit_test(test_incrby_basic),
        cmocka_unit_test(test_incrby_overflow_is_refused),
        cmocka_unit_test(test_incrby_limits_are_reachable),
        cmocka_unit_test(test_negate_llong_min_overflows),
        cmocka_unit_test(test_incrbyfloat_formatting),
        cmocka_unit_test(test_incrbyfloat_large_values_are_fixed_notation),
        cmocka_unit_test(test_incrbyfloat_nan_and_inf_are_refused),
        cmocka_unit_test(test_incrbyfloat_small_buffer),
        cmocka_unit_test(test_expire_relative_seconds_and_ms),
        cmocka_unit_test(test_expire_absolute),
        cmocka_unit_test(test_expire_zero_and_negative_are_invalid),
        cmocka_unit_test(test_expire_overflow_is_invalid),
        cmocka_unit_test(test_opts_set_accepts_each_option_any_case),
        cmocka_unit_test(test_opts_set_repeats_are_allowed),
        cmocka_unit_test(test_opts_set_conflicts_are_syntax_errors),
        cmocka_unit_test(test_opts_set_missing_value_or_unknown_word),
        cmocka_unit_test(test_opts_getex_grammar),
        cmocka_unit_test(test_opts_expire_how),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
