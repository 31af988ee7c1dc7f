/*
 * test_t_set.c -- unit tests for engine/t_set.c: each encoding (intset,
 * listpack, hashtable), every conversion between them at the configured
 * thresholds (Redis 7.2's rules), iteration, SSCAN, random members with and
 * without repeats under each of Redis's strategies, pops, set algebra,
 * allocation failures (members unchanged, nothing emitted: t_set.c
 * invariant 5), and a random-operation run against a simple model.
 *
 * Allocation failures are injected by interposing malloc, calloc and
 * realloc in this executable (as test_dict.c and test_t_hash.c do).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dlfcn.h>

#include "engine/err.h"
#include "engine/t_set.h"
#include "engine/util.h"

#define SEED 0x1234abcdull

/* ---- allocation failure injection ------------------------------------- */

static int armed;
static long fail_skip, fail_n, allocs;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int resolving;
static unsigned char boot_buf[4096];
static size_t boot_used;

/* dlsym may allocate before the real functions are known. */
static void *boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (boot_used + n > sizeof(boot_buf))
        return NULL;
    void *p = boot_buf + boot_used;
    boot_used += n;
    return p;
}

static void resolve(void)
{
    if (real_malloc && real_calloc && real_realloc)
        return;
    resolving = 1;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    resolving = 0;
}

static int should_fail(void)
{
    if (!armed)
        return 0;
    allocs++;
    if (fail_skip > 0) {
        fail_skip--;
        return 0;
    }
    if (fail_n == 0)
        return 0;
    fail_n--;
    return 1;
}

void *malloc(size_t n);
void *calloc(size_t n, size_t sz);
void *realloc(void *p, size_t n);

void *malloc(size_t n)
{
    if (resolving)
        return boot_alloc(n);
    resolve();
    return should_fail() ? NULL : real_malloc(n);
}

void *calloc(size_t n, size_t sz)
{
    if (resolving) {
        void *p = boot_alloc(n * sz);
        if (p)
            memset(p, 0, n * sz);
        return p;
    }
    resolve();
    return should_fail() ? NULL : real_calloc(n, sz);
}

void *realloc(void *p, size_t n)
{
    resolve();
    return should_fail() ? NULL : real_realloc(p, n);
}

/* Fails the allocation after `skip` successful ones (just that one). */
static void arm(long skip)
{
    allocs = 0;
    fail_skip = skip;
    fail_n = 1;
    armed = 1;
}

/* Stops injecting; returns 1 when the armed failure happened. */
static int disarm(void)
{
    armed = 0;
    return fail_n == 0;
}

static struct type_limits deflim(void)
{
    struct type_limits l = TYPE_LIMITS_DEFAULT;

    return l;
}

/* Small thresholds so conversions happen after a few members. */
static struct type_limits smalllim(void)
{
    struct type_limits l = TYPE_LIMITS_DEFAULT;

    l.set_max_intset_entries = 8;
    l.set_max_lp_entries = 6;
    l.set_max_lp_value = 10;
    return l;
}

static int add(struct set **s, const char *m, const struct type_limits *l)
{
    return set_add(s, m, strlen(m), l, SEED);
}

static int has(struct set *s, const char *m)
{
    return set_contains(s, m, strlen(m));
}

static int rem(struct set **s, const char *m)
{
    return set_remove(s, m, strlen(m));
}

static void add_ints(struct set **s, int from, int to, const struct type_limits *l)
{
    for (int i = from; i <= to; i++) {
        char b[32];

        snprintf(b, sizeof(b), "%d", i);
        assert_int_equal(add(s, b, l), 1);
    }
}

/* ---- a member collector used as set_emit_fn ---- */

struct bag {
    char **v;
    size_t n, cap;
    size_t stop_after; /* 0: never stop */
};

static int bag_emit(const struct set_member *m, void *ud)
{
    struct bag *b = ud;
    unsigned char buf[UTIL_LLSTR_SIZE];
    size_t len;
    const unsigned char *p = set_member_str(m, buf, &len);

    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->v = realloc(b->v, b->cap * sizeof(*b->v));
        assert_non_null(b->v);
    }
    b->v[b->n] = malloc(len + 1);
    assert_non_null(b->v[b->n]);
    memcpy(b->v[b->n], p, len);
    b->v[b->n][len] = '\0';
    b->n++;
    return b->stop_after && b->n >= b->stop_after;
}

static void bag_free(struct bag *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->v[i]);
    free(b->v);
    memset(b, 0, sizeof(*b));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Asserts the bag holds distinct members. */
static void bag_expect_distinct(struct bag *b)
{
    qsort(b->v, b->n, sizeof(*b->v), cmp_str);
    for (size_t i = 1; i < b->n; i++)
        assert_true(strcmp(b->v[i - 1], b->v[i]) != 0);
}

/* Every member of s, sorted, in a bag. */
static void members(struct set *s, struct bag *b)
{
    struct set_it it;
    const unsigned char *m;
    size_t len;
    unsigned char buf[UTIL_LLSTR_SIZE];

    memset(b, 0, sizeof(*b));
    set_it_init(&it, s);
    while (set_it_next(&it, &m, &len, buf)) {
        struct set_member sm = { m, len, 0 };

        bag_emit(&sm, b);
    }
    set_it_done(&it);
    qsort(b->v, b->n, sizeof(*b->v), cmp_str);
}

/* Asserts s holds exactly the members want[0..n) (any order). */
static void expect_members(struct set *s, const char *const *want, size_t n)
{
    struct bag b;
    char **w = malloc(sizeof(*w) * (n ? n : 1));

    assert_int_equal(set_len(s), n);
    members(s, &b);
    assert_int_equal(b.n, n);
    for (size_t i = 0; i < n; i++)
        w[i] = (char *)want[i];
    qsort(w, n, sizeof(*w), cmp_str);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(b.v[i], w[i]);
    free(w);
    bag_free(&b);
}

/* ------------------------------------------------------------------------ */
/* Creation and encodings                                                   */
/* ------------------------------------------------------------------------ */

static void test_create_for_picks_encoding_like_set_type_create(void **state)
{
    struct type_limits l = deflim();
    struct set *s;

    (void)state;
    s = set_create_for("12", 2, 1, &l, SEED);
    assert_int_equal(set_encoding(s), SET_ENC_INTSET);
    assert_string_equal(set_encoding_name(s), "intset");
    set_destroy(s);
    s = set_create_for("12", 2, 512, &l, SEED);
    assert_int_equal(set_encoding(s), SET_ENC_INTSET);
    set_destroy(s);
    /* an integer but too many arguments for an intset: not a listpack
     * either (513 > 128), a hashtable */
    s = set_create_for("12", 2, 513, &l, SEED);
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    set_destroy(s);
    s = set_create_for("a", 1, 128, &l, SEED);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    assert_string_equal(set_encoding_name(s), "listpack");
    set_destroy(s);
    s = set_create_for("a", 1, 129, &l, SEED);
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    assert_string_equal(set_encoding_name(s), "hashtable");
    set_destroy(s);
    /* not canonical integers */
    s = set_create_for("012", 3, 1, &l, SEED);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    set_destroy(s);
    s = set_create_for("+1", 2, 1, &l, SEED);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    set_destroy(s);
    set_destroy(NULL);
}

static void test_ops_table(void **state)
{
    struct type_limits l = deflim();
    struct set *s = set_create(SET_ENC_INTSET, SEED);

    (void)state;
    assert_string_equal(set_obj_ops.name, "set");
    add_ints(&s, 1, 3, &l);
    assert_string_equal(set_obj_ops.encoding(s), "intset");
    assert_true(set_obj_ops.mem(s) >= 8);
    struct set *d = set_obj_ops.dup(s);
    assert_non_null(d);
    assert_int_equal(set_len(d), 3);
    set_obj_ops.free(d);
    set_obj_ops.free(s);
}

/* ------------------------------------------------------------------------ */
/* Each encoding                                                            */
/* ------------------------------------------------------------------------ */

static void test_intset_add_remove_contains(void **state)
{
    struct type_limits l = deflim();
    struct set *s = set_create(SET_ENC_INTSET, SEED);

    (void)state;
    assert_int_equal(add(&s, "5", &l), 1);
    assert_int_equal(add(&s, "-3", &l), 1);
    assert_int_equal(add(&s, "5", &l), 0);
    assert_int_equal(add(&s, "9223372036854775807", &l), 1);
    assert_int_equal(add(&s, "-9223372036854775808", &l), 1);
    assert_int_equal(set_encoding(s), SET_ENC_INTSET);
    assert_int_equal(set_len(s), 4);
    assert_true(has(s, "5"));
    assert_true(has(s, "-9223372036854775808"));
    assert_false(has(s, "05"));
    assert_false(has(s, "6"));
    assert_false(has(s, "abc"));
    assert_int_equal(rem(&s, "abc"), 0);
    assert_int_equal(rem(&s, "6"), 0);
    assert_int_equal(rem(&s, "5"), 1);
    assert_int_equal(rem(&s, "5"), 0);
    static const char *const want[] = { "-3", "9223372036854775807", "-9223372036854775808" };
    expect_members(s, want, 3);
    assert_int_equal(set_encoding(s), SET_ENC_INTSET);
    set_destroy(s);
}

static void test_listpack_add_remove_contains(void **state)
{
    struct type_limits l = deflim();
    struct set *s = set_create(SET_ENC_LISTPACK, SEED);

    (void)state;
    assert_int_equal(add(&s, "a", &l), 1);
    assert_int_equal(add(&s, "10", &l), 1);
    assert_int_equal(add(&s, "010", &l), 1); /* distinct from 10 */
    assert_int_equal(add(&s, "10", &l), 0);
    assert_int_equal(add(&s, "a", &l), 0);
    assert_int_equal(set_add(&s, "", 0, &l, SEED), 1);
    assert_int_equal(set_add(&s, "", 0, &l, SEED), 0);
    assert_int_equal(set_add(&s, "x\0y", 3, &l, SEED), 1);
    assert_true(set_contains(s, "x\0y", 3));
    assert_false(set_contains(s, "x", 1));
    assert_int_equal(set_len(s), 5);
    assert_true(has(s, "10"));
    assert_true(has(s, "010"));
    assert_false(has(s, "0010"));
    assert_int_equal(rem(&s, "10"), 1);
    assert_true(has(s, "010"));
    assert_false(has(s, "10"));
    assert_int_equal(set_remove(&s, "", 0), 1);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    assert_int_equal(set_len(s), 3);
    set_destroy(s);
}

static void test_hashtable_add_remove_contains(void **state)
{
    struct type_limits l = deflim();
    struct set *s = set_create(SET_ENC_HT, SEED);

    (void)state;
    for (int i = 0; i < 1000; i++) {
        char b[32];

        snprintf(b, sizeof(b), "m%d", i);
        assert_int_equal(add(&s, b, &l), 1);
        assert_int_equal(add(&s, b, &l), 0);
    }
    assert_int_equal(add(&s, "7", &l), 1);
    assert_int_equal(add(&s, "07", &l), 1);
    assert_int_equal(set_len(s), 1002);
    struct set_member m7 = { NULL, 0, 7 };
    assert_true(set_contains_member(s, &m7));
    for (int i = 0; i < 1000; i += 2) {
        char b[32];

        snprintf(b, sizeof(b), "m%d", i);
        assert_int_equal(rem(&s, b), 1);
    }
    assert_int_equal(set_len(s), 502);
    assert_false(has(s, "m0"));
    assert_true(has(s, "m1"));
    assert_int_equal(set_encoding(s), SET_ENC_HT); /* never shrinks back */
    set_destroy(s);
}

static void test_contains_member_across_encodings(void **state)
{
    struct type_limits l = deflim();
    struct set *is = set_create(SET_ENC_INTSET, SEED);
    struct set *lp = set_create(SET_ENC_LISTPACK, SEED);
    struct set *ht = set_create(SET_ENC_HT, SEED);
    struct set_member i42 = { NULL, 0, 42 }, s42 = { (const unsigned char *)"42", 2, 0 };
    struct set_member s042 = { (const unsigned char *)"042", 3, 0 };

    (void)state;
    add(&is, "42", &l);
    add(&lp, "42", &l);
    add(&ht, "42", &l);
    struct set *all[] = { is, lp, ht };
    for (int i = 0; i < 3; i++) {
        assert_true(set_contains_member(all[i], &i42));
        assert_true(set_contains_member(all[i], &s42));
        assert_false(set_contains_member(all[i], &s042));
    }
    set_destroy(is);
    set_destroy(lp);
    set_destroy(ht);
}

/* ------------------------------------------------------------------------ */
/* Conversions                                                              */
/* ------------------------------------------------------------------------ */

static void test_intset_to_hashtable_past_intset_limit(void **state)
{
    struct type_limits l = smalllim(); /* intset 8 */
    struct set *s = set_create(SET_ENC_INTSET, SEED);

    (void)state;
    add_ints(&s, 1, 8, &l);
    assert_int_equal(set_encoding(s), SET_ENC_INTSET);
    assert_int_equal(add(&s, "3", &l), 0); /* a duplicate does not convert */
    assert_int_equal(set_encoding(s), SET_ENC_INTSET);
    assert_int_equal(add(&s, "9", &l), 1);
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    static const char *const want[] = { "1", "2", "3", "4", "5", "6", "7", "8", "9" };
    expect_members(s, want, 9);
    set_destroy(s);

    /* with a listpack limit above the intset one: still a hashtable (7.2) */
    l.set_max_lp_entries = 100;
    s = set_create(SET_ENC_INTSET, SEED);
    add_ints(&s, 1, 9, &l);
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    set_destroy(s);
}

static void test_intset_to_listpack_on_string(void **state)
{
    struct type_limits l = smalllim(); /* lp 6 entries, 10 bytes */
    struct set *s = set_create(SET_ENC_INTSET, SEED);

    (void)state;
    add_ints(&s, 1, 5, &l);
    assert_int_equal(add(&s, "abc", &l), 1);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    static const char *const want[] = { "1", "2", "3", "4", "5", "abc" };
    expect_members(s, want, 6);
    /* integers stay integers inside the listpack */
    assert_int_equal(add(&s, "3", &l), 0);
    set_destroy(s);

    /* an empty intset takes a string as a listpack too */
    s = set_create(SET_ENC_INTSET, SEED);
    assert_int_equal(add(&s, "x", &l), 1);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    set_destroy(s);
}

static void test_intset_to_hashtable_on_string_that_does_not_fit(void **state)
{
    struct type_limits l = smalllim();
    struct set *s;

    (void)state;
    /* 6 ints: a 7th member would exceed listpack entries (6) */
    s = set_create(SET_ENC_INTSET, SEED);
    add_ints(&s, 1, 6, &l);
    assert_int_equal(add(&s, "abc", &l), 1);
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    assert_int_equal(set_len(s), 7);
    set_destroy(s);

    /* the string is longer than set-max-listpack-value */
    s = set_create(SET_ENC_INTSET, SEED);
    add_ints(&s, 1, 2, &l);
    assert_int_equal(add(&s, "abcdefghijk", &l), 1); /* 11 > 10 */
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    set_destroy(s);

    /* the string fits, but an integer's text (11 chars) does not */
    s = set_create(SET_ENC_INTSET, SEED);
    assert_int_equal(add(&s, "-1000000000", &l), 1);
    assert_int_equal(add(&s, "a", &l), 1);
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    assert_true(has(s, "-1000000000"));
    set_destroy(s);

    /* exactly at the value limit: listpack */
    s = set_create(SET_ENC_INTSET, SEED);
    assert_int_equal(add(&s, "1000000000", &l), 1); /* 10 chars */
    assert_int_equal(add(&s, "abcdefghij", &l), 1);  /* 10 bytes */
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    set_destroy(s);
}

static void test_listpack_to_hashtable_past_entries(void **state)
{
    struct type_limits l = smalllim();
    struct set *s = set_create(SET_ENC_LISTPACK, SEED);
    const char *m[] = { "a", "b", "c", "d", "e", "f", "g" };

    (void)state;
    for (int i = 0; i < 6; i++)
        assert_int_equal(add(&s, m[i], &l), 1);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    assert_int_equal(add(&s, "a", &l), 0);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    assert_int_equal(add(&s, "g", &l), 1);
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    expect_members(s, m, 7);
    set_destroy(s);
}

static void test_listpack_to_hashtable_past_value(void **state)
{
    struct type_limits l = smalllim();
    struct set *s = set_create(SET_ENC_LISTPACK, SEED);

    (void)state;
    assert_int_equal(add(&s, "short", &l), 1);
    assert_int_equal(add(&s, "12", &l), 1);
    assert_int_equal(add(&s, "abcdefghij", &l), 1);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    assert_int_equal(add(&s, "abcdefghijk", &l), 1);
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    static const char *const want[] = { "short", "12", "abcdefghij", "abcdefghijk" };
    expect_members(s, want, 4);
    /* the integer, stored as an int in the listpack, is text now */
    assert_true(has(s, "12"));
    set_destroy(s);
}

static void test_maybe_convert_by_size_hint(void **state)
{
    struct type_limits l = smalllim();
    struct set *s = set_create(SET_ENC_LISTPACK, SEED);

    (void)state;
    add(&s, "a", &l);
    assert_int_equal(set_maybe_convert(&s, 6, &l, SEED), 0);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    assert_int_equal(set_maybe_convert(&s, 7, &l, SEED), 0);
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    assert_true(has(s, "a"));
    set_destroy(s);

    s = set_create(SET_ENC_INTSET, SEED);
    add(&s, "1", &l);
    assert_int_equal(set_maybe_convert(&s, 8, &l, SEED), 0);
    assert_int_equal(set_encoding(s), SET_ENC_INTSET);
    assert_int_equal(set_maybe_convert(&s, 9, &l, SEED), 0);
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    assert_true(has(s, "1"));
    set_destroy(s);
}

static void test_dup_each_encoding_is_deep(void **state)
{
    struct type_limits l = deflim();
    enum set_enc encs[] = { SET_ENC_INTSET, SET_ENC_LISTPACK, SET_ENC_HT };

    (void)state;
    for (int e = 0; e < 3; e++) {
        struct set *s = set_create(encs[e], SEED);

        add_ints(&s, 1, 20, &l);
        if (encs[e] != SET_ENC_INTSET)
            add(&s, "str", &l);
        assert_int_equal(set_encoding(s), encs[e]);
        struct set *d = set_dup(s);
        assert_non_null(d);
        assert_int_equal(set_encoding(d), encs[e]);
        assert_int_equal(set_len(d), set_len(s));
        rem(&s, "1");
        assert_true(has(d, "1"));
        assert_false(has(s, "1"));
        add(&d, "999", &l);
        assert_false(has(s, "999"));
        set_destroy(s);
        set_destroy(d);
    }
}

/* ------------------------------------------------------------------------ */
/* Iteration and scan                                                       */
/* ------------------------------------------------------------------------ */

static void test_iteration_visits_each_member_once(void **state)
{
    struct type_limits l = deflim();
    enum set_enc encs[] = { SET_ENC_INTSET, SET_ENC_LISTPACK, SET_ENC_HT };

    (void)state;
    for (int e = 0; e < 3; e++) {
        struct set *s = set_create(encs[e], SEED);
        struct bag b;

        add_ints(&s, -50, 49, &l);
        members(s, &b);
        assert_int_equal(b.n, 100);
        bag_expect_distinct(&b);
        for (size_t i = 0; i < b.n; i++)
            assert_true(has(s, b.v[i]));
        bag_free(&b);
        set_destroy(s);
    }
    /* an empty set */
    struct set *s = set_create(SET_ENC_LISTPACK, SEED);
    struct set_it it;
    struct set_member m;
    set_it_init(&it, s);
    assert_int_equal(set_it_next_member(&it, &m), 0);
    set_it_done(&it);
    set_destroy(s);
}

static void test_scan_compact_returns_all_with_cursor_zero(void **state)
{
    struct type_limits l = deflim();
    struct set *s = set_create(SET_ENC_INTSET, SEED);
    struct bag b = { 0 };

    (void)state;
    add_ints(&s, 1, 300, &l);
    assert_int_equal(set_scan(s, 12345, 1, bag_emit, &b), 0);
    assert_int_equal(b.n, 300);
    bag_free(&b);
    set_destroy(s);

    s = set_create(SET_ENC_LISTPACK, SEED);
    add(&s, "a", &l);
    add(&s, "b", &l);
    assert_int_equal(set_scan(s, 0, 1, bag_emit, &b), 0);
    assert_int_equal(b.n, 2);
    bag_free(&b);
    set_destroy(s);
}

static void test_scan_hashtable_covers_every_member(void **state)
{
    struct type_limits l = deflim();
    struct set *s = set_create(SET_ENC_HT, SEED);
    struct bag b = { 0 };
    uint64_t cursor = 0;
    int calls = 0;

    (void)state;
    add_ints(&s, 1, 5000, &l);
    do {
        size_t before = b.n;

        cursor = set_scan(s, cursor, 10, bag_emit, &b);
        calls++;
        /* COUNT bounds the work: a call returns about count members */
        assert_true(b.n - before <= 200);
    } while (cursor != 0);
    assert_true(calls > 10);
    assert_int_equal(b.n, 5000); /* stable table: each exactly once */
    bag_expect_distinct(&b);
    bag_free(&b);
    set_destroy(s);
}

/* ------------------------------------------------------------------------ */
/* Random members                                                           */
/* ------------------------------------------------------------------------ */

/* A set of n members "0".."n-1" in encoding enc (strings "s<i>" when enc is
 * listpack or hashtable and strs). */
static struct set *make_set(enum set_enc enc, int n, int strs)
{
    struct type_limits l = deflim();
    struct set *s = set_create(enc, SEED);

    l.set_max_intset_entries = 100000;
    l.set_max_lp_entries = 100000;
    for (int i = 0; i < n; i++) {
        char b[32];

        snprintf(b, sizeof(b), strs ? "s%d" : "%d", i);
        assert_int_equal(add(&s, b, &l), 1);
    }
    assert_int_equal(set_encoding(s), enc);
    return s;
}

/* Index of member text in a make_set set. */
static int member_index(const char *m)
{
    return atoi(m[0] == 's' ? m + 1 : m);
}

static void test_random_member_is_member_each_encoding(void **state)
{
    enum set_enc encs[] = { SET_ENC_INTSET, SET_ENC_LISTPACK, SET_ENC_HT };
    struct util_rng rng;

    (void)state;
    util_rng_seed(&rng, 7);
    for (int e = 0; e < 3; e++) {
        struct set *s = make_set(encs[e], 10, encs[e] != SET_ENC_INTSET);
        int hits[10] = { 0 };

        for (int i = 0; i < 2000; i++) {
            struct set_member m;
            unsigned char buf[UTIL_LLSTR_SIZE];
            size_t len;
            const unsigned char *p;

            set_random(s, &rng, &m);
            p = set_member_str(&m, buf, &len);
            assert_true(set_contains(s, p, len));
            char t[32];
            memcpy(t, p, len);
            t[len] = '\0';
            hits[member_index(t)]++;
        }
        for (int i = 0; i < 10; i++)
            assert_true(hits[i] > 100); /* expected 200 */
        set_destroy(s);
    }
}

static void test_random_repeat_emits_count_members(void **state)
{
    enum set_enc encs[] = { SET_ENC_INTSET, SET_ENC_LISTPACK, SET_ENC_HT };
    struct util_rng rng;

    (void)state;
    util_rng_seed(&rng, 8);
    for (int e = 0; e < 3; e++) {
        struct set *s = make_set(encs[e], 5, encs[e] != SET_ENC_INTSET);
        struct bag b = { 0 };
        int hits[5] = { 0 };

        /* 2500 > the 1000-draw listpack batch */
        assert_int_equal(set_random_repeat(s, 2500, &rng, bag_emit, &b), 0);
        assert_int_equal(b.n, 2500);
        for (size_t i = 0; i < b.n; i++) {
            assert_true(has(s, b.v[i]));
            hits[member_index(b.v[i])]++;
        }
        for (int i = 0; i < 5; i++)
            assert_true(hits[i] > 350); /* expected 500 */
        bag_free(&b);
        /* the emit function can stop early */
        b.stop_after = 7;
        assert_int_equal(set_random_repeat(s, 100000, &rng, bag_emit, &b), 0);
        assert_int_equal(b.n, 7);
        bag_free(&b);
        /* a single-member set repeats it */
        set_destroy(s);
        s = make_set(encs[e], 1, encs[e] != SET_ENC_INTSET);
        assert_int_equal(set_random_repeat(s, 3, &rng, bag_emit, &b), 0);
        assert_int_equal(b.n, 3);
        assert_string_equal(b.v[0], b.v[2]);
        bag_free(&b);
        set_destroy(s);
    }
}

/* Draws `count` distinct members `trials` times and checks each result and
 * that every member is chosen about count/size of the time. */
static void check_distinct(enum set_enc enc, int size, int count, int trials, double lo, double hi)
{
    struct set *s = make_set(enc, size, enc != SET_ENC_INTSET);
    int *hits = calloc((size_t)size, sizeof(int));
    struct util_rng rng;

    util_rng_seed(&rng, (uint64_t)(size * 31 + count));
    for (int t = 0; t < trials; t++) {
        struct bag b = { 0 };

        assert_int_equal(set_random_distinct(s, (uint64_t)count, &rng, bag_emit, &b), 0);
        assert_int_equal(b.n, (size_t)count);
        for (size_t i = 0; i < b.n; i++) {
            assert_true(has(s, b.v[i]));
            hits[member_index(b.v[i])]++;
        }
        bag_expect_distinct(&b);
        bag_free(&b);
    }
    double expect = (double)trials * count / size;
    for (int i = 0; i < size; i++) {
        if (hits[i] < expect * lo || hits[i] > expect * hi)
            fail_msg("enc %d size %d count %d: member %d chosen %d times, expected about %.0f", enc, size, count,
                     i, hits[i], expect);
    }
    assert_int_equal(set_len(s), (uint64_t)size); /* nothing removed */
    free(hits);
    set_destroy(s);
}

static void test_random_distinct_each_strategy_is_uniform(void **state)
{
    (void)state;
    /* listpack: selection sampling */
    check_distinct(SET_ENC_LISTPACK, 20, 3, 3000, 0.7, 1.3);
    check_distinct(SET_ENC_LISTPACK, 20, 19, 500, 0.7, 1.3);
    /* intset and hashtable: count * 3 > size -> one pass */
    check_distinct(SET_ENC_INTSET, 30, 15, 1000, 0.7, 1.3);
    check_distinct(SET_ENC_HT, 30, 15, 1000, 0.7, 1.3);
    /* count * 3 <= size -> draws with a seen-table */
    check_distinct(SET_ENC_INTSET, 60, 5, 4000, 0.7, 1.3);
    check_distinct(SET_ENC_HT, 60, 5, 4000, 0.7, 1.3);
    /* a large draw: every member chosen (expected 18 times each), none
     * wildly often */
    check_distinct(SET_ENC_HT, 3000, 900, 60, 0.05, 3.0);
}

/* ------------------------------------------------------------------------ */
/* Pops                                                                     */
/* ------------------------------------------------------------------------ */

static void test_pop_one_each_encoding(void **state)
{
    enum set_enc encs[] = { SET_ENC_INTSET, SET_ENC_LISTPACK, SET_ENC_HT };
    struct util_rng rng;

    (void)state;
    util_rng_seed(&rng, 9);
    for (int e = 0; e < 3; e++) {
        struct set *s = make_set(encs[e], 50, encs[e] != SET_ENC_INTSET);
        struct bag b = { 0 };

        for (int i = 0; i < 50; i++) {
            set_pop(&s, &rng, bag_emit, &b);
            assert_int_equal(set_len(s), (uint64_t)(49 - i));
            assert_false(has(s, b.v[b.n - 1]));
        }
        assert_int_equal(b.n, 50);
        bag_expect_distinct(&b);
        assert_int_equal(set_encoding(s), encs[e]);
        bag_free(&b);
        set_destroy(s);
    }
}

/* Pops count of size members and checks: distinct, gone from the set, the
 * rest kept; returns the set for encoding checks. */
static struct set *check_pop_many(enum set_enc enc, int size, int count, int strs)
{
    struct type_limits l = deflim();
    struct set *s = make_set(enc, size, strs);
    struct util_rng rng;
    struct bag b = { 0 };

    util_rng_seed(&rng, (uint64_t)(size + count));
    assert_int_equal(set_pop_many(&s, (uint64_t)count, &rng, &l, SEED, bag_emit, &b), 0);
    assert_int_equal(b.n, (size_t)count);
    assert_int_equal(set_len(s), (uint64_t)(size - count));
    for (size_t i = 0; i < b.n; i++)
        assert_false(has(s, b.v[i]));
    bag_expect_distinct(&b);
    /* popped + kept = everything */
    struct bag k;
    members(s, &k);
    char *seen = calloc((size_t)size, 1);
    for (size_t i = 0; i < b.n; i++)
        seen[member_index(b.v[i])]++;
    for (size_t i = 0; i < k.n; i++)
        seen[member_index(k.v[i])]++;
    for (int i = 0; i < size; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
    bag_free(&k);
    bag_free(&b);
    return s;
}

static void test_pop_many_each_strategy(void **state)
{
    struct set *s;

    (void)state;
    /* listpack: one pass, stays a listpack (also all-int members) */
    s = check_pop_many(SET_ENC_LISTPACK, 100, 3, 1);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    set_destroy(s);
    s = check_pop_many(SET_ENC_LISTPACK, 100, 97, 1);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    set_destroy(s);
    s = check_pop_many(SET_ENC_LISTPACK, 10, 9, 0);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    set_destroy(s);
    /* CASE 2: remaining * 5 > count: pops one by one, encoding kept */
    s = check_pop_many(SET_ENC_HT, 600, 400, 0);
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    set_destroy(s);
    s = check_pop_many(SET_ENC_INTSET, 300, 200, 0);
    assert_int_equal(set_encoding(s), SET_ENC_INTSET);
    set_destroy(s);
    /* CASE 3: the kept members go to a new set of the smallest encoding */
    s = check_pop_many(SET_ENC_HT, 600, 590, 0);
    assert_int_equal(set_encoding(s), SET_ENC_INTSET);
    set_destroy(s);
    s = check_pop_many(SET_ENC_HT, 600, 590, 1);
    assert_int_equal(set_encoding(s), SET_ENC_LISTPACK);
    set_destroy(s);
    s = check_pop_many(SET_ENC_HT, 3000, 2500, 1); /* 500 kept > 128 */
    assert_int_equal(set_encoding(s), SET_ENC_HT);
    set_destroy(s);
    s = check_pop_many(SET_ENC_INTSET, 300, 290, 0);
    assert_int_equal(set_encoding(s), SET_ENC_INTSET);
    set_destroy(s);
}

/* ------------------------------------------------------------------------ */
/* Algebra                                                                  */
/* ------------------------------------------------------------------------ */

static struct set *from_list(const char *const *m, size_t n, const struct type_limits *l)
{
    struct set *s = set_create_for(m[0], strlen(m[0]), n, l, SEED);

    for (size_t i = 0; i < n; i++)
        add(&s, m[i], l);
    return s;
}

static void test_algebra_union_diff_inter(void **state)
{
    struct type_limits l = deflim();
    static const char *const a[] = { "1", "2", "3", "x", "y" };
    static const char *const b[] = { "2", "3", "4", "y", "z" };
    static const char *const c[] = { "3", "y", "q" };
    struct set *A = from_list(a, 5, &l), *B = from_list(b, 5, &l), *C = from_list(c, 3, &l);
    struct set *out;

    (void)state;
    struct set *ab[] = { A, B };
    assert_int_equal(set_algebra(ab, 2, SET_OP_UNION, &l, SEED, &out), 0);
    static const char *const u[] = { "1", "2", "3", "4", "x", "y", "z" };
    expect_members(out, u, 7);
    set_destroy(out);

    assert_int_equal(set_algebra(ab, 2, SET_OP_DIFF, &l, SEED, &out), 0);
    static const char *const d[] = { "1", "x" };
    expect_members(out, d, 2);
    set_destroy(out);

    struct set *abc[] = { A, B, C };
    assert_int_equal(set_algebra(abc, 3, SET_OP_INTER, &l, SEED, &out), 0);
    static const char *const in[] = { "3", "y" };
    expect_members(out, in, 2);
    set_destroy(out);

    /* a missing key (NULL) is an empty set */
    struct set *anb[] = { A, NULL, B };
    assert_int_equal(set_algebra(anb, 3, SET_OP_INTER, &l, SEED, &out), 0);
    assert_int_equal(set_len(out), 0);
    set_destroy(out);
    assert_int_equal(set_algebra(anb, 3, SET_OP_UNION, &l, SEED, &out), 0);
    assert_int_equal(set_len(out), 7);
    set_destroy(out);
    assert_int_equal(set_algebra(anb, 3, SET_OP_DIFF, &l, SEED, &out), 0);
    expect_members(out, d, 2);
    set_destroy(out);
    struct set *na[] = { NULL, A };
    assert_int_equal(set_algebra(na, 2, SET_OP_DIFF, &l, SEED, &out), 0);
    assert_int_equal(set_len(out), 0);
    set_destroy(out);

    /* the same set twice */
    struct set *aa[] = { A, A };
    assert_int_equal(set_algebra(aa, 2, SET_OP_DIFF, &l, SEED, &out), 0);
    assert_int_equal(set_len(out), 0);
    set_destroy(out);
    assert_int_equal(set_algebra(aa, 2, SET_OP_INTER, &l, SEED, &out), 0);
    expect_members(out, a, 5);
    set_destroy(out);

    /* one set */
    assert_int_equal(set_algebra(&A, 1, SET_OP_DIFF, &l, SEED, &out), 0);
    expect_members(out, a, 5);
    set_destroy(out);

    set_destroy(A);
    set_destroy(B);
    set_destroy(C);
}

static void test_algebra_diff_both_algorithms(void **state)
{
    struct type_limits l = deflim();
    struct set *big = make_set(SET_ENC_HT, 2000, 0);
    struct set *small = make_set(SET_ENC_INTSET, 10, 0);
    struct set *out;

    (void)state;
    /* small - big: algorithm 1 (work 10*2/2 <= 2010) */
    struct set *sb[] = { small, big };
    assert_int_equal(set_algebra(sb, 2, SET_OP_DIFF, &l, SEED, &out), 0);
    assert_int_equal(set_len(out), 0);
    set_destroy(out);
    /* big - small - small: algorithm 2 (2000*3/2 > 2020) */
    struct set *bss[] = { big, small, small };
    assert_int_equal(set_algebra(bss, 3, SET_OP_DIFF, &l, SEED, &out), 0);
    assert_int_equal(set_len(out), 1990);
    assert_false(has(out, "9"));
    assert_true(has(out, "10"));
    assert_int_equal(set_encoding(out), SET_ENC_HT);
    set_destroy(out);
    /* big - big2 where nothing is left: algorithm 2 stops at empty */
    struct set *big2 = set_dup(big);
    struct set *bb[] = { big, big2, small };
    assert_int_equal(set_algebra(bb, 3, SET_OP_DIFF, &l, SEED, &out), 0);
    assert_int_equal(set_len(out), 0);
    set_destroy(out);
    set_destroy(big2);
    set_destroy(big);
    set_destroy(small);
}

static void test_algebra_result_encoding_is_smallest_fit(void **state)
{
    struct type_limits l = deflim();
    struct set *ht = make_set(SET_ENC_HT, 200, 0); /* 200 ints in a hashtable */
    struct set *lps = make_set(SET_ENC_LISTPACK, 50, 1);
    struct set *out;

    (void)state;
    assert_int_equal(set_algebra(&ht, 1, SET_OP_UNION, &l, SEED, &out), 0);
    assert_int_equal(set_encoding(out), SET_ENC_INTSET);
    set_destroy(out);
    struct set *two[] = { ht, lps };
    assert_int_equal(set_algebra(two, 2, SET_OP_UNION, &l, SEED, &out), 0);
    assert_int_equal(set_encoding(out), SET_ENC_HT); /* 250 > 128 */
    assert_int_equal(set_len(out), 250);
    set_destroy(out);
    assert_int_equal(set_algebra(&lps, 1, SET_OP_UNION, &l, SEED, &out), 0);
    assert_int_equal(set_encoding(out), SET_ENC_LISTPACK);
    set_destroy(out);
    set_destroy(ht);
    set_destroy(lps);
}

static int count_emit(const struct set_member *m, void *ud)
{
    (void)m;
    (*(uint64_t *)ud)++;
    return 0;
}

static void test_inter_limit_and_order_independence(void **state)
{
    struct set *a = make_set(SET_ENC_HT, 1000, 0), *b = make_set(SET_ENC_INTSET, 300, 0);
    uint64_t n = 0;

    (void)state;
    struct set *ab[] = { a, b }, *ba[] = { b, a };
    assert_int_equal(set_inter(ab, 2, 0, count_emit, &n), 0);
    assert_int_equal(n, 300);
    n = 0;
    assert_int_equal(set_inter(ba, 2, 0, count_emit, &n), 0);
    assert_int_equal(n, 300);
    n = 0;
    assert_int_equal(set_inter(ab, 2, 17, count_emit, &n), 0);
    assert_int_equal(n, 17);
    n = 0;
    assert_int_equal(set_inter(ab, 2, 5000, count_emit, &n), 0);
    assert_int_equal(n, 300);
    set_destroy(a);
    set_destroy(b);
}

/* ------------------------------------------------------------------------ */
/* Allocation failures                                                      */
/* ------------------------------------------------------------------------ */

/* Builds the set of scenario `sc` (disarmed). */
static struct set *oom_scenario(int sc, const struct type_limits *l, const char **add_m)
{
    struct set *s;

    switch (sc) {
    case 0: /* listpack append */
        s = set_create(SET_ENC_LISTPACK, SEED);
        add(&s, "a", l);
        *add_m = "b";
        break;
    case 1: /* listpack -> hashtable past entries */
        s = set_create(SET_ENC_LISTPACK, SEED);
        for (int i = 0; i < 6; i++) {
            char b[16];

            snprintf(b, sizeof(b), "s%d", i);
            add(&s, b, l);
        }
        *add_m = "new";
        break;
    case 2: /* intset add (upgrade to int64) */
        s = set_create(SET_ENC_INTSET, SEED);
        add_ints(&s, 1, 5, l);
        *add_m = "9223372036854775807";
        break;
    case 3: /* intset -> listpack */
        s = set_create(SET_ENC_INTSET, SEED);
        add_ints(&s, 1, 3, l);
        *add_m = "str";
        break;
    case 4: /* intset -> hashtable past the intset limit */
        s = set_create(SET_ENC_INTSET, SEED);
        add_ints(&s, 1, 8, l);
        *add_m = "9";
        break;
    case 5: /* intset -> hashtable on a long string */
        s = set_create(SET_ENC_INTSET, SEED);
        add_ints(&s, 1, 3, l);
        *add_m = "a-long-string-member";
        break;
    default: /* hashtable add */
        s = set_create(SET_ENC_HT, SEED);
        add_ints(&s, 1, 20, l);
        *add_m = "x";
        break;
    }
    return s;
}

static void test_add_out_of_memory_keeps_members(void **state)
{
    struct type_limits l = smalllim();

    (void)state;
    for (int sc = 0; sc < 7; sc++) {
        int failures = 0;

        for (long k = 0;; k++) {
            const char *m;
            struct set *s = oom_scenario(sc, &l, &m);
            uint64_t before = set_len(s);

            arm(k);
            int rc = set_add(&s, m, strlen(m), &l, SEED);
            int failed = disarm();

            if (rc == ST_ENOMEM) {
                assert_true(failed);
                failures++;
                assert_int_equal(set_len(s), before);
                assert_false(has(s, m));
            } else {
                assert_int_equal(rc, 1);
                assert_int_equal(set_len(s), before + 1);
                assert_true(has(s, m));
            }
            /* every old member is still there */
            struct set *ref = oom_scenario(sc, &l, &m);
            struct bag b;
            members(ref, &b);
            for (size_t i = 0; i < b.n; i++)
                assert_true(has(s, b.v[i]));
            bag_free(&b);
            set_destroy(ref);
            set_destroy(s);
            if (!failed)
                break; /* no allocation left to fail */
        }
        assert_true(failures > 0);
    }
}

static void test_maybe_convert_and_dup_out_of_memory(void **state)
{
    struct type_limits l = smalllim();

    (void)state;
    for (long k = 0;; k++) {
        struct set *s = set_create(SET_ENC_LISTPACK, SEED);

        add(&s, "a", &l);
        add(&s, "b", &l);
        arm(k);
        int rc = set_maybe_convert(&s, 100, &l, SEED);
        int failed = disarm();
        assert_int_equal(set_encoding(s), rc == ST_OK ? SET_ENC_HT : SET_ENC_LISTPACK);
        assert_int_equal(set_len(s), 2);
        set_destroy(s);
        if (!failed)
            break;
    }
    enum set_enc encs[] = { SET_ENC_INTSET, SET_ENC_LISTPACK, SET_ENC_HT };
    for (int e = 0; e < 3; e++) {
        struct set *s = make_set(encs[e], 30, encs[e] != SET_ENC_INTSET);

        for (long k = 0;; k++) {
            arm(k);
            struct set *d = set_dup(s);
            int failed = disarm();

            if (d) {
                assert_int_equal(set_len(d), 30);
                set_destroy(d);
            }
            assert_true(d != NULL || failed);
            if (!failed)
                break;
        }
        set_destroy(s);
    }
}

static void test_pops_and_draws_out_of_memory_emit_nothing(void **state)
{
    struct type_limits l = deflim();
    struct util_rng rng;
    static const struct {
        enum set_enc enc;
        int size, count, strs;
    } pc[] = {
        { SET_ENC_LISTPACK, 20, 5, 1 }, /* one pass, rebuilt */
        { SET_ENC_HT, 300, 295, 1 },    /* CASE 3 into a new listpack */
        { SET_ENC_HT, 600, 590, 0 },    /* CASE 3 into a new intset */
        { SET_ENC_INTSET, 300, 290, 0 },
    };

    (void)state;
    util_rng_seed(&rng, 5);
    for (size_t t = 0; t < sizeof(pc) / sizeof(pc[0]); t++) {
        int failures = 0;

        for (long k = 0;; k++) {
            struct set *s = make_set(pc[t].enc, pc[t].size, pc[t].strs);
            uint64_t n = 0;

            arm(k);
            int rc = set_pop_many(&s, (uint64_t)pc[t].count, &rng, &l, SEED, count_emit, &n);
            int failed = disarm();

            if (rc == ST_ENOMEM) {
                failures++;
                assert_int_equal(n, 0);
                assert_int_equal(set_len(s), (uint64_t)pc[t].size);
                assert_int_equal(set_encoding(s), pc[t].enc);
            } else {
                assert_int_equal(rc, ST_OK);
                assert_int_equal(n, (uint64_t)pc[t].count);
                assert_int_equal(set_len(s), (uint64_t)(pc[t].size - pc[t].count));
            }
            set_destroy(s);
            if (!failed)
                break;
        }
        assert_true(failures > 0);
    }
    /* distinct draws with a seen-table; repeats never fail */
    struct set *s = make_set(SET_ENC_HT, 300, 1), *lp = make_set(SET_ENC_LISTPACK, 20, 1);
    for (long k = 0;; k++) {
        uint64_t n = 0;

        arm(k);
        int rc = set_random_distinct(s, 10, &rng, count_emit, &n);
        int failed = disarm();
        assert_int_equal(n, rc == ST_OK ? 10u : 0u);
        if (!failed)
            break;
    }
    for (long k = 0; k < 3; k++) {
        uint64_t n = 0;

        arm(k);
        assert_int_equal(set_random_repeat(lp, 50, &rng, count_emit, &n), ST_OK);
        disarm();
        assert_int_equal(n, 50);
    }
    set_destroy(s);
    set_destroy(lp);
}

static void test_algebra_out_of_memory_builds_nothing(void **state)
{
    struct type_limits l = deflim();
    struct set *a = make_set(SET_ENC_HT, 200, 1), *b = make_set(SET_ENC_LISTPACK, 50, 1);
    struct set *ab[] = { a, b };
    enum set_op ops[] = { SET_OP_UNION, SET_OP_DIFF, SET_OP_INTER };

    (void)state;
    for (int o = 0; o < 3; o++) {
        int failures = 0;

        for (long k = 0;; k++) {
            struct set *out = NULL;

            arm(k);
            int rc = set_algebra(ab, 2, ops[o], &l, SEED, &out);
            int failed = disarm();

            if (rc == ST_OK) {
                assert_non_null(out);
                assert_int_equal(set_len(out), ops[o] == SET_OP_UNION ? 200u : ops[o] == SET_OP_DIFF ? 150u : 50u);
                set_destroy(out);
            } else {
                assert_int_equal(rc, ST_ENOMEM);
                assert_null(out);
                failures++;
            }
            if (!failed)
                break;
        }
        assert_true(failures > 0);
    }
    set_destroy(a);
    set_destroy(b);
}

/* ------------------------------------------------------------------------ */
/* Random operations against a model                                        */
/* ------------------------------------------------------------------------ */

#define UNIVERSE 40

static uint64_t rnd_below_test(struct util_rng *rng, uint64_t n)
{
    return util_rng_next(rng) % n;
}

/* Members drawn from ints, short strings, a non-canonical int and long
 * strings, so every conversion is hit under smalllim(). */
static void universe_member(int i, char *buf, size_t cap)
{
    switch (i % 4) {
    case 0:
        snprintf(buf, cap, "%d", i * 1000 - 20000);
        break;
    case 1:
        snprintf(buf, cap, "s%d", i);
        break;
    case 2:
        snprintf(buf, cap, "0%d", i);
        break;
    default:
        snprintf(buf, cap, "long-member-%d", i);
        break;
    }
}

static void test_random_ops_against_model(void **state)
{
    struct util_rng rng;
    int convs[3][3] = { { 0 } };

    (void)state;
    util_rng_seed(&rng, 42);
    for (int round = 0; round < 60; round++) {
        struct type_limits l = smalllim();
        char model[UNIVERSE] = { 0 };
        uint64_t n = 0;
        struct set *s = set_create(SET_ENC_INTSET, SEED);
        int int_only = (round % 3) == 0;

        if (round % 2)
            l = deflim();
        for (int step = 0; step < 600; step++) {
            int i = (int)rnd_below_test(&rng, UNIVERSE);
            char m[64];
            int op = (int)(util_rng_next(&rng) % 10);
            enum set_enc before = set_encoding(s);

            if (int_only)
                i -= i % 4;
            universe_member(i, m, sizeof(m));
            if (op < 5) {
                int r = add(&s, m, &l);

                assert_int_equal(r, !model[i]);
                if (!model[i])
                    n++;
                model[i] = 1;
            } else if (op < 8) {
                int r = rem(&s, m);

                assert_int_equal(r, model[i]);
                if (model[i])
                    n--;
                model[i] = 0;
            } else if (op == 8 && n > 0) {
                struct bag b = { 0 };
                uint64_t k = 1 + util_rng_next(&rng) % n;

                if (k < n) {
                    assert_int_equal(set_pop_many(&s, k, &rng, &l, SEED, bag_emit, &b), 0);
                    assert_int_equal(b.n, k);
                    for (size_t j = 0; j < b.n; j++) {
                        int found = 0;

                        for (int u = 0; u < UNIVERSE; u++) {
                            char t[64];

                            universe_member(u, t, sizeof(t));
                            if (strcmp(t, b.v[j]) == 0) {
                                assert_true(model[u]);
                                model[u] = 0;
                                found = 1;
                            }
                        }
                        assert_true(found);
                    }
                    n -= k;
                }
                bag_free(&b);
            } else if (n > 0) {
                struct bag b = { 0 };
                uint64_t k = 1 + util_rng_next(&rng) % n;

                if (k < n)
                    assert_int_equal(set_random_distinct(s, k, &rng, bag_emit, &b), 0);
                else
                    assert_int_equal(set_random_repeat(s, k, &rng, bag_emit, &b), 0);
                assert_int_equal(b.n, k);
                for (size_t j = 0; j < b.n; j++)
                    assert_true(has(s, b.v[j]));
                bag_free(&b);
            }
            convs[before][set_encoding(s)]++;
            /* the set agrees with the model on every universe member */
            assert_int_equal(set_len(s), n);
            for (int u = 0; u < UNIVERSE; u++) {
                char t[64];

                universe_member(u, t, sizeof(t));
                assert_int_equal(has(s, t), model[u]);
            }
            /* and on the encoding rules */
            if (set_encoding(s) == SET_ENC_INTSET)
                assert_true(n <= l.set_max_intset_entries);
            if (set_encoding(s) == SET_ENC_LISTPACK)
                assert_true(n <= l.set_max_lp_entries);
            /* an empty set is deleted by its key's command: start over */
            if (n == 0 && set_len(s) == 0 && (util_rng_next(&rng) & 1)) {
                set_destroy(s);
                s = set_create(SET_ENC_INTSET, SEED);
            }
        }
        set_destroy(s);
    }
    /* every conversion happened at least once */
    assert_true(convs[SET_ENC_INTSET][SET_ENC_LISTPACK] > 0);
    assert_true(convs[SET_ENC_INTSET][SET_ENC_HT] > 0);
    assert_true(convs[SET_ENC_LISTPACK][SET_ENC_HT] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_for_picks_encoding_like_set_type_create),
        cmocka_unit_test(test_ops_table),
        cmocka_unit_test(test_intset_add_remove_contains),
        cmocka_unit_test(test_listpack_add_remove_contains),
        cmocka_unit_test(test_hashtable_add_remove_contains),
        cmocka_unit_test(test_contains_member_across_encodings),
        cmocka_unit_test(test_intset_to_hashtable_past_intset_limit),
        cmocka_unit_test(test_intset_to_listpack_on_string),
        cmocka_unit_test(test_intset_to_hashtable_on_string_that_does_not_fit),
        cmocka_unit_test(test_listpack_to_hashtable_past_entries),
        cmocka_unit_test(test_listpack_to_hashtable_past_value),
        cmocka_unit_test(test_maybe_convert_by_size_hint),
        cmocka_unit_test(test_dup_each_encoding_is_deep),
        cmocka_unit_test(test_iteration_visits_each_member_once),
        cmocka_unit_test(test_scan_compact_returns_all_with_cursor_zero),
        cmocka_unit_test(test_scan_hashtable_covers_every_member),
        cmocka_unit_test(test_random_member_is_member_each_encoding),
        cmocka_unit_test(test_random_repeat_emits_count_members),
        cmocka_unit_test(test_random_distinct_each_strategy_is_uniform),
        cmocka_unit_test(test_pop_one_each_encoding),
        cmocka_unit_test(test_pop_many_each_strategy),
        cmocka_unit_test(test_algebra_union_diff_inter),
        cmocka_unit_test(test_algebra_diff_both_algorithms),
        cmocka_unit_test(test_algebra_result_encoding_is_smallest_fit),
        cmocka_unit_test(test_inter_limit_and_order_independence),
        cmocka_unit_test(test_add_out_of_memory_keeps_members),
        cmocka_unit_test(test_maybe_convert_and_dup_out_of_memory),
        cmocka_unit_test(test_pops_and_draws_out_of_memory_emit_nothing),
        cmocka_unit_test(test_algebra_out_of_memory_builds_nothing),
        cmocka_unit_test(test_random_ops_against_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
