/*
 * client_internal.h -- what the worker needs from client.c and no command
 * does: creating, feeding, flushing and closing connections.
 */
#ifndef STRATA_CLIENT_INTERNAL_H
#define STRATA_CLIENT_INTERNAL_H

#include "server/client.h"

/* Creates a client for the connected, non-blocking socket fd on worker w and
 * registers it with w's loop. Takes fd (closed on failure). Returns the
 * client or NULL. */
struct client *client_create(struct worker *w, int fd);

/* Closes the connection and frees the client; a suspended command is
 * cancelled first. Removes it from the worker's list. */
void client_free(struct client *c);

/* Writes pending output. Returns 0, or -1 when the client was freed. */
int client_flush(struct client *c);

/* Cron checks: idle timeout, output soft limit, buffer shrinking. Returns -1
 * when the client was freed. */
int client_cron(struct client *c, int64_t now_ms);

/* Runs pending input (after output drained or a resume). Returns -1 when the
 * client was freed. */
int client_process_input(struct client *c);

/* Runs the command e of c now (its arguments in c->argv): the part of
 * dispatch after every check, including the cold-key bookkeeping around the
 * command. Does not finish it (commandstats): the caller does, unless the
 * command suspended c. */
void client_run(struct client *c, const struct cmd_entry *e);

#endif
