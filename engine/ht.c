/*
 * ht.c -- chained hash table with incremental rehashing, intrusive on
 * struct entry (entry.h).
 *
 * Data model: two bucket arrays t[0] and t[1]. Normally only t[0] is used.
 * A resize allocates t[1] and sets rehashidx = 0; from then on every insert
 * moves one bucket (ht_rehash_step), and the owning worker's cron moves more
 * each tick, so no single request ever pays for a whole rehash (DESIGN.md
 * §2). While rehashing, inserts go to t[1] and lookups check both. Lookups
 * never move buckets: a link from ht_find_ref stays valid until the table is
 * next modified (insert, unlink, rehash step), not merely read.
 *
 * Invariants:
 *  1. Buckets of t[0] below rehashidx are empty while rehashing.
 *  2. Sizes are 0 or powers of two; mask = size - 1.
 *  3. Grow when used >= size (load factor 1); shrink (cron) when
 *     used < size / 8, never below HT_MIN_SIZE.
 *
 * The hash is XXH3-64 with a per-keyspace seed (xxhash from Debian's
 * libxxhash), keyed so that clients cannot pick colliding keys.
 *
 * SCAN cursor: Redis's reverse-binary increment (dict.c, dictScan), which
 * visits every bucket of the smaller table and its expansions in the larger
 * one, so entries present for the whole scan are returned at least once even
 * when the table grows or shrinks between calls.
 */
#include "engine/ht.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "engine/err.h"

#define HT_MIN_SIZE 4

uint64_t ht_hash(uint64_t seed, const void *key, size_t len)
{
    return XXH3_64bits_withSeed(key, len, seed);
}

void ht_init(struct ht *ht, uint64_t seed)
{
    memset(ht, 0, sizeof(*ht));
    ht->rehashidx = -1;
    ht->seed = seed;
}

static void table_free(struct ht_table *t)
{
    if (t->buckets) {
        for (uint64_t i = 0; i <= t->mask; i++) {
            struct entry *e = t->buckets[i];
            while (e) {
                struct entry *next = e->next;
                entry_destroy(e);
                e = next;
            }
        }
        free(t->buckets);
    }
    memset(t, 0, sizeof(*t));
}

void ht_deinit(struct ht *ht)
{
    table_free(&ht->t[0]);
    table_free(&ht->t[1]);
    ht->rehashidx = -1;
}

static inline uint64_t entry_hash(const struct ht *ht, const struct entry *e)
{
    return ht_hash(ht->seed, entry_key(e), e->klen);
}

/* Starts a resize to `size` buckets (a power of two). */
static int resize(struct ht *ht, uint64_t size)
{
    if (ht_is_rehashing(ht))
        return ST_EAGAIN;
    if (size < HT_MIN_SIZE)
        size = HT_MIN_SIZE;
    struct entry **b = calloc(size, sizeof(*b));
    if (!b)
        return ST_ENOMEM;
    if (!ht->t[0].buckets) {
        ht->t[0].buckets = b;
        ht->t[0].mask = size - 1;
        return ST_OK;
    }
    ht->t[1].buckets = b;
    ht->t[1].mask = size - 1;
    ht->t[1].used = 0;
    ht->rehashidx = 0;
    return ST_OK;
}

int ht_rehash_step(struct ht *ht, int n)
{
    int empty_visits = n * 10;
    if (!ht_is_rehashing(ht))
        return 0;
    struct ht_table *from = &ht->t[0], *to = &ht->t[1];
    while (n-- > 0 && from->used != 0) {
        while (from->buckets[ht->rehashidx] == NULL) {
            ht->rehashidx++;
            if (--empty_visits == 0)
                return 1;
        }
        struct entry *e = from->buckets[ht->rehashidx];
        while (e) {
            struct entry *next = e->next;
            uint64_t idx = entry_hash(ht, e) & to->mask;
            e->next = to->buckets[idx];
            to->buckets[idx] = e;
            from->used--;
            to->used++;
            e = next;
        }
        from->buckets[ht->rehashidx] = NULL;
        ht->rehashidx++;
    }
    if (from->used == 0) {
        free(from->buckets);
        *from = *to;
        memset(to, 0, sizeof(*to));
        ht->rehashidx = -1;
        return 0;
    }
    return 1;
}

static inline int key_eq(const struct entry *e, const void *key, size_t klen)
{
    return e->klen == klen && memcmp(entry_key(e), key, klen) == 0;
}

struct entry **ht_find_ref(struct ht *ht, uint64_t hash, const void *key, size_t klen)
{
    if (ht_size(ht) == 0)
        return NULL;
    for (int t = 0; t < 2; t++) {
        struct ht_table *tb = &ht->t[t];
        if (!tb->buckets)
            break;
        struct entry **ref = &tb->buckets[hash & tb->mask];
        while (*ref) {
            if (key_eq(*ref, key, klen))
                return ref;
            ref = &(*ref)->next;
        }
        if (!ht_is_rehashing(ht))
            break;
    }
    return NULL;
}

int ht_insert(struct ht *ht, uint64_t hash, struct entry *e)
{
    if (ht_is_rehashing(ht))
        ht_rehash_step(ht, 1);
    if (!ht->t[0].buckets) {
        if (resize(ht, HT_MIN_SIZE) != ST_OK)
            return ST_ENOMEM;
    } else if (!ht_is_rehashing(ht) && ht->t[0].used >= ht->t[0].mask + 1) {
        /* a failed grow is not fatal: chains just get longer */
        (void)resize(ht, (ht->t[0].mask + 1) * 2);
    }
    struct ht_table *tb = ht_is_rehashing(ht) ? &ht->t[1] : &ht->t[0];
    uint64_t idx = hash & tb->mask;
    e->next = tb->buckets[idx];
    tb->buckets[idx] = e;
    tb->used++;
    return ST_OK;
}

int ht_insert_stable(struct ht *ht, uint64_t hash, struct entry *e)
{
    if (!ht->t[0].buckets) /* an empty table: no link to keep */
        return ht_insert(ht, hash, e);
    struct ht_table *tb = ht_is_rehashing(ht) ? &ht->t[1] : &ht->t[0];
    struct entry **ref = &tb->buckets[hash & tb->mask];
    while (*ref)
        ref = &(*ref)->next;
    e->next = NULL;
    *ref = e; /* at the tail: no existing link changes */
    tb->used++;
    return ST_OK;
}

struct entry *ht_unlink_ref(struct ht *ht, struct entry **ref)
{
    struct entry *e = *ref;
    /* which table holds it: t[1] only while rehashing and the ref lies there */
    struct ht_table *t1 = &ht->t[1];
    int in1 = 0;
    if (ht_is_rehashing(ht) && t1->buckets) {
        uint64_t idx = entry_hash(ht, e) & t1->mask;
        struct entry **r = &t1->buckets[idx];
        while (*r) {
            if (r == ref) {
                in1 = 1;
                break;
            }
            r = &(*r)->next;
        }
    }
    *ref = e->next;
    e->next = NULL;
    ht->t[in1].used--;
    return e;
}

int ht_maybe_shrink(struct ht *ht)
{
    if (ht_is_rehashing(ht) || !ht->t[0].buckets)
        return 0;
    uint64_t size = ht->t[0].mask + 1;
    if (size <= HT_MIN_SIZE || ht->t[0].used * 8 >= size)
        return 0;
    if (ht->t[0].used == 0) {
        free(ht->t[0].buckets);
        memset(&ht->t[0], 0, sizeof(ht->t[0]));
        return 1;
    }
    uint64_t target = HT_MIN_SIZE;
    while (target < ht->t[0].used)
        target <<= 1;
    return resize(ht, target) == ST_OK;
}

static inline uint64_t rev(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
    return __builtin_bswap64(v);
}

static void scan_bucket(struct ht_table *t, uint64_t idx, ht_scan_fn *fn, void *ud)
{
    struct entry *e = t->buckets[idx & t->mask];
    while (e) {
        struct entry *next = e->next;
        fn(e, ud);
        e = next;
    }
}

uint64_t ht_scan(struct ht *ht, uint64_t v, ht_scan_fn *fn, void *ud)
{
    if (ht_size(ht) == 0)
        return 0;
    if (!ht_is_rehashing(ht)) {
        struct ht_table *t0 = &ht->t[0];
        uint64_t m0 = t0->mask;
        scan_bucket(t0, v, fn, ud);
        v |= ~m0;
        v = rev(v);
        v++;
        v = rev(v);
    } else {
        struct ht_table *small = &ht->t[0], *large = &ht->t[1];
        if (small->mask > large->mask) {
            struct ht_table *tmp = small;
            small = large;
            large = tmp;
        }
        uint64_t m0 = small->mask, m1 = large->mask;
        scan_bucket(small, v, fn, ud);
        /* every bucket of the larger table that expands the small one's */
        do {
            scan_bucket(large, v, fn, ud);
            v |= ~m1;
            v = rev(v);
            v++;
            v = rev(v);
        } while (v & (m0 ^ m1));
    }
    return v;
}

struct entry *ht_random(struct ht *ht, uint64_t (*rnd)(void *), void *rnd_ud)
{
    if (ht_size(ht) == 0)
        return NULL;
    if (ht_is_rehashing(ht))
        ht_rehash_step(ht, 1);
    struct entry *head = NULL;
    /* pick a non-empty bucket uniformly, then an element of its chain */
    for (int tries = 0; !head; tries++) {
        if (ht_is_rehashing(ht)) {
            uint64_t s0 = ht->t[0].mask + 1, s1 = ht->t[1].mask + 1;
            uint64_t r = (uint64_t)ht->rehashidx + rnd(rnd_ud) % (s0 + s1 - (uint64_t)ht->rehashidx);
            head = r >= s0 ? ht->t[1].buckets[r - s0] : ht->t[0].buckets[r];
        } else {
            head = ht->t[0].buckets[rnd(rnd_ud) & ht->t[0].mask];
        }
        if (tries > 1000000)
            break; /* cannot happen with size > 0; a guard, not a path */
    }
    if (!head)
        return NULL;
    unsigned len = 0;
    for (struct entry *e = head; e; e = e->next)
        len++;
    unsigned pick = (unsigned)(rnd(rnd_ud) % len);
    while (pick--)
        head = head->next;
    return head;
}

size_t ht_overhead(const struct ht *ht)
{
    size_t n = 0;
    for (int i = 0; i < 2; i++)
        if (ht->t[i].buckets)
            n += (ht->t[i].mask + 1) * sizeof(struct entry *);
    return n;
}
