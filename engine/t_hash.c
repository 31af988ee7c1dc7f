/*
 * t_hash.c -- the hash type object (OBJ_HASH): fields and values in one
 * lpack buffer while the hash is small, in a dict past the thresholds. The
 * pure data-structure part of HSET, HGET, HDEL, HINCRBY, HINCRBYFLOAT,
 * HRANDFIELD and HSCAN; the commands themselves (arguments, locking, replies)
 * are server/cmd_hash.c.
 *
 * Data model. The entry's ENC_PTR value is a tagged pointer, the "handle":
 *
 *   bit 0 == 0   unsigned char *lp   the lpack (encoding "listpack")
 *                +-------+-------+-------+-------+-------+-------+-----+----+
 *                | total | count | field | value | field | value | ... | FF |
 *                | u32   | u32   |  f0   |  v0   |  f1   |  v1   |     |    |
 *                +-------+-------+-------+-------+-------+-------+-----+----+
 *                (engine/lpack.h; count = 2 * fields; a canonical integer
 *                field or value is stored as an lpack integer)
 *
 *   bit 0 == 1   (struct dict *) | 1     (encoding "hashtable")
 *                dict_node: key = the field's bytes, v.ptr = struct dstr *
 *                holding the value (owned by the node)
 *
 * No header sits in front of the pack: a small hash costs its pack and the
 * 8-byte pointer in its entry, nothing else (the memory budget:
 * 100,000 hashes of 10 short fields in no more memory than Redis 7, which
 * pays a 16-byte robj and a listpack with a 6-byte header per hash). Both
 * allocations are at least 8-byte aligned, so bit 0 of a real pointer is
 * always 0 and free for the tag.
 *
 * Conversion (Redis 7.0 t_hash.c), one way only, pack -> dict:
 *   - before a write, when a field or value to be written is longer than
 *     hash-max-listpack-value bytes (hashTypeTryConversion, hashTypeSet), or
 *     when the pack would grow past HASH_LP_SAFETY bytes (lpSafeToAdd);
 *   - after an insert, when the pack holds more than
 *     hash-max-listpack-entries fields.
 *   A dict never goes back to a pack (Redis neither, short of a reload).
 *
 * Invariants:
 *  1. A handle is either a valid pack (tag 0) or a valid dict (tag 1).
 *  2. A pack holds an even number of elements: field, value, field, value;
 *     no field appears twice.
 *  3. A successful write leaves a pack with at most max_lp_entries fields,
 *     none of its strings longer than max_lp_value (a failed conversion
 *     leaves an over-limit pack that the next write converts).
 *  4. Every dict node's v.ptr is a struct dstr the node owns.
 *  5. On ST_ENOMEM the hash is still valid and the field being written keeps
 *     its old value (or stays absent).
 *
 * Threads: none of its own; the shard lock of the entry guards every call.
 *
 * References: Redis 7.0 src/t_hash.c (hashTypeTryConversion, hashTypeSet,
 * hrandfieldWithCountCommand), src/db.c (scanGenericCommand), Knuth TAOCP
 * vol. 2 3.4.2 Algorithm S (selection sampling, for unique random fields of
 * a pack in storage order, as lpRandomPairsUnique).
 */
#include "engine/t_hash.h"

#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/lpack.h"
#include "engine/util.h"

/* Redis's LISTPACK_MAX_SAFETY_SIZE: a pack never grows past 1 GB. */
#define HASH_LP_SAFETY (1ull << 30)
/* Per-element overhead bound of the pack's encoding (encoding + backlen). */
#define HASH_LP_ELEM_OVERHEAD 11

/* ---- handles ------------------------------------------------------------ */

static inline int is_lp(const void *h)
{
    return ((uintptr_t)h & 1u) == 0;
}

static inline unsigned char *as_lp(const void *h)
{
    return (unsigned char *)(uintptr_t)h;
}

static inline struct dict *as_dict(const void *h)
{
    return (struct dict *)((uintptr_t)h & ~(uintptr_t)1u);
}

static inline void *dict_handle(struct dict *d)
{
    return (void *)((uintptr_t)d | 1u);
}

static void val_free(struct dict_node *n)
{
    free(n->v.ptr);
    n->v.ptr = NULL;
}

/* Reads the pack element at p into s (integers formatted into s->buf). */
static void lp_str(const unsigned char *p, struct hash_str *s)
{
    struct lp_val v;

    lp_get(p, &v);
    if (v.s) {
        s->p = v.s;
        s->len = v.len;
    } else {
        s->len = (size_t)util_ll2str((char *)s->buf, (long long)v.i);
        s->p = s->buf;
    }
}

static void node_strs(const struct dict_node *n, struct hash_str *f, struct hash_str *v)
{
    const struct dstr *val = n->v.ptr;

    if (f) {
        f->p = n->key;
        f->len = n->len;
    }
    if (v) {
        v->p = val->s;
        v->len = val->len;
    }
}

/* The field's element in the pack, or NULL. */
static unsigned char *lp_field(unsigned char *lp, const void *f, size_t flen)
{
    unsigned char *p = lp_first(lp);

    return p ? lp_find(lp, p, f, flen, 1) : NULL;
}

/* ---- lifecycle ------------------------------------------------------------ */

void *hash_create(void)
{
    return lp_create();
}

void hash_destroy(void *h)
{
    if (!h)
        return;
    if (is_lp(h))
        lp_destroy(as_lp(h));
    else
        dict_destroy(as_dict(h), val_free);
}

uint64_t hash_len(const void *h)
{
    return is_lp(h) ? lp_count(as_lp(h)) / 2 : dict_size(as_dict(h));
}

int hash_is_lp(const void *h)
{
    return is_lp(h);
}

const char *hash_encoding(const void *h)
{
    return is_lp(h) ? "listpack" : "hashtable";
}

size_t hash_mem(const void *h)
{
    const struct dict *d;
    size_t n;

    if (is_lp(h))
        return malloc_usable_size(as_lp(h));
    d = as_dict(h);
    n = malloc_usable_size((void *)d) + dict_mem(d);
    for (int t = 0; t < 2; t++) {
        const struct dict_table *tb = &d->t[t];
        if (!tb->b)
            continue;
        for (uint64_t i = 0; i <= tb->mask; i++)
            for (const struct dict_node *e = tb->b[i]; e; e = e->next)
                n += malloc_usable_size(e->v.ptr);
    }
    return n;
}

void *hash_dup(const void *h)
{
    const struct dict *d;
    struct dict *nd;

    if (is_lp(h)) {
        uint32_t bytes = lp_bytes(as_lp(h));
        unsigned char *lp = malloc(bytes);
        if (lp)
            memcpy(lp, as_lp(h), bytes);
        return lp;
    }
    d = as_dict(h);
    nd = dict_create(d->seed);
    if (!nd)
        return NULL;
    for (int t = 0; t < 2; t++) {
        const struct dict_table *tb = &d->t[t];
        if (!tb->b)
            continue;
        for (uint64_t i = 0; i <= tb->mask; i++) {
            for (const struct dict_node *e = tb->b[i]; e; e = e->next) {
                const struct dstr *v = e->v.ptr;
                int added;
                struct dict_node *n = dict_add(nd, e->key, e->len, &added);
                if (!n)
                    goto fail;
                n->v.ptr = dstr_create(v->s, v->len);
                if (!n->v.ptr)
                    goto fail;
            }
        }
    }
    return dict_handle(nd);
fail:
    dict_destroy(nd, val_free);
    return NULL;
}

/* ---- conversion ------------------------------------------------------------ */

/* Converts the pack at *hp to a dict (invariant 5 on failure). */
static int convert(void **hp, uint64_t seed)
{
    unsigned char *lp = as_lp(*hp);
    struct dict *d = dict_create(seed);
    struct hash_str f, v;

    if (!d)
        return ST_ENOMEM;
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
        unsigned char *vp = lp_next(lp, p);
        struct dict_node *n;
        int added;

        if (!vp)
            break; /* invariant 2 makes this unreachable */
        lp_str(p, &f);
        lp_str(vp, &v);
        n = dict_add(d, f.p, f.len, &added);
        if (!n)
            goto fail;
        if (!added)
            free(n->v.ptr);
        n->v.ptr = dstr_create(v.p, v.len);
        if (!n->v.ptr)
            goto fail;
        p = vp;
    }
    lp_destroy(lp);
    *hp = dict_handle(d);
    return ST_OK;
fail:
    dict_destroy(d, val_free);
    return ST_ENOMEM;
}

/* 1 when adding extra bytes to the pack would pass the safety size. */
static int lp_too_big(const unsigned char *lp, size_t extra)
{
    return (uint64_t)lp_bytes(lp) + extra > HASH_LP_SAFETY;
}

int hash_fit(void **hp, size_t maxlen, size_t total, const struct hash_conf *conf)
{
    if (!is_lp(*hp))
        return ST_OK;
    if (maxlen > conf->max_lp_value || lp_too_big(as_lp(*hp), total))
        return convert(hp, conf->seed);
    return ST_OK;
}

/* ---- reads ------------------------------------------------------------ */

int hash_get(void *h, const void *f, size_t flen, struct hash_str *val)
{
    if (is_lp(h)) {
        unsigned char *lp = as_lp(h);
        unsigned char *fp = lp_field(lp, f, flen);
        if (!fp)
            return 0;
        if (val)
            lp_str(lp_next(lp, fp), val);
        return 1;
    }
    struct dict_node *n = dict_find(as_dict(h), f, flen);
    if (!n)
        return 0;
    if (val)
        node_strs(n, NULL, val);
    return 1;
}

size_t hash_strlen(void *h, const void *f, size_t flen)
{
    struct hash_str v;

    return hash_get(h, f, flen, &v) ? v.len : 0;
}

/* ---- writes ------------------------------------------------------------ */

static int dict_set(struct dict *d, const void *f, size_t flen, const void *v, size_t vlen, int *added)
{
    struct dict_node *n = dict_add(d, f, flen, added);
    struct dstr *val;

    if (!n)
        return ST_ENOMEM;
    val = dstr_create(v, vlen);
    if (!val) {
        if (*added) {
            dict_delete(d, f, flen, NULL);
            *added = 0;
        }
        return ST_ENOMEM;
    }
    free(n->v.ptr);
    n->v.ptr = val;
    return ST_OK;
}

int hash_set(void **hp, const void *f, size_t flen, const void *v, size_t vlen, const struct hash_conf *conf,
             int *added)
{
    *added = 0;
    if (is_lp(*hp)) {
        unsigned char *lp = as_lp(*hp), *nlp, *fp;

        if (flen > conf->max_lp_value || vlen > conf->max_lp_value ||
            lp_too_big(lp, flen + vlen + 2 * HASH_LP_ELEM_OVERHEAD)) {
            if (convert(hp, conf->seed) != ST_OK)
                return ST_ENOMEM;
            return dict_set(as_dict(*hp), f, flen, v, vlen, added);
        }
        fp = lp_field(lp, f, flen);
        if (fp) {
            nlp = lp_replace(lp, lp_next(lp, fp), v, vlen, NULL);
            if (!nlp)
                return ST_ENOMEM;
        } else {
            struct lp_val vals[2] = {
                { .s = f, .len = (uint32_t)flen, .i = 0 },
                { .s = v, .len = (uint32_t)vlen, .i = 0 },
            };
            nlp = lp_append_many(lp, vals, 2);
            if (!nlp)
                return ST_ENOMEM;
            *added = 1;
        }
        *hp = nlp;
        if (lp_count(nlp) / 2 > conf->max_lp_entries)
            (void)convert(hp, conf->seed); /* failure: the next write retries (invariant 3) */
        return ST_OK;
    }
    return dict_set(as_dict(*hp), f, flen, v, vlen, added);
}

int hash_del(void **hp, const void *f, size_t flen)
{
    if (is_lp(*hp)) {
        unsigned char *lp = as_lp(*hp);
        unsigned char *fp = lp_field(lp, f, flen);
        if (!fp)
            return 0;
        *hp = lp_delete(lp, fp, 2, NULL);
        return 1;
    }
    return dict_delete(as_dict(*hp), f, flen, val_free);
}

int hash_incrby(void **hp, const void *f, size_t flen, int64_t incr, int64_t *out, const struct hash_conf *conf)
{
    struct hash_str v;
    long long old = 0;
    char buf[UTIL_LLSTR_SIZE];
    int added, n;

    if (hash_get(*hp, f, flen, &v) && util_str2ll((const char *)v.p, v.len, &old) != ST_OK)
        return ST_EINVAL;
    if ((incr < 0 && old < 0 && incr < INT64_MIN - old) || (incr > 0 && old > 0 && incr > INT64_MAX - old))
        return ST_ERANGE;
    old += incr;
    n = util_ll2str(buf, old);
    if (hash_set(hp, f, flen, buf, (size_t)n, conf, &added) != ST_OK)
        return ST_ENOMEM;
    *out = old;
    return ST_OK;
}

int hash_incrbyfloat(void **hp, const void *f, size_t flen, long double incr, char *out, size_t outsize,
                     size_t *outlen, const struct hash_conf *conf)
{
    struct hash_str v;
    long double val = 0;
    int added, n;

    if (hash_get(*hp, f, flen, &v) && util_str2ld((const char *)v.p, v.len, &val) != ST_OK)
        return ST_EINVAL;
    val += incr;
    if (isnan(val) || isinf(val))
        return ST_ERANGE;
    n = util_ld2str(out, outsize, val);
    if (n <= 0)
        return ST_ERANGE;
    if (hash_set(hp, f, flen, out, (size_t)n, conf, &added) != ST_OK)
        return ST_ENOMEM;
    *outlen = (size_t)n;
    return ST_OK;
}

/* ---- iteration ------------------------------------------------------------ */

void hash_iter_init(struct hash_iter *it, void *h)
{
    it->h = h;
    it->p = NULL;
    if (is_lp(h))
        it->p = lp_first(as_lp(h));
    else
        dict_iter_init(&it->di, as_dict(h));
}

int hash_iter_next(struct hash_iter *it)
{
    if (is_lp(it->h)) {
        unsigned char *lp = as_lp(it->h), *vp;
        if (!it->p)
            return 0;
        vp = lp_next(lp, it->p);
        if (!vp)
            return 0;
        lp_str(it->p, &it->f);
        lp_str(vp, &it->v);
        it->p = lp_next(lp, vp);
        return 1;
    }
    struct dict_node *n = dict_iter_next(&it->di);
    if (!n)
        return 0;
    node_strs(n, &it->f, &it->v);
    return 1;
}

void hash_iter_done(struct hash_iter *it)
{
    if (it->h && !is_lp(it->h))
        dict_iter_done(&it->di);
    it->h = NULL;
}

/* ---- random ------------------------------------------------------------ */

int hash_random(void *h, uint64_t (*rnd)(void *), void *rud, struct hash_str *f, struct hash_str *v)
{
    uint64_t n = hash_len(h);

    if (n == 0)
        return ST_ENOENT;
    if (is_lp(h)) {
        unsigned char *lp = as_lp(h);
        unsigned char *fp = lp_seek(lp, (long)(2 * (rnd(rud) % n)));
        lp_str(fp, f);
        lp_str(lp_next(lp, fp), v);
        return ST_OK;
    }
    node_strs(dict_random(as_dict(h), rnd, rud), f, v);
    return ST_OK;
}

/* Emits the pair whose field is at p. */
static int emit_lp(unsigned char *lp, unsigned char *p, hash_pair_fn *fn, void *ud)
{
    struct hash_str f, v;

    lp_str(p, &f);
    lp_str(lp_next(lp, p), &v);
    return fn(&f, &v, ud);
}

static int emit_node(const struct dict_node *n, hash_pair_fn *fn, void *ud)
{
    struct hash_str f, v;

    node_strs(n, &f, &v);
    return fn(&f, &v, ud);
}

/* A set of node pointers (open addressing), for unique sampling of a dict. */
struct ptrset {
    const void **slot;
    uint64_t mask;
};

static int ptrset_init(struct ptrset *s, uint64_t n)
{
    uint64_t size = 16;

    while (size < n * 2)
        size <<= 1;
    s->slot = calloc(size, sizeof(*s->slot));
    s->mask = size - 1;
    return s->slot ? ST_OK : ST_ENOMEM;
}

/* Adds p; returns 1 when it was not there. */
static int ptrset_add(struct ptrset *s, const void *p)
{
    uint64_t i = ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull;

    for (i &= s->mask;; i = (i + 1) & s->mask) {
        if (s->slot[i] == p)
            return 0;
        if (!s->slot[i]) {
            s->slot[i] = p;
            return 1;
        }
    }
}

static int random_pairs_lp(unsigned char *lp, uint64_t size, uint64_t count, int uniq, uint64_t (*rnd)(void *),
                           void *rud, hash_pair_fn *fn, void *ud)
{
    if (uniq) {
        /* Algorithm S: keep each of the remaining r pairs with probability
         * need / r; storage order, exactly count pairs */
        uint64_t need = count, left = size;
        for (unsigned char *p = lp_first(lp); p && need; p = lp_next(lp, lp_next(lp, p)), left--) {
            if (rnd(rud) % left < need) {
                need--;
                if (emit_lp(lp, p, fn, ud))
                    break;
            }
        }
        return ST_OK;
    }
    /* with repeats: index the pairs once, then draw */
    unsigned char **pos = malloc(size * sizeof(*pos));
    uint64_t i = 0;
    if (!pos)
        return ST_ENOMEM;
    for (unsigned char *p = lp_first(lp); p && i < size; p = lp_next(lp, lp_next(lp, p)))
        pos[i++] = p;
    while (count--)
        if (emit_lp(lp, pos[rnd(rud) % size], fn, ud))
            break;
    free(pos);
    return ST_OK;
}

static int random_pairs_dict(struct dict *d, uint64_t size, uint64_t count, int uniq, uint64_t (*rnd)(void *),
                             void *rud, hash_pair_fn *fn, void *ud)
{
    if (!uniq) {
        while (count--)
            if (emit_node(dict_random(d, rnd, rud), fn, ud))
                break;
        return ST_OK;
    }
    if (count * 3 > size) {
        /* a large share: a partial Fisher-Yates shuffle of every node */
        const struct dict_node **all = malloc(size * sizeof(*all));
        uint64_t n = 0;
        if (!all)
            return ST_ENOMEM;
        for (int t = 0; t < 2; t++) {
            const struct dict_table *tb = &d->t[t];
            if (!tb->b)
                continue;
            for (uint64_t b = 0; b <= tb->mask; b++)
                for (const struct dict_node *e = tb->b[b]; e; e = e->next)
                    all[n++] = e;
        }
        for (uint64_t i = 0; i < count && i < n; i++) {
            uint64_t j = i + rnd(rud) % (n - i);
            const struct dict_node *tmp = all[i];
            all[i] = all[j];
            all[j] = tmp;
            if (emit_node(all[i], fn, ud))
                break;
        }
        free(all);
        return ST_OK;
    }
    /* a small share: draw until count distinct nodes were seen */
    struct ptrset seen;
    uint64_t got = 0;
    if (ptrset_init(&seen, count) != ST_OK)
        return ST_ENOMEM;
    while (got < count) {
        struct dict_node *n = dict_random(d, rnd, rud);
        if (!ptrset_add(&seen, n))
            continue;
        got++;
        if (emit_node(n, fn, ud))
            break;
    }
    free(seen.slot);
    return ST_OK;
}

int hash_random_pairs(void *h, uint64_t count, int uniq, uint64_t (*rnd)(void *), void *rud, hash_pair_fn *fn,
                      void *ud)
{
    uint64_t size = hash_len(h);

    if (count == 0 || size == 0)
        return ST_OK;
    if (uniq && count >= size) {
        struct hash_iter it;
        hash_iter_init(&it, h);
        while (hash_iter_next(&it))
            if (fn(&it.f, &it.v, ud))
                break;
        hash_iter_done(&it);
        return ST_OK;
    }
    if (is_lp(h))
        return random_pairs_lp(as_lp(h), size, count, uniq, rnd, rud, fn, ud);
    return random_pairs_dict(as_dict(h), size, count, uniq, rnd, rud, fn, ud);
}

/* ---- scan ------------------------------------------------------------ */

struct scan_state {
    hash_pair_fn *fn;
    void *ud;
    uint64_t elements; /* fields and values visited (Redis counts both) */
};

static void scan_node(struct dict_node *n, void *ud)
{
    struct scan_state *s = ud;

    (void)emit_node(n, s->fn, s->ud);
    s->elements += 2;
}

uint64_t hash_scan(void *h, uint64_t cursor, uint64_t count, hash_pair_fn *fn, void *ud)
{
    if (is_lp(h)) {
        unsigned char *lp = as_lp(h);
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p)))
            (void)emit_lp(lp, p, fn, ud);
        return 0;
    }
    struct scan_state s = { fn, ud, 0 };
    uint64_t maxiter = count > UINT64_MAX / 10 ? UINT64_MAX : count * 10;
    do {
        cursor = dict_scan(as_dict(h), cursor, scan_node, &s);
    } while (cursor && maxiter-- && s.elements < count);
    return cursor;
}

/* ---- type ops ------------------------------------------------------------ */

const struct obj_ops hash_obj_ops = {
    .name = "hash",
    .free = hash_destroy,
    .dup = hash_dup,
    .mem = hash_mem,
    .encoding = hash_encoding,
};

unsigned char *hash_lp(const void *h)
{
    return is_lp(h) ? as_lp(h) : NULL;
}

void *hash_from_lp(unsigned char *lp)
{
    return lp;
}
