/*
 * ins_out.c -- strata-inspect's output: one buffered sink (a FILE, or memory
 * for the unit tests and fuzzers) and the encoders every subcommand writes
 * through: terminal quoting, JSON strings, RESP commands, and the human
 * forms of times, sizes and durations.
 *
 * What it owns: the exact bytes of each encoding (tools/ins.h states them;
 * `strata-inspect keys --help` repeats the quoting rule to users). Not what
 * is printed when (the subcommands).
 *
 * Invariants:
 *  1. Every encoder is total: any bytes in, well-formed output out (a
 *     quoted string, a JSON value, a RESP bulk string), never lossy
 *     (ins_unquote inverts out_quoted; base64 keeps what UTF-8 cannot).
 *  2. After the first failed write the sink is "broken" and writes nothing
 *     more; SIGPIPE is ignored by main, so a reader that goes away (keys |
 *     head) shows up here as EPIPE and the walk stops quietly.
 *
 * Threads: a sink belongs to one thread. Durability: none (stdout).
 */
#include "tools/ins.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/util.h"

void out_init_file(struct out *o, FILE *f)
{
    memset(o, 0, sizeof(*o));
    o->f = f;
}

void out_init_mem(struct out *o)
{
    memset(o, 0, sizeof(*o));
}

void out_fini(struct out *o)
{
    if (o->f)
        out_flush(o);
    free(o->mem);
    o->mem = NULL;
    o->mlen = o->mcap = 0;
}

void out_write(struct out *o, const void *p, size_t n)
{
    if (o->broken || n == 0)
        return;
    if (!o->f) {
        if (o->mlen + n > o->mcap) {
            size_t nc = o->mcap ? o->mcap : 256;
            while (nc < o->mlen + n)
                nc *= 2;
            unsigned char *m = realloc(o->mem, nc);
            if (!m) {
                o->broken = ENOMEM;
                return;
            }
            o->mem = m;
            o->mcap = nc;
        }
        memcpy(o->mem + o->mlen, p, n);
        o->mlen += n;
        return;
    }
    if (fwrite(p, 1, n, o->f) != n)
        o->broken = errno ? errno : EIO;
}

void out_str(struct out *o, const char *s)
{
    out_write(o, s, strlen(s));
}

void out_printf(struct out *o, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(buf)) {
        out_write(o, buf, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        o->broken = ENOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    out_write(o, big, (size_t)n);
    free(big);
}

void out_flush(struct out *o)
{
    if (o->f && !o->broken && fflush(o->f) != 0)
        o->broken = errno ? errno : EIO;
}

/* ---- terminal quoting ----------------------------------------------------- */

static int plain_byte(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != '\'' && c != '\\';
}

void out_quoted(struct out *o, const void *sv, size_t n, int always)
{
    const unsigned char *s = sv;
    size_t i, run;
    int plain = n > 0;

    for (i = 0; plain && i < n; i++)
        plain = plain_byte(s[i]);
    if (plain && !always) {
        out_write(o, s, n);
        return;
    }
    out_write(o, "\"", 1);
    for (i = 0; i < n;) {
        for (run = i; run < n && s[run] >= 0x20 && s[run] <= 0x7e && s[run] != '"' && s[run] != '\\'; run++)
            ;
        if (run > i) {
            out_write(o, s + i, run - i);
            i = run;
            continue;
        }
        char esc[5];
        switch (s[i]) {
        case '"': out_write(o, "\\\"", 2); break;
        case '\\': out_write(o, "\\\\", 2); break;
        case '\n': out_write(o, "\\n", 2); break;
        case '\r': out_write(o, "\\r", 2); break;
        case '\t': out_write(o, "\\t", 2); break;
        case '\a': out_write(o, "\\a", 2); break;
        case '\b': out_write(o, "\\b", 2); break;
        default:
            snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
            out_write(o, esc, 4);
            break;
        }
        i++;
    }
    out_write(o, "\"", 1);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long ins_unquote(const char *s, size_t n, char *dst)
{
    size_t i, k = 0;

    if (n < 2 || s[0] != '"' || s[n - 1] != '"') {
        memcpy(dst, s, n);
        return (long)n;
    }
    for (i = 1; i < n - 1; i++) {
        if (s[i] != '\\') {
            if (s[i] == '"')
                return -1;
            dst[k++] = s[i];
            continue;
        }
        if (++i >= n - 1)
            return -1;
        switch (s[i]) {
        case 'n': dst[k++] = '\n'; break;
        case 'r': dst[k++] = '\r'; break;
        case 't': dst[k++] = '\t'; break;
        case 'a': dst[k++] = '\a'; break;
        case 'b': dst[k++] = '\b'; break;
        case '"': dst[k++] = '"'; break;
        case '\\': dst[k++] = '\\'; break;
        case 'x': {
            int h, l;
            if (i + 2 > n - 2 || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
                return -1;
            dst[k++] = (char)(h << 4 | l);
            i += 2;
            break;
        }
        default:
            return -1;
        }
    }
    return (long)k;
}

/* ---- JSON ------------------------------------------------------------------ */

int ins_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t need;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            need = 1, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            need = 2, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            need = 3, cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= need)
            return 0;
        for (size_t j = 1; j <= need; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        i += need + 1;
    }
    return 1;
}

static void out_base64(struct out *o, const unsigned char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char buf[256];
    size_t k = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
        buf[k++] = tab[v >> 18 & 63];
        buf[k++] = tab[v >> 12 & 63];
        buf[k++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        buf[k++] = i + 2 < n ? tab[v & 63] : '=';
        if (k >= sizeof(buf) - 4) {
            out_write(o, buf, k);
            k = 0;
        }
    }
    out_write(o, buf, k);
}

void out_json_bytes(struct out *o, const void *sv, size_t n)
{
    const unsigned char *s = sv;

    if (!ins_utf8_valid(s, n)) {
        out_str(o, "{\"base64\":\"");
        out_base64(o, s, n);
        out_str(o, "\"}");
        return;
    }
    out_write(o, "\"", 1);
    for (size_t i = 0; i < n;) {
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] != 0x7f && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            out_write(o, s + i, run - i);
            i = run;
            continue;
        }
        char esc[8];
        switch (s[i]) {
        case '"': out_write(o, "\\\"", 2); break;
        case '\\': out_write(o, "\\\\", 2); break;
        case '\n': out_write(o, "\\n", 2); break;
        case '\r': out_write(o, "\\r", 2); break;
        case '\t': out_write(o, "\\t", 2); break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
            out_write(o, esc, 6);
            break;
        }
        i++;
    }
    out_write(o, "\"", 1);
}

void out_json_double(struct out *o, double d)
{
    char buf[64];

    if (isinf(d)) {
        out_str(o, d > 0 ? "\"inf\"" : "\"-inf\"");
        return;
    }
    if (isnan(d)) { /* never stored (serial.c refuses NaN scores) */
        out_str(o, "\"nan\"");
        return;
    }
    if (d == 0)
        d = 0; /* -0 as 0, as ZSCORE replies */
    snprintf(buf, sizeof(buf), "%.17g", d);
    out_str(o, buf);
}

/* ---- RESP ------------------------------------------------------------------ */

void out_resp_array(struct out *o, uint64_t n)
{
    out_printf(o, "*%llu\r\n", (unsigned long long)n);
}

void out_resp_bulk(struct out *o, const void *s, size_t n)
{
    out_printf(o, "$%zu\r\n", n);
    out_write(o, s, n);
    out_write(o, "\r\n", 2);
}

void out_resp_bulk_ll(struct out *o, long long v)
{
    char buf[UTIL_LLSTR_SIZE];
    int n = util_ll2str(buf, v);
    out_resp_bulk(o, buf, (size_t)n);
}

void out_resp_bulk_str(struct out *o, const char *s)
{
    out_resp_bulk(o, s, strlen(s));
}

/* ---- humans ---------------------------------------------------------------- */

void ins_fmt_time(char *buf, size_t cap, int64_t ms)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)t * 1000);
    struct tm tm;

    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, cap, "%lld ms", (long long)ms);
        return;
    }
    snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

void ins_fmt_bytes(char *buf, size_t cap, uint64_t n)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    int u = 0;

    if (n < 1024) {
        snprintf(buf, cap, "%llu B", (unsigned long long)n);
        return;
    }
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, unit[u]);
}

void ins_fmt_dur(char *buf, size_t cap, int64_t ms)
{
    const char *sign = ms < 0 ? "-" : "";
    uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    uint64_t s = a / 1000;

    if (a < 1000)
        snprintf(buf, cap, "%s%llu ms", sign, (unsigned long long)a);
    else if (s < 60)
        snprintf(buf, cap, "%s%.1f s", sign, (double)a / 1000);
    else if (s < 3600)
        snprintf(buf, cap, "%s%llum %llus", sign, (unsigned long long)(s / 60), (unsigned long long)(s % 60));
    else if (s < 86400)
        snprintf(buf, cap, "%s%lluh %llum", sign, (unsigned long long)(s / 3600),
                 (unsigned long long)(s % 3600 / 60));
    else
        snprintf(buf, cap, "%s%llud %lluh", sign, (unsigned long long)(s / 86400),
                 (unsigned long long)(s % 86400 / 3600));
}
