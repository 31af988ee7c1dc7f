/*
 * fuzz_ins_pool.c -- libFuzzer harness for strata-inspect's PMem pool scanner
 * (tools/ins_pool.c): the input is the object area of a pool file, placed by
 * the harness after a valid pool header (the "PMEMOBJ" signature, the
 * strata-ptier-1 layout name at 4096) at offset 8192; every record found is
 * decoded and printed (insfuzz.h).
 *
 * The first input byte chooses a mode: bit 0 recomputes the CRC of every
 * "STR1" record and "STD1" dictionary whose declared length fits, at every
 * 16-aligned offset, so mutations reach the decoders behind the CRCs.
 * Seeds: slices of a pool made by inspect_gen through tiers/pmem.c
 * (tests/fuzz/run.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/crc32c.h"
#include "insfuzz.h"

#define AREA 8192u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t r32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void w32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
    p[3] = (unsigned char)(v >> 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    if (size < 1)
        return 0;
    int mode = data[0];
    size--;
    size_t n = AREA + size;
    unsigned char *f = calloc(1, n);
    if (!f)
        return 0;
    memcpy(f, "PMEMOBJ", 8);
    memcpy(f + 4096, "strata-ptier-1", 15);
    memcpy(f + AREA, data + 1, size);
    if (mode & 1) {
        for (size_t off = AREA; off + 16 <= n; off += 16) {
            uint32_t m = r32(f + off);
            if (m == 0x31525453u && n - off >= 44) {
                uint64_t end = 44 + (uint64_t)r32(f + off + 24) + r32(f + off + 28);
                if (end <= n - off)
                    w32(f + off + 4, crc32c(0, f + off + 8, (size_t)end - 8));
            } else if (m == 0x31445453u) {
                uint64_t end = 16 + (uint64_t)r32(f + off + 12);
                if (end <= n - off)
                    w32(f + off + 4, crc32c(0, f + off + 8, (size_t)end - 8));
            }
        }
    }
    snprintf(path, sizeof(path), "%s/in.pool", insfuzz_dir());
    insfuzz_write(path, f, n);
    insfuzz_run(path, SRC_POOL, n);
    free(f);
    return 0;
}
