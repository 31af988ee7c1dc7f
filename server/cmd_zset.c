/*
 * cmd_zset.c -- the sorted-set commands: ZADD ZINCRBY ZREM ZSCORE ZMSCORE
 * ZCARD ZCOUNT ZLEXCOUNT, the ZRANGE family (ZRANGE ZRANGESTORE ZREVRANGE
 * ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX), ZRANK ZREVRANK,
 * ZREMRANGEBYRANK/SCORE/LEX, ZRANDMEMBER, ZSCAN, and the family's table
 * cmds_zset[]. The pops (ZPOPMIN ZPOPMAX ZMPOP and the blocking BZPOPMIN
 * BZPOPMAX BZMPOP) are in cmd_zsetpop.c, ZUNION/ZINTER/ZDIFF and friends in
 * cmd_zsetops.c.
 *
 * What it owns: argument grammar, Redis 7's error texts and the order in
 * which they are checked, shard locking, reply shapes in RESP2 and RESP3,
 * and the blocked-client callbacks of the blocking pops. What it does not:
 * the sorted set itself (engine/t_zset.c: encodings, conversion, ranges),
 * the registry of blocked clients (server/blocking.c).
 *
 * Invariants:
 *  1. Every handler validates what it can before taking a lock, in Redis
 *     7.0's order (t_zset.c), so the first failing rule gives Redis's reply.
 *  2. A handler holds its keys' shard locks from its first lookup to its
 *     last write and replies before unlocking; multi-key commands lock all
 *     their shards at once (ks_lock_keys).
 *  3. A key whose set a command empties is deleted before the lock is
 *     released: no empty sorted set is ever visible.
 *  4. A write that adds members (ZADD, ZINCRBY, the STORE commands, an
 *     undone blocking pop) calls blk_signal on the key under its shard lock,
 *     so a blocked client is served before any other command sees them.
 *  5. Data popped for a blocked client is replied to it or put back (undo);
 *     never lost (blocking.h invariant 2).
 *  6. Reads count keyspace_hits / keyspace_misses where Redis's
 *     lookupKeyRead does; write lookups do not.
 *
 * Reply formats follow Redis 7.0: scores are doubles ("%.17g") in both
 * protocols (bulk strings in RESP2); ZRANGE ... WITHSCORES, ZPOPMIN with a
 * count, ZRANDMEMBER ... WITHSCORES and ZUNION ... WITHSCORES nest
 * (member, score) pairs in RESP3; ZRANK ... WITHSCORE is 7.2's.
 *
 * Threads: handlers run on the client's worker; blocked-client serve
 * callbacks run on whichever worker writes the key, under its shard lock and
 * the registry lock, and take no other lock.
 *
 * References: Redis 7.0 src/t_zset.c, src/blocked.c; redis.io/commands.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/t_zset.h"
#include "engine/util.h"
#include "server/blocking.h"
#include "server/client.h"
#include "server/keyargs.h"
#include "server/cmd.h"
#include "server/cmd_zset.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/stats.h"
#include "server/worker.h"

#define RERR_NAN_SCORE "ERR resulting score is not a number (NaN)"
#define RERR_MINMAX_FLOAT "ERR min or max is not a float"
#define RERR_MINMAX_LEX "ERR min or max not valid string range item"

/* ------------------------------------------------------------------------ */
/* Shared helpers (cmd_zset.h)                                              */
/* ------------------------------------------------------------------------ */

/* Inserts a new zset entry for k (absent) holding zs (taken). */
int zc_insert_new(struct keyspace *ks, int db, const struct ks_key *k, void *zs)
{
    struct entry *e = entry_create(k->p, (uint32_t)k->len, OBJ_ZSET, ENC_PTR, sizeof(void *), -1);

    if (!e) {
        zset_destroy(zs);
        return ST_ENOMEM;
    }
    entry_set_ptr(e, zs);
    if (ks_insert(ks, db, k, e) != ST_OK) {
        entry_destroy(e);
        return ST_ENOMEM;
    }
    return ST_OK;
}

int zc_store(struct client *c, const struct ks_key *k, void *zs)
{
    struct keyspace *ks = c->srv->ks;
    struct entry **ref = keyargs_write(c, k);
    struct entry *e = entry_create(k->p, (uint32_t)k->len, OBJ_ZSET, ENC_PTR, sizeof(void *), -1);

    if (!e) {
        zset_destroy(zs);
        return ST_ENOMEM;
    }
    entry_set_ptr(e, zs);
    if (ref) {
        ks_swap(ks, c->db, k, ref, e);
    } else if (ks_insert(ks, c->db, k, e) != ST_OK) {
        entry_destroy(e);
        return ST_ENOMEM;
    }
    ks_touch_write(ks, k);
    blk_signal(c->srv->blk, ks, c->db, k);
    return ST_OK;
}

int zc_delete(struct client *c, const struct ks_key *k)
{
    struct entry **ref = keyargs_write(c, k);

    if (!ref)
        return 0;
    ks_delete_ref(c->srv->ks, c->db, k, ref);
    return 1;
}

void zc_reply_elem(struct client *c, const struct zset_elem *e, int withscores)
{
    if (withscores && c->resp > 2)
        reply_array(c, 2);
    reply_bulk(c, e->m, e->len);
    if (withscores)
        reply_double(c, e->score);
}

int zc_arg_long(struct client *c, int i, long long *out, const char *msg)
{
    if (util_str2ll(c->argv[i].p, c->argv[i].len, out) != ST_OK) {
        if (msg)
            reply_error(c, msg);
        else
            reply_err_notint(c);
        return -1;
    }
    return 0;
}

/* Helpers shared with cmd_zsetpop.c (cmd_zset.h). */

void zc_key(struct client *c, int i, struct ks_key *k)
{
    ks_key_init(c->srv->ks, k, c->argv[i].p, c->argv[i].len);
}

int zc_eq(const struct arg *a, const char *lit)
{
    return util_eqi(a->p, a->len, lit);
}

/* The zset of the entry at ref, or NULL after replying WRONGTYPE. */
void *zc_obj(struct client *c, struct entry **ref)
{
    if ((*ref)->type != OBJ_ZSET) {
        reply_err_wrongtype(c);
        return NULL;
    }
    return entry_ptr(*ref);
}

/* After a change of the set at ref: stores the (possibly moved) object, or
 * deletes the key when it is empty (invariant 3). */
void zc_commit(struct client *c, const struct ks_key *k, struct entry **ref, void *zs)
{
    entry_set_ptr(*ref, zs); /* first: deleting the entry frees its object */
    if (zset_len(zs) == 0)
        ks_delete_ref(c->srv->ks, c->db, k, ref);
}

/* Redis's getRangeLongFromObjectOrReply(min..LONG_MAX, msg). */
int zc_arg_range(struct client *c, int i, long long min, long long *out, const char *msg)
{
    if (zc_arg_long(c, i, out, msg) != 0)
        return -1;
    if (*out < min) {
        reply_error(c, msg);
        return -1;
    }
    return 0;
}

/* Parses argv[i] and argv[j] as a score range; replies the error. */
static int zc_arg_srange(struct client *c, int i, int j, struct zset_srange *r)
{
    if (zset_parse_score_bound(c->argv[i].p, c->argv[i].len, &r->min, &r->minex) != ST_OK ||
        zset_parse_score_bound(c->argv[j].p, c->argv[j].len, &r->max, &r->maxex) != ST_OK) {
        reply_error(c, RERR_MINMAX_FLOAT);
        return -1;
    }
    return 0;
}

static int zc_arg_lrange(struct client *c, int i, int j, struct zset_lrange *r)
{
    if (zset_parse_lex_bound(c->argv[i].p, c->argv[i].len, &r->min, &r->minlen, &r->minex, &r->mininf) != ST_OK ||
        zset_parse_lex_bound(c->argv[j].p, c->argv[j].len, &r->max, &r->maxlen, &r->maxex, &r->maxinf) != ST_OK) {
        reply_error(c, RERR_MINMAX_LEX);
        return -1;
    }
    return 0;
}

/* Redis's rank normalisation (negative from the end, clamped). Returns 0
 * and [*s, *e] (0-based, inclusive, *e < len), or -1 when empty. */
static int zc_rank_range(long long start, long long end, uint64_t len, uint64_t *s, uint64_t *e)
{
    long long llen = (long long)len;

    if (start < 0)
        start += llen;
    if (end < 0)
        end += llen;
    if (start < 0)
        start = 0;
    if (start > end || start >= llen)
        return -1;
    if (end >= llen)
        end = llen - 1;
    *s = (uint64_t)start;
    *e = (uint64_t)end;
    return 0;
}

static void zc_limits(struct client *c, struct type_limits *lim)
{
    server_type_limits(c->srv, lim);
}

/* ------------------------------------------------------------------------ */
/* ZADD ZINCRBY ZREM                                                        */
/* ------------------------------------------------------------------------ */

/* ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
 * and ZINCRBY key increment member (in_flags = ZSET_IN_INCR). */
static void zadd_generic(struct client *c, int in_flags)
{
    struct keyspace *ks = c->srv->ks;
    struct type_limits lim;
    int scoreidx = 2, ch = 0, elements;
    int added = 0, updated = 0, processed = 0;
    double newscore = 0, *scores = NULL, sstack[16];
    struct ks_key k;
    struct entry **ref;
    void *zs;
    int isnew = 0;

    for (; scoreidx < c->argc; scoreidx++) {
        const struct arg *a = &c->argv[scoreidx];

        if (zc_eq(a, "nx"))
            in_flags |= ZSET_IN_NX;
        else if (zc_eq(a, "xx"))
            in_flags |= ZSET_IN_XX;
        else if (zc_eq(a, "ch"))
            ch = 1;
        else if (zc_eq(a, "incr"))
            in_flags |= ZSET_IN_INCR;
        else if (zc_eq(a, "gt"))
            in_flags |= ZSET_IN_GT;
        else if (zc_eq(a, "lt"))
            in_flags |= ZSET_IN_LT;
        else
            break;
    }
    int incr = (in_flags & ZSET_IN_INCR) != 0, nx = (in_flags & ZSET_IN_NX) != 0;
    int xx = (in_flags & ZSET_IN_XX) != 0, gt = (in_flags & ZSET_IN_GT) != 0, lt = (in_flags & ZSET_IN_LT) != 0;

    elements = c->argc - scoreidx;
    if (elements % 2 || elements == 0) {
        reply_err_syntax(c);
        return;
    }
    elements /= 2;
    if (nx && xx) {
        reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        reply_error(c, "ERR INCR option supports a single increment-element pair");
        return;
    }
    scores = elements <= 16 ? sstack : malloc((size_t)elements * sizeof(double));
    if (!scores) {
        reply_err_nomem(c);
        return;
    }
    size_t maxelelen = 0;
    for (int j = 0; j < elements; j++) {
        const struct arg *s = &c->argv[scoreidx + 2 * j];

        if (util_str2d(s->p, s->len, &scores[j]) != ST_OK) {
            reply_err_notfloat(c);
            goto out;
        }
        if (c->argv[scoreidx + 2 * j + 1].len > maxelelen)
            maxelelen = c->argv[scoreidx + 2 * j + 1].len;
    }

    zc_limits(c, &lim);
    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (ref) {
        if (!(zs = zc_obj(c, ref)))
            goto unlock;
    } else {
        if (xx)
            goto reply;
        /* Redis 7.2's zsetTypeCreate(elements, maxelelen) */
        zs = zset_create((uint64_t)elements, maxelelen, &lim);
        if (!zs) {
            reply_err_nomem(c);
            goto unlock;
        }
        isnew = 1;
    }
    for (int j = 0; j < elements; j++) {
        const struct arg *m = &c->argv[scoreidx + 2 * j + 1];
        int out = 0;
        int rc = zset_add(&zs, &lim, scores[j], m->p, m->len, in_flags, &out, &newscore);

        if (rc != ST_OK) {
            /* members added before the failure stay, as in Redis */
            if (rc == ST_EINVAL)
                reply_error(c, RERR_NAN_SCORE);
            else
                reply_err_nomem(c);
            processed = -1;
            break;
        }
        if (out & ZSET_OUT_ADDED)
            added++;
        if (out & ZSET_OUT_UPDATED)
            updated++;
        if (!(out & ZSET_OUT_NOP))
            processed++;
    }
    if (isnew) {
        if (zset_len(zs) == 0)
            zset_destroy(zs);
        else if (zc_insert_new(ks, c->db, &k, zs) != ST_OK) {
            if (processed >= 0)
                reply_err_nomem(c);
            goto unlock;
        }
    } else {
        entry_set_ptr(*ref, zs);
    }
    if (added || updated) {
        ks_touch_write(ks, &k);
        if (added)
            blk_signal(c->srv->blk, ks, c->db, &k);
    }
    if (processed < 0)
        goto unlock;
reply:
    if (incr) {
        if (processed > 0)
            reply_double(c, newscore);
        else
            reply_null(c);
    } else {
        reply_int(c, ch ? added + updated : added);
    }
unlock:
    ks_unlock(ks, k.shard);
out:
    if (scores != sstack)
        free(scores);
}

static void zadd_cmd(struct client *c)
{
    zadd_generic(c, 0);
}

static void zincrby_cmd(struct client *c)
{
    zadd_generic(c, ZSET_IN_INCR);
}

/* ZREM key member [member ...] */
static void zrem_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;
    long long deleted = 0;
    void *zs;

    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (!ref) {
        reply_int(c, 0);
        goto unlock;
    }
    if (!(zs = zc_obj(c, ref)))
        goto unlock;
    for (int j = 2; j < c->argc; j++) {
        deleted += zset_del(&zs, c->argv[j].p, c->argv[j].len);
        if (zset_len(zs) == 0)
            break;
    }
    zc_commit(c, &k, ref, zs);
    if (deleted)
        ks_touch_write(ks, &k);
    reply_int(c, deleted);
unlock:
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT ZRANK ZREVRANK                      */
/* ------------------------------------------------------------------------ */

/* ZSCORE key member */
static void zscore_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;
    void *zs;
    double s;

    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref)
        reply_null(c);
    else if ((zs = zc_obj(c, ref)) != NULL) {
        if (zset_score(zs, c->argv[2].p, c->argv[2].len, &s) == ST_OK)
            reply_double(c, s);
        else
            reply_null(c);
    }
    ks_unlock(ks, k.shard);
}

/* ZMSCORE key member [member ...] */
static void zmscore_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;
    void *zs = NULL;
    double s;

    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (ref && !(zs = zc_obj(c, ref)))
        goto unlock;
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        if (zs && zset_score(zs, c->argv[j].p, c->argv[j].len, &s) == ST_OK)
            reply_double(c, s);
        else
            reply_null(c);
    }
unlock:
    ks_unlock(ks, k.shard);
}

/* ZCARD key */
static void zcard_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;
    void *zs;

    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref)
        reply_int(c, 0);
    else if ((zs = zc_obj(c, ref)) != NULL)
        reply_int(c, (long long)zset_len(zs));
    ks_unlock(ks, k.shard);
}

/* ZCOUNT key min max / ZLEXCOUNT key min max */
static void zcount_generic(struct client *c, int bylex)
{
    struct keyspace *ks = c->srv->ks;
    struct zset_srange sr;
    struct zset_lrange lr;
    struct ks_key k;
    struct entry **ref;
    void *zs;

    if (bylex ? zc_arg_lrange(c, 2, 3, &lr) : zc_arg_srange(c, 2, 3, &sr))
        return;
    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref)
        reply_int(c, 0);
    else if ((zs = zc_obj(c, ref)) != NULL)
        reply_int(c, (long long)(bylex ? zset_count_lex(zs, &lr) : zset_count_score(zs, &sr)));
    ks_unlock(ks, k.shard);
}

static void zcount_cmd(struct client *c)
{
    zcount_generic(c, 0);
}

static void zlexcount_cmd(struct client *c)
{
    zcount_generic(c, 1);
}

/* ZRANK / ZREVRANK key member [WITHSCORE] (WITHSCORE: Redis 7.2) */
static void zrank_generic(struct client *c, int rev)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;
    int withscore = 0;
    double s = 0;
    void *zs;

    if (c->argc > 4) {
        reply_err_args(c);
        return;
    }
    if (c->argc == 4) {
        if (!zc_eq(&c->argv[3], "withscore")) {
            reply_err_syntax(c);
            return;
        }
        withscore = 1;
    }
    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        if (withscore)
            reply_null_array(c);
        else
            reply_null(c);
    } else if ((zs = zc_obj(c, ref)) != NULL) {
        int64_t rank = zset_rank(zs, c->argv[2].p, c->argv[2].len, rev, &s);

        if (rank < 0) {
            if (withscore)
                reply_null_array(c);
            else
                reply_null(c);
        } else if (withscore) {
            reply_array(c, 2);
            reply_int(c, rank);
            reply_double(c, s);
        } else {
            reply_int(c, rank);
        }
    }
    ks_unlock(ks, k.shard);
}

static void zrank_cmd(struct client *c)
{
    zrank_generic(c, 0);
}

static void zrevrank_cmd(struct client *c)
{
    zrank_generic(c, 1);
}

/* ------------------------------------------------------------------------ */
/* The ZRANGE family                                                        */
/* ------------------------------------------------------------------------ */

enum zr_type { ZR_AUTO = 0, ZR_RANK, ZR_SCORE, ZR_LEX };
enum zr_dir { ZD_AUTO = 0, ZD_FWD, ZD_REV };

/* Where range results go: the client, or a set being built (ZRANGESTORE). */
struct zr_out {
    struct client *c;
    int withscores;
    int store;
    void *dst;
    struct type_limits lim;
    int oom;
    int deferred;
    size_t mark;
    long n;
};

static void zr_begin(struct zr_out *o, long len)
{
    if (o->store) {
        o->dst = zset_create(len >= 0 ? (uint64_t)len : 0, 0, &o->lim);
        o->oom = o->dst == NULL;
        return;
    }
    if (len >= 0) {
        reply_array(o->c, zc_reply_len(o->c, len, o->withscores));
    } else {
        o->deferred = 1;
        o->mark = reply_defer(o->c);
    }
}

static void zr_emit(struct zr_out *o, const struct zset_elem *e)
{
    o->n++;
    if (!o->store) {
        zc_reply_elem(o->c, e, o->withscores);
        return;
    }
    if (o->oom)
        return;
    int out;
    if (zset_add(&o->dst, &o->lim, e->score, e->m, e->len, 0, &out, NULL) != ST_OK)
        o->oom = 1;
}

/* Finishes the reply, or stores the built set into dst (ZRANGESTORE). */
static void zr_end(struct zr_out *o, const struct ks_key *dst)
{
    struct client *c = o->c;

    if (!o->store) {
        if (o->deferred)
            reply_defer_set(c, o->mark, '*', zc_reply_len(c, o->n, o->withscores));
        return;
    }
    if (o->oom) {
        zset_destroy(o->dst);
        reply_err_nomem(c);
        return;
    }
    if (o->n > 0) {
        if (zc_store(c, dst, o->dst) != ST_OK) {
            reply_err_nomem(c);
            return;
        }
        reply_int(c, o->n);
        return;
    }
    zset_destroy(o->dst);
    if (zc_delete(c, dst))
        ks_touch_write(c->srv->ks, dst);
    reply_int(c, 0);
}

static void zr_by_rank(struct zr_out *o, void *zs, long long start, long long end, int rev)
{
    struct zset_it it;
    struct zset_elem e;
    uint64_t s, l;

    if (zc_rank_range(start, end, zset_len(zs), &s, &l) != 0) {
        zr_begin(o, 0);
        return;
    }
    zr_begin(o, (long)(l - s + 1));
    zset_it_rank(&it, zs, s, rev);
    for (uint64_t i = s; i <= l && zset_it_next(&it, &e); i++)
        zr_emit(o, &e);
}

static void zr_by_score(struct zr_out *o, void *zs, const struct zset_srange *r, long long offset, long long limit,
                        int rev)
{
    struct zset_it it;
    struct zset_elem e;

    zr_begin(o, -1);
    /* a negative offset skips everything (Redis decrements it to the end) */
    if (offset < 0 || (offset > 0 && (uint64_t)offset >= zset_len(zs)))
        return;
    zset_it_score(&it, zs, r, rev);
    zset_it_skip(&it, (uint64_t)offset);
    while (limit != 0 && zset_it_next(&it, &e)) {
        if (rev ? !zset_score_gte_min(e.score, r) : !zset_score_lte_max(e.score, r))
            break;
        zr_emit(o, &e);
        if (limit > 0)
            limit--;
    }
}

static void zr_by_lex(struct zr_out *o, void *zs, const struct zset_lrange *r, long long offset, long long limit,
                      int rev)
{
    struct zset_it it;
    struct zset_elem e;

    zr_begin(o, -1);
    if (offset < 0)
        return;
    zset_it_lex(&it, zs, r, rev);
    zset_it_skip(&it, (uint64_t)offset);
    while (limit != 0 && zset_it_next(&it, &e)) {
        if (rev ? !zset_lex_gte_min(e.m, e.len, r) : !zset_lex_lte_max(e.m, e.len, r))
            break;
        zr_emit(o, &e);
        if (limit > 0)
            limit--;
    }
}

/* Redis's zrangeGenericCommand: argv[argc_start] is the source key, then
 * min max and options. store: ZRANGESTORE (argv[1] is the destination). */
static void zrange_generic(struct client *c, int argc_start, int store, enum zr_type type, enum zr_dir dir)
{
    struct keyspace *ks = c->srv->ks;
    int minidx = argc_start + 1, maxidx = argc_start + 2;
    long long start = 0, end = 0, offset = 0, limit = -1;
    int withscores = 0;
    struct zset_srange sr;
    struct zset_lrange lr;
    struct ks_key keys[2], *src, *dst = NULL;
    struct entry **ref;
    struct zr_out o;
    void *zs;

    for (int j = argc_start + 3; j < c->argc; j++) {
        const struct arg *a = &c->argv[j];
        int left = c->argc - j - 1;

        if (!store && zc_eq(a, "withscores")) {
            withscores = 1;
        } else if (zc_eq(a, "limit") && left >= 2) {
            if (zc_arg_long(c, j + 1, &offset, NULL) || zc_arg_long(c, j + 2, &limit, NULL))
                return;
            j += 2;
        } else if (dir == ZD_AUTO && zc_eq(a, "rev")) {
            dir = ZD_REV;
        } else if (type == ZR_AUTO && zc_eq(a, "bylex")) {
            type = ZR_LEX;
        } else if (type == ZR_AUTO && zc_eq(a, "byscore")) {
            type = ZR_SCORE;
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    if (dir == ZD_AUTO)
        dir = ZD_FWD;
    if (type == ZR_AUTO)
        type = ZR_RANK;
    if (limit != -1 && type == ZR_RANK) {
        reply_error(c, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return;
    }
    if (withscores && type == ZR_LEX) {
        reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    if (dir == ZD_REV && type != ZR_RANK) {
        int t = maxidx;
        maxidx = minidx;
        minidx = t;
    }
    switch (type) {
    case ZR_SCORE:
        if (zc_arg_srange(c, minidx, maxidx, &sr))
            return;
        break;
    case ZR_LEX:
        if (zc_arg_lrange(c, minidx, maxidx, &lr))
            return;
        break;
    default:
        if (zc_arg_long(c, minidx, &start, NULL) || zc_arg_long(c, maxidx, &end, NULL))
            return;
        break;
    }

    memset(&o, 0, sizeof(o));
    o.c = c;
    o.withscores = withscores || store;
    o.store = store;
    if (store)
        zc_limits(c, &o.lim);
    src = &keys[0];
    zc_key(c, argc_start, src);
    if (store) {
        dst = &keys[1];
        zc_key(c, 1, dst);
    }
    ks_lock_keys(ks, keys, store ? 2 : 1);
    ref = keyargs_read(c, src);
    if (!ref) {
        if (store) {
            zr_begin(&o, -1);
            zr_end(&o, dst);
        } else {
            reply_array(c, 0);
        }
        goto unlock;
    }
    if (!(zs = zc_obj(c, ref)))
        goto unlock;
    if (type == ZR_RANK)
        zr_by_rank(&o, zs, start, end, dir == ZD_REV);
    else if (type == ZR_SCORE)
        zr_by_score(&o, zs, &sr, offset, limit, dir == ZD_REV);
    else
        zr_by_lex(&o, zs, &lr, offset, limit, dir == ZD_REV);
    zr_end(&o, dst);
unlock:
    ks_unlock_keys(ks, keys, store ? 2 : 1);
}

static void zrange_cmd(struct client *c)
{
    zrange_generic(c, 1, 0, ZR_AUTO, ZD_AUTO);
}

static void zrangestore_cmd(struct client *c)
{
    zrange_generic(c, 2, 1, ZR_AUTO, ZD_AUTO);
}

static void zrevrange_cmd(struct client *c)
{
    zrange_generic(c, 1, 0, ZR_RANK, ZD_REV);
}

static void zrangebyscore_cmd(struct client *c)
{
    zrange_generic(c, 1, 0, ZR_SCORE, ZD_FWD);
}

static void zrevrangebyscore_cmd(struct client *c)
{
    zrange_generic(c, 1, 0, ZR_SCORE, ZD_REV);
}

static void zrangebylex_cmd(struct client *c)
{
    zrange_generic(c, 1, 0, ZR_LEX, ZD_FWD);
}

static void zrevrangebylex_cmd(struct client *c)
{
    zrange_generic(c, 1, 0, ZR_LEX, ZD_REV);
}

/* ------------------------------------------------------------------------ */
/* ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX                          */
/* ------------------------------------------------------------------------ */

static void zremrange_generic(struct client *c, enum zr_type type)
{
    struct keyspace *ks = c->srv->ks;
    long long start = 0, end = 0;
    struct zset_srange sr;
    struct zset_lrange lr;
    struct ks_key k;
    struct entry **ref;
    uint64_t deleted = 0;
    void *zs;

    if (type == ZR_RANK) {
        if (zc_arg_long(c, 2, &start, NULL) || zc_arg_long(c, 3, &end, NULL))
            return;
    } else if (type == ZR_SCORE ? zc_arg_srange(c, 2, 3, &sr) : zc_arg_lrange(c, 2, 3, &lr)) {
        return;
    }
    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (!ref) {
        reply_int(c, 0);
        goto unlock;
    }
    if (!(zs = zc_obj(c, ref)))
        goto unlock;
    if (type == ZR_RANK) {
        uint64_t s, e;

        if (zc_rank_range(start, end, zset_len(zs), &s, &e) == 0)
            deleted = zset_del_rank(&zs, s, e);
    } else if (type == ZR_SCORE) {
        deleted = zset_del_score(&zs, &sr);
    } else {
        deleted = zset_del_lex(&zs, &lr);
    }
    zc_commit(c, &k, ref, zs);
    if (deleted)
        ks_touch_write(ks, &k);
    reply_int(c, (long long)deleted);
unlock:
    ks_unlock(ks, k.shard);
}

static void zremrangebyrank_cmd(struct client *c)
{
    zremrange_generic(c, ZR_RANK);
}

static void zremrangebyscore_cmd(struct client *c)
{
    zremrange_generic(c, ZR_SCORE);
}

static void zremrangebylex_cmd(struct client *c)
{
    zremrange_generic(c, ZR_LEX);
}

/* ------------------------------------------------------------------------ */
/* ZRANDMEMBER                                                              */
/* ------------------------------------------------------------------------ */

/* True when a long reply should stop: the client is being closed, or its
 * output passed the hard limit (which closes it after the command). */
static int zc_reply_overflow(struct client *c)
{
    long long hard = cfg_load(c->srv->cfg.obuf_hard);

    if (c->flags & CLIENT_CLOSE_ASAP)
        return 1;
    return hard > 0 && c->olen - c->osent > (size_t)hard;
}

/* Picks count distinct indexes of [0, size) (count < size) in random order
 * (Floyd's algorithm, then a shuffle). Returns an owned array or NULL. */
static uint64_t *zc_sample(struct util_rng *rng, uint64_t size, uint64_t count)
{
    uint64_t cap = 16, *set, *out;
    size_t n = 0;

    while (cap < 2 * count)
        cap <<= 1;
    set = malloc(cap * sizeof(*set));
    out = malloc(count * sizeof(*out));
    if (!set || !out) {
        free(set);
        free(out);
        return NULL;
    }
    memset(set, 0xFF, cap * sizeof(*set)); /* UINT64_MAX = empty */
    for (uint64_t j = size - count; j < size; j++) {
        uint64_t t = util_rng_next(rng) % (j + 1), pick = t;

        for (int pass = 0; pass < 2; pass++) {
            uint64_t h = (pick * 0x9E3779B97F4A7C15ull) & (cap - 1);

            while (set[h] != UINT64_MAX && set[h] != pick)
                h = (h + 1) & (cap - 1);
            if (set[h] == UINT64_MAX) {
                set[h] = pick;
                out[n++] = pick;
                break;
            }
            pick = j; /* t was taken: j never was */
        }
    }
    free(set);
    for (size_t i = n; i > 1; i--) {
        size_t r = (size_t)(util_rng_next(rng) % i);
        uint64_t t = out[i - 1];

        out[i - 1] = out[r];
        out[r] = t;
    }
    return out;
}

static void zrandmember_count(struct client *c, long long l, int withscores)
{
    struct keyspace *ks = c->srv->ks;
    struct util_rng *rng = &c->w->rng;
    struct ks_key k;
    struct entry **ref;
    uint64_t count, size;
    int uniq = l >= 0;
    struct zset_elem e;
    void *zs;

    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_array(c, 0);
        goto unlock;
    }
    if (!(zs = zc_obj(c, ref)))
        goto unlock;
    size = zset_len(zs);
    count = l >= 0 ? (uint64_t)l : 0 - (uint64_t)l;
    if (count == 0) {
        reply_array(c, 0);
        goto unlock;
    }
    if (!uniq || count == 1) {
        /* with repetition */
        reply_array(c, zc_reply_len(c, (long)count, withscores));
        for (uint64_t i = 0; i < count; i++) {
            zset_random(zs, rng, &e);
            zc_reply_elem(c, &e, withscores);
            if ((i & 1023) == 1023 && zc_reply_overflow(c))
                break;
        }
        goto unlock;
    }
    if (count >= size) {
        /* the whole set, from the highest score as Redis 7.0 iterates */
        struct zset_it it;

        reply_array(c, zc_reply_len(c, (long)size, withscores));
        zset_it_rank(&it, zs, 0, 1);
        while (zset_it_next(&it, &e))
            zc_reply_elem(c, &e, withscores);
        goto unlock;
    }
    uint64_t *idx = zc_sample(rng, size, count);
    struct zset_elem *all = NULL;

    if (!idx) {
        reply_err_nomem(c);
        goto unlock;
    }
    if (zset_is_lp(zs)) {
        /* a listpack is reached by walking: take every element once */
        struct zset_it it;
        size_t i = 0;

        all = malloc(size * sizeof(*all));
        if (!all) {
            free(idx);
            reply_err_nomem(c);
            goto unlock;
        }
        /* (an int member points into its own element's buf: stable) */
        zset_it_rank(&it, zs, 0, 0);
        while (i < size && zset_it_next(&it, &all[i]))
            i++;
    }
    reply_array(c, zc_reply_len(c, (long)count, withscores));
    for (uint64_t i = 0; i < count; i++) {
        if (all) {
            zc_reply_elem(c, &all[idx[i]], withscores);
        } else {
            (void)zset_at(zs, idx[i], &e);
            zc_reply_elem(c, &e, withscores);
        }
    }
    free(all);
    free(idx);
unlock:
    ks_unlock(ks, k.shard);
}

/* ZRANDMEMBER key [count [WITHSCORES]] */
static void zrandmember_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;
    struct zset_elem e;
    void *zs;

    if (c->argc >= 3) {
        long long l;
        int withscores = 0;

        if (zc_arg_long(c, 2, &l, NULL))
            return;
        if (c->argc > 4 || (c->argc == 4 && !zc_eq(&c->argv[3], "withscores"))) {
            reply_err_syntax(c);
            return;
        }
        if (c->argc == 4) {
            withscores = 1;
            if (l < LLONG_MIN / 2 || l > LLONG_MAX / 2) {
                reply_error(c, "ERR value is out of range");
                return;
            }
        }
        zrandmember_count(c, l, withscores);
        return;
    }
    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_null(c);
    } else if ((zs = zc_obj(c, ref)) != NULL) {
        zset_random(zs, &c->w->rng, &e);
        reply_bulk(c, e.m, e.len);
    }
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* ZSCAN                                                                    */
/* ------------------------------------------------------------------------ */

/* Redis's parseScanCursorOrReply: strtoul's syntax (so "-1" wraps, "" is
 * 0), no leading blank. */
static int zc_parse_cursor(const struct arg *a, uint64_t *out)
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

/* Collected (member, score) pairs, copied: the reply is written after the
 * scan, from one buffer. */
struct zscan_acc {
    const struct arg *pat;
    char *buf;
    size_t len, cap;
    uint64_t n;
    int oom;
};

static void zscan_collect(const unsigned char *m, size_t len, double score, void *ud)
{
    struct zscan_acc *a = ud;
    size_t need;

    if (a->oom)
        return;
    if (a->pat && !util_glob_match(a->pat->p, a->pat->len, (const char *)m, len, 0))
        return;
    need = a->len + sizeof(size_t) + sizeof(double) + len;
    if (need > a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 1024;
        char *nb;

        while (ncap < need)
            ncap *= 2;
        nb = realloc(a->buf, ncap);
        if (!nb) {
            a->oom = 1;
            return;
        }
        a->buf = nb;
        a->cap = ncap;
    }
    memcpy(a->buf + a->len, &len, sizeof(size_t));
    memcpy(a->buf + a->len + sizeof(size_t), &score, sizeof(double));
    memcpy(a->buf + a->len + sizeof(size_t) + sizeof(double), m, len);
    a->len = need;
    a->n++;
}

/* ZSCAN key cursor [MATCH pattern] [COUNT count] */
static void zscan_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct zscan_acc acc = { 0 };
    long long count = 10;
    uint64_t cursor;
    struct ks_key k;
    struct entry **ref;
    char cbuf[UTIL_LLSTR_SIZE];
    void *zs;
    int lp;

    if (zc_parse_cursor(&c->argv[2], &cursor) != 0) {
        reply_error(c, "ERR invalid cursor");
        return;
    }
    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_array(c, 2);
        reply_bulk(c, "0", 1);
        reply_array(c, 0);
        goto unlock;
    }
    if (!(zs = zc_obj(c, ref)))
        goto unlock;
    for (int i = 3; i < c->argc; i += 2) {
        const struct arg *a = &c->argv[i];
        int more = c->argc - i >= 2;

        if (more && zc_eq(a, "count")) {
            if (zc_arg_long(c, i + 1, &count, NULL))
                goto unlock;
            if (count < 1) {
                reply_err_syntax(c);
                goto unlock;
            }
        } else if (more && zc_eq(a, "match")) {
            const struct arg *p = &c->argv[i + 1];
            acc.pat = (p->len == 1 && p->p[0] == '*') ? NULL : p;
        } else {
            reply_err_syntax(c);
            goto unlock;
        }
    }
    lp = zset_is_lp(zs);
    if (lp) {
        cursor = zset_scan(zs, cursor, zscan_collect, &acc);
    } else {
        /* as Redis: up to count*10 bucket visits while fewer than count */
        long long maxiter = count * 10;

        do {
            cursor = zset_scan(zs, cursor, zscan_collect, &acc);
        } while (cursor && maxiter-- && acc.n < (uint64_t)count && !acc.oom);
    }
    if (acc.oom) {
        reply_err_nomem(c);
        goto unlock;
    }
    reply_array(c, 2);
    reply_bulk(c, cbuf, (size_t)snprintf(cbuf, sizeof(cbuf), "%llu", (unsigned long long)cursor));
    reply_array(c, (long)(2 * acc.n));
    for (size_t off = 0; off < acc.len;) {
        size_t len;
        double score;
        char sbuf[128];

        memcpy(&len, acc.buf + off, sizeof(size_t));
        memcpy(&score, acc.buf + off + sizeof(size_t), sizeof(double));
        reply_bulk(c, acc.buf + off + sizeof(size_t) + sizeof(double), len);
        /* a listpack shows its stored text, a skiplist "%.17g" (as 7.0) */
        reply_bulk(c, sbuf, (size_t)(lp ? zset_score_text(sbuf, sizeof(sbuf), score)
                                        : util_d2str(sbuf, sizeof(sbuf), score)));
        off += sizeof(size_t) + sizeof(double) + len;
    }
unlock:
    ks_unlock(ks, k.shard);
    free(acc.buf);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

#define W_OOM (CMD_WRITE | CMD_DENYOOM)
#define W_OOM_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define W_FAST (CMD_WRITE | CMD_FAST)
#define R_FAST (CMD_READONLY | CMD_FAST)

#define C_LOGN "O(log(N))"
#define C_RANGE_LOGN_M "O(log(N)+M) with N being the number of elements in the sorted set and M the number of " \
                       "elements being returned."
#define C_REMRANGE "O(log(N)+M) with N being the number of elements in the sorted set and M the number of " \
                   "elements removed by the operation."
#define C_POP "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of " \
              "elements popped."
#define C_MPOP "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in " \
               "the sorted set, and M being the number of elements popped."
#define C_INTER "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number " \
                "of input sorted sets and M being the number of elements in the resulting sorted set."
#define C_UNION "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the " \
                "number of elements in the resulting sorted set."
#define C_DIFF "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is " \
               "the size of the first set, and K is the size of the result set."
#define SYN_OPS_STORE "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]"
#define SYN_OPS "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]"

/* name, proc, arity, flags, first, last, step, group, summary, since,
 * complexity, syntax: as Redis 7.0's COMMAND INFO / COMMAND DOCS (ZRANK and
 * ZREVRANK take 7.2's WITHSCORE, hence arity -3). */
const struct cmd_def cmds_zset[] = {
    { "zadd", zadd_cmd, -4, W_OOM_FAST, 1, 1, 1, "sorted_set",
      "Add one or more members to a sorted set, or update its score if it already exists", "1.2.0",
      "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
      "key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]", NULL },
    { "zincrby", zincrby_cmd, 4, W_OOM_FAST, 1, 1, 1, "sorted_set",
      "Increment the score of a member in a sorted set", "1.2.0", C_LOGN, "key increment member", NULL },
    { "zrem", zrem_cmd, -3, W_FAST, 1, 1, 1, "sorted_set", "Remove one or more members from a sorted set",
      "1.2.0", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements "
      "to be removed.", "key member [member ...]", NULL },
    { "zscore", zscore_cmd, 3, R_FAST, 1, 1, 1, "sorted_set",
      "Get the score associated with the given member in a sorted set", "1.2.0", "O(1)", "key member", NULL },
    { "zmscore", zmscore_cmd, -3, R_FAST, 1, 1, 1, "sorted_set",
      "Get the score associated with the given members in a sorted set", "6.2.0",
      "O(N) where N is the number of members being requested.", "key member [member ...]", NULL },
    { "zcard", zcard_cmd, 2, R_FAST, 1, 1, 1, "sorted_set", "Get the number of members in a sorted set",
      "1.2.0", "O(1)", "key", NULL },
    { "zcount", zcount_cmd, 4, R_FAST, 1, 1, 1, "sorted_set",
      "Count the members in a sorted set with scores within the given values", "2.0.0",
      "O(log(N)) with N being the number of elements in the sorted set.", "key min max", NULL },
    { "zlexcount", zlexcount_cmd, 4, R_FAST, 1, 1, 1, "sorted_set",
      "Count the number of members in a sorted set between a given lexicographical range", "2.8.9",
      "O(log(N)) with N being the number of elements in the sorted set.", "key min max", NULL },
    { "zrange", zrange_cmd, -4, CMD_READONLY, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set", "1.2.0", C_RANGE_LOGN_M,
      "key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]", NULL },
    { "zrangestore", zrangestore_cmd, -5, W_OOM, 1, 2, 1, "sorted_set",
      "Store a range of members from sorted set into another key", "6.2.0",
      "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored "
      "into the destination key.",
      "dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]", NULL },
    { "zrevrange", zrevrange_cmd, -4, CMD_READONLY, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set, by index, with scores ordered from high to low", "1.2.0",
      C_RANGE_LOGN_M, "key start stop [WITHSCORES]", NULL },
    { "zrangebyscore", zrangebyscore_cmd, -4, CMD_READONLY, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set, by score", "1.0.5", C_RANGE_LOGN_M,
      "key min max [WITHSCORES] [LIMIT offset count]", NULL },
    { "zrevrangebyscore", zrevrangebyscore_cmd, -4, CMD_READONLY, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set, by score, with scores ordered from high to low", "2.2.0",
      C_RANGE_LOGN_M, "key max min [WITHSCORES] [LIMIT offset count]", NULL },
    { "zrangebylex", zrangebylex_cmd, -4, CMD_READONLY, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set, by lexicographical range", "2.8.9", C_RANGE_LOGN_M,
      "key min max [LIMIT offset count]", NULL },
    { "zrevrangebylex", zrevrangebylex_cmd, -4, CMD_READONLY, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower "
      "strings.", "2.8.9", C_RANGE_LOGN_M, "key max min [LIMIT offset count]", NULL },
    { "zrank", zrank_cmd, -3, R_FAST, 1, 1, 1, "sorted_set", "Determine the index of a member in a sorted set",
      "2.0.0", C_LOGN, "key member [WITHSCORE]", NULL },
    { "zrevrank", zrevrank_cmd, -3, R_FAST, 1, 1, 1, "sorted_set",
      "Determine the index of a member in a sorted set, with scores ordered from high to low", "2.0.0", C_LOGN,
      "key member [WITHSCORE]", NULL },
    { "zremrangebyrank", zremrangebyrank_cmd, 4, CMD_WRITE, 1, 1, 1, "sorted_set",
      "Remove all members in a sorted set within the given indexes", "2.0.0", C_REMRANGE, "key start stop",
      NULL },
    { "zremrangebyscore", zremrangebyscore_cmd, 4, CMD_WRITE, 1, 1, 1, "sorted_set",
      "Remove all members in a sorted set within the given scores", "1.2.0", C_REMRANGE, "key min max", NULL },
    { "zremrangebylex", zremrangebylex_cmd, 4, CMD_WRITE, 1, 1, 1, "sorted_set",
      "Remove all members in a sorted set between the given lexicographical range", "2.8.9", C_REMRANGE,
      "key min max", NULL },
    { "zpopmin", zpopmin_cmd, -2, W_FAST, 1, 1, 1, "sorted_set",
      "Remove and return members with the lowest scores in a sorted set", "5.0.0", C_POP, "key [count]", NULL },
    { "zpopmax", zpopmax_cmd, -2, W_FAST, 1, 1, 1, "sorted_set",
      "Remove and return members with the highest scores in a sorted set", "5.0.0", C_POP, "key [count]", NULL },
    { "bzpopmin", bzpopmin_cmd, -3, CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST, 1, -2, 1, "sorted_set",
      "Remove and return the member with the lowest score from one or more sorted sets, or block until one is "
      "available", "5.0.0", C_LOGN, "key [key ...] timeout", NULL },
    { "bzpopmax", bzpopmax_cmd, -3, CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST, 1, -2, 1, "sorted_set",
      "Remove and return the member with the highest score from one or more sorted sets, or block until one is "
      "available", "5.0.0", C_LOGN, "key [key ...] timeout", NULL },
    { "zmpop", zmpop_cmd, -4, CMD_WRITE | CMD_MOVABLE, 0, 0, 0, "sorted_set",
      "Remove and return members with scores in a sorted set", "7.0.0", C_MPOP,
      "numkeys key [key ...] MIN | MAX [COUNT count]", NULL },
    { "bzmpop", bzmpop_cmd, -5, CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE, 0, 0, 0, "sorted_set",
      "Remove and return members with scores in a sorted set or block until one is available", "7.0.0", C_MPOP,
      "timeout numkeys key [key ...] MIN | MAX [COUNT count]", NULL },
    { "zrandmember", zrandmember_cmd, -2, CMD_READONLY, 1, 1, 1, "sorted_set",
      "Get one or multiple random elements from a sorted set", "6.2.0",
      "O(N) where N is the number of elements returned", "key [count [WITHSCORES]]", NULL },
    { "zscan", zscan_cmd, -3, CMD_READONLY, 1, 1, 1, "sorted_set",
      "Incrementally iterate sorted sets elements and associated scores", "2.8.0",
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to "
      "return back to 0. N is the number of elements inside the collection..",
      "key cursor [MATCH pattern] [COUNT count]", NULL },
    { "zunion", zunion_cmd, -3, CMD_READONLY | CMD_MOVABLE, 0, 0, 0, "sorted_set", "Add multiple sorted sets",
      "6.2.0", C_UNION, SYN_OPS, NULL },
    { "zinter", zinter_cmd, -3, CMD_READONLY | CMD_MOVABLE, 0, 0, 0, "sorted_set", "Intersect multiple sorted sets",
      "6.2.0", C_INTER, SYN_OPS, NULL },
    { "zdiff", zdiff_cmd, -3, CMD_READONLY | CMD_MOVABLE, 0, 0, 0, "sorted_set", "Subtract multiple sorted sets",
      "6.2.0", C_DIFF, "numkeys key [key ...] [WITHSCORES]", NULL },
    { "zunionstore", zunionstore_cmd, -4, W_OOM | CMD_MOVABLE, 1, 1, 1, "sorted_set",
      "Add multiple sorted sets and store the resulting sorted set in a new key", "2.0.0", C_UNION, SYN_OPS_STORE,
      NULL },
    { "zinterstore", zinterstore_cmd, -4, W_OOM | CMD_MOVABLE, 1, 1, 1, "sorted_set",
      "Intersect multiple sorted sets and store the resulting sorted set in a new key", "2.0.0", C_INTER,
      SYN_OPS_STORE, NULL },
    { "zdiffstore", zdiffstore_cmd, -4, W_OOM | CMD_MOVABLE, 1, 1, 1, "sorted_set",
      "Subtract multiple sorted sets and store the resulting sorted set in a new key", "6.2.0", C_DIFF,
      "destination numkeys key [key ...]", NULL },
    { "zintercard", zintercard_cmd, -3, CMD_READONLY | CMD_MOVABLE, 0, 0, 0, "sorted_set",
      "Intersect multiple sorted sets and return the cardinality of the result", "7.0.0",
      "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
      "numkeys key [key ...] [LIMIT limit]", NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};
