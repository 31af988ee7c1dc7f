/*
 * cmd.c -- the command registry, built once per server from the family
 * tables (cmd_conn.c, cmd_server.c, cmd_string.c, cmd_keys.c, ...).
 *
 * Lookup is on the hot path of every request: an open-addressing table keyed
 * by the lower-cased name's FNV-1a hash, compared case-insensitively, with no
 * allocation and no copying of the client's bytes. Subcommands of a container
 * (CLIENT LIST) are a small sorted array searched linearly (a dozen at most).
 *
 * Every command and subcommand gets an id (its index in `entries`) that
 * indexes the per-worker commandstats arrays.
 */
#include "server/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/err.h"

extern const struct cmd_def cmds_hash[] __attribute__((weak));
extern const struct cmd_def cmds_list[] __attribute__((weak));
extern const struct cmd_def cmds_set[] __attribute__((weak));
extern const struct cmd_def cmds_zset[] __attribute__((weak));
extern const struct cmd_def cmds_bitmap[] __attribute__((weak));
extern const struct cmd_def cmds_hll[] __attribute__((weak));
extern const struct cmd_def cmds_tier[] __attribute__((weak));

/* A family whose module is not linked reads as NULL and is skipped. */
static const struct cmd_def *const families[] = { cmds_conn, cmds_server, cmds_string, cmds_keys, cmds_hash,
                                                  cmds_list,  cmds_set,    cmds_zset,   cmds_bitmap, cmds_hll,
                                                  cmds_tier, cmds_persist };

static inline unsigned char lower(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch + 32) : ch;
}

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= lower((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h;
}

static int name_eq(const char *def, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (def[i] == '\0' || def[i] != (char)lower((unsigned char)s[i]))
            return 0;
    return def[len] == '\0';
}

static int by_name(const void *a, const void *b)
{
    const struct cmd_entry *const *x = a, *const *y = b;
    return strcmp((*x)->def->name, (*y)->def->name);
}

struct cmd_table *cmd_table_create(void)
{
    struct cmd_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    int n = 0, ntop = 0;
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
        for (const struct cmd_def *d = families[f]; d && d->name; d++) {
            n++;
            ntop++;
            if (d->subcmds)
                for (const struct cmd_def *s = d->subcmds; s->name; s++)
                    n++;
        }
    t->entries = calloc((size_t)n, sizeof(*t->entries));
    t->top = calloc((size_t)ntop, sizeof(*t->top));
    uint32_t hsize = 16;
    while (hsize < (uint32_t)ntop * 4)
        hsize <<= 1;
    t->hash = calloc(hsize, sizeof(*t->hash));
    t->hmask = hsize - 1;
    if (!t->entries || !t->top || !t->hash)
        goto fail;

    int i = 0;
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
        for (const struct cmd_def *d = families[f]; d && d->name; d++) {
            struct cmd_entry *e = &t->entries[i];
            e->def = d;
            e->id = i++;
            t->n = i;
            snprintf(e->fullname, sizeof(e->fullname), "%s", d->name);
            if (cmd_lookup(t, d->name, strlen(d->name)))
                goto fail; /* a name defined twice is a programming error */
            uint32_t h = name_hash(d->name, strlen(d->name)) & t->hmask;
            while (t->hash[h])
                h = (h + 1) & t->hmask;
            t->hash[h] = e;
            t->top[t->ntop++] = e;
            if (d->subcmds) {
                int ns = 0;
                for (const struct cmd_def *s = d->subcmds; s->name; s++)
                    ns++;
                e->subs = calloc((size_t)ns, sizeof(*e->subs));
                if (!e->subs && ns)
                    goto fail;
                for (const struct cmd_def *s = d->subcmds; s->name; s++) {
                    struct cmd_entry *se = &t->entries[i];
                    se->def = s;
                    se->parent = d;
                    se->id = i++;
                    t->n = i;
                    snprintf(se->fullname, sizeof(se->fullname), "%s|%s", d->name, s->name);
                    e->subs[e->nsub++] = se;
                }
                qsort(e->subs, (size_t)e->nsub, sizeof(*e->subs), by_name);
            }
        }
    qsort(t->top, (size_t)t->ntop, sizeof(*t->top), by_name);
    return t;

fail:
    cmd_table_destroy(&t);
    return NULL;
}

void cmd_table_destroy(struct cmd_table **tp)
{
    struct cmd_table *t = *tp;
    if (!t)
        return;
    for (int i = 0; t->entries && i < t->n; i++)
        free(t->entries[i].subs);
    free(t->entries);
    free(t->top);
    free(t->hash);
    free(t);
    *tp = NULL;
}

const struct cmd_entry *cmd_lookup(const struct cmd_table *t, const char *name, size_t len)
{
    if (len == 0 || len > 64)
        return NULL;
    uint32_t h = name_hash(name, len) & t->hmask;
    while (t->hash[h]) {
        if (name_eq(t->hash[h]->def->name, name, len))
            return t->hash[h];
        h = (h + 1) & t->hmask;
    }
    return NULL;
}

const struct cmd_entry *cmd_lookup_sub(const struct cmd_entry *parent, const char *name, size_t len)
{
    for (int i = 0; i < parent->nsub; i++)
        if (name_eq(parent->subs[i]->def->name, name, len))
            return parent->subs[i];
    return NULL;
}
