/*
 * info.c -- the text of INFO, and the instantaneous-rate tracker.
 *
 * Owns: the section table (names, Redis's fixed order, which ones "default"
 * includes), the formatting of every field, the reading of allocator and
 * process memory figures, and struct info_inst (samples of the summed worker
 * counters, turned into per-second rates). Does not own any counter: they
 * come from the workers (server_stats_sum), the keyspace (ks_stats,
 * ks_db_counts), the config and struct server.
 *
 * Format (Redis 7.0 genRedisInfoString): for each selected section, in the
 * fixed order below, "# Title\r\n" then "field:value\r\n" lines; sections are
 * separated by one "\r\n"; the text does not end with a blank line. Field
 * names are Redis's, so redis-cli, redis-py, exporters and Sentinel read
 * them unchanged; Strata-only fields are prefixed or named unambiguously
 * (strata_version, worker_threads).
 *
 * Invariants:
 *  1. A section either reports a figure Strata really measures, or a constant
 *     that is true of Strata today (maxmemory:0, role:master, loading:0);
 *     fields for features Strata does not have are left out, not faked.
 *  2. used_memory_peak >= used_memory in the same reply: the peak is updated
 *     (srv->mem_peak, a CAS max) before it is printed.
 *  3. info_inst samples raw worker counters, never the RESETSTAT-adjusted
 *     sums, so a reset cannot make a rate negative.
 *
 * Threads: info_render runs on the worker of the client that sent INFO and
 * reads other workers' counters with relaxed atomic loads (STAT_GET);
 * info_inst_sample runs on one worker's cron; the tracker is guarded by its
 * own mutex.
 *
 * References: Redis 7.0 src/server.c (genRedisInfoString, bytesToHuman,
 * trackInstantaneousMetric), jemalloc's mallctl(3) "stats.*" and "epoch".
 */
#include "server/persist.h"
#include "server/info.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifdef STRATA_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/util.h"
#include "server/blocking.h"
#include "server/client.h"
#include "server/cmd.h"
#include "server/maxmem.h"
#include "server/server.h"
#include "server/stats.h"
#include "server/tiering.h"
#include "server/worker.h"

#ifndef STRATA_VERSION
#define STRATA_VERSION "unknown"
#endif

/* Redis's release whose behaviour Strata follows (clients branch on it). */
#define INFO_REDIS_VERSION "7.0.15"

/* ------------------------------------------------------ instantaneous rates */

int info_inst_init(struct info_inst *ii)
{
    memset(ii, 0, sizeof(*ii));
    if (pthread_mutex_init(&ii->lock, NULL) != 0)
        return ST_EIO;
    return 0;
}

void info_inst_deinit(struct info_inst *ii)
{
    pthread_mutex_destroy(&ii->lock);
}

void info_inst_sample(struct server *srv, int64_t now_mono_us)
{
    struct info_inst *ii = &srv->inst;
    uint64_t cur[INFO_INST_N] = {0};

    pthread_mutex_lock(&ii->lock);
    if (ii->last_us && now_mono_us - ii->last_us < INFO_INST_PERIOD_US)
        goto out_unlock;
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *w = srv->workers ? srv->workers[i] : NULL;
        if (!w)
            continue;
        cur[INFO_INST_OPS] += STAT_GET(w->stats.commands_processed);
        cur[INFO_INST_NET_IN] += STAT_GET(w->stats.net_input_bytes);
        cur[INFO_INST_NET_OUT] += STAT_GET(w->stats.net_output_bytes);
    }
    if (ii->last_us && now_mono_us > ii->last_us) {
        double secs = (double)(now_mono_us - ii->last_us) / 1e6;
        for (int m = 0; m < INFO_INST_N; m++) {
            uint64_t d = cur[m] >= ii->last[m] ? cur[m] - ii->last[m] : 0;
            ii->rate[m][ii->idx] = (double)d / secs;
        }
        ii->idx = (ii->idx + 1) % INFO_INST_SAMPLES;
        if (ii->nsamples < INFO_INST_SAMPLES)
            ii->nsamples++;
    }
    memcpy(ii->last, cur, sizeof(cur));
    ii->last_us = now_mono_us;
out_unlock:
    pthread_mutex_unlock(&ii->lock);
}

void info_inst_reset(struct info_inst *ii)
{
    pthread_mutex_lock(&ii->lock);
    memset(ii->rate, 0, sizeof(ii->rate));
    ii->idx = 0;
    ii->nsamples = 0;
    pthread_mutex_unlock(&ii->lock);
}

double info_inst_get(struct info_inst *ii, enum info_inst_metric m)
{
    double sum = 0;
    int n;

    pthread_mutex_lock(&ii->lock);
    n = ii->nsamples;
    for (int i = 0; i < n; i++)
        sum += ii->rate[m][i];
    pthread_mutex_unlock(&ii->lock);
    return n ? sum / n : 0;
}

/* ------------------------------------------------------------ text buffer */

struct ibuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void ib_printf(struct ibuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ib_printf(struct ibuf *b, const char *fmt, ...)
{
    va_list ap;

    if (b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 4096;
        while (ncap - b->len <= (size_t)n)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

/* Redis's bytesToHuman: "512B", "1.50K", "2.00M", ... */
static void bytes_human(char *s, size_t size, uint64_t n)
{
    static const char units[] = "KMGTPE";
    double d = (double)n;
    int u = -1;

    if (n < 1024) {
        snprintf(s, size, "%" PRIu64 "B", n);
        return;
    }
    while (d >= 1024 && u < 5) {
        d /= 1024;
        u++;
    }
    snprintf(s, size, "%.2f%c", d, units[u]);
}

/* ----------------------------------------------------------------- memory */

struct mem_figures {
    uint64_t allocated; /* bytes handed out to the program */
    uint64_t active;    /* bytes in pages the allocator has in use */
    uint64_t resident;  /* bytes of the allocator's pages resident in RAM */
    uint64_t rss;       /* the process's resident set */
    char allocator[48];
};

static uint64_t proc_rss(void)
{
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void mem_read(struct mem_figures *m)
{
    memset(m, 0, sizeof(*m));
#ifdef STRATA_JEMALLOC
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch), v;
    const char *ver = NULL;

    mallctl("epoch", &epoch, &sz, &epoch, sz); /* refresh the stats snapshot */
    sz = sizeof(v);
    if (mallctl("stats.allocated", &v, &sz, NULL, 0) == 0)
        m->allocated = v;
    sz = sizeof(v);
    if (mallctl("stats.active", &v, &sz, NULL, 0) == 0)
        m->active = v;
    sz = sizeof(v);
    if (mallctl("stats.resident", &v, &sz, NULL, 0) == 0)
        m->resident = v;
    sz = sizeof(ver);
    if (mallctl("version", &ver, &sz, NULL, 0) == 0 && ver) {
        size_t n = strcspn(ver, "-");
        snprintf(m->allocator, sizeof(m->allocator), "jemalloc-%.*s", (int)n, ver);
    } else {
        snprintf(m->allocator, sizeof(m->allocator), "jemalloc");
    }
#else
    struct mallinfo2 mi = mallinfo2();
    m->allocated = mi.uordblks + mi.hblkhd;
    m->active = mi.arena + mi.hblkhd;
    m->resident = m->active;
    snprintf(m->allocator, sizeof(m->allocator), "libc");
#endif
    m->rss = proc_rss();
    /* Under a sanitizer's allocator neither source sees the heap: fall back
     * to the RSS so used_memory stays meaningful (never 0). */
    if (m->allocated == 0)
        m->allocated = m->rss;
    if (m->active == 0)
        m->active = m->allocated;
    if (m->resident == 0)
        m->resident = m->rss;
}

uint64_t info_used_memory(void)
{
    struct mem_figures m;
    mem_read(&m);
    return m.allocated;
}

/* --------------------------------------------------------------- sections */

enum {
    SEC_SERVER, SEC_CLIENTS, SEC_MEMORY, SEC_PERSISTENCE, SEC_STATS, SEC_REPLICATION, SEC_CPU,
    SEC_COMMANDSTATS, SEC_ERRORSTATS, SEC_CLUSTER, SEC_KEYSPACE, SEC_TIERS, SEC_N
};

static const struct {
    const char *name;  /* as INFO takes it */
    const char *title; /* as the header shows it */
    int in_default;
} sections[SEC_N] = {
    [SEC_SERVER] = {"server", "Server", 1},
    [SEC_CLIENTS] = {"clients", "Clients", 1},
    [SEC_MEMORY] = {"memory", "Memory", 1},
    [SEC_PERSISTENCE] = {"persistence", "Persistence", 1},
    [SEC_STATS] = {"stats", "Stats", 1},
    [SEC_REPLICATION] = {"replication", "Replication", 1},
    [SEC_CPU] = {"cpu", "CPU", 1},
    [SEC_COMMANDSTATS] = {"commandstats", "Commandstats", 0},
    [SEC_ERRORSTATS] = {"errorstats", "Errorstats", 1},
    [SEC_CLUSTER] = {"cluster", "Cluster", 1},
    [SEC_KEYSPACE] = {"keyspace", "Keyspace", 1},
    [SEC_TIERS] = {"tiers", "Tiers", 1},
};

/* What the sections being rendered need, gathered once. */
struct info_ctx {
    struct server *srv;
    struct ibuf b;
    int have_stats;
    struct worker_stats sum;
    int have_ks;
    struct ks_stats ks;
};

static struct worker_stats *ctx_stats(struct info_ctx *x)
{
    if (!x->have_stats) {
        server_stats_sum(x->srv, &x->sum);
        x->have_stats = 1;
    }
    return &x->sum;
}

static struct ks_stats *ctx_ks(struct info_ctx *x)
{
    if (!x->have_ks) {
        memset(&x->ks, 0, sizeof(x->ks));
        if (x->srv->ks)
            ks_stats(x->srv->ks, &x->ks);
        x->have_ks = 1;
    }
    return &x->ks;
}

static void sec_server(struct info_ctx *x)
{
    struct server *srv = x->srv;
    struct utsname un;
    int64_t uptime = (util_mono_us() - srv->start_mono_us) / 1000000;

    if (uname(&un) != 0)
        memset(&un, 0, sizeof(un));
    ib_printf(&x->b,
              "redis_version:%s\r\n"
              "redis_git_sha1:00000000\r\n"
              "redis_git_dirty:0\r\n"
              "redis_mode:standalone\r\n"
              "os:%s %s %s\r\n"
              "arch_bits:%d\r\n"
              "monotonic_clock:POSIX clock_gettime\r\n"
              "multiplexing_api:epoll\r\n"
              "atomicvar_api:c11-builtin\r\n"
              "gcc_version:%d.%d.%d\r\n"
              "process_id:%ld\r\n"
              "process_supervised:no\r\n"
              "run_id:%s\r\n"
              "tcp_port:%d\r\n"
              "server_time_usec:%" PRId64 "\r\n"
              "uptime_in_seconds:%" PRId64 "\r\n"
              "uptime_in_days:%" PRId64 "\r\n"
              "hz:%lld\r\n"
              "configured_hz:%lld\r\n"
              "lru_clock:%u\r\n"
              "executable:%s\r\n"
              "config_file:%s\r\n"
              "io_threads_active:0\r\n"
              "strata_version:%s\r\n"
              "worker_threads:%d\r\n",
              INFO_REDIS_VERSION, un.sysname, un.release, un.machine, (int)(sizeof(void *) * 8),
#ifdef __GNUC__
              __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
              0, 0, 0,
#endif
              (long)getpid(), srv->run_id, srv->tcp_port_bound, util_time_us(), uptime, uptime / 86400,
              cfg_load(srv->cfg.hz), cfg_load(srv->cfg.hz),
              srv->ks ? (unsigned)atomic_load_explicit(&srv->ks->lru_clock, memory_order_relaxed) : 0u,
              srv->executable ? srv->executable : "", srv->config_file ? srv->config_file : "",
              STRATA_VERSION, srv->nworkers);
}

static void sec_clients(struct info_ctx *x)
{
    struct server *srv = x->srv;
    uint64_t max_in = 0, max_out = 0;

    for (int i = 0; srv->workers && i < srv->nworkers; i++) {
        struct worker *w = srv->workers[i];
        if (!w)
            continue;
        uint64_t in = atomic_load_explicit(&w->recent_max_qbuf, memory_order_relaxed);
        uint64_t out = atomic_load_explicit(&w->recent_max_obuf, memory_order_relaxed);
        if (in > max_in)
            max_in = in;
        if (out > max_out)
            max_out = out;
    }
    ib_printf(&x->b,
              "connected_clients:%d\r\n"
              "cluster_connections:0\r\n"
              "maxclients:%lld\r\n"
              "client_recent_max_input_buffer:%" PRIu64 "\r\n"
              "client_recent_max_output_buffer:%" PRIu64 "\r\n"
              "blocked_clients:%" PRIu64 "\r\n"
              "tracking_clients:0\r\n"
              "clients_in_timeout_table:%" PRIu64 "\r\n",
              atomic_load_explicit(&srv->nclients, memory_order_relaxed), cfg_load(srv->cfg.maxclients),
              max_in, max_out, blk_count(srv->blk), blk_count(srv->blk));
}

/* config_get callback: copies the value into a char[32]. */
static void copy_value(const char *name, const char *value, void *ud)
{
    (void)name;
    snprintf(ud, 32, "%s", value);
}

static void sec_memory(struct info_ctx *x)
{
    struct mem_figures m;
    struct ks_stats *ks = ctx_ks(x);
    char used_h[32], rss_h[32], peak_h[32], sys_h[32];
    uint64_t peak, overhead, dataset, sysmem;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

    mem_read(&m);
    peak = atomic_load(&x->srv->mem_peak);
    while (m.allocated > peak && !atomic_compare_exchange_weak(&x->srv->mem_peak, &peak, m.allocated))
        ;
    if (peak < m.allocated)
        peak = m.allocated;
    overhead = ks->overhead_bytes;
    dataset = m.allocated > overhead ? m.allocated - overhead : 0;
    sysmem = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
    bytes_human(used_h, sizeof(used_h), m.allocated);
    bytes_human(rss_h, sizeof(rss_h), m.rss);
    bytes_human(peak_h, sizeof(peak_h), peak);
    bytes_human(sys_h, sizeof(sys_h), sysmem);
    long long maxmem = cfg_load(x->srv->cfg.maxmemory);
    char max_h[32];
    bytes_human(max_h, sizeof(max_h), (uint64_t)maxmem);
    char policy_name[32] = "noeviction";
    config_get(&x->srv->cfg, "maxmemory-policy", copy_value, policy_name);

    ib_printf(&x->b,
              "used_memory:%" PRIu64 "\r\n"
              "used_memory_human:%s\r\n"
              "used_memory_rss:%" PRIu64 "\r\n"
              "used_memory_rss_human:%s\r\n"
              "used_memory_peak:%" PRIu64 "\r\n"
              "used_memory_peak_human:%s\r\n"
              "used_memory_peak_perc:%.2f%%\r\n"
              "used_memory_overhead:%" PRIu64 "\r\n"
              "used_memory_dataset:%" PRIu64 "\r\n"
              "used_memory_dataset_perc:%.2f%%\r\n"
              "allocator_allocated:%" PRIu64 "\r\n"
              "allocator_active:%" PRIu64 "\r\n"
              "allocator_resident:%" PRIu64 "\r\n"
              "total_system_memory:%" PRIu64 "\r\n"
              "total_system_memory_human:%s\r\n"
              "maxmemory:%lld\r\n"
              "maxmemory_human:%s\r\n"
              "maxmemory_policy:%s\r\n"
              "allocator_frag_ratio:%.2f\r\n"
              "allocator_frag_bytes:%" PRId64 "\r\n"
              "allocator_rss_ratio:%.2f\r\n"
              "allocator_rss_bytes:%" PRId64 "\r\n"
              "mem_fragmentation_ratio:%.2f\r\n"
              "mem_fragmentation_bytes:%" PRId64 "\r\n"
              "mem_allocator:%s\r\n",
              m.allocated, used_h, m.rss, rss_h, peak, peak_h,
              peak ? (double)m.allocated * 100.0 / (double)peak : 0.0, overhead, dataset,
              m.allocated ? (double)dataset * 100.0 / (double)m.allocated : 0.0, m.allocated, m.active,
              m.resident, sysmem, sys_h, maxmem, max_h, policy_name,
              m.allocated ? (double)m.active / (double)m.allocated : 0.0,
              (int64_t)m.active - (int64_t)m.allocated,
              m.active ? (double)m.resident / (double)m.active : 0.0,
              (int64_t)m.resident - (int64_t)m.active,
              m.allocated ? (double)m.rss / (double)m.allocated : 0.0,
              (int64_t)m.rss - (int64_t)m.allocated, m.allocator);

    /* what maxmemory counts, and where it goes */
    struct tiering *tg = x->srv->tiering;
    uint64_t counted = maxmem_used(x->srv, 1);
    ib_printf(&x->b,
              "mem_counted_for_maxmemory:%" PRIu64 "\r\n"
              "mem_keyspace_tables:%" PRIu64 "\r\n"
              "mem_cold_keys:%" PRIu64 "\r\n"
              "mem_tier_dictionaries:%" PRIu64 "\r\n"
              "mem_tier_heap_not_counted:%" PRIu64 "\r\n",
              counted, overhead, tg ? tiering_cold_keys(tg) : 0, tg ? tiering_dict_bytes(tg) : 0,
              tg ? tiering_heap_bytes(tg) : 0);
}

static void tiers_line(void *ud, const char *line);

static void sec_persistence(struct info_ctx *x)
{
    if (x->srv->persist)
        persist_info(x->srv, tiers_line, &x->b);
    else
        ib_printf(&x->b, "loading:1\r\n");
}

static double expired_stale_perc(struct server *srv)
{
    struct keyspace *ks = srv->ks;
    uint64_t sum = 0;

    if (!ks || ks->nshards == 0)
        return 0;
    for (unsigned i = 0; i < ks->nshards; i++) {
        ks_lock(ks, i);
        sum += ks->shards[i].expired_stale_perc_x100;
        ks_unlock(ks, i);
    }
    return (double)sum / 100.0 / ks->nshards;
}

static void sec_stats(struct info_ctx *x)
{
    struct server *srv = x->srv;
    struct worker_stats *s = ctx_stats(x);
    uint64_t expired = ctx_ks(x)->expired_keys, base;
    if (srv->tiering)
        expired += tiering_expired_keys(srv->tiering); /* keys that expired in an indexed tier */

    pthread_mutex_lock(&srv->stats_lock);
    base = srv->expired_keys_base;
    pthread_mutex_unlock(&srv->stats_lock);
    expired = expired > base ? expired - base : 0;

    ib_printf(&x->b,
              "total_connections_received:%" PRIu64 "\r\n"
              "total_commands_processed:%" PRIu64 "\r\n"
              "instantaneous_ops_per_sec:%.0f\r\n"
              "total_net_input_bytes:%" PRIu64 "\r\n"
              "total_net_output_bytes:%" PRIu64 "\r\n"
              "instantaneous_input_kbps:%.2f\r\n"
              "instantaneous_output_kbps:%.2f\r\n"
              "rejected_connections:%" PRIu64 "\r\n"
              "expired_keys:%" PRIu64 "\r\n"
              "expired_stale_perc:%.2f\r\n"
              "expire_cycle_cpu_milliseconds:%" PRIu64 "\r\n"
              "evicted_keys:%" PRIu64 "\r\n"
              "keyspace_hits:%" PRIu64 "\r\n"
              "keyspace_misses:%" PRIu64 "\r\n"
              "total_error_replies:%" PRIu64 "\r\n"
              "client_query_buffer_limit_disconnections:%" PRIu64 "\r\n"
              "client_output_buffer_limit_disconnections:%" PRIu64 "\r\n",
              s->connections_received, s->commands_processed, info_inst_get(&srv->inst, INFO_INST_OPS),
              s->net_input_bytes, s->net_output_bytes,
              info_inst_get(&srv->inst, INFO_INST_NET_IN) / 1024.0,
              info_inst_get(&srv->inst, INFO_INST_NET_OUT) / 1024.0, s->rejected_connections,
              expired, expired_stale_perc(srv), s->expire_cycle_us / 1000,
              s->evicted_keys + (srv->tiering ? tiering_evicted_keys(srv->tiering) : 0),
              s->keyspace_hits, s->keyspace_misses, s->error_replies, s->client_qbuf_limit_disconnections,
              s->client_output_limit_disconnections);
}

static void sec_replication(struct info_ctx *x)
{
    ib_printf(&x->b,
              "role:master\r\n"
              "connected_slaves:0\r\n"
              "master_failover_state:no-failover\r\n"
              "master_repl_offset:0\r\n"
              "repl_backlog_active:0\r\n");
}

static void sec_cpu(struct info_ctx *x)
{
    struct rusage self, children;

    if (getrusage(RUSAGE_SELF, &self) != 0)
        memset(&self, 0, sizeof(self));
    if (getrusage(RUSAGE_CHILDREN, &children) != 0)
        memset(&children, 0, sizeof(children));
    ib_printf(&x->b,
              "used_cpu_sys:%ld.%06ld\r\n"
              "used_cpu_user:%ld.%06ld\r\n"
              "used_cpu_sys_children:%ld.%06ld\r\n"
              "used_cpu_user_children:%ld.%06ld\r\n",
              (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec,
              (long)self.ru_utime.tv_usec, (long)children.ru_stime.tv_sec, (long)children.ru_stime.tv_usec,
              (long)children.ru_utime.tv_sec, (long)children.ru_utime.tv_usec);
}

static void sec_commandstats(struct info_ctx *x)
{
    const struct cmd_table *t = x->srv->cmds;
    struct worker_stats *s = ctx_stats(x);

    if (!t || !s->cmds)
        return;
    for (int i = 0; i < t->n; i++) {
        const struct cmd_entry *e = &t->entries[i];
        const struct cmd_stat *st = &s->cmds[e->id];
        if (!st->calls && !st->rejected_calls && !st->failed_calls)
            continue;
        ib_printf(&x->b,
                  "cmdstat_%s:calls=%" PRIu64 ",usec=%" PRIu64 ",usec_per_call=%.2f,rejected_calls=%" PRIu64
                  ",failed_calls=%" PRIu64 "\r\n",
                  e->fullname, st->calls, st->usec, st->calls ? (double)st->usec / (double)st->calls : 0.0,
                  st->rejected_calls, st->failed_calls);
    }
}

static void sec_errorstats(struct info_ctx *x)
{
    struct worker_stats *s = ctx_stats(x);

    for (int i = 0; i < STATS_MAX_ERROR_CODES; i++)
        if (s->errors[i].code[0] && s->errors[i].count)
            ib_printf(&x->b, "errorstat_%.*s:count=%" PRIu64 "\r\n", (int)sizeof(s->errors[i].code),
                      s->errors[i].code, s->errors[i].count);
}

static void sec_cluster(struct info_ctx *x)
{
    ib_printf(&x->b, "cluster_enabled:0\r\n");
}

static void sec_keyspace(struct info_ctx *x)
{
    struct keyspace *ks = x->srv->ks;

    if (!ks)
        return;
    for (unsigned db = 0; db < ks->databases; db++) {
        uint64_t keys = 0, expires = 0;
        ks_db_counts(ks, (int)db, &keys, &expires);
        if (x->srv->tiering) {
            uint64_t tk = 0, te = 0;
            tiering_db_counts(x->srv->tiering, (int)db, &tk, &te);
            keys += tk;
            expires += te;
        }
        if (keys)
            ib_printf(&x->b, "db%u:keys=%" PRIu64 ",expires=%" PRIu64 ",avg_ttl=0\r\n", db, keys, expires);
    }
}

typedef void sec_fn(struct info_ctx *x);
static void tiers_line(void *ud, const char *line)
{
    ib_printf(ud, "%s", line);
}

/* Strata's own section: the cold tiers (server/tiering.c), empty without one. */
static void sec_tiers(struct info_ctx *x)
{
    if (x->srv->tiering) {
        tiering_info(x->srv->tiering, tiers_line, &x->b);
        ib_printf(&x->b, "cascade_moves:%" PRIu64 "\r\n", ctx_stats(x)->cascade_moves);
    } else
        ib_printf(&x->b, "tiers:0\r\n");
}

static sec_fn *const sec_fns[SEC_N] = {
    [SEC_SERVER] = sec_server,           [SEC_CLIENTS] = sec_clients,
    [SEC_MEMORY] = sec_memory,           [SEC_PERSISTENCE] = sec_persistence,
    [SEC_STATS] = sec_stats,             [SEC_REPLICATION] = sec_replication,
    [SEC_CPU] = sec_cpu,                 [SEC_COMMANDSTATS] = sec_commandstats,
    [SEC_ERRORSTATS] = sec_errorstats,   [SEC_CLUSTER] = sec_cluster,
    [SEC_KEYSPACE] = sec_keyspace,       [SEC_TIERS] = sec_tiers,
};

/* Adds the sections one INFO argument names to *mask. */
static void select_sections(const char *p, size_t len, unsigned *mask)
{
    if (util_eqi(p, len, "all") || util_eqi(p, len, "everything")) {
        *mask |= (1u << SEC_N) - 1;
        return;
    }
    if (util_eqi(p, len, "default")) {
        for (int i = 0; i < SEC_N; i++)
            if (sections[i].in_default)
                *mask |= 1u << i;
        return;
    }
    for (int i = 0; i < SEC_N; i++)
        if (util_eqi(p, len, sections[i].name))
            *mask |= 1u << i;
}

char *info_render(struct server *srv, const struct arg *argv, int argc, size_t *len)
{
    struct info_ctx x;
    unsigned mask = 0;
    int n = 0;

    memset(&x, 0, sizeof(x));
    x.srv = srv;
    if (argc == 0)
        select_sections("default", 7, &mask);
    for (int i = 0; i < argc; i++)
        select_sections(argv[i].p, argv[i].len, &mask);

    for (int i = 0; i < SEC_N; i++) {
        if (!(mask & (1u << i)))
            continue;
        if (n++)
            ib_printf(&x.b, "\r\n");
        ib_printf(&x.b, "# %s\r\n", sections[i].title);
        sec_fns[i](&x);
    }
    ib_printf(&x.b, "%s", ""); /* a NUL-terminated (possibly empty) buffer */

    if (x.have_stats)
        server_stats_free(&x.sum);
    if (x.b.oom) {
        free(x.b.p);
        return NULL;
    }
    *len = x.b.len;
    return x.b.p;
}
