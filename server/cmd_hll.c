/*
 * cmd_hll.c -- the HyperLogLog command family: PFADD PFCOUNT PFMERGE, the
 * debugging commands PFDEBUG and PFSELFTEST, and their table cmds_hll[].
 *
 * What it owns: argument handling, shard locking, keyspace calls and replies
 * for these commands. What it does not: the HyperLogLog format and algorithms
 * (engine/hll.c, byte-compatible with Redis and unit-tested there), entries
 * (engine/entry.c) and the keyspace (engine/keyspace.c).
 *
 * Data model: a HyperLogLog is an ordinary string entry (TYPE string) whose
 * bytes are Redis's HLL format. A dense value (12304 bytes) is updated in
 * place in the entry. A sparse value (at most hll-sparse-max-bytes) is copied
 * into a struct hll, updated there (it may grow or become dense), and written
 * back with entry_resize_raw + ks_relink.
 *
 * Invariants:
 *  1. A value is used as a HyperLogLog only after hll_check passed (else
 *     "WRONGTYPE Key is not a valid HyperLogLog string value."; another type
 *     gets the usual WRONGTYPE); any walk that finds malformed sparse opcodes
 *     answers "INVALIDOBJ Corrupted HLL object detected". Neither ever
 *     crashes or reads outside the value.
 *  2. Commands check and mutate in Redis 7.0's order (hyperloglog.c): PFADD
 *     creates the key before adding and invalidates the cached cardinality
 *     only when a register changed (or the key was created); PFCOUNT of one
 *     key stores the cardinality it computed in the header; PFCOUNT of
 *     several keys modifies nothing; PFMERGE reads every source (the
 *     destination included) before it creates or updates the destination,
 *     which becomes dense when any source is dense.
 *  3. Multi-key commands (PFCOUNT k1 k2 ..., PFMERGE) lock every shard at
 *     once (ks_lock_keys): the union is computed from one consistent state.
 *  4. Read lookups count keyspace_hits / keyspace_misses as Redis's
 *     lookupKeyRead does: PFCOUNT (each key) and PFMERGE's sources.
 *
 * Threads: handlers run on the worker that owns the client; the shards they
 * lock are shared with every other worker.
 *
 * Durability: none yet; a reply means the keyspace in DRAM holds the write.
 *
 * References: Redis 7.0 src/hyperloglog.c (command semantics);
 * https://redis.io/commands/ for the synopses in the table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/hll.h"
#include "engine/keyspace.h"
#include "engine/tlimits.h"
#include "engine/util.h"
#include "server/client.h"
#include "server/keyargs.h"
#include "server/cmd.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/stats.h"
#include "server/worker.h"

#define RERR_NOTHLL "WRONGTYPE Key is not a valid HyperLogLog string value."
#define RERR_CORRUPT "INVALIDOBJ Corrupted HLL object detected"

/* Keys of PFCOUNT / PFMERGE that fit on the stack before malloc. */

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static size_t pf_sparse_max(struct client *c)
{
    struct type_limits lim;

    server_type_limits(c->srv, &lim);
    return lim.hll_sparse_max_bytes;
}

/* Redis reports a string changed in place as "raw" (see cmd_bitmap.c). */
static void pf_mark_raw(struct entry *e)
{
#ifdef ENTRY_F_RAWSTR
    e->flags |= ENTRY_F_RAWSTR;
#else
    (void)e;
#endif
}

/* Redis's isHLLObjectOrReply: 0 when e holds a HyperLogLog value, else
 * replies the error and returns -1 (invariant 1). */
static int pf_check(struct client *c, const struct entry *e)
{
    if (e->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        return -1;
    }
    if (e->enc != ENC_RAW || hll_check(entry_cval(e), e->vlen) != ST_OK) {
        reply_error(c, RERR_NOTHLL);
        return -1;
    }
    return 0;
}

/* Makes the string at ref (NULL: create it) hold v[0..len). Returns 0 or
 * ST_ENOMEM (key unchanged). */
static int pf_store(struct client *c, const struct ks_key *k, struct entry **ref, const unsigned char *v,
                    size_t len)
{
    struct keyspace *ks = c->srv->ks;
    struct entry *e;

    if (!ref) {
        e = entry_create(k->p, (uint32_t)k->len, OBJ_STRING, ENC_RAW, (uint32_t)len, -1);
        if (!e)
            return ST_ENOMEM;
        memcpy(entry_val(e), v, len);
        pf_mark_raw(e);
        if (ks_insert(ks, c->db, k, e) != ST_OK) {
            entry_destroy(e);
            return ST_ENOMEM;
        }
        return ST_OK;
    }
    uint8_t old_flags = (*ref)->flags;
    e = entry_resize_raw(*ref, len);
    if (!e)
        return ST_ENOMEM;
    memcpy(entry_val(e), v, len);
    pf_mark_raw(e);
    ks_relink(ks, c->db, k, ref, old_flags, e);
    return ST_OK;
}

/* A struct hll borrowing the dense value of entry e in place. */
static struct hll pf_borrow_dense(struct entry *e)
{
    struct hll h = { entry_val(e), e->vlen, e->vlen };

    return h;
}

/* ------------------------------------------------------------------------ */
/* PFADD                                                                    */
/* ------------------------------------------------------------------------ */

/* PFADD key [element [element ...]] */
static void pfadd_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    size_t sparse_max = pf_sparse_max(c);
    struct hll h = { NULL, 0, 0 };
    struct ks_key k;
    struct entry **ref;
    int updated = 0, corrupt = 0;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (ref && pf_check(c, *ref) != 0)
        goto unlock;
    if (ref && hll_encoding_of(entry_cval(*ref)) == HLL_ENC_DENSE) {
        /* In place: a dense value never changes length. */
        unsigned char *v = entry_val(*ref);

        for (int j = 2; j < c->argc; j++)
            updated |= hll_dense_add(v, c->argv[j].p, c->argv[j].len);
        if (updated) {
            hll_cache_invalidate(v);
            pf_mark_raw(*ref);
            ks_touch_write(ks, &k);
        }
        reply_int(c, updated);
        goto unlock;
    }
    if (ref) {
        if (hll_load(&h, entry_cval(*ref), (*ref)->vlen) != ST_OK) {
            reply_err_nomem(c);
            goto unlock;
        }
    } else {
        unsigned char empty[HLL_SPARSE_EMPTY_SIZE];

        hll_init_empty(empty);
        if (hll_load(&h, empty, sizeof(empty)) != ST_OK) {
            reply_err_nomem(c);
            goto unlock;
        }
        updated = 1; /* creating the key is a change */
    }
    for (int j = 2; j < c->argc; j++) {
        int rc = hll_add(&h, c->argv[j].p, c->argv[j].len, sparse_max);

        if (rc == ST_ENOMEM) {
            reply_err_nomem(c);
            goto release;
        }
        if (rc < 0) {
            /* As Redis: the registers already raised stay raised, the
             * cache is not invalidated, the command fails. */
            corrupt = 1;
            break;
        }
        updated |= rc;
    }
    if (updated && !corrupt)
        hll_cache_invalidate(h.p);
    if (updated && pf_store(c, &k, ref, h.p, h.len) != ST_OK) {
        reply_err_nomem(c);
        goto release;
    }
    if (corrupt)
        reply_error(c, RERR_CORRUPT);
    else
        reply_int(c, updated);
release:
    hll_release(&h);
unlock:
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* PFCOUNT                                                                  */
/* ------------------------------------------------------------------------ */

/* PFCOUNT key: the cached cardinality, or a fresh estimate stored in the
 * header. */
static void pfcount_one(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    struct entry **ref;
    uint64_t card;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    /* the estimate is cached in the value itself, as Redis does: a cold key
     * is promoted rather than lent, so the cache lands in the real value
     * (and, all-cold under tier-demote-on-write, goes back as a write would) */
    ks_cold.readonly = 0;
    if (c->srv->tiering && cfg_load(c->srv->cfg.tier_demote_on_write))
        ks_cold.track = 1;
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_int(c, 0);
        goto unlock;
    }
    if (pf_check(c, *ref) != 0)
        goto unlock;
    if (!hll_cache_get(entry_cval(*ref), &card)) {
        if (hll_count(entry_cval(*ref), (*ref)->vlen, &card) != ST_OK) {
            reply_error(c, RERR_CORRUPT);
            goto unlock;
        }
        /* Redis counts this as a write (the value changed) */
        hll_cache_set(entry_val(*ref), card);
        pf_mark_raw(*ref);
        ks_touch_write(ks, &k);
    }
    reply_int(c, (long long)card);
unlock:
    ks_unlock(ks, k.shard);
}

/* PFCOUNT key [key ...] */
static void pfcount_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[KEYARGS_STACK] = { 0 };
    struct ks_key *keys;
    size_t n = (size_t)c->argc - 1;
    uint8_t *regs;

    if (c->argc == 2) {
        pfcount_one(c);
        return;
    }
    regs = calloc(1, HLL_REGISTERS);
    if (!regs) {
        reply_err_nomem(c);
        return;
    }
    keys = keyargs_many(c, stack, n, 1, 1);
    if (!keys)
        goto out;
    ks_lock_keys(ks, keys, n);
    for (size_t i = 0; i < n; i++) {
        struct entry **ref = keyargs_read(c, &keys[i]);

        if (!ref)
            continue; /* a missing key is an empty HyperLogLog */
        if (pf_check(c, *ref) != 0)
            goto unlock;
        if (hll_merge_regs(regs, entry_cval(*ref), (*ref)->vlen) != ST_OK) {
            reply_error(c, RERR_CORRUPT);
            goto unlock;
        }
    }
    reply_int(c, (long long)hll_count_regs(regs));
unlock:
    ks_unlock_keys(ks, keys, n);
    keyargs_free(keys, stack);
out:
    free(regs);
}

/* ------------------------------------------------------------------------ */
/* PFMERGE                                                                  */
/* ------------------------------------------------------------------------ */

/* PFMERGE destkey [sourcekey [sourcekey ...]] */
static void pfmerge_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[KEYARGS_STACK] = { 0 };
    struct ks_key *keys;
    size_t n = (size_t)c->argc - 1;
    struct hll h = { NULL, 0, 0 };
    struct entry **dref;
    uint8_t *regs;
    int use_dense = 0, rc;

    regs = calloc(1, HLL_REGISTERS);
    if (!regs) {
        reply_err_nomem(c);
        return;
    }
    keys = keyargs_many(c, stack, n, 1, 1);
    if (!keys)
        goto out;
    ks_lock_keys(ks, keys, n);
    /* The union of every key, the destination included (invariant 2). */
    for (size_t i = 0; i < n; i++) {
        struct entry **ref = keyargs_read(c, &keys[i]);

        if (!ref)
            continue;
        if (pf_check(c, *ref) != 0)
            goto unlock;
        if (hll_encoding_of(entry_cval(*ref)) == HLL_ENC_DENSE)
            use_dense = 1;
        if (hll_merge_regs(regs, entry_cval(*ref), (*ref)->vlen) != ST_OK) {
            reply_error(c, RERR_CORRUPT);
            goto unlock;
        }
    }
    dref = keyargs_write(c, &keys[0]);
    if (dref && hll_encoding_of(entry_cval(*dref)) == HLL_ENC_DENSE) {
        struct hll d = pf_borrow_dense(*dref);

        hll_store_regs(&d, regs, 1, pf_sparse_max(c)); /* in place, cannot fail */
        pf_mark_raw(*dref);
        ks_touch_write(ks, &keys[0]);
        reply_ok(c);
        goto unlock;
    }
    if (dref) {
        rc = hll_load(&h, entry_cval(*dref), (*dref)->vlen);
    } else {
        unsigned char empty[HLL_SPARSE_EMPTY_SIZE];

        hll_init_empty(empty);
        rc = hll_load(&h, empty, sizeof(empty));
    }
    if (rc == ST_OK)
        rc = hll_store_regs(&h, regs, use_dense, pf_sparse_max(c));
    if (rc == ST_OK)
        rc = pf_store(c, &keys[0], dref, h.p, h.len);
    if (rc == ST_ECORRUPT)
        reply_error(c, RERR_CORRUPT);
    else if (rc != ST_OK)
        reply_err_nomem(c);
    else
        reply_ok(c);
    hll_release(&h);
unlock:
    ks_unlock_keys(ks, keys, n);
    keyargs_free(keys, stack);
out:
    free(regs);
}

/* ------------------------------------------------------------------------ */
/* PFDEBUG PFSELFTEST                                                       */
/* ------------------------------------------------------------------------ */

/* Converts the sparse HyperLogLog at ref to dense in the keyspace. Returns 0,
 * or -1 after replying an error. */
static int pf_make_dense(struct client *c, const struct ks_key *k, struct entry **ref)
{
    struct hll h;
    int rc = hll_load(&h, entry_cval(*ref), (*ref)->vlen);

    if (rc == ST_OK)
        rc = hll_to_dense(&h);
    if (rc >= 0)
        rc = pf_store(c, k, ref, h.p, h.len);
    hll_release(&h);
    if (rc == ST_ECORRUPT) {
        reply_error(c, RERR_CORRUPT);
        return -1;
    }
    if (rc != ST_OK) {
        reply_err_nomem(c);
        return -1;
    }
    return 0;
}

/* PFDEBUG GETREG | DECODE | ENCODING | TODENSE key */
static void pfdebug_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    const struct arg *sub = &c->argv[1];
    struct ks_key k;
    struct entry **ref;
    const unsigned char *v;
    int sparse;

    keyargs_one(c, 2, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (!ref) {
        reply_error(c, "ERR The specified key does not exist");
        goto unlock;
    }
    if (pf_check(c, *ref) != 0)
        goto unlock;
    v = entry_cval(*ref);
    sparse = hll_encoding_of(v) == HLL_ENC_SPARSE;
    if (util_eqi(sub->p, sub->len, "getreg")) {
        if (sparse && pf_make_dense(c, &k, ref) != 0)
            goto unlock;
        v = entry_cval(*ref);
        reply_array(c, HLL_REGISTERS);
        for (unsigned i = 0; i < HLL_REGISTERS; i++)
            reply_int(c, hll_dense_get(v, i));
    } else if (util_eqi(sub->p, sub->len, "decode")) {
        size_t cap = (size_t)(*ref)->vlen * 12 + 1;
        char *out;
        long n;

        if (!sparse) {
            reply_error(c, "ERR HLL encoding is not sparse");
            goto unlock;
        }
        out = malloc(cap);
        if (!out) {
            reply_err_nomem(c);
            goto unlock;
        }
        n = hll_decode_sparse(v, (*ref)->vlen, out, cap);
        reply_bulk(c, out, n > 0 ? (size_t)n : 0);
        free(out);
    } else if (util_eqi(sub->p, sub->len, "encoding")) {
        reply_simple(c, sparse ? "sparse" : "dense");
    } else if (util_eqi(sub->p, sub->len, "todense")) {
        if (sparse && pf_make_dense(c, &k, ref) != 0)
            goto unlock;
        reply_int(c, sparse);
    } else {
        reply_errorf(c, "ERR Unknown PFDEBUG subcommand '%.*s'", (int)(sub->len > 128 ? 128 : sub->len),
                     sub->p);
    }
unlock:
    ks_unlock(ks, k.shard);
}

/* PFSELFTEST: checks the register packing of every dense register and that
 * the sparse and dense paths agree and estimate within bounds as elements
 * are added. Replies +OK or "TESTFAILED <what>" (as Redis). Takes no lock. */
static void pfselftest_cmd(struct client *c)
{
    struct util_rng r;
    struct hll s = { NULL, 0, 0 }, d = { NULL, 0, 0 };
    unsigned char empty[HLL_SPARSE_EMPTY_SIZE];
    uint8_t *want = malloc(HLL_REGISTERS);
    char msg[128] = "";

    util_rng_seed(&r, (uint64_t)c->now_ms);
    hll_init_empty(empty);
    if (!want || hll_load(&s, empty, sizeof(empty)) != ST_OK || hll_load(&d, empty, sizeof(empty)) != ST_OK ||
        hll_to_dense(&d) < 0) {
        reply_err_nomem(c);
        goto out;
    }
    /* 1. Every dense register holds every value without disturbing others. */
    for (int round = 0; round < 4 && !msg[0]; round++) {
        for (unsigned i = 0; i < HLL_REGISTERS; i++)
            want[i] = (uint8_t)(util_rng_next(&r) % (HLL_REGISTER_MAX + 1));
        /* raise from zero: each round starts from empty registers */
        memset(d.p + HLL_HDR_SIZE, 0, HLL_DENSE_SIZE - HLL_HDR_SIZE);
        for (unsigned i = 0; i < HLL_REGISTERS; i++)
            hll_set(&d, i, want[i], 0);
        for (unsigned i = 0; i < HLL_REGISTERS; i++)
            if (hll_dense_get(d.p, i) != want[i]) {
                snprintf(msg, sizeof(msg), "Register error at %u", i);
                break;
            }
    }
    /* 2. Sparse and dense agree, and the error stays within 5 sigma. */
    memset(d.p + HLL_HDR_SIZE, 0, HLL_DENSE_SIZE - HLL_HDR_SIZE);
    for (unsigned long j = 1; j <= 100000 && !msg[0]; j++) {
        uint64_t ele = util_rng_next(&r), cs, cd;

        if (hll_add(&s, &ele, sizeof(ele), 3000) < 0 || hll_add(&d, &ele, sizeof(ele), 3000) < 0) {
            snprintf(msg, sizeof(msg), "add failed at %lu", j);
            break;
        }
        if (j % 997 != 0 && j != 100000)
            continue;
        if (hll_count(s.p, s.len, &cs) != ST_OK || hll_count(d.p, d.len, &cd) != ST_OK || cs != cd) {
            snprintf(msg, sizeof(msg), "Sparse and dense disagree at %lu", j);
            break;
        }
        double err = fabs((double)cd - (double)j) / (double)j;
        double bound = j < 50 ? 0.2 : 5 * 1.04 / sqrt(HLL_REGISTERS);

        if (err > bound)
            snprintf(msg, sizeof(msg), "Approximation error %.4f at %lu", err, j);
    }
    if (msg[0])
        reply_errorf(c, "TESTFAILED %s", msg);
    else
        reply_ok(c);
out:
    hll_release(&s);
    hll_release(&d);
    free(want);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

/* name, proc, arity, flags, first, last, step, group, summary, since,
 * complexity, syntax: as Redis 7.0's COMMAND INFO / COMMAND DOCS. */
const struct cmd_def cmds_hll[] = {
    { "pfadd", pfadd_cmd, -2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1, "hyperloglog",
      "Adds the specified elements to the specified HyperLogLog.", "2.8.9", "O(1) to add every element.",
      "key [element [element ...]]", NULL },
    { "pfcount", pfcount_cmd, -2, CMD_READONLY, 1, -1, 1, "hyperloglog",
      "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", "2.8.9",
      "O(1) with a very small average constant time when called with a single key. O(N) with N being the "
      "number of keys, and much bigger constant times, when called with multiple keys.",
      "key [key ...]", NULL },
    { "pfmerge", pfmerge_cmd, -2, CMD_WRITE | CMD_DENYOOM, 1, -1, 1, "hyperloglog",
      "Merge N different HyperLogLogs into a single one.", "2.8.9",
      "O(N) to merge N HyperLogLogs, but with high constant times.", "destkey [sourcekey [sourcekey ...]]",
      NULL },
    { "pfdebug", pfdebug_cmd, 3, CMD_WRITE | CMD_DENYOOM | CMD_ADMIN, 2, 2, 1, "hyperloglog",
      "Internal commands for debugging HyperLogLog values", "2.8.9", "N/A", "subcommand key", NULL },
    { "pfselftest", pfselftest_cmd, 1, CMD_ADMIN, 0, 0, 0, "hyperloglog",
      "An internal command for testing HyperLogLog values", "2.8.9", "N/A", "", NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};
