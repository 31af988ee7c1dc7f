/*
 * test_serial.c -- unit tests for engine/serial.c: the exact bytes of the
 * documented format; a round trip of every type in every encoding (values
 * built through the type modules' own APIs, compared element by element, the
 * encoding and the re-encoded bytes too); the encoding a decoded value gets
 * when the thresholds differ, with and without SERIAL_DEC_COMPACT; edge
 * values (empty string, one-element collections) and 100k-element ones;
 * hand-made corruptions of every kind the decoder must refuse; every
 * truncation and thousands of random byte changes of valid encodings (each
 * either refused with ST_ECORRUPT or decoded into a value that satisfies its
 * module's invariants); random structures under random thresholds against
 * the documented encoding rule; allocation failures at every step (nothing
 * leaks: run under ASan); and a throughput print (no timed assertion).
 *
 * Allocation failures are injected by interposing malloc, calloc and realloc
 * in this executable (as test_t_set.c does).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <dlfcn.h>

#include "engine/dict.h"
#include "engine/entry.h"
#include "engine/err.h"
#include "engine/hll.h"
#include "engine/intset.h"
#include "engine/lpack.h"
#include "engine/serial.h"
#include "engine/t_hash.h"
#include "engine/t_list.h"
#include "engine/t_set.h"
#include "engine/t_zset.h"
#include "engine/util.h"

#define SEED 0x5eed5eedull

/* ---- allocation failure injection ------------------------------------- */

static int armed;
static long fail_skip, fail_n, allocs;
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

/* Fails the allocation after `skip` successful ones (just that one). */
static void arm(long skip)
{
    allocs = 0;
    fail_skip = skip;
    fail_n = 1;
    armed = 1;
}

/* Stops injecting; returns 1 when the armed failure happened. */
static int disarm(void)
{
    armed = 0;
    return fail_n == 0;
}

/* ---- building values through the type modules --------------------------- */

static const struct type_limits deflim = TYPE_LIMITS_DEFAULT;

static struct entry *wrap(uint8_t type, void *obj)
{
    struct entry *e = entry_create("key", 3, type, ENC_PTR, sizeof(void *), -1);

    assert_non_null(e);
    entry_set_ptr(e, obj);
    return e;
}

static uint64_t rnd(struct util_rng *r, uint64_t n)
{
    return util_rng_next(r) % n;
}

/* Element styles. */
enum style { ST_MIXED = 0, ST_INTS = 1, ST_STRS = 2, ST_SMALLINTS = 3 };

/* A random element of the style into buf (>= maxlen + 24 bytes). */
static size_t gen(unsigned char *buf, struct util_rng *r, int style, size_t maxlen)
{
    int kind = style == ST_MIXED ? (int)rnd(r, 2) : style == ST_STRS ? 1 : 0;

    if (style == ST_SMALLINTS)
        return (size_t)util_ll2str((char *)buf, (long long)rnd(r, 100000));
    if (kind == 0) {
        static const int64_t spans[] = { 100, 30000, 2000000000, INT64_MAX };
        int64_t span = spans[rnd(r, 4)];
        int64_t v = (int64_t)(util_rng_next(r) % (uint64_t)span);
        return (size_t)util_ll2str((char *)buf, rnd(r, 2) ? v : -v);
    }
    size_t len = maxlen ? (size_t)rnd(r, maxlen + 1) : 0;
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)(rnd(r, 4) ? 'a' + rnd(r, 26) : rnd(r, 256));
    return len;
}

static struct entry *build_list(struct util_rng *r, uint64_t n, int style, size_t maxlen, const struct type_limits *lim)
{
    struct list *l = list_create();
    unsigned char *buf = malloc(maxlen + 32);

    assert_non_null(l);
    for (uint64_t i = 0; i < n; i++) {
        size_t len = gen(buf, r, style, maxlen);
        list_convert_grow(l, 1, len, lim->list_max_lp_size);
        assert_int_equal(list_push(l, rnd(r, 3) ? LIST_TAIL : LIST_HEAD, buf, len, lim->list_max_lp_size), ST_OK);
    }
    free(buf);
    return wrap(OBJ_LIST, l);
}

static struct entry *build_set(struct util_rng *r, uint64_t n, int style, size_t maxlen, const struct type_limits *lim)
{
    unsigned char *buf = malloc(maxlen + 32);
    size_t len = gen(buf, r, style, maxlen);
    struct set *s = set_create_for(buf, len, n, lim, SEED);

    assert_non_null(s);
    assert_true(set_add(&s, buf, len, lim, SEED) >= 0);
    for (uint64_t i = 1; i < n; i++) {
        len = gen(buf, r, style, maxlen);
        assert_true(set_add(&s, buf, len, lim, SEED) >= 0);
    }
    free(buf);
    return wrap(OBJ_SET, s);
}

static double gen_score(struct util_rng *r)
{
    switch (rnd(r, 8)) {
    case 0:
        return (double)(int64_t)rnd(r, 10); /* many equal scores: member order matters */
    case 1:
        return -(double)rnd(r, 1000000);
    case 2:
        return (double)rnd(r, 1000) / 7.0;
    case 3:
        return rnd(r, 2) ? INFINITY : -INFINITY;
    case 4:
        return ldexp((double)rnd(r, 1u << 30), (int)rnd(r, 200) - 100);
    default:
        return (double)rnd(r, 100) + 0.5;
    }
}

static struct entry *build_zset(struct util_rng *r, uint64_t n, int style, size_t maxlen, const struct type_limits *lim)
{
    unsigned char *buf = malloc(maxlen + 32);
    void *zs = zset_create(0, 0, lim);

    assert_non_null(zs);
    for (uint64_t i = 0; i < n; i++) {
        size_t len = gen(buf, r, style, maxlen);
        int of;
        assert_int_equal(zset_add(&zs, lim, gen_score(r), buf, len, 0, &of, NULL), ST_OK);
    }
    free(buf);
    return wrap(OBJ_ZSET, zs);
}

static struct entry *build_hash(struct util_rng *r, uint64_t n, int style, size_t maxlen, const struct type_limits *lim)
{
    unsigned char *f = malloc(maxlen + 32), *v = malloc(maxlen + 32);
    void *h = hash_create();
    struct hash_conf conf;

    hash_conf_init(&conf, lim, SEED);
    assert_non_null(h);
    for (uint64_t i = 0; i < n; i++) {
        size_t fl = gen(f, r, style, maxlen), vl = gen(v, r, style, maxlen);
        int added;
        assert_int_equal(hash_set(&h, f, fl, v, vl, &conf, &added), ST_OK);
    }
    free(f);
    free(v);
    return wrap(OBJ_HASH, h);
}

/* Named members, for the hand-made cases. */
static struct entry *set_of(const char *const *m, size_t n, const struct type_limits *lim)
{
    struct set *s = set_create_for(m[0], strlen(m[0]), n, lim, SEED);

    for (size_t i = 0; i < n; i++)
        assert_true(set_add(&s, m[i], strlen(m[i]), lim, SEED) >= 0);
    return wrap(OBJ_SET, s);
}

static struct entry *hash_of(const char *const *fv, size_t pairs, const struct type_limits *lim)
{
    void *h = hash_create();
    struct hash_conf conf;
    int added;

    hash_conf_init(&conf, lim, SEED);
    for (size_t i = 0; i < pairs; i++)
        assert_int_equal(hash_set(&h, fv[2 * i], strlen(fv[2 * i]), fv[2 * i + 1], strlen(fv[2 * i + 1]), &conf,
                                  &added),
                         ST_OK);
    return wrap(OBJ_HASH, h);
}

static struct entry *list_of(const char *const *m, size_t n, const struct type_limits *lim)
{
    struct list *l = list_create();

    for (size_t i = 0; i < n; i++) {
        list_convert_grow(l, 1, strlen(m[i]), lim->list_max_lp_size);
        assert_int_equal(list_push(l, LIST_TAIL, m[i], strlen(m[i]), lim->list_max_lp_size), ST_OK);
    }
    return wrap(OBJ_LIST, l);
}

static struct entry *zset_of(const char *const *m, const double *sc, size_t n, const struct type_limits *lim)
{
    void *zs = zset_create(0, 0, lim);
    int of;

    for (size_t i = 0; i < n; i++)
        assert_int_equal(zset_add(&zs, lim, sc[i], m[i], strlen(m[i]), 0, &of, NULL), ST_OK);
    return wrap(OBJ_ZSET, zs);
}

/* ---- comparing values ------------------------------------------------ */

static void list_eq(struct list *a, struct list *b)
{
    struct list_iter ia, ib;
    struct lp_val va, vb;

    assert_int_equal(list_verify(b), ST_OK);
    assert_int_equal(list_len(a), list_len(b));
    list_iter_init(a, 0, LIST_TAIL, &ia);
    list_iter_init(b, 0, LIST_TAIL, &ib);
    while (list_iter_next(&ia, &va)) {
        unsigned char x[24], y[24];
        size_t xl, yl;
        const unsigned char *xs, *ys;

        assert_true(list_iter_next(&ib, &vb));
        xs = lp_val_str(&va, x, &xl);
        ys = lp_val_str(&vb, y, &yl);
        assert_int_equal(xl, yl);
        assert_memory_equal(xs, ys, xl);
    }
    assert_false(list_iter_next(&ib, &vb));
}

static void set_eq(struct set *a, struct set *b)
{
    struct set_it it;
    const unsigned char *m;
    size_t len;
    unsigned char buf[UTIL_LLSTR_SIZE];
    uint64_t n = 0;

    assert_int_equal(set_len(a), set_len(b));
    set_it_init(&it, a);
    while (set_it_next(&it, &m, &len, buf)) {
        assert_true(set_contains(b, m, len));
        n++;
    }
    set_it_done(&it);
    assert_int_equal(n, set_len(a));
}

static void zset_eq(void *a, void *b)
{
    struct zset_it ia, ib;
    struct zset_elem ea, eb;

    assert_int_equal(zset_len(a), zset_len(b));
    zset_it_rank(&ia, a, 0, 0);
    zset_it_rank(&ib, b, 0, 0);
    while (zset_it_next(&ia, &ea)) {
        assert_true(zset_it_next(&ib, &eb));
        assert_int_equal(ea.len, eb.len);
        assert_memory_equal(ea.m, eb.m, ea.len);
        assert_memory_equal(&ea.score, &eb.score, sizeof(double)); /* -0 too */
    }
    assert_false(zset_it_next(&ib, &eb));
}

static void hash_eq(void *a, void *b)
{
    struct hash_iter it;
    struct hash_str v;
    uint64_t n = 0;

    assert_int_equal(hash_len(a), hash_len(b));
    hash_iter_init(&it, a);
    while (hash_iter_next(&it)) {
        assert_true(hash_get(b, it.f.p, it.f.len, &v));
        assert_int_equal(v.len, it.v.len);
        assert_memory_equal(v.p, it.v.p, v.len);
        n++;
    }
    hash_iter_done(&it);
    assert_int_equal(n, hash_len(a));
}

/* Same key, expiry, type and content (not necessarily the same encoding). */
static void value_eq(const struct entry *a, const struct entry *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->klen, b->klen);
    assert_memory_equal(entry_key(a), entry_key(b), a->klen);
    assert_int_equal(entry_expire(a), entry_expire(b));
    switch (a->type) {
    case OBJ_STRING: {
        char ta[UTIL_LLSTR_SIZE], tb[UTIL_LLSTR_SIZE];
        size_t la, lb;
        const char *sa = entry_str(a, ta, &la), *sb = entry_str(b, tb, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(sa, sb, la);
        assert_int_equal(a->flags & ENTRY_F_RAWSTR, b->flags & ENTRY_F_RAWSTR);
        break;
    }
    case OBJ_LIST:
        list_eq(entry_ptr(a), entry_ptr(b));
        break;
    case OBJ_SET:
        set_eq(entry_ptr(a), entry_ptr(b));
        break;
    case OBJ_ZSET:
        zset_eq(entry_ptr(a), entry_ptr(b));
        break;
    case OBJ_HASH:
        hash_eq(entry_ptr(a), entry_ptr(b));
        break;
    default:
        fail();
    }
}

static struct entry *decode_opts(const struct entry *e, const void *buf, size_t len, const struct type_limits *lim,
                                 unsigned flags)
{
    struct serial_dec_opts o = { flags | SERIAL_DEC_SEED, SEED };
    struct entry *d = NULL;

    assert_int_equal(serial_decode_ex(e->type, buf, len, entry_key(e), e->klen, entry_expire(e), lim, &o, &d),
                     ST_OK);
    assert_non_null(d);
    value_eq(e, d);
    return d;
}

/* Encodes e, decodes it under lim with flags, checks the content and returns
 * the decoded entry (owned). */
static struct entry *roundtrip(const struct entry *e, const struct type_limits *lim, unsigned flags)
{
    void *buf;
    size_t len;
    struct entry *d;

    assert_int_equal(serial_encode(e, &buf, &len), ST_OK);
    d = decode_opts(e, buf, len, lim, flags);
    free(buf);
    return d;
}

/* The round trip under the same limits: same content, same encoding, and the
 * decoded value encodes to the same bytes (serial.c invariant S4). Returns
 * the number of serialised bytes. Takes e. */
static size_t roundtrip_same(struct entry *e, const struct type_limits *lim)
{
    void *b1, *b2;
    size_t l1, l2;
    struct entry *d = NULL;

    assert_int_equal(serial_encode(e, &b1, &l1), ST_OK);
    assert_int_equal(serial_decode(e->type, b1, l1, entry_key(e), e->klen, entry_expire(e), lim, &d), ST_OK);
    value_eq(e, d);
    assert_string_equal(entry_encoding(e), entry_encoding(d));
    assert_int_equal(serial_encode(d, &b2, &l2), ST_OK);
    assert_int_equal(l1, l2);
    if (((unsigned char *)b1)[1] == SERIAL_T_SET_HT || ((unsigned char *)b1)[1] == SERIAL_T_HASH_HT)
        assert_memory_equal(b1, b2, SERIAL_HDR + 8); /* then the same elements, maybe in another order */
    else
        assert_memory_equal(b1, b2, l1);
    if (e->type == OBJ_LIST) {
        /* node boundaries are kept */
        const struct list_node *x = ((struct list *)entry_ptr(e))->head, *y = ((struct list *)entry_ptr(d))->head;
        for (; x && y; x = x->next, y = y->next)
            assert_int_equal(lp_count(x->lp), lp_count(y->lp));
        assert_true(!x && !y);
    }
    free(b1);
    free(b2);
    entry_destroy(d);
    entry_destroy(e);
    return l1;
}

/* ---- module invariants of a decoded value (for the fuzz runs) ------------ */

static void check_distinct(struct dict *seen, const void *m, size_t len)
{
    int added;

    assert_non_null(dict_add(seen, m, len, &added));
    assert_true(added);
}

static void check_valid(struct entry *e)
{
    switch (e->type) {
    case OBJ_STRING:
        assert_true(e->enc == ENC_RAW || e->enc == ENC_INT);
        break;
    case OBJ_LIST: {
        struct list *l = entry_ptr(e);
        struct list_iter it;
        struct lp_val v;
        uint64_t n = 0;

        assert_int_equal(list_verify(l), ST_OK);
        assert_true(list_len(l) > 0);
        list_iter_init(l, 0, LIST_TAIL, &it);
        while (list_iter_next(&it, &v))
            n++;
        assert_int_equal(n, list_len(l));
        break;
    }
    case OBJ_SET: {
        struct set *s = entry_ptr(e);
        struct dict *seen = dict_create(1);
        struct set_it it;
        const unsigned char *m;
        size_t len;
        unsigned char buf[UTIL_LLSTR_SIZE];
        uint64_t n = 0;

        assert_true(set_len(s) > 0);
        set_it_init(&it, s);
        while (set_it_next(&it, &m, &len, buf)) {
            assert_true(set_contains(s, m, len)); /* lookups find every member */
            check_distinct(seen, m, len);
            n++;
        }
        set_it_done(&it);
        assert_int_equal(n, set_len(s));
        dict_destroy(seen, NULL);
        break;
    }
    case OBJ_ZSET: {
        void *zs = entry_ptr(e);
        struct dict *seen = dict_create(1);
        struct zset_it it;
        struct zset_elem el;
        double prev = -INFINITY;
        uint64_t n = 0;

        assert_true(zset_len(zs) > 0);
        zset_it_rank(&it, zs, 0, 0);
        while (zset_it_next(&it, &el)) {
            double s;
            assert_false(isnan(el.score));
            assert_true(el.score >= prev);
            prev = el.score;
            assert_int_equal(zset_score(zs, el.m, el.len, &s), ST_OK);
            assert_true(s == el.score);
            check_distinct(seen, el.m, el.len);
            n++;
        }
        assert_int_equal(n, zset_len(zs));
        dict_destroy(seen, NULL);
        break;
    }
    case OBJ_HASH: {
        void *h = entry_ptr(e);
        struct dict *seen = dict_create(1);
        struct hash_iter it;
        struct hash_str v;
        uint64_t n = 0;

        assert_true(hash_len(h) > 0);
        hash_iter_init(&it, h);
        while (hash_iter_next(&it)) {
            assert_true(hash_get(h, it.f.p, it.f.len, &v));
            assert_int_equal(v.len, it.v.len);
            check_distinct(seen, it.f.p, it.f.len);
            n++;
        }
        hash_iter_done(&it);
        assert_int_equal(n, hash_len(h));
        dict_destroy(seen, NULL);
        break;
    }
    default:
        fail();
    }
}

/* ---- the documented bytes ------------------------------------------------- */

static void expect_bytes(const struct entry *e, const unsigned char *want, size_t wlen)
{
    void *buf;
    size_t len;

    assert_int_equal(serial_encode(e, &buf, &len), ST_OK);
    assert_int_equal(len, wlen);
    assert_memory_equal(buf, want, wlen);
    free(buf);
}

static void test_format_bytes_are_the_documented_ones(void **state)
{
    (void)state;
    struct entry *e;

    e = entry_create_str("k", 1, "abc", 3, -1);
    expect_bytes(e, (const unsigned char *)"\x01\x01\x00\x00" "\x03\x00\x00\x00" "abc", 11);
    e->flags |= ENTRY_F_RAWSTR;
    expect_bytes(e, (const unsigned char *)"\x01\x01\x01\x00" "\x03\x00\x00\x00" "abc", 11);
    entry_destroy(e);

    e = entry_create_str("k", 1, "-2", 2, 5000);
    expect_bytes(e, (const unsigned char *)"\x01\x02\x00\x00" "\xfe\xff\xff\xff\xff\xff\xff\xff", 12);
    entry_destroy(e);

    e = list_of((const char *[]){ "a" }, 1, &deflim);
    expect_bytes(e,
                 (const unsigned char *)"\x01\x10\x00\x00" "\x0c\x00\x00\x00"
                                        "\x0c\x00\x00\x00\x01\x00\x00\x00" "\x81" "a" "\x02" "\xff",
                 20);
    entry_destroy(e);

    e = set_of((const char *[]){ "2", "1" }, 2, &deflim);
    expect_bytes(e,
                 (const unsigned char *)"\x01\x20\x00\x00" "\x0c\x00\x00\x00"
                                        "\x02\x00\x00\x00\x02\x00\x00\x00" "\x01\x00\x02\x00",
                 20);
    entry_destroy(e);

    struct set *s = set_create(SET_ENC_HT, SEED);
    assert_int_equal(set_add(&s, "x", 1, &deflim, SEED), 1);
    e = wrap(OBJ_SET, s);
    expect_bytes(e,
                 (const unsigned char *)"\x01\x22\x00\x00" "\x01\x00\x00\x00\x00\x00\x00\x00"
                                        "\x01\x00\x00\x00" "x",
                 17);
    entry_destroy(e);

    void *zs = zset_create(1000, 0, &deflim); /* a skiplist */
    int of;
    assert_int_equal(zset_add(&zs, &deflim, 1.5, "m", 1, 0, &of, NULL), ST_OK);
    e = wrap(OBJ_ZSET, zs);
    expect_bytes(e,
                 (const unsigned char *)"\x01\x31\x00\x00" "\x01\x00\x00\x00\x00\x00\x00\x00"
                                        "\x01\x00\x00\x00" "m" "\x00\x00\x00\x00\x00\x00\xf8\x3f",
                 25);
    entry_destroy(e);

    void *h = hash_create();
    struct hash_conf conf;
    int added;
    hash_conf_init(&conf, &deflim, SEED);
    assert_int_equal(hash_fit(&h, SIZE_MAX, 0, &conf), ST_OK); /* a hashtable */
    assert_int_equal(hash_set(&h, "f", 1, "v", 1, &conf, &added), ST_OK);
    e = wrap(OBJ_HASH, h);
    expect_bytes(e,
                 (const unsigned char *)"\x01\x41\x00\x00" "\x01\x00\x00\x00\x00\x00\x00\x00"
                                        "\x01\x00\x00\x00" "f" "\x01\x00\x00\x00" "v",
                 22);
    entry_destroy(e);
}

/* ---- round trips ----------------------------------------------------- */

static void test_strings_round_trip_in_every_form(void **state)
{
    (void)state;
    static const char *const vals[] = { "", "a", "hello world", "12345", "-9223372036854775808", "007",
                                        "9223372036854775808", "1.5", " 1" };
    unsigned char *big = malloc(1 << 20);

    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        roundtrip_same(entry_create_str("k", 1, vals[i], strlen(vals[i]), -1), &deflim);
    for (size_t i = 0; i < (1 << 20); i++)
        big[i] = (unsigned char)(i * 131);
    static const size_t lens[] = { 44, 45, 1024, 1 << 20 };
    for (size_t i = 0; i < 4; i++)
        roundtrip_same(entry_create_str("binary\0key", 10, big, lens[i], 1700000000000), &deflim);

    /* ENC_INT, an empty key, expiry 0 */
    struct entry *e = entry_create_str("", 0, "42", 2, 0);
    assert_int_equal(e->enc, ENC_INT);
    roundtrip_same(e, &deflim);

    /* changed in place: "raw" even when short, and an integer's text that
     * stays raw (APPEND "1" to "12"; entry_resize_raw is what APPEND uses) */
    e = entry_create_str("k", 1, "12", 2, -1);
    e = entry_resize_raw(e, 3);
    entry_val(e)[2] = '3';
    assert_int_equal(e->enc, ENC_RAW);
    assert_string_equal(entry_encoding(e), "raw");
    roundtrip_same(e, &deflim);

    /* an HLL is a string: its bytes come back, sparse or dense */
    unsigned char hll[HLL_SPARSE_EMPTY_SIZE];
    hll_init_empty(hll);
    roundtrip_same(entry_create_str("h", 1, hll, sizeof(hll), -1), &deflim);
    free(big);
}

static void test_lists_round_trip_as_listpack_and_quicklist(void **state)
{
    (void)state;
    struct util_rng r;
    struct entry *e;

    util_rng_seed(&r, 1);
    e = list_of((const char *[]){ "only" }, 1, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    roundtrip_same(e, &deflim);

    e = build_list(&r, 100, ST_MIXED, 20, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    roundtrip_same(e, &deflim);

    e = build_list(&r, 3000, ST_MIXED, 300, &deflim);
    assert_string_equal(entry_encoding(e), "quicklist");
    roundtrip_same(e, &deflim);

    /* elements larger than a node, and a quicklist shrunk to one element
     * (still a quicklist: conversions go one way until a write) */
    e = build_list(&r, 20, ST_STRS, 20000, &deflim);
    assert_string_equal(entry_encoding(e), "quicklist");
    list_pop(entry_ptr(e), LIST_HEAD, 19);
    roundtrip_same(e, &deflim);

    /* count-limited nodes */
    struct type_limits lim = deflim;
    lim.list_max_lp_size = 5;
    e = build_list(&r, 23, ST_MIXED, 10, &lim);
    assert_true(((struct list *)entry_ptr(e))->nnodes >= 5);
    roundtrip_same(e, &lim);
}

static void test_sets_round_trip_in_all_three_encodings(void **state)
{
    (void)state;
    struct util_rng r;
    struct entry *e;

    util_rng_seed(&r, 2);
    e = set_of((const char *[]){ "7" }, 1, &deflim);
    assert_string_equal(entry_encoding(e), "intset");
    roundtrip_same(e, &deflim);

    e = build_set(&r, 512, ST_INTS, 0, &deflim);
    assert_string_equal(entry_encoding(e), "intset");
    roundtrip_same(e, &deflim);

    /* an intset widened to int64 and back to small members keeps its width */
    e = set_of((const char *[]){ "1", "2", "1099511627776" }, 3, &deflim);
    struct set *s = entry_ptr(e);
    assert_int_equal(set_remove(&s, "1099511627776", 13), 1);
    entry_set_ptr(e, s);
    roundtrip_same(e, &deflim);

    e = set_of((const char *[]){ "x" }, 1, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    roundtrip_same(e, &deflim);

    e = build_set(&r, 100, ST_MIXED, 30, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    roundtrip_same(e, &deflim);

    e = build_set(&r, 2000, ST_MIXED, 100, &deflim);
    assert_string_equal(entry_encoding(e), "hashtable");
    roundtrip_same(e, &deflim);

    /* a hashtable emptied down to one member stays a hashtable */
    e = set_of((const char *[]){ "a", "b" }, 2, &deflim);
    s = entry_ptr(e);
    assert_int_equal(set_maybe_convert(&s, 1000, &deflim, SEED), ST_OK);
    assert_int_equal(set_remove(&s, "a", 1), 1);
    entry_set_ptr(e, s);
    assert_string_equal(entry_encoding(e), "hashtable");
    roundtrip_same(e, &deflim);
}

static void test_zsets_round_trip_as_listpack_and_skiplist(void **state)
{
    (void)state;
    struct util_rng r;
    struct entry *e;

    util_rng_seed(&r, 3);
    e = zset_of((const char *[]){ "m" }, (const double[]){ 1 }, 1, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    roundtrip_same(e, &deflim);

    e = zset_of((const char *[]){ "a", "b", "c", "d", "e", "f", "g" },
                (const double[]){ 0.1, -0.0, INFINITY, -INFINITY, 3, 3, 1e300 }, 7, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    roundtrip_same(e, &deflim);

    e = build_zset(&r, 120, ST_MIXED, 40, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    roundtrip_same(e, &deflim);

    e = build_zset(&r, 3000, ST_MIXED, 100, &deflim);
    assert_string_equal(entry_encoding(e), "skiplist");
    roundtrip_same(e, &deflim);

    /* a skiplist keeps -0 and stays a skiplist when small */
    void *zs = zset_create(1000, 0, &deflim);
    int of;
    assert_int_equal(zset_add(&zs, &deflim, -0.0, "neg0", 4, 0, &of, NULL), ST_OK);
    assert_int_equal(zset_add(&zs, &deflim, 0.0, "a", 1, 0, &of, NULL), ST_OK);
    e = wrap(OBJ_ZSET, zs);
    roundtrip_same(e, &deflim);
}

static void test_hashes_round_trip_as_listpack_and_hashtable(void **state)
{
    (void)state;
    struct util_rng r;
    struct entry *e;

    util_rng_seed(&r, 4);
    e = hash_of((const char *[]){ "f", "v" }, 1, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    roundtrip_same(e, &deflim);

    e = hash_of((const char *[]){ "1", "2", "-5", "", "", "x" }, 3, &deflim);
    roundtrip_same(e, &deflim);

    e = build_hash(&r, 300, ST_MIXED, 30, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    roundtrip_same(e, &deflim);

    e = build_hash(&r, 3000, ST_MIXED, 100, &deflim);
    assert_string_equal(entry_encoding(e), "hashtable");
    roundtrip_same(e, &deflim);

    /* a hashtable deleted down to 3 fields stays a hashtable (one-way) */
    e = build_hash(&r, 600, ST_STRS, 10, &deflim);
    void *h = entry_ptr(e);
    assert_false(hash_is_lp(h));
    while (hash_len(h) > 3) {
        struct hash_iter it;
        unsigned char f[64];
        size_t fl;
        hash_iter_init(&it, h);
        assert_true(hash_iter_next(&it));
        fl = it.f.len;
        memcpy(f, it.f.p, fl);
        hash_iter_done(&it);
        assert_int_equal(hash_del(&h, f, fl), 1);
    }
    entry_set_ptr(e, h);
    assert_string_equal(entry_encoding(e), "hashtable");
    roundtrip_same(e, &deflim);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_100k_element_collections_round_trip(void **state)
{
    (void)state;
    struct util_rng r;
    struct entry *es[5];
    const char *names[5] = { "list", "set", "zset", "hash", "integer set" };

    util_rng_seed(&r, 5);
    es[0] = build_list(&r, 100000, ST_MIXED, 16, &deflim);
    es[1] = build_set(&r, 100000, ST_MIXED, 16, &deflim);
    es[2] = build_zset(&r, 100000, ST_MIXED, 16, &deflim);
    es[3] = build_hash(&r, 100000, ST_MIXED, 16, &deflim);
    es[4] = build_set(&r, 100000, ST_SMALLINTS, 0, &deflim);
    for (int i = 0; i < 5; i++) {
        double t0 = now_s();
        size_t n = roundtrip_same(es[i], &deflim);
        print_message("  100k %-14s %8zu bytes, encode+decode+re-encode+compare %.1f ms\n", names[i], n,
                      (now_s() - t0) * 1e3);
    }
}

/* ---- encodings under other thresholds ------------------------------------ */

/* Decodes e's encoding under lim (with flags) and checks content and the
 * OBJECT ENCODING. Takes nothing. */
static void expect_decoded_as(const struct entry *e, const struct type_limits *lim, unsigned flags,
                              const char *enc)
{
    struct entry *d = roundtrip(e, lim, flags);

    assert_string_equal(entry_encoding(d), enc);
    if (d->type == OBJ_LIST)
        assert_int_equal(list_verify(entry_ptr(d)), ST_OK);
    entry_destroy(d);
}

/* Pushes copies of s while list_convert_grow keeps the list a listpack. */
static struct entry *list_up_to_limit(const char *s, int32_t fill)
{
    struct list *l = list_create();

    for (;;) {
        list_convert_grow(l, 1, strlen(s), fill);
        if (l->quick)
            break;
        assert_int_equal(list_push(l, LIST_TAIL, s, strlen(s), fill), ST_OK);
    }
    l->quick = 0; /* the push that would have converted it never happened */
    return wrap(OBJ_LIST, l);
}

static void test_values_at_their_thresholds_keep_the_compact_encoding(void **state)
{
    (void)state;
    char m[80];
    struct entry *e;

    /* lists: small integers take fewer bytes than their text (2 vs 3), long
     * strings more (62 vs 60); both right at list-max-listpack-size */
    static const int32_t fills[] = { -1, -2, 100 };
    for (int i = 0; i < 3; i++) {
        struct type_limits lim = deflim;
        lim.list_max_lp_size = fills[i];
        e = list_up_to_limit("100", fills[i]);
        assert_true(list_len(entry_ptr(e)) > 20);
        roundtrip_same(e, &lim);
        memset(m, 'x', 60);
        m[60] = '\0';
        e = list_up_to_limit(m, fills[i]);
        roundtrip_same(e, &lim);
    }

    /* sets, hashes, sorted sets: exactly max entries, an element exactly
     * max value bytes long */
    struct set *s = set_create(SET_ENC_LISTPACK, SEED);
    void *h = hash_create(), *zs = zset_create(0, 0, &deflim);
    struct hash_conf conf;
    hash_conf_init(&conf, &deflim, SEED);
    for (int i = 0; i < 128; i++) {
        int of, added;
        memset(m, 'a' + i % 26, 64);
        snprintf(m, sizeof(m), "%03d", i);
        m[3] = 'm';
        assert_int_equal(set_add(&s, m, i ? 10 : 64, &deflim, SEED), 1);
        assert_int_equal(zset_add(&zs, &deflim, i, m, i ? 10 : 64, 0, &of, NULL), ST_OK);
        assert_int_equal(hash_set(&h, m, 10, m, i ? 10 : 64, &conf, &added), ST_OK);
    }
    for (int i = 128; i < 512; i++) {
        int added;
        snprintf(m, sizeof(m), "%03dfield", i);
        assert_int_equal(hash_set(&h, m, 8, "v", 1, &conf, &added), ST_OK);
    }
    struct entry *es[3] = { wrap(OBJ_SET, s), wrap(OBJ_ZSET, zs), wrap(OBJ_HASH, h) };
    for (int i = 0; i < 3; i++) {
        struct type_limits one_less = deflim;
        assert_string_equal(entry_encoding(es[i]), "listpack");
        expect_decoded_as(es[i], &deflim, 0, "listpack");
        one_less.set_max_lp_value = one_less.zset_max_lp_value = one_less.hash_max_lp_value = 63;
        expect_decoded_as(es[i], &one_less, 0, i == 1 ? "skiplist" : "hashtable");
        one_less = deflim;
        one_less.set_max_lp_entries = one_less.zset_max_lp_entries = 127;
        one_less.hash_max_lp_entries = 511;
        expect_decoded_as(es[i], &one_less, 0, i == 1 ? "skiplist" : "hashtable");
        roundtrip_same(es[i], &deflim);
    }
}

static void test_compact_values_convert_past_smaller_thresholds(void **state)
{
    (void)state;
    struct util_rng r;
    struct type_limits tiny = deflim;
    struct entry *e;

    util_rng_seed(&r, 6);
    tiny.hash_max_lp_entries = 4;
    tiny.set_max_intset_entries = 4;
    tiny.set_max_lp_entries = 4;
    tiny.zset_max_lp_entries = 4;
    tiny.list_max_lp_size = 4;

    e = build_hash(&r, 10, ST_STRS, 8, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    expect_decoded_as(e, &tiny, 0, "hashtable");
    expect_decoded_as(e, &tiny, SERIAL_DEC_COMPACT, "hashtable");
    expect_decoded_as(e, &deflim, 0, "listpack");
    entry_destroy(e);

    e = build_set(&r, 10, ST_INTS, 0, &deflim);
    assert_string_equal(entry_encoding(e), "intset");
    expect_decoded_as(e, &tiny, 0, "hashtable"); /* as set_add past the intset limit */
    expect_decoded_as(e, &tiny, SERIAL_DEC_COMPACT, "hashtable");
    struct type_limits lp_fits = tiny;
    lp_fits.set_max_lp_entries = 100;
    expect_decoded_as(e, &lp_fits, 0, "hashtable");
    expect_decoded_as(e, &lp_fits, SERIAL_DEC_COMPACT, "listpack");
    entry_destroy(e);

    e = build_set(&r, 10, ST_STRS, 8, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    expect_decoded_as(e, &tiny, 0, "hashtable");
    entry_destroy(e);

    e = build_zset(&r, 10, ST_STRS, 8, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    expect_decoded_as(e, &tiny, 0, "skiplist");
    entry_destroy(e);

    e = build_list(&r, 10, ST_STRS, 8, &deflim);
    assert_string_equal(entry_encoding(e), "listpack");
    expect_decoded_as(e, &tiny, 0, "quicklist");
    entry_destroy(e);

    /* the value-length limit, not only the entry count */
    struct type_limits short_vals = deflim;
    short_vals.hash_max_lp_value = 4;
    short_vals.set_max_lp_value = 4;
    short_vals.zset_max_lp_value = 4;
    e = hash_of((const char *[]){ "f", "long value" }, 1, &deflim);
    expect_decoded_as(e, &short_vals, 0, "hashtable");
    entry_destroy(e);
    e = set_of((const char *[]){ "a", "long member" }, 2, &deflim);
    expect_decoded_as(e, &short_vals, 0, "hashtable");
    entry_destroy(e);
    e = zset_of((const char *[]){ "long member" }, (const double[]){ 1 }, 1, &deflim);
    expect_decoded_as(e, &short_vals, 0, "skiplist");
    entry_destroy(e);
}

static void test_large_values_shrink_only_with_the_compact_flag(void **state)
{
    (void)state;
    struct util_rng r;
    struct type_limits roomy = deflim;
    struct entry *e;

    util_rng_seed(&r, 7);
    roomy.hash_max_lp_entries = 1000;
    roomy.set_max_intset_entries = 1000;
    roomy.set_max_lp_entries = 1000;
    roomy.zset_max_lp_entries = 1000;
    roomy.list_max_lp_size = -5;

    e = build_hash(&r, 600, ST_STRS, 8, &deflim);
    assert_string_equal(entry_encoding(e), "hashtable");
    expect_decoded_as(e, &roomy, 0, "hashtable");
    expect_decoded_as(e, &roomy, SERIAL_DEC_COMPACT, "listpack");
    entry_destroy(e);

    e = build_set(&r, 600, ST_INTS, 0, &deflim);
    assert_string_equal(entry_encoding(e), "hashtable");
    expect_decoded_as(e, &roomy, 0, "hashtable");
    expect_decoded_as(e, &roomy, SERIAL_DEC_COMPACT, "intset");
    entry_destroy(e);

    e = build_set(&r, 600, ST_MIXED, 8, &deflim);
    expect_decoded_as(e, &roomy, SERIAL_DEC_COMPACT, "listpack");
    expect_decoded_as(e, &deflim, SERIAL_DEC_COMPACT, "hashtable");
    entry_destroy(e);

    /* a listpack set of integers only becomes an intset with the flag */
    e = set_of((const char *[]){ "1", "x", "2" }, 3, &deflim);
    struct set *s = entry_ptr(e);
    assert_int_equal(set_remove(&s, "x", 1), 1);
    entry_set_ptr(e, s);
    assert_string_equal(entry_encoding(e), "listpack");
    expect_decoded_as(e, &deflim, 0, "listpack");
    expect_decoded_as(e, &deflim, SERIAL_DEC_COMPACT, "intset");
    entry_destroy(e);

    e = build_zset(&r, 600, ST_STRS, 8, &deflim);
    assert_string_equal(entry_encoding(e), "skiplist");
    expect_decoded_as(e, &roomy, 0, "skiplist");
    expect_decoded_as(e, &roomy, SERIAL_DEC_COMPACT, "listpack");
    entry_destroy(e);

    /* a quicklist of several nodes merges into one listpack when it fits */
    e = build_list(&r, 2000, ST_STRS, 20, &deflim);
    assert_string_equal(entry_encoding(e), "quicklist");
    assert_true(((struct list *)entry_ptr(e))->nnodes > 1);
    expect_decoded_as(e, &roomy, 0, "quicklist");
    expect_decoded_as(e, &roomy, SERIAL_DEC_COMPACT, "listpack");
    expect_decoded_as(e, &deflim, SERIAL_DEC_COMPACT, "quicklist");
    entry_destroy(e);
}

/* Content statistics for the documented encoding rule. */
struct stats {
    uint64_t n;
    size_t maxlen;
    int all_int;
};

static struct stats stats_of(const struct entry *e)
{
    struct stats st = { 0, 0, 1 };

    if (e->type == OBJ_SET) {
        struct set_it it;
        const unsigned char *m;
        size_t len;
        unsigned char buf[UTIL_LLSTR_SIZE];
        long long v;
        set_it_init(&it, entry_ptr(e));
        while (set_it_next(&it, &m, &len, buf)) {
            st.n++;
            st.maxlen = len > st.maxlen ? len : st.maxlen;
            if (util_str2ll((const char *)m, len, &v) != ST_OK)
                st.all_int = 0;
        }
        set_it_done(&it);
    } else if (e->type == OBJ_HASH) {
        struct hash_iter it;
        hash_iter_init(&it, entry_ptr(e));
        while (hash_iter_next(&it)) {
            st.n++;
            st.maxlen = it.f.len > st.maxlen ? it.f.len : st.maxlen;
            st.maxlen = it.v.len > st.maxlen ? it.v.len : st.maxlen;
        }
        hash_iter_done(&it);
    } else if (e->type == OBJ_ZSET) {
        struct zset_it it;
        struct zset_elem el;
        zset_it_rank(&it, entry_ptr(e), 0, 0);
        while (zset_it_next(&it, &el)) {
            st.n++;
            st.maxlen = el.len > st.maxlen ? el.len : st.maxlen;
        }
    }
    return st;
}

/* The encoding serial.c's essay ("Encodings on decode") promises for e
 * decoded under lim with flags. NULL for lists (checked separately). */
static const char *promised(const struct entry *e, const struct type_limits *lim, unsigned flags)
{
    struct stats st = stats_of(e);
    const char *enc = entry_encoding(e);
    int compact = (flags & SERIAL_DEC_COMPACT) != 0;

    switch (e->type) {
    case OBJ_SET: {
        int is_fits = st.all_int && st.n <= lim->set_max_intset_entries;
        int lp_fits = st.n <= lim->set_max_lp_entries && st.maxlen <= lim->set_max_lp_value;
        if (compact)
            return is_fits ? "intset" : lp_fits ? "listpack" : "hashtable";
        if (!strcmp(enc, "intset"))
            return is_fits ? "intset" : "hashtable";
        if (!strcmp(enc, "listpack"))
            return lp_fits ? "listpack" : "hashtable";
        return "hashtable";
    }
    case OBJ_HASH: {
        int fits = st.n <= lim->hash_max_lp_entries && st.maxlen <= lim->hash_max_lp_value;
        return fits && (compact || !strcmp(enc, "listpack")) ? "listpack" : "hashtable";
    }
    case OBJ_ZSET: {
        int fits = st.n <= lim->zset_max_lp_entries && st.maxlen <= lim->zset_max_lp_value;
        return fits && (compact || !strcmp(enc, "listpack")) ? "listpack" : "skiplist";
    }
    default:
        return NULL;
    }
}

static struct type_limits random_lim(struct util_rng *r)
{
    struct type_limits l = deflim;
    static const int32_t fills[] = { -1, -2, -3, 1, 2, 7, 128 };

    l.hash_max_lp_entries = (uint32_t)rnd(r, 40);
    l.hash_max_lp_value = (uint32_t)rnd(r, 40);
    l.set_max_intset_entries = (uint32_t)rnd(r, 40);
    l.set_max_lp_entries = (uint32_t)rnd(r, 40);
    l.set_max_lp_value = (uint32_t)rnd(r, 40);
    l.zset_max_lp_entries = (uint32_t)rnd(r, 40);
    l.zset_max_lp_value = (uint32_t)rnd(r, 40);
    l.list_max_lp_size = fills[rnd(r, 7)];
    return l;
}

static struct entry *build_random(struct util_rng *r, const struct type_limits *lim)
{
    uint64_t n = 1 + rnd(r, rnd(r, 4) ? 40 : 400);
    int style = (int)rnd(r, 4);
    size_t maxlen = rnd(r, 3) ? 30 : 300;

    switch (rnd(r, 5)) {
    case 0: {
        unsigned char buf[400];
        size_t len = gen(buf, r, style, maxlen);
        struct entry *e = entry_create_str("key", 3, buf, len, rnd(r, 2) ? -1 : 123456);
        if (rnd(r, 4) == 0 && e->enc == ENC_RAW)
            e->flags |= ENTRY_F_RAWSTR;
        return e;
    }
    case 1:
        return build_list(r, n, style, maxlen, lim);
    case 2:
        return build_set(r, n, style, maxlen, lim);
    case 3:
        return build_zset(r, n, style, maxlen, lim);
    default:
        return build_hash(r, n, style, maxlen, lim);
    }
}

static void test_random_structures_under_random_thresholds(void **state)
{
    (void)state;
    struct util_rng r;

    util_rng_seed(&r, 8);
    for (int round = 0; round < 400; round++) {
        struct type_limits l1 = random_lim(&r), l2 = random_lim(&r);
        struct entry *e = build_random(&r, &l1);

        for (unsigned flags = 0; flags <= SERIAL_DEC_COMPACT; flags++) {
            struct entry *d = roundtrip(e, &l2, flags);
            const char *want = promised(e, &l2, flags);

            check_valid(d);
            if (want)
                assert_string_equal(entry_encoding(d), want);
            if (e->type == OBJ_LIST && !flags && !strcmp(entry_encoding(e), "quicklist"))
                assert_string_equal(entry_encoding(d), "quicklist");
            if (e->type == OBJ_STRING)
                assert_string_equal(entry_encoding(d), entry_encoding(e));
            entry_destroy(d);
        }
        roundtrip_same(e, &l1);
    }
}

/* ---- refusals ------------------------------------------------------------- */

static int dec(uint8_t type, const void *buf, size_t len)
{
    struct entry *d = (struct entry *)1;
    int rc = serial_decode(type, buf, len, "k", 1, -1, &deflim, &d);

    if (rc == ST_OK) {
        assert_non_null(d);
        entry_destroy(d);
    } else {
        assert_null(d);
    }
    return rc;
}

/* A value: 4-byte header, then body bytes. */
static size_t mkval(unsigned char *out, uint8_t tag, const void *body, size_t blen)
{
    out[0] = SERIAL_VERSION;
    out[1] = tag;
    out[2] = 0;
    out[3] = 0;
    memcpy(out + 4, body, blen);
    return 4 + blen;
}

/* A raw lpack of short strings, each stored as a 6-bit string whatever it
 * holds (so "10" stays a string, against lpack invariant 2). */
static size_t raw_lp(unsigned char *out, const char *const *s, size_t n)
{
    size_t o = LP_HDR;

    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(s[i]);
        out[o++] = (unsigned char)(0x80 | l);
        memcpy(out + o, s[i], l);
        o += l;
        out[o++] = (unsigned char)(1 + l);
    }
    out[o++] = LP_END;
    out[0] = (unsigned char)o;
    out[1] = out[2] = out[3] = 0;
    out[4] = (unsigned char)n;
    out[5] = out[6] = out[7] = 0;
    return o;
}

/* A blob body: u32 n, blob. */
static size_t blob_val(unsigned char *out, uint8_t tag, const unsigned char *blob, size_t n)
{
    unsigned char body[4096];

    body[0] = (unsigned char)n;
    body[1] = (unsigned char)(n >> 8);
    body[2] = body[3] = 0;
    memcpy(body + 4, blob, n);
    return mkval(out, tag, body, 4 + n);
}

static void test_malformed_values_are_refused(void **state)
{
    (void)state;
    unsigned char v[8192], lp[4096];
    size_t n;

    /* header */
    assert_int_equal(dec(OBJ_STRING, "", 0), ST_ECORRUPT);
    assert_int_equal(dec(OBJ_STRING, "\x01\x01\x00", 3), ST_ECORRUPT);
    assert_int_equal(dec(OBJ_STRING, "\x01\x01\x00\x00\x00\x00\x00\x00", 8), ST_OK);
    assert_int_equal(dec(OBJ_STRING, "\x02\x01\x00\x00\x00\x00\x00\x00", 8), ST_ECORRUPT); /* version */
    assert_int_equal(dec(OBJ_STRING, "\x01\x03\x00\x00\x00\x00\x00\x00", 8), ST_ECORRUPT); /* tag */
    assert_int_equal(dec(OBJ_STRING, "\x01\x01\x02\x00\x00\x00\x00\x00", 8), ST_ECORRUPT); /* flag */
    assert_int_equal(dec(OBJ_STRING, "\x01\x01\x00\x01\x00\x00\x00\x00", 8), ST_ECORRUPT); /* reserved */
    assert_int_equal(dec(OBJ_LIST, "\x01\x01\x00\x00\x00\x00\x00\x00", 8), ST_ECORRUPT);   /* type */
    assert_int_equal(dec(9, "\x01\x01\x00\x00\x00\x00\x00\x00", 8), ST_ECORRUPT);
    /* lengths */
    assert_int_equal(dec(OBJ_STRING, "\x01\x01\x00\x00\x05\x00\x00\x00" "abcd", 12), ST_ECORRUPT);
    assert_int_equal(dec(OBJ_STRING, "\x01\x01\x00\x00\x03\x00\x00\x00" "abcd", 12), ST_ECORRUPT); /* trailing */
    assert_int_equal(dec(OBJ_STRING, "\x01\x01\x00\x00\xff\xff\xff\xff" "abcd", 12), ST_ECORRUPT);
    assert_int_equal(dec(OBJ_STRING, "\x01\x02\x00\x00\x01\x00\x00\x00\x00\x00\x00", 11), ST_ECORRUPT);
    /* the flag on a collection */
    n = raw_lp(lp, (const char *[]){ "a" }, 1);
    n = blob_val(v, SERIAL_T_SET_LP, lp, n);
    assert_int_equal(dec(OBJ_SET, v, n), ST_OK);
    v[2] = SERIAL_F_RAWSTR;
    assert_int_equal(dec(OBJ_SET, v, n), ST_ECORRUPT);

    /* counts that the bytes cannot hold, zero counts */
    static const unsigned char huge[] = "\xff\xff\xff\xff\xff\xff\xff\x7f" "\x01\x00\x00\x00" "x";
    static const unsigned char zero[] = "\x00\x00\x00\x00\x00\x00\x00\x00";
    static const uint8_t counted[] = { SERIAL_T_SET_HT, SERIAL_T_ZSET_SL, SERIAL_T_HASH_HT };
    for (size_t i = 0; i < 3; i++) {
        uint8_t tag = counted[i];
        n = mkval(v, tag, huge, 13);
        assert_int_equal(dec(tag >> 4, v, n), ST_ECORRUPT);
        n = mkval(v, tag, zero, 8);
        assert_int_equal(dec(tag >> 4, v, n), ST_ECORRUPT);
    }
    n = mkval(v, SERIAL_T_LIST_QL, "\xff\xff\xff\xff", 4);
    assert_int_equal(dec(OBJ_LIST, v, n), ST_ECORRUPT);
    n = mkval(v, SERIAL_T_LIST_QL, "\x00\x00\x00\x00", 4);
    assert_int_equal(dec(OBJ_LIST, v, n), ST_ECORRUPT);

    /* empty packs and intsets */
    n = raw_lp(lp, NULL, 0);
    for (uint8_t tag = SERIAL_T_LIST_LP; tag <= SERIAL_T_HASH_LP; tag += 0x10) {
        size_t m = blob_val(v, tag == 0x20 ? SERIAL_T_SET_LP : tag, lp, n);
        assert_int_equal(dec(tag >> 4, v, m), ST_ECORRUPT);
    }
    n = blob_val(v, SERIAL_T_SET_IS, (const unsigned char *)"\x02\x00\x00\x00\x00\x00\x00\x00", 8);
    assert_int_equal(dec(OBJ_SET, v, n), ST_ECORRUPT);

    /* an lpack that fails validation (bad backlen) */
    n = raw_lp(lp, (const char *[]){ "abc" }, 1);
    lp[n - 2] = 9;
    n = blob_val(v, SERIAL_T_LIST_LP, lp, n);
    assert_int_equal(dec(OBJ_LIST, v, n), ST_ECORRUPT);

    /* lpack invariant 2: an integer's text stored as a string */
    n = raw_lp(lp, (const char *[]){ "a", "10" }, 2);
    size_t m = blob_val(v, SERIAL_T_SET_LP, lp, n);
    assert_int_equal(dec(OBJ_SET, v, m), ST_ECORRUPT);
    m = blob_val(v, SERIAL_T_HASH_LP, lp, n);
    assert_int_equal(dec(OBJ_HASH, v, m), ST_ECORRUPT);
    n = raw_lp(lp, (const char *[]){ "a", "010" }, 2); /* not canonical: a string is right */
    m = blob_val(v, SERIAL_T_HASH_LP, lp, n);
    assert_int_equal(dec(OBJ_HASH, v, m), ST_OK);

    /* duplicates */
    n = raw_lp(lp, (const char *[]){ "a", "b", "a" }, 3);
    m = blob_val(v, SERIAL_T_SET_LP, lp, n);
    assert_int_equal(dec(OBJ_SET, v, m), ST_ECORRUPT);
    m = blob_val(v, SERIAL_T_LIST_LP, lp, n); /* a list may repeat */
    assert_int_equal(dec(OBJ_LIST, v, m), ST_OK);
    n = raw_lp(lp, (const char *[]){ "f", "1x", "g", "2x", "f", "3x" }, 6);
    m = blob_val(v, SERIAL_T_HASH_LP, lp, n);
    assert_int_equal(dec(OBJ_HASH, v, m), ST_ECORRUPT);
    n = raw_lp(lp, (const char *[]){ "f", "x", "g", "x" }, 4); /* equal values are fine */
    m = blob_val(v, SERIAL_T_HASH_LP, lp, n);
    assert_int_equal(dec(OBJ_HASH, v, m), ST_OK);
    n = raw_lp(lp, (const char *[]){ "f", "x", "g" }, 3); /* odd */
    m = blob_val(v, SERIAL_T_HASH_LP, lp, n);
    assert_int_equal(dec(OBJ_HASH, v, m), ST_ECORRUPT);
    static const unsigned char dup_ht[] = "\x02\x00\x00\x00\x00\x00\x00\x00" "\x01\x00\x00\x00" "a"
                                          "\x01\x00\x00\x00" "a";
    n = mkval(v, SERIAL_T_SET_HT, dup_ht, 18);
    assert_int_equal(dec(OBJ_SET, v, n), ST_ECORRUPT);
    static const unsigned char dup_hh[] = "\x02\x00\x00\x00\x00\x00\x00\x00" "\x01\x00\x00\x00" "a"
                                          "\x00\x00\x00\x00" "\x01\x00\x00\x00" "a" "\x00\x00\x00\x00";
    n = mkval(v, SERIAL_T_HASH_HT, dup_hh, 26);
    assert_int_equal(dec(OBJ_HASH, v, n), ST_ECORRUPT);

    /* sorted-set packs: order, duplicates, scores */
    n = raw_lp(lp, (const char *[]){ "a", "1.5", "b", "2.5" }, 4);
    m = blob_val(v, SERIAL_T_ZSET_LP, lp, n);
    assert_int_equal(dec(OBJ_ZSET, v, m), ST_OK);
    n = raw_lp(lp, (const char *[]){ "a", "2.5", "b", "1.5" }, 4);
    m = blob_val(v, SERIAL_T_ZSET_LP, lp, n);
    assert_int_equal(dec(OBJ_ZSET, v, m), ST_ECORRUPT);
    n = raw_lp(lp, (const char *[]){ "b", "1.5", "a", "1.5" }, 4); /* equal scores: member order */
    m = blob_val(v, SERIAL_T_ZSET_LP, lp, n);
    assert_int_equal(dec(OBJ_ZSET, v, m), ST_ECORRUPT);
    n = raw_lp(lp, (const char *[]){ "a", "1.5", "a", "2.5" }, 4);
    m = blob_val(v, SERIAL_T_ZSET_LP, lp, n);
    assert_int_equal(dec(OBJ_ZSET, v, m), ST_ECORRUPT);
    static const char *const bad_scores[] = { "nan", "x", "2", "1.0", "", " 1.5", "1.5 " };
    for (size_t i = 0; i < sizeof(bad_scores) / sizeof(bad_scores[0]); i++) {
        n = raw_lp(lp, (const char *[]){ "a", bad_scores[i] }, 2);
        m = blob_val(v, SERIAL_T_ZSET_LP, lp, n);
        assert_int_equal(dec(OBJ_ZSET, v, m), ST_ECORRUPT);
    }
    n = raw_lp(lp, (const char *[]){ "a", "inf" }, 2);
    m = blob_val(v, SERIAL_T_ZSET_LP, lp, n);
    assert_int_equal(dec(OBJ_ZSET, v, m), ST_OK);

    /* skiplist bodies: NaN, order, duplicates */
    unsigned char body[64];
    double sc[2] = { 1, 2 };
    const char *mm[2] = { "a", "b" };
    for (int variant = 0; variant < 4; variant++) {
        size_t o = 8;
        memcpy(body, "\x02\x00\x00\x00\x00\x00\x00\x00", 8);
        for (int i = 0; i < 2; i++) {
            double s = sc[i];
            const char *name = mm[i];
            if (variant == 1 && i == 1)
                s = NAN;
            if (variant == 2 && i == 1)
                s = 0.5;
            if (variant == 3 && i == 1)
                name = "a";
            memcpy(body + o, "\x01\x00\x00\x00", 4);
            body[o + 4] = (unsigned char)name[0];
            memcpy(body + o + 5, &s, 8);
            o += 13;
        }
        n = mkval(v, SERIAL_T_ZSET_SL, body, o);
        assert_int_equal(dec(OBJ_ZSET, v, n), variant == 0 ? ST_OK : ST_ECORRUPT);
    }

    /* intsets: unsorted, repeated, bad width, length mismatch */
    static const unsigned char is_bad[][12] = {
        { 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0 },
        { 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0 },
        { 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0 },
        { 2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0 },
    };
    for (size_t i = 0; i < 4; i++) {
        n = blob_val(v, SERIAL_T_SET_IS, is_bad[i], 12);
        assert_int_equal(dec(OBJ_SET, v, n), ST_ECORRUPT);
    }
    /* a blob whose own total disagrees with its length */
    n = raw_lp(lp, (const char *[]){ "a", "b" }, 2);
    m = blob_val(v, SERIAL_T_LIST_LP, lp, n);
    v[4] = (unsigned char)(n - 1);
    assert_int_equal(dec(OBJ_LIST, v, m - 1), ST_ECORRUPT);

    /* bad arguments */
    struct entry *d = NULL;
    assert_int_equal(serial_decode(OBJ_STRING, NULL, 4, "k", 1, -1, &deflim, &d), ST_EINVAL);
    assert_int_equal(serial_decode(OBJ_STRING, "\x01\x02\x00\x00", 4, "k", 1, -1, NULL, &d), ST_EINVAL);
    assert_int_equal(serial_decode(OBJ_STRING, "\x01\x02\x00\x00", 4, "k", 1, -1, &deflim, NULL), ST_EINVAL);
}

static void test_encode_refuses_stubs_and_empty_collections(void **state)
{
    (void)state;
    void *buf = (void *)1;
    size_t len = 1;
    struct entry *e;

    e = entry_create("k", 1, OBJ_STRING, 3 /* a tier stub */, 16, -1);
    assert_int_equal(serial_encode(e, &buf, &len), ST_EINVAL);
    assert_null(buf);
    e->type = OBJ_HASH;
    assert_int_equal(serial_encode(e, &buf, &len), ST_EINVAL);
    free(e);

    e = wrap(OBJ_LIST, list_create());
    assert_int_equal(serial_encode(e, &buf, &len), ST_EINVAL);
    entry_destroy(e);
    e = wrap(OBJ_HASH, hash_create());
    assert_int_equal(serial_encode(e, &buf, &len), ST_EINVAL);
    entry_destroy(e);
    e = wrap(OBJ_ZSET, zset_create(0, 0, &deflim));
    assert_int_equal(serial_encode(e, &buf, &len), ST_EINVAL);
    entry_destroy(e);
    e = wrap(OBJ_SET, set_create(SET_ENC_HT, 1));
    assert_int_equal(serial_encode(e, &buf, &len), ST_EINVAL);
    entry_destroy(e);
    assert_int_equal(serial_encode(NULL, &buf, &len), ST_EINVAL);
}

static void test_peek_reports_type_encoding_and_count(void **state)
{
    (void)state;
    struct util_rng r;
    struct serial_info info;
    struct entry *cases[12];
    int n = 0;

    util_rng_seed(&r, 9);
    cases[n++] = entry_create_str("k", 1, "hello", 5, -1);
    cases[n++] = entry_create_str("k", 1, "77", 2, -1);
    cases[n++] = build_list(&r, 10, ST_MIXED, 10, &deflim);
    cases[n++] = build_list(&r, 2000, ST_MIXED, 50, &deflim);
    cases[n++] = build_set(&r, 5, ST_SMALLINTS, 0, &deflim);
    cases[n++] = build_set(&r, 50, ST_STRS, 10, &deflim);
    cases[n++] = build_set(&r, 1000, ST_STRS, 10, &deflim);
    cases[n++] = build_zset(&r, 50, ST_STRS, 10, &deflim);
    cases[n++] = build_zset(&r, 1000, ST_STRS, 10, &deflim);
    cases[n++] = build_hash(&r, 50, ST_STRS, 10, &deflim);
    cases[n++] = build_hash(&r, 1000, ST_STRS, 10, &deflim);
    for (int i = 0; i < n; i++) {
        struct entry *e = cases[i];
        uint64_t count = e->type == OBJ_STRING ? (e->enc == ENC_INT ? 8 : e->vlen)
                         : e->type == OBJ_LIST ? list_len(entry_ptr(e))
                         : e->type == OBJ_SET  ? set_len(entry_ptr(e))
                         : e->type == OBJ_ZSET ? zset_len(entry_ptr(e))
                                               : hash_len(entry_ptr(e));
        void *buf;
        size_t len;
        assert_int_equal(serial_encode(e, &buf, &len), ST_OK);
        assert_int_equal(serial_peek(buf, len, &info), e->type);
        assert_int_equal(info.type, e->type);
        assert_int_equal(info.count, count);
        assert_string_equal(info.encoding, entry_encoding(e));
        assert_int_equal(serial_peek(buf, 3, &info), ST_ECORRUPT);
        free(buf);
        entry_destroy(e);
    }
}

/* ---- fuzz ------------------------------------------------------------------- */

/* Encodings of every tag, small and medium. Fills bufs/lens/types. */
static int corpus(void **bufs, size_t *lens, uint8_t *types, int max)
{
    struct util_rng r;
    struct entry *es[32];
    int n = 0;
    struct type_limits small = deflim;

    util_rng_seed(&r, 10);
    small.list_max_lp_size = 4;
    es[n++] = entry_create_str("k", 1, "some string value", 17, -1);
    es[n++] = entry_create_str("k", 1, "-12345", 6, -1);
    es[n++] = build_list(&r, 6, ST_MIXED, 12, &deflim);
    es[n++] = build_list(&r, 30, ST_MIXED, 12, &small);
    es[n++] = build_set(&r, 8, ST_INTS, 0, &deflim);
    es[n++] = build_set(&r, 8, ST_MIXED, 12, &deflim);
    es[n++] = build_set(&r, 200, ST_MIXED, 12, &deflim);
    es[n++] = build_zset(&r, 8, ST_MIXED, 12, &deflim);
    es[n++] = build_zset(&r, 200, ST_MIXED, 12, &deflim);
    es[n++] = build_hash(&r, 8, ST_MIXED, 12, &deflim);
    es[n++] = build_hash(&r, 40, ST_STRS, 100, &deflim); /* values past 64 bytes: a hashtable */
    es[n++] = build_set(&r, 100, ST_INTS, 0, &deflim);
    assert_true(n <= max);
    for (int i = 0; i < n; i++) {
        assert_int_equal(serial_encode(es[i], &bufs[i], &lens[i]), ST_OK);
        types[i] = es[i]->type;
        entry_destroy(es[i]);
    }
    return n;
}

/* Decodes a damaged value: ST_ECORRUPT, or a value that holds together. */
static void fuzz_one(uint8_t type, const void *buf, size_t len, unsigned flags)
{
    struct serial_dec_opts o = { flags, 0 };
    struct serial_info info;
    struct entry *d = NULL;
    int rc = serial_decode_ex(type, buf, len, "k", 1, -1, &deflim, &o, &d);
    int prc = serial_peek(buf, len, &info); /* never trusts its input either */

    assert_true(prc == ST_ECORRUPT || (prc >= 0 && prc < OBJ_TYPE_MAX));
    if (rc == ST_OK) {
        assert_int_equal(prc, type);
        void *b2;
        size_t l2;
        struct entry *d2 = NULL;

        check_valid(d);
        assert_int_equal(serial_encode(d, &b2, &l2), ST_OK);
        assert_int_equal(serial_decode(type, b2, l2, "k", 1, -1, &deflim, &d2), ST_OK);
        value_eq(d, d2);
        free(b2);
        entry_destroy(d2);
        entry_destroy(d);
    } else {
        assert_int_equal(rc, ST_ECORRUPT);
        assert_null(d);
    }
}

static void test_every_truncation_is_refused(void **state)
{
    (void)state;
    void *bufs[32];
    size_t lens[32];
    uint8_t types[32];
    int n = corpus(bufs, lens, types, 32);
    long total = 0;

    for (int i = 0; i < n; i++) {
        for (size_t cut = 0; cut < lens[i]; cut++) {
            /* an exact-size copy, so ASan sees any read past the end */
            unsigned char *t = malloc(cut ? cut : 1);
            memcpy(t, bufs[i], cut);
            struct entry *d = NULL;
            assert_int_equal(serial_decode(types[i], t, cut, "k", 1, -1, &deflim, &d), ST_ECORRUPT);
            assert_null(d);
            free(t);
            total++;
        }
        free(bufs[i]);
    }
    print_message("  %ld truncations refused\n", total);
}

static void test_random_damage_is_refused_or_decodes_to_a_valid_value(void **state)
{
    (void)state;
    void *bufs[32];
    size_t lens[32];
    uint8_t types[32];
    int n = corpus(bufs, lens, types, 32);
    struct util_rng r;
    long ok = 0, refused = 0;

    util_rng_seed(&r, 11);
    for (int i = 0; i < n; i++) {
        unsigned char *t = malloc(lens[i]);
        for (int iter = 0; iter < 2500; iter++) {
            int changes = 1 + (int)rnd(&r, 3);
            memcpy(t, bufs[i], lens[i]);
            for (int c = 0; c < changes; c++) {
                /* the header and the first lengths get extra attention */
                size_t at = rnd(&r, 2) ? rnd(&r, lens[i] < 24 ? lens[i] : 24) : rnd(&r, lens[i]);
                if (rnd(&r, 2))
                    t[at] ^= (unsigned char)(1u << rnd(&r, 8));
                else
                    t[at] = (unsigned char)rnd(&r, 256);
            }
            struct entry *d = NULL;
            int rc = serial_decode(types[i], t, lens[i], "k", 1, -1, &deflim, &d);
            if (rc == ST_OK) {
                entry_destroy(d);
                ok++;
            } else {
                refused++;
            }
            fuzz_one(types[i], t, lens[i], (unsigned)rnd(&r, 2));
        }
        free(t);
        free(bufs[i]);
    }
    print_message("  random damage: %ld decoded to valid values, %ld refused\n", ok, refused);
    assert_true(refused > 0);
}

static void test_random_bodies_behind_valid_headers(void **state)
{
    (void)state;
    static const uint8_t tags[] = { SERIAL_T_STR,     SERIAL_T_INT,     SERIAL_T_LIST_LP, SERIAL_T_LIST_QL,
                                    SERIAL_T_SET_IS,  SERIAL_T_SET_LP,  SERIAL_T_SET_HT,  SERIAL_T_ZSET_LP,
                                    SERIAL_T_ZSET_SL, SERIAL_T_HASH_LP, SERIAL_T_HASH_HT };
    struct util_rng r;
    unsigned char v[600];

    util_rng_seed(&r, 12);
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t tag = tags[rnd(&r, sizeof(tags))];
        size_t len = SERIAL_HDR + rnd(&r, 200);
        v[0] = SERIAL_VERSION;
        v[1] = tag;
        v[2] = v[3] = 0;
        for (size_t i = SERIAL_HDR; i < len; i++)
            v[i] = rnd(&r, 3) ? (unsigned char)rnd(&r, 8) : (unsigned char)rnd(&r, 256);
        fuzz_one(tag >> 4, v, len, 0);
    }
}

/* ---- allocation failures ---------------------------------------------------- */

static void test_allocation_failures_leak_nothing(void **state)
{
    (void)state;
    void *bufs[32];
    size_t lens[32];
    uint8_t types[32];
    int n = corpus(bufs, lens, types, 32);
    struct type_limits tiny = deflim;
    struct type_limits roomy = deflim;

    tiny.hash_max_lp_entries = tiny.set_max_intset_entries = tiny.set_max_lp_entries = 2;
    tiny.zset_max_lp_entries = 2;
    tiny.list_max_lp_size = 2;
    roomy.hash_max_lp_entries = roomy.set_max_lp_entries = roomy.zset_max_lp_entries = 5000;
    roomy.set_max_intset_entries = 5000;
    roomy.list_max_lp_size = -5;
    for (int i = 0; i < n; i++) {
        const struct type_limits *lims[3] = { &deflim, &tiny, &roomy };
        for (int li = 0; li < 3; li++) {
            for (unsigned flags = 0; flags <= SERIAL_DEC_COMPACT; flags++) {
                struct serial_dec_opts o = { flags, 0 };
                for (long k = 0;; k++) {
                    struct entry *d = NULL;
                    arm(k);
                    int rc = serial_decode_ex(types[i], bufs[i], lens[i], "k", 1, -1, lims[li], &o, &d);
                    int failed = disarm();
                    if (!failed) {
                        assert_int_equal(rc, ST_OK);
                        check_valid(d);
                        /* and its encoding under failures */
                        for (long j = 0;; j++) {
                            void *b = (void *)1;
                            size_t l;
                            arm(j);
                            int erc = serial_encode(d, &b, &l);
                            if (!disarm()) {
                                assert_int_equal(erc, ST_OK);
                                free(b);
                                break;
                            }
                            assert_int_equal(erc, ST_ENOMEM);
                            assert_null(b);
                        }
                        entry_destroy(d);
                        break;
                    }
                    /* an optional allocation (a failed merge or shrink) may
                     * leave a valid value behind */
                    if (rc == ST_OK) {
                        check_valid(d);
                        entry_destroy(d);
                        continue;
                    }
                    assert_int_equal(rc, ST_ENOMEM);
                    assert_null(d);
                }
            }
        }
        free(bufs[i]);
    }
}

/* ---- throughput ----------------------------------------------------------- */

static void test_throughput_print(void **state)
{
    (void)state;
    enum { N = 100000 };
    unsigned char val[1024];
    struct entry *e, *d;
    void *buf;
    size_t len;
    double t0, t_copy, t_enc, t_dec;
    volatile unsigned sink = 0;

    for (size_t i = 0; i < sizeof(val); i++)
        val[i] = (unsigned char)(i * 7 + 3);
    e = entry_create_str("some:key:1234", 13, val, sizeof(val), -1);

    t0 = now_s();
    for (int i = 0; i < N; i++) {
        unsigned char *c = malloc(sizeof(val));
        memcpy(c, val, sizeof(val));
        sink += c[i & 1023];
        free(c);
    }
    t_copy = now_s() - t0;

    t0 = now_s();
    for (int i = 0; i < N; i++) {
        assert_int_equal(serial_encode(e, &buf, &len), ST_OK);
        sink += ((unsigned char *)buf)[len - 1];
        free(buf);
    }
    t_enc = now_s() - t0;

    assert_int_equal(serial_encode(e, &buf, &len), ST_OK);
    t0 = now_s();
    for (int i = 0; i < N; i++) {
        assert_int_equal(serial_decode(OBJ_STRING, buf, len, "some:key:1234", 13, -1, &deflim, &d), ST_OK);
        sink += entry_cval(d)[0];
        entry_destroy(d);
    }
    t_dec = now_s() - t0;
    free(buf);
    entry_destroy(e);
    print_message("  1 KB string: malloc+memcpy+free %.0f ns, encode+free %.0f ns, decode+destroy %.0f ns "
                  "(%.2f GB/s encode)\n",
                  t_copy / N * 1e9, t_enc / N * 1e9, t_dec / N * 1e9, 1024.0 * N / t_enc / 1e9);

    /* small collections in their compact encodings */
    struct util_rng r;
    util_rng_seed(&r, 13);
    struct entry *cs[3] = { build_hash(&r, 20, ST_MIXED, 16, &deflim), build_zset(&r, 20, ST_MIXED, 16, &deflim),
                            build_set(&r, 20, ST_MIXED, 16, &deflim) };
    const char *names[3] = { "hash", "zset", "set" };
    for (int c = 0; c < 3; c++) {
        assert_int_equal(serial_encode(cs[c], &buf, &len), ST_OK);
        t0 = now_s();
        for (int i = 0; i < N / 10; i++) {
            assert_int_equal(serial_decode(cs[c]->type, buf, len, "k", 1, -1, &deflim, &d), ST_OK);
            entry_destroy(d);
        }
        t_dec = now_s() - t0;
        print_message("  20-element %s listpack (%zu bytes): decode+destroy %.0f ns\n", names[c], len,
                      t_dec / (N / 10) * 1e9);
        free(buf);
        entry_destroy(cs[c]);
    }
    (void)sink;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_bytes_are_the_documented_ones),
        cmocka_unit_test(test_strings_round_trip_in_every_form),
        cmocka_unit_test(test_lists_round_trip_as_listpack_and_quicklist),
        cmocka_unit_test(test_sets_round_trip_in_all_three_encodings),
        cmocka_unit_test(test_zsets_round_trip_as_listpack_and_skiplist),
        cmocka_unit_test(test_hashes_round_trip_as_listpack_and_hashtable),
        cmocka_unit_test(test_100k_element_collections_round_trip),
        cmocka_unit_test(test_values_at_their_thresholds_keep_the_compact_encoding),
        cmocka_unit_test(test_compact_values_convert_past_smaller_thresholds),
        cmocka_unit_test(test_large_values_shrink_only_with_the_compact_flag),
        cmocka_unit_test(test_random_structures_under_random_thresholds),
        cmocka_unit_test(test_malformed_values_are_refused),
        cmocka_unit_test(test_encode_refuses_stubs_and_empty_collections),
        cmocka_unit_test(test_peek_reports_type_encoding_and_count),
        cmocka_unit_test(test_every_truncation_is_refused),
        cmocka_unit_test(test_random_damage_is_refused_or_decodes_to_a_valid_value),
        cmocka_unit_test(test_random_bodies_behind_valid_headers),
        cmocka_unit_test(test_allocation_failures_leak_nothing),
        cmocka_unit_test(test_throughput_print),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
