/*
 * test_t_zset.c -- unit tests for engine/t_zset.c and engine/zskiplist.c:
 * both encodings, the conversion between them, ranks and ranges against a
 * sorted-array model over thousands of random operations, range parsing and
 * the score / lex range edge cases.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/dict.h"
#include "engine/err.h"
#include "engine/lpack.h"
#include "engine/t_zset.h"
#include "engine/util.h"

static const struct type_limits deflim = TYPE_LIMITS_DEFAULT;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static void add(void **zs, const struct type_limits *lim, double score, const char *m)
{
    int out;

    assert_int_equal(zset_add(zs, lim, score, m, strlen(m), 0, &out, NULL), ST_OK);
}

/* The set's members in order, joined by ',' with their scores: "a:1,b:2". */
static char *dump(void *zs)
{
    static char buf[65536];
    struct zset_it it;
    struct zset_elem e;
    size_t o = 0;

    buf[0] = '\0';
    zset_it_rank(&it, zs, 0, 0);
    while (zset_it_next(&it, &e)) {
        char s[128];

        util_d2str(s, sizeof(s), e.score);
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%.*s:%s", o ? "," : "", (int)e.len, e.m, s);
    }
    return buf;
}

static char *dump_rev(void *zs)
{
    static char buf[65536];
    struct zset_it it;
    struct zset_elem e;
    size_t o = 0;

    buf[0] = '\0';
    zset_it_rank(&it, zs, 0, 1);
    while (zset_it_next(&it, &e))
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%.*s", o ? "," : "", (int)e.len, e.m);
    return buf;
}

static struct zset_lrange lex(const char *min, const char *max)
{
    struct zset_lrange r;

    assert_int_equal(zset_parse_lex_bound(min, strlen(min), &r.min, &r.minlen, &r.minex, &r.mininf), ST_OK);
    assert_int_equal(zset_parse_lex_bound(max, strlen(max), &r.max, &r.maxlen, &r.maxex, &r.maxinf), ST_OK);
    return r;
}

static struct zset_srange srange(const char *min, const char *max)
{
    struct zset_srange r;

    assert_int_equal(zset_parse_score_bound(min, strlen(min), &r.min, &r.minex), ST_OK);
    assert_int_equal(zset_parse_score_bound(max, strlen(max), &r.max, &r.maxex), ST_OK);
    return r;
}

/* Members of a score range in order, joined by ','. */
static char *score_members(void *zs, const char *min, const char *max, int rev)
{
    static char buf[65536];
    struct zset_srange r = srange(min, max);
    struct zset_it it;
    struct zset_elem e;
    size_t o = 0;

    buf[0] = '\0';
    zset_it_score(&it, zs, &r, rev);
    while (zset_it_next(&it, &e)) {
        if (rev ? !zset_score_gte_min(e.score, &r) : !zset_score_lte_max(e.score, &r))
            break;
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%.*s", o ? "," : "", (int)e.len, e.m);
    }
    return buf;
}

static char *lex_members(void *zs, const char *min, const char *max, int rev)
{
    static char buf[65536];
    struct zset_lrange r = lex(min, max);
    struct zset_it it;
    struct zset_elem e;
    size_t o = 0;

    buf[0] = '\0';
    zset_it_lex(&it, zs, &r, rev);
    while (zset_it_next(&it, &e)) {
        if (rev ? !zset_lex_gte_min(e.m, e.len, &r) : !zset_lex_lte_max(e.m, e.len, &r))
            break;
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%.*s", o ? "," : "", (int)e.len, e.m);
    }
    return buf;
}

/* Builds a set of a..e with scores 1..5 in the encoding asked. */
static void *abcde(int big)
{
    void *zs = zset_create(0, 0, &deflim);

    assert_non_null(zs);
    add(&zs, &deflim, 3, "c");
    add(&zs, &deflim, 1, "a");
    add(&zs, &deflim, 5, "e");
    add(&zs, &deflim, 2, "b");
    add(&zs, &deflim, 4, "d");
    if (big)
        assert_int_equal(zset_to_big(&zs), ST_OK);
    assert_string_equal(zset_encoding(zs), big ? "skiplist" : "listpack");
    return zs;
}

/* ------------------------------------------------------------------------ */
/* Point operations, both encodings                                         */
/* ------------------------------------------------------------------------ */

static void check_basic(int big)
{
    void *zs = abcde(big);
    double s;
    int out;

    assert_int_equal(zset_len(zs), 5);
    assert_string_equal(dump(zs), "a:1,b:2,c:3,d:4,e:5");
    assert_string_equal(dump_rev(zs), "e,d,c,b,a");
    assert_int_equal(zset_score(zs, "c", 1, &s), ST_OK);
    assert_true(s == 3);
    assert_int_equal(zset_score(zs, "x", 1, &s), ST_ENOENT);
    assert_int_equal(zset_rank(zs, "a", 1, 0, NULL), 0);
    assert_int_equal(zset_rank(zs, "e", 1, 0, &s), 4);
    assert_true(s == 5);
    assert_int_equal(zset_rank(zs, "e", 1, 1, NULL), 0);
    assert_int_equal(zset_rank(zs, "b", 1, 1, NULL), 3);
    assert_int_equal(zset_rank(zs, "zz", 2, 0, NULL), -1);

    /* update moves the member; same score is not an update */
    assert_int_equal(zset_add(&zs, &deflim, 10, "a", 1, 0, &out, &s), ST_OK);
    assert_int_equal(out, ZSET_OUT_UPDATED);
    assert_string_equal(dump(zs), "b:2,c:3,d:4,e:5,a:10");
    assert_int_equal(zset_add(&zs, &deflim, 10, "a", 1, 0, &out, &s), ST_OK);
    assert_int_equal(out, 0);
    /* a move that keeps the order rewrites the score in place */
    assert_int_equal(zset_add(&zs, &deflim, 2.5, "b", 1, 0, &out, NULL), ST_OK);
    assert_string_equal(dump(zs), "b:2.5,c:3,d:4,e:5,a:10");
    /* move to the front */
    assert_int_equal(zset_add(&zs, &deflim, -1, "e", 1, 0, &out, NULL), ST_OK);
    assert_string_equal(dump(zs), "e:-1,b:2.5,c:3,d:4,a:10");

    /* NX / XX / GT / LT / INCR */
    assert_int_equal(zset_add(&zs, &deflim, 100, "c", 1, ZSET_IN_NX, &out, NULL), ST_OK);
    assert_int_equal(out, ZSET_OUT_NOP);
    assert_int_equal(zset_add(&zs, &deflim, 100, "new", 3, ZSET_IN_XX, &out, NULL), ST_OK);
    assert_int_equal(out, ZSET_OUT_NOP);
    assert_int_equal(zset_add(&zs, &deflim, 1, "c", 1, ZSET_IN_GT, &out, NULL), ST_OK);
    assert_int_equal(out, ZSET_OUT_NOP);
    assert_int_equal(zset_add(&zs, &deflim, 7, "c", 1, ZSET_IN_GT, &out, NULL), ST_OK);
    assert_int_equal(out, ZSET_OUT_UPDATED);
    assert_int_equal(zset_add(&zs, &deflim, 8, "c", 1, ZSET_IN_LT, &out, NULL), ST_OK);
    assert_int_equal(out, ZSET_OUT_NOP);
    assert_int_equal(zset_add(&zs, &deflim, 1.5, "c", 1, ZSET_IN_INCR, &out, &s), ST_OK);
    assert_int_equal(out, ZSET_OUT_UPDATED);
    assert_true(s == 8.5);
    /* GT with INCR compares the incremented score */
    assert_int_equal(zset_add(&zs, &deflim, -1, "c", 1, ZSET_IN_INCR | ZSET_IN_GT, &out, &s), ST_OK);
    assert_int_equal(out, ZSET_OUT_NOP);
    /* a new member with GT is added */
    assert_int_equal(zset_add(&zs, &deflim, 0, "f", 1, ZSET_IN_GT, &out, NULL), ST_OK);
    assert_int_equal(out, ZSET_OUT_ADDED);
    assert_string_equal(dump(zs), "e:-1,f:0,b:2.5,d:4,c:8.5,a:10");

    /* NaN: refused, nothing changes */
    assert_int_equal(zset_add(&zs, &deflim, NAN, "g", 1, 0, &out, NULL), ST_EINVAL);
    assert_int_equal(out, ZSET_OUT_NAN);
    assert_int_equal(zset_add(&zs, &deflim, INFINITY, "g", 1, 0, &out, NULL), ST_OK);
    assert_int_equal(zset_add(&zs, &deflim, -INFINITY, "g", 1, ZSET_IN_INCR, &out, NULL), ST_EINVAL);
    assert_int_equal(out, ZSET_OUT_NAN);
    assert_int_equal(zset_score(zs, "g", 1, &s), ST_OK);
    assert_true(isinf(s) && s > 0);

    /* delete */
    assert_int_equal(zset_del(&zs, "f", 1), 1);
    assert_int_equal(zset_del(&zs, "f", 1), 0);
    assert_string_equal(dump(zs), "e:-1,b:2.5,d:4,c:8.5,a:10,g:inf");
    assert_string_equal(zset_encoding(zs), big ? "skiplist" : "listpack");
    zset_destroy(zs);
}

static void test_basic_listpack(void **state)
{
    (void)state;
    check_basic(0);
}

static void test_basic_skiplist(void **state)
{
    (void)state;
    check_basic(1);
}

/* "10" is stored as an int in a listpack; "010" and "1e1" stay strings and
 * are different members; members compare as bytes ("10" < "9"). */
static void check_integer_like_members(int big)
{
    void *zs = zset_create(0, 0, &deflim);
    double s;

    add(&zs, &deflim, 1, "10");
    add(&zs, &deflim, 1, "010");
    add(&zs, &deflim, 1, "9");
    add(&zs, &deflim, 1, "-3");
    add(&zs, &deflim, 1, "");
    if (big)
        assert_int_equal(zset_to_big(&zs), ST_OK);
    assert_string_equal(dump(zs), ":1,-3:1,010:1,10:1,9:1");
    assert_int_equal(zset_score(zs, "10", 2, &s), ST_OK);
    assert_int_equal(zset_score(zs, "1e1", 3, &s), ST_ENOENT);
    assert_int_equal(zset_rank(zs, "", 0, 0, NULL), 0);
    assert_int_equal(zset_rank(zs, "9", 1, 0, NULL), 4);
    assert_string_equal(lex_members(zs, "[0", "[9", 0), "010,10,9");
    assert_string_equal(lex_members(zs, "(010", "+", 0), "10,9");
    zset_destroy(zs);
}

static void test_integer_like_members_listpack(void **state)
{
    (void)state;
    check_integer_like_members(0);
}

static void test_integer_like_members_skiplist(void **state)
{
    (void)state;
    check_integer_like_members(1);
}

/* Scores survive the listpack's text form exactly. */
static void test_listpack_scores_round_trip(void **state)
{
    static const double v[] = { 0, -0.0, 1, -1, 0.1, 1.0 / 3, 1e300, -1e-300, 4503599627370496.0,
                                9007199254740993.0, 1e20, DBL_MAX, DBL_MIN, INFINITY, -INFINITY };
    void *zs = zset_create(0, 0, &deflim);
    char m[16];
    double s;

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        snprintf(m, sizeof(m), "m%zu", i);
        add(&zs, &deflim, v[i], m);
    }
    assert_string_equal(zset_encoding(zs), "listpack");
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        snprintf(m, sizeof(m), "m%zu", i);
        assert_int_equal(zset_score(zs, m, strlen(m), &s), ST_OK);
        if (v[i] == 0)
            assert_true(s == 0 && !signbit(s)); /* -0 is stored as 0, as Redis 7.0 */
        else
            assert_memory_equal(&s, &v[i], sizeof(s)); /* bit for bit */
    }
    zset_destroy(zs);
}

/* The stored text is Redis 7.0's d2string: integers within +-2^62. */
static void test_score_text_as_redis_d2string(void **state)
{
    char b[128];

    (void)state;
    zset_score_text(b, sizeof(b), -0.0);
    assert_string_equal(b, "0");
    zset_score_text(b, sizeof(b), 123456789012345678.0);
    assert_string_equal(b, "123456789012345680");
    zset_score_text(b, sizeof(b), 4611686018427387904.0);
    assert_string_equal(b, "4611686018427387904");
    zset_score_text(b, sizeof(b), 9223372036854775808.0);
    assert_string_equal(b, "9.2233720368547758e+18");
    zset_score_text(b, sizeof(b), -4.6e18);
    assert_string_equal(b, "-4600000000000000000");
    zset_score_text(b, sizeof(b), 1.5);
    assert_string_equal(b, "1.5");
    zset_score_text(b, sizeof(b), 0.1);
    assert_string_equal(b, "0.10000000000000001");
    zset_score_text(b, sizeof(b), -INFINITY);
    assert_string_equal(b, "-inf");
    zset_score_text(b, sizeof(b), 1e20);
    assert_string_equal(b, "1e+20");
}

/* ------------------------------------------------------------------------ */
/* Conversion                                                               */
/* ------------------------------------------------------------------------ */

static void test_converts_past_entries_limit(void **state)
{
    void *zs = zset_create(0, 0, &deflim);
    char m[16];

    (void)state;
    for (int i = 0; i < 128; i++) {
        snprintf(m, sizeof(m), "m%03d", i);
        add(&zs, &deflim, 128 - i, m);
    }
    assert_string_equal(zset_encoding(zs), "listpack");
    /* updates and re-adds do not convert */
    add(&zs, &deflim, 5, "m000");
    assert_string_equal(zset_encoding(zs), "listpack");
    add(&zs, &deflim, 0, "m128");
    assert_string_equal(zset_encoding(zs), "skiplist");
    assert_int_equal(zset_len(zs), 129);
    assert_int_equal(zset_rank(zs, "m128", 4, 0, NULL), 0);
    assert_int_equal(zset_rank(zs, "m127", 4, 0, NULL), 1);
    assert_int_equal(zset_rank(zs, "m000", 4, 0, NULL), 5);
    /* deleting back under the limit keeps the skiplist (as Redis) */
    assert_int_equal(zset_del(&zs, "m128", 4), 1);
    assert_string_equal(zset_encoding(zs), "skiplist");
    zset_destroy(zs);
}

static void test_converts_past_value_limit(void **state)
{
    void *zs = zset_create(0, 0, &deflim);
    char big[66];

    (void)state;
    memset(big, 'x', 64);
    big[64] = '\0';
    add(&zs, &deflim, 1, big);
    assert_string_equal(zset_encoding(zs), "listpack");
    big[64] = 'y';
    big[65] = '\0';
    add(&zs, &deflim, 2, big);
    assert_string_equal(zset_encoding(zs), "skiplist");
    assert_int_equal(zset_len(zs), 2);
    zset_destroy(zs);
}

static void test_create_picks_encoding_from_hints(void **state)
{
    void *zs;

    (void)state;
    zs = zset_create(128, 64, &deflim);
    assert_string_equal(zset_encoding(zs), "listpack");
    zset_destroy(zs);
    zs = zset_create(129, 1, &deflim);
    assert_string_equal(zset_encoding(zs), "skiplist");
    zset_destroy(zs);
    zs = zset_create(1, 65, &deflim);
    assert_string_equal(zset_encoding(zs), "skiplist");
    zset_destroy(zs);
}

static void test_zero_entries_limit_means_always_skiplist(void **state)
{
    struct type_limits lim = deflim;
    void *zs;

    (void)state;
    lim.zset_max_lp_entries = 0;
    zs = zset_create(1, 1, &lim);
    add(&zs, &lim, 1, "a");
    assert_string_equal(zset_encoding(zs), "skiplist");
    zset_destroy(zs);
}

static void test_shrink_and_from_dict(void **state)
{
    struct dict *d = dict_create(42);
    int added;
    void *zs;

    (void)state;
    for (int i = 0; i < 10; i++) {
        char m[16];
        snprintf(m, sizeof(m), "k%d", i);
        dict_add(d, m, strlen(m), &added)->v.d = 10 - i;
    }
    zs = zset_from_dict(d, &deflim);
    assert_non_null(zs);
    assert_string_equal(zset_encoding(zs), "listpack");
    assert_string_equal(dump(zs), "k9:1,k8:2,k7:3,k6:4,k5:5,k4:6,k3:7,k2:8,k1:9,k0:10");
    zset_destroy(zs);

    struct type_limits lim = deflim;
    lim.zset_max_lp_entries = 5;
    d = dict_create(43);
    for (int i = 0; i < 10; i++) {
        char m[16];
        snprintf(m, sizeof(m), "k%d", i);
        dict_add(d, m, strlen(m), &added)->v.d = i;
    }
    zs = zset_from_dict(d, &lim);
    assert_string_equal(zset_encoding(zs), "skiplist");
    assert_int_equal(zset_rank(zs, "k7", 2, 0, NULL), 7);
    /* shrink: too many -> no-op; after deletes it fits */
    assert_int_equal(zset_shrink_if_fits(&zs, &lim), ST_OK);
    assert_string_equal(zset_encoding(zs), "skiplist");
    assert_int_equal(zset_del_rank(&zs, 0, 4), 5);
    assert_int_equal(zset_shrink_if_fits(&zs, &lim), ST_OK);
    assert_string_equal(zset_encoding(zs), "listpack");
    assert_string_equal(dump(zs), "k5:5,k6:6,k7:7,k8:8,k9:9");
    zset_destroy(zs);

    /* an empty dict gives an empty set */
    zs = zset_from_dict(dict_create(1), &deflim);
    assert_int_equal(zset_len(zs), 0);
    zset_destroy(zs);
}

static void test_dup_and_mem(void **state)
{
    for (int big = 0; big < 2; big++) {
        void *zs = abcde(big);
        void *c = zset_obj_ops.dup(zs);
        char a[256];

        (void)state;
        assert_non_null(c);
        assert_string_equal(zset_encoding(c), zset_encoding(zs));
        snprintf(a, sizeof(a), "%s", dump(zs));
        assert_string_equal(dump(c), a);
        add(&c, &deflim, 9, "a");
        assert_string_equal(dump(zs), a); /* independent */
        assert_true(zset_obj_ops.mem(zs) > 0);
        assert_string_equal(zset_obj_ops.name, "zset");
        assert_string_equal(zset_obj_ops.encoding(zs), big ? "skiplist" : "listpack");
        zset_obj_ops.free(c);
        zset_destroy(zs);
    }
}

/* ------------------------------------------------------------------------ */
/* Ranges                                                                   */
/* ------------------------------------------------------------------------ */

static void check_score_ranges(int big)
{
    void *zs = abcde(big);
    struct zset_srange r;

    assert_string_equal(score_members(zs, "2", "4", 0), "b,c,d");
    assert_string_equal(score_members(zs, "(2", "4", 0), "c,d");
    assert_string_equal(score_members(zs, "2", "(4", 0), "b,c");
    assert_string_equal(score_members(zs, "(2", "(4", 0), "c");
    assert_string_equal(score_members(zs, "(2", "(3", 0), "");
    assert_string_equal(score_members(zs, "3", "3", 0), "c");
    assert_string_equal(score_members(zs, "(3", "3", 0), "");
    assert_string_equal(score_members(zs, "4", "2", 0), "");
    assert_string_equal(score_members(zs, "-inf", "+inf", 0), "a,b,c,d,e");
    assert_string_equal(score_members(zs, "-inf", "+inf", 1), "e,d,c,b,a");
    assert_string_equal(score_members(zs, "(1", "(5", 1), "d,c,b");
    assert_string_equal(score_members(zs, "6", "inf", 0), "");
    assert_string_equal(score_members(zs, "-inf", "(1", 0), "");
    assert_string_equal(score_members(zs, "-inf", "(1", 1), "");
    assert_string_equal(score_members(zs, "5", "5", 1), "e");
    r = srange("(1", "5");
    assert_int_equal(zset_count_score(zs, &r), 4);
    r = srange("-inf", "inf");
    assert_int_equal(zset_count_score(zs, &r), 5);
    r = srange("(3", "(3");
    assert_int_equal(zset_count_score(zs, &r), 0);
    r = srange("10", "20");
    assert_int_equal(zset_count_score(zs, &r), 0);

    r = srange("(1", "(4");
    assert_int_equal(zset_del_score(&zs, &r), 2);
    assert_string_equal(dump(zs), "a:1,d:4,e:5");
    r = srange("7", "8");
    assert_int_equal(zset_del_score(&zs, &r), 0);
    r = srange("-inf", "inf");
    assert_int_equal(zset_del_score(&zs, &r), 3);
    assert_int_equal(zset_len(zs), 0);
    zset_destroy(zs);
}

static void test_score_ranges_listpack(void **state)
{
    (void)state;
    check_score_ranges(0);
}

static void test_score_ranges_skiplist(void **state)
{
    (void)state;
    check_score_ranges(1);
}

static void check_lex_ranges(int big)
{
    void *zs = zset_create(0, 0, &deflim);
    struct zset_lrange r;
    const char *m[] = { "a", "aa", "ab", "b", "ba", "c" };

    for (size_t i = 0; i < 6; i++)
        add(&zs, &deflim, 0, m[i]);
    if (big)
        assert_int_equal(zset_to_big(&zs), ST_OK);
    assert_string_equal(lex_members(zs, "-", "+", 0), "a,aa,ab,b,ba,c");
    assert_string_equal(lex_members(zs, "-", "+", 1), "c,ba,b,ab,aa,a");
    assert_string_equal(lex_members(zs, "[aa", "[b", 0), "aa,ab,b");
    assert_string_equal(lex_members(zs, "(aa", "(b", 0), "ab");
    assert_string_equal(lex_members(zs, "[a", "(a", 0), "");
    assert_string_equal(lex_members(zs, "[b", "[a", 0), "");
    assert_string_equal(lex_members(zs, "(a", "[aa", 1), "aa");
    assert_string_equal(lex_members(zs, "-", "[ab", 0), "a,aa,ab");
    assert_string_equal(lex_members(zs, "[b", "+", 1), "c,ba,b");
    assert_string_equal(lex_members(zs, "+", "-", 0), "");
    assert_string_equal(lex_members(zs, "-", "-", 0), "");
    assert_string_equal(lex_members(zs, "+", "+", 0), "");
    assert_string_equal(lex_members(zs, "[", "+", 0), "a,aa,ab,b,ba,c"); /* "" is the smallest */
    assert_string_equal(lex_members(zs, "(c", "+", 0), "");
    assert_string_equal(lex_members(zs, "[d", "[z", 0), "");
    r = lex("[aa", "(ba");
    assert_int_equal(zset_count_lex(zs, &r), 3);
    r = lex("-", "+");
    assert_int_equal(zset_count_lex(zs, &r), 6);
    r = lex("+", "[z");
    assert_int_equal(zset_count_lex(zs, &r), 0);
    r = lex("(a", "[b");
    assert_int_equal(zset_del_lex(&zs, &r), 3);
    assert_string_equal(lex_members(zs, "-", "+", 0), "a,ba,c");
    r = lex("-", "+");
    assert_int_equal(zset_del_lex(&zs, &r), 3);
    assert_int_equal(zset_len(zs), 0);
    zset_destroy(zs);
}

static void test_lex_ranges_listpack(void **state)
{
    (void)state;
    check_lex_ranges(0);
}

static void test_lex_ranges_skiplist(void **state)
{
    (void)state;
    check_lex_ranges(1);
}

static void check_rank_ranges(int big)
{
    void *zs = abcde(big);
    struct zset_it it;
    struct zset_elem e;

    zset_it_rank(&it, zs, 2, 0);
    assert_true(zset_it_next(&it, &e));
    assert_memory_equal(e.m, "c", 1);
    zset_it_skip(&it, 1);
    assert_true(zset_it_next(&it, &e));
    assert_memory_equal(e.m, "e", 1);
    assert_false(zset_it_next(&it, &e));
    zset_it_rank(&it, zs, 1, 1);
    assert_true(zset_it_next(&it, &e));
    assert_memory_equal(e.m, "d", 1);
    zset_it_rank(&it, zs, 5, 0);
    assert_false(zset_it_next(&it, &e));
    assert_int_equal(zset_at(zs, 4, &e), ST_OK);
    assert_memory_equal(e.m, "e", 1);
    assert_int_equal(zset_at(zs, 5, &e), ST_ENOENT);

    assert_int_equal(zset_del_rank(&zs, 1, 2), 2);
    assert_string_equal(dump(zs), "a:1,d:4,e:5");
    assert_int_equal(zset_del_rank(&zs, 2, 100), 1);
    assert_int_equal(zset_del_rank(&zs, 5, 100), 0);
    assert_string_equal(dump(zs), "a:1,d:4");
    zset_destroy(zs);
}

static void test_rank_ranges_listpack(void **state)
{
    (void)state;
    check_rank_ranges(0);
}

static void test_rank_ranges_skiplist(void **state)
{
    (void)state;
    check_rank_ranges(1);
}

static void test_parse_score_bounds_as_redis(void **state)
{
    double v;
    int ex;

    (void)state;
    assert_int_equal(zset_parse_score_bound("1.5", 3, &v, &ex), ST_OK);
    assert_true(v == 1.5 && !ex);
    assert_int_equal(zset_parse_score_bound("(1.5", 4, &v, &ex), ST_OK);
    assert_true(v == 1.5 && ex);
    assert_int_equal(zset_parse_score_bound("-inf", 4, &v, &ex), ST_OK);
    assert_true(isinf(v) && v < 0);
    assert_int_equal(zset_parse_score_bound("+inf", 4, &v, &ex), ST_OK);
    assert_true(isinf(v) && v > 0);
    assert_int_equal(zset_parse_score_bound("(inf", 4, &v, &ex), ST_OK);
    assert_int_equal(zset_parse_score_bound("0x10", 4, &v, &ex), ST_OK);
    assert_true(v == 16);
    /* strtod's quirks Redis keeps: leading blanks, an empty number is 0 */
    assert_int_equal(zset_parse_score_bound(" 2", 2, &v, &ex), ST_OK);
    assert_true(v == 2);
    assert_int_equal(zset_parse_score_bound("", 0, &v, &ex), ST_OK);
    assert_true(v == 0 && !ex);
    assert_int_equal(zset_parse_score_bound("(", 1, &v, &ex), ST_OK);
    assert_true(v == 0 && ex);
    /* refused */
    assert_int_equal(zset_parse_score_bound("nan", 3, &v, &ex), ST_EINVAL);
    assert_int_equal(zset_parse_score_bound("(nan", 4, &v, &ex), ST_EINVAL);
    assert_int_equal(zset_parse_score_bound("1x", 2, &v, &ex), ST_EINVAL);
    assert_int_equal(zset_parse_score_bound("2 ", 2, &v, &ex), ST_EINVAL);
    assert_int_equal(zset_parse_score_bound("[1", 2, &v, &ex), ST_EINVAL);
    assert_int_equal(zset_parse_score_bound("((1", 3, &v, &ex), ST_EINVAL);
    /* a long argument goes through the heap */
    char longnum[300];
    memset(longnum, '0', sizeof(longnum));
    longnum[299] = '7';
    assert_int_equal(zset_parse_score_bound(longnum, sizeof(longnum), &v, &ex), ST_OK);
    assert_true(v == 7);
}

static void test_parse_lex_bounds_as_redis(void **state)
{
    const unsigned char *m;
    size_t len;
    int ex, inf;

    (void)state;
    assert_int_equal(zset_parse_lex_bound("[abc", 4, &m, &len, &ex, &inf), ST_OK);
    assert_true(len == 3 && !ex && !inf && memcmp(m, "abc", 3) == 0);
    assert_int_equal(zset_parse_lex_bound("(abc", 4, &m, &len, &ex, &inf), ST_OK);
    assert_true(len == 3 && ex && !inf);
    assert_int_equal(zset_parse_lex_bound("[", 1, &m, &len, &ex, &inf), ST_OK);
    assert_true(len == 0 && !ex);
    assert_int_equal(zset_parse_lex_bound("-", 1, &m, &len, &ex, &inf), ST_OK);
    assert_true(inf == -1);
    assert_int_equal(zset_parse_lex_bound("+", 1, &m, &len, &ex, &inf), ST_OK);
    assert_true(inf == 1);
    assert_int_equal(zset_parse_lex_bound("", 0, &m, &len, &ex, &inf), ST_EINVAL);
    assert_int_equal(zset_parse_lex_bound("abc", 3, &m, &len, &ex, &inf), ST_EINVAL);
    assert_int_equal(zset_parse_lex_bound("+a", 2, &m, &len, &ex, &inf), ST_EINVAL);
    assert_int_equal(zset_parse_lex_bound("-a", 2, &m, &len, &ex, &inf), ST_EINVAL);
}

static void test_random_and_scan(void **state)
{
    struct util_rng rng;

    (void)state;
    util_rng_seed(&rng, 7);
    for (int big = 0; big < 2; big++) {
        void *zs = abcde(big);
        int seen[5] = { 0 };
        struct zset_elem e;

        for (int i = 0; i < 500; i++) {
            zset_random(zs, &rng, &e);
            assert_int_equal(e.len, 1);
            assert_true(e.m[0] >= 'a' && e.m[0] <= 'e');
            assert_true(e.score == e.m[0] - 'a' + 1);
            seen[e.m[0] - 'a']++;
        }
        for (int i = 0; i < 5; i++)
            assert_true(seen[i] > 50);
        zset_destroy(zs);
    }
}

struct scan_acc {
    int n;
    double sum;
};

static void scan_cb(const unsigned char *m, size_t len, double score, void *ud)
{
    struct scan_acc *a = ud;

    (void)m;
    (void)len;
    a->n++;
    a->sum += score;
}

static void test_scan_visits_everything(void **state)
{
    (void)state;
    for (int big = 0; big < 2; big++) {
        void *zs = zset_create(0, 0, &deflim);
        struct scan_acc a = { 0, 0 };
        uint64_t cur = 0;
        int rounds = 0;

        for (int i = 0; i < (big ? 1000 : 100); i++) {
            char m[16];
            snprintf(m, sizeof(m), "s%d", i);
            add(&zs, &deflim, i, m);
        }
        do {
            cur = zset_scan(zs, cur, scan_cb, &a);
            rounds++;
        } while (cur != 0);
        assert_int_equal(a.n, big ? 1000 : 100);
        assert_true(a.sum == (big ? 999.0 * 1000 / 2 : 99.0 * 100 / 2));
        assert_true(big ? rounds > 1 : rounds == 1);
        zset_destroy(zs);
    }
}

/* ------------------------------------------------------------------------ */
/* Model-based test                                                         */
/* ------------------------------------------------------------------------ */

struct mel {
    char m[12];
    size_t len;
    double score;
};

struct model {
    struct mel *a;
    size_t n;
};

static int mel_cmp(const void *x, const void *y)
{
    const struct mel *a = x, *b = y;

    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    return zset_memcmp(a->m, a->len, b->m, b->len);
}

static long model_find(const struct model *md, const char *m, size_t len)
{
    for (size_t i = 0; i < md->n; i++)
        if (md->a[i].len == len && memcmp(md->a[i].m, m, len) == 0)
            return (long)i;
    return -1;
}

static void model_del_at(struct model *md, size_t i)
{
    memmove(&md->a[i], &md->a[i + 1], (md->n - i - 1) * sizeof(md->a[0]));
    md->n--;
}

static void model_check(void *zs, const struct model *md)
{
    struct zset_it it;
    struct zset_elem e;
    size_t i = 0;

    assert_int_equal(zset_len(zs), md->n);
    zset_it_rank(&it, zs, 0, 0);
    while (zset_it_next(&it, &e)) {
        assert_true(i < md->n);
        assert_int_equal(e.len, md->a[i].len);
        assert_memory_equal(e.m, md->a[i].m, e.len);
        assert_true(e.score == md->a[i].score);
        i++;
    }
    assert_int_equal(i, md->n);
}

static void random_member(struct util_rng *rng, char *m, size_t *len)
{
    uint64_t r = util_rng_next(rng);
    unsigned k = (unsigned)(r % 300);

    switch ((r >> 20) % 4) {
    case 0: /* integer-looking (stored as ints in a listpack) */
        *len = (size_t)snprintf(m, 12, "%d", (int)k - 150);
        break;
    case 1: /* leading zero: a string */
        *len = (size_t)snprintf(m, 12, "0%u", k);
        break;
    default:
        *len = (size_t)snprintf(m, 12, "m%u", k);
        break;
    }
}

static double random_score(struct util_rng *rng)
{
    uint64_t r = util_rng_next(rng);

    switch (r % 10) {
    case 0:
        return (double)((int)(r >> 8) % 5); /* many ties */
    case 1:
        return ((r >> 8) & 1) ? INFINITY : -INFINITY;
    case 2:
        return (double)((int64_t)(r >> 8) % 100000) / 7.0;
    default:
        return (double)((int)((r >> 8) % 200) - 100);
    }
}

/* Random adds (all flag combinations), increments, deletes, range deletes,
 * rank and range queries against a sorted array, with limits small enough
 * that the set goes through both encodings and back (via shrink). */
static void run_model(uint64_t seed, const struct type_limits *lim, int steps)
{
    struct util_rng rng;
    struct model md = { calloc(1000, sizeof(struct mel)), 0 };
    void *zs = zset_create(0, 0, lim);
    int conversions = 0, was_lp = 1;

    util_rng_seed(&rng, seed);
    for (int step = 0; step < steps; step++) {
        char m[12];
        size_t len;
        uint64_t op = util_rng_next(&rng) % 100;

        random_member(&rng, m, &len);
        if (op < 45) {
            static const int flagsets[] = { 0, ZSET_IN_NX, ZSET_IN_XX, ZSET_IN_GT, ZSET_IN_LT, ZSET_IN_INCR,
                                            ZSET_IN_INCR | ZSET_IN_XX, ZSET_IN_INCR | ZSET_IN_GT };
            int flags = flagsets[util_rng_next(&rng) % 8], out;
            double score = random_score(&rng), ns = 0, want = score;
            long i = model_find(&md, m, len);
            int rc = zset_add(&zs, lim, score, m, len, flags, &out, &ns);

            if (i >= 0) {
                double cur = md.a[i].score;
                int nop = 0;

                if (flags & ZSET_IN_NX)
                    nop = 1;
                if (!nop && (flags & ZSET_IN_INCR)) {
                    want = cur + score;
                    if (isnan(want)) {
                        assert_int_equal(rc, ST_EINVAL);
                        assert_int_equal(out, ZSET_OUT_NAN);
                        continue;
                    }
                }
                if (!nop && (((flags & ZSET_IN_GT) && want <= cur) || ((flags & ZSET_IN_LT) && want >= cur)))
                    nop = 1;
                assert_int_equal(rc, ST_OK);
                if (nop) {
                    assert_int_equal(out, ZSET_OUT_NOP);
                } else {
                    assert_true(ns == want);
                    assert_int_equal(out, want != cur ? ZSET_OUT_UPDATED : 0);
                    md.a[i].score = want;
                    qsort(md.a, md.n, sizeof(md.a[0]), mel_cmp);
                }
            } else if (flags & ZSET_IN_XX) {
                assert_int_equal(rc, ST_OK);
                assert_int_equal(out, ZSET_OUT_NOP);
            } else {
                assert_int_equal(rc, ST_OK);
                assert_int_equal(out, ZSET_OUT_ADDED);
                memcpy(md.a[md.n].m, m, len);
                md.a[md.n].len = len;
                md.a[md.n].score = score;
                md.n++;
                qsort(md.a, md.n, sizeof(md.a[0]), mel_cmp);
            }
        } else if (op < 60) {
            long i = model_find(&md, m, len);

            assert_int_equal(zset_del(&zs, m, len), i >= 0);
            if (i >= 0)
                model_del_at(&md, (size_t)i);
        } else if (op < 75) {
            long i = model_find(&md, m, len);
            double s = -1;
            int rev = (int)(util_rng_next(&rng) & 1);
            int64_t r = zset_rank(zs, m, len, rev, &s);

            if (i < 0) {
                assert_int_equal(r, -1);
            } else {
                assert_int_equal(r, rev ? (long)md.n - 1 - i : i);
                assert_true(s == md.a[i].score);
            }
        } else if (op < 80 && md.n) {
            uint64_t a = util_rng_next(&rng) % md.n, b = a + util_rng_next(&rng) % 4;

            if (b >= md.n)
                b = md.n - 1;
            assert_int_equal(zset_del_rank(&zs, a, b), b - a + 1);
            for (uint64_t k = a; k <= b; k++)
                model_del_at(&md, (size_t)a);
        } else if (op < 85) {
            struct zset_srange r;
            double x = random_score(&rng), y = x + (double)(util_rng_next(&rng) % 20);
            uint64_t want = 0, cnt;

            r.min = x;
            r.max = y;
            r.minex = (int)(util_rng_next(&rng) & 1);
            r.maxex = (int)(util_rng_next(&rng) & 1);
            for (size_t k = 0; k < md.n; k++)
                want += zset_score_gte_min(md.a[k].score, &r) && zset_score_lte_max(md.a[k].score, &r);
            cnt = zset_count_score(zs, &r);
            assert_int_equal(cnt, want);
            if (util_rng_next(&rng) % 4 == 0) {
                assert_int_equal(zset_del_score(&zs, &r), want);
                for (size_t k = 0; k < md.n;)
                    if (zset_score_gte_min(md.a[k].score, &r) && zset_score_lte_max(md.a[k].score, &r))
                        model_del_at(&md, k);
                    else
                        k++;
            } else {
                /* iterate both ways and compare with the model's slice */
                struct zset_it it;
                struct zset_elem e;
                size_t first = 0, got = 0;
                int rev = (int)(util_rng_next(&rng) & 1);

                while (first < md.n && !zset_score_gte_min(md.a[first].score, &r))
                    first++;
                zset_it_score(&it, zs, &r, rev);
                while (zset_it_next(&it, &e)) {
                    if (rev ? !zset_score_gte_min(e.score, &r) : !zset_score_lte_max(e.score, &r))
                        break;
                    size_t k = rev ? first + want - 1 - got : first + got;
                    assert_true(got < want);
                    assert_true(e.len == md.a[k].len && memcmp(e.m, md.a[k].m, e.len) == 0);
                    got++;
                }
                assert_int_equal(got, want);
            }
        } else if (op < 90) {
            /* lex ranges over equal scores are what Redis defines; the
             * functions must still be consistent with a memcmp model */
            struct zset_lrange r;
            char lo[12], hi[12];
            size_t lolen, hilen;
            uint64_t want = 0;

            random_member(&rng, lo, &lolen);
            random_member(&rng, hi, &hilen);
            r.min = (const unsigned char *)lo;
            r.minlen = lolen;
            r.max = (const unsigned char *)hi;
            r.maxlen = hilen;
            r.minex = (int)(util_rng_next(&rng) & 1);
            r.maxex = (int)(util_rng_next(&rng) & 1);
            r.mininf = util_rng_next(&rng) % 8 == 0 ? -1 : 0;
            r.maxinf = util_rng_next(&rng) % 8 == 0 ? 1 : 0;
            if (zset_lrange_empty(&r)) {
                assert_int_equal(zset_count_lex(zs, &r), 0);
                continue;
            }
            /* only meaningful when every score is equal: build such a set */
            void *lz = zset_create(0, 0, lim);
            for (size_t k = 0; k < md.n; k++) {
                int out;
                assert_int_equal(zset_add(&lz, lim, 0, md.a[k].m, md.a[k].len, 0, &out, NULL), ST_OK);
                want += zset_lex_gte_min(md.a[k].m, md.a[k].len, &r) &&
                        zset_lex_lte_max(md.a[k].m, md.a[k].len, &r);
            }
            assert_int_equal(zset_count_lex(lz, &r), want);
            assert_int_equal(zset_del_lex(&lz, &r), want);
            assert_int_equal(zset_len(lz), md.n - want);
            zset_destroy(lz);
        } else if (op < 93) {
            assert_int_equal(zset_shrink_if_fits(&zs, lim), ST_OK);
        } else if (md.n) {
            /* rank access */
            uint64_t k = util_rng_next(&rng) % md.n;
            struct zset_elem e;

            assert_int_equal(zset_at(zs, k, &e), ST_OK);
            assert_true(e.len == md.a[k].len && memcmp(e.m, md.a[k].m, e.len) == 0);
        }
        if (zset_is_lp(zs) != was_lp) {
            conversions++;
            was_lp = zset_is_lp(zs);
        }
        if (step % 16 == 0)
            model_check(zs, &md);
    }
    model_check(zs, &md);
    assert_true(conversions >= 1);
    zset_destroy(zs);
    free(md.a);
}

static void test_model_small_limits(void **state)
{
    struct type_limits lim = deflim;

    (void)state;
    lim.zset_max_lp_entries = 24;
    for (uint64_t seed = 1; seed <= 6; seed++)
        run_model(seed, &lim, 4000);
}

static void test_model_default_limits(void **state)
{
    (void)state;
    run_model(99, &deflim, 20000);
}

/* A skiplist of many members: ranks by both ways agree with positions. */
static void test_skiplist_ranks_many(void **state)
{
    void *zs = zset_create(1000, 0, &deflim);
    struct util_rng rng;
    int n = 5000;

    (void)state;
    util_rng_seed(&rng, 3);
    for (int i = 0; i < n; i++) {
        char m[16];
        snprintf(m, sizeof(m), "r%05d", i);
        add(&zs, &deflim, (double)(util_rng_next(&rng) % 1000), m);
    }
    assert_int_equal(zset_len(zs), n);
    struct zset_it it;
    struct zset_elem e;
    int64_t pos = 0;
    zset_it_rank(&it, zs, 0, 0);
    while (zset_it_next(&it, &e)) {
        assert_int_equal(zset_rank(zs, e.m, e.len, 0, NULL), pos);
        assert_int_equal(zset_rank(zs, e.m, e.len, 1, NULL), n - 1 - pos);
        if (pos % 97 == 0) {
            struct zset_elem f;
            assert_int_equal(zset_at(zs, (uint64_t)pos, &f), ST_OK);
            assert_true(f.len == e.len && memcmp(f.m, e.m, e.len) == 0);
        }
        pos++;
    }
    assert_int_equal(pos, n);
    zset_destroy(zs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_listpack),
        cmocka_unit_test(test_basic_skiplist),
        cmocka_unit_test(test_integer_like_members_listpack),
        cmocka_unit_test(test_integer_like_members_skiplist),
        cmocka_unit_test(test_listpack_scores_round_trip),
        cmocka_unit_test(test_score_text_as_redis_d2string),
        cmocka_unit_test(test_converts_past_entries_limit),
        cmocka_unit_test(test_converts_past_value_limit),
        cmocka_unit_test(test_create_picks_encoding_from_hints),
        cmocka_unit_test(test_zero_entries_limit_means_always_skiplist),
        cmocka_unit_test(test_shrink_and_from_dict),
        cmocka_unit_test(test_dup_and_mem),
        cmocka_unit_test(test_score_ranges_listpack),
        cmocka_unit_test(test_score_ranges_skiplist),
        cmocka_unit_test(test_lex_ranges_listpack),
        cmocka_unit_test(test_lex_ranges_skiplist),
        cmocka_unit_test(test_rank_ranges_listpack),
        cmocka_unit_test(test_rank_ranges_skiplist),
        cmocka_unit_test(test_parse_score_bounds_as_redis),
        cmocka_unit_test(test_parse_lex_bounds_as_redis),
        cmocka_unit_test(test_random_and_scan),
        cmocka_unit_test(test_scan_visits_everything),
        cmocka_unit_test(test_model_small_limits),
        cmocka_unit_test(test_model_default_limits),
        cmocka_unit_test(test_skiplist_ranks_many),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
