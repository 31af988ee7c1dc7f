/*
 * wlog.h -- the append log: every write command that changed data, in
 * execution order, in engine/aof.c's checksummed format, with logical
 * offsets that continue across files (replication will use them).
 *
 * Files live in <dir>/<appenddirname>: a manifest naming the lineage, an
 * optional base snapshot (the state at some offset) and the incr files that
 * continue from it, in order (wlog.c's essay has the details). Recovery
 * (recover.c) reads them through wlog_manifest_load before the log opens for
 * appending; BGREWRITEAOF (snapshot.c) rotates to a fresh incr file at the
 * instant its base snapshot starts, and wlog_rewrite_done swaps the manifest.
 *
 * Threads: workers append (under the shard locks of the command, through the
 * keyspace's log hook); the log's own thread writes and syncs; any thread may
 * read the figures.
 */
#ifndef STRATA_WLOG_H
#define STRATA_WLOG_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct client;
struct cmd_entry;
struct worker;
struct wlog;

/* What a manifest says (strings owned by the struct; wlog_manifest_free). */
struct wlog_manifest {
    uint64_t lineage;
    uint64_t seq;         /* the number the files of this generation carry */
    char *base;           /* base snapshot file name (in the log directory), or NULL */
    uint64_t base_offset; /* the offset the base stands at */
    size_t nincr;
    char **incr;          /* incr file names, in order */
};

/* Reads <dir>/<appenddirname>/<appendfilename>.manifest into *m. ST_OK,
 * ST_ENOENT (no log yet), ST_ECORRUPT (unreadable: logged). */
int wlog_manifest_load(struct server *srv, struct wlog_manifest *m);
void wlog_manifest_free(struct wlog_manifest *m);

/* The path of file name in the log directory (malloc'd). */
char *wlog_path(struct server *srv, const char *name);

/* Opens the log for appending after recovery: continues the last incr file
 * of m (which recovery left ending in a whole record at next_offset), or,
 * with m NULL, starts a new lineage at offset next_offset with a fresh
 * manifest. Starts the log's thread. ST_OK or an error (logged). */
int wlog_open(struct server *srv, const struct wlog_manifest *m, uint64_t next_offset, uint64_t lineage,
              struct wlog **out);

/* Writes and syncs everything appended, stops the thread, closes. */
void wlog_close(struct wlog **lp);

/* Around a write command's proc (client_run): arm the keyspace's log hook so
 * the command's record is appended at its first unlock after a change, and
 * after the proc, append it if the command changed data without unlocking
 * anything, then forget any rewrite. */
void wlog_arm(struct client *c);
void wlog_disarm(struct client *c);

/* A command whose effect its arguments do not repeat (SPOP, INCRBYFLOAT, a
 * blocking pop served at once ...) gives the record to log instead, before
 * its first unlock; the arguments are copied. */
void wlog_rewrite(struct client *c, int argc, const char *const *argv, const size_t *lens);

/* Appends a record now (an eviction's DEL, the pop a push served for a
 * blocked client): the caller holds the shard locks of the keys, and a record
 * armed for the running command goes first. time_ms is the execution time.
 * Returns the record's place, for a worker's log_need (a reply that must
 * wait for it under appendfsync always: a served blocked client's), 0 when
 * there is no log. */
uint64_t wlog_append(struct wlog *l, int64_t time_ms, int db, int argc, const char *const *argv,
                     const size_t *lens);

/* The same for a record of a command name, a key and n more arguments (the
 * records that serve blocked clients and evictions write). l may be NULL. */
uint64_t wlog_append_key(struct wlog *l, int db, const char *name, const char *key, size_t klen, int n,
                         const char *const *args, const size_t *lens);

/* appendfsync always: returns when every record this worker appended is
 * durable (before its replies are written). */
void wlog_wait_durable(struct wlog *l, struct worker *w);

/* The logical offset the next record gets. */
uint64_t wlog_offset(struct wlog *l);
uint64_t wlog_lineage(struct wlog *l);
/* The generation (file number) records are appended to now. */
uint64_t wlog_generation(struct wlog *l);

/* BGREWRITEAOF, under every shard lock: records from now on go to a new incr
 * file starting at the returned offset, which the new base snapshot stands
 * at. *seq gets the new generation's number. */
int wlog_rotate_locked(struct wlog *l, uint64_t *offset, uint64_t *seq);
/* The base snapshot of generation seq is durable at base (a file name in the
 * log directory): the manifest becomes {base, the incr file of seq}, and the
 * older base and incr files are removed. ST_OK or ST_EIO. */
int wlog_rewrite_done(struct wlog *l, uint64_t seq, const char *base, uint64_t base_offset);

/* INFO persistence's aof_* lines. */
void wlog_info(struct wlog *l, void (*add)(void *ud, const char *line), void *ud);

#endif
