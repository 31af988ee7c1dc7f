/*
 * memidx.h -- the indexed heap tier: records in malloc'd buffers behind the
 * indexed-tier interface of engine/tier.h (its own index by (db, key); keys
 * that live there have no DRAM stub), with reads completed later on a thread
 * of its own. It is the reference implementation of struct tier_index_ops
 * and lets the server's handling of indexed tiers (suspended clients, fetch
 * ahead, SCAN/KEYS/RANDOMKEY over the tier) be tested without a device.
 * Nothing it holds survives the process.
 */
#ifndef STRATA_TIERS_MEMIDX_H
#define STRATA_TIERS_MEMIDX_H

#include <stdint.h>

#include "engine/tier.h"

struct mxtier_conf {
    uint64_t capacity_bytes; /* records' bytes the tier may hold; 0 = unbounded */
    unsigned databases;      /* 1 .. 1024 */
    uint32_t delay_us;       /* each asynchronous read completes this long after
                              * it was asked for (0: as soon as the thread runs) */
};

/* Creates the tier (conf borrowed) and returns it owned in *out, to be
 * released with tier_destroy() (which completes every read in flight first).
 * Returns ST_OK, ST_EINVAL (databases out of range) or ST_ENOMEM.
 *
 * Behaviour beyond engine/tier.h:
 *  - loc = (slot index + 1) | (slot version << 32): a slot reused by another
 *    record has another version, so a stale loc is never current.
 *  - fetch and fetch_at with done set always complete on the tier's thread
 *    (ST_EPENDING), so callers exercise their suspension path; with done ==
 *    NULL they complete at once.
 *  - insert answers ST_EFULL past capacity_bytes; nothing is evicted.
 *  - stats: records = indexed keys; raw/stored/used bytes exact; gets counts
 *    fetches, hits and misses their answers; dels the removes that removed.
 *  - heap_bytes = the records' and dictionaries' bytes (like the mem tier,
 *    it stands in for memory that is not DRAM: maxmemory does not count it).
 *  - the base put/get/del/iterate answer ST_EINVAL.
 */
int mxtier_create(const struct mxtier_conf *conf, struct tier **out);

#endif
