/*
 * maxmem.c -- the DRAM budget (contract in maxmem.h).
 *
 * What counts: every byte the allocator has handed out (jemalloc's
 * stats.allocated; the sanitizer allocator's count in ASan builds): keys,
 * values, stubs of cold keys, tables, client buffers, compression
 * dictionaries, the tiers' DRAM indexes and buffers (DESIGN.md invariant 5).
 * Only the mem test tier's records are taken out: that tier stands in for
 * memory that is not DRAM.
 *
 * What happens over budget (Redis's performEvictions, adapted to tiers):
 *   - a victim is picked by maxmemory-policy (engine/evict.h);
 *   - with a tier that has room, it is demoted (tiering_demote): its DRAM
 *     value becomes an 8-byte stub;
 *   - otherwise it is evicted (deleted) -- unless the policy is noeviction,
 *     when the command is refused with -OOM if it may grow memory;
 *   - when every sampled key is already cold, the coldest stubs are evicted
 *     (their records dropped): the stubs themselves are DRAM -- but only
 *     while evicting every stub could give back the excess. An excess made
 *     elsewhere (client buffers, a dictionary being trained) evicts nothing
 *     and refuses nothing: keys cannot give that memory back, and the
 *     buffers have their own limits;
 *   - under noeviction with a tier, victims for demotion are picked as
 *     allkeys-lru would; only evictions are off.
 * Work per call is bounded (MAXMEM_BUDGET_US and a victim count), so a
 * command never stalls its worker for long; what is left is done by the
 * next command or by the cron.
 *
 * Threads: any worker; each uses its own evict pool. The used-memory cache
 * is shared (relaxed atomics: a stale figure by a millisecond is fine).
 */
#include "server/maxmem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef STRATA_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
/* libasan's count of live heap bytes (sanitizer/allocator_interface.h, which
 * Debian's gcc 12 does not ship) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "engine/entry.h"
#include "engine/err.h"
#include "engine/evict.h"
#include "engine/keyspace.h"
#include "engine/util.h"
#include "server/client.h"
#include "server/cmd.h"
#include "server/config.h"
#include "server/info.h"
#include "server/server.h"
#include "server/tiering.h"
#include "server/wlog.h"
#include "server/worker.h"

#define MAXMEM_BUDGET_US 1000  /* per command */
#define MAXMEM_CRON_US 2000    /* per cron tick */
#define MAXMEM_REFRESH_US 1000 /* used-memory cache lifetime */
#define MAXMEM_VICTIMS 4       /* per command that may grow memory */

static uint64_t allocator_bytes(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#elif defined(STRATA_JEMALLOC)
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch), v = 0;
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    sz = sizeof(v);
    if (mallctl("stats.allocated", &v, &sz, NULL, 0) != 0)
        return info_used_memory();
    return v;
#else
    return info_used_memory();
#endif
}

uint64_t maxmem_used(struct server *srv, int fresh)
{
    int64_t now = util_mono_us();
    int64_t at = atomic_load_explicit(&srv->mem_used_at_us, memory_order_relaxed);
    if (!fresh && now - at < MAXMEM_REFRESH_US)
        return atomic_load_explicit(&srv->mem_used_cache, memory_order_relaxed);
    uint64_t used = allocator_bytes();
    uint64_t tier_heap = srv->tiering ? tiering_heap_bytes(srv->tiering) : 0;
    used = used > tier_heap ? used - tier_heap : 0;
    atomic_store_explicit(&srv->mem_used_cache, used, memory_order_relaxed);
    atomic_store_explicit(&srv->mem_used_at_us, now, memory_order_relaxed);
    return used;
}

void maxmem_apply_config(struct server *srv)
{
    int policy = (int)cfg_load(srv->cfg.maxmemory_policy);
    ks_set_access_policy(srv->ks, evict_is_lfu(policy), (uint32_t)cfg_load(srv->cfg.lfu_log_factor),
                         (uint32_t)cfg_load(srv->cfg.lfu_decay_time));
}

static int only_hot(const struct entry *e, void *ud)
{
    (void)ud;
    return e->enc != ENC_TIER;
}

static int only_cold(const struct entry *e, void *ud)
{
    (void)ud;
    return e->enc == ENC_TIER;
}

/* Deletes the candidate (evict). Returns the bytes it held, 0 if it is gone. */
static size_t evict_one(struct worker *w, int policy, struct evict_cand *cand, int64_t now_ms)
{
    struct keyspace *ks = w->srv->ks;
    struct ks_key k;
    struct entry **ref = evict_take(ks, policy, cand, now_ms, &k);
    if (!ref)
        return 0;
    size_t n = entry_mem(*ref) + sizeof(void *);
    /* the log says so (k borrows the entry: before it goes) */
    wlog_append_key(w->srv->wlog, cand->db, "DEL", k.p, k.len, 0, NULL, NULL);
    ks_delete_ref(ks, cand->db, &k, ref);
    ks_unlock(ks, k.shard);
    STAT_ADD(w->stats.evicted_keys, 1);
    return n;
}

enum { FREE_OK, FREE_RUNNING, FREE_FAIL };

static int cascade_run(struct worker *w, int64_t budget_us, int max_moves);

/* ---- the queue of DRAM-resident keys --------------------------------------
 *
 * With tiers, most of a big keyspace is cold, and sampling random entries for
 * a hot victim costs many cache misses per find. So each worker also queues
 * the keys its commands made DRAM-resident (inserted, promoted), and takes
 * demotion victims from the front: CLOCK over arrival order -- a key read
 * since it was queued goes to the back once more (second chance). Entries
 * for keys since deleted or demoted are skipped when they come up. Bounded:
 * past its bound the oldest entries are dropped (sampling still finds
 * those keys). The bound is HOT_RING_MAX entries, and fewer under a small
 * budget: the queue's own DRAM (an item and its key copy, HOT_ITEM_DRAM
 * bytes or so) stays within a sixteenth of maxmemory. */
#define HOT_RING_MAX (1u << 20)
#define HOT_RING_MIN 1024u
#define HOT_ITEM_DRAM 64u

static int ring_pop(struct hot_ring *r, struct hot_item *out)
{
    if (r->len == 0)
        return 0;
    *out = r->it[r->head];
    r->head = (r->head + 1) % r->cap;
    r->len--;
    return 1;
}

static size_t ring_bound(uint64_t limit)
{
    uint64_t n = limit / 16 / HOT_ITEM_DRAM;
    return n < HOT_RING_MIN ? HOT_RING_MIN : n > HOT_RING_MAX ? HOT_RING_MAX : (size_t)n;
}

static void ring_push(struct hot_ring *r, struct hot_item it, size_t bound)
{
    if (r->len >= bound) { /* full: drop the oldest */
        struct hot_item old;
        ring_pop(r, &old);
        free(old.key);
    }
    if (r->len == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 1024;
        struct hot_item *n = malloc(ncap * sizeof(*n));
        if (!n) {
            free(it.key);
            return;
        }
        for (size_t i = 0; i < r->len; i++)
            n[i] = r->it[(r->head + i) % r->cap];
        free(r->it);
        r->it = n;
        r->cap = ncap;
        r->head = 0;
    }
    r->it[(r->head + r->len) % r->cap] = it;
    r->len++;
}

void maxmem_note_born(struct worker *w)
{
    size_t n = 0;
    struct ks_tracked *t = ks_cold_take_born(&n);
    uint32_t now = ks_lru_clock(w->srv->ks) & KS_LRU_CLOCK_MAX;
    size_t bound = ring_bound((uint64_t)cfg_load(w->srv->cfg.maxmemory));
    for (size_t i = 0; i < n; i++)
        ring_push(&w->hot, (struct hot_item){ .db = t[i].db, .klen = t[i].klen, .stamp = now, .key = t[i].key },
                  bound);
    free(t);
}

void maxmem_worker_deinit(struct worker *w)
{
    struct hot_item it;
    while (ring_pop(&w->hot, &it))
        free(it.key);
    free(w->hot.it);
    memset(&w->hot, 0, sizeof(w->hot));
}

/* The next demotion victim from the queue, into *out (key owned by out).
 * Returns 1, or 0 when the queue gave none in a bounded number of looks. */
static int ring_victim(struct worker *w, int64_t now_ms, struct evict_cand *out)
{
    struct keyspace *ks = w->srv->ks;
    struct hot_item it;
    for (int looks = 0; looks < 32 && ring_pop(&w->hot, &it); looks++) {
        struct ks_key k;
        ks_key_init(ks, &k, it.key, it.klen);
        ks_lock(ks, k.shard);
        struct entry **ref = ks_find_ref(ks, it.db, &k, now_ms, KS_F_NOTOUCH | KS_F_STUB);
        int hot = ref && (*ref)->enc != ENC_TIER;
        uint32_t acc = hot ? (*ref)->access & KS_LRU_CLOCK_MAX : 0;
        ks_unlock(ks, k.shard);
        if (!hot) {
            free(it.key); /* deleted or already cold */
            continue;
        }
        if (acc != it.stamp && looks < 24) { /* read since queued: second chance */
            it.stamp = acc;
            ring_push(&w->hot, it, ring_bound((uint64_t)cfg_load(w->srv->cfg.maxmemory)));
            continue;
        }
        memset(out, 0, sizeof(*out));
        out->db = it.db;
        out->klen = it.klen;
        out->key = it.key;
        return 1;
    }
    return 0;
}

/* The DRAM a cold key costs at least: its entry with the 8-byte stub, and a
 * table slot; its key bytes and the allocator's rounding come on top
 * (docs/benchmarks.md measures 57.8 bytes with everything counted). */
#define COLD_KEY_DRAM_MIN (sizeof(struct entry) + 8 + sizeof(void *))

/* Counts the keyspace, at most every 100 ms (counting locks every shard):
 * w->hot_remain is 1 while more than 1% of the keys are in DRAM, and
 * w->cold_dram is what evicting every cold key would give back at least. */
static void count_keys(struct worker *w, struct tiering *tg, int64_t now_ms)
{
    if (now_ms - w->hot_check_ms < 100 && now_ms >= w->hot_check_ms)
        return;
    struct ks_stats st;
    ks_stats(w->srv->ks, &st);
    uint64_t cold = tiering_cold_keys(tg);
    w->hot_remain = st.keys > cold && (st.keys - cold) * 100 > st.keys;
    w->cold_dram = cold * COLD_KEY_DRAM_MIN;
    w->hot_check_ms = now_ms;
}

/* Frees until `need` bytes are given back, budget_us passes or max_victims
 * keys were taken; *freed gets the estimate of what went. */
static int free_memory(struct worker *w, uint64_t need, int64_t budget_us, int max_victims, uint64_t *freed)
{
    struct server *srv = w->srv;
    int policy = (int)cfg_load(srv->cfg.maxmemory_policy);
    unsigned samples = (unsigned)cfg_load(srv->cfg.maxmemory_samples);
    struct tiering *tg = srv->tiering;
    int64_t start = util_mono_us(), now_ms = util_time_ms();
    int can_evict = policy != EVICT_NOEVICTION;
    int pick = policy == EVICT_NOEVICTION ? EVICT_ALLKEYS_LRU : policy;
    int victims = 0;

    *freed = 0;
    if (!can_evict && !(tg && tiering_can_demote(tg)))
        return FREE_FAIL;
    while (*freed < need) {
        if (victims >= max_victims || util_mono_us() - start > budget_us)
            return FREE_RUNNING;
        victims++;
        int demote = tg && tiering_can_demote(tg);
        struct evict_cand cand;
        if (demote) {
            /* In a mostly cold keyspace, finding hot keys costs many probes:
             * top the pool up only when it runs low (candidates gone stale
             * are re-checked when taken). */
            int queued = !evict_is_volatile(pick) && ring_victim(w, now_ms, &cand);
            if (!queued && w->evict_pool.n < EVICT_POOL / 2)
                evict_sample(srv->ks, pick, samples, now_ms, &w->evict_pool, only_hot, NULL);
            if (queued || evict_pool_pop(&w->evict_pool, &cand)) {
                size_t got = 0;
                int rc = tiering_demote(tg, cand.db, cand.key, cand.klen, now_ms, &got);
                if (rc == ST_OK) {
                    *freed += got;
                    cascade_run(w, budget_us, 1); /* one in, one on, while PMem is past its mark */
                } else if (rc == ST_EFULL || rc == ST_EIO) {
                    /* the last tier is full (or failed): evict instead */
                    if (!can_evict) {
                        evict_cand_free(&cand);
                        return FREE_FAIL;
                    }
                    *freed += evict_one(w, pick, &cand, now_ms);
                }
                evict_cand_free(&cand);
                continue;
            }
            /* Nothing hot found. While DRAM still holds values (more than
             * 1% of the keys are hot), sampling was unlucky: try again later
             * rather than evict a cold key -- eviction is for when the
             * stubs themselves fill the budget. Counting locks every shard
             * once, on this rare path only. */
            count_keys(w, tg, now_ms);
            if (w->hot_remain)
                return FREE_RUNNING;
            /* Evicting stubs helps only when they could give back the
             * excess: an excess made elsewhere (client buffers, a dictionary
             * being trained) would take every key and still be there. Then
             * nothing is evicted and nothing refused. */
            if (w->cold_dram < need - *freed)
                return FREE_RUNNING;
            /* nothing hot left to demote: the stubs themselves must go --
             * to an indexed tier (SSD) if there is one, where a key costs no
             * stub, else evicted. They have their own pool: cold candidates
             * left in the demotion pool would each cost a victim for
             * nothing. */
            if (w->cold_pool.n < EVICT_POOL / 2)
                evict_sample(srv->ks, pick, samples, now_ms, &w->cold_pool, only_cold, NULL);
            if (tiering_has_indexed(tg) && evict_pool_pop(&w->cold_pool, &cand)) {
                size_t got = 0;
                int rc = tiering_demote_further(tg, cand.db, cand.key, cand.klen, now_ms, &got);
                if (rc == ST_OK) {
                    *freed += got;
                    evict_cand_free(&cand);
                    continue;
                }
                if (rc == ST_EAGAIN || rc == ST_ENOENT || !can_evict) {
                    evict_cand_free(&cand);
                    if (!can_evict)
                        return FREE_FAIL;
                    continue;
                }
                *freed += evict_one(w, pick, &cand, now_ms);
                evict_cand_free(&cand);
                continue;
            }
            if (!can_evict)
                return FREE_FAIL;
            if (!evict_pool_pop(&w->cold_pool, &cand))
                return FREE_FAIL;
            *freed += evict_one(w, pick, &cand, now_ms);
            evict_cand_free(&cand);
            continue;
        }
        if (!can_evict)
            return FREE_FAIL;
        evict_sample(srv->ks, pick, samples, now_ms, &w->evict_pool, NULL, NULL);
        if (!evict_pool_pop(&w->evict_pool, &cand))
            return FREE_FAIL; /* nothing to take (e.g. volatile-* and no TTLs) */
        *freed += evict_one(w, pick, &cand, now_ms);
        evict_cand_free(&cand);
    }
    return FREE_OK;
}

/* ---- the cascade: a full stub tier's coldest keys move on ---------------- */

static int stub_of_tier(const struct entry *e, void *ud)
{
    if (e->enc != ENC_TIER)
        return 0;
    struct entry_stub st;
    entry_stub_get(e, &st);
    return st.tier == (uint8_t)(uintptr_t)ud;
}

static int cascade_run(struct worker *w, int64_t budget_us, int max_moves)
{
    struct server *srv = w->srv;
    struct tiering *tg = srv->tiering;
    if (!tg)
        return 0;
    int from = tiering_cascade_source(tg, (int)cfg_load(srv->cfg.pmem_cascade_watermark));
    if (from < 0)
        return 0;
    unsigned samples = (unsigned)cfg_load(srv->cfg.maxmemory_samples);
    int64_t start = util_mono_us(), now_ms = util_time_ms();
    int moved = 0;
    for (long tries = 0; moved < max_moves && tries < (long)max_moves * 4; tries++) {
        if (util_mono_us() - start > budget_us)
            break;
        struct evict_cand cand;
        if (w->cascade_pool.n < EVICT_POOL / 2)
            evict_sample(srv->ks, EVICT_ALLKEYS_LRU, samples, now_ms, &w->cascade_pool, stub_of_tier,
                         (void *)(uintptr_t)from);
        if (!evict_pool_pop(&w->cascade_pool, &cand))
            break;
        int rc = tiering_demote_further(tg, cand.db, cand.key, cand.klen, now_ms, NULL);
        evict_cand_free(&cand);
        if (rc == ST_OK)
            moved++;
        else if (rc == ST_EFULL || rc == ST_EIO)
            break; /* the indexed tier has no room (it evicts on its own) */
        if (tiering_cascade_source(tg, (int)cfg_load(srv->cfg.pmem_cascade_watermark)) != from)
            break;
    }
    if (moved)
        STAT_ADD(w->stats.cascade_moves, (uint64_t)moved);
    return moved;
}

void maxmem_cascade(struct worker *w, int64_t budget_us)
{
    cascade_run(w, budget_us, 1 << 20); /* the time budget decides */
}

/* What freeing gave back comes off the cached figure at once, so the next
 * commands do not free it again before the allocator's totals are re-read. */
static void used_minus(struct server *srv, uint64_t freed)
{
    uint64_t cur = atomic_load_explicit(&srv->mem_used_cache, memory_order_relaxed);
    atomic_store_explicit(&srv->mem_used_cache, cur > freed ? cur - freed : 0, memory_order_relaxed);
}

int maxmem_before_command(struct client *c, const struct cmd_entry *e)
{
    struct server *srv = c->srv;
    uint64_t limit = (uint64_t)cfg_load(srv->cfg.maxmemory);
    if (limit == 0)
        return 0;
    uint64_t used = maxmem_used(srv, 0);
    if (used <= limit)
        return 0;
    uint64_t freed = 0;
    /* A few victims per command that may grow memory, one for others: a
     * write or a promotion frees about what it takes, so the budget is held
     * on average, and no command pays for a large backlog (the cron works
     * on that). */
    int victims = (e->def->flags & CMD_DENYOOM) ? MAXMEM_VICTIMS : 1;
    int rc = free_memory(c->w, used - limit, MAXMEM_BUDGET_US, victims, &freed);
    used_minus(srv, freed);
    if (rc != FREE_FAIL)
        return 0;
    /* nothing more to free: refuse what may grow memory */
    used = maxmem_used(srv, 1);
    if (used > limit && (e->def->flags & CMD_DENYOOM))
        return -1;
    return 0;
}

void maxmem_cron(struct worker *w)
{
    struct server *srv = w->srv;
    uint64_t limit = (uint64_t)cfg_load(srv->cfg.maxmemory);
    if (limit == 0)
        return;
    uint64_t used = maxmem_used(srv, 1);
    uint64_t freed = 0;
    if (used > limit)
        free_memory(w, used - limit, MAXMEM_CRON_US, INT32_MAX, &freed);
    used_minus(srv, freed);
}
