/*
 * ins_src.c -- strata-inspect's inputs behind one walk: what a path is (a
 * snapshot, a PMem pool file, an SSD tier directory) and the current keys it
 * holds, one callback a key, in the order the input stores them.
 *
 * What it owns: detection, the snapshot walk (engine/snap.h's streaming
 * reader: one block in memory at a time; SNAP_SKIP_COLD_DATA when a command
 * needs no cold record) and the codec that holds an input's compression
 * dictionaries. Not the pool scanner (ins_pool.c), the SSD reader
 * (ins_ssdd.c), nor what commands do with keys.
 *
 * Detection, in order: a directory is an SSD tier directory; a file whose
 * first 8 bytes are "STRSNP01", or whose last 64 bytes start "STRSEND1" (a
 * snapshot whose header is damaged), is a snapshot; "PMEMOBJ\0" at offset 0
 * is a libpmemobj pool; "STRAOF01" is an append log (named, not read here);
 * anything else is refused with what it is not. --as forces a kind.
 *
 * Invariants:
 *  1. Inputs are opened O_RDONLY (vfs_posix()'s open with O_RDONLY, or
 *     open(2) with O_RDONLY in the readers); nothing here or below writes,
 *     truncates, renames, locks or maps an input for writing.
 *  2. A snapshot's dictionaries come before the keys that use them (the
 *     writer's rule, docs/formats.md), so one pass decodes every cold record.
 *  3. A walk that ends ST_OK saw the whole input verified as the reader
 *     verifies it (a snapshot: the footer's counts and chained CRCs).
 *
 * Threads: one. Durability: nothing is written.
 */
#include "tools/ins.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/codec.h"
#include "engine/err.h"
#include "engine/vfs.h"

struct src {
    struct ins_ctx *cx;
    struct src_info info;
    char *path;
    struct codec *codec;
    struct pool *pool;
    struct ssdd *ssd;
    /* snapshot: where the last walk failed */
    uint64_t err_off;
    const char *err_what;
};

const char *ins_tier_name(int tier)
{
    switch (tier) {
    case ITIER_DRAM: return "dram";
    case ITIER_PMEM: return "pmem";
    case ITIER_SSD: return "ssd";
    default: return "other";
    }
}

const char *ins_type_name(int type)
{
    static const char *names[] = {"string", "list", "set", "zset", "hash"};
    return type >= 0 && type < OBJ_TYPE_MAX ? names[type] : "?";
}

int ins_type_parse(const char *s)
{
    for (int t = 0; t < OBJ_TYPE_MAX; t++)
        if (strcmp(s, ins_type_name(t)) == 0)
            return t;
    return -1;
}

int ins_tier_parse(const char *s)
{
    for (int t = 0; t < ITIER_N; t++)
        if (strcmp(s, ins_tier_name(t)) == 0)
            return t;
    return -1;
}

static int make_codec(struct codec **out)
{
    struct codec_conf cf;
    codec_conf_init(&cf);
    cf.small_max = 0;    /* no training, no thread: decompression only */
    cf.train_async = 0;
    return codec_create(&cf, out);
}

/* What the file at path is (detection above). */
static int detect(const char *path, int *kind, const char **why)
{
    unsigned char head[8] = {0}, tail[8] = {0};
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = ST_OK;

    if (fd < 0)
        return errno == ENOENT ? ST_ENOENT : ST_EIO;
    if (fstat(fd, &st) != 0) {
        rc = ST_EIO;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        *kind = SRC_SSD;
        goto out;
    }
    ssize_t n = pread(fd, head, sizeof(head), 0);
    if (n < 0) {
        *why = "cannot be read";
        rc = ST_EIO;
        goto out;
    }
    if (st.st_size >= 64 && pread(fd, tail, sizeof(tail), st.st_size - 64) != (ssize_t)sizeof(tail))
        memset(tail, 0, sizeof(tail));
    if (memcmp(head, "STRSNP01", 8) == 0 || memcmp(tail, "STRSEND1", 8) == 0) {
        *kind = SRC_SNAP;
    } else if (memcmp(head, "PMEMOBJ", 8) == 0) {
        *kind = SRC_POOL;
    } else if (memcmp(head, "STRAOF01", 8) == 0) {
        *why = "is an append log; strata-inspect reads snapshots, PMem pools and SSD directories";
        rc = ST_EINVAL;
    } else if (n == 0) {
        *why = "is empty: not a snapshot, a PMem pool or an SSD directory";
        rc = ST_EINVAL;
    } else {
        *why = "is not a Strata snapshot, a PMem pool or an SSD directory (use --as to say which it is)";
        rc = ST_EINVAL;
    }
out:
    close(fd);
    return rc;
}

int src_open(struct ins_ctx *cx, const char *path, int force, struct src **out, const char **why)
{
    struct src *s;
    int kind = force, rc;

    *out = NULL;
    *why = NULL;
    if (!kind) {
        rc = detect(path, &kind, why);
        if (rc != ST_OK) {
            if (!*why)
                *why = rc == ST_ENOENT ? "no such file or directory" : "cannot be read";
            return rc;
        }
    }
    s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return ST_ENOMEM;
    }
    s->cx = cx;
    s->info.kind = kind;
    s->info.path = s->path;
    rc = make_codec(&s->codec);
    if (rc != ST_OK) {
        src_close(&s);
        return rc;
    }
    if (kind == SRC_POOL) {
        rc = pool_open(path, &s->pool, &s->info, why);
    } else if (kind == SRC_SSD) {
        rc = ssdd_open(path, &s->ssd, &s->info, why);
    } else {
        struct snap_reader *r = NULL;
        struct stat st;
        if (stat(path, &st) == 0)
            s->info.size = (uint64_t)st.st_size;
        rc = snap_reader_open(vfs_posix(), path, SNAP_SKIP_COLD_DATA, &r, &s->info.meta);
        if (rc == ST_ECORRUPT || rc == ST_EIO) {
            snap_reader_error(r, &s->err_off, &s->err_what);
            *why = s->err_what;
        } else if (rc == ST_ENOENT) {
            *why = "no such file or directory";
        }
        snap_reader_close(&r);
    }
    s->info.path = s->path;
    if (rc != ST_OK && rc != ST_ECORRUPT) {
        src_close(&s);
        return rc;
    }
    *out = s;
    return rc;
}

int iwin_at(struct iwin *w, uint64_t off, size_t need, const unsigned char **p)
{
    if (off >= w->base && off + need <= w->base + w->len) {
        *p = w->buf + (off - w->base);
        return ST_OK;
    }
    if (off > w->fsize || need > w->fsize - off)
        return ST_EINVAL;
    size_t want = need > IWIN_SIZE ? need : IWIN_SIZE;
    if (want > w->fsize - off)
        want = (size_t)(w->fsize - off);
    if (want > w->cap || (w->cap > 4 * (size_t)IWIN_SIZE && want <= IWIN_SIZE)) {
        size_t nc = want < IWIN_SIZE ? IWIN_SIZE : want;
        unsigned char *nb = malloc(nc ? nc : 1);
        if (!nb)
            return ST_ENOMEM;
        free(w->buf);
        w->buf = nb;
        w->cap = nc;
    }
    w->len = 0;
    w->base = off;
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(w->fd, w->buf + got, want - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    w->len = got;
    if (got < need)
        return ST_EIO;
    *p = w->buf;
    return ST_OK;
}

void iwin_free(struct iwin *w)
{
    free(w->buf);
    w->buf = NULL;
    w->cap = w->len = 0;
    w->base = 0;
}

const struct src_info *src_info(const struct src *s)
{
    return &s->info;
}

void src_error(const struct src *s, uint64_t *off, const char **what)
{
    if (off)
        *off = s->err_off;
    if (what)
        *what = s->err_what;
}

static uint8_t snap_tier(uint8_t t)
{
    return t == SNAP_TIER_PMEM ? ITIER_PMEM : t == SNAP_TIER_SSD ? ITIER_SSD : ITIER_OTHER;
}

static int snap_each(struct src *s, unsigned flags, const struct src_cbs *cbs)
{
    struct snap_reader *r = NULL;
    struct snap_item it;
    int rc, stop = 0;

    s->err_off = 0;
    s->err_what = NULL;
    rc = snap_reader_open(vfs_posix(), s->path, (flags & SRC_WITH_DATA) ? 0 : SNAP_SKIP_COLD_DATA, &r, NULL);
    while (rc == ST_OK) {
        rc = snap_next(r, &it);
        if (rc == ST_ENOMEM)
            break;
        if (rc != ST_OK)
            break;
        if (it.kind == SNAP_AUX || it.kind == SNAP_DICT) {
            if (it.kind == SNAP_DICT)
                codec_add_dict(s->codec, it.dict_id, it.val, it.vlen); /* a refused one: its records say so */
            if (cbs->aux)
                stop = cbs->aux(cbs->ud, it.kind == SNAP_AUX ? it.key : NULL, it.klen, it.val, it.vlen,
                                it.kind == SNAP_DICT ? it.dict_id : 0);
        } else if (cbs->key) {
            struct src_key k = {.db = it.db, .key = it.key, .klen = it.klen, .expire_ms = it.expire_ms};
            if (it.kind == SNAP_HOT) {
                k.type = it.type;
                k.tier = ITIER_DRAM;
                k.ser = it.val;
                k.serlen = it.vlen;
            } else {
                k.cold = 1;
                k.type = -1;
                k.tier = snap_tier(it.tier);
                if (flags & SRC_WITH_DATA) {
                    const void *rec;
                    size_t len, used;
                    rc = snap_cold_data(r, &it, &rec, &len);
                    if (rc != ST_OK)
                        break;
                    if (tier_rec_decode(rec, len, &k.r, &used) != ST_OK) { /* checked by the reader [P2] */
                        rc = ST_ECORRUPT;
                        break;
                    }
                    k.has_rec = 1;
                    k.rec = rec;
                    k.reclen = len;
                    k.type = k.r.type;
                }
            }
            stop = cbs->key(cbs->ud, &k);
        }
        if (stop) {
            rc = stop;
            break;
        }
    }
    if (rc == ST_ENOENT) {
        rc = ST_OK;
    } else if (rc == ST_ECORRUPT || rc == ST_EIO) {
        snap_reader_error(r, &s->err_off, &s->err_what);
        if (!s->err_what)
            s->err_what = "a cold record does not decode";
    }
    snap_reader_close(&r);
    return rc;
}

int src_each(struct src *s, unsigned flags, const struct src_cbs *cbs)
{
    switch (s->info.kind) {
    case SRC_POOL: return pool_each(s->pool, s->codec, flags, cbs);
    case SRC_SSD: return ssdd_each(s->ssd, s->codec, s->cx->now_ms, flags, cbs);
    default: return snap_each(s, flags, cbs);
    }
}

int src_value(struct src *s, const struct src_key *k, struct entry **out, const char **why)
{
    *why = NULL;
    if (!k->cold)
        return val_decode_ser(k->type, k->ser, k->serlen, k->key, k->klen, k->expire_ms, &s->cx->lim, out, why);
    if (!k->has_rec) {
        *why = "the cold record was not read";
        return ST_EINVAL;
    }
    return val_decode_rec(s->codec, &k->r, &s->cx->lim, s->cx->max_value, k->expire_ms, out, why);
}

void src_close(struct src **sp)
{
    struct src *s = *sp;

    if (!s)
        return;
    pool_close(&s->pool);
    ssdd_close(&s->ssd);
    codec_destroy(&s->codec);
    free(s->path);
    free(s);
    *sp = NULL;
}
