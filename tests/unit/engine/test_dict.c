/*
 * test_dict.c -- unit tests for engine/dict.c: the hash table behind large
 * hashes, sets and sorted sets.
 *
 * What is protected: every key added is found until deleted, through grows,
 * shrinks and the middle of a rehash (dict.c invariants 1-3); adds of a
 * present key return the existing node; values are handed to the free
 * callback exactly once; the SCAN guarantee (each element present for the
 * whole scan returned at least once across grows and shrinks, exactly once
 * on a stable table); dict_random returns members and reaches all of them;
 * iteration visits every node once, also mid-rehash, and tolerates deleting
 * the current node (invariant 4); allocation failures: a failed first bucket
 * array or node allocation fails the add and leaves the dict unchanged, a
 * failed grow or shrink is harmless, and delete, unlink, find, scan and
 * iteration never allocate.
 *
 * The allocation-failure tests interpose malloc and calloc in this
 * executable (they forward to the next definition: glibc, jemalloc or ASan's)
 * and fail them only while a test arms the injector.
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

#include "engine/dict.h"
#include "engine/ht.h"
#include "engine/util.h"

#define SEED 0x0123456789abcdefull

/* ---- allocation failure injection ------------------------------------- */

/* While armed: let fail_skip allocations through, then fail fail_n of them
 * (fail_n < 0: every one until disarmed). allocs counts armed allocations. */
/* volatile: the compiler assumes malloc and calloc touch no global of
 * ours, and would otherwise drop an arm/disarm store around them. */
static volatile int armed;
static volatile long fail_skip, fail_n;
static volatile long allocs;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
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
    if (real_malloc && real_calloc)
        return;
    resolving = 1;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
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

void *malloc(size_t n)
{
    if (resolving)
        return boot_alloc(n);
    resolve();
    if (should_fail())
        return NULL;
    return real_malloc(n);
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
    if (should_fail())
        return NULL;
    return real_calloc(n, sz);
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

static int keyname(char *buf, long i)
{
    return snprintf(buf, 32, "field:%ld", i);
}

static struct dict_node *add(struct dict *d, long i)
{
    char k[32];
    int added = -1;
    int n = keyname(k, i);
    struct dict_node *node = dict_add(d, k, (size_t)n, &added);
    assert_non_null(node);
    assert_int_equal(added, 1);
    assert_int_equal(node->v.i, 0);
    node->v.i = i;
    return node;
}

static struct dict_node *find(struct dict *d, long i)
{
    char k[32];
    int n = keyname(k, i);
    return dict_find(d, k, (size_t)n);
}

static void assert_has(struct dict *d, long i)
{
    char k[32];
    int n = keyname(k, i);
    struct dict_node *node = dict_find(d, k, (size_t)n);
    if (!node)
        fail_msg("%s not found (size %llu, rehashidx %lld)", k, (unsigned long long)dict_size(d),
                 (long long)d->rehashidx);
    assert_int_equal(node->len, n);
    assert_memory_equal(node->key, k, (size_t)n);
    assert_int_equal(node->v.i, i);
}

static int del(struct dict *d, long i)
{
    char k[32];
    int n = keyname(k, i);
    return dict_delete(d, k, (size_t)n, NULL);
}

/* Every node sits in the bucket its hash selects, t[0] is empty below
 * rehashidx, counts match used (dict.c invariants 1-3). */
static void check_structure(const struct dict *d)
{
    for (int t = 0; t < 2; t++) {
        const struct dict_table *tb = &d->t[t];
        if (!tb->b) {
            assert_int_equal(tb->used, 0);
            continue;
        }
        assert_int_equal((tb->mask + 1) & tb->mask, 0);
        assert_true(tb->mask + 1 >= 4);
        uint64_t n = 0;
        for (uint64_t b = 0; b <= tb->mask; b++) {
            if (t == 0 && d->rehashidx != -1 && (int64_t)b < d->rehashidx)
                assert_null(tb->b[b]);
            for (const struct dict_node *e = tb->b[b]; e; e = e->next) {
                assert_int_equal(ht_hash(d->seed, e->key, e->len) & tb->mask, b);
                n++;
            }
        }
        assert_int_equal(n, tb->used);
    }
    if (d->rehashidx == -1)
        assert_null(d->t[1].b);
}

/* Finishes any rehash by lookups (each moves a bucket). */
static void finish_rehash(struct dict *d)
{
    for (int i = 0; d->rehashidx != -1 && i < 10000000; i++)
        (void)dict_find(d, "x", 1);
    assert_int_equal(d->rehashidx, -1);
}

static uint64_t rng_fn(void *ud)
{
    return util_rng_next(ud);
}

static uint64_t table_size(const struct dict *d)
{
    return d->t[0].b ? d->t[0].mask + 1 : 0;
}

static int vfree_calls;
static void count_vfree(struct dict_node *n)
{
    vfree_calls++;
    free(n->v.ptr);
    n->v.ptr = NULL;
}

/* ---- basics ------------------------------------------------------------ */

static void test_empty_dict_answers_absent_everywhere(void **state)
{
    (void)state;
    struct util_rng r;
    util_rng_seed(&r, 1);
    struct dict *d = dict_create(SEED);
    assert_non_null(d);
    assert_int_equal(dict_size(d), 0);
    assert_null(dict_find(d, "a", 1));
    assert_null(dict_unlink(d, "a", 1));
    assert_int_equal(dict_delete(d, "a", 1, NULL), 0);
    assert_null(dict_random(d, rng_fn, &r));
    assert_int_equal(dict_mem(d), 0);
    struct dict_iter it;
    dict_iter_init(&it, d);
    assert_null(dict_iter_next(&it));
    dict_iter_done(&it);
    assert_int_equal(d->iterators, 0);
    dict_destroy(d, NULL);
    dict_destroy(NULL, NULL);
}

static void test_dstr_create_copies_bytes(void **state)
{
    (void)state;
    struct dstr *s = dstr_create("a\0b", 3);
    assert_non_null(s);
    assert_int_equal(s->len, 3);
    assert_memory_equal(s->s, "a\0b", 3);
    free(s);
    s = dstr_create(NULL, 0);
    assert_non_null(s);
    assert_int_equal(s->len, 0);
    free(s);
}

static void test_add_then_find_and_duplicate_add_returns_existing(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    int added = -1;
    struct dict_node *n = dict_add(d, "hello", 5, &added);
    assert_non_null(n);
    assert_int_equal(added, 1);
    assert_null(n->v.ptr);
    assert_int_equal(n->len, 5);
    assert_memory_equal(n->key, "hello", 5);
    n->v.d = 2.5;
    struct dict_node *again = dict_add(d, "hello", 5, &added);
    assert_ptr_equal(again, n);
    assert_int_equal(added, 0);
    assert_true(again->v.d == 2.5);
    assert_int_equal(dict_size(d), 1);
    assert_ptr_equal(dict_find(d, "hello", 5), n);
    assert_null(dict_find(d, "hell", 4));
    assert_null(dict_find(d, "hellO", 5));
    assert_null(dict_find(d, "hello!", 6));
    dict_destroy(d, NULL);
}

static void test_empty_and_binary_keys_are_distinct_keys(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    int added;
    assert_non_null(dict_add(d, "", 0, &added));
    assert_int_equal(added, 1);
    assert_non_null(dict_add(d, "a\0b", 3, &added));
    assert_int_equal(added, 1);
    assert_non_null(dict_add(d, "a\0c", 3, &added));
    assert_int_equal(added, 1);
    assert_int_equal(dict_size(d), 3);
    assert_non_null(dict_find(d, "", 0));
    assert_non_null(dict_find(d, "a\0b", 3));
    assert_null(dict_find(d, "a", 1));
    assert_int_equal(dict_delete(d, "", 0, NULL), 1);
    assert_null(dict_find(d, "", 0));
    assert_int_equal(dict_size(d), 2);
    dict_destroy(d, NULL);
}

static void test_seed_changes_bucket_placement_not_contents(void **state)
{
    (void)state;
    struct dict *a = dict_create(1), *b = dict_create(2);
    for (long i = 0; i < 1000; i++) {
        add(a, i);
        add(b, i);
    }
    finish_rehash(a);
    finish_rehash(b);
    int differ = 0;
    for (uint64_t i = 0; i <= a->t[0].mask; i++) {
        uint64_t ca = 0, cb = 0;
        for (struct dict_node *n = a->t[0].b[i]; n; n = n->next)
            ca++;
        for (struct dict_node *n = b->t[0].b[i]; n; n = n->next)
            cb++;
        differ |= ca != cb;
    }
    assert_true(differ);
    for (long i = 0; i < 1000; i++) {
        assert_has(a, i);
        assert_has(b, i);
    }
    dict_destroy(a, NULL);
    dict_destroy(b, NULL);
}

/* ---- values ------------------------------------------------------------ */

static void test_values_are_freed_once_on_delete_and_destroy(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    vfree_calls = 0;
    for (long i = 0; i < 100; i++) {
        struct dict_node *n = add(d, i);
        n->v.ptr = dstr_create("value", 5);
        assert_non_null(n->v.ptr);
    }
    for (long i = 0; i < 30; i++) {
        char k[32];
        int kl = keyname(k, i);
        assert_int_equal(dict_delete(d, k, (size_t)kl, count_vfree), 1);
        assert_int_equal(dict_delete(d, k, (size_t)kl, count_vfree), 0);
    }
    assert_int_equal(vfree_calls, 30);
    /* unlink hands over the node with its value */
    char k[32];
    int kl = keyname(k, 50);
    struct dict_node *n = dict_unlink(d, k, (size_t)kl);
    assert_non_null(n);
    assert_null(n->next);
    assert_memory_equal(((struct dstr *)n->v.ptr)->s, "value", 5);
    free(n->v.ptr);
    free(n);
    assert_int_equal(dict_size(d), 69);
    dict_destroy(d, count_vfree);
    assert_int_equal(vfree_calls, 99);
}

/* ---- resizing ---------------------------------------------------------- */

static void test_grow_to_100k_keeps_every_key(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    for (long i = 0; i < 100000; i++) {
        add(d, i);
        if (i % 9973 == 0) {
            check_structure(d);
            for (long j = 0; j <= i; j += 97)
                assert_has(d, j);
        }
    }
    assert_int_equal(dict_size(d), 100000);
    for (long i = 0; i < 100000; i++)
        assert_has(d, i);
    assert_null(find(d, 100000));
    finish_rehash(d);
    check_structure(d);
    /* load factor 1: the table holds at least as many buckets as nodes / 2 */
    assert_true(table_size(d) >= 65536);
    assert_true(table_size(d) <= 262144);
    dict_destroy(d, NULL);
}

static void test_grow_starts_when_used_reaches_size(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    add(d, 0);
    assert_int_equal(table_size(d), 4);
    for (long i = 1; i < 4; i++)
        add(d, i);
    assert_int_equal(d->rehashidx, -1);
    add(d, 4); /* used == size before this add */
    assert_true(d->rehashidx != -1 || table_size(d) == 8);
    finish_rehash(d);
    assert_int_equal(table_size(d), 8);
    check_structure(d);
    dict_destroy(d, NULL);
}

static void test_deletes_shrink_the_table_but_never_below_4(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    for (long i = 0; i < 10000; i++)
        add(d, i);
    finish_rehash(d);
    uint64_t big = table_size(d);
    assert_true(big >= 8192);
    for (long i = 0; i < 10000; i++) {
        assert_int_equal(del(d, i), 1);
        if (i % 997 == 0)
            check_structure(d);
        if (i % 1500 == 0)
            for (long j = i + 1; j < 10000; j += 101)
                assert_has(d, j);
    }
    assert_int_equal(dict_size(d), 0);
    finish_rehash(d);
    assert_int_equal(table_size(d), 4);
    check_structure(d);
    /* reusable after being emptied */
    add(d, 7);
    assert_has(d, 7);
    dict_destroy(d, NULL);
}

static void test_shrink_needs_a_table_under_one_tenth_full(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    for (long i = 0; i < 1024; i++)
        add(d, i);
    finish_rehash(d);
    assert_int_equal(table_size(d), 1024);
    /* down to 103 of 1024: still >= 10% */
    for (long i = 0; i < 1024 - 103; i++)
        assert_int_equal(del(d, i), 1);
    assert_int_equal(d->rehashidx, -1);
    assert_int_equal(table_size(d), 1024);
    /* 101 of 1024: under 10%, a shrink to 128 starts */
    assert_int_equal(del(d, 1024 - 103), 1);
    assert_int_equal(del(d, 1024 - 102), 1);
    finish_rehash(d);
    assert_int_equal(table_size(d), 128);
    for (long i = 1024 - 101; i < 1024; i++)
        assert_has(d, i);
    check_structure(d);
    dict_destroy(d, NULL);
}

static void test_find_add_delete_correct_in_the_middle_of_a_rehash(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    unsigned char gone[4097] = { 0 };
    for (long i = 0; i < 4096; i++)
        add(d, i);
    finish_rehash(d);
    add(d, 4096); /* starts 4096 -> 8192 */
    assert_true(d->rehashidx != -1);
    /* mid-rehash: deletes from both tables keep exact counts */
    int deleted_mid = 0;
    for (long i = 0; i < 4097 && d->rehashidx != -1; i += 3) {
        assert_int_equal(del(d, i), 1);
        gone[i] = 1;
        deleted_mid++;
        check_structure(d);
    }
    assert_true(deleted_mid > 10);
    for (long i = 0; i < 4097; i++) {
        if (gone[i])
            assert_null(find(d, i));
        else
            assert_has(d, i);
    }
    dict_destroy(d, NULL);
}

static void test_destroy_mid_rehash_frees_both_tables(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    vfree_calls = 0;
    for (long i = 0; i < 4097; i++) {
        struct dict_node *n = add(d, i);
        n->v.ptr = malloc(8);
    }
    assert_true(d->rehashidx != -1);
    assert_true(d->t[1].used > 0);
    dict_destroy(d, count_vfree); /* ASan's leak check fails on a leak */
    assert_int_equal(vfree_calls, 4097);
}

/* ---- scan -------------------------------------------------------------- */

struct seen {
    unsigned char *count; /* per index */
    long n;
};

static void seen_fn(struct dict_node *n, void *ud)
{
    struct seen *s = ud;
    long i = 0;
    assert_true(n->len > 6 && memcmp(n->key, "field:", 6) == 0);
    for (uint32_t j = 6; j < n->len; j++)
        i = i * 10 + (n->key[j] - '0');
    assert_true(i >= 0 && i < s->n);
    if (s->count[i] < 255)
        s->count[i]++;
}

static void test_scan_of_stable_dict_returns_each_node_exactly_once(void **state)
{
    (void)state;
    long n = 5000;
    struct dict *d = dict_create(SEED);
    for (long i = 0; i < n; i++)
        add(d, i);
    finish_rehash(d);
    struct seen s = { calloc((size_t)n, 1), n };
    uint64_t cur = 0;
    int calls = 0;
    do {
        cur = dict_scan(d, cur, seen_fn, &s);
        calls++;
    } while (cur != 0);
    assert_int_equal(calls, table_size(d));
    for (long i = 0; i < n; i++)
        assert_int_equal(s.count[i], 1);
    free(s.count);
    assert_int_equal(dict_scan(d, 0, seen_fn, &(struct seen){ NULL, 0 }) == 0, 0);
    dict_destroy(d, NULL);
    struct dict *e = dict_create(SEED);
    assert_int_equal(dict_scan(e, 0, seen_fn, NULL), 0);
    assert_int_equal(dict_scan(e, 12345, seen_fn, NULL), 0);
    dict_destroy(e, NULL);
}

/* Scans while adding (mode 0) or deleting (mode 1) other keys between calls,
 * so the table grows or shrinks and rehashes mid-scan; every key of the
 * stable set must be seen. */
static void scan_under_churn(uint64_t seed, long stable, long churn, int mode)
{
    struct util_rng r;
    util_rng_seed(&r, seed);
    struct dict *d = dict_create(seed);
    long total = stable + churn;
    for (long i = 0; i < stable; i++)
        add(d, i);
    if (mode == 1)
        for (long i = stable; i < total; i++)
            add(d, i);
    struct seen s = { calloc((size_t)total, 1), total };
    uint64_t cur = 0;
    long next_churn = stable;
    int resized = 0;
    uint64_t size0 = table_size(d);
    do {
        cur = dict_scan(d, cur, seen_fn, &s);
        long k = (long)(util_rng_next(&r) % 200);
        for (long j = 0; j < k && next_churn < total; j++, next_churn++) {
            if (mode == 0)
                add(d, next_churn);
            else
                assert_int_equal(del(d, next_churn), 1);
        }
        if (table_size(d) != size0 || d->rehashidx != -1)
            resized = 1;
    } while (cur != 0);
    assert_true(resized);
    for (long i = 0; i < stable; i++)
        if (s.count[i] == 0)
            fail_msg("seed %llu mode %d: stable key %ld never returned", (unsigned long long)seed, mode, i);
    free(s.count);
    dict_destroy(d, NULL);
}

static void test_scan_returns_every_stable_node_while_dict_grows(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++)
        scan_under_churn(seed, 300, 30000, 0);
}

static void test_scan_returns_every_stable_node_while_dict_shrinks(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++)
        scan_under_churn(seed, 300, 30000, 1);
}

/* ---- random ------------------------------------------------------------ */

static void test_random_returns_members_and_reaches_all(void **state)
{
    (void)state;
    struct util_rng r;
    util_rng_seed(&r, 42);
    struct dict *d = dict_create(SEED);
    long n = 50;
    for (long i = 0; i < n; i++)
        add(d, i);
    struct seen s = { calloc((size_t)n, 1), n };
    for (int i = 0; i < 5000; i++) {
        struct dict_node *node = dict_random(d, rng_fn, &r);
        assert_non_null(node);
        seen_fn(node, &s);
    }
    for (long i = 0; i < n; i++)
        assert_true(s.count[i] > 0);
    free(s.count);
    /* a single element is always the answer, also after deletes shrink */
    for (long i = 1; i < n; i++)
        assert_int_equal(del(d, i), 1);
    for (int i = 0; i < 100; i++) {
        struct dict_node *node = dict_random(d, rng_fn, &r);
        assert_non_null(node);
        assert_int_equal(node->v.i, 0);
        assert_memory_equal(node->key, "field:0", 7);
    }
    dict_destroy(d, NULL);
}

static void test_random_mid_rehash_returns_members(void **state)
{
    (void)state;
    struct util_rng r;
    util_rng_seed(&r, 7);
    struct dict *d = dict_create(SEED);
    for (long i = 0; i < 1025; i++)
        add(d, i);
    while (d->rehashidx == -1) /* make sure one is running */
        add(d, (long)dict_size(d));
    long n = (long)dict_size(d);
    struct seen s = { calloc((size_t)n, 1), n };
    for (int i = 0; i < 200 && d->rehashidx != -1; i++) {
        struct dict_node *node = dict_random(d, rng_fn, &r);
        assert_non_null(node);
        seen_fn(node, &s);
        check_structure(d);
    }
    free(s.count);
    dict_destroy(d, NULL);
}

/* ---- iteration --------------------------------------------------------- */

static void iterate_all(struct dict *d, long n)
{
    struct seen s = { calloc((size_t)n, 1), n };
    struct dict_iter it;
    struct dict_node *node;
    long visited = 0;
    dict_iter_init(&it, d);
    while ((node = dict_iter_next(&it)) != NULL) {
        seen_fn(node, &s);
        visited++;
    }
    assert_null(dict_iter_next(&it));
    dict_iter_done(&it);
    assert_int_equal(d->iterators, 0);
    assert_int_equal(visited, n);
    for (long i = 0; i < n; i++)
        assert_int_equal(s.count[i], 1);
    free(s.count);
}

static void test_iterator_visits_each_node_once_also_mid_rehash(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    iterate_all(d, 0);
    for (long i = 0; i < 1000; i++)
        add(d, i);
    finish_rehash(d);
    iterate_all(d, 1000);
    for (long i = 1000; i < 1025; i++)
        add(d, i);
    assert_true(d->rehashidx != -1);
    iterate_all(d, 1025);
    dict_destroy(d, NULL);
}

static void test_iterator_pauses_rehash_and_allows_deleting_current(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    for (long i = 0; i < 1025; i++)
        add(d, i);
    assert_true(d->rehashidx != -1);
    int64_t idx = d->rehashidx;
    struct dict_iter it;
    struct dict_node *node;
    long visited = 0, deleted = 0;
    vfree_calls = 0;
    dict_iter_init(&it, d);
    while ((node = dict_iter_next(&it)) != NULL) {
        visited++;
        if (node->v.i % 2 == 0) {
            char k[32];
            memcpy(k, node->key, node->len);
            /* the node is freed here: the iterator must not touch it again */
            assert_int_equal(dict_delete(d, k, node->len, NULL), 1);
            deleted++;
        } else {
            assert_non_null(dict_find(d, node->key, node->len));
        }
        assert_int_equal(d->rehashidx, idx); /* no rehash step meanwhile */
    }
    dict_iter_done(&it);
    assert_int_equal(visited, 1025);
    assert_int_equal(deleted, 513);
    assert_int_equal(dict_size(d), 512);
    check_structure(d);
    for (long i = 0; i < 1025; i++) {
        if (i % 2)
            assert_has(d, i);
        else
            assert_null(find(d, i));
    }
    /* rehashing resumes once the iterator is done */
    finish_rehash(d);
    check_structure(d);
    dict_destroy(d, NULL);
}

static void test_deleting_all_while_iterating_defers_shrink(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    for (long i = 0; i < 512; i++)
        add(d, i);
    finish_rehash(d);
    uint64_t size = table_size(d);
    struct dict_iter it;
    struct dict_node *node;
    dict_iter_init(&it, d);
    while ((node = dict_iter_next(&it)) != NULL) {
        struct dict_node *u = dict_unlink(d, node->key, node->len);
        assert_ptr_equal(u, node);
        free(u);
        assert_int_equal(table_size(d), size);
        assert_int_equal(d->rehashidx, -1);
    }
    dict_iter_done(&it);
    assert_int_equal(dict_size(d), 0);
    dict_destroy(d, NULL);
}

/* ---- memory ------------------------------------------------------------ */

static void test_mem_counts_nodes_and_buckets(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    add(d, 1);
    size_t one = dict_mem(d);
    assert_true(one >= 4 * sizeof(void *) + offsetof(struct dict_node, key) + 7);
    for (long i = 2; i <= 1000; i++)
        add(d, i);
    finish_rehash(d);
    size_t many = dict_mem(d);
    assert_true(many >= 1000 * (offsetof(struct dict_node, key) + 7) + table_size(d) * sizeof(void *));
    assert_true(many < 1000 * 64 + table_size(d) * sizeof(void *) * 2);
    dict_destroy(d, NULL);
}

/* ---- allocation failures ----------------------------------------------- */

static void test_failed_first_table_or_node_fails_add_cleanly(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    int added = -1;
    arm(0, -1); /* the bucket array fails */
    assert_null(dict_add(d, "a", 1, &added));
    disarm();
    assert_int_equal(added, 0);
    assert_int_equal(dict_size(d), 0);
    arm(1, -1); /* the bucket array succeeds, the node fails */
    assert_null(dict_add(d, "a", 1, &added));
    disarm();
    assert_int_equal(added, 0);
    assert_int_equal(dict_size(d), 0);
    assert_null(dict_find(d, "a", 1));
    check_structure(d);
    /* and everything works afterwards */
    for (long i = 0; i < 100; i++)
        add(d, i);
    arm(0, -1); /* node allocation fails with a table present */
    char k[32];
    int kl = keyname(k, 100);
    assert_null(dict_add(d, k, (size_t)kl, &added));
    /* an existing key needs no allocation */
    kl = keyname(k, 5);
    assert_non_null(dict_add(d, k, (size_t)kl, &added));
    disarm();
    assert_int_equal(added, 0);
    assert_int_equal(dict_size(d), 100);
    check_structure(d);
    dict_destroy(d, NULL);
}

static void test_failed_grow_still_adds(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    for (long i = 0; i < 64; i++)
        add(d, i);
    finish_rehash(d);
    assert_int_equal(table_size(d), 64);
    /* the add that would grow: its first allocation (the new bucket array)
     * fails once, the node's succeeds; the table keeps its size */
    arm(0, 1);
    add(d, 64);
    disarm();
    assert_int_equal(allocs, 2);
    assert_int_equal(d->rehashidx, -1);
    assert_int_equal(table_size(d), 64);
    /* further adds keep trying to grow while they fail: chains get longer */
    for (long i = 65; i < 200; i++) {
        arm(0, 1);
        add(d, i);
        disarm();
        assert_int_equal(d->rehashidx, -1);
    }
    assert_int_equal(table_size(d), 64);
    check_structure(d);
    /* with memory back, the next add grows */
    add(d, 200);
    finish_rehash(d);
    assert_int_equal(table_size(d), 128);
    for (long i = 0; i <= 200; i++)
        assert_has(d, i);
    check_structure(d);
    dict_destroy(d, NULL);
}

static void test_failed_shrink_still_deletes(void **state)
{
    (void)state;
    struct dict *d = dict_create(SEED);
    for (long i = 0; i < 1024; i++)
        add(d, i);
    finish_rehash(d);
    arm(0, -1); /* every allocation fails: shrinks cannot start */
    for (long i = 0; i < 1000; i++)
        assert_int_equal(del(d, i), 1);
    disarm();
    assert_int_equal(table_size(d), 1024);
    assert_int_equal(d->rehashidx, -1);
    for (long i = 1000; i < 1024; i++)
        assert_has(d, i);
    check_structure(d);
    /* once memory is back the next delete shrinks */
    assert_int_equal(del(d, 1000), 1);
    finish_rehash(d);
    assert_int_equal(table_size(d), 32);
    dict_destroy(d, NULL);
}

static void test_reads_deletes_scan_and_iteration_never_allocate(void **state)
{
    (void)state;
    struct util_rng r;
    util_rng_seed(&r, 3);
    struct dict *d = dict_create(SEED);
    for (long i = 0; i < 3000; i++)
        add(d, i);
    arm(0, -1);
    for (long i = 0; i < 3000; i++)
        assert_has(d, i);
    (void)dict_random(d, rng_fn, &r);
    struct seen s = { NULL, 0 };
    s.n = 3000;
    disarm();
    s.count = calloc(3000, 1);
    arm(0, -1);
    uint64_t cur = 0;
    do
        cur = dict_scan(d, cur, seen_fn, &s);
    while (cur);
    struct dict_iter it;
    dict_iter_init(&it, d);
    long n = 0;
    while (dict_iter_next(&it))
        n++;
    dict_iter_done(&it);
    assert_int_equal(n, 3000);
    (void)dict_mem(d);
    for (long i = 0; i < 3000; i += 2)
        assert_int_equal(del(d, i), 1);
    long failed_allocs = allocs;
    disarm();
    /* only shrink attempts may have asked for memory, and failed harmlessly */
    assert_true(failed_allocs <= 1500);
    for (long i = 0; i < 3000; i++)
        assert_true(s.count[i] >= 1);
    free(s.count);
    for (long i = 1; i < 3000; i += 2)
        assert_has(d, i);
    check_structure(d);
    dict_destroy(d, NULL);
}

/* ---- random operations against a model --------------------------------- */

static void test_random_ops_match_a_model(void **state)
{
    (void)state;
    enum { N = 4000 };
    struct util_rng r;
    util_rng_seed(&r, 99);
    struct dict *d = dict_create(SEED);
    unsigned char present[N] = { 0 };
    long count = 0;
    for (int op = 0; op < 200000; op++) {
        long i = (long)(util_rng_next(&r) % N);
        unsigned kind = (unsigned)(util_rng_next(&r) % 10);
        char k[32];
        int kl = keyname(k, i);
        if (kind < 5) {
            int added;
            struct dict_node *n = dict_add(d, k, (size_t)kl, &added);
            assert_non_null(n);
            assert_int_equal(added, !present[i]);
            if (added) {
                n->v.i = i;
                present[i] = 1;
                count++;
            }
        } else if (kind < 8) {
            assert_int_equal(dict_delete(d, k, (size_t)kl, NULL), present[i]);
            if (present[i])
                count--;
            present[i] = 0;
        } else {
            struct dict_node *n = dict_find(d, k, (size_t)kl);
            assert_int_equal(n != NULL, present[i]);
            if (n)
                assert_int_equal(n->v.i, i);
        }
        assert_int_equal(dict_size(d), count);
        if (op % 20000 == 0)
            check_structure(d);
    }
    check_structure(d);
    dict_destroy(d, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_dict_answers_absent_everywhere),
        cmocka_unit_test(test_dstr_create_copies_bytes),
        cmocka_unit_test(test_add_then_find_and_duplicate_add_returns_existing),
        cmocka_unit_test(test_empty_and_binary_keys_are_distinct_keys),
        cmocka_unit_test(test_seed_changes_bucket_placement_not_contents),
        cmocka_unit_test(test_values_are_freed_once_on_delete_and_destroy),
        cmocka_unit_test(test_grow_to_100k_keeps_every_key),
        cmocka_unit_test(test_grow_starts_when_used_reaches_size),
        cmocka_unit_test(test_deletes_shrink_the_table_but_never_below_4),
        cmocka_unit_test(test_shrink_needs_a_table_under_one_tenth_full),
        cmocka_unit_test(test_find_add_delete_correct_in_the_middle_of_a_rehash),
        cmocka_unit_test(test_destroy_mid_rehash_frees_both_tables),
        cmocka_unit_test(test_scan_of_stable_dict_returns_each_node_exactly_once),
        cmocka_unit_test(test_scan_returns_every_stable_node_while_dict_grows),
        cmocka_unit_test(test_scan_returns_every_stable_node_while_dict_shrinks),
        cmocka_unit_test(test_random_returns_members_and_reaches_all),
        cmocka_unit_test(test_random_mid_rehash_returns_members),
        cmocka_unit_test(test_iterator_visits_each_node_once_also_mid_rehash),
        cmocka_unit_test(test_iterator_pauses_rehash_and_allows_deleting_current),
        cmocka_unit_test(test_deleting_all_while_iterating_defers_shrink),
        cmocka_unit_test(test_mem_counts_nodes_and_buckets),
        cmocka_unit_test(test_failed_first_table_or_node_fails_add_cleanly),
        cmocka_unit_test(test_failed_grow_still_adds),
        cmocka_unit_test(test_failed_shrink_still_deletes),
        cmocka_unit_test(test_reads_deletes_scan_and_iteration_never_allocate),
        cmocka_unit_test(test_random_ops_match_a_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
