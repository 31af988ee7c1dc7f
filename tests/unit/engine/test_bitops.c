/*
 * test_bitops.c -- unit tests for engine/bitops.c. Each fast routine (word
 * popcount, word search, word BITOP, 9-byte field reads, overflow rules) is
 * checked against a naive bit-by-bit reference on random inputs with a fixed
 * seed, plus the edge cases Redis documents. Expected values of the range and
 * overflow rules were checked against Redis 7.0.15 through BITCOUNT, BITPOS
 * and BITFIELD.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/bitops.h"
#include "engine/err.h"
#include "engine/util.h"

#define BUF 600

/* ------------------------------------------------------------------------ */
/* Naive references                                                         */
/* ------------------------------------------------------------------------ */

static int ref_bit(const unsigned char *p, size_t len, uint64_t i)
{
    if (i / 8 >= len)
        return 0;
    return (p[i / 8] >> (7 - i % 8)) & 1;
}

static uint64_t ref_count(const unsigned char *p, uint64_t first, uint64_t last)
{
    uint64_t n = 0;

    for (uint64_t i = first; i <= last; i++)
        n += (uint64_t)ref_bit(p, SIZE_MAX, i);
    return n;
}

static int64_t ref_find(const unsigned char *p, uint64_t first, uint64_t last, int bit)
{
    for (uint64_t i = first; i <= last; i++)
        if (ref_bit(p, SIZE_MAX, i) == bit)
            return (int64_t)i;
    return -1;
}

static uint64_t ref_get(const unsigned char *p, size_t len, uint64_t off, unsigned bits)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < bits; i++)
        v = (v << 1) | (uint64_t)ref_bit(p, len, off + i);
    return v;
}

static void fill_random(struct util_rng *r, unsigned char *p, size_t n, int density)
{
    for (size_t i = 0; i < n; i++) {
        switch (density) {
        case 0: p[i] = (unsigned char)util_rng_next(r); break;                   /* dense noise */
        case 1: p[i] = (util_rng_next(r) % 97 == 0) ? (unsigned char)(1u << (util_rng_next(r) % 8)) : 0; break;
        default: p[i] = (util_rng_next(r) % 97 == 0) ? (unsigned char)~(1u << (util_rng_next(r) % 8)) : 0xff; break;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* popcount / count_range                                                   */
/* ------------------------------------------------------------------------ */

static void test_popcount_matches_reference_at_every_length_and_alignment(void **state)
{
    struct util_rng r;
    unsigned char buf[BUF + 8];

    (void)state;
    util_rng_seed(&r, 1);
    fill_random(&r, buf, sizeof(buf), 0);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= BUF; len++) {
            uint64_t want = len ? ref_count(buf + off, 0, len * 8 - 1) : 0;

            assert_int_equal(bitops_popcount(buf + off, len), want);
        }
}

static void test_popcount_all_ones_and_empty(void **state)
{
    unsigned char buf[1000];

    (void)state;
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(bitops_popcount(buf, sizeof(buf)), 8000);
    assert_int_equal(bitops_popcount(buf, 0), 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(bitops_popcount(buf, sizeof(buf)), 0);
}

static void test_count_range_matches_reference_on_random_ranges(void **state)
{
    struct util_rng r;
    unsigned char buf[BUF];

    (void)state;
    util_rng_seed(&r, 2);
    for (int round = 0; round < 20000; round++) {
        if (round % 500 == 0)
            fill_random(&r, buf, sizeof(buf), round / 500 % 3);
        uint64_t a = util_rng_next(&r) % (BUF * 8), b = util_rng_next(&r) % (BUF * 8);
        if (round % 4 == 0)
            b = a + util_rng_next(&r) % 20; /* short ranges inside one or two bytes */
        if (b >= BUF * 8)
            b = BUF * 8 - 1;
        if (a > b) {
            uint64_t t = a;
            a = b;
            b = t;
        }
        assert_int_equal(bitops_count_range(buf, a, b), ref_count(buf, a, b));
    }
}

/* ------------------------------------------------------------------------ */
/* find                                                                     */
/* ------------------------------------------------------------------------ */

static void test_find_matches_reference_on_random_ranges(void **state)
{
    struct util_rng r;
    unsigned char buf[BUF];

    (void)state;
    util_rng_seed(&r, 3);
    for (int round = 0; round < 30000; round++) {
        if (round % 300 == 0)
            fill_random(&r, buf, sizeof(buf), round / 300 % 3);
        uint64_t a = util_rng_next(&r) % (BUF * 8), b = util_rng_next(&r) % (BUF * 8);
        if (round % 3 == 0)
            b = a + util_rng_next(&r) % 30;
        if (b >= BUF * 8)
            b = BUF * 8 - 1;
        if (a > b) {
            uint64_t t = a;
            a = b;
            b = t;
        }
        for (int bit = 0; bit <= 1; bit++)
            assert_int_equal(bitops_find(buf, a, b, bit), ref_find(buf, a, b, bit));
    }
}

static void test_find_none_and_exact_edges(void **state)
{
    unsigned char z[64] = { 0 }, o[64];

    (void)state;
    memset(o, 0xff, sizeof(o));
    assert_int_equal(bitops_find(z, 0, 511, 1), -1);
    assert_int_equal(bitops_find(o, 0, 511, 0), -1);
    z[63] = 0x01;
    assert_int_equal(bitops_find(z, 0, 511, 1), 511);
    assert_int_equal(bitops_find(z, 0, 510, 1), -1);
    o[0] = 0x7f;
    assert_int_equal(bitops_find(o, 0, 511, 0), 0);
    assert_int_equal(bitops_find(o, 1, 511, 0), -1);
    assert_int_equal(bitops_find(o, 0, 0, 0), 0);
}

/* ------------------------------------------------------------------------ */
/* ranges                                                                   */
/* ------------------------------------------------------------------------ */

static void expect_range(long long s, long long e, int bits, size_t len, int shortcut, int ok, uint64_t f,
                         uint64_t l)
{
    uint64_t first = 12345, last = 12345;
    int rc = bitops_range(s, e, bits, len, shortcut, &first, &last);

    assert_int_equal(rc, ok);
    if (ok) {
        assert_int_equal(first, f);
        assert_int_equal(last, l);
    }
}

static void test_range_byte_units(void **state)
{
    (void)state;
    expect_range(0, -1, 0, 3, 1, 1, 0, 23);
    expect_range(1, 1, 0, 3, 1, 1, 8, 15);
    expect_range(-2, -1, 0, 3, 1, 1, 8, 23);
    expect_range(0, 100, 0, 3, 1, 1, 0, 23);
    expect_range(-100, 0, 0, 3, 1, 1, 0, 7);
    expect_range(2, 1, 0, 3, 1, 0, 0, 0);
    expect_range(5, 10, 0, 3, 1, 0, 0, 0);
    expect_range(0, -1, 0, 0, 1, 0, 0, 0); /* empty string */
    expect_range(LLONG_MIN, LLONG_MAX, 0, 3, 1, 1, 0, 23);
}

static void test_range_bit_units(void **state)
{
    (void)state;
    expect_range(5, 30, 1, 3, 1, 1, 5, 23);
    expect_range(-3, -1, 1, 3, 1, 1, 21, 23);
    expect_range(7, 7, 1, 3, 1, 1, 7, 7);
    expect_range(24, 30, 1, 3, 1, 0, 0, 0);
}

static void test_range_negative_shortcut_only_for_bitcount(void **state)
{
    (void)state;
    /* both negative, start > end: BITCOUNT answers 0 at once... */
    expect_range(-5, -10, 0, 3, 1, 0, 0, 0);
    /* ...while BITPOS converts and clamps them to byte 0 */
    expect_range(-5, -10, 0, 3, 0, 1, 0, 7);
}

/* ------------------------------------------------------------------------ */
/* BITOP                                                                    */
/* ------------------------------------------------------------------------ */

static void test_bitop_matches_reference_with_uneven_lengths(void **state)
{
    struct util_rng r;
    unsigned char s[4][100], out[100], want[100];

    (void)state;
    util_rng_seed(&r, 4);
    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + util_rng_next(&r) % 4, lens[4], dlen = 0;
        const unsigned char *src[4];
        enum bitops_op op = (enum bitops_op)(util_rng_next(&r) % 4);

        if (op == BITOPS_NOT)
            n = 1;
        for (size_t i = 0; i < n; i++) {
            lens[i] = util_rng_next(&r) % 100;
            if (round % 7 == 0)
                lens[i] = 0;
            fill_random(&r, s[i], lens[i], 0);
            src[i] = lens[i] || round % 2 ? s[i] : NULL; /* a missing key has no bytes */
            if (lens[i] > dlen)
                dlen = lens[i];
        }
        for (size_t j = 0; j < dlen; j++) {
            unsigned acc = j < lens[0] ? s[0][j] : 0;

            for (size_t i = 1; i < n; i++) {
                unsigned b = j < lens[i] ? s[i][j] : 0;

                if (op == BITOPS_AND)
                    acc &= b;
                else if (op == BITOPS_OR)
                    acc |= b;
                else if (op == BITOPS_XOR)
                    acc ^= b;
            }
            want[j] = (unsigned char)(op == BITOPS_NOT ? ~acc : acc);
        }
        memset(out, 0xaa, sizeof(out));
        bitops_op(op, out, dlen, src, lens, n);
        assert_memory_equal(out, want, dlen);
        assert_int_equal(out[dlen < 100 ? dlen : 99], dlen < 100 ? 0xaa : want[99]);
    }
}

static void test_bitop_single_source_copies_and_not_inverts(void **state)
{
    const unsigned char a[] = { 0x0f, 0xf0, 0x55 };
    const unsigned char *src[1] = { a };
    size_t len[1] = { 3 };
    unsigned char out[3];

    (void)state;
    bitops_op(BITOPS_AND, out, 3, src, len, 1);
    assert_memory_equal(out, a, 3);
    bitops_op(BITOPS_NOT, out, 3, src, len, 1);
    assert_int_equal(out[0], 0xf0);
    assert_int_equal(out[1], 0x0f);
    assert_int_equal(out[2], 0xaa);
}

/* ------------------------------------------------------------------------ */
/* BITFIELD argument grammar                                                */
/* ------------------------------------------------------------------------ */

static int parse_type(const char *s, int *sign, unsigned *bits)
{
    return bitops_parse_type(s, strlen(s), sign, bits);
}

static void test_parse_type_accepts_i1_to_i64_and_u1_to_u63(void **state)
{
    int sign;
    unsigned bits;

    (void)state;
    assert_int_equal(parse_type("i1", &sign, &bits), 0);
    assert_int_equal(sign, 1);
    assert_int_equal(bits, 1);
    assert_int_equal(parse_type("i64", &sign, &bits), 0);
    assert_int_equal(bits, 64);
    assert_int_equal(parse_type("u63", &sign, &bits), 0);
    assert_int_equal(sign, 0);
    assert_int_equal(bits, 63);
    assert_int_equal(parse_type("u8", &sign, &bits), 0);
    assert_int_equal(bits, 8);
}

static void test_parse_type_rejects_bad_types(void **state)
{
    static const char *bad[] = { "u64", "i65", "i0", "u0", "I8", "U8", "i", "u", "", "x8", "i-1",
                                 "i08", "i 8", "i8 ", "8", "i+8", "u99999999999999999999" };
    int sign;
    unsigned bits;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse_type(bad[i], &sign, &bits) != ST_EINVAL)
            fail_msg("type \"%s\" was accepted", bad[i]);
}

static int parse_off(const char *s, unsigned hb, uint64_t max, uint64_t *out)
{
    return bitops_parse_offset(s, strlen(s), hb, max, out);
}

static void test_parse_offset_plain_hash_and_limits(void **state)
{
    uint64_t off;
    const uint64_t max = 512ull * 1024 * 1024;

    (void)state;
    assert_int_equal(parse_off("0", 0, max, &off), 0);
    assert_int_equal(off, 0);
    assert_int_equal(parse_off("4294967295", 0, max, &off), 0);
    assert_int_equal(off, 4294967295ull);
    assert_int_equal(parse_off("4294967296", 0, max, &off), ST_EINVAL);
    assert_int_equal(parse_off("-1", 0, max, &off), ST_EINVAL);
    assert_int_equal(parse_off("abc", 0, max, &off), ST_EINVAL);
    assert_int_equal(parse_off("", 0, max, &off), ST_EINVAL);
    assert_int_equal(parse_off("1.5", 0, max, &off), ST_EINVAL);
    /* '#' multiplies by the width, only where a width is given */
    assert_int_equal(parse_off("#3", 8, max, &off), 0);
    assert_int_equal(off, 24);
    assert_int_equal(parse_off("#3", 0, max, &off), ST_EINVAL);
    assert_int_equal(parse_off("#", 8, max, &off), ST_EINVAL);
    assert_int_equal(parse_off("#-1", 8, max, &off), ST_EINVAL);
    assert_int_equal(parse_off("#536870911", 8, max, &off), 0);
    assert_int_equal(parse_off("#536870912", 8, max, &off), ST_EINVAL);
    assert_int_equal(parse_off("#9223372036854775807", 64, max, &off), ST_EINVAL);
    /* a smaller proto-max-bulk-len */
    assert_int_equal(parse_off("8388607", 0, 1024 * 1024, &off), 0);
    assert_int_equal(parse_off("8388608", 0, 1024 * 1024, &off), ST_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* BITFIELD fields                                                          */
/* ------------------------------------------------------------------------ */

static void test_field_get_matches_reference_including_past_the_end(void **state)
{
    struct util_rng r;
    unsigned char buf[40];

    (void)state;
    util_rng_seed(&r, 5);
    for (int round = 0; round < 50000; round++) {
        size_t len = util_rng_next(&r) % sizeof(buf);
        uint64_t off = util_rng_next(&r) % 400;
        unsigned bits = 1 + (unsigned)(util_rng_next(&r) % 64);
        uint64_t want, got;

        fill_random(&r, buf, len, 0);
        want = ref_get(buf, len, off, bits);
        got = bitops_get_unsigned(buf, len, off, bits);
        assert_int_equal(got, want);
        int64_t sw = bits < 64 && (want >> (bits - 1)) ? (int64_t)(want | (UINT64_MAX << bits)) : (int64_t)want;
        assert_int_equal(bitops_get_signed(buf, len, off, bits), sw);
    }
}

static void test_field_set_writes_only_its_bits(void **state)
{
    struct util_rng r;
    unsigned char buf[20], before[20];

    (void)state;
    util_rng_seed(&r, 6);
    for (int round = 0; round < 50000; round++) {
        uint64_t off = util_rng_next(&r) % 90;
        unsigned bits = 1 + (unsigned)(util_rng_next(&r) % 64);
        uint64_t v = util_rng_next(&r);
        uint64_t mask = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;

        fill_random(&r, buf, sizeof(buf), 0);
        memcpy(before, buf, sizeof(buf));
        bitops_set_field(buf, off, bits, v);
        assert_int_equal(ref_get(buf, sizeof(buf), off, bits), v & mask);
        for (uint64_t i = 0; i < sizeof(buf) * 8; i++)
            if (i < off || i >= off + bits)
                assert_int_equal(ref_bit(buf, sizeof(buf), i), ref_bit(before, sizeof(before), i));
    }
}

/* Mathematical overflow of value + incr against a bits-wide field. */
static int ref_overflow_signed(int64_t v, int64_t incr, unsigned bits)
{
    __int128 max = bits == 64 ? (__int128)INT64_MAX : ((__int128)1 << (bits - 1)) - 1;
    __int128 min = -max - 1, s = (__int128)v + incr;

    return s > max ? 1 : s < min ? -1 : 0;
}

static int ref_overflow_unsigned(uint64_t v, int64_t incr, unsigned bits)
{
    __int128 max = ((__int128)1 << bits) - 1, s = (__int128)v + incr;

    return s > max ? 1 : s < 0 ? -1 : 0;
}

static void test_overflow_incrby_matches_arithmetic(void **state)
{
    struct util_rng r;

    (void)state;
    util_rng_seed(&r, 7);
    for (int round = 0; round < 200000; round++) {
        unsigned bits = 1 + (unsigned)(util_rng_next(&r) % 64);
        uint64_t raw = util_rng_next(&r);
        int64_t incr = (int64_t)util_rng_next(&r);

        if (round % 3 == 0)
            incr >>= util_rng_next(&r) % 64; /* small increments too */
        /* a field value within range, as INCRBY reads it */
        uint64_t uv = bits == 64 ? raw : raw & (((uint64_t)1 << bits) - 1);
        int64_t sv = bits < 64 && (uv >> (bits - 1)) ? (int64_t)(uv | (UINT64_MAX << bits)) : (int64_t)uv;

        int64_t sres = 0x5a5a;
        int want = ref_overflow_signed(sv, incr, bits);
        assert_int_equal(bitops_overflow_signed(sv, incr, bits, BITOPS_SAT, &sres), want);
        if (want) {
            __int128 max = bits == 64 ? (__int128)INT64_MAX : ((__int128)1 << (bits - 1)) - 1;
            assert_true(sres == (want > 0 ? (int64_t)max : (int64_t)(-max - 1)));
            assert_int_equal(bitops_overflow_signed(sv, incr, bits, BITOPS_WRAP, &sres), want);
            uint64_t w = (uint64_t)sv + (uint64_t)incr;
            assert_int_equal(bitops_get_signed((unsigned char[8]){ (unsigned char)(w >> 56), (unsigned char)(w >> 48),
                                                                   (unsigned char)(w >> 40), (unsigned char)(w >> 32),
                                                                   (unsigned char)(w >> 24), (unsigned char)(w >> 16),
                                                                   (unsigned char)(w >> 8), (unsigned char)w },
                                                8, 64 - bits, bits),
                             sres);
        }
        if (bits < 64) {
            uint64_t ures = 0x5a5a;
            int uwant = ref_overflow_unsigned(uv, incr, bits);

            assert_int_equal(bitops_overflow_unsigned(uv, incr, bits, BITOPS_SAT, &ures), uwant);
            if (uwant) {
                assert_int_equal(ures, uwant > 0 ? ((uint64_t)1 << bits) - 1 : 0);
                assert_int_equal(bitops_overflow_unsigned(uv, incr, bits, BITOPS_WRAP, &ures), uwant);
                assert_int_equal(ures, (uv + (uint64_t)incr) & (((uint64_t)1 << bits) - 1));
            }
        }
    }
}

static void test_overflow_fail_leaves_result_alone(void **state)
{
    int64_t s = 77;
    uint64_t u = 77;

    (void)state;
    assert_int_equal(bitops_overflow_signed(127, 1, 8, BITOPS_FAIL, &s), 1);
    assert_int_equal(s, 77);
    assert_int_equal(bitops_overflow_unsigned(0, -1, 8, BITOPS_FAIL, &u), -1);
    assert_int_equal(u, 77);
}

static void test_overflow_set_quirks_match_redis(void **state)
{
    int64_t s;
    uint64_t u;

    (void)state;
    /* SET u8 -1: Redis sees 2^64-1 > 255, so SAT stores 255, WRAP 255 */
    assert_int_equal(bitops_overflow_unsigned((uint64_t)-1, 0, 8, BITOPS_SAT, &u), 1);
    assert_int_equal(u, 255);
    assert_int_equal(bitops_overflow_unsigned((uint64_t)-5, 0, 8, BITOPS_WRAP, &u), 1);
    assert_int_equal(u, 251);
    /* SET i8 -200: below the minimum */
    assert_int_equal(bitops_overflow_signed(-200, 0, 8, BITOPS_SAT, &s), -1);
    assert_int_equal(s, -128);
    assert_int_equal(bitops_overflow_signed(-200, 0, 8, BITOPS_WRAP, &s), -1);
    assert_int_equal(s, 56);
    /* SET i8 INT64_MIN: Redis's max - value wraps, so it reports "above" */
    assert_int_equal(bitops_overflow_signed(INT64_MIN, 0, 8, BITOPS_SAT, &s), 1);
    assert_int_equal(s, 127);
    /* i64 never overflows on SET */
    assert_int_equal(bitops_overflow_signed(INT64_MIN, 0, 64, BITOPS_SAT, &s), 0);
    assert_int_equal(bitops_overflow_signed(INT64_MAX, 0, 64, BITOPS_SAT, &s), 0);
    assert_int_equal(bitops_overflow_signed(INT64_MAX, 1, 64, BITOPS_WRAP, &s), 1);
    assert_true(s == INT64_MIN);
}

static void test_field_run_set_incrby_get_and_fail(void **state)
{
    unsigned char buf[4] = { 0 };
    struct bitops_field f = { .offset = 0, .arg = 100, .op = BITOPS_SET, .overflow = BITOPS_WRAP, .bits = 8,
                              .sign = 0 };
    int64_t reply;
    int changed;

    (void)state;
    assert_int_equal(bitops_field_run(&f, buf, 4, &reply, &changed), 1);
    assert_int_equal(reply, 0); /* SET replies the old value */
    assert_int_equal(changed, 1);
    assert_int_equal(buf[0], 100);
    f.op = BITOPS_INCRBY;
    f.arg = 200;
    assert_int_equal(bitops_field_run(&f, buf, 4, &reply, &changed), 1);
    assert_int_equal(reply, 44); /* (100 + 200) mod 256 */
    f.overflow = BITOPS_SAT;
    f.arg = 250;
    assert_int_equal(bitops_field_run(&f, buf, 4, &reply, &changed), 1);
    assert_int_equal(reply, 255); /* 44 + 250 saturates */
    f.overflow = BITOPS_FAIL;
    f.arg = 1;
    assert_int_equal(bitops_field_run(&f, buf, 4, &reply, &changed), 0);
    assert_int_equal(buf[0], 255); /* unchanged */
    assert_int_equal(changed, 0);
    f.op = BITOPS_GET;
    f.sign = 1;
    assert_int_equal(bitops_field_run(&f, buf, 4, &reply, &changed), 1);
    assert_int_equal(reply, -1);
    /* signed increments across the sign */
    f.op = BITOPS_INCRBY;
    f.offset = 12;
    f.bits = 5;
    f.arg = -17;
    f.overflow = BITOPS_WRAP;
    assert_int_equal(bitops_field_run(&f, buf, 4, &reply, &changed), 1);
    assert_int_equal(reply, 15); /* -17 wraps to 15 in i5 */
    f.op = BITOPS_GET;
    assert_int_equal(bitops_field_run(&f, buf, 4, &reply, &changed), 1);
    assert_int_equal(reply, 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_popcount_matches_reference_at_every_length_and_alignment),
        cmocka_unit_test(test_popcount_all_ones_and_empty),
        cmocka_unit_test(test_count_range_matches_reference_on_random_ranges),
        cmocka_unit_test(test_find_matches_reference_on_random_ranges),
        cmocka_unit_test(test_find_none_and_exact_edges),
        cmocka_unit_test(test_range_byte_units),
        cmocka_unit_test(test_range_bit_units),
        cmocka_unit_test(test_range_negative_shortcut_only_for_bitcount),
        cmocka_unit_test(test_bitop_matches_reference_with_uneven_lengths),
        cmocka_unit_test(test_bitop_single_source_copies_and_not_inverts),
        cmocka_unit_test(test_parse_type_accepts_i1_to_i64_and_u1_to_u63),
        cmocka_unit_test(test_parse_type_rejects_bad_types),
        cmocka_unit_test(test_parse_offset_plain_hash_and_limits),
        cmocka_unit_test(test_field_get_matches_reference_including_past_the_end),
        cmocka_unit_test(test_field_set_writes_only_its_bits),
        cmocka_unit_test(test_overflow_incrby_matches_arithmetic),
        cmocka_unit_test(test_overflow_fail_leaves_result_alone),
        cmocka_unit_test(test_overflow_set_quirks_match_redis),
        cmocka_unit_test(test_field_run_set_incrby_get_and_fail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
