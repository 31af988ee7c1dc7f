/*
 * pmem.h -- the PMem tier: records in a libpmemobj pool (one object per
 * record), crash-consistent on its own. Implements engine/tier.h. Nothing of
 * libpmemobj appears here: the engine only sees struct tier.
 */
#ifndef STRATA_TIERS_PMEM_H
#define STRATA_TIERS_PMEM_H

#include <stdint.h>

#include "engine/tier.h"

/* The pool's layout name: a pool made by anything else is refused. */
#define PTIER_LAYOUT "strata-ptier-1"

/* Log levels passed to ptier_conf.log (the numbers of server/log.h's levels). */
#define PTIER_LOG_NOTICE 2
#define PTIER_LOG_WARNING 3

struct ptier_conf {
    const char *path; /* pool file (or device DAX); a pool set file is not supported */
    uint64_t size;    /* bytes of a pool created here (>= 8 MiB); ignored when it exists */
    /* Optional (NULL: silent). Called from the thread of the call that has
     * something to say, with one line (no newline), sometimes under the
     * tier's locks: it must not call into the tier. msg is only valid
     * during the call. */
    void (*log)(void *ud, int level, const char *msg);
    void *log_ud;
};

/* Opens the pool at conf->path if the file exists, else creates it with
 * conf->size bytes, and returns the tier owned in *out (release it with
 * tier_destroy(), which closes the pool). conf and its strings are borrowed
 * for the call only.
 *
 * Opening re-attaches the records already in the pool (stats rebuilt by a
 * walk over it): records left with a zeroed magic by a delete the last
 * process did not finish are freed, damaged records are logged, counted in
 * stats.errors and freed, so every record left in the pool decodes.
 *
 * Returns ST_OK, ST_EINVAL (no path, size below 8 MiB for a new pool, path
 * neither a file nor a character device), ST_ECORRUPT (the file is not a
 * pool of this layout, or libpmemobj finds it damaged; logged), ST_EIO (any
 * other failure to open or create, e.g. the pool is open in another
 * process; logged), ST_ENOMEM. *out is untouched on failure.
 *
 * Behaviour beyond engine/tier.h:
 *  - hint = the record object's offset in the pool. get/del check it is
 *    16-aligned and inside the pool before reading, then the magic, key and
 *    generation in place, then (get) the CRC of the copy returned.
 *  - put answers ST_EINVAL for bytes that are not one whole record, ST_EFULL
 *    when the pool has no room (libpmemobj ENOMEM; the tier carries on),
 *    ST_EIO in the failed state; an unexpected libpmemobj error enters the
 *    sticky failed state (stats.failed = 1; gets and dels go on working).
 *  - a delete zeroes the record's magic (persisted) before freeing it, so a
 *    stale hint fails at the first check.
 *  - put_dict: ST_EINVAL for id 0, ST_EEXIST for an id already stored,
 *    ST_EFULL, ST_EIO as put.
 *  - stats: puts counts every put call, put_fails those not ST_OK; gets every
 *    get call, hits ST_OK, misses ST_ENOENT + ST_ECORRUPT; dels the records
 *    deleted; errors: damaged records met (get, iterate, open);
 *    used_bytes: Σ allocator usable size + 16 header bytes per record;
 *    capacity_bytes: the pool's size (libpmemobj's own metadata takes part
 *    of it). Dictionaries are not in the record counts.
 *  - heap_bytes() is 0: contents live in the pool, not the process heap.
 *  - iterate and each_dict copy each item out and call fn with no lock held:
 *    fn may call back into the tier, including del of the record it is
 *    given. A record live for the whole walk is visited exactly once.
 */
int ptier_create(const struct ptier_conf *conf, struct tier **out);

#endif
