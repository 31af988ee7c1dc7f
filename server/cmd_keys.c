/*
 * cmd_keys.c -- the generic key commands: DEL UNLINK EXISTS TYPE, the EXPIRE
 * family and TTL family, PERSIST, KEYS SCAN RANDOMKEY, RENAME RENAMENX COPY
 * MOVE TOUCH, OBJECT, and the database-wide DBSIZE FLUSHDB FLUSHALL SWAPDB.
 *
 * Owns: argument parsing and replies of these commands, with Redis 7.0's
 * texts and reply types. Does not own: storage, expiry or locking rules (the
 * keyspace, engine/keyspace.h), SELECT (cmd_conn.c).
 *
 * Threads: every handler runs on the calling client's worker. Keys live in
 * shards guarded by mutexes; a handler holds the locks of exactly the shards
 * it touches for the duration of its lookups and changes, never across a
 * reply that depends on another shard's later state.
 *
 * Invariants:
 *  1. Multi-key commands (DEL UNLINK EXISTS TOUCH RENAME RENAMENX COPY) lock
 *     all their keys' shards at once (ks_lock_keys, ascending order), so each
 *     is atomic with respect to every other command.
 *  2. A link returned by ks_find_ref is used only before the next call that
 *     may change the same table (another ks_find_ref performs a rehash step
 *     and may lazily delete): commands that look up two keys look the first
 *     one up again before unlinking it. Entry pointers (not links) stay valid
 *     across lookups of other keys while the lock is held.
 *  3. KEYS returns each live key exactly once: it walks each shard's table
 *     with ht_scan while holding that shard's lock for the whole walk and
 *     without modifying the table (expired keys are skipped, not deleted, as
 *     Redis 7.0's KEYS does). On a table that does not change, the
 *     reverse-binary cursor visits every bucket exactly once -- also while a
 *     rehash is in progress, because each step covers one bucket of the small
 *     table together with all of its expansions in the large one -- and a key
 *     lives in exactly one shard. ks_scan cannot give that guarantee: it may
 *     release the lock between calls and deletes expired keys mid-walk (a
 *     rehash step), which allows duplicates; that is fine for SCAN (whose
 *     contract is "at least once") but not for KEYS, so KEYS does not use it.
 *  4. RENAME and MOVE move the value, never copy it: the entry is unlinked
 *     and relinked; only a key of a different length forces a new header
 *     allocation, and the type object (ENC_PTR) changes owner without a deep
 *     copy. COPY deep-copies (entry_dup). All three keep the expiry.
 *
 * Keyspace hits/misses are counted exactly where Redis's lookupKeyRead*
 * counts them: EXISTS, TYPE, TTL PTTL EXPIRETIME PEXPIRETIME, TOUCH, OBJECT
 * subcommands, COPY's source and SCAN's TYPE filter. Write lookups (DEL,
 * EXPIRE, PERSIST, RENAME, MOVE) count nothing. Lookups touch the LRU clock
 * as Redis's do, unless the client set CLIENT NO-TOUCH (TOUCH itself always
 * touches).
 *
 * References: Redis 7.0 src/db.c, src/expire.c, src/object.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/entry.h"
#include "engine/err.h"
#include "engine/ht.h"
#include "engine/evict.h"
#include "engine/keyspace.h"
#include "engine/util.h"
#include "server/persist.h"
#include "server/blocking.h"
#include "server/client.h"
#include "server/cmd.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/tiering.h"
#include "server/stats.h"
#include "server/worker.h"

#define KEYS_ERR_NOKEY "ERR no such key"
#define KEYS_ERR_SAMEOBJ "ERR source and destination objects are the same"

/* ---- helpers ---- */

/* Lookup flags for a lookup that touches the key as Redis's lookupKey does. */
static int keys_touch_flags(const struct client *c)
{
    return (c->flags & CLIENT_NO_TOUCH) ? KS_F_NOTOUCH : 0;
}

static void keys_stat(struct client *c, uint64_t hits, uint64_t misses)
{
    if (!c->w)
        return;
    if (hits)
        STAT_ADD(c->w->stats.keyspace_hits, hits);
    if (misses)
        STAT_ADD(c->w->stats.keyspace_misses, misses);
}

static int keys_arg_eq(const struct arg *a, const char *lit)
{
    return util_eqi(a->p, a->len, lit);
}

/* Parses an int argument as Redis's getIntFromObject does. Returns 0, -1
 * (not an integer) or -2 (an integer outside the int range). */
static int keys_parse_int(const struct arg *a, int *out)
{
    long long v;
    if (util_str2ll(a->p, a->len, &v) != 0)
        return -1;
    if (v < INT_MIN || v > INT_MAX)
        return -2;
    *out = (int)v;
    return 0;
}

/* Parses an int argument, replying Redis 7.0's getIntFromObjectOrReply
 * errors. Returns 0, or -1 after replying. */
static int keys_parse_int_or_reply(struct client *c, const struct arg *a, int *out)
{
    int rc = keys_parse_int(a, out);
    if (rc == -1)
        reply_err_notint(c);
    else if (rc == -2)
        reply_error(c, "ERR value is out of range, value must between -2147483648 and 2147483647");
    return rc == 0 ? 0 : -1;
}

static int keys_db_valid(const struct client *c, int db)
{
    return db >= 0 && (unsigned)db < c->srv->ks->databases;
}

/* Keys argv[from .. c->argc) as ks_keys. Uses stack (room for n_stack keys)
 * when it fits, else allocates; returns the array or NULL (out of memory).
 * Release with keys_keyset_free. */
static struct ks_key *keys_keyset(struct client *c, int from, struct ks_key *stack, size_t n_stack)
{
    size_t n = (size_t)(c->argc - from);
    struct ks_key *k = n <= n_stack ? stack : malloc(n * sizeof(*k));
    if (!k)
        return NULL;
    for (size_t i = 0; i < n; i++)
        ks_key_init(c->srv->ks, &k[i], c->argv[from + (int)i].p, c->argv[from + (int)i].len);
    return k;
}

static void keys_keyset_free(struct ks_key *k, struct ks_key *stack)
{
    if (k != stack)
        free(k);
}

/* ---- DEL UNLINK EXISTS TOUCH ---- */

/* DEL and UNLINK: entries are freed synchronously in both (single values
 * are freed fast; only flushed tables go to the lazyfree thread). */
static void keys_del_generic(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[16];
    struct ks_key *k = keys_keyset(c, 1, stack, 16);
    size_t n = (size_t)(c->argc - 1);
    long long deleted = 0;

    if (!k) {
        reply_err_nomem(c);
        return;
    }
    ks_lock_keys(ks, k, n);
    for (size_t i = 0; i < n; i++) {
        /* a cold key is deleted as its stub: its record goes, unread */
        struct entry **ref = ks_find_ref(ks, c->db, &k[i], c->now_ms, KS_F_NOTOUCH | KS_F_STUB);
        if (ref) {
            ks_delete_ref(ks, c->db, &k[i], ref);
            deleted++;
        }
    }
    ks_unlock_keys(ks, k, n);
    keys_keyset_free(k, stack);
    reply_int(c, deleted);
}

static void cmd_del(struct client *c)
{
    keys_del_generic(c);
}

static void cmd_unlink(struct client *c)
{
    keys_del_generic(c);
}

/* EXISTS (NOTOUCH) and TOUCH (touch): count the keys that exist, repeated
 * keys counted each time. */
static void keys_exists_generic(struct client *c, int flags)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key stack[16];
    struct ks_key *k = keys_keyset(c, 1, stack, 16);
    size_t n = (size_t)(c->argc - 1);
    long long found = 0;

    if (!k) {
        reply_err_nomem(c);
        return;
    }
    ks_lock_keys(ks, k, n);
    for (size_t i = 0; i < n; i++)
        if (ks_find_ref(ks, c->db, &k[i], c->now_ms, flags | KS_F_STUB))
            found++;
    ks_unlock_keys(ks, k, n);
    keys_keyset_free(k, stack);
    keys_stat(c, (uint64_t)found, n - (uint64_t)found);
    reply_int(c, found);
}

static void cmd_exists(struct client *c)
{
    keys_exists_generic(c, KS_F_NOTOUCH);
}

static void cmd_touch(struct client *c)
{
    /* A key of an indexed tier has no stub to record the access on: TOUCH
     * brings it back to DRAM, where it counts (engine/keyspace.h) -- and
     * under tier-demote-on-write (all-cold) sends it back, as a write would. */
    ks_cold.readonly = 0;
    if (c->srv->tiering && cfg_load(c->srv->cfg.tier_demote_on_write))
        ks_cold.track = 1;
    keys_exists_generic(c, 0);
}

/* ---- TYPE ---- */

static void cmd_type(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    const char *name = "none";

    ks_key_init(ks, &k, c->argv[1].p, c->argv[1].len);
    ks_lock(ks, k.shard);
    struct entry **ref = ks_find_ref(ks, c->db, &k, c->now_ms, KS_F_NOTOUCH | KS_F_STUB);
    if (ref)
        name = entry_type_name((*ref)->type);
    ks_unlock(ks, k.shard);
    keys_stat(c, ref != NULL, ref == NULL);
    reply_simple(c, name);
}

/* ---- EXPIRE PEXPIRE EXPIREAT PEXPIREAT ---- */

#define EXPIRE_NX 0x1
#define EXPIRE_XX 0x2
#define EXPIRE_GT 0x4
#define EXPIRE_LT 0x8

/* Parses the NX|XX|GT|LT options from argv[3..]. Replies and returns -1 on
 * error (Redis's parseExtendedExpireArgumentsOrReply). */
static int keys_expire_flags(struct client *c, int *flags)
{
    *flags = 0;
    for (int j = 3; j < c->argc; j++) {
        const struct arg *a = &c->argv[j];
        if (keys_arg_eq(a, "nx")) {
            *flags |= EXPIRE_NX;
        } else if (keys_arg_eq(a, "xx")) {
            *flags |= EXPIRE_XX;
        } else if (keys_arg_eq(a, "gt")) {
            *flags |= EXPIRE_GT;
        } else if (keys_arg_eq(a, "lt")) {
            *flags |= EXPIRE_LT;
        } else {
            reply_errorf(c, "ERR Unsupported option %.*s", (int)a->len, a->p);
            return -1;
        }
    }
    if ((*flags & EXPIRE_NX) && (*flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((*flags & EXPIRE_GT) && (*flags & EXPIRE_LT)) {
        reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return -1;
    }
    return 0;
}

/* basetime: now for the relative forms, 0 for the *AT forms (ms). */
static void keys_expire_generic(struct client *c, long long basetime, int unit_seconds)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    long long when;
    int flags;
    long long reply = 0;
    int oom = 0;

    if (keys_expire_flags(c, &flags) != 0)
        return;
    if (util_str2ll(c->argv[2].p, c->argv[2].len, &when) != 0) {
        reply_err_notint(c);
        return;
    }
    /* negative values are allowed; overflow is not */
    if (unit_seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)
            goto bad_time;
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime)
        goto bad_time;
    when += basetime;

    ks_key_init(ks, &k, c->argv[1].p, c->argv[1].len);
    ks_lock(ks, k.shard);
    /* expiry lives in the stub: a cold key stays cold */
    struct entry **ref = ks_find_ref(ks, c->db, &k, c->now_ms, keys_touch_flags(c) | KS_F_STUB);
    if (!ref)
        goto out;
    int64_t cur = entry_expire(*ref);
    if ((flags & EXPIRE_NX) && cur != -1)
        goto out;
    if ((flags & EXPIRE_XX) && cur == -1)
        goto out;
    /* no expiry counts as an infinite one: GT always fails, LT succeeds */
    if ((flags & EXPIRE_GT) && (cur == -1 || when <= cur))
        goto out;
    if ((flags & EXPIRE_LT) && cur != -1 && when >= cur)
        goto out;
    if (when <= c->now_ms) {
        ks_delete_ref(ks, c->db, &k, ref);
        reply = 1;
    } else if (ks_set_expire(ks, c->db, &k, ref, when) == ST_OK) {
        reply = 1;
    } else {
        oom = 1;
    }
out:
    ks_unlock(ks, k.shard);
    if (oom)
        reply_err_nomem(c);
    else
        reply_int(c, reply);
    return;

bad_time:
    reply_errorf(c, "ERR invalid expire time in '%s' command", client_cmd_name(c));
}

static void cmd_expire(struct client *c)
{
    keys_expire_generic(c, c->now_ms, 1);
}

static void cmd_pexpire(struct client *c)
{
    keys_expire_generic(c, c->now_ms, 0);
}

static void cmd_expireat(struct client *c)
{
    keys_expire_generic(c, 0, 1);
}

static void cmd_pexpireat(struct client *c)
{
    keys_expire_generic(c, 0, 0);
}

/* ---- TTL PTTL EXPIRETIME PEXPIRETIME PERSIST ---- */

static void keys_ttl_generic(struct client *c, int output_ms, int output_abs)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    int64_t expire = -1;

    ks_key_init(ks, &k, c->argv[1].p, c->argv[1].len);
    ks_lock(ks, k.shard);
    struct entry **ref = ks_find_ref(ks, c->db, &k, c->now_ms, KS_F_NOTOUCH | KS_F_STUB);
    if (ref)
        expire = entry_expire(*ref);
    ks_unlock(ks, k.shard);
    keys_stat(c, ref != NULL, ref == NULL);
    if (!ref) {
        reply_int(c, -2);
        return;
    }
    if (expire == -1) {
        reply_int(c, -1);
        return;
    }
    long long ttl = output_abs ? expire : expire - c->now_ms;
    if (ttl < 0)
        ttl = 0;
    reply_int(c, output_ms ? ttl : (ttl + 500) / 1000);
}

static void cmd_ttl(struct client *c)
{
    keys_ttl_generic(c, 0, 0);
}

static void cmd_pttl(struct client *c)
{
    keys_ttl_generic(c, 1, 0);
}

static void cmd_expiretime(struct client *c)
{
    keys_ttl_generic(c, 0, 1);
}

static void cmd_pexpiretime(struct client *c)
{
    keys_ttl_generic(c, 1, 1);
}

static void cmd_persist(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    int rc = 0;

    ks_key_init(ks, &k, c->argv[1].p, c->argv[1].len);
    ks_lock(ks, k.shard);
    struct entry **ref = ks_find_ref(ks, c->db, &k, c->now_ms, keys_touch_flags(c) | KS_F_STUB);
    if (ref && entry_expire(*ref) != -1)
        rc = ks_set_expire(ks, c->db, &k, ref, -1) == ST_OK ? 1 : -1;
    ks_unlock(ks, k.shard);
    if (rc < 0)
        reply_err_nomem(c);
    else
        reply_int(c, rc);
}

/* ---- KEYS ---- */

struct keys_walk {
    struct client *c;
    const char *pat;
    size_t plen;
    int allkeys;
    int64_t now_ms;
    long n;
};

static void keys_keys_visit(struct entry *e, void *ud)
{
    struct keys_walk *w = ud;
    if ((e->flags & ENTRY_F_EXPIRE) && entry_expire(e) <= w->now_ms)
        return; /* logically gone; left for lazy/active expiry (invariant 3) */
    const char *key = entry_key(e);
    if (!w->allkeys && !util_glob_match(w->pat, w->plen, key, e->klen, 0))
        return;
    reply_bulk(w->c, key, e->klen);
    w->n++;
}

/* KEYS pattern: see invariant 3 for why each key appears exactly once. The
 * walk holds one shard lock at a time, so KEYS blocks writers of one shard
 * at a time rather than the whole server (Redis blocks everything). */
static void cmd_keys(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct keys_walk w = {
        .c = c,
        .pat = c->argv[1].p,
        .plen = c->argv[1].len,
        .allkeys = c->argv[1].len == 1 && c->argv[1].p[0] == '*',
        .now_ms = c->now_ms,
        .n = 0,
    };
    size_t mark = reply_defer(c);

    for (unsigned s = 0; s < ks->nshards; s++) {
        ks_lock(ks, s);
        struct ht *ht = &ks->shards[s].db[c->db].ht;
        uint64_t cursor = 0;
        do {
            cursor = ht_scan(ht, cursor, keys_keys_visit, &w);
        } while (cursor != 0);
        ks_unlock(ks, s);
    }
    /* keys of indexed tiers, read ahead (tiering_fetch.c), already filtered
     * by the pattern; one promoted since is listed from DRAM above */
    const struct tiering_listing *tl = tiering_listing();
    for (size_t i = 0; tl && i < tl->n; i++) {
        struct ks_key k;
        ks_key_init(ks, &k, tl->items[i].key, tl->items[i].klen);
        ks_lock(ks, k.shard);
        int dram = ks_find_ref(ks, c->db, &k, c->now_ms, KS_F_NOTOUCH | KS_F_STUB | KS_F_NOMISS) != NULL;
        ks_unlock(ks, k.shard);
        if (dram)
            continue;
        reply_bulk(c, tl->items[i].key, tl->items[i].klen);
        w.n++;
    }
    reply_defer_set(c, mark, '*', w.n);
}

/* ---- SCAN ---- */

/* Parses a SCAN cursor exactly as Redis's parseScanCursorOrReply: strtoull
 * on the whole argument, no leading space, no overflow. Returns 0 or -1. */
static int keys_parse_cursor(const struct arg *a, uint64_t *out)
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

struct keys_scan {
    struct client *c;
    const struct arg *pat;     /* NULL: no MATCH (or MATCH *) */
    const struct arg *type;    /* NULL: no TYPE */
    char *buf;                 /* collected keys: [u32 len][bytes] ... */
    size_t len, cap;
    long n;
    uint64_t hits;             /* TYPE checks (Redis counts them as reads) */
    int oom;
};

static void keys_scan_add(struct keys_scan *s, const char *key, uint32_t klen);

static void keys_scan_visit(const struct entry *e, void *ud)
{
    struct keys_scan *s = ud;
    const char *key = entry_key(e);
    uint32_t klen = e->klen;

    if (s->oom)
        return;
    if (s->pat && !util_glob_match(s->pat->p, s->pat->len, key, klen, 0))
        return;
    if (s->type) {
        s->hits++;
        if (!util_eqi(s->type->p, s->type->len, entry_type_name(e->type)))
            return;
    }
    keys_scan_add(s, key, klen);
}

static void keys_scan_add(struct keys_scan *s, const char *key, uint32_t klen)
{
    size_t need = s->len + sizeof(klen) + klen;
    if (need > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 1024;
        while (ncap < need)
            ncap *= 2;
        char *nb = realloc(s->buf, ncap);
        if (!nb) {
            s->oom = 1;
            return;
        }
        s->buf = nb;
        s->cap = ncap;
    }
    memcpy(s->buf + s->len, &klen, sizeof(klen));
    memcpy(s->buf + s->len + sizeof(klen), key, klen);
    s->len = need;
    s->n++;
}

/* A key of an indexed tier for SCAN: the same filters as keys_scan_visit. */
static void keys_scan_listed(struct keys_scan *s, const struct tiering_listed *l)
{
    if (s->oom)
        return;
    if (s->pat && !util_glob_match(s->pat->p, s->pat->len, l->key, l->klen, 0))
        return;
    if (s->type) {
        s->hits++;
        if (!util_eqi(s->type->p, s->type->len, entry_type_name(l->type)))
            return;
    }
    keys_scan_add(s, l->key, l->klen);
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. Filtering happens
 * as keys are collected, which gives the same pages as Redis's filtering
 * after collection: COUNT bounds the work, not the reply, so a page may be
 * empty with a non-zero cursor. */
static void cmd_scan(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct keys_scan s = { .c = c };
    uint64_t cursor;
    long long count = 10;

    if (keys_parse_cursor(&c->argv[1], &cursor) != 0) {
        reply_error(c, "ERR invalid cursor");
        return;
    }
    for (int i = 2; i < c->argc; i += 2) {
        const struct arg *a = &c->argv[i];
        int more = c->argc - i >= 2;
        if (more && keys_arg_eq(a, "count")) {
            if (util_str2ll(c->argv[i + 1].p, c->argv[i + 1].len, &count) != 0) {
                reply_err_notint(c);
                return;
            }
            if (count < 1) {
                reply_err_syntax(c);
                return;
            }
        } else if (more && keys_arg_eq(a, "match")) {
            const struct arg *p = &c->argv[i + 1];
            s.pat = (p->len == 1 && p->p[0] == '*') ? NULL : p;
        } else if (more && keys_arg_eq(a, "type")) {
            s.type = &c->argv[i + 1];
        } else {
            reply_err_syntax(c);
            return;
        }
    }

    /* ks_scan bounds its work by count * 10 buckets: keep that product from
     * wrapping (no reply can tell the difference) */
    if (count > LLONG_MAX / 10)
        count = LLONG_MAX / 10;
    uint64_t next;
    if (!c->srv->tiering || !tiering_has_indexed(c->srv->tiering)) {
        next = ks_scan(ks, c->db, cursor, (uint64_t)count, c->now_ms, keys_scan_visit, &s);
    } else if (cursor & TIERING_SCAN_DRAM) {
        next = ks_scan(ks, c->db, cursor & ~TIERING_SCAN_DRAM, (uint64_t)count, c->now_ms, keys_scan_visit, &s);
        next = next ? next | TIERING_SCAN_DRAM : 0;
    } else {
        /* first the keys of indexed tiers, read ahead by tiering_fetch.c
         * (tiering.h: the cursor's phases); once their walk is over, DRAM
         * in the same call */
        const struct tiering_listing *tl = tiering_listing();
        next = tl ? tl->next_cursor : 0;
        for (size_t i = 0; tl && i < tl->n; i++)
            keys_scan_listed(&s, &tl->items[i]);
        if (next == 0) {
            long long left = count - (long long)(tl ? tl->n : 0);
            next = ks_scan(ks, c->db, 0, (uint64_t)(left > 0 ? left : 1), c->now_ms, keys_scan_visit, &s);
            next = next ? next | TIERING_SCAN_DRAM : 0;
        }
    }
    keys_stat(c, s.hits, 0);
    if (s.oom) {
        free(s.buf);
        reply_err_nomem(c);
        return;
    }
    char cbuf[24];
    int clen = snprintf(cbuf, sizeof(cbuf), "%" PRIu64, next);
    reply_array(c, 2);
    reply_bulk(c, cbuf, (size_t)clen);
    reply_array(c, s.n);
    for (size_t off = 0; off < s.len;) {
        uint32_t klen;
        memcpy(&klen, s.buf + off, sizeof(klen));
        reply_bulk(c, s.buf + off + sizeof(klen), klen);
        off += sizeof(klen) + klen;
    }
    free(s.buf);
}

/* ---- RANDOMKEY DBSIZE ---- */

static void cmd_randomkey(struct client *c)
{
    char *key = NULL;
    size_t len = 0;
    uint64_t rnd = c->w ? util_rng_next(&c->w->rng) : (uint64_t)c->now_ms;
    /* fetch-ahead picked a key of an indexed tier, in proportion to the keys
     * there (tiering_fetch.c); otherwise a DRAM key */
    const struct tiering_listing *tl = tiering_listing();
    if (tl && tl->n > 0) {
        reply_bulk(c, tl->items[0].key, tl->items[0].klen);
        return;
    }
    int rc = ks_random_key(c->srv->ks, c->db, c->now_ms, rnd, &key, &len);

    if (rc == ST_ENOENT) {
        reply_null(c);
    } else if (rc != ST_OK) {
        reply_err_nomem(c);
    } else {
        reply_bulk(c, key, len);
        free(key);
    }
}

static void cmd_dbsize(struct client *c)
{
    uint64_t tiered = 0;
    if (c->srv->tiering)
        tiering_db_counts(c->srv->tiering, c->db, &tiered, NULL);
    reply_int(c, (long long)(ks_dbsize(c->srv->ks, c->db) + tiered));
}

/* ---- RENAME RENAMENX ---- */

static void keys_rename_generic(struct client *c, int nx)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k[2]; /* 0: source, 1: destination */
    enum { R_DONE, R_NOKEY, R_OOM } outcome = R_DONE;
    long long reply = 0;

    ks_key_init(ks, &k[0], c->argv[1].p, c->argv[1].len);
    ks_key_init(ks, &k[1], c->argv[2].p, c->argv[2].len);
    int samekey = k[0].len == k[1].len && memcmp(k[0].p, k[1].p, k[0].len) == 0;

    ks_lock_keys(ks, k, 2);
    struct entry **sref = ks_find_ref(ks, c->db, &k[0], c->now_ms, keys_touch_flags(c));
    if (!sref) {
        outcome = R_NOKEY;
        goto out;
    }
    if (samekey) {
        reply = nx ? 0 : 1;
        goto out;
    }
    struct entry **dref = ks_find_ref(ks, c->db, &k[1], c->now_ms, keys_touch_flags(c));
    if (dref) {
        if (nx)
            goto out; /* reply 0 */
        ks_delete_ref(ks, c->db, &k[1], dref);
    }
    /* invariant 2: the source's link may have moved; it cannot have expired
     * (same now_ms), so it is found again */
    sref = ks_find_ref(ks, c->db, &k[0], c->now_ms, KS_F_NOTOUCH);
    struct entry *e = ks_take_ref(ks, c->db, &k[0], sref);
    uint32_t access = e->access;
    struct entry *ne = entry_rekey(e, k[1].p, (uint32_t)k[1].len);
    if (!ne) {
        if (ks_insert(ks, c->db, &k[0], e) != ST_OK) {
            log_warn("RENAME: out of memory, key lost");
            entry_destroy(e);
        }
        outcome = R_OOM;
        goto out;
    }
    if (ks_insert(ks, c->db, &k[1], ne) != ST_OK) {
        struct entry *back = entry_rekey(ne, k[0].p, (uint32_t)k[0].len);
        if (!back || ks_insert(ks, c->db, &k[0], back) != ST_OK) {
            log_warn("RENAME: out of memory, key lost");
            entry_destroy(back ? back : ne);
        }
        outcome = R_OOM;
        goto out;
    }
    ne->access = access; /* the value keeps its age, as in Redis */
    blk_signal(c->srv->blk, ks, c->db, &k[1]); /* a list may now exist there */
    reply = 1;
out:
    ks_unlock_keys(ks, k, 2);
    if (outcome == R_OOM)
        reply_err_nomem(c);
    else if (outcome == R_NOKEY)
        reply_error(c, KEYS_ERR_NOKEY);
    else if (nx)
        reply_int(c, reply);
    else
        reply_ok(c);
}

static void cmd_rename(struct client *c)
{
    keys_rename_generic(c, 0);
}

static void cmd_renamenx(struct client *c)
{
    keys_rename_generic(c, 1);
}

/* ---- COPY MOVE ---- */

/* COPY source destination [DB destination-db] [REPLACE] */
static void cmd_copy(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k[2];
    int dstdb = c->db, replace = 0;
    long long reply = 0;
    int oom = 0;

    for (int j = 3; j < c->argc; j++) {
        int additional = c->argc - j - 1;
        if (keys_arg_eq(&c->argv[j], "replace")) {
            replace = 1;
        } else if (keys_arg_eq(&c->argv[j], "db") && additional >= 1) {
            if (keys_parse_int_or_reply(c, &c->argv[j + 1], &dstdb) != 0)
                return;
            if (!keys_db_valid(c, dstdb)) {
                reply_error(c, RERR_DBRANGE);
                return;
            }
            j++;
        } else {
            reply_err_syntax(c);
            return;
        }
    }
    ks_key_init(ks, &k[0], c->argv[1].p, c->argv[1].len);
    ks_key_init(ks, &k[1], c->argv[2].p, c->argv[2].len);
    if (dstdb == c->db && k[0].len == k[1].len && memcmp(k[0].p, k[1].p, k[0].len) == 0) {
        reply_error(c, KEYS_ERR_SAMEOBJ);
        return;
    }

    ks_lock_keys(ks, k, 2);
    struct entry **sref = ks_find_ref(ks, c->db, &k[0], c->now_ms, keys_touch_flags(c));
    keys_stat(c, sref != NULL, sref == NULL);
    if (!sref)
        goto out;
    struct entry *src = *sref; /* invariant 2: the entry, not the link, survives */
    struct entry **dref = ks_find_ref(ks, dstdb, &k[1], c->now_ms, keys_touch_flags(c));
    if (dref && !replace)
        goto out;
    struct entry *ne = entry_dup(src, k[1].p, (uint32_t)k[1].len);
    if (!ne) {
        oom = 1;
        goto out;
    }
    if (dref) {
        /* the destination's link is still current: nothing changed its
         * table since the lookup */
        ks_delete_ref(ks, dstdb, &k[1], dref);
    }
    if (ks_insert(ks, dstdb, &k[1], ne) != ST_OK) {
        entry_destroy(ne);
        oom = 1;
        goto out;
    }
    blk_signal(c->srv->blk, ks, dstdb, &k[1]);
    reply = 1;
out:
    ks_unlock_keys(ks, k, 2);
    if (oom)
        reply_err_nomem(c);
    else
        reply_int(c, reply);
}

/* MOVE key db */
static void cmd_move(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    int dstdb;
    long long reply = 0;
    int oom = 0;

    if (keys_parse_int_or_reply(c, &c->argv[2], &dstdb) != 0)
        return;
    if (!keys_db_valid(c, dstdb)) {
        reply_error(c, RERR_DBRANGE);
        return;
    }
    if (dstdb == c->db) {
        reply_error(c, KEYS_ERR_SAMEOBJ);
        return;
    }
    /* same key, same hash: both databases' tables are in one shard */
    ks_key_init(ks, &k, c->argv[1].p, c->argv[1].len);
    ks_lock(ks, k.shard);
    struct entry **sref = ks_find_ref(ks, c->db, &k, c->now_ms, keys_touch_flags(c));
    if (!sref)
        goto out;
    if (ks_find_ref(ks, dstdb, &k, c->now_ms, keys_touch_flags(c)))
        goto out;
    /* the destination lookup changed only the other database's table, so
     * sref is still current */
    struct entry *e = ks_take_ref(ks, c->db, &k, sref);
    uint32_t access = e->access;
    if (ks_insert(ks, dstdb, &k, e) != ST_OK) {
        if (ks_insert(ks, c->db, &k, e) != ST_OK) {
            log_warn("MOVE: out of memory, key lost");
            entry_destroy(e);
        }
        oom = 1;
        goto out;
    }
    e->access = access;
    blk_signal(c->srv->blk, ks, dstdb, &k);
    reply = 1;
out:
    ks_unlock(ks, k.shard);
    if (oom)
        reply_err_nomem(c);
    else
        reply_int(c, reply);
}

/* ---- OBJECT ---- */

/* What OBJECT subcommands read from an entry, copied under the lock. */
struct keys_obj_info {
    const char *encoding;
    uint32_t access;
};

/* Looks argv[2] up for an OBJECT subcommand (NOTOUCH, counted as a read,
 * as Redis's objectCommandLookup) and fills info. Replies null and returns 0
 * when the key is missing; returns 1 when it exists. */
static int keys_object_lookup(struct client *c, struct keys_obj_info *info)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;

    ks_key_init(ks, &k, c->argv[2].p, c->argv[2].len);
    ks_lock(ks, k.shard);
    struct entry **ref = ks_find_ref(ks, c->db, &k, c->now_ms, KS_F_NOTOUCH);
    if (ref) {
        info->encoding = entry_encoding(*ref);
        info->access = (*ref)->access;
    }
    ks_unlock(ks, k.shard);
    keys_stat(c, ref != NULL, ref == NULL);
    if (!ref)
        reply_null(c);
    return ref != NULL;
}

static void cmd_object_encoding(struct client *c)
{
    struct keys_obj_info info;
    if (keys_object_lookup(c, &info))
        reply_bulk_cstr(c, info.encoding);
}

static void cmd_object_refcount(struct client *c)
{
    struct keys_obj_info info;
    /* Strata never shares values between keys */
    if (keys_object_lookup(c, &info))
        reply_int(c, 1);
}

static int lfu_policy(struct client *c)
{
    return evict_is_lfu((int)cfg_load(c->srv->cfg.maxmemory_policy));
}

/* Seconds since the last access, from the 24-bit LRU clock, with Redis's
 * wrap-around handling (estimateObjectIdleTime). Under an LFU policy the
 * clock is still kept, but Redis refuses, and so do we. */
static void cmd_object_idletime(struct client *c)
{
    struct keys_obj_info info;
    if (!keys_object_lookup(c, &info))
        return;
    if (lfu_policy(c)) {
        reply_error(c, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that "
                       "when switching between policies at runtime LRU and LFU data will take some time "
                       "to adjust.");
        return;
    }
    reply_int(c, (long long)ks_idle_seconds(c->srv->ks, info.access));
}

/* The decayed LFU counter (Redis's LFUDecrAndReturn), under LFU policies only. */
static void cmd_object_freq(struct client *c)
{
    struct keys_obj_info info;
    if (!keys_object_lookup(c, &info))
        return;
    if (!lfu_policy(c)) {
        reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
                       "Please note that when switching between policies at runtime LRU and LFU data "
                       "will take some time to adjust.");
        return;
    }
    reply_int(c, ks_lfu_decayed(c->srv->ks, info.access));
}

void cmd_object_tier(struct client *c); /* cmd_tier.c */

static void cmd_object_help(struct client *c)
{
    static const char *const help[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "TIER <key>",
        "    Return where the value of the <key> lives: dram, or the name of its tier.",
        "HELP",
        "    Prints this help.",
    };
    long n = (long)(sizeof(help) / sizeof(help[0]));
    reply_array(c, n);
    for (long i = 0; i < n; i++)
        reply_simple(c, help[i]);
}

/* ---- FLUSHDB FLUSHALL SWAPDB ---- */

/* [ASYNC | SYNC]; no argument means SYNC (lazyfree-lazy-user-flush no).
 * Returns 0/1 (async) or -1 after replying a syntax error. */
static int keys_flush_async(struct client *c)
{
    if (c->argc == 1)
        return 0;
    if (c->argc == 2 && keys_arg_eq(&c->argv[1], "sync"))
        return 0;
    if (c->argc == 2 && keys_arg_eq(&c->argv[1], "async"))
        return 1;
    reply_err_syntax(c);
    return -1;
}

static void cmd_flushdb(struct client *c)
{
    int async = keys_flush_async(c);
    if (async < 0)
        return;
    persist_wait_snapshot(c->srv); /* the snapshot walks the tables this detaches */
    ks_flush(c->srv->ks, c->db, async);
    reply_ok(c);
}

static void cmd_flushall(struct client *c)
{
    int async = keys_flush_async(c);
    if (async < 0)
        return;
    persist_wait_snapshot(c->srv);
    ks_flush(c->srv->ks, -1, async);
    reply_ok(c);
}

static void cmd_swapdb(struct client *c)
{
    int a, b;
    if (keys_parse_int(&c->argv[1], &a) != 0) {
        reply_error(c, "ERR invalid first DB index");
        return;
    }
    if (keys_parse_int(&c->argv[2], &b) != 0) {
        reply_error(c, "ERR invalid second DB index");
        return;
    }
    if (!keys_db_valid(c, a) || !keys_db_valid(c, b)) {
        reply_error(c, RERR_DBRANGE);
        return;
    }
    if (a != b) {
        persist_wait_snapshot(c->srv); /* a snapshot names each key's database as of its T0 */
        ks_swapdb(c->srv->ks, a, b);
        /* clients blocked in either database may find their keys now */
        blk_signal_db(c->srv->blk, c->srv->ks, a);
        blk_signal_db(c->srv->blk, c->srv->ks, b);
    }
    reply_ok(c);
}

/* ---- the table ---- */

#define EXPIRE_OPTS "[NX | XX | GT | LT]"

static const struct cmd_def object_subcmds[] = {
    { "encoding", cmd_object_encoding, 3, CMD_READONLY, 2, 2, 1, "generic",
      "Inspect the internal encoding of a Redis object", "2.2.3", "O(1)", "key", NULL },
    { "freq", cmd_object_freq, 3, CMD_READONLY, 2, 2, 1, "generic",
      "Get the logarithmic access frequency counter of a Redis object", "4.0.0", "O(1)", "key", NULL },
    { "help", cmd_object_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "generic",
      "Show helpful text about the different subcommands", "6.2.0", "O(1)", "", NULL },
    { "idletime", cmd_object_idletime, 3, CMD_READONLY, 2, 2, 1, "generic",
      "Get the time since a Redis object was last accessed", "2.2.3", "O(1)", "key", NULL },
    { "refcount", cmd_object_refcount, 3, CMD_READONLY, 2, 2, 1, "generic",
      "Get the number of references to the value of the key", "2.2.3", "O(1)", "key", NULL },
    { "tier", cmd_object_tier, 3, CMD_READONLY, 2, 2, 1, "generic",
      "Show where the value of a key lives: dram or a tier's name (Strata)", "0.1.0", "O(1)", "key", NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cmd_def cmds_keys[] = {
    { "del", cmd_del, -2, CMD_WRITE, 1, -1, 1, "generic", "Delete a key", "1.0.0",
      "O(N) where N is the number of keys that will be removed. When a key to remove holds a value "
      "other than a string, the individual complexity for this key is O(M) where M is the number of "
      "elements in the list, set, sorted set or hash. Removing a single key that holds a string value "
      "is O(1).",
      "key [key ...]", NULL },
    { "unlink", cmd_unlink, -2, CMD_WRITE | CMD_FAST, 1, -1, 1, "generic",
      "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
      "4.0.0",
      "O(1) for each key removed regardless of its size. Then the command does O(N) work in a "
      "different thread in order to reclaim memory, where N is the number of allocations the deleted "
      "objects where composed of.",
      "key [key ...]", NULL },
    { "exists", cmd_exists, -2, CMD_READONLY | CMD_FAST, 1, -1, 1, "generic", "Determine if a key exists",
      "1.0.0", "O(N) where N is the number of keys to check.", "key [key ...]", NULL },
    { "type", cmd_type, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "generic", "Determine the type stored at key",
      "1.0.0", "O(1)", "key", NULL },
    { "expire", cmd_expire, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "generic", "Set a key's time to live in seconds",
      "1.0.0", "O(1)", "key seconds " EXPIRE_OPTS, NULL },
    { "pexpire", cmd_pexpire, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "generic",
      "Set a key's time to live in milliseconds", "2.6.0", "O(1)", "key milliseconds " EXPIRE_OPTS, NULL },
    { "expireat", cmd_expireat, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "generic",
      "Set the expiration for a key as a UNIX timestamp", "1.2.0", "O(1)",
      "key unix-time-seconds " EXPIRE_OPTS, NULL },
    { "pexpireat", cmd_pexpireat, -3, CMD_WRITE | CMD_FAST, 1, 1, 1, "generic",
      "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "2.6.0", "O(1)",
      "key unix-time-milliseconds " EXPIRE_OPTS, NULL },
    { "expiretime", cmd_expiretime, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "generic",
      "Get the expiration Unix timestamp for a key", "7.0.0", "O(1)", "key", NULL },
    { "pexpiretime", cmd_pexpiretime, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "generic",
      "Get the expiration Unix timestamp for a key in milliseconds", "7.0.0", "O(1)", "key", NULL },
    { "ttl", cmd_ttl, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "generic", "Get the time to live for a key in seconds",
      "1.0.0", "O(1)", "key", NULL },
    { "pttl", cmd_pttl, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "generic",
      "Get the time to live for a key in milliseconds", "2.6.0", "O(1)", "key", NULL },
    { "persist", cmd_persist, 2, CMD_WRITE | CMD_FAST, 1, 1, 1, "generic", "Remove the expiration from a key",
      "2.2.0", "O(1)", "key", NULL },
    { "keys", cmd_keys, 2, CMD_READONLY, 0, 0, 0, "generic", "Find all keys matching the given pattern",
      "1.0.0",
      "O(N) with N being the number of keys in the database, under the assumption that the key names "
      "in the database and the given pattern have limited length.",
      "pattern", NULL },
    { "scan", cmd_scan, -2, CMD_READONLY, 0, 0, 0, "generic", "Incrementally iterate the keys space", "2.8.0",
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
      "cursor to return back to 0. N is the number of elements inside the collection.",
      "cursor [MATCH pattern] [COUNT count] [TYPE type]", NULL },
    { "randomkey", cmd_randomkey, 1, CMD_READONLY, 0, 0, 0, "generic", "Return a random key from the keyspace",
      "1.0.0", "O(1)", "", NULL },
    { "rename", cmd_rename, 3, CMD_WRITE, 1, 2, 1, "generic", "Rename a key", "1.0.0", "O(1)", "key newkey",
      NULL },
    { "renamenx", cmd_renamenx, 3, CMD_WRITE | CMD_FAST, 1, 2, 1, "generic",
      "Rename a key, only if the new key does not exist", "1.0.0", "O(1)", "key newkey", NULL },
    { "copy", cmd_copy, -3, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, "generic", "Copy a key", "6.2.0",
      "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
      "source destination [DB destination-db] [REPLACE]", NULL },
    { "move", cmd_move, 3, CMD_WRITE | CMD_FAST, 1, 1, 1, "generic", "Move a key to another database", "1.0.0",
      "O(1)", "key db", NULL },
    { "touch", cmd_touch, -2, CMD_READONLY | CMD_FAST, 1, -1, 1, "generic",
      "Alters the last access time of a key(s). Returns the number of existing keys specified.", "3.2.1",
      "O(N) where N is the number of keys that will be touched.", "key [key ...]", NULL },
    { "object", NULL, -2, 0, 0, 0, 0, "generic", "A container for object introspection commands", "2.2.3",
      "Depends on subcommand.", "", object_subcmds },
    { "dbsize", cmd_dbsize, 1, CMD_READONLY | CMD_FAST, 0, 0, 0, "server",
      "Return the number of keys in the selected database", "1.0.0", "O(1)", "", NULL },
    { "flushdb", cmd_flushdb, -1, CMD_WRITE, 0, 0, 0, "server", "Remove all keys from the current database",
      "1.0.0", "O(N) where N is the number of keys in the selected database", "[ASYNC | SYNC]", NULL },
    { "flushall", cmd_flushall, -1, CMD_WRITE, 0, 0, 0, "server", "Remove all keys from all databases",
      "1.0.0", "O(N) where N is the total number of keys in all databases", "[ASYNC | SYNC]", NULL },
    { "swapdb", cmd_swapdb, 3, CMD_WRITE | CMD_FAST, 0, 0, 0, "server", "Swaps two Redis databases", "4.0.0",
      "O(N) where N is the count of clients watching or blocking on keys from both databases.",
      "index1 index2", NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};
