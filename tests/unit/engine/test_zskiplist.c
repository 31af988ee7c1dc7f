/*
 * test_zskiplist.c -- unit tests for engine/zskiplist.c: the skiplist's
 * invariants (zskiplist.h: order, spans, length, tail, level) checked after
 * every operation of random runs against a sorted array, ranks both ways,
 * range deletions with their callback, the level distribution, and the
 * shared range tests.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/dict.h"
#include "engine/err.h"
#include "engine/util.h"
#include "engine/zskiplist.h"

/* Members live in dict nodes, as in a sorted set; here plain mallocs. */
static struct dict_node *node_of(const char *m)
{
    size_t len = strlen(m);
    struct dict_node *n = calloc(1, sizeof(*n) + len);

    n->len = (uint32_t)len;
    memcpy(n->key, m, len);
    return n;
}

/* Checks every invariant of zskiplist.h; returns the number of nodes. */
static uint64_t check(const struct zsl *zsl)
{
    const struct zsl_node *x, *prev = NULL;
    uint64_t n = 0;

    assert_true(zsl->level >= 1 && zsl->level <= ZSL_MAXLEVEL);
    for (x = zsl->header->level[0].forward; x; x = x->level[0].forward) {
        assert_ptr_equal(x->backward, prev);
        if (prev)
            assert_true(prev->score < x->score ||
                        (prev->score == x->score &&
                         zset_memcmp(prev->ele->key, prev->ele->len, x->ele->key, x->ele->len) < 0));
        prev = x;
        n++;
    }
    assert_ptr_equal(zsl->tail, prev);
    assert_int_equal(zsl->length, n);
    /* spans: at every level, the span of a link is the rank difference */
    for (int i = 0; i < zsl->level; i++) {
        uint64_t rank = 0;

        x = zsl->header;
        while (x) {
            const struct zsl_node *f = x->level[i].forward;
            uint64_t steps = 0;
            const struct zsl_node *y = x;

            if (!f)
                break;
            while (y != f) {
                y = y->level[0].forward;
                steps++;
            }
            assert_int_equal(x->level[i].span, steps);
            rank += steps;
            assert_int_equal(zsl_rank(zsl, f->score, f->ele->key, f->ele->len), rank);
            x = f;
        }
    }
    if (zsl->level > 1)
        assert_non_null(zsl->header->level[zsl->level - 1].forward);
    return n;
}

struct mnode {
    double s;
    struct dict_node *dn;
};

static int mcmp(const void *a, const void *b)
{
    const struct mnode *x = a, *y = b;

    if (x->s != y->s)
        return x->s < y->s ? -1 : 1;
    return zset_memcmp(x->dn->key, x->dn->len, y->dn->key, y->dn->len);
}

static void test_random_inserts_and_deletes_keep_invariants(void **state)
{
    struct zsl zsl;
    struct util_rng rng;
    struct mnode model[600];
    size_t n = 0;

    (void)state;
    util_rng_seed(&rng, 11);
    assert_int_equal(zsl_init(&zsl), ST_OK);
    for (int step = 0; step < 3000; step++) {
        if (n < 600 && (n == 0 || util_rng_next(&rng) % 3 != 0)) {
            char m[16];
            double s = (double)(util_rng_next(&rng) % 50);

            snprintf(m, sizeof(m), "m%d", step);
            model[n].s = s;
            model[n].dn = node_of(m);
            assert_non_null(zsl_insert(&zsl, s, model[n].dn, zsl_random_level(&rng)));
            n++;
        } else {
            size_t i = (size_t)(util_rng_next(&rng) % n);

            assert_int_equal(zsl_delete(&zsl, model[i].s, model[i].dn->key, model[i].dn->len), 1);
            assert_int_equal(zsl_delete(&zsl, model[i].s, model[i].dn->key, model[i].dn->len), 0);
            free(model[i].dn);
            model[i] = model[--n];
        }
        if (step % 50 == 0)
            assert_int_equal(check(&zsl), n);
    }
    qsort(model, n, sizeof(model[0]), mcmp);
    assert_int_equal(check(&zsl), n);
    for (size_t i = 0; i < n; i++) {
        struct zsl_node *x = zsl_by_rank(&zsl, i + 1);

        assert_ptr_equal(x->ele, model[i].dn);
        assert_int_equal(zsl_rank(&zsl, model[i].s, model[i].dn->key, model[i].dn->len), i + 1);
    }
    assert_null(zsl_by_rank(&zsl, 0));
    assert_null(zsl_by_rank(&zsl, n + 1));
    assert_int_equal(zsl_rank(&zsl, 1e9, "zz", 2), 0);
    zsl_deinit(&zsl);
    for (size_t i = 0; i < n; i++)
        free(model[i].dn);
}

struct del_acc {
    int n;
    double sum;
};

static void on_del(struct zsl_node *x, void *ud)
{
    struct del_acc *a = ud;

    a->n++;
    a->sum += x->score;
    free(x->ele);
}

/* 100 nodes, scores 0..99, members "k<score>". */
static void fill(struct zsl *zsl, struct util_rng *rng)
{
    assert_int_equal(zsl_init(zsl), ST_OK);
    for (int i = 0; i < 100; i++) {
        char m[16];

        snprintf(m, sizeof(m), "k%02d", i);
        assert_non_null(zsl_insert(zsl, i, node_of(m), zsl_random_level(rng)));
    }
}

static void free_all(struct zsl *zsl)
{
    for (struct zsl_node *x = zsl->header->level[0].forward; x; x = x->level[0].forward)
        free(x->ele);
    zsl_deinit(zsl);
}

static void test_range_deletions(void **state)
{
    struct zsl zsl;
    struct util_rng rng;
    struct del_acc a = { 0, 0 };
    struct zset_srange sr = { 10, 20, 1, 0 };
    struct zset_lrange lr = { (const unsigned char *)"k50", (const unsigned char *)"k60", 3, 3, 0, 1, 0, 0 };

    (void)state;
    util_rng_seed(&rng, 5);
    fill(&zsl, &rng);
    assert_int_equal(zsl_delete_score(&zsl, &sr, on_del, &a), 10); /* (10, 20] */
    assert_true(a.n == 10 && a.sum == 155);
    assert_int_equal(check(&zsl), 90);
    a = (struct del_acc){ 0, 0 };
    assert_int_equal(zsl_delete_lex(&zsl, &lr, on_del, &a), 10); /* [k50, k60) */
    assert_int_equal(check(&zsl), 80);
    a = (struct del_acc){ 0, 0 };
    assert_int_equal(zsl_delete_rank(&zsl, 1, 5, on_del, &a), 5);
    assert_true(a.sum == 0 + 1 + 2 + 3 + 4);
    assert_int_equal(zsl_delete_rank(&zsl, 76, 1000, on_del, &a), 0); /* past the end */
    assert_int_equal(zsl_delete_rank(&zsl, 75, 1000, on_del, &a), 1); /* the tail */
    assert_int_equal(check(&zsl), 74);
    /* empty and inverted ranges delete nothing */
    sr = (struct zset_srange){ 30, 30, 1, 0 };
    assert_int_equal(zsl_delete_score(&zsl, &sr, on_del, &a), 0);
    assert_int_equal(zsl_delete_rank(&zsl, 5, 4, on_del, &a), 0);
    assert_int_equal(zsl_delete_rank(&zsl, 0, 4, on_del, &a), 0);
    assert_int_equal(check(&zsl), 74);
    free_all(&zsl);
}

static void test_first_and_last_in_ranges(void **state)
{
    struct zsl zsl;
    struct util_rng rng;
    struct zset_srange sr = { 10.5, 20, 0, 1 };
    struct zset_lrange lr = { NULL, (const unsigned char *)"k05", 0, 3, 1, 0, -1, 0 };

    (void)state;
    util_rng_seed(&rng, 6);
    fill(&zsl, &rng);
    assert_true(zsl_first_in_score(&zsl, &sr)->score == 11);
    assert_true(zsl_last_in_score(&zsl, &sr)->score == 19);
    sr = (struct zset_srange){ 99, INFINITY, 1, 0 };
    assert_null(zsl_first_in_score(&zsl, &sr));
    assert_null(zsl_last_in_score(&zsl, &sr));
    sr = (struct zset_srange){ -INFINITY, 0, 0, 0 };
    assert_true(zsl_last_in_score(&zsl, &sr)->score == 0);
    assert_true(zsl_first_in_lex(&zsl, &lr)->score == 0);
    assert_true(zsl_last_in_lex(&zsl, &lr)->score == 5);
    lr.maxinf = 1;
    assert_true(zsl_last_in_lex(&zsl, &lr)->score == 99);
    assert_true(zsl_mem(&zsl) > 100 * sizeof(struct zsl_node));
    free_all(&zsl);
}

static void test_levels_follow_p(void **state)
{
    struct util_rng rng;
    int hist[ZSL_MAXLEVEL + 1] = { 0 };
    int n = 200000;

    (void)state;
    util_rng_seed(&rng, 9);
    for (int i = 0; i < n; i++) {
        int l = zsl_random_level(&rng);
        assert_true(l >= 1 && l <= ZSL_MAXLEVEL);
        hist[l]++;
    }
    /* P(level 1) = 0.75, P(level 2) = 0.1875 */
    assert_true(hist[1] > n * 0.74 && hist[1] < n * 0.76);
    assert_true(hist[2] > n * 0.18 && hist[2] < n * 0.195);
}

static void test_range_helpers(void **state)
{
    struct zset_srange sr = { 1, 2, 0, 0 };
    struct zset_lrange lr = { (const unsigned char *)"b", (const unsigned char *)"b", 1, 1, 0, 0, 0, 0 };

    (void)state;
    assert_false(zset_srange_empty(&sr));
    sr.minex = 1;
    sr.max = 1;
    assert_true(zset_srange_empty(&sr));
    sr = (struct zset_srange){ 3, 2, 0, 0 };
    assert_true(zset_srange_empty(&sr));
    assert_false(zset_lrange_empty(&lr));
    lr.maxex = 1;
    assert_true(zset_lrange_empty(&lr));
    lr = (struct zset_lrange){ NULL, NULL, 0, 0, 1, 1, -1, 1 };
    assert_false(zset_lrange_empty(&lr));
    assert_true(zset_lex_gte_min("", 0, &lr) && zset_lex_lte_max("\xff", 1, &lr));
    lr.mininf = 1;
    assert_true(zset_lrange_empty(&lr));
    lr = (struct zset_lrange){ NULL, NULL, 0, 0, 1, 1, -1, -1 };
    assert_true(zset_lrange_empty(&lr));
    assert_true(zset_memcmp("a", 1, "ab", 2) < 0);
    assert_true(zset_memcmp("b", 1, "ab", 2) > 0);
    assert_true(zset_memcmp("", 0, "", 0) == 0);
    assert_true(zset_memcmp("\x80", 1, "\x7f", 1) > 0); /* unsigned bytes */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_inserts_and_deletes_keep_invariants),
        cmocka_unit_test(test_range_deletions),
        cmocka_unit_test(test_first_and_last_in_ranges),
        cmocka_unit_test(test_levels_follow_p),
        cmocka_unit_test(test_range_helpers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
