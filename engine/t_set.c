/*
 * t_set.c -- the set type (engine/t_set.h): three encodings, the conversions
 * between them, random members, pops, scans and set algebra.
 *
 * What it owns: the set objects behind OBJ_SET entries and the rules of
 * Redis 7.2's t_set.c about which encoding a set has. What it does not: the
 * encodings themselves (engine/intset.c, engine/lpack.c, engine/dict.c), the
 * keyspace, locking, argument parsing and replies (server/cmd_set.c).
 *
 * Data model. A set is a tagged pointer to one of three objects:
 *
 *   handle = object address | tag        (objects are >= 8-byte aligned)
 *
 *   tag 0  listpack   unsigned char *    elements in insertion order, a
 *                                        canonical integer stored as an int
 *   tag 1  intset     struct intset *    sorted int16/32/64 array
 *   tag 2  hashtable  struct dict *      one node per member, key = the
 *                                        member's bytes (integers as text),
 *                                        the node's value unused
 *
 * The entry's ENC_PTR value is the handle itself, so a small set costs the
 * encoding's own bytes and nothing else (Redis adds a 16-byte robj). The
 * tag is stripped before any dereference; no other module looks inside.
 *
 * Invariants:
 *  1. An intset set holds at most min(set-max-intset-entries, 2^30) members,
 *     all integers; it becomes a listpack or a hashtable before it would
 *     break that (set_add).
 *  2. A listpack set holds at most set-max-listpack-entries members of at
 *     most set-max-listpack-value bytes each (as text) and at most 1 GB in
 *     all, at the moment each member was added (a later CONFIG SET does not
 *     convert existing sets, as in Redis).
 *  3. Sets never convert back to a smaller encoding in place; results of
 *     set algebra and SPOP's rebuild start small and grow (as Redis 7.2).
 *  4. A hashtable set stores a member that is a canonical integer as its
 *     text; a listpack stores it as an int (lpack invariant 2): lookups
 *     compare by value, so "10" and "010" stay distinct members.
 *  5. Every function that can fail for memory leaves the set's members as
 *     they were and emits nothing. (set_add may have converted the encoding
 *     before the allocation for the new member itself failed.)
 *
 * Conversion rules (Redis 7.2 setTypeAddAux / setTypeCreate /
 * setTypeMaybeConvert / maybeConvertIntset):
 *   - intset + integer past the intset limit      -> hashtable
 *   - intset + non-integer                        -> listpack when the set
 *     would fit one (entries, member length, digits of min/max), else
 *     hashtable
 *   - listpack + member past the entries or value limit -> hashtable
 *   - SADD of N arguments first converts a set that could not hold N
 *     members to a hashtable (size hint), even when some are duplicates.
 *
 * Random members and pops follow Redis's strategies (t_set.c
 * srandmemberWithCountCommand, spopWithCountCommand) for their complexity:
 * the constants SRANDMEMBER_SUB_STRATEGY_MUL (3), SPOP_MOVE_STRATEGY_MUL (5)
 * and a 1000-draw batch for walking a listpack are Redis's.
 *
 * Threads: none of its own; the caller holds the owning entry's shard lock.
 *
 * References: Redis 7.2 src/t_set.c; Knuth TAOCP vol. 2, 3.4.2, algorithm S
 * (selection sampling), which Redis's lpNextRandom implements.
 */
#include "engine/t_set.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/ht.h"
#include "engine/intset.h"
#include "engine/lpack.h"

#define SET_TAG_MASK ((uintptr_t)3)
#define SET_INTSET_HARD_MAX (1u << 30)      /* Redis's intsetMaxEntries cap */
#define SET_LP_MAX_BYTES (1u << 30)         /* Redis's lpSafeToAdd */
#define SET_SUB_STRATEGY_MUL 3              /* SRANDMEMBER_SUB_STRATEGY_MUL */
#define SET_POP_STRATEGY_MUL 5              /* SPOP_MOVE_STRATEGY_MUL */
#define SET_RANDOM_SAMPLE_LIMIT 1000        /* SRANDMEMBER_RANDOM_SAMPLE_LIMIT */

/* ------------------------------------------------------------------------ */
/* Handles                                                                  */
/* ------------------------------------------------------------------------ */

static inline enum set_enc tag_of(const struct set *s)
{
    return (enum set_enc)((uintptr_t)s & SET_TAG_MASK);
}

static inline struct set *mk(void *obj, enum set_enc enc)
{
    return (struct set *)((uintptr_t)obj | (uintptr_t)enc);
}

static inline unsigned char *lp_of(const struct set *s)
{
    return (unsigned char *)((uintptr_t)s & ~SET_TAG_MASK);
}

static inline struct intset *is_of(const struct set *s)
{
    return (struct intset *)((uintptr_t)s & ~SET_TAG_MASK);
}

static inline struct dict *ht_of(const struct set *s)
{
    return (struct dict *)((uintptr_t)s & ~SET_TAG_MASK);
}

static uint64_t rng_cb(void *ud)
{
    return util_rng_next(ud);
}

/* A uniform number in [0, n), n > 0. The modulo bias of a 64-bit draw is
 * below 2^-32 for any n a set can reach. */
static inline uint64_t rnd_below(struct util_rng *rng, uint64_t n)
{
    return util_rng_next(rng) % n;
}

const unsigned char *set_member_str(const struct set_member *m, unsigned char *buf, size_t *len)
{
    if (m->s) {
        *len = m->len;
        return m->s;
    }
    *len = (size_t)util_ll2str((char *)buf, m->i);
    return buf;
}

static inline void member_from_lp(struct set_member *m, const unsigned char *p)
{
    struct lp_val v;

    lp_get(p, &v);
    m->s = v.s;
    m->len = v.len;
    m->i = v.i;
}

static inline void member_from_node(struct set_member *m, const struct dict_node *n)
{
    m->s = n->key;
    m->len = n->len;
    m->i = 0;
}

static inline void member_from_int(struct set_member *m, int64_t v)
{
    m->s = NULL;
    m->len = 0;
    m->i = v;
}

/* Digits of v as text, sign included (Redis's sdigits10). */
static size_t int_text_len(int64_t v)
{
    char buf[UTIL_LLSTR_SIZE];

    return (size_t)util_ll2str(buf, v);
}

/* ------------------------------------------------------------------------ */
/* Creation, destruction, copies                                            */
/* ------------------------------------------------------------------------ */

struct set *set_create(enum set_enc enc, uint64_t seed)
{
    void *obj;

    switch (enc) {
    case SET_ENC_INTSET:
        obj = intset_create();
        break;
    case SET_ENC_HT:
        obj = dict_create(seed);
        break;
    default:
        obj = lp_create();
        break;
    }
    return obj ? mk(obj, enc) : NULL;
}

struct set *set_create_for(const void *first, size_t len, size_t hint, const struct type_limits *lim,
                           uint64_t seed)
{
    long long v;

    if (util_str2ll(first, len, &v) == ST_OK && hint <= lim->set_max_intset_entries)
        return set_create(SET_ENC_INTSET, seed);
    if (hint <= lim->set_max_lp_entries)
        return set_create(SET_ENC_LISTPACK, seed);
    return set_create(SET_ENC_HT, seed);
}

void set_destroy(struct set *s)
{
    if (!s)
        return;
    switch (tag_of(s)) {
    case SET_ENC_INTSET:
        intset_destroy(is_of(s));
        break;
    case SET_ENC_HT:
        dict_destroy(ht_of(s), NULL);
        break;
    default:
        lp_destroy(lp_of(s));
        break;
    }
}

struct set *set_dup(struct set *s)
{
    switch (tag_of(s)) {
    case SET_ENC_INTSET: {
        size_t n = intset_blob_len(is_of(s));
        void *c = malloc(n);

        if (!c)
            return NULL;
        memcpy(c, is_of(s), n);
        return mk(c, SET_ENC_INTSET);
    }
    case SET_ENC_HT: {
        struct dict *src = ht_of(s);
        struct dict *d = dict_create(src->seed);
        struct dict_iter it;
        struct dict_node *n;

        if (!d)
            return NULL;
        dict_iter_init(&it, src);
        while ((n = dict_iter_next(&it)) != NULL) {
            int added;

            if (!dict_add(d, n->key, n->len, &added)) {
                dict_iter_done(&it);
                dict_destroy(d, NULL);
                return NULL;
            }
        }
        dict_iter_done(&it);
        return mk(d, SET_ENC_HT);
    }
    default: {
        size_t n = lp_bytes(lp_of(s));
        void *c = malloc(n);

        if (!c)
            return NULL;
        memcpy(c, lp_of(s), n);
        return mk(c, SET_ENC_LISTPACK);
    }
    }
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

enum set_enc set_encoding(const struct set *s)
{
    return tag_of(s);
}

const char *set_encoding_name(const struct set *s)
{
    switch (tag_of(s)) {
    case SET_ENC_INTSET:
        return "intset";
    case SET_ENC_HT:
        return "hashtable";
    default:
        return "listpack";
    }
}

uint64_t set_len(const struct set *s)
{
    switch (tag_of(s)) {
    case SET_ENC_INTSET:
        return intset_len(is_of(s));
    case SET_ENC_HT:
        return dict_size(ht_of(s));
    default:
        return lp_count(lp_of(s));
    }
}

int set_contains(struct set *s, const void *m, size_t len)
{
    switch (tag_of(s)) {
    case SET_ENC_INTSET: {
        long long v;

        return util_str2ll(m, len, &v) == ST_OK && intset_find(is_of(s), v);
    }
    case SET_ENC_HT:
        return dict_find(ht_of(s), m, len) != NULL;
    default: {
        unsigned char *lp = lp_of(s);
        unsigned char *p = lp_first(lp);

        return p && lp_find(lp, p, m, len, 0) != NULL;
    }
    }
}

int set_contains_member(struct set *s, const struct set_member *m)
{
    if (m->s)
        return set_contains(s, m->s, m->len);
    switch (tag_of(s)) {
    case SET_ENC_INTSET:
        return intset_find(is_of(s), m->i);
    case SET_ENC_HT: {
        char buf[UTIL_LLSTR_SIZE];
        int n = util_ll2str(buf, m->i);

        return dict_find(ht_of(s), buf, (size_t)n) != NULL;
    }
    default: {
        unsigned char *lp = lp_of(s);
        unsigned char *p = lp_first(lp);

        return p && lp_find_int(lp, p, m->i, 0) != NULL;
    }
    }
}

size_t set_mem(const struct set *s)
{
    switch (tag_of(s)) {
    case SET_ENC_INTSET:
        return malloc_usable_size(is_of(s));
    case SET_ENC_HT:
        return malloc_usable_size(ht_of(s)) + dict_mem(ht_of(s));
    default:
        return malloc_usable_size(lp_of(s));
    }
}

/* ------------------------------------------------------------------------ */
/* Iteration                                                                */
/* ------------------------------------------------------------------------ */

void set_it_init(struct set_it *it, struct set *s)
{
    it->s = s;
    it->enc = tag_of(s);
    it->idx = 0;
    it->p = NULL;
    it->di.d = NULL;
    if (it->enc == SET_ENC_LISTPACK)
        it->p = lp_first(lp_of(s));
    else if (it->enc == SET_ENC_HT)
        dict_iter_init(&it->di, ht_of(s));
}

int set_it_next_member(struct set_it *it, struct set_member *m)
{
    switch (it->enc) {
    case SET_ENC_INTSET: {
        int64_t v;

        if (it->idx >= intset_len(is_of(it->s)) || intset_get(is_of(it->s), (uint32_t)it->idx, &v) != ST_OK)
            return 0;
        it->idx++;
        member_from_int(m, v);
        return 1;
    }
    case SET_ENC_HT: {
        struct dict_node *n = dict_iter_next(&it->di);

        if (!n)
            return 0;
        member_from_node(m, n);
        return 1;
    }
    default:
        if (!it->p)
            return 0;
        member_from_lp(m, it->p);
        it->p = lp_next(lp_of(it->s), it->p);
        return 1;
    }
}

int set_it_next(struct set_it *it, const unsigned char **m, size_t *len, unsigned char buf[UTIL_LLSTR_SIZE])
{
    struct set_member sm;

    if (!set_it_next_member(it, &sm))
        return 0;
    *m = set_member_str(&sm, buf, len);
    return 1;
}

void set_it_done(struct set_it *it)
{
    if (it->enc == SET_ENC_HT)
        dict_iter_done(&it->di);
    it->p = NULL;
}

/* ------------------------------------------------------------------------ */
/* Conversions                                                              */
/* ------------------------------------------------------------------------ */

/* Converts *sp (intset or listpack) to a hashtable. Returns 0 or ST_ENOMEM
 * with *sp unchanged (invariant 5). */
static int convert_to_ht(struct set **sp, uint64_t seed)
{
    struct dict *d = dict_create(seed);
    struct set_it it;
    struct set_member m;

    if (!d)
        return ST_ENOMEM;
    set_it_init(&it, *sp);
    while (set_it_next_member(&it, &m)) {
        unsigned char buf[UTIL_LLSTR_SIZE];
        size_t len;
        const unsigned char *p = set_member_str(&m, buf, &len);
        int added;

        if (!dict_add(d, p, len, &added)) {
            set_it_done(&it);
            dict_destroy(d, NULL);
            return ST_ENOMEM;
        }
    }
    set_it_done(&it);
    set_destroy(*sp);
    *sp = mk(d, SET_ENC_HT);
    return ST_OK;
}

/* Converts an intset *sp to a listpack holding the same integers. Returns 0
 * or ST_ENOMEM with *sp unchanged. */
static int convert_is_to_lp(struct set **sp)
{
    struct intset *is = is_of(*sp);
    uint32_t n = intset_len(is);
    struct lp_val *vals = NULL;
    unsigned char *lp = lp_create();

    if (!lp)
        return ST_ENOMEM;
    if (n > 0) {
        vals = malloc(sizeof(*vals) * n);
        if (!vals)
            goto fail;
        for (uint32_t i = 0; i < n; i++) {
            vals[i].s = NULL;
            vals[i].len = 0;
            intset_get(is, i, &vals[i].i);
        }
        unsigned char *nlp = lp_append_many(lp, vals, n);
        free(vals);
        if (!nlp)
            goto fail;
        lp = nlp;
    }
    intset_destroy(is);
    *sp = mk(lp, SET_ENC_LISTPACK);
    return ST_OK;
fail:
    lp_destroy(lp);
    return ST_ENOMEM;
}

static uint64_t intset_limit(const struct type_limits *lim)
{
    return lim->set_max_intset_entries < SET_INTSET_HARD_MAX ? lim->set_max_intset_entries : SET_INTSET_HARD_MAX;
}

int set_maybe_convert(struct set **sp, size_t hint, const struct type_limits *lim, uint64_t seed)
{
    enum set_enc e = tag_of(*sp);

    if ((e == SET_ENC_LISTPACK && hint > lim->set_max_lp_entries) ||
        (e == SET_ENC_INTSET && hint > lim->set_max_intset_entries))
        return convert_to_ht(sp, seed);
    return ST_OK;
}

/* Adds to a hashtable set. Returns 1, 0 or ST_ENOMEM. */
static int ht_add(struct set *s, const unsigned char *str, size_t len)
{
    int added;

    if (!dict_add(ht_of(s), str, len, &added))
        return ST_ENOMEM;
    return added;
}

/* The heart of set_add (Redis's setTypeAddAux): the member as text
 * str[0..len) and, when is_int, as the integer v. */
static int add_generic(struct set **sp, const unsigned char *str, size_t len, int is_int, int64_t v,
                       const struct type_limits *lim, uint64_t seed)
{
    switch (tag_of(*sp)) {
    case SET_ENC_HT:
        return ht_add(*sp, str, len);

    case SET_ENC_LISTPACK: {
        unsigned char *lp = lp_of(*sp);
        unsigned char *p = lp_first(lp);
        unsigned char *nlp;

        if (p && (is_int ? lp_find_int(lp, p, v, 0) : lp_find(lp, p, str, len, 0)))
            return 0;
        if (lp_count(lp) < lim->set_max_lp_entries && len <= lim->set_max_lp_value &&
            (uint64_t)lp_bytes(lp) + len + 16 <= SET_LP_MAX_BYTES) {
            nlp = is_int ? lp_insert_int(lp, NULL, v, NULL) : lp_insert(lp, NULL, str, len, NULL);
            if (!nlp)
                return ST_ENOMEM;
            *sp = mk(nlp, SET_ENC_LISTPACK);
            return 1;
        }
        if (convert_to_ht(sp, seed) != ST_OK)
            return ST_ENOMEM;
        return ht_add(*sp, str, len);
    }

    case SET_ENC_INTSET: {
        struct intset *is = is_of(*sp);
        uint32_t n = intset_len(is);

        if (is_int) {
            int added;

            if (intset_find(is, v))
                return 0;
            if ((uint64_t)n + 1 > intset_limit(lim)) {
                /* maybeConvertIntset: past the limit the set is a hashtable */
                if (convert_to_ht(sp, seed) != ST_OK)
                    return ST_ENOMEM;
                return ht_add(*sp, str, len);
            }
            is = intset_add(is, v, &added);
            if (!is)
                return ST_ENOMEM;
            *sp = mk(is, SET_ENC_INTSET);
            return added;
        }
        /* A non-integer: a listpack when every member would fit one. */
        size_t maxelelen = 0, totsize = 0;

        if (n > 0) {
            size_t a = int_text_len(intset_max(is)), b = int_text_len(intset_min(is));

            maxelelen = a > b ? a : b;
            totsize = (size_t)n * (maxelelen + 2); /* an upper bound of the listpack's bytes */
        }
        if (n < lim->set_max_lp_entries && len <= lim->set_max_lp_value && maxelelen <= lim->set_max_lp_value &&
            (uint64_t)totsize + len + 16 <= SET_LP_MAX_BYTES) {
            if (convert_is_to_lp(sp) != ST_OK)
                return ST_ENOMEM;
            unsigned char *nlp = lp_insert(lp_of(*sp), NULL, str, len, NULL);

            if (!nlp)
                return ST_ENOMEM; /* the set is a listpack now, with the same members */
            *sp = mk(nlp, SET_ENC_LISTPACK);
            return 1;
        }
        if (convert_to_ht(sp, seed) != ST_OK)
            return ST_ENOMEM;
        return ht_add(*sp, str, len);
    }
    }
    return ST_EINVAL;
}

int set_add(struct set **sp, const void *m, size_t len, const struct type_limits *lim, uint64_t seed)
{
    long long v = 0;
    int is_int = util_str2ll(m, len, &v) == ST_OK;

    return add_generic(sp, m, len, is_int, v, lim, seed);
}

int set_add_member(struct set **sp, const struct set_member *m, const struct type_limits *lim, uint64_t seed)
{
    unsigned char buf[UTIL_LLSTR_SIZE];
    size_t len;

    if (m->s)
        return set_add(sp, m->s, m->len, lim, seed);
    set_member_str(m, buf, &len);
    return add_generic(sp, buf, len, 1, m->i, lim, seed);
}

int set_remove(struct set **sp, const void *m, size_t len)
{
    switch (tag_of(*sp)) {
    case SET_ENC_INTSET: {
        long long v;
        int removed = 0;

        if (util_str2ll(m, len, &v) != ST_OK)
            return 0;
        *sp = mk(intset_remove(is_of(*sp), v, &removed), SET_ENC_INTSET);
        return removed;
    }
    case SET_ENC_HT:
        return dict_delete(ht_of(*sp), m, len, NULL);
    default: {
        unsigned char *lp = lp_of(*sp);
        unsigned char *p = lp_first(lp);

        if (!p || !(p = lp_find(lp, p, m, len, 0)))
            return 0;
        *sp = mk(lp_delete(lp, p, 1, NULL), SET_ENC_LISTPACK);
        return 1;
    }
    }
}

/* set_remove for a member read from another set. */
static int remove_member(struct set **sp, const struct set_member *m)
{
    unsigned char buf[UTIL_LLSTR_SIZE];
    size_t len;
    const unsigned char *p;

    if (!m->s && tag_of(*sp) == SET_ENC_INTSET) {
        int removed = 0;

        *sp = mk(intset_remove(is_of(*sp), m->i, &removed), SET_ENC_INTSET);
        return removed;
    }
    p = set_member_str(m, buf, &len);
    return set_remove(sp, p, len);
}

/* ------------------------------------------------------------------------ */
/* SSCAN                                                                    */
/* ------------------------------------------------------------------------ */

struct scan_ctx {
    set_emit_fn *fn;
    void *ud;
    uint64_t n;
};

static void scan_node(struct dict_node *n, void *ud)
{
    struct scan_ctx *sc = ud;
    struct set_member m;

    member_from_node(&m, n);
    sc->fn(&m, sc->ud);
    sc->n++;
}

uint64_t set_scan(struct set *s, uint64_t cursor, uint64_t count, set_emit_fn *fn, void *ud)
{
    if (tag_of(s) != SET_ENC_HT) {
        struct set_it it;
        struct set_member m;

        set_it_init(&it, s);
        while (set_it_next_member(&it, &m))
            fn(&m, ud);
        set_it_done(&it);
        return 0;
    }
    /* scanGenericCommand: maxiterations = count * 10 */
    struct scan_ctx sc = { fn, ud, 0 };
    uint64_t maxit = count > UINT64_MAX / 10 ? UINT64_MAX : count * 10;

    do {
        cursor = dict_scan(ht_of(s), cursor, scan_node, &sc);
    } while (cursor && maxit-- && sc.n < count);
    return cursor;
}

/* ------------------------------------------------------------------------ */
/* Random members                                                           */
/* ------------------------------------------------------------------------ */

void set_random(struct set *s, struct util_rng *rng, struct set_member *m)
{
    switch (tag_of(s)) {
    case SET_ENC_INTSET:
        member_from_int(m, intset_random(is_of(s), util_rng_next(rng)));
        break;
    case SET_ENC_HT:
        member_from_node(m, dict_random_fair(ht_of(s), rng_cb, rng));
        break;
    default: {
        unsigned char *lp = lp_of(s);

        member_from_lp(m, lp_seek(lp, (long)rnd_below(rng, lp_count(lp))));
        break;
    }
    }
}

struct pick {
    uint32_t index;
    uint32_t order;
};

static int pick_cmp(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;

    return x->index < y->index ? -1 : x->index > y->index;
}

/* lpRandomEntries: `count` independent draws from a listpack, found in one
 * walk per batch and handed out in draw order. */
static int lp_random_repeat(unsigned char *lp, uint64_t count, struct util_rng *rng, set_emit_fn *fn, void *ud)
{
    uint32_t total = lp_count(lp);
    uint32_t limit = count > SET_RANDOM_SAMPLE_LIMIT ? SET_RANDOM_SAMPLE_LIMIT : (uint32_t)count;
    struct pick *picks = malloc(sizeof(*picks) * limit);
    struct set_member *out = malloc(sizeof(*out) * limit);
    int rc = ST_OK;

    if (!picks || !out) {
        rc = ST_ENOMEM; /* the caller falls back to one walk per draw */
        goto done;
    }
    while (count > 0) {
        uint32_t batch = count > limit ? limit : (uint32_t)count;
        unsigned char *p = lp_first(lp);
        uint32_t at = 0;

        count -= batch;
        for (uint32_t i = 0; i < batch; i++) {
            picks[i].index = (uint32_t)rnd_below(rng, total);
            picks[i].order = i;
        }
        qsort(picks, batch, sizeof(*picks), pick_cmp);
        for (uint32_t i = 0; i < batch; i++) {
            while (at < picks[i].index) {
                p = lp_next(lp, p);
                at++;
            }
            member_from_lp(&out[picks[i].order], p);
        }
        for (uint32_t i = 0; i < batch; i++)
            if (fn(&out[i], ud))
                goto done;
    }
done:
    free(picks);
    free(out);
    return rc;
}

int set_random_repeat(struct set *s, uint64_t count, struct util_rng *rng, set_emit_fn *fn, void *ud)
{
    struct set_member m;

    if (count == 0)
        return ST_OK;
    if (tag_of(s) == SET_ENC_LISTPACK && count > 1 &&
        lp_random_repeat(lp_of(s), count, rng, fn, ud) == ST_OK)
        return ST_OK;
    while (count--) {
        set_random(s, rng, &m);
        if (fn(&m, ud))
            break;
    }
    return ST_OK;
}

/* A set of non-zero 64-bit keys (node addresses, intset positions + 1):
 * open addressing, linear probing, sized for its final population. */
struct seen {
    uint64_t *slot;
    uint64_t mask;
};

static int seen_init(struct seen *t, uint64_t n)
{
    uint64_t cap = 16;

    while (cap < n * 2)
        cap <<= 1;
    t->slot = calloc(cap, sizeof(*t->slot));
    t->mask = cap - 1;
    return t->slot ? ST_OK : ST_ENOMEM;
}

/* Adds key (non-zero); 1 when it was not there yet. */
static int seen_add(struct seen *t, uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    uint64_t i = (h ^ (h >> 29)) & t->mask;

    while (t->slot[i]) {
        if (t->slot[i] == key)
            return 0;
        i = (i + 1) & t->mask;
    }
    t->slot[i] = key;
    return 1;
}

static void seen_free(struct seen *t)
{
    free(t->slot);
    t->slot = NULL;
}

int set_random_distinct(struct set *s, uint64_t count, struct util_rng *rng, set_emit_fn *fn, void *ud)
{
    uint64_t size = set_len(s);
    struct set_member m;

    if (count == 0)
        return ST_OK;
    if (count >= size) {
        /* not the contract, but harmless: the whole set */
        count = size;
    }
    if (tag_of(s) == SET_ENC_LISTPACK || count * SET_SUB_STRATEGY_MUL > size) {
        /* CASE 2.5 (listpack) and CASE 3: selection sampling, one pass */
        struct set_it it;
        uint64_t left = size;

        set_it_init(&it, s);
        while (count > 0 && set_it_next_member(&it, &m)) {
            if (rnd_below(rng, left--) < count) {
                count--;
                if (fn(&m, ud))
                    break;
            }
        }
        set_it_done(&it);
        return ST_OK;
    }
    /* CASE 4: random draws, remembering what was handed out */
    struct seen seen;

    if (seen_init(&seen, count) != ST_OK)
        return ST_ENOMEM;
    while (count > 0) {
        uint64_t key;

        if (tag_of(s) == SET_ENC_INTSET) {
            uint64_t pos = rnd_below(rng, size);
            int64_t v = 0;

            intset_get(is_of(s), (uint32_t)pos, &v);
            member_from_int(&m, v);
            key = pos + 1;
        } else {
            struct dict_node *n = dict_random_fair(ht_of(s), rng_cb, rng);

            member_from_node(&m, n);
            key = (uint64_t)(uintptr_t)n;
        }
        if (!seen_add(&seen, key))
            continue;
        count--;
        if (fn(&m, ud))
            break;
    }
    seen_free(&seen);
    return ST_OK;
}

/* ------------------------------------------------------------------------ */
/* Pops                                                                     */
/* ------------------------------------------------------------------------ */

void set_pop(struct set **sp, struct util_rng *rng, set_emit_fn *fn, void *ud)
{
    struct set_member m;

    switch (tag_of(*sp)) {
    case SET_ENC_INTSET: {
        int64_t v = intset_random(is_of(*sp), util_rng_next(rng));

        member_from_int(&m, v);
        fn(&m, ud);
        *sp = mk(intset_remove(is_of(*sp), v, NULL), SET_ENC_INTSET);
        break;
    }
    case SET_ENC_HT: {
        struct dict *d = ht_of(*sp);
        struct dict_node *n = dict_random_fair(d, rng_cb, rng);

        member_from_node(&m, n);
        fn(&m, ud);
        /* unlink compares the key before it lets go of the node */
        n = dict_unlink(d, n->key, n->len);
        free(n);
        break;
    }
    default: {
        unsigned char *lp = lp_of(*sp);
        unsigned char *p = lp_seek(lp, (long)rnd_below(rng, lp_count(lp)));

        member_from_lp(&m, p);
        fn(&m, ud);
        *sp = mk(lp_delete(lp, p, 1, NULL), SET_ENC_LISTPACK);
        break;
    }
    }
}

/* Chooses k of n positions uniformly (selection sampling); returns a bitmap
 * of n bits (owned) or NULL on OOM. */
static unsigned char *choose_bits(uint64_t n, uint64_t k, struct util_rng *rng)
{
    unsigned char *bits = calloc((size_t)(n / 8 + 1), 1);

    if (!bits)
        return NULL;
    for (uint64_t i = 0; i < n && k > 0; i++) {
        if (rnd_below(rng, n - i) < k) {
            bits[i / 8] |= (unsigned char)(1u << (i % 8));
            k--;
        }
    }
    return bits;
}

static inline int bit_is_set(const unsigned char *bits, uint64_t i)
{
    return (bits[i / 8] >> (i % 8)) & 1;
}

/* A listpack pop of count members: choose them in one pass, build the
 * listpack of the others, hand out the chosen ones from the old listpack,
 * then free it. */
static int lp_pop_many(struct set **sp, uint64_t count, struct util_rng *rng, set_emit_fn *fn, void *ud)
{
    unsigned char *lp = lp_of(*sp);
    uint32_t n = lp_count(lp);
    uint64_t keep = n - count, k = 0;
    unsigned char *bits = choose_bits(n, count, rng);
    struct lp_val *vals = NULL;
    unsigned char *nlp = NULL, *p;
    struct set_member m;
    uint32_t i;

    if (!bits)
        return ST_ENOMEM;
    vals = malloc(sizeof(*vals) * (keep ? keep : 1));
    nlp = lp_create();
    if (!vals || !nlp)
        goto oom;
    for (p = lp_first(lp), i = 0; p; p = lp_next(lp, p), i++)
        if (!bit_is_set(bits, i))
            lp_get(p, &vals[k++]);
    if (keep > 0) {
        unsigned char *t = lp_append_many(nlp, vals, keep);

        if (!t)
            goto oom;
        nlp = t;
    }
    for (p = lp_first(lp), i = 0; p; p = lp_next(lp, p), i++) {
        if (bit_is_set(bits, i)) {
            member_from_lp(&m, p);
            fn(&m, ud);
        }
    }
    free(vals);
    free(bits);
    lp_destroy(lp);
    *sp = mk(nlp, SET_ENC_LISTPACK);
    return ST_OK;
oom:
    free(vals);
    free(bits);
    lp_destroy(nlp);
    return ST_ENOMEM;
}

int set_pop_many(struct set **sp, uint64_t count, struct util_rng *rng, const struct type_limits *lim,
                 uint64_t seed, set_emit_fn *fn, void *ud)
{
    uint64_t size = set_len(*sp);
    uint64_t remaining;

    if (count == 0)
        return ST_OK;
    if (count > size)
        count = size;
    remaining = size - count;
    if (tag_of(*sp) == SET_ENC_LISTPACK)
        return lp_pop_many(sp, count, rng, fn, ud);
    if (remaining * SET_POP_STRATEGY_MUL > count) {
        /* CASE 2: draw and remove, one at a time */
        while (count--)
            set_pop(sp, rng, fn, ud);
        return ST_OK;
    }
    /* CASE 3: choose the members to keep, into a new set */
    unsigned char *bits = choose_bits(size, remaining, rng);
    struct set *ns = NULL;
    struct set_it it;
    struct set_member m;
    uint64_t i = 0;

    if (!bits)
        return ST_ENOMEM;
    ns = set_create(SET_ENC_INTSET, seed);
    if (!ns)
        goto oom;
    set_it_init(&it, *sp);
    while (set_it_next_member(&it, &m)) {
        if (bit_is_set(bits, i++) && set_add_member(&ns, &m, lim, seed) < 0) {
            set_it_done(&it);
            goto oom;
        }
    }
    set_it_done(&it);
    i = 0;
    set_it_init(&it, *sp);
    while (set_it_next_member(&it, &m))
        if (!bit_is_set(bits, i++))
            fn(&m, ud);
    set_it_done(&it);
    free(bits);
    set_destroy(*sp);
    *sp = ns;
    return ST_OK;
oom:
    free(bits);
    set_destroy(ns);
    return ST_ENOMEM;
}

/* ------------------------------------------------------------------------ */
/* Algebra                                                                  */
/* ------------------------------------------------------------------------ */

/* Orders sets by size; NULL (a missing key) counts as empty. */
static int cmp_len_asc(const void *a, const void *b)
{
    struct set *sa = *(struct set *const *)a, *sb = *(struct set *const *)b;
    uint64_t x = sa ? set_len(sa) : 0, y = sb ? set_len(sb) : 0;

    return x < y ? -1 : x > y;
}

static int cmp_len_desc(const void *a, const void *b)
{
    return cmp_len_asc(b, a);
}

int set_inter(struct set *const *sets, size_t n, uint64_t limit, set_emit_fn *fn, void *ud)
{
    struct set **v = malloc(sizeof(*v) * n);
    struct set_it it;
    struct set_member m;
    uint64_t found = 0;

    if (!v)
        return ST_ENOMEM;
    memcpy(v, sets, sizeof(*v) * n);
    qsort(v, n, sizeof(*v), cmp_len_asc);
    set_it_init(&it, v[0]);
    while (set_it_next_member(&it, &m)) {
        size_t j;

        for (j = 1; j < n; j++) {
            if (v[j] == v[0])
                continue;
            if (!set_contains_member(v[j], &m))
                break;
        }
        if (j < n)
            continue;
        found++;
        if (fn(&m, ud) || (limit && found >= limit))
            break;
    }
    set_it_done(&it);
    free(v);
    return ST_OK;
}

struct build_ctx {
    struct set **out;
    const struct type_limits *lim;
    uint64_t seed;
    int rc;
};

static int build_emit(const struct set_member *m, void *ud)
{
    struct build_ctx *b = ud;

    if (set_add_member(b->out, m, b->lim, b->seed) < 0) {
        b->rc = ST_ENOMEM;
        return 1;
    }
    return 0;
}

/* Adds every member of s to *out; returns 0 or ST_ENOMEM. */
static int add_all(struct set **out, struct set *s, const struct type_limits *lim, uint64_t seed)
{
    struct set_it it;
    struct set_member m;
    int rc = ST_OK;

    set_it_init(&it, s);
    while (set_it_next_member(&it, &m)) {
        if (set_add_member(out, &m, lim, seed) < 0) {
            rc = ST_ENOMEM;
            break;
        }
    }
    set_it_done(&it);
    return rc;
}

/* sunionDiffGenericCommand's SDIFF, algorithms 1 and 2. v[0] non-NULL. */
static int diff_into(struct set **out, struct set **v, size_t n, const struct type_limits *lim, uint64_t seed)
{
    uint64_t work1 = 0, work2 = 0;
    struct set_it it;
    struct set_member m;
    int rc = ST_OK;

    for (size_t j = 1; j < n; j++)
        if (v[j] == v[0])
            return ST_OK; /* A - A - ... is empty */
    for (size_t j = 0; j < n; j++) {
        if (!v[j])
            continue;
        work1 += set_len(v[0]);
        work2 += set_len(v[j]);
    }
    /* Algorithm 1 has better constant times and stops early when members
     * are in common: give it some advantage (Redis). */
    work1 /= 2;
    if (work1 <= work2) {
        if (n > 2)
            qsort(v + 1, n - 1, sizeof(*v), cmp_len_desc);
        set_it_init(&it, v[0]);
        while (set_it_next_member(&it, &m)) {
            size_t j;

            for (j = 1; j < n; j++)
                if (v[j] && set_contains_member(v[j], &m))
                    break;
            if (j == n && set_add_member(out, &m, lim, seed) < 0) {
                rc = ST_ENOMEM;
                break;
            }
        }
        set_it_done(&it);
        return rc;
    }
    rc = add_all(out, v[0], lim, seed);
    for (size_t j = 1; j < n && rc == ST_OK; j++) {
        if (!v[j])
            continue;
        set_it_init(&it, v[j]);
        while (set_it_next_member(&it, &m))
            if (remove_member(out, &m) && set_len(*out) == 0)
                break;
        set_it_done(&it);
        if (set_len(*out) == 0)
            break;
    }
    return rc;
}

int set_algebra(struct set *const *sets, size_t n, enum set_op op, const struct type_limits *lim,
                uint64_t seed, struct set **out)
{
    struct set *res = set_create(SET_ENC_INTSET, seed);
    struct set **v = NULL;
    int rc = ST_OK;

    if (!res)
        return ST_ENOMEM;
    switch (op) {
    case SET_OP_UNION:
        for (size_t j = 0; j < n && rc == ST_OK; j++)
            if (sets[j])
                rc = add_all(&res, sets[j], lim, seed);
        break;
    case SET_OP_DIFF:
        if (n == 0 || !sets[0])
            break;
        v = malloc(sizeof(*v) * n);
        if (!v) {
            rc = ST_ENOMEM;
            break;
        }
        memcpy(v, sets, sizeof(*v) * n);
        rc = diff_into(&res, v, n, lim, seed);
        break;
    case SET_OP_INTER: {
        struct build_ctx b = { &res, lim, seed, ST_OK };

        for (size_t j = 0; j < n; j++)
            if (!sets[j])
                goto done; /* with an empty set: empty */
        if (n == 0)
            break;
        rc = set_inter(sets, n, 0, build_emit, &b);
        if (rc == ST_OK)
            rc = b.rc;
        break;
    }
    }
done:
    free(v);
    if (rc != ST_OK) {
        set_destroy(res);
        return rc;
    }
    *out = res;
    return ST_OK;
}

/* ------------------------------------------------------------------------ */
/* The type's operations                                                    */
/* ------------------------------------------------------------------------ */

static void ops_free(void *obj)
{
    set_destroy(obj);
}

static void *ops_dup(const void *obj)
{
    return set_dup((struct set *)obj);
}

static size_t ops_mem(const void *obj)
{
    return set_mem(obj);
}

static const char *ops_encoding(const void *obj)
{
    return set_encoding_name(obj);
}

const struct obj_ops set_obj_ops = {
    .name = "set",
    .free = ops_free,
    .dup = ops_dup,
    .mem = ops_mem,
    .encoding = ops_encoding,
};

const void *set_blob(const struct set *s, size_t *len)
{
    switch (tag_of(s)) {
    case SET_ENC_INTSET:
        *len = intset_blob_len(is_of(s));
        return is_of(s);
    case SET_ENC_LISTPACK:
        *len = lp_bytes(lp_of(s));
        return lp_of(s);
    default:
        *len = 0;
        return NULL;
    }
}

struct set *set_from_blob(enum set_enc enc, void *blob)
{
    return mk(blob, enc);
}
