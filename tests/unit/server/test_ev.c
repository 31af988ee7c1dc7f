/*
 * test_ev.c -- unit tests for server/ev.c: the epoll loop and its timer heap.
 *
 * What is protected: due timers fire in deadline order, once, after the file
 * events of their iteration; stop and restart (also from inside a callback)
 * take effect at once; the heap stays correct under thousands of random
 * starts, restarts and stops (checked against a sorted model); a wait is
 * bounded by the nearest timer and by max_wait_ms, whatever the deadlines;
 * file events reach the registered handler with the right mask, follow
 * ev_set, and stop after ev_del, even within one batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/util.h"
#include "server/ev.h"

/* ---- helpers ----------------------------------------------------------- */

#define HOUR_US (3600LL * 1000000)

struct fired {
    int n;
    int ids[8192];
    int64_t when[8192];
};

struct tmr {
    struct ev_timer t;
    int id;
    struct fired *log;
};

static void record_fire(struct ev_loop *l, struct ev_timer *t)
{
    (void)l;
    struct tmr *x = t->ud;
    /* stopped before its callback runs */
    assert_false(ev_timer_active(t));
    assert_true(x->log->n < 8192);
    x->log->ids[x->log->n] = x->id;
    x->log->when[x->log->n] = t->when_us;
    x->log->n++;
}

static void tmr_init(struct tmr *x, int id, struct fired *log, ev_timer_fn *fn)
{
    x->id = id;
    x->log = log;
    ev_timer_init(&x->t, fn ? fn : record_fire, x);
}

static struct ev_loop *mkloop(void)
{
    struct ev_loop *l = ev_create();
    assert_non_null(l);
    return l;
}

/* ---- timers ------------------------------------------------------------ */

static void test_create_and_destroy_nulls_pointer(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    ev_destroy(&l);
    assert_null(l);
    ev_destroy(&l);
}

static void test_timer_init_is_inactive(void **state)
{
    (void)state;
    struct tmr x;
    struct fired log = { 0 };
    tmr_init(&x, 1, &log, NULL);
    assert_false(ev_timer_active(&x.t));
    assert_ptr_equal(x.t.ud, &x);
}

static void test_due_timers_fire_in_deadline_order(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    struct fired log = { 0 };
    struct tmr x[10];
    /* deadlines long past, started in scrambled order */
    static const int order[10] = { 7, 2, 9, 0, 5, 3, 8, 1, 6, 4 };
    for (int i = 0; i < 10; i++) {
        int id = order[i];
        tmr_init(&x[id], id, &log, NULL);
        assert_int_equal(ev_timer_start(l, &x[id].t, 1000 + id * 10), ST_OK);
        assert_true(ev_timer_active(&x[id].t));
    }
    assert_int_equal(ev_run_once(l, 0), 0); /* no file events */
    assert_int_equal(log.n, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(log.ids[i], i);
        assert_false(ev_timer_active(&x[i].t));
    }
    /* fired timers do not fire again */
    assert_int_equal(ev_run_once(l, 0), 0);
    assert_int_equal(log.n, 10);
    ev_destroy(&l);
}

static void test_future_timer_does_not_fire_early(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    struct fired log = { 0 };
    struct tmr x;
    tmr_init(&x, 1, &log, NULL);
    ev_timer_start(l, &x.t, util_mono_us() + HOUR_US);
    int64_t t0 = util_mono_us();
    assert_int_equal(ev_run_once(l, 20), 0);
    int64_t el = util_mono_us() - t0;
    assert_int_equal(log.n, 0);
    assert_true(ev_timer_active(&x.t));
    assert_true(el >= 15000); /* waited about max_wait_ms */
    assert_true(el < 2000000);
    ev_destroy(&l);
}

static void test_wait_ends_at_nearest_timer_and_it_fires(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    struct fired log = { 0 };
    struct tmr near, far;
    tmr_init(&near, 1, &log, NULL);
    tmr_init(&far, 2, &log, NULL);
    int64_t t0 = util_mono_us();
    ev_timer_start(l, &far.t, t0 + HOUR_US);
    ev_timer_start(l, &near.t, t0 + 30000);
    int calls = 0;
    while (log.n == 0 && calls < 100) {
        ev_run_once(l, -1); /* -1: only the timer bounds the wait */
        calls++;
    }
    int64_t el = util_mono_us() - t0;
    assert_int_equal(log.n, 1);
    assert_int_equal(log.ids[0], 1);
    assert_true(calls <= 2); /* the wait was rounded up, not down to a busy loop */
    assert_true(el >= 30000);
    assert_true(el < 2000000);
    assert_true(ev_timer_active(&far.t));
    ev_destroy(&l);
}

static void test_stopped_timer_does_not_fire(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    struct fired log = { 0 };
    struct tmr a, b, c;
    tmr_init(&a, 1, &log, NULL);
    tmr_init(&b, 2, &log, NULL);
    tmr_init(&c, 3, &log, NULL);
    ev_timer_start(l, &a.t, 100);
    ev_timer_start(l, &b.t, 200);
    ev_timer_start(l, &c.t, 300);
    ev_timer_stop(l, &a.t); /* the heap's root */
    ev_timer_stop(l, &c.t); /* the last slot */
    assert_false(ev_timer_active(&a.t));
    assert_false(ev_timer_active(&c.t));
    ev_timer_stop(l, &c.t); /* stopping a stopped timer is a no-op */
    ev_run_once(l, 0);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.ids[0], 2);
    ev_destroy(&l);
}

static void test_restart_moves_timer_without_duplicating_it(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    struct fired log = { 0 };
    struct tmr a, b;
    tmr_init(&a, 1, &log, NULL);
    tmr_init(&b, 2, &log, NULL);
    ev_timer_start(l, &a.t, util_mono_us() + HOUR_US);
    ev_timer_start(l, &b.t, 500);
    /* restart a: from the far future to before b */
    ev_timer_start(l, &a.t, 400);
    ev_timer_start(l, &a.t, 450);
    ev_run_once(l, 0);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ids[0], 1);
    assert_int_equal(log.when[0], 450);
    assert_int_equal(log.ids[1], 2);
    /* restart to the future: pending again, then stopped */
    ev_timer_start(l, &a.t, 10);
    ev_timer_start(l, &a.t, util_mono_us() + HOUR_US);
    ev_run_once(l, 0);
    assert_int_equal(log.n, 2);
    assert_true(ev_timer_active(&a.t));
    ev_timer_stop(l, &a.t);
    ev_destroy(&l);
}

/* Callbacks that act on other timers. */
static struct tmr *g_cb_b, *g_cb_c, *g_cb_e;

static void cb_rearrange(struct ev_loop *l, struct ev_timer *t)
{
    record_fire(l, t);
    ev_timer_stop(l, &g_cb_c->t);      /* due, but stopped before its turn */
    ev_timer_start(l, &g_cb_b->t, 5);  /* restarted earlier: fires next */
    ev_timer_start(l, &g_cb_e->t, 35); /* started now, already due */
}

static void test_callback_may_stop_restart_and_start_other_timers(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    struct fired log = { 0 };
    struct tmr a, b, c, d, e;
    tmr_init(&a, 'A', &log, cb_rearrange);
    tmr_init(&b, 'B', &log, NULL);
    tmr_init(&c, 'C', &log, NULL);
    tmr_init(&d, 'D', &log, NULL);
    tmr_init(&e, 'E', &log, NULL);
    g_cb_b = &b;
    g_cb_c = &c;
    g_cb_e = &e;
    ev_timer_start(l, &a.t, 10);
    ev_timer_start(l, &b.t, 20);
    ev_timer_start(l, &c.t, 30);
    ev_timer_start(l, &d.t, 40);
    ev_run_once(l, 0);
    assert_int_equal(log.n, 4);
    assert_int_equal(log.ids[0], 'A');
    assert_int_equal(log.ids[1], 'B');
    assert_int_equal(log.ids[2], 'E');
    assert_int_equal(log.ids[3], 'D');
    assert_false(ev_timer_active(&c.t));
    ev_destroy(&l);
}

struct periodic {
    struct ev_timer t;
    int count;
    int64_t last;
};

static void cb_periodic(struct ev_loop *l, struct ev_timer *t)
{
    struct periodic *p = t->ud;
    p->count++;
    p->last = util_mono_us();
    if (p->count < 5)
        ev_timer_start(l, t, p->last + 2000);
}

static void test_timer_restarting_itself_is_periodic(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    struct periodic p = { .count = 0 };
    ev_timer_init(&p.t, cb_periodic, &p);
    int64_t t0 = util_mono_us();
    ev_timer_start(l, &p.t, t0 + 2000);
    for (int i = 0; i < 1000 && p.count < 5; i++)
        ev_run_once(l, 100);
    assert_int_equal(p.count, 5);
    assert_true(p.last - t0 >= 10000);
    assert_false(ev_timer_active(&p.t));
    ev_run_once(l, 10);
    assert_int_equal(p.count, 5);
    ev_destroy(&l);
}

/* The heap against a model: random starts (due or far in the future),
 * restarts and stops, then one iteration must fire exactly the model's due
 * timers, each once, in non-decreasing deadline order. */
static void test_many_timers_random_ops_match_sorted_model(void **state)
{
    (void)state;
    enum { N = 1500, ROUNDS = 25, OPS = 4000 };
    struct ev_loop *l = mkloop();
    struct fired *log = calloc(1, sizeof(*log));
    struct tmr *x = calloc(N, sizeof(*x));
    int *active = calloc(N, sizeof(int));
    int64_t *when = calloc(N, sizeof(int64_t));
    int *seen = calloc(N, sizeof(int));
    struct util_rng rng;
    util_rng_seed(&rng, 2024);
    for (int i = 0; i < N; i++)
        tmr_init(&x[i], i, log, NULL);
    const int64_t future = util_mono_us() + 10 * HOUR_US;
    for (int round = 0; round < ROUNDS; round++) {
        for (int op = 0; op < OPS; op++) {
            int i = (int)(util_rng_next(&rng) % N);
            uint64_t r = util_rng_next(&rng);
            switch (r % 4) {
            case 0:
            case 1: { /* start or restart, due; deadlines collide on purpose */
                int64_t w = 1 + (int64_t)((r >> 8) % 5000);
                assert_int_equal(ev_timer_start(l, &x[i].t, w), ST_OK);
                active[i] = 1;
                when[i] = w;
                break;
            }
            case 2: { /* start or restart in the future */
                int64_t w = future + (int64_t)((r >> 8) % 100000);
                assert_int_equal(ev_timer_start(l, &x[i].t, w), ST_OK);
                active[i] = 1;
                when[i] = w;
                break;
            }
            default:
                ev_timer_stop(l, &x[i].t);
                active[i] = 0;
                break;
            }
        }
        for (int i = 0; i < N; i++) {
            assert_int_equal(ev_timer_active(&x[i].t), active[i]);
            if (active[i])
                assert_int_equal(x[i].t.when_us, when[i]);
        }
        log->n = 0;
        ev_run_once(l, 0);
        int due = 0;
        memset(seen, 0, sizeof(int) * N);
        for (int i = 0; i < N; i++)
            if (active[i] && when[i] < future)
                due++;
        assert_int_equal(log->n, due);
        for (int k = 0; k < log->n; k++) {
            int i = log->ids[k];
            assert_true(active[i] && when[i] < future);
            assert_int_equal(log->when[k], when[i]);
            assert_int_equal(seen[i], 0);
            seen[i] = 1;
            if (k > 0 && log->when[k] < log->when[k - 1])
                fail_msg("round %d: timer %d (when %lld) fired after one due at %lld", round, i,
                         (long long)log->when[k], (long long)log->when[k - 1]);
            active[i] = 0;
        }
        for (int i = 0; i < N; i++)
            assert_int_equal(ev_timer_active(&x[i].t), active[i]);
    }
    /* stop the rest in random order: nothing fires */
    for (int k = 0; k < N; k++) {
        int i = (int)(util_rng_next(&rng) % N);
        ev_timer_stop(l, &x[i].t);
        active[i] = 0;
    }
    for (int i = 0; i < N; i++)
        if (active[i])
            ev_timer_stop(l, &x[i].t);
    log->n = 0;
    ev_run_once(l, 0);
    assert_int_equal(log->n, 0);
    for (int i = 0; i < N; i++)
        assert_false(ev_timer_active(&x[i].t));
    free(x);
    free(active);
    free(when);
    free(seen);
    free(log);
    ev_destroy(&l);
}

/* Runs fn in a child process and reports whether it exited 0 within
 * timeout_ms (a hang is killed and reported as failure). */
static int runs_within(void (*fn)(void), int timeout_ms)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm((unsigned)(timeout_ms / 1000 + 5)); /* belt and braces */
        fn();
        _exit(0);
    }
    int status = 0;
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return 0;
}

static int64_t g_far_delta;

static void wait_with_one_far_timer(void)
{
    struct ev_loop *l = ev_create();
    struct ev_timer t;
    ev_timer_init(&t, NULL, NULL);
    int64_t now = util_mono_us();
    ev_timer_start(l, &t, g_far_delta == INT64_MAX ? INT64_MAX : now + g_far_delta);
    ev_run_once(l, 20); /* must come back after about 20 ms */
    ev_destroy(&l);
}

static void test_max_wait_holds_with_timer_days_away(void **state)
{
    (void)state;
    /* 1 day: fine either way */
    g_far_delta = 24LL * HOUR_US;
    assert_true(runs_within(wait_with_one_far_timer, 3000));
    /* 30 days: more ms than an int holds; the wait must still be 20 ms */
    g_far_delta = 30LL * 24 * HOUR_US;
    if (!runs_within(wait_with_one_far_timer, 3000))
        fail_msg("ev_run_once(l, 20) did not return with the only timer 30 days away");
}

static void test_max_wait_holds_with_timer_at_int64_max(void **state)
{
    (void)state;
    /* a "never" deadline: no overflow, no hang */
    g_far_delta = INT64_MAX;
    if (!runs_within(wait_with_one_far_timer, 3000))
        fail_msg("ev_run_once(l, 20) did not return with a timer at INT64_MAX");
}

/* ---- file events ---------------------------------------------------------- */

struct io_log {
    int calls;
    int fd;
    int mask;
    char buf[64];
    size_t got;
};

static void on_io(struct ev_loop *l, int fd, int mask, void *ud)
{
    (void)l;
    struct io_log *g = ud;
    g->calls++;
    g->fd = fd;
    g->mask = mask;
    if (mask & EV_READ) {
        ssize_t n = read(fd, g->buf + g->got, sizeof(g->buf) - g->got);
        if (n > 0)
            g->got += (size_t)n;
    }
}

static void mkpipe(int p[2])
{
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
}

static void test_readable_pipe_calls_handler_with_read_mask(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    int p[2];
    mkpipe(p);
    struct io_log g = { 0 };
    assert_int_equal(ev_add(l, p[0], EV_READ, on_io, &g), ST_OK);
    /* nothing to read: no call */
    assert_int_equal(ev_run_once(l, 0), 0);
    assert_int_equal(g.calls, 0);
    assert_int_equal(write(p[1], "hey", 3), 3);
    assert_int_equal(ev_run_once(l, 1000), 1);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.fd, p[0]);
    assert_int_equal(g.mask, EV_READ);
    assert_int_equal(g.got, 3);
    assert_memory_equal(g.buf, "hey", 3);
    /* drained: level-triggered, so no more calls */
    assert_int_equal(ev_run_once(l, 0), 0);
    assert_int_equal(g.calls, 1);
    ev_destroy(&l);
    close(p[0]);
    close(p[1]);
}

static void test_writable_pipe_and_ev_set(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    int p[2];
    mkpipe(p);
    struct io_log g = { 0 };
    assert_int_equal(ev_add(l, p[1], EV_WRITE, on_io, &g), ST_OK);
    assert_int_equal(ev_run_once(l, 1000), 1);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.fd, p[1]);
    assert_int_equal(g.mask, EV_WRITE);
    /* mask 0: registered but silent */
    assert_int_equal(ev_set(l, p[1], 0), ST_OK);
    assert_int_equal(ev_run_once(l, 0), 0);
    assert_int_equal(g.calls, 1);
    /* same mask twice is fine */
    assert_int_equal(ev_set(l, p[1], EV_WRITE), ST_OK);
    assert_int_equal(ev_set(l, p[1], EV_WRITE), ST_OK);
    assert_int_equal(ev_run_once(l, 0), 1);
    assert_int_equal(g.calls, 2);
    ev_destroy(&l);
    close(p[0]);
    close(p[1]);
}

static void test_read_and_write_on_one_socket(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    struct io_log g = { 0 };
    assert_int_equal(ev_add(l, sv[0], EV_READ | EV_WRITE, on_io, &g), ST_OK);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_int_equal(ev_run_once(l, 1000), 1);
    assert_int_equal(g.mask, EV_READ | EV_WRITE);
    assert_int_equal(g.got, 1);
    ev_destroy(&l);
    close(sv[0]);
    close(sv[1]);
}

static void test_hangup_is_reported_as_readable(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    int p[2];
    mkpipe(p);
    struct io_log g = { 0 };
    assert_int_equal(ev_add(l, p[0], EV_READ, on_io, &g), ST_OK);
    close(p[1]);
    assert_int_equal(ev_run_once(l, 1000), 1);
    assert_int_equal(g.calls, 1);
    assert_true(g.mask & EV_READ);
    assert_int_equal(g.got, 0); /* EOF */
    ev_del(l, p[0]);
    ev_destroy(&l);
    close(p[0]);
}

static void test_ev_del_stops_events(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    int p[2];
    mkpipe(p);
    struct io_log g = { 0 };
    assert_int_equal(ev_add(l, p[0], EV_READ, on_io, &g), ST_OK);
    ev_del(l, p[0]);
    ev_del(l, p[0]); /* twice is harmless */
    assert_int_equal(write(p[1], "a", 1), 1);
    assert_int_equal(ev_run_once(l, 20), 0);
    assert_int_equal(g.calls, 0);
    /* and the fd can be added again */
    assert_int_equal(ev_add(l, p[0], EV_READ, on_io, &g), ST_OK);
    assert_int_equal(ev_run_once(l, 1000), 1);
    assert_int_equal(g.calls, 1);
    ev_destroy(&l);
    close(p[0]);
    close(p[1]);
}

static void test_ev_set_and_add_errors(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    int p[2];
    mkpipe(p);
    struct io_log g = { 0 };
    assert_int_equal(ev_set(l, p[0], EV_READ), ST_ENOENT); /* never added */
    assert_int_equal(ev_set(l, 100000, EV_READ), ST_ENOENT);
    assert_int_equal(ev_add(l, p[0], EV_READ, on_io, &g), ST_OK);
    assert_int_equal(ev_add(l, p[0], EV_READ, on_io, &g), ST_EIO); /* already there */
    assert_int_equal(ev_add(l, -1, EV_READ, on_io, &g) == ST_OK, 0);
    ev_del(l, 100000); /* unknown fd: no-op */
    ev_destroy(&l);
    close(p[0]);
    close(p[1]);
}

static void test_high_fd_numbers_grow_the_handler_table(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    int p[2];
    mkpipe(p);
    int hi = fcntl(p[0], F_DUPFD_CLOEXEC, 700);
    assert_true(hi >= 700);
    struct io_log lo_g = { 0 }, hi_g = { 0 };
    assert_int_equal(ev_add(l, p[1], EV_WRITE, on_io, &lo_g), ST_OK);
    assert_int_equal(ev_add(l, hi, EV_READ, on_io, &hi_g), ST_OK);
    assert_int_equal(write(p[1], "z", 1), 1);
    assert_int_equal(ev_run_once(l, 1000), 2);
    assert_int_equal(hi_g.calls, 1);
    assert_int_equal(hi_g.fd, hi);
    assert_int_equal(lo_g.calls, 1); /* earlier registration survived the growth */
    ev_destroy(&l);
    close(hi);
    close(p[0]);
    close(p[1]);
}

/* Two readable pipes; whichever handler runs first removes the other, which
 * must then not be called although its event is in the same batch. */
struct mutual {
    int self_fd, other_fd;
    int calls;
    struct mutual *other;
};

static void on_mutual(struct ev_loop *l, int fd, int mask, void *ud)
{
    (void)mask;
    struct mutual *m = ud;
    assert_int_equal(fd, m->self_fd);
    m->calls++;
    ev_del(l, m->other_fd);
    ev_del(l, fd);
}

static void test_handler_removing_another_fd_in_same_batch(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    int a[2], b[2];
    mkpipe(a);
    mkpipe(b);
    struct mutual ma = { .self_fd = a[0], .other_fd = b[0] }, mb = { .self_fd = b[0], .other_fd = a[0] };
    assert_int_equal(ev_add(l, a[0], EV_READ, on_mutual, &ma), ST_OK);
    assert_int_equal(ev_add(l, b[0], EV_READ, on_mutual, &mb), ST_OK);
    assert_int_equal(write(a[1], "1", 1), 1);
    assert_int_equal(write(b[1], "2", 1), 1);
    /* make sure both are ready before the single wait */
    struct timespec ts = { 0, 5 * 1000000 };
    nanosleep(&ts, NULL);
    ev_run_once(l, 1000);
    assert_int_equal(ma.calls + mb.calls, 1);
    ev_destroy(&l);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

/* File events of an iteration run before its due timers. */
struct order_log {
    char seq[8];
    int n;
};

static struct order_log g_order;

static void on_io_order(struct ev_loop *l, int fd, int mask, void *ud)
{
    (void)l;
    (void)mask;
    (void)ud;
    char c;
    while (read(fd, &c, 1) == 1)
        ;
    g_order.seq[g_order.n++] = 'I';
}

static void on_timer_order(struct ev_loop *l, struct ev_timer *t)
{
    (void)l;
    (void)t;
    g_order.seq[g_order.n++] = 'T';
}

static void test_file_events_run_before_due_timers(void **state)
{
    (void)state;
    struct ev_loop *l = mkloop();
    int p[2];
    mkpipe(p);
    memset(&g_order, 0, sizeof(g_order));
    assert_int_equal(ev_add(l, p[0], EV_READ, on_io_order, NULL), ST_OK);
    struct ev_timer t;
    ev_timer_init(&t, on_timer_order, NULL);
    ev_timer_start(l, &t, 1);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(ev_run_once(l, 1000), 1);
    assert_int_equal(g_order.n, 2);
    assert_memory_equal(g_order.seq, "IT", 2);
    ev_destroy(&l);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_destroy_nulls_pointer),
        cmocka_unit_test(test_timer_init_is_inactive),
        cmocka_unit_test(test_due_timers_fire_in_deadline_order),
        cmocka_unit_test(test_future_timer_does_not_fire_early),
        cmocka_unit_test(test_wait_ends_at_nearest_timer_and_it_fires),
        cmocka_unit_test(test_stopped_timer_does_not_fire),
        cmocka_unit_test(test_restart_moves_timer_without_duplicating_it),
        cmocka_unit_test(test_callback_may_stop_restart_and_start_other_timers),
        cmocka_unit_test(test_timer_restarting_itself_is_periodic),
        cmocka_unit_test(test_many_timers_random_ops_match_sorted_model),
        cmocka_unit_test(test_max_wait_holds_with_timer_days_away),
        cmocka_unit_test(test_max_wait_holds_with_timer_at_int64_max),
        cmocka_unit_test(test_readable_pipe_calls_handler_with_read_mask),
        cmocka_unit_test(test_writable_pipe_and_ev_set),
        cmocka_unit_test(test_read_and_write_on_one_socket),
        cmocka_unit_test(test_hangup_is_reported_as_readable),
        cmocka_unit_test(test_ev_del_stops_events),
        cmocka_unit_test(test_ev_set_and_add_errors),
        cmocka_unit_test(test_high_fd_numbers_grow_the_handler_table),
        cmocka_unit_test(test_handler_removing_another_fd_in_same_batch),
        cmocka_unit_test(test_file_events_run_before_due_timers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
