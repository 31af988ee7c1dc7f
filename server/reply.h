/*
 * reply.h -- writing replies into a client's output buffer in RESP2 or RESP3
 * (the client's c->resp). Every function appends; nothing is sent until the
 * worker flushes the client after the current batch of input.
 *
 * Error messages are given without the leading '-' and must start with an
 * upper-case code ("ERR", "WRONGTYPE", "NOAUTH"...); the code is counted in
 * INFO errorstats. Newlines in an error message are replaced by spaces.
 */
#ifndef STRATA_REPLY_H
#define STRATA_REPLY_H

#include <stddef.h>

struct client;

void reply_raw(struct client *c, const void *p, size_t len);
void reply_simple(struct client *c, const char *s);     /* +s */
void reply_ok(struct client *c);                        /* +OK */
void reply_error(struct client *c, const char *msg);    /* -msg */
void reply_errorf(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_int(struct client *c, long long v);          /* :v */
void reply_bulk(struct client *c, const void *p, size_t len);
void reply_bulk_cstr(struct client *c, const char *s);
void reply_bulk_ll(struct client *c, long long v);      /* integer as a bulk string */
void reply_null(struct client *c);                      /* $-1 | _ */
void reply_null_array(struct client *c);                /* *-1 | _ */
void reply_array(struct client *c, long n);             /* *n */
void reply_map(struct client *c, long n);               /* %n | *2n */
void reply_set(struct client *c, long n);               /* ~n | *n */
void reply_double(struct client *c, double d);          /* ,d | bulk */
void reply_bool(struct client *c, int b);               /* #t | :1 */
void reply_verbatim(struct client *c, const char *p, size_t len); /* =len txt:... | bulk */

/* 1 once the client's reply was abandoned (it passed the output hard limit,
 * or memory ran out): the client will be closed without flushing. Commands
 * that produce large replies in a loop check it to stop early. */
int reply_aborted(struct client *c);

/* Deferred aggregate length: reply_defer() marks the place, items follow,
 * then reply_defer_set() writes "*n" (type '*', '%' (pairs) or '~') there. */
size_t reply_defer(struct client *c);
void reply_defer_set(struct client *c, size_t mark, char type, long n);

/* The error texts clients match on. */
void reply_err_args(struct client *c);       /* wrong number of arguments for '<cmd>' command */
void reply_err_wrongtype(struct client *c);
void reply_err_syntax(struct client *c);
void reply_err_notint(struct client *c);     /* value is not an integer or out of range */
void reply_err_notfloat(struct client *c);   /* value is not a valid float */
void reply_err_nomem(struct client *c);      /* OOM command not allowed when used memory > 'maxmemory'. */

#define RERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define RERR_SYNTAX "ERR syntax error"
#define RERR_NOTINT "ERR value is not an integer or out of range"
#define RERR_NOTFLOAT "ERR value is not a valid float"
#define RERR_OVERFLOW "ERR increment or decrement would overflow"
#define RERR_DBRANGE "ERR DB index is out of range"

#endif
