/*
 * sb_run.c -- strata-bench's connections and worker threads.
 *
 * Owns: the TCP connections (struct sb_client), the worker threads (struct
 * sb_worker: one epoll loop each over a fixed share of the connections,
 * client i on worker i % threads), and the running of a phase (struct
 * sb_phase, sb.h). Does not own: options (sb_conf), the key distribution, the
 * reports; the main thread reads a phase's counters while it runs.
 *
 * Model: closed-loop batches, as redis-benchmark does. A connection sends a
 * batch of `pipeline` requests in one write (partial writes continue on
 * EPOLLOUT), then reads replies until the batch is answered, then sends the
 * next. Every request of a batch is timed from the instant just before the
 * batch's first write() to the read() that brought its reply, so a pipelined
 * request's latency includes the requests ahead of it, as a client sees it.
 *
 * Invariants:
 *   1. A client is busy (a batch in flight) or idle; an idle client starts no
 *      batch after ph->stop, after ph->deadline_ns, or once ph->limit
 *      requests (or keys) have been claimed; a worker leaves its loop when all
 *      its clients are idle or dead, or at once on ph->abort.
 *   2. The i-th reply on a connection answers the i-th request of its batch;
 *      a reply beyond the batch is a protocol error and kills the connection.
 *   3. Claims on ph->next are atomic, so with --requests N exactly N
 *      requests are sent, and in the load phase each key 0..keys-1 is SET by
 *      exactly one request.
 *   4. Memory is fixed after sb_bench_create: per connection one write
 *      buffer sized for the largest batch and a parser (sb_resp.c, which skips
 *      payloads), per worker one 64 KB read buffer.
 *   5. A dead connection (closed by the server, reset, protocol error) is
 *      closed, counted in ph->lost, and stays dead; its outstanding requests
 *      are not counted. Error replies are counted, never fatal.
 *
 * Threads: the main thread creates and destroys the bench and starts and joins
 * phases; between start and join each worker thread alone touches its
 * clients, its rng and its stats (single writer, read by main through relaxed
 * atomics); workers share the read-only conf and dist, and the phase's
 * atomics. Worker threads run with SIGINT/SIGTERM blocked: the main thread
 * takes them.
 */
#include "sb.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define SB_RBUF (64 * 1024)

struct sb_client {
    unsigned id;
    int fd;
    int dead;
    int busy;             /* a batch is in flight */
    int want_out;         /* EPOLLOUT armed */
    char *wbuf;
    size_t wcap, wlen, woff;
    unsigned char *slots; /* command of each request of the batch */
    unsigned nslots, nreplied;
    int64_t t_batch;      /* ns, just before the batch's first write */
    struct sb_resp parser;
};

struct sb_worker {
    struct sb_bench *b;
    unsigned id;
    int ep;
    struct sb_client **clients;
    unsigned nclients;
    struct sb_rng rng;
    pthread_t tid;
    struct sb_phase *ph;  /* the running phase */
    int64_t last_reply_ns;
    char *key;            /* scratch for a key name */
    char rbuf[SB_RBUF];
};

struct sb_bench {
    const struct sb_conf *conf;
    const struct sb_dist *dist;
    size_t plen;
    struct sb_client *clients;
    unsigned nclients;
    struct sb_worker *workers;
    unsigned nworkers;
    _Atomic unsigned alive;
};

static const char *const sb_cmd_name[SB_NCMD] = { "GET", "SET" };

size_t sb_key_name(char *dst, const char *prefix, size_t plen, uint64_t i)
{
    memcpy(dst, prefix, plen);
    char digits[20];
    size_t n = sb_u64toa(digits, i);
    size_t pad = n < 12 ? 12 - n : 0;
    memset(dst + plen, '0', pad);
    memcpy(dst + plen + pad, digits, n);
    return plen + pad + n;
}

/* ---- connections ---------------------------------------------------------- */

static int sb_connect_one(const struct sb_conf *conf, struct addrinfo *list, char *err, size_t errlen)
{
    int last = ECONNREFUSED;
    int timeout_ms = (int)(conf->timeout * 1000);
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            int n;
            do
                n = poll(&pfd, 1, timeout_ms);
            while (n < 0 && errno == EINTR);
            if (n == 0) {
                errno = ETIMEDOUT;
                rc = -1;
            } else if (n < 0) {
                rc = -1;
            } else {
                int soerr = 0;
                socklen_t sl = sizeof(soerr);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
                    soerr = errno;
                errno = soerr;
                rc = soerr ? -1 : 0;
            }
        }
        if (rc == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            return fd;
        }
        last = errno;
        close(fd);
    }
    snprintf(err, errlen, "cannot connect to %s:%s: %s", conf->host, conf->port, strerror(last));
    return -1;
}

static void sb_arm(struct sb_worker *w, struct sb_client *c, int out)
{
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };
    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

static void sb_kill(struct sb_worker *w, struct sb_client *c, const char *why)
{
    if (c->dead)
        return;
    close(c->fd);
    c->fd = -1;
    c->dead = 1;
    c->busy = 0;
    atomic_fetch_sub(&w->b->alive, 1);
    if (atomic_fetch_add(&w->ph->lost, 1) < SB_PRINT_MAX)
        fprintf(stderr, "strata-bench: connection %u lost: %s\n", c->id, why);
}

/* ---- requests -------------------------------------------------------------- */

static size_t sb_hdr(char *p, char type, uint64_t n)
{
    p[0] = type;
    size_t len = 1 + sb_u64toa(p + 1, n);
    p[len++] = '\r';
    p[len++] = '\n';
    return len;
}

/* Appends one GET or SET of key index k to c->wbuf (sized for it, inv. 4). */
static void sb_append(struct sb_worker *w, struct sb_client *c, int cmd, uint64_t k)
{
    const struct sb_conf *conf = w->b->conf;
    char *p = c->wbuf + c->wlen;
    size_t klen = sb_key_name(w->key, conf->key_prefix, w->b->plen, k);
    if (cmd == SB_CMD_GET) {
        memcpy(p, "*2\r\n$3\r\nGET\r\n", 13);
        p += 13;
    } else {
        memcpy(p, "*3\r\n$3\r\nSET\r\n", 13);
        p += 13;
    }
    p += sb_hdr(p, '$', klen);
    memcpy(p, w->key, klen);
    p += klen;
    *p++ = '\r';
    *p++ = '\n';
    if (cmd == SB_CMD_SET) {
        uint64_t vlen = conf->vmin;
        if (conf->vmax > conf->vmin)
            vlen += sb_rng_below(&w->rng, conf->vmax - conf->vmin + 1);
        p += sb_hdr(p, '$', vlen);
        sb_value_fill(conf->vkind, p, (size_t)vlen, &w->rng);
        p += vlen;
        *p++ = '\r';
        *p++ = '\n';
    }
    c->wlen = (size_t)(p - c->wbuf);
}

static void sb_flush(struct sb_worker *w, struct sb_client *c)
{
    while (c->woff < c->wlen) {
        ssize_t r = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
        if (r > 0) {
            c->woff += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out)
                sb_arm(w, c, 1);
            return;
        }
        sb_kill(w, c, r < 0 ? strerror(errno) : "send wrote nothing");
        return;
    }
    if (c->want_out)
        sb_arm(w, c, 0);
}

/* Starts the client's next batch, or leaves it idle (invariant 1). */
static void sb_start_batch(struct sb_worker *w, struct sb_client *c, int64_t now)
{
    struct sb_phase *ph = w->ph;
    const struct sb_conf *conf = w->b->conf;
    c->busy = 0;
    if (atomic_load_explicit(&ph->stop, memory_order_relaxed) ||
        atomic_load_explicit(&ph->abort, memory_order_relaxed))
        return;
    if (ph->deadline_ns && now >= ph->deadline_ns)
        return;
    uint64_t n = ph->pipeline, first = 0;
    if (ph->load || ph->limit) {
        first = atomic_fetch_add(&ph->next, n);
        if (first >= ph->limit)
            return;
        if (ph->limit - first < n)
            n = ph->limit - first;
    }
    c->wlen = 0;
    c->woff = 0;
    for (uint64_t j = 0; j < n; j++) {
        int cmd;
        uint64_t k;
        if (ph->load) {
            cmd = SB_CMD_SET;
            k = first + j;
        } else {
            k = sb_dist_next(w->b->dist, &w->rng);
            cmd = sb_rng_below(&w->rng, conf->get_w + conf->set_w) < conf->get_w ? SB_CMD_GET : SB_CMD_SET;
        }
        sb_append(w, c, cmd, k);
        c->slots[j] = (unsigned char)cmd;
    }
    c->nslots = (unsigned)n;
    c->nreplied = 0;
    c->busy = 1;
    c->t_batch = sb_now_ns();
    sb_flush(w, c);
}

static void sb_account(struct sb_worker *w, int cmd, const struct sb_reply *rep, int64_t lat)
{
    struct sb_phase *ph = w->ph;
    struct sb_cmdstats *s = &ph->stats[w->id * SB_NCMD + cmd];
    sb_hist_record(&s->lat, lat > 0 ? (uint64_t)lat : 0);
    if (rep->type == SB_R_ERROR) {
        sb_inc(&s->errors, 1);
        if (atomic_fetch_add(&ph->printed, 1) < SB_PRINT_MAX)
            fprintf(stderr, "strata-bench: error reply to %s: %.*s\n", sb_cmd_name[cmd],
                    (int)rep->errlen, rep->err);
    } else if (cmd == SB_CMD_GET) {
        if (rep->type == SB_R_NULL)
            sb_inc(&s->misses, 1);
        else
            sb_inc(&s->hits, 1);
    }
    sb_inc(&s->count, 1); /* last: a reader that sees the count sees the rest */
}

static void sb_on_readable(struct sb_worker *w, struct sb_client *c)
{
    for (;;) {
        ssize_t r = read(c->fd, w->rbuf, SB_RBUF);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                sb_kill(w, c, strerror(errno));
            return;
        }
        if (r == 0) {
            sb_kill(w, c, "closed by the server");
            return;
        }
        int64_t now = sb_now_ns();
        size_t off = 0;
        while (off < (size_t)r) {
            size_t used = 0;
            struct sb_reply rep;
            int rc = sb_resp_feed(&c->parser, w->rbuf + off, (size_t)r - off, &used, &rep);
            off += used;
            if (rc < 0) {
                char why[128];
                snprintf(why, sizeof(why), "protocol error: %s", c->parser.why);
                sb_kill(w, c, why);
                return;
            }
            if (rc == 0)
                break;
            if (!c->busy || c->nreplied >= c->nslots) {
                sb_kill(w, c, "protocol error: a reply to no request");
                return;
            }
            sb_account(w, c->slots[c->nreplied++], &rep, now - c->t_batch);
            w->last_reply_ns = now;
        }
        if (c->busy && c->nreplied == c->nslots && c->woff == c->wlen)
            sb_start_batch(w, c, now);
        if (c->dead || (size_t)r < SB_RBUF)
            return;
    }
}

static void *sb_worker_main(void *arg)
{
    struct sb_worker *w = arg;
    struct sb_phase *ph = w->ph;
    struct epoll_event ev[64];
    int64_t now = sb_now_ns();
    w->last_reply_ns = 0;
    for (unsigned i = 0; i < w->nclients; i++)
        if (!w->clients[i]->dead)
            sb_start_batch(w, w->clients[i], now);
    for (;;) {
        unsigned busy = 0;
        for (unsigned i = 0; i < w->nclients; i++)
            busy += !w->clients[i]->dead && w->clients[i]->busy;
        if (!busy || atomic_load_explicit(&ph->abort, memory_order_relaxed))
            break;
        int n = epoll_wait(w->ep, ev, 64, 100);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "strata-bench: epoll_wait: %s\n", strerror(errno));
            for (unsigned i = 0; i < w->nclients; i++)
                sb_kill(w, w->clients[i], "the worker's epoll failed");
            break;
        }
        for (int k = 0; k < n; k++) {
            struct sb_client *c = ev[k].data.ptr;
            if (c->dead)
                continue;
            if (ev[k].events & EPOLLOUT)
                sb_flush(w, c);
            if (!c->dead && (ev[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                sb_on_readable(w, c);
        }
    }
    ph->last_reply_ns[w->id] = w->last_reply_ns;
    atomic_store(&ph->finished[w->id], 1);
    return NULL;
}

/* ---- bench and phases ---------------------------------------------------------- */

struct sb_bench *sb_bench_create(const struct sb_conf *conf, const struct sb_dist *dist,
                                 char *err, size_t errlen, int *connect_failed)
{
    *connect_failed = 0;
    struct sb_bench *b = calloc(1, sizeof(*b));
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *list = NULL;
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->conf = conf;
    b->dist = dist;
    b->plen = strlen(conf->key_prefix);
    b->nclients = conf->clients;
    b->nworkers = conf->threads < conf->clients ? conf->threads : conf->clients;
    int gai = getaddrinfo(conf->host, conf->port, &hints, &list);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve %s:%s: %s", conf->host, conf->port, gai_strerror(gai));
        *connect_failed = 1;
        goto fail;
    }
    unsigned pmax = conf->pipeline > conf->load_pipeline ? conf->pipeline : conf->load_pipeline;
    size_t per_req = 13 + 2 * 24 + b->plen + 21 + 4 + (size_t)conf->vmax;
    b->clients = calloc(b->nclients, sizeof(*b->clients));
    b->workers = calloc(b->nworkers, sizeof(*b->workers));
    for (unsigned i = 0; b->clients && i < b->nclients; i++)
        b->clients[i].fd = -1;
    for (unsigned i = 0; b->workers && i < b->nworkers; i++)
        b->workers[i].ep = -1;
    if (!b->clients || !b->workers) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < b->nworkers; i++) {
        struct sb_worker *w = &b->workers[i];
        w->b = b;
        w->id = i;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->clients = calloc(b->nclients / b->nworkers + 1, sizeof(*w->clients));
        w->key = malloc(b->plen + 24);
        sb_rng_seed(&w->rng, conf->seed + 0x9e3779b97f4a7c15ULL * (i + 1));
        if (w->ep < 0 || !w->clients || !w->key) {
            snprintf(err, errlen, "cannot create worker %u: %s", i, strerror(errno));
            goto fail;
        }
    }
    for (unsigned i = 0; i < b->nclients; i++) {
        struct sb_client *c = &b->clients[i];
        struct sb_worker *w = &b->workers[i % b->nworkers];
        c->id = i;
        c->wcap = pmax * per_req;
        c->wbuf = malloc(c->wcap);
        c->slots = malloc(pmax);
        sb_resp_init(&c->parser);
        if (!c->wbuf || !c->slots) {
            snprintf(err, errlen, "out of memory for %u write buffers of %zu bytes", b->nclients, c->wcap);
            goto fail;
        }
        c->fd = sb_connect_one(conf, list, err, errlen);
        if (c->fd < 0) {
            *connect_failed = 1;
            goto fail;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
            snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
            goto fail;
        }
        w->clients[w->nclients++] = c;
        atomic_fetch_add(&b->alive, 1);
    }
    freeaddrinfo(list);
    return b;
fail:
    if (list)
        freeaddrinfo(list);
    sb_bench_destroy(&b);
    return NULL;
}

void sb_bench_destroy(struct sb_bench **bp)
{
    struct sb_bench *b = *bp;
    if (!b)
        return;
    if (b->clients) {
        for (unsigned i = 0; i < b->nclients; i++) {
            if (b->clients[i].fd >= 0)
                close(b->clients[i].fd);
            free(b->clients[i].wbuf);
            free(b->clients[i].slots);
        }
    }
    if (b->workers) {
        for (unsigned i = 0; i < b->nworkers; i++) {
            if (b->workers[i].ep >= 0)
                close(b->workers[i].ep);
            free(b->workers[i].clients);
            free(b->workers[i].key);
        }
    }
    free(b->clients);
    free(b->workers);
    free(b);
    *bp = NULL;
}

unsigned sb_bench_alive(const struct sb_bench *b)
{
    return atomic_load(&((struct sb_bench *)b)->alive);
}

void sb_phase_free(struct sb_phase *ph)
{
    free(ph->stats);
    free(ph->last_reply_ns);
    free((void *)ph->finished);
    ph->stats = NULL;
    ph->last_reply_ns = NULL;
    ph->finished = NULL;
}

int sb_bench_phase_start(struct sb_bench *b, struct sb_phase *ph, char *err, size_t errlen)
{
    ph->nworkers = b->nworkers;
    ph->stats = calloc((size_t)b->nworkers * SB_NCMD, sizeof(*ph->stats));
    ph->last_reply_ns = calloc(b->nworkers, sizeof(*ph->last_reply_ns));
    ph->finished = calloc(b->nworkers, sizeof(*ph->finished));
    if (!ph->stats || !ph->last_reply_ns || !ph->finished) {
        sb_phase_free(ph);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < b->nworkers * SB_NCMD; i++)
        sb_hist_init(&ph->stats[i].lat);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    ph->start_ns = sb_now_ns();
    for (unsigned i = 0; i < b->nworkers; i++) {
        struct sb_worker *w = &b->workers[i];
        w->ph = ph;
        int rc = pthread_create(&w->tid, NULL, sb_worker_main, w);
        if (rc != 0) {
            atomic_store(&ph->abort, 1);
            for (unsigned j = 0; j < i; j++)
                pthread_join(b->workers[j].tid, NULL);
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            sb_phase_free(ph);
            snprintf(err, errlen, "cannot start a worker thread: %s", strerror(rc));
            return -1;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}

int sb_bench_phase_done(const struct sb_bench *b, const struct sb_phase *ph)
{
    for (unsigned i = 0; i < b->nworkers; i++)
        if (!atomic_load(&ph->finished[i]))
            return 0;
    return 1;
}

void sb_bench_phase_join(struct sb_bench *b, struct sb_phase *ph)
{
    for (unsigned i = 0; i < b->nworkers; i++)
        pthread_join(b->workers[i].tid, NULL);
}

void sb_phase_sum(const struct sb_phase *ph, int cmd, struct sb_cmdstats *out)
{
    memset(out, 0, sizeof(*out));
    sb_hist_init(&out->lat);
    for (unsigned w = 0; w < ph->nworkers; w++) {
        for (int c = 0; c < SB_NCMD; c++) {
            if (cmd != SB_NCMD && c != cmd)
                continue;
            const struct sb_cmdstats *s = &ph->stats[w * SB_NCMD + c];
            sb_inc(&out->count, sb_get(&s->count));
            sb_inc(&out->hits, sb_get(&s->hits));
            sb_inc(&out->misses, sb_get(&s->misses));
            sb_inc(&out->errors, sb_get(&s->errors));
            sb_hist_merge(&out->lat, &s->lat);
        }
    }
}
