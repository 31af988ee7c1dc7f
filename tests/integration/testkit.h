/*
 * testkit.h -- helpers for integration tests: start the real strata-server
 * (path in $STRATA_SERVER) on a free loopback port in a private temp dir,
 * talk to it with hiredis or a raw socket, read INFO fields, stop it and check
 * that it exited cleanly.
 */
#ifndef STRATA_TESTKIT_H
#define STRATA_TESTKIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/types.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>

struct tk_server {
    pid_t pid;
    int port;
    char dir[256];     /* private temp dir, removed by tk_server_stop */
    char log[300];     /* server's stderr/stdout */
};

/* Starts $STRATA_SERVER --port <free> --bind 127.0.0.1 [extra args...]
 * (extra: NULL-terminated list such as {"--threads", "2", NULL}; may be NULL)
 * and waits (up to 10 s) until it answers PING. Returns 0, -1 on failure
 * (the log is printed). */
int tk_server_start(struct tk_server *s, const char *const *extra);

/* SIGTERM, waits up to 10 s, returns the exit status (0 expected), kills -9
 * and returns -1 on timeout. Removes the temp dir. */
int tk_server_stop(struct tk_server *s);

/* True while the process is alive. */
int tk_server_alive(const struct tk_server *s);

/* RSS of the server process in KiB (from /proc). */
long tk_server_rss_kb(const struct tk_server *s);

/* hiredis connection with a 10 s timeout; asserts success. */
redisContext *tk_connect(const struct tk_server *s);

/* redisCommand wrapper that asserts a non-NULL reply. Free with freeReplyObject. */
redisReply *tk_cmd(redisContext *c, const char *fmt, ...);
/* redisCommandArgv wrapper with explicit lengths. */
redisReply *tk_cmdv(redisContext *c, int argc, const char **argv, const size_t *lens);

/* Assertions on replies; each frees the reply. */
void tk_expect_status(redisReply *r, const char *status);   /* +status */
void tk_expect_int(redisReply *r, long long v);
void tk_expect_str(redisReply *r, const char *s);            /* bulk string */
void tk_expect_nil(redisReply *r);
void tk_expect_error(redisReply *r, const char *prefix);     /* error starting with prefix */

/* The value of `field` in INFO (any section) as a malloc'd string, or NULL. */
char *tk_info_field(redisContext *c, const char *field);
long long tk_info_ll(redisContext *c, const char *field);

/* Raw socket to the server (blocking, 10 s timeouts). */
int tk_raw_connect(const struct tk_server *s);
/* Writes all of buf; returns 0 or -1 (peer closed). */
int tk_raw_send(int fd, const void *buf, size_t len);
/* Reads exactly one complete RESP2/RESP3 reply (any type, nested) into buf
 * (NUL-terminated), waiting up to timeout_ms. Returns its length, 0 on EOF,
 * -1 on timeout or overflow. */
long tk_raw_reply(int fd, char *buf, size_t cap, int timeout_ms);
/* Sends cmd (raw bytes) and compares the next reply with expect byte for byte. */
void tk_raw_expect(int fd, const char *cmd, const char *expect);
/* True when the peer has closed the connection (reads EOF within timeout_ms). */
int tk_raw_closed(int fd, int timeout_ms);

/* Runs `sh -c cmd` and returns its stdout (malloc'd, NUL-terminated) and exit
 * status in *status. */
char *tk_run(const char *cmd, int *status);

#endif
