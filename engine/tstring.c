/*
 * tstring.c -- the pure rules of the string commands (see tstring.h).
 *
 * What it owns: the arithmetic and grammar that decide what a string command
 * does before it touches the keyspace -- index clamping, size limits, zero
 * padding, integer overflow, float results, expiry arithmetic and option
 * parsing. What it does not own: locking, lookups, entries and replies
 * (server/cmd_string.c), number parsing and formatting (engine/util.c).
 *
 * Invariants:
 *  1. No function here allocates, locks or has side effects beyond its out
 *     parameters and, for tstr_setrange_apply, the caller's buffer.
 *  2. Every overflow is detected without signed overflow in C (unsigned or
 *     pre-checked arithmetic), so the code stays defined under UBSan.
 *  3. The checks run in Redis 7.0's order so the first failing rule gives
 *     Redis's error, e.g. SETRANGE with an empty value never reports a size
 *     error, and GETRANGE's "both negative and start > end" shortcut runs
 *     before the indexes are converted.
 *
 * Callers: the string command handlers on any worker thread (the functions
 * are reentrant), and tests/unit/engine/test_tstring.c.
 *
 * References: Redis 7.0 src/t_string.c (getrangeCommand, setrangeCommand,
 * checkStringLength, incrDecrCommand, decrbyCommand, incrbyfloatCommand,
 * getExpireMillisecondsOrReply, parseExtendedStringArgumentsOrReply).
 */
#include "engine/tstring.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "engine/err.h"
#include "engine/util.h"

/* See tstring.h. Redis 7.0's getrangeCommand, step by step. */
size_t tstr_range(long long start, long long end, size_t len, size_t *off)
{
    long long slen = (long long)len;

    *off = 0;
    if (start < 0 && end < 0 && start > end)
        return 0;
    /* len <= LLONG_MAX in practice (a string's size), so slen + negative
     * never overflows. */
    if (start < 0)
        start = slen + start;
    if (end < 0)
        end = slen + end;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (len == 0)
        return 0;
    if ((unsigned long long)end >= (unsigned long long)len)
        end = slen - 1;
    if (start > end)
        return 0;
    *off = (size_t)start;
    return (size_t)(end - start + 1);
}

/* See tstring.h. */
int tstr_check_len(uint64_t size, uint64_t append, uint64_t max)
{
    uint64_t total = size + append;

    if (total < size || total > max)
        return ST_ETOOBIG;
    return ST_OK;
}

/* See tstring.h. */
int tstr_setrange_len(size_t olen, long long offset, size_t vlen, uint64_t max, size_t *newlen)
{
    uint64_t end;

    if (offset < 0)
        return ST_ERANGE;
    if (vlen == 0) {
        *newlen = olen;
        return ST_OK;
    }
    if (tstr_check_len((uint64_t)offset, vlen, max) != ST_OK)
        return ST_ETOOBIG;
    end = (uint64_t)offset + vlen;
    *newlen = end > olen ? (size_t)end : olen;
    return ST_OK;
}

/* See tstring.h. */
void tstr_setrange_apply(char *buf, size_t olen, size_t offset, const void *val, size_t vlen)
{
    if (offset > olen)
        memset(buf + olen, 0, offset - olen);
    if (vlen > 0)
        memcpy(buf + offset, val, vlen);
}

/* See tstring.h. The same test as Redis's incrDecrCommand (invariant 2). */
int tstr_incrby(long long v, long long incr, long long *out)
{
    if ((incr < 0 && v < 0 && incr < LLONG_MIN - v) ||
        (incr > 0 && v > 0 && incr > LLONG_MAX - v))
        return ST_ERANGE;
    *out = v + incr;
    return ST_OK;
}

/* See tstring.h. */
int tstr_negate(long long v, long long *out)
{
    if (v == LLONG_MIN)
        return ST_ERANGE;
    *out = -v;
    return ST_OK;
}

/* See tstring.h. */
int tstr_incrbyfloat(long double v, long double incr, char *buf, size_t buflen)
{
    long double sum = v + incr;
    int n;

    if (isnan(sum) || isinf(sum))
        return ST_ERANGE;
    n = util_ld2str(buf, buflen, sum);
    if (n <= 0)
        return ST_ETOOBIG;
    return n;
}

/* See tstring.h. Redis 7.0's getExpireMillisecondsOrReply. */
int tstr_expire_at(long long v, unsigned how, int64_t now_ms, int64_t *at_ms)
{
    long long ms = v;

    if (v <= 0)
        return ST_EINVAL;
    if (!(how & TSTR_EXP_MS)) {
        if (v > LLONG_MAX / 1000)
            return ST_EINVAL;
        ms = v * 1000;
    }
    if (how & TSTR_EXP_RELATIVE) {
        /* Redis adds and checks for a wrap below zero; check before adding
         * instead (invariant 2). A negative clock would be a broken host. */
        if (now_ms > 0 && ms > LLONG_MAX - now_ms)
            return ST_EINVAL;
        ms += now_ms;
    }
    if (ms <= 0)
        return ST_EINVAL;
    *at_ms = ms;
    return ST_OK;
}

/* See tstring.h. The conditions mirror Redis's parser clause by clause. */
int tstr_opt_feed(unsigned *flags, enum tstr_cmd cmd, const char *opt, size_t len, int has_next)
{
    unsigned f = *flags;
    int set = cmd == TSTR_CMD_SET;
    int getex = cmd == TSTR_CMD_GETEX;
    static const struct {
        const char *name;
        unsigned flag;
    } expiries[] = {
        { "EX", TSTR_EX }, { "PX", TSTR_PX }, { "EXAT", TSTR_EXAT }, { "PXAT", TSTR_PXAT },
    };

    if (util_eqi(opt, len, "NX") && !(f & TSTR_XX) && set) {
        *flags = f | TSTR_NX;
        return 0;
    }
    if (util_eqi(opt, len, "XX") && !(f & TSTR_NX) && set) {
        *flags = f | TSTR_XX;
        return 0;
    }
    if (util_eqi(opt, len, "GET") && set) {
        *flags = f | TSTR_GET;
        return 0;
    }
    if (util_eqi(opt, len, "KEEPTTL") && set && !(f & (TSTR_PERSIST | TSTR_EXPIRE_ANY))) {
        *flags = f | TSTR_KEEPTTL;
        return 0;
    }
    if (util_eqi(opt, len, "PERSIST") && getex && !(f & (TSTR_KEEPTTL | TSTR_EXPIRE_ANY))) {
        *flags = f | TSTR_PERSIST;
        return 0;
    }
    for (size_t i = 0; i < sizeof(expiries) / sizeof(expiries[0]); i++) {
        unsigned others = TSTR_EXPIRE_ANY & ~expiries[i].flag;

        if (util_eqi(opt, len, expiries[i].name) && has_next &&
            !(f & (TSTR_KEEPTTL | TSTR_PERSIST | others))) {
            *flags = f | expiries[i].flag;
            return 1;
        }
    }
    return ST_EINVAL;
}

/* See tstring.h. */
unsigned tstr_opt_expire_how(unsigned flags)
{
    if (flags & TSTR_EX)
        return TSTR_EXP_RELATIVE;
    if (flags & TSTR_PX)
        return TSTR_EXP_RELATIVE | TSTR_EXP_MS;
    if (flags & TSTR_EXAT)
        return 0;
    if (flags & TSTR_PXAT)
        return TSTR_EXP_MS;
    return 0;
}
