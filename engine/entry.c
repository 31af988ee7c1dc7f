/*
 * entry.c -- creation, resizing and destruction of keyspace entries.
 *
 * Owns the single-allocation layout documented in entry.h and the mapping
 * from a type to its object operations. Does not own locking (the shard does)
 * nor linking (the ht does): functions that may move an entry return the new
 * address and the caller relinks it.
 *
 * Reuse rule: an entry is rewritten in place when the allocator's usable size
 * already fits the new layout; otherwise it is reallocated. SET of a value of
 * the same size class therefore costs a memcpy and no allocation.
 */
#include "engine/entry.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/util.h"

/* The collection types, each defined by its own module (t_list.c, t_set.c,
 * t_zset.c, t_hash.c). Weak references: while a type is being built the
 * tree still links, and a missing type reads as NULL here. */
extern const struct obj_ops list_obj_ops __attribute__((weak));
extern const struct obj_ops set_obj_ops __attribute__((weak));
extern const struct obj_ops zset_obj_ops __attribute__((weak));
extern const struct obj_ops hash_obj_ops __attribute__((weak));

/* Indexed by enum obj_type; strings have no object (they live inline). */
static const struct obj_ops *const type_ops[OBJ_TYPE_MAX] = { NULL, &list_obj_ops, &set_obj_ops, &zset_obj_ops,
                                                               &hash_obj_ops };

static const char *const type_names[OBJ_TYPE_MAX] = { "string", "list", "set", "zset", "hash" };

const struct obj_ops *entry_type_ops(uint8_t type)
{
    return type < OBJ_TYPE_MAX ? type_ops[type] : NULL;
}

const char *entry_type_name(uint8_t type)
{
    return type < OBJ_TYPE_MAX ? type_names[type] : "none";
}

static size_t layout_size(uint8_t flags, size_t klen, size_t vlen)
{
    return entry_hdr_size(flags) + klen + vlen;
}

struct entry *entry_create(const void *key, uint32_t klen, uint8_t type, uint8_t enc, uint32_t vlen,
                           int64_t expire_ms)
{
    uint8_t flags = expire_ms >= 0 ? ENTRY_F_EXPIRE : 0;
    struct entry *e = malloc(layout_size(flags, klen, vlen));
    if (!e)
        return NULL;
    e->next = NULL;
    e->access = 0;
    e->type = type;
    e->enc = enc;
    e->flags = flags;
    e->spare = 0;
    e->klen = klen;
    e->vlen = vlen;
    if (flags & ENTRY_F_EXPIRE)
        memcpy(e->data, &expire_ms, 8);
    memcpy((char *)entry_key(e), key, klen);
    return e;
}

/* Returns 1 and the integer when val is the canonical text of an int64 that
 * ENC_INT can hold (invariant 2 of entry.h). */
static int canonical_int(const void *val, size_t vlen, int64_t *out)
{
    long long v;
    if (vlen == 0 || vlen > 20)
        return 0;
    if (util_str2ll(val, vlen, &v) != 0)
        return 0;
    *out = v;
    return 1;
}

struct entry *entry_create_str(const void *key, uint32_t klen, const void *val, size_t vlen,
                               int64_t expire_ms)
{
    int64_t iv;
    struct entry *e;
    if (vlen > ENTRY_MAX_VLEN)
        return NULL;
    if (canonical_int(val, vlen, &iv)) {
        e = entry_create(key, klen, OBJ_STRING, ENC_INT, 8, expire_ms);
        if (e)
            entry_set_int(e, iv);
        return e;
    }
    e = entry_create(key, klen, OBJ_STRING, ENC_RAW, (uint32_t)vlen, expire_ms);
    if (e && vlen)
        memcpy(entry_val(e), val, vlen);
    return e; /* entry_create zeroed ENTRY_F_RAWSTR */
}

static void free_value(struct entry *e)
{
    if (e->enc == ENC_PTR) {
        const struct obj_ops *ops = entry_type_ops(e->type);
        if (ops && ops->free)
            ops->free(entry_ptr(e));
        e->enc = ENC_RAW;
        e->vlen = 0;
    }
}

void entry_destroy(struct entry *e)
{
    if (!e)
        return;
    free_value(e);
    free(e);
}

struct entry *entry_dup(const struct entry *e, const void *key, uint32_t klen)
{
    struct entry *d = entry_create(key, klen, e->type, e->enc, e->vlen, entry_expire(e));
    if (!d)
        return NULL;
    if (e->enc == ENC_PTR) {
        const struct obj_ops *ops = entry_type_ops(e->type);
        void *obj = ops && ops->dup ? ops->dup(entry_ptr(e)) : NULL;
        if (!obj) {
            d->enc = ENC_RAW;
            d->vlen = 0;
            free(d);
            return NULL;
        }
        entry_set_ptr(d, obj);
    } else {
        memcpy(entry_val(d), entry_cval(e), e->vlen);
    }
    d->access = e->access;
    d->flags |= e->flags & ENTRY_F_RAWSTR; /* COPY of a raw string stays raw, as in Redis */
    return d;
}

/* Rebuilds e with a new header flag set and value length, keeping key and
 * the first keep bytes of the value. In place when it fits, else realloc.
 * Returns the entry or NULL (e untouched). */
static struct entry *relayout(struct entry *e, uint8_t nflags, size_t nvlen, size_t keep)
{
    size_t need = layout_size(nflags, e->klen, nvlen);
    size_t oldhdr = entry_hdr_size(e->flags), newhdr = entry_hdr_size(nflags);
    size_t body = e->klen + (keep < e->vlen ? keep : e->vlen);
    struct entry *n = e;

    if (need > malloc_usable_size(e) || need * 2 < malloc_usable_size(e)) {
        if (newhdr > oldhdr) {
            /* growing the header: realloc first, then shift the body up */
            n = realloc(e, need);
            if (!n)
                return NULL;
            memmove((char *)n + newhdr, (char *)n + oldhdr, body);
        } else {
            /* shrinking (or same) header: shift down first, then realloc */
            memmove((char *)e + newhdr, (char *)e + oldhdr, body);
            n = realloc(e, need);
            if (!n) {
                /* shrink can't fail in practice; if growth failed, undo */
                memmove((char *)e + oldhdr, (char *)e + newhdr, body);
                return NULL;
            }
        }
    } else if (newhdr != oldhdr) {
        memmove((char *)e + newhdr, (char *)e + oldhdr, body);
    }
    n->flags = nflags;
    n->vlen = (uint32_t)nvlen;
    return n;
}

struct entry *entry_rekey(struct entry *e, const void *key, uint32_t klen)
{
    if (klen == e->klen) {
        memcpy((char *)entry_key(e), key, klen);
        return e;
    }
    struct entry *ne = entry_create(key, klen, e->type, e->enc, e->vlen, entry_expire(e));
    if (!ne)
        return NULL;
    memcpy(entry_val(ne), entry_cval(e), e->vlen);
    ne->access = e->access;
    ne->spare = e->spare;
    ne->flags = e->flags;
    free(e); /* the value (inline bytes or the type object's pointer) moved */
    return ne;
}

struct entry *entry_with_expire(struct entry *e, int64_t expire_ms)
{
    uint8_t nflags = expire_ms >= 0 ? (e->flags | ENTRY_F_EXPIRE) : (e->flags & ~ENTRY_F_EXPIRE);
    if (nflags != e->flags) {
        e = relayout(e, nflags, e->vlen, e->vlen);
        if (!e)
            return NULL;
    }
    if (expire_ms >= 0)
        memcpy(e->data, &expire_ms, 8);
    return e;
}

struct entry *entry_with_str(struct entry *e, const void *val, size_t vlen)
{
    int64_t iv;
    struct entry *n;
    int is_int = canonical_int(val, vlen, &iv);
    size_t nvlen = is_int ? 8 : vlen;

    if (vlen > ENTRY_MAX_VLEN)
        return NULL;
    if (e->enc == ENC_PTR) {
        /* make room first so a failure leaves the old value intact */
        void *obj = entry_ptr(e);
        uint8_t type = e->type;
        n = relayout(e, e->flags, nvlen, 0);
        if (!n)
            return NULL;
        const struct obj_ops *ops = entry_type_ops(type);
        if (ops && ops->free)
            ops->free(obj);
        e = n;
    } else {
        n = relayout(e, e->flags, nvlen, 0);
        if (!n)
            return NULL;
        e = n;
    }
    e->type = OBJ_STRING;
    e->flags &= (uint8_t)~ENTRY_F_RAWSTR; /* a whole new value, as Redis's SET makes */
    if (is_int) {
        e->enc = ENC_INT;
        entry_set_int(e, iv);
    } else {
        e->enc = ENC_RAW;
        if (vlen)
            memcpy(entry_val(e), val, vlen);
    }
    return e;
}

struct entry *entry_resize_raw(struct entry *e, size_t vlen)
{
    if (vlen > ENTRY_MAX_VLEN)
        return NULL;
    if (e->enc == ENC_INT) {
        char tmp[UTIL_LLSTR_SIZE];
        int n = util_ll2str(tmp, entry_int(e));
        size_t cap = (size_t)n > vlen ? (size_t)n : vlen;
        struct entry *r = relayout(e, e->flags, cap, 0);
        if (!r)
            return NULL;
        r->enc = ENC_RAW;
        r->flags |= ENTRY_F_RAWSTR;
        memcpy(entry_val(r), tmp, (size_t)n);
        e = r;
        if (vlen > (size_t)n)
            memset(entry_val(e) + n, 0, vlen - (size_t)n);
        e->vlen = (uint32_t)vlen;
        return e;
    }
    size_t old = e->vlen;
    struct entry *r = relayout(e, e->flags | ENTRY_F_RAWSTR, vlen, vlen);
    if (!r)
        return NULL;
    if (vlen > old)
        memset(entry_val(r) + old, 0, vlen - old);
    return r;
}

const char *entry_str(const struct entry *e, char *tmp, size_t *len)
{
    if (e->enc == ENC_INT) {
        *len = (size_t)util_ll2str(tmp, entry_int(e));
        return tmp;
    }
    *len = e->vlen;
    return (const char *)entry_cval(e);
}

size_t entry_mem(const struct entry *e)
{
    size_t n = malloc_usable_size((void *)e);
    if (e->enc == ENC_PTR) {
        const struct obj_ops *ops = entry_type_ops(e->type);
        if (ops && ops->mem)
            n += ops->mem(entry_ptr(e));
    }
    return n;
}

const char *entry_encoding(const struct entry *e)
{
    if (e->enc == ENC_PTR) {
        const struct obj_ops *ops = entry_type_ops(e->type);
        return ops && ops->encoding ? ops->encoding(entry_ptr(e)) : "unknown";
    }
    if (e->enc == ENC_INT)
        return "int";
    /* Redis reports embstr up to 44 bytes unless the string was modified in
     * place; clients and tools only read it. */
    if (e->flags & ENTRY_F_RAWSTR)
        return "raw";
    return e->vlen <= 44 ? "embstr" : "raw";
}
