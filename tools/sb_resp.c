/*
 * sb_resp.c -- a streaming parser for the replies a RESP2 or RESP3 server
 * sends, written for a load generator: it tells each top-level reply's type
 * and, for errors, its text; it keeps nothing else.
 *
 * Data model (struct sb_resp in sb.h). The parser is a byte-level state
 * machine with four states:
 *
 *   TYPE --type byte--> LINE --"\r\n"--> (scalar done | BODY | push frame)
 *   BODY --skip len payload bytes--> BODY_CR --'\r'--> BODY_LF --'\n'--> done
 *
 * Aggregates (* % ~ > |) push a frame {elements left, is-attribute} on a
 * stack of at most SB_RESP_MAX_DEPTH frames; an element that completes
 * decrements the innermost frame, a frame that reaches zero is itself a
 * completed element of its parent, except an attribute frame (|), which
 * annotates the element after it and is not one. When the stack is empty
 * after a completed element, a top-level reply is complete; a top-level push
 * (>) is dropped, not reported.
 *
 * Invariants:
 *   1. Memory is sizeof(struct sb_resp) whatever arrives: bulk payloads are
 *      skipped as they stream past; lines keep their first SB_RESP_LINE_MAX
 *      bytes (a number longer than that is a protocol error) and error texts
 *      their first SB_RESP_ERR_MAX - 1.
 *   2. Every input byte is consumed exactly once; a reply split at any byte
 *      boundary parses as the same reply.
 *   3. A malformed stream (unknown type byte, a bad number, a missing CRLF, a
 *      negative length other than -1 where null is allowed, nesting past the
 *      stack) returns -1 and stays failed: there is no resynchronising RESP.
 *
 * Threads: one parser per connection, used by that connection's worker only.
 */
#include "sb.h"

#include <string.h>

enum { PS_TYPE, PS_LINE, PS_BODY, PS_BODY_CR, PS_BODY_LF, PS_FAILED };

/* the largest length or count we believe (the parser never allocates by it) */
#define SB_RESP_MAX_LEN (1ULL << 50)

void sb_resp_init(struct sb_resp *p)
{
    memset(p, 0, sizeof(*p));
    p->state = PS_TYPE;
}

static int sb_fail(struct sb_resp *p, const char *why)
{
    p->state = PS_FAILED;
    p->why = why;
    return -1;
}

/* Parses the stored line as a signed decimal integer. */
static int sb_line_int(const struct sb_resp *p, int64_t *out)
{
    size_t n = p->linelen;
    if (n == 0 || n > 20 || n > SB_RESP_LINE_MAX)
        return -1;
    size_t i = 0;
    int neg = 0;
    if (p->line[0] == '-' || p->line[0] == '+') {
        neg = p->line[0] == '-';
        i = 1;
        if (n == 1)
            return -1;
    }
    uint64_t v = 0;
    for (; i < n; i++) {
        char c = p->line[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (uint64_t)(c - '0');
        if (v > (1ULL << 62))
            return -1;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* The element whose header (and payload) was just read is complete. Returns
 * 1 when that completes a top-level reply. */
static int sb_elem_done(struct sb_resp *p)
{
    while (p->depth > 0) {
        if (--p->stack[p->depth - 1].left > 0)
            return 0;
        int attr = p->stack[p->depth - 1].attr;
        p->depth--;
        if (attr)
            return 0; /* the attribute is over; the element it annotates follows */
    }
    return 1;
}

/* A new element with type byte t starts; at depth 0 and not an attribute, it
 * is the top-level reply. */
static void sb_note_top(struct sb_resp *p, char t)
{
    if (p->depth != 0 || t == '|' || p->top_set)
        return;
    p->top_set = 1;
    switch (t) {
    case '+': p->top = SB_R_SIMPLE; break;
    case '-': case '!': p->top = SB_R_ERROR; break;
    case ':': p->top = SB_R_INT; break;
    case '$': case '=': p->top = SB_R_BULK; break;
    case '_': p->top = SB_R_NULL; break;
    case '*': case '%': case '~': p->top = SB_R_ARRAY; break;
    case '>': p->top = SB_R_ARRAY; p->top_push = 1; break;
    default: p->top = SB_R_OTHER; break;
    }
    p->top_err_blob = t == '!';
}

static void sb_err_append(struct sb_resp *p, const char *s, size_t n)
{
    size_t room = SB_RESP_ERR_MAX - 1 - p->errlen;
    if (n > room)
        n = room;
    memcpy(p->err + p->errlen, s, n);
    p->errlen += n;
    p->err[p->errlen] = '\0';
}

/* A whole line is in p->line (p->linelen bytes, '\r' excluded). Returns 1 when
 * a top-level reply completed, 0 otherwise, -1 on a protocol error. */
static int sb_line_done(struct sb_resp *p)
{
    int64_t v;
    char t = p->type;
    switch (t) {
    case '+': case '(': case ',': case '#': case '_':
        return sb_elem_done(p);
    case '-':
        if (p->depth == 0 && p->top == SB_R_ERROR)
            sb_err_append(p, p->line, p->linelen < SB_RESP_LINE_MAX ? p->linelen : SB_RESP_LINE_MAX);
        return sb_elem_done(p);
    case ':':
        if (sb_line_int(p, &v) < 0)
            return sb_fail(p, "bad integer reply");
        return sb_elem_done(p);
    case '$': case '=': case '!':
        if (sb_line_int(p, &v) < 0)
            return sb_fail(p, "bad bulk length");
        if (v == -1 && t == '$') {
            if (p->depth == 0 && p->top == SB_R_BULK)
                p->top = SB_R_NULL;
            return sb_elem_done(p);
        }
        if (v < 0 || (uint64_t)v > SB_RESP_MAX_LEN)
            return sb_fail(p, "bad bulk length");
        p->body_left = (uint64_t)v;
        p->state = PS_BODY;
        return 0;
    case '*': case '%': case '~': case '>': case '|':
        if (sb_line_int(p, &v) < 0)
            return sb_fail(p, "bad aggregate length");
        if (v == -1 && t == '*') {
            if (p->depth == 0 && p->top == SB_R_ARRAY)
                p->top = SB_R_NULL;
            return sb_elem_done(p);
        }
        if (v < 0 || (uint64_t)v > SB_RESP_MAX_LEN)
            return sb_fail(p, "bad aggregate length");
        if (t == '%' || t == '|')
            v *= 2;
        if (v == 0)
            return t == '|' ? 0 : sb_elem_done(p);
        if (p->depth >= SB_RESP_MAX_DEPTH)
            return sb_fail(p, "replies nested too deeply");
        p->stack[p->depth].left = (uint64_t)v;
        p->stack[p->depth].attr = t == '|';
        p->depth++;
        return 0;
    default:
        return sb_fail(p, "unknown reply type");
    }
}

int sb_resp_feed(struct sb_resp *p, const char *buf, size_t len, size_t *used,
                 struct sb_reply *out)
{
    size_t i = 0;
    int rc = 0;
    if (p->state == PS_FAILED)
        return -1;
    while (i < len) {
        switch (p->state) {
        case PS_TYPE: {
            char t = buf[i++];
            if (!strchr("+-:$*_,#(=!%~>|", t) || t == '\0') {
                *used = i;
                return sb_fail(p, "unknown reply type byte");
            }
            if (p->depth == 0 && !p->top_set && t != '|')
                p->errlen = 0, p->err[0] = '\0';
            p->type = t;
            sb_note_top(p, t);
            p->linelen = 0;
            p->cr = 0;
            p->state = PS_LINE;
            continue;
        }
        case PS_LINE: {
            char c = buf[i++];
            if (c == '\n') {
                if (!p->cr) {
                    *used = i;
                    return sb_fail(p, "line not ended by CRLF");
                }
                p->linelen--; /* the '\r' */
                p->state = PS_TYPE;
                rc = sb_line_done(p);
                break;
            }
            if (p->linelen < SB_RESP_LINE_MAX)
                p->line[p->linelen] = c;
            p->linelen++;
            p->cr = c == '\r';
            if (p->linelen > SB_RESP_LINE_MAX + 1 && p->type != '+' && p->type != '-' &&
                p->type != '(' && p->type != ',') {
                *used = i;
                return sb_fail(p, "header line too long");
            }
            continue;
        }
        case PS_BODY: {
            size_t n = len - i;
            if (n > p->body_left)
                n = (size_t)p->body_left;
            if (p->depth == 0 && p->top_err_blob)
                sb_err_append(p, buf + i, n);
            i += n;
            p->body_left -= n;
            if (p->body_left == 0)
                p->state = PS_BODY_CR;
            continue;
        }
        case PS_BODY_CR:
            if (buf[i++] != '\r') {
                *used = i;
                return sb_fail(p, "bulk payload not followed by CRLF");
            }
            p->state = PS_BODY_LF;
            continue;
        case PS_BODY_LF:
            if (buf[i++] != '\n') {
                *used = i;
                return sb_fail(p, "bulk payload not followed by CRLF");
            }
            p->state = PS_TYPE;
            rc = sb_elem_done(p);
            break;
        default:
            *used = i;
            return -1;
        }
        /* an element ended (PS_LINE or PS_BODY_LF) */
        if (rc < 0) {
            *used = i;
            return -1;
        }
        if (rc == 1) {
            int push = p->top_push;
            enum sb_reply_type type = p->top;
            p->top_set = 0;
            p->top_push = 0;
            p->top_err_blob = 0;
            rc = 0;
            if (push)
                continue; /* out-of-band: not a reply to anything */
            *used = i;
            out->type = type;
            out->err = p->err;
            out->errlen = p->errlen;
            return 1;
        }
    }
    *used = i;
    return 0;
}
