/*
 * cmd_hash.c -- the hash command family: HSET HSETNX HGET HMSET HMGET HDEL
 * HEXISTS HLEN HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HSTRLEN HRANDFIELD
 * HSCAN, and their table cmds_hash[].
 *
 * What it owns: argument parsing, shard locking, keyspace calls and replies.
 * What it does not: the hash object itself (encodings, conversion at the
 * hash-max-listpack-* thresholds, arithmetic, sampling, scan steps live in
 * engine/t_hash.c, unit-tested there), entries and the keyspace.
 *
 * Invariants:
 *  1. Every handler validates what it can without the keyspace before it
 *     locks, then checks in Redis 7.0's order (t_hash.c), so the first
 *     failing rule gives Redis's reply.
 *  2. A handler holds its key's shard lock from lookup to reply; a hash
 *     handle that a write may have moved (pack realloc, conversion) is
 *     written back into the entry (hw_close) before the lock is released.
 *  3. A key whose last field is deleted is deleted; a key is created only
 *     when a write leaves at least one field in it.
 *  4. Read commands count keyspace_hits / keyspace_misses where Redis's
 *     lookupKeyRead does (HGET HMGET HEXISTS HLEN HSTRLEN HKEYS HVALS
 *     HGETALL HRANDFIELD HSCAN); write commands do not.
 *  5. A reply is bounded: HRANDFIELD with a huge negative count stops (and
 *     the client is closed, as Redis does past its output limit) once the
 *     pending output passes the hard output limit or HASH_REPLY_CAP.
 *
 * Threads: handlers run on the client's worker; the shards they lock are
 * shared with every other worker.
 *
 * References: Redis 7.0 src/t_hash.c, src/db.c (scanGenericCommand,
 * parseScanCursorOrReply); https://redis.io/commands/ for the synopses.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/t_hash.h"
#include "engine/tlimits.h"
#include "engine/util.h"
#include "server/client.h"
#include "server/keyargs.h"
#include "server/cmd.h"
#include "server/config.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/stats.h"
#include "server/worker.h"

#define RERR_HASH_NOTINT "ERR hash value is not an integer"
#define RERR_HASH_NOTFLOAT "ERR hash value is not a float"
#define RERR_NAN_INCR "ERR value is NaN or Infinity"
#define RERR_NAN_RESULT "ERR increment would produce NaN or Infinity"
#define RERR_RANGE "ERR value is out of range"
#define RERR_RANDFIELD_RANGE "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
#define RERR_CURSOR "ERR invalid cursor"

/* Pending output past which a reply stops growing when no hard output limit
 * is configured (invariant 5). */
#define HASH_REPLY_CAP (1ull << 30)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* The hash of a read command's key: NULL when absent (*err = 0) or of
 * another type (WRONGTYPE replied, *err = 1). */
static void *read_hash(struct client *c, const struct ks_key *k, int *err)
{
    struct entry **ref = keyargs_read(c, k);

    *err = 0;
    if (!ref)
        return NULL;
    if ((*ref)->type != OBJ_HASH) {
        reply_err_wrongtype(c);
        *err = 1;
        return NULL;
    }
    return entry_ptr(*ref);
}

static void reply_str(struct client *c, const struct hash_str *s)
{
    reply_bulk(c, s->p, s->len);
}

static uint64_t rng_next(void *ud)
{
    struct client *c = ud;

    return c->w ? util_rng_next(&c->w->rng) : (uint64_t)c->now_ms * 0x9e3779b97f4a7c15ull;
}

/* A write session on one key's hash (invariants 2 and 3). */
struct hwrite {
    struct client *c;
    struct ks_key k;
    struct entry **ref; /* NULL: the key does not exist yet */
    void *h;            /* the handle being written */
    struct hash_conf conf;
    int changed;        /* set by the handler when it modified the hash */
};

/* Locks the key's shard and finds or prepares its hash. Returns 0, or -1
 * after replying (WRONGTYPE or out of memory; the lock is still held: call
 * hw_close anyway). */
static int hw_open(struct client *c, struct hwrite *w)
{
    struct keyspace *ks = c->srv->ks;
    struct type_limits lim;

    w->c = c;
    w->changed = 0;
    w->h = NULL;
    keyargs_one(c, 1, &w->k);
    server_type_limits(c->srv, &lim);
    hash_conf_init(&w->conf, &lim, ks->seed);
    ks_lock(ks, w->k.shard);
    w->ref = ks_find_ref(ks, c->db, &w->k, c->now_ms, 0);
    if (w->ref) {
        if ((*w->ref)->type != OBJ_HASH) {
            reply_err_wrongtype(c);
            return -1;
        }
        w->h = entry_ptr(*w->ref);
        return 0;
    }
    w->h = hash_create();
    if (!w->h) {
        reply_err_nomem(c);
        return -1;
    }
    return 0;
}

/* Stores the handle back: into the existing entry (deleting the key when
 * the hash is empty), or into a new entry when the hash has fields. Unlocks.
 * Returns 0, or ST_ENOMEM when a new key could not be created (nothing
 * replied; the caller replies). */
static int hw_close(struct hwrite *w)
{
    struct keyspace *ks = w->c->srv->ks;
    int rc = ST_OK;

    if (w->ref) {
        if (w->h) {
            entry_set_ptr(*w->ref, w->h);
            if (hash_len(w->h) == 0)
                ks_delete_ref(ks, w->c->db, &w->k, w->ref);
            else if (w->changed)
                ks_touch_write(ks, &w->k);
        }
    } else if (w->h) {
        if (hash_len(w->h) == 0) {
            hash_destroy(w->h);
        } else {
            struct entry *e = entry_create(w->k.p, (uint32_t)w->k.len, OBJ_HASH, ENC_PTR, sizeof(void *), -1);
            if (!e) {
                hash_destroy(w->h);
                rc = ST_ENOMEM;
            } else {
                entry_set_ptr(e, w->h);
                if (ks_insert(ks, w->c->db, &w->k, e) != ST_OK) {
                    entry_destroy(e); /* frees the hash too */
                    rc = ST_ENOMEM;
                }
            }
        }
    }
    w->h = NULL;
    ks_unlock(ks, w->k.shard);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* HSET HMSET HSETNX                                                        */
/* ------------------------------------------------------------------------ */

/* HSET / HMSET key field value [field value ...]. Returns the number of new
 * fields, or -1 after an out-of-memory reply. */
static long hset_generic(struct client *c)
{
    struct hwrite w;
    size_t maxlen = 0, total = 0;
    long added = 0;
    int oom = 0;

    if (hw_open(c, &w) != 0) {
        (void)hw_close(&w);
        return -1;
    }
    for (int i = 2; i < c->argc; i++) {
        if (c->argv[i].len > maxlen)
            maxlen = c->argv[i].len;
        total += c->argv[i].len;
    }
    if (hash_fit(&w.h, maxlen, total, &w.conf) != ST_OK) {
        oom = 1;
    } else {
        for (int i = 2; i + 1 < c->argc; i += 2) {
            int a;
            if (hash_set(&w.h, c->argv[i].p, c->argv[i].len, c->argv[i + 1].p, c->argv[i + 1].len, &w.conf,
                         &a) != ST_OK) {
                oom = 1;
                break;
            }
            w.changed = 1;
            added += a;
        }
    }
    if (hw_close(&w) != ST_OK || oom) {
        reply_err_nomem(c);
        return -1;
    }
    return added;
}

static void hset_cmd(struct client *c)
{
    long added;

    if (c->argc % 2 == 1) {
        reply_err_args(c);
        return;
    }
    added = hset_generic(c);
    if (added >= 0)
        reply_int(c, added);
}

static void hmset_cmd(struct client *c)
{
    if (c->argc % 2 == 1) {
        reply_err_args(c);
        return;
    }
    if (hset_generic(c) >= 0)
        reply_ok(c);
}

/* HSETNX key field value */
static void hsetnx_cmd(struct client *c)
{
    struct hwrite w;
    int added = 0, rc = ST_OK;

    if (hw_open(c, &w) != 0) {
        (void)hw_close(&w);
        return;
    }
    if (!hash_get(w.h, c->argv[2].p, c->argv[2].len, NULL)) {
        size_t maxlen = c->argv[2].len > c->argv[3].len ? c->argv[2].len : c->argv[3].len;
        rc = hash_fit(&w.h, maxlen, c->argv[2].len + c->argv[3].len, &w.conf);
        if (rc == ST_OK)
            rc = hash_set(&w.h, c->argv[2].p, c->argv[2].len, c->argv[3].p, c->argv[3].len, &w.conf, &added);
        w.changed = added;
    }
    if (hw_close(&w) != ST_OK || rc != ST_OK) {
        reply_err_nomem(c);
        return;
    }
    reply_int(c, added);
}

/* ------------------------------------------------------------------------ */
/* HGET HMGET HEXISTS HLEN HSTRLEN                                          */
/* ------------------------------------------------------------------------ */

/* HGET key field */
static void hget_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct hash_str v;
    void *h;
    int err;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    h = read_hash(c, &k, &err);
    if (!err) {
        if (h && hash_get(h, c->argv[2].p, c->argv[2].len, &v))
            reply_str(c, &v);
        else
            reply_null(c);
    }
    ks_unlock(ks, k.shard);
}

/* HMGET key field [field ...]: nil for each absent field (all of them when
 * the key is absent). */
static void hmget_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct hash_str v;
    void *h;
    int err;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    h = read_hash(c, &k, &err);
    if (!err) {
        reply_array(c, c->argc - 2);
        for (int i = 2; i < c->argc; i++) {
            if (h && hash_get(h, c->argv[i].p, c->argv[i].len, &v))
                reply_str(c, &v);
            else
                reply_null(c);
        }
    }
    ks_unlock(ks, k.shard);
}

enum hash_field_query { Q_EXISTS, Q_STRLEN };

/* HEXISTS key field / HSTRLEN key field */
static void field_query(struct client *c, enum hash_field_query q)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    void *h;
    int err;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    h = read_hash(c, &k, &err);
    if (!err) {
        if (!h)
            reply_int(c, 0);
        else if (q == Q_EXISTS)
            reply_int(c, hash_get(h, c->argv[2].p, c->argv[2].len, NULL));
        else
            reply_int(c, (long long)hash_strlen(h, c->argv[2].p, c->argv[2].len));
    }
    ks_unlock(ks, k.shard);
}

static void hexists_cmd(struct client *c)
{
    field_query(c, Q_EXISTS);
}

static void hstrlen_cmd(struct client *c)
{
    field_query(c, Q_STRLEN);
}

/* HLEN key */
static void hlen_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    void *h;
    int err;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    h = read_hash(c, &k, &err);
    if (!err)
        reply_int(c, h ? (long long)hash_len(h) : 0);
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* HKEYS HVALS HGETALL                                                      */
/* ------------------------------------------------------------------------ */

#define GA_FIELDS 1
#define GA_VALUES 2

static void getall_generic(struct client *c, int what)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct hash_iter it;
    long n;
    void *h;
    int err;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    h = read_hash(c, &k, &err);
    if (err)
        goto unlock;
    n = h ? (long)hash_len(h) : 0;
    if (what == (GA_FIELDS | GA_VALUES))
        reply_map(c, n);
    else
        reply_array(c, n);
    if (!h)
        goto unlock;
    hash_iter_init(&it, h);
    while (hash_iter_next(&it)) {
        if (what & GA_FIELDS)
            reply_str(c, &it.f);
        if (what & GA_VALUES)
            reply_str(c, &it.v);
    }
    hash_iter_done(&it);
unlock:
    ks_unlock(ks, k.shard);
}

static void hkeys_cmd(struct client *c)
{
    getall_generic(c, GA_FIELDS);
}

static void hvals_cmd(struct client *c)
{
    getall_generic(c, GA_VALUES);
}

static void hgetall_cmd(struct client *c)
{
    getall_generic(c, GA_FIELDS | GA_VALUES);
}

/* ------------------------------------------------------------------------ */
/* HDEL                                                                     */
/* ------------------------------------------------------------------------ */

/* HDEL key field [field ...]: the key goes when its last field does. */
static void hdel_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;
    long deleted = 0;
    void *h;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = ks_find_ref(ks, c->db, &k, c->now_ms, 0);
    if (!ref) {
        reply_int(c, 0);
        goto unlock;
    }
    if ((*ref)->type != OBJ_HASH) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    h = entry_ptr(*ref);
    for (int i = 2; i < c->argc; i++) {
        deleted += hash_del(&h, c->argv[i].p, c->argv[i].len);
        if (hash_len(h) == 0)
            break;
    }
    entry_set_ptr(*ref, h);
    if (hash_len(h) == 0)
        ks_delete_ref(ks, c->db, &k, ref);
    else if (deleted)
        ks_touch_write(ks, &k);
    reply_int(c, deleted);
unlock:
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* HINCRBY HINCRBYFLOAT                                                     */
/* ------------------------------------------------------------------------ */

/* HINCRBY key field increment */
static void hincrby_cmd(struct client *c)
{
    struct hwrite w;
    long long incr;
    int64_t out = 0;
    int rc;

    if (util_str2ll(c->argv[3].p, c->argv[3].len, &incr) != ST_OK) {
        reply_err_notint(c);
        return;
    }
    if (hw_open(c, &w) != 0) {
        (void)hw_close(&w);
        return;
    }
    rc = hash_incrby(&w.h, c->argv[2].p, c->argv[2].len, incr, &out, &w.conf);
    w.changed = rc == ST_OK;
    if (hw_close(&w) != ST_OK)
        rc = ST_ENOMEM;
    if (rc == ST_OK)
        reply_int(c, out);
    else if (rc == ST_EINVAL)
        reply_error(c, RERR_HASH_NOTINT);
    else if (rc == ST_ERANGE)
        reply_error(c, RERR_OVERFLOW);
    else
        reply_err_nomem(c);
}

/* HINCRBYFLOAT key field increment */
static void hincrbyfloat_cmd(struct client *c)
{
    struct hwrite w;
    long double incr;
    char buf[UTIL_DBLSTR_SIZE];
    size_t len = 0;
    int rc;

    if (util_str2ld(c->argv[3].p, c->argv[3].len, &incr) != ST_OK) {
        reply_err_notfloat(c);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        reply_error(c, RERR_NAN_INCR);
        return;
    }
    if (hw_open(c, &w) != 0) {
        (void)hw_close(&w);
        return;
    }
    rc = hash_incrbyfloat(&w.h, c->argv[2].p, c->argv[2].len, incr, buf, sizeof(buf), &len, &w.conf);
    w.changed = rc == ST_OK;
    if (hw_close(&w) != ST_OK)
        rc = ST_ENOMEM;
    if (rc == ST_OK)
        reply_bulk(c, buf, len);
    else if (rc == ST_EINVAL)
        reply_error(c, RERR_HASH_NOTFLOAT);
    else if (rc == ST_ERANGE)
        reply_error(c, RERR_NAN_RESULT);
    else
        reply_err_nomem(c);
}

/* ------------------------------------------------------------------------ */
/* HRANDFIELD                                                               */
/* ------------------------------------------------------------------------ */

struct randfield {
    struct client *c;
    int withvalues;
    uint64_t n;
    size_t cap; /* pending output that stops the reply (invariant 5) */
};

static int randfield_emit(const struct hash_str *f, const struct hash_str *v, void *ud)
{
    struct randfield *r = ud;
    struct client *c = r->c;

    if (r->withvalues && c->resp > 2)
        reply_array(c, 2);
    reply_str(c, f);
    if (r->withvalues)
        reply_str(c, v);
    if ((++r->n & 1023) == 0 && c->olen - c->osent > r->cap) {
        log_warn("client %llu: HRANDFIELD reply passed %zu bytes, closing the client", (unsigned long long)c->id,
                 r->cap);
        CLIENT_PUB(c->flags, c->flags | CLIENT_CLOSE_ASAP);
    }
    return (c->flags & CLIENT_CLOSE_ASAP) != 0;
}

/* HRANDFIELD key [count [WITHVALUES]] */
static void hrandfield_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct randfield r = { .c = c };
    struct ks_key k;
    long long l = 0;
    uint64_t count, size;
    int uniq = 1, err;
    void *h;

    if (c->argc >= 3) {
        long long hard = cfg_load(c->srv->cfg.obuf_hard);

        if (util_str2ll(c->argv[2].p, c->argv[2].len, &l) != ST_OK) {
            reply_err_notint(c);
            return;
        }
        if (l < -LLONG_MAX) {
            reply_error(c, RERR_RANDFIELD_RANGE);
            return;
        }
        if (c->argc > 4 || (c->argc == 4 && !util_eqi(c->argv[3].p, c->argv[3].len, "withvalues"))) {
            reply_err_syntax(c);
            return;
        }
        if (c->argc == 4) {
            r.withvalues = 1;
            if (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2) {
                reply_error(c, RERR_RANGE);
                return;
            }
        }
        r.cap = hard > 0 && (uint64_t)hard < HASH_REPLY_CAP ? (size_t)hard : (size_t)HASH_REPLY_CAP;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    h = read_hash(c, &k, &err);
    if (err)
        goto unlock;
    if (c->argc == 2) {
        struct hash_str f, v;
        if (!h || hash_random(h, rng_next, c, &f, &v) != ST_OK)
            reply_null(c);
        else
            reply_str(c, &f);
        goto unlock;
    }
    if (!h) {
        reply_array(c, 0);
        goto unlock;
    }
    if (l >= 0) {
        count = (uint64_t)l;
    } else {
        count = (uint64_t)(-l);
        uniq = 0;
    }
    if (count == 0) {
        reply_array(c, 0);
        goto unlock;
    }
    size = hash_len(h);
    if (uniq && count > size)
        count = size;
    reply_array(c, (long)(r.withvalues && c->resp == 2 ? count * 2 : count));
    if (hash_random_pairs(h, count, uniq, rng_next, c, randfield_emit, &r) != ST_OK) {
        /* the array header is out: the stream cannot be repaired */
        log_warn("client %llu: out of memory in HRANDFIELD, closing the client", (unsigned long long)c->id);
        CLIENT_PUB(c->flags, c->flags | CLIENT_CLOSE_ASAP);
    }
unlock:
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* HSCAN                                                                    */
/* ------------------------------------------------------------------------ */

/* Redis's parseScanCursorOrReply: strtoul rules (no leading space, no
 * trailing bytes, no overflow; a leading '-' wraps as strtoul does). */
static int parse_cursor(const struct arg *a, uint64_t *out)
{
    char stack[64];
    char *buf = a->len < sizeof(stack) ? stack : malloc(a->len + 1);
    char *end;
    int rc = 0;

    if (!buf)
        return -1;
    memcpy(buf, a->p, a->len);
    buf[a->len] = '\0';
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r') || *end != '\0' || errno == ERANGE)
        rc = -1;
    else
        *out = (uint64_t)v;
    if (buf != stack)
        free(buf);
    return rc;
}

/* Pairs collected by a scan step: [u32 flen][f][u32 vlen][v] ... */
struct scan_buf {
    const struct arg *pat; /* NULL: no MATCH (or MATCH *) */
    char *buf;
    size_t len, cap;
    long n; /* pairs kept */
    int oom;
};

static int scan_put(struct scan_buf *s, const struct hash_str *x)
{
    uint32_t l = (uint32_t)x->len;
    size_t need = s->len + sizeof(l) + x->len;

    if (need > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        while (ncap < need)
            ncap *= 2;
        char *nb = realloc(s->buf, ncap);
        if (!nb) {
            s->oom = 1;
            return -1;
        }
        s->buf = nb;
        s->cap = ncap;
    }
    memcpy(s->buf + s->len, &l, sizeof(l));
    memcpy(s->buf + s->len + sizeof(l), x->p, x->len);
    s->len = need;
    return 0;
}

static int scan_collect(const struct hash_str *f, const struct hash_str *v, void *ud)
{
    struct scan_buf *s = ud;

    if (s->oom)
        return 0;
    if (s->pat && !util_glob_match(s->pat->p, s->pat->len, (const char *)f->p, f->len, 0))
        return 0;
    size_t mark = s->len;
    if (scan_put(s, f) != 0 || scan_put(s, v) != 0) {
        s->len = mark;
        return 0;
    }
    s->n++;
    return 0;
}

/* HSCAN key cursor [MATCH pattern] [COUNT count]. As in Redis 7.0, the
 * options are parsed only once the key is found to be a hash, and a pack is
 * returned whole with cursor 0. */
static void hscan_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct scan_buf s = { 0 };
    struct ks_key k;
    uint64_t cursor, next;
    long long count = 10;
    void *h;
    int err;

    if (parse_cursor(&c->argv[2], &cursor) != 0) {
        reply_error(c, RERR_CURSOR);
        return;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    h = read_hash(c, &k, &err);
    if (err)
        goto unlock;
    if (!h) {
        reply_array(c, 2);
        reply_bulk(c, "0", 1);
        reply_array(c, 0);
        goto unlock;
    }
    for (int i = 3; i < c->argc; i += 2) {
        const struct arg *a = &c->argv[i];
        int more = c->argc - i >= 2;
        if (more && util_eqi(a->p, a->len, "count")) {
            if (util_str2ll(c->argv[i + 1].p, c->argv[i + 1].len, &count) != ST_OK) {
                reply_err_notint(c);
                goto unlock;
            }
            if (count < 1) {
                reply_err_syntax(c);
                goto unlock;
            }
        } else if (more && util_eqi(a->p, a->len, "match")) {
            const struct arg *p = &c->argv[i + 1];
            s.pat = (p->len == 1 && p->p[0] == '*') ? NULL : p;
        } else {
            reply_err_syntax(c);
            goto unlock;
        }
    }
    next = hash_scan(h, cursor, (uint64_t)count, scan_collect, &s);
    if (s.oom) {
        reply_err_nomem(c);
        goto unlock;
    }
    char cbuf[24];
    int clen = snprintf(cbuf, sizeof(cbuf), "%" PRIu64, next);
    reply_array(c, 2);
    reply_bulk(c, cbuf, (size_t)clen);
    reply_array(c, s.n * 2);
    for (size_t off = 0; off < s.len;) {
        uint32_t l;
        memcpy(&l, s.buf + off, sizeof(l));
        reply_bulk(c, s.buf + off + sizeof(l), l);
        off += sizeof(l) + l;
    }
unlock:
    ks_unlock(ks, k.shard);
    free(s.buf);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

#define W_OOM_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define W_FAST (CMD_WRITE | CMD_FAST)
#define R_FAST (CMD_READONLY | CMD_FAST)
#define R_ONLY CMD_READONLY
#define ALL_FIELDS "O(N) where N is the size of the hash."

const struct cmd_def cmds_hash[] = {
    { "hset", hset_cmd, -4, W_OOM_FAST, 1, 1, 1, "hash", "Set the string value of a hash field", "2.0.0",
      "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called "
      "with multiple field/value pairs.",
      "key field value [field value ...]", NULL },
    { "hsetnx", hsetnx_cmd, 4, W_OOM_FAST, 1, 1, 1, "hash",
      "Set the value of a hash field, only if the field does not exist", "2.0.0", "O(1)", "key field value",
      NULL },
    { "hget", hget_cmd, 3, R_FAST, 1, 1, 1, "hash", "Get the value of a hash field", "2.0.0", "O(1)",
      "key field", NULL },
    { "hmset", hmset_cmd, -4, W_OOM_FAST, 1, 1, 1, "hash", "Set multiple hash fields to multiple values", "2.0.0",
      "O(N) where N is the number of fields being set.", "key field value [field value ...]", NULL },
    { "hmget", hmget_cmd, -3, R_FAST, 1, 1, 1, "hash", "Get the values of all the given hash fields", "2.0.0",
      "O(N) where N is the number of fields being requested.", "key field [field ...]", NULL },
    { "hdel", hdel_cmd, -3, W_FAST, 1, 1, 1, "hash", "Delete one or more hash fields", "2.0.0",
      "O(N) where N is the number of fields to be removed.", "key field [field ...]", NULL },
    { "hexists", hexists_cmd, 3, R_FAST, 1, 1, 1, "hash", "Determine if a hash field exists", "2.0.0", "O(1)",
      "key field", NULL },
    { "hlen", hlen_cmd, 2, R_FAST, 1, 1, 1, "hash", "Get the number of fields in a hash", "2.0.0", "O(1)", "key",
      NULL },
    { "hkeys", hkeys_cmd, 2, R_ONLY, 1, 1, 1, "hash", "Get all the fields in a hash", "2.0.0", ALL_FIELDS, "key",
      NULL },
    { "hvals", hvals_cmd, 2, R_ONLY, 1, 1, 1, "hash", "Get all the values in a hash", "2.0.0", ALL_FIELDS, "key",
      NULL },
    { "hgetall", hgetall_cmd, 2, R_ONLY, 1, 1, 1, "hash", "Get all the fields and values in a hash", "2.0.0",
      ALL_FIELDS, "key", NULL },
    { "hincrby", hincrby_cmd, 4, W_OOM_FAST, 1, 1, 1, "hash",
      "Increment the integer value of a hash field by the given number", "2.0.0", "O(1)",
      "key field increment", NULL },
    { "hincrbyfloat", hincrbyfloat_cmd, 4, W_OOM_FAST, 1, 1, 1, "hash",
      "Increment the float value of a hash field by the given amount", "2.6.0", "O(1)", "key field increment",
      NULL },
    { "hstrlen", hstrlen_cmd, 3, R_FAST, 1, 1, 1, "hash", "Get the length of the value of a hash field", "3.2.0",
      "O(1)", "key field", NULL },
    { "hrandfield", hrandfield_cmd, -2, R_ONLY, 1, 1, 1, "hash", "Get one or multiple random fields from a hash",
      "6.2.0", "O(N) where N is the number of fields returned", "key [count [WITHVALUES]]", NULL },
    { "hscan", hscan_cmd, -3, R_ONLY, 1, 1, 1, "hash", "Incrementally iterate hash fields and associated values",
      "2.8.0",
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to "
      "return back to 0. N is the number of elements inside the collection.",
      "key cursor [MATCH pattern] [COUNT count]", NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};
