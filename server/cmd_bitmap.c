/*
 * cmd_bitmap.c -- the bitmap command family: SETBIT GETBIT BITCOUNT BITPOS
 * BITOP BITFIELD BITFIELD_RO, and their table cmds_bitmap[].
 *
 * What it owns: argument parsing, shard locking, keyspace calls and replies
 * for these commands. What it does not: the bit algorithms and the rules for
 * ranges, offsets, field types and overflow (engine/bitops.c, unit-tested
 * there), entries (engine/entry.c) and the keyspace (engine/keyspace.c).
 *
 * Data model: a bitmap is an ordinary string entry (TYPE string). A command
 * that writes bits first makes the entry ENC_RAW and long enough
 * (entry_resize_raw zero-fills growth and turns an ENC_INT value into its
 * text, as Redis's dbUnshareStringValue + sdsgrowzero do), then changes bytes
 * in place.
 *
 * Invariants:
 *  1. Every handler checks in Redis 7.0's order (bitops.c), so the first
 *     failing rule gives Redis's reply; in particular BITCOUNT and BITPOS
 *     look the key up before they parse their range (a missing key answers 0
 *     / -1 / 0 even with a malformed range, as in 7.0; 7.2 reports the
 *     error), and BITFIELD parses every operation before it looks at the key.
 *  2. A handler holds its keys' shard locks from the first lookup to the last
 *     write, replies before unlocking, and BITOP locks every key at once
 *     (ks_lock_keys), so it is atomic.
 *  3. Read lookups count keyspace_hits / keyspace_misses where Redis's
 *     lookupKeyRead does: GETBIT, BITCOUNT, BITPOS, BITOP's sources, and a
 *     BITFIELD / BITFIELD_RO made only of GETs.
 *  4. No string grows past min(proto-max-bulk-len, ENTRY_MAX_VLEN): offsets
 *     are checked against proto-max-bulk-len ("bit offset is not an integer or
 *     out of range"), and a limit raised above an entry's 512 MB ceiling is
 *     answered with "string exceeds maximum allowed size".
 *  5. BITOP's destination is replaced by a new raw string without a TTL (as
 *     Redis's setKey), or deleted when every source is empty or missing.
 *
 * Threads: handlers run on the worker that owns the client; the shards they
 * lock are shared with every other worker.
 *
 * Durability: none yet; a reply means the keyspace in DRAM holds the write.
 *
 * References: Redis 7.0 src/bitops.c; https://redis.io/commands/ for the
 * synopses in the table.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/bitops.h"
#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/util.h"
#include "server/client.h"
#include "server/keyargs.h"
#include "server/cmd.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/stats.h"
#include "server/worker.h"

#define RERR_BITOFFSET "ERR bit offset is not an integer or out of range"
#define RERR_BITVALUE "ERR bit is not an integer or out of range"
#define RERR_BITARG "ERR The bit argument must be 1 or 0."
#define RERR_BITOP_NOT "ERR BITOP NOT must be called with a single source key."
#define RERR_BFTYPE "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
#define RERR_BFOVERFLOW "ERR Invalid OVERFLOW type specified"
#define RERR_BFRO "ERR BITFIELD_RO only supports the GET subcommand"
#define RERR_TOOBIG "ERR string exceeds maximum allowed size (proto-max-bulk-len)"

/* Keys of BITOP that fit on the stack before malloc. */
/* BITFIELD operations that fit on the stack before malloc. */
#define BM_STACK_OPS 16

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* proto-max-bulk-len: offsets must address a byte below it. */
static uint64_t bm_max_bytes(struct client *c)
{
    long long m = cfg_load(c->srv->cfg.proto_max_bulk_len);

    return m > 0 ? (uint64_t)m : 0;
}

/* Redis reports a string changed in place as "raw" whatever its length
 * (OBJECT ENCODING); entry.c keeps that fact in a flag once it has one (see
 * /work/notes/issue3-requests.md, "bits"). */
static void bm_mark_raw(struct entry *e)
{
#ifdef ENTRY_F_RAWSTR
    e->flags |= ENTRY_F_RAWSTR;
#else
    (void)e;
#endif
}

/* The bytes of string entry e: for ENC_INT its text in tmp. */
static const unsigned char *bm_bytes(const struct entry *e, char *tmp, size_t *len)
{
    return (const unsigned char *)entry_str(e, tmp, len);
}

/* Redis's lookupStringForBitCommand after the type check: makes the string
 * at ref (NULL: create it) ENC_RAW and at least need bytes long, growth
 * zero-filled. Sets *grown when the key was created or its length changed
 * (the keyspace already counted that write). Returns the entry, or NULL
 * after replying an error. */
static struct entry *bm_writable(struct client *c, const struct ks_key *k, struct entry **ref, uint64_t need,
                                 int *grown)
{
    struct keyspace *ks = c->srv->ks;
    struct entry *e;

    *grown = 0;
    if (need > ENTRY_MAX_VLEN) {
        reply_error(c, RERR_TOOBIG);
        return NULL;
    }
    if (!ref) {
        e = entry_create(k->p, (uint32_t)k->len, OBJ_STRING, ENC_RAW, (uint32_t)need, -1);
        if (!e)
            goto nomem;
        memset(entry_val(e), 0, need);
        if (ks_insert(ks, c->db, k, e) != ST_OK) {
            entry_destroy(e);
            goto nomem;
        }
        *grown = 1;
    } else {
        char tmp[UTIL_LLSTR_SIZE];
        size_t len;

        e = *ref;
        entry_str(e, tmp, &len);
        if (e->enc != ENC_RAW || len < need) {
            uint8_t old_flags = e->flags;
            size_t nlen = len > need ? len : (size_t)need;
            struct entry *ne = entry_resize_raw(e, nlen);

            if (!ne)
                goto nomem;
            ks_relink(ks, c->db, k, ref, old_flags, ne);
            e = ne;
            *grown = nlen != len;
        }
    }
    bm_mark_raw(e);
    return e;
nomem:
    reply_err_nomem(c);
    return NULL;
}

/* Parses argv[i] as an integer; replies the error and returns -1 if not. */
static int bm_arg_ll(struct client *c, int i, long long *out)
{
    if (util_str2ll(c->argv[i].p, c->argv[i].len, out) != ST_OK) {
        reply_err_notint(c);
        return -1;
    }
    return 0;
}

/* Parses the BYTE | BIT unit at argv[i]: 0 bytes, 1 bits, -1 after replying
 * a syntax error. */
static int bm_arg_unit(struct client *c, int i)
{
    if (util_eqi(c->argv[i].p, c->argv[i].len, "bit"))
        return 1;
    if (util_eqi(c->argv[i].p, c->argv[i].len, "byte"))
        return 0;
    reply_err_syntax(c);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* SETBIT GETBIT                                                            */
/* ------------------------------------------------------------------------ */

/* SETBIT key offset value */
static void setbit_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    uint64_t off;
    long long on;
    struct ks_key k;
    struct entry **ref;
    struct entry *e;
    unsigned char *byte, mask;
    int grown, old;

    if (bitops_parse_offset(c->argv[2].p, c->argv[2].len, 0, bm_max_bytes(c), &off) != ST_OK) {
        reply_error(c, RERR_BITOFFSET);
        return;
    }
    if (util_str2ll(c->argv[3].p, c->argv[3].len, &on) != ST_OK || (on & ~1LL)) {
        reply_error(c, RERR_BITVALUE);
        return;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_write(c, &k);
    if (ref && (*ref)->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    e = bm_writable(c, &k, ref, (off >> 3) + 1, &grown);
    if (!e)
        goto unlock;
    byte = entry_val(e) + (off >> 3);
    mask = (unsigned char)(0x80u >> (off & 7));
    old = (*byte & mask) != 0;
    if (old != (int)on) {
        *byte = (unsigned char)(on ? *byte | mask : *byte & ~mask);
        if (!grown)
            ks_touch_write(ks, &k);
    }
    reply_int(c, old);
unlock:
    ks_unlock(ks, k.shard);
}

/* GETBIT key offset */
static void getbit_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    uint64_t off;
    struct ks_key k;
    struct entry **ref;

    if (bitops_parse_offset(c->argv[2].p, c->argv[2].len, 0, bm_max_bytes(c), &off) != ST_OK) {
        reply_error(c, RERR_BITOFFSET);
        return;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_int(c, 0);
    } else if ((*ref)->type != OBJ_STRING) {
        reply_err_wrongtype(c);
    } else {
        char tmp[UTIL_LLSTR_SIZE];
        size_t len;
        const unsigned char *p = bm_bytes(*ref, tmp, &len);
        uint64_t b = off >> 3;

        reply_int(c, b < len ? (p[b] >> (7 - (off & 7))) & 1 : 0);
    }
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* BITCOUNT BITPOS                                                          */
/* ------------------------------------------------------------------------ */

/* BITCOUNT key [start end [BYTE | BIT]] */
static void bitcount_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    char tmp[UTIL_LLSTR_SIZE];
    const unsigned char *p;
    size_t len;
    struct ks_key k;
    struct entry **ref;
    uint64_t first, last;

    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        reply_int(c, 0);
        goto unlock;
    }
    if ((*ref)->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    p = bm_bytes(*ref, tmp, &len);
    if (c->argc == 4 || c->argc == 5) {
        long long start, end;
        int unit = 0;

        if (bm_arg_ll(c, 2, &start) != 0 || bm_arg_ll(c, 3, &end) != 0)
            goto unlock;
        if (c->argc == 5 && (unit = bm_arg_unit(c, 4)) < 0)
            goto unlock;
        if (!bitops_range(start, end, unit, len, 1, &first, &last)) {
            reply_int(c, 0);
            goto unlock;
        }
        reply_int(c, (long long)bitops_count_range(p, first, last));
    } else if (c->argc == 2) {
        reply_int(c, (long long)bitops_popcount(p, len));
    } else {
        reply_err_syntax(c);
    }
unlock:
    ks_unlock(ks, k.shard);
}

/* BITPOS key bit [start [end [BYTE | BIT]]] */
static void bitpos_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    char tmp[UTIL_LLSTR_SIZE];
    const unsigned char *p;
    long long bit, start = 0, end = -1;
    int unit = 0, end_given = 0;
    size_t len;
    struct ks_key k;
    struct entry **ref;
    uint64_t first, last;
    int64_t pos;

    if (bm_arg_ll(c, 2, &bit) != 0)
        return;
    if (bit != 0 && bit != 1) {
        reply_error(c, RERR_BITARG);
        return;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    ref = keyargs_read(c, &k);
    if (!ref) {
        /* a missing key is an endless run of zeros */
        reply_int(c, bit ? -1 : 0);
        goto unlock;
    }
    if ((*ref)->type != OBJ_STRING) {
        reply_err_wrongtype(c);
        goto unlock;
    }
    p = bm_bytes(*ref, tmp, &len);
    if (c->argc >= 4 && c->argc <= 6) {
        /* Redis 7.0 parses start, then the unit, then end. */
        if (bm_arg_ll(c, 3, &start) != 0)
            goto unlock;
        if (c->argc == 6 && (unit = bm_arg_unit(c, 5)) < 0)
            goto unlock;
        if (c->argc >= 5) {
            if (bm_arg_ll(c, 4, &end) != 0)
                goto unlock;
            end_given = 1;
        }
    } else if (c->argc != 3) {
        reply_err_syntax(c);
        goto unlock;
    }
    if (!bitops_range(start, end, unit, len, 0, &first, &last)) {
        reply_int(c, -1);
        goto unlock;
    }
    pos = bitops_find(p, first, last, (int)bit);
    /* Looking for a 0 without an explicit end: the string continues with
     * zeros, so the first one is just past the range. */
    if (pos < 0 && bit == 0 && !end_given)
        pos = (int64_t)last + 1;
    reply_int(c, pos);
unlock:
    ks_unlock(ks, k.shard);
}

/* ------------------------------------------------------------------------ */
/* BITOP                                                                    */
/* ------------------------------------------------------------------------ */

/* One BITOP source: its bytes (borrowed from the entry, or its text). */
struct bm_src {
    char tmp[UTIL_LLSTR_SIZE];
};

/* BITOP AND | OR | XOR | NOT destkey key [key ...] */
static void bitop_cmd(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    const struct arg *opn = &c->argv[1];
    enum bitops_op op;
    size_t nsrc = (size_t)c->argc - 3, nkeys = nsrc + 1, maxlen = 0;
    struct ks_key kstack[KEYARGS_STACK] = { 0 };
    struct ks_key *keys = kstack;
    struct bm_src *tmps = NULL;
    const unsigned char **src = NULL;
    size_t *lens = NULL;
    struct entry **dref;

    if (util_eqi(opn->p, opn->len, "and"))
        op = BITOPS_AND;
    else if (util_eqi(opn->p, opn->len, "or"))
        op = BITOPS_OR;
    else if (util_eqi(opn->p, opn->len, "xor"))
        op = BITOPS_XOR;
    else if (util_eqi(opn->p, opn->len, "not"))
        op = BITOPS_NOT;
    else {
        reply_err_syntax(c);
        return;
    }
    if (op == BITOPS_NOT && c->argc != 4) {
        reply_error(c, RERR_BITOP_NOT);
        return;
    }
    if (nkeys > KEYARGS_STACK)
        keys = malloc(nkeys * sizeof(*keys));
    tmps = malloc(nsrc * sizeof(*tmps));
    src = malloc(nsrc * sizeof(*src));
    lens = malloc(nsrc * sizeof(*lens));
    if (!keys || !tmps || !src || !lens) {
        reply_err_nomem(c);
        goto out;
    }
    for (size_t i = 0; i < nkeys; i++)
        keyargs_one(c, 2 + (int)i, &keys[i]);
    ks_lock_keys(ks, keys, nkeys);
    for (size_t i = 0; i < nsrc; i++) {
        struct entry **ref = keyargs_read(c, &keys[1 + i]);

        src[i] = NULL;
        lens[i] = 0;
        if (!ref)
            continue; /* a missing key is an empty string */
        if ((*ref)->type != OBJ_STRING) {
            reply_err_wrongtype(c);
            goto unlock;
        }
        src[i] = bm_bytes(*ref, tmps[i].tmp, &lens[i]);
        if (lens[i] > maxlen)
            maxlen = lens[i];
    }
    dref = keyargs_write(c, &keys[0]);
    if (maxlen == 0) {
        if (dref)
            ks_delete_ref(ks, c->db, &keys[0], dref);
    } else {
        /* Built beside the sources (which may include the destination),
         * then swapped in. */
        struct entry *ne = entry_create(keys[0].p, (uint32_t)keys[0].len, OBJ_STRING, ENC_RAW, (uint32_t)maxlen, -1);

        if (!ne) {
            reply_err_nomem(c);
            goto unlock;
        }
        bitops_op(op, entry_val(ne), maxlen, src, lens, nsrc);
        bm_mark_raw(ne);
        if (dref) {
            ne->access = (*dref)->access;
            ks_swap(ks, c->db, &keys[0], dref, ne);
        } else if (ks_insert(ks, c->db, &keys[0], ne) != ST_OK) {
            entry_destroy(ne);
            reply_err_nomem(c);
            goto unlock;
        }
    }
    reply_int(c, (long long)maxlen);
unlock:
    ks_unlock_keys(ks, keys, nkeys);
out:
    if (keys != kstack)
        free(keys);
    free(tmps);
    free(src);
    free(lens);
}

/* ------------------------------------------------------------------------ */
/* BITFIELD BITFIELD_RO                                                     */
/* ------------------------------------------------------------------------ */

/* Parses the operations of BITFIELD key ... into ops[] (room for
 * (argc - 2) / 2 + 1). Returns their number, or -1 after replying Redis's
 * error for the first bad argument. Sets *readonly when all are GETs and
 * *highest to the last bit any write touches. */
static int bitfield_parse(struct client *c, struct bitops_field *ops, int *readonly, uint64_t *highest)
{
    enum bitops_overflow ow = BITOPS_WRAP;
    uint64_t maxb = bm_max_bytes(c);
    int n = 0;

    *readonly = 1;
    *highest = 0;
    for (int j = 2; j < c->argc; j++) {
        const struct arg *a = &c->argv[j];
        int rem = c->argc - j - 1;
        struct bitops_field *f;
        enum bitops_fop fop;
        unsigned bits;
        int sign;

        if (util_eqi(a->p, a->len, "get") && rem >= 2) {
            fop = BITOPS_GET;
        } else if (util_eqi(a->p, a->len, "set") && rem >= 3) {
            fop = BITOPS_SET;
        } else if (util_eqi(a->p, a->len, "incrby") && rem >= 3) {
            fop = BITOPS_INCRBY;
        } else if (util_eqi(a->p, a->len, "overflow") && rem >= 1) {
            const struct arg *t = &c->argv[++j];

            if (util_eqi(t->p, t->len, "wrap")) {
                ow = BITOPS_WRAP;
            } else if (util_eqi(t->p, t->len, "sat")) {
                ow = BITOPS_SAT;
            } else if (util_eqi(t->p, t->len, "fail")) {
                ow = BITOPS_FAIL;
            } else {
                reply_error(c, RERR_BFOVERFLOW);
                return -1;
            }
            continue;
        } else {
            reply_err_syntax(c);
            return -1;
        }
        f = &ops[n];
        if (bitops_parse_type(c->argv[j + 1].p, c->argv[j + 1].len, &sign, &bits) != ST_OK) {
            reply_error(c, RERR_BFTYPE);
            return -1;
        }
        if (bitops_parse_offset(c->argv[j + 2].p, c->argv[j + 2].len, bits, maxb, &f->offset) != ST_OK) {
            reply_error(c, RERR_BITOFFSET);
            return -1;
        }
        f->arg = 0;
        if (fop != BITOPS_GET) {
            long long v;

            *readonly = 0;
            if (f->offset + bits - 1 > *highest)
                *highest = f->offset + bits - 1;
            if (bm_arg_ll(c, j + 3, &v) != 0)
                return -1;
            f->arg = v;
        }
        f->op = (uint8_t)fop;
        f->overflow = (uint8_t)ow;
        f->bits = (uint8_t)bits;
        f->sign = (uint8_t)sign;
        n++;
        j += fop == BITOPS_GET ? 2 : 3;
    }
    return n;
}

static void bitfield_generic(struct client *c, int ro_cmd)
{
    struct keyspace *ks = c->srv->ks;
    struct bitops_field stack[BM_STACK_OPS];
    struct bitops_field *ops = stack;
    size_t cap = (size_t)(c->argc - 2) / 2 + 1;
    int n, readonly, grown = 0;
    uint64_t highest;
    struct ks_key k;
    struct entry **ref;
    unsigned char *p = NULL;
    size_t len = 0;
    char tmp[UTIL_LLSTR_SIZE];

    if (cap > BM_STACK_OPS) {
        ops = malloc(cap * sizeof(*ops));
        if (!ops) {
            reply_err_nomem(c);
            return;
        }
    }
    n = bitfield_parse(c, ops, &readonly, &highest);
    if (n < 0)
        goto out;
    if (!readonly && ro_cmd) {
        reply_error(c, RERR_BFRO);
        goto out;
    }
    keyargs_one(c, 1, &k);
    ks_lock(ks, k.shard);
    if (readonly) {
        ref = keyargs_read(c, &k);
        if (ref && (*ref)->type != OBJ_STRING) {
            reply_err_wrongtype(c);
            goto unlock;
        }
        if (ref)
            /* GETs never write: the bytes are only read below */
            p = (unsigned char *)(uintptr_t)bm_bytes(*ref, tmp, &len);
    } else {
        struct entry *e;

        ref = keyargs_write(c, &k);
        if (ref && (*ref)->type != OBJ_STRING) {
            reply_err_wrongtype(c);
            goto unlock;
        }
        e = bm_writable(c, &k, ref, (highest >> 3) + 1, &grown);
        if (!e)
            goto unlock;
        p = entry_val(e);
        len = e->vlen;
    }
    reply_array(c, n);
    for (int i = 0; i < n; i++) {
        int64_t v;
        int changed;

        if (bitops_field_run(&ops[i], p, len, &v, &changed))
            reply_int(c, v);
        else
            reply_null(c);
    }
    if (!readonly && !grown)
        ks_touch_write(ks, &k);
unlock:
    ks_unlock(ks, k.shard);
out:
    if (ops != stack)
        free(ops);
}

/* BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL] SET type offset
 * value | INCRBY type offset increment ...] */
static void bitfield_cmd(struct client *c)
{
    bitfield_generic(c, 0);
}

/* BITFIELD_RO key [GET type offset ...] */
static void bitfield_ro_cmd(struct client *c)
{
    bitfield_generic(c, 1);
}

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

#define W_OOM (CMD_WRITE | CMD_DENYOOM)
#define R_FAST (CMD_READONLY | CMD_FAST)

#define BITFIELD_OP                                                                                   \
    "GET encoding offset | [OVERFLOW WRAP | SAT | FAIL] SET encoding offset value | INCRBY encoding " \
    "offset increment"

/* name, proc, arity, flags, first, last, step, group, summary, since,
 * complexity, syntax: as Redis 7.0's COMMAND INFO / COMMAND DOCS. */
const struct cmd_def cmds_bitmap[] = {
    { "setbit", setbit_cmd, 4, W_OOM, 1, 1, 1, "bitmap",
      "Sets or clears the bit at offset in the string value stored at key", "2.2.0", "O(1)",
      "key offset value", NULL },
    { "getbit", getbit_cmd, 3, R_FAST, 1, 1, 1, "bitmap",
      "Returns the bit value at offset in the string value stored at key", "2.2.0", "O(1)", "key offset",
      NULL },
    { "bitcount", bitcount_cmd, -2, CMD_READONLY, 1, 1, 1, "bitmap", "Count set bits in a string", "2.6.0",
      "O(N)", "key [start end [BYTE | BIT]]", NULL },
    { "bitpos", bitpos_cmd, -3, CMD_READONLY, 1, 1, 1, "bitmap", "Find first bit set or clear in a string",
      "2.8.7", "O(N)", "key bit [start [end [BYTE | BIT]]]", NULL },
    { "bitop", bitop_cmd, -4, W_OOM, 2, -1, 1, "bitmap", "Perform bitwise operations between strings",
      "2.6.0", "O(N)", "operation destkey key [key ...]", NULL },
    { "bitfield", bitfield_cmd, -2, W_OOM, 1, 1, 1, "bitmap",
      "Perform arbitrary bitfield integer operations on strings", "3.2.0",
      "O(1) for each subcommand specified", "key [" BITFIELD_OP " [" BITFIELD_OP " ...]]", NULL },
    { "bitfield_ro", bitfield_ro_cmd, -2, R_FAST, 1, 1, 1, "bitmap",
      "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", "6.0.0",
      "O(1) for each subcommand specified", "key [GET encoding offset [GET encoding offset ...]]", NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};
