/*
 * ev.c -- epoll event loop with a timer heap (contract in ev.h).
 *
 * Handlers are kept in an array indexed by fd, grown on demand. Timers live
 * in a binary min-heap of pointers to caller-owned struct ev_timer; each node
 * knows its heap index, so stopping one is O(log n). Due timers run after the
 * file events of the same iteration; a timer may restart or stop itself and
 * others from its callback.
 */
#include "server/ev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/util.h"

#define EV_BATCH 256

struct ev_handler {
    ev_io_fn *fn;
    void *ud;
    int mask;
};

struct ev_loop {
    int epfd;
    struct ev_handler *h;
    int hcap;
    struct ev_timer **heap;
    size_t nheap, heapcap;
    struct epoll_event events[EV_BATCH];
};

struct ev_loop *ev_create(void)
{
    struct ev_loop *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return NULL;
    }
    return l;
}

void ev_destroy(struct ev_loop **lp)
{
    struct ev_loop *l = *lp;
    if (!l)
        return;
    close(l->epfd);
    free(l->h);
    free(l->heap);
    free(l);
    *lp = NULL;
}

static uint32_t to_epoll(int mask)
{
    return (mask & EV_READ ? EPOLLIN : 0) | (mask & EV_WRITE ? EPOLLOUT : 0);
}

int ev_add(struct ev_loop *l, int fd, int mask, ev_io_fn *fn, void *ud)
{
    if (fd >= l->hcap) {
        int ncap = l->hcap ? l->hcap : 64;
        while (ncap <= fd)
            ncap *= 2;
        struct ev_handler *nh = realloc(l->h, sizeof(*nh) * (size_t)ncap);
        if (!nh)
            return ST_ENOMEM;
        memset(nh + l->hcap, 0, sizeof(*nh) * (size_t)(ncap - l->hcap));
        l->h = nh;
        l->hcap = ncap;
    }
    struct epoll_event ev = { .events = to_epoll(mask), .data.fd = fd };
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return ST_EIO;
    l->h[fd] = (struct ev_handler){ fn, ud, mask };
    return ST_OK;
}

int ev_set(struct ev_loop *l, int fd, int mask)
{
    if (fd >= l->hcap || !l->h[fd].fn)
        return ST_ENOENT;
    if (l->h[fd].mask == mask)
        return ST_OK;
    struct epoll_event ev = { .events = to_epoll(mask), .data.fd = fd };
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
        return ST_EIO;
    l->h[fd].mask = mask;
    return ST_OK;
}

void ev_del(struct ev_loop *l, int fd)
{
    if (fd < l->hcap && l->h[fd].fn) {
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
        memset(&l->h[fd], 0, sizeof(l->h[fd]));
    }
}

/* ---- timer heap ---- */

static void heap_swap(struct ev_loop *l, size_t a, size_t b)
{
    struct ev_timer *t = l->heap[a];
    l->heap[a] = l->heap[b];
    l->heap[b] = t;
    l->heap[a]->heap_idx = a;
    l->heap[b]->heap_idx = b;
}

static void heap_up(struct ev_loop *l, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (l->heap[p]->when_us <= l->heap[i]->when_us)
            break;
        heap_swap(l, p, i);
        i = p;
    }
}

static void heap_down(struct ev_loop *l, size_t i)
{
    for (;;) {
        size_t a = 2 * i + 1, b = a + 1, m = i;
        if (a < l->nheap && l->heap[a]->when_us < l->heap[m]->when_us)
            m = a;
        if (b < l->nheap && l->heap[b]->when_us < l->heap[m]->when_us)
            m = b;
        if (m == i)
            break;
        heap_swap(l, i, m);
        i = m;
    }
}

void ev_timer_init(struct ev_timer *t, ev_timer_fn *fn, void *ud)
{
    t->when_us = 0;
    t->heap_idx = (size_t)-1;
    t->fn = fn;
    t->ud = ud;
}

void ev_timer_stop(struct ev_loop *l, struct ev_timer *t)
{
    if (!ev_timer_active(t))
        return;
    size_t i = t->heap_idx;
    l->nheap--;
    if (i != l->nheap) {
        l->heap[i] = l->heap[l->nheap];
        l->heap[i]->heap_idx = i;
        heap_down(l, i);
        heap_up(l, i);
    }
    t->heap_idx = (size_t)-1;
}

int ev_timer_start(struct ev_loop *l, struct ev_timer *t, int64_t when_us)
{
    ev_timer_stop(l, t);
    if (l->nheap == l->heapcap) {
        size_t ncap = l->heapcap ? l->heapcap * 2 : 16;
        struct ev_timer **nh = realloc(l->heap, sizeof(*nh) * ncap);
        if (!nh)
            return ST_ENOMEM;
        l->heap = nh;
        l->heapcap = ncap;
    }
    t->when_us = when_us;
    t->heap_idx = l->nheap;
    l->heap[l->nheap++] = t;
    heap_up(l, t->heap_idx);
    return ST_OK;
}

int ev_run_once(struct ev_loop *l, int max_wait_ms)
{
    int wait = max_wait_ms;
    if (l->nheap) {
        int64_t now = util_mono_us(), when = l->heap[0]->when_us;
        int64_t delta = when > now ? when - now : 0; /* no overflow for far deadlines */
        int64_t ms = delta / 1000 + (delta % 1000 != 0);
        int tms = ms > INT32_MAX ? INT32_MAX : (int)ms;
        if (wait < 0 || tms < wait)
            wait = tms;
    }
    int n = epoll_wait(l->epfd, l->events, EV_BATCH, wait);
    if (n < 0) {
        if (errno == EINTR)
            n = 0;
        else
            return ST_EIO;
    }
    for (int i = 0; i < n; i++) {
        int fd = l->events[i].data.fd;
        uint32_t e = l->events[i].events;
        if (fd >= l->hcap || !l->h[fd].fn)
            continue; /* closed by an earlier handler in this batch */
        int mask = 0;
        if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
            mask |= EV_READ;
        if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            mask |= EV_WRITE;
        l->h[fd].fn(l, fd, mask & (l->h[fd].mask | EV_READ), l->h[fd].ud);
    }
    if (l->nheap) {
        int64_t now = util_mono_us();
        while (l->nheap && l->heap[0]->when_us <= now) {
            struct ev_timer *t = l->heap[0];
            ev_timer_stop(l, t);
            t->fn(l, t);
        }
    }
    return n;
}
