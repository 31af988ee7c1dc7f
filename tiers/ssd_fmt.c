/*
 * ssd_fmt.c -- the SSD tier's on-device format: encode, decode and check
 * segment headers, entries, notes and dictionary files. Pure: no I/O, no
 * allocation, no state (tiers/ssd_fmt.h). Every byte the SSD tier reads
 * back passes through a decoder here before anything believes it
 * (DESIGN.md invariant 2). This comment is the format's reference; it is
 * copied into docs/formats.md.
 *
 * What it owns: byte layouts and their checks. Not where entries go (the
 * write path, tiers/ssd_io.c), not which entry wins (attach,
 * tiers/ssd_attach.c), not the record inside a PUT (engine/tier.c).
 *
 * Files, in the tier's directory:
 *
 *   seg-<16 lower-case hex digits of the segment seq>.dat   a segment
 *   dict-<decimal id>.zd                                     a dictionary
 *   <either name>.tmp                                        a dictionary being
 *                                                            written (removed at
 *                                                            attach)
 *
 * All integers are little-endian, written byte by byte (host order does not
 * matter). CRC = CRC32C (engine/crc32c.h, Castagnoli, crc32c(0, ...)).
 *
 * Segment header: one block of 4096 bytes at offset 0.
 *
 *   off   size  field
 *   0     8     magic         "STRSEG01" (53 54 52 53 45 47 30 31)
 *   8     4     version       1
 *   12    4     header size   4096
 *   16    8     seq           segment seq: unique, increasing per segment the
 *                             tier creates (the file name says the same)
 *   24    8     created_ms    unix ms (two's complement)
 *   32    8     segment_size  the file never grows past this (1 MiB .. 1 GiB,
 *                             a multiple of 4096)
 *   40    4     class         expiry class 0..5 (PUT entries only) or 6 (notes
 *                             only): 0 no expiry, 1 TTL < 1 min, 2 < 10 min,
 *                             3 < 1 h, 4 < 1 day, 5 >= 1 day at write time
 *   44    4     flags         bit 0: written by compaction; others 0
 *   48    4044  reserved      0
 *   4092  4     crc           CRC of bytes [0, 4092)
 *
 * Entries: from offset 4096, each starting 8-byte aligned, one after the
 * other; zero bytes may sit between entries (a zero u32 where an entry
 * would start is skipped 8 bytes at a time) and after the last one.
 *
 *   off   size  field
 *   0     4     magic         "SENT" (0x544e4553 as a little-endian u32)
 *   4     4     crc           CRC of bytes [8, len)
 *   8     4     len           whole entry, header included, before padding
 *                             (32 .. segment_size - 4096)
 *   12    1     kind          1 PUT, 2 DEL, 3 SWAPDB, 4 FLUSHDB
 *   13    1     flags         0
 *   14    2     db            the database at write time (FLUSHDB: 0xffff =
 *                             every database; SWAPDB: 0)
 *   16    8     seq           tier-wide order of everything (below)
 *   24    4     seg_seq_lo    low 32 bits of the seq of the segment the entry
 *                             was written into: a read through a stale
 *                             location finds another segment's number here
 *   28    4     reserved      0
 *   32    len-32 payload
 *   len   ..    zero padding to the next multiple of 8
 *
 * Payloads:
 *   PUT      one STR1 record (engine/tier.h) exactly as the engine gave it:
 *            never decoded and re-encoded, never recompressed; len - 32 is
 *            the record's length (tier_rec_decode uses all of it).
 *   DEL      the key (1 .. TIER_KEY_MAX bytes): "this key was dropped at seq".
 *   SWAPDB   u16 a, u16 b, u32 0 (a != b, both < 1024): the contents of
 *            databases a and b were swapped at seq.
 *   FLUSHDB  nothing: database db (0xffff: every database) was emptied at seq.
 *
 * Order. seq is assigned when an entry is appended. For each (db, key) the
 * entry with the highest seq wins; a winning DEL means absent. A PUT moved
 * by compaction keeps its seq (so it never overrides a newer note or
 * record) and gets the new segment's seg_seq_lo and a new crc. SWAPDB and
 * FLUSHDB apply to entries with a lower seq, in seq order: an entry's
 * database is its db field mapped through every later SWAPDB, and it is
 * gone if a later FLUSHDB names the database it had at that point.
 *
 * Dictionary file (one compression dictionary, engine/codec.h):
 *
 *   off   size  field
 *   0     4     magic         "SDC1" (0x31434453)
 *   4     4     crc           CRC of bytes [8, 16 + len)
 *   8     4     id            > 0, the same as in the file name
 *   12    4     len           dictionary bytes
 *   16    len   the dictionary
 *
 * Invariants the decoders enforce (any failure is ST_ECORRUPT; nothing is
 * read outside the bytes given; lengths are checked in 64 bits before use):
 *  1. A header decodes only with its magic, version, header size, CRC,
 *     class <= 6, known flags, a segment_size in bounds and all reserved
 *     bytes zero.
 *  2. An entry decodes only with its magic, a len of at least 32 plus its
 *     kind's minimum payload and at most max_len, a known kind, zero flags
 *     and reserved field, a payload of its kind's shape, and its CRC.
 *     Nothing else is believed about an entry that fails, not even its len:
 *     a reader resynchronises 8 bytes further on.
 *  3. A PUT is served only if its payload is one whole STR1 record of
 *     exactly len - 32 bytes (sfmt_put_check), checked after the framing.
 *
 * Threads: pure functions. Durability: n/a (see tiers/ssd.c).
 */
#include "tiers/ssd_fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/crc32c.h"
#include "engine/err.h"
#include "engine/tier.h"

#define HDR_CRC_OFF (SFMT_HDR_SIZE - 4)
#define HDR_FIELDS 48u
#define SEG_FLAGS_KNOWN SFMT_SEG_F_COMPACT

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

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- segment header ---------------------------------------------------- */

void sfmt_seg_hdr_encode(const struct sfmt_seg_hdr *h, void *block)
{
    unsigned char *p = block;

    memset(p, 0, SFMT_HDR_SIZE);
    memcpy(p, SFMT_SEG_MAGIC, 8);
    put32(p + 8, SFMT_VERSION);
    put32(p + 12, SFMT_HDR_SIZE);
    put64(p + 16, h->seq);
    put64(p + 24, (uint64_t)h->created_ms);
    put64(p + 32, h->segment_size);
    put32(p + 40, h->cls);
    put32(p + 44, h->flags);
    put32(p + HDR_CRC_OFF, crc32c(0, p, HDR_CRC_OFF));
}

int sfmt_seg_hdr_decode(const void *block, size_t len, struct sfmt_seg_hdr *out)
{
    const unsigned char *p = block;
    uint64_t size;

    if (!block || len < SFMT_HDR_SIZE || memcmp(p, SFMT_SEG_MAGIC, 8) != 0)
        return ST_ECORRUPT;
    if (get32(p + 8) != SFMT_VERSION || get32(p + 12) != SFMT_HDR_SIZE)
        return ST_ECORRUPT;
    if (crc32c(0, p, HDR_CRC_OFF) != get32(p + HDR_CRC_OFF))
        return ST_ECORRUPT;
    for (size_t i = HDR_FIELDS; i < HDR_CRC_OFF; i++)
        if (p[i])
            return ST_ECORRUPT;
    size = get64(p + 32);
    if (size < SFMT_SEG_MIN || size > SFMT_SEG_MAX || size % SFMT_BLOCK)
        return ST_ECORRUPT;
    if (get32(p + 40) >= SFMT_NCLASSES || (get32(p + 44) & ~SEG_FLAGS_KNOWN))
        return ST_ECORRUPT;
    out->seq = get64(p + 16);
    out->created_ms = (int64_t)get64(p + 24);
    out->segment_size = size;
    out->cls = get32(p + 40);
    out->flags = get32(p + 44);
    return ST_OK;
}

/* ---- entries ------------------------------------------------------------ */

void sfmt_ent_encode(unsigned char *dst, uint8_t kind, uint16_t db, uint64_t seq, uint32_t seg_seq_lo,
                     const void *payload, size_t plen)
{
    size_t len = SFMT_ENT_HDR + plen, total = sfmt_ent_size(plen);

    put32(dst, SFMT_ENT_MAGIC);
    put32(dst + 8, (uint32_t)len);
    dst[12] = kind;
    dst[13] = 0;
    dst[14] = (unsigned char)db;
    dst[15] = (unsigned char)(db >> 8);
    put64(dst + 16, seq);
    put32(dst + 24, seg_seq_lo);
    put32(dst + 28, 0);
    if (plen && payload != dst + SFMT_ENT_HDR)
        memcpy(dst + SFMT_ENT_HDR, payload, plen);
    if (total > len)
        memset(dst + len, 0, total - len);
    put32(dst + 4, crc32c(0, dst + 8, len - 8));
}

void sfmt_ent_restamp(unsigned char *ent, uint32_t seg_seq_lo)
{
    uint32_t len = get32(ent + 8);

    put32(ent + 24, seg_seq_lo);
    put32(ent + 4, crc32c(0, ent + 8, (size_t)len - 8));
}

/* The least payload each kind has. */
static uint64_t min_payload(uint8_t kind)
{
    switch (kind) {
    case SFMT_PUT:
        return TIER_REC_HDR + 1;
    case SFMT_DEL:
        return 1;
    case SFMT_SWAPDB:
        return 8;
    case SFMT_FLUSHDB:
        return 0;
    default:
        return UINT64_MAX;
    }
}

int sfmt_ent_decode(const void *buf, size_t avail, uint64_t max_len, struct sfmt_ent *out, size_t *need)
{
    const unsigned char *p = buf;
    uint64_t len, minp;
    uint8_t kind;

    if (!buf || avail < 12)
        goto short_hdr;
    if (get32(p) != SFMT_ENT_MAGIC)
        return ST_ECORRUPT;
    len = get32(p + 8);
    if (len > max_len || len > SFMT_SEG_MAX - SFMT_HDR_SIZE)
        return ST_ECORRUPT;
    if (avail < SFMT_ENT_HDR)
        goto short_hdr;
    kind = p[12];
    minp = min_payload(kind);
    if (minp == UINT64_MAX || len < SFMT_ENT_HDR + minp)
        return ST_ECORRUPT;
    if (p[13] != 0 || get32(p + 28) != 0)
        return ST_ECORRUPT;
    if (kind == SFMT_SWAPDB && len != SFMT_ENT_HDR + 8)
        return ST_ECORRUPT;
    if (kind == SFMT_FLUSHDB && len != SFMT_ENT_HDR)
        return ST_ECORRUPT;
    if (kind == SFMT_DEL && len - SFMT_ENT_HDR > TIER_KEY_MAX)
        return ST_ECORRUPT;
    if (len > avail) {
        if (need)
            *need = (size_t)len;
        return ST_EAGAIN;
    }
    if (crc32c(0, p + 8, (size_t)len - 8) != get32(p + 4))
        return ST_ECORRUPT;
    out->len = (uint32_t)len;
    out->kind = kind;
    out->flags = p[13];
    out->db = (uint16_t)(p[14] | p[15] << 8);
    out->seq = get64(p + 16);
    out->seg_seq_lo = get32(p + 24);
    out->payload = p + SFMT_ENT_HDR;
    out->plen = (uint32_t)(len - SFMT_ENT_HDR);
    if (kind == SFMT_SWAPDB) {
        uint16_t a, b;
        if (sfmt_swap_decode(out, &a, &b) != ST_OK)
            return ST_ECORRUPT;
    }
    return ST_OK;

short_hdr:
    /* a prefix of a header: only plausible if the magic so far matches */
    if (avail >= 4 && get32(p) != SFMT_ENT_MAGIC)
        return ST_ECORRUPT;
    if (need)
        *need = SFMT_ENT_HDR;
    return ST_EAGAIN;
}

int sfmt_put_check(const struct sfmt_ent *e, struct tier_rec *rec)
{
    struct tier_rec r;
    size_t used = 0;

    if (e->kind != SFMT_PUT)
        return ST_ECORRUPT;
    if (tier_rec_decode(e->payload, e->plen, &r, &used) != ST_OK || used != e->plen)
        return ST_ECORRUPT;
    if (rec)
        *rec = r;
    return ST_OK;
}

void sfmt_swap_payload(unsigned char *p, uint16_t a, uint16_t b)
{
    p[0] = (unsigned char)a;
    p[1] = (unsigned char)(a >> 8);
    p[2] = (unsigned char)b;
    p[3] = (unsigned char)(b >> 8);
    put32(p + 4, 0);
}

int sfmt_swap_decode(const struct sfmt_ent *e, uint16_t *a, uint16_t *b)
{
    const unsigned char *p = e->payload;

    if (e->kind != SFMT_SWAPDB || e->plen != 8 || get32(p + 4) != 0)
        return ST_ECORRUPT;
    *a = (uint16_t)(p[0] | p[1] << 8);
    *b = (uint16_t)(p[2] | p[3] << 8);
    if (*a == *b || *a >= 1024 || *b >= 1024)
        return ST_ECORRUPT;
    return ST_OK;
}

/* ---- dictionaries ------------------------------------------------------- */

void sfmt_dict_hdr_encode(unsigned char *hdr, uint32_t id, const void *dict, uint32_t len)
{
    uint32_t crc;

    put32(hdr, SFMT_DICT_MAGIC);
    put32(hdr + 8, id);
    put32(hdr + 12, len);
    crc = crc32c(0, hdr + 8, 8);
    crc = crc32c(crc, dict, len);
    put32(hdr + 4, crc);
}

int sfmt_dict_decode(const void *buf, size_t n, uint32_t *id, const void **dict, uint32_t *len)
{
    const unsigned char *p = buf;

    if (!buf || n < SFMT_DICT_HDR || get32(p) != SFMT_DICT_MAGIC)
        return ST_ECORRUPT;
    *id = get32(p + 8);
    *len = get32(p + 12);
    if (*id == 0 || (uint64_t)*len != (uint64_t)n - SFMT_DICT_HDR)
        return ST_ECORRUPT;
    if (crc32c(0, p + 8, (size_t)8 + *len) != get32(p + 4))
        return ST_ECORRUPT;
    *dict = p + SFMT_DICT_HDR;
    return ST_OK;
}

/* ---- names -------------------------------------------------------------- */

int sfmt_seg_name(char *buf, uint64_t seq)
{
    return snprintf(buf, SFMT_NAME_MAX, "seg-%016llx.dat", (unsigned long long)seq);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int sfmt_seg_name_parse(const char *name, uint64_t *seq)
{
    uint64_t v = 0;

    if (strlen(name) != 4 + 16 + 4 || memcmp(name, "seg-", 4) != 0 || strcmp(name + 20, ".dat") != 0)
        return 0;
    for (int i = 0; i < 16; i++) {
        int d = hexval(name[4 + i]);
        if (d < 0)
            return 0;
        v = v << 4 | (uint64_t)d;
    }
    *seq = v;
    return 1;
}

int sfmt_dict_name(char *buf, uint32_t id)
{
    return snprintf(buf, SFMT_NAME_MAX, "dict-%u.zd", id);
}

int sfmt_dict_name_parse(const char *name, uint32_t *id)
{
    uint64_t v = 0;
    size_t n = strlen(name), i;

    if (n < 5 + 1 + 3 || memcmp(name, "dict-", 5) != 0 || strcmp(name + n - 3, ".zd") != 0)
        return 0;
    for (i = 5; i < n - 3; i++) {
        if (name[i] < '0' || name[i] > '9' || i - 5 >= 10)
            return 0;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    if (name[5] == '0' || v == 0 || v > UINT32_MAX)
        return 0;
    *id = (uint32_t)v;
    return 1;
}

int sfmt_is_tmp_name(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".tmp") == 0 &&
           (strncmp(name, "seg-", 4) == 0 || strncmp(name, "dict-", 5) == 0);
}

/* ---- database notes ------------------------------------------------------- */

int sfmt_dbnotes_add(struct sfmt_dbnotes *l, const struct sfmt_ent *e)
{
    if (e->kind != SFMT_SWAPDB && e->kind != SFMT_FLUSHDB)
        return ST_OK;
    struct sfmt_dbnote n = {.seq = e->seq, .kind = e->kind, .a = e->db};
    if (e->kind == SFMT_SWAPDB && sfmt_swap_decode(e, &n.a, &n.b) != ST_OK)
        return ST_OK;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        struct sfmt_dbnote *v = realloc(l->v, nc * sizeof(*v));
        if (!v)
            return ST_ENOMEM;
        l->v = v;
        l->cap = nc;
    }
    l->v[l->n++] = n;
    return ST_OK;
}

static int cmp_dbnote(const void *a, const void *b)
{
    const struct sfmt_dbnote *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sfmt_dbnotes_sort(struct sfmt_dbnotes *l)
{
    if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), cmp_dbnote);
}

int sfmt_dbnotes_final_db(const struct sfmt_dbnotes *l, uint64_t seq, int db)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) { /* the first note with a higher seq */
        size_t mid = (lo + hi) / 2;
        if (l->v[mid].seq <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < l->n; i++) {
        const struct sfmt_dbnote *n = &l->v[i];
        if (n->kind == SFMT_SWAPDB) {
            if (db == n->a)
                db = n->b;
            else if (db == n->b)
                db = n->a;
        } else if (n->a == SFMT_DB_ALL || n->a == db) {
            return -1;
        }
    }
    return db;
}

void sfmt_dbnotes_free(struct sfmt_dbnotes *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}
