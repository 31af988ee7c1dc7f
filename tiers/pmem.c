/*
 * pmem.c -- the PMem tier (engine/tier.h) on a libpmemobj pool (PMDK 1.12,
 * Debian's libpmemobj-dev): one persistent object per record, allocated with
 * libpmemobj's atomic API so that a process killed at any instant leaves a
 * pool that opens, passes pmemobj_check and holds only whole records
 * (issue 4, DESIGN.md invariant 3).
 *
 * What it owns: the pool file, the record and dictionary objects in it, the
 * DRAM counters about them. Not the records' meaning (the engine's), not an
 * index by key (the engine keeps each cold key's hint in its stub).
 *
 * Pool layout. Layout name "strata-ptier-1" (PTIER_LAYOUT). No root object.
 * Objects by type number:
 *
 *   type 1 (TYPE_REC) -- one record, exactly the bytes tier_rec_encode wrote
 *                        (layout in engine/tier.h / engine/tier.c):
 *     0   4  magic "STR1" -- 0 once a delete has started (invariant 3)
 *     4   4  crc          CRC32C of [8, 44 + klen + vlen)
 *     8  36  gen, expire_ms, klen, vlen, rawlen, dict_id, type, flags, 0
 *     44  .. key, value
 *   type 2 (TYPE_DICT) -- one compression dictionary:
 *     0   4  magic "STD1" (0x31445453 as a little-endian u32)
 *     4   4  crc          CRC32C of [8, 16 + len)
 *     8   4  id           > 0, unique in the pool
 *     12  4  len
 *     16  len dictionary bytes
 *
 * Each object sits behind libpmemobj's 16-byte allocation header; the object
 * offset (PMEMoid.off, relative to the pool's base) is the record's hint and
 * is always 16-aligned.
 *
 * Invariants:
 *  1. Crash consistency comes from pmemobj_alloc: the constructor copies and
 *     persists the whole object before libpmemobj publishes the allocation
 *     (its redo log), so after a crash an object either exists whole or not
 *     at all. Nothing else in the pool changes on put.
 *  2. Inside the constructor the magic is stored last (release), so a reader
 *     in this process that sees the magic of a record object sees the rest.
 *  3. Delete = store 0 to the magic, persist, then pmemobj_free. A crash in
 *     between leaves an allocated record with magic 0: open frees it. A
 *     stale hint to a freed record reads magic 0 (or, once the space is
 *     reused, a record of another key/gen or bytes that fail the CRC; a
 *     stale hint into space a concurrent put is filling can read as
 *     damaged, ST_ECORRUPT -- never as a value).
 *  4. Reads through a hint never leave [base, base + pool_size): the hint is
 *     checked against the pool, the record's claimed length against what
 *     remains of the pool, before a byte past the header is read.
 *  5. After open every record object in the pool decodes (damaged ones are
 *     logged, counted and freed), and the counters equal the sums over them.
 *  6. del frees only what is, in place, a whole record (magic, key, gen,
 *     CRC) that the allocator reports as a record object at least that big.
 *     A hint the tier never handed out could still name a forged record
 *     embedded in another record's value; only the engine hands out hints,
 *     and it must not keep one past the record's delete.
 *  7. A pool is created under "<path>.new" and renamed into place once
 *     libpmemobj has finished it: a crash during creation leaves no file at
 *     path (the next start creates the pool again), never half a pool.
 *
 * Threads and locks (any operation from any thread):
 *  - heap_lock (rwlock, writer-preferring): read-held around every
 *    libpmemobj alloc and free (put, del, put_dict); write-held by each step
 *    of a walk (pmemobj_first/next, which read the allocator's metadata) and
 *    by clear. So walks never race the allocator.
 *  - stripes[64] (mutexes, by hint): get and del of one hint serialise, so a
 *    record cannot be freed (and its space reused) while get copies it.
 *  - pins (list, guarded by heap_lock): the object a walk stands on between
 *    steps. A del of a pinned record zeroes its magic and counts it deleted
 *    but leaves the free to the walk (pmemobj_next needs an allocated
 *    object to step from).
 *  - dict_lock: the DRAM index of dictionaries.
 *  - the counters (st) are relaxed atomics, no lock: every get, put and del
 *    bumps a few, from every worker. The content sums (records, raw, stored,
 *    used bytes) change only while heap_lock is held (read by put/del,
 *    write by clear), so clear's reset cannot interleave with an update.
 *  Lock order: heap_lock -> stripe -> dict_lock.
 *
 * Durability: when put (or put_dict) returns ST_OK the object is persistent;
 * when del returns ST_OK the record is gone or (crash) has magic 0. The
 * counters are DRAM only, rebuilt at open.
 *
 * Failure: an unexpected libpmemobj error (anything but ENOMEM from an
 * allocation) enters the sticky failed state: puts answer ST_EIO, gets and
 * dels go on, stats.failed = 1.
 *
 * Without real PMem the pool is an ordinary file; tests put it on tmpfs with
 * PMEM_IS_PMEM_FORCE=1 and PMEMOBJ_CONF="sds.at_create=0" (DESIGN.md §2).
 *
 * References: pmemobj_alloc(3), pmemobj_first(3) (POBJ_FOREACH_SAFE: free
 * the current object after computing the next), pmemobj_open(3).
 */
#include "tiers/pmem.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libpmemobj.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/crc32c.h"
#include "engine/err.h"

#define TYPE_REC 1
#define TYPE_DICT 2
#define ALLOC_HDR 16         /* libpmemobj's compact allocation header */
#define HINT_ALIGN 16        /* every object offset is a multiple of this */
#define HINT_MIN 4096        /* the pool header: no object starts below */
#define DICT_MAGIC 0x31445453u /* "STD1" */
#define DICT_HDR 16
#define NSTRIPES 64

struct pin {
    uint64_t off;
    int freed; /* a del found it pinned: the walk frees it */
    struct pin *next;
};

struct pdict {
    uint32_t id;
    uint32_t len;
    uint64_t off;
};

struct ptier {
    struct tier base;
    /* immutable after create */
    PMEMobjpool *pop;
    unsigned char *pool; /* == pop: offsets are relative to it */
    uint64_t pool_size;
    uint64_t uuid_lo; /* the pool's id in every PMEMoid */
    void (*log)(void *ud, int level, const char *msg);
    void *log_ud;

    pthread_rwlock_t heap_lock;
    pthread_mutex_t stripes[NSTRIPES];
    struct pin *pins; /* heap_lock: changed write-held, read read-held */

    pthread_mutex_t dict_lock;
    struct pdict *dicts; /* dict_lock */
    size_t ndicts, dicts_cap;

    struct tier_stats st; /* relaxed atomics (sums: under heap_lock too) */
};

/* ---- helpers ------------------------------------------------------------ */

static void plog(struct ptier *p, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void plog(struct ptier *p, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!p->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->log(p->log_ud, level, msg);
}

static uint32_t rd32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t rd64(const unsigned char *b)
{
    return (uint64_t)rd32(b) | (uint64_t)rd32(b + 4) << 32;
}

static void wr32(unsigned char *b, uint32_t v)
{
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
}

/* The magic at an object's start (16-aligned), with acquire (invariant 2). */
static uint32_t load_magic(const unsigned char *obj)
{
    return le32toh(__atomic_load_n((const uint32_t *)(const void *)obj, __ATOMIC_ACQUIRE));
}

static pthread_mutex_t *stripe_of(struct ptier *p, uint64_t off)
{
    return &p->stripes[((off >> 4) * 0x9E3779B97F4A7C15ull) >> 58];
}

static PMEMoid oid_at(const struct ptier *p, uint64_t off)
{
    PMEMoid oid = {.pool_uuid_lo = p->uuid_lo, .off = off};
    return oid;
}

static int hint_in_pool(const struct ptier *p, uint64_t hint)
{
    return hint >= HINT_MIN && hint % HINT_ALIGN == 0 && hint <= p->pool_size - TIER_REC_HDR;
}

/* Checks the record at hint is key/gen with a whole header and a length that
 * stays inside the pool; sets *total. Reads only [hint, hint + 44 + klen).
 * Caller holds the hint's stripe. */
static int rec_matches(struct ptier *p, uint64_t hint, const char *key, size_t klen, uint64_t gen,
                       uint64_t *total)
{
    const unsigned char *r = p->pool + hint;
    uint64_t t;

    if (load_magic(r) != TIER_REC_MAGIC)
        return 0;
    if (rd32(r + 24) != klen || rd64(r + 8) != gen)
        return 0;
    t = TIER_REC_HDR + (uint64_t)rd32(r + 24) + rd32(r + 28);
    if (t > p->pool_size - hint)
        return 0;
    if (memcmp(r + TIER_REC_HDR, key, klen) != 0)
        return 0;
    *total = t;
    return 1;
}

static void st_add(uint64_t *field, uint64_t v)
{
    __atomic_fetch_add(field, v, __ATOMIC_RELAXED);
}

static void st_sub(uint64_t *field, uint64_t v)
{
    __atomic_fetch_sub(field, v, __ATOMIC_RELAXED);
}

static void enter_failed(struct ptier *p, const char *what, int err)
{
    int first = !__atomic_exchange_n(&p->st.failed, 1, __ATOMIC_RELAXED);

    st_add(&p->st.errors, 1);
    if (first)
        plog(p, PTIER_LOG_WARNING, "ptier: %s failed (%s: %s); the PMem tier stops taking records", what,
             strerror(err), pmemobj_errormsg());
}

static int is_failed(struct ptier *p)
{
    return __atomic_load_n(&p->st.failed, __ATOMIC_RELAXED);
}

/* 1 if a walk stands on off; marks it for the walk to free. Caller holds
 * heap_lock (read or write). */
static int pin_defer_free(struct ptier *p, uint64_t off)
{
    for (struct pin *q = p->pins; q; q = q->next) {
        if (q->off == off) {
            q->freed = 1;
            return 1;
        }
    }
    return 0;
}

/* Zeroes the magic of the record object at off and frees it, or leaves the
 * free to the walk pinned on it (invariant 3). Caller holds heap_lock and,
 * unless alone, the stripe of off. */
static void rec_free(struct ptier *p, uint64_t off)
{
    unsigned char *r = p->pool + off;
    PMEMoid oid = oid_at(p, off);

    __atomic_store_n((uint32_t *)(void *)r, 0, __ATOMIC_RELEASE);
    pmemobj_persist(p->pop, r, 4);
    if (!pin_defer_free(p, off))
        pmemobj_free(&oid);
}

/* ---- put / get / del -------------------------------------------------- */

struct ctor_arg {
    const unsigned char *src;
    size_t len;
};

/* Copies the object image into place, magic last (invariants 1, 2). The
 * image's first 4 bytes are its magic. */
static int obj_ctor(PMEMobjpool *pop, void *ptr, void *arg)
{
    const struct ctor_arg *a = arg;
    unsigned char *dst = ptr;
    uint32_t magic;

    pmemobj_memcpy_persist(pop, dst + 4, a->src + 4, a->len - 4);
    memcpy(&magic, a->src, 4);
    __atomic_store_n((uint32_t *)ptr, magic, __ATOMIC_RELEASE);
    pmemobj_persist(pop, dst, 4);
    return 0;
}

/* Counts a put; a stored record's sums only with heap_lock held. */
static void count_put(struct ptier *p, int ok, const struct tier_rec *r, uint64_t used)
{
    st_add(&p->st.puts, 1);
    if (ok) {
        st_add(&p->st.records, 1);
        st_add(&p->st.raw_bytes, r->rawlen);
        st_add(&p->st.stored_bytes, r->vlen);
        st_add(&p->st.used_bytes, used);
    } else {
        st_add(&p->st.put_fails, 1);
    }
}

/* Allocates an object of type with the image at src (len bytes, magic first)
 * and returns its offset in *off. ST_OK, ST_EFULL, ST_EIO (now failed).
 * Caller holds heap_lock read. */
static int obj_alloc(struct ptier *p, uint64_t type, const void *src, size_t len, uint64_t *off, uint64_t *usable)
{
    struct ctor_arg a = {src, len};
    PMEMoid oid;

    if (len > PMEMOBJ_MAX_ALLOC_SIZE)
        return ST_EFULL;
    if (pmemobj_alloc(p->pop, &oid, len, type, obj_ctor, &a) != 0) {
        int err = errno;
        if (err == ENOMEM)
            return ST_EFULL;
        enter_failed(p, "pmemobj_alloc", err);
        return ST_EIO;
    }
    *off = oid.off;
    *usable = pmemobj_alloc_usable_size(oid);
    return ST_OK;
}

static int pmem_put(struct tier *t, const void *rec, size_t len, uint64_t *hint, const struct tier_io *io)
{
    struct ptier *p = (struct ptier *)t;
    struct tier_rec r;
    size_t used;
    uint64_t off = 0, usable = 0;
    int rc;

    (void)io;
    if (!rec || tier_rec_decode(rec, len, &r, &used) != ST_OK || used != len) {
        count_put(p, 0, NULL, 0);
        return ST_EINVAL;
    }
    if (is_failed(p)) {
        count_put(p, 0, NULL, 0);
        return ST_EIO;
    }
    pthread_rwlock_rdlock(&p->heap_lock);
    rc = obj_alloc(p, TYPE_REC, rec, len, &off, &usable);
    count_put(p, rc == ST_OK, &r, usable + ALLOC_HDR);
    pthread_rwlock_unlock(&p->heap_lock);
    if (rc == ST_OK)
        *hint = off;
    return rc;
}

static void count_get(struct ptier *p, int rc)
{
    st_add(&p->st.gets, 1);
    st_add(rc == ST_OK ? &p->st.hits : &p->st.misses, 1);
    if (rc == ST_ECORRUPT)
        st_add(&p->st.errors, 1);
}

static int pmem_get(struct tier *t, const char *key, size_t klen, uint64_t gen, uint64_t hint, void **buf,
                    size_t *len, const struct tier_io *io)
{
    struct ptier *p = (struct ptier *)t;
    pthread_mutex_t *stripe;
    unsigned char *copy = NULL;
    uint64_t total = 0;
    int rc;

    (void)io;
    if (!key || klen == 0 || klen > TIER_KEY_MAX || !hint_in_pool(p, hint)) {
        count_get(p, ST_ENOENT);
        return ST_ENOENT;
    }
    stripe = stripe_of(p, hint);
    pthread_mutex_lock(stripe);
    if (!rec_matches(p, hint, key, klen, gen, &total)) {
        pthread_mutex_unlock(stripe);
        count_get(p, ST_ENOENT);
        return ST_ENOENT;
    }
    copy = malloc(total);
    if (copy)
        memcpy(copy, p->pool + hint, total);
    pthread_mutex_unlock(stripe);
    if (!copy) {
        count_get(p, ST_ENOMEM);
        return ST_ENOMEM;
    }

    struct tier_rec r;
    size_t used;
    rc = tier_rec_decode(copy, total, &r, &used);
    if (rc == ST_OK && (r.gen != gen || r.klen != klen || memcmp(r.key, key, klen) != 0))
        rc = ST_ECORRUPT; /* cannot happen unless the bytes changed under the copy */
    count_get(p, rc);
    if (rc != ST_OK) {
        plog(p, PTIER_LOG_WARNING, "ptier: damaged record at offset %llu (gen %llu, %llu bytes): not served",
             (unsigned long long)hint, (unsigned long long)gen, (unsigned long long)total);
        free(copy);
        return ST_ECORRUPT;
    }
    *buf = copy;
    *len = (size_t)total;
    return ST_OK;
}

/* Frees the record at hint, total bytes long, once the allocator agrees it is
 * a record object big enough for it (a hint is only a hint). Caller holds
 * heap_lock read and the hint's stripe. */
static int free_checked(struct ptier *p, uint64_t hint, uint64_t total)
{
    PMEMoid oid = oid_at(p, hint);
    struct tier_rec r;
    uint64_t usable = pmemobj_alloc_usable_size(oid);

    if (tier_rec_decode(p->pool + hint, (size_t)total, &r, NULL) != ST_OK || pmemobj_type_num(oid) != TYPE_REC ||
        usable < total || usable > p->pool_size - hint)
        return ST_ENOENT;
    rec_free(p, hint);
    st_sub(&p->st.records, 1);
    st_sub(&p->st.raw_bytes, r.rawlen);
    st_sub(&p->st.stored_bytes, r.vlen);
    st_sub(&p->st.used_bytes, usable + ALLOC_HDR);
    st_add(&p->st.dels, 1);
    return ST_OK;
}

static int pmem_del(struct tier *t, const char *key, size_t klen, uint64_t gen, uint64_t hint)
{
    struct ptier *p = (struct ptier *)t;
    pthread_mutex_t *stripe;
    uint64_t total = 0;
    int rc = ST_ENOENT;

    if (!key || klen == 0 || klen > TIER_KEY_MAX || !hint_in_pool(p, hint))
        return ST_ENOENT;
    stripe = stripe_of(p, hint);
    pthread_rwlock_rdlock(&p->heap_lock);
    pthread_mutex_lock(stripe);
    if (rec_matches(p, hint, key, klen, gen, &total))
        rc = free_checked(p, hint, total);
    pthread_mutex_unlock(stripe);
    pthread_rwlock_unlock(&p->heap_lock);
    return rc;
}

/* The record at hint, known by its generation and CRC instead of its key. */
static int pmem_del_at(struct tier *t, uint64_t hint, uint64_t gen, uint32_t crc)
{
    struct ptier *p = (struct ptier *)t;
    pthread_mutex_t *stripe;
    int rc = ST_ENOENT;

    if (!hint_in_pool(p, hint))
        return ST_ENOENT;
    stripe = stripe_of(p, hint);
    pthread_rwlock_rdlock(&p->heap_lock);
    pthread_mutex_lock(stripe);
    const unsigned char *r = p->pool + hint;
    uint32_t have;
    memcpy(&have, r + 4, sizeof(have));
    if (load_magic(r) == TIER_REC_MAGIC && rd64(r + 8) == gen && have == crc) {
        uint64_t total = TIER_REC_HDR + (uint64_t)rd32(r + 24) + rd32(r + 28);
        if (total <= p->pool_size - hint)
            rc = free_checked(p, hint, total);
    }
    pthread_mutex_unlock(stripe);
    pthread_rwlock_unlock(&p->heap_lock);
    return rc;
}

/* ---- walks ------------------------------------------------------------ */

/* The next record object after cur (OID_NULL: the first), skipping other
 * types and records whose delete has begun. Caller holds heap_lock write. */
static PMEMoid next_record(struct ptier *p, PMEMoid cur)
{
    PMEMoid o = OID_IS_NULL(cur) ? pmemobj_first(p->pop) : pmemobj_next(cur);

    while (!OID_IS_NULL(o) &&
           (pmemobj_type_num(o) != TYPE_REC || pmemobj_alloc_usable_size(o) < 4 ||
            load_magic(p->pool + o.off) == 0))
        o = pmemobj_next(o);
    return o;
}

static void unpin_locked(struct ptier *p, struct pin *pin)
{
    for (struct pin **q = &p->pins; *q; q = &(*q)->next) {
        if (*q == pin) {
            *q = pin->next;
            break;
        }
    }
    if (pin->freed) {
        PMEMoid oid = oid_at(p, pin->off);
        pmemobj_free(&oid);
    }
    pin->freed = 0;
}

static int pmem_iterate(struct tier *t, tier_visit_fn *fn, void *ud)
{
    struct ptier *p = (struct ptier *)t;
    struct pin pin = {0};
    int pinned = 0;
    PMEMoid cur = OID_NULL;
    unsigned char *buf = NULL;
    size_t bufcap = 0;
    int rc = 0;

    for (;;) {
        size_t n;

        pthread_rwlock_wrlock(&p->heap_lock);
        PMEMoid nxt = next_record(p, cur);
        if (pinned) {
            unpin_locked(p, &pin);
            pinned = 0;
        }
        if (OID_IS_NULL(nxt)) {
            pthread_rwlock_unlock(&p->heap_lock);
            break;
        }
        /* The object's own length bounds the copy; decode judges the rest. */
        const unsigned char *r = p->pool + nxt.off;
        size_t usable = pmemobj_alloc_usable_size(nxt);
        n = usable;
        if (usable >= TIER_REC_HDR) {
            uint64_t claimed = TIER_REC_HDR + (uint64_t)rd32(r + 24) + rd32(r + 28);
            if (claimed <= usable)
                n = (size_t)claimed;
        }
        if (n > bufcap) {
            unsigned char *nb = realloc(buf, n);
            if (!nb) {
                pthread_rwlock_unlock(&p->heap_lock);
                rc = ST_ENOMEM;
                break;
            }
            buf = nb;
            bufcap = n;
        }
        memcpy(buf, r, n);
        cur = nxt;
        pin.off = cur.off;
        pin.freed = 0;
        pin.next = p->pins;
        p->pins = &pin;
        pinned = 1;
        pthread_rwlock_unlock(&p->heap_lock);

        struct tier_rec rec;
        size_t used;
        if (tier_rec_decode(buf, n, &rec, &used) != ST_OK) {
            st_add(&p->st.errors, 1);
            plog(p, PTIER_LOG_WARNING, "ptier: damaged record at offset %llu skipped by a walk",
                 (unsigned long long)cur.off);
            continue;
        }
        rc = fn(ud, buf, used, cur.off);
        if (rc)
            break;
    }
    if (pinned) {
        pthread_rwlock_wrlock(&p->heap_lock);
        unpin_locked(p, &pin);
        pthread_rwlock_unlock(&p->heap_lock);
    }
    free(buf);
    return rc;
}

static int pmem_clear(struct tier *t, int with_dicts)
{
    struct ptier *p = (struct ptier *)t;
    uint64_t n = 0;

    pthread_rwlock_wrlock(&p->heap_lock);
    for (PMEMoid o = pmemobj_first(p->pop), nxt; !OID_IS_NULL(o); o = nxt) {
        nxt = pmemobj_next(o); /* before o is freed (POBJ_FOREACH_SAFE) */
        if (pmemobj_type_num(o) == TYPE_REC && pmemobj_alloc_usable_size(o) >= 4 &&
            load_magic(p->pool + o.off) != 0) {
            pthread_mutex_t *stripe = stripe_of(p, o.off);
            pthread_mutex_lock(stripe);
            rec_free(p, o.off);
            pthread_mutex_unlock(stripe);
            n++;
        }
    }
    if (with_dicts) {
        /* every dictionary object is in the index (rebuild, put_dict) */
        pthread_mutex_lock(&p->dict_lock);
        for (size_t i = 0; i < p->ndicts; i++) {
            PMEMoid o = oid_at(p, p->dicts[i].off);
            pmemobj_free(&o);
        }
        p->ndicts = 0;
        pthread_mutex_unlock(&p->dict_lock);
    }
    /* every stored record was freed here or by a del (write-held: no put
     * or del is between its allocation and its count) */
    __atomic_store_n(&p->st.records, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&p->st.raw_bytes, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&p->st.stored_bytes, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&p->st.used_bytes, 0, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&p->heap_lock);
    plog(p, PTIER_LOG_NOTICE, "ptier: cleared %llu records%s", (unsigned long long)n,
         with_dicts ? " and the dictionaries" : "");
    return ST_OK;
}

/* ---- dictionaries ----------------------------------------------------- */

static int pmem_put_dict(struct tier *t, uint32_t id, const void *dict, size_t len)
{
    struct ptier *p = (struct ptier *)t;
    unsigned char *img;
    uint64_t off, usable;
    int rc = ST_OK;

    if (id == 0 || (len && !dict) || len > UINT32_MAX - DICT_HDR)
        return ST_EINVAL;
    if (is_failed(p))
        return ST_EIO;
    img = malloc(DICT_HDR + len);
    if (!img)
        return ST_ENOMEM;
    wr32(img, DICT_MAGIC);
    wr32(img + 8, id);
    wr32(img + 12, (uint32_t)len);
    if (len)
        memcpy(img + DICT_HDR, dict, len);
    wr32(img + 4, crc32c(0, img + 8, DICT_HDR - 8 + len));

    pthread_rwlock_rdlock(&p->heap_lock);
    pthread_mutex_lock(&p->dict_lock);
    for (size_t i = 0; i < p->ndicts; i++) {
        if (p->dicts[i].id == id) {
            rc = ST_EEXIST;
            goto unlock;
        }
    }
    if (p->ndicts == p->dicts_cap) {
        size_t ncap = p->dicts_cap ? p->dicts_cap * 2 : 4;
        struct pdict *nd = realloc(p->dicts, ncap * sizeof(*nd));
        if (!nd) {
            rc = ST_ENOMEM;
            goto unlock;
        }
        p->dicts = nd;
        p->dicts_cap = ncap;
    }
    rc = obj_alloc(p, TYPE_DICT, img, DICT_HDR + len, &off, &usable);
    if (rc == ST_OK)
        p->dicts[p->ndicts++] = (struct pdict){.id = id, .len = (uint32_t)len, .off = off};
unlock:
    pthread_mutex_unlock(&p->dict_lock);
    pthread_rwlock_unlock(&p->heap_lock);
    free(img);
    return rc;
}

/* Checks the dictionary object at off (usable bytes); sets *id, *len. */
static int dict_check(struct ptier *p, uint64_t off, size_t usable, uint32_t *id, uint32_t *len)
{
    const unsigned char *d = p->pool + off;

    if (usable < DICT_HDR || rd32(d) != DICT_MAGIC)
        return ST_ECORRUPT;
    *id = rd32(d + 8);
    *len = rd32(d + 12);
    if (*id == 0 || (uint64_t)*len > usable - DICT_HDR)
        return ST_ECORRUPT;
    if (crc32c(0, d + 8, DICT_HDR - 8 + (size_t)*len) != rd32(d + 4))
        return ST_ECORRUPT;
    return ST_OK;
}

static int pmem_each_dict(struct tier *t, int (*fn)(void *ud, uint32_t id, const void *dict, size_t len), void *ud)
{
    struct ptier *p = (struct ptier *)t;
    int rc = 0;

    for (size_t i = 0;; i++) {
        uint32_t id = 0, len = 0;
        unsigned char *copy = NULL;
        int ok;

        pthread_mutex_lock(&p->dict_lock);
        if (i >= p->ndicts) {
            pthread_mutex_unlock(&p->dict_lock);
            break;
        }
        struct pdict d = p->dicts[i];
        ok = dict_check(p, d.off, pmemobj_alloc_usable_size(oid_at(p, d.off)), &id, &len) == ST_OK &&
             id == d.id && len == d.len;
        if (ok) {
            copy = malloc(len ? len : 1);
            if (copy && len)
                memcpy(copy, p->pool + d.off + DICT_HDR, len);
        }
        pthread_mutex_unlock(&p->dict_lock);
        if (!ok) {
            st_add(&p->st.errors, 1);
            plog(p, PTIER_LOG_WARNING, "ptier: damaged dictionary %u at offset %llu skipped", d.id,
                 (unsigned long long)d.off);
            continue;
        }
        if (!copy)
            return ST_ENOMEM;
        rc = fn(ud, id, copy, len);
        free(copy);
        if (rc)
            break;
    }
    return rc;
}

/* ---- stats, lifecycle ------------------------------------------------- */

static void pmem_stats(struct tier *t, struct tier_stats *out)
{
    struct ptier *p = (struct ptier *)t;

    const struct tier_stats *s = &p->st;

    memset(out, 0, sizeof(*out));
    out->records = __atomic_load_n(&s->records, __ATOMIC_RELAXED);
    out->raw_bytes = __atomic_load_n(&s->raw_bytes, __ATOMIC_RELAXED);
    out->stored_bytes = __atomic_load_n(&s->stored_bytes, __ATOMIC_RELAXED);
    out->used_bytes = __atomic_load_n(&s->used_bytes, __ATOMIC_RELAXED);
    out->capacity_bytes = s->capacity_bytes; /* immutable after create */
    out->puts = __atomic_load_n(&s->puts, __ATOMIC_RELAXED);
    out->put_fails = __atomic_load_n(&s->put_fails, __ATOMIC_RELAXED);
    out->gets = __atomic_load_n(&s->gets, __ATOMIC_RELAXED);
    out->hits = __atomic_load_n(&s->hits, __ATOMIC_RELAXED);
    out->misses = __atomic_load_n(&s->misses, __ATOMIC_RELAXED);
    out->dels = __atomic_load_n(&s->dels, __ATOMIC_RELAXED);
    out->errors = __atomic_load_n(&s->errors, __ATOMIC_RELAXED);
    out->failed = __atomic_load_n(&s->failed, __ATOMIC_RELAXED);
}

static uint64_t pmem_heap_bytes(struct tier *t)
{
    (void)t;
    return 0;
}

static void ptier_free(struct ptier *p)
{
    if (p->pop)
        pmemobj_close(p->pop);
    for (int i = 0; i < NSTRIPES; i++)
        pthread_mutex_destroy(&p->stripes[i]);
    pthread_rwlock_destroy(&p->heap_lock);
    pthread_mutex_destroy(&p->dict_lock);
    free(p->dicts);
    free(p);
}

static void pmem_destroy(struct tier *t)
{
    ptier_free((struct ptier *)t);
}

static const struct tier_ops pmem_ops = {
    .put = pmem_put,
    .get = pmem_get,
    .del = pmem_del,
    .clear = pmem_clear,
    .iterate = pmem_iterate,
    .del_at = pmem_del_at,
    .put_dict = pmem_put_dict,
    .each_dict = pmem_each_dict,
    .stats = pmem_stats,
    .heap_bytes = pmem_heap_bytes,
    .destroy = pmem_destroy,
};

/* The mapped size of the pool at path: a file's length, or a device DAX's
 * size from sysfs. 0 if neither. */
static uint64_t pool_size_of(const char *path)
{
    struct stat sb;

    if (stat(path, &sb) != 0)
        return 0;
    if (S_ISREG(sb.st_mode))
        return (uint64_t)sb.st_size;
    if (S_ISCHR(sb.st_mode)) {
        char sys[128];
        unsigned long long v = 0;
        snprintf(sys, sizeof(sys), "/sys/dev/char/%u:%u/size", major(sb.st_rdev), minor(sb.st_rdev));
        FILE *f = fopen(sys, "r");
        if (f) {
            if (fscanf(f, "%llu", &v) != 1)
                v = 0;
            fclose(f);
        }
        return v;
    }
    return 0;
}

/* Walks the pool once after open (invariant 5): counts records, frees those
 * whose delete was cut short and damaged ones, loads the dictionary index.
 * Single-threaded: the tier is not published yet. */
static int rebuild(struct ptier *p)
{
    uint64_t leftovers = 0, damaged = 0, foreign = 0;

    for (PMEMoid o = pmemobj_first(p->pop), nxt; !OID_IS_NULL(o); o = nxt) {
        nxt = pmemobj_next(o);
        uint64_t type = pmemobj_type_num(o);
        size_t usable = pmemobj_alloc_usable_size(o);
        const unsigned char *r = p->pool + o.off;

        if (o.off % HINT_ALIGN || usable > p->pool_size - o.off) {
            foreign++; /* cannot be ours: leave it alone */
            continue;
        }
        if (type == TYPE_REC) {
            struct tier_rec rec;
            size_t used;
            if (usable < TIER_REC_HDR || load_magic(r) == 0) {
                leftovers++;
                pmemobj_free(&o);
            } else if (tier_rec_decode(r, usable, &rec, &used) != ST_OK) {
                damaged++;
                plog(p, PTIER_LOG_WARNING, "ptier: damaged record at offset %llu (%zu bytes) dropped",
                     (unsigned long long)o.off, usable);
                rec_free(p, o.off);
            } else {
                p->st.records++;
                p->st.raw_bytes += rec.rawlen;
                p->st.stored_bytes += rec.vlen;
                p->st.used_bytes += usable + ALLOC_HDR;
            }
        } else if (type == TYPE_DICT) {
            uint32_t id = 0, len = 0;
            int bad = dict_check(p, o.off, usable, &id, &len) != ST_OK, dup = 0;
            for (size_t i = 0; !bad && i < p->ndicts; i++)
                dup |= p->dicts[i].id == id;
            if (bad || dup) {
                damaged++;
                plog(p, PTIER_LOG_WARNING, "ptier: %s dictionary at offset %llu dropped",
                     dup ? "duplicate" : "damaged", (unsigned long long)o.off);
                pmemobj_free(&o);
                continue;
            }
            if (p->ndicts == p->dicts_cap) {
                size_t ncap = p->dicts_cap ? p->dicts_cap * 2 : 4;
                struct pdict *nd = realloc(p->dicts, ncap * sizeof(*nd));
                if (!nd)
                    return ST_ENOMEM;
                p->dicts = nd;
                p->dicts_cap = ncap;
            }
            p->dicts[p->ndicts++] = (struct pdict){.id = id, .len = len, .off = o.off};
        } else {
            foreign++;
        }
    }
    p->st.errors += damaged;
    if (leftovers)
        plog(p, PTIER_LOG_NOTICE, "ptier: freed %llu records whose delete was interrupted",
             (unsigned long long)leftovers);
    if (foreign)
        plog(p, PTIER_LOG_WARNING, "ptier: %llu objects of unknown type left in the pool",
             (unsigned long long)foreign);
    return ST_OK;
}

/* Creates the pool as "<path>.new" and renames it to path (no replace),
 * then syncs the directory (invariant 7). Sets p->pop. */
static int create_pool(struct ptier *p, const char *path, uint64_t size)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof(".new"));
    int rc = ST_OK;

    if (!tmp)
        return ST_ENOMEM;
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".new", sizeof(".new"));
    unlink(tmp); /* what a creation cut short left */
    p->pop = pmemobj_create(tmp, PTIER_LAYOUT, (size_t)size, 0600);
    if (!p->pop) {
        int err = errno;
        plog(p, PTIER_LOG_WARNING, "ptier: cannot create pool %s: %s", tmp, pmemobj_errormsg());
        rc = err == ENOMEM ? ST_ENOMEM : err == EINVAL ? ST_EINVAL : ST_EIO;
        unlink(tmp);
        goto out;
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
        plog(p, PTIER_LOG_WARNING, "ptier: cannot rename new pool %s to %s: %s", tmp, path, strerror(errno));
        pmemobj_close(p->pop);
        p->pop = NULL;
        unlink(tmp);
        rc = ST_EIO;
        goto out;
    }
    /* the rename itself durable: sync the directory */
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t dn = slash == path ? 1 : (size_t)(slash - path);
        memcpy(tmp, path, dn);
        tmp[dn] = 0;
    } else {
        strcpy(tmp, ".");
    }
    int dfd = open(tmp, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    free(tmp);
    return rc;
}

/* The code for a failed pmemobj_open of an existing file: the environment's
 * refusals are ST_EIO (or ST_ENOMEM); anything else (EINVAL for a wrong
 * layout or a bad header, and the odd codes libpmemobj leaves for a bad
 * heap) means the file's contents are not a pool we can use. */
static int open_error(int err)
{
    switch (err) {
    case ENOMEM:
        return ST_ENOMEM;
    case EACCES:
    case EPERM:
    case EAGAIN:
    case EBUSY:
    case EROFS:
    case EMFILE:
    case ENFILE:
    case ENOENT:
    case EISDIR:
    case EIO:
    case ENODEV:
    case ENXIO:
        return ST_EIO;
    default:
        return ST_ECORRUPT;
    }
}

int ptier_create(const struct ptier_conf *conf, struct tier **out)
{
    struct ptier *p;
    struct stat sb;
    pthread_rwlockattr_t rwa;
    int rc, created = 0;

    if (!conf || !conf->path || !*conf->path)
        return ST_EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return ST_ENOMEM;
    p->base.ops = &pmem_ops;
    p->base.name = "pmem";
    p->log = conf->log;
    p->log_ud = conf->log_ud;
    pthread_rwlockattr_init(&rwa);
    pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&p->heap_lock, &rwa);
    pthread_rwlockattr_destroy(&rwa);
    for (int i = 0; i < NSTRIPES; i++)
        pthread_mutex_init(&p->stripes[i], NULL);
    pthread_mutex_init(&p->dict_lock, NULL);

    if (stat(conf->path, &sb) == 0) {
        /* libpmemobj 1.12 faults (SIGBUS/SIGSEGV) opening some files far
         * too small to be a pool (0 bytes, 2 MiB): refuse those first. */
        if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size < PMEMOBJ_MIN_POOL) {
            plog(p, PTIER_LOG_WARNING, "ptier: cannot open pool %s: %llu bytes, smaller than any pool "
                 "(not a Strata PMem pool, or truncated)", conf->path, (unsigned long long)sb.st_size);
            rc = ST_ECORRUPT;
            goto fail;
        }
        p->pop = pmemobj_open(conf->path, PTIER_LAYOUT);
        if (!p->pop) {
            int err = errno;
            rc = open_error(err);
            plog(p, PTIER_LOG_WARNING, "ptier: cannot open pool %s: %s (%s)", conf->path, pmemobj_errormsg(),
                 rc == ST_ECORRUPT ? "not a Strata PMem pool, or damaged" : strerror(err));
            goto fail;
        }
    } else if (errno == ENOENT) {
        if (conf->size < PMEMOBJ_MIN_POOL) {
            plog(p, PTIER_LOG_WARNING, "ptier: pool size %llu is below the minimum %llu",
                 (unsigned long long)conf->size, (unsigned long long)PMEMOBJ_MIN_POOL);
            rc = ST_EINVAL;
            goto fail;
        }
        rc = create_pool(p, conf->path, conf->size);
        if (rc != ST_OK)
            goto fail;
        created = 1;
    } else {
        plog(p, PTIER_LOG_WARNING, "ptier: cannot stat %s: %s", conf->path, strerror(errno));
        rc = ST_EIO;
        goto fail;
    }
    p->pool = (unsigned char *)p->pop;
    p->uuid_lo = pmemobj_oid(p->pool).pool_uuid_lo;
    p->pool_size = pool_size_of(conf->path);
    if (p->pool_size < PMEMOBJ_MIN_POOL) {
        plog(p, PTIER_LOG_WARNING, "ptier: %s is neither a pool file nor a device DAX", conf->path);
        rc = ST_EINVAL;
        goto fail;
    }
    p->st.capacity_bytes = p->pool_size;
    rc = rebuild(p);
    if (rc != ST_OK)
        goto fail;
    plog(p, PTIER_LOG_NOTICE, "ptier: %s pool %s (%llu bytes): %llu records, %zu dictionaries",
         created ? "created" : "opened", conf->path, (unsigned long long)p->pool_size,
         (unsigned long long)p->st.records, p->ndicts);
    *out = &p->base;
    return ST_OK;

fail:
    ptier_free(p);
    return rc;
}
