/*
 * cmd_docs.c -- what COMMAND INFO and COMMAND DOCS say about a command, derived
 * from its cmd_def: the syntax-string parser and the two reply builders.
 *
 * Owns: the argument tree (struct cmd_docs_arg) and its parser; the mapping
 * from cmd_def flags and group to Redis's flag names and ACL categories; the
 * legacy-range key spec. Does not own the command table (cmd.c) nor the
 * COMMAND subcommand handlers (cmd_server.c), which call into here.
 *
 * Syntax notation (Redis's documentation synopses, after the command name):
 *
 *   word           an argument; its type is inferred from its name
 *                  (key, integer, double, pattern, unix-time, string)
 *   WORD, "lit"    a literal token (no lower-case letter, or quoted):
 *                  type pure-token, name the token in lower case
 *   [ ... ]        optional group            < ... >, ( ... )   required group
 *   a | b          alternatives of the enclosing group (whole sequences:
 *                  "[EX seconds | PX milliseconds]" has two alternatives)
 *   x [x ...]      x repeated: x gets the `multiple` flag; when the
 *                  repeated part starts with a token ("GET p [GET p ...]")
 *                  also `multiple_token`
 *   x ...          the same, written without the group
 *
 * A group's sequence becomes one argument: a single item stays itself; a
 * token followed by one argument merges into that argument ("EX seconds" ->
 * seconds with token EX, as Redis describes SET); a token followed by several
 * becomes a block carrying the token ("LIMIT offset count"); anything else
 * becomes a block named after its first member. At the top level a token
 * followed by an argument merges the same way; other items stay side by side.
 *
 * Invariants:
 *  1. The parser never reads past the NUL and never recurses deeper than
 *     CD_MAX_DEPTH groups: a malformed syntax string gives ST_EINVAL.
 *  2. Every node is owned by exactly one array; moving a node between
 *     arrays is a struct copy followed by forgetting the source slot.
 *
 * Threads: pure functions of their arguments; the reply builders run on the
 * calling client's worker. Nothing is cached: COMMAND DOCS parses on each
 * call (it is not a hot path and this keeps the module free of state).
 *
 * References: Redis 7.0 src/commands.c, src/server.c (addReplyCommandInfo,
 * addReplyCommandDocs, addReplyCommandArgList, addReplyFlagsForKeyArgs),
 * src/acl.c (category order); the synopses on redis.io.
 */
#include "server/cmd_docs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/err.h"
#include "server/client.h"
#include "server/cmd.h"
#include "server/log.h"
#include "server/reply.h"

#define CD_BARE (1u << 8) /* internal: a literal word not yet merged with a neighbour */
#define CD_PUBLIC_FLAGS (CMD_DOCS_OPTIONAL | CMD_DOCS_MULTIPLE | CMD_DOCS_MULTIPLE_TOKEN)
#define CD_MAX_DEPTH 32
#define CD_MAX_NAME 96

/* ---------------------------------------------------------------- lexer */

enum cd_tok { T_END, T_WORD, T_LBRACK, T_RBRACK, T_LANGLE, T_RANGLE, T_LPAREN, T_RPAREN, T_PIPE, T_ELLIPSIS };

struct cd_lexer {
    const char *s;
    size_t pos;
    int pending_ellipsis; /* the previous word was "x..." */
    enum cd_tok kind;     /* the current token */
    const char *w;        /* T_WORD: its text (not NUL-terminated) */
    size_t wlen;
    int quoted;
};

static int lex_next(struct cd_lexer *lx)
{
    const char *s = lx->s;

    if (lx->pending_ellipsis) {
        lx->pending_ellipsis = 0;
        lx->kind = T_ELLIPSIS;
        return 0;
    }
    while (s[lx->pos] && isspace((unsigned char)s[lx->pos]))
        lx->pos++;
    char ch = s[lx->pos];
    lx->quoted = 0;
    switch (ch) {
    case '\0': lx->kind = T_END; return 0;
    case '[': lx->kind = T_LBRACK; lx->pos++; return 0;
    case ']': lx->kind = T_RBRACK; lx->pos++; return 0;
    case '<': lx->kind = T_LANGLE; lx->pos++; return 0;
    case '>': lx->kind = T_RANGLE; lx->pos++; return 0;
    case '(': lx->kind = T_LPAREN; lx->pos++; return 0;
    case ')': lx->kind = T_RPAREN; lx->pos++; return 0;
    case '|': lx->kind = T_PIPE; lx->pos++; return 0;
    case '"': {
        const char *end = strchr(s + lx->pos + 1, '"');
        if (!end)
            return ST_EINVAL;
        lx->w = s + lx->pos + 1;
        lx->wlen = (size_t)(end - lx->w);
        lx->pos = (size_t)(end - s) + 1;
        lx->kind = T_WORD;
        lx->quoted = 1;
        return 0;
    }
    default: break;
    }
    size_t start = lx->pos;
    while (s[lx->pos] && !isspace((unsigned char)s[lx->pos]) && !strchr("[]<>()|\"", s[lx->pos]))
        lx->pos++;
    lx->w = s + start;
    lx->wlen = lx->pos - start;
    if (lx->wlen == 3 && memcmp(lx->w, "...", 3) == 0) {
        lx->kind = T_ELLIPSIS;
        return 0;
    }
    if (lx->wlen > 3 && memcmp(lx->w + lx->wlen - 3, "...", 3) == 0) {
        lx->wlen -= 3;
        lx->pending_ellipsis = 1;
    }
    lx->kind = T_WORD;
    return 0;
}

/* ---------------------------------------------------------------- nodes */

struct cd_vec {
    struct cmd_docs_arg *v;
    int n, cap;
};

static void arg_clear(struct cmd_docs_arg *a)
{
    free(a->name);
    free(a->token);
    for (int i = 0; i < a->nargs; i++)
        arg_clear(&a->args[i]);
    free(a->args);
    memset(a, 0, sizeof(*a));
}

static void vec_clear(struct cd_vec *vv)
{
    for (int i = 0; i < vv->n; i++)
        arg_clear(&vv->v[i]);
    free(vv->v);
    memset(vv, 0, sizeof(*vv));
}

/* Moves *a into vv (a is zeroed). On ST_ENOMEM *a is left to the caller. */
static int vec_push(struct cd_vec *vv, struct cmd_docs_arg *a)
{
    if (vv->n == vv->cap) {
        int ncap = vv->cap ? vv->cap * 2 : 4;
        struct cmd_docs_arg *nv = realloc(vv->v, (size_t)ncap * sizeof(*nv));
        if (!nv)
            return ST_ENOMEM;
        vv->v = nv;
        vv->cap = ncap;
    }
    vv->v[vv->n++] = *a;
    memset(a, 0, sizeof(*a));
    return 0;
}

/* Removes vv->v[i] without freeing it (the caller took its contents). */
static void vec_remove(struct cd_vec *vv, int i)
{
    memmove(&vv->v[i], &vv->v[i + 1], (size_t)(vv->n - i - 1) * sizeof(vv->v[0]));
    vv->n--;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int name_in(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return 1;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lf = strlen(suffix);
    return ls >= lf && strcmp(s + ls - lf, suffix) == 0;
}

/* The type of a lower-case argument, from its name (see the essay). */
static enum cmd_docs_type infer_type_base(const char *name);

/* Numbered names ("index1", "key2") are typed as their base name. */
static enum cmd_docs_type infer_type(const char *name)
{
    char base[CD_MAX_NAME + 1];
    size_t len = strlen(name);

    while (len > 1 && name[len - 1] >= '0' && name[len - 1] <= '9')
        len--;
    if (len == strlen(name) || len > CD_MAX_NAME)
        return infer_type_base(name);
    memcpy(base, name, len);
    base[len] = '\0';
    return infer_type_base(base);
}

static enum cmd_docs_type infer_type_base(const char *name)
{
    static const char *const keys[] = {"key", "newkey", "destination", "source", "destkey", "srckey", NULL};
    static const char *const ints[] = {
        "seconds", "milliseconds", "count", "db", "index", "offset", "start", "end", "stop",
        "increment", "decrement", "cursor", "timeout", "numkeys", "port", "limit", "len",
        "length", "rank", "ttl", "client-id", "numreplicas", "bit", "maxlen", "integer", NULL};
    static const char *const dbls[] = {"score", "longitude", "latitude", "radius", "width", "height",
                                       "float", "double", NULL};

    if (name_in(name, keys) || ends_with(name, "key"))
        return CMD_DOCS_KEY;
    if (strncmp(name, "unix-time", 9) == 0 || strcmp(name, "timestamp") == 0)
        return CMD_DOCS_UNIX_TIME;
    if (name_in(name, ints) || ends_with(name, "-db") || ends_with(name, "-seconds") ||
        ends_with(name, "-milliseconds") || ends_with(name, "-count"))
        return CMD_DOCS_INTEGER;
    if (name_in(name, dbls))
        return CMD_DOCS_DOUBLE;
    if (strcmp(name, "pattern") == 0 || ends_with(name, "-pattern"))
        return CMD_DOCS_PATTERN;
    return CMD_DOCS_STRING;
}

static int make_word(const char *w, size_t len, int quoted, struct cmd_docs_arg *out)
{
    int token = quoted;
    if (!token) {
        token = 1;
        for (size_t i = 0; i < len; i++)
            if (islower((unsigned char)w[i]))
                token = 0;
    }
    memset(out, 0, sizeof(*out));
    if (len > CD_MAX_NAME)
        return ST_EINVAL;
    if (token) {
        out->type = CMD_DOCS_PURE_TOKEN;
        out->flags = CD_BARE;
        out->token = dup_n(w, len);
        out->name = len ? dup_n(w, len) : dup_n("\"\"", 2);
        if (!out->token || !out->name)
            goto fail_nomem;
        for (char *p = out->name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        return 0;
    }
    out->name = dup_n(w, len);
    if (!out->name)
        goto fail_nomem;
    out->type = infer_type(out->name);
    return 0;

fail_nomem:
    arg_clear(out);
    return ST_ENOMEM;
}

static int is_bare_token(const struct cmd_docs_arg *a)
{
    return a->type == CMD_DOCS_PURE_TOKEN && (a->flags & CD_BARE);
}

/* May a preceding token be folded into a? */
static int takes_token(const struct cmd_docs_arg *a)
{
    return a->type != CMD_DOCS_PURE_TOKEN && !a->token && !(a->flags & CMD_DOCS_OPTIONAL);
}

static int arg_equal(const struct cmd_docs_arg *a, const struct cmd_docs_arg *b)
{
    if (a->type != b->type || (a->flags & CD_PUBLIC_FLAGS) != (b->flags & CD_PUBLIC_FLAGS) ||
        a->nargs != b->nargs || strcmp(a->name, b->name) != 0)
        return 0;
    if (!a->token != !b->token || (a->token && strcmp(a->token, b->token) != 0))
        return 0;
    for (int i = 0; i < a->nargs; i++)
        if (!arg_equal(&a->args[i], &b->args[i]))
            return 0;
    return 1;
}

/* Folds each bare token into the argument after it when that one takes it. */
static void merge_pairs(struct cd_vec *items)
{
    for (int i = 0; i + 1 < items->n; i++) {
        if (is_bare_token(&items->v[i]) && takes_token(&items->v[i + 1])) {
            items->v[i + 1].token = items->v[i].token;
            items->v[i].token = NULL;
            arg_clear(&items->v[i]);
            vec_remove(items, i);
        }
    }
}

/* Turns the sequence items (consumed, left empty) into one argument *out. In
 * a group a leading token heads the sequence (see the essay). */
static int seq_to_node(struct cd_vec *items, int group, struct cmd_docs_arg *out)
{
    memset(out, 0, sizeof(*out));
    if (items->n == 0)
        return ST_EINVAL;

    if (group && items->n >= 2 && is_bare_token(&items->v[0])) {
        if (items->n == 2 && takes_token(&items->v[1])) {
            *out = items->v[1];
            out->token = items->v[0].token;
            items->v[0].token = NULL;
            arg_clear(&items->v[0]);
            free(items->v);
            memset(items, 0, sizeof(*items));
            out->flags &= ~CD_BARE;
            return 0;
        }
        /* TOKEN a b ...: a block that carries the token. */
        out->type = CMD_DOCS_BLOCK;
        out->token = items->v[0].token;
        out->name = items->v[0].name;
        items->v[0].token = NULL;
        items->v[0].name = NULL;
        arg_clear(&items->v[0]);
        vec_remove(items, 0);
        merge_pairs(items);
        out->args = items->v;
        out->nargs = items->n;
        memset(items, 0, sizeof(*items));
        return 0;
    }

    merge_pairs(items);
    if (items->n == 1) {
        *out = items->v[0];
        free(items->v);
        memset(items, 0, sizeof(*items));
        out->flags &= ~CD_BARE;
        return 0;
    }
    out->type = CMD_DOCS_BLOCK;
    out->name = strdup(items->v[0].name);
    if (!out->name)
        return ST_ENOMEM;
    out->args = items->v;
    out->nargs = items->n;
    memset(items, 0, sizeof(*items));
    return 0;
}

/* A oneof named after its alternatives ("nx-xx"), taking alts' nodes. */
static int make_oneof(struct cd_vec *alts, struct cmd_docs_arg *out)
{
    char name[CD_MAX_NAME + 1];
    size_t len = 0;

    memset(out, 0, sizeof(*out));
    name[0] = '\0';
    for (int i = 0; i < alts->n && len < CD_MAX_NAME; i++) {
        int w = snprintf(name + len, sizeof(name) - len, "%s%s", i ? "-" : "", alts->v[i].name);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (len > CD_MAX_NAME)
        len = CD_MAX_NAME;
    name[len] = '\0';
    out->name = strdup(name);
    if (!out->name)
        return ST_ENOMEM;
    out->type = CMD_DOCS_ONEOF;
    out->args = alts->v;
    out->nargs = alts->n;
    memset(alts, 0, sizeof(*alts));
    return 0;
}

struct cd_parser {
    struct cd_lexer lx;
    int depth;
};

static int parse_seq(struct cd_parser *p, enum cd_tok closer, struct cd_vec *out, int *rep);

/* Adds the group just parsed (g: raw items, consumed; rep: it ended in
 * "...") to cur. A repetition group that equals the items before it marks
 * them `multiple` (invariant: "x [x ...]" is one argument). */
static int add_group(struct cd_vec *cur, struct cd_vec *g, int rep, int optional)
{
    struct cmd_docs_arg node;
    int rc;

    if (g->n == 0)
        return ST_EINVAL;
    if (rep) {
        int k = g->n, same = k <= cur->n;
        for (int i = 0; same && i < k; i++)
            same = arg_equal(&cur->v[cur->n - k + i], &g->v[i]);
        if (same) {
            struct cd_vec tail = {0};
            int tok = k >= 2 && is_bare_token(&cur->v[cur->n - k]);
            vec_clear(g);
            tail.v = malloc((size_t)k * sizeof(tail.v[0]));
            if (!tail.v)
                return ST_ENOMEM;
            memcpy(tail.v, &cur->v[cur->n - k], (size_t)k * sizeof(tail.v[0]));
            tail.n = tail.cap = k;
            cur->n -= k;
            rc = seq_to_node(&tail, 1, &node);
            vec_clear(&tail);
            if (rc)
                return rc;
            node.flags |= CMD_DOCS_MULTIPLE;
            if (tok && node.token)
                node.flags |= CMD_DOCS_MULTIPLE_TOKEN;
            goto push;
        }
    }
    rc = seq_to_node(g, 1, &node);
    vec_clear(g);
    if (rc) {
        arg_clear(&node);
        return rc;
    }
    if (rep)
        node.flags |= CMD_DOCS_MULTIPLE;
    if (optional)
        node.flags |= CMD_DOCS_OPTIONAL;
push:
    rc = vec_push(cur, &node);
    if (rc)
        arg_clear(&node);
    return rc;
}

/* Parses up to closer (T_END at the top level, which never sets *rep).
 * Returns in *out the raw items of the sequence, or one ONEOF when the
 * sequence has alternatives; *rep tells the group ended in "...". */
static int parse_seq(struct cd_parser *p, enum cd_tok closer, struct cd_vec *out, int *rep)
{
    struct cd_vec alts = {0}, cur = {0};
    struct cmd_docs_arg node;
    int rc = 0, ellipsis = 0;

    memset(out, 0, sizeof(*out));
    *rep = 0;
    if (++p->depth > CD_MAX_DEPTH)
        return ST_EINVAL;

    for (;;) {
        if ((rc = lex_next(&p->lx)))
            goto fail;
        enum cd_tok k = p->lx.kind;
        if (ellipsis) {
            ellipsis = 0;
            if (k == closer && closer != T_END) {
                *rep = 1;
                break;
            }
            cur.v[cur.n - 1].flags |= CMD_DOCS_MULTIPLE;
        }
        if (k == closer)
            break;
        switch (k) {
        case T_WORD:
            if ((rc = make_word(p->lx.w, p->lx.wlen, p->lx.quoted, &node)))
                goto fail;
            if ((rc = vec_push(&cur, &node))) {
                arg_clear(&node);
                goto fail;
            }
            break;
        case T_ELLIPSIS:
            if (cur.n == 0) {
                rc = ST_EINVAL;
                goto fail;
            }
            ellipsis = 1;
            break;
        case T_PIPE:
            if ((rc = seq_to_node(&cur, 1, &node)))
                goto fail;
            if ((rc = vec_push(&alts, &node))) {
                arg_clear(&node);
                goto fail;
            }
            break;
        case T_LBRACK:
        case T_LANGLE:
        case T_LPAREN: {
            enum cd_tok close = k == T_LBRACK ? T_RBRACK : k == T_LANGLE ? T_RANGLE : T_RPAREN;
            struct cd_vec g;
            int grep;
            if ((rc = parse_seq(p, close, &g, &grep)))
                goto fail;
            if ((rc = add_group(&cur, &g, grep, k == T_LBRACK))) {
                vec_clear(&g);
                goto fail;
            }
            break;
        }
        default: /* T_END inside a group, or a stray closer */
            rc = ST_EINVAL;
            goto fail;
        }
    }
    if (alts.n > 0) {
        if ((rc = seq_to_node(&cur, 1, &node)))
            goto fail;
        if ((rc = vec_push(&alts, &node))) {
            arg_clear(&node);
            goto fail;
        }
        if ((rc = make_oneof(&alts, &node)))
            goto fail;
        if ((rc = vec_push(out, &node))) {
            arg_clear(&node);
            goto fail;
        }
    } else {
        *out = cur;
        memset(&cur, 0, sizeof(cur));
    }
    p->depth--;
    return 0;

fail:
    vec_clear(&cur);
    vec_clear(&alts);
    vec_clear(out);
    return rc;
}

static void clear_bare(struct cmd_docs_arg *a, int n)
{
    for (int i = 0; i < n; i++) {
        a[i].flags &= ~CD_BARE;
        clear_bare(a[i].args, a[i].nargs);
    }
}

int cmd_docs_parse(const char *syntax, struct cmd_docs_arg **out, int *nout)
{
    struct cd_parser p;
    struct cd_vec items;
    int rep, rc;

    *out = NULL;
    *nout = 0;
    if (!syntax)
        return 0;
    memset(&p, 0, sizeof(p));
    p.lx.s = syntax;
    if ((rc = parse_seq(&p, T_END, &items, &rep)))
        return rc;
    merge_pairs(&items);
    clear_bare(items.v, items.n);
    if (items.n == 0) {
        free(items.v);
        return 0;
    }
    *out = items.v;
    *nout = items.n;
    return 0;
}

void cmd_docs_free(struct cmd_docs_arg **args, int n)
{
    if (!*args)
        return;
    for (int i = 0; i < n; i++)
        arg_clear(&(*args)[i]);
    free(*args);
    *args = NULL;
}

const char *cmd_docs_type_name(enum cmd_docs_type t)
{
    switch (t) {
    case CMD_DOCS_STRING: return "string";
    case CMD_DOCS_INTEGER: return "integer";
    case CMD_DOCS_DOUBLE: return "double";
    case CMD_DOCS_KEY: return "key";
    case CMD_DOCS_PATTERN: return "pattern";
    case CMD_DOCS_UNIX_TIME: return "unix-time";
    case CMD_DOCS_PURE_TOKEN: return "pure-token";
    case CMD_DOCS_ONEOF: return "oneof";
    case CMD_DOCS_BLOCK: return "block";
    }
    return "string";
}

static void fmt_put(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len < cap) {
        size_t room = cap - *len - 1;
        memcpy(buf + *len, s, n < room ? n : room);
        buf[*len + (n < room ? n : room)] = '\0';
    }
    *len += n;
}

static void fmt_args(const struct cmd_docs_arg *args, int n, char *buf, size_t cap, size_t *len)
{
    for (int i = 0; i < n; i++) {
        const struct cmd_docs_arg *a = &args[i];
        if (i)
            fmt_put(buf, cap, len, " ");
        fmt_put(buf, cap, len, a->name);
        fmt_put(buf, cap, len, ":");
        fmt_put(buf, cap, len, cmd_docs_type_name(a->type));
        if (a->token) {
            fmt_put(buf, cap, len, "=");
            fmt_put(buf, cap, len, a->token);
        }
        if (a->flags & CMD_DOCS_OPTIONAL)
            fmt_put(buf, cap, len, "?");
        if (a->flags & CMD_DOCS_MULTIPLE)
            fmt_put(buf, cap, len, "*");
        if (a->flags & CMD_DOCS_MULTIPLE_TOKEN)
            fmt_put(buf, cap, len, "+");
        if (a->nargs) {
            fmt_put(buf, cap, len, "(");
            fmt_args(a->args, a->nargs, buf, cap, len);
            fmt_put(buf, cap, len, ")");
        }
    }
}

size_t cmd_docs_format(const struct cmd_docs_arg *args, int n, char *buf, size_t cap)
{
    size_t len = 0;

    if (cap)
        buf[0] = '\0';
    fmt_args(args, n, buf, cap, &len);
    return len;
}

/* ------------------------------------------------------- flags, categories */

static const struct {
    uint32_t flag;
    const char *name;
} cmd_flag_names[] = {
    {CMD_WRITE, "write"},     {CMD_READONLY, "readonly"}, {CMD_DENYOOM, "denyoom"},
    {CMD_ADMIN, "admin"},     {CMD_PUBSUB, "pubsub"},     {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"}, {CMD_LOADING, "loading"}, {CMD_STALE, "stale"},
    {CMD_FAST, "fast"},       {CMD_NO_AUTH, "no_auth"},   {CMD_NOMULTI, "no_multi"},
    {CMD_MOVABLE, "movablekeys"},
};

/* In Redis's ACL category order (acl.c ACLCommandCategories). */
static const char *const cmd_cat_names[] = {
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
    "connection", "transaction", "scripting",
};
enum {
    CAT_KEYSPACE, CAT_READ, CAT_WRITE, CAT_SET, CAT_SORTEDSET, CAT_LIST, CAT_HASH, CAT_STRING,
    CAT_BITMAP, CAT_HYPERLOGLOG, CAT_GEO, CAT_STREAM, CAT_PUBSUB, CAT_ADMIN, CAT_FAST, CAT_SLOW,
    CAT_BLOCKING, CAT_DANGEROUS, CAT_CONNECTION, CAT_TRANSACTION, CAT_SCRIPTING, CAT_N
};

static const char *entry_group(const struct cmd_entry *e)
{
    if (e->def->group)
        return e->def->group;
    if (e->parent && e->parent->group)
        return e->parent->group;
    return "generic";
}

uint32_t cmd_docs_categories(const struct cmd_entry *e)
{
    static const struct {
        const char *group;
        int cat;
    } groups[] = {
        {"generic", CAT_KEYSPACE},   {"keyspace", CAT_KEYSPACE},       {"string", CAT_STRING},
        {"list", CAT_LIST},          {"hash", CAT_HASH},               {"set", CAT_SET},
        {"sorted-set", CAT_SORTEDSET}, {"sorted_set", CAT_SORTEDSET},  {"zset", CAT_SORTEDSET},
        {"bitmap", CAT_BITMAP},      {"hyperloglog", CAT_HYPERLOGLOG}, {"geo", CAT_GEO},
        {"stream", CAT_STREAM},      {"pubsub", CAT_PUBSUB},           {"connection", CAT_CONNECTION},
        {"transactions", CAT_TRANSACTION}, {"transaction", CAT_TRANSACTION},
        {"scripting", CAT_SCRIPTING},
    };
    uint32_t f = e->def->flags, cats = 0;
    const char *group = entry_group(e);

    if (f & CMD_WRITE)
        cats |= 1u << CAT_WRITE;
    if (f & CMD_READONLY)
        cats |= 1u << CAT_READ;
    if (f & CMD_ADMIN)
        cats |= (1u << CAT_ADMIN) | (1u << CAT_DANGEROUS);
    if (f & CMD_PUBSUB)
        cats |= 1u << CAT_PUBSUB;
    if (f & CMD_BLOCKING)
        cats |= 1u << CAT_BLOCKING;
    cats |= (f & CMD_FAST) ? 1u << CAT_FAST : 1u << CAT_SLOW;
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (strcmp(group, groups[i].group) == 0)
            cats |= 1u << groups[i].cat;
    return cats;
}

const char *cmd_docs_category_name(int i)
{
    return i >= 0 && i < CAT_N ? cmd_cat_names[i] : NULL;
}

int cmd_docs_category_find(const char *name, size_t len)
{
    if (len && name[0] == '@') {
        name++;
        len--;
    }
    for (int i = 0; i < CAT_N; i++)
        if (strlen(cmd_cat_names[i]) == len && strncasecmp(name, cmd_cat_names[i], len) == 0)
            return i;
    return -1;
}

/* ----------------------------------------------------------- COMMAND INFO */

/* The key spec Redis would derive from the legacy (first, last, step) range. */
static void reply_key_specs(struct client *c, const struct cmd_def *d)
{
    if (d->first_key <= 0) {
        reply_set(c, 0);
        return;
    }
    reply_set(c, 1);
    reply_map(c, 3);
    reply_bulk_cstr(c, "flags");
    if (d->flags & CMD_WRITE) {
        reply_set(c, 2);
        reply_simple(c, "RW");
        reply_simple(c, "update");
    } else {
        reply_set(c, 2);
        reply_simple(c, "RO");
        reply_simple(c, "access");
    }
    reply_bulk_cstr(c, "begin_search");
    reply_map(c, 2);
    reply_bulk_cstr(c, "type");
    reply_bulk_cstr(c, "index");
    reply_bulk_cstr(c, "spec");
    reply_map(c, 1);
    reply_bulk_cstr(c, "index");
    reply_int(c, d->first_key);
    reply_bulk_cstr(c, "find_keys");
    reply_map(c, 2);
    reply_bulk_cstr(c, "type");
    reply_bulk_cstr(c, "range");
    reply_bulk_cstr(c, "spec");
    reply_map(c, 3);
    reply_bulk_cstr(c, "lastkey");
    reply_int(c, d->last_key < 0 ? d->last_key : d->last_key - d->first_key);
    reply_bulk_cstr(c, "keystep");
    reply_int(c, d->key_step > 0 ? d->key_step : 1);
    reply_bulk_cstr(c, "limit");
    reply_int(c, 0);
}

void cmd_reply_info(struct client *c, const struct cmd_entry *e)
{
    const struct cmd_def *d = e->def;
    const size_t nflags = sizeof(cmd_flag_names) / sizeof(cmd_flag_names[0]);
    uint32_t cats = cmd_docs_categories(e);
    long n = 0;

    reply_array(c, 10);
    reply_bulk_cstr(c, e->fullname);
    reply_int(c, d->arity);

    for (size_t i = 0; i < nflags; i++)
        n += (d->flags & cmd_flag_names[i].flag) != 0;
    reply_set(c, n);
    for (size_t i = 0; i < nflags; i++)
        if (d->flags & cmd_flag_names[i].flag)
            reply_simple(c, cmd_flag_names[i].name);

    reply_int(c, d->first_key);
    reply_int(c, d->last_key);
    reply_int(c, d->key_step);

    n = 0;
    for (int i = 0; i < CAT_N; i++)
        n += (cats >> i) & 1;
    reply_set(c, n);
    for (int i = 0; i < CAT_N; i++) {
        if ((cats >> i) & 1) {
            char buf[32];
            snprintf(buf, sizeof(buf), "@%s", cmd_cat_names[i]);
            reply_simple(c, buf);
        }
    }

    reply_set(c, 0); /* tips: none recorded in cmd_def */
    reply_key_specs(c, d);

    if (e->nsub > 0) {
        reply_array(c, e->nsub);
        for (int i = 0; i < e->nsub; i++)
            cmd_reply_info(c, e->subs[i]);
    } else {
        reply_set(c, 0);
    }
}

/* ----------------------------------------------------------- COMMAND DOCS */

static void reply_arg_list(struct client *c, const struct cmd_docs_arg *args, int n, int has_key_spec)
{
    reply_array(c, n);
    for (int i = 0; i < n; i++) {
        const struct cmd_docs_arg *a = &args[i];
        unsigned fl = a->flags & CD_PUBLIC_FLAGS;
        int key_spec = has_key_spec && a->type == CMD_DOCS_KEY;
        int container = a->type == CMD_DOCS_ONEOF || a->type == CMD_DOCS_BLOCK;
        long len = 2 + key_spec + (a->token != NULL) + (fl != 0) + container;

        reply_map(c, len);
        reply_bulk_cstr(c, "name");
        reply_bulk_cstr(c, a->name);
        reply_bulk_cstr(c, "type");
        reply_bulk_cstr(c, cmd_docs_type_name(a->type));
        if (key_spec) {
            reply_bulk_cstr(c, "key_spec_index");
            reply_int(c, 0);
        }
        if (a->token) {
            reply_bulk_cstr(c, "token");
            reply_bulk_cstr(c, a->token);
        }
        if (fl) {
            reply_bulk_cstr(c, "flags");
            reply_set(c, !!(fl & CMD_DOCS_OPTIONAL) + !!(fl & CMD_DOCS_MULTIPLE) +
                             !!(fl & CMD_DOCS_MULTIPLE_TOKEN));
            if (fl & CMD_DOCS_OPTIONAL)
                reply_simple(c, "optional");
            if (fl & CMD_DOCS_MULTIPLE)
                reply_simple(c, "multiple");
            if (fl & CMD_DOCS_MULTIPLE_TOKEN)
                reply_simple(c, "multiple_token");
        }
        if (container) {
            reply_bulk_cstr(c, "arguments");
            reply_arg_list(c, a->args, a->nargs, has_key_spec);
        }
    }
}

void cmd_reply_docs(struct client *c, const struct cmd_entry *e)
{
    const struct cmd_def *d = e->def;
    struct cmd_docs_arg *args = NULL;
    int nargs = 0;
    long len = 1; /* group */

    if (d->syntax && cmd_docs_parse(d->syntax, &args, &nargs) != 0) {
        log_warn("COMMAND DOCS: cannot parse the syntax of '%s': \"%s\"", e->fullname, d->syntax);
        args = NULL;
        nargs = 0;
    }
    len += (d->summary != NULL) + (d->since != NULL) + (d->complexity != NULL) + (nargs > 0) +
           (e->nsub > 0);

    reply_map(c, len);
    if (d->summary) {
        reply_bulk_cstr(c, "summary");
        reply_bulk_cstr(c, d->summary);
    }
    if (d->since) {
        reply_bulk_cstr(c, "since");
        reply_bulk_cstr(c, d->since);
    }
    reply_bulk_cstr(c, "group");
    reply_bulk_cstr(c, entry_group(e));
    if (d->complexity) {
        reply_bulk_cstr(c, "complexity");
        reply_bulk_cstr(c, d->complexity);
    }
    if (nargs > 0) {
        reply_bulk_cstr(c, "arguments");
        reply_arg_list(c, args, nargs, d->first_key > 0);
    }
    if (e->nsub > 0) {
        reply_bulk_cstr(c, "subcommands");
        reply_map(c, e->nsub);
        for (int i = 0; i < e->nsub; i++) {
            reply_bulk_cstr(c, e->subs[i]->fullname);
            cmd_reply_docs(c, e->subs[i]);
        }
    }
    cmd_docs_free(&args, nargs);
}
