/*
 * insfuzz.h -- what the strata-inspect fuzz harnesses (fuzz_ins_*.c) share:
 * a scratch directory of their own (the inspect readers read real files,
 * opened O_RDONLY, so the input is written to a file first), and a walk that
 * does with every key what the subcommands do: decode its value and print it
 * in every shape (redis-cli lines, JSON, RESP) into memory sinks, and hash
 * it. Checks: no crash, no sanitizer report, no leak; every key and value
 * lies within the input's size; a value that decodes prints and hashes.
 */
#ifndef STRATA_INSFUZZ_H
#define STRATA_INSFUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/err.h"
#include "tools/ins.h"

struct insfuzz {
    struct ins_ctx cx;
    struct out sink;
    struct src *s;
    size_t size;
    uint64_t keys;
};

/* A per-process scratch directory under $INSFUZZ_DIR (run.sh makes one), else /dev/shm or TMPDIR. */
static inline const char *insfuzz_dir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *base = getenv("INSFUZZ_DIR");
        if (!base || !*base)
            base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(dir, sizeof(dir), "%s/strata-insfuzz-%d", base, (int)getpid());
        if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0)
            abort();
    }
    return dir;
}

static inline void insfuzz_write(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n))
        abort();
    fclose(f);
}

static inline int insfuzz_key(void *ud, const struct src_key *k)
{
    struct insfuzz *z = ud;
    struct entry *e = NULL;
    const char *why = NULL;

    z->keys++;
    if (k->klen > z->size || (!k->cold && k->serlen > z->size) || (k->has_rec && k->reclen > z->size))
        abort(); /* longer than the input: impossible if the checks hold */
    out_quoted(&z->sink, k->key, k->klen, 0);
    out_json_bytes(&z->sink, k->key, k->klen);
    int rc = src_value(z->s, k, &e, &why);
    if (rc == ST_OK) {
        struct val_hash h;
        val_print_cli(&z->sink, e);
        val_print_json(&z->sink, e);
        val_print_resp(&z->sink, e, 7, 1);
        if (val_hash(e, &h) != ST_OK)
            abort();
        cmd_json_key(&z->sink, k, e);
        entry_destroy(e);
    } else if (e || !why) {
        abort(); /* a refusal always says why and leaves nothing behind */
    }
    if (z->sink.mlen > (1u << 20))
        z->sink.mlen = 0; /* keep the sink small */
    return 0;
}

static inline int insfuzz_damage(void *ud, const char *where, uint64_t off, const char *what)
{
    struct insfuzz *z = ud;
    if (!what || off > z->size + 4096)
        abort();
    (void)where;
    return 0;
}

/* Opens path as kind and walks it twice (with and without cold data). */
static inline void insfuzz_run(const char *path, int kind, size_t size)
{
    struct insfuzz z = {.size = size};
    struct type_limits lim = TYPE_LIMITS_DEFAULT;
    const char *why = NULL;

    z.cx.err = stderr;
    z.cx.now_ms = 1800000000000ll;
    z.cx.lim = lim;
    z.cx.max_value = 64u << 20;
    out_init_mem(&z.sink);
    z.cx.out = &z.sink;
    int rc = src_open(&z.cx, path, kind, &z.s, &why);
    if (rc == ST_OK) {
        struct src_cbs cbs = {.key = insfuzz_key, .damage = insfuzz_damage, .ud = &z};
        src_each(z.s, SRC_WITH_DATA, &cbs);
        struct src_cbs cbs2 = {.damage = insfuzz_damage, .ud = &z};
        src_each(z.s, 0, &cbs2);
    } else if (rc != ST_ECORRUPT && z.s) {
        abort(); /* only a damaged input comes back with a source */
    }
    src_close(&z.s);
    out_fini(&z.sink);
}

#endif
