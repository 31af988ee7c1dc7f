/*
 * strata-bench.c -- a load generator speaking RESP over TCP, for Strata and
 * for Redis alike: GET/SET over a key space drawn uniform, zipfian or from a
 * hot set, values of fixed or ranged size holding random, JSON-like or
 * repeated bytes, a read/write mix, many connections over a few epoll
 * threads, pipelining, an optional load phase, a progress line each second,
 * and per-command throughput and latency percentiles at the end.
 *
 * Owns: the option table and its parsing (one table drives getopt_long and
 * --help), the main thread's phase loop (progress, SIGINT, the no-progress
 * watchdog) and the reports (text, --csv, --json). The parts it drives:
 * sb_gen.c (keys, values), sb_hist.c (latency), sb_resp.c (replies), sb_run.c
 * (connections and workers), sb_selftest.c (--selftest).
 *
 * It links nothing of Strata: it talks to a server over the wire only, so the
 * same binary measures Redis.
 *
 * Exit status: 0 done; 1 bad options or --selftest failed; 2 could not
 * connect (refused, unresolvable, timed out); 3 the run broke (a connection
 * lost, a protocol error, no reply for --timeout seconds); 130 interrupted
 * (the report still printed). Error replies never change the status: they
 * are counted, and the first few printed.
 *
 * Invariants:
 *   1. Bounded in time: a run ends at --duration (plus the replies of the
 *      batches in flight) or after --requests replies; if no reply arrives
 *      for --timeout seconds the phase is aborted. A second SIGINT aborts.
 *   2. Bounded in memory: fixed after connecting (sb_run.c invariant 4); the
 *      write buffers' total is checked against SB_MAX_WBUF before connecting.
 *   3. stdout carries only the final report (text, CSV or JSON); progress and
 *      diagnostics go to stderr.
 *
 * The one global is the signal flag (a handler can reach nothing else).
 */
#include "sb.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef STRATA_VERSION
#define STRATA_VERSION "0"
#endif

#define SB_MAX_WBUF (2ULL << 30)   /* all write buffers together */
#define SB_MAX_VALUE (512ULL << 20) /* Redis's proto-max-bulk-len */

static volatile sig_atomic_t sb_signals;

static void sb_on_signal(int sig)
{
    (void)sig;
    sb_signals++;
}

/* ---- options --------------------------------------------------------------- */

enum {
    O_HOST = 256, O_PORT, O_KEYS, O_PREFIX, O_DIST, O_THETA, O_SCRAMBLE, O_HOTK, O_HOTO,
    O_VSIZE, O_VKIND, O_RATIO, O_CLIENTS, O_THREADS, O_PIPELINE, O_DURATION, O_REQUESTS,
    O_LOAD, O_LOAD_ONLY, O_LOAD_PIPELINE, O_SEED, O_TIMEOUT, O_CSV, O_JSON, O_QUIET,
    O_SELFTEST, O_HELP, O_VERSION,
};

static const struct sb_opt {
    const char *name;
    int id;
    const char *arg; /* NULL: a flag */
    const char *def;
    const char *help;
} sb_opts[] = {
    { "host", O_HOST, "HOST", "127.0.0.1", "server host name or address" },
    { "port", O_PORT, "PORT", "6379", "server TCP port" },
    { "keys", O_KEYS, "N", "100000", "key space size: keys PREFIX000000000000 .. PREFIX<N-1>" },
    { "key-prefix", O_PREFIX, "STR", "key:", "key name prefix (then 12 zero-padded digits)" },
    { "dist", O_DIST, "uniform|zipf|hot", "zipf", "key popularity distribution" },
    { "theta", O_THETA, "T", "0.99", "zipf exponent, in [0, 10] (exact sampler; 0 = uniform)" },
    { "scramble", O_SCRAMBLE, NULL, "off", "spread popular keys over the key space (a seeded permutation of ranks)" },
    { "hot-keys-pct", O_HOTK, "P", "20", "hot: percent of the keys that are hot" },
    { "hot-ops-pct", O_HOTO, "P", "80", "hot: percent of the requests that go to hot keys" },
    { "value-size", O_VSIZE, "N|MIN-MAX", "100", "SET value size in bytes, fixed or uniform in a range" },
    { "value-kind", O_VKIND, "random|json|repeat", "random", "value content: incompressible, JSON documents, one byte repeated" },
    { "ratio", O_RATIO, "GET:SET", "90:10", "request mix" },
    { "clients", O_CLIENTS, "C", "50", "connections" },
    { "threads", O_THREADS, "T", "1", "threads, each an epoll loop over its share of the connections" },
    { "pipeline", O_PIPELINE, "P", "1", "requests per batch on each connection" },
    { "duration", O_DURATION, "S", "10", "seconds to run (default 10 unless --requests is given)" },
    { "requests", O_REQUESTS, "N", "0", "requests to send in all (0: run for --duration)" },
    { "load", O_LOAD, NULL, "off", "first SET every key once, pipelined, with progress" },
    { "load-only", O_LOAD_ONLY, NULL, "off", "the load phase only" },
    { "load-pipeline", O_LOAD_PIPELINE, "P", "64", "requests per batch in the load phase" },
    { "seed", O_SEED, "N", "1", "seed of every random choice (keys, mix, values, scrambling)" },
    { "timeout", O_TIMEOUT, "S", "10", "connect timeout; abort when no reply arrives for this long" },
    { "csv", O_CSV, NULL, "off", "final report as CSV on stdout" },
    { "json", O_JSON, NULL, "off", "final report as JSON on stdout" },
    { "quiet", O_QUIET, NULL, "off", "no progress lines" },
    { "selftest", O_SELFTEST, NULL, "off", "check the generators, histogram and parser, then exit" },
    { "help", O_HELP, NULL, NULL, "this help" },
    { "version", O_VERSION, NULL, NULL, "print the version" },
};
#define SB_NOPTS (sizeof(sb_opts) / sizeof(sb_opts[0]))

static void sb_usage(FILE *f)
{
    fprintf(f, "usage: strata-bench [OPTIONS]\n"
               "A RESP load generator (GET/SET) for Strata and Redis.\n\n");
    for (size_t i = 0; i < SB_NOPTS; i++) {
        const struct sb_opt *o = &sb_opts[i];
        char lhs[64];
        snprintf(lhs, sizeof(lhs), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-34s %s", lhs, o->help);
        if (o->def)
            fprintf(f, " [%s]", o->def);
        fputc('\n', f);
    }
    fprintf(f, "\nExit status: 0 done, 1 bad options or selftest failure, 2 cannot connect,\n"
               "3 connection lost / protocol error / no reply for --timeout s, 130 interrupted.\n");
}

static int sb_bad(const char *opt, const char *val, const char *why)
{
    fprintf(stderr, "strata-bench: --%s '%s': %s (see --help)\n", opt, val, why);
    return -1;
}

static int sb_parse_u64(const char *s, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int sb_parse_double(const char *s, double *out)
{
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int sb_u64_in(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (sb_parse_u64(s, out) < 0)
        return sb_bad(opt, s, "not a non-negative integer");
    if (*out < lo || *out > hi) {
        char why[96];
        snprintf(why, sizeof(why), "must be in [%llu, %llu]", (unsigned long long)lo, (unsigned long long)hi);
        return sb_bad(opt, s, why);
    }
    return 0;
}

static int sb_unsigned_in(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t v;
    if (sb_u64_in(opt, s, lo, hi, &v) < 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

struct sb_cli {
    struct sb_conf conf;
    int selftest;
    int duration_set;
};

/* Returns 0, 1 when --help/--version was handled, -1 on a bad option. */
static int sb_parse(int argc, char **argv, struct sb_cli *cli)
{
    struct sb_conf *c = &cli->conf;
    *c = (struct sb_conf){
        .host = "127.0.0.1", .port = "6379", .keys = 100000, .key_prefix = "key:",
        .dist = SB_DIST_ZIPF, .theta = 0.99, .hot_keys_pct = 20, .hot_ops_pct = 80,
        .vmin = 100, .vmax = 100, .vkind = SB_VAL_RANDOM, .get_w = 90, .set_w = 10,
        .clients = 50, .threads = 1, .pipeline = 1, .load_pipeline = 64, .duration = 10,
        .seed = 1, .timeout = 10,
    };
    struct option lopts[SB_NOPTS + 1];
    for (size_t i = 0; i < SB_NOPTS; i++)
        lopts[i] = (struct option){ sb_opts[i].name, sb_opts[i].arg ? required_argument : no_argument,
                                    NULL, sb_opts[i].id };
    memset(&lopts[SB_NOPTS], 0, sizeof(lopts[0]));
    opterr = 0;
    optind = 1;
    for (;;) {
        int li = -1;
        int id = getopt_long(argc, argv, "", lopts, &li);
        if (id == -1)
            break;
        const char *name = li >= 0 ? lopts[li].name : "?";
        const char *v = optarg;
        double d;
        switch (id) {
        case O_HOST: c->host = v; break;
        case O_PORT: {
            uint64_t p;
            if (sb_u64_in(name, v, 1, 65535, &p) < 0)
                return -1;
            c->port = v;
            break;
        }
        case O_KEYS:
            if (sb_u64_in(name, v, 1, 1ULL << 62, &c->keys) < 0)
                return -1;
            break;
        case O_PREFIX:
            if (strlen(v) > 1024)
                return sb_bad(name, v, "longer than 1024 bytes");
            c->key_prefix = v;
            break;
        case O_DIST:
            if (!strcmp(v, "uniform"))
                c->dist = SB_DIST_UNIFORM;
            else if (!strcmp(v, "zipf") || !strcmp(v, "zipfian"))
                c->dist = SB_DIST_ZIPF;
            else if (!strcmp(v, "hot"))
                c->dist = SB_DIST_HOT;
            else
                return sb_bad(name, v, "expected uniform, zipf or hot");
            break;
        case O_THETA:
            if (sb_parse_double(v, &c->theta) < 0 || c->theta < 0 || c->theta > 10)
                return sb_bad(name, v, "expected a number in [0, 10]");
            break;
        case O_SCRAMBLE: c->scramble = 1; break;
        case O_HOTK:
        case O_HOTO:
            if (sb_parse_double(v, &d) < 0 || d < 0 || d > 100)
                return sb_bad(name, v, "expected a percentage in [0, 100]");
            *(id == O_HOTK ? &c->hot_keys_pct : &c->hot_ops_pct) = d;
            break;
        case O_VSIZE: {
            const char *dash = strchr(v, '-');
            char lo[32];
            if (dash) {
                size_t n = (size_t)(dash - v);
                if (n == 0 || n >= sizeof(lo))
                    return sb_bad(name, v, "expected N or MIN-MAX");
                memcpy(lo, v, n);
                lo[n] = '\0';
                if (sb_parse_u64(lo, &c->vmin) < 0 || sb_parse_u64(dash + 1, &c->vmax) < 0)
                    return sb_bad(name, v, "expected N or MIN-MAX");
            } else {
                if (sb_parse_u64(v, &c->vmin) < 0)
                    return sb_bad(name, v, "expected N or MIN-MAX");
                c->vmax = c->vmin;
            }
            if (c->vmin < 1 || c->vmax > SB_MAX_VALUE || c->vmin > c->vmax)
                return sb_bad(name, v, "sizes must be in [1, 536870912] with MIN <= MAX");
            break;
        }
        case O_VKIND:
            if (!strcmp(v, "random"))
                c->vkind = SB_VAL_RANDOM;
            else if (!strcmp(v, "json"))
                c->vkind = SB_VAL_JSON;
            else if (!strcmp(v, "repeat"))
                c->vkind = SB_VAL_REPEAT;
            else
                return sb_bad(name, v, "expected random, json or repeat");
            break;
        case O_RATIO: {
            const char *colon = strchr(v, ':');
            char g[32];
            uint64_t gw, sw;
            if (!colon || colon == v || (size_t)(colon - v) >= sizeof(g))
                return sb_bad(name, v, "expected GET:SET, e.g. 90:10");
            memcpy(g, v, (size_t)(colon - v));
            g[colon - v] = '\0';
            if (sb_parse_u64(g, &gw) < 0 || sb_parse_u64(colon + 1, &sw) < 0 || gw > 1000000 ||
                sw > 1000000 || gw + sw == 0)
                return sb_bad(name, v, "expected GET:SET weights, not both 0, each <= 1000000");
            c->get_w = (unsigned)gw;
            c->set_w = (unsigned)sw;
            break;
        }
        case O_CLIENTS:
            if (sb_unsigned_in(name, v, 1, 100000, &c->clients) < 0)
                return -1;
            break;
        case O_THREADS:
            if (sb_unsigned_in(name, v, 1, 1024, &c->threads) < 0)
                return -1;
            break;
        case O_PIPELINE:
            if (sb_unsigned_in(name, v, 1, 100000, &c->pipeline) < 0)
                return -1;
            break;
        case O_LOAD_PIPELINE:
            if (sb_unsigned_in(name, v, 1, 100000, &c->load_pipeline) < 0)
                return -1;
            break;
        case O_DURATION:
            if (sb_parse_double(v, &c->duration) < 0 || c->duration <= 0 || c->duration > 1e7)
                return sb_bad(name, v, "expected seconds > 0");
            cli->duration_set = 1;
            break;
        case O_REQUESTS:
            if (sb_u64_in(name, v, 0, 1ULL << 62, &c->requests) < 0)
                return -1;
            break;
        case O_LOAD: c->load = 1; break;
        case O_LOAD_ONLY: c->load = c->load_only = 1; break;
        case O_SEED:
            if (sb_parse_u64(v, &c->seed) < 0)
                return sb_bad(name, v, "not a non-negative integer");
            break;
        case O_TIMEOUT:
            if (sb_parse_double(v, &c->timeout) < 0 || c->timeout < 0.01 || c->timeout > 1e6)
                return sb_bad(name, v, "expected seconds >= 0.01");
            break;
        case O_CSV: c->csv = 1; break;
        case O_JSON: c->json = 1; break;
        case O_QUIET: c->quiet = 1; break;
        case O_SELFTEST: cli->selftest = 1; break;
        case O_HELP:
            sb_usage(stdout);
            return 1;
        case O_VERSION:
            printf("strata-bench %s\n", STRATA_VERSION);
            return 1;
        case ':':
            fprintf(stderr, "strata-bench: %s needs a value (see --help)\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "strata-bench: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "strata-bench: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    if (c->csv && c->json) {
        fprintf(stderr, "strata-bench: --csv and --json exclude each other\n");
        return -1;
    }
    if (c->requests && !cli->duration_set)
        c->duration = 0; /* --requests alone: run until they are answered */
    if (c->threads > c->clients)
        c->threads = c->clients;
    unsigned pmax = c->pipeline > c->load_pipeline ? c->pipeline : c->load_pipeline;
    double wbuf = (double)c->clients * pmax * (double)(c->vmax + strlen(c->key_prefix) + 100);
    if (wbuf > (double)SB_MAX_WBUF) {
        fprintf(stderr, "strata-bench: --clients x pipeline depth x value size needs %.0f MB of write "
                        "buffers, more than the %llu MB allowed\n",
                wbuf / 1048576.0, SB_MAX_WBUF >> 20);
        return -1;
    }
    return 0;
}

/* ---- phases ----------------------------------------------------------------- */

struct sb_result {
    double seconds;
    struct sb_cmdstats cmd[SB_NCMD + 1]; /* GET, SET, ALL */
    uint64_t lost;
    int aborted, interrupted;
};

static uint64_t sb_phase_ops(const struct sb_phase *ph)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < ph->nworkers * SB_NCMD; i++)
        n += sb_get(&ph->stats[i].count);
    return n;
}

static void sb_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Runs one phase to its end, printing progress; fills res (heap: the
 * histograms are large). Returns 0, or -1 when it could not start. */
static int sb_run_phase(struct sb_bench *b, const struct sb_conf *conf, struct sb_phase *ph,
                        struct sb_result *res)
{
    char err[256];
    if (sb_bench_phase_start(b, ph, err, sizeof(err)) < 0) {
        fprintf(stderr, "strata-bench: %s\n", err);
        return -1;
    }
    struct sb_cmdstats *all = malloc(sizeof(*all));
    if (!all) {
        atomic_store(&ph->abort, 1);
        sb_bench_phase_join(b, ph);
        sb_phase_free(ph);
        fprintf(stderr, "strata-bench: out of memory\n");
        return -1;
    }
    int64_t t0 = ph->start_ns, next_tick = t0 + 1000000000LL, last_change = t0;
    uint64_t prev_ops = 0, tick_ops = 0;
    int seen_signals = 0;
    memset(res, 0, sizeof(*res));
    while (!sb_bench_phase_done(b, ph)) {
        sb_sleep_ms(20);
        int64_t now = sb_now_ns();
        if (sb_signals != seen_signals) {
            seen_signals = sb_signals;
            res->interrupted = 1;
            if (seen_signals == 1) {
                atomic_store(&ph->stop, 1);
                fprintf(stderr, "strata-bench: interrupted; waiting for the replies in flight "
                                "(again to quit at once)\n");
            } else {
                atomic_store(&ph->abort, 1);
            }
        }
        uint64_t ops = sb_phase_ops(ph);
        if (ops != prev_ops) {
            prev_ops = ops;
            last_change = now;
        } else if ((double)(now - last_change) > conf->timeout * 1e9 && !atomic_load(&ph->abort)) {
            fprintf(stderr, "strata-bench: no reply for %.1f s; giving up\n", conf->timeout);
            res->aborted = 1;
            atomic_store(&ph->abort, 1);
        }
        if (now >= next_tick) {
            double el = (double)(now - t0) / 1e9;
            if (!conf->quiet) {
                sb_phase_sum(ph, SB_NCMD, all);
                double p99 = (double)sb_hist_percentile(&all->lat, 99) / 1000.0;
                if (ph->load)
                    fprintf(stderr, "[%6.1fs] load %5.1f%% (%llu/%llu keys), %.0f SET/s now, p99 %.1f us\n",
                            el, 100.0 * (double)ops / (double)ph->limit, (unsigned long long)ops,
                            (unsigned long long)ph->limit, (double)(ops - tick_ops), p99);
                else
                    fprintf(stderr, "[%6.1fs] %.0f ops/s now, %.0f ops/s overall, p99 %.1f us\n", el,
                            (double)(ops - tick_ops), (double)ops / el, p99);
            }
            tick_ops = ops;
            next_tick += 1000000000LL;
            if (next_tick <= now) /* we overslept: resynchronise */
                next_tick = now + 1000000000LL;
        }
    }
    sb_bench_phase_join(b, ph);
    int64_t end = 0;
    for (unsigned i = 0; i < ph->nworkers; i++)
        if (ph->last_reply_ns[i] > end)
            end = ph->last_reply_ns[i];
    if (end <= t0)
        end = sb_now_ns();
    res->seconds = (double)(end - t0) / 1e9;
    for (int c = 0; c <= SB_NCMD; c++)
        sb_phase_sum(ph, c, &res->cmd[c]);
    res->lost = sb_get((const _Atomic uint64_t *)&ph->lost);
    uint64_t errors = sb_get(&res->cmd[SB_NCMD].errors);
    if (errors > SB_PRINT_MAX)
        fprintf(stderr, "strata-bench: %llu error replies in this phase (the first %d printed)\n",
                (unsigned long long)errors, SB_PRINT_MAX);
    if (res->lost)
        fprintf(stderr, "strata-bench: %llu of %u connections lost; the figures count the replies received\n",
                (unsigned long long)res->lost, conf->clients);
    if (atomic_load(&ph->abort) && !res->interrupted)
        res->aborted = 1;
    free(all);
    sb_phase_free(ph);
    return 0;
}

/* ---- reports ------------------------------------------------------------------ */

static const char *const sb_names[SB_NCMD + 1] = { "GET", "SET", "ALL" };

static double sb_us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static const char *sb_dist_name(enum sb_dist_kind k)
{
    return k == SB_DIST_UNIFORM ? "uniform" : k == SB_DIST_ZIPF ? "zipf" : "hot";
}

static const char *sb_vkind_name(enum sb_value_kind k)
{
    return k == SB_VAL_RANDOM ? "random" : k == SB_VAL_JSON ? "json" : "repeat";
}

static void sb_text_line(const char *name, const struct sb_cmdstats *s, double secs)
{
    uint64_t n = sb_get(&s->count);
    printf("%-4s %12llu %12.1f %9.1f %9.1f %9.1f %9.1f %9.1f %12llu %12llu %8llu\n", name,
           (unsigned long long)n, secs > 0 ? (double)n / secs : 0,
           n ? (double)sb_get(&s->lat.sum) / (double)n / 1000.0 : 0,
           sb_us(sb_hist_percentile(&s->lat, 50)), sb_us(sb_hist_percentile(&s->lat, 99)),
           sb_us(sb_hist_percentile(&s->lat, 99.9)), sb_us(sb_get(&s->lat.max)),
           (unsigned long long)sb_get(&s->hits), (unsigned long long)sb_get(&s->misses),
           (unsigned long long)sb_get(&s->errors));
}

static void sb_report_text(const struct sb_conf *c, const struct sb_result *load, const struct sb_result *run)
{
    char first[1100];
    first[sb_key_name(first, c->key_prefix, strlen(c->key_prefix), 0)] = '\0';
    printf("strata-bench %s: %s:%s, clients %u, threads %u, pipeline %u\n", STRATA_VERSION, c->host,
           c->port, c->clients, c->threads, c->pipeline);
    printf("keys %llu from %s, %s", (unsigned long long)c->keys, first, sb_dist_name(c->dist));
    if (c->dist == SB_DIST_ZIPF)
        printf(" theta %g", c->theta);
    if (c->dist == SB_DIST_HOT)
        printf(" %g%% of ops on %g%% of keys", c->hot_ops_pct, c->hot_keys_pct);
    printf("%s, values ", c->scramble ? " scrambled" : "");
    if (c->vmin == c->vmax)
        printf("%llu B", (unsigned long long)c->vmin);
    else
        printf("%llu-%llu B", (unsigned long long)c->vmin, (unsigned long long)c->vmax);
    printf(" %s, GET:SET %u:%u, seed %llu\n", sb_vkind_name(c->vkind), c->get_w, c->set_w,
           (unsigned long long)c->seed);
    if (load) {
        const struct sb_cmdstats *s = &load->cmd[SB_CMD_SET];
        uint64_t n = sb_get(&s->count);
        printf("load: %llu keys in %.3f s, %.1f SET/s, %llu errors, p50 %.1f us, p99 %.1f us\n",
               (unsigned long long)n, load->seconds, load->seconds > 0 ? (double)n / load->seconds : 0,
               (unsigned long long)sb_get(&s->errors), sb_us(sb_hist_percentile(&s->lat, 50)),
               sb_us(sb_hist_percentile(&s->lat, 99)));
    }
    if (run) {
        const struct sb_cmdstats *a = &run->cmd[SB_NCMD];
        uint64_t n = sb_get(&a->count);
        printf("run: %llu ops in %.3f s, %.1f ops/s, %llu errors\n", (unsigned long long)n, run->seconds,
               run->seconds > 0 ? (double)n / run->seconds : 0, (unsigned long long)sb_get(&a->errors));
        printf("%-4s %12s %12s %9s %9s %9s %9s %9s %12s %12s %8s\n", "cmd", "count", "ops/s", "avg_us",
               "p50_us", "p99_us", "p999_us", "max_us", "hits", "misses", "errors");
        for (int i = 0; i <= SB_NCMD; i++)
            sb_text_line(sb_names[i], &run->cmd[i], run->seconds);
    }
}

static void sb_csv_line(const char *phase, const char *name, const struct sb_cmdstats *s, double secs)
{
    uint64_t n = sb_get(&s->count);
    printf("%s,%s,%llu,%.6f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%llu,%llu,%llu\n", phase, name,
           (unsigned long long)n, secs, secs > 0 ? (double)n / secs : 0,
           n ? (double)sb_get(&s->lat.sum) / (double)n / 1000.0 : 0,
           sb_us(sb_hist_percentile(&s->lat, 50)), sb_us(sb_hist_percentile(&s->lat, 99)),
           sb_us(sb_hist_percentile(&s->lat, 99.9)), sb_us(sb_get(&s->lat.max)),
           (unsigned long long)sb_get(&s->hits), (unsigned long long)sb_get(&s->misses),
           (unsigned long long)sb_get(&s->errors));
}

static void sb_report_csv(const struct sb_result *load, const struct sb_result *run)
{
    printf("phase,command,count,seconds,ops_per_sec,avg_us,p50_us,p99_us,p999_us,max_us,hits,misses,errors\n");
    if (load)
        sb_csv_line("load", "SET", &load->cmd[SB_CMD_SET], load->seconds);
    if (run)
        for (int i = 0; i <= SB_NCMD; i++)
            sb_csv_line("run", sb_names[i], &run->cmd[i], run->seconds);
}

static void sb_json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void sb_json_cmd(const struct sb_cmdstats *s, double secs)
{
    uint64_t n = sb_get(&s->count);
    printf("{\"count\":%llu,\"ops_per_sec\":%.1f,\"avg_us\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
           "\"p999_us\":%.1f,\"max_us\":%.1f,\"hits\":%llu,\"misses\":%llu,\"errors\":%llu}",
           (unsigned long long)n, secs > 0 ? (double)n / secs : 0,
           n ? (double)sb_get(&s->lat.sum) / (double)n / 1000.0 : 0,
           sb_us(sb_hist_percentile(&s->lat, 50)), sb_us(sb_hist_percentile(&s->lat, 99)),
           sb_us(sb_hist_percentile(&s->lat, 99.9)), sb_us(sb_get(&s->lat.max)),
           (unsigned long long)sb_get(&s->hits), (unsigned long long)sb_get(&s->misses),
           (unsigned long long)sb_get(&s->errors));
}

static void sb_report_json(const struct sb_conf *c, const struct sb_result *load, const struct sb_result *run)
{
    printf("{\"version\":");
    sb_json_str(STRATA_VERSION);
    printf(",\"config\":{\"host\":");
    sb_json_str(c->host);
    printf(",\"port\":%s,\"keys\":%llu,\"key_prefix\":", c->port, (unsigned long long)c->keys);
    sb_json_str(c->key_prefix);
    printf(",\"dist\":\"%s\",\"theta\":%g,\"hot_keys_pct\":%g,\"hot_ops_pct\":%g,\"scramble\":%s,"
           "\"value_size_min\":%llu,\"value_size_max\":%llu,\"value_kind\":\"%s\",\"get\":%u,\"set\":%u,"
           "\"clients\":%u,\"threads\":%u,\"pipeline\":%u,\"load_pipeline\":%u,\"duration\":%g,"
           "\"requests\":%llu,\"seed\":%llu}",
           sb_dist_name(c->dist), c->theta, c->hot_keys_pct, c->hot_ops_pct, c->scramble ? "true" : "false",
           (unsigned long long)c->vmin, (unsigned long long)c->vmax, sb_vkind_name(c->vkind), c->get_w,
           c->set_w, c->clients, c->threads, c->pipeline, c->load_pipeline, c->duration,
           (unsigned long long)c->requests, (unsigned long long)c->seed);
    if (load) {
        printf(",\"load\":{\"seconds\":%.6f,\"SET\":", load->seconds);
        sb_json_cmd(&load->cmd[SB_CMD_SET], load->seconds);
        printf("}");
    }
    if (run) {
        const struct sb_cmdstats *a = &run->cmd[SB_NCMD];
        printf(",\"run\":{\"seconds\":%.6f,\"ops\":%llu,\"ops_per_sec\":%.1f,\"errors\":%llu", run->seconds,
               (unsigned long long)sb_get(&a->count),
               run->seconds > 0 ? (double)sb_get(&a->count) / run->seconds : 0,
               (unsigned long long)sb_get(&a->errors));
        for (int i = 0; i <= SB_NCMD; i++) {
            printf(",\"%s\":", sb_names[i]);
            sb_json_cmd(&run->cmd[i], run->seconds);
        }
        printf("}");
    }
    printf("}\n");
}

/* ---- main ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    struct sb_cli cli;
    memset(&cli, 0, sizeof(cli));
    int rc = sb_parse(argc, argv, &cli);
    if (rc != 0)
        return rc > 0 ? 0 : 1;
    if (cli.selftest)
        return sb_selftest() == 0 ? 0 : 1;
    struct sb_conf *conf = &cli.conf;

    char err[512];
    struct sb_dist dist;
    if (sb_dist_init(&dist, conf->dist, conf->keys, conf->theta, conf->hot_keys_pct, conf->hot_ops_pct,
                     conf->scramble, conf->seed, err, sizeof(err)) < 0) {
        fprintf(stderr, "strata-bench: %s\n", err);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sb_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int connect_failed = 0;
    struct sb_bench *b = sb_bench_create(conf, &dist, err, sizeof(err), &connect_failed);
    if (!b) {
        fprintf(stderr, "strata-bench: %s\n", err);
        return connect_failed ? 2 : 1;
    }

    int status = 0;
    struct sb_result *load = NULL, *run = NULL;
    struct sb_phase ph;
    if (conf->load) {
        load = malloc(sizeof(*load));
        memset(&ph, 0, sizeof(ph));
        ph.load = 1;
        ph.limit = conf->keys;
        ph.pipeline = conf->load_pipeline;
        if (!load || sb_run_phase(b, conf, &ph, load) < 0) {
            free(load);
            load = NULL;
            status = 3;
            goto out;
        }
        if (load->lost || load->aborted) {
            fprintf(stderr, "strata-bench: the load phase failed\n");
            status = 3;
        } else if (load->interrupted) {
            status = 130;
        }
    }
    if (!conf->load_only && status == 0) {
        run = malloc(sizeof(*run));
        memset(&ph, 0, sizeof(ph));
        ph.limit = conf->requests;
        ph.pipeline = conf->pipeline;
        ph.deadline_ns = conf->duration > 0 ? sb_now_ns() + (int64_t)(conf->duration * 1e9) : 0;
        if (!run || sb_run_phase(b, conf, &ph, run) < 0) {
            free(run);
            run = NULL;
            status = 3;
            goto out;
        }
        if (run->lost || run->aborted)
            status = 3;
        else if (run->interrupted)
            status = 130;
    }
out:
    if (load || run) {
        if (conf->csv)
            sb_report_csv(load, run);
        else if (conf->json)
            sb_report_json(conf, load, run);
        else
            sb_report_text(conf, load, run);
        fflush(stdout);
    }
    free(load);
    free(run);
    sb_bench_destroy(&b);
    return status;
}
