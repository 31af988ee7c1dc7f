/*
 * resp.c -- incremental request parser (contract in resp.h).
 *
 * State machine for a RESP request, positions relative to the command start:
 *
 *   [start] --'*'--> header "*<n>\r\n" --(n <= 0)--> DONE (argc 0)
 *      |                  |
 *      |                  v
 *      |            bulk header "$<len>\r\n" --> payload (len bytes + CRLF)
 *      |                  ^                          |
 *      |                  +------- argc < n ---------+----- argc == n --> DONE
 *      +--other--> inline line up to '\n' (<= RESP_INLINE_MAX) --> DONE
 *
 * `consumed` remembers the end of the last complete header or payload, so a
 * command that arrives a byte at a time is scanned once, not once per byte.
 * Error texts follow Redis (networking.c) because clients and tests match on
 * them; the connection is closed after an error.
 *
 * Limits: a header line longer than RESP_INLINE_MAX, a bulk longer than
 * max_bulk or an argument count above max_multibulk is refused before any
 * memory is reserved for it, so a declared 4 GB bulk costs nothing.
 */
#include "server/resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util.h"

#define SPANS_KEEP 64 /* shrink spans back to this after a big command */

void resp_parser_init(struct resp_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->mb_total = -1;
    p->bulk_len = -1;
}

void resp_parser_deinit(struct resp_parser *p)
{
    free(p->spans);
    memset(p, 0, sizeof(*p));
}

void resp_parser_reset(struct resp_parser *p)
{
    p->argc = 0;
    p->inline_cmd = 0;
    p->mb_total = -1;
    p->bulk_len = -1;
    p->consumed = 0;
    p->need = 0;
    if (p->cap > SPANS_KEEP * 16) {
        struct util_span *s = realloc(p->spans, sizeof(*s) * SPANS_KEEP);
        if (s) {
            p->spans = s;
            p->cap = SPANS_KEEP;
        }
    }
}

static int reserve(struct resp_parser *p, long long n)
{
    if (n <= p->cap)
        return 0;
    long long ncap = p->cap ? p->cap : 8;
    while (ncap < n)
        ncap *= 2;
    struct util_span *s = realloc(p->spans, sizeof(*s) * (size_t)ncap);
    if (!s)
        return -1;
    p->spans = s;
    p->cap = (int)ncap;
    return 0;
}

/* Finds "\r" at or after from; returns its index, or -1 when absent (or when
 * the '\n' after it has not arrived yet). */
static long find_crlf(const char *buf, size_t len, size_t from)
{
    if (from >= len)
        return -1;
    const char *cr = memchr(buf + from, '\r', len - from);
    if (!cr)
        return -1;
    long idx = cr - buf;
    if ((size_t)idx + 1 >= len)
        return -1;
    return idx;
}

static enum resp_result parse_inline(struct resp_parser *p, char *buf, size_t len, size_t *cmdlen,
                                     const char **errmsg)
{
    char *nl = memchr(buf, '\n', len);
    if (!nl) {
        if (len > RESP_INLINE_MAX) {
            *errmsg = "Protocol error: too big inline request";
            return RESP_EPROTO;
        }
        p->need = len + 1;
        return RESP_MORE;
    }
    size_t linelen = (size_t)(nl - buf);
    if (linelen > RESP_INLINE_MAX) {
        *errmsg = "Protocol error: too big inline request";
        return RESP_EPROTO;
    }
    size_t end = linelen;
    if (end && buf[end - 1] == '\r')
        end--;
    long long maxargs = (long long)end / 2 + 1;
    if (reserve(p, maxargs) != 0) {
        *errmsg = "Protocol error: out of memory";
        return RESP_EPROTO;
    }
    int n = util_splitargs(buf, end, p->spans, (int)maxargs);
    if (n < 0) {
        *errmsg = "Protocol error: unbalanced quotes in request";
        return RESP_EPROTO;
    }
    p->argc = n;
    *cmdlen = linelen + 1;
    return RESP_DONE;
}

enum resp_result resp_parse(struct resp_parser *p, char *buf, size_t len, const struct resp_limits *lim,
                            size_t *cmdlen, const char **errmsg)
{
    size_t pos = p->consumed;
    long long ll;

    if (pos == 0 && p->mb_total < 0) {
        if (len == 0)
            return RESP_MORE;
        if (buf[0] != '*') {
            p->inline_cmd = 1;
            enum resp_result r = parse_inline(p, buf, len, cmdlen, errmsg);
            if (r == RESP_DONE) {
                p->consumed = 0;
                p->mb_total = -1;
                p->bulk_len = -1;
                p->inline_cmd = 0;
            }
            return r;
        }
        long cr = find_crlf(buf, len, 1);
        if (cr < 0) {
            if (len > RESP_INLINE_MAX) {
                *errmsg = "Protocol error: too big mbulk count string";
                return RESP_EPROTO;
            }
            return RESP_MORE;
        }
        if (util_str2ll(buf + 1, (size_t)cr - 1, &ll) != 0) {
            *errmsg = "Protocol error: invalid multibulk length";
            return RESP_EPROTO;
        }
        if (ll > lim->max_multibulk) {
            *errmsg = lim->unauthenticated ? "Protocol error: unauthenticated multibulk length"
                                           : "Protocol error: invalid multibulk length";
            return RESP_EPROTO;
        }
        pos = (size_t)cr + 2;
        if (ll <= 0) {
            *cmdlen = pos;
            p->argc = 0;
            return RESP_DONE;
        }
        p->mb_total = ll;
        p->argc = 0;
        p->consumed = pos;
    }

    while (p->argc < p->mb_total) {
        if (p->bulk_len < 0) {
            if (pos >= len)
                goto more;
            if (buf[pos] != '$') {
                /* Redis prints the offending byte as is, whatever it is */
                snprintf(p->errbuf, sizeof(p->errbuf), "Protocol error: expected '$', got '%c'", buf[pos]);
                *errmsg = p->errbuf;
                return RESP_EPROTO;
            }
            long cr = find_crlf(buf, len, pos + 1);
            if (cr < 0) {
                if (len - pos > RESP_INLINE_MAX) {
                    *errmsg = "Protocol error: too big bulk count string";
                    return RESP_EPROTO;
                }
                goto more;
            }
            if (util_str2ll(buf + pos + 1, (size_t)cr - pos - 1, &ll) != 0 || ll < 0) {
                *errmsg = "Protocol error: invalid bulk length";
                return RESP_EPROTO;
            }
            if (ll > lim->max_bulk) {
                *errmsg = lim->unauthenticated ? "Protocol error: unauthenticated bulk length"
                                               : "Protocol error: invalid bulk length";
                return RESP_EPROTO;
            }
            p->bulk_len = ll;
            pos = (size_t)cr + 2;
            p->consumed = pos;
        }
        if (len - pos < (size_t)p->bulk_len + 2) {
            p->need = pos + (size_t)p->bulk_len + 2;
            goto more;
        }
        if (reserve(p, p->argc + 1) != 0) {
            *errmsg = "Protocol error: out of memory";
            return RESP_EPROTO;
        }
        p->spans[p->argc].off = pos;
        p->spans[p->argc].len = (size_t)p->bulk_len;
        p->argc++;
        pos += (size_t)p->bulk_len + 2;
        p->bulk_len = -1;
        p->consumed = pos;
    }
    *cmdlen = pos;
    p->mb_total = -1;
    p->bulk_len = -1;
    p->consumed = 0;
    p->need = 0;
    return RESP_DONE;

more:
    p->consumed = pos;
    return RESP_MORE;
}
