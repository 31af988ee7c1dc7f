/*
 * test_ssd_fmt.c -- unit tests for tiers/ssd_fmt.c, the SSD tier's
 * on-device format: round trips of segment headers, entries of every kind
 * and dictionary files; every single-byte corruption and every truncation
 * of a header, an entry and a dictionary is detected (never decoded as
 * something else); hostile lengths are refused without reading past the
 * bytes given; file names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/tier.h"
#include "tiers/ssd_fmt.h"

static void test_fmt_segment_header_round_trips(void **state)
{
    (void)state;
    unsigned char b[SFMT_HDR_SIZE];
    struct sfmt_seg_hdr h = {.seq = 0x0123456789abcdefull, .created_ms = -5, .segment_size = 64u << 20,
                             .cls = SFMT_CLASS_NOTES, .flags = SFMT_SEG_F_COMPACT},
                        o;
    sfmt_seg_hdr_encode(&h, b);
    assert_memory_equal(b, "STRSEG01", 8);
    assert_int_equal(sfmt_seg_hdr_decode(b, sizeof(b), &o), ST_OK);
    assert_true(o.seq == h.seq);
    assert_true(o.created_ms == -5);
    assert_true(o.segment_size == h.segment_size);
    assert_int_equal(o.cls, SFMT_CLASS_NOTES);
    assert_int_equal(o.flags, SFMT_SEG_F_COMPACT);
}

static void test_fmt_every_header_byte_flip_and_truncation_is_detected(void **state)
{
    (void)state;
    unsigned char b[SFMT_HDR_SIZE];
    struct sfmt_seg_hdr h = {.seq = 77, .created_ms = 1700000000000, .segment_size = 1u << 20, .cls = 3}, o;
    sfmt_seg_hdr_encode(&h, b);
    for (size_t i = 0; i < sizeof(b); i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            b[i] ^= (unsigned char)(1u << bit);
            assert_int_equal(sfmt_seg_hdr_decode(b, sizeof(b), &o), ST_ECORRUPT);
            b[i] ^= (unsigned char)(1u << bit);
        }
    }
    for (size_t n = 0; n < sizeof(b); n += (n < 64 ? 1 : 61))
        assert_int_equal(sfmt_seg_hdr_decode(b, n, &o), ST_ECORRUPT);
    assert_int_equal(sfmt_seg_hdr_decode(NULL, sizeof(b), &o), ST_ECORRUPT);
    /* a valid CRC over bad fields is refused too */
    struct sfmt_seg_hdr bad = h;
    bad.segment_size = 4096;
    sfmt_seg_hdr_encode(&bad, b);
    assert_int_equal(sfmt_seg_hdr_decode(b, sizeof(b), &o), ST_ECORRUPT);
    bad = h;
    bad.cls = 7;
    sfmt_seg_hdr_encode(&bad, b);
    assert_int_equal(sfmt_seg_hdr_decode(b, sizeof(b), &o), ST_ECORRUPT);
    bad = h;
    bad.segment_size = (1u << 20) + 8;
    sfmt_seg_hdr_encode(&bad, b);
    assert_int_equal(sfmt_seg_hdr_decode(b, sizeof(b), &o), ST_ECORRUPT);
}

/* A PUT entry around a real record; returns its length (aligned). */
static size_t mk_put(unsigned char *buf, const char *key, uint32_t vlen, uint64_t seq, uint32_t segseq)
{
    unsigned char rec[1024], val[512];
    memset(val, 0x5a, sizeof(val));
    struct tier_rec r = {.gen = 9, .expire_ms = -1, .key = key, .klen = (uint32_t)strlen(key), .val = val,
                         .vlen = vlen, .rawlen = vlen, .flags = TIER_REC_F_RAW};
    size_t rl = tier_rec_size(&r);
    tier_rec_encode(&r, rec);
    sfmt_ent_encode(buf, SFMT_PUT, 3, seq, segseq, rec, rl);
    return sfmt_ent_size(rl);
}

static void test_fmt_entries_of_every_kind_round_trip(void **state)
{
    (void)state;
    unsigned char b[2048];
    struct sfmt_ent e;
    struct tier_rec r;
    size_t n = mk_put(b, "hello", 100, 42, 0xdeadbeef);

    assert_int_equal(n % 8, 0);
    assert_int_equal(sfmt_ent_decode(b, n, UINT64_MAX, &e, NULL), ST_OK);
    assert_int_equal(e.kind, SFMT_PUT);
    assert_int_equal(e.db, 3);
    assert_true(e.seq == 42);
    assert_true(e.seg_seq_lo == 0xdeadbeef);
    assert_int_equal(e.len, SFMT_ENT_HDR + TIER_REC_HDR + 5 + 100);
    assert_int_equal(sfmt_put_check(&e, &r), ST_OK);
    assert_int_equal(r.klen, 5);
    assert_memory_equal(r.key, "hello", 5);
    /* restamp: a new generation, still valid, payload untouched */
    sfmt_ent_restamp(b, 7);
    assert_int_equal(sfmt_ent_decode(b, n, UINT64_MAX, &e, NULL), ST_OK);
    assert_true(e.seg_seq_lo == 7 && e.seq == 42);

    sfmt_ent_encode(b, SFMT_DEL, 1023, 5, 1, "k", 1);
    assert_int_equal(sfmt_ent_decode(b, sfmt_ent_size(1), UINT64_MAX, &e, NULL), ST_OK);
    assert_int_equal(e.kind, SFMT_DEL);
    assert_int_equal(e.plen, 1);
    assert_int_equal(e.db, 1023);
    assert_int_equal(sfmt_put_check(&e, NULL), ST_ECORRUPT);

    unsigned char sp[8];
    uint16_t a, bb;
    sfmt_swap_payload(sp, 2, 9);
    sfmt_ent_encode(b, SFMT_SWAPDB, 0, 6, 1, sp, 8);
    assert_int_equal(sfmt_ent_decode(b, sfmt_ent_size(8), UINT64_MAX, &e, NULL), ST_OK);
    assert_int_equal(sfmt_swap_decode(&e, &a, &bb), ST_OK);
    assert_int_equal(a, 2);
    assert_int_equal(bb, 9);

    sfmt_ent_encode(b, SFMT_FLUSHDB, SFMT_DB_ALL, 8, 1, NULL, 0);
    assert_int_equal(sfmt_ent_decode(b, SFMT_ENT_HDR, UINT64_MAX, &e, NULL), ST_OK);
    assert_int_equal(e.kind, SFMT_FLUSHDB);
    assert_int_equal(e.db, SFMT_DB_ALL);
}

static void test_fmt_every_entry_byte_flip_and_truncation_is_detected(void **state)
{
    (void)state;
    unsigned char b[2048];
    struct sfmt_ent e;
    size_t need;
    size_t n = mk_put(b, "some-key", 200, 1234567, 99);
    uint32_t len = SFMT_ENT_HDR + TIER_REC_HDR + 8 + 200;

    for (size_t i = 0; i < len; i++) {
        for (unsigned m = 1; m < 256; m <<= 1) {
            b[i] ^= (unsigned char)m;
            int rc = sfmt_ent_decode(b, n, UINT64_MAX, &e, &need);
            /* a flip may make the length claim more than is there: then
             * the decoder asks for more, never accepts */
            assert_true(rc == ST_ECORRUPT || rc == ST_EAGAIN);
            b[i] ^= (unsigned char)m;
        }
    }
    for (size_t k = 0; k < len; k++) {
        int rc = sfmt_ent_decode(b, k, UINT64_MAX, &e, &need);
        assert_int_equal(rc, ST_EAGAIN);
        assert_true(need > k);
    }
    /* and the payload record inside a framing with a fresh CRC: the STR1 CRC */
    unsigned char copy[2048];
    memcpy(copy, b, n);
    copy[SFMT_ENT_HDR + TIER_REC_HDR + 3] ^= 1; /* inside the key */
    sfmt_ent_encode(copy, SFMT_PUT, 3, 1, 99, copy + SFMT_ENT_HDR, len - SFMT_ENT_HDR);
    assert_int_equal(sfmt_ent_decode(copy, n, UINT64_MAX, &e, NULL), ST_OK);
    assert_int_equal(sfmt_put_check(&e, NULL), ST_ECORRUPT);
    /* a payload with a byte after the record is not exactly one record */
    unsigned char rec[600];
    memcpy(rec, b + SFMT_ENT_HDR, len - SFMT_ENT_HDR);
    rec[len - SFMT_ENT_HDR] = 0;
    sfmt_ent_encode(copy, SFMT_PUT, 0, 1, 1, rec, len - SFMT_ENT_HDR + 1);
    assert_int_equal(sfmt_ent_decode(copy, sizeof(copy), UINT64_MAX, &e, NULL), ST_OK);
    assert_int_equal(sfmt_put_check(&e, NULL), ST_ECORRUPT);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void test_fmt_hostile_lengths_are_refused(void **state)
{
    (void)state;
    unsigned char *b = calloc(1, 4096);
    struct sfmt_ent e;
    size_t need = 0;
    assert_non_null(b);
    sfmt_ent_encode(b, SFMT_DEL, 0, 1, 1, "key", 3);
    static const uint32_t lens[] = {0, 1, 8, 31, 32, 0xffffffffu, 0x80000000u, (1u << 30), (1u << 30) - 4096 + 1};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        put32(b + 8, lens[i]);
        int rc = sfmt_ent_decode(b, 4096, UINT64_MAX, &e, &need);
        assert_int_equal(rc, ST_ECORRUPT); /* too short for a DEL, or past any segment */
    }
    /* a length past the room left in the segment */
    sfmt_ent_encode(b, SFMT_DEL, 0, 1, 1, "key", 3);
    assert_int_equal(sfmt_ent_decode(b, 4096, 34, &e, &need), ST_ECORRUPT);
    assert_int_equal(sfmt_ent_decode(b, 4096, 35, &e, &need), ST_OK);
    /* a plausible length beyond what is buffered: ask for exactly it */
    put32(b + 8, 3000);
    assert_int_equal(sfmt_ent_decode(b, 100, UINT64_MAX, &e, &need), ST_EAGAIN);
    assert_int_equal(need, 3000);
    /* kinds with fixed shapes */
    sfmt_ent_encode(b, SFMT_FLUSHDB, 0, 1, 1, "x", 1);
    assert_int_equal(sfmt_ent_decode(b, 4096, UINT64_MAX, &e, &need), ST_ECORRUPT);
    unsigned char sp[8];
    sfmt_swap_payload(sp, 4, 4); /* a == b */
    sfmt_ent_encode(b, SFMT_SWAPDB, 0, 1, 1, sp, 8);
    assert_int_equal(sfmt_ent_decode(b, 4096, UINT64_MAX, &e, &need), ST_ECORRUPT);
    sfmt_ent_encode(b, 9, 0, 1, 1, "x", 1); /* unknown kind */
    assert_int_equal(sfmt_ent_decode(b, 4096, UINT64_MAX, &e, &need), ST_ECORRUPT);
    /* zeros are not an entry */
    memset(b, 0, 64);
    assert_int_equal(sfmt_ent_decode(b, 64, UINT64_MAX, &e, &need), ST_ECORRUPT);
    free(b);
}

static void test_fmt_dictionary_files_round_trip_and_detect_damage(void **state)
{
    (void)state;
    unsigned char img[SFMT_DICT_HDR + 100];
    unsigned char d[100];
    for (int i = 0; i < 100; i++)
        d[i] = (unsigned char)(i * 7);
    sfmt_dict_hdr_encode(img, 12, d, sizeof(d));
    memcpy(img + SFMT_DICT_HDR, d, sizeof(d));
    uint32_t id, len;
    const void *p;
    assert_int_equal(sfmt_dict_decode(img, sizeof(img), &id, &p, &len), ST_OK);
    assert_int_equal(id, 12);
    assert_int_equal(len, 100);
    assert_memory_equal(p, d, 100);
    for (size_t i = 0; i < sizeof(img); i++) {
        img[i] ^= 0x10;
        assert_int_equal(sfmt_dict_decode(img, sizeof(img), &id, &p, &len), ST_ECORRUPT);
        img[i] ^= 0x10;
    }
    for (size_t n = 0; n < sizeof(img); n++)
        assert_int_equal(sfmt_dict_decode(img, n, &id, &p, &len), ST_ECORRUPT);
}

static void test_fmt_file_names(void **state)
{
    (void)state;
    char n[SFMT_NAME_MAX];
    uint64_t seq;
    uint32_t id;
    sfmt_seg_name(n, 0xabcdef0123ull);
    assert_string_equal(n, "seg-000000abcdef0123.dat");
    assert_int_equal(sfmt_seg_name_parse(n, &seq), 1);
    assert_true(seq == 0xabcdef0123ull);
    assert_int_equal(sfmt_seg_name_parse("seg-000000ABCDEF0123.dat", &seq), 0);
    assert_int_equal(sfmt_seg_name_parse("seg-00000abcdef0123.dat", &seq), 0);
    assert_int_equal(sfmt_seg_name_parse("seg-000000abcdef0123.dat.tmp", &seq), 0);
    sfmt_dict_name(n, 42);
    assert_string_equal(n, "dict-42.zd");
    assert_int_equal(sfmt_dict_name_parse(n, &id), 1);
    assert_int_equal(id, 42);
    assert_int_equal(sfmt_dict_name_parse("dict-0.zd", &id), 0);
    assert_int_equal(sfmt_dict_name_parse("dict-042.zd", &id), 0);
    assert_int_equal(sfmt_dict_name_parse("dict-99999999999.zd", &id), 0);
    assert_int_equal(sfmt_dict_name_parse("dict-.zd", &id), 0);
    assert_int_equal(sfmt_is_tmp_name("dict-42.zd.tmp"), 1);
    assert_int_equal(sfmt_is_tmp_name("other.tmp"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_segment_header_round_trips),
        cmocka_unit_test(test_fmt_every_header_byte_flip_and_truncation_is_detected),
        cmocka_unit_test(test_fmt_entries_of_every_kind_round_trip),
        cmocka_unit_test(test_fmt_every_entry_byte_flip_and_truncation_is_detected),
        cmocka_unit_test(test_fmt_hostile_lengths_are_refused),
        cmocka_unit_test(test_fmt_dictionary_files_round_trip_and_detect_damage),
        cmocka_unit_test(test_fmt_file_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
