/*
 * keyspace.h -- the sharded DRAM keyspace: databases, shards, lookup with lazy
 * expiry, the active expiry cycle, SCAN, flush and swap.
 *
 * The keyspace is split into 2^shard_bits shards by the top bits of a key's
 * hash. Each shard has its own mutex and one ht per database. A command locks
 * the shards of the keys it touches, in ascending shard order (ks_lock_keys),
 * so multi-key commands cannot deadlock. Every ks_* call that takes a struct
 * ks_key or a shard index, other than the lock calls themselves and
 * ks_key_init, requires the caller to hold that shard's lock.
 */
#ifndef STRATA_KEYSPACE_H
#define STRATA_KEYSPACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/entry.h"
#include "engine/ht.h"

#define KS_MAX_DATABASES 1024
/* Pass as expire_ms to keep the key's current expiry (SET ... KEEPTTL). */
#define KS_KEEPTTL (-2)

struct ks_shard_db {
    struct ht ht;
    uint64_t volatile_keys;   /* entries with ENTRY_F_EXPIRE */
    uint64_t expire_cursor;   /* active expiry's ht_scan cursor */
};

struct ks_shard {
    pthread_mutex_t lock;
    struct ks_shard_db *db;   /* [databases]; guarded by lock */
    uint64_t dirty;           /* writes since start; guarded by lock */
    uint64_t expired_keys;    /* lazy + active; guarded by lock */
    uint64_t expired_stale_perc_x100; /* last active cycle's expired share; guarded by lock */
    uint64_t volatile_total;  /* sum of the dbs' volatile_keys: written under lock with
                               * relaxed atomic stores, read without the lock by the
                               * expire cycle to skip shards with nothing to expire */
} __attribute__((aligned(64)));

struct keyspace_conf {
    unsigned shard_bits; /* 2^shard_bits shards, 0..12 */
    unsigned databases;  /* 1..KS_MAX_DATABASES */
    uint64_t seed;       /* hash seed; 0 picks a random one */
};

struct ks_lazyfree;

struct keyspace {
    unsigned nshards;
    unsigned shard_bits;
    unsigned databases;
    uint64_t seed;
    struct ks_shard *shards;
    _Atomic uint32_t lru_clock;   /* seconds, 24 bits; advanced by ks_tick */
    struct ks_lazyfree *lazyfree; /* background freeing of flushed tables */
};

/* A key as the keyspace addresses it; args borrowed, valid while p is. */
struct ks_key {
    const char *p;
    size_t len;
    uint64_t hash;
    unsigned shard;
};

/* Creates a keyspace. Returns it owned, or NULL (details logged by caller). */
struct keyspace *ks_create(const struct keyspace_conf *conf);

/* Destroys every database and the keyspace; NULLs *ksp. Waits for any
 * background free to finish. */
void ks_destroy(struct keyspace **ksp);

static inline void ks_key_init(const struct keyspace *ks, struct ks_key *k, const char *p, size_t len)
{
    k->p = p;
    k->len = len;
    k->hash = ht_hash(ks->seed, p, len);
    k->shard = ks->shard_bits ? (unsigned)(k->hash >> (64 - ks->shard_bits)) : 0;
}

/*
 * Lock deferral. A worker running a pipeline of single-key commands would lock
 * and unlock the same shard once per command; when two workers pipeline into
 * one hot key, every handover is a futex wake-up and a cache-line migration.
 * Between ks_defer_begin and ks_defer_end, the first shard lock this thread
 * gives back is kept instead ("held"): a later ks_lock of the same shard takes
 * it over for free, a ks_lock of any other shard first releases it, so a
 * thread never waits for a shard while holding a deferred one and the
 * ascending-order rule is kept. The caller must ks_defer_release before doing
 * anything that may take a lock which someone holds while waiting for a shard
 * (the server does it before every command that is not a single-key command,
 * and at the end of each client's batch).
 */
struct ks_defer_state {
    int on;
    pthread_mutex_t *held; /* the kept shard lock (of whichever keyspace), or NULL */
};
/* Per thread, not per keyspace: it names the mutex itself, so two keyspaces
 * used side by side by one thread never mistake each other's shards. */
extern _Thread_local struct ks_defer_state ks_defer;

static inline void ks_defer_release(void)
{
    if (ks_defer.held) {
        pthread_mutex_unlock(ks_defer.held);
        ks_defer.held = NULL;
    }
}

/* Returns the previous state, for ks_defer_end (calls may nest; only the
 * outermost end releases). */
static inline int ks_defer_begin(void)
{
    int was = ks_defer.on;
    ks_defer.on = 1;
    return was;
}

static inline void ks_defer_end(int was)
{
    if (!was)
        ks_defer_release();
    ks_defer.on = was;
}

static inline void ks_lock(struct keyspace *ks, unsigned shard)
{
    pthread_mutex_t *m = &ks->shards[shard].lock;
    if (ks_defer.held) {
        if (ks_defer.held == m) {
            ks_defer.held = NULL; /* ours already */
            return;
        }
        ks_defer_release();
    }
    pthread_mutex_lock(m);
}

static inline void ks_unlock(struct keyspace *ks, unsigned shard)
{
    if (ks_defer.on && !ks_defer.held) {
        ks_defer.held = &ks->shards[shard].lock;
        return;
    }
    pthread_mutex_unlock(&ks->shards[shard].lock);
}

/* Locks the distinct shards of keys[0..n) in ascending order. */
void ks_lock_keys(struct keyspace *ks, const struct ks_key *keys, size_t n);
void ks_unlock_keys(struct keyspace *ks, const struct ks_key *keys, size_t n);
/* Locks every shard (SWAPDB, FLUSHALL, DEBUG); ascending order. */
void ks_lock_all(struct keyspace *ks);
void ks_unlock_all(struct keyspace *ks);

/* Looks key up in db. An entry whose expiry is <= now_ms is deleted (lazy
 * expiry) and reported absent. Returns the link to the entry (see
 * ht_find_ref) or NULL. Updates the entry's access clock unless
 * KS_F_NOTOUCH is given. */
#define KS_F_NOTOUCH 0x1
struct entry **ks_find_ref(struct keyspace *ks, int db, const struct ks_key *k, int64_t now_ms, int flags);

static inline struct entry *ks_find(struct keyspace *ks, int db, const struct ks_key *k, int64_t now_ms)
{
    struct entry **ref = ks_find_ref(ks, db, k, now_ms, 0);
    return ref ? *ref : NULL;
}

/* Inserts e (taken) under k, which must be absent. Returns 0, or ST_ENOMEM
 * with e still the caller's. */
int ks_insert(struct keyspace *ks, int db, const struct ks_key *k, struct entry *e);

/* Replaces the entry at ref by ne (taken; same key). The old entry is
 * destroyed unless it is ne's previous self (a realloc), which the caller
 * signals with old_flags = the old entry's flags read before reallocation.
 * Use ks_swap for a different entry. Keeps volatile counts right. */
void ks_relink(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref,
               uint8_t old_flags, struct entry *ne);

/* Replaces the entry at ref by ne (taken) and destroys the old one. */
void ks_swap(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref, struct entry *ne);

/* SET: makes k hold string val (copied) with expiry expire_ms (-1: none,
 * KS_KEEPTTL: keep the current one). ref is ks_find_ref's answer (NULL when
 * absent). Reuses the existing allocation when it fits. Returns 0 or
 * ST_ENOMEM (key unchanged). */
int ks_set_str(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref,
               const void *val, size_t vlen, int64_t expire_ms);

/* Sets the expiry of the entry at ref (-1 removes it). Returns 0 or ST_ENOMEM. */
int ks_set_expire(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref, int64_t expire_ms);

/* Unlinks the entry at ref and destroys it. */
void ks_delete_ref(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref);

/* Unlinks the entry at ref and returns it owned (RENAME, MOVE). */
struct entry *ks_take_ref(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref);

/* Marks one write in k's shard (for the dirty counter). Commands that change
 * an entry in place (INCR, SETRANGE) call it; the functions above do it. */
static inline void ks_touch_write(struct keyspace *ks, const struct ks_key *k)
{
    ks->shards[k->shard].dirty++;
}

/* Number of keys in db, and of those with an expiry (locks each shard). */
uint64_t ks_dbsize(struct keyspace *ks, int db);
void ks_db_counts(struct keyspace *ks, int db, uint64_t *keys, uint64_t *volatile_keys);

/* SCAN over db: visits at least `count` buckets' worth of entries (fewer at
 * the end), calling fn under the shard lock for each live entry; expired
 * entries are skipped (and deleted). Returns the next cursor, 0 at the end.
 * The cursor packs (ht cursor << shard_bits) | shard, so an entry present for
 * the whole scan is returned at least once, across resizes. */
typedef void ks_visit_fn(const struct entry *e, void *ud);
uint64_t ks_scan(struct keyspace *ks, int db, uint64_t cursor, uint64_t count, int64_t now_ms,
                 ks_visit_fn *fn, void *ud);

/* A random live key of db, copied into *key (malloc'd, caller frees) with its
 * length in *len. Returns 0, or ST_ENOENT when db is empty. */
int ks_random_key(struct keyspace *ks, int db, int64_t now_ms, uint64_t rnd, char **key, size_t *len);

/* Empties db (or every db when db < 0). With async the detached tables are
 * freed on a background thread. Locks shards one at a time. */
void ks_flush(struct keyspace *ks, int db, int async);

/* Swaps databases a and b atomically (locks every shard). */
void ks_swapdb(struct keyspace *ks, int a, int b);

/* One active-expiry pass over shard: samples buckets from its cursor in each
 * database until budget_us is spent or few keys are found expired. Takes and
 * releases the shard lock itself. Returns the number of keys expired. */
uint64_t ks_expire_cycle(struct keyspace *ks, unsigned shard, int64_t now_ms, int64_t budget_us);

/* Background housekeeping for shard: rehash steps for up to budget_us and
 * shrinking of sparse tables. Takes the lock itself. */
void ks_rehash_cycle(struct keyspace *ks, unsigned shard, int64_t budget_us);

/* Advances the LRU clock; call about once a second or more often. */
void ks_tick(struct keyspace *ks, int64_t now_ms);

/* Sums of per-shard counters (locks each shard). */
struct ks_stats {
    uint64_t keys;
    uint64_t volatile_keys;
    uint64_t expired_keys;
    uint64_t dirty;
    uint64_t overhead_bytes; /* bucket arrays + shard structs */
    uint64_t rehashing;      /* tables mid-rehash */
};
void ks_stats(struct keyspace *ks, struct ks_stats *out);

#endif
