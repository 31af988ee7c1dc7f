/*
 * tiering_persist.c -- what snapshots and recovery (snapshot.c, persist.c)
 * ask of the tiers: the record behind a stub, the dictionaries, the walk of
 * an indexed tier at a snapshot's T0, storing a snapshot's cold records
 * back into a tier as they are, and the warm attach of the PMem pool.
 *
 * Warm attach. With pmem-on-start attach, tiering_create keeps the pool's
 * records. Recovery then loads the newest snapshot reading only the index
 * of its cold items (key, generation, CRC), and a cold item whose record is
 * still in the pool -- same key hash, generation and CRC -- becomes a stub
 * for that record again without reading the record (tiering_pmem_claim). A
 * record of the previous run no snapshot item claims is freed at the end
 * (tiering_pmem_attach_end): it was written after the snapshot's T0 (its
 * key's value since then comes from the append log) or belongs to a deleted
 * or overwritten value. Records stored during the load itself (cold items
 * not re-attached: the SSD tier's, or ones the pool no longer holds) were
 * not in the pool at attach_begin and are kept; they take generations above
 * every record of the previous run, so none can be taken for another. So the
 * rule "a PMem record is current" is: the recovered snapshot names it, and
 * the log replayed after it did not change its key (a replayed change to
 * the key drops the stub's record as any change does).
 *
 * Threads: the snapshot thread (walks, stub records) and the start-up thread
 * (loading, attach) -- never both at once for the attach table.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/codec.h"
#include "engine/entry.h"
#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/tier.h"
#include "engine/util.h"
#include "server/log.h"
#include "server/server.h"
#include "server/tiering.h"
#include "server/tiering_internal.h"

/* ---- snapshots ------------------------------------------------------------ */

void tiering_snap_begin_locked(struct tiering *tg)
{
    /* 0 means "no snapshot" to cold_miss: a tier that never stored anything
     * has seq_now 0 and no record from before T0 either */
    for (int i = 0; i < tg->n; i++)
        tg->snap_mark[i] = tg->slot[i].indexed ? tg->slot[i].t->index->seq_now(tg->slot[i].t) : 0;
}

void tiering_snap_end_locked(struct tiering *tg)
{
    memset(tg->snap_mark, 0, sizeof(tg->snap_mark));
}

int tiering_stub_record(struct tiering *tg, const struct entry *stub, void **rec, size_t *len, int *is_pmem)
{
    struct entry_stub st;
    entry_stub_get(stub, &st);
    if (st.tier >= tg->n)
        return ST_ECORRUPT;
    struct tier *t = tg->slot[st.tier].t;
    *is_pmem = strcmp(t->name, "pmem") == 0;
    return t->ops->get(t, entry_key(stub), stub->klen, st.gen, st.hint, rec, len, NULL);
}

struct dict_seen {
    uint32_t ids[1024];
    int n;
    int (*fn)(void *ud, uint32_t id, const void *dict, size_t len);
    void *ud;
    int rc;
};

static int dict_once(void *ud, uint32_t id, const void *dict, size_t len)
{
    struct dict_seen *d = ud;
    for (int i = 0; i < d->n; i++)
        if (d->ids[i] == id)
            return 0;
    if (d->n < (int)(sizeof(d->ids) / sizeof(d->ids[0])))
        d->ids[d->n++] = id;
    int rc = d->fn(d->ud, id, dict, len);
    if (rc != 0)
        d->rc = rc;
    return rc;
}

int tiering_each_dict(struct tiering *tg, int (*fn)(void *ud, uint32_t id, const void *dict, size_t len), void *ud)
{
    struct dict_seen *d = calloc(1, sizeof(*d));
    if (!d)
        return ST_ENOMEM;
    d->fn = fn;
    d->ud = ud;
    for (int i = 0; i < tg->n && d->rc == 0; i++)
        tg->slot[i].t->ops->each_dict(tg->slot[i].t, dict_once, d);
    int rc = d->rc;
    free(d);
    return rc;
}

struct walk_ctx {
    uint64_t mark;
    int (*fn)(void *ud, int db, const void *rec, size_t len);
    void *ud;
};

static int walk_one(void *ud, int db, const void *rec, size_t len, uint64_t loc, uint64_t seq)
{
    struct walk_ctx *w = ud;
    (void)loc;
    if (seq > w->mark)
        return 0; /* inserted after T0: its value is in the snapshot already, or is not part of it */
    return w->fn(w->ud, db, rec, len);
}

int tiering_snap_walk_indexed(struct tiering *tg, const uint64_t *marks,
                              int (*fn)(void *ud, int db, const void *rec, size_t len), void *ud)
{
    for (int i = 0; i < tg->n; i++) {
        if (!tg->slot[i].indexed || marks[i] == 0)
            continue;
        struct walk_ctx w = { .mark = marks[i], .fn = fn, .ud = ud };
        int rc = tg->slot[i].t->index->iterate(tg->slot[i].t, walk_one, &w);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void tiering_snap_marks(struct tiering *tg, uint64_t *marks)
{
    memcpy(marks, tg->snap_mark, sizeof(tg->snap_mark));
}

/* ---- loading -------------------------------------------------------------- */

int tiering_load_dict(struct tiering *tg, uint32_t id, const void *dict, size_t len)
{
    int rc = codec_add_dict(tg->codec, id, dict, len);
    if (rc == ST_EEXIST)
        return ST_OK;
    if (rc != ST_OK)
        return rc;
    for (int i = 0; i < tg->n; i++) {
        /* a tier that kept its dictionaries across the restart has it already */
        int prc = tg->slot[i].t->ops->put_dict(tg->slot[i].t, id, dict, len);
        if (prc != ST_OK && prc != ST_EEXIST)
            log_warn("tier %s: cannot store compression dictionary %u", tg->slot[i].t->name, id);
    }
    return ST_OK;
}

static struct entry *make_stub(struct tiering *tg, int slot, const char *key, size_t klen, uint8_t type,
                               int64_t expire_ms, uint32_t gen, uint64_t hint)
{
    struct entry *stub = entry_create(key, (uint32_t)klen, type, ENC_TIER, ENTRY_STUB_VLEN, expire_ms);
    if (!stub)
        return NULL;
    struct entry_stub st = { .hint = hint, .gen = gen, .tier = (uint8_t)slot };
    entry_stub_set(stub, &st);
    atomic_fetch_add_explicit(&tg->slot[slot].cold_keys, 1, memory_order_relaxed);
    return stub;
}

int tiering_load_cold(struct tiering *tg, int db, const void *rec, size_t len, int64_t expire_ms,
                      struct entry **stub)
{
    *stub = NULL;
    struct tier_rec r;
    size_t used = 0;
    if (tier_rec_decode(rec, len, &r, &used) != ST_OK || used != len)
        return ST_ECORRUPT;
    void *copy = malloc(len);
    if (!copy)
        return ST_ENOMEM;
    memcpy(copy, rec, len);
    uint32_t gen = atomic_fetch_add_explicit(&tg->next_gen, 1, memory_order_relaxed) %
                   ((1u << ENTRY_STUB_GEN_BITS) - 1) + 1;
    /* the record carries the generation of the run that wrote it; its new
     * stub names this one (tiering_store_record restamps only on the way to
     * an indexed tier) */
    tier_rec_restamp(copy, gen, expire_ms);
    int slot = -1;
    uint64_t hint = 0;
    int rc = tiering_store_record(tg, db, copy, len, gen, 0, expire_ms, &slot, &hint);
    if (rc == ST_OK && !tg->slot[slot].indexed) {
        if (hint >> ENTRY_STUB_HINT_BITS) {
            tg->slot[slot].t->ops->del(tg->slot[slot].t, r.key, r.klen, gen, hint);
            rc = ST_EFULL;
        } else {
            /* the record decoded from copy before the restamp: its key and
             * type are the same bytes */
            *stub = make_stub(tg, slot, (const char *)copy + TIER_REC_HDR, r.klen, r.type, expire_ms, gen, hint);
            if (!*stub) {
                tg->slot[slot].t->ops->del(tg->slot[slot].t, (const char *)copy + TIER_REC_HDR, r.klen, gen, hint);
                rc = ST_ENOMEM;
            }
        }
    }
    if (rc == ST_OK)
        atomic_fetch_add_explicit(&tg->slot[slot].demotions, 1, memory_order_relaxed);
    free(copy);
    return rc;
}

int tiering_load_entry(struct tiering *tg, const void *rec, size_t len, const char *key, size_t klen,
                       int64_t expire_ms, struct entry **out)
{
    return tiering_rec_to_entry(tg, 0, rec, len, key, klen, expire_ms, out);
}

void tiering_drop_indexed(struct tiering *tg, const char *why)
{
    for (int i = 0; i < tg->n; i++) {
        if (!tg->slot[i].indexed)
            continue;
        struct tier *t = tg->slot[i].t;
        uint64_t keys = 0, vol = 0, total = 0;
        for (int db = 0; db < (int)tg->srv->cfg.databases; db++) {
            t->index->db_counts(t, db, &keys, &vol);
            total += keys;
        }
        if (total)
            log_notice("tier %s: dropping the %" PRIu64 " keys re-attached at start (%s)", t->name, total, why);
        t->index->flushdb(t, -1);
    }
}

/* ---- warm attach of the PMem pool ----------------------------------------- */

/* 24 bytes a pool record, at most 3/4 of the slots used: the table lives
 * only while recovery runs, but at 10M records it is 400 MB of DRAM. */
struct att_slot {
    uint64_t hash; /* 0: empty */
    uint64_t hint;
    uint32_t crc;
    uint32_t gen : ENTRY_STUB_GEN_BITS; /* a stub's generation: what the pool's records carry */
    uint32_t type : 8;
    uint32_t claimed : 1;
};
_Static_assert(sizeof(struct att_slot) == 24, "the attach table's slot is 24 bytes");

struct attach {
    int slot;            /* the pmem tier's index */
    struct att_slot *t;
    uint64_t mask;
    uint64_t n, claimed, freed, max_gen;
};

static struct attach *g_attach; /* start-up thread only */

static uint64_t att_hash(const struct tiering *tg, const char *key, size_t klen, uint32_t gen)
{
    struct ks_key k;
    ks_key_init(tg->srv->ks, &k, key, klen);
    uint64_t h = k.hash ^ ((uint64_t)gen * 0x9E3779B97F4A7C15ull);
    return h ? h : 1;
}

/* A pool record as the attach table knows it: decoded, its CRC field and
 * its table hash. 0, or -1 for a record that does not decode. */
static int att_rec(const struct tiering *tg, const void *rec, size_t len, struct tier_rec *r, uint32_t *crc,
                   uint64_t *h)
{
    size_t used = 0;
    if (tier_rec_decode(rec, len, r, &used) != ST_OK)
        return -1;
    memcpy(crc, (const unsigned char *)rec + 4, 4);
    *h = att_hash(tg, r->key, r->klen, (uint32_t)r->gen);
    return 0;
}

static int att_add(void *ud, const void *rec, size_t len, uint64_t hint)
{
    struct tiering *tg = ud;
    struct attach *a = g_attach;
    struct tier_rec r;
    uint32_t crc;
    uint64_t h;
    if (att_rec(tg, rec, len, &r, &crc, &h) != 0)
        return 0;
    if (r.gen == 0 || r.gen >= (1u << ENTRY_STUB_GEN_BITS)) {
        /* no stub can name it (ours never carry such a generation): free it
         * now, the record at hand (iterate allows that) */
        tg->slot[a->slot].t->ops->del(tg->slot[a->slot].t, r.key, r.klen, r.gen, hint);
        a->freed++;
        return 0;
    }
    for (uint64_t i = h & a->mask;; i = (i + 1) & a->mask) {
        if (a->t[i].hash == 0) {
            a->t[i] = (struct att_slot){ .hash = h, .hint = hint, .gen = (uint32_t)r.gen, .crc = crc, .type = r.type };
            a->n++;
            break;
        }
    }
    if ((uint32_t)r.gen > a->max_gen)
        a->max_gen = (uint32_t)r.gen;
    return 0;
}

int tiering_pmem_attach_begin(struct tiering *tg)
{
    if (!tg || !tg->pmem_attach)
        return ST_ENOENT;
    int slot = -1;
    for (int i = 0; i < tg->n; i++)
        if (!tg->slot[i].indexed && strcmp(tg->slot[i].t->name, "pmem") == 0)
            slot = i;
    if (slot < 0 || !tg->slot[slot].t->ops->del_at) /* attach_end frees through del_at */
        return ST_ENOENT;
    struct tier_stats ts;
    tg->slot[slot].t->ops->stats(tg->slot[slot].t, &ts);
    struct attach *a = calloc(1, sizeof(*a));
    uint64_t cap = 16;
    while (cap * 3 < ts.records * 4 + 16)
        cap <<= 1;
    if (a)
        a->t = calloc(cap, sizeof(*a->t));
    if (!a || !a->t) {
        free(a);
        log_warn("pmem tier: no memory for the attach table of %" PRIu64 " records", ts.records);
        return ST_ENOMEM;
    }
    a->slot = slot;
    a->mask = cap - 1;
    g_attach = a;
    tg->slot[slot].t->ops->iterate(tg->slot[slot].t, att_add, tg);
    /* records stored from here on (the load) take generations above every
     * record of the previous run: none can pass for one of them */
    uint32_t next = atomic_load(&tg->next_gen);
    if (a->max_gen + 1 > next)
        atomic_store(&tg->next_gen, (uint32_t)a->max_gen + 1);
    return ST_OK;
}

int tiering_pmem_claim(struct tiering *tg, const char *key, size_t klen, int64_t expire_ms, uint64_t gen,
                       uint32_t crc, struct entry **stub)
{
    struct attach *a = g_attach;
    *stub = NULL;
    if (!a || gen == 0 || gen >= (1u << ENTRY_STUB_GEN_BITS))
        return ST_ENOENT;
    uint64_t h = att_hash(tg, key, klen, (uint32_t)gen);
    for (uint64_t i = h & a->mask; a->t[i].hash; i = (i + 1) & a->mask) {
        struct att_slot *s = &a->t[i];
        if (s->hash != h || s->gen != (uint32_t)gen || s->crc != crc || s->claimed)
            continue;
        if (s->hint >> ENTRY_STUB_HINT_BITS)
            return ST_ENOENT;
        *stub = make_stub(tg, a->slot, key, klen, s->type, expire_ms, (uint32_t)gen, s->hint);
        if (!*stub)
            return ST_ENOMEM;
        s->claimed = 1;
        a->claimed++;
        return ST_OK;
    }
    return ST_ENOENT;
}

void tiering_pmem_attach_end(struct tiering *tg, uint64_t *claimed, uint64_t *freed)
{
    *claimed = *freed = 0;
    if (!tg || !tg->pmem_attach)
        return;
    tg->pmem_attach = 0;
    struct attach *a = g_attach;
    if (!a) {
        /* no snapshot was loaded: nothing names the pool's records */
        for (int i = 0; i < tg->n; i++) {
            if (tg->slot[i].indexed || strcmp(tg->slot[i].t->name, "pmem") != 0)
                continue;
            struct tier_stats ts;
            tg->slot[i].t->ops->stats(tg->slot[i].t, &ts);
            if (ts.records)
                log_notice("pmem tier: no snapshot names the %" PRIu64 " records in the pool: cleared",
                           ts.records);
            *freed = ts.records;
            tg->slot[i].t->ops->clear(tg->slot[i].t, 0);
        }
        return;
    }
    /* the table knows every record of the previous run by its place: free
     * the unclaimed ones without walking the pool again */
    struct tier *t = tg->slot[a->slot].t;
    if (a->claimed < a->n)
        for (uint64_t i = 0; i <= a->mask; i++) {
            struct att_slot *s = &a->t[i];
            if (s->hash && !s->claimed && t->ops->del_at(t, s->hint, s->gen, s->crc) == ST_OK)
                a->freed++;
        }
    *claimed = a->claimed;
    *freed = a->freed;
    free(a->t);
    free(a);
    g_attach = NULL;
}
