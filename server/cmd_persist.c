/*
 * cmd_persist.c -- SAVE BGSAVE LASTSAVE BGREWRITEAOF (Redis's replies and
 * errors); the work is persist.c's. SHUTDOWN SAVE/NOSAVE, DEBUG RELOAD and
 * INFO persistence live with SHUTDOWN, DEBUG and INFO (cmd_server.c, info.c).
 */
#include "engine/err.h"
#include "engine/util.h"
#include "server/client.h"
#include "server/cmd.h"
#include "server/persist.h"
#include "server/reply.h"
#include "server/server.h"

static void cmd_save(struct client *c)
{
    int rc = persist_save(c->srv);
    if (rc == ST_EAGAIN)
        reply_error(c, "ERR Background save already in progress");
    else if (rc != ST_OK)
        reply_errorf(c, "ERR snapshot failed (%s): see the server log", st_strerror(rc));
    else
        reply_ok(c);
}

static void cmd_bgsave(struct client *c)
{
    int schedule = 0;
    if (c->argc == 2 && util_eqi(c->argv[1].p, c->argv[1].len, "schedule")) {
        schedule = 1;
    } else if (c->argc > 1) {
        reply_err_syntax(c);
        return;
    }
    switch (persist_bgsave(c->srv, schedule)) {
    case PERSIST_STARTED:
        reply_simple(c, "Background saving started");
        break;
    case PERSIST_SCHEDULED:
        reply_simple(c, "Background saving scheduled");
        break;
    case PERSIST_REWRITING:
        reply_error(c, "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE "
                       "in order to schedule a BGSAVE whenever possible.");
        break;
    default:
        reply_error(c, "ERR Background save already in progress");
        break;
    }
}

static void cmd_lastsave(struct client *c)
{
    reply_int(c, persist_lastsave(c->srv));
}

static void cmd_bgrewriteaof(struct client *c)
{
    switch (persist_bgrewriteaof(c->srv)) {
    case PERSIST_STARTED:
        reply_simple(c, "Background append only file rewriting started");
        break;
    case PERSIST_SCHEDULED:
        reply_simple(c, "Background append only file rewriting scheduled");
        break;
    case PERSIST_NOLOG:
        reply_error(c, "ERR the append log is off (appendonly no): BGSAVE writes a snapshot");
        break;
    default:
        reply_error(c, "ERR Background append only file rewriting already in progress");
        break;
    }
}

#define P_ADMIN (CMD_ADMIN | CMD_NOSCRIPT)

const struct cmd_def cmds_persist[] = {
    { "save", cmd_save, 1, P_ADMIN | CMD_NOMULTI, 0, 0, 0, "server", "Synchronously save the dataset to disk",
      "1.0.0", "O(N) where N is the total number of keys in all databases", "", NULL },
    { "bgsave", cmd_bgsave, -1, P_ADMIN, 0, 0, 0, "server", "Asynchronously save the dataset to disk", "1.0.0",
      "O(1)", "[SCHEDULE]", NULL },
    { "lastsave", cmd_lastsave, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, 0, 0, "server",
      "Get the UNIX time stamp of the last successful save to disk", "1.0.0", "O(1)", "", NULL },
    { "bgrewriteaof", cmd_bgrewriteaof, 1, P_ADMIN, 0, 0, 0, "server", "Asynchronously rewrite the append-only file",
      "1.0.0", "O(1)", "", NULL },
    { NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};
