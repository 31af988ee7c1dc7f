/*
 * fuzz_snap.c -- libFuzzer harness for the snapshot reader (engine/snap.c):
 * snap_reader_open / snap_next / snap_cold_data in both modes, and
 * snap_verify, over arbitrary bytes served by an in-memory vfs.
 *
 * The first input byte chooses a mode, the rest is the file:
 *   bit 0  recompute every CRC the structure leads to (header, each block's
 *          hcrc, crc_a, crc_b as far as the declared lengths fit, the
 *          footer's chained CRCs and its own), so mutations get past the
 *          checksums and reach the structure checks behind them;
 *   bit 1  also make the footer's counts and offset agree with the blocks.
 * The fix-up is written here, independently of snap.c.
 *
 * What it checks: no crash, no sanitizer report, no leak, no hang; an item
 * is only ever returned with lengths inside the file; a clean end implies
 * snap_verify agrees the file is whole. Seeds: tests/fixtures/snap-v1.sts
 * (tests/fuzz/run.sh prefixes the mode byte).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/crc32c.h"
#include "engine/err.h"
#include "engine/snap.h"
#include "memvfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
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

static void fixup(unsigned char *f, size_t n, int counts)
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

static int read_all(const struct vfs *v, unsigned flags, size_t size)
{
    struct snap_reader *r;
    struct snap_meta m;
    struct snap_item it;
    uint64_t n = 0;
    int rc = snap_reader_open(v, "/fuzz/snap", flags, &r, &m);

    while (rc == ST_OK && (rc = snap_next(r, &it)) == ST_OK) {
        if (it.klen > size || it.vlen > size)
            abort(); /* an item longer than the file: impossible if the checks hold */
        if (it.kind == SNAP_COLD && (!(flags & SNAP_SKIP_COLD_DATA) || (n & 1))) {
            const void *rec;
            size_t len;
            int c = snap_cold_data(r, &it, &rec, &len);
            if (c == ST_OK && (len != it.reclen || len > size))
                abort();
            if (c != ST_OK && c != ST_ECORRUPT)
                abort();
        }
        n++;
    }
    if (r) {
        uint64_t off;
        const char *what;
        snap_reader_error(r, &off, &what);
        if (rc != ST_ENOENT && rc != ST_ENOMEM && (!what || off > size))
            abort();
        snap_reader_close(&r);
    }
    return rc;
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
    const struct vfs *v = memvfs_init(&mv, "/fuzz/snap", f, size);
    int whole = read_all(v, 0, size);
    read_all(v, SNAP_SKIP_COLD_DATA, size);
    struct snap_report rep;
    int vr = snap_verify(v, "/fuzz/snap", &rep);
    if (whole == ST_ENOENT && vr != ST_OK)
        abort(); /* the reader accepted what the verifier refuses */
    if (vr == ST_OK && whole != ST_ENOENT)
        abort();
    free(f);
    return 0;
}
