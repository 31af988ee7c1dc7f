/*
 * cmd_set.c -- the set command family: SADD SREM SMEMBERS SISMEMBER
 * SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SUNION SDIFF
 * SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN, and their table cmds_set[].
 *
 * What it owns: argument parsing, shard locking, keyspace calls and replies
 * for these commands. What it does not: the set itself -- encodings,
 * conversions, random choice, algebra (engine/t_set.c, unit-tested there)
 * -- nor entries (engine/entry.c) and the keyspace (engine/keyspace.c).
 *
 * A set key is an OBJ_SET entry whose ENC_PTR value is the set handle
 * (struct set *, engine/t_set.h). Engine calls that may move the set take
 * the handle by address; the command writes it back into the entry
 * (entry_set_ptr) before anything else can look at the entry.
 *
 * Invariants:
 *  1. Every handler validates what it can before it locks, then checks in
 *     Redis's order (t_set.c), so the first failing rule gives Redis's reply.
 *  2. A handler holds its keys' shard locks from its first lookup to its
 *     last write and writes its reply before unlocking: no member pointer
 *     outlives the lock. Multi-key commands (SMOVE, SINTER..., SDIFFSTORE)
 *     lock all their shards at once (ks_lock_keys), so they are atomic.
 *  3. A set emptied by a command is deleted with its key; a *STORE whose
 *     result is empty deletes the destination. *STORE replaces a
 *     destination of any type and drops its TTL (Redis's setKey).
 *  4. Read lookups count keyspace_hits / keyspace_misses as Redis's
 *     lookupKeyRead does (also for the sources of *STORE); write lookups
 *     (SADD SREM SPOP SMOVE, the *STORE destination) do not.
 *  5. A reply whose length is not bounded by the data (SRANDMEMBER with a
 *     negative count) stops growing at the client's hard output limit and
 *     the client is closed, instead of looping for up to 2^63 members.
 *  6. Out of memory leaves the keyspace as it was and replies the OOM error;
 *     the engine reports it before anything was emitted, and replies whose
 *     length depends on the result are deferred (reply_defer) until then.
 *
 * Threads: handlers run on the worker that owns the client; the shards
 * they lock are shared with every other worker.
 *
 * References: Redis 7.2 src/t_set.c (encodings) and 7.0 for replies, which
 * were checked against redis-server 7.0.15 (tests/integration/test_set.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/t_set.h"
#include "engine/tlimits.h"
#include "engine/util.h"
#include "server/client.h"
#include "server/keyargs.h"
#include "server/cmd.h"
#include "server/config.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/stats.h"
#include "server/wlog.h"
#include "server/worker.h"

#define RERR_POSITIVE "ERR value is out of range, must be positive"
#define RERR_NUMKEYS "ERR numkeys should be greater than 0"
#define RERR_NUMKEYS_ARGS "ERR Number of keys can't be greater than number of args"
#define RERR_LIMIT "ERR LIMIT can't be negative"
#define RERR_CURSOR "ERR invalid cursor"

/* Keys a multi-key command addresses on the stack before malloc. */

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static struct set *set_of(const struct entry *e)
{
    return entry_ptr(e);
}

/* The hash seed for member tables: the keyspace's per-process seed. */
static uint64_t seed_of(struct client *c)
{
    return c->srv->ks->seed;
}

static uint64_t rng_seed_fallback(struct client *c)
{
    return (uint64_t)c->now_ms ^ c->id;
}

/* The worker's generator (a client without a worker -- never in the server
 * -- gets a local one seeded from the clock). */
static struct util_rng *rng_of(struct client *c, struct util_rng *local)
{
    if (c->w)
        return &c->w->rng;
    util_rng_seed(local, rng_seed_fallback(c));
    return local;
}

/* Creates the entry for k holding s (taken: freed on failure) and inserts
 * it. Returns the entry or NULL (out of memory; s freed). */
static struct entry *insert_set(struct client *c, const struct ks_key *k, struct set *s)
{
    struct entry *e = entry_create(k->p, (uint32_t)k->len, OBJ_SET, ENC_PTR, sizeof(void *), -1);

    if (!e) {
        set_destroy(s);
        return NULL;
    }
    entry_set_ptr(e, s);
    if (ks_insert(c->srv->ks, c->db, k, e) != ST_OK) {
        entry_destroy(e);
        return NULL;
    }
    return e;
}

/* Replies one member as a bulk string (integers in their text form). */
static void reply_member(struct client *c, const struct set_member *m)
{
    if (m->s)
        reply_bulk(c, m->s, m->len);
    else
        reply_bulk_ll(c, m->i);
}

/* set_emit_fn for unbounded replies: replies, and every 1024 members checks
 * the output limit. */
struct bounded {
    struct client *c;
    uint64_t n;
};

static int emit_reply_bounded(const struct set_member *m, void *ud)
{
    struct bounded *b = ud;

    reply_member(b->c, m);
    return reply_aborted(b->c);
}

/* set_emit_fn that counts and replies (deferred-length replies). */
struct counted {
    struct client *c;
    long n;
};

static int emit_reply_counted(const struct set_member *m, void *ud)
{
    struct counted *k = ud;

    reply_member(k->c, m);
    k->n++;
    return 0;
}

/* Replies every member of s as a RESP3 set (an array in RESP2). */
static void reply_whole_set(struct client *c, struct set *s)
{
    struct set_it it;
    struct set_member m;

    reply_set(c, (long)set_len(s));
    set_it_init(&it, s);
    while (set_it_next_member(&it, &m))
        reply_member(c, &m);
    set_it_done(&it);
}

/* Looks up the source sets keys[0..n) for a read (invariant 4): sets[i] is
 * the set or NULL for a missing key. Replies WRONGTYPE and returns -1 when
 * any key holds another type (all keys are looked up first, as Redis). */
static int lookup_sources(struct client *c, const struct ks_key *keys, size_t n, struct set **sets)
{
    int wrong = 0;

    for (size_t i = 0; i < n; i++) {
        struct entry **ref = keyargs_read(c, &keys[i]);

        sets[i] = NULL;
        if (!ref)
            continue;
        if ((*ref)->type != OBJ_SET) {
            wrong = 1;
            break;
        }
        sets[i] = set_of(*ref);
    }
    if (wrong) {
        reply_err_wrongtype(c);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD                            */
/* ------------------------------------------------------------------------ */

/* SADD key member [member ...] */
static void sadd_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct type_limits lim;
    struct ks_key k;
    struct entry **ref;
    struct set *s;
    long long added = 0;
    size_t hint = (size_t)c->argc - 2;
    int rc = ST_OK;

    server_type_limits(c->srv, &lim);
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (ref && (*ref)->type != OBJ_SET) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    if (!ref) {
        /* setTypeCreate with the argument count as size hint, then add */
        s = set_create_for(c->argv[2].p, c->argv[2].len, hint, &lim, seed_of(c));
        if (!s)
            goto oom;
        for (int j = 2; j < c->argc; j++) {
            rc = set_add(&s, c->argv[j].p, c->argv[j].len, &lim, seed_of(c));
            if (rc < 0) {
                set_destroy(s);
                goto oom;
            }
            added += rc;
        }
        if (!insert_set(c, &k, s))
            goto oom;
        reply_int(c, added);
        goto unlock;
    }
    s = set_of(*ref);
    rc = set_maybe_convert(&s, hint, &lim, seed_of(c));
    for (int j = 2; j < c->argc && rc == ST_OK; j++) {
        rc = set_add(&s, c->argv[j].p, c->argv[j].len, &lim, seed_of(c));
        if (rc > 0)
            added++;
        if (rc >= 0)
            rc = ST_OK;
    }
    entry_set_ptr(*ref, s);
    if (added > 0)
        ks_touch_write(ks, &k);
    if (rc != ST_OK)
        goto oom; /* members before the failing one were added */
    reply_int(c, added);
    goto unlock;
oom:
    reply_err_nomem(c);
unlock:
    ks_unlock(ks, k.shard);
}

/* SREM key member [member ...] */
static void srem_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;
    long long removed = 0;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (!ref) {
        reply_int(c, 0);
    } else if ((*ref)->type != OBJ_SET) {
        reply_err_wrongtype(c);
    } else {
        struct set *s = set_of(*ref);

        for (int j = 2; j < c->argc; j++) {
            removed += set_remove(&s, c->argv[j].p, c->argv[j].len);
            if (set_len(s) == 0)
                break;
        }
        entry_set_ptr(*ref, s);
        if (set_len(s) == 0)
            ks_delete_ref(ks, c->db, &k, ref);
        else if (removed > 0)
            ks_touch_write(ks, &k);
        reply_int(c, removed);
    }
    ks_unlock(ks, k.shard);
}

/* SMEMBERS key */
static void smembers_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref)
        reply_set(c, 0);
    else if ((*ref)->type != OBJ_SET)
        reply_err_wrongtype(c);
    else
        reply_whole_set(c, set_of(*ref));
    ks_unlock(ks, k.shard);
}

/* SISMEMBER key member */
static void sismember_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref)
        reply_int(c, 0);
    else if ((*ref)->type != OBJ_SET)
        reply_err_wrongtype(c);
    else
        reply_int(c, set_contains(set_of(*ref), c->argv[2].p, c->argv[2].len));
    ks_unlock(ks, k.shard);
}

/* SMISMEMBER key member [member ...] */
static void smismember_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (ref && (*ref)->type != OBJ_SET) {
        reply_err_wrongtype(c);
    } else {
        reply_array(c, c->argc - 2);
        for (int j = 2; j < c->argc; j++)
            reply_int(c, ref ? set_contains(set_of(*ref), c->argv[j].p, c->argv[j].len) : 0);
    }
    ks_unlock(ks, k.shard);
}

/* SCARD key */
static void scard_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref)
        reply_int(c, 0);
    else if ((*ref)->type != OBJ_SET)
        reply_err_wrongtype(c);
    else
        reply_int(c, (long long)set_len(set_of(*ref)));
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* SPOP SRANDMEMBER                                                         */
/* ------------------------------------------------------------------------ */

/* Parses argv[i] as Redis's getPositiveLongFromObjectOrReply with its
 * default message (any failure, also a non-number, gives that message). */
static int arg_positive(struct client *c, int i, long long *out)
{
    if (util_str2ll(c->argv[i].p, c->argv[i].len, out) != ST_OK || *out < 0) {
        reply_error(c, RERR_POSITIVE);
        return -1;
    }
    return 0;
}

/* What SPOP popped, for the append log: SPOP's own arguments would pop
 * other members when replayed, so its record is SREM key member ... */
struct popped {
    struct counted out;
    int logging;
    size_t n, cap;
    char **m;
    size_t *len;
};

static int emit_popped(const struct set_member *m, void *ud)
{
    struct popped *p = ud;
    unsigned char buf[UTIL_LLSTR_SIZE];
    size_t len;
    const unsigned char *s;

    emit_reply_counted(m, &p->out);
    if (!p->logging)
        return 0;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 8;
        char **nm = realloc(p->m, nc * sizeof(*nm));
        size_t *nl = nm ? realloc(p->len, nc * sizeof(*nl)) : NULL;
        if (nm)
            p->m = nm;
        if (!nl) {
            p->logging = 0; /* the command's own arguments get logged: wlog.h */
            return 0;
        }
        p->len = nl;
        p->cap = nc;
    }
    s = set_member_str(m, buf, &len);
    p->m[p->n] = malloc(len ? len : 1);
    if (!p->m[p->n]) {
        p->logging = 0;
        return 0;
    }
    memcpy(p->m[p->n], s, len);
    p->len[p->n++] = len;
    return 0;
}

/* Hands the log SREM key <popped members> and frees them. */
static void popped_log(struct client *c, struct popped *p)
{
    if (p->logging && p->n > 0) {
        const char **argv = malloc((p->n + 2) * sizeof(*argv));
        size_t *lens = malloc((p->n + 2) * sizeof(*lens));
        if (argv && lens) {
            argv[0] = "SREM";
            lens[0] = 4;
            argv[1] = c->argv[1].p;
            lens[1] = c->argv[1].len;
            for (size_t i = 0; i < p->n; i++) {
                argv[i + 2] = p->m[i];
                lens[i + 2] = p->len[i];
            }
            wlog_rewrite(c, (int)p->n + 2, argv, lens);
        }
        free(argv);
        free(lens);
    }
    for (size_t i = 0; i < p->n; i++)
        free(p->m[i]);
    free(p->m);
    free(p->len);
}

/* SPOP key: one member, nil when the key is missing. */
static void spop_one(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct util_rng local;
    struct ks_key k;
    struct entry **ref;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (!ref) {
        reply_null(c);
    } else if ((*ref)->type != OBJ_SET) {
        reply_err_wrongtype(c);
    } else {
        struct set *s = set_of(*ref);
        struct popped p = { { c, 0 }, c->srv->wlog != NULL, 0, 0, NULL, NULL };

        set_pop(&s, rng_of(c, &local), emit_popped, &p);
        popped_log(c, &p);
        entry_set_ptr(*ref, s);
        if (set_len(s) == 0)
            ks_delete_ref(ks, c->db, &k, ref);
        else
            ks_touch_write(ks, &k);
    }
    ks_unlock(ks, k.shard);
}

/* SPOP key count: a RESP3 set of up to count distinct members. */
static void spop_count(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct type_limits lim;
    struct util_rng local;
    long long count;
    struct ks_key k;
    struct entry **ref;
    struct set *s;
    uint64_t size;
    size_t mark;
    struct counted out = { c, 0 };

    if (arg_positive(c, 2, &count) != 0)
        return;
    server_type_limits(c->srv, &lim);
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (ref && (*ref)->type != OBJ_SET) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    if (!ref || count == 0) {
        reply_set(c, 0);
        goto unlock;
    }
    s = set_of(*ref);
    size = set_len(s);
    if ((uint64_t)count >= size) {
        /* CASE 1: the whole set, and the key goes */
        reply_whole_set(c, s);
        ks_delete_ref(ks, c->db, &k, ref);
        goto unlock;
    }
    mark = reply_defer(c);
    struct popped p = { out, c->srv->wlog != NULL, 0, 0, NULL, NULL };
    if (set_pop_many(&s, (uint64_t)count, rng_of(c, &local), &lim, seed_of(c), emit_popped, &p) != ST_OK) {
        popped_log(c, &p);
        reply_err_nomem(c);
        goto unlock;
    }
    popped_log(c, &p);
    entry_set_ptr(*ref, s);
    ks_touch_write(ks, &k);
    reply_defer_set(c, mark, '~', p.out.n);
unlock:
    ks_unlock(ks, k.shard);
}

/* SPOP key [count] */
static void spop_cmd(struct client *c)
{
    if (c->argc == 2)
        spop_one(c);
    else if (c->argc == 3)
        spop_count(c);
    else
        reply_err_syntax(c);
}

/* SRANDMEMBER key: one member, nil when the key is missing. */
static void srandmember_one(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct util_rng local;
    struct ks_key k;
    struct entry **ref;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_null(c);
    } else if ((*ref)->type != OBJ_SET) {
        reply_err_wrongtype(c);
    } else {
        struct set_member m;

        set_random(set_of(*ref), rng_of(c, &local), &m);
        reply_member(c, &m);
    }
    ks_unlock(ks, k.shard);
}

/* SRANDMEMBER key count: an array; a negative count allows repeats. */
static void srandmember_count(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct util_rng local;
    long long l;
    uint64_t count, size;
    int uniq = 1;
    struct ks_key k;
    struct entry **ref;
    struct set *s;

    /* getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX) */
    if (util_str2ll(c->argv[2].p, c->argv[2].len, &l) != ST_OK) {
        reply_err_notint(c);
        return;
    }
    if (l == LLONG_MIN) {
        reply_errorf(c, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX, LLONG_MAX);
        return;
    }
    if (l >= 0) {
        count = (uint64_t)l;
    } else {
        count = (uint64_t)-l;
        uniq = 0;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_array(c, 0);
        goto unlock;
    }
    if ((*ref)->type != OBJ_SET) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    if (count == 0) {
        reply_array(c, 0);
        goto unlock;
    }
    s = set_of(*ref);
    size = set_len(s);
    if (!uniq || count == 1) {
        /* CASE 1: independent draws (the reply is as long as asked) */
        struct bounded b = { c, 0 };

        reply_array(c, (long)count);
        set_random_repeat(s, count, rng_of(c, &local), emit_reply_bounded, &b);
        goto unlock;
    }
    if (count >= size) {
        /* CASE 2: the whole set */
        struct set_it it;
        struct set_member m;

        reply_array(c, (long)size);
        set_it_init(&it, s);
        while (set_it_next_member(&it, &m))
            reply_member(c, &m);
        set_it_done(&it);
        goto unlock;
    }
    /* CASES 2.5, 3, 4: distinct members (t_set.c picks the strategy) */
    size_t mark = reply_defer(c);
    struct counted out = { c, 0 };

    if (set_random_distinct(s, count, rng_of(c, &local), emit_reply_counted, &out) != ST_OK)
        reply_err_nomem(c);
    else
        reply_defer_set(c, mark, '*', out.n);
unlock:
    ks_unlock(ks, k.shard);
}

/* SRANDMEMBER key [count] */
static void srandmember_cmd(struct client *c)
{
    if (c->argc == 2)
        srandmember_one(c);
    else if (c->argc == 3)
        srandmember_count(c);
    else
        reply_err_syntax(c);
}

/* ------------------------------------------------------------------------ */
/* SMOVE                                                                    */
/* ------------------------------------------------------------------------ */

/* SMOVE source destination member. The member is added to the destination
 * before it leaves the source, so running out of memory loses nothing. */
static void smove_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    const struct arg *m = &c->argv[3];
    struct type_limits lim;
    struct ks_key keys[2];
    struct entry **sref, **dref;
    struct set *src, *dst;
    int rc;

    server_type_limits(c->srv, &lim);
    keyargs_one(c, 1, &keys[0]);
    keyargs_one(c, 2, &keys[1]);
    ks_lock_keys(ks, keys, 2);
    sref = keyargs_write(c, &keys[0]);
    dref = keyargs_write(c, &keys[1]);
    if (!sref) {
        reply_int(c, 0);
        goto unlock;
    }
    if ((*sref)->type != OBJ_SET || (dref && (*dref)->type != OBJ_SET)) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    src = set_of(*sref);
    if (dref && *dref == *sref) {
        /* the same key: a no-op that says whether the member is there */
        reply_int(c, set_contains(src, m->p, m->len));
        goto unlock;
    }
    if (!set_contains(src, m->p, m->len)) {
        reply_int(c, 0);
        goto unlock;
    }
    if (!dref) {
        dst = set_create_for(m->p, m->len, 1, &lim, seed_of(c));
        if (!dst || set_add(&dst, m->p, m->len, &lim, seed_of(c)) < 0) {
            set_destroy(dst);
            reply_err_nomem(c);
            goto unlock;
        }
        if (!insert_set(c, &keys[1], dst)) {
            reply_err_nomem(c);
            goto unlock;
        }
        /* the insert may have moved the source's link */
        sref = keyargs_write(c, &keys[0]);
    } else {
        dst = set_of(*dref);
        rc = set_add(&dst, m->p, m->len, &lim, seed_of(c));
        entry_set_ptr(*dref, dst);
        if (rc < 0) {
            reply_err_nomem(c);
            goto unlock;
        }
        if (rc > 0)
            ks_touch_write(ks, &keys[1]);
    }
    set_remove(&src, m->p, m->len);
    entry_set_ptr(*sref, src);
    if (set_len(src) == 0)
        ks_delete_ref(ks, c->db, &keys[0], sref);
    else
        ks_touch_write(ks, &keys[0]);
    reply_int(c, 1);
unlock:
    ks_unlock_keys(ks, keys, 2);
}

/* ------------------------------------------------------------------------ */
/* SINTER SINTERCARD SUNION SDIFF and the *STORE forms                      */
/* ------------------------------------------------------------------------ */

/* Makes dst hold res (taken), or deletes dst when res is empty (invariant
 * 3). Replies the result's size. Caller holds dst's shard lock. */
static void store_result(struct client *c, const struct ks_key *dst, struct set *res)
{
    struct keyspace *ks = c->srv->ks;
    struct entry **ref = keyargs_write(c, dst);
    uint64_t n = set_len(res);
    struct entry *e;

    if (n == 0) {
        set_destroy(res);
        if (ref)
            ks_delete_ref(ks, c->db, dst, ref);
        reply_int(c, 0);
        return;
    }
    e = entry_create(dst->p, (uint32_t)dst->len, OBJ_SET, ENC_PTR, sizeof(void *), -1);
    if (!e) {
        set_destroy(res);
        reply_err_nomem(c);
        return;
    }
    entry_set_ptr(e, res);
    if (ref) {
        ks_swap(ks, c->db, dst, ref, e);
    } else if (ks_insert(ks, c->db, dst, e) != ST_OK) {
        entry_destroy(e);
        reply_err_nomem(c);
        return;
    }
    reply_int(c, (long long)n);
}

/* The family's common shape: keys from argv[first] on (with a destination
 * at argv[1] when store), sources looked up for a read, the op computed. */
static void algebra_generic(struct client *c, enum set_op op, int store)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[KEYARGS_STACK] = { 0 };
    struct set *sstack[KEYARGS_STACK];
    struct set **sets = sstack;
    struct type_limits lim;
    size_t nkeys = (size_t)c->argc - 1;          /* destination included */
    size_t first = store ? 1 : 0;                /* sources in keys[] */
    size_t n = nkeys - first;
    struct ks_key *keys = keyargs_many(c, stack, nkeys, 1, 1);
    struct set *res = NULL;

    if (!keys)
        return;
    if (n > KEYARGS_STACK) {
        sets = malloc(n * sizeof(*sets));
        if (!sets) {
            keyargs_free(keys, stack);
            reply_err_nomem(c);
            return;
        }
    }
    server_type_limits(c->srv, &lim);
    ks_lock_keys(ks, keys, nkeys);
    if (lookup_sources(c, keys + first, n, sets) != 0)
        goto unlock;
    if (!store && op == SET_OP_INTER) {
        /* SINTER streams the intersection without building it */
        struct counted out = { c, 0 };
        size_t mark;
        int empty = 0;

        for (size_t i = 0; i < n; i++)
            empty |= sets[i] == NULL;
        if (empty) {
            reply_set(c, 0);
            goto unlock;
        }
        mark = reply_defer(c);
        if (set_inter(sets, n, 0, emit_reply_counted, &out) != ST_OK)
            reply_err_nomem(c);
        else
            reply_defer_set(c, mark, '~', out.n);
        goto unlock;
    }
    if (set_algebra(sets, n, op, &lim, seed_of(c), &res) != ST_OK) {
        reply_err_nomem(c);
        goto unlock;
    }
    if (store) {
        store_result(c, &keys[0], res);
    } else {
        reply_whole_set(c, res);
        set_destroy(res);
    }
unlock:
    ks_unlock_keys(ks, keys, nkeys);
    if (sets != sstack)
        free(sets);
    keyargs_free(keys, stack);
}

static void sinter_cmd(struct client *c)
{
    algebra_generic(c, SET_OP_INTER, 0);
}

static void sinterstore_cmd(struct client *c)
{
    algebra_generic(c, SET_OP_INTER, 1);
}

static void sunion_cmd(struct client *c)
{
    algebra_generic(c, SET_OP_UNION, 0);
}

static void sunionstore_cmd(struct client *c)
{
    algebra_generic(c, SET_OP_UNION, 1);
}

static void sdiff_cmd(struct client *c)
{
    algebra_generic(c, SET_OP_DIFF, 0);
}

static void sdiffstore_cmd(struct client *c)
{
    algebra_generic(c, SET_OP_DIFF, 1);
}

static int emit_count(const struct set_member *m, void *ud)
{
    (void)m;
    (*(uint64_t *)ud)++;
    return 0;
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
static void sintercard_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[KEYARGS_STACK] = { 0 };
    struct set *sstack[KEYARGS_STACK];
    struct set **sets = sstack;
    struct ks_key *keys;
    long long numkeys, limit = 0;
    uint64_t card = 0;
    int empty = 0;

    if (util_str2ll(c->argv[1].p, c->argv[1].len, &numkeys) != ST_OK || numkeys <= 0) {
        reply_error(c, RERR_NUMKEYS);
        return;
    }
    if (numkeys > c->argc - 2) {
        reply_error(c, RERR_NUMKEYS_ARGS);
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j++) {
        if (util_eqi(c->argv[j].p, c->argv[j].len, "limit") && j + 1 < c->argc) {
            j++;
            if (util_str2ll(c->argv[j].p, c->argv[j].len, &limit) != ST_OK || limit < 0) {
                reply_error(c, RERR_LIMIT);
                return;
            }
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    keys = keyargs_many(c, stack, (size_t)numkeys, 2, 1);
    if (!keys)
        return;
    if (numkeys > KEYARGS_STACK) {
        sets = malloc((size_t)numkeys * sizeof(*sets));
        if (!sets) {
            keyargs_free(keys, stack);
            reply_err_nomem(c);
            return;
        }
    }
    ks_lock_keys(ks, keys, (size_t)numkeys);
    if (lookup_sources(c, keys, (size_t)numkeys, sets) != 0)
        goto unlock;
    for (long long i = 0; i < numkeys; i++)
        empty |= sets[i] == NULL;
    if (!empty && set_inter(sets, (size_t)numkeys, (uint64_t)limit, emit_count, &card) != ST_OK) {
        reply_err_nomem(c);
        goto unlock;
    }
    reply_int(c, (long long)card);
unlock:
    ks_unlock_keys(ks, keys, (size_t)numkeys);
    if (sets != sstack)
        free(sets);
    keyargs_free(keys, stack);
}

/* ------------------------------------------------------------------------ */
/* SSCAN                                                                    */
/* ------------------------------------------------------------------------ */

/* Parses a SCAN cursor as Redis's parseScanCursorOrReply: strtoull on the
 * whole argument, no leading space, no overflow. Returns 0 or -1. */
static int parse_cursor(const struct arg *a, uint64_t *out)
{
    char stack[64];
    char *buf = a->len < sizeof(stack) ? stack : malloc(a->len + 1);
    char *end;
    int rc = 0;

    if (!buf)
        return -1;
    memcpy(buf, a->p, a->len);
    buf[a->len] = '\0';
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r') || *end != '\0' || errno == ERANGE)
        rc = -1;
    else
        *out = (uint64_t)v;
    if (buf != stack)
        free(buf);
    return rc;
}

/* Members an SSCAN page collected (borrowed from the set: nothing changes
 * it before the reply is written). */
struct page {
    struct set_member *v;
    size_t n, cap;
    int oom;
};

static int page_add(const struct set_member *m, void *ud)
{
    struct page *p = ud;

    if (p->oom)
        return 1;
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 16;
        struct set_member *nv = realloc(p->v, ncap * sizeof(*nv));

        if (!nv) {
            p->oom = 1;
            return 1;
        }
        p->v = nv;
        p->cap = ncap;
    }
    p->v[p->n++] = *m;
    return 0;
}

/* SSCAN key cursor [MATCH pattern] [COUNT count]. As Redis 7.0: the cursor
 * is checked first, then the key (a missing key answers an empty page
 * before the options are looked at), then the options; MATCH filters after
 * collection, so COUNT bounds the work, not the reply. */
static void sscan_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    const struct arg *pat = NULL;
    long long count = 10;
    uint64_t cursor, next;
    struct ks_key k;
    struct entry **ref;
    struct page pg = { 0 };
    char cbuf[24];
    int clen;
    long shown = 0;

    if (parse_cursor(&c->argv[2], &cursor) != 0) {
        reply_error(c, RERR_CURSOR);
        return;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_array(c, 2);
        reply_bulk(c, "0", 1);
        reply_array(c, 0);
        goto unlock;
    }
    if ((*ref)->type != OBJ_SET) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    for (int i = 3; i < c->argc; i += 2) {
        const struct arg *a = &c->argv[i];
        int more = c->argc - i >= 2;

        if (more && util_eqi(a->p, a->len, "count")) {
            if (util_str2ll(c->argv[i + 1].p, c->argv[i + 1].len, &count) != ST_OK) {
                reply_err_notint(c);
                goto unlock;
            }
            if (count < 1) {
                reply_err_syntax(c);
                goto unlock;
            }
        } else if (more && util_eqi(a->p, a->len, "match")) {
            const struct arg *p = &c->argv[i + 1];

            pat = (p->len == 1 && p->p[0] == '*') ? NULL : p;
        } else {
            reply_err_syntax(c);
            goto unlock;
        }
    }
    next = set_scan(set_of(*ref), cursor, (uint64_t)count, page_add, &pg);
    if (pg.oom) {
        reply_err_nomem(c);
        goto unlock;
    }
    clen = snprintf(cbuf, sizeof(cbuf), "%" PRIu64, next);
    reply_array(c, 2);
    reply_bulk(c, cbuf, (size_t)clen);
    if (!pat) {
        reply_array(c, (long)pg.n);
        for (size_t i = 0; i < pg.n; i++)
            reply_member(c, &pg.v[i]);
        goto unlock;
    }
    size_t mark = reply_defer(c);
    for (size_t i = 0; i < pg.n; i++) {
        unsigned char buf[UTIL_LLSTR_SIZE];
        size_t len;
        const unsigned char *p = set_member_str(&pg.v[i], buf, &len);

        if (util_glob_match(pat->p, pat->len, (const char *)p, len, 0)) {
            reply_bulk(c, p, len);
            shown++;
        }
    }
    reply_defer_set(c, mark, '*', shown);
unlock:
    ks_unlock(ks, k.shard);
    free(pg.v);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

#define W_OOM (CMD_WRITE | CMD_DENYOOM)
#define W_OOM_FAST (CMD_WRITE | CMD_DENYOOM | CMD_FAST)
#define W_FAST (CMD_WRITE | CMD_FAST)
#define R_FAST (CMD_READONLY | CMD_FAST)

#define TOTAL_N "O(N) where N is the total number of elements in all given sets."
#define INTER_N "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."

/* name, proc, arity, flags, first, last, step, group, summary, since,
 * complexity, syntax: as Redis 7.0's COMMAND INFO / COMMAND DOCS. */
const struct cmd_def cmds_set[] = {
    { "sadd", sadd_cmd, -3, W_OOM_FAST, 1, 1, 1, "set", "Add one or more members to a set", "1.0.0",
      "O(1) for each element added, so O(N) to add N elements when the command is called with multiple "
      "arguments.",
      "key member [member ...]", NULL },
    { "srem", srem_cmd, -3, W_FAST, 1, 1, 1, "set", "Remove one or more members from a set", "1.0.0",
      "O(N) where N is the number of members to be removed.", "key member [member ...]", NULL },
    { "smembers", smembers_cmd, 2, CMD_READONLY, 1, 1, 1, "set", "Get all the members in a set", "1.0.0",
      "O(N) where N is the set cardinality.", "key", NULL },
    { "sismember", sismember_cmd, 3, R_FAST, 1, 1, 1, "set", "Determine if a given value is a member of a set",
      "1.0.0", "O(1)", "key member", NULL },
    { "smismember", smismember_cmd, -3, R_FAST, 1, 1, 1, "set",
      "Returns the membership associated with the given elements for a set", "6.2.0",
      "O(N) where N is the number of elements being checked for membership", "key member [member ...]", NULL },
    { "scard", scard_cmd, 2, R_FAST, 1, 1, 1, "set", "Get the number of members in a set", "1.0.0", "O(1)", "key",
      NULL },
    { "spop", spop_cmd, -2, W_FAST, 1, 1, 1, "set", "Remove and return one or multiple random members from a set",
      "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
      "key [count]", NULL },
    { "srandmember", srandmember_cmd, -2, CMD_READONLY, 1, 1, 1, "set",
      "Get one or multiple random members from a set", "1.0.0",
      "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
      "key [count]", NULL },
    { "smove", smove_cmd, 4, W_FAST, 1, 2, 1, "set", "Move a member from one set to another", "1.0.0", "O(1)",
      "source destination member", NULL },
    { "sinter", sinter_cmd, -2, CMD_READONLY, 1, -1, 1, "set", "Intersect multiple sets", "1.0.0", INTER_N,
      "key [key ...]", NULL },
    { "sintercard", sintercard_cmd, -3, CMD_READONLY | CMD_MOVABLE, 0, 0, 0, "set",
      "Intersect multiple sets and return the cardinality of the result", "7.0.0", INTER_N,
      "numkeys key [key ...] [LIMIT limit]", NULL },
    { "sinterstore", sinterstore_cmd, -3, W_OOM, 1, -1, 1, "set",
      "Intersect multiple sets and store the resulting set in a key", "1.0.0", INTER_N, "destination key [key ...]",
      NULL },
    { "sunion", sunion_cmd, -2, CMD_READONLY, 1, -1, 1, "set", "Add multiple sets", "1.0.0", TOTAL_N,
      "key [key ...]", NULL },
    { "sunionstore", sunionstore_cmd, -3, W_OOM, 1, -1, 1, "set",
      "Add multiple sets and store the resulting set in a key", "1.0.0", TOTAL_N, "destination key [key ...]",
      NULL },
    { "sdiff", sdiff_cmd, -2, CMD_READONLY, 1, -1, 1, "set", "Subtract multiple sets", "1.0.0", TOTAL_N,
      "key [key ...]", NULL },
    { "sdiffstore", sdiffstore_cmd, -3, W_OOM, 1, -1, 1, "set",
      "Subtract multiple sets and store the resulting set in a key", "1.0.0", TOTAL_N,
      "destination key [key ...]", NULL },
    { "sscan", sscan_cmd, -3, CMD_READONLY, 1, 1, 1, "set", "Incrementally iterate Set elements", "2.8.0",
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to "
      "return back to 0. N is the number of elements inside the collection..",
      "key cursor [MATCH pattern] [COUNT count]", NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};
