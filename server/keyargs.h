/*
 * keyargs.h -- what every command family does with its key arguments: turn
 * argv entries into keyspace keys (one, or an array kept on the stack up to
 * KEYARGS_STACK keys), and look a key up for reading (counting INFO's
 * keyspace_hits / keyspace_misses where Redis's lookupKeyRead does) or for
 * writing (counting nothing).
 *
 * Called on the client's worker inside a command; the lookups need the key's
 * shard lock held (engine/keyspace.h).
 */
#ifndef STRATA_KEYARGS_H
#define STRATA_KEYARGS_H

#include <stddef.h>

#include "engine/keyspace.h"

struct client;

/* Keys an array on the stack holds before keyargs_many allocates. */
#define KEYARGS_STACK 16

/* k := argv[i] (borrowed: valid while the command runs). */
void keyargs_one(struct client *c, int i, struct ks_key *k);

/* Keys for argv[first], argv[first + step], ... (n of them), in stack (which
 * holds KEYARGS_STACK keys) when they fit, else in a new array. Returns the
 * array (release with keyargs_free), or NULL after replying an
 * out-of-memory error. */
struct ks_key *keyargs_many(struct client *c, struct ks_key *stack, size_t n, int first, int step);
void keyargs_free(struct ks_key *keys, const struct ks_key *stack);

/* Lookup for a read command: counts a keyspace hit or miss. */
struct entry **keyargs_read(struct client *c, const struct ks_key *k);
/* Lookup for a write command: counts nothing. */
struct entry **keyargs_write(struct client *c, const struct ks_key *k);

#endif
