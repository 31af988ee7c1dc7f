/*
 * tiering.c -- the server's cold tiers (contract in tiering.h).
 *
 * What it owns: the tier list (mem-tier-size: a heap tier for tests;
 * pmem-path: the PMem tier), the codec (zstd with trained dictionaries,
 * engine/codec.h), the record generation counter, and the per-tier figures
 * INFO tiers shows. It implements the keyspace's cold ops, so the keyspace
 * calls back here when a lookup finds a stub (fetch, admit) or a stub dies
 * (drop).
 *
 * Demotion of one key (tiering_demote):
 *
 *   lock shard ─ find (no fetch, no touch) ─ serialise value ─ note entry
 *   pointer + shard write counter ─ unlock
 *       compress (dictionary for small values) ─ encode record ─ put to the
 *       first tier with room (outside the lock: other keys of the shard go on)
 *   lock shard ─ same entry, counter unchanged? ── yes: swap in a 16-byte
 *       stub (key, type, expiry, access stay in DRAM) ─ unlock
 *                                              └─ no: the key was written
 *       while its record was in flight: drop the record, leave the key
 *       (ST_EAGAIN; counted as demote_raced).
 *
 * The shard write counter (`dirty`) moves on every change to any key of the
 * shard, so it is a conservative generation for the in-flight window; the
 * record's own generation (a 32-bit counter, also in the stub) is what every
 * later read checks, so a stale record is never served.
 *
 * Reads: fetch gets the record (the tier checks CRC, key and generation),
 * decompresses, deserialises, and hands the keyspace a full entry, which it
 * promotes or lends (engine/keyspace.h). A record that cannot be read back is
 * a miss and a logged error. Admission: a read promotes when the stub was
 * read before within tier-promote-window seconds (the second access in the
 * window), always when the window is 0, never when it is -1.
 *
 * Threads: any worker calls in; tiers and the codec are thread-safe; the
 * counters here are relaxed atomics.
 */
#include "server/tiering.h"
#include "server/tiering_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/codec.h"
#include "engine/entry.h"
#include "engine/err.h"
#include "engine/ht.h"
#include "engine/keyspace.h"
#include "engine/serial.h"
#include "engine/tier.h"
#include "engine/tlimits.h"
#include "engine/util.h"
#include "server/config.h"
#include "server/log.h"
#include "server/server.h"
#include "tiers/mem.h"
#include "tiers/memidx.h"
#include "tiers/ssd.h"
#include "tiers/pmem.h"

/* Read latency: log-linear buckets over nanoseconds (4 per power of two). */
static unsigned lat_bucket(uint64_t ns)
{
    if (ns < 4)
        return (unsigned)ns;
    unsigned lg = 63u - (unsigned)__builtin_clzll(ns);
    unsigned sub = (unsigned)((ns >> (lg - 2)) & 3);
    unsigned idx = lg * 4 + sub;
    return idx < LAT_BUCKETS ? idx : LAT_BUCKETS - 1;
}

void lat_add(struct lat_hist *h, uint64_t ns)
{
    atomic_fetch_add_explicit(&h->b[lat_bucket(ns)], 1, memory_order_relaxed);
}

/* Upper bound of bucket i, in ns. */
static uint64_t lat_bucket_top(unsigned i)
{
    if (i < 4)
        return i;
    unsigned lg = i / 4, sub = i % 4;
    return ((uint64_t)(4 + sub + 1) << (lg - 2)) - 1;
}

static double lat_pct(struct lat_hist *h, double pct)
{
    uint64_t total = 0, seen = 0;
    uint64_t v[LAT_BUCKETS];
    for (unsigned i = 0; i < LAT_BUCKETS; i++) {
        v[i] = atomic_load_explicit(&h->b[i], memory_order_relaxed);
        total += v[i];
    }
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)((double)total * pct / 100.0);
    if (want >= total)
        want = total - 1;
    for (unsigned i = 0; i < LAT_BUCKETS; i++) {
        seen += v[i];
        if (seen > want)
            return (double)lat_bucket_top(i) / 1000.0;
    }
    return 0;
}

/* ---- dictionaries: stored with every tier --------------------------- */

static int on_dict(void *ud, uint32_t id, const void *dict, size_t len)
{
    struct tiering *tg = ud;
    int stored = 0;
    for (int i = 0; i < tg->n; i++) {
        if (tg->slot[i].t->ops->put_dict(tg->slot[i].t, id, dict, len) == ST_OK)
            stored++;
        else
            log_warn("tier %s: cannot store compression dictionary %u", tg->slot[i].t->name, id);
    }
    if (stored == tg->n)
        log_verbose("tiers: new compression dictionary %u (%zu bytes)", id, len);
    return stored == tg->n ? 0 : -1;
}

static void ssd_log(void *ud, int level, const char *msg)
{
    (void)ud;
    if (level >= SSD_LOG_WARNING)
        log_warn("ssd tier: %s", msg);
    else
        log_notice("ssd tier: %s", msg);
}

static void pmem_log(void *ud, int level, const char *msg)
{
    (void)ud;
    if (level >= PTIER_LOG_WARNING)
        log_warn("pmem tier: %s", msg);
    else
        log_notice("pmem tier: %s", msg);
}

/* ---- cold ops ----------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Decodes buf as a record of key and rebuilds its value (tiering.h). */
int tiering_decode_record(struct server *srv, struct codec *codec, const void *buf, size_t len, const char *key,
                          size_t klen, int64_t expire_ms, struct entry **out)
{
    struct tier_rec r;
    void *plain = NULL;
    const void *ser = NULL;
    int rc = tier_rec_decode(buf, len, &r, &len);
    if (rc == ST_OK && (r.klen != klen || memcmp(r.key, key, klen) != 0))
        rc = ST_ECORRUPT;
    if (rc == ST_OK) {
        if (r.flags & TIER_REC_F_RAW) {
            ser = r.val;
            if (r.vlen != r.rawlen)
                rc = ST_ECORRUPT;
        } else {
            plain = malloc(r.rawlen ? r.rawlen : 1);
            if (!plain)
                rc = ST_ENOMEM;
            else
                rc = codec_decompress(codec, r.dict_id, 0, r.val, r.vlen, plain, r.rawlen);
            ser = plain;
        }
    }
    if (rc == ST_OK) {
        struct type_limits lim;
        server_type_limits(srv, &lim);
        /* the keyspace's seed, as every dict of the keyspace has: a value read
         * back twice iterates in the same bucket order (HSCAN cursors) */
        struct serial_dec_opts opts = { .flags = SERIAL_DEC_SEED, .seed = srv->ks->seed };
        rc = serial_decode_ex(r.type, ser, r.rawlen, key, (uint32_t)klen,
                              expire_ms == TIERING_EXPIRE_OF_REC ? r.expire_ms : expire_ms, &lim, &opts, out);
    }
    free(plain);
    return rc;
}

/* (tiering_internal.h) */
int tiering_rec_to_entry(struct tiering *tg, int slot, const void *buf, size_t len, const char *key, size_t klen,
                         int64_t expire_ms, struct entry **out)
{
    (void)slot;
    return tiering_decode_record(tg->srv, tg->codec, buf, len, key, klen, expire_ms, out);
}

/* Builds the full entry of stub from its record (fetch of struct ks_cold_ops). */
static int cold_fetch(void *ud, int db, const struct entry *stub, struct entry **out)
{
    struct tiering *tg = ud;
    struct entry_stub st;
    entry_stub_get(stub, &st);
    (void)db;
    if (st.tier >= tg->n)
        return ST_ECORRUPT;
    struct tier_slot *s = &tg->slot[st.tier];
    uint64_t t0 = now_ns();
    void *buf = NULL;
    size_t len = 0;
    int rc = s->t->ops->get(s->t, entry_key(stub), stub->klen, st.gen, st.hint, &buf, &len, NULL);
    if (rc == ST_OK) {
        struct entry *full = NULL;
        /* the stub's expiry is the one in force (EXPIRE on a cold key) */
        rc = tiering_rec_to_entry(tg, st.tier, buf, len, entry_key(stub), stub->klen, entry_expire(stub), &full);
        if (rc == ST_OK && full->type != stub->type) {
            entry_destroy(full);
            rc = ST_ECORRUPT;
        }
        if (rc == ST_OK)
            *out = full;
    }
    free(buf);
    if (rc != ST_OK) {
        atomic_fetch_add_explicit(&s->read_failures, 1, memory_order_relaxed);
        log_warn("tier %s: the value of key '%.*s' cannot be read back (%s); the key is dropped", s->t->name,
                 (int)(stub->klen > 64 ? 64 : stub->klen), entry_key(stub), st_strerror(rc));
        return rc;
    }
    (*out)->access = stub->access;
    atomic_fetch_add_explicit(&s->reads, 1, memory_order_relaxed);
    lat_add(&s->lat, now_ns() - t0);
    return ST_OK;
}

static int cold_admit(void *ud, const struct entry *stub)
{
    struct tiering *tg = ud;
    long long window = cfg_load(tg->srv->cfg.tier_promote_window);
    if (window < 0)
        return 0;
    if (window == 0)
        return 1;
    /* the second read since demotion, within the window of the first */
    return (stub->access >> 24) >= 1 && ks_idle_seconds(tg->srv->ks, stub->access) < (uint64_t)window;
}

static void cold_drop(void *ud, const struct entry *stub, int promoted)
{
    struct tiering *tg = ud;
    struct entry_stub st;
    entry_stub_get(stub, &st);
    if (st.tier >= tg->n)
        return;
    struct tier_slot *s = &tg->slot[st.tier];
    s->t->ops->del(s->t, entry_key(stub), stub->klen, st.gen, st.hint);
    atomic_fetch_add_explicit(promoted ? &s->promotions : &s->drops, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&s->cold_keys, 1, memory_order_relaxed);
}

/* ---- indexed tiers: keys with no stub ----------------------------------- */

/* The admission rule for reads of indexed tiers, which keep nothing per key
 * in DRAM: the ghost table remembers (a tag of) the key and the clock of its
 * last read; a read finding its own tag within the window promotes. */
static int ghost_admit(struct tiering *tg, uint64_t hash)
{
    long long window = cfg_load(tg->srv->cfg.tier_promote_window);
    if (window < 0)
        return 0;
    if (window == 0)
        return 1;
    uint32_t now = ks_lru_clock(tg->srv->ks) & KS_LRU_CLOCK_MAX;
    _Atomic uint64_t *g = &tg->ghost[hash & ((1u << TIERING_GHOST_BITS) - 1)];
    uint64_t tag = hash >> 24 << 24;
    uint64_t v = atomic_load_explicit(g, memory_order_relaxed);
    if ((v & ~(uint64_t)KS_LRU_CLOCK_MAX) == tag && ks_idle_seconds(tg->srv->ks, (uint32_t)v) < (uint64_t)window)
        return 1;
    atomic_store_explicit(g, tag | now, memory_order_relaxed);
    return 0;
}

/* Reads key's record from indexed tier slot i on this thread (the rare
 * path: nothing was read ahead for it). ST_OK with *buf owned. */
static int sync_fetch(struct tiering *tg, int i, int db, const char *key, size_t klen, void **buf, size_t *len,
                      uint64_t *loc, uint64_t *seq)
{
    struct tier_slot *s = &tg->slot[i];
    struct tier_req r = { .db = db, .key = key, .klen = (uint32_t)klen, .done = NULL };
    atomic_fetch_add_explicit(&s->sync_reads, 1, memory_order_relaxed);
    int rc = s->t->index->fetch(s->t, &r);
    if (rc == ST_OK) {
        *buf = r.buf;
        *len = r.len;
        *loc = r.loc;
        *seq = r.seq;
    }
    return rc;
}

/* cold.miss: the records read ahead for this command (ks_cold.fetched) are
 * used when still current; otherwise a probe says whether the key may be in
 * an indexed tier at all (the DRAM-only answer for nearly every miss), and
 * only then does this thread read it itself. */
static int cold_miss(void *ud, int db, const struct ks_key *k, int64_t now_ms, struct entry **out,
                     struct ks_cold_src *src)
{
    struct tiering *tg = ud;
    for (int i = 0; i < tg->n; i++) {
        struct tier_slot *s = &tg->slot[i];
        if (!s->indexed)
            continue;
        struct tier *t = s->t;
        const void *rec = NULL;
        void *owned = NULL;
        size_t len = 0;
        uint64_t loc = 0, seq = 0;
        int rc = ks_cold.fetched ? tgf_lookup(ks_cold.fetched, i, db, k->p, k->len, &rec, &len, &loc, &seq)
                                 : ST_EAGAIN;
        if (rc == ST_OK && !t->index->current(t, db, k->p, k->len, loc))
            rc = ST_EAGAIN; /* moved or replaced since it was read */
        if (rc != ST_OK) {
            if (!t->index->probe(t, db, k->p, k->len))
                continue;
            uint64_t t0 = now_ns();
            rc = sync_fetch(tg, i, db, k->p, k->len, &owned, &len, &loc, &seq);
            if (rc == ST_ENOENT)
                continue;
            if (rc != ST_OK) {
                atomic_fetch_add_explicit(&s->read_failures, 1, memory_order_relaxed);
                log_warn("tier %s: the value of key '%.*s' cannot be read back (%s); the key is lost", t->name,
                         (int)(k->len > 64 ? 64 : k->len), k->p, st_strerror(rc));
                ks_cold.lost++;
                return ST_ENOENT;
            }
            lat_add(&s->lat, now_ns() - t0);
            rec = owned;
        }
        struct tier_rec r;
        size_t used = 0;
        rc = tier_rec_decode(rec, len, &r, &used);
        if (rc == ST_OK && r.expire_ms >= 0 && r.expire_ms <= now_ms) {
            /* expired while cold: gone, as a lazy expiry */
            t->index->remove(t, db, k->p, k->len, loc);
            atomic_fetch_add_explicit(&s->expired, 1, memory_order_relaxed);
            free(owned);
            return ST_ENOENT;
        }
        struct entry *full = NULL;
        if (rc == ST_OK)
            rc = tiering_rec_to_entry(tg, i, rec, len, k->p, k->len, TIERING_EXPIRE_OF_REC, &full);
        uint64_t gen = rc == ST_OK ? r.gen : 0;
        free(owned);
        if (rc != ST_OK) {
            atomic_fetch_add_explicit(&s->read_failures, 1, memory_order_relaxed);
            log_warn("tier %s: the record of key '%.*s' cannot be decoded (%s); the key is dropped", t->name,
                     (int)(k->len > 64 ? 64 : k->len), k->p, st_strerror(rc));
            t->index->remove(t, db, k->p, k->len, loc);
            ks_cold.lost++;
            return ST_ENOENT;
        }
        atomic_fetch_add_explicit(&s->reads, 1, memory_order_relaxed);
        full->access = (uint32_t)(gen >> 32); /* kept in the record (tiering_demote) */
        src->tier = i;
        src->loc = loc;
        src->gen = gen;
        src->snap_pre = tg->snap_mark[i] && seq <= tg->snap_mark[i];
        src->admit = ks_cold.readonly ? ghost_admit(tg, k->hash) : 1;
        *out = full;
        return ST_OK;
    }
    return ST_ENOENT;
}

/* cold.miss_promoted: the value is in DRAM now; its record must go, or a
 * later delete in DRAM would let it reappear. If compaction moved the record
 * since it was read, find it again by key (the same generation) and drop it
 * there. */
static void cold_miss_promoted(void *ud, int db, const struct ks_key *k, const struct ks_cold_src *src)
{
    struct tiering *tg = ud;
    struct tier_slot *s = &tg->slot[src->tier];
    struct tier *t = s->t;
    uint64_t loc = src->loc, seq = 0;
    for (int tries = 0; tries < 8; tries++) {
        if (t->index->remove(t, db, k->p, k->len, loc) == ST_OK) {
            atomic_fetch_add_explicit(&s->promotions, 1, memory_order_relaxed);
            return;
        }
        void *buf = NULL;
        size_t len = 0;
        if (sync_fetch(tg, src->tier, db, k->p, k->len, &buf, &len, &loc, &seq) != ST_OK)
            return; /* gone already */
        struct tier_rec r;
        size_t used = 0;
        int same = tier_rec_decode(buf, len, &r, &used) == ST_OK && r.gen == src->gen;
        free(buf);
        if (!same) {
            log_warn("tier %s: key '%.*s' has another record than the one promoted; dropping it", t->name,
                     (int)(k->len > 64 ? 64 : k->len), k->p);
        }
    }
    log_warn("tier %s: cannot drop the record of promoted key '%.*s'", t->name, (int)(k->len > 64 ? 64 : k->len),
             k->p);
}

static void cold_flushdb(void *ud, int db)
{
    struct tiering *tg = ud;
    for (int i = 0; i < tg->n; i++)
        if (tg->slot[i].indexed)
            tg->slot[i].t->index->flushdb(tg->slot[i].t, db);
}

static void cold_swapdb(void *ud, int a, int b)
{
    struct tiering *tg = ud;
    for (int i = 0; i < tg->n; i++)
        if (tg->slot[i].indexed)
            tg->slot[i].t->index->swapdb(tg->slot[i].t, a, b);
}

void tiering_db_counts(struct tiering *tg, int db, uint64_t *keys, uint64_t *volatile_keys)
{
    uint64_t k = 0, v = 0;
    for (int i = 0; i < tg->n; i++) {
        if (!tg->slot[i].indexed)
            continue;
        uint64_t a = 0, b = 0;
        tg->slot[i].t->index->db_counts(tg->slot[i].t, db, &a, &b);
        k += a;
        v += b;
    }
    *keys = k;
    if (volatile_keys)
        *volatile_keys = v;
}

const char *tiering_where(struct tiering *tg, int db, const struct ks_key *k, int64_t now_ms)
{
    for (int i = 0; i < tg->n; i++) {
        struct tier_slot *s = &tg->slot[i];
        if (!s->indexed)
            continue;
        const void *rec = NULL;
        size_t len = 0;
        uint64_t loc = 0, seq = 0;
        int rc = ks_cold.fetched ? tgf_lookup(ks_cold.fetched, i, db, k->p, k->len, &rec, &len, &loc, &seq)
                                 : ST_EAGAIN;
        void *owned = NULL;
        if ((rc != ST_OK || !s->t->index->current(s->t, db, k->p, k->len, loc)) &&
            s->t->index->probe(s->t, db, k->p, k->len)) {
            rc = sync_fetch(tg, i, db, k->p, k->len, &owned, &len, &loc, &seq);
            rec = owned;
        }
        struct tier_rec r;
        size_t used = 0;
        int live = rc == ST_OK && tier_rec_decode(rec, len, &r, &used) == ST_OK &&
                   !(r.expire_ms >= 0 && r.expire_ms <= now_ms);
        free(owned);
        if (live)
            return s->t->name;
    }
    return NULL;
}

uint64_t tiering_expired_keys(struct tiering *tg)
{
    uint64_t n = 0;
    for (int i = 0; i < tg->n; i++) {
        if (!tg->slot[i].indexed)
            continue;
        struct tier_stats ts;
        tg->slot[i].t->ops->stats(tg->slot[i].t, &ts);
        n += ts.expired + atomic_load_explicit(&tg->slot[i].expired, memory_order_relaxed);
    }
    return n;
}

int tiering_cascade_source(struct tiering *tg, int watermark_pct)
{
    for (int i = 0; i < tg->n; i++) {
        struct tier_slot *s = &tg->slot[i];
        if (s->indexed)
            continue;
        int next = -1;
        for (int j = i + 1; j < tg->n && next < 0; j++)
            if (tg->slot[j].indexed)
                next = j;
        if (next < 0)
            continue;
        struct tier_stats ts;
        s->t->ops->stats(s->t, &ts);
        if (ts.capacity_bytes && ts.used_bytes * 100 > ts.capacity_bytes * (uint64_t)watermark_pct)
            return i;
    }
    return -1;
}

uint64_t tiering_evicted_keys(struct tiering *tg)
{
    uint64_t n = 0;
    for (int i = 0; i < tg->n; i++) {
        if (!tg->slot[i].indexed)
            continue;
        struct tier_stats ts;
        tg->slot[i].t->ops->stats(tg->slot[i].t, &ts);
        n += ts.evicted;
    }
    return n;
}

int tiering_has_indexed(const struct tiering *tg)
{
    return tg->nindexed > 0;
}

/* ---- lifecycle ------------------------------------------------------------ */

static int load_dict(void *ud, uint32_t id, const void *dict, size_t len)
{
    struct tiering *tg = ud;
    int rc = codec_add_dict(tg->codec, id, dict, len);
    if (rc != ST_OK && rc != ST_EEXIST)
        log_warn("tiers: stored compression dictionary %u cannot be loaded (%s)", id, st_strerror(rc));
    return 0;
}

int tiering_create(struct server *srv, struct tiering **out)
{
    struct config *cfg = &srv->cfg;
    *out = NULL;
    int want_mem = cfg->mem_tier_size > 0;
    int want_pmem = cfg->pmem_path && cfg->pmem_path[0];
    int want_ssd = cfg->ssd_path && cfg->ssd_path[0];
    if (!want_mem && !want_pmem && !want_ssd)
        return ST_OK;
    struct tiering *tg = calloc(1, sizeof(*tg));
    if (!tg)
        return ST_ENOMEM;
    tg->srv = srv;
    atomic_store(&tg->next_gen, 1);
    int rc;
    if (want_pmem) {
        struct ptier_conf pc = { .path = cfg->pmem_path, .size = (uint64_t)cfg->pmem_size, .log = pmem_log,
                                 .log_ud = NULL };
        struct tier *t = NULL;
        rc = ptier_create(&pc, &t);
        if (rc != ST_OK) {
            log_warn("pmem tier: cannot open or create the pool at %s (%s)", cfg->pmem_path, st_strerror(rc));
            goto fail;
        }
        struct tier_stats ts;
        t->ops->stats(t, &ts);
        if (cfg->pmem_on_start == 1) {
            /* attach: recovery (persist.c) keeps the records a recovered
             * snapshot names and frees the rest */
            log_notice("pmem tier: pool %s, %" PRIu64 " MB, %" PRIu64 " records left by a previous run "
                       "(pmem-on-start attach)",
                       cfg->pmem_path, ts.capacity_bytes >> 20, ts.records);
            tg->pmem_attach = 1;
        } else {
            log_notice("pmem tier: pool %s, %" PRIu64 " MB; pmem-on-start clear: dropping %" PRIu64
                       " records left by a previous run",
                       cfg->pmem_path, ts.capacity_bytes >> 20, ts.records);
            rc = t->ops->clear(t, 1);
            if (rc != ST_OK) {
                log_warn("pmem tier: cannot clear the pool (%s)", st_strerror(rc));
                tier_destroy(&t);
                goto fail;
            }
        }
        tg->slot[tg->n++].t = t;
    }
    if (want_ssd) {
        struct ssd_conf sc;
        ssd_conf_defaults(&sc);
        sc.dir = cfg->ssd_path;
        sc.size = (uint64_t)cfg->ssd_size;
        sc.segment_size = (uint64_t)cfg->ssd_segment_size;
        sc.write_buffer = (uint64_t)cfg->ssd_write_buffer;
        sc.io_threads = (unsigned)cfg->ssd_io_threads;
        sc.compact_live_ratio = (double)cfg->ssd_compact_live_ratio / 100.0;
        sc.databases = (unsigned)cfg->databases;
        sc.direct_io = (int)cfg->ssd_direct_io;
        sc.fsync = (int)cfg->ssd_fsync;
        sc.attach = cfg->ssd_on_start == 0;
        sc.flush_ms = (unsigned)cfg->ssd_flush_ms;
        sc.log = ssd_log;
        struct tier *t = NULL;
        if (!sc.attach)
            log_notice("ssd tier: ssd-on-start clear: dropping the segments a previous run left in %s", cfg->ssd_path);
        rc = ssd_create(&sc, &t);
        if (rc != ST_OK) {
            log_warn("ssd tier: cannot open %s (%s)", cfg->ssd_path, st_strerror(rc));
            goto fail;
        }
        struct ssd_stats ss;
        ssd_stats(t, &ss);
        log_notice("ssd tier: %s, %" PRIu64 " MB, %" PRIu64 " keys re-attached from %" PRIu64
                   " segments (%" PRIu64 " damaged entries skipped)%s",
                   cfg->ssd_path, (uint64_t)cfg->ssd_size >> 20, ss.attach_records, ss.attach_segments,
                   ss.attach_damaged, ss.direct_io ? ", O_DIRECT" : "");
        tg->slot[tg->n++].t = t;
    }
    if (want_mem) {
        struct tier *t = NULL;
        if (cfg_load(cfg->mem_tier_indexed)) {
            struct mxtier_conf mc = { .capacity_bytes = (uint64_t)cfg->mem_tier_size,
                                      .databases = (unsigned)cfg->databases,
                                      .delay_us = (uint32_t)cfg_load(cfg->mem_tier_read_delay_us) };
            rc = mxtier_create(&mc, &t);
        } else {
            struct mtier_conf mc = { .capacity_bytes = (uint64_t)cfg->mem_tier_size };
            rc = mtier_create(&mc, &t);
        }
        if (rc != ST_OK) {
            log_warn("mem tier: cannot create it (%s)", st_strerror(rc));
            goto fail;
        }
        tg->slot[tg->n++].t = t;
    }
    for (int i = 0; i < tg->n; i++) {
        tg->slot[i].indexed = tg->slot[i].t->index != NULL;
        tg->nindexed += tg->slot[i].indexed;
    }
    struct codec_conf cc;
    codec_conf_init(&cc);
    cc.level = (int)cfg->tier_zstd_level;
    if (cfg->tier_dict_size > 0)
        cc.dict_size = (size_t)cfg->tier_dict_size;
    cc.small_max = cfg->tier_dict_size > 0 ? (size_t)cfg->tier_dict_value_max : 0;
    cc.on_dict = on_dict;
    cc.ud = tg;
    rc = codec_create(&cc, &tg->codec);
    if (rc != ST_OK) {
        log_warn("tiers: cannot create the compression codec (%s)", st_strerror(rc));
        goto fail;
    }
    for (int i = 0; i < tg->n; i++)
        tg->slot[i].t->ops->each_dict(tg->slot[i].t, load_dict, tg);
    struct ks_cold_ops ops = { .fetch = cold_fetch, .admit = cold_admit, .drop = cold_drop, .ud = tg };
    if (tg->nindexed) {
        ops.miss = cold_miss;
        ops.miss_promoted = cold_miss_promoted;
        ops.flushdb = cold_flushdb;
        ops.swapdb = cold_swapdb;
    }
    ks_set_cold_ops(srv->ks, &ops);
    for (int i = 0; i < tg->n; i++)
        log_notice("tier %d: %s", i, tg->slot[i].t->name);
    *out = tg;
    return ST_OK;
fail:
    for (int i = 0; i < tg->n; i++)
        tier_destroy(&tg->slot[i].t);
    free(tg);
    return ST_EIO;
}

void tiering_destroy(struct tiering **tp)
{
    struct tiering *tg = *tp;
    if (!tg)
        return;
    codec_destroy(&tg->codec);
    for (int i = 0; i < tg->n; i++)
        tier_destroy(&tg->slot[i].t);
    free(tg);
    *tp = NULL;
}

/* ---- demotion --------------------------------------------------------------- */

int tiering_can_demote(struct tiering *tg)
{
    for (int i = 0; i < tg->n; i++) {
        struct tier_stats ts;
        tg->slot[i].t->ops->stats(tg->slot[i].t, &ts);
        if (!ts.failed)
            return 1;
    }
    return 0;
}

/* Compresses ser into a new encoded record (returned owned, *len bytes). */
static int build_record(struct tiering *tg, const char *key, uint32_t klen, uint8_t type, const void *ser,
                        size_t serlen, uint32_t gen, int64_t expire_ms, void **out, size_t *len)
{
    size_t cap = codec_bound(serlen);
    void *z = malloc(cap ? cap : 1);
    if (!z)
        return ST_ENOMEM;
    size_t zlen = 0;
    uint32_t dict_id = 0;
    int raw = 0;
    int rc = codec_compress(tg->codec, ser, serlen, z, cap, &zlen, &dict_id, &raw);
    if (rc != ST_OK) {
        free(z);
        return rc;
    }
    struct tier_rec r = { .gen = gen, .expire_ms = expire_ms, .key = key, .klen = klen,
                          .val = z, .vlen = (uint32_t)zlen, .rawlen = (uint32_t)serlen,
                          .dict_id = raw ? 0 : dict_id, .type = type, .flags = raw ? TIER_REC_F_RAW : 0 };
    size_t n = tier_rec_size(&r);
    void *rec = malloc(n);
    if (!rec) {
        free(z);
        return ST_ENOMEM;
    }
    tier_rec_encode(&r, rec);
    free(z);
    *out = rec;
    *len = n;
    return ST_OK;
}

/* Clears ENTRY_F_MOVING on whatever entry key has now (the demoter's own
 * flag: only one demotion of a key is in flight). Takes the shard lock. */
static void moving_done(struct keyspace *ks, int db, const struct ks_key *k, int64_t now_ms)
{
    ks_lock(ks, k->shard);
    struct entry **ref = ks_find_ref(ks, db, k, now_ms, KS_F_NOTOUCH | KS_F_STUB | KS_F_NOMISS);
    if (ref)
        (*ref)->flags &= (uint8_t)~ENTRY_F_MOVING;
    ks_unlock(ks, k->shard);
}

/* Stores rec in the first tier with room: *slot and *hint say where. For an
 * indexed tier the record first gets the access clock in its generation's
 * high bits (no stub will keep it). */
int tiering_store_record(struct tiering *tg, int db, void *rec, size_t reclen, uint32_t gen, uint32_t access,
                         int64_t expire_ms, int *slot, uint64_t *hint)
{
    int last = ST_EFULL, stamped = 0;
    for (int i = 0; i < tg->n; i++) {
        struct tier *t = tg->slot[i].t;
        if (tg->slot[i].indexed != stamped) {
            tier_rec_restamp(rec, tg->slot[i].indexed ? gen | (uint64_t)access << 32 : gen, expire_ms);
            stamped = tg->slot[i].indexed;
        }
        int rc = tg->slot[i].indexed ? t->index->insert(t, db, rec, reclen, hint)
                                     : t->ops->put(t, rec, reclen, hint, NULL);
        if (rc == ST_OK) {
            *slot = i;
            return ST_OK;
        }
        atomic_fetch_add_explicit(&tg->slot[i].demote_failures, 1, memory_order_relaxed);
        if (rc == ST_EIO)
            log_warn("tier %s: write failed; demoting elsewhere", t->name);
        last = rc == ST_EIO && last != ST_EFULL ? ST_EIO : (rc == ST_EFULL ? ST_EFULL : last);
    }
    return last;
}

int tiering_demote(struct tiering *tg, int db, const char *key, size_t klen, int64_t now_ms, size_t *freed)
{
    struct keyspace *ks = tg->srv->ks;
    struct ks_key k;
    void *ser = NULL, *rec = NULL;
    size_t serlen = 0, reclen = 0;
    int rc;

    if (freed)
        *freed = 0;
    atomic_fetch_add_explicit(&tg->demote_calls, 1, memory_order_relaxed);
    ks_key_init(ks, &k, key, klen);
    ks_lock(ks, k.shard);
    struct entry **ref = ks_find_ref(ks, db, &k, now_ms, KS_F_NOTOUCH | KS_F_STUB | KS_F_NOMISS);
    if (!ref || (*ref)->enc == ENC_TIER) {
        ks_unlock(ks, k.shard);
        return ST_ENOENT;
    }
    struct entry *e = *ref;
    if ((e->flags & ENTRY_F_MOVING) || ks->shards[k.shard].pins) { /* being demoted elsewhere, or in use */
        ks_unlock(ks, k.shard);
        return ST_EAGAIN;
    }
    rc = serial_encode(e, &ser, &serlen);
    uint64_t dirty = ks->shards[k.shard].dirty;
    int64_t expire_ms = entry_expire(e);
    uint8_t type = e->type;
    uint32_t access = e->access;
    if (rc == ST_OK)
        e->flags |= ENTRY_F_MOVING;
    ks_unlock(ks, k.shard);
    /* from here e may be gone: it is only compared as a pointer below */
    if (rc != ST_OK)
        return rc;

    /* generations fit the stub: 1 .. 2^20 - 1, wrapping (a stub always names
     * its own live record; the generation guards against a stale hint) */
    uint32_t gen = atomic_fetch_add_explicit(&tg->next_gen, 1, memory_order_relaxed) %
                       ((1u << ENTRY_STUB_GEN_BITS) - 1) + 1;
    rc = build_record(tg, key, (uint32_t)klen, type, ser, serlen, gen, expire_ms, &rec, &reclen);
    free(ser);
    int slot = -1;
    uint64_t hint = 0;
    if (rc == ST_OK)
        rc = tiering_store_record(tg, db, rec, reclen, gen, access, expire_ms, &slot, &hint);
    free(rec);
    if (rc != ST_OK) {
        moving_done(ks, db, &k, now_ms);
        return rc;
    }
    struct tier_slot *s = &tg->slot[slot];
    if (!s->indexed && hint >> ENTRY_STUB_HINT_BITS) { /* a location the stub cannot hold: keep the key hot */
        s->t->ops->del(s->t, key, klen, gen, hint);
        moving_done(ks, db, &k, now_ms);
        return ST_ERANGE;
    }

    ks_lock(ks, k.shard);
    ref = ks_find_ref(ks, db, &k, now_ms, KS_F_NOTOUCH | KS_F_STUB | KS_F_NOMISS);
    if (!ref || *ref != e || ks->shards[k.shard].dirty != dirty || e->type != type ||
        ks->shards[k.shard].pins) {
        if (ref)
            (*ref)->flags &= (uint8_t)~ENTRY_F_MOVING;
        ks_unlock(ks, k.shard);
        if (s->indexed)
            s->t->index->remove(s->t, db, key, klen, hint);
        else
            s->t->ops->del(s->t, key, klen, gen, hint);
        atomic_fetch_add_explicit(&tg->demote_raced, 1, memory_order_relaxed);
        return ST_EAGAIN;
    }
    if (s->indexed) {
        /* the tier's index finds it from now on: nothing stays in DRAM */
        size_t before = entry_mem(e) + sizeof(void *);
        ks_unlink_demoted(ks, db, &k, ref);
        ks_unlock(ks, k.shard);
        atomic_fetch_add_explicit(&s->demotions, 1, memory_order_relaxed);
        if (freed)
            *freed = before;
        return ST_OK;
    }
    struct entry *stub = entry_create(key, (uint32_t)klen, type, ENC_TIER, ENTRY_STUB_VLEN, expire_ms);
    if (!stub) {
        e->flags &= (uint8_t)~ENTRY_F_MOVING;
        ks_unlock(ks, k.shard);
        s->t->ops->del(s->t, key, klen, gen, hint);
        return ST_ENOMEM;
    }
    struct entry_stub st = { .hint = hint, .gen = gen, .tier = (uint8_t)slot };
    entry_stub_set(stub, &st);
    /* the clock of the last access (stub LRU), no reads since demotion */
    stub->access = e->access & KS_LRU_CLOCK_MAX;
    stub->flags |= e->flags & ENTRY_F_RAWSTR;
    size_t before = entry_mem(e), after = entry_mem(stub);
    /* same key, same expiry flag: the table's counts stay right; not a write */
    stub->next = e->next;
    ht_replace_ref(ref, stub);
    ks_unlock(ks, k.shard);
    entry_destroy(e);
    atomic_fetch_add_explicit(&s->demotions, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->cold_keys, 1, memory_order_relaxed);
    if (freed)
        *freed = before > after ? before - after : 0;
    return ST_OK;
}

/* Moves the record of a stub on a stub tier to the first indexed tier after
 * it, as it is (compressed bytes are never recompressed), so the stub leaves
 * DRAM too: the cascade DRAM -> PMem -> SSD. */
static int move_stub(struct tiering *tg, int db, const char *key, size_t klen, int64_t now_ms, size_t *freed)
{
    struct keyspace *ks = tg->srv->ks;
    struct ks_key k;
    ks_key_init(ks, &k, key, klen);
    ks_lock(ks, k.shard);
    struct entry **ref = ks_find_ref(ks, db, &k, now_ms, KS_F_NOTOUCH | KS_F_STUB | KS_F_NOMISS);
    if (!ref || (*ref)->enc != ENC_TIER) {
        ks_unlock(ks, k.shard);
        return ST_ENOENT;
    }
    struct entry *stub = *ref;
    if ((stub->flags & ENTRY_F_MOVING) || ks->shards[k.shard].pins) {
        ks_unlock(ks, k.shard);
        return ST_EAGAIN;
    }
    struct entry_stub st;
    entry_stub_get(stub, &st);
    int64_t expire_ms = entry_expire(stub);
    uint32_t access = stub->access & KS_LRU_CLOCK_MAX;
    int to = -1;
    for (int i = st.tier + 1; i < tg->n && to < 0; i++)
        if (tg->slot[i].indexed)
            to = i;
    if (st.tier >= tg->n || to < 0) {
        ks_unlock(ks, k.shard);
        return st.tier >= tg->n ? ST_ENOENT : ST_EFULL;
    }
    stub->flags |= ENTRY_F_MOVING;
    ks_unlock(ks, k.shard);
    struct tier_slot *from = &tg->slot[st.tier], *dst = &tg->slot[to];
    void *rec = NULL;
    size_t len = 0;
    uint64_t loc = 0;
    int rc = from->t->ops->get(from->t, key, klen, st.gen, st.hint, &rec, &len, NULL);
    if (rc != ST_OK) {
        rc = rc == ST_ENOENT ? ST_EAGAIN : rc;
        goto fail;
    }
    struct tier_rec r;
    size_t used = 0;
    if (tier_rec_decode(rec, len, &r, &used) != ST_OK || used != len) {
        rc = ST_ECORRUPT;
        goto fail;
    }
    /* what only the stub knew goes into the record, which no stub will
     * accompany: the expiry in force (EXPIRE, PERSIST on the cold key) and
     * the access clock */
    tier_rec_restamp(rec, (r.gen & 0xffffffffu) | (uint64_t)access << 32, expire_ms);
    rc = dst->t->index->insert(dst->t, db, rec, len, &loc);
    free(rec);
    rec = NULL;
    if (rc != ST_OK) {
        atomic_fetch_add_explicit(&dst->demote_failures, 1, memory_order_relaxed);
        goto fail;
    }
    ks_lock(ks, k.shard);
    ref = ks_find_ref(ks, db, &k, now_ms, KS_F_NOTOUCH | KS_F_STUB | KS_F_NOMISS);
    struct entry_stub now;
    if (ref && *ref == stub)
        entry_stub_get(stub, &now);
    if (!ref || *ref != stub || now.gen != st.gen || now.hint != st.hint || now.tier != st.tier ||
        entry_expire(stub) != expire_ms || ks->shards[k.shard].pins) {
        if (ref)
            (*ref)->flags &= (uint8_t)~ENTRY_F_MOVING;
        ks_unlock(ks, k.shard);
        dst->t->index->remove(dst->t, db, key, klen, loc);
        atomic_fetch_add_explicit(&tg->demote_raced, 1, memory_order_relaxed);
        return ST_EAGAIN;
    }
    size_t before = entry_mem(stub) + sizeof(void *);
    ks_unlink_demoted(ks, db, &k, ref); /* the stub goes; its old record is dropped below */
    ks_unlock(ks, k.shard);
    from->t->ops->del(from->t, key, klen, st.gen, st.hint);
    atomic_fetch_sub_explicit(&from->cold_keys, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&dst->moved_in, 1, memory_order_relaxed);
    if (freed)
        *freed = before;
    return ST_OK;
fail:
    free(rec);
    moving_done(ks, db, &k, now_ms);
    return rc;
}

int tiering_demote_further(struct tiering *tg, int db, const char *key, size_t klen, int64_t now_ms, size_t *freed)
{
    if (freed)
        *freed = 0;
    if (!tg->nindexed)
        return ST_EFULL;
    return move_stub(tg, db, key, klen, now_ms, freed);
}

void tiering_demote_tracked(struct tiering *tg, int64_t now_ms)
{
    size_t n = 0;
    struct ks_tracked *t = ks_cold_take_tracked(&n);
    for (size_t i = 0; i < n; i++) {
        tiering_demote(tg, t[i].db, t[i].key, t[i].klen, now_ms, NULL);
        free(t[i].key);
    }
    free(t);
}

/* ---- figures ------------------------------------------------------------------ */

uint64_t tiering_heap_bytes(struct tiering *tg)
{
    uint64_t n = 0;
    for (int i = 0; i < tg->n; i++)
        n += tg->slot[i].t->ops->heap_bytes(tg->slot[i].t);
    return n;
}

uint64_t tiering_cold_keys(struct tiering *tg)
{
    uint64_t n = 0;
    for (int i = 0; i < tg->n; i++)
        n += atomic_load_explicit(&tg->slot[i].cold_keys, memory_order_relaxed);
    return n;
}

uint64_t tiering_dict_bytes(struct tiering *tg)
{
    struct codec_stats cs;
    codec_stats(tg->codec, &cs);
    return cs.dict_bytes;
}

const char *tiering_tier_name(struct tiering *tg, unsigned tier)
{
    return tier < (unsigned)tg->n ? tg->slot[tier].t->name : NULL;
}

void tiering_collect_thread(struct tiering *tg)
{
    if (ks_cold.lent)
        atomic_fetch_add_explicit(&tg->lent, ks_cold.lent, memory_order_relaxed);
    if (ks_cold.promoted)
        atomic_fetch_add_explicit(&tg->promoted, ks_cold.promoted, memory_order_relaxed);
    if (ks_cold.lost)
        atomic_fetch_add_explicit(&tg->lost, ks_cold.lost, memory_order_relaxed);
    ks_cold.lent = ks_cold.promoted = ks_cold.lost = 0;
}

static void addf(void (*add)(void *, const char *), void *ud, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void addf(void (*add)(void *, const char *), void *ud, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    add(ud, line);
}

/* The SSD tier's own figures, as ssd_* lines of INFO tiers. */
static void ssd_info(struct tier *t, void (*add)(void *ud, const char *line), void *ud)
{
    struct ssd_stats ss;
    ssd_stats(t, &ss);
    addf(add, ud, "ssd_segments:%" PRIu64 "\r\n", ss.segments);
    addf(add, ud, "ssd_segments_open:%" PRIu64 "\r\n", ss.segments_open);
    addf(add, ud, "ssd_segments_sealed:%" PRIu64 "\r\n", ss.segments_sealed);
    addf(add, ud, "ssd_used_bytes:%" PRIu64 "\r\n", ss.used_bytes);
    addf(add, ud, "ssd_live_bytes:%" PRIu64 "\r\n", ss.live_bytes);
    addf(add, ud, "ssd_capacity_bytes:%" PRIu64 "\r\n", ss.capacity_bytes);
    addf(add, ud, "ssd_index_bytes:%" PRIu64 "\r\n", ss.index_bytes);
    addf(add, ud, "ssd_index_entries:%" PRIu64 "\r\n", ss.index_entries);
    addf(add, ud, "ssd_buffer_bytes:%" PRIu64 "\r\n", ss.buffer_bytes);
    addf(add, ud, "ssd_bytes_written:%" PRIu64 "\r\n", ss.device_bytes_written);
    addf(add, ud, "ssd_record_bytes:%" PRIu64 "\r\n", ss.record_bytes_inserted);
    addf(add, ud, "ssd_write_amplification:%.3f\r\n",
         ss.record_bytes_inserted ? (double)ss.device_bytes_written / (double)ss.record_bytes_inserted : 0.0);
    addf(add, ud, "ssd_device_reads:%" PRIu64 "\r\n", ss.device_reads);
    addf(add, ud, "ssd_buffer_hits:%" PRIu64 "\r\n", ss.buffer_hits);
    addf(add, ud, "ssd_read_bytes:%" PRIu64 "\r\n", ss.read_bytes);
    addf(add, ud, "ssd_notes_written:%" PRIu64 "\r\n", ss.notes_written);
    addf(add, ud, "ssd_segments_compacted:%" PRIu64 "\r\n", ss.segments_compacted);
    addf(add, ud, "ssd_records_moved:%" PRIu64 "\r\n", ss.records_moved);
    addf(add, ud, "ssd_segments_expired:%" PRIu64 "\r\n", ss.segments_expired);
    addf(add, ud, "ssd_keys_expired:%" PRIu64 "\r\n", ss.keys_expired);
    addf(add, ud, "ssd_segments_evicted:%" PRIu64 "\r\n", ss.segments_evicted);
    addf(add, ud, "ssd_keys_evicted:%" PRIu64 "\r\n", ss.keys_evicted);
    addf(add, ud, "ssd_attach_records:%" PRIu64 "\r\n", ss.attach_records);
    addf(add, ud, "ssd_attach_damaged:%" PRIu64 "\r\n", ss.attach_damaged);
    addf(add, ud, "ssd_failed:%d\r\n", ss.failed);
    addf(add, ud, "ssd_direct_io:%d\r\n", ss.direct_io);
}

void tiering_info(struct tiering *tg, void (*add)(void *ud, const char *line), void *ud)
{
    struct codec_stats cs;
    codec_stats(tg->codec, &cs);
    addf(add, ud, "tiers:%d\r\n", tg->n);
    uint64_t indexed = 0;
    for (int i = 0; i < tg->n; i++) {
        if (!tg->slot[i].indexed)
            continue;
        struct tier_stats ts;
        tg->slot[i].t->ops->stats(tg->slot[i].t, &ts);
        indexed += ts.records;
    }
    addf(add, ud, "cold_keys:%" PRIu64 "\r\n", tiering_cold_keys(tg) + indexed);
    addf(add, ud, "cold_stubs:%" PRIu64 "\r\n", tiering_cold_keys(tg));
    addf(add, ud, "cold_fetch_suspended:%" PRIu64 "\r\n", atomic_load(&tg->fetch_suspended));
    addf(add, ud, "cold_fetch_records:%" PRIu64 "\r\n", atomic_load(&tg->fetch_records));
    addf(add, ud, "cold_reads_served:%" PRIu64 "\r\n", atomic_load(&tg->lent));
    addf(add, ud, "cold_promotions:%" PRIu64 "\r\n", atomic_load(&tg->promoted));
    addf(add, ud, "cold_lost:%" PRIu64 "\r\n", atomic_load(&tg->lost));
    addf(add, ud, "demote_raced:%" PRIu64 "\r\n", atomic_load(&tg->demote_raced));
    addf(add, ud, "compression_dicts:%" PRIu64 "\r\n", cs.dicts);
    addf(add, ud, "compression_dict_id:%u\r\n", cs.dict_id);
    addf(add, ud, "compression_dict_bytes:%" PRIu64 "\r\n", cs.dict_bytes);
    addf(add, ud, "compression_trainings:%" PRIu64 "\r\n", cs.trainings);
    addf(add, ud, "compression_raw_bytes:%" PRIu64 "\r\n", cs.raw_in);
    addf(add, ud, "compression_stored_bytes:%" PRIu64 "\r\n", cs.stored_out);
    addf(add, ud, "compression_ratio:%.4f\r\n", cs.raw_in ? (double)cs.stored_out / (double)cs.raw_in : 0.0);
    addf(add, ud, "compression_train_ratio:%.4f\r\n", cs.train_ratio);
    addf(add, ud, "compression_train_ratio_nodict:%.4f\r\n", cs.train_ratio_nodict);
    for (int i = 0; i < tg->n; i++) {
        struct tier_slot *s = &tg->slot[i];
        struct tier_stats ts;
        s->t->ops->stats(s->t, &ts);
        addf(add, ud,
             "tier_%s:keys=%" PRIu64 ",raw_bytes=%" PRIu64 ",stored_bytes=%" PRIu64 ",ratio=%.4f,used_bytes=%" PRIu64
             ",capacity_bytes=%" PRIu64 ",puts=%" PRIu64 ",gets=%" PRIu64 ",hits=%" PRIu64 ",misses=%" PRIu64
             ",dels=%" PRIu64 ",demotions=%" PRIu64 ",promotions=%" PRIu64 ",reads=%" PRIu64 ",failures=%" PRIu64
             ",errors=%" PRIu64 ",moved_in=%" PRIu64 ",sync_reads=%" PRIu64 ",expired=%" PRIu64
             ",read_p50_us=%.2f,read_p99_us=%.2f,read_p999_us=%.2f,failed=%d\r\n",
             s->t->name, ts.records, ts.raw_bytes, ts.stored_bytes,
             ts.raw_bytes ? (double)ts.stored_bytes / (double)ts.raw_bytes : 0.0, ts.used_bytes, ts.capacity_bytes,
             ts.puts, ts.gets, ts.hits, ts.misses, ts.dels, atomic_load(&s->demotions), atomic_load(&s->promotions),
             atomic_load(&s->reads),
             atomic_load(&s->demote_failures) + atomic_load(&s->read_failures), ts.errors,
             atomic_load(&s->moved_in), atomic_load(&s->sync_reads), atomic_load(&s->expired), lat_pct(&s->lat, 50), lat_pct(&s->lat, 99), lat_pct(&s->lat, 99.9), ts.failed);
        if (strcmp(s->t->name, "ssd") == 0)
            ssd_info(s->t, add, ud);
    }
}
