/*
 * snap.c -- the snapshot file format (engine/snap.h): a streaming writer that
 * makes a new snapshot durable atomically, a streaming reader that checks
 * everything before it believes it, and a verifier that walks a damaged file
 * to say what is wrong and how much is still readable.
 *
 * What it owns: the byte layout below and its checks; the writer's open
 * blocks; the reader's one-block buffers. Not what the bytes mean: hot values
 * are engine/serial.h bytes and cold records engine/tier.h records, both
 * opaque here except that a cold record must decode (tier_rec_decode) and
 * match its index entry. Not when to snapshot, nor how a loader uses items
 * (the server's persistence code).
 *
 * ---------------------------------------------------------------------------
 * The format, version 1. Little-endian throughout; i64 two's complement;
 * CRC32C as engine/crc32c.h (Castagnoli, initial 0, chained).
 *
 *   file = header, block*, footer
 *
 * Header (64 bytes, at offset 0):
 *
 *   off  size  field
 *   0    8     magic        "STRSNP01"
 *   8    4     version      1
 *   12   4     header_len   64 (bytes of the header, its CRC included)
 *   16   8     created_ms   unix ms the snapshot stands at (i64)
 *   24   8     log_offset   the append-log offset the snapshot stands at
 *   32   8     lineage      id of the log lineage this snapshot belongs to
 *   40   4     databases    1 .. 65536; every item's db is below it
 *   44   4     flags        0 (no flag defined in version 1)
 *   48   12    reserved     0
 *   60   4     crc          CRC32C of bytes [0, 60)
 *
 * Block (a 32-byte header, then part A, then part B):
 *
 *   off  size  field
 *   0    4     magic        "SBK1"
 *   4    1     kind         1 HOT, 2 COLD, 3 DICT, 4 AUX
 *   5    3     reserved     0
 *   8    4     count        items in the block, >= 1
 *   12   4     len_a        bytes of part A
 *   16   4     len_b        bytes of part B (0 unless COLD)
 *   20   4     crc_a        CRC32C of part A
 *   24   4     crc_b        CRC32C of part B (0 when len_b is 0)
 *   28   4     hcrc         CRC32C of bytes [0, 28) of this header
 *   32   len_a part A       count items, back to back, exactly len_a bytes
 *   ..   len_b part B
 *
 * Items in part A, by kind:
 *
 *   HOT   u16 db, u8 type (enum obj_type, 0..4), u8 flags (bit 0: an expiry
 *         follows; other bits 0), [i64 expire_ms >= 0, only with bit 0],
 *         u32 klen (1 .. TIER_KEY_MAX), key, u32 vlen, the serialised value
 *         (engine/serial.h, opaque here)                  12 (+8) + klen + vlen
 *   COLD  (the index) u16 db, u8 tier (0 other, 1 pmem, 2 ssd:
 *         informational), u8 flags (0), i64 expire_ms (-1 none; the key's
 *         authoritative expiry, which may differ from the record's own),
 *         u32 klen, key, u64 gen (the record's), u32 rec_crc (the record's own
 *         CRC field, its bytes 4..8), u32 reclen, u32 data_off (where the
 *         record starts in part B)                              36 + klen
 *         Part B holds the records (engine/tier.h STR1 bytes, unchanged),
 *         concatenated in index order: data_off of entry i is the sum of the
 *         reclen before it, and the reclen sum is len_b.
 *   DICT  u32 id (> 0), u32 len (> 0), the dictionary bytes      8 + len
 *   AUX   u32 klen (> 0), name, u32 vlen, value                  8 + klen + vlen
 *
 * Footer (64 bytes, the last of the file):
 *
 *   off  size  field
 *   0    8     magic         "STRSEND1"
 *   8    8     keys          hot + cold
 *   16   8     hot           HOT items
 *   24   8     cold          COLD items
 *   32   8     blocks        blocks
 *   40   4     crc_all       CRC32C chained over every byte before the footer
 *   44   4     crc_skeleton  the same over the header and every block except
 *                            COLD blocks' part B
 *   48   8     footer_off    this footer's own offset (= file size - 64)
 *   56   4     reserved      0
 *   60   4     crc           CRC32C of bytes [0, 60) of the footer
 *
 * The split of a COLD block lets a loader read only part A (keys,
 * generations, CRCs) and seek over part B when it can take the records from
 * elsewhere (a warm restart re-attaching PMem/SSD records whose key, gen and
 * crc match); crc_skeleton then still covers everything it read.
 *
 * Blocks are closed at about SNAP_BLOCK_TARGET (1 MiB) of payload; an item
 * larger than that gets a block of its own, written straight from the
 * caller's memory. The writer keeps one open block per kind (so interleaved
 * hot and cold keys do not make small blocks) and, before it writes a HOT or
 * COLD block, writes the open AUX and DICT blocks: so a reader meets every
 * dictionary and aux field before any key written after it.
 *
 * Invariants (cited as [Pn]):
 *  P1. Every byte of the file is covered by exactly one unit CRC (header,
 *      block header, part A, part B, footer), and the unit is checked before
 *      any of its bytes is used; so any single damaged byte is reported at
 *      the offset of the unit holding it, and never returned in an item.
 *  P2. A block is checked whole (CRCs, every item's structure and ranges,
 *      and unless skipped every record against its index entry) before its
 *      first item is returned.
 *  P3. Every length is checked, in 64 bits, against the bytes that remain
 *      before the footer before anything is allocated or read for it: the
 *      reader never allocates more than the file still holds, never reads
 *      outside a buffer, and every loop is bounded by the bytes it consumes.
 *  P4. The end is only "clean" (ST_ENOENT) when the footer's counts and
 *      chained CRCs equal what was read: a missing, extra, reordered or
 *      duplicated block is damage even when each block is valid by itself.
 *  P5. The writer writes only the temporary file until it is complete and
 *      synced; the final path changes by one rename, made durable by a sync
 *      of the directory: a crash leaves the previous file or the new one,
 *      each whole (tests/unit/engine/test_snap.c checks this under faultfs
 *      at every step).
 *  P6. After a failure the reader's state is sticky (SQLite's rule: do not
 *      guess after an error); the writer's is after an I/O failure.
 *
 * Compatibility: a reader of version v reads the versions <= v it knows and
 * refuses others; unknown kinds, flags and non-zero reserved bytes are
 * damage in version 1 (a later version that needs them changes the version).
 * tests/fixtures/snap-v1.sts is a version 1 file kept forever.
 *
 * Chained CRCs cost no second pass: each piece's CRC is computed once and
 * folded in with crc32c_combine.
 *
 * Threads: a writer or a reader belongs to one thread at a time; no shared
 * state. Durability: see snap_writer_commit in snap.h; nothing else here
 * makes anything durable.
 *
 * References: SQLite src/wal.c (a format essay; checksums checked before
 * use); Redis src/rdb.c (aux fields, a whole-file checksum, the temp file
 * renamed into place); RocksDB's block-based table (fixed block headers
 * with per-block CRCs).
 */
#include "engine/snap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "engine/crc32c.h"
#include "engine/entry.h"
#include "engine/err.h"
#include "engine/tier.h"

#define HDR_MAGIC "STRSNP01"
#define FTR_MAGIC "STRSEND1"
#define BLK_MAGIC "SBK1"

#define HOT_MIN 13u  /* 12 + a 1-byte key */
#define COLD_MIN 37u /* 36 + a 1-byte key */
#define DICT_MIN 9u
#define AUX_MIN 9u
#define HOT_F_EXPIRE 0x01
#define SCAN_WIN (64u * 1024)

/* ------------------------------------------------------------------------ */
/* Little-endian fields                                                     */
/* ------------------------------------------------------------------------ */

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

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Units shared by writer, reader and verifier                              */
/* ------------------------------------------------------------------------ */

struct bhdr {
    int kind;
    uint32_t count, len_a, len_b, crc_a, crc_b;
};

struct footer {
    uint64_t keys, hot, cold, blocks, off;
    uint32_t crc_all, crc_skel;
};

static void header_encode(unsigned char *p, const struct snap_meta *m)
{
    memset(p, 0, SNAP_HDR_SIZE);
    memcpy(p, HDR_MAGIC, 8);
    put32(p + 8, SNAP_VERSION);
    put32(p + 12, SNAP_HDR_SIZE);
    put64(p + 16, (uint64_t)m->created_ms);
    put64(p + 24, m->log_offset);
    put64(p + 32, m->lineage);
    put32(p + 40, m->databases);
    put32(p + 44, m->flags);
    put32(p + 60, crc32c(0, p, 60));
}

/* NULL when p (64 bytes) is a valid version 1 header, else why not. */
static const char *header_parse(const unsigned char *p, struct snap_meta *m)
{
    if (memcmp(p, HDR_MAGIC, 8) != 0)
        return "not a snapshot (bad header magic)";
    if (get32(p + 60) != crc32c(0, p, 60))
        return "header CRC mismatch";
    if (get32(p + 8) != SNAP_VERSION)
        return "unsupported snapshot version";
    if (get32(p + 12) != SNAP_HDR_SIZE)
        return "bad header length";
    if (!all_zero(p + 48, 12))
        return "reserved header bytes not zero";
    uint32_t dbs = get32(p + 40), flags = get32(p + 44);
    if (dbs == 0 || dbs > SNAP_DATABASES_MAX)
        return "database count out of range";
    if (flags != 0)
        return "unknown header flags";
    memset(m, 0, sizeof(*m));
    m->created_ms = (int64_t)get64(p + 16);
    m->log_offset = get64(p + 24);
    m->lineage = get64(p + 32);
    m->databases = dbs;
    m->flags = flags;
    return NULL;
}

static void footer_encode(unsigned char *p, const struct footer *f)
{
    memset(p, 0, SNAP_FOOTER_SIZE);
    memcpy(p, FTR_MAGIC, 8);
    put64(p + 8, f->keys);
    put64(p + 16, f->hot);
    put64(p + 24, f->cold);
    put64(p + 32, f->blocks);
    put32(p + 40, f->crc_all);
    put32(p + 44, f->crc_skel);
    put64(p + 48, f->off);
    put32(p + 60, crc32c(0, p, 60));
}

/* NULL when p (64 bytes, read at offset off of a file of size bytes) is a
 * valid footer that ends the file, else why not. */
static const char *footer_parse(const unsigned char *p, uint64_t off, uint64_t size, struct footer *f)
{
    if (memcmp(p, FTR_MAGIC, 8) != 0)
        return "no footer at the end of the file (truncated or not finished)";
    if (get32(p + 60) != crc32c(0, p, 60))
        return "footer CRC mismatch";
    if (!all_zero(p + 56, 4))
        return "reserved footer bytes not zero";
    f->keys = get64(p + 8);
    f->hot = get64(p + 16);
    f->cold = get64(p + 24);
    f->blocks = get64(p + 32);
    f->crc_all = get32(p + 40);
    f->crc_skel = get32(p + 44);
    f->off = get64(p + 48);
    if (f->off != off || off + SNAP_FOOTER_SIZE != size)
        return "footer offset does not match its place";
    if (f->hot > f->keys || f->keys - f->hot != f->cold)
        return "footer key counts disagree";
    if (f->blocks > (size - SNAP_HDR_SIZE - SNAP_FOOTER_SIZE) / SNAP_BLOCK_HDR_SIZE ||
        f->keys > size / HOT_MIN)
        return "footer counts larger than the file can hold";
    return NULL;
}

static void bhdr_encode(unsigned char *p, const struct bhdr *b)
{
    memcpy(p, BLK_MAGIC, 4);
    p[4] = (unsigned char)b->kind;
    p[5] = p[6] = p[7] = 0;
    put32(p + 8, b->count);
    put32(p + 12, b->len_a);
    put32(p + 16, b->len_b);
    put32(p + 20, b->crc_a);
    put32(p + 24, b->crc_b);
    put32(p + 28, crc32c(0, p, 28));
}

static uint32_t item_min(int kind)
{
    switch (kind) {
    case SNAP_HOT:
        return HOT_MIN;
    case SNAP_COLD:
        return COLD_MIN;
    case SNAP_DICT:
        return DICT_MIN;
    default:
        return AUX_MIN;
    }
}

/* NULL when p (32 bytes at file offset off) is a valid block header whose
 * block ends at or before limit, else why not [P3]. */
static const char *bhdr_parse(const unsigned char *p, uint64_t off, uint64_t limit, struct bhdr *b)
{
    if (memcmp(p, BLK_MAGIC, 4) != 0)
        return "bad block magic";
    if (get32(p + 28) != crc32c(0, p, 28))
        return "block header CRC mismatch";
    b->kind = p[4];
    if (b->kind < SNAP_HOT || b->kind > SNAP_AUX)
        return "unknown block kind";
    if (p[5] || p[6] || p[7])
        return "reserved block header bytes not zero";
    b->count = get32(p + 8);
    b->len_a = get32(p + 12);
    b->len_b = get32(p + 16);
    b->crc_a = get32(p + 20);
    b->crc_b = get32(p + 24);
    if (b->count == 0)
        return "empty block";
    if (b->kind != SNAP_COLD && (b->len_b != 0 || b->crc_b != 0))
        return "part B in a block kind that has none";
    if (off + SNAP_BLOCK_HDR_SIZE + (uint64_t)b->len_a + b->len_b > limit)
        return "block runs past the end of the blocks";
    if (b->count > b->len_a / item_min(b->kind))
        return "item count larger than part A can hold";
    return NULL;
}

/* Parses one item of kind at p (left bytes of part A remain), checking its
 * structure and ranges; for COLD, *run is the part B offset the entry must
 * start at (advanced past it) and len_b bounds it. Returns the item's size,
 * or 0 with *why set. it may be NULL (validation only). */
static size_t item_parse(int kind, const unsigned char *p, size_t left, uint32_t databases, uint64_t *run,
                         uint32_t len_b, struct snap_item *it, const char **why)
{
    struct snap_item x;
    size_t n = 0;
    uint64_t klen, vlen;

    memset(&x, 0, sizeof(x));
    x.kind = kind;
    x.expire_ms = -1;
    switch (kind) {
    case SNAP_HOT:
        if (left < HOT_MIN)
            goto trunc;
        x.db = get16(p);
        x.type = p[2];
        if (x.db >= databases) {
            *why = "db out of range";
            return 0;
        }
        if (x.type >= OBJ_TYPE_MAX) {
            *why = "unknown value type";
            return 0;
        }
        if (p[3] & ~HOT_F_EXPIRE) {
            *why = "unknown item flags";
            return 0;
        }
        n = 4;
        if (p[3] & HOT_F_EXPIRE) {
            if (left < n + 8 + 8)
                goto trunc;
            x.expire_ms = (int64_t)get64(p + n);
            if (x.expire_ms < 0) {
                *why = "negative expiry";
                return 0;
            }
            n += 8;
        }
        klen = get32(p + n);
        n += 4;
        if (klen == 0 || klen > TIER_KEY_MAX) {
            *why = "key length out of range";
            return 0;
        }
        if (left - n < klen + 4)
            goto trunc;
        x.key = (const char *)p + n;
        x.klen = (uint32_t)klen;
        n += (size_t)klen;
        vlen = get32(p + n);
        n += 4;
        if (left - n < vlen)
            goto trunc;
        x.val = p + n;
        x.vlen = (uint32_t)vlen;
        n += (size_t)vlen;
        break;
    case SNAP_COLD:
        if (left < COLD_MIN)
            goto trunc;
        x.db = get16(p);
        x.tier = p[2];
        if (x.db >= databases) {
            *why = "db out of range";
            return 0;
        }
        if (x.tier > SNAP_TIER_SSD) {
            *why = "unknown tier";
            return 0;
        }
        if (p[3]) {
            *why = "unknown item flags";
            return 0;
        }
        x.expire_ms = (int64_t)get64(p + 4);
        if (x.expire_ms < -1) {
            *why = "negative expiry";
            return 0;
        }
        klen = get32(p + 12);
        n = 16;
        if (klen == 0 || klen > TIER_KEY_MAX) {
            *why = "key length out of range";
            return 0;
        }
        if (left - n < klen + 20)
            goto trunc;
        x.key = (const char *)p + n;
        x.klen = (uint32_t)klen;
        n += (size_t)klen;
        x.gen = get64(p + n);
        x.rec_crc = get32(p + n + 8);
        x.reclen = get32(p + n + 12);
        x.data_off_ = get32(p + n + 16);
        n += 20;
        if (x.reclen < TIER_REC_HDR + klen) {
            *why = "record length shorter than its key";
            return 0;
        }
        if (x.data_off_ != *run || *run + x.reclen > len_b) {
            *why = "index entry does not follow the records in part B";
            return 0;
        }
        *run += x.reclen;
        break;
    case SNAP_DICT:
        if (left < DICT_MIN)
            goto trunc;
        x.dict_id = get32(p);
        vlen = get32(p + 4);
        if (x.dict_id == 0) {
            *why = "dictionary id 0";
            return 0;
        }
        if (vlen == 0) {
            *why = "empty dictionary";
            return 0;
        }
        if (left - 8 < vlen)
            goto trunc;
        x.val = p + 8;
        x.vlen = (uint32_t)vlen;
        n = 8 + (size_t)vlen;
        break;
    case SNAP_AUX:
        if (left < AUX_MIN)
            goto trunc;
        klen = get32(p);
        if (klen == 0) {
            *why = "empty aux name";
            return 0;
        }
        if (left - 4 < klen + 4)
            goto trunc;
        x.key = (const char *)p + 4;
        x.klen = (uint32_t)klen;
        n = 4 + (size_t)klen;
        vlen = get32(p + n);
        n += 4;
        if (left - n < vlen)
            goto trunc;
        x.val = p + n;
        x.vlen = (uint32_t)vlen;
        n += (size_t)vlen;
        break;
    default:
        *why = "unknown block kind";
        return 0;
    }
    if (it)
        *it = x;
    return n;
trunc:
    *why = "item runs past the end of part A";
    return 0;
}

/* Checks a whole part A [P2]: count items exactly filling len_a; for COLD the
 * index covering part B exactly. NULL or why not, with *bad the offset of
 * the offending item in part A. */
static const char *parta_check(const struct bhdr *b, const unsigned char *a, uint32_t databases, size_t *bad)
{
    size_t cur = 0;
    uint64_t run = 0;
    const char *why = NULL;

    for (uint32_t i = 0; i < b->count; i++) {
        size_t n = item_parse(b->kind, a + cur, b->len_a - cur, databases, &run, b->len_b, NULL, &why);
        if (n == 0) {
            *bad = cur;
            return why;
        }
        cur += n;
    }
    *bad = cur;
    if (cur != b->len_a)
        return "part A holds more than its items";
    if (b->kind == SNAP_COLD && run != b->len_b)
        return "index does not cover part B";
    return NULL;
}

/* NULL when rec[0..it->reclen) is a whole record matching index entry it. */
static const char *rec_check(const struct snap_item *it, const unsigned char *rec)
{
    struct tier_rec tr;
    size_t used = 0;

    if (tier_rec_decode(rec, it->reclen, &tr, &used) != ST_OK || used != it->reclen)
        return "record damaged";
    if (tr.klen != it->klen || memcmp(tr.key, it->key, it->klen) != 0 || tr.gen != it->gen ||
        get32(rec + 4) != it->rec_crc)
        return "record does not match its index entry";
    return NULL;
}

/* Checks every record of a COLD block's part B against part A (both whole
 * and CRC-checked). NULL or why not, *bad the offset in part B. */
static const char *partb_check(const struct bhdr *b, const unsigned char *a, const unsigned char *bb,
                               uint32_t databases, size_t *bad)
{
    size_t cur = 0;
    uint64_t run = 0;
    const char *why = NULL;
    struct snap_item it;

    for (uint32_t i = 0; i < b->count; i++) {
        size_t n = item_parse(SNAP_COLD, a + cur, b->len_a - cur, databases, &run, b->len_b, &it, &why);
        if (n == 0) {
            *bad = 0;
            return why;
        }
        cur += n;
        if ((why = rec_check(&it, bb + it.data_off_)) != NULL) {
            *bad = it.data_off_;
            return why;
        }
    }
    return NULL;
}

/* Grows (or, after a huge block, shrinks) *buf to hold need bytes. */
static int buf_fit(unsigned char **buf, size_t *cap, size_t need)
{
    if (need <= *cap && !(*cap > 4 * (size_t)SNAP_BLOCK_TARGET && need <= 2 * (size_t)SNAP_BLOCK_TARGET))
        return 0;
    size_t n = need < 64 * 1024 ? 64 * 1024 : need;
    unsigned char *p = malloc(n);
    if (!p)
        return ST_ENOMEM;
    free(*buf);
    *buf = p;
    *cap = n;
    return 0;
}

/* The directory of path, newly allocated ("a/b" -> "a", "b" -> ".", "/b" -> "/"). */
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

struct wblk {
    unsigned char *a; /* SNAP_BLOCK_HDR_SIZE bytes for the header, then part A */
    size_t alen, acap;
    unsigned char *b; /* COLD: part B */
    size_t blen, bcap;
    uint32_t count;
};

struct snap_writer {
    const struct vfs *v;
    int h;
    char *tmp;
    uint32_t databases;
    uint64_t pos;            /* bytes written */
    uint32_t crc_all, crc_skel;
    struct wblk blk[SNAP_AUX + 1]; /* by kind */
    struct snap_stats st;
    int err;                 /* sticky ST_EIO [P6] */
};

struct piece {
    const void *p;
    size_t n;
};

static int w_write(struct snap_writer *w, const void *p, size_t n)
{
    if (n == 0)
        return ST_OK;
    if (vfs_pwrite_all(w->v, w->h, p, n, w->pos) < 0) {
        w->err = ST_EIO;
        return ST_EIO;
    }
    w->pos += n;
    w->st.bytes = w->pos;
    return ST_OK;
}

/* Writes one block: hdr (32 bytes, the caller's, followed in memory by part
 * A when a_follows) and the pieces of parts A and B; folds it into the
 * chained CRCs. */
static int w_block(struct snap_writer *w, int kind, uint32_t count, unsigned char *hdr, int a_follows,
                   const struct piece *pa, int na, const struct piece *pb, int nb)
{
    struct bhdr b = {.kind = kind, .count = count};
    uint64_t la = 0, lb = 0;
    int rc;

    for (int i = 0; i < na; i++) {
        b.crc_a = crc32c(b.crc_a, pa[i].p, pa[i].n);
        la += pa[i].n;
    }
    for (int i = 0; i < nb; i++) {
        b.crc_b = crc32c(b.crc_b, pb[i].p, pb[i].n);
        lb += pb[i].n;
    }
    b.len_a = (uint32_t)la;
    b.len_b = (uint32_t)lb;
    bhdr_encode(hdr, &b);
    uint32_t ch = crc32c(0, hdr, SNAP_BLOCK_HDR_SIZE);
    if (a_follows) {
        if ((rc = w_write(w, hdr, SNAP_BLOCK_HDR_SIZE + (size_t)la)) < 0)
            return rc;
    } else {
        if ((rc = w_write(w, hdr, SNAP_BLOCK_HDR_SIZE)) < 0)
            return rc;
        for (int i = 0; i < na; i++)
            if ((rc = w_write(w, pa[i].p, pa[i].n)) < 0)
                return rc;
    }
    for (int i = 0; i < nb; i++)
        if ((rc = w_write(w, pb[i].p, pb[i].n)) < 0)
            return rc;
    w->crc_all = crc32c_combine(w->crc_all, ch, SNAP_BLOCK_HDR_SIZE);
    w->crc_all = crc32c_combine(w->crc_all, b.crc_a, la);
    w->crc_all = crc32c_combine(w->crc_all, b.crc_b, lb);
    w->crc_skel = crc32c_combine(w->crc_skel, ch, SNAP_BLOCK_HDR_SIZE);
    w->crc_skel = crc32c_combine(w->crc_skel, b.crc_a, la);
    if (kind != SNAP_COLD)
        w->crc_skel = crc32c_combine(w->crc_skel, b.crc_b, lb);
    w->st.blocks++;
    return ST_OK;
}

/* Writes the open block of kind (if any) and empties it. */
static int w_flush_one(struct snap_writer *w, int kind)
{
    struct wblk *k = &w->blk[kind];
    if (k->count == 0)
        return ST_OK;
    struct piece pa = {k->a + SNAP_BLOCK_HDR_SIZE, k->alen}, pb = {k->b, k->blen};
    int rc = w_block(w, kind, k->count, k->a, 1, &pa, 1, &pb, kind == SNAP_COLD);
    if (rc < 0)
        return rc;
    w->st.buffered -= k->alen + k->blen;
    k->alen = k->blen = 0;
    k->count = 0;
    return ST_OK;
}

/* Writes the open block of kind, after the open AUX and DICT blocks when it
 * holds keys (so readers meet those first). */
static int w_flush(struct snap_writer *w, int kind)
{
    int rc;
    if (kind == SNAP_HOT || kind == SNAP_COLD) {
        if ((rc = w_flush_one(w, SNAP_AUX)) < 0 || (rc = w_flush_one(w, SNAP_DICT)) < 0)
            return rc;
    }
    return w_flush_one(w, kind);
}

static int grow(unsigned char **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    unsigned char *q = realloc(*p, n);
    if (!q)
        return ST_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

/* Adds one item to kind's block: part A bytes are the pieces pa (prefix
 * bytes built by the caller, then borrowed key/value bytes), part B pb (COLD
 * only). Large items go out as a block of their own. */
static int w_add(struct snap_writer *w, int kind, const struct piece *pa, int na, const struct piece *pb, int nb)
{
    uint64_t sa = 0, sb = 0;
    int rc;

    if (w->err)
        return w->err;
    for (int i = 0; i < na; i++)
        sa += pa[i].n;
    for (int i = 0; i < nb; i++)
        sb += pb[i].n;
    if (sa > UINT32_MAX || sb > UINT32_MAX)
        return ST_ETOOBIG;
    if (sa + sb > SNAP_BLOCK_TARGET) {
        unsigned char hdr[SNAP_BLOCK_HDR_SIZE];
        if ((rc = w_flush(w, kind)) < 0)
            return rc;
        return w_block(w, kind, 1, hdr, 0, pa, na, pb, nb);
    }
    struct wblk *k = &w->blk[kind];
    if (k->count && k->alen + k->blen + sa + sb > SNAP_BLOCK_TARGET && (rc = w_flush(w, kind)) < 0)
        return rc;
    if (grow(&k->a, &k->acap, SNAP_BLOCK_HDR_SIZE + k->alen + (size_t)sa) < 0 ||
        grow(&k->b, &k->bcap, k->blen + (size_t)sb) < 0)
        return ST_ENOMEM;
    for (int i = 0; i < na; i++) {
        if (pa[i].n)
            memcpy(k->a + SNAP_BLOCK_HDR_SIZE + k->alen, pa[i].p, pa[i].n);
        k->alen += pa[i].n;
    }
    for (int i = 0; i < nb; i++) {
        if (pb[i].n)
            memcpy(k->b + k->blen, pb[i].p, pb[i].n);
        k->blen += pb[i].n;
    }
    k->count++;
    w->st.buffered += sa + sb;
    return ST_OK;
}

int snap_writer_open(const struct vfs *v, const char *tmp_path, const struct snap_meta *meta,
                     struct snap_writer **out)
{
    struct snap_writer *w;
    unsigned char hdr[SNAP_HDR_SIZE];
    int rc;

    *out = NULL;
    if (!v || !tmp_path || !*tmp_path || !meta || meta->databases == 0 || meta->databases > SNAP_DATABASES_MAX ||
        meta->flags != 0)
        return ST_EINVAL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return ST_ENOMEM;
    w->v = v;
    w->databases = meta->databases;
    w->tmp = malloc(strlen(tmp_path) + 1);
    if (!w->tmp) {
        rc = ST_ENOMEM;
        goto fail_free;
    }
    strcpy(w->tmp, tmp_path);
    w->h = vfs_open(v, tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0, 0644, NULL);
    if (w->h < 0) {
        rc = ST_EIO;
        goto fail_free;
    }
    header_encode(hdr, meta);
    if ((rc = w_write(w, hdr, sizeof(hdr))) < 0)
        goto fail_close;
    w->crc_all = w->crc_skel = crc32c(0, hdr, sizeof(hdr));
    *out = w;
    return ST_OK;

fail_close:
    vfs_close(v, w->h);
    v->ops->unlink(v, tmp_path);
fail_free:
    free(w->tmp);
    free(w);
    return rc;
}

int snap_write_hot(struct snap_writer *w, uint32_t db, uint8_t type, int64_t expire_ms, const char *key,
                   size_t klen, const void *ser, size_t serlen)
{
    unsigned char pre[16], mid[4];
    size_t n = 4;

    if (w->err)
        return w->err;
    if (db >= w->databases || type >= OBJ_TYPE_MAX || expire_ms < -1 || !key || klen == 0 ||
        klen > TIER_KEY_MAX || (!ser && serlen))
        return ST_EINVAL;
    if (serlen > UINT32_MAX)
        return ST_ETOOBIG;
    put16(pre, (uint16_t)db);
    pre[2] = type;
    pre[3] = expire_ms >= 0 ? HOT_F_EXPIRE : 0;
    if (expire_ms >= 0) {
        put64(pre + 4, (uint64_t)expire_ms);
        n += 8;
    }
    put32(pre + n, (uint32_t)klen);
    n += 4;
    put32(mid, (uint32_t)serlen);
    struct piece pa[4] = {{pre, n}, {key, klen}, {mid, 4}, {ser, serlen}};
    int rc = w_add(w, SNAP_HOT, pa, 4, NULL, 0);
    if (rc == ST_OK) {
        w->st.hot++;
        w->st.keys++;
    }
    return rc;
}

int snap_write_cold(struct snap_writer *w, uint32_t db, uint8_t tier, int64_t expire_ms, const void *rec,
                    size_t reclen)
{
    unsigned char pre[16], post[20];
    struct tier_rec tr;
    size_t used = 0;

    if (w->err)
        return w->err;
    if (db >= w->databases || tier > SNAP_TIER_SSD || expire_ms < -1 || !rec)
        return ST_EINVAL;
    if (reclen > UINT32_MAX)
        return ST_ETOOBIG;
    if (tier_rec_decode(rec, reclen, &tr, &used) != ST_OK || used != reclen)
        return ST_EINVAL;
    put16(pre, (uint16_t)db);
    pre[2] = tier;
    pre[3] = 0;
    put64(pre + 4, (uint64_t)expire_ms);
    put32(pre + 12, tr.klen);
    put64(post, tr.gen);
    put32(post + 8, get32((const unsigned char *)rec + 4));
    put32(post + 12, (uint32_t)reclen);
    /* data_off: where the record lands in part B; a record that gets a block
     * of its own (w_add's large path) starts that block's part B */
    uint64_t sa = 16 + (uint64_t)tr.klen + 20;
    struct wblk *k = &w->blk[SNAP_COLD];
    int own = sa + reclen > SNAP_BLOCK_TARGET;
    int flush_first = !own && k->count && k->alen + k->blen + sa + reclen > SNAP_BLOCK_TARGET;
    if (flush_first) {
        int rc = w_flush(w, SNAP_COLD);
        if (rc < 0)
            return rc;
    }
    put32(post + 16, own ? 0 : (uint32_t)k->blen);
    struct piece pa[3] = {{pre, 16}, {tr.key, tr.klen}, {post, 20}};
    struct piece pb = {rec, reclen};
    int rc = w_add(w, SNAP_COLD, pa, 3, &pb, 1);
    if (rc == ST_OK) {
        w->st.cold++;
        w->st.keys++;
    }
    return rc;
}

int snap_write_dict(struct snap_writer *w, uint32_t id, const void *dict, size_t len)
{
    unsigned char pre[8];

    if (w->err)
        return w->err;
    if (id == 0 || !dict || len == 0)
        return ST_EINVAL;
    if (len > UINT32_MAX)
        return ST_ETOOBIG;
    put32(pre, id);
    put32(pre + 4, (uint32_t)len);
    struct piece pa[2] = {{pre, 8}, {dict, len}};
    int rc = w_add(w, SNAP_DICT, pa, 2, NULL, 0);
    if (rc == ST_OK)
        w->st.dicts++;
    return rc;
}

int snap_write_aux(struct snap_writer *w, const char *key, const char *val)
{
    unsigned char kl[4], vl[4];

    if (w->err)
        return w->err;
    if (!key || !*key || !val)
        return ST_EINVAL;
    size_t kn = strlen(key), vn = strlen(val);
    if (kn > UINT32_MAX || vn > UINT32_MAX)
        return ST_ETOOBIG;
    put32(kl, (uint32_t)kn);
    put32(vl, (uint32_t)vn);
    struct piece pa[4] = {{kl, 4}, {key, kn}, {vl, 4}, {val, vn}};
    int rc = w_add(w, SNAP_AUX, pa, 4, NULL, 0);
    if (rc == ST_OK)
        w->st.aux++;
    return rc;
}

void snap_writer_stats(const struct snap_writer *w, struct snap_stats *out)
{
    *out = w->st;
}

static void w_free(struct snap_writer *w)
{
    for (int k = 0; k <= SNAP_AUX; k++) {
        free(w->blk[k].a);
        free(w->blk[k].b);
    }
    free(w->tmp);
    free(w);
}

int snap_writer_commit(struct snap_writer **wp, const char *final_path)
{
    struct snap_writer *w = *wp;
    unsigned char ftr[SNAP_FOOTER_SIZE];
    char *dir = NULL, *tdir = NULL;
    int rc;

    *wp = NULL;
    if (!final_path || strcmp(final_path, w->tmp) == 0) {
        rc = ST_EINVAL;
        goto fail;
    }
    dir = dir_of(final_path);
    tdir = dir_of(w->tmp);
    if (!dir || !tdir) {
        rc = ST_ENOMEM;
        goto fail;
    }
    if (strcmp(dir, tdir) != 0) {
        rc = ST_EINVAL; /* a rename across directories is neither atomic nor covered by one sync_dir */
        goto fail;
    }
    if ((rc = w->err) < 0)
        goto fail;
    if ((rc = w_flush_one(w, SNAP_AUX)) < 0 || (rc = w_flush_one(w, SNAP_DICT)) < 0 ||
        (rc = w_flush_one(w, SNAP_HOT)) < 0 || (rc = w_flush_one(w, SNAP_COLD)) < 0)
        goto fail;
    struct footer f = {
        .keys = w->st.keys,
        .hot = w->st.hot,
        .cold = w->st.cold,
        .blocks = w->st.blocks,
        .off = w->pos,
        .crc_all = w->crc_all,
        .crc_skel = w->crc_skel,
    };
    footer_encode(ftr, &f);
    if ((rc = w_write(w, ftr, sizeof(ftr))) < 0)
        goto fail;
    /* [P5] the whole file is durable before its name can change */
    if (vfs_sync(w->v, w->h) < 0) {
        rc = ST_EIO;
        goto fail;
    }
    int crc = vfs_close(w->v, w->h);
    w->h = -1;
    if (crc < 0) {
        rc = ST_EIO;
        goto fail;
    }
    if (w->v->ops->rename(w->v, w->tmp, final_path) < 0) {
        rc = ST_EIO;
        goto fail;
    }
    /* after this the new snapshot's name is durable too */
    rc = w->v->ops->sync_dir(w->v, dir) < 0 ? ST_EIO : ST_OK;
    free(dir);
    free(tdir);
    w_free(w);
    return rc;

fail:
    if (w->h >= 0)
        vfs_close(w->v, w->h);
    w->v->ops->unlink(w->v, w->tmp);
    free(dir);
    free(tdir);
    w_free(w);
    return rc;
}

void snap_writer_abort(struct snap_writer **wp)
{
    struct snap_writer *w = wp ? *wp : NULL;
    if (!w)
        return;
    if (w->h >= 0)
        vfs_close(w->v, w->h);
    w->v->ops->unlink(w->v, w->tmp);
    w_free(w);
    *wp = NULL;
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                   */
/* ------------------------------------------------------------------------ */

struct snap_reader {
    const struct vfs *v;
    int h;
    unsigned flags;
    uint64_t size, end;      /* end: the footer's offset */
    struct snap_meta meta;
    struct footer ftr;
    uint64_t pos;            /* next block header */
    uint32_t crc_all, crc_skel;
    int all_read;            /* every part B was read: crc_all can be checked */
    uint64_t n_hot, n_cold, n_blocks;
    /* the current block */
    struct bhdr bh;
    uint64_t boff;
    uint64_t seq;            /* blocks loaded; items carry it */
    unsigned char *a;
    size_t acap, acur;
    uint32_t left;           /* items of the block not yet returned */
    uint64_t run;            /* COLD: part B offset of the next entry */
    unsigned char *b;
    size_t bcap;
    int b_loaded;            /* part B of the current block is in b and its records checked */
    /* failure [P6] */
    int rc;
    uint64_t err_off;
    const char *err_what;
    int done;
};

static int r_fail(struct snap_reader *r, int rc, uint64_t off, const char *what)
{
    r->rc = rc;
    r->err_off = off;
    r->err_what = what;
    return rc;
}

/* Reads exactly n bytes at off: ST_OK, or the reader fails (EIO, or
 * ECORRUPT when the file is shorter than it said). */
static int r_read(struct snap_reader *r, void *buf, size_t n, uint64_t off)
{
    ssize_t got = vfs_pread_full(r->v, r->h, buf, n, off);
    if (got < 0)
        return r_fail(r, ST_EIO, off, "read failed");
    if ((size_t)got != n)
        return r_fail(r, ST_ECORRUPT, off + (uint64_t)got, "file ends early");
    return ST_OK;
}

int snap_reader_open(const struct vfs *v, const char *path, unsigned flags, struct snap_reader **out,
                     struct snap_meta *meta_out)
{
    struct snap_reader *r;
    unsigned char hdr[SNAP_HDR_SIZE], ftr[SNAP_FOOTER_SIZE];
    const char *why;

    *out = NULL;
    if (!v || !path || (flags & ~SNAP_SKIP_COLD_DATA))
        return ST_EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return ST_ENOMEM;
    r->v = v;
    r->flags = flags;
    r->all_read = 1;
    r->h = vfs_open(v, path, O_RDONLY, 0, 0, NULL);
    if (r->h < 0) {
        if (r->h == -ENOENT) {
            free(r);
            return ST_ENOENT;
        }
        *out = r;
        return r_fail(r, ST_EIO, 0, "open failed");
    }
    *out = r;
    int64_t size = v->ops->size(v, r->h);
    if (size < 0)
        return r_fail(r, ST_EIO, 0, "size failed");
    r->size = (uint64_t)size;
    if (r->size < SNAP_HDR_SIZE + SNAP_FOOTER_SIZE)
        return r_fail(r, ST_ECORRUPT, r->size < SNAP_HDR_SIZE ? 0 : r->size,
                      r->size < SNAP_HDR_SIZE ? "file shorter than a header" : "file ends before its footer");
    if (r_read(r, hdr, sizeof(hdr), 0) < 0)
        return r->rc;
    if ((why = header_parse(hdr, &r->meta)) != NULL)
        return r_fail(r, ST_ECORRUPT, 0, why);
    r->end = r->size - SNAP_FOOTER_SIZE;
    if (r_read(r, ftr, sizeof(ftr), r->end) < 0)
        return r->rc;
    if ((why = footer_parse(ftr, r->end, r->size, &r->ftr)) != NULL)
        return r_fail(r, ST_ECORRUPT, r->end, why);
    r->meta.keys = r->ftr.keys;
    r->meta.hot = r->ftr.hot;
    r->meta.cold = r->ftr.cold;
    r->meta.blocks = r->ftr.blocks;
    r->crc_all = r->crc_skel = crc32c(0, hdr, sizeof(hdr));
    r->pos = SNAP_HDR_SIZE;
    if (meta_out)
        *meta_out = r->meta;
    return ST_OK;
}

/* The end of the blocks: the footer must agree with them [P4]. */
static int r_finish(struct snap_reader *r)
{
    if (r->n_blocks != r->ftr.blocks || r->n_hot != r->ftr.hot || r->n_cold != r->ftr.cold)
        return r_fail(r, ST_ECORRUPT, r->end, "footer counts do not match the blocks");
    if (r->crc_skel != r->ftr.crc_skel)
        return r_fail(r, ST_ECORRUPT, r->end, "crc_skeleton does not match the blocks");
    if (r->all_read && r->crc_all != r->ftr.crc_all)
        return r_fail(r, ST_ECORRUPT, r->end, "crc_all does not match the blocks");
    r->done = 1;
    return ST_ENOENT;
}

/* Loads the next block into the reader, checked whole [P1, P2, P3]. */
static int r_load(struct snap_reader *r)
{
    unsigned char hb[SNAP_BLOCK_HDR_SIZE];
    struct bhdr bh;
    const char *why;
    size_t bad;
    int rc;
    uint64_t off = r->pos;

    if (r->end - off < SNAP_BLOCK_HDR_SIZE)
        return r_fail(r, ST_ECORRUPT, off, "blocks end inside a block header");
    if ((rc = r_read(r, hb, sizeof(hb), off)) < 0)
        return rc;
    if ((why = bhdr_parse(hb, off, r->end, &bh)) != NULL)
        return r_fail(r, ST_ECORRUPT, off, why);
    int want_b = bh.kind == SNAP_COLD && !(r->flags & SNAP_SKIP_COLD_DATA);
    if (buf_fit(&r->a, &r->acap, bh.len_a) < 0 || (want_b && buf_fit(&r->b, &r->bcap, bh.len_b) < 0))
        return ST_ENOMEM; /* not sticky: nothing was consumed */
    uint64_t aoff = off + SNAP_BLOCK_HDR_SIZE, boff = aoff + bh.len_a;
    if ((rc = r_read(r, r->a, bh.len_a, aoff)) < 0)
        return rc;
    if (crc32c(0, r->a, bh.len_a) != bh.crc_a)
        return r_fail(r, ST_ECORRUPT, aoff, "part A CRC mismatch");
    if ((why = parta_check(&bh, r->a, r->meta.databases, &bad)) != NULL)
        return r_fail(r, ST_ECORRUPT, aoff + bad, why);
    r->b_loaded = 0;
    if (want_b) {
        if ((rc = r_read(r, r->b, bh.len_b, boff)) < 0)
            return rc;
        if (crc32c(0, r->b, bh.len_b) != bh.crc_b)
            return r_fail(r, ST_ECORRUPT, boff, "part B CRC mismatch");
        if ((why = partb_check(&bh, r->a, r->b, r->meta.databases, &bad)) != NULL)
            return r_fail(r, ST_ECORRUPT, boff + bad, why);
        r->b_loaded = 1;
    } else if (bh.kind == SNAP_COLD) {
        r->all_read = 0;
    }
    uint32_t ch = crc32c(0, hb, sizeof(hb));
    r->crc_skel = crc32c_combine(r->crc_skel, ch, sizeof(hb));
    r->crc_skel = crc32c_combine(r->crc_skel, bh.crc_a, bh.len_a);
    if (bh.kind != SNAP_COLD)
        r->crc_skel = crc32c_combine(r->crc_skel, bh.crc_b, bh.len_b);
    r->crc_all = crc32c_combine(r->crc_all, ch, sizeof(hb));
    r->crc_all = crc32c_combine(r->crc_all, bh.crc_a, bh.len_a);
    r->crc_all = crc32c_combine(r->crc_all, bh.crc_b, bh.len_b);
    r->n_blocks++;
    if (bh.kind == SNAP_HOT)
        r->n_hot += bh.count;
    else if (bh.kind == SNAP_COLD)
        r->n_cold += bh.count;
    r->bh = bh;
    r->boff = off;
    r->seq++;
    r->acur = 0;
    r->run = 0;
    r->left = bh.count;
    r->pos = boff + bh.len_b;
    return ST_OK;
}

int snap_next(struct snap_reader *r, struct snap_item *it)
{
    const char *why = NULL;
    int rc;

    if (r->rc)
        return r->rc;
    if (r->done)
        return ST_ENOENT;
    while (r->left == 0) {
        if (r->pos == r->end)
            return r_finish(r);
        if ((rc = r_load(r)) < 0)
            return rc;
    }
    size_t n = item_parse(r->bh.kind, r->a + r->acur, r->bh.len_a - r->acur, r->meta.databases, &r->run,
                          r->bh.len_b, it, &why);
    if (n == 0) /* cannot happen: the block was checked whole; kept as a guard */
        return r_fail(r, ST_ECORRUPT, r->boff + SNAP_BLOCK_HDR_SIZE + r->acur, why);
    r->acur += n;
    r->left--;
    it->block_seq_ = r->seq;
    return ST_OK;
}

int snap_cold_data(struct snap_reader *r, const struct snap_item *it, const void **rec, size_t *len)
{
    const char *why;
    int rc;

    if (r->rc)
        return r->rc;
    if (!it || it->kind != SNAP_COLD || it->block_seq_ != r->seq || r->bh.kind != SNAP_COLD ||
        (uint64_t)it->data_off_ + it->reclen > r->bh.len_b)
        return ST_EINVAL;
    uint64_t boff = r->boff + SNAP_BLOCK_HDR_SIZE + r->bh.len_a;
    if (!r->b_loaded) {
        if (buf_fit(&r->b, &r->bcap, r->bh.len_b) < 0)
            return ST_ENOMEM;
        if ((rc = r_read(r, r->b, r->bh.len_b, boff)) < 0)
            return rc;
        if (crc32c(0, r->b, r->bh.len_b) != r->bh.crc_b)
            return r_fail(r, ST_ECORRUPT, boff, "part B CRC mismatch");
        r->b_loaded = 2; /* read on demand: each record is checked when asked for */
    }
    if (r->b_loaded == 2 && (why = rec_check(it, r->b + it->data_off_)) != NULL)
        return r_fail(r, ST_ECORRUPT, boff + it->data_off_, why);
    *rec = r->b + it->data_off_;
    *len = it->reclen;
    return ST_OK;
}

void snap_reader_error(const struct snap_reader *r, uint64_t *off, const char **what)
{
    if (off)
        *off = r->rc ? r->err_off : 0;
    if (what)
        *what = r->rc ? r->err_what : NULL;
}

void snap_reader_close(struct snap_reader **rp)
{
    struct snap_reader *r = rp ? *rp : NULL;
    if (!r)
        return;
    if (r->h >= 0)
        vfs_close(r->v, r->h);
    free(r->a);
    free(r->b);
    free(r);
    *rp = NULL;
}

/* ------------------------------------------------------------------------ */
/* Verifier                                                                 */
/* ------------------------------------------------------------------------ */

struct verifier {
    const struct vfs *v;
    int h;
    struct snap_report *rep;
    uint64_t limit;          /* where blocks must end: the footer, or the file's end */
    uint32_t databases;
    unsigned char *a, *b, *win;
    size_t acap, bcap;
};

static void v_damage(struct verifier *vf, uint64_t off, const char *what)
{
    struct snap_report *rep = vf->rep;
    if (rep->damaged == 0 || off < rep->bad_off) {
        rep->bad_off = off;
        rep->what = what;
    }
    rep->damaged++;
    if (rep->rc == ST_OK)
        rep->rc = ST_ECORRUPT;
}

/* The next offset >= from (and < limit) where a valid block header starts,
 * or limit. Reads SCAN_WIN bytes at a time. -1 on an I/O failure. */
static int64_t v_resync(struct verifier *vf, uint64_t from)
{
    struct bhdr bh;
    for (uint64_t base = from; base < vf->limit;) {
        size_t n = vf->limit - base < SCAN_WIN ? (size_t)(vf->limit - base) : SCAN_WIN;
        ssize_t got = vfs_pread_full(vf->v, vf->h, vf->win, n, base);
        if (got < 0)
            return -1;
        if ((size_t)got < SNAP_BLOCK_HDR_SIZE)
            break;
        for (size_t i = 0; i + SNAP_BLOCK_HDR_SIZE <= (size_t)got; i++)
            if (vf->win[i] == 'S' && bhdr_parse(vf->win + i, base + i, vf->limit, &bh) == NULL)
                return (int64_t)(base + i);
        if ((size_t)got < n)
            break;
        base += (size_t)got - SNAP_BLOCK_HDR_SIZE + 1;
    }
    return (int64_t)vf->limit;
}

int snap_verify(const struct vfs *v, const char *path, struct snap_report *rep)
{
    struct verifier vf = {.v = v, .rep = rep};
    unsigned char hdr[SNAP_HDR_SIZE], ftr[SNAP_FOOTER_SIZE], hb[SNAP_BLOCK_HDR_SIZE];
    struct footer f = {0};
    const char *why, *footer_why = NULL;
    uint32_t crc_all = 0, crc_skel = 0;
    int chain_ok;
    uint64_t hot = 0, cold = 0, blocks = 0;

    memset(rep, 0, sizeof(*rep));
    vf.h = vfs_open(v, path, O_RDONLY, 0, 0, NULL);
    if (vf.h < 0)
        return rep->rc = vf.h == -ENOENT ? ST_ENOENT : ST_EIO;
    vf.win = malloc(SCAN_WIN);
    if (!vf.win) {
        rep->rc = ST_ENOMEM;
        goto out;
    }
    int64_t size = v->ops->size(v, vf.h);
    if (size < 0) {
        rep->rc = ST_EIO;
        goto out;
    }
    rep->size = (uint64_t)size;
    vf.databases = SNAP_DATABASES_MAX;
    if (rep->size < SNAP_HDR_SIZE) {
        v_damage(&vf, 0, "file shorter than a header");
        goto out;
    }
    if (vfs_pread_full(v, vf.h, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
        rep->rc = ST_EIO;
        goto out;
    }
    if ((why = header_parse(hdr, &rep->meta)) != NULL)
        v_damage(&vf, 0, why);
    else
        rep->header_ok = 1;
    if (rep->header_ok)
        vf.databases = rep->meta.databases;
    chain_ok = rep->header_ok;
    crc_all = crc_skel = crc32c(0, hdr, sizeof(hdr));
    vf.limit = rep->size;
    if (rep->size >= SNAP_HDR_SIZE + SNAP_FOOTER_SIZE) {
        uint64_t foff = rep->size - SNAP_FOOTER_SIZE;
        if (vfs_pread_full(v, vf.h, ftr, sizeof(ftr), foff) != (ssize_t)sizeof(ftr)) {
            rep->rc = ST_EIO;
            goto out;
        }
        if ((footer_why = footer_parse(ftr, foff, rep->size, &f)) == NULL) {
            rep->footer_ok = 1;
            vf.limit = foff;
            rep->meta.keys = f.keys;
            rep->meta.hot = f.hot;
            rep->meta.cold = f.cold;
            rep->meta.blocks = f.blocks;
        }
    } else {
        footer_why = "file ends before its footer";
    }

    for (uint64_t pos = SNAP_HDR_SIZE; pos < vf.limit;) {
        struct bhdr bh;
        if (vf.limit - pos < SNAP_BLOCK_HDR_SIZE) {
            v_damage(&vf, pos, "blocks end inside a block header");
            chain_ok = 0;
            break;
        }
        if (vfs_pread_full(v, vf.h, hb, sizeof(hb), pos) != (ssize_t)sizeof(hb)) {
            rep->rc = ST_EIO;
            goto out;
        }
        if ((why = bhdr_parse(hb, pos, vf.limit, &bh)) != NULL) {
            /* a footer here with trailing bytes after it is still the end */
            if (!rep->footer_ok && memcmp(hb, FTR_MAGIC, 8) == 0) {
                if (pos + SNAP_FOOTER_SIZE != rep->size) /* else: the damaged footer itself, reported below */
                    v_damage(&vf, pos, "footer not at the end of the file");
                chain_ok = 0;
                break;
            }
            v_damage(&vf, pos, why);
            chain_ok = 0;
            int64_t next = v_resync(&vf, pos + 1);
            if (next < 0) {
                rep->rc = ST_EIO;
                goto out;
            }
            pos = (uint64_t)next;
            continue;
        }
        uint64_t aoff = pos + SNAP_BLOCK_HDR_SIZE, boff = aoff + bh.len_a;
        uint64_t next = boff + bh.len_b;
        size_t bad;
        if (buf_fit(&vf.a, &vf.acap, bh.len_a) < 0 || buf_fit(&vf.b, &vf.bcap, bh.len_b) < 0) {
            rep->rc = ST_ENOMEM;
            goto out;
        }
        if (vfs_pread_full(v, vf.h, vf.a, bh.len_a, aoff) != (ssize_t)bh.len_a ||
            vfs_pread_full(v, vf.h, vf.b, bh.len_b, boff) != (ssize_t)bh.len_b) {
            rep->rc = ST_EIO;
            goto out;
        }
        if (crc32c(0, vf.a, bh.len_a) != bh.crc_a) {
            v_damage(&vf, aoff, "part A CRC mismatch");
        } else if ((why = parta_check(&bh, vf.a, vf.databases, &bad)) != NULL) {
            v_damage(&vf, aoff + bad, why);
        } else if (bh.kind == SNAP_COLD && crc32c(0, vf.b, bh.len_b) != bh.crc_b) {
            v_damage(&vf, boff, "part B CRC mismatch");
        } else if (bh.kind == SNAP_COLD && (why = partb_check(&bh, vf.a, vf.b, vf.databases, &bad)) != NULL) {
            v_damage(&vf, boff + bad, why);
        } else {
            uint32_t ch = crc32c(0, hb, sizeof(hb));
            crc_all = crc32c_combine(crc32c_combine(crc32c_combine(crc_all, ch, 32), bh.crc_a, bh.len_a),
                                     bh.crc_b, bh.len_b);
            crc_skel = crc32c_combine(crc32c_combine(crc_skel, ch, 32), bh.crc_a, bh.len_a);
            if (bh.kind != SNAP_COLD)
                crc_skel = crc32c_combine(crc_skel, bh.crc_b, bh.len_b);
            blocks++;
            switch (bh.kind) {
            case SNAP_HOT:
                hot += bh.count;
                break;
            case SNAP_COLD:
                cold += bh.count;
                break;
            case SNAP_DICT:
                rep->dicts += bh.count;
                break;
            default:
                rep->aux += bh.count;
                break;
            }
            pos = next;
            continue;
        }
        chain_ok = 0;
        pos = next;
    }
    if (!rep->footer_ok) {
        v_damage(&vf, rep->size >= SNAP_FOOTER_SIZE + SNAP_HDR_SIZE ? rep->size - SNAP_FOOTER_SIZE : rep->size,
                 footer_why);
    } else if (chain_ok) {
        if (blocks != f.blocks || hot != f.hot || cold != f.cold)
            v_damage(&vf, vf.limit, "footer counts do not match the blocks");
        else if (crc_skel != f.crc_skel)
            v_damage(&vf, vf.limit, "crc_skeleton does not match the blocks");
        else if (crc_all != f.crc_all)
            v_damage(&vf, vf.limit, "crc_all does not match the blocks");
    }
    rep->hot = hot;
    rep->cold = cold;
    rep->keys = hot + cold;
    rep->blocks = blocks;
out:
    vfs_close(v, vf.h);
    free(vf.a);
    free(vf.b);
    free(vf.win);
    return rep->rc;
}
