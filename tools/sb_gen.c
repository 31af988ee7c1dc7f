/*
 * sb_gen.c -- what strata-bench sends: random numbers, which key a request
 * names, and what a SET's value holds.
 *
 * Owns: the PRNG (xoshiro256**), the key distributions, the rank scrambler and
 * the value generators. Owns no threads and no global state: every function
 * works on the caller's struct sb_rng / struct sb_dist, so each worker thread
 * draws from its own generator and all of them share one read-only sb_dist.
 *
 * Zipfian ranks. A draw returns rank k in [0, n) with probability
 * (k+1)^-theta / H(n, theta), H(n, theta) = sum_{i=1..n} i^-theta. We use
 * Hoermann and Derflinger's rejection-inversion ("Rejection-inversion to
 * generate variates from monotone discrete distributions", ACM TOMACS 6(3),
 * 1996), as Apache Commons RNG does: O(1) set-up for any n (no zeta sum, so
 * --keys 10^12 starts at once), exact for every theta > 0 including theta >= 1,
 * and about 1.1 uniform draws per rank. YCSB's generator (Gray et al.,
 * "Quickly generating billion-record synthetic databases", SIGMOD 1994) is
 * O(n) to set up and only approximate beyond ranks 0 and 1: for n = 1000,
 * theta = 0.99 it gives the top 1% of keys 39.7% of draws where the law says
 * 38.2%. --selftest checks our shares against H(m)/H(n).
 *
 * Hot set. Ranks [0, hot_keys) receive hot_ops of the draws, uniformly; the
 * other ranks share the rest uniformly.
 *
 * Scrambling. Without it rank k is key k, so the popular keys are key 0, 1,
 * 2... With --scramble, rank k maps to perm(k), a bijection of [0, n): the
 * steps x = x * odd + c (mod 2^bits) and x ^= x >> s are each bijections of
 * [0, 2^bits) (2^bits >= n, the smallest such power), their composition too,
 * and walking the cycle (applying it again while x >= n) restricts it to a
 * bijection of [0, n); since n > 2^(bits-1) a walk takes under two steps on
 * average. Unlike YCSB's hash-mod-n, no two ranks share a key, so the key
 * popularity is still exactly zipfian.
 *
 * JSON values. A document is built field by field from a fixed schema of
 * DB-row columns: ids, names and e-mails made of words from a 64-word
 * vocabulary, dates, prices, booleans, short tag arrays. When the schema runs
 * out the columns repeat with a suffix (score_2, ...). A field is taken only
 * if what remains afterwards is 0 or at least 7 bytes, the smallest padding
 * field (,"n":""); the last field ("note" or "n", words) pads the document to
 * exactly the requested size. Invariants:
 *   1. every value has exactly the requested length;
 *   2. every json value is a valid JSON text (objects of ASCII strings without
 *      escapes, integers, decimals, booleans, arrays of strings).
 */
#include "sb.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t sb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- PRNG ---------------------------------------------------------------- */

static uint64_t sb_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void sb_rng_seed(struct sb_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = sb_splitmix64(&x);
}

static inline uint64_t sb_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sb_rng_next(struct sb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = sb_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sb_rotl(s[3], 45);
    return result;
}

uint64_t sb_rng_below(struct sb_rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)sb_rng_next(r) * n) >> 64);
}

double sb_rng_double(struct sb_rng *r)
{
    return (double)(sb_rng_next(r) >> 11) * 0x1.0p-53;
}

/* ---- zipf by rejection-inversion ------------------------------------------ */

/* log1p(x) / x, stable near 0 */
static double sb_helper1(double x)
{
    if (fabs(x) > 1e-8)
        return log1p(x) / x;
    return 1 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

/* expm1(x) / x, stable near 0 */
static double sb_helper2(double x)
{
    if (fabs(x) > 1e-8)
        return expm1(x) / x;
    return 1 + x * 0.5 * (1 + x / 3.0 * (1 + 0.25 * x));
}

/* H(x) = integral of t^-theta: (x^(1-theta) - 1) / (1 - theta), log x at 1 */
static double sb_hint(double theta, double x)
{
    double lx = log(x);
    return sb_helper2((1 - theta) * lx) * lx;
}

static double sb_h(double theta, double x)
{
    return exp(-theta * log(x));
}

static double sb_hint_inv(double theta, double x)
{
    double t = x * (1 - theta);
    if (t < -1)
        t = -1;
    return exp(sb_helper1(t) * x);
}

/* rank in [1, n] */
static uint64_t sb_zipf_draw(const struct sb_dist *d, struct sb_rng *r)
{
    for (;;) {
        double u = d->hxn + sb_rng_double(r) * (d->hx1 - d->hxn);
        double x = sb_hint_inv(d->theta, u);
        double kd = x + 0.5;
        uint64_t k;
        if (kd < 1)
            k = 1;
        else if (kd >= (double)d->n)
            k = d->n;
        else
            k = (uint64_t)kd;
        if ((double)k - x <= d->sdiv || u >= sb_hint(d->theta, (double)k + 0.5) - sb_h(d->theta, (double)k))
            return k;
    }
}

double sb_zipf_share(uint64_t n, double theta, uint64_t m)
{
    double top = 0, all = 0;
    for (uint64_t i = 1; i <= n; i++) {
        double p = pow((double)i, -theta);
        all += p;
        if (i <= m)
            top += p;
    }
    return all > 0 ? top / all : 0;
}

/* ---- scrambler ------------------------------------------------------------- */

static uint64_t sb_perm_step(const struct sb_dist *d, uint64_t x)
{
    unsigned s = d->bits / 2 + 1;
    x = (x * d->mul1 + d->add1) & d->mask;
    x ^= x >> s;
    x = (x * d->mul2 + d->add2) & d->mask;
    x ^= x >> s;
    return x;
}

uint64_t sb_dist_key(const struct sb_dist *d, uint64_t rank)
{
    if (!d->scramble || d->n <= 1)
        return rank;
    uint64_t x = sb_perm_step(d, rank);
    while (x >= d->n)
        x = sb_perm_step(d, x);
    return x;
}

/* ---- distributions -------------------------------------------------------- */

int sb_dist_init(struct sb_dist *d, enum sb_dist_kind kind, uint64_t n, double theta,
                 double hot_keys_pct, double hot_ops_pct, int scramble, uint64_t seed,
                 char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    if (n < 1) {
        snprintf(err, errlen, "the key space must hold at least one key");
        return -1;
    }
    d->kind = kind;
    d->n = n;
    d->scramble = scramble;
    if (kind == SB_DIST_ZIPF) {
        if (!(theta >= 0 && theta <= 10)) {
            snprintf(err, errlen, "--theta must be in [0, 10]");
            return -1;
        }
        d->theta = theta;
        if (theta == 0) {
            d->kind = SB_DIST_UNIFORM; /* the same law, cheaper */
        } else {
            d->hx1 = sb_hint(theta, 1.5) - 1;
            d->hxn = sb_hint(theta, (double)n + 0.5);
            d->sdiv = 2 - sb_hint_inv(theta, sb_hint(theta, 2.5) - sb_h(theta, 2));
        }
    } else if (kind == SB_DIST_HOT) {
        if (!(hot_keys_pct >= 0 && hot_keys_pct <= 100) || !(hot_ops_pct >= 0 && hot_ops_pct <= 100)) {
            snprintf(err, errlen, "--hot-keys-pct and --hot-ops-pct must be in [0, 100]");
            return -1;
        }
        double hk = (double)n * hot_keys_pct / 100.0 + 0.5;
        d->hot_keys = hk < 1 ? 1 : (hk >= (double)n ? n : (uint64_t)hk);
        d->hot_ops = hot_ops_pct / 100.0;
    }
    if (scramble) {
        unsigned bits = 1;
        while (bits < 64 && (1ULL << bits) < n)
            bits++;
        if (bits < 2)
            bits = 2;
        d->bits = bits;
        d->mask = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
        uint64_t x = seed ^ 0x5eed5eed5eed5eedULL;
        d->mul1 = sb_splitmix64(&x) | 1;
        d->mul2 = sb_splitmix64(&x) | 1;
        d->add1 = sb_splitmix64(&x);
        d->add2 = sb_splitmix64(&x);
    }
    return 0;
}

uint64_t sb_dist_rank(const struct sb_dist *d, struct sb_rng *r)
{
    switch (d->kind) {
    case SB_DIST_ZIPF:
        return sb_zipf_draw(d, r) - 1;
    case SB_DIST_HOT:
        if (d->hot_keys >= d->n || sb_rng_double(r) < d->hot_ops)
            return sb_rng_below(r, d->hot_keys);
        return d->hot_keys + sb_rng_below(r, d->n - d->hot_keys);
    case SB_DIST_UNIFORM:
    default:
        return sb_rng_below(r, d->n);
    }
}

uint64_t sb_dist_next(const struct sb_dist *d, struct sb_rng *r)
{
    return sb_dist_key(d, sb_dist_rank(d, r));
}

/* ---- values ------------------------------------------------------------------ */

size_t sb_u64toa(char *dst, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

static const char *const sb_words[64] = {
    "alpha", "amber", "apple", "atlas", "basin", "berry", "blue", "bold",
    "cedar", "cloud", "coral", "crisp", "delta", "dune", "eagle", "echo",
    "ember", "fable", "fern", "field", "frost", "gale", "glade", "green",
    "harbor", "hazel", "iris", "ivory", "jade", "juniper", "kelp", "lake",
    "lemon", "lunar", "maple", "meadow", "mint", "north", "oak", "ocean",
    "olive", "pearl", "pine", "prairie", "quartz", "quiet", "raven", "reef",
    "river", "ruby", "sage", "sierra", "silver", "solar", "stone", "storm",
    "tidal", "timber", "umber", "valley", "violet", "willow", "winter", "zephyr",
};

static const char *const sb_status[4] = { "active", "inactive", "pending", "suspended" };
static const char *const sb_country[8] = { "US", "DE", "FR", "JP", "BR", "IN", "GB", "CA" };
static const char *const sb_plan[4] = { "free", "basic", "pro", "enterprise" };
static const char *const sb_currency[3] = { "USD", "EUR", "JPY" };

enum sb_fkind { F_INT, F_BIG, F_PRICE, F_BOOL, F_WORD, F_NAME, F_EMAIL, F_DATE, F_TAGS,
                F_STATUS, F_COUNTRY, F_PLAN, F_CURRENCY, F_WORDS };

static const struct {
    const char *name;
    enum sb_fkind kind;
} sb_schema[] = {
    { "user_id", F_BIG },      { "name", F_NAME },        { "email", F_EMAIL },
    { "status", F_STATUS },    { "created_at", F_DATE },  { "updated_at", F_DATE },
    { "country", F_COUNTRY },  { "city", F_WORD },        { "zip", F_INT },
    { "plan", F_PLAN },        { "balance", F_PRICE },    { "currency", F_CURRENCY },
    { "score", F_INT },        { "active", F_BOOL },      { "visits", F_INT },
    { "last_login", F_DATE },  { "referrer", F_WORD },    { "tags", F_TAGS },
    { "verified", F_BOOL },    { "company", F_NAME },     { "title", F_WORDS },
    { "orders", F_INT },       { "lifetime_value", F_PRICE }, { "locale", F_COUNTRY },
};
#define SB_SCHEMA_LEN (sizeof(sb_schema) / sizeof(sb_schema[0]))

struct sb_emit {
    char *p;
    size_t n, cap;
};

static void sb_put(struct sb_emit *e, const char *s, size_t len)
{
    if (e->n + len <= e->cap)
        memcpy(e->p + e->n, s, len);
    e->n += len; /* past cap: the caller sees the overflow by length */
}

static void sb_puts(struct sb_emit *e, const char *s)
{
    sb_put(e, s, strlen(s));
}

static void sb_putc(struct sb_emit *e, char c)
{
    sb_put(e, &c, 1);
}

static void sb_putu(struct sb_emit *e, uint64_t v)
{
    char tmp[20];
    sb_put(e, tmp, sb_u64toa(tmp, v));
}

static void sb_put2(struct sb_emit *e, unsigned v)
{
    char t[2] = { (char)('0' + v / 10 % 10), (char)('0' + v % 10) };
    sb_put(e, t, 2);
}

static const char *sb_word(struct sb_rng *r)
{
    return sb_words[sb_rng_next(r) & 63];
}

/* One field, with its leading comma and optional suffix: ,"name_2":value */
static void sb_field(struct sb_emit *e, unsigned idx, struct sb_rng *r)
{
    unsigned col = idx % SB_SCHEMA_LEN, round = idx / SB_SCHEMA_LEN;
    sb_puts(e, ",\"");
    sb_puts(e, sb_schema[col].name);
    if (round) {
        sb_putc(e, '_');
        sb_putu(e, round + 1);
    }
    sb_puts(e, "\":");
    uint64_t x = sb_rng_next(r);
    switch (sb_schema[col].kind) {
    case F_INT:
        sb_putu(e, x % 100000);
        break;
    case F_BIG:
        sb_putu(e, 1000000 + x % 90000000);
        break;
    case F_PRICE:
        sb_putu(e, x % 100000);
        sb_putc(e, '.');
        sb_put2(e, (unsigned)((x >> 32) % 100));
        break;
    case F_BOOL:
        sb_puts(e, x & 1 ? "true" : "false");
        break;
    case F_WORD:
        sb_putc(e, '"');
        sb_puts(e, sb_word(r));
        sb_putc(e, '"');
        break;
    case F_NAME:
        sb_putc(e, '"');
        sb_puts(e, sb_word(r));
        sb_putc(e, ' ');
        sb_puts(e, sb_word(r));
        sb_putc(e, '"');
        break;
    case F_EMAIL:
        sb_putc(e, '"');
        sb_puts(e, sb_word(r));
        sb_putc(e, '.');
        sb_puts(e, sb_word(r));
        sb_putu(e, x % 100);
        sb_puts(e, "@example.com\"");
        break;
    case F_DATE: /* 2020-01-01T00:00:00Z .. 2025-12-28T23:59:59Z */
        sb_putc(e, '"');
        sb_putu(e, 2020 + x % 6);
        sb_putc(e, '-');
        sb_put2(e, (unsigned)(1 + (x >> 8) % 12));
        sb_putc(e, '-');
        sb_put2(e, (unsigned)(1 + (x >> 16) % 28));
        sb_putc(e, 'T');
        sb_put2(e, (unsigned)((x >> 24) % 24));
        sb_putc(e, ':');
        sb_put2(e, (unsigned)((x >> 32) % 60));
        sb_putc(e, ':');
        sb_put2(e, (unsigned)((x >> 40) % 60));
        sb_puts(e, "Z\"");
        break;
    case F_TAGS: {
        unsigned k = 1 + (unsigned)(x % 3);
        sb_putc(e, '[');
        for (unsigned i = 0; i < k; i++) {
            if (i)
                sb_putc(e, ',');
            sb_putc(e, '"');
            sb_puts(e, sb_word(r));
            sb_putc(e, '"');
        }
        sb_putc(e, ']');
        break;
    }
    case F_STATUS:
        sb_putc(e, '"');
        sb_puts(e, sb_status[x & 3]);
        sb_putc(e, '"');
        break;
    case F_COUNTRY:
        sb_putc(e, '"');
        sb_puts(e, sb_country[x & 7]);
        sb_putc(e, '"');
        break;
    case F_PLAN:
        sb_putc(e, '"');
        sb_puts(e, sb_plan[x & 3]);
        sb_putc(e, '"');
        break;
    case F_CURRENCY:
        sb_putc(e, '"');
        sb_puts(e, sb_currency[x % 3]);
        sb_putc(e, '"');
        break;
    case F_WORDS: {
        unsigned k = 2 + (unsigned)(x % 3);
        sb_putc(e, '"');
        for (unsigned i = 0; i < k; i++) {
            if (i)
                sb_putc(e, ' ');
            sb_puts(e, sb_word(r));
        }
        sb_putc(e, '"');
        break;
    }
    }
}

/* Exactly len bytes of lower-case words separated by spaces (the last word
 * cut short), never a space at either end. */
static void sb_text(char *dst, size_t len, struct sb_rng *r)
{
    size_t n = 0;
    while (n < len) {
        if (n) {
            if (n + 1 >= len) { /* no room for " x": end on a letter */
                dst[n++] = 'a';
                break;
            }
            dst[n++] = ' ';
        }
        const char *w = sb_word(r);
        size_t wl = strlen(w);
        if (wl > len - n)
            wl = len - n;
        memcpy(dst + n, w, wl);
        n += wl;
    }
}

static void sb_json(char *dst, size_t len, struct sb_rng *r)
{
    if (len == 1) {
        dst[0] = '0';
        return;
    }
    if (len < 9) { /* a JSON string */
        dst[0] = '"';
        sb_text(dst + 1, len - 2, r);
        dst[len - 1] = '"';
        return;
    }
    if (len < 24) { /* {"id":"words"} */
        memcpy(dst, "{\"id\":\"", 7);
        sb_text(dst + 7, len - 9, r);
        memcpy(dst + len - 2, "\"}", 2);
        return;
    }
    /* {"id":N,...fields...,"note":"words"} -- "{\"id\":" + <= 8 digits leaves >= 9 */
    struct sb_emit e = { dst, 0, len - 1 };
    sb_puts(&e, "{\"id\":");
    sb_putu(&e, sb_rng_next(r) % 100000000);
    char tmp[256];
    for (unsigned idx = 0;; idx++) {
        size_t rem = e.cap - e.n;
        if (rem == 0)
            break;
        struct sb_emit f = { tmp, 0, sizeof(tmp) };
        sb_field(&f, idx, r);
        if (f.n > sizeof(tmp) || f.n > rem || (rem - f.n != 0 && rem - f.n < 7))
            break;
        sb_put(&e, tmp, f.n);
    }
    size_t rem = e.cap - e.n;
    if (rem >= 10) { /* ,"note":"...." */
        sb_puts(&e, ",\"note\":\"");
        sb_text(dst + e.n, rem - 10, r);
        e.n += rem - 10;
        sb_putc(&e, '"');
    } else if (rem >= 7) { /* ,"n":"..." */
        sb_puts(&e, ",\"n\":\"");
        sb_text(dst + e.n, rem - 7, r);
        e.n += rem - 7;
        sb_putc(&e, '"');
    }
    dst[len - 1] = '}';
}

void sb_value_fill(enum sb_value_kind kind, char *dst, size_t len, struct sb_rng *r)
{
    switch (kind) {
    case SB_VAL_JSON:
        sb_json(dst, len, r);
        break;
    case SB_VAL_REPEAT:
        memset(dst, 'x', len);
        break;
    case SB_VAL_RANDOM:
    default: {
        size_t i = 0;
        for (; i + 8 <= len; i += 8) {
            uint64_t x = sb_rng_next(r);
            memcpy(dst + i, &x, 8);
        }
        if (i < len) {
            uint64_t x = sb_rng_next(r);
            memcpy(dst + i, &x, len - i);
        }
        break;
    }
    }
}
