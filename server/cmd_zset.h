/*
 * cmd_zset.h -- helpers shared by the sorted-set command files
 * (cmd_zset.c: point and range commands, ZRANDMEMBER, ZSCAN and the table
 * cmds_zset[]; cmd_zsetpop.c: the pops, blocking ones included;
 * cmd_zsetops.c: ZUNION ZINTER ZDIFF and their STORE forms, ZINTERCARD).
 * Internal to those three files.
 *
 * Every helper taking a struct ks_key requires the caller to hold that key's
 * shard lock.
 */
#ifndef STRATA_CMD_ZSET_H
#define STRATA_CMD_ZSET_H

#include "server/keyargs.h"

#include <stddef.h>
#include <stdint.h>

#include "engine/keyspace.h"
#include "engine/t_zset.h"
#include "server/client.h"

/* Lookups are keyargs_read / keyargs_write (server/keyargs.h). */

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

/* Keys on the stack before malloc (ZMPOP, BZPOPMIN). */

/* Initialises k for argv[i]. */
void zc_key(struct client *c, int i, struct ks_key *k);
/* Case-insensitive comparison of an argument with a lower-case literal. */
int zc_eq(const struct arg *a, const char *lit);
/* The zset of the entry at ref, or NULL after replying WRONGTYPE. */
void *zc_obj(struct client *c, struct entry **ref);
/* After a change of the set at ref: stores the (possibly moved) object in
 * the entry, then deletes the key when the set is empty. */
void zc_commit(struct client *c, const struct ks_key *k, struct entry **ref, void *zs);
/* Redis's getRangeLongFromObjectOrReply(min..LONG_MAX, msg): msg answers
 * both a non-integer and a value below min. */
int zc_arg_range(struct client *c, int i, long long min, long long *out, const char *msg);
/* Inserts a new zset entry for k (absent) holding zs (taken; freed on
 * failure). Returns 0 or ST_ENOMEM. */
int zc_insert_new(struct keyspace *ks, int db, const struct ks_key *k, void *zs);

/* ZPOPMIN ZPOPMAX ZMPOP BZPOPMIN BZPOPMAX BZMPOP (cmd_zsetpop.c). */
void zpopmin_cmd(struct client *c);
void zpopmax_cmd(struct client *c);
void zmpop_cmd(struct client *c);
void bzpopmin_cmd(struct client *c);
void bzpopmax_cmd(struct client *c);
void bzmpop_cmd(struct client *c);

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
