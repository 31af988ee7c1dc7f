/*
 * server.h -- the server instance: configuration, keyspace, command registry,
 * workers and listeners. No global state: main() owns one struct server, and
 * tests may run two side by side.
 */
#ifndef STRATA_SERVER_H
#define STRATA_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "engine/keyspace.h"
#include "server/cmd.h"
#include "server/config.h"
#include "server/info.h"
#include "server/stats.h"

struct worker;
struct blk_registry;

struct tiering;
struct wlog;
struct persist;

struct server {
    struct config cfg;
    struct keyspace *ks;
    struct cmd_table *cmds;
    struct blk_registry *blk;          /* clients blocked on keys (blocking.c) */
    struct worker **workers;
    int nworkers;

    int listen_fds[CFG_MAX_BIND];
    int nlisten;
    int acceptor_epfd;                 /* main thread's epoll: listeners + signals */
    int signal_fd;
    int stop_fd;                       /* eventfd: shutdown requested */
    _Atomic int shutdown_requested;
    _Atomic unsigned next_worker;      /* round-robin for new connections */

    _Atomic uint64_t next_client_id;
    _Atomic int nclients;              /* all workers */
    int64_t start_ms;
    int64_t start_mono_us;
    char run_id[41];
    char *config_file;                 /* absolute path, NULL if none */
    char *executable;
    int tcp_port_bound;                /* the port actually listened on */
    _Atomic uint64_t mem_peak;         /* highest used_memory INFO has seen */
    _Atomic uint64_t mem_used_cache;   /* maxmem_used's last reading */
    _Atomic int64_t mem_used_at_us;    /* when it was taken (monotonic) */
    struct tiering *tiering;           /* cold tiers; NULL when none configured */
    struct wlog *wlog;                 /* the append log; NULL when appendonly is off */
    struct persist *persist;           /* snapshots, save rules, backups (persist.c) */
    int shutdown_save;                 /* SHUTDOWN: 1 SAVE, -1 NOSAVE, 0 as the save rules say */
    _Atomic uint64_t rejected_conns;   /* refused by maxclients (acceptor) */
    struct info_inst inst;             /* instantaneous metrics (info.c) */
    uint64_t expired_keys_base;        /* stats_lock: ks expired_keys at RESETSTAT */

    pthread_mutex_t stats_lock;        /* guards stats_base */
    struct worker_stats stats_base;    /* CONFIG RESETSTAT baseline (cmds owned) */
};

/* Sums every worker's stats, minus the RESETSTAT baseline, into out (out->cmds
 * is allocated [cmds->n]; free with server_stats_free). */
void server_stats_sum(struct server *srv, struct worker_stats *out);
void server_stats_free(struct worker_stats *s);
/* CONFIG RESETSTAT. */
void server_stats_reset(struct server *srv);

/* The encoding thresholds in force now (from CONFIG), for type commands. */
struct type_limits;
void server_type_limits(struct server *srv, struct type_limits *out);

/* Asks the server to stop (SHUTDOWN, SIGTERM): any thread. */
void server_request_shutdown(struct server *srv);

/* Lifecycle, called from main: create (config already loaded into cfg),
 * listen, run until shutdown, destroy. Return 0 or an st_err. */
int server_init(struct server *srv);
int server_listen(struct server *srv);
int server_run(struct server *srv);
void server_deinit(struct server *srv);

#endif
