/*
 * test_t_list.c -- unit tests for engine/t_list.c: the quicklist of lpack
 * nodes behind OBJ_LIST.
 *
 * What is protected: the element sequence under every operation (checked
 * against a plain array model, including 20k-step random runs per node-size
 * setting), the structural invariants (list_verify), node splitting and
 * merging at the size and count boundaries exactly where Redis's quicklist
 * splits and merges (node counts after each step were recorded from
 * redis-server 7.0.15 with DEBUG OBJECT's ql_nodes, see the parity tables),
 * and Redis 7.2's listpack <-> quicklist switch points.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/entry.h"
#include "engine/err.h"
#include "engine/lpack.h"
#include "engine/t_list.h"
#include "engine/util.h"

/* ---- helpers ----------------------------------------------------------- */

/* A value made of n copies of byte c (n < 70000), in a rotating static buffer. */
static const char *mkval(int n, int c)
{
    static char buf[4][70000];
    static int k;
    char *b = buf[k++ & 3];

    memset(b, c, (size_t)n);
    b[n] = '\0';
    return b;
}

/* The text of an element, in buf (>= 21 bytes) or pointing into the list. */
static const char *val_text(const struct lp_val *v, char *buf, size_t *len)
{
    return (const char *)lp_val_str(v, (unsigned char *)buf, len);
}

/* Asserts v is the string s. */
static void assert_val(const struct lp_val *v, const char *s)
{
    char buf[32];
    size_t len;
    const char *p = val_text(v, buf, &len);

    assert_int_equal(len, strlen(s));
    assert_memory_equal(p, s, len);
}

static void push(struct list *l, enum list_where w, const char *s, int32_t fill)
{
    list_convert_grow(l, 1, strlen(s), fill);
    assert_int_equal(list_push(l, w, s, strlen(s), fill), ST_OK);
}

/* Asserts the list holds exactly want[0..n), reading it both ways. */
static void assert_list(struct list *l, const char *const *want, size_t n)
{
    struct list_iter it;
    struct lp_val v;
    size_t i = 0;

    assert_int_equal(list_verify(l), ST_OK);
    assert_int_equal(list_len(l), n);
    list_iter_init(l, 0, LIST_TAIL, &it);
    while (list_iter_next(&it, &v)) {
        assert_true(i < n);
        assert_val(&v, want[i]);
        i++;
    }
    assert_int_equal(i, n);
    list_iter_init(l, -1, LIST_HEAD, &it);
    while (list_iter_next(&it, &v)) {
        assert_true(i > 0);
        i--;
        assert_val(&v, want[i]);
    }
    assert_int_equal(i, 0);
}

/* The element counts of l's nodes, head to tail, into out; returns nnodes. */
static int node_counts(const struct list *l, uint32_t *out, int max)
{
    int i = 0;

    for (const struct list_node *n = l->head; n && i < max; n = n->next)
        out[i++] = lp_count(n->lp);
    return i;
}

static void assert_nodes(const struct list *l, const uint32_t *want, int n)
{
    uint32_t got[64];
    int k = node_counts(l, got, 64);

    assert_int_equal(k, n);
    assert_int_equal(l->nnodes, (uint32_t)n);
    for (int i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

/* A quicklist from the start (as every list is in Redis 7.0). */
static struct list *mk_quick(void)
{
    struct list *l = list_create();

    assert_non_null(l);
    l->quick = 1;
    return l;
}

/* ---- the array model --------------------------------------------------- */

struct model {
    char **v;
    size_t n, cap;
};

static void model_insert(struct model *m, size_t at, const char *s)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->v = realloc(m->v, m->cap * sizeof(*m->v));
        assert_non_null(m->v);
    }
    memmove(m->v + at + 1, m->v + at, (m->n - at) * sizeof(*m->v));
    m->v[at] = strdup(s);
    m->n++;
}

static void model_delete(struct model *m, size_t at, size_t cnt)
{
    for (size_t i = at; i < at + cnt; i++)
        free(m->v[i]);
    memmove(m->v + at, m->v + at + cnt, (m->n - at - cnt) * sizeof(*m->v));
    m->n -= cnt;
}

static void model_free(struct model *m)
{
    model_delete(m, 0, m->n);
    free(m->v);
    m->v = NULL;
    m->cap = 0;
}

static void assert_model(struct list *l, const struct model *m)
{
    assert_list(l, (const char *const *)m->v, m->n);
}

/* Index of the first element equal to s, or -1. */
static long model_find(const struct model *m, const char *s)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i], s) == 0)
            return (long)i;
    return -1;
}

/* LREM on the model. */
static uint64_t model_rem(struct model *m, long long count, const char *s)
{
    uint64_t removed = 0, to = count < 0 ? (uint64_t)(-count) : (uint64_t)count;

    if (count >= 0) {
        for (size_t i = 0; i < m->n && (!to || removed < to);) {
            if (strcmp(m->v[i], s) == 0) {
                model_delete(m, i, 1);
                removed++;
            } else {
                i++;
            }
        }
    } else {
        for (size_t i = m->n; i > 0 && removed < to; i--) {
            if (strcmp(m->v[i - 1], s) == 0) {
                model_delete(m, i - 1, 1);
                removed++;
            }
        }
    }
    return removed;
}

/* ---- basics ------------------------------------------------------------ */

static void test_empty_list_is_listpack_with_no_node(void **state)
{
    struct list *l = list_create();
    struct lp_val v;

    (void)state;
    assert_non_null(l);
    assert_string_equal(list_encoding(l), "listpack");
    assert_int_equal(list_len(l), 0);
    assert_null(l->head);
    assert_int_equal(list_peek(l, LIST_HEAD, &v), ST_ENOENT);
    assert_int_equal(list_index(l, 0, &v), ST_ENOENT);
    assert_int_equal(list_index(l, -1, &v), ST_ENOENT);
    assert_int_equal(list_verify(l), ST_OK);
    list_destroy(l);
    list_destroy(NULL);
}

static void test_push_pop_both_ends_strings_and_ints(void **state)
{
    struct list *l = list_create();
    struct lp_val v;

    (void)state;
    push(l, LIST_TAIL, "b", -2);
    push(l, LIST_TAIL, "12", -2);
    push(l, LIST_HEAD, "a", -2);
    push(l, LIST_HEAD, "-7", -2);
    push(l, LIST_TAIL, "012", -2); /* not canonical: stays a string */
    push(l, LIST_TAIL, "", -2);
    {
        const char *want[] = { "-7", "a", "b", "12", "012", "" };
        assert_list(l, want, 6);
    }
    assert_int_equal(list_peek(l, LIST_HEAD, &v), ST_OK);
    assert_null(v.s);
    assert_int_equal(v.i, -7);
    assert_int_equal(list_peek(l, LIST_TAIL, &v), ST_OK);
    assert_val(&v, "");
    list_pop(l, LIST_HEAD, 1);
    list_pop(l, LIST_TAIL, 2);
    {
        const char *want[] = { "a", "b", "12" };
        assert_list(l, want, 3);
    }
    list_pop(l, LIST_TAIL, 100);
    assert_int_equal(list_len(l), 0);
    assert_null(l->head);
    assert_null(l->tail);
    assert_int_equal(l->nnodes, 0);
    /* an emptied list takes pushes again */
    push(l, LIST_HEAD, "z", -2);
    {
        const char *want[] = { "z" };
        assert_list(l, want, 1);
    }
    list_destroy(l);
}

static void test_index_negative_and_out_of_range(void **state)
{
    struct list *l = mk_quick();
    struct lp_val v;
    char buf[32];

    (void)state;
    for (int i = 0; i < 50; i++) {
        snprintf(buf, sizeof(buf), "e%d", i);
        push(l, LIST_TAIL, buf, 4);
    }
    assert_true(l->nnodes > 10);
    for (int i = 0; i < 50; i++) {
        snprintf(buf, sizeof(buf), "e%d", i);
        assert_int_equal(list_index(l, i, &v), ST_OK);
        assert_val(&v, buf);
        assert_int_equal(list_index(l, i - 50, &v), ST_OK);
        assert_val(&v, buf);
    }
    assert_int_equal(list_index(l, 50, &v), ST_ENOENT);
    assert_int_equal(list_index(l, -51, &v), ST_ENOENT);
    assert_int_equal(list_index(l, INT64_MAX, &v), ST_ENOENT);
    assert_int_equal(list_index(l, INT64_MIN, &v), ST_ENOENT);
    list_destroy(l);
}

static void test_iter_both_directions_from_any_index(void **state)
{
    struct list *l = mk_quick();
    struct list_iter it;
    struct lp_val v;
    char buf[32];

    (void)state;
    for (int i = 0; i < 40; i++) {
        snprintf(buf, sizeof(buf), "%d", i);
        push(l, LIST_TAIL, buf, 3);
    }
    for (int start = -40; start < 40; start++) {
        int idx = start < 0 ? start + 40 : start, n = 0;

        list_iter_init(l, start, LIST_TAIL, &it);
        while (list_iter_next(&it, &v)) {
            assert_null(v.s);
            assert_int_equal(v.i, idx + n);
            n++;
        }
        assert_int_equal(n, 40 - idx);
        n = 0;
        list_iter_init(l, start, LIST_HEAD, &it);
        while (list_iter_next(&it, &v)) {
            assert_int_equal(v.i, idx - n);
            n++;
        }
        assert_int_equal(n, idx + 1);
    }
    list_iter_init(l, 40, LIST_TAIL, &it);
    assert_int_equal(list_iter_next(&it, &v), 0);
    list_iter_init(l, -41, LIST_HEAD, &it);
    assert_int_equal(list_iter_next(&it, &v), 0);
    list_destroy(l);
}

static void test_range_rules_as_lrange(void **state)
{
    uint64_t from;

    (void)state;
    assert_int_equal(list_range(10, 0, -1, &from), 10);
    assert_int_equal(from, 0);
    assert_int_equal(list_range(10, 2, 4, &from), 3);
    assert_int_equal(from, 2);
    assert_int_equal(list_range(10, -3, -1, &from), 3);
    assert_int_equal(from, 7);
    assert_int_equal(list_range(10, -100, 100, &from), 10);
    assert_int_equal(from, 0);
    assert_int_equal(list_range(10, 5, 4, &from), 0);
    assert_int_equal(list_range(10, 10, 20, &from), 0);
    assert_int_equal(list_range(10, 0, -11, &from), 0);
    assert_int_equal(list_range(0, 0, -1, &from), 0);
    assert_int_equal(list_range(10, INT64_MIN, INT64_MAX, &from), 10);
    assert_int_equal(list_range(10, INT64_MAX, INT64_MAX, &from), 0);
    assert_int_equal(list_range(10, INT64_MIN, INT64_MIN, &from), 0);
}

/* ---- node boundaries --------------------------------------------------- */

static void test_count_fill_splits_nodes_at_both_ends(void **state)
{
    struct list *l = mk_quick();

    (void)state;
    push(l, LIST_TAIL, "a", 3);
    push(l, LIST_TAIL, "b", 3);
    push(l, LIST_TAIL, "c", 3);
    {
        const uint32_t want[] = { 3 };
        assert_nodes(l, want, 1);
    }
    push(l, LIST_TAIL, "d", 3);
    {
        const uint32_t want[] = { 3, 1 };
        assert_nodes(l, want, 2);
    }
    push(l, LIST_HEAD, "z", 3);
    {
        const uint32_t want[] = { 1, 3, 1 };
        assert_nodes(l, want, 3);
    }
    push(l, LIST_HEAD, "y", 3);
    push(l, LIST_HEAD, "x", 3);
    push(l, LIST_HEAD, "w", 3);
    {
        const uint32_t want[] = { 1, 3, 3, 1 };
        const char *vals[] = { "w", "x", "y", "z", "a", "b", "c", "d" };
        assert_nodes(l, want, 4);
        assert_list(l, vals, 8);
    }
    /* fill 0 means one entry per node */
    list_destroy(l);
    l = mk_quick();
    push(l, LIST_TAIL, "a", 0);
    push(l, LIST_TAIL, "b", 0);
    push(l, LIST_HEAD, "c", 0);
    {
        const uint32_t want[] = { 1, 1, 1 };
        assert_nodes(l, want, 3);
    }
    list_destroy(l);
}

/* Recorded from redis-server 7.0.15 (list-max-listpack-size -1, RPUSH of
 * 100-byte values): a node takes 39 of them, the 40th opens a second node,
 * the 79th a third. */
static void test_size_fill_splits_nodes_where_redis_does(void **state)
{
    struct list *l = mk_quick();
    const char *x = mkval(100, 'x');

    (void)state;
    for (int i = 0; i < 39; i++)
        push(l, LIST_TAIL, x, -1);
    assert_int_equal(l->nnodes, 1);
    assert_int_equal(lp_bytes(l->head->lp), 4024 + 2); /* Redis's ql_uncompressed_size 4024 */
    push(l, LIST_TAIL, x, -1);
    assert_int_equal(l->nnodes, 2);
    for (int i = 40; i < 78; i++)
        push(l, LIST_TAIL, x, -1);
    assert_int_equal(l->nnodes, 2);
    push(l, LIST_TAIL, x, -1);
    assert_int_equal(l->nnodes, 3);
    list_destroy(l);

    /* to the byte: after 38 such values (3921 bytes) a 167-byte value still
     * fits (3921 + 167 + 8 = 4096), a 168-byte one opens a node (Redis
     * 7.0.15 gives ql_nodes 1 and 2) */
    for (int extra = 167; extra <= 168; extra++) {
        l = mk_quick();
        for (int i = 0; i < 38; i++)
            push(l, LIST_TAIL, x, -1);
        push(l, LIST_TAIL, mkval(extra, 'y'), -1);
        assert_int_equal(l->nnodes, extra == 167 ? 1 : 2);
        list_destroy(l);
    }
}

/* With a count limit, a node also stops at 8 KB: 1000-byte values (1004
 * bytes encoded) fit 8 to a node whatever the count limit. */
static void test_count_fill_has_an_8kb_safety_limit(void **state)
{
    struct list *l = mk_quick();
    const char *x = mkval(1000, 'q');

    (void)state;
    for (int i = 0; i < 8; i++)
        push(l, LIST_TAIL, x, 1000);
    assert_int_equal(l->nnodes, 1);
    push(l, LIST_TAIL, x, 1000);
    assert_int_equal(l->nnodes, 2);
    list_destroy(l);
}

static void test_element_larger_than_a_node_gets_its_own_node(void **state)
{
    struct list *l = mk_quick();
    const char *big = mkval(20000, 'B');

    (void)state;
    push(l, LIST_TAIL, "a", -1);
    push(l, LIST_TAIL, big, -1);
    push(l, LIST_TAIL, "b", -1);
    {
        const uint32_t want[] = { 1, 1, 1 };
        const char *vals[] = { "a", big, "b" };
        assert_nodes(l, want, 3);
        assert_list(l, vals, 3);
    }
    list_destroy(l);
}

/* LINSERT in a full node away from its ends splits it (fill 3):
 * (a b c)(d e f) + BEFORE b -> (a X)(b c)(d e f). */
static void test_insert_splits_a_full_node(void **state)
{
    struct list *l = mk_quick();
    const char *in[] = { "a", "b", "c", "d", "e", "f" };

    (void)state;
    for (int i = 0; i < 6; i++)
        push(l, LIST_TAIL, in[i], 3);
    assert_int_equal(list_insert(l, "b", 1, 0, "X", 1, 3), 1);
    {
        const uint32_t want[] = { 2, 2, 3 };
        const char *vals[] = { "a", "X", "b", "c", "d", "e", "f" };
        assert_nodes(l, want, 3);
        assert_list(l, vals, 7);
    }
    assert_int_equal(list_insert(l, "e", 1, 1, "Y", 1, 3), 1);
    {
        /* (d e f) full, e in the middle: (d e)(Y f), then (Y f) cannot merge */
        const uint32_t want[] = { 2, 2, 2, 2 };
        const char *vals[] = { "a", "X", "b", "c", "d", "e", "Y", "f" };
        assert_nodes(l, want, 4);
        assert_list(l, vals, 8);
    }
    list_destroy(l);
}

/* After a split the neighbours merge when the result fits (fill 4):
 * (a b c d)(e) + AFTER b -> split (a b)(X c d)(e) -> merge (a b)(X c d e). */
static void test_insert_split_merges_neighbours_that_fit(void **state)
{
    struct list *l = mk_quick();
    const char *in[] = { "a", "b", "c", "d", "e" };

    (void)state;
    for (int i = 0; i < 5; i++)
        push(l, LIST_TAIL, in[i], 4);
    assert_int_equal(list_insert(l, "b", 1, 1, "X", 1, 4), 1);
    {
        const uint32_t want[] = { 2, 4 };
        const char *vals[] = { "a", "b", "X", "c", "d", "e" };
        assert_nodes(l, want, 2);
        assert_list(l, vals, 6);
    }
    list_destroy(l);
}

/* A full node with the pivot at its edge: the element goes to the
 * neighbour when it has room, else into a new node between them. */
static void test_insert_at_node_edges_uses_neighbour_or_new_node(void **state)
{
    struct list *l = mk_quick();
    const char *in[] = { "a", "b", "c", "d" };

    (void)state;
    for (int i = 0; i < 4; i++)
        push(l, LIST_TAIL, in[i], 3);
    /* (a b c)(d): AFTER c -> head of (d) */
    assert_int_equal(list_insert(l, "c", 1, 1, "X", 1, 3), 1);
    {
        const uint32_t want[] = { 3, 2 };
        assert_nodes(l, want, 2);
    }
    /* (a b c)(X d): BEFORE a -> no previous node: a new head node */
    assert_int_equal(list_insert(l, "a", 1, 0, "W", 1, 3), 1);
    {
        const uint32_t want[] = { 1, 3, 2 };
        assert_nodes(l, want, 3);
    }
    /* (W)(a b c)(X d): BEFORE a -> tail of (W) */
    assert_int_equal(list_insert(l, "a", 1, 0, "V", 1, 3), 1);
    {
        const uint32_t want[] = { 2, 3, 2 };
        const char *vals[] = { "W", "V", "a", "b", "c", "X", "d" };
        assert_nodes(l, want, 3);
        assert_list(l, vals, 7);
    }
    /* (W V)(a b c)(X d): fill both neighbours, then AFTER c -> new node */
    assert_int_equal(list_insert(l, "d", 1, 1, "e", 1, 3), 1);
    assert_int_equal(list_insert(l, "c", 1, 1, "N", 1, 3), 1);
    {
        const uint32_t want[] = { 2, 3, 1, 3 };
        const char *vals[] = { "W", "V", "a", "b", "c", "N", "X", "d", "e" };
        assert_nodes(l, want, 4);
        assert_list(l, vals, 9);
    }
    assert_int_equal(list_insert(l, "nope", 4, 1, "N", 1, 3), 0);
    assert_int_equal(list_len(l), 9);
    list_destroy(l);
}

static void test_insert_in_listpack_ignores_node_limits(void **state)
{
    struct list *l = list_create();

    (void)state;
    push(l, LIST_TAIL, "a", 100);
    push(l, LIST_TAIL, "c", 100);
    assert_int_equal(list_insert(l, "c", 1, 0, "b", 1, 100), 1);
    assert_int_equal(list_insert(l, "c", 1, 1, "d", 1, 100), 1);
    assert_int_equal(list_insert(l, "a", 1, 0, "0", 1, 100), 1);
    {
        const char *vals[] = { "0", "a", "b", "c", "d" };
        assert_list(l, vals, 5);
    }
    assert_int_equal(l->nnodes, 1);
    assert_string_equal(list_encoding(l), "listpack");
    list_destroy(l);
}

/* ---- removal ----------------------------------------------------------- */

static void test_rem_from_head_tail_and_all(void **state)
{
    struct list *l = mk_quick();
    const char *in[] = { "x", "a", "x", "b", "x", "x", "c", "x" };

    (void)state;
    for (int i = 0; i < 8; i++)
        push(l, LIST_TAIL, in[i], 2);
    assert_int_equal(list_rem(l, 2, "x", 1), 2);
    {
        const char *vals[] = { "a", "b", "x", "x", "c", "x" };
        assert_list(l, vals, 6);
    }
    assert_int_equal(list_rem(l, -2, "x", 1), 2);
    {
        const char *vals[] = { "a", "b", "x", "c" };
        assert_list(l, vals, 4);
    }
    assert_int_equal(list_rem(l, 0, "nope", 4), 0);
    assert_int_equal(list_rem(l, 0, "x", 1), 1);
    assert_int_equal(list_rem(l, INT64_MIN, "a", 1), 1);
    {
        const char *vals[] = { "b", "c" };
        assert_list(l, vals, 2);
    }
    assert_int_equal(list_rem(l, 0, "b", 1), 1);
    assert_int_equal(list_rem(l, -1, "c", 1), 1);
    assert_int_equal(list_len(l), 0);
    assert_int_equal(l->nnodes, 0);
    list_destroy(l);
}

static void test_rem_compares_ints_by_text(void **state)
{
    struct list *l = list_create();

    (void)state;
    push(l, LIST_TAIL, "10", -2);
    push(l, LIST_TAIL, "010", -2);
    push(l, LIST_TAIL, "10", -2);
    assert_int_equal(list_rem(l, 0, "010", 3), 1);
    assert_int_equal(list_rem(l, 0, "10", 2), 2);
    assert_int_equal(list_len(l), 0);
    list_destroy(l);
}

static void test_pop_and_trim_across_nodes(void **state)
{
    struct list *l = mk_quick();
    struct model m = { 0 };
    char buf[32];

    (void)state;
    for (int i = 0; i < 30; i++) {
        snprintf(buf, sizeof(buf), "v%d", i);
        push(l, LIST_TAIL, buf, 4);
        model_insert(&m, m.n, buf);
    }
    list_pop(l, LIST_HEAD, 5); /* a whole node and one more */
    model_delete(&m, 0, 5);
    assert_model(l, &m);
    list_pop(l, LIST_TAIL, 3);
    model_delete(&m, m.n - 3, 3);
    assert_model(l, &m);
    list_trim(l, 6, 9);
    model_delete(&m, 0, 6);
    model_delete(&m, m.n - 9, 9);
    assert_model(l, &m);
    list_trim(l, 0, 0);
    assert_model(l, &m);
    list_trim(l, 100, 100);
    assert_int_equal(list_len(l), 0);
    assert_int_equal(l->nnodes, 0);
    model_free(&m);
    list_destroy(l);
}

static void test_set_replaces_in_place(void **state)
{
    struct list *l = mk_quick();
    const char *big = mkval(5000, 'S');

    (void)state;
    for (int i = 0; i < 6; i++)
        push(l, LIST_TAIL, "ab", 3);
    assert_int_equal(list_set(l, 0, "first", 5), ST_OK);
    assert_int_equal(list_set(l, -1, "last", 4), ST_OK);
    assert_int_equal(list_set(l, 3, big, 5000), ST_OK);
    assert_int_equal(list_set(l, 2, "42", 2), ST_OK);
    assert_int_equal(list_set(l, 6, "x", 1), ST_ENOENT);
    assert_int_equal(list_set(l, -7, "x", 1), ST_ENOENT);
    {
        const uint32_t want[] = { 3, 3 };
        const char *vals[] = { "first", "ab", "42", big, "ab", "last" };
        assert_nodes(l, want, 2);
        assert_list(l, vals, 6);
    }
    list_destroy(l);
}

/* ---- encodings --------------------------------------------------------- */

/* Redis 7.2: with list-max-listpack-size 3 a list is a listpack up to 3
 * entries; the 4th makes it a quicklist; it goes back once it is one node
 * of at most 3 / 2 = 1 entry. */
static void test_count_limit_switches_listpack_quicklist(void **state)
{
    struct list *l = list_create();

    (void)state;
    push(l, LIST_TAIL, "a", 3);
    push(l, LIST_TAIL, "b", 3);
    push(l, LIST_TAIL, "c", 3);
    assert_string_equal(list_encoding(l), "listpack");
    push(l, LIST_TAIL, "d", 3);
    assert_string_equal(list_encoding(l), "quicklist");
    /* the whole listpack became the first node: (a b c)(d) */
    {
        const uint32_t want[] = { 3, 1 };
        assert_nodes(l, want, 2);
    }
    list_pop(l, LIST_TAIL, 1);
    list_convert_shrink(l, 3);
    assert_string_equal(list_encoding(l), "quicklist"); /* 3 > 1 */
    list_pop(l, LIST_TAIL, 1);
    list_convert_shrink(l, 3);
    assert_string_equal(list_encoding(l), "quicklist"); /* 2 > 1 */
    list_pop(l, LIST_TAIL, 1);
    list_convert_shrink(l, 3);
    assert_string_equal(list_encoding(l), "listpack");
    /* a batch that would pass the limit converts before the first push */
    list_convert_grow(l, 3, 3, 3);
    assert_string_equal(list_encoding(l), "quicklist");
    list_destroy(l);
}

static void test_shrink_needs_a_single_node(void **state)
{
    struct list *l = list_create();

    (void)state;
    for (int i = 0; i < 5; i++)
        push(l, LIST_TAIL, "v", 4); /* (v v v v)(v) */
    assert_string_equal(list_encoding(l), "quicklist");
    list_pop(l, LIST_HEAD, 3); /* (v)(v): 2 entries but 2 nodes */
    list_convert_shrink(l, 4);
    assert_string_equal(list_encoding(l), "quicklist");
    list_pop(l, LIST_HEAD, 1);
    list_convert_shrink(l, 4);
    assert_string_equal(list_encoding(l), "listpack");
    list_destroy(l);
}

/* Size limits: a listpack stays one while lpBytes + new bytes <= 8192
 * (fill -2), and comes back at <= 4096 bytes. */
static void test_size_limit_switches_listpack_quicklist(void **state)
{
    struct list *l = list_create();
    const char *x = mkval(1000, 'x'); /* 1004 bytes each */

    (void)state;
    for (int i = 0; i < 8; i++)
        push(l, LIST_TAIL, x, -2); /* 7 + 8 * 1004 = 8039 */
    assert_string_equal(list_encoding(l), "listpack");
    list_convert_grow(l, 1, 153, -2); /* 8039 + 153 = 8192: still fits */
    assert_string_equal(list_encoding(l), "listpack");
    list_convert_grow(l, 1, 154, -2);
    assert_string_equal(list_encoding(l), "quicklist");
    assert_int_equal(l->nnodes, 1);
    list_convert_shrink(l, -2); /* 8039 > 4096 */
    assert_string_equal(list_encoding(l), "quicklist");
    list_pop(l, LIST_HEAD, 3); /* 7 + 5 * 1004 = 5027 */
    list_convert_shrink(l, -2);
    assert_string_equal(list_encoding(l), "quicklist");
    list_pop(l, LIST_HEAD, 1); /* 4023 */
    list_convert_shrink(l, -2);
    assert_string_equal(list_encoding(l), "listpack");
    list_destroy(l);
}

static void test_dup_is_deep_and_keeps_shape(void **state)
{
    struct list *l = mk_quick(), *d;
    char buf[32];

    (void)state;
    for (int i = 0; i < 20; i++) {
        snprintf(buf, sizeof(buf), "%s%d", i % 2 ? "s" : "", i);
        push(l, LIST_TAIL, buf, 3);
    }
    d = list_dup(l);
    assert_non_null(d);
    assert_int_equal(list_verify(d), ST_OK);
    assert_int_equal(d->nnodes, l->nnodes);
    assert_int_equal(d->quick, l->quick);
    assert_int_equal(list_len(d), 20);
    for (const struct list_node *a = l->head, *b = d->head; a; a = a->next, b = b->next) {
        assert_ptr_not_equal(a->lp, b->lp);
        assert_int_equal(lp_bytes(a->lp), lp_bytes(b->lp));
        assert_memory_equal(a->lp, b->lp, lp_bytes(a->lp));
    }
    list_pop(l, LIST_HEAD, 20);
    assert_int_equal(list_len(d), 20);
    list_destroy(l);
    list_destroy(d);
    /* through the ops table too */
    l = list_create();
    push(l, LIST_TAIL, "only", -2);
    d = list_obj_ops.dup(l);
    assert_non_null(d);
    assert_string_equal(list_obj_ops.encoding(d), "listpack");
    assert_string_equal(list_obj_ops.name, "list");
    list_obj_ops.free(d);
    list_obj_ops.free(l);
}

static void test_mem_counts_every_node(void **state)
{
    struct list *l = mk_quick();
    size_t m0, m1;

    (void)state;
    m0 = list_mem(l);
    assert_true(m0 >= sizeof(struct list));
    for (int i = 0; i < 100; i++)
        push(l, LIST_TAIL, mkval(100, 'm'), -1);
    m1 = list_mem(l);
    assert_true(m1 >= m0 + 100 * 103 + l->nnodes * sizeof(struct list_node));
    assert_int_equal(list_obj_ops.mem(l), m1);
    list_destroy(l);
}

/* ---- parity with Redis's quicklist -------------------------------------- */

/* One step of the recorded sequences: op (0 RPUSH, 1 LPUSH, 2 LINSERT
 * BEFORE, 3 LINSERT AFTER, 4 LREM, 5 LPOP n, 6 RPOP n, 7 LSET, 8 LTRIM),
 * arguments a and b (LINSERT: the pivot's length and byte; LREM: count;
 * pops: n; LSET: index; LTRIM: start, stop), the value (vlen copies of
 * vchar), and what redis-server 7.0.15 reported after it: LLEN and DEBUG
 * OBJECT's ql_nodes (generated by a script that drove the real server). */
struct parity_op {
    int op;
    int a, b;
    int vlen, vchar;
    unsigned llen, nodes;
};

static const struct parity_op parity_fill3[] = {
    {1, 0, 0, 2, 98, 1, 1}, {0, 0, 0, 3, 97, 2, 1}, {0, 0, 0, 3, 99, 3, 1}, {0, 0, 0, 1, 101, 4, 2},
    {0, 0, 0, 2, 97, 5, 2}, {1, 0, 0, 1, 97, 6, 3}, {1, 0, 0, 2, 101, 7, 3},
    {0, 0, 0, 1, 101, 8, 3}, {3, 2, 101, 3, 49, 9, 3}, {7, -8, 0, 2, 101, 9, 3},
    {3, 1, 97, 3, 97, 10, 4}, {2, 2, 97, 1, 100, 11, 5}, {1, 0, 0, 2, 101, 12, 6},
    {6, 1, 0, 1, 49, 11, 6}, {7, -5, 0, 3, 101, 11, 6}, {3, 2, 101, 3, 97, 12, 6},
    {7, -6, 0, 3, 97, 12, 6}, {5, 4, 0, 3, 49, 8, 5}, {1, 0, 0, 2, 99, 9, 5},
    {7, 0, 0, 2, 100, 9, 5}, {3, 3, 97, 3, 98, 10, 5}, {1, 0, 0, 2, 101, 11, 5},
    {6, 3, 0, 2, 100, 8, 3}, {5, 1, 0, 3, 99, 7, 3}, {1, 0, 0, 2, 101, 8, 3},
    {2, 3, 99, 1, 99, 9, 4}, {4, -2, 0, 2, 100, 8, 4}, {7, 3, 0, 2, 99, 8, 4},
    {7, 6, 0, 3, 100, 8, 4}, {1, 0, 0, 2, 97, 9, 4}, {5, 1, 0, 3, 49, 8, 4}, {0, 0, 0, 3, 49, 9, 4},
    {2, 3, 99, 3, 49, 10, 4}, {2, 3, 101, 2, 49, 11, 5}, {0, 0, 0, 2, 100, 12, 6},
    {2, 3, 100, 1, 101, 13, 6}, {0, 0, 0, 2, 98, 14, 6}, {2, 3, 101, 1, 49, 15, 6},
    {4, -1, 0, 3, 97, 14, 6}, {4, -1, 0, 3, 97, 13, 6}, {6, 4, 0, 3, 99, 9, 5},
    {3, 2, 49, 2, 49, 10, 5}, {2, 2, 99, 1, 97, 11, 5}, {3, 2, 101, 1, 49, 12, 5},
    {5, 3, 0, 1, 101, 9, 4}, {2, 1, 101, 1, 97, 10, 4}, {6, 3, 0, 3, 99, 7, 3},
    {3, 1, 97, 3, 98, 8, 3}, {6, 1, 0, 3, 101, 7, 3}, {5, 2, 0, 3, 49, 5, 3},
    {1, 0, 0, 2, 100, 6, 3}, {1, 0, 0, 3, 100, 7, 3}, {4, 1, 0, 3, 100, 6, 3},
    {5, 2, 0, 1, 98, 4, 2}, {0, 0, 0, 1, 97, 5, 2}, {0, 0, 0, 1, 101, 6, 2},
    {3, 2, 49, 1, 101, 7, 3}, {3, 1, 101, 2, 101, 8, 3}, {8, 2, -2, 2, 99, 5, 2},
    {1, 0, 0, 1, 97, 6, 3}, {5, 2, 0, 2, 100, 4, 2}, {1, 0, 0, 1, 97, 5, 2}, {0, 0, 0, 2, 49, 6, 2},
    {0, 0, 0, 2, 99, 7, 3}, {0, 0, 0, 3, 98, 8, 3}, {0, 0, 0, 3, 98, 9, 3},
    {3, 3, 98, 3, 98, 10, 4}, {0, 0, 0, 2, 101, 11, 4}, {8, 1, -1, 3, 97, 10, 4},
    {3, 1, 97, 2, 98, 11, 5}, {6, 2, 0, 3, 101, 9, 5}, {8, 0, -3, 3, 98, 7, 4},
    {4, -2, 0, 1, 49, 6, 4}, {5, 1, 0, 3, 99, 5, 3}, {0, 0, 0, 2, 99, 6, 3},
    {2, 2, 99, 3, 98, 7, 3}, {3, 2, 98, 3, 100, 8, 3}, {3, 1, 97, 1, 97, 9, 3},
    {3, 2, 49, 1, 100, 10, 4}, {3, 2, 99, 3, 100, 11, 4}, {0, 0, 0, 3, 100, 12, 4},
    {3, 2, 99, 1, 49, 13, 5}, {1, 0, 0, 3, 100, 14, 6}, {1, 0, 0, 2, 98, 15, 6},
    {2, 2, 98, 3, 100, 16, 6}, {1, 0, 0, 2, 49, 17, 7}, {5, 1, 0, 3, 100, 16, 6},
    {0, 0, 0, 1, 98, 17, 7}, {2, 2, 99, 1, 97, 18, 7}, {1, 0, 0, 1, 49, 19, 8},
    {7, 3, 0, 2, 101, 19, 8}, {2, 3, 101, 3, 101, 20, 9}, {0, 0, 0, 3, 97, 21, 9},
    {8, 2, -3, 3, 97, 17, 7}, {4, 2, 0, 2, 98, 15, 7}, {3, 1, 97, 3, 99, 16, 7},
    {1, 0, 0, 2, 101, 17, 7}, {2, 1, 97, 2, 101, 18, 7}, {0, 0, 0, 2, 49, 19, 8},
    {5, 5, 0, 3, 49, 14, 7}, {4, 1, 0, 2, 99, 13, 7}, {6, 4, 0, 1, 101, 9, 5},
    {1, 0, 0, 3, 98, 10, 5}, {0, 0, 0, 1, 98, 11, 5}, {2, 1, 97, 3, 100, 12, 5},
    {6, 4, 0, 2, 97, 8, 4}, {1, 0, 0, 3, 97, 9, 5}, {0, 0, 0, 1, 98, 10, 5},
    {2, 1, 100, 1, 97, 11, 5}, {5, 1, 0, 1, 101, 10, 4}, {5, 3, 0, 3, 99, 7, 3},
    {7, 4, 0, 1, 101, 7, 3}, {2, 1, 101, 3, 100, 8, 3}, {1, 0, 0, 3, 100, 9, 3},
    {3, 2, 49, 3, 49, 10, 4}, {6, 1, 0, 2, 98, 9, 4}, {4, 2, 0, 1, 101, 8, 4},
    {1, 0, 0, 1, 49, 9, 5}, {4, 0, 0, 3, 100, 6, 5}, {1, 0, 0, 3, 98, 7, 5},
    {8, 0, -2, 2, 49, 6, 4}, {2, 3, 49, 1, 100, 7, 4}, {1, 0, 0, 2, 100, 8, 4},
    {2, 1, 49, 1, 49, 9, 4}, {0, 0, 0, 3, 100, 10, 4}, {4, 2, 0, 1, 49, 8, 3},
    {3, 1, 100, 3, 97, 9, 4}, {0, 0, 0, 3, 99, 10, 5}, {5, 1, 0, 3, 100, 9, 5},
    {4, -2, 0, 1, 100, 8, 4}, {1, 0, 0, 1, 97, 9, 4}, {1, 0, 0, 2, 97, 10, 4},
    {2, 1, 97, 1, 97, 11, 5}, {1, 0, 0, 2, 98, 12, 5}, {8, 0, -1, 2, 99, 12, 5},
    {6, 3, 0, 2, 101, 9, 4}, {1, 0, 0, 1, 99, 10, 5}, {1, 0, 0, 1, 49, 11, 5},
    {4, 0, 0, 1, 49, 10, 5}, {1, 0, 0, 1, 99, 11, 5}, {7, -3, 0, 1, 98, 11, 5},
    {1, 0, 0, 1, 100, 12, 5}, {3, 2, 97, 2, 101, 13, 6}, {7, 3, 0, 1, 98, 13, 6},
    {0, 0, 0, 1, 98, 14, 6}, {2, 1, 99, 1, 99, 15, 7}, {3, 1, 98, 3, 99, 16, 7},
    {6, 4, 0, 2, 98, 12, 6}, {6, 3, 0, 1, 49, 9, 4}, {3, 1, 100, 2, 97, 10, 4},
    {0, 0, 0, 3, 97, 11, 4}, {6, 3, 0, 1, 101, 8, 3}, {5, 1, 0, 2, 98, 7, 3},
    {8, 2, -2, 2, 49, 4, 2}, {1, 0, 0, 2, 101, 5, 2}, {0, 0, 0, 2, 98, 6, 2},
    {3, 2, 98, 3, 49, 7, 3}, {2, 2, 101, 2, 100, 8, 4}, {2, 1, 98, 1, 97, 9, 5},
    {4, -1, 0, 2, 101, 8, 5}, {6, 1, 0, 2, 49, 7, 4}, {0, 0, 0, 1, 99, 8, 5},
    {5, 2, 0, 1, 98, 6, 4}, {5, 2, 0, 2, 97, 4, 2}, {1, 0, 0, 2, 101, 5, 3}, {0, 0, 0, 2, 97, 6, 3},
    {3, 2, 101, 1, 99, 7, 3}, {3, 3, 99, 1, 100, 8, 4}, {2, 3, 99, 3, 101, 9, 4},
    {3, 1, 99, 1, 101, 10, 4}, {2, 1, 100, 1, 97, 11, 4}, {7, -11, 0, 2, 97, 11, 4},
    {2, 1, 98, 3, 99, 12, 5}, {1, 0, 0, 3, 101, 13, 6}, {1, 0, 0, 3, 98, 14, 6},
    {0, 0, 0, 2, 101, 15, 6}, {1, 0, 0, 3, 99, 16, 6}, {5, 5, 0, 2, 98, 11, 5},
    {8, 2, -1, 1, 98, 9, 3}, {8, 2, -1, 3, 100, 7, 3}, {2, 1, 99, 3, 101, 8, 4},
    {1, 0, 0, 3, 97, 9, 4}, {7, -2, 0, 3, 49, 9, 4}, {1, 0, 0, 1, 97, 10, 4},
    {2, 3, 97, 2, 49, 11, 5}, {4, 0, 0, 1, 97, 9, 5}, {8, 0, -2, 3, 101, 8, 5},
    {2, 3, 97, 2, 97, 9, 5}, {0, 0, 0, 3, 101, 10, 5}, {1, 0, 0, 3, 49, 11, 5},
    {1, 0, 0, 3, 49, 12, 5}, {5, 3, 0, 1, 99, 9, 4}, {3, 1, 100, 1, 49, 10, 4},
    {0, 0, 0, 2, 49, 11, 5}, {5, 2, 0, 1, 100, 9, 5}, {8, 2, -1, 1, 99, 7, 4},
    {8, 2, -3, 1, 98, 3, 2}, {1, 0, 0, 3, 99, 4, 2}, {1, 0, 0, 3, 101, 5, 2},
    {0, 0, 0, 2, 97, 6, 2}, {0, 0, 0, 2, 100, 7, 3}, {8, 0, -1, 3, 97, 7, 3},
    {5, 2, 0, 3, 99, 5, 3}, {1, 0, 0, 2, 100, 6, 3}, {1, 0, 0, 3, 97, 7, 3},
    {3, 1, 99, 1, 99, 8, 4}, {0, 0, 0, 2, 99, 9, 4}, {1, 0, 0, 2, 101, 10, 5},
    {2, 3, 101, 1, 100, 11, 5}, {1, 0, 0, 1, 101, 12, 5}, {2, 1, 100, 3, 49, 13, 5},
    {3, 2, 97, 3, 98, 14, 5}, {6, 3, 0, 1, 99, 11, 4}, {3, 3, 101, 2, 100, 12, 5},
    {0, 0, 0, 1, 98, 13, 6}, {5, 4, 0, 2, 49, 9, 5}, {2, 3, 49, 1, 49, 10, 5},
    {3, 3, 49, 2, 100, 11, 5}, {3, 2, 100, 2, 97, 12, 5}, {4, 0, 0, 1, 98, 11, 4},
    {0, 0, 0, 2, 99, 12, 5}, {3, 2, 100, 2, 97, 13, 6}, {7, 0, 0, 2, 97, 13, 6},
    {1, 0, 0, 1, 99, 14, 7}, {2, 2, 99, 1, 97, 15, 7}, {8, 0, -3, 3, 99, 13, 6},
    {2, 2, 97, 3, 100, 14, 6}, {3, 1, 99, 2, 99, 15, 6}, {1, 0, 0, 2, 49, 16, 7},
    {6, 1, 0, 1, 101, 15, 7}, {0, 0, 0, 2, 49, 16, 7}, {5, 3, 0, 1, 101, 13, 6},
    {5, 2, 0, 3, 97, 11, 5}, {2, 3, 101, 2, 100, 12, 5}, {2, 2, 49, 2, 99, 13, 6},
    {0, 0, 0, 2, 49, 14, 6}, {4, -1, 0, 1, 100, 13, 6}, {6, 1, 0, 2, 49, 12, 6},
    {2, 2, 100, 1, 49, 13, 6}, {3, 1, 99, 2, 101, 14, 7}, {3, 2, 99, 2, 100, 15, 7},
    {5, 5, 0, 1, 100, 10, 5}, {3, 2, 100, 1, 98, 11, 5}, {3, 2, 101, 1, 101, 12, 5},
    {3, 2, 99, 2, 99, 13, 5}, {3, 1, 101, 3, 97, 14, 5}, {4, 1, 0, 1, 99, 13, 5},
    {4, 0, 0, 2, 49, 12, 5}, {5, 3, 0, 3, 99, 9, 4}, {2, 2, 100, 3, 49, 10, 4},
    {8, 1, -3, 1, 98, 7, 3}, {4, -1, 0, 3, 97, 6, 3}, {2, 2, 100, 1, 97, 7, 3},
    {4, -1, 0, 1, 99, 6, 3}, {0, 0, 0, 2, 97, 7, 3}, {6, 1, 0, 2, 100, 6, 3},
    {1, 0, 0, 1, 97, 7, 3}, {2, 3, 49, 3, 98, 8, 3}, {1, 0, 0, 3, 49, 9, 4},
    {8, 2, -3, 1, 100, 5, 3}, {0, 0, 0, 1, 98, 6, 3}, {7, 5, 0, 3, 97, 6, 3},
    {2, 2, 101, 3, 98, 7, 3}, {6, 1, 0, 2, 49, 6, 3}, {1, 0, 0, 2, 97, 7, 3},
    {6, 2, 0, 1, 101, 5, 2}, {1, 0, 0, 3, 98, 6, 3}, {0, 0, 0, 3, 97, 7, 3},
    {2, 1, 97, 2, 100, 8, 3}, {8, 2, -3, 2, 98, 4, 3}, {0, 0, 0, 2, 97, 5, 3},
    {1, 0, 0, 1, 97, 6, 3}, {3, 2, 97, 3, 100, 7, 3}, {4, -1, 0, 2, 100, 6, 3},
    {3, 1, 97, 2, 98, 7, 3}, {0, 0, 0, 3, 99, 8, 4}, {4, 1, 0, 3, 100, 7, 4},
    {0, 0, 0, 3, 99, 8, 4}, {6, 2, 0, 1, 97, 6, 3}, {3, 2, 98, 1, 99, 7, 3}, {5, 2, 0, 2, 98, 5, 2},
    {0, 0, 0, 2, 101, 6, 2}, {7, 1, 0, 1, 98, 6, 2}, {4, 1, 0, 2, 97, 5, 2}, {1, 0, 0, 1, 97, 6, 3},
    {0, 0, 0, 1, 101, 7, 3}, {4, 1, 0, 1, 97, 6, 2}, {4, 0, 0, 1, 97, 5, 2}, {0, 0, 0, 2, 98, 6, 3},
    {3, 1, 101, 3, 98, 7, 3}, {0, 0, 0, 1, 100, 8, 3}, {2, 2, 98, 3, 49, 9, 4},
    {3, 3, 98, 2, 99, 10, 4}, {1, 0, 0, 1, 97, 11, 5}, {2, 1, 101, 2, 97, 12, 5},
    {1, 0, 0, 1, 101, 13, 5}, {4, -1, 0, 1, 100, 12, 5}, {1, 0, 0, 3, 97, 13, 5},
    {5, 4, 0, 2, 98, 9, 4}, {3, 3, 49, 2, 99, 10, 4}, {0, 0, 0, 2, 49, 11, 4},
    {3, 1, 98, 2, 49, 12, 4}, {4, 0, 0, 2, 49, 10, 4}, {2, 3, 98, 3, 98, 11, 4},
    {7, -3, 0, 2, 99, 11, 4}, {3, 2, 101, 1, 101, 12, 5}, {0, 0, 0, 3, 49, 13, 5},
    {3, 1, 98, 2, 99, 14, 6}, {0, 0, 0, 3, 101, 15, 7}, {1, 0, 0, 1, 97, 16, 7},
    {1, 0, 0, 3, 100, 17, 7}, {5, 4, 0, 2, 100, 13, 6}, {5, 2, 0, 2, 98, 11, 5},
    {0, 0, 0, 2, 49, 12, 5}, {0, 0, 0, 3, 98, 13, 5}, {3, 2, 99, 2, 99, 14, 5},
    {3, 2, 99, 1, 101, 15, 6}, {3, 2, 101, 1, 100, 16, 6}, {4, -1, 0, 1, 101, 15, 6},
    {6, 2, 0, 2, 101, 13, 6}, {4, -2, 0, 1, 100, 12, 6}, {1, 0, 0, 1, 98, 13, 6},
    {4, 1, 0, 3, 98, 12, 6}, {3, 2, 99, 2, 98, 13, 6}, {7, 10, 0, 1, 49, 13, 6},
    {6, 3, 0, 1, 49, 10, 5}, {2, 2, 99, 3, 99, 11, 6}, {3, 1, 101, 3, 99, 12, 6},
    {3, 2, 99, 1, 100, 13, 6}, {3, 2, 98, 1, 98, 14, 7}, {7, -12, 0, 2, 98, 14, 7},
    {4, -2, 0, 2, 99, 12, 5}, {3, 1, 101, 1, 49, 13, 5}, {5, 1, 0, 1, 97, 12, 5},
    {5, 3, 0, 2, 98, 9, 4}, {0, 0, 0, 1, 99, 10, 4}, {1, 0, 0, 1, 97, 11, 4},
    {7, -9, 0, 1, 101, 11, 4}, {3, 2, 101, 1, 101, 12, 5}, {7, -12, 0, 3, 99, 12, 5},
    {1, 0, 0, 3, 49, 13, 5}, {0, 0, 0, 2, 101, 14, 6}, {3, 1, 49, 2, 97, 15, 7},
    {2, 1, 101, 1, 97, 16, 8}, {0, 0, 0, 3, 101, 17, 8}, {8, 1, -2, 1, 98, 15, 8},
    {8, 2, -2, 1, 99, 12, 6}, {1, 0, 0, 1, 98, 13, 6}, {1, 0, 0, 3, 100, 14, 6},
    {5, 1, 0, 2, 97, 13, 6}, {1, 0, 0, 3, 100, 14, 6}, {6, 1, 0, 3, 98, 13, 6},
    {8, 2, -2, 2, 98, 10, 6}, {4, -1, 0, 2, 97, 9, 5}, {0, 0, 0, 3, 99, 10, 5},
    {7, 3, 0, 2, 99, 10, 5}, {0, 0, 0, 3, 99, 11, 5}, {3, 2, 101, 3, 100, 12, 5},
    {3, 1, 101, 2, 97, 13, 5}, {4, -2, 0, 2, 99, 11, 5}, {3, 2, 97, 1, 100, 12, 5},
    {0, 0, 0, 3, 97, 13, 6}, {2, 1, 101, 2, 49, 14, 6}, {7, 9, 0, 2, 101, 14, 6},
    {6, 3, 0, 1, 98, 11, 5}, {2, 1, 101, 3, 98, 12, 6}, {1, 0, 0, 2, 97, 13, 7},
    {5, 2, 0, 2, 98, 11, 6}, {0, 0, 0, 2, 100, 12, 6}, {0, 0, 0, 3, 101, 13, 6},
    {4, 1, 0, 2, 101, 12, 6}, {8, 1, -1, 3, 98, 11, 6}, {3, 2, 100, 1, 100, 12, 6},
    {3, 1, 101, 2, 97, 13, 6}, {2, 1, 101, 2, 100, 14, 6}, {2, 3, 101, 3, 98, 15, 6},
    {3, 3, 98, 3, 97, 16, 6}, {1, 0, 0, 1, 49, 17, 6}, {8, 1, -1, 1, 99, 16, 6},
    {5, 3, 0, 3, 101, 13, 5}, {8, 2, -3, 2, 100, 9, 4}, {4, -1, 0, 2, 101, 8, 4},
    {6, 1, 0, 1, 100, 7, 3}, {0, 0, 0, 2, 101, 8, 3}, {5, 2, 0, 2, 98, 6, 3},
    {2, 1, 101, 2, 100, 7, 3}, {1, 0, 0, 2, 98, 8, 3}, {4, -2, 0, 2, 101, 7, 3},
    {6, 1, 0, 1, 49, 6, 3}, {8, 2, -2, 1, 98, 3, 2}, {0, 0, 0, 3, 97, 4, 2}, {1, 0, 0, 1, 49, 5, 2},
    {0, 0, 0, 3, 97, 6, 3}, {0, 0, 0, 1, 49, 7, 3}, {3, 3, 99, 2, 98, 8, 3}, {1, 0, 0, 3, 98, 9, 4},
    {1, 0, 0, 1, 49, 10, 4}, {1, 0, 0, 3, 99, 11, 4}, {1, 0, 0, 1, 99, 12, 5},
    {3, 2, 98, 2, 101, 13, 6},
};
static const struct parity_op parity_4kb[] = {
    {1, 0, 0, 477, 101, 1, 1}, {1, 0, 0, 602, 101, 2, 1}, {0, 0, 0, 525, 98, 3, 1},
    {1, 0, 0, 3, 49, 4, 1}, {0, 0, 0, 458, 97, 5, 1}, {1, 0, 0, 93, 98, 6, 1},
    {6, 1, 0, 3, 49, 5, 1}, {1, 0, 0, 670, 100, 6, 1}, {0, 0, 0, 666, 101, 7, 1},
    {2, 666, 101, 16, 101, 8, 1}, {6, 1, 0, 61, 97, 7, 1}, {3, 670, 100, 615, 98, 8, 1},
    {1, 0, 0, 335, 100, 9, 1}, {5, 3, 0, 201, 101, 6, 1}, {3, 477, 101, 2, 49, 7, 1},
    {0, 0, 0, 1, 49, 8, 1}, {5, 2, 0, 2, 49, 6, 1}, {6, 2, 0, 261, 97, 4, 1},
    {0, 0, 0, 296, 101, 5, 1}, {0, 0, 0, 577, 97, 6, 1}, {1, 0, 0, 411, 97, 7, 1},
    {1, 0, 0, 396, 99, 8, 1}, {1, 0, 0, 1, 97, 9, 1}, {3, 296, 101, 54, 98, 10, 1},
    {4, 0, 0, 525, 98, 9, 1}, {7, -1, 0, 1, 49, 9, 1}, {3, 2, 49, 319, 97, 10, 1},
    {0, 0, 0, 121, 100, 11, 1}, {2, 1, 97, 104, 98, 12, 1}, {0, 0, 0, 499, 100, 13, 1},
    {2, 411, 97, 3, 49, 14, 1}, {5, 2, 0, 196, 101, 12, 1}, {4, -1, 0, 3, 49, 11, 1},
    {4, -2, 0, 2, 49, 10, 1}, {2, 602, 101, 216, 97, 11, 1}, {4, 0, 0, 121, 100, 10, 1},
    {0, 0, 0, 219, 98, 11, 1}, {5, 3, 0, 10, 99, 8, 1}, {3, 477, 101, 396, 99, 9, 1},
    {1, 0, 0, 214, 97, 10, 1}, {7, -10, 0, 1, 49, 10, 1}, {7, 9, 0, 381, 99, 10, 1},
    {5, 2, 0, 602, 98, 8, 1}, {7, -3, 0, 396, 98, 8, 1}, {8, 0, -1, 319, 98, 8, 1},
    {3, 319, 97, 1, 49, 9, 1}, {0, 0, 0, 3, 49, 10, 1}, {3, 499, 100, 2, 49, 11, 1},
    {7, -10, 0, 432, 97, 11, 1}, {1, 0, 0, 40, 97, 12, 1}, {6, 4, 0, 245, 99, 8, 1},
    {2, 396, 98, 611, 100, 9, 1}, {2, 477, 101, 180, 101, 10, 1}, {2, 611, 100, 491, 98, 11, 1},
    {8, 0, -2, 630, 101, 10, 1}, {3, 180, 101, 17, 98, 11, 1}, {2, 477, 101, 457, 100, 12, 1},
    {0, 0, 0, 181, 97, 13, 1}, {2, 54, 98, 544, 99, 14, 2}, {2, 17, 98, 371, 97, 15, 2},
    {5, 5, 0, 673, 99, 10, 2}, {7, -9, 0, 605, 98, 10, 2}, {0, 0, 0, 367, 100, 11, 2},
    {0, 0, 0, 35, 99, 12, 2}, {0, 0, 0, 652, 101, 13, 2}, {1, 0, 0, 69, 100, 14, 2},
    {0, 0, 0, 327, 99, 15, 2}, {2, 54, 98, 78, 97, 16, 2}, {6, 2, 0, 46, 99, 14, 2},
    {1, 0, 0, 361, 99, 15, 2}, {1, 0, 0, 2, 49, 16, 2}, {1, 0, 0, 31, 100, 17, 2},
    {5, 5, 0, 15, 101, 12, 2}, {8, 2, -3, 389, 100, 8, 2}, {7, -6, 0, 83, 97, 8, 2},
    {8, 1, -1, 264, 97, 7, 2}, {3, 54, 98, 595, 100, 8, 2}, {5, 1, 0, 555, 100, 7, 2},
    {6, 2, 0, 31, 101, 5, 2}, {0, 0, 0, 23, 100, 6, 2}, {3, 595, 100, 1, 49, 7, 2},
    {1, 0, 0, 676, 101, 8, 2}, {5, 2, 0, 12, 99, 6, 1}, {2, 491, 98, 695, 98, 7, 1},
    {3, 23, 100, 174, 101, 8, 1}, {3, 174, 101, 2, 49, 9, 1}, {3, 695, 98, 415, 99, 10, 1},
    {3, 1, 49, 2, 49, 11, 1}, {3, 174, 101, 225, 100, 12, 1}, {3, 595, 100, 140, 98, 13, 1},
    {5, 1, 0, 42, 99, 12, 1}, {2, 491, 98, 116, 98, 13, 1}, {5, 4, 0, 220, 99, 9, 1},
    {4, 2, 0, 225, 100, 8, 1}, {0, 0, 0, 464, 101, 9, 1}, {3, 491, 98, 33, 97, 10, 1},
    {7, -2, 0, 695, 97, 10, 1}, {7, 8, 0, 317, 99, 10, 1}, {0, 0, 0, 1, 49, 11, 1},
    {4, 2, 0, 2, 49, 10, 1}, {3, 415, 99, 49, 98, 11, 1}, {5, 3, 0, 646, 97, 8, 1},
    {8, 0, -1, 2, 49, 8, 1}, {3, 174, 101, 487, 98, 9, 1}, {2, 464, 101, 1, 49, 10, 1},
    {6, 1, 0, 1, 49, 9, 1}, {3, 464, 101, 355, 99, 10, 1}, {0, 0, 0, 513, 101, 11, 1},
    {7, -4, 0, 403, 98, 11, 1}, {1, 0, 0, 398, 100, 12, 1}, {2, 33, 97, 465, 100, 13, 2},
    {8, 2, -1, 386, 97, 11, 2}, {8, 1, -2, 352, 101, 9, 2}, {8, 2, -1, 102, 98, 7, 1},
    {0, 0, 0, 219, 97, 8, 1}, {3, 403, 98, 90, 100, 9, 1}, {6, 3, 0, 269, 99, 6, 1},
    {0, 0, 0, 517, 99, 7, 1}, {1, 0, 0, 452, 97, 8, 1}, {3, 317, 99, 432, 101, 9, 1},
    {5, 1, 0, 224, 97, 8, 1}, {4, 1, 0, 403, 98, 7, 1}, {5, 2, 0, 529, 98, 5, 1},
    {1, 0, 0, 89, 101, 6, 1}, {1, 0, 0, 450, 98, 7, 1}, {6, 1, 0, 298, 101, 6, 1},
    {6, 2, 0, 574, 101, 4, 1}, {1, 0, 0, 2, 49, 5, 1}, {0, 0, 0, 145, 99, 6, 1},
    {6, 2, 0, 280, 101, 4, 1}, {0, 0, 0, 549, 100, 5, 1}, {0, 0, 0, 6, 101, 6, 1},
    {7, 2, 0, 29, 100, 6, 1}, {0, 0, 0, 411, 101, 7, 1}, {6, 2, 0, 125, 101, 5, 1},
    {0, 0, 0, 1, 49, 6, 1}, {1, 0, 0, 470, 101, 7, 1}, {4, -1, 0, 2, 49, 6, 1},
    {5, 2, 0, 348, 98, 4, 1}, {1, 0, 0, 325, 101, 5, 1}, {0, 0, 0, 430, 98, 6, 1},
    {7, -4, 0, 267, 97, 6, 1}, {0, 0, 0, 37, 97, 7, 1}, {3, 325, 101, 233, 98, 8, 1},
    {8, 2, -2, 330, 99, 5, 1}, {0, 0, 0, 511, 101, 6, 1}, {1, 0, 0, 597, 100, 7, 1},
    {1, 0, 0, 639, 101, 8, 1}, {2, 430, 98, 1, 49, 9, 1}, {0, 0, 0, 649, 100, 10, 1},
    {4, -2, 0, 29, 100, 9, 1}, {3, 549, 100, 3, 49, 10, 1}, {6, 3, 0, 556, 98, 7, 1},
    {7, 4, 0, 239, 98, 7, 1}, {8, 1, -1, 186, 99, 6, 1}, {3, 267, 97, 224, 98, 7, 1},
    {1, 0, 0, 246, 98, 8, 1}, {2, 549, 100, 1, 49, 9, 1}, {4, -2, 0, 239, 98, 8, 1},
    {1, 0, 0, 1, 49, 9, 1}, {3, 1, 49, 644, 100, 10, 1}, {1, 0, 0, 584, 98, 11, 1},
    {8, 0, -1, 370, 99, 11, 1}, {6, 3, 0, 2, 49, 8, 1}, {8, 1, -3, 73, 98, 5, 1},
    {0, 0, 0, 565, 97, 6, 1}, {7, 1, 0, 583, 101, 6, 1}, {2, 1, 49, 189, 98, 7, 1},
    {3, 583, 101, 162, 98, 8, 1}, {8, 0, -3, 594, 97, 6, 1}, {8, 0, -2, 80, 100, 5, 1},
    {1, 0, 0, 437, 100, 6, 1}, {6, 1, 0, 441, 99, 5, 1}, {1, 0, 0, 650, 97, 6, 1},
    {0, 0, 0, 206, 97, 7, 1}, {2, 189, 98, 465, 100, 8, 1}, {0, 0, 0, 416, 99, 9, 1},
    {3, 437, 100, 170, 101, 10, 1}, {6, 1, 0, 332, 97, 9, 1}, {1, 0, 0, 3, 49, 10, 1},
    {4, -2, 0, 170, 101, 9, 1}, {7, -1, 0, 265, 99, 9, 1}, {1, 0, 0, 3, 49, 10, 1},
    {1, 0, 0, 416, 98, 11, 1}, {2, 465, 100, 552, 99, 12, 1}, {1, 0, 0, 186, 100, 13, 1},
    {4, 2, 0, 416, 98, 12, 1}, {2, 186, 100, 104, 100, 13, 1}, {3, 104, 100, 3, 49, 14, 1},
    {3, 3, 49, 683, 99, 15, 2}, {3, 650, 97, 676, 98, 16, 2}, {7, -12, 0, 546, 98, 16, 2},
    {4, 0, 0, 650, 97, 15, 2}, {1, 0, 0, 589, 100, 16, 2}, {0, 0, 0, 631, 97, 17, 2},
    {1, 0, 0, 1, 49, 18, 2}, {2, 265, 99, 412, 100, 19, 3}, {0, 0, 0, 664, 98, 20, 3},
    {4, 2, 0, 676, 98, 19, 3}, {2, 631, 97, 564, 99, 20, 3}, {6, 5, 0, 534, 100, 15, 2},
    {1, 0, 0, 2, 49, 16, 2}, {1, 0, 0, 1, 49, 17, 2}, {6, 1, 0, 685, 101, 16, 2},
    {4, 1, 0, 583, 101, 15, 2}, {5, 5, 0, 626, 101, 10, 2}, {0, 0, 0, 507, 100, 11, 2},
    {4, -2, 0, 552, 99, 10, 2}, {2, 3, 49, 544, 99, 11, 2}, {5, 3, 0, 2, 49, 8, 2},
    {2, 465, 100, 3, 49, 9, 2}, {0, 0, 0, 251, 97, 10, 2}, {7, -5, 0, 649, 97, 10, 2},
    {4, 2, 0, 186, 100, 9, 2}, {0, 0, 0, 52, 100, 10, 2}, {7, -8, 0, 2, 49, 10, 2},
    {1, 0, 0, 440, 98, 11, 2}, {0, 0, 0, 257, 100, 12, 2}, {1, 0, 0, 47, 98, 13, 2},
    {6, 2, 0, 480, 97, 11, 2}, {3, 47, 98, 118, 101, 12, 2}, {7, -9, 0, 467, 100, 12, 2},
    {3, 189, 98, 366, 97, 13, 2}, {2, 649, 97, 373, 97, 14, 2}, {2, 373, 97, 2, 49, 15, 2},
    {7, 3, 0, 655, 99, 15, 2}, {8, 2, -1, 373, 100, 13, 2}, {2, 2, 49, 132, 99, 14, 2},
    {5, 3, 0, 516, 97, 11, 1}, {1, 0, 0, 640, 101, 12, 1}, {3, 1, 49, 279, 99, 13, 1},
    {8, 2, -1, 3, 49, 11, 1}, {3, 373, 97, 2, 49, 12, 1}, {3, 507, 100, 515, 98, 13, 1},
    {3, 507, 100, 1, 49, 14, 1}, {0, 0, 0, 278, 97, 15, 1}, {2, 279, 99, 28, 100, 16, 1},
    {0, 0, 0, 228, 97, 17, 1}, {6, 1, 0, 75, 99, 16, 1}, {8, 0, -1, 564, 98, 16, 1},
    {3, 507, 100, 491, 100, 17, 1}, {3, 251, 97, 352, 99, 18, 2}, {0, 0, 0, 77, 98, 19, 2},
    {1, 0, 0, 459, 97, 20, 3}, {1, 0, 0, 219, 101, 21, 3}, {5, 4, 0, 265, 100, 17, 2},
    {1, 0, 0, 378, 98, 18, 2}, {2, 507, 100, 3, 49, 19, 2}, {2, 1, 49, 189, 101, 20, 2},
    {8, 0, -2, 595, 99, 19, 2}, {3, 373, 97, 557, 97, 20, 2}, {4, -1, 0, 1, 49, 19, 2},
    {2, 1, 49, 78, 97, 20, 2}, {3, 373, 97, 3, 49, 21, 2}, {0, 0, 0, 507, 99, 22, 2},
    {0, 0, 0, 2, 49, 23, 2}, {2, 1, 49, 225, 98, 24, 2}, {8, 1, -3, 2, 49, 21, 2},
    {3, 251, 97, 2, 49, 22, 2}, {7, 6, 0, 2, 49, 22, 2}, {6, 3, 0, 470, 99, 19, 2},
    {3, 366, 97, 529, 100, 20, 2}, {1, 0, 0, 375, 99, 21, 2}, {0, 0, 0, 694, 99, 22, 2},
    {4, -2, 0, 649, 97, 21, 2}, {3, 557, 97, 554, 100, 22, 2}, {7, -11, 0, 182, 101, 22, 2},
    {1, 0, 0, 289, 100, 23, 2}, {1, 0, 0, 227, 97, 24, 2}, {6, 3, 0, 558, 97, 21, 2},
    {7, 20, 0, 23, 99, 21, 2}, {1, 0, 0, 66, 100, 22, 2}, {7, 12, 0, 313, 101, 22, 2},
    {1, 0, 0, 84, 99, 23, 2}, {2, 2, 49, 1, 49, 24, 2}, {1, 0, 0, 650, 97, 25, 3},
    {8, 2, -1, 100, 98, 23, 2}, {4, -2, 0, 182, 101, 22, 2}, {3, 2, 49, 404, 100, 23, 2},
    {3, 1, 49, 689, 99, 24, 3}, {5, 2, 0, 551, 100, 22, 3}, {0, 0, 0, 48, 101, 23, 3},
    {4, -1, 0, 289, 100, 22, 3}, {1, 0, 0, 555, 100, 23, 3}, {8, 1, -1, 537, 97, 22, 3},
    {0, 0, 0, 432, 97, 23, 3}, {4, -1, 0, 373, 97, 22, 3}, {8, 0, -2, 329, 98, 21, 3},
    {4, 0, 0, 2, 49, 18, 3}, {5, 3, 0, 118, 99, 15, 2}, {8, 0, -2, 184, 98, 14, 2},
    {0, 0, 0, 493, 101, 15, 2}, {1, 0, 0, 321, 97, 16, 2}, {1, 0, 0, 189, 98, 17, 2},
    {3, 313, 101, 603, 98, 18, 2}, {7, 14, 0, 2, 49, 18, 2}, {3, 603, 98, 190, 100, 19, 2},
    {4, -2, 0, 23, 99, 18, 2}, {5, 4, 0, 497, 99, 14, 2}, {3, 507, 100, 3, 49, 15, 2},
    {1, 0, 0, 227, 100, 16, 2}, {4, -1, 0, 313, 101, 15, 2}, {6, 1, 0, 282, 101, 14, 2},
    {8, 1, -2, 12, 98, 12, 2}, {5, 2, 0, 432, 98, 10, 2}, {4, 2, 0, 190, 100, 9, 2},
    {1, 0, 0, 135, 101, 10, 2}, {8, 1, -1, 3, 49, 9, 2}, {6, 3, 0, 155, 97, 6, 2},
    {1, 0, 0, 2, 98, 7, 2}, {3, 2, 98, 132, 98, 8, 2}, {3, 132, 98, 630, 99, 9, 2},
    {5, 1, 0, 2, 49, 8, 2}, {0, 0, 0, 557, 101, 9, 2}, {6, 1, 0, 20, 99, 8, 2},
    {4, -1, 0, 630, 99, 7, 2}, {3, 189, 101, 557, 97, 8, 2}, {6, 2, 0, 162, 100, 6, 2},
    {3, 132, 98, 416, 99, 7, 2}, {6, 1, 0, 479, 99, 6, 1}, {3, 132, 98, 144, 97, 7, 1},
    {8, 1, -1, 693, 100, 6, 1}, {1, 0, 0, 670, 97, 7, 1}, {5, 2, 0, 387, 97, 5, 1},
    {0, 0, 0, 578, 99, 6, 1}, {1, 0, 0, 11, 100, 7, 1}, {1, 0, 0, 1, 49, 8, 1},
    {7, 4, 0, 298, 98, 8, 1}, {6, 2, 0, 2, 49, 6, 1}, {1, 0, 0, 569, 100, 7, 1},
    {8, 0, -3, 263, 97, 5, 1}, {1, 0, 0, 1, 49, 6, 1}, {3, 416, 99, 281, 99, 7, 1},
    {5, 2, 0, 3, 49, 5, 1}, {1, 0, 0, 95, 100, 6, 1}, {1, 0, 0, 637, 98, 7, 1},
    {1, 0, 0, 694, 98, 8, 1}, {8, 0, -3, 1, 49, 6, 1}, {4, 0, 0, 11, 100, 5, 1},
    {0, 0, 0, 34, 98, 6, 1}, {2, 1, 49, 445, 97, 7, 1}, {1, 0, 0, 350, 97, 8, 1},
    {4, 1, 0, 95, 100, 7, 1}, {0, 0, 0, 495, 100, 8, 1}, {3, 350, 97, 638, 100, 9, 1},
    {0, 0, 0, 628, 100, 10, 2}, {0, 0, 0, 251, 99, 11, 2}, {8, 0, -2, 543, 101, 10, 2},
    {3, 445, 97, 351, 98, 11, 2}, {8, 2, -2, 109, 100, 8, 2}, {3, 1, 49, 341, 101, 9, 2},
    {1, 0, 0, 163, 101, 10, 2}, {2, 34, 98, 306, 101, 11, 2}, {3, 306, 101, 627, 99, 12, 2},
    {6, 2, 0, 588, 98, 10, 2}, {6, 1, 0, 3, 49, 9, 2}, {7, -3, 0, 643, 97, 9, 2},
    {1, 0, 0, 140, 97, 10, 2}, {3, 1, 49, 591, 100, 11, 2}, {0, 0, 0, 338, 99, 12, 2},
    {1, 0, 0, 273, 99, 13, 2}, {5, 2, 0, 464, 97, 11, 2}, {3, 416, 99, 557, 101, 12, 2},
    {6, 3, 0, 574, 97, 9, 2}, {2, 637, 98, 2, 49, 10, 2}, {1, 0, 0, 296, 97, 11, 2},
    {8, 2, -2, 247, 99, 8, 2}, {2, 2, 49, 612, 98, 9, 2}, {5, 1, 0, 414, 97, 8, 2},
    {1, 0, 0, 1, 49, 9, 2}, {2, 1, 49, 3, 49, 10, 2}, {7, -10, 0, 656, 101, 10, 2},
    {2, 1, 49, 422, 98, 11, 2}, {0, 0, 0, 541, 98, 12, 2}, {4, 1, 0, 445, 97, 11, 2},
    {3, 2, 49, 135, 101, 12, 2}, {3, 656, 101, 341, 101, 13, 2}, {8, 0, -2, 688, 97, 12, 2},
    {5, 4, 0, 105, 101, 8, 2}, {3, 591, 100, 639, 100, 9, 2}, {1, 0, 0, 498, 99, 10, 2},
    {5, 2, 0, 2, 49, 8, 2}, {1, 0, 0, 118, 101, 9, 2}, {6, 3, 0, 538, 99, 6, 2},
    {4, 0, 0, 135, 101, 5, 2}, {1, 0, 0, 3, 49, 6, 2}, {4, 2, 0, 351, 98, 5, 2},
    {1, 0, 0, 72, 101, 6, 2}, {3, 3, 49, 458, 97, 7, 2}, {6, 2, 0, 54, 100, 5, 1},
    {0, 0, 0, 245, 101, 6, 1}, {6, 2, 0, 673, 99, 4, 1}, {0, 0, 0, 682, 97, 5, 1},
    {1, 0, 0, 432, 101, 6, 1}, {7, 4, 0, 228, 98, 6, 1}, {0, 0, 0, 581, 100, 7, 1},
    {1, 0, 0, 101, 97, 8, 1}, {6, 2, 0, 127, 98, 6, 1}, {0, 0, 0, 250, 99, 7, 1},
    {0, 0, 0, 25, 99, 8, 1},
};

static void replay(const struct parity_op *ops, size_t n, int32_t fill)
{
    struct list *l = mk_quick();
    struct model m = { 0 };

    for (size_t i = 0; i < n; i++) {
        const struct parity_op *o = &ops[i];
        const char *v = mkval(o->vlen, o->vchar);
        size_t vlen = (size_t)o->vlen;
        uint64_t from, cnt;
        long at;

        switch (o->op) {
        case 0:
        case 1:
            assert_int_equal(list_push(l, o->op == 1 ? LIST_HEAD : LIST_TAIL, v, vlen, fill), ST_OK);
            model_insert(&m, o->op == 1 ? 0 : m.n, v);
            break;
        case 2:
        case 3: {
            const char *pv = mkval(o->a, o->b);
            assert_int_equal(list_insert(l, pv, (size_t)o->a, o->op == 3, v, vlen, fill), 1);
            at = model_find(&m, pv);
            assert_true(at >= 0);
            model_insert(&m, (size_t)at + (o->op == 3), v);
            break;
        }
        case 4:
            assert_int_equal(list_rem(l, o->a, v, vlen), model_rem(&m, o->a, v));
            break;
        case 5:
        case 6:
            cnt = (uint64_t)o->a < m.n ? (uint64_t)o->a : m.n;
            list_pop(l, o->op == 5 ? LIST_HEAD : LIST_TAIL, (uint64_t)o->a);
            model_delete(&m, o->op == 5 ? 0 : m.n - cnt, cnt);
            break;
        case 7:
            assert_int_equal(list_set(l, o->a, v, vlen), ST_OK);
            at = o->a < 0 ? (long)m.n + o->a : o->a;
            free(m.v[at]);
            m.v[at] = strdup(v);
            break;
        case 8:
            cnt = list_range(m.n, o->a, o->b, &from);
            list_trim(l, cnt ? from : m.n, cnt ? m.n - from - cnt : 0);
            if (cnt) {
                model_delete(&m, from + cnt, m.n - from - cnt);
                model_delete(&m, 0, from);
            } else {
                model_delete(&m, 0, m.n);
            }
            break;
        default:
            fail();
        }
        if (list_len(l) != o->llen || l->nnodes != o->nodes)
            fail_msg("step %zu (op %d): llen %llu nodes %u, Redis had %u and %u", i, o->op,
                     (unsigned long long)list_len(l), l->nnodes, o->llen, o->nodes);
        assert_int_equal(list_verify(l), ST_OK);
        if (list_len(l) == 0) { /* Redis deleted the key */
            list_destroy(l);
            l = mk_quick();
        }
        if (i % 50 == 0)
            assert_model(l, &m);
    }
    assert_model(l, &m);
    model_free(&m);
    list_destroy(l);
}

static void test_node_counts_match_redis_with_count_fill(void **state)
{
    (void)state;
    replay(parity_fill3, sizeof(parity_fill3) / sizeof(parity_fill3[0]), 3);
}

static void test_node_counts_match_redis_with_4kb_nodes(void **state)
{
    (void)state;
    replay(parity_4kb, sizeof(parity_4kb) / sizeof(parity_4kb[0]), -1);
}

/* ---- random operations against the model ------------------------------- */

/* A random value: short strings, canonical and non-canonical integers,
 * sometimes long ones (so byte limits are hit). */
static const char *rnd_val(struct util_rng *r, char *buf)
{
    uint64_t k = util_rng_next(r) % 100;

    if (k < 30) {
        snprintf(buf, 40, "%lld", (long long)(util_rng_next(r) % 2000) - 1000);
        return buf;
    }
    if (k < 35) {
        snprintf(buf, 40, "0%llu", (unsigned long long)(util_rng_next(r) % 50));
        return buf;
    }
    if (k < 40)
        return mkval((int)(util_rng_next(r) % 3000), 'L');
    snprintf(buf, 40, "s%llu", (unsigned long long)(util_rng_next(r) % 40));
    return buf;
}

static void random_run(int32_t fill, uint64_t seed, int steps)
{
    struct util_rng r;
    struct list *l = list_create();
    struct model m = { 0 };
    char buf[48], buf2[48];
    struct lp_val v;

    util_rng_seed(&r, seed);
    for (int step = 0; step < steps; step++) {
        uint64_t op = util_rng_next(&r) % 100;
        const char *s = rnd_val(&r, buf);
        size_t len = strlen(s);

        if (op < 30 || m.n < 3) {
            enum list_where w = (op & 1) ? LIST_HEAD : LIST_TAIL;
            list_convert_grow(l, 1, len, fill);
            assert_int_equal(list_push(l, w, s, len, fill), ST_OK);
            model_insert(&m, w == LIST_HEAD ? 0 : m.n, s);
        } else if (op < 40) {
            uint64_t n = util_rng_next(&r) % 4 + 1, cnt = n < m.n ? n : m.n;
            enum list_where w = (op & 1) ? LIST_HEAD : LIST_TAIL;
            assert_int_equal(list_peek(l, w, &v), ST_OK);
            list_pop(l, w, n);
            model_delete(&m, w == LIST_HEAD ? 0 : m.n - cnt, cnt);
            if (list_len(l))
                list_convert_shrink(l, fill);
        } else if (op < 55) {
            size_t at = util_rng_next(&r) % m.n;
            int after = (int)(util_rng_next(&r) & 1);
            const char *pv = strcpy(buf2, strlen(m.v[at]) < sizeof(buf2) ? m.v[at] : "s1");
            long found = model_find(&m, pv);
            int rc;

            list_convert_grow(l, 1, len, fill);
            rc = list_insert(l, pv, strlen(pv), after, s, len, fill);
            assert_int_equal(rc, found >= 0 ? 1 : 0);
            if (found >= 0)
                model_insert(&m, (size_t)found + (size_t)after, s);
        } else if (op < 65) {
            long long idx = (long long)(util_rng_next(&r) % (m.n * 2 + 2)) - (long long)m.n - 1;
            long long pos = idx < 0 ? (long long)m.n + idx : idx;
            int ok = pos >= 0 && pos < (long long)m.n;

            list_convert_grow(l, 1, len, fill);
            assert_int_equal(list_set(l, idx, s, len), ok ? ST_OK : ST_ENOENT);
            if (ok) {
                free(m.v[pos]);
                m.v[pos] = strdup(s);
                list_convert_shrink(l, fill);
            }
        } else if (op < 75) {
            long long count = (long long)(util_rng_next(&r) % 5) - 2;
            const char *target = m.v[util_rng_next(&r) % m.n];
            char t[48];
            const char *tp = strlen(target) < sizeof(t) ? strcpy(t, target) : s;
            uint64_t want = model_rem(&m, count, tp);

            assert_int_equal(list_rem(l, count, tp, strlen(tp)), want);
            if (list_len(l))
                list_convert_shrink(l, fill);
        } else if (op < 80) {
            long long st = (long long)(util_rng_next(&r) % 5) - 1;
            long long en = -(long long)(util_rng_next(&r) % 5) - 1;
            uint64_t from, cnt = list_range(m.n, st, en, &from);

            list_trim(l, cnt ? from : m.n, cnt ? m.n - from - cnt : 0);
            if (cnt) {
                model_delete(&m, from + cnt, m.n - from - cnt);
                model_delete(&m, 0, from);
            } else {
                model_delete(&m, 0, m.n);
            }
            if (list_len(l))
                list_convert_shrink(l, fill);
        } else {
            long long idx = (long long)(util_rng_next(&r) % (m.n * 2)) - (long long)m.n;
            long long pos = idx < 0 ? (long long)m.n + idx : idx;
            size_t vl;

            assert_int_equal(list_index(l, idx, &v), ST_OK);
            {
                const char *p = val_text(&v, buf2, &vl);
                assert_int_equal(vl, strlen(m.v[pos]));
                assert_memory_equal(p, m.v[pos], vl);
            }
        }
        assert_int_equal(list_len(l), m.n);
        if (m.n == 0) { /* the key would be deleted */
            list_destroy(l);
            l = list_create();
        }
        if (!l->quick)
            assert_true(l->nnodes <= 1);
        if (step % 1000 == 0)
            assert_model(l, &m);
    }
    assert_model(l, &m);
    model_free(&m);
    list_destroy(l);
}

static void test_random_ops_match_model_count_fills(void **state)
{
    (void)state;
    random_run(1, 1, 20000);
    random_run(3, 2, 20000);
    random_run(16, 3, 20000);
    random_run(128, 4, 20000);
}

static void test_random_ops_match_model_size_fills(void **state)
{
    (void)state;
    random_run(-1, 5, 20000);
    random_run(-2, 6, 20000);
    random_run(-5, 7, 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_list_is_listpack_with_no_node),
        cmocka_unit_test(test_push_pop_both_ends_strings_and_ints),
        cmocka_unit_test(test_index_negative_and_out_of_range),
        cmocka_unit_test(test_iter_both_directions_from_any_index),
        cmocka_unit_test(test_range_rules_as_lrange),
        cmocka_unit_test(test_count_fill_splits_nodes_at_both_ends),
        cmocka_unit_test(test_size_fill_splits_nodes_where_redis_does),
        cmocka_unit_test(test_count_fill_has_an_8kb_safety_limit),
        cmocka_unit_test(test_element_larger_than_a_node_gets_its_own_node),
        cmocka_unit_test(test_insert_splits_a_full_node),
        cmocka_unit_test(test_insert_split_merges_neighbours_that_fit),
        cmocka_unit_test(test_insert_at_node_edges_uses_neighbour_or_new_node),
        cmocka_unit_test(test_insert_in_listpack_ignores_node_limits),
        cmocka_unit_test(test_rem_from_head_tail_and_all),
        cmocka_unit_test(test_rem_compares_ints_by_text),
        cmocka_unit_test(test_pop_and_trim_across_nodes),
        cmocka_unit_test(test_set_replaces_in_place),
        cmocka_unit_test(test_count_limit_switches_listpack_quicklist),
        cmocka_unit_test(test_shrink_needs_a_single_node),
        cmocka_unit_test(test_size_limit_switches_listpack_quicklist),
        cmocka_unit_test(test_dup_is_deep_and_keeps_shape),
        cmocka_unit_test(test_mem_counts_every_node),
        cmocka_unit_test(test_node_counts_match_redis_with_count_fill),
        cmocka_unit_test(test_node_counts_match_redis_with_4kb_nodes),
        cmocka_unit_test(test_random_ops_match_model_count_fills),
        cmocka_unit_test(test_random_ops_match_model_size_fills),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
