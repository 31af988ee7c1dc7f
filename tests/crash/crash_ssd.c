/*
 * crash_ssd.c -- power-loss test of the SSD tier (tiers/ssd.c and its
 * parts) over faultfs (tests/crash/faultfs.h): whatever moment the power
 * goes, and whatever a crash does to the writes not yet synced, the
 * segment directory must re-attach and serve only records that were put,
 * byte for byte, with everything ssd_sync made durable still there and
 * nothing older coming back (the persistence issue, crash test 3;
 * tiers/ssd.c invariants 2, 3, 5 and 11).
 *
 * What the tier promises, and so what is asserted (tiers/ssd.h, the
 * "Durability" paragraph of tiers/ssd.c): insert and remove return with
 * the record, or the DEL note, in a write buffer; ssd_sync writes and
 * syncs every buffer, so every insert and remove that returned before it
 * began survives a power loss; attach serves, for each key, its entry with
 * the highest seq, skipping damaged ones, and never an older version once
 * a newer one was durable; a dictionary is durable when put_dict returns.
 * Writes after the last completed ssd_sync may or may not survive (a timed
 * flush, the fsync after each buffer, or luck in the crash keep them), but
 * whatever survives is one of the states the operations gave the key.
 *
 * Each round, on one directory reused across rounds (root/ssd under a
 * faultfs over a fresh mkdtemp root):
 *  1. ssd_create through the faultfs vfs (attach). It must return ST_OK:
 *     one round in eight (never a TEAR round) a crash is planned a few
 *     changing calls in, so it lands inside the attach itself (its mkdir,
 *     opens, removal of damaged files and *.tmp names); then ST_EIO is
 *     allowed, and nothing is checked (the tier saw a dead disk), the
 *     round goes straight to 4.
 *  2. check: the tier's iterate and a fetch of every key agree; every
 *     record decodes whole (tier_rec_decode: magic, lengths, CRC32C) and
 *     equals exactly the record built for its key and generation; a key
 *     appears once, in its own database; each key's state (absent, or a
 *     generation) is one of its allowed states (below); attach_records and
 *     db_counts count what was found; each_dict returns only dictionaries
 *     put_dict was called for, byte-exact, and every one it acknowledged.
 *     What was found becomes the keys' durable state.
 *  3. a life of 50 .. 400 operations: inserts (random keys in two
 *     databases; values 1 B .. 48 KiB, some larger than the write buffer;
 *     one in five with a TTL, far in the future on a frozen clock, so
 *     several expiry classes have open segments and overwrites write DEL
 *     notes), removes, fetches checked against the model, ssd_sync,
 *     ssd_maintain (timed flushes with flush_ms = 1, so partly filled
 *     buffers reach the device and their tail block is rewritten by the
 *     next; compaction of segments overwrites and removes left half dead;
 *     drops and the directory syncs after their unlinks) and put_dict.
 *     fsync is off two rounds in three and in every TEAR round (then only
 *     ssd_sync, seals and notes buffers sync).
 *  4. the power loss: in half the rounds faultfs_crash_after(fs,
 *     FAULTFS_OP_MUTATING, n), n uniform over the changing calls a life
 *     makes, stops the fs right after its n-th change -- inside a buffer
 *     write, the first write of a segment (its header), a compaction
 *     output, a dictionary's write or rename, an unlink or a directory
 *     sync -- and the life goes on until the tier, failed, refuses; in the
 *     others faultfs_crash_now at the end of the life, with buffer writes
 *     possibly in flight on the I/O threads. tier_destroy must return
 *     (every call now fails), then faultfs_crash in mode round % 4:
 *     KEEP_ALL, DROP_ALL, RANDOM, TEAR.
 *
 * The model: for each key, its state at the last completed ssd_sync (or
 * as found by the last check) and every state an operation gave it since,
 * in order: after the crash the key must be in one of them. So a durable
 * put must be there with its value unless a later insert or remove (synced
 * or not) may have replaced it; a durable remove stays removed, no older
 * generation resurrected; nothing the model does not know appears. An
 * overwrite of a present key also allows "absent" (the tier's documented
 * exception: its DEL note may reach the device before the new record),
 * and so does a failed insert (only after the fs crashed).
 *
 * An older generation than the durable one is never allowed, also for a
 * key overwritten since the last ssd_sync: the segment holding the
 * durable, now dead, record must not lose its file before the replacing
 * record is durable (tiers/ssd.c invariant 11; this test found the tier
 * unlinking it at once). At the end the run must have checked durable
 * records, lost unsynced changes, kept some, and compacted segments --
 * else it tested nothing and fails.
 *
 * What it does not cover: eviction (the tier is sized so nothing is
 * evicted, and a life that evicts fails the run), expiry (the clock is
 * frozen), flushdb and swapdb, inserts from several threads at once, the
 * maintenance thread (ssd_maintain runs on the test's thread), O_DIRECT,
 * media errors on read, the loss of the segment directory's own entry
 * (faultfs cannot undo a mkdir whose directory is not empty), and the
 * reorderings faultfs does not model (faultfs.c, "What it does not
 * model").
 *
 * Environment: CRASH_SEED=<n> repeats a run (the seed is printed first;
 * the I/O threads' timing still varies, so a failure may need a few
 * tries); CRASH_ROUNDS=<n> changes the number of rounds (default 200);
 * CRASH_TRACE=<key> prints what happens to one key and the tier's log. A
 * failed run keeps its segment directory and prints where.
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/tier.h"
#include "faultfs.h"
#include "tiers/ssd.h"

#define NKEYS 256
#define NDBS 2
#define VAL_MAX (48u * 1024)
#define REC_MAX (TIER_REC_HDR + 16 + VAL_MAX)
#define OPS_MIN 50
#define OPS_MAX 400
#define DICT_MAX 4096
#define NOW_MS 1700000000000ll
#define ROUND_ALARM_S 30

/* ---- deterministic records and dictionaries ---------------------------- */

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint64_t rnd(uint64_t *s)
{
    *s = mix64(*s);
    return *s;
}

/* Mostly small values, some of a few blocks, a few past the write buffer
 * (16 KiB: such an entry gets a buffer of its own). */
static uint32_t vlen_of(uint64_t gen)
{
    uint64_t x = mix64(gen ^ 0x1234);
    unsigned p = (unsigned)(x % 100);
    x >>= 8;
    if (p < 70)
        return 1 + (uint32_t)(x % 256);
    if (p < 95)
        return 257 + (uint32_t)(x % 3840);
    return 4097 + (uint32_t)(x % (VAL_MAX - 4096));
}

/* No expiry for four records in five; else a TTL in one of the five expiry
 * classes (tiers/ssd_io.c ssd_class_of), all far enough ahead of the
 * frozen clock never to pass. */
static int64_t expire_of(uint64_t gen)
{
    static const int64_t ttl[] = {30000, 300000, 1800000, 18000000, 172800000};
    uint64_t x = mix64(gen ^ 0x7777);
    return x % 5 ? -1 : NOW_MS + ttl[(x >> 8) % 5];
}

static int db_of(uint32_t key)
{
    return (int)(key % NDBS);
}

static size_t key_name(uint32_t key, char *k)
{
    return (size_t)snprintf(k, 16, "ck:%u", key);
}

/* The record the test inserts for key/gen, in buf (REC_MAX bytes). */
static size_t build_rec(uint32_t key, uint64_t gen, unsigned char *buf)
{
    static unsigned char val[VAL_MAX];
    char k[16];
    uint32_t vlen = vlen_of(gen);
    uint64_t x = mix64(gen ^ 0x5555);

    for (uint32_t i = 0; i < vlen; i++) {
        if (i % 8 == 0)
            x = mix64(x);
        val[i] = (unsigned char)(x >> (8 * (i % 8)));
    }
    struct tier_rec r = {
        .gen = gen,
        .expire_ms = expire_of(gen),
        .key = k,
        .klen = (uint32_t)key_name(key, k),
        .val = val,
        .vlen = vlen,
        .rawlen = vlen,
        .type = (uint8_t)(gen % 7),
        .flags = TIER_REC_F_RAW,
    };
    tier_rec_encode(&r, buf);
    return tier_rec_size(&r);
}

static size_t build_dict(uint32_t id, unsigned char *buf)
{
    size_t len = 64 + (size_t)(mix64(id) % 3000);
    uint64_t x = id;
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)(rnd(&x) >> 17);
    return len;
}

static int parse_key(const char *k, uint32_t klen, uint32_t *key)
{
    char tmp[16];
    char *end;

    if (klen < 4 || klen >= sizeof(tmp) || memcmp(k, "ck:", 3) != 0)
        return -1;
    memcpy(tmp, k, klen);
    tmp[klen] = 0;
    unsigned long v = strtoul(tmp + 3, &end, 10);
    if (*end || v >= NKEYS)
        return -1;
    *key = (uint32_t)v;
    return 0;
}

/* ---- the model ---------------------------------------------------------- */

/* A key's allowed states after a crash: st[0] its durable state, then each
 * state an operation gave it since (0 = absent, else a generation). */
struct allowed {
    uint64_t *st;
    size_t n, cap;
};

enum { D_NONE = 0, D_MAYBE, D_MUST };

struct run {
    uint64_t seed, rng;
    int round;
    char root[256], dir[300];
    struct faultfs *fs;
    struct tier *t;
    struct ssd_conf conf;
    struct allowed keys[NKEYS];
    uint64_t cur[NKEYS]; /* the state the tier acknowledged last (0 = absent) */
    uint32_t *key_of_gen; /* gen -> key + 1 (0: never put) */
    uint64_t next_gen, gens_cap;
    uint8_t dict[DICT_MAX]; /* D_* per dictionary id */
    uint32_t next_dict;
    unsigned char buf[REC_MAX], buf2[REC_MAX];
    char last_log[512];
    /* counters for the summary and the end-of-run sanity checks */
    uint64_t puts, dels, syncs, maints, dicts, fetches;
    uint64_t checked, durable_checked, kept_unsynced, lost_unsynced;
    uint64_t crash_plans, crash_in_attach, crash_in_sync, crash_in_maint, crash_in_insert, crash_in_dict;
    uint64_t compacted, attach_damaged, attach_removed, seg_max;
    uint64_t mutating_per_life;
};

static char fail_msg[1024];
static long trace_key = -1; /* CRASH_TRACE=<key>: print what happens to one key (debugging) */

#define TRACE(r, key, ...)                                                                                \
    do {                                                                                                   \
        if ((long)(key) == trace_key) {                                                                    \
            printf("  [round %d key %u] ", (r)->round, (unsigned)(key));                                   \
            printf(__VA_ARGS__);                                                                           \
            printf("\n");                                                                                 \
        }                                                                                                  \
    } while (0)

static int fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct run *r, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(fail_msg, sizeof(fail_msg), "round %d (the last power loss: mode %d): ", r->round,
                     (r->round + 3) % 4);
    va_start(ap, fmt);
    vsnprintf(fail_msg + n, sizeof(fail_msg) - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void allowed_reset(struct allowed *a, uint64_t st)
{
    a->n = 0;
    if (a->cap == 0) {
        a->cap = 8;
        a->st = malloc(a->cap * sizeof(*a->st));
        if (!a->st)
            abort();
    }
    a->st[a->n++] = st;
}

static void allowed_push(struct allowed *a, uint64_t st)
{
    if (a->n == a->cap) {
        a->cap *= 2;
        a->st = realloc(a->st, a->cap * sizeof(*a->st));
        if (!a->st)
            abort();
    }
    a->st[a->n++] = st;
}

static uint64_t new_gen(struct run *r, uint32_t key)
{
    if (r->next_gen >= r->gens_cap) {
        r->gens_cap = r->gens_cap ? r->gens_cap * 2 : 65536;
        /* key_of_gen[0] stays unused: generation 0 means absent */
        r->key_of_gen = realloc(r->key_of_gen, r->gens_cap * sizeof(*r->key_of_gen));
        if (!r->key_of_gen)
            abort();
    }
    r->key_of_gen[r->next_gen] = key + 1;
    return r->next_gen++;
}

static void cap_log(void *ud, int level, const char *msg)
{
    struct run *r = ud;
    (void)level;
    /* damage after a crash is logged by design; the last line helps a failure's report */
    snprintf(r->last_log, sizeof(r->last_log), "%s", msg);
    if (trace_key >= 0)
        printf("  [round %d log] %s\n", r->round, msg);
}

static int64_t frozen_clock(void *ud)
{
    (void)ud;
    return NOW_MS;
}

/* ---- the check after a reboot (step 2) --------------------------------- */

struct seen {
    struct run *r;
    uint64_t gen[NKEYS]; /* 0: not found */
    size_t n;
    int err;
};

/* A record the tier returned for key (or any, when key < 0): whole, ours,
 * the exact bytes of its generation. Sets *key_out and *gen_out. */
static int check_rec(struct run *r, const void *rec, size_t len, int db, uint32_t *key_out, uint64_t *gen_out)
{
    struct tier_rec tr;
    size_t used = 0;
    uint32_t key;

    if (tier_rec_decode(rec, len, &tr, &used) != ST_OK || used != len)
        return fail(r, "a served record does not decode whole (%zu bytes)", len);
    if (parse_key(tr.key, tr.klen, &key) != 0)
        return fail(r, "a served record has a key the test never used (%.*s)", (int)(tr.klen < 32 ? tr.klen : 32),
                    tr.key);
    if (db != db_of(key))
        return fail(r, "key %u served in database %d", key, db);
    if (tr.gen == 0 || tr.gen >= r->next_gen || r->key_of_gen[tr.gen] != key + 1)
        return fail(r, "key %u served with generation %llu, never put for it", key, (unsigned long long)tr.gen);
    size_t want = build_rec(key, tr.gen, r->buf2);
    if (want != len || memcmp(rec, r->buf2, len) != 0)
        return fail(r, "key %u generation %llu served with other bytes", key, (unsigned long long)tr.gen);
    *key_out = key;
    *gen_out = tr.gen;
    return 0;
}

static int on_iter(void *ud, int db, const void *rec, size_t len, uint64_t loc, uint64_t seq)
{
    struct seen *s = ud;
    uint32_t key;
    uint64_t gen;

    (void)loc;
    (void)seq;
    if (check_rec(s->r, rec, len, db, &key, &gen) < 0) {
        s->err = 1;
        return 1;
    }
    if (s->gen[key]) {
        s->err = fail(s->r, "key %u visited twice (generations %llu, %llu)", key, (unsigned long long)s->gen[key],
                      (unsigned long long)gen);
        return 1;
    }
    s->gen[key] = gen;
    s->n++;
    return 0;
}

struct dseen {
    struct run *r;
    uint8_t seen[DICT_MAX];
    int err;
};

static int on_dict(void *ud, uint32_t id, const void *d, size_t len)
{
    struct dseen *s = ud;
    struct run *r = s->r;

    if (id == 0 || id >= DICT_MAX || r->dict[id] == D_NONE) {
        s->err = fail(r, "dictionary %u appeared, never put", id);
        return 1;
    }
    size_t want = build_dict(id, r->buf2);
    if (len != want || memcmp(d, r->buf2, len) != 0) {
        s->err = fail(r, "dictionary %u has other bytes", id);
        return 1;
    }
    if (s->seen[id]++) {
        s->err = fail(r, "dictionary %u listed twice", id);
        return 1;
    }
    return 0;
}

static void describe(const struct allowed *a, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < a->n && o + 24 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s%llu", i ? " " : "", i == 1 ? "| " : "",
                              (unsigned long long)a->st[i]);
}

static int check(struct run *r)
{
    static struct seen s;
    static struct dseen ds;
    struct tier *t = r->t;
    char k[16], why[512];

    memset(&s, 0, sizeof(s));
    s.r = r;
    if (t->index->iterate(t, on_iter, &s) != 0 || s.err)
        return s.err ? -1 : fail(r, "iterate failed");
    for (uint32_t key = 0; key < NKEYS; key++) {
        struct tier_req q = {.db = db_of(key), .key = k, .klen = (uint32_t)key_name(key, k)};
        int rc = t->index->fetch(t, &q);
        if (s.gen[key]) {
            uint32_t kk;
            uint64_t gen;
            if (rc != ST_OK)
                return fail(r, "key %u found by iterate, fetch says %s", key, st_strerror(rc));
            if (check_rec(r, q.buf, q.len, db_of(key), &kk, &gen) < 0)
                return -1;
            free(q.buf);
            if (kk != key || gen != s.gen[key])
                return fail(r, "key %u: fetch and iterate disagree (%llu, %llu)", key, (unsigned long long)gen,
                            (unsigned long long)s.gen[key]);
        } else if (rc != ST_ENOENT) {
            free(q.buf);
            return fail(r, "key %u not found by iterate, fetch says %s", key, st_strerror(rc));
        }
        /* the state must be one the model allows */
        const struct allowed *a = &r->keys[key];
        size_t i = 0;
        while (i < a->n && a->st[i] != s.gen[key])
            i++;
        if (i == a->n) {
            describe(a, why, sizeof(why));
            return fail(r, "key %u is %s%llu after the crash; allowed: durable %s (0 = absent)", key,
                        s.gen[key] ? "generation " : "absent ", (unsigned long long)s.gen[key], why);
        }
        TRACE(r, key, "check after the crash: %llu", (unsigned long long)s.gen[key]);
        r->checked++;
        if (a->n == 1 && a->st[0])
            r->durable_checked++;
        else if (i == 0)
            r->lost_unsynced++;
        else
            r->kept_unsynced++;
        allowed_reset(&r->keys[key], s.gen[key]);
        r->cur[key] = s.gen[key];
    }
    uint64_t total = 0;
    for (int db = 0; db < NDBS; db++) {
        uint64_t keys = 0, vol = 0;
        t->index->db_counts(t, db, &keys, &vol);
        total += keys;
    }
    struct ssd_stats st;
    ssd_stats(t, &st);
    if (total != s.n || st.attach_records != s.n)
        return fail(r, "%zu keys found, db_counts says %llu, attach_records %llu", s.n, (unsigned long long)total,
                    (unsigned long long)st.attach_records);
    r->attach_damaged += st.attach_damaged;
    r->attach_removed += st.attach_removed;
    if (st.segments > r->seg_max)
        r->seg_max = st.segments;

    memset(&ds, 0, sizeof(ds));
    ds.r = r;
    if (t->ops->each_dict(t, on_dict, &ds) != 0 || ds.err)
        return ds.err ? -1 : fail(r, "each_dict failed");
    for (uint32_t id = 1; id < r->next_dict; id++) {
        if (r->dict[id] == D_MUST && !ds.seen[id])
            return fail(r, "dictionary %u, acknowledged, is missing", id);
        r->dict[id] = ds.seen[id] ? D_MUST : D_NONE;
    }
    return 0;
}

/* ---- a life (step 3) ---------------------------------------------------- */

/* Counts the call that ran since was was read as the one the crash plan
 * stopped the fs in (for a buffer write on an I/O thread: the call that
 * noticed it). */
static void note_crash(struct run *r, int was, uint64_t *counter)
{
    if (!was && faultfs_is_crashed(r->fs))
        (*counter)++;
}

/* A call answered rc: a failure unless the fs has "crashed now" (the
 * tier's writes, and its reads of the device, then fail). 0 or -1. */
static int failed_op(struct run *r, const char *what, uint32_t key, int rc)
{
    if (faultfs_is_crashed(r->fs))
        return 0;
    return fail(r, "%s (key %u) answered %s with the fs alive (last log: %s)", what, key, st_strerror(rc),
                r->last_log);
}

static int op_put(struct run *r, uint32_t key)
{
    uint64_t gen = new_gen(r, key), loc = 0;
    size_t len = build_rec(key, gen, r->buf);
    int was = faultfs_is_crashed(r->fs);
    int rc = r->t->index->insert(r->t, db_of(key), r->buf, len, &loc);

    r->puts++;
    note_crash(r, was, &r->crash_in_insert);
    if (rc == ST_OK) {
        if (loc == 0)
            return fail(r, "insert of key %u gave location 0", key);
        /* an overwrite may write a DEL note first (invariant 5): in another
         * segment, it can reach the disk before the new record does, and
         * then the crash leaves the key absent */
        if (r->cur[key])
            allowed_push(&r->keys[key], 0);
        r->cur[key] = gen;
        allowed_push(&r->keys[key], gen);
        TRACE(r, key, "insert gen %llu (%zu bytes, expire %lld)", (unsigned long long)gen, len,
              (long long)expire_of(gen));
        return 0;
    }
    TRACE(r, key, "insert gen %llu failed: %s", (unsigned long long)gen, st_strerror(rc));
    /* cut short by the crash: its DEL note (the key's old version must not
     * outlive the new one) may have reached the disk before the failure */
    if (!was)
        allowed_push(&r->keys[key], 0);
    return failed_op(r, "insert", key, rc);
}

/* Fetches key and compares it with what the tier acknowledged; *loc (may
 * be NULL) gets its location. 0 (also for ST_EIO after the crash: *found
 * = 0), or -1. */
static int op_fetch(struct run *r, uint32_t key, uint64_t *loc, int *found)
{
    char k[16];
    struct tier_req q = {.db = db_of(key), .key = k, .klen = (uint32_t)key_name(key, k)};
    int rc = r->t->index->fetch(r->t, &q);

    r->fetches++;
    if (found)
        *found = 0;
    if (rc == ST_ENOENT) {
        if (r->cur[key])
            return fail(r, "key %u (generation %llu) not found by fetch", key, (unsigned long long)r->cur[key]);
        return 0;
    }
    if (rc != ST_OK) {
        free(q.buf);
        return rc == ST_EIO ? failed_op(r, "fetch", key, rc) : fail(r, "fetch of key %u: %s", key,
                                                                      st_strerror(rc));
    }
    size_t want = r->cur[key] ? build_rec(key, r->cur[key], r->buf2) : 0;
    int same = want && want == q.len && memcmp(q.buf, r->buf2, want) == 0;
    free(q.buf);
    if (!same)
        return fail(r, "key %u: fetch returned other bytes than generation %llu (0: removed)", key,
                    (unsigned long long)r->cur[key]);
    if (loc)
        *loc = q.loc;
    if (found)
        *found = 1;
    return 0;
}

static int op_del(struct run *r, uint32_t key)
{
    char k[16];
    uint64_t loc = 0;
    int found = 0;
    size_t klen = key_name(key, k);

    if (!r->cur[key])
        return 0;
    if (op_fetch(r, key, &loc, &found) < 0)
        return -1;
    if (!found)
        return 0; /* unreadable after the crash: no location to remove at */
    int rc = r->t->index->remove(r->t, db_of(key), k, klen, loc);
    r->dels++;
    if (rc != ST_OK)
        return failed_op(r, "remove at the fetched location", key, rc);
    r->cur[key] = 0;
    allowed_push(&r->keys[key], 0);
    TRACE(r, key, "removed");
    return 0;
}

static int op_sync(struct run *r)
{
    int was = faultfs_is_crashed(r->fs);
    int rc = ssd_sync(r->t);

    r->syncs++;
    note_crash(r, was, &r->crash_in_sync);
    if (rc != ST_OK)
        return failed_op(r, "ssd_sync", 0, rc);
    /* everything acknowledged before it is durable now (ST_OK means every
     * write and sync it needed was performed, the crash came after) */
    for (uint32_t key = 0; key < NKEYS; key++)
        allowed_reset(&r->keys[key], r->cur[key]);
    if (trace_key >= 0)
        TRACE(r, trace_key, "ssd_sync: durable %llu", (unsigned long long)r->cur[trace_key]);
    return 0;
}

static int op_maintain(struct run *r)
{
    int was = faultfs_is_crashed(r->fs);
    int rc = ssd_maintain(r->t);

    r->maints++;
    note_crash(r, was, &r->crash_in_maint);
    return rc == ST_OK ? 0 : failed_op(r, "ssd_maintain", 0, rc);
}

static int op_dict(struct run *r)
{
    if (r->next_dict >= DICT_MAX)
        return 0;
    uint32_t id = r->next_dict++;
    size_t len = build_dict(id, r->buf);
    int was = faultfs_is_crashed(r->fs);
    int rc = r->t->ops->put_dict(r->t, id, r->buf, len);

    r->dicts++;
    note_crash(r, was, &r->crash_in_dict);
    if (rc == ST_OK) {
        r->dict[id] = D_MUST;
        return 0;
    }
    if (!was)
        r->dict[id] = D_MAYBE; /* cut short after its rename: it may be there */
    return failed_op(r, "put_dict", id, rc);
}

/* Runs the life's operations; once the fs has crashed, a few more (the
 * failed tier must keep answering sanely). 0 or -1. */
static int life(struct run *r)
{
    int nops = OPS_MIN + (int)(rnd(&r->rng) % (OPS_MAX - OPS_MIN + 1));
    int after = -1;

    for (int i = 0; i < nops && after != 0; i++) {
        uint64_t x = rnd(&r->rng);
        uint32_t key = (uint32_t)(x % NKEYS);
        unsigned what = (unsigned)((x >> 32) % 1000);
        int rc;

        if (what < 600)
            rc = op_put(r, key);
        else if (what < 800)
            rc = op_del(r, key);
        else if (what < 870)
            rc = op_fetch(r, key, NULL, NULL);
        else if (what < 900)
            rc = op_sync(r);
        else if (what < 990)
            rc = op_maintain(r);
        else
            rc = op_dict(r);
        if (rc < 0)
            return -1;
        if (after > 0)
            after--;
        else if (after < 0 && faultfs_is_crashed(r->fs))
            after = (int)((x >> 48) % 24);
    }
    return 0;
}

/* ---- the rounds --------------------------------------------------------- */

static int round_alarm;

static void on_alarm(int sig)
{
    char msg[96];
    (void)sig;
    int n = snprintf(msg, sizeof(msg), "crash_ssd: FAIL: round %d hung for %d s\n", round_alarm, ROUND_ALARM_S);
    if (write(2, msg, (size_t)n) < 0)
        _exit(3);
    _exit(2);
}

static int one_round(struct run *r)
{
    uint64_t x = rnd(&r->rng);
    /* one round in eight crashes inside attach; never a TEAR round (round
     * % 4 == 3), which needs a life of writes to have anything to tear */
    int early = r->round % 8 == 5;
    uint64_t before = faultfs_calls(r->fs, FAULTFS_OP_MUTATING);

    /* fsync one round in three, never in a TEAR round: there it would sync
     * each buffer as it is written, leaving little unsynced to tear */
    r->conf.fsync = r->round % 3 == 0 && r->round % 4 != 3;
    if (early) {
        faultfs_crash_after(r->fs, FAULTFS_OP_MUTATING, 1 + x % 12);
        r->crash_plans++;
    }
    int rc = ssd_create(&r->conf, &r->t);
    if (rc != ST_OK) {
        if (!faultfs_is_crashed(r->fs))
            return fail(r, "ssd_create: %s (last log: %s)", st_strerror(rc), r->last_log);
        r->crash_in_attach++;
    } else if (faultfs_is_crashed(r->fs)) {
        r->crash_in_attach++; /* attached with a dead disk: nothing to believe, nothing to check */
    } else {
        if (check(r) < 0)
            return -1;
        struct ssd_stats st0;
        ssd_stats(r->t, &st0);
        if (!early && (x >> 8) % 2) {
            uint64_t n = 1 + (x >> 16) % (r->mutating_per_life ? r->mutating_per_life : 200);
            faultfs_crash_after(r->fs, FAULTFS_OP_MUTATING, n);
            r->crash_plans++;
        }
        if (life(r) < 0)
            return -1;
        struct ssd_stats st;
        ssd_stats(r->t, &st);
        r->compacted += st.segments_compacted;
        if (st.segments_evicted || st.keys_evicted)
            return fail(r, "the tier evicted %llu segments (%llu keys): the test sizes it to evict nothing",
                        (unsigned long long)st.segments_evicted, (unsigned long long)st.keys_evicted);
    }
    if (!faultfs_is_crashed(r->fs)) {
        faultfs_crash_now(r->fs);
        uint64_t life_calls = faultfs_calls(r->fs, FAULTFS_OP_MUTATING) - before;
        r->mutating_per_life = (r->mutating_per_life + life_calls + 1) / 2;
    }
    tier_destroy(&r->t);
    if (trace_key >= 0)
        TRACE(r, trace_key, "power loss, mode %d", r->round % 4);
    static const enum faultfs_mode modes[4] = {FAULTFS_KEEP_ALL, FAULTFS_DROP_ALL, FAULTFS_RANDOM, FAULTFS_TEAR};
    if (faultfs_crash(r->fs, r->seed ^ mix64((uint64_t)r->round), modes[r->round % 4]) != ST_OK)
        return fail(r, "faultfs_crash failed");
    return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    static struct run run;
    struct run *r = &run;
    const char *env = getenv("CRASH_SEED");
    const char *tmp = getenv("TMPDIR");
    int rounds = getenv("CRASH_ROUNDS") ? atoi(getenv("CRASH_ROUNDS")) : 200;
    int rc = 0, done = 0;

    if (getenv("CRASH_TRACE"))
        trace_key = atol(getenv("CRASH_TRACE"));
    r->seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    r->rng = r->seed;
    printf("crash_ssd: seed %llu (CRASH_SEED=%llu repeats this run), %d rounds\n", (unsigned long long)r->seed,
           (unsigned long long)r->seed, rounds);
    fflush(stdout);
    snprintf(r->root, sizeof(r->root), "%s/crash_ssd.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(r->root)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(r->dir, sizeof(r->dir), "%.*s/ssd", (int)sizeof(r->root) - 1, r->root);
    if (faultfs_create(r->root, &r->fs) != ST_OK) {
        fprintf(stderr, "crash_ssd: faultfs_create failed\n");
        return 1;
    }
    ssd_conf_defaults(&r->conf);
    r->conf.dir = r->dir;
    r->conf.size = 8ull << 20;
    r->conf.segment_size = 1ull << 20;
    r->conf.write_buffer = 16 * 1024;
    r->conf.io_threads = 2;
    r->conf.flush_ms = 1;
    r->conf.databases = NDBS;
    r->conf.maintenance_thread = 0;
    r->conf.vfs = faultfs_vfs(r->fs);
    r->conf.clock_ms = frozen_clock;
    r->conf.log = cap_log;
    r->conf.log_ud = r;
    r->next_gen = 1; /* generation 0 means absent: never handed out */
    r->next_dict = 1;
    for (uint32_t key = 0; key < NKEYS; key++)
        allowed_reset(&r->keys[key], 0);

    signal(SIGALRM, on_alarm);
    double t0 = now_s();
    for (r->round = 0; r->round < rounds; r->round++) {
        round_alarm = r->round;
        alarm(ROUND_ALARM_S);
        if ((rc = one_round(r)) != 0)
            break;
        done++;
    }
    alarm(0);
    /* a last reboot checks the last crash */
    if (rc == 0) {
        r->conf.fsync = 1;
        if (ssd_create(&r->conf, &r->t) != ST_OK)
            rc = fail(r, "ssd_create after the last crash (last log: %s)", r->last_log);
        else
            rc = check(r);
        tier_destroy(&r->t);
    }
    double secs = now_s() - t0;
    struct faultfs_stats fst;
    faultfs_stats(r->fs, &fst);
    uint64_t fired = r->crash_in_attach + r->crash_in_sync + r->crash_in_maint + r->crash_in_insert + r->crash_in_dict;
    if (rc == 0 && rounds >= 40 &&
        (r->durable_checked == 0 || r->lost_unsynced == 0 || r->kept_unsynced == 0 || r->compacted == 0 ||
         fst.torn == 0 || fired == 0))
        rc = fail(r, "the run tested too little (durable %llu, lost %llu, kept %llu, compacted %llu, torn %llu, "
                     "plan crashes %llu)",
                  (unsigned long long)r->durable_checked, (unsigned long long)r->lost_unsynced,
                  (unsigned long long)r->kept_unsynced, (unsigned long long)r->compacted,
                  (unsigned long long)fst.torn, (unsigned long long)fired);
    faultfs_destroy(&r->fs);
    if (rc == 0)
        nftw(r->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    else
        printf("crash_ssd: the segment directory is kept for inspection: %s\n", r->dir);
    for (uint32_t key = 0; key < NKEYS; key++)
        free(r->keys[key].st);
    free(r->key_of_gen);
    if (rc) {
        printf("crash_ssd: FAIL after %d rounds (seed %llu): %s\n", done, (unsigned long long)r->seed, fail_msg);
        return 1;
    }
    printf("crash_ssd: %d power losses in %.1f s: %llu inserts, %llu removes, %llu fetches, %llu ssd_sync, "
           "%llu ssd_maintain, %llu put_dict; %llu key checks (%llu with nothing unsynced, %llu lost unsynced "
           "changes, %llu kept some); %llu crash plans (noticed in attach %llu, ssd_sync %llu, "
           "ssd_maintain %llu, insert %llu, put_dict %llu); %llu segments compacted, up to %llu segments; attach "
           "skipped %llu damaged entries and removed %llu files; faultfs kept %llu, dropped %llu, tore %llu "
           "writes\n",
           done, secs, (unsigned long long)r->puts, (unsigned long long)r->dels, (unsigned long long)r->fetches,
           (unsigned long long)r->syncs, (unsigned long long)r->maints, (unsigned long long)r->dicts,
           (unsigned long long)r->checked, (unsigned long long)r->durable_checked,
           (unsigned long long)r->lost_unsynced, (unsigned long long)r->kept_unsynced,
           (unsigned long long)r->crash_plans, (unsigned long long)r->crash_in_attach,
           (unsigned long long)r->crash_in_sync, (unsigned long long)r->crash_in_maint,
           (unsigned long long)r->crash_in_insert, (unsigned long long)r->crash_in_dict,
           (unsigned long long)r->compacted, (unsigned long long)r->seg_max,
           (unsigned long long)r->attach_damaged, (unsigned long long)r->attach_removed,
           (unsigned long long)fst.kept, (unsigned long long)fst.dropped, (unsigned long long)fst.torn);
    return 0;
}
