/*
 * cmd_conn.c -- the connection commands: PING, ECHO, HELLO, AUTH, SELECT,
 * QUIT, RESET and the CLIENT container (ID, SETNAME, GETNAME, LIST, INFO,
 * KILL, SETINFO, NO-EVICT, NO-TOUCH, HELP).
 *
 * What it owns. The session state a client changes about itself (db, RESP
 * version, name, library name and version, the AUTHED / NO-EVICT / NO-TOUCH
 * flags) and the cross-worker views of all clients (CLIENT LIST, CLIENT KILL).
 * It does not own the client's life cycle (client.c / worker.c create, read,
 * write and close clients) nor the auth check done before dispatch.
 *
 * Threads. Every handler runs on the calling client's worker. A client's
 * "shared" fields (client.h) are read by other workers under the owning
 * worker's clients_lock, so:
 *
 *   1. This file writes a shared field of its own client (db, resp, flags,
 *      name, lib_name, lib_ver) only while holding c->w->clients_lock. The
 *      owner may read them without the lock (it is the only writer).
 *   2. CLIENT LIST / KILL visit the workers one at a time, holding one
 *      clients_lock at a time (never two: no lock order to get wrong), and
 *      never call into another worker while holding it.
 *   3. A client owned by another worker is never closed or modified from
 *      here, except its atomic kill_requested flag, which is set under the
 *      owner's clients_lock while the client is known to be in the list; the
 *      owner is then woken (worker_wake) and closes it. The calling client
 *      itself is closed with client_close_after_reply, after its reply.
 *   4. A client with kill_requested set counts as gone: CLIENT LIST does not
 *      show it and CLIENT KILL does not count it again, as in Redis where the
 *      killed client is freed synchronously.
 *
 * The buffer fields of another worker's client (qlen, qcap, olen, osent,
 * ocap) and its flags and last_cmd, which the owner updates outside the lock,
 * are read with relaxed atomic loads: a best-effort snapshot that only feeds
 * the printed figures, never an index into memory. FIXME(client.c): the owner
 * still writes them with plain stores, so ThreadSanitizer reports these pairs;
 * writing them with relaxed atomic stores (as STAT_ADD does) makes the pairing
 * race-free at no cost on x86. argv-mem is reported for the calling client
 * only: argv of other clients points into another thread's query buffer.
 *
 * Authentication. There are no ACL users yet: the only user is "default",
 * whose password is requirepass (guarded by srv->cfg.lock). With no
 * requirepass the default user is "nopass": every password is accepted for
 * it, as in Redis. Passwords are compared in time independent of where they
 * differ (conn_secret_eq).
 *
 * References: Redis 7.2 src/networking.c (clientCommand, catClientInfoString,
 * clientSetName), src/server.c (pingCommand, helloCommand, resetCommand),
 * src/acl.c (authCommand), src/db.c (selectCommand).
 */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/util.h"
#include "server/blocking.h"
#include "server/client.h"
#include "server/cmd.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/worker.h"

/* The Redis release whose behaviour Strata follows, as HELLO reports it;
 * clients pick features by it. Must equal INFO's redis_version (info.c).
 * TODO: one shared definition once server.h has it. */
#ifndef STRATA_REDIS_COMPAT_VERSION
#define STRATA_REDIS_COMPAT_VERSION "7.0.15"
#endif

#define CONN_LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static int arg_is(const struct arg *a, const char *lit)
{
    return util_eqi(a->p, a->len, lit);
}

/* Sets or clears flag on the calling client under its worker's clients_lock
 * (invariant 1). */
static void conn_set_flag(struct client *c, uint32_t flag, int on)
{
    pthread_mutex_lock(&c->w->clients_lock);
    if (on)
        CLIENT_PUB(c->flags, c->flags | flag);
    else
        CLIENT_PUB(c->flags, c->flags & ~flag);
    pthread_mutex_unlock(&c->w->clients_lock);
}

/* Copies a[0..len) into a shared char field of the calling client, under the
 * lock (invariant 1). len < cap is checked by the caller. */
static void conn_set_str(struct client *c, char *dst, const char *src, size_t len)
{
    pthread_mutex_lock(&c->w->clients_lock);
    memcpy(dst, src, len);
    dst[len] = '\0';
    pthread_mutex_unlock(&c->w->clients_lock);
}

/* Equality of two secrets in time that depends only on their lengths. */
static int conn_secret_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen > blen ? alen : blen;
    volatile unsigned char diff = (unsigned char)(alen != blen);

    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < alen ? (unsigned char)a[i] : 0;
        unsigned char y = i < blen ? (unsigned char)b[i] : 0;
        diff |= (unsigned char)(x ^ y);
    }
    return diff == 0;
}

/* True when requirepass is set (the default user has a password). */
static int conn_requirepass_set(struct server *srv)
{
    int set;

    pthread_mutex_lock(&srv->cfg.lock);
    set = srv->cfg.requirepass != NULL && srv->cfg.requirepass[0] != '\0';
    pthread_mutex_unlock(&srv->cfg.lock);
    return set;
}

/* True when c may run commands that need authentication: it authenticated, or
 * the default user has no password (Redis's authRequired()). */
static int conn_is_authed(struct client *c)
{
    return (c->flags & CLIENT_AUTHED) || !conn_requirepass_set(c->srv);
}

/* Checks user/pass (user NULL = "default") and marks c authenticated on
 * success. Returns 0, or ST_EINVAL for a wrong pair (c unchanged, as Redis
 * leaves a failed AUTH's client in its previous state). */
static int conn_authenticate(struct client *c, const struct arg *user, const struct arg *pass)
{
    struct config *cfg = &c->srv->cfg;
    int ok;

    /* No ACL users yet: only "default" exists (names are case-sensitive). */
    if (user != NULL && !(user->len == 7 && memcmp(user->p, "default", 7) == 0))
        return ST_EINVAL;
    pthread_mutex_lock(&cfg->lock);
    if (cfg->requirepass == NULL || cfg->requirepass[0] == '\0')
        ok = 1; /* nopass: any password */
    else
        ok = conn_secret_eq(cfg->requirepass, strlen(cfg->requirepass), pass->p, pass->len);
    pthread_mutex_unlock(&cfg->lock);
    if (!ok)
        return ST_EINVAL;
    conn_set_flag(c, CLIENT_AUTHED, 1);
    return 0;
}

static void conn_reply_wrongpass(struct client *c)
{
    reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
}

/* Redis's rule for names and library attributes: printable ASCII without
 * spaces ('!'..'~'), so CLIENT LIST lines can be split on spaces. */
static int conn_valid_attr(const struct arg *a)
{
    for (size_t i = 0; i < a->len; i++) {
        unsigned char ch = (unsigned char)a->p[i];
        if (ch < '!' || ch > '~')
            return 0;
    }
    return 1;
}

/* CLIENT SETNAME / HELLO SETNAME. Replies an error and returns ST_EINVAL when
 * the name is refused; otherwise sets it (empty = remove) and returns 0
 * without replying. */
static int conn_setname(struct client *c, const struct arg *name)
{
    if (!conn_valid_attr(name)) {
        reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        return ST_EINVAL;
    }
    if (name->len >= CLIENT_NAME_MAX) {
        reply_errorf(c, "ERR Client names cannot be longer than %d characters.", CLIENT_NAME_MAX - 1);
        return ST_EINVAL;
    }
    conn_set_str(c, c->name, name->p, name->len);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Growing text buffer for CLIENT LIST / INFO                               */
/* ------------------------------------------------------------------------ */

struct conn_buf {
    char *p;
    size_t len, cap;
    int oom; /* an allocation failed: the content is incomplete */
};

static void conn_buf_catf(struct conn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void conn_buf_catf(struct conn_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        size_t avail = b->cap - b->len;
        va_start(ap, fmt);
        n = vsnprintf(b->p ? b->p + b->len : NULL, avail, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < avail) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 1024;
        while (ncap - b->len <= (size_t)n)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (np == NULL) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

/* ------------------------------------------------------------------------ */
/* Client types and the CLIENT LIST line                                    */
/* ------------------------------------------------------------------------ */

enum conn_ctype { CT_NORMAL = 0, CT_MASTER = 1, CT_REPLICA = 2, CT_PUBSUB = 3 };

/* Parses a client type name as Redis's getClientTypeByName. Returns the type
 * or -1. */
static int conn_parse_type(const struct arg *a)
{
    if (arg_is(a, "normal"))
        return CT_NORMAL;
    if (arg_is(a, "slave") || arg_is(a, "replica"))
        return CT_REPLICA;
    if (arg_is(a, "pubsub"))
        return CT_PUBSUB;
    if (arg_is(a, "master"))
        return CT_MASTER;
    return -1;
}

/* The type of cl. TODO(replication, pubsub): every client is "normal" until
 * replicas, the primary link and subscribers get client flags. */
static int conn_client_type(const struct client *cl)
{
    (void)cl;
    return CT_NORMAL;
}

/* Appends cl's CLIENT LIST line (with "\n") to b. Caller holds cl's worker's
 * clients_lock unless cl == self. self is the calling client, whose
 * non-shared fields may be read directly. now_ms is the command's time. */
static void conn_cat_client(struct conn_buf *b, struct client *cl, const struct client *self, int64_t now_ms)
{
    char flags[16], *f = flags;
    uint32_t fl = CONN_LOAD(cl->flags);
    const struct cmd_entry *cmd;
    size_t qlen, qpos, qcap, olen, osent, ocap, argv_mem = 0;
    int64_t age, idle;

    if (fl & CLIENT_SUSPENDED)
        *f++ = 'b';
    if (fl & CLIENT_CLOSE_AFTER_REPLY)
        *f++ = 'c';
    if (fl & CLIENT_CLOSE_ASAP)
        *f++ = 'A';
    if (fl & CLIENT_NO_EVICT)
        *f++ = 'e';
    if (fl & CLIENT_NO_TOUCH)
        *f++ = 'T';
    if (f == flags)
        *f++ = 'N';
    *f = '\0';

    qlen = CONN_LOAD(cl->qlen);
    qpos = CONN_LOAD(cl->qpos);
    qcap = CONN_LOAD(cl->qcap);
    olen = CONN_LOAD(cl->olen);
    osent = CONN_LOAD(cl->osent);
    ocap = CONN_LOAD(cl->ocap);
    if (qpos > qlen)
        qpos = qlen;
    if (qlen > qcap)
        qcap = qlen;
    if (osent > olen)
        osent = olen;
    if (cl == self) {
        for (int i = 0; i < self->argc; i++)
            argv_mem += self->argv[i].len;
        /* Redis sets lastcmd before running: show the running command. */
        cmd = self->cmd != NULL ? self->cmd : self->last_cmd;
    } else {
        /* A suspended client is still inside its command (BLPOP, DEBUG
         * SLEEP): show that one, as Redis does for a blocked client. */
        cmd = (fl & CLIENT_SUSPENDED) ? CONN_LOAD(cl->cmd) : NULL;
        if (cmd == NULL)
            cmd = CONN_LOAD(cl->last_cmd);
    }
    age = (now_ms - CONN_LOAD(cl->ctime_ms)) / 1000;
    idle = (now_ms - CONN_LOAD(cl->last_interaction_ms)) / 1000;
    if (age < 0)
        age = 0;
    if (idle < 0)
        idle = 0;

    conn_buf_catf(b,
                  "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d"
                  " sub=0 psub=0 ssub=0 multi=-1 qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=0"
                  " rbs=%zu rbp=%zu obl=%zu oll=0 omem=%zu tot-mem=%zu events=%s cmd=%s"
                  " user=default redir=-1 resp=%d lib-name=%s lib-ver=%s\n",
                  (unsigned long long)cl->id, cl->addr, cl->laddr, cl->fd, cl->name, (long long)age,
                  (long long)idle, flags, CONN_LOAD(cl->db), qlen - qpos, qcap - qlen, argv_mem, ocap, olen,
                  olen - osent, olen - osent, sizeof(*cl) + qcap + ocap + argv_mem,
                  (fl & CLIENT_WANT_WRITE) ? "rw" : "r", cmd != NULL ? cmd->fullname : "NULL",
                  CONN_LOAD(cl->resp), cl->lib_name, cl->lib_ver);
}

/* A CLIENT LIST / KILL filter; unset fields match everything. */
struct conn_filter {
    int type;                 /* -1 = any */
    const struct arg *ids;    /* LIST ID: any of ids[0..nids) */
    int nids;
    unsigned long long id;    /* KILL ID: 0 = any */
    const struct arg *addr;   /* NULL = any */
    const struct arg *laddr;
    int skipme;               /* skip the calling client */
};

static int conn_str_eq(const char *s, const struct arg *a)
{
    return strlen(s) == a->len && memcmp(s, a->p, a->len) == 0;
}

/* True when cl matches f. Caller holds cl's worker's clients_lock. */
static int conn_match(const struct conn_filter *f, struct client *cl, const struct client *self, int64_t now_ms)
{
    if (atomic_load(&cl->kill_requested))
        return 0; /* invariant 4 */
    if (f->skipme && cl == self)
        return 0;
    if (f->type >= 0 && conn_client_type(cl) != f->type)
        return 0;
    if (f->id != 0 && cl->id != f->id)
        return 0;
    if (f->addr != NULL && !conn_str_eq(cl->addr, f->addr))
        return 0;
    if (f->laddr != NULL && !conn_str_eq(cl->laddr, f->laddr))
        return 0;
    if (f->nids > 0) {
        int hit = 0;
        for (int i = 0; i < f->nids && !hit; i++) {
            long long v;
            if (util_str2ll(f->ids[i].p, f->ids[i].len, &v) == 0 && v > 0 && (unsigned long long)v == cl->id)
                hit = 1;
        }
        if (!hit)
            return 0;
    }
    return 1;
}

/* Appends the lines of every client matching f, worker by worker (invariant 2). */
static void conn_list(struct client *c, const struct conn_filter *f, struct conn_buf *b)
{
    struct server *srv = c->srv;

    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *w = srv->workers[i];
        pthread_mutex_lock(&w->clients_lock);
        for (struct client *cl = w->clients; cl != NULL; cl = cl->next)
            if (conn_match(f, cl, c, c->now_ms))
                conn_cat_client(b, cl, c, c->now_ms);
        pthread_mutex_unlock(&w->clients_lock);
    }
}

/* Kills every client matching f (invariant 3). Returns the count; sets
 * *self_killed when the calling client is among them. */
static long long conn_kill(struct client *c, const struct conn_filter *f, int *self_killed)
{
    struct server *srv = c->srv;
    long long killed = 0;

    *self_killed = 0;
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *w = srv->workers[i];
        int wake = 0;

        pthread_mutex_lock(&w->clients_lock);
        for (struct client *cl = w->clients; cl != NULL; cl = cl->next) {
            if (!conn_match(f, cl, c, c->now_ms))
                continue;
            killed++;
            if (cl == c) {
                *self_killed = 1;
            } else {
                atomic_store(&cl->kill_requested, 1);
                wake = 1;
            }
        }
        pthread_mutex_unlock(&w->clients_lock);
        if (wake)
            worker_wake(w);
    }
    return killed;
}

static void conn_reply_buf(struct client *c, struct conn_buf *b)
{
    if (b->oom)
        reply_error(c, "ERR out of memory building the client list");
    else
        reply_verbatim(c, b->p != NULL ? b->p : "", b->len);
    free(b->p);
    b->p = NULL;
}

/* ------------------------------------------------------------------------ */
/* PING ECHO SELECT QUIT                                                    */
/* ------------------------------------------------------------------------ */

/* PING [message]. TODO(pubsub): a RESP2 subscriber gets ["pong", message]. */
static void cmd_ping(struct client *c)
{
    if (c->argc > 2) {
        reply_err_args(c);
        return;
    }
    if (c->argc == 1)
        reply_simple(c, "PONG");
    else
        reply_bulk(c, c->argv[1].p, c->argv[1].len);
}

static void cmd_echo(struct client *c)
{
    reply_bulk(c, c->argv[1].p, c->argv[1].len);
}

static void cmd_select(struct client *c)
{
    long long id;

    if (util_str2ll(c->argv[1].p, c->argv[1].len, &id) != 0) {
        reply_err_notint(c);
        return;
    }
    if (id < INT_MIN || id > INT_MAX) { /* Redis's getIntFromObjectOrReply wording */
        reply_errorf(c, "ERR value is out of range, value must between %d and %d", INT_MIN, INT_MAX);
        return;
    }
    if (id < 0 || id >= (long long)c->srv->ks->databases) {
        reply_error(c, RERR_DBRANGE);
        return;
    }
    if (c->db != (int)id) {
        pthread_mutex_lock(&c->w->clients_lock);
        c->db = (int)id;
        pthread_mutex_unlock(&c->w->clients_lock);
    }
    reply_ok(c);
}

static void cmd_quit(struct client *c)
{
    reply_ok(c);
    client_close_after_reply(c);
}

/* ------------------------------------------------------------------------ */
/* AUTH HELLO RESET                                                         */
/* ------------------------------------------------------------------------ */

/* AUTH [username] password */
static void cmd_auth(struct client *c)
{
    const struct arg *user = NULL, *pass;

    if (c->argc > 3) {
        reply_err_syntax(c);
        return;
    }
    if (c->argc == 2) {
        if (!conn_requirepass_set(c->srv)) {
            reply_error(c, "ERR AUTH <password> called without any password configured for the "
                           "default user. Are you sure your configuration is correct?");
            return;
        }
        pass = &c->argv[1];
    } else {
        user = &c->argv[1];
        pass = &c->argv[2];
    }
    if (conn_authenticate(c, user, pass) != 0) {
        conn_reply_wrongpass(c);
        return;
    }
    reply_ok(c);
}

/* HELLO [protover [AUTH username password] [SETNAME clientname]] */
static void cmd_hello(struct client *c)
{
    long long ver = 0;
    int j = 1;
    const struct arg *user = NULL, *pass = NULL, *name = NULL;

    if (c->argc >= 2) {
        if (util_str2ll(c->argv[1].p, c->argv[1].len, &ver) != 0) {
            reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
        j = 2;
    }
    for (; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "auth") && more >= 2) {
            user = &c->argv[j + 1];
            pass = &c->argv[j + 2];
            j += 2;
        } else if (arg_is(&c->argv[j], "setname") && more >= 1) {
            name = &c->argv[j + 1];
            j++;
        } else {
            reply_errorf(c, "ERR Syntax error in HELLO option '%.*s'", (int)c->argv[j].len, c->argv[j].p);
            return;
        }
    }

    if (user != NULL && conn_authenticate(c, user, pass) != 0) {
        conn_reply_wrongpass(c);
        return;
    }
    if (!conn_is_authed(c)) {
        reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, otherwise "
                       "the HELLO AUTH <user> <pass> option can be used to authenticate the "
                       "client and select the RESP protocol version at the same time");
        return;
    }
    if (name != NULL && conn_setname(c, name) != 0)
        return;
    if (ver != 0 && c->resp != (int)ver) {
        pthread_mutex_lock(&c->w->clients_lock);
        c->resp = (int)ver;
        pthread_mutex_unlock(&c->w->clients_lock);
    }

    reply_map(c, 7);
    reply_bulk_cstr(c, "server");
    reply_bulk_cstr(c, "redis");
    reply_bulk_cstr(c, "version");
    reply_bulk_cstr(c, STRATA_REDIS_COMPAT_VERSION);
    reply_bulk_cstr(c, "proto");
    reply_int(c, c->resp);
    reply_bulk_cstr(c, "id");
    reply_int(c, (long long)c->id);
    reply_bulk_cstr(c, "mode");
    reply_bulk_cstr(c, "standalone");
    reply_bulk_cstr(c, "role");
    reply_bulk_cstr(c, "master"); /* TODO(replication): "replica" on a replica */
    reply_bulk_cstr(c, "modules");
    reply_array(c, 0);
}

/* RESET: back to db 0, RESP2, no name, NO-EVICT/NO-TOUCH off, and the default
 * user's initial auth state. Library name/version stay (they describe the
 * client library, as in Redis). TODO(multi, pubsub): discard a transaction
 * and unsubscribe once those exist. */
static void cmd_reset(struct client *c)
{
    int authed = !conn_requirepass_set(c->srv);

    pthread_mutex_lock(&c->w->clients_lock);
    c->db = 0;
    c->resp = 2;
    c->name[0] = '\0';
    CLIENT_PUB(c->flags, c->flags & (~(CLIENT_NO_EVICT | CLIENT_NO_TOUCH)));
    if (authed)
        CLIENT_PUB(c->flags, c->flags | CLIENT_AUTHED);
    else
        CLIENT_PUB(c->flags, c->flags & ~CLIENT_AUTHED);
    pthread_mutex_unlock(&c->w->clients_lock);
    reply_simple(c, "RESET");
}

/* ------------------------------------------------------------------------ */
/* CLIENT subcommands                                                       */
/* ------------------------------------------------------------------------ */

static void cmd_client_id(struct client *c)
{
    reply_int(c, (long long)c->id);
}

static void cmd_client_setname(struct client *c)
{
    if (conn_setname(c, &c->argv[2]) == 0)
        reply_ok(c);
}

static void cmd_client_getname(struct client *c)
{
    if (c->name[0] == '\0')
        reply_null(c);
    else
        reply_bulk_cstr(c, c->name);
}

/* CLIENT LIST [TYPE type] | [ID id [id ...]] (one or the other, as Redis) */
static void cmd_client_list(struct client *c)
{
    struct conn_filter f = { .type = -1 };
    struct conn_buf b = { 0 };

    if (c->argc == 4 && arg_is(&c->argv[2], "type")) {
        f.type = conn_parse_type(&c->argv[3]);
        if (f.type < 0) {
            reply_errorf(c, "ERR Unknown client type '%.*s'", (int)c->argv[3].len, c->argv[3].p);
            return;
        }
    } else if (c->argc > 3 && arg_is(&c->argv[2], "id")) {
        for (int j = 3; j < c->argc; j++) {
            long long v;
            if (util_str2ll(c->argv[j].p, c->argv[j].len, &v) != 0) {
                reply_error(c, "ERR Invalid client ID");
                return;
            }
        }
        f.ids = &c->argv[3];
        f.nids = c->argc - 3;
    } else if (c->argc != 2) {
        reply_err_syntax(c);
        return;
    }
    conn_list(c, &f, &b);
    conn_reply_buf(c, &b);
}

static void cmd_client_info(struct client *c)
{
    struct conn_buf b = { 0 };

    /* Own client: only this thread writes its shared fields. */
    conn_cat_client(&b, c, c, c->now_ms);
    conn_reply_buf(c, &b);
}

/* CLIENT KILL ip:port | CLIENT KILL <filter value> [<filter value> ...] */
static void cmd_client_kill(struct client *c)
{
    struct conn_filter f = { .type = -1, .skipme = 1 };
    int self_killed;
    long long killed;

    if (c->argc == 3) {
        f.addr = &c->argv[2];
        f.skipme = 0; /* the old form may kill the caller */
    } else if (c->argc > 3 && c->argc % 2 == 0) {
        for (int i = 2; i < c->argc; i += 2) {
            const struct arg *opt = &c->argv[i], *val = &c->argv[i + 1];
            if (arg_is(opt, "id")) {
                long long v;
                if (util_str2ll(val->p, val->len, &v) != 0 || v < 1) {
                    reply_error(c, "ERR client-id should be greater than 0");
                    return;
                }
                f.id = (unsigned long long)v;
            } else if (arg_is(opt, "type")) {
                f.type = conn_parse_type(val);
                if (f.type < 0) {
                    reply_errorf(c, "ERR Unknown client type '%.*s'", (int)val->len, val->p);
                    return;
                }
            } else if (arg_is(opt, "addr")) {
                f.addr = val;
            } else if (arg_is(opt, "laddr")) {
                f.laddr = val;
            } else if (arg_is(opt, "user")) {
                /* Only "default" exists, and every client is logged in as it. */
                if (!(val->len == 7 && memcmp(val->p, "default", 7) == 0)) {
                    reply_errorf(c, "ERR No such user '%.*s'", (int)val->len, val->p);
                    return;
                }
            } else if (arg_is(opt, "skipme")) {
                if (arg_is(val, "yes")) {
                    f.skipme = 1;
                } else if (arg_is(val, "no")) {
                    f.skipme = 0;
                } else {
                    reply_err_syntax(c);
                    return;
                }
            } else {
                reply_err_syntax(c);
                return;
            }
        }
    } else {
        reply_err_syntax(c);
        return;
    }

    killed = conn_kill(c, &f, &self_killed);
    if (c->argc == 3) {
        if (killed == 0)
            reply_error(c, "ERR No such client");
        else
            reply_ok(c);
    } else {
        reply_int(c, killed);
    }
    if (self_killed)
        client_close_after_reply(c); /* after the reply is queued (invariant 3) */
}

/* CLIENT SETINFO <LIB-NAME libname | LIB-VER libver> */
static void cmd_client_setinfo(struct client *c)
{
    const struct arg *attr = &c->argv[2], *val = &c->argv[3];
    char *dst;
    size_t cap;

    if (arg_is(attr, "lib-name")) {
        dst = c->lib_name;
        cap = sizeof(c->lib_name);
    } else if (arg_is(attr, "lib-ver")) {
        dst = c->lib_ver;
        cap = sizeof(c->lib_ver);
    } else {
        reply_errorf(c, "ERR Unrecognized option '%.*s'", (int)attr->len, attr->p);
        return;
    }
    if (!conn_valid_attr(val)) {
        reply_errorf(c, "ERR %.*s cannot contain spaces, newlines or special characters.", (int)attr->len,
                     attr->p);
        return;
    }
    if (val->len >= cap) {
        reply_errorf(c, "ERR %.*s cannot be longer than %zu characters.", (int)attr->len, attr->p, cap - 1);
        return;
    }
    conn_set_str(c, dst, val->p, val->len);
    reply_ok(c);
}

static void conn_onoff(struct client *c, uint32_t flag)
{
    if (arg_is(&c->argv[2], "on")) {
        conn_set_flag(c, flag, 1);
    } else if (arg_is(&c->argv[2], "off")) {
        conn_set_flag(c, flag, 0);
    } else {
        reply_err_syntax(c);
        return;
    }
    reply_ok(c);
}

static void cmd_client_no_evict(struct client *c)
{
    conn_onoff(c, CLIENT_NO_EVICT);
}

static void cmd_client_no_touch(struct client *c)
{
    conn_onoff(c, CLIENT_NO_TOUCH);
}

/* CLIENT UNBLOCK client-id [TIMEOUT | ERROR]: a client blocked on keys
 * (on any worker) is answered as if its timeout had passed, or with
 * -UNBLOCKED. Replies 1 when it was blocked. */
static void cmd_client_unblock(struct client *c)
{
    long long id;
    int with_error = 0;
    if (util_str2ll(c->argv[2].p, c->argv[2].len, &id) != 0) {
        reply_error(c, RERR_NOTINT);
        return;
    }
    if (c->argc == 4) {
        if (util_eqi(c->argv[3].p, c->argv[3].len, "error")) {
            with_error = 1;
        } else if (!util_eqi(c->argv[3].p, c->argv[3].len, "timeout")) {
            reply_error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    } else if (c->argc > 4) {
        reply_err_syntax(c);
        return;
    }
    reply_int(c, blk_unblock_client(c->srv->blk, (uint64_t)id, with_error));
}

/* Redis 7.0.15's text for the subcommands it has, Redis 7.2's for SETINFO and
 * NO-TOUCH; subcommands Strata does not have are left out. */
static const char *const client_help[] = {
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
};

static void cmd_client_help(struct client *c)
{
    size_t n = sizeof(client_help) / sizeof(client_help[0]);

    reply_array(c, (long)n + 3);
    reply_simple(c, "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    for (size_t i = 0; i < n; i++)
        reply_simple(c, client_help[i]);
    reply_simple(c, "HELP");
    reply_simple(c, "    Prints this help.");
}

/* ------------------------------------------------------------------------ */
/* The tables                                                               */
/* ------------------------------------------------------------------------ */

#define CONN_SUB(nm, fn, ar, fl, sum, since, cx, syn) \
    { nm, fn, ar, fl, 0, 0, 0, "connection", sum, since, cx, syn, NULL }

#define KILL_FILTER                                                                                  \
    "[ID client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] | [USER username] | "             \
    "[ADDR ip:port] | [LADDR ip:port] | [SKIPME yes/no]"

#define CF_SUB (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define CF_SESSION (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH)

static const struct cmd_def cmds_client[] = {
    CONN_SUB("getname", cmd_client_getname, 2, CF_SUB, "Get the current connection name", "2.6.9", "O(1)",
             ""),
    CONN_SUB("help", cmd_client_help, 2, CMD_LOADING | CMD_STALE,
             "Show helpful text about the different subcommands", "5.0.0", "O(1)", ""),
    CONN_SUB("id", cmd_client_id, 2, CF_SUB, "Returns the client ID for the current connection", "5.0.0", "O(1)",
             ""),
    CONN_SUB("info", cmd_client_info, 2, CF_SUB, "Returns information about the current client connection.",
             "6.2.0", "O(1)", ""),
    CONN_SUB("kill", cmd_client_kill, -3, CMD_ADMIN | CF_SUB, "Kill the connection of a client", "2.4.0",
             "O(N) where N is the number of client connections",
             /* Redis's argument tree: ip:port (old form) or any number of
              * filters (new form); the docs' own synopsis is ambiguous. */
             "<ip:port | <" KILL_FILTER "> [<" KILL_FILTER "> ...]>"),
    CONN_SUB("list", cmd_client_list, -2, CMD_ADMIN | CF_SUB, "Get the list of client connections", "2.4.0",
             "O(N) where N is the number of client connections",
             "[TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]"),
    CONN_SUB("no-evict", cmd_client_no_evict, 3, CMD_ADMIN | CF_SUB,
             "Set client eviction mode for the current connection", "7.0.0", "O(1)", "<ON | OFF>"),
    CONN_SUB("no-touch", cmd_client_no_touch, 3, CF_SUB,
             "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", "7.2.0", "O(1)",
             "<ON | OFF>"),
    CONN_SUB("unblock", cmd_client_unblock, -3, CMD_ADMIN | CF_SUB,
             "Unblock a client blocked in a blocking command from a different connection", "5.0.0",
             "O(log N) where N is the number of client connections", "client-id [TIMEOUT | ERROR]"),
    CONN_SUB("setinfo", cmd_client_setinfo, 4, CF_SUB, "Sets information specific to the client or connection.",
             "7.2.0", "O(1)", "<LIB-NAME libname | LIB-VER libver>"),
    CONN_SUB("setname", cmd_client_setname, 3, CF_SUB, "Set the current connection name", "2.6.9", "O(1)",
             "connection-name"),
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cmd_def cmds_conn[] = {
    { "auth", cmd_auth, -2, CF_SESSION, 0, 0, 0, "connection", "Authenticate to the server", "1.0.0",
      "O(N) where N is the number of passwords defined for the user", "[username] password", NULL },
    { "client", NULL, -2, 0, 0, 0, 0, "connection", "A container for client connection commands", "2.4.0",
      "Depends on subcommand.", "", cmds_client },
    { "echo", cmd_echo, 2, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "connection", "Echo the given string",
      "1.0.0", "O(1)", "message", NULL },
    { "hello", cmd_hello, -1, CF_SESSION, 0, 0, 0, "connection", "Handshake with Redis", "6.0.0",
      "O(1)", "[protover [AUTH username password] [SETNAME clientname]]", NULL },
    { "ping", cmd_ping, -1, CMD_FAST, 0, 0, 0, "connection", "Ping the server",
      "1.0.0", "O(1)", "[message]", NULL },
    { "quit", cmd_quit, -1, CF_SESSION, 0, 0, 0, "connection", "Close the connection", "1.0.0", "O(1)", "",
      NULL },
    { "reset", cmd_reset, 1, CF_SESSION, 0, 0, 0, "connection", "Reset the connection", "6.2.0", "O(1)", "",
      NULL },
    { "select", cmd_select, 2, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "connection",
      "Change the selected database for the current connection", "1.0.0", "O(1)", "index", NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};
