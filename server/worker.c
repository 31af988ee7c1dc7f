/*
 * worker.c -- a worker thread: event loop, clients, cron, inbox.
 *
 * Loop of one iteration:
 *   1. epoll_wait (timeout: next timer);
 *   2. file events: read + execute per client (client.c), replies buffered;
 *   3. due timers (the cron at `hz`, suspended commands' deadlines);
 *   4. flush every client that got output in this iteration.
 *
 * The cron runs at `hz`: it advances the LRU clock (worker 0), runs active
 * expiry and incremental rehashing for the shards this worker owns (shard %
 * nworkers == id) within a CPU budget per tick, and checks its clients'
 * idle timeouts and output limits.
 *
 * Other threads talk to a worker only through worker_post (a mutex-guarded
 * FIFO plus an eventfd that wakes the loop): new connections from the
 * acceptor, CLIENT KILL, and later unblocking of waiting clients.
 */
#include "server/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/keyspace.h"
#include "server/maxmem.h"
#include "server/tiering.h"
#include "server/client_internal.h"
#include "server/log.h"
#include "server/server.h"
#include "server/wlog.h"

/* Share of each cron tick active expiry may use, as Redis's
 * ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC (25%) scaled by active-expire-effort. */
#define EXPIRE_CPU_PERC 25

static void inbox_event(struct ev_loop *l, int fd, int mask, void *ud)
{
    struct worker *w = ud;
    uint64_t v;
    (void)l;
    (void)mask;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
    pthread_mutex_lock(&w->inbox_lock);
    struct worker_msg *m = w->inbox_head;
    w->inbox_head = w->inbox_tail = NULL;
    pthread_mutex_unlock(&w->inbox_lock);
    while (m) {
        struct worker_msg *next = m->next;
        int owned = m->drop != NULL; /* read before fn: fn may free (or requeue) it */
        m->fn(w, m->arg);
        if (!owned)
            free(m);
        m = next;
    }
    /* CLIENT KILL from another worker sets kill_requested, then wakes us */
    struct client *c = w->clients, *cn;
    for (; c; c = cn) {
        cn = c->next;
        if (atomic_load_explicit(&c->kill_requested, memory_order_relaxed))
            client_cron(c, w->now_ms);
    }
}

static void cron(struct ev_loop *l, struct ev_timer *t)
{
    struct worker *w = t->ud;
    struct server *srv = w->srv;
    struct keyspace *ks = srv->ks;
    long long hz = cfg_load(srv->cfg.hz);
    if (hz < 1)
        hz = 1;
    int64_t now_ms = util_time_ms();
    w->now_ms = now_ms;
    if (w->id == 0)
        ks_tick(ks, now_ms);

    /* active expiry over our shards, within the tick's budget */
    long long effort = cfg_load(srv->cfg.active_expire_effort);
    int64_t budget = (1000000 / hz) * (EXPIRE_CPU_PERC + 2 * (effort - 1)) / 100;
    int64_t start = util_mono_us();
    uint64_t expired = 0;
    for (unsigned s = (unsigned)w->id; s < ks->nshards; s += (unsigned)srv->nworkers) {
        int64_t left = budget - (util_mono_us() - start);
        if (left <= 0)
            break;
        expired += ks_expire_cycle(ks, s, now_ms, left);
    }
    STAT_ADD(w->stats.expired_keys_active, expired);
    STAT_ADD(w->stats.expire_cycle_us, (uint64_t)(util_mono_us() - start));

    /* incremental rehash: 1 ms per tick across our shards */
    int64_t rstart = util_mono_us();
    for (unsigned s = (unsigned)w->id; s < ks->nshards; s += (unsigned)srv->nworkers) {
        if (util_mono_us() - rstart > 1000)
            break;
        ks_rehash_cycle(ks, s, 200);
    }

    if (w->id == 0)
        info_inst_sample(srv, util_mono_us());

    /* over the DRAM budget without traffic: keep demoting / evicting; a
     * stub tier past its watermark sends its coldest records on */
    maxmem_cron(w);
    maxmem_cascade(w, MAXMEM_CASCADE_CRON_US);
    if (srv->tiering)
        tiering_collect_thread(srv->tiering);

    /* clients: timeouts, output limits, kill requests, buffer peaks */
    uint64_t maxq = 0, maxo = 0;
    struct client *c = w->clients, *next;
    for (; c; c = next) {
        next = c->next;
        if (client_cron(c, now_ms) < 0)
            continue;
        if (c->qcap > maxq)
            maxq = c->qcap;
        if (c->ocap > maxo)
            maxo = c->ocap;
    }
    atomic_store_explicit(&w->recent_max_qbuf, maxq, memory_order_relaxed);
    atomic_store_explicit(&w->recent_max_obuf, maxo, memory_order_relaxed);
    ev_timer_start(l, t, util_mono_us() + 1000000 / hz);
}

struct worker *worker_create(struct server *srv, int id)
{
    struct worker *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->id = id;
    w->srv = srv;
    w->wakefd = -1;
    pthread_mutex_init(&w->inbox_lock, NULL);
    pthread_mutex_init(&w->clients_lock, NULL);
    util_rng_seed(&w->rng, (uint64_t)util_time_us() ^ ((uint64_t)id << 32));
    evict_pool_init(&w->evict_pool, util_rng_next(&w->rng));
    evict_pool_init(&w->cascade_pool, util_rng_next(&w->rng));
    evict_pool_init(&w->cold_pool, util_rng_next(&w->rng));
    w->stats.cmds = calloc((size_t)srv->cmds->n, sizeof(struct cmd_stat));
    if (!w->stats.cmds)
        goto fail;
    w->loop = ev_create();
    if (!w->loop)
        goto fail;
    w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wakefd < 0)
        goto fail;
    if (ev_add(w->loop, w->wakefd, EV_READ, inbox_event, w) != ST_OK)
        goto fail;
    ev_timer_init(&w->cron, cron, w);
    w->now_ms = util_time_ms();
    return w;

fail:
    worker_destroy(&w);
    return NULL;
}

void worker_destroy(struct worker **wp)
{
    struct worker *w = *wp;
    if (!w)
        return;
    while (w->clients)
        client_free(w->clients);
    struct worker_msg *m = w->inbox_head;
    while (m) {
        struct worker_msg *next = m->next;
        /* undelivered connections are closed; other messages just dropped,
         * and embedded ones handed back to their owners */
        if (m->drop)
            m->drop(w, m->arg);
        else
            free(m);
        m = next;
    }
    evict_pool_deinit(&w->evict_pool);
    evict_pool_deinit(&w->cascade_pool);
    evict_pool_deinit(&w->cold_pool);
    maxmem_worker_deinit(w);
    if (w->wakefd >= 0)
        close(w->wakefd);
    ev_destroy(&w->loop);
    free(w->flush);
    free(w->stats.cmds);
    pthread_mutex_destroy(&w->inbox_lock);
    pthread_mutex_destroy(&w->clients_lock);
    free(w);
    *wp = NULL;
}

void worker_wake(struct worker *w)
{
    uint64_t one = 1;
    ssize_t r = write(w->wakefd, &one, sizeof(one));
    (void)r;
}

int worker_post(struct worker *w, worker_msg_fn *fn, void *arg)
{
    struct worker_msg *m = malloc(sizeof(*m));
    if (!m)
        return ST_ENOMEM;
    m->fn = fn;
    m->arg = arg;
    m->next = NULL;
    m->drop = NULL;
    pthread_mutex_lock(&w->inbox_lock);
    if (w->inbox_tail)
        w->inbox_tail->next = m;
    else
        w->inbox_head = m;
    w->inbox_tail = m;
    pthread_mutex_unlock(&w->inbox_lock);
    worker_wake(w);
    return ST_OK;
}

void worker_post_msg(struct worker *w, struct worker_msg *m)
{
    m->next = NULL;
    pthread_mutex_lock(&w->inbox_lock);
    if (w->inbox_tail)
        w->inbox_tail->next = m;
    else
        w->inbox_head = m;
    w->inbox_tail = m;
    pthread_mutex_unlock(&w->inbox_lock);
    worker_wake(w);
}

static void adopt_msg(struct worker *w, void *arg)
{
    int fd = (int)(intptr_t)arg;
    client_create(w, fd);
}

int worker_adopt(struct worker *w, int fd)
{
    return worker_post(w, adopt_msg, (void *)(intptr_t)fd);
}

void worker_want_flush(struct worker *w, struct client *c)
{
    if (c->flags & CLIENT_PENDING_WRITE)
        return;
    if (w->nflush == w->flush_cap) {
        int ncap = w->flush_cap ? w->flush_cap * 2 : 64;
        struct client **nf = realloc(w->flush, sizeof(*nf) * (size_t)ncap);
        if (!nf) {
            /* cannot queue: let epoll report the socket writable instead
             * (flushing here could free c under its caller's feet) */
            CLIENT_PUB(c->flags, c->flags | CLIENT_WANT_WRITE);
            ev_set(w->loop, c->fd, EV_READ | EV_WRITE);
            return;
        }
        w->flush = nf;
        w->flush_cap = ncap;
    }
    CLIENT_PUB(c->flags, c->flags | CLIENT_PENDING_WRITE);
    w->flush[w->nflush++] = c;
}

static void flush_pending(struct worker *w)
{
    /* flushing may run more input (backpressure released) and queue more */
    for (int i = 0; i < w->nflush; i++) {
        struct client *c = w->flush[i];
        if (!c)
            continue;
        w->flush[i] = NULL;
        CLIENT_PUB(c->flags, c->flags & ~CLIENT_PENDING_WRITE);
        client_flush(c);
    }
    w->nflush = 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct server *srv = w->srv;
    long long hz = cfg_load(srv->cfg.hz);
    ev_timer_start(w->loop, &w->cron, util_mono_us() + 1000000 / (hz > 0 ? hz : 10));
    while (!atomic_load(&srv->shutdown_requested)) {
        int was = ks_defer_begin();
        int n = ev_run_once(w->loop, 1000);
        ks_defer_end(was);
        if (n < 0) {
            log_warn("worker %d: epoll failed: %s", w->id, strerror(errno));
            break;
        }
        w->now_ms = util_time_ms();
        /* appendfsync always: no reply leaves before its record is durable */
        if (srv->wlog && w->log_need)
            wlog_wait_durable(srv->wlog, w);
        flush_pending(w);
    }
    ev_timer_stop(w->loop, &w->cron);
    return NULL;
}

int worker_start(struct worker *w)
{
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
        return ST_EIO;
    return ST_OK;
}

void worker_join(struct worker *w)
{
    worker_wake(w);
    pthread_join(w->thread, NULL);
}
