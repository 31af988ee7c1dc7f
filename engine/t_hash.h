/*
 * t_hash.h -- the hash type object: a map of field -> value byte strings,
 * kept as one lpack buffer while small (encoding "listpack") and as a dict
 * past the configured thresholds (encoding "hashtable"). See t_hash.c for the
 * layout and the conversion rules.
 *
 * A hash is handled as a `void *` handle, the value stored in its keyspace
 * entry (OBJ_HASH, ENC_PTR): a tagged pointer, an lpack buffer or a dict.
 * Functions that may change the representation (a realloc of the pack, a
 * conversion) take `void **hp` and store the new handle there: the caller
 * writes it back into the entry (entry_set_ptr) before releasing the lock.
 *
 * Not thread-safe: the owning entry's shard lock guards every call.
 */
#ifndef STRATA_T_HASH_H
#define STRATA_T_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "engine/dict.h"
#include "engine/entry.h"
#include "engine/tlimits.h"

extern const struct obj_ops hash_obj_ops;

/* What a write needs to know: the thresholds in force and the seed of the
 * dict a conversion creates. */
struct hash_conf {
    uint32_t max_lp_entries; /* hash-max-listpack-entries */
    uint32_t max_lp_value;   /* hash-max-listpack-value (bytes) */
    uint64_t seed;           /* dict hash seed (the keyspace's) */
};

static inline void hash_conf_init(struct hash_conf *conf, const struct type_limits *lim, uint64_t seed)
{
    conf->max_lp_entries = lim->hash_max_lp_entries;
    conf->max_lp_value = lim->hash_max_lp_value;
    conf->seed = seed;
}

/* A field's or value's bytes. p points into the hash (valid until the hash
 * is next modified) or, for an integer element of a pack, into buf: do not
 * copy the struct and keep using p. */
struct hash_str {
    const unsigned char *p;
    size_t len;
    unsigned char buf[24];
};

/* An empty hash (listpack encoding). Returns the handle owned, or NULL. */
void *hash_create(void);

/* Frees a hash (either encoding). Accepts NULL. */
void hash_destroy(void *h);

/* Number of fields. */
uint64_t hash_len(const void *h);

/* The lpack of a listpack hash (borrowed), or NULL for a hashtable hash. */
unsigned char *hash_lp(const void *h);

/* The hash around lp (taken; validated by the caller: even count, no
 * duplicate field, within the limits). Never fails. (engine/serial.c) */
void *hash_from_lp(unsigned char *lp);

/* 1 while the hash is in its compact (listpack) encoding. */
int hash_is_lp(const void *h);

/* OBJECT ENCODING: "listpack" or "hashtable". */
const char *hash_encoding(const void *h);

/* Bytes the allocator holds for the hash (pack, or dict + nodes + values). */
size_t hash_mem(const void *h);

/* Returns an owned deep copy (same encoding), or NULL. */
void *hash_dup(const void *h);

/* Looks field up. Returns 1 and its value in *val (val may be NULL), or 0. */
int hash_get(void *h, const void *f, size_t flen, struct hash_str *val);

/* HSTRLEN: the value's length, 0 when the field is absent. */
size_t hash_strlen(void *h, const void *f, size_t flen);

/* Redis's hashTypeTryConversion: before a write of several strings, converts
 * a pack to a dict when the longest of them (maxlen) exceeds the value limit
 * or their total would make the pack unsafely large. Returns 0 or ST_ENOMEM
 * (hash unchanged). */
int hash_fit(void **hp, size_t maxlen, size_t total, const struct hash_conf *conf);

/* Sets field to value (both copied), converting to a dict first when either
 * is longer than the value limit, and after the insert when the field count
 * passes the entries limit. *added is 1 when the field is new. Returns 0 or
 * ST_ENOMEM (field unchanged; the hash stays valid, possibly converted). */
int hash_set(void **hp, const void *f, size_t flen, const void *v, size_t vlen, const struct hash_conf *conf,
             int *added);

/* Deletes field. Returns 1 when it was present. Never allocates; a pack
 * shrinks in place and a dict may start a shrink. */
int hash_del(void **hp, const void *f, size_t flen);

/* HINCRBY: adds incr to field's integer value (0 when absent), stores the
 * result in *out. Returns 0, ST_EINVAL (the value is not an integer),
 * ST_ERANGE (overflow) or ST_ENOMEM; the hash is unchanged on error. */
int hash_incrby(void **hp, const void *f, size_t flen, int64_t incr, int64_t *out, const struct hash_conf *conf);

/* HINCRBYFLOAT: adds incr (finite) to field's value read as a long double (0
 * when absent) and stores the result formatted as Redis does (%.17Lf, no
 * trailing zeros), which is also written to out (NUL-terminated; outsize >=
 * UTIL_DBLSTR_SIZE) with its length in *outlen. Returns 0, ST_EINVAL (the
 * value is not a float), ST_ERANGE (the result is NaN or infinite) or
 * ST_ENOMEM; the hash is unchanged on error. */
int hash_incrbyfloat(void **hp, const void *f, size_t flen, long double incr, char *out, size_t outsize,
                     size_t *outlen, const struct hash_conf *conf);

/* Iteration over every field/value pair, in storage order. The hash must not
 * be modified while iterating. */
struct hash_iter {
    void *h;
    unsigned char *p;     /* pack: next field */
    struct dict_iter di;  /* dict */
    struct hash_str f, v; /* current pair after hash_iter_next returned 1 */
};
void hash_iter_init(struct hash_iter *it, void *h);
int hash_iter_next(struct hash_iter *it);
void hash_iter_done(struct hash_iter *it);

/* Called with one pair (borrowed, valid during the call). A non-zero return
 * stops the walk. */
typedef int hash_pair_fn(const struct hash_str *f, const struct hash_str *v, void *ud);

/* A random pair, uniform enough (pack: uniform; dict: dict_random). Returns
 * 0, or ST_ENOENT when the hash is empty. rnd returns random 64-bit numbers. */
int hash_random(void *h, uint64_t (*rnd)(void *), void *rud, struct hash_str *f, struct hash_str *v);

/* HRANDFIELD with a count: with uniq, min(count, len) distinct pairs (all of
 * them, in storage order, when count >= len); without, exactly count pairs
 * drawn independently (repeats possible). Calls fn for each until it returns
 * non-zero. Returns 0 or ST_ENOMEM (before any call to fn). */
int hash_random_pairs(void *h, uint64_t count, int uniq, uint64_t (*rnd)(void *), void *rud, hash_pair_fn *fn,
                      void *ud);

/* HSCAN step: calls fn for the pairs of the buckets the cursor designates,
 * continuing (as Redis, up to count * 10 bucket steps) until at least count
 * pairs were visited or the scan ends, and returns the next cursor (0: done).
 * A pack is returned whole, with cursor 0, whatever the cursor given. fn's
 * return value is ignored here; it must not modify the hash. */
uint64_t hash_scan(void *h, uint64_t cursor, uint64_t count, hash_pair_fn *fn, void *ud);

#endif
