/*
 * lpack.h -- the compact single-buffer encoding small collections use
 * (hashes, sets, sorted sets, list nodes): a sequence of elements, each a
 * string or an integer, in one allocation, traversable both ways.
 *
 * Byte layout (little endian), the same scheme as Redis's listpack so that
 * per-element overhead is the same (1-2 bytes for small items):
 *
 *   +--------+--------+---------+---------+-----+------+
 *   | total  | count  | elem 0  | elem 1  | ... | 0xFF |
 *   | u32    | u32    |         |         |     | end  |
 *   +--------+--------+---------+---------+-----+------+
 *
 *   element = encoding (+ payload) + backlen
 *     0xxxxxxx                        7-bit unsigned int
 *     10xxxxxx <str>                  string of 0..63 bytes
 *     110xxxxx yyyyyyyy               13-bit signed int
 *     1110xxxx yyyyyyyy <str>         string of up to 4095 bytes
 *     11110000 <u32 len> <str>        string of up to 2^32-1 bytes
 *     11110001 <i16> | 11110010 <i24> | 11110011 <i32> | 11110100 <i64>
 *   backlen = the element's size without backlen, in 1..5 bytes of 7 bits,
 *     written so it can be read right to left (high bit = more bytes).
 *
 * Invariants:
 *  1. total is the buffer's size in bytes; count the number of elements.
 *  2. A string that is the canonical text of an int64 is stored as an int
 *     (so lookups compare integers, and "10" and "010" stay distinct).
 *  3. Positions (unsigned char *) are invalidated by any call that
 *     modifies the buffer; modifying calls return the new buffer and, where
 *     useful, the new position.
 *
 * Not thread-safe; the owner (a keyspace entry under its shard lock) guards it.
 */
#ifndef STRATA_LPACK_H
#define STRATA_LPACK_H

#include <stddef.h>
#include <stdint.h>

#define LP_HDR 8
#define LP_END 0xFF

/* An element's value: a string (s, len) or, when s is NULL, an integer. */
struct lp_val {
    const unsigned char *s;
    uint32_t len;
    int64_t i;
};

/* An empty pack. Returns it owned, or NULL. */
unsigned char *lp_create(void);
void lp_destroy(unsigned char *lp);

static inline uint32_t lp_bytes(const unsigned char *lp)
{
    return (uint32_t)lp[0] | (uint32_t)lp[1] << 8 | (uint32_t)lp[2] << 16 | (uint32_t)lp[3] << 24;
}

static inline uint32_t lp_count(const unsigned char *lp)
{
    return (uint32_t)lp[4] | (uint32_t)lp[5] << 8 | (uint32_t)lp[6] << 16 | (uint32_t)lp[7] << 24;
}

/* Navigation: NULL past either end. lp_prev also accepts the end marker's
 * position (lp + lp_bytes(lp) - 1) and returns the last element. lp_seek takes negative indexes from the
 * end (-1 = last); O(n) from the nearer end. */
unsigned char *lp_first(unsigned char *lp);
unsigned char *lp_last(unsigned char *lp);
unsigned char *lp_next(unsigned char *lp, unsigned char *p);
unsigned char *lp_prev(unsigned char *lp, unsigned char *p);
unsigned char *lp_seek(unsigned char *lp, long index);

/* Reads the element at p. */
void lp_get(const unsigned char *p, struct lp_val *v);

/* Formats v as text into buf (>= 21 bytes) when it is an int; returns the
 * bytes (v->s or buf) and sets *len. */
const unsigned char *lp_val_str(const struct lp_val *v, unsigned char *buf, size_t *len);

/* 1 when the element at p equals the string s[0..len) (int elements compare
 * by value against s's integer form, invariant 2). */
int lp_eq(const unsigned char *p, const void *s, size_t len);

/* Finds, from p, the first element equal to s, looking only at every
 * (skip+1)-th element (skip = 1 finds fields of field/value pairs). Returns
 * its position or NULL. */
unsigned char *lp_find(unsigned char *lp, unsigned char *p, const void *s, size_t len, unsigned skip);

/* As lp_find for an integer: matches int elements equal to v (string
 * elements never match; by invariant 2 packs written here hold no canonical
 * integer as a string). No parsing or formatting per element. */
unsigned char *lp_find_int(unsigned char *lp, unsigned char *p, int64_t v, unsigned skip);

/* Inserts a string (stored as int when canonical) before p (p == NULL:
 * append). Returns the new buffer (NULL on OOM: lp unchanged); *newp (if not
 * NULL) is set to the inserted element. */
unsigned char *lp_insert(unsigned char *lp, unsigned char *p, const void *s, size_t len, unsigned char **newp);
unsigned char *lp_insert_int(unsigned char *lp, unsigned char *p, int64_t v, unsigned char **newp);

static inline unsigned char *lp_append(unsigned char *lp, const void *s, size_t len)
{
    return lp_insert(lp, NULL, s, len, NULL);
}

/* Replaces the element at p. Returns the new buffer (NULL on OOM); *newp is
 * the replaced element's new position. */
unsigned char *lp_replace(unsigned char *lp, unsigned char *p, const void *s, size_t len, unsigned char **newp);
/* As lp_replace with an integer (HINCRBY): no realloc when the encoding
 * size does not change. */
unsigned char *lp_replace_int(unsigned char *lp, unsigned char *p, int64_t v, unsigned char **newp);

/* Deletes n elements from p. Returns the new buffer; *nextp (if not NULL) is
 * the element that followed them, or NULL. Never fails (shrinks in place). */
unsigned char *lp_delete(unsigned char *lp, unsigned char *p, uint32_t n, unsigned char **nextp);

/* Appends several elements at once (HSET of many fields): one realloc. */
unsigned char *lp_append_many(unsigned char *lp, const struct lp_val *vals, size_t n);

/* Validates a pack from an untrusted source (snapshots, tier records): every
 * header, length and backlen consistent, within size. Returns 1 when valid. */
int lp_validate(const unsigned char *lp, size_t size);

#endif
