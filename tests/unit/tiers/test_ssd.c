/*
 * test_ssd.c -- unit tests for the SSD tier (tiers/ssd.c and its parts):
 * the indexed-tier contract (insert/fetch/fetch_at/current/remove, probe,
 * db_counts, scan, random, flushdb, swapdb, iterate), write buffers (a
 * record readable before it reaches the device; buffers written when full
 * and after flush_ms; every pwrite 4096-aligned), compaction (moved
 * records still served, old locations stale, keys removed or re-inserted
 * during a move not resurrected, a multi-thread stress), notes carried
 * forward, space coming back after deletes, overwrites and expiry (an
 * injected clock), eviction when full, reopen byte-exact (swapdb, flushdb
 * and dictionaries too), torn and damaged files, the sticky failed state
 * (a vfs answering EIO), asynchronous reads from several threads and a
 * destroy with reads in flight.
 *
 * Segment directories are fresh mkdtemp directories under /tmp. Most tests
 * run with maintenance_thread = 0 and call ssd_maintain, with an injected
 * clock, so what happens is deterministic. The test vfs wraps vfs_posix():
 * it counts writes and checks their alignment, and fails pwrite or sync
 * on demand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/tier.h"
#include "engine/vfs.h"
#include "tiers/ssd.h"
#include "tiers/ssd_fmt.h"

#define MiB (1ull << 20)

/* ---- the test vfs -------------------------------------------------------- */

struct tvfs {
    struct vfs v;
    uint64_t pwrites, pwrite_bytes, misaligned, syncs; /* atomics */
    int fail_pwrite, fail_sync;                        /* atomics: -errno to answer, 0 = pass */
    unsigned char dirty[1024];                         /* atomics: handle written since its sync */
    uint64_t seg_unlinks, dirty_at_unlink;             /* atomics: segment files unlinked while
                                                        * some handle was dirty */
};

static const struct vfs *P(void)
{
    return vfs_posix();
}

static int t_open(const struct vfs *v, const char *path, int flags, int vflags, int mode, int *direct)
{
    (void)v;
    return P()->ops->open(P(), path, flags, vflags, mode, direct);
}
static ssize_t t_pread(const struct vfs *v, int h, void *buf, size_t n, uint64_t off)
{
    (void)v;
    return P()->ops->pread(P(), h, buf, n, off);
}
static ssize_t t_pwrite(const struct vfs *v, int h, const void *buf, size_t n, uint64_t off)
{
    struct tvfs *t = v->ud;
    int f = __atomic_load_n(&t->fail_pwrite, __ATOMIC_RELAXED);
    if (f)
        return f;
    __atomic_fetch_add(&t->pwrites, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&t->pwrite_bytes, n, __ATOMIC_RELAXED);
    if (off % 4096 || n % 4096)
        __atomic_fetch_add(&t->misaligned, 1, __ATOMIC_RELAXED);
    ssize_t rc = P()->ops->pwrite(P(), h, buf, n, off);
    if (h >= 0 && h < (int)sizeof(t->dirty))
        __atomic_store_n(&t->dirty[h], 1, __ATOMIC_SEQ_CST);
    return rc;
}
static int t_sync(const struct vfs *v, int h)
{
    struct tvfs *t = v->ud;
    int f = __atomic_load_n(&t->fail_sync, __ATOMIC_RELAXED);
    if (f)
        return f;
    __atomic_fetch_add(&t->syncs, 1, __ATOMIC_RELAXED);
    if (h >= 0 && h < (int)sizeof(t->dirty))
        __atomic_store_n(&t->dirty[h], 0, __ATOMIC_SEQ_CST); /* before: a write racing it stays dirty */
    return P()->ops->sync(P(), h);
}
static int t_truncate(const struct vfs *v, int h, uint64_t size)
{
    (void)v;
    return P()->ops->truncate(P(), h, size);
}
static int64_t t_size(const struct vfs *v, int h)
{
    (void)v;
    return P()->ops->size(P(), h);
}
static int t_close(const struct vfs *v, int h)
{
    struct tvfs *t = v->ud;
    if (h >= 0 && h < (int)sizeof(t->dirty))
        __atomic_store_n(&t->dirty[h], 0, __ATOMIC_SEQ_CST);
    return P()->ops->close(P(), h);
}
static int t_rename(const struct vfs *v, const char *a, const char *b)
{
    (void)v;
    return P()->ops->rename(P(), a, b);
}
static int t_unlink(const struct vfs *v, const char *p)
{
    struct tvfs *t = v->ud;
    const char *base = strrchr(p, '/');
    if (base && !strncmp(base + 1, "seg-", 4)) {
        int dirty = 0;
        for (size_t h = 0; h < sizeof(t->dirty); h++)
            dirty |= __atomic_load_n(&t->dirty[h], __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&t->seg_unlinks, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&t->dirty_at_unlink, (uint64_t)dirty, __ATOMIC_RELAXED);
    }
    return P()->ops->unlink(P(), p);
}
static int t_sync_dir(const struct vfs *v, const char *d)
{
    struct tvfs *t = v->ud;
    int f = __atomic_load_n(&t->fail_sync, __ATOMIC_RELAXED);
    if (f)
        return f;
    return P()->ops->sync_dir(P(), d);
}
static int t_mkdir(const struct vfs *v, const char *d, int mode)
{
    (void)v;
    return P()->ops->mkdir(P(), d, mode);
}
static int t_list(const struct vfs *v, const char *d, int (*fn)(void *, const char *), void *ud)
{
    (void)v;
    return P()->ops->list(P(), d, fn, ud);
}

static const struct vfs_ops tvfs_ops = {
    .open = t_open, .pread = t_pread, .pwrite = t_pwrite, .sync = t_sync, .truncate = t_truncate,
    .size = t_size, .close = t_close, .rename = t_rename, .unlink = t_unlink, .sync_dir = t_sync_dir,
    .mkdir = t_mkdir, .list = t_list,
};

static uint64_t ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* ---- fixture ------------------------------------------------------------- */

struct logcap {
    pthread_mutex_t mu;
    int n, warnings;
    char last[512];
    char all[8192];
};

static void cap_log(void *ud, int level, const char *msg)
{
    struct logcap *c = ud;
    pthread_mutex_lock(&c->mu);
    c->n++;
    if (level >= SSD_LOG_WARNING)
        c->warnings++;
    snprintf(c->last, sizeof(c->last), "%s", msg);
    size_t l = strlen(c->all);
    if (l + strlen(msg) + 2 < sizeof(c->all)) {
        strcat(c->all, msg);
        strcat(c->all, "\n");
    }
    pthread_mutex_unlock(&c->mu);
}

static int warnings(struct logcap *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->warnings;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static int64_t fake_clock(void *ud)
{
    return __atomic_load_n((int64_t *)ud, __ATOMIC_RELAXED);
}

struct fx {
    char dir[64];
    struct tvfs vfs;
    struct logcap log;
    int64_t now;
    struct ssd_conf conf;
    struct tier *t;
};

static struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/strata-ssd-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->vfs.v.ops = &tvfs_ops;
    f->vfs.v.ud = &f->vfs;
    pthread_mutex_init(&f->log.mu, NULL);
    f->now = 1700000000000;
    ssd_conf_defaults(&f->conf);
    f->conf.dir = f->dir;
    f->conf.size = 64 * MiB;
    f->conf.segment_size = 1 * MiB;
    f->conf.write_buffer = 64 * 1024;
    f->conf.maintenance_thread = 0;
    f->conf.flush_ms = 50;
    f->conf.databases = 4;
    f->conf.vfs = &f->vfs.v;
    f->conf.clock_ms = fake_clock;
    f->conf.clock_ud = &f->now;
    f->conf.log = cap_log;
    f->conf.log_ud = &f->log;
    return f;
}

static void fx_open(struct fx *f)
{
    f->log.all[0] = 0;
    assert_int_equal(ssd_create(&f->conf, &f->t), ST_OK);
    assert_non_null(f->t);
}

static void fx_close(struct fx *f)
{
    tier_destroy(&f->t);
    assert_null(f->t);
}

static void fx_reopen(struct fx *f)
{
    fx_close(f);
    fx_open(f);
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[512];
    if (!d)
        return;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void fx_free(struct fx *f)
{
    if (f->t)
        fx_close(f);
    rm_dir(f->dir);
    pthread_mutex_destroy(&f->log.mu);
    free(f);
}

static struct ssd_stats stats(struct tier *t)
{
    struct ssd_stats s;
    ssd_stats(t, &s);
    return s;
}

/* ---- records ------------------------------------------------------------- */

static void fill_val(unsigned char *v, uint32_t n, uint64_t gen)
{
    uint64_t x = gen * 0x9E3779B97F4A7C15ull + 1;
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v[i] = (unsigned char)x;
    }
}

static void *mk_rec(const char *key, uint64_t gen, uint32_t vlen, int64_t expire, size_t *len)
{
    unsigned char *val = malloc(vlen ? vlen : 1);
    assert_non_null(val);
    fill_val(val, vlen, gen);
    struct tier_rec r = {.gen = gen, .expire_ms = expire, .key = key, .klen = (uint32_t)strlen(key), .val = val,
                         .vlen = vlen, .rawlen = vlen + 7, .type = (uint8_t)(gen % 5), .flags = TIER_REC_F_RAW};
    *len = tier_rec_size(&r);
    void *buf = malloc(*len);
    assert_non_null(buf);
    tier_rec_encode(&r, buf);
    free(val);
    return buf;
}

static uint64_t ins_ok(struct tier *t, int db, const char *key, uint64_t gen, uint32_t vlen, int64_t expire)
{
    size_t len;
    uint64_t loc = 0;
    void *rec = mk_rec(key, gen, vlen, expire, &len);
    int rc = t->index->insert(t, db, rec, len, &loc);
    if (rc != ST_OK)
        fail_msg("insert %s: %s", key, st_strerror(rc));
    assert_true(loc != 0);
    free(rec);
    return loc;
}

static int fetch_rc(struct tier *t, int db, const char *key, uint64_t *loc, void **buf, size_t *len)
{
    struct tier_req r = {.db = db, .key = key, .klen = (uint32_t)strlen(key)};
    int rc = t->index->fetch(t, &r);
    assert_true(rc != ST_EPENDING);
    assert_int_equal(rc, r.rc);
    if (rc == ST_OK) {
        if (loc)
            *loc = r.loc;
        if (buf) {
            *buf = r.buf;
            *len = r.len;
        } else {
            free(r.buf);
        }
    } else {
        assert_null(r.buf);
    }
    return rc;
}

/* fetch must return exactly the record inserted for key/gen/vlen/expire. */
static uint64_t expect_rec(struct tier *t, int db, const char *key, uint64_t gen, uint32_t vlen, int64_t expire)
{
    size_t want_len, len = 0;
    void *buf = NULL;
    uint64_t loc = 0;
    void *want = mk_rec(key, gen, vlen, expire, &want_len);
    int rc = fetch_rc(t, db, key, &loc, &buf, &len);
    if (rc != ST_OK)
        fail_msg("fetch %s (db %d): %s", key, db, st_strerror(rc));
    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, len);
    free(buf);
    free(want);
    assert_true(t->index->current(t, db, key, strlen(key), loc));
    return loc;
}

static int fetch_at_rc(struct tier *t, int db, uint64_t loc)
{
    struct tier_req r = {.db = db, .loc = loc};
    int rc = t->index->fetch_at(t, &r);
    assert_true(rc != ST_EPENDING);
    if (rc == ST_OK)
        free(r.buf);
    return rc;
}

static const char *kname(char *buf, const char *pfx, uint64_t i)
{
    sprintf(buf, "%s:%06llu", pfx, (unsigned long long)i);
    return buf;
}

/* Polls cond for up to ms milliseconds. */
static int wait_for(int (*cond)(void *), void *ud, int ms)
{
    for (int i = 0; i < ms; i++) {
        if (cond(ud))
            return 1;
        usleep(1000);
    }
    return cond(ud);
}

/* ---- the contract -------------------------------------------------------- */

static void test_ssd_conf_is_validated(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct tier *t = NULL;
    struct ssd_conf c;
#define BAD(stmt)                                                  \
    do {                                                           \
        c = f->conf;                                               \
        stmt;                                                      \
        assert_int_equal(ssd_create(&c, &t), ST_EINVAL);           \
        assert_null(t);                                            \
    } while (0)
    BAD(c.dir = NULL);
    BAD(c.dir = "");
    BAD(c.databases = 0);
    BAD(c.databases = 1025);
    BAD(c.segment_size = 1 * MiB + 100);
    BAD(c.segment_size = 512 * 1024);
    BAD(c.segment_size = 2048 * MiB);
    BAD(c.write_buffer = 4096 + 1);
    BAD(c.write_buffer = 2 * MiB);
    BAD(c.io_threads = 65);
    BAD(c.compact_live_ratio = 1.0);
    BAD(c.compact_live_ratio = -0.5);
    BAD(c.size = 2 * MiB);
    BAD(c.size = 20000 * MiB);
    BAD(c.flush_ms = 100000);
#undef BAD
    assert_int_equal(ssd_create(NULL, &t), ST_EINVAL);
    assert_true(warnings(&f->log) > 0);
    fx_open(f);
    assert_string_equal(f->t->name, "ssd");
    assert_non_null(f->t->index);
    fx_free(f);
}

static void test_ssd_insert_fetch_current_remove_round_trip(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;

    uint64_t l1 = ins_ok(t, 0, "alpha", 1, 100, -1);
    uint64_t l2 = ins_ok(t, 0, "beta", 2, 1, f->now + 3600 * 1000);
    uint64_t l3 = ins_ok(t, 1, "gamma", 3, 300000, -1); /* bigger than a write buffer */
    assert_true(expect_rec(t, 0, "alpha", 1, 100, -1) == l1);
    assert_true(expect_rec(t, 0, "beta", 2, 1, f->now + 3600 * 1000) == l2);
    assert_true(expect_rec(t, 1, "gamma", 3, 300000, -1) == l3);
    assert_int_equal(fetch_rc(t, 1, "alpha", NULL, NULL, NULL), ST_ENOENT); /* another db */
    assert_int_equal(fetch_rc(t, 0, "alph", NULL, NULL, NULL), ST_ENOENT);
    assert_int_equal(t->index->probe(t, 0, "alpha", 5), 1);
    int absent = 0;
    for (int i = 0; i < 10; i++) {
        char k[16];
        absent += !t->index->probe(t, 0, kname(k, "nope", (uint64_t)i), strlen(k));
    }
    assert_true(absent > 0); /* false positives are allowed, not everywhere */
    assert_int_equal(fetch_at_rc(t, 0, l1), ST_OK);
    assert_int_equal(fetch_at_rc(t, 1, l1), ST_ENOENT); /* current in db 0, not 1 */
    assert_int_equal(fetch_at_rc(t, 0, l1 ^ (1ull << 50)), ST_ENOENT);
    uint64_t k, v;
    t->index->db_counts(t, 0, &k, &v);
    assert_int_equal(k, 2);
    assert_int_equal(v, 1);

    assert_int_equal(t->index->remove(t, 0, "alpha", 5, l2), ST_ENOENT); /* not its loc */
    assert_int_equal(t->index->remove(t, 0, "alpha", 5, l1), ST_OK);
    assert_int_equal(t->index->remove(t, 0, "alpha", 5, l1), ST_ENOENT);
    assert_int_equal(fetch_rc(t, 0, "alpha", NULL, NULL, NULL), ST_ENOENT);
    assert_false(t->index->current(t, 0, "alpha", 5, l1));
    assert_int_equal(fetch_at_rc(t, 0, l1), ST_ENOENT);
    t->index->db_counts(t, 0, &k, &v);
    assert_int_equal(k, 1);

    /* malformed input */
    size_t len;
    uint64_t loc = 0;
    unsigned char *bad = mk_rec("c", 3, 5, -1, &len);
    assert_int_equal(t->index->insert(t, 9, bad, len, &loc), ST_EINVAL);
    assert_int_equal(t->index->insert(t, -1, bad, len, &loc), ST_EINVAL);
    assert_int_equal(t->index->insert(t, 0, bad, len - 1, &loc), ST_EINVAL);
    bad[len - 1] ^= 1;
    assert_int_equal(t->index->insert(t, 0, bad, len, &loc), ST_EINVAL);
    assert_int_equal(fetch_rc(t, 7, "beta", NULL, NULL, NULL), ST_ENOENT);
    size_t hlen;
    void *huge = mk_rec("huge", 9, 1 * MiB, -1, &hlen); /* more than a segment holds */
    assert_int_equal(t->index->insert(t, 0, huge, hlen, &loc), ST_EFULL);
    free(huge);
    assert_int_equal(t->index->remove(t, 0, NULL, 3, l2), ST_ENOENT);

    /* the base operations are not the API of an indexed tier */
    uint64_t hint;
    void *buf;
    assert_int_equal(t->ops->put(t, bad, len, &hint, NULL), ST_EINVAL);
    assert_int_equal(t->ops->get(t, "beta", 4, 2, l2, &buf, &len, NULL), ST_EINVAL);
    assert_int_equal(t->ops->del(t, "beta", 4, 2, l2), ST_EINVAL);
    assert_int_equal(t->ops->iterate(t, NULL, NULL), ST_EINVAL);
    assert_int_equal(t->ops->heap_bytes(t), 0);
    free(bad);

    struct tier_stats ts;
    t->ops->stats(t, &ts);
    assert_int_equal(ts.records, 2);
    assert_int_equal(ts.puts, 8);
    assert_int_equal(ts.put_fails, 5);
    assert_int_equal(ts.dels, 1);
    assert_int_equal(ts.capacity_bytes, 64 * MiB);
    assert_true(ts.used_bytes > 300000);
    /* an estimate: the segment's sums scaled by its live share (2 of 3) */
    assert_true(ts.stored_bytes >= 150000 && ts.stored_bytes <= 300101);
    assert_int_equal(ts.failed, 0);
    fx_free(f);
}

static void test_ssd_overwrite_retires_the_old_entry(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    uint64_t a = ins_ok(t, 0, "k", 1, 50, -1);
    uint64_t b = ins_ok(t, 0, "k", 2, 70, -1); /* old one in the buffer */
    assert_true(a != b);
    expect_rec(t, 0, "k", 2, 70, -1);
    assert_false(t->index->current(t, 0, "k", 1, a));
    assert_int_equal(fetch_at_rc(t, 0, a), ST_OK); /* the key's current record (index contract) */
    assert_int_equal(ssd_sync(t), ST_OK);
    uint64_t c = ins_ok(t, 0, "k", 3, 90, f->now + 10000); /* old one on the device: read to compare */
    expect_rec(t, 0, "k", 3, 90, f->now + 10000);
    assert_false(t->index->current(t, 0, "k", 1, b));
    assert_true(t->index->current(t, 0, "k", 1, c));
    uint64_t k, v;
    t->index->db_counts(t, 0, &k, &v);
    assert_int_equal(k, 1);
    assert_int_equal(v, 1);
    struct ssd_stats s = stats(t);
    assert_true(s.insert_reads >= 2);
    assert_true(s.notes_written >= 1); /* a TTL record replacing one: a DEL note first */
    fx_reopen(f);
    expect_rec(f->t, 0, "k", 3, 90, f->now + 10000);
    f->t->index->db_counts(f->t, 0, &k, &v);
    assert_int_equal(k, 1);
    fx_free(f);
}

/* 29 bits of hash tell keys apart in the index; with 150k keys some pairs
 * share them, and the records' keys tell them apart. */
static void test_ssd_keys_sharing_a_fingerprint_are_told_apart(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->conf.databases = 1;
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    const uint64_t n = 150000;
    for (uint64_t i = 0; i < n; i++)
        ins_ok(t, 0, kname(k, "fp", i), i, 1, -1);
    struct ssd_stats s = stats(t);
    assert_true(s.insert_reads > 0); /* collisions were met (expected ~20) */
    assert_int_equal(s.index_entries, n);
    for (uint64_t i = 0; i < n; i++) {
        void *buf;
        size_t len;
        assert_int_equal(fetch_rc(t, 0, kname(k, "fp", i), NULL, &buf, &len), ST_OK);
        struct tier_rec r;
        assert_int_equal(tier_rec_decode(buf, len, &r, NULL), ST_OK);
        assert_true(r.gen == i);
        free(buf);
    }
    print_message("ssd: %llu fingerprint comparisons for %llu keys; index %.2f B/key\n",
                  (unsigned long long)s.insert_reads, (unsigned long long)n, (double)s.index_bytes / (double)n);
    fx_free(f);
}

/* ---- write buffers ------------------------------------------------------- */

struct donecount {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int n;
    pthread_t caller;
    int on_caller;
};

static void count_done(struct tier_req *r)
{
    struct donecount *d = r->ud;
    pthread_mutex_lock(&d->mu);
    d->n++;
    if (pthread_equal(pthread_self(), d->caller))
        d->on_caller++;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->mu);
    free(r->buf);
    r->buf = NULL;
}

static void test_ssd_record_is_readable_before_it_reaches_the_device(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->conf.write_buffer = 1 * MiB;
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    for (int i = 0; i < 10; i++)
        ins_ok(t, 0, kname(k, "buf", (uint64_t)i), (uint64_t)i, 200, -1);
    assert_int_equal(ld(&f->vfs.pwrites), 0); /* nothing written yet */
    struct donecount d = {.caller = pthread_self()};
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cond, NULL);
    for (int i = 0; i < 10; i++) {
        struct tier_req r = {.db = 0, .key = kname(k, "buf", (uint64_t)i), .klen = 10, .done = count_done, .ud = &d};
        assert_int_equal(t->index->fetch(t, &r), ST_OK); /* at once, from the buffer */
        assert_int_equal(r.rc, ST_OK);
        free(r.buf);
    }
    assert_int_equal(d.n, 0); /* done is not called for an answer given at once */
    struct ssd_stats s = stats(t);
    assert_int_equal(s.buffer_hits, 10);
    assert_int_equal(s.device_reads, 0);
    assert_true(s.buffer_bytes >= 1 * MiB);
    assert_int_equal(ssd_sync(t), ST_OK);
    assert_true(ld(&f->vfs.pwrites) > 0);
    assert_int_equal(ld(&f->vfs.misaligned), 0);
    /* still served from DRAM: the tail block stays in the buffer to be
     * rewritten whole; after a reopen, from the device */
    for (int i = 0; i < 10; i++)
        expect_rec(t, 0, kname(k, "buf", (uint64_t)i), (uint64_t)i, 200, -1);
    fx_reopen(f);
    t = f->t;
    for (int i = 0; i < 10; i++)
        expect_rec(t, 0, kname(k, "buf", (uint64_t)i), (uint64_t)i, 200, -1);
    assert_true(stats(t).device_reads >= 10);
    assert_int_equal(stats(t).buffer_hits, 0);
    pthread_cond_destroy(&d.cond);
    pthread_mutex_destroy(&d.mu);
    fx_free(f);
}

struct ge {
    const uint64_t *p;
    uint64_t v;
};

static int ge_cond(void *ud)
{
    struct ge *g = ud;
    return ld(g->p) >= g->v;
}

static int written_cond(void *ud)
{
    return stats(ud).device_bytes_written > 0;
}

static void test_ssd_buffers_reach_the_device_when_full_and_after_flush_ms(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    /* 64 KiB buffers: 200 records of 1000 bytes fill three of them */
    for (int i = 0; i < 200; i++)
        ins_ok(t, 0, kname(k, "full", (uint64_t)i), (uint64_t)i, 1000, -1);
    struct ge g = {&f->vfs.pwrite_bytes, 3 * 64 * 1024};
    assert_true(wait_for(ge_cond, &g, 3000)); /* written without any sync or maintenance */
    assert_int_equal(stats(t).failed, 0);
    /* a partly filled buffer: only after flush_ms, by maintenance */
    assert_int_equal(ssd_sync(t), ST_OK);
    uint64_t w0 = ld(&f->vfs.pwrites);
    ins_ok(t, 0, "lonely", 1, 10, -1);
    usleep(80 * 1000);
    assert_int_equal(ld(&f->vfs.pwrites), w0); /* no maintenance ran */
    assert_int_equal(ssd_maintain(t), ST_OK);   /* flush_ms (50) passed */
    g = (struct ge){&f->vfs.pwrites, w0 + 1};
    assert_true(wait_for(ge_cond, &g, 3000));
    /* and the tail block is rewritten whole with the next record */
    uint64_t w1 = ld(&f->vfs.pwrites);
    ins_ok(t, 0, "second", 2, 10, -1);
    usleep(60 * 1000);
    assert_int_equal(ssd_maintain(t), ST_OK);
    g = (struct ge){&f->vfs.pwrites, w1 + 1};
    assert_true(wait_for(ge_cond, &g, 3000));
    assert_int_equal(ld(&f->vfs.misaligned), 0);
    fx_close(f);
    /* with the maintenance thread: within flush_ms, unasked */
    f->conf.maintenance_thread = 1;
    f->conf.flush_ms = 30;
    fx_open(f);
    t = f->t;
    expect_rec(t, 0, "second", 2, 10, -1);
    uint64_t w2 = ld(&f->vfs.pwrites);
    int64_t t0 = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    ins_ok(t, 0, "third", 3, 10, -1);
    g = (struct ge){&f->vfs.pwrites, w2 + 1};
    assert_true(wait_for(ge_cond, &g, 3000));
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t took = ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0;
    print_message("ssd: a partly filled buffer reached the device after %lld ms (flush_ms 30)\n", (long long)took);
    assert_true(took < 1000);
    assert_int_equal(ld(&f->vfs.misaligned), 0);
    assert_true(wait_for(written_cond, t, 3000)); /* counted once the pwrite returned */
    fx_free(f);
}

/* ---- scan, random, counts, flushdb, swapdb, iterate ----------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_ssd_scan_random_counts_swapdb_flushdb_survive_reopen(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    uint64_t *locs = calloc(2000, sizeof(uint64_t));
    assert_non_null(locs);
    for (uint64_t i = 0; i < 1000; i++)
        locs[i] = ins_ok(t, 0, kname(k, "a", i), i, 20, i % 2 ? f->now + 100000000 : -1);
    for (uint64_t i = 0; i < 500; i++)
        ins_ok(t, 1, kname(k, "b", i), 10000 + i, 30, -1);
    uint64_t n0, v0;
    t->index->db_counts(t, 0, &n0, &v0);
    assert_int_equal(n0, 1000);
    assert_int_equal(v0, 500);
    /* scan db 0: every key, each once */
    uint64_t *seen = calloc(4000, sizeof(uint64_t)), cur = 0;
    size_t nseen = 0, n;
    do {
        cur = t->index->scan(t, 0, cur, seen + nseen, 64, &n);
        assert_true(n <= 64);
        nseen += n;
        assert_true(nseen < 4000);
    } while (cur);
    assert_int_equal(nseen, 1000);
    qsort(seen, nseen, sizeof(uint64_t), cmp_u64);
    qsort(locs, 1000, sizeof(uint64_t), cmp_u64);
    assert_memory_equal(seen, locs, 1000 * sizeof(uint64_t));
    assert_int_equal(fetch_at_rc(t, 0, seen[17]), ST_OK);
    /* random */
    uint64_t loc;
    assert_int_equal(t->index->random(t, 1, 12345, &loc), ST_OK);
    assert_int_equal(fetch_at_rc(t, 1, loc), ST_OK);
    assert_int_equal(t->index->random(t, 2, 12345, &loc), ST_ENOENT);
    /* swapdb: 0 <-> 1 */
    assert_int_equal(t->index->swapdb(t, 0, 1), ST_OK);
    t->index->db_counts(t, 1, &n0, &v0);
    assert_int_equal(n0, 1000);
    expect_rec(t, 1, "a:000005", 5, 20, f->now + 100000000);
    expect_rec(t, 0, "b:000005", 10005, 30, -1);
    assert_int_equal(fetch_rc(t, 0, "a:000005", NULL, NULL, NULL), ST_ENOENT);
    assert_int_equal(t->index->swapdb(t, 0, 9), ST_EINVAL);
    /* a key inserted after the swap, then flushdb of the other db */
    ins_ok(t, 0, "after", 77, 5, -1);
    ins_ok(t, 2, "two", 78, 5, -1);
    assert_int_equal(t->index->flushdb(t, 1), ST_OK);
    t->index->db_counts(t, 1, &n0, &v0);
    assert_int_equal(n0, 0);
    assert_int_equal(fetch_rc(t, 1, "a:000005", NULL, NULL, NULL), ST_ENOENT);
    ins_ok(t, 1, "fresh", 79, 5, -1); /* after the flush: stays */
    assert_int_equal(t->index->flushdb(t, 7), ST_EINVAL);
    fx_reopen(f);
    t = f->t;
    t->index->db_counts(t, 0, &n0, &v0);
    assert_int_equal(n0, 501);
    t->index->db_counts(t, 1, &n0, &v0);
    assert_int_equal(n0, 1);
    expect_rec(t, 0, "b:000499", 10499, 30, -1);
    expect_rec(t, 0, "after", 77, 5, -1);
    expect_rec(t, 1, "fresh", 79, 5, -1);
    expect_rec(t, 2, "two", 78, 5, -1);
    assert_int_equal(fetch_rc(t, 1, "a:000001", NULL, NULL, NULL), ST_ENOENT);
    /* flush everything */
    assert_int_equal(t->index->flushdb(t, -1), ST_OK);
    for (int db = 0; db < 4; db++) {
        t->index->db_counts(t, db, &n0, &v0);
        assert_int_equal(n0, 0);
    }
    fx_reopen(f);
    t = f->t;
    for (int db = 0; db < 4; db++) {
        t->index->db_counts(t, db, &n0, &v0);
        assert_int_equal(n0, 0);
    }
    free(locs);
    free(seen);
    fx_free(f);
}

struct itlog {
    struct tier *t;
    int n, bad, remove_each, stop_after;
    uint64_t seen[4096];
};

static int iter_fn(void *ud, int db, const void *rec, size_t len, uint64_t loc, uint64_t seq)
{
    struct itlog *l = ud;
    (void)seq;
    struct tier_rec r;
    if (tier_rec_decode(rec, len, &r, NULL) != ST_OK || !l->t->index->current(l->t, db, r.key, r.klen, loc))
        l->bad++;
    if (l->n < 4096)
        l->seen[l->n] = r.gen;
    l->n++;
    if (l->remove_each && l->t->index->remove(l->t, db, r.key, r.klen, loc) != ST_OK)
        l->bad++;
    return l->stop_after && l->n >= l->stop_after ? 42 : 0;
}

static void test_ssd_iterate_visits_each_current_record_once(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    for (uint64_t i = 0; i < 2000; i++)
        ins_ok(t, (int)(i % 2), kname(k, "it", i), i, 300, -1);
    for (uint64_t i = 0; i < 2000; i += 4) {
        uint64_t loc;
        assert_int_equal(fetch_rc(t, (int)(i % 2), kname(k, "it", i), &loc, NULL, NULL), ST_OK);
        assert_int_equal(t->index->remove(t, (int)(i % 2), k, strlen(k), loc), ST_OK);
    }
    ins_ok(t, 1, kname(k, "it", 1), 5001, 300, -1); /* overwritten: the old one is not visited */
    struct itlog *l = calloc(1, sizeof(*l));
    l->t = t;
    assert_int_equal(t->index->iterate(t, iter_fn, l), 0);
    assert_int_equal(l->bad, 0);
    assert_int_equal(l->n, 1500);
    qsort(l->seen, 1500, sizeof(uint64_t), cmp_u64);
    for (int i = 1; i < 1500; i++)
        assert_true(l->seen[i] != l->seen[i - 1]);
    assert_non_null(bsearch(&(uint64_t){5001}, l->seen, 1500, sizeof(uint64_t), cmp_u64));
    assert_null(bsearch(&(uint64_t){1}, l->seen, 1500, sizeof(uint64_t), cmp_u64));
    memset(l, 0, sizeof(*l));
    l->t = t;
    l->stop_after = 10;
    assert_int_equal(t->index->iterate(t, iter_fn, l), 42);
    memset(l, 0, sizeof(*l));
    l->t = t;
    l->remove_each = 1; /* fn may remove what it is given */
    assert_int_equal(t->index->iterate(t, iter_fn, l), 0);
    assert_int_equal(l->n, 1500);
    assert_int_equal(l->bad, 0);
    assert_int_equal(stats(t).index_entries, 0);
    free(l);
    fx_free(f);
}

/* ---- compaction ------------------------------------------------------------ */

static int maintain_until_quiet(struct tier *t, int max_rounds)
{
    uint64_t last = UINT64_MAX;
    int r;
    for (r = 0; r < max_rounds; r++) {
        assert_int_equal(ssd_maintain(t), ST_OK);
        struct ssd_stats s = stats(t);
        uint64_t sig = s.segments_compacted * 1000003 + s.segments + s.segments_expired * 31 + s.segments_evicted;
        if (sig == last)
            break;
        last = sig;
    }
    return r;
}

static void test_ssd_compaction_moves_live_records_and_frees_space(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    const uint64_t n = 6000;
    uint64_t *locs = calloc(n, sizeof(uint64_t));
    for (uint64_t i = 0; i < n; i++)
        locs[i] = ins_ok(t, (int)(i % 4), kname(k, "c", i), i, 1000, -1); /* every database */
    assert_int_equal(ssd_sync(t), ST_OK);
    struct ssd_stats s0 = stats(t);
    assert_true(s0.segments >= 6);
    for (uint64_t i = 0; i < n; i++)
        if (i % 5)
            assert_int_equal(t->index->remove(t, (int)(i % 4), kname(k, "c", i), strlen(k), locs[i]), ST_OK);
    maintain_until_quiet(t, 20);
    struct ssd_stats s = stats(t);
    print_message("ssd: compaction: %llu segments compacted, %llu records moved, used %llu -> %llu bytes\n",
                  (unsigned long long)s.segments_compacted, (unsigned long long)s.records_moved,
                  (unsigned long long)s0.used_bytes, (unsigned long long)s.used_bytes);
    assert_true(s.segments_compacted >= 4);
    assert_true(s.records_moved >= 800);
    assert_true(s.used_bytes < s0.used_bytes / 2);
    assert_true(s.live_bytes <= s.used_bytes);
    for (uint64_t i = 0; i < n; i += 5) {
        uint64_t loc = expect_rec(t, (int)(i % 4), kname(k, "c", i), i, 1000, -1);
        if (loc != locs[i]) {
            assert_false(t->index->current(t, (int)(i % 4), k, strlen(k), locs[i]));
            assert_int_equal(fetch_at_rc(t, (int)(i % 4), locs[i]), ST_ENOENT);
        }
    }
    for (uint64_t i = 1; i < n; i += 5)
        assert_int_equal(fetch_rc(t, (int)(i % 4), kname(k, "c", i), NULL, NULL, NULL), ST_ENOENT);
    assert_int_equal(ld(&f->vfs.misaligned), 0);
    fx_reopen(f);
    t = f->t;
    for (uint64_t i = 0; i < n; i++) {
        if (i % 5 == 0)
            expect_rec(t, (int)(i % 4), kname(k, "c", i), i, 1000, -1);
        else
            assert_int_equal(fetch_rc(t, (int)(i % 4), kname(k, "c", i), NULL, NULL, NULL), ST_ENOENT);
    }
    free(locs);
    fx_free(f);
}

struct race {
    struct tier *t;
    int fired;
    uint64_t gen_b;
};

/* Runs after compaction wrote its copies and before it switches the index:
 * removes key A and re-inserts key B. */
static void race_hook(void *ud, int event)
{
    struct race *r = ud;
    if (event != SSD_HOOK_COMPACT_COPIED || r->fired++)
        return;
    uint64_t loc;
    assert_int_equal(fetch_rc(r->t, 0, "victim-A", &loc, NULL, NULL), ST_OK);
    assert_int_equal(r->t->index->remove(r->t, 0, "victim-A", 8, loc), ST_OK);
    ins_ok(r->t, 0, "victim-B", r->gen_b, 333, -1);
}

static void test_ssd_compaction_does_not_resurrect_keys_removed_or_reinserted_meanwhile(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct race r = {.gen_b = 999};
    f->conf.hook = race_hook;
    f->conf.hook_ud = &r;
    fx_open(f);
    struct tier *t = f->t;
    r.t = t;
    char k[32];
    ins_ok(t, 0, "victim-A", 1, 500, -1);
    ins_ok(t, 0, "victim-B", 2, 500, -1);
    uint64_t *locs = calloc(2000, sizeof(uint64_t));
    for (uint64_t i = 0; i < 2000; i++)
        locs[i] = ins_ok(t, 0, kname(k, "fill", i), i + 10, 1000, -1);
    for (uint64_t i = 0; i < 2000; i++)
        if (i % 10)
            assert_int_equal(t->index->remove(t, 0, kname(k, "fill", i), strlen(k), locs[i]), ST_OK);
    assert_int_equal(ssd_sync(t), ST_OK);
    maintain_until_quiet(t, 20);
    assert_true(r.fired >= 1);
    assert_true(stats(t).segments_compacted >= 1);
    assert_int_equal(fetch_rc(t, 0, "victim-A", NULL, NULL, NULL), ST_ENOENT);
    expect_rec(t, 0, "victim-B", 999, 333, -1);
    for (uint64_t i = 0; i < 2000; i += 10)
        expect_rec(t, 0, kname(k, "fill", i), i + 10, 1000, -1);
    f->conf.hook = NULL;
    fx_reopen(f);
    assert_int_equal(fetch_rc(f->t, 0, "victim-A", NULL, NULL, NULL), ST_ENOENT);
    expect_rec(f->t, 0, "victim-B", 999, 333, -1);
    uint64_t n, v;
    f->t->index->db_counts(f->t, 0, &n, &v);
    assert_int_equal(n, 1 + 200);
    free(locs);
    fx_free(f);
}

/* Each worker owns its keys, so it knows their latest value: every fetch
 * must return exactly that (or ENOENT for a key it removed), while
 * compaction moves records under it. */
#define STRESS_THREADS 3
#define STRESS_KEYS 150

struct stress {
    struct tier *t;
    int id;
    int failures, retries;
    char msg[256];
};

static uint32_t vlen_of(uint64_t gen)
{
    return 100 + (uint32_t)(gen * 2654435761u % 1900);
}

static void *stress_main(void *arg)
{
    struct stress *s = arg;
    struct tier *t = s->t;
    uint64_t gen[STRESS_KEYS] = {0}, loc[STRESS_KEYS] = {0}, rng = (uint64_t)s->id * 7919 + 1;
    char k[32];
    for (int op = 0; op < 4000 && !s->failures; op++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int i = (int)((rng >> 33) % STRESS_KEYS), what = (int)((rng >> 20) % 3);
        sprintf(k, "s%d:%d", s->id, i);
        size_t klen = strlen(k);
        if (!gen[i] || what == 0) { /* (re)insert */
            uint64_t g = ((uint64_t)s->id << 40) | (uint64_t)(op + 1);
            size_t len;
            void *rec = mk_rec(k, g, vlen_of(g), -1, &len);
            int rc = t->index->insert(t, 0, rec, len, &loc[i]);
            free(rec);
            if (rc != ST_OK) {
                s->failures++;
                snprintf(s->msg, sizeof(s->msg), "insert %s: %s", k, st_strerror(rc));
                break;
            }
            gen[i] = g;
        } else if (what == 1) { /* remove: the loc may have moved: fetch again */
            int rc = t->index->remove(t, 0, k, klen, loc[i]);
            for (int retry = 0; rc == ST_ENOENT && retry < 1000; retry++) {
                struct tier_req r = {.db = 0, .key = k, .klen = (uint32_t)klen};
                if (t->index->fetch(t, &r) != ST_OK)
                    break;
                free(r.buf);
                rc = t->index->remove(t, 0, k, klen, r.loc);
                s->retries++;
            }
            if (rc != ST_OK) {
                s->failures++;
                snprintf(s->msg, sizeof(s->msg), "remove %s: %s", k, st_strerror(rc));
                break;
            }
            gen[i] = 0;
        } else { /* fetch */
            struct tier_req r = {.db = 0, .key = k, .klen = (uint32_t)klen};
            int rc = t->index->fetch(t, &r);
            struct tier_rec d;
            if (rc != ST_OK || tier_rec_decode(r.buf, r.len, &d, NULL) != ST_OK || d.gen != gen[i] ||
                d.vlen != vlen_of(gen[i])) {
                s->failures++;
                snprintf(s->msg, sizeof(s->msg), "fetch %s: %s (gen %llx, want %llx)", k, st_strerror(rc),
                         rc == ST_OK ? (unsigned long long)d.gen : 0ull, (unsigned long long)gen[i]);
            }
            free(r.buf);
            loc[i] = r.loc;
        }
    }
    /* the final state must match, one by one */
    for (int i = 0; i < STRESS_KEYS && !s->failures; i++) {
        sprintf(k, "s%d:%d", s->id, i);
        struct tier_req r = {.db = 0, .key = k, .klen = (uint32_t)strlen(k)};
        int rc = t->index->fetch(t, &r);
        struct tier_rec d;
        if (gen[i] ? rc != ST_OK || tier_rec_decode(r.buf, r.len, &d, NULL) != ST_OK || d.gen != gen[i]
                   : rc != ST_ENOENT) {
            s->failures++;
            snprintf(s->msg, sizeof(s->msg), "final %s: %s", k, st_strerror(rc));
        }
        free(r.buf);
    }
    return NULL;
}

struct compactor {
    struct tier *t;
    int stop; /* atomic */
    int rounds;
};

static void *compactor_main(void *arg)
{
    struct compactor *c = arg;
    while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
        ssd_maintain(c->t);
        c->rounds++;
        usleep(2000);
    }
    return NULL;
}

static void test_ssd_compaction_under_concurrent_inserts_removes_and_fetches(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->conf.compact_live_ratio = 0.9; /* compact a lot */
    f->conf.size = 128 * MiB;
    fx_open(f);
    struct stress st[STRESS_THREADS];
    pthread_t th[STRESS_THREADS], ct;
    struct compactor c = {.t = f->t};
    assert_int_equal(pthread_create(&ct, NULL, compactor_main, &c), 0);
    for (int i = 0; i < STRESS_THREADS; i++) {
        st[i] = (struct stress){.t = f->t, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, stress_main, &st[i]), 0);
    }
    for (int i = 0; i < STRESS_THREADS; i++)
        pthread_join(th[i], NULL);
    __atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
    pthread_join(ct, NULL);
    for (int i = 0; i < STRESS_THREADS; i++)
        if (st[i].failures)
            fail_msg("worker %d: %s", i, st[i].msg);
    struct ssd_stats s = stats(f->t);
    int retries = 0;
    for (int i = 0; i < STRESS_THREADS; i++)
        retries += st[i].retries;
    print_message("ssd: stress: %d maintenance rounds, %llu segments compacted, %llu records moved, %d removes "
                  "fetched again after a move\n", c.rounds, (unsigned long long)s.segments_compacted,
                  (unsigned long long)s.records_moved, retries);
    assert_true(s.segments_compacted > 0);
    assert_int_equal(s.keys_evicted, 0);
    assert_int_equal(s.errors, 0);
    /* and after a reopen, the same (each worker checks its keys again) */
    fx_reopen(f);
    /* a reader only: gen 0 keys must be absent, others present; the
     * workers' last state is what they checked; count them instead */
    uint64_t n, v;
    f->t->index->db_counts(f->t, 0, &n, &v);
    assert_true(n <= STRESS_THREADS * STRESS_KEYS);
    assert_int_equal(stats(f->t).attach_damaged, 0);
    fx_free(f);
}

/* ---- notes, space, expiry, eviction ----------------------------------------- */

/* A notes segment holding notes of three ages: Z's (their records went
 * with Z's segments: no longer needed), X's (X's old record stays in a
 * segment of A's that is nearly all live, so never compacted) and Y's
 * (records in a class of their own). Compacting it must drop Z's notes
 * and carry X's, or the reopen brings X back. Notes of 8-byte keys take 40
 * bytes: 26112 fill a 1 MiB segment. */
static void test_ssd_notes_are_carried_forward_so_reopen_resurrects_nothing(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->conf.compact_live_ratio = 0.7;
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    const uint64_t nz = 45000, na = 3000, ny = 8000;
    const char *x = "a:002900";
    uint64_t *locs = calloc(nz, sizeof(uint64_t));
    for (uint64_t i = 0; i < nz; i++)
        locs[i] = ins_ok(t, 0, kname(k, "z", i), i, 8, -1);
    for (uint64_t i = 0; i < nz; i++)
        assert_int_equal(t->index->remove(t, 0, kname(k, "z", i), strlen(k), locs[i]), ST_OK);
    for (uint64_t i = 0; i < na; i++)
        ins_ok(t, 0, kname(k, "a", i), 100000 + i, 300, -1);
    uint64_t xloc;
    assert_int_equal(fetch_rc(t, 0, x, &xloc, NULL, NULL), ST_OK);
    assert_int_equal(t->index->remove(t, 0, x, 8, xloc), ST_OK);
    int64_t far = f->now + 3 * 86400000ll; /* the ">= 1 day" class: segments apart from A's */
    for (uint64_t i = 0; i < ny; i++) {     /* more notes: the second notes segment seals */
        uint64_t l = ins_ok(t, 0, kname(k, "y", i), i, 1, far);
        assert_int_equal(t->index->remove(t, 0, k, strlen(k), l), ST_OK);
    }
    assert_int_equal(ssd_sync(t), ST_OK);
    struct ssd_stats s0 = stats(t);
    maintain_until_quiet(t, 30);
    struct ssd_stats s = stats(t);
    print_message("ssd: notes: %llu written, %llu carried forward; segments %llu -> %llu, used %llu -> %llu\n",
                  (unsigned long long)s.notes_written, (unsigned long long)s.notes_carried,
                  (unsigned long long)s0.segments, (unsigned long long)s.segments,
                  (unsigned long long)s0.used_bytes, (unsigned long long)s.used_bytes);
    assert_true(s.notes_carried >= 1);        /* X's, at least */
    assert_true(s.notes_carried < ny + 100);  /* none of Z's */
    assert_true(s.used_bytes < s0.used_bytes / 2);
    fx_reopen(f);
    t = f->t;
    assert_int_equal(fetch_rc(t, 0, x, NULL, NULL, NULL), ST_ENOENT);
    for (uint64_t i = 0; i < na; i += 7)
        if (strcmp(kname(k, "a", i), x) != 0)
            expect_rec(t, 0, k, 100000 + i, 300, -1);
    for (uint64_t i = 0; i < nz; i += 97)
        assert_int_equal(fetch_rc(t, 0, kname(k, "z", i), NULL, NULL, NULL), ST_ENOENT);
    for (uint64_t i = 0; i < ny; i += 97)
        assert_int_equal(fetch_rc(t, 0, kname(k, "y", i), NULL, NULL, NULL), ST_ENOENT);
    uint64_t n, v;
    t->index->db_counts(t, 0, &n, &v);
    assert_int_equal(n, na - 1);
    free(locs);
    fx_free(f);
}

static void test_ssd_space_comes_back_after_overwrites_and_deletes(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    const uint64_t n = 4000;
    for (uint64_t i = 0; i < n; i++)
        ins_ok(t, 0, kname(k, "o", i), i, 1000, -1);
    assert_int_equal(ssd_sync(t), ST_OK);
    uint64_t u1 = stats(t).used_bytes;
    for (uint64_t i = 0; i < n; i++)
        ins_ok(t, 0, kname(k, "o", i), n + i, 1000, -1);
    assert_int_equal(ssd_sync(t), ST_OK);
    uint64_t u2 = stats(t).used_bytes;
    assert_true(u2 > u1 + u1 / 2);
    maintain_until_quiet(t, 30);
    uint64_t u3 = stats(t).used_bytes;
    struct ssd_stats sw = stats(t);
    print_message("ssd: overwrite: used %llu, %llu after, %llu after maintenance; write amplification %.2f "
                  "(%llu device bytes for %llu record bytes, %llu moved)\n", (unsigned long long)u1,
                  (unsigned long long)u2, (unsigned long long)u3,
                  (double)sw.device_bytes_written / (double)sw.record_bytes_inserted,
                  (unsigned long long)sw.device_bytes_written, (unsigned long long)sw.record_bytes_inserted,
                  (unsigned long long)sw.bytes_moved);
    assert_true(u3 <= u1 + 2 * MiB);
    for (uint64_t i = 0; i < n; i += 7)
        expect_rec(t, 0, kname(k, "o", i), n + i, 1000, -1);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t loc;
        assert_int_equal(fetch_rc(t, 0, kname(k, "o", i), &loc, NULL, NULL), ST_OK);
        assert_int_equal(t->index->remove(t, 0, k, strlen(k), loc), ST_OK);
    }
    assert_int_equal(ssd_sync(t), ST_OK);
    maintain_until_quiet(t, 30);
    uint64_t u4 = stats(t).used_bytes;
    print_message("ssd: delete all: used %llu\n", (unsigned long long)u4);
    assert_true(u4 <= 2 * MiB + 8192); /* the open segments and the notes */
    fx_free(f);
}

static void test_ssd_segments_whose_records_all_expired_are_dropped_unread(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    int64_t exp = f->now + 30 * 1000; /* class "< 1 min" */
    for (uint64_t i = 0; i < 3000; i++)
        ins_ok(t, 0, kname(k, "ttl", i), i, 1000, exp);
    for (uint64_t i = 0; i < 100; i++)
        ins_ok(t, 0, kname(k, "keep", i), i, 100, -1);
    assert_int_equal(ssd_sync(t), ST_OK);
    assert_int_equal(ssd_maintain(t), ST_OK);
    struct ssd_stats s0 = stats(t);
    assert_int_equal(s0.segments_expired, 0);
    uint64_t vol;
    uint64_t keys;
    t->index->db_counts(t, 0, &keys, &vol);
    assert_int_equal(vol, 3000);
    __atomic_store_n(&f->now, exp + 1000, __ATOMIC_RELAXED);
    assert_int_equal(ssd_maintain(t), ST_OK);
    struct ssd_stats s = stats(t);
    print_message("ssd: expiry: %llu segments and %llu keys dropped, used %llu -> %llu\n",
                  (unsigned long long)s.segments_expired, (unsigned long long)s.keys_expired,
                  (unsigned long long)s0.used_bytes, (unsigned long long)s.used_bytes);
    assert_true(s.segments_expired >= 2);
    assert_true(s.keys_expired >= 1500);
    assert_true(s.used_bytes < s0.used_bytes - 2 * MiB);
    assert_int_equal(s.device_reads, s0.device_reads); /* dropped without reading them */
    assert_int_equal(fetch_rc(t, 0, "ttl:000000", NULL, NULL, NULL), ST_ENOENT);
    for (uint64_t i = 0; i < 100; i++)
        expect_rec(t, 0, kname(k, "keep", i), i, 100, -1);
    fx_reopen(f);
    t = f->t;
    for (uint64_t i = 0; i < 3000; i += 11)
        assert_int_equal(fetch_rc(t, 0, kname(k, "ttl", i), NULL, NULL, NULL), ST_ENOENT);
    for (uint64_t i = 0; i < 100; i++)
        expect_rec(t, 0, kname(k, "keep", i), i, 100, -1);
    fx_free(f);
}

/* Active expiry (ssd_expire.c): a key whose record expires leaves the index
 * unread even when its segment is still open or holds keys that live on;
 * it follows its record through compaction and a SWAPDB, and a reopen
 * remembers what expires when. */
static void test_ssd_keys_expire_one_by_one_without_being_read(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    for (uint64_t i = 0; i < 200; i++) /* mixed in one open segment: some expire soon, some never */
        ins_ok(t, i % 2, kname(k, "e", i), i, 200, i % 4 == 0 ? f->now + 5000 : (i % 4 == 1 ? f->now + 3600000 : -1));
    uint64_t keys0 = 0, keys1 = 0;
    t->index->db_counts(t, 0, &keys0, NULL);
    t->index->db_counts(t, 1, &keys1, NULL);
    assert_int_equal(keys0 + keys1, 200);
    assert_int_equal(t->index->swapdb(t, 0, 1), ST_OK); /* expiries follow their keys */
    __atomic_store_n(&f->now, f->now + 6000, __ATOMIC_RELAXED);
    assert_int_equal(ssd_maintain(t), ST_OK);
    struct ssd_stats s = stats(t);
    assert_int_equal(s.keys_expired, 50);
    assert_int_equal(s.device_reads, 0);
    uint64_t after0 = 0, after1 = 0;
    t->index->db_counts(t, 0, &after0, NULL);
    t->index->db_counts(t, 1, &after1, NULL);
    assert_int_equal(after0 + after1, 150);
    for (uint64_t i = 0; i < 200; i++) {
        int db = (int)(1 - i % 2); /* swapped */
        int rc = fetch_rc(t, db, kname(k, "e", i), NULL, NULL, NULL);
        assert_int_equal(rc, i % 4 == 0 ? ST_ENOENT : ST_OK);
    }
    /* the hour-long ones move with compaction and still expire after a reopen */
    fx_reopen(f);
    t = f->t;
    __atomic_store_n(&f->now, f->now + 3600000 + 1000, __ATOMIC_RELAXED);
    assert_int_equal(ssd_maintain(t), ST_OK);
    t->index->db_counts(t, 0, &after0, NULL);
    t->index->db_counts(t, 1, &after1, NULL);
    assert_int_equal(after0 + after1, 100); /* only the keys without expiry */
    fx_free(f);
}

/* With either fsync: an evicted segment's file waits for the entries
 * appended before the eviction to be durable (invariant 11), and the
 * insert that found no room makes them so itself -- none fails. */
static void full_tier_evicts(int fsync)
{
    struct fx *f = fx_new();
    f->conf.size = 6 * MiB;
    f->conf.fsync = fsync;
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    const uint64_t n = 20000;
    for (uint64_t i = 0; i < n; i++)
        ins_ok(t, 0, kname(k, "ev", i), i, 1000, -1);
    assert_int_equal(ssd_sync(t), ST_OK);
    maintain_until_quiet(t, 10);
    struct ssd_stats s = stats(t);
    print_message("ssd: eviction: %llu segments, %llu keys evicted; %llu keys left, used %llu of %llu\n",
                  (unsigned long long)s.segments_evicted, (unsigned long long)s.keys_evicted,
                  (unsigned long long)s.index_entries, (unsigned long long)s.used_bytes,
                  (unsigned long long)s.capacity_bytes);
    assert_true(s.segments_evicted >= 10);
    assert_int_equal(s.keys_evicted + s.index_entries, n);
    assert_true(s.used_bytes <= s.capacity_bytes);
    assert_int_equal(s.insert_fails, 0);
    assert_int_equal(fetch_rc(t, 0, "ev:000000", NULL, NULL, NULL), ST_ENOENT); /* oldest gone */
    for (uint64_t i = n - 500; i < n; i++)
        expect_rec(t, 0, kname(k, "ev", i), i, 1000, -1); /* newest kept */
    /* entries of evicted segments are out of the index after maintenance */
    uint64_t keys, vol;
    t->index->db_counts(t, 0, &keys, &vol);
    assert_int_equal(keys, s.index_entries);
    fx_reopen(f);
    t = f->t;
    assert_int_equal(fetch_rc(t, 0, "ev:000000", NULL, NULL, NULL), ST_ENOENT);
    expect_rec(t, 0, "ev:019999", n - 1, 1000, -1);
    fx_free(f);
}

static void test_ssd_full_tier_evicts_oldest_segments(void **state)
{
    (void)state;
    full_tier_evicts(1);
    full_tier_evicts(0);
}

/* ---- reopen, damage, failure ------------------------------------------------ */

struct dictlog {
    int n;
    uint32_t ids[8];
    size_t lens[8];
    int ok;
};

static int dict_fn(void *ud, uint32_t id, const void *d, size_t len)
{
    struct dictlog *l = ud;
    unsigned char want[5000];
    fill_val(want, (uint32_t)len, id);
    if (l->n < 8) {
        l->ids[l->n] = id;
        l->lens[l->n] = len;
    }
    l->n++;
    l->ok += memcmp(d, want, len) == 0;
    return 0;
}

static void test_ssd_reopen_serves_everything_current_byte_exact(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    static const uint32_t sizes[] = {0, 1, 7, 100, 4000, 4100, 70000, 300000};
    for (uint64_t i = 0; i < 400; i++)
        ins_ok(t, (int)(i % 3), kname(k, "r", i), i, sizes[i % 8], i % 4 == 0 ? f->now + 86400000 * 3 : -1);
    for (uint64_t i = 0; i < 400; i += 9) { /* removes */
        uint64_t loc;
        assert_int_equal(fetch_rc(t, (int)(i % 3), kname(k, "r", i), &loc, NULL, NULL), ST_OK);
        assert_int_equal(t->index->remove(t, (int)(i % 3), k, strlen(k), loc), ST_OK);
    }
    for (uint64_t i = 1; i < 400; i += 10) /* overwrites */
        ins_ok(t, (int)(i % 3), kname(k, "r", i), 1000 + i, sizes[(i + 3) % 8], -1);
    unsigned char d1[3000], d2[100];
    fill_val(d1, sizeof(d1), 1);
    fill_val(d2, sizeof(d2), 2);
    assert_int_equal(t->ops->put_dict(t, 1, d1, sizeof(d1)), ST_OK);
    assert_int_equal(t->ops->put_dict(t, 2, d2, sizeof(d2)), ST_OK);
    assert_int_equal(t->ops->put_dict(t, 1, d2, sizeof(d2)), ST_EEXIST);
    assert_int_equal(t->ops->put_dict(t, 0, d2, sizeof(d2)), ST_EINVAL);
    uint64_t counts[3];
    for (int db = 0; db < 3; db++)
        t->index->db_counts(t, db, &counts[db], NULL);
    for (int round = 0; round < 2; round++) {
        fx_reopen(f);
        t = f->t;
        struct ssd_stats s = stats(t);
        assert_true(s.attach_segments >= 1);
        assert_int_equal(s.attach_damaged, 0);
        for (uint64_t i = 0; i < 400; i++) {
            int db = (int)(i % 3);
            kname(k, "r", i);
            if (i % 9 == 0 && !(i % 10 == 1))
                assert_int_equal(fetch_rc(t, db, k, NULL, NULL, NULL), ST_ENOENT);
            else if (i % 10 == 1)
                expect_rec(t, db, k, 1000 + i, sizes[(i + 3) % 8], -1);
            else
                expect_rec(t, db, k, i, sizes[i % 8], i % 4 == 0 ? f->now + 86400000 * 3 : -1);
        }
        for (int db = 0; db < 3; db++) {
            uint64_t c;
            t->index->db_counts(t, db, &c, NULL);
            assert_int_equal(c, counts[db]);
        }
        struct dictlog dl = {0};
        assert_int_equal(t->ops->each_dict(t, dict_fn, &dl), 0);
        assert_int_equal(dl.n, 2);
        assert_int_equal(dl.ok, 2);
        ins_ok(t, 0, "between-reopens", 5, 5, -1); /* new segments after attached ones */
        counts[0]++;
    }
    /* clear keeps dictionaries unless asked */
    assert_int_equal(t->ops->clear(t, 0), ST_OK);
    struct dictlog dl = {0};
    t->ops->each_dict(t, dict_fn, &dl);
    assert_int_equal(dl.n, 2);
    assert_int_equal(t->ops->clear(t, 1), ST_OK);
    memset(&dl, 0, sizeof(dl));
    t->ops->each_dict(t, dict_fn, &dl);
    assert_int_equal(dl.n, 0);
    assert_int_equal(stats(t).index_entries, 0);
    fx_reopen(f);
    memset(&dl, 0, sizeof(dl));
    f->t->ops->each_dict(f->t, dict_fn, &dl);
    assert_int_equal(dl.n, 0);
    assert_int_equal(stats(f->t).index_entries, 0);
    fx_free(f);
}

/* The newest class-0 segment file of dir (the one a test's records are in). */
static void newest_seg(const char *dir, char *path)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    uint64_t best = 0, seq;
    assert_non_null(d);
    path[0] = 0;
    while ((de = readdir(d))) {
        if (!sfmt_seg_name_parse(de->d_name, &seq))
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        int fd = open(p, O_RDONLY);
        unsigned char hdr[4096];
        struct sfmt_seg_hdr h;
        if (fd >= 0 && pread(fd, hdr, sizeof(hdr), 0) == 4096 && sfmt_seg_hdr_decode(hdr, 4096, &h) == ST_OK &&
            h.cls == SFMT_CLASS_NONE && seq >= best) {
            best = seq;
            strcpy(path, p);
        }
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
    assert_true(path[0] != 0);
}

static uint64_t off_of(uint64_t loc)
{
    return (loc & ((1ull << 27) - 1)) << 3;
}

static void test_ssd_torn_and_damaged_files_lose_exactly_the_damaged_records(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32], path[512];
    uint64_t locs[300];
    for (uint64_t i = 0; i < 300; i++)
        locs[i] = ins_ok(t, 0, kname(k, "d", i), i, 3000, -1); /* ~1 MiB: one segment */
    fx_close(f);
    newest_seg(f->dir, path);

    /* (a) a byte flipped inside record 100's value */
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char byte;
    uint64_t where = off_of(locs[100]) + 32 + 44 + 8 + 1500;
    assert_int_equal(pread(fd, &byte, 1, (off_t)where), 1);
    byte ^= 0x40;
    assert_int_equal(pwrite(fd, &byte, 1, (off_t)where), 1);
    close(fd);
    fx_open(f);
    t = f->t;
    struct ssd_stats s = stats(t);
    assert_int_equal(s.attach_damaged, 1);
    assert_int_equal(fetch_rc(t, 0, "d:000100", NULL, NULL, NULL), ST_ENOENT);
    uint64_t n = 0;
    for (uint64_t i = 0; i < 300; i++)
        if (i != 100) {
            expect_rec(t, 0, kname(k, "d", i), i, 3000, -1);
            n++;
        }
    assert_int_equal(s.attach_records, n);
    assert_non_null(strstr(f->log.all, "damaged"));
    fx_close(f);

    /* (b) the file cut in the middle of record 200 */
    fd = open(path, O_RDWR);
    assert_int_equal(ftruncate(fd, (off_t)(off_of(locs[200]) + 1000)), 0);
    close(fd);
    fx_open(f);
    t = f->t;
    s = stats(t);
    assert_int_equal(s.attach_damaged, 2); /* record 100 again, and the cut one */
    for (uint64_t i = 0; i < 300; i++) {
        if (i == 100 || i >= 200)
            assert_int_equal(fetch_rc(t, 0, kname(k, "d", i), NULL, NULL, NULL), ST_ENOENT);
        else
            expect_rec(t, 0, kname(k, "d", i), i, 3000, -1);
    }
    fx_free(f);
}

static void test_ssd_dropped_unsynced_buffer_loses_only_what_was_not_synced(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32], path[512];
    uint64_t locs[400];
    for (uint64_t i = 0; i < 200; i++)
        locs[i] = ins_ok(t, 0, kname(k, "u", i), i, 1500, -1);
    assert_int_equal(ssd_sync(t), ST_OK);
    newest_seg(f->dir, path);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    uint64_t synced = (uint64_t)sb.st_size;
    assert_true(synced % 4096 == 0);
    for (uint64_t i = 200; i < 400; i++)
        locs[i] = ins_ok(t, 0, kname(k, "u", i), i, 1500, -1);
    fx_close(f); /* written and synced at destroy ... */
    assert_int_equal(truncate(path, (off_t)synced), 0); /* ... and lost, as at a power cut */
    fx_open(f);
    t = f->t;
    uint64_t elen = (32 + 44 + 6 + 1500 + 7) & ~7ull, whole = 0, torn = 0;
    for (uint64_t i = 0; i < 400; i++) {
        uint64_t end = off_of(locs[i]) + elen;
        if (end <= synced) {
            expect_rec(t, 0, kname(k, "u", i), i, 1500, -1);
            whole++;
        } else {
            assert_int_equal(fetch_rc(t, 0, kname(k, "u", i), NULL, NULL, NULL), ST_ENOENT);
            torn += off_of(locs[i]) < synced;
        }
    }
    assert_true(whole >= 200); /* everything synced before */
    assert_int_equal(stats(t).attach_damaged, torn);
    fx_free(f);
}

/* Regression (found by tests/crash/crash_ssd.c): with fsync = 0, appends that
 * fit in the block a synced buffer already wrote only rewrite that block, so
 * the segment's written end does not move -- and ssd_sync used to skip their
 * fdatasync, the record or DEL note "durable" but never synced. */
static void test_ssd_sync_syncs_a_rewritten_tail_block(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->conf.fsync = 0;
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    ins_ok(t, 0, kname(k, "r", 0), 1, 100, -1);
    assert_int_equal(ssd_sync(t), ST_OK);
    uint64_t syncs = __atomic_load_n(&f->vfs.syncs, __ATOMIC_RELAXED);
    uint64_t writes = __atomic_load_n(&f->vfs.pwrites, __ATOMIC_RELAXED);
    assert_true(syncs >= 1);
    ins_ok(t, 0, kname(k, "r", 1), 2, 100, -1); /* lands in the same 4096-byte block */
    assert_int_equal(ssd_sync(t), ST_OK);
    assert_int_equal(__atomic_load_n(&f->vfs.pwrites, __ATOMIC_RELAXED), writes + 1);
    assert_int_equal(__atomic_load_n(&f->vfs.syncs, __ATOMIC_RELAXED), syncs + 1);
    /* nothing written since: nothing to sync */
    assert_int_equal(ssd_sync(t), ST_OK);
    assert_int_equal(__atomic_load_n(&f->vfs.syncs, __ATOMIC_RELAXED), syncs + 1);
    fx_free(f);
}

/* Regression (found by tests/crash/crash_ssd.c): the block ssd_sync made
 * durable used to be rewritten whole by the next buffer (its tail copied),
 * and a power loss tearing that write could garble the synced entries in
 * it. After ssd_sync the appends start at the next block (ssd_io.c 7a). */
static void test_ssd_sync_never_rewrites_the_block_it_synced(void **state)
{
    (void)state;
    for (int fsync = 0; fsync < 2; fsync++) {
        struct fx *f = fx_new();
        f->conf.fsync = fsync;
        fx_open(f);
        struct tier *t = f->t;
        uint64_t a = ins_ok(t, 0, "s0", 1, 100, -1);
        assert_true(off_of(a) >= 4096 && off_of(a) < 8192);
        assert_int_equal(ssd_sync(t), ST_OK);
        uint64_t b = ins_ok(t, 0, "s1", 2, 100, -1);
        assert_int_equal(off_of(b), 8192);
        assert_int_equal(ssd_sync(t), ST_OK);
        fx_reopen(f);
        expect_rec(f->t, 0, "s0", 1, 100, -1);
        expect_rec(f->t, 0, "s1", 2, 100, -1);
        fx_free(f);
    }
    /* notes buffers always start a fresh block (they are synced whatever
     * fsync says): removes each followed by a write of the notes reopen as
     * removed, with nothing damaged in between */
    struct fx *f = fx_new();
    f->conf.fsync = 0;
    fx_open(f);
    char k[32];
    uint64_t locs[40];
    for (uint64_t i = 0; i < 40; i++)
        locs[i] = ins_ok(f->t, 0, kname(k, "n", i), i + 1, 10, -1);
    for (uint64_t i = 0; i < 40; i++) {
        assert_int_equal(f->t->index->remove(f->t, 0, kname(k, "n", i), strlen(k), locs[i]), ST_OK);
        assert_int_equal(ssd_sync(f->t), ST_OK);
    }
    fx_reopen(f);
    assert_int_equal(warnings(&f->log), 0);
    assert_int_equal(stats(f->t).attach_damaged, 0);
    for (uint64_t i = 0; i < 40; i++)
        assert_int_equal(fetch_rc(f->t, 0, kname(k, "n", i), NULL, NULL, NULL), ST_ENOENT);
    fx_free(f);
}

static int some_handle_dirty(void *ud)
{
    struct tvfs *v = ud;
    int dirty = 0;
    for (size_t h = 0; h < sizeof(v->dirty); h++)
        dirty |= __atomic_load_n(&v->dirty[h], __ATOMIC_SEQ_CST);
    return dirty;
}

/* Regression (found by tests/crash/crash_ssd.c): a key with v1 in segment
 * A, v2 in B (synced) and v3 written since (fsync = 0, not synced): B, all
 * dead, used to be dropped and unlinked at once ("dead PUTs, always safe"),
 * so a power loss taking v3 brought back v1 from A. B's file now goes only
 * once every entry appended before its drop is durable (tiers/ssd.c
 * invariant 11): the maintenance round syncs them itself, and no segment
 * file has unsynced writes when B is unlinked. */
static void test_ssd_dead_segment_waits_for_the_entries_that_killed_it(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->conf.fsync = 0;
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    char inb[2000][32];
    size_t nb = 0;
    uint64_t a = ins_ok(t, 0, "k", 1, 1000, -1), loc;
    uint64_t i = 0;
    do { /* fill A with keys that stay live; the last one opens B */
        loc = ins_ok(t, 0, kname(k, "a", i++), 1, 1000, -1);
    } while (loc >> 44 == a >> 44);
    strcpy(inb[nb++], k);
    uint64_t b = ins_ok(t, 0, "k", 2, 1000, -1);
    assert_int_equal(b >> 44, loc >> 44);
    strcpy(inb[nb++], "k");
    for (i = 0;; i++) { /* fill B; the first record in C ends it */
        loc = ins_ok(t, 0, kname(k, "b", i), 1, 1000, -1);
        if (loc >> 44 != b >> 44)
            break;
        assert_true(nb < 2000);
        strcpy(inb[nb++], k);
    }
    assert_int_equal(ssd_sync(t), ST_OK);
    /* every record of B overwritten into C, smaller (C's buffers written,
     * none synced: C is not filled and sealed) */
    for (size_t j = 0; j < nb; j++)
        ins_ok(t, 0, inb[j], 3, 100, -1);
    assert_true(wait_for(some_handle_dirty, &f->vfs, 2000));
    uint64_t segs = stats(t).segments;
    __atomic_store_n(&f->vfs.seg_unlinks, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&f->vfs.dirty_at_unlink, 0, __ATOMIC_SEQ_CST);
    assert_int_equal(ssd_maintain(t), ST_OK);
    assert_true(__atomic_load_n(&f->vfs.seg_unlinks, __ATOMIC_SEQ_CST) >= 1); /* B went, promptly */
    assert_int_equal(__atomic_load_n(&f->vfs.dirty_at_unlink, __ATOMIC_SEQ_CST), 0);
    assert_true(stats(t).segments < segs);
    fx_reopen(f);
    expect_rec(f->t, 0, "k", 3, 100, -1);
    expect_rec(f->t, 0, "a:000000", 1, 1000, -1);
    fx_free(f);
}

static void test_ssd_damage_found_by_a_read_is_reported_and_the_entry_dropped(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32], path[512];
    uint64_t locs[50];
    for (uint64_t i = 0; i < 50; i++)
        locs[i] = ins_ok(t, 0, kname(k, "rd", i), i, 2000, -1);
    assert_int_equal(ssd_sync(t), ST_OK);
    newest_seg(f->dir, path);
    int fd = open(path, O_RDWR);
    unsigned char junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(pwrite(fd, junk, 8, (off_t)(off_of(locs[7]) + 600)), 8);
    fsync(fd);
    close(fd);
    int w = warnings(&f->log);
    assert_int_equal(fetch_rc(t, 0, "rd:000007", NULL, NULL, NULL), ST_ECORRUPT);
    assert_true(warnings(&f->log) > w);
    assert_int_equal(stats(t).errors, 1);
    assert_int_equal(fetch_rc(t, 0, "rd:000007", NULL, NULL, NULL), ST_ENOENT); /* dropped */
    assert_int_equal(fetch_at_rc(t, 0, locs[7]), ST_ENOENT);
    /* fetch_at meets damage too: ECORRUPT while its entry is current, then gone */
    fd = open(path, O_RDWR);
    assert_int_equal(pwrite(fd, junk, 8, (off_t)(off_of(locs[9]) + 900)), 8);
    fsync(fd);
    close(fd);
    assert_int_equal(fetch_at_rc(t, 0, locs[9]), ST_ECORRUPT);
    assert_int_equal(stats(t).errors, 2);
    assert_int_equal(fetch_at_rc(t, 0, locs[9]), ST_ENOENT);
    assert_int_equal(fetch_rc(t, 0, "rd:000009", NULL, NULL, NULL), ST_ENOENT);
    uint64_t keys;
    t->index->db_counts(t, 0, &keys, NULL);
    assert_int_equal(keys, 48);
    expect_rec(t, 0, "rd:000006", 6, 2000, -1);
    expect_rec(t, 0, "rd:000008", 8, 2000, -1);
    fx_reopen(f);
    assert_int_equal(fetch_rc(f->t, 0, "rd:000007", NULL, NULL, NULL), ST_ENOENT);
    expect_rec(f->t, 0, "rd:000049", 49, 2000, -1);
    fx_free(f);
}

static void failure_case(int on_sync)
{
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    ins_ok(t, 0, "before", 1, 100, -1);
    assert_int_equal(ssd_sync(t), ST_OK);
    ins_ok(t, 0, "buffered", 2, 100, -1);
    int w = warnings(&f->log);
    if (on_sync)
        __atomic_store_n(&f->vfs.fail_sync, -EIO, __ATOMIC_RELAXED);
    else
        __atomic_store_n(&f->vfs.fail_pwrite, -EIO, __ATOMIC_RELAXED);
    assert_int_equal(ssd_sync(t), ST_EIO);
    struct ssd_stats s = stats(t);
    assert_int_equal(s.failed, 1);
    assert_int_equal(warnings(&f->log), w + 1);
    size_t len;
    uint64_t loc;
    void *rec = mk_rec("after", 3, 10, -1, &len);
    assert_int_equal(t->index->insert(t, 0, rec, len, &loc), ST_EIO);
    assert_int_equal(t->index->insert(t, 0, rec, len, &loc), ST_EIO);
    free(rec);
    assert_int_equal(t->ops->put_dict(t, 5, "x", 1), ST_EIO);
    /* reads go on, from the device and from the buffer kept in DRAM */
    expect_rec(t, 0, "before", 1, 100, -1);
    expect_rec(t, 0, "buffered", 2, 100, -1);
    assert_int_equal(warnings(&f->log), w + 1); /* logged once */
    struct tier_stats ts;
    t->ops->stats(t, &ts);
    assert_int_equal(ts.failed, 1);
    __atomic_store_n(&f->vfs.fail_sync, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&f->vfs.fail_pwrite, 0, __ATOMIC_RELAXED);
    fx_reopen(f); /* the state is the process's: a reopen starts clean */
    assert_int_equal(stats(f->t).failed, 0);
    expect_rec(f->t, 0, "before", 1, 100, -1);
    ins_ok(f->t, 0, "later", 4, 10, -1);
    fx_free(f);
}

static void test_ssd_pwrite_error_enters_the_sticky_failed_state(void **state)
{
    (void)state;
    failure_case(0);
}

static void test_ssd_sync_error_enters_the_sticky_failed_state(void **state)
{
    (void)state;
    failure_case(1);
}


/* Files of dir with something in them. */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d))) {
        char p[512];
        struct stat sb;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        n += de->d_name[0] != '.' && stat(p, &sb) == 0 && sb.st_size > 0;
    }
    if (d)
        closedir(d);
    return n;
}

/* A dropped segment's file must outlive the notes that killed its records
 * until those are on the device: else a crash in between brings back an
 * older version of a key (invariant 11). The notes' write fails here, as a
 * crash would lose them. */
static void test_ssd_segment_files_wait_for_the_notes_that_killed_their_records(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    /* entries of 1000-byte values take 1088 bytes: 959 of them and K's v1
     * (184) fill the first segment but for 720 bytes, so v2 (2088) opens the
     * second, which then holds only v2 and b:* */
    ins_ok(t, 0, "K", 1, 100, -1);
    for (uint64_t i = 0; i < 959; i++)
        ins_ok(t, 0, kname(k, "a", i), i, 1000, -1);
    ins_ok(t, 0, "K", 2, 2000, -1);
    uint64_t *locs = calloc(1200, sizeof(uint64_t));
    for (uint64_t i = 0; i < 900; i++)
        locs[i] = ins_ok(t, 0, kname(k, "b", i), i, 1000, -1);
    ins_ok(t, 0, "next", 1, 200000, -1); /* the second segment sealed */
    assert_int_equal(ssd_sync(t), ST_OK);
    assert_int_equal(ssd_maintain(t), ST_OK);
    int files = count_files(f->dir);
    for (uint64_t i = 0; i < 900; i++)
        assert_int_equal(t->index->remove(t, 0, kname(k, "b", i), strlen(k), locs[i]), ST_OK);
    uint64_t loc;
    assert_int_equal(fetch_rc(t, 0, "K", &loc, NULL, NULL), ST_OK);
    assert_int_equal(t->index->remove(t, 0, "K", 1, loc), ST_OK); /* its note still in a buffer */
    __atomic_store_n(&f->vfs.fail_pwrite, -EIO, __ATOMIC_RELAXED);
    ssd_maintain(t); /* the second segment holds nothing live: dropped, its file kept */
    struct ssd_stats st = stats(t);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.segments_dropping, 1);
    assert_int_equal(count_files(f->dir), files); /* its file is still there */
    fx_close(f);
    __atomic_store_n(&f->vfs.fail_pwrite, 0, __ATOMIC_RELAXED);
    fx_open(f);
    /* the delete was lost with its note; the value before it is back, never v1 */
    expect_rec(f->t, 0, "K", 2, 2000, -1);
    free(locs);
    fx_free(f);
}

/* ---- asynchronous reads ------------------------------------------------------ */

#define ASYNC_THREADS 4
#define ASYNC_PER 300

struct async_ctl {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int done, bad, on_caller;
    pthread_t callers[ASYNC_THREADS + 1];
    int ncallers;
    int *seen; /* per request: completions */
};

struct async_req {
    struct tier_req r;
    struct async_ctl *c;
    int idx;
    char key[32];
};

static void async_done(struct tier_req *r)
{
    struct async_req *a = r->ud;
    struct async_ctl *c = a->c;
    int bad = r->rc != ST_OK;
    if (!bad) {
        struct tier_rec x;
        bad = tier_rec_decode(r->buf, r->len, &x, NULL) != ST_OK || x.klen != strlen(a->key) ||
              memcmp(x.key, a->key, x.klen) != 0;
    }
    free(r->buf);
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->ncallers; i++)
        if (pthread_equal(pthread_self(), c->callers[i]))
            c->on_caller++;
    c->done++;
    c->bad += bad;
    c->seen[a->idx]++;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

struct async_arg {
    struct tier *t;
    struct async_ctl *c;
    struct async_req *reqs;
    int id, pending, at_once, bad;
};

static void *async_main(void *arg)
{
    struct async_arg *a = arg;
    for (int i = 0; i < ASYNC_PER; i++) {
        struct async_req *q = &a->reqs[i];
        q->c = a->c;
        q->idx = a->id * ASYNC_PER + i;
        sprintf(q->key, "as:%06d", (i * 7 + a->id) % 200);
        q->r = (struct tier_req){.db = 0, .key = q->key, .klen = (uint32_t)strlen(q->key), .done = async_done,
                                 .ud = q};
        int rc = a->t->index->fetch(a->t, &q->r);
        if (rc == ST_EPENDING) {
            a->pending++;
        } else if (rc == ST_OK) {
            a->at_once++;
            free(q->r.buf);
            pthread_mutex_lock(&a->c->mu);
            a->c->seen[q->idx] += 100; /* answered at once: done must not run */
            pthread_mutex_unlock(&a->c->mu);
        } else {
            a->bad++;
        }
    }
    return NULL;
}

static void test_ssd_async_fetches_from_many_threads_complete_once_on_a_tier_thread(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->conf.io_threads = 3;
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    for (int i = 0; i < 200; i++)
        ins_ok(t, 0, kname(k, "as", (uint64_t)i), (uint64_t)i, 700, -1);
    assert_int_equal(ssd_sync(t), ST_OK); /* on the device: reads go to the I/O threads */
    for (int i = 190; i < 200; i++)
        ins_ok(t, 0, kname(k, "as", (uint64_t)i), (uint64_t)i, 700, -1); /* these in a buffer */
    struct async_ctl c = {0};
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cond, NULL);
    c.seen = calloc(ASYNC_THREADS * ASYNC_PER, sizeof(int));
    struct async_arg args[ASYNC_THREADS];
    pthread_t th[ASYNC_THREADS];
    c.callers[c.ncallers++] = pthread_self();
    pthread_mutex_lock(&c.mu); /* callers are known before any done runs */
    for (int i = 0; i < ASYNC_THREADS; i++) {
        args[i] = (struct async_arg){.t = t, .c = &c, .id = i, .reqs = calloc(ASYNC_PER, sizeof(struct async_req))};
        assert_int_equal(pthread_create(&th[i], NULL, async_main, &args[i]), 0);
        c.callers[c.ncallers++] = th[i];
    }
    pthread_mutex_unlock(&c.mu);
    int pending = 0, at_once = 0;
    for (int i = 0; i < ASYNC_THREADS; i++) {
        pthread_join(th[i], NULL);
        pending += args[i].pending;
        at_once += args[i].at_once;
        assert_int_equal(args[i].bad, 0);
    }
    pthread_mutex_lock(&c.mu);
    while (c.done < pending)
        pthread_cond_wait(&c.cond, &c.mu);
    pthread_mutex_unlock(&c.mu);
    usleep(20000); /* any extra completion would show now */
    print_message("ssd: async: %d pending, %d answered at once\n", pending, at_once);
    assert_true(pending > ASYNC_THREADS * ASYNC_PER / 2);
    assert_true(at_once > 0);
    assert_int_equal(c.done, pending);
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.on_caller, 0);
    for (int i = 0; i < ASYNC_THREADS * ASYNC_PER; i++)
        assert_true(c.seen[i] == 1 || c.seen[i] == 100);
    /* an absent key is answered at once */
    struct tier_req r = {.db = 0, .key = "none", .klen = 4, .done = async_done};
    assert_int_equal(t->index->fetch(t, &r), ST_ENOENT);
    for (int i = 0; i < ASYNC_THREADS; i++)
        free(args[i].reqs);
    free(c.seen);
    pthread_cond_destroy(&c.cond);
    pthread_mutex_destroy(&c.mu);
    fx_free(f);
}

static void test_ssd_destroy_with_reads_in_flight_completes_each_once(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->conf.io_threads = 1;
    fx_open(f);
    struct tier *t = f->t;
    char k[32];
    for (int i = 0; i < 100; i++)
        ins_ok(t, 0, kname(k, "fl", (uint64_t)i), (uint64_t)i, 5000, -1);
    assert_int_equal(ssd_sync(t), ST_OK);
    struct async_ctl c = {0};
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cond, NULL);
    c.seen = calloc(400, sizeof(int));
    struct async_req *reqs = calloc(400, sizeof(*reqs));
    int pending = 0;
    for (int i = 0; i < 400; i++) {
        struct async_req *q = &reqs[i];
        q->c = &c;
        q->idx = i;
        kname(q->key, "fl", (uint64_t)(i % 100));
        q->r = (struct tier_req){.db = 0, .key = q->key, .klen = (uint32_t)strlen(q->key), .done = async_done,
                                 .ud = q};
        int rc = t->index->fetch(t, &q->r);
        if (rc == ST_EPENDING)
            pending++;
        else
            assert_int_equal(rc, ST_OK), free(q->r.buf), c.seen[i] = 1;
        /* fetch_at too */
    }
    fx_close(f); /* with most of them still queued */
    assert_int_equal(c.done, pending);
    assert_int_equal(c.bad, 0);
    for (int i = 0; i < 400; i++)
        assert_int_equal(c.seen[i], 1);
    free(reqs);
    free(c.seen);
    pthread_cond_destroy(&c.cond);
    pthread_mutex_destroy(&c.mu);
    fx_free(f);
}

/* ---- attach ------------------------------------------------------------------ */

static void test_ssd_attach_off_deletes_and_bad_files_are_removed(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_open(f);
    ins_ok(f->t, 0, "x", 1, 10, -1);
    assert_int_equal(f->t->ops->put_dict(f->t, 3, "dict", 4), ST_OK);
    fx_close(f);
    /* a foreign segment file, a leftover temporary, an unrelated file */
    char p[512];
    snprintf(p, sizeof(p), "%s/seg-00000000000000ff.dat", f->dir);
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    char junk[5000];
    memset(junk, 'j', sizeof(junk));
    assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    snprintf(p, sizeof(p), "%s/dict-9.zd.tmp", f->dir);
    close(open(p, O_CREAT | O_WRONLY, 0644));
    snprintf(p, sizeof(p), "%s/README", f->dir);
    close(open(p, O_CREAT | O_WRONLY, 0644));
    fx_open(f);
    struct ssd_stats s = stats(f->t);
    assert_int_equal(s.attach_removed, 1);
    expect_rec(f->t, 0, "x", 1, 10, -1);
    snprintf(p, sizeof(p), "%s/seg-00000000000000ff.dat", f->dir);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof(p), "%s/dict-9.zd.tmp", f->dir);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof(p), "%s/README", f->dir);
    assert_int_equal(access(p, F_OK), 0); /* not ours: left alone */
    /* new segments are numbered after the highest name seen */
    ins_ok(f->t, 0, "y", 2, 10, -1);
    assert_int_equal(ssd_sync(f->t), ST_OK);
    snprintf(p, sizeof(p), "%s/seg-0000000000000100.dat", f->dir);
    assert_int_equal(access(p, F_OK), 0);
    fx_close(f);
    f->conf.attach = 0;
    fx_open(f);
    assert_int_equal(stats(f->t).index_entries, 0);
    assert_int_equal(fetch_rc(f->t, 0, "x", NULL, NULL, NULL), ST_ENOENT);
    struct dictlog dl = {0};
    f->t->ops->each_dict(f->t, dict_fn, &dl);
    assert_int_equal(dl.n, 0);
    assert_non_null(strstr(f->log.all, "attach is off"));
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ssd_conf_is_validated),
        cmocka_unit_test(test_ssd_insert_fetch_current_remove_round_trip),
        cmocka_unit_test(test_ssd_overwrite_retires_the_old_entry),
        cmocka_unit_test(test_ssd_keys_sharing_a_fingerprint_are_told_apart),
        cmocka_unit_test(test_ssd_record_is_readable_before_it_reaches_the_device),
        cmocka_unit_test(test_ssd_buffers_reach_the_device_when_full_and_after_flush_ms),
        cmocka_unit_test(test_ssd_scan_random_counts_swapdb_flushdb_survive_reopen),
        cmocka_unit_test(test_ssd_iterate_visits_each_current_record_once),
        cmocka_unit_test(test_ssd_compaction_moves_live_records_and_frees_space),
        cmocka_unit_test(test_ssd_compaction_does_not_resurrect_keys_removed_or_reinserted_meanwhile),
        cmocka_unit_test(test_ssd_compaction_under_concurrent_inserts_removes_and_fetches),
        cmocka_unit_test(test_ssd_notes_are_carried_forward_so_reopen_resurrects_nothing),
        cmocka_unit_test(test_ssd_space_comes_back_after_overwrites_and_deletes),
        cmocka_unit_test(test_ssd_segments_whose_records_all_expired_are_dropped_unread),
        cmocka_unit_test(test_ssd_keys_expire_one_by_one_without_being_read),
        cmocka_unit_test(test_ssd_full_tier_evicts_oldest_segments),
        cmocka_unit_test(test_ssd_reopen_serves_everything_current_byte_exact),
        cmocka_unit_test(test_ssd_torn_and_damaged_files_lose_exactly_the_damaged_records),
        cmocka_unit_test(test_ssd_dropped_unsynced_buffer_loses_only_what_was_not_synced),
        cmocka_unit_test(test_ssd_sync_syncs_a_rewritten_tail_block),
        cmocka_unit_test(test_ssd_sync_never_rewrites_the_block_it_synced),
        cmocka_unit_test(test_ssd_dead_segment_waits_for_the_entries_that_killed_it),
        cmocka_unit_test(test_ssd_damage_found_by_a_read_is_reported_and_the_entry_dropped),
        cmocka_unit_test(test_ssd_pwrite_error_enters_the_sticky_failed_state),
        cmocka_unit_test(test_ssd_sync_error_enters_the_sticky_failed_state),
        cmocka_unit_test(test_ssd_segment_files_wait_for_the_notes_that_killed_their_records),
        cmocka_unit_test(test_ssd_async_fetches_from_many_threads_complete_once_on_a_tier_thread),
        cmocka_unit_test(test_ssd_destroy_with_reads_in_flight_completes_each_once),
        cmocka_unit_test(test_ssd_attach_off_deletes_and_bad_files_are_removed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
