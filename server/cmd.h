/*
 * cmd.h -- the command table: one const table per command family (cmd_*.c),
 * composed into a per-server registry at start-up. The registry maps names
 * (case-insensitive) to definitions and numbers them for per-worker stats.
 */
#ifndef STRATA_CMD_H
#define STRATA_CMD_H

#include <stddef.h>
#include <stdint.h>

struct client;
typedef void cmd_proc(struct client *c);

/* Flags, named as in Redis's COMMAND INFO reply. */
#define CMD_WRITE     (1u << 0)
#define CMD_READONLY  (1u << 1)
#define CMD_DENYOOM   (1u << 2)
#define CMD_ADMIN     (1u << 3)
#define CMD_PUBSUB    (1u << 4)
#define CMD_NOSCRIPT  (1u << 5)
#define CMD_BLOCKING  (1u << 6)
#define CMD_LOADING   (1u << 7)
#define CMD_STALE     (1u << 8)
#define CMD_NO_AUTH   (1u << 9)
#define CMD_FAST      (1u << 10)
#define CMD_NOMULTI   (1u << 11)
#define CMD_MOVABLE   (1u << 12) /* keys not described by first/last/step */

struct cmd_def {
    const char *name;        /* lower case; NULL ends a table */
    cmd_proc *proc;          /* NULL for a container (see subcmds) */
    int arity;               /* Redis convention: N exact, -N at least N (name included) */
    uint32_t flags;
    int first_key, last_key, key_step; /* legacy key spec; 0 0 0 = no keys */
    const char *group;       /* "string", "generic", "connection", "server", ... */
    const char *summary;
    const char *since;       /* Redis version that introduced it */
    const char *complexity;
    /* Argument synopsis after the name, as in Redis's docs, e.g.
     * "key value [NX | XX] [GET] [EX seconds | PX milliseconds | KEEPTTL]".
     * COMMAND DOCS derives its argument tree from it (cmd_docs.c). */
    const char *syntax;
    const struct cmd_def *subcmds; /* containers: CLIENT, CONFIG, OBJECT, ... */
};

/* The family tables. Each ends with an entry whose name is NULL. */
extern const struct cmd_def cmds_conn[];   /* cmd_conn.c: PING ECHO HELLO AUTH SELECT QUIT RESET CLIENT */
extern const struct cmd_def cmds_server[]; /* cmd_server.c: INFO CONFIG TIME SHUTDOWN DEBUG COMMAND */
extern const struct cmd_def cmds_string[]; /* cmd_string.c */
extern const struct cmd_def cmds_keys[];   /* cmd_keys.c */
/* Data-type families (weak in cmd.c while they are being built). */
extern const struct cmd_def cmds_hash[];
extern const struct cmd_def cmds_list[];
extern const struct cmd_def cmds_set[];
extern const struct cmd_def cmds_zset[];
extern const struct cmd_def cmds_bitmap[];
extern const struct cmd_def cmds_hll[];
extern const struct cmd_def cmds_tier[];  /* cmd_tier.c: TIER (OBJECT TIER lives in cmd_keys.c) */
extern const struct cmd_def cmds_persist[]; /* cmd_persist.c: SAVE BGSAVE LASTSAVE BGREWRITEAOF */

/* One registered command or subcommand. */
struct cmd_entry {
    const struct cmd_def *def;
    const struct cmd_def *parent; /* set for subcommands */
    char fullname[64];            /* "get", "client|list" */
    int id;                       /* index into per-worker stats */
    int nsub;
    struct cmd_entry **subs;      /* sorted by name */
};

struct cmd_table {
    struct cmd_entry *entries;    /* [n] */
    int n;
    struct cmd_entry **top;       /* top-level commands sorted by name */
    int ntop;
    struct cmd_entry **hash;      /* open addressing on lower-cased name */
    uint32_t hmask;
};

/* Builds the registry from the family tables. Returns it owned or NULL. */
struct cmd_table *cmd_table_create(void);
void cmd_table_destroy(struct cmd_table **tp);

/* Finds a top-level command by name (any case). NULL when unknown. */
const struct cmd_entry *cmd_lookup(const struct cmd_table *t, const char *name, size_t len);

/* Finds a subcommand of parent by name (any case). NULL when unknown. */
const struct cmd_entry *cmd_lookup_sub(const struct cmd_entry *parent, const char *name, size_t len);

/* COMMAND DOCS reply for one entry (cmd_docs.c). */
void cmd_reply_docs(struct client *c, const struct cmd_entry *e);
/* COMMAND INFO reply for one entry. */
void cmd_reply_info(struct client *c, const struct cmd_entry *e);

#endif
