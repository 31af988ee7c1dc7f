/*
 * cmd_tier.c -- where keys live: OBJECT TIER key, TIER DEMOTE key [key ...],
 * TIER PROMOTE key [key ...], TIER HELP (Strata's own commands; the table is
 * cmds_tier[], OBJECT TIER is a subcommand in cmd_keys.c's OBJECT table).
 *
 * OBJECT TIER answers "dram" for a key whose value is in DRAM, else the name
 * of the tier holding its record ("pmem", "mem"), and a null for a missing
 * key, like the other OBJECT subcommands. TIER DEMOTE and TIER PROMOTE move
 * keys now, whatever the budget and the admission rule say, and answer how
 * many moved; without any tier, TIER DEMOTE is an error.
 */
#include <stdlib.h>

#include "engine/entry.h"
#include "engine/err.h"
#include "engine/keyspace.h"
#include "server/client.h"
#include "server/cmd.h"
#include "server/keyargs.h"
#include "server/reply.h"
#include "server/server.h"
#include "server/tiering.h"

void cmd_object_tier(struct client *c);

void cmd_object_tier(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    struct ks_key k;
    const char *where = NULL;
    keyargs_one(c, 2, &k);
    ks_lock(ks, k.shard);
    struct entry **ref = ks_find_ref(ks, c->db, &k, c->now_ms, KS_F_NOTOUCH | KS_F_STUB | KS_F_NOMISS);
    if (!ref && c->srv->tiering)
        where = tiering_where(c->srv->tiering, c->db, &k, c->now_ms);
    if (ref) {
        where = "dram";
        if ((*ref)->enc == ENC_TIER && c->srv->tiering) {
            struct entry_stub st;
            entry_stub_get(*ref, &st);
            where = tiering_tier_name(c->srv->tiering, st.tier);
            if (!where)
                where = "unknown";
        }
    }
    ks_unlock(ks, k.shard);
    if (where)
        reply_bulk_cstr(c, where);
    else
        reply_null(c);
}

static void cmd_tier_demote(struct client *c)
{
    struct tiering *tg = c->srv->tiering;
    if (!tg) {
        reply_error(c, "ERR no tier is configured (see pmem-path and mem-tier-size)");
        return;
    }
    long long moved = 0;
    for (int i = 2; i < c->argc; i++) {
        /* a value in DRAM goes to the first tier with room; a key already
         * cold on a stub tier moves on to the indexed tier after it */
        int rc = tiering_demote(tg, c->db, c->argv[i].p, c->argv[i].len, c->now_ms, NULL);
        if (rc == ST_ENOENT)
            rc = tiering_demote_further(tg, c->db, c->argv[i].p, c->argv[i].len, c->now_ms, NULL);
        if (rc == ST_OK)
            moved++;
    }
    reply_int(c, moved);
}

static void cmd_tier_promote(struct client *c)
{
    struct keyspace *ks = c->srv->ks;
    long long moved = 0;
    for (int i = 2; i < c->argc; i++) {
        struct ks_key k;
        keyargs_one(c, i, &k);
        ks_lock(ks, k.shard);
        struct entry **ref = ks_find_ref(ks, c->db, &k, c->now_ms, KS_F_NOTOUCH | KS_F_STUB | KS_F_NOMISS);
        int cold = ref ? (*ref)->enc == ENC_TIER
                       : c->srv->tiering && tiering_where(c->srv->tiering, c->db, &k, c->now_ms) != NULL;
        /* a lookup outside a read-only command promotes (engine/keyspace.h) */
        if (cold && ks_find_ref(ks, c->db, &k, c->now_ms, KS_F_NOTOUCH))
            moved++;
        ks_unlock(ks, k.shard);
    }
    reply_int(c, moved);
}

static void cmd_tier_help(struct client *c)
{
    static const char *const help[] = {
        "TIER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEMOTE <key> [<key> ...]",
        "    Move the values of the keys one tier colder now (DRAM to the first tier with room,",
        "    PMem to SSD); returns how many moved.",
        "PROMOTE <key> [<key> ...]",
        "    Move the values of cold keys back to DRAM now; returns how many moved.",
        "HELP",
        "    Prints this help.",
    };
    long n = (long)(sizeof(help) / sizeof(help[0]));
    reply_array(c, n);
    for (long i = 0; i < n; i++)
        reply_simple(c, help[i]);
}

static const struct cmd_def tier_subcmds[] = {
    { "demote", cmd_tier_demote, -3, CMD_WRITE, 2, -1, 1, "server",
      "Move keys' values to a tier now (Strata)", "0.1.0", "O(N) in the keys' sizes", "key [key ...]", NULL },
    { "help", cmd_tier_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "server",
      "Show helpful text about the different subcommands", "0.1.0", "O(1)", "", NULL },
    { "promote", cmd_tier_promote, -3, CMD_WRITE, 2, -1, 1, "server",
      "Move cold keys' values back to DRAM now (Strata)", "0.1.0", "O(N) in the keys' sizes", "key [key ...]",
      NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};

const struct cmd_def cmds_tier[] = {
    { "tier", NULL, -2, 0, 0, 0, 0, "server", "A container for tier commands (Strata)", "0.1.0",
      "Depends on subcommand.", "", tier_subcmds },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};
