/*
 * test_ins_src.c -- unit tests for strata-inspect's readers (tools/ins_src.c,
 * ins_pool.c, ins_ssdd.c) on inputs built byte by byte here: a pool file
 * with records, a dictionary, a deleted record, a damaged one and a record
 * hidden inside another's value; an SSD directory whose entries exercise
 * every attach rule (highest seq wins, DEL, SWAPDB, FLUSHDB, expiry, a
 * copy that compaction left with the same seq, damage); and detection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/crc32c.h"
#include "engine/err.h"
#include "engine/tier.h"
#include "tiers/ssd_fmt.h"
#include "tools/ins.h"

struct seen {
    int keys, damage, dicts;
    char names[32][64];
    uint32_t dbs[32];
    uint64_t damage_off[8];
    char damage_where[8][256];
};

static int on_key(void *ud, const struct src_key *k)
{
    struct seen *s = ud;
    if (s->keys < 32) {
        snprintf(s->names[s->keys], sizeof(s->names[0]), "%.*s", (int)k->klen, k->key);
        s->dbs[s->keys] = k->db;
    }
    s->keys++;
    return 0;
}

static int on_damage(void *ud, const char *where, uint64_t off, const char *what)
{
    struct seen *s = ud;
    (void)what;
    if (s->damage < 8) {
        s->damage_off[s->damage] = off;
        snprintf(s->damage_where[s->damage], sizeof(s->damage_where[0]), "%s", where);
    }
    s->damage++;
    return 0;
}

static int on_aux(void *ud, const char *name, uint32_t nlen, const void *val, uint32_t vlen, uint32_t id)
{
    (void)nlen, (void)val, (void)vlen;
    if (!name && id)
        ((struct seen *)ud)->dicts++;
    return 0;
}

static struct ins_ctx ctx(void)
{
    struct ins_ctx cx = {.err = stderr, .now_ms = 2000000, .max_value = 1u << 30};
    struct type_limits lim = TYPE_LIMITS_DEFAULT;
    cx.lim = lim;
    return cx;
}

/* A raw string record for key (value "v:" key) into p; returns its length. */
static size_t put_rec(unsigned char *p, const char *key, const char *val, int64_t exp)
{
    unsigned char ser[256];
    size_t vl = strlen(val);
    ser[0] = 1, ser[1] = 0x01, ser[2] = 0, ser[3] = 0;
    ser[4] = (unsigned char)vl, ser[5] = ser[6] = ser[7] = 0;
    memcpy(ser + 8, val, vl);
    struct tier_rec r = {.gen = 5, .expire_ms = exp, .key = key, .klen = (uint32_t)strlen(key), .val = ser,
                         .vlen = (uint32_t)(8 + vl), .rawlen = (uint32_t)(8 + vl), .type = OBJ_STRING,
                         .flags = TIER_REC_F_RAW};
    tier_rec_encode(&r, p);
    return tier_rec_size(&r);
}

static void alloc_hdr(unsigned char *obj, uint64_t size, uint64_t type)
{
    memcpy(obj - 16, &size, 8);
    memcpy(obj - 8, &type, 8);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void pool_scan_finds_whole_records_only(void **state)
{
    (void)state;
    char path[] = "/tmp/test_ins_pool_XXXXXX";
    int fd = mkstemp(path);
    size_t size = 64 * 1024;
    unsigned char *p = calloc(1, size);
    assert_true(fd >= 0);
    close(fd);
    memcpy(p, "PMEMOBJ", 8);
    strcpy((char *)p + 4096, "strata-ptier-1");
    alloc_hdr(p + 8192, 128, 1);
    put_rec(p + 8192, "alpha", "one", -1);
    alloc_hdr(p + 8448, 128, 1);
    put_rec(p + 8448, "beta", "two", 1999999); /* expired by now: a pool still lists it */
    /* a record whose CRC fails */
    alloc_hdr(p + 12288, 128, 1);
    put_rec(p + 12288, "gamma", "three", -1);
    p[12288 + 50] ^= 1;
    /* deleted: magic 0, the rest whole */
    alloc_hdr(p + 16384, 128, 1);
    put_rec(p + 16384, "delta", "four", -1);
    memset(p + 16384, 0, 4);
    /* a dictionary object */
    alloc_hdr(p + 20480, 64, 2);
    uint32_t id = 3, len = 20, crc;
    memcpy(p + 20480, "STD1", 4);
    memcpy(p + 20488, &id, 4);
    memcpy(p + 20492, &len, 4);
    memcpy(p + 20496, "some dictionary text", 20);
    crc = crc32c(0, p + 20488, 8 + len);
    memcpy(p + 20484, &crc, 4);
    /* a record whose value holds another whole record, 16-aligned in the file */
    unsigned char inner[128] = {0};
    size_t il = put_rec(inner, "hidden", "x", -1);
    unsigned char ser[200];
    ser[0] = 1, ser[1] = 0x01, ser[2] = ser[3] = 0;
    uint32_t sl = 4 + (uint32_t)il; /* 4 pad bytes so the inner record starts 16-aligned */
    memcpy(ser + 4, &sl, 4);
    memset(ser + 8, 'p', 4);
    memcpy(ser + 12, inner, il);
    struct tier_rec r = {.gen = 1, .expire_ms = -1, .key = "outer", .klen = 5, .val = ser, .vlen = 8 + sl,
                         .rawlen = 8 + sl, .type = OBJ_STRING, .flags = TIER_REC_F_RAW};
    /* record at 24576: its value starts at 24576 + 44 + 5 = 24625; the inner record at 24625 + 12 = 24637: not
     * aligned, so shift the key to make it land on 24640 */
    r.key = "outer:xx";
    r.klen = 8;
    alloc_hdr(p + 24576, 256, 1);
    tier_rec_encode(&r, p + 24576);
    assert_int_equal((24576 + 44 + 8 + 12) % 16, 0);
    write_file(path, p, size);

    struct ins_ctx cx = ctx();
    struct src *s;
    const char *why;
    assert_int_equal(src_open(&cx, path, 0, &s, &why), ST_OK);
    assert_int_equal(src_info(s)->kind, SRC_POOL);
    struct seen sn = {0};
    struct src_cbs cbs = {.key = on_key, .damage = on_damage, .aux = on_aux, .ud = &sn};
    assert_int_equal(src_each(s, SRC_WITH_DATA, &cbs), ST_OK);
    assert_int_equal(sn.keys, 3);
    assert_string_equal(sn.names[0], "alpha");
    assert_string_equal(sn.names[1], "beta");
    assert_string_equal(sn.names[2], "outer:xx"); /* and not "hidden" */
    assert_int_equal(sn.dbs[0], SRC_DB_UNKNOWN);
    assert_int_equal(sn.damage, 1);
    assert_int_equal(sn.damage_off[0], 12288);
    assert_int_equal(sn.dicts, 1);
    assert_int_equal(src_info(s)->pool_deleted, 1);
    src_close(&s);
    unlink(path);
    free(p);
}

static void pool_without_our_layout_is_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/test_ins_pool_XXXXXX";
    int fd = mkstemp(path);
    unsigned char *p = calloc(1, 16384);
    close(fd);
    memcpy(p, "PMEMOBJ", 8);
    strcpy((char *)p + 4096, "someone-else");
    write_file(path, p, 16384);
    struct ins_ctx cx = ctx();
    struct src *s;
    const char *why = NULL;
    assert_int_equal(src_open(&cx, path, 0, &s, &why), ST_EINVAL);
    assert_non_null(strstr(why, "another layout"));
    unlink(path);
    free(p);
}

/* ---- SSD directory ----------------------------------------------------------------- */

struct segb {
    unsigned char *b;
    size_t len;
    uint64_t seq;
};

static void seg_init(struct segb *s, uint64_t seq, uint32_t cls)
{
    struct sfmt_seg_hdr h = {.seq = seq, .created_ms = 1, .segment_size = 1u << 20, .cls = cls};
    s->b = calloc(1, 1u << 20);
    s->seq = seq;
    sfmt_seg_hdr_encode(&h, s->b);
    s->len = SFMT_HDR_SIZE;
}

static uint64_t seg_put(struct segb *s, uint16_t db, uint64_t seq, const char *key, const char *val, int64_t exp)
{
    unsigned char rec[512];
    size_t rl = put_rec(rec, key, val, exp);
    uint64_t off = s->len;
    sfmt_ent_encode(s->b + s->len, SFMT_PUT, db, seq, (uint32_t)s->seq, rec, rl);
    s->len += sfmt_ent_size(rl);
    return off;
}

static void seg_note(struct segb *s, uint8_t kind, uint16_t db, uint64_t seq, const void *pl, size_t n)
{
    sfmt_ent_encode(s->b + s->len, kind, db, seq, (uint32_t)s->seq, pl, n);
    s->len += sfmt_ent_size(n);
}

static void seg_write(struct segb *s, const char *dir)
{
    char name[SFMT_NAME_MAX], path[512];
    sfmt_seg_name(name, s->seq);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    s->len = (s->len + 4095) & ~(size_t)4095;
    write_file(path, s->b, s->len);
    free(s->b);
}

static void ssd_reader_applies_the_attach_rules(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_ins_ssd_XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct segb a, b, n;
    seg_init(&a, 1, SFMT_CLASS_NONE);
    seg_put(&a, 0, 1, "k1", "old", -1);
    seg_put(&a, 0, 2, "k2", "deleted later", -1);
    seg_put(&a, 1, 3, "k3", "swapped to db 2", -1);
    seg_put(&a, 2, 4, "k4", "swapped to db 1, expired", 1000);
    seg_put(&a, 3, 5, "k5", "flushed", -1);
    uint64_t dmg = seg_put(&a, 0, 6, "k6", "damaged", -1);
    a.b[dmg + 40] ^= 1;
    seg_put(&a, 0, 10, "k1", "new", -1);
    seg_put(&a, 0, 11, "k7", "copied by compaction", -1);
    seg_write(&a, dir);
    seg_init(&b, 2, SFMT_CLASS_NONE);
    seg_put(&b, 0, 11, "k7", "copied by compaction", -1); /* same seq in a newer segment */
    seg_put(&b, 0, 12, "k8", "after the flush", -1);
    seg_put(&b, 3, 13, "k9", "db 3 after its flush", -1);
    seg_write(&b, dir);
    seg_init(&n, 3, SFMT_CLASS_NOTES);
    seg_note(&n, SFMT_DEL, 0, 7, "k2", 2);
    unsigned char sw[8];
    sfmt_swap_payload(sw, 1, 2);
    seg_note(&n, SFMT_SWAPDB, 0, 8, sw, 8);
    seg_note(&n, SFMT_FLUSHDB, 3, 9, "", 0);
    seg_write(&n, dir);
    char junk[512];
    snprintf(junk, sizeof(junk), "%s/seg-0000000000000009.dat", dir);
    write_file(junk, "not a segment", 13); /* bad header: reported, skipped */

    struct ins_ctx cx = ctx();
    struct src *s;
    const char *why;
    assert_int_equal(src_open(&cx, dir, 0, &s, &why), ST_OK);
    assert_int_equal(src_info(s)->kind, SRC_SSD);
    assert_int_equal(src_info(s)->segments, 4);
    struct seen sn = {0};
    struct src_cbs cbs = {.key = on_key, .damage = on_damage, .ud = &sn};
    assert_int_equal(src_each(s, SRC_WITH_DATA, &cbs), ST_OK);
    /* current: db0 k1 (seq 10), k7 once, k8; db2 k3; db3 k9. k2 deleted, k4 expired, k5 flushed, k6 damaged */
    assert_int_equal(sn.keys, 5);
    int found = 0;
    for (int i = 0; i < sn.keys; i++) {
        found += strcmp(sn.names[i], "k1") == 0 && sn.dbs[i] == 0;
        found += strcmp(sn.names[i], "k7") == 0 && sn.dbs[i] == 0;
        found += strcmp(sn.names[i], "k8") == 0 && sn.dbs[i] == 0;
        found += strcmp(sn.names[i], "k3") == 0 && sn.dbs[i] == 2;
        found += strcmp(sn.names[i], "k9") == 0 && sn.dbs[i] == 3;
    }
    assert_int_equal(found, 5);
    assert_int_equal(src_info(s)->ssd_expired, 1);
    assert_int_equal(sn.damage, 2); /* the bad header, the damaged entry */
    int at = -1;
    for (int i = 0; i < 2; i++)
        if (strstr(sn.damage_where[i], "seg-0000000000000001.dat"))
            at = i;
    assert_true(at >= 0);
    assert_int_equal(sn.damage_off[at], dmg);
    src_close(&s);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void detection_names_what_a_path_is(void **state)
{
    (void)state;
    struct ins_ctx cx = ctx();
    struct src *s = NULL;
    const char *why = NULL;
    char path[] = "/tmp/test_ins_det_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_int_equal(src_open(&cx, "/nonexistent/x.sts", 0, &s, &why), ST_ENOENT);
    write_file(path, "STRAOF01 and more", 17);
    assert_int_equal(src_open(&cx, path, 0, &s, &why), ST_EINVAL);
    assert_non_null(strstr(why, "append log"));
    write_file(path, "", 0);
    assert_int_equal(src_open(&cx, path, 0, &s, &why), ST_EINVAL);
    assert_non_null(strstr(why, "empty"));
    write_file(path, "STRSNP01 but nothing else", 25);
    assert_int_equal(src_open(&cx, path, 0, &s, &why), ST_ECORRUPT);
    assert_non_null(s);
    src_close(&s);
    char dir[] = "/tmp/test_ins_detd_XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(src_open(&cx, dir, 0, &s, &why), ST_EINVAL);
    assert_non_null(strstr(why, "without SSD tier files"));
    rmdir(dir);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pool_scan_finds_whole_records_only),
        cmocka_unit_test(pool_without_our_layout_is_refused),
        cmocka_unit_test(ssd_reader_applies_the_attach_rules),
        cmocka_unit_test(detection_names_what_a_path_is),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
