/*
 * cmd_server.c -- the server commands: INFO, CONFIG (GET, SET, RESETSTAT,
 * HELP), COMMAND (COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP),
 * TIME, SHUTDOWN and DEBUG (SLEEP, HELP).
 *
 * Owns: the cmds_server table and these handlers. Does not own what they
 * report: INFO's text is info.c, COMMAND INFO / DOCS replies are cmd_docs.c,
 * configuration is config.c, counters are the workers' (server.c sums them).
 *
 * Invariants:
 *  1. CONFIG SET is atomic, as in Redis 7: every name is checked (known, not
 *     repeated) before anything changes, and when applying one value fails
 *     the values already applied are put back (from CONFIG GET's formatting
 *     of the old values) before the error is replied.
 *  2. DEBUG SLEEP suspends only its own client (client_suspend): the worker
 *     goes on serving other connections, and the sleeping client's pipelined
 *     commands wait so replies keep their order.
 *  3. SHUTDOWN that is accepted writes no reply: the connection is closed, as
 *     Redis's process exit closes it.
 *
 * Threads: every handler runs on the calling client's worker. config_set and
 * config_get lock the config themselves; CONFIG SET of several parameters is
 * not serialised against a concurrent CONFIG SET on another worker (each
 * single value is).
 *
 * References: Redis 7.0 src/config.c (configSetCommand, restore on failure),
 * src/server.c (commandCommand and subcommands, timeCommand, shutdownCommand),
 * src/debug.c (debugCommand SLEEP).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef STRATA_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "engine/err.h"
#include "engine/util.h"
#include "server/persist.h"
#include "server/client.h"
#include "server/cmd.h"
#include "server/cmd_docs.h"
#include "server/config.h"
#include "server/info.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/server.h"

/* A NUL-terminated copy of an argument (they point into the query buffer).
 * Returns it owned, or NULL. */
static char *arg_dup(const struct arg *a)
{
    char *s = malloc(a->len + 1);
    if (s) {
        memcpy(s, a->p, a->len);
        s[a->len] = '\0';
    }
    return s;
}

/* Redis's help reply: a title, the lines, then HELP. */
static void reply_help(struct client *c, const char *title, const char *const *lines, size_t n)
{
    reply_array(c, (long)n + 3);
    reply_simple(c, title);
    for (size_t i = 0; i < n; i++)
        reply_simple(c, lines[i]);
    reply_simple(c, "HELP");
    reply_simple(c, "    Prints this help."); /* Redis 7.0 wording (7.2 says "Print") */
}

/* ------------------------------------------------------------------ INFO */

static void cmd_info(struct client *c)
{
    size_t len = 0;
    char *text = info_render(c->srv, c->argv + 1, c->argc - 1, &len);

    if (!text) {
        reply_error(c, "ERR out of memory while rendering INFO");
        return;
    }
    reply_verbatim(c, text, len);
    free(text);
}

/* ---------------------------------------------------------------- CONFIG */

struct cfg_pair {
    char *name;
    char *value;
};

struct cfg_pairs {
    struct cfg_pair *v;
    size_t n, cap;
    int oom;
};

static void pairs_free(struct cfg_pairs *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->v[i].name);
        free(ps->v[i].value);
    }
    free(ps->v);
    memset(ps, 0, sizeof(*ps));
}

/* config_get callback: appends (name, value) unless name is already there
 * (several patterns may match one parameter). */
static void pairs_add(const char *name, const char *value, void *ud)
{
    struct cfg_pairs *ps = ud;

    if (ps->oom)
        return;
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->v[i].name, name) == 0)
            return;
    if (ps->n == ps->cap) {
        size_t ncap = ps->cap ? ps->cap * 2 : 16;
        struct cfg_pair *nv = realloc(ps->v, ncap * sizeof(*nv));
        if (!nv) {
            ps->oom = 1;
            return;
        }
        ps->v = nv;
        ps->cap = ncap;
    }
    ps->v[ps->n].name = strdup(name);
    ps->v[ps->n].value = strdup(value);
    if (!ps->v[ps->n].name || !ps->v[ps->n].value) {
        free(ps->v[ps->n].name);
        free(ps->v[ps->n].value);
        ps->oom = 1;
        return;
    }
    ps->n++;
}

static void cmd_config_get(struct client *c)
{
    struct cfg_pairs ps = {0};

    for (int i = 2; i < c->argc && !ps.oom; i++) {
        char *pat = arg_dup(&c->argv[i]);
        if (!pat) {
            ps.oom = 1;
            break;
        }
        config_get(&c->srv->cfg, pat, pairs_add, &ps);
        free(pat);
    }
    if (ps.oom) {
        pairs_free(&ps);
        reply_error(c, "ERR out of memory");
        return;
    }
    reply_map(c, (long)ps.n);
    for (size_t i = 0; i < ps.n; i++) {
        reply_bulk_cstr(c, ps.v[i].name);
        reply_bulk_cstr(c, ps.v[i].value);
    }
    pairs_free(&ps);
}

/* Looks a parameter up by its exact name (any case): glob characters in name
 * are escaped. Returns 1 and its current value in *out (owned) when known, 0
 * when unknown, -1 on ST_ENOMEM. *canon gets the table's spelling. */
static int config_lookup(struct config *cfg, const char *name, char **canon, char **out)
{
    struct cfg_pairs ps = {0};
    size_t len = strlen(name);
    char *pat = malloc(2 * len + 1), *q = pat;
    int rc;

    if (!pat)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (strchr("*?[]\\", name[i]))
            *q++ = '\\';
        *q++ = name[i];
    }
    *q = '\0';
    config_get(cfg, pat, pairs_add, &ps);
    free(pat);
    if (ps.oom) {
        rc = -1;
    } else if (ps.n == 0) {
        rc = 0;
    } else {
        *canon = ps.v[0].name;
        *out = ps.v[0].value;
        ps.v[0].name = ps.v[0].value = NULL;
        rc = 1;
    }
    pairs_free(&ps);
    return rc;
}

static void cmd_config_set(struct client *c)
{
    struct config *cfg = &c->srv->cfg;
    int n = (c->argc - 2) / 2, applied = 0, loglevel = 0;
    char **names = NULL, **canon = NULL, **values = NULL, **olds = NULL;
    char err[256];

    if (c->argc < 4 || c->argc % 2) {
        reply_err_args(c);
        return;
    }
    names = calloc((size_t)n, sizeof(*names));
    canon = calloc((size_t)n, sizeof(*canon));
    values = calloc((size_t)n, sizeof(*values));
    olds = calloc((size_t)n, sizeof(*olds));
    if (!names || !canon || !values || !olds)
        goto fail_nomem;

    /* 1. Check every name before changing anything (invariant 1). */
    for (int i = 0; i < n; i++) {
        names[i] = arg_dup(&c->argv[2 + 2 * i]);
        values[i] = arg_dup(&c->argv[3 + 2 * i]);
        if (!names[i] || !values[i])
            goto fail_nomem;
        int found = config_lookup(cfg, names[i], &canon[i], &olds[i]);
        if (found < 0)
            goto fail_nomem;
        if (found == 0) {
            reply_errorf(c, "ERR Unknown option or number of arguments for CONFIG SET - '%.128s'", names[i]);
            goto out_free;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(canon[j], canon[i]) == 0) {
                reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%.128s') - duplicate parameter",
                             names[i]);
                goto out_free;
            }
        }
    }

    /* 2. Apply; on a failure put back what was applied, newest first. */
    for (int i = 0; i < n; i++) {
        const char *v = values[i];
        if (config_set(cfg, canon[i], &v, 1, 1, err, sizeof(err)) != 0) {
            for (int j = applied - 1; j >= 0; j--) {
                const char *old = olds[j];
                char err2[256];
                if (config_set(cfg, canon[j], &old, 1, 1, err2, sizeof(err2)) != 0)
                    log_warn("CONFIG SET: cannot restore '%s' to \"%s\": %s", canon[j], olds[j], err2);
            }
            reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%.128s') - %s", names[i], err);
            goto out_free;
        }
        applied++;
        if (strcmp(canon[i], "loglevel") == 0)
            loglevel = 1;
    }
    if (loglevel)
        log_set_level((int)cfg_load(cfg->loglevel));
    reply_ok(c);
    goto out_free;

fail_nomem:
    reply_error(c, "ERR out of memory");
out_free:
    for (int i = 0; i < n; i++) {
        if (names)
            free(names[i]);
        if (canon)
            free(canon[i]);
        if (values)
            free(values[i]);
        if (olds)
            free(olds[i]);
    }
    free(names);
    free(canon);
    free(values);
    free(olds);
}

static void cmd_config_resetstat(struct client *c)
{
    struct server *srv = c->srv;

    server_stats_reset(srv);
    atomic_store(&srv->mem_peak, info_used_memory());
    info_inst_reset(&srv->inst);
    reply_ok(c);
}

static void cmd_config_help(struct client *c)
{
    static const char *const lines[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
    };
    reply_help(c, "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", lines,
               sizeof(lines) / sizeof(lines[0]));
}

/* --------------------------------------------------------------- COMMAND */

/* Finds "get" or "config|get" (any case). NULL when unknown. */
static const struct cmd_entry *lookup_fullname(const struct cmd_table *t, const char *p, size_t len)
{
    const char *bar = memchr(p, '|', len);
    const struct cmd_entry *e;

    if (!bar)
        return cmd_lookup(t, p, len);
    e = cmd_lookup(t, p, (size_t)(bar - p));
    if (!e || e->nsub == 0)
        return NULL;
    return cmd_lookup_sub(e, bar + 1, len - (size_t)(bar - p) - 1);
}

static void cmd_command(struct client *c)
{
    const struct cmd_table *t = c->srv->cmds;

    reply_array(c, t->ntop);
    for (int i = 0; i < t->ntop; i++)
        cmd_reply_info(c, t->top[i]);
}

static void cmd_command_count(struct client *c)
{
    reply_int(c, c->srv->cmds->ntop);
}

static void cmd_command_info(struct client *c)
{
    const struct cmd_table *t = c->srv->cmds;

    if (c->argc == 2) {
        cmd_command(c);
        return;
    }
    reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        const struct cmd_entry *e = lookup_fullname(t, c->argv[i].p, c->argv[i].len);
        if (e)
            cmd_reply_info(c, e);
        else
            reply_null(c);
    }
}

static void cmd_command_docs(struct client *c)
{
    const struct cmd_table *t = c->srv->cmds;

    if (c->argc == 2) {
        reply_map(c, t->ntop);
        for (int i = 0; i < t->ntop; i++) {
            reply_bulk_cstr(c, t->top[i]->fullname);
            cmd_reply_docs(c, t->top[i]);
        }
        return;
    }
    size_t mark = reply_defer(c);
    long n = 0;
    for (int i = 2; i < c->argc; i++) {
        const struct cmd_entry *e = lookup_fullname(t, c->argv[i].p, c->argv[i].len);
        if (!e)
            continue;
        reply_bulk_cstr(c, e->fullname);
        cmd_reply_docs(c, e);
        n++;
    }
    reply_defer_set(c, mark, '%', n);
}

enum list_filter { LIST_ALL, LIST_MODULE, LIST_ACLCAT, LIST_PATTERN };

static long list_entry(struct client *c, const struct cmd_entry *e, enum list_filter f, const struct arg *farg,
                       int cat)
{
    long n = 0;
    int match;

    switch (f) {
    case LIST_ALL: match = 1; break;
    case LIST_ACLCAT: match = cat >= 0 && ((cmd_docs_categories(e) >> cat) & 1); break;
    case LIST_PATTERN:
        match = util_glob_match(farg->p, farg->len, e->fullname, strlen(e->fullname), 1);
        break;
    default: match = 0; break; /* no modules */
    }
    if (match) {
        reply_bulk_cstr(c, e->fullname);
        n++;
    }
    for (int i = 0; i < e->nsub; i++)
        n += list_entry(c, e->subs[i], f, farg, cat);
    return n;
}

static void cmd_command_list(struct client *c)
{
    const struct cmd_table *t = c->srv->cmds;
    enum list_filter f = LIST_ALL;
    const struct arg *farg = NULL;
    int cat = -1;

    if (c->argc == 5 && util_eqi(c->argv[2].p, c->argv[2].len, "filterby")) {
        farg = &c->argv[4];
        if (util_eqi(c->argv[3].p, c->argv[3].len, "module"))
            f = LIST_MODULE;
        else if (util_eqi(c->argv[3].p, c->argv[3].len, "aclcat"))
            f = LIST_ACLCAT;
        else if (util_eqi(c->argv[3].p, c->argv[3].len, "pattern"))
            f = LIST_PATTERN;
        else {
            reply_err_syntax(c);
            return;
        }
        if (f == LIST_ACLCAT)
            cat = cmd_docs_category_find(farg->p, farg->len);
    } else if (c->argc != 2) {
        reply_err_syntax(c);
        return;
    }
    size_t mark = reply_defer(c);
    long n = 0;
    for (int i = 0; i < t->ntop; i++)
        n += list_entry(c, t->top[i], f, farg, cat);
    reply_defer_set(c, mark, '*', n);
}

/* COMMAND GETKEYS / GETKEYSANDFLAGS from the legacy (first, last, step). */
static void command_getkeys(struct client *c, int with_flags)
{
    const struct cmd_table *t = c->srv->cmds;
    const struct arg *av = c->argv + 2;
    int ac = c->argc - 2;
    const struct cmd_entry *e = cmd_lookup(t, av[0].p, av[0].len);

    if (e && e->nsub > 0 && ac >= 2) {
        const struct cmd_entry *sub = cmd_lookup_sub(e, av[1].p, av[1].len);
        if (sub)
            e = sub;
    }
    if (!e || !e->def->proc) {
        reply_error(c, "ERR Invalid command specified");
        return;
    }
    const struct cmd_def *d = e->def;
    if (d->first_key <= 0) {
        reply_error(c, "ERR The command has no key arguments");
        return;
    }
    if ((d->arity > 0 && d->arity != ac) || ac < -d->arity) {
        reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    int last = d->last_key < 0 ? ac + d->last_key : d->last_key;
    int step = d->key_step > 0 ? d->key_step : 1;
    if ((d->flags & CMD_MOVABLE) || last >= ac || last < d->first_key) {
        /* Keys whose positions depend on the arguments (numkeys ...) are
         * not described by the legacy range. */
        reply_error(c, "ERR Invalid arguments specified for command");
        return;
    }
    reply_array(c, (last - d->first_key) / step + 1);
    for (int i = d->first_key; i <= last; i += step) {
        if (!with_flags) {
            reply_bulk(c, av[i].p, av[i].len);
            continue;
        }
        reply_array(c, 2);
        reply_bulk(c, av[i].p, av[i].len);
        reply_set(c, 2);
        reply_simple(c, (d->flags & CMD_WRITE) ? "RW" : "RO");
        reply_simple(c, (d->flags & CMD_WRITE) ? "update" : "access");
    }
}

static void cmd_command_getkeys(struct client *c)
{
    command_getkeys(c, 0);
}

static void cmd_command_getkeysandflags(struct client *c)
{
    command_getkeys(c, 1);
}

static void cmd_command_help(struct client *c)
{
    static const char *const lines[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
    };
    reply_help(c, "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", lines,
               sizeof(lines) / sizeof(lines[0]));
}

/* ------------------------------------------------------------------ TIME */

static void cmd_time(struct client *c)
{
    int64_t us = util_time_us();

    reply_array(c, 2);
    reply_bulk_ll(c, us / 1000000);
    reply_bulk_ll(c, us % 1000000);
}

/* -------------------------------------------------------------- SHUTDOWN */

static void cmd_shutdown(struct client *c)
{
    int nosave = 0, save = 0, abort_ = 0;

    for (int i = 1; i < c->argc; i++) {
        const struct arg *a = &c->argv[i];
        if (util_eqi(a->p, a->len, "nosave"))
            nosave = 1;
        else if (util_eqi(a->p, a->len, "save"))
            save = 1;
        else if (util_eqi(a->p, a->len, "abort"))
            abort_ = 1;
        else if (!util_eqi(a->p, a->len, "now") && !util_eqi(a->p, a->len, "force")) {
            reply_err_syntax(c);
            return;
        }
    }
    if ((nosave && save) || (abort_ && c->argc != 2)) {
        reply_err_syntax(c);
        return;
    }
    if (abort_) {
        reply_error(c, "ERR No shutdown in progress.");
        return;
    }
    c->srv->shutdown_save = save ? 1 : nosave ? -1 : 0;
    log_warn("User requested shutdown (client %llu, %s)", (unsigned long long)c->id, c->addr);
    server_request_shutdown(c->srv);
    /* No reply (invariant 3): nothing after SHUTDOWN on this connection runs. */
    client_close_after_reply(c);
}

/* ----------------------------------------------------------------- DEBUG */

struct debug_sleep {
    int64_t deadline_us; /* monotonic */
};

static void debug_sleep_resume(struct client *c, void *ud, enum resume_why why)
{
    struct debug_sleep *st = ud;

    if (why == RESUME_CANCEL) {
        free(st);
        return;
    }
    if (why == RESUME_WAKE) {
        int64_t left = st->deadline_us - util_mono_us();
        if (left > 0 && client_suspend(c, debug_sleep_resume, st, left) == 0)
            return;
    }
    free(st);
    reply_ok(c);
}

static void debug_sleep(struct client *c)
{
    double secs;
    struct debug_sleep *st;

    if (util_str2d(c->argv[2].p, c->argv[2].len, &secs) != 0 || secs < 0 || secs > 1e9) {
        reply_err_notfloat(c);
        return;
    }
    int64_t us = (int64_t)(secs * 1e6);
    if (us <= 0) {
        reply_ok(c);
        return;
    }
    st = malloc(sizeof(*st));
    if (!st) {
        reply_error(c, "ERR out of memory");
        return;
    }
    st->deadline_us = util_mono_us() + us;
    if (client_suspend(c, debug_sleep_resume, st, us) != 0) {
        free(st);
        reply_error(c, "ERR out of memory");
    }
}

static void cmd_debug(struct client *c)
{
    static const char *const lines[] = {
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed. In Strata only the",
        "    calling connection waits; the server goes on serving the others.",
        "RELOAD",
        "    Save the snapshot, empty every database and load the snapshot back.",
    };
    const struct arg *sub = &c->argv[1];

    if (c->argc == 2 && util_eqi(sub->p, sub->len, "help")) {
        reply_help(c, "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", lines,
                   sizeof(lines) / sizeof(lines[0]));
        return;
    }
    if (c->argc == 3 && util_eqi(sub->p, sub->len, "sleep")) {
        debug_sleep(c);
        return;
    }
    if (c->argc == 2 && util_eqi(sub->p, sub->len, "reload")) {
        int rc = persist_debug_reload(c->srv);
        if (rc == ST_OK)
            reply_ok(c);
        else
            reply_errorf(c, "ERR Error trying to save or load the snapshot (%s)", st_strerror(rc));
        return;
    }
    int len = sub->len > 128 ? 128 : (int)sub->len;
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.", len,
                 sub->p);
}

/* ---------------------------------------------------------------- MEMORY */

/* MEMORY USAGE key [SAMPLES count]: the bytes the allocator holds for the
 * key's entry (header, key, inline value or the type object behind it) plus
 * its bucket slot. Exact for every type, so SAMPLES is accepted and checked
 * but not needed. */
static void cmd_memory_usage(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    if (c->argc == 5 && util_eqi(c->argv[3].p, c->argv[3].len, "samples")) {
        long long n;
        if (util_str2ll(c->argv[4].p, c->argv[4].len, &n) != 0 || n < 0) {
            reply_error(c, RERR_NOTINT);
            return;
        }
    } else if (c->argc != 3) {
        reply_err_syntax(c);
        return;
    }
    struct ks_key k;
    ks_key_init(ks, &k, c->argv[2].p, c->argv[2].len);
    ks_lock(ks, k.shard);
    struct entry **ref = ks_find_ref(ks, c->db, &k, c->now_ms, KS_F_NOTOUCH);
    if (!ref) {
        ks_unlock(ks, k.shard);
        reply_null(c);
        return;
    }
    size_t bytes = entry_mem(*ref) + sizeof(struct entry *);
    ks_unlock(ks, k.shard);
    reply_int(c, (long long)bytes);
}

static void cmd_memory_purge(struct client *c)
{
#ifdef STRATA_JEMALLOC
    char name[64];
    snprintf(name, sizeof(name), "arena.%u.purge", 4096u); /* MALLCTL_ARENAS_ALL */
    mallctl(name, NULL, NULL, NULL, 0);
#endif
    reply_ok(c);
}

static void cmd_memory_help(struct client *c)
{
    static const char *const lines[] = {
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    };
    reply_array(c, (long)(sizeof(lines) / sizeof(lines[0])));
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        reply_simple(c, lines[i]);
}

/* ----------------------------------------------------------------- table */

#define SRV_ADMIN (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define CMD_END { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL }

static const struct cmd_def cmds_config[] = {
    { "get", cmd_config_get, -3, SRV_ADMIN, 0, 0, 0, "server", "Get the values of configuration parameters",
      "2.0.0", "O(N) when N is the number of configuration parameters provided", "parameter [parameter ...]",
      NULL },
    { "help", cmd_config_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Show helpful text about the different subcommands", "5.0.0", "O(1)", "", NULL },
    { "resetstat", cmd_config_resetstat, 2, SRV_ADMIN, 0, 0, 0, "server", "Reset the stats returned by INFO",
      "2.0.0", "O(1)", "", NULL },
    { "set", cmd_config_set, -4, SRV_ADMIN, 0, 0, 0, "server", "Set configuration parameters to the given values",
      "2.0.0", "O(N) when N is the number of configuration parameters provided",
      "parameter value [parameter value ...]", NULL },
    CMD_END,
};

static const struct cmd_def cmds_command[] = {
    { "count", cmd_command_count, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Get total number of Redis commands", "2.8.13", "O(1)", "", NULL },
    { "docs", cmd_command_docs, -2, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Get array of specific Redis command documentation", "7.0.0",
      "O(N) where N is the number of commands to look up", "[command-name [command-name ...]]", NULL },
    { "getkeys", cmd_command_getkeys, -4, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Extract keys given a full Redis command", "2.8.13",
      "O(N) where N is the number of arguments to the command", "command [arg [arg ...]]", NULL },
    { "getkeysandflags", cmd_command_getkeysandflags, -4, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Extract keys and access flags given a full Redis command", "7.0.0",
      "O(N) where N is the number of arguments to the command", "command [arg [arg ...]]", NULL },
    { "help", cmd_command_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Show helpful text about the different subcommands", "5.0.0", "O(1)", "", NULL },
    { "info", cmd_command_info, -2, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Get array of specific Redis command details, or all when no argument is given.", "2.8.13",
      "O(N) where N is the number of commands to look up", "[command-name [command-name ...]]", NULL },
    { "list", cmd_command_list, -2, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Get an array of Redis command names", "7.0.0", "O(N) where N is the total number of Redis commands",
      "[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]", NULL },
    CMD_END,
};

static const struct cmd_def cmds_memory[] = {
    { "help", cmd_memory_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Show helpful text about the different subcommands", "4.0.0", "O(1)", "", NULL },
    { "purge", cmd_memory_purge, 2, 0, 0, 0, 0, "server", "Ask the allocator to release memory", "4.0.0",
      "Depends on how much memory is allocated, could be slow", "", NULL },
    { "usage", cmd_memory_usage, -3, CMD_READONLY, 2, 2, 1, "server", "Estimate the memory usage of a key",
      "4.0.0", "O(N) where N is the number of samples.", "key [SAMPLES count]", NULL },
    CMD_END,
};

const struct cmd_def cmds_server[] = {
    { "command", cmd_command, -1, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Get array of Redis command details", "2.8.13", "O(N) where N is the total number of Redis commands", "",
      cmds_command },
    { "config", NULL, -2, 0, 0, 0, 0, "server", "A container for server configuration commands", "2.0.0",
      "Depends on subcommand.", "", cmds_config },
    { "debug", cmd_debug, -2, SRV_ADMIN, 0, 0, 0, "server", "A container for debugging commands", "1.0.0",
      "Depends on subcommand.", "subcommand [argument [argument ...]]", NULL },
    { "info", cmd_info, -1, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Get information and statistics about the server", "1.0.0", "O(1)", "[section [section ...]]", NULL },
    { "memory", NULL, -2, 0, 0, 0, 0, "server", "A container for memory diagnostics commands", "4.0.0",
      "Depends on subcommand.", "", cmds_memory },
    { "shutdown", cmd_shutdown, -1, SRV_ADMIN | CMD_NOMULTI, 0, 0, 0, "server",
      "Synchronously save the dataset to disk and then shut down the server", "1.0.0",
      "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
      "[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]", NULL },
    { "time", cmd_time, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "server", "Return the current server time",
      "2.6.0", "O(1)", "", NULL },
    CMD_END,
};
