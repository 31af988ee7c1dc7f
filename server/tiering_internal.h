/*
 * tiering_internal.h -- what tiering.c (the tier list, demotion, the cold
 * ops) and tiering_fetch.c (reading indexed tiers ahead of a command) share.
 * Nothing outside those files (and tiering_persist.c) includes it.
 */
#ifndef STRATA_TIERING_INTERNAL_H
#define STRATA_TIERING_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/tier.h"

struct server;
struct codec;
struct entry;
struct cmd_entry;
struct tgf;

#define TIERING_MAX 4
#define LAT_BUCKETS 256

/* Read latency: log-linear buckets over nanoseconds (4 per power of two). */
struct lat_hist {
    _Atomic uint64_t b[LAT_BUCKETS];
};

void lat_add(struct lat_hist *h, uint64_t ns);

struct tier_slot {
    struct tier *t;
    int indexed;                    /* t->index != NULL: keys there have no stub */
    _Atomic uint64_t demotions;     /* records that became a key's value */
    _Atomic uint64_t demote_failures; /* put answered EFULL/EIO */
    _Atomic uint64_t reads;         /* fetches that returned a value */
    _Atomic uint64_t read_failures; /* fetches that lost the record */
    _Atomic uint64_t drops;         /* records dropped with their key (deleted, overwritten, expired) */
    _Atomic uint64_t promotions;    /* records whose value moved back to DRAM */
    _Atomic uint64_t cold_keys;     /* stub tiers: stubs pointing here now */
    _Atomic uint64_t moved_in;      /* records moved here from a colder-to-be tier (cascade) */
    _Atomic uint64_t sync_reads;    /* indexed: reads a worker waited for (see tiering_fetch.c) */
    _Atomic uint64_t expired;       /* indexed: records found expired and dropped */
    struct lat_hist lat;            /* read latency as the server sees it */
};

/* Admission of reads from indexed tiers: a direct-mapped table of recently
 * read key hashes (tag in the high bits, LRU clock in the low 24), relaxed
 * atomics; "read again within tier-promote-window" without any per-key DRAM. */
#define TIERING_GHOST_BITS 16

struct tiering {
    struct server *srv;
    struct codec *codec;
    struct tier_slot slot[TIERING_MAX];
    int n;
    int nindexed;
    _Atomic uint32_t next_gen;
    _Atomic uint64_t lent, promoted, lost; /* folded from the threads' ks_cold counters */
    _Atomic uint64_t demote_raced;
    _Atomic uint64_t demote_calls;
    _Atomic uint64_t fetch_suspended;  /* commands that waited for indexed-tier reads */
    _Atomic uint64_t fetch_records;    /* records read ahead of commands */
    /* the listing commands, found once in the registry (tiering_fetch.c) */
    const struct cmd_entry *cmd_scan, *cmd_keys, *cmd_randomkey, *cmd_move, *cmd_copy;
    _Atomic uint64_t ghost[1u << TIERING_GHOST_BITS];
    /* a running snapshot's T0, per indexed tier: the tier's seq_now then (a
     * record of seq <= snap_mark existed at T0); 0 = no snapshot. Written
     * under every shard lock, read under one. */
    uint64_t snap_mark[TIERING_MAX];
    int pmem_attach;                /* the pool was kept at start: recovery claims or frees its records */
};

/* The full entry for key from an encoded record (checked: key, CRC;
 * decompressed, deserialised; the type the record's). expire_ms is the
 * expiry to give it, or TIERING_EXPIRE_OF_REC for the record's own. ST_OK
 * with *out owned (access 0), or an error (nothing logged). */
int tiering_rec_to_entry(struct tiering *tg, int slot, const void *buf, size_t len, const char *key, size_t klen,
                         int64_t expire_ms, struct entry **out);

/* The record fetch-ahead read for (slot, db, key) for the running command:
 * ST_OK with its bytes borrowed in *buf, *len and its loc; ST_ENOENT when the
 * read found nothing; ST_EAGAIN when nothing was read ahead for it. */
int tgf_lookup(const struct tgf *f, int slot, int db, const char *key, size_t klen, const void **buf, size_t *len,
               uint64_t *loc, uint64_t *seq);

/* Stores the encoded record rec (restamped with gen, access, expire_ms) in
 * the first tier that takes it: ST_OK with *slot and *hint (an indexed
 * tier's loc), ST_EFULL, ST_EIO (tiering.c). */
int tiering_store_record(struct tiering *tg, int db, void *rec, size_t reclen, uint32_t gen, uint32_t access,
                         int64_t expire_ms, int *slot, uint64_t *hint);

#endif
