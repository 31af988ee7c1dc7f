/*
 * sb.h -- the internals of strata-bench shared by its files. Not a library:
 * nothing outside tools/strata-bench.c and tools/sb_*.c includes it.
 *
 *   sb_gen.c    random numbers, key distributions (uniform, zipfian, hot set),
 *               the rank scrambler, value content (random, JSON-like, repeat)
 *   sb_hist.c   log-linear latency histogram (HdrHistogram-like, < 1% error)
 *   sb_resp.c   streaming RESP2/RESP3 reply parser (bounded memory)
 *   sb_run.c    connections, worker threads with one epoll loop each, phases
 *   strata-bench.c  options, progress line, reports, --selftest
 *
 * Every struct here is plain data owned by whoever declares it; functions
 * borrow the pointers they are given unless their comment says otherwise.
 * Counters that the main thread reads while a worker writes them are
 * `_Atomic uint64_t` with a single writer (sb_inc: relaxed load + store, no
 * locked instruction on x86) and relaxed readers: a progress line may mix
 * counts from slightly different instants, never torn values.
 */
#ifndef STRATA_SB_H
#define STRATA_SB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* ---- single-writer counters --------------------------------------------- */

static inline void sb_inc(_Atomic uint64_t *c, uint64_t d)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
                          memory_order_relaxed);
}

static inline uint64_t sb_get(const _Atomic uint64_t *c)
{
    return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

/* Monotonic clock in nanoseconds. */
int64_t sb_now_ns(void);

/* ---- random numbers (sb_gen.c) ------------------------------------------ */

/* xoshiro256** (Blackman & Vigna), seeded through splitmix64. One per thread. */
struct sb_rng {
    uint64_t s[4];
};

void sb_rng_seed(struct sb_rng *r, uint64_t seed);
uint64_t sb_rng_next(struct sb_rng *r);
/* Uniform in [0, n); n > 0. Lemire's multiply-shift (bias < n / 2^64). */
uint64_t sb_rng_below(struct sb_rng *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double sb_rng_double(struct sb_rng *r);

/* ---- key distributions (sb_gen.c) --------------------------------------- */

enum sb_dist_kind { SB_DIST_UNIFORM, SB_DIST_ZIPF, SB_DIST_HOT };

/* Draws key indexes in [0, n). A draw first picks a popularity rank (0 = most
 * popular) and then maps it to a key index: the identity, or with scrambling
 * a seeded bijection of [0, n) so that popular keys are spread over the key
 * space instead of being key 0, 1, 2... Read-only after sb_dist_init, so one
 * instance is shared by every thread. */
struct sb_dist {
    enum sb_dist_kind kind;
    uint64_t n;
    /* zipf: rejection-inversion constants (see sb_gen.c) */
    double theta, hx1, hxn, sdiv;
    /* hot: ranks [0, hot_keys) get a share hot_ops of the draws */
    uint64_t hot_keys;
    double hot_ops;
    /* scrambler: a bijection of [0, 2^bits) walked until it lands below n */
    int scramble;
    unsigned bits;
    uint64_t mask, mul1, mul2, add1, add2;
};

/* Fills d. theta in [0, 1) U (1, 10] for zipf (0 is uniform); hot_keys_pct
 * and hot_ops_pct in [0, 100] for hot. Returns 0, or -1 with a message in
 * err[0..errlen) for bad parameters. */
int sb_dist_init(struct sb_dist *d, enum sb_dist_kind kind, uint64_t n, double theta,
                 double hot_keys_pct, double hot_ops_pct, int scramble, uint64_t seed,
                 char *err, size_t errlen);
/* A popularity rank in [0, n). */
uint64_t sb_dist_rank(const struct sb_dist *d, struct sb_rng *r);
/* The key index of a rank (identity unless scrambled). */
uint64_t sb_dist_key(const struct sb_dist *d, uint64_t rank);
/* sb_dist_key(d, sb_dist_rank(d, r)). */
uint64_t sb_dist_next(const struct sb_dist *d, struct sb_rng *r);
/* Analytic zipf: the probability that a draw falls in ranks [0, m) of n,
 * H(m, theta) / H(n, theta). O(n). */
double sb_zipf_share(uint64_t n, double theta, uint64_t m);

/* ---- values (sb_gen.c) -------------------------------------------------- */

enum sb_value_kind { SB_VAL_RANDOM, SB_VAL_JSON, SB_VAL_REPEAT };

/* Writes exactly len bytes of value content to dst (len >= 1):
 *   random  incompressible bytes (all 256 values)
 *   json    a JSON text: an object of DB-row-like fields from a fixed schema
 *           (ids, names, e-mails, dates, numbers, tags from a small vocabulary)
 *           padded to len with a "note" field; below 24 bytes a short object
 *           or a JSON string; 1 byte is "0"
 *   repeat  'x' repeated */
void sb_value_fill(enum sb_value_kind kind, char *dst, size_t len, struct sb_rng *r);

/* Writes v in decimal to dst (no NUL) and returns the length (<= 20). */
size_t sb_u64toa(char *dst, uint64_t v);

/* ---- latency histogram (sb_hist.c) -------------------------------------- */

#define SB_HIST_SUB_BITS 7
#define SB_HIST_SUB (1u << SB_HIST_SUB_BITS)
/* values below 2*SUB exactly, then SUB buckets per power of two up to 2^64 */
#define SB_HIST_BUCKETS ((64 - SB_HIST_SUB_BITS + 1) * SB_HIST_SUB)

/* Counts of values (nanoseconds here) in log-linear buckets: every value below
 * 256 has its own bucket, each power of two above is cut into 128 equal
 * buckets, so a bucket is at most 1/128 of its lower bound wide and the
 * reported midpoint is within 0.4% of any value in it. Single writer; any
 * thread may read (sb_hist_merge, sb_hist_percentile) at any time. */
struct sb_hist {
    _Atomic uint64_t count;
    _Atomic uint64_t sum;
    _Atomic uint64_t min; /* UINT64_MAX when empty */
    _Atomic uint64_t max;
    _Atomic uint64_t b[SB_HIST_BUCKETS];
};

void sb_hist_init(struct sb_hist *h);
void sb_hist_record(struct sb_hist *h, uint64_t v);
/* Adds src's counts to dst (dst has a single writer: the caller). */
void sb_hist_merge(struct sb_hist *dst, const struct sb_hist *src);
/* The value at percentile q in [0, 100]: the midpoint of the first bucket whose
 * cumulative count reaches ceil(q% of count), clamped to [min, max]. 0 when
 * empty. Monotonic in q. */
uint64_t sb_hist_percentile(const struct sb_hist *h, double q);
/* Bucket index of v, and the lowest value / width of bucket i. */
unsigned sb_hist_index(uint64_t v);
uint64_t sb_hist_low(unsigned i);
uint64_t sb_hist_width(unsigned i);

/* ---- RESP replies (sb_resp.c) ------------------------------------------- */

enum sb_reply_type {
    SB_R_SIMPLE, /* +OK */
    SB_R_ERROR,  /* -ERR ... or RESP3 !<len> blob error */
    SB_R_INT,    /* :1 */
    SB_R_BULK,   /* $3 foo, RESP3 =<len> verbatim */
    SB_R_NULL,   /* $-1, *-1, RESP3 _ */
    SB_R_ARRAY,  /* * % ~ aggregates, whatever they hold */
    SB_R_OTHER   /* RESP3 , # ( scalars */
};

#define SB_RESP_MAX_DEPTH 64
#define SB_RESP_LINE_MAX 256
#define SB_RESP_ERR_MAX 256

/* A top-level reply as the parser reports it. err is the error text (without
 * the '-'), truncated to SB_RESP_ERR_MAX - 1 bytes and NUL-terminated; it
 * points into the parser and is valid until the next sb_resp_feed. */
struct sb_reply {
    enum sb_reply_type type;
    const char *err;
    size_t errlen;
};

/* Streaming parser: state survives between reads, so replies may be split at
 * any byte. Bulk payloads are skipped, never buffered: memory is this struct
 * whatever the server sends. Attributes (|) and out-of-band pushes (>) are
 * parsed and dropped. Zero-initialise it (or sb_resp_init) before use. */
struct sb_resp {
    int state;
    char type;         /* type byte of the element being read */
    int cr;            /* LINE: the previous byte was '\r' */
    size_t linelen;    /* LINE: bytes seen so far (only the first LINE_MAX kept) */
    char line[SB_RESP_LINE_MAX];
    uint64_t body_left; /* BODY: payload bytes still to skip */
    int depth;
    struct {
        uint64_t left; /* elements still to come */
        int attr;      /* an attribute map: its completion is no element */
    } stack[SB_RESP_MAX_DEPTH];
    int top_set;       /* the top-level element's type is known */
    int top_push;      /* the top-level element is a push: drop it */
    enum sb_reply_type top;
    int top_err_blob;  /* top-level '!' blob error: capture its body */
    size_t errlen;
    char err[SB_RESP_ERR_MAX];
    const char *why;   /* protocol error description, after -1 */
};

void sb_resp_init(struct sb_resp *p);
/* Consumes bytes of buf[0..len) up to the end of the next top-level reply.
 * Returns 1 with *used bytes consumed and *out filled when a reply ended; 0
 * when all len bytes were consumed without ending one (*used = len); -1 on a
 * protocol error (p->why says which; the stream cannot be resynchronised). */
int sb_resp_feed(struct sb_resp *p, const char *buf, size_t len, size_t *used,
                 struct sb_reply *out);

/* ---- the load generator (sb_run.c) -------------------------------------- */

enum sb_cmd { SB_CMD_GET, SB_CMD_SET, SB_NCMD };

/* error replies and lost connections printed per phase; the rest are counted */
#define SB_PRINT_MAX 5

struct sb_conf {
    const char *host;
    const char *port;
    uint64_t keys;
    const char *key_prefix;
    enum sb_dist_kind dist;
    double theta;
    int scramble;
    double hot_keys_pct, hot_ops_pct;
    uint64_t vmin, vmax;
    enum sb_value_kind vkind;
    unsigned get_w, set_w;
    unsigned clients, threads, pipeline, load_pipeline;
    double duration;    /* seconds; 0 = until --requests */
    uint64_t requests;  /* 0 = until --duration */
    int load, load_only;
    uint64_t seed;
    int csv, json, quiet;
    double timeout;     /* connect timeout and no-progress watchdog, seconds */
};

struct sb_cmdstats {
    _Atomic uint64_t count;  /* replies received */
    _Atomic uint64_t hits;   /* GET: a value came back */
    _Atomic uint64_t misses; /* GET: null */
    _Atomic uint64_t errors; /* error replies */
    struct sb_hist lat;      /* ns from the batch's write to this reply */
};

/* One run of all workers over all connections: a load phase or the measured
 * phase. The main thread creates it, reads the counters while it runs and
 * after sb_bench_phase_join. */
struct sb_phase {
    /* set by the main thread before sb_bench_phase_start, read-only after */
    int load;                /* SET keys 0..keys-1 once each, in order */
    uint64_t limit;          /* load: keys; run: requests, 0 = no limit */
    int64_t deadline_ns;     /* run: no batch starts after it, 0 = none */
    unsigned pipeline;
    int64_t start_ns;
    unsigned nworkers;
    /* shared: atomics */
    _Atomic uint64_t next;   /* claimed keys (load) or requests (run): fetch_add */
    _Atomic int stop;        /* main: start no new batch */
    _Atomic int abort;       /* main: leave now, replies outstanding or not */
    _Atomic uint64_t printed; /* error replies printed so far: fetch_add */
    _Atomic uint64_t lost;   /* connections lost in this phase: fetch_add */
    /* per worker: written by that worker only (single-writer atomics inside),
     * read by main at any time */
    struct sb_cmdstats *stats; /* [nworkers * SB_NCMD], worker w's at w * SB_NCMD */
    _Atomic int *finished;     /* [nworkers], set (seq_cst) as a worker leaves */
    int64_t *last_reply_ns;    /* [nworkers], written before finished; read after join */
};

struct sb_bench;

/* Connects conf->clients connections (non-blocking connects bounded by
 * conf->timeout) and creates the workers. conf and dist are borrowed for the
 * bench's life. Returns the bench, or NULL with a message in err (connect
 * failures say so: *connect_failed = 1). */
struct sb_bench *sb_bench_create(const struct sb_conf *conf, const struct sb_dist *dist,
                                 char *err, size_t errlen, int *connect_failed);
/* Closes every connection and frees everything; *bp becomes NULL. */
void sb_bench_destroy(struct sb_bench **bp);
/* Starts a phase's workers (one thread each). ph is borrowed until join and
 * must be zeroed except for load, limit, deadline_ns, pipeline; its arrays
 * are allocated here and freed by sb_phase_free. Returns 0 or -1 (err). */
int sb_bench_phase_start(struct sb_bench *b, struct sb_phase *ph, char *err, size_t errlen);
/* 1 when every worker of the phase has left its loop. */
int sb_bench_phase_done(const struct sb_bench *b, const struct sb_phase *ph);
/* Waits for the phase's workers. */
void sb_bench_phase_join(struct sb_bench *b, struct sb_phase *ph);
void sb_phase_free(struct sb_phase *ph);
/* Connections still alive. */
unsigned sb_bench_alive(const struct sb_bench *b);

/* Sums the phase's per-worker stats for one command (cmd < SB_NCMD) or for
 * all (cmd == SB_NCMD) into out (initialised here). Safe while running. */
void sb_phase_sum(const struct sb_phase *ph, int cmd, struct sb_cmdstats *out);

/* The key name of index i: prefix + 12 zero-padded digits (wider past 10^12).
 * Returns the length written to dst (room: strlen(prefix) + 21). */
size_t sb_key_name(char *dst, const char *prefix, size_t plen, uint64_t i);

/* ---- --selftest (sb_selftest.c) ---------------------------------------- */

/* Runs the built-in checks, printing one line each. Returns 0 when all pass. */
int sb_selftest(void);

#endif
