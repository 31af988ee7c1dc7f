/*
 * intset.c -- sets of integers as one sorted array (see intset.h).
 *
 * What it owns: the bytes of one intset -- width upgrades, binary search,
 * insertion and removal, validation of untrusted blobs. What it does not own:
 * when a set leaves this encoding (set-max-intset-entries, a non-integer
 * member: the set type decides), locking (the owning entry's shard lock),
 * randomness (callers pass a random number).
 *
 * Data model (little endian, Redis's intset layout byte for byte):
 *
 *   offset 0  u32 encoding   bytes per element: 2, 4 or 8
 *   offset 4  u32 length     number of elements
 *   offset 8  length * encoding bytes: signed integers, ascending, unique
 *
 * Invariants (cited in the code):
 *  1. Strictly ascending elements (binary search).
 *  2. The allocation is exactly INTSET_HDR + length * encoding bytes; every
 *     modifying call does at most one realloc and memmove.
 *  3. encoding is the narrowest width that held every value ever added; an
 *     upgrade is only ever caused by a value outside the current range, so
 *     that value is either below every member (goes first) or above every
 *     member (goes last).
 *
 * Threads: none of its own; callers hold the owning shard's lock.
 *
 * References: Redis src/intset.c (the layout and the upgrade rule); this is
 * an independent implementation.
 */
#include "engine/intset.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"

/* ---- raw access ---------------------------------------------------------- */

static inline uint32_t is_enc(const struct intset *is)
{
    return le32toh(is->encoding);
}

/* See intset.h. */
uint32_t intset_len(const struct intset *is)
{
    return le32toh(is->length);
}

static inline void set_len(struct intset *is, uint32_t n)
{
    is->length = htole32(n);
}

/* The width needed for v. */
static inline uint32_t width_for(int64_t v)
{
    if (v < INT32_MIN || v > INT32_MAX)
        return 8;
    if (v < INT16_MIN || v > INT16_MAX)
        return 4;
    return 2;
}

/* Reads the element at pos with width enc. */
static inline int64_t get_enc(const unsigned char *c, uint32_t pos, uint32_t enc)
{
    if (enc == 2) {
        uint16_t u;

        memcpy(&u, c + (size_t)pos * 2, 2);
        return (int16_t)le16toh(u);
    }
    if (enc == 4) {
        uint32_t u;

        memcpy(&u, c + (size_t)pos * 4, 4);
        return (int32_t)le32toh(u);
    }
    uint64_t u;

    memcpy(&u, c + (size_t)pos * 8, 8);
    return (int64_t)le64toh(u);
}

/* Writes v (which fits enc) at pos. */
static inline void set_enc(unsigned char *c, uint32_t pos, uint32_t enc, int64_t v)
{
    if (enc == 2) {
        uint16_t u = htole16((uint16_t)(int16_t)v);

        memcpy(c + (size_t)pos * 2, &u, 2);
    } else if (enc == 4) {
        uint32_t u = htole32((uint32_t)(int32_t)v);

        memcpy(c + (size_t)pos * 4, &u, 4);
    } else {
        uint64_t u = htole64((uint64_t)v);

        memcpy(c + (size_t)pos * 8, &u, 8);
    }
}

/* Reallocates to hold n elements of width enc (invariant 2). NULL on OOM or
 * size overflow (is unchanged). */
static struct intset *resize(struct intset *is, uint32_t n, uint32_t enc)
{
    uint64_t size = INTSET_HDR + (uint64_t)n * enc;

    if (size > SIZE_MAX)
        return NULL;
    return realloc(is, (size_t)size);
}

/* ---- API ---------------------------------------------------------------- */

/* See intset.h. */
struct intset *intset_create(void)
{
    struct intset *is = malloc(INTSET_HDR);

    if (is == NULL)
        return NULL;
    is->encoding = htole32(2);
    set_len(is, 0);
    return is;
}

/* See intset.h. */
void intset_destroy(struct intset *is)
{
    free(is);
}

/* See intset.h. Appends (the common case of ascending inserts) are found
 * without a binary search. */
int intset_search(const struct intset *is, int64_t v, uint32_t *pos)
{
    uint32_t n = intset_len(is), enc = is_enc(is);
    uint32_t lo = 0, hi;

    if (n == 0) {
        *pos = 0;
        return 0;
    }
    if (v > get_enc(is->contents, n - 1, enc)) {
        *pos = n;
        return 0;
    }
    if (v < get_enc(is->contents, 0, enc)) {
        *pos = 0;
        return 0;
    }
    hi = n; /* search [lo, hi) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t cur = get_enc(is->contents, mid, enc);

        if (cur == v) {
            *pos = mid;
            return 1;
        }
        if (cur < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return 0;
}

/* See intset.h. */
int intset_find(const struct intset *is, int64_t v)
{
    uint32_t pos;

    /* a value wider than the encoding cannot be a member (invariant 3) */
    if (width_for(v) > is_enc(is))
        return 0;
    return intset_search(is, v, &pos);
}

/* Widens every element to enc and adds v at the front or back (invariant 3). */
static struct intset *upgrade_and_add(struct intset *is, int64_t v)
{
    uint32_t old = is_enc(is), enc = width_for(v), n = intset_len(is);
    int front = v < 0; /* v is outside the old range: below all or above all */
    struct intset *ns = resize(is, n + 1, enc);

    if (ns == NULL)
        return NULL;
    is = ns;
    /* back to front, so no element is overwritten before it is read */
    for (uint32_t i = n; i-- > 0;)
        set_enc(is->contents, i + (uint32_t)front, enc, get_enc(is->contents, i, old));
    set_enc(is->contents, front ? 0 : n, enc, v);
    is->encoding = htole32(enc);
    set_len(is, n + 1);
    return is;
}

/* See intset.h. */
struct intset *intset_add(struct intset *is, int64_t v, int *added)
{
    uint32_t enc = is_enc(is), n = intset_len(is), pos;
    struct intset *ns;

    if (added)
        *added = 0;
    if (width_for(v) > enc) {
        ns = upgrade_and_add(is, v);
        if (ns != NULL && added)
            *added = 1;
        return ns;
    }
    if (intset_search(is, v, &pos))
        return is;
    if (n == UINT32_MAX)
        return NULL;
    ns = resize(is, n + 1, enc);
    if (ns == NULL)
        return NULL;
    is = ns;
    if (pos < n)
        memmove(is->contents + (size_t)(pos + 1) * enc, is->contents + (size_t)pos * enc,
                (size_t)(n - pos) * enc);
    set_enc(is->contents, pos, enc, v);
    set_len(is, n + 1);
    if (added)
        *added = 1;
    return is;
}

/* See intset.h. */
struct intset *intset_remove(struct intset *is, int64_t v, int *removed)
{
    uint32_t enc = is_enc(is), n = intset_len(is), pos;
    struct intset *ns;

    if (removed)
        *removed = 0;
    if (width_for(v) > enc || !intset_search(is, v, &pos))
        return is;
    if (pos < n - 1)
        memmove(is->contents + (size_t)pos * enc, is->contents + (size_t)(pos + 1) * enc,
                (size_t)(n - pos - 1) * enc);
    set_len(is, n - 1);
    ns = resize(is, n - 1, enc);
    if (ns != NULL) /* a failed shrink keeps the larger block: harmless */
        is = ns;
    if (removed)
        *removed = 1;
    return is;
}

/* See intset.h. */
int intset_get(const struct intset *is, uint32_t pos, int64_t *out)
{
    if (pos >= intset_len(is))
        return ST_ERANGE;
    *out = get_enc(is->contents, pos, is_enc(is));
    return ST_OK;
}

/* See intset.h. */
int64_t intset_random(const struct intset *is, uint64_t rnd)
{
    return get_enc(is->contents, (uint32_t)(rnd % intset_len(is)), is_enc(is));
}

/* See intset.h. */
int64_t intset_min(const struct intset *is)
{
    return get_enc(is->contents, 0, is_enc(is));
}

/* See intset.h. */
int64_t intset_max(const struct intset *is)
{
    return get_enc(is->contents, intset_len(is) - 1, is_enc(is));
}

/* See intset.h. */
size_t intset_blob_len(const struct intset *is)
{
    return INTSET_HDR + (size_t)intset_len(is) * is_enc(is);
}

/* See intset.h. Reads the header with memcpy: the blob may be unaligned. */
int intset_validate(const void *blob, size_t size, int deep)
{
    const unsigned char *b = blob;
    uint32_t enc, n;
    uint64_t want;
    int64_t prev = 0;

    if (b == NULL || size < INTSET_HDR)
        return 0;
    memcpy(&enc, b, 4);
    memcpy(&n, b + 4, 4);
    enc = le32toh(enc);
    n = le32toh(n);
    if (enc != 2 && enc != 4 && enc != 8)
        return 0;
    want = INTSET_HDR + (uint64_t)n * enc;
    if (want != size)
        return 0;
    if (!deep)
        return 1;
    for (uint32_t i = 0; i < n; i++) {
        int64_t cur = get_enc(b + INTSET_HDR, i, enc);

        if (i > 0 && cur <= prev)
            return 0;
        prev = cur;
    }
    return 1;
}
