/*
 * err.c -- names for the shared error enum (engine/err.h).
 *
 * Owns one constant table and nothing else: no state, callable from any
 * thread. The strings are for logs and INFO, not for client replies, which
 * the server words itself (Redis-compatible "-ERR ..." texts).
 */
#include "engine/err.h"

/* See err.h. Returns a static string; never NULL. Unknown codes (including
 * positive ones) map to "unknown error". */
const char *st_strerror(int err)
{
    switch (err) {
    case ST_OK: return "ok";
    case ST_ENOMEM: return "out of memory";
    case ST_EINVAL: return "invalid argument";
    case ST_ENOENT: return "no such entry";
    case ST_EEXIST: return "already exists";
    case ST_EIO: return "I/O error";
    case ST_ERANGE: return "value out of range";
    case ST_EWRONGTYPE: return "wrong type";
    case ST_ECORRUPT: return "corrupt data";
    case ST_EFULL: return "resource full";
    case ST_EAGAIN: return "try again";
    case ST_ETOOBIG: return "too big";
    case ST_EPENDING: return "pending";
    default: return "unknown error";
    }
}
