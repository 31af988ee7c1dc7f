/*
 * ins_cmd.c -- strata-inspect's verify, info, keys, get and dump: each one
 * walk over a source (ins_src.c), writing as it goes.
 *
 * What it owns: what each of these subcommands checks, counts and prints,
 * and its exit status (strata-inspect.c's --help texts state them to
 * users). Not the readers, the encoders (ins_out.c, ins_val.c), diff or
 * report.
 *
 * verify, in full:
 *  - a snapshot: snap_verify (engine/snap.c: header, every block's CRCs and
 *    items, every cold record against its index, the footer's counts and
 *    both chained CRCs; after a damaged block it resynchronises, so the
 *    readable count covers the whole file), then a second walk that decodes
 *    every value the way a loader would (hot: serial_decode; cold: the
 *    record's type, its dictionary present in the snapshot, decompression to
 *    exactly rawlen, serial_decode) and checks that no (db, key) appears
 *    twice (a sorted array of 16-byte (db, key) hashes, in hash partitions
 *    when the footer's key count times 18 bytes exceeds --mem, default
 *    32 MiB: more keys cost passes over part A, not memory; a last walk
 *    names the duplicated keys). The second walk
 *    stops at the first structural damage (the reader is sticky), so value
 *    checks cover the items before it.
 *  - a PMem pool or SSD directory: the reader's own checks (ins_pool.c,
 *    ins_ssdd.c), each damaged object or entry listed (the first
 *    --max-damage of them) with file and offset, and every current value
 *    decoded.
 *  Exit 0: nothing wrong. 1: damaged (the first damaged offset and what is
 *  wrong, then how many keys are readable). 2: cannot read (missing, not a
 *  kind strata-inspect reads, an I/O error).
 *
 * Memory: one block or window, one decoded value; verify's duplicate check
 * keeps 16 bytes per key of one partition (at most --mem) and nothing else
 * grows with the input.
 *
 * Threads: one. Durability: writes only to stdout/stderr.
 */
#include "tools/ins.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/util.h"
#include "engine/vfs.h"

/* verify's default --mem: the duplicate-key check's table (16 bytes a key);
 * past 1.8 million keys it takes more passes instead of more memory */
#define VERIFY_MEM_DEFAULT (32ull << 20)

static const char *kind_name(int kind)
{
    return kind == SRC_POOL ? "PMem pool" : kind == SRC_SSD ? "SSD directory" : "snapshot";
}

int cmd_open(struct ins_ctx *cx, const struct iargs *a, const char *path, struct src **out)
{
    const char *why = NULL;
    int rc = src_open(cx, path, a->force_kind, out, &why);

    if (rc == ST_OK)
        return INS_EXIT_OK;
    if (rc == ST_ECORRUPT) {
        uint64_t off = 0;
        src_error(*out, &off, NULL);
        fprintf(cx->err, "strata-inspect: %s: damaged %s at offset %" PRIu64 ": %s (run verify)\n", path,
                kind_name(src_info(*out)->kind), off, why ? why : "?");
        src_close(out);
        return INS_EXIT_DAMAGED;
    }
    fprintf(cx->err, "strata-inspect: %s: %s\n", path,
            why ? why : rc == ST_ENOMEM ? "out of memory" : st_strerror(rc));
    return INS_EXIT_CANNOT;
}

int cmd_filter(const struct iargs *a, const struct src_key *k)
{
    if (a->db >= 0 && k->db != SRC_DB_UNKNOWN && (long long)k->db != a->db)
        return 0;
    if (a->type >= 0 && k->type != a->type)
        return 0;
    if (a->tier >= 0 && k->tier != a->tier)
        return 0;
    if (a->match && !util_glob_match(a->match, strlen(a->match), k->key, k->klen, 0))
        return 0;
    return 1;
}

/* A walk's end, said on stderr: the exit status for rc. */
static int walk_end(struct ins_ctx *cx, struct src *s, int rc)
{
    uint64_t off;
    const char *what;

    if (rc == ST_OK)
        return INS_EXIT_OK;
    if (!out_ok(cx->out))
        return INS_EXIT_PIPE;
    src_error(s, &off, &what);
    if (rc == ST_ECORRUPT) {
        fprintf(cx->err,
                "strata-inspect: %s: damaged at offset %" PRIu64 ": %s; what was printed comes from undamaged "
                "parts (run verify)\n",
                src_info(s)->path, off, what ? what : "?");
        return INS_EXIT_DAMAGED;
    }
    fprintf(cx->err, "strata-inspect: %s: %s\n", src_info(s)->path, st_strerror(rc));
    return INS_EXIT_CANNOT;
}

/* ---- verify -------------------------------------------------------------------- */

struct hpair {
    uint64_t lo, hi;
};

struct vstate {
    struct ins_ctx *cx;
    const struct iargs *a;
    struct src *s;
    uint64_t keys, bad_values, damage, dicts, aux, dups;
    int have_first;
    char first_where[512];
    uint64_t first_off;
    char first_what[512];
    /* the duplicate-key check (snapshots): the (db, key) hashes of one partition, then sorted */
    int dup_check;
    struct hpair *hs, *dupv;
    unsigned char *named; /* per dupv entry: named already */
    size_t nh, hcap, ndup, dcap;
    unsigned parts, part;
    int naming;  /* the pass that names the duplicated keys */
    int dup_off; /* out of memory: no duplicate check */
};

static void v_first(struct vstate *v, const char *where, uint64_t off, const char *what)
{
    if (v->have_first)
        return;
    v->have_first = 1;
    snprintf(v->first_where, sizeof(v->first_where), "%s", where ? where : "");
    v->first_off = off;
    snprintf(v->first_what, sizeof(v->first_what), "%s", what);
}

static int v_damage(void *ud, const char *where, uint64_t off, const char *what)
{
    struct vstate *v = ud;

    v->damage++;
    v_first(v, where, off, what);
    if (v->part == 0 && v->damage <= v->a->max_damage)
        out_printf(v->cx->out, "  damaged: %s offset %" PRIu64 ": %s\n", where ? where : "", off, what);
    return out_ok(v->cx->out) ? 0 : 1;
}

static int v_aux(void *ud, const char *name, uint32_t nlen, const void *val, uint32_t vlen, uint32_t dict_id)
{
    struct vstate *v = ud;
    (void)nlen, (void)val, (void)vlen;
    if (v->part == 0) {
        if (name)
            v->aux++;
        else if (dict_id)
            v->dicts++;
    }
    return 0;
}

static void key_desc(char *buf, size_t cap, const struct src_key *k)
{
    struct out o;
    out_init_mem(&o);
    out_quoted(&o, k->key, k->klen > 200 ? 200 : k->klen, 0);
    if (k->db == SRC_DB_UNKNOWN)
        snprintf(buf, cap, "key %.*s", (int)o.mlen, (const char *)o.mem);
    else
        snprintf(buf, cap, "key %.*s of db %u", (int)o.mlen, (const char *)o.mem, k->db);
    out_fini(&o);
}

static int cmp_hpair(const void *a, const void *b)
{
    const struct hpair *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* In-place heapsort (glibc's qsort may allocate a copy as large as the
 * array: the point of the array is to stay within --mem). */
static void hp_sift(struct hpair *a, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && cmp_hpair(&a[l], &a[m]) > 0)
            m = l;
        if (l + 1 < n && cmp_hpair(&a[l + 1], &a[m]) > 0)
            m = l + 1;
        if (m == i)
            return;
        struct hpair t = a[i];
        a[i] = a[m];
        a[m] = t;
        i = m;
    }
}

static void hp_sort(struct hpair *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        hp_sift(a, n, i);
    for (size_t end = n; end > 1; end--) {
        struct hpair t = a[0];
        a[0] = a[end - 1];
        a[end - 1] = t;
        hp_sift(a, end - 1, 0);
    }
}

/* After a partition's walk: sort its hashes and keep the ones met twice. */
static void v_find_dups(struct vstate *v)
{
    hp_sort(v->hs, v->nh);
    for (size_t i = 1; i < v->nh; i++) {
        if (cmp_hpair(&v->hs[i - 1], &v->hs[i]) != 0)
            continue;
        v->dups++;
        if (v->ndup && cmp_hpair(&v->dupv[v->ndup - 1], &v->hs[i]) == 0)
            continue;
        if (v->ndup == v->dcap) {
            size_t nc = v->dcap ? v->dcap * 2 : 16;
            struct hpair *nd = realloc(v->dupv, nc * sizeof(*nd));
            if (!nd) {
                v->dup_off = 1;
                return;
            }
            v->dupv = nd;
            v->dcap = nc;
        }
        v->dupv[v->ndup++] = v->hs[i];
    }
    v->nh = 0;
}

static int v_key(void *ud, const struct src_key *k)
{
    struct vstate *v = ud;
    struct hpair h;

    if (v->dup_check && !v->dup_off) {
        kset_hash_key(k->db, k->key, k->klen, &h.lo, &h.hi);
        if (v->naming) {
            struct hpair *d = bsearch(&h, v->dupv, v->ndup, sizeof(h), cmp_hpair);
            if (d && !v->named[d - v->dupv]) {
                char desc[400], msg[512];
                key_desc(desc, sizeof(desc), k);
                snprintf(msg, sizeof(msg), "%s appears more than once", desc);
                v->named[d - v->dupv] = 1;
                v->damage++;
                v_first(v, NULL, 0, msg);
                if (v->damage <= v->a->max_damage)
                    out_printf(v->cx->out, "  damaged: %s\n", msg);
            }
            return out_ok(v->cx->out) ? 0 : 1;
        }
        if (kset_part(h.lo, v->parts) == v->part) {
            if (v->nh == v->hcap) {
                size_t nc = v->hcap ? v->hcap + v->hcap / 2 : 4096;
                struct hpair *nh = realloc(v->hs, nc * sizeof(*nh));
                if (!nh) {
                    v->dup_off = 1;
                    free(v->hs);
                    v->hs = NULL;
                    v->nh = v->hcap = 0;
                } else {
                    v->hs = nh;
                    v->hcap = nc;
                }
            }
            if (!v->dup_off)
                v->hs[v->nh++] = h;
        }
    }
    if (v->part != 0)
        return 0;
    v->keys++;
    struct entry *e = NULL;
    const char *why = NULL;
    int rc = src_value(v->s, k, &e, &why);
    if (rc == ST_OK) {
        entry_destroy(e);
        return 0;
    }
    if (rc == ST_ENOMEM)
        return rc;
    char d[400], msg[512];
    key_desc(d, sizeof(d), k);
    snprintf(msg, sizeof(msg), "the value of %s: %s", d, why ? why : st_strerror(rc));
    if (rc == ST_ETOOBIG) { /* not damage: a limit of this run */
        out_printf(v->cx->out, "  not checked: %s\n", msg);
        return 0;
    }
    v->bad_values++;
    v->damage++;
    v_first(v, k->where, k->off, msg);
    if (v->damage <= v->a->max_damage) {
        if (k->where)
            out_printf(v->cx->out, "  damaged: %s offset %" PRIu64 ": %s\n", k->where, k->off, msg);
        else
            out_printf(v->cx->out, "  damaged: %s\n", msg);
    }
    return out_ok(v->cx->out) ? 0 : 1;
}

static int verify_snapshot(struct ins_ctx *cx, const struct iargs *a, const char *path)
{
    struct snap_report rep;
    struct vstate v = {.cx = cx, .a = a};
    const char *why;
    int rc = snap_verify(vfs_posix(), path, &rep);
    char sz[32];

    if (rc == ST_ENOENT || rc == ST_EIO || rc == ST_ENOMEM) {
        fprintf(cx->err, "strata-inspect: %s: %s\n", path,
                rc == ST_ENOENT ? "no such file" : rc == ST_EIO ? "cannot be read (I/O error)" : "out of memory");
        return INS_EXIT_CANNOT;
    }
    ins_fmt_bytes(sz, sizeof(sz), rep.size);
    out_printf(cx->out, "%s: snapshot", path);
    if (rep.header_ok)
        out_printf(cx->out, ", format version %d, %u databases", SNAP_VERSION, rep.meta.databases);
    out_printf(cx->out, ", %" PRIu64 " bytes (%s)\n", rep.size, sz);
    /* the values, while the structure holds */
    struct src *s = NULL;
    int orc = src_open(cx, path, SRC_SNAP, &s, &why);
    int walk_rc = ST_OK;
    if (orc == ST_OK) {
        v.s = s;
        uint64_t nkeys = rep.meta.keys > rep.keys ? rep.meta.keys : rep.keys;
        uint64_t mem = a->mem ? a->mem : VERIFY_MEM_DEFAULT;
        v.dup_check = 1;
        v.parts = (unsigned)((nkeys * 18 + mem - 1) / mem); /* 16 bytes a key, sized up front */
        if (v.parts < 1)
            v.parts = 1;
        /* one allocation, sized from the footer's count: no growth copies */
        v.hcap = (size_t)(nkeys / v.parts + nkeys / v.parts / 16 + 4096);
        v.hs = malloc(v.hcap * sizeof(*v.hs));
        if (!v.hs)
            v.dup_off = 1;
        struct src_cbs cbs = {.key = v_key, .aux = v_aux, .ud = &v};
        for (v.part = 0; v.part < v.parts; v.part++) {
            walk_rc = src_each(s, v.part == 0 ? SRC_WITH_DATA : 0, &cbs);
            if (walk_rc != ST_OK)
                break;
            v_find_dups(&v);
        }
        free(v.hs);
        v.hs = NULL;
        if (walk_rc == ST_OK && v.ndup && !v.dup_off && (v.named = calloc(v.ndup, 1)) != NULL) {
            v.naming = 1;
            v.part = v.parts; /* no value checks again */
            walk_rc = src_each(s, 0, &cbs);
        }
        free(v.dupv);
        free(v.named);
        if (walk_rc == ST_ENOMEM) {
            fprintf(cx->err, "strata-inspect: %s: out of memory\n", path);
            src_close(&s);
            return INS_EXIT_CANNOT;
        }
        src_close(&s);
    } else {
        src_close(&s);
    }
    if (!out_ok(cx->out))
        return INS_EXIT_PIPE;
    if (rep.rc == ST_OK && v.damage == 0) {
        out_printf(cx->out,
                   "OK: every checksum and structural rule holds; %" PRIu64 " keys (%" PRIu64 " hot, %" PRIu64
                   " cold), every value decodes; %" PRIu64 " dictionar%s, %" PRIu64 " aux field%s, %" PRIu64
                   " block%s%s\n",
                   rep.keys, rep.hot, rep.cold, rep.dicts, rep.dicts == 1 ? "y" : "ies", rep.aux,
                   rep.aux == 1 ? "" : "s", rep.blocks, rep.blocks == 1 ? "" : "s",
                   v.dup_off ? " (duplicate-key check skipped: out of memory)" : "");
        return INS_EXIT_OK;
    }
    out_printf(cx->out, "DAMAGED\n");
    if (rep.rc == ST_ECORRUPT)
        out_printf(cx->out, "  first damaged offset %" PRIu64 ": %s\n", rep.bad_off, rep.what ? rep.what : "?");
    else if (v.have_first)
        out_printf(cx->out, "  first damage: %s\n", v.first_what);
    if (rep.rc == ST_ECORRUPT)
        out_printf(cx->out, "  damaged regions: %" PRIu64 "\n", rep.damaged);
    if (v.bad_values || v.dups)
        out_printf(cx->out, "  values that do not decode: %" PRIu64 ", duplicate keys: %" PRIu64 "%s\n",
                   v.bad_values, v.dups,
                   rep.rc == ST_ECORRUPT ? " (checked up to the first structural damage)" : "");
    uint64_t readable = rep.keys >= v.bad_values ? rep.keys - v.bad_values : 0;
    out_printf(cx->out, "  readable keys: %" PRIu64 " (%" PRIu64 " hot, %" PRIu64 " cold)", readable, rep.hot,
               rep.cold);
    if (rep.footer_ok)
        out_printf(cx->out, " of %" PRIu64 " the footer counts", rep.meta.keys);
    out_printf(cx->out, "\n");
    (void)walk_rc;
    return out_ok(cx->out) ? INS_EXIT_DAMAGED : INS_EXIT_PIPE;
}

int cmd_verify(struct ins_ctx *cx, const struct iargs *a)
{
    const char *path = a->pos[0];
    struct src *s = NULL;
    const char *why = NULL;
    int kind = a->force_kind, rc;

    if (!kind) {
        rc = src_open(cx, path, 0, &s, &why);
        if (rc != ST_OK && rc != ST_ECORRUPT) {
            fprintf(cx->err, "strata-inspect: %s: %s\n", path, why ? why : st_strerror(rc));
            return INS_EXIT_CANNOT;
        }
        kind = src_info(s)->kind;
        src_close(&s);
    }
    if (kind == SRC_SNAP)
        return verify_snapshot(cx, a, path);

    rc = src_open(cx, path, kind, &s, &why);
    if (rc != ST_OK) {
        fprintf(cx->err, "strata-inspect: %s: %s\n", path, why ? why : st_strerror(rc));
        src_close(&s);
        return INS_EXIT_CANNOT;
    }
    const struct src_info *in = src_info(s);
    char sz[32];
    ins_fmt_bytes(sz, sizeof(sz), in->size);
    if (kind == SRC_POOL)
        out_printf(cx->out, "%s: PMem pool (layout %s), %" PRIu64 " bytes (%s), read without libpmemobj\n", path,
                   in->layout, in->size, sz);
    else
        out_printf(cx->out, "%s: SSD directory, %" PRIu64 " segments, %" PRIu64 " dictionary files, %s\n", path,
                   in->segments, in->dict_files, sz);
    struct vstate v = {.cx = cx, .a = a, .s = s, .parts = 1}; /* no duplicate check: a pool records no
                                                                * databases, an SSD index has one entry a key */
    struct src_cbs cbs = {.key = v_key, .aux = v_aux, .damage = v_damage, .ud = &v};
    rc = src_each(s, SRC_WITH_DATA, &cbs);
    if (!out_ok(cx->out)) {
        src_close(&s);
        return INS_EXIT_PIPE;
    }
    if (rc != ST_OK && rc != ST_ECORRUPT) {
        fprintf(cx->err, "strata-inspect: %s: %s\n", path, st_strerror(rc));
        src_close(&s);
        return INS_EXIT_CANNOT;
    }
    if (v.damage == 0) {
        if (kind == SRC_POOL)
            out_printf(cx->out,
                       "OK: %" PRIu64 " records, every CRC and value checks; %" PRIu64 " dictionar%s; %" PRIu64
                       " deleted records (magic 0) skipped\n",
                       v.keys, v.dicts, v.dicts == 1 ? "y" : "ies", in->pool_deleted);
        else
            out_printf(cx->out,
                       "OK: %" PRIu64 " current keys, every entry, record and value checks; %" PRIu64
                       " dictionar%s; %" PRIu64 " PUTs superseded, deleted or flushed, %" PRIu64 " expired\n",
                       v.keys, v.dicts, v.dicts == 1 ? "y" : "ies", in->ssd_superseded, in->ssd_expired);
        src_close(&s);
        return INS_EXIT_OK;
    }
    out_printf(cx->out, "DAMAGED\n");
    if (v.have_first) {
        if (v.first_where[0])
            out_printf(cx->out, "  first damaged offset %" PRIu64 " in %s: %s\n", v.first_off, v.first_where,
                       v.first_what);
        else
            out_printf(cx->out, "  first damage: %s\n", v.first_what);
    }
    out_printf(cx->out, "  damaged objects or entries: %" PRIu64 "%s\n", v.damage,
               v.damage > a->max_damage ? " (the first ones listed above; --max-damage N lists more)" : "");
    out_printf(cx->out, "  readable keys: %" PRIu64 "\n", v.keys >= v.bad_values ? v.keys - v.bad_values : 0);
    src_close(&s);
    return out_ok(cx->out) ? INS_EXIT_DAMAGED : INS_EXIT_PIPE;
}

/* ---- info ------------------------------------------------------------------------ */

#define TTL_BUCKETS 8
static const char *ttl_names[TTL_BUCKETS] = {"expired", "<1m", "<10m", "<1h", "<1d", "<7d", "<30d", ">=30d"};
static const int64_t ttl_limits[TTL_BUCKETS] = {0, 60000, 600000, 3600000, 86400000, 604800000, 2592000000ll,
                                                INT64_MAX};

static int ttl_bucket(int64_t ttl)
{
    for (int i = 0; i < TTL_BUCKETS; i++)
        if (ttl < ttl_limits[i] || (i == 0 && ttl <= 0))
            return i;
    return TTL_BUCKETS - 1;
}

#define MAX_DICT_IDS 256
#define MAX_AUX 32

struct dbc {
    uint64_t keys, ttl;
};

struct istat {
    struct ins_ctx *cx;
    int64_t ref_ms;
    uint64_t keys, hot, cold, hll, expired_now, with_ttl;
    uint64_t type_keys[OBJ_TYPE_MAX + 1], type_raw[OBJ_TYPE_MAX + 1], type_stored[OBJ_TYPE_MAX + 1];
    uint64_t tier_keys[ITIER_N], tier_raw[ITIER_N], tier_stored[ITIER_N];
    uint64_t raw, stored, key_bytes, rec_bytes;
    uint64_t ttl_hist[TTL_BUCKETS];
    struct dbc *dbs;
    size_t ndbs;
    uint64_t unknown_db;
    uint32_t dict_held[MAX_DICT_IDS], dict_used[MAX_DICT_IDS];
    uint64_t dict_held_len[MAX_DICT_IDS], dict_used_keys[MAX_DICT_IDS];
    size_t nheld, nused;
    int dict_more;
    char *aux[MAX_AUX];
    size_t naux;
    uint64_t damage;
};

static int i_aux(void *ud, const char *name, uint32_t nlen, const void *val, uint32_t vlen, uint32_t dict_id)
{
    struct istat *st = ud;
    if (!name) {
        if (st->nheld < MAX_DICT_IDS) {
            st->dict_held_len[st->nheld] = vlen;
            st->dict_held[st->nheld++] = dict_id;
        } else {
            st->dict_more = 1;
        }
        return 0;
    }
    if (st->naux < MAX_AUX) {
        struct out o;
        out_init_mem(&o);
        out_quoted(&o, name, nlen, 0);
        out_write(&o, "=", 1);
        out_quoted(&o, val, vlen > 200 ? 200 : vlen, 0);
        out_write(&o, "", 1);
        char *s = malloc(o.mlen + 1);
        if (s) {
            memcpy(s, o.mem, o.mlen);
            s[o.mlen] = 0;
            st->aux[st->naux++] = s;
        }
        out_fini(&o);
    }
    return 0;
}

static int i_damage(void *ud, const char *where, uint64_t off, const char *what)
{
    struct istat *st = ud;
    (void)where, (void)off, (void)what;
    st->damage++;
    return 0;
}

static int i_key(void *ud, const struct src_key *k)
{
    struct istat *st = ud;
    int t = k->type >= 0 && k->type < OBJ_TYPE_MAX ? k->type : OBJ_TYPE_MAX;
    uint64_t raw = src_key_raw(k), stored = src_key_stored(k);

    st->keys++;
    if (k->cold)
        st->cold++;
    else
        st->hot++;
    st->type_keys[t]++;
    st->type_raw[t] += raw;
    st->type_stored[t] += stored;
    st->tier_keys[k->tier]++;
    st->tier_raw[k->tier] += raw;
    st->tier_stored[k->tier] += stored;
    st->raw += raw;
    st->stored += stored;
    st->key_bytes += k->klen;
    if (k->has_rec)
        st->rec_bytes += k->reclen;
    /* a HyperLogLog: a STR value starting "HYLL" (hot, or a cold record stored raw) */
    const unsigned char *sv = !k->cold ? k->ser : (k->has_rec && (k->r.flags & TIER_REC_F_RAW)) ? k->r.val : NULL;
    uint64_t svlen = !k->cold ? k->serlen : (sv ? k->r.vlen : 0);
    if (k->type == OBJ_STRING && sv && svlen >= 8 + 16 && sv[1] == 0x01 && memcmp(sv + 8, "HYLL", 4) == 0)
        st->hll++;
    if (k->expire_ms >= 0) {
        st->with_ttl++;
        st->ttl_hist[ttl_bucket(k->expire_ms - st->ref_ms)]++;
        if (k->expire_ms <= st->cx->now_ms)
            st->expired_now++;
    }
    if (k->db == SRC_DB_UNKNOWN) {
        st->unknown_db++;
    } else {
        if (k->db >= st->ndbs) {
            size_t n = (size_t)k->db + 1;
            struct dbc *v = realloc(st->dbs, n * sizeof(*v));
            if (!v)
                return ST_ENOMEM;
            memset(v + st->ndbs, 0, (n - st->ndbs) * sizeof(*v));
            st->dbs = v;
            st->ndbs = n;
        }
        st->dbs[k->db].keys++;
        st->dbs[k->db].ttl += k->expire_ms >= 0;
    }
    if (k->has_rec && k->r.dict_id) {
        size_t i;
        for (i = 0; i < st->nused && st->dict_used[i] != k->r.dict_id; i++)
            ;
        if (i == st->nused && st->nused < MAX_DICT_IDS)
            st->dict_used[st->nused++] = k->r.dict_id;
        if (i < st->nused)
            st->dict_used_keys[i]++;
    }
    return 0;
}

static void info_text(struct out *o, const struct src_info *in, const struct istat *st)
{
    char b1[40], b2[40], b3[64];

    ins_fmt_bytes(b1, sizeof(b1), in->size);
    if (in->kind == SRC_SNAP) {
        out_printf(o, "file        %s: snapshot, format version %d, %" PRIu64 " bytes (%s)\n", in->path,
                   SNAP_VERSION, in->size, b1);
        ins_fmt_time(b3, sizeof(b3), in->meta.created_ms);
        out_printf(o, "created     %s (%" PRId64 " ms)\n", b3, in->meta.created_ms);
        out_printf(o, "log         offset %" PRIu64 ", lineage 0x%016" PRIx64 "\n", in->meta.log_offset,
                   in->meta.lineage);
        out_printf(o, "databases   %u (header)\n", in->meta.databases);
        out_printf(o, "blocks      %" PRIu64 "\n", in->meta.blocks);
        for (size_t i = 0; i < st->naux; i++)
            out_printf(o, "%s%s\n", i ? "            " : "aux         ", st->aux[i]);
    } else if (in->kind == SRC_POOL) {
        out_printf(o, "file        %s: PMem pool, layout %s, %" PRIu64 " bytes (%s)\n", in->path, in->layout,
                   in->size, b1);
        out_printf(o, "note        read without libpmemobj; a pool records no databases\n");
        out_printf(o, "deleted     %" PRIu64 " record objects with magic 0 (not current)\n", in->pool_deleted);
    } else {
        out_printf(o, "directory   %s: SSD tier, %" PRIu64 " segments, %" PRIu64 " dictionary files, %" PRIu64
                      " other files, %s\n",
                   in->path, in->segments, in->dict_files, in->other_files, b1);
        out_printf(o, "entries     %" PRIu64 " PUTs (%" PRIu64 " superseded, deleted or flushed, %" PRIu64
                      " expired), %" PRIu64 " DEL notes\n",
                   in->ssd_puts, in->ssd_superseded, in->ssd_expired, in->ssd_notes);
    }
    if (st->damage)
        out_printf(o, "damaged     %" PRIu64 " objects or entries skipped (run verify)\n", st->damage);
    out_printf(o, "keys        %" PRIu64 " (%" PRIu64 " hot, %" PRIu64 " cold)", st->keys, st->hot, st->cold);
    if (in->kind == SRC_SNAP)
        out_printf(o, "; the footer says %" PRIu64, in->meta.keys);
    out_printf(o, "\n");
    for (size_t d = 0; d < st->ndbs; d++)
        if (st->dbs[d].keys)
            out_printf(o, "  db %-7zu %" PRIu64 " key%s, %" PRIu64 " with a TTL\n", d, st->dbs[d].keys,
                       st->dbs[d].keys == 1 ? "" : "s", st->dbs[d].ttl);
    if (st->unknown_db)
        out_printf(o, "  db ?       %" PRIu64 " keys\n", st->unknown_db);
    out_printf(o, "types      ");
    for (int t = 0; t <= OBJ_TYPE_MAX; t++)
        if (t < OBJ_TYPE_MAX || st->type_keys[t])
            out_printf(o, " %s %" PRIu64, t < OBJ_TYPE_MAX ? ins_type_name(t) : "unknown", st->type_keys[t]);
    out_printf(o, " (of the strings: %" PRIu64 " HyperLogLog)\n", st->hll);
    out_printf(o, "tiers      ");
    for (int t = 0; t < ITIER_N; t++)
        out_printf(o, " %s %" PRIu64, ins_tier_name(t), st->tier_keys[t]);
    out_printf(o, "\n");
    ins_fmt_bytes(b1, sizeof(b1), st->raw);
    ins_fmt_bytes(b2, sizeof(b2), st->stored);
    out_printf(o, "bytes       raw %" PRIu64 " (%s), stored %" PRIu64 " (%s), ratio %.3f", st->raw, b1, st->stored,
               b2, st->stored ? (double)st->raw / (double)st->stored : 1.0);
    out_printf(o, "; keys %" PRIu64 "\n", st->key_bytes);
    out_printf(o, "            raw = serialised values; stored = hot values as serialised, cold values as their "
                  "records hold them (compressed)\n");
    for (int t = 0; t < ITIER_N; t++)
        if (st->tier_keys[t])
            out_printf(o, "  %-9s raw %" PRIu64 ", stored %" PRIu64 ", ratio %.3f\n", ins_tier_name(t),
                       st->tier_raw[t], st->tier_stored[t],
                       st->tier_stored[t] ? (double)st->tier_raw[t] / (double)st->tier_stored[t] : 1.0);
    out_printf(o, "ttl         %" PRIu64 " without, %" PRIu64 " with (%" PRIu64 " expired by now); remaining at %s:",
               st->keys - st->with_ttl, st->with_ttl, st->expired_now,
               in->kind == SRC_SNAP ? "the snapshot's creation" : "now");
    for (int i = 0; i < TTL_BUCKETS; i++)
        out_printf(o, " %s %" PRIu64, ttl_names[i], st->ttl_hist[i]);
    out_printf(o, "\n");
    out_printf(o, "dicts       held %zu%s:", st->nheld, st->dict_more ? "+" : "");
    for (size_t i = 0; i < st->nheld; i++)
        out_printf(o, " %u (%" PRIu64 " bytes)", st->dict_held[i], st->dict_held_len[i]);
    out_printf(o, "; used by records:");
    if (!st->nused)
        out_printf(o, " none");
    for (size_t i = 0; i < st->nused; i++) {
        int held = 0;
        for (size_t j = 0; j < st->nheld; j++)
            held |= st->dict_held[j] == st->dict_used[i];
        out_printf(o, " %u (%" PRIu64 " keys%s)", st->dict_used[i], st->dict_used_keys[i], held ? "" : ", MISSING");
    }
    out_printf(o, "\n");
}

static void info_json(struct out *o, const struct src_info *in, const struct istat *st)
{
    out_printf(o, "{\"path\":");
    out_json_bytes(o, in->path, strlen(in->path));
    out_printf(o, ",\"kind\":\"%s\",\"bytes\":%" PRIu64,
               in->kind == SRC_POOL ? "pool" : in->kind == SRC_SSD ? "ssd" : "snapshot", in->size);
    if (in->kind == SRC_SNAP)
        out_printf(o,
                   ",\"version\":%d,\"created_ms\":%" PRId64 ",\"log_offset\":%" PRIu64 ",\"lineage\":%" PRIu64
                   ",\"databases\":%u,\"footer_keys\":%" PRIu64 ",\"blocks\":%" PRIu64,
                   SNAP_VERSION, in->meta.created_ms, in->meta.log_offset, in->meta.lineage, in->meta.databases,
                   in->meta.keys, in->meta.blocks);
    if (in->kind == SRC_POOL)
        out_printf(o, ",\"deleted_records\":%" PRIu64, in->pool_deleted);
    if (in->kind == SRC_SSD)
        out_printf(o,
                   ",\"segments\":%" PRIu64 ",\"puts\":%" PRIu64 ",\"superseded\":%" PRIu64 ",\"expired\":%" PRIu64
                   ",\"del_notes\":%" PRIu64,
                   in->segments, in->ssd_puts, in->ssd_superseded, in->ssd_expired, in->ssd_notes);
    out_printf(o, ",\"damaged\":%" PRIu64 ",\"keys\":%" PRIu64 ",\"hot\":%" PRIu64 ",\"cold\":%" PRIu64, st->damage,
               st->keys, st->hot, st->cold);
    out_printf(o, ",\"dbs\":{");
    int first = 1;
    for (size_t d = 0; d < st->ndbs; d++) {
        if (!st->dbs[d].keys)
            continue;
        out_printf(o, "%s\"%zu\":{\"keys\":%" PRIu64 ",\"ttl\":%" PRIu64 "}", first ? "" : ",", d, st->dbs[d].keys,
                   st->dbs[d].ttl);
        first = 0;
    }
    if (st->unknown_db)
        out_printf(o, "%s\"?\":{\"keys\":%" PRIu64 ",\"ttl\":0}", first ? "" : ",", st->unknown_db);
    out_printf(o, "},\"types\":{");
    for (int t = 0; t <= OBJ_TYPE_MAX; t++)
        out_printf(o, "%s\"%s\":%" PRIu64, t ? "," : "", t < OBJ_TYPE_MAX ? ins_type_name(t) : "unknown",
                   st->type_keys[t]);
    out_printf(o, "},\"hll\":%" PRIu64 ",\"tiers\":{", st->hll);
    for (int t = 0; t < ITIER_N; t++)
        out_printf(o, "%s\"%s\":%" PRIu64, t ? "," : "", ins_tier_name(t), st->tier_keys[t]);
    out_printf(o, "},\"raw_bytes\":%" PRIu64 ",\"stored_bytes\":%" PRIu64 ",\"key_bytes\":%" PRIu64
                  ",\"ratio\":%.4f,\"with_ttl\":%" PRIu64 ",\"expired_now\":%" PRIu64 ",\"ttl\":{",
               st->raw, st->stored, st->key_bytes, st->stored ? (double)st->raw / (double)st->stored : 1.0,
               st->with_ttl, st->expired_now);
    for (int i = 0; i < TTL_BUCKETS; i++)
        out_printf(o, "%s\"%s\":%" PRIu64, i ? "," : "", ttl_names[i], st->ttl_hist[i]);
    out_printf(o, "},\"dicts_held\":[");
    for (size_t i = 0; i < st->nheld; i++)
        out_printf(o, "%s%u", i ? "," : "", st->dict_held[i]);
    out_printf(o, "],\"dicts_used\":[");
    for (size_t i = 0; i < st->nused; i++)
        out_printf(o, "%s%u", i ? "," : "", st->dict_used[i]);
    out_printf(o, "]}\n");
}

int cmd_info(struct ins_ctx *cx, const struct iargs *a)
{
    struct src *s;
    int x = cmd_open(cx, a, a->pos[0], &s);
    struct istat st = {.cx = cx};

    if (x != INS_EXIT_OK)
        return x;
    const struct src_info *in = src_info(s);
    st.ref_ms = in->kind == SRC_SNAP ? in->meta.created_ms : cx->now_ms;
    struct src_cbs cbs = {.key = i_key, .aux = i_aux, .damage = i_damage, .ud = &st};
    int rc = src_each(s, SRC_WITH_DATA, &cbs);
    if (rc == ST_OK || rc == ST_ECORRUPT) {
        if (a->json)
            info_json(cx->out, in, &st);
        else
            info_text(cx->out, in, &st);
    }
    x = walk_end(cx, s, rc);
    for (size_t i = 0; i < st.naux; i++)
        free(st.aux[i]);
    free(st.dbs);
    src_close(&s);
    return x;
}

/* ---- keys ------------------------------------------------------------------------ */

struct kstate {
    struct ins_ctx *cx;
    const struct iargs *a;
};

static int k_key(void *ud, const struct src_key *k)
{
    struct kstate *ks = ud;
    struct out *o = ks->cx->out;

    if (!cmd_filter(ks->a, k))
        return 0;
    if (ks->a->long_fmt) {
        if (k->db == SRC_DB_UNKNOWN)
            out_str(o, "?");
        else
            out_printf(o, "%u", k->db);
        out_printf(o, "\t%s\t%s\t", ins_type_name(k->type), ins_tier_name(k->tier));
        if (k->expire_ms >= 0)
            out_printf(o, "%" PRId64, k->expire_ms);
        else
            out_str(o, "-");
        out_printf(o, "\t%" PRIu64 "\t", src_key_raw(k));
    }
    if (ks->a->raw)
        out_write(o, k->key, k->klen);
    else
        out_quoted(o, k->key, k->klen, 0);
    out_write(o, "\n", 1);
    return out_ok(o) ? 0 : 1;
}

int cmd_keys(struct ins_ctx *cx, const struct iargs *a)
{
    struct src *s;
    int x = cmd_open(cx, a, a->pos[0], &s);
    struct kstate ks = {.cx = cx, .a = a};

    if (x != INS_EXIT_OK)
        return x;
    struct src_cbs cbs = {.key = k_key, .ud = &ks};
    int rc = src_each(s, (a->type >= 0 || a->long_fmt) ? SRC_WITH_DATA : 0, &cbs);
    x = walk_end(cx, s, rc);
    src_close(&s);
    return x;
}

/* ---- get ------------------------------------------------------------------------- */

void cmd_json_key(struct out *o, const struct src_key *k, struct entry *e)
{
    out_str(o, "{\"db\":");
    if (k->db == SRC_DB_UNKNOWN)
        out_str(o, "null");
    else
        out_printf(o, "%u", k->db);
    out_str(o, ",\"key\":");
    out_json_bytes(o, k->key, k->klen);
    out_printf(o, ",\"type\":\"%s\",\"encoding\":\"%s\",\"tier\":\"%s\",\"expire_ms\":", ins_type_name(e->type),
               entry_encoding(e), ins_tier_name(k->tier));
    if (k->expire_ms >= 0)
        out_printf(o, "%" PRId64, k->expire_ms);
    else
        out_str(o, "null");
    out_str(o, ",\"value\":");
    val_print_json(o, e);
    out_str(o, "}\n");
}

struct gstate {
    struct ins_ctx *cx;
    const struct iargs *a;
    struct src *s;
    const char *key;
    size_t klen;
    int found, bad;
};

static int g_key(void *ud, const struct src_key *k)
{
    struct gstate *g = ud;
    struct out *o = g->cx->out;
    long long want_db = g->a->db >= 0 ? g->a->db : 0;

    if (k->klen != g->klen || memcmp(k->key, g->key, g->klen) != 0)
        return 0;
    if (k->db != SRC_DB_UNKNOWN && (long long)k->db != want_db)
        return 0;
    struct entry *e = NULL;
    const char *why = NULL;
    int rc = src_value(g->s, k, &e, &why);
    g->found = 1;
    if (rc != ST_OK) {
        fprintf(g->cx->err, "strata-inspect: %s: the value does not load: %s\n", src_info(g->s)->path,
                why ? why : st_strerror(rc));
        g->bad = 1;
        return 1;
    }
    if (g->a->json) {
        cmd_json_key(o, k, e);
    } else {
        if (!g->a->value_only) {
            char t[64], d[64];
            out_str(o, "# ");
            if (k->db == SRC_DB_UNKNOWN)
                out_str(o, "db ?");
            else
                out_printf(o, "db %u", k->db);
            uint64_t n = e->type == OBJ_STRING ? 0 : val_count(e);
            if (e->type == OBJ_STRING) {
                char tmp[24];
                size_t len;
                entry_str(e, tmp, &len);
                n = len;
            }
            out_printf(o, ", %s (%s), %" PRIu64 " %s%s, %s", ins_type_name(e->type), entry_encoding(e), n,
                       e->type == OBJ_STRING ? "byte" : e->type == OBJ_HASH ? "field" : "element", n == 1 ? "" : "s",
                       ins_tier_name(k->tier));
            if (val_is_hll(e))
                out_str(o, ", a HyperLogLog");
            if (k->expire_ms >= 0) {
                ins_fmt_time(t, sizeof(t), k->expire_ms);
                ins_fmt_dur(d, sizeof(d), k->expire_ms - g->cx->now_ms);
                out_printf(o, ", expires %s (%s %s)", t, k->expire_ms > g->cx->now_ms ? "TTL" : "expired",
                           d);
            } else {
                out_str(o, ", no expiry");
            }
            out_str(o, "\n");
        }
        val_print_cli(o, e);
    }
    entry_destroy(e);
    return 1;
}

int cmd_get(struct ins_ctx *cx, const struct iargs *a)
{
    struct src *s;
    struct gstate g = {.cx = cx, .a = a};
    char *kb = NULL;
    int x;

    g.key = a->pos[1];
    g.klen = strlen(a->pos[1]);
    if (a->escaped) {
        kb = malloc(g.klen + 1);
        long n = kb ? ins_unquote(g.key, g.klen, kb) : -1;
        if (n < 0) {
            fprintf(cx->err, "strata-inspect: get: KEY is not a well-formed quoted string\n");
            free(kb);
            return INS_EXIT_CANNOT;
        }
        g.key = kb;
        g.klen = (size_t)n;
    }
    x = cmd_open(cx, a, a->pos[0], &s);
    if (x != INS_EXIT_OK) {
        free(kb);
        return x;
    }
    g.s = s;
    struct src_cbs cbs = {.key = g_key, .ud = &g};
    int rc = src_each(s, SRC_WITH_DATA, &cbs);
    if (rc == 1)
        rc = ST_OK;
    x = walk_end(cx, s, rc);
    if (x == INS_EXIT_OK && g.bad)
        x = INS_EXIT_DAMAGED;
    if (x == INS_EXIT_OK && !g.found) {
        out_str(cx->out, a->json ? "null\n" : "(nil)\n");
        x = INS_EXIT_DAMAGED;
    }
    free(kb);
    src_close(&s);
    return x;
}

/* ---- dump ------------------------------------------------------------------------ */

struct dstate {
    struct ins_ctx *cx;
    const struct iargs *a;
    struct src *s;
    int resp;
    long long cur_db;
    uint64_t dumped, skipped_expired, bad;
};

static int d_key(void *ud, const struct src_key *k)
{
    struct dstate *d = ud;
    struct out *o = d->cx->out;

    if (!cmd_filter(d->a, k))
        return 0;
    if (k->expire_ms >= 0 && k->expire_ms <= d->cx->now_ms && (d->resp || !d->a->include_expired)) {
        d->skipped_expired++;
        return 0;
    }
    struct entry *e = NULL;
    const char *why = NULL;
    int rc = src_value(d->s, k, &e, &why);
    if (rc != ST_OK) {
        char desc[400];
        key_desc(desc, sizeof(desc), k);
        fprintf(d->cx->err, "strata-inspect: %s: %s skipped: %s\n", src_info(d->s)->path, desc,
                why ? why : st_strerror(rc));
        d->bad++;
        return rc == ST_ENOMEM ? rc : 0;
    }
    if (d->resp) {
        if (k->db != SRC_DB_UNKNOWN && (long long)k->db != d->cur_db) {
            out_resp_array(o, 2);
            out_resp_bulk_str(o, "SELECT");
            out_resp_bulk_ll(o, k->db);
            d->cur_db = k->db;
        }
        val_print_resp(o, e, d->a->chunk, !d->a->no_del);
    } else {
        cmd_json_key(o, k, e);
    }
    entry_destroy(e);
    d->dumped++;
    return out_ok(o) ? 0 : 1;
}

int cmd_dump(struct ins_ctx *cx, const struct iargs *a)
{
    struct src *s;
    struct dstate d = {.cx = cx, .a = a, .cur_db = -1};
    int x;

    if (!a->format || (strcmp(a->format, "json") != 0 && strcmp(a->format, "resp") != 0)) {
        fprintf(cx->err, "strata-inspect: dump: --format json or --format resp is needed (see dump --help)\n");
        return INS_EXIT_CANNOT;
    }
    d.resp = strcmp(a->format, "resp") == 0;
    x = cmd_open(cx, a, a->pos[0], &s);
    if (x != INS_EXIT_OK)
        return x;
    d.s = s;
    if (d.resp && src_info(s)->kind == SRC_POOL)
        fprintf(cx->err, "strata-inspect: %s: a PMem pool records no databases: its keys go to the current one\n",
                a->pos[0]);
    struct src_cbs cbs = {.key = d_key, .ud = &d};
    int rc = src_each(s, SRC_WITH_DATA, &cbs);
    x = walk_end(cx, s, rc);
    out_flush(cx->out);
    if (x == INS_EXIT_OK && !out_ok(cx->out))
        x = INS_EXIT_PIPE;
    if (x == INS_EXIT_OK && d.bad)
        x = INS_EXIT_DAMAGED;
    if (x != INS_EXIT_PIPE)
        fprintf(cx->err, "strata-inspect: dumped %" PRIu64 " keys, skipped %" PRIu64 " already expired%s\n",
                d.dumped, d.skipped_expired, d.bad ? ", some values did not load (above)" : "");
    src_close(&s);
    return x;
}
