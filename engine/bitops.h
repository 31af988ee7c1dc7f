/*
 * bitops.h -- the pure bit algorithms behind the bitmap commands: population
 * count, first 0/1 in a range, BITOP's AND/OR/XOR/NOT, and BITFIELD's
 * integer fields with their overflow rules, plus the argument grammar those
 * commands share (ranges, bit offsets, field types).
 *
 * Bit numbering is Redis's: bit 0 of a string is the most significant bit of
 * its first byte, bit 7 the least significant one, bit 8 the MSB of the
 * second byte, and so on. A BITFIELD integer of `bits` bits at offset o is
 * stored big-endian in bits o .. o+bits-1.
 *
 * Every function is a leaf: no locks, no allocation, no keyspace; buffers are
 * borrowed. server/cmd_bitmap.c maps the return codes to Redis's errors.
 */
#ifndef STRATA_BITOPS_H
#define STRATA_BITOPS_H

#include <stddef.h>
#include <stdint.h>

/* Number of 1 bits in p[0..len). */
uint64_t bitops_popcount(const void *p, size_t len);

/* Number of 1 bits among bits first..last (inclusive) of p; first <= last
 * and p must hold last / 8 + 1 bytes. */
uint64_t bitops_count_range(const void *p, uint64_t first, uint64_t last);

/* Position of the first bit equal to `bit` (0 or 1) among bits first..last
 * (inclusive) of p, or -1 when there is none. first <= last and p must hold
 * last / 8 + 1 bytes. */
int64_t bitops_find(const void *p, uint64_t first, uint64_t last, int bit);

/* BITCOUNT / BITPOS ranges: clamps the inclusive range [start, end] given in
 * bytes (bit_units 0) or bits (bit_units 1) to a string of len bytes, with
 * Redis 7.0's rules (negative indexes count from the end; end is clamped to
 * the last unit; start below 0 becomes 0). With neg_shortcut (BITCOUNT, not
 * BITPOS), start < 0 && end < 0 && start > end is empty before conversion.
 * Returns 1 and sets the inclusive bit range *first..*last, or 0 when the
 * range is empty. */
int bitops_range(long long start, long long end, int bit_units, size_t len, int neg_shortcut,
                 uint64_t *first, uint64_t *last);

/* BITOP. */
enum bitops_op {
    BITOPS_AND = 0,
    BITOPS_OR = 1,
    BITOPS_XOR = 2,
    BITOPS_NOT = 3,
};

/* Computes dst[0..dlen) = op over the n sources src[i][0..slen[i]) (each
 * borrowed; NULL with slen 0 for a missing key), a source shorter than dlen
 * reading as zero-padded. NOT uses src[0] only. dst may not overlap a
 * source. n >= 1. */
void bitops_op(enum bitops_op op, unsigned char *dst, size_t dlen, const unsigned char *const *src,
               const size_t *slen, size_t n);

/* BITFIELD. */
enum bitops_overflow {
    BITOPS_WRAP = 0,
    BITOPS_SAT = 1,
    BITOPS_FAIL = 2,
};

enum bitops_fop {
    BITOPS_GET = 0,
    BITOPS_SET = 1,
    BITOPS_INCRBY = 2,
};

struct bitops_field {
    uint64_t offset;   /* in bits */
    int64_t arg;       /* SET value or INCRBY increment */
    uint8_t op;        /* enum bitops_fop */
    uint8_t overflow;  /* enum bitops_overflow */
    uint8_t bits;      /* 1..64 signed, 1..63 unsigned */
    uint8_t sign;      /* 1: iN, 0: uN */
};

/* Parses a field type "i1".."i64" or "u1".."u63" (lower-case letter, then a
 * strict base-10 width). Returns 0, or ST_EINVAL ("Invalid bitfield type"). */
int bitops_parse_type(const char *s, size_t len, int *sign, unsigned *bits);

/* Parses a bit offset argument: a non-negative integer, or, when hash_bits >
 * 0 (BITFIELD), also "#n" meaning n * hash_bits. The offset's byte (offset /
 * 8) must be below max_bytes (proto-max-bulk-len). Returns 0, or ST_EINVAL
 * ("bit offset is not an integer or out of range"). */
int bitops_parse_offset(const char *s, size_t len, unsigned hash_bits, uint64_t max_bytes, uint64_t *out);

/* Reads the unsigned / signed field of `bits` bits at bit offset off of
 * p[0..len); bits past len read as 0. */
uint64_t bitops_get_unsigned(const void *p, size_t len, uint64_t off, unsigned bits);
int64_t bitops_get_signed(const void *p, size_t len, uint64_t off, unsigned bits);

/* Writes the low `bits` bits of v at bit offset off of p, which must hold
 * (off + bits - 1) / 8 + 1 bytes. */
void bitops_set_field(void *p, uint64_t off, unsigned bits, uint64_t v);

/* Redis's overflow rules for value + incr in a field of `bits` bits (SET
 * passes the new value with incr 0). Returns 0 (no overflow), 1 (above the
 * maximum) or -1 (below the minimum); on overflow *res is the wrapped (WRAP)
 * or saturated (SAT) value, and is left alone for FAIL. Without overflow *res
 * is not written. Like Redis, an unsigned SET of a negative value counts as
 * overflow above the maximum (SAT stores the maximum), and a signed SET of a
 * value within 2^(bits-1) of INT64_MIN saturates to the maximum. */
int bitops_overflow_signed(int64_t value, int64_t incr, unsigned bits, enum bitops_overflow how,
                           int64_t *res);
int bitops_overflow_unsigned(uint64_t value, int64_t incr, unsigned bits, enum bitops_overflow how,
                             uint64_t *res);

/* Runs one BITFIELD operation on p[0..len). For SET and INCRBY, p must hold
 * the whole field (len >= (offset + bits - 1) / 8 + 1). Returns 1 with *reply
 * the value to reply (GET: the field; SET: the old value; INCRBY: the new
 * value) and *changed set when bytes changed, or 0 when OVERFLOW FAIL
 * refused the write (nil reply; nothing written). */
int bitops_field_run(const struct bitops_field *f, unsigned char *p, size_t len, int64_t *reply, int *changed);

#endif
