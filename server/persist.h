/*
 * persist.h -- snapshots on request and on schedule, the append log's
 * rewrite, backups, and recovery at start (persist.c).
 *
 * One persistence thread runs every snapshot (BGSAVE, save rules, backups,
 * BGREWRITEAOF's base), one at a time; SAVE waits for the one it asked for.
 * Recovery runs on the start-up thread before the server listens.
 */
#ifndef STRATA_PERSIST_H
#define STRATA_PERSIST_H

#include <stdint.h>

struct server;

/* Start-up, after server_init and before server_listen: loads the newest
 * valid state (the --restore file; else with appendonly the log's base and
 * its records; else dbfilename, or the newest valid backup), re-attaching
 * the PMem pool, then opens the append log and starts the thread.
 * ST_OK, or an error after which the server must not start (logged). */
int persist_recover(struct server *srv, const char *restore_path);

/* Shutdown, after the workers stopped: the final snapshot (SHUTDOWN SAVE,
 * or save rules set and not NOSAVE), the log synced and closed, the thread
 * stopped. */
void persist_shutdown(struct server *srv);
void persist_free(struct server *srv);

/* BGSAVE: PERSIST_STARTED, _BUSY (a snapshot runs or is queued),
 * _REWRITING (a log rewrite runs; with schedule: _SCHEDULED, after it). */
enum { PERSIST_STARTED = 0, PERSIST_SCHEDULED = 1, PERSIST_BUSY = 2, PERSIST_NOLOG = 3, PERSIST_REWRITING = 4 };
int persist_bgsave(struct server *srv, int schedule);
/* SAVE: returns when the snapshot it asked for is durable: ST_OK or its error;
 * ST_EAGAIN when a snapshot is already running. */
int persist_save(struct server *srv);
/* BGREWRITEAOF: PERSIST_STARTED, _SCHEDULED (after the running snapshot),
 * _BUSY (a rewrite runs), _NOLOG (appendonly no: a snapshot of the data
 * is still written, as Redis does) */
int persist_bgrewriteaof(struct server *srv);
int64_t persist_lastsave(struct server *srv);
/* 1 when writes must be refused (stop-writes-on-bgsave-error). */
int persist_misconf(struct server *srv);
/* FLUSHALL, FLUSHDB, SWAPDB: wait until no snapshot is being written. */
void persist_wait_snapshot(struct server *srv);
/* DEBUG RELOAD: save, empty, load back. ST_OK or an error. */
int persist_debug_reload(struct server *srv);
void persist_info(struct server *srv, void (*add)(void *ud, const char *line), void *ud);

#endif
