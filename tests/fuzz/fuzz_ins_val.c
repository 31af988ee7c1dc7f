/*
 * fuzz_ins_val.c -- libFuzzer harness for strata-inspect's value decoder and
 * printers over arbitrary snapshot items (tools/ins_src.c's snapshot walk,
 * tools/ins_val.c): every key of the input snapshot is decoded (hot:
 * serial_decode; cold: the record's type, dictionary, zstd, serial_decode)
 * and printed in every shape, and hashed (insfuzz.h).
 *
 * The first input byte chooses a mode, the rest is the file (as
 * fuzz_snap.c): bit 0 recomputes every CRC (snapfix.h), bit 1 also the
 * footer's counts, so mutations of hot values and cold records get past the
 * checksums and reach the decoders. Seeds: the .sts files of tests/fixtures and a small
 * snapshot made by inspect_gen (tests/fuzz/run.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "insfuzz.h"
#include "snapfix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
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
    snprintf(path, sizeof(path), "%s/in.sts", insfuzz_dir());
    insfuzz_write(path, f, size);
    insfuzz_run(path, SRC_SNAP, size);
    free(f);
    return 0;
}
