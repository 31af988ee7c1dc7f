/*
 * config.h -- the server's configuration: one table (config.c, cfg_table[])
 * drives parsing of the config file and command line, CONFIG GET/SET,
 * --help-config and docs/config.md.
 *
 * Numeric fields that change at run time (CONFIG SET) are read by workers
 * with cfg_load() (relaxed atomic load) and written with __atomic_store_n;
 * string fields are guarded by struct config.lock.
 */
#ifndef STRATA_CONFIG_H
#define STRATA_CONFIG_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#define CFG_MAX_BIND 16
#define CFG_MAX_SAVE 16

struct config {
    pthread_mutex_t lock;          /* guards the string fields below */

    /* network */
    char *bind[CFG_MAX_BIND];      /* owned strings; immutable after start */
    int nbind;
    long long port;
    long long tcp_backlog;
    long long tcp_keepalive;       /* seconds, 0 = off */
    long long timeout;             /* idle client timeout, seconds, 0 = never */
    long long maxclients;

    /* threads and keyspace */
    long long threads;             /* worker threads */
    long long databases;
    long long keyspace_shards;     /* power of two */
    long long hz;                  /* cron frequency per worker */
    long long active_expire_effort;/* 1..10, as Redis */

    /* compact encodings of small collections (Redis's names and defaults) */
    long long hash_max_listpack_entries;
    long long hash_max_listpack_value;
    long long list_max_listpack_size;   /* > 0: entries per node; -1..-5: 4..64 KB per node */
    long long set_max_intset_entries;
    long long set_max_listpack_entries;
    long long set_max_listpack_value;
    long long zset_max_listpack_entries;
    long long zset_max_listpack_value;
    long long hll_sparse_max_bytes;

    /* limits */
    long long proto_max_bulk_len;
    long long client_query_buffer_limit;
    long long obuf_hard;           /* client-output-buffer-limit normal */
    long long obuf_soft;
    long long obuf_soft_seconds;
    long long obuf_replica_hard;   /* client-output-buffer-limit replica */
    long long obuf_replica_soft;
    long long obuf_replica_soft_seconds;
    long long obuf_pubsub_hard;    /* client-output-buffer-limit pubsub */
    long long obuf_pubsub_soft;
    long long obuf_pubsub_soft_seconds;

    /* memory budget (server/maxmem.c) */
    long long maxmemory;           /* bytes; 0 = no limit */
    long long maxmemory_policy;    /* enum evict_policy */
    long long maxmemory_samples;
    long long lfu_log_factor;
    long long lfu_decay_time;      /* minutes */

    /* tiers (server/tiering.c) */
    char *pmem_path;               /* "" = no PMem tier; immutable */
    long long pmem_size;           /* immutable */
    long long pmem_on_start;       /* enum: clear 0, attach 1; immutable */
    long long pmem_cascade_watermark; /* percent of the pool past which its coldest keys move to SSD */
    char *ssd_path;                /* "" = no SSD tier; immutable (so are all ssd-*) */
    long long ssd_size;
    long long ssd_segment_size;
    long long ssd_write_buffer;
    long long ssd_io_threads;
    long long ssd_compact_live_ratio; /* percent */
    long long ssd_direct_io;       /* bool */
    long long ssd_fsync;           /* bool */
    long long ssd_flush_ms;
    long long ssd_on_start;        /* enum: attach, clear */
    long long mem_tier_size;       /* heap tier for tests; 0 = none; immutable */
    long long mem_tier_indexed;    /* bool: the heap tier keeps its own index; immutable */
    long long mem_tier_read_delay_us; /* its reads complete this late (tests) */
    long long tier_zstd_level;
    long long tier_dict_size;      /* immutable */
    long long tier_dict_value_max; /* immutable */
    long long tier_promote_window; /* seconds */
    long long tier_demote_on_write;/* bool: every written key is demoted at once */

    /* persistence (server/persist.c, snapshot.c, wlog.c, recover.c) */
    char *dir;                     /* working directory of every file below; immutable */
    char *dbfilename;              /* the snapshot file in dir; lock */
    int nsave;                     /* save rules: a snapshot after secs[i] seconds */
    long long save_secs[CFG_MAX_SAVE]; /* with at least changes[i] changes; lock */
    long long save_changes[CFG_MAX_SAVE];
    long long stop_writes_on_bgsave_error; /* bool */
    long long appendonly;          /* bool; immutable */
    long long appendfsync;         /* enum: always 0, everysec 1, no 2 */
    char *appendfilename;          /* immutable */
    char *appenddirname;           /* immutable */
    long long aof_load_truncated;  /* bool: drop a torn last record at start */
    long long aof_load_damaged;    /* enum: refuse 0, truncate 1 */
    long long auto_aof_rewrite_percentage;
    long long auto_aof_rewrite_min_size;
    long long backup_interval;     /* seconds between automatic backups; 0 = none */
    long long backup_keep;         /* backups kept */
    char *backup_dir;              /* in dir; immutable */

    /* security */
    char *requirepass;             /* NULL or "" = no password; lock */

    /* logging */
    long long loglevel;            /* enum log_level */
    char *logfile;                 /* NULL/"" = stderr; immutable */

    /* Optional: called by config_set(at_runtime = 1) after a directive was
     * changed (name as in the table, lower case), outside cfg->lock, on the
     * caller's thread. Lets main apply side effects (e.g. log_set_level).
     * config_init clears both; set them afterwards. */
    void (*on_set)(struct config *cfg, const char *name, void *ud);
    void *on_set_ud;
};

#define cfg_load(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* Sets every field to its default (parsed from cfg_table[] like a config
 * line). cfg is caller storage. Returns 0 or ST_ENOMEM. */
int config_init(struct config *cfg);
void config_deinit(struct config *cfg);

/* Parses a redis.conf-style file (one `directive args...` a line, '#'
 * comments, quoted arguments). On error writes "line N: reason" to err and
 * returns ST_EINVAL. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Applies `--name value ...` pairs from argv[0..argc). Same error contract. */
int config_load_argv(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Applies one directive with its arguments; used by the file, the command
 * line and CONFIG SET (at_runtime = 1 refuses immutable directives). Returns
 * 0, or ST_EINVAL (ST_ENOMEM) with a message in err; on failure nothing
 * changed. A special directive (bind, client-output-buffer-limit) also takes
 * its whole value as one blank-separated argument, as CONFIG SET sends it. */
int config_set(struct config *cfg, const char *name, const char *const *args, int nargs,
               int at_runtime, char *err, size_t errlen);

/* CONFIG GET: calls fn(name, value) for every directive matching the glob
 * pattern (case-insensitive). value is formatted as redis.conf would take it. */
typedef void config_get_fn(const char *name, const char *value, void *ud);
void config_get(struct config *cfg, const char *pattern, config_get_fn *fn, void *ud);

/* Writes the option table (name, default, range, description) to out, as
 * Markdown (docs/config.md is generated from it: `strata-server --help-config`). */
void config_print_help(FILE *out);

#endif
