/*
 * ssd_expire.c -- active expiry of the SSD tier's keys (tiers/ssd.c owns
 * the design; this file owns one structure).
 *
 * A key whose record has an expiry must leave the tier when it expires,
 * read or not: DBSIZE, INFO keyspace and the space accounting count it
 * until then (Redis's active expiry does the same for DRAM). Whole
 * segments whose every record expired are dropped by the maintenance
 * (ssd_compact.c), but a segment still taking appends, or one mixing
 * expiries, holds expired keys for as long as it lives. So the tier keeps,
 * for every indexed record with an expiry, one heap entry:
 *
 *   struct sexp { i64 at (the record's expire_ms); u64 h (the key's hash
 *                 under the index's seed); u64 loc (the record's loc);
 *                 u32 db }                                     32 bytes
 *
 * in a binary min-heap by `at`, under exp_mu. The maintenance round pops
 * every entry whose time has come and drops the index entry it names if
 * that entry is still the one at loc (sidx: stripe of (db, h), entry of h's
 * fingerprint at loc); anything else (the key was rewritten, removed,
 * compacted elsewhere, flushed) makes the heap entry stale, and a stale
 * entry is simply discarded. No note is written: an expired record never
 * wins at attach (ssd_attach.c drops expired winners), so dropping its
 * index entry loses nothing a restart would bring back.
 *
 * Invariants:
 *  1. Every indexed record with an expiry has a heap entry with its loc:
 *     insert pushes one, compaction pushes one for the new loc of each
 *     record it moves, attach pushes one for each record it indexes.
 *  2. A heap entry only ever removes the index entry it was made for
 *     (same db, same hash, same loc, same segment generation).
 *
 * DRAM: 32 bytes per key with an expiry on the tier, counted in maxmemory
 * through the allocator. Threads: any (exp_mu); ssd_exp_run takes stripe
 * locks while holding no other lock of the tier's.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "tiers/ssd_int.h"

static void sift_up(struct sexp *v, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (v[p].at <= v[i].at)
            break;
        struct sexp tmp = v[p];
        v[p] = v[i];
        v[i] = tmp;
        i = p;
    }
}

static void sift_down(struct sexp *v, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && v[l].at < v[m].at)
            m = l;
        if (r < n && v[r].at < v[m].at)
            m = r;
        if (m == i)
            return;
        struct sexp tmp = v[m];
        v[m] = v[i];
        v[i] = tmp;
        i = m;
    }
}

void ssd_exp_push(struct ssd *t, int64_t at, int db, uint64_t h, uint64_t loc)
{
    pthread_mutex_lock(&t->exp_mu);
    if (t->exp_n == t->exp_cap) {
        size_t nc = t->exp_cap ? t->exp_cap * 2 : 1024;
        struct sexp *nv = realloc(t->exp, nc * sizeof(*nv));
        if (!nv) {
            /* no room to remember it: the key still expires when read or
             * when its segment goes; counted so INFO can tell */
            pthread_mutex_unlock(&t->exp_mu);
            ssd_count(&t->st.expire_untracked, 1);
            return;
        }
        t->exp = nv;
        t->exp_cap = nc;
    }
    t->exp[t->exp_n] = (struct sexp){ .at = at, .h = h, .loc = loc, .db = (uint32_t)db };
    sift_up(t->exp, t->exp_n);
    t->exp_n++;
    pthread_mutex_unlock(&t->exp_mu);
}

/* Pops the earliest entry due at now into *out: 1, or 0 when none is due. */
static int pop_due(struct ssd *t, int64_t now, struct sexp *out)
{
    int got = 0;
    pthread_mutex_lock(&t->exp_mu);
    if (t->exp_n > 0 && t->exp[0].at <= now) {
        *out = t->exp[0];
        t->exp[0] = t->exp[--t->exp_n];
        sift_down(t->exp, t->exp_n, 0);
        got = 1;
    }
    if (t->exp_n == 0 && t->exp_cap > 4096) { /* give back a big empty heap */
        free(t->exp);
        t->exp = NULL;
        t->exp_cap = 0;
    }
    pthread_mutex_unlock(&t->exp_mu);
    return got;
}

uint64_t ssd_exp_run(struct ssd *t, int64_t now, uint64_t max)
{
    uint64_t dropped = 0;
    struct sexp e;
    for (uint64_t n = 0; n < max && pop_due(t, now, &e); n++) {
        struct sidx_stripe *st = sidx_lock(t->idx, (int)e.db, e.h, 0);
        if (!st)
            continue;
        uint64_t ent = ssd_entry_at_locked(t, st, sidx_fp_of(e.h), e.loc);
        if (ent) {
            sidx_del_locked(st, ent);
            struct seg *s = t->segs[sidx_ent_slot(ent)];
            if (s)
                __atomic_fetch_sub(&s->live, 1, __ATOMIC_RELAXED);
            dropped++;
        }
        sidx_unlock(st);
    }
    if (dropped)
        ssd_count(&t->st.keys_expired, dropped);
    return dropped;
}

void ssd_exp_swapdb(struct ssd *t, int a, int b)
{
    pthread_mutex_lock(&t->exp_mu);
    for (size_t i = 0; i < t->exp_n; i++) {
        if (t->exp[i].db == (uint32_t)a)
            t->exp[i].db = (uint32_t)b;
        else if (t->exp[i].db == (uint32_t)b)
            t->exp[i].db = (uint32_t)a;
    }
    pthread_mutex_unlock(&t->exp_mu);
}

uint64_t ssd_exp_pending(struct ssd *t)
{
    pthread_mutex_lock(&t->exp_mu);
    uint64_t n = t->exp_n;
    pthread_mutex_unlock(&t->exp_mu);
    return n;
}

void ssd_exp_free(struct ssd *t)
{
    free(t->exp);
    t->exp = NULL;
    t->exp_n = t->exp_cap = 0;
}
