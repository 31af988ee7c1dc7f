/*
 * ev.h -- a minimal epoll event loop with timers, one per worker thread.
 *
 * File events: one handler per fd (indexed by fd). Timers: intrusive nodes in
 * a binary min-heap, started and stopped in O(log n). Not thread-safe: only
 * the owning thread calls into a loop; other threads reach it through the
 * worker's inbox (worker_post) and its eventfd.
 */
#ifndef STRATA_EV_H
#define STRATA_EV_H

#include <stddef.h>
#include <stdint.h>

#define EV_READ 0x1
#define EV_WRITE 0x2

struct ev_loop;
typedef void ev_io_fn(struct ev_loop *l, int fd, int mask, void *ud);

struct ev_timer;
typedef void ev_timer_fn(struct ev_loop *l, struct ev_timer *t);

struct ev_timer {
    int64_t when_us;  /* monotonic deadline */
    size_t heap_idx;  /* position in the heap, SIZE_MAX when stopped */
    ev_timer_fn *fn;
    void *ud;
};

/* Creates a loop. Returns it owned or NULL. */
struct ev_loop *ev_create(void);
void ev_destroy(struct ev_loop **lp);

/* Registers fd for mask (EV_READ|EV_WRITE) with handler fn. Returns 0 or
 * ST_EIO/ST_ENOMEM. ev_set changes the mask; ev_del forgets the fd. */
int ev_add(struct ev_loop *l, int fd, int mask, ev_io_fn *fn, void *ud);
int ev_set(struct ev_loop *l, int fd, int mask);
void ev_del(struct ev_loop *l, int fd);

void ev_timer_init(struct ev_timer *t, ev_timer_fn *fn, void *ud);
/* Starts (or restarts) t to fire at monotonic time when_us. */
int ev_timer_start(struct ev_loop *l, struct ev_timer *t, int64_t when_us);
void ev_timer_stop(struct ev_loop *l, struct ev_timer *t);
static inline int ev_timer_active(const struct ev_timer *t)
{
    return t->heap_idx != (size_t)-1;
}

/* Waits up to max_wait_ms (-1: until an event or timer), dispatches file
 * events, then due timers. Returns the number of events handled or ST_EIO. */
int ev_run_once(struct ev_loop *l, int max_wait_ms);

#endif
