/*
 * test_lpack.c -- unit tests for engine/lpack.c: every encoding width and its
 * boundaries, backlen sizes 1..5, byte-exact element layout (Redis's listpack
 * element encoding), navigation both ways, insert/replace/delete, lp_find with
 * skip, the canonical-integer rule, lp_append_many, lp_validate against
 * truncated and garbled packs (a small fuzz that must never crash under ASan),
 * and a randomized comparison against a plain array model.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/lpack.h"

/* ---- helpers --------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Size of the element at p, backlen included (distance to the next one). */
static size_t elem_size(unsigned char *lp, unsigned char *p)
{
    unsigned char *n = lp_next(lp, p);

    return (size_t)((n ? n : lp + lp_bytes(lp) - 1) - p);
}

/* Checks the whole pack: valid, forward and backward walks visit the same
 * positions, count matches, lp_seek agrees. */
static void check_pack(unsigned char *lp)
{
    uint32_t n = lp_count(lp);
    unsigned char **pos = calloc(n + 1, sizeof(*pos));
    unsigned char *p;
    uint32_t i = 0;

    assert_non_null(pos);
    assert_true(lp_validate(lp, lp_bytes(lp)));
    assert_int_equal(lp[lp_bytes(lp) - 1], LP_END);
    for (p = lp_first(lp); p; p = lp_next(lp, p)) {
        assert_true(i < n);
        pos[i++] = p;
    }
    assert_int_equal(i, n);
    for (p = lp_last(lp); p; p = lp_prev(lp, p)) {
        assert_true(i > 0);
        assert_ptr_equal(p, pos[--i]);
    }
    assert_int_equal(i, 0);
    if (n > 0) {
        assert_ptr_equal(lp_seek(lp, 0), pos[0]);
        assert_ptr_equal(lp_seek(lp, -1), pos[n - 1]);
        assert_ptr_equal(lp_seek(lp, (long)n - 1), pos[n - 1]);
        assert_ptr_equal(lp_seek(lp, -(long)n), pos[0]);
        assert_ptr_equal(lp_seek(lp, (long)n / 2), pos[n / 2]);
    }
    assert_null(lp_seek(lp, (long)n));
    assert_null(lp_seek(lp, -(long)n - 1));
    free(pos);
}

/* The element at p as text (ints formatted), into buf. */
static size_t elem_text(const unsigned char *p, unsigned char *buf, size_t cap)
{
    struct lp_val v;
    unsigned char ib[21];
    size_t len;
    const unsigned char *s;

    lp_get(p, &v);
    s = lp_val_str(&v, ib, &len);
    assert_true(len <= cap);
    memcpy(buf, s, len);
    return len;
}

static void assert_elem_str(const unsigned char *p, const char *want)
{
    unsigned char buf[256];
    size_t len = elem_text(p, buf, sizeof(buf));

    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
}

static unsigned char *append_str(unsigned char *lp, const char *s)
{
    lp = lp_append(lp, s, strlen(s));
    assert_non_null(lp);
    return lp;
}

/* ---- empty pack -------------------------------------------------------------- */

static void test_empty_pack_is_nine_bytes_and_valid(void **state)
{
    unsigned char *lp = lp_create();

    (void)state;
    assert_non_null(lp);
    assert_int_equal(lp_bytes(lp), LP_HDR + 1);
    assert_int_equal(lp_count(lp), 0);
    assert_int_equal(lp[LP_HDR], LP_END);
    assert_null(lp_first(lp));
    assert_null(lp_last(lp));
    assert_null(lp_seek(lp, 0));
    assert_null(lp_seek(lp, -1));
    assert_null(lp_find(lp, lp_first(lp), "a", 1, 0));
    check_pack(lp);
    lp_destroy(lp);
}

/* ---- integer widths ---------------------------------------------------------- */

struct int_case {
    int64_t v;
    size_t size;        /* element size incl. backlen */
    unsigned char enc0; /* first byte (or its tag bits for 7/13-bit) */
};

static const struct int_case int_cases[] = {
    {0, 2, 0x00},
    {1, 2, 0x01},
    {127, 2, 0x7F},
    {128, 3, 0xC0},
    {-1, 3, 0xDF},
    {4095, 3, 0xCF},
    {-4096, 3, 0xD0},
    {4096, 4, 0xF1},
    {-4097, 4, 0xF1},
    {32767, 4, 0xF1},
    {-32768, 4, 0xF1},
    {32768, 5, 0xF2},
    {-32769, 5, 0xF2},
    {8388607, 5, 0xF2},
    {-8388608, 5, 0xF2},
    {8388608, 6, 0xF3},
    {-8388609, 6, 0xF3},
    {INT32_MAX, 6, 0xF3},
    {INT32_MIN, 6, 0xF3},
    {(int64_t)INT32_MAX + 1, 10, 0xF4},
    {(int64_t)INT32_MIN - 1, 10, 0xF4},
    {INT64_MAX, 10, 0xF4},
    {INT64_MIN, 10, 0xF4},
};

static void test_int_encoding_widths_at_every_boundary(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(int_cases) / sizeof(int_cases[0]); i++) {
        const struct int_case *c = &int_cases[i];
        char txt[32];
        unsigned char *lp = lp_create(), *p;
        struct lp_val v;

        snprintf(txt, sizeof(txt), "%lld", (long long)c->v);
        /* once from text, once as an integer: identical bytes */
        lp = lp_append(lp, txt, strlen(txt));
        lp = lp_insert_int(lp, NULL, c->v, &p);
        assert_non_null(lp);
        check_pack(lp);
        assert_int_equal(lp_bytes(lp), LP_HDR + 1 + 2 * c->size);
        p = lp_first(lp);
        assert_int_equal(elem_size(lp, p), c->size);
        assert_int_equal(p[0], c->enc0);
        assert_memory_equal(p, p + c->size, c->size);
        lp_get(p, &v);
        assert_null(v.s);
        assert_true(v.i == c->v);
        assert_elem_str(p, txt);
        assert_true(lp_eq(p, txt, strlen(txt)));
        lp_destroy(lp);
    }
}

static void test_int_bytes_match_listpack_layout(void **state)
{
    unsigned char *lp = lp_create(), *p;

    (void)state;
    lp = lp_insert_int(lp, NULL, -1, NULL);
    lp = lp_insert_int(lp, NULL, 300, NULL);
    lp = lp_insert_int(lp, NULL, 0x123456, NULL);
    lp = lp_insert_int(lp, NULL, -2, NULL);
    lp = lp_insert_int(lp, NULL, INT64_MIN, NULL);
    p = lp_first(lp);
    /* -1 in 13 bits: 0x1FFF -> C0|1F, FF; backlen 2 */
    assert_memory_equal(p, "\xDF\xFF\x02", 3);
    p = lp_next(lp, p);
    /* 300 = 0x12C -> C1 2C */
    assert_memory_equal(p, "\xC1\x2C\x02", 3);
    p = lp_next(lp, p);
    assert_memory_equal(p, "\xF2\x56\x34\x12\x04", 5);
    p = lp_next(lp, p);
    assert_memory_equal(p, "\xDF\xFE\x02", 3);
    p = lp_next(lp, p);
    assert_memory_equal(p, "\xF4\x00\x00\x00\x00\x00\x00\x00\x80\x09", 10);
    assert_null(lp_next(lp, p));
    check_pack(lp);
    lp_destroy(lp);
}

/* ---- string widths and backlen sizes ---------------------------------------- */

/* Appends a string of len bytes 'x' (never an integer) and checks its size. */
static void check_str_len(size_t len, size_t want_size, size_t want_backlen)
{
    unsigned char *lp = lp_create(), *p;
    char *s = malloc(len + 1);
    struct lp_val v;

    assert_non_null(s);
    memset(s, 'x', len);
    lp = lp_append(lp, s, len);
    assert_non_null(lp);
    lp = append_str(lp, "tail");
    check_pack(lp);
    p = lp_first(lp);
    assert_int_equal(elem_size(lp, p), want_size);
    /* the backlen: its first byte has no high bit, the others have it */
    {
        unsigned char *b = p + want_size - want_backlen;

        assert_int_equal(b[0] & 0x80, 0);
        for (size_t i = 1; i < want_backlen; i++)
            assert_int_equal(b[i] & 0x80, 0x80);
    }
    lp_get(p, &v);
    assert_non_null(v.s);
    assert_int_equal(v.len, len);
    assert_memory_equal(v.s, s, len);
    assert_true(lp_eq(p, s, len));
    assert_ptr_equal(lp_find(lp, lp_first(lp), s, len, 0), p);
    assert_ptr_equal(lp_prev(lp, lp_last(lp)), p);
    assert_ptr_equal(lp_last(lp), lp_next(lp, p));
    free(s);
    lp_destroy(lp);
}

static void test_string_encoding_widths_and_backlens(void **state)
{
    (void)state;
    check_str_len(0, 2, 1);
    check_str_len(1, 3, 1);
    check_str_len(63, 65, 1);       /* 6-bit length */
    check_str_len(64, 67, 1);       /* 12-bit length */
    check_str_len(125, 128, 1);     /* enc 127: last 1-byte backlen */
    check_str_len(126, 130, 2);     /* enc 128 */
    check_str_len(4095, 4099, 2);   /* last 12-bit length */
    check_str_len(4096, 4103, 2);   /* 32-bit length */
    check_str_len(16377, 16384, 2); /* enc 16382 */
    check_str_len(16378, 16386, 3); /* enc 16383 */
    check_str_len(2097145, 2097153, 3);
    check_str_len(2097146, 2097155, 4);
}

static void test_five_byte_backlen_for_a_256mb_element(void **state)
{
    /* enc size >= 268435455 needs 5 backlen bytes */
    size_t len = 268435455 - 5;

    (void)state;
    check_str_len(len - 1, len - 1 + 5 + 4, 4);
    check_str_len(len, len + 5 + 5, 5);
}

static void test_string_bytes_match_listpack_layout(void **state)
{
    unsigned char *lp = lp_create(), *p;
    char s200[200];

    (void)state;
    memset(s200, 'a', sizeof(s200));
    lp = append_str(lp, "hello");
    lp = lp_append(lp, s200, sizeof(s200));
    lp = lp_append(lp, "", 0);
    p = lp_first(lp);
    assert_memory_equal(p, "\x85hello\x06", 7);
    p = lp_next(lp, p);
    /* 12-bit header E0 C8; enc 202 = 1*128 + 74 -> backlen 01 CA */
    assert_memory_equal(p, "\xE0\xC8", 2);
    assert_memory_equal(p + 202, "\x01\xCA", 2);
    p = lp_next(lp, p);
    assert_memory_equal(p, "\x80\x01", 2);
    check_pack(lp);
    lp_destroy(lp);
}

/* ---- canonical integers ------------------------------------------------------ */

static void test_canonical_int_rule(void **state)
{
    static const struct {
        const char *s;
        int isint;
    } cases[] = {
        {"10", 1},
        {"010", 0},
        {"-0", 0},
        {"0", 1},
        {"00", 0},
        {"-", 0},
        {"", 0},
        {"+1", 0},
        {" 1", 0},
        {"1 ", 0},
        {"1a", 0},
        {"-10", 1},
        {"-010", 0},
        {"9223372036854775807", 1},
        {"9223372036854775808", 0},
        {"-9223372036854775808", 1},
        {"-9223372036854775809", 0},
        {"18446744073709551615", 0},
        {"18446744073709551616", 0},
        {"99999999999999999999", 0},
        {"123456789012345678901", 0},
        {"1.5", 0},
        {"1e3", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char *lp = lp_create(), *p;
        struct lp_val v;

        lp = append_str(lp, cases[i].s);
        p = lp_first(lp);
        lp_get(p, &v);
        if (cases[i].isint)
            assert_null(v.s);
        else
            assert_non_null(v.s);
        assert_elem_str(p, cases[i].s);
        assert_true(lp_eq(p, cases[i].s, strlen(cases[i].s)));
        check_pack(lp);
        lp_destroy(lp);
    }
}

static void test_int_and_noncanonical_text_stay_distinct(void **state)
{
    unsigned char *lp = lp_create(), *p;

    (void)state;
    lp = append_str(lp, "010");
    lp = append_str(lp, "10");
    lp = append_str(lp, "-0");
    lp = append_str(lp, "0");
    assert_int_equal(lp_count(lp), 4);
    p = lp_find(lp, lp_first(lp), "10", 2, 0);
    assert_ptr_equal(p, lp_seek(lp, 1));
    p = lp_find(lp, lp_first(lp), "010", 3, 0);
    assert_ptr_equal(p, lp_seek(lp, 0));
    p = lp_find(lp, lp_first(lp), "0", 1, 0);
    assert_ptr_equal(p, lp_seek(lp, 3));
    p = lp_find(lp, lp_first(lp), "-0", 2, 0);
    assert_ptr_equal(p, lp_seek(lp, 2));
    assert_null(lp_find(lp, lp_first(lp), "00", 2, 0));
    assert_false(lp_eq(lp_seek(lp, 1), "010", 3));
    assert_false(lp_eq(lp_seek(lp, 0), "10", 2));
    assert_ptr_equal(lp_find_int(lp, lp_first(lp), 10, 0), lp_seek(lp, 1));
    assert_ptr_equal(lp_find_int(lp, lp_first(lp), 0, 0), lp_seek(lp, 3));
    assert_null(lp_find_int(lp, lp_first(lp), 11, 0));
    lp_destroy(lp);
}

static void test_val_str_formats_extremes(void **state)
{
    struct lp_val v = {.s = NULL, .len = 0, .i = INT64_MIN};
    unsigned char buf[21];
    size_t len;
    const unsigned char *s;

    (void)state;
    s = lp_val_str(&v, buf, &len);
    assert_int_equal(len, 20);
    assert_memory_equal(s, "-9223372036854775808", 20);
    v.i = INT64_MAX;
    s = lp_val_str(&v, buf, &len);
    assert_int_equal(len, 19);
    assert_memory_equal(s, "9223372036854775807", 19);
    v.i = 0;
    s = lp_val_str(&v, buf, &len);
    assert_int_equal(len, 1);
    assert_memory_equal(s, "0", 1);
    v.s = (const unsigned char *)"abc";
    v.len = 3;
    s = lp_val_str(&v, buf, &len);
    assert_ptr_equal(s, v.s);
    assert_int_equal(len, 3);
}

/* ---- navigation ------------------------------------------------------------ */

static void test_forward_and_backward_traversal_agree(void **state)
{
    unsigned char *lp = lp_create(), *p;
    const char *items[] = {"a", "1", "-5000", "hello world", "99999999999", "", "x"};
    size_t n = sizeof(items) / sizeof(items[0]);
    char big[5000];

    (void)state;
    memset(big, 'b', sizeof(big));
    for (size_t i = 0; i < n; i++)
        lp = append_str(lp, items[i]);
    lp = lp_append(lp, big, sizeof(big));
    check_pack(lp);
    p = lp_first(lp);
    for (size_t i = 0; i < n; i++, p = lp_next(lp, p))
        assert_elem_str(p, items[i]);
    p = lp_last(lp);
    assert_true(lp_eq(p, big, sizeof(big)));
    for (size_t i = n; i-- > 0;) {
        p = lp_prev(lp, p);
        assert_elem_str(p, items[i]);
    }
    assert_null(lp_prev(lp, p));
    /* lp_prev from the end marker is the last element */
    assert_ptr_equal(lp_prev(lp, lp + lp_bytes(lp) - 1), lp_last(lp));
    for (long i = 0; i < (long)n; i++) {
        assert_elem_str(lp_seek(lp, i), items[i]);
        assert_elem_str(lp_seek(lp, i - (long)n - 1), items[i]);
    }
    lp_destroy(lp);
}

/* ---- insert / replace / delete ---------------------------------------------- */

static void test_insert_at_head_middle_and_end(void **state)
{
    unsigned char *lp = lp_create(), *p, *np;

    (void)state;
    lp = lp_insert(lp, NULL, "m", 1, &np);
    assert_ptr_equal(np, lp_first(lp));
    lp = lp_insert(lp, lp_first(lp), "h", 1, &np);
    assert_ptr_equal(np, lp_first(lp));
    lp = lp_insert(lp, NULL, "e", 1, &np);
    assert_ptr_equal(np, lp_last(lp));
    p = lp_seek(lp, 1);
    lp = lp_insert(lp, p, "12345", 5, &np);
    assert_ptr_equal(np, lp_seek(lp, 1));
    lp = lp_insert_int(lp, lp_seek(lp, 3), -77, &np);
    assert_ptr_equal(np, lp_seek(lp, 3));
    /* inserting at the end marker's position appends */
    lp = lp_insert(lp, lp + lp_bytes(lp) - 1, "z", 1, &np);
    assert_ptr_equal(np, lp_last(lp));
    check_pack(lp);
    assert_int_equal(lp_count(lp), 6);
    {
        const char *want[] = {"h", "12345", "m", "-77", "e", "z"};

        p = lp_first(lp);
        for (int i = 0; i < 6; i++, p = lp_next(lp, p))
            assert_elem_str(p, want[i]);
    }
    lp_destroy(lp);
}

static void test_replace_growing_shrinking_and_same_size(void **state)
{
    unsigned char *lp = lp_create(), *p;
    char big[300];

    (void)state;
    memset(big, 'q', sizeof(big));
    lp = append_str(lp, "a");
    lp = append_str(lp, "b");
    lp = append_str(lp, "c");
    lp = lp_replace(lp, lp_seek(lp, 1), big, sizeof(big), &p);
    assert_ptr_equal(p, lp_seek(lp, 1));
    assert_true(lp_eq(p, big, sizeof(big)));
    check_pack(lp);
    assert_int_equal(lp_bytes(lp), LP_HDR + 1 + 3 + 3 + 2 + 300 + 2);
    lp = lp_replace(lp, p, "7", 1, &p);
    assert_ptr_equal(p, lp_seek(lp, 1));
    assert_int_equal(lp_bytes(lp), LP_HDR + 1 + 3 + 3 + 2);
    lp = lp_replace_int(lp, p, 8, &p);
    assert_elem_str(p, "8");
    lp = lp_replace_int(lp, p, 123456789012LL, &p);
    assert_elem_str(p, "123456789012");
    lp = lp_replace(lp, lp_first(lp), "first", 5, &p);
    assert_ptr_equal(p, lp_first(lp));
    lp = lp_replace(lp, lp_last(lp), "", 0, &p);
    assert_ptr_equal(p, lp_last(lp));
    check_pack(lp);
    assert_int_equal(lp_count(lp), 3);
    assert_elem_str(lp_seek(lp, 0), "first");
    assert_elem_str(lp_seek(lp, 1), "123456789012");
    assert_elem_str(lp_seek(lp, 2), "");
    lp_destroy(lp);
}

static unsigned char *make_seq(int n)
{
    unsigned char *lp = lp_create();
    char buf[32];

    for (int i = 0; i < n; i++) {
        snprintf(buf, sizeof(buf), "e%d", i);
        lp = append_str(lp, buf);
    }
    return lp;
}

static void test_delete_ranges(void **state)
{
    unsigned char *lp = make_seq(10), *next;

    (void)state;
    /* middle range */
    lp = lp_delete(lp, lp_seek(lp, 3), 3, &next);
    assert_int_equal(lp_count(lp), 7);
    assert_elem_str(next, "e6");
    assert_ptr_equal(next, lp_seek(lp, 3));
    check_pack(lp);
    /* head */
    lp = lp_delete(lp, lp_first(lp), 1, &next);
    assert_ptr_equal(next, lp_first(lp));
    assert_elem_str(next, "e1");
    /* tail, n past the end deletes to the end */
    lp = lp_delete(lp, lp_seek(lp, -2), 100, &next);
    assert_null(next);
    assert_int_equal(lp_count(lp), 4);
    assert_elem_str(lp_last(lp), "e7");
    check_pack(lp);
    /* n = 0 changes nothing */
    lp = lp_delete(lp, lp_first(lp), 0, &next);
    assert_ptr_equal(next, lp_first(lp));
    assert_int_equal(lp_count(lp), 4);
    /* everything */
    lp = lp_delete(lp, lp_first(lp), lp_count(lp), &next);
    assert_null(next);
    assert_int_equal(lp_count(lp), 0);
    assert_int_equal(lp_bytes(lp), LP_HDR + 1);
    check_pack(lp);
    lp_destroy(lp);
}

/* ---- find ---------------------------------------------------------------------- */

static void test_find_with_skip_looks_only_at_fields(void **state)
{
    unsigned char *lp = lp_create(), *p;

    (void)state;
    /* field/value pairs where values look like other fields */
    lp = append_str(lp, "f1");
    lp = append_str(lp, "f2");
    lp = append_str(lp, "f2");
    lp = append_str(lp, "100");
    lp = append_str(lp, "100");
    lp = append_str(lp, "v");
    p = lp_find(lp, lp_first(lp), "f2", 2, 1);
    assert_ptr_equal(p, lp_seek(lp, 2));
    p = lp_find(lp, lp_first(lp), "100", 3, 1);
    assert_ptr_equal(p, lp_seek(lp, 4));
    assert_ptr_equal(lp_find_int(lp, lp_first(lp), 100, 1), lp_seek(lp, 4));
    assert_null(lp_find(lp, lp_first(lp), "v", 1, 1));
    /* skip 0 sees values too */
    assert_ptr_equal(lp_find(lp, lp_first(lp), "v", 1, 0), lp_seek(lp, 5));
    assert_ptr_equal(lp_find(lp, lp_first(lp), "100", 3, 0), lp_seek(lp, 3));
    /* starting past the first match */
    assert_ptr_equal(lp_find(lp, lp_seek(lp, 3), "100", 3, 0), lp_seek(lp, 3));
    assert_null(lp_find(lp, lp_seek(lp, 5), "100", 3, 0));
    /* skip 2 (triples) */
    assert_ptr_equal(lp_find(lp, lp_first(lp), "100", 3, 2), lp_seek(lp, 3));
    assert_null(lp_find(lp, lp_first(lp), "f2", 2, 2));
    assert_null(lp_find(lp, NULL, "f2", 2, 0));
    lp_destroy(lp);
}

/* ---- append_many ------------------------------------------------------------- */

static void test_append_many_equals_single_appends(void **state)
{
    unsigned char *a = lp_create(), *b = lp_create();
    char big[5000];
    struct lp_val vals[8];
    const char *strs[] = {"f", "10", "010", "", NULL, NULL, NULL, NULL};

    (void)state;
    memset(big, 'z', sizeof(big));
    for (int i = 0; i < 4; i++) {
        vals[i].s = (const unsigned char *)strs[i];
        vals[i].len = (uint32_t)strlen(strs[i]);
        vals[i].i = 0;
    }
    vals[4] = (struct lp_val){.s = NULL, .len = 0, .i = -4097};
    vals[5] = (struct lp_val){.s = (const unsigned char *)big, .len = sizeof(big), .i = 0};
    vals[6] = (struct lp_val){.s = NULL, .len = 0, .i = INT64_MIN};
    vals[7] = (struct lp_val){.s = (const unsigned char *)"x", .len = 1, .i = 0};
    a = append_str(a, "pre");
    b = append_str(b, "pre");
    a = lp_append_many(a, vals, 8);
    assert_non_null(a);
    for (int i = 0; i < 8; i++) {
        if (vals[i].s)
            b = lp_append(b, vals[i].s, vals[i].len);
        else
            b = lp_insert_int(b, NULL, vals[i].i, NULL);
    }
    assert_int_equal(lp_bytes(a), lp_bytes(b));
    assert_memory_equal(a, b, lp_bytes(a));
    assert_int_equal(lp_count(a), 9);
    check_pack(a);
    assert_ptr_equal(lp_append_many(a, vals, 0), a);
    lp_destroy(a);
    lp_destroy(b);
}

/* ---- compatibility with Redis ------------------------------------------------ */

/* The elements (after Redis's 6-byte header) of the listpack Redis 7.0.15
 * DUMPs for: HSET h f0 0 f1 -1 f2 4096 f3 -32769 f4 8388608 f5 -2147483649
 * f6 9223372036854775807 f7 hello f8 010 f9 -0 f10 <70 x 'y'> (with
 * rdbcompression no, so the blob is stored raw). */
static const unsigned char redis_hash_elems[] =
    "\x82\x66\x30\x03\x00\x01\x82\x66\x31\x03\xDF\xFF\x02\x82\x66\x32\x03\xF1\x00\x10\x03\x82\x66\x33"
    "\x03\xF2\xFF\x7F\xFF\x04\x82\x66\x34\x03\xF3\x00\x00\x80\x00\x05\x82\x66\x35\x03\xF4\xFF\xFF\xFF"
    "\x7F\xFF\xFF\xFF\xFF\x09\x82\x66\x36\x03\xF4\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F\x09\x82\x66\x37\x03"
    "\x85\x68\x65\x6C\x6C\x6F\x06\x82\x66\x38\x03\x83\x30\x31\x30\x04\x82\x66\x39\x03\x82\x2D\x30\x03"
    "\x83\x66\x31\x30\x04\xE0\x46\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79\x79"
    "\x79\x79\x79\x79\x79\x48\xFF";

static void test_elements_are_byte_identical_to_redis_7(void **state)
{
    const char *vals[] = {"0", "-1", "4096", "-32769", "8388608", "-2147483649",
                          "9223372036854775807", "hello", "010", "-0", NULL};
    char y70[70];
    unsigned char *lp = lp_create(), *copy;
    size_t elen = sizeof(redis_hash_elems) - 1;
    uint32_t total = (uint32_t)(LP_HDR + elen);

    (void)state;
    memset(y70, 'y', sizeof(y70));
    for (int i = 0; i < 11; i++) {
        char f[8];
        int fl = snprintf(f, sizeof(f), "f%d", i);

        lp = lp_append(lp, f, (size_t)fl);
        lp = vals[i] ? append_str(lp, vals[i]) : lp_append(lp, y70, sizeof(y70));
    }
    assert_int_equal(lp_bytes(lp), total);
    assert_int_equal(lp_count(lp), 22);
    assert_memory_equal(lp + LP_HDR, redis_hash_elems, elen);
    /* and Redis's elements under our header are a valid pack */
    copy = malloc(total);
    memcpy(copy, lp, LP_HDR);
    memcpy(copy + LP_HDR, redis_hash_elems, elen);
    assert_true(lp_validate(copy, total));
    assert_ptr_equal(lp_find(copy, lp_first(copy), "f9", 2, 1), lp_seek(copy, 18));
    assert_elem_str(lp_seek(copy, 19), "-0");
    assert_elem_str(lp_seek(copy, 13), "9223372036854775807");
    free(copy);
    lp_destroy(lp);
}

/* ---- validation ---------------------------------------------------------------- */

/* A pack with every encoding and backlens of 1 and 2 bytes. */
static unsigned char *make_mixed(void)
{
    unsigned char *lp = lp_create();
    char big[5000];

    memset(big, 'm', sizeof(big));
    for (size_t i = 0; i < sizeof(int_cases) / sizeof(int_cases[0]); i++)
        lp = lp_insert_int(lp, NULL, int_cases[i].v, NULL);
    lp = append_str(lp, "");
    lp = append_str(lp, "short");
    lp = lp_append(lp, big, 63);
    lp = lp_append(lp, big, 64);
    lp = lp_append(lp, big, 200);
    lp = lp_append(lp, big, 4095);
    lp = lp_append(lp, big, 4096);
    lp = lp_append(lp, big, 5000);
    return lp;
}

static void test_validate_accepts_valid_packs(void **state)
{
    unsigned char *lp = make_mixed();

    (void)state;
    assert_true(lp_validate(lp, lp_bytes(lp)));
    lp_destroy(lp);
    lp = lp_create();
    assert_true(lp_validate(lp, lp_bytes(lp)));
    lp_destroy(lp);
}

static void test_validate_rejects_truncated_and_bad_headers(void **state)
{
    unsigned char *lp = make_mixed();
    uint32_t size = lp_bytes(lp);
    unsigned char *copy = malloc(size);

    (void)state;
    assert_false(lp_validate(NULL, 0));
    assert_false(lp_validate(lp, 0));
    assert_false(lp_validate(lp, LP_HDR));
    /* every truncation, in an exactly sized buffer (ASan sees overreads) */
    for (uint32_t cut = 0; cut < size; cut++) {
        unsigned char *t = malloc(cut ? cut : 1);

        memcpy(t, lp, cut);
        assert_false(lp_validate(t, cut));
        /* also with total rewritten and an end marker put back */
        if (cut > LP_HDR) {
            t[0] = (unsigned char)cut;
            t[1] = (unsigned char)(cut >> 8);
            t[2] = (unsigned char)(cut >> 16);
            t[3] = (unsigned char)(cut >> 24);
            t[cut - 1] = LP_END;
            if (lp_validate(t, cut)) {
                /* possible only when the cut fell between elements and the
                 * count happens to match: never, count is of the full pack */
                fail();
            }
        }
        free(t);
    }
    /* wrong count */
    memcpy(copy, lp, size);
    copy[4]++;
    assert_false(lp_validate(copy, size));
    /* wrong total */
    memcpy(copy, lp, size);
    copy[0]++;
    assert_false(lp_validate(copy, size));
    /* missing end marker */
    memcpy(copy, lp, size);
    copy[size - 1] = 0;
    assert_false(lp_validate(copy, size));
    /* an invalid encoding byte */
    memcpy(copy, lp, size);
    copy[LP_HDR] = 0xF5;
    assert_false(lp_validate(copy, size));
    /* an element's backlen off by one */
    memcpy(copy, lp, size);
    copy[LP_HDR + 1]++;
    assert_false(lp_validate(copy, size));
    free(copy);
    lp_destroy(lp);
}

/* Flips random bytes of valid packs: lp_validate must not crash, and when it
 * accepts, every read function must work within the buffer both ways. */
static void test_validate_fuzz_garbled_packs(void **state)
{
    (void)state;
    for (int round = 0; round < 3000; round++) {
        unsigned char *lp = lp_create();
        int n = (int)(rnd() % 12);
        uint32_t size;
        unsigned char *t;

        for (int i = 0; i < n; i++) {
            uint64_t r = rnd();
            char s[300];
            size_t len = (size_t)(r % 7 == 0 ? 64 + r % 200 : r % 20);

            if (r % 3 == 0) {
                lp = lp_insert_int(lp, NULL, (int64_t)(rnd() >> (1 + rnd() % 63)) * (r & 8 ? -1 : 1), NULL);
            } else {
                for (size_t k = 0; k < len; k++)
                    s[k] = (char)('a' + rnd() % 26);
                lp = lp_append(lp, s, len);
            }
        }
        size = lp_bytes(lp);
        t = malloc(size);
        memcpy(t, lp, size);
        for (int f = 1 + (int)(rnd() % 3); f > 0; f--) {
            uint32_t at = (uint32_t)(rnd() % size);

            if (rnd() % 2)
                t[at] ^= (unsigned char)(1u << (rnd() % 8));
            else
                t[at] = (unsigned char)rnd();
        }
        if (lp_validate(t, size)) {
            uint32_t cnt = 0;
            unsigned char *p;

            for (p = lp_first(t); p; p = lp_next(t, p)) {
                unsigned char buf[21];
                struct lp_val v;
                size_t len;

                lp_get(p, &v);
                lp_val_str(&v, buf, &len);
                lp_eq(p, "abc", 3);
                cnt++;
            }
            assert_int_equal(cnt, lp_count(t));
            for (p = lp_last(t); p; p = lp_prev(t, p))
                cnt--;
            assert_int_equal(cnt, 0);
            lp_find(t, lp_first(t), "zz", 2, 1);
        }
        free(t);
        lp_destroy(lp);
    }
}

/* Random bodies under a consistent header (total, end marker, a plausible
 * count): lp_validate must reject or accept without reading out of bounds. */
static void test_validate_random_bodies(void **state)
{
    int accepted = 0;

    (void)state;
    for (int round = 0; round < 20000; round++) {
        uint32_t body = (uint32_t)(rnd() % 40);
        uint32_t size = LP_HDR + body + 1;
        unsigned char *t = malloc(size);

        for (uint32_t i = LP_HDR; i < size - 1; i++) {
            uint64_t r = rnd();

            /* bias towards small lengths and backlens so some pass */
            t[i] = (unsigned char)(r % 4 == 0 ? r >> 8 : (r >> 8) % 8);
        }
        t[0] = (unsigned char)size;
        t[1] = t[2] = t[3] = 0;
        t[4] = (unsigned char)(rnd() % 8);
        t[5] = t[6] = t[7] = 0;
        t[size - 1] = LP_END;
        if (lp_validate(t, size)) {
            unsigned char *p;
            uint32_t cnt = 0;

            accepted++;
            for (p = lp_first(t); p; p = lp_next(t, p))
                cnt++;
            assert_int_equal(cnt, lp_count(t));
            for (p = lp_last(t); p; p = lp_prev(t, p))
                cnt--;
            assert_int_equal(cnt, 0);
        }
        free(t);
    }
    /* the generator does produce valid packs (e.g. "00 01" pairs) */
    assert_true(accepted > 0);
}

/* ---- randomized model ---------------------------------------------------------- */

#define MODEL_MAX 400

struct model {
    char *s[MODEL_MAX];
    size_t len[MODEL_MAX];
    int n;
};

static void random_value(char *buf, size_t *len)
{
    uint64_t r = rnd();

    switch (r % 6) {
    case 0: /* small int */
        *len = (size_t)snprintf(buf, 32, "%d", (int)(rnd() % 200) - 50);
        break;
    case 1: /* any width int */
        *len = (size_t)snprintf(buf, 32, "%lld", (long long)((int64_t)rnd() >> (rnd() % 64)));
        break;
    case 2: /* non-canonical int text */
        *len = (size_t)snprintf(buf, 32, "0%d", (int)(rnd() % 100));
        break;
    case 3: /* long string */
        *len = 60 + rnd() % 150;
        for (size_t i = 0; i < *len; i++)
            buf[i] = (char)('A' + rnd() % 26);
        break;
    default: /* short string, maybe empty */
        *len = rnd() % 10;
        for (size_t i = 0; i < *len; i++)
            buf[i] = (char)('a' + rnd() % 3);
        break;
    }
}

static void model_check(unsigned char *lp, const struct model *m)
{
    unsigned char *p = lp_first(lp);
    unsigned char buf[256];

    assert_int_equal(lp_count(lp), m->n);
    for (int i = 0; i < m->n; i++, p = lp_next(lp, p)) {
        size_t len;

        assert_non_null(p);
        len = elem_text(p, buf, sizeof(buf));
        assert_int_equal(len, m->len[i]);
        assert_memory_equal(buf, m->s[i], len);
    }
    assert_null(p);
    check_pack(lp);
}

static void test_random_ops_match_array_model(void **state)
{
    struct model m = {.n = 0};
    unsigned char *lp = lp_create();
    char buf[256];

    (void)state;
    for (int op = 0; op < 20000; op++) {
        uint64_t r = rnd() % 100;
        size_t len;

        if (r < 40 && m.n < MODEL_MAX) { /* insert */
            int at = (int)(rnd() % (uint64_t)(m.n + 1));
            unsigned char *np;

            random_value(buf, &len);
            lp = lp_insert(lp, at == m.n ? NULL : lp_seek(lp, at), buf, len, &np);
            assert_non_null(lp);
            assert_ptr_equal(np, lp_seek(lp, at));
            memmove(&m.s[at + 1], &m.s[at], (size_t)(m.n - at) * sizeof(m.s[0]));
            memmove(&m.len[at + 1], &m.len[at], (size_t)(m.n - at) * sizeof(m.len[0]));
            m.s[at] = malloc(len + 1);
            memcpy(m.s[at], buf, len);
            m.len[at] = len;
            m.n++;
        } else if (r < 60 && m.n > 0) { /* delete a range */
            int at = (int)(rnd() % (uint64_t)m.n);
            int k = 1 + (int)(rnd() % 4);
            int real = k > m.n - at ? m.n - at : k;
            unsigned char *next;

            lp = lp_delete(lp, lp_seek(lp, at), (uint32_t)k, &next);
            for (int i = at; i < at + real; i++)
                free(m.s[i]);
            memmove(&m.s[at], &m.s[at + real], (size_t)(m.n - at - real) * sizeof(m.s[0]));
            memmove(&m.len[at], &m.len[at + real], (size_t)(m.n - at - real) * sizeof(m.len[0]));
            m.n -= real;
            assert_ptr_equal(next, at < m.n ? lp_seek(lp, at) : NULL);
        } else if (r < 80 && m.n > 0) { /* replace */
            int at = (int)(rnd() % (uint64_t)m.n);
            unsigned char *np;

            random_value(buf, &len);
            lp = lp_replace(lp, lp_seek(lp, at), buf, len, &np);
            assert_non_null(lp);
            assert_ptr_equal(np, lp_seek(lp, at));
            free(m.s[at]);
            m.s[at] = malloc(len + 1);
            memcpy(m.s[at], buf, len);
            m.len[at] = len;
        } else { /* find, with skip 0 or 1 */
            unsigned skip = (unsigned)(rnd() % 2);
            int want = -1;
            unsigned char *p;

            if (m.n > 0 && rnd() % 2) {
                int at = (int)(rnd() % (uint64_t)m.n);

                len = m.len[at];
                memcpy(buf, m.s[at], len);
            } else {
                random_value(buf, &len);
            }
            for (int i = 0; i < m.n; i += (int)skip + 1)
                if (m.len[i] == len && memcmp(m.s[i], buf, len) == 0) {
                    want = i;
                    break;
                }
            p = lp_find(lp, lp_first(lp), buf, len, skip);
            if (want < 0)
                assert_null(p);
            else
                assert_ptr_equal(p, lp_seek(lp, want));
            /* the integer search agrees for canonical integer text */
            {
                char txt[32], *end;
                long long iv;

                memcpy(txt, buf, len < 31 ? len : 31);
                txt[len < 31 ? len : 31] = '\0';
                iv = strtoll(txt, &end, 10);
                if (len > 0 && len < 21 && *end == '\0') {
                    char back[32];

                    snprintf(back, sizeof(back), "%lld", iv);
                    if (strcmp(back, txt) == 0)
                        assert_ptr_equal(lp_find_int(lp, lp_first(lp), iv, skip), p);
                }
            }
        }
        if (op % 97 == 0)
            model_check(lp, &m);
    }
    model_check(lp, &m);
    for (int i = 0; i < m.n; i++)
        free(m.s[i]);
    lp_destroy(lp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_pack_is_nine_bytes_and_valid),
        cmocka_unit_test(test_int_encoding_widths_at_every_boundary),
        cmocka_unit_test(test_int_bytes_match_listpack_layout),
        cmocka_unit_test(test_string_encoding_widths_and_backlens),
        cmocka_unit_test(test_five_byte_backlen_for_a_256mb_element),
        cmocka_unit_test(test_string_bytes_match_listpack_layout),
        cmocka_unit_test(test_canonical_int_rule),
        cmocka_unit_test(test_int_and_noncanonical_text_stay_distinct),
        cmocka_unit_test(test_val_str_formats_extremes),
        cmocka_unit_test(test_forward_and_backward_traversal_agree),
        cmocka_unit_test(test_insert_at_head_middle_and_end),
        cmocka_unit_test(test_replace_growing_shrinking_and_same_size),
        cmocka_unit_test(test_delete_ranges),
        cmocka_unit_test(test_find_with_skip_looks_only_at_fields),
        cmocka_unit_test(test_append_many_equals_single_appends),
        cmocka_unit_test(test_elements_are_byte_identical_to_redis_7),
        cmocka_unit_test(test_validate_accepts_valid_packs),
        cmocka_unit_test(test_validate_rejects_truncated_and_bad_headers),
        cmocka_unit_test(test_validate_fuzz_garbled_packs),
        cmocka_unit_test(test_validate_random_bodies),
        cmocka_unit_test(test_random_ops_match_array_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
