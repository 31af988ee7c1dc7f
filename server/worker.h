/*
 * worker.h -- a worker thread: its own epoll loop, its clients, its stats,
 * its share of keyspace housekeeping (active expiry, rehashing of the shards
 * with index % nworkers == worker id), and an inbox other threads post to.
 */
#ifndef STRATA_WORKER_H
#define STRATA_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "engine/util.h"
#include "server/ev.h"
#include "engine/evict.h"
#include "server/stats.h"

struct server;
struct client;
struct worker;

typedef void worker_msg_fn(struct worker *w, void *arg);

struct worker_msg {
    worker_msg_fn *fn;
    void *arg;
    struct worker_msg *next;
    /* NULL for a message worker_post allocated (freed after fn). Set for one
     * embedded in its sender's object (worker_post_msg): never freed by the
     * worker; if the worker is destroyed with it undelivered, drop(w, arg)
     * runs instead of fn, so the owner can let go of it. */
    worker_msg_fn *drop;
};

/* Keys that became DRAM-resident, oldest first (maxmem.c: demotion victims
 * without sampling a mostly cold table). */
struct hot_item {
    int db;
    uint32_t klen;
    uint32_t stamp; /* LRU clock when queued (second chance if accessed since) */
    char *key;      /* owned */
};

struct hot_ring {
    struct hot_item *it;
    size_t cap, head, len;
};

struct worker {
    int id;
    struct server *srv;
    pthread_t thread;
    struct ev_loop *loop;
    int wakefd;                     /* eventfd; inbox has messages */

    pthread_mutex_t inbox_lock;
    struct worker_msg *inbox_head;  /* inbox_lock */
    struct worker_msg *inbox_tail;  /* inbox_lock */

    pthread_mutex_t clients_lock;   /* guards the list and the clients' shared fields */
    struct client *clients;         /* clients_lock (writes), owner reads freely */
    _Atomic int nclients;

    struct client **flush;          /* clients with output to send this round */
    int nflush, flush_cap;

    struct ev_timer cron;           /* hz timer: expiry, rehash, timeouts */
    struct worker_stats stats;      /* written by this thread only */
    struct util_rng rng;
    struct evict_pool evict_pool;   /* maxmemory victims (this thread only) */
    struct evict_pool cascade_pool; /* maxmem.c: coldest stubs of a full stub tier (this thread only) */
    struct evict_pool cold_pool;    /* maxmem.c: stubs to evict when they fill the budget (this thread) */
    int64_t hot_check_ms;           /* maxmem.c: when hot_remain was last counted */
    int hot_remain;                 /* maxmem.c: more than 1% of keys are in DRAM */
    uint64_t cold_dram;             /* maxmem.c: DRAM the cold keys hold, at least */
    struct hot_ring hot;            /* maxmem.c: DRAM-resident keys in arrival order */
    int64_t now_ms;                 /* cached at the start of each event batch */
    uint64_t log_need;              /* append log records staged by this worker's commands that
                                     * must be durable before its replies go (appendfsync always) */
    _Atomic uint64_t recent_max_qbuf; /* largest client query buffer (cron) */
    _Atomic uint64_t recent_max_obuf; /* largest client output buffer (cron) */
};

/* Creates worker id of srv (loop, eventfd, stats). Returns it or NULL. */
struct worker *worker_create(struct server *srv, int id);
void worker_destroy(struct worker **wp);

/* Starts the thread. Returns 0 or ST_EIO. */
int worker_start(struct worker *w);
/* Joins the thread (after server shutdown was requested and woken). */
void worker_join(struct worker *w);

/* Runs fn(w, arg) on w's thread soon. Any thread. Returns 0 or ST_ENOMEM. */
int worker_post(struct worker *w, worker_msg_fn *fn, void *arg);

/* Queues the caller's own message m (fn, arg and drop set; drop non-NULL) for
 * w's thread; it must not be queued twice at once. Any thread; cannot fail. */
void worker_post_msg(struct worker *w, struct worker_msg *m);

/* Hands a freshly accepted socket to w (any thread). */
int worker_adopt(struct worker *w, int fd);

/* Wakes w's loop (eventfd). Any thread. */
void worker_wake(struct worker *w);

/* Queues c to have its output flushed after the current event batch. */
void worker_want_flush(struct worker *w, struct client *c);

#endif
