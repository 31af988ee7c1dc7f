/*
 * main.c -- strata-server's entry point: options, logging, lifecycle.
 *
 *   strata-server [config-file] [--directive value ...]
 *   strata-server --help | --version | --help-config
 *
 * The config file is applied first, then the command line (as Redis does).
 * Any unknown or malformed directive stops start-up with its line number or
 * argument and exit status 1. main() owns the one struct server.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/err.h"
#include "server/config.h"
#include "server/log.h"
#include "server/persist.h"
#include "server/server.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: strata-server [config-file] [--directive value ...]\n"
            "       strata-server --help | --version | --help-config\n"
            "       strata-server [config-file] [--directive value ...] --restore SNAPSHOT-FILE\n\n"
            "Examples:\n"
            "  strata-server                         (defaults: bind 127.0.0.1, port 6379)\n"
            "  strata-server /etc/strata.conf\n"
            "  strata-server --port 7777 --threads 4\n"
            "  strata-server strata.conf --loglevel verbose\n");
}

int main(int argc, char **argv)
{
    struct server srv;
    char err[512];
    int argi = 1, rc = 1;

    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0)) {
        printf("strata-server v=%s (follows Redis 7.0 behaviour)\n", STRATA_VERSION);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--help-config") == 0) {
        config_print_help(stdout);
        return 0;
    }

    /* --restore FILE: start from that snapshot (not a directive) */
    const char *restore = NULL;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--restore") == 0) {
            restore = argv[i + 1];
            for (int j = i; j + 2 < argc; j++)
                argv[j] = argv[j + 2];
            argc -= 2;
            break;
        }
    }

    memset(&srv, 0, sizeof(srv));
    if (config_init(&srv.cfg) != ST_OK) {
        fprintf(stderr, "strata-server: out of memory\n");
        return 1;
    }
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        if (config_load_file(&srv.cfg, argv[1], err, sizeof(err)) != ST_OK) {
            fprintf(stderr, "strata-server: %s: %s\n", argv[1], err);
            goto out_cfg;
        }
        char abs[PATH_MAX];
        srv.config_file = strdup(realpath(argv[1], abs) ? abs : argv[1]);
        argi = 2;
    }
    if (config_load_argv(&srv.cfg, argc - argi, argv + argi, err, sizeof(err)) != ST_OK) {
        fprintf(stderr, "strata-server: %s\n", err);
        goto out_cfg;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    srv.executable = strdup(n > 0 ? exe : argv[0]);

    if (log_open((int)srv.cfg.loglevel, srv.cfg.logfile) != ST_OK) {
        fprintf(stderr, "strata-server: cannot open logfile '%s'\n", srv.cfg.logfile);
        goto out_cfg;
    }
    if (server_init(&srv) != ST_OK)
        goto out_srv;
    if (persist_recover(&srv, restore) != ST_OK)
        goto out_srv;
    if (server_listen(&srv) != ST_OK)
        goto out_persist;
    if (server_run(&srv) == ST_OK)
        rc = 0;
out_persist:
    persist_shutdown(&srv);

out_srv:
    server_deinit(&srv);
    log_close();
out_cfg:
    free(srv.config_file);
    free(srv.executable);
    config_deinit(&srv.cfg);
    return rc;
}
