/*
 * util.h -- small, dependency-free helpers shared by the engine and the server:
 * strict number parsing and formatting with Redis's rules, glob matching, clocks.
 */
#ifndef STRATA_UTIL_H
#define STRATA_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Longest output of util_ll2str (sign + 19 digits + NUL, rounded up). */
#define UTIL_LLSTR_SIZE 24
/* Buffer size enough for any double / long double formatted by this module. */
#define UTIL_DBLSTR_SIZE 5120

/* Parses s[0..len) as a base-10 signed 64-bit integer, with Redis's strictness:
 * no spaces, no '+', no leading zeros (except "0"), no empty string, no
 * overflow. Returns 0 and stores *out, or ST_EINVAL. */
int util_str2ll(const char *s, size_t len, long long *out);

/* Same as util_str2ll but for an unsigned 64-bit value. */
int util_str2ull(const char *s, size_t len, unsigned long long *out);

/* Writes v in base 10 to dst (NUL-terminated) and returns its length. dst must
 * hold UTIL_LLSTR_SIZE bytes. */
int util_ll2str(char *dst, long long v);

/* Parses a double the way Redis does for scores and INCRBYFLOAT operands:
 * strtod on the whole string, no spaces, "inf"/"-inf"/"+inf" accepted, NaN
 * refused. Returns 0 or ST_EINVAL. */
int util_str2d(const char *s, size_t len, double *out);

/* As util_str2d for a long double (INCRBYFLOAT). */
int util_str2ld(const char *s, size_t len, long double *out);

/* Formats a long double as INCRBYFLOAT does: fixed notation ("%.17Lf"),
 * trailing zeros and a trailing '.' removed. Returns the length written, or 0
 * when the value does not fit buf. */
int util_ld2str(char *buf, size_t buflen, long double v);

/* Formats a double as Redis replies with scores: "%.17g", "inf", "-inf",
 * integers without a fraction. Returns the length. buflen >= 128. */
int util_d2str(char *buf, size_t buflen, double v);

/* Glob-style match as in Redis KEYS/SCAN MATCH: * ? [abc] [^a] [a-z] and '\'
 * escapes. Returns 1 on match, 0 otherwise. Bounded recursion: a pattern
 * cannot make it run for exponential time (nested stars are collapsed). */
int util_glob_match(const char *pat, size_t plen, const char *s, size_t slen, int nocase);

/* Wall-clock time since the epoch, in ms and in us. */
int64_t util_time_ms(void);

/* Sets *ts to ms milliseconds from now on CLOCK_REALTIME: the deadline
 * pthread_cond_timedwait takes. */
struct timespec;
void util_deadline(struct timespec *ts, long ms);
int64_t util_time_us(void);
/* Monotonic clock in us (for durations and timers). */
int64_t util_mono_us(void);

/* Parses a memory size as redis.conf does: "100", "1k" (1000), "1kb" (1024),
 * "1m", "1mb", "1g", "1gb"; case-insensitive. Returns 0 or ST_EINVAL. */
int util_parse_memsize(const char *s, long long *out);

/* A fast per-instance PRNG (xorshift128+); seed with util_rng_seed. */
struct util_rng {
    uint64_t s[2];
};
void util_rng_seed(struct util_rng *r, uint64_t seed);
uint64_t util_rng_next(struct util_rng *r);

/* Case-insensitive comparison of a counted string with a NUL-terminated
 * ASCII literal. Returns 1 when equal. */
int util_eqi(const char *s, size_t len, const char *lit);

/* Splits line[0..len) into arguments as redis.conf lines and inline commands
 * are split: blanks separate; "double quotes" take \n \r \t \b \a \\ \" and
 * \xHH escapes; 'single quotes' take \' only; a closing quote must be
 * followed by a blank or the end. Unquotes in place (the result is never
 * longer) and stores each argument's (offset, length) from line into
 * out[0..maxargs). Returns the count, or -1 on unbalanced quotes or more than
 * maxargs arguments. */
struct util_span {
    size_t off;
    size_t len;
};
int util_splitargs(char *line, size_t len, struct util_span *out, int maxargs);

#endif
