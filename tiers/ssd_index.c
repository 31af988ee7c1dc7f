/*
 * ssd_index.c -- the SSD tier's DRAM index (tiers/ssd_index.h): for each
 * database, SIDX_STRIPES (1024) stripes, each a mutex and an open-addressing
 * table of u64 entries (layout in ssd_index.h), so that a key on the SSD
 * costs about 8 bytes of DRAM and no stub.
 *
 * What it owns: the tables and the per-stripe counts. Not the keys (only 29
 * bits of each key's hash are kept: 10 choose the stripe, 19 are the
 * fingerprint), not what an entry points at (tiers/ssd.c), not the
 * durability of anything (the index is rebuilt at attach, never persisted,
 * and its hash seed is random per tier instance).
 *
 * Data model. A key's 64-bit hash h (XXH3 with the tier's seed) gives
 *
 *   stripe = h >> 54            (top 10 bits)
 *   fp     = (h >> 35) & 0x7ffff  (next 19 bits)
 *
 * A stripe's table has nhome home positions and cap = nhome + slack slots
 * (slack = 8 + nhome/32: the tail has no wrap-around). The home of an
 * entry is home(fp) = fp * nhome >> 19, which is monotone in fp, and the
 * table is kept *sorted by fp* (ordered linear probing, Amble & Knuth
 * 1974):
 *
 *   slot:  0    1    2    3    4    5    6    7  ...  cap-1
 *          e(3) e(3) .    e(9) e(9) e(12) .   e(40)
 *                         ^home(9)=3   ^ e(12) displaced from home 4
 *
 * Invariants:
 *  1. Entries appear in non-decreasing fp order from slot 0 to cap-1.
 *  2. Each entry sits at or after its home, and every slot from its home
 *     to it is occupied. So the entries of one fp form a contiguous run,
 *     and a lookup of fp starts at home(fp), skips smaller fps, and stops
 *     at the first empty slot or larger fp: an absent key usually costs
 *     one or two slots.
 *  3. An insert puts the new entry after those with fp <= its own and
 *     shifts the run up to the next empty slot one place right; a delete
 *     shifts following displaced entries one place left (backward shift:
 *     no tombstones). Both keep 1 and 2.
 *  4. count / nhome stays below 7/8: past it the table is rebuilt with
 *     nhome * 5/4 homes (a linear merge, since the order does not change);
 *     below 3/10 it shrinks to about 7/10. So the load stays between 0.7
 *     and 0.875 at steady state: 9.1 .. 11.4 bytes per key with the slack,
 *     and a stripe is resized alone (no stop-the-world rehash).
 *  5. The scan cursor is a position in hash order, (stripe << 20) | fp,
 *     not a table position: whole fp groups are handed out in fp order, so
 *     an entry present for the whole walk is returned exactly once
 *     whatever resizes happen between calls (this replaces Redis's
 *     reverse-binary cursor, which needs power-of-two tables; the tables
 *     here grow by 5/4 to keep the DRAM per key near 8 bytes).
 *  6. A database's stripes are allocated on first use (dbs_lock) and are
 *     never freed before sidx_destroy; swapdb swaps the two databases'
 *     pointers with every stripe of both locked, and sidx_lock re-checks
 *     after locking that its stripe still belongs to the database it
 *     asked for (else it retries).
 *
 * Threads and locks:
 *  - stripe.lock guards that stripe's tab, nhome, cap, count and nvol
 *    (count and nvol are also read without it, relaxed, by the sums).
 *  - dbs_lock guards allocation of a database's stripes and is held by
 *    swapdb and flushdb around locking many stripes (so two of those never
 *    deadlock; everybody else holds at most one stripe lock).
 *  - dbs[] entries are written under dbs_lock with every stripe of the
 *    databases concerned locked, and read with acquire loads.
 *  - sidx_bytes and sidx_entries sum cap and count over the stripes with
 *    relaxed loads (a figure for stats, not a snapshot).
 *  Lock order: dbs_lock -> stripe locks (in database, then stripe order).
 *
 * Durability: none. References: Amble & Knuth, "Ordered hash tables"
 * (1974); Redis dict.c's SCAN contract.
 */
#include "tiers/ssd_index.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/ht.h"

#define MIN_HOMES 16u

struct sidx_stripe {
    pthread_mutex_t lock;
    uint64_t *tab;  /* lock: cap entries, sorted by fp (invariant 1) */
    uint32_t nhome; /* lock */
    uint32_t cap;   /* lock */
    uint32_t count; /* lock (relaxed reads) */
    uint32_t nvol;  /* lock (relaxed reads) */
};

struct sidx_db {
    struct sidx_stripe st[SIDX_STRIPES];
};

struct sidx {
    unsigned databases; /* immutable */
    uint64_t seed;      /* immutable */
    pthread_mutex_t dbs_lock;
    struct sidx_db **dbs; /* [databases]; see invariant 6 */
    uint64_t db_bytes;    /* dbs_lock (relaxed reads) */
};

/* ---- one stripe's table ------------------------------------------------- */

static uint32_t slack_of(uint32_t nhome)
{
    return 8 + nhome / 32;
}

static uint32_t home_of(const struct sidx_stripe *s, uint32_t fp)
{
    return (uint32_t)(((uint64_t)fp * s->nhome) >> SIDX_FP_BITS);
}

static void set_count(uint32_t *f, uint32_t v)
{
    __atomic_store_n(f, v, __ATOMIC_RELAXED);
}

/* Rebuilds s's table with nhome homes (invariant 4): entries keep their
 * order, each at max(its new home, the slot after the previous one). */
static int resize_locked(struct sidx_stripe *s, uint32_t nhome)
{
    for (int tries = 0; tries < 8; tries++) {
        uint32_t cap = nhome + slack_of(nhome);
        uint64_t *t = calloc(cap, sizeof(*t));
        int64_t prev = -1;
        int ok = 1;

        if (!t)
            return ST_ENOMEM;
        struct sidx_stripe ns = {.nhome = nhome, .cap = cap};
        for (uint32_t i = 0; s->tab && i < s->cap; i++) {
            uint64_t e = s->tab[i];
            if (!e)
                continue;
            int64_t p = home_of(&ns, sidx_ent_fp(e));
            if (p <= prev)
                p = prev + 1;
            if (p >= (int64_t)cap) {
                ok = 0;
                break;
            }
            t[p] = e;
            prev = p;
        }
        if (!ok) { /* the tail ran out of slack: more homes */
            free(t);
            nhome += nhome / 4 + 1;
            continue;
        }
        free(s->tab);
        s->tab = t;
        s->nhome = nhome;
        __atomic_store_n(&s->cap, cap, __ATOMIC_RELAXED);
        return ST_OK;
    }
    return ST_ENOMEM;
}

static uint32_t grown(uint32_t nhome)
{
    uint32_t n = nhome + nhome / 4;
    return n < MIN_HOMES ? MIN_HOMES : n;
}

/* The slot of the entry with id's identity, or -1. */
static int64_t pos_of(const struct sidx_stripe *s, uint64_t id)
{
    uint32_t fp = sidx_ent_fp(id);

    if (!s->tab)
        return -1;
    for (uint32_t p = home_of(s, fp); p < s->cap && s->tab[p]; p++) {
        uint32_t f = sidx_ent_fp(s->tab[p]);
        if (f > fp)
            break;
        if ((s->tab[p] & SIDX_ID_MASK) == (id & SIDX_ID_MASK))
            return p;
    }
    return -1;
}

/* Removes the entry at p with backward shift (invariant 3). */
static void del_at(struct sidx_stripe *s, uint32_t p)
{
    uint64_t e = s->tab[p];
    uint32_t i = p;

    while (i + 1 < s->cap && s->tab[i + 1] && home_of(s, sidx_ent_fp(s->tab[i + 1])) <= i) {
        s->tab[i] = s->tab[i + 1];
        i++;
    }
    s->tab[i] = 0;
    set_count(&s->count, s->count - 1);
    if (sidx_ent_ttl(e))
        set_count(&s->nvol, s->nvol - 1);
}

static void maybe_shrink(struct sidx_stripe *s)
{
    if (s->nhome > MIN_HOMES && (uint64_t)s->count * 10 < (uint64_t)s->nhome * 3) {
        uint32_t n = s->count * 10 / 7 + 1;
        (void)resize_locked(s, n < MIN_HOMES ? MIN_HOMES : n); /* ENOMEM: keep the bigger table */
    }
}

/* Places e (invariant 3). 1 if done, 0 if the tail has no room. */
static int place(struct sidx_stripe *s, uint64_t e)
{
    uint32_t fp = sidx_ent_fp(e), p = home_of(s, fp), q;

    while (p < s->cap && s->tab[p] && sidx_ent_fp(s->tab[p]) <= fp)
        p++;
    if (p >= s->cap)
        return 0;
    for (q = p; q < s->cap && s->tab[q]; q++)
        ;
    if (q >= s->cap)
        return 0;
    memmove(s->tab + p + 1, s->tab + p, (size_t)(q - p) * sizeof(*s->tab));
    s->tab[p] = e;
    return 1;
}

/* ---- the exported calls ------------------------------------------------- */

int sidx_create(unsigned databases, uint64_t seed, struct sidx **out)
{
    struct sidx *x;

    if (databases < 1 || databases > 1024 || !out)
        return ST_EINVAL;
    x = calloc(1, sizeof(*x));
    if (!x)
        return ST_ENOMEM;
    x->dbs = calloc(databases, sizeof(*x->dbs));
    if (!x->dbs) {
        free(x);
        return ST_ENOMEM;
    }
    x->databases = databases;
    x->seed = seed;
    pthread_mutex_init(&x->dbs_lock, NULL);
    *out = x;
    return ST_OK;
}

static void db_free(struct sidx_db *d)
{
    for (unsigned i = 0; i < SIDX_STRIPES; i++) {
        free(d->st[i].tab);
        pthread_mutex_destroy(&d->st[i].lock);
    }
    free(d);
}

void sidx_destroy(struct sidx **xp)
{
    struct sidx *x = *xp;

    if (!x)
        return;
    for (unsigned i = 0; i < x->databases; i++)
        if (x->dbs[i])
            db_free(x->dbs[i]);
    free(x->dbs);
    pthread_mutex_destroy(&x->dbs_lock);
    free(x);
    *xp = NULL;
}

uint64_t sidx_hash(const struct sidx *x, const void *key, size_t klen)
{
    return ht_hash(x->seed, key, klen);
}

static struct sidx_db *db_get(struct sidx *x, int db)
{
    return __atomic_load_n(&x->dbs[db], __ATOMIC_ACQUIRE);
}

/* The database's stripes, allocated if absent. Caller holds dbs_lock. */
static struct sidx_db *db_alloc_locked(struct sidx *x, int db)
{
    struct sidx_db *d = x->dbs[db];

    if (d)
        return d;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    for (unsigned i = 0; i < SIDX_STRIPES; i++)
        pthread_mutex_init(&d->st[i].lock, NULL);
    __atomic_fetch_add(&x->db_bytes, sizeof(*d), __ATOMIC_RELAXED);
    __atomic_store_n(&x->dbs[db], d, __ATOMIC_RELEASE);
    return d;
}

/* Locks stripe i of db (invariant 6: re-checked after locking). */
static struct sidx_stripe *lock_idx(struct sidx *x, int db, unsigned i, int create)
{
    for (;;) {
        struct sidx_db *d = db_get(x, db);
        if (!d) {
            if (!create)
                return NULL;
            pthread_mutex_lock(&x->dbs_lock);
            d = db_alloc_locked(x, db);
            pthread_mutex_unlock(&x->dbs_lock);
            if (!d)
                return NULL;
        }
        struct sidx_stripe *s = &d->st[i];
        pthread_mutex_lock(&s->lock);
        if (db_get(x, db) == d)
            return s;
        pthread_mutex_unlock(&s->lock);
    }
}

struct sidx_stripe *sidx_lock(struct sidx *x, int db, uint64_t h, int create)
{
    if (db < 0 || (unsigned)db >= x->databases)
        return NULL;
    return lock_idx(x, db, sidx_stripe_of(h), create);
}

void sidx_unlock(struct sidx_stripe *s)
{
    pthread_mutex_unlock(&s->lock);
}

size_t sidx_find_locked(struct sidx_stripe *s, uint32_t fp, uint64_t *out, size_t cap)
{
    size_t n = 0;

    if (!s->tab)
        return 0;
    for (uint32_t p = home_of(s, fp); p < s->cap && s->tab[p]; p++) {
        uint32_t f = sidx_ent_fp(s->tab[p]);
        if (f > fp)
            break;
        if (f == fp) {
            if (n < cap)
                out[n] = s->tab[p];
            n++;
        }
    }
    return n;
}


int sidx_add_locked(struct sidx_stripe *s, uint64_t ent)
{
    if (!s->tab || (uint64_t)(s->count + 1) * 8 > (uint64_t)s->nhome * 7) {
        if (resize_locked(s, s->tab ? grown(s->nhome) : MIN_HOMES) != ST_OK && !s->tab)
            return ST_ENOMEM;
    }
    while (!place(s, ent)) {
        /* the run reached the end of the slack: more homes spread it */
        if (resize_locked(s, grown(s->nhome)) != ST_OK)
            return ST_ENOMEM;
    }
    set_count(&s->count, s->count + 1);
    if (sidx_ent_ttl(ent))
        set_count(&s->nvol, s->nvol + 1);
    return ST_OK;
}

int sidx_replace_locked(struct sidx_stripe *s, uint64_t id, uint64_t ent)
{
    int64_t p = pos_of(s, id);

    if (p < 0 || sidx_ent_fp(ent) != sidx_ent_fp(id))
        return ST_ENOENT;
    if (sidx_ent_ttl(s->tab[p]) != sidx_ent_ttl(ent))
        set_count(&s->nvol, sidx_ent_ttl(ent) ? s->nvol + 1 : s->nvol - 1);
    s->tab[p] = ent; /* same fp: the order holds (invariant 1) */
    return ST_OK;
}

int sidx_del_locked(struct sidx_stripe *s, uint64_t id)
{
    int64_t p = pos_of(s, id);

    if (p < 0)
        return ST_ENOENT;
    del_at(s, (uint32_t)p);
    maybe_shrink(s);
    return ST_OK;
}

void sidx_counts(struct sidx *x, int db, uint64_t *keys, uint64_t *volatile_keys)
{
    uint64_t k = 0, v = 0;
    struct sidx_db *d = db >= 0 && (unsigned)db < x->databases ? db_get(x, db) : NULL;

    for (unsigned i = 0; d && i < SIDX_STRIPES; i++) {
        k += __atomic_load_n(&d->st[i].count, __ATOMIC_RELAXED);
        v += __atomic_load_n(&d->st[i].nvol, __ATOMIC_RELAXED);
    }
    if (keys)
        *keys = k;
    if (volatile_keys)
        *volatile_keys = v;
}

uint64_t sidx_entries(struct sidx *x)
{
    uint64_t n = 0;
    for (unsigned db = 0; db < x->databases; db++) {
        uint64_t k;
        sidx_counts(x, (int)db, &k, NULL);
        n += k;
    }
    return n;
}

uint64_t sidx_bytes(struct sidx *x)
{
    uint64_t n = sizeof(*x) + (uint64_t)x->databases * sizeof(*x->dbs);

    n += __atomic_load_n(&x->db_bytes, __ATOMIC_RELAXED);
    for (unsigned db = 0; db < x->databases; db++) {
        struct sidx_db *d = db_get(x, (int)db);
        for (unsigned i = 0; d && i < SIDX_STRIPES; i++)
            n += (uint64_t)__atomic_load_n(&d->st[i].cap, __ATOMIC_RELAXED) * sizeof(uint64_t);
    }
    return n;
}

/* ---- scan, random, walk ------------------------------------------------- */

#define CUR_FP_BITS 20 /* room for fp == 2^19, "past the last group" */

uint64_t sidx_scan(struct sidx *x, int db, uint64_t cursor, sidx_map_fn *map, void *ud, uint64_t *out, size_t cap,
                   size_t *n)
{
    uint64_t stripe = cursor >> CUR_FP_BITS;
    uint32_t fpc = (uint32_t)(cursor & ((1u << CUR_FP_BITS) - 1));

    *n = 0;
    if (db < 0 || (unsigned)db >= x->databases || cap == 0 || !db_get(x, db))
        return 0;
    if (fpc > (1u << SIDX_FP_BITS))
        fpc = 1u << SIDX_FP_BITS;
    for (; stripe < SIDX_STRIPES; stripe++, fpc = 0) {
        struct sidx_stripe *s = lock_idx(x, db, (unsigned)stripe, 0);
        if (!s)
            return 0; /* the database has no stripes any more */
        if (s->tab && fpc < (1u << SIDX_FP_BITS)) {
            uint32_t p = home_of(s, fpc);
            /* invariant 2: nothing of fp >= fpc sits below home(fpc) */
            while (p < s->cap) {
                if (!s->tab[p] || sidx_ent_fp(s->tab[p]) < fpc) {
                    p++;
                    continue;
                }
                uint32_t g = sidx_ent_fp(s->tab[p]), q = p;
                while (q < s->cap && s->tab[q] && sidx_ent_fp(s->tab[q]) == g)
                    q++;
                if (*n > 0 && *n + (q - p) > cap) {
                    sidx_unlock(s);
                    return stripe << CUR_FP_BITS | g;
                }
                for (uint32_t i = p; i < q && *n < cap; i++) {
                    uint64_t v = map(ud, s->tab[i]);
                    if (v)
                        out[(*n)++] = v;
                }
                p = q;
                fpc = g + 1;
            }
        }
        sidx_unlock(s);
        if (*n >= cap)
            return stripe + 1 < SIDX_STRIPES ? (stripe + 1) << CUR_FP_BITS : 0;
    }
    return 0;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int sidx_random(struct sidx *x, int db, uint64_t rnd, sidx_map_fn *map, void *ud, uint64_t *out)
{
    struct sidx_db *d;
    uint64_t total = 0, st = rnd;

    if (db < 0 || (unsigned)db >= x->databases || !(d = db_get(x, db)))
        return ST_ENOENT;
    for (unsigned i = 0; i < SIDX_STRIPES; i++)
        total += __atomic_load_n(&d->st[i].count, __ATOMIC_RELAXED);
    if (!total)
        return ST_ENOENT;
    for (int attempt = 0; attempt < 16; attempt++) {
        /* a stripe with probability count / total ... */
        uint64_t k = splitmix(&st) % total, acc = 0;
        unsigned i;
        for (i = 0; i + 1 < SIDX_STRIPES; i++) {
            acc += __atomic_load_n(&d->st[i].count, __ATOMIC_RELAXED);
            if (k < acc)
                break;
        }
        struct sidx_stripe *s = lock_idx(x, db, i, 0);
        if (!s)
            return ST_ENOENT;
        if (!s->count) {
            sidx_unlock(s);
            continue;
        }
        /* ... then an entry of it uniformly: uniform slots, empty ones
         * rejected (load >= 0.3, so a few tries), a counted walk last */
        uint64_t e = 0;
        for (int t = 0; t < 64 && !e; t++)
            e = s->tab[splitmix(&st) % s->cap];
        if (!e) {
            uint64_t want = splitmix(&st) % s->count;
            for (uint32_t p = 0; p < s->cap; p++)
                if (s->tab[p] && want-- == 0) {
                    e = s->tab[p];
                    break;
                }
        }
        uint64_t v = e ? map(ud, e) : 0;
        sidx_unlock(s);
        if (v) {
            *out = v;
            return ST_OK;
        }
    }
    return ST_ENOENT;
}

uint64_t sidx_walk(struct sidx *x, int db, sidx_walk_fn *fn, void *ud)
{
    uint64_t removed = 0;
    int lo = db < 0 ? 0 : db, hi = db < 0 ? (int)x->databases - 1 : db;

    if (db >= 0 && (unsigned)db >= x->databases)
        return 0;
    for (int d = lo; d <= hi; d++) {
        for (unsigned i = 0; i < SIDX_STRIPES && db_get(x, d); i++) {
            struct sidx_stripe *s = lock_idx(x, d, i, 0);
            uint64_t before;
            if (!s)
                break;
            before = s->count;
            for (uint32_t p = 0; s->tab && p < s->cap;) {
                if (s->tab[p] && fn(ud, d, s->tab[p]))
                    del_at(s, p); /* the next entry may now be at p */
                else
                    p++;
            }
            removed += before - s->count;
            if (before != s->count)
                maybe_shrink(s);
            sidx_unlock(s);
        }
    }
    return removed;
}

/* ---- swapdb, flushdb ---------------------------------------------------- */

static void lock_all(struct sidx_db *d)
{
    for (unsigned i = 0; i < SIDX_STRIPES; i++)
        pthread_mutex_lock(&d->st[i].lock);
}

static void unlock_all(struct sidx_db *d)
{
    for (unsigned i = 0; i < SIDX_STRIPES; i++)
        pthread_mutex_unlock(&d->st[i].lock);
}

int sidx_swapdb(struct sidx *x, int a, int b, void (*under)(void *ud), void *ud)
{
    struct sidx_db *da, *db_;

    if (a < 0 || b < 0 || (unsigned)a >= x->databases || (unsigned)b >= x->databases)
        return ST_EINVAL;
    pthread_mutex_lock(&x->dbs_lock);
    da = db_alloc_locked(x, a);
    db_ = db_alloc_locked(x, b);
    if (!da || !db_) {
        pthread_mutex_unlock(&x->dbs_lock);
        return ST_ENOMEM;
    }
    if (a == b) {
        lock_all(da);
        if (under)
            under(ud);
        unlock_all(da);
        pthread_mutex_unlock(&x->dbs_lock);
        return ST_OK;
    }
    lock_all(da);
    lock_all(db_);
    if (under)
        under(ud);
    __atomic_store_n(&x->dbs[a], db_, __ATOMIC_RELEASE);
    __atomic_store_n(&x->dbs[b], da, __ATOMIC_RELEASE);
    unlock_all(db_);
    unlock_all(da);
    pthread_mutex_unlock(&x->dbs_lock);
    return ST_OK;
}

struct detached {
    int db;
    uint64_t *tab;
    uint32_t cap;
};

int sidx_flushdb(struct sidx *x, int db, void (*under)(void *ud), sidx_walk_fn *gone, void *ud)
{
    int lo = db < 0 ? 0 : db, hi = db < 0 ? (int)x->databases - 1 : db;
    struct detached *dt = NULL;
    size_t ndt = 0, cap = 0;
    int rc = ST_OK;

    if (db >= 0 && (unsigned)db >= x->databases)
        return ST_EINVAL;
    pthread_mutex_lock(&x->dbs_lock);
    for (int d = lo; d <= hi; d++)
        if (x->dbs[d])
            lock_all(x->dbs[d]);
    if (under)
        under(ud);
    for (int d = lo; d <= hi; d++) {
        struct sidx_db *p = x->dbs[d];
        for (unsigned i = 0; p && i < SIDX_STRIPES; i++) {
            struct sidx_stripe *s = &p->st[i];
            if (!s->tab)
                continue;
            if (ndt == cap) {
                size_t nc = cap ? cap * 2 : 64;
                struct detached *n2 = realloc(dt, nc * sizeof(*dt));
                if (!n2) {
                    /* no room to defer: drop the entries right here */
                    for (uint32_t k = 0; gone && k < s->cap; k++)
                        if (s->tab[k])
                            gone(ud, d, s->tab[k]);
                    free(s->tab);
                    goto reset;
                }
                dt = n2;
                cap = nc;
            }
            dt[ndt++] = (struct detached){.db = d, .tab = s->tab, .cap = s->cap};
reset:
            s->tab = NULL;
            s->nhome = 0;
            __atomic_store_n(&s->cap, 0, __ATOMIC_RELAXED);
            set_count(&s->count, 0);
            set_count(&s->nvol, 0);
        }
    }
    for (int d = hi; d >= lo; d--)
        if (x->dbs[d])
            unlock_all(x->dbs[d]);
    pthread_mutex_unlock(&x->dbs_lock);
    for (size_t i = 0; i < ndt; i++) {
        for (uint32_t k = 0; gone && k < dt[i].cap; k++)
            if (dt[i].tab[k])
                gone(ud, dt[i].db, dt[i].tab[k]);
        free(dt[i].tab);
    }
    free(dt);
    return rc;
}

int sidx_check(struct sidx *x)
{
    for (unsigned d = 0; d < x->databases; d++) {
        for (unsigned i = 0; i < SIDX_STRIPES && db_get(x, (int)d); i++) {
            struct sidx_stripe *s = lock_idx(x, (int)d, i, 0);
            uint32_t n = 0, v = 0, prev_fp = 0;
            int ok = 1;
            if (!s)
                break;
            for (uint32_t p = 0; s->tab && p < s->cap && ok; p++) {
                uint64_t e = s->tab[p];
                if (!e)
                    continue;
                uint32_t fp = sidx_ent_fp(e), h = home_of(s, fp);
                if (fp < prev_fp || h > p)
                    ok = 0;
                for (uint32_t k = h; k < p && ok; k++)
                    if (!s->tab[k])
                        ok = 0;
                prev_fp = fp;
                n++;
                v += (uint32_t)sidx_ent_ttl(e);
            }
            if (n != s->count || v != s->nvol || (s->tab && (uint64_t)s->count * 8 > (uint64_t)s->nhome * 7 + 8))
                ok = 0;
            sidx_unlock(s);
            if (!ok)
                return ST_ECORRUPT;
        }
    }
    return ST_OK;
}
