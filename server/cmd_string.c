/*
 * cmd_string.c -- the string command family: GET SET SETNX SETEX PSETEX
 * GETSET GETDEL GETEX MGET MSET MSETNX APPEND STRLEN GETRANGE SUBSTR SETRANGE
 * INCR DECR INCRBY DECRBY INCRBYFLOAT, and their table cmds_string[].
 *
 * What it owns: argument parsing, shard locking, keyspace calls and replies
 * for these commands. What it does not: the rules themselves (index
 * clamping, size limits, overflow, expiry arithmetic and option grammar live
 * in engine/tstring.c, unit-tested there), entries (engine/entry.c) and the
 * keyspace (engine/keyspace.c).
 *
 * Invariants:
 *  1. Every handler validates everything that can be validated without the
 *     keyspace before it takes a lock, and then checks in Redis 7.0's order
 *     (t_string.c), so the first failing rule gives Redis's reply.
 *  2. A handler holds the locks of its keys' shards from its first lookup to
 *     its last write, and writes its reply before unlocking: no entry pointer
 *     outlives the lock (reply_bulk copies). Multi-key commands (MGET, MSET,
 *     MSETNX) lock all their shards at once (ks_lock_keys), so they are
 *     atomic across keys, as in Redis.
 *  3. A command replies exactly once. Where a write can fail after the old
 *     value would have been replied (SET ... GET, GETSET), the old value is
 *     copied first and replied after the write succeeded.
 *  4. Read lookups count keyspace_hits / keyspace_misses exactly where Redis's
 *     lookupKeyRead does (GET, MGET per key, GETRANGE, STRLEN, GETEX, GETDEL,
 *     GETSET, SET ... GET); write lookups do not count.
 *  5. String values never exceed min(proto-max-bulk-len, ENTRY_MAX_VLEN).
 *
 * Threads: handlers run on the worker that owns the client; the keyspace
 * shards they lock are shared with every other worker.
 *
 * Durability: none yet; a reply means the keyspace in DRAM holds the write.
 *
 * References: Redis 7.0 src/t_string.c; https://redis.io/commands/ for the
 * synopses in the table.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/tstring.h"
#include "engine/util.h"
#include "server/client.h"
#include "server/keyargs.h"
#include "server/cmd.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/stats.h"
#include "server/worker.h"

#define RERR_EXPIRE_FMT "ERR invalid expire time in '%s' command"
#define RERR_TOOBIG "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
#define RERR_OFFSET "ERR offset is out of range"
#define RERR_DECR_OVERFLOW "ERR decrement would overflow"
#define RERR_NAN "ERR increment would produce NaN or Infinity"

/* Keys addressed by MGET/MSET that fit on the stack before malloc. */

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Replies the bytes of string entry e (borrowed; copied into the reply). */
static void str_reply_entry(struct client *c, const struct entry *e)
{
    char tmp[UTIL_LLSTR_SIZE];
    size_t len;
    const char *p = entry_str(e, tmp, &len);

    reply_bulk(c, p, len);
}

/* The largest string a command may build (invariant 5). */
static uint64_t str_max_len(struct client *c)
{
    long long m = cfg_load(c->srv->cfg.proto_max_bulk_len);
    uint64_t lim = m > 0 ? (uint64_t)m : 0;

    return lim < ENTRY_MAX_VLEN ? lim : ENTRY_MAX_VLEN;
}

/* Replies the size error and returns 1 when a value of len bytes is larger
 * than an entry holds (only reachable with proto-max-bulk-len > 512mb). */
static int str_value_too_big(struct client *c, size_t len)
{
    if (len <= ENTRY_MAX_VLEN)
        return 0;
    reply_error(c, RERR_TOOBIG);
    return 1;
}

/* Parses argv[i] as an integer; replies the error and returns -1 if not. */
static int str_arg_ll(struct client *c, int i, long long *out)
{
    if (util_str2ll(c->argv[i].p, c->argv[i].len, out) != ST_OK) {
        reply_err_notint(c);
        return -1;
    }
    return 0;
}

/* Parses the expiry argument argv[i] (how: TSTR_EXP_*) into an absolute unix
 * time in ms. Replies the error and returns -1 when it is not valid. */
static int str_arg_expire(struct client *c, int i, unsigned how, int64_t *at_ms)
{
    long long v;

    if (str_arg_ll(c, i, &v) != 0)
        return -1;
    if (tstr_expire_at(v, how, c->now_ms, at_ms) != ST_OK) {
        reply_errorf(c, RERR_EXPIRE_FMT, client_cmd_name(c));
        return -1;
    }
    return 0;
}

/* A copy of an old string value, so it can be replied after a write that may
 * fail (invariant 3). */
struct str_copy {
    int present;
    char *p;        /* buf or malloc'd */
    size_t len;
    char buf[128];
};

/* Copies the bytes of string entry e (NULL: absent) into *s. Returns 0 or
 * ST_ENOMEM. */
static int str_copy_take(struct str_copy *s, const struct entry *e)
{
    char tmp[UTIL_LLSTR_SIZE];
    const char *p;

    s->present = 0;
    s->p = s->buf;
    s->len = 0;
    if (!e)
        return ST_OK;
    p = entry_str(e, tmp, &s->len);
    if (s->len > sizeof(s->buf)) {
        s->p = malloc(s->len);
        if (!s->p) {
            s->p = s->buf;
            return ST_ENOMEM;
        }
    }
    memcpy(s->p, p, s->len);
    s->present = 1;
    return ST_OK;
}

static void str_copy_reply(struct client *c, const struct str_copy *s)
{
    if (s->present)
        reply_bulk(c, s->p, s->len);
    else
        reply_null(c);
}

static void str_copy_free(struct str_copy *s)
{
    if (s->p != s->buf)
        free(s->p);
    s->p = s->buf;
}

/* ------------------------------------------------------------------------ */
/* GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX                           */
/* ------------------------------------------------------------------------ */

/* GET key */
static void get_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref)
        reply_null(c);
    else if ((*ref)->type != OBJ_STRING)
        reply_err_wrongtype(c);
    else
        str_reply_entry(c, *ref);
    ks_unlock(ks, k.shard);
}

/* Reply forms of the SET family when the write happens / is skipped. */
enum set_reply {
    SET_REPLY_OK = 0,  /* +OK / null (SET, SETEX, PSETEX) */
    SET_REPLY_INT = 1, /* :1 / :0 (SETNX) */
};

/* Redis's setGenericCommand: makes argv[1] hold *val under flags (TSTR_NX,
 * TSTR_XX, TSTR_GET, TSTR_KEEPTTL); with has_exp the key expires at at_ms
 * (which may be in the past: the key is then logically gone at once, as in
 * Redis). Expiry arguments were validated by the caller. */
static void set_generic(struct client *c, const struct arg *val, unsigned flags, int has_exp, int64_t at_ms,
                        enum set_reply how)
{
    struct keyspace *ks = c->srv->ks;
    struct str_copy old;
    struct ks_key k;
    struct entry **ref;
    int64_t exp;
    int found;

    old.present = 0;
    old.p = old.buf;
    if (str_value_too_big(c, val->len))
        return;
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    if (flags & TSTR_GET) {
        ref = keyargs_read(c, &k);
        if (ref && (*ref)->type != OBJ_STRING) {
            reply_err_wrongtype(c);
            goto unlock;
        }
        if (str_copy_take(&old, ref ? *ref : NULL) != ST_OK) {
            reply_err_nomem(c);
            goto unlock;
        }
    } else {
        ref = keyargs_write(c, &k);
    }
    found = ref != NULL;
    if (((flags & TSTR_NX) && found) || ((flags & TSTR_XX) && !found)) {
        if (flags & TSTR_GET)
            str_copy_reply(c, &old);
        else if (how == SET_REPLY_INT)
            reply_int(c, 0);
        else
            reply_null(c);
        goto unlock;
    }
    exp = has_exp ? at_ms : ((flags & TSTR_KEEPTTL) ? KS_KEEPTTL : -1);
    if (ks_set_str(ks, c->db, &k, ref, val->p, val->len, exp) != ST_OK) {
        reply_err_nomem(c);
        goto unlock;
    }
    if (flags & TSTR_GET)
        str_copy_reply(c, &old);
    else if (how == SET_REPLY_INT)
        reply_int(c, 1);
    else
        reply_ok(c);
unlock:
    ks_unlock(ks, k.shard);
    str_copy_free(&old);
}

/* SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL] */
static void set_cmd(struct client *c)
{
    unsigned flags = 0;
    int expi = 0;
    int64_t at = 0;

    for (int j = 3; j < c->argc; j++) {
        int r = tstr_opt_feed(&flags, TSTR_CMD_SET, c->argv[j].p, c->argv[j].len, j + 1 < c->argc);

        if (r < 0) {
            reply_err_syntax(c);
            return;
        }
        if (r == 1)
            expi = ++j;
    }
    if (expi && str_arg_expire(c, expi, tstr_opt_expire_how(flags), &at) != 0)
        return;
    set_generic(c, &c->argv[2], flags, expi != 0, at, SET_REPLY_OK);
}

/* SETNX key value */
static void setnx_cmd(struct client *c)
{
    set_generic(c, &c->argv[2], TSTR_NX, 0, 0, SET_REPLY_INT);
}

/* SETEX key seconds value */
static void setex_cmd(struct client *c)
{
    int64_t at;

    if (str_arg_expire(c, 2, TSTR_EXP_RELATIVE, &at) != 0)
        return;
    set_generic(c, &c->argv[3], 0, 1, at, SET_REPLY_OK);
}

/* PSETEX key milliseconds value */
static void psetex_cmd(struct client *c)
{
    int64_t at;

    if (str_arg_expire(c, 2, TSTR_EXP_RELATIVE | TSTR_EXP_MS, &at) != 0)
        return;
    set_generic(c, &c->argv[3], 0, 1, at, SET_REPLY_OK);
}

/* GETSET key value: SET ... GET that also drops any TTL. */
static void getset_cmd(struct client *c)
{
    set_generic(c, &c->argv[2], TSTR_GET, 0, 0, SET_REPLY_OK);
}

/* GETDEL key */
static void getdel_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_null(c);
    } else if ((*ref)->type != OBJ_STRING) {
        reply_err_wrongtype(c);
    } else {
        str_reply_entry(c, *ref);
        ks_delete_ref(ks, c->db, &k, ref);
    }
    ks_unlock(ks, k.shard);
}

/* GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]. As in Redis, a
 * missing key answers nil before the expiry value is validated. */
static void getex_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    unsigned flags = 0;
    int expi = 0;
    int64_t at = 0;
    struct ks_key k;
    struct entry **ref;

    for (int j = 2; j < c->argc; j++) {
        int r = tstr_opt_feed(&flags, TSTR_CMD_GETEX, c->argv[j].p, c->argv[j].len, j + 1 < c->argc);

        if (r < 0) {
            reply_err_syntax(c);
            return;
        }
        if (r == 1)
            expi = ++j;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_null(c);
        goto unlock;
    }
    if ((*ref)->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    if (expi && str_arg_expire(c, expi, tstr_opt_expire_how(flags), &at) != 0)
        goto unlock;
    if ((flags & (TSTR_EXAT | TSTR_PXAT)) && at <= c->now_ms) {
        /* An absolute time already past deletes the key. */
        str_reply_entry(c, *ref);
        ks_delete_ref(ks, c->db, &k, ref);
        goto unlock;
    }
    if (expi || ((flags & TSTR_PERSIST) && entry_expire(*ref) != -1)) {
        if (ks_set_expire(ks, c->db, &k, ref, expi ? at : -1) != ST_OK) {
            reply_err_nomem(c);
            goto unlock;
        }
    }
    str_reply_entry(c, *ref);
unlock:
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* MGET MSET MSETNX                                                         */
/* ------------------------------------------------------------------------ */

/* MGET key [key ...]: a value of another type reads as nil, as in Redis. */
static void mget_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[KEYARGS_STACK] = { 0 };
    size_t n = (size_t)c->argc - 1;
    struct ks_key *keys = keyargs_many(c, stack, n, 1, 1);

    if (!keys)
        return;
    ks_lock_keys(ks, keys, n);
    reply_array(c, (long)n);
    for (size_t i = 0; i < n; i++) {
        struct entry **ref = keyargs_read(c, &keys[i]);

        if (ref && (*ref)->type == OBJ_STRING)
            str_reply_entry(c, *ref);
        else
            reply_null(c);
    }
    ks_unlock_keys(ks, keys, n);
    keyargs_free(keys, stack);
}

/* MSET / MSETNX key value [key value ...]. With nx nothing is set when any
 * key exists. Repeated keys: the last value wins. Every key loses its TTL. */
static void mset_generic(struct client *c, int nx)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[KEYARGS_STACK] = { 0 };
    struct ks_key *keys;
    size_t n;

    if (c->argc % 2 == 0) {
        reply_err_args(c);
        return;
    }
    n = (size_t)(c->argc - 1) / 2;
    for (size_t i = 0; i < n; i++)
        if (str_value_too_big(c, c->argv[2 + 2 * i].len))
            return;
    keys = keyargs_many(c, stack, n, 1, 2);
    if (!keys)
        return;
    ks_lock_keys(ks, keys, n);
    if (nx) {
        for (size_t i = 0; i < n; i++) {
            if (keyargs_write(c, &keys[i])) {
                reply_int(c, 0);
                goto unlock;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct arg *v = &c->argv[2 + 2 * i];
        struct entry **ref = keyargs_write(c, &keys[i]);

        if (ks_set_str(ks, c->db, &keys[i], ref, v->p, v->len, -1) != ST_OK) {
            /* Keys before i are set: out of memory is not atomic. */
            reply_err_nomem(c);
            goto unlock;
        }
    }
    if (nx)
        reply_int(c, 1);
    else
        reply_ok(c);
unlock:
    ks_unlock_keys(ks, keys, n);
    keyargs_free(keys, stack);
}

static void mset_cmd(struct client *c)
{
    mset_generic(c, 0);
}

static void msetnx_cmd(struct client *c)
{
    mset_generic(c, 1);
}

/* ------------------------------------------------------------------------ */
/* APPEND STRLEN GETRANGE SUBSTR SETRANGE                                   */
/* ------------------------------------------------------------------------ */

/* Grows the string entry at ref to newlen bytes (its bytes kept, growth
 * zero-filled, ENC_INT turned into text) and relinks it. Returns the entry
 * or NULL (out of memory, entry unchanged). */
static struct entry *str_resize(struct client *c, const struct ks_key *k, struct entry **ref, size_t newlen)
{
    uint8_t old_flags = (*ref)->flags;
    struct entry *ne = entry_resize_raw(*ref, newlen);

    if (!ne)
        return NULL;
    ks_relink(c->srv->ks, c->db, k, ref, old_flags, ne);
    return ne;
}

/* APPEND key value */
static void append_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    const struct arg *val = &c->argv[2];
    struct ks_key k;
    struct entry **ref;
    struct entry *e;
    char tmp[UTIL_LLSTR_SIZE];
    size_t olen;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (!ref) {
        if (str_value_too_big(c, val->len))
            goto unlock;
        if (ks_set_str(ks, c->db, &k, NULL, val->p, val->len, -1) != ST_OK)
            reply_err_nomem(c);
        else
            reply_int(c, (long long)val->len);
        goto unlock;
    }
    if ((*ref)->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    entry_str(*ref, tmp, &olen);
    if (tstr_check_len(olen, val->len, str_max_len(c)) != ST_OK) {
        reply_error(c, RERR_TOOBIG);
        goto unlock;
    }
    e = str_resize(c, &k, ref, olen + val->len);
    if (!e) {
        reply_err_nomem(c);
        goto unlock;
    }
    if (val->len > 0)
        memcpy(entry_val(e) + olen, val->p, val->len);
    reply_int(c, (long long)(olen + val->len));
unlock:
    ks_unlock(ks, k.shard);
}

/* STRLEN key */
static void strlen_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_int(c, 0);
    } else if ((*ref)->type != OBJ_STRING) {
        reply_err_wrongtype(c);
    } else {
        char tmp[UTIL_LLSTR_SIZE];
        size_t len;

        entry_str(*ref, tmp, &len);
        reply_int(c, (long long)len);
    }
    ks_unlock(ks, k.shard);
}

/* GETRANGE key start end (and SUBSTR, its old name). */
static void getrange_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    long long start, end;
    struct ks_key k;
    struct entry **ref;

    if (str_arg_ll(c, 2, &start) != 0 || str_arg_ll(c, 3, &end) != 0)
        return;
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_bulk(c, "", 0);
    } else if ((*ref)->type != OBJ_STRING) {
        reply_err_wrongtype(c);
    } else {
        char tmp[UTIL_LLSTR_SIZE];
        size_t len, off;
        const char *p = entry_str(*ref, tmp, &len);
        size_t n = tstr_range(start, end, len, &off);

        reply_bulk(c, p + off, n);
    }
    ks_unlock(ks, k.shard);
}

/* SETRANGE key offset value */
static void setrange_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    const struct arg *val = &c->argv[3];
    long long offset;
    struct ks_key k;
    struct entry **ref;
    struct entry *e;
    size_t olen = 0, newlen;
    int rc;

    if (str_arg_ll(c, 2, &offset) != 0)
        return;
    if (offset < 0) {
        reply_error(c, RERR_OFFSET);
        return;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (ref) {
        char tmp[UTIL_LLSTR_SIZE];

        if ((*ref)->type != OBJ_STRING) {
            reply_err_wrongtype(c);
            goto unlock;
        }
        entry_str(*ref, tmp, &olen);
    }
    rc = tstr_setrange_len(olen, offset, val->len, str_max_len(c), &newlen);
    if (rc == ST_ETOOBIG) {
        reply_error(c, RERR_TOOBIG);
        goto unlock;
    }
    if (val->len == 0) {
        /* Nothing to write: no key is created, none is changed. */
        reply_int(c, (long long)olen);
        goto unlock;
    }
    if (ref) {
        e = str_resize(c, &k, ref, newlen);
        if (!e) {
            reply_err_nomem(c);
            goto unlock;
        }
    } else {
        e = entry_create(k.p, (uint32_t)k.len, OBJ_STRING, ENC_RAW, (uint32_t)newlen, -1);
        if (!e) {
            reply_err_nomem(c);
            goto unlock;
        }
        if (ks_insert(ks, c->db, &k, e) != ST_OK) {
            entry_destroy(e);
            reply_err_nomem(c);
            goto unlock;
        }
    }
    tstr_setrange_apply((char *)entry_val(e), olen, (size_t)offset, val->p, val->len);
    reply_int(c, (long long)newlen);
unlock:
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* INCR DECR INCRBY DECRBY INCRBYFLOAT                                      */
/* ------------------------------------------------------------------------ */

/* Redis's incrDecrCommand: adds incr to the integer at argv[1] (0 when
 * missing), keeping its TTL. */
static void incr_generic(struct client *c, long long incr)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;
    long long v = 0;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (ref) {
        struct entry *e = *ref;

        if (e->type != OBJ_STRING) {
            reply_err_wrongtype(c);
            goto unlock;
        }
        if (e->enc == ENC_INT) {
            v = entry_int(e);
        } else if (util_str2ll((const char *)entry_cval(e), e->vlen, &v) != ST_OK) {
            reply_err_notint(c);
            goto unlock;
        }
    }
    if (tstr_incrby(v, incr, &v) != ST_OK) {
        reply_error(c, RERR_OVERFLOW);
        goto unlock;
    }
    if (ref && (*ref)->enc == ENC_INT) {
        entry_set_int(*ref, v);
        ks_touch_write(ks, &k);
    } else {
        char buf[UTIL_LLSTR_SIZE];
        int n = util_ll2str(buf, v);

        if (ks_set_str(ks, c->db, &k, ref, buf, (size_t)n, KS_KEEPTTL) != ST_OK) {
            reply_err_nomem(c);
            goto unlock;
        }
    }
    reply_int(c, v);
unlock:
    ks_unlock(ks, k.shard);
}

static void incr_cmd(struct client *c)
{
    incr_generic(c, 1);
}

static void decr_cmd(struct client *c)
{
    incr_generic(c, -1);
}

/* INCRBY key increment */
static void incrby_cmd(struct client *c)
{
    long long incr;

    if (str_arg_ll(c, 2, &incr) != 0)
        return;
    incr_generic(c, incr);
}

/* DECRBY key decrement */
static void decrby_cmd(struct client *c)
{
    long long decr, incr;

    if (str_arg_ll(c, 2, &decr) != 0)
        return;
    if (tstr_negate(decr, &incr) != ST_OK) {
        reply_error(c, RERR_DECR_OVERFLOW);
        return;
    }
    incr_generic(c, incr);
}

/* INCRBYFLOAT key increment: as Redis, the current value is checked before
 * the increment, and the result is stored as text, keeping the TTL. */
static void incrbyfloat_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    char buf[UTIL_DBLSTR_SIZE];
    long double v = 0, incr;
    struct ks_key k;
    struct entry **ref;
    int n;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (ref) {
        char tmp[UTIL_LLSTR_SIZE];
        const char *p;
        size_t len;

        if ((*ref)->type != OBJ_STRING) {
            reply_err_wrongtype(c);
            goto unlock;
        }
        p = entry_str(*ref, tmp, &len);
        if (util_str2ld(p, len, &v) != ST_OK) {
            reply_err_notfloat(c);
            goto unlock;
        }
    }
    if (util_str2ld(c->argv[2].p, c->argv[2].len, &incr) != ST_OK) {
        reply_err_notfloat(c);
        goto unlock;
    }
    n = tstr_incrbyfloat(v, incr, buf, sizeof(buf));
    if (n < 0) {
        /* ST_ETOOBIG cannot happen: buf holds any finite long double. */
        reply_error(c, RERR_NAN);
        goto unlock;
    }
    if (ks_set_str(ks, c->db, &k, ref, buf, (size_t)n, KS_KEEPTTL) != ST_OK) {
        reply_err_nomem(c);
        goto unlock;
    }
    reply_bulk(c, buf, (size_t)n);
unlock:
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

#define W_OOM (CMD_WRITE | CMD_DENYOOM)
#define W_OOM_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define W_FAST (CMD_WRITE | CMD_FAST)
#define R_FAST (CMD_READONLY | CMD_FAST)

#define RANGE_COMPLEXITY \
    "O(N) where N is the length of the returned string. The complexity is ultimately determined by " \
    "the returned length, but because creating a substring from an existing string is very cheap, " \
    "it can be considered O(1) for small strings."

/* name, proc, arity, flags, first, last, step, group, summary, since,
 * complexity, syntax: as Redis 7.0's COMMAND INFO / COMMAND DOCS. */
const struct cmd_def cmds_string[] = {
    { "get", get_cmd, 2, R_FAST, 1, 1, 1, "string",
      "Get the value of a key", "1.0.0", "O(1)", "key", NULL },
    { "set", set_cmd, -3, W_OOM, 1, 1, 1, "string",
      "Set the string value of a key", "1.0.0", "O(1)",
      "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | "
      "PXAT unix-time-milliseconds | KEEPTTL]", NULL },
    { "setnx", setnx_cmd, 3, W_OOM_FAST, 1, 1, 1, "string",
      "Set the value of a key, only if the key does not exist", "1.0.0", "O(1)", "key value", NULL },
    { "setex", setex_cmd, 4, W_OOM, 1, 1, 1, "string",
      "Set the value and expiration of a key", "2.0.0", "O(1)", "key seconds value", NULL },
    { "psetex", psetex_cmd, 4, W_OOM, 1, 1, 1, "string",
      "Set the value and expiration in milliseconds of a key", "2.6.0", "O(1)",
      "key milliseconds value", NULL },
    { "getset", getset_cmd, 3, W_OOM_FAST, 1, 1, 1, "string",
      "Set the string value of a key and return its old value", "1.0.0", "O(1)", "key value", NULL },
    { "getdel", getdel_cmd, 2, W_FAST, 1, 1, 1, "string",
      "Get the value of a key and delete the key", "6.2.0", "O(1)", "key", NULL },
    { "getex", getex_cmd, -2, W_FAST, 1, 1, 1, "string",
      "Get the value of a key and optionally set its expiration", "6.2.0", "O(1)",
      "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]",
      NULL },
    { "mget", mget_cmd, -2, R_FAST, 1, -1, 1, "string",
      "Get the values of all the given keys", "1.0.0",
      "O(N) where N is the number of keys to retrieve.", "key [key ...]", NULL },
    { "mset", mset_cmd, -3, W_OOM, 1, -1, 2, "string",
      "Set multiple keys to multiple values", "1.0.1",
      "O(N) where N is the number of keys to set.", "key value [key value ...]", NULL },
    { "msetnx", msetnx_cmd, -3, W_OOM, 1, -1, 2, "string",
      "Set multiple keys to multiple values, only if none of the keys exist", "1.0.1",
      "O(N) where N is the number of keys to set.", "key value [key value ...]", NULL },
    { "append", append_cmd, 3, W_OOM_FAST, 1, 1, 1, "string",
      "Append a value to a key", "2.0.0",
      "O(1). The amortized time complexity is O(1) assuming the appended value is small and the "
      "already present value is of any size, since the dynamic string library used by Redis will "
      "double the free space available on every reallocation.",
      "key value", NULL },
    { "strlen", strlen_cmd, 2, R_FAST, 1, 1, 1, "string",
      "Get the length of the value stored in a key", "2.2.0", "O(1)", "key", NULL },
    { "getrange", getrange_cmd, 4, CMD_READONLY, 1, 1, 1, "string",
      "Get a substring of the string stored at a key", "2.4.0", RANGE_COMPLEXITY, "key start end", NULL },
    { "substr", getrange_cmd, 4, CMD_READONLY, 1, 1, 1, "string",
      "Get a substring of the string stored at a key", "1.0.0", RANGE_COMPLEXITY, "key start end", NULL },
    { "setrange", setrange_cmd, 4, W_OOM, 1, 1, 1, "string",
      "Overwrite part of a string at key starting at the specified offset", "2.2.0",
      "O(1), not counting the time taken to copy the new string in place. Usually, this string is "
      "very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being "
      "the length of the value argument.",
      "key offset value", NULL },
    { "incr", incr_cmd, 2, W_OOM_FAST, 1, 1, 1, "string",
      "Increment the integer value of a key by one", "1.0.0", "O(1)", "key", NULL },
    { "decr", decr_cmd, 2, W_OOM_FAST, 1, 1, 1, "string",
      "Decrement the integer value of a key by one", "1.0.0", "O(1)", "key", NULL },
    { "incrby", incrby_cmd, 3, W_OOM_FAST, 1, 1, 1, "string",
      "Increment the integer value of a key by the given amount", "1.0.0", "O(1)", "key increment", NULL },
    { "decrby", decrby_cmd, 3, W_OOM_FAST, 1, 1, 1, "string",
      "Decrement the integer value of a key by the given number", "1.0.0", "O(1)", "key decrement", NULL },
    { "incrbyfloat", incrbyfloat_cmd, 3, W_OOM_FAST, 1, 1, 1, "string",
      "Increment the float value of a key by the given amount", "2.6.0", "O(1)", "key increment", NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};
