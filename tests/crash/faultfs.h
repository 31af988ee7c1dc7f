/*
 * faultfs.h -- a fault-injection file system for crash tests: a struct vfs
 * (engine/vfs.h) over a real directory that remembers what has not been
 * made durable yet and, on request, simulates a power loss by dropping,
 * keeping or tearing it. SQLite's test6.c is the model; faultfs.c explains
 * the crash model in full.
 *
 * Use:
 *
 *     struct faultfs *fs;
 *     faultfs_create("/tmp/t.XXXX", &fs);   // the directory must exist
 *     const struct vfs *v = faultfs_vfs(fs);
 *     faultfs_crash_after(fs, FAULTFS_OP_MUTATING, 7); // "crash now" after the 7th change
 *     ... run the code under test on v: from the 8th change on every call fails with -EIO ...
 *     faultfs_crash(fs, seed, FAULTFS_RANDOM);        // power loss, then "reboot"
 *     ... reopen and check what survived (through v or the real file system) ...
 *     faultfs_destroy(&fs);
 *
 * Every path given to the vfs must lie under the root directory (absolute
 * or relative, spelled with the root as its prefix); others are refused
 * with -EPERM, so a crash can never touch files outside it. faultfs keeps
 * its own hidden files there (".faultfs-*": backups of unlinked and
 * replaced files, which an undone unlink or rename restores); list never
 * shows them, so the code under test sees only its own files.
 *
 * Threads: every call takes the faultfs's mutex, so the code under test may
 * call it from any thread. The control functions below are meant for the
 * test's own thread, between or during runs.
 */
#ifndef STRATA_FAULTFS_H
#define STRATA_FAULTFS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/vfs.h"

struct faultfs;

/* The vfs operations, as bits, for the fault plan and the call counters. */
#define FAULTFS_OP_OPEN 0x001u
#define FAULTFS_OP_PREAD 0x002u
#define FAULTFS_OP_PWRITE 0x004u
#define FAULTFS_OP_SYNC 0x008u
#define FAULTFS_OP_TRUNCATE 0x010u
#define FAULTFS_OP_SIZE 0x020u
#define FAULTFS_OP_CLOSE 0x040u
#define FAULTFS_OP_RENAME 0x080u
#define FAULTFS_OP_UNLINK 0x100u
#define FAULTFS_OP_SYNC_DIR 0x200u
#define FAULTFS_OP_MKDIR 0x400u
#define FAULTFS_OP_LIST 0x800u
#define FAULTFS_OP_ALL 0xfffu
/* The calls that change durable state or make it durable: a crash test that
 * stops the code "after every step" counts these. */
#define FAULTFS_OP_MUTATING                                                                        \
    (FAULTFS_OP_OPEN | FAULTFS_OP_PWRITE | FAULTFS_OP_SYNC | FAULTFS_OP_TRUNCATE | FAULTFS_OP_RENAME | \
     FAULTFS_OP_UNLINK | FAULTFS_OP_SYNC_DIR | FAULTFS_OP_MKDIR)

/* What a simulated power loss does with each change not yet made durable. */
enum faultfs_mode {
    FAULTFS_KEEP_ALL = 0, /* everything reached the disk (a process crash) */
    FAULTFS_DROP_ALL = 1, /* nothing did: files as at their last sync, directories as at their last sync_dir */
    FAULTFS_RANDOM = 2,   /* each write and truncation kept or dropped (1/2 each); a random prefix
                           * of the directory operations kept */
    FAULTFS_TEAR = 3,     /* each write kept, dropped or torn (1/3 each: a random sector-aligned
                           * prefix kept, the rest old bytes or garbage); truncations and
                           * directory operations as RANDOM */
};

struct faultfs_stats {
    uint64_t crashes;        /* faultfs_crash / faultfs_crash_plan calls */
    uint64_t kept;           /* unsynced writes and truncations kept by the crashes */
    uint64_t dropped;        /* ... dropped */
    uint64_t torn;           /* ... torn (writes only) */
    uint64_t dirops_kept;    /* directory operations not yet synced that the crashes kept */
    uint64_t dirops_undone;  /* ... undid */
    uint64_t injected;       /* calls failed by faultfs_fail_nth */
    uint64_t refused;        /* calls refused because the fs had "crashed now" or the handle was stale */
};

/* Creates a faultfs over the existing directory root (copied). Returns ST_OK
 * with *out owned by the caller (faultfs_destroy), ST_EINVAL (root missing
 * or not a directory), ST_ENOMEM. */
int faultfs_create(const char *root, struct faultfs **out);

/* Closes every real descriptor it holds, removes its hidden backup files,
 * frees everything and NULLs *fsp (which may be NULL or point to NULL). The
 * files under root stay as they are. No call may be in progress. */
void faultfs_destroy(struct faultfs **fsp);

/* The vfs to hand to the code under test; borrowed, valid until destroy. */
const struct vfs *faultfs_vfs(struct faultfs *fs);

/* Fault plan: the n-th call (1 = the next one) of any operation in ops,
 * counted from now, fails with -EIO without doing anything; with then_crash
 * the fs also "crashes now" at that call (see faultfs_crash_now). Replaces
 * any earlier fail plan; n = 0 cancels it. */
void faultfs_fail_nth(struct faultfs *fs, unsigned ops, uint64_t n, int then_crash);

/* Fault plan: the n-th call of any operation in ops, counted from now, is
 * performed, and then the fs "crashes now". Replaces any earlier crash plan;
 * n = 0 cancels it. */
void faultfs_crash_after(struct faultfs *fs, unsigned ops, uint64_t n);

/* "Crash now": from here on every vfs call fails with -EIO and does nothing
 * (close still releases the handle), so the code under test stops as a
 * process that lost its disk would. Cleared by faultfs_crash. */
void faultfs_crash_now(struct faultfs *fs);

/* 1 when the fs has "crashed now" (by plan or faultfs_crash_now), else 0. */
int faultfs_is_crashed(struct faultfs *fs);

/* Calls of the operations in ops performed (or failed by the plan) since
 * faultfs_create; calls refused after "crash now" are not counted. */
uint64_t faultfs_calls(struct faultfs *fs, unsigned ops);

/* Simulates a power loss and a reboot. Each change not yet durable (file
 * writes and truncations since that file's last sync; creations, renames,
 * unlinks and mkdirs since the directory's last sync_dir) is kept, dropped
 * or torn as mode and seed decide (faultfs.c, "The crash model"). Then every
 * handle open before is stale (its calls fail with -EIO; close releases it),
 * the fault plans and "crash now" are cleared, and everything on disk counts
 * as durable. Returns ST_OK, or ST_EIO when the real file system failed
 * while the crash was applied (the directory is then in an unknown state). */
int faultfs_crash(struct faultfs *fs, uint64_t seed, enum faultfs_mode mode);

/* faultfs_crash with explicit decisions, for tests of the model itself: the
 * i-th outstanding file change (in the order the changes were made, across
 * all files; i < 64) is kept when bit i of keep_mask is set, else dropped
 * (changes from the 64th on are dropped), and the first dirops_kept
 * outstanding directory operations are kept, the rest undone. */
int faultfs_crash_plan(struct faultfs *fs, uint64_t keep_mask, size_t dirops_kept);

/* Outstanding (not yet durable) file changes and directory operations. */
void faultfs_pending(struct faultfs *fs, size_t *file_changes, size_t *dirops);

/* Fills *out with the counters. */
void faultfs_stats(struct faultfs *fs, struct faultfs_stats *out);

#endif
