/*
 * bitops.c -- bit algorithms for SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
 * (see bitops.h for the bit numbering and every contract).
 *
 * What it owns: counting, searching and combining bits in caller buffers, and
 * the integer-field arithmetic of BITFIELD with Redis's overflow rules. What
 * it does not own: strings and their growth (engine/entry.c via
 * server/cmd_bitmap.c), replies, locking.
 *
 * Data model: a bitmap is a plain byte string. Bit i lives in byte i / 8 at
 * mask 0x80 >> (i % 8) (MSB first). Reading 64-bit words for speed therefore
 * loads them big-endian (util_load_be64 below), so that "first bit in string
 * order" is "highest bit of the word" and __builtin_clzll finds it.
 *
 * Invariants:
 *  1. No function reads or writes outside the byte range its contract names;
 *     word loops use memcpy for unaligned loads and finish byte by byte.
 *  2. All arithmetic on user-supplied integers (offsets, SET values,
 *     increments) is done in uint64_t where it may wrap, so nothing here has
 *     undefined behaviour under UBSan, yet the results equal Redis's, whose C
 *     code relies on two's-complement wrap-around in a few places (see
 *     bitops_overflow_signed).
 *  3. Range rules and the order of checks are Redis 7.0's (bitops.c:
 *     bitcountCommand, bitposCommand, getBitOffsetFromArgument,
 *     getBitfieldTypeFromArgument, checkSignedBitfieldOverflow,
 *     checkUnsignedBitfieldOverflow).
 *
 * Threads: reentrant; called by command handlers on any worker under the
 * key's shard lock, and by tests/unit/engine/test_bitops.c.
 *
 * Speed: popcount runs over 64-bit words with four accumulators; on x86-64
 * it is compiled twice (target_clones) so CPUs with POPCNT use the
 * instruction, chosen once at load time by the dynamic linker.
 *
 * References: Redis 7.0 src/bitops.c and the BITFIELD documentation
 * (https://redis.io/commands/bitfield/).
 */
#include "engine/bitops.h"

#include <limits.h>
#include <string.h>

#include "engine/err.h"
#include "engine/util.h"

static inline uint64_t load_be64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* ------------------------------------------------------------------------ */
/* Population count                                                         */
/* ------------------------------------------------------------------------ */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BITOPS_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define BITOPS_CLONES
#endif

BITOPS_CLONES
uint64_t bitops_popcount(const void *vp, size_t len)
{
    const unsigned char *p = vp;
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;

    for (; i + 32 <= len; i += 32) {
        uint64_t w0, w1, w2, w3;

        memcpy(&w0, p + i, 8);
        memcpy(&w1, p + i + 8, 8);
        memcpy(&w2, p + i + 16, 8);
        memcpy(&w3, p + i + 24, 8);
        a += (uint64_t)__builtin_popcountll(w0);
        b += (uint64_t)__builtin_popcountll(w1);
        c += (uint64_t)__builtin_popcountll(w2);
        d += (uint64_t)__builtin_popcountll(w3);
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t w;

        memcpy(&w, p + i, 8);
        a += (uint64_t)__builtin_popcountll(w);
    }
    for (; i < len; i++)
        b += (uint64_t)__builtin_popcount(p[i]);
    return a + b + c + d;
}

uint64_t bitops_count_range(const void *vp, uint64_t first, uint64_t last)
{
    const unsigned char *p = vp;
    uint64_t fb = first >> 3, lb = last >> 3;
    /* bits of the first / last byte that lie inside the range */
    unsigned char fmask = (unsigned char)(0xffu >> (first & 7));
    unsigned char lmask = (unsigned char)(0xffu << (7 - (last & 7)));

    if (fb == lb)
        return (uint64_t)__builtin_popcount(p[fb] & fmask & lmask);
    return (uint64_t)__builtin_popcount(p[fb] & fmask) + bitops_popcount(p + fb + 1, (size_t)(lb - fb - 1)) +
           (uint64_t)__builtin_popcount(p[lb] & lmask);
}

/* ------------------------------------------------------------------------ */
/* First 0 / 1                                                              */
/* ------------------------------------------------------------------------ */

/* First bit equal to `bit` in byte v restricted to mask (MSB-first), or -1. */
static int byte_find(unsigned char v, unsigned char mask, int bit)
{
    unsigned x = (bit ? v : (unsigned char)~v) & mask;

    return x ? __builtin_clz(x) - (int)(sizeof(unsigned) * CHAR_BIT - 8) : -1;
}

int64_t bitops_find(const void *vp, uint64_t first, uint64_t last, int bit)
{
    const unsigned char *p = vp;
    uint64_t fb = first >> 3, lb = last >> 3;
    unsigned char fmask = (unsigned char)(0xffu >> (first & 7));
    unsigned char lmask = (unsigned char)(0xffu << (7 - (last & 7)));
    uint64_t skip = bit ? 0 : UINT64_MAX; /* a word with nothing to find */
    uint64_t i;
    int r;

    if (fb == lb) {
        r = byte_find(p[fb], fmask & lmask, bit);
        return r < 0 ? -1 : (int64_t)(fb * 8 + (uint64_t)r);
    }
    r = byte_find(p[fb], fmask, bit);
    if (r >= 0)
        return (int64_t)(fb * 8 + (uint64_t)r);
    i = fb + 1;
    for (; i + 8 <= lb; i += 8) {
        uint64_t w = load_be64(p + i);

        if (w != skip) {
            w = bit ? w : ~w;
            return (int64_t)(i * 8 + (uint64_t)__builtin_clzll(w));
        }
    }
    for (; i < lb; i++) {
        r = byte_find(p[i], 0xff, bit);
        if (r >= 0)
            return (int64_t)(i * 8 + (uint64_t)r);
    }
    r = byte_find(p[lb], lmask, bit);
    return r < 0 ? -1 : (int64_t)(lb * 8 + (uint64_t)r);
}

/* ------------------------------------------------------------------------ */
/* Ranges                                                                   */
/* ------------------------------------------------------------------------ */

int bitops_range(long long start, long long end, int bit_units, size_t len, int neg_shortcut,
                 uint64_t *first, uint64_t *last)
{
    /* A string is at most 4 GB here, so totlen and totlen + negative index
     * never overflow a long long. */
    long long totlen = (long long)len * (bit_units ? 8 : 1);

    if (neg_shortcut && start < 0 && end < 0 && start > end)
        return 0;
    if (start < 0)
        start = totlen + start;
    if (end < 0)
        end = totlen + end;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= totlen)
        end = totlen - 1;
    if (start > end)
        return 0;
    if (bit_units) {
        *first = (uint64_t)start;
        *last = (uint64_t)end;
    } else {
        *first = (uint64_t)start * 8;
        *last = (uint64_t)end * 8 + 7;
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* BITOP                                                                    */
/* ------------------------------------------------------------------------ */

/* Byte j of source i, zero past its end. */
static inline unsigned char src_byte(const unsigned char *const *src, const size_t *slen, size_t i, size_t j)
{
    return j < slen[i] ? src[i][j] : 0;
}

void bitops_op(enum bitops_op op, unsigned char *dst, size_t dlen, const unsigned char *const *src,
               const size_t *slen, size_t n)
{
    size_t minlen = SIZE_MAX, j = 0;

    if (op == BITOPS_NOT)
        n = 1;
    for (size_t i = 0; i < n; i++)
        if (slen[i] < minlen)
            minlen = slen[i];
    if (minlen > dlen)
        minlen = dlen;

    /* Word loop over the prefix every source covers. */
    for (; j + 8 <= minlen; j += 8) {
        uint64_t acc, w;

        memcpy(&acc, src[0] + j, 8);
        switch (op) {
        case BITOPS_NOT:
            acc = ~acc;
            break;
        case BITOPS_AND:
            for (size_t i = 1; i < n; i++) {
                memcpy(&w, src[i] + j, 8);
                acc &= w;
            }
            break;
        case BITOPS_OR:
            for (size_t i = 1; i < n; i++) {
                memcpy(&w, src[i] + j, 8);
                acc |= w;
            }
            break;
        case BITOPS_XOR:
            for (size_t i = 1; i < n; i++) {
                memcpy(&w, src[i] + j, 8);
                acc ^= w;
            }
            break;
        }
        memcpy(dst + j, &acc, 8);
    }
    /* The rest byte by byte, shorter sources reading as zeros. */
    for (; j < dlen; j++) {
        unsigned char acc = src_byte(src, slen, 0, j);

        switch (op) {
        case BITOPS_NOT:
            acc = (unsigned char)~acc;
            break;
        case BITOPS_AND:
            for (size_t i = 1; i < n && acc; i++)
                acc &= src_byte(src, slen, i, j);
            break;
        case BITOPS_OR:
            for (size_t i = 1; i < n; i++)
                acc |= src_byte(src, slen, i, j);
            break;
        case BITOPS_XOR:
            for (size_t i = 1; i < n; i++)
                acc ^= src_byte(src, slen, i, j);
            break;
        }
        dst[j] = acc;
    }
}

/* ------------------------------------------------------------------------ */
/* BITFIELD                                                                 */
/* ------------------------------------------------------------------------ */

int bitops_parse_type(const char *s, size_t len, int *sign, unsigned *bits)
{
    long long n;

    if (len < 2 || (s[0] != 'i' && s[0] != 'u'))
        return ST_EINVAL;
    /* Redis reads the width with strlen(): a NUL ends it. */
    size_t wl = strnlen(s + 1, len - 1);
    if (util_str2ll(s + 1, wl, &n) != ST_OK || n < 1)
        return ST_EINVAL;
    if ((s[0] == 'i' && n > 64) || (s[0] == 'u' && n > 63))
        return ST_EINVAL;
    *sign = s[0] == 'i';
    *bits = (unsigned)n;
    return ST_OK;
}

int bitops_parse_offset(const char *s, size_t len, unsigned hash_bits, uint64_t max_bytes, uint64_t *out)
{
    int usehash = len > 0 && s[0] == '#' && hash_bits > 0;
    long long v;

    if (util_str2ll(s + usehash, len - (size_t)usehash, &v) != ST_OK || v < 0)
        return ST_EINVAL;
    if (usehash) {
        /* Redis multiplies without a check (and may wrap); a product this
         * large is out of range anyway. */
        if ((unsigned long long)v > (unsigned long long)LLONG_MAX / hash_bits)
            return ST_EINVAL;
        v *= (long long)hash_bits;
    }
    if ((uint64_t)v >> 3 >= max_bytes)
        return ST_EINVAL;
    *out = (uint64_t)v;
    return ST_OK;
}

uint64_t bitops_get_unsigned(const void *vp, size_t len, uint64_t off, unsigned bits)
{
    const unsigned char *p = vp;
    uint64_t byte = off >> 3;
    unsigned shift = (unsigned)(off & 7);
    unsigned char b[9];
    uint64_t hi;

    /* The field spans at most 9 bytes; copy them zero-padded. */
    for (unsigned i = 0; i < 9; i++)
        b[i] = byte + i < len ? p[byte + i] : 0;
    hi = load_be64(b);
    /* bits [shift, shift + 64) of the 72-bit window b[0..9) */
    if (shift)
        hi = (hi << shift) | ((uint64_t)b[8] >> (8 - shift));
    return bits == 64 ? hi : hi >> (64 - bits);
}

int64_t bitops_get_signed(const void *p, size_t len, uint64_t off, unsigned bits)
{
    uint64_t v = bitops_get_unsigned(p, len, off, bits);

    if (bits < 64 && (v & ((uint64_t)1 << (bits - 1))))
        v |= UINT64_MAX << bits; /* sign-extend */
    return (int64_t)v;
}

void bitops_set_field(void *vp, uint64_t off, unsigned bits, uint64_t v)
{
    unsigned char *p = vp;

    /* Bit by bit from the most significant, as the field may start and end
     * anywhere in a byte; at most 64 iterations. */
    for (unsigned i = 0; i < bits; i++) {
        uint64_t pos = off + i;
        unsigned char mask = (unsigned char)(0x80u >> (pos & 7));

        if ((v >> (bits - 1 - i)) & 1)
            p[pos >> 3] |= mask;
        else
            p[pos >> 3] &= (unsigned char)~mask;
    }
}

/* value + incr wrapped to `bits` bits, sign-extended when sign is set. */
static uint64_t wrap_bits(uint64_t value, uint64_t incr, unsigned bits, int sign)
{
    uint64_t r = value + incr;

    if (bits == 64)
        return r;
    if (sign && (r & ((uint64_t)1 << (bits - 1))))
        return r | (UINT64_MAX << bits);
    return r & ~(UINT64_MAX << bits);
}

int bitops_overflow_signed(int64_t value, int64_t incr, unsigned bits, enum bitops_overflow how,
                           int64_t *res)
{
    int64_t max = bits == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
    int64_t min = -max - 1;
    /* Redis computes max - value and min - value in int64 and lets them
     * wrap; the comparisons below use the same wrapped values (computed
     * without undefined behaviour), so edge cases answer as Redis does. */
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
    int dir = 0;

    if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr))
        dir = 1;
    else if (value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr))
        dir = -1;
    if (dir == 0)
        return 0;
    if (how == BITOPS_WRAP)
        *res = (int64_t)wrap_bits((uint64_t)value, (uint64_t)incr, bits, 1);
    else if (how == BITOPS_SAT)
        *res = dir > 0 ? max : min;
    return dir;
}

int bitops_overflow_unsigned(uint64_t value, int64_t incr, unsigned bits, enum bitops_overflow how,
                             uint64_t *res)
{
    uint64_t max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    int64_t maxincr = (int64_t)(max - value);
    int64_t minincr = (int64_t)(0 - value);
    int dir = 0;

    if (value > max || (incr > 0 && incr > maxincr))
        dir = 1;
    else if (incr < 0 && incr < minincr)
        dir = -1;
    if (dir == 0)
        return 0;
    if (how == BITOPS_WRAP)
        *res = wrap_bits(value, (uint64_t)incr, bits, 0);
    else if (how == BITOPS_SAT)
        *res = dir > 0 ? max : 0;
    return dir;
}

int bitops_field_run(const struct bitops_field *f, unsigned char *p, size_t len, int64_t *reply, int *changed)
{
    *changed = 0;
    if (f->op == BITOPS_GET) {
        if (f->sign)
            *reply = bitops_get_signed(p, len, f->offset, f->bits);
        else
            *reply = (int64_t)bitops_get_unsigned(p, len, f->offset, f->bits);
        return 1;
    }
    if (f->sign) {
        int64_t oldv = bitops_get_signed(p, len, f->offset, f->bits), newv, wrapped = 0;
        int ov;

        if (f->op == BITOPS_INCRBY) {
            ov = bitops_overflow_signed(oldv, f->arg, f->bits, f->overflow, &wrapped);
            newv = ov ? wrapped : (int64_t)((uint64_t)oldv + (uint64_t)f->arg);
            *reply = newv;
        } else {
            newv = f->arg;
            ov = bitops_overflow_signed(newv, 0, f->bits, f->overflow, &wrapped);
            if (ov)
                newv = wrapped;
            *reply = oldv;
        }
        if (ov && f->overflow == BITOPS_FAIL)
            return 0;
        bitops_set_field(p, f->offset, f->bits, (uint64_t)newv);
        *changed = oldv != newv;
    } else {
        uint64_t oldv = bitops_get_unsigned(p, len, f->offset, f->bits), newv, wrapped = 0;
        int ov;

        if (f->op == BITOPS_INCRBY) {
            newv = oldv + (uint64_t)f->arg;
            ov = bitops_overflow_unsigned(oldv, f->arg, f->bits, f->overflow, &wrapped);
            if (ov)
                newv = wrapped;
            *reply = (int64_t)newv;
        } else {
            newv = (uint64_t)f->arg;
            ov = bitops_overflow_unsigned(newv, 0, f->bits, f->overflow, &wrapped);
            if (ov)
                newv = wrapped;
            *reply = (int64_t)oldv;
        }
        if (ov && f->overflow == BITOPS_FAIL)
            return 0;
        bitops_set_field(p, f->offset, f->bits, newv);
        *changed = oldv != newv;
    }
    return 1;
}
