/*
 * tiering_fetch.c -- reading indexed tiers ahead of a command, so that a
 * worker never waits for a disk (contract in tiering.h).
 *
 * Keys that live in an indexed tier (the SSD tier) have nothing in DRAM; a
 * command that names one needs its record before it can run, and the read
 * takes a device round trip. So before a command runs, fetch-ahead looks at
 * the keys it names:
 *
 *   execute ─ tiering_fetch_ahead(c, e)
 *     for each key argument (and MOVE's / COPY DB's target):
 *       probe each indexed tier (DRAM only) ── surely absent: nothing to do
 *         maybe there ── in DRAM already? (lookup without tiers): nothing
 *         else: a read by key (struct tier_req)
 *     no reads, or all answered at once (records still in a write buffer)
 *       ─ TIERING_RUN: the command runs now with the answers at hand
 *     some pending ─ copy the arguments, suspend c (TIERING_SUSPENDED)
 *       tier thread: each read's done ─ last one posts f->msg to c's worker
 *       worker: fetched_msg ─ client_wake(c) ─ resume ─ client_run(c, e)
 *
 * While the command runs, ks_cold.fetched points at what was read, and the
 * keyspace's cold.miss (tiering.c) takes a record from there if the tier
 * says it is still current (tier_index_ops.current), under the key's shard
 * lock. A record that moved or was replaced since it was read, or a key
 * nobody read ahead (a lookup the key arguments do not show, such as a
 * served BLMOVE's destination), is read by the worker itself: the rare
 * path, counted as sync_reads in INFO tiers.
 *
 * SCAN (its tier phase), KEYS and RANDOMKEY need keys they cannot name:
 * fetch-ahead walks the tier's index for them (scan, random) and reads the
 * records at those locations (fetch_at), keeping only key, type and expiry
 * (tiering_listing). KEYS reads in batches of FETCH_BATCH, so its memory is
 * the matching keys, not the records.
 *
 * Invariants:
 *  1. A struct tgf lives until exactly one of: the command ran with it
 *     (tiering_fetch_done), the message handler found its client gone
 *     (cancelled), or the worker was destroyed with its message undelivered
 *     (drop). Never while a read of it is in flight: pending counts reads
 *     in flight plus one for the issuer, and the message is posted only
 *     when the count reaches zero.
 *  2. Replies keep the pipeline's order: the client is suspended before the
 *     command runs, so nothing after it runs first (client.c invariant 1).
 *  3. A fetched record is believed only after current() under the shard
 *     lock; fetch-ahead itself never changes the keyspace or a tier.
 *
 * Threads: everything here runs on the client's worker except item_done,
 * which runs on a tier thread and touches only the atomic count and the
 * worker's inbox.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/entry.h"
#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/tier.h"
#include "engine/util.h"
#include "server/client.h"
#include "server/client_internal.h"
#include "server/cmd.h"
#include "server/server.h"
#include "server/tiering.h"
#include "server/tiering_internal.h"
#include "server/worker.h"

#define FETCH_BATCH 256    /* KEYS: reads in flight at once */
#define SCAN_MAX_READS 1024 /* SCAN: records read per call at most, whatever COUNT says */
#define SCAN_MIN_READS 64   /* ... and room for at least this many (tier.h: scan's cap) */
#define KEYS_MAX 4096      /* key arguments looked at (a bigger MSET reads the rest itself) */

enum tgf_kind {
    TGF_KEYS,  /* the command's key arguments */
    TGF_SCAN,  /* SCAN in its tier phase */
    TGF_LIST,  /* KEYS */
    TGF_RANDOM /* RANDOMKEY */
};

struct tgf_item {
    struct tier_req req; /* first: item_done casts back */
    struct tgf *f;
    int slot;
    uint64_t t0_ns;      /* when the read was issued (INFO tiers read latency) */
    char *key;           /* TGF_KEYS: owned copy of the key; NULL for reads by loc */
};

struct tgf {
    struct worker_msg msg;  /* posted when the last read of a batch completes */
    struct client *c;
    struct worker *w;
    struct tiering *tg;
    const struct cmd_entry *e;
    enum tgf_kind kind;
    _Atomic int pending;    /* reads in flight (+1 while a batch is issued) */
    int cancelled;          /* the client went away (worker thread only) */
    size_t n;               /* items[0 .. n) */
    struct tgf_item *items; /* never reallocated once a read is issued */
    size_t issued;          /* TGF_LIST: items issued so far */
    size_t batch_from;      /* TGF_LIST: first item of the batch in flight */
    /* the command's arguments, copied when it is suspended */
    int argc;
    struct arg *argv;
    char *argbuf;
    /* listings: keys found, with key bytes in keys[] (offsets until done) */
    struct tiering_listing listing;
    struct tiering_listed *listed;
    size_t nlisted, caplisted;
    char *keys;
    size_t keys_len, keys_cap;
    int db;
    char *pat;              /* KEYS: the pattern (owned), NULL = all */
    size_t plen;
    int64_t now_ms;
};

/* ---- building ------------------------------------------------------------- */

static void fetched_msg(struct worker *w, void *arg);
static void fetched_drop(struct worker *w, void *arg);

static struct tgf *tgf_new(struct client *c, const struct cmd_entry *e, enum tgf_kind kind, size_t nitems)
{
    struct tgf *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->items = calloc(nitems ? nitems : 1, sizeof(*f->items));
    if (!f->items) {
        free(f);
        return NULL;
    }
    f->c = c;
    f->w = c->w;
    f->tg = c->srv->tiering;
    f->e = e;
    f->kind = kind;
    f->db = c->db;
    f->now_ms = c->now_ms;
    /* set before any read is issued: the last completion posts it */
    f->msg.fn = fetched_msg;
    f->msg.drop = fetched_drop;
    f->msg.arg = f;
    return f;
}

static void tgf_free(struct tgf *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->items[i].req.buf);
        free(f->items[i].key);
    }
    free(f->items);
    free(f->argv);
    free(f->argbuf);
    free(f->listed);
    free(f->keys);
    free(f->pat);
    free(f);
}

int tgf_lookup(const struct tgf *f, int slot, int db, const char *key, size_t klen, const void **buf, size_t *len,
               uint64_t *loc, uint64_t *seq)
{
    if (f->kind != TGF_KEYS)
        return ST_EAGAIN;
    for (size_t i = 0; i < f->n; i++) {
        const struct tgf_item *it = &f->items[i];
        if (it->slot != slot || it->req.db != db || it->req.klen != klen || memcmp(it->key, key, klen) != 0)
            continue;
        if (it->req.rc != ST_OK)
            return ST_ENOENT;
        *buf = it->req.buf;
        *len = it->req.len;
        *loc = it->req.loc;
        *seq = it->req.seq;
        return ST_OK;
    }
    return ST_EAGAIN;
}

/* ---- listings: key, type, expiry of records read by location ------------- */

static int listed_add(struct tgf *f, const void *rec, size_t len)
{
    struct tier_rec r;
    size_t used = 0;
    if (tier_rec_decode(rec, len, &r, &used) != ST_OK)
        return 0;
    if (r.expire_ms >= 0 && r.expire_ms <= f->now_ms)
        return 0; /* expired: not listed (the next read of it drops it) */
    if (f->pat && !util_glob_match(f->pat, f->plen, r.key, r.klen, 0))
        return 0;
    if (f->nlisted == f->caplisted) {
        size_t ncap = f->caplisted ? f->caplisted * 2 : 64;
        struct tiering_listed *nl = realloc(f->listed, ncap * sizeof(*nl));
        if (!nl)
            return -1;
        f->listed = nl;
        f->caplisted = ncap;
    }
    if (f->keys_len + r.klen > f->keys_cap) {
        size_t ncap = f->keys_cap ? f->keys_cap * 2 : 4096;
        while (ncap < f->keys_len + r.klen)
            ncap *= 2;
        char *nk = realloc(f->keys, ncap);
        if (!nk)
            return -1;
        f->keys = nk;
        f->keys_cap = ncap;
    }
    memcpy(f->keys + f->keys_len, r.key, r.klen);
    /* key holds an offset until the listing is published */
    f->listed[f->nlisted++] = (struct tiering_listed){ .key = (const char *)(uintptr_t)f->keys_len,
                                                        .klen = r.klen, .type = r.type, .expire_ms = r.expire_ms };
    f->keys_len += r.klen;
    return 0;
}

/* Turns the answers of items [from, to) into listed keys, freeing records. */
static void list_items(struct tgf *f, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        struct tgf_item *it = &f->items[i];
        if (it->req.rc == ST_OK)
            listed_add(f, it->req.buf, it->req.len);
        free(it->req.buf);
        it->req.buf = NULL;
    }
}

static void publish_listing(struct tgf *f)
{
    for (size_t i = 0; i < f->nlisted; i++)
        f->listed[i].key = f->keys + (uintptr_t)f->listed[i].key;
    f->listing.n = f->nlisted;
    f->listing.items = f->listed;
}

/* ---- issuing reads -------------------------------------------------------- */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A read's latency as the server sees it: issue to answer, device or buffer. */
static void item_latency(struct tgf_item *it)
{
    if (it->req.rc == ST_OK)
        lat_add(&it->f->tg->slot[it->slot].lat, mono_ns() - it->t0_ns);
}

static void item_done(struct tier_req *r)
{
    struct tgf_item *it = (struct tgf_item *)r;
    struct tgf *f = it->f;
    item_latency(it);
    if (atomic_fetch_sub_explicit(&f->pending, 1, memory_order_acq_rel) == 1)
        worker_post_msg(f->w, &f->msg);
}

/* Issues items [from, to). Returns 1 when every read was answered at once,
 * 0 when some are pending (the last completion posts f->msg). */
static int issue(struct tgf *f, size_t from, size_t to)
{
    atomic_store_explicit(&f->pending, (int)(to - from) + 1, memory_order_relaxed);
    for (size_t i = from; i < to; i++) {
        struct tgf_item *it = &f->items[i];
        struct tier *t = f->tg->slot[it->slot].t;
        it->f = f;
        it->req.done = item_done;
        it->t0_ns = mono_ns();
        int rc = it->key ? t->index->fetch(t, &it->req) : t->index->fetch_at(t, &it->req);
        if (rc != ST_EPENDING) {
            it->req.rc = rc;
            item_latency(it);
            atomic_fetch_sub_explicit(&f->pending, 1, memory_order_acq_rel);
        }
    }
    atomic_fetch_add_explicit(&f->tg->fetch_records, to - from, memory_order_relaxed);
    return atomic_fetch_sub_explicit(&f->pending, 1, memory_order_acq_rel) == 1;
}

/* TGF_LIST: issues batches until one is pending (0) or all are done (1). */
static int issue_list(struct tgf *f)
{
    while (f->issued < f->n) {
        size_t from = f->issued, to = from + FETCH_BATCH < f->n ? from + FETCH_BATCH : f->n;
        f->issued = to;
        f->batch_from = from;
        if (!issue(f, from, to))
            return 0;
        list_items(f, from, to);
    }
    return 1;
}

/* ---- completion on the worker ------------------------------------------------ */

static void fetched_msg(struct worker *w, void *arg)
{
    struct tgf *f = arg;
    (void)w;
    if (f->cancelled) {
        tgf_free(f);
        return;
    }
    if (f->kind == TGF_LIST) {
        list_items(f, f->batch_from, f->issued);
        if (!issue_list(f))
            return; /* the next batch is in flight */
    } else if (f->kind != TGF_KEYS) {
        list_items(f, 0, f->n);
    }
    client_wake(f->c);
}

static void fetched_drop(struct worker *w, void *arg)
{
    (void)w;
    tgf_free(arg);
}

static void run_with(struct client *c, struct tgf *f)
{
    if (f->kind != TGF_KEYS)
        publish_listing(f);
    ks_cold.fetched = f;
    client_run(c, f->e);
    tiering_fetch_done();
}

static void fetched_resume(struct client *c, void *ud, enum resume_why why)
{
    struct tgf *f = ud;
    if (why == RESUME_CANCEL) {
        /* reads may still be in flight, or the message queued: whoever
         * delivers it frees f (invariant 1) */
        f->cancelled = 1;
        return;
    }
    struct arg *own = c->argv;
    c->argv = f->argv;
    c->argc = f->argc;
    f->argv = NULL;
    run_with(c, f);
    free(c->argv);
    c->argv = own;
}

/* Copies the command's arguments into f (they point into the query buffer,
 * which may move while the client waits). */
static int save_args(struct tgf *f, const struct client *c)
{
    size_t total = 0;
    for (int i = 0; i < c->argc; i++)
        total += c->argv[i].len;
    f->argv = malloc(sizeof(*f->argv) * (size_t)c->argc);
    f->argbuf = malloc(total ? total : 1);
    if (!f->argv || !f->argbuf)
        return ST_ENOMEM;
    size_t off = 0;
    for (int i = 0; i < c->argc; i++) {
        memcpy(f->argbuf + off, c->argv[i].p, c->argv[i].len);
        f->argv[i].p = f->argbuf + off;
        f->argv[i].len = c->argv[i].len;
        off += c->argv[i].len;
    }
    f->argc = c->argc;
    return ST_OK;
}

/* Runs f's command now (ready: every read was answered at once) or suspends
 * c until the reads complete. Either way the caller must not run it. */
static int start(struct client *c, struct tgf *f, int ready)
{
    if (ready) {
        if (f->kind == TGF_SCAN || f->kind == TGF_RANDOM)
            list_items(f, 0, f->n);
        run_with(c, f);
        return TIERING_SUSPENDED;
    }
    /* Suspend now: the message handler runs on this thread, after this
     * returns, so it always finds c suspended (or f cancelled). */
    if (save_args(f, c) != ST_OK || client_suspend(c, fetched_resume, f, 0) != ST_OK) {
        /* cannot wait: the reads finish into f, which the message frees, and
         * the command runs now, reading what it needs itself */
        f->cancelled = 1;
        return TIERING_RUN;
    }
    atomic_fetch_add_explicit(&f->tg->fetch_suspended, 1, memory_order_relaxed);
    return TIERING_SUSPENDED;
}

/* ---- which keys a command names ------------------------------------------- */

struct keyref {
    int db;
    const char *p;
    size_t len;
};

/* Argument index of numkeys for the commands whose keys move (CMD_MOVABLE),
 * 0 for none. */
static int numkeys_at(const char *name)
{
    static const struct {
        const char *name;
        int at;
    } t[] = {
        { "lmpop", 1 },       { "blmpop", 2 },      { "sintercard", 1 }, { "zmpop", 1 },
        { "bzmpop", 2 },      { "zunion", 1 },      { "zinter", 1 },     { "zdiff", 1 },
        { "zintercard", 1 },  { "zunionstore", 2 }, { "zinterstore", 2 }, { "zdiffstore", 2 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(t[i].name, name) == 0)
            return t[i].at;
    return 0;
}

static void add_key(struct keyref *keys, size_t *n, int db, const struct arg *a)
{
    if (*n >= KEYS_MAX)
        return;
    for (size_t i = 0; i < *n; i++)
        if (keys[i].db == db && keys[i].len == a->len && memcmp(keys[i].p, a->p, a->len) == 0)
            return;
    keys[(*n)++] = (struct keyref){ .db = db, .p = a->p, .len = a->len };
}

/* The (db, key) pairs e names in c's arguments. */
static size_t command_keys(struct client *c, const struct cmd_entry *e, struct keyref *keys)
{
    const struct cmd_def *d = e->def;
    size_t n = 0;
    if (d->first_key > 0) {
        int last = d->last_key < 0 ? c->argc + d->last_key : d->last_key;
        int step = d->key_step > 0 ? d->key_step : 1;
        for (int i = d->first_key; i <= last && i < c->argc; i += step)
            add_key(keys, &n, c->db, &c->argv[i]);
    }
    if (d->flags & CMD_MOVABLE) {
        int at = numkeys_at(e->fullname);
        long long nk = 0;
        if (at > 0 && at < c->argc && util_str2ll(c->argv[at].p, c->argv[at].len, &nk) == 0 && nk > 0 &&
            nk <= c->argc - at - 1)
            for (long long i = 0; i < nk; i++)
                add_key(keys, &n, c->db, &c->argv[at + 1 + i]);
    }
    /* MOVE key db, COPY src dst DB db: the target lives in another db */
    struct tiering *tg = c->srv->tiering;
    long long db = -1;
    if (e == tg->cmd_move && c->argc == 3)
        util_str2ll(c->argv[2].p, c->argv[2].len, &db);
    if (e == tg->cmd_copy)
        for (int i = 3; i + 1 < c->argc; i++)
            if (c->argv[i].len == 2 && (c->argv[i].p[0] | 32) == 'd' && (c->argv[i].p[1] | 32) == 'b')
                util_str2ll(c->argv[i + 1].p, c->argv[i + 1].len, &db);
    if (db >= 0 && db < (long long)c->srv->cfg.databases)
        add_key(keys, &n, (int)db, &c->argv[e == tg->cmd_move ? 1 : 2]);
    return n;
}

/* Is key in DRAM already (an entry or a stub)? */
static int in_dram(struct keyspace *ks, int db, const struct keyref *k, int64_t now_ms)
{
    struct ks_key kk;
    ks_key_init(ks, &kk, k->p, k->len);
    ks_lock(ks, kk.shard);
    int found = ks_find_ref(ks, db, &kk, now_ms, KS_F_NOTOUCH | KS_F_STUB | KS_F_NOMISS) != NULL;
    ks_unlock(ks, kk.shard);
    return found;
}

static int fetch_keys(struct client *c, const struct cmd_entry *e)
{
    struct tiering *tg = c->srv->tiering;
    struct keyref stack[16], *keys = stack;
    int nargs = c->argc;
    if (nargs > 16) {
        keys = malloc(sizeof(*keys) * (size_t)(nargs < KEYS_MAX ? nargs : KEYS_MAX));
        if (!keys)
            return TIERING_RUN; /* the worker reads what it needs itself */
    }
    size_t n = command_keys(c, e, keys), want = 0;
    /* which (tier, key) pairs need a read: a probe says maybe, DRAM has not */
    unsigned char need[TIERING_MAX * 16];
    int big = n * (size_t)tg->n > sizeof(need);
    unsigned char *needp = big ? calloc(n * (size_t)tg->n, 1) : need;
    if (!needp) {
        if (keys != stack)
            free(keys);
        return TIERING_RUN;
    }
    for (size_t i = 0; i < n; i++) {
        int dram = -1;
        for (int s = 0; s < tg->n; s++) {
            needp[i * (size_t)tg->n + (size_t)s] = 0;
            struct tier *t = tg->slot[s].t;
            if (!tg->slot[s].indexed || !t->index->probe(t, keys[i].db, keys[i].p, keys[i].len))
                continue;
            if (dram < 0)
                dram = in_dram(c->srv->ks, keys[i].db, &keys[i], c->now_ms);
            if (!dram) {
                needp[i * (size_t)tg->n + (size_t)s] = 1;
                want++;
            }
        }
    }
    int rc = TIERING_RUN;
    struct tgf *f = want ? tgf_new(c, e, TGF_KEYS, want) : NULL;
    if (f) {
        for (size_t i = 0; i < n; i++)
            for (int s = 0; s < tg->n; s++) {
                if (!needp[i * (size_t)tg->n + (size_t)s])
                    continue;
                struct tgf_item *it = &f->items[f->n];
                it->key = malloc(keys[i].len ? keys[i].len : 1);
                if (!it->key)
                    continue;
                memcpy(it->key, keys[i].p, keys[i].len);
                it->slot = s;
                it->req.db = keys[i].db;
                it->req.key = it->key;
                it->req.klen = (uint32_t)keys[i].len;
                f->n++;
            }
        rc = start(c, f, issue(f, 0, f->n));
    }
    if (big)
        free(needp);
    if (keys != stack)
        free(keys);
    return rc;
}

/* ---- multi-key commands: no promotion between their lookups ------------- */

void tiering_command_begin(struct client *c, const struct cmd_entry *e)
{
    const struct cmd_def *d = e->def;
    int multi = (d->flags & CMD_MOVABLE) || (d->first_key > 0 && d->last_key != d->first_key);
    /* TIER DEMOTE and PROMOTE move keys between tiers themselves, one at a
     * time, holding no link: nothing to prepare (and pins would stop them) */
    if (!multi || (e->parent && strcmp(e->parent->name, "tier") == 0))
        return;
    if (!(d->flags & CMD_WRITE)) {
        ks_cold.no_admit = 1; /* reads lend: the table does not change under them */
        return;
    }
    struct keyspace *ks = c->srv->ks;
    struct keyref stack[16], *keys = stack;
    if (c->argc > 16) {
        keys = malloc(sizeof(*keys) * (size_t)(c->argc < KEYS_MAX ? c->argc : KEYS_MAX));
        if (!keys)
            return; /* cannot prepare: the command runs as it would without tiers' help */
    }
    size_t n = command_keys(c, e, keys);
    if (n >= 2 && c->pins_cap < n) {
        unsigned *np = realloc(c->pins, n * sizeof(*np));
        if (np) {
            c->pins = np;
            c->pins_cap = (unsigned)n;
        }
    }
    for (size_t i = 0; n >= 2 && i < n && c->npins < c->pins_cap; i++) {
        struct ks_key k;
        ks_key_init(ks, &k, keys[i].p, keys[i].len);
        ks_lock(ks, k.shard);
        /* a write lookup promotes a stub now, before any link is held */
        ks_find_ref(ks, keys[i].db, &k, c->now_ms, KS_F_NOTOUCH | KS_F_NOMISS);
        ks->shards[k.shard].pins++;
        ks_unlock(ks, k.shard);
        c->pins[c->npins++] = k.shard;
    }
    if (keys != stack)
        free(keys);
}

void tiering_command_end(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    ks_cold.no_admit = 0;
    for (unsigned i = 0; i < c->npins; i++) {
        ks_lock(ks, c->pins[i]);
        ks->shards[c->pins[i]].pins--;
        ks_unlock(ks, c->pins[i]);
    }
    c->npins = 0;
}

/* ---- SCAN, KEYS, RANDOMKEY ------------------------------------------------ */

static int parse_cursor(const struct arg *a, uint64_t *out)
{
    uint64_t v = 0;
    if (a->len == 0 || a->len > 20)
        return -1;
    for (size_t i = 0; i < a->len; i++) {
        if (a->p[i] < '0' || a->p[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(a->p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int next_indexed(const struct tiering *tg, int after)
{
    for (int s = after + 1; s < tg->n; s++)
        if (tg->slot[s].indexed)
            return s;
    return -1;
}

/* SCAN in its tier phase (cursor 0, or a tier cursor: tiering.h). */
static int fetch_scan(struct client *c, const struct cmd_entry *e)
{
    struct tiering *tg = c->srv->tiering;
    uint64_t cursor = 0;
    if (c->argc < 2 || parse_cursor(&c->argv[1], &cursor) != 0 || (cursor & TIERING_SCAN_DRAM))
        return TIERING_RUN;
    long long count = 10;
    for (int i = 2; i + 1 < c->argc; i += 2)
        if (c->argv[i].len == 5 && strncasecmp(c->argv[i].p, "count", 5) == 0)
            util_str2ll(c->argv[i + 1].p, c->argv[i + 1].len, &count);
    if (count < 1)
        return TIERING_RUN; /* the command answers the syntax error */
    size_t cap = count > SCAN_MAX_READS ? SCAN_MAX_READS : count < SCAN_MIN_READS ? SCAN_MIN_READS : (size_t)count;
    int slot = cursor ? (int)((cursor >> 60) & 7) : next_indexed(tg, -1);
    uint64_t tcur = cursor & ((1ull << 60) - 1);
    if (slot < 0 || slot >= tg->n || !tg->slot[slot].indexed)
        return TIERING_RUN; /* not a cursor of ours: the command walks DRAM */
    struct tgf *f = tgf_new(c, e, TGF_SCAN, cap);
    uint64_t *locs = f ? malloc(cap * sizeof(*locs)) : NULL;
    if (!locs) {
        tgf_free(f);
        return TIERING_RUN;
    }
    struct tier *t = tg->slot[slot].t;
    size_t got = 0;
    uint64_t next = t->index->scan(t, c->db, tcur, locs, cap, &got);
    if (next >= (1ull << 60))
        next = 0; /* never hand out a cursor that would not read back */
    int following = next ? slot : next_indexed(tg, slot);
    f->listing.next_cursor = following < 0 ? 0 : (uint64_t)following << 60 | (following == slot ? next : 0);
    if (f->listing.next_cursor == 0 && following >= 0)
        f->listing.next_cursor = 0; /* slot 0, cursor 0 would read as "start": cannot happen mid-walk */
    for (size_t i = 0; i < got; i++) {
        f->items[f->n].slot = slot;
        f->items[f->n].req.db = c->db;
        f->items[f->n].req.loc = locs[i];
        f->n++;
    }
    free(locs);
    return start(c, f, issue(f, 0, f->n));
}

static int fetch_list(struct client *c, const struct cmd_entry *e)
{
    struct tiering *tg = c->srv->tiering;
    uint64_t *locs = NULL;
    size_t nlocs = 0, cap = 0;
    int *slots = NULL;
    for (int s = 0; s < tg->n; s++) {
        if (!tg->slot[s].indexed)
            continue;
        struct tier *t = tg->slot[s].t;
        uint64_t cursor = 0;
        do {
            if (nlocs + SCAN_MAX_READS > cap) {
                size_t ncap = cap ? cap * 2 : 4096;
                uint64_t *nl = realloc(locs, ncap * sizeof(*nl));
                int *ns = realloc(slots, ncap * sizeof(*ns));
                if (nl)
                    locs = nl;
                if (ns)
                    slots = ns;
                if (!nl || !ns)
                    goto oom;
                cap = ncap;
            }
            size_t got = 0;
            cursor = t->index->scan(t, c->db, cursor, locs + nlocs, SCAN_MAX_READS, &got);
            for (size_t i = 0; i < got; i++)
                slots[nlocs + i] = s;
            nlocs += got;
        } while (cursor != 0);
    }
    if (nlocs == 0) {
        free(locs);
        free(slots);
        return TIERING_RUN;
    }
    struct tgf *f = tgf_new(c, e, TGF_LIST, nlocs);
    if (!f)
        goto oom;
    if (!(c->argv[1].len == 1 && c->argv[1].p[0] == '*')) {
        f->pat = malloc(c->argv[1].len ? c->argv[1].len : 1);
        if (!f->pat) {
            tgf_free(f);
            goto oom;
        }
        memcpy(f->pat, c->argv[1].p, c->argv[1].len);
        f->plen = c->argv[1].len;
    }
    for (size_t i = 0; i < nlocs; i++) {
        f->items[i].slot = slots[i];
        f->items[i].req.db = c->db;
        f->items[i].req.loc = locs[i];
    }
    f->n = nlocs;
    free(locs);
    free(slots);
    if (issue_list(f)) {
        run_with(c, f); /* every batch answered at once */
        return TIERING_SUSPENDED;
    }
    return start(c, f, 0);
oom:
    free(locs);
    free(slots);
    return TIERING_RUN; /* KEYS then lists DRAM only */
}

static int fetch_random(struct client *c, const struct cmd_entry *e)
{
    struct tiering *tg = c->srv->tiering;
    uint64_t tier_keys = 0;
    tiering_db_counts(tg, c->db, &tier_keys, NULL);
    if (tier_keys == 0)
        return TIERING_RUN;
    uint64_t dram = ks_dbsize(c->srv->ks, c->db);
    uint64_t pick = util_rng_next(&c->w->rng) % (dram + tier_keys);
    if (pick < dram)
        return TIERING_RUN; /* a DRAM key, as without tiers */
    pick -= dram;
    int slot = -1;
    for (int s = 0; s < tg->n && slot < 0; s++) {
        if (!tg->slot[s].indexed)
            continue;
        uint64_t k = 0;
        tg->slot[s].t->index->db_counts(tg->slot[s].t, c->db, &k, NULL);
        if (pick < k)
            slot = s;
        else
            pick -= k;
    }
    if (slot < 0)
        return TIERING_RUN;
    uint64_t loc = 0;
    struct tier *t = tg->slot[slot].t;
    if (t->index->random(t, c->db, util_rng_next(&c->w->rng), &loc) != ST_OK)
        return TIERING_RUN;
    struct tgf *f = tgf_new(c, e, TGF_RANDOM, 1);
    if (!f)
        return TIERING_RUN;
    f->items[0].slot = slot;
    f->items[0].req.db = c->db;
    f->items[0].req.loc = loc;
    f->n = 1;
    return start(c, f, issue(f, 0, 1));
}

/* ---- the entry points ------------------------------------------------------ */

int tiering_fetch_ahead(struct client *c, const struct cmd_entry *e)
{
    struct tiering *tg = c->srv->tiering;
    if (!tg || !tg->nindexed)
        return TIERING_RUN;
    if (!tg->cmd_scan) {
        /* first use: find the listing commands in the registry */
        const struct cmd_table *ct = c->srv->cmds;
        tg->cmd_scan = cmd_lookup(ct, "scan", 4);
        tg->cmd_keys = cmd_lookup(ct, "keys", 4);
        tg->cmd_randomkey = cmd_lookup(ct, "randomkey", 9);
        tg->cmd_move = cmd_lookup(ct, "move", 4);
        tg->cmd_copy = cmd_lookup(ct, "copy", 4);
    }
    if (e == tg->cmd_scan)
        return fetch_scan(c, e);
    if (e == tg->cmd_keys)
        return c->argc == 2 ? fetch_list(c, e) : TIERING_RUN;
    if (e == tg->cmd_randomkey)
        return fetch_random(c, e);
    if (e->def->first_key <= 0 && !(e->def->flags & CMD_MOVABLE))
        return TIERING_RUN;
    return fetch_keys(c, e);
}

void tiering_fetch_done(void)
{
    struct tgf *f = ks_cold.fetched;
    ks_cold.fetched = NULL;
    tgf_free(f);
}

const struct tiering_listing *tiering_listing(void)
{
    const struct tgf *f = ks_cold.fetched;
    if (!f || f->kind == TGF_KEYS)
        return NULL;
    return &f->listing;
}

void tiering_drain(struct tiering *tg)
{
    if (!tg)
        return;
    for (int s = 0; s < tg->n; s++)
        if (tg->slot[s].indexed && tg->slot[s].t->index->drain)
            tg->slot[s].t->index->drain(tg->slot[s].t);
}
