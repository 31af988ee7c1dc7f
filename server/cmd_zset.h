/*
 * cmd_zset.h -- helpers shared by the sorted-set command files
 * (cmd_zset.c: point, range, pop and blocking commands and the table
 * cmds_zset[]; cmd_zsetops.c: ZUNION ZINTER ZDIFF and their STORE forms,
 * ZINTERCARD). Internal to those two files.
 *
 * Every helper taking a struct ks_key requires the caller to hold that key's
 * shard lock.
 */
#ifndef STRATA_CMD_ZSET_H
#define STRATA_CMD_ZSET_H

#include <stddef.h>
#include <stdint.h>

#include "engine/keyspace.h"
#include "engine/t_zset.h"
#include "server/client.h"

/* Lookups: read ones count keyspace_hits / keyspace_misses as Redis's
 * lookupKeyRead does; write ones do not. Return the link or NULL. */
struct entry **zc_lookup_read(struct client *c, const struct ks_key *k);
struct entry **zc_lookup_write(struct client *c, const struct ks_key *k);

/* Makes k hold the sorted set zs (taken), replacing whatever k held (any
 * type, its expiry dropped), as Redis's setKey; signals blocked clients.
 * Returns 0 or ST_ENOMEM (zs freed, k unchanged). */
int zc_store(struct client *c, const struct ks_key *k, void *zs);

/* Deletes k if it exists (a STORE command whose result is empty). Returns 1
 * when something was deleted. */
int zc_delete(struct client *c, const struct ks_key *k);

/* Replies one element of a range: the member, and with scores its score as
 * a double; in RESP3 a (member, score) pair is a nested array of 2, in RESP2
 * both are flat (the caller counted 2 per element). */
void zc_reply_elem(struct client *c, const struct zset_elem *e, int withscores);

/* The length to announce for n elements (2n for RESP2 with scores). */
static inline long zc_reply_len(const struct client *c, long n, int withscores)
{
    return withscores && c->resp == 2 ? 2 * n : n;
}

/* Parses argv[i] as a long with Redis's getLongFromObjectOrReply(msg):
 * replies msg (or the not-an-integer error when NULL) and returns -1 when it
 * is not an integer. */
int zc_arg_long(struct client *c, int i, long long *out, const char *msg);

/* ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD
 * (cmd_zsetops.c). */
void zunion_cmd(struct client *c);
void zinter_cmd(struct client *c);
void zdiff_cmd(struct client *c);
void zunionstore_cmd(struct client *c);
void zinterstore_cmd(struct client *c);
void zdiffstore_cmd(struct client *c);
void zintercard_cmd(struct client *c);

#endif
