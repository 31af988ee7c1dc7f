/*
 * client.c -- one connection's life: read, parse, dispatch, reply, flush,
 * suspend and resume, limits, close.
 *
 * Per event: read once (at least 16 KiB of room, more when the parser knows
 * a bulk needs it), then parse and execute every complete command in the
 * query buffer, appending replies. The worker flushes all clients with
 * output after the whole event batch (one write(2) per client per batch, as
 * Redis's handleClientsWithPendingWrites); only a short write arms EPOLLOUT.
 *
 * Invariants:
 *  1. Replies leave in the order the commands arrived: while a command is
 *     suspended, no later command of the client runs.
 *  2. Memory per client is bounded: the query buffer by
 *     client-query-buffer-limit (beyond it the client is closed), the output
 *     by backpressure -- input stops being executed and read while more than
 *     OBUF_BACKPRESSURE bytes wait to be sent -- and by the
 *     client-output-buffer-limit hard/soft limits.
 *  3. A protocol error is answered with an error and the connection closed
 *     after the reply is flushed; the worker goes on serving others.
 *
 * Only the owning worker's thread runs this code for a given client.
 */
#include "server/client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/util.h"
#include "server/client_internal.h"
#include "server/cmd.h"
#include "server/config.h"
#include "server/ev.h"
#include "server/log.h"
#include "server/maxmem.h"
#include "server/persist.h"
#include "server/tiering.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/wlog.h"
#include "server/worker.h"

#define QBUF_CHUNK (16 * 1024)
#define QBUF_KEEP (64 * 1024)         /* shrink an idle query buffer above this */
#define OBUF_KEEP (64 * 1024)         /* shrink an empty output buffer above this */
#define OBUF_BACKPRESSURE (256 * 1024) /* stop executing input above this */

static void client_event(struct ev_loop *l, int fd, int mask, void *ud);

static void fmt_addr(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
        snprintf(out, outlen, "%s:%d", ip, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
        snprintf(out, outlen, "%s:%d", ip, port);
    } else {
        snprintf(out, outlen, "?:0");
    }
}

struct client *client_create(struct worker *w, int fd)
{
    struct server *srv = w->srv;
    struct client *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->w = w;
    c->srv = srv;
    c->resp = 2;
    c->id = atomic_fetch_add(&srv->next_client_id, 1) + 1;
    c->ctime_ms = c->last_interaction_ms = c->last_write_ms = util_time_ms();
    resp_parser_init(&c->parser);

    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    long long ka = cfg_load(srv->cfg.tcp_keepalive);
    if (ka > 0) {
        int iv = (int)ka;
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &iv, sizeof(iv));
        int intvl = iv / 3 ? iv / 3 : 1, cnt = 3;
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        fmt_addr(&ss, c->addr, sizeof(c->addr));
    sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        fmt_addr(&ss, c->laddr, sizeof(c->laddr));

    pthread_mutex_lock(&srv->cfg.lock);
    if (!srv->cfg.requirepass || !srv->cfg.requirepass[0])
        CLIENT_PUB(c->flags, c->flags | CLIENT_AUTHED);
    pthread_mutex_unlock(&srv->cfg.lock);

    if (ev_add(w->loop, fd, EV_READ, client_event, c) != ST_OK) {
        log_warn("client %s: cannot register with the event loop", c->addr);
        resp_parser_deinit(&c->parser);
        close(fd);
        free(c);
        return NULL;
    }
    pthread_mutex_lock(&w->clients_lock);
    c->next = w->clients;
    if (w->clients)
        w->clients->prev = c;
    w->clients = c;
    pthread_mutex_unlock(&w->clients_lock);
    atomic_fetch_add(&w->nclients, 1);
    atomic_fetch_add(&srv->nclients, 1);
    STAT_ADD(w->stats.connections_received, 1);
    log_verbose("accepted %s (client %llu, worker %d)", c->addr, (unsigned long long)c->id, w->id);
    return c;
}

void client_free(struct client *c)
{
    struct worker *w = c->w;
    if (c->flags & CLIENT_SUSPENDED) {
        client_resume_fn *fn = c->resume;
        void *ud = c->resume_ud;
        CLIENT_PUB(c->flags, c->flags & ~CLIENT_SUSPENDED);
        c->resume = NULL;
        c->resume_ud = NULL;
        if (c->suspend_timer) {
            ev_timer_stop(w->loop, c->suspend_timer);
            free(c->suspend_timer);
            c->suspend_timer = NULL;
        }
        fn(c, ud, RESUME_CANCEL);
    }
    /* drop it from the pending-flush list */
    for (int i = 0; i < w->nflush; i++)
        if (w->flush[i] == c)
            w->flush[i] = NULL;
    ev_del(w->loop, c->fd);
    close(c->fd);
    pthread_mutex_lock(&w->clients_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&w->clients_lock);
    atomic_fetch_sub(&w->nclients, 1);
    atomic_fetch_sub(&c->srv->nclients, 1);
    log_verbose("closed %s (client %llu)", c->addr, (unsigned long long)c->id);
    resp_parser_deinit(&c->parser);
    free(c->argv);
    free(c->qbuf);
    free(c->obuf);
    free(c->pins);
    free(c);
}

const char *client_cmd_name(const struct client *c)
{
    return c->cmd ? c->cmd->fullname : "";
}

void client_close_after_reply(struct client *c)
{
    CLIENT_PUB(c->flags, c->flags | CLIENT_CLOSE_AFTER_REPLY);
}

/* ---- command dispatch ---- */

static void cmd_done(struct client *c)
{
    struct worker_stats *st = &c->w->stats;
    const struct cmd_entry *e = c->cmd;
    int64_t dur = util_mono_us() - c->cmd_start_us;
    struct cmd_stat *cs = &st->cmds[e->id];
    STAT_ADD(cs->calls, 1);
    STAT_ADD(cs->usec, (uint64_t)(dur > 0 ? dur : 0));
    if (c->errors != c->errors_before)
        STAT_ADD(cs->failed_calls, 1);
    STAT_ADD(st->commands_processed, 1);
    CLIENT_PUB(c->last_cmd, e);
    CLIENT_PUB(c->cmd, NULL);
}

static void reject(struct client *c, const struct cmd_entry *e)
{
    if (e)
        STAT_ADD(c->w->stats.cmds[e->id].rejected_calls, 1);
}

static void reply_unknown_command(struct client *c)
{
    char args[512];
    size_t n = 0;
    args[0] = '\0';
    for (int i = 1; i < c->argc && n < sizeof(args) - 140; i++) {
        int len = c->argv[i].len > 128 ? 128 : (int)c->argv[i].len;
        n += (size_t)snprintf(args + n, sizeof(args) - n, "'%.*s' ", len, c->argv[i].p);
    }
    int len = c->argv[0].len > 128 ? 128 : (int)c->argv[0].len;
    reply_errorf(c, "ERR unknown command '%.*s', with args beginning with: %s", len, c->argv[0].p, args);
}

/* Returns 1 when the client may run commands that need authentication. */
static int authenticated(struct client *c)
{
    if (c->flags & CLIENT_AUTHED)
        return 1;
    struct config *cfg = &c->srv->cfg;
    pthread_mutex_lock(&cfg->lock);
    int open = !cfg->requirepass || !cfg->requirepass[0];
    pthread_mutex_unlock(&cfg->lock);
    if (open)
        CLIENT_PUB(c->flags, c->flags | CLIENT_AUTHED);
    return open;
}

static void execute(struct client *c)
{
    const struct cmd_table *t = c->srv->cmds;
    const struct cmd_entry *e = cmd_lookup(t, c->argv[0].p, c->argv[0].len);
    if (!e) {
        reply_unknown_command(c);
        return;
    }
    if (e->def->subcmds && !(c->argc == 1 && e->def->proc)) {
        if (c->argc >= 2) {
            const struct cmd_entry *sub = cmd_lookup_sub(e, c->argv[1].p, c->argv[1].len);
            if (!sub) {
                char up[64];
                size_t i = 0;
                for (; e->fullname[i] && i < sizeof(up) - 1; i++)
                    up[i] = (char)(e->fullname[i] >= 'a' && e->fullname[i] <= 'z' ? e->fullname[i] - 32
                                                                                  : e->fullname[i]);
                up[i] = '\0';
                int len = c->argv[1].len > 128 ? 128 : (int)c->argv[1].len;
                reply_errorf(c, "ERR unknown subcommand '%.*s'. Try %s HELP.", len, c->argv[1].p, up);
                reject(c, e);
                return;
            }
            e = sub;
        } else {
            CLIENT_PUB(c->cmd, e);
            reply_err_args(c);
            CLIENT_PUB(c->cmd, NULL);
            reject(c, e);
            return;
        }
    }
    int arity = e->def->arity;
    if ((arity > 0 && c->argc != arity) || (arity < 0 && c->argc < -arity)) {
        CLIENT_PUB(c->cmd, e);
        reply_err_args(c);
        CLIENT_PUB(c->cmd, NULL);
        reject(c, e);
        return;
    }
    if (!(e->def->flags & CMD_NO_AUTH) && !authenticated(c)) {
        reply_error(c, "NOAUTH Authentication required.");
        reject(c, e);
        return;
    }
    /* a kept shard lock may cross only into another single-key command
     * (see ks_defer in keyspace.h) */
    if (!(e->def->first_key > 0 && e->def->last_key == e->def->first_key &&
          !(e->def->flags & (CMD_ADMIN | CMD_BLOCKING | CMD_MOVABLE | CMD_PUBSUB))))
        ks_defer_release();
    if (maxmem_before_command(c, e) != 0) {
        STAT_ADD(c->w->stats.oom_rejections, 1);
        reply_error(c, "OOM command not allowed when used memory > 'maxmemory'.");
        reject(c, e);
        return;
    }
    if ((e->def->flags & CMD_WRITE) && persist_misconf(c->srv)) {
        reply_error(c, "MISCONF Errors writing the snapshot: writes are refused while stop-writes-on-bgsave-error "
                       "is yes and save rules are set (see the server log; INFO persistence).");
        reject(c, e);
        return;
    }
    CLIENT_PUB(c->cmd, e);
    c->now_ms = util_time_ms();
    c->cmd_start_us = util_mono_us();
    c->errors_before = c->errors;
    /* keys in an indexed tier are read before the command runs, so it never
     * waits for a device (tiering_fetch.c) */
    if (c->srv->tiering && tiering_fetch_ahead(c, e) != TIERING_RUN) {
        if (!(c->flags & CLIENT_SUSPENDED))
            cmd_done(c);
        return;
    }
    client_run(c, e);
    if (!(c->flags & CLIENT_SUSPENDED))
        cmd_done(c);
}

void client_run(struct client *c, const struct cmd_entry *e)
{
    struct tiering *tg = c->srv->tiering;
    if (tg) {
        ks_cold.readonly = (e->def->flags & CMD_READONLY) && !(e->def->flags & CMD_WRITE);
        ks_cold.track = (e->def->flags & CMD_WRITE) && cfg_load(c->srv->cfg.tier_demote_on_write);
        ks_cold.note_born = cfg_load(c->srv->cfg.maxmemory) > 0;
    }
    if (tg)
        tiering_command_begin(c, e);
    int logged = c->srv->wlog && (e->def->flags & CMD_WRITE);
    if (logged)
        wlog_arm(c);
    e->def->proc(c);
    if (logged)
        wlog_disarm(c);
    if (tg) {
        tiering_command_end(c);
        ks_cold_release();
        ks_cold.readonly = 0;
        if (ks_cold.lent | ks_cold.promoted | ks_cold.lost)
            tiering_collect_thread(tg);
        if (ks_cold.track) {
            ks_cold.track = 0;
            tiering_demote_tracked(tg, c->now_ms);
        }
        if (ks_cold.note_born) {
            ks_cold.note_born = 0;
            if (ks_cold.nborn)
                maxmem_note_born(c->w);
        }
    }
}

static int ensure_argv(struct client *c, int n)
{
    if (n <= c->argv_cap)
        return 0;
    int ncap = c->argv_cap ? c->argv_cap : 8;
    while (ncap < n)
        ncap *= 2;
    struct arg *a = realloc(c->argv, sizeof(*a) * (size_t)ncap);
    if (!a)
        return -1;
    c->argv = a;
    c->argv_cap = ncap;
    return 0;
}

static size_t pending_output(const struct client *c)
{
    return c->olen - c->osent;
}

static void protocol_error(struct client *c, const char *msg)
{
    log_verbose("protocol error from %s (client %llu): %s", c->addr, (unsigned long long)c->id, msg);
    STAT_ADD(c->w->stats.protocol_errors, 1);
    reply_errorf(c, "ERR %s", msg);
    CLIENT_PUB(c->flags, c->flags | CLIENT_CLOSE_AFTER_REPLY);
    /* nothing after the error will be parsed */
    CLIENT_PUB(c->qpos, c->qlen);
}

int client_process_input(struct client *c)
{
    struct resp_limits lim;
    if (authenticated(c)) {
        lim.max_bulk = cfg_load(c->srv->cfg.proto_max_bulk_len);
        lim.max_multibulk = RESP_MULTIBULK_MAX;
        lim.unauthenticated = 0;
    } else {
        lim.max_bulk = RESP_UNAUTH_BULK_MAX;
        lim.max_multibulk = RESP_UNAUTH_MULTIBULK_MAX;
        lim.unauthenticated = 1;
    }
    int defer_was = ks_defer_begin();
    while (c->qpos < c->qlen &&
           !(c->flags & (CLIENT_SUSPENDED | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP))) {
        if (pending_output(c) > OBUF_BACKPRESSURE)
            break;
        size_t cmdlen = 0;
        const char *err = NULL;
        enum resp_result r = resp_parse(&c->parser, c->qbuf + c->qpos, c->qlen - c->qpos, &lim, &cmdlen, &err);
        if (r == RESP_MORE)
            break;
        if (r == RESP_EPROTO) {
            protocol_error(c, err);
            resp_parser_reset(&c->parser);
            break;
        }
        int argc = c->parser.argc;
        if (argc == 0) {
            CLIENT_PUB(c->qpos, c->qpos + cmdlen);
            resp_parser_reset(&c->parser);
            continue;
        }
        if (ensure_argv(c, argc) != 0) {
            protocol_error(c, "Protocol error: out of memory");
            break;
        }
        char *base = c->qbuf + c->qpos;
        for (int i = 0; i < argc; i++) {
            c->argv[i].p = base + c->parser.spans[i].off;
            c->argv[i].len = c->parser.spans[i].len;
        }
        c->argc = argc;
        CLIENT_PUB(c->qpos, c->qpos + cmdlen);
        resp_parser_reset(&c->parser);
        execute(c);
        CLIENT_PUB(c->last_interaction_ms, c->w->now_ms);
        if (c->flags & CLIENT_CLOSE_ASAP)
            break;
        /* arguments die with the command; a suspended one has copied them */
        if (!(c->flags & CLIENT_SUSPENDED))
            c->argc = 0;
    }
    ks_defer_end(defer_was);
    if (c->qpos == c->qlen && !(c->flags & CLIENT_SUSPENDED)) {
        CLIENT_PUB(c->qlen, 0);
        CLIENT_PUB(c->qpos, 0);
        if (c->qcap > QBUF_KEEP) {
            free(c->qbuf);
            c->qbuf = NULL;
            CLIENT_PUB(c->qcap, 0);
        }
    }
    if (pending_output(c) > 0 || (c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP)))
        worker_want_flush(c->w, c);
    return 0;
}

/* ---- reading ---- */

static int read_input(struct client *c)
{
    struct server *srv = c->srv;
    size_t want = QBUF_CHUNK;
    /* a command already in progress never moves while suspended: its
     * arguments point into the buffer */
    if (c->qpos > 0 && !(c->flags & CLIENT_SUSPENDED) && c->qcap - c->qlen < want) {
        memmove(c->qbuf, c->qbuf + c->qpos, c->qlen - c->qpos);
        CLIENT_PUB(c->qlen, c->qlen - c->qpos);
        CLIENT_PUB(c->qpos, 0);
    }
    size_t need = c->parser.need ? c->qpos + c->parser.need : 0;
    if (need > c->qlen && need - c->qlen > want)
        want = need - c->qlen; /* a big bulk: read it in as few calls as possible */
    if (c->qcap - c->qlen < want) {
        size_t ncap = c->qcap ? c->qcap : QBUF_CHUNK;
        while (ncap - c->qlen < want)
            ncap *= 2;
        char *nb = realloc(c->qbuf, ncap);
        if (!nb) {
            log_warn("client %s: out of memory for the query buffer, closing", c->addr);
            return -1;
        }
        c->qbuf = nb;
        CLIENT_PUB(c->qcap, ncap);
    }
    ssize_t n = read(c->fd, c->qbuf + c->qlen, c->qcap - c->qlen);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return 0;
        log_verbose("client %s: read error: %s", c->addr, strerror(errno));
        return -1;
    }
    if (n == 0)
        return -1;
    CLIENT_PUB(c->qlen, c->qlen + (size_t)n);
    CLIENT_PUB(c->last_interaction_ms, c->w->now_ms);
    STAT_ADD(c->w->stats.net_input_bytes, (uint64_t)n);
    if (c->qlen - c->qpos > (size_t)cfg_load(srv->cfg.client_query_buffer_limit)) {
        log_warn("closing client %s: query buffer of %zu bytes is over client-query-buffer-limit", c->addr,
                 c->qlen - c->qpos);
        STAT_ADD(c->w->stats.client_qbuf_limit_disconnections, 1);
        return -1;
    }
    return 1;
}

static void update_events(struct client *c)
{
    int mask = 0;
    /* backpressure: stop reading while a big reply waits for the peer */
    if (pending_output(c) <= OBUF_BACKPRESSURE)
        mask |= EV_READ;
    if (c->flags & CLIENT_WANT_WRITE)
        mask |= EV_WRITE;
    if (mask == 0)
        mask = EV_WRITE; /* waiting for the peer to read: wake when writable */
    ev_set(c->w->loop, c->fd, mask);
}

static void client_event(struct ev_loop *l, int fd, int mask, void *ud)
{
    struct client *c = ud;
    (void)l;
    (void)fd;
    if (mask & EV_WRITE) {
        if (client_flush(c) < 0)
            return;
    }
    if (mask & EV_READ) {
        if (pending_output(c) > OBUF_BACKPRESSURE)
            return;
        int r = read_input(c);
        if (r < 0) {
            client_free(c);
            return;
        }
        if (r > 0)
            client_process_input(c);
    }
}

/* ---- writing ---- */

/* Output limits. Backpressure keeps a non-reading client's buffer near
 * OBUF_BACKPRESSURE, so it may never reach a soft limit set above that; such
 * a client -- held back and making no write progress for soft-seconds -- is
 * treated as over the soft limit, since it is what the limit is for: a
 * client that will not read. */
static int over_hard_limit(struct client *c, int64_t now_ms)
{
    struct config *cfg = &c->srv->cfg;
    size_t used = pending_output(c);
    long long hard = cfg_load(cfg->obuf_hard), soft = cfg_load(cfg->obuf_soft);
    long long secs = cfg_load(cfg->obuf_soft_seconds);
    if (hard > 0 && used >= (size_t)hard)
        return 1;
    if (soft > 0 && used > OBUF_BACKPRESSURE && now_ms - c->last_write_ms >= secs * 1000)
        return 1;
    if (soft > 0 && used >= (size_t)soft) {
        if (c->obuf_soft_since_ms == 0)
            c->obuf_soft_since_ms = now_ms;
        else if (now_ms - c->obuf_soft_since_ms >= secs * 1000)
            return 1;
    } else {
        c->obuf_soft_since_ms = 0;
    }
    return 0;
}

static void close_for_limit(struct client *c)
{
    log_warn("closing client %s (id %llu) for overcoming of output buffer limits (%zu bytes pending)", c->addr,
             (unsigned long long)c->id, pending_output(c));
    STAT_ADD(c->w->stats.client_output_limit_disconnections, 1);
    client_free(c);
}

int client_flush(struct client *c)
{
    if (c->flags & CLIENT_CLOSE_ASAP) {
        client_free(c);
        return -1;
    }
    /* appendfsync always: a reply leaves only after its record is durable */
    if (c->srv->wlog && c->w->log_need && pending_output(c) > 0)
        wlog_wait_durable(c->srv->wlog, c->w);
    while (pending_output(c) > 0) {
        ssize_t n = write(c->fd, c->obuf + c->osent, pending_output(c));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            log_verbose("client %s: write error: %s", c->addr, strerror(errno));
            client_free(c);
            return -1;
        }
        CLIENT_PUB(c->osent, c->osent + (size_t)n);
        c->last_write_ms = c->w->now_ms;
        STAT_ADD(c->w->stats.net_output_bytes, (uint64_t)n);
    }
    if (pending_output(c) == 0) {
        CLIENT_PUB(c->olen, 0);
        CLIENT_PUB(c->osent, 0);
        c->obuf_soft_since_ms = 0;
        c->last_write_ms = c->w->now_ms;
        if (c->ocap > OBUF_KEEP) {
            free(c->obuf);
            c->obuf = NULL;
            CLIENT_PUB(c->ocap, 0);
        }
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
            client_free(c);
            return -1;
        }
        CLIENT_PUB(c->flags, c->flags & ~CLIENT_WANT_WRITE);
        /* input held back by backpressure can run now */
        if (c->qpos < c->qlen && !(c->flags & CLIENT_SUSPENDED)) {
            update_events(c);
            return client_process_input(c);
        }
    } else {
        if (over_hard_limit(c, c->w->now_ms)) {
            close_for_limit(c);
            return -1;
        }
        CLIENT_PUB(c->flags, c->flags | CLIENT_WANT_WRITE);
    }
    update_events(c);
    return 0;
}

int client_cron(struct client *c, int64_t now_ms)
{
    if (atomic_load(&c->kill_requested)) {
        log_verbose("client %s killed by CLIENT KILL", c->addr);
        client_free(c);
        return -1;
    }
    if (pending_output(c) > 0 && over_hard_limit(c, now_ms)) {
        close_for_limit(c);
        return -1;
    }
    long long timeout = cfg_load(c->srv->cfg.timeout);
    if (timeout > 0 && !(c->flags & CLIENT_SUSPENDED) && now_ms - c->last_interaction_ms > timeout * 1000) {
        log_verbose("closing idle client %s", c->addr);
        client_free(c);
        return -1;
    }
    return 0;
}

/* ---- suspension ---- */

static void suspend_timeout(struct ev_loop *l, struct ev_timer *t)
{
    struct client *c = t->ud;
    (void)l;
    free(c->suspend_timer);
    c->suspend_timer = NULL;
    client_resume_fn *fn = c->resume;
    void *ud = c->resume_ud;
    CLIENT_PUB(c->flags, c->flags & ~CLIENT_SUSPENDED);
    c->resume = NULL;
    c->resume_ud = NULL;
    c->now_ms = util_time_ms();
    fn(c, ud, RESUME_TIMEOUT);
    if (!(c->flags & CLIENT_SUSPENDED)) {
        cmd_done(c);
        c->argc = 0;
        client_process_input(c);
    }
}

int client_suspend(struct client *c, client_resume_fn *resume, void *ud, int64_t timeout_us)
{
    if (timeout_us > 0) {
        struct ev_timer *t = malloc(sizeof(*t));
        if (!t)
            return ST_ENOMEM;
        ev_timer_init(t, suspend_timeout, c);
        if (ev_timer_start(c->w->loop, t, util_mono_us() + timeout_us) != ST_OK) {
            free(t);
            return ST_ENOMEM;
        }
        c->suspend_timer = t;
    }
    c->resume = resume;
    c->resume_ud = ud;
    CLIENT_PUB(c->flags, c->flags | CLIENT_SUSPENDED);
    return ST_OK;
}

void client_wake(struct client *c)
{
    if (!(c->flags & CLIENT_SUSPENDED))
        return;
    if (c->suspend_timer) {
        ev_timer_stop(c->w->loop, c->suspend_timer);
        free(c->suspend_timer);
        c->suspend_timer = NULL;
    }
    client_resume_fn *fn = c->resume;
    void *ud = c->resume_ud;
    CLIENT_PUB(c->flags, c->flags & ~CLIENT_SUSPENDED);
    c->resume = NULL;
    c->resume_ud = NULL;
    c->now_ms = util_time_ms();
    fn(c, ud, RESUME_WAKE);
    if (!(c->flags & CLIENT_SUSPENDED)) {
        cmd_done(c);
        c->argc = 0;
        client_process_input(c);
    }
}
