/*
 * persist_testutil.h -- helpers shared by the tests of the durable formats
 * (test_snap.c, test_aof.c): a private temporary directory, whole-file
 * read/write, and an allocation tracker (malloc, calloc and realloc
 * interposed in the test executable, as test_serial.c does) that records the
 * largest request and can fail the n-th one.
 *
 * Include it from exactly one .c file per executable (it defines malloc).
 */
#ifndef STRATA_PERSIST_TESTUTIL_H
#define STRATA_PERSIST_TESTUTIL_H

#include <dlfcn.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- allocation tracking ----------------------------------------------- */

static int tu_armed;
static long tu_fail_skip, tu_fail_n, tu_allocs;
static size_t tu_max_alloc;
static void *(*tu_real_malloc)(size_t);
static void *(*tu_real_calloc)(size_t, size_t);
static void *(*tu_real_realloc)(void *, size_t);
static int tu_resolving;
static unsigned char tu_boot_buf[4096];
static size_t tu_boot_used;

static void *tu_boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (tu_boot_used + n > sizeof(tu_boot_buf))
        return NULL;
    void *p = tu_boot_buf + tu_boot_used;
    tu_boot_used += n;
    return p;
}

static void tu_resolve(void)
{
    if (tu_real_malloc && tu_real_calloc && tu_real_realloc)
        return;
    tu_resolving = 1;
    tu_real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    tu_real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    tu_real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    tu_resolving = 0;
}

static int tu_should_fail(size_t n)
{
    if (!tu_armed)
        return 0;
    tu_allocs++;
    if (n > tu_max_alloc)
        tu_max_alloc = n;
    if (tu_fail_skip > 0) {
        tu_fail_skip--;
        return 0;
    }
    if (tu_fail_n == 0)
        return 0;
    tu_fail_n--;
    return 1;
}

void *malloc(size_t n);
void *calloc(size_t n, size_t sz);
void *realloc(void *p, size_t n);

void *malloc(size_t n)
{
    if (tu_resolving)
        return tu_boot_alloc(n);
    tu_resolve();
    return tu_should_fail(n) ? NULL : tu_real_malloc(n);
}

void *calloc(size_t n, size_t sz)
{
    if (tu_resolving) {
        void *p = tu_boot_alloc(n * sz);
        if (p)
            memset(p, 0, n * sz);
        return p;
    }
    tu_resolve();
    return tu_should_fail(n * sz) ? NULL : tu_real_calloc(n, sz);
}

void *realloc(void *p, size_t n)
{
    tu_resolve();
    return tu_should_fail(n) ? NULL : tu_real_realloc(p, n);
}

/* Starts tracking; with fail_after >= 0 the allocation after that many
 * successful ones fails (just that one). */
static void tu_track(long fail_after)
{
    tu_allocs = 0;
    tu_max_alloc = 0;
    tu_fail_skip = fail_after;
    tu_fail_n = fail_after >= 0 ? 1 : 0;
    tu_armed = 1;
}

/* Stops tracking; returns 1 when the armed failure happened. */
static int tu_untrack(void)
{
    tu_armed = 0;
    return tu_fail_n == 0 && tu_fail_skip == 0 && tu_allocs > 0;
}

/* ---- files --------------------------------------------------------------- */

static int tu_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Makes a fresh private directory into dir (cap bytes). */
static void tu_mkdtemp(char *dir, size_t cap, const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, cap, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    if (!mkdtemp(dir))
        abort();
}

static void tu_rmtree(const char *dir)
{
    nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The whole file: a malloc'd copy in *out, its size in *len; -1 when missing. */
static int tu_slurp(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    *out = NULL;
    *len = 0;
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(*out, 1, (size_t)n, f);
    fclose(f);
    return 0;
}

static void tu_spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (len && fwrite(data, 1, len, f) != len)
        abort();
    fclose(f);
}

static uint32_t tu_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t tu_le64(const unsigned char *p)
{
    return (uint64_t)tu_le32(p) | (uint64_t)tu_le32(p + 4) << 32;
}

static void tu_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void tu_put64(unsigned char *p, uint64_t v)
{
    tu_put32(p, (uint32_t)v);
    tu_put32(p + 4, (uint32_t)(v >> 32));
}

#endif
