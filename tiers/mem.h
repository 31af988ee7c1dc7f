/*
 * mem.h -- the heap tier: records in malloc'd buffers, for tests and for
 * running the tiering code without PMem. Implements engine/tier.h.
 */
#ifndef STRATA_TIERS_MEM_H
#define STRATA_TIERS_MEM_H

#include <stdint.h>

#include "engine/tier.h"

struct mtier_conf {
    uint64_t capacity_bytes; /* records' bytes the tier may hold; 0 = unbounded */
};

/* Creates a mem tier (conf borrowed; NULL means unbounded) and returns it
 * owned in *out, to be released with tier_destroy(). Returns ST_OK or
 * ST_ENOMEM (*out untouched).
 *
 * Behaviour beyond engine/tier.h:
 *  - hint = the record's slot index; get/del answer ST_ENOENT for a hint out
 *    of range, an empty slot, or a record of another key or generation.
 *  - put answers ST_EINVAL for bytes that do not decode as one whole record
 *    (tier_rec_decode, using all len bytes), ST_EFULL when the record would
 *    take the tier past capacity_bytes or malloc fails.
 *  - put_dict answers ST_EINVAL for id 0, ST_EEXIST for an id already stored
 *    (dictionaries are immutable once named).
 *  - stats: puts counts every put call, put_fails those not ST_OK; gets every
 *    get call, hits ST_OK, misses ST_ENOENT + ST_ECORRUPT; dels the records
 *    deleted (ST_OK); errors CRC failures; used_bytes = Σ record lengths;
 *    capacity_bytes as configured (0 = unbounded); failed is always 0.
 *  - heap_bytes = used_bytes + the stored dictionaries' bytes.
 *  - iterate and each_dict copy each item out under the lock and call fn
 *    without it: fn may call back into the tier (a record put or deleted
 *    during the walk may or may not be visited; one live throughout is
 *    visited once).
 */
int mtier_create(const struct mtier_conf *conf, struct tier **out);

#endif
