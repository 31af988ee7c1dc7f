/*
 * evict.c -- victim sampling for the maxmemory policies (contract in evict.h).
 *
 * Scores (higher = evicted first):
 *   LRU     idle seconds << 16 | 16 random bits (ties broken at random)
 *   LFU     (255 - decayed counter) << 32 | idle seconds (ties: the older)
 *   TTL     UINT64_MAX - expiry time in ms
 *   random  64 random bits
 *
 * Invariants:
 *  1. The pool is sorted by ascending score and holds no key twice.
 *  2. Every key copy in the pool is owned by it (inline or heap).
 *  3. At most one shard lock is held at a time, and never across calls.
 */
#include "engine/evict.h"

#include <stdlib.h>
#include <string.h>

#include "engine/util.h"

static uint64_t rng_next(struct evict_pool *p)
{
    uint64_t x = p->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p->rng = x;
    return x;
}

static uint64_t rnd_cb(void *ud)
{
    return rng_next(ud);
}

void evict_pool_init(struct evict_pool *p, uint64_t seed)
{
    memset(p, 0, sizeof(*p));
    p->rng = seed | 1;
}

void evict_cand_free(struct evict_cand *c)
{
    if (c->key && c->key != c->buf)
        free(c->key);
    c->key = NULL;
}

void evict_pool_deinit(struct evict_pool *p)
{
    for (int i = 0; i < p->n; i++)
        evict_cand_free(&p->c[i]);
    p->n = 0;
}

/* Moves candidate src into dst (fixing the inline-key pointer). */
static void cand_move(struct evict_cand *dst, struct evict_cand *src)
{
    *dst = *src;
    if (src->key == src->buf)
        dst->key = dst->buf;
}

static int pool_has(const struct evict_pool *p, int db, const char *key, uint32_t klen)
{
    for (int i = 0; i < p->n; i++)
        if (p->c[i].db == db && p->c[i].klen == klen && memcmp(p->c[i].key, key, klen) == 0)
            return 1;
    return 0;
}

/* Inserts (db, key) with score if it beats the pool's worst (invariant 1). */
static void pool_offer(struct evict_pool *p, uint64_t score, int db, const char *key, uint32_t klen)
{
    if (p->n == EVICT_POOL && score <= p->c[0].score)
        return;
    if (pool_has(p, db, key, klen))
        return;
    struct evict_cand nc = { .score = score, .db = db, .klen = klen };
    if (klen <= EVICT_KEY_INLINE) {
        nc.key = nc.buf;
    } else {
        nc.key = malloc(klen);
        if (!nc.key)
            return;
    }
    memcpy(nc.key, key, klen);
    if (p->n == EVICT_POOL) { /* drop the worst */
        evict_cand_free(&p->c[0]);
        for (int i = 1; i < p->n; i++)
            cand_move(&p->c[i - 1], &p->c[i]);
        p->n--;
    }
    int pos = p->n;
    while (pos > 0 && p->c[pos - 1].score > score) {
        cand_move(&p->c[pos], &p->c[pos - 1]);
        pos--;
    }
    cand_move(&p->c[pos], &nc);
    p->n++;
}

static uint64_t score_of(struct keyspace *ks, int policy, const struct entry *e, struct evict_pool *p)
{
    switch (policy) {
    case EVICT_ALLKEYS_LRU:
    case EVICT_VOLATILE_LRU:
        return (ks_idle_seconds(ks, e->access) << 16) | (rng_next(p) & 0xFFFF);
    case EVICT_ALLKEYS_LFU:
    case EVICT_VOLATILE_LFU:
        return ((uint64_t)(255 - ks_lfu_decayed(ks, e->access)) << 32) | ks_idle_seconds(ks, e->access);
    case EVICT_VOLATILE_TTL:
        return UINT64_MAX - (uint64_t)entry_expire(e);
    default:
        return rng_next(p);
    }
}

unsigned evict_sample(struct keyspace *ks, int policy, unsigned samples, int64_t now_ms, struct evict_pool *p,
                      evict_filter_fn *filter, void *ud)
{
    unsigned seen = 0, taken = 0, probes = 0;
    int vol = evict_is_volatile(policy);
    if (samples == 0)
        samples = 1;
    /* A few random shards; a sparse keyspace may need several to find keys.
     * `samples` counts entries that pass the filters (a keyspace that is
     * mostly cold still yields hot candidates), within a bound on probes. */
    unsigned max_probes = samples * 32;
    for (unsigned tries = 0; tries < 16 && taken < samples && probes < max_probes; tries++) {
        unsigned shard = (unsigned)(rng_next(p) % ks->nshards);
        struct ks_shard *s = &ks->shards[shard];
        if (vol && __atomic_load_n(&s->volatile_total, __ATOMIC_RELAXED) == 0)
            continue;
        ks_lock(ks, shard);
        for (unsigned db = 0; db < ks->databases; db++) {
            struct ks_shard_db *d = &s->db[db];
            uint64_t n = ht_size(&d->ht);
            if (n == 0 || (vol && d->volatile_keys == 0))
                continue;
            unsigned want = samples < n ? samples : (unsigned)n;
            for (unsigned got = 0; got < want && probes < max_probes; probes++) {
                struct entry *e = ht_random(&d->ht, rnd_cb, p);
                if (!e)
                    break;
                seen++;
                if (vol && !(e->flags & ENTRY_F_EXPIRE))
                    continue;
                if ((e->flags & ENTRY_F_EXPIRE) && entry_expire(e) <= now_ms)
                    continue; /* expiry takes it anyway */
                if (filter && !filter(e, ud))
                    continue;
                got++;
                taken++;
                pool_offer(p, score_of(ks, policy, e, p), (int)db, entry_key(e), e->klen);
            }
        }
        ks_unlock(ks, shard);
    }
    return seen;
}

int evict_pool_pop(struct evict_pool *p, struct evict_cand *out)
{
    if (p->n == 0)
        return 0;
    p->n--;
    cand_move(out, &p->c[p->n]);
    return 1;
}

struct entry **evict_take(struct keyspace *ks, int policy, struct evict_cand *c, int64_t now_ms, struct ks_key *k)
{
    ks_key_init(ks, k, c->key, c->klen);
    ks_lock(ks, k->shard);
    struct entry **ref = ks_find_ref(ks, c->db, k, now_ms, KS_F_NOTOUCH | KS_F_STUB);
    if (ref && evict_is_volatile(policy) && !((*ref)->flags & ENTRY_F_EXPIRE))
        ref = NULL;
    if (!ref)
        ks_unlock(ks, k->shard);
    return ref;
}
