/*
 * test_ins_val.c -- unit tests for tools/ins_val.c: strata-inspect's value
 * printers (redis-cli lines, JSON, RESP with chunking), the canonical content
 * hash (the same for every encoding and hot/cold), and the cold-record
 * decoder's refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/codec.h"
#include "engine/err.h"
#include "engine/serial.h"
#include "engine/t_hash.h"
#include "engine/t_list.h"
#include "engine/t_set.h"
#include "engine/t_zset.h"
#include "engine/tier.h"
#include "tools/ins.h"

#define SEED 99
static const struct type_limits deflim = TYPE_LIMITS_DEFAULT;

static struct entry *wrap(uint8_t type, void *obj, int64_t exp)
{
    struct entry *e = entry_create("k", 1, type, ENC_PTR, sizeof(void *), exp);
    assert_non_null(e);
    entry_set_ptr(e, obj);
    return e;
}

static struct entry *list_n(unsigned n)
{
    struct list *l = list_create();
    char b[32];
    for (unsigned i = 0; i < n; i++) {
        int len = snprintf(b, sizeof(b), "e%u", i);
        list_convert_grow(l, 1, (size_t)len, deflim.list_max_lp_size);
        assert_int_equal(list_push(l, LIST_TAIL, b, (size_t)len, deflim.list_max_lp_size), ST_OK);
    }
    return wrap(OBJ_LIST, l, -1);
}

static struct entry *set_of(const char *const *m, size_t n, enum set_enc enc)
{
    struct set *s = set_create(enc, SEED);
    for (size_t i = 0; i < n; i++)
        assert_true(set_add(&s, m[i], strlen(m[i]), &deflim, SEED) >= 0);
    return wrap(OBJ_SET, s, -1);
}

static struct entry *zset_of(const char *const *m, const double *sc, size_t n, int big)
{
    void *zs = big ? zset_create_big_seeded(SEED) : zset_create(0, 0, &deflim);
    int of;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(zset_add(&zs, &deflim, sc[i], m[i], strlen(m[i]), 0, &of, NULL), ST_OK);
    return wrap(OBJ_ZSET, zs, -1);
}

static struct entry *hash_of(const char *const *fv, size_t pairs, uint32_t max_lp_entries)
{
    void *h = hash_create();
    struct hash_conf conf;
    int added;
    hash_conf_init(&conf, &deflim, SEED);
    conf.max_lp_entries = max_lp_entries;
    for (size_t i = 0; i < pairs; i++)
        assert_int_equal(hash_set(&h, fv[2 * i], strlen(fv[2 * i]), fv[2 * i + 1], strlen(fv[2 * i + 1]), &conf,
                                  &added),
                         ST_OK);
    return wrap(OBJ_HASH, h, -1);
}

static char *printed(struct entry *e, int how, unsigned chunk)
{
    struct out o;
    out_init_mem(&o);
    if (how == 0)
        val_print_cli(&o, e);
    else if (how == 1)
        val_print_json(&o, e);
    else
        val_print_resp(&o, e, chunk, 1);
    out_write(&o, "", 1);
    char *s = strdup((char *)o.mem);
    out_fini(&o);
    return s;
}

static void cli_output_is_shaped_like_redis_cli(void **state)
{
    (void)state;
    struct entry *s = entry_create_str("k", 1, "say \"hi\"\n", 9, -1);
    char *p = printed(s, 0, 0);
    assert_string_equal(p, "\"say \\\"hi\\\"\\n\"\n");
    free(p);
    entry_destroy(s);

    struct entry *l = list_n(10);
    p = printed(l, 0, 0);
    assert_true(strncmp(p, " 1) \"e0\"\n 2) \"e1\"\n", 18) == 0);
    assert_non_null(strstr(p, "10) \"e9\"\n"));
    free(p);
    entry_destroy(l);

    const char *m[] = {"a", "b"};
    const double sc[] = {2.5, -INFINITY};
    struct entry *z = zset_of(m, sc, 2, 0);
    p = printed(z, 0, 0);
    assert_string_equal(p, "1) \"b\"\n2) \"-inf\"\n3) \"a\"\n4) \"2.5\"\n");
    free(p);
    entry_destroy(z);
}

static void json_values_by_type(void **state)
{
    (void)state;
    const char *m[] = {"x", "y"};
    const double sc[] = {1, 0.5};
    struct entry *z = zset_of(m, sc, 2, 1);
    char *p = printed(z, 1, 0);
    assert_string_equal(p, "[[\"y\",0.5],[\"x\",1]]");
    free(p);
    entry_destroy(z);
    const char *fv[] = {"f", "\xff"};
    struct entry *h = hash_of(fv, 1, 512);
    p = printed(h, 1, 0);
    assert_string_equal(p, "[[\"f\",{\"base64\":\"/w==\"}]]");
    free(p);
    entry_destroy(h);
}

static int count_sub(const char *s, const char *sub)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, sub)) != NULL; p++)
        n++;
    return n;
}

static void resp_chunks_collections_and_sets_expiry(void **state)
{
    (void)state;
    struct entry *l = list_n(2500);
    struct entry *le = entry_with_expire(l, 1900000000000ll);
    assert_non_null(le);
    char *p = printed(le, 2, 1000);
    assert_true(strncmp(p, "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n", 20) == 0);
    assert_int_equal(count_sub(p, "$5\r\nRPUSH\r\n"), 3);
    assert_int_equal(count_sub(p, "*1002\r\n"), 2);
    assert_int_equal(count_sub(p, "*502\r\n"), 1);
    assert_non_null(strstr(p, "*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nk\r\n$13\r\n1900000000000\r\n"));
    free(p);
    entry_destroy(le);

    const char *m[] = {"a", "b", "c"};
    const double sc[] = {INFINITY, -0.0, 1e-300};
    struct entry *z = zset_of(m, sc, 3, 0);
    p = printed(z, 2, 2);
    /* two ZADDs: 2 pairs, then 1; scores as %.17g with inf spelled out, -0 as 0 */
    assert_non_null(strstr(p, "*6\r\n$4\r\nZADD\r\n$1\r\nk\r\n$1\r\n0\r\n$1\r\nb\r\n"));
    assert_non_null(strstr(p, "$6\r\n1e-300\r\n$1\r\nc\r\n"));
    assert_non_null(strstr(p, "*4\r\n$4\r\nZADD\r\n$1\r\nk\r\n$3\r\ninf\r\n$1\r\na\r\n"));
    free(p);
    entry_destroy(z);
}

static void content_hash_ignores_encoding_and_order(void **state)
{
    (void)state;
    const char *m1[] = {"1", "2", "3"}, *m2[] = {"3", "1", "2"};
    struct entry *a = set_of(m1, 3, SET_ENC_INTSET), *b = set_of(m2, 3, SET_ENC_HT), *c = set_of(m1, 3, SET_ENC_LISTPACK);
    struct val_hash ha, hb, hc;
    assert_int_equal(val_hash(a, &ha), ST_OK);
    assert_int_equal(val_hash(b, &hb), ST_OK);
    assert_int_equal(val_hash(c, &hc), ST_OK);
    assert_true(ha.lo == hb.lo && ha.hi == hb.hi && ha.lo == hc.lo);
    entry_destroy(a), entry_destroy(b), entry_destroy(c);

    const char *fv[] = {"f1", "v1", "f2", "v2"}, *fv2[] = {"f2", "v2", "f1", "v1"}, *fv3[] = {"f1", "v2", "f2", "v1"};
    a = hash_of(fv, 2, 512);
    b = hash_of(fv2, 2, 1); /* a hashtable */
    c = hash_of(fv3, 2, 512); /* values swapped: different */
    val_hash(a, &ha), val_hash(b, &hb), val_hash(c, &hc);
    assert_true(ha.lo == hb.lo && ha.hi == hb.hi);
    assert_false(ha.lo == hc.lo && ha.hi == hc.hi);
    entry_destroy(a), entry_destroy(b), entry_destroy(c);

    const char *zm[] = {"x", "y"};
    const double s1[] = {1, 2}, s2[] = {1, 3};
    a = zset_of(zm, s1, 2, 0);
    b = zset_of(zm, s1, 2, 1);
    c = zset_of(zm, s2, 2, 0);
    val_hash(a, &ha), val_hash(b, &hb), val_hash(c, &hc);
    assert_true(ha.lo == hb.lo && ha.hi == hb.hi);
    assert_false(ha.lo == hc.lo);
    entry_destroy(a), entry_destroy(b), entry_destroy(c);

    /* an int-encoded string and the same text as raw bytes */
    a = entry_create_str("k", 1, "12345", 5, -1);
    b = entry_create("k", 1, OBJ_STRING, ENC_RAW, 5, -1);
    memcpy(entry_val(b), "12345", 5);
    assert_int_equal(a->enc, ENC_INT);
    val_hash(a, &ha), val_hash(b, &hb);
    assert_true(ha.lo == hb.lo && ha.hi == hb.hi);
    /* a list of one element "12345" is another type */
    struct list *l = list_create();
    list_push(l, LIST_TAIL, "12345", 5, -2);
    c = wrap(OBJ_LIST, l, -1);
    val_hash(c, &hc);
    assert_false(ha.lo == hc.lo);
    entry_destroy(a), entry_destroy(b), entry_destroy(c);
}

static struct codec *plain_codec(void)
{
    struct codec_conf cf;
    struct codec *c;
    codec_conf_init(&cf);
    cf.small_max = 0;
    cf.train_async = 0;
    assert_int_equal(codec_create(&cf, &c), ST_OK);
    return c;
}

static void cold_records_decode_or_say_why_not(void **state)
{
    (void)state;
    struct codec *c = plain_codec();
    struct entry *e = list_n(300), *out = NULL;
    void *ser;
    size_t sl, dl;
    uint32_t dict;
    int raw;
    const char *why = NULL;
    assert_int_equal(serial_encode(e, &ser, &sl), ST_OK);
    unsigned char *z = malloc(codec_bound(sl));
    assert_int_equal(codec_compress(c, ser, sl, z, codec_bound(sl), &dl, &dict, &raw), ST_OK);
    assert_false(raw);
    struct tier_rec r = {.gen = 1, .expire_ms = -1, .key = "k", .klen = 1, .val = z, .vlen = (uint32_t)dl,
                         .rawlen = (uint32_t)sl, .type = OBJ_LIST};
    assert_int_equal(val_decode_rec(c, &r, &deflim, 1u << 30, -1, &out, &why), ST_OK);
    assert_int_equal(val_count(out), 300);
    entry_destroy(out);

    r.rawlen = (uint32_t)sl + 1; /* the frame says otherwise */
    assert_int_equal(val_decode_rec(c, &r, &deflim, 1u << 30, -1, &out, &why), ST_ECORRUPT);
    assert_non_null(strstr(why, "content size"));
    r.rawlen = (uint32_t)sl;
    assert_int_equal(val_decode_rec(c, &r, &deflim, 16, -1, &out, &why), ST_ETOOBIG);
    r.dict_id = 77;
    assert_int_equal(val_decode_rec(c, &r, &deflim, 1u << 30, -1, &out, &why), ST_ECORRUPT);
    r.dict_id = 0;
    r.type = OBJ_SET; /* the value is a list */
    assert_int_equal(val_decode_rec(c, &r, &deflim, 1u << 30, -1, &out, &why), ST_ECORRUPT);
    assert_non_null(strstr(why, "another type"));
    r.type = OBJ_LIST;
    r.flags = TIER_REC_F_RAW; /* raw, but vlen != rawlen */
    assert_int_equal(val_decode_rec(c, &r, &deflim, 1u << 30, -1, &out, &why), ST_ECORRUPT);
    r.flags = 0;
    z[dl / 2] ^= 0xff; /* damage inside the frame: refused or decodes to something serial refuses */
    int rc = val_decode_rec(c, &r, &deflim, 1u << 30, -1, &out, &why);
    if (rc == ST_OK)
        entry_destroy(out);
    else
        assert_int_equal(rc, ST_ECORRUPT);
    assert_null(rc == ST_OK ? NULL : out);
    free(z);
    free(ser);
    entry_destroy(e);
    codec_destroy(&c);
}

static void kset_partitions_cover_every_key_once(void **state)
{
    (void)state;
    unsigned parts = kset_parts(100000, 1u << 20);
    assert_int_equal(parts, 13); /* 100000 * 128 / 1 MiB, rounded up */
    assert_int_equal(kset_parts(0, 1u << 20), 1);
    struct kset k = {0};
    unsigned seen[13] = {0};
    for (uint32_t i = 0; i < 100000; i++) {
        uint64_t lo, hi;
        char key[16];
        int n = snprintf(key, sizeof(key), "k%u", i), fresh;
        kset_hash_key(i % 3, key, (size_t)n, &lo, &hi);
        seen[kset_part(lo, parts)]++;
        if (kset_part(lo, parts) == 0) {
            assert_non_null(kset_add(&k, lo, hi, &fresh));
            assert_true(fresh);
            assert_non_null(kset_add(&k, lo, hi, &fresh));
            assert_false(fresh);
            assert_non_null(kset_find(&k, lo, hi));
        }
    }
    for (unsigned p = 0; p < parts; p++)
        assert_true(seen[p] > 100000 / parts / 2);
    assert_int_equal(k.n, seen[0]);
    kset_free(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cli_output_is_shaped_like_redis_cli),
        cmocka_unit_test(json_values_by_type),
        cmocka_unit_test(resp_chunks_collections_and_sets_expiry),
        cmocka_unit_test(content_hash_ignores_encoding_and_order),
        cmocka_unit_test(cold_records_decode_or_say_why_not),
        cmocka_unit_test(kset_partitions_cover_every_key_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
