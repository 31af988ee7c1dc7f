/*
 * entry.h -- the keyspace entry: one allocation holding header, key and value.
 *
 * Layout (native endianness, never written to disk as is):
 *
 *   offset size  field
 *   0      8     next     hash-chain link, owned by the ht the entry is in
 *   8      4     access   LRU clock (s, 24 bits) | LFU counter (top 8 bits)
 *   12     1     type     enum obj_type
 *   13     1     enc      enum obj_enc
 *   14     1     flags    ENTRY_F_EXPIRE (an expiry follows the header),
 *                         ENTRY_F_RAWSTR (string changed in place)
 *   15     1     spare    a stub's tier index (ENC_TIER); 0 otherwise
 *   16     4     klen     key length in bytes
 *   20     4     vlen     value length in bytes (8 for ENC_INT and ENC_PTR)
 *   24     8     expire   unix time in ms; present only when ENTRY_F_EXPIRE
 *   24|32  klen  key      raw key bytes (not NUL-terminated)
 *   ...    vlen  value    ENC_RAW: the bytes; ENC_INT: int64; ENC_PTR: a pointer
 *                         to a type object the entry owns
 *
 * Invariants:
 *  1. An entry is in at most one ht at a time; `next` belongs to that ht.
 *  2. A string is ENC_INT only when its bytes are the canonical base-10 form
 *     of the int64 (so GET returns exactly what SET stored).
 *  3. Only the thread holding the lock of the entry's shard reads or writes it.
 *
 * The point of the single allocation is per-key overhead (DESIGN.md §4: a
 * first-class budget): 24 header bytes, +8 with a TTL, against Redis's
 * dictEntry + robj + two sds headers.
 */
#ifndef STRATA_ENTRY_H
#define STRATA_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum obj_type {
    OBJ_STRING = 0,
    OBJ_LIST = 1,
    OBJ_SET = 2,
    OBJ_ZSET = 3,
    OBJ_HASH = 4,
    OBJ_TYPE_MAX
};

enum obj_enc {
    ENC_RAW = 0, /* inline bytes */
    ENC_INT = 1, /* inline int64 (strings that are canonical integers) */
    ENC_PTR = 2, /* inline pointer to a type object owned by the entry */
    ENC_TIER = 3, /* a stub: the value lives in a tier (struct entry_stub inline) */
};

/* Where a cold key's record is (an ENC_TIER entry: a stub). The entry's
 * type, expiry, access and key stay in DRAM, so TYPE, TTL, SCAN ... answer
 * without reading the tier. Stored in 8 value bytes plus the header's spare
 * byte: a u64 packing the hint (low ENTRY_STUB_HINT_BITS bits) and the
 * generation (the high ENTRY_STUB_GEN_BITS), and the tier index in `spare`.
 * So a cold key with a 16-byte name is a 48-byte block. */
#define ENTRY_STUB_HINT_BITS 44
#define ENTRY_STUB_GEN_BITS 20
#define ENTRY_STUB_VLEN 8

struct entry_stub {
    uint64_t hint; /* the tier's location hint (engine/tier.h), < 2^44 */
    uint32_t gen;  /* the record's generation, 1 .. 2^20 - 1 */
    uint8_t tier;  /* which tier (index in the server's tier list) */
};

#define ENTRY_F_EXPIRE 0x01
#define ENTRY_F_RAWSTR 0x02 /* a string changed in place (APPEND, SETRANGE, SETBIT, PFADD):
                             * OBJECT ENCODING says "raw" at any length, as Redis does */
#define ENTRY_F_SNAP 0x08   /* snapshot parity (engine/keyspace.h "snapshots"): the entry
                             * was written by, or born after the start of, the snapshot of
                             * this parity */
#define ENTRY_F_MOVING 0x04 /* a demotion of this key is in flight (server/tiering.c): a
                             * second one waits; carried across reallocation, cleared by
                             * the demoter under the shard lock whatever the outcome */

struct entry {
    struct entry *next;
    uint32_t access;
    uint8_t type;
    uint8_t enc;
    uint8_t flags;
    uint8_t spare;
    uint32_t klen;
    uint32_t vlen;
    unsigned char data[];
};

/* Operations on the type objects behind ENC_PTR values. One const table per
 * type, registered in entry.c; NULL for types not built yet. */
struct obj_ops {
    const char *name;                          /* TYPE reply: "list", "hash", ... */
    void (*free)(void *obj);                   /* takes obj */
    void *(*dup)(const void *obj);             /* returns an owned deep copy or NULL */
    size_t (*mem)(const void *obj);            /* bytes owned, for MEMORY USAGE */
    const char *(*encoding)(const void *obj);  /* OBJECT ENCODING reply */
};

/* The largest string value an entry holds (the same as proto-max-bulk-len's
 * ceiling); APPEND/SETRANGE past it fail with ST_ETOOBIG. */
#define ENTRY_MAX_VLEN (512ull * 1024 * 1024)

static inline size_t entry_hdr_size(uint8_t flags)
{
    return sizeof(struct entry) + ((flags & ENTRY_F_EXPIRE) ? 8 : 0);
}

static inline const char *entry_key(const struct entry *e)
{
    return (const char *)e->data + ((e->flags & ENTRY_F_EXPIRE) ? 8 : 0);
}

static inline unsigned char *entry_val(struct entry *e)
{
    return e->data + ((e->flags & ENTRY_F_EXPIRE) ? 8 : 0) + e->klen;
}

static inline const unsigned char *entry_cval(const struct entry *e)
{
    return e->data + ((e->flags & ENTRY_F_EXPIRE) ? 8 : 0) + e->klen;
}

/* Expiry time in unix ms, or -1 when the key has none. */
static inline int64_t entry_expire(const struct entry *e)
{
    int64_t v;
    if (!(e->flags & ENTRY_F_EXPIRE))
        return -1;
    memcpy(&v, e->data, 8);
    return v;
}

/* ENC_INT payload. */
static inline int64_t entry_int(const struct entry *e)
{
    int64_t v;
    memcpy(&v, entry_cval(e), 8);
    return v;
}

static inline void entry_set_int(struct entry *e, int64_t v)
{
    memcpy(entry_val(e), &v, 8);
}

static inline void entry_stub_get(const struct entry *e, struct entry_stub *st)
{
    uint64_t w;
    memcpy(&w, entry_cval(e), 8);
    st->hint = w & ((1ull << ENTRY_STUB_HINT_BITS) - 1);
    st->gen = (uint32_t)(w >> ENTRY_STUB_HINT_BITS);
    st->tier = e->spare;
}

/* st->hint must be < 2^ENTRY_STUB_HINT_BITS and st->gen < 2^ENTRY_STUB_GEN_BITS. */
static inline void entry_stub_set(struct entry *e, const struct entry_stub *st)
{
    uint64_t w = (st->hint & ((1ull << ENTRY_STUB_HINT_BITS) - 1)) | ((uint64_t)st->gen << ENTRY_STUB_HINT_BITS);
    memcpy(entry_val(e), &w, 8);
    e->spare = st->tier;
}

/* ENC_PTR payload. */
static inline void *entry_ptr(const struct entry *e)
{
    void *p;
    memcpy(&p, entry_cval(e), sizeof(p));
    return p;
}

static inline void entry_set_ptr(struct entry *e, void *p)
{
    memcpy(entry_val(e), &p, sizeof(p));
}

/* Allocates an entry for key with room for vlen value bytes, left
 * uninitialised, and expiry expire_ms (-1: none). Returns it owned, or NULL
 * when out of memory. */
struct entry *entry_create(const void *key, uint32_t klen, uint8_t type, uint8_t enc,
                           uint32_t vlen, int64_t expire_ms);

/* Creates a string entry from val (copied). Picks ENC_INT when val is a
 * canonical integer of at most 20 bytes. Returns it owned, or NULL. */
struct entry *entry_create_str(const void *key, uint32_t klen, const void *val, size_t vlen,
                               int64_t expire_ms);

/* Frees e and, for ENC_PTR, its type object. Accepts NULL. */
void entry_destroy(struct entry *e);

/* Returns an owned deep copy of e under a new key (COPY, RENAME when the key
 * changes length), keeping type, value and expiry; NULL when out of memory. */
struct entry *entry_dup(const struct entry *e, const void *key, uint32_t klen);

/* Returns e under a new key (RENAME, MOVE back-outs): in place when the key
 * length is the same, else a new allocation that takes over the value (the
 * type object moves, nothing is copied deeply) and e is freed. Keeps type,
 * encoding, expiry, access clock and flags. e must not be linked in a
 * table. NULL (e untouched) on OOM. */
struct entry *entry_rekey(struct entry *e, const void *key, uint32_t klen);

/* Returns the entry with its expiry set to expire_ms (-1 removes it). May
 * reallocate: the caller must relink the returned pointer (ks_relink). Returns
 * NULL (and e unchanged) when out of memory. */
struct entry *entry_with_expire(struct entry *e, int64_t expire_ms);

/* Makes e hold the string val (copied). Reuses e's allocation when it is large
 * enough, else reallocates. Keeps the key and expiry. Returns the (possibly
 * moved) entry, or NULL with e unchanged when out of memory. Only for
 * OBJ_STRING entries, or for replacing any entry's value with a string (the
 * old type object is freed). */
struct entry *entry_with_str(struct entry *e, const void *val, size_t vlen);

/* Resizes the inline raw value of a string entry to vlen bytes, keeping the
 * first min(old, vlen) bytes, converting ENC_INT to its text first. Returns
 * the (possibly moved) entry, or NULL with e unchanged. */
struct entry *entry_resize_raw(struct entry *e, size_t vlen);

/* A string entry's bytes: for ENC_RAW a pointer into the entry, for ENC_INT
 * the text written into tmp (UTIL_LLSTR_SIZE bytes). Sets *len. */
const char *entry_str(const struct entry *e, char *tmp, size_t *len);

/* Bytes the allocator holds for e, including its type object. */
size_t entry_mem(const struct entry *e);

/* The ops of a type, or NULL when the type has no object representation. */
const struct obj_ops *entry_type_ops(uint8_t type);

/* "string", "list", "set", "zset", "hash". */
const char *entry_type_name(uint8_t type);

/* OBJECT ENCODING answer: "int", "embstr", "raw", or the type's own. */
const char *entry_encoding(const struct entry *e);

#endif
