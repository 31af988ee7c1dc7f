/*
 * test_property.c -- model-based property test of the string and keyspace
 * commands.
 *
 * A seeded generator issues thousands of random commands (SET with every
 * option, GET, DEL, EXISTS, INCR/INCRBY/DECR/DECRBY, APPEND, STRLEN, GETRANGE,
 * SETRANGE, MSET, MGET, GETDEL, EXPIRE/PEXPIRE with NX/XX/GT/LT, PERSIST,
 * TTL/PTTL, RENAME, COPY, DBSIZE, TYPE, plus a few invalid forms) over a small
 * key space, both to the server and to a tiny reference model in this file
 * (an array of key -> value + absolute expiry), and compares every reply.
 *
 * Timing never decides a result: every TTL is >= 100 s, so nothing expires
 * during a run; TTL/PTTL replies are compared with a tolerance of a couple of
 * seconds; GT/LT are only used when the old and new expiry differ by more
 * than 10 s. Negative TTLs (which delete at once) are deterministic.
 *
 * Reproduce a failure with STRATA_SEED=<seed printed> (and STRATA_STEPS).
 * The model follows Redis 7.0 semantics (checked against redis-server 7.0.15).
 */
#include "testkit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define NKEYS 50
#define MAXARGS 16
#define DEFAULT_STEPS 10000
#define HISTORY 12

/* ---- model ---------------------------------------------------------------- */

struct mkey {
    int exists;
    char *val;            /* owned, len bytes (+ NUL for convenience) */
    size_t len;
    long long expire_ms;  /* absolute unix ms, 0 = no expiry */
};

struct model {
    struct mkey k[NKEYS];
};

static long long wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void mk_set(struct mkey *k, const char *v, size_t len)
{
    char *nv = malloc(len + 1);
    assert_non_null(nv);
    memcpy(nv, v, len);
    nv[len] = '\0';
    free(k->val);
    k->val = nv;
    k->len = len;
    k->exists = 1;
}

static void mk_del(struct mkey *k)
{
    free(k->val);
    k->val = NULL;
    k->len = 0;
    k->exists = 0;
    k->expire_ms = 0;
}

static void model_free(struct model *m)
{
    for (int i = 0; i < NKEYS; i++)
        mk_del(&m->k[i]);
}

/* Redis's string2ll: no spaces, no '+', no leading zeros, < 21 chars. */
static int parse_ll(const char *s, size_t len, long long *out)
{
    if (len == 0 || len >= 21)
        return 0;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i++;
        if (i == len)
            return 0;
    }
    if (s[i] < '1' || s[i] > '9')
        return 0;
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        if (v > (ULLONG_MAX / 10))
            return 0;
        v *= 10;
        if (v > ULLONG_MAX - (unsigned long long)(s[i] - '0'))
            return 0;
        v += (unsigned long long)(s[i] - '0');
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return 0;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return 0;
        *out = (long long)v;
    }
    return 1;
}

/* ---- expected replies ------------------------------------------------------ */

enum ekind { E_STATUS, E_ERROR, E_INT, E_BULK, E_NIL, E_ARRAY, E_RANGE };

struct exp {
    enum ekind kind;
    long long i, lo, hi;   /* E_INT: i; E_RANGE: integer in [lo, hi] */
    char *s;               /* owned: status, error, bulk */
    size_t len;
    size_t n;              /* E_ARRAY */
    struct exp *el;        /* owned */
};

static void exp_free(struct exp *e)
{
    free(e->s);
    for (size_t i = 0; i < e->n; i++)
        exp_free(&e->el[i]);
    free(e->el);
    memset(e, 0, sizeof(*e));
}

static void exp_str(struct exp *e, enum ekind kind, const char *s, size_t len)
{
    e->kind = kind;
    e->s = malloc(len + 1);
    assert_non_null(e->s);
    memcpy(e->s, s, len);
    e->s[len] = '\0';
    e->len = len;
}

static void exp_status(struct exp *e, const char *s) { exp_str(e, E_STATUS, s, strlen(s)); }
static void exp_error(struct exp *e, const char *s) { exp_str(e, E_ERROR, s, strlen(s)); }
static void exp_int(struct exp *e, long long v) { e->kind = E_INT; e->i = v; }
static void exp_nil(struct exp *e) { e->kind = E_NIL; }

static void exp_value(struct exp *e, const struct mkey *k)
{
    if (k->exists)
        exp_str(e, E_BULK, k->val, k->len);
    else
        exp_nil(e);
}

static void describe_exp(const struct exp *e, char *out, size_t cap);

static void escape(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 6 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o] = '\0';
}

static void describe_exp(const struct exp *e, char *out, size_t cap)
{
    char esc[512];
    switch (e->kind) {
    case E_STATUS: escape(e->s, e->len, esc, sizeof(esc)); snprintf(out, cap, "+%s", esc); break;
    case E_ERROR: escape(e->s, e->len, esc, sizeof(esc)); snprintf(out, cap, "-%s", esc); break;
    case E_INT: snprintf(out, cap, "(integer) %lld", e->i); break;
    case E_RANGE: snprintf(out, cap, "(integer in [%lld, %lld])", e->lo, e->hi); break;
    case E_BULK: escape(e->s, e->len, esc, sizeof(esc)); snprintf(out, cap, "\"%s\"", esc); break;
    case E_NIL: snprintf(out, cap, "(nil)"); break;
    case E_ARRAY: {
        size_t o = (size_t)snprintf(out, cap, "[");
        for (size_t i = 0; i < e->n && o + 2 < cap; i++) {
            describe_exp(&e->el[i], out + o, cap - o);
            o += strlen(out + o);
            if (i + 1 < e->n && o + 2 < cap)
                out[o++] = ',', out[o++] = ' ', out[o] = '\0';
        }
        if (o + 2 < cap)
            out[o++] = ']', out[o] = '\0';
        break;
    }
    }
}

static void describe_reply(const redisReply *r, char *out, size_t cap)
{
    char esc[512];
    switch (r->type) {
    case REDIS_REPLY_STATUS: escape(r->str, r->len, esc, sizeof(esc)); snprintf(out, cap, "+%s", esc); break;
    case REDIS_REPLY_ERROR: escape(r->str, r->len, esc, sizeof(esc)); snprintf(out, cap, "-%s", esc); break;
    case REDIS_REPLY_INTEGER: snprintf(out, cap, "(integer) %lld", r->integer); break;
    case REDIS_REPLY_STRING: escape(r->str, r->len, esc, sizeof(esc)); snprintf(out, cap, "\"%s\"", esc); break;
    case REDIS_REPLY_NIL: snprintf(out, cap, "(nil)"); break;
    case REDIS_REPLY_ARRAY: {
        size_t o = (size_t)snprintf(out, cap, "[");
        for (size_t i = 0; i < r->elements && o + 2 < cap; i++) {
            describe_reply(r->element[i], out + o, cap - o);
            o += strlen(out + o);
            if (i + 1 < r->elements && o + 2 < cap)
                out[o++] = ',', out[o++] = ' ', out[o] = '\0';
        }
        if (o + 2 < cap)
            out[o++] = ']', out[o] = '\0';
        break;
    }
    default: snprintf(out, cap, "(type %d)", r->type);
    }
}

static int matches(const struct exp *e, const redisReply *r)
{
    switch (e->kind) {
    case E_STATUS:
        return r->type == REDIS_REPLY_STATUS && r->len == e->len && memcmp(r->str, e->s, e->len) == 0;
    case E_ERROR:
        return r->type == REDIS_REPLY_ERROR && r->len == e->len && memcmp(r->str, e->s, e->len) == 0;
    case E_INT:
        return r->type == REDIS_REPLY_INTEGER && r->integer == e->i;
    case E_RANGE:
        return r->type == REDIS_REPLY_INTEGER && r->integer >= e->lo && r->integer <= e->hi;
    case E_BULK:
        return r->type == REDIS_REPLY_STRING && r->len == e->len && memcmp(r->str, e->s, e->len) == 0;
    case E_NIL:
        return r->type == REDIS_REPLY_NIL;
    case E_ARRAY:
        if (r->type != REDIS_REPLY_ARRAY || r->elements != e->n)
            return 0;
        for (size_t i = 0; i < e->n; i++)
            if (!matches(&e->el[i], r->element[i]))
                return 0;
        return 1;
    }
    return 0;
}

/* ---- command generation ------------------------------------------------------ */

struct cmd {
    int argc;
    char arg[MAXARGS][64];
    size_t len[MAXARGS];
};

static void cmd_add(struct cmd *c, const char *s, size_t len)
{
    assert_true(c->argc < MAXARGS && len < 64);
    memcpy(c->arg[c->argc], s, len);
    c->arg[c->argc][len] = '\0';
    c->len[c->argc] = len;
    c->argc++;
}

static void cmd_adds(struct cmd *c, const char *s) { cmd_add(c, s, strlen(s)); }

static void cmd_addll(struct cmd *c, long long v)
{
    char b[32];
    cmd_add(c, b, (size_t)snprintf(b, sizeof(b), "%lld", v));
}

static void cmd_describe(const struct cmd *c, char *out, size_t cap)
{
    size_t o = 0;
    char esc[256];
    for (int i = 0; i < c->argc && o + 4 < cap; i++) {
        escape(c->arg[i], c->len[i], esc, sizeof(esc));
        o += (size_t)snprintf(out + o, cap - o, i ? " \"%s\"" : "%s", esc);
    }
}

struct gen {
    uint64_t rng;
};

static uint64_t rnd(struct gen *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 2685821657736338717ULL;
}

static int pick(struct gen *g, int n) { return (int)(rnd(g) % (uint64_t)n); }

static int key_index(struct gen *g) { return pick(g, NKEYS); }

static void add_key(struct cmd *c, int ki)
{
    char b[16];
    cmd_add(c, b, (size_t)snprintf(b, sizeof(b), "key:%d", ki));
}

/* Values: short words, integers (incl. the int64 edges) and near-integers. */
static void add_value(struct gen *g, struct cmd *c)
{
    static const char *const special[] = {"0", "1", "-1", "42", "-100", "9223372036854775807",
                                          "-9223372036854775808", "9223372036854775806", "007", "+1",
                                          " 1", "1 ", "1.5", "-0", "", "abc", "100000000000000000000"};
    char b[32];
    switch (pick(g, 3)) {
    case 0: {
        int n = pick(g, 13);
        for (int i = 0; i < n; i++)
            b[i] = (char)('a' + pick(g, 26));
        cmd_add(c, b, (size_t)n);
        break;
    }
    case 1:
        cmd_addll(c, (long long)pick(g, 2000001) - 1000000);
        break;
    default:
        cmd_adds(c, special[pick(g, (int)(sizeof(special) / sizeof(special[0])))]);
    }
}

static long long live_count(const struct model *m)
{
    long long n = 0;
    for (int i = 0; i < NKEYS; i++)
        n += m->k[i].exists;
    return n;
}

static int key_of(const struct cmd *c, int argi)
{
    return atoi(c->arg[argi] + 4);
}

/* TTL/PTTL expectation for one key at time now. */
static void exp_ttl(struct exp *e, const struct mkey *k, long long now, int ms)
{
    if (!k->exists) {
        exp_int(e, -2);
    } else if (!k->expire_ms) {
        exp_int(e, -1);
    } else {
        long long rem = k->expire_ms - now;
        e->kind = E_RANGE;
        if (ms) {
            e->lo = rem - 3000;
            e->hi = rem + 50;
        } else {
            e->lo = (rem - 3000) / 1000;
            e->hi = (rem + 1000) / 1000 + 1;
        }
    }
}

/* Builds one random command into c and the model's expected reply into e,
 * updating the model as the server should. */
static void step(struct gen *g, struct model *m, struct cmd *c, struct exp *e, long long now)
{
    memset(c, 0, sizeof(*c));
    memset(e, 0, sizeof(*e));
    int op = pick(g, 30);
    int ki = key_index(g);
    struct mkey *k = &m->k[ki];
    switch (op) {
    case 0: case 1: case 2: { /* SET */
        cmd_adds(c, "SET");
        add_key(c, ki);
        add_value(g, c);
        int cond = pick(g, 4);          /* 0,1: none, 2: NX, 3: XX */
        int get = pick(g, 3) == 0;
        int ttl = pick(g, 8);           /* 0-2 none, 3 EX, 4 PX, 5 EXAT, 6 PXAT, 7 KEEPTTL */
        int bad = pick(g, 40);          /* rare invalid forms */
        long long when = 0;
        char opts[4][2][32];
        int nopt = 0;
        if (cond >= 2)
            strcpy(opts[nopt][0], cond == 2 ? "NX" : "XX"), opts[nopt++][1][0] = '\0';
        if (get)
            strcpy(opts[nopt][0], "GET"), opts[nopt++][1][0] = '\0';
        long long secs = 100 + pick(g, 10) * 100;
        switch (ttl) {
        case 3:
            strcpy(opts[nopt][0], "EX"), snprintf(opts[nopt++][1], 32, "%lld", secs);
            when = now + secs * 1000;
            break;
        case 4:
            strcpy(opts[nopt][0], "PX"), snprintf(opts[nopt++][1], 32, "%lld", secs * 1000 + 7);
            when = now + secs * 1000 + 7;
            break;
        case 5:
            when = (now / 1000 + secs) * 1000;
            strcpy(opts[nopt][0], "EXAT"), snprintf(opts[nopt++][1], 32, "%lld", when / 1000);
            break;
        case 6:
            when = now + secs * 1000 + 3;
            strcpy(opts[nopt][0], "PXAT"), snprintf(opts[nopt++][1], 32, "%lld", when);
            break;
        case 7:
            strcpy(opts[nopt][0], "KEEPTTL"), opts[nopt++][1][0] = '\0';
            break;
        }
        /* options in random order */
        for (int i = nopt - 1; i > 0; i--) {
            int j = pick(g, i + 1);
            char t[2][32];
            memcpy(t, opts[i], sizeof(t));
            memcpy(opts[i], opts[j], sizeof(t));
            memcpy(opts[j], t, sizeof(t));
        }
        for (int i = 0; i < nopt; i++) {
            cmd_adds(c, opts[i][0]);
            if (opts[i][1][0])
                cmd_adds(c, opts[i][1]);
        }
        if (bad == 0) {
            cmd_adds(c, "NX");
            cmd_adds(c, "XX");
            exp_error(e, "ERR syntax error");
            return;
        }
        if (bad == 1 && ttl == 0) {
            cmd_adds(c, "EX");
            cmd_adds(c, "0");
            exp_error(e, "ERR invalid expire time in 'set' command");
            return;
        }
        if (bad == 2 && ttl == 0) {
            cmd_adds(c, "PX");
            cmd_adds(c, "soon");
            exp_error(e, "ERR value is not an integer or out of range");
            return;
        }
        int doit = !((cond == 2 && k->exists) || (cond == 3 && !k->exists));
        if (get)
            exp_value(e, k);
        else if (doit)
            exp_status(e, "OK");
        else
            exp_nil(e);
        if (doit) {
            long long keep = k->exists ? k->expire_ms : 0;
            mk_set(k, c->arg[2], c->len[2]);
            k->expire_ms = ttl == 7 ? keep : when;
        }
        return;
    }
    case 3: case 4: /* GET */
        cmd_adds(c, "GET");
        add_key(c, ki);
        exp_value(e, k);
        return;
    case 5: { /* DEL k [k k] */
        cmd_adds(c, "DEL");
        int n = 1 + pick(g, 3);
        long long del = 0;
        for (int i = 0; i < n; i++) {
            int kj = i == 0 ? ki : key_index(g);
            add_key(c, kj);
        }
        for (int i = 1; i <= n; i++) {
            struct mkey *kk = &m->k[key_of(c, i)];
            if (kk->exists) {
                del++;
                mk_del(kk);
            }
        }
        exp_int(e, del);
        return;
    }
    case 6: { /* EXISTS, duplicates counted */
        cmd_adds(c, "EXISTS");
        int n = 1 + pick(g, 4);
        long long cnt = 0;
        for (int i = 0; i < n; i++) {
            int kj = i == 1 ? key_of(c, 1) : key_index(g); /* a duplicate now and then */
            add_key(c, kj);
            cnt += m->k[kj].exists;
        }
        exp_int(e, cnt);
        return;
    }
    case 7: case 8: { /* INCR / DECR / INCRBY / DECRBY */
        int which = pick(g, 4);
        long long delta = 1;
        static const long long deltas[] = {1, -1, 5, 1000, -1000000, LLONG_MAX, LLONG_MIN + 1, 0};
        cmd_adds(c, which == 0 ? "INCR" : which == 1 ? "DECR" : which == 2 ? "INCRBY" : "DECRBY");
        add_key(c, ki);
        if (which == 1)
            delta = -1;
        if (which >= 2) {
            if (pick(g, 30) == 0) {
                cmd_adds(c, "1x");
                exp_error(e, "ERR value is not an integer or out of range");
                return;
            }
            long long d = deltas[pick(g, 8)];
            cmd_addll(c, d);
            delta = which == 2 ? d : -d; /* d is never LLONG_MIN */
        }
        long long cur = 0;
        if (k->exists && !parse_ll(k->val, k->len, &cur)) {
            exp_error(e, "ERR value is not an integer or out of range");
            return;
        }
        if ((delta < 0 && cur < 0 && delta < LLONG_MIN - cur) ||
            (delta > 0 && cur > 0 && delta > LLONG_MAX - cur)) {
            exp_error(e, "ERR increment or decrement would overflow");
            return;
        }
        cur += delta;
        char b[32];
        int n = snprintf(b, sizeof(b), "%lld", cur);
        long long keep = k->exists ? k->expire_ms : 0;
        mk_set(k, b, (size_t)n);
        k->expire_ms = keep;
        exp_int(e, cur);
        return;
    }
    case 9: { /* APPEND */
        cmd_adds(c, "APPEND");
        add_key(c, ki);
        add_value(g, c);
        size_t nl = (k->exists ? k->len : 0) + c->len[2];
        char *nv = malloc(nl + 1);
        assert_non_null(nv);
        if (k->exists)
            memcpy(nv, k->val, k->len);
        memcpy(nv + (k->exists ? k->len : 0), c->arg[2], c->len[2]);
        long long keep = k->exists ? k->expire_ms : 0;
        mk_set(k, nv, nl);
        k->expire_ms = keep;
        free(nv);
        exp_int(e, (long long)nl);
        return;
    }
    case 10: /* STRLEN */
        cmd_adds(c, "STRLEN");
        add_key(c, ki);
        exp_int(e, k->exists ? (long long)k->len : 0);
        return;
    case 11: { /* GETRANGE, Redis 7.0 index rules */
        long long start = pick(g, 31) - 15, end = pick(g, 31) - 15;
        cmd_adds(c, "GETRANGE");
        add_key(c, ki);
        cmd_addll(c, start);
        cmd_addll(c, end);
        long long len = k->exists ? (long long)k->len : 0;
        if (!k->exists || (start < 0 && end < 0 && start > end)) {
            exp_str(e, E_BULK, "", 0);
            return;
        }
        if (start < 0)
            start += len;
        if (end < 0)
            end += len;
        if (start < 0)
            start = 0;
        if (end < 0)
            end = 0;
        if (end >= len)
            end = len - 1;
        if (start > end || len == 0)
            exp_str(e, E_BULK, "", 0);
        else
            exp_str(e, E_BULK, k->val + start, (size_t)(end - start + 1));
        return;
    }
    case 12: { /* SETRANGE */
        long long off = pick(g, 25) == 0 ? -1 : pick(g, 30);
        cmd_adds(c, "SETRANGE");
        add_key(c, ki);
        cmd_addll(c, off);
        add_value(g, c);
        size_t vl = c->len[3];
        if (off < 0) {
            exp_error(e, "ERR offset is out of range");
            return;
        }
        if (vl == 0) {
            exp_int(e, k->exists ? (long long)k->len : 0);
            return;
        }
        size_t old = k->exists ? k->len : 0;
        size_t nl = (size_t)off + vl > old ? (size_t)off + vl : old;
        char *nv = calloc(1, nl + 1);
        assert_non_null(nv);
        if (k->exists)
            memcpy(nv, k->val, old);
        memcpy(nv + off, c->arg[3], vl);
        long long keep = k->exists ? k->expire_ms : 0;
        mk_set(k, nv, nl);
        k->expire_ms = keep;
        free(nv);
        exp_int(e, (long long)nl);
        return;
    }
    case 13: { /* MSET */
        cmd_adds(c, "MSET");
        int n = 1 + pick(g, 4);
        if (pick(g, 40) == 0) {
            add_key(c, ki);
            exp_error(e, "ERR wrong number of arguments for 'mset' command");
            return;
        }
        for (int i = 0; i < n; i++) {
            add_key(c, i == 0 ? ki : key_index(g));
            add_value(g, c);
        }
        for (int i = 0; i < n; i++) {
            struct mkey *kk = &m->k[key_of(c, 1 + 2 * i)];
            mk_set(kk, c->arg[2 + 2 * i], c->len[2 + 2 * i]);
            kk->expire_ms = 0;
        }
        exp_status(e, "OK");
        return;
    }
    case 14: { /* MGET */
        cmd_adds(c, "MGET");
        int n = 1 + pick(g, 5);
        e->kind = E_ARRAY;
        e->n = (size_t)n;
        e->el = calloc((size_t)n, sizeof(*e->el));
        assert_non_null(e->el);
        for (int i = 0; i < n; i++) {
            int kj = i == 0 ? ki : key_index(g);
            add_key(c, kj);
            exp_value(&e->el[i], &m->k[kj]);
        }
        return;
    }
    case 15: /* GETDEL */
        cmd_adds(c, "GETDEL");
        add_key(c, ki);
        exp_value(e, k);
        mk_del(k);
        return;
    case 16: case 17: case 18: { /* EXPIRE / PEXPIRE [NX|XX|GT|LT] */
        int ms = pick(g, 2);
        long long amount = pick(g, 15) == 0 ? -1 - pick(g, 5) : 100 + pick(g, 10) * 100;
        long long when = now + amount * 1000 + (ms ? 11 : 0);
        cmd_adds(c, ms ? "PEXPIRE" : "EXPIRE");
        add_key(c, ki);
        cmd_addll(c, ms ? amount * 1000 + (amount > 0 ? 11 : 0) : amount);
        int flag = pick(g, 8); /* 0-3 none, 4 NX, 5 XX, 6 GT, 7 LT */
        if (flag >= 6 && k->exists && k->expire_ms && llabs(when - k->expire_ms) < 10000)
            flag = 0; /* too close to call: timing would decide */
        if (flag >= 4)
            cmd_adds(c, flag == 4 ? "NX" : flag == 5 ? "XX" : flag == 6 ? "GT" : "LT");
        if (!k->exists) {
            exp_int(e, 0);
            return;
        }
        long long cur = k->expire_ms ? k->expire_ms : -1;
        if ((flag == 4 && cur != -1) || (flag == 5 && cur == -1) || (flag == 6 && (cur == -1 || when <= cur)) ||
            (flag == 7 && cur != -1 && when >= cur)) {
            exp_int(e, 0);
            return;
        }
        if (amount < 0)
            mk_del(k);
        else
            k->expire_ms = when;
        exp_int(e, 1);
        return;
    }
    case 19: /* PERSIST */
        cmd_adds(c, "PERSIST");
        add_key(c, ki);
        exp_int(e, k->exists && k->expire_ms ? 1 : 0);
        k->expire_ms = 0;
        return;
    case 20: case 21: { /* TTL / PTTL */
        int ms = op == 21;
        cmd_adds(c, ms ? "PTTL" : "TTL");
        add_key(c, ki);
        exp_ttl(e, k, now, ms);
        return;
    }
    case 22: { /* RENAME */
        int kd = pick(g, 10) == 0 ? ki : key_index(g);
        cmd_adds(c, "RENAME");
        add_key(c, ki);
        add_key(c, kd);
        if (!k->exists) {
            exp_error(e, "ERR no such key");
            return;
        }
        exp_status(e, "OK");
        if (kd != ki) {
            struct mkey *d = &m->k[kd];
            mk_set(d, k->val, k->len);
            d->expire_ms = k->expire_ms;
            mk_del(k);
        }
        return;
    }
    case 23: { /* COPY [REPLACE] */
        int kd = pick(g, 10) == 0 ? ki : key_index(g);
        int replace = pick(g, 2);
        cmd_adds(c, "COPY");
        add_key(c, ki);
        add_key(c, kd);
        if (replace)
            cmd_adds(c, "REPLACE");
        if (kd == ki) {
            exp_error(e, "ERR source and destination objects are the same");
            return;
        }
        struct mkey *d = &m->k[kd];
        if (!k->exists || (d->exists && !replace)) {
            exp_int(e, 0);
            return;
        }
        mk_set(d, k->val, k->len);
        d->expire_ms = k->expire_ms;
        exp_int(e, 1);
        return;
    }
    case 24: /* DBSIZE */
        cmd_adds(c, "DBSIZE");
        exp_int(e, live_count(m));
        return;
    case 25: /* TYPE */
        cmd_adds(c, "TYPE");
        add_key(c, ki);
        exp_status(e, k->exists ? "string" : "none");
        return;
    default: /* more SETs without options keep the key space populated */
        cmd_adds(c, "SET");
        add_key(c, ki);
        add_value(g, c);
        exp_status(e, "OK");
        mk_set(k, c->arg[2], c->len[2]);
        k->expire_ms = 0;
        return;
    }
}

/* ---- the run ------------------------------------------------------------------ */

static uint64_t base_seed(void)
{
    const char *env = getenv("STRATA_SEED");
    if (env && *env)
        return strtoull(env, NULL, 0);
    return 20261121ULL;
}

static long steps_per_run(void)
{
    const char *env = getenv("STRATA_STEPS");
    long n = env && *env ? atol(env) : DEFAULT_STEPS;
    return n < 5000 ? 5000 : n;
}

static int send_and_check(redisContext *rc, const struct cmd *c, const struct exp *e, long stepno, uint64_t seed,
                          char history[HISTORY][512])
{
    const char *argv[MAXARGS];
    for (int i = 0; i < c->argc; i++)
        argv[i] = c->arg[i];
    redisReply *r = tk_cmdv(rc, c->argc, argv, c->len);
    int ok = matches(e, r);
    if (!ok) {
        char cd[1024], ed[2048], gd[2048];
        cmd_describe(c, cd, sizeof(cd));
        describe_exp(e, ed, sizeof(ed));
        describe_reply(r, gd, sizeof(gd));
        fprintf(stderr, "property: MISMATCH at step %ld (seed %llu; rerun with STRATA_SEED=%llu)\n", stepno,
                (unsigned long long)seed, (unsigned long long)seed);
        fprintf(stderr, "  preceding commands (oldest first):\n");
        for (int i = 0; i < HISTORY; i++) {
            const char *h = history[(stepno + i) % HISTORY];
            if (h[0])
                fprintf(stderr, "    %s\n", h);
        }
        fprintf(stderr, "  command:  %s\n  expected: %s\n  got:      %s\n", cd, ed, gd);
    }
    freeReplyObject(r);
    return ok;
}

/* Compares every key's value and TTL, and DBSIZE, with the model. */
static int full_check(redisContext *rc, const struct model *m, long stepno, uint64_t seed,
                      char history[HISTORY][512])
{
    long long now = wall_ms();
    for (int i = 0; i < NKEYS; i++) {
        struct cmd c;
        struct exp e;
        memset(&c, 0, sizeof(c));
        memset(&e, 0, sizeof(e));
        cmd_adds(&c, "GET");
        add_key(&c, i);
        exp_value(&e, &m->k[i]);
        int ok = send_and_check(rc, &c, &e, stepno, seed, history);
        exp_free(&e);
        if (!ok)
            return 0;
        memset(&c, 0, sizeof(c));
        cmd_adds(&c, "PTTL");
        add_key(&c, i);
        exp_ttl(&e, &m->k[i], now, 1);
        ok = send_and_check(rc, &c, &e, stepno, seed, history);
        exp_free(&e);
        if (!ok)
            return 0;
    }
    struct cmd c;
    struct exp e;
    memset(&c, 0, sizeof(c));
    memset(&e, 0, sizeof(e));
    cmd_adds(&c, "DBSIZE");
    exp_int(&e, live_count(m));
    int ok = send_and_check(rc, &c, &e, stepno, seed, history);
    exp_free(&e);
    return ok;
}

static void run_property(const char *const *extra, uint64_t seed)
{
    long steps = steps_per_run();
    fprintf(stderr, "property: seed %llu, %ld steps, server args:", (unsigned long long)seed, steps);
    for (int i = 0; extra && extra[i]; i++)
        fprintf(stderr, " %s", extra[i]);
    fprintf(stderr, " (set STRATA_SEED / STRATA_STEPS to change)\n");

    struct tk_server s;
    assert_int_equal(tk_server_start(&s, extra), 0);
    redisContext *rc = tk_connect(&s);
    struct model m;
    memset(&m, 0, sizeof(m));
    struct gen g = {seed ? seed : 1};
    static char history[HISTORY][512];
    memset(history, 0, sizeof(history));
    int ok = 1;
    long i;
    for (i = 0; i < steps && ok; i++) {
        struct cmd c;
        struct exp e;
        long long now = wall_ms();
        step(&g, &m, &c, &e, now);
        ok = send_and_check(rc, &c, &e, i, seed, history);
        cmd_describe(&c, history[i % HISTORY], sizeof(history[0]));
        exp_free(&e);
        if (ok && i % 1000 == 999)
            ok = full_check(rc, &m, i + 1, seed, history);
    }
    if (ok)
        ok = full_check(rc, &m, i + 1, seed, history);
    model_free(&m);
    redisFree(rc);
    int st = tk_server_stop(&s);
    if (!ok)
        fail_msg("server and model disagree (seed %llu, see above)", (unsigned long long)seed);
    assert_int_equal(st, 0);
    fprintf(stderr, "property: %ld steps agree with the model\n", i);
}

static void test_strings_and_keys_match_model_single_thread(void **state)
{
    (void)state;
    const char *extra[] = {"--threads", "1", NULL};
    run_property(extra, base_seed());
}

static void test_strings_and_keys_match_model_four_threads(void **state)
{
    (void)state;
    const char *extra[] = {"--threads", "4", NULL};
    run_property(extra, base_seed() + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_and_keys_match_model_single_thread),
        cmocka_unit_test(test_strings_and_keys_match_model_four_threads),
    };
    return cmocka_run_group_tests_name("property", tests, NULL, NULL);
}
