/*
 * cmd_docs.h -- the argument tree of a command, derived from the `syntax`
 * string of its cmd_def ("key value [NX | XX] [GET]"), as COMMAND DOCS
 * reports it. cmd_reply_docs() and cmd_reply_info() (declared in cmd.h) are
 * implemented next to the parser in cmd_docs.c.
 */
#ifndef STRATA_CMD_DOCS_H
#define STRATA_CMD_DOCS_H

#include <stddef.h>
#include <stdint.h>

struct cmd_entry;

/* Argument types, named as in Redis's COMMAND DOCS reply (cmd_docs_type_name). */
enum cmd_docs_type {
    CMD_DOCS_STRING = 0,
    CMD_DOCS_INTEGER,
    CMD_DOCS_DOUBLE,
    CMD_DOCS_KEY,
    CMD_DOCS_PATTERN,
    CMD_DOCS_UNIX_TIME,
    CMD_DOCS_PURE_TOKEN,
    CMD_DOCS_ONEOF,
    CMD_DOCS_BLOCK,
};

/* Argument flags, as Redis reports them. */
#define CMD_DOCS_OPTIONAL       (1u << 0)
#define CMD_DOCS_MULTIPLE       (1u << 1)
#define CMD_DOCS_MULTIPLE_TOKEN (1u << 2)

struct cmd_docs_arg {
    char *name;                 /* owned */
    char *token;                /* owned; NULL when the argument has no token */
    enum cmd_docs_type type;
    unsigned flags;             /* CMD_DOCS_* */
    struct cmd_docs_arg *args;  /* owned [nargs]; children of ONEOF and BLOCK */
    int nargs;
};

/* Parses a syntax string (the part after the command name, in the notation
 * of Redis's documentation: `[...]` optional, `<...>` / `(...)` grouping,
 * `a | b` alternatives, `x [x ...]` repetition, UPPER-CASE words tokens) into
 * an argument tree. NULL or an empty string gives no arguments. On success
 * returns 0 with *out (owned by the caller; NULL when *nout is 0) and *nout;
 * ST_EINVAL when the string is malformed (unbalanced brackets, a stray `|` or
 * `...`, nesting deeper than 32), ST_ENOMEM; *out is then NULL. */
int cmd_docs_parse(const char *syntax, struct cmd_docs_arg **out, int *nout);

/* Frees an array returned by cmd_docs_parse and NULLs *args. */
void cmd_docs_free(struct cmd_docs_arg **args, int n);

/* "string", "integer", "double", "key", "pattern", "unix-time",
 * "pure-token", "oneof", "block". */
const char *cmd_docs_type_name(enum cmd_docs_type t);

/* Writes a compact one-line rendering of the tree into buf (for tests and
 * logs): each argument as `name:type`, then `=TOKEN` when it has a token,
 * then `?` optional, `*` multiple, `+` multiple_token, then `(children)`;
 * siblings separated by one space. Returns the length it needed (as
 * snprintf: the output is truncated when that is >= cap). */
size_t cmd_docs_format(const struct cmd_docs_arg *args, int n, char *buf, size_t cap);

/* The ACL categories Redis would give the command, as a bit set in Redis's
 * category order (bit i is cmd_docs_category_name(i)), derived from its flags
 * (write, readonly, admin -> admin + dangerous, fast / slow, ...) and group
 * (string -> string, generic -> keyspace, ...). */
uint32_t cmd_docs_categories(const struct cmd_entry *e);
/* "keyspace", "read", ... for bit i; NULL past the last category. */
const char *cmd_docs_category_name(int i);
/* The bit of a category name (with or without '@', any case), or -1. */
int cmd_docs_category_find(const char *name, size_t len);

#endif
