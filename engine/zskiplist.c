/*
 * zskiplist.c -- the ordered half of a large sorted set: a skiplist with
 * spans (layout and invariants in zskiplist.h), plus the range tests the
 * listpack encoding shares.
 *
 * What it owns: skiplist nodes and the header. What it does not: the
 * members' bytes (dict nodes, owned by the sorted set's dict) and the
 * random numbers (the caller passes a level from zsl_random_level with its
 * own generator, so the module has no state of its own).
 *
 * Every search below walks from the top level down, keeping in update[i]
 * the last node at level i before the target and in rank[i] the level-0
 * steps taken to reach it; insertion and deletion then patch exactly those
 * links and spans (invariant 2 of zskiplist.h). This is the algorithm of
 * Redis's t_zset.c (zslInsert, zslDeleteNode, zslGetRank...), rewritten for
 * members held by reference to their dict node.
 *
 * Threads: none of its own; callers hold the owning entry's shard lock.
 */
#include "engine/zskiplist.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"

/* ------------------------------------------------------------------------ */
/* Ordering and ranges                                                      */
/* ------------------------------------------------------------------------ */

int zset_memcmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;

    if (c != 0)
        return c;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* (score, m) of node x compared with (score, m): <0, 0, >0. */
static inline int node_cmp(const struct zsl_node *x, double score, const void *m, size_t len)
{
    if (x->score < score)
        return -1;
    if (x->score > score)
        return 1;
    return zset_memcmp(x->ele->key, x->ele->len, m, len);
}

int zset_srange_empty(const struct zset_srange *r)
{
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}

int zset_lex_gte_min(const void *m, size_t len, const struct zset_lrange *r)
{
    int c;

    if (r->mininf)
        return r->mininf < 0;
    c = zset_memcmp(m, len, r->min, r->minlen);
    return r->minex ? c > 0 : c >= 0;
}

int zset_lex_lte_max(const void *m, size_t len, const struct zset_lrange *r)
{
    int c;

    if (r->maxinf)
        return r->maxinf > 0;
    c = zset_memcmp(m, len, r->max, r->maxlen);
    return r->maxex ? c < 0 : c <= 0;
}

int zset_lrange_empty(const struct zset_lrange *r)
{
    int c;

    if (r->mininf && r->mininf == r->maxinf)
        c = 0;
    else if (r->mininf < 0 || r->maxinf > 0)
        c = -1;
    else if (r->mininf > 0 || r->maxinf < 0)
        c = 1;
    else
        c = zset_memcmp(r->min, r->minlen, r->max, r->maxlen);
    return c > 0 || (c == 0 && (r->minex || r->maxex));
}

/* ------------------------------------------------------------------------ */
/* Nodes                                                                    */
/* ------------------------------------------------------------------------ */

static struct zsl_node *node_create(int level, double score, struct dict_node *ele)
{
    struct zsl_node *n = malloc(sizeof(*n) + (size_t)level * sizeof(struct zsl_level));

    if (!n)
        return NULL;
    n->ele = ele;
    n->score = score;
    n->backward = NULL;
    return n;
}

int zsl_init(struct zsl *zsl)
{
    zsl->header = node_create(ZSL_MAXLEVEL, 0, NULL);
    if (!zsl->header)
        return ST_ENOMEM;
    for (int i = 0; i < ZSL_MAXLEVEL; i++) {
        zsl->header->level[i].forward = NULL;
        zsl->header->level[i].span = 0;
    }
    zsl->tail = NULL;
    zsl->length = 0;
    zsl->level = 1;
    return ST_OK;
}

void zsl_deinit(struct zsl *zsl)
{
    struct zsl_node *n;

    if (!zsl->header)
        return;
    n = zsl->header->level[0].forward;
    while (n) {
        struct zsl_node *next = n->level[0].forward;

        free(n);
        n = next;
    }
    free(zsl->header);
    zsl->header = NULL;
    zsl->tail = NULL;
    zsl->length = 0;
}

int zsl_random_level(struct util_rng *rng)
{
    int level = 1;

    /* 16 random bits at a time, as Redis: P(next level) = ZSL_P */
    while (level < ZSL_MAXLEVEL && (util_rng_next(rng) & 0xFFFF) < (uint64_t)(ZSL_P * 0xFFFF))
        level++;
    return level;
}

struct zsl_node *zsl_insert(struct zsl *zsl, double score, struct dict_node *ele, int level)
{
    struct zsl_node *update[ZSL_MAXLEVEL], *x;
    uint64_t rank[ZSL_MAXLEVEL];
    int i;

    if (level < 1)
        level = 1;
    if (level > ZSL_MAXLEVEL)
        level = ZSL_MAXLEVEL;
    x = node_create(level, score, ele);
    if (!x)
        return NULL;

    struct zsl_node *h = zsl->header;
    struct zsl_node *p = h;
    for (i = zsl->level - 1; i >= 0; i--) {
        rank[i] = i == zsl->level - 1 ? 0 : rank[i + 1];
        while (p->level[i].forward && node_cmp(p->level[i].forward, score, ele->key, ele->len) < 0) {
            rank[i] += p->level[i].span;
            p = p->level[i].forward;
        }
        update[i] = p;
    }
    if (level > zsl->level) {
        for (i = zsl->level; i < level; i++) {
            rank[i] = 0;
            update[i] = h;
            h->level[i].span = zsl->length;
        }
        zsl->level = level;
    }
    for (i = 0; i < level; i++) {
        x->level[i].forward = update[i]->level[i].forward;
        update[i]->level[i].forward = x;
        x->level[i].span = update[i]->level[i].span - (rank[0] - rank[i]);
        update[i]->level[i].span = (rank[0] - rank[i]) + 1;
    }
    for (i = level; i < zsl->level; i++)
        update[i]->level[i].span++;
    x->backward = update[0] == h ? NULL : update[0];
    if (x->level[0].forward)
        x->level[0].forward->backward = x;
    else
        zsl->tail = x;
    zsl->length++;
    return x;
}

/* Unlinks x given the update[] of a search that stopped just before it. */
static void unlink_node(struct zsl *zsl, struct zsl_node *x, struct zsl_node **update)
{
    for (int i = 0; i < zsl->level; i++) {
        if (update[i]->level[i].forward == x) {
            update[i]->level[i].span += x->level[i].span - 1;
            update[i]->level[i].forward = x->level[i].forward;
        } else {
            update[i]->level[i].span -= 1;
        }
    }
    if (x->level[0].forward)
        x->level[0].forward->backward = x->backward;
    else
        zsl->tail = x->backward;
    while (zsl->level > 1 && zsl->header->level[zsl->level - 1].forward == NULL)
        zsl->level--;
    zsl->length--;
}

int zsl_delete(struct zsl *zsl, double score, const void *m, size_t len)
{
    struct zsl_node *update[ZSL_MAXLEVEL], *x = zsl->header;

    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && node_cmp(x->level[i].forward, score, m, len) < 0)
            x = x->level[i].forward;
        update[i] = x;
    }
    x = x->level[0].forward;
    if (x && node_cmp(x, score, m, len) == 0) {
        unlink_node(zsl, x, update);
        free(x);
        return 1;
    }
    return 0;
}

uint64_t zsl_rank(const struct zsl *zsl, double score, const void *m, size_t len)
{
    const struct zsl_node *x = zsl->header;
    uint64_t rank = 0;

    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && node_cmp(x->level[i].forward, score, m, len) <= 0) {
            rank += x->level[i].span;
            x = x->level[i].forward;
        }
        if (x->ele && node_cmp(x, score, m, len) == 0)
            return rank;
    }
    return 0;
}

struct zsl_node *zsl_by_rank(const struct zsl *zsl, uint64_t rank)
{
    struct zsl_node *x = zsl->header;
    uint64_t traversed = 0;

    if (rank == 0 || rank > zsl->length)
        return NULL;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span <= rank) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        if (traversed == rank)
            return x;
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Ranges                                                                   */
/* ------------------------------------------------------------------------ */

static int in_score_range(const struct zsl *zsl, const struct zset_srange *r)
{
    if (zset_srange_empty(r) || !zsl->tail)
        return 0;
    return zset_score_gte_min(zsl->tail->score, r) && zset_score_lte_max(zsl->header->level[0].forward->score, r);
}

struct zsl_node *zsl_first_in_score(const struct zsl *zsl, const struct zset_srange *r)
{
    struct zsl_node *x = zsl->header;

    if (!in_score_range(zsl, r))
        return NULL;
    for (int i = zsl->level - 1; i >= 0; i--)
        while (x->level[i].forward && !zset_score_gte_min(x->level[i].forward->score, r))
            x = x->level[i].forward;
    x = x->level[0].forward; /* not NULL: the tail is >= min */
    return zset_score_lte_max(x->score, r) ? x : NULL;
}

struct zsl_node *zsl_last_in_score(const struct zsl *zsl, const struct zset_srange *r)
{
    struct zsl_node *x = zsl->header;

    if (!in_score_range(zsl, r))
        return NULL;
    for (int i = zsl->level - 1; i >= 0; i--)
        while (x->level[i].forward && zset_score_lte_max(x->level[i].forward->score, r))
            x = x->level[i].forward;
    /* not the header: the first node is <= max */
    return zset_score_gte_min(x->score, r) ? x : NULL;
}

static int lex_gte(const struct zsl_node *x, const struct zset_lrange *r)
{
    return zset_lex_gte_min(x->ele->key, x->ele->len, r);
}

static int lex_lte(const struct zsl_node *x, const struct zset_lrange *r)
{
    return zset_lex_lte_max(x->ele->key, x->ele->len, r);
}

static int in_lex_range(const struct zsl *zsl, const struct zset_lrange *r)
{
    if (zset_lrange_empty(r) || !zsl->tail)
        return 0;
    return lex_gte(zsl->tail, r) && lex_lte(zsl->header->level[0].forward, r);
}

struct zsl_node *zsl_first_in_lex(const struct zsl *zsl, const struct zset_lrange *r)
{
    struct zsl_node *x = zsl->header;

    if (!in_lex_range(zsl, r))
        return NULL;
    for (int i = zsl->level - 1; i >= 0; i--)
        while (x->level[i].forward && !lex_gte(x->level[i].forward, r))
            x = x->level[i].forward;
    x = x->level[0].forward;
    return lex_lte(x, r) ? x : NULL;
}

struct zsl_node *zsl_last_in_lex(const struct zsl *zsl, const struct zset_lrange *r)
{
    struct zsl_node *x = zsl->header;

    if (!in_lex_range(zsl, r))
        return NULL;
    for (int i = zsl->level - 1; i >= 0; i--)
        while (x->level[i].forward && lex_lte(x->level[i].forward, r))
            x = x->level[i].forward;
    return lex_gte(x, r) ? x : NULL;
}

/* Deletes from x (the first candidate, with update[] before it) while
 * keep_going says so. */
typedef int zsl_more_fn(const struct zsl_node *x, const void *arg, uint64_t traversed);

static uint64_t delete_run(struct zsl *zsl, struct zsl_node *x, struct zsl_node **update, zsl_more_fn *more,
                           const void *arg, uint64_t traversed, zsl_del_fn *fn, void *ud)
{
    uint64_t removed = 0;

    while (x && more(x, arg, traversed)) {
        struct zsl_node *next = x->level[0].forward;

        unlink_node(zsl, x, update);
        if (fn)
            fn(x, ud);
        free(x);
        removed++;
        traversed++;
        x = next;
    }
    return removed;
}

static int more_score(const struct zsl_node *x, const void *arg, uint64_t traversed)
{
    (void)traversed;
    return zset_score_lte_max(x->score, arg);
}

static int more_lex(const struct zsl_node *x, const void *arg, uint64_t traversed)
{
    (void)traversed;
    return lex_lte(x, arg);
}

static int more_rank(const struct zsl_node *x, const void *arg, uint64_t traversed)
{
    (void)x;
    return traversed <= *(const uint64_t *)arg;
}

uint64_t zsl_delete_score(struct zsl *zsl, const struct zset_srange *r, zsl_del_fn *fn, void *ud)
{
    struct zsl_node *update[ZSL_MAXLEVEL], *x = zsl->header;

    if (zset_srange_empty(r))
        return 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && !zset_score_gte_min(x->level[i].forward->score, r))
            x = x->level[i].forward;
        update[i] = x;
    }
    return delete_run(zsl, x->level[0].forward, update, more_score, r, 0, fn, ud);
}

uint64_t zsl_delete_lex(struct zsl *zsl, const struct zset_lrange *r, zsl_del_fn *fn, void *ud)
{
    struct zsl_node *update[ZSL_MAXLEVEL], *x = zsl->header;

    if (zset_lrange_empty(r))
        return 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && !lex_gte(x->level[i].forward, r))
            x = x->level[i].forward;
        update[i] = x;
    }
    return delete_run(zsl, x->level[0].forward, update, more_lex, r, 0, fn, ud);
}

uint64_t zsl_delete_rank(struct zsl *zsl, uint64_t start, uint64_t end, zsl_del_fn *fn, void *ud)
{
    struct zsl_node *update[ZSL_MAXLEVEL], *x = zsl->header;
    uint64_t traversed = 0;

    if (start == 0 || start > end)
        return 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span < start) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    return delete_run(zsl, x->level[0].forward, update, more_rank, &end, traversed + 1, fn, ud);
}

size_t zsl_mem(const struct zsl *zsl)
{
    size_t total = 0;

    if (!zsl->header)
        return 0;
    total += malloc_usable_size(zsl->header);
    for (const struct zsl_node *n = zsl->header->level[0].forward; n; n = n->level[0].forward)
        total += malloc_usable_size((void *)n);
    return total;
}
