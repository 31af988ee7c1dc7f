/*
 * ins_report.c -- strata-inspect report FILE --html OUT.html: one walk over
 * the input, then a self-contained HTML page: inline CSS and SVG, no
 * scripts, no fonts or images fetched, readable offline and in print.
 *
 * What it owns: the statistics the page shows and the page. Sections:
 * totals (keys, hot/cold, raw and stored bytes, ratio, keys with a TTL);
 * the value-size histogram (keys and bytes per power-of-two bucket of the
 * serialised size); the TTL histogram (remaining TTL at the snapshot's
 * creation, or now for a pool/SSD directory); keys and bytes by type and by
 * tier; the biggest keys (by serialised size); memory by key prefix (the
 * key up to the first --sep, or the whole key when it has none).
 *
 * Bounded memory: fixed histograms; the top --top keys (a min-heap, each
 * key copied up to 256 bytes); the prefix table holds at most PREFIX_MAX
 * distinct prefixes (each up to 128 bytes): keys of prefixes met after it
 * is full are counted under "(other prefixes)", which the page says.
 *
 * Invariants:
 *  1. Every byte of a key that reaches the page is escaped twice: the
 *     terminal quoting (ins_out.c, so control bytes are visible) and then
 *     HTML (& < > " '), so no key can inject markup.
 *  2. The output file is created (O_CREAT | O_TRUNC) only after the input
 *     was opened, never at the input's own path nor inside an input
 *     directory.
 *
 * Threads: one. Durability: the page is written with stdio and closed;
 * not synced (a report, not data).
 */
#include "tools/ins.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/err.h"
#include "engine/serial.h"

#define SIZE_BUCKETS 33 /* [0,2) [2,4) ... [2^31, 2^32) and above */
#define TTL_N 9
#define PREFIX_MAX 50000
#define PREFIX_LEN 128
#define TOPKEY_LEN 256

static const char *ttl_label[TTL_N] = {"no TTL", "expired", "< 1 min", "< 10 min", "< 1 h", "< 1 day", "< 7 days",
                                       "< 30 days", "30 days +"};
static const int64_t ttl_lim[TTL_N] = {0, 0, 60000, 600000, 3600000, 86400000, 604800000, 2592000000ll, INT64_MAX};

struct top {
    uint64_t raw, stored, count;
    uint32_t db;
    int type, tier;
    uint32_t klen, full_klen;
    char key[TOPKEY_LEN];
};

struct pfx {
    char *p;
    uint32_t len;
    uint64_t keys, raw, stored;
};

struct rstate {
    struct ins_ctx *cx;
    const struct iargs *a;
    int64_t ref_ms;
    uint64_t keys, hot, cold, raw, stored, ttl_keys, key_bytes, damage;
    uint64_t size_keys[SIZE_BUCKETS], size_bytes[SIZE_BUCKETS];
    uint64_t ttl_keys_h[TTL_N];
    uint64_t type_keys[OBJ_TYPE_MAX + 1], type_raw[OBJ_TYPE_MAX + 1];
    uint64_t tier_keys[ITIER_N], tier_raw[ITIER_N], tier_stored[ITIER_N];
    struct top *tops;
    size_t ntop;
    struct pfx *pt; /* open addressing, PREFIX_MAX * 2 slots */
    size_t npfx, pcap;
    uint64_t other_keys, other_raw, other_stored;
};

static int bucket_of(uint64_t n)
{
    int b = 0;
    while (n >= 2 && b < SIZE_BUCKETS - 1) {
        n >>= 1;
        b++;
    }
    return b;
}

static uint64_t fnv(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static int add_prefix(struct rstate *r, const struct src_key *k, uint64_t raw, uint64_t stored)
{
    size_t n = k->klen;
    const char *sep = memchr(k->key, r->a->sep, k->klen);
    if (sep)
        n = (size_t)(sep - k->key) + 1;
    if (n > PREFIX_LEN)
        n = PREFIX_LEN;
    if (!r->pt) {
        r->pcap = 2 * PREFIX_MAX;
        r->pt = calloc(r->pcap, sizeof(*r->pt));
        if (!r->pt)
            return ST_ENOMEM;
    }
    size_t p = fnv(k->key, n) % r->pcap;
    for (;; p = (p + 1) % r->pcap) {
        struct pfx *e = &r->pt[p];
        if (!e->p) {
            if (r->npfx >= PREFIX_MAX) {
                r->other_keys++;
                r->other_raw += raw;
                r->other_stored += stored;
                return 0;
            }
            e->p = malloc(n ? n : 1);
            if (!e->p)
                return ST_ENOMEM;
            memcpy(e->p, k->key, n);
            e->len = (uint32_t)n;
            r->npfx++;
        } else if (e->len != n || memcmp(e->p, k->key, n) != 0) {
            continue;
        }
        e->keys++;
        e->raw += raw;
        e->stored += stored;
        return 0;
    }
}

/* the min-heap of the biggest keys, by raw bytes */
static void heap_down(struct top *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && h[l].raw < h[m].raw)
            m = l;
        if (l + 1 < n && h[l + 1].raw < h[m].raw)
            m = l + 1;
        if (m == i)
            return;
        struct top t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_up(struct top *h, size_t i)
{
    while (i > 0 && h[(i - 1) / 2].raw > h[i].raw) {
        struct top t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static uint64_t elem_count(const struct src_key *k)
{
    struct serial_info si;
    const void *p = NULL;
    size_t n = 0;
    if (!k->cold) {
        p = k->ser;
        n = k->serlen;
    } else if (k->has_rec && (k->r.flags & TIER_REC_F_RAW)) {
        p = k->r.val;
        n = k->r.vlen;
    }
    if (!p || serial_peek(p, n, &si) < 0)
        return UINT64_MAX;
    return si.type == OBJ_STRING ? 1 : si.count;
}

static int r_key(void *ud, const struct src_key *k)
{
    struct rstate *r = ud;
    uint64_t raw = src_key_raw(k), stored = src_key_stored(k);
    int t = k->type >= 0 && k->type < OBJ_TYPE_MAX ? k->type : OBJ_TYPE_MAX;

    r->keys++;
    if (k->cold)
        r->cold++;
    else
        r->hot++;
    r->raw += raw;
    r->stored += stored;
    r->key_bytes += k->klen;
    int b = bucket_of(raw);
    r->size_keys[b]++;
    r->size_bytes[b] += raw;
    if (k->expire_ms < 0) {
        r->ttl_keys_h[0]++;
    } else {
        int64_t ttl = k->expire_ms - r->ref_ms;
        int i = 1;
        if (ttl > 0)
            for (i = 2; i < TTL_N - 1 && ttl >= ttl_lim[i]; i++)
                ;
        r->ttl_keys_h[i]++;
        r->ttl_keys++;
    }
    r->type_keys[t]++;
    r->type_raw[t] += raw;
    r->tier_keys[k->tier]++;
    r->tier_raw[k->tier] += raw;
    r->tier_stored[k->tier] += stored;
    if (add_prefix(r, k, raw, stored) != 0)
        return ST_ENOMEM;
    if (r->ntop < r->a->top || raw > r->tops[0].raw) {
        struct top tp = {.raw = raw, .stored = stored, .count = elem_count(k), .db = k->db, .type = k->type,
                         .tier = k->tier, .full_klen = k->klen};
        tp.klen = k->klen < TOPKEY_LEN ? k->klen : TOPKEY_LEN;
        memcpy(tp.key, k->key, tp.klen);
        if (r->ntop < r->a->top) {
            r->tops[r->ntop] = tp;
            heap_up(r->tops, r->ntop++);
        } else {
            r->tops[0] = tp;
            heap_down(r->tops, r->ntop, 0);
        }
    }
    return 0;
}

static int r_damage(void *ud, const char *where, uint64_t off, const char *what)
{
    (void)where, (void)off, (void)what;
    ((struct rstate *)ud)->damage++;
    return 0;
}

/* ---- HTML ------------------------------------------------------------------------ */

static void html_esc(FILE *f, const void *sv, size_t n)
{
    const unsigned char *s = sv;
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(s[i], f); break;
        }
    }
}

/* a key, quoted for terminals and escaped for HTML [1] */
static void html_key(FILE *f, const char *k, size_t n, int cut)
{
    struct out o;
    out_init_mem(&o);
    out_quoted(&o, k, n, 0);
    html_esc(f, o.mem, o.mlen);
    if (cut)
        fputs("&hellip;", f);
    out_fini(&o);
}

static void fmt_n(char *buf, size_t cap, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v), k = 0;
    for (int i = 0; i < n && (size_t)k + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = tmp[i];
    }
    buf[k] = 0;
}

static const char *palette[] = {"#4f7cff", "#22b07d", "#f2a93b", "#e5566d", "#9b6bff", "#7a8aa0"};

/* A vertical bar chart: n bars with labels, values v (and, optional, a
 * second series w drawn as a line of dots: bytes). */
static void svg_bars(FILE *f, const char *title, const char *id, const char *const *labels, const uint64_t *v,
                     const uint64_t *bytes, int n, const char *color)
{
    const int W = 720, H = 260, L = 56, B = 56, T = 24;
    uint64_t max = 1;
    for (int i = 0; i < n; i++)
        if (v[i] > max)
            max = v[i];
    double bw = (double)(W - L - 10) / n;
    fprintf(f, "<figure class=\"chart\"><figcaption>%s</figcaption>\n", title);
    fprintf(f, "<svg id=\"%s\" viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" aria-label=\"%s\">\n", id, W, H,
            title);
    for (int g = 0; g <= 4; g++) {
        double y = T + (H - T - B) * (1 - g / 4.0);
        char lab[32];
        fmt_n(lab, sizeof(lab), (uint64_t)llround((double)max * g / 4.0));
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>", L, y, W - 10, y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%s</text>\n", L - 6, y + 4, lab);
    }
    for (int i = 0; i < n; i++) {
        double h = (double)(H - T - B) * (double)v[i] / (double)max;
        double x = L + i * bw + bw * 0.12;
        char cnt[32];
        fmt_n(cnt, sizeof(cnt), v[i]);
        fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\" fill=\"%s\">"
                   "<title>%s: %s keys",
                x, T + (H - T - B) - h, bw * 0.76, h, color, labels[i], cnt);
        if (bytes) {
            char bb[32];
            ins_fmt_bytes(bb, sizeof(bb), bytes[i]);
            fprintf(f, ", %s", bb);
        }
        fprintf(f, "</title></rect>");
        if (v[i])
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"val\" text-anchor=\"middle\">%s</text>", x + bw * 0.38,
                    T + (H - T - B) - h - 4, cnt);
        fprintf(f,
                "<text x=\"%.1f\" y=\"%d\" class=\"ax\" text-anchor=\"end\" transform=\"rotate(-40 %.1f %d)\">%s</text>\n",
                x + bw * 0.5, H - B + 14, x + bw * 0.5, H - B + 14, labels[i]);
    }
    fprintf(f, "</svg></figure>\n");
}

/* A horizontal stacked bar with a legend: shares of a total. */
static void svg_share(FILE *f, const char *title, const char *id, const char *const *names, const uint64_t *keys,
                      const uint64_t *bytes, int n)
{
    uint64_t tk = 0, tb = 0;
    for (int i = 0; i < n; i++) {
        tk += keys[i];
        tb += bytes[i];
    }
    fprintf(f, "<figure class=\"chart\"><figcaption>%s</figcaption>\n", title);
    fprintf(f, "<svg id=\"%s\" viewBox=\"0 0 720 %d\" width=\"100%%\" role=\"img\" aria-label=\"%s\">\n", id,
            52 + 22 * n, title);
    for (int row = 0; row < 2; row++) {
        const uint64_t *v = row ? bytes : keys;
        uint64_t tot = row ? tb : tk;
        double x = 90;
        fprintf(f, "<text x=\"82\" y=\"%d\" class=\"ax\" text-anchor=\"end\">%s</text>", 16 + row * 18,
                row ? "bytes" : "keys");
        for (int i = 0; i < n; i++) {
            double w = tot ? 610.0 * (double)v[i] / (double)tot : 0;
            if (w <= 0)
                continue;
            fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"14\" fill=\"%s\"><title>%s: %.1f%%</title></rect>",
                    x, 5 + row * 18, w, palette[i % 6], names[i], tot ? 100.0 * (double)v[i] / (double)tot : 0);
            x += w;
        }
        fputc('\n', f);
    }
    for (int i = 0; i < n; i++) {
        char k[32], b[32];
        fmt_n(k, sizeof(k), keys[i]);
        ins_fmt_bytes(b, sizeof(b), bytes[i]);
        fprintf(f,
                "<rect x=\"90\" y=\"%d\" width=\"12\" height=\"12\" rx=\"2\" fill=\"%s\"/><text x=\"108\" y=\"%d\" "
                "class=\"lg\">%s &#8212; %s keys (%.1f%%), %s (%.1f%%)</text>\n",
                50 + 22 * i, palette[i % 6], 60 + 22 * i, names[i], k, tk ? 100.0 * (double)keys[i] / (double)tk : 0, b,
                tb ? 100.0 * (double)bytes[i] / (double)tb : 0);
    }
    fprintf(f, "</svg></figure>\n");
}

static int cmp_top(const void *a, const void *b)
{
    const struct top *x = a, *y = b;
    return x->raw < y->raw ? 1 : x->raw > y->raw ? -1 : 0;
}

static int cmp_pfx(const void *a, const void *b)
{
    const struct pfx *x = *(const struct pfx *const *)a, *y = *(const struct pfx *const *)b;
    return x->raw < y->raw ? 1 : x->raw > y->raw ? -1 : 0;
}

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;"
    "background:#f5f7fb;color:#1d2433}"
    "header{background:linear-gradient(120deg,#1f2a48,#34497e);color:#fff;padding:22px 32px}"
    "header h1{margin:0 0 4px;font-size:22px;font-weight:600}header p{margin:0;opacity:.8}"
    "main{max-width:1100px;margin:0 auto;padding:20px 24px 40px}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin:4px 0 18px}"
    ".card{background:#fff;border-radius:10px;padding:12px 16px;box-shadow:0 1px 3px rgba(20,30,60,.08)}"
    ".card .n{font-size:22px;font-weight:600}.card .l{color:#5b6478;font-size:12px;text-transform:uppercase;"
    "letter-spacing:.04em}"
    "section{background:#fff;border-radius:10px;padding:14px 20px 18px;margin:14px 0;"
    "box-shadow:0 1px 3px rgba(20,30,60,.08)}"
    "h2{font-size:16px;margin:4px 0 10px}.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}"
    "@media(max-width:900px){.grid2{grid-template-columns:1fr}}"
    "figure{margin:0}figcaption{font-weight:600;margin-bottom:4px;color:#2b3550}"
    "svg text{font-family:inherit}.ax{font-size:11px;fill:#5b6478}.val{font-size:10px;fill:#2b3550}"
    ".lg{font-size:12px;fill:#1d2433}.grid{stroke:#e3e7ef;stroke-width:1}"
    "table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:5px 8px;text-align:left;"
    "border-bottom:1px solid #eceff5}th{color:#5b6478;font-weight:600}td.r,th.r{text-align:right;"
    "font-variant-numeric:tabular-nums}td.k{font-family:ui-monospace,'DejaVu Sans Mono',monospace;"
    "word-break:break-all}"
    ".meter{background:#e9edf5;border-radius:3px;height:8px;min-width:80px}"
    ".meter i{display:block;height:8px;border-radius:3px;background:#4f7cff}"
    ".note{color:#5b6478;font-size:12px}footer{color:#8a93a6;font-size:12px;text-align:center;padding:10px}";

static void card(FILE *f, const char *label, const char *value)
{
    fprintf(f, "<div class=\"card\"><div class=\"l\">%s</div><div class=\"n\">%s</div></div>\n", label, value);
}

static int write_page(FILE *f, struct rstate *r, const struct src_info *in)
{
    char b1[64], b2[64], t[160];
    const char *kind = in->kind == SRC_POOL ? "PMem pool" : in->kind == SRC_SSD ? "SSD directory" : "snapshot";

    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
               "<title>strata-inspect report: ");
    html_esc(f, in->path, strlen(in->path));
    fprintf(f, "</title><style>%s</style></head><body>\n<header><h1>Strata %s report</h1><p>", css, kind);
    html_esc(f, in->path, strlen(in->path));
    ins_fmt_bytes(b1, sizeof(b1), in->size);
    fprintf(f, " &middot; %s", b1);
    if (in->kind == SRC_SNAP) {
        ins_fmt_time(t, sizeof(t), in->meta.created_ms);
        fprintf(f, " &middot; format version %d &middot; created %s &middot; log offset %" PRIu64, SNAP_VERSION, t,
                in->meta.log_offset);
    }
    ins_fmt_time(t, sizeof(t), r->cx->now_ms);
    fprintf(f, " &middot; generated %s</p></header>\n<main>\n<div class=\"cards\">\n", t);
    fmt_n(b1, sizeof(b1), r->keys);
    card(f, "keys", b1);
    fmt_n(b1, sizeof(b1), r->hot);
    fmt_n(b2, sizeof(b2), r->cold);
    snprintf(t, sizeof(t), "%s / %s", b1, b2);
    card(f, "hot / cold", t);
    ins_fmt_bytes(b1, sizeof(b1), r->raw);
    card(f, "raw bytes", b1);
    ins_fmt_bytes(b1, sizeof(b1), r->stored);
    card(f, "stored bytes", b1);
    snprintf(b1, sizeof(b1), "%.2f&times;", r->stored ? (double)r->raw / (double)r->stored : 1.0);
    card(f, "compression", b1);
    fmt_n(b1, sizeof(b1), r->ttl_keys);
    card(f, "keys with TTL", b1);
    fprintf(f, "</div>\n");
    if (r->damage)
        fprintf(f, "<p class=\"note\">%" PRIu64 " damaged objects or entries were skipped: run "
                   "<code>strata-inspect verify</code>.</p>\n", r->damage);

    /* histograms */
    const char *slabels[SIZE_BUCKETS];
    char sbuf[SIZE_BUCKETS][24];
    int first = 0, last = 0;
    for (int i = 0; i < SIZE_BUCKETS; i++)
        if (r->size_keys[i]) {
            if (!last && !first && !r->size_keys[0])
                first = i;
            last = i;
        }
    for (int i = 0; i < SIZE_BUCKETS; i++) {
        char a[16];
        ins_fmt_bytes(a, sizeof(a), i ? 1ull << i : 0);
        snprintf(sbuf[i], sizeof(sbuf[i]), "%s%s", i == SIZE_BUCKETS - 1 ? "\u2265 " : "\u2265 ", a);
        slabels[i] = sbuf[i];
    }
    if (last < first)
        last = first;
    if (last - first < 7)
        last = first + 7 < SIZE_BUCKETS ? first + 7 : SIZE_BUCKETS - 1;
    fprintf(f, "<section><h2>Value sizes and expiry</h2><div class=\"grid2\">\n");
    svg_bars(f, "Value size (serialised bytes, power-of-two buckets)", "size-hist", slabels + first,
             r->size_keys + first, r->size_bytes + first, last - first + 1, "#4f7cff");
    svg_bars(f, in->kind == SRC_SNAP ? "Remaining TTL at the snapshot's creation" : "Remaining TTL now", "ttl-hist",
             ttl_label, r->ttl_keys_h, NULL, TTL_N, "#22b07d");
    fprintf(f, "</div></section>\n");

    /* breakdowns */
    const char *tnames[OBJ_TYPE_MAX + 1];
    for (int i = 0; i <= OBJ_TYPE_MAX; i++)
        tnames[i] = i < OBJ_TYPE_MAX ? ins_type_name(i) : "unknown";
    const char *tiers[ITIER_N];
    for (int i = 0; i < ITIER_N; i++)
        tiers[i] = ins_tier_name(i);
    fprintf(f, "<section><h2>Types and tiers</h2><div class=\"grid2\">\n");
    svg_share(f, "By type", "type-share", tnames, r->type_keys, r->type_raw,
              r->type_keys[OBJ_TYPE_MAX] ? OBJ_TYPE_MAX + 1 : OBJ_TYPE_MAX);
    svg_share(f, "By tier", "tier-share", tiers, r->tier_keys, r->tier_raw, ITIER_N);
    fprintf(f, "</div>\n<table><tr><th>tier</th><th class=\"r\">keys</th><th class=\"r\">raw</th>"
               "<th class=\"r\">stored</th><th class=\"r\">ratio</th></tr>\n");
    for (int i = 0; i < ITIER_N; i++) {
        if (!r->tier_keys[i])
            continue;
        fmt_n(b1, sizeof(b1), r->tier_keys[i]);
        char raw[32], st[32];
        ins_fmt_bytes(raw, sizeof(raw), r->tier_raw[i]);
        ins_fmt_bytes(st, sizeof(st), r->tier_stored[i]);
        fprintf(f, "<tr><td>%s</td><td class=\"r\">%s</td><td class=\"r\">%s</td><td class=\"r\">%s</td>"
                   "<td class=\"r\">%.2f</td></tr>\n",
                tiers[i], b1, raw, st, r->tier_stored[i] ? (double)r->tier_raw[i] / (double)r->tier_stored[i] : 1.0);
    }
    fprintf(f, "</table></section>\n");

    /* biggest keys */
    qsort(r->tops, r->ntop, sizeof(*r->tops), cmp_top);
    fprintf(f, "<section><h2>Biggest keys</h2><table id=\"biggest\"><tr><th>#</th><th>key</th><th>db</th>"
               "<th>type</th><th>tier</th><th class=\"r\">elements</th><th class=\"r\">raw</th>"
               "<th class=\"r\">stored</th></tr>\n");
    for (size_t i = 0; i < r->ntop; i++) {
        struct top *tp = &r->tops[i];
        char raw[32], st[32], cnt[32];
        ins_fmt_bytes(raw, sizeof(raw), tp->raw);
        ins_fmt_bytes(st, sizeof(st), tp->stored);
        if (tp->count == UINT64_MAX)
            snprintf(cnt, sizeof(cnt), "&#8211;");
        else
            fmt_n(cnt, sizeof(cnt), tp->count);
        fprintf(f, "<tr><td>%zu</td><td class=\"k\">", i + 1);
        html_key(f, tp->key, tp->klen, tp->klen < tp->full_klen);
        if (tp->db == SRC_DB_UNKNOWN)
            fprintf(f, "</td><td>?</td>");
        else
            fprintf(f, "</td><td>%u</td>", tp->db);
        fprintf(f, "<td>%s</td><td>%s</td><td class=\"r\">%s</td><td class=\"r\">%s</td><td class=\"r\">%s</td></tr>\n",
                ins_type_name(tp->type), ins_tier_name(tp->tier), cnt, raw, st);
    }
    fprintf(f, "</table><p class=\"note\">Elements are shown when the value's header can be read without "
               "decompressing it.</p></section>\n");

    /* prefixes */
    struct pfx **pv = malloc((r->npfx ? r->npfx : 1) * sizeof(*pv));
    size_t np = 0;
    if (!pv)
        return ST_ENOMEM;
    for (size_t i = 0; r->pt && i < r->pcap; i++)
        if (r->pt[i].p)
            pv[np++] = &r->pt[i];
    qsort(pv, np, sizeof(*pv), cmp_pfx);
    fprintf(f, "<section><h2>Memory by key prefix</h2><table id=\"prefixes\"><tr><th>prefix (up to '");
    html_esc(f, &r->a->sep, 1);
    fprintf(f, "')</th><th class=\"r\">keys</th><th class=\"r\">raw</th><th class=\"r\">stored</th>"
               "<th>share of raw bytes</th></tr>\n");
    for (size_t i = 0; i < np && i < r->a->top; i++) {
        char raw[32], st[32];
        double share = r->raw ? 100.0 * (double)pv[i]->raw / (double)r->raw : 0;
        fmt_n(b1, sizeof(b1), pv[i]->keys);
        ins_fmt_bytes(raw, sizeof(raw), pv[i]->raw);
        ins_fmt_bytes(st, sizeof(st), pv[i]->stored);
        fprintf(f, "<tr><td class=\"k\">");
        html_key(f, pv[i]->p, pv[i]->len, 0);
        fprintf(f, "</td><td class=\"r\">%s</td><td class=\"r\">%s</td><td class=\"r\">%s</td>"
                   "<td><div class=\"meter\" title=\"%.1f%%\"><i style=\"width:%.1f%%\"></i></div></td></tr>\n",
                b1, raw, st, share, share);
    }
    if (r->other_keys) {
        fmt_n(b1, sizeof(b1), r->other_keys);
        ins_fmt_bytes(b2, sizeof(b2), r->other_raw);
        fprintf(f, "<tr><td>(other prefixes, past the first %d)</td><td class=\"r\">%s</td><td class=\"r\">%s"
                   "</td><td></td><td></td></tr>\n", PREFIX_MAX, b1, b2);
    }
    fprintf(f, "</table><p class=\"note\">%zu distinct prefixes. Raw = serialised value bytes; stored = as the "
               "input keeps them (cold values compressed).</p></section>\n", np);
    free(pv);
    fprintf(f, "</main><footer>strata-inspect %s</footer></body></html>\n", STRATA_VERSION);
    return ST_OK;
}

int cmd_report(struct ins_ctx *cx, const struct iargs *a)
{
    struct rstate r = {.cx = cx, .a = a};
    struct src *s;
    struct stat si, so;
    int x;

    if (!a->html) {
        fprintf(cx->err, "strata-inspect: report: --html OUT.html is needed\n");
        return INS_EXIT_CANNOT;
    }
    if (stat(a->pos[0], &si) == 0 && stat(a->html, &so) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
        fprintf(cx->err, "strata-inspect: report: the output is the input\n");
        return INS_EXIT_CANNOT;
    }
    if (stat(a->pos[0], &si) == 0 && S_ISDIR(si.st_mode)) {
        /* an SSD directory: the page must not land among its files, nor in a
         * directory below it (a missing output directory is left to fopen) */
        char *in = realpath(a->pos[0], NULL), *copy = strdup(a->html), *out = NULL;
        if (in && copy) {
            char *slash = strrchr(copy, '/');
            if (slash)
                *slash = 0;
            out = realpath(slash ? (copy[0] ? copy : "/") : ".", NULL);
        }
        size_t n = in ? strlen(in) : 0;
        int failed = !in || !copy ? (errno ? errno : ENOMEM) : 0;
        int inside = out && strncmp(in, out, n) == 0 && (out[n] == 0 || out[n] == '/' || n == 1);
        free(in);
        free(out);
        free(copy);
        if (failed) {
            fprintf(cx->err, "strata-inspect: report: %s: %s\n", a->pos[0], strerror(failed));
            return INS_EXIT_CANNOT;
        }
        if (inside) {
            fprintf(cx->err, "strata-inspect: report: the output would go into the input directory\n");
            return INS_EXIT_CANNOT;
        }
    }
    if ((x = cmd_open(cx, a, a->pos[0], &s)) != INS_EXIT_OK)
        return x;
    r.tops = calloc(a->top, sizeof(*r.tops));
    if (!r.tops) {
        src_close(&s);
        return INS_EXIT_CANNOT;
    }
    const struct src_info *in = src_info(s);
    r.ref_ms = in->kind == SRC_SNAP ? in->meta.created_ms : cx->now_ms;
    struct src_cbs cbs = {.key = r_key, .damage = r_damage, .ud = &r};
    int rc = src_each(s, SRC_WITH_DATA, &cbs);
    if (rc != ST_OK && rc != ST_ECORRUPT) {
        fprintf(cx->err, "strata-inspect: %s: %s\n", a->pos[0], st_strerror(rc));
        x = INS_EXIT_CANNOT;
        goto out;
    }
    if (rc == ST_ECORRUPT) {
        uint64_t off;
        const char *what;
        src_error(s, &off, &what);
        fprintf(cx->err, "strata-inspect: %s: damaged at offset %" PRIu64 ": %s; the report covers what comes "
                         "before it\n", a->pos[0], off, what ? what : "?");
        r.damage++;
    }
    FILE *f = fopen(a->html, "w");
    if (!f) {
        fprintf(cx->err, "strata-inspect: report: cannot create %s\n", a->html);
        x = INS_EXIT_CANNOT;
        goto out;
    }
    int wrc = write_page(f, &r, in);
    if (fclose(f) != 0 || wrc != ST_OK) {
        fprintf(cx->err, "strata-inspect: report: writing %s failed\n", a->html);
        x = INS_EXIT_CANNOT;
        goto out;
    }
    out_printf(cx->out, "wrote %s: %" PRIu64 " keys, %zu prefixes\n", a->html, r.keys, r.npfx);
    x = rc == ST_ECORRUPT ? INS_EXIT_DAMAGED : INS_EXIT_OK;
out:
    for (size_t i = 0; r.pt && i < r.pcap; i++)
        free(r.pt[i].p);
    free(r.pt);
    free(r.tops);
    src_close(&s);
    return x;
}
