/*
 * codec.c -- zstd compression of demoted values, with trained dictionaries
 * for small values (codec.h is the contract).
 *
 * What it owns: a pool of zstd contexts, the dictionaries (raw bytes and
 * their prepared ZSTD_CDict / ZSTD_DDict forms), the training sample set and
 * the ratio figures that decide retraining. It does not own durability:
 * dictionaries are persisted by the engine through conf.on_dict (into the
 * tier) and loaded back with codec_add_dict.
 *
 * Output format. A value is stored either raw (the input bytes unchanged;
 * the record's TIER_REC_F_RAW flag) or as exactly one zstd frame (RFC 8878)
 * as ZSTD_compress2 writes it: content size present, a content checksum only
 * with conf.checksum (by default the record's CRC32C covers the bytes), and,
 * when a dictionary was used, the dictionary's zstd ID in the frame header. The
 * codec writes its own id into the zstd ID field (bytes 4..7 of a ZDICT
 * dictionary, "Dictionary_ID" in RFC 8878 §5) of every dictionary it trains,
 * so frame and record name the same dictionary, the ID takes one or two
 * bytes of the frame header (ids < 256 / < 65536), and zstd itself refuses
 * to decode a frame with a different dictionary than the one it was made
 * with (dictionary_wrong -> ST_ECORRUPT).
 *
 * Data model.
 *   pool     free lists of ZSTD_CCtx and ZSTD_DCtx nodes; a call pops one
 *            (or creates one when the list is empty), uses it with no lock
 *            held, and pushes it back. So there are at most as many contexts
 *            as calls ever ran at once, and two threads never share one.
 *   dicts    array of struct codec_dict *, sorted by id; entries are never
 *            freed before codec_destroy, so a pointer found under the lock
 *            stays valid after it is dropped. cur is the dictionary used for
 *            compression (the largest id held, when dictionaries are on).
 *   samples  up to train_samples copies of small values (8 .. small_max
 *            bytes) and at most train_bytes_max bytes; once full, reservoir
 *            replacement where the n-th value seen replaces a random slot
 *            with probability slots / min(n, 2 * slots), so, unlike plain
 *            reservoir sampling, the set keeps following the data (about half
 *            of the slots turn over every `slots` values).
 *   window   raw and stored bytes of the last drift_window compressions made
 *            with cur; when full, its ratio becomes recent_ratio.
 *
 * Training state machine (all under lock):
 *
 *   COLLECT --(set full, seen >= need_seen, now >= next_ms)--> TRAINING
 *   TRAINING --(accepted by on_dict)--> IDLE          (a new cur)
 *   TRAINING --(ZDICT failed / refused)--> COLLECT    (fresh set, backoff)
 *   IDLE --(recent ratio > train ratio * (1 + retrain_drift))--> COLLECT
 *   COLLECT --(codec_add_dict made a new cur)--> IDLE
 *   OFF: small_max == 0, no dictionaries for compression.
 *
 * A sample set is handed over whole to the training (moved, not copied); the
 * next one starts empty, so a retrain learns from the values seen after the
 * drift was detected. Training holds out every 10th sample (when there are
 * 50 or more) and compresses them with and without the new dictionary: that
 * is train_ratio, the reference for drift. After a load the first window's
 * ratio is the reference. Backoff: after k consecutive failures or refusals
 * (k <= 4 counts), the next attempt waits for train_samples << k values seen
 * and retrain_min_interval_ms << k.
 *
 * Invariants:
 *  1. No record uses a dictionary before on_dict accepted it: cur is set in
 *     install_locked, after the callback returned 0.
 *  2. A dictionary, once held, stays held (and decodable) until destroy;
 *     only its CDict is freed when it stops being cur and no compression is
 *     using it (cusers == 0).
 *  3. Dictionary ids only grow: a trained one takes max_id + 1, and max_id
 *     follows every id loaded.
 *  4. At most one training at a time (state TRAINING).
 *  5. codec_compress never returns output >= input: zstd is given len - 1
 *     bytes of room, and a value that does not fit is stored raw.
 *
 * Threads: any thread may call compress/decompress/add_dict/stats at once.
 * One mutex (lock) guards the pool, the dictionary table, cur and the CDict
 * reference counts, the sample set, the window and the training state; it is
 * held for list operations and small copies, never across a zstd call, the
 * training or on_dict. Throughput counters are relaxed atomics. With
 * train_async the codec's own thread trains (woken by cv); otherwise the
 * caller whose compress call triggers training trains inline.
 *
 * Memory: everything it holds is reported by codec_stats (dict_bytes,
 * sample_bytes, ctx_bytes) for the maxmemory accounting (DESIGN.md inv. 5).
 * A CDict at level 3 for a 16 KiB dictionary is about 400 KiB; only the
 * current dictionary has one. A DDict is about 44 KiB.
 *
 * References: zstd manual (zstd.h, zdict.h of libzstd 1.5.4), RFC 8878.
 */
#include "engine/codec.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#include "engine/err.h"
#include "engine/util.h"

#define CODEC_DICT_MAX (16u << 20)
#define CODEC_DICT_MIN 256
#define CODEC_SAMPLE_MIN 8        /* ZDICT ignores shorter samples */
#define CODEC_BACKOFF_MAX 4       /* backoff doubles up to 16x */
#define CODEC_HOLDOUT_MIN 50      /* hold out every 10th sample from this many */
#define CODEC_ZDICT_MAGIC 0xEC30A437u

struct codec_dict {
    uint32_t id;
    size_t len;
    void *raw;          /* len bytes; immutable */
    ZSTD_DDict *ddict;  /* immutable */
    size_t ddict_bytes;
    ZSTD_CDict *cdict;  /* lock: present while cur or in use */
    size_t cdict_bytes; /* lock */
    unsigned cusers;    /* lock: compressions using cdict right now */
};

struct ctx_node {
    struct ctx_node *next;
    void *ctx;    /* ZSTD_CCtx * or ZSTD_DCtx * */
    size_t bytes; /* ZSTD_sizeof_* when last returned */
};

struct sample_set {
    void **buf;    /* [cap] */
    size_t *len;   /* [cap] */
    unsigned n, cap;
    size_t bytes;  /* sum of len[0..n) */
    uint64_t seen; /* values offered since the set started */
    int full;
};

enum train_state { TS_OFF, TS_COLLECT, TS_TRAINING, TS_IDLE };

struct codec {
    struct codec_conf conf; /* immutable after create */
    pthread_mutex_t lock;

    /* pool: lock */
    struct ctx_node *cfree, *dfree;
    uint64_t ctx_bytes;

    /* dictionaries: lock */
    struct codec_dict **dicts; /* sorted by id */
    size_t ndicts, dcap;
    struct codec_dict *cur;
    uint32_t max_id;
    uint64_t dict_bytes;

    /* training: lock */
    enum train_state state;
    struct sample_set samples;
    struct sample_set *job; /* async: handed to the trainer, not yet taken */
    uint64_t job_bytes;     /* samples held by the training in progress */
    unsigned fails;         /* consecutive failed or refused trainings */
    uint64_t need_seen;
    int64_t next_ms;        /* monotonic ms before which no training starts */
    int64_t last_train_ms;
    struct util_rng rng;
    uint64_t trainings, train_failures, dict_refusals;

    /* drift window and ratios: lock */
    uint64_t win_raw, win_out;
    unsigned win_n;
    double base_ratio, base_nodict, recent_ratio;

    /* trainer thread: stop and job under lock, signalled through cv */
    pthread_cond_t cv;
    int stop;
    int has_thread;
    pthread_t thread;

    /* counters: relaxed atomics */
    _Atomic uint64_t n_comp, n_dcomp, n_decomp, n_decomp_err;
    _Atomic uint64_t raw_in, stored_out, stored_raw;
};

static int64_t now_ms(void)
{
    return util_mono_us() / 1000;
}

static void count(_Atomic uint64_t *ctr, uint64_t v)
{
    atomic_fetch_add_explicit(ctr, v, memory_order_relaxed);
}

static uint64_t load(_Atomic uint64_t *ctr)
{
    return atomic_load_explicit(ctr, memory_order_relaxed);
}

void codec_conf_init(struct codec_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->level = 3;
    conf->dict_size = 16 * 1024;
    conf->small_max = 4096;
    conf->train_samples = 1000;
    conf->train_bytes_max = 1024 * 1024;
    conf->retrain_drift = 0.10;
    conf->retrain_min_interval_ms = 60000;
    conf->drift_window = 256;
    conf->train_async = 1;
}

size_t codec_bound(size_t len)
{
    return len;
}

/* ---- context pool -------------------------------------------------------- */

static struct ctx_node *pool_pop_locked(struct ctx_node **list)
{
    struct ctx_node *n = *list;

    if (n)
        *list = n->next;
    return n;
}

static void pool_push_locked(struct codec *c, struct ctx_node **list, struct ctx_node *n, size_t bytes)
{
    c->ctx_bytes += bytes;
    c->ctx_bytes -= n->bytes;
    n->bytes = bytes;
    n->next = *list;
    *list = n;
}

/* A compression context with the codec's sticky parameters, or NULL. */
static ZSTD_CCtx *cctx_create(const struct codec_conf *cf)
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();

    if (cctx && (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, cf->level)) ||
                 ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, cf->checksum ? 1 : 0)))) {
        ZSTD_freeCCtx(cctx);
        cctx = NULL;
    }
    return cctx;
}

/* A fresh node with a new context (cf: a compression one), or NULL. */
static struct ctx_node *pool_new(const struct codec_conf *cf)
{
    struct ctx_node *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->ctx = cf ? (void *)cctx_create(cf) : (void *)ZSTD_createDCtx();
    if (!n->ctx) {
        free(n);
        return NULL;
    }
    return n;
}

static void pool_free(struct ctx_node *list, int compress)
{
    while (list) {
        struct ctx_node *next = list->next;
        if (compress)
            ZSTD_freeCCtx(list->ctx);
        else
            ZSTD_freeDCtx(list->ctx);
        free(list);
        list = next;
    }
}

/* ---- dictionaries --------------------------------------------------------- */

static void dict_free(struct codec_dict *d)
{
    if (!d)
        return;
    ZSTD_freeCDict(d->cdict);
    ZSTD_freeDDict(d->ddict);
    free(d->raw);
    free(d);
}

static uint64_t dict_mem(const struct codec_dict *d)
{
    return sizeof(*d) + d->len + d->ddict_bytes + d->cdict_bytes;
}

/* Builds a dictionary entry from raw (len bytes), taking ownership of raw
 * (freed on failure too). with_cdict: prepare it for compression as well.
 * Returns ST_OK with *out, ST_ENOMEM or ST_ECORRUPT (zstd refused it). */
static int dict_new(uint32_t id, void *raw, size_t len, int with_cdict, int level, struct codec_dict **out)
{
    struct codec_dict *d = calloc(1, sizeof(*d));

    if (!d) {
        free(raw);
        return ST_ENOMEM;
    }
    d->id = id;
    d->raw = raw;
    d->len = len;
    d->ddict = ZSTD_createDDict(raw, len);
    if (!d->ddict)
        goto fail_corrupt;
    d->ddict_bytes = ZSTD_sizeof_DDict(d->ddict);
    if (with_cdict) {
        d->cdict = ZSTD_createCDict(raw, len, level);
        if (!d->cdict)
            goto fail_corrupt;
        d->cdict_bytes = ZSTD_sizeof_CDict(d->cdict);
    }
    *out = d;
    return ST_OK;

fail_corrupt:
    dict_free(d);
    return ST_ECORRUPT;
}

/* Index of id in c->dicts, or where it would go (*found = 0). */
static size_t dict_pos_locked(const struct codec *c, uint32_t id, int *found)
{
    size_t lo = 0, hi = c->ndicts;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->dicts[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < c->ndicts && c->dicts[lo]->id == id;
    return lo;
}

static struct codec_dict *dict_find_locked(const struct codec *c, uint32_t id)
{
    int found;
    size_t i = dict_pos_locked(c, id, &found);

    return found ? c->dicts[i] : NULL;
}

/* Inserts d (whose id is not held). ST_OK or ST_ENOMEM. */
static int dict_insert_locked(struct codec *c, struct codec_dict *d)
{
    int found;
    size_t i = dict_pos_locked(c, d->id, &found);

    if (c->ndicts == c->dcap) {
        size_t ncap = c->dcap ? c->dcap * 2 : 8;
        struct codec_dict **nd = realloc(c->dicts, ncap * sizeof(*nd));
        if (!nd)
            return ST_ENOMEM;
        c->dicts = nd;
        c->dcap = ncap;
    }
    memmove(c->dicts + i + 1, c->dicts + i, (c->ndicts - i) * sizeof(*c->dicts));
    c->dicts[i] = d;
    c->ndicts++;
    c->dict_bytes += dict_mem(d);
    if (d->id > c->max_id)
        c->max_id = d->id;
    return ST_OK;
}

/* Takes d's CDict out (to be freed by the caller without the lock). */
static ZSTD_CDict *dict_take_cdict_locked(struct codec *c, struct codec_dict *d)
{
    ZSTD_CDict *cd = d->cdict;

    c->dict_bytes -= d->cdict_bytes;
    d->cdict = NULL;
    d->cdict_bytes = 0;
    return cd;
}

/* Makes d (held, with a CDict) the current dictionary. Returns the old
 * current's CDict when nothing uses it any more, for the caller to free
 * after unlocking (invariant 2). */
static ZSTD_CDict *dict_make_cur_locked(struct codec *c, struct codec_dict *d)
{
    struct codec_dict *old = c->cur;

    c->cur = d;
    c->win_raw = c->win_out = 0;
    c->win_n = 0;
    if (old && old->cusers == 0 && old->cdict)
        return dict_take_cdict_locked(c, old);
    return NULL;
}

/* ---- sampling and training ------------------------------------------------ */

static void samples_free(struct sample_set *s)
{
    for (unsigned i = 0; i < s->n; i++)
        free(s->buf[i]);
    free(s->buf);
    free(s->len);
    memset(s, 0, sizeof(*s));
}

static uint64_t samples_mem(const struct sample_set *s)
{
    return s->bytes + (uint64_t)s->cap * (sizeof(void *) + sizeof(size_t));
}

/* Offers a small value to the sample set (COLLECT state only). */
static void sample_offer_locked(struct codec *c, const void *src, size_t len)
{
    struct sample_set *s = &c->samples;
    const struct codec_conf *cf = &c->conf;

    if (len < CODEC_SAMPLE_MIN || len > cf->train_bytes_max)
        return;
    s->seen++;
    if (!s->full && s->n < cf->train_samples && s->bytes + len <= cf->train_bytes_max) {
        void *copy;
        if (!s->buf) {
            s->buf = calloc(cf->train_samples, sizeof(*s->buf));
            s->len = calloc(cf->train_samples, sizeof(*s->len));
            if (!s->buf || !s->len) {
                free(s->buf);
                free(s->len);
                s->buf = NULL;
                s->len = NULL;
                return;
            }
            s->cap = cf->train_samples;
        }
        copy = malloc(len);
        if (!copy)
            return;
        memcpy(copy, src, len);
        s->buf[s->n] = copy;
        s->len[s->n] = len;
        s->n++;
        s->bytes += len;
        if (s->n == cf->train_samples)
            s->full = 1;
        return;
    }
    s->full = 1;
    if (s->n == 0)
        return;
    uint64_t range = s->seen < 2 * (uint64_t)s->n ? s->seen : 2 * (uint64_t)s->n;
    uint64_t j = util_rng_next(&c->rng) % range;
    if (j >= s->n || s->bytes - s->len[j] + len > cf->train_bytes_max)
        return;
    void *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, src, len);
    free(s->buf[j]);
    s->bytes = s->bytes - s->len[j] + len;
    s->buf[j] = copy;
    s->len[j] = len;
}

/* When the sample set is ready and training is allowed, moves it into a
 * job, enters TRAINING and returns the job (the caller trains it or hands
 * it to the trainer); NULL otherwise. */
static struct sample_set *train_take_locked(struct codec *c)
{
    struct sample_set *job;

    if (c->state != TS_COLLECT || !c->samples.full || c->samples.seen < c->need_seen)
        return NULL;
    if (c->next_ms > 0 && now_ms() < c->next_ms)
        return NULL;
    job = malloc(sizeof(*job));
    if (!job)
        return NULL;
    *job = c->samples;
    memset(&c->samples, 0, sizeof(c->samples));
    c->job_bytes = samples_mem(job);
    c->state = TS_TRAINING;
    return job;
}

/* A training ended without a new dictionary: back to COLLECT, backed off. */
static void train_backoff_locked(struct codec *c)
{
    unsigned k = c->fails < CODEC_BACKOFF_MAX ? c->fails : CODEC_BACKOFF_MAX;

    c->state = TS_COLLECT;
    c->need_seen = (uint64_t)c->conf.train_samples << k;
    c->next_ms = now_ms() + (c->conf.retrain_min_interval_ms << k);
}

/* One zstd frame of src into dst[0..cap) with cdict (or none), on a context
 * from cctx_create: the size, or a zstd error code (dstSize_tooSmall when it
 * does not fit). Only the dictionary changes between calls; the level and
 * checksum flag stay set. The session reset comes first because a failed
 * compression (the common "does not fit" case) leaves the context in a stage
 * where zstd refuses a dictionary change. The context does not keep the
 * reference: a pooled context never points at a CDict that may be freed
 * (invariant 2). */
static size_t zcompress(ZSTD_CCtx *cctx, const ZSTD_CDict *cdict, void *dst, size_t cap, const void *src,
                        size_t len)
{
    size_t r = ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);

    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_refCDict(cctx, cdict);
    if (!ZSTD_isError(r))
        r = ZSTD_compress2(cctx, dst, cap, src, len);
    if (cdict) {
        ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
        ZSTD_CCtx_refCDict(cctx, NULL);
    }
    return r;
}

/* stored/raw of the given samples compressed with cdict (or none), counting
 * a value that does not shrink as stored raw, as codec_compress does. */
static double measure_ratio(ZSTD_CCtx *cctx, const ZSTD_CDict *cdict, void *scratch, void *const *buf,
                            const size_t *len, const unsigned *idx, unsigned n)
{
    uint64_t raw = 0, out = 0;

    for (unsigned k = 0; k < n; k++) {
        unsigned i = idx[k];
        size_t r = zcompress(cctx, cdict, scratch, len[i] - 1, buf[i], len[i]);
        raw += len[i];
        out += ZSTD_isError(r) ? len[i] : r;
    }
    return raw ? (double)out / (double)raw : 0.0;
}

/* Trains a dictionary from job (taken, freed here), offers it to on_dict
 * and installs it. Runs without the lock; state is TRAINING throughout. */
static void train_run(struct codec *c, struct sample_set *job)
{
    const struct codec_conf *cf = &c->conf;
    unsigned n = job->n, ntrain = 0, nhold = 0;
    size_t *sizes = malloc((n ? n : 1) * sizeof(*sizes));
    unsigned *hold = malloc((n ? n : 1) * sizeof(*hold));
    char *cat = malloc(job->bytes ? job->bytes : 1);
    void *dict = malloc(cf->dict_size);
    void *scratch = malloc(cf->small_max ? cf->small_max : 1);
    ZSTD_CCtx *cctx = cctx_create(cf);
    struct codec_dict *d = NULL;
    ZSTD_CDict *drop = NULL;
    double ratio = 0, ratio_nodict = 0;
    uint32_t id = 0;
    int refused = 0;

    if (!sizes || !hold || !cat || !dict || !scratch || !cctx || n == 0)
        goto no_dict;
    size_t off = 0;
    for (unsigned i = 0; i < n; i++) {
        if (n >= CODEC_HOLDOUT_MIN && i % 10 == 9) {
            hold[nhold++] = i;
            continue;
        }
        memcpy(cat + off, job->buf[i], job->len[i]);
        off += job->len[i];
        sizes[ntrain++] = job->len[i];
    }
    size_t dlen = ZDICT_trainFromBuffer(dict, cf->dict_size, cat, sizes, ntrain);
    free(cat);
    cat = NULL;
    if (ZDICT_isError(dlen) || dlen < 8)
        goto no_dict;

    pthread_mutex_lock(&c->lock);
    if (c->max_id < UINT32_MAX)
        id = ++c->max_id;
    pthread_mutex_unlock(&c->lock);
    if (id == 0)
        goto no_dict;
    uint32_t magic = (uint32_t)((unsigned char *)dict)[0] | (uint32_t)((unsigned char *)dict)[1] << 8 |
                     (uint32_t)((unsigned char *)dict)[2] << 16 | (uint32_t)((unsigned char *)dict)[3] << 24;
    if (magic == CODEC_ZDICT_MAGIC) {
        unsigned char *p = (unsigned char *)dict + 4;
        p[0] = (unsigned char)id;
        p[1] = (unsigned char)(id >> 8);
        p[2] = (unsigned char)(id >> 16);
        p[3] = (unsigned char)(id >> 24);
    }
    void *shrunk = realloc(dict, dlen);
    if (shrunk)
        dict = shrunk;
    int rc = dict_new(id, dict, dlen, 1, cf->level, &d);
    dict = NULL; /* taken by dict_new */
    if (rc != ST_OK)
        goto no_dict;

    /* reference ratios on the held-out samples (all of them when few) */
    if (nhold == 0) {
        for (unsigned i = 0; i < n; i++)
            hold[i] = i;
        nhold = n;
    }
    ratio = measure_ratio(cctx, d->cdict, scratch, job->buf, job->len, hold, nhold);
    ratio_nodict = measure_ratio(cctx, NULL, scratch, job->buf, job->len, hold, nhold);

    if (cf->on_dict && cf->on_dict(cf->ud, id, d->raw, d->len) != 0) {
        refused = 1;
        goto no_dict;
    }

    pthread_mutex_lock(&c->lock);
    if (dict_find_locked(c, id) || dict_insert_locked(c, d) != ST_OK) {
        /* an add_dict raced us to this id, or no memory */
        pthread_mutex_unlock(&c->lock);
        goto no_dict;
    }
    if (!c->cur || id > c->cur->id)
        drop = dict_make_cur_locked(c, d);
    else
        drop = dict_take_cdict_locked(c, d);
    d = NULL; /* held by the table now */
    c->base_ratio = ratio;
    c->base_nodict = ratio_nodict;
    c->trainings++;
    c->fails = 0;
    c->state = TS_IDLE;
    c->last_train_ms = now_ms();
    c->job_bytes = 0;
    pthread_mutex_unlock(&c->lock);
    goto free_work;

no_dict:
    dict_free(d);
    d = NULL;
    pthread_mutex_lock(&c->lock);
    if (refused)
        c->dict_refusals++;
    else
        c->train_failures++;
    c->fails++;
    c->job_bytes = 0;
    train_backoff_locked(c);
    pthread_mutex_unlock(&c->lock);

free_work:
    ZSTD_freeCDict(drop);
    ZSTD_freeCCtx(cctx);
    free(scratch);
    free(dict);
    free(cat);
    free(hold);
    free(sizes);
    samples_free(job);
    free(job);
}

static void *trainer_main(void *arg)
{
    struct codec *c = arg;

    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->stop && !c->job)
            pthread_cond_wait(&c->cv, &c->lock);
        if (c->stop)
            break;
        struct sample_set *job = c->job;
        c->job = NULL;
        pthread_mutex_unlock(&c->lock);
        train_run(c, job);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Adds one dictionary compression of len bytes into out bytes to the
 * window; at the end of a window, checks for drift. */
static void window_add_locked(struct codec *c, size_t len, size_t out)
{
    c->win_raw += len;
    c->win_out += out;
    if (++c->win_n < c->conf.drift_window)
        return;
    double r = c->win_raw ? (double)c->win_out / (double)c->win_raw : 0.0;
    c->recent_ratio = r;
    c->win_raw = c->win_out = 0;
    c->win_n = 0;
    if (c->base_ratio <= 0) {
        c->base_ratio = r; /* a loaded dictionary: its first window is the reference */
        return;
    }
    if (c->state == TS_IDLE && c->conf.retrain_drift >= 0 && r > c->base_ratio * (1.0 + c->conf.retrain_drift)) {
        c->state = TS_COLLECT;
        c->fails = 0;
        c->need_seen = 0;
        c->next_ms = c->last_train_ms + c->conf.retrain_min_interval_ms;
    }
}

/* ---- public API ------------------------------------------------------------ */

int codec_create(const struct codec_conf *conf, struct codec **out)
{
    struct codec_conf def;
    struct codec *c;

    if (!out)
        return ST_EINVAL;
    *out = NULL;
    if (!conf) {
        codec_conf_init(&def);
        conf = &def;
    }
    if (conf->level < ZSTD_minCLevel() || conf->level > ZSTD_maxCLevel() || conf->dict_size < CODEC_DICT_MIN ||
        conf->dict_size > CODEC_DICT_MAX || conf->train_samples < 8 || conf->train_samples > (1u << 20) ||
        conf->train_bytes_max < 4096 || conf->train_bytes_max > ((size_t)1 << 30) ||
        conf->small_max > CODEC_DICT_MAX || conf->retrain_min_interval_ms < 0 ||
        conf->retrain_min_interval_ms > ((int64_t)1 << 40) || conf->drift_window < 1 ||
        conf->retrain_drift != conf->retrain_drift)
        return ST_EINVAL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return ST_ENOMEM;
    c->conf = *conf;
    c->state = conf->small_max ? TS_COLLECT : TS_OFF;
    util_rng_seed(&c->rng, 0x636f646563ull); /* "codec": reproducible sampling */
    if (pthread_mutex_init(&c->lock, NULL) != 0)
        goto fail_free;
    if (pthread_cond_init(&c->cv, NULL) != 0)
        goto fail_mutex;
    if (conf->train_async && conf->small_max) {
        if (pthread_create(&c->thread, NULL, trainer_main, c) != 0)
            goto fail_cond;
        c->has_thread = 1;
    }
    *out = c;
    return ST_OK;

fail_cond:
    pthread_cond_destroy(&c->cv);
fail_mutex:
    pthread_mutex_destroy(&c->lock);
fail_free:
    free(c);
    return ST_ENOMEM;
}

void codec_destroy(struct codec **cp)
{
    struct codec *c = cp ? *cp : NULL;

    if (!c)
        return;
    if (c->has_thread) {
        pthread_mutex_lock(&c->lock);
        c->stop = 1;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
    }
    if (c->job) {
        samples_free(c->job);
        free(c->job);
    }
    samples_free(&c->samples);
    for (size_t i = 0; i < c->ndicts; i++)
        dict_free(c->dicts[i]);
    free(c->dicts);
    pool_free(c->cfree, 1);
    pool_free(c->dfree, 0);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->lock);
    free(c);
    *cp = NULL;
}

int codec_compress(struct codec *c, const void *src, size_t len, void *dst, size_t cap, size_t *dlen,
                   uint32_t *dict_id, int *raw)
{
    struct sample_set *job = NULL;
    struct codec_dict *d = NULL;
    struct ctx_node *node;
    ZSTD_CDict *drop = NULL;
    size_t out = 0;
    int small, ok = 0;

    if (!c || (!src && len) || (!dst && cap) || !dlen || !dict_id || !raw || cap < codec_bound(len))
        return ST_EINVAL;
    small = c->conf.small_max && len <= c->conf.small_max;

    pthread_mutex_lock(&c->lock);
    if (small && c->state == TS_COLLECT) {
        sample_offer_locked(c, src, len);
        job = train_take_locked(c);
        if (job && c->has_thread) {
            c->job = job;
            job = NULL;
            pthread_cond_signal(&c->cv);
        }
    }
    if (job) {
        /* inline training (train_async = 0): without the lock, then on */
        pthread_mutex_unlock(&c->lock);
        train_run(c, job);
        pthread_mutex_lock(&c->lock);
    }
    node = pool_pop_locked(&c->cfree);
    if (small && len > 1 && c->cur && c->cur->cdict) {
        d = c->cur;
        d->cusers++;
    }
    pthread_mutex_unlock(&c->lock);

    if (!node)
        node = pool_new(&c->conf);
    if (node && len > 1) {
        /* len - 1 bytes of room: output that is not smaller fails (inv. 5) */
        size_t r = zcompress(node->ctx, d ? d->cdict : NULL, dst, len - 1, src, len);
        if (!ZSTD_isError(r) && r < len) {
            out = r;
            ok = 1;
        }
    }
    if (!ok) {
        if (len)
            memcpy(dst, src, len);
        out = len;
    }
    size_t nbytes = node ? ZSTD_sizeof_CCtx(node->ctx) : 0;

    pthread_mutex_lock(&c->lock);
    if (node)
        pool_push_locked(c, &c->cfree, node, nbytes);
    if (d) {
        d->cusers--;
        if (d == c->cur)
            window_add_locked(c, len, out);
        else if (d->cusers == 0 && d->cdict)
            drop = dict_take_cdict_locked(c, d);
    }
    pthread_mutex_unlock(&c->lock);
    ZSTD_freeCDict(drop);

    count(&c->n_comp, 1);
    count(&c->raw_in, len);
    count(&c->stored_out, out);
    if (!ok)
        count(&c->stored_raw, 1);
    else if (d)
        count(&c->n_dcomp, 1);
    *dlen = out;
    *dict_id = ok && d ? d->id : 0;
    *raw = !ok;
    return ST_OK;
}

int codec_decompress(struct codec *c, uint32_t dict_id, int raw, const void *src, size_t len, void *dst,
                     size_t rawlen)
{
    struct codec_dict *d = NULL;
    struct ctx_node *node;
    char dummy;
    size_t r;

    if (!c || (!src && len) || (!dst && rawlen))
        return ST_EINVAL;
    if (raw) {
        /* a raw value is the bytes themselves; dict_id does not apply */
        if (len != rawlen)
            goto corrupt;
        if (len)
            memcpy(dst, src, len);
        count(&c->n_decomp, 1);
        return ST_OK;
    }
    if (len == 0)
        goto corrupt;
    if (!dst)
        dst = &dummy; /* rawlen 0: zstd wants somewhere to point */

    pthread_mutex_lock(&c->lock);
    if (dict_id) {
        d = dict_find_locked(c, dict_id);
        if (!d) {
            pthread_mutex_unlock(&c->lock);
            count(&c->n_decomp_err, 1);
            return ST_ENOENT;
        }
    }
    node = pool_pop_locked(&c->dfree);
    pthread_mutex_unlock(&c->lock);
    if (!node && !(node = pool_new(NULL)))
        return ST_ENOMEM;

    /* d and d->ddict stay valid: dictionaries live until destroy (inv. 2) */
    r = d ? ZSTD_decompress_usingDDict(node->ctx, dst, rawlen, src, len, d->ddict)
          : ZSTD_decompressDCtx(node->ctx, dst, rawlen, src, len);
    size_t nbytes = ZSTD_sizeof_DCtx(node->ctx);

    pthread_mutex_lock(&c->lock);
    pool_push_locked(c, &c->dfree, node, nbytes);
    pthread_mutex_unlock(&c->lock);
    if (ZSTD_isError(r) || r != rawlen)
        goto corrupt;
    count(&c->n_decomp, 1);
    return ST_OK;

corrupt:
    count(&c->n_decomp_err, 1);
    return ST_ECORRUPT;
}

int codec_add_dict(struct codec *c, uint32_t id, const void *dict, size_t len)
{
    struct codec_dict *d = NULL, *have;
    ZSTD_CDict *drop = NULL;
    void *copy;
    int rc, want_cdict;

    if (!c || id == 0 || !dict || len == 0 || len > CODEC_DICT_MAX)
        return ST_EINVAL;

    pthread_mutex_lock(&c->lock);
    have = dict_find_locked(c, id);
    want_cdict = c->conf.small_max && (!c->cur || id > c->cur->id);
    pthread_mutex_unlock(&c->lock);
    if (have)
        return have->len == len && memcmp(have->raw, dict, len) == 0 ? ST_OK : ST_EEXIST;

    copy = malloc(len);
    if (!copy)
        return ST_ENOMEM;
    memcpy(copy, dict, len);
    rc = dict_new(id, copy, len, want_cdict, c->conf.level, &d);
    if (rc != ST_OK)
        return rc;

    pthread_mutex_lock(&c->lock);
    have = dict_find_locked(c, id);
    if (have) {
        /* another add_dict (or a training) took this id meanwhile */
        pthread_mutex_unlock(&c->lock);
        dict_free(d);
        return have->len == len && memcmp(have->raw, dict, len) == 0 ? ST_OK : ST_EEXIST;
    }
    rc = dict_insert_locked(c, d);
    if (rc != ST_OK) {
        pthread_mutex_unlock(&c->lock);
        dict_free(d);
        return rc;
    }
    if (c->conf.small_max && (!c->cur || id > c->cur->id) && d->cdict) {
        drop = dict_make_cur_locked(c, d);
        c->base_ratio = 0; /* measured by the first window */
        c->base_nodict = 0;
        if (c->state == TS_COLLECT) {
            samples_free(&c->samples);
            c->state = TS_IDLE;
        }
    } else if (d->cdict) {
        drop = dict_take_cdict_locked(c, d);
    }
    pthread_mutex_unlock(&c->lock);
    ZSTD_freeCDict(drop);
    return ST_OK;
}

void codec_stats(struct codec *c, struct codec_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->compressions = load(&c->n_comp);
    out->dict_compressions = load(&c->n_dcomp);
    out->decompressions = load(&c->n_decomp);
    out->decompress_errors = load(&c->n_decomp_err);
    out->raw_in = load(&c->raw_in);
    out->stored_out = load(&c->stored_out);
    out->stored_raw = load(&c->stored_raw);

    pthread_mutex_lock(&c->lock);
    out->dicts = c->ndicts;
    out->dict_bytes = c->dict_bytes + c->dcap * sizeof(*c->dicts);
    out->sample_bytes = samples_mem(&c->samples) + c->job_bytes;
    out->ctx_bytes = c->ctx_bytes;
    out->trainings = c->trainings;
    out->train_failures = c->train_failures;
    out->dict_refusals = c->dict_refusals;
    out->dict_id = c->cur ? c->cur->id : 0;
    out->train_ratio = c->base_ratio;
    out->train_ratio_nodict = c->base_nodict;
    out->recent_ratio = c->recent_ratio;
    pthread_mutex_unlock(&c->lock);
}
