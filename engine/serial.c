/*
 * serial.c -- the serialiser of values (engine/serial.h): every type in every
 * encoding to one versioned byte format and back. Demotion writes it into a
 * tier record's value (engine/tier.h: it is what `rawlen` counts, before
 * compression); snapshots will store the same bytes (issue 6).
 *
 * What it owns: the byte format below, its validation, and the choice of the
 * encoding a decoded value gets. What it does not: keys, expiries and access
 * clocks (the record's), compression (engine/codec), checksums (the record's
 * CRC32C), and the encodings themselves: lpack buffers and intset blobs are
 * written as they are in memory, and every structure is built through the
 * type modules' own APIs (t_list, t_set, t_zset, t_hash), so their
 * invariants hold by construction.
 *
 * ---------------------------------------------------------------------------
 * The format, version 1. All integers little-endian; u32/u64 unsigned, i64
 * two's complement, f64 IEEE 754 binary64 (its bit pattern as a u64).
 *
 *   off  size  field
 *   0    1     version    1 (SERIAL_VERSION); any other value is refused
 *   1    1     tag        enum serial_tag: high nibble = type (0 string,
 *                         1 list, 2 set, 3 zset, 4 hash), low = encoding
 *   2    1     flags      bit 0 SERIAL_F_RAWSTR (strings only: the string
 *                         was changed in place, OBJECT ENCODING says "raw");
 *                         every other bit 0
 *   3    1     reserved   0
 *   4    ...   body, per tag; it ends exactly at the end of the value
 *              (trailing bytes are corruption)
 *
 *   tag   name      body
 *   0x01  STR       u32 n, n bytes                          n <= 512 MB
 *   0x02  INT       i64 v                                   the string is v's
 *                                                           decimal text
 *   0x10  LIST_LP   u32 n, lpack[n]                         one node
 *   0x11  LIST_QL   u32 nodes, nodes x (u32 n, lpack[n])    head to tail,
 *                                                           nodes >= 1
 *   0x20  SET_IS    u32 n, intset[n]
 *   0x21  SET_LP    u32 n, lpack[n]                         one member each
 *   0x22  SET_HT    u64 count, count x (u32 n, member[n])   any order
 *   0x30  ZSET_LP   u32 n, lpack[n]                         m0 s0 m1 s1 ...
 *   0x31  ZSET_SL   u64 count, count x (u32 n, member[n], f64 score)
 *                                                           ascending (score,
 *                                                           member) order
 *   0x40  HASH_LP   u32 n, lpack[n]                         f0 v0 f1 v1 ...
 *   0x41  HASH_HT   u64 count, count x (u32 n, field[n], u32 m, value[m])
 *                                                           any order
 *
 *   lpack[n]  the n bytes of an lpack buffer exactly as engine/lpack.h lays
 *             it out (u32 total == n, u32 count, elements, 0xFF), itself
 *             little-endian; a sorted set's pack holds pairs in (score,
 *             member) order with each score as zset_score_text writes it
 *             (engine/t_zset.h).
 *   intset[n] the n bytes of an intset blob as engine/intset.h lays it out
 *             (u32 width 2/4/8, u32 length, ascending little-endian values).
 *
 * Compact encodings are written as their single buffer (a memcpy each way,
 * then one validation pass on decode); large ones as a count and their
 * elements. A string is a 12 + n byte copy each way. Members, fields and
 * values are binary-safe; a member of a hashtable set that is an integer is
 * its decimal text, as the set stores it.
 *
 * Compatibility: a reader of version v accepts versions <= v it knows and
 * refuses the rest; a new encoding is a new tag, never a new meaning of an
 * old one.
 * ---------------------------------------------------------------------------
 *
 * Encodings on decode. A decoded value must answer every command as the
 * original did, OBJECT ENCODING included (the key's DRAM stub reports the
 * recorded encoding while the key is cold). The type modules convert one way
 * only (compact -> large, never back in place), so:
 *  - a value recorded compact stays compact when its content is within lim's
 *    thresholds (entries, element length as text, the 1 GB pack safety size;
 *    for a list list-max-listpack-size as list_fits measures it), else it
 *    is converted as the module's next write would convert it: list
 *    listpack -> quicklist (the node kept, as list_convert_grow), intset ->
 *    hashtable, set listpack -> hashtable, zset listpack -> skiplist, hash
 *    listpack -> hashtable. Every value a module leaves compact is within
 *    the thresholds it was built under, so under the same lim nothing
 *    changes; only a lowered threshold (CONFIG SET, another server's
 *    snapshot) converts, where the module itself would at the next write;
 *  - a value recorded large stays large (the module never shrinks it
 *    either), with one exception: SERIAL_DEC_COMPACT builds every value at
 *    the smallest encoding that fits lim (intset before listpack for
 *    integer sets; a quicklist whose elements fit one listpack node becomes
 *    listpack), as the modules build a fresh value and as Redis does when it
 *    loads an RDB file. Snapshot loading may want that; demotion does not.
 * Quicklist node boundaries are kept as recorded (Redis keeps them on load
 * too); they are invisible to commands.
 *
 * Invariants (cited in the code as [Sn]):
 *  S1. Decoding reads only buf[0..len): every length is checked against what
 *      is left before it is used, every count against the least number of
 *      bytes its elements take, so no loop runs and no allocation is sized
 *      beyond what len can hold.
 *  S2. A decoded value satisfies its module's invariants: lpack and intset
 *      buffers pass lp_validate / intset_validate (deep); no string element
 *      of a set, hash or sorted-set pack is the canonical text of an integer
 *      (lpack invariant 2, on which integer lookups rely); no duplicate
 *      member or field; sorted-set pairs strictly ordered, scores never NaN;
 *      no empty collection (the keyspace deletes those).
 *  S3. On any error everything built so far is freed and *out is NULL.
 *  S4. encode(decode(x)) == x for every value encode can produce, decoded
 *      under the lim it was built with: byte for byte, except that the
 *      members of SET_HT and the pairs of HASH_HT may come in another order
 *      (a dict's iteration order depends on its seed and history).
 *
 * Threads: none of its own, no state. The caller holds the shard lock of the
 * entry it encodes; decoding touches nothing shared.
 *
 * Durability: none here; the record and the tier make the bytes durable.
 *
 * References: Redis 7.2 src/rdb.c (rdbSaveObject / rdbLoadObject: compact
 * encodings stored as blobs, deep integrity validation of untrusted blobs,
 * conversion on load); docs/formats.md.
 */
#include "engine/serial.h"

#include <endian.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "engine/err.h"
#include "engine/intset.h"
#include "engine/lpack.h"
#include "engine/t_hash.h"
#include "engine/t_list.h"
#include "engine/t_set.h"
#include "engine/t_zset.h"
#include "engine/util.h"

/* The modules' limits that tlimits.h does not carry: Redis's 1 GB listpack
 * safety size (t_hash.c, t_set.c, t_zset.c) and intset cap (t_set.c). */
#define SER_LP_SAFETY (1ull << 30)
#define SER_INTSET_HARD_MAX (1u << 30)
/* Least bytes one element of a body takes: a counted string (u32 length),
 * a sorted-set member (u32 + f64), a hash pair (two u32), a list node (u32
 * length + an lpack of one element: header, 2-byte element, end marker). */
#define SER_MIN_STR 4u
#define SER_MIN_ZEL 12u
#define SER_MIN_PAIR 8u
#define SER_MIN_NODE (4u + LP_HDR + 3u)
/* zzl_score reads at most this many bytes of a score's text. */
#define SER_SCORE_MAX 127u

/* ------------------------------------------------------------------------ */
/* Little-endian fields                                                     */
/* ------------------------------------------------------------------------ */

static inline void put_u32(unsigned char *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static inline void put_u64(unsigned char *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
}

static inline uint32_t get_u32(const unsigned char *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return le32toh(v);
}

static inline uint64_t get_u64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return le64toh(v);
}

static inline void put_f64(unsigned char *p, double d)
{
    uint64_t v;

    memcpy(&v, &d, 8);
    put_u64(p, v);
}

static inline double get_f64(const unsigned char *p)
{
    uint64_t v = get_u64(p);
    double d;

    memcpy(&d, &v, 8);
    return d;
}

/* ------------------------------------------------------------------------ */
/* Output buffer                                                            */
/* ------------------------------------------------------------------------ */

struct wr {
    unsigned char *buf;
    size_t len, cap;
};

static int wr_init(struct wr *w, size_t cap, uint8_t tag, uint8_t flags)
{
    if (cap < SERIAL_HDR)
        cap = SERIAL_HDR;
    w->buf = malloc(cap);
    if (!w->buf)
        return ST_ENOMEM;
    w->cap = cap;
    w->buf[0] = SERIAL_VERSION;
    w->buf[1] = tag;
    w->buf[2] = flags;
    w->buf[3] = 0;
    w->len = SERIAL_HDR;
    return ST_OK;
}

/* Makes room for n more bytes (doubling). Returns 0 or ST_ENOMEM. */
static int wr_room(struct wr *w, size_t n)
{
    size_t cap;
    unsigned char *nb;

    if (w->cap - w->len >= n)
        return ST_OK;
    if (n > SIZE_MAX / 2 - w->len)
        return ST_ENOMEM;
    cap = w->cap * 2 > w->len + n ? w->cap * 2 : w->len + n;
    nb = realloc(w->buf, cap);
    if (!nb)
        return ST_ENOMEM;
    w->buf = nb;
    w->cap = cap;
    return ST_OK;
}

/* Appends: the caller made room. */
static inline void wr_u32(struct wr *w, uint32_t v)
{
    put_u32(w->buf + w->len, v);
    w->len += 4;
}

static inline void wr_u64(struct wr *w, uint64_t v)
{
    put_u64(w->buf + w->len, v);
    w->len += 8;
}

static inline void wr_bytes(struct wr *w, const void *p, size_t n)
{
    if (n)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
}

/* Appends a counted string, growing as needed. */
static int wr_str(struct wr *w, const void *p, size_t n)
{
    if (n > UINT32_MAX || wr_room(w, 4 + n) != ST_OK)
        return ST_ENOMEM;
    wr_u32(w, (uint32_t)n);
    wr_bytes(w, p, n);
    return ST_OK;
}

static void wr_done(struct wr *w, void **out, size_t *len)
{
    *out = w->buf;
    *len = w->len;
    w->buf = NULL;
}

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */
/* ------------------------------------------------------------------------ */

/* A body that is one buffer: u32 n, blob[n]. */
static int enc_blob(uint8_t tag, const void *blob, size_t n, void **out, size_t *len)
{
    struct wr w;

    if (n > UINT32_MAX)
        return ST_EINVAL;
    if (wr_init(&w, SERIAL_HDR + 4 + n, tag, 0) != ST_OK)
        return ST_ENOMEM;
    wr_u32(&w, (uint32_t)n);
    wr_bytes(&w, blob, n);
    wr_done(&w, out, len);
    return ST_OK;
}

static int enc_string(const struct entry *e, void **out, size_t *len)
{
    uint8_t flags = (e->flags & ENTRY_F_RAWSTR) ? SERIAL_F_RAWSTR : 0;
    struct wr w;

    if (e->enc == ENC_INT) {
        if (wr_init(&w, SERIAL_HDR + 8, SERIAL_T_INT, flags) != ST_OK)
            return ST_ENOMEM;
        wr_u64(&w, (uint64_t)entry_int(e));
    } else if (e->enc == ENC_RAW) {
        if (wr_init(&w, SERIAL_HDR + 4 + (size_t)e->vlen, SERIAL_T_STR, flags) != ST_OK)
            return ST_ENOMEM;
        wr_u32(&w, e->vlen);
        wr_bytes(&w, entry_cval(e), e->vlen);
    } else {
        return ST_EINVAL;
    }
    wr_done(&w, out, len);
    return ST_OK;
}

static int enc_list(const struct list *l, void **out, size_t *len)
{
    size_t size = SERIAL_HDR + 4;
    struct wr w;

    if (l->count == 0 || !l->head)
        return ST_EINVAL;
    if (!l->quick)
        return enc_blob(SERIAL_T_LIST_LP, l->head->lp, lp_bytes(l->head->lp), out, len);
    for (const struct list_node *n = l->head; n; n = n->next)
        size += 4 + (size_t)lp_bytes(n->lp);
    if (wr_init(&w, size, SERIAL_T_LIST_QL, 0) != ST_OK)
        return ST_ENOMEM;
    wr_u32(&w, l->nnodes);
    for (const struct list_node *n = l->head; n; n = n->next) {
        wr_u32(&w, lp_bytes(n->lp));
        wr_bytes(&w, n->lp, lp_bytes(n->lp));
    }
    wr_done(&w, out, len);
    return ST_OK;
}

static int enc_set(struct set *s, void **out, size_t *len)
{
    enum set_enc enc = set_encoding(s);
    uint64_t n = set_len(s), i = 0;
    struct set_it it;
    const unsigned char *m;
    size_t mlen;
    unsigned char buf[UTIL_LLSTR_SIZE];
    struct wr w;

    if (n == 0)
        return ST_EINVAL;
    if (enc != SET_ENC_HT) {
        size_t bl;
        const void *b = set_blob(s, &bl);
        return enc_blob(enc == SET_ENC_INTSET ? SERIAL_T_SET_IS : SERIAL_T_SET_LP, b, bl, out, len);
    }
    if (wr_init(&w, SERIAL_HDR + 8 + n * 16, SERIAL_T_SET_HT, 0) != ST_OK)
        return ST_ENOMEM;
    wr_u64(&w, n);
    set_it_init(&it, s);
    while (i < n && set_it_next(&it, &m, &mlen, buf)) {
        if (wr_str(&w, m, mlen) != ST_OK) {
            set_it_done(&it);
            free(w.buf);
            return ST_ENOMEM;
        }
        i++;
    }
    set_it_done(&it);
    put_u64(w.buf + SERIAL_HDR, i); /* == n unless the set lied about its size */
    wr_done(&w, out, len);
    return ST_OK;
}

static int enc_zset(void *zs, void **out, size_t *len)
{
    uint64_t n = zset_len(zs), i = 0;
    struct zset_it it;
    struct zset_elem el;
    struct wr w;

    if (n == 0)
        return ST_EINVAL;
    if (zset_is_lp(zs))
        return enc_blob(SERIAL_T_ZSET_LP, zs, lp_bytes(zs), out, len);
    if (wr_init(&w, SERIAL_HDR + 8 + n * 28, SERIAL_T_ZSET_SL, 0) != ST_OK)
        return ST_ENOMEM;
    wr_u64(&w, n);
    zset_it_rank(&it, zs, 0, 0);
    while (i < n && zset_it_next(&it, &el)) {
        if (wr_str(&w, el.m, el.len) != ST_OK || wr_room(&w, 8) != ST_OK) {
            free(w.buf);
            return ST_ENOMEM;
        }
        put_f64(w.buf + w.len, el.score);
        w.len += 8;
        i++;
    }
    put_u64(w.buf + SERIAL_HDR, i);
    wr_done(&w, out, len);
    return ST_OK;
}

static int enc_hash(void *h, void **out, size_t *len)
{
    uint64_t n = hash_len(h), i = 0;
    struct hash_iter it;
    struct wr w;

    if (n == 0)
        return ST_EINVAL;
    if (hash_is_lp(h)) {
        unsigned char *lp = hash_lp(h);
        return enc_blob(SERIAL_T_HASH_LP, lp, lp_bytes(lp), out, len);
    }
    if (wr_init(&w, SERIAL_HDR + 8 + n * 32, SERIAL_T_HASH_HT, 0) != ST_OK)
        return ST_ENOMEM;
    wr_u64(&w, n);
    hash_iter_init(&it, h);
    while (i < n && hash_iter_next(&it)) {
        if (wr_str(&w, it.f.p, it.f.len) != ST_OK || wr_str(&w, it.v.p, it.v.len) != ST_OK) {
            hash_iter_done(&it);
            free(w.buf);
            return ST_ENOMEM;
        }
        i++;
    }
    hash_iter_done(&it);
    put_u64(w.buf + SERIAL_HDR, i);
    wr_done(&w, out, len);
    return ST_OK;
}

int serial_encode(const struct entry *e, void **out, size_t *len)
{
    int rc;

    if (!out || !len)
        return ST_EINVAL;
    *out = NULL;
    *len = 0;
    if (!e)
        return ST_EINVAL;
    if (e->type == OBJ_STRING)
        return enc_string(e, out, len);
    if (e->enc != ENC_PTR)
        return ST_EINVAL; /* a tier stub, or a collection without its object */
    switch (e->type) {
    case OBJ_LIST:
        rc = enc_list(entry_ptr(e), out, len);
        break;
    case OBJ_SET:
        rc = enc_set(entry_ptr(e), out, len);
        break;
    case OBJ_ZSET:
        rc = enc_zset(entry_ptr(e), out, len);
        break;
    case OBJ_HASH:
        rc = enc_hash(entry_ptr(e), out, len);
        break;
    default:
        rc = ST_EINVAL;
        break;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Bounded reader [S1]                                                      */
/* ------------------------------------------------------------------------ */

struct rd {
    const unsigned char *p, *end;
};

static inline size_t rd_left(const struct rd *r)
{
    return (size_t)(r->end - r->p);
}

static inline int rd_u32(struct rd *r, uint32_t *v)
{
    if (rd_left(r) < 4)
        return ST_ECORRUPT;
    *v = get_u32(r->p);
    r->p += 4;
    return ST_OK;
}

static inline int rd_u64(struct rd *r, uint64_t *v)
{
    if (rd_left(r) < 8)
        return ST_ECORRUPT;
    *v = get_u64(r->p);
    r->p += 8;
    return ST_OK;
}

static inline int rd_bytes(struct rd *r, size_t n, const unsigned char **p)
{
    if (rd_left(r) < n)
        return ST_ECORRUPT;
    *p = r->p;
    r->p += n;
    return ST_OK;
}

/* A counted string: u32 n, n bytes. */
static inline int rd_str(struct rd *r, const unsigned char **p, size_t *n)
{
    uint32_t l;

    if (rd_u32(r, &l) != ST_OK)
        return ST_ECORRUPT;
    *n = l;
    return rd_bytes(r, l, p);
}

/* A u64 count of elements each taking at least min bytes [S1]. */
static int rd_count(struct rd *r, unsigned min, uint64_t *count)
{
    if (rd_u64(r, count) != ST_OK || *count == 0 || *count > rd_left(r) / min)
        return ST_ECORRUPT;
    return ST_OK;
}

/* Copies a u32-counted blob into a new allocation (*blob owned), size in *n. */
static int rd_blob(struct rd *r, unsigned char **blob, size_t *n)
{
    const unsigned char *p;
    uint32_t l;

    if (rd_u32(r, &l) != ST_OK || rd_bytes(r, l, &p) != ST_OK)
        return ST_ECORRUPT;
    *blob = malloc(l ? l : 1);
    if (!*blob)
        return ST_ENOMEM;
    memcpy(*blob, p, l);
    *n = l;
    return ST_OK;
}

/* ------------------------------------------------------------------------ */
/* Pack checks [S2]                                                         */
/* ------------------------------------------------------------------------ */

/* Decimal digits (and sign) of v: its text length. */
static size_t int_text_len(int64_t v)
{
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t n = v < 0 ? 2 : 1;

    while (u >= 10) {
        u /= 10;
        n++;
    }
    return n;
}

/* Checks one pack element against lpack invariant 2 and returns its text
 * length in *tlen. 0 or ST_ECORRUPT. */
static int elem_check(const struct lp_val *v, size_t *tlen)
{
    long long dummy;

    if (!v->s) {
        *tlen = int_text_len(v->i);
        return ST_OK;
    }
    if (v->len > 0 && v->len <= 20 && util_str2ll((const char *)v->s, v->len, &dummy) == ST_OK)
        return ST_ECORRUPT;
    *tlen = v->len;
    return ST_OK;
}

/* A set of pack elements seen so far (duplicate detection): open addressing
 * over (hash, element); an element is an int or a string, and by lpack
 * invariant 2 (checked first) the two never denote the same member. */
struct seen_slot {
    const unsigned char *s; /* NULL: the int i */
    int64_t i;
    uint64_t h;
    uint32_t len;
    uint32_t used;
};

#define SEEN_STACK 64

struct seen {
    struct seen_slot *t;
    uint64_t mask;
    struct seen_slot stack[SEEN_STACK];
};

/* Room for n elements (n is bounded by a validated pack's size [S1]). */
static int seen_init(struct seen *st, uint64_t n)
{
    uint64_t size = 16;

    while (size < n * 2)
        size <<= 1;
    if (size <= SEEN_STACK) {
        st->t = st->stack;
        memset(st->stack, 0, sizeof(st->stack));
        size = SEEN_STACK;
    } else {
        st->t = calloc(size, sizeof(*st->t));
        if (!st->t)
            return ST_ENOMEM;
    }
    st->mask = size - 1;
    return ST_OK;
}

static void seen_deinit(struct seen *st)
{
    if (st->t != st->stack)
        free(st->t);
}

/* Adds v; returns 1 when new, 0 when already seen. */
static int seen_add(struct seen *st, const struct lp_val *v)
{
    uint64_t h = v->s ? XXH3_64bits(v->s, v->len) : XXH3_64bits(&v->i, sizeof(v->i)) ^ 0x5bd1e995ull;

    for (uint64_t i = h & st->mask;; i = (i + 1) & st->mask) {
        struct seen_slot *sl = &st->t[i];

        if (!sl->used) {
            sl->used = 1;
            sl->h = h;
            sl->s = v->s;
            sl->i = v->i;
            sl->len = v->len;
            return 1;
        }
        if (sl->h != h || (sl->s == NULL) != (v->s == NULL))
            continue;
        if (v->s ? (sl->len == v->len && memcmp(sl->s, v->s, v->len) == 0) : sl->i == v->i)
            return 0;
    }
}

/* What a walk over a valid pack found. */
struct pack_info {
    uint64_t n;     /* elements */
    size_t maxlen;  /* longest element as text (sets, hashes) or member (zsets) */
    int all_int;    /* every element an integer (sets) */
};

/* Checks a validated, non-empty pack of a set (stride 1: every element a
 * member) or a hash (stride 2: fields at even positions, values at odd):
 * invariant 2 for every element, no duplicate member / field. */
static int pack_check(unsigned char *lp, unsigned stride, struct pack_info *pi)
{
    struct seen st;
    uint64_t k = 0;
    int rc = ST_OK;

    pi->n = lp_count(lp);
    pi->maxlen = 0;
    pi->all_int = 1;
    if (pi->n == 0 || pi->n % stride)
        return ST_ECORRUPT;
    if (seen_init(&st, pi->n / stride) != ST_OK)
        return ST_ENOMEM;
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p), k++) {
        struct lp_val v;
        size_t tl;

        lp_get(p, &v);
        if (elem_check(&v, &tl) != ST_OK) {
            rc = ST_ECORRUPT;
            break;
        }
        if (tl > pi->maxlen)
            pi->maxlen = tl;
        if (v.s)
            pi->all_int = 0;
        if (k % stride == 0 && !seen_add(&st, &v)) {
            rc = ST_ECORRUPT;
            break;
        }
    }
    seen_deinit(&st);
    return rc;
}

/* The score a sorted-set pack stores at v, checked to be what
 * zset_score_text writes: an integer exactly representable within +-2^62,
 * or the text of a non-NaN double that is not such an integer. */
static int score_check(const struct lp_val *v, double *score)
{
    const double lim = (double)(LLONG_MAX / 2);
    double d;

    if (!v->s) {
        d = (double)v->i;
        if (d < -lim || d > lim || (int64_t)d != v->i)
            return ST_ECORRUPT;
        *score = d;
        return ST_OK;
    }
    if (v->len > SER_SCORE_MAX || util_str2d((const char *)v->s, v->len, &d) != ST_OK)
        return ST_ECORRUPT;
    if (d >= -lim && d <= lim && (double)(long long)d == d)
        return ST_ECORRUPT;
    *score = d;
    return ST_OK;
}

/* Checks a validated pack of a sorted set: pairs (member, score), members
 * satisfying invariant 2 and distinct, scores as score_check, pairs in
 * strictly ascending (score, member) order. */
static int zpack_check(unsigned char *lp, struct pack_info *pi)
{
    unsigned char bufs[2][UTIL_LLSTR_SIZE];
    const unsigned char *pm = NULL;
    size_t pl = 0;
    double ps = 0;
    struct seen st;
    uint64_t k = 0;
    int rc = ST_OK;

    pi->n = lp_count(lp);
    pi->maxlen = 0;
    pi->all_int = 0;
    if (pi->n == 0 || pi->n % 2)
        return ST_ECORRUPT;
    if (seen_init(&st, pi->n / 2) != ST_OK)
        return ST_ENOMEM;
    for (unsigned char *p = lp_first(lp); p; k++) {
        struct lp_val mv, sv;
        unsigned char *sp = lp_next(lp, p);
        const unsigned char *m;
        size_t tl, ml;
        double s;

        lp_get(p, &mv);
        if (!sp || elem_check(&mv, &tl) != ST_OK || !seen_add(&st, &mv)) {
            rc = ST_ECORRUPT;
            break;
        }
        lp_get(sp, &sv);
        if (score_check(&sv, &s) != ST_OK) {
            rc = ST_ECORRUPT;
            break;
        }
        if (tl > pi->maxlen)
            pi->maxlen = tl;
        m = lp_val_str(&mv, bufs[k & 1], &ml);
        if (k > 0 && !(ps < s || (ps == s && zset_memcmp(pm, pl, m, ml) < 0))) {
            rc = ST_ECORRUPT;
            break;
        }
        pm = m;
        pl = ml;
        ps = s;
        p = lp_next(lp, sp);
    }
    seen_deinit(&st);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Element sources: the members (or fields and values) of a checked pack,   */
/* an intset, or a counted body, one string at a time                       */
/* ------------------------------------------------------------------------ */

enum src_kind { SRC_PACK, SRC_INTSET, SRC_BODY };

struct src {
    enum src_kind kind;
    unsigned char *lp, *p;      /* pack */
    const struct intset *is;    /* intset */
    uint32_t idx;
    struct rd *r;               /* body: counted strings */
    uint64_t left;
    unsigned char buf[2][UTIL_LLSTR_SIZE]; /* integers as text, two alive at once */
    unsigned flip;
};

static void src_pack(struct src *s, unsigned char *lp)
{
    memset(s, 0, sizeof(*s));
    s->kind = SRC_PACK;
    s->lp = lp;
    s->p = lp_first(lp);
}

static void src_intset(struct src *s, const struct intset *is)
{
    memset(s, 0, sizeof(*s));
    s->kind = SRC_INTSET;
    s->is = is;
}

static void src_body(struct src *s, struct rd *r, uint64_t strings)
{
    memset(s, 0, sizeof(*s));
    s->kind = SRC_BODY;
    s->r = r;
    s->left = strings;
}

/* The next string: 1 and *m and *len, 0 at the end, ST_ECORRUPT when a body is
 * short [S1]. *m stays valid until the second call after this one. */
static int src_next(struct src *s, const unsigned char **m, size_t *len)
{
    unsigned char *b = s->buf[s->flip++ & 1];

    switch (s->kind) {
    case SRC_PACK: {
        struct lp_val v;

        if (!s->p)
            return 0;
        lp_get(s->p, &v);
        s->p = lp_next(s->lp, s->p);
        *m = lp_val_str(&v, b, len);
        return 1;
    }
    case SRC_INTSET: {
        int64_t v;

        if (intset_get(s->is, s->idx, &v) != ST_OK)
            return 0;
        s->idx++;
        *len = (size_t)util_ll2str((char *)b, v);
        *m = b;
        return 1;
    }
    default:
        if (s->left == 0)
            return 0;
        s->left--;
        return rd_str(s->r, m, len) == ST_OK ? 1 : ST_ECORRUPT;
    }
}

/* ------------------------------------------------------------------------ */
/* Decoding, per type                                                       */
/* ------------------------------------------------------------------------ */

struct dec {
    const struct type_limits *lim;
    unsigned flags;
    uint64_t seed;
};

/* Turns a checked-out pack blob into a list node (blob taken). */
static int list_link_blob(struct list *l, unsigned char *blob, size_t n)
{
    struct list_node *node;

    if (!lp_validate(blob, n) || lp_count(blob) == 0) {
        free(blob);
        return ST_ECORRUPT;
    }
    node = malloc(sizeof(*node));
    if (!node) {
        free(blob);
        return ST_ENOMEM;
    }
    node->lp = blob;
    node->next = NULL;
    node->prev = l->tail;
    if (l->tail)
        l->tail->next = node;
    else
        l->head = node;
    l->tail = node;
    l->nnodes++;
    l->count += lp_count(blob);
    return ST_OK;
}

/* Whether l would be a listpack under fill: the test list_convert_grow
 * makes before an RPUSH of all l's elements into an empty key, with each
 * element counted at the smaller of its encoded size and its text length.
 * t_list.c checks a node's real size plus the text of what is being added,
 * so every listpack list it ever leaves passes this test under the limit it
 * was built with (removals only lower the sum): a recorded listpack stays
 * one under the same limit, and is converted only when the limit shrank. */
static int list_fits(struct list *l, int32_t fill)
{
    uint64_t sz = 0;
    struct list tmp;

    for (struct list_node *n = l->head; n; n = n->next) {
        unsigned char *end = n->lp + lp_bytes(n->lp) - 1;
        for (unsigned char *p = lp_first(n->lp); p;) {
            unsigned char *next = lp_next(n->lp, p);
            uint64_t esz = (uint64_t)((next ? next : end) - p);
            struct lp_val v;
            size_t tl;

            lp_get(p, &v);
            tl = v.s ? v.len : int_text_len(v.i);
            sz += esz < tl ? esz : tl;
            p = next;
        }
    }
    if (sz > SIZE_MAX / 2)
        return 0;
    memset(&tmp, 0, sizeof(tmp));
    list_convert_grow(&tmp, l->count, (size_t)sz, fill);
    return !tmp.quick;
}

/* SERIAL_DEC_COMPACT on a quicklist that list_fits: one listpack node.
 * Failure to allocate leaves the list as it is (a valid quicklist). */
static void list_compact(struct list *l)
{
    uint64_t bytes = LP_HDR + 1, k = 0;
    struct lp_val *vals;
    unsigned char *lp, *nlp;

    if (l->nnodes == 1) {
        l->quick = 0;
        return;
    }
    for (const struct list_node *n = l->head; n; n = n->next)
        bytes += lp_bytes(n->lp) - (LP_HDR + 1);
    if (bytes > UINT32_MAX || l->count > UINT32_MAX)
        return;
    vals = malloc(l->count * sizeof(*vals));
    lp = lp_create();
    if (!vals || !lp)
        goto out;
    for (const struct list_node *n = l->head; n; n = n->next)
        for (unsigned char *p = lp_first(n->lp); p; p = lp_next(n->lp, p))
            lp_get(p, &vals[k++]);
    nlp = lp_append_many(lp, vals, k);
    if (!nlp)
        goto out;
    lp = nlp;
    while (l->head->next) {
        struct list_node *n = l->head->next;
        l->head->next = n->next;
        lp_destroy(n->lp);
        free(n);
    }
    lp_destroy(l->head->lp);
    l->head->lp = lp;
    lp = NULL;
    l->tail = l->head;
    l->nnodes = 1;
    l->quick = 0;
out:
    free(vals);
    lp_destroy(lp);
}

static int dec_list(struct rd *r, uint8_t tag, const struct dec *d, void **obj)
{
    struct list *l = list_create();
    uint32_t nodes = 1;
    int rc = ST_OK;

    if (!l)
        return ST_ENOMEM;
    if (tag == SERIAL_T_LIST_QL &&
        (rd_u32(r, &nodes) != ST_OK || nodes == 0 || nodes > rd_left(r) / SER_MIN_NODE)) {
        rc = ST_ECORRUPT;
        goto fail;
    }
    for (uint32_t i = 0; i < nodes; i++) {
        unsigned char *blob;
        size_t n;

        rc = rd_blob(r, &blob, &n);
        if (rc == ST_OK)
            rc = list_link_blob(l, blob, n);
        if (rc != ST_OK)
            goto fail;
    }
    /* a listpack past the limit becomes a quicklist keeping its node, as
     * list_convert_grow does before the next push */
    l->quick = 1;
    if ((tag == SERIAL_T_LIST_LP || (d->flags & SERIAL_DEC_COMPACT)) && list_fits(l, d->lim->list_max_lp_size))
        list_compact(l);
    *obj = l;
    return ST_OK;
fail:
    list_destroy(l);
    return rc;
}

static uint64_t intset_cap(const struct type_limits *lim)
{
    return lim->set_max_intset_entries < SER_INTSET_HARD_MAX ? lim->set_max_intset_entries : SER_INTSET_HARD_MAX;
}

/* The encoding SERIAL_DEC_COMPACT gives a set of n members, all integers or
 * not, the longest maxlen bytes as text. */
static enum set_enc set_smallest(uint64_t n, int all_int, size_t maxlen, const struct type_limits *lim)
{
    if (all_int && n <= intset_cap(lim))
        return SET_ENC_INTSET;
    if (n <= lim->set_max_lp_entries && maxlen <= lim->set_max_lp_value)
        return SET_ENC_LISTPACK;
    return SET_ENC_HT;
}

/* Builds a set of encoding enc (converting on the way as set_add does) from
 * the members of src. A member already there is corruption [S2]. */
static int set_build(struct src *src, enum set_enc enc, const struct dec *d, struct set **out)
{
    struct set *s = set_create(enc, d->seed);
    const unsigned char *m;
    size_t len;
    int rc;

    if (!s)
        return ST_ENOMEM;
    while ((rc = src_next(src, &m, &len)) == 1) {
        rc = set_add(&s, m, len, d->lim, d->seed);
        if (rc != 1) {
            rc = rc == 0 ? ST_ECORRUPT : rc;
            break;
        }
    }
    if (rc != 0 || set_len(s) == 0) {
        set_destroy(s);
        return rc != 0 ? rc : ST_ECORRUPT;
    }
    *out = s;
    return ST_OK;
}

static int dec_set_intset(struct rd *r, const struct dec *d, struct set **out)
{
    unsigned char *blob;
    size_t n;
    uint32_t count;
    enum set_enc enc = SET_ENC_INTSET;
    struct src src;
    int rc = rd_blob(r, &blob, &n);

    if (rc != ST_OK)
        return rc;
    if (!intset_validate(blob, n, 1) || intset_len((struct intset *)blob) == 0) {
        free(blob);
        return ST_ECORRUPT;
    }
    count = intset_len((struct intset *)blob);
    if (count > intset_cap(d->lim)) {
        enc = SET_ENC_HT; /* as set_add past the intset limit */
        if (d->flags & SERIAL_DEC_COMPACT) {
            const struct intset *is = (const struct intset *)blob;
            size_t a = int_text_len(intset_min(is)), b = int_text_len(intset_max(is));
            enc = set_smallest(count, 0, a > b ? a : b, d->lim);
        }
    } else {
        *out = set_from_blob(SET_ENC_INTSET, blob);
        return ST_OK;
    }
    src_intset(&src, (const struct intset *)blob);
    rc = set_build(&src, enc, d, out);
    free(blob);
    return rc;
}

static int dec_set_lp(struct rd *r, const struct dec *d, struct set **out)
{
    unsigned char *blob;
    size_t n;
    struct pack_info pi;
    enum set_enc enc = SET_ENC_LISTPACK;
    struct src src;
    int rc = rd_blob(r, &blob, &n);

    if (rc != ST_OK)
        return rc;
    if (!lp_validate(blob, n)) {
        free(blob);
        return ST_ECORRUPT;
    }
    rc = pack_check(blob, 1, &pi);
    if (rc != ST_OK) {
        free(blob);
        return rc;
    }
    if (d->flags & SERIAL_DEC_COMPACT)
        enc = set_smallest(pi.n, pi.all_int, pi.maxlen, d->lim);
    else if (pi.n > d->lim->set_max_lp_entries || pi.maxlen > d->lim->set_max_lp_value)
        enc = SET_ENC_HT; /* as set_add past the listpack limits */
    if (enc == SET_ENC_LISTPACK && n > SER_LP_SAFETY)
        enc = SET_ENC_HT;
    if (enc == SET_ENC_LISTPACK) {
        *out = set_from_blob(SET_ENC_LISTPACK, blob);
        return ST_OK;
    }
    src_pack(&src, blob);
    rc = set_build(&src, enc, d, out);
    free(blob);
    return rc;
}

static int dec_set_ht(struct rd *r, const struct dec *d, struct set **out)
{
    uint64_t count;
    enum set_enc enc = SET_ENC_HT;
    struct src src;

    if (rd_count(r, SER_MIN_STR, &count) != ST_OK)
        return ST_ECORRUPT;
    if (d->flags & SERIAL_DEC_COMPACT) {
        /* a first pass for the smallest encoding that fits */
        struct rd pre = *r;
        size_t maxlen = 0;
        int all_int = 1;

        for (uint64_t i = 0; i < count; i++) {
            const unsigned char *m;
            size_t len;
            long long v;

            if (rd_str(&pre, &m, &len) != ST_OK)
                return ST_ECORRUPT;
            if (len > maxlen)
                maxlen = len;
            if (all_int && util_str2ll((const char *)m, len, &v) != ST_OK)
                all_int = 0;
        }
        enc = set_smallest(count, all_int, maxlen, d->lim);
    }
    src_body(&src, r, count);
    return set_build(&src, enc, d, out);
}

/* Builds a hash from the field, value strings of src: a hashtable from the
 * start when big, else a listpack converting as hash_set does. A field
 * already there is corruption [S2]. */
static int hash_build(struct src *src, int big, const struct hash_conf *conf, void **out)
{
    void *h = hash_create();
    const unsigned char *f, *v;
    size_t flen, vlen;
    int rc, added;

    if (!h)
        return ST_ENOMEM;
    /* hash_fit converts to a dict when an element is over the value limit:
     * SIZE_MAX always is */
    if (big && (rc = hash_fit(&h, SIZE_MAX, 0, conf)) != ST_OK)
        goto fail;
    while ((rc = src_next(src, &f, &flen)) == 1) {
        rc = src_next(src, &v, &vlen);
        if (rc != 1) {
            rc = ST_ECORRUPT;
            goto fail;
        }
        rc = hash_set(&h, f, flen, v, vlen, conf, &added);
        if (rc != ST_OK)
            goto fail;
        if (!added) {
            rc = ST_ECORRUPT;
            goto fail;
        }
    }
    if (rc != 0 || hash_len(h) == 0) {
        rc = rc != 0 ? rc : ST_ECORRUPT;
        goto fail;
    }
    *out = h;
    return ST_OK;
fail:
    hash_destroy(h);
    return rc;
}

static int dec_hash_lp(struct rd *r, const struct dec *d, const struct hash_conf *conf, void **out)
{
    unsigned char *blob;
    size_t n;
    struct pack_info pi;
    void *h;
    int rc = rd_blob(r, &blob, &n);

    if (rc != ST_OK)
        return rc;
    if (!lp_validate(blob, n)) {
        free(blob);
        return ST_ECORRUPT;
    }
    rc = pack_check(blob, 2, &pi);
    if (rc != ST_OK) {
        free(blob);
        return rc;
    }
    h = hash_from_lp(blob);
    if (pi.n / 2 > d->lim->hash_max_lp_entries || pi.maxlen > d->lim->hash_max_lp_value || n > SER_LP_SAFETY) {
        /* as hash_set past the limits; hash_fit converts whatever maxlen
         * exceeds the value limit, and SIZE_MAX always does */
        rc = hash_fit(&h, SIZE_MAX, 0, conf);
        if (rc != ST_OK) {
            hash_destroy(h);
            return rc;
        }
    }
    *out = h;
    return ST_OK;
}

static int dec_hash_ht(struct rd *r, const struct dec *d, const struct hash_conf *conf, void **out)
{
    uint64_t count;
    int big = 1;
    struct src src;

    if (rd_count(r, SER_MIN_PAIR, &count) != ST_OK)
        return ST_ECORRUPT;
    if ((d->flags & SERIAL_DEC_COMPACT) && count <= d->lim->hash_max_lp_entries) {
        struct rd pre = *r;
        size_t maxlen = 0;

        for (uint64_t i = 0; i < count * 2; i++) {
            const unsigned char *m;
            size_t len;

            if (rd_str(&pre, &m, &len) != ST_OK)
                return ST_ECORRUPT;
            if (len > maxlen)
                maxlen = len;
        }
        big = maxlen > d->lim->hash_max_lp_value;
    }
    src_body(&src, r, count * 2);
    return hash_build(&src, big, conf, out);
}

static int dec_zset_lp(struct rd *r, const struct dec *d, void **out)
{
    unsigned char *blob;
    size_t n;
    struct pack_info pi;
    void *zs;
    int rc = rd_blob(r, &blob, &n);

    if (rc != ST_OK)
        return rc;
    if (!lp_validate(blob, n)) {
        free(blob);
        return ST_ECORRUPT;
    }
    rc = zpack_check(blob, &pi);
    if (rc != ST_OK) {
        free(blob);
        return rc;
    }
    zs = blob; /* t_zset.h: a listpack set is its lpack */
    if (pi.n / 2 > d->lim->zset_max_lp_entries || pi.maxlen > d->lim->zset_max_lp_value ||
        n + 64 >= SER_LP_SAFETY) {
        rc = zset_to_big(&zs); /* as zset_add past the limits */
        if (rc != ST_OK) {
            free(blob);
            return rc;
        }
    }
    *out = zs;
    return ST_OK;
}

static int dec_zset_sl(struct rd *r, const struct dec *d, void **out)
{
    uint64_t count;
    const unsigned char *pm = NULL;
    size_t pl = 0;
    double ps = 0;
    void *zs;
    int rc = ST_OK;

    if (rd_count(r, SER_MIN_ZEL, &count) != ST_OK)
        return ST_ECORRUPT;
    /* a skiplist whatever lim says */
    zs = (d->flags & SERIAL_DEC_SEED) ? zset_create_big_seeded(d->seed) : zset_create(UINT64_MAX, 0, d->lim);
    if (!zs)
        return ST_ENOMEM;
    for (uint64_t i = 0; i < count; i++) {
        const unsigned char *m, *sp;
        size_t ml;
        double s;
        int of;

        if (rd_str(r, &m, &ml) != ST_OK || rd_bytes(r, 8, &sp) != ST_OK) {
            rc = ST_ECORRUPT;
            break;
        }
        s = get_f64(sp);
        if (isnan(s) || (i > 0 && !(ps < s || (ps == s && zset_memcmp(pm, pl, m, ml) < 0)))) {
            rc = ST_ECORRUPT;
            break;
        }
        rc = zset_add(&zs, d->lim, s, m, ml, ZSET_IN_NX, &of, NULL);
        if (rc != ST_OK || !(of & ZSET_OUT_ADDED)) {
            rc = rc == ST_ENOMEM ? ST_ENOMEM : ST_ECORRUPT;
            break;
        }
        pm = m;
        pl = ml;
        ps = s;
    }
    if (rc != ST_OK) {
        zset_destroy(zs);
        return rc;
    }
    if (d->flags & SERIAL_DEC_COMPACT)
        (void)zset_shrink_if_fits(&zs, d->lim); /* out of memory: stays a (valid) skiplist */
    *out = zs;
    return ST_OK;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */
/* ------------------------------------------------------------------------ */

static int dec_string(struct rd *r, uint8_t tag, uint8_t flags, const char *key, uint32_t klen,
                      int64_t expire_ms, struct entry **out)
{
    struct entry *e;

    if (tag == SERIAL_T_INT) {
        uint64_t v;

        if (rd_u64(r, &v) != ST_OK || rd_left(r) != 0)
            return ST_ECORRUPT;
        e = entry_create(key, klen, OBJ_STRING, ENC_INT, 8, expire_ms);
        if (!e)
            return ST_ENOMEM;
        entry_set_int(e, (int64_t)v);
    } else {
        const unsigned char *p;
        size_t n;
        long long iv;

        if (rd_str(r, &p, &n) != ST_OK || rd_left(r) != 0 || n > ENTRY_MAX_VLEN)
            return ST_ECORRUPT;
        if (!(flags & SERIAL_F_RAWSTR) && n <= 20 && util_str2ll((const char *)p, n, &iv) == ST_OK) {
            /* entry.h invariant 2 the other way: a fresh string that is an
             * integer is held as one (entry_create_str) */
            e = entry_create(key, klen, OBJ_STRING, ENC_INT, 8, expire_ms);
            if (!e)
                return ST_ENOMEM;
            entry_set_int(e, iv);
        } else {
            e = entry_create(key, klen, OBJ_STRING, ENC_RAW, (uint32_t)n, expire_ms);
            if (!e)
                return ST_ENOMEM;
            if (n)
                memcpy(entry_val(e), p, n);
        }
    }
    if (flags & SERIAL_F_RAWSTR)
        e->flags |= ENTRY_F_RAWSTR;
    *out = e;
    return ST_OK;
}

static void obj_free(uint8_t type, void *obj)
{
    switch (type) {
    case OBJ_LIST:
        list_destroy(obj);
        break;
    case OBJ_SET:
        set_destroy(obj);
        break;
    case OBJ_ZSET:
        zset_destroy(obj);
        break;
    case OBJ_HASH:
        hash_destroy(obj);
        break;
    default:
        break;
    }
}

static int known_tag(uint8_t tag)
{
    switch (tag) {
    case SERIAL_T_STR:
    case SERIAL_T_INT:
    case SERIAL_T_LIST_LP:
    case SERIAL_T_LIST_QL:
    case SERIAL_T_SET_IS:
    case SERIAL_T_SET_LP:
    case SERIAL_T_SET_HT:
    case SERIAL_T_ZSET_LP:
    case SERIAL_T_ZSET_SL:
    case SERIAL_T_HASH_LP:
    case SERIAL_T_HASH_HT:
        return 1;
    default:
        return 0;
    }
}

/* Checks the header; returns the tag or ST_ECORRUPT. */
static int hdr_check(const unsigned char *p, size_t len)
{
    uint8_t tag, flags;

    if (len < SERIAL_HDR || p[0] != SERIAL_VERSION || p[3] != 0)
        return ST_ECORRUPT;
    tag = p[1];
    flags = p[2];
    if (!known_tag(tag))
        return ST_ECORRUPT;
    if (flags & ~(unsigned)((tag >> 4) == OBJ_STRING ? SERIAL_F_RAWSTR : 0))
        return ST_ECORRUPT;
    return tag;
}

int serial_decode_ex(uint8_t type, const void *buf, size_t len, const char *key, uint32_t klen, int64_t expire_ms,
                     const struct type_limits *lim, const struct serial_dec_opts *opts, struct entry **out)
{
    const unsigned char *p = buf;
    struct rd r;
    struct dec d;
    struct hash_conf hconf;
    struct entry *e;
    void *obj = NULL;
    int tag, rc;

    if (!out)
        return ST_EINVAL;
    *out = NULL;
    if ((!buf && len) || !lim || (!key && klen))
        return ST_EINVAL;
    tag = hdr_check(p, len);
    if (tag < 0)
        return tag;
    if ((unsigned)tag >> 4 != type)
        return ST_ECORRUPT;
    r.p = p + SERIAL_HDR;
    r.end = p + len;
    if (type == OBJ_STRING)
        return dec_string(&r, (uint8_t)tag, p[2], key, klen, expire_ms, out);

    d.lim = lim;
    d.flags = opts ? opts->flags : 0;
    d.seed = 0;
    if (type == OBJ_SET || type == OBJ_HASH) /* a zset's dict seeds itself unless SERIAL_DEC_SEED */
        d.seed = (d.flags & SERIAL_DEC_SEED) ? opts->seed : zset_dict_seed(buf);
    else if (type == OBJ_ZSET && (d.flags & SERIAL_DEC_SEED))
        d.seed = opts->seed;
    switch (tag) {
    case SERIAL_T_LIST_LP:
    case SERIAL_T_LIST_QL:
        rc = dec_list(&r, (uint8_t)tag, &d, &obj);
        break;
    case SERIAL_T_SET_IS:
        rc = dec_set_intset(&r, &d, (struct set **)&obj);
        break;
    case SERIAL_T_SET_LP:
        rc = dec_set_lp(&r, &d, (struct set **)&obj);
        break;
    case SERIAL_T_SET_HT:
        rc = dec_set_ht(&r, &d, (struct set **)&obj);
        break;
    case SERIAL_T_ZSET_LP:
        rc = dec_zset_lp(&r, &d, &obj);
        break;
    case SERIAL_T_ZSET_SL:
        rc = dec_zset_sl(&r, &d, &obj);
        break;
    case SERIAL_T_HASH_LP:
        hash_conf_init(&hconf, lim, d.seed);
        rc = dec_hash_lp(&r, &d, &hconf, &obj);
        break;
    case SERIAL_T_HASH_HT:
        hash_conf_init(&hconf, lim, d.seed);
        rc = dec_hash_ht(&r, &d, &hconf, &obj);
        break;
    default:
        rc = ST_ECORRUPT;
        break;
    }
    if (rc != ST_OK)
        return rc;
    if (rd_left(&r) != 0) {
        obj_free(type, obj); /* trailing bytes */
        return ST_ECORRUPT;
    }
    e = entry_create(key, klen, type, ENC_PTR, sizeof(void *), expire_ms);
    if (!e) {
        obj_free(type, obj);
        return ST_ENOMEM;
    }
    entry_set_ptr(e, obj);
    *out = e;
    return ST_OK;
}

int serial_decode(uint8_t type, const void *buf, size_t len, const char *key, uint32_t klen, int64_t expire_ms,
                  const struct type_limits *lim, struct entry **out)
{
    return serial_decode_ex(type, buf, len, key, klen, expire_ms, lim, NULL, out);
}

/* ------------------------------------------------------------------------ */
/* Peeking                                                                  */
/* ------------------------------------------------------------------------ */

int serial_peek(const void *buf, size_t len, struct serial_info *info)
{
    const unsigned char *p = buf;
    struct serial_info tmp;
    struct rd r;
    uint32_t n;
    const unsigned char *b;
    int tag;

    if (!buf)
        return ST_ECORRUPT;
    tag = hdr_check(p, len);
    if (tag < 0)
        return tag;
    if (!info)
        info = &tmp;
    info->type = (uint8_t)((unsigned)tag >> 4);
    info->tag = (uint8_t)tag;
    info->flags = p[2];
    info->count = 0;
    r.p = p + SERIAL_HDR;
    r.end = p + len;
    switch (tag) {
    case SERIAL_T_INT:
        info->count = 8;
        info->encoding = "int";
        return rd_left(&r) == 8 ? info->type : ST_ECORRUPT;
    case SERIAL_T_STR:
        if (rd_u32(&r, &n) != ST_OK)
            return ST_ECORRUPT;
        info->count = n;
        info->encoding = (info->flags & SERIAL_F_RAWSTR) || n > 44 ? "raw" : "embstr";
        return info->type;
    case SERIAL_T_LIST_QL: {
        uint32_t nodes;

        info->encoding = "quicklist";
        if (rd_u32(&r, &nodes) != ST_OK)
            return ST_ECORRUPT;
        for (uint32_t i = 0; i < nodes; i++) {
            if (rd_u32(&r, &n) != ST_OK || n < LP_HDR || rd_bytes(&r, n, &b) != ST_OK)
                return ST_ECORRUPT;
            info->count += get_u32(b + 4);
        }
        return info->type;
    }
    case SERIAL_T_SET_HT:
    case SERIAL_T_ZSET_SL:
    case SERIAL_T_HASH_HT:
        info->encoding = tag == SERIAL_T_ZSET_SL ? "skiplist" : "hashtable";
        return rd_u64(&r, &info->count) == ST_OK ? info->type : ST_ECORRUPT;
    default: /* one blob; lpack and intset both keep their count at offset 4 */
        info->encoding = tag == SERIAL_T_SET_IS ? "intset" : "listpack";
        if (rd_u32(&r, &n) != ST_OK || n < 8 || rd_bytes(&r, n, &b) != ST_OK)
            return ST_ECORRUPT;
        info->count = get_u32(b + 4);
        if (tag == SERIAL_T_ZSET_LP || tag == SERIAL_T_HASH_LP)
            info->count /= 2;
        return info->type;
    }
}
