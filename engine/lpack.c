/*
 * lpack.c -- the compact single-buffer encoding of small collections (see
 * lpack.h for the contract).
 *
 * What it owns: the bytes of one pack -- encoding and decoding elements,
 * navigation both ways, insertion, replacement, deletion and validation of
 * untrusted packs. What it does not own: what the elements mean (field/value
 * pairs of a hash, member/score pairs of a sorted set, ...), encoding
 * thresholds (engine/tlimits.h) and locking (the owning entry's shard lock).
 *
 * Data model (all multi-byte fields little endian):
 *
 *   offset 0   u32 total    size of the whole buffer in bytes
 *   offset 4   u32 count    number of elements
 *   offset 8   elements...
 *   last byte  0xFF         end marker
 *
 *   element = enc (encoding byte + length/payload) | backlen
 *
 *     enc first byte   meaning                     enc size
 *     0xxxxxxx         uint 0..127                 1
 *     10llllll         string, len 0..63           1 + len
 *     110xxxxx + 1     int -4096..4095 (13 bits)   2
 *     1110llll + 1     string, len 64..4095        2 + len
 *     0xF0 + u32 len   string, len >= 4096         5 + len
 *     0xF1 + i16       int                         3
 *     0xF2 + i24       int                         4
 *     0xF3 + i32       int                         5
 *     0xF4 + i64       int                         9
 *     0xF5..0xFE       invalid
 *     0xFF             end marker (never an element)
 *
 *   backlen = enc size L in 7-bit groups, most significant group first in
 *   memory, each byte but the first carrying the high bit, so that reading
 *   from the element's last byte leftwards stops at the byte without it:
 *     L <= 127            [L]
 *     L < 16383           [L>>7] [L&127|128]
 *     L < 2097151         [L>>14] [L>>7&127|128] [L&127|128]   ... up to 5.
 *   (The "<" thresholds are Redis's lpEncodeBacklen's, kept so that packs are
 *   byte-identical to Redis's element encoding.)
 *
 * Invariants (the code cites them by number):
 *  1. total == allocation size in use; the byte at total-1 is 0xFF and no
 *     element's first byte is 0xFF. count == the number of elements.
 *  2. Every element written here uses the smallest encoding for its value:
 *     a string that is the canonical text of an int64 (no '+', no leading
 *     zero, not "-0", <= 20 chars) becomes an int; other strings use the
 *     shortest length header. Readers accept any valid encoding (packs from
 *     Redis snapshots), and strings always compare by bytes.
 *  3. backlen of an element equals its enc size, in exactly the number of
 *     bytes lp_backlen_size gives, so lp_prev is the inverse of lp_next.
 *  4. Every modifying call changes the buffer with at most one realloc
 *     (growing before the memmove, shrinking after it) and no other
 *     allocation; positions are offsets re-derived after the realloc.
 *
 * Threads: none of its own; callers hold the owning shard's lock.
 *
 * References: Redis 7 listpack specification (antirez, "Listpack
 * specification", github.com/antirez/listpack/blob/master/listpack.md); this
 * file is an independent implementation of that layout with an 8-byte header
 * (u32 count instead of Redis's u16).
 */
#include "engine/lpack.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- little-endian helpers -------------------------------------------- */

static inline uint32_t rd_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wr_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline void set_bytes(unsigned char *lp, uint32_t v)
{
    wr_u32(lp, v);
}

static inline void set_count(unsigned char *lp, uint32_t v)
{
    wr_u32(lp + 4, v);
}

/* ---- element sizes ---------------------------------------------------- */

/* Bytes the backlen of an element whose enc size is l takes (invariant 3). */
static inline uint32_t lp_backlen_size(uint64_t l)
{
    if (l <= 127)
        return 1;
    if (l < 16383)
        return 2;
    if (l < 2097151)
        return 3;
    if (l < 268435455)
        return 4;
    return 5;
}

/* Writes the backlen of enc size l at dst; returns its size. */
static inline uint32_t lp_write_backlen(unsigned char *dst, uint64_t l)
{
    uint32_t n = lp_backlen_size(l);

    /* Most significant group first; every byte after the first has bit 7. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t shift = 7 * (n - 1 - i);
        unsigned char b = (unsigned char)((l >> shift) & 127);
        dst[i] = i == 0 ? b : (unsigned char)(b | 128);
    }
    return n;
}

/* Reads, leftwards from its last byte q, a backlen written by
 * lp_write_backlen (trusted pack). */
static inline uint32_t lp_read_backlen(const unsigned char *q)
{
    uint32_t v = 0, shift = 0;

    for (;;) {
        v |= (uint32_t)(*q & 127) << shift;
        if (!(*q & 128))
            return v;
        shift += 7;
        q--;
    }
}

/* The enc size (encoding byte + header + payload) of the element at p
 * (trusted pack; p is not the end marker). */
static inline uint32_t lp_enc_size(const unsigned char *p)
{
    unsigned char b = p[0];

    if (b < 0x80)
        return 1;
    if (b < 0xC0)
        return 1 + (uint32_t)(b & 0x3F);
    if (b < 0xE0)
        return 2;
    if (b < 0xF0)
        return 2 + ((uint32_t)(b & 0x0F) << 8 | p[1]);
    switch (b) {
    case 0xF0:
        return 5 + rd_u32(p + 1);
    case 0xF1:
        return 3;
    case 0xF2:
        return 4;
    case 0xF3:
        return 5;
    default: /* 0xF4 */
        return 9;
    }
}

/* The whole size of the element at p, backlen included. */
static inline uint32_t lp_elem_size(const unsigned char *p)
{
    uint32_t l = lp_enc_size(p);

    return l + lp_backlen_size(l);
}

/* ---- integers ----------------------------------------------------------- */

/* Parses s[0..len) as the canonical text of an int64 (invariant 2). Returns 1
 * and sets *out when it is one. */
static inline int lp_str2i64(const unsigned char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    uint64_t v;
    int neg = 0;

    if (len == 0 || len > 20)
        return 0;
    if (s[0] == '0') {
        if (len != 1)
            return 0;
        *out = 0;
        return 1;
    }
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (len == 1)
            return 0;
    }
    if (s[i] < '1' || s[i] > '9')
        return 0;
    v = (uint64_t)(s[i++] - '0');
    for (; i < len; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return 0;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return 0;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return 0;
        *out = (int64_t)v;
    }
    return 1;
}

/* Encodes v in the smallest int encoding into buf (>= 9 bytes); returns the
 * enc size. */
static inline uint32_t lp_encode_int(unsigned char *buf, int64_t v)
{
    if (v >= 0 && v <= 127) {
        buf[0] = (unsigned char)v;
        return 1;
    }
    if (v >= -4096 && v <= 4095) {
        uint32_t u = (uint32_t)(v < 0 ? v + 8192 : v);

        buf[0] = (unsigned char)(0xC0 | (u >> 8));
        buf[1] = (unsigned char)(u & 0xFF);
        return 2;
    }
    uint64_t u = (uint64_t)v; /* two's complement bytes */
    uint32_t n;

    if (v >= INT16_MIN && v <= INT16_MAX) {
        buf[0] = 0xF1;
        n = 2;
    } else if (v >= -8388608 && v <= 8388607) {
        buf[0] = 0xF2;
        n = 3;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        buf[0] = 0xF3;
        n = 4;
    } else {
        buf[0] = 0xF4;
        n = 8;
    }
    for (uint32_t i = 0; i < n; i++)
        buf[1 + i] = (unsigned char)(u >> (8 * i));
    return 1 + n;
}

/* Decodes the int element at p (its encoding byte is an int one). */
static inline int64_t lp_decode_int(const unsigned char *p)
{
    unsigned char b = p[0];
    uint64_t u;

    if (b < 0x80)
        return b;
    if (b < 0xE0) { /* 13-bit */
        u = (uint64_t)(b & 0x1F) << 8 | p[1];
        return u >= 4096 ? (int64_t)u - 8192 : (int64_t)u;
    }
    switch (b) {
    case 0xF1:
        return (int16_t)(uint16_t)(p[1] | p[2] << 8);
    case 0xF2:
        u = (uint64_t)p[1] | (uint64_t)p[2] << 8 | (uint64_t)p[3] << 16;
        return u >= (1u << 23) ? (int64_t)u - (1 << 24) : (int64_t)u;
    case 0xF3:
        return (int32_t)rd_u32(p + 1);
    default: /* 0xF4 */
        u = (uint64_t)rd_u32(p + 1) | (uint64_t)rd_u32(p + 5) << 32;
        return (int64_t)u;
    }
}

/* 1 when the encoding byte b is a string's. */
static inline int lp_is_str(unsigned char b)
{
    return (b & 0xC0) == 0x80 || (b & 0xF0) == 0xE0 || b == 0xF0;
}

/* For a string element at p: its bytes and length. */
static inline const unsigned char *lp_str_at(const unsigned char *p, uint32_t *len)
{
    unsigned char b = p[0];

    if (b < 0xC0) {
        *len = b & 0x3F;
        return p + 1;
    }
    if (b < 0xF0) {
        *len = (uint32_t)(b & 0x0F) << 8 | p[1];
        return p + 2;
    }
    *len = rd_u32(p + 1);
    return p + 5;
}

/* ---- prepared elements -------------------------------------------------- */

/* A new element ready to write: hdr (encoding byte + length or the whole int)
 * followed by s[0..slen) for a string. */
struct lp_prep {
    unsigned char hdr[9];
    uint32_t hdrlen;
    const unsigned char *s;
    uint32_t slen;
    uint32_t size; /* enc + backlen */
};

static inline void lp_prep_int(struct lp_prep *e, int64_t v)
{
    e->hdrlen = lp_encode_int(e->hdr, v);
    e->s = NULL;
    e->slen = 0;
    e->size = e->hdrlen + lp_backlen_size(e->hdrlen);
}

/* Returns 0, or -1 when the string cannot be stored (len >= 4 GB). */
static inline int lp_prep_str(struct lp_prep *e, const void *s, size_t len)
{
    int64_t v;
    uint64_t enc;

    if (lp_str2i64(s, len, &v)) {
        lp_prep_int(e, v);
        return 0;
    }
    if (len > UINT32_MAX - 16)
        return -1;
    if (len < 64) {
        e->hdr[0] = (unsigned char)(0x80 | len);
        e->hdrlen = 1;
    } else if (len < 4096) {
        e->hdr[0] = (unsigned char)(0xE0 | (len >> 8));
        e->hdr[1] = (unsigned char)(len & 0xFF);
        e->hdrlen = 2;
    } else {
        e->hdr[0] = 0xF0;
        wr_u32(e->hdr + 1, (uint32_t)len);
        e->hdrlen = 5;
    }
    e->s = s;
    e->slen = (uint32_t)len;
    enc = (uint64_t)e->hdrlen + len;
    e->size = (uint32_t)(enc + lp_backlen_size(enc));
    return 0;
}

static inline int lp_prep_val(struct lp_prep *e, const struct lp_val *v)
{
    if (v->s == NULL) {
        lp_prep_int(e, v->i);
        return 0;
    }
    return lp_prep_str(e, v->s, v->len);
}

static inline void lp_prep_write(unsigned char *dst, const struct lp_prep *e)
{
    memcpy(dst, e->hdr, e->hdrlen);
    if (e->slen)
        memcpy(dst + e->hdrlen, e->s, e->slen);
    lp_write_backlen(dst + e->hdrlen + e->slen, (uint64_t)e->hdrlen + e->slen);
}

/* Replaces oldsz bytes at off with a hole of newsz bytes (invariant 4) and
 * updates total; count is the caller's. Returns the new buffer, or NULL (lp
 * unchanged) when growing fails or the pack would pass 4 GB. */
static unsigned char *lp_splice(unsigned char *lp, size_t off, size_t oldsz, size_t newsz)
{
    uint32_t total = lp_bytes(lp);
    uint64_t nt = (uint64_t)total - oldsz + newsz;
    size_t tail = total - off - oldsz;

    if (nt > UINT32_MAX)
        return NULL;
    if (newsz > oldsz) {
        unsigned char *n = realloc(lp, (size_t)nt);

        if (n == NULL)
            return NULL;
        lp = n;
        memmove(lp + off + newsz, lp + off + oldsz, tail);
    } else if (newsz < oldsz) {
        unsigned char *n;

        memmove(lp + off + newsz, lp + off + oldsz, tail);
        n = realloc(lp, (size_t)nt);
        if (n != NULL) /* a failed shrink keeps the larger block: harmless */
            lp = n;
    }
    set_bytes(lp, (uint32_t)nt);
    return lp;
}

/* ---- create / navigate / read ----------------------------------------- */

/* See lpack.h. */
unsigned char *lp_create(void)
{
    unsigned char *lp = malloc(LP_HDR + 1);

    if (lp == NULL)
        return NULL;
    set_bytes(lp, LP_HDR + 1);
    set_count(lp, 0);
    lp[LP_HDR] = LP_END;
    return lp;
}

/* See lpack.h. */
void lp_destroy(unsigned char *lp)
{
    free(lp);
}

/* See lpack.h. */
unsigned char *lp_first(unsigned char *lp)
{
    unsigned char *p = lp + LP_HDR;

    return *p == LP_END ? NULL : p;
}

/* See lpack.h. */
unsigned char *lp_last(unsigned char *lp)
{
    unsigned char *end = lp + lp_bytes(lp) - 1;

    return end == lp + LP_HDR ? NULL : lp_prev(lp, end);
}

/* See lpack.h. */
unsigned char *lp_next(unsigned char *lp, unsigned char *p)
{
    (void)lp;
    p += lp_elem_size(p);
    return *p == LP_END ? NULL : p;
}

/* See lpack.h. p may also be the end marker (then the last element). */
unsigned char *lp_prev(unsigned char *lp, unsigned char *p)
{
    uint32_t l;

    if (p <= lp + LP_HDR)
        return NULL;
    l = lp_read_backlen(p - 1);
    return p - l - lp_backlen_size(l);
}

/* See lpack.h. */
unsigned char *lp_seek(unsigned char *lp, long index)
{
    uint32_t n = lp_count(lp);
    unsigned char *p;

    if (index < 0)
        index += (long)n;
    if (index < 0 || (unsigned long)index >= n)
        return NULL;
    if ((unsigned long)index <= n / 2) {
        p = lp + LP_HDR;
        for (long i = 0; i < index; i++)
            p += lp_elem_size(p);
    } else {
        p = lp + lp_bytes(lp) - 1;
        for (unsigned long i = n - (unsigned long)index; i > 0; i--)
            p = lp_prev(lp, p);
    }
    return p;
}

/* See lpack.h. */
void lp_get(const unsigned char *p, struct lp_val *v)
{
    if (lp_is_str(p[0])) {
        v->s = lp_str_at(p, &v->len);
        v->i = 0;
    } else {
        v->s = NULL;
        v->len = 0;
        v->i = lp_decode_int(p);
    }
}

/* See lpack.h. */
const unsigned char *lp_val_str(const struct lp_val *v, unsigned char *buf, size_t *len)
{
    unsigned char tmp[20];
    uint64_t u;
    size_t n = 0, k = 0;

    if (v->s != NULL) {
        *len = v->len;
        return v->s;
    }
    u = v->i < 0 ? 0 - (uint64_t)v->i : (uint64_t)v->i;
    do {
        tmp[n++] = (unsigned char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v->i < 0)
        buf[k++] = '-';
    while (n)
        buf[k++] = tmp[--n];
    buf[k] = '\0';
    *len = k;
    return buf;
}

/* A search key: the string and, when it is canonical, its integer. */
struct lp_key {
    const unsigned char *s;
    size_t len;
    int isint;
    int64_t i;
};

static inline void lp_key_init(struct lp_key *k, const void *s, size_t len)
{
    k->s = s;
    k->len = len;
    k->i = 0; /* read only when isint; set so no path sees it undefined */
    k->isint = lp_str2i64(s, len, &k->i);
}

static inline int lp_key_eq(const unsigned char *p, const struct lp_key *k)
{
    if (lp_is_str(p[0])) {
        uint32_t len;
        const unsigned char *s = lp_str_at(p, &len);

        return len == k->len && (len == 0 || memcmp(s, k->s, len) == 0);
    }
    return k->isint && lp_decode_int(p) == k->i;
}

/* See lpack.h. */
int lp_eq(const unsigned char *p, const void *s, size_t len)
{
    struct lp_key k;

    lp_key_init(&k, s, len);
    return lp_key_eq(p, &k);
}

/* Size of the element at p, with the two commonest encodings (7-bit int,
 * short string: one-byte backlen) decoded inline. */
static inline uint32_t lp_skip_size(const unsigned char *p)
{
    unsigned char b = *p;

    if (b < 0x80)
        return 2;
    if (b < 0xC0)
        return (uint32_t)(b & 0x3F) + 2;
    return lp_elem_size(p);
}

/* See lpack.h. */
unsigned char *lp_find(unsigned char *lp, unsigned char *p, const void *s, size_t len, unsigned skip)
{
    struct lp_key k;

    (void)lp;
    if (p == NULL)
        return NULL;
    lp_key_init(&k, s, len);
    for (;;) {
        unsigned char b = *p;

        if (b == LP_END)
            return NULL;
        /* Fast path for the common short string (6-bit length, one-byte
         * backlen); the last byte first, as keys often share a prefix. */
        if ((b & 0xC0) == 0x80) {
            uint32_t l = b & 0x3F;

            if (l == k.len && (l == 0 || (p[l] == k.s[l - 1] && memcmp(p + 1, k.s, l) == 0)))
                return p;
            p += l + 2;
        } else {
            if (lp_key_eq(p, &k))
                return p;
            p += lp_elem_size(p);
        }
        for (unsigned i = 0; i < skip; i++) {
            if (*p == LP_END)
                return NULL;
            p += lp_skip_size(p);
        }
    }
}

/* See lpack.h. */
unsigned char *lp_find_int(unsigned char *lp, unsigned char *p, int64_t v, unsigned skip)
{
    (void)lp;
    if (p == NULL)
        return NULL;
    for (;;) {
        unsigned char b = *p;

        if (b == LP_END)
            return NULL;
        if (b < 0x80) {
            if (v == b)
                return p;
        } else if (!lp_is_str(b) && lp_decode_int(p) == v) {
            return p;
        }
        p += lp_skip_size(p);
        for (unsigned i = 0; i < skip; i++) {
            if (*p == LP_END)
                return NULL;
            p += lp_skip_size(p);
        }
    }
}

/* ---- modify -------------------------------------------------------------- */

/* Inserts the prepared element before p (NULL: append). */
static unsigned char *lp_insert_prep(unsigned char *lp, unsigned char *p, const struct lp_prep *e,
                                     unsigned char **newp)
{
    size_t off = p ? (size_t)(p - lp) : lp_bytes(lp) - 1;

    lp = lp_splice(lp, off, 0, e->size);
    if (lp == NULL)
        return NULL;
    lp_prep_write(lp + off, e);
    set_count(lp, lp_count(lp) + 1);
    if (newp)
        *newp = lp + off;
    return lp;
}

/* See lpack.h. */
unsigned char *lp_insert(unsigned char *lp, unsigned char *p, const void *s, size_t len, unsigned char **newp)
{
    struct lp_prep e;

    if (lp_prep_str(&e, s, len) < 0)
        return NULL;
    return lp_insert_prep(lp, p, &e, newp);
}

/* See lpack.h. */
unsigned char *lp_insert_int(unsigned char *lp, unsigned char *p, int64_t v, unsigned char **newp)
{
    struct lp_prep e;

    lp_prep_int(&e, v);
    return lp_insert_prep(lp, p, &e, newp);
}

/* Replaces the element at p with the prepared one. */
static unsigned char *lp_replace_prep(unsigned char *lp, unsigned char *p, const struct lp_prep *e,
                                      unsigned char **newp)
{
    size_t off = (size_t)(p - lp);

    lp = lp_splice(lp, off, lp_elem_size(p), e->size);
    if (lp == NULL)
        return NULL;
    lp_prep_write(lp + off, e);
    if (newp)
        *newp = lp + off;
    return lp;
}

/* See lpack.h. */
unsigned char *lp_replace(unsigned char *lp, unsigned char *p, const void *s, size_t len, unsigned char **newp)
{
    struct lp_prep e;

    if (lp_prep_str(&e, s, len) < 0)
        return NULL;
    return lp_replace_prep(lp, p, &e, newp);
}

/* See lpack.h. */
unsigned char *lp_replace_int(unsigned char *lp, unsigned char *p, int64_t v, unsigned char **newp)
{
    struct lp_prep e;

    lp_prep_int(&e, v);
    return lp_replace_prep(lp, p, &e, newp);
}

/* See lpack.h. */
unsigned char *lp_delete(unsigned char *lp, unsigned char *p, uint32_t n, unsigned char **nextp)
{
    size_t off = (size_t)(p - lp);
    unsigned char *q = p;
    uint32_t i = 0;

    while (i < n && *q != LP_END) {
        q += lp_elem_size(q);
        i++;
    }
    if (i > 0) {
        lp = lp_splice(lp, off, (size_t)(q - p), 0); /* shrinking never fails */
        set_count(lp, lp_count(lp) - i);
    }
    if (nextp)
        *nextp = lp[off] == LP_END ? NULL : lp + off;
    return lp;
}

/* See lpack.h. */
unsigned char *lp_append_many(unsigned char *lp, const struct lp_val *vals, size_t n)
{
    struct lp_prep e;
    uint64_t add = 0;
    size_t off = lp_bytes(lp) - 1;

    if (n == 0)
        return lp;
    for (size_t i = 0; i < n; i++) {
        if (lp_prep_val(&e, &vals[i]) < 0)
            return NULL;
        add += e.size;
        if (add > UINT32_MAX)
            return NULL;
    }
    lp = lp_splice(lp, off, 0, (size_t)add);
    if (lp == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        lp_prep_val(&e, &vals[i]);
        lp_prep_write(lp + off, &e);
        off += e.size;
    }
    set_count(lp, lp_count(lp) + (uint32_t)n);
    return lp;
}

/* ---- validation ----------------------------------------------------------- */

/* See lpack.h. Checks invariants 1 and 3 without trusting any length: every
 * read is bounds-checked against the end marker first. */
int lp_validate(const unsigned char *lp, size_t size)
{
    const unsigned char *p, *end;
    uint64_t n = 0;

    if (lp == NULL || size < LP_HDR + 1 || size > UINT32_MAX)
        return 0;
    if (lp_bytes(lp) != size || lp[size - 1] != LP_END)
        return 0;
    p = lp + LP_HDR;
    end = lp + size - 1;
    while (p < end) {
        size_t avail = (size_t)(end - p);
        unsigned char b = p[0];
        unsigned char bl[5];
        uint64_t enc;
        uint32_t bn;

        if (b < 0x80) {
            enc = 1;
        } else if (b < 0xC0) {
            enc = 1 + (uint64_t)(b & 0x3F);
        } else if (b < 0xE0) {
            enc = 2;
        } else if (b < 0xF0) {
            if (avail < 2)
                return 0;
            enc = 2 + ((uint64_t)(b & 0x0F) << 8 | p[1]);
        } else {
            switch (b) {
            case 0xF0:
                if (avail < 5)
                    return 0;
                enc = 5 + (uint64_t)rd_u32(p + 1);
                break;
            case 0xF1:
                enc = 3;
                break;
            case 0xF2:
                enc = 4;
                break;
            case 0xF3:
                enc = 5;
                break;
            case 0xF4:
                enc = 9;
                break;
            default:
                return 0;
            }
        }
        if (enc >= avail)
            return 0;
        bn = lp_write_backlen(bl, enc);
        if (enc + bn > avail || memcmp(p + enc, bl, bn) != 0)
            return 0;
        p += enc + bn;
        n++;
    }
    return n == lp_count(lp);
}
