/*
 * ssd_index.h -- the SSD tier's DRAM index: (db, key) -> one u64 entry
 * naming where the key's record sits on the device (tiers/ssd_index.c has
 * the table layout, the ordering invariant and the cursor).
 *
 * Internal to the SSD tier (tiers/ssd*.c and its tests). The index knows
 * nothing of segments: an entry's slot and offset are numbers to it.
 *
 * Entry (u64, 0 = empty; the offset is never 0, so no entry is 0):
 *
 *   bits   field
 *   0..26  off/8     offset of the entry in its segment, in 8-byte units
 *                    (segments are at most 1 GiB)
 *   27..40 slot      the segment's slot in the tier's table (0 .. 16383)
 *   41..43 sz        read size class: the entry lies within the first
 *                    4096 << sz bytes from its offset rounded down to 4096
 *                    (7: at least that much; the framing says the rest)
 *   44     ttl       the record has an expiry (db_counts' volatile keys)
 *   45..63 fp        fingerprint: 19 bits of the key's hash
 *
 * An entry's identity is (fp, slot, off): ttl and sz describe it.
 */
#ifndef STRATA_TIERS_SSD_INDEX_H
#define STRATA_TIERS_SSD_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define SIDX_STRIPE_BITS 10
#define SIDX_STRIPES (1u << SIDX_STRIPE_BITS)
#define SIDX_FP_BITS 19
#define SIDX_OFF_BITS 27
#define SIDX_SLOT_BITS 14
#define SIDX_SZ_BITS 3
#define SIDX_SLOTS (1u << SIDX_SLOT_BITS)
#define SIDX_SZ_SHIFT (SIDX_OFF_BITS + SIDX_SLOT_BITS)  /* 41 */
#define SIDX_TTL_SHIFT (SIDX_SZ_SHIFT + SIDX_SZ_BITS)   /* 44 */
#define SIDX_FP_SHIFT (SIDX_TTL_SHIFT + 1)              /* 45 */
#define SIDX_ID_MASK (~(((uint64_t)((1u << SIDX_SZ_BITS) - 1) << SIDX_SZ_SHIFT) | (1ull << SIDX_TTL_SHIFT)))
#define SIDX_LOC_MASK ((1ull << SIDX_SZ_SHIFT) - 1)     /* slot and offset */

static inline uint32_t sidx_stripe_of(uint64_t h)
{
    return (uint32_t)(h >> (64 - SIDX_STRIPE_BITS));
}

static inline uint32_t sidx_fp_of(uint64_t h)
{
    return (uint32_t)(h >> (64 - SIDX_STRIPE_BITS - SIDX_FP_BITS)) & ((1u << SIDX_FP_BITS) - 1);
}

static inline uint64_t sidx_ent(uint32_t fp, int ttl, unsigned sz, unsigned slot, uint64_t off)
{
    return (uint64_t)fp << SIDX_FP_SHIFT | (uint64_t)(ttl != 0) << SIDX_TTL_SHIFT | (uint64_t)sz << SIDX_SZ_SHIFT |
           (uint64_t)slot << SIDX_OFF_BITS | off >> 3;
}

static inline uint32_t sidx_ent_fp(uint64_t e)
{
    return (uint32_t)(e >> SIDX_FP_SHIFT);
}
static inline unsigned sidx_ent_slot(uint64_t e)
{
    return (unsigned)(e >> SIDX_OFF_BITS) & (SIDX_SLOTS - 1);
}
static inline uint64_t sidx_ent_off(uint64_t e)
{
    return (e & ((1ull << SIDX_OFF_BITS) - 1)) << 3;
}
static inline unsigned sidx_ent_sz(uint64_t e)
{
    return (unsigned)(e >> SIDX_SZ_SHIFT) & ((1u << SIDX_SZ_BITS) - 1);
}
static inline int sidx_ent_ttl(uint64_t e)
{
    return (int)(e >> SIDX_TTL_SHIFT) & 1;
}

/* The size class for an entry of len bytes at off (bits 41..43). */
static inline unsigned sidx_sz_class(uint64_t off, uint64_t len)
{
    uint64_t span = (off & 4095) + len, blocks = (span + 4095) >> 12;
    unsigned c = 0;
    while (c < 7 && (1ull << c) < blocks)
        c++;
    return c;
}

struct sidx;
struct sidx_stripe;

/* Creates an empty index for databases 1..1024 with hash seed seed and
 * returns it owned in *out (release with sidx_destroy). ST_OK, ST_EINVAL,
 * ST_ENOMEM. A database's stripes are allocated on its first insert. */
int sidx_create(unsigned databases, uint64_t seed, struct sidx **out);

/* Frees the index (*xp may be NULL) and NULLs *xp. No stripe may be locked. */
void sidx_destroy(struct sidx **xp);

/* The key's hash under the index's seed (XXH3, engine/ht.h's ht_hash). */
uint64_t sidx_hash(const struct sidx *x, const void *key, size_t klen);

/* Locks and returns the stripe of hash h in db. create != 0 allocates the
 * database's stripes if it has none (NULL only on ENOMEM); create == 0
 * returns NULL when it has none. Unlock with sidx_unlock. A thread holds at
 * most one stripe lock at a time (swapdb and flushdb hold many, inside). */
struct sidx_stripe *sidx_lock(struct sidx *x, int db, uint64_t h, int create);
void sidx_unlock(struct sidx_stripe *s);

/* Entries of fingerprint fp in the locked stripe: copies up to cap of them
 * to out (caller's) and returns how many there are. */
size_t sidx_find_locked(struct sidx_stripe *s, uint32_t fp, uint64_t *out, size_t cap);

/* Adds ent (which no entry of the stripe has the identity of). ST_OK or
 * ST_ENOMEM (nothing added). */
int sidx_add_locked(struct sidx_stripe *s, uint64_t ent);

/* Replaces the entry whose identity is id's by ent (same fp). ST_OK or
 * ST_ENOENT (no such entry: nothing changed). The compare-and-set of
 * compaction and the replace of an insert. */
int sidx_replace_locked(struct sidx_stripe *s, uint64_t id, uint64_t ent);

/* Removes the entry whose identity is id's: ST_OK or ST_ENOENT. */
int sidx_del_locked(struct sidx_stripe *s, uint64_t id);

/* Keys in db and those with the ttl bit (relaxed sums over the stripes). */
void sidx_counts(struct sidx *x, int db, uint64_t *keys, uint64_t *volatile_keys);

/* Entries in every database, and the DRAM the index holds (tables, stripe
 * arrays, the index struct). */
uint64_t sidx_entries(struct sidx *x);
uint64_t sidx_bytes(struct sidx *x);

/* Called under a stripe lock with an entry: returns what to hand out for
 * it (non-zero), or 0 to leave it out. Must not call into the index. */
typedef uint64_t sidx_map_fn(void *ud, uint64_t ent);

/* SCAN of db: from cursor (0 = start) appends to out[] (cap >= 1) what map
 * returns for whole fingerprint groups of entries, at most cap in all, and
 * returns the next cursor (0: the walk is complete). The cursor is a
 * position in hash order -- (stripe << 20) | fingerprint -- so it does not
 * depend on table sizes: every entry present for the whole walk is handed
 * to map exactly once, across resizes and rewrites of its key. Only a
 * single fingerprint group larger than cap is cut short. */
uint64_t sidx_scan(struct sidx *x, int db, uint64_t cursor, sidx_map_fn *map, void *ud, uint64_t *out, size_t cap,
                   size_t *n);

/* A uniformly random entry of db chosen with the caller's random bits rnd,
 * passed through map (0 from map: another pick, a few times). ST_OK with
 * *out, or ST_ENOENT. */
int sidx_random(struct sidx *x, int db, uint64_t rnd, sidx_map_fn *map, void *ud, uint64_t *out);

/* Called under a stripe lock for an entry of db; returns 1 to remove it.
 * Must not call into the index. */
typedef int sidx_walk_fn(void *ud, int db, uint64_t ent);

/* Visits every entry of db (db < 0: every database), one stripe lock at a
 * time, removing those fn answers 1 for. Returns how many it removed. An
 * entry present for the whole walk is visited exactly once. */
uint64_t sidx_walk(struct sidx *x, int db, sidx_walk_fn *fn, void *ud);

/* Swaps databases a and b. under(ud) runs while every stripe of both is
 * locked (the tier appends its SWAPDB note there, so the note's seq is
 * ordered against every insert of either database). ST_OK, ST_EINVAL,
 * ST_ENOMEM. */
int sidx_swapdb(struct sidx *x, int a, int b, void (*under)(void *ud), void *ud);

/* Empties db (db < 0: every database). under(ud) runs while every stripe
 * concerned is locked; then, with no lock held, each removed entry is
 * passed to gone(ud, db, ent) (its return value is ignored) and the old
 * tables are freed. ST_OK or ST_EINVAL. */
int sidx_flushdb(struct sidx *x, int db, void (*under)(void *ud), sidx_walk_fn *gone, void *ud);

/* Checks invariants 1, 2 and the counts of every stripe (tests and
 * debugging; locks one stripe at a time). ST_OK or ST_ECORRUPT. */
int sidx_check(struct sidx *x);

#endif
