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
 * The fix-up (snapfix.h) is written independently of snap.c.
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
#include "snapfix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
        snapfix(f, size, mode & 2);
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
