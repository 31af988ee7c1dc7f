/*
 * test_codec.c -- unit tests for engine/codec.c: round trips from 0 bytes to
 * 1 MiB, incompressible values stored raw, the ratio on JSON-like 1 KB
 * values with a trained dictionary against none (<= 0.35 and clearly
 * better), records under an old dictionary still decoding after a drift
 * retrain replaced it, on_dict refusal and ordering, training failure and
 * backoff, loading stored dictionaries (ids continue after the largest),
 * damaged / truncated / mis-sized input answering ST_ECORRUPT, unknown
 * dictionaries ST_ENOENT, four threads compressing and decompressing while
 * the trainer thread retrains, destroy during an async training, and two
 * codecs side by side.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/codec.h"
#include "engine/err.h"

/* ---- data generators --------------------------------------------------- */

struct rng {
    uint64_t s;
};

static uint64_t rnd64(struct rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

static unsigned rn(struct rng *r, unsigned n)
{
    return (unsigned)(rnd64(r) % n);
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *first[] = {"Alice", "Bob",  "Carol", "David", "Emma",   "Farid", "Grace", "Hiro", "Ines",
                              "Jonas", "Kira", "Liam",  "Maya",  "Noah",   "Olga",  "Pablo", "Qi",   "Rosa",
                              "Sven",  "Tara", "Umar",  "Vera",  "Xavier", "Yara",  "Zoe",   "Wen"};
static const char *last[] = {"Smith", "Garcia", "Mueller", "Rossi",  "Dubois", "Nowak",  "Kim",   "Tanaka",
                             "Silva", "Cohen",  "Ivanova", "Jensen", "Okafor", "Patel",  "Larsen", "Moreau"};
static const char *cities[] = {"Paris", "Berlin", "Lisbon", "Osaka", "Toronto", "Austin",
                               "Nairobi", "Oslo", "Porto",  "Seoul", "Lyon",    "Denver"};
static const char *countries[] = {"FR", "DE", "PT", "JP", "CA", "US", "KE", "NO", "KR"};
static const char *themes[] = {"dark", "light", "system"};
static const char *langs[] = {"en-US", "fr-FR", "de-DE", "ja-JP", "pt-BR", "es-ES"};
static const char *roles[] = {"viewer", "editor", "admin", "billing", "support"};
static const char *items[] = {"Wireless Mouse", "USB-C Cable 2m", "Mechanical Keyboard", "27in Monitor",
                              "Laptop Stand",   "Noise Cancelling Headphones", "Webcam 1080p", "Desk Lamp",
                              "Ergonomic Chair", "Phone Case"};
static const char *statuses[] = {"active", "pending", "suspended", "trial"};

#define APPEND(...) (n += (size_t)snprintf(b + n, cap - n, __VA_ARGS__))

/* A user-profile / session record as a web application caches it: about
 * 1 KB, repeated field names, varying numbers, names, dates, a cart of 1-4
 * items and a random 128-bit token. */
static size_t gen_json(struct rng *r, char *b, size_t cap)
{
    size_t n = 0;
    const char *f = first[rn(r, NELEM(first))], *l = last[rn(r, NELEM(last))];

    APPEND("{\"id\":%u,\"type\":\"user_profile\",\"version\":%u,\"username\":\"%s.%s%u\","
           "\"email\":\"%s.%s%u@example.com\",\"name\":{\"first\":\"%s\",\"last\":\"%s\"},",
           100000 + rn(r, 900000), 1 + rn(r, 5), f, l, rn(r, 100), f, l, rn(r, 100), f, l);
    APPEND("\"status\":\"%s\",\"created_at\":\"20%02u-%02u-%02uT%02u:%02u:%02uZ\","
           "\"last_login\":\"2024-%02u-%02uT%02u:%02u:%02uZ\",\"login_count\":%u,",
           statuses[rn(r, NELEM(statuses))], 18 + rn(r, 6), 1 + rn(r, 12), 1 + rn(r, 28), rn(r, 24), rn(r, 60),
           rn(r, 60), 1 + rn(r, 12), 1 + rn(r, 28), rn(r, 24), rn(r, 60), rn(r, 60), rn(r, 5000));
    APPEND("\"address\":{\"street\":\"%u %s Street\",\"city\":\"%s\",\"zip\":\"%05u\",\"country\":\"%s\"},",
           1 + rn(r, 300), last[rn(r, NELEM(last))], cities[rn(r, NELEM(cities))], rn(r, 100000),
           countries[rn(r, NELEM(countries))]);
    APPEND("\"preferences\":{\"theme\":\"%s\",\"language\":\"%s\",\"newsletter\":%s,"
           "\"notifications\":{\"email\":%s,\"sms\":%s,\"push\":%s}},",
           themes[rn(r, NELEM(themes))], langs[rn(r, NELEM(langs))], rn(r, 2) ? "true" : "false",
           rn(r, 2) ? "true" : "false", rn(r, 2) ? "true" : "false", rn(r, 2) ? "true" : "false");
    APPEND("\"roles\":[\"%s\",\"%s\"],\"cart\":[", roles[rn(r, NELEM(roles))], roles[rn(r, NELEM(roles))]);
    unsigned k = 1 + rn(r, 4);
    for (unsigned i = 0; i < k; i++)
        APPEND("%s{\"sku\":\"SKU-%05u\",\"name\":\"%s\",\"qty\":%u,\"unit_price\":%u.%02u}", i ? "," : "",
               rn(r, 100000), items[rn(r, NELEM(items))], 1 + rn(r, 5), 5 + rn(r, 200), rn(r, 100));
    APPEND("],\"stats\":{\"orders\":%u,\"lifetime_value\":%u.%02u,\"avg_basket\":%u.%02u,\"returns\":%u},"
           "\"session\":{\"ip\":\"10.%u.%u.%u\",\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) "
           "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/12%u.0.0.0 Safari/537.36\",\"token\":\"",
           rn(r, 500), rn(r, 20000), rn(r, 100), 10 + rn(r, 300), rn(r, 100), rn(r, 20), rn(r, 256), rn(r, 256),
           rn(r, 256), rn(r, 10));
    for (int i = 0; i < 16; i++)
        APPEND("%02x", rn(r, 256));
    APPEND("\"}}");
    return n;
}

static const char *hosts[] = {"db-01", "db-02", "cache-7", "edge-3", "worker-11", "worker-12"};
static const char *procs[] = {"sshd", "nginx", "postgres", "cron", "kernel", "systemd"};
static const char *paths[] = {"/api/v2/orders", "/static/app.js", "/healthz", "/login", "/metrics"};

/* A different kind of value: a batch of syslog / access-log lines. */
static size_t gen_log(struct rng *r, char *b, size_t cap)
{
    size_t n = 0;

    while (n < 900) {
        APPEND("Mar %2u %02u:%02u:%02u %s %s[%u]: ", 1 + rn(r, 28), rn(r, 24), rn(r, 60), rn(r, 60),
               hosts[rn(r, NELEM(hosts))], procs[rn(r, NELEM(procs))], 100 + rn(r, 30000));
        switch (rn(r, 3)) {
        case 0:
            APPEND("Accepted publickey for deploy from 192.168.%u.%u port %u ssh2\n", rn(r, 256), rn(r, 256),
                   1024 + rn(r, 60000));
            break;
        case 1:
            APPEND("GET %s?page=%u HTTP/1.1 %u %u bytes in %u.%03u ms\n", paths[rn(r, NELEM(paths))], rn(r, 50),
                   rn(r, 4) ? 200 : 404, rn(r, 90000), rn(r, 900), rn(r, 1000));
            break;
        default:
            APPEND("checkpoint complete: wrote %u buffers (%u.%u%%); %u WAL file(s) added, sync=%u.%03u s\n",
                   rn(r, 20000), rn(r, 100), rn(r, 10), rn(r, 4), rn(r, 10), rn(r, 1000));
        }
    }
    return n;
}

static void gen_random(struct rng *r, unsigned char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        b[i] = (unsigned char)rnd64(r);
}

/* Compressible text of any length (words from a small vocabulary). */
static void gen_text(struct rng *r, char *b, size_t len)
{
    static const char *words[] = {"tier ", "cache ", "value ", "strata ", "zstd ", "demote ", "promote ", "key "};
    size_t n = 0;

    while (n < len) {
        const char *w = words[rn(r, NELEM(words))];
        while (*w && n < len)
            b[n++] = *w++;
    }
}

/* ---- helpers ------------------------------------------------------------ */

static struct codec_conf sync_conf(void)
{
    struct codec_conf cf;

    codec_conf_init(&cf);
    cf.train_async = 0;
    return cf;
}

static struct codec *make(const struct codec_conf *cf)
{
    struct codec *c = NULL;

    assert_int_equal(codec_create(cf, &c), ST_OK);
    assert_non_null(c);
    return c;
}

/* Compresses src and checks the result decodes back; returns stored size. */
static size_t roundtrip(struct codec *c, const void *src, size_t len, uint32_t *id_out, int *raw_out)
{
    size_t cap = codec_bound(len);
    unsigned char *dst = malloc(cap ? cap : 1), *back = malloc(len ? len : 1);
    size_t dlen = (size_t)-1;
    uint32_t id = 99;
    int raw = -1;

    assert_non_null(dst);
    assert_non_null(back);
    assert_int_equal(codec_compress(c, src, len, dst, cap, &dlen, &id, &raw), ST_OK);
    assert_true(dlen <= len);
    assert_true(raw == 0 || raw == 1);
    if (raw) {
        assert_int_equal(dlen, len);
        assert_int_equal(id, 0);
        if (len)
            assert_memory_equal(dst, src, len);
    } else {
        assert_true(dlen < len);
    }
    assert_int_equal(codec_decompress(c, id, raw, dst, dlen, back, len), ST_OK);
    if (len)
        assert_memory_equal(back, src, len);
    free(dst);
    free(back);
    if (id_out)
        *id_out = id;
    if (raw_out)
        *raw_out = raw;
    return dlen;
}

/* A stored record: original value and its compressed form. */
struct rec {
    char *val;
    size_t len;
    unsigned char *z;
    size_t zlen;
    uint32_t id;
    int raw;
};

static void rec_make(struct codec *c, struct rec *rc, const char *val, size_t len)
{
    rc->val = malloc(len ? len : 1);
    rc->z = malloc(codec_bound(len) ? codec_bound(len) : 1);
    assert_non_null(rc->val);
    assert_non_null(rc->z);
    memcpy(rc->val, val, len);
    rc->len = len;
    assert_int_equal(codec_compress(c, val, len, rc->z, codec_bound(len), &rc->zlen, &rc->id, &rc->raw), ST_OK);
}

static int rec_check(struct codec *c, const struct rec *rc)
{
    char *back = malloc(rc->len ? rc->len : 1);
    int rc2;

    assert_non_null(back);
    rc2 = codec_decompress(c, rc->id, rc->raw, rc->z, rc->zlen, back, rc->len);
    if (rc2 == ST_OK && memcmp(back, rc->val, rc->len) != 0)
        rc2 = 1; /* decoded to other bytes */
    free(back);
    return rc2;
}

static void rec_free(struct rec *rc)
{
    free(rc->val);
    free(rc->z);
}

/* Feeds n generated values through compress (and checks them). */
static void feed(struct codec *c, struct rng *r, size_t (*gen)(struct rng *, char *, size_t), unsigned n)
{
    char buf[4096];

    for (unsigned i = 0; i < n; i++)
        roundtrip(c, buf, gen(r, buf, sizeof(buf)), NULL, NULL);
}

/* A tiny stand-in for a tier's dictionary store, filled by on_dict. */
struct dict_store {
    pthread_mutex_t lock;
    int refuse;   /* answer non-zero */
    unsigned calls;
    uint32_t ids[64];
    void *dicts[64];
    size_t lens[64];
    unsigned n;
    struct codec *watch; /* when set: checked at call time */
    int used_early;      /* the codec already named the new id as current */
};

static int store_dict(void *ud, uint32_t id, const void *dict, size_t len)
{
    struct dict_store *s = ud;
    int rc;

    pthread_mutex_lock(&s->lock);
    s->calls++;
    if (s->watch) {
        struct codec_stats st;
        codec_stats(s->watch, &st); /* no codec lock is held during on_dict */
        if (st.dict_id == id)
            s->used_early = 1;
    }
    rc = s->refuse ? -1 : 0;
    if (!rc && s->n < 64) {
        s->ids[s->n] = id;
        s->dicts[s->n] = malloc(len);
        assert_non_null(s->dicts[s->n]);
        memcpy(s->dicts[s->n], dict, len);
        s->lens[s->n] = len;
        s->n++;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void store_init(struct dict_store *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
}

static void store_free(struct dict_store *s)
{
    for (unsigned i = 0; i < s->n; i++)
        free(s->dicts[i]);
    pthread_mutex_destroy(&s->lock);
}

/* ---- tests -------------------------------------------------------------- */

static void test_conf_defaults_and_invalid_confs(void **state)
{
    struct codec_conf cf;
    struct codec *c = (struct codec *)&cf;

    codec_conf_init(&cf);
    assert_int_equal(cf.level, 3);
    assert_int_equal(cf.dict_size, 16384);
    assert_int_equal(cf.small_max, 4096);
    assert_int_equal(cf.train_samples, 1000);
    assert_int_equal(cf.train_bytes_max, 1024 * 1024);
    assert_true(cf.retrain_drift > 0.099 && cf.retrain_drift < 0.101);
    assert_int_equal(cf.retrain_min_interval_ms, 60000);
    assert_int_equal(cf.train_async, 1);
    assert_int_equal(cf.checksum, 0);

    c = make(NULL); /* defaults, trainer thread started */
    codec_destroy(&c);
    assert_null(c);
    codec_destroy(&c); /* NULL is fine */
    codec_destroy(NULL);

    struct codec_conf bad[8];
    for (int i = 0; i < 8; i++)
        codec_conf_init(&bad[i]);
    bad[0].level = 1000;
    bad[1].dict_size = 10;
    bad[2].train_samples = 2;
    bad[3].train_bytes_max = 100;
    bad[4].retrain_min_interval_ms = -1;
    bad[5].drift_window = 0;
    bad[6].dict_size = (size_t)1 << 30;
    bad[7].small_max = (size_t)1 << 30;
    for (int i = 0; i < 8; i++) {
        c = (struct codec *)&cf;
        assert_int_equal(codec_create(&bad[i], &c), ST_EINVAL);
        assert_null(c);
    }
    assert_int_equal(codec_create(NULL, NULL), ST_EINVAL);
}

static void test_roundtrip_every_size_to_1mb_text_and_random(void **state)
{
    struct codec_conf cf = sync_conf();
    struct codec *c = make(&cf);
    struct rng r = {0x1234567};
    size_t max = (size_t)1 << 20;
    char *buf = malloc(max);
    static const size_t big[] = {1023, 1024, 4095, 4096, 4097, 65535, 65536, 65537, 100000, 500001, (size_t)1 << 20};
    int raw;

    assert_non_null(buf);
    /* text and random alternate, so a pooled context is reused right after a
     * compression that failed (random: stored raw) -- a regression test: zstd
     * refuses a dictionary change on such a context until it is reset */
    for (size_t len = 0; len <= 600; len++) {
        gen_text(&r, buf, len);
        roundtrip(c, buf, len, NULL, &raw);
        if (len >= 100)
            assert_int_equal(raw, 0); /* text of this size does shrink */
        gen_random(&r, (unsigned char *)buf, len);
        roundtrip(c, buf, len, NULL, &raw);
        if (len >= 16)
            assert_int_equal(raw, 1);
    }
    for (size_t i = 0; i < NELEM(big); i++) {
        gen_text(&r, buf, big[i]);
        size_t z = roundtrip(c, buf, big[i], NULL, &raw);
        assert_int_equal(raw, 0);
        assert_true(z < big[i] / 2);
        gen_random(&r, (unsigned char *)buf, big[i]);
        roundtrip(c, buf, big[i], NULL, &raw);
        assert_int_equal(raw, 1);
    }
    /* cap below codec_bound is refused; so are NULL out-pointers */
    size_t dlen;
    uint32_t id;
    assert_int_equal(codec_compress(c, buf, 100, buf + 200, 99, &dlen, &id, &raw), ST_EINVAL);
    assert_int_equal(codec_compress(c, buf, 100, buf + 200, 100, NULL, &id, &raw), ST_EINVAL);
    assert_int_equal(codec_compress(c, NULL, 100, buf + 200, 100, &dlen, &id, &raw), ST_EINVAL);
    free(buf);
    codec_destroy(&c);
}

static void test_incompressible_values_are_stored_raw(void **state)
{
    struct codec_conf cf = sync_conf();
    struct codec *c = make(&cf);
    struct rng r = {42};
    unsigned char src[5000], dst[5000];
    struct codec_stats st;
    size_t dlen, total = 0;
    uint32_t id;
    int raw;

    for (int i = 0; i < 200; i++) {
        size_t len = 16 + rn(&r, 4980);
        gen_random(&r, src, len);
        assert_int_equal(codec_compress(c, src, len, dst, len, &dlen, &id, &raw), ST_OK);
        assert_int_equal(raw, 1);
        assert_int_equal(id, 0);
        assert_int_equal(dlen, len);
        assert_memory_equal(dst, src, len);
        total += len;
    }
    codec_stats(c, &st);
    assert_int_equal(st.compressions, 200);
    assert_int_equal(st.stored_raw, 200);
    assert_int_equal(st.raw_in, total);
    assert_int_equal(st.stored_out, total);
    /* a raw record must be exactly as long as its value */
    assert_int_equal(codec_decompress(c, 0, 1, src, 100, dst, 101), ST_ECORRUPT);
    assert_int_equal(codec_decompress(c, 0, 1, src, 0, dst, 0), ST_OK);
    codec_destroy(&c);
}

static void test_json_ratio_with_dictionary_at_most_035_and_better_than_none(void **state)
{
    struct codec_conf cf = sync_conf(), nd = sync_conf();
    struct codec *c, *plain;
    struct rng r = {0xC0FFEE};
    struct codec_stats st;
    char buf[4096];
    uint64_t raw_b = 0, dict_b = 0, plain_b = 0;
    uint32_t id;
    int raw;

    nd.small_max = 0; /* no dictionary at all */
    c = make(&cf);
    plain = make(&nd);
    feed(c, &r, gen_json, cf.train_samples); /* the 1000th value trains inline */
    codec_stats(c, &st);
    assert_int_equal(st.trainings, 1);
    assert_int_equal(st.dicts, 1);
    assert_int_equal(st.dict_id, 1);
    assert_int_equal(st.sample_bytes, 0); /* IDLE: no sampling until drift */
    assert_true(st.train_ratio > 0 && st.train_ratio < st.train_ratio_nodict);

    for (int i = 0; i < 2000; i++) {
        size_t len = gen_json(&r, buf, sizeof(buf));
        raw_b += len;
        dict_b += roundtrip(c, buf, len, &id, &raw);
        assert_int_equal(id, 1);
        assert_int_equal(raw, 0);
        plain_b += roundtrip(plain, buf, len, &id, &raw);
        assert_int_equal(id, 0);
    }
    double with = (double)dict_b / (double)raw_b, without = (double)plain_b / (double)raw_b;
    codec_stats(c, &st);
    print_message("json ~%u B values: stored/raw with dictionary %.3f (held-out at training %.3f), "
                  "without %.3f (held-out %.3f); dict %u B held as %llu B DRAM\n",
                  (unsigned)(raw_b / 2000), with, st.train_ratio, without, st.train_ratio_nodict,
                  (unsigned)cf.dict_size, (unsigned long long)st.dict_bytes);
    assert_true(with <= 0.35);
    assert_true(with < 0.6 * without);
    assert_true(st.recent_ratio > 0 && st.recent_ratio < 0.35);
    assert_true(st.dict_compressions >= 2000);
    assert_int_equal(st.trainings, 1); /* the same kind of data: no drift */
    codec_destroy(&c);
    codec_destroy(&plain);
}

static void test_drift_retrains_and_old_dictionary_records_still_decode(void **state)
{
    struct codec_conf cf = sync_conf();
    struct dict_store ds;
    struct codec *c;
    struct codec_stats st;
    struct rng r = {777};
    struct rec old[100], other[50];
    char buf[4096];
    double json_recent;

    store_init(&ds);
    cf.train_samples = 500;
    cf.drift_window = 100;
    cf.retrain_min_interval_ms = 0;
    cf.on_dict = store_dict;
    cf.ud = &ds;
    c = make(&cf);
    feed(c, &r, gen_json, 500);
    codec_stats(c, &st);
    assert_int_equal(st.trainings, 1);
    assert_int_equal(st.dict_id, 1);
    assert_int_equal(ds.n, 1);
    assert_int_equal(ds.ids[0], 1);

    for (int i = 0; i < 100; i++) {
        rec_make(c, &old[i], buf, gen_json(&r, buf, sizeof(buf)));
        assert_int_equal(old[i].id, 1);
    }
    /* more of the same kind: the ratio holds, no retraining */
    feed(c, &r, gen_json, 1500);
    codec_stats(c, &st);
    assert_int_equal(st.trainings, 1);
    json_recent = st.recent_ratio;
    assert_true(json_recent <= st.train_ratio * 1.10);

    /* a very different kind of data: drift, a fresh sample set, retraining */
    unsigned fed = 0;
    for (; fed < 3000; fed++) {
        roundtrip(c, buf, gen_log(&r, buf, sizeof(buf)), NULL, NULL);
        codec_stats(c, &st);
        if (st.trainings == 2)
            break;
    }
    print_message("drift: json ratio %.3f under dict 1; retrained after %u log values; log ratio under dict 2 "
                  "%.3f at training\n",
                  json_recent, fed + 1, st.train_ratio);
    assert_int_equal(st.trainings, 2);
    assert_int_equal(st.dict_id, 2);
    assert_int_equal(st.dicts, 2);
    assert_int_equal(ds.n, 2);
    assert_int_equal(ds.ids[1], 2);
    assert_true(fed + 1 >= 500 && fed + 1 <= 500 + 200); /* drift seen within two windows */

    /* the log values now compress with dictionary 2, better than under 1 */
    feed(c, &r, gen_log, 300);
    codec_stats(c, &st);
    assert_int_equal(st.trainings, 2);
    for (int i = 0; i < 50; i++) {
        rec_make(c, &other[i], buf, gen_log(&r, buf, sizeof(buf)));
        assert_int_equal(other[i].id, 2);
    }
    /* records written under dictionary 1 still decode */
    for (int i = 0; i < 100; i++)
        assert_int_equal(rec_check(c, &old[i]), ST_OK);
    for (int i = 0; i < 50; i++)
        assert_int_equal(rec_check(c, &other[i]), ST_OK);
    /* the id in the record must be the one used: 1's frames do not decode with 2 */
    assert_int_equal(codec_decompress(c, 2, 0, old[0].z, old[0].zlen, buf, old[0].len), ST_ECORRUPT);

    for (int i = 0; i < 100; i++)
        rec_free(&old[i]);
    for (int i = 0; i < 50; i++)
        rec_free(&other[i]);
    codec_destroy(&c);
    store_free(&ds);
}

static void test_on_dict_refusal_means_dictionary_unused_and_backoff(void **state)
{
    struct codec_conf cf = sync_conf();
    struct dict_store ds;
    struct codec *c;
    struct codec_stats st;
    struct rng r = {99};
    char buf[4096];
    uint32_t id;
    int raw;

    store_init(&ds);
    ds.refuse = 1;
    cf.train_samples = 200;
    cf.retrain_min_interval_ms = 0;
    cf.on_dict = store_dict;
    cf.ud = &ds;
    c = make(&cf);
    ds.watch = c;
    feed(c, &r, gen_json, 200);
    codec_stats(c, &st);
    assert_int_equal(ds.calls, 1);
    assert_int_equal(st.dict_refusals, 1);
    assert_int_equal(st.trainings, 0);
    assert_int_equal(st.train_failures, 0);
    assert_int_equal(st.dicts, 0);
    assert_int_equal(st.dict_id, 0);
    for (int i = 0; i < 50; i++) {
        roundtrip(c, buf, gen_json(&r, buf, sizeof(buf)), &id, &raw);
        assert_int_equal(id, 0);
        assert_int_equal(raw, 0);
    }
    /* backoff: the next attempt waits for 2x train_samples values (50 seen) */
    feed(c, &r, gen_json, 400 - 50 - 1);
    assert_int_equal(ds.calls, 1);
    feed(c, &r, gen_json, 1);
    assert_int_equal(ds.calls, 2);
    /* accepted now, after 4x more; ids never reused: 1 and 2 were refused */
    ds.refuse = 0;
    feed(c, &r, gen_json, 800);
    codec_stats(c, &st);
    assert_int_equal(ds.calls, 3);
    assert_int_equal(st.dict_refusals, 2);
    assert_int_equal(st.trainings, 1);
    assert_int_equal(st.dict_id, 3);
    assert_int_equal(ds.n, 1);
    assert_int_equal(ds.ids[0], 3);
    assert_int_equal(ds.used_early, 0); /* not current while on_dict ran */
    roundtrip(c, buf, gen_json(&r, buf, sizeof(buf)), &id, &raw);
    assert_int_equal(id, 3);
    assert_int_equal(codec_decompress(c, 1, 0, buf, 10, buf + 100, 10), ST_ENOENT);
    codec_destroy(&c);
    store_free(&ds);
}

static void test_training_failure_counted_and_backed_off(void **state)
{
    struct codec_conf cf = sync_conf();
    struct codec *c;
    struct codec_stats st;
    struct rng r = {5};
    char buf[4096];
    uint32_t id;
    int raw;

    /* 3000-byte values in a 4 KiB sample budget: one sample, too few for ZDICT */
    cf.train_samples = 8;
    cf.train_bytes_max = 4096;
    cf.retrain_min_interval_ms = 0;
    c = make(&cf);
    gen_text(&r, buf, 3000);
    for (int i = 0; i < 2; i++)
        roundtrip(c, buf, 3000, &id, &raw);
    codec_stats(c, &st);
    assert_int_equal(st.train_failures, 1);
    assert_int_equal(st.trainings, 0);
    assert_int_equal(st.dict_id, 0);
    /* the next attempt only after 8 << 1 values */
    for (int i = 0; i < 15; i++) {
        gen_text(&r, buf, 3000);
        roundtrip(c, buf, 3000, &id, &raw);
        assert_int_equal(id, 0);
        assert_int_equal(raw, 0);
    }
    codec_stats(c, &st);
    assert_int_equal(st.train_failures, 1);
    roundtrip(c, buf, 3000, NULL, NULL);
    codec_stats(c, &st);
    assert_int_equal(st.train_failures, 2);
    /* then after 8 << 2 */
    for (int i = 0; i < 31; i++)
        roundtrip(c, buf, 3000, NULL, NULL);
    codec_stats(c, &st);
    assert_int_equal(st.train_failures, 2);
    roundtrip(c, buf, 3000, NULL, NULL);
    codec_stats(c, &st);
    assert_int_equal(st.train_failures, 3);
    assert_int_equal(st.dicts, 0);
    assert_true(st.sample_bytes <= 4096 + 8 * 16);
    codec_destroy(&c);
}

/* Every single-byte change of a frame with a checksum, every truncation,
 * wrong sizes, appended bytes, garbage: ST_ECORRUPT. Without a checksum:
 * never a crash, and truncation / sizes / garbage are still caught. */
static void check_damage(struct codec *c, const struct rec *rc, int checksum, unsigned *undetected)
{
    unsigned char *z = malloc(rc->zlen + 16);
    char *back = malloc(rc->len + 16);

    assert_non_null(z);
    assert_non_null(back);
    for (size_t i = 0; i < rc->zlen; i++) {
        memcpy(z, rc->z, rc->zlen);
        z[i] ^= 0xff;
        int e = codec_decompress(c, rc->id, 0, z, rc->zlen, back, rc->len);
        if (checksum)
            assert_int_equal(e, ST_ECORRUPT);
        else if (e == ST_OK)
            (*undetected)++;
        else
            assert_int_equal(e, ST_ECORRUPT);
    }
    for (size_t t = 0; t < rc->zlen; t++)
        assert_int_equal(codec_decompress(c, rc->id, 0, rc->z, t, back, rc->len), ST_ECORRUPT);
    assert_int_equal(codec_decompress(c, rc->id, 0, rc->z, rc->zlen, back, rc->len - 1), ST_ECORRUPT);
    assert_int_equal(codec_decompress(c, rc->id, 0, rc->z, rc->zlen, back, rc->len + 1), ST_ECORRUPT);
    assert_int_equal(codec_decompress(c, rc->id, 0, rc->z, rc->zlen, back, 0), ST_ECORRUPT);
    memcpy(z, rc->z, rc->zlen);
    memcpy(z + rc->zlen, "trailing garbage", 16);
    assert_int_equal(codec_decompress(c, rc->id, 0, z, rc->zlen + 16, back, rc->len), ST_ECORRUPT);
    assert_int_equal(rec_check(c, rc), ST_OK); /* and the intact one still decodes */
    free(z);
    free(back);
}

static void test_damaged_truncated_or_missized_input_is_ecorrupt(void **state)
{
    struct rng r = {0xBAD};
    char buf[4096];

    for (int checksum = 0; checksum <= 1; checksum++) {
        struct codec_conf cf = sync_conf();
        struct codec *c;
        struct rec rd, rp, rbig;
        unsigned undetected = 0, flips = 0;

        cf.train_samples = 200;
        cf.checksum = checksum;
        c = make(&cf);
        feed(c, &r, gen_json, 200);
        rec_make(c, &rd, buf, gen_json(&r, buf, sizeof(buf)));
        assert_int_equal(rd.id, 1);
        gen_text(&r, buf, 3000);
        rec_make(c, &rp, buf, 3000); /* small: dict 1 */
        char *big = malloc(200000);
        assert_non_null(big);
        gen_text(&r, big, 200000);
        rec_make(c, &rbig, big, 200000); /* large: no dictionary */
        assert_int_equal(rbig.id, 0);
        assert_int_equal(rbig.raw, 0);
        check_damage(c, &rd, checksum, &undetected);
        check_damage(c, &rp, checksum, &undetected);
        flips = (unsigned)(rd.zlen + rp.zlen);
        /* large frame: truncations at a stride, sizes */
        for (size_t t = 0; t < rbig.zlen; t += 7)
            assert_int_equal(codec_decompress(c, 0, 0, rbig.z, t, big, rbig.len), ST_ECORRUPT);
        assert_int_equal(codec_decompress(c, 0, 0, rbig.z, rbig.zlen, big, rbig.len - 1), ST_ECORRUPT);
        /* a dictionary frame read as if it had none */
        assert_int_equal(codec_decompress(c, 0, 0, rd.z, rd.zlen, buf, rd.len), ST_ECORRUPT);
        /* garbage */
        for (int i = 0; i < 500; i++) {
            size_t len = 1 + rn(&r, 2000);
            gen_random(&r, (unsigned char *)buf, len);
            assert_int_equal(codec_decompress(c, 0, 0, buf, len, big, 1 + rn(&r, 5000)), ST_ECORRUPT);
            assert_int_equal(codec_decompress(c, 1, 0, buf, len, big, 1 + rn(&r, 5000)), ST_ECORRUPT);
        }
        assert_int_equal(codec_decompress(c, 0, 0, buf, 0, big, 10), ST_ECORRUPT);
        print_message("checksum=%d: %u single-byte damages, %u decoded without an error\n", checksum, flips,
                      undetected);
        if (checksum)
            assert_int_equal(undetected, 0);
        struct codec_stats st;
        codec_stats(c, &st);
        assert_true(st.decompress_errors > 1000);
        rec_free(&rd);
        rec_free(&rp);
        rec_free(&rbig);
        free(big);
        codec_destroy(&c);
    }
}

static void test_unknown_dictionary_is_enoent(void **state)
{
    struct codec_conf cf = sync_conf();
    struct codec *c = make(&cf);
    char buf[64] = "whatever", out[64];

    assert_int_equal(codec_decompress(c, 1, 0, buf, 10, out, 10), ST_ENOENT);
    assert_int_equal(codec_decompress(c, 0xFFFFFFFFu, 0, buf, 10, out, 10), ST_ENOENT);
    assert_int_equal(codec_decompress(c, 0, 0, NULL, 10, out, 10), ST_EINVAL);
    codec_stats(c, &(struct codec_stats){0});
    codec_destroy(&c);
}

static void test_stored_dictionaries_load_and_ids_continue(void **state)
{
    struct codec_conf cf = sync_conf();
    struct dict_store ds, ds2;
    struct codec *a, *b;
    struct codec_stats st;
    struct rng r = {31337};
    struct rec recs[40];
    char buf[4096];
    uint32_t id;
    int raw;

    store_init(&ds);
    store_init(&ds2);
    cf.train_samples = 300;
    cf.retrain_min_interval_ms = 0;
    cf.drift_window = 50;
    cf.on_dict = store_dict;
    cf.ud = &ds;
    a = make(&cf);
    feed(a, &r, gen_json, 300);
    assert_int_equal(ds.n, 1);
    for (int i = 0; i < 40; i++)
        rec_make(a, &recs[i], buf, gen_json(&r, buf, sizeof(buf)));
    codec_destroy(&a);

    /* "restart": a new codec loads the stored dictionary and reads the records */
    cf.ud = &ds2;
    b = make(&cf);
    assert_int_equal(codec_add_dict(b, ds.ids[0], ds.dicts[0], ds.lens[0]), ST_OK);
    for (int i = 0; i < 40; i++)
        assert_int_equal(rec_check(b, &recs[i]), ST_OK);
    codec_stats(b, &st);
    assert_int_equal(st.dict_id, 1);
    assert_int_equal(st.dicts, 1);
    assert_int_equal(st.trainings, 0);
    assert_int_equal(st.sample_bytes, 0);
    roundtrip(b, buf, gen_json(&r, buf, sizeof(buf)), &id, &raw);
    assert_int_equal(id, 1);

    /* the same id again: fine with the same bytes, refused with others */
    assert_int_equal(codec_add_dict(b, 1, ds.dicts[0], ds.lens[0]), ST_OK);
    assert_int_equal(codec_add_dict(b, 1, ds.dicts[0], ds.lens[0] - 1), ST_EEXIST);
    assert_int_equal(codec_add_dict(b, 0, ds.dicts[0], ds.lens[0]), ST_EINVAL);
    assert_int_equal(codec_add_dict(b, 9, ds.dicts[0], 0), ST_EINVAL);
    assert_int_equal(codec_add_dict(b, 9, NULL, 10), ST_EINVAL);
    /* a ZDICT header over garbage entropy tables */
    unsigned char bad[600];
    memset(bad, 0xEE, sizeof(bad));
    memcpy(bad, "\x37\xa4\x30\xec\x09\x00\x00\x00", 8);
    assert_int_equal(codec_add_dict(b, 9, bad, sizeof(bad)), ST_ECORRUPT);
    /* a larger id becomes current; its first window is the reference */
    assert_int_equal(codec_add_dict(b, 7, ds.dicts[0], ds.lens[0]), ST_OK);
    codec_stats(b, &st);
    assert_int_equal(st.dict_id, 7);
    assert_int_equal(st.dicts, 2);
    assert_true(st.train_ratio == 0);
    /* a smaller one loads but does not take over */
    assert_int_equal(codec_add_dict(b, 4, ds.dicts[0], ds.lens[0]), ST_OK);
    roundtrip(b, buf, gen_json(&r, buf, sizeof(buf)), &id, &raw);
    assert_int_equal(id, 7);
    feed(b, &r, gen_json, 100);
    codec_stats(b, &st);
    assert_true(st.train_ratio > 0);
    /* drift to logs: the trained dictionary takes id 8 */
    for (int i = 0; i < 2000 && ds2.n == 0; i++)
        roundtrip(b, buf, gen_log(&r, buf, sizeof(buf)), NULL, NULL);
    assert_int_equal(ds2.n, 1);
    assert_int_equal(ds2.ids[0], 8);
    codec_stats(b, &st);
    assert_int_equal(st.dict_id, 8);
    assert_int_equal(st.dicts, 4);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(rec_check(b, &recs[i]), ST_OK);
        rec_free(&recs[i]);
    }
    codec_destroy(&b);
    store_free(&ds);
    store_free(&ds2);
}

/* Four workers compress and decompress while the trainer thread trains and
 * retrains: they send JSON until the first dictionary is in use, then logs
 * (a drift) until the second one is, then MT_OPS_AFTER more operations each;
 * at most MT_OPS_MAX operations each, so the test is bounded. */
#define MT_THREADS 4
#define MT_OPS_AFTER 300
#define MT_OPS_MAX 40000
#define MT_RING 32

struct mt_arg {
    struct codec *c;
    unsigned seed;
    unsigned failures;
    uint64_t ops;
};

static void *mt_worker(void *p)
{
    struct mt_arg *a = p;
    struct rng r = {0x9E3779B97F4A7C15ull * (a->seed + 1)};
    struct rec ring[MT_RING];
    struct codec_stats st = {0};
    unsigned nring = 0, after = 0;
    char *buf = malloc(70000), *back = malloc(70000);

    for (unsigned i = 0; i < MT_OPS_MAX && after < MT_OPS_AFTER; i++) {
        size_t len;
        unsigned kind = rn(&r, 20);
        if (i % 16 == 0)
            codec_stats(a->c, &st);
        if (st.trainings >= 2)
            after++;
        if (kind == 0) {
            len = 8192 + rn(&r, 60000);
            gen_text(&r, buf, len);
        } else if (kind == 1) {
            len = rn(&r, 3000);
            gen_random(&r, (unsigned char *)buf, len);
        } else {
            len = st.trainings == 0 ? gen_json(&r, buf, 4096) : gen_log(&r, buf, 4096);
        }
        struct rec *slot = &ring[nring < MT_RING ? nring : rn(&r, MT_RING)];
        if (nring >= MT_RING)
            rec_free(slot);
        else
            nring++;
        slot->val = malloc(len ? len : 1);
        slot->z = malloc(len ? len : 1);
        memcpy(slot->val, buf, len);
        slot->len = len;
        if (codec_compress(a->c, buf, len, slot->z, len, &slot->zlen, &slot->id, &slot->raw) != ST_OK)
            a->failures++;
        /* decode this one and an older one (maybe under an older dictionary) */
        for (int k = 0; k < 2; k++) {
            struct rec *rc = k ? &ring[rn(&r, nring)] : slot;
            if (codec_decompress(a->c, rc->id, rc->raw, rc->z, rc->zlen, back, rc->len) != ST_OK ||
                memcmp(back, rc->val, rc->len) != 0)
                a->failures++;
        }
        a->ops++;
    }
    for (unsigned i = 0; i < nring; i++)
        rec_free(&ring[i]);
    free(buf);
    free(back);
    return NULL;
}

static void test_four_threads_with_async_training(void **state)
{
    struct codec_conf cf;
    struct dict_store ds;
    struct codec *c;
    struct codec_stats st;
    pthread_t th[MT_THREADS];
    struct mt_arg args[MT_THREADS];
    uint64_t ops = 0;

    store_init(&ds);
    codec_conf_init(&cf);
    cf.train_samples = 300;
    cf.retrain_min_interval_ms = 0;
    cf.drift_window = 64;
    cf.on_dict = store_dict;
    cf.ud = &ds;
    c = make(&cf);
    for (int i = 0; i < MT_THREADS; i++) {
        args[i] = (struct mt_arg){.c = c, .seed = (unsigned)i};
        assert_int_equal(pthread_create(&th[i], NULL, mt_worker, &args[i]), 0);
    }
    for (int i = 0; i < MT_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
        ops += args[i].ops;
    }
    codec_stats(c, &st);
    print_message("4 threads: %llu compressions (%llu with a dictionary, %llu raw), %llu decompressions, "
                  "%llu trainings, dict %u, contexts %llu B, dicts %llu B\n",
                  (unsigned long long)st.compressions, (unsigned long long)st.dict_compressions,
                  (unsigned long long)st.stored_raw, (unsigned long long)st.decompressions,
                  (unsigned long long)st.trainings, st.dict_id, (unsigned long long)st.ctx_bytes,
                  (unsigned long long)st.dict_bytes);
    assert_int_equal(st.compressions, ops);
    assert_int_equal(st.decompressions, 2 * ops);
    assert_int_equal(st.decompress_errors, 0);
    assert_true(st.trainings >= 2); /* trained, drifted, retrained */
    assert_true(st.dict_compressions > 0);
    assert_true(st.ctx_bytes > 0);
    codec_destroy(&c); /* joins the trainer, which may still be training */
    assert_true(ds.n >= st.trainings); /* every dictionary in use was stored first */
    store_free(&ds);
}

/* Destroy right after the value that hands a full sample set to the trainer
 * thread: it joins the training (or frees the job not yet taken), nothing
 * leaks (ASan), and on_dict may still have been called. */
static void test_destroy_while_async_training(void **state)
{
    struct rng r = {4242};

    for (int round = 0; round < 3; round++) {
        struct codec_conf cf;
        struct dict_store ds;
        struct codec *c;

        store_init(&ds);
        codec_conf_init(&cf);
        cf.train_samples = 300;
        cf.on_dict = store_dict;
        cf.ud = &ds;
        c = make(&cf);
        feed(c, &r, gen_json, 300 + (unsigned)round);
        codec_destroy(&c);
        assert_null(c);
        assert_true(ds.calls <= 1);
        store_free(&ds);
    }
}

static void test_two_codecs_side_by_side(void **state)
{
    struct codec_conf ca = sync_conf(), cb = sync_conf();
    struct codec *a, *b;
    struct codec_stats sa, sb;
    struct rng r = {2024};
    struct rec ra[20], rb[20];
    char buf[4096];

    ca.train_samples = 200;
    cb.train_samples = 300;
    cb.level = 9;
    a = make(&ca);
    b = make(&cb);
    feed(a, &r, gen_json, 200);
    feed(b, &r, gen_log, 299);
    codec_stats(a, &sa);
    codec_stats(b, &sb);
    assert_int_equal(sa.trainings, 1);
    assert_int_equal(sb.trainings, 0); /* one value short */
    feed(b, &r, gen_log, 1);
    codec_stats(b, &sb);
    assert_int_equal(sb.trainings, 1);
    assert_int_equal(sa.dict_id, 1);
    assert_int_equal(sb.dict_id, 1);
    for (int i = 0; i < 20; i++) {
        rec_make(a, &ra[i], buf, gen_json(&r, buf, sizeof(buf)));
        rec_make(b, &rb[i], buf, gen_log(&r, buf, sizeof(buf)));
    }
    codec_stats(a, &sa);
    codec_stats(b, &sb);
    assert_int_equal(sa.compressions, 220);
    assert_int_equal(sb.compressions, 320);
    codec_destroy(&a);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(rec_check(b, &rb[i]), ST_OK);
        rec_free(&ra[i]);
        rec_free(&rb[i]);
    }
    codec_destroy(&b);
}

static void test_stats_account_bytes_and_memory(void **state)
{
    struct codec_conf cf = sync_conf();
    struct codec *c;
    struct codec_stats st;
    struct rng r = {8};
    char buf[4096];
    uint64_t in = 0, out = 0;

    cf.train_samples = 100;
    c = make(&cf);
    codec_stats(c, &st);
    assert_int_equal(st.compressions, 0);
    assert_int_equal(st.dicts, 0);
    assert_int_equal(st.dict_bytes, 0);
    for (int i = 0; i < 99; i++)
        feed(c, &r, gen_json, 1);
    codec_stats(c, &st);
    assert_true(st.sample_bytes > 99 * 800); /* 99 JSON samples held */
    assert_int_equal(st.trainings, 0);
    feed(c, &r, gen_json, 1);
    codec_stats(c, &st);
    assert_int_equal(st.trainings, 1);
    assert_int_equal(st.sample_bytes, 0);
    /* raw bytes + a DDict + the current dictionary's CDict */
    assert_true(st.dict_bytes > 2 * 1000);
    assert_true(st.ctx_bytes > 0);
    print_message("one dictionary: %llu B DRAM (dict_size %zu); contexts %llu B\n",
                  (unsigned long long)st.dict_bytes, cf.dict_size, (unsigned long long)st.ctx_bytes);
    uint64_t c0 = st.compressions, i0 = st.raw_in, o0 = st.stored_out, d0 = st.decompressions;
    for (int i = 0; i < 50; i++) {
        size_t len = gen_json(&r, buf, sizeof(buf));
        in += len;
        out += roundtrip(c, buf, len, NULL, NULL);
    }
    codec_stats(c, &st);
    assert_int_equal(st.compressions - c0, 50);
    assert_int_equal(st.decompressions - d0, 50);
    assert_int_equal(st.raw_in - i0, in);
    assert_int_equal(st.stored_out - o0, out);
    codec_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_defaults_and_invalid_confs),
        cmocka_unit_test(test_roundtrip_every_size_to_1mb_text_and_random),
        cmocka_unit_test(test_incompressible_values_are_stored_raw),
        cmocka_unit_test(test_json_ratio_with_dictionary_at_most_035_and_better_than_none),
        cmocka_unit_test(test_drift_retrains_and_old_dictionary_records_still_decode),
        cmocka_unit_test(test_on_dict_refusal_means_dictionary_unused_and_backoff),
        cmocka_unit_test(test_training_failure_counted_and_backed_off),
        cmocka_unit_test(test_damaged_truncated_or_missized_input_is_ecorrupt),
        cmocka_unit_test(test_unknown_dictionary_is_enoent),
        cmocka_unit_test(test_stored_dictionaries_load_and_ids_continue),
        cmocka_unit_test(test_four_threads_with_async_training),
        cmocka_unit_test(test_destroy_while_async_training),
        cmocka_unit_test(test_two_codecs_side_by_side),
        cmocka_unit_test(test_stats_account_bytes_and_memory),
    };
    /* e.g. CODEC_TEST_FILTER='*threads*' valgrind --tool=helgrind ... */
    if (getenv("CODEC_TEST_FILTER"))
        cmocka_set_test_filter(getenv("CODEC_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
