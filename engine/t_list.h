/*
 * t_list.h -- the list type: a quicklist (doubly linked list of lpack nodes)
 * that reports itself as "listpack" while it is one small node, with
 * Redis 7.2's rules for when it changes encoding.
 *
 * Layout (native, in DRAM only):
 *
 *   struct list (32 B)                 struct list_node (24 B)
 *   +------+------+-------+------+     +------+------+----+
 *   | head | tail | count | nn|q |     | prev | next | lp |---> lpack buffer
 *   +------+------+-------+------+     +------+------+----+     (lpack.h)
 *
 * The keyspace entry's ENC_PTR value points at the struct list. Every node's
 * lpack holds at least one element; `count` is the sum of the nodes' counts.
 *
 * Encodings (OBJECT ENCODING), as Redis 7.2:
 *  - "listpack" (quick = 0): at most one node, pushed into without limit
 *    checks; list_convert_grow() switches to "quicklist" before a write that
 *    would take it past list-max-listpack-size.
 *  - "quicklist" (quick = 1): nodes of at most list-max-listpack-size each
 *    (> 0: entries, with an 8 KB safety cap; -1..-5: 4/8/16/32/64 KB);
 *    list_convert_shrink() goes back to "listpack" after removals when one
 *    node is left holding at most half the limit.
 *  Node sizes are compared as Redis's listpack sizes (lpack's header is 2
 *  bytes longer than listpack's; the element encodings are the same), so the
 *  encoding switches at exactly the element Redis's would.
 *
 * `fill` arguments are the list-max-listpack-size in force (type_limits).
 *
 * Positions and struct lp_val values returned by reads point into node
 * buffers: they are valid until the next call that modifies the list.
 *
 * Not thread-safe: the keyspace entry's shard lock guards the list.
 */
#ifndef STRATA_T_LIST_H
#define STRATA_T_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "engine/entry.h"
#include "engine/lpack.h"

enum list_where { LIST_HEAD = 0, LIST_TAIL = 1 };

struct list_node {
    struct list_node *prev, *next;
    unsigned char *lp; /* owned; never empty while linked */
};

struct list {
    struct list_node *head, *tail;
    uint64_t count;   /* elements in all nodes */
    uint32_t nnodes;
    uint8_t quick;    /* 0: "listpack" (nnodes <= 1), 1: "quicklist" */
};

/* OBJ_LIST's operations (free, dup, mem, encoding) for entry.c. */
extern const struct obj_ops list_obj_ops;

/* An empty list in the listpack encoding. Returns it owned, or NULL. */
struct list *list_create(void);

/* Frees l and its nodes. Accepts NULL. */
void list_destroy(struct list *l);

/* Returns an owned deep copy of l (same encoding and node boundaries), or NULL. */
struct list *list_dup(const struct list *l);

/* Bytes the allocator holds for l, its nodes and their buffers. */
size_t list_mem(const struct list *l);

/* "listpack" or "quicklist". */
const char *list_encoding(const struct list *l);

static inline uint64_t list_len(const struct list *l)
{
    return l->count;
}

/* Before adding nadd elements whose string arguments total add_bytes bytes:
 * switches a listpack list to quicklist when its node would pass the limit
 * (Redis's listTypeTryConvertListpack). No-op for a quicklist. */
void list_convert_grow(struct list *l, uint64_t nadd, size_t add_bytes, int32_t fill);

/* After removing elements from a non-empty list: switches a quicklist back to
 * listpack when one node is left and it holds at most half the limit
 * (Redis's listTypeTryConvertQuicklist, shrinking). No-op for a listpack. */
void list_convert_shrink(struct list *l, int32_t fill);

/* Pushes the string s[0..len) (copied) at the head or the tail. A listpack
 * list takes it in its one node unconditionally: callers run
 * list_convert_grow() for the whole batch first, as Redis does. Returns 0 or
 * ST_ENOMEM (list unchanged). */
int list_push(struct list *l, enum list_where where, const void *s, size_t len, int32_t fill);

/* Reads the first (LIST_HEAD) or last element into *v. Returns 0, or
 * ST_ENOENT when the list is empty. */
int list_peek(struct list *l, enum list_where where, struct lp_val *v);

/* Removes min(n, count) elements from the head or the tail. Never fails. */
void list_pop(struct list *l, enum list_where where, uint64_t n);

/* Removes lcut elements from the head and rcut from the tail (LTRIM). */
void list_trim(struct list *l, uint64_t lcut, uint64_t rcut);

/* Reads the element at index (negative: from the tail, -1 = last) into *v,
 * walking from the nearer end. Returns 0 or ST_ENOENT (out of range). */
int list_index(struct list *l, long long index, struct lp_val *v);

/* Replaces the element at index with s[0..len), in place (callers run
 * list_convert_grow(l, 1, len) before and list_convert_shrink() after, as
 * Redis's LSET). Returns 0, ST_ENOENT (out of range) or ST_ENOMEM (list
 * unchanged). */
int list_set(struct list *l, long long index, const void *s, size_t len);

/* Inserts s[0..len) before (after = 0) or after the first element, from the
 * head, equal to pivot (callers run list_convert_grow(l, 1, len) first).
 * Returns 1 when inserted, 0 when no element equals
 * pivot, ST_ENOMEM (list unchanged). */
int list_insert(struct list *l, const void *pivot, size_t plen, int after, const void *s, size_t len,
                int32_t fill);

/* LREM: removes elements equal to s, the first |count| from the head
 * (count > 0) or from the tail (count < 0), or all of them (count = 0).
 * Returns the number removed. Never fails. */
uint64_t list_rem(struct list *l, long long count, const void *s, size_t len);

/* Redis's LRANGE / LTRIM index rules: start..end inclusive, negative counts
 * from the end, clamped to a list of len elements. Returns the number of
 * elements in the range and the index of the first in *from (0 when the
 * range is empty). */
uint64_t list_range(uint64_t len, long long start, long long end, uint64_t *from);

/* A read-only cursor. list_iter_next() returns the element under the cursor
 * and moves it one step in the iterator's direction. */
struct list_iter {
    struct list_node *node; /* NULL at the end */
    unsigned char *p;       /* element in node->lp */
    enum list_where dir;    /* LIST_TAIL: towards the tail; LIST_HEAD: towards the head */
};

/* Places it on the element at index (negative: from the tail), walking from
 * the nearer end; at the end already when index is out of range. */
void list_iter_init(struct list *l, long long index, enum list_where dir, struct list_iter *it);

/* Returns 1 and the element under the cursor in *v, then advances; 0 at the end. */
int list_iter_next(struct list_iter *it, struct lp_val *v);

/* Checks the structural invariants (links, counts, no empty node, a
 * listpack list has at most one node). Returns 0 or ST_ECORRUPT. For tests. */
int list_verify(const struct list *l);

#endif
