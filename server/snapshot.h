/*
 * snapshot.h -- a snapshot of the keyspace written while serving goes on (no
 * fork: copy-on-write per entry, keyspace.h "snapshots"), and loading one.
 * The file format is engine/snap.c's (docs/formats.md).
 */
#ifndef STRATA_SNAPSHOT_H
#define STRATA_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/snap.h"

struct server;

struct snapshot_opts {
    int rotate;       /* BGREWRITEAOF: rotate the append log at T0 (the base it stands at) */
    uint64_t lineage; /* the lineage to name with no log open */
};

struct snapshot_result {
    int64_t t0_ms;
    uint64_t log_offset, lineage, log_seq;
    uint64_t dirty_at_t0;  /* the keyspace's change count at T0 */
    uint64_t keys, hot, cold, bytes;
    uint64_t captured;     /* values copied by writers before the walk reached them */
    uint64_t capture_peak; /* the most bytes those copies held at once */
    uint64_t lost;
    int64_t elapsed_us;
};

/* Writes a snapshot of every database to final_path (through a temporary
 * name in its directory; durable and renamed on ST_OK, the previous file
 * untouched otherwise). One at a time (the caller serialises). */
int snapshot_write(struct server *srv, const char *final_path, const struct snapshot_opts *o,
                   struct snapshot_result *res);

#define SNAPSHOT_LOAD_ATTACH 0x1 /* claim the PMem pool's records the snapshot names */

struct snapshot_load_stats {
    uint64_t hot, cold, attached, stored, decoded, dicts, expired, duplicates;
    uint64_t bad_off;
    int attach;
    int64_t elapsed_us;
};

/* Loads path into the (empty) keyspace and tiers; *meta gets its header.
 * ST_OK when the whole file was valid; otherwise what was loaded stays (the
 * caller empties the keyspace) and the damage is logged with its offset. */
int snapshot_load(struct server *srv, const char *path, unsigned flags, struct snap_meta *meta,
                  struct snapshot_load_stats *ls);

#endif
