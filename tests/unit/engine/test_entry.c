/*
 * test_entry.c -- unit tests for engine/entry.c: the single-allocation
 * keyspace entry.
 *
 * What is protected: the byte layout documented in entry.h, invariant 2
 * (ENC_INT only for the canonical text of an int64, so GET returns exactly
 * what SET stored), and that every reshaping call (entry_with_expire,
 * entry_with_str, entry_resize_raw, entry_dup) keeps the key, the expiry and
 * the value bytes it promises to keep, whether it works in place or moves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/entry.h"
#include "engine/util.h"

/* ---- helpers ----------------------------------------------------------- */

static struct entry *mk(const char *key, const char *val, int64_t expire)
{
    struct entry *e = entry_create_str(key, (uint32_t)strlen(key), val, strlen(val), expire);
    assert_non_null(e);
    return e;
}

static void assert_key(const struct entry *e, const char *key)
{
    assert_int_equal(e->klen, strlen(key));
    assert_memory_equal(entry_key(e), key, strlen(key));
}

/* Asserts the string value of e (whatever its encoding) is val[0..len). */
static void assert_str_n(const struct entry *e, const void *val, size_t len)
{
    char tmp[UTIL_LLSTR_SIZE];
    size_t n = 0;
    const char *s = entry_str(e, tmp, &n);
    assert_int_equal(n, len);
    if (len)
        assert_memory_equal(s, val, len);
}

static void assert_str(const struct entry *e, const char *val)
{
    assert_str_n(e, val, strlen(val));
}

static void fill(char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)((i * 31u + seed) & 0xff);
}

/* ---- layout ------------------------------------------------------------ */

static void test_layout_header_is_24_bytes_plus_8_with_ttl(void **state)
{
    (void)state;
    assert_int_equal(offsetof(struct entry, next), 0);
    assert_int_equal(offsetof(struct entry, access), 8);
    assert_int_equal(offsetof(struct entry, type), 12);
    assert_int_equal(offsetof(struct entry, enc), 13);
    assert_int_equal(offsetof(struct entry, flags), 14);
    assert_int_equal(offsetof(struct entry, spare), 15);
    assert_int_equal(offsetof(struct entry, klen), 16);
    assert_int_equal(offsetof(struct entry, vlen), 20);
    assert_int_equal(offsetof(struct entry, data), 24);
    assert_int_equal(sizeof(struct entry), 24);
    assert_int_equal(entry_hdr_size(0), 24);
    assert_int_equal(entry_hdr_size(ENTRY_F_EXPIRE), 32);
}

static void test_layout_key_and_value_follow_header_and_expiry(void **state)
{
    (void)state;
    struct entry *e = mk("key", "value!", -1);
    assert_ptr_equal(entry_key(e), (const char *)e + 24);
    assert_ptr_equal(entry_cval(e), (const unsigned char *)e + 24 + 3);
    assert_int_equal(e->vlen, 6);
    assert_int_equal(entry_expire(e), -1);
    assert_int_equal(e->flags & ENTRY_F_EXPIRE, 0);
    entry_destroy(e);

    e = mk("key", "value!", 1234567890123LL);
    assert_true(e->flags & ENTRY_F_EXPIRE);
    assert_int_equal(entry_expire(e), 1234567890123LL);
    assert_ptr_equal(entry_key(e), (const char *)e + 32);
    assert_ptr_equal(entry_cval(e), (const unsigned char *)e + 32 + 3);
    assert_key(e, "key");
    assert_str(e, "value!");
    assert_true(malloc_usable_size(e) >= 32 + 3 + 6);
    entry_destroy(e);
}

static void test_create_initialises_header(void **state)
{
    (void)state;
    struct entry *e = entry_create("k", 1, OBJ_HASH, ENC_RAW, 5, 0);
    assert_non_null(e);
    assert_null(e->next);
    assert_int_equal(e->access, 0);
    assert_int_equal(e->type, OBJ_HASH);
    assert_int_equal(e->enc, ENC_RAW);
    assert_int_equal(e->flags, ENTRY_F_EXPIRE); /* 0 is a valid expiry (the epoch) */
    assert_int_equal(e->spare, 0);
    assert_int_equal(e->klen, 1);
    assert_int_equal(e->vlen, 5);
    assert_int_equal(entry_expire(e), 0);
    entry_destroy(e);
}

static void test_empty_key_and_empty_value(void **state)
{
    (void)state;
    struct entry *e = mk("", "", -1);
    assert_int_equal(e->klen, 0);
    assert_int_equal(e->enc, ENC_RAW);
    assert_int_equal(e->vlen, 0);
    assert_str(e, "");
    assert_string_equal(entry_encoding(e), "embstr");
    entry_destroy(e);
}

static void test_destroy_accepts_null(void **state)
{
    (void)state;
    entry_destroy(NULL);
}

/* ---- invariant 2: ENC_INT only for canonical integers ---------------- */

static void test_canonical_integer_is_enc_int(void **state)
{
    (void)state;
    struct entry *e = mk("k", "12", -1);
    assert_int_equal(e->type, OBJ_STRING);
    assert_int_equal(e->enc, ENC_INT);
    assert_int_equal(e->vlen, 8);
    assert_int_equal(entry_int(e), 12);
    assert_str(e, "12");
    assert_string_equal(entry_encoding(e), "int");
    entry_destroy(e);
}

static void test_zero_and_negative_integers_are_enc_int(void **state)
{
    (void)state;
    const char *ok[] = { "0", "-1", "7", "-123456789", "1000000000000" };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct entry *e = mk("k", ok[i], -1);
        assert_int_equal(e->enc, ENC_INT);
        assert_int_equal(entry_int(e), strtoll(ok[i], NULL, 10));
        assert_str(e, ok[i]);
        entry_destroy(e);
    }
}

static void test_int64_extremes_are_enc_int(void **state)
{
    (void)state;
    struct entry *e = mk("k", "9223372036854775807", -1);
    assert_int_equal(e->enc, ENC_INT);
    assert_true(entry_int(e) == INT64_MAX);
    assert_str(e, "9223372036854775807");
    entry_destroy(e);

    e = mk("k", "-9223372036854775808", -1); /* 20 bytes */
    assert_int_equal(e->enc, ENC_INT);
    assert_true(entry_int(e) == INT64_MIN);
    assert_str(e, "-9223372036854775808");
    entry_destroy(e);
}

static void test_leading_zero_is_raw(void **state)
{
    (void)state;
    struct entry *e = mk("k", "012", -1);
    assert_int_equal(e->enc, ENC_RAW);
    assert_int_equal(e->vlen, 3);
    assert_str(e, "012");
    assert_string_equal(entry_encoding(e), "embstr");
    entry_destroy(e);
}

static void test_negative_zero_is_raw(void **state)
{
    (void)state;
    struct entry *e = mk("k", "-0", -1);
    assert_int_equal(e->enc, ENC_RAW);
    assert_str(e, "-0");
    entry_destroy(e);
}

static void test_twenty_digit_overflow_is_raw(void **state)
{
    (void)state;
    const char *raw[] = {
        "18446744073709551616",  /* 20 digits, > UINT64_MAX */
        "99999999999999999999",  /* 20 digits */
        "9223372036854775808",   /* INT64_MAX + 1 */
        "-9223372036854775809",  /* INT64_MIN - 1, 20 bytes */
        "123456789012345678901", /* 21 digits */
    };
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        struct entry *e = mk("k", raw[i], -1);
        assert_int_equal(e->enc, ENC_RAW);
        assert_str(e, raw[i]);
        entry_destroy(e);
    }
}

static void test_non_canonical_numbers_are_raw(void **state)
{
    (void)state;
    const char *raw[] = { "+1", " 1", "1 ", "1.0", "1e3", "0x10", "-", "00", "1\n" };
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
        struct entry *e = mk("k", raw[i], -1);
        assert_int_equal(e->enc, ENC_RAW);
        assert_str(e, raw[i]);
        entry_destroy(e);
    }
}

static void test_binary_value_with_nul_is_raw_and_exact(void **state)
{
    (void)state;
    const char val[] = { '1', '\0', '2', '\r', '\n', (char)0xff };
    struct entry *e = entry_create_str("bin", 3, val, sizeof(val), -1);
    assert_non_null(e);
    assert_int_equal(e->enc, ENC_RAW);
    assert_str_n(e, val, sizeof(val));
    entry_destroy(e);
}

static void test_create_str_refuses_value_over_max(void **state)
{
    (void)state;
    /* refused on the length alone: the bytes are never read */
    char small[4] = "abc";
    assert_null(entry_create_str("k", 1, small, (size_t)ENTRY_MAX_VLEN + 1, -1));
}

/* ---- encoding names ------------------------------------------------------ */

static void test_encoding_embstr_up_to_44_bytes_raw_from_45(void **state)
{
    (void)state;
    char v[64];
    memset(v, 'x', sizeof(v));
    struct entry *e = entry_create_str("k", 1, v, 44, -1);
    assert_string_equal(entry_encoding(e), "embstr");
    entry_destroy(e);
    e = entry_create_str("k", 1, v, 45, -1);
    assert_string_equal(entry_encoding(e), "raw");
    entry_destroy(e);
    e = entry_create_str("k", 1, v, 1, -1);
    assert_string_equal(entry_encoding(e), "embstr");
    entry_destroy(e);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(entry_type_name(OBJ_STRING), "string");
    assert_string_equal(entry_type_name(OBJ_LIST), "list");
    assert_string_equal(entry_type_name(OBJ_SET), "set");
    assert_string_equal(entry_type_name(OBJ_ZSET), "zset");
    assert_string_equal(entry_type_name(OBJ_HASH), "hash");
    assert_string_equal(entry_type_name(OBJ_TYPE_MAX), "none");
    assert_string_equal(entry_type_name(200), "none");
    assert_null(entry_type_ops(200));
}

/* ---- entry_with_expire --------------------------------------------------- */

static void test_with_expire_adds_ttl_keeping_key_and_value(void **state)
{
    (void)state;
    struct entry *e = mk("mykey", "some value", -1);
    e->access = 0xabcdef;
    e = entry_with_expire(e, 5000);
    assert_non_null(e);
    assert_true(e->flags & ENTRY_F_EXPIRE);
    assert_int_equal(entry_expire(e), 5000);
    assert_key(e, "mykey");
    assert_str(e, "some value");
    assert_int_equal(e->type, OBJ_STRING);
    assert_int_equal(e->enc, ENC_RAW);
    assert_int_equal(e->access, 0xabcdef);
    entry_destroy(e);
}

static void test_with_expire_removes_ttl_keeping_key_and_value(void **state)
{
    (void)state;
    struct entry *e = mk("mykey", "some value", 77);
    e = entry_with_expire(e, -1);
    assert_non_null(e);
    assert_int_equal(e->flags & ENTRY_F_EXPIRE, 0);
    assert_int_equal(entry_expire(e), -1);
    assert_key(e, "mykey");
    assert_str(e, "some value");
    entry_destroy(e);
}

static void test_with_expire_changes_existing_ttl_in_place(void **state)
{
    (void)state;
    struct entry *e = mk("mykey", "v", 77);
    struct entry *n = entry_with_expire(e, 99);
    assert_ptr_equal(n, e);
    assert_int_equal(entry_expire(n), 99);
    assert_key(n, "mykey");
    assert_str(n, "v");
    /* removing an absent TTL is a no-op */
    n = entry_with_expire(n, -1);
    n = entry_with_expire(n, -1);
    assert_int_equal(entry_expire(n), -1);
    assert_key(n, "mykey");
    assert_str(n, "v");
    entry_destroy(n);
}

static void test_with_expire_keeps_int_value(void **state)
{
    (void)state;
    struct entry *e = mk("counter", "-42", -1);
    e = entry_with_expire(e, 123);
    assert_int_equal(e->enc, ENC_INT);
    assert_int_equal(entry_int(e), -42);
    assert_key(e, "counter");
    e = entry_with_expire(e, -1);
    assert_int_equal(e->enc, ENC_INT);
    assert_int_equal(entry_int(e), -42);
    assert_key(e, "counter");
    entry_destroy(e);
}

static void test_with_expire_round_trips_big_values(void **state)
{
    (void)state;
    /* sizes around allocator classes, so both the in-place and the realloc
     * paths run, growing and shrinking the header */
    static const size_t sizes[] = { 0, 1, 7, 8, 9, 15, 16, 17, 40, 100, 1000, 4088, 4096, 70000 };
    char key[300];
    fill(key, sizeof(key), 3);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (size_t klen = 1; klen < sizeof(key); klen += 97) {
            size_t n = sizes[i];
            char *val = malloc(n + 1);
            fill(val, n, (unsigned)i);
            if (n)
                val[0] = 'x'; /* never a canonical integer */
            struct entry *e = entry_create_str(key, (uint32_t)klen, val, n, -1);
            assert_non_null(e);
            for (int round = 0; round < 3; round++) {
                e = entry_with_expire(e, 1000 + round);
                assert_non_null(e);
                assert_int_equal(entry_expire(e), 1000 + round);
                assert_int_equal(e->klen, klen);
                assert_memory_equal(entry_key(e), key, klen);
                assert_str_n(e, val, n);
                e = entry_with_expire(e, -1);
                assert_non_null(e);
                assert_int_equal(entry_expire(e), -1);
                assert_memory_equal(entry_key(e), key, klen);
                assert_str_n(e, val, n);
            }
            entry_destroy(e);
            free(val);
        }
    }
}

/* ---- entry_with_str ------------------------------------------------------ */

static void test_with_str_same_size_reuses_allocation(void **state)
{
    (void)state;
    struct entry *e = mk("k", "hello world", 500);
    struct entry *n = entry_with_str(e, "HELLO WORLD", 11);
    assert_ptr_equal(n, e);
    assert_str(n, "HELLO WORLD");
    assert_key(n, "k");
    assert_int_equal(entry_expire(n), 500);
    /* a shorter value of the same size class also stays in place */
    n = entry_with_str(n, "hello", 5);
    assert_ptr_equal(n, e);
    assert_str(n, "hello");
    assert_int_equal(n->vlen, 5);
    entry_destroy(n);
}

static void test_with_str_grows_by_realloc_keeping_key_and_expiry(void **state)
{
    (void)state;
    struct entry *e = mk("the-key", "small", 123456);
    char big[10000];
    fill(big, sizeof(big), 9);
    big[0] = 'x';
    struct entry *n = entry_with_str(e, big, sizeof(big));
    assert_non_null(n);
    assert_key(n, "the-key");
    assert_int_equal(entry_expire(n), 123456);
    assert_int_equal(n->enc, ENC_RAW);
    assert_str_n(n, big, sizeof(big));
    assert_true(malloc_usable_size(n) >= 32 + 7 + sizeof(big));
    assert_string_equal(entry_encoding(n), "raw");
    entry_destroy(n);
}

static void test_with_str_shrinks_big_allocation(void **state)
{
    (void)state;
    char big[10000];
    fill(big, sizeof(big), 1);
    big[0] = 'x';
    struct entry *e = entry_create_str("kk", 2, big, sizeof(big), -1);
    struct entry *n = entry_with_str(e, "tiny", 4);
    assert_non_null(n);
    assert_key(n, "kk");
    assert_str(n, "tiny");
    assert_int_equal(entry_expire(n), -1);
    /* "need * 2 < usable" gives the memory back */
    assert_true(malloc_usable_size(n) < 1000);
    entry_destroy(n);
}

static void test_with_str_switches_between_int_and_raw(void **state)
{
    (void)state;
    struct entry *e = mk("k", "abc", -1);
    e = entry_with_str(e, "100", 3);
    assert_int_equal(e->enc, ENC_INT);
    assert_int_equal(e->vlen, 8);
    assert_int_equal(entry_int(e), 100);
    e = entry_with_str(e, "0100", 4);
    assert_int_equal(e->enc, ENC_RAW);
    assert_str(e, "0100");
    e = entry_with_str(e, "-5", 2);
    assert_int_equal(e->enc, ENC_INT);
    assert_int_equal(entry_int(e), -5);
    e = entry_with_str(e, "", 0);
    assert_int_equal(e->enc, ENC_RAW);
    assert_str(e, "");
    assert_key(e, "k");
    entry_destroy(e);
}

static void test_with_str_turns_any_type_into_string(void **state)
{
    (void)state;
    /* an OBJ_HASH entry with a raw payload (no type objects exist yet) */
    struct entry *e = entry_create("h", 1, OBJ_HASH, ENC_RAW, 3, -1);
    memcpy(entry_val(e), "xyz", 3);
    e = entry_with_str(e, "val", 3);
    assert_non_null(e);
    assert_int_equal(e->type, OBJ_STRING);
    assert_int_equal(e->enc, ENC_RAW);
    assert_str(e, "val");
    assert_key(e, "h");
    entry_destroy(e);
}

static void test_with_str_refuses_value_over_max_leaving_entry(void **state)
{
    (void)state;
    struct entry *e = mk("k", "keep", 9);
    char small[4] = "abc";
    assert_null(entry_with_str(e, small, (size_t)ENTRY_MAX_VLEN + 1));
    assert_str(e, "keep");
    assert_key(e, "k");
    assert_int_equal(entry_expire(e), 9);
    entry_destroy(e);
}

/* ---- entry_resize_raw ---------------------------------------------------- */

static void test_resize_raw_from_int_converts_to_text_and_pads(void **state)
{
    (void)state;
    struct entry *e = mk("k", "12345", 42);
    assert_int_equal(e->enc, ENC_INT);
    e = entry_resize_raw(e, 8);
    assert_non_null(e);
    assert_int_equal(e->enc, ENC_RAW);
    assert_str_n(e, "12345\0\0\0", 8);
    assert_key(e, "k");
    assert_int_equal(entry_expire(e), 42);
    entry_destroy(e);
}

static void test_resize_raw_from_int_to_same_length(void **state)
{
    (void)state;
    struct entry *e = mk("k", "-9223372036854775808", -1);
    e = entry_resize_raw(e, 20);
    assert_int_equal(e->enc, ENC_RAW);
    assert_str(e, "-9223372036854775808");
    entry_destroy(e);
}

static void test_resize_raw_from_int_truncates(void **state)
{
    (void)state;
    struct entry *e = mk("key", "98765", -1);
    e = entry_resize_raw(e, 2);
    assert_non_null(e);
    assert_int_equal(e->enc, ENC_RAW);
    assert_str(e, "98");
    assert_key(e, "key");
    e = entry_resize_raw(e, 0);
    assert_str(e, "");
    entry_destroy(e);
}

static void test_resize_raw_grows_with_zeros_and_truncates(void **state)
{
    (void)state;
    struct entry *e = mk("key", "abc", 7);
    e = entry_resize_raw(e, 6);
    assert_str_n(e, "abc\0\0\0", 6);
    e = entry_resize_raw(e, 5000);
    assert_int_equal(e->vlen, 5000);
    assert_memory_equal(entry_cval(e), "abc", 3);
    for (size_t i = 3; i < 5000; i++)
        assert_int_equal(entry_cval(e)[i], 0);
    memcpy(entry_val(e) + 4990, "tailbytes!", 10);
    e = entry_resize_raw(e, 4995);
    assert_memory_equal(entry_cval(e) + 4990, "tailb", 5);
    e = entry_resize_raw(e, 1);
    assert_str(e, "a");
    assert_key(e, "key");
    assert_int_equal(entry_expire(e), 7);
    /* growing again after a truncation gives zeros, not the old bytes */
    e = entry_resize_raw(e, 3);
    assert_str_n(e, "a\0\0", 3);
    entry_destroy(e);
}

static void test_resize_raw_refuses_over_max(void **state)
{
    (void)state;
    struct entry *e = mk("k", "v", -1);
    assert_null(entry_resize_raw(e, (size_t)ENTRY_MAX_VLEN + 1));
    assert_str(e, "v");
    entry_destroy(e);
}

/* ---- entry_dup ----------------------------------------------------------- */

static void test_dup_copies_value_type_expiry_and_access_under_new_key(void **state)
{
    (void)state;
    struct entry *e = mk("src", "payload bytes", 999);
    e->access = 31337;
    struct entry *d = entry_dup(e, "destination", 11);
    assert_non_null(d);
    assert_ptr_not_equal(d, e);
    assert_key(d, "destination");
    assert_str(d, "payload bytes");
    assert_int_equal(entry_expire(d), 999);
    assert_int_equal(d->type, OBJ_STRING);
    assert_int_equal(d->enc, ENC_RAW);
    assert_int_equal(d->access, 31337);
    assert_null(d->next);
    /* independent copies */
    memset(entry_val(e), 'Z', e->vlen);
    assert_str(d, "payload bytes");
    entry_destroy(e);
    assert_str(d, "payload bytes");
    entry_destroy(d);
}

static void test_dup_of_int_without_expiry(void **state)
{
    (void)state;
    struct entry *e = mk("a", "-77", -1);
    struct entry *d = entry_dup(e, "b", 1);
    assert_int_equal(d->enc, ENC_INT);
    assert_int_equal(entry_int(d), -77);
    assert_int_equal(entry_expire(d), -1);
    assert_key(d, "b");
    entry_destroy(e);
    entry_destroy(d);
}

static void test_dup_does_not_copy_chain_link(void **state)
{
    (void)state;
    struct entry *a = mk("a", "1x", -1), *b = mk("b", "2x", -1);
    a->next = b;
    struct entry *d = entry_dup(a, "c", 1);
    assert_null(d->next);
    entry_destroy(a);
    entry_destroy(b);
    entry_destroy(d);
}

/* ---- misc ---------------------------------------------------------------- */

static void test_mem_counts_the_allocation(void **state)
{
    (void)state;
    char v[300];
    memset(v, 'q', sizeof(v));
    struct entry *e = entry_create_str("k", 1, v, sizeof(v), -1);
    assert_true(entry_mem(e) >= 24 + 1 + sizeof(v));
    assert_int_equal(entry_mem(e), malloc_usable_size(e));
    entry_destroy(e);
}

static void test_entry_str_of_raw_points_into_entry(void **state)
{
    (void)state;
    struct entry *e = mk("k", "raw text", -1);
    char tmp[UTIL_LLSTR_SIZE];
    size_t n;
    const char *s = entry_str(e, tmp, &n);
    assert_ptr_equal(s, (const char *)entry_cval(e));
    assert_int_equal(n, 8);
    entry_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_header_is_24_bytes_plus_8_with_ttl),
        cmocka_unit_test(test_layout_key_and_value_follow_header_and_expiry),
        cmocka_unit_test(test_create_initialises_header),
        cmocka_unit_test(test_empty_key_and_empty_value),
        cmocka_unit_test(test_destroy_accepts_null),
        cmocka_unit_test(test_canonical_integer_is_enc_int),
        cmocka_unit_test(test_zero_and_negative_integers_are_enc_int),
        cmocka_unit_test(test_int64_extremes_are_enc_int),
        cmocka_unit_test(test_leading_zero_is_raw),
        cmocka_unit_test(test_negative_zero_is_raw),
        cmocka_unit_test(test_twenty_digit_overflow_is_raw),
        cmocka_unit_test(test_non_canonical_numbers_are_raw),
        cmocka_unit_test(test_binary_value_with_nul_is_raw_and_exact),
        cmocka_unit_test(test_create_str_refuses_value_over_max),
        cmocka_unit_test(test_encoding_embstr_up_to_44_bytes_raw_from_45),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_with_expire_adds_ttl_keeping_key_and_value),
        cmocka_unit_test(test_with_expire_removes_ttl_keeping_key_and_value),
        cmocka_unit_test(test_with_expire_changes_existing_ttl_in_place),
        cmocka_unit_test(test_with_expire_keeps_int_value),
        cmocka_unit_test(test_with_expire_round_trips_big_values),
        cmocka_unit_test(test_with_str_same_size_reuses_allocation),
        cmocka_unit_test(test_with_str_grows_by_realloc_keeping_key_and_expiry),
        cmocka_unit_test(test_with_str_shrinks_big_allocation),
        cmocka_unit_test(test_with_str_switches_between_int_and_raw),
        cmocka_unit_test(test_with_str_turns_any_type_into_string),
        cmocka_unit_test(test_with_str_refuses_value_over_max_leaving_entry),
        cmocka_unit_test(test_resize_raw_from_int_converts_to_text_and_pads),
        cmocka_unit_test(test_resize_raw_from_int_to_same_length),
        cmocka_unit_test(test_resize_raw_from_int_truncates),
        cmocka_unit_test(test_resize_raw_grows_with_zeros_and_truncates),
        cmocka_unit_test(test_resize_raw_refuses_over_max),
        cmocka_unit_test(test_dup_copies_value_type_expiry_and_access_under_new_key),
        cmocka_unit_test(test_dup_of_int_without_expiry),
        cmocka_unit_test(test_dup_does_not_copy_chain_link),
        cmocka_unit_test(test_mem_counts_the_allocation),
        cmocka_unit_test(test_entry_str_of_raw_points_into_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
