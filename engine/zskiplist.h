/*
 * zskiplist.h -- the skiplist half of a large sorted set (engine/t_zset.c
 * owns the whole; this module only orders nodes) and the score / lex range
 * specifications both encodings of a sorted set share.
 *
 * Pugh's skiplist ("Skip Lists: A Probabilistic Alternative to Balanced
 * Trees", CACM 1990) as Redis's t_zset.c extends it: repeated scores
 * allowed, ordered by (score, member bytes), a backward link at level 0 for
 * reverse walks, and a span per forward link (the number of level-0 steps it
 * skips) so that a rank is the sum of the spans crossed: rank queries and
 * access by rank are O(log n).
 *
 * Node layout (one allocation, 24 + 16 * level bytes):
 *
 *   ele       8   the member's dict node (engine/dict.h): its bytes are
 *                 ele->key[0..ele->len); the dict maps member -> score
 *   score     8
 *   backward  8   previous node at level 0, NULL for the first
 *   level[i]  16  { forward, span } for i in 0..level-1
 *
 * The member's bytes live once, in the dict node; the skiplist borrows them.
 *
 * Invariants:
 *  1. Level-0 links visit the nodes in strictly increasing (score, member)
 *     order (members compared as memcmp, a shorter prefix first); no two
 *     nodes share a member.
 *  2. For every node x (and the header) and level i < x's level:
 *     x->level[i].span = the number of level-0 steps from x to
 *     x->level[i].forward (or to one past the tail when forward is NULL,
 *     kept exact for the header only at levels < zsl->level).
 *  3. length = number of nodes; tail = last node or NULL; level = highest
 *     level in use (>= 1).
 *
 * Not thread-safe: the owning keyspace entry's shard lock guards every call.
 */
#ifndef STRATA_ZSKIPLIST_H
#define STRATA_ZSKIPLIST_H

#include <stddef.h>
#include <stdint.h>

#include "engine/dict.h"
#include "engine/util.h"

#define ZSL_MAXLEVEL 32
#define ZSL_P 0.25

struct zsl_node {
    struct dict_node *ele;
    double score;
    struct zsl_node *backward;
    struct zsl_level {
        struct zsl_node *forward;
        uint64_t span;
    } level[];
};

struct zsl {
    struct zsl_node *header; /* ZSL_MAXLEVEL levels, no member */
    struct zsl_node *tail;
    uint64_t length;
    int level;
};

/* A score interval: [min, max] with either end open when *ex is set. */
struct zset_srange {
    double min, max;
    int minex, maxex;
};

/* A lexicographic interval. An end is a string (inf = 0, exclusive or not),
 * or "-" (inf = -1: below every string) or "+" (inf = 1: above every
 * string). */
struct zset_lrange {
    const unsigned char *min, *max;
    size_t minlen, maxlen;
    int minex, maxex;
    int mininf, maxinf;
};

/* Score range tests (Redis's zslValueGteMin / zslValueLteMax). */
static inline int zset_score_gte_min(double v, const struct zset_srange *r)
{
    return r->minex ? v > r->min : v >= r->min;
}

static inline int zset_score_lte_max(double v, const struct zset_srange *r)
{
    return r->maxex ? v < r->max : v <= r->max;
}

/* 1 when no score can be in r (min > max, or min == max with an open end). */
int zset_srange_empty(const struct zset_srange *r);

/* Lex range tests on the bytes m[0..len). */
int zset_lex_gte_min(const void *m, size_t len, const struct zset_lrange *r);
int zset_lex_lte_max(const void *m, size_t len, const struct zset_lrange *r);
/* 1 when no string can be in r. */
int zset_lrange_empty(const struct zset_lrange *r);

/* Compares member bytes as Redis's sdscmp: memcmp, then the shorter first. */
int zset_memcmp(const void *a, size_t alen, const void *b, size_t blen);

/* Initialises an empty skiplist in caller storage. Returns 0 or ST_ENOMEM. */
int zsl_init(struct zsl *zsl);

/* Frees every node (not the dict nodes they borrow) and the header. */
void zsl_deinit(struct zsl *zsl);

/* A random level in 1..ZSL_MAXLEVEL, P(level > k) = ZSL_P^k. */
int zsl_random_level(struct util_rng *rng);

/* Inserts (score, ele); ele (borrowed, must outlive the node) must not be
 * in the list. level from zsl_random_level. Returns the node or NULL (OOM;
 * list unchanged). */
struct zsl_node *zsl_insert(struct zsl *zsl, double score, struct dict_node *ele, int level);

/* Deletes the node (score, m). Returns 1 when found and deleted, else 0. */
int zsl_delete(struct zsl *zsl, double score, const void *m, size_t len);

/* 1-based rank of (score, m), 0 when absent. O(log n). */
uint64_t zsl_rank(const struct zsl *zsl, double score, const void *m, size_t len);

/* The node at 1-based rank, NULL when out of range. O(log n). */
struct zsl_node *zsl_by_rank(const struct zsl *zsl, uint64_t rank);

/* First / last node whose score is in r, NULL when none. */
struct zsl_node *zsl_first_in_score(const struct zsl *zsl, const struct zset_srange *r);
struct zsl_node *zsl_last_in_score(const struct zsl *zsl, const struct zset_srange *r);
/* First / last node whose member is in r, NULL when none. */
struct zsl_node *zsl_first_in_lex(const struct zsl *zsl, const struct zset_lrange *r);
struct zsl_node *zsl_last_in_lex(const struct zsl *zsl, const struct zset_lrange *r);

/* Range deletion: each node is unlinked, passed to fn (which deals with its
 * dict node: the node's ele is still valid during the call), then freed.
 * Return the number deleted. Ranks are 1-based and inclusive. */
typedef void zsl_del_fn(struct zsl_node *n, void *ud);
uint64_t zsl_delete_score(struct zsl *zsl, const struct zset_srange *r, zsl_del_fn *fn, void *ud);
uint64_t zsl_delete_lex(struct zsl *zsl, const struct zset_lrange *r, zsl_del_fn *fn, void *ud);
uint64_t zsl_delete_rank(struct zsl *zsl, uint64_t start, uint64_t end, zsl_del_fn *fn, void *ud);

/* Bytes the allocator holds for the nodes and the header. O(n). */
size_t zsl_mem(const struct zsl *zsl);

#endif
