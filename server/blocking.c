/*
 * blocking.c -- the registry of clients blocked on keys (contract and
 * protocol diagram in blocking.h).
 *
 * Data model (all under reg->lock):
 *
 *   buckets[hash(db, key)] -> keyq -> keyq ...        one keyq per (db, key)
 *   keyq: head -> qnode -> qnode -> ... <- tail       FIFO of waiters
 *   waiter: qnodes[nkeys], one per key it waits on
 *
 * A waiter is queued on every key it names; the first key to serve it
 * removes it from all of them. State changes (WAITING -> SERVED or
 * CANCELLED) happen only here, under the lock; the waiter's memory belongs
 * to its client's worker, which frees it after replying or, when a message
 * to that worker is in flight (`inflight`), after the message is handled.
 *
 * Threads: blk_block, the resume callback and the delivery messages run on
 * the waiter's worker; blk_signal on any worker that writes a key;
 * blk_unblock_client on any worker. `nwaiters` is read without the lock so
 * that a write to a key nobody waits for costs one atomic load.
 */
#include "server/blocking.h"

#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/ht.h"
#include "server/client.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/worker.h"

struct blk_keyq;

struct blk_qnode {
    struct blk_waiter *w;
    struct blk_keyq *q;
    struct blk_qnode *prev, *next;
};

struct blk_keyq {
    struct blk_keyq *hnext;
    uint64_t hash;
    int db;
    size_t len;
    char *key;
    struct blk_qnode *head, *tail;
};

struct blk_registry {
    pthread_mutex_t lock;
    struct blk_keyq **buckets; /* lock */
    size_t nbuckets;           /* power of two; lock */
    size_t nkeyqs;             /* lock */
    _Atomic uint64_t nwaiters; /* waiters in WAITING state */
    uint64_t seed;
};

struct blk_registry *blk_create(void)
{
    struct blk_registry *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->nbuckets = 64;
    r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
    if (!r->buckets) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->seed = (uint64_t)(uintptr_t)r * 0x9E3779B97F4A7C15ull;
    return r;
}

void blk_destroy(struct blk_registry **rp)
{
    struct blk_registry *r = *rp;
    if (!r)
        return;
    /* waiters belong to clients, which are gone by now; only keyqs remain */
    for (size_t i = 0; i < r->nbuckets; i++) {
        struct blk_keyq *q = r->buckets[i];
        while (q) {
            struct blk_keyq *n = q->hnext;
            free(q->key);
            free(q);
            q = n;
        }
    }
    free(r->buckets);
    pthread_mutex_destroy(&r->lock);
    free(r);
    *rp = NULL;
}

static uint64_t keyq_hash(const struct blk_registry *r, int db, const void *key, size_t len)
{
    return ht_hash(r->seed ^ (uint64_t)db, key, len);
}

static struct blk_keyq *keyq_find(struct blk_registry *r, int db, const void *key, size_t len, uint64_t h)
{
    for (struct blk_keyq *q = r->buckets[h & (r->nbuckets - 1)]; q; q = q->hnext)
        if (q->hash == h && q->db == db && q->len == len && memcmp(q->key, key, len) == 0)
            return q;
    return NULL;
}

static void grow(struct blk_registry *r)
{
    size_t n = r->nbuckets * 2;
    struct blk_keyq **b = calloc(n, sizeof(*b));
    if (!b)
        return; /* longer chains; still correct */
    for (size_t i = 0; i < r->nbuckets; i++) {
        struct blk_keyq *q = r->buckets[i];
        while (q) {
            struct blk_keyq *next = q->hnext;
            q->hnext = b[q->hash & (n - 1)];
            b[q->hash & (n - 1)] = q;
            q = next;
        }
    }
    free(r->buckets);
    r->buckets = b;
    r->nbuckets = n;
}

static struct blk_keyq *keyq_get(struct blk_registry *r, int db, const void *key, size_t len)
{
    uint64_t h = keyq_hash(r, db, key, len);
    struct blk_keyq *q = keyq_find(r, db, key, len, h);
    if (q)
        return q;
    q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->key = malloc(len ? len : 1);
    if (!q->key) {
        free(q);
        return NULL;
    }
    memcpy(q->key, key, len);
    q->len = len;
    q->db = db;
    q->hash = h;
    if (r->nkeyqs >= r->nbuckets * 2)
        grow(r);
    size_t b = h & (r->nbuckets - 1);
    q->hnext = r->buckets[b];
    r->buckets[b] = q;
    r->nkeyqs++;
    return q;
}

static void keyq_drop_if_empty(struct blk_registry *r, struct blk_keyq *q)
{
    if (q->head)
        return;
    struct blk_keyq **pp = &r->buckets[q->hash & (r->nbuckets - 1)];
    while (*pp && *pp != q)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = q->hnext;
    r->nkeyqs--;
    free(q->key);
    free(q);
}

/* Takes w out of every queue (lock held). */
static void dequeue(struct blk_registry *r, struct blk_waiter *w)
{
    for (int i = 0; i < w->nkeys; i++) {
        struct blk_qnode *n = &w->qnodes[i];
        struct blk_keyq *q = n->q;
        if (!q)
            continue;
        if (n->prev)
            n->prev->next = n->next;
        else
            q->head = n->next;
        if (n->next)
            n->next->prev = n->prev;
        else
            q->tail = n->prev;
        n->q = NULL;
        n->prev = n->next = NULL;
        keyq_drop_if_empty(r, q);
    }
}

static void waiter_free(struct blk_waiter *w)
{
    if (w->free_state)
        w->free_state(w->state);
    for (int i = 0; i < w->nkeys; i++)
        free(w->keys[i].p);
    free(w->keys);
    free(w->qnodes);
    free(w);
}

/* ---- on the waiter's worker ---- */

static void blk_resume(struct client *c, void *ud, enum resume_why why)
{
    struct blk_waiter *w = ud;
    struct blk_registry *r = w->reg;

    if (why == RESUME_WAKE) {
        /* a delivery message woke us: SERVED, or CANCELLED by CLIENT UNBLOCK */
        if (w->st == BLK_SERVED) {
            if (w->log_need > c->w->log_need) /* this worker's flush waits for the pop's record */
                c->w->log_need = w->log_need;
            w->reply(c, w, BLK_REPLY_SERVED);
        }
        else if (w->unblock == 2)
            reply_error(c, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
        else
            w->reply(c, w, BLK_REPLY_TIMEOUT);
        waiter_free(w);
        return;
    }

    pthread_mutex_lock(&r->lock);
    if (w->st == BLK_WAITING) {
        dequeue(r, w);
        w->st = BLK_CANCELLED;
        atomic_fetch_sub(&r->nwaiters, 1);
        pthread_mutex_unlock(&r->lock);
        if (why == RESUME_TIMEOUT)
            w->reply(c, w, BLK_REPLY_TIMEOUT);
        waiter_free(w);
        return;
    }
    /* a message is on its way to this worker */
    if (why == RESUME_CANCEL) {
        w->c = NULL; /* the message handler undoes and frees */
        pthread_mutex_unlock(&r->lock);
        return;
    }
    pthread_mutex_unlock(&r->lock);
    /* the deadline passed after a serve: wait (without deadline) for it */
    if (client_suspend(c, blk_resume, w, 0) != ST_OK) {
        /* cannot wait: let the message find no client and undo */
        w->c = NULL;
        reply_error(c, "ERR out of memory while unblocking");
    }
}

static void blk_deliver(struct worker *wk, void *arg)
{
    struct blk_waiter *w = arg;
    (void)wk;
    if (w->c) {
        client_wake(w->c); /* runs blk_resume(WAKE), which frees w */
        return;
    }
    if (w->st == BLK_SERVED && w->undo)
        w->undo(w, wk->srv->ks);
    waiter_free(w);
}

int blk_block(struct blk_registry *r, struct client *c, int db, const struct blk_key *keys, int nkeys,
              int64_t timeout_us, blk_serve_fn *serve, blk_reply_fn *reply, blk_undo_fn *undo,
              blk_free_fn *free_state, void *state)
{
    /* replaying the log: the record of a pop that blocked is the pop that
     * served it, logged apart (wlog.h); this one changed nothing */
    if (c->flags & CLIENT_REPLAY)
        goto fail_state;
    struct blk_waiter *w = calloc(1, sizeof(*w));
    if (!w)
        goto fail_state;
    w->keys = calloc((size_t)nkeys, sizeof(*w->keys));
    w->qnodes = calloc((size_t)nkeys, sizeof(*w->qnodes));
    if (!w->keys || !w->qnodes)
        goto fail_w;
    for (int i = 0; i < nkeys; i++) {
        w->keys[i].p = malloc(keys[i].len ? keys[i].len : 1);
        if (!w->keys[i].p)
            goto fail_w;
        memcpy(w->keys[i].p, keys[i].p, keys[i].len);
        w->keys[i].len = keys[i].len;
        w->nkeys = i + 1;
    }
    w->c = c;
    w->client_id = c->id;
    w->w = c->w;
    w->reg = r;
    w->db = db;
    w->serve = serve;
    w->reply = reply;
    w->undo = undo;
    w->free_state = free_state;
    w->state = state;

    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < nkeys; i++) {
        struct blk_keyq *q = keyq_get(r, db, w->keys[i].p, w->keys[i].len);
        if (!q) {
            dequeue(r, w);
            pthread_mutex_unlock(&r->lock);
            goto fail_w_nostate;
        }
        struct blk_qnode *n = &w->qnodes[i];
        n->w = w;
        n->q = q;
        n->prev = q->tail;
        n->next = NULL;
        if (q->tail)
            q->tail->next = n;
        else
            q->head = n;
        q->tail = n;
    }
    w->st = BLK_WAITING;
    atomic_fetch_add(&r->nwaiters, 1);
    if (client_suspend(c, blk_resume, w, timeout_us) != ST_OK) {
        dequeue(r, w);
        atomic_fetch_sub(&r->nwaiters, 1);
        pthread_mutex_unlock(&r->lock);
        goto fail_w_nostate;
    }
    pthread_mutex_unlock(&r->lock);
    return ST_OK;

fail_w_nostate:
    waiter_free(w);
    return ST_ENOMEM;
fail_w:
    w->state = NULL;
    w->free_state = NULL;
    waiter_free(w);
fail_state:
    if (free_state)
        free_state(state);
    return ST_ENOMEM;
}

/* ---- on any worker ---- */

void blk_signal(struct blk_registry *r, struct keyspace *ks, int db, const struct ks_key *k)
{
    if (atomic_load_explicit(&r->nwaiters, memory_order_acquire) == 0)
        return;
    pthread_mutex_lock(&r->lock);
    uint64_t h = keyq_hash(r, db, k->p, k->len);
    struct blk_keyq *q = keyq_find(r, db, k->p, k->len, h);
    while (q && q->head) {
        struct blk_waiter *w = q->head->w;
        if (!w->serve(w, ks, db, k))
            break;
        for (int i = 0; i < w->nkeys; i++)
            if (w->qnodes[i].q == q) {
                w->served_key = &w->keys[i];
                break;
            }
        /* dequeue frees q when it empties, and a waiter may be queued on the
         * same key more than once (BLPOP k k): look q up again afterwards */
        dequeue(r, w);
        w->st = BLK_SERVED;
        w->inflight = 1;
        atomic_fetch_sub(&r->nwaiters, 1);
        if (worker_post(w->w, blk_deliver, w) != ST_OK)
            log_warn("blocking: cannot notify a served client (out of memory); it stays blocked");
        q = keyq_find(r, db, k->p, k->len, h);
    }
    pthread_mutex_unlock(&r->lock);
}

void blk_signal_db(struct blk_registry *r, struct keyspace *ks, int db)
{
    if (atomic_load(&r->nwaiters) == 0)
        return;
    /* copy the keys out: blk_signal needs the shard lock, taken before ours */
    size_t n = 0, cap = 0;
    struct blk_key *keys = NULL;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nbuckets; i++)
        for (struct blk_keyq *q = r->buckets[i]; q; q = q->hnext) {
            if (q->db != db)
                continue;
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                struct blk_key *nk = realloc(keys, ncap * sizeof(*nk));
                if (!nk)
                    goto copied;
                keys = nk;
                cap = ncap;
            }
            keys[n].p = malloc(q->len ? q->len : 1);
            if (!keys[n].p)
                goto copied;
            memcpy(keys[n].p, q->key, q->len);
            keys[n].len = q->len;
            n++;
        }
copied:
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < n; i++) {
        struct ks_key k;
        ks_key_init(ks, &k, keys[i].p, keys[i].len);
        ks_lock(ks, k.shard);
        blk_signal(r, ks, db, &k);
        ks_unlock(ks, k.shard);
        free(keys[i].p);
    }
    free(keys);
}

uint64_t blk_count(struct blk_registry *r)
{
    return atomic_load(&r->nwaiters);
}

int blk_unblock_client(struct blk_registry *r, uint64_t client_id, int with_error)
{
    struct blk_waiter *found = NULL;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nbuckets && !found; i++)
        for (struct blk_keyq *q = r->buckets[i]; q && !found; q = q->hnext)
            for (struct blk_qnode *n = q->head; n; n = n->next)
                if (n->w->client_id == client_id && n->w->st == BLK_WAITING) {
                    found = n->w;
                    break;
                }
    if (found) {
        dequeue(r, found);
        found->st = BLK_CANCELLED;
        found->unblock = with_error ? 2 : 1;
        found->inflight = 1;
        atomic_fetch_sub(&r->nwaiters, 1);
        if (worker_post(found->w, blk_deliver, found) != ST_OK)
            log_warn("blocking: cannot deliver CLIENT UNBLOCK (out of memory)");
    }
    pthread_mutex_unlock(&r->lock);
    return found != NULL;
}
