/*
 * snapfix.h -- the CRC fix-up of the snapshot fuzz harnesses (fuzz_snap.c,
 * fuzz_ins_val.c): recompute every CRC the structure leads to (header, each
 * block's hcrc, crc_a, crc_b as far as the declared lengths fit, the footer's
 * chained CRCs and its own) and, with counts, the footer's counts and
 * offset, so mutations get past the checksums and reach the structure and
 * value checks behind them. Written independently of engine/snap.c.
 */
#ifndef STRATA_SNAPFIX_H
#define STRATA_SNAPFIX_H

#include <stddef.h>
#include <stdint.h>

#include "engine/crc32c.h"

static inline uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
    p[3] = (unsigned char)(v >> 24);
}

static inline void wr64(unsigned char *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static inline void snapfix(unsigned char *f, size_t n, int counts)
{
    if (n < 64)
        return;
    wr32(f + 60, crc32c(0, f, 60));
    size_t limit = n >= 128 ? n - 64 : n;
    uint32_t all = crc32c(0, f, 64), skel = all;
    uint64_t blocks = 0, hot = 0, cold = 0;
    size_t pos = 64;
    while (pos + 32 <= limit) {
        unsigned char *h = f + pos;
        uint64_t la = rd32(h + 12), lb = rd32(h + 16);
        if (pos + 32 + la + lb > limit)
            break;
        wr32(h + 20, crc32c(0, h + 32, la));
        wr32(h + 24, crc32c(0, h + 32 + la, lb));
        wr32(h + 28, crc32c(0, h, 28));
        all = crc32c(all, h, 32 + la + lb);
        skel = crc32c(skel, h, 32 + la);
        if (h[4] != 2)
            skel = crc32c(skel, h + 32 + la, lb);
        blocks++;
        if (h[4] == 1)
            hot += rd32(h + 8);
        else if (h[4] == 2)
            cold += rd32(h + 8);
        pos += 32 + la + lb;
    }
    if (n < 128)
        return;
    unsigned char *t = f + n - 64;
    if (counts) {
        wr64(t + 8, hot + cold);
        wr64(t + 16, hot);
        wr64(t + 24, cold);
        wr64(t + 32, blocks);
        wr64(t + 48, n - 64);
    }
    wr32(t + 40, all);
    wr32(t + 44, skel);
    wr32(t + 60, crc32c(0, t, 60));
}

#endif
