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
    uint64_t lfu_rng;         /* xorshift state for LFU's probabilistic increment; lock */
    uint32_t pins;            /* multi-key commands between their key lookups: no key of the
                               * shard may become a stub (server/tiering_fetch.c); lock */
} __attribute__((aligned(64)));

struct keyspace_conf {
    unsigned shard_bits; /* 2^shard_bits shards, 0..12 */
    unsigned databases;  /* 1..KS_MAX_DATABASES */
    uint64_t seed;       /* hash seed; 0 picks a random one */
};

struct ks_key;

/* Where cold.miss found a key: the server's to fill and read back, except
 * admit (1: a read-only lookup should promote it, by the admission rule). */
struct ks_cold_src {
    int tier;
    int admit;
    int snap_pre;  /* the record holds the key's value from before the running
                    * snapshot's T0 (it must be captured if the key changes) */
    uint64_t loc;
    uint64_t gen;
};

/* Cold-key callbacks; see "cold keys" below. */
struct ks_cold_ops {
    /* Builds stub's full entry (key, expiry, access as the stub's) from its
     * record. ST_OK with *out owned, or an error (logged by the callee). */
    int (*fetch)(void *ud, int db, const struct entry *stub, struct entry **out);
    /* 1 when a read of stub should promote it (admission rule). A stub's
     * access field holds the clock of its last read and, in the counter
     * bits, its reads since demotion (the demoter sets them to 0). */
    int (*admit)(void *ud, const struct entry *stub);
    /* stub is being destroyed (deleted, overwritten, expired, flushed): drop
     * its record (promoted: because its value moved back to DRAM). Any
     * thread; shard lock held or the table detached. */
    void (*drop)(void *ud, const struct entry *stub, int promoted);
    /* Keys with no DRAM entry may live in an indexed tier (engine/tier.h).
     * miss: a lookup found no entry for k in db (shard lock held): ST_OK with
     * *out = the key's full entry (key, expiry, and the access field its
     * record kept, or 0 for a fresh one) built from its tier record, and
     * the record's place for
     * miss_promoted; ST_ENOENT when no tier has it (the common, DRAM-only
     * answer: an index probe). NULL: no indexed tier. */
    int (*miss)(void *ud, int db, const struct ks_key *k, int64_t now_ms, struct entry **out,
                struct ks_cold_src *src);
    /* The entry miss returned now lives in DRAM (promoted): drop the record
     * src names from its tier. Shard lock held. */
    void (*miss_promoted)(void *ud, int db, const struct ks_key *k, const struct ks_cold_src *src);
    /* FLUSHDB / FLUSHALL (db < 0) and SWAPDB, called under every shard lock
     * so the indexed tiers change at the same instant as DRAM. NULL: none. */
    void (*flushdb)(void *ud, int db);
    void (*swapdb)(void *ud, int a, int b);
    void *ud;
};

/* Snapshot callbacks; see "snapshots" below. */
struct ks_snap_ops {
    /* e (db; its shard lock held) is about to change or leave the keyspace
     * and the running snapshot has not written it: write its value as it is
     * now (a hot value, or a stub's record). */
    void (*capture)(void *ud, int db, const struct entry *e);
    void *ud;
};

struct ks_lazyfree;

struct keyspace {
    unsigned nshards;
    unsigned shard_bits;
    unsigned databases;
    uint64_t seed;
    struct ks_shard *shards;
    _Atomic uint32_t lru_clock;   /* seconds, 24 bits; advanced by ks_tick */
    /* Access tracking (entry->access: low 24 bits = LRU clock of the last
     * access, top 8 bits = LFU counter). With lfu set, an access decays the
     * counter by the minutes idle / lfu_decay_time and increments it
     * logarithmically (Redis's LFULogIncr); otherwise only the clock moves.
     * Set by ks_set_access_policy from any thread (relaxed atomics). */
    _Atomic int lfu;
    _Atomic uint32_t lfu_log_factor;
    _Atomic uint32_t lfu_decay_time;
    struct ks_lazyfree *lazyfree; /* background freeing of flushed tables */
    struct ks_cold_ops cold;      /* set before serving; fetch NULL = no tiers */
    /* the append log (server/wlog.c): called at a write command's first unlock
     * after a change (ks_log below); set before serving, NULL = no log */
    void (*log_emit)(void *ud);
    void *log_ud;
    /* snapshots: written only under every shard lock, read under any one */
    int snap_active;
    uint8_t snap_parity;          /* ENTRY_F_SNAP or 0 */
    struct ks_snap_ops snap;
};

/* ---- the append log's hook ------------------------------------------------
 *
 * The append log holds every write command that changed data, in the order
 * the changes happened. Commands on different shards run at once on
 * different workers, so order exists per shard: a command's record is
 * appended while it still holds the locks of its keys' shards -- at its first
 * unlock after a change -- which puts it after every earlier command on those
 * shards and before every later one. The server arms ks_log before a write
 * command runs; every change to the keyspace sets `changed` (ks_log_changed);
 * ks_unlock fires the keyspace's log_emit once and disarms.
 */
struct ks_log_ctx {
    int armed;   /* the running command's record is yet to be appended */
    int changed; /* the keyspace changed since it was armed */
    void *cmd;   /* the server's: whose record it is (read by log_emit) */
};
extern _Thread_local struct ks_log_ctx ks_log;

/* Appends the armed record now (ks->log_emit) and disarms. */
void ks_log_fire(struct keyspace *ks);

static inline void ks_log_changed(void)
{
    ks_log.changed = 1;
}

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
    if (ks_log.armed && ks_log.changed)
        ks_log_fire(ks);
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

/* ---- access tracking (LRU clock and LFU counter in entry->access) ---- */

#define KS_LRU_CLOCK_MAX ((1u << 24) - 1)
#define KS_LFU_INIT_VAL 5

/* Selects LFU counting (lfu = 1) or LRU only, with Redis's lfu-log-factor and
 * lfu-decay-time (minutes). Entries keep their fields across a switch. */
void ks_set_access_policy(struct keyspace *ks, int lfu, uint32_t log_factor, uint32_t decay_time);

static inline uint32_t ks_lru_clock(const struct keyspace *ks)
{
    return atomic_load_explicit(&((struct keyspace *)ks)->lru_clock, memory_order_relaxed);
}

/* Seconds since access (an entry's access field) by the LRU clock, wrapping
 * as Redis's estimateObjectIdleTime does. */
static inline uint64_t ks_idle_seconds(const struct keyspace *ks, uint32_t access)
{
    uint32_t now = ks_lru_clock(ks) & KS_LRU_CLOCK_MAX, then = access & KS_LRU_CLOCK_MAX;
    return now >= then ? now - then : (uint64_t)now + (KS_LRU_CLOCK_MAX - then);
}

/* The LFU counter of access after decay (not stored): Redis's LFUDecrAndReturn. */
static inline uint8_t ks_lfu_decayed(const struct keyspace *ks, uint32_t access)
{
    uint8_t counter = (uint8_t)(access >> 24);
    uint32_t decay = atomic_load_explicit(&((struct keyspace *)ks)->lfu_decay_time, memory_order_relaxed);
    uint64_t periods = decay ? ks_idle_seconds(ks, access) / 60 / decay : 0;
    return periods >= counter ? 0 : (uint8_t)(counter - periods);
}

/* Records an access to e (whose shard lock is held): what lookups do unless
 * KS_F_NOTOUCH. */
void ks_touch(struct keyspace *ks, unsigned shard, struct entry *e);

/* ---- cold keys ----------------------------------------------------------
 *
 * A demoted key is an ENC_TIER stub in the table. ks_find_ref hands commands
 * full entries only: a stub found by a lookup is fetched through the cold
 * ops (under the shard lock) and then either
 *   - promoted: the full entry replaces the stub and the record is dropped
 *     (lookups outside read-only commands: writes promote; and reads the
 *     admission rule lets in), or
 *   - lent: a read-only command gets a temporary copy (a link into this
 *     thread's ks_cold.temp[]) that ks_cold_release frees after the command;
 *     the stub and its record stay as they were.
 * KS_F_STUB returns the stub itself, for commands that need only the key's
 * metadata (TYPE, TTL, EXISTS, DEL, EXPIRE ...). A record that cannot be read
 * back (gone, damaged) makes the key a miss and drops it: never a wrong value.
 */

/* Installs (copies) ops; NULL removes them. Before any stub exists. */
void ks_set_cold_ops(struct keyspace *ks, const struct ks_cold_ops *ops);

#define KS_TEMP_CHUNK 64 /* lent copies per chunk: chunks never move, so links into them stay valid */
#define KS_F_STUB 0x2   /* return stubs as they are */
#define KS_F_NOMISS 0x4 /* a DRAM miss is a miss: do not ask indexed tiers */

struct ks_tracked {
    int db;
    uint32_t klen;
    char *key; /* owned */
};

struct ks_temp_chunk {
    struct ks_temp_chunk *next;
    struct entry *e[KS_TEMP_CHUNK];
};

/* Per-thread cold-lookup context, set by the server around each command. */
struct ks_cold_ctx {
    int readonly;                     /* the running command only reads */
    int no_admit;                     /* read-only lookups lend, never promote (a command
                                       * that holds links from earlier lookups) */
    int ntemp;                        /* lent copies in use, over the chunks */
    struct ks_temp_chunk *temp;       /* lent copies, freed by ks_cold_release */
    int track;                        /* record the keys lookups find or inserts add */
    size_t ntracked, cap;
    struct ks_tracked *tracked;
    int note_born;                    /* record the keys that become DRAM-resident (inserts,
                                       * promotions): the server's demotion queue */
    size_t nborn, capborn;
    struct ks_tracked *born;
    uint64_t lent, promoted, lost;    /* counters this thread adds to (read and
                                       * reset by their owner) */
    void *fetched;                    /* the server's records fetched ahead for the
                                       * running command (read by cold.miss) */
};
extern _Thread_local struct ks_cold_ctx ks_cold;

/* Frees the copies lent to the command that just ran. */
void ks_cold_release(void);

/* Takes the tracked keys (the caller frees each key and the array). */
struct ks_tracked *ks_cold_take_tracked(size_t *n);

/* Takes the keys that became DRAM-resident (note_born), same contract. */
struct ks_tracked *ks_cold_take_born(size_t *n);

/* Destroys e, dropping its record first when it is a stub. */
void ks_entry_free(struct keyspace *ks, struct entry *e);

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

/* Unlinks the entry at ref and destroys it without dropping any tier record
 * and without counting a write: its value now lives in an indexed tier
 * (demotion). */
void ks_unlink_demoted(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref);

/* Unlinks the entry at ref and returns it owned (RENAME, MOVE). */
struct entry *ks_take_ref(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref);

/* Marks one write in k's shard (for the dirty counter). Commands that change
 * an entry in place (INCR, SETRANGE) call it; the functions above do it. */
static inline void ks_touch_write(struct keyspace *ks, const struct ks_key *k)
{
    ks->shards[k->shard].dirty++;
    ks_log_changed();
}

/* n writes at once (Redis counts one per element: LPUSH of n elements). */
static inline void ks_touch_write_n(struct keyspace *ks, const struct ks_key *k, uint64_t n)
{
    ks->shards[k->shard].dirty += n;
    ks_log_changed();
}

/* ---- snapshots ------------------------------------------------------------
 *
 * A snapshot (server/snapshot.c) holds the keyspace as it was at one instant,
 * T0, while commands go on changing it and no fork() copies the process.
 * Each entry carries a parity bit (ENTRY_F_SNAP); ks->snap_parity says which
 * value means "written by the running snapshot, or born after its T0".
 * Starting a snapshot (under every shard lock) flips the parity, so every
 * entry that exists at T0 is unwritten at once. Then:
 *  - the snapshot walks each shard, writing the unwritten entries and
 *    marking them written;
 *  - a change to an unwritten entry (a write command's lookup, a delete, a
 *    demotion that takes it out of DRAM) first hands the snapshot its T0
 *    value (ks_snap_ops.capture) and marks it written;
 *  - entries created after T0 (inserts, new values) are marked written: they
 *    are not part of the snapshot.
 * Every entry outside a snapshot carries the current parity, so the next
 * flip finds them all unwritten. Expiry deletes capture nothing: a key that
 * expires during the snapshot is expired when the snapshot is loaded too.
 */
static inline int ks_snap_written(const struct keyspace *ks, const struct entry *e)
{
    return (e->flags & ENTRY_F_SNAP) == ks->snap_parity;
}

static inline void ks_snap_mark(const struct keyspace *ks, struct entry *e)
{
    e->flags = (uint8_t)((e->flags & ~ENTRY_F_SNAP) | ks->snap_parity);
}

/* e (db; shard lock held) is about to change or leave: its T0 value goes to
 * the running snapshot first if it has not written it. */
static inline void ks_snap_guard(struct keyspace *ks, int db, struct entry *e)
{
    if (ks->snap_active && !ks_snap_written(ks, e)) {
        ks->snap.capture(ks->snap.ud, db, e);
        ks_snap_mark(ks, e);
    }
}

/* Starts (ops copied) / ends the keyspace's part of a snapshot. The caller
 * holds every shard lock (ks_lock_all). */
void ks_snap_begin_locked(struct keyspace *ks, const struct ks_snap_ops *ops);
void ks_snap_end_locked(struct keyspace *ks);

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
