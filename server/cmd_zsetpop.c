/*
 * cmd_zsetpop.c -- the sorted-set pops: ZPOPMIN ZPOPMAX ZMPOP and the
 * blocking BZPOPMIN BZPOPMAX BZMPOP (their table entries are in cmd_zset.c's
 * cmds_zset[]).
 *
 * What it owns: the pop grammar and reply shapes (Redis's
 * genericZpopCommand: flat or nested pairs, with or without the key), and
 * the blocked-client callbacks: serve (pop for a waiter, on the pushing
 * worker, under the key's shard lock and the registry lock, taking no other
 * lock), reply (on the waiter's worker), undo (put members back when the
 * client left after being served) and free. What it does not: the registry
 * and its FIFO (server/blocking.c), the sorted set (engine/t_zset.c).
 *
 * Invariants (besides cmd_zset.c's 1-6, which hold here too):
 *  1. A set emptied by a pop is deleted under the same lock, after its
 *     (possibly moved) pointer was stored in the entry.
 *  2. Members popped for a blocked client are copied before anything is
 *     deleted (an allocation failure pops nothing), then replied or put
 *     back by undo: never lost.
 *  3. A waiter is registered once per distinct key (BZPOPMIN k k waits on
 *     k once, as in Redis).
 *
 * Timeouts follow Redis's getTimeoutFromObjectOrReply: seconds as a long
 * double, times 1000, truncated to ms (so 0.0001 blocks forever, as 0).
 *
 * References: Redis 7.0 src/t_zset.c (genericZpopCommand,
 * blockingGenericZpopCommand, zmpopGenericCommand), src/blocked.c.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/t_zset.h"
#include "engine/util.h"
#include "server/blocking.h"
#include "server/client.h"
#include "server/keyargs.h"
#include "server/cmd_zset.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/wlog.h"
#include "server/worker.h"

#define RERR_POSITIVE "ERR value is out of range, must be positive"
#define RERR_TIMEOUT_FLOAT "ERR timeout is not a float or out of range"

/* ------------------------------------------------------------------------ */
/* ZPOPMIN ZPOPMAX ZMPOP                                                    */
/* ------------------------------------------------------------------------ */

/* Pops up to count (-1: one, the count-less form) members of the set at ref
 * from the low (max = 0) or high end and replies them in one of Redis's
 * four shapes (genericZpopCommand): emitkey prefixes the key, nested puts
 * each (member, score) in its own array. Deletes the key when emptied. */
static void zpop_reply(struct client *c, const struct ks_key *k, struct entry **ref, int max, long long count,
                       int emitkey, int nested)
{
    void *zs = entry_ptr(*ref);
    uint64_t len = zset_len(zs);
    uint64_t n;

    if (count == -1)
        count = 1;
    n = (uint64_t)count > len ? len : (uint64_t)count;
    if (!nested && !emitkey) {
        reply_array(c, (long)(2 * n));
    } else if (nested && !emitkey) {
        reply_array(c, (long)n);
    } else if (!nested) {
        reply_array(c, (long)(2 * n + 1));
        reply_bulk(c, k->p, k->len);
    } else {
        reply_array(c, 2);
        reply_bulk(c, k->p, k->len);
        reply_array(c, (long)n);
    }
    for (uint64_t i = 0; i < n; i++) {
        struct zset_it it;
        struct zset_elem e;

        zset_it_rank(&it, zs, 0, max);
        if (!zset_it_next(&it, &e))
            break;
        if (nested)
            reply_array(c, 2);
        reply_bulk(c, e.m, e.len);
        reply_double(c, e.score);
        zset_del(&zs, e.m, e.len);
    }
    zc_commit(c, k, ref, zs);
    ks_touch_write(c->srv->ks, k);
}

/* ZPOPMIN / ZPOPMAX key [count] */
static void zpop_generic(struct client *c, int max)
{
    struct keyspace *ks = c->srv->ks;
    long long count = -1;
    struct ks_key k;
    struct entry **ref;

    if (c->argc > 3) {
        reply_err_syntax(c);
        return;
    }
    if (c->argc == 3 && zc_arg_range(c, 2, 0, &count, RERR_POSITIVE) != 0)
        return;
    zc_key(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (!ref)
        reply_array(c, 0);
    else if (zc_obj(c, ref) == NULL)
        ;
    else if (count == 0)
        reply_array(c, 0);
    else
        zpop_reply(c, &k, ref, max, count, 0, c->resp > 2 && count != -1);
    ks_unlock(ks, k.shard);
}

void zpopmin_cmd(struct client *c)
{
    zpop_generic(c, 0);
}

void zpopmax_cmd(struct client *c)
{
    zpop_generic(c, 1);
}

/* Parses [B]ZMPOP's numkeys key... MIN|MAX [COUNT count] from numkeys_idx.
 * Returns 0 with *numkeys, *max and *count (-1 when absent), or -1 after
 * replying the error. */
static int zmpop_parse(struct client *c, int numkeys_idx, long long *numkeys, int *max, long long *count)
{
    long long where_idx;

    if (zc_arg_range(c, numkeys_idx, 1, numkeys, "ERR numkeys should be greater than 0") != 0)
        return -1;
    if (*numkeys >= c->argc) {
        reply_err_syntax(c);
        return -1;
    }
    where_idx = numkeys_idx + *numkeys + 1;
    if (where_idx >= c->argc) {
        reply_err_syntax(c);
        return -1;
    }
    if (zc_eq(&c->argv[where_idx], "min")) {
        *max = 0;
    } else if (zc_eq(&c->argv[where_idx], "max")) {
        *max = 1;
    } else {
        reply_err_syntax(c);
        return -1;
    }
    *count = -1;
    for (int j = (int)where_idx + 1; j < c->argc; j++) {
        int more = c->argc - 1 - j;

        if (*count == -1 && zc_eq(&c->argv[j], "count") && more) {
            j++;
            if (zc_arg_range(c, j, 1, count, "ERR count should be greater than 0") != 0)
                return -1;
        } else {
            reply_err_syntax(c);
            return -1;
        }
    }
    if (*count == -1)
        *count = 1;
    return 0;
}

/* ZMPOP numkeys key [key ...] MIN | MAX [COUNT count] */
void zmpop_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[KEYARGS_STACK], *keys;
    long long numkeys, count;
    int max;

    if (zmpop_parse(c, 1, &numkeys, &max, &count) != 0)
        return;
    if (!(keys = keyargs_many(c, stack, (size_t)numkeys, 2, 1)))
        return;
    ks_lock_keys(ks, keys, (size_t)numkeys);
    int done = 0;
    for (int i = 0; i < numkeys && !done; i++) {
        struct entry **ref = keyargs_write(c, &keys[i]);

        if (!ref)
            continue;
        done = 1;
        if (zc_obj(c, ref))
            zpop_reply(c, &keys[i], ref, max, count, 1, 1);
    }
    if (!done)
        reply_null_array(c);
    ks_unlock_keys(ks, keys, (size_t)numkeys);
    keyargs_free(keys, stack);
}

/* ------------------------------------------------------------------------ */
/* BZPOPMIN BZPOPMAX BZMPOP                                                 */
/* ------------------------------------------------------------------------ */

/* One popped member, kept for the reply or for undo. */
struct zblk_item {
    double score;
    size_t len;
    char m[];
};

/* The state of a blocked pop (owned by its blk_waiter). */
struct zblk_state {
    int max;            /* pop the highest scores */
    int mpop;           /* BZMPOP: [key, [[m, s]...]]; else [key, m, s] */
    long long count;    /* members wanted */
    size_t n;           /* members popped (after a serve) */
    struct zblk_item **items;
};

static void zblk_free(void *ud)
{
    struct zblk_state *st = ud;

    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        free(st->items[i]);
    free(st->items);
    free(st);
}

/* blk_serve_fn: pops for w from key k if it holds a sorted set (a key of
 * another type leaves the client blocked, as in Redis). Copies the members
 * before deleting anything, so an allocation failure pops nothing. */
static void zblk_drop_items(struct zblk_state *st)
{
    for (size_t j = 0; j < st->n; j++)
        free(st->items[j]);
    free(st->items);
    st->items = NULL;
    st->n = 0;
}

static int zblk_serve(struct blk_waiter *w, struct keyspace *ks, int db, const struct ks_key *k)
{
    struct zblk_state *st = w->state;
    struct entry **ref = ks_find_ref(ks, db, k, util_time_ms(), 0);
    struct zset_it it;
    struct zset_elem e;
    uint64_t n, len;
    void *zs;

    if (!ref || (*ref)->type != OBJ_ZSET)
        return 0;
    zs = entry_ptr(*ref);
    len = zset_len(zs);
    n = (uint64_t)st->count < len ? (uint64_t)st->count : len;
    if (n == 0)
        return 0;
    st->items = calloc(n, sizeof(*st->items));
    if (!st->items)
        return 0;
    zset_it_rank(&it, zs, 0, st->max);
    for (uint64_t i = 0; i < n && zset_it_next(&it, &e); i++) {
        struct zblk_item *item = malloc(sizeof(*item) + e.len);

        if (!item) {
            zblk_drop_items(st);
            return 0;
        }
        item->score = e.score;
        item->len = e.len;
        memcpy(item->m, e.m, e.len);
        st->items[st->n++] = item;
    }
    for (size_t i = 0; i < st->n; i++)
        zset_del(&zs, st->items[i]->m, st->items[i]->len);
    entry_set_ptr(*ref, zs); /* first: deleting the entry frees its object */
    if (zset_len(zs) == 0)
        ks_delete_ref(ks, db, k, ref);
    ks_touch_write(ks, k);
    if (w->w->srv->wlog) {
        char cnt[UTIL_LLSTR_SIZE];
        const char *a[1] = { cnt };
        size_t al[1] = { (size_t)util_ll2str(cnt, (long long)st->n) };
        w->log_need = wlog_append_key(w->w->srv->wlog, db, st->max ? "ZPOPMAX" : "ZPOPMIN", k->p, k->len, 1, a, al);
    }
    return 1;
}

/* blk_reply_fn */
static void zblk_reply(struct client *c, struct blk_waiter *w, enum blk_reply_how how)
{
    struct zblk_state *st = w->state;

    if (how == BLK_REPLY_TIMEOUT) {
        reply_null_array(c);
        return;
    }
    if (!st->mpop) {
        reply_array(c, 3);
        reply_bulk(c, w->served_key->p, w->served_key->len);
        reply_bulk(c, st->items[0]->m, st->items[0]->len);
        reply_double(c, st->items[0]->score);
        return;
    }
    reply_array(c, 2);
    reply_bulk(c, w->served_key->p, w->served_key->len);
    reply_array(c, (long)st->n);
    for (size_t i = 0; i < st->n; i++) {
        reply_array(c, 2);
        reply_bulk(c, st->items[i]->m, st->items[i]->len);
        reply_double(c, st->items[i]->score);
    }
}

/* The log's record of an undo: ZADD key NX score member ... */
static void log_zadd_back(struct server *srv, int db, const struct ks_key *k, const struct zblk_state *st)
{
    size_t n = 1 + 2 * st->n;
    const char **a = malloc(n * sizeof(*a));
    size_t *al = malloc(n * sizeof(*al));
    char *scores = malloc(st->n * 32 + 1);
    if (a && al && scores) {
        a[0] = "NX";
        al[0] = 2;
        for (size_t i = 0; i < st->n; i++) {
            char *sc = scores + i * 32;
            al[1 + 2 * i] = (size_t)snprintf(sc, 32, "%.17g", st->items[i]->score);
            a[1 + 2 * i] = sc;
            a[2 + 2 * i] = st->items[i]->m;
            al[2 + 2 * i] = st->items[i]->len;
        }
        wlog_append_key(srv->wlog, db, "ZADD", k->p, k->len, (int)n, a, al);
    } else {
        log_warn("bzpop: out of memory logging members put back");
    }
    free(a);
    free(al);
    free(scores);
}

/* blk_undo_fn: the client went away after being served: put the members
 * back (members re-added since keep their new score), then let the next
 * waiter have them. */
static void zblk_undo(struct blk_waiter *w, struct keyspace *ks)
{
    struct zblk_state *st = w->state;
    struct server *srv = w->w->srv;
    struct type_limits lim;
    struct ks_key k;
    struct entry **ref;
    void *zs;
    int isnew = 0;

    if (!w->served_key || st->n == 0)
        return;
    server_type_limits(srv, &lim);
    ks_key_init(ks, &k, w->served_key->p, w->served_key->len);
    ks_lock(ks, k.shard);
    ref = ks_find_ref(ks, w->db, &k, util_time_ms(), KS_F_NOTOUCH);
    if (ref && (*ref)->type != OBJ_ZSET) {
        log_warn("bzpop: cannot return %zu popped members to a key that is no longer a sorted set", st->n);
        goto unlock;
    }
    if (ref) {
        zs = entry_ptr(*ref);
    } else {
        zs = zset_create(st->n, 0, &lim);
        if (!zs)
            goto oom;
        isnew = 1;
    }
    for (size_t i = 0; i < st->n; i++) {
        int out;

        if (zset_add(&zs, &lim, st->items[i]->score, st->items[i]->m, st->items[i]->len, ZSET_IN_NX, &out,
                     NULL) != ST_OK)
            log_warn("bzpop: out of memory returning a popped member");
    }
    if (isnew) {
        if (zset_len(zs) == 0)
            zset_destroy(zs);
        else if (zc_insert_new(ks, w->db, &k, zs) != ST_OK)
            goto oom;
    } else {
        entry_set_ptr(*ref, zs);
    }
    ks_touch_write(ks, &k);
    if (srv->wlog)
        log_zadd_back(srv, w->db, &k, st);
    blk_signal(w->reg, ks, w->db, &k);
    goto unlock;
oom:
    log_warn("bzpop: out of memory returning %zu popped members", st->n);
unlock:
    ks_unlock(ks, k.shard);
}

/* Redis's getTimeoutFromObjectOrReply(UNIT_SECONDS) for argv[i]: seconds
 * as a long double, times 1000, truncated; 0 blocks forever. Returns 0 and
 * *ms, or -1 after replying. */
static int zc_arg_timeout(struct client *c, int i, int64_t *ms)
{
    long double v, t;
    long long tv;

    if (util_str2ld(c->argv[i].p, c->argv[i].len, &v) != ST_OK) {
        reply_error(c, RERR_TIMEOUT_FLOAT);
        return -1;
    }
    t = v * 1000.0L;
    /* out of range converts to LLONG_MIN on x86, which Redis reports as
     * negative */
    tv = (t > -9.2e18L && t < 9.2e18L) ? (long long)t : LLONG_MIN;
    if (tv < 0) {
        reply_error(c, "ERR timeout is negative");
        return -1;
    }
    if (tv > 0 && tv > LLONG_MAX - c->now_ms) {
        reply_error(c, "ERR timeout is out of range");
        return -1;
    }
    *ms = tv;
    return 0;
}

static int zc_bkey_cmp(const void *a, const void *b)
{
    const struct blk_key *x = *(const struct blk_key *const *)a, *y = *(const struct blk_key *const *)b;
    int c = zset_memcmp(x->p, x->len, y->p, y->len);

    return c ? c : (x < y ? -1 : x > y);
}

/* Drops repeated keys from bkeys[0..n) (BZPOPMIN k k 0 waits on k once, as
 * Redis does), keeping the first occurrence and the argument order.
 * Returns the new count. */
static int zc_bkeys_unique(struct blk_key *bkeys, int n)
{
    const struct blk_key **idx;
    char *dup;
    int m = 0;

    if (n < 2)
        return n;
    idx = malloc((size_t)n * sizeof(*idx));
    dup = calloc((size_t)n, 1);
    if (!idx || !dup) {
        free(idx);
        free(dup);
        return n; /* no memory: keep them all (the registry accepts repeats) */
    }
    for (int i = 0; i < n; i++)
        idx[i] = &bkeys[i];
    qsort(idx, (size_t)n, sizeof(*idx), zc_bkey_cmp);
    for (int i = 1; i < n; i++)
        if (idx[i]->len == idx[i - 1]->len && memcmp(idx[i]->p, idx[i - 1]->p, idx[i]->len) == 0)
            dup[idx[i] - bkeys] = 1; /* the later argument */
    for (int i = 0; i < n; i++)
        if (!dup[i])
            bkeys[m++] = bkeys[i];
    free(idx);
    free(dup);
    return m;
}

/* Redis's blockingGenericZpopCommand: keys are argv[first..first+n). Pops
 * from the first non-empty key, or blocks on them all. */
static void bzpop_generic(struct client *c, int first, int n, int max, long long count, int mpop, int64_t ms)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[KEYARGS_STACK], *keys;
    struct blk_key bstack[KEYARGS_STACK], *bkeys = bstack;
    struct zblk_state *st;

    if (!(keys = keyargs_many(c, stack, (size_t)n, first, 1)))
        return;
    ks_lock_keys(ks, keys, (size_t)n);
    for (int i = 0; i < n; i++) {
        struct entry **ref = keyargs_write(c, &keys[i]);

        if (!ref)
            continue;
        if (zc_obj(c, ref))
            zpop_reply(c, &keys[i], ref, max, mpop ? count : -1, 1, mpop);
        goto unlock;
    }
    st = calloc(1, sizeof(*st));
    if (n > KEYARGS_STACK)
        bkeys = malloc((size_t)n * sizeof(*bkeys));
    if (!st || !bkeys) {
        free(st);
        reply_err_nomem(c);
        goto unlock;
    }
    st->max = max;
    st->mpop = mpop;
    st->count = mpop ? count : 1;
    for (int i = 0; i < n; i++) {
        bkeys[i].p = (char *)keys[i].p;
        bkeys[i].len = keys[i].len;
    }
    if (blk_block(c->srv->blk, c, c->db, bkeys, zc_bkeys_unique(bkeys, n), ms * 1000, zblk_serve, zblk_reply,
                  zblk_undo, zblk_free, st) != ST_OK)
        reply_err_nomem(c);
unlock:
    ks_unlock_keys(ks, keys, (size_t)n);
    if (bkeys != bstack)
        free(bkeys);
    keyargs_free(keys, stack);
}

/* BZPOPMIN / BZPOPMAX key [key ...] timeout */
static void bzpop_cmd_generic(struct client *c, int max)
{
    int64_t ms;

    if (zc_arg_timeout(c, c->argc - 1, &ms) != 0)
        return;
    bzpop_generic(c, 1, c->argc - 2, max, -1, 0, ms);
}

void bzpopmin_cmd(struct client *c)
{
    bzpop_cmd_generic(c, 0);
}

void bzpopmax_cmd(struct client *c)
{
    bzpop_cmd_generic(c, 1);
}

/* BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count] */
void bzmpop_cmd(struct client *c)
{
    long long numkeys, count;
    int64_t ms;
    int max;

    if (zmpop_parse(c, 2, &numkeys, &max, &count) != 0)
        return;
    if (zc_arg_timeout(c, 1, &ms) != 0)
        return;
    bzpop_generic(c, 3, (int)numkeys, max, count, 1, ms);
}

