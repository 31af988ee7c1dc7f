/*
 * t_list.c -- the list type (contract and layout in t_list.h).
 *
 * What it owns: the quicklist of lpack nodes behind an OBJ_LIST entry, node
 * splitting and merging, and the listpack <-> quicklist encoding rules. What
 * it does not: the element encoding (engine/lpack.c), keys and locking
 * (engine/keyspace.c, the commands in server/cmd_list.c).
 *
 * Node policy, as Redis 7.2's quicklist.c so that OBJECT ENCODING answers as
 * Redis does for the same command sequence:
 *  - a push goes into the end node when that node "allows" the element (its
 *    size + the element's length + 8 stays within the limit, or for a count
 *    limit: count + 1 <= fill and size within 8 KB), else into a new node;
 *  - an insert in the middle goes into its node when allowed, else at the
 *    near end of the neighbour when the pivot is at that end of its node,
 *    else into a new node there, else the node is split at the pivot and the
 *    pieces around it are merged where the merged node fits (size of both
 *    - 7, count of both);
 *  - removals drop nodes that become empty and never merge;
 *  - a replacement (LSET) rewrites the element in place.
 * Sizes are Redis listpack sizes: node_sz() subtracts lpack's 2 extra header
 * bytes.
 *
 * Invariants:
 *  1. Every linked node holds at least one element.
 *  2. count == sum of the nodes' lp_count; nnodes == number of nodes.
 *  3. quick == 0 implies nnodes <= 1.
 *  4. On ST_ENOMEM a modifying call leaves the list as it was.
 *
 * Threads: none of its own; callers hold the entry's shard lock.
 *
 * References: Redis 7.2 src/quicklist.c (_quicklistNodeAllowInsert,
 * _quicklistInsert, _quicklistSplitNode, _quicklistMergeNodes,
 * quicklistDelRange) and src/t_list.c (listTypeTryConvertListpack,
 * listTypeTryConvertQuicklist).
 */
#include "engine/t_list.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"

/* Redis's listpack header is 6 bytes (u32 total, u16 count), lpack's 8. */
#define LIST_HDR_DELTA (LP_HDR - 6)
/* Size of an empty Redis listpack (header + end byte). */
#define LIST_EMPTY_SZ 7
/* Redis's SIZE_SAFETY_LIMIT and SIZE_ESTIMATE_OVERHEAD. */
#define LIST_SAFETY_LIMIT 8192
#define LIST_ESTIMATE_OVERHEAD 8

static const size_t list_levels[] = { 4096, 8192, 16384, 32768, 65536 };

/* ------------------------------------------------------------------------ */
/* Limits                                                                   */
/* ------------------------------------------------------------------------ */

/* Redis's quicklistNodeLimit: a byte limit (fill < 0) or a count limit. */
static void list_limits(int32_t fill, size_t *sz_limit, uint64_t *count_limit)
{
    *sz_limit = SIZE_MAX;
    *count_limit = UINT64_MAX;
    if (fill >= 0) {
        *count_limit = fill == 0 ? 1 : (uint64_t)fill;
    } else {
        size_t lvl = (size_t)(-(int64_t)fill) - 1;
        if (lvl >= sizeof(list_levels) / sizeof(list_levels[0]))
            lvl = sizeof(list_levels) / sizeof(list_levels[0]) - 1;
        *sz_limit = list_levels[lvl];
    }
}

/* Redis's quicklistNodeExceedsLimit. */
static int list_exceeds(int32_t fill, size_t new_sz, uint64_t new_count)
{
    size_t sz_limit;
    uint64_t count_limit;

    list_limits(fill, &sz_limit, &count_limit);
    if (sz_limit != SIZE_MAX)
        return new_sz > sz_limit;
    if (new_sz > LIST_SAFETY_LIMIT)
        return 1;
    return new_count > count_limit;
}

static size_t node_sz(const struct list_node *n)
{
    return lp_bytes(n->lp) - LIST_HDR_DELTA;
}

static uint32_t node_count(const struct list_node *n)
{
    return lp_count(n->lp);
}

/* Redis's _quicklistNodeAllowInsert. */
static int node_allow_insert(const struct list_node *n, int32_t fill, size_t len)
{
    if (!n)
        return 0;
    return !list_exceeds(fill, node_sz(n) + len + LIST_ESTIMATE_OVERHEAD, (uint64_t)node_count(n) + 1);
}

/* Redis's _quicklistNodeAllowMerge. */
static int node_allow_merge(const struct list_node *a, const struct list_node *b, int32_t fill)
{
    if (!a || !b)
        return 0;
    return !list_exceeds(fill, node_sz(a) + node_sz(b) - LIST_EMPTY_SZ,
                         (uint64_t)node_count(a) + node_count(b));
}

/* ------------------------------------------------------------------------ */
/* Nodes                                                                    */
/* ------------------------------------------------------------------------ */

/* A node with an empty pack, not linked. NULL when out of memory. */
static struct list_node *node_new(void)
{
    struct list_node *n = malloc(sizeof(*n));

    if (!n)
        return NULL;
    n->prev = n->next = NULL;
    n->lp = lp_create();
    if (!n->lp) {
        free(n);
        return NULL;
    }
    return n;
}

static void node_free(struct list_node *n)
{
    lp_destroy(n->lp);
    free(n);
}

/* Links n as the new head (where = LIST_HEAD) or tail. */
static void node_link_end(struct list *l, struct list_node *n, enum list_where where)
{
    if (where == LIST_HEAD) {
        n->prev = NULL;
        n->next = l->head;
        if (l->head)
            l->head->prev = n;
        l->head = n;
        if (!l->tail)
            l->tail = n;
    } else {
        n->next = NULL;
        n->prev = l->tail;
        if (l->tail)
            l->tail->next = n;
        l->tail = n;
        if (!l->head)
            l->head = n;
    }
    l->nnodes++;
}

/* Links n right after (after = 1) or right before the linked node at. */
static void node_link(struct list *l, struct list_node *at, struct list_node *n, int after)
{
    if (after) {
        n->prev = at;
        n->next = at->next;
        if (at->next)
            at->next->prev = n;
        else
            l->tail = n;
        at->next = n;
    } else {
        n->next = at;
        n->prev = at->prev;
        if (at->prev)
            at->prev->next = n;
        else
            l->head = n;
        at->prev = n;
    }
    l->nnodes++;
}

/* Unlinks n and frees it; the caller adjusts l->count. */
static void node_unlink_free(struct list *l, struct list_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    l->nnodes--;
    node_free(n);
}

/* Collects the elements [from, from + n) of lp into an array (malloc'd, the
 * values pointing into lp). Returns NULL when out of memory (or n == 0). */
static struct lp_val *lp_vals(unsigned char *lp, uint32_t from, uint32_t n)
{
    struct lp_val *v;
    unsigned char *p;

    if (n == 0)
        return NULL;
    v = malloc((size_t)n * sizeof(*v));
    if (!v)
        return NULL;
    p = lp_seek(lp, from);
    for (uint32_t i = 0; i < n && p; i++, p = lp_next(lp, p))
        lp_get(p, &v[i]);
    return v;
}

/* A new pack holding elements [from, from + n) of lp. NULL when out of memory. */
static unsigned char *lp_slice(unsigned char *lp, uint32_t from, uint32_t n)
{
    unsigned char *out = lp_create();
    struct lp_val *v;
    unsigned char *r;

    if (!out || n == 0)
        return out;
    v = lp_vals(lp, from, n);
    if (!v) {
        lp_destroy(out);
        return NULL;
    }
    r = lp_append_many(out, v, n);
    free(v);
    if (!r) {
        lp_destroy(out);
        return NULL;
    }
    return r;
}

/* Appends b's elements to a (b follows a) and frees b (Redis's
 * _quicklistListpackMerge). Merging is an optimisation: on out of memory
 * both nodes stay as they are and it returns ST_ENOMEM, else 0. */
static int node_merge(struct list *l, struct list_node *a, struct list_node *b)
{
    uint32_t nb = node_count(b);
    struct lp_val *v = lp_vals(b->lp, 0, nb);
    unsigned char *r;

    if (!v)
        return ST_ENOMEM;
    r = lp_append_many(a->lp, v, nb);
    free(v);
    if (!r)
        return ST_ENOMEM;
    a->lp = r;
    node_unlink_free(l, b);
    return ST_OK;
}

/* Redis's _quicklistMergeNodes around center. */
static void node_merge_around(struct list *l, struct list_node *center, int32_t fill)
{
    struct list_node *prev = center->prev, *next = center->next;
    struct list_node *prev_prev = prev ? prev->prev : NULL;
    struct list_node *next_next = next ? next->next : NULL;
    struct list_node *target;

    if (node_allow_merge(prev, prev_prev, fill))
        node_merge(l, prev_prev, prev);
    if (node_allow_merge(next, next_next, fill))
        node_merge(l, next, next_next);
    if (node_allow_merge(center, center->prev, fill)) {
        target = center->prev;
        if (node_merge(l, center->prev, center) != ST_OK)
            target = center;
    } else {
        target = center;
    }
    if (node_allow_merge(target, target->next, fill))
        node_merge(l, target, target->next);
}

/* Finds the node and position of index (already checked in range),
 * walking from the nearer end. */
static void list_locate(struct list *l, uint64_t idx, struct list_node **np, unsigned char **pp)
{
    struct list_node *n;

    if (idx < l->count / 2) {
        n = l->head;
        while (idx >= node_count(n)) {
            idx -= node_count(n);
            n = n->next;
        }
        *pp = lp_seek(n->lp, (long)idx);
    } else {
        uint64_t ridx = l->count - 1 - idx;
        n = l->tail;
        while (ridx >= node_count(n)) {
            ridx -= node_count(n);
            n = n->prev;
        }
        *pp = lp_seek(n->lp, -(long)ridx - 1);
    }
    *np = n;
}

/* Turns a possibly negative index into a position; 0 or ST_ENOENT. */
static int list_norm_index(const struct list *l, long long index, uint64_t *idx)
{
    if (index < 0) {
        uint64_t back = (uint64_t)(-(index + 1)) + 1;
        if (back > l->count)
            return ST_ENOENT;
        *idx = l->count - back;
    } else {
        if ((uint64_t)index >= l->count)
            return ST_ENOENT;
        *idx = (uint64_t)index;
    }
    return ST_OK;
}

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

struct list *list_create(void)
{
    return calloc(1, sizeof(struct list));
}

void list_destroy(struct list *l)
{
    struct list_node *n, *next;

    if (!l)
        return;
    for (n = l->head; n; n = next) {
        next = n->next;
        node_free(n);
    }
    free(l);
}

struct list *list_dup(const struct list *l)
{
    struct list *d = list_create();

    if (!d)
        return NULL;
    d->quick = l->quick;
    for (const struct list_node *n = l->head; n; n = n->next) {
        struct list_node *c = malloc(sizeof(*c));
        if (!c)
            goto fail;
        c->lp = lp_slice(n->lp, 0, node_count(n));
        if (!c->lp) {
            free(c);
            goto fail;
        }
        node_link_end(d, c, LIST_TAIL);
        d->count += node_count(c);
    }
    return d;
fail:
    list_destroy(d);
    return NULL;
}

size_t list_mem(const struct list *l)
{
    size_t m = malloc_usable_size((void *)l);

    for (const struct list_node *n = l->head; n; n = n->next)
        m += malloc_usable_size((void *)n) + malloc_usable_size(n->lp);
    return m;
}

const char *list_encoding(const struct list *l)
{
    return l->quick ? "quicklist" : "listpack";
}

/* ------------------------------------------------------------------------ */
/* Encoding transitions                                                     */
/* ------------------------------------------------------------------------ */

void list_convert_grow(struct list *l, uint64_t nadd, size_t add_bytes, int32_t fill)
{
    size_t sz;

    if (l->quick)
        return;
    sz = l->head ? node_sz(l->head) : LIST_EMPTY_SZ;
    if (list_exceeds(fill, sz + add_bytes, l->count + nadd))
        l->quick = 1;
}

void list_convert_shrink(struct list *l, int32_t fill)
{
    size_t sz_limit;
    uint64_t count_limit;

    if (!l->quick || l->nnodes != 1)
        return;
    list_limits(fill, &sz_limit, &count_limit);
    sz_limit /= 2;
    count_limit /= 2;
    if (node_sz(l->head) > sz_limit || l->count > count_limit)
        return;
    l->quick = 0;
}

/* ------------------------------------------------------------------------ */
/* Ends                                                                     */
/* ------------------------------------------------------------------------ */

int list_push(struct list *l, enum list_where where, const void *s, size_t len, int32_t fill)
{
    struct list_node *n = where == LIST_HEAD ? l->head : l->tail;
    int fresh = 0;
    unsigned char *lp;

    if (!n || (l->quick && !node_allow_insert(n, fill, len))) {
        n = node_new();
        if (!n)
            return ST_ENOMEM;
        node_link_end(l, n, where);
        fresh = 1;
    }
    lp = lp_insert(n->lp, where == LIST_HEAD ? lp_first(n->lp) : NULL, s, len, NULL);
    if (!lp) {
        if (fresh)
            node_unlink_free(l, n);
        return ST_ENOMEM;
    }
    n->lp = lp;
    l->count++;
    return ST_OK;
}

int list_peek(struct list *l, enum list_where where, struct lp_val *v)
{
    if (!l->count)
        return ST_ENOENT;
    if (where == LIST_HEAD)
        lp_get(lp_first(l->head->lp), v);
    else
        lp_get(lp_last(l->tail->lp), v);
    return ST_OK;
}

void list_pop(struct list *l, enum list_where where, uint64_t n)
{
    while (n && l->count) {
        struct list_node *node = where == LIST_HEAD ? l->head : l->tail;
        uint32_t c = node_count(node);

        if (n >= c) {
            node_unlink_free(l, node);
            l->count -= c;
            n -= c;
        } else {
            unsigned char *p = where == LIST_HEAD ? lp_first(node->lp) : lp_seek(node->lp, -(long)n);
            node->lp = lp_delete(node->lp, p, (uint32_t)n, NULL);
            l->count -= n;
            n = 0;
        }
    }
}

void list_trim(struct list *l, uint64_t lcut, uint64_t rcut)
{
    list_pop(l, LIST_HEAD, lcut);
    list_pop(l, LIST_TAIL, rcut);
}

/* ------------------------------------------------------------------------ */
/* Positions                                                                */
/* ------------------------------------------------------------------------ */

int list_index(struct list *l, long long index, struct lp_val *v)
{
    uint64_t idx;
    struct list_node *n;
    unsigned char *p;

    if (list_norm_index(l, index, &idx) != ST_OK)
        return ST_ENOENT;
    list_locate(l, idx, &n, &p);
    lp_get(p, v);
    return ST_OK;
}

int list_set(struct list *l, long long index, const void *s, size_t len)
{
    uint64_t idx;
    struct list_node *n;
    unsigned char *p, *lp;

    if (list_norm_index(l, index, &idx) != ST_OK)
        return ST_ENOENT;
    list_locate(l, idx, &n, &p);
    lp = lp_replace(n->lp, p, s, len, NULL);
    if (!lp)
        return ST_ENOMEM;
    n->lp = lp;
    return ST_OK;
}

/* Inserts s before/after the element at p of node n (Redis's _quicklistInsert). */
static int list_insert_at(struct list *l, struct list_node *n, unsigned char *p, int after, const void *s,
                          size_t len, int32_t fill)
{
    int at_tail = 0, at_head = 0, avail_next = 0, avail_prev = 0;
    unsigned char *lp;

    /* a listpack list, or a node with room: insert in place */
    if (!l->quick || node_allow_insert(n, fill, len)) {
        lp = lp_insert(n->lp, after ? lp_next(n->lp, p) : p, s, len, NULL);
        if (!lp)
            return ST_ENOMEM;
        n->lp = lp;
        l->count++;
        return ST_OK;
    }
    if (after && lp_next(n->lp, p) == NULL) {
        at_tail = 1;
        avail_next = node_allow_insert(n->next, fill, len);
    }
    if (!after && lp_prev(n->lp, p) == NULL) {
        at_head = 1;
        avail_prev = node_allow_insert(n->prev, fill, len);
    }
    if (at_tail && avail_next) {
        lp = lp_insert(n->next->lp, lp_first(n->next->lp), s, len, NULL);
        if (!lp)
            return ST_ENOMEM;
        n->next->lp = lp;
    } else if (at_head && avail_prev) {
        lp = lp_insert(n->prev->lp, NULL, s, len, NULL);
        if (!lp)
            return ST_ENOMEM;
        n->prev->lp = lp;
    } else if (at_tail || at_head) {
        struct list_node *nn = node_new();
        if (!nn)
            return ST_ENOMEM;
        lp = lp_insert(nn->lp, NULL, s, len, NULL);
        if (!lp) {
            node_free(nn);
            return ST_ENOMEM;
        }
        nn->lp = lp;
        node_link(l, n, nn, after);
    } else {
        /* split at p: after -> the new node takes (p, end]; before -> [0, p) */
        uint32_t cnt = node_count(n), off = 0, from, take;
        struct list_node *nn;

        for (unsigned char *q = lp_first(n->lp); q != p; q = lp_next(n->lp, q))
            off++;
        from = after ? off + 1 : 0;
        take = after ? cnt - off - 1 : off;
        nn = malloc(sizeof(*nn));
        if (!nn)
            return ST_ENOMEM;
        nn->lp = lp_slice(n->lp, from, take);
        if (!nn->lp) {
            free(nn);
            return ST_ENOMEM;
        }
        lp = lp_insert(nn->lp, after ? lp_first(nn->lp) : NULL, s, len, NULL);
        if (!lp) {
            node_free(nn);
            return ST_ENOMEM;
        }
        nn->lp = lp;
        n->lp = lp_delete(n->lp, lp_seek(n->lp, (long)from), take, NULL);
        node_link(l, n, nn, after);
        l->count++;
        node_merge_around(l, n, fill);
        return ST_OK;
    }
    l->count++;
    return ST_OK;
}

int list_insert(struct list *l, const void *pivot, size_t plen, int after, const void *s, size_t len,
                int32_t fill)
{
    for (struct list_node *n = l->head; n; n = n->next)
        for (unsigned char *p = lp_first(n->lp); p; p = lp_next(n->lp, p))
            if (lp_eq(p, pivot, plen)) {
                int rc = list_insert_at(l, n, p, after, s, len, fill);
                return rc == ST_OK ? 1 : rc;
            }
    return 0;
}

/* Deletes the element under the cursor and moves the cursor to the element
 * that follows it in the iterator's direction. */
static void list_iter_delete(struct list *l, struct list_iter *it)
{
    struct list_node *n = it->node;
    unsigned char *next;

    if (node_count(n) == 1) {
        struct list_node *adj = it->dir == LIST_TAIL ? n->next : n->prev;
        node_unlink_free(l, n);
        l->count--;
        it->node = adj;
        it->p = adj ? (it->dir == LIST_TAIL ? lp_first(adj->lp) : lp_last(adj->lp)) : NULL;
        return;
    }
    n->lp = lp_delete(n->lp, it->p, 1, &next);
    l->count--;
    if (it->dir == LIST_TAIL) {
        if (next) {
            it->p = next;
            return;
        }
        it->node = n->next;
        it->p = it->node ? lp_first(it->node->lp) : NULL;
    } else {
        unsigned char *p = next ? lp_prev(n->lp, next) : lp_last(n->lp);
        if (p) {
            it->p = p;
            return;
        }
        it->node = n->prev;
        it->p = it->node ? lp_last(it->node->lp) : NULL;
    }
}

static void list_iter_step(struct list_iter *it)
{
    struct list_node *n = it->node;

    it->p = it->dir == LIST_TAIL ? lp_next(n->lp, it->p) : lp_prev(n->lp, it->p);
    if (it->p)
        return;
    it->node = it->dir == LIST_TAIL ? n->next : n->prev;
    if (it->node)
        it->p = it->dir == LIST_TAIL ? lp_first(it->node->lp) : lp_last(it->node->lp);
}

uint64_t list_rem(struct list *l, long long count, const void *s, size_t len)
{
    struct list_iter it;
    uint64_t removed = 0, toremove;

    if (count < 0) {
        toremove = (uint64_t)(-(count + 1)) + 1;
        list_iter_init(l, -1, LIST_HEAD, &it);
    } else {
        toremove = (uint64_t)count;
        list_iter_init(l, 0, LIST_TAIL, &it);
    }
    while (it.node) {
        if (lp_eq(it.p, s, len)) {
            list_iter_delete(l, &it);
            removed++;
            if (toremove && removed == toremove)
                break;
        } else {
            list_iter_step(&it);
        }
    }
    return removed;
}

uint64_t list_range(uint64_t len, long long start, long long end, uint64_t *from)
{
    long long llen = (long long)len;

    *from = 0;
    if (start < 0)
        start = llen + start;
    if (end < 0)
        end = llen + end;
    if (start < 0)
        start = 0;
    if (start > end || start >= llen)
        return 0;
    if (end >= llen)
        end = llen - 1;
    *from = (uint64_t)start;
    return (uint64_t)(end - start) + 1;
}

void list_iter_init(struct list *l, long long index, enum list_where dir, struct list_iter *it)
{
    uint64_t idx;

    it->dir = dir;
    it->node = NULL;
    it->p = NULL;
    if (list_norm_index(l, index, &idx) != ST_OK)
        return;
    list_locate(l, idx, &it->node, &it->p);
}

int list_iter_next(struct list_iter *it, struct lp_val *v)
{
    if (!it->node)
        return 0;
    lp_get(it->p, v);
    list_iter_step(it);
    return 1;
}

int list_verify(const struct list *l)
{
    const struct list_node *prev = NULL;
    uint64_t count = 0;
    uint32_t nn = 0;

    for (const struct list_node *n = l->head; n; prev = n, n = n->next) {
        if (n->prev != prev || node_count(n) == 0)
            return ST_ECORRUPT;
        count += node_count(n);
        nn++;
    }
    if (l->tail != prev || count != l->count || nn != l->nnodes)
        return ST_ECORRUPT;
    if (!l->quick && nn > 1)
        return ST_ECORRUPT;
    return ST_OK;
}

/* ------------------------------------------------------------------------ */
/* obj_ops                                                                  */
/* ------------------------------------------------------------------------ */

static void list_ops_free(void *obj)
{
    list_destroy(obj);
}

static void *list_ops_dup(const void *obj)
{
    return list_dup(obj);
}

static size_t list_ops_mem(const void *obj)
{
    return list_mem(obj);
}

static const char *list_ops_encoding(const void *obj)
{
    return list_encoding(obj);
}

const struct obj_ops list_obj_ops = {
    .name = "list",
    .free = list_ops_free,
    .dup = list_ops_dup,
    .mem = list_ops_mem,
    .encoding = list_ops_encoding,
};
