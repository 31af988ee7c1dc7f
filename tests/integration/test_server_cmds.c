/*
 * test_server_cmds.c -- integration tests of the server commands
 * (server/cmd_server.c, server/info.c, server/cmd_docs.c): INFO sections and
 * counters, CONFIG GET/SET/RESETSTAT, COMMAND and its subcommands, TIME,
 * DEBUG SLEEP and SHUTDOWN, against a real strata-server.
 *
 * One shared server (`--threads 2`, so INFO sums two workers) for most tests;
 * DEBUG SLEEP and SHUTDOWN start their own. hiredis (0.14, RESP2) drives the
 * RESP2 tests; raw sockets check RESP3 shapes. Timing is only ever used for
 * ordering (which reply came first), never asserted as a duration.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "testkit.h"

/* ---- helpers ------------------------------------------------------------- */

static struct tk_server srv;

/* The whole text of `INFO <args>` (malloc'd). */
static char *info_text(redisContext *c, const char *args)
{
    /* the arguments are split on blanks (hiredis's format string), not
     * passed as one argument */
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "INFO %s", args ? args : "");
    assert_null(strchr(cmd, '%'));
    redisReply *r = tk_cmd(c, cmd);
    if (r->type != REDIS_REPLY_STRING)
        fail_msg("INFO %s: reply type %d", args ? args : "", r->type);
    char *s = strdup(r->str);
    freeReplyObject(r);
    return s;
}

/* The value of field in an INFO text, copied into out ("" when absent).
 * Returns 1 when found. */
static int info_get(const char *text, const char *field, char *out, size_t cap)
{
    size_t fl = strlen(field);
    const char *p = text;

    out[0] = '\0';
    while (p && *p) {
        if (strncmp(p, field, fl) == 0 && p[fl] == ':') {
            const char *v = p + fl + 1, *e = strstr(v, "\r\n");
            size_t n = e ? (size_t)(e - v) : strlen(v);
            if (n >= cap)
                n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
        p = strstr(p, "\r\n");
        if (p)
            p += 2;
    }
    return 0;
}

static long long info_num(const char *text, const char *field)
{
    char v[256];
    if (!info_get(text, field, v, sizeof(v)))
        fail_msg("INFO has no field \"%s\"", field);
    return strtoll(v, NULL, 10);
}

/* A field of one INFO section, fetched now. */
static long long info_now(redisContext *c, const char *section, const char *field)
{
    char *t = info_text(c, section);
    long long v = info_num(t, field);
    free(t);
    return v;
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Element named key of a RESP2 flat map (array of key, value, ...). */
static redisReply *map_get(redisReply *m, const char *key)
{
    assert_int_equal(m->type, REDIS_REPLY_ARRAY);
    assert_int_equal(m->elements % 2, 0);
    for (size_t i = 0; i + 1 < m->elements; i += 2)
        if (m->element[i]->type == REDIS_REPLY_STRING && strcmp(m->element[i]->str, key) == 0)
            return m->element[i + 1];
    return NULL;
}

static int array_has_str(redisReply *a, const char *s)
{
    assert_int_equal(a->type, REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < a->elements; i++)
        if ((a->element[i]->type == REDIS_REPLY_STRING || a->element[i]->type == REDIS_REPLY_STATUS) &&
            strcmp(a->element[i]->str, s) == 0)
            return 1;
    return 0;
}

/* Sends a RESP command built from a NULL-terminated argv on a raw socket and
 * reads one reply into buf. */
static long raw_cmd(int fd, const char *const *argv, char *buf, size_t cap)
{
    char req[4096];
    size_t n = 0;
    int argc = 0;

    while (argv[argc])
        argc++;
    n += (size_t)snprintf(req + n, sizeof(req) - n, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    assert_true(n < sizeof(req));
    assert_int_equal(tk_raw_send(fd, req, n), 0);
    long got = tk_raw_reply(fd, buf, cap, 5000);
    if (got <= 0)
        fail_msg("no reply to %s (%ld)", argv[0], got);
    return got;
}

static int readable_now(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) > 0;
}

/* ---- fixtures ------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    static const char *const extra[] = {"--threads", "2", NULL};
    return tk_server_start(&srv, extra);
}

static int group_teardown(void **state)
{
    (void)state;
    return tk_server_stop(&srv) == 0 ? 0 : -1;
}

/* ---- INFO ----------------------------------------------------------------- */

static void test_info_default_has_redis_sections_in_order(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    char *t = info_text(c, NULL);
    static const char *const order[] = {"# Server\r\n", "# Clients\r\n", "# Memory\r\n", "# Persistence\r\n",
                                        "# Stats\r\n", "# Replication\r\n", "# CPU\r\n", "# Errorstats\r\n",
                                        "# Cluster\r\n", "# Keyspace\r\n"};
    const char *prev = t;

    assert_true(strncmp(t, "# Server\r\n", 10) == 0);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const char *p = strstr(t, order[i]);
        if (!p)
            fail_msg("INFO lacks section %s", order[i]);
        assert_true(p >= prev);
        if (i > 0) /* one blank line between sections */
            assert_true(p - t >= 4 && strncmp(p - 4, "\r\n\r\n", 4) == 0);
        prev = p;
    }
    assert_null(strstr(t, "# Commandstats")); /* not in "default", as Redis 7 */
    size_t len = strlen(t);
    assert_true(len > 4 && strcmp(t + len - 2, "\r\n") == 0 && strcmp(t + len - 4, "\r\n\r\n") != 0);

    char v[256];
    assert_true(info_get(t, "redis_version", v, sizeof(v)));
    assert_string_equal(v, "7.0.15");
    assert_true(info_get(t, "strata_version", v, sizeof(v)) && v[0]);
    assert_true(info_get(t, "redis_mode", v, sizeof(v)));
    assert_string_equal(v, "standalone");
    assert_true(info_get(t, "multiplexing_api", v, sizeof(v)));
    assert_string_equal(v, "epoll");
    assert_true(info_get(t, "run_id", v, sizeof(v)));
    assert_int_equal(strlen(v), 40);
    assert_int_equal(info_num(t, "tcp_port"), srv.port);
    assert_int_equal(info_num(t, "process_id"), srv.pid);
    assert_int_equal(info_num(t, "worker_threads"), 2);
    assert_int_equal(info_num(t, "arch_bits"), (long long)sizeof(void *) * 8);
    assert_true(info_num(t, "uptime_in_seconds") >= 0);
    assert_true(info_num(t, "hz") > 0);
    long long tus = info_num(t, "server_time_usec");
    assert_true(llabs(tus / 1000000 - (long long)time(NULL)) < 60);
    assert_true(info_get(t, "executable", v, sizeof(v)) && strstr(v, "strata-server"));
    assert_true(info_get(t, "maxmemory_policy", v, sizeof(v)));
    /* what CONFIG says (the mixed-tier suite run sets a policy) */
    redisReply *pol = tk_cmd(c, "CONFIG GET maxmemory-policy");
    assert_string_equal(v, pol->element[1]->str);
    freeReplyObject(pol);
    assert_true(info_get(t, "role", v, sizeof(v)));
    assert_string_equal(v, "master");
    assert_int_equal(info_num(t, "cluster_enabled"), 0);
    assert_int_equal(info_num(t, "loading"), 0);
    free(t);
    redisFree(c);
}

static void test_info_section_selection(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    char *t;

    /* explicit sections come out in Redis's fixed order, once each */
    t = info_text(c, "keyspace SERVER clients server");
    assert_true(strncmp(t, "# Server\r\n", 10) == 0);
    assert_non_null(strstr(t, "\r\n\r\n# Clients\r\n"));
    assert_non_null(strstr(t, "# Keyspace\r\n"));
    assert_null(strstr(t, "# Memory"));
    assert_null(strstr(strstr(t, "# Server") + 1, "# Server"));
    free(t);

    t = info_text(c, "all");
    assert_non_null(strstr(t, "# Commandstats\r\n"));
    assert_non_null(strstr(t, "# Keyspace\r\n"));
    free(t);
    t = info_text(c, "everything");
    assert_non_null(strstr(t, "# Commandstats\r\n"));
    free(t);
    t = info_text(c, "commandstats");
    assert_true(strncmp(t, "# Commandstats\r\n", 16) == 0);
    assert_non_null(strstr(t, "cmdstat_info:calls="));
    free(t);
    /* an unknown section adds nothing (Redis replies an empty string) */
    t = info_text(c, "nosuchsection");
    assert_string_equal(t, "");
    free(t);
    redisFree(c);
}

static void test_info_keyspace_counts_keys_and_expires(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    tk_expect_status(tk_cmd(c, "SELECT 7"), "OK");
    tk_expect_status(tk_cmd(c, "FLUSHDB"), "OK");
    char *t = info_text(c, "keyspace");
    assert_null(strstr(t, "db7:"));
    free(t);

    tk_expect_status(tk_cmd(c, "SET ks:a 1"), "OK");
    tk_expect_status(tk_cmd(c, "SET ks:b 2 EX 1000"), "OK");
    tk_expect_status(tk_cmd(c, "SET ks:c 3"), "OK");
    t = info_text(c, "keyspace");
    assert_non_null(strstr(t, "\r\ndb7:keys=3,expires=1,avg_ttl=0\r\n"));
    free(t);
    tk_expect_status(tk_cmd(c, "FLUSHDB"), "OK");
    redisFree(c);
}

static void test_info_commandstats_count_calls_rejections_failures(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    char v[512];

    tk_expect_status(tk_cmd(c, "CONFIG RESETSTAT"), "OK");
    tk_expect_status(tk_cmd(c, "SET cs:n notanumber"), "OK");
    for (int i = 0; i < 3; i++)
        tk_expect_str(tk_cmd(c, "GET cs:n"), "notanumber");
    tk_expect_error(tk_cmd(c, "GET"), "ERR wrong number of arguments");  /* rejected */
    tk_expect_error(tk_cmd(c, "INCR cs:n"), "ERR value is not an integer"); /* failed */
    redisReply *r = tk_cmd(c, "CONFIG GET maxclients");
    freeReplyObject(r);

    char *t = info_text(c, "commandstats");
    assert_true(info_get(t, "cmdstat_get", v, sizeof(v)));
    assert_true(strncmp(v, "calls=3,usec=", 13) == 0);
    assert_non_null(strstr(v, ",usec_per_call="));
    assert_non_null(strstr(v, ",rejected_calls=1,failed_calls=0"));
    assert_true(info_get(t, "cmdstat_incr", v, sizeof(v)));
    assert_true(strncmp(v, "calls=1,", 8) == 0);
    assert_non_null(strstr(v, ",rejected_calls=0,failed_calls=1"));
    assert_true(info_get(t, "cmdstat_config|get", v, sizeof(v)));
    assert_true(strncmp(v, "calls=1,", 8) == 0);
    assert_null(strstr(t, "cmdstat_ttl:")); /* never called since the reset */
    free(t);
    tk_expect_int(tk_cmd(c, "DEL cs:n"), 1);
    redisFree(c);
}

static void test_info_errorstats_count_error_codes(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);

    tk_expect_status(tk_cmd(c, "CONFIG RESETSTAT"), "OK");
    char *t = info_text(c, "errorstats");
    assert_string_equal(t, "# Errorstats\r\n");
    free(t);

    tk_expect_status(tk_cmd(c, "SET es:n abc"), "OK");
    tk_expect_error(tk_cmd(c, "INCR es:n"), "ERR");
    tk_expect_error(tk_cmd(c, "INCR es:n"), "ERR");
    tk_expect_error(tk_cmd(c, "NOSUCHCOMMAND"), "ERR unknown command");
    t = info_text(c, "errorstats");
    assert_non_null(strstr(t, "\r\nerrorstat_ERR:count=3\r\n"));
    free(t);
    assert_int_equal(info_now(c, "stats", "total_error_replies"), 3);
    tk_expect_int(tk_cmd(c, "DEL es:n"), 1);
    redisFree(c);
}

static void test_info_connected_clients_follows_connections(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    /* earlier tests' connections may still be closing: wait until only this
     * one is left */
    long long base = -1;
    for (int tries = 0; tries < 500 && base != 1; tries++) {
        base = info_now(c, "clients", "connected_clients");
        if (base != 1)
            usleep(10000);
    }
    assert_int_equal(base, 1);

    redisContext *extra[4];
    for (int i = 0; i < 4; i++) {
        extra[i] = tk_connect(&srv);
        tk_expect_status(tk_cmd(extra[i], "PING"), "PONG"); /* registered on its worker */
    }
    assert_int_equal(info_now(c, "clients", "connected_clients"), base + 4);
    for (int i = 0; i < 4; i++)
        redisFree(extra[i]);
    long long n = -1;
    for (int tries = 0; tries < 500; tries++) { /* closes are noticed asynchronously */
        n = info_now(c, "clients", "connected_clients");
        if (n == base)
            break;
        usleep(10000);
    }
    assert_int_equal(n, base);
    char *t = info_text(c, "clients");
    assert_true(info_num(t, "maxclients") > 0);
    assert_int_equal(info_num(t, "blocked_clients"), 0);
    assert_true(info_num(t, "client_recent_max_input_buffer") >= 0);
    free(t);
    redisFree(c);
}

static void test_info_memory_fields_are_sane(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    char *t = info_text(c, "memory");
    char v[256];

    long long used = info_num(t, "used_memory");
    assert_true(used > 0);
    assert_true(info_num(t, "used_memory_rss") > 0);
    assert_true(info_num(t, "used_memory_peak") >= used);
    assert_true(info_num(t, "used_memory_overhead") >= 0);
    assert_true(info_num(t, "used_memory_dataset") >= 0);
    assert_true(info_num(t, "allocator_allocated") > 0);
    assert_true(info_num(t, "total_system_memory") > 0);
    redisReply *mm = tk_cmd(c, "CONFIG GET maxmemory");
    assert_int_equal(info_num(t, "maxmemory"), atoll(mm->element[1]->str));
    freeReplyObject(mm);
    assert_true(info_get(t, "used_memory_human", v, sizeof(v)));
    assert_non_null(strchr("BKMGTP", v[strlen(v) - 1]));
    assert_true(info_get(t, "mem_allocator", v, sizeof(v)));
    assert_true(strncmp(v, "jemalloc-", 9) == 0 || strcmp(v, "libc") == 0);
    assert_true(info_get(t, "mem_fragmentation_ratio", v, sizeof(v)) && atof(v) > 0);
    free(t);
    redisFree(c);
}

static void test_info_instantaneous_ops_reflect_load(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    long long end = now_us() + 1500000;

    /* keep the server busy for a while, in pipelined batches */
    while (now_us() < end) {
        for (int i = 0; i < 200; i++)
            redisAppendCommand(c, "PING");
        for (int i = 0; i < 200; i++) {
            redisReply *r;
            assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
            freeReplyObject(r);
        }
    }
    char *t = info_text(c, "stats");
    assert_true(info_num(t, "instantaneous_ops_per_sec") > 0);
    char v[64];
    assert_true(info_get(t, "instantaneous_input_kbps", v, sizeof(v)) && atof(v) > 0);
    assert_true(info_get(t, "instantaneous_output_kbps", v, sizeof(v)) && atof(v) > 0);
    assert_true(info_num(t, "total_commands_processed") > 200);
    assert_true(info_num(t, "total_net_input_bytes") > 0);
    assert_true(info_num(t, "total_net_output_bytes") > 0);
    free(t);
    redisFree(c);
}

/* ---- CONFIG --------------------------------------------------------------- */

static void test_config_get_set_round_trip(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    redisReply *r;

    r = tk_cmd(c, "CONFIG GET maxclients");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[0]->str, "maxclients");
    char old[64];
    snprintf(old, sizeof(old), "%s", r->element[1]->str);
    freeReplyObject(r);

    tk_expect_status(tk_cmd(c, "CONFIG SET maxclients 1234"), "OK");
    r = tk_cmd(c, "CONFIG GET MaxClients");
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[1]->str, "1234");
    freeReplyObject(r);
    assert_int_equal(info_now(c, "clients", "maxclients"), 1234);

    /* several parameters at once */
    tk_expect_status(tk_cmd(c, "CONFIG SET maxclients %s hz 15", old), "OK");
    r = tk_cmd(c, "CONFIG GET hz");
    assert_string_equal(r->element[1]->str, "15");
    freeReplyObject(r);
    assert_int_equal(info_now(c, "server", "hz"), 15);
    tk_expect_status(tk_cmd(c, "CONFIG SET hz 10"), "OK");

    /* several patterns, a parameter matched twice is listed once */
    r = tk_cmd(c, "CONFIG GET maxclients max* hz");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    int seen = 0;
    for (size_t i = 0; i < r->elements; i += 2)
        seen += strcmp(r->element[i]->str, "maxclients") == 0;
    assert_int_equal(seen, 1);
    assert_non_null(map_get(r, "hz"));
    freeReplyObject(r);

    r = tk_cmd(c, "CONFIG GET nosuch*");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 0);
    freeReplyObject(r);
    redisFree(c);
}

static void test_config_set_errors_and_atomicity(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    redisReply *r;

    tk_expect_error(tk_cmd(c, "CONFIG SET nosuch 1"),
                    "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
    tk_expect_error(tk_cmd(c, "CONFIG SET maxclients abc"),
                    "ERR CONFIG SET failed (possibly related to argument 'maxclients') - ");
    tk_expect_error(tk_cmd(c, "CONFIG SET hz 11 HZ 12"),
                    "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter");
    tk_expect_error(tk_cmd(c, "CONFIG SET hz 11 maxclients"), "ERR wrong number of arguments for 'config|set'");
    tk_expect_error(tk_cmd(c, "CONFIG SET port 1"), "ERR CONFIG SET failed (possibly related to argument 'port')");
    tk_expect_error(tk_cmd(c, "CONFIG GET"), "ERR wrong number of arguments for 'config|get'");
    tk_expect_error(tk_cmd(c, "CONFIG NOSUCH"), "ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.");

    /* all or nothing: hz is applied first, then maxclients fails, and hz is put back */
    tk_expect_error(tk_cmd(c, "CONFIG SET hz 17 maxclients abc"),
                    "ERR CONFIG SET failed (possibly related to argument 'maxclients')");
    r = tk_cmd(c, "CONFIG GET hz");
    assert_string_equal(r->element[1]->str, "10");
    freeReplyObject(r);
    /* an unknown name anywhere changes nothing */
    tk_expect_error(tk_cmd(c, "CONFIG SET hz 18 nosuch 1"), "ERR Unknown option");
    r = tk_cmd(c, "CONFIG GET hz");
    assert_string_equal(r->element[1]->str, "10");
    freeReplyObject(r);

    /* loglevel takes effect through CONFIG SET */
    tk_expect_status(tk_cmd(c, "CONFIG SET loglevel warning"), "OK");
    r = tk_cmd(c, "CONFIG GET loglevel");
    assert_string_equal(r->element[1]->str, "warning");
    freeReplyObject(r);
    tk_expect_status(tk_cmd(c, "CONFIG SET loglevel notice"), "OK");

    r = tk_cmd(c, "CONFIG HELP");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_true(r->elements > 4);
    assert_int_equal(r->element[0]->type, REDIS_REPLY_STATUS);
    assert_true(array_has_str(r, "RESETSTAT"));
    freeReplyObject(r);
    redisFree(c);
}

static void test_config_resetstat_zeroes_counters(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);

    tk_expect_status(tk_cmd(c, "SET rs:k v"), "OK");
    tk_expect_str(tk_cmd(c, "GET rs:k"), "v");
    tk_expect_nil(tk_cmd(c, "GET rs:missing"));
    tk_expect_error(tk_cmd(c, "NOSUCHCOMMAND"), "ERR");
    char *t = info_text(c, "stats");
    assert_true(info_num(t, "total_commands_processed") > 3);
    assert_true(info_num(t, "keyspace_hits") >= 1);
    free(t);

    tk_expect_status(tk_cmd(c, "CONFIG RESETSTAT"), "OK");
    t = info_text(c, "all");
    assert_true(info_num(t, "total_commands_processed") <= 2); /* RESETSTAT itself, at most */
    assert_int_equal(info_num(t, "keyspace_hits"), 0);
    assert_int_equal(info_num(t, "keyspace_misses"), 0);
    assert_int_equal(info_num(t, "total_error_replies"), 0);
    assert_int_equal(info_num(t, "expired_keys"), 0);
    assert_true(info_num(t, "total_connections_received") <= 1);
    assert_null(strstr(t, "cmdstat_get:"));
    assert_null(strstr(t, "errorstat_"));
    assert_true(info_num(t, "used_memory_peak") >= info_num(t, "used_memory"));
    free(t);
    tk_expect_int(tk_cmd(c, "DEL rs:k"), 1);
    redisFree(c);
}

/* ---- COMMAND -------------------------------------------------------------- */

static void test_command_count_matches_command_and_list(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    redisReply *r = tk_cmd(c, "COMMAND COUNT");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long count = r->integer;
    freeReplyObject(r);
    assert_true(count > 20);

    r = tk_cmd(c, "COMMAND");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal((long long)r->elements, count);
    for (size_t i = 0; i < r->elements; i++) {
        assert_int_equal(r->element[i]->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->element[i]->elements, 10);
    }
    freeReplyObject(r);

    r = tk_cmd(c, "COMMAND LIST");
    long long top = 0;
    int has_sub = 0;
    for (size_t i = 0; i < r->elements; i++) {
        if (strchr(r->element[i]->str, '|'))
            has_sub = 1;
        else
            top++;
    }
    assert_int_equal(top, count);
    assert_true(has_sub); /* subcommands are listed too, as Redis 7 */
    assert_true(array_has_str(r, "config|get"));
    freeReplyObject(r);

    r = tk_cmd(c, "COMMAND LIST FILTERBY PATTERN config*");
    assert_true(array_has_str(r, "config"));
    assert_true(array_has_str(r, "config|set"));
    assert_false(array_has_str(r, "get"));
    freeReplyObject(r);
    r = tk_cmd(c, "COMMAND LIST FILTERBY ACLCAT string");
    assert_true(array_has_str(r, "get"));
    assert_false(array_has_str(r, "del"));
    freeReplyObject(r);
    r = tk_cmd(c, "COMMAND LIST FILTERBY MODULE nosuch");
    assert_int_equal(r->elements, 0);
    freeReplyObject(r);
    tk_expect_error(tk_cmd(c, "COMMAND LIST FILTERBY"), "ERR syntax error");
    redisFree(c);
}

static void test_command_info_get_has_redis_shape(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    redisReply *r = tk_cmd(c, "COMMAND INFO get nosuch config|get");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 3);

    redisReply *g = r->element[0];
    assert_int_equal(g->type, REDIS_REPLY_ARRAY);
    assert_int_equal(g->elements, 10);
    assert_string_equal(g->element[0]->str, "get");
    assert_int_equal(g->element[1]->integer, 2);
    assert_int_equal(g->element[2]->type, REDIS_REPLY_ARRAY);
    assert_int_equal(g->element[2]->elements, 2);
    assert_int_equal(g->element[2]->element[0]->type, REDIS_REPLY_STATUS);
    assert_string_equal(g->element[2]->element[0]->str, "readonly");
    assert_string_equal(g->element[2]->element[1]->str, "fast");
    assert_int_equal(g->element[3]->integer, 1);
    assert_int_equal(g->element[4]->integer, 1);
    assert_int_equal(g->element[5]->integer, 1);
    assert_true(array_has_str(g->element[6], "@read"));
    assert_true(array_has_str(g->element[6], "@string"));
    assert_true(array_has_str(g->element[6], "@fast"));
    assert_int_equal(g->element[8]->elements, 1); /* one key spec */
    redisReply *spec = g->element[8]->element[0];
    assert_non_null(map_get(spec, "begin_search"));
    assert_int_equal(map_get(map_get(map_get(spec, "begin_search"), "spec"), "index")->integer, 1);
    assert_int_equal(g->element[9]->elements, 0);

    assert_int_equal(r->element[1]->type, REDIS_REPLY_NIL);
    assert_string_equal(r->element[2]->element[0]->str, "config|get");
    assert_int_equal(r->element[2]->element[1]->integer, -3);
    assert_true(array_has_str(r->element[2]->element[2], "admin"));
    freeReplyObject(r);

    /* a container lists its subcommands */
    r = tk_cmd(c, "COMMAND INFO config");
    redisReply *subs = r->element[0]->element[9];
    assert_true(subs->elements >= 4);
    int found = 0;
    for (size_t i = 0; i < subs->elements; i++)
        found += strcmp(subs->element[i]->element[0]->str, "config|set") == 0;
    assert_int_equal(found, 1);
    freeReplyObject(r);
    redisFree(c);
}

static void test_command_docs_set_has_argument_tree(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    redisReply *r = tk_cmd(c, "COMMAND DOCS set nosuch");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2); /* unknown names are left out */
    assert_string_equal(r->element[0]->str, "set");
    redisReply *d = r->element[1];
    assert_string_equal(map_get(d, "group")->str, "string");
    assert_non_null(map_get(d, "summary"));
    assert_non_null(map_get(d, "since"));
    assert_non_null(map_get(d, "complexity"));

    redisReply *args = map_get(d, "arguments");
    assert_non_null(args);
    assert_int_equal(args->type, REDIS_REPLY_ARRAY);
    assert_true(args->elements >= 4);
    assert_string_equal(map_get(args->element[0], "name")->str, "key");
    assert_string_equal(map_get(args->element[0], "type")->str, "key");
    assert_int_equal(map_get(args->element[0], "key_spec_index")->integer, 0);
    assert_string_equal(map_get(args->element[1], "type")->str, "string");

    /* [NX | XX]: an optional oneof of two pure tokens */
    int oneofs = 0;
    for (size_t i = 0; i < args->elements; i++) {
        redisReply *a = args->element[i];
        if (strcmp(map_get(a, "type")->str, "oneof") != 0)
            continue;
        oneofs++;
        assert_true(array_has_str(map_get(a, "flags"), "optional"));
        redisReply *alts = map_get(a, "arguments");
        assert_non_null(alts);
        if (oneofs == 1) {
            assert_int_equal(alts->elements, 2);
            assert_string_equal(map_get(alts->element[0], "type")->str, "pure-token");
            assert_string_equal(map_get(alts->element[0], "token")->str, "NX");
            assert_string_equal(map_get(alts->element[1], "token")->str, "XX");
        } else {
            /* EX seconds: an integer carrying its token */
            assert_string_equal(map_get(alts->element[0], "token")->str, "EX");
            assert_string_equal(map_get(alts->element[0], "type")->str, "integer");
        }
    }
    assert_int_equal(oneofs, 2);
    freeReplyObject(r);

    /* containers document their subcommands */
    r = tk_cmd(c, "COMMAND DOCS config");
    redisReply *subs = map_get(r->element[1], "subcommands");
    assert_non_null(subs);
    assert_non_null(map_get(subs, "config|set"));
    freeReplyObject(r);

    /* every command has docs (raw socket: hiredis 0.14 cannot nest deeper than 7) */
    redisReply *n = tk_cmd(c, "COMMAND COUNT");
    char head[32];
    snprintf(head, sizeof(head), "*%lld\r\n", 2 * n->integer);
    freeReplyObject(n);
    int fd = tk_raw_connect(&srv);
    size_t cap = 4 << 20;
    char *buf = malloc(cap);
    assert_non_null(buf);
    assert_int_equal(tk_raw_send(fd, "COMMAND DOCS\r\n", 14), 0);
    assert_true(tk_raw_reply(fd, buf, cap, 10000) > 0);
    assert_true(strncmp(buf, head, strlen(head)) == 0);
    free(buf);
    close(fd);
    redisFree(c);
}

static void test_command_getkeys(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    redisReply *r = tk_cmd(c, "COMMAND GETKEYS mset a 1 b 2");
    assert_int_equal(r->elements, 2);
    assert_string_equal(r->element[0]->str, "a");
    assert_string_equal(r->element[1]->str, "b");
    freeReplyObject(r);
    r = tk_cmd(c, "COMMAND GETKEYS get k");
    assert_int_equal(r->elements, 1);
    assert_string_equal(r->element[0]->str, "k");
    freeReplyObject(r);
    r = tk_cmd(c, "COMMAND GETKEYSANDFLAGS set k v");
    assert_int_equal(r->elements, 1);
    assert_string_equal(r->element[0]->element[0]->str, "k");
    assert_true(array_has_str(r->element[0]->element[1], "RW"));
    freeReplyObject(r);
    tk_expect_error(tk_cmd(c, "COMMAND GETKEYS nosuch a"), "ERR Invalid command specified");
    tk_expect_error(tk_cmd(c, "COMMAND GETKEYS ping x"), "ERR The command has no key arguments");
    tk_expect_error(tk_cmd(c, "COMMAND GETKEYS get a b"), "ERR Invalid number of arguments specified for command");
    tk_expect_error(tk_cmd(c, "COMMAND GETKEYS get"), "ERR wrong number of arguments for 'command|getkeys'");
    r = tk_cmd(c, "COMMAND HELP");
    assert_true(r->elements > 10);
    assert_true(array_has_str(r, "GETKEYS <full-command>"));
    freeReplyObject(r);
    redisFree(c);
}

/* ---- RESP3 shapes --------------------------------------------------------- */

static void test_resp3_shapes(void **state)
{
    (void)state;
    int fd = tk_raw_connect(&srv);
    char buf[1 << 16];
    static const char *const hello[] = {"HELLO", "3", NULL};
    static const char *const info[] = {"INFO", "server", NULL};
    static const char *const cfg[] = {"CONFIG", "GET", "maxclients", NULL};
    static const char *const cinfo[] = {"COMMAND", "INFO", "get", NULL};
    static const char *const docs[] = {"COMMAND", "DOCS", "get", NULL};
    static const char *const tm[] = {"TIME", NULL};

    raw_cmd(fd, hello, buf, sizeof(buf));
    assert_int_equal(buf[0], '%');
    raw_cmd(fd, info, buf, sizeof(buf));
    assert_int_equal(buf[0], '=');
    assert_non_null(strstr(buf, "\r\ntxt:# Server\r\nredis_version:7.0.15\r\n"));
    raw_cmd(fd, cfg, buf, sizeof(buf));
    assert_true(strncmp(buf, "%1\r\n$10\r\nmaxclients\r\n$", 22) == 0);
    raw_cmd(fd, cinfo, buf, sizeof(buf));
    assert_true(strncmp(buf, "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n"
                             "+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n",
                        strlen("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n"
                               "+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n")) == 0);
    raw_cmd(fd, docs, buf, sizeof(buf));
    /* byte for byte what Redis 7.0.15 replies */
    assert_string_equal(buf, "%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n"
                             "$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n"
                             "$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n"
                             "$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n");
    raw_cmd(fd, tm, buf, sizeof(buf));
    assert_true(strncmp(buf, "*2\r\n$", 5) == 0);
    close(fd);
}

/* ---- TIME ----------------------------------------------------------------- */

static void test_time_returns_seconds_and_microseconds(void **state)
{
    (void)state;
    redisContext *c = tk_connect(&srv);
    redisReply *r = tk_cmd(c, "TIME");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_int_equal(r->element[0]->type, REDIS_REPLY_STRING);
    assert_int_equal(r->element[1]->type, REDIS_REPLY_STRING);
    long long sec = atoll(r->element[0]->str), usec = atoll(r->element[1]->str);
    assert_true(llabs(sec - (long long)time(NULL)) < 60);
    assert_true(usec >= 0 && usec < 1000000);
    freeReplyObject(r);
    tk_expect_error(tk_cmd(c, "TIME now"), "ERR wrong number of arguments for 'time' command");
    redisFree(c);
}

/* ---- DEBUG SLEEP ------------------------------------------------------------ */

static void test_debug_sleep_holds_only_its_connection(void **state)
{
    (void)state;
    struct tk_server one;
    static const char *const extra[] = {"--threads", "1", NULL}; /* both clients on one worker */
    char buf[256];

    assert_int_equal(tk_server_start(&one, extra), 0);
    int a = tk_raw_connect(&one);
    redisContext *b = tk_connect(&one);
    tk_expect_status(tk_cmd(b, "PING"), "PONG");

    static const char pipeline[] = "*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$3\r\n2.0\r\n*1\r\n$4\r\nPING\r\n";
    assert_int_equal(tk_raw_send(a, pipeline, sizeof(pipeline) - 1), 0);
    usleep(50000); /* let the worker start the sleep */

    /* another client on the same worker is served during the sleep ... */
    tk_expect_status(tk_cmd(b, "PING"), "PONG");
    long long t_other = now_us();
    /* ... while the sleeping connection's pipelined PING is held back */
    assert_false(readable_now(a));

    assert_true(tk_raw_reply(a, buf, sizeof(buf), 10000) > 0);
    long long t_sleep_done = now_us();
    assert_string_equal(buf, "+OK\r\n");
    assert_true(tk_raw_reply(a, buf, sizeof(buf), 10000) > 0);
    assert_string_equal(buf, "+PONG\r\n");
    assert_true(t_other < t_sleep_done);

    /* argument checks, and a zero sleep answers at once */
    tk_expect_status(tk_cmd(b, "DEBUG SLEEP 0"), "OK");
    tk_expect_error(tk_cmd(b, "DEBUG SLEEP abc"), "ERR value is not a valid float");
    tk_expect_error(tk_cmd(b, "DEBUG SLEEP -1"), "ERR value is not a valid float");
    tk_expect_error(tk_cmd(b, "DEBUG NOSUCH"), "ERR unknown subcommand or wrong number of arguments for 'NOSUCH'");
    redisReply *r = tk_cmd(b, "DEBUG HELP");
    assert_true(array_has_str(r, "SLEEP <seconds>"));
    freeReplyObject(r);

    /* a client that goes away while sleeping is cancelled cleanly */
    static const char longsleep[] = "*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$2\r\n30\r\n";
    assert_int_equal(tk_raw_send(a, longsleep, sizeof(longsleep) - 1), 0);
    usleep(50000);
    close(a);
    usleep(50000);
    tk_expect_status(tk_cmd(b, "PING"), "PONG");
    long long n = -1;
    for (int tries = 0; tries < 500 && n != 1; tries++) {
        n = tk_info_ll(b, "connected_clients");
        if (n != 1)
            usleep(10000);
    }
    assert_int_equal(n, 1);
    redisFree(b);
    assert_int_equal(tk_server_stop(&one), 0);
}

/* ---- SHUTDOWN ------------------------------------------------------------- */

static void test_shutdown_nosave_stops_the_server_cleanly(void **state)
{
    (void)state;
    struct tk_server s;
    char buf[256];

    assert_int_equal(tk_server_start(&s, NULL), 0);
    redisContext *c = tk_connect(&s);
    tk_expect_error(tk_cmd(c, "SHUTDOWN ABORT"), "ERR No shutdown in progress.");
    tk_expect_error(tk_cmd(c, "SHUTDOWN NOSAVE SAVE"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "SHUTDOWN BOGUS"), "ERR syntax error");
    assert_true(tk_server_alive(&s));
    redisFree(c);

    int fd = tk_raw_connect(&s);
    static const char *const shut[] = {"SHUTDOWN", "NOSAVE", NULL};
    char req[64];
    int n = snprintf(req, sizeof(req), "*2\r\n$8\r\n%s\r\n$6\r\n%s\r\n", shut[0], shut[1]);
    assert_int_equal(tk_raw_send(fd, req, (size_t)n), 0);
    /* no reply: the connection closes */
    long got = tk_raw_reply(fd, buf, sizeof(buf), 10000);
    assert_int_equal(got, 0);
    close(fd);
    int alive = 1;
    for (int tries = 0; tries < 1000 && alive; tries++) {
        alive = tk_server_alive(&s);
        if (alive)
            usleep(10000);
    }
    assert_false(alive);
    assert_int_equal(tk_server_stop(&s), 0); /* exit status 0 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_default_has_redis_sections_in_order),
        cmocka_unit_test(test_info_section_selection),
        cmocka_unit_test(test_info_keyspace_counts_keys_and_expires),
        cmocka_unit_test(test_info_commandstats_count_calls_rejections_failures),
        cmocka_unit_test(test_info_errorstats_count_error_codes),
        cmocka_unit_test(test_info_connected_clients_follows_connections),
        cmocka_unit_test(test_info_memory_fields_are_sane),
        cmocka_unit_test(test_info_instantaneous_ops_reflect_load),
        cmocka_unit_test(test_config_get_set_round_trip),
        cmocka_unit_test(test_config_set_errors_and_atomicity),
        cmocka_unit_test(test_config_resetstat_zeroes_counters),
        cmocka_unit_test(test_command_count_matches_command_and_list),
        cmocka_unit_test(test_command_info_get_has_redis_shape),
        cmocka_unit_test(test_command_docs_set_has_argument_tree),
        cmocka_unit_test(test_command_getkeys),
        cmocka_unit_test(test_resp3_shapes),
        cmocka_unit_test(test_time_returns_seconds_and_microseconds),
        cmocka_unit_test(test_debug_sleep_holds_only_its_connection),
        cmocka_unit_test(test_shutdown_nosave_stops_the_server_cleanly),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
