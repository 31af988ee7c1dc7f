/*
 * tier.h -- the interface every cold tier implements (tiers/mem.c, tiers/pmem.c;
 * the SSD tier later), and the record format they all store.
 *
 * A tier is a store of records addressed by key. put() hands back a location
 * ("hint"); the engine keeps it in the key's DRAM stub and passes it back to
 * get()/del(), but a hint is only a hint: the tier checks that the record it
 * finds there is whole (magic, CRC32C), is for that key, and carries the
 * generation the stub expects. So a tier may later keep its own index and
 * ignore hints altogether, and a stale or damaged location is a miss, never a
 * wrong value (DESIGN.md invariant 2).
 *
 * Records are opaque to a tier beyond the header below: the engine serialises
 * the value (engine/serial.h), compresses it (engine/codec.h) and encodes the
 * record (tier_rec_encode); a tier stores those bytes as they are, and moving a
 * record between tiers, or into a snapshot, copies them unchanged.
 *
 * Record layout (little-endian; the same bytes in every tier):
 *
 *   off  size  field
 *   0    4     magic      "STR1" (0x31525453 read as a little-endian u32)
 *   4    4     crc        CRC32C of bytes [8, 44 + klen + vlen)
 *   8    8     gen        generation: unique per record an engine writes
 *   16   8     expire_ms  unix ms, or -1 for none
 *   24   4     klen       key bytes (1 .. TIER_KEY_MAX)
 *   28   4     vlen       stored value bytes (compressed unless TIER_REC_F_RAW)
 *   32   4     rawlen     serialised value bytes before compression
 *   36   4     dict_id    compression dictionary, 0 for none
 *   40   1     type       enum obj_type
 *   41   1     flags      TIER_REC_F_RAW: the value is stored uncompressed
 *   42   2     reserved   0
 *   44   klen  key
 *   ..   vlen  value
 *
 * Completion. put/get/del may finish later than the call: a caller that can
 * wait passes a struct tier_io, and the tier either completes at once
 * (returns anything but ST_EPENDING; io->done is not called) or returns
 * ST_EPENDING and calls io->done exactly once later, from its own thread. A
 * caller passing io == NULL needs the answer now; a tier that cannot give it
 * returns ST_EAGAIN. mem and pmem always complete at once.
 *
 * Threads: every operation may be called from any thread at any time; a tier
 * serialises internally what needs it.
 *
 * Failure: an I/O error puts a tier into a sticky failed state (stats.failed);
 * from then on put answers ST_EIO and the engine demotes elsewhere or evicts.
 */
#ifndef STRATA_TIER_H
#define STRATA_TIER_H

#include <stddef.h>
#include <stdint.h>

#define TIER_REC_MAGIC 0x31525453u /* "STR1" */
#define TIER_REC_HDR 44
#define TIER_KEY_MAX (512u * 1024 * 1024)
#define TIER_REC_F_RAW 0x01

/* A decoded record; key and val borrow the buffer it was decoded from. */
struct tier_rec {
    uint64_t gen;
    int64_t expire_ms;
    const char *key;
    uint32_t klen;
    const void *val;
    uint32_t vlen;
    uint32_t rawlen;
    uint32_t dict_id;
    uint8_t type;
    uint8_t flags;
};

/* Bytes tier_rec_encode writes for r. */
static inline size_t tier_rec_size(const struct tier_rec *r)
{
    return TIER_REC_HDR + (size_t)r->klen + r->vlen;
}

/* Writes r into buf (tier_rec_size(r) bytes, caller's) with its CRC. */
void tier_rec_encode(const struct tier_rec *r, void *buf);

/* Checks and decodes the record at buf (len bytes available; the record may
 * be shorter, *used says how long it is). Returns ST_OK with out's pointers
 * into buf, or ST_ECORRUPT (bad magic, lengths past len, CRC mismatch). */
int tier_rec_decode(const void *buf, size_t len, struct tier_rec *out, size_t *used);

/* ---- the interface --------------------------------------------------- */

struct tier;

typedef void tier_done_fn(void *ud, int rc, void *buf, size_t len);

struct tier_io {
    tier_done_fn *done; /* rc as the call would have returned; buf owned by done (get) */
    void *ud;
};

struct tier_stats {
    uint64_t records;      /* live records */
    uint64_t raw_bytes;    /* sum of live records' rawlen */
    uint64_t stored_bytes; /* sum of live records' vlen */
    uint64_t used_bytes;   /* space the tier uses for them, headers and slack included */
    uint64_t capacity_bytes;
    uint64_t puts, put_fails; /* put_fails: ST_EFULL or ST_EIO answers */
    uint64_t gets, hits, misses; /* misses: ENOENT (stale hint) or ECORRUPT */
    uint64_t dels;
    uint64_t errors;       /* checksum failures and I/O errors */
    int failed;            /* sticky failed state */
};

typedef int tier_visit_fn(void *ud, const void *rec, size_t len, uint64_t hint);

struct tier_ops {
    /* Stores a copy of the encoded record rec (len bytes). Sets *hint.
     * ST_OK, ST_EFULL (no room: nothing stored), ST_EIO (failed), ST_EPENDING. */
    int (*put)(struct tier *t, const void *rec, size_t len, uint64_t *hint, const struct tier_io *io);
    /* Reads the record of key with generation gen, looking at hint first.
     * ST_OK with *buf = an owned malloc'd copy of the whole encoded record
     * (checked: CRC, key, gen) and *len; ST_ENOENT (not there: stale);
     * ST_ECORRUPT (there but damaged; logged); ST_EPENDING. */
    int (*get)(struct tier *t, const char *key, size_t klen, uint64_t gen, uint64_t hint, void **buf,
               size_t *len, const struct tier_io *io);
    /* Drops the record of key with generation gen (ST_OK, ST_ENOENT). */
    int (*del)(struct tier *t, const char *key, size_t klen, uint64_t gen, uint64_t hint);
    /* Drops every record (and keeps dictionaries unless with_dicts). */
    int (*clear)(struct tier *t, int with_dicts);
    /* Calls fn for each whole, checksum-valid record until fn returns non-zero
     * (that value is returned). Damaged records are skipped and counted. */
    int (*iterate)(struct tier *t, tier_visit_fn *fn, void *ud);
    /* Compression dictionaries stored with the tier, by id (ids > 0). */
    int (*put_dict)(struct tier *t, uint32_t id, const void *dict, size_t len);
    /* Calls fn(ud, id, dict, len) for every stored dictionary. */
    int (*each_dict)(struct tier *t, int (*fn)(void *ud, uint32_t id, const void *dict, size_t len), void *ud);
    void (*stats)(struct tier *t, struct tier_stats *out);
    /* DRAM the tier itself holds in the process heap for its contents (the
     * mem tier's records); not indexes or buffers. maxmemory does not count it. */
    uint64_t (*heap_bytes)(struct tier *t);
    void (*destroy)(struct tier *t);
};

/* Every backend's struct starts with this. */
struct tier {
    const struct tier_ops *ops;
    const char *name; /* "mem", "pmem" */
};

/* Destroys *tp (which may be NULL) and NULLs it. */
static inline void tier_destroy(struct tier **tp)
{
    if (*tp) {
        (*tp)->ops->destroy(*tp);
        *tp = NULL;
    }
}

#endif
