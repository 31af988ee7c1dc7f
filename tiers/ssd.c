/*
 * ssd.c -- the SSD tier (tiers/ssd.h): an indexed tier (engine/tier.h,
 * "tiers with their own index") keeping records in append-only segment
 * files and finding them through its own DRAM index, so that a key that
 * lives here costs about 11 bytes of DRAM and no stub. This file has the
 * tier's operations, its lifecycle, dictionaries and stats; the pieces are
 *
 *   ssd_fmt.c      the on-device format, byte by byte (pure)
 *   ssd_index.c    the DRAM index: (db, key hash) -> u64 entry
 *   ssd_io.c       segments, write buffers, I/O threads, reads, the scan
 *   ssd_compact.c  maintenance: timed flushes, drops, compaction, eviction
 *   ssd_attach.c   rebuilding the tier from its directory at create
 *
 * What it owns: a directory of segment files (seg-<seq>.dat) and
 * dictionaries (dict-<id>.zd), the index, the buffers and threads. Not the
 * records' meaning (the engine's), nor which keys come here (the engine's
 * one-place rule: a key is in DRAM, or a stub, or here).
 *
 * Data model.
 *
 *   (db, key) --XXH3(seed)--> h --stripe, fp--> index entry (u64)
 *                                                 fp | ttl | sz | slot | off/8
 *   slot --> struct seg (one per segment file; 16384 slots)
 *   loc (what the engine holds) = off/8 | slot << 27 | sz << 41 | seq lo20 << 44
 *
 * Segments have an expiry class (0 none, 1..5 by remaining TTL at write
 * time, 6 notes): each class has one open segment with a write buffer, so
 * records that expire together sit together and a segment whose records
 * all expired is dropped whole without reading it. Notes (DEL, SWAPDB,
 * FLUSHDB) live only in class-6 segments, so PUT segments can be evicted
 * or dropped without reading them, and attach reads the small notes
 * segments first.
 *
 * A segment's life (state under seg_mu):
 *
 *   OPEN --full--> (last buffer written, synced) SEALED --compaction--> COMPACTING
 *     |                                            |                       |
 *     |               attach -> SEALED             +--all expired / empty--+--> DROPPING
 *   OUTPUT (compaction writes it) --end of round--> SEALED     evicted ---^     |
 *                                                 file unlinked after the last read,
 *                                                 entries walked out of the index,
 *                                                 directory synced --> slot FREE
 *
 * Invariants (cited by number in the tier's files):
 *  1. The index holds at most one entry per (db, key): an insert that finds
 *     entries of the same fingerprint compares keys (from the write buffer,
 *     or reading the entry) and replaces the key's own entry in place.
 *  2. An index entry names a PUT entry that is in a write buffer or on the
 *     device, in a segment that is not dropping -- or in a dropping segment,
 *     and then every lookup treats it as absent until maintenance walks it
 *     out. A read checks framing magic, CRC, kind, seg_seq_lo, the STR1 CRC
 *     and the key before anything is served; a mismatch is ST_ECORRUPT,
 *     logged, counted, and the entry dropped -- never a wrong value.
 *  3. For each key, the seq of every entry written for it is assigned under
 *     the key's stripe lock, together with the index change: the index
 *     always names the key's entry with the highest seq, which is the one
 *     attach picks. Compaction keeps a moved record's seq and switches the
 *     index only by compare-and-set, so a key removed or re-inserted while
 *     its record was being moved keeps its newer state.
 *  4. A remove appends a DEL note (its seq above the removed record's) and
 *     swapdb/flushdb a SWAPDB/FLUSHDB note with every stripe of the
 *     databases concerned locked, so each note is ordered against every
 *     insert it concerns. Notes reach the device with the next buffer write
 *     (at most flush_ms later).
 *  5. No older version of a key comes back at attach. Entries leave the
 *     device only as (a) dead PUTs -- safe only once the newer entry that
 *     killed each is durable (invariant 11): until then the dead record may
 *     be the key's only durable version above an older one elsewhere --,
 *     (b) whole segments -- all expired, or evicted oldest first by segment
 *     seq -- and (c) expired current records dropped by compaction, which
 *     writes a DEL note and syncs it before its source goes. Every way out
 *     is a segment's drop (compaction drops dead and expired records by
 *     dropping its source whole), so invariant 11 covers them all. For
 *     (b): an insert replacing an entry writes a DEL note first when the
 *     new record has an expiry or the old entry's segment is younger
 *     (higher segment seq) than the segment the new record goes to; and
 *     compaction outputs are younger than every segment that existed when
 *     their round began.
 *  6. A DEL or FLUSHDB note with seq s is needed while some PUT segment
 *     holding dead records has a first seq below s; a SWAPDB note while any
 *     entry with a lower seq exists anywhere. Unneeded notes are dropped
 *     (a notes segment whole, or by compaction carrying the others).
 *     Segments count until their unlink has been followed by a directory
 *     sync.
 *  7.-9. Write ordering, buffers and segment references: tiers/ssd_io.c.
 * 10. Bytes of segment files (used, Σ each segment's fill rounded up to
 *     4096) stay within size. PUT appends stop one segment short of it (the
 *     reserve) so compaction can always open an output; notes may use the
 *     reserve. When a PUT does not fit, the insert drops a segment with
 *     nothing live or all expired, else evicts the oldest sealed PUT
 *     segment, else answers ST_EFULL; when the dropped file has to wait
 *     (invariant 11), the insert lets go of its locks, makes the entries
 *     durable itself (ssd_unlink_settle) and tries once more. Maintenance
 *     keeps min(2 segments, a quarter of the tier) free ahead of the
 *     inserts.
 * 11. A dropped segment's file is unlinked only once every entry, PUT or
 *     note, appended before the drop (seq <= drop_seq) is durable: synced,
 *     in a block no later write rewrites. A dead record in the file may
 *     have been killed by any such entry -- a DEL note, or a newer PUT in
 *     another segment -- and with the record gone and the killer lost in a
 *     crash, an older version of the key (in a segment that stays) would
 *     win at attach: v1 in A, v2 in B synced, v3 in C only written; B, all
 *     dead, dropped; the power goes; v1 is back. What is not durable yet is
 *     what ssd_pending_min (ssd_io.c) finds in the buffers, the write
 *     queues and the buffers written since the last sync, with a copied
 *     tail block counting for the entries in it (its rewrite could tear
 *     them). Until then the file waits (unlink_pending, counted in
 *     nwaiting); each synced buffer write (notes buffers always, ssd_io.c
 *     7a; PUT buffers with fsync or at a seal), ssd_sync, and
 *     ssd_unlink_settle let it go. The last is an ssd_flush_all with sync,
 *     run by every maintenance round and by an insert that found no room
 *     while a file waits, on their own threads holding no tier lock: with
 *     fsync = 0 nothing else would sync the PUT buffers before the next
 *     ssd_sync, and the file's bytes would stay taken. One flush per drop
 *     (a whole segment's worth of appends) costs little. The insert path
 *     evicts nothing more while a file waits (its bytes are on their way
 *     back). In the failed state no file is unlinked.
 *
 * Threads and locks. Any operation from any thread. I/O threads (io_threads)
 * write buffers and run queued reads; one maintenance thread (unless
 * maintenance_thread = 0) runs rounds (maint_mu: one at a time).
 *  - stripe locks (ssd_index.c): the index; held across an insert's or a
 *    remove's append, so per-key order is the index's (invariant 3).
 *  - cls[c].mu: class c's open segment pointer and the order of appends.
 *  - seg->lock: a segment's buffers, write queue, fill and summaries.
 *  - seg_mu: the slot table and segment states; free_mu: slot freeing.
 *  - q_mu: the I/O job queue; m_mu: the maintenance thread's wakeups;
 *    dict_mu: dictionary ids. Counters are relaxed atomics.
 *  Lock order: free_mu -> dbs_lock -> stripe -> cls.mu -> seg_mu ->
 *  seg->lock; q_mu, m_mu and dict_mu are leaves. Nobody holding a stripe
 *  or class lock waits for I/O: inserts wait for buffer room
 *  (backpressure) before taking their locks, so I/O threads may take
 *  stripe locks (to drop a damaged entry).
 *
 * Durability. When insert returns the record is in a write buffer (served
 * from there); it is on the device after the next write of that buffer:
 * when full, or at most flush_ms later (synced unless fsync = 0), or at
 * ssd_sync / destroy; with fsync = 0 it is durable once synced (ssd_sync,
 * a seal, or a drop's ssd_unlink_settle). A crash loses at most the
 * buffers not durable yet; attach then serves every whole entry and skips
 * torn ones. One exception: a key
 * overwritten since the last ssd_sync may come back absent, when its
 * overwrite wrote a DEL note first (invariant 5) and the note reached the
 * device while the new record did not (they are in different segments);
 * never as an older version. Dictionaries are durable when put_dict
 * returns.
 *
 * References: the log-structured layout of Bitcask and of memcached's
 * extstore (pages with a version, CRC32C, buckets by TTL); SQLite's sticky
 * error state; Dragonfly's tiering (versions catch values changed during
 * I/O); Amble & Knuth's ordered hash tables for the index.
 */
#include "tiers/ssd_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "engine/err.h"

#define DEFAULT_SEGMENT (64ull << 20)
#define DEFAULT_WBUF (1ull << 20)
#define DEFAULT_IO 2
#define DEFAULT_FLUSH_MS 100
#define DEFAULT_RATIO 0.5

/* ---- helpers ------------------------------------------------------------ */

void ssd_log(struct ssd *t, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!t->log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    t->log(t->log_ud, level, msg);
}

int64_t ssd_now_ms(struct ssd *t)
{
    struct timespec ts;

    if (t->clock_ms)
        return t->clock_ms(t->clock_ud);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ssd_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void ssd_count(uint64_t *field, uint64_t v)
{
    __atomic_fetch_add(field, v, __ATOMIC_RELAXED);
}

static uint64_t rd(const uint64_t *field)
{
    return __atomic_load_n(field, __ATOMIC_RELAXED);
}

void ssd_fail(struct ssd *t, const char *what, int err)
{
    ssd_count(&t->st.errors, 1);
    if (!__atomic_exchange_n(&t->failed, 1, __ATOMIC_SEQ_CST))
        ssd_log(t, SSD_LOG_WARNING, "ssd: %s failed in %s (%s): the SSD tier stops taking records", what, t->dir,
                strerror(err < 0 ? -err : err));
    /* wake anyone waiting for buffer room: they answer ST_EIO now */
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (s && s->state == SEG_OPEN) {
            pthread_mutex_lock(&s->lock);
            pthread_cond_broadcast(&s->cond);
            pthread_mutex_unlock(&s->lock);
        }
    }
    pthread_mutex_unlock(&t->seg_mu);
}

int ssd_is_failed(struct ssd *t)
{
    return __atomic_load_n(&t->failed, __ATOMIC_RELAXED);
}

char *ssd_path(struct ssd *t, const char *name)
{
    size_t a = strlen(t->dir), b = strlen(name);
    char *p = malloc(a + 1 + b + 1);

    if (!p)
        return NULL;
    memcpy(p, t->dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

char *ssd_seg_path(struct ssd *t, uint64_t seq)
{
    char name[SFMT_NAME_MAX];
    sfmt_seg_name(name, seq);
    return ssd_path(t, name);
}

static struct ssd *ssd_of(struct tier *t)
{
    return (struct ssd *)t;
}

static int db_ok(const struct ssd *t, int db)
{
    return db >= 0 && (unsigned)db < t->databases;
}

/* The segment an index entry names, when it is not dropping (invariant 2).
 * Caller holds the stripe lock of the entry (so the struct stays). */
static struct seg *live_seg_of(struct ssd *t, uint64_t ent)
{
    struct seg *s = __atomic_load_n(&t->segs[sidx_ent_slot(ent)], __ATOMIC_ACQUIRE);

    if (!s || __atomic_load_n(&s->state, __ATOMIC_SEQ_CST) == SEG_DROPPING)
        return NULL;
    return s;
}

uint64_t ssd_entry_at_locked(struct ssd *t, struct sidx_stripe *st, uint32_t fp, uint64_t loc)
{
    uint64_t c[SSD_MAX_CANDS];
    size_t n = sidx_find_locked(st, fp, c, SSD_MAX_CANDS);

    for (size_t i = 0; i < n && i < SSD_MAX_CANDS; i++) {
        if ((c[i] & SIDX_LOC_MASK) != (loc & SIDX_LOC_MASK))
            continue;
        struct seg *s = live_seg_of(t, c[i]);
        if (s && (s->seq & 0xfffff) == loc >> 44)
            return c[i];
    }
    return 0;
}

/* Appends a DEL note for key in db (caller holds the key's stripe lock). */
static int del_note_locked(struct ssd *t, int db, const char *key, size_t klen)
{
    struct seg *s;
    uint64_t off, seq;
    int rc = ssd_append(t, SFMT_CLASS_NOTES, SFMT_DEL, (uint16_t)db, key, klen, NULL, &s, &off, &seq);

    if (rc != ST_OK && rc != ST_EIO)
        ssd_log(t, SSD_LOG_WARNING, "ssd: cannot write a delete note (%s): the key may come back at the next "
                "attach", st_strerror(rc));
    return rc;
}

/* Drops the damaged entry ent of (db, h) found by a read, and writes a DEL
 * note for key when known (so an older version does not come back). */
static void drop_damaged(struct ssd *t, int db, uint64_t h, uint64_t ent, const char *key, size_t klen)
{
    struct sidx_stripe *st = sidx_lock(t->idx, db, h, 0);

    if (!st)
        return;
    if (sidx_del_locked(st, ent) == ST_OK) {
        struct seg *s = t->segs[sidx_ent_slot(ent)];
        if (s)
            __atomic_fetch_sub(&s->live, 1, __ATOMIC_RELAXED);
        if (key)
            del_note_locked(t, db, key, klen);
    }
    sidx_unlock(st);
}

/* ---- reads (run on an I/O thread, or on the caller for done == NULL) ----- */

struct loc_match {
    struct ssd *t;
    uint64_t loc;
};

/* sidx walk: the entry loc names (its segment's seq bits checked). */
static int walk_loc(void *ud, int db, uint64_t ent)
{
    struct loc_match *m = ud;
    struct seg *s;
    (void)db;
    if ((ent & SIDX_LOC_MASK) != (m->loc & SIDX_LOC_MASK))
        return 0;
    s = m->t->segs[sidx_ent_slot(ent)];
    if (!s || (s->seq & 0xfffff) != m->loc >> 44)
        return 0;
    __atomic_fetch_sub(&s->live, 1, __ATOMIC_RELAXED);
    return 1;
}

/* 1 when the checked record rec (len bytes) is key's. */
static int rec_is_key(const void *rec, size_t len, const char *key, size_t klen)
{
    const unsigned char *p = rec;
    uint32_t rk = (uint32_t)p[24] | (uint32_t)p[25] << 8 | (uint32_t)p[26] << 16 | (uint32_t)p[27] << 24;
    return len >= TIER_REC_HDR + (size_t)rk && rk == klen && memcmp(p + TIER_REC_HDR, key, klen) == 0;
}

static int ssd_fetch(struct tier *tt, struct tier_req *r);

/* fetch_at found the record at its loc no longer current. If compaction
 * moved it, its key is still indexed elsewhere: answer with the current
 * record (a SCAN must return a key present for its whole walk, wherever
 * compaction put it meanwhile). Reads by key on the calling thread (an I/O
 * thread, or a synchronous caller). 1 with *rec, *len, *seq and r->loc
 * replaced; 0 when the key is gone. */
static int follow_move(struct ssd *t, struct tier_req *r, void **rec, size_t *len, uint64_t *seq)
{
    struct tier_rec dec;
    if (tier_rec_decode(*rec, *len, &dec, NULL) != ST_OK)
        return 0;
    struct tier_req q = { .db = r->db, .key = dec.key, .klen = dec.klen, .done = NULL };
    if (ssd_fetch(&t->base, &q) != ST_OK)
        return 0;
    free(*rec); /* dec.key pointed into it: used only by the fetch above */
    *rec = q.buf;
    *len = q.len;
    *seq = q.seq;
    r->loc = q.loc;
    return 1;
}

void ssd_rd_run(struct ssd *t, struct rd *rd)
{
    struct tier_req *r = rd->r;
    int rc = ST_ENOENT, corrupt = 0, ioerr = 0;

    r->buf = NULL;
    r->len = 0;
    for (size_t i = 0; i < rd->n; i++) {
        struct seg *s = rd->c[i].seg;
        uint64_t ent = rd->c[i].ent, off = sidx_ent_off(ent);
        void *rec = NULL;
        size_t len = 0;
        int e;

        if (rc == ST_OK)
            continue; /* the references are dropped below */
        uint64_t seq = 0;
        e = ssd_read_put(t, s, off, sidx_ent_sz(ent), &rec, &len, &seq);
        if (e == ST_OK) {
            int ok;
            if (rd->at) {
                struct tier_rec dec;
                tier_rec_decode(rec, len, &dec, NULL);
                uint64_t h = sidx_hash(t->idx, dec.key, dec.klen);
                struct sidx_stripe *st = sidx_lock(t->idx, r->db, h, 0);
                ok = st && ssd_entry_at_locked(t, st, sidx_fp_of(h), r->loc) != 0;
                if (st)
                    sidx_unlock(st);
                if (!ok)
                    ok = follow_move(t, r, &rec, &len, &seq);
            } else {
                ok = rec_is_key(rec, len, r->key, r->klen);
                if (ok)
                    r->loc = ssd_loc(s, ent);
            }
            if (ok) {
                r->buf = rec;
                r->len = len;
                r->seq = seq;
                rc = ST_OK;
            } else {
                free(rec);
            }
        } else if (e == ST_ECORRUPT) {
            if (rd->at) {
                /* no key to find its entry by: walk the database for the
                 * entry naming loc (damage is rare); none means loc was not
                 * current, and a stale loc is a miss */
                struct loc_match m = {t, r->loc};
                if (sidx_walk(t->idx, r->db, walk_loc, &m) == 0)
                    continue;
            } else {
                drop_damaged(t, r->db, rd->h, ent, rd->n == 1 ? r->key : NULL, r->klen);
            }
            corrupt = 1;
            ssd_count(&t->st.errors, 1);
            ssd_log(t, SSD_LOG_WARNING, "ssd: damaged record in segment %016llx at offset %llu: not served, dropped",
                    (unsigned long long)s->seq, (unsigned long long)off);
        } else if (e == ST_EIO) {
            ioerr = 1;
            ssd_count(&t->st.errors, 1);
        } else {
            ioerr = 1; /* ENOMEM: answered as an I/O failure for this key */
        }
    }
    if (rc != ST_OK)
        rc = corrupt ? ST_ECORRUPT : ioerr ? ST_EIO : ST_ENOENT;
    for (size_t i = 0; i < rd->n; i++)
        ssd_seg_put(rd->c[i].seg);
    ssd_count(rc == ST_OK ? &t->st.hits : &t->st.misses, 1);
    r->rc = rc;
    free(rd);
    if (r->done)
        r->done(r);
}

/* Answers at once from a write buffer when the record is in one (ST_OK),
 * or says the read must go on (ST_EAGAIN). */
static int try_buffered(struct ssd *t, struct rd *rd)
{
    struct tier_req *r = rd->r;

    for (size_t i = 0; i < rd->n; i++) {
        void *rec = NULL;
        size_t len = 0;
        uint64_t seq = 0;
        if (ssd_read_buffered(t, rd->c[i].seg, sidx_ent_off(rd->c[i].ent), &rec, &len, &seq) != ST_OK)
            continue;
        int ok;
        if (rd->at) {
            struct tier_rec dec;
            tier_rec_decode(rec, len, &dec, NULL);
            uint64_t h = sidx_hash(t->idx, dec.key, dec.klen);
            struct sidx_stripe *st = sidx_lock(t->idx, r->db, h, 0);
            ok = st && ssd_entry_at_locked(t, st, sidx_fp_of(h), r->loc) != 0;
            if (st)
                sidx_unlock(st);
            if (!ok) /* moved since the walk that gave loc? the key's current record then */
                ok = follow_move(t, r, &rec, &len, &seq);
            if (ok) {
                r->buf = rec;
                r->len = len;
                r->seq = seq;
                r->rc = ST_OK;
                for (size_t k = 0; k < rd->n; k++)
                    ssd_seg_put(rd->c[k].seg);
                free(rd);
                ssd_count(&t->st.hits, 1);
                return ST_OK;
            }
        } else {
            ok = rec_is_key(rec, len, r->key, r->klen);
        }
        if (!ok) {
            free(rec);
            continue;
        }
        if (!rd->at)
            r->loc = ssd_loc(rd->c[i].seg, rd->c[i].ent);
        r->buf = rec;
        r->len = len;
        r->seq = seq;
        r->rc = ST_OK;
        for (size_t k = 0; k < rd->n; k++)
            ssd_seg_put(rd->c[k].seg);
        free(rd);
        ssd_count(&t->st.hits, 1);
        return ST_OK;
    }
    return ST_EAGAIN;
}

/* Runs rd: from a buffer at once, else queued (done set) or here. */
static int start_read(struct ssd *t, struct rd *rd)
{
    struct tier_req *r = rd->r;
    void (*done)(struct tier_req *) = r->done;

    if (try_buffered(t, rd) == ST_OK)
        return ST_OK;
    if (done && ssd_io_queue_read(t, rd) == ST_EPENDING)
        return ST_EPENDING;
    r->done = NULL; /* answered here: done is not called */
    ssd_rd_run(t, rd);
    r->done = done;
    return r->rc;
}

static int ssd_fetch(struct tier *tt, struct tier_req *r)
{
    struct ssd *t = ssd_of(tt);
    struct sidx_stripe *st;
    uint64_t c[SSD_MAX_CANDS], h;
    struct rd *rd;
    size_t n;

    ssd_count(&t->st.fetches, 1);
    r->buf = NULL;
    r->len = 0;
    if (!db_ok(t, r->db) || !r->key || r->klen == 0)
        goto miss;
    h = sidx_hash(t->idx, r->key, r->klen);
    rd = malloc(sizeof(*rd));
    if (!rd) {
        r->rc = ST_EIO;
        ssd_count(&t->st.misses, 1);
        return ST_EIO;
    }
    rd->r = r;
    rd->at = 0;
    rd->h = h;
    rd->n = 0;
    st = sidx_lock(t->idx, r->db, h, 0);
    if (st) {
        n = sidx_find_locked(st, sidx_fp_of(h), c, SSD_MAX_CANDS);
        for (size_t i = 0; i < n && i < SSD_MAX_CANDS; i++) {
            struct seg *s = live_seg_of(t, c[i]);
            if (s && ssd_seg_get(s)) {
                rd->c[rd->n].ent = c[i];
                rd->c[rd->n].seg = s;
                rd->n++;
            }
        }
        sidx_unlock(st);
    }
    if (rd->n == 0) {
        free(rd);
        goto miss;
    }
    return start_read(t, rd);
miss:
    ssd_count(&t->st.misses, 1);
    r->rc = ST_ENOENT;
    return ST_ENOENT;
}

static int ssd_fetch_at(struct tier *tt, struct tier_req *r)
{
    struct ssd *t = ssd_of(tt);
    unsigned slot = (unsigned)(r->loc >> SIDX_OFF_BITS) & (SIDX_SLOTS - 1);
    struct seg *s;
    struct rd *rd;

    ssd_count(&t->st.fetches, 1);
    r->buf = NULL;
    r->len = 0;
    if (!db_ok(t, r->db) || r->loc == 0 || (s = ssd_seg_lookup(t, slot, r->loc >> 44, 20)) == NULL) {
        ssd_count(&t->st.misses, 1);
        r->rc = ST_ENOENT;
        return ST_ENOENT;
    }
    rd = malloc(sizeof(*rd));
    if (!rd) {
        ssd_seg_put(s);
        ssd_count(&t->st.misses, 1);
        r->rc = ST_EIO;
        return ST_EIO;
    }
    rd->r = r;
    rd->at = 1;
    rd->h = 0;
    rd->n = 1;
    rd->c[0].ent = r->loc & ((1ull << SIDX_TTL_SHIFT) - 1);
    rd->c[0].seg = s;
    return start_read(t, rd);
}

/* ---- insert, probe, current, remove ------------------------------------- */

/* 1 when the entry ent (reference on s held) is key's, 0 another key's;
 * ST_ECORRUPT, ST_EIO, ST_ENOMEM. */
static int entry_is_key(struct ssd *t, struct seg *s, uint64_t ent, const char *key, size_t klen)
{
    void *rec = NULL;
    size_t len = 0;
    int rc = ssd_read_put(t, s, sidx_ent_off(ent), sidx_ent_sz(ent), &rec, &len, NULL);

    ssd_count(&t->st.insert_reads, 1);
    if (rc != ST_OK)
        return rc;
    rc = rec_is_key(rec, len, key, klen);
    free(rec);
    return rc;
}

/* The live entries of fp in the locked stripe, into c (<= SSD_MAX_CANDS). */
static size_t live_cands_locked(struct ssd *t, struct sidx_stripe *st, uint32_t fp, uint64_t *c)
{
    uint64_t all[SSD_MAX_CANDS];
    size_t n = sidx_find_locked(st, fp, all, SSD_MAX_CANDS), k = 0;

    for (size_t i = 0; i < n && i < SSD_MAX_CANDS; i++)
        if (live_seg_of(t, all[i]))
            c[k++] = all[i];
    return k;
}

/* Finds which of the stripe's fp entries is key's (invariant 1), reading
 * candidates with the stripe unlocked. Returns with the stripe locked (or
 * NULL on ENOMEM) and *old = key's entry or 0. */
static struct sidx_stripe *lock_and_find(struct ssd *t, int db, uint64_t h, const char *key, size_t klen,
                                         uint64_t *old)
{
    uint32_t fp = sidx_fp_of(h);

    for (int attempt = 0;; attempt++) {
        struct sidx_stripe *st = sidx_lock(t->idx, db, h, 1);
        uint64_t c[SSD_MAX_CANDS], match = 0;
        struct seg *segs[SSD_MAX_CANDS];
        size_t n, k = 0;

        if (!st)
            return NULL;
        n = live_cands_locked(t, st, fp, c);
        *old = 0;
        if (n == 0)
            return st;
        for (size_t i = 0; i < n; i++) {
            struct seg *s = live_seg_of(t, c[i]);
            if (s && ssd_seg_get(s))
                segs[k] = s, c[k++] = c[i];
        }
        sidx_unlock(st);
        for (size_t i = 0; i < k; i++) {
            int is = entry_is_key(t, segs[i], c[i], key, klen);
            if (is == 1)
                match = c[i];
            else if (is == ST_ECORRUPT) {
                ssd_count(&t->st.errors, 1);
                ssd_log(t, SSD_LOG_WARNING, "ssd: damaged record in segment %016llx at offset %llu: dropped",
                        (unsigned long long)segs[i]->seq, (unsigned long long)sidx_ent_off(c[i]));
                drop_damaged(t, db, h, c[i], NULL, 0);
            }
            ssd_seg_put(segs[i]);
        }
        st = sidx_lock(t->idx, db, h, 1);
        if (!st)
            return NULL;
        uint64_t now[SSD_MAX_CANDS];
        size_t m = live_cands_locked(t, st, fp, now);
        int same = m == k;
        for (size_t i = 0; i < m && same; i++) {
            int in = 0;
            for (size_t j = 0; j < k; j++)
                in |= now[i] == c[j];
            same = in;
        }
        if (same || attempt >= 3) {
            /* attempt 3: the entries keep changing; keep what is still there */
            int still = 0;
            for (size_t i = 0; i < m; i++)
                still |= now[i] == match;
            *old = match && still ? match : 0;
            return st;
        }
        sidx_unlock(st);
    }
}

static int ssd_insert(struct tier *tt, int db, const void *rec, size_t len, uint64_t *loc)
{
    struct ssd *t = ssd_of(tt);
    struct tier_rec r;
    struct sidx_stripe *st;
    struct seg *s = NULL, *oldseg;
    uint64_t h, old = 0, off = 0, seq = 0, ent;
    size_t used = 0;
    unsigned cls;
    int rc, settled = 0;

    ssd_count(&t->st.inserts, 1);
    if (!db_ok(t, db) || !rec || !loc || tier_rec_decode(rec, len, &r, &used) != ST_OK || used != len) {
        rc = ST_EINVAL;
        goto fail;
    }
    if (ssd_is_failed(t)) {
        rc = ST_EIO;
        goto fail;
    }
    if (sfmt_ent_size(len) > t->seg_size - SFMT_HDR_SIZE) {
        rc = ST_EFULL;
        goto fail;
    }
    cls = ssd_class_of(t, r.expire_ms);
    h = sidx_hash(t->idx, r.key, r.klen);
again:
    ssd_append_wait(t, cls); /* backpressure before any lock (see the lock notes) */
    st = lock_and_find(t, db, h, r.key, r.klen, &old);
    if (!st) {
        rc = ST_EFULL;
        goto fail;
    }
    if (old) {
        /* invariant 5: a DEL note first when the old version could outlive
         * the new one on the device */
        uint64_t open_seq = UINT64_MAX;
        pthread_mutex_lock(&t->cls[cls].mu);
        if (t->cls[cls].seg)
            open_seq = t->cls[cls].seg->seq;
        pthread_mutex_unlock(&t->cls[cls].mu);
        oldseg = t->segs[sidx_ent_slot(old)];
        if (r.expire_ms >= 0 || (oldseg && open_seq != UINT64_MAX && oldseg->seq > open_seq)) {
            rc = del_note_locked(t, db, r.key, r.klen);
            if (rc != ST_OK) {
                sidx_unlock(st);
                goto fail;
            }
        }
    }
    rc = ssd_append(t, cls, SFMT_PUT, (uint16_t)db, rec, len, &r, &s, &off, &seq);
    if (rc == ST_EFULL && !settled && ssd_unlink_waits(t)) {
        /* the room is a dropped file waiting for entries to be durable
         * (invariant 11): make them so with no lock held, then once more
         * (a DEL note written above stays: it is older than the record) */
        sidx_unlock(st);
        settled = 1;
        ssd_unlink_settle(t);
        goto again;
    }
    if (rc != ST_OK) {
        sidx_unlock(st);
        goto fail;
    }
    ent = sidx_ent(sidx_fp_of(h), r.expire_ms >= 0, sidx_sz_class(off, SFMT_ENT_HDR + len), s->slot, off);
    if (old && sidx_replace_locked(st, old, ent) == ST_OK) {
        oldseg = t->segs[sidx_ent_slot(old)];
        if (oldseg)
            __atomic_fetch_sub(&oldseg->live, 1, __ATOMIC_RELAXED);
    } else if (sidx_add_locked(st, ent) != ST_OK) {
        /* appended but not indexed: a note above it keeps it from winning
         * at attach */
        del_note_locked(t, db, r.key, r.klen);
        sidx_unlock(st);
        rc = ST_EFULL;
        goto fail;
    }
    __atomic_fetch_add(&s->live, 1, __ATOMIC_RELAXED);
    sidx_unlock(st);
    *loc = ssd_loc(s, ent);
    if (r.expire_ms >= 0)
        ssd_exp_push(t, r.expire_ms, db, h, *loc); /* ssd_expire.c invariant 1 */
    ssd_count(&t->st.record_bytes_inserted, len);
    return ST_OK;
fail:
    ssd_count(&t->st.insert_fails, 1);
    return rc;
}

static int ssd_probe(struct tier *tt, int db, const char *key, size_t klen)
{
    struct ssd *t = ssd_of(tt);
    struct sidx_stripe *st;
    uint64_t h, c[1];
    size_t n;

    if (!db_ok(t, db) || !key || klen == 0)
        return 0;
    h = sidx_hash(t->idx, key, klen);
    st = sidx_lock(t->idx, db, h, 0);
    if (!st)
        return 0;
    n = sidx_find_locked(st, sidx_fp_of(h), c, 1);
    sidx_unlock(st);
    return n > 0;
}

static int ssd_current(struct tier *tt, int db, const char *key, size_t klen, uint64_t loc)
{
    struct ssd *t = ssd_of(tt);
    struct sidx_stripe *st;
    uint64_t h;
    int cur;

    if (!db_ok(t, db) || !key || klen == 0 || loc == 0)
        return 0;
    h = sidx_hash(t->idx, key, klen);
    st = sidx_lock(t->idx, db, h, 0);
    if (!st)
        return 0;
    cur = ssd_entry_at_locked(t, st, sidx_fp_of(h), loc) != 0;
    sidx_unlock(st);
    return cur;
}

static int ssd_remove(struct tier *tt, int db, const char *key, size_t klen, uint64_t loc)
{
    struct ssd *t = ssd_of(tt);
    struct sidx_stripe *st;
    uint64_t h, ent;

    if (!db_ok(t, db) || !key || klen == 0 || loc == 0)
        return ST_ENOENT;
    h = sidx_hash(t->idx, key, klen);
    st = sidx_lock(t->idx, db, h, 0);
    if (!st)
        return ST_ENOENT;
    ent = ssd_entry_at_locked(t, st, sidx_fp_of(h), loc);
    if (!ent) {
        sidx_unlock(st);
        return ST_ENOENT;
    }
    sidx_del_locked(st, ent);
    __atomic_fetch_sub(&t->segs[sidx_ent_slot(ent)]->live, 1, __ATOMIC_RELAXED);
    del_note_locked(t, db, key, klen); /* invariant 4 */
    sidx_unlock(st);
    ssd_count(&t->st.removes, 1);
    return ST_OK;
}

/* ---- whole-database operations ------------------------------------------ */

static void ssd_db_counts(struct tier *tt, int db, uint64_t *keys, uint64_t *volatile_keys)
{
    sidx_counts(ssd_of(tt)->idx, db, keys, volatile_keys);
}

/* sidx map: an entry to its loc, or 0 for a dropping segment. */
static uint64_t map_loc(void *ud, uint64_t ent)
{
    struct seg *s = live_seg_of(ud, ent);
    return s ? ssd_loc(s, ent) : 0;
}

static uint64_t ssd_scan(struct tier *tt, int db, uint64_t cursor, uint64_t *locs, size_t cap, size_t *n)
{
    struct ssd *t = ssd_of(tt);
    return sidx_scan(t->idx, db, cursor, map_loc, t, locs, cap, n);
}

static int ssd_random(struct tier *tt, int db, uint64_t rnd, uint64_t *loc)
{
    struct ssd *t = ssd_of(tt);
    return sidx_random(t->idx, db, rnd, map_loc, t, loc);
}

struct note_arg {
    struct ssd *t;
    int swap_a, swap_b; /* SWAPDB */
    uint8_t kind;
    uint16_t db;
    unsigned char payload[8];
    size_t plen;
    int rc;
};

static void note_under(void *ud)
{
    struct note_arg *a = ud;
    struct seg *s;
    uint64_t off, seq;

    a->rc = ssd_append(a->t, SFMT_CLASS_NOTES, a->kind, a->db, a->payload, a->plen, NULL, &s, &off, &seq);
}

static int flush_gone(void *ud, int db, uint64_t ent)
{
    struct note_arg *a = ud;
    struct seg *s = a->t->segs[sidx_ent_slot(ent)]; /* free_mu held: not freed */
    (void)db;
    if (s)
        __atomic_fetch_sub(&s->live, 1, __ATOMIC_RELAXED);
    return 0;
}

static int ssd_flushdb(struct tier *tt, int db)
{
    struct ssd *t = ssd_of(tt);
    struct note_arg a = {.t = t, .kind = SFMT_FLUSHDB, .db = db < 0 ? SFMT_DB_ALL : (uint16_t)db};
    int rc;

    if (db >= 0 && !db_ok(t, db))
        return ST_EINVAL;
    pthread_mutex_lock(&t->free_mu);
    rc = sidx_flushdb(t->idx, db, note_under, flush_gone, &a);
    pthread_mutex_unlock(&t->free_mu);
    if (rc == ST_OK && a.rc != ST_OK && a.rc != ST_EIO)
        ssd_log(t, SSD_LOG_WARNING, "ssd: cannot write a flush note (%s): flushed keys may come back at the next "
                "attach", st_strerror(a.rc));
    ssd_maint_wake(t);
    return rc;
}

static void swap_under(void *ud)
{
    struct note_arg *a = ud;
    note_under(a);
    __atomic_store_n(&a->t->remapped, 1, __ATOMIC_RELAXED);
    /* the expiry heap follows the keys at the same instant (ssd_expire.c) */
    ssd_exp_swapdb(a->t, a->swap_a, a->swap_b);
}

static int ssd_swapdb(struct tier *tt, int a, int b)
{
    struct ssd *t = ssd_of(tt);
    struct note_arg na = {.t = t, .swap_a = a, .swap_b = b, .kind = SFMT_SWAPDB, .db = 0, .plen = 8};
    int rc;

    if (!db_ok(t, a) || !db_ok(t, b))
        return ST_EINVAL;
    if (a == b)
        return ST_OK;
    sfmt_swap_payload(na.payload, (uint16_t)a, (uint16_t)b);
    rc = sidx_swapdb(t->idx, a, b, swap_under, &na);
    if (rc == ST_OK && na.rc != ST_OK && na.rc != ST_EIO)
        ssd_log(t, SSD_LOG_WARNING, "ssd: cannot write a swap note (%s): the next attach may see the databases "
                "unswapped", st_strerror(na.rc));
    return rc;
}

/* ---- iterate ------------------------------------------------------------ */

struct iter {
    struct ssd *t;
    int (*fn)(void *ud, int db, const void *rec, size_t len, uint64_t loc, uint64_t seq);
    void *ud;
    uint64_t damaged;
};

static int iter_entry(void *ud, struct seg *s, uint64_t off, const struct sfmt_ent *e)
{
    struct iter *it = ud;
    struct ssd *t = it->t;
    struct tier_rec r;

    if (e->kind != SFMT_PUT || sfmt_put_check(e, &r) != ST_OK)
        return 0;
    uint64_t h = sidx_hash(t->idx, r.key, r.klen);
    uint64_t id = sidx_ent(sidx_fp_of(h), 0, 0, s->slot, off);
    int remapped = __atomic_load_n(&t->remapped, __ATOMIC_RELAXED);
    for (unsigned k = 0; k < t->databases; k++) {
        int db = k == 0 ? e->db : (int)(k == e->db ? 0 : k);
        if (k > 0 && !remapped)
            break;
        if (!db_ok(t, db))
            continue;
        struct sidx_stripe *st = sidx_lock(t->idx, db, h, 0);
        if (!st)
            continue;
        uint64_t c[SSD_MAX_CANDS], ent = 0;
        size_t n = sidx_find_locked(st, sidx_fp_of(h), c, SSD_MAX_CANDS);
        for (size_t i = 0; i < n && i < SSD_MAX_CANDS; i++)
            if ((c[i] & SIDX_ID_MASK) == (id & SIDX_ID_MASK))
                ent = c[i];
        sidx_unlock(st);
        if (ent)
            return it->fn(it->ud, db, e->payload, e->plen, ssd_loc(s, ent), e->seq);
    }
    return 0;
}

static int cmp_seg_seq(const void *a, const void *b)
{
    const struct seg *x = *(struct seg *const *)a, *y = *(struct seg *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Segment order, with compaction paused (no record moves during the walk)
 * and every buffer written first: a record current for the whole walk sits
 * at one place below its segment's end at the start, and is visited there
 * once. Reads run on the calling thread. */
static int ssd_index_iterate(struct tier *tt, int (*fn)(void *ud, int db, const void *rec, size_t len, uint64_t loc, uint64_t seq),
                             void *ud)
{
    struct ssd *t = ssd_of(tt);
    struct iter it = {.t = t, .fn = fn, .ud = ud};
    struct seg **list = calloc(SIDX_SLOTS, sizeof(*list));
    uint64_t *ends = calloc(SIDX_SLOTS, sizeof(*ends));
    size_t n = 0;
    int rc = ST_OK;

    if (!list || !ends) {
        free(list);
        free(ends);
        return ST_ENOMEM;
    }
    __atomic_fetch_add(&t->iterating, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&t->maint_mu); /* a round compacting now finishes first */
    pthread_mutex_unlock(&t->maint_mu);
    ssd_flush_all(t, 0);
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (s && s->cls != SFMT_CLASS_NOTES && ssd_seg_get_locked(s))
            list[n++] = s;
    }
    pthread_mutex_unlock(&t->seg_mu);
    qsort(list, n, sizeof(*list), cmp_seg_seq);
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&list[i]->lock);
        ends[i] = list[i]->dev_end;
        pthread_mutex_unlock(&list[i]->lock);
    }
    for (size_t i = 0; i < n; i++) {
        if (rc == ST_OK && list[i]->fd >= 0)
            rc = ssd_seg_scan(t, list[i], ends[i], iter_entry, &it, &it.damaged);
        ssd_seg_put(list[i]);
    }
    __atomic_fetch_sub(&t->iterating, 1, __ATOMIC_SEQ_CST);
    if (it.damaged)
        ssd_count(&t->st.errors, it.damaged);
    free(list);
    free(ends);
    return rc;
}

/* ---- the base operations ------------------------------------------------ */

static int ssd_put(struct tier *t, const void *rec, size_t len, uint64_t *hint, const struct tier_io *io)
{
    (void)t, (void)rec, (void)len, (void)hint, (void)io;
    return ST_EINVAL;
}

static int ssd_get(struct tier *t, const char *key, size_t klen, uint64_t gen, uint64_t hint, void **buf, size_t *len,
                   const struct tier_io *io)
{
    (void)t, (void)key, (void)klen, (void)gen, (void)hint, (void)buf, (void)len, (void)io;
    return ST_EINVAL;
}

static int ssd_del(struct tier *t, const char *key, size_t klen, uint64_t gen, uint64_t hint)
{
    (void)t, (void)key, (void)klen, (void)gen, (void)hint;
    return ST_EINVAL;
}

static int ssd_base_iterate(struct tier *t, tier_visit_fn *fn, void *ud)
{
    (void)t, (void)fn, (void)ud;
    return ST_EINVAL;
}

/* ---- dictionaries ------------------------------------------------------- */

int ssd_dict_add_id(struct ssd *t, uint32_t id)
{
    int rc = ST_OK;

    pthread_mutex_lock(&t->dict_mu);
    if (t->ndicts == t->dicts_cap) {
        size_t nc = t->dicts_cap ? t->dicts_cap * 2 : 8;
        uint32_t *v = realloc(t->dict_ids, nc * sizeof(*v));
        if (!v)
            rc = ST_ENOMEM;
        else {
            t->dict_ids = v;
            t->dicts_cap = nc;
        }
    }
    if (rc == ST_OK)
        t->dict_ids[t->ndicts++] = id;
    pthread_mutex_unlock(&t->dict_mu);
    return rc;
}

static int dict_known_locked(struct ssd *t, uint32_t id)
{
    for (size_t i = 0; i < t->ndicts; i++)
        if (t->dict_ids[i] == id)
            return 1;
    return 0;
}

/* Writes the dictionary file: a temporary name, synced, renamed, the
 * directory synced. dict_mu held. */
static int dict_write_locked(struct ssd *t, uint32_t id, const void *dict, size_t len)
{
    char name[SFMT_NAME_MAX + 8];
    char *path = NULL, *tmp = NULL;
    unsigned char *img = malloc(SFMT_DICT_HDR + len);
    int fd = -1, rc = ST_OK, e = 0;
    const char *what = "dictionary write";

    sfmt_dict_name(name, id);
    path = ssd_path(t, name);
    strcat(name, ".tmp");
    tmp = ssd_path(t, name);
    if (!img || !path || !tmp) {
        rc = ST_ENOMEM;
        goto out;
    }
    sfmt_dict_hdr_encode(img, id, dict, (uint32_t)len);
    if (len)
        memcpy(img + SFMT_DICT_HDR, dict, len);
    fd = vfs_open(t->vfs, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0, 0644, NULL);
    if (fd < 0) {
        e = fd;
        goto io_fail;
    }
    e = vfs_pwrite_all(t->vfs, fd, img, SFMT_DICT_HDR + len, 0);
    if (e == 0) {
        what = "dictionary sync";
        e = vfs_sync(t->vfs, fd);
    }
    vfs_close(t->vfs, fd);
    if (e == 0) {
        what = "dictionary rename";
        e = t->vfs->ops->rename(t->vfs, tmp, path);
    }
    if (e == 0) {
        what = "directory sync";
        e = t->vfs->ops->sync_dir(t->vfs, t->dir);
    }
    if (e == 0)
        goto out;
io_fail:
    t->vfs->ops->unlink(t->vfs, tmp);
    ssd_fail(t, what, e);
    rc = ST_EIO;
out:
    free(img);
    free(path);
    free(tmp);
    return rc;
}

static int ssd_put_dict(struct tier *tt, uint32_t id, const void *dict, size_t len)
{
    struct ssd *t = ssd_of(tt);
    int rc;

    if (id == 0 || (len && !dict) || len > UINT32_MAX - SFMT_DICT_HDR)
        return ST_EINVAL;
    if (ssd_is_failed(t))
        return ST_EIO;
    pthread_mutex_lock(&t->dict_mu);
    if (dict_known_locked(t, id)) {
        pthread_mutex_unlock(&t->dict_mu);
        return ST_EEXIST;
    }
    rc = dict_write_locked(t, id, dict, len);
    pthread_mutex_unlock(&t->dict_mu);
    if (rc == ST_OK)
        rc = ssd_dict_add_id(t, id);
    return rc;
}

/* Reads dictionary id's file: ST_OK with *buf (malloc'd image) and the
 * dictionary inside it, ST_ECORRUPT, ST_EIO, ST_ENOMEM. */
static int dict_read(struct ssd *t, uint32_t id, unsigned char **buf, const void **dict, uint32_t *len)
{
    char name[SFMT_NAME_MAX];
    char *path;
    int fd, rc = ST_ECORRUPT;
    int64_t size;
    uint32_t did;

    *buf = NULL;
    sfmt_dict_name(name, id);
    path = ssd_path(t, name);
    if (!path)
        return ST_ENOMEM;
    fd = vfs_open(t->vfs, path, O_RDONLY, 0, 0, NULL);
    free(path);
    if (fd < 0)
        return ST_EIO;
    size = t->vfs->ops->size(t->vfs, fd);
    if (size >= (int64_t)SFMT_DICT_HDR && size <= (int64_t)SFMT_DICT_HDR + UINT32_MAX) {
        *buf = malloc((size_t)size);
        if (!*buf)
            rc = ST_ENOMEM;
        else if (vfs_pread_full(t->vfs, fd, *buf, (size_t)size, 0) != size)
            rc = ST_EIO;
        else if (sfmt_dict_decode(*buf, (size_t)size, &did, dict, len) == ST_OK && did == id)
            rc = ST_OK;
    }
    vfs_close(t->vfs, fd);
    if (rc != ST_OK) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

static int ssd_each_dict(struct tier *tt, int (*fn)(void *ud, uint32_t id, const void *dict, size_t len), void *ud)
{
    struct ssd *t = ssd_of(tt);

    for (size_t i = 0;; i++) {
        uint32_t id, len = 0;
        unsigned char *buf;
        const void *d = NULL;
        int rc;

        pthread_mutex_lock(&t->dict_mu);
        if (i >= t->ndicts) {
            pthread_mutex_unlock(&t->dict_mu);
            return 0;
        }
        id = t->dict_ids[i];
        pthread_mutex_unlock(&t->dict_mu);
        rc = dict_read(t, id, &buf, &d, &len);
        if (rc == ST_ENOMEM)
            return rc;
        if (rc != ST_OK) {
            ssd_count(&t->st.errors, 1);
            ssd_log(t, SSD_LOG_WARNING, "ssd: dictionary %u unreadable (%s): skipped", id, st_strerror(rc));
            continue;
        }
        rc = fn(ud, id, d, len);
        free(buf);
        if (rc)
            return rc;
    }
}

static int ssd_clear(struct tier *tt, int with_dicts)
{
    struct ssd *t = ssd_of(tt);
    int rc = ssd_flushdb(tt, -1);

    if (with_dicts) {
        pthread_mutex_lock(&t->dict_mu);
        for (size_t i = 0; i < t->ndicts; i++) {
            char name[SFMT_NAME_MAX];
            sfmt_dict_name(name, t->dict_ids[i]);
            char *p = ssd_path(t, name);
            if (p) {
                t->vfs->ops->unlink(t->vfs, p);
                free(p);
            }
        }
        t->ndicts = 0;
        t->vfs->ops->sync_dir(t->vfs, t->dir);
        pthread_mutex_unlock(&t->dict_mu);
    }
    /* the segments left hold nothing live: the next round drops them */
    ssd_maint_wake(t);
    ssd_log(t, SSD_LOG_NOTICE, "ssd: cleared%s", with_dicts ? " (with the dictionaries)" : "");
    return rc;
}

/* ---- stats -------------------------------------------------------------- */

void ssd_stats(struct tier *tt, struct ssd_stats *o)
{
    struct ssd *t = ssd_of(tt);
    const struct ssd_counters *c = &t->st;

    memset(o, 0, sizeof(*o));
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (!s || (s->released && s->state == SEG_DROPPING))
            continue;
        o->segments++;
        switch (s->state) {
        case SEG_OPEN:
            o->segments_open++;
            break;
        case SEG_SEALED:
            o->segments_sealed++;
            break;
        case SEG_COMPACTING:
        case SEG_OUTPUT:
            o->segments_compacting++;
            break;
        case SEG_DROPPING:
            o->segments_dropping++;
            break;
        default:
            break;
        }
        if (s->state != SEG_DROPPING) {
            pthread_mutex_lock(&s->lock);
            uint64_t total = s->total, eb = s->ent_bytes;
            pthread_mutex_unlock(&s->lock);
            uint64_t live = rd(&s->live);
            if (s->cls == SFMT_CLASS_NOTES)
                o->live_bytes += eb; /* notes: counted live while the segment holds them */
            else if (total)
                o->live_bytes += (uint64_t)((double)eb * (double)(live > total ? total : live) / (double)total);
        }
    }
    pthread_mutex_unlock(&t->seg_mu);
    o->used_bytes = rd(&t->used);
    o->capacity_bytes = t->size;
    o->index_bytes = sidx_bytes(t->idx);
    o->index_entries = sidx_entries(t->idx);
    o->buffer_bytes = rd(&c->buffer_bytes);
    o->device_bytes_written = rd(&c->device_bytes_written);
    o->record_bytes_inserted = rd(&c->record_bytes_inserted);
    o->inserts = rd(&c->inserts);
    o->insert_fails = rd(&c->insert_fails);
    o->insert_reads = rd(&c->insert_reads);
    o->notes_written = rd(&c->notes_written);
    o->fetches = rd(&c->fetches);
    o->hits = rd(&c->hits);
    o->misses = rd(&c->misses);
    o->device_reads = rd(&c->device_reads);
    o->buffer_hits = rd(&c->buffer_hits);
    o->read_bytes = rd(&c->read_bytes);
    o->removes = rd(&c->removes);
    o->errors = rd(&c->errors);
    o->segments_compacted = rd(&c->segments_compacted);
    o->records_moved = rd(&c->records_moved);
    o->bytes_moved = rd(&c->bytes_moved);
    o->notes_carried = rd(&c->notes_carried);
    o->segments_expired = rd(&c->segments_expired);
    o->keys_expired = rd(&c->keys_expired);
    o->segments_evicted = rd(&c->segments_evicted);
    o->keys_evicted = rd(&c->keys_evicted);
    o->attach_segments = rd(&c->attach_segments);
    o->attach_records = rd(&c->attach_records);
    o->attach_damaged = rd(&c->attach_damaged);
    o->attach_removed = rd(&c->attach_removed);
    o->failed = __atomic_load_n(&t->failed, __ATOMIC_RELAXED);
    o->direct_io = __atomic_load_n(&t->direct, __ATOMIC_RELAXED);
}

static void ssd_tier_stats(struct tier *tt, struct tier_stats *out)
{
    struct ssd *t = ssd_of(tt);
    const struct ssd_counters *c = &t->st;
    double raw = 0, stored = 0;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (!s || s->state == SEG_DROPPING || s->cls == SFMT_CLASS_NOTES)
            continue;
        pthread_mutex_lock(&s->lock);
        uint64_t total = s->total, rs = s->raw_sum, ss = s->stored_sum;
        pthread_mutex_unlock(&s->lock);
        uint64_t live = rd(&s->live);
        if (total) {
            double share = (double)(live > total ? total : live) / (double)total;
            raw += (double)rs * share;
            stored += (double)ss * share;
        }
    }
    pthread_mutex_unlock(&t->seg_mu);
    out->records = sidx_entries(t->idx);
    out->raw_bytes = (uint64_t)raw;
    out->stored_bytes = (uint64_t)stored;
    out->used_bytes = rd(&t->used);
    out->capacity_bytes = t->size;
    out->puts = rd(&c->inserts);
    out->put_fails = rd(&c->insert_fails);
    out->gets = rd(&c->fetches);
    out->hits = rd(&c->hits);
    out->misses = rd(&c->misses);
    out->dels = rd(&c->removes);
    out->errors = rd(&c->errors);
    out->expired = rd(&c->keys_expired);
    out->evicted = rd(&c->keys_evicted);
    out->failed = __atomic_load_n(&t->failed, __ATOMIC_RELAXED);
}

static uint64_t ssd_seq_now(struct tier *tt)
{
    return __atomic_load_n(&ssd_of(tt)->seq, __ATOMIC_SEQ_CST);
}

static void ssd_drain(struct tier *tt)
{
    ssd_io_drain_reads(ssd_of(tt));
}

static uint64_t ssd_heap_bytes(struct tier *t)
{
    (void)t;
    return 0;
}

int ssd_sync(struct tier *tt)
{
    return ssd_flush_all(ssd_of(tt), 1);
}

/* ---- lifecycle ---------------------------------------------------------- */

static void ssd_free(struct ssd *t)
{
    for (unsigned i = 0; i < SIDX_SLOTS; i++)
        if (t->segs[i])
            ssd_seg_destroy(t->segs[i]);
    sidx_destroy(&t->idx);
    for (unsigned i = 0; i < SFMT_NCLASSES; i++)
        pthread_mutex_destroy(&t->cls[i].mu);
    pthread_mutex_destroy(&t->free_mu);
    pthread_mutex_destroy(&t->seg_mu);
    pthread_mutex_destroy(&t->q_mu);
    pthread_cond_destroy(&t->q_cond);
    pthread_cond_destroy(&t->q_idle);
    pthread_mutex_destroy(&t->maint_mu);
    pthread_mutex_destroy(&t->m_mu);
    pthread_cond_destroy(&t->m_cond);
    pthread_mutex_destroy(&t->dict_mu);
    pthread_mutex_destroy(&t->exp_mu);
    ssd_exp_free(t);
    free(t->dict_ids);
    free(t->dir);
    free(t);
}

static void ssd_destroy(struct tier *tt)
{
    struct ssd *t = ssd_of(tt);

    ssd_maint_stop(t);
    if (ssd_flush_all(t, 1) != ST_OK)
        ssd_log(t, SSD_LOG_WARNING, "ssd: closing %s in the failed state: buffers not written are lost", t->dir);
    ssd_io_stop(t); /* every queued read completes (done runs) first */
    ssd_free(t);
}

static const struct tier_ops ssd_ops = {
    .put = ssd_put,
    .get = ssd_get,
    .del = ssd_del,
    .clear = ssd_clear,
    .iterate = ssd_base_iterate,
    .put_dict = ssd_put_dict,
    .each_dict = ssd_each_dict,
    .stats = ssd_tier_stats,
    .heap_bytes = ssd_heap_bytes,
    .destroy = ssd_destroy,
};

static const struct tier_index_ops ssd_index_ops = {
    .insert = ssd_insert,
    .probe = ssd_probe,
    .fetch = ssd_fetch,
    .fetch_at = ssd_fetch_at,
    .current = ssd_current,
    .remove = ssd_remove,
    .db_counts = ssd_db_counts,
    .scan = ssd_scan,
    .random = ssd_random,
    .flushdb = ssd_flushdb,
    .swapdb = ssd_swapdb,
    .iterate = ssd_index_iterate,
    .seq_now = ssd_seq_now,
    .drain = ssd_drain,
};

void ssd_conf_defaults(struct ssd_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->databases = 16;
    c->direct_io = 1;
    c->fsync = 1;
    c->attach = 1;
    c->maintenance_thread = 1;
}

static int bad_conf(const struct ssd_conf *conf, const char *what)
{
    if (conf->log) {
        char msg[256];
        snprintf(msg, sizeof(msg), "ssd: invalid configuration: %s", what);
        conf->log(conf->log_ud, SSD_LOG_WARNING, msg);
    }
    return ST_EINVAL;
}

/* Checks conf and copies it into t with the defaults filled in. */
static int take_conf(struct ssd *t, const struct ssd_conf *conf)
{
    t->seg_size = conf->segment_size ? conf->segment_size : DEFAULT_SEGMENT;
    t->wbuf = conf->write_buffer ? conf->write_buffer : DEFAULT_WBUF;
    t->nio = conf->io_threads ? conf->io_threads : DEFAULT_IO;
    t->ratio = conf->compact_live_ratio != 0 ? conf->compact_live_ratio : DEFAULT_RATIO;
    t->flush_ms = conf->flush_ms ? conf->flush_ms : DEFAULT_FLUSH_MS;
    t->size = conf->size;
    t->databases = conf->databases;
    if (!conf->dir || !*conf->dir)
        return bad_conf(conf, "dir is empty");
    if (t->databases < 1 || t->databases > 1024)
        return bad_conf(conf, "databases must be 1 .. 1024");
    if (t->seg_size % SFMT_BLOCK || t->seg_size < SFMT_SEG_MIN || t->seg_size > SFMT_SEG_MAX)
        return bad_conf(conf, "segment_size must be a multiple of 4096 in 1 MiB .. 1 GiB");
    if (t->wbuf % SFMT_BLOCK || t->wbuf < 2 * SFMT_BLOCK || t->wbuf > t->seg_size)
        return bad_conf(conf, "write_buffer must be a multiple of 4096, at least 8192 and at most segment_size");
    if (t->nio > SSD_MAX_IO_THREADS)
        return bad_conf(conf, "io_threads must be at most 64");
    if (!(t->ratio > 0 && t->ratio < 1) || isnan(t->ratio))
        return bad_conf(conf, "compact_live_ratio must be in (0, 1)");
    if (t->size < 3 * t->seg_size)
        return bad_conf(conf, "size must hold at least 3 segments");
    if (t->size / t->seg_size > SIDX_SLOTS - 64)
        return bad_conf(conf, "size / segment_size must be below 16320 (raise segment_size)");
    if (t->flush_ms > 60000)
        return bad_conf(conf, "flush_ms must be at most 60000");
    t->reserve = t->seg_size;
    t->want_direct = conf->direct_io != 0;
    t->fsync = conf->fsync != 0;
    t->maint_thread = conf->maintenance_thread != 0;
    t->vfs = conf->vfs ? conf->vfs : vfs_posix();
    t->clock_ms = conf->clock_ms;
    t->clock_ud = conf->clock_ud;
    t->log = conf->log;
    t->log_ud = conf->log_ud;
    t->hook = conf->hook;
    t->hook_ud = conf->hook_ud;
    if (!t->vfs->ops->list)
        return bad_conf(conf, "the vfs cannot list directories");
    return ST_OK;
}

static uint64_t random_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
        s = (uint64_t)ssd_mono_ns() ^ (uint64_t)(uintptr_t)&s;
    return s;
}

int ssd_create(const struct ssd_conf *conf, struct tier **out)
{
    struct ssd *t;
    int rc;

    if (!conf || !out)
        return ST_EINVAL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return ST_ENOMEM;
    pthread_mutex_init(&t->free_mu, NULL);
    pthread_mutex_init(&t->seg_mu, NULL);
    for (unsigned i = 0; i < SFMT_NCLASSES; i++)
        pthread_mutex_init(&t->cls[i].mu, NULL);
    pthread_mutex_init(&t->q_mu, NULL);
    pthread_cond_init(&t->q_cond, NULL);
    pthread_cond_init(&t->q_idle, NULL);
    pthread_mutex_init(&t->maint_mu, NULL);
    pthread_mutex_init(&t->m_mu, NULL);
    pthread_cond_init(&t->m_cond, NULL);
    pthread_mutex_init(&t->dict_mu, NULL);
    pthread_mutex_init(&t->exp_mu, NULL);
    t->base.ops = &ssd_ops;
    t->base.index = &ssd_index_ops;
    t->base.name = "ssd";
    rc = take_conf(t, conf);
    if (rc != ST_OK)
        goto fail;
    t->dir = strdup(conf->dir);
    if (!t->dir) {
        rc = ST_ENOMEM;
        goto fail;
    }
    rc = t->vfs->ops->mkdir(t->vfs, t->dir, 0755);
    if (rc < 0) {
        ssd_log(t, SSD_LOG_WARNING, "ssd: cannot create %s: %s", t->dir, strerror(-rc));
        rc = ST_EIO;
        goto fail;
    }
    rc = sidx_create(t->databases, random_seed(), &t->idx);
    if (rc != ST_OK)
        goto fail;
    t->next_seg_seq = 1;
    rc = ssd_attach(t, conf->attach != 0);
    if (rc != ST_OK)
        goto fail;
    rc = ssd_io_start(t);
    if (rc == ST_OK)
        rc = ssd_maint_start(t);
    if (rc != ST_OK) {
        ssd_io_stop(t);
        goto fail;
    }
    ssd_log(t, SSD_LOG_NOTICE, "ssd: %s ready: %llu MiB in %llu MiB segments, %u I/O threads, %zu keys",
            t->dir, (unsigned long long)(t->size >> 20), (unsigned long long)(t->seg_size >> 20), t->nio,
            (size_t)sidx_entries(t->idx));
    *out = &t->base;
    return ST_OK;
fail:
    ssd_free(t);
    return rc;
}
