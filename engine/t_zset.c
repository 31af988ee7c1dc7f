/*
 * t_zset.c -- the sorted set type: both encodings behind one API (t_zset.h),
 * conversion between them, ranges by rank, score and lex, and the type's
 * object operations (zset_obj_ops).
 *
 * What it owns: the set object (an lpack buffer or a struct zset_big and its
 * dict and skiplist). What it does not: commands, replies and option
 * grammar (server/cmd_zset.c, cmd_zsetops.c), the skiplist's node
 * bookkeeping (engine/zskiplist.c), the lpack and dict formats (lpack.c,
 * dict.c) and locking (the keyspace shard of the owning entry).
 *
 * Data model (details in t_zset.h):
 *
 *   listpack:  [total u32 != 0][count u32][m0][s0][m1][s1]...[0xFF]
 *              pairs sorted by (score, member); a score is the lpack form
 *              of its zset_score_text ("1.5" a string, "3" an integer).
 *   skiplist:  struct zset_big { tag = 0, dict *d, zsl, rng }
 *              d:   member -> dict_node { v.d = score, key = member }
 *              zsl: nodes { ele = that dict_node, score, spans }
 *
 * Invariants:
 *  1. Both views of a skiplist set hold the same members with the same
 *     scores: every dict node is borrowed by exactly one skiplist node, and
 *     dict_node.v.d == zsl_node.score.
 *  2. No score is NaN (zset_add refuses it before changing anything).
 *  3. A listpack set never exceeds the limits it was last checked against
 *     by zset_add / zset_shrink_if_fits; a skiplist set may be small (no
 *     conversion back on delete, as in Redis).
 *  4. Every function either completes or, on ST_ENOMEM, leaves the set as
 *     it was (insertions allocate before they unlink anything).
 *
 * Threads: none; callers hold the owning entry's shard lock.
 *
 * References: Redis 7 src/t_zset.c (zsetAdd, zzl*, zsl*, the conversion
 * rules and zsetTypeCreate of 7.2).
 */
#include "engine/t_zset.h"

#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/lpack.h"

/* Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack never grows past 1 GB. */
#define ZSET_LP_SAFETY (1u << 30)
/* Buffer for a score's text (util_d2str needs >= 128). */
#define ZSET_SCORE_BUF 128

/* ------------------------------------------------------------------------ */
/* Listpack helpers (zzl_*: member/score pairs in one lpack)                */
/* ------------------------------------------------------------------------ */

/* The score stored at sp. */
static double zzl_score(const unsigned char *sp)
{
    struct lp_val v;
    char buf[ZSET_SCORE_BUF];
    size_t n;

    lp_get(sp, &v);
    if (!v.s)
        return (double)v.i;
    n = v.len < sizeof(buf) - 1 ? v.len : sizeof(buf) - 1;
    memcpy(buf, v.s, n);
    buf[n] = '\0';
    return strtod(buf, NULL);
}

/* The member at ep, as bytes (ints formatted into buf, >= 24 bytes). */
static const unsigned char *zzl_member(const unsigned char *ep, unsigned char *buf, size_t *len)
{
    struct lp_val v;

    lp_get(ep, &v);
    return lp_val_str(&v, buf, len);
}

/* Compares the member at ep with m. */
static int zzl_cmp(const unsigned char *ep, const void *m, size_t len)
{
    unsigned char buf[24];
    size_t elen;
    const unsigned char *e = zzl_member(ep, buf, &elen);

    return zset_memcmp(e, elen, m, len);
}

static uint64_t zzl_len(const unsigned char *lp)
{
    return lp_count(lp) / 2;
}

/* Next / previous pair's member from ep's pair; NULL past either end. */
static unsigned char *zzl_next(unsigned char *lp, unsigned char *ep)
{
    unsigned char *sp = lp_next(lp, ep);

    return sp ? lp_next(lp, sp) : NULL;
}

static unsigned char *zzl_prev(unsigned char *lp, unsigned char *ep)
{
    unsigned char *sp = lp_prev(lp, ep);

    return sp ? lp_prev(lp, sp) : NULL;
}

/* The member position of m, its score in *score (if not NULL); NULL when
 * absent. */
static unsigned char *zzl_find(unsigned char *lp, const void *m, size_t len, double *score)
{
    unsigned char *ep = lp_find(lp, lp_first(lp), m, len, 1);

    if (ep && score)
        *score = zzl_score(lp_next(lp, ep));
    return ep;
}

int zset_score_text(char *buf, size_t buflen, double v)
{
    /* Redis 7.0's d2string: integral values in +-2^62 as integers (so -0
     * is "0" and 1e17 is "100000000000000000"), else "%.17g" */
    if (v >= -(double)(LLONG_MAX / 2) && v <= (double)(LLONG_MAX / 2) && (double)(long long)v == v)
        return util_ll2str(buf, (long long)v);
    return util_d2str(buf, buflen, v);
}

/* Inserts the pair (m, score) before the member at ep (NULL: append).
 * *lpp is updated even on failure (it may have moved); on ST_ENOMEM the pack
 * holds the same elements as before. */
static int zzl_insert_at(unsigned char **lpp, unsigned char *ep, const void *m, size_t len, double score)
{
    char sbuf[ZSET_SCORE_BUF];
    int slen = zset_score_text(sbuf, sizeof(sbuf), score);
    unsigned char *lp = *lpp, *nlp, *newp;

    nlp = lp_insert(lp, ep, m, len, &newp);
    if (!nlp)
        return ST_ENOMEM;
    lp = nlp;
    nlp = lp_insert(lp, lp_next(lp, newp), sbuf, (size_t)slen, NULL);
    if (!nlp) {
        *lpp = lp_delete(lp, newp, 1, NULL);
        return ST_ENOMEM;
    }
    *lpp = nlp;
    return ST_OK;
}

/* True when pair (s, ep) sorts before (score, m). */
static int zzl_before(unsigned char *ep, double s, double score, const void *m, size_t len)
{
    return s < score || (s == score && zzl_cmp(ep, m, len) < 0);
}

/* Inserts (m, score) at its place (m must be absent). */
static int zzl_insert(unsigned char **lpp, const void *m, size_t len, double score)
{
    unsigned char *lp = *lpp;
    unsigned char *ep = lp_first(lp);

    while (ep) {
        unsigned char *sp = lp_next(lp, ep);

        if (!zzl_before(ep, zzl_score(sp), score, m, len))
            break;
        ep = lp_next(lp, sp);
    }
    return zzl_insert_at(lpp, ep, m, len, score);
}

/* Changes the score of the member at ep (value m) to score. Allocates the
 * new pair before deleting the old one (invariant 4). */
static int zzl_update(unsigned char **lpp, unsigned char *ep, const void *m, size_t len, double score)
{
    unsigned char *lp = *lpp;
    uint64_t i = 0, j = 0, k = 0;
    unsigned char *p;

    for (p = lp_first(lp); p; p = zzl_next(lp, p), k++) {
        if (p == ep) {
            i = k;
            continue;
        }
        if (zzl_before(p, zzl_score(lp_next(lp, p)), score, m, len))
            j++;
    }
    if (j == i) {
        /* the order does not change: rewrite the score in place */
        char sbuf[ZSET_SCORE_BUF];
        int slen = zset_score_text(sbuf, sizeof(sbuf), score);
        unsigned char *nlp = lp_replace(lp, lp_next(lp, ep), sbuf, (size_t)slen, NULL);

        if (!nlp)
            return ST_ENOMEM;
        *lpp = nlp;
        return ST_OK;
    }
    /* insert at pair position j (counted without the old pair) */
    uint64_t at = j < i ? j : j + 1;
    unsigned char *before = lp_seek(lp, (long)(2 * at));
    int rc = zzl_insert_at(lpp, before, m, len, score);

    if (rc != ST_OK)
        return rc;
    lp = *lpp;
    uint64_t old = j < i ? i + 1 : i;
    *lpp = lp_delete(lp, lp_seek(lp, (long)(2 * old)), 2, NULL);
    return ST_OK;
}

/* First / last member position in a score or lex range, NULL when none. */
static unsigned char *zzl_first_in_score(unsigned char *lp, const struct zset_srange *r)
{
    if (zset_srange_empty(r))
        return NULL;
    for (unsigned char *ep = lp_first(lp); ep; ep = zzl_next(lp, ep)) {
        double s = zzl_score(lp_next(lp, ep));

        if (zset_score_gte_min(s, r))
            return zset_score_lte_max(s, r) ? ep : NULL;
    }
    return NULL;
}

static unsigned char *zzl_last_in_score(unsigned char *lp, const struct zset_srange *r)
{
    unsigned char *sp = lp_last(lp);

    if (zset_srange_empty(r))
        return NULL;
    while (sp) {
        unsigned char *ep = lp_prev(lp, sp);
        double s = zzl_score(sp);

        if (zset_score_lte_max(s, r))
            return zset_score_gte_min(s, r) ? ep : NULL;
        sp = lp_prev(lp, ep);
    }
    return NULL;
}

static int zzl_lex_gte(const unsigned char *ep, const struct zset_lrange *r)
{
    unsigned char buf[24];
    size_t len;
    const unsigned char *m = zzl_member(ep, buf, &len);

    return zset_lex_gte_min(m, len, r);
}

static int zzl_lex_lte(const unsigned char *ep, const struct zset_lrange *r)
{
    unsigned char buf[24];
    size_t len;
    const unsigned char *m = zzl_member(ep, buf, &len);

    return zset_lex_lte_max(m, len, r);
}

static unsigned char *zzl_first_in_lex(unsigned char *lp, const struct zset_lrange *r)
{
    if (zset_lrange_empty(r))
        return NULL;
    for (unsigned char *ep = lp_first(lp); ep; ep = zzl_next(lp, ep))
        if (zzl_lex_gte(ep, r))
            return zzl_lex_lte(ep, r) ? ep : NULL;
    return NULL;
}

static unsigned char *zzl_last_in_lex(unsigned char *lp, const struct zset_lrange *r)
{
    unsigned char *sp = lp_last(lp);

    if (zset_lrange_empty(r))
        return NULL;
    while (sp) {
        unsigned char *ep = lp_prev(lp, sp);

        if (zzl_lex_lte(ep, r))
            return zzl_lex_gte(ep, r) ? ep : NULL;
        sp = lp_prev(lp, ep);
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Skiplist sets                                                            */
/* ------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t zset_dict_seed(const void *salt)
{
    return splitmix64((uint64_t)(uintptr_t)salt ^ (uint64_t)util_mono_us() ^ ((uint64_t)util_time_us() << 20));
}

/* An empty skiplist set around d (taken), or a new dict when d is NULL.
 * NULL on OOM (d destroyed). */
static struct zset_big *big_create(struct dict *d)
{
    struct zset_big *b = calloc(1, sizeof(*b));
    uint64_t seed;

    if (!b)
        goto fail;
    seed = zset_dict_seed(b);
    if (!d)
        d = dict_create(seed);
    if (!d)
        goto fail_b;
    b->d = d;
    if (zsl_init(&b->zsl) != ST_OK)
        goto fail_b;
    util_rng_seed(&b->rng, splitmix64(seed));
    return b;

fail_b:
    free(b);
fail:
    if (d)
        dict_destroy(d, NULL);
    return NULL;
}

static void big_destroy(struct zset_big *b)
{
    zsl_deinit(&b->zsl);
    dict_destroy(b->d, NULL);
    free(b);
}

/* Adds (m, score); m must be absent. */
static int big_insert(struct zset_big *b, double score, const void *m, size_t len)
{
    int added;
    struct dict_node *dn = dict_add(b->d, m, len, &added);

    if (!dn)
        return ST_ENOMEM;
    dn->v.d = score;
    if (!zsl_insert(&b->zsl, score, dn, zsl_random_level(&b->rng))) {
        free(dict_unlink(b->d, m, len));
        return ST_ENOMEM;
    }
    return ST_OK;
}

/* Moves dn (a member of b) to score (invariant 4: new node first). */
static int big_update(struct zset_big *b, struct dict_node *dn, double score)
{
    double cur = dn->v.d;

    if (!zsl_insert(&b->zsl, score, dn, zsl_random_level(&b->rng)))
        return ST_ENOMEM;
    zsl_delete(&b->zsl, cur, dn->key, dn->len);
    dn->v.d = score;
    return ST_OK;
}

static int big_del(struct zset_big *b, const void *m, size_t len)
{
    struct dict_node *dn = dict_unlink(b->d, m, len);

    if (!dn)
        return 0;
    zsl_delete(&b->zsl, dn->v.d, dn->key, dn->len);
    free(dn);
    return 1;
}

/* zsl_del_fn: drops the deleted node's member from the dict. */
static void big_drop_member(struct zsl_node *n, void *ud)
{
    struct zset_big *b = ud;
    struct dict_node *dn = n->ele;

    free(dict_unlink(b->d, dn->key, dn->len));
}

/* ------------------------------------------------------------------------ */
/* Creation, conversion, destruction                                        */
/* ------------------------------------------------------------------------ */

void *zset_create(uint64_t size_hint, size_t maxelelen, const struct type_limits *lim)
{
    if (size_hint <= lim->zset_max_lp_entries && maxelelen <= lim->zset_max_lp_value)
        return lp_create();
    return big_create(NULL);
}

void *zset_create_big_seeded(uint64_t seed)
{
    struct dict *d = dict_create(seed);
    return d ? big_create(d) : NULL;
}

void zset_destroy(void *zs)
{
    if (!zs)
        return;
    if (zset_is_lp(zs))
        lp_destroy(zs);
    else
        big_destroy(zs);
}

int zset_to_big(void **zsp)
{
    unsigned char *lp = *zsp;
    struct zset_big *b;

    if (!zset_is_lp(lp))
        return ST_OK;
    b = big_create(NULL);
    if (!b)
        return ST_ENOMEM;
    for (unsigned char *ep = lp_first(lp); ep; ep = zzl_next(lp, ep)) {
        unsigned char buf[24];
        size_t len;
        const unsigned char *m = zzl_member(ep, buf, &len);

        if (big_insert(b, zzl_score(lp_next(lp, ep)), m, len) != ST_OK) {
            big_destroy(b);
            return ST_ENOMEM;
        }
    }
    lp_destroy(lp);
    *zsp = b;
    return ST_OK;
}

/* The listpack form of skiplist set b, or NULL on OOM. */
static unsigned char *big_to_lp(struct zset_big *b)
{
    unsigned char *lp = lp_create();

    if (!lp)
        return NULL;
    for (struct zsl_node *n = b->zsl.header->level[0].forward; n; n = n->level[0].forward) {
        if (zzl_insert_at(&lp, NULL, n->ele->key, n->ele->len, n->score) != ST_OK) {
            lp_destroy(lp);
            return NULL;
        }
    }
    return lp;
}

int zset_shrink_if_fits(void **zsp, const struct type_limits *lim)
{
    struct zset_big *b = *zsp;
    size_t maxlen = 0, total = 0;
    unsigned char *lp;

    if (zset_is_lp(b) || b->zsl.length > lim->zset_max_lp_entries)
        return ST_OK;
    for (struct zsl_node *n = b->zsl.header->level[0].forward; n; n = n->level[0].forward) {
        if (n->ele->len > maxlen)
            maxlen = n->ele->len;
        total += n->ele->len;
    }
    if (maxlen > lim->zset_max_lp_value || total + 32 * b->zsl.length >= ZSET_LP_SAFETY)
        return ST_OK;
    lp = big_to_lp(b);
    if (!lp)
        return ST_ENOMEM;
    big_destroy(b);
    *zsp = lp;
    return ST_OK;
}

void *zset_from_dict(struct dict *d, const struct type_limits *lim)
{
    struct zset_big *b = big_create(d);
    struct dict_iter it;
    struct dict_node *n;
    void *zs;

    if (!b)
        return NULL;
    dict_iter_init(&it, b->d);
    while ((n = dict_iter_next(&it)) != NULL) {
        if (!zsl_insert(&b->zsl, n->v.d, n, zsl_random_level(&b->rng))) {
            dict_iter_done(&it);
            big_destroy(b);
            return NULL;
        }
    }
    dict_iter_done(&it);
    zs = b;
    (void)zset_shrink_if_fits(&zs, lim); /* OOM: stays a skiplist */
    return zs;
}

static void *zset_dup(const void *src)
{
    if (zset_is_lp(src)) {
        const unsigned char *lp = src;
        unsigned char *c = malloc(lp_bytes(lp));

        if (c)
            memcpy(c, lp, lp_bytes(lp));
        return c;
    }
    const struct zset_big *b = src;
    struct zset_big *nb = big_create(NULL);

    if (!nb)
        return NULL;
    /* from the tail: each insertion lands at the head, O(1) search */
    for (struct zsl_node *n = b->zsl.tail; n; n = n->backward) {
        if (big_insert(nb, n->score, n->ele->key, n->ele->len) != ST_OK) {
            big_destroy(nb);
            return NULL;
        }
    }
    return nb;
}

static size_t zset_mem(const void *zs)
{
    if (zset_is_lp(zs))
        return malloc_usable_size((void *)zs);
    const struct zset_big *b = zs;
    return malloc_usable_size((void *)b) + malloc_usable_size(b->d) + dict_mem(b->d) + zsl_mem(&b->zsl);
}

static void zset_free(void *zs)
{
    zset_destroy(zs);
}

const char *zset_encoding(const void *zs)
{
    return zset_is_lp(zs) ? "listpack" : "skiplist";
}

const struct obj_ops zset_obj_ops = {
    .name = "zset",
    .free = zset_free,
    .dup = zset_dup,
    .mem = zset_mem,
    .encoding = zset_encoding,
};

/* ------------------------------------------------------------------------ */
/* Point operations                                                         */
/* ------------------------------------------------------------------------ */

uint64_t zset_len(const void *zs)
{
    if (zset_is_lp(zs))
        return zzl_len(zs);
    return ((const struct zset_big *)zs)->zsl.length;
}

int zset_score(void *zs, const void *m, size_t len, double *score)
{
    if (zset_is_lp(zs))
        return zzl_find(zs, m, len, score) ? ST_OK : ST_ENOENT;
    struct dict_node *dn = dict_find(((struct zset_big *)zs)->d, m, len);
    if (!dn)
        return ST_ENOENT;
    *score = dn->v.d;
    return ST_OK;
}

/* The NX / XX / GT / LT / INCR decision for an existing member with score
 * cur. Returns 1 when the score is to be set to *score. */
static int add_existing(int in_flags, double cur, double *score, int *out_flags)
{
    if (in_flags & ZSET_IN_NX) {
        *out_flags |= ZSET_OUT_NOP;
        return 0;
    }
    if (in_flags & ZSET_IN_INCR) {
        *score += cur;
        if (isnan(*score)) {
            *out_flags |= ZSET_OUT_NAN;
            return 0;
        }
    }
    if (((in_flags & ZSET_IN_LT) && *score >= cur) || ((in_flags & ZSET_IN_GT) && *score <= cur)) {
        *out_flags |= ZSET_OUT_NOP;
        return 0;
    }
    return 1;
}

int zset_add(void **zsp, const struct type_limits *lim, double score, const void *m, size_t len, int in_flags,
             int *out_flags, double *newscore)
{
    void *zs = *zsp;
    double cur;
    int rc;

    *out_flags = 0;
    if (isnan(score)) {
        *out_flags = ZSET_OUT_NAN;
        return ST_EINVAL;
    }
    if (zset_is_lp(zs)) {
        unsigned char *lp = zs;
        unsigned char *ep = zzl_find(lp, m, len, &cur);

        if (ep) {
            if (!add_existing(in_flags, cur, &score, out_flags))
                return (*out_flags & ZSET_OUT_NAN) ? ST_EINVAL : ST_OK;
            if (newscore)
                *newscore = score;
            if (score != cur) {
                rc = zzl_update(&lp, ep, m, len, score);
                *zsp = lp;
                if (rc != ST_OK)
                    return rc;
                *out_flags |= ZSET_OUT_UPDATED;
            }
            return ST_OK;
        }
        if (in_flags & ZSET_IN_XX) {
            *out_flags |= ZSET_OUT_NOP;
            return ST_OK;
        }
        if (zzl_len(lp) + 1 <= lim->zset_max_lp_entries && len <= lim->zset_max_lp_value &&
            (uint64_t)lp_bytes(lp) + len + 64 < ZSET_LP_SAFETY) {
            rc = zzl_insert(&lp, m, len, score);
            *zsp = lp;
            if (rc != ST_OK)
                return rc;
            if (newscore)
                *newscore = score;
            *out_flags |= ZSET_OUT_ADDED;
            return ST_OK;
        }
        if (zset_to_big(zsp) != ST_OK)
            return ST_ENOMEM;
        zs = *zsp;
        /* the member is absent: fall through to the skiplist add */
    }

    struct zset_big *b = zs;
    struct dict_node *dn = dict_find(b->d, m, len);

    if (dn) {
        cur = dn->v.d;
        if (!add_existing(in_flags, cur, &score, out_flags))
            return (*out_flags & ZSET_OUT_NAN) ? ST_EINVAL : ST_OK;
        if (newscore)
            *newscore = score;
        if (score != cur) {
            if (big_update(b, dn, score) != ST_OK)
                return ST_ENOMEM;
            *out_flags |= ZSET_OUT_UPDATED;
        }
        return ST_OK;
    }
    if (in_flags & ZSET_IN_XX) {
        *out_flags |= ZSET_OUT_NOP;
        return ST_OK;
    }
    if (big_insert(b, score, m, len) != ST_OK)
        return ST_ENOMEM;
    if (newscore)
        *newscore = score;
    *out_flags |= ZSET_OUT_ADDED;
    return ST_OK;
}

int zset_del(void **zsp, const void *m, size_t len)
{
    void *zs = *zsp;

    if (zset_is_lp(zs)) {
        unsigned char *ep = zzl_find(zs, m, len, NULL);

        if (!ep)
            return 0;
        *zsp = lp_delete(zs, ep, 2, NULL);
        return 1;
    }
    return big_del(zs, m, len);
}

int64_t zset_rank(void *zs, const void *m, size_t len, int rev, double *score)
{
    uint64_t n = zset_len(zs), rank;

    if (zset_is_lp(zs)) {
        unsigned char *lp = zs;
        unsigned char *ep = zzl_find(lp, m, len, score);

        if (!ep)
            return -1;
        rank = 0;
        for (unsigned char *p = lp_first(lp); p != ep; p = zzl_next(lp, p))
            rank++;
    } else {
        struct zset_big *b = zs;
        struct dict_node *dn = dict_find(b->d, m, len);

        if (!dn)
            return -1;
        if (score)
            *score = dn->v.d;
        rank = zsl_rank(&b->zsl, dn->v.d, m, len) - 1;
    }
    return (int64_t)(rev ? n - 1 - rank : rank);
}

/* ------------------------------------------------------------------------ */
/* Ranges                                                                   */
/* ------------------------------------------------------------------------ */

uint64_t zset_count_score(void *zs, const struct zset_srange *r)
{
    uint64_t count = 0;

    if (zset_is_lp(zs)) {
        unsigned char *lp = zs;

        for (unsigned char *ep = zzl_first_in_score(lp, r); ep; ep = zzl_next(lp, ep)) {
            if (!zset_score_lte_max(zzl_score(lp_next(lp, ep)), r))
                break;
            count++;
        }
        return count;
    }
    struct zset_big *b = zs;
    struct zsl_node *first = zsl_first_in_score(&b->zsl, r), *last;

    if (!first)
        return 0;
    last = zsl_last_in_score(&b->zsl, r);
    return zsl_rank(&b->zsl, last->score, last->ele->key, last->ele->len) -
           zsl_rank(&b->zsl, first->score, first->ele->key, first->ele->len) + 1;
}

uint64_t zset_count_lex(void *zs, const struct zset_lrange *r)
{
    uint64_t count = 0;

    if (zset_is_lp(zs)) {
        unsigned char *lp = zs;

        for (unsigned char *ep = zzl_first_in_lex(lp, r); ep; ep = zzl_next(lp, ep)) {
            if (!zzl_lex_lte(ep, r))
                break;
            count++;
        }
        return count;
    }
    struct zset_big *b = zs;
    struct zsl_node *first = zsl_first_in_lex(&b->zsl, r), *last;

    if (!first)
        return 0;
    last = zsl_last_in_lex(&b->zsl, r);
    return zsl_rank(&b->zsl, last->score, last->ele->key, last->ele->len) -
           zsl_rank(&b->zsl, first->score, first->ele->key, first->ele->len) + 1;
}

uint64_t zset_del_rank(void **zsp, uint64_t start, uint64_t end)
{
    void *zs = *zsp;
    uint64_t n = zset_len(zs);

    if (start > end || start >= n)
        return 0;
    if (end >= n)
        end = n - 1;
    if (zset_is_lp(zs)) {
        unsigned char *lp = zs;

        *zsp = lp_delete(lp, lp_seek(lp, (long)(2 * start)), (uint32_t)(2 * (end - start + 1)), NULL);
        return end - start + 1;
    }
    return zsl_delete_rank(&((struct zset_big *)zs)->zsl, start + 1, end + 1, big_drop_member, zs);
}

uint64_t zset_del_score(void **zsp, const struct zset_srange *r)
{
    void *zs = *zsp;
    uint64_t count = 0;

    if (zset_is_lp(zs)) {
        unsigned char *lp = zs;
        unsigned char *ep = zzl_first_in_score(lp, r);

        while (ep && zset_score_lte_max(zzl_score(lp_next(lp, ep)), r)) {
            lp = lp_delete(lp, ep, 2, &ep);
            count++;
        }
        *zsp = lp;
        return count;
    }
    return zsl_delete_score(&((struct zset_big *)zs)->zsl, r, big_drop_member, zs);
}

uint64_t zset_del_lex(void **zsp, const struct zset_lrange *r)
{
    void *zs = *zsp;
    uint64_t count = 0;

    if (zset_is_lp(zs)) {
        unsigned char *lp = zs;
        unsigned char *ep = zzl_first_in_lex(lp, r);

        while (ep && zzl_lex_lte(ep, r)) {
            lp = lp_delete(lp, ep, 2, &ep);
            count++;
        }
        *zsp = lp;
        return count;
    }
    return zsl_delete_lex(&((struct zset_big *)zs)->zsl, r, big_drop_member, zs);
}

/* ------------------------------------------------------------------------ */
/* Iteration                                                                */
/* ------------------------------------------------------------------------ */

void zset_it_rank(struct zset_it *it, void *zs, uint64_t rank, int rev)
{
    uint64_t n = zset_len(zs);

    it->zs = zs;
    it->rev = rev;
    it->p = NULL;
    it->n = NULL;
    if (rank >= n)
        return;
    if (zset_is_lp(zs)) {
        it->p = lp_seek(zs, rev ? -2 - (long)(2 * rank) : (long)(2 * rank));
        return;
    }
    struct zset_big *b = zs;
    if (rank == 0)
        it->n = rev ? b->zsl.tail : b->zsl.header->level[0].forward;
    else
        it->n = zsl_by_rank(&b->zsl, rev ? n - rank : rank + 1);
}

void zset_it_score(struct zset_it *it, void *zs, const struct zset_srange *r, int rev)
{
    it->zs = zs;
    it->rev = rev;
    it->p = NULL;
    it->n = NULL;
    if (zset_is_lp(zs)) {
        it->p = rev ? zzl_last_in_score(zs, r) : zzl_first_in_score(zs, r);
        return;
    }
    struct zset_big *b = zs;
    it->n = rev ? zsl_last_in_score(&b->zsl, r) : zsl_first_in_score(&b->zsl, r);
}

void zset_it_lex(struct zset_it *it, void *zs, const struct zset_lrange *r, int rev)
{
    it->zs = zs;
    it->rev = rev;
    it->p = NULL;
    it->n = NULL;
    if (zset_is_lp(zs)) {
        it->p = rev ? zzl_last_in_lex(zs, r) : zzl_first_in_lex(zs, r);
        return;
    }
    struct zset_big *b = zs;
    it->n = rev ? zsl_last_in_lex(&b->zsl, r) : zsl_first_in_lex(&b->zsl, r);
}

int zset_it_next(struct zset_it *it, struct zset_elem *e)
{
    if (zset_is_lp(it->zs)) {
        unsigned char *lp = it->zs;
        unsigned char *sp;

        if (!it->p)
            return 0;
        sp = lp_next(lp, it->p);
        e->m = zzl_member(it->p, e->buf, &e->len);
        e->score = zzl_score(sp);
        it->p = it->rev ? zzl_prev(lp, it->p) : lp_next(lp, sp);
        return 1;
    }
    if (!it->n)
        return 0;
    e->m = it->n->ele->key;
    e->len = it->n->ele->len;
    e->score = it->n->score;
    it->n = it->rev ? it->n->backward : it->n->level[0].forward;
    return 1;
}

void zset_it_skip(struct zset_it *it, uint64_t n)
{
    if (zset_is_lp(it->zs)) {
        unsigned char *lp = it->zs;

        while (n-- && it->p)
            it->p = it->rev ? zzl_prev(lp, it->p) : zzl_next(lp, it->p);
        return;
    }
    while (n-- && it->n)
        it->n = it->rev ? it->n->backward : it->n->level[0].forward;
}

int zset_at(void *zs, uint64_t rank, struct zset_elem *e)
{
    struct zset_it it;

    zset_it_rank(&it, zs, rank, 0);
    return zset_it_next(&it, e) ? ST_OK : ST_ENOENT;
}

void zset_random(void *zs, struct util_rng *rng, struct zset_elem *e)
{
    if (zset_is_lp(zs)) {
        uint64_t i = util_rng_next(rng) % zzl_len(zs);

        (void)zset_at(zs, i, e);
        return;
    }
    /* a random rank: exactly uniform, O(log n) (a dict's random bucket
     * then chain is not) */
    struct zset_big *b = zs;
    struct zsl_node *n = zsl_by_rank(&b->zsl, 1 + util_rng_next(rng) % b->zsl.length);

    e->m = n->ele->key;
    e->len = n->ele->len;
    e->score = n->score;
}

struct scan_ctx {
    zset_scan_fn *fn;
    void *ud;
};

static void scan_node(struct dict_node *n, void *ud)
{
    struct scan_ctx *ctx = ud;

    ctx->fn(n->key, n->len, n->v.d, ctx->ud);
}

uint64_t zset_scan(void *zs, uint64_t cursor, zset_scan_fn *fn, void *ud)
{
    if (zset_is_lp(zs)) {
        struct zset_it it;
        struct zset_elem e;

        zset_it_rank(&it, zs, 0, 0);
        while (zset_it_next(&it, &e))
            fn(e.m, e.len, e.score, ud);
        return 0;
    }
    struct scan_ctx ctx = { fn, ud };
    return dict_scan(((struct zset_big *)zs)->d, cursor, scan_node, &ctx);
}

/* ------------------------------------------------------------------------ */
/* Argument parsing                                                         */
/* ------------------------------------------------------------------------ */

int zset_parse_score_bound(const char *s, size_t len, double *v, int *ex)
{
    char stack[128], *buf = stack, *end;
    int rc = ST_OK;

    *ex = 0;
    if (len && s[0] == '(') {
        *ex = 1;
        s++;
        len--;
    }
    if (len >= sizeof(stack)) {
        buf = malloc(len + 1);
        if (!buf)
            return ST_ENOMEM;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* strtod's whole syntax, as Redis (leading blanks, hex, "inf"); an
     * embedded NUL ends the number as it ends Redis's C string */
    *v = strtod(buf, &end);
    if (*end != '\0' || isnan(*v))
        rc = ST_EINVAL;
    if (buf != stack)
        free(buf);
    return rc;
}

int zset_parse_lex_bound(const char *s, size_t len, const unsigned char **m, size_t *mlen, int *ex, int *inf)
{
    *m = NULL;
    *mlen = 0;
    *inf = 0;
    if (len == 0)
        return ST_EINVAL;
    switch (s[0]) {
    case '+':
    case '-':
        if (len != 1)
            return ST_EINVAL;
        *inf = s[0] == '+' ? 1 : -1;
        *ex = 1;
        return ST_OK;
    case '(':
    case '[':
        *ex = s[0] == '(';
        *m = (const unsigned char *)s + 1;
        *mlen = len - 1;
        return ST_OK;
    default:
        return ST_EINVAL;
    }
}
