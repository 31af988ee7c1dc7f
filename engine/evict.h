/*
 * evict.h -- picking victims when DRAM is over its budget: Redis's eight
 * maxmemory policies over the sharded keyspace.
 *
 * Approximated LRU/LFU/TTL as in Redis (evict.c): each round samples a few
 * entries from a random shard (every database of it), scores them (idle
 * seconds; 255 - decayed LFU counter; time to expiry), and keeps the best
 * EVICT_POOL candidates across rounds in a pool owned by the caller (one per
 * worker thread: no sharing). The caller takes the best candidate, locks its
 * shard, checks it is still there (evict_take), and either demotes it to a
 * tier or deletes it -- that choice is the caller's (server/maxmem.c).
 * The random policies pick a random entry of a random non-empty shard.
 *
 * Candidates hold copies of their keys (a pool outlives any lock), so a
 * candidate may be gone or changed by the time it is taken: evict_take
 * re-looks it up, and a key that is no longer a victim under the policy
 * (e.g. a volatile policy and the key lost its TTL) is skipped.
 *
 * Threads: a pool belongs to one thread; the keyspace functions lock shards
 * themselves (never more than one at a time).
 */
#ifndef STRATA_EVICT_H
#define STRATA_EVICT_H

#include <stdint.h>

#include "engine/keyspace.h"

enum evict_policy {
    EVICT_NOEVICTION = 0,
    EVICT_ALLKEYS_LRU,
    EVICT_VOLATILE_LRU,
    EVICT_ALLKEYS_LFU,
    EVICT_VOLATILE_LFU,
    EVICT_ALLKEYS_RANDOM,
    EVICT_VOLATILE_RANDOM,
    EVICT_VOLATILE_TTL,
};

static inline int evict_is_volatile(int policy)
{
    return policy == EVICT_VOLATILE_LRU || policy == EVICT_VOLATILE_LFU || policy == EVICT_VOLATILE_RANDOM ||
           policy == EVICT_VOLATILE_TTL;
}

static inline int evict_is_lfu(int policy)
{
    return policy == EVICT_ALLKEYS_LFU || policy == EVICT_VOLATILE_LFU;
}

#define EVICT_POOL 16
#define EVICT_KEY_INLINE 48

struct evict_cand {
    uint64_t score;   /* higher = better victim */
    int db;
    uint32_t klen;
    char *key;        /* inline buf or owned heap copy */
    char buf[EVICT_KEY_INLINE];
};

struct evict_pool {
    struct evict_cand c[EVICT_POOL]; /* [0, n) sorted by ascending score */
    int n;
    uint64_t rng;
};

void evict_pool_init(struct evict_pool *p, uint64_t seed);
void evict_pool_deinit(struct evict_pool *p);

/* Fills the pool for policy: up to `samples` entries from each database of
 * a few random shards, until `samples` entries passing the policy and the
 * filter were seen or 32 x samples probes were made. The filter, when given,
 * skips entries it returns 0 for (the caller's: e.g. stubs when only
 * DRAM-resident victims will do); it runs under the entry's shard lock.
 * Returns the number of entries probed. */
typedef int evict_filter_fn(const struct entry *e, void *ud);
unsigned evict_sample(struct keyspace *ks, int policy, unsigned samples, int64_t now_ms, struct evict_pool *p,
                      evict_filter_fn *filter, void *ud);

/* Pops the best candidate into *out (caller frees it with evict_cand_free).
 * Returns 1, or 0 when the pool is empty. */
int evict_pool_pop(struct evict_pool *p, struct evict_cand *out);
void evict_cand_free(struct evict_cand *c);

/* Locks the candidate's shard and looks it up (no touch). Returns the link
 * with the shard LOCKED and *k set (k->p points into c, valid while c is),
 * or NULL with nothing locked when the key is gone or no longer a victim
 * under policy. */
struct entry **evict_take(struct keyspace *ks, int policy, struct evict_cand *c, int64_t now_ms, struct ks_key *k);

#endif
