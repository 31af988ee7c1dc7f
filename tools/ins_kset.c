/*
 * ins_kset.c -- the bounded-memory key tables of strata-inspect: an open-
 * addressing table of 48-byte entries keyed by a 128-bit hash of (db, key),
 * and the partitioning that keeps it under a memory budget.
 *
 * What it owns: the table and the partition rule. Callers (diff, verify's
 * duplicate-key check) own what they keep in an entry and the passes.
 *
 * Bounded memory without spilling: a command that must remember every key
 * of an input (diff: each key's content hash; verify: each key once)
 * computes nparts = ceil(keys * KSET_BYTES_PER_KEY / budget) from the
 * snapshot footer's key count before it starts, and walks its inputs
 * nparts times, keeping in pass i only the keys whose hash falls in
 * partition i. Nothing is written to disk; time grows with nparts, memory
 * stays under the budget. The table is sized once for a partition's share
 * of the keys (kset_reserve), so no growth copies an old table beside a new
 * one. With the default 256 MiB budget one pass covers about 2 million keys.
 *
 * Invariants:
 *  1. A hash of (0, 0) is never stored (it marks free slots): kset_hash_key
 *     maps it to (1, 0).
 *  2. n <= 3/4 cap; cap is a power of two; growth doubles.
 *
 * Threads: one. Durability: none.
 */
#include "tools/ins.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "engine/err.h"

void kset_hash_key(uint32_t db, const void *key, size_t klen, uint64_t *lo, uint64_t *hi)
{
    XXH128_hash_t h = XXH3_128bits_withSeed(key, klen, (uint64_t)db * 0x9E3779B97F4A7C15ull + 1);
    if (h.low64 == 0 && h.high64 == 0)
        h.low64 = 1;
    *lo = h.low64;
    *hi = h.high64;
}

unsigned kset_parts(uint64_t keys, uint64_t budget)
{
    if (budget < 4096)
        budget = 4096;
    uint64_t need = keys * KSET_BYTES_PER_KEY;
    uint64_t p = (need + budget - 1) / budget;
    return p == 0 ? 1 : p > 65536 ? 65536 : (unsigned)p;
}

static size_t kpos(const struct kset *k, uint64_t lo)
{
    return (size_t)((lo ^ (lo >> 29)) & (k->cap - 1));
}

struct kent *kset_find(const struct kset *k, uint64_t lo, uint64_t hi)
{
    if (!k->cap)
        return NULL;
    for (size_t p = kpos(k, lo);; p = (p + 1) & (k->cap - 1)) {
        struct kent *e = &k->v[p];
        if (!e->klo && !e->khi)
            return NULL;
        if (e->klo == lo && e->khi == hi)
            return e;
    }
}

static int kgrow(struct kset *k)
{
    size_t nc = k->cap ? k->cap * 2 : 1024, oc = k->cap;
    struct kent *nv = calloc(nc, sizeof(*nv)), *old = k->v;

    if (!nv)
        return ST_ENOMEM;
    k->v = nv;
    k->cap = nc;
    for (size_t i = 0; i < oc; i++) {
        if (!old[i].klo && !old[i].khi)
            continue;
        size_t p = kpos(k, old[i].klo);
        while (k->v[p].klo || k->v[p].khi)
            p = (p + 1) & (nc - 1);
        k->v[p] = old[i];
    }
    free(old);
    return ST_OK;
}

struct kent *kset_add(struct kset *k, uint64_t lo, uint64_t hi, int *fresh)
{
    *fresh = 0;
    if ((k->n + 1) * 4 > k->cap * 3 && kgrow(k) != ST_OK)
        return NULL;
    for (size_t p = kpos(k, lo);; p = (p + 1) & (k->cap - 1)) {
        struct kent *e = &k->v[p];
        if (!e->klo && !e->khi) {
            memset(e, 0, sizeof(*e));
            e->klo = lo;
            e->khi = hi;
            k->n++;
            *fresh = 1;
            return e;
        }
        if (e->klo == lo && e->khi == hi)
            return e;
    }
}

int kset_reserve(struct kset *k, size_t n)
{
    size_t cap = 1024;
    while (cap / 4 * 3 < n)
        cap *= 2;
    if (cap <= k->cap)
        return ST_OK;
    kset_free(k);
    k->v = calloc(cap, sizeof(*k->v));
    if (!k->v)
        return ST_ENOMEM;
    k->cap = cap;
    return ST_OK;
}

void kset_clear(struct kset *k)
{
    if (k->v)
        memset(k->v, 0, k->cap * sizeof(*k->v));
    k->n = 0;
}

void kset_free(struct kset *k)
{
    free(k->v);
    k->v = NULL;
    k->cap = k->n = 0;
}
