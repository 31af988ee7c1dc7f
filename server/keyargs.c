/*
 * keyargs.c -- key arguments and lookups shared by the command families
 * (contract in keyargs.h). Lookups are ks_find_ref with the client's
 * database and command time; lazy expiry happens inside.
 */
#include "server/keyargs.h"

#include <stdlib.h>

#include "server/client.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/stats.h"
#include "server/worker.h"

void keyargs_one(struct client *c, int i, struct ks_key *k)
{
    ks_key_init(c->srv->ks, k, c->argv[i].p, c->argv[i].len);
}

struct ks_key *keyargs_many(struct client *c, struct ks_key *stack, size_t n, int first, int step)
{
    struct ks_key *keys = stack;
    if (n > KEYARGS_STACK) {
        keys = malloc(n * sizeof(*keys));
        if (!keys) {
            reply_err_nomem(c);
            return NULL;
        }
    }
    for (size_t i = 0; i < n; i++)
        keyargs_one(c, first + (int)i * step, &keys[i]);
    return keys;
}

void keyargs_free(struct ks_key *keys, const struct ks_key *stack)
{
    if (keys != stack)
        free(keys);
}

struct entry **keyargs_read(struct client *c, const struct ks_key *k)
{
    struct entry **ref = ks_find_ref(c->srv->ks, c->db, k, c->now_ms, 0);
    if (ref)
        STAT_ADD(c->w->stats.keyspace_hits, 1);
    else
        STAT_ADD(c->w->stats.keyspace_misses, 1);
    return ref;
}

struct entry **keyargs_write(struct client *c, const struct ks_key *k)
{
    return ks_find_ref(c->srv->ks, c->db, k, c->now_ms, 0);
}
