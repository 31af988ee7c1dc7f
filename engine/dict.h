/*
 * dict.h -- the hash table behind large collections: fields of hashes,
 * members of sets and sorted sets. Chained, power-of-two sized, incremental
 * rehashing (as engine/ht.c, which is specialised for keyspace entries), the
 * element's bytes stored inline in its node (one allocation per element).
 *
 * Node layout: next (8) | value (8: pointer, double or int64) | len (4) |
 * bytes[len]. The value's meaning belongs to the collection: a hash stores an
 * owned struct dstr *, a set nothing, a sorted set its score or skiplist node.
 *
 * Not thread-safe: the owning entry's shard lock guards every call.
 */
#ifndef STRATA_DICT_H
#define STRATA_DICT_H

#include <stddef.h>
#include <stdint.h>

/* A counted, owned byte string (hash values). */
struct dstr {
    uint32_t len;
    unsigned char s[];
};
struct dstr *dstr_create(const void *s, size_t len); /* NULL on OOM */

struct dict_node {
    struct dict_node *next;
    union {
        void *ptr;
        double d;
        int64_t i;
    } v;
    uint32_t len;
    unsigned char key[];
};

struct dict_table {
    struct dict_node **b;
    uint64_t mask;
    uint64_t used;
};

struct dict {
    struct dict_table t[2];
    int64_t rehashidx;   /* -1 when not rehashing */
    uint64_t seed;
    int iterators;       /* safe iterators alive: no rehash steps meanwhile */
};

/* Frees a node's value when the dict destroys or deletes a node (NULL: the
 * value owns nothing). */
typedef void dict_val_free_fn(struct dict_node *n);

struct dict *dict_create(uint64_t seed);
void dict_destroy(struct dict *d, dict_val_free_fn *vfree);

static inline uint64_t dict_size(const struct dict *d)
{
    return d->t[0].used + d->t[1].used;
}

struct dict_node *dict_find(struct dict *d, const void *key, size_t len);

/* Adds key when absent. Returns its node (new: *added = 1, value zeroed; or
 * the existing one: *added = 0), or NULL on OOM. */
struct dict_node *dict_add(struct dict *d, const void *key, size_t len, int *added);

/* Unlinks key's node and returns it owned (the caller frees it with free()
 * after dealing with its value), or NULL when absent. */
struct dict_node *dict_unlink(struct dict *d, const void *key, size_t len);

/* Deletes key; returns 1 when it was present. */
int dict_delete(struct dict *d, const void *key, size_t len, dict_val_free_fn *vfree);

/* Redis's reverse-binary cursor scan (HSCAN/SSCAN/ZSCAN). */
typedef void dict_scan_fn(struct dict_node *n, void *ud);
uint64_t dict_scan(struct dict *d, uint64_t cursor, dict_scan_fn *fn, void *ud);

/* A random node (uniform over non-empty buckets then chain), NULL if empty.
 * Biased: a node alone in its bucket is drawn more often than one sharing a
 * chain (as Redis's dictGetRandomKey). */
struct dict_node *dict_random(struct dict *d, uint64_t (*rnd)(void *), void *ud);

/* A node drawn uniformly, NULL if empty. dict_random's pick is accepted with
 * probability chain length / DICT_FAIR_CHAIN, so every node has probability
 * 1 / (non-empty buckets * DICT_FAIR_CHAIN) as long as no chain is longer
 * than DICT_FAIR_CHAIN. At a load factor <= 1 chain lengths are about
 * Poisson(<= 1): a chain of 5+ turns up in ~25% of 256-bucket tables (too
 * often for a cap of 4), one of 9+ in ~0.003%. The price is about 8 / 1.4 ~ 6
 * draws per pick; Redis's dictGetFairRandomKey only reduces the same bias,
 * by sampling 15 keys. */
#define DICT_FAIR_CHAIN 8u
struct dict_node *dict_random_fair(struct dict *d, uint64_t (*rnd)(void *), void *ud);

/* Iteration over every node. While an iterator is alive the dict does no
 * rehash step or shrink; the only modification allowed is dict_delete or
 * dict_unlink of the node dict_iter_next just returned (the iterator has
 * already read its successor). Call dict_iter_done when finished. */
struct dict_iter {
    struct dict *d;
    int table;
    uint64_t idx;
    struct dict_node *cur, *next;
};
void dict_iter_init(struct dict_iter *it, struct dict *d);
struct dict_node *dict_iter_next(struct dict_iter *it);
void dict_iter_done(struct dict_iter *it);

/* Bytes held (nodes' usable sizes + buckets), values excluded. */
size_t dict_mem(const struct dict *d);

#endif
