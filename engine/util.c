/*
 * util.c -- strict number parsing and formatting, glob matching, clocks, a
 * small PRNG and the argument splitter shared by inline commands and config
 * lines.
 *
 * What it owns: nothing. Every function is pure (or reads a clock) and works
 * only on memory the caller passes in; there is no global or static mutable
 * state, so any thread may call anything here at any time.
 *
 * What it does not own: error replies, logging, allocation. Functions return
 * 0 / a negative ST_E* code (engine/err.h) and leave wording to the caller.
 *
 * Invariants the code relies on and the tests check:
 *   1. Number parsers accept exactly the strings Redis accepts (string2ll,
 *      string2d, string2ld, memtoll), so a client sees the same "value is not
 *      an integer" / "not a valid float" errors as against Redis.
 *   2. Formatters produce byte-for-byte what Redis replies: ld2string in
 *      LD_STR_HUMAN mode for INCRBYFLOAT, "%.17g" (addReplyDouble, RESP2) for
 *      scores.
 *   3. util_glob_match runs in O(plen * slen) time and O(1) space for any
 *      pattern: it never recurses (see the comment above it).
 *   4. util_splitargs never writes outside line[0..len) and never makes the
 *      line longer; each argument is written at or before where it was read.
 *
 * Departures from Redis, on purpose:
 *   - util_glob_match("*", "") is a match. Redis 7's stringmatchlen returns 0
 *     when the string is empty (its loop needs both lengths non-zero); Redis
 *     6 and every glob implementation match. Redis's callers special-case "*"
 *     for KEYS and SCAN, so the difference is only visible for empty channel
 *     names under PSUBSCRIBE.
 *   - An escaped character inside [...] honours nocase; Redis compares it
 *     case-sensitively.
 *   - util_parse_memsize rejects "", a bare unit ("kb") and results that
 *     overflow a long long; Redis's memtoll returns 0 or wraps.
 *   - util_str2ull is strict like util_str2ll (Redis's string2ull falls back
 *     to strtoull, which takes blanks and '+').
 *
 * References: Redis src/util.c (string2ll, string2ld, string2d, ld2string,
 * stringmatchlen, memtoll, ll2string), src/sds.c (sdssplitargs),
 * src/networking.c (addReplyDouble); S. Vigna, "Further scramblings of
 * Marsaglia's xorshift generators" (xorshift128+), and his splitmix64.
 */
#include "engine/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/err.h"

/* Redis's LONG_STR_SIZE: a string this long or longer is never an integer. */
#define UTIL_LONG_STR_SIZE 21

static int util_lower(int c)
{
    return tolower((unsigned char)c);
}

/* ------------------------------------------------------------------------ */
/* Integers                                                                 */
/* ------------------------------------------------------------------------ */

/* Parses the magnitude part shared by str2ll and str2ull: s[0..len) must be
 * "0" or a digit 1-9 followed by digits, with no overflow of unsigned long
 * long. Returns 0 and stores *out, or ST_EINVAL. */
static int util_parse_digits(const char *s, size_t len, unsigned long long *out)
{
    unsigned long long v;
    size_t i;

    if (len == 0)
        return ST_EINVAL;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return ST_OK;
    }
    if (s[0] < '1' || s[0] > '9')
        return ST_EINVAL;
    v = (unsigned long long)(s[0] - '0');
    for (i = 1; i < len; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return ST_EINVAL;
        d = (unsigned)(s[i] - '0');
        if (v > ULLONG_MAX / 10)
            return ST_EINVAL;
        v *= 10;
        if (v > ULLONG_MAX - d)
            return ST_EINVAL;
        v += d;
    }
    *out = v;
    return ST_OK;
}

/* See util.h. Redis's string2ll: "-0" fails, because after '-' the first
 * digit must be 1-9; only the one-byte string "0" may start with a zero. */
int util_str2ll(const char *s, size_t len, long long *out)
{
    unsigned long long v;
    int negative = 0;

    if (len == 0 || len >= UTIL_LONG_STR_SIZE)
        return ST_EINVAL;
    if (s[0] == '-') {
        negative = 1;
        s++;
        len--;
        /* "-" alone and "-0..." are not integers. */
        if (len == 0 || s[0] == '0')
            return ST_EINVAL;
    }
    if (util_parse_digits(s, len, &v) != ST_OK)
        return ST_EINVAL;
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return ST_EINVAL;
        /* -(LLONG_MAX + 1) without signed overflow. */
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return ST_EINVAL;
        *out = (long long)v;
    }
    return ST_OK;
}

/* See util.h. Same grammar as util_str2ll without a sign: '-' is refused. */
int util_str2ull(const char *s, size_t len, unsigned long long *out)
{
    unsigned long long v;

    if (len == 0 || len >= UTIL_LONG_STR_SIZE)
        return ST_EINVAL;
    if (util_parse_digits(s, len, &v) != ST_OK)
        return ST_EINVAL;
    *out = v;
    return ST_OK;
}

/* See util.h. */
int util_ll2str(char *dst, long long v)
{
    char tmp[UTIL_LLSTR_SIZE];
    unsigned long long u;
    int n = 0, len = 0;

    /* Magnitude as unsigned so LLONG_MIN does not overflow. */
    u = v < 0 ? (unsigned long long)0 - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    if (v < 0)
        dst[len++] = '-';
    while (n > 0)
        dst[len++] = tmp[--n];
    dst[len] = '\0';
    return len;
}

/* ------------------------------------------------------------------------ */
/* Floating point                                                           */
/* ------------------------------------------------------------------------ */

/* See util.h. Redis's string2d: the whole string must be consumed, no leading
 * blank, NaN refused, overflow to +-HUGE_VAL and underflow to zero refused
 * (a denormal result is kept, as in Redis). "inf" and "infinity" parse. */
int util_str2d(const char *s, size_t len, double *out)
{
    char buf[UTIL_DBLSTR_SIZE];
    char *end;
    double v;

    if (len == 0 || len >= sizeof(buf) || isspace((unsigned char)s[0]))
        return ST_EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    if (end != buf + len || isnan(v))
        return ST_EINVAL;
    if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO))
        return ST_EINVAL;
    *out = v;
    return ST_OK;
}

/* See util.h. Redis's string2ld, same rules as util_str2d on strtold. */
int util_str2ld(const char *s, size_t len, long double *out)
{
    char buf[UTIL_DBLSTR_SIZE];
    char *end;
    long double v;

    if (len == 0 || len >= sizeof(buf) || isspace((unsigned char)s[0]))
        return ST_EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (end != buf + len || isnan(v) || errno == EINVAL)
        return ST_EINVAL;
    if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO))
        return ST_EINVAL;
    *out = v;
    return ST_OK;
}

/* See util.h. Redis's ld2string(LD_STR_HUMAN): "%.17Lf", then trailing zeros
 * after the '.' and a bare '.' are dropped, and "-0" becomes "0". Infinities
 * are spelt "inf" / "-inf" whatever libc does. */
int util_ld2str(char *buf, size_t buflen, long double v)
{
    int l;

    if (isinf(v)) {
        const char *txt = v > 0 ? "inf" : "-inf";
        size_t n = strlen(txt);

        if (buflen < n + 1)
            return 0;
        memcpy(buf, txt, n + 1);
        return (int)n;
    }
    if (isnan(v)) {
        if (buflen < 4)
            return 0;
        memcpy(buf, "nan", 4);
        return 3;
    }
    if (buflen == 0)
        return 0;
    l = snprintf(buf, buflen, "%.17Lf", v);
    if (l < 0 || (size_t)l + 1 > buflen)
        return 0;
    if (memchr(buf, '.', (size_t)l) != NULL) {
        while (l > 0 && buf[l - 1] == '0')
            l--;
        if (l > 0 && buf[l - 1] == '.')
            l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return l;
}

/* See util.h. addReplyDouble for RESP2: "%.17g", with the infinities spelt
 * out. buflen >= 128 holds any "%.17g" output (at most about 25 bytes). */
int util_d2str(char *buf, size_t buflen, double v)
{
    int l;

    if (isinf(v)) {
        const char *txt = v > 0 ? "inf" : "-inf";
        size_t n = strlen(txt);

        if (buflen < n + 1)
            return 0;
        memcpy(buf, txt, n + 1);
        return (int)n;
    }
    if (buflen == 0)
        return 0;
    /* Integral values below 2^53 (scores, mostly) print as %.17g prints them
     * -- plain digits -- at a tenth of snprintf's cost. -0 keeps its sign. */
    if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(long long)v &&
        !(v == 0 && signbit(v))) {
        char tmp[UTIL_LLSTR_SIZE];
        l = util_ll2str(tmp, (long long)v);
        if ((size_t)l + 1 > buflen)
            return 0;
        memcpy(buf, tmp, (size_t)l + 1);
        return l;
    }
    l = snprintf(buf, buflen, "%.17g", v);
    if (l < 0 || (size_t)l + 1 > buflen)
        return 0;
    return l;
}

/* ------------------------------------------------------------------------ */
/* Glob matching                                                            */
/* ------------------------------------------------------------------------ */

/* Matches one character c against the class whose body starts at pat[*pi]
 * (just after the '['), with Redis's parsing rules: a leading '^' negates;
 * '\x' is the literal x; "a-z" is a range (reversed ends are swapped); ']'
 * closes, and a class missing its ']' runs to the end of the pattern. An
 * empty class "[]" matches nothing. Advances *pi past the class. Returns 1
 * when c is in the class (after negation). */
static int util_glob_class(const char *pat, size_t plen, size_t *pi, unsigned char c, int nocase)
{
    size_t i = *pi;
    int negate = 0, match = 0;
    int lc = nocase ? util_lower(c) : c;

    if (i < plen && pat[i] == '^') {
        negate = 1;
        i++;
    }
    while (i < plen && pat[i] != ']') {
        if (pat[i] == '\\' && plen - i >= 2) {
            int pc = (unsigned char)pat[i + 1];

            if ((nocase ? util_lower(pc) : pc) == lc)
                match = 1;
            i += 2;
        } else if (plen - i >= 3 && pat[i + 1] == '-') {
            int start = (unsigned char)pat[i];
            int end = (unsigned char)pat[i + 2];

            if (start > end) {
                int t = start;
                start = end;
                end = t;
            }
            if (nocase) {
                start = util_lower(start);
                end = util_lower(end);
            }
            if (lc >= start && lc <= end)
                match = 1;
            i += 3;
        } else {
            int pc = (unsigned char)pat[i];

            if ((nocase ? util_lower(pc) : pc) == lc)
                match = 1;
            i++;
        }
    }
    if (i < plen)
        i++; /* the closing ']' */
    *pi = i;
    return negate ? !match : match;
}

/* Matches the single-character token at pat[*pi] (anything but '*') against
 * c and advances *pi past it. Returns 1 on match. */
static int util_glob_token(const char *pat, size_t plen, size_t *pi, unsigned char c, int nocase)
{
    size_t i = *pi;
    int pc;

    switch (pat[i]) {
    case '?':
        *pi = i + 1;
        return 1;
    case '[':
        *pi = i + 1;
        return util_glob_class(pat, plen, pi, c, nocase);
    case '\\':
        /* A trailing lone '\' is a literal backslash, as in Redis. */
        if (plen - i >= 2)
            i++;
        /* fall through */
    default:
        pc = (unsigned char)pat[i];
        *pi = i + 1;
        if (nocase)
            return util_lower(pc) == util_lower(c);
        return pc == c;
    }
}

/* See util.h. Iterative matcher with one backtrack point: the last '*' seen
 * and the string position it was tried at. Every token other than '*'
 * consumes exactly one string byte, so when the tail after the latest star
 * fails at every later start, no earlier star can help either (the same
 * argument as Redis 7's skipLongerMatches). Each star therefore retries at
 * most slen start positions, each costing at most plen steps: O(plen * slen)
 * time, no recursion (invariant 3). Runs of '*' collapse to one. */
int util_glob_match(const char *pat, size_t plen, const char *s, size_t slen, int nocase)
{
    size_t pi = 0, si = 0;
    size_t star_pi = 0, star_si = 0;
    int have_star = 0;

    while (si < slen) {
        if (pi < plen && pat[pi] == '*') {
            while (pi < plen && pat[pi] == '*')
                pi++;
            if (pi == plen)
                return 1; /* a trailing star eats the rest */
            have_star = 1;
            star_pi = pi;
            star_si = si;
            continue;
        }
        if (pi < plen && util_glob_token(pat, plen, &pi, (unsigned char)s[si], nocase)) {
            si++;
            continue;
        }
        if (!have_star)
            return 0;
        /* Let the last star eat one more byte and retry the tail. */
        pi = star_pi;
        si = ++star_si;
    }
    while (pi < plen && pat[pi] == '*')
        pi++;
    return pi == plen;
}

/* ------------------------------------------------------------------------ */
/* Clocks                                                                   */
/* ------------------------------------------------------------------------ */

static int64_t util_clock_us(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + (int64_t)(ts.tv_nsec / 1000);
}

/* See util.h. CLOCK_REALTIME: jumps when the system clock is set. */
int64_t util_time_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000);
}

/* See util.h. */
void util_deadline(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* See util.h. */
int64_t util_time_us(void)
{
    return util_clock_us(CLOCK_REALTIME);
}

/* See util.h. CLOCK_MONOTONIC: never goes back; use for durations. */
int64_t util_mono_us(void)
{
    return util_clock_us(CLOCK_MONOTONIC);
}

/* ------------------------------------------------------------------------ */
/* Memory sizes                                                             */
/* ------------------------------------------------------------------------ */

/* See util.h. Redis's memtoll: an optional '-', decimal digits (leading zeros
 * allowed), then no unit, "b", "k", "kb", "m", "mb", "g" or "gb" in any case.
 * Stricter than memtoll: at least one digit, and overflow is ST_EINVAL. */
int util_parse_memsize(const char *s, long long *out)
{
    static const struct {
        const char *unit;
        long long mul;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1000},
        {"kb", 1024},
        {"m", 1000 * 1000},
        {"mb", 1024 * 1024},
        {"g", 1000LL * 1000 * 1000},
        {"gb", 1024LL * 1024 * 1024},
    };
    const char *p = s;
    unsigned long long v = 0;
    long long mul = 0, limit;
    int negative = 0;
    size_t i;

    if (s == NULL)
        return ST_EINVAL;
    if (*p == '-') {
        negative = 1;
        p++;
    }
    if (!isdigit((unsigned char)*p))
        return ST_EINVAL;
    while (isdigit((unsigned char)*p)) {
        unsigned d = (unsigned)(*p - '0');

        if (v > (ULLONG_MAX - d) / 10)
            return ST_EINVAL;
        v = v * 10 + d;
        p++;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(p, units[i].unit) == 0) {
            mul = units[i].mul;
            break;
        }
    }
    if (mul == 0)
        return ST_EINVAL;
    /* |result| <= LLONG_MAX for positives, LLONG_MAX + 1 for negatives. */
    limit = LLONG_MAX / mul;
    if (v > (unsigned long long)limit) {
        if (!(negative && mul == 1 && v == (unsigned long long)LLONG_MAX + 1))
            return ST_EINVAL;
        *out = LLONG_MIN;
        return ST_OK;
    }
    *out = negative ? -(long long)v * mul : (long long)v * mul;
    return ST_OK;
}

/* ------------------------------------------------------------------------ */
/* PRNG                                                                     */
/* ------------------------------------------------------------------------ */

static uint64_t util_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* See util.h. The two state words are the first two splitmix64 outputs of
 * seed, so nearby seeds give unrelated streams and the state is never all
 * zero (which would make xorshift128+ emit zeros forever). */
void util_rng_seed(struct util_rng *r, uint64_t seed)
{
    uint64_t x = seed;

    r->s[0] = util_splitmix64(&x);
    r->s[1] = util_splitmix64(&x);
    if (r->s[0] == 0 && r->s[1] == 0)
        r->s[0] = 1;
}

/* See util.h. xorshift128+ with Vigna's shifts (23, 18, 5). Not for
 * cryptography: eviction sampling, jitter, test data. */
uint64_t util_rng_next(struct util_rng *r)
{
    uint64_t s1 = r->s[0];
    const uint64_t s0 = r->s[1];
    const uint64_t result = s0 + s1;

    r->s[0] = s0;
    s1 ^= s1 << 23;
    r->s[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
    return result;
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

/* See util.h. A NUL byte inside s never equals anything in lit. */
int util_eqi(const char *s, size_t len, const char *lit)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (lit[i] == '\0' || util_lower(s[i]) != util_lower(lit[i]))
            return 0;
    }
    return lit[len] == '\0';
}

static int util_is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int util_hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

/* See util.h. sdssplitargs, in place. Details kept from Redis:
 *   - blanks between arguments are isspace() bytes; inside an unquoted
 *     argument only ' ', '\t', '\r', '\n' end it (so '\v' is data);
 *   - quotes may open mid-argument: foo"bar" is one argument, foobar;
 *   - in "...", '\' followed by anything else than the listed escapes is
 *     that character ("\q" is q), and "\x" without two hex digits is 'x';
 *   - in '...', only \' is an escape; "\n" stays two bytes;
 *   - a NUL byte ends the line, as it ends Redis's C string.
 * w (write) never passes r (read): every escape shrinks (invariant 4). */
int util_splitargs(char *line, size_t len, struct util_span *out, int maxargs)
{
    size_t r = 0, w = 0;
    int argc = 0;

    /* The NUL rule: cut len at the first NUL. */
    {
        const char *nul = memchr(line, '\0', len);

        if (nul != NULL)
            len = (size_t)(nul - line);
    }
    for (;;) {
        size_t start;
        int inq = 0, insq = 0, done = 0;

        while (r < len && isspace((unsigned char)line[r]))
            r++;
        if (r == len)
            return argc;
        if (argc == maxargs)
            return -1;
        /* Start writing where the argument starts, so an argument without
         * escapes keeps its place in line. */
        w = r;
        start = w;
        while (!done) {
            char c = r < len ? line[r] : '\0';
            int at_end = r >= len;

            if (inq) {
                if (at_end)
                    return -1; /* unterminated quotes */
                if (c == '\\' && len - r >= 4 && line[r + 1] == 'x' &&
                    util_is_hex((unsigned char)line[r + 2]) && util_is_hex((unsigned char)line[r + 3])) {
                    line[w++] = (char)(util_hex_val((unsigned char)line[r + 2]) * 16 +
                                       util_hex_val((unsigned char)line[r + 3]));
                    r += 4;
                } else if (c == '\\' && len - r >= 2) {
                    char e = line[r + 1];

                    switch (e) {
                    case 'n': e = '\n'; break;
                    case 'r': e = '\r'; break;
                    case 't': e = '\t'; break;
                    case 'b': e = '\b'; break;
                    case 'a': e = '\a'; break;
                    default: break;
                    }
                    line[w++] = e;
                    r += 2;
                } else if (c == '"') {
                    /* A closing quote must be followed by a blank or the end. */
                    if (len - r >= 2 && !isspace((unsigned char)line[r + 1]))
                        return -1;
                    r++;
                    done = 1;
                } else {
                    line[w++] = c;
                    r++;
                }
            } else if (insq) {
                if (at_end)
                    return -1;
                if (c == '\\' && len - r >= 2 && line[r + 1] == '\'') {
                    line[w++] = '\'';
                    r += 2;
                } else if (c == '\'') {
                    if (len - r >= 2 && !isspace((unsigned char)line[r + 1]))
                        return -1;
                    r++;
                    done = 1;
                } else {
                    line[w++] = c;
                    r++;
                }
            } else if (at_end || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                if (!at_end)
                    r++;
                done = 1;
            } else if (c == '"') {
                inq = 1;
                r++;
            } else if (c == '\'') {
                insq = 1;
                r++;
            } else {
                line[w++] = c;
                r++;
            }
        }
        out[argc].off = start;
        out[argc].len = w - start;
        argc++;
    }
}
