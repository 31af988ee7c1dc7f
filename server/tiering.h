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

#endif
