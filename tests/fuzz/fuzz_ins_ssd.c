/*
 * fuzz_ins_ssd.c -- libFuzzer harness for strata-inspect's SSD directory
 * reader (tools/ins_ssdd.c: segment headers, entries, the attach rules, the
 * records inside PUTs): the input becomes the entries of two segment files
 * behind valid headers the harness writes -- a PUT segment of the class the
 * second byte names (seq 1) and, after the first "NOTESSEG" marker, a notes
 * segment (seq 2) -- and every current key is decoded and printed
 * (insfuzz.h).
 *
 * The first input byte chooses a mode: bit 0 recomputes the CRC of every
 * "SENT" entry whose declared length fits, at every 8-aligned offset, and
 * of the STR1 record inside a PUT, and sets its seg_seq_lo, so mutations
 * reach the rules and decoders behind the checks. Seeds: the segments of a
 * directory made by inspect_gen through tiers/ssd.c (tests/fuzz/run.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/crc32c.h"
#include "insfuzz.h"
#include "tiers/ssd_fmt.h"

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

static void fix(unsigned char *b, size_t n, uint64_t seq)
{
    for (size_t off = SFMT_HDR_SIZE; off + SFMT_ENT_HDR <= n; off += 8) {
        unsigned char *e = b + off;
        if (r32(e) != SFMT_ENT_MAGIC)
            continue;
        uint32_t len = r32(e + 8);
        if (len < SFMT_ENT_HDR || len > n - off)
            continue;
        w32(e + 24, (uint32_t)seq);
        if (e[12] == SFMT_PUT && len >= SFMT_ENT_HDR + 44) {
            unsigned char *r = e + SFMT_ENT_HDR;
            uint64_t end = 44 + (uint64_t)r32(r + 24) + r32(r + 28);
            if (end <= len - SFMT_ENT_HDR)
                w32(r + 4, crc32c(0, r + 8, (size_t)end - 8));
        }
        w32(e + 4, crc32c(0, e + 8, len - 8));
    }
}

static void segment(const char *dir, uint64_t seq, uint32_t cls, const unsigned char *p, size_t n, int mode)
{
    char path[600], name[SFMT_NAME_MAX];
    struct sfmt_seg_hdr h = {.seq = seq, .created_ms = 1, .segment_size = SFMT_SEG_MIN, .cls = cls};
    if (n > SFMT_SEG_MIN - SFMT_HDR_SIZE)
        n = SFMT_SEG_MIN - SFMT_HDR_SIZE;
    unsigned char *b = calloc(1, SFMT_HDR_SIZE + n);
    if (!b)
        abort();
    sfmt_seg_hdr_encode(&h, b);
    memcpy(b + SFMT_HDR_SIZE, p, n);
    if (mode & 1)
        fix(b, SFMT_HDR_SIZE + n, seq);
    sfmt_seg_name(name, seq);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    insfuzz_write(path, b, SFMT_HDR_SIZE + n);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[512];
    if (size < 2)
        return 0;
    int mode = data[0];
    uint32_t cls = data[1] % (SFMT_NCLASSES - 1);
    const unsigned char *p = data + 2;
    size_t n = size - 2, n1 = n;
    const unsigned char *mark = memmem(p, n, "NOTESSEG", 8);
    snprintf(dir, sizeof(dir), "%s/ssd", insfuzz_dir());
    mkdir(dir, 0700);
    if (mark)
        n1 = (size_t)(mark - p);
    segment(dir, 1, cls, p, n1, mode);
    char seg2[600];
    snprintf(seg2, sizeof(seg2), "%s/seg-0000000000000002.dat", dir);
    if (mark)
        segment(dir, 2, SFMT_CLASS_NOTES, mark + 8, n - n1 - 8, mode);
    else
        unlink(seg2);
    insfuzz_run(dir, SRC_SSD, size + 2 * SFMT_HDR_SIZE);
    return 0;
}
