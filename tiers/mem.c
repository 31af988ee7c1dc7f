/*
 * mem.c -- the heap tier (engine/tier.h): every record a malloc'd copy of its
 * encoded bytes, in a growable slot array. It exists so the tiering code
 * (demotion, promotion, the all-cold test configuration) runs and is tested
 * without PMem, and as the simplest reference implementation of the
 * interface. Nothing it holds survives the process.
 *
 * Data model:
 *
 *   slots[0 .. nslots)   struct mslot { unsigned char *buf; size_t len; }
 *     live slot:  buf = the encoded record (tier_rec_encode layout, len bytes)
 *     free slot:  buf = NULL, len = index of the next free slot + 1 (0: none)
 *   free_head            first free slot + 1 (0: none)
 *   dicts[0 .. ndicts)   { id, len, bytes } malloc'd copies
 *
 * A record's hint is its slot index. Slots are reused (LIFO), so a stale hint
 * may name a slot now holding another record: get/del compare the stored
 * record's key and generation with the caller's before believing it.
 *
 * Invariants:
 *  1. Every live slot's buffer decoded as one whole record when it was put
 *     (tier_rec_decode with used == len), so its header fields can be read
 *     directly; get still runs the full decode (CRC) on the copy it returns.
 *  2. st.records / raw_bytes / stored_bytes / used_bytes are the sums over
 *     live slots of 1 / rawlen / vlen / len, at every unlock.
 *  3. capacity > 0 implies st.used_bytes <= capacity.
 *
 * Threads: one mutex (lock) guards everything in struct mtier below it; any
 * thread may call any operation. Copies returned to callers are made under
 * the lock; CRC checks and callbacks run outside it.
 *
 * Durability: none.
 */
#include "tiers/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"

struct mslot {
    unsigned char *buf;
    size_t len;
};

struct mdict {
    uint32_t id;
    size_t len;
    unsigned char *bytes;
};

struct mtier {
    struct tier base;
    uint64_t capacity; /* immutable after create */
    pthread_mutex_t lock;
    /* everything below: guarded by lock */
    struct mslot *slots;
    uint64_t nslots, slots_cap;
    uint64_t free_head;
    struct mdict *dicts;
    size_t ndicts, dicts_cap;
    uint64_t dict_bytes;
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

/* The live slot at hint holding key/gen, or NULL. Caller holds lock. */
static struct mslot *find_locked(struct mtier *m, const char *key, size_t klen, uint64_t gen, uint64_t hint)
{
    if ((!key && klen) || hint >= m->nslots || !m->slots[hint].buf)
        return NULL;
    struct mslot *s = &m->slots[hint];
    /* invariant 1: the header is whole, klen fits in len */
    if (rd64(s->buf + 8) != gen || rd32(s->buf + 24) != klen)
        return NULL;
    if (klen && memcmp(s->buf + TIER_REC_HDR, key, klen) != 0)
        return NULL;
    return s;
}

static int mem_put(struct tier *t, const void *rec, size_t len, uint64_t *hint, const struct tier_io *io)
{
    struct mtier *m = (struct mtier *)t;
    struct tier_rec r;
    size_t used;
    unsigned char *copy = NULL;
    int rc;

    (void)io;
    if (!rec || tier_rec_decode(rec, len, &r, &used) != ST_OK || used != len) {
        rc = ST_EINVAL;
        goto count;
    }
    copy = malloc(len);
    if (!copy) {
        rc = ST_EFULL;
        goto count;
    }
    memcpy(copy, rec, len);

    pthread_mutex_lock(&m->lock);
    if (m->capacity && (len > m->capacity || m->st.used_bytes > m->capacity - len)) {
        rc = ST_EFULL;
        goto unlock;
    }
    uint64_t idx;
    if (m->free_head) {
        idx = m->free_head - 1;
        m->free_head = m->slots[idx].len;
    } else {
        if (m->nslots == m->slots_cap) {
            uint64_t ncap = m->slots_cap ? m->slots_cap * 2 : 64;
            struct mslot *ns = realloc(m->slots, ncap * sizeof(*ns));
            if (!ns) {
                rc = ST_EFULL;
                goto unlock;
            }
            m->slots = ns;
            m->slots_cap = ncap;
        }
        idx = m->nslots++;
    }
    m->slots[idx].buf = copy;
    m->slots[idx].len = len;
    copy = NULL;
    m->st.records++;
    m->st.raw_bytes += r.rawlen;
    m->st.stored_bytes += r.vlen;
    m->st.used_bytes += len;
    m->st.puts++;
    *hint = idx;
    pthread_mutex_unlock(&m->lock);
    return ST_OK;

unlock:
    m->st.puts++;
    m->st.put_fails++;
    pthread_mutex_unlock(&m->lock);
    free(copy);
    return rc;
count:
    pthread_mutex_lock(&m->lock);
    m->st.puts++;
    m->st.put_fails++;
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int mem_get(struct tier *t, const char *key, size_t klen, uint64_t gen, uint64_t hint, void **buf,
                   size_t *len, const struct tier_io *io)
{
    struct mtier *m = (struct mtier *)t;
    unsigned char *copy = NULL;
    size_t n = 0;
    int rc;

    (void)io;
    pthread_mutex_lock(&m->lock);
    m->st.gets++;
    struct mslot *s = find_locked(m, key, klen, gen, hint);
    if (!s) {
        m->st.misses++;
        pthread_mutex_unlock(&m->lock);
        return ST_ENOENT;
    }
    n = s->len;
    copy = malloc(n);
    if (!copy) {
        m->st.misses++;
        pthread_mutex_unlock(&m->lock);
        return ST_ENOMEM;
    }
    memcpy(copy, s->buf, n);
    pthread_mutex_unlock(&m->lock);

    struct tier_rec r;
    size_t used;
    rc = tier_rec_decode(copy, n, &r, &used);
    if (rc == ST_OK && (used != n || r.gen != gen || r.klen != klen || memcmp(r.key, key, klen) != 0))
        rc = ST_ECORRUPT;
    pthread_mutex_lock(&m->lock);
    if (rc == ST_OK) {
        m->st.hits++;
    } else {
        m->st.misses++;
        m->st.errors++;
    }
    pthread_mutex_unlock(&m->lock);
    if (rc != ST_OK) {
        free(copy);
        return rc;
    }
    *buf = copy;
    *len = n;
    return ST_OK;
}

/* Frees the live slot idx and updates the sums. Caller holds lock. */
static void drop_locked(struct mtier *m, uint64_t idx)
{
    struct mslot *s = &m->slots[idx];
    m->st.records--;
    m->st.raw_bytes -= rd32(s->buf + 32);
    m->st.stored_bytes -= rd32(s->buf + 28);
    m->st.used_bytes -= s->len;
    free(s->buf);
    s->buf = NULL;
    s->len = m->free_head;
    m->free_head = idx + 1;
}

static int mem_del(struct tier *t, const char *key, size_t klen, uint64_t gen, uint64_t hint)
{
    struct mtier *m = (struct mtier *)t;
    int rc = ST_ENOENT;

    pthread_mutex_lock(&m->lock);
    if (find_locked(m, key, klen, gen, hint)) {
        drop_locked(m, hint);
        m->st.dels++;
        rc = ST_OK;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static void free_dicts_locked(struct mtier *m)
{
    for (size_t i = 0; i < m->ndicts; i++)
        free(m->dicts[i].bytes);
    free(m->dicts);
    m->dicts = NULL;
    m->ndicts = m->dicts_cap = 0;
    m->dict_bytes = 0;
}

static int mem_clear(struct tier *t, int with_dicts)
{
    struct mtier *m = (struct mtier *)t;

    pthread_mutex_lock(&m->lock);
    for (uint64_t i = 0; i < m->nslots; i++)
        free(m->slots[i].buf);
    free(m->slots);
    m->slots = NULL;
    m->nslots = m->slots_cap = 0;
    m->free_head = 0;
    m->st.records = m->st.raw_bytes = m->st.stored_bytes = m->st.used_bytes = 0;
    if (with_dicts)
        free_dicts_locked(m);
    pthread_mutex_unlock(&m->lock);
    return ST_OK;
}

static int mem_iterate(struct tier *t, tier_visit_fn *fn, void *ud)
{
    struct mtier *m = (struct mtier *)t;
    unsigned char *buf = NULL;
    size_t bufcap = 0;
    int rc = 0;

    for (uint64_t i = 0;; i++) {
        size_t n;

        pthread_mutex_lock(&m->lock);
        while (i < m->nslots && !m->slots[i].buf)
            i++;
        if (i >= m->nslots) {
            pthread_mutex_unlock(&m->lock);
            break;
        }
        n = m->slots[i].len;
        if (n > bufcap) {
            unsigned char *nb = realloc(buf, n);
            if (!nb) {
                pthread_mutex_unlock(&m->lock);
                rc = ST_ENOMEM;
                break;
            }
            buf = nb;
            bufcap = n;
        }
        memcpy(buf, m->slots[i].buf, n);
        pthread_mutex_unlock(&m->lock);

        struct tier_rec r;
        if (tier_rec_decode(buf, n, &r, NULL) != ST_OK) {
            pthread_mutex_lock(&m->lock);
            m->st.errors++;
            pthread_mutex_unlock(&m->lock);
            continue;
        }
        rc = fn(ud, buf, n, i);
        if (rc)
            break;
    }
    free(buf);
    return rc;
}

static int mem_put_dict(struct tier *t, uint32_t id, const void *dict, size_t len)
{
    struct mtier *m = (struct mtier *)t;
    unsigned char *copy;
    int rc = ST_OK;

    if (id == 0 || (len && !dict))
        return ST_EINVAL;
    copy = malloc(len ? len : 1);
    if (!copy)
        return ST_ENOMEM;
    if (len)
        memcpy(copy, dict, len);
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->ndicts; i++) {
        if (m->dicts[i].id == id) {
            rc = ST_EEXIST;
            goto unlock;
        }
    }
    if (m->ndicts == m->dicts_cap) {
        size_t ncap = m->dicts_cap ? m->dicts_cap * 2 : 4;
        struct mdict *nd = realloc(m->dicts, ncap * sizeof(*nd));
        if (!nd) {
            rc = ST_ENOMEM;
            goto unlock;
        }
        m->dicts = nd;
        m->dicts_cap = ncap;
    }
    m->dicts[m->ndicts].id = id;
    m->dicts[m->ndicts].len = len;
    m->dicts[m->ndicts].bytes = copy;
    m->ndicts++;
    m->dict_bytes += len;
    copy = NULL;
unlock:
    pthread_mutex_unlock(&m->lock);
    free(copy);
    return rc;
}

static int mem_each_dict(struct tier *t, int (*fn)(void *ud, uint32_t id, const void *dict, size_t len), void *ud)
{
    struct mtier *m = (struct mtier *)t;
    int rc = 0;

    for (size_t i = 0;; i++) {
        uint32_t id;
        size_t len;
        unsigned char *copy;

        pthread_mutex_lock(&m->lock);
        if (i >= m->ndicts) {
            pthread_mutex_unlock(&m->lock);
            break;
        }
        id = m->dicts[i].id;
        len = m->dicts[i].len;
        copy = malloc(len ? len : 1);
        if (copy && len)
            memcpy(copy, m->dicts[i].bytes, len);
        pthread_mutex_unlock(&m->lock);
        if (!copy)
            return ST_ENOMEM;
        rc = fn(ud, id, copy, len);
        free(copy);
        if (rc)
            break;
    }
    return rc;
}

static void mem_stats(struct tier *t, struct tier_stats *out)
{
    struct mtier *m = (struct mtier *)t;

    pthread_mutex_lock(&m->lock);
    *out = m->st;
    pthread_mutex_unlock(&m->lock);
}

static uint64_t mem_heap_bytes(struct tier *t)
{
    struct mtier *m = (struct mtier *)t;
    uint64_t n;

    pthread_mutex_lock(&m->lock);
    n = m->st.used_bytes + m->dict_bytes;
    pthread_mutex_unlock(&m->lock);
    return n;
}

static void mem_destroy(struct tier *t)
{
    struct mtier *m = (struct mtier *)t;

    mem_clear(t, 1);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static const struct tier_ops mem_ops = {
    .put = mem_put,
    .get = mem_get,
    .del = mem_del,
    .clear = mem_clear,
    .iterate = mem_iterate,
    .put_dict = mem_put_dict,
    .each_dict = mem_each_dict,
    .stats = mem_stats,
    .heap_bytes = mem_heap_bytes,
    .destroy = mem_destroy,
};

int mtier_create(const struct mtier_conf *conf, struct tier **out)
{
    struct mtier *m = calloc(1, sizeof(*m));

    if (!m)
        return ST_ENOMEM;
    m->base.ops = &mem_ops;
    m->base.name = "mem";
    m->capacity = conf ? conf->capacity_bytes : 0;
    m->st.capacity_bytes = m->capacity;
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return ST_ENOMEM;
    }
    *out = &m->base;
    return ST_OK;
}
