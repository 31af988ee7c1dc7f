/*
 * resp.h -- incremental parser for client requests: RESP arrays of bulk
 * strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and inline commands ("GET k\n").
 *
 * The parser never copies argument bytes: it records spans (offset, length)
 * relative to the start of the command in the caller's buffer. It may be fed
 * a command split at any byte boundary: on RESP_MORE it remembers how far it
 * got and continues from there on the next call with the same command start.
 * Inline arguments are unquoted in place (the unquoted text is never longer).
 */
#ifndef STRATA_RESP_H
#define STRATA_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "engine/util.h"

#define RESP_INLINE_MAX (64 * 1024)   /* as Redis's PROTO_INLINE_MAX_SIZE */
#define RESP_MULTIBULK_MAX (1 << 20)  /* arguments per command */
#define RESP_UNAUTH_MULTIBULK_MAX 10  /* before AUTH, as Redis */
#define RESP_UNAUTH_BULK_MAX 16384

enum resp_result {
    RESP_DONE = 0,  /* a whole command is parsed: spans[0..argc) */
    RESP_MORE = 1,  /* need more bytes */
    RESP_EPROTO = 2 /* protocol error: errmsg says which; close the connection */
};


struct resp_limits {
    long long max_bulk;       /* proto-max-bulk-len */
    long long max_multibulk;  /* arguments per command */
    int unauthenticated;      /* the pre-AUTH limits: Redis words their errors differently */
};

struct resp_parser {
    struct util_span *spans;  /* owned, grown as arguments arrive */
    int argc;                 /* spans filled so far */
    int cap;
    int inline_cmd;           /* the current command is inline */
    long long mb_total;       /* declared argument count, -1 before the header */
    long long bulk_len;       /* declared length of the current bulk, -1 before its header */
    size_t consumed;          /* bytes of the current command parsed so far */
    size_t need;              /* bytes that must be present for progress (hint for buffer growth) */
    char errbuf[64];          /* a formatted error message (errmsg may point here) */
};

void resp_parser_init(struct resp_parser *p);
void resp_parser_deinit(struct resp_parser *p);
/* Forgets a partial command (after RESP_DONE the parser resets itself). */
void resp_parser_reset(struct resp_parser *p);

/* Parses the command starting at buf (len bytes available). On RESP_DONE
 * *cmdlen is the command's length in bytes (inline: including the line end)
 * and p->spans/p->argc describe it. An empty inline line or a "*0" / "*-1"
 * array yields RESP_DONE with argc 0 (the caller skips it). On RESP_EPROTO
 * *errmsg is a message in Redis's wording ("Protocol error: ..."), static or
 * in p->errbuf: valid until the parser is next used, reset or freed. */
enum resp_result resp_parse(struct resp_parser *p, char *buf, size_t len, const struct resp_limits *lim,
                            size_t *cmdlen, const char **errmsg);

#endif
