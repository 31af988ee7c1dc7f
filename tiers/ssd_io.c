/*
 * ssd_io.c -- the SSD tier's segments and their I/O: segment structs and
 * references, write buffers and appends, the I/O threads (buffer writes
 * and queued reads), reads of one entry, and the sequential scan of a
 * segment that attach and compaction share. The design, the lock order and
 * the invariants cited here are in tiers/ssd.c's essay.
 *
 * What it owns: the bytes between a caller's append and the device, and
 * each segment's file handle. Not the index (tiers/ssd_index.c), not which
 * segments live or die (tiers/ssd_compact.c), not the format
 * (tiers/ssd_fmt.c).
 *
 * Buffers. An open segment appends into its active buffer `act`, which
 * holds device bytes [base, base + len) with base 4096-aligned. A buffer
 * that is full, or partly filled and older than flush_ms, is submitted: its
 * length rounded up to 4096 (zero-filled) joins the segment's write queue,
 * and a new act starts at the last block boundary with a copy of the
 * partial tail block, so the next write rewrites that block whole:
 *
 *   device:  | hdr 4096 | e1 e2 e3 | e4 e5 .. |
 *   buffer A: [0 ............... F)00000       submitted: [0, roundup(F))
 *   buffer B:             [rounddown(F) .. F | e6 e7 ...   the next act
 *
 * An entry never straddles buffers at append time (a buffer too small for
 * it is submitted first; a huge entry gets a buffer of its own size), so a
 * buffer holding an entry's first byte holds all of it.
 *
 * Invariants (numbered as in tiers/ssd.c):
 *  7. Writes of one segment run one at a time, in submission order (one
 *     write job per segment, draining its queue): the rewrite of a tail
 *     block can never be overtaken by the older copy of that block.
 * 7a. A block ssd_flush_all synced (ssd_sync, destroy, compaction's
 *     notes, ssd_unlink_settle) is never rewritten: the buffers it submits
 *     are followed by acts that start at the next block boundary. A write
 *     cut by a power loss may leave garbage in the sectors it did not
 *     finish -- also in the bytes it only meant to repeat -- so rewriting a
 *     synced tail block could destroy entries ssd_sync had made durable
 *     (SQLite's crash model, test6.c; its WAL pads to a sector for the same
 *     reason; found by tests/crash/crash_ssd.c). Between two ssd_sync calls
 *     tail blocks are rewritten as before (nothing there was promised yet;
 *     invariant 11 counts the entries of a copied block as not durable
 *     until the copy's write is synced), which costs at most one block of
 *     padding per segment and ssd_sync -- except in notes segments, whose
 *     every buffer is synced (invariant 11 relies on them) and so followed
 *     by a fresh block.
 *  8. A buffer leaves the write queue only after its pwrite (and sync, if
 *     any) returned, under the segment's lock: a reader that does not find
 *     an entry in a buffer finds it on the device. After a write error the
 *     buffers stay (reads keep working from DRAM) and nothing more is
 *     written.
 *  9. A segment's refs count 1 for the slot table until it is dropped,
 *     plus 1 per reader or job. ssd_seg_get never revives 0 and backs off a
 *     dropping segment; the last put closes and unlinks the file. The
 *     struct itself stays until maintenance has walked the index (no entry
 *     names the slot) and synced the directory after the unlink. The unlink
 *     itself may wait for entries to be durable (invariant 11, tiers/ssd.c;
 *     ssd_pending_min below says which).
 *
 * Threads: appends on the inserting thread (under the key's stripe lock and
 * the class lock); writes and queued reads on the I/O threads; timed
 * flushes on maintenance. Durability: a buffer's entries are on the device
 * once its write returned, durable once a sync followed (with fsync, or
 * for notes and final buffers, in the same job) and their block is not
 * copied into the next buffer; ssd_flush_all(sync) makes everything
 * appended so far durable.
 */
#include "tiers/ssd_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"

#define ROUNDUP(x) (((x) + SFMT_BLOCK - 1) & ~(uint64_t)(SFMT_BLOCK - 1))
#define ROUNDDOWN(x) ((x) & ~(uint64_t)(SFMT_BLOCK - 1))

/* ---- references (invariant 9) ----------------------------------------- */

static void seg_release(struct seg *s, int have_seg_mu);

int ssd_seg_get(struct seg *s)
{
    uint64_t r = __atomic_load_n(&s->refs, __ATOMIC_SEQ_CST);

    do {
        if (r == 0)
            return 0;
    } while (!__atomic_compare_exchange_n(&s->refs, &r, r + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    if (__atomic_load_n(&s->state, __ATOMIC_SEQ_CST) == SEG_DROPPING) {
        ssd_seg_put(s);
        return 0;
    }
    return 1;
}

int ssd_seg_get_locked(struct seg *s)
{
    if (s->state == SEG_DROPPING)
        return 0;
    __atomic_fetch_add(&s->refs, 1, __ATOMIC_SEQ_CST); /* the table's reference is still there */
    return 1;
}

void ssd_seg_put(struct seg *s)
{
    if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_SEQ_CST) == 0)
        seg_release(s, 0);
}

/* Closes and unlinks the file of s, gives back its bytes. seg_mu held. */
static void seg_unlink_locked(struct seg *s)
{
    struct ssd *t = s->t;
    char *path = ssd_seg_path(t, s->seq);
    int rc = 0;

    if (s->fd >= 0) {
        vfs_close(t->vfs, s->fd);
        s->fd = -1;
    }
    if (path) {
        rc = t->vfs->ops->unlink(t->vfs, path);
        if (rc < 0 && rc != -ENOENT)
            ssd_log(t, SSD_LOG_WARNING, "ssd: cannot remove %s: %s", path, strerror(-rc));
        free(path);
    }
    __atomic_fetch_sub(&t->used, s->acct, __ATOMIC_RELAXED);
    s->acct = 0;
    s->released = 1;
    if (s->unlink_pending)
        __atomic_fetch_sub(&t->nwaiting, 1, __ATOMIC_SEQ_CST);
    s->unlink_pending = 0;
}

/* The last reference went (invariant 9): the file goes now, unless an
 * entry appended before the drop is not durable yet (invariant 11). */
static void seg_release(struct seg *s, int have_seg_mu)
{
    struct ssd *t = s->t;

    if (!have_seg_mu)
        pthread_mutex_lock(&t->seg_mu);
    if (!s->released) {
        if (!ssd_is_failed(t) && ssd_pending_min(t, 1) > s->drop_seq) {
            seg_unlink_locked(s);
        } else if (!s->unlink_pending) {
            s->unlink_pending = 1;
            __atomic_fetch_add(&t->nwaiting, 1, __ATOMIC_SEQ_CST);
        }
    }
    if (!have_seg_mu)
        pthread_mutex_unlock(&t->seg_mu);
    ssd_maint_wake(t);
}

/* Invariant 11: an entry is durable once its bytes are synced in a block
 * no write will touch again. Within a segment seqs grow with offsets, so
 * what is not durable yet is a suffix of it, and its lowest seq is the
 * lowest of: the active buffer (with the entries of the tail block it
 * copied, which its write rewrites), the queued buffers, and the buffers
 * written but not synced (unsynced_min, and syncing_min while an
 * ssd_flush_all sync of them is in flight). Sealed segments have none (the
 * last buffer is synced, its tail never rewritten); a compaction output
 * holds copies whose source stays until the output is synced, and a
 * dropping segment's entries are gone on purpose: neither counts. */
uint64_t ssd_pending_min(struct ssd *t, int have_seg_mu)
{
    uint64_t m = UINT64_MAX;

    if (!have_seg_mu)
        pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (!s || (s->state != SEG_OPEN && s->state != SEG_SEALED && s->state != SEG_COMPACTING))
            continue;
        pthread_mutex_lock(&s->lock);
        if (s->act && s->act->min_seq < m)
            m = s->act->min_seq;
        for (struct sbuf *b = s->wq; b; b = b->next)
            if (b->min_seq < m)
                m = b->min_seq;
        if (s->unsynced_min < m)
            m = s->unsynced_min;
        if (s->syncing_min < m)
            m = s->syncing_min;
        pthread_mutex_unlock(&s->lock);
    }
    if (!have_seg_mu)
        pthread_mutex_unlock(&t->seg_mu);
    return m;
}

int ssd_unlink_waits(struct ssd *t)
{
    return __atomic_load_n(&t->nwaiting, __ATOMIC_SEQ_CST) != 0;
}

void ssd_unlink_pending(struct ssd *t)
{
    if (!ssd_unlink_waits(t) || ssd_is_failed(t))
        return;
    pthread_mutex_lock(&t->seg_mu);
    uint64_t m = ssd_pending_min(t, 1);
    for (unsigned i = 0; i < SIDX_SLOTS && t->nwaiting; i++) {
        struct seg *s = t->segs[i];
        if (s && s->unlink_pending && m > s->drop_seq)
            seg_unlink_locked(s);
    }
    pthread_mutex_unlock(&t->seg_mu);
}

int ssd_unlink_settle(struct ssd *t)
{
    if (!ssd_unlink_waits(t))
        return ST_OK;
    /* the entries the files wait for may sit in any segment's buffers, or
     * be written but unsynced (fsync = 0): one flush and sync of them all,
     * once per drop, which is rare (a whole segment's worth of appends) */
    return ssd_flush_all(t, 1); /* ends with ssd_unlink_pending */
}

struct seg *ssd_seg_lookup(struct ssd *t, unsigned slot, uint64_t seqlo, unsigned bits)
{
    struct seg *s;
    uint64_t mask = bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;

    if (slot >= SIDX_SLOTS)
        return NULL;
    pthread_mutex_lock(&t->seg_mu);
    s = t->segs[slot];
    if (s && (s->seq & mask) == (seqlo & mask) && ssd_seg_get_locked(s)) {
        pthread_mutex_unlock(&t->seg_mu);
        return s;
    }
    pthread_mutex_unlock(&t->seg_mu);
    return NULL;
}

struct seg *ssd_seg_create_locked(struct ssd *t, unsigned cls, int st, uint64_t limit)
{
    unsigned slot;
    struct seg *s;

    for (slot = 0; slot < SIDX_SLOTS && t->segs[slot]; slot++)
        ;
    if (slot == SIDX_SLOTS)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->t = t;
    s->slot = slot;
    s->seq = t->next_seg_seq++;
    s->cls = cls;
    s->limit = limit;
    s->created_ms = ssd_now_ms(t);
    s->state = st;
    s->refs = 1;
    s->fd = -1;
    s->min_seq = UINT64_MAX;
    s->tail_seq = s->unsynced_min = s->syncing_min = UINT64_MAX;
    s->max_expire = INT64_MIN;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    __atomic_store_n(&t->segs[slot], s, __ATOMIC_RELEASE);
    return s;
}

static void buf_destroy(struct ssd *t, struct sbuf *b);

void ssd_seg_destroy(struct seg *s)
{
    struct ssd *t = s->t;

    if (s->fd >= 0)
        vfs_close(t->vfs, s->fd);
    if (s->act)
        buf_destroy(t, s->act);
    while (s->wq) {
        struct sbuf *b = s->wq;
        s->wq = b->next;
        buf_destroy(t, b);
    }
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void ssd_seg_drop_locked(struct seg *s)
{
    if (s->state == SEG_DROPPING)
        return;
    s->drop_seq = __atomic_load_n(&s->t->seq, __ATOMIC_SEQ_CST);
    __atomic_store_n(&s->state, SEG_DROPPING, __ATOMIC_SEQ_CST);
    if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_SEQ_CST) == 0)
        seg_release(s, 1);
}

int ssd_seg_open_file(struct ssd *t, struct seg *s, int create)
{
    char *path = ssd_seg_path(t, s->seq);
    int direct = 0, fd;

    if (!path)
        return -ENOMEM;
    fd = vfs_open(t->vfs, path, create ? O_RDWR | O_CREAT | O_EXCL : O_RDONLY, t->want_direct ? VFS_O_DIRECT : 0,
                  0644, &direct);
    if (fd < 0) {
        ssd_log(t, SSD_LOG_WARNING, "ssd: cannot %s %s: %s", create ? "create" : "open", path, strerror(-fd));
        free(path);
        return fd;
    }
    free(path);
    if (t->want_direct && !direct && !__atomic_exchange_n(&t->direct_logged, 1, __ATOMIC_RELAXED))
        ssd_log(t, SSD_LOG_NOTICE, "ssd: O_DIRECT is not available in %s: using buffered I/O", t->dir);
    __atomic_store_n(&t->direct, direct, __ATOMIC_RELAXED);
    s->fd = fd;
    if (create) {
        int rc = t->vfs->ops->sync_dir(t->vfs, t->dir); /* the new name durable */
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- buffers ------------------------------------------------------------ */

static struct sbuf *buf_create(struct ssd *t, size_t cap)
{
    struct sbuf *b = calloc(1, sizeof(*b));
    void *p = NULL;

    if (!b)
        return NULL;
    if (posix_memalign(&p, SFMT_BLOCK, cap) != 0) {
        free(b);
        return NULL;
    }
    b->data = p;
    b->cap = cap;
    b->min_seq = UINT64_MAX;
    ssd_count(&t->st.buffer_bytes, cap);
    return b;
}

static void buf_destroy(struct ssd *t, struct sbuf *b)
{
    __atomic_fetch_sub(&t->st.buffer_bytes, b->cap, __ATOMIC_RELAXED);
    free(b->data);
    free(b);
}

static int queue_job(struct ssd *t, struct job *j)
{
    pthread_mutex_lock(&t->q_mu);
    j->next = NULL;
    if (t->q_tail)
        t->q_tail->next = j;
    else
        t->q_head = j;
    t->q_tail = j;
    pthread_cond_signal(&t->q_cond);
    pthread_mutex_unlock(&t->q_mu);
    return ST_OK;
}

/* Schedules the write job of s if none runs (s->lock held). */
static void kick_locked(struct ssd *t, struct seg *s)
{
    struct job *j;

    if (s->writing || s->wfailed || !s->wq || ssd_is_failed(t))
        return;
    j = calloc(1, sizeof(*j));
    if (!j) {
        ssd_log(t, SSD_LOG_WARNING, "ssd: cannot schedule a write of segment %016llx (out of memory); retried "
                "with its next buffer", (unsigned long long)s->seq);
        return;
    }
    /* an open (or sealing) segment is never dropping: the table's reference
     * is there, a plain increment is a valid get (invariant 9) */
    __atomic_fetch_add(&s->refs, 1, __ATOMIC_SEQ_CST);
    j->seg = s;
    s->writing = 1;
    queue_job(t, j);
}

/* Moves s->act to the write queue and schedules its write (invariant 7);
 * unless final, a new act continues at the last block boundary with the
 * partial tail block copied (room for next more bytes) -- or, with fresh,
 * at the next block boundary, the appends skipping the rest of the tail
 * block (invariant 7a). s->lock held. ST_OK or ST_ENOMEM (nothing
 * changed). */
static int submit_locked(struct ssd *t, struct seg *s, int final, size_t next, int fresh)
{
    struct sbuf *b = s->act, *nb = NULL;
    size_t tail;

    if (!b)
        return ST_OK;
    tail = b->len % SFMT_BLOCK;
    if (s->cls == SFMT_CLASS_NOTES)
        fresh = 1; /* every notes buffer is synced (write_seg): 7a for each */
    if (!final && fresh && tail) {
        nb = buf_create(t, next > t->wbuf ? (size_t)ROUNDUP(next) : t->wbuf);
        if (!nb)
            return ST_ENOMEM;
        nb->base = b->base + ROUNDUP(b->len);
        s->fill = nb->base; /* the zeros between are padding to a scan */
        s->tail_seq = UINT64_MAX;
    } else if (!final) {
        size_t cap = t->wbuf;
        if (tail + next > cap)
            cap = (size_t)ROUNDUP(tail + next);
        nb = buf_create(t, cap);
        if (!nb)
            return ST_ENOMEM;
        nb->base = b->base + (b->len - tail);
        nb->len = tail;
        memcpy(nb->data, b->data + (b->len - tail), tail);
        if (tail)
            nb->min_seq = s->tail_seq; /* its write rewrites that block (invariant 11) */
    }
    b->wlen = (size_t)ROUNDUP(b->len);
    memset(b->data + b->len, 0, b->wlen - b->len);
    b->final = final;
    b->next = NULL;
    if (s->wq_tail)
        s->wq_tail->next = b;
    else
        s->wq = b;
    s->wq_tail = b;
    s->nwq++;
    s->act = nb;
    s->dirty_ns = 0;
    kick_locked(t, s);
    return ST_OK;
}

/* ---- appends ------------------------------------------------------------ */

unsigned ssd_class_of(struct ssd *t, int64_t expire_ms)
{
    int64_t rem;

    if (expire_ms < 0)
        return SFMT_CLASS_NONE;
    rem = expire_ms - ssd_now_ms(t);
    if (rem < 60 * 1000)
        return SFMT_CLASS_1M;
    if (rem < 10 * 60 * 1000)
        return SFMT_CLASS_10M;
    if (rem < 60 * 60 * 1000)
        return SFMT_CLASS_1H;
    if (rem < 24 * 60 * 60 * 1000)
        return SFMT_CLASS_1D;
    return SFMT_CLASS_LONG;
}

/* Takes delta bytes of the budget limit: 1, or 0 if they do not fit. */
static int reserve(struct ssd *t, uint64_t delta, uint64_t limit)
{
    uint64_t u = __atomic_load_n(&t->used, __ATOMIC_RELAXED);

    do {
        if (u + delta > limit)
            return 0;
    } while (!__atomic_compare_exchange_n(&t->used, &u, u + delta, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return 1;
}

/* Opens a new segment for class c (c->mu held): its first buffer holds
 * the header block. ST_OK, ST_EFULL (no slot or no room), ST_ENOMEM. */
static int open_class_seg(struct ssd *t, struct ssd_cls *c, unsigned cls, size_t elen, uint64_t limit)
{
    struct seg *s;
    struct sbuf *b;
    size_t cap = t->wbuf;
    struct sfmt_seg_hdr h;

    if (SFMT_HDR_SIZE + elen > cap)
        cap = (size_t)ROUNDUP(SFMT_HDR_SIZE + elen);
    if (!reserve(t, SFMT_HDR_SIZE, limit))
        return ST_EFULL;
    b = buf_create(t, cap);
    if (!b) {
        __atomic_fetch_sub(&t->used, SFMT_HDR_SIZE, __ATOMIC_RELAXED);
        return ST_ENOMEM;
    }
    pthread_mutex_lock(&t->seg_mu);
    s = ssd_seg_create_locked(t, cls, SEG_OPEN, t->seg_size);
    pthread_mutex_unlock(&t->seg_mu);
    if (!s) {
        buf_destroy(t, b);
        __atomic_fetch_sub(&t->used, SFMT_HDR_SIZE, __ATOMIC_RELAXED);
        ssd_log(t, SSD_LOG_WARNING, "ssd: no free segment slot (%u in use)", SIDX_SLOTS);
        return ST_EFULL;
    }
    h = (struct sfmt_seg_hdr){.seq = s->seq, .created_ms = s->created_ms, .segment_size = s->limit, .cls = cls};
    sfmt_seg_hdr_encode(&h, b->data);
    b->base = 0;
    b->len = SFMT_HDR_SIZE;
    s->act = b;
    s->fill = SFMT_HDR_SIZE;
    s->acct = SFMT_HDR_SIZE;
    s->ent_bytes = 0;
    c->seg = s;
    return ST_OK;
}

void ssd_seal_open_locked(struct ssd *t, struct ssd_cls *c)
{
    struct seg *s = c->seg;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    submit_locked(t, s, 1, 0, 0); /* final: cannot fail (no new buffer) */
    pthread_mutex_unlock(&s->lock);
    c->seg = NULL;
}

int ssd_append(struct ssd *t, unsigned cls, uint8_t kind, uint16_t db, const void *payload, size_t plen,
               const struct tier_rec *rec, struct seg **segp, uint64_t *offp, uint64_t *seqp)
{
    struct ssd_cls *c = &t->cls[cls];
    size_t elen = sfmt_ent_size(plen);
    int note = kind != SFMT_PUT;
    uint64_t limit = note ? t->size : t->size - t->reserve;
    struct seg *s;
    int rc = ST_OK;

    if (ssd_is_failed(t))
        return ST_EIO;
    if (elen > t->seg_size - SFMT_HDR_SIZE)
        return ST_EFULL;
    pthread_mutex_lock(&c->mu);
    for (int tries = 0;; tries++) {
        uint64_t delta;

        s = c->seg;
        if (s && s->fill + elen > s->limit) {
            ssd_seal_open_locked(t, c);
            s = NULL;
        }
        if (!s) {
            rc = open_class_seg(t, c, cls, elen, limit);
            if (rc == ST_EFULL && tries < 64 && ssd_make_room(t))
                continue;
            if (rc != ST_OK)
                goto out;
            s = c->seg;
        }
        pthread_mutex_lock(&s->lock);
        if (!s->act || s->act->len + elen > s->act->cap) {
            /* before the room is counted: a notes buffer's successor starts
             * at the next block (7a), which moves fill */
            rc = submit_locked(t, s, 0, elen, 0);
            if (rc != ST_OK) {
                pthread_mutex_unlock(&s->lock);
                goto out;
            }
            if (s->fill + elen > s->limit) {
                pthread_mutex_unlock(&s->lock);
                continue; /* sealed at the top */
            }
        }
        delta = ROUNDUP(s->fill + elen) - s->acct;
        if (reserve(t, delta, limit))
            break;
        pthread_mutex_unlock(&s->lock);
        if (tries >= 64 || !ssd_make_room(t)) {
            rc = ST_EFULL;
            goto out;
        }
    }
    /* s->lock held, delta reserved */
    s->acct = ROUNDUP(s->fill + elen);
    {
        struct sbuf *b = s->act;
        uint64_t off = s->fill, seq = __atomic_add_fetch(&t->seq, 1, __ATOMIC_RELAXED);

        sfmt_ent_encode(b->data + (off - b->base), kind, db, seq, (uint32_t)s->seq, payload, plen);
        b->len += elen;
        if (seq < b->min_seq)
            b->min_seq = seq;
        /* the first entry in the partial block at fill: what a copy of that
         * block puts at risk again (invariant 11) */
        if ((off + elen) % SFMT_BLOCK == 0)
            s->tail_seq = UINT64_MAX;
        else if (off % SFMT_BLOCK == 0 || ROUNDDOWN(off) != ROUNDDOWN(off + elen))
            s->tail_seq = seq;
        s->fill += elen;
        s->ent_bytes += elen;
        if (seq < s->min_seq)
            s->min_seq = seq;
        if (seq > s->max_seq)
            s->max_seq = seq;
        if (kind == SFMT_PUT) {
            s->total++;
            s->raw_sum += rec->rawlen;
            s->stored_sum += rec->vlen;
            if (rec->expire_ms < 0)
                s->has_noexpire = 1;
            else if (rec->expire_ms > s->max_expire)
                s->max_expire = rec->expire_ms;
        } else {
            s->notes++;
            if (kind == SFMT_SWAPDB) {
                if (seq > s->max_swap_seq)
                    s->max_swap_seq = seq;
            } else if (seq > s->max_kill_seq) {
                s->max_kill_seq = seq;
            }
            ssd_count(&t->st.notes_written, 1);
        }
        if (!s->dirty_ns)
            s->dirty_ns = ssd_mono_ns();
        if (b->len == b->cap)
            (void)submit_locked(t, s, 0, 0, 0); /* ENOMEM: the next append submits */
        *segp = s;
        *offp = off;
        *seqp = seq;
    }
    pthread_mutex_unlock(&s->lock);
out:
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void ssd_append_wait(struct ssd *t, unsigned cls)
{
    struct ssd_cls *c = &t->cls[cls];
    struct seg *s;

    pthread_mutex_lock(&c->mu);
    s = c->seg;
    if (s && !ssd_seg_get(s))
        s = NULL;
    pthread_mutex_unlock(&c->mu);
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    while (s->nwq >= SSD_MAX_QUEUED && !s->wfailed && !ssd_is_failed(t))
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    ssd_seg_put(s);
}

void ssd_flush_timed(struct ssd *t, int force)
{
    int64_t now = ssd_mono_ns(), age = (int64_t)t->flush_ms * 1000000;

    for (unsigned i = 0; i < SFMT_NCLASSES; i++) {
        struct ssd_cls *c = &t->cls[i];
        pthread_mutex_lock(&c->mu);
        struct seg *s = c->seg;
        if (s) {
            pthread_mutex_lock(&s->lock);
            /* with force, also an act holding only the copy of a tail block
             * written before: synced now, the appends must not rewrite it (7a) */
            if (s->act && ((s->dirty_ns && (force || now - s->dirty_ns >= age)) ||
                           (force && s->act->len % SFMT_BLOCK)))
                (void)submit_locked(t, s, 0, 0, force); /* ENOMEM: next round */
            pthread_mutex_unlock(&s->lock);
        }
        pthread_mutex_unlock(&c->mu);
    }
}

int ssd_flush_all(struct ssd *t, int sync)
{
    struct seg **list = malloc(SIDX_SLOTS * sizeof(*list));
    size_t n = 0;
    int rc = ST_OK;

    if (!list)
        return ST_ENOMEM;
    ssd_flush_timed(t, 1);
    pthread_mutex_lock(&t->seg_mu);
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (s && ssd_seg_get_locked(s))
            list[n++] = s;
    }
    pthread_mutex_unlock(&t->seg_mu);
    for (size_t i = 0; i < n; i++) {
        struct seg *s = list[i];
        int fd;
        uint64_t end, writes;

        pthread_mutex_lock(&s->lock);
        while (s->wq && !s->wfailed && !ssd_is_failed(t))
            pthread_cond_wait(&s->cond, &s->lock);
        fd = s->fd;
        end = s->dev_end;
        writes = s->writes;
        /* a buffer that only rewrote the tail block (appends that fitted in
         * the block already on the device) moved no end: count writes too */
        int need = sync && fd >= 0 && (end != s->synced_end || writes != s->synced_writes) && !s->wfailed;
        if (need) {
            /* what this sync covers; a buffer written meanwhile starts a new
             * unsynced_min (invariant 11) */
            if (s->unsynced_min < s->syncing_min)
                s->syncing_min = s->unsynced_min;
            s->unsynced_min = UINT64_MAX;
            s->syncing++;
        }
        pthread_mutex_unlock(&s->lock);
        if (need) {
            int e = ssd_is_failed(t) ? -EIO : vfs_sync(t->vfs, fd);
            if (e < 0 && !ssd_is_failed(t))
                ssd_fail(t, "segment sync", e);
            pthread_mutex_lock(&s->lock);
            if (e == 0) {
                if (s->synced_end < end)
                    s->synced_end = end;
                if (s->synced_writes < writes)
                    s->synced_writes = writes;
            }
            /* the last sync in flight covers what every earlier one took
             * (it began after they took it); after a failure nothing is
             * unlinked any more, so the value no longer matters */
            if (--s->syncing == 0 && e == 0)
                s->syncing_min = UINT64_MAX;
            pthread_mutex_unlock(&s->lock);
        }
        ssd_seg_put(s);
    }
    free(list);
    ssd_unlink_pending(t);
    if (ssd_is_failed(t))
        rc = ST_EIO;
    return rc;
}

/* ---- the I/O threads ---------------------------------------------------- */

/* Drains s's write queue (invariants 7, 8). */
static void write_seg(struct ssd *t, struct seg *s)
{
    for (;;) {
        struct sbuf *b;
        int rc = 0, synced = 0, final;

        pthread_mutex_lock(&s->lock);
        b = s->wq;
        if (!b || s->wfailed || ssd_is_failed(t)) {
            s->writing = 0;
            pthread_cond_broadcast(&s->cond);
            pthread_mutex_unlock(&s->lock);
            return;
        }
        pthread_mutex_unlock(&s->lock);
        if (s->fd < 0)
            rc = ssd_seg_open_file(t, s, 1); /* only this job touches fd while it is -1 */
        if (rc == 0)
            rc = vfs_pwrite_all(t->vfs, s->fd, b->data, b->wlen, b->base);
        if (rc == 0)
            ssd_count(&t->st.device_bytes_written, b->wlen);
        /* notes are synced whatever fsync says (each buffer then starts a
         * fresh block, 7a): a dropped segment's file waits for the notes
         * before the drop to be durable (invariant 11) */
        if (rc == 0 && (t->fsync || b->final || s->cls == SFMT_CLASS_NOTES)) {
            rc = vfs_sync(t->vfs, s->fd);
            synced = rc == 0;
        }
        if (rc != 0) {
            ssd_fail(t, b->final ? "segment write or seal" : "segment write", rc);
            pthread_mutex_lock(&s->lock);
            s->wfailed = 1;
            s->writing = 0;
            pthread_cond_broadcast(&s->cond);
            pthread_mutex_unlock(&s->lock);
            return;
        }
        pthread_mutex_lock(&s->lock);
        s->wq = b->next;
        if (!s->wq)
            s->wq_tail = NULL;
        s->nwq--;
        if (b->base + b->wlen > s->dev_end)
            s->dev_end = b->base + b->wlen;
        s->writes++;
        if (synced) {
            s->synced_end = s->dev_end;
            s->synced_writes = s->writes;
            s->unsynced_min = UINT64_MAX; /* the sync covered every earlier write */
        } else if (b->min_seq < s->unsynced_min) {
            s->unsynced_min = b->min_seq; /* written, not durable (invariant 11) */
        }
        final = b->final;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        buf_destroy(t, b);
        if (final) {
            pthread_mutex_lock(&t->seg_mu);
            if (s->state == SEG_OPEN)
                __atomic_store_n(&s->state, SEG_SEALED, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&t->seg_mu);
        }
        if (synced)
            ssd_unlink_pending(t); /* entries durable: files waiting for them may go */
    }
}

static void *io_main(void *arg)
{
    struct ssd *t = arg;

    pthread_mutex_lock(&t->q_mu);
    for (;;) {
        struct job *j;
        while (!t->q_head && !t->q_stop)
            pthread_cond_wait(&t->q_cond, &t->q_mu);
        j = t->q_head;
        if (!j)
            break; /* stopping, nothing left */
        t->q_head = j->next;
        if (!t->q_head)
            t->q_tail = NULL;
        pthread_mutex_unlock(&t->q_mu);
        if (j->seg) {
            write_seg(t, j->seg);
            ssd_seg_put(j->seg);
            free(j);
            pthread_mutex_lock(&t->q_mu);
        } else {
            ssd_rd_run(t, j->rd);
            free(j);
            pthread_mutex_lock(&t->q_mu);
            if (--t->reads_inflight == 0)
                pthread_cond_broadcast(&t->q_idle);
        }
    }
    pthread_mutex_unlock(&t->q_mu);
    return NULL;
}

int ssd_io_start(struct ssd *t)
{
    for (unsigned i = 0; i < t->nio; i++) {
        if (pthread_create(&t->io[i], NULL, io_main, t) != 0)
            return ST_ENOMEM;
        t->nio_started++;
    }
    return ST_OK;
}

void ssd_io_drain_reads(struct ssd *t)
{
    pthread_mutex_lock(&t->q_mu);
    while (t->reads_inflight)
        pthread_cond_wait(&t->q_idle, &t->q_mu);
    pthread_mutex_unlock(&t->q_mu);
}

void ssd_io_stop(struct ssd *t)
{
    ssd_io_drain_reads(t);
    pthread_mutex_lock(&t->q_mu);
    t->q_stop = 1;
    pthread_cond_broadcast(&t->q_cond);
    pthread_mutex_unlock(&t->q_mu);
    for (unsigned i = 0; i < t->nio_started; i++)
        pthread_join(t->io[i], NULL);
    t->nio_started = 0;
}

int ssd_io_queue_read(struct ssd *t, struct rd *rd)
{
    struct job *j = calloc(1, sizeof(*j));

    if (!j)
        return ST_ENOMEM;
    j->rd = rd;
    pthread_mutex_lock(&t->q_mu);
    if (t->q_stop || !t->nio_started) {
        pthread_mutex_unlock(&t->q_mu);
        free(j);
        return ST_ENOMEM;
    }
    t->reads_inflight++;
    pthread_mutex_unlock(&t->q_mu);
    queue_job(t, j);
    return ST_EPENDING;
}

/* ---- reads -------------------------------------------------------------- */

/* Checks the entry framing at p (avail bytes) as a PUT of s and copies the
 * record out. ST_OK, ST_ECORRUPT, ST_EAGAIN (*need), ST_ENOMEM. */
static int take_put(struct seg *s, const unsigned char *p, size_t avail, uint64_t off, void **rec, size_t *len,
                    size_t *need, uint64_t *seq)
{
    struct sfmt_ent e;
    int rc = sfmt_ent_decode(p, avail, s->limit - off, &e, need);

    if (rc != ST_OK)
        return rc;
    if (e.seg_seq_lo != (uint32_t)s->seq || sfmt_put_check(&e, NULL) != ST_OK)
        return ST_ECORRUPT;
    *rec = malloc(e.plen);
    if (!*rec)
        return ST_ENOMEM;
    memcpy(*rec, e.payload, e.plen);
    *len = e.plen;
    if (seq)
        *seq = e.seq;
    return ST_OK;
}

static int read_entry(struct ssd *t, struct seg *s, uint64_t off, unsigned sz, void **rec, size_t *len,
                      int buffer_only, uint64_t *seq)
{
    struct sbuf *found = NULL;
    unsigned char *buf = NULL;
    uint64_t a, n;
    ssize_t got;
    size_t need = 0;
    int rc, fd;

    if (off < SFMT_HDR_SIZE || off >= s->limit)
        return ST_ECORRUPT;
    pthread_mutex_lock(&s->lock);
    if (s->act && s->act->base <= off && off < s->act->base + s->act->len)
        found = s->act;
    for (struct sbuf *b = s->wq; b && !found; b = b->next)
        if (b->base <= off && off < b->base + b->len)
            found = b;
    if (found) {
        rc = take_put(s, found->data + (off - found->base), (size_t)(found->base + found->len - off), off, rec, len,
                      &need, seq);
        pthread_mutex_unlock(&s->lock);
        if (rc == ST_EAGAIN)
            rc = ST_ECORRUPT; /* an entry never straddles buffers */
        if (rc == ST_OK)
            ssd_count(&t->st.buffer_hits, 1);
        return rc;
    }
    fd = s->fd;
    pthread_mutex_unlock(&s->lock);
    if (buffer_only)
        return ST_EAGAIN;
    if (fd < 0)
        return ST_ECORRUPT; /* nothing of it was ever written: not an entry */
    a = ROUNDDOWN(off);
    n = (uint64_t)SFMT_BLOCK << sz;
    for (int pass = 0; pass < 2; pass++) {
        void *p = NULL;
        if (a + n > s->limit)
            n = s->limit - a;
        if (posix_memalign(&p, SFMT_BLOCK, (size_t)n) != 0)
            return ST_ENOMEM;
        free(buf);
        buf = p;
        got = vfs_pread_full(t->vfs, fd, buf, (size_t)n, a);
        ssd_count(&t->st.device_reads, 1);
        if (got < 0) {
            ssd_log(t, SSD_LOG_WARNING, "ssd: read of segment %016llx at %llu failed: %s", (unsigned long long)s->seq,
                    (unsigned long long)off, strerror((int)-got));
            free(buf);
            return ST_EIO;
        }
        ssd_count(&t->st.read_bytes, (uint64_t)got);
        if ((uint64_t)got <= off - a) {
            rc = ST_ECORRUPT; /* past the end of the file */
            break;
        }
        rc = take_put(s, buf + (off - a), (size_t)((uint64_t)got - (off - a)), off, rec, len, &need, seq);
        if (rc != ST_EAGAIN)
            break;
        /* the size class said less than the framing: read the rest */
        if ((uint64_t)got < n || pass == 1) {
            rc = ST_ECORRUPT; /* truncated */
            break;
        }
        n = ROUNDUP(off - a + need);
    }
    free(buf);
    return rc;
}

int ssd_read_put(struct ssd *t, struct seg *s, uint64_t off, unsigned sz, void **rec, size_t *len, uint64_t *seq)
{
    return read_entry(t, s, off, sz, rec, len, 0, seq);
}

int ssd_read_buffered(struct ssd *t, struct seg *s, uint64_t off, void **rec, size_t *len, uint64_t *seq)
{
    return read_entry(t, s, off, 0, rec, len, 1, seq);
}

/* ---- the sequential scan ------------------------------------------------ */

struct win {
    unsigned char *buf;
    size_t cap;
    uint64_t base, len; /* device bytes [base, base + len) are in buf */
};

/* Loads at least want bytes from pos (as far as end allows). */
static int win_load(struct ssd *t, struct seg *s, struct win *w, uint64_t pos, uint64_t want, uint64_t end)
{
    uint64_t base = ROUNDDOWN(pos), n = ROUNDUP(pos - base + want);
    ssize_t got;

    if (n < SSD_SCAN_WINDOW)
        n = SSD_SCAN_WINDOW;
    if (base + n > ROUNDUP(end))
        n = ROUNDUP(end) - base;
    if (n > w->cap) {
        void *p = NULL;
        if (posix_memalign(&p, SFMT_BLOCK, (size_t)n) != 0)
            return ST_ENOMEM;
        free(w->buf);
        w->buf = p;
        w->cap = (size_t)n;
    }
    got = vfs_pread_full(t->vfs, s->fd, w->buf, (size_t)n, base);
    if (got < 0) {
        ssd_log(t, SSD_LOG_WARNING, "ssd: read of segment %016llx at %llu failed: %s", (unsigned long long)s->seq,
                (unsigned long long)base, strerror((int)-got));
        return ST_EIO;
    }
    ssd_count(&t->st.read_bytes, (uint64_t)got);
    w->base = base;
    w->len = (uint64_t)got;
    if (w->base + w->len > end)
        w->len = end > w->base ? end - w->base : 0;
    return ST_OK;
}

int ssd_seg_scan(struct ssd *t, struct seg *s, uint64_t end, ssd_scan_fn *fn, void *ud, uint64_t *damaged)
{
    struct win w = {0};
    uint64_t pos = SFMT_HDR_SIZE;
    int in_damage = 0, rc = ST_OK;

    if (end > s->limit)
        end = s->limit;
    while (pos + 4 <= end) {
        uint64_t wend = w.base + w.len;
        struct sfmt_ent e;
        size_t need = 0;
        int drc;

        if (pos < w.base || pos + SFMT_ENT_HDR > wend) {
            if (pos < w.base || wend < end) {
                rc = win_load(t, s, &w, pos, SFMT_ENT_HDR, end);
                if (rc != ST_OK)
                    break;
                wend = w.base + w.len;
            }
        }
        const unsigned char *p = w.buf + (pos - w.base);
        uint64_t avail = wend > pos ? wend - pos : 0;
        if (avail >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0) {
            pos += SFMT_ALIGN; /* padding */
            continue;
        }
        drc = sfmt_ent_decode(p, (size_t)avail, s->limit - pos, &e, &need);
        if (drc == ST_EAGAIN && pos + need <= end && need > avail) {
            rc = win_load(t, s, &w, pos, need, end);
            if (rc != ST_OK)
                break;
            p = w.buf + (pos - w.base);
            avail = w.base + w.len - pos;
            drc = sfmt_ent_decode(p, (size_t)avail, s->limit - pos, &e, &need);
        }
        if (drc == ST_OK && e.seg_seq_lo != (uint32_t)s->seq)
            drc = ST_ECORRUPT;
        if (drc == ST_OK) {
            in_damage = 0;
            rc = fn(ud, s, pos, &e);
            if (rc)
                break;
            pos += sfmt_ent_size(e.plen);
            continue;
        }
        if (!in_damage) {
            in_damage = 1;
            (*damaged)++;
            ssd_log(t, SSD_LOG_WARNING, "ssd: segment %016llx: damaged %s at offset %llu skipped",
                    (unsigned long long)s->seq, drc == ST_EAGAIN ? "(truncated) entry" : "entry",
                    (unsigned long long)pos);
        }
        pos += SFMT_ALIGN;
    }
    free(w.buf);
    return rc;
}
