/*
 * test_tier.c -- unit tests for engine/tier.c, the tier record codec.
 *
 * Round trips (field by field, byte-exact layout at fixed offsets), every
 * single-byte corruption detected, truncation at every length rejected,
 * hostile lengths rejected without reading past the buffer (the buffers are
 * exact-size heap blocks, so ASan in the Sanitize build catches any
 * overread), and trailing bytes after a record ignored via *used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/crc32c.h"
#include "engine/err.h"
#include "engine/tier.h"

static unsigned char *encode(const struct tier_rec *r, size_t *len)
{
    *len = tier_rec_size(r);
    unsigned char *buf = malloc(*len);
    assert_non_null(buf);
    tier_rec_encode(r, buf);
    return buf;
}

static struct tier_rec sample(const char *key, const void *val, uint32_t vlen)
{
    struct tier_rec r = {
        .gen = 0x0102030405060708ull,
        .expire_ms = 1700000000123ll,
        .key = key,
        .klen = (uint32_t)strlen(key),
        .val = val,
        .vlen = vlen,
        .rawlen = vlen * 3,
        .dict_id = 77,
        .type = 4,
        .flags = 0,
    };
    return r;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_tier_rec_round_trip_keeps_every_field(void **state)
{
    (void)state;
    struct tier_rec r = sample("user:1000", "some compressed bytes", 21);
    size_t len, used = 0;
    unsigned char *buf = encode(&r, &len);
    struct tier_rec d;

    assert_int_equal(len, TIER_REC_HDR + 9 + 21);
    assert_int_equal(tier_rec_decode(buf, len, &d, &used), ST_OK);
    assert_int_equal(used, len);
    assert_true(d.gen == r.gen);
    assert_true(d.expire_ms == r.expire_ms);
    assert_int_equal(d.klen, 9);
    assert_memory_equal(d.key, "user:1000", 9);
    assert_ptr_equal(d.key, (const char *)buf + TIER_REC_HDR);
    assert_int_equal(d.vlen, 21);
    assert_memory_equal(d.val, "some compressed bytes", 21);
    assert_int_equal(d.rawlen, 63);
    assert_int_equal(d.dict_id, 77);
    assert_int_equal(d.type, 4);
    assert_int_equal(d.flags, 0);
    free(buf);

    /* no expiry, raw flag, empty value, NULL used */
    r = sample("k", NULL, 0);
    r.expire_ms = -1;
    r.flags = TIER_REC_F_RAW;
    r.gen = UINT64_MAX;
    buf = encode(&r, &len);
    assert_int_equal(tier_rec_decode(buf, len, &d, NULL), ST_OK);
    assert_true(d.expire_ms == -1);
    assert_true(d.gen == UINT64_MAX);
    assert_int_equal(d.flags, TIER_REC_F_RAW);
    assert_int_equal(d.vlen, 0);
    free(buf);
}

static void test_tier_rec_layout_is_little_endian_at_documented_offsets(void **state)
{
    (void)state;
    struct tier_rec r = sample("ab", "xyz", 3);
    size_t len;
    unsigned char *buf = encode(&r, &len);

    assert_memory_equal(buf, "STR1", 4);
    assert_int_equal(le32(buf), TIER_REC_MAGIC);
    assert_int_equal(le32(buf + 4), crc32c(0, buf + 8, len - 8));
    static const unsigned char gen[8] = {8, 7, 6, 5, 4, 3, 2, 1};
    assert_memory_equal(buf + 8, gen, 8);
    assert_true(le32(buf + 16) == (uint32_t)1700000000123ll && le32(buf + 20) == (uint32_t)(1700000000123ll >> 32));
    assert_int_equal(le32(buf + 24), 2);
    assert_int_equal(le32(buf + 28), 3);
    assert_int_equal(le32(buf + 32), 9);
    assert_int_equal(le32(buf + 36), 77);
    assert_int_equal(buf[40], 4);
    assert_int_equal(buf[41], 0);
    assert_int_equal(buf[42] | buf[43], 0);
    assert_memory_equal(buf + 44, "abxyz", 5);
    free(buf);
}

static void test_tier_rec_every_single_byte_corruption_is_detected(void **state)
{
    (void)state;
    char val[200];
    for (int i = 0; i < 200; i++)
        val[i] = (char)(i * 7);
    struct tier_rec r = sample("some:key", val, sizeof(val));
    size_t len;
    unsigned char *buf = encode(&r, &len);
    struct tier_rec d;

    for (size_t i = 0; i < len; i++) {
        static const unsigned char xors[] = {0x01, 0x80, 0xff, 0x5a};
        for (size_t x = 0; x < sizeof(xors); x++) {
            buf[i] ^= xors[x];
            assert_int_equal(tier_rec_decode(buf, len, &d, NULL), ST_ECORRUPT);
            buf[i] ^= xors[x];
        }
    }
    assert_int_equal(tier_rec_decode(buf, len, &d, NULL), ST_OK);
    free(buf);
}

static void test_tier_rec_truncation_at_every_length_is_rejected(void **state)
{
    (void)state;
    struct tier_rec r = sample("truncate-me", "0123456789abcdef", 16);
    size_t len;
    unsigned char *whole = encode(&r, &len);
    struct tier_rec d;

    for (size_t n = 0; n < len; n++) {
        /* an exact-size copy, so ASan sees any read past n */
        unsigned char *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, whole, n);
        assert_int_equal(tier_rec_decode(cut, n, &d, NULL), ST_ECORRUPT);
        free(cut);
    }
    assert_int_equal(tier_rec_decode(NULL, 0, &d, NULL), ST_ECORRUPT);
    free(whole);
}

/* Rewrites a header field and fixes the CRC, so only the length checks stand
 * between the decoder and a bad read. */
static void set_field_recrc(unsigned char *buf, size_t len, size_t off, uint32_t v)
{
    buf[off] = (unsigned char)v;
    buf[off + 1] = (unsigned char)(v >> 8);
    buf[off + 2] = (unsigned char)(v >> 16);
    buf[off + 3] = (unsigned char)(v >> 24);
    uint32_t c = crc32c(0, buf + 8, len - 8);
    buf[4] = (unsigned char)c;
    buf[5] = (unsigned char)(c >> 8);
    buf[6] = (unsigned char)(c >> 16);
    buf[7] = (unsigned char)(c >> 24);
}

static void test_tier_rec_hostile_lengths_are_rejected(void **state)
{
    (void)state;
    struct tier_rec r = sample("key", "value", 5);
    size_t len;
    unsigned char *buf = encode(&r, &len);
    struct tier_rec d;
    static const struct {
        size_t off;
        uint32_t v;
    } bad[] = {
        {24, 0},                  /* klen 0 */
        {24, TIER_KEY_MAX + 1},   /* klen above the limit */
        {24, UINT32_MAX},         /* klen wraps if added in 32 bits */
        {24, 4},                  /* klen one past the buffer */
        {28, 6},                  /* vlen one past */
        {28, UINT32_MAX},         /* vlen huge */
        {28, UINT32_MAX - 46},    /* 44+klen+vlen wraps to a small number in 32 bits */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *copy = malloc(len);
        assert_non_null(copy);
        memcpy(copy, buf, len);
        set_field_recrc(copy, len, bad[i].off, bad[i].v);
        assert_int_equal(tier_rec_decode(copy, len, &d, NULL), ST_ECORRUPT);
        free(copy);
    }
    /* unknown flags and non-zero reserved bytes, CRC fixed up */
    unsigned char *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, buf, len);
    set_field_recrc(copy, len, 40, 4u | 0x02u << 8); /* type 4, flags 0x02 */
    assert_int_equal(tier_rec_decode(copy, len, &d, NULL), ST_ECORRUPT);
    memcpy(copy, buf, len);
    set_field_recrc(copy, len, 40, 4u | 1u << 16); /* reserved 1 */
    assert_int_equal(tier_rec_decode(copy, len, &d, NULL), ST_ECORRUPT);
    memcpy(copy, buf, len);
    set_field_recrc(copy, len, 40, 4u | TIER_REC_F_RAW << 8); /* a known flag is fine */
    assert_int_equal(tier_rec_decode(copy, len, &d, NULL), ST_OK);
    free(copy);
    free(buf);
}

static void test_tier_rec_trailing_bytes_are_not_part_of_the_record(void **state)
{
    (void)state;
    struct tier_rec r = sample("k1", "v1", 2);
    size_t len, used = 0;
    unsigned char *one = encode(&r, &len);
    unsigned char *two = malloc(len * 2 + 5);
    struct tier_rec d;

    assert_non_null(two);
    memcpy(two, one, len);
    memcpy(two + len, one, len);
    memset(two + 2 * len, 0xee, 5);
    assert_int_equal(tier_rec_decode(two, len * 2 + 5, &d, &used), ST_OK);
    assert_int_equal(used, len);
    assert_int_equal(tier_rec_decode(two + used, len * 2 + 5 - used, &d, &used), ST_OK);
    assert_int_equal(used, len);
    assert_int_equal(tier_rec_decode(two + 2 * len, 5, &d, &used), ST_ECORRUPT);
    free(two);
    free(one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tier_rec_round_trip_keeps_every_field),
        cmocka_unit_test(test_tier_rec_layout_is_little_endian_at_documented_offsets),
        cmocka_unit_test(test_tier_rec_every_single_byte_corruption_is_detected),
        cmocka_unit_test(test_tier_rec_truncation_at_every_length_is_rejected),
        cmocka_unit_test(test_tier_rec_hostile_lengths_are_rejected),
        cmocka_unit_test(test_tier_rec_trailing_bytes_are_not_part_of_the_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
