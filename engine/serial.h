/*
 * serial.h -- the one serialiser of values: what demotion writes into a tier
 * record's value (before compression) and what snapshots will store
 * (issue 6). The format is versioned, little-endian, and documented byte by
 * byte in the essay at the top of serial.c.
 *
 * A serialised value holds the VALUE only (every type, every encoding): not
 * the key, not the expiry, not the access clock; the record around it
 * carries those. Decoding never trusts its input: damage of any kind is
 * ST_ECORRUPT, never a crash, a hang, a leak or an allocation larger than
 * the input could justify.
 *
 * No state: every function is reentrant and may run on any thread; the
 * caller holds the lock of the entry it encodes.
 */
#ifndef STRATA_SERIAL_H
#define STRATA_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/entry.h"
#include "engine/tlimits.h"

/* The format version written in byte 0 of every serialised value. */
#define SERIAL_VERSION 1
/* Bytes of the header every serialised value starts with. */
#define SERIAL_HDR 4

/* Byte 1: the value's representation. The high nibble is the type (the same
 * numbering as enum obj_type and the tier record's type byte), the low
 * nibble the encoding. */
enum serial_tag {
    SERIAL_T_STR = 0x01,     /* string bytes (OBJECT ENCODING embstr / raw) */
    SERIAL_T_INT = 0x02,     /* string held as an int64 (int) */
    SERIAL_T_LIST_LP = 0x10, /* list, one lpack (listpack) */
    SERIAL_T_LIST_QL = 0x11, /* list, lpack nodes (quicklist) */
    SERIAL_T_SET_IS = 0x20,  /* set, one intset blob (intset) */
    SERIAL_T_SET_LP = 0x21,  /* set, one lpack (listpack) */
    SERIAL_T_SET_HT = 0x22,  /* set, counted members (hashtable) */
    SERIAL_T_ZSET_LP = 0x30, /* sorted set, one lpack (listpack) */
    SERIAL_T_ZSET_SL = 0x31, /* sorted set, counted member + score (skiplist) */
    SERIAL_T_HASH_LP = 0x40, /* hash, one lpack (listpack) */
    SERIAL_T_HASH_HT = 0x41, /* hash, counted field + value (hashtable) */
};

/* Byte 2: flags. */
#define SERIAL_F_RAWSTR 0x01 /* strings: ENTRY_F_RAWSTR (changed in place: OBJECT ENCODING "raw") */

/* Serialises e's value into a new malloc'd buffer: *out (returned owned: the
 * caller frees it) and its size in *len. e is borrowed and not modified (the
 * caller holds its shard lock; iterating a hashtable may hold its rehashing
 * for the length of the call). Returns 0, ST_EINVAL (e is a tier stub, an
 * unknown type or encoding, or an empty collection, which the keyspace never
 * holds) or ST_ENOMEM; on error *out is NULL. A huge collection may give
 * more than 4 GB (a tier record's rawlen is a u32: its caller checks). */
int serial_encode(const struct entry *e, void **out, size_t *len);

/* Decode options (serial_decode_ex). */
#define SERIAL_DEC_COMPACT 0x01 /* build at the smallest encoding that fits lim, as a fresh build by
                                 * the type modules would (and as Redis does when it loads an RDB
                                 * file); without it a value recorded in a large encoding stays
                                 * large (see serial.c, "Encodings on decode") */
#define SERIAL_DEC_SEED 0x02    /* seed below is the hash seed for hashtable dicts (the keyspace's);
                                 * without it, a fresh seed (zset_dict_seed) */

struct serial_dec_opts {
    unsigned flags;
    uint64_t seed;
};

/* Builds a new entry for key (copied, klen bytes) with expiry expire_ms (-1:
 * none) and the value serialised in buf[0..len) (borrowed; untrusted), whose
 * type the record says is `type` (untrusted too: a tag of another type is
 * ST_ECORRUPT). The value's encoding is chosen under lim (borrowed) as
 * serial.c describes ("Encodings on decode"); opts may be NULL (flags 0).
 * Returns 0 and *out (owned by the caller; not linked anywhere, access clock
 * 0), ST_ECORRUPT (any malformation: truncation, trailing bytes, unknown
 * version, tag or flag, bad count, invalid lpack or intset, duplicate
 * member / field, NaN score, misordered sorted-set pairs, empty collection),
 * ST_EINVAL (NULL arguments) or ST_ENOMEM; on error *out is NULL and nothing
 * leaks. */
int serial_decode_ex(uint8_t type, const void *buf, size_t len, const char *key, uint32_t klen, int64_t expire_ms,
                     const struct type_limits *lim, const struct serial_dec_opts *opts, struct entry **out);

/* serial_decode_ex with no options: the encoding the value was recorded in is
 * kept where lim allows it, and hashtable dicts get a fresh seed. */
int serial_decode(uint8_t type, const void *buf, size_t len, const char *key, uint32_t klen, int64_t expire_ms,
                  const struct type_limits *lim, struct entry **out);

/* What a serialised value's header says, for tools (strata-inspect) and
 * stats. Checks the header and the first count only, not the elements. */
struct serial_info {
    uint8_t type;         /* enum obj_type */
    uint8_t tag;          /* enum serial_tag */
    uint8_t flags;        /* SERIAL_F_* */
    uint64_t count;       /* string: bytes (int: 8); list/set: elements; zset: members; hash: fields
                           * (for blobs: as the blob's header claims, not validated) */
    const char *encoding; /* OBJECT ENCODING of the recorded value: "int", "embstr", "raw",
                           * "listpack", "quicklist", "intset", "hashtable", "skiplist" */
};

/* Fills *info from buf[0..len) (borrowed). Returns the type (enum obj_type,
 * >= 0) or ST_ECORRUPT when the header is not one this version writes. info
 * may be NULL. */
int serial_peek(const void *buf, size_t len, struct serial_info *info);

#endif
