/*
 * ins_diff.c -- strata-inspect diff A B: the keys added (only in B), removed
 * (only in A) and changed (in both, with another type, value or expiry).
 *
 * What it owns: the comparison and its passes. Values are compared decoded:
 * each key's canonical content hash (ins_val.c val_hash, 128 bits: equal
 * for equal content in any encoding, any set/hash order, hot or cold), its
 * type and its expiry. Keys are identified by a 128-bit hash of (db, key).
 *
 * Memory, without spilling to disk (ins_kset.c): A's key count (a
 * snapshot's footer; for a pool or SSD directory a counting walk first)
 * gives the number of hash partitions that fit --mem (128 bytes a key at
 * worst). For each partition: walk A and keep its keys' entries; walk B,
 * printing '+' for keys not kept and '~' for kept keys that differ, marking
 * the ones seen; then, if some kept key was not seen, walk A once more for
 * their names and print '-'. So the table never holds more than one
 * partition of A, each walk streams, and the cost of a small budget is
 * passes, not memory. Output is grouped by partition: within one, B's
 * order for '+' and '~', then A's order for '-'.
 *
 * Invariants:
 *  1. A key is reported at most once, in exactly one partition (its hash's).
 *  2. A value that does not load on either side is reported ('!') and
 *     counted, never silently equal; the exit status is then 2.
 *  3. Two different keys or contents colliding in 128 bits would be missed:
 *     about n^2 / 2^129.
 *
 * Threads: one. Durability: writes only to stdout/stderr.
 */
#include "tools/ins.h"

#include <inttypes.h>
#include <string.h>

#include "engine/err.h"

#define DIFF_MEM_DEFAULT (256ull << 20) /* --mem: about 2 million keys a pass */
#define KF_SEEN 1u
#define KF_BAD 2u
#define KF_PRINTED 4u

struct dstate {
    struct ins_ctx *cx;
    const struct iargs *a;
    struct src *sa, *sb;
    struct kset ks;
    unsigned parts, part;
    int phase; /* 0: keep A; 1: compare B; 2: name A's unseen */
    uint64_t added, removed, changed, same, bad, keys_a, keys_b, unseen;
};

static void line(struct dstate *d, char mark, const struct src_key *k, const char *why)
{
    struct out *o = d->cx->out;
    out_printf(o, "%c ", mark);
    if (k->db == SRC_DB_UNKNOWN)
        out_str(o, "?");
    else
        out_printf(o, "%u", k->db);
    out_write(o, " ", 1);
    out_quoted(o, k->key, k->klen, 0);
    if (why)
        out_printf(o, " (%s)", why);
    out_write(o, "\n", 1);
}

static int content(struct dstate *d, struct src *s, const struct src_key *k, struct val_hash *h)
{
    struct entry *e = NULL;
    const char *why = NULL;
    int rc = src_value(s, k, &e, &why);

    if (rc != ST_OK) {
        line(d, '!', k, why ? why : st_strerror(rc));
        d->bad++;
        return rc == ST_ENOMEM ? rc : 1;
    }
    rc = val_hash(e, h);
    entry_destroy(e);
    return rc;
}

static int on_key(void *ud, const struct src_key *k)
{
    struct dstate *d = ud;
    uint64_t lo, hi;

    if (!cmd_filter(d->a, k))
        return 0;
    kset_hash_key(k->db, k->key, k->klen, &lo, &hi);
    if (kset_part(lo, d->parts) != d->part)
        return 0;
    if (d->phase == 0) {
        int fresh;
        struct val_hash h = {0};
        struct kent *e = kset_add(&d->ks, lo, hi, &fresh);
        if (!e)
            return ST_ENOMEM;
        if (!fresh)
            return 0; /* a duplicate key (verify says so): compare the first */
        d->keys_a++;
        int rc = content(d, d->sa, k, &h);
        if (rc < 0)
            return rc;
        e->flags = rc ? KF_BAD : 0;
        e->clo = h.lo;
        e->chi = h.hi;
        e->type = k->type;
        e->expire_ms = k->expire_ms;
        return out_ok(d->cx->out) ? 0 : 1;
    }
    struct kent *e = kset_find(&d->ks, lo, hi);
    if (d->phase == 2) {
        if (e && !(e->flags & (KF_SEEN | KF_PRINTED))) {
            e->flags |= KF_PRINTED;
            line(d, '-', k, NULL);
            d->removed++;
        }
        return out_ok(d->cx->out) ? 0 : 1;
    }
    d->keys_b++;
    if (!e) {
        line(d, '+', k, NULL);
        d->added++;
        return out_ok(d->cx->out) ? 0 : 1;
    }
    if (e->flags & KF_SEEN)
        return 0; /* a duplicate in B */
    e->flags |= KF_SEEN;
    struct val_hash h = {0};
    int rc = content(d, d->sb, k, &h);
    if (rc < 0)
        return rc;
    if (rc || (e->flags & KF_BAD))
        return out_ok(d->cx->out) ? 0 : 1;
    char why[32] = "";
    if (e->type != k->type)
        strcat(why, "type");
    if (e->clo != h.lo || e->chi != h.hi)
        strcat(why, why[0] ? ",value" : "value");
    if (e->expire_ms != k->expire_ms)
        strcat(why, why[0] ? ",expiry" : "expiry");
    if (why[0]) {
        line(d, '~', k, why);
        d->changed++;
    } else {
        d->same++;
    }
    return out_ok(d->cx->out) ? 0 : 1;
}

static int count_key(void *ud, const struct src_key *k)
{
    (*(uint64_t *)ud)++;
    (void)k;
    return 0;
}

static int walk(struct dstate *d, struct src *s, unsigned flags)
{
    struct src_cbs cbs = {.key = on_key, .ud = d};
    int rc = src_each(s, flags, &cbs);
    if (rc != ST_OK && out_ok(d->cx->out)) {
        uint64_t off;
        const char *what;
        src_error(s, &off, &what);
        if (rc == ST_ECORRUPT)
            fprintf(d->cx->err, "strata-inspect: %s: damaged at offset %" PRIu64 ": %s (run verify)\n",
                    src_info(s)->path, off, what ? what : "?");
        else if (rc != 1)
            fprintf(d->cx->err, "strata-inspect: %s: %s\n", src_info(s)->path, st_strerror(rc));
    }
    return rc;
}

int cmd_diff(struct ins_ctx *cx, const struct iargs *a)
{
    struct dstate d = {.cx = cx, .a = a};
    int x, rc = ST_OK;

    if ((x = cmd_open(cx, a, a->pos[0], &d.sa)) != INS_EXIT_OK)
        return x == INS_EXIT_DAMAGED ? INS_EXIT_CANNOT : x;
    if ((x = cmd_open(cx, a, a->pos[1], &d.sb)) != INS_EXIT_OK) {
        src_close(&d.sa);
        return x == INS_EXIT_DAMAGED ? INS_EXIT_CANNOT : x;
    }
    uint64_t na = 0;
    if (src_info(d.sa)->kind == SRC_SNAP) {
        na = src_info(d.sa)->meta.keys;
    } else {
        struct src_cbs cbs = {.key = count_key, .ud = &na};
        rc = src_each(d.sa, 0, &cbs);
    }
    d.parts = kset_parts(na, a->mem ? a->mem : DIFF_MEM_DEFAULT);
    for (d.part = 0; rc == ST_OK && d.part < d.parts; d.part++) {
        if (kset_reserve(&d.ks, (size_t)(na / d.parts + na / d.parts / 10 + 1024)) != ST_OK) {
            rc = ST_ENOMEM;
            break;
        }
        kset_clear(&d.ks);
        d.phase = 0;
        if ((rc = walk(&d, d.sa, SRC_WITH_DATA)) != ST_OK)
            break;
        d.phase = 1;
        if ((rc = walk(&d, d.sb, SRC_WITH_DATA)) != ST_OK)
            break;
        uint64_t unseen = 0;
        for (size_t i = 0; i < d.ks.cap; i++)
            unseen += (d.ks.v[i].klo || d.ks.v[i].khi) && !(d.ks.v[i].flags & KF_SEEN);
        if (unseen) {
            d.phase = 2;
            rc = walk(&d, d.sa, 0);
        }
    }
    kset_free(&d.ks);
    src_close(&d.sa);
    src_close(&d.sb);
    if (!out_ok(cx->out))
        return INS_EXIT_PIPE;
    if (rc != ST_OK)
        return INS_EXIT_CANNOT;
    out_printf(cx->out,
               "# %" PRIu64 " added, %" PRIu64 " removed, %" PRIu64 " changed, %" PRIu64 " unchanged (%" PRIu64
               " keys in A, %" PRIu64 " in B; %u pass%s)%s\n",
               d.added, d.removed, d.changed, d.same, d.keys_a, d.keys_b, d.parts, d.parts == 1 ? "" : "es",
               d.bad ? "; some values did not load ('!')" : "");
    if (d.bad)
        return INS_EXIT_CANNOT;
    return d.added || d.removed || d.changed ? INS_EXIT_DAMAGED : INS_EXIT_OK;
}
