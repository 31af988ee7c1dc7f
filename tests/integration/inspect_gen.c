/*
 * inspect_gen.c -- makes inputs for tests/integration/test_inspect.sh and
 * bench/inspect_rss.sh with the engine's own writers, and says what they
 * hold (an "expected" file the test compares strata-inspect's output and a
 * real redis-server's contents with).
 *
 *   inspect_gen snap OUT.sts EXPECTED [variant]   every type and encoding, hot (serial_encode of
 *                                                 values built with the type modules) and cold
 *                                                 (zstd via the codec with and without a trained
 *                                                 dictionary, and raw records, behind the index),
 *                                                 TTLs (future, past), several databases;
 *                                                 variant "b" changes, adds and removes keys;
 *                                                 "dup" holds one key twice (damage); "small"
 *                                                 the same encodings with fewer elements (fuzz seeds)
 *   inspect_gen pool OUT.pool EXPECTED            a PMem pool through tiers/pmem.c (records, a
 *                                                 dictionary, deleted records)
 *   inspect_gen ssd DIR EXPECTED                  an SSD directory through tiers/ssd.c (PUTs in
 *                                                 several databases, overwrites, deletes, SWAPDB,
 *                                                 FLUSHDB, an expired record, a dictionary)
 *   inspect_gen big OUT.sts MIB                   a snapshot of about MIB MiB (hot strings and
 *                                                 hashes, cold records), for the RSS measurement
 *
 * EXPECTED: one line a key, fields separated by a space, every byte string
 * in lower-case hex ("-" for an empty one):
 *   db type expire_ms(-1 none) expired(0|1) key n elem...
 * where elem is the element's hex for strings, lists and sets, "member:score"
 * for zsets (score as %.17g, or inf/-inf), "field:value" for hashes. A pool
 * has no databases: db is "?". Lists keep their order; sets, hashes and
 * zsets are in the generator's order (the test sorts).
 *
 * The time base is the wall clock at run time, or STRATA_GEN_NOW_MS (so two
 * snapshots can share it): expiries are now + 1 h, now + 2 days, and one
 * now - 10 s (already expired).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/codec.h"
#include "engine/entry.h"
#include "engine/err.h"
#include "engine/hll.h"
#include "engine/serial.h"
#include "engine/snap.h"
#include "engine/t_hash.h"
#include "engine/t_list.h"
#include "engine/t_set.h"
#include "engine/t_zset.h"
#include "engine/tier.h"
#include "engine/util.h"
#include "engine/vfs.h"
#include "tiers/pmem.h"
#include "tiers/ssd.h"

#define SEED 0x1234567ull

static const struct type_limits lim = TYPE_LIMITS_DEFAULT;
static FILE *exp_out;

static int64_t gen_now(void)
{
    const char *e = getenv("STRATA_GEN_NOW_MS");
    return e && *e ? strtoll(e, NULL, 10) : util_time_ms();
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "inspect_gen: %s: %s\n", what, st_strerror(rc));
    exit(1);
}

static void hex(FILE *f, const void *p, size_t n)
{
    const unsigned char *s = p;
    if (!n)
        fputc('-', f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", s[i]);
}

/* ---- the expected file --------------------------------------------------------- */

struct ex_st {
    FILE *f;
    int type;
};

static int ex_elem(struct ex_st *x, const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
                   double score)
{
    fputc(' ', x->f);
    hex(x->f, a, alen);
    if (x->type == OBJ_ZSET) {
        if (isinf(score))
            fprintf(x->f, ":%s", score > 0 ? "inf" : "-inf");
        else
            fprintf(x->f, ":%.17g", score == 0 ? 0.0 : score);
    } else if (x->type == OBJ_HASH) {
        fputc(':', x->f);
        hex(x->f, b, blen);
    }
    return 0;
}

/* Writes one line for e (key, type, value) in db (-1: "?"). */
static void expect(int db, struct entry *e, int64_t now)
{
    struct ex_st x = {.f = exp_out, .type = e->type};
    int64_t exp = entry_expire(e);
    uint64_t n = 0;

    if (!exp_out)
        return;
    if (db < 0)
        fprintf(exp_out, "? ");
    else
        fprintf(exp_out, "%d ", db);
    fprintf(exp_out, "%s %lld %d ", entry_type_name(e->type), (long long)exp, exp >= 0 && exp <= now);
    hex(exp_out, entry_key(e), e->klen);
    switch (e->type) {
    case OBJ_STRING: n = 1; break;
    case OBJ_LIST: n = list_len(entry_ptr(e)); break;
    case OBJ_SET: n = set_len(entry_ptr(e)); break;
    case OBJ_ZSET: n = zset_len(entry_ptr(e)); break;
    default: n = hash_len(entry_ptr(e)); break;
    }
    fprintf(exp_out, " %llu", (unsigned long long)n);
    if (e->type == OBJ_STRING) {
        char tmp[UTIL_LLSTR_SIZE];
        size_t len;
        const char *s = entry_str(e, tmp, &len);
        ex_elem(&x, (const unsigned char *)s, len, NULL, 0, 0);
    } else if (e->type == OBJ_LIST) {
        struct list_iter it;
        struct lp_val v;
        unsigned char buf[32];
        list_iter_init(entry_ptr(e), 0, LIST_TAIL, &it);
        while (list_iter_next(&it, &v)) {
            size_t len;
            const unsigned char *s = lp_val_str(&v, buf, &len);
            ex_elem(&x, s, len, NULL, 0, 0);
        }
    } else if (e->type == OBJ_SET) {
        struct set_it it;
        const unsigned char *m;
        size_t len;
        unsigned char buf[UTIL_LLSTR_SIZE];
        set_it_init(&it, entry_ptr(e));
        while (set_it_next(&it, &m, &len, buf))
            ex_elem(&x, m, len, NULL, 0, 0);
        set_it_done(&it);
    } else if (e->type == OBJ_ZSET) {
        struct zset_it it;
        struct zset_elem el;
        zset_it_rank(&it, entry_ptr(e), 0, 0);
        while (zset_it_next(&it, &el))
            ex_elem(&x, el.m, el.len, NULL, 0, el.score);
    } else {
        struct hash_iter it;
        hash_iter_init(&it, entry_ptr(e));
        while (hash_iter_next(&it))
            ex_elem(&x, it.f.p, it.f.len, it.v.p, it.v.len, 0);
        hash_iter_done(&it);
    }
    fputc('\n', exp_out);
}

/* ---- values ---------------------------------------------------------------------- */

static struct entry *wrap(const char *key, size_t klen, uint8_t type, void *obj, int64_t exp)
{
    struct entry *e = entry_create(key, (uint32_t)klen, type, ENC_PTR, sizeof(void *), exp);
    if (!e)
        die("entry_create", ST_ENOMEM);
    entry_set_ptr(e, obj);
    return e;
}

static struct entry *mk_str(const char *key, size_t klen, const void *v, size_t vlen, int64_t exp)
{
    struct entry *e = entry_create_str(key, (uint32_t)klen, v, vlen, exp);
    if (!e)
        die("entry_create_str", ST_ENOMEM);
    return e;
}

static struct entry *mk_list(const char *key, unsigned n, const char *fmt, int64_t exp)
{
    struct list *l = list_create();
    char buf[64];
    for (unsigned i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf), fmt, i);
        list_convert_grow(l, 1, (size_t)len, lim.list_max_lp_size);
        if (list_push(l, LIST_TAIL, buf, (size_t)len, lim.list_max_lp_size) != ST_OK)
            die("list_push", ST_ENOMEM);
    }
    return wrap(key, strlen(key), OBJ_LIST, l, exp);
}

static struct entry *mk_set(const char *key, unsigned n, const char *fmt, int64_t exp)
{
    char buf[64];
    int len = snprintf(buf, sizeof(buf), fmt, 0u);
    struct set *s = set_create_for(buf, (size_t)len, n, &lim, SEED);
    for (unsigned i = 0; i < n; i++) {
        len = snprintf(buf, sizeof(buf), fmt, i);
        if (set_add(&s, buf, (size_t)len, &lim, SEED) < 0)
            die("set_add", ST_ENOMEM);
    }
    return wrap(key, strlen(key), OBJ_SET, s, exp);
}

static struct entry *mk_zset(const char *key, unsigned n, int64_t exp)
{
    void *zs = zset_create(0, 0, &lim);
    char buf[64];
    for (unsigned i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf), "player:%u", i), of;
        double sc = i == 0 ? -INFINITY : i == 1 ? INFINITY : i % 3 == 0 ? (double)i / 7.0 : -(double)i * 1000.5;
        if (zset_add(&zs, &lim, sc, buf, (size_t)len, 0, &of, NULL) != ST_OK)
            die("zset_add", ST_ENOMEM);
    }
    return wrap(key, strlen(key), OBJ_ZSET, zs, exp);
}

static struct entry *mk_hash(const char *key, unsigned n, size_t vlen, int64_t exp)
{
    void *h = hash_create();
    struct hash_conf conf;
    char f[64], *v = malloc(vlen + 32);
    int added;

    hash_conf_init(&conf, &lim, SEED);
    for (unsigned i = 0; i < n; i++) {
        int fl = snprintf(f, sizeof(f), "field:%u", i);
        size_t vl = (size_t)snprintf(v, vlen + 32, "v%u-", i);
        for (; vl < vlen; vl++)
            v[vl] = (char)('a' + (vl * 7 + i) % 26);
        if (i == 1 && vl > 3) {
            v[0] = 0;
            v[1] = (char)0xff;
            v[2] = '\r';
        }
        if (hash_set(&h, f, (size_t)fl, v, vl, &conf, &added) != ST_OK)
            die("hash_set", ST_ENOMEM);
    }
    free(v);
    return wrap(key, strlen(key), OBJ_HASH, h, exp);
}

static struct entry *mk_hll(const char *key, unsigned n, int64_t exp)
{
    unsigned char empty[HLL_SPARSE_EMPTY_SIZE];
    struct hll h;
    char buf[32];

    hll_init_empty(empty);
    if (hll_load(&h, empty, sizeof(empty)) != ST_OK)
        die("hll_load", ST_ENOMEM);
    for (unsigned i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf), "visitor-%u", i);
        if (hll_add(&h, buf, (size_t)len, lim.hll_sparse_max_bytes) < 0)
            die("hll_add", ST_ENOMEM);
    }
    struct entry *e = mk_str(key, strlen(key), h.p, h.len, exp);
    hll_release(&h);
    return e;
}

/* ---- records ---------------------------------------------------------------------- */

static uint64_t gen_no = 1;

/* The tier record of e: compressed through c (or raw when raw is 1).
 * Returns it malloc'd with its length. */
static unsigned char *record(struct codec *c, struct entry *e, int raw, size_t *len)
{
    void *ser;
    size_t sl, dl;
    uint32_t dict = 0;
    int israw = 1;
    int rc = serial_encode(e, &ser, &sl);
    if (rc != ST_OK)
        die("serial_encode", rc);
    unsigned char *dst = malloc(codec_bound(sl) + 1);
    if (raw) {
        memcpy(dst, ser, sl);
        dl = sl;
    } else if ((rc = codec_compress(c, ser, sl, dst, codec_bound(sl) + 1, &dl, &dict, &israw)) != ST_OK) {
        die("codec_compress", rc);
    }
    struct tier_rec r = {.gen = (gen_no++ % ((1u << 20) - 2)) + 1, .expire_ms = entry_expire(e),
                         .key = entry_key(e), .klen = e->klen, .val = dst, .vlen = (uint32_t)dl,
                         .rawlen = (uint32_t)sl, .dict_id = dict, .type = e->type,
                         .flags = israw ? TIER_REC_F_RAW : 0};
    *len = tier_rec_size(&r);
    unsigned char *rec = malloc(*len);
    tier_rec_encode(&r, rec);
    free(dst);
    free(ser);
    return rec;
}

struct dicts {
    uint32_t id[8];
    void *d[8];
    size_t len[8];
    int n;
};

static int keep_dict(void *ud, uint32_t id, const void *dict, size_t len)
{
    struct dicts *ds = ud;
    if (ds->n < 8) {
        ds->id[ds->n] = id;
        ds->d[ds->n] = malloc(len);
        memcpy(ds->d[ds->n], dict, len);
        ds->len[ds->n++] = len;
    }
    return 0;
}

/* A codec with a trained dictionary (small JSON-ish values). */
static struct codec *trained_codec(struct dicts *ds)
{
    struct codec_conf cf;
    struct codec *c;
    char buf[256];
    unsigned char out[512];

    codec_conf_init(&cf);
    cf.train_async = 0;
    cf.train_samples = 64;
    cf.dict_size = 4096;
    cf.on_dict = keep_dict;
    cf.ud = ds;
    if (codec_create(&cf, &c) != ST_OK)
        die("codec_create", ST_ENOMEM);
    for (unsigned i = 0; i < 4000 && ds->n == 0; i++) {
        int n = snprintf(buf, sizeof(buf), "{\"user\":%u,\"name\":\"user-%u\",\"plan\":\"%s\",\"visits\":%u}", i, i,
                         i % 3 ? "free" : "pro", i * 7 % 1000);
        size_t dl;
        uint32_t id;
        int raw;
        codec_compress(c, buf, (size_t)n, out, sizeof(out), &dl, &id, &raw);
    }
    if (ds->n == 0)
        die("no dictionary was trained", ST_EINVAL);
    return c;
}

/* ---- snap ----------------------------------------------------------------------- */

struct snapw {
    struct snap_writer *w;
    struct codec *c;
    int64_t now;
};

static void hot(struct snapw *s, uint32_t db, struct entry *e)
{
    void *ser;
    size_t sl;
    int rc = serial_encode(e, &ser, &sl);
    if (rc != ST_OK)
        die("serial_encode", rc);
    if ((rc = snap_write_hot(s->w, db, e->type, entry_expire(e), entry_key(e), e->klen, ser, sl)) != ST_OK)
        die("snap_write_hot", rc);
    expect((int)db, e, s->now);
    free(ser);
    entry_destroy(e);
}

static void cold(struct snapw *s, uint32_t db, uint8_t tier, struct entry *e, int raw)
{
    size_t len;
    unsigned char *rec = record(s->c, e, raw, &len);
    int rc = snap_write_cold(s->w, db, tier, entry_expire(e), rec, len);
    if (rc != ST_OK)
        die("snap_write_cold", rc);
    expect((int)db, e, s->now);
    free(rec);
    entry_destroy(e);
}

static int gen_snap(const char *out, int variant)
{
    char tmp[4096];
    struct dicts ds = {0};
    struct snapw s = {.now = gen_now()};
    struct snap_meta m = {.created_ms = s.now, .log_offset = 123456, .lineage = 0xabcdef0123456789ull,
                          .databases = 16};
    int64_t h1 = s.now + 3600 * 1000, d2 = s.now + 2 * 86400 * 1000, past = s.now - 10000;
    int rc, small = variant == 3;

    s.c = trained_codec(&ds);
    snprintf(tmp, sizeof(tmp), "%s.tmp", out);
    if ((rc = snap_writer_open(vfs_posix(), tmp, &m, &s.w)) != ST_OK)
        die("snap_writer_open", rc);
    snap_write_aux(s.w, "strata-ver", "0.1.0");
    snap_write_aux(s.w, "generator", "inspect_gen");
    for (int i = 0; i < ds.n; i++)
        if ((rc = snap_write_dict(s.w, ds.id[i], ds.d[i], ds.len[i])) != ST_OK)
            die("snap_write_dict", rc);

    /* strings */
    hot(&s, 0, mk_str("greeting", 8, variant ? "hello, world" : "hello", variant ? 12 : 5, -1));
    hot(&s, 0, mk_str("counter", 7, "12345", 5, h1));
    hot(&s, 0, mk_str("neg", 3, "-9223372036854775808", 20, -1));
    char longv[300];
    for (int i = 0; i < 300; i++)
        longv[i] = (char)('A' + i % 26);
    hot(&s, 0, mk_str("long:string", 11, longv, sizeof(longv), d2));
    unsigned char bin[256];
    for (int i = 0; i < 256; i++)
        bin[i] = (unsigned char)i;
    hot(&s, 0, mk_str("bin\x00key\r\n\x7f\xff", sizeof("bin\x00key\r\n\x7f\xff") - 1, bin, sizeof(bin), -1));
    hot(&s, 0, mk_str("utf8:h\xc3\xa9llo \xe2\x9c\x93", sizeof("utf8:h\xc3\xa9llo \xe2\x9c\x93") - 1, "caf\xc3\xa9 \xe2\x98\x95", sizeof("caf\xc3\xa9 \xe2\x98\x95") - 1, -1));
    hot(&s, 0, mk_str("empty", 5, "", 0, -1));
    hot(&s, 0, mk_str("gone", 4, "expired already", 15, past));
    hot(&s, 0, mk_hll("hll:visitors", variant ? 500 : 300, -1));
    hot(&s, 1, mk_str("space key", 9, "a value with spaces", 19, -1));
    /* lists */
    hot(&s, 1, mk_list("list:small", 5, "item-%u", -1));
    hot(&s, 1, mk_list("list:ints", 20, "%u", h1));
    hot(&s, 1, mk_list("list:quick", small ? 300 : variant ? 2600 : 2500, "element number %u with some padding", -1));
    /* sets */
    hot(&s, 2, mk_set("set:ints", 50, "%u", -1));
    hot(&s, 2, mk_set("set:small", 10, "member-%u", -1));
    hot(&s, 2, mk_set("set:big", small ? 130 : 2500, "big-member-%u", d2));
    /* zsets */
    hot(&s, 3, mk_zset("zset:small", 10, -1));
    hot(&s, 3, mk_zset("zset:big", small ? 130 : 1500, -1));
    /* hashes */
    hot(&s, 4, mk_hash("hash:small", 8, 10, -1));
    hot(&s, 4, mk_hash("hash:big", small ? 513 : 1200, small ? 2 : 20, h1));
    hot(&s, 4, mk_hash("hash:wide", 4, 100, -1));
    if (variant == 2) /* "dup": a key twice in one database, which verify must catch */
        hot(&s, 0, mk_str("greeting", 8, "again", 5, -1));
    if (!variant)
        hot(&s, 5, mk_str("only:in:a", 9, "a", 1, -1));
    else
        hot(&s, 5, mk_str("only:in:b", 9, "b", 1, -1));

    /* cold: raw records, zstd without a dictionary (big values), zstd with one (small values) */
    cold(&s, 0, SNAP_TIER_PMEM, mk_str("cold:raw", 8, "a raw cold string", 17, -1), 1);
    cold(&s, 0, SNAP_TIER_PMEM, mk_str("cold:zstd", 9, longv, sizeof(longv), h1), 0);
    for (int i = 0; i < 12; i++) {
        char k[32], v[200];
        int kl = snprintf(k, sizeof(k), "cold:json:%d", i);
        int vl = snprintf(v, sizeof(v), "{\"user\":%d,\"name\":\"user-%d\",\"plan\":\"%s\",\"visits\":%d}", i, i,
                          i % 3 ? "free" : "pro", variant && i == 4 ? 999 : i * 7);
        cold(&s, 6, i % 2 ? SNAP_TIER_SSD : SNAP_TIER_PMEM, mk_str(k, (size_t)kl, v, (size_t)vl, i == 3 ? d2 : -1),
             0);
    }
    cold(&s, 7, SNAP_TIER_SSD, mk_list("cold:list", small ? 300 : 3000, "cold element %u", -1), 0);
    cold(&s, 7, SNAP_TIER_SSD, mk_set("cold:set", 40, "%u", h1), 0);
    cold(&s, 7, SNAP_TIER_OTHER, mk_zset("cold:zset", 200, -1), 0);
    cold(&s, 7, SNAP_TIER_PMEM, mk_hash("cold:hash", small ? 513 : 600, small ? 2 : 30, -1), 0);
    cold(&s, 7, SNAP_TIER_PMEM, mk_hash("cold:hash:small", 5, 8, -1), 1);
    /* the same content hot in A and cold in B: diff says equal */
    if (!variant)
        hot(&s, 8, mk_set("moves:cold", 30, "m%u", -1));
    else
        cold(&s, 8, SNAP_TIER_SSD, mk_set("moves:cold", 30, "m%u", -1), 0);

    if ((rc = snap_writer_commit(&s.w, out)) != ST_OK)
        die("snap_writer_commit", rc);
    codec_destroy(&s.c);
    for (int i = 0; i < ds.n; i++)
        free(ds.d[i]);
    return 0;
}

/* ---- pool --------------------------------------------------------------------------- */

static int gen_pool(const char *out)
{
    struct ptier_conf cf = {.path = out, .size = 16u << 20};
    struct tier *t;
    struct dicts ds = {0};
    int64_t now = util_time_ms();
    int rc = ptier_create(&cf, &t);

    if (rc != ST_OK)
        die("ptier_create", rc);
    struct codec *c = trained_codec(&ds);
    for (int i = 0; i < ds.n; i++)
        if ((rc = t->ops->put_dict(t, ds.id[i], ds.d[i], ds.len[i])) != ST_OK)
            die("put_dict", rc);
    for (int i = 0; i < 40; i++) {
        char k[32], v[200];
        int kl = snprintf(k, sizeof(k), "pool:key:%02d", i);
        int vl = snprintf(v, sizeof(v), "{\"user\":%d,\"name\":\"user-%d\",\"plan\":\"free\"}", i, i);
        struct entry *e = i % 5 == 4 ? mk_hash(k, 20, 16, now + 3600000) : mk_str(k, (size_t)kl, v, (size_t)vl, -1);
        size_t len;
        unsigned char *rec = record(c, e, i % 7 == 0, &len);
        uint64_t hint;
        struct tier_rec r;
        if ((rc = t->ops->put(t, rec, len, &hint, NULL)) != ST_OK)
            die("put", rc);
        tier_rec_decode(rec, len, &r, NULL);
        if (i % 10 == 9) /* deleted: magic zeroed, then freed */
            t->ops->del(t, r.key, r.klen, r.gen, hint);
        else
            expect(-1, e, now);
        free(rec);
        entry_destroy(e);
    }
    tier_destroy(&t);
    codec_destroy(&c);
    for (int i = 0; i < ds.n; i++)
        free(ds.d[i]);
    return 0;
}

/* ---- ssd ---------------------------------------------------------------------------- */

static int gen_ssd(const char *dir)
{
    struct ssd_conf cf;
    struct tier *t;
    struct dicts ds = {0};
    int64_t now = util_time_ms();
    int rc;

    ssd_conf_defaults(&cf);
    cf.dir = dir;
    cf.size = 16u << 20;
    cf.segment_size = 1u << 20;
    cf.write_buffer = 64u << 10;
    cf.maintenance_thread = 0;
    cf.direct_io = 0;
    cf.fsync = 0;
    if ((rc = ssd_create(&cf, &t)) != ST_OK)
        die("ssd_create", rc);
    struct codec *c = trained_codec(&ds);
    for (int i = 0; i < ds.n; i++)
        if ((rc = t->ops->put_dict(t, ds.id[i], ds.d[i], ds.len[i])) != ST_OK)
            die("put_dict", rc);
    /* db 0: 30 keys, 5 deleted, 5 overwritten; db 1 and 2 swapped after; db 3 flushed; one expired */
    struct kept {
        int db;
        struct entry *e;
    } *keep = calloc(200, sizeof(*keep));
    int nk = 0;
    for (int db = 0; db < 4; db++) {
        for (int i = 0; i < 30; i++) {
            char k[32], v[120];
            int kl = snprintf(k, sizeof(k), "ssd:%d:%02d", db, i);
            int vl = snprintf(v, sizeof(v), "{\"user\":%d,\"db\":%d,\"plan\":\"pro\"}", i, db);
            struct entry *e = i % 6 == 5 ? mk_zset(k, 12, -1)
                              : i == 7   ? mk_str(k, (size_t)kl, v, (size_t)vl, now - 5000)
                                         : mk_str(k, (size_t)kl, v, (size_t)vl, i % 4 == 0 ? now + 7200000 : -1);
            size_t len;
            unsigned char *rec = record(c, e, i % 9 == 0, &len);
            uint64_t loc;
            if ((rc = t->index->insert(t, db, rec, len, &loc)) != ST_OK)
                die("insert", rc);
            free(rec);
            if (db == 0 && i % 6 == 1) { /* deleted */
                t->index->remove(t, db, k, (uint32_t)kl, loc);
                entry_destroy(e);
                continue;
            }
            if (db == 0 && i % 6 == 2) { /* overwritten */
                entry_destroy(e);
                vl = snprintf(v, sizeof(v), "overwritten %d", i);
                e = mk_str(k, (size_t)kl, v, (size_t)vl, -1);
                rec = record(c, e, 1, &len);
                if ((rc = t->index->insert(t, db, rec, len, &loc)) != ST_OK)
                    die("insert", rc);
                free(rec);
            }
            keep[nk].db = db;
            keep[nk++].e = e;
        }
    }
    t->index->swapdb(t, 1, 2);
    t->index->flushdb(t, 3);
    if ((rc = ssd_sync(t)) != ST_OK)
        die("ssd_sync", rc);
    tier_destroy(&t);
    for (int i = 0; i < nk; i++) {
        int db = keep[i].db == 1 ? 2 : keep[i].db == 2 ? 1 : keep[i].db;
        int64_t exp = entry_expire(keep[i].e);
        if (db != 3 && !(exp >= 0 && exp <= now))
            expect(db, keep[i].e, now);
        entry_destroy(keep[i].e);
    }
    free(keep);
    codec_destroy(&c);
    for (int i = 0; i < ds.n; i++)
        free(ds.d[i]);
    return 0;
}

/* ---- big ---------------------------------------------------------------------------- */

static int gen_big(const char *out, uint64_t mib)
{
    char tmp[4096];
    struct snap_meta m = {.created_ms = util_time_ms(), .log_offset = 1, .lineage = 7, .databases = 16};
    struct snap_writer *w;
    struct snap_stats st;
    struct dicts ds = {0};
    struct util_rng rng;
    struct codec *c = trained_codec(&ds);
    unsigned char *val = malloc(70000);
    uint64_t i = 0;
    int rc;

    util_rng_seed(&rng, 42);
    snprintf(tmp, sizeof(tmp), "%s.tmp", out);
    if ((rc = snap_writer_open(vfs_posix(), tmp, &m, &w)) != ST_OK)
        die("snap_writer_open", rc);
    for (int d = 0; d < ds.n; d++)
        snap_write_dict(w, ds.id[d], ds.d[d], ds.len[d]);
    for (;; i++) {
        snap_writer_stats(w, &st);
        if (st.bytes + st.buffered >= mib << 20)
            break;
        char k[48];
        int kl = snprintf(k, sizeof(k), "%s:%llu", i % 3 ? "user" : "session", (unsigned long long)i);
        size_t vl = 200 + util_rng_next(&rng) % (i % 100 == 0 ? 65000 : 2000);
        for (size_t j = 0; j < vl; j++)
            val[j] = (unsigned char)('a' + (util_rng_next(&rng) % 8));
        struct entry *e = i % 17 == 0 ? mk_hash(k, 30, 40, -1) : mk_str(k, (size_t)kl, val, vl,
                                                                         i % 5 == 0 ? m.created_ms + 86400000 : -1);
        if (i % 4 == 0) {
            size_t len;
            unsigned char *rec = record(c, e, 0, &len);
            rc = snap_write_cold(w, (uint32_t)(i % 4), i % 8 ? SNAP_TIER_PMEM : SNAP_TIER_SSD, entry_expire(e), rec,
                                 len);
            free(rec);
        } else {
            void *ser;
            size_t sl;
            serial_encode(e, &ser, &sl);
            rc = snap_write_hot(w, (uint32_t)(i % 4), e->type, entry_expire(e), k, (size_t)kl, ser, sl);
            free(ser);
        }
        entry_destroy(e);
        if (rc != ST_OK)
            die("snap_write", rc);
    }
    if ((rc = snap_writer_commit(&w, out)) != ST_OK)
        die("snap_writer_commit", rc);
    printf("%llu keys\n", (unsigned long long)i);
    free(val);
    codec_destroy(&c);
    for (int d = 0; d < ds.n; d++)
        free(ds.d[d]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "big") == 0)
        return gen_big(argv[2], strtoull(argv[3], NULL, 10));
    if (argc < 4) {
        fprintf(stderr, "usage: inspect_gen snap|pool|ssd OUT EXPECTED [b] | big OUT MIB\n");
        return 2;
    }
    exp_out = fopen(argv[3], "w");
    if (!exp_out) {
        perror(argv[3]);
        return 1;
    }
    int rc;
    if (strcmp(argv[1], "snap") == 0)
        rc = gen_snap(argv[2], argc <= 4                      ? 0
                               : strcmp(argv[4], "b") == 0     ? 1
                               : strcmp(argv[4], "dup") == 0   ? 2
                               : strcmp(argv[4], "small") == 0 ? 3
                                                               : 0);
    else if (strcmp(argv[1], "pool") == 0)
        rc = gen_pool(argv[2]);
    else if (strcmp(argv[1], "ssd") == 0)
        rc = gen_ssd(argv[2]);
    else
        rc = 2;
    fclose(exp_out);
    return rc;
}
