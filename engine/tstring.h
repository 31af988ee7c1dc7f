/*
 * tstring.h -- the pure rules of the string command family, kept apart from
 * the server so every edge case is unit-tested without a socket: range
 * clamping (GETRANGE), size limits (APPEND, SETRANGE), zero padding
 * (SETRANGE), counter overflow (INCR family), float increments
 * (INCRBYFLOAT), expiry arguments and the option grammar of SET and GETEX.
 *
 * Every function here is a leaf: no locks, no allocation, no keyspace. The
 * rules and the order in which they are checked are Redis 7.0's
 * (t_string.c); server/cmd_string.c maps the return codes to Redis's error
 * texts.
 */
#ifndef STRATA_TSTRING_H
#define STRATA_TSTRING_H

#include <stddef.h>
#include <stdint.h>

/* GETRANGE/SUBSTR: clamps the inclusive range [start, end] (negative indexes
 * count from the end, -1 is the last byte) to a string of len bytes, as
 * Redis does. Returns the number of bytes in the range (0: empty reply) and
 * sets *off to its first byte. */
size_t tstr_range(long long start, long long end, size_t len, size_t *off);

/* Redis's checkStringLength: 0 when a string of size bytes grown by append
 * bytes stays within max bytes, ST_ETOOBIG otherwise (overflow included). */
int tstr_check_len(uint64_t size, uint64_t append, uint64_t max);

/* SETRANGE sizing. olen: the current length (0 for a missing key), offset
 * and vlen: the command's arguments, max: the size limit. Returns:
 *   ST_ERANGE  offset < 0             ("offset is out of range")
 *   ST_ETOOBIG offset + vlen > max    (only checked when vlen > 0)
 *   0          *newlen = max(olen, offset + vlen), or olen when vlen == 0
 *              (nothing to write: the caller changes nothing). */
int tstr_setrange_len(size_t olen, long long offset, size_t vlen, uint64_t max, size_t *newlen);

/* SETRANGE write: buf holds olen valid bytes and has room for at least
 * offset + vlen; zero-fills [olen, offset) when offset > olen, then copies
 * val (borrowed) to buf + offset. */
void tstr_setrange_apply(char *buf, size_t olen, size_t offset, const void *val, size_t vlen);

/* INCR/INCRBY/DECR: *out = v + incr. Returns 0, or ST_ERANGE when the sum
 * overflows a signed 64-bit integer (nothing stored). */
int tstr_incrby(long long v, long long incr, long long *out);

/* DECRBY: *out = -v. Returns 0, or ST_ERANGE for LLONG_MIN ("decrement would
 * overflow"). */
int tstr_negate(long long v, long long *out);

/* INCRBYFLOAT: adds incr to v and formats the sum as Redis stores it
 * (util_ld2str: "%.17Lf" without trailing zeros) into buf. Returns the
 * length, ST_ERANGE when the sum is NaN or infinite ("increment would produce
 * NaN or Infinity"), or ST_ETOOBIG when buf is too small. */
int tstr_incrbyfloat(long double v, long double incr, char *buf, size_t buflen);

/* Expiry arguments of SET, SETEX, PSETEX and GETEX. */
#define TSTR_EXP_MS       0x1 /* the value is in milliseconds (PX, PXAT, PSETEX) */
#define TSTR_EXP_RELATIVE 0x2 /* relative to now (EX, PX, SETEX, PSETEX) */

/* Turns an expiry argument v (already parsed as an integer) into an absolute
 * unix time in ms. Redis 7.0 rules: v must be > 0, v * 1000 (seconds) and
 * now_ms + v (relative) must not overflow and the result must be > 0.
 * Returns 0 and sets *at_ms, or ST_EINVAL ("invalid expire time in '<cmd>'
 * command"). */
int tstr_expire_at(long long v, unsigned how, int64_t now_ms, int64_t *at_ms);

/* Options of SET (key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms |
 * KEEPTTL]) and GETEX (key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]). */
#define TSTR_NX      0x001
#define TSTR_XX      0x002
#define TSTR_GET     0x004
#define TSTR_KEEPTTL 0x008
#define TSTR_PERSIST 0x010
#define TSTR_EX      0x020
#define TSTR_PX      0x040
#define TSTR_EXAT    0x080
#define TSTR_PXAT    0x100
#define TSTR_EXPIRE_ANY (TSTR_EX | TSTR_PX | TSTR_EXAT | TSTR_PXAT)

enum tstr_cmd {
    TSTR_CMD_SET = 0,
    TSTR_CMD_GETEX = 1,
};

/* Feeds one option word opt[0..len) (borrowed) of command cmd into *flags,
 * with Redis's parseExtendedStringArgumentsOrReply grammar: options may
 * repeat (the last expiry value wins), but NX excludes XX, KEEPTTL and
 * PERSIST exclude each other and every expiry option, and an expiry option
 * excludes the other three; each option is accepted only by the command it
 * belongs to. has_next tells whether an argument follows opt. Returns 0 (a
 * flag), 1 (an expiry option: the next argument is its value) or ST_EINVAL
 * (syntax error). */
int tstr_opt_feed(unsigned *flags, enum tstr_cmd cmd, const char *opt, size_t len, int has_next);

/* The TSTR_EXP_* form of the expiry option in flags (0 when none). */
unsigned tstr_opt_expire_how(unsigned flags);

#endif
