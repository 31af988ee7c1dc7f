/*
 * sb_hist.c -- a log-linear histogram for latencies, after HdrHistogram
 * (Gil Tene), with the bucket layout fixed at compile time.
 *
 * Data model. SUB = 2^SUB_BITS = 128. A value v < 2*SUB = 256 has bucket v
 * (exact). Above, with m = floor(log2 v) >= 8 and shift = m - SUB_BITS, the
 * bucket is (m - SUB_BITS) * SUB + (v >> shift): the top SUB_BITS+1 bits of v
 * (in [SUB, 2*SUB)) select one of SUB equal buckets of width 2^shift in
 * [2^m, 2^(m+1)). Indexes are contiguous: m = 8 gives 256..383, m = 9 gives
 * 384..511, ..., m = 63 gives up to 58 * 128 - 1 = 7423, so SB_HIST_BUCKETS =
 * 7424 counters (58 KB) cover every uint64_t.
 *
 * Invariants:
 *   1. width(i) / low(i) <= 1 / SUB for every bucket above 255, so the
 *      midpoint is within 1 / (2 * SUB) = 0.39% of every value it stands for.
 *   2. low(index(v)) <= v < low(index(v)) + width(index(v)).
 *   3. count equals the sum of the buckets once the writer is quiet.
 *
 * Threads: one writer per histogram (sb_hist_record, sb_hist_merge into it);
 * readers anywhere, through relaxed atomics (see sb.h).
 */
#include "sb.h"

#include <string.h>

void sb_hist_init(struct sb_hist *h)
{
    memset(h, 0, sizeof(*h));
    atomic_store_explicit(&h->min, UINT64_MAX, memory_order_relaxed);
}

unsigned sb_hist_index(uint64_t v)
{
    if (v < 2 * SB_HIST_SUB)
        return (unsigned)v;
    unsigned m = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = m - SB_HIST_SUB_BITS;
    return shift * SB_HIST_SUB + (unsigned)(v >> shift);
}

uint64_t sb_hist_low(unsigned i)
{
    if (i < 2 * SB_HIST_SUB)
        return i;
    unsigned shift = i / SB_HIST_SUB - 1;
    uint64_t sub = i % SB_HIST_SUB + SB_HIST_SUB;
    return sub << shift;
}

uint64_t sb_hist_width(unsigned i)
{
    if (i < 2 * SB_HIST_SUB)
        return 1;
    return 1ULL << (i / SB_HIST_SUB - 1);
}

void sb_hist_record(struct sb_hist *h, uint64_t v)
{
    sb_inc(&h->b[sb_hist_index(v)], 1);
    sb_inc(&h->count, 1);
    sb_inc(&h->sum, v);
    if (v < sb_get(&h->min))
        atomic_store_explicit(&h->min, v, memory_order_relaxed);
    if (v > sb_get(&h->max))
        atomic_store_explicit(&h->max, v, memory_order_relaxed);
}

void sb_hist_merge(struct sb_hist *dst, const struct sb_hist *src)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < SB_HIST_BUCKETS; i++) {
        uint64_t c = sb_get(&src->b[i]);
        if (c) {
            sb_inc(&dst->b[i], c);
            total += c;
        }
    }
    /* the buckets, not src->count, so that count matches them (invariant 3)
     * even when src is being written */
    sb_inc(&dst->count, total);
    sb_inc(&dst->sum, sb_get(&src->sum));
    if (total) {
        uint64_t mn = sb_get(&src->min), mx = sb_get(&src->max);
        if (mn < sb_get(&dst->min))
            atomic_store_explicit(&dst->min, mn, memory_order_relaxed);
        if (mx > sb_get(&dst->max))
            atomic_store_explicit(&dst->max, mx, memory_order_relaxed);
    }
}

uint64_t sb_hist_percentile(const struct sb_hist *h, double q)
{
    uint64_t count = sb_get(&h->count);
    if (count == 0)
        return 0;
    if (q < 0)
        q = 0;
    if (q > 100)
        q = 100;
    double t = (double)count * q / 100.0;
    uint64_t target = (uint64_t)t;
    if ((double)target < t)
        target++;
    if (target == 0)
        target = 1;
    uint64_t mn = sb_get(&h->min), mx = sb_get(&h->max);
    uint64_t cum = 0;
    for (unsigned i = 0; i < SB_HIST_BUCKETS; i++) {
        cum += sb_get(&h->b[i]);
        if (cum >= target) {
            uint64_t v = sb_hist_low(i) + sb_hist_width(i) / 2;
            if (v < mn)
                v = mn;
            if (v > mx)
                v = mx;
            return v;
        }
    }
    return mx; /* a writer ran ahead of count: the buckets hold fewer */
}
