/*
 * memidx.c -- the indexed heap tier (contract in memidx.h): the simplest
 * correct implementation of engine/tier.h's indexed interface.
 *
 * Data model (all in the process heap):
 *
 *   slots[0 .. nslots)  struct mxslot: a record copy (rec, len), its db, key
 *                       hash, version, and two links: `next` chains slots of
 *                       one bucket, `free_next` the free list (index + 1)
 *   buckets[0 .. nb)    head of each chain (slot index + 1, 0 = empty);
 *                       bucket = hash & (nb - 1), the hash covering db and key
 *   per-db counts       keys and keys with an expiry
 *
 * loc = (slot index + 1) | (version << 32). A rewrite of a key keeps its
 * slot and moves the version on; a removed slot's version moves on too. So
 * a loc handed out for an earlier record is never current again, while
 * fetch_at of it still finds a rewritten key's record in its slot.
 *
 * Invariants:
 *  1. A live slot's rec decoded as one whole record when it was inserted, so
 *     its header is read directly; a fetch still runs the full decode on the
 *     copy it hands out.
 *  2. At most one live slot per (db, key): insert replaces in place.
 *  3. st and the per-db counts are the sums over live slots at every unlock.
 *  4. Records whose expiry passed are dropped by the reader thread when it is
 *     idle (every 100 ms, EXPIRE_STEP slots a time): the tier's own active
 *     expiry, counted in st.expired.
 *
 * Threads: one mutex (lock) guards everything below it in struct mxtier.
 * The reader thread takes queued fetches in order, waits until each is due
 * (delay_us), answers it under the lock and calls done without the lock.
 * Destroy stops the thread after the queue is empty: every done runs once.
 *
 * Durability: none.
 */
#include "tiers/memidx.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/err.h"
#include "engine/ht.h"
#include "engine/keyspace.h"
#include "engine/util.h"

#define MX_SEED 0x6d656d6964785f31ull /* fixed: the index is never persisted */

struct mxslot {
    unsigned char *rec; /* NULL: free */
    size_t len;
    uint64_t seq;       /* tier_index_ops seq_now */
    uint64_t hash;
    uint32_t version;
    uint32_t next;      /* chain: slot index + 1 */
    uint32_t free_next; /* free list: slot index + 1 */
    int db;
};

struct mxdict {
    uint32_t id;
    size_t len;
    unsigned char *bytes;
};

struct mxq {
    struct tier_req *r;
    int at; /* fetch_at */
    uint64_t due_ns;
    struct mxq *next;
};

struct mxdb {
    uint64_t keys, volatile_keys;
};

struct mxtier {
    struct tier base;
    uint64_t capacity;  /* immutable */
    unsigned databases; /* immutable */
    uint32_t delay_us;  /* immutable */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    /* below: lock */
    struct mxslot *slots;
    uint32_t nslots, slots_cap, free_head;
    uint32_t *buckets;
    uint32_t nb;
    uint64_t live;
    struct mxdb *dbs;
    struct mxdict *dicts;
    size_t ndicts;
    uint64_t dict_bytes;
    uint64_t seq;       /* the last sequence handed out */
    struct mxq *qhead, *qtail;
    unsigned inflight; /* queued or being answered */
    uint32_t expire_cursor;
    int stop;
    struct tier_stats st;
};

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint64_t key_hash(int db, const char *key, size_t klen)
{
    return ht_hash(MX_SEED ^ ((uint64_t)(unsigned)db * 0x9E3779B97F4A7C15ull), key, klen);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int rec_expiring(const unsigned char *rec)
{
    return (int64_t)rd64(rec + 16) >= 0;
}

static uint32_t rec_rawlen(const unsigned char *rec)
{
    return rd32(rec + 32);
}

static uint32_t rec_vlen(const unsigned char *rec)
{
    return rd32(rec + 28);
}

static uint64_t slot_loc(const struct mxtier *m, uint32_t i)
{
    return (uint64_t)(i + 1) | (uint64_t)m->slots[i].version << 32;
}

/* The live slot of (db, key), or -1; *link gets the chain link to it. */
static int64_t find_locked(struct mxtier *m, int db, const char *key, size_t klen, uint64_t h, uint32_t **link)
{
    if (!m->nb)
        return -1;
    uint32_t *l = &m->buckets[h & (m->nb - 1)];
    while (*l) {
        struct mxslot *s = &m->slots[*l - 1];
        if (s->hash == h && s->db == db && rd32(s->rec + 24) == klen &&
            memcmp(s->rec + TIER_REC_HDR, key, klen) == 0) {
            if (link)
                *link = l;
            return (int64_t)(*l - 1);
        }
        l = &s->next;
    }
    return -1;
}

static void account_locked(struct mxtier *m, const struct mxslot *s, int sign)
{
    int64_t d = sign;
    m->st.records += (uint64_t)d;
    m->st.raw_bytes += (uint64_t)(d * (int64_t)rec_rawlen(s->rec));
    m->st.stored_bytes += (uint64_t)(d * (int64_t)rec_vlen(s->rec));
    m->st.used_bytes += (uint64_t)(d * (int64_t)s->len);
    m->dbs[s->db].keys += (uint64_t)d;
    if (rec_expiring(s->rec))
        m->dbs[s->db].volatile_keys += (uint64_t)d;
}

/* Unlinks and frees slot i (link is its chain link). */
static void drop_locked(struct mxtier *m, uint32_t i, uint32_t *link)
{
    struct mxslot *s = &m->slots[i];
    account_locked(m, s, -1);
    *link = s->next;
    free(s->rec);
    s->rec = NULL;
    s->len = 0;
    s->version++;
    s->next = 0;
    s->free_next = m->free_head;
    m->free_head = i + 1;
    m->live--;
}

static int grow_buckets_locked(struct mxtier *m)
{
    uint32_t nb = m->nb ? m->nb * 2 : 1024;
    uint32_t *b = calloc(nb, sizeof(*b));
    if (!b)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < m->nslots; i++) {
        struct mxslot *s = &m->slots[i];
        if (!s->rec)
            continue;
        uint32_t *head = &b[s->hash & (nb - 1)];
        s->next = *head;
        *head = i + 1;
    }
    free(m->buckets);
    m->buckets = b;
    m->nb = nb;
    return ST_OK;
}

static int mx_insert(struct tier *t, int db, const void *rec, size_t len, uint64_t *loc)
{
    struct mxtier *m = (struct mxtier *)t;
    struct tier_rec r;
    size_t used = 0;
    if (db < 0 || (unsigned)db >= m->databases || tier_rec_decode(rec, len, &r, &used) != ST_OK || used != len)
        return ST_EINVAL;
    unsigned char *copy = malloc(len);
    if (!copy)
        return ST_EFULL;
    memcpy(copy, rec, len);
    uint64_t h = key_hash(db, r.key, r.klen);
    int rc = ST_OK;
    pthread_mutex_lock(&m->lock);
    m->st.puts++;
    uint32_t *link = NULL;
    int64_t old = find_locked(m, db, r.key, r.klen, h, &link);
    uint64_t old_len = old >= 0 ? m->slots[old].len : 0;
    if (m->capacity && m->st.used_bytes - old_len + len > m->capacity) {
        rc = ST_EFULL;
        goto fail;
    }
    if (old >= 0) {
        /* a rewrite keeps its slot (and so its bucket and its SCAN position):
         * the version moves on, so the old loc stops being current */
        struct mxslot *os = &m->slots[old];
        account_locked(m, os, -1);
        free(os->rec);
        os->rec = copy;
        os->len = len;
        os->seq = ++m->seq;
        os->version++;
        account_locked(m, os, 1);
        *loc = slot_loc(m, (uint32_t)old);
        pthread_mutex_unlock(&m->lock);
        return ST_OK;
    }
    if (m->live + 1 > m->nb && grow_buckets_locked(m) != ST_OK) {
        rc = ST_EFULL;
        goto fail;
    }
    uint32_t i;
    if (m->free_head) {
        i = m->free_head - 1;
        m->free_head = m->slots[i].free_next;
    } else {
        if (m->nslots == m->slots_cap) {
            uint32_t ncap = m->slots_cap ? m->slots_cap * 2 : 1024;
            struct mxslot *ns = realloc(m->slots, (size_t)ncap * sizeof(*ns));
            if (!ns) {
                rc = ST_EFULL;
                goto fail;
            }
            m->slots = ns;
            m->slots_cap = ncap;
        }
        i = m->nslots++;
        memset(&m->slots[i], 0, sizeof(m->slots[i]));
    }
    struct mxslot *s = &m->slots[i];
    s->rec = copy;
    s->len = len;
    s->seq = ++m->seq;
    s->hash = h;
    s->db = db;
    s->free_next = 0;
    uint32_t *head = &m->buckets[h & (m->nb - 1)];
    s->next = *head;
    *head = i + 1;
    m->live++;
    account_locked(m, s, 1);
    *loc = slot_loc(m, i);
    pthread_mutex_unlock(&m->lock);
    return ST_OK;
fail:
    m->st.put_fails++;
    pthread_mutex_unlock(&m->lock);
    free(copy);
    return rc;
}

static int mx_probe(struct tier *t, int db, const char *key, size_t klen)
{
    struct mxtier *m = (struct mxtier *)t;
    if (db < 0 || (unsigned)db >= m->databases)
        return 0;
    uint64_t h = key_hash(db, key, klen);
    pthread_mutex_lock(&m->lock);
    int found = m->nb && find_locked(m, db, key, klen, h, NULL) >= 0;
    pthread_mutex_unlock(&m->lock);
    return found;
}

/* Answers r now (under no lock of the caller's): fills rc, buf, len, loc. */
static void answer(struct mxtier *m, struct tier_req *r, int at)
{
    r->buf = NULL;
    r->len = 0;
    pthread_mutex_lock(&m->lock);
    m->st.gets++;
    int64_t i = -1;
    if (r->db >= 0 && (unsigned)r->db < m->databases && m->nb) {
        if (at) {
            /* a rewrite keeps the slot: a live slot of the same db answers
             * with the record it holds now (tier.h fetch_at) */
            uint64_t idx = r->loc & 0xffffffffu;
            i = idx >= 1 && idx <= m->nslots && m->slots[idx - 1].rec && m->slots[idx - 1].db == r->db
                    ? (int64_t)(idx - 1)
                    : -1;
        } else {
            i = find_locked(m, r->db, r->key, r->klen, key_hash(r->db, r->key, r->klen), NULL);
        }
    }
    void *copy = NULL;
    size_t len = 0;
    if (i >= 0) {
        len = m->slots[i].len;
        copy = malloc(len);
        if (copy) {
            memcpy(copy, m->slots[i].rec, len);
            r->loc = slot_loc(m, (uint32_t)i);
            r->seq = m->slots[i].seq;
        }
    }
    if (copy)
        m->st.hits++;
    else
        m->st.misses++;
    pthread_mutex_unlock(&m->lock);
    if (i >= 0 && !copy) {
        r->rc = ST_EIO;
        return;
    }
    if (!copy) {
        r->rc = ST_ENOENT;
        return;
    }
    struct tier_rec dec;
    size_t used = 0;
    if (tier_rec_decode(copy, len, &dec, &used) != ST_OK ||
        (!at && (dec.klen != r->klen || memcmp(dec.key, r->key, r->klen) != 0))) {
        free(copy);
        pthread_mutex_lock(&m->lock);
        m->st.errors++;
        pthread_mutex_unlock(&m->lock);
        r->rc = ST_ECORRUPT;
        return;
    }
    r->rc = ST_OK;
    r->buf = copy;
    r->len = len;
}

static int queue(struct mxtier *m, struct tier_req *r, int at)
{
    struct mxq *q = malloc(sizeof(*q));
    if (!q)
        return ST_ENOMEM;
    q->r = r;
    q->at = at;
    q->due_ns = now_ns() + (uint64_t)m->delay_us * 1000u;
    q->next = NULL;
    pthread_mutex_lock(&m->lock);
    if (m->qtail)
        m->qtail->next = q;
    else
        m->qhead = q;
    m->qtail = q;
    m->inflight++;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    return ST_EPENDING;
}

static int mx_fetch(struct tier *t, struct tier_req *r)
{
    struct mxtier *m = (struct mxtier *)t;
    if (r->done) {
        int rc = queue(m, r, 0);
        if (rc == ST_EPENDING)
            return rc;
    }
    answer(m, r, 0);
    return r->rc;
}

static int mx_fetch_at(struct tier *t, struct tier_req *r)
{
    struct mxtier *m = (struct mxtier *)t;
    if (r->done) {
        int rc = queue(m, r, 1);
        if (rc == ST_EPENDING)
            return rc;
    }
    answer(m, r, 1);
    return r->rc;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Active expiry: drops records whose expiry passed, up to EXPIRE_STEP slots
 * per call from a rotating cursor. Caller holds lock. */
#define EXPIRE_STEP 4096
static void expire_locked(struct mxtier *m)
{
    int64_t now = wall_ms();
    for (uint32_t n = 0; n < EXPIRE_STEP && m->nslots; n++) {
        uint32_t i = m->expire_cursor++ % m->nslots;
        struct mxslot *s = &m->slots[i];
        if (!s->rec || !rec_expiring(s->rec) || (int64_t)rd64(s->rec + 16) > now)
            continue;
        uint32_t *link = NULL;
        if (find_locked(m, s->db, (const char *)s->rec + TIER_REC_HDR, rd32(s->rec + 24), s->hash, &link) == (int64_t)i) {
            drop_locked(m, i, link);
            m->st.expired++;
        }
    }
}

static void *reader_main(void *arg)
{
    struct mxtier *m = arg;
    pthread_mutex_lock(&m->lock);
    for (;;) {
        while (!m->qhead && !m->stop) {
            struct timespec until;
            util_deadline(&until, 100);
            if (pthread_cond_timedwait(&m->cond, &m->lock, &until) != 0)
                expire_locked(m); /* every 100 ms while idle */
        }
        struct mxq *q = m->qhead;
        if (!q)
            break; /* stop with nothing queued */
        m->qhead = q->next;
        if (!m->qhead)
            m->qtail = NULL;
        pthread_mutex_unlock(&m->lock);
        uint64_t now = now_ns();
        if (q->due_ns > now && !m->stop) {
            struct timespec d = { .tv_sec = (time_t)((q->due_ns - now) / 1000000000u),
                                  .tv_nsec = (long)((q->due_ns - now) % 1000000000u) };
            nanosleep(&d, NULL);
        }
        answer(m, q->r, q->at);
        q->r->done(q->r);
        free(q);
        pthread_mutex_lock(&m->lock);
        if (--m->inflight == 0)
            pthread_cond_broadcast(&m->cond);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

static uint64_t mx_seq_now(struct tier *t)
{
    struct mxtier *m = (struct mxtier *)t;
    pthread_mutex_lock(&m->lock);
    uint64_t n = m->seq;
    pthread_mutex_unlock(&m->lock);
    return n;
}

static void mx_drain(struct tier *t)
{
    struct mxtier *m = (struct mxtier *)t;
    pthread_mutex_lock(&m->lock);
    while (m->inflight)
        pthread_cond_wait(&m->cond, &m->lock);
    pthread_mutex_unlock(&m->lock);
}

static int mx_current(struct tier *t, int db, const char *key, size_t klen, uint64_t loc)
{
    struct mxtier *m = (struct mxtier *)t;
    if (db < 0 || (unsigned)db >= m->databases)
        return 0;
    uint64_t h = key_hash(db, key, klen);
    pthread_mutex_lock(&m->lock);
    int64_t i = m->nb ? find_locked(m, db, key, klen, h, NULL) : -1;
    int cur = i >= 0 && slot_loc(m, (uint32_t)i) == loc;
    pthread_mutex_unlock(&m->lock);
    return cur;
}

static int mx_remove(struct tier *t, int db, const char *key, size_t klen, uint64_t loc)
{
    struct mxtier *m = (struct mxtier *)t;
    if (db < 0 || (unsigned)db >= m->databases)
        return ST_ENOENT;
    uint64_t h = key_hash(db, key, klen);
    int rc = ST_ENOENT;
    pthread_mutex_lock(&m->lock);
    uint32_t *link = NULL;
    int64_t i = m->nb ? find_locked(m, db, key, klen, h, &link) : -1;
    if (i >= 0 && slot_loc(m, (uint32_t)i) == loc) {
        drop_locked(m, (uint32_t)i, link);
        m->st.dels++;
        rc = ST_OK;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static void mx_db_counts(struct tier *t, int db, uint64_t *keys, uint64_t *volatile_keys)
{
    struct mxtier *m = (struct mxtier *)t;
    uint64_t k = 0, v = 0;
    pthread_mutex_lock(&m->lock);
    if (db >= 0 && (unsigned)db < m->databases) {
        k = m->dbs[db].keys;
        v = m->dbs[db].volatile_keys;
    }
    pthread_mutex_unlock(&m->lock);
    *keys = k;
    if (volatile_keys)
        *volatile_keys = v;
}

static uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((v & 0x0F0F0F0F0F0F0F0Full) << 4);
    v = ((v >> 8) & 0x00FF00FF00FF00FFull) | ((v & 0x00FF00FF00FF00FFull) << 8);
    v = ((v >> 16) & 0x0000FFFF0000FFFFull) | ((v & 0x0000FFFF0000FFFFull) << 16);
    return (v >> 32) | (v << 32);
}

/* Redis's reverse-binary cursor over the buckets: a record stays in the
 * bucket of its hash whatever slot it is in (a rewrite moves it to another
 * slot, never to another bucket), and the table only grows, so every record
 * indexed for the whole walk is returned at least once. Whole buckets are
 * visited while they fit in cap (at least one, truncated only if a single
 * chain is longer than cap). */
static uint64_t mx_scan(struct tier *t, int db, uint64_t cursor, uint64_t *locs, size_t cap, size_t *n)
{
    struct mxtier *m = (struct mxtier *)t;
    *n = 0;
    pthread_mutex_lock(&m->lock);
    if (!m->nb) {
        pthread_mutex_unlock(&m->lock);
        return 0;
    }
    uint64_t mask = m->nb - 1, v = cursor;
    int first = 1;
    do {
        size_t len = 0;
        for (uint32_t l = m->buckets[v & mask]; l; l = m->slots[l - 1].next)
            len += m->slots[l - 1].db == db;
        if (!first && *n + len > cap)
            break;
        for (uint32_t l = m->buckets[v & mask]; l && *n < cap; l = m->slots[l - 1].next)
            if (m->slots[l - 1].db == db)
                locs[(*n)++] = slot_loc(m, l - 1);
        first = 0;
        v |= ~mask;
        v = rev64(v);
        v++;
        v = rev64(v);
    } while (v != 0 && *n < cap);
    pthread_mutex_unlock(&m->lock);
    return v;
}

static int mx_random(struct tier *t, int db, uint64_t rnd, uint64_t *loc)
{
    struct mxtier *m = (struct mxtier *)t;
    int rc = ST_ENOENT;
    pthread_mutex_lock(&m->lock);
    if (db >= 0 && (unsigned)db < m->databases && m->dbs[db].keys > 0) {
        uint64_t want = rnd % m->dbs[db].keys;
        for (uint32_t i = 0; i < m->nslots; i++) {
            struct mxslot *s = &m->slots[i];
            if (!s->rec || s->db != db)
                continue;
            if (want-- == 0) {
                *loc = slot_loc(m, i);
                rc = ST_OK;
                break;
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mx_flushdb(struct tier *t, int db)
{
    struct mxtier *m = (struct mxtier *)t;
    pthread_mutex_lock(&m->lock);
    for (uint32_t b = 0; b < m->nb; b++) {
        uint32_t *link = &m->buckets[b];
        while (*link) {
            uint32_t i = *link - 1;
            if (db < 0 || m->slots[i].db == db)
                drop_locked(m, i, link);
            else
                link = &m->slots[i].next;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return ST_OK;
}

/* The hash covers db, so swapped slots are rehashed into their new chains. */
static int mx_swapdb(struct tier *t, int a, int b)
{
    struct mxtier *m = (struct mxtier *)t;
    if (a < 0 || b < 0 || (unsigned)a >= m->databases || (unsigned)b >= m->databases)
        return ST_EINVAL;
    pthread_mutex_lock(&m->lock);
    for (uint32_t i = 0; i < m->nslots; i++) {
        struct mxslot *s = &m->slots[i];
        if (!s->rec || (s->db != a && s->db != b))
            continue;
        s->db = s->db == a ? b : a;
        s->hash = key_hash(s->db, (const char *)s->rec + TIER_REC_HDR, rd32(s->rec + 24));
    }
    if (m->nb) {
        memset(m->buckets, 0, (size_t)m->nb * sizeof(*m->buckets));
        for (uint32_t i = 0; i < m->nslots; i++) {
            struct mxslot *s = &m->slots[i];
            if (!s->rec)
                continue;
            uint32_t *head = &m->buckets[s->hash & (m->nb - 1)];
            s->next = *head;
            *head = i + 1;
        }
    }
    struct mxdb tmp = m->dbs[a];
    m->dbs[a] = m->dbs[b];
    m->dbs[b] = tmp;
    pthread_mutex_unlock(&m->lock);
    return ST_OK;
}

/* Copies each record out under the lock and calls fn without it. */
static int mx_index_iterate(struct tier *t, int (*fn)(void *ud, int db, const void *rec, size_t len, uint64_t loc, uint64_t seq),
                            void *ud)
{
    struct mxtier *m = (struct mxtier *)t;
    for (uint32_t i = 0;; i++) {
        pthread_mutex_lock(&m->lock);
        while (i < m->nslots && !m->slots[i].rec)
            i++;
        if (i >= m->nslots) {
            pthread_mutex_unlock(&m->lock);
            return 0;
        }
        struct mxslot *s = &m->slots[i];
        size_t len = s->len;
        int db = s->db;
        uint64_t loc = slot_loc(m, i), seq = s->seq;
        void *copy = malloc(len);
        if (copy)
            memcpy(copy, s->rec, len);
        pthread_mutex_unlock(&m->lock);
        if (!copy)
            return ST_ENOMEM;
        int r = fn(ud, db, copy, len, loc, seq);
        free(copy);
        if (r)
            return r;
    }
}

/* ---- the base operations ---------------------------------------------- */

static int mx_put(struct tier *t, const void *rec, size_t len, uint64_t *hint, const struct tier_io *io)
{
    (void)t, (void)rec, (void)len, (void)hint, (void)io;
    return ST_EINVAL;
}

static int mx_get(struct tier *t, const char *key, size_t klen, uint64_t gen, uint64_t hint, void **buf, size_t *len,
                  const struct tier_io *io)
{
    (void)t, (void)key, (void)klen, (void)gen, (void)hint, (void)buf, (void)len, (void)io;
    return ST_EINVAL;
}

static int mx_del(struct tier *t, const char *key, size_t klen, uint64_t gen, uint64_t hint)
{
    (void)t, (void)key, (void)klen, (void)gen, (void)hint;
    return ST_EINVAL;
}

static int mx_iterate(struct tier *t, tier_visit_fn *fn, void *ud)
{
    (void)t, (void)fn, (void)ud;
    return ST_EINVAL;
}

static int mx_clear(struct tier *t, int with_dicts)
{
    struct mxtier *m = (struct mxtier *)t;
    mx_flushdb(t, -1);
    if (with_dicts) {
        pthread_mutex_lock(&m->lock);
        for (size_t i = 0; i < m->ndicts; i++)
            free(m->dicts[i].bytes);
        free(m->dicts);
        m->dicts = NULL;
        m->ndicts = 0;
        m->dict_bytes = 0;
        pthread_mutex_unlock(&m->lock);
    }
    return ST_OK;
}

static int mx_put_dict(struct tier *t, uint32_t id, const void *dict, size_t len)
{
    struct mxtier *m = (struct mxtier *)t;
    if (id == 0)
        return ST_EINVAL;
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy)
        return ST_ENOMEM;
    memcpy(copy, dict, len);
    int rc = ST_OK;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->ndicts; i++)
        if (m->dicts[i].id == id)
            rc = ST_EEXIST;
    if (rc == ST_OK) {
        struct mxdict *nd = realloc(m->dicts, (m->ndicts + 1) * sizeof(*nd));
        if (!nd) {
            rc = ST_ENOMEM;
        } else {
            m->dicts = nd;
            m->dicts[m->ndicts++] = (struct mxdict){ .id = id, .len = len, .bytes = copy };
            m->dict_bytes += len;
            copy = NULL;
        }
    }
    pthread_mutex_unlock(&m->lock);
    free(copy);
    return rc;
}

static int mx_each_dict(struct tier *t, int (*fn)(void *ud, uint32_t id, const void *dict, size_t len), void *ud)
{
    struct mxtier *m = (struct mxtier *)t;
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&m->lock);
        if (i >= m->ndicts) {
            pthread_mutex_unlock(&m->lock);
            return 0;
        }
        uint32_t id = m->dicts[i].id;
        size_t len = m->dicts[i].len;
        void *copy = malloc(len ? len : 1);
        if (copy)
            memcpy(copy, m->dicts[i].bytes, len);
        pthread_mutex_unlock(&m->lock);
        if (!copy)
            return ST_ENOMEM;
        int r = fn(ud, id, copy, len);
        free(copy);
        if (r)
            return r;
    }
}

static void mx_stats(struct tier *t, struct tier_stats *out)
{
    struct mxtier *m = (struct mxtier *)t;
    pthread_mutex_lock(&m->lock);
    *out = m->st;
    pthread_mutex_unlock(&m->lock);
    out->capacity_bytes = m->capacity;
}

static uint64_t mx_heap_bytes(struct tier *t)
{
    struct mxtier *m = (struct mxtier *)t;
    pthread_mutex_lock(&m->lock);
    uint64_t n = m->st.used_bytes + m->dict_bytes;
    pthread_mutex_unlock(&m->lock);
    return n;
}

static void mx_destroy(struct tier *t)
{
    struct mxtier *m = (struct mxtier *)t;
    pthread_mutex_lock(&m->lock);
    m->stop = 1;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    for (uint32_t i = 0; i < m->nslots; i++)
        free(m->slots[i].rec);
    free(m->slots);
    free(m->buckets);
    free(m->dbs);
    for (size_t i = 0; i < m->ndicts; i++)
        free(m->dicts[i].bytes);
    free(m->dicts);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static const struct tier_ops mx_ops = {
    .put = mx_put,
    .get = mx_get,
    .del = mx_del,
    .clear = mx_clear,
    .iterate = mx_iterate,
    .put_dict = mx_put_dict,
    .each_dict = mx_each_dict,
    .stats = mx_stats,
    .heap_bytes = mx_heap_bytes,
    .destroy = mx_destroy,
};

static const struct tier_index_ops mx_index_ops = {
    .insert = mx_insert,
    .probe = mx_probe,
    .fetch = mx_fetch,
    .fetch_at = mx_fetch_at,
    .current = mx_current,
    .remove = mx_remove,
    .db_counts = mx_db_counts,
    .scan = mx_scan,
    .random = mx_random,
    .flushdb = mx_flushdb,
    .swapdb = mx_swapdb,
    .iterate = mx_index_iterate,
    .seq_now = mx_seq_now,
    .drain = mx_drain,
};

int mxtier_create(const struct mxtier_conf *conf, struct tier **out)
{
    if (!conf || conf->databases < 1 || conf->databases > KS_MAX_DATABASES)
        return ST_EINVAL;
    struct mxtier *m = calloc(1, sizeof(*m));
    if (!m)
        return ST_ENOMEM;
    m->dbs = calloc(conf->databases, sizeof(*m->dbs));
    if (!m->dbs)
        goto free_m;
    m->capacity = conf->capacity_bytes;
    m->databases = conf->databases;
    m->delay_us = conf->delay_us;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    m->base.ops = &mx_ops;
    m->base.index = &mx_index_ops;
    m->base.name = "memidx";
    if (pthread_create(&m->thread, NULL, reader_main, m) != 0)
        goto free_sync;
    *out = &m->base;
    return ST_OK;
free_sync:
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    free(m->dbs);
free_m:
    free(m);
    return ST_ENOMEM;
}
