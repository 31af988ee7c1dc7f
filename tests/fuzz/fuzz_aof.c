/*
 * fuzz_aof.c -- libFuzzer harness for the append-log reader (engine/aof.c):
 * aof_reader_open / aof_next / aof_reader_damage / aof_reader_resume over
 * arbitrary bytes served by an in-memory vfs.
 *
 * The first input byte chooses a mode, the rest is the file:
 *   bit 0  recompute the header CRC and each record's CRC as far as the
 *          declared lengths fit (written here, independently of aof.c), so
 *          mutations reach the structure checks behind the checksums;
 *   bit 1  also set each record's offset field to its place in the file.
 *
 * What it checks: no crash, no sanitizer report, no leak, no hang; records
 * only with arguments inside the file, offsets increasing; damage reports
 * with positions inside the file, a next record after the damage. Seeds:
 * tests/fixtures/aof-v1.log (tests/fuzz/run.sh prefixes the mode byte).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/aof.h"
#include "engine/crc32c.h"
#include "engine/err.h"
#include "memvfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16),
    p[3] = (unsigned char)(v >> 24);
}

static void wr64(unsigned char *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static void fixup(unsigned char *f, size_t n, int offsets)
{
    if (n < 64)
        return;
    wr32(f + 60, crc32c(0, f, 60));
    uint64_t start = rd64(f + 16);
    for (size_t pos = 64; pos + 12 <= n;) {
        uint64_t len = rd32(f + pos + 4);
        if (len > n - pos - 12)
            break;
        if (offsets && len >= 8)
            wr64(f + pos + 12, start + pos - 64);
        wr32(f + pos + 8, crc32c(crc32c(0, f + pos + 4, 4), f + pos + 12, len));
        pos += 12 + len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0];
    size--;
    unsigned char *f = malloc(size ? size : 1);
    if (!f)
        return 0;
    memcpy(f, data + 1, size);
    if (mode & 1)
        fixup(f, size, mode & 2);
    struct memvfs mv;
    const struct vfs *v = memvfs_init(&mv, "/fuzz/aof", f, size);
    struct aof_reader *r;
    struct aof_meta m;
    struct aof_rec rec;
    int rc = aof_reader_open(v, "/fuzz/aof", &r, &m), resumes = 0;
    uint64_t last = 0;
    int first = 1;
    for (;;) {
        while (rc == ST_OK && (rc = aof_next(r, &rec)) == ST_OK) {
            if ((!first && rec.offset <= last) || rec.end_offset <= rec.offset || rec.argc == 0)
                abort();
            for (uint32_t i = 0; i < rec.argc; i++)
                if (rec.argvlen[i] > size || (rec.argvlen[i] && !rec.argv[i]))
                    abort();
            last = rec.offset;
            first = 0;
        }
        if (rc != ST_ECORRUPT || !r)
            break;
        struct aof_damage d;
        aof_reader_damage(r, &d);
        if (d.pos > size || !d.what)
            abort();
        if (d.kind == AOF_DAMAGED && d.next_pos && (d.next_pos <= d.pos || d.next_pos >= size))
            abort();
        if (d.kind != AOF_DAMAGED || resumes++ > 64 || aof_reader_resume(r) != ST_OK)
            break;
        rc = ST_OK;
    }
    aof_reader_close(&r);
    free(f);
    return 0;
}
