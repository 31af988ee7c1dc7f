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
 *   8    8     gen        generation: unique per record an engine writes (low
 *                          32 bits; in an indexed tier's records the high 32
 *                          bits keep the key's access field: LRU clock + LFU)
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
 *
 * Two kinds of tier. A *stub* tier (mem, pmem) is found through the key's
 * DRAM stub, which holds the hint: put/get/del above. An *indexed* tier (the
 * SSD tier; tier.indexed = 1) keeps its own index of (db, key) -> location,
 * so the keys it holds cost no stub in DRAM, only the tier's index entry:
 * the engine asks it (probe, then fetch) when a lookup misses DRAM. See
 * "tiers with their own index" below.
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

/* Rewrites the generation and expiry of the whole, valid record at buf and
 * its CRC, in place (a record moving between tiers, or gaining what a stub
 * knew: its expiry, its access clock). */
void tier_rec_restamp(void *buf, uint64_t gen, int64_t expire_ms);

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
    uint64_t expired;      /* indexed tiers: records the tier dropped itself
                            * because their expiry passed (active expiry) */
    uint64_t evicted;      /* indexed tiers: keys the tier dropped itself to make
                            * room when full (whole segments evicted) */
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
    /* Optional (NULL: not offered). Drops the whole record at hint when it has
     * generation gen and the CRC field crc: a record known by its place, not
     * its key (the warm attach frees the previous run's records no snapshot
     * named without walking the tier again). ST_OK, ST_ENOENT. */
    int (*del_at)(struct tier *t, uint64_t hint, uint64_t gen, uint32_t crc);
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

/* ---- tiers with their own index ----------------------------------------
 *
 * An indexed tier holds at most one live record per (db, key) and finds it
 * by key alone; keys that live there have no DRAM stub. The engine keeps the
 * invariant that a key lives in one place: DRAM (or a stub) first, else the
 * indexed tier; a key found in DRAM is never looked for in the tier.
 *
 * Locations ("loc", u64, never 0) name one record's place; the tier hands
 * them out and validates them: a loc is current while the index entry of its
 * key points there. Compaction moves records and updates the index itself,
 * so a loc the engine holds may stop being current at any moment; the
 * engine re-checks (current) under the key's shard lock before it believes
 * a fetched record, and fetches again when the record moved.
 *
 * Reads take time (a disk read). fetch and fetch_at complete at once when
 * they can (a record still in a write buffer, an index miss) and otherwise
 * return ST_EPENDING and call r->done exactly once, later, from a tier
 * thread, with r's out fields set. A caller that passes done == NULL gets a
 * synchronous read (the calling thread waits for the I/O): the engine does
 * that only where it cannot wait (counted, see server/tiering.c).
 *
 * Every (db) argument is 0 .. databases-1 as the tier was configured.
 */
struct tier_req {
    /* in */
    int db;
    const char *key;     /* fetch: the key, borrowed until done has run */
    uint32_t klen;
    uint64_t loc;        /* fetch_at: where to read; fetch: out, where it was */
    uint64_t seq;        /* out: the record's sequence (see seq_now) */
    /* out (valid when the call returns anything but ST_EPENDING, or in done) */
    int rc;              /* ST_OK, ST_ENOENT, ST_ECORRUPT, ST_EIO */
    void *buf;           /* ST_OK: an owned malloc'd copy of the whole encoded
                          * record (checked: CRC, and key for fetch) */
    size_t len;
    /* completion */
    void (*done)(struct tier_req *r); /* NULL: the call waits for the I/O */
    void *ud;
};

struct tier_index_ops {
    /* Stores a copy of the encoded record rec (len bytes) and indexes it under
     * (db, its key), replacing (and retiring) any entry of that key. The
     * record is readable as soon as this returns (from the write buffer until
     * it reaches the device). Sets *loc. ST_OK, ST_EFULL (no room and nothing
     * to evict), ST_EIO (failed state), ST_EINVAL (not one whole record). */
    int (*insert)(struct tier *t, int db, const void *rec, size_t len, uint64_t *loc);
    /* 0 when the index surely has no entry for key in db, 1 when it may
     * (false positives are allowed, false negatives are not). DRAM only:
     * never waits for I/O. Any thread, no locks of the caller's needed. */
    int (*probe)(struct tier *t, int db, const char *key, size_t klen);
    /* Reads the current record of (r->db, r->key): ST_OK with r->buf, r->len
     * and r->loc; ST_ENOENT when the key is not there; ST_ECORRUPT when its
     * record is damaged (logged, the index entry dropped, counted in errors);
     * ST_EIO. Or ST_EPENDING (see above). */
    int (*fetch)(struct tier *t, struct tier_req *r);
    /* Reads the record at r->loc, a location scan or random handed out (for
     * SCAN, KEYS, RANDOMKEY), if its key is still indexed in r->db: ST_OK
     * with r->buf and r->len -- and, if the record moved since (compaction),
     * the key's current record with r->loc updated -- or ST_ENOENT when the
     * key was removed or rewritten. r->key is not used. */
    int (*fetch_at)(struct tier *t, struct tier_req *r);
    /* 1 when loc is the current location of key in db, else 0. DRAM only. */
    int (*current)(struct tier *t, int db, const char *key, size_t klen, uint64_t loc);
    /* Drops key's entry in db if it is at loc: ST_OK, or ST_ENOENT (not there,
     * or it has moved: fetch again). A dropped key stays dropped across a
     * restart that re-attaches the tier (a delete note goes to the device
     * with the next buffer). */
    int (*remove)(struct tier *t, int db, const char *key, size_t klen, uint64_t loc);
    /* Keys indexed in db, and how many of them have an expiry. Keys whose
     * expiry passed but that nobody has read or dropped yet still count. */
    void (*db_counts)(struct tier *t, int db, uint64_t *keys, uint64_t *volatile_keys);
    /* SCAN of db's index: from cursor (0 = start), appends to locs[] the
     * locations of up to cap entries (cap >= 64; whole buckets at a time, at
     * least one, so *n may be 0 before the end) and returns the next cursor,
     * 0 when the walk is complete; cursors fit in 60 bits. Every entry
     * indexed for the whole walk is returned at least once, across index
     * resizes and across rewrites of its key (Redis's reverse-binary cursor
     * over a position that depends on the key alone). */
    uint64_t (*scan)(struct tier *t, int db, uint64_t cursor, uint64_t *locs, size_t cap, size_t *n);
    /* A uniformly random entry of db's index (rnd: the caller's random bits):
     * ST_OK with *loc, ST_ENOENT when db has none. */
    int (*random)(struct tier *t, int db, uint64_t rnd, uint64_t *loc);
    /* Drops every entry of db (db < 0: of every db). */
    int (*flushdb)(struct tier *t, int db);
    /* Swaps the contents of databases a and b. */
    int (*swapdb)(struct tier *t, int a, int b);
    /* Sequences: every insert gives its record a sequence number larger than
     * any given before, in this process and across restarts that re-attach
     * the tier; a record moved by compaction keeps its own. seq_now is a
     * number no record inserted before the call exceeds, and that every
     * record inserted after it does. fetch, fetch_at and iterate report each
     * record's (a snapshot tells what existed at its T0 by them). */
    uint64_t (*seq_now)(struct tier *t);
    /* Calls fn for each current record (db, the encoded record, its loc, its seq) until
     * fn returns non-zero (that value is returned); the tier reads what it
     * must from the device on the calling thread (snapshots, strata-inspect).
     * fn may call remove and insert; a record current for the whole walk is
     * visited exactly once. */
    int (*iterate)(struct tier *t, int (*fn)(void *ud, int db, const void *rec, size_t len, uint64_t loc, uint64_t seq),
                   void *ud);
    /* Returns when every fetch and fetch_at in flight has completed (its done
     * has returned). The server calls it at shutdown before it destroys the
     * threads those completions report to. */
    void (*drain)(struct tier *t);
};

/* Every backend's struct starts with this. */
struct tier {
    const struct tier_ops *ops;
    const char *name; /* "mem", "pmem", "ssd" */
    /* Indexed tiers: their index operations (NULL for a stub tier, whose
     * put/get/del/iterate are the ones to use; an indexed tier's put, get and
     * del answer ST_EINVAL). */
    const struct tier_index_ops *index;
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
