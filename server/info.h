/*
 * info.h -- the INFO command's text (Redis's `# Section` / `field:value`
 * format) and the instantaneous-rate tracker it reads
 * (instantaneous_ops_per_sec, instantaneous_input_kbps, ..._output_kbps).
 *
 * This header is included by server.h (struct server embeds a struct
 * info_inst), so it only forward-declares what it needs.
 */
#ifndef STRATA_INFO_H
#define STRATA_INFO_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct arg;

#define INFO_INST_SAMPLES 16           /* as Redis's STATS_METRIC_SAMPLES */
#define INFO_INST_PERIOD_US 100000     /* one sample per 100 ms at most */

enum info_inst_metric { INFO_INST_OPS = 0, INFO_INST_NET_IN, INFO_INST_NET_OUT, INFO_INST_N };

/* Rates of monotonic counters, sampled by one worker's cron and read by INFO
 * on any worker. */
struct info_inst {
    pthread_mutex_t lock;              /* guards every field below */
    int64_t last_us;                   /* monotonic time of the last sample, 0 = none */
    uint64_t last[INFO_INST_N];        /* counter values at last_us */
    double rate[INFO_INST_N][INFO_INST_SAMPLES]; /* per second */
    int idx;                           /* next slot of rate[][] */
    int nsamples;                      /* filled slots, <= INFO_INST_SAMPLES */
};

/* init/deinit a tracker in caller storage. init returns 0 or ST_EIO. */
int info_inst_init(struct info_inst *ii);
void info_inst_deinit(struct info_inst *ii);

/* Takes a sample of srv's summed worker counters (commands processed, net
 * input and output bytes) when at least INFO_INST_PERIOD_US passed since the
 * previous one. Call from one worker's cron (every tick is fine); any thread
 * is safe. Reads every worker's stats with STAT_GET; allocates nothing. */
void info_inst_sample(struct server *srv, int64_t now_mono_us);

/* Forgets every sample (CONFIG RESETSTAT). */
void info_inst_reset(struct info_inst *ii);

/* The mean rate of metric m over the samples held (0 with none). */
double info_inst_get(struct info_inst *ii, enum info_inst_metric m);

/* Renders INFO for the section arguments argv[0..argc) (none: "default";
 * also "all", "everything" and any section name, case-insensitive; unknown
 * names add nothing) as Redis does: "# Section\r\n" then "field:value\r\n"
 * lines, a blank line between sections, sections in Redis's fixed order.
 * Also updates srv->mem_peak. Returns a malloc'd NUL-terminated string
 * (caller frees) with its length in *len, or NULL on ST_ENOMEM. */
char *info_render(struct server *srv, const struct arg *argv, int argc, size_t *len);

/* Bytes the allocator reports as allocated by the process (jemalloc
 * stats.allocated; mallinfo2 in builds without jemalloc). */
uint64_t info_used_memory(void);

#endif
