/*
 * cmd_list.c -- the list command family: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP
 * LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP and
 * the blocking BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP, with their table
 * cmds_list[].
 *
 * What it owns: argument parsing in Redis's order, shard locking, replies,
 * and the callbacks through which server/blocking.c serves blocked clients.
 * What it does not: the list itself (engine/t_list.c: nodes, encodings),
 * the registry of blocked clients and its FIFO (server/blocking.c).
 *
 * Blocking (protocol in blocking.h). A blocking command locks the shards of
 * all its keys, serves itself at once when a key has elements (then it is
 * exactly its non-blocking form), else registers a waiter before unlocking,
 * so no push can slip between the check and the registration. Every command
 * that adds elements to a key (pushes, LINSERT, the destination of
 * LMOVE/BLMOVE, an undo) calls blk_signal() while still holding the key's
 * shard lock, after the reply's length was computed: LPUSH k a answers 1 and
 * a client blocked on k has the element before anyone else can see it.
 *
 *   waiter   serve (pusher's worker,      reply (waiter's worker)     undo (client gone)
 *            shard + registry locks)
 *   BLPOP    pop 1 (BLMPOP: up to count)  [key, value(s)]             push back where it
 *            into state                                               came from, signal
 *   BLMOVE   pop 1 from the source        lock dst, push, signal,     the same push to dst
 *                                         reply the value; dst of a   (or back to the source)
 *                                         wrong type: back to the
 *                                         source, WRONGTYPE
 *
 * Invariants:
 *  1. Handlers validate what needs no keyspace first, then check in Redis
 *     7.2's order (t_list.c), so the first failing rule gives Redis's reply.
 *  2. Entry refs (struct entry **) are not kept across another lookup or an
 *     insert (either may unlink or rehash); entries and list objects are,
 *     and a key is deleted by looking its ref up again (list_key_delete).
 *  3. A key whose list becomes empty is deleted before the locks are
 *     released; a list that shrinks gets list_convert_shrink().
 *  4. Serve callbacks take no lock, allocate only to copy what they pop, and
 *     leave the list untouched when that allocation fails (not served).
 *  5. Elements popped for a waiter are either replied or pushed back / on by
 *     undo (blocking.h invariant 2).
 *  6. Reads (LLEN LRANGE LINDEX LPOS) count keyspace hits/misses as Redis's
 *     lookupKeyRead; writes and blocking commands do not.
 *
 * Threads: handlers and reply/undo callbacks run on the client's worker;
 * serve callbacks on whichever worker pushed. All of them hold the shard
 * lock of every key they touch.
 *
 * Durability: none yet; a reply means the keyspace in DRAM holds the write.
 *
 * References: Redis 7.2 src/t_list.c, src/blocked.c; Redis 7.0.15 for the
 * replies and error texts the integration tests check.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/t_list.h"
#include "engine/tlimits.h"
#include "engine/util.h"
#include "server/blocking.h"
#include "server/client.h"
#include "server/keyargs.h"
#include "server/cmd.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/stats.h"
#include "server/wlog.h"
#include "server/worker.h"

#define RERR_NOSUCHKEY "ERR no such key"
#define RERR_INDEX "ERR index out of range"
#define RERR_POSITIVE "ERR value is out of range, must be positive"
#define RERR_TIMEOUT_FLOAT "ERR timeout is not a float or out of range"
#define RERR_TIMEOUT_NEG "ERR timeout is negative"
#define RERR_TIMEOUT_RANGE "ERR timeout is out of range"
#define RERR_NUMKEYS "ERR numkeys should be greater than 0"
#define RERR_COUNT_GT0 "ERR count should be greater than 0"
#define RERR_RANK_ZERO                                                                               \
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "    \
    "negative to start from the end of the list"
#define RERR_RANK_RANGE                                                                              \
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
#define RERR_COUNT_NEG "ERR COUNT can't be negative"
#define RERR_MAXLEN_NEG "ERR MAXLEN can't be negative"

/* Keys of one command that fit on the stack before malloc. */

/* Timeouts past this many ms (about 146,000 years) wait forever: the
 * deadline in us must not overflow. */
#define LIST_TIMEOUT_MAX_MS (INT64_MAX / 2000)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* list-max-listpack-size in force. */
static int32_t list_fill(struct server *srv)
{
    struct type_limits lim;

    server_type_limits(srv, &lim);
    return lim.list_max_lp_size;
}

/* Lookup for a read command (invariant 6). Caller holds k's shard lock. */
static struct entry *list_lookup_read(struct client *c, const struct ks_key *k)
{
    struct entry **ref = keyargs_read(c, k);
    return ref ? *ref : NULL;
}

static struct entry *list_lookup_write(struct client *c, const struct ks_key *k)
{
    struct entry **ref = keyargs_write(c, k);
    return ref ? *ref : NULL;
}

static struct list *list_of(const struct entry *e)
{
    return entry_ptr(e);
}

/* Adds n writes to k's shard's dirty counter (Redis counts one per element). */
static void list_dirty(struct keyspace *ks, const struct ks_key *k, uint64_t n)
{
    ks_touch_write_n(ks, k, n);
}

/* Creates an empty list under k in db. Returns it, or NULL when out of memory. */
static struct list *list_key_create(struct keyspace *ks, int db, const struct ks_key *k)
{
    struct list *l = list_create();
    struct entry *e;

    if (!l)
        return NULL;
    e = entry_create(k->p, (uint32_t)k->len, OBJ_LIST, ENC_PTR, sizeof(void *), -1);
    if (!e) {
        list_destroy(l);
        return NULL;
    }
    entry_set_ptr(e, l);
    if (ks_insert(ks, db, k, e) != ST_OK) {
        entry_destroy(e);
        return NULL;
    }
    return l;
}

/* Deletes k from db (invariant 2: looks its ref up again). */
static void list_key_delete(struct keyspace *ks, int db, const struct ks_key *k, int64_t now_ms)
{
    struct entry **ref = ks_find_ref(ks, db, k, now_ms, KS_F_NOTOUCH);

    if (ref)
        ks_delete_ref(ks, db, k, ref);
}

/* After removing n elements from l under k (invariant 3). */
static void list_removed(struct keyspace *ks, int db, const struct ks_key *k, struct list *l, uint64_t n,
                         int64_t now_ms, int32_t fill)
{
    if (list_len(l) == 0)
        list_key_delete(ks, db, k, now_ms);
    else
        list_convert_shrink(l, fill);
    list_dirty(ks, k, n);
}

static void reply_val(struct client *c, const struct lp_val *v)
{
    if (v->s)
        reply_bulk(c, v->s, v->len);
    else
        reply_bulk_ll(c, v->i);
}

/* 1 when element v is the string s[0..len). */
static int val_eq(const struct lp_val *v, const char *s, size_t len)
{
    char buf[UTIL_LLSTR_SIZE];
    size_t n;

    if (v->s)
        return v->len == len && memcmp(v->s, s, len) == 0;
    n = (size_t)util_ll2str(buf, v->i);
    return n == len && memcmp(buf, s, len) == 0;
}

/* An element copied out of a list. */
struct lval {
    char *p; /* malloc'd (at least 1 byte) */
    size_t len;
    int is_int; /* was an integer element */
};

static int lval_set(struct lval *out, const struct lp_val *v)
{
    unsigned char buf[UTIL_LLSTR_SIZE];
    size_t len;
    const unsigned char *s = lp_val_str(v, buf, &len);

    out->p = malloc(len ? len : 1);
    if (!out->p)
        return ST_ENOMEM;
    memcpy(out->p, s, len);
    out->len = len;
    out->is_int = v->s == NULL;
    return ST_OK;
}

static void lvals_free(struct lval *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i].p);
    free(v);
}

/* Copies the n elements at the `where` end of l, outermost first, into a
 * new array. Returns it, or NULL when out of memory. */
static struct lval *lvals_copy_end(struct list *l, enum list_where where, uint64_t n)
{
    struct lval *out = calloc(n ? n : 1, sizeof(*out));
    struct list_iter it;
    struct lp_val v;
    uint64_t i = 0;

    if (!out)
        return NULL;
    list_iter_init(l, where == LIST_HEAD ? 0 : -1, where == LIST_HEAD ? LIST_TAIL : LIST_HEAD, &it);
    while (i < n && list_iter_next(&it, &v)) {
        if (lval_set(&out[i], &v) != ST_OK) {
            lvals_free(out, i);
            return NULL;
        }
        i++;
    }
    return out;
}

/* Pushes vals (popped from `where`, outermost first) back to the `where` end
 * of key (db), creating it when absent, and signals it. Takes the key's
 * shard lock itself. A key that became another type meanwhile cannot take
 * them: they are logged and dropped. */
static void list_push_back(struct server *srv, int db, const char *key, size_t klen, enum list_where where,
                           const struct lval *vals, size_t n)
{
    struct keyspace *ks = srv->ks;
    int32_t fill = list_fill(srv);
    struct ks_key k;
    struct entry *e;
    struct list *l;
    size_t bytes = 0;

    ks_key_init(ks, &k, key, klen);
    ks_lock(ks, k.shard);
    e = ks_find(ks, db, &k, util_time_ms());
    if (e && e->type != OBJ_LIST) {
        log_warn("list: %zu element(s) taken for a blocked client could not go back to a key that "
                 "changed type; dropped", n);
        goto unlock;
    }
    l = e ? list_of(e) : list_key_create(ks, db, &k);
    if (!l)
        goto oom;
    for (size_t i = 0; i < n; i++)
        bytes += vals[i].is_int ? 0 : vals[i].len;
    list_convert_grow(l, n, bytes, fill);
    for (size_t i = n; i > 0; i--)
        if (list_push(l, where, vals[i - 1].p, vals[i - 1].len, fill) != ST_OK)
            goto oom;
    list_dirty(ks, &k, n);
    if (srv->wlog) {
        /* the same pushes, in the order they were made */
        const char **a = malloc(n * sizeof(*a));
        size_t *al = malloc(n * sizeof(*al));
        for (size_t i = 0; a && al && i < n; i++) {
            a[i] = vals[n - 1 - i].p;
            al[i] = vals[n - 1 - i].len;
        }
        if (a && al)
            wlog_append_key(srv->wlog, db, where == LIST_HEAD ? "LPUSH" : "RPUSH", key, klen, (int)n, a, al);
        else
            log_warn("list: out of memory logging element(s) put back for a blocked client");
        free(a);
        free(al);
    }
    blk_signal(srv->blk, ks, db, &k);
unlock:
    ks_unlock(ks, k.shard);
    return;
oom:
    log_warn("list: out of memory putting back element(s) taken for a blocked client; dropped");
    if (l && list_len(l) == 0)
        list_key_delete(ks, db, &k, util_time_ms());
    else if (l)
        blk_signal(srv->blk, ks, db, &k);
    ks_unlock(ks, k.shard);
}

/* Parses argv[i] as an integer; replies the error and returns -1 if not. */
static int list_arg_ll(struct client *c, int i, long long *out)
{
    if (util_str2ll(c->argv[i].p, c->argv[i].len, out) != ST_OK) {
        reply_err_notint(c);
        return -1;
    }
    return 0;
}

/* LEFT / RIGHT (any case); replies a syntax error and returns -1 otherwise. */
static int list_arg_where(struct client *c, int i, enum list_where *out)
{
    if (util_eqi(c->argv[i].p, c->argv[i].len, "left"))
        *out = LIST_HEAD;
    else if (util_eqi(c->argv[i].p, c->argv[i].len, "right"))
        *out = LIST_TAIL;
    else {
        reply_err_syntax(c);
        return -1;
    }
    return 0;
}

/* Redis's getTimeoutFromObjectOrReply (seconds, as a float): sets *ms to the
 * relative timeout in ms, 0 = forever. Replies the error and returns -1 when
 * invalid. Redis converts seconds * 1000 to a long long and rejects a
 * negative result, so inf and values past 2^63 ms are "negative" (the x86
 * conversion gives LLONG_MIN), and -0.0001 truncates to 0 (forever). */
static int list_arg_timeout(struct client *c, int i, int64_t *ms)
{
    long double ld;
    long long t;

    if (util_str2ld(c->argv[i].p, c->argv[i].len, &ld) != ST_OK) {
        reply_error(c, RERR_TIMEOUT_FLOAT);
        return -1;
    }
    ld *= 1000.0L;
    if (!(ld < 9223372036854775808.0L) || !(ld > -9223372036854775808.0L))
        t = LLONG_MIN;
    else
        t = (long long)ld;
    if (t < 0) {
        reply_error(c, RERR_TIMEOUT_NEG);
        return -1;
    }
    if (t > 0 && t > LLONG_MAX - c->now_ms) {
        reply_error(c, RERR_TIMEOUT_RANGE);
        return -1;
    }
    *ms = t;
    return 0;
}

static int64_t list_timeout_us(int64_t ms)
{
    return ms > LIST_TIMEOUT_MAX_MS ? 0 : ms * 1000;
}

/* The distinct keys of keys[0..n) in first-occurrence order, as blk_keys
 * pointing into the arguments (blk_block copies them). Returns the count, or
 * -1 when out of memory; *out is stack or malloc'd (free when != stack). */
static int list_blk_keys(const struct ks_key *keys, int n, struct blk_key *stack, struct blk_key **out)
{
    struct blk_key *b = stack;
    int m = 0;

    if (n > KEYARGS_STACK) {
        b = malloc((size_t)n * sizeof(*b));
        if (!b)
            return -1;
    }
    for (int i = 0; i < n; i++) {
        int dup = 0;
        for (int j = 0; j < i && !dup; j++)
            dup = keys[j].hash == keys[i].hash && keys[j].len == keys[i].len &&
                  memcmp(keys[j].p, keys[i].p, keys[i].len) == 0;
        if (!dup) {
            b[m].p = (char *)keys[i].p;
            b[m].len = keys[i].len;
            m++;
        }
    }
    *out = b;
    return m;
}

/* ------------------------------------------------------------------------ */
/* LPUSH RPUSH LPUSHX RPUSHX LINSERT                                        */
/* ------------------------------------------------------------------------ */

/* Redis's pushGenericCommand; xx: only when the key exists. */
static void push_generic(struct client *c, enum list_where where, int xx)
{
    struct keyspace *ks = c->srv->ks;
    int32_t fill = list_fill(c->srv);
    uint64_t n = (uint64_t)c->argc - 2;
    size_t bytes = 0;
    struct ks_key k;
    struct entry *e;
    struct list *l;

    for (int j = 2; j < c->argc; j++)
        bytes += c->argv[j].len;
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    e = list_lookup_write(c, &k);
    if (e && e->type != OBJ_LIST) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    if (!e) {
        if (xx) {
            reply_int(c, 0);
            goto unlock;
        }
        l = list_key_create(ks, c->db, &k);
        if (!l) {
            reply_err_nomem(c);
            goto unlock;
        }
    } else {
        l = list_of(e);
    }
    list_convert_grow(l, n, bytes, fill);
    for (int j = 2; j < c->argc; j++) {
        if (list_push(l, where, c->argv[j].p, c->argv[j].len, fill) != ST_OK) {
            reply_err_nomem(c);
            if (list_len(l) == 0) {
                list_key_delete(ks, c->db, &k, c->now_ms);
                goto unlock;
            }
            goto signal;
        }
    }
    reply_int(c, (long long)list_len(l));
signal:
    list_dirty(ks, &k, n);
    blk_signal(c->srv->blk, ks, c->db, &k);
unlock:
    ks_unlock(ks, k.shard);
}

/* LPUSH key element [element ...] */
static void lpush_cmd(struct client *c)
{
    push_generic(c, LIST_HEAD, 0);
}

/* RPUSH key element [element ...] */
static void rpush_cmd(struct client *c)
{
    push_generic(c, LIST_TAIL, 0);
}

/* LPUSHX key element [element ...] */
static void lpushx_cmd(struct client *c)
{
    push_generic(c, LIST_HEAD, 1);
}

/* RPUSHX key element [element ...] */
static void rpushx_cmd(struct client *c)
{
    push_generic(c, LIST_TAIL, 1);
}

/* LINSERT key <BEFORE | AFTER> pivot element */
static void linsert_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    int32_t fill = list_fill(c->srv);
    const struct arg *pivot = &c->argv[3], *ele = &c->argv[4];
    struct ks_key k;
    struct entry *e;
    struct list *l;
    int after, rc;

    if (util_eqi(c->argv[2].p, c->argv[2].len, "after"))
        after = 1;
    else if (util_eqi(c->argv[2].p, c->argv[2].len, "before"))
        after = 0;
    else {
        reply_err_syntax(c);
        return;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    e = list_lookup_write(c, &k);
    if (!e) {
        reply_int(c, 0);
    } else if (e->type != OBJ_LIST) {
        reply_err_wrongtype(c);
    } else {
        l = list_of(e);
        /* as Redis: converted for the new element even if pivot is absent */
        list_convert_grow(l, 1, ele->len, fill);
        rc = list_insert(l, pivot->p, pivot->len, after, ele->p, ele->len, fill);
        if (rc < 0) {
            reply_err_nomem(c);
        } else if (rc == 0) {
            reply_int(c, -1);
        } else {
            reply_int(c, (long long)list_len(l));
            list_dirty(ks, &k, 1);
            blk_signal(c->srv->blk, ks, c->db, &k);
        }
    }
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* LPOP RPOP LLEN LINDEX LSET LRANGE LTRIM LREM LPOS                        */
/* ------------------------------------------------------------------------ */

/* Replies the n elements at the `where` end of l, outermost first, as an
 * array (Redis's addListRangeReply with reverse for the tail). */
static void reply_end_range(struct client *c, struct list *l, enum list_where where, uint64_t n)
{
    struct list_iter it;
    struct lp_val v;

    reply_array(c, (long)n);
    list_iter_init(l, where == LIST_HEAD ? 0 : -1, where == LIST_HEAD ? LIST_TAIL : LIST_HEAD, &it);
    for (uint64_t i = 0; i < n && list_iter_next(&it, &v); i++)
        reply_val(c, &v);
}

/* Redis's popGenericCommand: LPOP / RPOP key [count]. */
static void pop_generic(struct client *c, enum list_where where)
{
    struct keyspace *ks = c->srv->ks;
    int hascount = c->argc == 3;
    long long count = 0;
    struct ks_key k;
    struct entry *e;
    struct list *l;
    struct lp_val v;

    if (c->argc > 3) {
        reply_err_args(c);
        return;
    }
    if (hascount && (util_str2ll(c->argv[2].p, c->argv[2].len, &count) != ST_OK || count < 0)) {
        reply_error(c, RERR_POSITIVE);
        return;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    e = list_lookup_write(c, &k);
    if (!e) {
        if (hascount)
            reply_null_array(c);
        else
            reply_null(c);
        goto unlock;
    }
    if (e->type != OBJ_LIST) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    l = list_of(e);
    if (hascount && count == 0) {
        reply_array(c, 0);
        goto unlock;
    }
    if (!hascount) {
        list_peek(l, where, &v);
        reply_val(c, &v);
        list_pop(l, where, 1);
        list_removed(ks, c->db, &k, l, 1, c->now_ms, list_fill(c->srv));
    } else {
        uint64_t n = (uint64_t)count < list_len(l) ? (uint64_t)count : list_len(l);

        reply_end_range(c, l, where, n);
        list_pop(l, where, n);
        list_removed(ks, c->db, &k, l, n, c->now_ms, list_fill(c->srv));
    }
unlock:
    ks_unlock(ks, k.shard);
}

/* LPOP key [count] */
static void lpop_cmd(struct client *c)
{
    pop_generic(c, LIST_HEAD);
}

/* RPOP key [count] */
static void rpop_cmd(struct client *c)
{
    pop_generic(c, LIST_TAIL);
}

/* LLEN key */
static void llen_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry *e;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    e = list_lookup_read(c, &k);
    if (!e)
        reply_int(c, 0);
    else if (e->type != OBJ_LIST)
        reply_err_wrongtype(c);
    else
        reply_int(c, (long long)list_len(list_of(e)));
    ks_unlock(ks, k.shard);
}

/* LINDEX key index: as Redis, the key is looked up before the index is
 * parsed (a missing key answers nil whatever the index). */
static void lindex_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry *e;
    long long index;
    struct lp_val v;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    e = list_lookup_read(c, &k);
    if (!e)
        reply_null(c);
    else if (e->type != OBJ_LIST)
        reply_err_wrongtype(c);
    else if (list_arg_ll(c, 2, &index) != 0)
        ;
    else if (list_index(list_of(e), index, &v) != ST_OK)
        reply_null(c);
    else
        reply_val(c, &v);
    ks_unlock(ks, k.shard);
}

/* LSET key index element: key first ("no such key"), then the index. */
static void lset_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    int32_t fill = list_fill(c->srv);
    const struct arg *ele = &c->argv[3];
    struct ks_key k;
    struct entry *e;
    struct list *l;
    long long index;
    int rc;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    e = list_lookup_write(c, &k);
    if (!e) {
        reply_error(c, RERR_NOSUCHKEY);
        goto unlock;
    }
    if (e->type != OBJ_LIST) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    if (list_arg_ll(c, 2, &index) != 0)
        goto unlock;
    l = list_of(e);
    list_convert_grow(l, 1, ele->len, fill);
    rc = list_set(l, index, ele->p, ele->len);
    if (rc == ST_ENOENT) {
        reply_error(c, RERR_INDEX);
    } else if (rc != ST_OK) {
        reply_err_nomem(c);
    } else {
        reply_ok(c);
        list_dirty(ks, &k, 1);
        list_convert_shrink(l, fill);
    }
unlock:
    ks_unlock(ks, k.shard);
}

/* LRANGE key start stop */
static void lrange_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    long long start, end;
    struct ks_key k;
    struct entry *e;

    if (list_arg_ll(c, 2, &start) != 0 || list_arg_ll(c, 3, &end) != 0)
        return;
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    e = list_lookup_read(c, &k);
    if (!e) {
        reply_array(c, 0);
    } else if (e->type != OBJ_LIST) {
        reply_err_wrongtype(c);
    } else {
        struct list *l = list_of(e);
        struct list_iter it;
        struct lp_val v;
        uint64_t from, n = list_range(list_len(l), start, end, &from);

        reply_array(c, (long)n);
        list_iter_init(l, (long long)from, LIST_TAIL, &it);
        for (uint64_t i = 0; i < n && list_iter_next(&it, &v); i++)
            reply_val(c, &v);
    }
    ks_unlock(ks, k.shard);
}

/* LTRIM key start stop */
static void ltrim_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    long long start, end;
    struct ks_key k;
    struct entry *e;

    if (list_arg_ll(c, 2, &start) != 0 || list_arg_ll(c, 3, &end) != 0)
        return;
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    e = list_lookup_write(c, &k);
    if (!e) {
        reply_ok(c);
    } else if (e->type != OBJ_LIST) {
        reply_err_wrongtype(c);
    } else {
        struct list *l = list_of(e);
        uint64_t len = list_len(l), from, n = list_range(len, start, end, &from);
        uint64_t lcut = n ? from : len, rcut = n ? len - from - n : 0;

        list_trim(l, lcut, rcut);
        list_removed(ks, c->db, &k, l, lcut + rcut, c->now_ms, list_fill(c->srv));
        reply_ok(c);
    }
    ks_unlock(ks, k.shard);
}

/* LREM key count element */
static void lrem_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    long long count;
    struct ks_key k;
    struct entry *e;

    if (list_arg_ll(c, 2, &count) != 0)
        return;
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    e = list_lookup_write(c, &k);
    if (!e) {
        reply_int(c, 0);
    } else if (e->type != OBJ_LIST) {
        reply_err_wrongtype(c);
    } else {
        struct list *l = list_of(e);
        uint64_t removed = list_rem(l, count, c->argv[3].p, c->argv[3].len);

        if (removed)
            list_removed(ks, c->db, &k, l, removed, c->now_ms, list_fill(c->srv));
        reply_int(c, (long long)removed);
    }
    ks_unlock(ks, k.shard);
}

/* Parses an LPOS option value that must be >= 0; any failure replies msg. */
static int lpos_arg_nonneg(struct client *c, int i, const char *msg, long long *out)
{
    if (util_str2ll(c->argv[i].p, c->argv[i].len, out) != ST_OK || *out < 0) {
        reply_error(c, msg);
        return -1;
    }
    return 0;
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]. RANK
 * LLONG_MIN is refused as Redis 7.2 does (7.0 negates it into undefined
 * behaviour). */
static void lpos_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    const struct arg *ele = &c->argv[2];
    long long rank = 1, count = -1, maxlen = 0;
    enum list_where dir = LIST_TAIL;
    struct ks_key k;
    struct entry *e;

    for (int j = 3; j < c->argc; j++) {
        const struct arg *opt = &c->argv[j];
        int more = j + 1 < c->argc;

        if (more && util_eqi(opt->p, opt->len, "rank")) {
            if (list_arg_ll(c, ++j, &rank) != 0)
                return;
            if (rank == LLONG_MIN) {
                reply_error(c, RERR_RANK_RANGE);
                return;
            }
            if (rank == 0) {
                reply_error(c, RERR_RANK_ZERO);
                return;
            }
        } else if (more && util_eqi(opt->p, opt->len, "count")) {
            if (lpos_arg_nonneg(c, ++j, RERR_COUNT_NEG, &count) != 0)
                return;
        } else if (more && util_eqi(opt->p, opt->len, "maxlen")) {
            if (lpos_arg_nonneg(c, ++j, RERR_MAXLEN_NEG, &maxlen) != 0)
                return;
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    if (rank < 0) {
        rank = -rank;
        dir = LIST_HEAD;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    e = list_lookup_read(c, &k);
    if (!e) {
        if (count != -1)
            reply_array(c, 0);
        else
            reply_null(c);
    } else if (e->type != OBJ_LIST) {
        reply_err_wrongtype(c);
    } else {
        struct list *l = list_of(e);
        long long llen = (long long)list_len(l), index = 0, matches = 0, matchindex = -1, arraylen = 0;
        size_t mark = 0;
        struct list_iter it;
        struct lp_val v;

        if (count != -1)
            mark = reply_defer(c);
        list_iter_init(l, dir == LIST_HEAD ? -1 : 0, dir, &it);
        while ((maxlen == 0 || index < maxlen) && list_iter_next(&it, &v)) {
            if (val_eq(&v, ele->p, ele->len)) {
                matches++;
                matchindex = dir == LIST_TAIL ? index : llen - index - 1;
                if (matches >= rank) {
                    if (count == -1)
                        break;
                    arraylen++;
                    reply_int(c, matchindex);
                    if (count && matches - rank + 1 >= count)
                        break;
                }
            }
            index++;
            matchindex = -1;
        }
        if (count != -1)
            reply_defer_set(c, mark, '*', (long)arraylen);
        else if (matchindex != -1)
            reply_int(c, matchindex);
        else
            reply_null(c);
    }
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* LMOVE RPOPLPUSH                                                          */
/* ------------------------------------------------------------------------ */

/* Moves one element from the `from` end of src's list sl (non-empty) to the
 * `to` end of dst's list (de: its entry, or NULL to create it) and replies
 * it. Caller holds both shard locks and has checked both types. */
static void lmove_do(struct client *c, const struct ks_key *src, struct list *sl, const struct ks_key *dst,
                     struct entry *de, enum list_where from, enum list_where to)
{
    struct keyspace *ks = c->srv->ks;
    int32_t fill = list_fill(c->srv);
    int src_quick = sl->quick;
    struct list *dl;
    struct lp_val v;
    struct lval val;

    list_peek(sl, from, &v);
    if (lval_set(&val, &v) != ST_OK) {
        reply_err_nomem(c);
        return;
    }
    dl = de ? list_of(de) : list_key_create(ks, c->db, dst);
    if (!dl) {
        reply_err_nomem(c);
        goto out;
    }
    list_pop(sl, from, 1);
    /* Redis counts the bytes of string-encoded values only; an integer
     * popped from a quicklist comes back int-encoded */
    list_convert_grow(dl, 1, (val.is_int && src_quick) ? 0 : val.len, fill);
    if (list_push(dl, to, val.p, val.len, fill) != ST_OK) {
        list_push(sl, from, val.p, val.len, fill); /* put it back: never lost */
        reply_err_nomem(c);
        if (list_len(dl) == 0)
            list_key_delete(ks, c->db, dst, c->now_ms);
        goto out;
    }
    reply_bulk(c, val.p, val.len);
    list_dirty(ks, dst, 1);
    list_removed(ks, c->db, src, sl, 1, c->now_ms, fill);
    blk_signal(c->srv->blk, ks, c->db, dst);
out:
    free(val.p);
}

/* Redis's lmoveGenericCommand: source checked first, then destination. */
static void lmove_generic(struct client *c, enum list_where from, enum list_where to)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k[2];
    struct entry *se, *de;

    keyargs_one(c, 1, &k[0]);
    keyargs_one(c, 2, &k[1]);
    ks_lock_keys(ks, k, 2);
    se = list_lookup_write(c, &k[0]);
    if (!se) {
        reply_null(c);
    } else if (se->type != OBJ_LIST) {
        reply_err_wrongtype(c);
    } else {
        de = list_lookup_write(c, &k[1]);
        if (de && de->type != OBJ_LIST)
            reply_err_wrongtype(c);
        else
            lmove_do(c, &k[0], list_of(se), &k[1], de, from, to);
    }
    ks_unlock_keys(ks, k, 2);
}

/* LMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> */
static void lmove_cmd(struct client *c)
{
    enum list_where from, to;

    if (list_arg_where(c, 3, &from) != 0 || list_arg_where(c, 4, &to) != 0)
        return;
    lmove_generic(c, from, to);
}

/* RPOPLPUSH source destination */
static void rpoplpush_cmd(struct client *c)
{
    lmove_generic(c, LIST_TAIL, LIST_HEAD);
}

/* ------------------------------------------------------------------------ */
/* LMPOP and the blocking pops                                              */
/* ------------------------------------------------------------------------ */

/* Pops from the first of keys[0..n) holding elements: count == -1 replies
 * [key, element] (BLPOP/BRPOP), else [key, [up to count elements]]. Caller
 * holds the keys' shards. Returns 1 when it replied (served, or WRONGTYPE
 * for a key of another type met first), 0 when every key is missing. */
static int mpop_try(struct client *c, const struct ks_key *keys, int n, enum list_where where, long long count)
{
    struct keyspace *ks = c->srv->ks;

    for (int j = 0; j < n; j++) {
        struct entry *e = list_lookup_write(c, &keys[j]);
        struct list *l;
        uint64_t cnt;

        if (!e)
            continue;
        if (e->type != OBJ_LIST) {
            reply_err_wrongtype(c);
            return 1;
        }
        l = list_of(e);
        if (list_len(l) == 0)
            continue;
        reply_array(c, 2);
        reply_bulk(c, keys[j].p, keys[j].len);
        if (count < 0) {
            struct lp_val v;

            cnt = 1;
            list_peek(l, where, &v);
            reply_val(c, &v);
        } else {
            cnt = (uint64_t)count < list_len(l) ? (uint64_t)count : list_len(l);
            reply_end_range(c, l, where, cnt);
        }
        list_pop(l, where, cnt);
        list_removed(ks, c->db, &keys[j], l, cnt, c->now_ms, list_fill(c->srv));
        return 1;
    }
    return 0;
}

/* What a blocked BLPOP / BRPOP / BLMPOP keeps: its arguments, then what a
 * serve popped for it. */
struct bpop_state {
    struct server *srv;
    enum list_where where;
    long long count;     /* -1: BLPOP/BRPOP reply form */
    struct lval *vals;   /* set by serve, outermost first */
    size_t nvals;
};

static void bpop_free(void *state)
{
    struct bpop_state *st = state;

    lvals_free(st->vals, st->nvals);
    free(st);
}

/* blk_serve_fn: pops for the waiter from key k (invariant 4). */
static int bpop_serve(struct blk_waiter *w, struct keyspace *ks, int db, const struct ks_key *k)
{
    struct bpop_state *st = w->state;
    int64_t now = util_time_ms();
    struct entry *e = ks_find(ks, db, k, now);
    struct list *l;
    uint64_t n;

    if (!e || e->type != OBJ_LIST || list_len(list_of(e)) == 0)
        return 0;
    l = list_of(e);
    n = st->count < 0 ? 1 : ((uint64_t)st->count < list_len(l) ? (uint64_t)st->count : list_len(l));
    st->vals = lvals_copy_end(l, st->where, n);
    if (!st->vals)
        return 0;
    st->nvals = (size_t)n;
    list_pop(l, st->where, n);
    list_removed(ks, db, k, l, n, now, list_fill(st->srv));
    if (st->srv->wlog) {
        char cnt[UTIL_LLSTR_SIZE];
        const char *a[1] = { cnt };
        size_t al[1] = { (size_t)util_ll2str(cnt, (long long)n) };
        w->log_need = wlog_append_key(st->srv->wlog, db, st->where == LIST_HEAD ? "LPOP" : "RPOP", k->p, k->len,
                                      st->count < 0 ? 0 : 1, a, al);
    }
    return 1;
}

/* blk_reply_fn for BLPOP / BRPOP / BLMPOP. */
static void bpop_reply(struct client *c, struct blk_waiter *w, enum blk_reply_how how)
{
    struct bpop_state *st = w->state;

    if (how != BLK_REPLY_SERVED) {
        reply_null_array(c);
        return;
    }
    reply_array(c, 2);
    reply_bulk(c, w->served_key->p, w->served_key->len);
    if (st->count < 0) {
        reply_bulk(c, st->vals[0].p, st->vals[0].len);
        return;
    }
    reply_array(c, (long)st->nvals);
    for (size_t i = 0; i < st->nvals; i++)
        reply_bulk(c, st->vals[i].p, st->vals[i].len);
}

/* blk_undo_fn: the client left after being served; the elements go back. */
static void bpop_undo(struct blk_waiter *w, struct keyspace *ks)
{
    struct bpop_state *st = w->state;

    (void)ks;
    list_push_back(st->srv, w->db, w->served_key->p, w->served_key->len, st->where, st->vals, st->nvals);
}

/* Serves at once or blocks (Redis's blockingPopGenericCommand) on the keys
 * argv[first .. first + n). */
static void bpop_generic(struct client *c, int first, int n, enum list_where where, long long count,
                         int64_t timeout_ms)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[KEYARGS_STACK] = { 0 }, *keys; /* zeroed: silences a gcc 12 false positive */
    struct blk_key bstack[KEYARGS_STACK], *bkeys = NULL;
    struct bpop_state *st;
    int nb;

    keys = keyargs_many(c, stack, (size_t)n, first, 1);
    if (!keys)
        return;
    ks_lock_keys(ks, keys, (size_t)n);
    if (mpop_try(c, keys, n, where, count))
        goto unlock;
    st = calloc(1, sizeof(*st));
    nb = list_blk_keys(keys, n, bstack, &bkeys);
    if (!st || nb < 0) {
        free(st);
        reply_err_nomem(c);
        goto unlock;
    }
    st->srv = c->srv;
    st->where = where;
    st->count = count;
    if (blk_block(c->srv->blk, c, c->db, bkeys, nb, list_timeout_us(timeout_ms), bpop_serve, bpop_reply,
                  bpop_undo, bpop_free, st) != ST_OK)
        reply_err_nomem(c);
unlock:
    ks_unlock_keys(ks, keys, (size_t)n);
    if (bkeys && bkeys != bstack)
        free(bkeys);
    keyargs_free(keys, stack);
}

/* BLPOP key [key ...] timeout */
static void blpop_cmd(struct client *c)
{
    int64_t ms;

    if (list_arg_timeout(c, c->argc - 1, &ms) != 0)
        return;
    bpop_generic(c, 1, c->argc - 2, LIST_HEAD, -1, ms);
}

/* BRPOP key [key ...] timeout */
static void brpop_cmd(struct client *c)
{
    int64_t ms;

    if (list_arg_timeout(c, c->argc - 1, &ms) != 0)
        return;
    bpop_generic(c, 1, c->argc - 2, LIST_TAIL, -1, ms);
}

/* Parses "numkeys key [key ...] <LEFT | RIGHT> [COUNT count]" from
 * argv[numkeys_idx] (Redis's lmpopGenericCommand). Returns 0 with the keys'
 * first index and count, or -1 after replying the error. */
static int lmpop_parse(struct client *c, int numkeys_idx, int *first, int *nkeys, enum list_where *where,
                       long long *count)
{
    long long numkeys;
    int where_idx;

    if (util_str2ll(c->argv[numkeys_idx].p, c->argv[numkeys_idx].len, &numkeys) != ST_OK || numkeys < 1) {
        reply_error(c, RERR_NUMKEYS);
        return -1;
    }
    if (numkeys >= c->argc - numkeys_idx - 1) {
        reply_err_syntax(c);
        return -1;
    }
    where_idx = numkeys_idx + (int)numkeys + 1;
    if (list_arg_where(c, where_idx, where) != 0)
        return -1;
    *count = -1;
    for (int j = where_idx + 1; j < c->argc; j++) {
        if (*count == -1 && j + 1 < c->argc && util_eqi(c->argv[j].p, c->argv[j].len, "count")) {
            j++;
            if (util_str2ll(c->argv[j].p, c->argv[j].len, count) != ST_OK || *count < 1) {
                reply_error(c, RERR_COUNT_GT0);
                return -1;
            }
        } else {
            reply_err_syntax(c);
            return -1;
        }
    }
    if (*count == -1)
        *count = 1;
    *first = numkeys_idx + 1;
    *nkeys = (int)numkeys;
    return 0;
}

/* LMPOP numkeys key [key ...] <LEFT | RIGHT> [COUNT count] */
static void lmpop_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[KEYARGS_STACK] = { 0 }, *keys; /* zeroed: silences a gcc 12 false positive */
    enum list_where where;
    long long count;
    int first, n;

    if (lmpop_parse(c, 1, &first, &n, &where, &count) != 0)
        return;
    keys = keyargs_many(c, stack, (size_t)n, first, 1);
    if (!keys)
        return;
    ks_lock_keys(ks, keys, (size_t)n);
    if (!mpop_try(c, keys, n, where, count))
        reply_null_array(c);
    ks_unlock_keys(ks, keys, (size_t)n);
    keyargs_free(keys, stack);
}

/* BLMPOP timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]: the
 * timeout is checked after the rest, as in Redis. */
static void blmpop_cmd(struct client *c)
{
    enum list_where where;
    long long count;
    int first, n;
    int64_t ms;

    if (lmpop_parse(c, 2, &first, &n, &where, &count) != 0)
        return;
    if (list_arg_timeout(c, 1, &ms) != 0)
        return;
    bpop_generic(c, first, n, where, count, ms);
}

/* ------------------------------------------------------------------------ */
/* BLMOVE BRPOPLPUSH                                                        */
/* ------------------------------------------------------------------------ */

struct bmove_state {
    struct server *srv;
    enum list_where from, to;
    char *dst;          /* owned copy of the destination key */
    size_t dlen;
    struct lval val;    /* set by serve */
    int src_quick;      /* the source was a quicklist when served */
};

static void bmove_free(void *state)
{
    struct bmove_state *st = state;

    free(st->dst);
    free(st->val.p);
    free(st);
}

/* blk_serve_fn: pops one element from the source (invariant 4). */
static int bmove_serve(struct blk_waiter *w, struct keyspace *ks, int db, const struct ks_key *k)
{
    struct bmove_state *st = w->state;
    int64_t now = util_time_ms();
    struct entry *e = ks_find(ks, db, k, now);
    struct list *l;
    struct lp_val v;

    if (!e || e->type != OBJ_LIST || list_len(list_of(e)) == 0)
        return 0;
    l = list_of(e);
    list_peek(l, st->from, &v);
    if (lval_set(&st->val, &v) != ST_OK)
        return 0;
    st->src_quick = l->quick;
    list_pop(l, st->from, 1);
    list_removed(ks, db, k, l, 1, now, list_fill(st->srv));
    w->log_need = wlog_append_key(st->srv->wlog, db, st->from == LIST_HEAD ? "LPOP" : "RPOP", k->p, k->len, 0,
                                  NULL, NULL);
    return 1;
}

/* Completes a served BLMOVE: pushes the element to the destination (or,
 * when the destination holds another type or memory runs out, back to the
 * source). Replies to c unless c is NULL (undo). */
static void bmove_finish(struct bmove_state *st, struct blk_waiter *w, struct client *c)
{
    struct server *srv = st->srv;
    struct keyspace *ks = srv->ks;
    int32_t fill = list_fill(srv);
    struct ks_key kd;
    struct entry *e;
    struct list *l;
    int wrongtype = 0;

    ks_key_init(ks, &kd, st->dst, st->dlen);
    ks_lock(ks, kd.shard);
    e = ks_find(ks, w->db, &kd, util_time_ms());
    if (e && e->type != OBJ_LIST) {
        wrongtype = 1;
        goto back;
    }
    l = e ? list_of(e) : list_key_create(ks, w->db, &kd);
    if (!l)
        goto back;
    list_convert_grow(l, 1, (st->val.is_int && st->src_quick) ? 0 : st->val.len, fill);
    if (list_push(l, st->to, st->val.p, st->val.len, fill) != ST_OK) {
        if (list_len(l) == 0)
            list_key_delete(ks, w->db, &kd, util_time_ms());
        goto back;
    }
    list_dirty(ks, &kd, 1);
    {
        const char *a[1] = { st->val.p };
        uint64_t at = wlog_append_key(srv->wlog, w->db, st->to == LIST_HEAD ? "LPUSH" : "RPUSH", st->dst,
                                      st->dlen, 1, a, &st->val.len);
        if (c && at > c->w->log_need) /* the reply below waits for the push's record too */
            c->w->log_need = at;
    }
    blk_signal(srv->blk, ks, w->db, &kd);
    ks_unlock(ks, kd.shard);
    if (c)
        reply_bulk(c, st->val.p, st->val.len);
    return;
back:
    ks_unlock(ks, kd.shard);
    list_push_back(srv, w->db, w->served_key->p, w->served_key->len, st->from, &st->val, 1);
    if (c && wrongtype)
        reply_err_wrongtype(c);
    else if (c)
        reply_err_nomem(c);
}

/* blk_reply_fn for BLMOVE / BRPOPLPUSH. A timeout answers a null array (*-1
 * in RESP2), as Redis does for every list-blocked client
 * (replyToBlockedClientTimedOut), although LMOVE's own nil is a null bulk. */
static void bmove_reply(struct client *c, struct blk_waiter *w, enum blk_reply_how how)
{
    if (how != BLK_REPLY_SERVED) {
        reply_null_array(c);
        return;
    }
    bmove_finish(w->state, w, c);
}

/* blk_undo_fn: the client left after the serve; the move completes. */
static void bmove_undo(struct blk_waiter *w, struct keyspace *ks)
{
    (void)ks;
    bmove_finish(w->state, w, NULL);
}

/* Redis's blmoveGenericCommand: a missing source blocks whatever the
 * destination holds; an existing one is a plain LMOVE. */
static void blmove_generic(struct client *c, enum list_where from, enum list_where to, int64_t timeout_ms)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k[2];
    struct entry *se, *de;
    struct bmove_state *st;
    struct blk_key bk;

    keyargs_one(c, 1, &k[0]);
    keyargs_one(c, 2, &k[1]);
    ks_lock_keys(ks, k, 2);
    se = list_lookup_write(c, &k[0]);
    if (se && se->type != OBJ_LIST) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    if (se && list_len(list_of(se)) > 0) {
        de = list_lookup_write(c, &k[1]);
        if (de && de->type != OBJ_LIST)
            reply_err_wrongtype(c);
        else
            lmove_do(c, &k[0], list_of(se), &k[1], de, from, to);
        goto unlock;
    }
    st = calloc(1, sizeof(*st));
    if (st)
        st->dst = malloc(k[1].len ? k[1].len : 1);
    if (!st || !st->dst) {
        free(st);
        reply_err_nomem(c);
        goto unlock;
    }
    memcpy(st->dst, k[1].p, k[1].len);
    st->dlen = k[1].len;
    st->srv = c->srv;
    st->from = from;
    st->to = to;
    bk.p = (char *)k[0].p;
    bk.len = k[0].len;
    if (blk_block(c->srv->blk, c, c->db, &bk, 1, list_timeout_us(timeout_ms), bmove_serve, bmove_reply,
                  bmove_undo, bmove_free, st) != ST_OK)
        reply_err_nomem(c);
unlock:
    ks_unlock_keys(ks, k, 2);
}

/* BLMOVE source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout */
static void blmove_cmd(struct client *c)
{
    enum list_where from, to;
    int64_t ms;

    if (list_arg_where(c, 3, &from) != 0 || list_arg_where(c, 4, &to) != 0)
        return;
    if (list_arg_timeout(c, 5, &ms) != 0)
        return;
    blmove_generic(c, from, to, ms);
}

/* BRPOPLPUSH source destination timeout */
static void brpoplpush_cmd(struct client *c)
{
    int64_t ms;

    if (list_arg_timeout(c, 3, &ms) != 0)
        return;
    blmove_generic(c, LIST_TAIL, LIST_HEAD, ms);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

#define W_OOM_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define W_OOM (CMD_WRITE | CMD_DENYOOM)
#define W_FAST (CMD_WRITE | CMD_FAST)
#define R_FAST (CMD_READONLY | CMD_FAST)
#define W_BLOCK (CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING)

#define PUSH_COMPLEXITY                                                                              \
    "O(1) for each element added, so O(N) to add N elements when the command is called with "       \
    "multiple arguments."
#define MPOP_COMPLEXITY                                                                              \
    "O(N+M) where N is the number of provided keys and M is the number of elements returned."
#define BLMOVE_SUMMARY                                                                               \
    "Pop an element from a list, push it to another list and return it; or block until one is "     \
    "available"

const struct cmd_def cmds_list[] = {
    { "lpush", lpush_cmd, -3, W_OOM_FAST, 1, 1, 1, "list",
      "Prepend one or multiple elements to a list", "1.0.0", PUSH_COMPLEXITY, "key element [element ...]",
      NULL },
    { "rpush", rpush_cmd, -3, W_OOM_FAST, 1, 1, 1, "list",
      "Append one or multiple elements to a list", "1.0.0", PUSH_COMPLEXITY, "key element [element ...]",
      NULL },
    { "lpushx", lpushx_cmd, -3, W_OOM_FAST, 1, 1, 1, "list",
      "Prepend an element to a list, only if the list exists", "2.2.0", PUSH_COMPLEXITY,
      "key element [element ...]", NULL },
    { "rpushx", rpushx_cmd, -3, W_OOM_FAST, 1, 1, 1, "list",
      "Append an element to a list, only if the list exists", "2.2.0", PUSH_COMPLEXITY,
      "key element [element ...]", NULL },
    { "lpop", lpop_cmd, -2, W_FAST, 1, 1, 1, "list",
      "Remove and get the first elements in a list", "1.0.0",
      "O(N) where N is the number of elements returned", "key [count]", NULL },
    { "rpop", rpop_cmd, -2, W_FAST, 1, 1, 1, "list",
      "Remove and get the last elements in a list", "1.0.0",
      "O(N) where N is the number of elements returned", "key [count]", NULL },
    { "llen", llen_cmd, 2, R_FAST, 1, 1, 1, "list",
      "Get the length of a list", "1.0.0", "O(1)", "key", NULL },
    { "lrange", lrange_cmd, 4, CMD_READONLY, 1, 1, 1, "list",
      "Get a range of elements from a list", "1.0.0",
      "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end "
      "(HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
      "key start stop", NULL },
    { "lindex", lindex_cmd, 3, CMD_READONLY, 1, 1, 1, "list",
      "Get an element from a list by its index", "1.0.0",
      "O(N) where N is the number of elements to traverse to get to the element at index. This makes "
      "asking for the first or the last element of the list O(1).",
      "key index", NULL },
    { "lset", lset_cmd, 4, W_OOM, 1, 1, 1, "list",
      "Set the value of an element in a list by its index", "1.0.0",
      "O(N) where N is the length of the list. Setting either the first or the last element of the "
      "list is O(1).",
      "key index element", NULL },
    { "linsert", linsert_cmd, 5, W_OOM, 1, 1, 1, "list",
      "Insert an element before or after another element in a list", "2.2.0",
      "O(N) where N is the number of elements to traverse before seeing the value pivot. This means "
      "that inserting somewhere on the left end on the list (head) can be considered O(1) and "
      "inserting somewhere on the right end (tail) is O(N).",
      "key <BEFORE | AFTER> pivot element", NULL },
    { "lrem", lrem_cmd, 4, CMD_WRITE, 1, 1, 1, "list",
      "Remove elements from a list", "1.0.0",
      "O(N+M) where N is the length of the list and M is the number of elements removed.",
      "key count element", NULL },
    { "ltrim", ltrim_cmd, 4, CMD_WRITE, 1, 1, 1, "list",
      "Trim a list to the specified range", "1.0.0",
      "O(N) where N is the number of elements to be removed by the operation.", "key start stop", NULL },
    { "lpos", lpos_cmd, -3, CMD_READONLY, 1, 1, 1, "list",
      "Return the index of matching elements on a list", "6.0.6",
      "O(N) where N is the number of elements in the list, for the average case. When searching for "
      "elements near the head or the tail of the list, or when the MAXLEN option is provided, the "
      "command may run in constant time.",
      "key element [RANK rank] [COUNT num-matches] [MAXLEN len]", NULL },
    { "lmove", lmove_cmd, 5, W_OOM, 1, 2, 1, "list",
      "Pop an element from a list, push it to another list and return it", "6.2.0", "O(1)",
      "source destination <LEFT | RIGHT> <LEFT | RIGHT>", NULL },
    { "rpoplpush", rpoplpush_cmd, 3, W_OOM, 1, 2, 1, "list",
      "Remove the last element in a list, prepend it to another list and return it", "1.2.0", "O(1)",
      "source destination", NULL },
    { "lmpop", lmpop_cmd, -4, CMD_WRITE | CMD_MOVABLE, 0, 0, 0, "list",
      "Pop elements from a list", "7.0.0", MPOP_COMPLEXITY,
      "numkeys key [key ...] <LEFT | RIGHT> [COUNT count]", NULL },
    { "blpop", blpop_cmd, -3, W_BLOCK, 1, -2, 1, "list",
      "Remove and get the first element in a list, or block until one is available", "2.0.0",
      "O(N) where N is the number of provided keys.", "key [key ...] timeout", NULL },
    { "brpop", brpop_cmd, -3, W_BLOCK, 1, -2, 1, "list",
      "Remove and get the last element in a list, or block until one is available", "2.0.0",
      "O(N) where N is the number of provided keys.", "key [key ...] timeout", NULL },
    { "blmove", blmove_cmd, 6, W_BLOCK | CMD_DENYOOM, 1, 2, 1, "list", BLMOVE_SUMMARY, "6.2.0", "O(1)",
      "source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout", NULL },
    { "brpoplpush", brpoplpush_cmd, 4, W_BLOCK | CMD_DENYOOM, 1, 2, 1, "list", BLMOVE_SUMMARY, "2.2.0",
      "O(1)", "source destination timeout", NULL },
    { "blmpop", blmpop_cmd, -5, CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE, 0, 0, 0, "list",
      "Pop elements from a list, or block until one is available", "7.0.0", MPOP_COMPLEXITY,
      "timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]", NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};
