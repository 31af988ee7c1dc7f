/*
 * ssd_int.h -- what the SSD tier's files share (tiers/ssd.c: the tier ops
 * and the design essay; ssd_io.c: segments, buffers, I/O threads, reads;
 * ssd_compact.c: maintenance; ssd_attach.c: re-attaching segments).
 * Nothing here is for anyone else. Locks are named beside every shared
 * field; tiers/ssd.c's essay has the order and the invariants cited as
 * "invariant N".
 */
#ifndef STRATA_TIERS_SSD_INT_H
#define STRATA_TIERS_SSD_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/tier.h"
#include "engine/vfs.h"
#include "tiers/ssd.h"
#include "tiers/ssd_fmt.h"
#include "tiers/ssd_index.h"

#define SSD_MAX_IO_THREADS 64
#define SSD_MAX_QUEUED 2      /* submitted buffers per segment before inserts wait */
#define SSD_SCAN_WINDOW (1u << 20)
#define SSD_MAX_CANDS 16      /* same-fingerprint entries a fetch considers */

/* A write buffer: bytes [base, base + len) of its segment. */
struct sbuf {
    unsigned char *data; /* 4096-aligned, cap bytes */
    size_t cap;
    uint64_t base;       /* device offset of data[0], 4096-aligned */
    size_t len;          /* bytes in use from base */
    size_t wlen;         /* bytes written: len rounded up to 4096 (set at submit) */
    int final;           /* the segment's last buffer: sync, then sealed */
    uint64_t min_seq;    /* lowest seq appended into it, or of an entry in the tail block
                          * it copied (its write rewrites that block), or UINT64_MAX */
    struct sbuf *next;   /* the write queue */
};

enum seg_state {
    SEG_FREE = 0,   /* slot unused */
    SEG_OPEN,       /* an expiry class's open segment: appends, buffers */
    SEG_OUTPUT,     /* a compaction output being written by maintenance */
    SEG_SEALED,     /* no more appends; on the device */
    SEG_COMPACTING, /* sealed, being read by compaction */
    SEG_DROPPING,   /* gone for lookups; file and index entries going */
};

struct ssd;

struct seg {
    /* immutable once published in the slot table */
    struct ssd *t;
    unsigned slot;
    uint64_t seq;
    unsigned cls;
    uint64_t limit;      /* its segment_size */
    int64_t created_ms;
    int attached;

    int state;           /* changed under t->seg_mu; read with atomic loads */
    uint64_t refs;       /* atomic: 1 for the table while not dropping, + readers (invariant 9) */
    int released;        /* t->seg_mu: file closed and unlinked */
    int unlink_pending;  /* t->seg_mu: no reference left, the unlink waits for entries (invariant 11) */
    uint64_t drop_seq;   /* t->seg_mu: t->seq when it was dropped */
    int walked;          /* t->seg_mu: the index holds no entry of the slot */
    int unlink_synced;   /* t->seg_mu: a directory sync followed the unlink */

    int fd;              /* -1 until created (by the one writer); then fixed until release */
    pthread_mutex_t lock;
    pthread_cond_t cond; /* lock: write queue progress */
    struct sbuf *act;    /* lock: the buffer appends go to (OPEN) */
    struct sbuf *wq;     /* lock: submitted buffers, oldest first; the head is being written */
    struct sbuf *wq_tail;
    unsigned nwq;        /* lock */
    int writing;         /* lock: a write job for this segment is queued or running */
    int wfailed;         /* lock: its write failed (buffers kept for reads) */
    uint64_t fill;       /* lock: the next append offset */
    uint64_t dev_end;    /* lock: device bytes written (a multiple of 4096) */
    int64_t dirty_ns;    /* lock: monotonic ns since act has unwritten bytes, 0 = none */
    uint64_t synced_end; /* lock: dev_end at the last sync */
    uint64_t writes;     /* lock: buffer writes done (write_seg) */
    uint64_t synced_writes; /* lock: writes at the last sync: a rewrite of the tail
                          * block leaves dev_end as it was, so dev_end alone
                          * cannot tell that bytes were written since */
    uint64_t tail_seq;   /* lock: seq of the first entry with bytes in the partial block
                          * at fill, UINT64_MAX when fill is block-aligned */
    uint64_t unsynced_min; /* lock: lowest min_seq of a buffer written but not synced since */
    uint64_t syncing_min;  /* lock: unsynced_min taken by ssd_flush_all syncs in flight */
    unsigned syncing;      /* lock: those syncs */

    /* summaries (lock while appended to; fixed once sealed, but live) */
    uint64_t total;      /* PUT entries */
    uint64_t live;       /* atomic: index entries naming the slot */
    uint64_t ent_bytes;  /* bytes of all entries */
    uint64_t raw_sum, stored_sum; /* PUT records' rawlen and vlen */
    uint64_t notes;      /* note entries */
    uint64_t min_seq, max_seq;
    uint64_t max_kill_seq; /* highest DEL/FLUSHDB note seq */
    uint64_t max_swap_seq; /* highest SWAPDB note seq */
    int64_t max_expire;  /* highest record expiry */
    int has_noexpire;    /* holds a record without expiry */
    uint64_t acct;       /* bytes counted in t->used: fill rounded up to 4096 */
};

/* A queued read: fetch (candidates by key) or fetch_at (one loc). */
struct rd {
    struct tier_req *r;
    int at;
    uint64_t h;
    size_t n;
    struct {
        uint64_t ent;
        struct seg *seg; /* a reference held (invariant 9) */
    } c[SSD_MAX_CANDS];
};

struct job {
    struct seg *seg; /* write: drain its queue (a reference held) */
    struct rd *rd;   /* read */
    struct job *next;
};

/* Counters: relaxed atomics, no lock. */
struct ssd_counters {
    uint64_t device_bytes_written, record_bytes_inserted;
    uint64_t inserts, insert_fails, insert_reads, notes_written;
    uint64_t fetches, hits, misses, device_reads, buffer_hits, read_bytes;
    uint64_t removes, errors;
    uint64_t segments_compacted, records_moved, bytes_moved, notes_carried;
    uint64_t segments_expired, keys_expired, segments_evicted, keys_evicted;
    uint64_t attach_segments, attach_records, attach_damaged, attach_removed;
    uint64_t buffer_bytes;
    uint64_t expire_untracked;      /* records with an expiry the heap had no room for */
};

/* One key with an expiry, for active expiry (ssd_expire.c). */
struct sexp {
    int64_t at;   /* the record's expire_ms */
    uint64_t h;   /* the key's hash (sidx seed) */
    uint64_t loc; /* the record's loc */
    uint32_t db;
};

struct ssd_cls {
    pthread_mutex_t mu; /* guards seg and the seq order of appends to it */
    struct seg *seg;    /* the class's open segment, or NULL */
};

struct ssd {
    struct tier base;
    /* configuration: immutable after create */
    char *dir;
    uint64_t size, seg_size, wbuf, reserve;
    unsigned nio, databases, flush_ms;
    double ratio;
    int want_direct, fsync, maint_thread;
    const struct vfs *vfs;
    int64_t (*clock_ms)(void *ud);
    void *clock_ud;
    void (*log)(void *ud, int level, const char *msg);
    void *log_ud;
    void (*hook)(void *ud, int event);
    void *hook_ud;

    struct sidx *idx;

    pthread_mutex_t free_mu;      /* held while slots are freed (reclaim) and while flushdb
                                   * accounts the entries it detached: no slot reused under it */
    pthread_mutex_t seg_mu;       /* slot table, segment states, next_seg_seq */
    struct seg *segs[SIDX_SLOTS]; /* seg_mu to change; atomic loads */
    uint64_t next_seg_seq;        /* seg_mu */
    int direct;                   /* atomic: O_DIRECT in effect (last file opened) */
    int direct_logged;            /* atomic */

    struct ssd_cls cls[SFMT_NCLASSES];

    uint64_t seq;      /* atomic: the last entry seq handed out */
    uint64_t used;     /* atomic: sum of segments' acct */
    int remapped;      /* atomic: framing dbs may differ from current dbs (a SWAPDB seen) */
    int failed;        /* atomic: sticky failed state */
    unsigned nwaiting; /* seg_mu to change, atomic loads: files waiting (unlink_pending) */
    int iterating;     /* atomic: index iterations running (compaction waits) */

    /* I/O threads */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cond;  /* q_mu: work queued, or stop */
    pthread_cond_t q_idle;  /* q_mu: reads_inflight fell to 0 */
    struct job *q_head, *q_tail; /* q_mu */
    uint64_t reads_inflight;     /* q_mu */
    int q_stop;                  /* q_mu */
    pthread_t io[SSD_MAX_IO_THREADS];
    unsigned nio_started;

    /* maintenance */
    pthread_mutex_t maint_mu; /* one round at a time */
    int64_t last_pin_ns;      /* maint_mu: the last compaction made for notes pressure */
    pthread_mutex_t m_mu;
    pthread_cond_t m_cond;    /* m_mu: wake or stop */
    int m_stop, m_wake;       /* m_mu */
    pthread_t mthread;
    int m_started;

    /* dictionaries */
    pthread_mutex_t dict_mu;
    uint32_t *dict_ids;       /* dict_mu */
    size_t ndicts, dicts_cap; /* dict_mu */

    /* active expiry (ssd_expire.c) */
    pthread_mutex_t exp_mu;
    struct sexp *exp;         /* exp_mu: min-heap by at */
    size_t exp_n, exp_cap;    /* exp_mu */

    struct ssd_counters st;
};

/* ---- helpers (ssd.c) --------------------------------------------------- */

/* The entry of the key's stripe that loc names (fp of the key), or 0.
 * Caller holds the stripe lock. */
uint64_t ssd_entry_at_locked(struct ssd *t, struct sidx_stripe *st, uint32_t fp, uint64_t loc);

/* ---- active expiry (ssd_expire.c) ---------------------------------------- */

/* Remembers that the record at loc (db, key hash h) expires at `at`. */
void ssd_exp_push(struct ssd *t, int64_t at, int db, uint64_t h, uint64_t loc);
/* Drops up to max index entries whose expiry is <= now (stale heap entries
 * are discarded); returns how many were dropped (counted in keys_expired). */
uint64_t ssd_exp_run(struct ssd *t, int64_t now, uint64_t max);
/* SWAPDB: heap entries follow their keys. */
void ssd_exp_swapdb(struct ssd *t, int a, int b);
uint64_t ssd_exp_pending(struct ssd *t);
void ssd_exp_free(struct ssd *t);

void ssd_log(struct ssd *t, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int64_t ssd_now_ms(struct ssd *t);
int64_t ssd_mono_ns(void);
void ssd_count(uint64_t *field, uint64_t v);
/* Enters the sticky failed state (logged once). err: -errno. */
void ssd_fail(struct ssd *t, const char *what, int err);
int ssd_is_failed(struct ssd *t);
/* The segment file's path (malloc'd; NULL on ENOMEM). */
char *ssd_path(struct ssd *t, const char *name);
char *ssd_seg_path(struct ssd *t, uint64_t seq);

/* ---- segments and I/O (ssd_io.c) --------------------------------------- */

int ssd_io_start(struct ssd *t);
/* Waits for every queued read, then stops and joins the I/O threads. */
void ssd_io_stop(struct ssd *t);
/* Returns when no read is queued or running. */
void ssd_io_drain_reads(struct ssd *t);
/* Queues the read rd (owned by the queue from here). ST_EPENDING, or
 * ST_ENOMEM (not queued: the caller still owns rd). */
int ssd_io_queue_read(struct ssd *t, struct rd *rd);
/* Answers rd on the calling thread: fills rd->r, drops rd's references,
 * frees rd. Used by the I/O threads and for synchronous reads. */
void ssd_rd_run(struct ssd *t, struct rd *rd);

/* Segment references (invariant 9). get answers 0 when the segment is
 * dropping (nothing taken). put may release the file (close, unlink). */
int ssd_seg_get(struct seg *s);
void ssd_seg_put(struct seg *s);
/* The same with t->seg_mu held (the state cannot turn dropping meanwhile,
 * so it never has to back off and release). */
int ssd_seg_get_locked(struct seg *s);
/* The segment in slot, with a reference, if its low seq bits are seqlo
 * (mask: how many bits to compare) and it is not dropping; else NULL. */
struct seg *ssd_seg_lookup(struct ssd *t, unsigned slot, uint64_t seqlo, unsigned bits);

/* A new segment struct in a free slot (t->seg_mu held by the caller),
 * state st, file not created yet; NULL when no slot is free or ENOMEM. */
struct seg *ssd_seg_create_locked(struct ssd *t, unsigned cls, int st, uint64_t limit);
/* Unlinks the files of dropped segments whose wait for entries is over
 * (invariant 11). Any thread holding no tier lock. */
void ssd_unlink_pending(struct ssd *t);
/* Lowest seq of an entry appended but not yet durable (UINT64_MAX: none),
 * invariant 11. seg_mu held by the caller when have_seg_mu. */
uint64_t ssd_pending_min(struct ssd *t, int have_seg_mu);
/* 1 while a dropped segment's file waits for entries (invariant 11). */
int ssd_unlink_waits(struct ssd *t);
/* When a file waits, makes every entry appended so far durable
 * (ssd_flush_all with sync), so that it goes. Any thread holding no tier
 * lock: maintenance, and an insert that found no room (invariant 10). */
int ssd_unlink_settle(struct ssd *t);
/* Frees a segment struct (its slot must be cleared already). */
void ssd_seg_destroy(struct seg *s);
/* Marks s dropping (t->seg_mu held), dropping the table's reference. The
 * file goes when the last reader is done; the slot once walked. */
void ssd_seg_drop_locked(struct seg *s);

/* Appends one entry to expiry class cls's open segment (opening one when
 * needed), assigning its seq (invariant 3). The caller holds the stripe
 * lock of the key concerned, or every stripe (SWAPDB, FLUSHDB). payload:
 * for PUT the record, rec its decoding. Notes may use the compaction
 * reserve; PUTs make room by dropping or evicting segments (make_room).
 * Sets *segp, *offp, *seqp. ST_OK, ST_EFULL, ST_EIO, ST_ENOMEM. */
int ssd_append(struct ssd *t, unsigned cls, uint8_t kind, uint16_t db, const void *payload, size_t plen,
               const struct tier_rec *rec, struct seg **segp, uint64_t *offp, uint64_t *seqp);
/* Waits (no lock held by the caller) while class cls's open segment has
 * SSD_MAX_QUEUED buffers in its write queue (backpressure for inserts). */
void ssd_append_wait(struct ssd *t, unsigned cls);
/* Submits act of every open segment whose unwritten bytes are older than
 * flush_ms (all of them with force, each followed by an act at the next
 * block boundary: ssd_io.c invariant 7a). */
void ssd_flush_timed(struct ssd *t, int force);
/* Submits every open segment's buffer and waits for the write queues to
 * empty; with sync, syncs each file written since its last sync. */
int ssd_flush_all(struct ssd *t, int sync);
/* Seals class cls's open segment (its last buffer written, synced). */
void ssd_seal_open_locked(struct ssd *t, struct ssd_cls *c);

/* Reads the entry at off of s (reference held) with read size class sz:
 * from a write buffer when it is in one, else with pread. Checks framing,
 * seg_seq_lo, kind PUT and the record (sfmt_put_check). ST_OK with *rec
 * (the record bytes, malloc'd, owned by the caller) and *len; ST_ECORRUPT;
 * ST_EIO; ST_ENOMEM. */
int ssd_read_put(struct ssd *t, struct seg *s, uint64_t off, unsigned sz, void **rec, size_t *len, uint64_t *seq);
/* The same from a write buffer only: ST_EAGAIN when the entry is not in one. */
int ssd_read_buffered(struct ssd *t, struct seg *s, uint64_t off, void **rec, size_t *len, uint64_t *seq);

typedef int ssd_scan_fn(void *ud, struct seg *s, uint64_t off, const struct sfmt_ent *e);
/* Reads s's entries from 4096 to end in order with large reads; damaged
 * stretches are logged (segment, offset) and counted in *damaged once each,
 * resynchronising 8 bytes on; a truncated last entry counts too. fn
 * returning non-zero stops the scan (returned). ST_OK, ST_EIO, ST_ENOMEM. */
int ssd_seg_scan(struct ssd *t, struct seg *s, uint64_t end, ssd_scan_fn *fn, void *ud, uint64_t *damaged);

/* Opens (creating with create) the file of s, O_DIRECT if wanted. */
int ssd_seg_open_file(struct ssd *t, struct seg *s, int create);

/* The expiry class of a record expiring at expire_ms (-1: none). */
unsigned ssd_class_of(struct ssd *t, int64_t expire_ms);

/* loc of an entry: see ssd.h. */
static inline uint64_t ssd_loc(const struct seg *s, uint64_t ent)
{
    return (ent & ((1ull << SIDX_TTL_SHIFT) - 1)) | (s->seq & 0xfffffull) << 44;
}

/* ---- maintenance (ssd_compact.c) --------------------------------------- */

int ssd_maint_start(struct ssd *t);
void ssd_maint_stop(struct ssd *t);
void ssd_maint_wake(struct ssd *t);
/* Drops a sealed segment with nothing live or all expired, else evicts the
 * oldest sealed PUT segment (the insert path, when full). Caller holds no
 * seg_mu. 1 if that gave bytes back at once (no read held the file). */
int ssd_make_room(struct ssd *t);
/* The index walk that removes every entry of dropping, unwalked slots;
 * then frees slots whose file is gone. */
void ssd_reclaim(struct ssd *t);

/* ---- attach (ssd_attach.c) --------------------------------------------- */

/* Lists the directory: with attach, re-attaches segments and dictionaries
 * (tiers/ssd_attach.c); without, deletes them. Single-threaded: before the
 * tier's threads start. */
int ssd_attach(struct ssd *t, int attach);

/* Records a dictionary id as stored (ssd.c). */
int ssd_dict_add_id(struct ssd *t, uint32_t id);

#endif
