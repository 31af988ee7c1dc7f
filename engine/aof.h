/*
 * aof.h -- the append log: every write command that changed data, in
 * execution order, in a checksummed format, with the logical offsets
 * replication counts in. The format is documented byte by byte in the essay
 * at the top of aof.c (and in docs/formats.md).
 *
 * A log file starts at a logical offset (start_offset, in its header); each
 * record's offset is start_offset plus the bytes of the records before it.
 * A lineage id (in the header, and in the snapshot a log continues) says
 * which history the offsets belong to.
 *
 * Writing (one thread: the server serialises calls; not thread-safe):
 *
 *     struct aof_writer *w;
 *     struct aof_meta m = {.start_offset = off, .lineage = id, .created_ms = now};
 *     aof_writer_open(vfs, "appendonly.log", &m, &w);    // a new file, its header durable
 *     aof_append(w, now_ms, db, argc, argv, argvlen, &offset);   // into memory
 *     aof_write(w);                                     // to the file (the OS may still lose it)
 *     aof_sync(w);                                      // durable
 *     aof_writer_close(&w);
 *
 * What is durable: after aof_writer_open, the empty log (header and
 * directory entry); after aof_sync returns ST_OK, every record appended
 * before the aof_write that preceded it; nothing else. A crash may keep,
 * drop or tear anything appended after the last completed aof_sync.
 *
 * Reading (one thread per reader):
 *
 *     rc = aof_reader_open(vfs, path, &r, &meta);
 *     while (rc == ST_OK && (rc = aof_next(r, &rec)) == ST_OK)
 *         ... replay rec.argv in rec.db at time rec.time_ms ...
 *     if (rc == ST_ECORRUPT) {
 *         aof_reader_damage(r, &d);
 *         if (d.kind == AOF_TORN_TAIL)  ... log it, aof_truncate(vfs, path, d.pos) ...
 *         else                          ... AOF_DAMAGED: refuse to start (or aof_reader_resume) ...
 *     }
 *     aof_reader_close(&r);
 *
 * Errors are enum st_err codes (engine/err.h). Every pointer argument is
 * borrowed for the call unless its comment says otherwise.
 */
#ifndef STRATA_AOF_H
#define STRATA_AOF_H

#include <stddef.h>
#include <stdint.h>

#include "engine/vfs.h"

#define AOF_VERSION 1
#define AOF_HDR_SIZE 64
#define AOF_REC_HDR 12     /* magic, length, CRC */
#define AOF_PAYLOAD_MIN 36 /* the fixed fields and one argument of length 0 */
#define AOF_PAYLOAD_MAX 0xFFFFFFF0u
#define AOF_KIND_COMMAND 1

struct aof_meta {
    uint64_t start_offset; /* logical offset of the file's first record */
    uint64_t lineage;      /* id of the log lineage */
    int64_t created_ms;    /* unix ms the file was created (the caller's clock) */
};

/* One record; argv and argvlen borrow the reader until its next call. */
struct aof_rec {
    uint64_t offset;      /* logical offset of this record */
    uint64_t end_offset;  /* logical offset of the next one (offset + its bytes) */
    uint64_t synced;      /* the log was durable up to this offset when the record was appended */
    int64_t time_ms;      /* wall clock at execution: replay runs the command with this time */
    uint32_t db;
    uint8_t kind;         /* AOF_KIND_COMMAND */
    uint8_t flags;        /* 0 */
    uint32_t argc;        /* >= 1 */
    const char *const *argv;
    const size_t *argvlen;
};

struct aof_writer_stats {
    uint64_t appended; /* next logical offset (aof_offset): records in memory included */
    uint64_t written;  /* logical offset the file holds up to (aof_write) */
    uint64_t synced;   /* logical offset the file is durable up to (aof_sync) */
    uint64_t buffered; /* bytes appended but not yet written */
    uint64_t records;  /* records appended by this writer */
};

enum aof_damage_kind {
    AOF_NO_DAMAGE = 0,
    AOF_TORN_TAIL = 1,  /* the log ends in a record a crash cut or garbled: nothing after pos was ever
                         * durable (no valid record follows, or every one that follows was appended
                         * while the bytes at pos were not yet synced); truncate at pos */
    AOF_DAMAGED = 2,    /* bytes that had been synced are damaged: a valid record follows that was
                         * appended after they were made durable (at next_pos) */
    AOF_BAD_HEADER = 3, /* the file is not a log of this version (or a crash cut it in
                         * aof_writer_open, before it held any record) */
    AOF_IO_ERROR = 4,   /* a read failed */
};

struct aof_damage {
    int kind;             /* enum aof_damage_kind */
    uint64_t pos;         /* file offset where the valid prefix ends (the bad record starts) */
    uint64_t offset;      /* the same as a logical offset */
    uint64_t next_pos;    /* AOF_DAMAGED: file offset of the first valid record after pos (0: not
                           * known: the scan for it gave up after its work budget) */
    uint64_t next_offset; /* ... as a logical offset */
    const char *what;     /* static: what is wrong at pos */
};

struct aof_writer;
struct aof_reader;

/* ---- writing ----------------------------------------------------------- */

/* Creates path through v (borrowed; must outlive the writer); the file must
 * not exist. Writes the header from meta (copied), syncs it and the
 * directory. Returns ST_OK with *out (owned: aof_writer_close), ST_EEXIST,
 * ST_EINVAL, ST_EIO (the file may be left behind, shorter than a header),
 * ST_ENOMEM. */
int aof_writer_open(const struct vfs *v, const char *path, const struct aof_meta *meta, struct aof_writer **out);

/* Opens the existing log at path for appending after its last record: it is
 * read whole first and must end cleanly (ST_ECORRUPT otherwise: see
 * aof_reader_damage, aof_truncate), then synced, so what a crashed process
 * left in the page cache is durable before anything is appended after it.
 * *meta_out (may be NULL) gets the header. Returns as aof_writer_open, and
 * ST_ENOENT when there is no such file. */
int aof_writer_reopen(const struct vfs *v, const char *path, struct aof_writer **out, struct aof_meta *meta_out);

/* Appends one command record to the writer's memory: time_ms (the wall clock
 * the command ran at), db (0 .. 65535), argc (>= 1) arguments argv[i] of
 * argvlen[i] bytes (copied; argv[i] may be NULL when its length is 0). Sets
 * *offset_out (may be NULL) to the record's logical offset. Returns ST_OK;
 * ST_EINVAL, ST_ETOOBIG (payload over AOF_PAYLOAD_MAX) and ST_ENOMEM leave
 * the writer unchanged; ST_EIO when the writer has failed (sticky). */
/* Bytes a record of these arguments takes in the stream (header included):
 * the logical offset of the record after it is this much further on. */
size_t aof_rec_size(uint32_t argc, const size_t *argvlen);

int aof_append(struct aof_writer *w, int64_t time_ms, uint32_t db, uint32_t argc, const char *const *argv,
               const size_t *argvlen, uint64_t *offset_out);

/* Writes the records in memory to the file (one large write) and empties the
 * buffer. Nothing is durable until aof_sync. ST_OK or ST_EIO; an I/O failure
 * is sticky (the file's tail is unknown: every later call answers ST_EIO;
 * the caller starts a new file, or reopens after recovery). */
int aof_write(struct aof_writer *w);

/* Makes what aof_write has written durable (fdatasync). Does not write the
 * buffer. ST_OK or ST_EIO (sticky: a failed fdatasync may have dropped the
 * dirty pages, so it is never retried). */
int aof_sync(struct aof_writer *w);

/* The logical offset the next appended record will get. */
uint64_t aof_offset(const struct aof_writer *w);

/* Fills *out with the writer's offsets and counters. */
void aof_writer_stats(const struct aof_writer *w, struct aof_writer_stats *out);

/* Writes and syncs what is buffered (unless the writer has failed), closes
 * the file, frees the writer and NULLs *wp (which may be NULL). Returns ST_OK
 * when everything appended is durable, else ST_EIO. */
int aof_writer_close(struct aof_writer **wp);

/* ---- reading ----------------------------------------------------------- */

/* Opens the log at path through v (borrowed; must outlive the reader) and
 * checks its header. Returns ST_OK with *out (owned: aof_reader_close) and
 * *meta (may be NULL); ST_ENOENT, ST_EINVAL, ST_ENOMEM: *out is NULL;
 * ST_ECORRUPT (AOF_BAD_HEADER) or ST_EIO: *out is a failed reader that
 * aof_reader_damage describes, which the caller closes. The reader reads the
 * file as long as it was at open. */
int aof_reader_open(const struct vfs *v, const char *path, struct aof_reader **out, struct aof_meta *meta);

/* The next record into *rec (the caller's; its pointers borrow the reader).
 * Returns ST_OK; ST_ENOENT at the clean end (the last record ends the file);
 * ST_ECORRUPT at a bad or partial record (aof_reader_damage tells a torn tail
 * from damage in the middle; sticky until aof_reader_resume); ST_EIO
 * (sticky); ST_ENOMEM (not sticky). A record is returned only when its CRC,
 * its offset (its place in the file), its synced field and its structure are
 * all right. */
int aof_next(struct aof_reader *r, struct aof_rec *rec);

/* What aof_next (or aof_reader_open) found wrong; kind AOF_NO_DAMAGE while
 * nothing is. */
void aof_reader_damage(const struct aof_reader *r, struct aof_damage *d);

/* After AOF_DAMAGED with a known next_pos: goes on reading from that record
 * (the records in between are lost: only a caller that accepts a gap in the
 * history does this). ST_OK, or ST_EINVAL in any other state. */
int aof_reader_resume(struct aof_reader *r);

/* The logical offset of the next record to read: after ST_ENOENT, the end of
 * the log (where a writer reopened on it continues). */
uint64_t aof_reader_offset(const struct aof_reader *r);

/* Closes the file, frees the reader and NULLs *rp (which may be NULL). */
void aof_reader_close(struct aof_reader **rp);

/* Cuts the log at path to size bytes (>= AOF_HDR_SIZE, <= its size) and
 * syncs it: the caller's "drop the torn tail" at aof_damage.pos. ST_OK,
 * ST_ENOENT, ST_EINVAL, ST_EIO. */
int aof_truncate(const struct vfs *v, const char *path, uint64_t size);

#endif
