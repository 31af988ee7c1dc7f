/*
 * server.c -- the server instance's lifecycle and the acceptor.
 *
 * Threads:
 *   main      runs server_run(): an epoll over the listening sockets, a
 *             signalfd (SIGINT, SIGTERM) and the shutdown eventfd. It accepts
 *             connections, enforces maxclients, and hands each socket to a
 *             worker round-robin (worker_adopt). It never touches keys.
 *   workers   one per `threads`, see worker.c.
 *   lazyfree  the keyspace's background freeing thread (keyspace.c).
 *
 * Shutdown: SHUTDOWN or a signal sets shutdown_requested and writes stop_fd;
 * main wakes, stops accepting, wakes and joins the workers (each closes its
 * clients), then frees everything. Exit status 0.
 */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/tlimits.h"
#include "engine/util.h"
#include "server/blocking.h"
#include "server/log.h"
#include "server/maxmem.h"
#include "server/persist.h"
#include "server/tiering.h"
#include "server/worker.h"

static void on_config_set(struct config *cfg, const char *name, void *ud)
{
    struct server *srv = ud;
    if (strcmp(name, "loglevel") == 0)
        log_set_level((int)cfg_load(cfg->loglevel));
    else if (strcmp(name, "maxmemory-policy") == 0 || strcmp(name, "lfu-log-factor") == 0 ||
             strcmp(name, "lfu-decay-time") == 0)
        maxmem_apply_config(srv);
}

/* SIGINT and SIGTERM go to the acceptor's signalfd only: block them before
 * any thread exists (workers, lazyfree) so every thread inherits the mask. */
static void block_signals(sigset_t *mask)
{
    sigemptyset(mask);
    sigaddset(mask, SIGINT);
    sigaddset(mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, mask, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int server_init(struct server *srv)
{
    sigset_t mask;
    block_signals(&mask);
    srv->acceptor_epfd = srv->signal_fd = srv->stop_fd = -1;
    srv->start_ms = util_time_ms();
    srv->start_mono_us = util_mono_us();
    pthread_mutex_init(&srv->stats_lock, NULL);
    if (info_inst_init(&srv->inst) != ST_OK)
        return ST_EIO;
    srv->cfg.on_set = on_config_set;
    srv->cfg.on_set_ud = srv;

    unsigned char rnd[20];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        for (size_t i = 0; i < sizeof(rnd); i++)
            rnd[i] = (unsigned char)(util_time_us() >> (i % 8));
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(srv->run_id + 2 * i, 3, "%02x", rnd[i]);

    long long shards = srv->cfg.keyspace_shards;
    unsigned bits = 0;
    while ((1ll << bits) < shards)
        bits++;
    struct keyspace_conf kc = { .shard_bits = bits, .databases = (unsigned)srv->cfg.databases, .seed = 0 };
    srv->ks = ks_create(&kc);
    if (!srv->ks) {
        log_warn("cannot create the keyspace (%u shards, %u databases)", 1u << bits, kc.databases);
        return ST_ENOMEM;
    }
    maxmem_apply_config(srv);
    if (tiering_create(srv, &srv->tiering) != ST_OK)
        return ST_EIO;
    srv->blk = blk_create();
    if (!srv->blk)
        return ST_ENOMEM;
    srv->cmds = cmd_table_create();
    if (!srv->cmds) {
        log_warn("cannot build the command table (out of memory or a duplicate command name)");
        return ST_ENOMEM;
    }
    srv->stats_base.cmds = calloc((size_t)srv->cmds->n, sizeof(struct cmd_stat));
    if (!srv->stats_base.cmds)
        return ST_ENOMEM;
    srv->nworkers = (int)srv->cfg.threads;
    srv->workers = calloc((size_t)srv->nworkers, sizeof(*srv->workers));
    if (!srv->workers)
        return ST_ENOMEM;
    for (int i = 0; i < srv->nworkers; i++) {
        srv->workers[i] = worker_create(srv, i);
        if (!srv->workers[i]) {
            log_warn("cannot create worker %d", i);
            return ST_ENOMEM;
        }
    }
    return ST_OK;
}

static int listen_one(struct server *srv, const char *addr, int port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    char portstr[16];
    const char *host = addr;
    int optional = 0;
    if (host[0] == '-') { /* "-::1": skip quietly when unavailable, as Redis */
        optional = 1;
        host++;
    }
    if (strcmp(host, "*") == 0)
        host = NULL;
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        log_warn("bind %s: %s", addr, gai_strerror(rc));
        return optional ? ST_OK : ST_EINVAL;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, (int)srv->cfg.tcp_backlog) == 0)
            break;
        log_warn("could not listen on %s:%d: %s", addr, port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return optional ? ST_OK : ST_EIO;
    srv->listen_fds[srv->nlisten++] = fd;
    log_notice("listening on %s:%d", host ? host : "*", port);
    return ST_OK;
}

int server_listen(struct server *srv)
{
    for (int i = 0; i < srv->cfg.nbind; i++) {
        int rc = listen_one(srv, srv->cfg.bind[i], (int)srv->cfg.port);
        if (rc != ST_OK)
            return rc;
    }
    if (srv->nlisten == 0) {
        log_warn("no address to listen on");
        return ST_EIO;
    }
    srv->tcp_port_bound = (int)srv->cfg.port;
    return ST_OK;
}

void server_request_shutdown(struct server *srv)
{
    atomic_store(&srv->shutdown_requested, 1);
    uint64_t one = 1;
    if (srv->stop_fd >= 0) {
        ssize_t r = write(srv->stop_fd, &one, sizeof(one));
        (void)r;
    }
    for (int i = 0; i < srv->nworkers; i++)
        if (srv->workers[i])
            worker_wake(srv->workers[i]);
}

static void accept_all(struct server *srv, int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR)
                log_warn("accept: %s", strerror(errno));
            return;
        }
        if (atomic_load(&srv->nclients) >= (int)cfg_load(srv->cfg.maxclients)) {
            static const char msg[] = "-ERR max number of clients reached\r\n";
            ssize_t r = write(fd, msg, sizeof(msg) - 1);
            (void)r;
            close(fd);
            atomic_fetch_add(&srv->rejected_conns, 1);
            log_verbose("connection refused: maxclients reached");
            continue;
        }
        unsigned w = atomic_fetch_add(&srv->next_worker, 1) % (unsigned)srv->nworkers;
        if (worker_adopt(srv->workers[w], fd) != ST_OK)
            close(fd);
    }
}

int server_run(struct server *srv)
{
    sigset_t mask;
    block_signals(&mask);
    srv->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    srv->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    srv->acceptor_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (srv->signal_fd < 0 || srv->stop_fd < 0 || srv->acceptor_epfd < 0) {
        log_warn("cannot set up the acceptor: %s", strerror(errno));
        return ST_EIO;
    }
    struct epoll_event ev = { .events = EPOLLIN };
    for (int i = 0; i < srv->nlisten; i++) {
        ev.data.fd = srv->listen_fds[i];
        epoll_ctl(srv->acceptor_epfd, EPOLL_CTL_ADD, srv->listen_fds[i], &ev);
    }
    ev.data.fd = srv->signal_fd;
    epoll_ctl(srv->acceptor_epfd, EPOLL_CTL_ADD, srv->signal_fd, &ev);
    ev.data.fd = srv->stop_fd;
    epoll_ctl(srv->acceptor_epfd, EPOLL_CTL_ADD, srv->stop_fd, &ev);

    for (int i = 0; i < srv->nworkers; i++) {
        if (worker_start(srv->workers[i]) != ST_OK) {
            log_warn("cannot start worker thread %d", i);
            server_request_shutdown(srv);
            for (int j = 0; j < i; j++)
                worker_join(srv->workers[j]);
            return ST_EIO;
        }
    }
    log_notice("Strata %s ready to accept connections (%d worker threads, %u shards, %lld databases)",
               STRATA_VERSION, srv->nworkers, srv->ks->nshards, srv->cfg.databases);

    while (!atomic_load(&srv->shutdown_requested)) {
        struct epoll_event evs[16];
        int n = epoll_wait(srv->acceptor_epfd, evs, 16, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_warn("acceptor epoll: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == srv->signal_fd) {
                struct signalfd_siginfo si;
                if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                    log_notice("received %s, shutting down", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                server_request_shutdown(srv);
            } else if (fd == srv->stop_fd) {
                uint64_t v;
                ssize_t r = read(fd, &v, sizeof(v));
                (void)r;
            } else {
                accept_all(srv, fd);
            }
        }
    }
    for (int i = 0; i < srv->nlisten; i++) {
        close(srv->listen_fds[i]);
        srv->listen_fds[i] = -1;
    }
    srv->nlisten = 0;
    for (int i = 0; i < srv->nworkers; i++)
        worker_join(srv->workers[i]);
    log_notice("Strata is now ready to exit, bye bye...");
    return ST_OK;
}

void server_deinit(struct server *srv)
{
    /* reads of indexed tiers still in flight report to the workers: let
     * them land in the inboxes first (their owners are freed from there) */
    tiering_drain(srv->tiering);
    if (srv->workers) {
        for (int i = 0; i < srv->nworkers; i++)
            worker_destroy(&srv->workers[i]);
        free(srv->workers);
        srv->workers = NULL;
    }
    for (int i = 0; i < srv->nlisten; i++)
        close(srv->listen_fds[i]);
    srv->nlisten = 0;
    blk_destroy(&srv->blk); /* after the workers: their clients cancelled their waits */
    persist_free(srv);
    ks_destroy(&srv->ks);
    tiering_destroy(&srv->tiering); /* after the keyspace: its lazyfree may still drop records */
    cmd_table_destroy(&srv->cmds);
    free(srv->stats_base.cmds);
    srv->stats_base.cmds = NULL;
    if (srv->acceptor_epfd >= 0)
        close(srv->acceptor_epfd);
    if (srv->signal_fd >= 0)
        close(srv->signal_fd);
    if (srv->stop_fd >= 0)
        close(srv->stop_fd);
    srv->acceptor_epfd = srv->signal_fd = srv->stop_fd = -1;
    pthread_mutex_destroy(&srv->stats_lock);
    info_inst_deinit(&srv->inst);
}

void server_type_limits(struct server *srv, struct type_limits *out)
{
    struct config *cfg = &srv->cfg;
    out->hash_max_lp_entries = (uint32_t)cfg_load(cfg->hash_max_listpack_entries);
    out->hash_max_lp_value = (uint32_t)cfg_load(cfg->hash_max_listpack_value);
    out->list_max_lp_size = (int32_t)cfg_load(cfg->list_max_listpack_size);
    out->set_max_intset_entries = (uint32_t)cfg_load(cfg->set_max_intset_entries);
    out->set_max_lp_entries = (uint32_t)cfg_load(cfg->set_max_listpack_entries);
    out->set_max_lp_value = (uint32_t)cfg_load(cfg->set_max_listpack_value);
    out->zset_max_lp_entries = (uint32_t)cfg_load(cfg->zset_max_listpack_entries);
    out->zset_max_lp_value = (uint32_t)cfg_load(cfg->zset_max_listpack_value);
    out->hll_sparse_max_bytes = (uint32_t)cfg_load(cfg->hll_sparse_max_bytes);
}

/* ---- stats ---- */

static void add_stats(struct worker_stats *out, const struct worker_stats *in, int ncmds, int sign)
{
#define ADD(f) out->f += (uint64_t)sign * STAT_GET(in->f)
    ADD(connections_received);
    ADD(rejected_connections);
    ADD(commands_processed);
    ADD(net_input_bytes);
    ADD(net_output_bytes);
    ADD(keyspace_hits);
    ADD(keyspace_misses);
    ADD(error_replies);
    ADD(client_qbuf_limit_disconnections);
    ADD(client_output_limit_disconnections);
    ADD(protocol_errors);
    ADD(expired_keys_active);
    ADD(expire_cycle_us);
    ADD(evicted_keys);
    ADD(cascade_moves);
    ADD(oom_rejections);
    for (int i = 0; i < ncmds; i++) {
        ADD(cmds[i].calls);
        ADD(cmds[i].usec);
        ADD(cmds[i].rejected_calls);
        ADD(cmds[i].failed_calls);
    }
#undef ADD
    for (int i = 0; i < STATS_MAX_ERROR_CODES; i++) {
        uint64_t cnt = STAT_GET(in->errors[i].count);
        if (cnt == 0 || in->errors[i].code[0] == '\0')
            continue;
        int j = 0;
        for (; j < STATS_MAX_ERROR_CODES; j++) {
            if (out->errors[j].code[0] == '\0') {
                memcpy(out->errors[j].code, in->errors[i].code, sizeof(out->errors[j].code));
                break;
            }
            if (strcmp(out->errors[j].code, in->errors[i].code) == 0)
                break;
        }
        if (j < STATS_MAX_ERROR_CODES)
            out->errors[j].count += (uint64_t)sign * cnt;
    }
}

void server_stats_sum(struct server *srv, struct worker_stats *out)
{
    int n = srv->cmds->n;
    memset(out, 0, sizeof(*out));
    out->cmds = calloc((size_t)n, sizeof(struct cmd_stat));
    if (!out->cmds)
        n = 0;
    for (int i = 0; i < srv->nworkers; i++)
        add_stats(out, &srv->workers[i]->stats, n, 1);
    out->rejected_connections += atomic_load(&srv->rejected_conns);
    pthread_mutex_lock(&srv->stats_lock);
    add_stats(out, &srv->stats_base, n, -1);
    pthread_mutex_unlock(&srv->stats_lock);
}

void server_stats_free(struct worker_stats *s)
{
    free(s->cmds);
    s->cmds = NULL;
}

void server_stats_reset(struct server *srv)
{
    struct worker_stats now;
    int n = srv->cmds->n;
    memset(&now, 0, sizeof(now));
    now.cmds = calloc((size_t)n, sizeof(struct cmd_stat));
    if (!now.cmds)
        return;
    for (int i = 0; i < srv->nworkers; i++)
        add_stats(&now, &srv->workers[i]->stats, n, 1);
    now.rejected_connections += atomic_load(&srv->rejected_conns);
    struct ks_stats kst;
    ks_stats(srv->ks, &kst);
    pthread_mutex_lock(&srv->stats_lock);
    free(srv->stats_base.cmds);
    srv->stats_base = now;
    srv->expired_keys_base = kst.expired_keys + (srv->tiering ? tiering_expired_keys(srv->tiering) : 0);
    pthread_mutex_unlock(&srv->stats_lock);
}
