/*
 * cmd_zsetops.c -- the sorted-set algebra: ZUNION ZINTER ZDIFF, their STORE
 * forms ZUNIONSTORE ZINTERSTORE ZDIFFSTORE, and ZINTERCARD (the table entries
 * are in cmd_zset.c's cmds_zset[]).
 *
 * What it owns: the numkeys / WEIGHTS / AGGREGATE / WITHSCORES / LIMIT
 * grammar with Redis 7.0's checks in Redis's order, and the three
 * operations over inputs that may be sorted sets or plain sets (members of
 * a plain set count with score 1, as in Redis). What it does not: either
 * type's storage (engine/t_zset.c, engine/t_set.c).
 *
 * Algorithm (Redis's zunionInterDiffGenericCommand): inputs are sorted by
 * cardinality (not for DIFF); INTER walks the smallest input and probes the
 * others; UNION folds every input into an accumulator dict; DIFF keeps the
 * members of the first input that no other input has. The result is always
 * gathered in a dict (member -> score) that becomes a sorted set by
 * zset_from_dict: for a STORE it is then converted to a listpack when it is
 * small enough (Redis's zsetConvertToListpackIfNeeded).
 *
 * Invariants: the shards of every key involved are locked together for the
 * whole command (atomic as in Redis); sources are only read; the
 * destination is written once at the end, replaced whole (its expiry
 * dropped) or deleted when the result is empty; a SUM that gives NaN
 * (inf + -inf) counts as 0, as a weight times a score that gives NaN does.
 *
 * Threads: the client's worker, under the keys' shard locks.
 *
 * References: Redis 7.0 src/t_zset.c (zunionInterDiffGenericCommand, zdiff*).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dict.h"
#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/t_set.h"
#include "engine/t_zset.h"
#include "engine/util.h"
#include "server/client.h"
#include "server/keyargs.h"
#include "server/cmd_zset.h"
#include "server/reply.h"
#include "server/server.h"

enum zop { ZOP_UNION = 0, ZOP_INTER, ZOP_DIFF };
enum zagg { ZAGG_SUM = 0, ZAGG_MIN, ZAGG_MAX };

/* One input: a sorted set, a plain set, or a missing key (obj NULL). */
struct zsrc {
    const struct entry *e;
    void *obj;
    int type;
    uint64_t len;
    double weight;
    int order;         /* argument position, to keep the sort stable */
};

struct zsrc_it {
    struct zsrc *s;
    struct zset_it zit;
    struct set_it sit;
};

static void zsrc_it_init(struct zsrc_it *it, struct zsrc *s)
{
    it->s = s;
    if (s->type == OBJ_ZSET)
        zset_it_rank(&it->zit, s->obj, 0, 0);
    else
        set_it_init(&it->sit, s->obj);
}

/* The next element (plain-set members have score 1). */
static int zsrc_it_next(struct zsrc_it *it, struct zset_elem *e)
{
    if (it->s->type == OBJ_ZSET)
        return zset_it_next(&it->zit, e);
    e->score = 1.0;
    return set_it_next(&it->sit, &e->m, &e->len, e->buf);
}

static void zsrc_it_done(struct zsrc_it *it)
{
    if (it->s->type == OBJ_SET)
        set_it_done(&it->sit);
}

/* 1 and the score of m in s, or 0. */
static int zsrc_find(struct zsrc *s, const unsigned char *m, size_t len, double *score)
{
    if (!s->obj)
        return 0;
    if (s->type == OBJ_ZSET)
        return zset_score(s->obj, m, len, score) == ST_OK;
    if (!set_contains(s->obj, m, len))
        return 0;
    *score = 1.0;
    return 1;
}

static int zsrc_cmp(const void *a, const void *b)
{
    const struct zsrc *x = a, *y = b;

    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->order - y->order;
}

static void zagg(double *target, double v, enum zagg how)
{
    if (how == ZAGG_SUM) {
        *target += v;
        if (isnan(*target))
            *target = 0.0; /* inf + -inf */
    } else if (how == ZAGG_MIN) {
        *target = v < *target ? v : *target;
    } else {
        *target = v > *target ? v : *target;
    }
}

/* Adds m with score to the result dict (m absent). Returns 0 or ST_ENOMEM. */
static int result_add(struct dict *d, const struct zset_elem *e, double score)
{
    int added;
    struct dict_node *n = dict_add(d, e->m, e->len, &added);

    if (!n)
        return ST_ENOMEM;
    n->v.d = score;
    return ST_OK;
}

/* INTER: walks src[0] (the smallest) and probes the others. Counts only
 * (into *card, up to limit when > 0) when d is NULL. */
static int zop_inter(struct zsrc *src, long n, enum zagg how, struct dict *d, uint64_t *card, long long limit)
{
    struct zsrc_it it;
    struct zset_elem e;
    int rc = ST_OK;

    if (!src[0].obj || src[0].len == 0)
        return ST_OK;
    zsrc_it_init(&it, &src[0]);
    while (zsrc_it_next(&it, &e)) {
        double score = src[0].weight * e.score, value;
        long j;

        if (isnan(score))
            score = 0;
        for (j = 1; j < n; j++) {
            if (src[j].e == src[0].e) {
                value = e.score * src[j].weight;
            } else if (zsrc_find(&src[j], e.m, e.len, &value)) {
                value *= src[j].weight;
            } else {
                break;
            }
            zagg(&score, value, how);
        }
        if (j < n)
            continue;
        if (!d) {
            (*card)++;
            if (limit > 0 && *card >= (uint64_t)limit)
                break;
        } else if ((rc = result_add(d, &e, score)) != ST_OK) {
            break;
        }
    }
    zsrc_it_done(&it);
    return rc;
}

/* UNION: folds every input into d. */
static int zop_union(struct zsrc *src, long n, enum zagg how, struct dict *d)
{
    for (long i = 0; i < n; i++) {
        struct zsrc_it it;
        struct zset_elem e;
        int rc = ST_OK;

        if (!src[i].obj || src[i].len == 0)
            continue;
        zsrc_it_init(&it, &src[i]);
        while (zsrc_it_next(&it, &e)) {
            double score = src[i].weight * e.score;
            int added;
            struct dict_node *node;

            if (isnan(score))
                score = 0;
            node = dict_add(d, e.m, e.len, &added);
            if (!node) {
                rc = ST_ENOMEM;
                break;
            }
            if (added)
                node->v.d = score;
            else
                zagg(&node->v.d, score, how);
        }
        zsrc_it_done(&it);
        if (rc != ST_OK)
            return rc;
    }
    return ST_OK;
}

/* DIFF: members of src[0] that no other input has (nothing when src[0]
 * is repeated among the others). */
static int zop_diff(struct zsrc *src, long n, struct dict *d)
{
    struct zsrc_it it;
    struct zset_elem e;
    int rc = ST_OK;

    if (!src[0].obj || src[0].len == 0)
        return ST_OK;
    for (long j = 1; j < n; j++)
        if (src[j].e == src[0].e)
            return ST_OK;
    zsrc_it_init(&it, &src[0]);
    while (zsrc_it_next(&it, &e)) {
        double v;
        long j;

        for (j = 1; j < n; j++)
            if (zsrc_find(&src[j], e.m, e.len, &v))
                break;
        if (j < n)
            continue;
        if ((rc = result_add(d, &e, e.score)) != ST_OK)
            break;
    }
    zsrc_it_done(&it);
    return rc;
}

/* Parses the options after the keys (Redis's order and conditions).
 * Returns 0 or -1 after replying. */
static int zop_options(struct client *c, int j, struct zsrc *src, long setnum, enum zop op, int store, int cardonly,
                       enum zagg *how, int *withscores, long long *limit)
{
    while (j < c->argc) {
        int remaining = c->argc - j;
        const struct arg *a = &c->argv[j];

        if (op != ZOP_DIFF && !cardonly && remaining >= setnum + 1 && util_eqi(a->p, a->len, "weights")) {
            j++;
            for (long i = 0; i < setnum; i++, j++) {
                if (util_str2d(c->argv[j].p, c->argv[j].len, &src[i].weight) != ST_OK) {
                    reply_error(c, "ERR weight value is not a float");
                    return -1;
                }
            }
        } else if (op != ZOP_DIFF && !cardonly && remaining >= 2 && util_eqi(a->p, a->len, "aggregate")) {
            const struct arg *v = &c->argv[j + 1];

            if (util_eqi(v->p, v->len, "sum")) {
                *how = ZAGG_SUM;
            } else if (util_eqi(v->p, v->len, "min")) {
                *how = ZAGG_MIN;
            } else if (util_eqi(v->p, v->len, "max")) {
                *how = ZAGG_MAX;
            } else {
                reply_err_syntax(c);
                return -1;
            }
            j += 2;
        } else if (!store && !cardonly && util_eqi(a->p, a->len, "withscores")) {
            *withscores = 1;
            j++;
        } else if (cardonly && remaining >= 2 && util_eqi(a->p, a->len, "limit")) {
            if (zc_arg_long(c, j + 1, limit, "ERR LIMIT can't be negative") != 0)
                return -1;
            if (*limit < 0) {
                reply_error(c, "ERR LIMIT can't be negative");
                return -1;
            }
            j += 2;
        } else {
            reply_err_syntax(c);
            return -1;
        }
    }
    return 0;
}

/* Redis's zunionInterDiffGenericCommand. store: argv[1] is the destination
 * and numkeys is argv[2]; otherwise numkeys is argv[1]. */
static void zop_generic(struct client *c, int store, enum zop op, int cardonly)
{
    struct keyspace *ks = c->srv->ks;
    int numkeys_idx = store ? 2 : 1;
    long long setnum, limit = 0;
    enum zagg how = ZAGG_SUM;
    int withscores = 0, nkeys, rc = ST_OK;
    struct ks_key *keys = NULL;
    struct zsrc *src = NULL;
    struct dict *d = NULL;
    uint64_t card = 0;

    if (zc_arg_long(c, numkeys_idx, &setnum, NULL) != 0)
        return;
    if (setnum < 1) {
        reply_errorf(c, "ERR at least 1 input key is needed for '%s' command", client_cmd_name(c));
        return;
    }
    if (setnum > c->argc - (numkeys_idx + 1)) {
        reply_err_syntax(c);
        return;
    }
    nkeys = (int)setnum + (store ? 1 : 0);
    keys = malloc((size_t)nkeys * sizeof(*keys));
    src = calloc((size_t)setnum, sizeof(*src));
    if (!keys || !src) {
        free(keys);
        free(src);
        reply_err_nomem(c);
        return;
    }
    for (long i = 0; i < setnum; i++)
        ks_key_init(ks, &keys[i], c->argv[numkeys_idx + 1 + i].p, c->argv[numkeys_idx + 1 + i].len);
    if (store)
        ks_key_init(ks, &keys[setnum], c->argv[1].p, c->argv[1].len);
    ks_lock_keys(ks, keys, (size_t)nkeys);

    for (long i = 0; i < setnum; i++) {
        struct entry **ref = keyargs_read(c, &keys[i]);

        src[i].weight = 1.0;
        src[i].order = (int)i;
        if (!ref)
            continue;
        if ((*ref)->type != OBJ_ZSET && (*ref)->type != OBJ_SET) {
            reply_err_wrongtype(c);
            goto unlock;
        }
        src[i].e = *ref;
        src[i].obj = entry_ptr(*ref);
        src[i].type = (*ref)->type;
        src[i].len = src[i].type == OBJ_ZSET ? zset_len(src[i].obj) : set_len(src[i].obj);
    }
    if (zop_options(c, numkeys_idx + 1 + (int)setnum, src, (long)setnum, op, store, cardonly, &how, &withscores,
                    &limit) != 0)
        goto unlock;
    if (op != ZOP_DIFF)
        qsort(src, (size_t)setnum, sizeof(*src), zsrc_cmp);

    if (!cardonly) {
        d = dict_create(zset_dict_seed(c));
        if (!d) {
            reply_err_nomem(c);
            goto unlock;
        }
    }
    if (op == ZOP_INTER)
        rc = zop_inter(src, (long)setnum, how, d, &card, limit);
    else if (op == ZOP_UNION)
        rc = zop_union(src, (long)setnum, how, d);
    else
        rc = zop_diff(src, (long)setnum, d);
    if (rc != ST_OK) {
        reply_err_nomem(c);
        goto unlock;
    }
    if (cardonly) {
        reply_int(c, (long long)card);
        goto unlock;
    }

    struct type_limits lim;
    if (store) {
        server_type_limits(c->srv, &lim);
    } else {
        memset(&lim, 0, sizeof(lim)); /* a reply needs no listpack */
    }
    void *zs = zset_from_dict(d, &lim);
    d = NULL;
    if (!zs) {
        reply_err_nomem(c);
        goto unlock;
    }
    uint64_t len = zset_len(zs);
    if (store) {
        const struct ks_key *dst = &keys[setnum];

        if (len > 0) {
            if (zc_store(c, dst, zs) != ST_OK)
                reply_err_nomem(c);
            else
                reply_int(c, (long long)len);
        } else {
            zset_destroy(zs);
            if (zc_delete(c, dst))
                ks_touch_write(ks, dst);
            reply_int(c, 0);
        }
        goto unlock;
    }
    struct zset_it it;
    struct zset_elem e;

    reply_array(c, zc_reply_len(c, (long)len, withscores));
    zset_it_rank(&it, zs, 0, 0);
    while (zset_it_next(&it, &e))
        zc_reply_elem(c, &e, withscores);
    zset_destroy(zs);
unlock:
    ks_unlock_keys(ks, keys, (size_t)nkeys);
    if (d)
        dict_destroy(d, NULL);
    free(keys);
    free(src);
}

void zunion_cmd(struct client *c)
{
    zop_generic(c, 0, ZOP_UNION, 0);
}

void zinter_cmd(struct client *c)
{
    zop_generic(c, 0, ZOP_INTER, 0);
}

void zdiff_cmd(struct client *c)
{
    zop_generic(c, 0, ZOP_DIFF, 0);
}

void zunionstore_cmd(struct client *c)
{
    zop_generic(c, 1, ZOP_UNION, 0);
}

void zinterstore_cmd(struct client *c)
{
    zop_generic(c, 1, ZOP_INTER, 0);
}

void zdiffstore_cmd(struct client *c)
{
    zop_generic(c, 1, ZOP_DIFF, 0);
}

void zintercard_cmd(struct client *c)
{
    zop_generic(c, 0, ZOP_INTER, 1);
}
