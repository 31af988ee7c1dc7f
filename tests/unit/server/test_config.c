/*
 * test_config.c -- unit tests for server/config.c: defaults, the redis.conf
 * parser (comments, quotes, include, line-numbered errors), ranges, memory
 * units, argv, CONFIG SET/GET semantics and docs/config.md staying in step
 * with the table.
 *
 * Config files are written into a fresh mkdtemp directory per test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/err.h"
#include "server/config.h"
#include "server/log.h"

/* ---- fixtures --------------------------------------------------------- */

struct fx {
    struct config cfg;
    char dir[64];
    char err[512];
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/strata-test-config.XXXXXX");
    if (mkdtemp(f->dir) == NULL || config_init(&f->cfg) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    config_deinit(&f->cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

/* Writes text to dir/name and stores the full path in out. */
static void write_file(struct fx *f, const char *name, const char *text, char *out, size_t outlen)
{
    FILE *fp;

    snprintf(out, outlen, "%s/%s", f->dir, name);
    fp = fopen(out, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static int load_text(struct fx *f, const char *text)
{
    char path[256];

    write_file(f, "strata.conf", text, path, sizeof(path));
    f->err[0] = '\0';
    return config_load_file(&f->cfg, path, f->err, sizeof(f->err));
}

/* Collects CONFIG GET replies. */
struct got {
    int n;
    char name[128][64];
    char value[128][512];
};

static void got_cb(const char *name, const char *value, void *ud)
{
    struct got *g = ud;

    assert_true(g->n < 128);
    snprintf(g->name[g->n], sizeof(g->name[0]), "%s", name);
    snprintf(g->value[g->n], sizeof(g->value[0]), "%s", value);
    g->n++;
}

static const char *get1(struct config *cfg, const char *name, struct got *g)
{
    memset(g, 0, sizeof(*g));
    config_get(cfg, name, got_cb, g);
    assert_int_equal(g->n, 1);
    return g->value[0];
}

static int set1(struct fx *f, const char *name, const char *value, int at_runtime)
{
    const char *args[1] = {value};

    f->err[0] = '\0';
    return config_set(&f->cfg, name, args, 1, at_runtime, f->err, sizeof(f->err));
}

/* ---- tests ------------------------------------------------------------ */

static void test_defaults_match_redis_and_strata(void **state)
{
    struct fx *f = *state;
    struct config *c = &f->cfg;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    assert_int_equal(c->nbind, 1);
    assert_string_equal(c->bind[0], "127.0.0.1");
    assert_null(c->bind[1]);
    assert_int_equal(c->port, 6379);
    assert_int_equal(c->tcp_backlog, 511);
    assert_int_equal(c->tcp_keepalive, 300);
    assert_int_equal(c->timeout, 0);
    assert_int_equal(c->maxclients, 10000);
    assert_int_equal(c->threads, ncpu < 1 ? 1 : ncpu > 256 ? 256 : ncpu);
    assert_int_equal(c->databases, 16);
    assert_int_equal(c->keyspace_shards, 256);
    assert_int_equal(c->hz, 10);
    assert_int_equal(c->active_expire_effort, 1);
    assert_int_equal(c->proto_max_bulk_len, 512LL * 1024 * 1024);
    assert_int_equal(c->client_query_buffer_limit, 1024LL * 1024 * 1024);
    assert_int_equal(c->obuf_hard, 1024LL * 1024 * 1024);
    assert_int_equal(c->obuf_soft, 256LL * 1024 * 1024);
    assert_int_equal(c->obuf_soft_seconds, 60);
    assert_int_equal(c->obuf_replica_hard, 256LL * 1024 * 1024);
    assert_int_equal(c->obuf_replica_soft, 64LL * 1024 * 1024);
    assert_int_equal(c->obuf_replica_soft_seconds, 60);
    assert_int_equal(c->obuf_pubsub_hard, 32LL * 1024 * 1024);
    assert_int_equal(c->obuf_pubsub_soft, 8LL * 1024 * 1024);
    assert_int_equal(c->obuf_pubsub_soft_seconds, 60);
    assert_string_equal(c->requirepass, "");
    assert_int_equal(c->loglevel, LOG_NOTICE);
    assert_string_equal(c->logfile, "");
    assert_null(c->on_set);
}

static void test_file_with_comments_quotes_and_case(void **state)
{
    struct fx *f = *state;
    struct config *c = &f->cfg;

    assert_int_equal(load_text(f, "# a comment\n"
                                  "\n"
                                  "   # indented comment\n"
                                  "PORT 7000\r\n"
                                  "  bind 10.0.0.1   ::1\n"
                                  "requirepass \"p@ss word\\n#x\"\n"
                                  "logfile '/var/log/strata it''s'\n"
                                  "\t\n"
                                  "LogLevel WARNING\n"
                                  "maxclients 5\n"
                                  "maxclients 6\n"),
                     ST_EINVAL);
    /* The closing quote must be followed by a blank (redis.conf rule). */
    assert_non_null(strstr(f->err, "line 7: "));

    assert_int_equal(load_text(f, "# a comment\n"
                                  "\n"
                                  "   # indented comment\n"
                                  "PORT 7000\r\n"
                                  "  bind 10.0.0.1   ::1\n"
                                  "requirepass \"p@ss word\\n#x\"\n"
                                  "logfile 'it\\'s here'\n"
                                  "\t\n"
                                  "LogLevel WARNING\n"
                                  "maxclients 5\n"
                                  "maxclients 6\n"),
                     0);
    assert_int_equal(c->port, 7000);
    assert_int_equal(c->nbind, 2);
    assert_string_equal(c->bind[0], "10.0.0.1");
    assert_string_equal(c->bind[1], "::1");
    assert_string_equal(c->requirepass, "p@ss word\n#x");
    assert_string_equal(c->logfile, "it's here");
    assert_int_equal(c->loglevel, LOG_WARNING);
    assert_int_equal(c->maxclients, 6); /* the last line wins, as in Redis */
}

static void test_unknown_directive_reports_line_number(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load_text(f, "port 7000\n# comment\nprot 7001\nport 7002\n"), ST_EINVAL);
    assert_string_equal(f->err, "line 3: unknown directive 'prot'");
    assert_int_equal(f->cfg.port, 7000); /* loading stopped at the error */
}

static void test_malformed_value_reports_line_and_reason(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load_text(f, "\n\n\n\nport abc\n"), ST_EINVAL);
    assert_string_equal(f->err, "line 5: invalid value 'abc' for 'port': not an integer");

    assert_int_equal(load_text(f, "port 1 2\n"), ST_EINVAL);
    assert_non_null(strstr(f->err, "line 1: wrong number of arguments for 'port'"));

    assert_int_equal(load_text(f, "hz\n"), ST_EINVAL);
    assert_non_null(strstr(f->err, "line 1: wrong number of arguments for 'hz'"));

    assert_int_equal(load_text(f, "requirepass \"unterminated\n"), ST_EINVAL);
    assert_non_null(strstr(f->err, "line 1: unbalanced quotes"));

    assert_int_equal(load_text(f, "loglevel loud\n"), ST_EINVAL);
    assert_string_equal(f->err, "line 1: invalid value 'loud' for 'loglevel': argument must be "
                                "one of: debug, verbose, notice, warning");

    /* strict integers: no '+', no blanks inside, no leading zeros */
    assert_int_equal(load_text(f, "port +80\n"), ST_EINVAL);
    assert_int_equal(load_text(f, "port 080\n"), ST_EINVAL);
    assert_int_equal(load_text(f, "port \"80 \"\n"), ST_EINVAL);
    assert_int_equal(f->cfg.port, 6379);
}

static void test_missing_file_is_an_error(void **state)
{
    struct fx *f = *state;
    char path[128];

    snprintf(path, sizeof(path), "%s/nope.conf", f->dir);
    assert_int_equal(config_load_file(&f->cfg, path, f->err, sizeof(f->err)), ST_EINVAL);
    assert_non_null(strstr(f->err, "can't open"));
    assert_non_null(strstr(f->err, "nope.conf"));
}

static void test_ranges_are_enforced(void **state)
{
    struct fx *f = *state;

    assert_int_equal(set1(f, "port", "65535", 0), 0);
    assert_int_equal(set1(f, "port", "0", 0), 0);
    assert_int_equal(set1(f, "port", "65536", 0), ST_EINVAL);
    assert_string_equal(f->err,
                        "invalid value '65536' for 'port': argument out of range (0..65535)");
    assert_int_equal(set1(f, "port", "-1", 0), ST_EINVAL);
    assert_int_equal(f->cfg.port, 0);

    assert_int_equal(set1(f, "maxclients", "0", 0), ST_EINVAL);
    assert_non_null(strstr(f->err, "(1..1000000)"));
    assert_int_equal(set1(f, "maxclients", "1000000", 0), 0);
    assert_int_equal(set1(f, "maxclients", "1000001", 0), ST_EINVAL);

    assert_int_equal(set1(f, "threads", "0", 0), ST_EINVAL);
    assert_int_equal(set1(f, "threads", "257", 0), ST_EINVAL);
    assert_int_equal(set1(f, "threads", "256", 0), 0);
    assert_int_equal(f->cfg.threads, 256);

    assert_int_equal(set1(f, "databases", "0", 0), ST_EINVAL);
    assert_int_equal(set1(f, "databases", "1025", 0), ST_EINVAL);
    assert_int_equal(set1(f, "databases", "1024", 0), 0);

    assert_int_equal(set1(f, "keyspace-shards", "100", 0), ST_EINVAL);
    assert_non_null(strstr(f->err, "power of two"));
    assert_int_equal(set1(f, "keyspace-shards", "8192", 0), ST_EINVAL);
    assert_int_equal(set1(f, "keyspace-shards", "0", 0), ST_EINVAL);
    assert_int_equal(set1(f, "keyspace-shards", "1", 0), 0);
    assert_int_equal(set1(f, "keyspace-shards", "4096", 0), 0);
    assert_int_equal(f->cfg.keyspace_shards, 4096);

    assert_int_equal(set1(f, "hz", "0", 0), ST_EINVAL);
    assert_int_equal(set1(f, "hz", "501", 0), ST_EINVAL);
    assert_int_equal(set1(f, "active-expire-effort", "11", 0), ST_EINVAL);
    assert_int_equal(set1(f, "active-expire-effort", "10", 0), 0);
    assert_int_equal(set1(f, "timeout", "-1", 0), ST_EINVAL);
    assert_int_equal(set1(f, "tcp-keepalive", "0", 0), 0);
    assert_int_equal(set1(f, "tcp-backlog", "99999999999", 0), ST_EINVAL);

    /* memory minimums */
    assert_int_equal(set1(f, "proto-max-bulk-len", "1000000", 0), ST_EINVAL);
    assert_string_equal(f->err, "invalid value '1000000' for 'proto-max-bulk-len': argument out "
                                "of range (>= 1mb)");
    assert_int_equal(set1(f, "client-query-buffer-limit", "1048575", 0), ST_EINVAL);
    assert_int_equal(set1(f, "client-query-buffer-limit", "1mb", 0), 0);
    assert_int_equal(f->cfg.client_query_buffer_limit, 1024 * 1024);

    /* a failed set leaves the previous value */
    assert_int_equal(f->cfg.proto_max_bulk_len, 512LL * 1024 * 1024);
}

static void test_memory_units(void **state)
{
    struct fx *f = *state;

    assert_int_equal(load_text(f, "proto-max-bulk-len 1gb\nclient-query-buffer-limit 100mb\n"),
                     0);
    assert_int_equal(f->cfg.proto_max_bulk_len, 1024LL * 1024 * 1024);
    assert_int_equal(f->cfg.client_query_buffer_limit, 100LL * 1024 * 1024);

    assert_int_equal(set1(f, "proto-max-bulk-len", "2G", 0), 0);
    assert_int_equal(f->cfg.proto_max_bulk_len, 2000LL * 1000 * 1000);
    assert_int_equal(set1(f, "proto-max-bulk-len", "3MB", 0), 0);
    assert_int_equal(f->cfg.proto_max_bulk_len, 3LL * 1024 * 1024);
    assert_int_equal(set1(f, "proto-max-bulk-len", "2000kb", 0), 0);
    assert_int_equal(f->cfg.proto_max_bulk_len, 2000LL * 1024);
    assert_int_equal(set1(f, "proto-max-bulk-len", "2097152", 0), 0);
    assert_int_equal(f->cfg.proto_max_bulk_len, 2097152);

    assert_int_equal(set1(f, "proto-max-bulk-len", "12xb", 0), ST_EINVAL);
    assert_non_null(strstr(f->err, "not a memory size"));
    assert_int_equal(set1(f, "proto-max-bulk-len", "gb", 0), ST_EINVAL);
    assert_int_equal(set1(f, "proto-max-bulk-len", "", 0), ST_EINVAL);
    assert_int_equal(set1(f, "proto-max-bulk-len", "99999999999gb", 0), ST_EINVAL);
    assert_int_equal(f->cfg.proto_max_bulk_len, 2097152);
}

static void test_argv_parsing(void **state)
{
    struct fx *f = *state;
    char *ok[] = {"--port", "7001", "--bind", "10.1.1.1", "::1", "--LOGLEVEL", "debug",
                  "--requirepass", "", "--client-output-buffer-limit", "pubsub", "1mb", "0",
                  "0"};
    char *unknown[] = {"--port", "7002", "--prot", "1"};
    char *bad[] = {"--hz", "fast"};
    char *noname[] = {"7000"};
    char *novalue[] = {"--port", "--hz", "20"};

    assert_int_equal(config_load_argv(&f->cfg, 14, ok, f->err, sizeof(f->err)), 0);
    assert_int_equal(f->cfg.port, 7001);
    assert_int_equal(f->cfg.nbind, 2);
    assert_string_equal(f->cfg.bind[1], "::1");
    assert_int_equal(f->cfg.loglevel, LOG_DEBUG);
    assert_string_equal(f->cfg.requirepass, "");
    assert_int_equal(f->cfg.obuf_pubsub_hard, 1024 * 1024);
    assert_int_equal(f->cfg.obuf_pubsub_soft, 0);
    assert_int_equal(config_load_argv(&f->cfg, 0, NULL, f->err, sizeof(f->err)), 0);

    assert_int_equal(config_load_argv(&f->cfg, 4, unknown, f->err, sizeof(f->err)), ST_EINVAL);
    assert_string_equal(f->err, "argument '--prot': unknown directive 'prot'");
    assert_int_equal(f->cfg.port, 7002);

    assert_int_equal(config_load_argv(&f->cfg, 2, bad, f->err, sizeof(f->err)), ST_EINVAL);
    assert_string_equal(f->err, "argument '--hz': invalid value 'fast' for 'hz': not an integer");

    assert_int_equal(config_load_argv(&f->cfg, 1, noname, f->err, sizeof(f->err)), ST_EINVAL);
    assert_non_null(strstr(f->err, "argument '7000'"));

    assert_int_equal(config_load_argv(&f->cfg, 3, novalue, f->err, sizeof(f->err)), ST_EINVAL);
    assert_non_null(strstr(f->err, "argument '--port': wrong number of arguments"));
}

static void test_runtime_refuses_immutable(void **state)
{
    struct fx *f = *state;
    const char *immutable[] = {"port", "bind", "tcp-backlog", "threads", "databases",
                               "keyspace-shards", "logfile"};

    for (size_t i = 0; i < sizeof(immutable) / sizeof(immutable[0]); i++) {
        assert_int_equal(set1(f, immutable[i], "8", 1), ST_EINVAL);
        assert_non_null(strstr(f->err, "can't set immutable config"));
    }
    assert_int_equal(f->cfg.port, 6379);
    assert_string_equal(f->cfg.bind[0], "127.0.0.1");

    /* the same directives load fine before start */
    assert_int_equal(set1(f, "port", "8", 0), 0);
    assert_int_equal(f->cfg.port, 8);

    /* mutable ones are settable at runtime, names case-insensitive */
    assert_int_equal(set1(f, "HZ", "100", 1), 0);
    assert_int_equal(cfg_load(f->cfg.hz), 100);
    assert_int_equal(set1(f, "requirepass", "s3cret", 1), 0);
    assert_string_equal(f->cfg.requirepass, "s3cret");
    assert_int_equal(set1(f, "maxclients", "77", 1), 0);
    assert_int_equal(set1(f, "no-such-thing", "1", 1), ST_EINVAL);
    assert_string_equal(f->err, "unknown directive 'no-such-thing'");
}

struct seen {
    int calls;
    char last[64];
};

static void on_set_cb(struct config *cfg, const char *name, void *ud)
{
    struct seen *s = ud;

    (void)cfg;
    s->calls++;
    snprintf(s->last, sizeof(s->last), "%s", name);
}

static void test_runtime_set_calls_on_set_hook(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};

    f->cfg.on_set = on_set_cb;
    f->cfg.on_set_ud = &s;
    assert_int_equal(set1(f, "LOGLEVEL", "verbose", 1), 0);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.last, "loglevel");
    assert_int_equal(set1(f, "loglevel", "bogus", 1), ST_EINVAL); /* failure: no call */
    assert_int_equal(set1(f, "loglevel", "debug", 0), 0);         /* load time: no call */
    assert_int_equal(s.calls, 1);
}

static void test_config_get_glob(void **state)
{
    struct fx *f = *state;
    struct got g;

    memset(&g, 0, sizeof(g));
    config_get(&f->cfg, "*", got_cb, &g);
    assert_int_equal(g.n, 68);

    memset(&g, 0, sizeof(g));
    config_get(&f->cfg, "po*", got_cb, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.name[0], "port");
    assert_string_equal(g.value[0], "6379");
    memset(&g, 0, sizeof(g));
    config_get(&f->cfg, "pro*", got_cb, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.name[0], "proto-max-bulk-len");
    assert_string_equal(g.value[0], "536870912"); /* bytes, as Redis */

    memset(&g, 0, sizeof(g));
    config_get(&f->cfg, "*CLIENT*", got_cb, &g);
    assert_int_equal(g.n, 3); /* maxclients, client-query-..., client-output-... */

    memset(&g, 0, sizeof(g));
    config_get(&f->cfg, "nothing-matches", got_cb, &g);
    assert_int_equal(g.n, 0);

    assert_string_equal(get1(&f->cfg, "PoRt", &g), "6379");
    assert_string_equal(get1(&f->cfg, "loglevel", &g), "notice");
    assert_string_equal(get1(&f->cfg, "logfile", &g), "");
    assert_string_equal(get1(&f->cfg, "h?", &g), "10");

    assert_int_equal(set1(f, "bind", "0.0.0.0 ::", 0), 0); /* one value, as CONFIG SET sends */
    assert_string_equal(get1(&f->cfg, "bind", &g), "0.0.0.0 ::");
    assert_int_equal(set1(f, "requirepass", "hunter2", 1), 0);
    assert_string_equal(get1(&f->cfg, "requirepass", &g), "hunter2"); /* as Redis */
    assert_int_equal(set1(f, "client-query-buffer-limit", "2mb", 1), 0);
    assert_string_equal(get1(&f->cfg, "client-query-buffer-limit", &g), "2097152");
}

static void test_save_rules(void **state)
{
    struct fx *f = *state;
    struct got g;

    /* no rules by default (a cache); Redis's rules parse */
    assert_string_equal(get1(&f->cfg, "save", &g), "");
    assert_int_equal(f->cfg.nsave, 0);
    assert_int_equal(set1(f, "save", "3600 1 300 100 60 10000", 1), 0);
    assert_string_equal(get1(&f->cfg, "save", &g), "3600 1 300 100 60 10000");
    assert_int_equal(f->cfg.nsave, 3);
    assert_int_equal(set1(f, "save", "", 1), 0);
    assert_string_equal(get1(&f->cfg, "save", &g), "");
    assert_int_equal(f->cfg.nsave, 0);
    /* CONFIG SET sends the pairs as one argument */
    assert_int_equal(set1(f, "save", "900 1 30 5", 1), 0);
    assert_int_equal(f->cfg.nsave, 2);
    assert_int_equal(f->cfg.save_secs[1], 30);
    assert_int_equal(f->cfg.save_changes[1], 5);
    /* nothing changes on a bad value */
    assert_int_equal(set1(f, "save", "900", 1), ST_EINVAL);
    assert_int_equal(set1(f, "save", "0 1", 1), ST_EINVAL);
    assert_int_equal(set1(f, "save", "10 -1", 1), ST_EINVAL);
    assert_int_equal(set1(f, "save", "ten 1", 1), ST_EINVAL);
    assert_string_equal(get1(&f->cfg, "save", &g), "900 1 30 5");
}

static void test_every_value_round_trips_through_get_and_set(void **state)
{
    struct fx *f = *state;
    struct got all, again;

    memset(&all, 0, sizeof(all));
    config_get(&f->cfg, "*", got_cb, &all);
    for (int i = 0; i < all.n; i++)
        assert_int_equal(set1(f, all.name[i], all.value[i], 0), 0);
    memset(&again, 0, sizeof(again));
    config_get(&f->cfg, "*", got_cb, &again);
    assert_int_equal(again.n, all.n);
    for (int i = 0; i < all.n; i++)
        assert_string_equal(again.value[i], all.value[i]);
}

static void test_client_output_buffer_limit_round_trip(void **state)
{
    struct fx *f = *state;
    struct got g;
    char saved[512];

    assert_string_equal(get1(&f->cfg, "client-output-buffer-limit", &g),
                        "normal 1073741824 268435456 60 replica 268435456 67108864 60 "
                        "pubsub 33554432 8388608 60");

    /* redis.conf ships three lines, one class each; 'slave' is accepted */
    assert_int_equal(load_text(f, "client-output-buffer-limit normal 0 0 0\n"
                                  "client-output-buffer-limit slave 256mb 64mb 60\n"
                                  "client-output-buffer-limit pubsub 32mb 8mb 60\n"),
                     0);
    assert_int_equal(f->cfg.obuf_hard, 0);
    assert_int_equal(f->cfg.obuf_soft, 0);
    assert_int_equal(f->cfg.obuf_soft_seconds, 0);

    /* CONFIG SET with one value holding several classes; only those change */
    assert_int_equal(set1(f, "client-output-buffer-limit", "normal 10mb 5mb 30 pubsub 1k 2 3", 1),
                     0);
    snprintf(saved, sizeof(saved), "%s", get1(&f->cfg, "client-output-buffer-limit", &g));
    assert_string_equal(saved, "normal 10485760 5242880 30 replica 268435456 67108864 60 "
                               "pubsub 1000 2 3");

    /* what CONFIG GET prints, CONFIG SET takes back unchanged */
    assert_int_equal(set1(f, "client-output-buffer-limit", "normal 1 1 1", 1), 0);
    assert_int_equal(set1(f, "client-output-buffer-limit", saved, 1), 0);
    assert_string_equal(get1(&f->cfg, "client-output-buffer-limit", &g), saved);

    /* errors leave every class unchanged */
    assert_int_equal(set1(f, "client-output-buffer-limit", "normal 1 1 1 master 1 1 1", 1),
                     ST_EINVAL);
    assert_non_null(strstr(f->err, "invalid client class 'master'"));
    assert_int_equal(set1(f, "client-output-buffer-limit", "normal 1 1", 1), ST_EINVAL);
    assert_int_equal(set1(f, "client-output-buffer-limit", "normal x 1 1", 1), ST_EINVAL);
    assert_int_equal(set1(f, "client-output-buffer-limit", "normal 1 1 -1", 1), ST_EINVAL);
    assert_int_equal(set1(f, "client-output-buffer-limit", "normal -1 1 1", 1), ST_EINVAL);
    assert_string_equal(get1(&f->cfg, "client-output-buffer-limit", &g), saved);
    assert_int_equal(f->cfg.obuf_hard, 10 * 1024 * 1024);
}

static void test_bind_list_limits(void **state)
{
    struct fx *f = *state;
    char line[1024];
    size_t n = 0;

    n += (size_t)snprintf(line + n, sizeof(line) - n, "bind");
    for (int i = 0; i < CFG_MAX_BIND + 1; i++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, " 10.0.0.%d", i);
    snprintf(line + n, sizeof(line) - n, "\n");
    assert_int_equal(load_text(f, line), ST_EINVAL);
    assert_non_null(strstr(f->err, "line 1: invalid value for 'bind': expected 1..16"));
    assert_int_equal(f->cfg.nbind, 1);

    assert_int_equal(load_text(f, "bind \"\"\n"), ST_EINVAL);
    assert_int_equal(load_text(f, "bind a b\nbind c\n"), 0); /* a later line replaces */
    assert_int_equal(f->cfg.nbind, 1);
    assert_string_equal(f->cfg.bind[0], "c");
    assert_null(f->cfg.bind[1]);
}

static void test_include_nested_relative_and_depth_limited(void **state)
{
    struct fx *f = *state;
    char path[256], sub[256], want[512];

    snprintf(sub, sizeof(sub), "%s/sub", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(f, "sub/inner.conf", "hz 42\n", path, sizeof(path));
    /* relative to sub/, not to the cwd or the top file */
    write_file(f, "sub/middle.conf", "# middle\ninclude inner.conf\nport 7100\n", path,
               sizeof(path));
    assert_int_equal(load_text(f, "port 7000\ninclude sub/middle.conf\ntimeout 9\n"), 0);
    assert_int_equal(f->cfg.hz, 42);
    assert_int_equal(f->cfg.port, 7100);
    assert_int_equal(f->cfg.timeout, 9);

    /* an error inside an include names both places */
    write_file(f, "sub/inner.conf", "hz 42\nhz 0\n", path, sizeof(path));
    assert_int_equal(load_text(f, "\ninclude sub/middle.conf\n"), ST_EINVAL);
    snprintf(want, sizeof(want), "line 2: in '%s/sub/inner.conf': line 2: invalid value '0' "
             "for 'hz': argument out of range (1..500)", f->dir);
    assert_string_equal(f->err, want);

    /* a missing include nested in an include */
    write_file(f, "sub/inner.conf", "\n\ninclude gone.conf\n", path, sizeof(path));
    assert_int_equal(load_text(f, "include sub/middle.conf\n"), ST_EINVAL);
    snprintf(want, sizeof(want),
             "line 1: in '%s/sub/inner.conf': line 3: can't open '%s/sub/gone.conf'", f->dir,
             f->dir);
    assert_non_null(strstr(f->err, want));

    /* a missing include */
    assert_int_equal(load_text(f, "include nope.conf\n"), ST_EINVAL);
    assert_non_null(strstr(f->err, "line 1: can't open"));

    /* a file that includes itself stops at the depth limit */
    write_file(f, "loop.conf", "include loop.conf\n", path, sizeof(path));
    assert_int_equal(config_load_file(&f->cfg, path, f->err, sizeof(f->err)), ST_EINVAL);
    snprintf(want, sizeof(want), "line 1: in '%s': line 1: includes nested deeper than 16", path);
    assert_string_equal(f->err, want);

    assert_int_equal(load_text(f, "include\n"), ST_EINVAL);
    assert_non_null(strstr(f->err, "line 1: wrong number of arguments for 'include'"));
}

static void test_two_configs_are_independent(void **state)
{
    struct fx *f = *state;
    struct config other;

    assert_int_equal(config_init(&other), 0);
    assert_int_equal(set1(f, "port", "1234", 0), 0);
    assert_int_equal(set1(f, "requirepass", "x", 0), 0);
    assert_int_equal(other.port, 6379);
    assert_string_equal(other.requirepass, "");
    config_deinit(&other);
}

/* docs/config.md sits at the repository root; find it from this file's path. */
static char *read_docs(void)
{
    static const char self[] = "tests/unit/server/test_config.c";
    const char *file = __FILE__;
    size_t flen = strlen(file), slen = strlen(self);
    char path[PATH_MAX];
    FILE *fp;
    char *buf;
    long size;

    assert_true(flen >= slen && strcmp(file + flen - slen, self) == 0);
    snprintf(path, sizeof(path), "%.*sdocs/config.md", (int)(flen - slen), file);
    fp = fopen(path, "r");
    if (fp == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    assert_true(size > 0);
    rewind(fp);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
    buf[size] = '\0';
    fclose(fp);
    return buf;
}

static void test_docs_list_every_directive(void **state)
{
    struct fx *f = *state;
    struct got all;
    char *docs = read_docs();
    char *help = NULL;
    size_t helplen = 0;
    FILE *mem;

    memset(&all, 0, sizeof(all));
    config_get(&f->cfg, "*", got_cb, &all);
    for (int i = 0; i < all.n; i++) {
        char cell[96];

        snprintf(cell, sizeof(cell), "| `%s` |", all.name[i]);
        if (strstr(docs, cell) == NULL)
            fail_msg("docs/config.md does not list '%s'", all.name[i]);
    }

    /* and the table is the current --help-config output, not a stale copy */
    mem = open_memstream(&help, &helplen);
    assert_non_null(mem);
    config_print_help(mem);
    fclose(mem);
    if (strstr(docs, help) == NULL)
        fail_msg("docs/config.md is out of date: regenerate it with "
                 "`strata-server --help-config`");
    free(help);
    free(docs);
}

static void test_help_table_shape(void **state)
{
    char *help = NULL;
    size_t helplen = 0, lines = 0;
    FILE *mem = open_memstream(&help, &helplen);

    (void)state;
    assert_non_null(mem);
    config_print_help(mem);
    fclose(mem);
    assert_non_null(strstr(help, "| directive | default | range/values | runtime-settable | "
                                 "description |\n"));
    assert_non_null(strstr(help, "| `port` | `6379` | 0..65535 | no |"));
    assert_non_null(strstr(help, "| `hz` | `10` | 1..500 | yes |"));
    assert_non_null(strstr(help, "| `loglevel` | `notice` | debug, verbose, notice, warning |"));
    assert_non_null(strstr(help, "| `proto-max-bulk-len` | `512mb` | >= 1mb | yes |"));
    assert_non_null(strstr(help, "| `threads` | online CPUs | 1..256 | no |"));
    for (char *p = help; *p; p++) {
        if (*p == '\n') {
            int pipes = 0;

            for (char *q = p - 1; q >= help && *q != '\n'; q--)
                pipes += *q == '|';
            assert_int_equal(pipes, 6); /* five columns, no stray '|' */
            lines++;
        }
    }
    assert_int_equal(lines, 2 + 68);
    free(help);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_match_redis_and_strata, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_file_with_comments_quotes_and_case, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_directive_reports_line_number, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_value_reports_line_and_reason, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_is_an_error, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ranges_are_enforced, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_memory_units, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_argv_parsing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_runtime_refuses_immutable, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_runtime_set_calls_on_set_hook, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_config_get_glob, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_save_rules, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_every_value_round_trips_through_get_and_set,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_client_output_buffer_limit_round_trip, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_bind_list_limits, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_include_nested_relative_and_depth_limited,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_two_configs_are_independent, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_docs_list_every_directive, fx_setup, fx_teardown),
        cmocka_unit_test(test_help_table_shape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
