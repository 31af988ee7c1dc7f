/*
 * ht.h -- the keyspace hash table: chained, power-of-two sized, with
 * incremental rehashing across two tables (as Redis's dict.c), intrusive on
 * struct entry so a key costs one pointer in a bucket and nothing else.
 *
 * Not thread-safe: the owning shard's lock guards every call.
 */
#ifndef STRATA_HT_H
#define STRATA_HT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/entry.h"

struct ht_table {
    struct entry **buckets; /* NULL when size 0 */
    uint64_t mask;          /* size - 1; size is 0 or a power of two */
    uint64_t used;
};

struct ht {
    struct ht_table t[2]; /* t[1] is in use only while rehashing */
    int64_t rehashidx;    /* next bucket of t[0] to move, -1 when not rehashing */
    uint64_t seed;        /* hash seed, the keyspace's */
};

/* Hash of a key as every ht and the shard map use it. */
uint64_t ht_hash(uint64_t seed, const void *key, size_t len);

/* Initialises an empty table in caller storage (no allocation). */
void ht_init(struct ht *ht, uint64_t seed);

/* Destroys every entry (entry_destroy) and frees the buckets; ht is empty
 * and reusable afterwards. */
void ht_deinit(struct ht *ht);

static inline uint64_t ht_size(const struct ht *ht)
{
    return ht->t[0].used + ht->t[1].used;
}

static inline int ht_is_rehashing(const struct ht *ht)
{
    return ht->rehashidx != -1;
}

/* Returns the link that points at the entry holding key (so the caller can
 * replace or unlink it), or NULL when absent. Does not modify the table: the
 * link stays valid until the next insert, unlink or rehash step. */
struct entry **ht_find_ref(struct ht *ht, uint64_t hash, const void *key, size_t klen);

/* Inserts e, whose key must not be present. May start a resize and performs
 * one rehash step. Returns 0 or ST_ENOMEM (e not inserted). */
int ht_insert(struct ht *ht, uint64_t hash, struct entry *e);

/* Inserts e, whose key must not be present, without moving any existing
 * link: at the tail of its chain, no rehash step, no resize started (the
 * table's next ht_insert grows it if needed). For inserts made inside a
 * lookup (a key promoted from an indexed tier), while the caller may hold
 * links from earlier lookups. Returns 0 or ST_ENOMEM. */
int ht_insert_stable(struct ht *ht, uint64_t hash, struct entry *e);

/* Unlinks the entry at ref (from ht_find_ref) and returns it owned. */
struct entry *ht_unlink_ref(struct ht *ht, struct entry **ref);

/* Replaces the entry at ref by ne (same key; e.g. after a realloc). */
static inline void ht_replace_ref(struct entry **ref, struct entry *ne)
{
    *ref = ne;
}

/* Moves up to n buckets of an ongoing rehash. Returns 1 while more remain. */
int ht_rehash_step(struct ht *ht, int n);

/* Shrinks the table when it is less than 1/8 full (starts an incremental
 * rehash). Returns 1 when a shrink started. */
int ht_maybe_shrink(struct ht *ht);

/* Calls fn for every entry in the buckets the cursor designates and returns
 * the next cursor (0 when the scan is over). Redis's reverse-binary cursor:
 * an entry present for the whole scan is visited at least once across
 * resizes. fn may not modify the table; it may record entries to delete
 * after the call returns. */
typedef void ht_scan_fn(struct entry *e, void *ud);
uint64_t ht_scan(struct ht *ht, uint64_t cursor, ht_scan_fn *fn, void *ud);

/* A uniformly chosen non-empty bucket's random entry, or NULL when empty. */
struct entry *ht_random(struct ht *ht, uint64_t (*rnd)(void *), void *rnd_ud);

/* Bytes of bucket arrays (for INFO memory's overhead figure). */
size_t ht_overhead(const struct ht *ht);

#endif
