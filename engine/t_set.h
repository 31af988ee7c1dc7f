/*
 * t_set.h -- the set type: an unordered collection of distinct binary-safe
 * strings, in one of three encodings chosen as Redis 7.2 chooses them.
 *
 *   intset     every member a canonical int64 and at most
 *              set-max-intset-entries of them (engine/intset.h: a sorted
 *              array of fixed-width integers);
 *   listpack   at most set-max-listpack-entries members of at most
 *              set-max-listpack-value bytes each (engine/lpack.h);
 *   hashtable  anything larger (engine/dict.h: one node per member).
 *
 * A set is handed around as a `struct set *`: a tagged pointer (the encoding
 * in its two low bits, see t_set.c) that the keyspace entry stores as its
 * ENC_PTR value, so a set costs no header of its own. Functions that may
 * reallocate or convert the set take `struct set **` and store the new
 * handle there; the caller then writes it back into the entry
 * (entry_set_ptr).
 *
 * Members are read as struct set_member, borrowed from the set: valid until
 * the set is next modified (a lookup in a hashtable set may move buckets,
 * but never frees or moves a member).
 *
 * Not thread-safe: the owning entry's shard lock guards every call.
 */
#ifndef STRATA_T_SET_H
#define STRATA_T_SET_H

#include <stddef.h>
#include <stdint.h>

#include "engine/dict.h"
#include "engine/entry.h"
#include "engine/tlimits.h"
#include "engine/util.h"

struct set; /* opaque: a tagged pointer, never dereferenced */

enum set_enc {
    SET_ENC_LISTPACK = 0,
    SET_ENC_INTSET = 1,
    SET_ENC_HT = 2,
};

/* The type's operations, wired into engine/entry.c's type table. */
extern const struct obj_ops set_obj_ops;

/* A member: bytes s[0..len) or, when s is NULL, the integer i. */
struct set_member {
    const unsigned char *s;
    size_t len;
    int64_t i;
};

/* The bytes of m: s itself, or the integer's text written into buf
 * (UTIL_LLSTR_SIZE bytes). Sets *len. */
const unsigned char *set_member_str(const struct set_member *m, unsigned char *buf, size_t *len);

/* ---- creation, destruction ---------------------------------------------- */

/* An empty set of encoding enc (a hashtable seeded with seed). Returns it
 * owned, or NULL on OOM. */
struct set *set_create(enum set_enc enc, uint64_t seed);

/* Redis's setTypeCreate: an empty set able to hold `first` and, by the size
 * hint (the number of members about to be added), its companions: intset
 * when first is an integer and hint <= set-max-intset-entries, else listpack
 * when hint <= set-max-listpack-entries, else hashtable. NULL on OOM. */
struct set *set_create_for(const void *first, size_t len, size_t hint, const struct type_limits *lim,
                           uint64_t seed);

/* Frees s (NULL is fine). */
void set_destroy(struct set *s);

/* An owned deep copy in the same encoding, or NULL on OOM. */
struct set *set_dup(struct set *s);

/* ---- reading ------------------------------------------------------------ */

enum set_enc set_encoding(const struct set *s);
/* "intset", "listpack" or "hashtable" (OBJECT ENCODING). */
const char *set_encoding_name(const struct set *s);

/* Number of members. */
uint64_t set_len(const struct set *s);

/* The single buffer of a compact set, borrowed: the intset blob
 * (SET_ENC_INTSET, intset_blob_len bytes) or the lpack (SET_ENC_LISTPACK,
 * lp_bytes); its size in *len. NULL for a hashtable set. (engine/serial.c) */
const void *set_blob(const struct set *s, size_t *len);

/* Wraps blob (taken: a malloc'd intset for SET_ENC_INTSET, an lpack for
 * SET_ENC_LISTPACK) as a set. The caller has validated it (no duplicates,
 * within the limits). Never fails; enc must not be SET_ENC_HT. */
struct set *set_from_blob(enum set_enc enc, void *blob);

/* 1 when m[0..len) is a member, else 0. */
int set_contains(struct set *s, const void *m, size_t len);

/* 1 when member m (from any set) is a member of s, else 0. Compares
 * integers without formatting them when both sides have them. */
int set_contains_member(struct set *s, const struct set_member *m);

/* Bytes the allocator holds for s (MEMORY USAGE). */
size_t set_mem(const struct set *s);

/* ---- writing ------------------------------------------------------------ */

/* Redis's setTypeMaybeConvert, before adding about `hint` members (SADD's
 * argument count): a listpack or intset that could not hold that many
 * becomes a hashtable now. Returns 0 or ST_ENOMEM (*sp unchanged). */
int set_maybe_convert(struct set **sp, size_t hint, const struct type_limits *lim, uint64_t seed);

/* Adds m[0..len), converting the encoding as Redis 7.2 does (intset ->
 * listpack or hashtable for a non-integer or past set-max-intset-entries,
 * listpack -> hashtable past set-max-listpack-entries/-value). Returns 1
 * when added, 0 when already a member, ST_ENOMEM (the members unchanged; the
 * encoding may have been converted before the member's own allocation
 * failed). */
int set_add(struct set **sp, const void *m, size_t len, const struct type_limits *lim, uint64_t seed);

/* set_add for a member read from another set (m is copied before *sp
 * changes, so it may not point into *sp itself). */
int set_add_member(struct set **sp, const struct set_member *m, const struct type_limits *lim, uint64_t seed);

/* Removes m[0..len). Returns 1 when it was a member, else 0. Never fails.
 * The set may become empty: the caller deletes the key then. */
int set_remove(struct set **sp, const void *m, size_t len);

/* ---- iteration ---------------------------------------------------------- */

/* Iteration over every member, in the encoding's order (intset: ascending;
 * listpack: insertion; hashtable: bucket order). The set must not change
 * meanwhile. Caller storage; set_it_done must be called (it releases the
 * hashtable's no-rehash hold; harmless for the other encodings). */
struct set_it {
    struct set *s;
    enum set_enc enc;
    uint64_t idx;         /* intset */
    unsigned char *p;     /* listpack: next element, NULL at the end */
    struct dict_iter di;  /* hashtable */
};
void set_it_init(struct set_it *it, struct set *s);
/* 1 and the next member in *m, or 0 at the end. */
int set_it_next_member(struct set_it *it, struct set_member *m);
/* 1 and the next member's bytes in *m and *len (integers are written as text
 * into buf, UTIL_LLSTR_SIZE bytes, and *m points there), or 0 at the end. */
int set_it_next(struct set_it *it, const unsigned char **m, size_t *len, unsigned char buf[UTIL_LLSTR_SIZE]);
void set_it_done(struct set_it *it);

/* Called for each member a function hands out; the member is borrowed for
 * the call. Return 0 to go on, non-zero to stop early. */
typedef int set_emit_fn(const struct set_member *m, void *ud);

/* SSCAN: for intset and listpack every member, returning cursor 0 (as
 * Redis does for compact encodings, whatever the cursor); for a hashtable
 * the buckets from `cursor` on, with Redis's bound (up to count * 10 bucket
 * visits, or until count members have been emitted). Returns the next
 * cursor, 0 at the end. */
uint64_t set_scan(struct set *s, uint64_t cursor, uint64_t count, set_emit_fn *fn, void *ud);

/* ---- random members ----------------------------------------------------- */

/* One member chosen uniformly (s non-empty). */
void set_random(struct set *s, struct util_rng *rng, struct set_member *m);

/* SRANDMEMBER with a negative count: `count` members drawn independently
 * (repeats possible), in random order. A listpack is walked once per batch
 * of up to 1000 draws (Redis's lpRandomEntries; without memory for the
 * batch, once per draw). Stops early when fn asks. Returns 0: never fails. */
int set_random_repeat(struct set *s, uint64_t count, struct util_rng *rng, set_emit_fn *fn, void *ud);

/* SRANDMEMBER with a positive count smaller than the set: `count` distinct
 * members, uniformly chosen, in no particular order. Redis's strategies:
 * a listpack is walked once with selection sampling; otherwise when count is
 * more than a third of the set, one pass of selection sampling over the set
 * (Redis builds a copy and removes from it -- same choice, no copy); else
 * random draws with a temporary table of what was drawn. Returns 0 or
 * ST_ENOMEM (nothing emitted). */
int set_random_distinct(struct set *s, uint64_t count, struct util_rng *rng, set_emit_fn *fn, void *ud);

/* SPOP without count: emits one uniformly chosen member, then removes it.
 * s must be non-empty; may become empty. */
void set_pop(struct set **sp, struct util_rng *rng, set_emit_fn *fn, void *ud);

/* SPOP with 0 < count < set_len: removes `count` uniformly chosen distinct
 * members and emits each (fn's return value is ignored: the members are
 * gone). Redis's strategies: while the members left (size - count) times 5
 * exceed count, draw and remove one at a time (a listpack: one selection
 * sampling pass); otherwise choose the members to keep, build a new set of
 * them (smallest encoding that fits), emit the rest and free the old set.
 * Returns 0 or ST_ENOMEM (nothing removed, nothing emitted). */
int set_pop_many(struct set **sp, uint64_t count, struct util_rng *rng, const struct type_limits *lim,
                 uint64_t seed, set_emit_fn *fn, void *ud);

/* ---- algebra ------------------------------------------------------------ */

/* SINTER / SINTERCARD: emits the members of the intersection of sets[0..n)
 * (all non-NULL, n >= 1): the smallest set is walked and each member tested
 * in the others, smallest first. Stops after `limit` members (0: no limit)
 * or when fn asks. Returns 0 or ST_ENOMEM. */
int set_inter(struct set *const *sets, size_t n, uint64_t limit, set_emit_fn *fn, void *ud);

enum set_op { SET_OP_UNION = 0, SET_OP_DIFF = 1, SET_OP_INTER = 2 };

/* SUNION / SDIFF / SINTER(STORE): builds the result of op over
 * sets[0..n) (NULL entries are empty sets) as a new set, starting from an
 * intset and converting as members are added, so it ends in the smallest
 * encoding that fits (as Redis 7.2's result sets do). SDIFF picks Redis's
 * algorithm by estimated cost (test each member of the first set against
 * the others, or copy the first and remove the others' members). Returns
 * 0 and *out (owned; possibly empty), or ST_ENOMEM. */
int set_algebra(struct set *const *sets, size_t n, enum set_op op, const struct type_limits *lim,
                uint64_t seed, struct set **out);

#endif
