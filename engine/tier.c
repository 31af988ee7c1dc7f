/*
 * tier.c -- the tier record codec: tier_rec_encode and tier_rec_decode, the
 * two functions engine/tier.h declares. Every tier stores the bytes encode
 * writes, and every read from a tier goes through decode before a byte of it
 * is believed (DESIGN.md invariant 2).
 *
 * What it owns: the byte layout of a record (below, the same as in
 * engine/tier.h) and its checks. Not the tiers themselves (tiers/mem.c, tiers/pmem.c), not
 * the value's serialisation or compression.
 *
 * Record layout (little-endian, written byte by byte so the host's order
 * does not matter):
 *
 *   off  size  field
 *   0    4     magic      "STR1" = 53 54 52 31 (TIER_REC_MAGIC as LE u32)
 *   4    4     crc        CRC32C (engine/crc32c.h) of bytes [8, 44+klen+vlen)
 *   8    8     gen        generation
 *   16   8     expire_ms  unix ms, or -1 for none (two's complement)
 *   24   4     klen       1 .. TIER_KEY_MAX
 *   28   4     vlen       stored value bytes
 *   32   4     rawlen     value bytes before compression
 *   36   4     dict_id    0 for none
 *   40   1     type       enum obj_type
 *   41   1     flags      TIER_REC_F_RAW; other bits must be 0
 *   42   2     reserved   must be 0
 *   44   klen  key
 *   ..   vlen  value
 *
 * Invariants decode enforces (any failure is ST_ECORRUPT, nothing is read
 * outside [buf, buf + len), nothing is allocated):
 *  1. len >= TIER_REC_HDR and the magic matches.
 *  2. 1 <= klen <= TIER_KEY_MAX, and 44 + klen + vlen <= len, computed in
 *     64 bits so no length overflows.
 *  3. The CRC matches bytes [8, 44 + klen + vlen): the header fields after
 *     the CRC, the key and the value are all covered.
 *  4. Unknown flag bits and a non-zero reserved field are rejected: a later
 *     format that needs them changes the magic or defines the flag in
 *     engine/tier.h first, so an old reader never misreads a new record.
 *
 * Threads: pure functions. Durability: n/a.
 */
#include "engine/tier.h"

#include <string.h>

#include "engine/crc32c.h"
#include "engine/err.h"

#define REC_FLAGS_KNOWN TIER_REC_F_RAW

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void put_le64(unsigned char *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const unsigned char *p)
{
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* Writes the record r into buf, which must hold tier_rec_size(r) bytes (the
 * caller's; r and its key/val are borrowed and may not overlap buf). r->klen
 * and r->vlen are the caller's to keep in range (decode rejects klen 0 or
 * above TIER_KEY_MAX); the CRC is computed here. */
void tier_rec_encode(const struct tier_rec *r, void *buf)
{
    unsigned char *p = buf;
    size_t end = tier_rec_size(r);

    put_le32(p + 0, TIER_REC_MAGIC);
    put_le64(p + 8, r->gen);
    put_le64(p + 16, (uint64_t)r->expire_ms);
    put_le32(p + 24, r->klen);
    put_le32(p + 28, r->vlen);
    put_le32(p + 32, r->rawlen);
    put_le32(p + 36, r->dict_id);
    p[40] = r->type;
    p[41] = r->flags;
    p[42] = 0;
    p[43] = 0;
    if (r->klen)
        memcpy(p + TIER_REC_HDR, r->key, r->klen);
    if (r->vlen)
        memcpy(p + TIER_REC_HDR + r->klen, r->val, r->vlen);
    put_le32(p + 4, crc32c(0, p + 8, end - 8));
}

void tier_rec_restamp(void *buf, uint64_t gen, int64_t expire_ms)
{
    unsigned char *p = buf;
    uint64_t klen = (uint64_t)p[24] | (uint64_t)p[25] << 8 | (uint64_t)p[26] << 16 | (uint64_t)p[27] << 24;
    uint64_t vlen = (uint64_t)p[28] | (uint64_t)p[29] << 8 | (uint64_t)p[30] << 16 | (uint64_t)p[31] << 24;
    put_le64(p + 8, gen);
    put_le64(p + 16, (uint64_t)expire_ms);
    put_le32(p + 4, crc32c(0, p + 8, (size_t)(TIER_REC_HDR + klen + vlen - 8)));
}

/* Checks and decodes the record at buf (len bytes readable, borrowed). On
 * ST_OK, out->key and out->val point into buf and *used (if used is not
 * NULL) is the record's length, which may be less than len. On ST_ECORRUPT
 * out and *used are left unspecified. */
int tier_rec_decode(const void *buf, size_t len, struct tier_rec *out, size_t *used)
{
    const unsigned char *p = buf;
    uint64_t klen, vlen, end;

    if (!buf || len < TIER_REC_HDR || get_le32(p) != TIER_REC_MAGIC)
        return ST_ECORRUPT;
    klen = get_le32(p + 24);
    vlen = get_le32(p + 28);
    if (klen == 0 || klen > TIER_KEY_MAX)
        return ST_ECORRUPT;
    end = TIER_REC_HDR + klen + vlen; /* < 2^34: no overflow */
    if (end > len)
        return ST_ECORRUPT;
    if ((p[41] & ~REC_FLAGS_KNOWN) || p[42] || p[43])
        return ST_ECORRUPT;
    if (crc32c(0, p + 8, (size_t)end - 8) != get_le32(p + 4))
        return ST_ECORRUPT;
    out->gen = get_le64(p + 8);
    out->expire_ms = (int64_t)get_le64(p + 16);
    out->klen = (uint32_t)klen;
    out->vlen = (uint32_t)vlen;
    out->rawlen = get_le32(p + 32);
    out->dict_id = get_le32(p + 36);
    out->type = p[40];
    out->flags = p[41];
    out->key = (const char *)p + TIER_REC_HDR;
    out->val = p + TIER_REC_HDR + klen;
    if (used)
        *used = (size_t)end;
    return ST_OK;
}
