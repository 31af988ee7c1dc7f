/*
 * ssd.h -- the SSD tier: records in append-only segment files, found
 * through the tier's own compact DRAM index (about 11 bytes per key, no
 * DRAM stub), so a node can hold many times its DRAM. Implements the
 * indexed-tier interface of engine/tier.h (tier.index != NULL). The format
 * is in tiers/ssd_fmt.c, the design in tiers/ssd.c.
 */
#ifndef STRATA_TIERS_SSD_H
#define STRATA_TIERS_SSD_H

#include <stdint.h>

#include "engine/tier.h"
#include "engine/vfs.h"

/* Log levels passed to ssd_conf.log (the numbers of server/log.h's levels,
 * the same as PTIER_LOG_*). */
#define SSD_LOG_NOTICE 2
#define SSD_LOG_WARNING 3

/* Test hook events (ssd_conf.hook). */
#define SSD_HOOK_COMPACT_COPIED 1 /* compaction wrote a batch of moved records
                                   * to its output and is about to switch
                                   * their index entries (the CAS) */

struct ssd_conf {
    const char *dir;          /* segment directory (created if absent; its parent must exist) */
    uint64_t size;            /* bytes of segment files the tier may hold (>= 3 segments) */
    uint64_t segment_size;    /* 0 = 64 MiB; a multiple of 4096, 1 MiB .. 1 GiB */
    uint64_t write_buffer;    /* 0 = 1 MiB; a multiple of 4096, <= segment_size */
    unsigned io_threads;      /* 0 = 2; at most 64 */
    double compact_live_ratio; /* 0 = 0.5; a sealed segment whose live share of
                               * records falls below this is compacted (< 1) */
    unsigned databases;       /* 1 .. 1024 */
    /* The four switches below are plain booleans: start from
     * ssd_conf_defaults (all 1), since 0 means off (attach 0 deletes). */
    int direct_io;            /* 1: O_DIRECT where the file system allows (logged once if not) */
    int fsync;                /* 1: sync after each buffer write (0: at seal and ssd_sync only) */
    int attach;               /* 1: re-attach the segments found at create;
                               * 0: delete them (logged) */
    unsigned flush_ms;        /* 0 = 100: a partly filled buffer reaches the device
                               * after at most this long, plus one maintenance period
                               * (flush_ms / 2, between 5 and 50 ms) */
    int maintenance_thread;   /* 1: a thread of the tier's; 0: only ssd_maintain runs it */
    const struct vfs *vfs;    /* NULL = vfs_posix(); borrowed for the tier's lifetime */
    /* Wall clock in unix ms for expiry decisions (NULL: CLOCK_REALTIME).
     * Called from any tier thread; must be thread-safe. */
    int64_t (*clock_ms)(void *ud);
    void *clock_ud;
    /* Optional (NULL: silent). Called from any tier thread with one line (no
     * newline), possibly under the tier's locks: it must not call into the
     * tier. msg is only valid during the call. */
    void (*log)(void *ud, int level, const char *msg);
    void *log_ud;
    /* Tests only (NULL in production): called on the thread running
     * maintenance, with no tier lock held (it may call the tier's index
     * operations), at the events SSD_HOOK_*. */
    void (*hook)(void *ud, int event);
    void *hook_ud;
};

/* Sets *c (caller's) to the defaults: zero numbers (each meaning its
 * default above), the four switches 1, databases 16; dir and size still to
 * fill. */
void ssd_conf_defaults(struct ssd_conf *c);

struct ssd_stats {
    /* segments */
    uint64_t segments;             /* files the tier holds (every state) */
    uint64_t segments_open;        /* taking appends (one per expiry class in use) */
    uint64_t segments_sealed;      /* full, attached, or closed by compaction */
    uint64_t segments_compacting;  /* being read by compaction, or its output */
    uint64_t segments_dropping;    /* dropped, file or index entries not yet gone */
    uint64_t used_bytes;           /* bytes of segment files (headers, padding) */
    uint64_t capacity_bytes;       /* conf size */
    uint64_t live_bytes;           /* estimate: each segment's entry bytes scaled
                                    * by its live share of records */
    /* DRAM */
    uint64_t index_bytes;          /* the index: tables, stripe arrays */
    uint64_t index_entries;        /* keys indexed, every database */
    uint64_t buffer_bytes;         /* write buffers allocated now */
    /* writes */
    uint64_t device_bytes_written; /* every pwrite: buffers, rewritten tail blocks,
                                    * headers, compaction output */
    uint64_t record_bytes_inserted; /* record bytes given to insert (write
                                    * amplification = the line above / this) */
    uint64_t inserts, insert_fails; /* insert calls; those not ST_OK */
    uint64_t insert_reads;         /* inserts that read an entry of the same
                                    * fingerprint to compare keys */
    uint64_t notes_written;        /* DEL, SWAPDB and FLUSHDB notes appended */
    /* reads */
    uint64_t fetches, hits, misses; /* fetch + fetch_at calls; ST_OK; ENOENT + ECORRUPT */
    uint64_t device_reads;         /* preads of entries */
    uint64_t buffer_hits;          /* entries copied out of write buffers */
    uint64_t read_bytes;           /* bytes those preads returned */
    uint64_t removes;              /* removes that removed */
    uint64_t errors;               /* damaged entries met, I/O errors */
    /* maintenance */
    uint64_t segments_compacted;
    uint64_t records_moved, bytes_moved; /* by compaction */
    uint64_t notes_carried;        /* notes compaction copied forward (still needed) */
    uint64_t segments_expired;     /* dropped whole, all their records expired */
    uint64_t keys_expired;         /* index entries dropped with those, or by compaction */
    uint64_t segments_evicted;     /* oldest first, when full and nothing compacts */
    uint64_t keys_evicted;
    /* attach */
    uint64_t attach_segments;      /* segments re-attached at create */
    uint64_t attach_records;       /* records indexed by the attach */
    uint64_t attach_damaged;       /* damaged entries skipped (truncated tails included) */
    uint64_t attach_removed;       /* files with a bad header, removed */
    /* state */
    int failed;                    /* sticky failed state after a write/sync error */
    int direct_io;                 /* O_DIRECT in effect */
};

/* Creates the SSD tier in conf->dir (conf and its strings borrowed for the
 * call; conf->vfs for the tier's lifetime) and returns it owned in *out, to
 * be released with tier_destroy() (which writes and syncs every buffer,
 * waits for every read in flight -- each done runs -- and joins the tier's
 * threads). With conf->attach the segments and dictionaries found in dir
 * are re-attached: every current record comes back, byte-exact; damaged
 * entries are logged, counted and skipped, files with a bad header removed.
 * Returns ST_OK, ST_EINVAL (a conf field out of range; logged), ST_EIO (the
 * directory cannot be created or listed; logged), ST_ENOMEM. *out is
 * untouched on failure.
 *
 * Behaviour beyond engine/tier.h:
 *  - loc = off/8 (bits 0..26) | slot << 27 | read size class << 41 | low 20
 *    bits of the segment's seq << 44; never 0.
 *  - insert answers ST_EFULL for a record whose entry does not fit in one
 *    segment, and when the tier is full and no segment can be dropped or
 *    evicted right now; ST_EIO in the failed state. An insert of a key
 *    whose fingerprint matches an indexed entry compares keys, reading
 *    that entry on the calling thread when it is not in a buffer
 *    (stats.insert_reads; the engine's one-place rule makes it rare).
 *  - fetch and fetch_at complete at once for an index miss and for records
 *    still in a write buffer; otherwise, with done set, on an I/O thread.
 *    A damaged record is ST_ECORRUPT (logged, its entry dropped, a DEL
 *    note written for fetch's key, stats.errors).
 *  - the base put/get/del/iterate answer ST_EINVAL; clear(with_dicts)
 *    drops every record (and the dictionaries with with_dicts).
 *  - put_dict: ST_EINVAL for id 0, ST_EEXIST for a stored id, ST_EIO
 *    failed; written to a temporary file, synced, renamed, directory
 *    synced. each_dict reads the files (damaged ones logged and skipped).
 *  - stats: records = indexed keys; raw_bytes and stored_bytes are
 *    estimates (each segment's sums scaled by its live share of records);
 *    used_bytes = segment file bytes; capacity = size; puts/put_fails
 *    count inserts; gets/hits/misses fetches; dels removes; errors;
 *    failed. heap_bytes() is 0.
 */
int ssd_create(const struct ssd_conf *conf, struct tier **out);

/* Fills *out (caller's) with t's counters (t must be an SSD tier). */
void ssd_stats(struct tier *t, struct ssd_stats *out);

/* Writes every buffer (partly filled ones too) to the device and syncs
 * every file written to; returns when done (shutdown, tests). ST_OK or
 * ST_EIO (failed state). */
int ssd_sync(struct tier *t);

/* Runs one round of maintenance now on the calling thread: timed flushes,
 * whole-segment expiry, drops of segments with nothing live, compaction,
 * eviction, and the index walks and file deletions they need. Serialised
 * with the maintenance thread. ST_OK, or the first error met. */
int ssd_maintain(struct tier *t);

#endif
