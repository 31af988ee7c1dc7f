/*
 * client.h -- one client connection: its input (query buffer and RESP parser
 * state), its output buffer, the command being executed, and suspension.
 *
 * A client belongs to exactly one worker and is only touched by that worker's
 * thread, except the fields marked "shared", which CLIENT LIST / CLIENT KILL
 * read from other workers under the owning worker's clients_lock.
 *
 * Suspension: a command that cannot finish now (a blocking pop, a read of a
 * cold key from the SSD tier, DEBUG SLEEP) calls client_suspend() and
 * returns. No further input of that client is executed until the command
 * resumes, so replies keep the pipeline's order. The arguments in c->argv
 * point into the query buffer and are only valid during the first call: a
 * suspending command copies what it needs into its own state.
 */
#ifndef STRATA_CLIENT_H
#define STRATA_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "server/resp.h"

struct server;
struct worker;
struct client;
struct cmd_entry;
struct ev_timer;
struct wlog_rw;

/* Writes a field that other workers read (CLIENT LIST, CLIENT KILL): a
 * relaxed atomic store, which costs a plain store on x86 and makes the
 * concurrent read well-defined. Only the owning worker writes these. */
#define CLIENT_PUB(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

struct arg {
    const char *p;
    size_t len;
};

enum resume_why {
    RESUME_WAKE = 0,    /* client_wake() was called */
    RESUME_TIMEOUT = 1, /* the suspension's deadline passed */
    RESUME_CANCEL = 2,  /* the client is going away: free state, write nothing */
};

/* Called on the client's worker. For WAKE and TIMEOUT it writes the reply (or
 * calls client_suspend again to keep waiting); for CANCEL only frees ud. */
typedef void client_resume_fn(struct client *c, void *ud, enum resume_why why);

#define CLIENT_CLOSE_AFTER_REPLY (1u << 0) /* QUIT, protocol error */
#define CLIENT_CLOSE_ASAP        (1u << 1) /* output limit, KILL: close without flushing */
#define CLIENT_SUSPENDED         (1u << 2)
#define CLIENT_AUTHED            (1u << 3)
#define CLIENT_PENDING_WRITE     (1u << 4) /* on the worker's flush list */
#define CLIENT_WANT_WRITE        (1u << 5) /* EPOLLOUT registered */
#define CLIENT_NO_EVICT          (1u << 7)
#define CLIENT_NO_TOUCH          (1u << 8)
#define CLIENT_REPLAY            (1u << 9) /* recovery's log replay: never blocks, no socket */

#define CLIENT_NAME_MAX 128

struct client {
    uint64_t id;
    int fd;
    struct worker *w;
    struct server *srv;
    struct client *prev, *next;    /* the worker's client list; clients_lock */

    /* session state. Shared: other workers read db, resp, flags, name,
     * lib_*, last_interaction_ms, last_cmd, cmd and the buffer sizes for
     * CLIENT LIST with relaxed atomic loads under this worker's clients_lock;
     * the owner writes flags, cmd, last_cmd, last_interaction_ms and the buffer
     * sizes with CLIENT_PUB, and db, resp, name, lib_* under clients_lock. */
    int db;
    int resp;                      /* 2 or 3 */
    uint32_t flags;
    char name[CLIENT_NAME_MAX];
    char lib_name[64];
    char lib_ver[32];
    char addr[64];                 /* "ip:port" of the peer */
    char laddr[64];                /* "ip:port" of our end */
    int64_t ctime_ms;              /* connection time */
    int64_t last_interaction_ms;   /* last read or command */
    const struct cmd_entry *last_cmd;
    _Atomic int kill_requested;    /* set by another worker's CLIENT KILL */

    /* input */
    char *qbuf;
    size_t qlen;                   /* bytes in qbuf */
    size_t qpos;                   /* start of the unparsed part */
    size_t qcap;
    struct resp_parser parser;
    int argc;
    struct arg *argv;
    int argv_cap;

    /* output: one buffer, bytes [osent, olen) still to send */
    char *obuf;
    size_t olen, osent, ocap;
    int64_t obuf_soft_since_ms;    /* when the soft limit was first passed, 0 = below */
    int64_t last_write_ms;         /* last time output made progress (or was empty) */

    /* the command being executed */
    const struct cmd_entry *cmd;
    int64_t now_ms;                /* wall-clock ms at the command's start */
    int64_t cmd_start_us;          /* monotonic, for commandstats */
    uint32_t errors_before;        /* reply_error count at start, to mark failed calls */
    uint32_t errors;               /* error replies written to this client */

    /* shards whose keys may not become stubs while the running multi-key
     * command is between its lookups (tiering_fetch.c); owned */
    unsigned *pins;
    unsigned npins, pins_cap;

    /* the append log's record for the running command when its arguments
     * do not say what it did (wlog_rewrite); owned, NULL mostly */
    struct wlog_rw *logrw;

    /* suspension */
    client_resume_fn *resume;
    void *resume_ud;
    struct ev_timer *suspend_timer;/* owned; NULL when no deadline */
};

/* Suspends the running command of c (see the essay above). resume runs later
 * on c's worker: after client_wake(c), after timeout_us (0: no deadline) with
 * RESUME_TIMEOUT, or with RESUME_CANCEL when c closes. ud is the command's
 * state, owned by the command. Returns 0 or ST_ENOMEM (not suspended: the
 * caller replies an error). */
int client_suspend(struct client *c, client_resume_fn *resume, void *ud, int64_t timeout_us);

/* Resumes a suspended client on its own worker's thread (RESUME_WAKE).
 * Another thread uses worker_post() to get there first. */
void client_wake(struct client *c);

/* Name of the current command for error messages ("get", "client|list"). */
const char *client_cmd_name(const struct client *c);

/* Marks the client to be closed after pending output is written. */
void client_close_after_reply(struct client *c);

#endif
