/*
 * aof.c -- the append log format (engine/aof.h): a writer that appends
 * command records in memory and writes and syncs them when told, and a
 * reader that returns them in order and, at a bad record, tells a torn tail
 * (a crash) from damage in the middle (lost durable data).
 *
 * What it owns: the byte layout below and its checks, the writer's buffer,
 * the reader's window. Not when to write or sync (the fsync policy is the
 * server's), not what the commands mean (replay runs them), not rewriting
 * (a new file at a later start_offset, written by the caller).
 *
 * ---------------------------------------------------------------------------
 * The format, version 1. Little-endian; i64 two's complement; CRC32C as
 * engine/crc32c.h.
 *
 *   file = header, record*
 *
 * Header (64 bytes):
 *
 *   off  size  field
 *   0    8     magic         "STRAOF01"
 *   8    4     version       1
 *   12   4     header_len    64
 *   16   8     start_offset  logical offset of the first record
 *   24   8     lineage       id of the log lineage
 *   32   8     created_ms    unix ms the file was created (i64)
 *   40   20    reserved      0
 *   60   4     crc           CRC32C of bytes [0, 60)
 *
 * Record (12 + len bytes):
 *
 *   off  size  field
 *   0    4     magic         "SLR1"
 *   4    4     len           payload bytes, 36 .. 0xFFFFFFF0
 *   8    4     crc           CRC32C of bytes [4, 8) (the length) chained with
 *                            the payload [12, 12 + len)
 *   12   len   payload:
 *     0    8   offset        the record's logical offset: start_offset + the
 *                            bytes of the records before it in this file
 *                            (so it must equal start_offset + its file
 *                            position - 64)
 *     8    8   synced        the logical offset up to which the log had been
 *                            made durable (aof_sync) when the record was
 *                            appended; start_offset <= synced <= offset, and
 *                            never smaller than the record before's
 *     16   8   time_ms       wall clock at execution (i64): replay runs the
 *                            command with this time, so expiry decisions
 *                            repeat exactly
 *     24   2   db            0 .. 65535
 *     26   1   kind          1 = a command
 *     27   1   flags         0
 *     28   4   argc          >= 1
 *     32   ..  argc x (u32 n, n bytes), ending exactly at the payload's end
 *
 * The magic is kept (rather than folded into the length check) because it
 * makes the forward scan after damage cheap -- only places holding "SLR1"
 * are candidates -- and a stray length is then not enough to fake a record.
 *
 * Torn tail or damage. A record that fails any check at file position p
 * ends the valid prefix. The reader then scans forward from p + 1, byte by
 * byte, for records that pass every check (CRC, and an offset field equal
 * to their position: a block of old data that a file system replayed in the
 * wrong place does not pass), walking record by record from each one found:
 *  - if one of them has synced > the logical offset of p, the bytes at p
 *    had been made durable before that record was appended: they are
 *    DAMAGED (media damage, a bug) and the log cannot be trusted past p;
 *  - otherwise -- nothing valid follows, or only records appended while p
 *    was not yet durable (a file system may persist later pages of the last
 *    unsynced writes and not earlier ones) -- it is a TORN TAIL: everything
 *    from p on was appended after the last sync that completed, a power
 *    loss may lose it, and truncating at p leaves exactly the durable
 *    history plus what happened to survive before p.
 * A log written without any aof_sync (fsync policy "no") has synced =
 * start_offset in every record, so damage anywhere in it reads as a torn
 * tail: without a sync nothing was ever promised.
 * The scan's CRC work is bounded (8 x the bytes after p, plus 64 MiB): a
 * crafted file full of candidates cannot make it quadratic; past the budget
 * the answer is AOF_DAMAGED with next_pos 0 (the safe side: nothing is
 * truncated on a guess).
 *
 * Invariants (cited as [An]):
 *  A1. A record is returned only when every check passed; nothing is read
 *      outside a buffer; every length is checked against the bytes left in
 *      the file before anything is allocated for it.
 *  A2. Memory is flat: a 256 KiB window, plus one record's size for a record
 *      larger than that, plus its argument arrays (bounded by its payload).
 *  A3. The writer never writes a record before the ones appended before it,
 *      and its synced field never exceeds what aof_sync has made durable.
 *  A4. After an I/O failure the writer is failed for good (PostgreSQL's
 *      fsync lesson: after a failed fsync the dirty pages may be gone, so a
 *      retry that succeeds proves nothing).
 *
 * Threads: a writer or reader belongs to one thread at a time. Durability:
 * see aof.h. References: Redis 7 src/aof.c (aof-load-truncated: a cut last
 * command is dropped and logged), SQLite src/wal.c (frames with salts and
 * checksums, the valid prefix), PostgreSQL's xlogreader (the first invalid
 * record ends recovery).
 */
#include "engine/aof.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "engine/crc32c.h"
#include "engine/err.h"

#define HDR_MAGIC "STRAOF01"
#define REC_MAGIC "SLR1"
#define WIN (256u * 1024)
#define FIXED 32u /* payload bytes before the arguments */

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void header_encode(unsigned char *p, const struct aof_meta *m)
{
    memset(p, 0, AOF_HDR_SIZE);
    memcpy(p, HDR_MAGIC, 8);
    put32(p + 8, AOF_VERSION);
    put32(p + 12, AOF_HDR_SIZE);
    put64(p + 16, m->start_offset);
    put64(p + 24, m->lineage);
    put64(p + 32, (uint64_t)m->created_ms);
    put32(p + 60, crc32c(0, p, 60));
}

static const char *header_parse(const unsigned char *p, struct aof_meta *m)
{
    if (memcmp(p, HDR_MAGIC, 8) != 0)
        return "not an append log (bad header magic)";
    if (get32(p + 60) != crc32c(0, p, 60))
        return "header CRC mismatch";
    if (get32(p + 8) != AOF_VERSION)
        return "unsupported log version";
    if (get32(p + 12) != AOF_HDR_SIZE)
        return "bad header length";
    for (int i = 40; i < 60; i++)
        if (p[i])
            return "reserved header bytes not zero";
    m->start_offset = get64(p + 16);
    m->lineage = get64(p + 24);
    m->created_ms = (int64_t)get64(p + 32);
    return NULL;
}

static char *dir_of(const char *path)
{
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] != '/')
        n--;
    if (n == 0) {
        char *d = malloc(2);
        if (d)
            memcpy(d, ".", 2);
        return d;
    }
    while (n > 1 && path[n - 1] == '/')
        n--;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */
/* ------------------------------------------------------------------------ */

struct aof_writer {
    const struct vfs *v;
    int h;
    struct aof_meta meta;
    uint64_t pos;      /* file bytes written */
    uint64_t appended; /* logical offsets, as in struct aof_writer_stats */
    uint64_t written;
    uint64_t synced;
    unsigned char *buf;
    size_t len, cap;
    uint64_t records;
    int err;           /* sticky ST_EIO [A4] */
};

static struct aof_writer *writer_new(const struct vfs *v, const struct aof_meta *m, int h, uint64_t pos)
{
    struct aof_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->v = v;
    w->h = h;
    w->meta = *m;
    w->pos = pos;
    w->appended = w->written = w->synced = m->start_offset + (pos - AOF_HDR_SIZE);
    return w;
}

int aof_writer_open(const struct vfs *v, const char *path, const struct aof_meta *meta, struct aof_writer **out)
{
    unsigned char hdr[AOF_HDR_SIZE];
    char *dir = NULL;
    int h, rc;

    *out = NULL;
    if (!v || !path || !*path || !meta)
        return ST_EINVAL;
    dir = dir_of(path);
    if (!dir)
        return ST_ENOMEM;
    h = vfs_open(v, path, O_WRONLY | O_CREAT | O_EXCL, 0, 0644, NULL);
    if (h < 0) {
        free(dir);
        return h == -EEXIST ? ST_EEXIST : ST_EIO;
    }
    header_encode(hdr, meta);
    if (vfs_pwrite_all(v, h, hdr, sizeof(hdr), 0) < 0 || vfs_sync(v, h) < 0 || v->ops->sync_dir(v, dir) < 0) {
        rc = ST_EIO;
        goto fail;
    }
    *out = writer_new(v, meta, h, AOF_HDR_SIZE);
    if (!*out) {
        rc = ST_ENOMEM;
        goto fail;
    }
    free(dir);
    return ST_OK;

fail:
    vfs_close(v, h);
    free(dir);
    return rc;
}

int aof_writer_reopen(const struct vfs *v, const char *path, struct aof_writer **out, struct aof_meta *meta_out)
{
    struct aof_reader *r;
    struct aof_rec rec;
    struct aof_meta m;
    int rc, h;

    *out = NULL;
    rc = aof_reader_open(v, path, &r, &m);
    if (rc != ST_OK) {
        aof_reader_close(&r);
        return rc;
    }
    while ((rc = aof_next(r, &rec)) == ST_OK)
        ;
    uint64_t end = aof_reader_offset(r);
    aof_reader_close(&r);
    if (rc != ST_ENOENT)
        return rc; /* ST_ECORRUPT: recover first (aof_reader_damage, aof_truncate) */
    h = vfs_open(v, path, O_WRONLY, 0, 0, NULL);
    if (h < 0)
        return h == -ENOENT ? ST_ENOENT : ST_EIO;
    uint64_t pos = AOF_HDR_SIZE + (end - m.start_offset);
    int64_t size = v->ops->size(v, h);
    if (size < 0 || (uint64_t)size != pos || vfs_sync(v, h) < 0) {
        vfs_close(v, h);
        return size >= 0 && (uint64_t)size != pos ? ST_ECORRUPT : ST_EIO; /* it changed under us */
    }
    *out = writer_new(v, &m, h, pos);
    if (!*out) {
        vfs_close(v, h);
        return ST_ENOMEM;
    }
    if (meta_out)
        *meta_out = m;
    return ST_OK;
}

size_t aof_rec_size(uint32_t argc, const size_t *argvlen)
{
    size_t n = AOF_REC_HDR + FIXED;
    for (uint32_t i = 0; i < argc; i++)
        n += 4 + argvlen[i];
    return n;
}

int aof_append(struct aof_writer *w, int64_t time_ms, uint32_t db, uint32_t argc, const char *const *argv,
               const size_t *argvlen, uint64_t *offset_out)
{
    uint64_t plen = FIXED;

    if (w->err)
        return w->err;
    if (db > 0xFFFF || argc == 0 || !argv || !argvlen)
        return ST_EINVAL;
    for (uint32_t i = 0; i < argc; i++) {
        if (!argv[i] && argvlen[i])
            return ST_EINVAL;
        plen += 4 + (uint64_t)argvlen[i];
        if (plen > AOF_PAYLOAD_MAX)
            return ST_ETOOBIG;
    }
    size_t need = w->len + AOF_REC_HDR + (size_t)plen;
    if (need > w->cap) {
        size_t cap = w->cap ? w->cap : 64 * 1024;
        while (cap < need)
            cap *= 2;
        unsigned char *b = realloc(w->buf, cap);
        if (!b)
            return ST_ENOMEM;
        w->buf = b;
        w->cap = cap;
    }
    unsigned char *p = w->buf + w->len, *q = p + AOF_REC_HDR;
    memcpy(p, REC_MAGIC, 4);
    put32(p + 4, (uint32_t)plen);
    put64(q, w->appended);
    put64(q + 8, w->synced); /* [A3] what is durable now, never more */
    put64(q + 16, (uint64_t)time_ms);
    put16(q + 24, (uint16_t)db);
    q[26] = AOF_KIND_COMMAND;
    q[27] = 0;
    put32(q + 28, argc);
    size_t off = FIXED;
    for (uint32_t i = 0; i < argc; i++) {
        put32(q + off, (uint32_t)argvlen[i]);
        if (argvlen[i])
            memcpy(q + off + 4, argv[i], argvlen[i]);
        off += 4 + argvlen[i];
    }
    put32(p + 8, crc32c(crc32c(0, p + 4, 4), q, (size_t)plen));
    if (offset_out)
        *offset_out = w->appended;
    w->len = need;
    w->appended += AOF_REC_HDR + plen;
    w->records++;
    return ST_OK;
}

int aof_write(struct aof_writer *w)
{
    if (w->err)
        return w->err;
    if (w->len == 0)
        return ST_OK;
    if (vfs_pwrite_all(w->v, w->h, w->buf, w->len, w->pos) < 0)
        return w->err = ST_EIO;
    w->pos += w->len;
    w->written = w->appended;
    w->len = 0;
    if (w->cap > 16u * 1024 * 1024) { /* after a huge record, do not keep its buffer */
        free(w->buf);
        w->buf = NULL;
        w->cap = 0;
    }
    return ST_OK;
}

int aof_sync(struct aof_writer *w)
{
    if (w->err)
        return w->err;
    if (w->synced == w->written)
        return ST_OK;
    if (vfs_sync(w->v, w->h) < 0)
        return w->err = ST_EIO;
    w->synced = w->written;
    return ST_OK;
}

uint64_t aof_offset(const struct aof_writer *w)
{
    return w->appended;
}

void aof_writer_stats(const struct aof_writer *w, struct aof_writer_stats *out)
{
    out->appended = w->appended;
    out->written = w->written;
    out->synced = w->synced;
    out->buffered = w->len;
    out->records = w->records;
}

int aof_writer_close(struct aof_writer **wp)
{
    struct aof_writer *w = wp ? *wp : NULL;
    int rc;

    if (!w)
        return ST_OK;
    rc = aof_write(w);
    if (rc == ST_OK)
        rc = aof_sync(w);
    if (vfs_close(w->v, w->h) < 0 && rc == ST_OK)
        rc = ST_EIO;
    free(w->buf);
    free(w);
    *wp = NULL;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                   */
/* ------------------------------------------------------------------------ */

struct aof_reader {
    const struct vfs *v;
    int h;
    struct aof_meta meta;
    uint64_t size;       /* file size at open */
    uint64_t pos;        /* file offset of the next record */
    uint64_t synced_seen;
    unsigned char *win;  /* [woff, woff + wlen) of the file */
    uint64_t woff;
    size_t wlen;
    unsigned char *big;  /* one record larger than the window */
    size_t bigcap;
    const char **argv;
    size_t *argvlen;
    size_t argcap;
    uint64_t crc_budget; /* scan work left (bytes to CRC) */
    int rc;              /* sticky failure */
    struct aof_damage dmg;
};

/* A record found valid at some position. */
struct parsed {
    const unsigned char *p; /* the whole record */
    uint32_t len;           /* payload bytes */
    uint64_t synced;
};

static uint64_t logical(const struct aof_reader *r, uint64_t pos)
{
    return r->meta.start_offset + (pos - AOF_HDR_SIZE);
}

/* Bytes [off, off + n) of the file (n <= size - off) in memory: the window
 * or, past its size, the big buffer. ST_OK with *out, ST_EIO, ST_ENOMEM. */
static int fetch(struct aof_reader *r, uint64_t off, size_t n, const unsigned char **out)
{
    if (off >= r->woff && off + n <= r->woff + r->wlen) {
        *out = r->win + (off - r->woff);
        return ST_OK;
    }
    if (n <= WIN) {
        size_t want = r->size - off < WIN ? (size_t)(r->size - off) : WIN;
        ssize_t got = vfs_pread_full(r->v, r->h, r->win, want, off);
        r->woff = off;
        r->wlen = got > 0 ? (size_t)got : 0;
        if (got < 0 || (size_t)got < n) {
            r->wlen = 0;
            return ST_EIO; /* shorter than at open, or failed */
        }
        *out = r->win;
        return ST_OK;
    }
    if (n > r->bigcap || (r->bigcap > 4 * (size_t)WIN && n < r->bigcap / 4)) {
        unsigned char *b = malloc(n);
        if (!b)
            return ST_ENOMEM;
        free(r->big);
        r->big = b;
        r->bigcap = n;
    }
    ssize_t got = vfs_pread_full(r->v, r->h, r->big, n, off);
    if (got < 0 || (size_t)got != n)
        return ST_EIO;
    *out = r->big;
    return ST_OK;
}

/* Checks the record at file offset pos [A1]: 1 valid (*pr filled), 0 not
 * (*why says why), or a negative ST_E* (I/O, memory). With budget, CRC work
 * is charged to r->crc_budget and a candidate beyond it is "not valid" with
 * *why NULL. */
static int rec_at(struct aof_reader *r, uint64_t pos, struct parsed *pr, const char **why, int budget)
{
    const unsigned char *p;
    int rc;

    *why = NULL;
    if (r->size - pos < AOF_REC_HDR) {
        *why = "partial record header at the end of the file";
        return 0;
    }
    if ((rc = fetch(r, pos, AOF_REC_HDR, &p)) < 0)
        return rc;
    if (memcmp(p, REC_MAGIC, 4) != 0) {
        *why = "bad record magic";
        return 0;
    }
    uint32_t len = get32(p + 4);
    if (len < AOF_PAYLOAD_MIN || len > AOF_PAYLOAD_MAX) {
        *why = "record length out of range";
        return 0;
    }
    if ((uint64_t)len > r->size - pos - AOF_REC_HDR) {
        *why = "record runs past the end of the file";
        return 0;
    }
    /* the offset field first: it is cheap, and a candidate in the wrong place fails it */
    if ((rc = fetch(r, pos, AOF_REC_HDR + 8, &p)) < 0)
        return rc;
    if (get64(p + AOF_REC_HDR) != logical(r, pos)) {
        *why = "record offset does not match its place in the file";
        return 0;
    }
    if (budget) {
        if (r->crc_budget < len)
            return 0;
        r->crc_budget -= len;
    }
    if ((rc = fetch(r, pos, AOF_REC_HDR + (size_t)len, &p)) < 0)
        return rc;
    const unsigned char *q = p + AOF_REC_HDR;
    if (crc32c(crc32c(0, p + 4, 4), q, len) != get32(p + 8)) {
        *why = "record CRC mismatch";
        return 0;
    }
    uint64_t off = get64(q), synced = get64(q + 8);
    if (synced < r->meta.start_offset || synced > off) {
        *why = "record synced offset out of range";
        return 0;
    }
    if (q[26] != AOF_KIND_COMMAND || q[27] != 0) {
        *why = "unknown record kind or flags";
        return 0;
    }
    uint32_t argc = get32(q + 28);
    if (argc == 0 || argc > (len - FIXED) / 4) {
        *why = "argument count out of range";
        return 0;
    }
    size_t cur = FIXED;
    for (uint32_t i = 0; i < argc; i++) {
        if (len - cur < 4) {
            *why = "arguments run past the record";
            return 0;
        }
        uint32_t n = get32(q + cur);
        cur += 4;
        if (n > len - cur) {
            *why = "arguments run past the record";
            return 0;
        }
        cur += n;
    }
    if (cur != len) {
        *why = "bytes after the last argument";
        return 0;
    }
    pr->p = p;
    pr->len = len;
    pr->synced = synced;
    return 1;
}

/* The first position >= from (< size - 11) holding the record magic, or size. */
static int find_magic(struct aof_reader *r, uint64_t from, uint64_t *at)
{
    while (from + AOF_REC_HDR <= r->size) {
        size_t n = r->size - from < WIN ? (size_t)(r->size - from) : WIN;
        const unsigned char *p;
        int rc = fetch(r, from, n, &p);
        if (rc < 0)
            return rc;
        const unsigned char *m = memmem(p, n, REC_MAGIC, 4);
        if (m) {
            *at = from + (uint64_t)(m - p);
            return ST_OK;
        }
        if (n < WIN)
            break;
        from += n - 3;
    }
    *at = r->size;
    return ST_OK;
}

static int fail(struct aof_reader *r, int rc, int kind, uint64_t pos, const char *what)
{
    r->rc = rc;
    memset(&r->dmg, 0, sizeof(r->dmg));
    r->dmg.kind = kind;
    r->dmg.pos = pos;
    r->dmg.offset = pos >= AOF_HDR_SIZE ? logical(r, pos) : 0;
    r->dmg.what = what;
    return rc;
}

/* The record at p is bad: torn tail or damage (see the essay). */
static int classify(struct aof_reader *r, uint64_t p, const char *why)
{
    uint64_t lp = logical(r, p), q = p + 1, first = 0;
    struct parsed pr;
    const char *w;
    int rc;

    r->crc_budget = 8 * (r->size - p) + (64u << 20);
    while (q + AOF_REC_HDR + AOF_PAYLOAD_MIN <= r->size) {
        if ((rc = find_magic(r, q, &q)) < 0)
            return fail(r, rc == ST_ENOMEM ? ST_ENOMEM : ST_EIO, AOF_IO_ERROR, q, "read failed");
        if (q + AOF_REC_HDR + AOF_PAYLOAD_MIN > r->size)
            break;
        int v = rec_at(r, q, &pr, &w, 1);
        if (v < 0)
            return fail(r, v == ST_ENOMEM ? ST_ENOMEM : ST_EIO, AOF_IO_ERROR, q, "read failed");
        if (v == 0) {
            if (!w) { /* out of budget: do not guess a torn tail */
                fail(r, ST_ECORRUPT, AOF_DAMAGED, p, why);
                return ST_ECORRUPT;
            }
            q++;
            continue;
        }
        if (!first)
            first = q;
        if (pr.synced > lp) {
            fail(r, ST_ECORRUPT, AOF_DAMAGED, p, why);
            r->dmg.next_pos = first;
            r->dmg.next_offset = logical(r, first);
            return ST_ECORRUPT;
        }
        q += AOF_REC_HDR + pr.len;
    }
    return fail(r, ST_ECORRUPT, AOF_TORN_TAIL, p, why);
}

int aof_reader_open(const struct vfs *v, const char *path, struct aof_reader **out, struct aof_meta *meta)
{
    struct aof_reader *r;
    unsigned char hdr[AOF_HDR_SIZE];
    const char *why;

    *out = NULL;
    if (!v || !path)
        return ST_EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return ST_ENOMEM;
    r->v = v;
    r->win = malloc(WIN);
    if (!r->win) {
        free(r);
        return ST_ENOMEM;
    }
    r->h = vfs_open(v, path, O_RDONLY, 0, 0, NULL);
    if (r->h < 0) {
        int enoent = r->h == -ENOENT;
        if (enoent) {
            free(r->win);
            free(r);
            return ST_ENOENT;
        }
        *out = r;
        return fail(r, ST_EIO, AOF_IO_ERROR, 0, "open failed");
    }
    *out = r;
    int64_t size = v->ops->size(v, r->h);
    if (size < 0)
        return fail(r, ST_EIO, AOF_IO_ERROR, 0, "size failed");
    r->size = (uint64_t)size;
    if (r->size < AOF_HDR_SIZE)
        return fail(r, ST_ECORRUPT, AOF_BAD_HEADER, 0, "file shorter than a log header");
    ssize_t got = vfs_pread_full(v, r->h, hdr, sizeof(hdr), 0);
    if (got != (ssize_t)sizeof(hdr))
        return fail(r, ST_EIO, AOF_IO_ERROR, 0, "read failed");
    if ((why = header_parse(hdr, &r->meta)) != NULL)
        return fail(r, ST_ECORRUPT, AOF_BAD_HEADER, 0, why);
    if (r->meta.start_offset > UINT64_MAX - r->size)
        return fail(r, ST_ECORRUPT, AOF_BAD_HEADER, 0, "start offset too large for the file");
    r->pos = AOF_HDR_SIZE;
    r->synced_seen = r->meta.start_offset;
    if (meta)
        *meta = r->meta;
    return ST_OK;
}

int aof_next(struct aof_reader *r, struct aof_rec *rec)
{
    struct parsed pr;
    const char *why;

    if (r->rc)
        return r->rc;
    if (r->pos == r->size)
        return ST_ENOENT;
    int v = rec_at(r, r->pos, &pr, &why, 0);
    if (v < 0)
        return v == ST_ENOMEM ? ST_ENOMEM : fail(r, ST_EIO, AOF_IO_ERROR, r->pos, "read failed");
    if (v == 1 && pr.synced < r->synced_seen) {
        v = 0;
        why = "record synced offset goes backwards";
    }
    if (v == 0)
        return classify(r, r->pos, why);
    const unsigned char *q = pr.p + AOF_REC_HDR;
    uint32_t argc = get32(q + 28);
    if (argc > r->argcap) {
        const char **a = malloc(argc * sizeof(*a));
        size_t *l = malloc(argc * sizeof(*l));
        if (!a || !l) {
            free(a);
            free(l);
            return ST_ENOMEM;
        }
        free(r->argv);
        free(r->argvlen);
        r->argv = a;
        r->argvlen = l;
        r->argcap = argc;
    }
    size_t cur = FIXED;
    for (uint32_t i = 0; i < argc; i++) {
        uint32_t n = get32(q + cur);
        r->argvlen[i] = n;
        r->argv[i] = (const char *)q + cur + 4;
        cur += 4 + n;
    }
    rec->offset = get64(q);
    rec->end_offset = rec->offset + AOF_REC_HDR + pr.len;
    rec->synced = pr.synced;
    rec->time_ms = (int64_t)get64(q + 16);
    rec->db = get16(q + 24);
    rec->kind = q[26];
    rec->flags = q[27];
    rec->argc = argc;
    rec->argv = r->argv;
    rec->argvlen = r->argvlen;
    r->synced_seen = pr.synced;
    r->pos += AOF_REC_HDR + pr.len;
    return ST_OK;
}

void aof_reader_damage(const struct aof_reader *r, struct aof_damage *d)
{
    if (r->rc)
        *d = r->dmg;
    else
        memset(d, 0, sizeof(*d));
}

int aof_reader_resume(struct aof_reader *r)
{
    if (r->rc != ST_ECORRUPT || r->dmg.kind != AOF_DAMAGED || r->dmg.next_pos == 0)
        return ST_EINVAL;
    r->pos = r->dmg.next_pos;
    r->rc = 0;
    memset(&r->dmg, 0, sizeof(r->dmg));
    return ST_OK;
}

uint64_t aof_reader_offset(const struct aof_reader *r)
{
    return r->pos >= AOF_HDR_SIZE ? logical(r, r->pos) : r->meta.start_offset;
}

void aof_reader_close(struct aof_reader **rp)
{
    struct aof_reader *r = rp ? *rp : NULL;
    if (!r)
        return;
    if (r->h >= 0)
        vfs_close(r->v, r->h);
    free(r->win);
    free(r->big);
    free(r->argv);
    free(r->argvlen);
    free(r);
    *rp = NULL;
}

int aof_truncate(const struct vfs *v, const char *path, uint64_t size)
{
    int h, rc = ST_OK;

    if (!v || !path || size < AOF_HDR_SIZE)
        return ST_EINVAL;
    h = vfs_open(v, path, O_WRONLY, 0, 0, NULL);
    if (h < 0)
        return h == -ENOENT ? ST_ENOENT : ST_EIO;
    int64_t cur = v->ops->size(v, h);
    if (cur < 0)
        rc = ST_EIO;
    else if ((uint64_t)cur < size)
        rc = ST_EINVAL;
    else if ((uint64_t)cur > size && (v->ops->truncate(v, h, size) < 0 || vfs_sync(v, h) < 0))
        rc = ST_EIO;
    if (vfs_close(v, h) < 0 && rc == ST_OK)
        rc = ST_EIO;
    return rc;
}
