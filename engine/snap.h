/*
 * snap.h -- the snapshot file: every key of every database at one point in
 * time, written as a stream and read back as a stream. The format is
 * documented byte by byte in the essay at the top of snap.c (and in
 * docs/formats.md).
 *
 * A snapshot holds hot keys as serialised values (engine/serial.h bytes,
 * opaque here), cold keys as their tier records (engine/tier.h STR1 bytes,
 * copied as they are, never decompressed) behind an index that names each
 * record's key, generation and CRC, the compression dictionaries those
 * records name, and a few aux fields ("strata-ver", "ctime", ...).
 *
 * Writing (one thread; the writer is not shared):
 *
 *     struct snap_writer *w;
 *     snap_writer_open(vfs, "dump.sts.tmp", &meta, &w);
 *     snap_write_aux(w, "strata-ver", STRATA_VERSION);
 *     snap_write_dict(w, id, dict, len);                  // dictionaries first
 *     snap_write_hot(w, db, type, expire_ms, key, klen, ser, serlen);
 *     snap_write_cold(w, db, SNAP_TIER_PMEM, expire_ms, rec, reclen);
 *     rc = snap_writer_commit(&w, "dump.sts");            // or snap_writer_abort(&w)
 *
 * Reading (one thread per reader):
 *
 *     struct snap_reader *r;
 *     struct snap_meta meta;
 *     struct snap_item it;
 *     rc = snap_reader_open(vfs, "dump.sts", 0, &r, &meta);
 *     while (rc == ST_OK && (rc = snap_next(r, &it)) == ST_OK)
 *         ... it.kind: SNAP_HOT / SNAP_COLD / SNAP_DICT / SNAP_AUX ...
 *     if (rc != ST_ENOENT) { snap_reader_error(r, &off, &what); ... }  // r may be a failed reader
 *     snap_reader_close(&r);
 *
 * ST_ENOENT from snap_next is the only "whole and valid" answer: it comes
 * after the footer's counts and checksums were compared with what was read.
 * Items returned before a damage was found were each checked (their block's
 * CRCs) but the file as a whole was not: a loader that must be all-or-
 * nothing keeps what it loaded aside until ST_ENOENT.
 *
 * Errors are enum st_err codes (engine/err.h). Every pointer argument is
 * borrowed for the call unless its comment says otherwise.
 */
#ifndef STRATA_SNAP_H
#define STRATA_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "engine/vfs.h"

#define SNAP_VERSION 1
#define SNAP_HDR_SIZE 64
#define SNAP_BLOCK_HDR_SIZE 32
#define SNAP_FOOTER_SIZE 64
/* Payload bytes (part A + part B) a block is closed at; an item larger than
 * this gets a block of its own. */
#define SNAP_BLOCK_TARGET (1u << 20)
#define SNAP_DATABASES_MAX 65536u

/* A cold key's tier (informational: a loader re-attaches by key, gen, crc). */
#define SNAP_TIER_OTHER 0
#define SNAP_TIER_PMEM 1
#define SNAP_TIER_SSD 2

/* Item kinds (the block kinds of the format). */
enum snap_kind {
    SNAP_HOT = 1,
    SNAP_COLD = 2,
    SNAP_DICT = 3,
    SNAP_AUX = 4,
};

/* What the header says (and, for the reader, the footer). */
struct snap_meta {
    int64_t created_ms;  /* unix ms the snapshot stands at */
    uint64_t log_offset; /* the append-log offset the snapshot stands at */
    uint64_t lineage;    /* id of the log lineage: combine only with that log */
    uint32_t databases;  /* 1 .. SNAP_DATABASES_MAX; every item's db is below it */
    uint32_t flags;      /* 0: no flag is defined in version 1 */
    /* reader only (the writer ignores them): the footer's counts */
    uint64_t keys, hot, cold, blocks;
};

/* Counters of a writer so far. */
struct snap_stats {
    uint64_t bytes;    /* bytes written to the file */
    uint64_t buffered; /* bytes of items in open blocks, not yet written */
    uint64_t keys, hot, cold, dicts, aux;
    uint64_t blocks;   /* blocks written */
};

/* One item; every pointer borrows the reader's buffers until the next
 * snap_next, snap_cold_data or snap_reader_close on that reader. */
struct snap_item {
    int kind;          /* enum snap_kind */
    uint32_t db;       /* HOT, COLD */
    uint8_t type;      /* HOT: enum obj_type (engine/entry.h) */
    uint8_t tier;      /* COLD: SNAP_TIER_* */
    int64_t expire_ms; /* HOT, COLD: unix ms, or -1 for none (COLD: authoritative, the
                        * record's own expire_ms may differ) */
    const char *key;   /* HOT, COLD: the key; AUX: the field's name */
    uint32_t klen;
    const void *val;   /* HOT: the serialised value; DICT: the dictionary; AUX: the value */
    uint32_t vlen;
    uint32_t dict_id;  /* DICT: its id (> 0) */
    uint64_t gen;      /* COLD: the record's generation */
    uint32_t rec_crc;  /* COLD: the record's own CRC field (engine/tier.h offset 4) */
    uint32_t reclen;   /* COLD: the record's length */
    /* the reader's own (do not touch) */
    uint64_t block_seq_;
    uint32_t data_off_;
};

struct snap_writer;
struct snap_reader;

/* ---- writing ----------------------------------------------------------- */

/* Creates (or truncates) tmp_path through v (borrowed; must outlive the
 * writer) and writes the header from meta (copied). tmp_path is copied; it
 * must name a file in the directory that snap_writer_commit's final_path
 * will name, and not the final path itself. Returns ST_OK with *out (owned:
 * end it with snap_writer_commit or snap_writer_abort), ST_EINVAL (meta out
 * of range: databases 0 or above SNAP_DATABASES_MAX, flags not 0), ST_EIO,
 * ST_ENOMEM. Nothing is durable yet. */
int snap_writer_open(const struct vfs *v, const char *tmp_path, const struct snap_meta *meta,
                     struct snap_writer **out);

/* Adds a hot key: db (< databases), type (enum obj_type), expire_ms (unix
 * ms, or -1 for none), key[0..klen) (1 .. TIER_KEY_MAX bytes) and its
 * serialised value ser[0..serlen) (opaque here), all copied or written
 * before the call returns. Returns ST_OK; ST_EINVAL (an argument out of
 * range) and ST_ETOOBIG (the item does not fit a u32 length) leave the
 * writer unchanged; ST_ENOMEM leaves it unchanged too; ST_EIO is sticky
 * (every later call answers it, and commit fails). */
int snap_write_hot(struct snap_writer *w, uint32_t db, uint8_t type, int64_t expire_ms, const char *key,
                   size_t klen, const void *ser, size_t serlen);

/* Adds a cold key: db, tier (SNAP_TIER_*), expire_ms (the key's expiry as
 * the server knows it; -1 none) and the whole tier record rec[0..reclen),
 * which must decode (tier_rec_decode) to exactly reclen bytes: its key,
 * generation and CRC go into the block's index, its bytes unchanged into
 * part B. Returns as snap_write_hot; ST_EINVAL also for a record that does
 * not decode. */
int snap_write_cold(struct snap_writer *w, uint32_t db, uint8_t tier, int64_t expire_ms, const void *rec,
                    size_t reclen);

/* Adds compression dictionary id (> 0), dict[0..len) (len > 0). A reader
 * sees every dictionary written before a cold item before that item.
 * Returns as snap_write_hot. */
int snap_write_dict(struct snap_writer *w, uint32_t id, const void *dict, size_t len);

/* Adds an aux field: key and val are NUL-terminated strings (key not
 * empty), stored without the NUL. A reader sees every aux field written
 * before a key before that key. Returns as snap_write_hot. */
int snap_write_aux(struct snap_writer *w, const char *key, const char *val);

/* Fills *out with the writer's counters. */
void snap_writer_stats(const struct snap_writer *w, struct snap_stats *out);

/* Finishes the snapshot: writes the open blocks and the footer, syncs the
 * file, closes it, renames tmp_path to final_path (replacing it) and syncs
 * the directory. Always ends the writer: *wp is freed and NULLed.
 * Returns ST_OK: the new snapshot is complete and durable at final_path.
 * Otherwise the temporary file is removed (best effort) and: ST_EINVAL
 * (final_path names another directory than tmp_path, or tmp_path itself),
 * ST_EIO (a write, sync or rename failed, or an earlier call failed with
 * ST_EIO) -- final_path still holds the previous file, untouched; or ST_EIO
 * from the directory sync after the rename -- final_path holds the new,
 * complete file, but a crash may still bring back the previous one. A crash
 * at any instant before this returns leaves final_path holding the previous
 * file (or nothing, if there was none) or, once the rename is durable, the
 * new one, each whole. */
int snap_writer_commit(struct snap_writer **wp, const char *final_path);

/* Abandons the snapshot: closes and unlinks the temporary file, frees the
 * writer and NULLs *wp (which may be NULL). final_path was never touched. */
void snap_writer_abort(struct snap_writer **wp);

/* ---- reading ----------------------------------------------------------- */

/* snap_reader_open flags */
#define SNAP_SKIP_COLD_DATA 0x1 /* do not read COLD part B (the records) unless snap_cold_data asks;
                                 * the end then checks crc_skeleton instead of crc_all */

/* Opens path through v (borrowed; must outlive the reader) and checks the
 * header and the footer (magic, version, lengths, CRCs; the footer must end
 * the file). Returns ST_OK with *out (owned: snap_reader_close) and
 * *meta_out (may be NULL) filled; ST_ENOENT (no such file), ST_EINVAL (bad
 * flags), ST_ENOMEM: *out is NULL; ST_ECORRUPT or ST_EIO: *out is a failed
 * reader (snap_reader_error says where and why; every snap_next answers the
 * same code), which the caller closes. */
int snap_reader_open(const struct vfs *v, const char *path, unsigned flags, struct snap_reader **out,
                     struct snap_meta *meta_out);

/* The next item into *it (the caller's struct; its pointers borrow the
 * reader). Returns ST_OK; ST_ENOENT at the clean end (the footer's counts
 * and crc_all -- or crc_skeleton when cold data was skipped -- matched);
 * ST_ECORRUPT (damage: snap_reader_error has the offset and reason; sticky);
 * ST_EIO (sticky); ST_ENOMEM (not sticky: the same call may be retried).
 * A block is checked whole (its CRCs, every item's structure and, unless
 * skipped, every record against its index entry) before its first item is
 * returned, so an item is never a damaged one. */
int snap_next(struct snap_reader *r, struct snap_item *it);

/* The record of it, the COLD item snap_next returned last or earlier from
 * the same block: *rec (borrowing the reader like the item) and *len. Reads
 * the block's part B if it was skipped (once per block, checking crc_b) and
 * checks the record against the index (decodes; same key, generation and
 * CRC). Returns ST_OK; ST_EINVAL (it is not a COLD item of the current
 * block); ST_ECORRUPT, ST_EIO (sticky, as for snap_next); ST_ENOMEM. */
int snap_cold_data(struct snap_reader *r, const struct snap_item *it, const void **rec, size_t *len);

/* Where and why the reader failed: *off the file offset of the damaged
 * structure (the header, a block header, a block's part A or B, the
 * footer; or the file size for a file that ends early), *what a static
 * string. 0 and NULL while the reader has not failed. Either pointer may be
 * NULL. */
void snap_reader_error(const struct snap_reader *r, uint64_t *off, const char **what);

/* Closes the file, frees the reader and NULLs *rp (which may be NULL). */
void snap_reader_close(struct snap_reader **rp);

/* ---- checking ---------------------------------------------------------- */

struct snap_report {
    int rc;                /* ST_OK (whole and valid), ST_ECORRUPT, ST_EIO, ST_ENOENT, ST_ENOMEM */
    uint64_t size;         /* file bytes */
    int header_ok;         /* the header is valid (meta below is filled) */
    int footer_ok;         /* the footer is valid and ends the file (meta's counts are filled) */
    struct snap_meta meta;
    uint64_t bad_off;      /* the first damaged offset (rc ST_ECORRUPT) */
    const char *what;      /* what is wrong there (static), NULL when nothing is */
    uint64_t damaged;      /* damaged regions found (a bad block, a stretch of garbage) */
    /* what is readable: items in blocks that passed every check */
    uint64_t keys, hot, cold, dicts, aux, blocks;
};

/* Walks the whole file at path through v: header, every block (all CRCs,
 * every item, every record against its index), footer and the chained
 * CRCs. After a damaged block it goes on with the next block (a damaged
 * block header: with the next place a valid block header or the footer
 * starts), so the counts say how much is still readable. Fills *rep and
 * returns rep->rc. Memory: one block at a time. */
int snap_verify(const struct vfs *v, const char *path, struct snap_report *rep);

#endif
