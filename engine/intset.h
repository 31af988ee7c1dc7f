/*
 * intset.h -- a set of integers as one sorted array (the "intset" encoding
 * of small sets whose members are all canonical integers), the same byte
 * layout as Redis's intset:
 *
 *   +----------+----------+--------------------------------------+
 *   | encoding | length   | length elements of `encoding` bytes  |
 *   | u32      | u32      | ascending, unique, little endian     |
 *   +----------+----------+--------------------------------------+
 *
 * encoding is 2, 4 or 8 (int16/int32/int64), the narrowest that holds every
 * member ever added: adding a wider value upgrades the whole array; removing
 * never downgrades (as Redis).
 *
 * Invariants:
 *  1. Elements are strictly ascending, so find is a binary search.
 *  2. The allocation is exactly intset_blob_len() bytes.
 *  3. Modifying calls may move the set: they return the new pointer.
 *
 * Not thread-safe; the owner (a keyspace entry under its shard lock) guards it.
 */
#ifndef STRATA_INTSET_H
#define STRATA_INTSET_H

#include <stddef.h>
#include <stdint.h>

#define INTSET_HDR 8

struct intset {
    uint32_t encoding; /* little endian: 2, 4 or 8 */
    uint32_t length;   /* little endian */
    unsigned char contents[];
};

/* An empty set (encoding int16). Returns it owned, or NULL on OOM. */
struct intset *intset_create(void);
void intset_destroy(struct intset *is);

/* Adds v. Returns the (possibly moved) set, or NULL on OOM (is unchanged and
 * still owned by the caller). *added (if not NULL) is 1 when v was new, 0 when
 * it was already there (then the set is returned unchanged). */
struct intset *intset_add(struct intset *is, int64_t v, int *added);

/* Removes v. Returns the (possibly moved) set; never fails. *removed (if not
 * NULL) is 1 when v was there. */
struct intset *intset_remove(struct intset *is, int64_t v, int *removed);

/* 1 when v is a member. O(log n). */
int intset_find(const struct intset *is, int64_t v);

/* The position v has, or would have if inserted, in *pos; 1 when found. */
int intset_search(const struct intset *is, int64_t v, uint32_t *pos);

/* Number of members. */
uint32_t intset_len(const struct intset *is);

/* The member at pos (0 = smallest) into *out: 0, or ST_ERANGE when pos >=
 * len. */
int intset_get(const struct intset *is, uint32_t pos, int64_t *out);

/* The member at rnd % len (the caller supplies the random number, e.g. from
 * its util_rng). The set must not be empty. */
int64_t intset_random(const struct intset *is, uint64_t rnd);

/* Smallest and largest member (the set must not be empty). */
int64_t intset_min(const struct intset *is);
int64_t intset_max(const struct intset *is);

/* Size of the whole blob in bytes (header included): what a snapshot stores
 * and what MEMORY USAGE counts. */
size_t intset_blob_len(const struct intset *is);

/* Validates a blob from an untrusted source: encoding 2/4/8, size == header
 * + length * encoding, and (deep != 0) strictly ascending elements. Returns 1
 * when valid. A valid blob may be used as a struct intset once copied into
 * an allocation of its size. */
int intset_validate(const void *blob, size_t size, int deep);

#endif
