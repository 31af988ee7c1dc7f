/*
 * test_faultfs.c -- unit tests for tests/crash/faultfs.c, the fault-injection
 * file system the crash tests stand on (so its model is tested like code).
 *
 * What is protected: calls pass through (the code under test reads what it
 * wrote); sync and sync_dir make changes survive every crash mode; every
 * keep/drop combination of overlapping writes and truncations gives exactly
 * the bytes a forward replay of the kept changes over the durable file gives
 * (a model in this file); tears keep a sector-aligned prefix; creations,
 * renames over an existing file and unlinks are undone as a prefix and
 * restore what they replaced; failures are injected at the chosen call and
 * "crash now" stops everything after it; handles open across a crash are
 * stale; paths outside the root are refused; list shows the directory as
 * the code under test left it (or as a crash restored it), never faultfs's
 * own backups, and its callback may call the vfs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/vfs.h"
#include "faultfs.h"

struct ctx {
    char root[256];
    struct faultfs *fs;
    const struct vfs *v;
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));
    const char *tmp = getenv("TMPDIR");
    snprintf(c->root, sizeof(c->root), "%s/faultfs.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(c->root));
    assert_int_equal(faultfs_create(c->root, &c->fs), ST_OK);
    c->v = faultfs_vfs(c->fs);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    faultfs_destroy(&c->fs);
    assert_null(c->fs);
    nftw(c->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(c);
    return 0;
}

static void path_of(const struct ctx *c, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", c->root, name);
}

/* The real file's bytes: *len and a malloc'd copy (NULL with len 0 when missing: returns -1). */
static int slurp(const char *path, unsigned char **out, size_t *len)
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

static void put_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int count_backups(const struct ctx *c)
{
    int n = 0;
    DIR *d = opendir(c->root);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, ".faultfs-", 9) == 0)
            n++;
    closedir(d);
    return n;
}

static void test_faultfs_calls_pass_through_and_read_back(void **state)
{
    struct ctx *c = *state;
    char p[300];
    unsigned char buf[16];

    path_of(c, "f", p, sizeof(p));
    int h = vfs_open(c->v, p, O_RDWR | O_CREAT, 0, 0644, NULL);
    assert_true(h >= 0);
    assert_int_equal(vfs_pwrite_all(c->v, h, "hello world", 11, 0), 0);
    assert_int_equal(vfs_pread_full(c->v, h, buf, sizeof(buf), 0), 11);
    assert_memory_equal(buf, "hello world", 11);
    assert_int_equal(c->v->ops->size(c->v, h), 11);
    assert_int_equal(c->v->ops->truncate(c->v, h, 5), 0);
    assert_int_equal(c->v->ops->size(c->v, h), 5);
    assert_int_equal(vfs_sync(c->v, h), 0);
    assert_int_equal(vfs_close(c->v, h), 0);
    /* read-only handles refuse writes, O_EXCL refuses an existing file */
    h = vfs_open(c->v, p, O_RDONLY, 0, 0, NULL);
    assert_true(h >= 0);
    assert_int_equal(c->v->ops->pwrite(c->v, h, "x", 1, 0), -EBADF);
    assert_int_equal(vfs_close(c->v, h), 0);
    assert_int_equal(vfs_open(c->v, p, O_RDWR | O_CREAT | O_EXCL, 0, 0644, NULL), -EEXIST);
    assert_int_equal(vfs_close(c->v, 12345), -EBADF);
    char q[300];
    path_of(c, "missing", q, sizeof(q));
    assert_int_equal(vfs_open(c->v, q, O_RDONLY, 0, 0, NULL), -ENOENT);
}

static void test_faultfs_refuses_paths_outside_its_root(void **state)
{
    struct ctx *c = *state;
    char p[300];

    assert_int_equal(vfs_open(c->v, "/etc/passwd", O_RDONLY, 0, 0, NULL), -EPERM);
    snprintf(p, sizeof(p), "%s/../x", c->root);
    assert_int_equal(vfs_open(c->v, p, O_RDWR | O_CREAT, 0, 0644, NULL), -EPERM);
    snprintf(p, sizeof(p), "%sx/y", c->root); /* a sibling whose name starts with the root's */
    assert_int_equal(vfs_open(c->v, p, O_RDWR | O_CREAT, 0, 0644, NULL), -EPERM);
    assert_int_equal(c->v->ops->rename(c->v, "/tmp/a", "/tmp/b"), -EPERM);
    assert_int_equal(c->v->ops->unlink(c->v, "/tmp/a"), -EPERM);
    assert_int_equal(c->v->ops->sync_dir(c->v, "/"), -EPERM);
}

static void test_faultfs_synced_data_survives_every_mode(void **state)
{
    struct ctx *c = *state;
    char p[300];
    unsigned char *got;
    size_t len;

    path_of(c, "f", p, sizeof(p));
    for (int mode = FAULTFS_KEEP_ALL; mode <= FAULTFS_TEAR; mode++) {
        for (uint64_t seed = 0; seed < 20; seed++) {
            unlink(p);
            int h = vfs_open(c->v, p, O_RDWR | O_CREAT | O_TRUNC, 0, 0644, NULL);
            assert_true(h >= 0);
            assert_int_equal(vfs_pwrite_all(c->v, h, "durable!", 8, 0), 0);
            assert_int_equal(vfs_sync(c->v, h), 0);
            assert_int_equal(c->v->ops->sync_dir(c->v, c->root), 0);
            assert_int_equal(vfs_close(c->v, h), 0);
            size_t nf, nd;
            faultfs_pending(c->fs, &nf, &nd);
            assert_int_equal(nf, 0);
            assert_int_equal(nd, 0);
            assert_int_equal(faultfs_crash(c->fs, seed, (enum faultfs_mode)mode), ST_OK);
            assert_int_equal(slurp(p, &got, &len), 0);
            assert_int_equal(len, 8);
            assert_memory_equal(got, "durable!", 8);
            free(got);
        }
    }
}

static void test_faultfs_unsynced_changes_dropped_and_kept(void **state)
{
    struct ctx *c = *state;
    char p[300];
    unsigned char *got;
    size_t len;

    path_of(c, "f", p, sizeof(p));
    put_file(p, "0123456789", 10); /* durable: faultfs has not seen it change */
    for (int keep = 0; keep < 2; keep++) {
        int h = vfs_open(c->v, p, O_RDWR, 0, 0, NULL);
        assert_true(h >= 0);
        assert_int_equal(vfs_pwrite_all(c->v, h, "abc", 3, 4), 0); /* overwrite */
        assert_int_equal(vfs_pwrite_all(c->v, h, "XYZ", 3, 10), 0); /* append */
        assert_int_equal(faultfs_crash(c->fs, 1, keep ? FAULTFS_KEEP_ALL : FAULTFS_DROP_ALL), ST_OK);
        /* the handle died with the "process" */
        assert_int_equal(c->v->ops->pwrite(c->v, h, "q", 1, 0), -EIO);
        assert_int_equal(vfs_close(c->v, h), -EIO);
        assert_int_equal(slurp(p, &got, &len), 0);
        if (keep) {
            assert_int_equal(len, 13);
            assert_memory_equal(got, "0123abc789XYZ", 13);
        } else {
            assert_int_equal(len, 10);
            assert_memory_equal(got, "0123456789", 10);
        }
        free(got);
        put_file(p, "0123456789", 10);
    }
}

/* ---- the model: replaying the kept changes over the durable bytes ----- */

struct change {
    int trunc;
    uint64_t off; /* trunc: new size */
    const char *data;
};

static void model_apply(unsigned char *img, size_t *size, const struct change *ch)
{
    if (ch->trunc) {
        if (ch->off > *size)
            memset(img + *size, 0, ch->off - *size);
        *size = ch->off;
        return;
    }
    size_t n = strlen(ch->data);
    if (ch->off > *size)
        memset(img + *size, 0, ch->off - *size);
    memcpy(img + ch->off, ch->data, n);
    if (ch->off + n > *size)
        *size = ch->off + n;
}

static void test_faultfs_every_keep_mask_matches_the_replay_model(void **state)
{
    struct ctx *c = *state;
    char p[300];
    static const char durable[] = "DDDDDDDDDDDDDDDDDDDD"; /* 20 bytes */
    const struct change seqs[][6] = {
        /* overlapping overwrites and appends */
        {{0, 5, "aaaaaaaaaa"}, {0, 10, "bbbbbbbbbbbbbbb"}, {0, 30, "cccc"}, {0, 2, "dd"}, {0, 0, NULL}},
        /* a shrink between writes, a hole, a growth */
        {{0, 18, "eeeeee"}, {1, 8, NULL}, {0, 12, "ff"}, {1, 40, NULL}, {0, 41, "g"}, {0, 0, NULL}},
        /* O_TRUNC-like shrink to 0 first, then a rewrite */
        {{1, 0, NULL}, {0, 0, "hhhhhhhhhhhhhhhhhhhhhhhhh"}, {1, 10, NULL}, {0, 0, NULL}},
    };
    path_of(c, "m", p, sizeof(p));
    for (size_t s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++) {
        size_t n = 0;
        while (seqs[s][n].trunc || seqs[s][n].data)
            n++;
        for (uint64_t mask = 0; mask < (1u << n); mask++) {
            put_file(p, durable, 20);
            int h = vfs_open(c->v, p, O_RDWR, 0, 0, NULL);
            assert_true(h >= 0);
            for (size_t i = 0; i < n; i++) {
                if (seqs[s][i].trunc)
                    assert_int_equal(c->v->ops->truncate(c->v, h, seqs[s][i].off), 0);
                else
                    assert_int_equal(vfs_pwrite_all(c->v, h, seqs[s][i].data, strlen(seqs[s][i].data),
                                                    seqs[s][i].off),
                                     0);
            }
            size_t nf;
            faultfs_pending(c->fs, &nf, NULL);
            assert_int_equal(nf, n);
            assert_int_equal(faultfs_crash_plan(c->fs, mask, 0), ST_OK);
            vfs_close(c->v, h);

            unsigned char img[128];
            size_t size = 20;
            memcpy(img, durable, 20);
            for (size_t i = 0; i < n; i++)
                if (mask >> i & 1)
                    model_apply(img, &size, &seqs[s][i]);
            unsigned char *got;
            size_t len;
            assert_int_equal(slurp(p, &got, &len), 0);
            if (len != size || memcmp(got, img, size))
                print_error("sequence %zu, keep mask %#llx\n", s, (unsigned long long)mask);
            assert_int_equal(len, size);
            assert_memory_equal(got, img, size);
            free(got);
        }
    }
}

static void test_faultfs_random_change_sequences_match_the_replay_model(void **state)
{
    struct ctx *c = *state;
    char p[300];
    char data[7][40];
    struct change seq[7];
    uint64_t rnd = 12345;

    path_of(c, "r", p, sizeof(p));
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 7; i++) {
            rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t r = rnd >> 33;
            if (r % 4 == 0) {
                seq[i] = (struct change){1, r / 4 % 50, NULL};
            } else {
                size_t n = 1 + r / 4 % 30;
                memset(data[i], 'a' + i, n);
                data[i][n] = '\0';
                seq[i] = (struct change){0, r / 128 % 40, data[i]};
            }
        }
        for (uint64_t mask = 0; mask < 128; mask++) {
            put_file(p, "0123456789012345", 16);
            int h = vfs_open(c->v, p, O_RDWR, 0, 0, NULL);
            assert_true(h >= 0);
            for (int i = 0; i < 7; i++) {
                if (seq[i].trunc)
                    assert_int_equal(c->v->ops->truncate(c->v, h, seq[i].off), 0);
                else
                    assert_int_equal(vfs_pwrite_all(c->v, h, seq[i].data, strlen(seq[i].data), seq[i].off), 0);
            }
            assert_int_equal(faultfs_crash_plan(c->fs, mask, 0), ST_OK);
            vfs_close(c->v, h);
            unsigned char img[128], *got;
            size_t size = 16, len;
            memcpy(img, "0123456789012345", 16);
            for (int i = 0; i < 7; i++)
                if (mask >> i & 1)
                    model_apply(img, &size, &seq[i]);
            assert_int_equal(slurp(p, &got, &len), 0);
            if (len != size || memcmp(got, img, size))
                print_error("round %d, keep mask %#llx\n", round, (unsigned long long)mask);
            assert_int_equal(len, size);
            assert_memory_equal(got, img, size);
            free(got);
        }
    }
}

static void test_faultfs_tear_keeps_a_sector_aligned_prefix(void **state)
{
    struct ctx *c = *state;
    char p[300];
    unsigned char newb[5000];
    int seen_keep = 0, seen_drop = 0, seen_garbage = 0, seen_short = 0;

    memset(newb, 'n', sizeof(newb));
    path_of(c, "t", p, sizeof(p));
    for (uint64_t seed = 0; seed < 300; seed++) {
        put_file(p, "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo",
                 100);
        int h = vfs_open(c->v, p, O_RDWR, 0, 0, NULL);
        assert_true(h >= 0);
        assert_int_equal(vfs_pwrite_all(c->v, h, newb, sizeof(newb), 100), 0);
        assert_int_equal(faultfs_crash(c->fs, seed, FAULTFS_TEAR), ST_OK);
        vfs_close(c->v, h);
        unsigned char *got;
        size_t len;
        assert_int_equal(slurp(p, &got, &len), 0);
        for (size_t i = 0; i < 100; i++)
            assert_int_equal(got[i], 'o');
        size_t j = 100;
        while (j < len && got[j] == 'n')
            j++;
        if (len == 5100 && j == 5100) {
            seen_keep++;
        } else if (len == 100) {
            seen_drop++;
        } else if (len == 5100) {
            /* torn with garbage after a prefix ending on a sector boundary (a garbage
             * byte may equal 'n' by chance: allow a few) */
            size_t b = j < 512 ? 100 : j / 512 * 512;
            assert_true(j - b < 4);
            seen_garbage++;
        } else {
            /* torn, the rest the old (absent) bytes: the file ends at a sector boundary */
            assert_int_equal(len % 512, 0);
            assert_int_equal(j, len);
            seen_short++;
        }
        free(got);
    }
    assert_true(seen_keep > 0 && seen_drop > 0 && seen_garbage > 0 && seen_short > 0);
}

static void test_faultfs_directory_operations_need_sync_dir(void **state)
{
    struct ctx *c = *state;
    char a[300], tmp[300];
    unsigned char *got;
    size_t len;

    path_of(c, "a", a, sizeof(a));
    path_of(c, "a.tmp", tmp, sizeof(tmp));
    for (int mode = FAULTFS_KEEP_ALL; mode <= FAULTFS_DROP_ALL; mode++) {
        for (int dsync = 0; dsync < 2; dsync++) {
            unlink(tmp);
            put_file(a, "old", 3);
            int h = vfs_open(c->v, tmp, O_RDWR | O_CREAT | O_TRUNC, 0, 0644, NULL);
            assert_true(h >= 0);
            assert_int_equal(vfs_pwrite_all(c->v, h, "new!", 4, 0), 0);
            assert_int_equal(vfs_sync(c->v, h), 0);
            assert_int_equal(vfs_close(c->v, h), 0);
            assert_int_equal(c->v->ops->rename(c->v, tmp, a), 0);
            assert_int_equal(count_backups(c), 1); /* the replaced "a", kept until durable */
            if (dsync)
                assert_int_equal(c->v->ops->sync_dir(c->v, c->root), 0);
            assert_int_equal(faultfs_crash(c->fs, 7, (enum faultfs_mode)mode), ST_OK);
            assert_int_equal(count_backups(c), 0);
            assert_int_equal(slurp(a, &got, &len), 0);
            if (mode == FAULTFS_KEEP_ALL || dsync) {
                assert_int_equal(len, 4);
                assert_memory_equal(got, "new!", 4);
                assert_false(exists(tmp));
            } else {
                assert_int_equal(len, 3);
                assert_memory_equal(got, "old", 3);
                assert_false(exists(tmp)); /* its creation was not durable either */
            }
            free(got);
        }
    }
    /* an unlink comes back unless its directory was synced */
    for (int dsync = 0; dsync < 2; dsync++) {
        put_file(a, "keep me", 7);
        assert_int_equal(c->v->ops->unlink(c->v, a), 0);
        assert_false(exists(a));
        if (dsync)
            assert_int_equal(c->v->ops->sync_dir(c->v, c->root), 0);
        assert_int_equal(faultfs_crash(c->fs, 3, FAULTFS_DROP_ALL), ST_OK);
        assert_int_equal(exists(a), !dsync);
        assert_int_equal(count_backups(c), 0);
    }
}

static void test_faultfs_directory_operations_persist_as_a_prefix(void **state)
{
    struct ctx *c = *state;
    char x[300], y[300], z[300];
    int outcomes[4] = {0};

    path_of(c, "x", x, sizeof(x));
    path_of(c, "y", y, sizeof(y));
    path_of(c, "z", z, sizeof(z));
    for (uint64_t seed = 0; seed < 200; seed++) {
        unlink(x);
        unlink(y);
        put_file(z, "zz", 2);
        /* create x, rename x -> y, unlink z */
        int h = vfs_open(c->v, x, O_RDWR | O_CREAT, 0, 0644, NULL);
        assert_true(h >= 0);
        assert_int_equal(vfs_pwrite_all(c->v, h, "x", 1, 0), 0);
        assert_int_equal(vfs_sync(c->v, h), 0);
        assert_int_equal(vfs_close(c->v, h), 0);
        assert_int_equal(c->v->ops->rename(c->v, x, y), 0);
        assert_int_equal(c->v->ops->unlink(c->v, z), 0);
        assert_int_equal(faultfs_crash(c->fs, seed, FAULTFS_RANDOM), ST_OK);
        int ex = exists(x), ey = exists(y), ez = exists(z);
        int k = -1;
        if (!ex && !ey && ez)
            k = 0;
        else if (ex && !ey && ez)
            k = 1;
        else if (!ex && ey && ez)
            k = 2;
        else if (!ex && ey && !ez)
            k = 3;
        else
            fail_msg("not a prefix of the operations: x=%d y=%d z=%d", ex, ey, ez);
        outcomes[k]++;
    }
    for (int k = 0; k < 4; k++)
        assert_true(outcomes[k] > 0);
}

static void test_faultfs_injected_failures_and_crash_now(void **state)
{
    struct ctx *c = *state;
    char p[300];
    unsigned char *got;
    size_t len;

    path_of(c, "f", p, sizeof(p));
    int h = vfs_open(c->v, p, O_RDWR | O_CREAT, 0, 0644, NULL);
    assert_true(h >= 0);
    uint64_t before = faultfs_calls(c->fs, FAULTFS_OP_PWRITE);
    faultfs_fail_nth(c->fs, FAULTFS_OP_PWRITE, 2, 0);
    assert_int_equal(c->v->ops->pwrite(c->v, h, "a", 1, 0), 1);
    assert_int_equal(c->v->ops->pwrite(c->v, h, "b", 1, 1), -EIO);
    assert_int_equal(c->v->ops->pwrite(c->v, h, "c", 1, 1), 1);
    assert_int_equal(faultfs_calls(c->fs, FAULTFS_OP_PWRITE) - before, 3);
    assert_int_equal(slurp(p, &got, &len), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(got, "ac", 2);
    free(got);

    /* a failing sync, then "crash now" */
    faultfs_fail_nth(c->fs, FAULTFS_OP_SYNC, 1, 1);
    assert_int_equal(vfs_sync(c->v, h), -EIO);
    assert_true(faultfs_is_crashed(c->fs));
    unsigned char b;
    assert_int_equal(vfs_pread(c->v, h, &b, 1, 0), -EIO);
    assert_int_equal(vfs_open(c->v, p, O_RDONLY, 0, 0, NULL), -EIO);
    assert_int_equal(vfs_close(c->v, h), -EIO); /* released all the same */
    assert_int_equal(faultfs_crash(c->fs, 1, FAULTFS_KEEP_ALL), ST_OK);
    assert_false(faultfs_is_crashed(c->fs));

    /* crash after the 3rd mutating call: it happens, the 4th does not */
    h = vfs_open(c->v, p, O_RDWR, 0, 0, NULL);
    assert_true(h >= 0);
    faultfs_crash_after(c->fs, FAULTFS_OP_MUTATING, 3);
    assert_int_equal(c->v->ops->pwrite(c->v, h, "1", 1, 0), 1);
    assert_int_equal(vfs_pread(c->v, h, &b, 1, 0), 1); /* not a mutating call */
    assert_int_equal(c->v->ops->pwrite(c->v, h, "2", 1, 1), 1);
    assert_int_equal(vfs_sync(c->v, h), 0);
    assert_true(faultfs_is_crashed(c->fs));
    assert_int_equal(c->v->ops->pwrite(c->v, h, "3", 1, 2), -EIO);
    struct faultfs_stats st;
    faultfs_stats(c->fs, &st);
    assert_true(st.refused >= 1 && st.injected == 2);
    assert_int_equal(faultfs_crash(c->fs, 1, FAULTFS_DROP_ALL), ST_OK);
    assert_int_equal(vfs_close(c->v, h), -EIO); /* stale */
    assert_int_equal(slurp(p, &got, &len), 0);
    assert_int_equal(len, 2);
    assert_memory_equal(got, "12", 2);
    free(got);
}

/* ---- list ---------------------------------------------------------------- */

struct listed {
    char names[16][32];
    int n;
    int stop_at;                /* return 7 from this call on (1-based), 0 = never */
    const struct ctx *unlink_c; /* unlink each listed file through the vfs */
};

static int on_name(void *ud, const char *name)
{
    struct listed *l = ud;
    if (l->n < 16)
        snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
    l->n++;
    if (l->unlink_c) {
        char p[512];
        path_of(l->unlink_c, name, p, sizeof(p));
        assert_int_equal(l->unlink_c->v->ops->unlink(l->unlink_c->v, p), 0);
    }
    return l->stop_at && l->n >= l->stop_at ? 7 : 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Lists dir (under the root) and returns the names sorted, joined by spaces. */
static const char *list_of(const struct ctx *c, const char *dir, char *out, size_t cap)
{
    struct listed l = {0};
    char p[512];
    path_of(c, dir, p, sizeof(p));
    assert_int_equal(c->v->ops->list(c->v, p, on_name, &l), 0);
    assert_true(l.n <= 16);
    qsort(l.names, (size_t)l.n, sizeof(l.names[0]), cmp_name);
    out[0] = '\0';
    for (int i = 0; i < l.n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", l.names[i]);
    return out;
}

static void create_file(const struct ctx *c, const char *name)
{
    char p[512];
    path_of(c, name, p, sizeof(p));
    int h = vfs_open(c->v, p, O_RDWR | O_CREAT | O_EXCL, 0, 0644, NULL);
    assert_true(h >= 0);
    assert_int_equal(vfs_pwrite_all(c->v, h, name, strlen(name), 0), 0);
    assert_int_equal(vfs_sync(c->v, h), 0);
    assert_int_equal(vfs_close(c->v, h), 0);
}

static void test_faultfs_list_shows_the_directory_but_not_its_backups(void **state)
{
    struct ctx *c = *state;
    char buf[512], p[512], q[512];

    create_file(c, "a");
    create_file(c, "b");
    create_file(c, "d");
    path_of(c, "sub", p, sizeof(p));
    assert_int_equal(c->v->ops->mkdir(c->v, p, 0755), 0);
    create_file(c, "sub/c");
    assert_int_equal(c->v->ops->sync_dir(c->v, c->root), 0);
    assert_int_equal(c->v->ops->sync_dir(c->v, p), 0);
    assert_string_equal(list_of(c, "", buf, sizeof(buf)), "a b d sub");
    assert_string_equal(list_of(c, "sub", buf, sizeof(buf)), "c");

    /* an unlink and a rename over d leave backups in the root: not listed */
    path_of(c, "a", p, sizeof(p));
    assert_int_equal(c->v->ops->unlink(c->v, p), 0);
    path_of(c, "b", p, sizeof(p));
    path_of(c, "d", q, sizeof(q));
    assert_int_equal(c->v->ops->rename(c->v, p, q), 0);
    assert_int_equal(count_backups(c), 2);
    assert_string_equal(list_of(c, "", buf, sizeof(buf)), "d sub");

    /* the power loss undoes both: the listing shows what came back */
    assert_int_equal(faultfs_crash(c->fs, 1, FAULTFS_DROP_ALL), ST_OK);
    assert_int_equal(count_backups(c), 0);
    assert_string_equal(list_of(c, "", buf, sizeof(buf)), "a b d sub");
}

static void test_faultfs_list_stops_counts_and_refuses(void **state)
{
    struct ctx *c = *state;
    struct listed l = {0};
    char p[512];

    create_file(c, "x");
    create_file(c, "y");
    create_file(c, "z");

    /* a non-zero return of fn stops the walk and is the answer */
    l.stop_at = 2;
    assert_int_equal(c->v->ops->list(c->v, c->root, on_name, &l), 7);
    assert_int_equal(l.n, 2);

    /* fn may call the vfs (the names are read before it runs) */
    memset(&l, 0, sizeof(l));
    l.unlink_c = c;
    assert_int_equal(c->v->ops->list(c->v, c->root, on_name, &l), 0);
    assert_int_equal(l.n, 3);
    memset(&l, 0, sizeof(l));
    assert_int_equal(c->v->ops->list(c->v, c->root, on_name, &l), 0);
    assert_int_equal(l.n, 0);

    /* refused outside the root, -errno for a missing directory */
    assert_int_equal(c->v->ops->list(c->v, "/tmp", on_name, &l), -EPERM);
    path_of(c, "missing", p, sizeof(p));
    assert_int_equal(c->v->ops->list(c->v, p, on_name, &l), -ENOENT);

    /* counted as its own operation, not a mutating one */
    uint64_t before = faultfs_calls(c->fs, FAULTFS_OP_LIST);
    uint64_t mutating = faultfs_calls(c->fs, FAULTFS_OP_MUTATING);
    assert_int_equal(c->v->ops->list(c->v, c->root, on_name, &l), 0);
    assert_int_equal(faultfs_calls(c->fs, FAULTFS_OP_LIST), before + 1);
    assert_int_equal(faultfs_calls(c->fs, FAULTFS_OP_MUTATING), mutating);
    assert_true((FAULTFS_OP_LIST & FAULTFS_OP_ALL) && !(FAULTFS_OP_LIST & FAULTFS_OP_MUTATING));

    /* the fail plan reaches it, and after "crash now" it answers -EIO without calling fn */
    create_file(c, "w");
    memset(&l, 0, sizeof(l));
    faultfs_fail_nth(c->fs, FAULTFS_OP_LIST, 1, 0);
    assert_int_equal(c->v->ops->list(c->v, c->root, on_name, &l), -EIO);
    assert_int_equal(l.n, 0);
    faultfs_crash_now(c->fs);
    assert_int_equal(c->v->ops->list(c->v, c->root, on_name, &l), -EIO);
    assert_int_equal(l.n, 0);
    assert_int_equal(faultfs_crash(c->fs, 2, FAULTFS_KEEP_ALL), ST_OK);
    assert_int_equal(c->v->ops->list(c->v, c->root, on_name, &l), 0);
    assert_int_equal(l.n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_faultfs_calls_pass_through_and_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faultfs_refuses_paths_outside_its_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faultfs_synced_data_survives_every_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faultfs_unsynced_changes_dropped_and_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faultfs_every_keep_mask_matches_the_replay_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faultfs_random_change_sequences_match_the_replay_model, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_faultfs_tear_keeps_a_sector_aligned_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faultfs_directory_operations_need_sync_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faultfs_directory_operations_persist_as_a_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faultfs_injected_failures_and_crash_now, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faultfs_list_shows_the_directory_but_not_its_backups, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_faultfs_list_stops_counts_and_refuses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
