/*
 * crash_ptier.c -- kill-at-random-points test of the PMem tier (tiers/pmem.c):
 * a process killed at any instant must leave a pool that passes
 * pmemobj_check, opens, and holds only whole, checksum-valid records the
 * writer could have written, with every acknowledged put still there unless
 * a delete of it had begun, and every acknowledged delete gone (issue 4,
 * DESIGN.md invariants 1 and 3).
 *
 * Each round, on one pool file in /dev/shm reused across rounds:
 *  1. fork a writer: it opens the pool (ptier_create), learns what is in it
 *     (iterate), then puts, gets and deletes records as fast as it can
 *     (random keys, values 1 B .. 8 KiB, generations increasing; about one
 *     pool's worth of keys, so the pool runs full and ST_EFULL is handled).
 *     After each put returns it appends PUT_DONE {key, gen, hint} to a log
 *     in shared memory; before each delete DEL_INTENT, after it DEL_DONE.
 *     A get whose bytes differ from what was put, an unexpected return code
 *     or a warning from the tier ends the writer with FAIL in the log.
 *  2. SIGKILL it after a random delay: 1 .. 30 ms after its first operation,
 *     or, one round in four, 0 .. 25 ms after the fork, which lands inside
 *     pool creation (first rounds), pmemobj_open (recovering the previous
 *     round's crash) or the tier's walk at open.
 *  3. pmemobj_check(path, layout) must return 1.
 *  4. open the pool with ptier_create (no warnings), walk it: every record
 *     must decode and equal, byte for byte, the record the writer builds for
 *     its key and generation (values are derived from the generation); the
 *     model (previous round's contents + this round's log) says which records
 *     must be there (with the same hint), which may be (a delete had begun)
 *     and which must not (the delete returned); at most one record may be
 *     one the log does not know (the put in flight at the kill). Each record
 *     found must also be served by get() through its hint.
 *  5. close; what was found is the next round's starting model.
 *
 * What it does not cover: power failure (tmpfs keeps every store a killed
 * process made; only the ordering within a process's lifetime is tested)
 * and media errors (the unit tests flip bytes).
 *
 * Environment: PMEM_IS_PMEM_FORCE=1, PMEMOBJ_CONF=sds.at_create=0 (set
 * below before any PMDK call). CRASH_SEED=<n> repeats a run; CRASH_KILLS=<n>
 * changes the number of rounds (default 80).
 */
#include <errno.h>
#include <libpmemobj.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/tier.h"
#include "tiers/pmem.h"

#define POOL_SIZE (16u << 20)
#define NKEYS 3000
#define VAL_MAX 8192
#define LOG_CAP (1u << 18)

enum { EV_READY = 1, EV_PUT_DONE, EV_DEL_INTENT, EV_DEL_DONE, EV_FULL, EV_FAIL };

struct ev {
    uint32_t op;
    uint32_t key;
    uint64_t gen;
    uint64_t hint;
};

struct shlog {
    uint64_t n; /* events written; stored with release after each event */
    char fail[256];
    struct ev ev[LOG_CAP];
};

/* ---- deterministic records --------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static uint32_t vlen_of(uint64_t gen)
{
    return 1 + (uint32_t)(mix64(gen) % VAL_MAX);
}

/* The record the writer puts for key/gen, in buf (>= 44 + 16 + VAL_MAX). */
static size_t build_rec(uint32_t key, uint64_t gen, unsigned char *buf)
{
    char k[16];
    unsigned char val[VAL_MAX];
    uint32_t vlen = vlen_of(gen);
    uint64_t x = mix64(gen ^ 0x5555);

    for (uint32_t i = 0; i < vlen; i++) {
        if (i % 8 == 0)
            x = mix64(x);
        val[i] = (unsigned char)(x >> (8 * (i % 8)));
    }
    snprintf(k, sizeof(k), "ck:%u", key);
    struct tier_rec r = {
        .gen = gen,
        .expire_ms = (int64_t)(gen & 0xffffff) - 1,
        .key = k,
        .klen = (uint32_t)strlen(k),
        .val = val,
        .vlen = vlen,
        .rawlen = vlen,
        .dict_id = 0,
        .type = (uint8_t)(gen % 7),
        .flags = TIER_REC_F_RAW,
    };
    tier_rec_encode(&r, buf);
    return tier_rec_size(&r);
}

static int parse_key(const char *k, uint32_t klen, uint32_t *key)
{
    char tmp[16];
    char *end;

    if (klen < 4 || klen >= sizeof(tmp) || memcmp(k, "ck:", 3) != 0)
        return -1;
    memcpy(tmp, k, klen);
    tmp[klen] = 0;
    unsigned long v = strtoul(tmp + 3, &end, 10);
    if (*end || v >= NKEYS)
        return -1;
    *key = (uint32_t)v;
    return 0;
}

/* ---- the writer (child) ------------------------------------------------ */

struct live {
    uint64_t gen; /* 0: none */
    uint64_t hint;
};

struct writer {
    struct shlog *log;
    struct tier *t;
    struct live live[NKEYS];
    uint64_t rng;
    unsigned char buf[64 + VAL_MAX];
};

static uint64_t rnd(uint64_t *s)
{
    *s = mix64(*s);
    return *s;
}

static void wlog(struct writer *w, uint32_t op, uint32_t key, uint64_t gen, uint64_t hint)
{
    uint64_t n = w->log->n;
    if (n >= LOG_CAP) {
        /* cannot record more: stop mutating, wait for the kill */
        for (;;)
            pause();
    }
    w->log->ev[n] = (struct ev){.op = op, .key = key, .gen = gen, .hint = hint};
    __atomic_store_n(&w->log->n, n + 1, __ATOMIC_RELEASE);
}

static void wfail(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void wfail(struct writer *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->log->fail, sizeof(w->log->fail), fmt, ap);
    va_end(ap);
    wlog(w, EV_FAIL, 0, 0, 0);
    _exit(3);
}

static void writer_log(void *ud, int level, const char *msg)
{
    struct writer *w = ud;
    if (level >= PTIER_LOG_WARNING)
        wfail(w, "tier warning in the writer: %s", msg);
}

static int learn(void *ud, const void *rec, size_t len, uint64_t hint)
{
    struct writer *w = ud;
    struct tier_rec r;
    uint32_t key;

    if (tier_rec_decode(rec, len, &r, NULL) != ST_OK || parse_key(r.key, r.klen, &key) != 0)
        wfail(w, "walk at open returned a record that is not ours");
    if (w->live[key].gen)
        wfail(w, "two records for key %u", key);
    w->live[key] = (struct live){.gen = r.gen, .hint = hint};
    return 0;
}

static void wdel(struct writer *w, uint32_t key)
{
    char k[16];
    struct live *l = &w->live[key];

    snprintf(k, sizeof(k), "ck:%u", key);
    wlog(w, EV_DEL_INTENT, key, l->gen, l->hint);
    int rc = w->t->ops->del(w->t, k, strlen(k), l->gen, l->hint);
    if (rc != ST_OK)
        wfail(w, "del key %u gen %llx: %s", key, (unsigned long long)l->gen, st_strerror(rc));
    wlog(w, EV_DEL_DONE, key, l->gen, l->hint);
    l->gen = 0;
}

static void wget(struct writer *w, uint32_t key)
{
    char k[16];
    struct live *l = &w->live[key];
    void *got = NULL;
    size_t glen = 0;

    snprintf(k, sizeof(k), "ck:%u", key);
    int rc = w->t->ops->get(w->t, k, strlen(k), l->gen, l->hint, &got, &glen, NULL);
    if (rc != ST_OK)
        wfail(w, "get key %u: %s", key, st_strerror(rc));
    size_t len = build_rec(key, l->gen, w->buf);
    if (glen != len || memcmp(got, w->buf, len) != 0)
        wfail(w, "get key %u returned other bytes", key);
    free(got);
}

static int walk_noop(void *ud, const void *rec, size_t len, uint64_t hint)
{
    (void)ud;
    (void)rec;
    (void)len;
    (void)hint;
    return 0;
}

static void writer_main(struct shlog *log, const char *path, uint64_t seed, uint32_t round) __attribute__((noreturn));

static void writer_main(struct shlog *log, const char *path, uint64_t seed, uint32_t round)
{
    struct writer *w = calloc(1, sizeof(*w));
    if (!w)
        _exit(4);
    w->log = log;
    w->rng = seed;
    struct ptier_conf conf = {.path = path, .size = POOL_SIZE, .log = writer_log, .log_ud = w};
    int rc = ptier_create(&conf, &w->t);
    if (rc != ST_OK)
        wfail(w, "writer open: %s", st_strerror(rc));
    if (w->t->ops->iterate(w->t, learn, w) != 0)
        wfail(w, "writer walk failed");
    wlog(w, EV_READY, 0, 0, 0);

    uint64_t next_gen = ((uint64_t)(round + 1) << 32) | 1;
    for (uint64_t op = 0;; op++) {
        uint64_t r = rnd(&w->rng);
        uint32_t key = (uint32_t)((r >> 8) % NKEYS);
        unsigned what = (unsigned)(r % 100);

        if (op % 997 == 0) {
            if (w->t->ops->iterate(w->t, walk_noop, NULL) != 0)
                wfail(w, "walk failed");
            continue;
        }
        if (what < 55) { /* (re)write key */
            if (w->live[key].gen)
                wdel(w, key);
            uint64_t gen = next_gen++;
            size_t len = build_rec(key, gen, w->buf);
            uint64_t hint = 0;
            rc = w->t->ops->put(w->t, w->buf, len, &hint, NULL);
            if (rc == ST_EFULL) {
                wlog(w, EV_FULL, key, gen, 0);
                /* make room: drop a few random records */
                for (int i = 0; i < 8; i++) {
                    uint32_t victim = (uint32_t)(rnd(&w->rng) % NKEYS);
                    if (w->live[victim].gen)
                        wdel(w, victim);
                }
                continue;
            }
            if (rc != ST_OK)
                wfail(w, "put key %u: %s", key, st_strerror(rc));
            w->live[key] = (struct live){.gen = gen, .hint = hint};
            wlog(w, EV_PUT_DONE, key, gen, hint);
        } else if (what < 85) {
            if (w->live[key].gen)
                wget(w, key);
        } else if (w->live[key].gen) {
            wdel(w, key);
        }
    }
}

/* ---- the checker (parent) ---------------------------------------------- */

enum { M_NONE = 0, M_MUST, M_MAYBE, M_GONE };

struct model {
    uint8_t state; /* M_* for the record (key, gen) */
    uint8_t seen;  /* found by this round's walk */
    uint64_t gen;
    uint64_t hint;
};

struct found {
    uint32_t n;
    uint32_t key[NKEYS * 2];
    uint64_t gen[NKEYS * 2];
    uint64_t hint[NKEYS * 2];
    unsigned char buf[64 + VAL_MAX];
    const char *err;
};

static int collect(void *ud, const void *rec, size_t len, uint64_t hint)
{
    struct found *f = ud;
    struct tier_rec r;
    size_t used;
    uint32_t key;

    if (tier_rec_decode(rec, len, &r, &used) != ST_OK || used != len) {
        f->err = "a walked record does not decode";
        return 1;
    }
    if (parse_key(r.key, r.klen, &key) != 0) {
        f->err = "a record with a key the writer never used";
        return 1;
    }
    size_t want = build_rec(key, r.gen, f->buf);
    if (want != len || memcmp(f->buf, rec, len) != 0) {
        f->err = "a record whose bytes differ from what the writer put for its key and generation";
        return 1;
    }
    if (f->n >= NKEYS * 2) {
        f->err = "more records than the writer could have live";
        return 1;
    }
    f->key[f->n] = key;
    f->gen[f->n] = r.gen;
    f->hint[f->n] = hint;
    f->n++;
    return 0;
}

struct parent_log {
    int warnings;
    char last[512];
};

static void parent_log(void *ud, int level, const char *msg)
{
    struct parent_log *l = ud;
    if (level >= PTIER_LOG_WARNING) {
        l->warnings++;
        snprintf(l->last, sizeof(l->last), "%s", msg);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Records the model keeps per key: the last few generations named by the
 * log (a key's old record and its replacement can both be in play). */
#define PER_KEY 16

static struct model *model_find(struct model *m, uint32_t key, uint64_t gen, int add)
{
    struct model *slot = NULL;
    for (int i = 0; i < PER_KEY; i++) {
        struct model *e = &m[key * PER_KEY + i];
        if (e->state != M_NONE && e->gen == gen)
            return e;
        if (!slot && (e->state == M_NONE || e->state == M_GONE))
            slot = e;
    }
    if (!add)
        return NULL;
    if (!slot)
        return NULL;
    *slot = (struct model){.state = M_NONE, .gen = gen}; /* may forget a GONE generation: see main */
    return slot;
}

int main(void)
{
    setenv("PMEM_IS_PMEM_FORCE", "1", 1);
    setenv("PMEMOBJ_CONF", "sds.at_create=0", 1);

    const char *s = getenv("CRASH_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    s = getenv("CRASH_KILLS");
    int kills = s ? atoi(s) : 80;
    char path[128];
    snprintf(path, sizeof(path), "/dev/shm/strata-crash-ptier-%d.pool", (int)getpid());
    unlink(path);
    printf("crash_ptier: seed %llu, %d rounds, pool %s\n", (unsigned long long)seed, kills, path);
    fflush(stdout);

    struct shlog *log = mmap(NULL, sizeof(*log), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct model *model = calloc((size_t)NKEYS * PER_KEY, sizeof(*model));
    struct found *found = malloc(sizeof(*found));
    if (log == MAP_FAILED || !model || !found) {
        fprintf(stderr, "crash_ptier: out of memory\n");
        return 1;
    }

    uint64_t rng = seed;
    double t0 = now_s();
    int killed = 0, early = 0, ready_rounds = 0, unborn = 0, pool_made = 0;
    uint64_t puts = 0, dels = 0, checked = 0, unlogged = 0, maybes = 0, fulls = 0;
    const char *fail = NULL;
    char why[512] = "";

    for (int round = 0; round < kills && !fail; round++) {
        log->n = 0;
        log->fail[0] = 0;
        uint64_t child_seed = rnd(&rng);
        int quick = rnd(&rng) % 4 == 0;
        long delay_us = quick ? (long)(rnd(&rng) % 25000) : 1000 + (long)(rnd(&rng) % 29000);

        pid_t pid = fork();
        if (pid < 0) {
            fail = "fork";
            break;
        }
        if (pid == 0)
            writer_main(log, path, child_seed, (uint32_t)round);
        if (!quick) {
            /* the delay counts from the writer's first operation */
            for (int waited = 0; waited < 20000 && __atomic_load_n(&log->n, __ATOMIC_ACQUIRE) == 0; waited++)
                usleep(100);
        }
        if (delay_us)
            usleep((useconds_t)delay_us);
        kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
            snprintf(why, sizeof(why), "round %d: writer ended by itself (status %d): %.200s", round, status,
                     log->fail[0] ? log->fail : "(no message)");
            fail = why;
            break;
        }
        killed++;
        early += quick;

        /* Killed before the pool was first created: there must be no pool
         * (a creation cut short leaves only "<path>.new", see pmem.c inv. 7). */
        if (access(path, F_OK) != 0) {
            if (pool_made || __atomic_load_n(&log->n, __ATOMIC_ACQUIRE) != 0) {
                snprintf(why, sizeof(why), "round %d: the pool file is gone", round);
                fail = why;
            }
            unborn++;
            continue;
        }
        pool_made = 1;

        /* 3. the pool passes libpmemobj's own check */
        int chk = pmemobj_check(path, PTIER_LAYOUT);
        if (chk != 1) {
            snprintf(why, sizeof(why), "round %d: pmemobj_check returned %d (%s)", round, chk, pmemobj_errormsg());
            fail = why;
            break;
        }

        /* the model: apply this round's log */
        uint64_t n = __atomic_load_n(&log->n, __ATOMIC_ACQUIRE);
        for (uint64_t i = 0; i < n && !fail; i++) {
            struct ev *e = &log->ev[i];
            struct model *m;
            switch (e->op) {
            case EV_READY:
                ready_rounds++;
                break;
            case EV_FULL:
                fulls++;
                break;
            case EV_PUT_DONE:
                m = model_find(model, e->key, e->gen, 1);
                if (!m) {
                    fail = "model: too many generations of one key in play";
                    break;
                }
                m->state = M_MUST;
                m->hint = e->hint;
                puts++;
                break;
            case EV_DEL_INTENT:
                m = model_find(model, e->key, e->gen, 0);
                if (!m || m->state != M_MUST) {
                    snprintf(why, sizeof(why), "round %d: writer deletes key %u gen %llx it never had", round,
                             e->key, (unsigned long long)e->gen);
                    fail = why;
                    break;
                }
                m->state = M_MAYBE;
                break;
            case EV_DEL_DONE:
                m = model_find(model, e->key, e->gen, 0);
                if (!m) {
                    fail = "model: delete of an unknown record";
                    break;
                }
                m->state = M_GONE;
                dels++;
                break;
            case EV_FAIL:
                snprintf(why, sizeof(why), "round %d: writer failed: %.200s", round, log->fail);
                fail = why;
                break;
            }
        }
        if (fail)
            break;

        /* 4. open, walk, compare with the model */
        struct parent_log pl = {0};
        struct ptier_conf conf = {.path = path, .size = POOL_SIZE, .log = parent_log, .log_ud = &pl};
        struct tier *t = NULL;
        int rc = ptier_create(&conf, &t);
        if (rc != ST_OK || pl.warnings) {
            snprintf(why, sizeof(why), "round %d: open after kill: %s; %.200s", round, st_strerror(rc), pl.last);
            fail = why;
            break;
        }
        found->n = 0;
        found->err = NULL;
        uint64_t round_unlogged = 0;
        rc = t->ops->iterate(t, collect, found);
        struct tier_stats st;
        t->ops->stats(t, &st);
        if (rc != 0 || found->err || st.errors || st.records != found->n || pl.warnings) {
            snprintf(why, sizeof(why), "round %d: walk: %s (rc %d, errors %llu, records %llu, walked %u) %.200s", round,
                     found->err ? found->err : "", rc, (unsigned long long)st.errors,
                     (unsigned long long)st.records, found->n, pl.last);
            fail = why;
        }
        for (uint32_t i = 0; i < found->n && !fail; i++) {
            struct model *m = model_find(model, found->key[i], found->gen[i], 0);
            if (!m || m->state == M_GONE) {
                if (m || (found->gen[i] >> 32) != (uint64_t)round + 1) {
                    snprintf(why, sizeof(why),
                             "round %d: key %u gen %llx is in the pool but %s", round, found->key[i],
                             (unsigned long long)found->gen[i],
                             m ? "its delete had returned" : "was never written in this round");
                    fail = why;
                    break;
                }
                /* The put in flight at the kill (or, if the model forgot
                 * a GONE generation of a key rewritten more than PER_KEY
                 * times this round, a delete that returned: then a second
                 * one here fails the round). */
                unlogged++;
                if (++round_unlogged > 1) {
                    snprintf(why, sizeof(why), "round %d: two records the log does not know survived", round);
                    fail = why;
                    break;
                }
            }
            if (m)
                m->seen = 1;
            if (m && m->state == M_MUST && m->hint != found->hint[i]) {
                snprintf(why, sizeof(why), "round %d: key %u moved from hint %llu to %llu", round, found->key[i],
                         (unsigned long long)m->hint, (unsigned long long)found->hint[i]);
                fail = why;
            }
            /* served through its hint after the reopen */
            char k[16];
            void *got = NULL;
            size_t glen;
            snprintf(k, sizeof(k), "ck:%u", found->key[i]);
            if (!fail && t->ops->get(t, k, strlen(k), found->gen[i], found->hint[i], &got, &glen, NULL) != ST_OK) {
                snprintf(why, sizeof(why), "round %d: key %u not served by get after reopen", round, found->key[i]);
                fail = why;
            }
            free(got);
            checked++;
        }
        /* every acknowledged put not being deleted is there */
        for (uint32_t k = 0; k < NKEYS * PER_KEY && !fail; k++) {
            struct model *m = &model[k];
            if (m->state == M_MUST && !m->seen) {
                snprintf(why, sizeof(why), "round %d: acknowledged put of key %u gen %llx is missing", round,
                         k / PER_KEY, (unsigned long long)m->gen);
                fail = why;
            }
        }
        for (uint32_t k = 0; k < NKEYS * PER_KEY; k++)
            maybes += model[k].state == M_MAYBE;
        tier_destroy(&t);

        /* 5. what is there now is the next round's model */
        memset(model, 0, (size_t)NKEYS * PER_KEY * sizeof(*model));
        for (uint32_t i = 0; i < found->n && !fail; i++) {
            struct model *m = model_find(model, found->key[i], found->gen[i], 1);
            if (!m) {
                fail = "more generations of one key in the pool than the model holds";
                break;
            }
            m->state = M_MUST;
            m->hint = found->hint[i];
        }
    }

    double secs = now_s() - t0;
    unlink(path);
    snprintf(path + strlen(path), sizeof(path) - strlen(path), ".new");
    unlink(path);
    munmap(log, sizeof(*log));
    free(model);
    free(found);
    if (fail) {
        printf("crash_ptier: FAIL after %d kills (seed %llu): %s\n", killed, (unsigned long long)seed, fail);
        return 1;
    }
    printf("crash_ptier: %d kills (%d killed 0..25 ms after the fork, %d before the pool existed, %d after the writer had "
           "opened the pool) in %.1f s; "
           "%llu acknowledged puts, %llu acknowledged deletes, %llu record checks, %llu in-flight puts found whole, "
           "%llu deletes in flight, %llu ST_EFULL answers; pmemobj_check passed every time\n",
           killed, early, unborn, ready_rounds, secs, (unsigned long long)puts, (unsigned long long)dels,
           (unsigned long long)checked, (unsigned long long)unlogged, (unsigned long long)maybes, (unsigned long long)fulls);
    return killed - unborn >= 60 ? 0 : 1;
}
