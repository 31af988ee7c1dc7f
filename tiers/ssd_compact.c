/*
 * ssd_compact.c -- the SSD tier's maintenance: timed flushes, dropping
 * segments whole (nothing live, or every record expired), compaction of
 * sealed segments whose live share fell below compact_live_ratio,
 * eviction of the oldest segments when the tier is full, and the index
 * walks and file deletions those need. One round at a time (maint_mu), on
 * the maintenance thread or in ssd_maintain. Design and invariants: the
 * essay of tiers/ssd.c.
 *
 * What it owns: the decisions which segments live, and the compaction
 * output segments (state SEG_OUTPUT), written synchronously by the round.
 * Not appends of the write path (tiers/ssd_io.c), not the index's layout.
 *
 * Compaction of a PUT segment (src):
 *
 *   1. src -> SEG_COMPACTING (reads of it go on), scanned in order with
 *      large reads (ssd_seg_scan: damaged stretches logged and skipped);
 *   2. each PUT whose index entry still names (src, off) -- found under the
 *      key's stripe lock -- is, when expired, removed from the index (with
 *      a DEL note if one may be needed, invariant 6), else copied into the
 *      output buffer with its seq and a new seg_seq_lo and CRC;
 *   3. a full output buffer is written (pwrite, 4096-aligned), then the
 *      test hook runs, then each copied entry's index entry is switched
 *      src -> output only if it still names src (compare-and-set under the
 *      stripe lock: sidx_replace_locked). A key removed or re-inserted
 *      meanwhile keeps its newer state; the copy is dead in the output
 *      (its seq is older than whatever replaced it, invariant 3);
 *   4. at the end the output is synced, and the notes buffer too when
 *      step 2 wrote notes; only then src is dropped: its file goes after
 *      the last read of it (invariant 9) and once every entry appended
 *      before the drop is durable (invariant 11: the dead records src
 *      leaves behind may be the only durable versions above older ones
 *      elsewhere), its slot after the index walk. The round's end makes
 *      those entries durable itself (ssd_unlink_settle).
 *
 * A notes segment is compacted the same way, carrying forward the notes
 * still needed (invariant 6) into a notes output; none of its entries is
 * indexed. Output segments stay open for the rest of the round and are
 * sealed at its end (so every output is younger than the segments that
 * existed when its round began: invariant 5).
 *
 * Threads: the maintenance thread or an ssd_maintain caller, holding
 * maint_mu (and no other tier lock while calling the test hook).
 */
#include "tiers/ssd_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/util.h"

#define ROUNDUP(x) (((x) + SFMT_BLOCK - 1) & ~(uint64_t)(SFMT_BLOCK - 1))
#define MAX_COMPACT_PER_ROUND 4

/* ---- note neededness (invariant 6) ------------------------------------- */

/* The bounds of invariant 6, in one walk of the slot table: the lowest
 * first seq of a PUT segment holding dead records (kill), and the lowest
 * first seq of any segment with the one it belongs to and the second
 * lowest (so the bound "of every segment but X" costs nothing more). A
 * segment counts until its unlink was followed by a directory sync.
 * UINT64_MAX when there is none. */
struct bounds {
    uint64_t kill;
    uint64_t all1, all2;
    const struct seg *all1_seg;
};

static void need_bounds(struct ssd *t, struct bounds *b)
{
    b->kill = b->all1 = b->all2 = UINT64_MAX;
    b->all1_seg = NULL;
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (!s || (s->released && s->unlink_synced))
            continue;
        pthread_mutex_lock(&s->lock);
        uint64_t mn = s->min_seq, total = s->total;
        pthread_mutex_unlock(&s->lock);
        if (mn < b->all1) {
            b->all2 = b->all1;
            b->all1 = mn;
            b->all1_seg = s;
        } else if (mn < b->all2) {
            b->all2 = mn;
        }
        if (s->cls != SFMT_CLASS_NOTES && total > __atomic_load_n(&s->live, __ATOMIC_RELAXED) && mn < b->kill)
            b->kill = mn;
    }
    pthread_mutex_unlock(&t->seg_mu);
}

/* The lowest first seq of every segment but skip. */
static uint64_t all_but(const struct bounds *b, const struct seg *skip)
{
    return skip && skip == b->all1_seg ? b->all2 : b->all1;
}

/* The lowest first seq of a PUT segment with dead records, but skip. A
 * notes segment never counts there, so only a PUT skip can change it:
 * then walk again. */
static uint64_t kill_but(struct ssd *t, const struct bounds *b, const struct seg *skip)
{
    uint64_t k = UINT64_MAX;

    if (!skip || skip->cls == SFMT_CLASS_NOTES)
        return b->kill;
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (!s || s == skip || s->cls == SFMT_CLASS_NOTES || (s->released && s->unlink_synced))
            continue;
        pthread_mutex_lock(&s->lock);
        uint64_t mn = s->min_seq, total = s->total;
        pthread_mutex_unlock(&s->lock);
        if (total > __atomic_load_n(&s->live, __ATOMIC_RELAXED) && mn < k)
            k = mn;
    }
    pthread_mutex_unlock(&t->seg_mu);
    return k;
}

/* ---- drops, eviction, reclaim ------------------------------------------ */

static int sealed_put(const struct seg *s)
{
    return s->state == SEG_SEALED && s->cls != SFMT_CLASS_NOTES;
}

static int all_expired(const struct seg *s, int64_t now)
{
    return !s->has_noexpire && s->total > 0 && s->max_expire >= 0 && s->max_expire <= now;
}

/* Drops s for expiry or emptiness, counting it. seg_mu held. */
static void drop_counted_locked(struct ssd *t, struct seg *s, int64_t now)
{
    uint64_t live = __atomic_load_n(&s->live, __ATOMIC_RELAXED);

    if (live && all_expired(s, now)) {
        ssd_count(&t->st.segments_expired, 1);
        ssd_count(&t->st.keys_expired, live);
    } else if (all_expired(s, now)) {
        ssd_count(&t->st.segments_expired, 1);
    }
    ssd_seg_drop_locked(s);
}

static int evict_oldest_locked(struct ssd *t)
{
    struct seg *old = NULL;

    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (s && sealed_put(s) && (!old || s->seq < old->seq))
            old = s;
    }
    if (!old)
        return 0;
    uint64_t live = __atomic_load_n(&old->live, __ATOMIC_RELAXED);
    ssd_count(&t->st.segments_evicted, 1);
    ssd_count(&t->st.keys_evicted, live);
    ssd_log(t, SSD_LOG_NOTICE, "ssd: full: evicted segment %016llx (%llu keys)", (unsigned long long)old->seq,
            (unsigned long long)live);
    ssd_seg_drop_locked(old);
    return 1;
}

int ssd_make_room(struct ssd *t)
{
    int64_t now = ssd_now_ms(t);
    uint64_t before = __atomic_load_n(&t->used, __ATOMIC_RELAXED);
    int done = 0;

    if (ssd_unlink_waits(t)) {
        /* bytes are on their way back once the entries before the drop are
         * durable (invariant 11; the insert makes them so, holding no lock):
         * evicting more now would lose keys for nothing */
        ssd_maint_wake(t);
        return 0;
    }
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS && !done; i++) {
        struct seg *s = t->segs[i];
        if (s && sealed_put(s) && (__atomic_load_n(&s->live, __ATOMIC_RELAXED) == 0 || all_expired(s, now))) {
            drop_counted_locked(t, s, now);
            done = 1;
        }
    }
    if (!done)
        done = evict_oldest_locked(t);
    pthread_mutex_unlock(&t->seg_mu);
    ssd_maint_wake(t);
    /* room now only if the file went at once (no read in flight held it) */
    return done && __atomic_load_n(&t->used, __ATOMIC_RELAXED) < before;
}

/* Drops sealed segments that hold nothing live, or only expired records,
 * and notes segments none of whose notes is needed. */
static void drop_pass(struct ssd *t)
{
    int64_t now = ssd_now_ms(t);
    struct bounds b;
    int notes = 0;

    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (s && sealed_put(s) && (__atomic_load_n(&s->live, __ATOMIC_RELAXED) == 0 || all_expired(s, now)))
            drop_counted_locked(t, s, now);
        notes += s && s->cls == SFMT_CLASS_NOTES && s->state == SEG_SEALED;
    }
    pthread_mutex_unlock(&t->seg_mu);
    if (!notes)
        return;
    need_bounds(t, &b);
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (s && s->cls == SFMT_CLASS_NOTES && s->state == SEG_SEALED && s->max_kill_seq <= b.kill &&
            s->max_swap_seq <= all_but(&b, s))
            ssd_seg_drop_locked(s);
    }
    pthread_mutex_unlock(&t->seg_mu);
}

static int walk_dropping(void *ud, int db, uint64_t ent)
{
    const uint8_t *set = ud;
    (void)db;
    return set[sidx_ent_slot(ent)];
}

void ssd_reclaim(struct ssd *t)
{
    uint8_t *set = calloc(SIDX_SLOTS, 1);
    struct seg **gone = NULL;
    size_t n = 0, ngone = 0;

    if (!set)
        return;
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (s && s->state == SEG_DROPPING && !s->walked) {
            set[i] = 1;
            n++;
        }
    }
    pthread_mutex_unlock(&t->seg_mu);
    if (n) {
        sidx_walk(t->idx, -1, walk_dropping, set);
        pthread_mutex_lock(&t->seg_mu);
        for (unsigned i = 0; i < SIDX_SLOTS; i++)
            if (set[i] && t->segs[i]) {
                t->segs[i]->walked = 1;
                __atomic_store_n(&t->segs[i]->live, 0, __ATOMIC_RELAXED);
            }
        pthread_mutex_unlock(&t->seg_mu);
    }
    /* slots whose file is gone: a directory sync, then free (invariant 9) */
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (s && s->state == SEG_DROPPING && s->walked && s->released)
            ngone++;
    }
    pthread_mutex_unlock(&t->seg_mu);
    if (ngone) {
        int rc = t->vfs->ops->sync_dir(t->vfs, t->dir);
        gone = calloc(ngone, sizeof(*gone));
        if (rc == 0 && gone) {
            size_t k = 0;
            pthread_mutex_lock(&t->free_mu);
            pthread_mutex_lock(&t->seg_mu);
            for (unsigned i = 0; i < SIDX_SLOTS && k < ngone; i++) {
                struct seg *s = t->segs[i];
                if (s && s->state == SEG_DROPPING && s->walked && s->released) {
                    s->unlink_synced = 1;
                    __atomic_store_n(&t->segs[i], NULL, __ATOMIC_RELEASE);
                    gone[k++] = s;
                }
            }
            pthread_mutex_unlock(&t->seg_mu);
            pthread_mutex_unlock(&t->free_mu);
            for (size_t j = 0; j < k; j++)
                ssd_seg_destroy(gone[j]);
        }
        free(gone);
    }
    free(set);
}

/* ---- the compaction writer ---------------------------------------------- */

#define EXPIRE_PER_ROUND 100000 /* keys active expiry may drop per round (ssd_expire.c) */

struct move {
    int db;
    int64_t expire_ms; /* the record's, -1 for none */
    uint64_t h;
    uint64_t old_id; /* identity of the entry in src */
    uint64_t ent;    /* the new entry */
    uint32_t elen;
};

struct cw {
    struct ssd *t;
    unsigned cls;
    struct seg *out;     /* SEG_OUTPUT, or NULL */
    struct seg *src;     /* the segment being compacted (live counts move from it) */
    unsigned char *buf;  /* 4096-aligned, cap */
    size_t cap;
    uint64_t base;       /* device offset of buf[0] */
    size_t len;
    struct move *mv;     /* moves waiting for this buffer's write */
    size_t nmv, mvcap;
    int err;             /* ST_EIO / ST_EFULL / ST_ENOMEM: the writer stopped */
};

static int cw_init(struct ssd *t, struct cw *w, unsigned cls)
{
    void *p = NULL;

    memset(w, 0, sizeof(*w));
    w->t = t;
    w->cls = cls;
    w->cap = (size_t)t->wbuf;
    if (posix_memalign(&p, SFMT_BLOCK, w->cap) != 0)
        return ST_ENOMEM;
    w->buf = p;
    ssd_count(&t->st.buffer_bytes, w->cap);
    return ST_OK;
}

static int reserve_out(struct ssd *t, uint64_t delta)
{
    uint64_t u = __atomic_load_n(&t->used, __ATOMIC_RELAXED);
    do {
        if (u + delta > t->size)
            return 0;
    } while (!__atomic_compare_exchange_n(&t->used, &u, u + delta, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return 1;
}

/* Switches each moved entry from src to the output if it still names src
 * (step 3). */
static void cw_cas(struct cw *w)
{
    struct ssd *t = w->t;

    for (size_t i = 0; i < w->nmv; i++) {
        struct move *m = &w->mv[i];
        int done = 0;
        for (unsigned d = 0; d < t->databases && !done; d++) {
            int db = d == 0 ? m->db : (int)(d == (unsigned)m->db ? 0 : d);
            if (d > 0 && !__atomic_load_n(&t->remapped, __ATOMIC_RELAXED))
                break;
            struct sidx_stripe *st = sidx_lock(t->idx, db, m->h, 0);
            if (!st)
                continue;
            done = sidx_replace_locked(st, m->old_id, m->ent) == ST_OK;
            sidx_unlock(st);
        }
        if (done) {
            if (m->expire_ms >= 0) /* ssd_expire.c invariant 1: the new loc */
                ssd_exp_push(t, m->expire_ms, m->db, m->h, ssd_loc(w->out, m->ent));
            __atomic_fetch_sub(&w->src->live, 1, __ATOMIC_RELAXED);
            __atomic_fetch_add(&w->out->live, 1, __ATOMIC_RELAXED);
            ssd_count(&t->st.records_moved, 1);
            ssd_count(&t->st.bytes_moved, m->elen);
        }
    }
    w->nmv = 0;
}

/* Writes the buffer (whole blocks), then runs the hook and the CAS of its
 * moves. The next entries start at the next block boundary. */
static int cw_flush(struct cw *w)
{
    struct ssd *t = w->t;
    size_t wlen;
    int rc;

    if (!w->out || w->len == 0)
        return ST_OK;
    wlen = (size_t)ROUNDUP(w->len);
    memset(w->buf + w->len, 0, wlen - w->len);
    rc = vfs_pwrite_all(t->vfs, w->out->fd, w->buf, wlen, w->base);
    if (rc != 0) {
        ssd_fail(t, "compaction write", rc);
        w->nmv = 0; /* nothing switched: the records stay where they are */
        w->err = ST_EIO;
        return ST_EIO;
    }
    ssd_count(&t->st.device_bytes_written, wlen);
    pthread_mutex_lock(&w->out->lock);
    w->out->dev_end = w->base + wlen;
    w->out->fill = w->base + wlen;
    pthread_mutex_unlock(&w->out->lock);
    if (w->nmv && t->hook)
        t->hook(t->hook_ud, SSD_HOOK_COMPACT_COPIED);
    cw_cas(w);
    w->base += wlen;
    w->len = 0;
    return ST_OK;
}

/* Flushes and syncs the output (the moved records durable). */
static int cw_sync(struct cw *w)
{
    int rc = cw_flush(w);

    if (rc == ST_OK && w->out) {
        int e = vfs_sync(w->t->vfs, w->out->fd);
        if (e < 0) {
            ssd_fail(w->t, "compaction sync", e);
            rc = w->err = ST_EIO;
        } else {
            pthread_mutex_lock(&w->out->lock);
            w->out->synced_end = w->out->dev_end;
            pthread_mutex_unlock(&w->out->lock);
        }
    }
    return rc;
}

/* Syncs and seals the output (end of round, or full). */
static int cw_seal(struct cw *w)
{
    struct ssd *t = w->t;
    int rc = cw_sync(w);

    if (w->out) {
        pthread_mutex_lock(&t->seg_mu);
        if (w->out->state == SEG_OUTPUT)
            __atomic_store_n(&w->out->state, SEG_SEALED, __ATOMIC_SEQ_CST);
        pthread_mutex_unlock(&t->seg_mu);
        w->out = NULL;
    }
    return rc;
}

static int cw_open(struct cw *w)
{
    struct ssd *t = w->t;
    struct seg *s;
    struct sfmt_seg_hdr h;
    int rc;

    if (!reserve_out(t, SFMT_HDR_SIZE))
        return w->err = ST_EFULL;
    pthread_mutex_lock(&t->seg_mu);
    s = ssd_seg_create_locked(t, w->cls, SEG_OUTPUT, t->seg_size);
    pthread_mutex_unlock(&t->seg_mu);
    if (!s) {
        __atomic_fetch_sub(&t->used, SFMT_HDR_SIZE, __ATOMIC_RELAXED);
        return w->err = ST_EFULL;
    }
    s->acct = SFMT_HDR_SIZE;
    rc = ssd_seg_open_file(t, s, 1);
    if (rc != 0) {
        ssd_fail(t, "compaction output create", rc);
        pthread_mutex_lock(&t->seg_mu);
        ssd_seg_drop_locked(s);
        pthread_mutex_unlock(&t->seg_mu);
        return w->err = ST_EIO;
    }
    h = (struct sfmt_seg_hdr){.seq = s->seq, .created_ms = s->created_ms, .segment_size = s->limit,
                              .cls = w->cls, .flags = SFMT_SEG_F_COMPACT};
    sfmt_seg_hdr_encode(&h, w->buf);
    w->base = 0;
    w->len = SFMT_HDR_SIZE;
    s->fill = SFMT_HDR_SIZE;
    w->out = s;
    return ST_OK;
}

/* Makes the buffer hold at least need bytes, keeping its contents. */
static int cw_grow(struct cw *w, size_t need)
{
    void *p = NULL;
    size_t cap = (size_t)ROUNDUP(need);

    if (need <= w->cap)
        return ST_OK;
    if (posix_memalign(&p, SFMT_BLOCK, cap) != 0)
        return w->err = ST_ENOMEM;
    memcpy(p, w->buf, w->len);
    __atomic_fetch_sub(&w->t->st.buffer_bytes, w->cap, __ATOMIC_RELAXED);
    free(w->buf);
    w->buf = p;
    w->cap = cap;
    ssd_count(&w->t->st.buffer_bytes, cap);
    return ST_OK;
}

/* Copies the entry (e, decoded from its bytes at ent) into the output,
 * with a pending move when mv is set (rec: the PUT's record). ST_OK or the
 * writer's error. */
static int cw_add(struct cw *w, const unsigned char *ent, const struct sfmt_ent *e, const struct move *mv,
                  const struct tier_rec *rec)
{
    struct ssd *t = w->t;
    size_t elen = sfmt_ent_size(e->plen);
    uint64_t off;

    if (w->err)
        return w->err;
    if (w->out && w->base + w->len + elen > w->out->limit && cw_seal(w) != ST_OK)
        return w->err;
    if (!w->out && cw_open(w) != ST_OK)
        return w->err;
    if (w->len + elen > w->cap && w->len > 0 && cw_flush(w) != ST_OK)
        return w->err;
    if (w->base + w->len + elen > w->out->limit) { /* the flush's padding took the room */
        if (cw_seal(w) != ST_OK || cw_open(w) != ST_OK)
            return w->err;
    }
    if (cw_grow(w, w->len + elen) != ST_OK)
        return w->err;
    off = w->base + w->len;
    if (ROUNDUP(off + elen) > w->out->acct) {
        uint64_t delta = ROUNDUP(off + elen) - w->out->acct;
        if (!reserve_out(t, delta))
            return w->err = ST_EFULL;
        w->out->acct += delta;
    }
    if (mv) {
        if (w->nmv == w->mvcap) {
            size_t nc = w->mvcap ? w->mvcap * 2 : 256;
            struct move *n2 = realloc(w->mv, nc * sizeof(*n2));
            if (!n2)
                return w->err = ST_ENOMEM;
            w->mv = n2;
            w->mvcap = nc;
        }
        struct move *m = &w->mv[w->nmv++];
        *m = *mv;
        m->ent = sidx_ent(sidx_ent_fp(mv->old_id), rec->expire_ms >= 0, sidx_sz_class(off, e->len),
                          w->out->slot, off);
        m->elen = (uint32_t)elen;
    }
    memcpy(w->buf + w->len, ent, e->len);
    memset(w->buf + w->len + e->len, 0, elen - e->len);
    sfmt_ent_restamp(w->buf + w->len, (uint32_t)w->out->seq);
    w->len += elen;
    pthread_mutex_lock(&w->out->lock);
    w->out->ent_bytes += elen;
    if (e->seq < w->out->min_seq)
        w->out->min_seq = e->seq;
    if (e->seq > w->out->max_seq)
        w->out->max_seq = e->seq;
    if (e->kind == SFMT_PUT) {
        w->out->total++;
        w->out->raw_sum += rec->rawlen;
        w->out->stored_sum += rec->vlen;
        if (rec->expire_ms < 0)
            w->out->has_noexpire = 1;
        else if (rec->expire_ms > w->out->max_expire)
            w->out->max_expire = rec->expire_ms;
    } else {
        w->out->notes++;
        if (e->kind == SFMT_SWAPDB) {
            if (e->seq > w->out->max_swap_seq)
                w->out->max_swap_seq = e->seq;
        } else if (e->seq > w->out->max_kill_seq) {
            w->out->max_kill_seq = e->seq;
        }
        ssd_count(&t->st.notes_carried, 1);
    }
    pthread_mutex_unlock(&w->out->lock);
    return ST_OK;
}

static void cw_deinit(struct cw *w)
{
    if (w->buf) {
        __atomic_fetch_sub(&w->t->st.buffer_bytes, w->cap, __ATOMIC_RELAXED);
        free(w->buf);
    }
    free(w->mv);
}

/* ---- compacting one segment --------------------------------------------- */

struct cctx {
    struct ssd *t;
    struct cw *w;
    struct seg *src;
    int64_t now;
    uint64_t t_kill, t_all;
    int notes_written;
    unsigned since_flush; /* entries since the last timed-flush check */
    /* notes segments */
    uint64_t kept_min;
    struct swapnote {
        uint64_t seq;
        unsigned char ent[SFMT_ENT_HDR + 8];
    } *swaps;
    size_t nswaps, swapcap;
};

/* Finds the index entry of (key, src, off) -- in its framing database db0
 * first, in the others only when a SWAPDB may have moved it -- and returns
 * the database it is in, or -1. When the record has expired, its entry is
 * removed right there instead (with a DEL note if one may be needed,
 * invariant 5c) and -1 returned. */
static int current_db(struct cctx *c, int db0, const struct tier_rec *r, uint64_t off, uint64_t *h_out,
                      uint64_t *id_out, int expired)
{
    struct ssd *t = c->t;
    uint64_t h = sidx_hash(t->idx, r->key, r->klen);
    uint64_t id = sidx_ent(sidx_fp_of(h), 0, 0, c->src->slot, off);
    int remapped = __atomic_load_n(&t->remapped, __ATOMIC_RELAXED);

    *h_out = h;
    *id_out = id;
    for (unsigned k = 0; k < t->databases; k++) {
        int db = k == 0 ? db0 : (int)(k == (unsigned)db0 ? 0 : k);
        if (k > 0 && !remapped)
            break;
        struct sidx_stripe *st = sidx_lock(t->idx, db, h, 0);
        if (!st)
            continue;
        uint64_t cand[SSD_MAX_CANDS];
        size_t n = sidx_find_locked(st, sidx_fp_of(h), cand, SSD_MAX_CANDS);
        int found = 0;
        for (size_t i = 0; i < n && i < SSD_MAX_CANDS; i++)
            found |= (cand[i] & SIDX_ID_MASK) == (id & SIDX_ID_MASK);
        if (found && expired) {
            struct seg *ns;
            uint64_t noff, nseq;
            sidx_del_locked(st, id);
            __atomic_fetch_sub(&c->src->live, 1, __ATOMIC_RELAXED);
            ssd_count(&t->st.keys_expired, 1);
            if (c->t_kill != UINT64_MAX &&
                ssd_append(t, SFMT_CLASS_NOTES, SFMT_DEL, (uint16_t)db, r->key, r->klen, NULL, &ns, &noff, &nseq) ==
                    ST_OK)
                c->notes_written = 1;
        }
        sidx_unlock(st);
        if (found)
            return expired ? -1 : db;
    }
    return -1;
}

static int compact_put(void *ud, struct seg *s, uint64_t off, const struct sfmt_ent *e)
{
    struct cctx *c = ud;
    struct tier_rec r;
    uint64_t h, id;
    int db;

    (void)s;
    if (++c->since_flush % 256 == 0)
        ssd_flush_timed(c->t, 0); /* a long compaction must not hold back flush_ms */
    if (e->kind != SFMT_PUT || sfmt_put_check(e, &r) != ST_OK)
        return 0; /* not a record (a note in a PUT segment cannot be written) */
    int expired = r.expire_ms >= 0 && r.expire_ms <= c->now;
    if (e->db >= c->t->databases)
        return 0;
    db = current_db(c, e->db, &r, off, &h, &id, expired);
    if (db < 0)
        return 0;
    struct move m = {.db = db, .expire_ms = r.expire_ms, .h = h, .old_id = id};
    /* the entry's bytes: e->payload sits SFMT_ENT_HDR past its start */
    return cw_add(c->w, e->payload - SFMT_ENT_HDR, e, &m, &r) == ST_OK ? 0 : c->w->err;
}

static int compact_note(void *ud, struct seg *s, uint64_t off, const struct sfmt_ent *e)
{
    struct cctx *c = ud;

    (void)s;
    (void)off;
    if (e->kind == SFMT_SWAPDB) {
        if (c->nswaps == c->swapcap) {
            size_t nc = c->swapcap ? c->swapcap * 2 : 16;
            struct swapnote *n2 = realloc(c->swaps, nc * sizeof(*n2));
            if (!n2)
                return ST_ENOMEM;
            c->swaps = n2;
            c->swapcap = nc;
        }
        c->swaps[c->nswaps].seq = e->seq;
        memcpy(c->swaps[c->nswaps].ent, e->payload - SFMT_ENT_HDR, SFMT_ENT_HDR + 8);
        c->nswaps++;
        return 0;
    }
    if (e->kind != SFMT_DEL && e->kind != SFMT_FLUSHDB)
        return 0;
    if (e->seq <= c->t_kill)
        return 0; /* nothing older with dead records remains: not needed */
    if (e->seq < c->kept_min)
        c->kept_min = e->seq;
    return cw_add(c->w, e->payload - SFMT_ENT_HDR, e, NULL, NULL) == ST_OK ? 0 : c->w->err;
}

static int cmp_swap(const void *a, const void *b)
{
    const struct swapnote *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Compacts src (SEG_COMPACTING, a reference held) into w. On success src
 * is dropped; otherwise it is sealed again and stays. */
static int compact_seg(struct ssd *t, struct seg *src, struct cw *w)
{
    struct cctx c = {.t = t, .w = w, .src = src, .now = ssd_now_ms(t), .kept_min = UINT64_MAX};
    uint64_t damaged = 0, end;
    int rc;

    struct bounds b;
    w->src = src;
    need_bounds(t, &b);
    c.t_kill = kill_but(t, &b, src);
    c.t_all = all_but(&b, src);
    pthread_mutex_lock(&src->lock);
    end = src->dev_end;
    pthread_mutex_unlock(&src->lock);
    rc = ssd_seg_scan(t, src, end, src->cls == SFMT_CLASS_NOTES ? compact_note : compact_put, &c, &damaged);
    if (rc == ST_OK && c.nswaps) {
        qsort(c.swaps, c.nswaps, sizeof(*c.swaps), cmp_swap);
        for (size_t i = 0; i < c.nswaps && rc == ST_OK; i++) {
            struct sfmt_ent e;
            if (!(c.t_all < c.swaps[i].seq || c.kept_min < c.swaps[i].seq))
                continue;
            if (sfmt_ent_decode(c.swaps[i].ent, sizeof(c.swaps[i].ent), UINT64_MAX, &e, NULL) != ST_OK)
                continue;
            if (c.swaps[i].seq < c.kept_min)
                c.kept_min = c.swaps[i].seq;
            rc = cw_add(w, c.swaps[i].ent, &e, NULL, NULL);
        }
    }
    free(c.swaps);
    if (damaged)
        ssd_count(&t->st.errors, damaged);
    if (rc == ST_OK)
        rc = cw_sync(w);
    if (rc == ST_OK && c.notes_written)
        rc = ssd_flush_all(t, 1); /* the DEL notes durable before src goes */
    pthread_mutex_lock(&t->seg_mu);
    if (rc == ST_OK) {
        ssd_seg_drop_locked(src);
        ssd_count(&t->st.segments_compacted, 1);
    } else if (src->state == SEG_COMPACTING) {
        __atomic_store_n(&src->state, SEG_SEALED, __ATOMIC_SEQ_CST);
    }
    pthread_mutex_unlock(&t->seg_mu);
    w->src = NULL;
    return rc;
}

/* ---- selection and the round -------------------------------------------- */

struct cand {
    struct seg *s;
    double share;
};

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return x->share < y->share ? -1 : x->share > y->share;
}

/* Picks up to max segments to compact, lowest live share first: sealed PUT
 * segments below the ratio; notes segments whose notes are mostly no
 * longer needed; and, when notes take more than 1/16 of the tier, at most
 * once a second, the PUT segment with dead records and the lowest first
 * seq (it keeps the most notes alive). Each returned with a reference,
 * state SEG_COMPACTING. Caller holds maint_mu. */
static size_t pick(struct ssd *t, struct seg **out, size_t max)
{
    struct cand *cands = calloc(SIDX_SLOTS, sizeof(*cands));
    size_t n = 0, k = 0;
    uint64_t notes_bytes = 0, t_kill;
    struct seg *pin = NULL;
    struct bounds b;

    if (!cands)
        return 0;
    need_bounds(t, &b);
    t_kill = b.kill;
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (!s || s->state != SEG_SEALED)
            continue;
        if (s->cls == SFMT_CLASS_NOTES) {
            notes_bytes += s->acct;
            if (s->max_kill_seq > s->min_seq && t_kill > s->min_seq && t_kill != UINT64_MAX) {
                double gone = (double)(t_kill - s->min_seq) / (double)(s->max_kill_seq - s->min_seq);
                if (gone >= 1.0 - t->ratio)
                    cands[n++] = (struct cand){s, 1.0 - gone};
            }
            continue;
        }
        uint64_t live = __atomic_load_n(&s->live, __ATOMIC_RELAXED);
        double share = s->total ? (double)live / (double)s->total : 1.0;
        if (s->total && share < t->ratio)
            cands[n++] = (struct cand){s, share};
        else if (s->total > live && (!pin || s->min_seq < pin->min_seq))
            pin = s;
    }
    /* speculative (it rewrites live records): at most once a second */
    if (pin && notes_bytes > t->size / 16 && ssd_mono_ns() - t->last_pin_ns >= 1000000000) {
        cands[n++] = (struct cand){pin, 1.0};
        t->last_pin_ns = ssd_mono_ns();
    }
    qsort(cands, n, sizeof(*cands), cmp_cand);
    for (size_t i = 0; i < n && k < max; i++) {
        struct seg *s = cands[i].s;
        if (s->state == SEG_SEALED && ssd_seg_get_locked(s)) {
            __atomic_store_n(&s->state, SEG_COMPACTING, __ATOMIC_SEQ_CST);
            out[k++] = s;
        }
    }
    pthread_mutex_unlock(&t->seg_mu);
    free(cands);
    return k;
}

/* Room an insert stream wants without making any on its own thread. */
static uint64_t room_target(const struct ssd *t)
{
    uint64_t usable = t->size - t->reserve, want = 2 * t->seg_size;
    return want > usable / 4 ? usable / 4 : want;
}

static int round_locked(struct ssd *t)
{
    struct seg *todo[MAX_COMPACT_PER_ROUND];
    struct cw w[SFMT_NCLASSES];
    int init[SFMT_NCLASSES] = {0};
    size_t n;
    int rc = ST_OK;

    ssd_flush_timed(t, 0);
    ssd_exp_run(t, ssd_now_ms(t), EXPIRE_PER_ROUND);
    drop_pass(t);
    ssd_reclaim(t);
    if (!__atomic_load_n(&t->iterating, __ATOMIC_ACQUIRE) && !ssd_is_failed(t)) {
        n = pick(t, todo, MAX_COMPACT_PER_ROUND);
        for (size_t i = 0; i < n; i++) {
            unsigned cls = todo[i]->cls;
            int e = ST_OK;
            if (!init[cls]) {
                e = cw_init(t, &w[cls], cls);
                init[cls] = e == ST_OK;
            }
            if (e == ST_OK && !w[cls].err) {
                e = compact_seg(t, todo[i], &w[cls]);
            } else {
                pthread_mutex_lock(&t->seg_mu);
                if (todo[i]->state == SEG_COMPACTING)
                    __atomic_store_n(&todo[i]->state, SEG_SEALED, __ATOMIC_SEQ_CST);
                pthread_mutex_unlock(&t->seg_mu);
            }
            if (e != ST_OK && rc == ST_OK)
                rc = e;
            ssd_seg_put(todo[i]);
        }
        for (unsigned c = 0; c < SFMT_NCLASSES; c++) {
            if (!init[c])
                continue;
            int e = cw_seal(&w[c]);
            if (e != ST_OK && rc == ST_OK && w[c].err != ST_EFULL)
                rc = e;
            cw_deinit(&w[c]);
        }
    }
    /* eviction: oldest first, while the inserts' room is short; a segment
     * a read still holds frees its bytes later, so stop there */
    for (;;) {
        uint64_t used = __atomic_load_n(&t->used, __ATOMIC_RELAXED), usable = t->size - t->reserve;
        if (used + room_target(t) <= usable)
            break;
        pthread_mutex_lock(&t->seg_mu);
        int ev = evict_oldest_locked(t);
        pthread_mutex_unlock(&t->seg_mu);
        if (ev && __atomic_load_n(&t->used, __ATOMIC_RELAXED) >= used)
            ssd_unlink_settle(t); /* its file waits for entries (invariant 11) */
        if (!ev || __atomic_load_n(&t->used, __ATOMIC_RELAXED) >= used)
            break;
    }
    drop_pass(t);
    ssd_unlink_settle(t); /* files waiting for entries (invariant 11) go now */
    ssd_reclaim(t);
    return rc;
}

int ssd_maintain(struct tier *tt)
{
    struct ssd *t = (struct ssd *)tt;
    int rc;

    pthread_mutex_lock(&t->maint_mu);
    rc = round_locked(t);
    pthread_mutex_unlock(&t->maint_mu);
    return rc;
}

/* ---- the maintenance thread -------------------------------------------- */

static void *maint_main(void *arg)
{
    struct ssd *t = arg;
    unsigned period = t->flush_ms / 2;

    if (period < 5)
        period = 5;
    if (period > 50)
        period = 50;
    pthread_mutex_lock(&t->m_mu);
    while (!t->m_stop) {
        if (!t->m_wake) {
            struct timespec until;
            util_deadline(&until, (long)period);
            pthread_cond_timedwait(&t->m_cond, &t->m_mu, &until);
        }
        if (t->m_stop)
            break;
        t->m_wake = 0;
        pthread_mutex_unlock(&t->m_mu);
        ssd_maintain(&t->base);
        pthread_mutex_lock(&t->m_mu);
    }
    pthread_mutex_unlock(&t->m_mu);
    return NULL;
}

int ssd_maint_start(struct ssd *t)
{
    if (!t->maint_thread)
        return ST_OK;
    if (pthread_create(&t->mthread, NULL, maint_main, t) != 0)
        return ST_ENOMEM;
    t->m_started = 1;
    return ST_OK;
}

void ssd_maint_stop(struct ssd *t)
{
    if (!t->m_started)
        return;
    pthread_mutex_lock(&t->m_mu);
    t->m_stop = 1;
    pthread_cond_broadcast(&t->m_cond);
    pthread_mutex_unlock(&t->m_mu);
    pthread_join(t->mthread, NULL);
    t->m_started = 0;
}

void ssd_maint_wake(struct ssd *t)
{
    pthread_mutex_lock(&t->m_mu);
    t->m_wake = 1;
    pthread_cond_signal(&t->m_cond);
    pthread_mutex_unlock(&t->m_mu);
}
