/*
 * reply.c -- RESP2/RESP3 reply encoding into the client's output buffer.
 *
 * The output buffer is one contiguous allocation; bytes [osent, olen) are
 * still to be written to the socket. Appending never blocks and never fails
 * visibly: when memory cannot be had, the client is marked CLIENT_CLOSE_ASAP
 * (its reply stream would be torn otherwise) and the worker closes it.
 *
 * RESP3-only types degrade as Redis does for RESP2 clients: maps become flat
 * arrays, sets arrays, doubles bulk strings, booleans integers, null the
 * protocol's null bulk or null array, verbatim strings bulk strings.
 */
#include "server/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util.h"
#include "server/client.h"
#include "server/config.h"
#include "server/cmd.h"
#include "server/log.h"
#include "server/server.h"
#include "server/stats.h"
#include "server/worker.h"

#define OBUF_MIN 16384

/* The hard output limit, checked as replies are appended (flushes check it
 * too): a single command cannot build an unbounded reply. Marks the client
 * CLIENT_CLOSE_ASAP -- its reply would be incomplete -- and returns 1. */
static int over_hard_limit_now(struct client *c, size_t adding)
{
    long long hard = cfg_load(c->srv->cfg.obuf_hard);
    if (hard <= 0 || c->olen - c->osent + adding < (size_t)hard)
        return 0;
    log_warn("closing client %s (id %llu): a %s reply passed the output buffer hard limit", c->addr,
             (unsigned long long)c->id, client_cmd_name(c));
    STAT_ADD(c->w->stats.client_output_limit_disconnections, 1);
    CLIENT_PUB(c->flags, c->flags | CLIENT_CLOSE_ASAP);
    return 1;
}

int reply_aborted(struct client *c)
{
    return (c->flags & CLIENT_CLOSE_ASAP) != 0;
}

/* Makes room for n more bytes; returns the write position or NULL. */
static char *obuf_reserve(struct client *c, size_t n)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return NULL;
    if (c->ocap - c->olen >= n)
        return c->obuf + c->olen;
    /* growing: the only place the buffer gets bigger, so the limit lives here */
    if (over_hard_limit_now(c, n))
        return NULL;
    /* reclaim what was already sent before growing */
    if (c->osent > 0) {
        memmove(c->obuf, c->obuf + c->osent, c->olen - c->osent);
        CLIENT_PUB(c->olen, c->olen - c->osent);
        CLIENT_PUB(c->osent, 0);
        if (c->ocap - c->olen >= n)
            return c->obuf + c->olen;
    }
    size_t ncap = c->ocap ? c->ocap : OBUF_MIN;
    while (ncap - c->olen < n)
        ncap *= 2;
    char *nb = realloc(c->obuf, ncap);
    if (!nb) {
        log_warn("client %llu: out of memory for a %zu byte reply, closing", (unsigned long long)c->id, n);
        CLIENT_PUB(c->flags, c->flags | CLIENT_CLOSE_ASAP);
        return NULL;
    }
    c->obuf = nb;
    CLIENT_PUB(c->ocap, ncap);
    return c->obuf + c->olen;
}

void reply_raw(struct client *c, const void *p, size_t len)
{
    char *w = obuf_reserve(c, len);
    if (!w)
        return;
    memcpy(w, p, len);
    CLIENT_PUB(c->olen, c->olen + len);
}

/* "<t><n>\r\n" */
static void reply_hdr(struct client *c, char t, long long n)
{
    char *w = obuf_reserve(c, 1 + UTIL_LLSTR_SIZE + 2);
    if (!w)
        return;
    w[0] = t;
    int len = util_ll2str(w + 1, n);
    w[1 + len] = '\r';
    w[2 + len] = '\n';
    CLIENT_PUB(c->olen, c->olen + ((size_t)len + 3));
}

void reply_simple(struct client *c, const char *s)
{
    size_t n = strlen(s);
    char *w = obuf_reserve(c, n + 3);
    if (!w)
        return;
    w[0] = '+';
    memcpy(w + 1, s, n);
    w[n + 1] = '\r';
    w[n + 2] = '\n';
    CLIENT_PUB(c->olen, c->olen + (n + 3));
}

void reply_ok(struct client *c)
{
    reply_raw(c, "+OK\r\n", 5);
}

static void count_error(struct client *c, const char *msg, size_t n)
{
    struct worker_stats *st = &c->w->stats;
    size_t codelen = 0;
    while (codelen < n && codelen < sizeof(st->errors[0].code) - 1 && msg[codelen] != ' ')
        codelen++;
    c->errors++;
    STAT_ADD(st->error_replies, 1);
    for (int i = 0; i < STATS_MAX_ERROR_CODES; i++) {
        struct error_stat *es = &st->errors[i];
        if (es->code[0] == '\0') {
            /* publish the code before the count that makes it visible */
            memcpy(es->code, msg, codelen);
            es->code[codelen] = '\0';
            STAT_ADD(es->count, 1);
            return;
        }
        if (strlen(es->code) == codelen && memcmp(es->code, msg, codelen) == 0) {
            STAT_ADD(es->count, 1);
            return;
        }
    }
    /* table full: Redis stops tracking new codes too (errorstats limit) */
}

void reply_error(struct client *c, const char *msg)
{
    size_t n = strlen(msg);
    char *w = obuf_reserve(c, n + 3);
    if (!w)
        return;
    w[0] = '-';
    for (size_t i = 0; i < n; i++)
        w[i + 1] = (msg[i] == '\r' || msg[i] == '\n') ? ' ' : msg[i];
    w[n + 1] = '\r';
    w[n + 2] = '\n';
    CLIENT_PUB(c->olen, c->olen + (n + 3));
    count_error(c, msg, n);
}

void reply_errorf(struct client *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    reply_error(c, buf);
}

void reply_int(struct client *c, long long v)
{
    reply_hdr(c, ':', v);
}

void reply_bulk(struct client *c, const void *p, size_t len)
{
    char *w = obuf_reserve(c, len + UTIL_LLSTR_SIZE + 5);
    if (!w)
        return;
    w[0] = '$';
    size_t h = 1 + (size_t)util_ll2str(w + 1, (long long)len);
    w[h] = '\r';
    w[h + 1] = '\n';
    memcpy(w + h + 2, p, len);
    w[h + 2 + len] = '\r';
    w[h + 3 + len] = '\n';
    CLIENT_PUB(c->olen, c->olen + (h + 4 + len));
}

void reply_bulk_cstr(struct client *c, const char *s)
{
    reply_bulk(c, s, strlen(s));
}

void reply_bulk_ll(struct client *c, long long v)
{
    char tmp[UTIL_LLSTR_SIZE];
    int n = util_ll2str(tmp, v);
    reply_bulk(c, tmp, (size_t)n);
}

void reply_null(struct client *c)
{
    if (c->resp >= 3)
        reply_raw(c, "_\r\n", 3);
    else
        reply_raw(c, "$-1\r\n", 5);
}

void reply_null_array(struct client *c)
{
    if (c->resp >= 3)
        reply_raw(c, "_\r\n", 3);
    else
        reply_raw(c, "*-1\r\n", 5);
}

void reply_array(struct client *c, long n)
{
    reply_hdr(c, '*', n);
}

void reply_map(struct client *c, long n)
{
    if (c->resp >= 3)
        reply_hdr(c, '%', n);
    else
        reply_hdr(c, '*', 2 * (long long)n);
}

void reply_set(struct client *c, long n)
{
    reply_hdr(c, c->resp >= 3 ? '~' : '*', n);
}

void reply_double(struct client *c, double d)
{
    char buf[UTIL_DBLSTR_SIZE];
    int n = util_d2str(buf, sizeof(buf), d);
    if (c->resp >= 3) {
        char *w = obuf_reserve(c, (size_t)n + 3);
        if (!w)
            return;
        w[0] = ',';
        memcpy(w + 1, buf, (size_t)n);
        w[n + 1] = '\r';
        w[n + 2] = '\n';
        CLIENT_PUB(c->olen, c->olen + ((size_t)n + 3));
    } else {
        reply_bulk(c, buf, (size_t)n);
    }
}

void reply_bool(struct client *c, int b)
{
    if (c->resp >= 3)
        reply_raw(c, b ? "#t\r\n" : "#f\r\n", 4);
    else
        reply_raw(c, b ? ":1\r\n" : ":0\r\n", 4);
}

void reply_verbatim(struct client *c, const char *p, size_t len)
{
    if (c->resp < 3) {
        reply_bulk(c, p, len);
        return;
    }
    reply_hdr(c, '=', (long long)len + 4);
    reply_raw(c, "txt:", 4);
    reply_raw(c, p, len);
    reply_raw(c, "\r\n", 2);
}

size_t reply_defer(struct client *c)
{
    /* the mark is an offset from osent's base: obuf_reserve may compact, so
     * we remember the distance from the end of already-sent data instead */
    return c->olen - c->osent;
}

void reply_defer_set(struct client *c, size_t mark, char type, long n)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return;
    long long count = n;
    if (type == '%' && c->resp < 3) {
        type = '*';
        count = 2 * (long long)n;
    } else if (type == '~' && c->resp < 3) {
        type = '*';
    }
    char hdr[UTIL_LLSTR_SIZE + 4];
    hdr[0] = type;
    size_t h = 1 + (size_t)util_ll2str(hdr + 1, count);
    hdr[h++] = '\r';
    hdr[h++] = '\n';
    if (!obuf_reserve(c, h))
        return;
    size_t at = c->osent + mark;
    memmove(c->obuf + at + h, c->obuf + at, c->olen - at);
    memcpy(c->obuf + at, hdr, h);
    CLIENT_PUB(c->olen, c->olen + h);
}

void reply_err_args(struct client *c)
{
    reply_errorf(c, "ERR wrong number of arguments for '%s' command", client_cmd_name(c));
}

void reply_err_wrongtype(struct client *c)
{
    reply_error(c, RERR_WRONGTYPE);
}

void reply_err_syntax(struct client *c)
{
    reply_error(c, RERR_SYNTAX);
}

void reply_err_notint(struct client *c)
{
    reply_error(c, RERR_NOTINT);
}

void reply_err_notfloat(struct client *c)
{
    reply_error(c, RERR_NOTFLOAT);
}

void reply_err_nomem(struct client *c)
{
    reply_error(c, "OOM command not allowed when used memory > 'maxmemory'.");
}
