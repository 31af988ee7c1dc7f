/*
 * blocking.h -- clients blocked on keys (BLPOP, BLMOVE, BLMPOP, BZPOPMIN,
 * BZMPOP ...), served in FIFO order per key by whichever worker writes the
 * key, with Redis's visible semantics: the element goes to the
 * longest-waiting client, before any other command can see it.
 *
 * Protocol (all under the key's shard lock, so no wake-up is lost):
 *
 *   blocking command (worker A)             pushing command (worker B)
 *   ---------------------------             --------------------------
 *   lock shards; key empty?                 lock shard; push elements
 *   blk_block(c, keys, serve, ...)          blk_signal(reg, db, key, ...)
 *     registers a waiter, suspends c          for each waiter of key, FIFO:
 *   unlock                                      w->serve(w, ks, db, key)  -- pops
 *                                               served? -> deliver to A
 *   ...                                     unlock
 *   A's loop: deliver -> resume writes the reply (or, if the client went
 *             away meanwhile, w->undo puts the popped data back)
 *
 * Invariants:
 *  1. A waiter is in the registry only while WAITING; SERVED and CANCELLED
 *     are final. Transitions happen under the registry lock.
 *  2. Data popped for a waiter is either replied to its client or handed
 *     back by undo: never lost.
 *  3. Lock order: shard locks, then the registry lock. The registry lock is
 *     never held while taking a shard lock.
 */
#ifndef STRATA_BLOCKING_H
#define STRATA_BLOCKING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/keyspace.h"

struct client;
struct worker;
struct blk_registry;
struct blk_waiter;

enum blk_state { BLK_WAITING = 0, BLK_SERVED = 1, BLK_CANCELLED = 2 };

/* Runs on the pushing worker with k's shard locked (and the registry lock
 * held: it must take no other lock): tries to take what the waiter wants
 * from key k, looking it up itself. Stores the result in w->state. Returns 1
 * when served. */
typedef int blk_serve_fn(struct blk_waiter *w, struct keyspace *ks, int db, const struct ks_key *k);
/* Runs on the waiter's worker: writes the reply from w->state after a serve
 * (how = BLK_REPLY_SERVED; may take shard locks, e.g. BLMOVE pushing to its
 * destination), or the timeout answer (BLK_REPLY_TIMEOUT, also CLIENT
 * UNBLOCK without ERROR). CLIENT UNBLOCK ERROR is answered by the registry. */
enum blk_reply_how { BLK_REPLY_SERVED = 0, BLK_REPLY_TIMEOUT = 1 };
typedef void blk_reply_fn(struct client *c, struct blk_waiter *w, enum blk_reply_how how);
/* Runs on the waiter's worker when a served waiter's client is gone before
 * its reply: puts the data taken for it back, or completes the operation
 * (BLMOVE), locking what it needs. Data is never dropped (invariant 2). */
typedef void blk_undo_fn(struct blk_waiter *w, struct keyspace *ks);
/* Frees w->state. */
typedef void blk_free_fn(void *state);

struct blk_key {
    char *p; /* owned copy */
    size_t len;
};

struct blk_qnode;

struct blk_waiter {
    struct client *c;       /* NULL once the client is gone (its worker only) */
    uint64_t client_id;     /* immutable copy, for CLIENT UNBLOCK */
    struct worker *w;       /* the client's worker */
    struct blk_registry *reg;
    int db;
    int nkeys;
    struct blk_key *keys;   /* owned; the keys waited on, in argument order */
    enum blk_state st;      /* registry lock */
    int inflight;           /* registry lock: a message to w is on its way */
    int unblock;            /* 0, or 1 (as timeout) / 2 (error) for CLIENT UNBLOCK */
    const struct blk_key *served_key; /* the key that served it (points into keys) */
    uint64_t log_need;      /* the serving pop's append-log record (wlog_append's place): the
                             * reply waits until it is durable under appendfsync always */
    blk_serve_fn *serve;
    blk_reply_fn *reply;
    blk_undo_fn *undo;
    blk_free_fn *free_state;
    void *state;            /* the command's (args it copied, results) */
    struct blk_qnode *qnodes; /* [nkeys], the registry's */
};

struct blk_registry *blk_create(void);
void blk_destroy(struct blk_registry **rp);

/* Blocks c on keys[0..nkeys) of db with the given callbacks and timeout
 * (0 = forever), taking ownership of state. Call with the keys' shards
 * locked, after finding none of them ready. Returns 0, or ST_ENOMEM (state
 * freed; the caller replies an error). */
int blk_block(struct blk_registry *r, struct client *c, int db, const struct blk_key *keys, int nkeys,
              int64_t timeout_us, blk_serve_fn *serve, blk_reply_fn *reply, blk_undo_fn *undo,
              blk_free_fn *free_state, void *state);

/* After a write that may have made key k of db ready: serves waiters in FIFO
 * order until one is not served or none remain. Call with k's shard locked.
 * Cheap (one atomic load) when nobody is blocked. */
void blk_signal(struct blk_registry *r, struct keyspace *ks, int db, const struct ks_key *k);

/* Signals every key of db that someone waits on (SWAPDB): locks each key's
 * shard in turn. Call with no shard lock held. */
void blk_signal_db(struct blk_registry *r, struct keyspace *ks, int db);

/* Number of clients currently blocked (INFO blocked_clients). */
uint64_t blk_count(struct blk_registry *r);

/* CLIENT UNBLOCK: unblocks the client with that id as if it timed out
 * (with_error: replies -UNBLOCKED instead). Returns 1 when it was blocked. */
int blk_unblock_client(struct blk_registry *r, uint64_t client_id, int with_error);

#endif
