/*
 * test_t_hash.c -- unit tests for engine/t_hash.c, the hash type object, in
 * both encodings (listpack and hashtable) and across the conversion.
 *
 * What is protected: field/value semantics (set, overwrite, get, delete,
 * binary and integer-looking strings kept byte for byte); the conversion to
 * a dict exactly past hash-max-listpack-entries fields and past
 * hash-max-listpack-value bytes of a field or value, never back (t_hash.c
 * conversion rules, invariant 3); HINCRBY / HINCRBYFLOAT arithmetic, errors
 * and overflow; iteration, HRANDFIELD sampling (distinct or with repeats, in
 * every strategy), HSCAN (a pack whole with cursor 0, a dict across cursors);
 * dup, mem and the obj_ops the keyspace entry uses; allocation failures
 * leave the hash valid and the field unchanged (invariant 5); a long random
 * run against a model.
 *
 * Allocation failures are injected by interposing malloc, calloc and
 * realloc in this executable (see test_dict.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/entry.h"
#include "engine/err.h"
#include "engine/t_hash.h"
#include "engine/util.h"

#define SEED 0xabcdef0123456789ull

/* ---- allocation failure injection ------------------------------------- */

/* volatile: the compiler assumes malloc and calloc touch no global of
 * ours, and would otherwise drop an arm/disarm store around them. */
static volatile int armed;
static volatile long fail_skip, fail_n, allocs;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int resolving;
static unsigned char boot_buf[4096];
static size_t boot_used;

static void *boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (boot_used + n > sizeof(boot_buf))
        return NULL;
    void *p = boot_buf + boot_used;
    boot_used += n;
    return p;
}

static void resolve(void)
{
    if (real_malloc && real_calloc && real_realloc)
        return;
    resolving = 1;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    resolving = 0;
}

static int should_fail(void)
{
    if (!armed)
        return 0;
    allocs++;
    if (fail_skip > 0) {
        fail_skip--;
        return 0;
    }
    if (fail_n == 0)
        return 0;
    if (fail_n > 0)
        fail_n--;
    return 1;
}

void *malloc(size_t n);
void *calloc(size_t n, size_t sz);
void *realloc(void *p, size_t n);

void *malloc(size_t n)
{
    if (resolving)
        return boot_alloc(n);
    resolve();
    return should_fail() ? NULL : real_malloc(n);
}

void *calloc(size_t n, size_t sz)
{
    if (resolving) {
        void *p = boot_alloc(n * sz);
        if (p)
            memset(p, 0, n * sz);
        return p;
    }
    resolve();
    return should_fail() ? NULL : real_calloc(n, sz);
}

void *realloc(void *p, size_t n)
{
    resolve();
    return should_fail() ? NULL : real_realloc(p, n);
}

static void arm(long skip, long n)
{
    allocs = 0;
    fail_skip = skip;
    fail_n = n;
    armed = 1;
}

static void disarm(void)
{
    armed = 0;
}

/* ---- helpers ----------------------------------------------------------- */

static struct hash_conf conf_of(uint32_t entries, uint32_t value)
{
    struct hash_conf c = { entries, value, SEED };
    return c;
}

static void set(void **h, const struct hash_conf *conf, const char *f, const char *v, int expect_added)
{
    int added = -1;
    assert_int_equal(hash_set(h, f, strlen(f), v, strlen(v), conf, &added), ST_OK);
    assert_int_equal(added, expect_added);
}

static void expect_val(void *h, const char *f, const char *v)
{
    struct hash_str s;
    if (!hash_get(h, f, strlen(f), &s))
        fail_msg("field %s absent", f);
    if (s.len != strlen(v) || memcmp(s.p, v, s.len) != 0)
        fail_msg("field %s: got %.*s, want %s", f, (int)s.len, s.p, v);
}

static void expect_absent(void *h, const char *f)
{
    assert_int_equal(hash_get(h, f, strlen(f), NULL), 0);
}

static uint64_t rng_fn(void *ud)
{
    return util_rng_next(ud);
}

static int fname(char *buf, long i)
{
    return snprintf(buf, 32, "f%ld", i);
}

static int vname(char *buf, long i)
{
    return snprintf(buf, 32, "v%ld", i);
}

/* A hash with fields f0..f{n-1} = v0..v{n-1}. */
static void *make(long n, const struct hash_conf *conf)
{
    void *h = hash_create();
    assert_non_null(h);
    for (long i = 0; i < n; i++) {
        char f[32], v[32];
        fname(f, i);
        vname(v, i);
        set(&h, conf, f, v, 1);
    }
    return h;
}

static long parse_idx(const struct hash_str *f)
{
    long i = 0;
    assert_true(f->len >= 2 && f->p[0] == 'f');
    for (size_t j = 1; j < f->len; j++)
        i = i * 10 + (f->p[j] - '0');
    return i;
}

/* Collects the indexes of visited pairs, checking each value matches. */
struct visit {
    unsigned *count;
    long n;
    long total;
    long stop_after; /* 0: never */
};

static int visit_fn(const struct hash_str *f, const struct hash_str *v, void *ud)
{
    struct visit *s = ud;
    long i = parse_idx(f);
    char want[32];
    int wl = vname(want, i);
    assert_true(i >= 0 && i < s->n);
    assert_int_equal(v->len, wl);
    assert_memory_equal(v->p, want, (size_t)wl);
    s->count[i]++;
    s->total++;
    return s->stop_after && s->total >= s->stop_after;
}

/* ---- listpack basics ---------------------------------------------------- */

static void test_new_hash_is_an_empty_listpack(void **state)
{
    (void)state;
    void *h = hash_create();
    assert_non_null(h);
    assert_int_equal(hash_len(h), 0);
    assert_true(hash_is_lp(h));
    assert_string_equal(hash_encoding(h), "listpack");
    expect_absent(h, "x");
    assert_int_equal(hash_strlen(h, "x", 1), 0);
    assert_true(hash_mem(h) >= 9);
    struct hash_str f, v;
    struct util_rng r;
    util_rng_seed(&r, 1);
    assert_int_equal(hash_random(h, rng_fn, &r, &f, &v), ST_ENOENT);
    void *hp = h;
    assert_int_equal(hash_del(&hp, "x", 1), 0);
    hash_destroy(h);
    hash_destroy(NULL);
}

static void set_get_overwrite_delete(uint32_t entries)
{
    struct hash_conf conf = conf_of(entries, 64);
    void *h = hash_create();
    set(&h, &conf, "name", "alice", 1);
    set(&h, &conf, "age", "42", 1);
    set(&h, &conf, "zip", "01234", 1);     /* not canonical: kept as text */
    set(&h, &conf, "neg", "-9223372036854775808", 1);
    set(&h, &conf, "big", "9223372036854775808", 1); /* past int64: text */
    set(&h, &conf, "", "", 1);             /* empty field and value */
    set(&h, &conf, "12", "x", 1);          /* integer-looking field */
    assert_int_equal(hash_len(h), 7);
    expect_val(h, "name", "alice");
    expect_val(h, "age", "42");
    expect_val(h, "zip", "01234");
    expect_val(h, "neg", "-9223372036854775808");
    expect_val(h, "big", "9223372036854775808");
    expect_val(h, "", "");
    expect_val(h, "12", "x");
    expect_absent(h, "012");
    expect_absent(h, "nam");
    assert_int_equal(hash_strlen(h, "age", 3), 2);
    assert_int_equal(hash_strlen(h, "neg", 3), 20);
    set(&h, &conf, "age", "43", 0);
    set(&h, &conf, "name", "bob", 0);
    expect_val(h, "age", "43");
    expect_val(h, "name", "bob");
    assert_int_equal(hash_len(h), 7);
    /* binary bytes */
    int added;
    assert_int_equal(hash_set(&h, "a\0b", 3, "\0\xff\r\n", 4, &conf, &added), ST_OK);
    assert_int_equal(added, 1);
    struct hash_str s;
    assert_int_equal(hash_get(h, "a\0b", 3, &s), 1);
    assert_int_equal(s.len, 4);
    assert_memory_equal(s.p, "\0\xff\r\n", 4);
    assert_int_equal(hash_get(h, "a\0c", 3, NULL), 0);
    /* delete */
    assert_int_equal(hash_del(&h, "age", 3), 1);
    assert_int_equal(hash_del(&h, "age", 3), 0);
    expect_absent(h, "age");
    expect_val(h, "zip", "01234");
    assert_int_equal(hash_len(h), 7);
    const char *all[] = { "name", "zip", "neg", "big", "", "12" };
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(hash_del(&h, all[i], strlen(all[i])), 1);
    assert_int_equal(hash_del(&h, "a\0b", 3), 1);
    assert_int_equal(hash_len(h), 0);
    hash_destroy(h);
}

static void test_listpack_set_get_overwrite_delete(void **state)
{
    (void)state;
    set_get_overwrite_delete(128);
}

static void test_hashtable_set_get_overwrite_delete(void **state)
{
    (void)state;
    set_get_overwrite_delete(0); /* converts on the first insert */
}

/* ---- conversion ------------------------------------------------------ */

static void test_converts_past_max_entries_not_at_it(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(4, 64);
    void *h = make(4, &conf);
    assert_true(hash_is_lp(h));
    /* overwriting at the limit keeps the pack */
    set(&h, &conf, "f0", "v0", 0);
    assert_true(hash_is_lp(h));
    set(&h, &conf, "f4", "v4", 1);
    assert_false(hash_is_lp(h));
    assert_string_equal(hash_encoding(h), "hashtable");
    assert_int_equal(hash_len(h), 5);
    for (long i = 0; i < 5; i++) {
        char f[32], v[32];
        fname(f, i);
        vname(v, i);
        expect_val(h, f, v);
    }
    /* never back, even when emptied to one field */
    for (long i = 0; i < 4; i++) {
        char f[32];
        fname(f, i);
        assert_int_equal(hash_del(&h, f, strlen(f)), 1);
    }
    assert_int_equal(hash_len(h), 1);
    assert_false(hash_is_lp(h));
    expect_val(h, "f4", "v4");
    hash_destroy(h);
}

static void test_default_limits_convert_one_past_the_entries_limit(void **state)
{
    (void)state;
    struct type_limits lim = TYPE_LIMITS_DEFAULT;
    struct hash_conf conf;
    hash_conf_init(&conf, &lim, SEED);
    assert_int_equal(conf.max_lp_entries, lim.hash_max_lp_entries);
    assert_int_equal(conf.max_lp_value, lim.hash_max_lp_value);
    void *h = make((long)conf.max_lp_entries, &conf);
    assert_true(hash_is_lp(h));
    set(&h, &conf, "extra", "v", 1);
    assert_false(hash_is_lp(h));
    hash_destroy(h);
}

static void test_converts_past_max_value_for_field_or_value(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(128, 8);
    char v8[] = "12345678", v9[] = "123456789";
    /* value of exactly the limit: pack */
    void *h = make(3, &conf);
    set(&h, &conf, "k", v8, 1);
    set(&h, &conf, v8, "x", 1);
    assert_true(hash_is_lp(h));
    /* one byte more in a value: dict */
    set(&h, &conf, "k", v9, 0);
    assert_false(hash_is_lp(h));
    expect_val(h, "k", v9);
    expect_val(h, v8, "x");
    expect_val(h, "f2", "v2");
    hash_destroy(h);
    /* one byte more in a field: dict */
    h = make(3, &conf);
    set(&h, &conf, v9, "x", 1);
    assert_false(hash_is_lp(h));
    expect_val(h, v9, "x");
    assert_int_equal(hash_len(h), 4);
    hash_destroy(h);
    /* an integer value is measured by its text */
    h = make(1, &conf);
    set(&h, &conf, "n", "123456789", 1);
    assert_false(hash_is_lp(h));
    hash_destroy(h);
}

static void test_fit_converts_before_a_multi_field_write(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(128, 8);
    void *h = make(2, &conf);
    assert_int_equal(hash_fit(&h, 8, 100, &conf), ST_OK);
    assert_true(hash_is_lp(h));
    assert_int_equal(hash_fit(&h, 9, 100, &conf), ST_OK);
    assert_false(hash_is_lp(h));
    expect_val(h, "f1", "v1");
    assert_int_equal(hash_fit(&h, 1000, 1000, &conf), ST_OK); /* a dict: no-op */
    hash_destroy(h);
    /* a total past the pack's 1 GB safety size converts too */
    h = make(2, &conf);
    assert_int_equal(hash_fit(&h, 1, (size_t)1 << 30, &conf), ST_OK);
    assert_false(hash_is_lp(h));
    hash_destroy(h);
}

static void test_zero_limits_mean_hashtable_at_once(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(0, 64);
    void *h = hash_create();
    set(&h, &conf, "a", "b", 1);
    assert_false(hash_is_lp(h));
    hash_destroy(h);
    conf = conf_of(128, 0);
    h = hash_create();
    set(&h, &conf, "", "", 1); /* zero-length strings fit a zero limit */
    assert_true(hash_is_lp(h));
    set(&h, &conf, "a", "", 1);
    assert_false(hash_is_lp(h));
    hash_destroy(h);
}

/* ---- incr ------------------------------------------------------------ */

static void incr_cases(uint32_t entries)
{
    struct hash_conf conf = conf_of(entries, 64);
    void *h = hash_create();
    int64_t out;
    assert_int_equal(hash_incrby(&h, "n", 1, 5, &out, &conf), ST_OK);
    assert_int_equal(out, 5);
    expect_val(h, "n", "5");
    assert_int_equal(hash_incrby(&h, "n", 1, -7, &out, &conf), ST_OK);
    assert_int_equal(out, -2);
    expect_val(h, "n", "-2");
    set(&h, &conf, "t", "abc", 1);
    assert_int_equal(hash_incrby(&h, "t", 1, 1, &out, &conf), ST_EINVAL);
    expect_val(h, "t", "abc");
    set(&h, &conf, "z", "010", 1);
    assert_int_equal(hash_incrby(&h, "z", 1, 1, &out, &conf), ST_EINVAL);
    set(&h, &conf, "sp", " 1", 1);
    assert_int_equal(hash_incrby(&h, "sp", 2, 1, &out, &conf), ST_EINVAL);
    set(&h, &conf, "max", "9223372036854775807", 1);
    assert_int_equal(hash_incrby(&h, "max", 3, 1, &out, &conf), ST_ERANGE);
    expect_val(h, "max", "9223372036854775807");
    assert_int_equal(hash_incrby(&h, "max", 3, -1, &out, &conf), ST_OK);
    assert_int_equal(out, INT64_MAX - 1);
    set(&h, &conf, "min", "-9223372036854775808", 1);
    assert_int_equal(hash_incrby(&h, "min", 3, -1, &out, &conf), ST_ERANGE);
    assert_int_equal(hash_incrby(&h, "min", 3, INT64_MAX, &out, &conf), ST_OK);
    assert_int_equal(out, -1);
    assert_int_equal(hash_incrby(&h, "new", 3, INT64_MIN, &out, &conf), ST_OK);
    expect_val(h, "new", "-9223372036854775808");
    assert_int_equal(hash_incrby(&h, "new", 3, 0, &out, &conf), ST_OK);

    char buf[UTIL_DBLSTR_SIZE];
    size_t len;
    assert_int_equal(hash_incrbyfloat(&h, "fl", 2, 10.5L, buf, sizeof(buf), &len, &conf), ST_OK);
    assert_string_equal(buf, "10.5");
    assert_int_equal(len, 4);
    assert_int_equal(hash_incrbyfloat(&h, "fl", 2, 0.1L, buf, sizeof(buf), &len, &conf), ST_OK);
    assert_string_equal(buf, "10.6");
    expect_val(h, "fl", "10.6");
    assert_int_equal(hash_incrbyfloat(&h, "fl", 2, -0.6L, buf, sizeof(buf), &len, &conf), ST_OK);
    assert_string_equal(buf, "10");
    expect_val(h, "fl", "10");
    /* an integer value, then a text float with exponent */
    assert_int_equal(hash_incrbyfloat(&h, "n", 1, 2.5L, buf, sizeof(buf), &len, &conf), ST_OK);
    assert_string_equal(buf, "0.5");
    set(&h, &conf, "e", "5.0e3", 1);
    assert_int_equal(hash_incrbyfloat(&h, "e", 1, 1, buf, sizeof(buf), &len, &conf), ST_OK);
    assert_string_equal(buf, "5001");
    assert_int_equal(hash_incrbyfloat(&h, "t", 1, 1, buf, sizeof(buf), &len, &conf), ST_EINVAL);
    expect_val(h, "t", "abc");
    set(&h, &conf, "huge", "1e4932", 1);
    assert_int_equal(hash_incrbyfloat(&h, "huge", 4, 1e4932L, buf, sizeof(buf), &len, &conf), ST_ERANGE);
    expect_val(h, "huge", "1e4932");
    hash_destroy(h);
}

static void test_incr_listpack(void **state)
{
    (void)state;
    incr_cases(128);
}

static void test_incr_hashtable(void **state)
{
    (void)state;
    incr_cases(0);
}

static void test_incrbyfloat_result_longer_than_value_limit_converts(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(128, 4);
    void *h = hash_create();
    char buf[UTIL_DBLSTR_SIZE];
    size_t len;
    assert_int_equal(hash_incrbyfloat(&h, "x", 1, 1.25L, buf, sizeof(buf), &len, &conf), ST_OK);
    assert_true(hash_is_lp(h));
    assert_int_equal(hash_incrbyfloat(&h, "x", 1, 0.125L, buf, sizeof(buf), &len, &conf), ST_OK);
    assert_string_equal(buf, "1.375");
    assert_false(hash_is_lp(h));
    expect_val(h, "x", "1.375");
    hash_destroy(h);
}

/* ---- iteration, random, scan --------------------------------------- */

static void iterate_expect_all(void *h, long n)
{
    struct visit s = { calloc((size_t)n + 1, sizeof(unsigned)), n, 0, 0 };
    struct hash_iter it;
    hash_iter_init(&it, h);
    while (hash_iter_next(&it))
        visit_fn(&it.f, &it.v, &s);
    assert_int_equal(hash_iter_next(&it), 0);
    hash_iter_done(&it);
    assert_int_equal(s.total, n);
    for (long i = 0; i < n; i++)
        assert_int_equal(s.count[i], 1);
    free(s.count);
}

static void test_iteration_visits_every_pair_once_in_both_encodings(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(128, 64);
    void *h = make(0, &conf);
    iterate_expect_all(h, 0);
    hash_destroy(h);
    h = make(100, &conf);
    assert_true(hash_is_lp(h));
    iterate_expect_all(h, 100);
    hash_destroy(h);
    h = make(1000, &conf);
    assert_false(hash_is_lp(h));
    iterate_expect_all(h, 1000);
    hash_destroy(h);
}

static void test_listpack_iteration_is_insertion_order(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(128, 64);
    void *h = make(50, &conf);
    struct hash_iter it;
    long i = 0;
    hash_iter_init(&it, h);
    while (hash_iter_next(&it))
        assert_int_equal(parse_idx(&it.f), i++);
    hash_iter_done(&it);
    assert_int_equal(i, 50);
    hash_destroy(h);
}

static void test_random_returns_members_in_both_encodings(void **state)
{
    (void)state;
    struct util_rng r;
    util_rng_seed(&r, 5);
    struct hash_conf conf = conf_of(64, 64);
    long sizes[] = { 1, 20, 500 };
    for (int k = 0; k < 3; k++) {
        long n = sizes[k];
        void *h = make(n, &conf);
        struct visit s = { calloc((size_t)n, sizeof(unsigned)), n, 0, 0 };
        for (int i = 0; i < 50 * n; i++) {
            struct hash_str f, v;
            assert_int_equal(hash_random(h, rng_fn, &r, &f, &v), ST_OK);
            visit_fn(&f, &v, &s);
        }
        for (long i = 0; i < n; i++)
            assert_true(s.count[i] > 0);
        free(s.count);
        hash_destroy(h);
    }
}

/* Draws with hash_random_pairs and checks counts / distinctness. */
static void check_random_pairs(void *h, long n, uint64_t count, int uniq, struct util_rng *r)
{
    struct visit s = { calloc((size_t)n, sizeof(unsigned)), n, 0, 0 };
    assert_int_equal(hash_random_pairs(h, count, uniq, rng_fn, r, visit_fn, &s), ST_OK);
    uint64_t want = uniq ? (count < (uint64_t)n ? count : (uint64_t)n) : count;
    assert_int_equal(s.total, want);
    if (uniq)
        for (long i = 0; i < n; i++)
            assert_true(s.count[i] <= 1);
    free(s.count);
}

static void test_random_pairs_every_strategy(void **state)
{
    (void)state;
    struct util_rng r;
    util_rng_seed(&r, 11);
    struct hash_conf conf = conf_of(128, 64);
    long sizes[] = { 10, 100, 3000 }; /* packs and a dict */
    for (int k = 0; k < 3; k++) {
        long n = sizes[k];
        void *h = make(n, &conf);
        assert_int_equal(hash_is_lp(h), n <= 128);
        uint64_t counts[] = { 0, 1, 2, (uint64_t)n / 10 + 1, (uint64_t)n / 2, (uint64_t)n - 1, (uint64_t)n,
                              (uint64_t)n + 5, 1000000 };
        for (int c = 0; c < 9; c++) {
            check_random_pairs(h, n, counts[c], 1, &r);
            if (counts[c] <= 100000)
                check_random_pairs(h, n, counts[c], 0, &r);
        }
        hash_destroy(h);
    }
}

static void test_random_pairs_unique_reaches_every_field(void **state)
{
    (void)state;
    struct util_rng r;
    util_rng_seed(&r, 12);
    struct hash_conf conf = conf_of(128, 64);
    long sizes[] = { 40, 400 };
    for (int k = 0; k < 2; k++) {
        long n = sizes[k];
        void *h = make(n, &conf);
        unsigned *hit = calloc((size_t)n, sizeof(unsigned));
        for (int round = 0; round < 200; round++) {
            struct visit s = { calloc((size_t)n, sizeof(unsigned)), n, 0, 0 };
            uint64_t count = round % 2 ? (uint64_t)n / 8 : (uint64_t)n / 2; /* both dict strategies */
            assert_int_equal(hash_random_pairs(h, count, 1, rng_fn, &r, visit_fn, &s), ST_OK);
            for (long i = 0; i < n; i++)
                hit[i] += s.count[i];
            free(s.count);
        }
        for (long i = 0; i < n; i++)
            assert_true(hit[i] > 0);
        free(hit);
        hash_destroy(h);
    }
}

static void test_random_pairs_stops_when_callback_says_so(void **state)
{
    (void)state;
    struct util_rng r;
    util_rng_seed(&r, 13);
    struct hash_conf conf = conf_of(128, 64);
    long sizes[] = { 50, 1000 };
    for (int k = 0; k < 2; k++) {
        long n = sizes[k];
        void *h = make(n, &conf);
        for (int uniq = 0; uniq < 2; uniq++) {
            uint64_t counts[] = { 20, (uint64_t)n / 2, (uint64_t)n + 1 };
            for (int c = 0; c < 3; c++) {
                struct visit s = { calloc((size_t)n, sizeof(unsigned)), n, 0, 3 };
                assert_int_equal(hash_random_pairs(h, counts[c], uniq, rng_fn, &r, visit_fn, &s), ST_OK);
                assert_int_equal(s.total, 3);
                free(s.count);
            }
        }
        hash_destroy(h);
    }
}

static void test_scan_listpack_returns_everything_with_cursor_zero(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(128, 64);
    void *h = make(100, &conf);
    struct visit s = { calloc(100, sizeof(unsigned)), 100, 0, 1 /* ignored */ };
    assert_int_equal(hash_scan(h, 12345, 1, visit_fn, &s), 0);
    assert_int_equal(s.total, 100);
    for (long i = 0; i < 100; i++)
        assert_int_equal(s.count[i], 1);
    free(s.count);
    hash_destroy(h);
}

static void test_scan_hashtable_covers_everything_across_cursors(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(128, 64);
    long n = 5000;
    void *h = make(n, &conf);
    uint64_t counts[] = { 1, 10, 100, 100000 };
    for (int c = 0; c < 4; c++) {
        struct visit s = { calloc((size_t)n, sizeof(unsigned)), n, 0, 0 };
        uint64_t cur = 0;
        long calls = 0;
        do {
            long before = s.total;
            cur = hash_scan(h, cur, counts[c], visit_fn, &s);
            calls++;
            /* a page stops once it holds count elements (a field and its
             * value count two, as in Redis); only whole buckets are added */
            if (cur != 0 && counts[c] == 10)
                assert_true((s.total - before) * 2 >= 10);
        } while (cur != 0);
        for (long i = 0; i < n; i++)
            assert_int_equal(s.count[i], 1);
        if (counts[c] == 100000)
            assert_int_equal(calls, 1);
        if (counts[c] == 1)
            assert_true(calls > 100);
        free(s.count);
    }
    hash_destroy(h);
}

/* ---- dup, mem, ops, entries ------------------------------------------ */

static void test_dup_is_deep_in_both_encodings(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(128, 64);
    long sizes[] = { 0, 10, 300 };
    for (int k = 0; k < 3; k++) {
        long n = sizes[k];
        void *h = make(n, &conf);
        void *d = hash_dup(h);
        assert_non_null(d);
        assert_int_equal(hash_is_lp(d), hash_is_lp(h));
        assert_int_equal(hash_len(d), n);
        iterate_expect_all(d, n);
        set(&d, &conf, "f0", "changed", n == 0);
        if (n > 0)
            expect_val(h, "f0", "v0");
        else
            expect_absent(h, "f0");
        hash_destroy(h);
        expect_val(d, "f0", "changed");
        hash_destroy(d);
    }
}

static void test_mem_grows_with_content(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(128, 64);
    void *h = make(10, &conf);
    size_t small = hash_mem(h);
    /* 10 pairs of ~2-3 byte strings: about 70 bytes of pack */
    assert_true(small >= 8 + 20 * 4);
    assert_true(small <= 128);
    hash_destroy(h);
    h = make(1000, &conf);
    size_t big = hash_mem(h);
    assert_true(big >= 1000 * (24 + 8));
    assert_true(big <= 1000 * 200);
    hash_destroy(h);
}

static void test_obj_ops_are_wired_for_entries(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(2, 64);
    assert_ptr_equal(entry_type_ops(OBJ_HASH), &hash_obj_ops);
    assert_string_equal(hash_obj_ops.name, "hash");
    struct entry *e = entry_create("key", 3, OBJ_HASH, ENC_PTR, sizeof(void *), -1);
    assert_non_null(e);
    void *h = make(2, &conf);
    entry_set_ptr(e, h);
    assert_string_equal(entry_encoding(e), "listpack");
    assert_string_equal(entry_type_name(e->type), "hash");
    assert_true(entry_mem(e) >= hash_mem(h));
    /* a write through the entry's pointer, then written back */
    h = entry_ptr(e);
    set(&h, &conf, "f2", "v2", 1);
    entry_set_ptr(e, h);
    assert_string_equal(entry_encoding(e), "hashtable");
    struct entry *d = entry_dup(e, "copy", 4);
    assert_non_null(d);
    assert_string_equal(entry_encoding(d), "hashtable");
    assert_true(entry_ptr(d) != entry_ptr(e));
    expect_val(entry_ptr(d), "f2", "v2");
    entry_destroy(e); /* frees the hash: ASan's leak check would tell */
    entry_destroy(d);
}

/* ---- allocation failures ------------------------------------------- */

static void test_failed_conversion_keeps_the_pack_and_the_field(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(4, 64);
    void *h = make(4, &conf);
    int added = -1;
    /* the append succeeds (realloc), the conversion's first allocation fails:
     * the field is set and the pack stays over the limit */
    arm(1, -1);
    assert_int_equal(hash_set(&h, "f4", 2, "v4", 2, &conf, &added), ST_OK);
    disarm();
    assert_int_equal(added, 1);
    assert_true(hash_is_lp(h));
    expect_val(h, "f4", "v4");
    /* the next write converts */
    set(&h, &conf, "f0", "v0", 0);
    assert_false(hash_is_lp(h));
    iterate_expect_all(h, 5);
    hash_destroy(h);
}

static void test_failed_writes_leave_the_field_unchanged(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(128, 8);
    for (int enc = 0; enc < 2; enc++) {
        void *h = make(enc ? 200 : 5, &conf);
        assert_int_equal(hash_is_lp(h), !enc);
        int added = -1;
        for (long skip = 0; skip < 4; skip++) {
            /* an overwrite that needs memory */
            arm(skip, -1);
            int rc = hash_set(&h, "f1", 2, "longer!", 7, &conf, &added);
            disarm();
            if (rc == ST_OK) {
                expect_val(h, "f1", "longer!");
                set(&h, &conf, "f1", "v1", 0);
            } else {
                assert_int_equal(rc, ST_ENOMEM);
                expect_val(h, "f1", "v1");
            }
            /* a new field */
            arm(skip, -1);
            rc = hash_set(&h, "new", 3, "x", 1, &conf, &added);
            disarm();
            if (rc == ST_OK) {
                assert_int_equal(added, 1);
                assert_int_equal(hash_del(&h, "new", 3), 1);
            } else {
                expect_absent(h, "new");
            }
            /* a conversion caused by a long value */
            if (!enc) {
                arm(skip, -1);
                rc = hash_set(&h, "f2", 2, "123456789", 9, &conf, &added);
                disarm();
                if (rc != ST_OK) {
                    assert_true(hash_is_lp(h));
                    expect_val(h, "f2", "v2");
                }
                if (!hash_is_lp(h))
                    break;
            }
            int64_t out;
            arm(skip, -1);
            rc = hash_incrby(&h, "cnt", 3, 1, &out, &conf);
            disarm();
            if (rc == ST_OK)
                assert_int_equal(hash_del(&h, "cnt", 3), 1);
            else
                expect_absent(h, "cnt");
        }
        iterate_expect_all(h, hash_len(h) > 100 ? 200 : 5);
        hash_destroy(h);
    }
}

static void test_deletes_and_reads_never_allocate(void **state)
{
    (void)state;
    struct hash_conf conf = conf_of(128, 64);
    for (int enc = 0; enc < 2; enc++) {
        long n = enc ? 500 : 100;
        void *h = make(n, &conf);
        arm(0, -1);
        for (long i = 0; i < n; i++) {
            char f[32], v[32];
            fname(f, i);
            vname(v, i);
            expect_val(h, f, v);
        }
        struct hash_iter it;
        long cnt = 0;
        hash_iter_init(&it, h);
        while (hash_iter_next(&it))
            cnt++;
        hash_iter_done(&it);
        assert_int_equal(cnt, n);
        for (long i = 0; i < n; i += 2) {
            char f[32];
            fname(f, i);
            assert_int_equal(hash_del(&h, f, strlen(f)), 1);
        }
        disarm();
        assert_int_equal(hash_len(h), n / 2);
        for (long i = 1; i < n; i += 2) {
            char f[32], v[32];
            fname(f, i);
            vname(v, i);
            expect_val(h, f, v);
        }
        hash_destroy(h);
    }
}

/* ---- model ------------------------------------------------------------ */

#define MODEL_N 300

struct model {
    int present[MODEL_N];
    char val[MODEL_N][80];
};

static void check_model(void *h, const struct model *m)
{
    long n = 0;
    for (long i = 0; i < MODEL_N; i++) {
        char f[32];
        fname(f, i);
        if (m->present[i]) {
            expect_val(h, f, m->val[i]);
            n++;
        } else {
            expect_absent(h, f);
        }
    }
    assert_int_equal(hash_len(h), n);
}

static void test_random_ops_match_a_model_through_conversions(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct util_rng r;
        util_rng_seed(&r, seed);
        struct hash_conf conf = conf_of((uint32_t)(seed * 40), 32);
        struct model *m = calloc(1, sizeof(*m));
        void *h = hash_create();
        int converted = 0;
        for (int op = 0; op < 30000; op++) {
            /* a small key range so the hash often empties and refills */
            long range = op % 5000 < 2500 ? 30 : MODEL_N;
            long i = (long)(util_rng_next(&r) % (uint64_t)range);
            unsigned kind = (unsigned)(util_rng_next(&r) % 8);
            char f[32];
            fname(f, i);
            size_t fl = strlen(f);
            int was_lp = hash_is_lp(h);
            if (kind < 3) {
                char v[80];
                int vl = (int)(util_rng_next(&r) % 40);
                if (util_rng_next(&r) % 3 == 0)
                    vl = snprintf(v, sizeof(v), "%lld", (long long)(util_rng_next(&r) % 100000) - 50000);
                else
                    for (int j = 0; j < vl; j++)
                        v[j] = (char)('a' + util_rng_next(&r) % 26);
                v[vl] = '\0';
                int added;
                assert_int_equal(hash_set(&h, f, fl, v, (size_t)vl, &conf, &added), ST_OK);
                assert_int_equal(added, !m->present[i]);
                m->present[i] = 1;
                memcpy(m->val[i], v, (size_t)vl + 1);
            } else if (kind < 5) {
                assert_int_equal(hash_del(&h, f, fl), m->present[i]);
                m->present[i] = 0;
            } else if (kind == 5) {
                int64_t out;
                long long cur = 0;
                int valid = !m->present[i] || util_str2ll(m->val[i], strlen(m->val[i]), &cur) == ST_OK;
                int rc = hash_incrby(&h, f, fl, 7, &out, &conf);
                if (!valid) {
                    assert_int_equal(rc, ST_EINVAL);
                } else {
                    assert_int_equal(rc, ST_OK);
                    assert_int_equal(out, cur + 7);
                    m->present[i] = 1;
                    snprintf(m->val[i], sizeof(m->val[i]), "%lld", cur + 7);
                }
            } else {
                struct hash_str v;
                int found = hash_get(h, f, fl, &v);
                assert_int_equal(found, m->present[i]);
            }
            if (was_lp && !hash_is_lp(h))
                converted++;
            if (hash_is_lp(h))
                assert_true(hash_len(h) <= conf.max_lp_entries);
            if (hash_len(h) == 0 && !hash_is_lp(h)) {
                /* an emptied key is deleted by the commands: start again */
                hash_destroy(h);
                h = hash_create();
            }
            if (op % 3000 == 0)
                check_model(h, m);
        }
        check_model(h, m);
        assert_true(converted > 0);
        hash_destroy(h);
        free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_hash_is_an_empty_listpack),
        cmocka_unit_test(test_listpack_set_get_overwrite_delete),
        cmocka_unit_test(test_hashtable_set_get_overwrite_delete),
        cmocka_unit_test(test_converts_past_max_entries_not_at_it),
        cmocka_unit_test(test_default_limits_convert_one_past_the_entries_limit),
        cmocka_unit_test(test_converts_past_max_value_for_field_or_value),
        cmocka_unit_test(test_fit_converts_before_a_multi_field_write),
        cmocka_unit_test(test_zero_limits_mean_hashtable_at_once),
        cmocka_unit_test(test_incr_listpack),
        cmocka_unit_test(test_incr_hashtable),
        cmocka_unit_test(test_incrbyfloat_result_longer_than_value_limit_converts),
        cmocka_unit_test(test_iteration_visits_every_pair_once_in_both_encodings),
        cmocka_unit_test(test_listpack_iteration_is_insertion_order),
        cmocka_unit_test(test_random_returns_members_in_both_encodings),
        cmocka_unit_test(test_random_pairs_every_strategy),
        cmocka_unit_test(test_random_pairs_unique_reaches_every_field),
        cmocka_unit_test(test_random_pairs_stops_when_callback_says_so),
        cmocka_unit_test(test_scan_listpack_returns_everything_with_cursor_zero),
        cmocka_unit_test(test_scan_hashtable_covers_everything_across_cursors),
        cmocka_unit_test(test_dup_is_deep_in_both_encodings),
        cmocka_unit_test(test_mem_grows_with_content),
        cmocka_unit_test(test_obj_ops_are_wired_for_entries),
        cmocka_unit_test(test_failed_conversion_keeps_the_pack_and_the_field),
        cmocka_unit_test(test_failed_writes_leave_the_field_unchanged),
        cmocka_unit_test(test_deletes_and_reads_never_allocate),
        cmocka_unit_test(test_random_ops_match_a_model_through_conversions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
