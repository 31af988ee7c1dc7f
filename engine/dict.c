/*
 * dict.c -- the hash table behind large collections (hash fields, set
 * members, sorted-set members): chained, power-of-two sized, incremental
 * rehashing, one allocation per element. The contract is engine/dict.h.
 *
 * What it owns: the bucket arrays and the nodes. What it does not: the
 * nodes' values (v.ptr / v.d / v.i belong to the collection; the dict only
 * hands a node to the caller's dict_val_free_fn when it destroys it) and any
 * locking (the owning keyspace entry's shard lock guards every call).
 *
 * Data model:
 *
 *   struct dict (64 B)
 *     t[0] { b -> [bucket 0][bucket 1]...[bucket mask], mask, used }
 *     t[1] { same; allocated only while rehashing }
 *     rehashidx, seed, iterators
 *
 *   node: one malloc of offsetof(struct dict_node, key) + len bytes
 *     0   8  next   chain link
 *     8   8  v      the collection's value (pointer, double or int64)
 *     16  4  len    key length
 *     20  len key   the element's bytes (not NUL-terminated)
 *
 * The hash of a key is ht_hash(d->seed, key, len) (XXH3 with the dict's
 * seed), the same function the keyspace uses; the seed keeps clients from
 * choosing colliding fields. Nodes do not cache their hash: a rehash
 * recomputes it (XXH3 of a short field costs less than the 8 bytes per
 * element would).
 *
 * Resizing (as Redis's dict.c and engine/ht.c):
 *   - A table is allocated lazily, DICT_MIN_SIZE buckets, on the first add.
 *   - Grow to twice the size when an add finds used >= size (load factor 1).
 *   - Shrink, after a delete, when used < size / 10 (Redis's
 *     HASHTABLE_MIN_FILL) to the smallest power of two >= used, never below
 *     DICT_MIN_SIZE. (Redis's t_hash/t_set/t_zset check htNeedsResize after
 *     every delete; here dict_unlink does it.)
 *   - A resize allocates t[1] and sets rehashidx = 0; from then on each
 *     find, add, unlink and random call moves one bucket (plus at most ten
 *     empty ones), so no single command pays for the whole table. Adds go to
 *     t[1] while rehashing; lookups and deletes look in both.
 *   - A failed allocation while growing or shrinking is not an error: the
 *     table just stays as it is (longer chains or a sparser array). Only a
 *     node's own allocation or the very first bucket array can fail an add.
 *
 * Invariants:
 *  1. Buckets of t[0] below rehashidx are empty while rehashing; t[1].b is
 *     NULL when not rehashing.
 *  2. Sizes are powers of two (mask = size - 1) and never below
 *     DICT_MIN_SIZE once allocated.
 *  3. t[i].used is the number of nodes linked in t[i].
 *  4. While iterators > 0 no rehash step, grow-on-find or shrink happens, so
 *     an iterator's position (table, bucket, next node) stays valid when the
 *     current node is unlinked or deleted. Adds during an iteration are not
 *     allowed (dict.h).
 *  5. dict_scan never modifies the table (it may run inside a read command
 *     and its callback may collect nodes), and visits with Redis's
 *     reverse-binary cursor: a node present for the whole scan is returned
 *     at least once even when the table grows or shrinks between calls.
 *
 * Threads: none of its own; every call runs under the shard lock of the
 * entry that owns the collection.
 *
 * References: Redis 7.0 src/dict.c (dictScan, _dictRehashStep,
 * htNeedsResize); engine/ht.c, the keyspace's intrusive twin of this table.
 */
#include "engine/dict.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ht.h"

#define DICT_MIN_SIZE 4
/* Shrink when fewer than 1 in DICT_MIN_FILL buckets' worth of nodes. */
#define DICT_MIN_FILL 10

struct dstr *dstr_create(const void *s, size_t len)
{
    struct dstr *d;

    if (len > UINT32_MAX)
        return NULL;
    d = malloc(sizeof(*d) + len);
    if (!d)
        return NULL;
    d->len = (uint32_t)len;
    if (len)
        memcpy(d->s, s, len);
    return d;
}

static inline int rehashing(const struct dict *d)
{
    return d->rehashidx != -1;
}

static inline uint64_t node_hash(const struct dict *d, const struct dict_node *n)
{
    return ht_hash(d->seed, n->key, n->len);
}

struct dict *dict_create(uint64_t seed)
{
    struct dict *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->rehashidx = -1;
    d->seed = seed;
    return d;
}

static void table_free(struct dict_table *t, dict_val_free_fn *vfree)
{
    if (t->b) {
        for (uint64_t i = 0; i <= t->mask; i++) {
            struct dict_node *n = t->b[i];
            while (n) {
                struct dict_node *next = n->next;
                if (vfree)
                    vfree(n);
                free(n);
                n = next;
            }
        }
        free(t->b);
    }
    memset(t, 0, sizeof(*t));
}

void dict_destroy(struct dict *d, dict_val_free_fn *vfree)
{
    if (!d)
        return;
    table_free(&d->t[0], vfree);
    table_free(&d->t[1], vfree);
    free(d);
}

/* Starts a resize to size buckets (a power of two >= DICT_MIN_SIZE), or
 * allocates the first table. Returns 0, or -1 when the allocation failed or a
 * rehash is already running (the table is left as it was). */
static int resize(struct dict *d, uint64_t size)
{
    struct dict_node **b;

    if (rehashing(d))
        return -1;
    if (size < DICT_MIN_SIZE)
        size = DICT_MIN_SIZE;
    if (d->t[0].b && d->t[0].mask + 1 == size)
        return -1;
    b = calloc(size, sizeof(*b));
    if (!b)
        return -1;
    if (!d->t[0].b) {
        d->t[0].b = b;
        d->t[0].mask = size - 1;
        d->t[0].used = 0;
        return 0;
    }
    d->t[1].b = b;
    d->t[1].mask = size - 1;
    d->t[1].used = 0;
    d->rehashidx = 0;
    return 0;
}

/* Moves up to n non-empty buckets of t[0] into t[1] (visiting at most 10 * n
 * empty ones), and finishes the rehash when t[0] is empty. */
static void rehash_step(struct dict *d, int n)
{
    int empty_visits = n * 10;
    struct dict_table *from = &d->t[0], *to = &d->t[1];

    if (!rehashing(d) || d->iterators > 0)
        return;
    while (n-- > 0 && from->used != 0) {
        while (from->b[d->rehashidx] == NULL) {
            d->rehashidx++;
            if (--empty_visits == 0)
                return;
        }
        struct dict_node *e = from->b[d->rehashidx];
        while (e) {
            struct dict_node *next = e->next;
            uint64_t idx = node_hash(d, e) & to->mask;
            e->next = to->b[idx];
            to->b[idx] = e;
            from->used--;
            to->used++;
            e = next;
        }
        from->b[d->rehashidx] = NULL;
        d->rehashidx++;
    }
    if (from->used == 0) {
        free(from->b);
        *from = *to;
        memset(to, 0, sizeof(*to));
        d->rehashidx = -1;
    }
}

static inline int key_eq(const struct dict_node *n, const void *key, size_t len)
{
    return n->len == len && (len == 0 || memcmp(n->key, key, len) == 0);
}

/* The link that points at key's node, or NULL. Sets *table to the table
 * holding it. Does not modify the dict. */
static struct dict_node **find_ref(struct dict *d, uint64_t h, const void *key, size_t len, int *table)
{
    for (int t = 0; t < 2; t++) {
        struct dict_table *tb = &d->t[t];
        if (!tb->b)
            break;
        struct dict_node **ref = &tb->b[h & tb->mask];
        while (*ref) {
            if (key_eq(*ref, key, len)) {
                if (table)
                    *table = t;
                return ref;
            }
            ref = &(*ref)->next;
        }
        if (!rehashing(d))
            break;
    }
    return NULL;
}

struct dict_node *dict_find(struct dict *d, const void *key, size_t len)
{
    struct dict_node **ref;

    if (dict_size(d) == 0)
        return NULL;
    rehash_step(d, 1);
    ref = find_ref(d, ht_hash(d->seed, key, len), key, len, NULL);
    return ref ? *ref : NULL;
}

struct dict_node *dict_add(struct dict *d, const void *key, size_t len, int *added)
{
    struct dict_node **ref, *n;
    struct dict_table *tb;
    uint64_t h;

    *added = 0;
    if (len > UINT32_MAX)
        return NULL;
    rehash_step(d, 1);
    h = ht_hash(d->seed, key, len);
    if (dict_size(d) != 0) {
        ref = find_ref(d, h, key, len, NULL);
        if (ref)
            return *ref;
    }
    if (!d->t[0].b) {
        if (resize(d, DICT_MIN_SIZE) != 0)
            return NULL;
    } else if (!rehashing(d) && d->t[0].used >= d->t[0].mask + 1) {
        (void)resize(d, (d->t[0].mask + 1) * 2); /* failure: longer chains */
    }
    n = malloc(offsetof(struct dict_node, key) + len);
    if (!n)
        return NULL;
    n->v.i = 0;
    n->len = (uint32_t)len;
    if (len)
        memcpy(n->key, key, len);
    tb = rehashing(d) ? &d->t[1] : &d->t[0];
    n->next = tb->b[h & tb->mask];
    tb->b[h & tb->mask] = n;
    tb->used++;
    *added = 1;
    return n;
}

/* Redis's htNeedsResize + dictResize, after a delete. */
static void maybe_shrink(struct dict *d)
{
    uint64_t size, target;

    if (rehashing(d) || d->iterators > 0 || !d->t[0].b)
        return;
    size = d->t[0].mask + 1;
    if (size <= DICT_MIN_SIZE || d->t[0].used * DICT_MIN_FILL >= size)
        return;
    target = DICT_MIN_SIZE;
    while (target < d->t[0].used)
        target <<= 1;
    (void)resize(d, target); /* failure: the table stays sparse */
}

struct dict_node *dict_unlink(struct dict *d, const void *key, size_t len)
{
    struct dict_node **ref, *n;
    int table = 0;

    if (dict_size(d) == 0)
        return NULL;
    rehash_step(d, 1);
    ref = find_ref(d, ht_hash(d->seed, key, len), key, len, &table);
    if (!ref)
        return NULL;
    n = *ref;
    *ref = n->next;
    n->next = NULL;
    d->t[table].used--;
    rehash_step(d, 0); /* completes a rehash whose old table just emptied */
    maybe_shrink(d);
    return n;
}

int dict_delete(struct dict *d, const void *key, size_t len, dict_val_free_fn *vfree)
{
    struct dict_node *n = dict_unlink(d, key, len);

    if (!n)
        return 0;
    if (vfree)
        vfree(n);
    free(n);
    return 1;
}

static inline uint64_t rev(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
    return __builtin_bswap64(v);
}

static void scan_bucket(struct dict_table *t, uint64_t idx, dict_scan_fn *fn, void *ud)
{
    struct dict_node *n = t->b[idx & t->mask];

    while (n) {
        struct dict_node *next = n->next;
        fn(n, ud);
        n = next;
    }
}

uint64_t dict_scan(struct dict *d, uint64_t v, dict_scan_fn *fn, void *ud)
{
    if (dict_size(d) == 0)
        return 0;
    if (!rehashing(d)) {
        struct dict_table *t0 = &d->t[0];
        scan_bucket(t0, v, fn, ud);
        v |= ~t0->mask;
        v = rev(v);
        v++;
        v = rev(v);
    } else {
        struct dict_table *small = &d->t[0], *large = &d->t[1];
        if (small->mask > large->mask) {
            struct dict_table *tmp = small;
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

/* A non-empty bucket chosen uniformly, then a node of its chain; *chain is
 * the chain's length. */
static struct dict_node *random_in_chain(struct dict *d, uint64_t (*rnd)(void *), void *ud, unsigned *chain)
{
    struct dict_node *head = NULL;
    unsigned len = 0, pick;

    rehash_step(d, 1);
    while (!head) {
        if (rehashing(d)) {
            uint64_t s0 = d->t[0].mask + 1, s1 = d->t[1].mask + 1;
            uint64_t r = (uint64_t)d->rehashidx + rnd(ud) % (s0 + s1 - (uint64_t)d->rehashidx);
            head = r >= s0 ? d->t[1].b[r - s0] : d->t[0].b[r];
        } else {
            head = d->t[0].b[rnd(ud) & d->t[0].mask];
        }
    }
    for (struct dict_node *n = head; n; n = n->next)
        len++;
    pick = (unsigned)(rnd(ud) % len);
    while (pick--)
        head = head->next;
    *chain = len;
    return head;
}

struct dict_node *dict_random(struct dict *d, uint64_t (*rnd)(void *), void *ud)
{
    unsigned chain;
    if (dict_size(d) == 0)
        return NULL;
    return random_in_chain(d, rnd, ud, &chain);
}

struct dict_node *dict_random_fair(struct dict *d, uint64_t (*rnd)(void *), void *ud)
{
    if (dict_size(d) == 0)
        return NULL;
    for (;;) {
        unsigned chain;
        struct dict_node *n = random_in_chain(d, rnd, ud, &chain);
        if (chain >= DICT_FAIR_CHAIN || rnd(ud) % DICT_FAIR_CHAIN < chain)
            return n;
    }
}

void dict_iter_init(struct dict_iter *it, struct dict *d)
{
    it->d = d;
    it->table = 0;
    it->idx = 0;
    it->cur = NULL;
    it->next = NULL;
    d->iterators++;
}

struct dict_node *dict_iter_next(struct dict_iter *it)
{
    struct dict *d = it->d;

    if (!d)
        return NULL;
    while (!it->next) {
        struct dict_table *t = &d->t[it->table];
        if (!t->b || it->idx > t->mask) {
            if (it->table == 0 && rehashing(d)) {
                it->table = 1;
                it->idx = 0;
                continue;
            }
            it->cur = NULL;
            return NULL;
        }
        it->next = t->b[it->idx++];
    }
    it->cur = it->next;
    it->next = it->cur->next;
    return it->cur;
}

void dict_iter_done(struct dict_iter *it)
{
    if (it->d) {
        it->d->iterators--;
        it->d = NULL;
    }
    it->cur = it->next = NULL;
}

size_t dict_mem(const struct dict *d)
{
    size_t n = 0;

    for (int t = 0; t < 2; t++) {
        const struct dict_table *tb = &d->t[t];
        if (!tb->b)
            continue;
        n += malloc_usable_size(tb->b);
        for (uint64_t i = 0; i <= tb->mask; i++)
            for (const struct dict_node *e = tb->b[i]; e; e = e->next)
                n += malloc_usable_size((void *)e);
    }
    return n;
}
