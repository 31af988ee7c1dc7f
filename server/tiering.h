/*
 * tiering.h -- the server's cold tiers: which tiers exist, demotion of a key
 * (serialise, compress, store, swap in a stub), fetching and promotion of
 * cold keys (the keyspace's cold ops), the admission rule, and INFO tiers.
 *
 * Contract with the keyspace (engine/keyspace.h "cold keys"): tiering_create
 * installs fetch/admit/drop as the keyspace's cold ops, so any lookup of a
 * demoted key gets its value back; tiering_demote is the only way a stub is
 * made.
 */
#ifndef STRATA_TIERING_H
#define STRATA_TIERING_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct tiering;

/* Builds the tiers the config asks for (mem-tier-size, pmem-path) and
 * installs the cold ops. Sets *out to NULL when no tier is configured.
 * Returns 0, or an st_err after logging why (start-up stops). */
int tiering_create(struct server *srv, struct tiering **out);
void tiering_destroy(struct tiering **tp);

/* Demotes key (db) to the first tier with room. ST_OK (now a stub), ST_ENOENT
 * (no such key, or already cold), ST_EAGAIN (the key changed while its record
 * was written: nothing changed, record dropped), ST_EFULL (no tier had room),
 * ST_EIO (every tier failed), ST_ENOMEM. Takes the key's shard lock itself;
 * the caller must not hold any shard lock. *freed (optional) gets the DRAM
 * bytes the key gave back. */
int tiering_demote(struct tiering *tg, int db, const char *key, size_t klen, int64_t now_ms, size_t *freed);

/* Moves a cold key whose record is on a stub tier (PMem) to the indexed tier
 * after it (SSD), record bytes unchanged, and drops its stub from DRAM.
 * ST_OK, ST_ENOENT (no such stub), ST_EFULL (no indexed tier after it, or it
 * is full), ST_EAGAIN (the key changed meanwhile), ST_EIO. Same locking rules
 * as tiering_demote. */
int tiering_demote_further(struct tiering *tg, int db, const char *key, size_t klen, int64_t now_ms, size_t *freed);

/* Keys of indexed tiers that expired (found so by a read, or dropped by the
 * tier's own active expiry): INFO's expired_keys adds them. */
uint64_t tiering_expired_keys(struct tiering *tg);

/* The index of a stub tier that holds more than watermark_pct percent of its
 * capacity and has an indexed tier after it (the cascade's source), or -1. */
int tiering_cascade_source(struct tiering *tg, int watermark_pct);

/* Keys indexed tiers dropped to make room when full: INFO's evicted_keys
 * adds them. */
uint64_t tiering_evicted_keys(struct tiering *tg);

/* 1 when some tier keeps its own index (keys with no DRAM stub). */
int tiering_has_indexed(const struct tiering *tg);

/* Keys of db held by indexed tiers (no DRAM entry), and how many of them
 * have an expiry: DBSIZE and INFO keyspace add them. */
void tiering_db_counts(struct tiering *tg, int db, uint64_t *keys, uint64_t *volatile_keys);

/* Reads ahead, before the command e of c runs, the records of indexed tiers
 * that its keys may need (tiering_fetch.c). Returns TIERING_RUN when the
 * command can run now (the caller runs it: client_run), or
 * TIERING_SUSPENDED when c was suspended until the reads complete (the
 * command then runs from the resume). */
#define TIERING_RUN 0
#define TIERING_SUSPENDED 1
struct client;
struct cmd_entry;
int tiering_fetch_ahead(struct client *c, const struct cmd_entry *e);

/* Around a command's proc (client_run). A multi-key command holds links from
 * earlier lookups while it looks up later keys, and a lookup that promotes a
 * stub replaces the stub's node, which may hold such a link. So before a
 * multi-key write runs, begin promotes its keys' stubs and pins their shards
 * (no key there becomes a stub until end); a multi-key read lends cold values
 * only, never promotes. Single-key commands are left alone. */
void tiering_command_begin(struct client *c, const struct cmd_entry *e);
void tiering_command_end(struct client *c);

/* After a command ran: frees what was read ahead for it. */
void tiering_fetch_done(void);

/* What fetch-ahead read for the running SCAN (tier phase), KEYS or
 * RANDOMKEY: keys of an indexed tier with their type and expiry. NULL when
 * nothing was read (no indexed tier, or the command is not one of those). */
struct tiering_listed {
    const char *key; /* borrowed until tiering_fetch_done */
    uint32_t klen;
    uint8_t type;
    int64_t expire_ms;
};
struct tiering_listing {
    size_t n;
    const struct tiering_listed *items;
    /* SCAN: the cursor to hand back while the tiers' walk goes on, or 0 when
     * it is over (the command then goes on with DRAM: TIERING_SCAN_DRAM) */
    uint64_t next_cursor;
};
const struct tiering_listing *tiering_listing(void);

/* SCAN with an indexed tier walks the tiers' indexes first, then DRAM.
 * Cursor 0 starts with the tiers; a cursor with this bit set is a DRAM
 * cursor (ks_scan's, in the low 63 bits); any other non-zero cursor is a
 * tier's: bits 60..62 the tier slot, bits 0..59 the tier's own cursor.
 * Without an indexed tier, cursors are plain ks_scan cursors. */
#define TIERING_SCAN_DRAM (1ull << 63)

/* The name of the indexed tier holding key (not in DRAM) in db, or NULL. The
 * caller holds the key's shard lock. */
struct ks_key;
const char *tiering_where(struct tiering *tg, int db, const struct ks_key *k, int64_t now_ms);

/* Waits until no read of an indexed tier is in flight (shutdown, before the
 * workers their completions post to are destroyed). */
void tiering_drain(struct tiering *tg);

/* Demotes every key this thread's last command wrote (ks_cold tracked keys;
 * tier-demote-on-write), then forgets them. */
void tiering_demote_tracked(struct tiering *tg, int64_t now_ms);

/* 1 when some tier can take records (configured and not failed). */
int tiering_can_demote(struct tiering *tg);

/* Bytes of the process heap that hold tier contents (the mem tier), which
 * maxmemory does not count. */
uint64_t tiering_heap_bytes(struct tiering *tg);

/* Folds this thread's ks_cold counters into the tier stats (call after each
 * command and from cron). */
void tiering_collect_thread(struct tiering *tg);

/* Calls add(ud, line) for each line of INFO's "# Tiers" body. */
void tiering_info(struct tiering *tg, void (*add)(void *ud, const char *line), void *ud);

/* Name of the tier a stub's record is on ("pmem", "mem"), or NULL. */
const char *tiering_tier_name(struct tiering *tg, unsigned tier);

/* Keys that are stubs now (cold). */
uint64_t tiering_cold_keys(struct tiering *tg);

/* DRAM held by compression dictionaries (counted in maxmemory). */
uint64_t tiering_dict_bytes(struct tiering *tg);


/* ---- snapshots and recovery (tiering_persist.c) ---- */
struct entry;
struct codec;
/* The full entry for key from an encoded record (checked: key, CRC;
 * decompressed with codec's dictionaries, deserialised). expire_ms is the
 * expiry to give it, or TIERING_EXPIRE_OF_REC for the record's own. ST_OK
 * with *out owned (access 0), or an error (nothing logged). */
#define TIERING_EXPIRE_OF_REC INT64_MIN
int tiering_decode_record(struct server *srv, struct codec *codec, const void *buf, size_t len, const char *key,
                          size_t klen, int64_t expire_ms, struct entry **out);
/* A snapshot's T0 (under every shard lock) and its end. */
void tiering_snap_begin_locked(struct tiering *tg);
void tiering_snap_end_locked(struct tiering *tg);
/* The marks T0 set, per tier (TIERING_MAX of them), for the walk below. */
void tiering_snap_marks(struct tiering *tg, uint64_t *marks);
/* A copy of the record behind stub (shard lock held): ST_OK with *rec owned. */
int tiering_stub_record(struct tiering *tg, const struct entry *stub, void **rec, size_t *len, int *is_pmem);
/* Every compression dictionary once. */
int tiering_each_dict(struct tiering *tg, int (*fn)(void *ud, uint32_t id, const void *dict, size_t len), void *ud);
/* Every record of the indexed tiers that existed at T0 (seq <= mark). */
int tiering_snap_walk_indexed(struct tiering *tg, const uint64_t *marks,
                              int (*fn)(void *ud, int db, const void *rec, size_t len), void *ud);
/* Loading: a dictionary; a cold record stored as it is (ST_OK with *stub for
 * a stub tier, NULL for an indexed one; ST_EFULL: no tier took it); a record
 * decoded into a full entry. */
int tiering_load_dict(struct tiering *tg, uint32_t id, const void *dict, size_t len);
int tiering_load_cold(struct tiering *tg, int db, const void *rec, size_t len, int64_t expire_ms,
                      struct entry **stub);
int tiering_load_entry(struct tiering *tg, const void *rec, size_t len, const char *key, size_t klen,
                       int64_t expire_ms, struct entry **out);
/* Drops what indexed tiers re-attached at start (a snapshot or log decides). */
void tiering_drop_indexed(struct tiering *tg, const char *why);
/* Warm attach of the PMem pool: begin (ST_ENOENT: nothing to attach), claim
 * a snapshot's cold item (ST_OK with a stub for its record in the pool), end
 * (frees the previous run's records no item claimed, keeps those stored
 * since begin; with no begin, clears the pool). */
int tiering_pmem_attach_begin(struct tiering *tg);
int tiering_pmem_claim(struct tiering *tg, const char *key, size_t klen, int64_t expire_ms, uint64_t gen,
                       uint32_t crc, struct entry **stub);
void tiering_pmem_attach_end(struct tiering *tg, uint64_t *claimed, uint64_t *freed);

#endif
