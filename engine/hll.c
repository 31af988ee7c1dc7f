/*
 * hll.c -- HyperLogLog values in Redis's byte format: hashing, dense and
 * sparse register updates, sparse-to-dense promotion, merging, validation and
 * the cardinality estimator (see hll.h for every contract).
 *
 * What it owns: the bytes of one HyperLogLog value and every algorithm over
 * them. What it does not own: keys, entries, locking and replies
 * (server/cmd_hll.c); the sparse size limit (hll-sparse-max-bytes, passed in).
 *
 * Data model (every multi-byte number little-endian; byte-compatible with
 * Redis, whose format this is):
 *
 *   offset size  field
 *   0      4     magic     "HYLL"
 *   4      1     encoding  0 dense, 1 sparse
 *   5      3     unused    (zero when created; never checked)
 *   8      8     card      cached cardinality; bit 7 of byte 15 set means
 *                          "stale" (the other bits then keep the old value)
 *   16     ...   registers dense: 16384 x 6 bits = 12288 bytes
 *                          sparse: opcodes, see below
 *
 *   Dense register i occupies bits 6i .. 6i+5 of the register area counted
 *   from the least significant bit of its first byte: it starts in byte
 *   6i / 8 at bit 6i % 8, and continues into the next byte when that bit is
 *   above 2.
 *
 *   Sparse opcodes describe runs of registers, in order:
 *     ZERO   00nnnnnn            n+1 (1..64) registers are 0
 *     XZERO  01nnnnnn nnnnnnnn   n+1 (1..16384) registers are 0 (14-bit n, big-endian)
 *     VAL    1vvvvvnn            n+1 (1..4) registers are v+1 (1..32)
 *   A valid sparse value covers exactly 16384 registers. An empty one is the
 *   header plus XZERO(16384): 0x7f 0xff.
 *
 * Element hashing: h = MurmurHash64A(element, seed 0xadc83b19); the low 14
 * bits of h pick the register; the register is offered 1 + the number of
 * trailing zeros of (h >> 14) | 2^50 (1..51).
 *
 * Estimator: Ertl, "New cardinality estimation algorithms for HyperLogLog
 * sketches" (arXiv:1702.01284), the improved raw estimator with the tau and
 * sigma series, computed over the histogram of register values in the same
 * order of floating-point operations as Redis 7, so both report the same
 * integer for the same registers.
 *
 * Invariants:
 *  1. Byte compatibility: a sequence of operations applied here and in Redis
 *     7.0 to equal inputs yields equal bytes. In particular a sparse update
 *     splits the covering opcode into at most three (zero run / VAL / zero
 *     run, an XZERO for zero runs longer than 64) and then merges adjacent
 *     VALs of equal value over a window of five opcodes starting at the
 *     opcode before the updated one; a sparse value is promoted to dense when
 *     a register needs more than 32 or when an update would make it longer
 *     than sparse_max bytes.
 *  2. Untrusted input: no function reads or writes outside the value for any
 *     byte content. Sparse walks check every run against the 16384 registers
 *     before writing anything, and a truncated XZERO is corruption.
 *  3. A struct hll's buffer always has room for len bytes; before a sparse
 *     update it is grown so the update (at most 3 more bytes) fits.
 *
 * Threads: reentrant; the caller holds the key's shard lock.
 *
 * References: P. Flajolet et al., "HyperLogLog: the analysis of a near-optimal
 * cardinality estimation algorithm" (2007); O. Ertl (2017), above; Redis's
 * documented representation (antirez, "Redis new data structure: the
 * HyperLogLog", 2014, and the format comments of Redis 7.0 hyperloglog.c);
 * A. Appleby, MurmurHash2 / MurmurHash64A.
 */
#include "engine/hll.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"

#define HLL_SEED 0xadc83b19ull
#define HLL_ALPHA_INF 0.721347520444481703680 /* 1 / (2 ln 2) */

/* Sparse opcodes. */
#define OP_IS_ZERO(b) (((b) & 0xc0) == 0x00)
#define OP_IS_XZERO(b) (((b) & 0xc0) == 0x40)
#define OP_IS_VAL(b) (((b) & 0x80) != 0)
#define OP_ZERO_LEN(b) (((unsigned)(b) & 0x3f) + 1)
#define OP_XZERO_LEN(b0, b1) (((((unsigned)(b0) & 0x3f) << 8) | (unsigned)(b1)) + 1)
#define OP_VAL_VALUE(b) ((((unsigned)(b) >> 2) & 0x1f) + 1)
#define OP_VAL_LEN(b) (((unsigned)(b) & 0x3) + 1)
#define OP_ZERO_MAX 64
#define OP_VAL_MAX_LEN 4

static unsigned char op_val(unsigned value, unsigned len)
{
    return (unsigned char)(0x80 | ((value - 1) << 2) | (len - 1));
}

/* Writes a zero run of len (1..16384) registers at out; returns its size. */
static size_t op_zero_run(unsigned char *out, unsigned len)
{
    if (len > OP_ZERO_MAX) {
        out[0] = (unsigned char)(0x40 | ((len - 1) >> 8));
        out[1] = (unsigned char)((len - 1) & 0xff);
        return 2;
    }
    out[0] = (unsigned char)(len - 1);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Hashing                                                                  */
/* ------------------------------------------------------------------------ */

uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ull;
    const int r = 47;
    const unsigned char *p = key;
    const unsigned char *end = p + (len & ~(size_t)7);
    /* Redis passes the length as an int; values never reach 2 GB here. */
    uint64_t h = seed ^ ((uint64_t)len * m);

    for (; p != end; p += 8) {
        uint64_t k = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
                     (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
                     (uint64_t)p[7] << 56;

        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    switch (len & 7) {
    case 7: h ^= (uint64_t)p[6] << 48; /* fall through */
    case 6: h ^= (uint64_t)p[5] << 40; /* fall through */
    case 5: h ^= (uint64_t)p[4] << 32; /* fall through */
    case 4: h ^= (uint64_t)p[3] << 24; /* fall through */
    case 3: h ^= (uint64_t)p[2] << 16; /* fall through */
    case 2: h ^= (uint64_t)p[1] << 8;  /* fall through */
    case 1:
        h ^= (uint64_t)p[0];
        h *= m;
        break;
    default:
        break;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

unsigned hll_pattern(const void *ele, size_t len, unsigned *index)
{
    uint64_t h = hll_murmur64a(ele, len, HLL_SEED);

    *index = (unsigned)(h & (HLL_REGISTERS - 1));
    h >>= HLL_P;
    h |= (uint64_t)1 << HLL_Q; /* bounds the run at HLL_Q + 1 */
    return (unsigned)__builtin_ctzll(h) + 1;
}

/* ------------------------------------------------------------------------ */
/* Header                                                                   */
/* ------------------------------------------------------------------------ */

int hll_check(const void *vv, size_t len)
{
    const unsigned char *v = vv;

    if (len < HLL_HDR_SIZE || memcmp(v, "HYLL", 4) != 0)
        return ST_EWRONGTYPE;
    if (v[4] > HLL_ENC_SPARSE)
        return ST_EWRONGTYPE;
    if (v[4] == HLL_ENC_DENSE && len != HLL_DENSE_SIZE)
        return ST_EWRONGTYPE;
    return ST_OK;
}

enum hll_encoding hll_encoding_of(const void *v)
{
    return ((const unsigned char *)v)[4] == HLL_ENC_DENSE ? HLL_ENC_DENSE : HLL_ENC_SPARSE;
}

void hll_init_empty(void *out)
{
    unsigned char *o = out;

    memset(o, 0, HLL_SPARSE_EMPTY_SIZE);
    memcpy(o, "HYLL", 4);
    o[4] = HLL_ENC_SPARSE;
    op_zero_run(o + HLL_HDR_SIZE, HLL_REGISTERS);
}

int hll_cache_get(const void *vv, uint64_t *card)
{
    const unsigned char *c = (const unsigned char *)vv + 8;
    uint64_t v = 0;

    if (c[7] & 0x80)
        return 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | c[i];
    *card = v;
    return 1;
}

void hll_cache_set(void *vv, uint64_t card)
{
    unsigned char *c = (unsigned char *)vv + 8;

    for (int i = 0; i < 8; i++)
        c[i] = (unsigned char)(card >> (8 * i));
}

void hll_cache_invalidate(void *vv)
{
    ((unsigned char *)vv)[15] |= 0x80;
}

/* ------------------------------------------------------------------------ */
/* Dense registers                                                          */
/* ------------------------------------------------------------------------ */

static unsigned dense_get(const unsigned char *regs, unsigned i)
{
    unsigned bit = i * HLL_BITS, b = bit >> 3, fb = bit & 7;
    unsigned v = (unsigned)regs[b] >> fb;

    /* The register spills into the next byte only when fb > 2 (so the last
     * register, at fb 2, never reads past the area). */
    if (fb > 8 - HLL_BITS)
        v |= (unsigned)regs[b + 1] << (8 - fb);
    return v & HLL_REGISTER_MAX;
}

static void dense_put(unsigned char *regs, unsigned i, unsigned val)
{
    unsigned bit = i * HLL_BITS, b = bit >> 3, fb = bit & 7;

    regs[b] = (unsigned char)((regs[b] & ~(HLL_REGISTER_MAX << fb)) | (val << fb));
    if (fb > 8 - HLL_BITS) {
        unsigned sh = 8 - fb;

        regs[b + 1] = (unsigned char)((regs[b + 1] & ~(HLL_REGISTER_MAX >> sh)) | (val >> sh));
    }
}

/* Raises register i to val; returns 1 when it grew. */
static int dense_raise(unsigned char *regs, unsigned i, unsigned val)
{
    if (dense_get(regs, i) >= val)
        return 0;
    dense_put(regs, i, val);
    return 1;
}

unsigned hll_dense_get(const void *v, unsigned idx)
{
    return dense_get((const unsigned char *)v + HLL_HDR_SIZE, idx);
}

int hll_dense_add(void *v, const void *ele, size_t len)
{
    unsigned idx, count = hll_pattern(ele, len, &idx);

    return dense_raise((unsigned char *)v + HLL_HDR_SIZE, idx, count);
}

/* Histogram of the dense registers, four at a time (4 x 6 bits = 3 bytes). */
static void dense_histo(const unsigned char *regs, int *histo)
{
    for (unsigned j = 0; j < HLL_REGISTERS / 4; j++, regs += 3) {
        unsigned b0 = regs[0], b1 = regs[1], b2 = regs[2];

        histo[b0 & 63]++;
        histo[((b0 >> 6) | (b1 << 2)) & 63]++;
        histo[((b1 >> 4) | (b2 << 4)) & 63]++;
        histo[b2 >> 2]++;
    }
}

/* ------------------------------------------------------------------------ */
/* Sparse walks                                                             */
/* ------------------------------------------------------------------------ */

/* Calls fn for every VAL run of a sparse area; returns 0 when the opcodes
 * cover exactly HLL_REGISTERS registers, ST_ECORRUPT otherwise (fn is never
 * called with a run that ends past the last register). */
typedef void sparse_run_fn(unsigned first, unsigned n, unsigned value, void *ud);

static int sparse_walk(const unsigned char *p, const unsigned char *end, sparse_run_fn *fn, void *ud)
{
    unsigned long idx = 0;

    while (p < end) {
        unsigned n;

        if (OP_IS_ZERO(*p)) {
            n = OP_ZERO_LEN(*p);
            p++;
        } else if (OP_IS_XZERO(*p)) {
            if (p + 1 >= end)
                return ST_ECORRUPT;
            n = OP_XZERO_LEN(p[0], p[1]);
            p += 2;
        } else {
            n = OP_VAL_LEN(*p);
            if (idx + n > HLL_REGISTERS)
                return ST_ECORRUPT;
            fn((unsigned)idx, n, OP_VAL_VALUE(*p), ud);
            p++;
        }
        idx += n;
        if (idx > HLL_REGISTERS)
            return ST_ECORRUPT;
    }
    return idx == HLL_REGISTERS ? ST_OK : ST_ECORRUPT;
}

static void run_to_dense(unsigned first, unsigned n, unsigned value, void *ud)
{
    for (unsigned i = 0; i < n; i++)
        dense_put(ud, first + i, value);
}

static void run_to_max(unsigned first, unsigned n, unsigned value, void *ud)
{
    uint8_t *regs = ud;

    for (unsigned i = 0; i < n; i++)
        if (regs[first + i] < value)
            regs[first + i] = (uint8_t)value;
}

static void run_to_histo(unsigned first, unsigned n, unsigned value, void *ud)
{
    ((int *)ud)[value] += (int)n;
}

/* ------------------------------------------------------------------------ */
/* Growable values                                                          */
/* ------------------------------------------------------------------------ */

static int hll_reserve(struct hll *h, size_t need)
{
    unsigned char *np;
    size_t ncap;

    if (need <= h->cap)
        return ST_OK;
    ncap = h->cap ? h->cap : 64;
    while (ncap < need)
        ncap *= 2;
    np = realloc(h->p, ncap);
    if (!np)
        return ST_ENOMEM;
    h->p = np;
    h->cap = ncap;
    return ST_OK;
}

int hll_load(struct hll *h, const void *v, size_t len)
{
    h->p = NULL;
    h->len = h->cap = 0;
    if (hll_reserve(h, len + 3) != ST_OK)
        return ST_ENOMEM;
    memcpy(h->p, v, len);
    h->len = len;
    return ST_OK;
}

void hll_release(struct hll *h)
{
    free(h->p);
    h->p = NULL;
    h->len = h->cap = 0;
}

int hll_to_dense(struct hll *h)
{
    unsigned char *d;
    int rc;

    if (h->p[4] == HLL_ENC_DENSE)
        return 0;
    d = calloc(1, HLL_DENSE_SIZE);
    if (!d)
        return ST_ENOMEM;
    memcpy(d, h->p, HLL_HDR_SIZE); /* magic, unused bytes and the cached card */
    d[4] = HLL_ENC_DENSE;
    rc = sparse_walk(h->p + HLL_HDR_SIZE, h->p + h->len, run_to_dense, d + HLL_HDR_SIZE);
    if (rc != ST_OK) {
        free(d);
        return rc;
    }
    free(h->p);
    h->p = d;
    h->len = h->cap = HLL_DENSE_SIZE;
    return 1;
}

/* Redis's sparse update (invariant 1). Returns 1 / 0 / ST_ECORRUPT /
 * ST_ENOMEM; promotes to dense when needed. */
static int sparse_set(struct hll *h, unsigned idx, unsigned count, size_t sparse_max)
{
    unsigned char *base, *p, *end, *prev = NULL;
    unsigned long first = 0;
    unsigned span = 0, oplen = 1;
    unsigned char seq[5];
    size_t seqlen = 0;
    int rc;

    if (count > HLL_SPARSE_VAL_MAX)
        goto promote;
    if (hll_reserve(h, h->len + 3) != ST_OK)
        return ST_ENOMEM;
    base = h->p;
    p = base + HLL_HDR_SIZE;
    end = base + h->len;

    /* 1. Find the opcode that covers register idx. */
    while (p < end) {
        if (OP_IS_ZERO(*p)) {
            span = OP_ZERO_LEN(*p);
            oplen = 1;
        } else if (OP_IS_XZERO(*p)) {
            if (p + 1 >= end)
                return ST_ECORRUPT;
            span = OP_XZERO_LEN(p[0], p[1]);
            oplen = 2;
        } else {
            span = OP_VAL_LEN(*p);
            oplen = 1;
        }
        if (idx <= first + span - 1)
            break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (p >= end)
        return ST_ECORRUPT; /* fewer registers than idx + 1 */

    /* 2. Decide what replaces it. */
    unsigned last = (unsigned)(first + span - 1);

    if (OP_IS_VAL(*p)) {
        unsigned cur = OP_VAL_VALUE(*p);

        if (cur >= count)
            return 0;
        if (span == 1) {
            *p = op_val(count, 1);
            goto merge;
        }
        if (idx != first)
            seq[seqlen++] = op_val(cur, (unsigned)(idx - first));
        seq[seqlen++] = op_val(count, 1);
        if (idx != last)
            seq[seqlen++] = op_val(cur, last - idx);
    } else {
        if (OP_IS_ZERO(*p) && span == 1) {
            *p = op_val(count, 1);
            goto merge;
        }
        if (idx != first)
            seqlen += op_zero_run(seq + seqlen, (unsigned)(idx - first));
        seq[seqlen++] = op_val(count, 1);
        if (idx != last)
            seqlen += op_zero_run(seq + seqlen, last - idx);
    }

    /* 3. Put the new sequence in place of the old opcode. */
    {
        /* -1 when an XZERO of one register becomes a VAL */
        long grow = (long)seqlen - (long)oplen;
        unsigned char *next = p + oplen;

        if (grow > 0 && h->len + (size_t)grow > sparse_max)
            goto promote;
        if (grow != 0 && next < end)
            memmove(next + grow, next, (size_t)(end - next));
        memcpy(p, seq, seqlen);
        end += grow;
        h->len = (size_t)((long)h->len + grow);
    }

merge:
    /* 4. Merge equal adjacent VALs in a window of five opcodes from prev. */
    p = prev ? prev : base + HLL_HDR_SIZE;
    for (int steps = 5; p < end && steps-- > 0;) {
        if (OP_IS_XZERO(*p)) {
            p += 2;
            continue;
        }
        if (OP_IS_ZERO(*p)) {
            p++;
            continue;
        }
        if (p + 1 < end && OP_IS_VAL(p[1]) && OP_VAL_VALUE(p[0]) == OP_VAL_VALUE(p[1])) {
            unsigned n = OP_VAL_LEN(p[0]) + OP_VAL_LEN(p[1]);

            if (n <= OP_VAL_MAX_LEN) {
                p[1] = op_val(OP_VAL_VALUE(p[0]), n);
                memmove(p, p + 1, (size_t)(end - p - 1));
                end--;
                h->len--;
                continue; /* try the merged run with the next one */
            }
        }
        p++;
    }
    hll_cache_invalidate(h->p);
    return 1;

promote:
    rc = hll_to_dense(h);
    if (rc < 0)
        return rc;
    /* A register needed raising, so the dense update reports a change. */
    return dense_raise(h->p + HLL_HDR_SIZE, idx, count);
}

int hll_set(struct hll *h, unsigned idx, unsigned count, size_t sparse_max)
{
    if (h->p[4] == HLL_ENC_DENSE)
        return dense_raise(h->p + HLL_HDR_SIZE, idx, count);
    return sparse_set(h, idx, count, sparse_max);
}

int hll_add(struct hll *h, const void *ele, size_t len, size_t sparse_max)
{
    unsigned idx, count = hll_pattern(ele, len, &idx);

    return hll_set(h, idx, count, sparse_max);
}

int hll_merge_regs(uint8_t *regs, const void *vv, size_t len)
{
    const unsigned char *v = vv;

    if (v[4] == HLL_ENC_DENSE) {
        const unsigned char *r = v + HLL_HDR_SIZE;

        for (unsigned i = 0; i < HLL_REGISTERS; i++) {
            unsigned x = dense_get(r, i);

            if (regs[i] < x)
                regs[i] = (uint8_t)x;
        }
        return ST_OK;
    }
    return sparse_walk(v + HLL_HDR_SIZE, v + len, run_to_max, regs);
}

int hll_store_regs(struct hll *h, const uint8_t *regs, int to_dense, size_t sparse_max)
{
    if (to_dense) {
        int rc = hll_to_dense(h);

        if (rc < 0)
            return rc;
    }
    for (unsigned j = 0; j < HLL_REGISTERS; j++) {
        int rc;

        if (regs[j] == 0)
            continue;
        rc = hll_set(h, j, regs[j], sparse_max);
        if (rc < 0)
            return rc;
    }
    hll_cache_invalidate(h->p);
    return ST_OK;
}

/* ------------------------------------------------------------------------ */
/* Estimator                                                                */
/* ------------------------------------------------------------------------ */

/* Ertl's sigma(x) = x + sum_k>=1 x^(2^k) 2^(k-1), summed until it stops
 * changing. */
static double hll_sigma(double x)
{
    double y = 1, z, zp;

    if (x == 1.)
        return INFINITY;
    z = x;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

/* Ertl's tau(x) = (1 - x - sum_k>=1 (1 - x^(2^-k))^2 2^-k) / 3. */
static double hll_tau(double x)
{
    double y = 1.0, z, zp;

    if (x == 0. || x == 1.)
        return 0.;
    z = 1 - x;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (zp != z);
    return z / 3;
}

/* The estimate from a histogram of register values (histo[64]). */
static uint64_t estimate(const int *histo)
{
    double m = HLL_REGISTERS;
    double z = m * hll_tau((m - histo[HLL_Q + 1]) / m);

    for (int j = HLL_Q; j >= 1; --j) {
        z += histo[j];
        z *= 0.5;
    }
    z += m * hll_sigma(histo[0] / m);
    return (uint64_t)llroundl(HLL_ALPHA_INF * m * m / z);
}

int hll_count(const void *vv, size_t len, uint64_t *card)
{
    const unsigned char *v = vv;
    int histo[64] = { 0 };

    if (v[4] == HLL_ENC_DENSE) {
        dense_histo(v + HLL_HDR_SIZE, histo);
    } else {
        int rc = sparse_walk(v + HLL_HDR_SIZE, v + len, run_to_histo, histo);

        if (rc != ST_OK)
            return rc;
        /* zeros are whatever the VAL runs did not cover */
        int vals = 0;
        for (int j = 1; j < 64; j++)
            vals += histo[j];
        histo[0] = (int)HLL_REGISTERS - vals;
    }
    *card = estimate(histo);
    return ST_OK;
}

uint64_t hll_count_regs(const uint8_t *regs)
{
    int histo[64] = { 0 };

    for (unsigned i = 0; i < HLL_REGISTERS; i++)
        histo[regs[i] & 63]++;
    return estimate(histo);
}

/* ------------------------------------------------------------------------ */
/* PFDEBUG DECODE                                                           */
/* ------------------------------------------------------------------------ */

long hll_decode_sparse(const void *vv, size_t len, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)vv + HLL_HDR_SIZE, *end = (const unsigned char *)vv + len;
    size_t n = 0;

    if (cap == 0)
        return ST_ETOOBIG;
    out[0] = '\0';
    while (p < end) {
        char tmp[32];
        int w;

        if (OP_IS_ZERO(*p)) {
            w = snprintf(tmp, sizeof(tmp), "%sz:%u", n ? " " : "", OP_ZERO_LEN(*p));
            p++;
        } else if (OP_IS_XZERO(*p)) {
            /* Redis reads the sds terminator as the second byte of a
             * truncated XZERO; we read a zero as well. */
            unsigned b1 = p + 1 < end ? p[1] : 0;

            w = snprintf(tmp, sizeof(tmp), "%sZ:%u", n ? " " : "", OP_XZERO_LEN(*p, b1));
            p += 2;
        } else {
            w = snprintf(tmp, sizeof(tmp), "%sv:%u,%u", n ? " " : "", OP_VAL_VALUE(*p), OP_VAL_LEN(*p));
            p++;
        }
        if (n + (size_t)w + 1 > cap)
            return ST_ETOOBIG;
        memcpy(out + n, tmp, (size_t)w + 1);
        n += (size_t)w;
    }
    return (long)n;
}
