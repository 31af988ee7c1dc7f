/*
 * t_zset.h -- the sorted set type: members (byte strings) with a double
 * score each, ordered by (score, member), in one of two encodings.
 *
 * The object a zset entry's ENC_PTR value points at is either
 *
 *   listpack  an lpack buffer (engine/lpack.h) of member, score pairs in
 *             order: m0 s0 m1 s1 ... Scores are written as zset_score_text
 *             (integral scores as lpack integers, -0 as 0, as Redis 7.0).
 *             Its first 4 bytes are the buffer size, never 0.
 *   skiplist  a struct zset_big: a dict (member -> score, in the dict
 *             node's v.d) and a skiplist whose nodes borrow the dict nodes'
 *             member bytes (engine/zskiplist.h). Its first 4 bytes are 0.
 *
 * so the pointer alone tells the encoding (zset_is_lp) and no header is
 * added to small sets: per-object overhead is the lpack's 9 bytes.
 *
 * A set is a listpack while it has at most zset_max_lp_entries members none
 * longer than zset_max_lp_value bytes; an add that would break that
 * converts it to a skiplist (never back, as in Redis, except for sets built
 * whole by ZUNIONSTORE-like commands: zset_shrink_if_fits).
 *
 * Scores are never NaN. Not thread-safe: the owning entry's shard lock
 * guards every call. Functions taking `void **zsp` may replace the object
 * (reallocation or conversion); the caller stores the new pointer back.
 */
#ifndef STRATA_T_ZSET_H
#define STRATA_T_ZSET_H

#include <stddef.h>
#include <stdint.h>

#include "engine/dict.h"
#include "engine/entry.h"
#include "engine/tlimits.h"
#include "engine/util.h"
#include "engine/zskiplist.h"

struct zset_big {
    uint32_t tag;          /* always 0 (an lpack's size is never 0) */
    uint32_t maxelelen;    /* unused by the lookups; kept 0 */
    struct dict *d;        /* member -> score (v.d) */
    struct zsl zsl;
    struct util_rng rng;   /* skiplist levels */
};

extern const struct obj_ops zset_obj_ops;

static inline int zset_is_lp(const void *zs)
{
    const unsigned char *p = zs;
    return (p[0] | p[1] | p[2] | p[3]) != 0;
}

/* An empty set in the encoding Redis 7.2's zsetTypeCreate picks for
 * size_hint members of at most maxelelen bytes. Returns it owned or NULL. */
void *zset_create(uint64_t size_hint, size_t maxelelen, const struct type_limits *lim);

/* Frees zs (either encoding). Accepts NULL. */
void zset_destroy(void *zs);

/* An empty skiplist set whose member dict uses seed (engine/serial.c: a value
 * read back from a tier iterates -- ZSCAN -- in the same order every time). */
void *zset_create_big_seeded(uint64_t seed);

uint64_t zset_len(const void *zs);

/* "listpack" or "skiplist". */
const char *zset_encoding(const void *zs);

/* Looks m up. Returns 0 and *score, or ST_ENOENT. */
int zset_score(void *zs, const void *m, size_t len, double *score);

/* zset_add flags (Redis's ZADD_IN_* / ZADD_OUT_*). */
#define ZSET_IN_INCR 0x01
#define ZSET_IN_NX 0x02
#define ZSET_IN_XX 0x04
#define ZSET_IN_GT 0x08
#define ZSET_IN_LT 0x10
#define ZSET_OUT_NOP 0x01     /* nothing done (NX/XX/GT/LT said no) */
#define ZSET_OUT_NAN 0x02     /* the score (or score + increment) is NaN */
#define ZSET_OUT_ADDED 0x04
#define ZSET_OUT_UPDATED 0x08

/* Redis's zsetAdd: adds m with score, or updates its score (with INCR:
 * adds score to it), under the NX / XX / GT / LT rules. *newscore (if not
 * NULL) gets the member's score afterwards unless NOP. Converts the set to a
 * skiplist when lim's thresholds are passed. Returns 0 (see *out_flags),
 * ST_EINVAL (NaN: *out_flags = ZSET_OUT_NAN, nothing changed) or ST_ENOMEM
 * (nothing changed). */
int zset_add(void **zsp, const struct type_limits *lim, double score, const void *m, size_t len, int in_flags,
             int *out_flags, double *newscore);

/* Deletes m. Returns 1 when it was a member, else 0. Never fails. */
int zset_del(void **zsp, const void *m, size_t len);

/* 0-based rank of m (from the highest score when rev), -1 when absent;
 * *score (if not NULL) gets its score. O(log n) for a skiplist. */
int64_t zset_rank(void *zs, const void *m, size_t len, int rev, double *score);

/* Members whose score / member is in r. O(log n) for a skiplist. */
uint64_t zset_count_score(void *zs, const struct zset_srange *r);
uint64_t zset_count_lex(void *zs, const struct zset_lrange *r);

/* Deletes ranks start..end (0-based, inclusive, start <= end < len), or
 * the members in a range. Return the number deleted. Never fail. The caller
 * deletes the key when the set becomes empty. */
uint64_t zset_del_rank(void **zsp, uint64_t start, uint64_t end);
uint64_t zset_del_score(void **zsp, const struct zset_srange *r);
uint64_t zset_del_lex(void **zsp, const struct zset_lrange *r);

/* An element as iteration returns it: m points into the set, or into buf
 * for listpack integers. Valid until the set changes. */
struct zset_elem {
    const unsigned char *m;
    size_t len;
    double score;
    unsigned char buf[24];
};

/* Iteration in order (rev: from the highest). Positioning is O(log n) for a
 * skiplist, O(n) for a listpack. The set must not change while iterating. */
struct zset_it {
    void *zs;
    unsigned char *p;     /* listpack: the next member, NULL at the end */
    struct zsl_node *n;   /* skiplist: the next node, NULL at the end */
    int rev;
};

/* At 0-based rank counted in the iteration's direction (rank >= len: at
 * the end). */
void zset_it_rank(struct zset_it *it, void *zs, uint64_t rank, int rev);
/* At the first member in r in the iteration's direction (at the end when
 * none). Members after it may be outside r: the caller checks. */
void zset_it_score(struct zset_it *it, void *zs, const struct zset_srange *r, int rev);
void zset_it_lex(struct zset_it *it, void *zs, const struct zset_lrange *r, int rev);
/* Stores the next element in *e and advances. Returns 1, or 0 at the end. */
int zset_it_next(struct zset_it *it, struct zset_elem *e);
/* Skips n elements. */
void zset_it_skip(struct zset_it *it, uint64_t n);

/* The element at 0-based rank (ascending). Returns 0 or ST_ENOENT. */
int zset_at(void *zs, uint64_t rank, struct zset_elem *e);

/* A uniformly random element of a non-empty set. */
void zset_random(void *zs, struct util_rng *rng, struct zset_elem *e);

/* ZSCAN: calls fn for members from cursor on; returns the next cursor (0:
 * done). A listpack returns everything in one call. */
typedef void zset_scan_fn(const unsigned char *m, size_t len, double score, void *ud);
uint64_t zset_scan(void *zs, uint64_t cursor, zset_scan_fn *fn, void *ud);

/* Builds a skiplist set from d (taken: member -> score in v.d, no other
 * owner), then converts it to a listpack when it fits lim (as Redis's
 * zsetConvertToListpackIfNeeded). Returns the set owned, or NULL on OOM
 * (d destroyed). An empty d gives an empty set. */
void *zset_from_dict(struct dict *d, const struct type_limits *lim);

/* Converts a skiplist set to a listpack when it has at most
 * zset_max_lp_entries members of at most zset_max_lp_value bytes. Returns 0
 * or ST_ENOMEM (unchanged). */
int zset_shrink_if_fits(void **zsp, const struct type_limits *lim);

/* Converts a listpack set to a skiplist. Returns 0 or ST_ENOMEM. */
int zset_to_big(void **zsp);

/* A fresh hash seed for a member dict (mixes the address and a clock). */
uint64_t zset_dict_seed(const void *salt);

/* The text a listpack stores for a score (Redis 7.0's d2string): an
 * integral score within +-2^62 as an integer (-0 becomes 0), else "%.17g".
 * ZSCAN of a listpack set shows it. buflen >= 128. Returns the length. */
int zset_score_text(char *buf, size_t buflen, double v);

/* Parses a score range end as Redis's zslParseRange does ("(" prefix =
 * open; strtod's syntax, so "inf", "-inf", hex floats; NaN refused).
 * Returns 0 or ST_EINVAL. */
int zset_parse_score_bound(const char *s, size_t len, double *v, int *ex);

/* Parses a lex range end: "[m" closed, "(m" open, "-" and "+". The bytes
 * are borrowed from s. Returns 0 or ST_EINVAL. */
int zset_parse_lex_bound(const char *s, size_t len, const unsigned char **m, size_t *mlen, int *ex, int *inf);

#endif
