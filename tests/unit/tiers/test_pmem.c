/*
 * test_pmem.c -- unit tests for tiers/pmem.c, the PMem tier on libpmemobj.
 *
 * The shared engine/tier.h contract (tier_contract.h) on a fresh pool per
 * test, plus what is the PMem tier's own: a full pool (ST_EFULL, room again
 * after a delete), reopening keeps records, hints and dictionaries, files
 * that are not our pool are refused, records damaged in the pool (bytes
 * flipped through a second mapping while open, or in the file while closed)
 * are reported ST_ECORRUPT and counted, never returned, deletes cut short
 * are finished at open, hints at or past the pool's end, and two tiers side
 * by side.
 *
 * Pools live on tmpfs (/dev/shm) with PMEM_IS_PMEM_FORCE=1 and
 * PMEMOBJ_CONF=sds.at_create=0 (set in main before any PMDK call, and by
 * ctest). The sticky failed state needs libpmemobj to fail with something
 * other than ENOMEM: this file defines pmemobj_alloc itself (the tier's
 * static library binds to the executable's definition), passing calls on
 * to libpmemobj's unless a test sets alloc_fail_errno.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libpmemobj.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tier_contract.h"
#include "tiers/pmem.h"

#define POOL_SIZE (16u << 20)

/* ---- fault injection: pmemobj_alloc interposed ------------------------- */

static int alloc_fail_errno; /* test harness state: 0 = pass through */

int pmemobj_alloc(PMEMobjpool *pop, PMEMoid *oidp, size_t size, uint64_t type_num, pmemobj_constr constructor,
                  void *arg)
{
    typedef int alloc_fn(PMEMobjpool *, PMEMoid *, size_t, uint64_t, pmemobj_constr, void *);
    static alloc_fn *real;
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "pmemobj_alloc");
    if (alloc_fail_errno) {
        errno = alloc_fail_errno;
        return -1;
    }
    return real(pop, oidp, size, type_num, constructor, arg);
}

struct logcap {
    int n;
    int warnings;
    char last[512];
};

static void cap_log(void *ud, int level, const char *msg)
{
    struct logcap *c = ud;
    c->n++;
    if (level >= PTIER_LOG_WARNING)
        c->warnings++;
    snprintf(c->last, sizeof(c->last), "%s", msg);
}

static void pool_path(char *buf, size_t n)
{
    static int seq; /* test-local counter: one process, one thread */
    snprintf(buf, n, "/dev/shm/strata-test-pmem-%d-%d.pool", (int)getpid(), seq++);
    unlink(buf);
}

static int open_tier(const char *path, struct logcap *cap, struct tier **t)
{
    struct ptier_conf conf = {.path = path, .size = POOL_SIZE, .log = cap ? cap_log : NULL, .log_ud = cap};
    return ptier_create(&conf, t);
}

static int pmem_setup(void **state)
{
    struct tfix *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    pool_path(f->path, sizeof(f->path));
    if (open_tier(f->path, NULL, &f->t) != ST_OK)
        return -1;
    *state = f;
    return 0;
}

static int pmem_teardown(void **state)
{
    struct tfix *f = *state;
    tier_destroy(&f->t);
    assert_null(f->t);
    unlink(f->path);
    free(f);
    return 0;
}

/* A second, shared mapping of the pool file (tmpfs: the same pages). */
static unsigned char *map_file(const char *path, size_t *size)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    *size = (size_t)sb.st_size;
    void *m = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(m != MAP_FAILED);
    close(fd);
    return m;
}

static void test_pmem_full_pool_answers_efull_then_a_delete_makes_room(void **state)
{
    struct tier *t = fix_tier(state);
    uint64_t hints[400];
    char key[32];
    int n = 0;
    size_t len;
    uint64_t hint;

    for (;;) {
        assert_true(n < 400);
        snprintf(key, sizeof(key), "full:%d", n);
        void *rec = make_rec(key, (uint64_t)n + 1, 60000, &len);
        int rc = t->ops->put(t, rec, len, &hints[n], NULL);
        free(rec);
        if (rc == ST_EFULL)
            break;
        assert_int_equal(rc, ST_OK);
        n++;
    }
    assert_true(n > 50); /* a 16 MiB pool holds well over 3 MB of records */
    struct tier_stats s = stats_of(t);
    assert_int_equal(s.records, n);
    assert_int_equal(s.put_fails, 1);
    assert_int_equal(s.failed, 0);
    assert_true(s.used_bytes <= s.capacity_bytes);
    /* still full, still not failed; small records may or may not fit */
    snprintf(key, sizeof(key), "full:%d", n);
    void *again = make_rec(key, 1000, 60000, &len);
    assert_int_equal(t->ops->put(t, again, len, &hint, NULL), ST_EFULL);
    /* delete one: the same size fits again */
    snprintf(key, sizeof(key), "full:%d", 7);
    assert_int_equal(t->ops->del(t, key, strlen(key), 8, hints[7]), ST_OK);
    assert_int_equal(t->ops->put(t, again, len, &hint, NULL), ST_OK);
    free(again);
    snprintf(key, sizeof(key), "full:%d", n);
    expect_get(t, key, 1000, 60000, hint);
    for (int i = 0; i < n; i++) {
        if (i == 7)
            continue;
        snprintf(key, sizeof(key), "full:%d", i);
        expect_get(t, key, (uint64_t)i + 1, 60000, hints[i]);
    }
    s = stats_of(t);
    assert_int_equal(s.records, n);
    assert_int_equal(s.failed, 0);
}

static void test_pmem_reopen_keeps_records_hints_stats_and_dictionaries(void **state)
{
    struct tfix *f = *state;
    uint64_t h[30];
    char key[32];

    for (int i = 0; i < 30; i++) {
        snprintf(key, sizeof(key), "keep:%d", i);
        h[i] = put_ok(f->t, key, 500 + (uint64_t)i, (uint32_t)(i * 311 % 7000 + 1));
    }
    for (int i = 0; i < 30; i += 4) {
        snprintf(key, sizeof(key), "keep:%d", i);
        assert_int_equal(f->t->ops->del(f->t, key, strlen(key), 500 + (uint64_t)i, h[i]), ST_OK);
    }
    put_dict_ok(f->t, 9, 3000);
    put_dict_ok(f->t, 2, 10);
    struct tier_stats before = stats_of(f->t);
    tier_destroy(&f->t);

    struct logcap cap = {0};
    assert_int_equal(open_tier(f->path, &cap, &f->t), ST_OK);
    assert_int_equal(cap.warnings, 0);
    assert_non_null(strstr(cap.last, "opened"));
    struct tier_stats after = stats_of(f->t);
    assert_int_equal(after.records, before.records);
    assert_int_equal(after.records, 22);
    assert_int_equal(after.raw_bytes, before.raw_bytes);
    assert_int_equal(after.stored_bytes, before.stored_bytes);
    assert_int_equal(after.used_bytes, before.used_bytes);
    assert_int_equal(after.capacity_bytes, POOL_SIZE);
    assert_int_equal(after.errors, 0);
    assert_int_equal(after.puts, 0); /* operation counters are per process */
    for (int i = 0; i < 30; i++) {
        snprintf(key, sizeof(key), "keep:%d", i);
        if (i % 4 == 0)
            assert_int_equal(get_rc(f->t, key, 500 + (uint64_t)i, h[i]), ST_ENOENT);
        else
            expect_get(f->t, key, 500 + (uint64_t)i, (uint32_t)(i * 311 % 7000 + 1), h[i]);
    }
    struct visit_log v = {0};
    assert_int_equal(f->t->ops->iterate(f->t, visit_rec, &v), 0);
    assert_int_equal(v.n, 22);
    struct dict_log d = {.content_ok = 1};
    assert_int_equal(f->t->ops->each_dict(f->t, visit_dict, &d), 0);
    assert_int_equal(d.n, 2);
    assert_true(d.content_ok);
    unsigned char x = 0;
    assert_int_equal(f->t->ops->put_dict(f->t, 9, &x, 1), ST_EEXIST); /* the index was rebuilt */
}

static void test_pmem_files_that_are_not_our_pool_are_refused(void **state)
{
    (void)state;
    char path[256];
    struct logcap cap = {0};
    struct tier *t = NULL;

    /* another layout */
    pool_path(path, sizeof(path));
    PMEMobjpool *pop = pmemobj_create(path, "someone-else", POOL_SIZE, 0600);
    assert_non_null(pop);
    pmemobj_close(pop);
    assert_int_equal(open_tier(path, &cap, &t), ST_ECORRUPT);
    assert_null(t);
    assert_int_equal(cap.warnings, 1);
    assert_non_null(strstr(cap.last, path));
    assert_non_null(strstr(cap.last, "layout"));
    unlink(path);

    /* a text file */
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("not a pool\n", fp);
    fclose(fp);
    assert_int_equal(open_tier(path, &cap, &t), ST_ECORRUPT);
    assert_int_equal(cap.warnings, 2);
    /* an empty file */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(open_tier(path, &cap, &t), ST_ECORRUPT);
    unlink(path);

    /* a pool whose header was overwritten */
    assert_int_equal(open_tier(path, NULL, &t), ST_OK);
    tier_destroy(&t);
    size_t size;
    unsigned char *m = map_file(path, &size);
    memset(m, 0x5a, 4096);
    munmap(m, size);
    assert_int_equal(open_tier(path, &cap, &t), ST_ECORRUPT);
    assert_null(t);
    unlink(path);

    /* pools cut short (2 MiB: libpmemobj itself would fault on it) */
    static const off_t cuts[] = {2u << 20, 10u << 20};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        assert_int_equal(open_tier(path, NULL, &t), ST_OK);
        put_ok(t, "k", 1, 50000);
        tier_destroy(&t);
        assert_int_equal(truncate(path, cuts[i]), 0);
        /* In a child: libpmemobj 1.12 leaks ~7.8 MB of its own when
         * pmemobj_open fails on a truncated pool (reproduced without
         * Strata), which LeakSanitizer would pin on this test. */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct tier *ct = NULL;
            struct logcap ccap = {0};
            int crc = open_tier(path, &ccap, &ct);
            _exit(crc == ST_ECORRUPT && ct == NULL && ccap.warnings == 1 ? 0 : 1);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        unlink(path);
    }

    /* a pool open in another tier (libpmemobj's file lock) */
    struct tier *a = NULL;
    assert_int_equal(open_tier(path, NULL, &a), ST_OK);
    assert_int_equal(open_tier(path, &cap, &t), ST_EIO);
    assert_null(t);
    tier_destroy(&a);
    assert_int_equal(open_tier(path, NULL, &t), ST_OK); /* released on close */
    tier_destroy(&t);
    unlink(path);

    /* bad configuration */
    struct ptier_conf small = {.path = path, .size = 1u << 20, .log = cap_log, .log_ud = &cap};
    assert_int_equal(ptier_create(&small, &t), ST_EINVAL);
    assert_int_equal(access(path, F_OK), -1); /* nothing created */
    struct ptier_conf nopath = {.path = NULL, .size = POOL_SIZE};
    assert_int_equal(ptier_create(&nopath, &t), ST_EINVAL);
    assert_int_equal(ptier_create(NULL, &t), ST_EINVAL);
    struct ptier_conf dir = {.path = "/dev/shm/no-such-dir-strata/x.pool", .size = POOL_SIZE};
    assert_int_equal(ptier_create(&dir, &t), ST_EIO);
    assert_null(t);
}

static void test_pmem_record_damaged_in_the_pool_is_reported_and_never_returned(void **state)
{
    struct tfix *f = *state;
    struct logcap cap = {0};
    tier_destroy(&f->t);
    assert_int_equal(open_tier(f->path, &cap, &f->t), ST_OK);
    struct tier *t = f->t;
    uint64_t h = put_ok(t, "victim", 42, 500);
    uint64_t h2 = put_ok(t, "bystander", 43, 500);
    size_t size;
    unsigned char *m = map_file(f->path, &size);
    assert_true(h + 44 + 6 + 500 <= size);
    assert_memory_equal(m + h, "STR1", 4); /* the hint is the record's offset */

    /* a value byte flipped: CRC mismatch */
    m[h + 44 + 6 + 100] ^= 0x40;
    int before = cap.warnings;
    assert_int_equal(get_rc(t, "victim", 42, h), ST_ECORRUPT);
    struct tier_stats s = stats_of(t);
    assert_int_equal(s.errors, 1);
    assert_int_equal(s.misses, 1);
    assert_int_equal(s.hits, 0);
    assert_int_equal(cap.warnings, before + 1);
    assert_non_null(strstr(cap.last, "damaged"));
    /* a walk skips it and counts it */
    struct visit_log v = {0};
    assert_int_equal(t->ops->iterate(t, visit_rec, &v), 0);
    assert_int_equal(v.n, 1);
    assert_true(v.gens[0] == 43);
    assert_int_equal(stats_of(t).errors, 2);
    /* flipped back, it is whole again: the flip was the only problem */
    m[h + 44 + 6 + 100] ^= 0x40;
    expect_get(t, "victim", 42, 500, h);

    /* a header length grown by one: CRC mismatch, no read past the record's claim */
    m[h + 28] ^= 0x01;
    assert_int_equal(get_rc(t, "victim", 42, h), ST_ECORRUPT);
    m[h + 28] ^= 0x01;
    /* a length claiming far past the pool: a miss, no read past the pool */
    unsigned char save[4];
    memcpy(save, m + h + 28, 4);
    memset(m + h + 28, 0xff, 4);
    assert_int_equal(get_rc(t, "victim", 42, h), ST_ENOENT);
    assert_int_equal(t->ops->del(t, "victim", 6, 42, h), ST_ENOENT);
    memcpy(m + h + 28, save, 4);
    /* the CRC field itself */
    m[h + 5] ^= 0x01;
    assert_int_equal(get_rc(t, "victim", 42, h), ST_ECORRUPT);
    assert_int_equal(t->ops->del(t, "victim", 6, 42, h), ST_ENOENT); /* never frees a damaged record */
    m[h + 5] ^= 0x01;
    expect_get(t, "victim", 42, 500, h);
    expect_get(t, "bystander", 43, 500, h2);

    /* damaged while closed: dropped (logged, counted) at open */
    tier_destroy(&f->t);
    m[h + 44 + 6 + 499] ^= 0x01;
    munmap(m, size);
    cap = (struct logcap){0};
    assert_int_equal(open_tier(f->path, &cap, &f->t), ST_OK);
    t = f->t;
    s = stats_of(t);
    assert_int_equal(s.records, 1);
    assert_int_equal(s.errors, 1);
    assert_true(cap.warnings >= 1);
    assert_int_equal(get_rc(t, "victim", 42, h), ST_ENOENT);
    expect_get(t, "bystander", 43, 500, h2);
}

static void test_pmem_delete_cut_short_is_finished_at_open(void **state)
{
    struct tfix *f = *state;
    uint64_t h1 = put_ok(f->t, "one", 1, 100);
    uint64_t h2 = put_ok(f->t, "two", 2, 100);
    tier_destroy(&f->t);
    /* what a crash between "zero the magic" and "free" leaves */
    size_t size;
    unsigned char *m = map_file(f->path, &size);
    memset(m + h1, 0, 4);
    munmap(m, size);
    struct logcap cap = {0};
    assert_int_equal(open_tier(f->path, &cap, &f->t), ST_OK);
    struct tier_stats s = stats_of(f->t);
    assert_int_equal(s.records, 1);
    assert_int_equal(s.errors, 0);
    assert_int_equal(cap.warnings, 0);
    assert_int_equal(get_rc(f->t, "one", 1, h1), ST_ENOENT);
    expect_get(f->t, "two", 2, 100, h2);
    struct visit_log v = {0};
    assert_int_equal(f->t->ops->iterate(f->t, visit_rec, &v), 0);
    assert_int_equal(v.n, 1);
    /* and the space is really free: a reopen finds nothing more to free */
    tier_destroy(&f->t);
    cap = (struct logcap){0};
    assert_int_equal(open_tier(f->path, &cap, &f->t), ST_OK);
    assert_null(strstr(cap.last, "interrupted"));
    assert_int_equal(stats_of(f->t).records, 1);
}

static void test_pmem_delete_zeroes_the_magic_before_freeing(void **state)
{
    struct tfix *f = *state;
    uint64_t h = put_ok(f->t, "gone", 3, 1000);
    size_t size;
    unsigned char *m = map_file(f->path, &size);
    assert_memory_equal(m + h, "STR1", 4);
    assert_int_equal(f->t->ops->del(f->t, "gone", 4, 3, h), ST_OK);
    static const unsigned char zero[4] = {0};
    assert_memory_equal(m + h, zero, 4);
    assert_int_equal(get_rc(f->t, "gone", 3, h), ST_ENOENT);
    munmap(m, size);
}

/* del_at: a record known by its place, generation and CRC (the warm attach
 * frees what no snapshot named this way); anything else at that place, or
 * no record there, is left alone. */
static void test_pmem_del_at_frees_only_the_record_it_names(void **state)
{
    struct tfix *f = *state;
    uint64_t h = put_ok(f->t, "named", 7, 300);
    uint64_t other = put_ok(f->t, "other", 8, 300);
    size_t size;
    unsigned char *m = map_file(f->path, &size);
    uint32_t crc;
    memcpy(&crc, m + h + 4, sizeof(crc));
    assert_int_equal(f->t->ops->del_at(f->t, h, 6, crc), ST_ENOENT);       /* another generation */
    assert_int_equal(f->t->ops->del_at(f->t, h, 7, crc ^ 1), ST_ENOENT);   /* another CRC */
    assert_int_equal(f->t->ops->del_at(f->t, h + 16, 7, crc), ST_ENOENT);  /* not a record's place */
    assert_int_equal(f->t->ops->del_at(f->t, stats_of(f->t).capacity_bytes, 7, crc), ST_ENOENT);
    expect_get(f->t, "named", 7, 300, h);
    assert_int_equal(f->t->ops->del_at(f->t, h, 7, crc), ST_OK);
    assert_int_equal(get_rc(f->t, "named", 7, h), ST_ENOENT);
    assert_int_equal(f->t->ops->del_at(f->t, h, 7, crc), ST_ENOENT); /* gone: nothing twice */
    expect_get(f->t, "other", 8, 300, other);
    assert_int_equal(stats_of(f->t).records, 1);
    munmap(m, size);
}

static void test_pmem_hints_at_or_past_the_pool_end_miss(void **state)
{
    struct tier *t = fix_tier(state);
    uint64_t h = put_ok(t, "k", 1, 10);
    uint64_t sz = stats_of(t).capacity_bytes;
    const uint64_t wild[] = {sz, sz - 16, sz - 32, sz - 48, sz - 64, sz + 16, sz * 2, sz - 44, sz - 45};
    for (size_t i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
        assert_int_equal(get_rc(t, "k", 1, wild[i]), ST_ENOENT);
        assert_int_equal(t->ops->del(t, "k", 1, 1, wild[i]), ST_ENOENT);
    }
    /* every 16-aligned offset of the first 8 MiB (the pool's metadata,
     * lanes and heap) misses unless it is the record */
    for (uint64_t off = 0; off < (8u << 20); off += 16) {
        if (off == h)
            continue;
        void *buf = NULL;
        size_t len;
        assert_int_equal(t->ops->get(t, "k", 1, 1, off, &buf, &len, NULL), ST_ENOENT);
    }
    expect_get(t, "k", 1, 10, h);
    /* a dictionary object is not a record */
    put_dict_ok(t, 5, 100);
    struct tier_stats s = stats_of(t);
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.records, 1);
}

static void test_pmem_used_bytes_and_heap_bytes(void **state)
{
    struct tier *t = fix_tier(state);
    size_t len;
    void *rec = make_rec("abc", 1, 1000, &len);
    uint64_t h;

    assert_int_equal(t->ops->put(t, rec, len, &h, NULL), ST_OK);
    struct tier_stats s = stats_of(t);
    assert_true(s.used_bytes >= len + 16);   /* usable >= len, plus the header */
    assert_true(s.used_bytes <= len + 16 + 512); /* allocation classes round up modestly */
    assert_int_equal(t->ops->heap_bytes(t), 0);
    assert_string_equal(t->name, "pmem");
    free(rec);
}

static void test_pmem_unexpected_pmdk_failure_enters_the_sticky_failed_state(void **state)
{
    struct tfix *f = *state;
    struct logcap cap = {0};
    tier_destroy(&f->t);
    assert_int_equal(open_tier(f->path, &cap, &f->t), ST_OK);
    struct tier *t = f->t;
    size_t len;
    uint64_t hint = 0;
    uint64_t h = put_ok(t, "before", 1, 100);
    void *rec = make_rec("during", 2, 100, &len);

    /* ENOMEM is a full pool, not a failure */
    alloc_fail_errno = ENOMEM;
    assert_int_equal(t->ops->put(t, rec, len, &hint, NULL), ST_EFULL);
    assert_int_equal(stats_of(t).failed, 0);
    /* anything else is */
    alloc_fail_errno = EIO;
    int warnings = cap.warnings;
    assert_int_equal(t->ops->put(t, rec, len, &hint, NULL), ST_EIO);
    alloc_fail_errno = 0;
    struct tier_stats s = stats_of(t);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.errors, 1);
    assert_int_equal(s.records, 1);
    assert_int_equal(cap.warnings, warnings + 1);
    assert_non_null(strstr(cap.last, "pmemobj_alloc"));
    /* sticky: puts keep failing with libpmemobj healthy again, logged once */
    assert_int_equal(t->ops->put(t, rec, len, &hint, NULL), ST_EIO);
    unsigned char d[8] = {0};
    assert_int_equal(t->ops->put_dict(t, 3, d, sizeof(d)), ST_EIO);
    assert_int_equal(cap.warnings, warnings + 1);
    s = stats_of(t);
    assert_int_equal(s.puts, 4);
    assert_int_equal(s.put_fails, 3);
    /* reads and deletes go on */
    expect_get(t, "before", 1, 100, h);
    assert_int_equal(t->ops->del(t, "before", 6, 1, h), ST_OK);
    assert_int_equal(stats_of(t).records, 0);
    free(rec);
    /* the state is the process's, not the pool's: a reopen starts clean */
    tier_destroy(&f->t);
    assert_int_equal(open_tier(f->path, NULL, &f->t), ST_OK);
    assert_int_equal(stats_of(f->t).failed, 0);
    put_ok(f->t, "after", 3, 10);
}

static void test_pmem_two_tiers_side_by_side_are_independent(void **state)
{
    (void)state;
    char pa[256], pb[256];
    struct tier *a = NULL, *b = NULL;

    pool_path(pa, sizeof(pa));
    pool_path(pb, sizeof(pb));
    assert_int_equal(open_tier(pa, NULL, &a), ST_OK);
    assert_int_equal(open_tier(pb, NULL, &b), ST_OK);
    uint64_t ha = put_ok(a, "same", 1, 10);
    uint64_t hb = put_ok(b, "same", 2, 20);
    expect_get(a, "same", 1, 10, ha);
    expect_get(b, "same", 2, 20, hb);
    assert_int_equal(get_rc(a, "same", 2, hb), ST_ENOENT);
    assert_int_equal(a->ops->del(a, "same", 4, 1, ha), ST_OK);
    expect_get(b, "same", 2, 20, hb);
    assert_int_equal(stats_of(a).records, 0);
    assert_int_equal(stats_of(b).records, 1);
    tier_destroy(&a);
    expect_get(b, "same", 2, 20, hb);
    tier_destroy(&b);
    /* both reopen with their own contents */
    assert_int_equal(open_tier(pa, NULL, &a), ST_OK);
    assert_int_equal(open_tier(pb, NULL, &b), ST_OK);
    assert_int_equal(stats_of(a).records, 0);
    expect_get(b, "same", 2, 20, hb);
    tier_destroy(&a);
    tier_destroy(&b);
    unlink(pa);
    unlink(pb);
}

int main(void)
{
    /* before any PMDK call (ctest sets them too) */
    setenv("PMEM_IS_PMEM_FORCE", "1", 1);
    setenv("PMEMOBJ_CONF", "sds.at_create=0", 1);
    const struct CMUnitTest tests[] = {
        TIER_CONTRACT_TESTS(pmem_setup, pmem_teardown),
        cmocka_unit_test_setup_teardown(test_pmem_full_pool_answers_efull_then_a_delete_makes_room, pmem_setup,
                                        pmem_teardown),
        cmocka_unit_test_setup_teardown(test_pmem_reopen_keeps_records_hints_stats_and_dictionaries, pmem_setup,
                                        pmem_teardown),
        cmocka_unit_test(test_pmem_files_that_are_not_our_pool_are_refused),
        cmocka_unit_test_setup_teardown(test_pmem_record_damaged_in_the_pool_is_reported_and_never_returned,
                                        pmem_setup, pmem_teardown),
        cmocka_unit_test_setup_teardown(test_pmem_delete_cut_short_is_finished_at_open, pmem_setup, pmem_teardown),
        cmocka_unit_test_setup_teardown(test_pmem_delete_zeroes_the_magic_before_freeing, pmem_setup,
                                        pmem_teardown),
        cmocka_unit_test_setup_teardown(test_pmem_del_at_frees_only_the_record_it_names, pmem_setup, pmem_teardown),
        cmocka_unit_test_setup_teardown(test_pmem_hints_at_or_past_the_pool_end_miss, pmem_setup, pmem_teardown),
        cmocka_unit_test_setup_teardown(test_pmem_used_bytes_and_heap_bytes, pmem_setup, pmem_teardown),
        cmocka_unit_test_setup_teardown(test_pmem_unexpected_pmdk_failure_enters_the_sticky_failed_state, pmem_setup,
                                        pmem_teardown),
        cmocka_unit_test(test_pmem_two_tiers_side_by_side_are_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
