/*
 * ins_val.c -- one key's value for strata-inspect: decompress a cold record
 * (engine/codec.h, with the dictionaries its source holds), decode it
 * (engine/serial.h: every check serial.c makes, so a value that decodes here
 * is one the server would load), walk its elements whatever the type and
 * encoding, and print or hash them.
 *
 * What it owns: the shapes of a value in each output (redis-cli lines, JSON,
 * RESP commands; tools/ins.h) and the canonical content hash diff compares.
 * Not where values come from (ins_src.c) nor what surrounds them.
 *
 * Invariants:
 *  1. Nothing is allocated for a value before its size was checked: a cold
 *     value's rawlen against max_value and against the zstd frame's own
 *     content size, a hot value's bytes are already in memory (serial.c's
 *     decoder never allocates more than its input justifies [S1]).
 *  2. The content hash depends on content only: a string is its bytes (an
 *     int-encoded string hashes as its text), a list its elements in order,
 *     a set / hash / sorted set the 128-bit sum of one hash per member
 *     (member; field and value; member and score with -0 as 0), so any two
 *     encodings, and any iteration order, of equal values hash equal.
 *  3. RESP output rebuilds the value exactly on Redis and on Strata: scores
 *     are written with %.17g (inf as "inf"), which both parse back to the
 *     same double; elements go in chunks of at most `chunk` so no command
 *     exceeds a server's argument limits.
 *
 * Threads: none; reentrant. Durability: none.
 */
#include "tools/ins.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>
#include <zstd.h>

#include "engine/codec.h"
#include "engine/err.h"
#include "engine/lpack.h"
#include "engine/serial.h"
#include "engine/t_hash.h"
#include "engine/t_list.h"
#include "engine/t_set.h"
#include "engine/t_zset.h"
#include "engine/util.h"

/* ---- decoding ------------------------------------------------------------- */

int val_decode_ser(int type, const void *ser, size_t len, const char *key, uint32_t klen, int64_t expire_ms,
                   const struct type_limits *lim, struct entry **out, const char **why)
{
    int rc;

    *out = NULL;
    if (type < 0 || type >= OBJ_TYPE_MAX) {
        *why = "unknown type";
        return ST_ECORRUPT;
    }
    /* a fixed hash seed: a hashtable set or hash iterates in the same order every run */
    struct serial_dec_opts opts = {.flags = SERIAL_DEC_SEED, .seed = 0x5354524154414953ull};
    rc = serial_decode_ex((uint8_t)type, ser, len, key, klen, expire_ms, lim, &opts, out);
    if (rc == ST_ECORRUPT || rc == ST_EINVAL) {
        struct serial_info si;
        int t = serial_peek(ser, len, &si);
        *why = t < 0 ? "the serialised value's header is not valid"
               : t != type ? "the serialised value is of another type than the key"
                           : "the serialised value does not decode";
        return ST_ECORRUPT;
    }
    if (rc == ST_ENOMEM)
        *why = "out of memory decoding the value";
    return rc;
}

int val_decode_rec(struct codec *c, const struct tier_rec *r, const struct type_limits *lim, uint64_t max_value,
                   int64_t expire_ms, struct entry **out, const char **why)
{
    void *raw = NULL;
    int rc;

    *out = NULL;
    if (r->type >= OBJ_TYPE_MAX) {
        *why = "the record's type is unknown";
        return ST_ECORRUPT;
    }
    if (r->flags & TIER_REC_F_RAW) {
        if (r->vlen != r->rawlen) {
            *why = "a raw record whose value length is not its rawlen";
            return ST_ECORRUPT;
        }
        return val_decode_ser(r->type, r->val, r->vlen, r->key, r->klen, expire_ms, lim, out, why);
    }
    if (r->rawlen > max_value) {
        *why = "the value is larger than --max-value";
        return ST_ETOOBIG;
    }
    unsigned long long fcs = ZSTD_getFrameContentSize(r->val, r->vlen);
    if (fcs == ZSTD_CONTENTSIZE_ERROR) {
        *why = "the record's value is not a zstd frame";
        return ST_ECORRUPT;
    }
    if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != r->rawlen) {
        *why = "the zstd frame's content size is not the record's rawlen";
        return ST_ECORRUPT;
    }
    if (r->rawlen < SERIAL_HDR) {
        *why = "the record's rawlen is shorter than a serialised value";
        return ST_ECORRUPT;
    }
    raw = malloc(r->rawlen);
    if (!raw) {
        *why = "out of memory for the value";
        return ST_ENOMEM;
    }
    rc = codec_decompress(c, r->dict_id, 0, r->val, r->vlen, raw, r->rawlen);
    if (rc == ST_ENOENT) {
        *why = "the record names a compression dictionary the input does not hold";
        rc = ST_ECORRUPT;
    } else if (rc == ST_ECORRUPT) {
        *why = "the record's value does not decompress to rawlen bytes";
    } else if (rc != ST_OK) {
        *why = "out of memory decompressing the value";
    } else {
        rc = val_decode_ser(r->type, raw, r->rawlen, r->key, r->klen, expire_ms, lim, out, why);
    }
    free(raw);
    return rc;
}

/* ---- walking ----------------------------------------------------------------- */

int val_walk(struct entry *e, val_elem_fn *fn, void *ud)
{
    int rc = 0;

    switch (e->type) {
    case OBJ_STRING: {
        char tmp[UTIL_LLSTR_SIZE];
        size_t len;
        const char *s = entry_str(e, tmp, &len);
        return fn(ud, (const unsigned char *)s, len, NULL, 0, 0);
    }
    case OBJ_LIST: {
        struct list_iter it;
        struct lp_val v;
        unsigned char buf[32];
        list_iter_init(entry_ptr(e), 0, LIST_TAIL, &it);
        while (!rc && list_iter_next(&it, &v)) {
            size_t len;
            const unsigned char *s = lp_val_str(&v, buf, &len);
            rc = fn(ud, s, len, NULL, 0, 0);
        }
        return rc;
    }
    case OBJ_SET: {
        struct set_it it;
        const unsigned char *m;
        size_t len;
        unsigned char buf[UTIL_LLSTR_SIZE];
        set_it_init(&it, entry_ptr(e));
        while (!rc && set_it_next(&it, &m, &len, buf))
            rc = fn(ud, m, len, NULL, 0, 0);
        set_it_done(&it);
        return rc;
    }
    case OBJ_ZSET: {
        struct zset_it it;
        struct zset_elem el;
        zset_it_rank(&it, entry_ptr(e), 0, 0);
        while (!rc && zset_it_next(&it, &el))
            rc = fn(ud, el.m, el.len, NULL, 0, el.score);
        return rc;
    }
    case OBJ_HASH: {
        struct hash_iter it;
        hash_iter_init(&it, entry_ptr(e));
        while (!rc && hash_iter_next(&it))
            rc = fn(ud, it.f.p, it.f.len, it.v.p, it.v.len, 0);
        hash_iter_done(&it);
        return rc;
    }
    default:
        return ST_EINVAL;
    }
}

uint64_t val_count(const struct entry *e)
{
    switch (e->type) {
    case OBJ_STRING: return 1;
    case OBJ_LIST: return list_len(entry_ptr(e));
    case OBJ_SET: return set_len(entry_ptr(e));
    case OBJ_ZSET: return zset_len(entry_ptr(e));
    case OBJ_HASH: return hash_len(entry_ptr(e));
    default: return 0;
    }
}

int val_is_hll(struct entry *e)
{
    char tmp[UTIL_LLSTR_SIZE];
    size_t len;

    if (e->type != OBJ_STRING)
        return 0;
    const char *s = entry_str(e, tmp, &len);
    return len >= 16 && memcmp(s, "HYLL", 4) == 0;
}

/* ---- printing: redis-cli ------------------------------------------------------ */

struct cli_st {
    struct out *o;
    uint64_t n, width, total;
    int type;
};

static void cli_line(struct cli_st *c, const void *s, size_t len)
{
    char idx[32];
    c->n++;
    snprintf(idx, sizeof(idx), "%*llu) ", (int)c->width, (unsigned long long)c->n);
    out_str(c->o, idx);
    out_quoted(c->o, s, len, 1);
    out_write(c->o, "\n", 1);
}

static int cli_elem(void *ud, const unsigned char *a, size_t alen, const unsigned char *b, size_t blen, double score)
{
    struct cli_st *c = ud;

    cli_line(c, a, alen);
    if (c->type == OBJ_ZSET) {
        char buf[128];
        int n = util_d2str(buf, sizeof(buf), score);
        cli_line(c, buf, (size_t)n);
    } else if (c->type == OBJ_HASH) {
        cli_line(c, b, blen);
    }
    return out_ok(c->o) ? 0 : 1;
}

int val_print_cli(struct out *o, struct entry *e)
{
    struct cli_st c = {.o = o, .type = e->type};

    if (e->type == OBJ_STRING) {
        char tmp[UTIL_LLSTR_SIZE];
        size_t len;
        const char *s = entry_str(e, tmp, &len);
        out_quoted(o, s, len, 1);
        out_write(o, "\n", 1);
        return ST_OK;
    }
    c.total = val_count(e) * (e->type == OBJ_ZSET || e->type == OBJ_HASH ? 2 : 1);
    for (uint64_t t = c.total; t; t /= 10)
        c.width++;
    val_walk(e, cli_elem, &c);
    return ST_OK;
}

/* ---- printing: JSON --------------------------------------------------------------- */

struct json_st {
    struct out *o;
    int type;
    uint64_t n;
};

static int json_elem(void *ud, const unsigned char *a, size_t alen, const unsigned char *b, size_t blen, double score)
{
    struct json_st *j = ud;

    if (j->n++)
        out_write(j->o, ",", 1);
    if (j->type == OBJ_ZSET || j->type == OBJ_HASH)
        out_write(j->o, "[", 1);
    out_json_bytes(j->o, a, alen);
    if (j->type == OBJ_ZSET) {
        out_write(j->o, ",", 1);
        out_json_double(j->o, score);
    } else if (j->type == OBJ_HASH) {
        out_write(j->o, ",", 1);
        out_json_bytes(j->o, b, blen);
    }
    if (j->type == OBJ_ZSET || j->type == OBJ_HASH)
        out_write(j->o, "]", 1);
    return out_ok(j->o) ? 0 : 1;
}

int val_print_json(struct out *o, struct entry *e)
{
    struct json_st j = {.o = o, .type = e->type};

    if (e->type == OBJ_STRING) {
        char tmp[UTIL_LLSTR_SIZE];
        size_t len;
        const char *s = entry_str(e, tmp, &len);
        out_json_bytes(o, s, len);
        return ST_OK;
    }
    out_write(o, "[", 1);
    val_walk(e, json_elem, &j);
    out_write(o, "]", 1);
    return ST_OK;
}

/* ---- printing: RESP ---------------------------------------------------------------- */

struct resp_st {
    struct out *o;
    struct entry *e;
    const char *cmd;
    uint64_t left;  /* elements not yet written */
    uint64_t in_cmd; /* elements still to come in the current command */
    unsigned chunk;
    int per;        /* arguments per element */
};

static int resp_elem(void *ud, const unsigned char *a, size_t alen, const unsigned char *b, size_t blen, double score)
{
    struct resp_st *r = ud;

    if (r->in_cmd == 0) {
        r->in_cmd = r->left < r->chunk ? r->left : r->chunk;
        out_resp_array(r->o, 2 + r->in_cmd * (uint64_t)r->per);
        out_resp_bulk_str(r->o, r->cmd);
        out_resp_bulk(r->o, entry_key(r->e), r->e->klen);
    }
    if (r->e->type == OBJ_ZSET) {
        char buf[128];
        if (isinf(score))
            snprintf(buf, sizeof(buf), "%s", score > 0 ? "inf" : "-inf");
        else
            snprintf(buf, sizeof(buf), "%.17g", score == 0 ? 0.0 : score);
        out_resp_bulk_str(r->o, buf);
    }
    out_resp_bulk(r->o, a, alen);
    if (r->e->type == OBJ_HASH)
        out_resp_bulk(r->o, b, blen);
    r->in_cmd--;
    r->left--;
    return out_ok(r->o) ? 0 : 1;
}

int val_print_resp(struct out *o, struct entry *e, unsigned chunk, int del_first)
{
    struct resp_st r = {.o = o, .e = e, .chunk = chunk ? chunk : 1000, .per = 1};
    int64_t exp = entry_expire(e);

    if (e->type == OBJ_STRING) {
        char tmp[UTIL_LLSTR_SIZE];
        size_t len;
        const char *s = entry_str(e, tmp, &len);
        out_resp_array(o, 3);
        out_resp_bulk_str(o, "SET");
        out_resp_bulk(o, entry_key(e), e->klen);
        out_resp_bulk(o, s, len);
    } else {
        if (del_first) {
            out_resp_array(o, 2);
            out_resp_bulk_str(o, "DEL");
            out_resp_bulk(o, entry_key(e), e->klen);
        }
        r.cmd = e->type == OBJ_LIST ? "RPUSH" : e->type == OBJ_SET ? "SADD" : e->type == OBJ_ZSET ? "ZADD" : "HSET";
        r.per = e->type == OBJ_ZSET || e->type == OBJ_HASH ? 2 : 1;
        r.left = val_count(e);
        val_walk(e, resp_elem, &r);
    }
    if (exp >= 0) {
        out_resp_array(o, 3);
        out_resp_bulk_str(o, "PEXPIREAT");
        out_resp_bulk(o, entry_key(e), e->klen);
        out_resp_bulk_ll(o, exp);
    }
    return out_ok(o) ? ST_OK : ST_EIO;
}

/* ---- the canonical content hash [2] ----------------------------------------------- */

struct hash_st {
    int type;
    XXH3_state_t *seq; /* strings and lists: in order */
    uint64_t lo, hi;   /* sets, hashes, zsets: sums */
};

static int hash_elem(void *ud, const unsigned char *a, size_t alen, const unsigned char *b, size_t blen, double score)
{
    struct hash_st *h = ud;
    unsigned char lenb[8];
    uint64_t n = alen;

    memcpy(lenb, &n, 8);
    if (h->type == OBJ_STRING || h->type == OBJ_LIST) {
        XXH3_128bits_update(h->seq, lenb, 8);
        XXH3_128bits_update(h->seq, a, alen);
        return 0;
    }
    XXH3_state_t st;
    XXH3_128bits_reset(&st);
    XXH3_128bits_update(&st, lenb, 8);
    XXH3_128bits_update(&st, a, alen);
    if (h->type == OBJ_HASH) {
        XXH3_128bits_update(&st, b, blen);
    } else if (h->type == OBJ_ZSET) {
        double d = score == 0 ? 0.0 : score;
        XXH3_128bits_update(&st, &d, sizeof(d));
    }
    XXH128_hash_t x = XXH3_128bits_digest(&st);
    uint64_t lo = h->lo + x.low64;
    h->hi += x.high64 + (lo < h->lo);
    h->lo = lo;
    return 0;
}

int val_hash(struct entry *e, struct val_hash *out)
{
    struct hash_st h = {.type = e->type};
    XXH3_state_t st;
    uint64_t fin[4];

    XXH3_128bits_reset(&st);
    h.seq = &st;
    int rc = val_walk(e, hash_elem, &h);
    if (rc)
        return rc;
    if (e->type == OBJ_STRING || e->type == OBJ_LIST) {
        XXH128_hash_t x = XXH3_128bits_digest(&st);
        h.lo = x.low64;
        h.hi = x.high64;
    }
    fin[0] = e->type;
    fin[1] = val_count(e);
    fin[2] = h.lo;
    fin[3] = h.hi;
    XXH128_hash_t x = XXH3_128bits(fin, sizeof(fin));
    out->lo = x.low64;
    out->hi = x.high64;
    return ST_OK;
}
