/*
 * keyspace.c -- the sharded DRAM keyspace (see keyspace.h for the contract).
 *
 * Data model:
 *
 *   keyspace
 *     shards[0 .. 2^shard_bits)          one mutex each, cache-line aligned
 *       db[0 .. databases)               struct ks_shard_db
 *         ht                             entries of this db whose hash's top
 *                                        shard_bits bits select this shard
 *         volatile_keys, expire_cursor
 *
 * A key's shard is the top shard_bits bits of its 64-bit hash and its bucket
 * the low bits, so the two never correlate. A database is the union of its
 * tables across shards, so SWAPDB swaps table pairs in every shard under all
 * locks, and FLUSHDB detaches one table per shard, one lock at a time.
 *
 * Invariants:
 *  1. Every entry lives in exactly one (shard, db) table: the one its key
 *     hashes to.
 *  2. volatile_keys counts the entries of that table with ENTRY_F_EXPIRE.
 *  3. An entry whose expiry is <= now is never returned by a lookup
 *     (ks_find_ref deletes it first).
 *
 * Threads: any worker calls any function holding the right shard lock.
 * Active expiry and rehash cycles are run by the worker that owns the shard
 * (index % nworkers), taking the lock in short slices. The lazyfree thread
 * frees tables detached by FLUSHDB/FLUSHALL ASYNC and touches nothing else.
 *
 * Active expiry follows Redis's adaptive cycle (expire.c) with one change:
 * instead of sampling a separate table of volatile keys it walks the main
 * table with a SCAN cursor, skipping databases without volatile keys, so a
 * TTL costs 8 bytes per key rather than a second dict entry (docs/architecture.md).
 */
#include "engine/keyspace.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "engine/err.h"
#include "engine/util.h"

/* ---- lazy free: a background thread that destroys detached tables ---- */

struct lf_item {
    struct ht ht;
    struct ks_cold_ops cold; /* drop for the table's stubs */
    struct lf_item *next;
};

static void drop_one(struct entry *e, void *ud)
{
    const struct ks_cold_ops *cold = ud;
    if (e->enc == ENC_TIER)
        cold->drop(cold->ud, e, 0);
}

/* Drops the records of every stub in ht (a table being freed). */
static void drop_stubs(struct ht *ht, const struct ks_cold_ops *cold)
{
    if (!cold->drop || ht_size(ht) == 0)
        return;
    uint64_t cursor = 0;
    do
        cursor = ht_scan(ht, cursor, drop_one, (void *)cold);
    while (cursor != 0);
}

struct ks_lazyfree {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct lf_item *head; /* lock */
    int stop;             /* lock */
    int busy;             /* lock: an item is being freed */
};

static void *lazyfree_main(void *arg)
{
    struct ks_lazyfree *lf = arg;
    pthread_mutex_lock(&lf->lock);
    for (;;) {
        while (!lf->head && !lf->stop)
            pthread_cond_wait(&lf->cond, &lf->lock);
        if (!lf->head && lf->stop)
            break;
        struct lf_item *it = lf->head;
        lf->head = it->next;
        lf->busy = 1;
        pthread_mutex_unlock(&lf->lock);
        drop_stubs(&it->ht, &it->cold);
        ht_deinit(&it->ht);
        free(it);
        pthread_mutex_lock(&lf->lock);
        lf->busy = 0;
        pthread_cond_broadcast(&lf->cond);
    }
    pthread_mutex_unlock(&lf->lock);
    return NULL;
}

static struct ks_lazyfree *lazyfree_create(void)
{
    struct ks_lazyfree *lf = calloc(1, sizeof(*lf));
    if (!lf)
        return NULL;
    pthread_mutex_init(&lf->lock, NULL);
    pthread_cond_init(&lf->cond, NULL);
    if (pthread_create(&lf->thread, NULL, lazyfree_main, lf) != 0) {
        pthread_mutex_destroy(&lf->lock);
        pthread_cond_destroy(&lf->cond);
        free(lf);
        return NULL;
    }
    return lf;
}

static void lazyfree_destroy(struct ks_lazyfree *lf)
{
    pthread_mutex_lock(&lf->lock);
    lf->stop = 1;
    pthread_cond_broadcast(&lf->cond);
    pthread_mutex_unlock(&lf->lock);
    pthread_join(lf->thread, NULL);
    pthread_mutex_destroy(&lf->lock);
    pthread_cond_destroy(&lf->cond);
    free(lf);
}

/* Takes the table's contents; frees them on the lazyfree thread, or here if
 * no item can be allocated. */
static void lazyfree_push(struct ks_lazyfree *lf, struct ht *ht, const struct ks_cold_ops *cold)
{
    struct lf_item *it = malloc(sizeof(*it));
    if (!it) {
        drop_stubs(ht, cold);
        ht_deinit(ht);
        return;
    }
    it->ht = *ht;
    it->cold = *cold;
    pthread_mutex_lock(&lf->lock);
    it->next = lf->head;
    lf->head = it;
    pthread_cond_signal(&lf->cond);
    pthread_mutex_unlock(&lf->lock);
}

/* ---- lifecycle ---- */

struct keyspace *ks_create(const struct keyspace_conf *conf)
{
    if (conf->shard_bits > 12 || conf->databases < 1 || conf->databases > KS_MAX_DATABASES)
        return NULL;
    struct keyspace *ks = calloc(1, sizeof(*ks));
    if (!ks)
        return NULL;
    ks->shard_bits = conf->shard_bits;
    ks->nshards = 1u << conf->shard_bits;
    ks->databases = conf->databases;
    ks->seed = conf->seed;
    if (!ks->seed && getrandom(&ks->seed, sizeof(ks->seed), 0) != sizeof(ks->seed))
        ks->seed = (uint64_t)util_time_us() * 0x9E3779B97F4A7C15ull;
    if (posix_memalign((void **)&ks->shards, 64, sizeof(struct ks_shard) * ks->nshards) != 0)
        goto fail_ks;
    memset(ks->shards, 0, sizeof(struct ks_shard) * ks->nshards);
    unsigned made = 0;
    for (; made < ks->nshards; made++) {
        struct ks_shard *s = &ks->shards[made];
        s->db = calloc(ks->databases, sizeof(*s->db));
        if (!s->db)
            goto fail_shards;
        pthread_mutex_init(&s->lock, NULL);
        s->lfu_rng = (ks->seed ^ (0x9E3779B97F4A7C15ull * (made + 1))) | 1;
        for (unsigned d = 0; d < ks->databases; d++)
            ht_init(&s->db[d].ht, ks->seed);
    }
    ks->lazyfree = lazyfree_create();
    if (!ks->lazyfree)
        goto fail_shards;
    ks_tick(ks, util_time_ms());
    ks_set_access_policy(ks, 0, 10, 1);
    return ks;

fail_shards:
    for (unsigned i = 0; i < made; i++) {
        pthread_mutex_destroy(&ks->shards[i].lock);
        free(ks->shards[i].db);
    }
    free(ks->shards);
fail_ks:
    free(ks);
    return NULL;
}

void ks_destroy(struct keyspace **ksp)
{
    struct keyspace *ks = *ksp;
    if (!ks)
        return;
    lazyfree_destroy(ks->lazyfree);
    for (unsigned i = 0; i < ks->nshards; i++) {
        struct ks_shard *s = &ks->shards[i];
        for (unsigned d = 0; d < ks->databases; d++)
            ht_deinit(&s->db[d].ht);
        free(s->db);
        pthread_mutex_destroy(&s->lock);
    }
    free(ks->shards);
    free(ks);
    *ksp = NULL;
}

/* ---- locking ---- */

/* Shard sets as bitmaps: at most 4096 shards = 64 words on the stack. */
_Thread_local struct ks_defer_state ks_defer = { 0, NULL };

#define KS_MAP_WORDS 64

static void shard_map(const struct keyspace *ks, const struct ks_key *keys, size_t n, uint64_t *map)
{
    memset(map, 0, sizeof(uint64_t) * ((ks->nshards + 63) / 64));
    for (size_t i = 0; i < n; i++)
        map[keys[i].shard >> 6] |= 1ull << (keys[i].shard & 63);
}

void ks_lock_keys(struct keyspace *ks, const struct ks_key *keys, size_t n)
{
    if (n == 1) {
        ks_lock(ks, keys[0].shard);
        return;
    }
    uint64_t map[KS_MAP_WORDS];
    shard_map(ks, keys, n, map);
    for (unsigned w = 0; w < (ks->nshards + 63) / 64; w++) {
        uint64_t bits = map[w];
        while (bits) {
            unsigned b = (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            ks_lock(ks, w * 64 + b);
        }
    }
}

void ks_unlock_keys(struct keyspace *ks, const struct ks_key *keys, size_t n)
{
    if (n == 1) {
        ks_unlock(ks, keys[0].shard);
        return;
    }
    uint64_t map[KS_MAP_WORDS];
    shard_map(ks, keys, n, map);
    for (unsigned w = 0; w < (ks->nshards + 63) / 64; w++) {
        uint64_t bits = map[w];
        while (bits) {
            unsigned b = (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            ks_unlock(ks, w * 64 + b);
        }
    }
}

void ks_lock_all(struct keyspace *ks)
{
    for (unsigned i = 0; i < ks->nshards; i++)
        ks_lock(ks, i);
}

void ks_unlock_all(struct keyspace *ks)
{
    for (unsigned i = ks->nshards; i-- > 0;)
        ks_unlock(ks, i);
}

/* ---- lookup and mutation ---- */

static inline struct ks_shard_db *sdb(struct keyspace *ks, unsigned shard, int db)
{
    return &ks->shards[shard].db[db];
}

/* Adjusts a table's volatile count and its shard's total (invariant 2). */
static inline void vol_adj(struct keyspace *ks, unsigned shard, struct ks_shard_db *d, int64_t delta)
{
    struct ks_shard *s = &ks->shards[shard];
    d->volatile_keys += (uint64_t)delta;
    __atomic_store_n(&s->volatile_total, s->volatile_total + (uint64_t)delta, __ATOMIC_RELAXED);
}

static inline uint32_t lru_now(struct keyspace *ks)
{
    return atomic_load_explicit(&ks->lru_clock, memory_order_relaxed);
}

void ks_set_access_policy(struct keyspace *ks, int lfu, uint32_t log_factor, uint32_t decay_time)
{
    atomic_store_explicit(&ks->lfu_log_factor, log_factor, memory_order_relaxed);
    atomic_store_explicit(&ks->lfu_decay_time, decay_time, memory_order_relaxed);
    atomic_store_explicit(&ks->lfu, lfu, memory_order_relaxed);
}

/* Redis's LFULogIncr: the counter grows with probability 1 / ((c - init) *
 * log_factor + 1), so 255 stands for about a million hits at factor 10. */
static uint8_t lfu_log_incr(struct ks_shard *s, uint8_t counter, uint32_t log_factor)
{
    if (counter == 255)
        return 255;
    uint64_t x = s->lfu_rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->lfu_rng = x;
    double r = (double)(x >> 11) * (1.0 / 9007199254740992.0);
    double base = counter > KS_LFU_INIT_VAL ? counter - KS_LFU_INIT_VAL : 0;
    double p = 1.0 / (base * log_factor + 1);
    return r < p ? counter + 1 : counter;
}

void ks_touch(struct keyspace *ks, unsigned shard, struct entry *e)
{
    uint32_t now = lru_now(ks);
    if (!atomic_load_explicit(&ks->lfu, memory_order_relaxed)) {
        e->access = (e->access & ~KS_LRU_CLOCK_MAX) | now;
        return;
    }
    uint8_t c = ks_lfu_decayed(ks, e->access);
    c = lfu_log_incr(&ks->shards[shard], c,
                     atomic_load_explicit(&ks->lfu_log_factor, memory_order_relaxed));
    e->access = ((uint32_t)c << 24) | now;
}

static inline uint32_t access_new(struct keyspace *ks)
{
    return ((uint32_t)KS_LFU_INIT_VAL << 24) | lru_now(ks);
}

_Thread_local struct ks_cold_ctx ks_cold;
_Thread_local struct ks_log_ctx ks_log;

void ks_log_fire(struct keyspace *ks)
{
    ks_log.armed = 0;
    if (ks->log_emit)
        ks->log_emit(ks->log_ud);
}

void ks_snap_begin_locked(struct keyspace *ks, const struct ks_snap_ops *ops)
{
    ks->snap = *ops;
    ks->snap_parity ^= ENTRY_F_SNAP; /* every entry that exists now is unwritten */
    ks->snap_active = 1;
}

void ks_snap_end_locked(struct keyspace *ks)
{
    ks->snap_active = 0;
    memset(&ks->snap, 0, sizeof(ks->snap));
}

void ks_set_cold_ops(struct keyspace *ks, const struct ks_cold_ops *ops)
{
    if (ops)
        ks->cold = *ops;
    else
        memset(&ks->cold, 0, sizeof(ks->cold));
}

void ks_entry_free(struct keyspace *ks, struct entry *e)
{
    if (e && e->enc == ENC_TIER && ks->cold.drop)
        ks->cold.drop(ks->cold.ud, e, 0);
    entry_destroy(e);
}

void ks_cold_release(void)
{
    struct ks_temp_chunk *c = ks_cold.temp;
    for (int i = 0; i < ks_cold.ntemp; i++) {
        entry_destroy(c->e[i % KS_TEMP_CHUNK]);
        if (i % KS_TEMP_CHUNK == KS_TEMP_CHUNK - 1)
            c = c->next;
    }
    ks_cold.ntemp = 0;
    while (ks_cold.temp) {
        struct ks_temp_chunk *n = ks_cold.temp->next;
        free(ks_cold.temp);
        ks_cold.temp = n;
    }
}

struct ks_tracked *ks_cold_take_tracked(size_t *n)
{
    struct ks_tracked *t = ks_cold.tracked;
    *n = ks_cold.ntracked;
    ks_cold.tracked = NULL;
    ks_cold.ntracked = ks_cold.cap = 0;
    return t;
}

struct ks_tracked *ks_cold_take_born(size_t *n)
{
    struct ks_tracked *t = ks_cold.born;
    *n = ks_cold.nborn;
    ks_cold.born = NULL;
    ks_cold.nborn = ks_cold.capborn = 0;
    return t;
}

/* Appends a copy of (db, key) to a per-thread list; best effort. With dedup,
 * a key already listed is not added again. */
static void list_add(struct ks_tracked **list, size_t *n, size_t *cap, int dedup, int db, const char *key,
                     uint32_t klen)
{
    if (dedup)
        for (size_t i = 0; i < *n; i++)
            if ((*list)[i].db == db && (*list)[i].klen == klen && memcmp((*list)[i].key, key, klen) == 0)
                return;
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct ks_tracked *nt = realloc(*list, ncap * sizeof(*nt));
        if (!nt)
            return;
        *list = nt;
        *cap = ncap;
    }
    char *copy = malloc(klen ? klen : 1);
    if (!copy)
        return;
    memcpy(copy, key, klen);
    (*list)[(*n)++] = (struct ks_tracked){ .db = db, .klen = klen, .key = copy };
}

/* Lends full (taken) to the running command: a slot in this thread's chunks
 * of lent copies, whose address stays valid until ks_cold_release. Returns
 * the link, or NULL when no memory is left for a new chunk. */
static struct entry **lend(struct entry *full)
{
    int i = ks_cold.ntemp;
    struct ks_temp_chunk **cp = &ks_cold.temp;
    for (int k = i / KS_TEMP_CHUNK; k > 0; k--)
        cp = &(*cp)->next;
    if (!*cp) {
        *cp = calloc(1, sizeof(**cp));
        if (!*cp)
            return NULL;
    }
    (*cp)->e[i % KS_TEMP_CHUNK] = full;
    full->next = NULL;
    ks_cold.ntemp++;
    ks_cold.lent++;
    return &(*cp)->e[i % KS_TEMP_CHUNK];
}

/* Remembers (db, key) for the server (tier-demote-on-write). */
static void track(int db, const char *key, uint32_t klen)
{
    list_add(&ks_cold.tracked, &ks_cold.ntracked, &ks_cold.cap, 1, db, key, klen);
}

/* Remembers a key that became DRAM-resident (the demotion queue). */
static void born(int db, const char *key, uint32_t klen)
{
    list_add(&ks_cold.born, &ks_cold.nborn, &ks_cold.capborn, 0, db, key, klen);
}

/* The stub at ref was found by a lookup: fetch its value and promote or lend
 * it (see keyspace.h). Returns the link to use, or NULL when the record is
 * lost (the key is dropped). */
static struct entry **cold_lookup(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref,
                                  int flags)
{
    struct entry *stub = *ref, *full = NULL;
    struct ks_shard_db *d = sdb(ks, k->shard, db);
    if (ks->cold.fetch(ks->cold.ud, db, stub, &full) != ST_OK) {
        ks_cold.lost++;
        ht_unlink_ref(&d->ht, ref);
        if (stub->flags & ENTRY_F_EXPIRE)
            vol_adj(ks, k->shard, d, -1);
        ks->shards[k->shard].dirty++;
        ks_log_changed();
        ks_entry_free(ks, stub);
        return NULL;
    }
    if (!(flags & KS_F_NOTOUCH))
        ks_touch(ks, k->shard, full);
    int promote = !ks_cold.readonly ||
                  (!ks_cold.no_admit && ks->cold.admit && ks->cold.admit(ks->cold.ud, stub));
    if (!promote) {
        /* The stub counts its reads since demotion in the counter bits and
         * keeps the time of the last one, for the admission rule. */
        if (!(flags & KS_F_NOTOUCH)) {
            uint32_t reads = stub->access >> 24;
            stub->access = ((reads < 255 ? reads + 1 : 255) << 24) | lru_now(ks);
        }
        struct entry **lent = lend(full);
        if (lent)
            return lent;
        /* no memory to lend: promote instead */
    }
    full->next = stub->next;
    /* the same key's value, unchanged: the snapshot parity carries over */
    full->flags = (uint8_t)((full->flags & ~ENTRY_F_SNAP) | (stub->flags & ENTRY_F_SNAP));
    ht_replace_ref(ref, full);
    ks_cold.promoted++;
    if (ks_cold.note_born)
        born(db, k->p, (uint32_t)k->len);
    if (ks->cold.drop)
        ks->cold.drop(ks->cold.ud, stub, 1);
    entry_destroy(stub);
    return ref;
}

/* No DRAM entry for k: an indexed tier may hold it (keyspace.h, cold.miss).
 * Promotes or lends the value exactly as cold_lookup does for a stub.
 * Returns the link to use, or NULL when no tier has the key. */
static struct entry **miss_lookup(struct keyspace *ks, int db, const struct ks_key *k, int64_t now_ms, int flags)
{
    struct entry *full = NULL;
    struct ks_cold_src src = { 0 };
    if (ks->cold.miss(ks->cold.ud, db, k, now_ms, &full, &src) != ST_OK)
        return NULL;
    if (!full->access)
        full->access = access_new(ks);
    if (!(flags & KS_F_NOTOUCH))
        ks_touch(ks, k->shard, full);
    full->next = NULL;
    /* a record from before a running snapshot's T0: its value is the T0
     * value, which the snapshot may not have written yet; once the key is in
     * DRAM the snapshot's walk of the tier will not see it (snapshots) */
    int promote = !ks_cold.readonly || (src.admit && !ks_cold.no_admit);
    if (ks->snap_active && src.snap_pre && promote)
        ks->snap.capture(ks->snap.ud, db, full);
    ks_snap_mark(ks, full);
    if (!promote) {
        struct entry **lent = lend(full);
        if (lent)
            return lent;
        /* no memory to lend: promote instead */
    }
    struct ks_shard_db *d = sdb(ks, k->shard, db);
    /* the caller may hold links from earlier lookups (SMOVE's source while
     * it looks up the destination): insert without moving any (ht.h) */
    if (ht_insert_stable(&d->ht, k->hash, full) != ST_OK) {
        /* no memory for the table slot: lend it instead; the record stays */
        struct entry **lent = lend(full);
        if (lent)
            return lent;
        entry_destroy(full);
        return NULL;
    }
    if (full->flags & ENTRY_F_EXPIRE)
        vol_adj(ks, k->shard, d, 1);
    ks_cold.promoted++;
    if (ks_cold.track) /* demoted once the command is done: never queued as DRAM-resident */
        track(db, k->p, (uint32_t)k->len);
    else if (ks_cold.note_born)
        born(db, k->p, (uint32_t)k->len);
    if (ks->cold.miss_promoted)
        ks->cold.miss_promoted(ks->cold.ud, db, k, &src);
    return ht_find_ref(&d->ht, k->hash, k->p, k->len);
}

struct entry **ks_find_ref(struct keyspace *ks, int db, const struct ks_key *k, int64_t now_ms, int flags)
{
    struct ks_shard_db *d = sdb(ks, k->shard, db);
    struct entry **ref = ht_find_ref(&d->ht, k->hash, k->p, k->len);
    if (!ref) {
        if (ks->cold.miss && !(flags & KS_F_NOMISS))
            return miss_lookup(ks, db, k, now_ms, flags);
        return NULL;
    }
    struct entry *e = *ref;
    if ((e->flags & ENTRY_F_EXPIRE) && entry_expire(e) <= now_ms) {
        ht_unlink_ref(&d->ht, ref);
        vol_adj(ks, k->shard, d, -1);
        ks->shards[k->shard].expired_keys++;
        ks->shards[k->shard].dirty++;
        ks_log_changed();
        ks_entry_free(ks, e);
        return NULL;
    }
    if (ks_cold.track)
        track(db, k->p, (uint32_t)k->len);
    if (!ks_cold.readonly)
        ks_snap_guard(ks, db, e); /* a write may follow: its T0 value first */
    if (e->enc == ENC_TIER && !(flags & KS_F_STUB) && ks->cold.fetch)
        return cold_lookup(ks, db, k, ref, flags);
    if (!(flags & KS_F_NOTOUCH))
        ks_touch(ks, k->shard, e);
    return ref;
}

int ks_insert(struct keyspace *ks, int db, const struct ks_key *k, struct entry *e)
{
    struct ks_shard_db *d = sdb(ks, k->shard, db);
    e->access = access_new(ks);
    ks_snap_mark(ks, e); /* born now: not part of a running snapshot */
    if (ks_cold.track) /* demoted once the command is done: never queued as DRAM-resident */
        track(db, k->p, (uint32_t)k->len);
    else if (ks_cold.note_born)
        born(db, k->p, (uint32_t)k->len);
    if (ht_insert(&d->ht, k->hash, e) != ST_OK)
        return ST_ENOMEM;
    if (e->flags & ENTRY_F_EXPIRE)
        vol_adj(ks, k->shard, d, 1);
    ks->shards[k->shard].dirty++;
    ks_log_changed();
    return ST_OK;
}

void ks_unlink_demoted(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref)
{
    struct ks_shard_db *d = sdb(ks, k->shard, db);
    struct entry *e = *ref;
    ks_snap_guard(ks, db, e); /* it leaves DRAM: the snapshot's walk would miss it */
    ht_unlink_ref(&d->ht, ref);
    if (e->flags & ENTRY_F_EXPIRE)
        vol_adj(ks, k->shard, d, -1);
    entry_destroy(e);
}

void ks_relink(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref, uint8_t old_flags,
               struct entry *ne)
{
    struct ks_shard_db *d = sdb(ks, k->shard, db);
    int was = (old_flags & ENTRY_F_EXPIRE) != 0, is = (ne->flags & ENTRY_F_EXPIRE) != 0;
    if (is != was)
        vol_adj(ks, k->shard, d, is - was);
    ks_snap_mark(ks, ne); /* a value of after T0 (the old one was captured at its lookup) */
    ht_replace_ref(ref, ne);
    ks->shards[k->shard].dirty++;
    ks_log_changed();
}

void ks_swap(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref, struct entry *ne)
{
    struct entry *old = *ref;
    ne->next = old->next;
    ks_relink(ks, db, k, ref, old->flags, ne);
    ks_entry_free(ks, old);
}

int ks_set_str(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref, const void *val,
               size_t vlen, int64_t expire_ms)
{
    if (!ref) {
        if (expire_ms == KS_KEEPTTL)
            expire_ms = -1;
        struct entry *e = entry_create_str(k->p, (uint32_t)k->len, val, vlen, expire_ms);
        if (!e)
            return ST_ENOMEM;
        if (ks_insert(ks, db, k, e) != ST_OK) {
            entry_destroy(e);
            return ST_ENOMEM;
        }
        return ST_OK;
    }
    struct entry *e = *ref;
    uint8_t old_flags = e->flags;
    struct entry *next = e->next;
    if (expire_ms != KS_KEEPTTL) {
        struct entry *n = entry_with_expire(e, expire_ms);
        if (!n)
            return ST_ENOMEM;
        e = n;
        /* the link must follow a move before the next realloc can fail */
        *ref = e;
    }
    struct entry *n = entry_with_str(e, val, vlen);
    if (!n) {
        ks_relink(ks, db, k, ref, old_flags, e);
        return ST_ENOMEM;
    }
    n->next = next;
    ks_touch(ks, k->shard, n);
    ks_relink(ks, db, k, ref, old_flags, n);
    return ST_OK;
}

int ks_set_expire(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref, int64_t expire_ms)
{
    struct entry *e = *ref;
    uint8_t old_flags = e->flags;
    struct entry *n = entry_with_expire(e, expire_ms);
    if (!n)
        return ST_ENOMEM;
    ks_relink(ks, db, k, ref, old_flags, n);
    return ST_OK;
}

struct entry *ks_take_ref(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref)
{
    struct ks_shard_db *d = sdb(ks, k->shard, db);
    ks_snap_guard(ks, db, *ref); /* deletes and evictions: the T0 value first */
    struct entry *e = ht_unlink_ref(&d->ht, ref);
    if (e->flags & ENTRY_F_EXPIRE)
        vol_adj(ks, k->shard, d, -1);
    ks->shards[k->shard].dirty++;
    ks_log_changed();
    return e;
}

void ks_delete_ref(struct keyspace *ks, int db, const struct ks_key *k, struct entry **ref)
{
    ks_entry_free(ks, ks_take_ref(ks, db, k, ref));
}

/* ---- whole-keyspace operations ---- */

void ks_db_counts(struct keyspace *ks, int db, uint64_t *keys, uint64_t *volatile_keys)
{
    uint64_t n = 0, v = 0;
    for (unsigned i = 0; i < ks->nshards; i++) {
        ks_lock(ks, i);
        n += ht_size(&ks->shards[i].db[db].ht);
        v += ks->shards[i].db[db].volatile_keys;
        ks_unlock(ks, i);
    }
    *keys = n;
    if (volatile_keys)
        *volatile_keys = v;
}

uint64_t ks_dbsize(struct keyspace *ks, int db)
{
    uint64_t n;
    ks_db_counts(ks, db, &n, NULL);
    return n;
}

struct scan_ctx {
    ks_visit_fn *fn;
    void *ud;
    int64_t now_ms;
    uint64_t visited;
    struct entry *expired[64];
    int nexpired;
};

static void scan_visit(struct entry *e, void *arg)
{
    struct scan_ctx *sc = arg;
    sc->visited++;
    if ((e->flags & ENTRY_F_EXPIRE) && entry_expire(e) <= sc->now_ms) {
        if (sc->nexpired < 64)
            sc->expired[sc->nexpired++] = e;
        return;
    }
    sc->fn(e, sc->ud);
}

/* Deletes the expired entries a scan step collected. */
static void reap(struct keyspace *ks, unsigned shard, int db, struct scan_ctx *sc)
{
    for (int i = 0; i < sc->nexpired; i++) {
        struct entry *e = sc->expired[i];
        struct ks_key k;
        ks_key_init(ks, &k, entry_key(e), e->klen);
        struct entry **ref = ht_find_ref(&ks->shards[shard].db[db].ht, k.hash, k.p, k.len);
        if (ref && *ref == e) {
            ks_delete_ref(ks, db, &k, ref);
            ks->shards[shard].expired_keys++;
        }
    }
    sc->nexpired = 0;
}

uint64_t ks_scan(struct keyspace *ks, int db, uint64_t cursor, uint64_t count, int64_t now_ms, ks_visit_fn *fn,
                 void *ud)
{
    unsigned shard = (unsigned)(cursor & (ks->nshards - 1));
    uint64_t hc = cursor >> ks->shard_bits;
    struct scan_ctx sc = { .fn = fn, .ud = ud, .now_ms = now_ms };
    if (count > (1ull << 32))
        count = 1ull << 32; /* keeps count * 10 from wrapping */
    uint64_t steps = 0, maxsteps = count * 10;

    while (shard < ks->nshards) {
        ks_lock(ks, shard);
        struct ht *ht = &ks->shards[shard].db[db].ht;
        do {
            if (ht_size(ht) == 0) {
                hc = 0;
                break;
            }
            hc = ht_scan(ht, hc, scan_visit, &sc);
            if (sc.nexpired >= 48)
                reap(ks, shard, db, &sc);
            steps++;
        } while (hc != 0 && sc.visited < count && steps < maxsteps);
        reap(ks, shard, db, &sc);
        ks_unlock(ks, shard);
        if (hc != 0)
            break;
        shard++;
        if (sc.visited >= count || steps >= maxsteps)
            break;
    }
    if (shard >= ks->nshards)
        return 0;
    /* the cursor must not be 0 unless the scan is over */
    uint64_t next = (hc << ks->shard_bits) | shard;
    return next;
}

static uint64_t rnd_fn(void *ud)
{
    return util_rng_next(ud);
}

int ks_random_key(struct keyspace *ks, int db, int64_t now_ms, uint64_t rnd, char **key, size_t *len)
{
    struct util_rng rng;
    util_rng_seed(&rng, rnd);
    /* Uniform over keys, not shards: pick a position in [0, total) and find
     * the shard holding it, so a sparse keyspace is not biased towards low
     * shard numbers. Counts can change between the sweep and the lock; an
     * empty pick retries. An expired pick is deleted and retried, so, as in
     * Redis, the loop ends with a live key or an empty database: every
     * failed try removes a key. */
    for (;;) {
        uint64_t total = ks_dbsize(ks, db);
        if (total == 0)
            return ST_ENOENT;
        uint64_t pos = util_rng_next(&rng) % total;
        unsigned shard = 0;
        for (; shard < ks->nshards; shard++) {
            ks_lock(ks, shard);
            uint64_t n = ht_size(&ks->shards[shard].db[db].ht);
            if (pos < n)
                break; /* keep the lock */
            pos -= n;
            ks_unlock(ks, shard);
        }
        if (shard == ks->nshards)
            continue;
        struct ht *ht = &ks->shards[shard].db[db].ht;
        struct entry *e;
        /* retry in this shard while it has keys: expired picks are deleted */
        while ((e = ht_random(ht, rnd_fn, &rng)) != NULL) {
            struct ks_key k;
            ks_key_init(ks, &k, entry_key(e), e->klen);
            if (!ks_find_ref(ks, db, &k, now_ms, KS_F_NOTOUCH | KS_F_STUB))
                continue;
            *key = malloc(e->klen ? e->klen : 1);
            if (!*key) {
                ks_unlock(ks, shard);
                return ST_ENOMEM;
            }
            memcpy(*key, entry_key(e), e->klen);
            *len = e->klen;
            ks_unlock(ks, shard);
            return ST_OK;
        }
        ks_unlock(ks, shard);
    }
}

void ks_flush(struct keyspace *ks, int db, int async)
{
    int first = db < 0 ? 0 : db, last = db < 0 ? (int)ks->databases - 1 : db;
    size_t ntables = (size_t)ks->nshards * (size_t)(last - first + 1);
    struct ht *detached = malloc(sizeof(*detached) * ntables);
    size_t nd = 0;

    /* Detaching is cheap; doing all of it under every lock makes the flush
     * one instant for other clients (an MSET cannot land half before it). */
    ks_lock_all(ks);
    for (unsigned i = 0; i < ks->nshards; i++) {
        struct ks_shard *s = &ks->shards[i];
        for (int d = first; d <= last; d++) {
            struct ks_shard_db *sd = &s->db[d];
            if (ht_size(&sd->ht) == 0 && !sd->ht.t[0].buckets && !sd->ht.t[1].buckets)
                continue;
            s->dirty += ht_size(&sd->ht);
            ks_log_changed();
            if (detached)
                detached[nd++] = sd->ht;
            else {
                drop_stubs(&sd->ht, &ks->cold); /* no memory for the list: free in place */
                ht_deinit(&sd->ht);
            }
            ht_init(&sd->ht, ks->seed);
            vol_adj(ks, i, sd, -(int64_t)sd->volatile_keys);
            sd->expire_cursor = 0;
        }
    }
    if (ks->cold.flushdb)
        ks->cold.flushdb(ks->cold.ud, db);
    ks_unlock_all(ks);
    for (size_t i = 0; i < nd; i++) {
        if (async) {
            lazyfree_push(ks->lazyfree, &detached[i], &ks->cold);
        } else {
            drop_stubs(&detached[i], &ks->cold);
            ht_deinit(&detached[i]);
        }
    }
    free(detached);
}

void ks_swapdb(struct keyspace *ks, int a, int b)
{
    ks_lock_all(ks);
    for (unsigned i = 0; i < ks->nshards; i++) {
        struct ks_shard_db tmp = ks->shards[i].db[a];
        ks->shards[i].db[a] = ks->shards[i].db[b];
        ks->shards[i].db[b] = tmp;
        ks->shards[i].dirty++;
    }
    ks_log_changed();
    if (ks->cold.swapdb)
        ks->cold.swapdb(ks->cold.ud, a, b);
    ks_unlock_all(ks);
}

/* ---- housekeeping ---- */

struct expire_ctx {
    int64_t now_ms;
    uint64_t sampled;
    uint64_t volatile_seen;
    struct entry *victims[64];
    int nvictims;
};

static void expire_visit(struct entry *e, void *arg)
{
    struct expire_ctx *x = arg;
    x->sampled++;
    if (!(e->flags & ENTRY_F_EXPIRE))
        return;
    x->volatile_seen++;
    if (entry_expire(e) <= x->now_ms && x->nvictims < 64)
        x->victims[x->nvictims++] = e;
}

uint64_t ks_expire_cycle(struct keyspace *ks, unsigned shard, int64_t now_ms, int64_t budget_us)
{
    struct ks_shard *s = &ks->shards[shard];
    int64_t start = util_mono_us();
    uint64_t expired = 0;

    /* most shards of most caches have nothing to expire: no lock for them */
    if (__atomic_load_n(&s->volatile_total, __ATOMIC_RELAXED) == 0)
        return 0;
    for (unsigned d = 0; d < ks->databases; d++) {
        for (;;) {
            ks_lock(ks, shard);
            struct ks_shard_db *sd = &s->db[d];
            if (sd->volatile_keys == 0) {
                ks_unlock(ks, shard);
                break;
            }
            struct expire_ctx x = { .now_ms = now_ms };
            /* one slice: up to ~20 volatile samples, bounded bucket visits */
            for (int steps = 0; steps < 64 && x.volatile_seen < 20 && x.nvictims < 48; steps++) {
                sd->expire_cursor = ht_scan(&sd->ht, sd->expire_cursor, expire_visit, &x);
                if (sd->expire_cursor == 0)
                    break;
            }
            for (int i = 0; i < x.nvictims; i++) {
                struct entry *e = x.victims[i];
                struct ks_key k;
                ks_key_init(ks, &k, entry_key(e), e->klen);
                struct entry **ref = ht_find_ref(&sd->ht, k.hash, k.p, k.len);
                if (ref && *ref == e) {
                    ks_delete_ref(ks, (int)d, &k, ref);
                    s->expired_keys++;
                    expired++;
                }
            }
            if (x.volatile_seen)
                s->expired_stale_perc_x100 = (uint64_t)x.nvictims * 10000 / x.volatile_seen;
            ks_unlock(ks, shard);
            /* Redis's rule: go on while more than 10% of samples were stale */
            if (x.volatile_seen == 0 || (uint64_t)x.nvictims * 10 <= x.volatile_seen)
                break;
            if (util_mono_us() - start > budget_us)
                return expired;
        }
        if (util_mono_us() - start > budget_us)
            break;
    }
    return expired;
}

void ks_rehash_cycle(struct keyspace *ks, unsigned shard, int64_t budget_us)
{
    struct ks_shard *s = &ks->shards[shard];
    int64_t start = util_mono_us();
    ks_lock(ks, shard);
    for (unsigned d = 0; d < ks->databases; d++) {
        struct ht *ht = &s->db[d].ht;
        if (!ht->t[0].buckets && !ht_is_rehashing(ht))
            continue; /* never used, or flushed */
        if (!ht_is_rehashing(ht))
            ht_maybe_shrink(ht);
        while (ht_is_rehashing(ht)) {
            ht_rehash_step(ht, 100);
            if (util_mono_us() - start > budget_us)
                break;
        }
        if (util_mono_us() - start > budget_us)
            break;
    }
    ks_unlock(ks, shard);
}

void ks_tick(struct keyspace *ks, int64_t now_ms)
{
    atomic_store_explicit(&ks->lru_clock, (uint32_t)((now_ms / 1000) & 0xFFFFFF), memory_order_relaxed);
}

void ks_stats(struct keyspace *ks, struct ks_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->overhead_bytes = sizeof(*ks) + sizeof(struct ks_shard) * ks->nshards;
    for (unsigned i = 0; i < ks->nshards; i++) {
        struct ks_shard *s = &ks->shards[i];
        ks_lock(ks, i);
        for (unsigned d = 0; d < ks->databases; d++) {
            out->keys += ht_size(&s->db[d].ht);
            out->volatile_keys += s->db[d].volatile_keys;
            out->overhead_bytes += ht_overhead(&s->db[d].ht) + sizeof(struct ks_shard_db);
            out->rehashing += ht_is_rehashing(&s->db[d].ht) ? 1 : 0;
        }
        out->expired_keys += s->expired_keys;
        out->dirty += s->dirty;
        ks_unlock(ks, i);
    }
}
