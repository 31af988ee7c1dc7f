/*
 * config.c -- the server's configuration, driven by one table.
 *
 * What it owns: struct config (config.h) and cfg_table[], the list of every
 * directive the server accepts. Each row names a directive, its type, the
 * offset of its field in struct config, its default (as a string, in the
 * syntax redis.conf takes), its range, its flags and a one-line description.
 * Everything else is derived from that row:
 *
 *   config_init        every default is parsed by cfg_apply(), the same code
 *                      that parses a config file line, so a default and the
 *                      parser cannot disagree;
 *   config_load_file   redis.conf style: `directive arg...` per line, '#'
 *                      comment lines, blank lines, quoted arguments (split by
 *                      util_splitargs), `include FILE` (nested, relative to
 *                      the including file's directory, at most
 *                      CFG_MAX_INCLUDE_DEPTH deep);
 *   config_load_argv   `--name value [value...]`;
 *   config_set         CONFIG SET (at_runtime = 1 refuses CFG_IMMUTABLE);
 *   config_get         CONFIG GET with a case-insensitive glob;
 *   config_print_help  the Markdown table behind `strata-server
 *                      --help-config` and docs/config.md.
 *
 * What it does not own: applying a change (rebinding, resizing, reopening
 * the log). Callers read the fields; config_set calls cfg->on_set after a
 * runtime change so main can apply side effects. Directives of other modules
 * (maxmemory, save, ...) will be composed here when those modules exist.
 *
 * Types: CFG_BOOL (yes|no), CFG_INT (strict base-10 integer, [min, max],
 * optionally a power of two), CFG_MEM (util_parse_memsize: "1gb", "100mb",
 * formatted back as plain bytes like Redis), CFG_ENUM (names from a list),
 * CFG_STRING (owned char *), CFG_SPECIAL (own parser and formatter: bind,
 * client-output-buffer-limit).
 *
 * Invariants:
 *  1. A directive is validated completely before any field changes: a failed
 *     set leaves the configuration as it was.
 *  2. Numeric fields are written with __atomic_store_n and may be read at any
 *     time with cfg_load(); string fields (and the bind list) are replaced
 *     under cfg->lock, and config_get copies them under the lock.
 *  3. No global mutable state: everything lives in the caller's struct
 *     config; two configurations can coexist (tests do).
 *  4. The error text names the reason; the loaders prefix the place
 *     ("line N: ", "argument '--x': "). A CFG_SENSITIVE value is never echoed.
 *
 * Threads: config_init/load_* run in main before workers start; config_set
 * and config_get may run on any worker while others read fields.
 *
 * References: Redis src/config.c (standardConfig table, CONFIG GET/SET
 * semantics, client-output-buffer-limit syntax), Pelikan ccommon option tables.
 */
#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/util.h"
#include "server/log.h"

#define CFG_MAX_INCLUDE_DEPTH 16
#define CFG_MAX_ARGS 64          /* arguments on one line / one directive */
#define CFG_MAX_LINE (64 * 1024) /* longest config file line accepted */
#define CFG_MAX_STRING 4096      /* longest string / address value */

enum cfg_type { CFG_BOOL, CFG_INT, CFG_MEM, CFG_ENUM, CFG_STRING, CFG_SPECIAL };

enum cfg_flag {
    CFG_IMMUTABLE = 1 << 0, /* refused by CONFIG SET */
    CFG_SENSITIVE = 1 << 1, /* never echoed in errors (CONFIG GET returns it, as Redis) */
    CFG_POW2 = 1 << 2,      /* CFG_INT: must be a power of two */
};

struct cfg_enum_val {
    const char *name;
    long long value;
};

struct cfg_def;

/* A CFG_SPECIAL parser: validates args[0..nargs) completely, then stores.
 * Returns 0, ST_EINVAL (reason in err) or ST_ENOMEM. */
typedef int cfg_set_fn(struct config *cfg, const struct cfg_def *d, char **args, int nargs,
                       char *err, size_t errlen);
/* A CFG_SPECIAL formatter: writes the value as redis.conf takes it. */
typedef void cfg_fmt_fn(struct config *cfg, const struct cfg_def *d, char *buf, size_t len);

struct cfg_def {
    const char *name;
    enum cfg_type type;
    unsigned flags;
    size_t off;                       /* offsetof(struct config, field) */
    const char *dflt;                 /* default, parsed like a config line */
    long long (*dflt_fn)(void);       /* CFG_INT default computed at init */
    const char *dflt_help;            /* shown instead of dflt in help */
    long long min, max;               /* CFG_INT, CFG_MEM */
    const struct cfg_enum_val *enums; /* CFG_ENUM, NULL-terminated */
    cfg_set_fn *set;                  /* CFG_SPECIAL */
    cfg_fmt_fn *format;               /* CFG_SPECIAL */
    const char *range_help;           /* CFG_SPECIAL, CFG_STRING: range column */
    const char *desc;
};

#define CFG_OFF(field) offsetof(struct config, field)
#define CFG_FIELD(cfg, d, T) ((T *)(void *)((char *)(cfg) + (d)->off))

static const struct cfg_enum_val loglevel_enum[] = {
    {"debug", LOG_DEBUG},
    {"verbose", LOG_VERBOSE},
    {"notice", LOG_NOTICE},
    {"warning", LOG_WARNING},
    {NULL, 0},
};

static const struct cfg_enum_val policy_enum[] = {
    {"noeviction", 0},
    {"allkeys-lru", 1},
    {"volatile-lru", 2},
    {"allkeys-lfu", 3},
    {"volatile-lfu", 4},
    {"allkeys-random", 5},
    {"volatile-random", 6},
    {"volatile-ttl", 7},
    {NULL, 0},
};

static const struct cfg_enum_val pmem_start_enum[] = {
    {"clear", 0},
    {"attach", 1},
    {NULL, 0},
};

static const struct cfg_enum_val fsync_enum[] = {
    {"always", 0},
    {"everysec", 1},
    {"no", 2},
    {NULL, 0},
};

static const struct cfg_enum_val damaged_enum[] = {
    {"refuse", 0},
    {"truncate", 1},
    {NULL, 0},
};

static const struct cfg_enum_val ssd_start_enum[] = {
    {"attach", 0},
    {"clear", 1},
    {NULL, 0},
};

static cfg_set_fn bind_set;
static cfg_fmt_fn bind_format;
static cfg_set_fn obuf_set;
static cfg_fmt_fn obuf_format;
static cfg_set_fn save_set;
static cfg_fmt_fn save_format;
static long long default_threads(void);

/* The one table. Keep it sorted by area, as redis.conf is. */
static const struct cfg_def cfg_table[] = {
    /* network */
    {.name = "bind", .type = CFG_SPECIAL, .flags = CFG_IMMUTABLE, .dflt = "127.0.0.1",
     .set = bind_set, .format = bind_format, .range_help = "1..16 addresses",
     .desc = "Addresses to listen on, space-separated."},
    {.name = "port", .type = CFG_INT, .flags = CFG_IMMUTABLE, .off = CFG_OFF(port),
     .dflt = "6379", .min = 0, .max = 65535,
     .desc = "TCP port to listen on; 0 disables TCP."},
    {.name = "tcp-backlog", .type = CFG_INT, .flags = CFG_IMMUTABLE, .off = CFG_OFF(tcp_backlog),
     .dflt = "511", .min = 0, .max = INT_MAX,
     .desc = "listen(2) backlog (the kernel caps it at somaxconn)."},
    {.name = "tcp-keepalive", .type = CFG_INT, .off = CFG_OFF(tcp_keepalive), .dflt = "300",
     .min = 0, .max = INT_MAX, .desc = "TCP keepalive period in seconds; 0 disables it."},
    {.name = "timeout", .type = CFG_INT, .off = CFG_OFF(timeout), .dflt = "0", .min = 0,
     .max = INT_MAX, .desc = "Close a client idle for this many seconds; 0 never does."},
    {.name = "maxclients", .type = CFG_INT, .off = CFG_OFF(maxclients), .dflt = "10000",
     .min = 1, .max = 1000000, .desc = "Maximum number of connected clients."},

    /* threads and keyspace */
    {.name = "threads", .type = CFG_INT, .flags = CFG_IMMUTABLE, .off = CFG_OFF(threads),
     .dflt_fn = default_threads, .dflt_help = "online CPUs", .min = 1, .max = 256,
     .desc = "Worker threads, each with its own event loop."},
    {.name = "databases", .type = CFG_INT, .flags = CFG_IMMUTABLE, .off = CFG_OFF(databases),
     .dflt = "16", .min = 1, .max = 1024, .desc = "Number of logical databases (SELECT 0..N-1)."},
    {.name = "keyspace-shards", .type = CFG_INT, .flags = CFG_IMMUTABLE | CFG_POW2,
     .off = CFG_OFF(keyspace_shards), .dflt = "256", .min = 1, .max = 4096,
     .desc = "Lock shards of the keyspace (a power of two)."},
    {.name = "hz", .type = CFG_INT, .off = CFG_OFF(hz), .dflt = "10", .min = 1, .max = 500,
     .desc = "Background task (cron) frequency per worker, in calls per second."},
    {.name = "active-expire-effort", .type = CFG_INT, .off = CFG_OFF(active_expire_effort),
     .dflt = "1", .min = 1, .max = 10,
     .desc = "CPU effort of active expiry: higher frees expired keys sooner."},

    /* data types */
    {.name = "hash-max-listpack-entries", .type = CFG_INT, .off = CFG_OFF(hash_max_listpack_entries),
     .dflt = "512", .min = 0, .max = 1 << 30,
     .desc = "A hash with more fields than this leaves the compact (listpack) encoding."},
    {.name = "hash-max-listpack-value", .type = CFG_INT, .off = CFG_OFF(hash_max_listpack_value),
     .dflt = "64", .min = 0, .max = 1 << 30,
     .desc = "A hash with a field or value longer than this (bytes) leaves the compact encoding."},
    {.name = "list-max-listpack-size", .type = CFG_INT, .off = CFG_OFF(list_max_listpack_size),
     .dflt = "-2", .min = -5, .max = 1 << 30,
     .desc = "List node size: > 0 entries per node; -1..-5 bytes per node (4, 8, 16, 32, 64 KB)."},
    {.name = "set-max-intset-entries", .type = CFG_INT, .off = CFG_OFF(set_max_intset_entries),
     .dflt = "512", .min = 0, .max = 1 << 30,
     .desc = "A set of integers only stays an intset up to this many members."},
    {.name = "set-max-listpack-entries", .type = CFG_INT, .off = CFG_OFF(set_max_listpack_entries),
     .dflt = "128", .min = 0, .max = 1 << 30,
     .desc = "A set with more members than this leaves the compact (listpack) encoding."},
    {.name = "set-max-listpack-value", .type = CFG_INT, .off = CFG_OFF(set_max_listpack_value),
     .dflt = "64", .min = 0, .max = 1 << 30,
     .desc = "A set with a member longer than this (bytes) leaves the compact encoding."},
    {.name = "zset-max-listpack-entries", .type = CFG_INT, .off = CFG_OFF(zset_max_listpack_entries),
     .dflt = "128", .min = 0, .max = 1 << 30,
     .desc = "A sorted set with more members than this becomes a skiplist."},
    {.name = "zset-max-listpack-value", .type = CFG_INT, .off = CFG_OFF(zset_max_listpack_value),
     .dflt = "64", .min = 0, .max = 1 << 30,
     .desc = "A sorted set with a member longer than this (bytes) becomes a skiplist."},
    {.name = "hll-sparse-max-bytes", .type = CFG_MEM, .off = CFG_OFF(hll_sparse_max_bytes),
     .dflt = "3000", .min = 0, .max = 1 << 30,
     .desc = "A HyperLogLog's sparse representation is converted to dense past this size."},

    /* limits */
    {.name = "proto-max-bulk-len", .type = CFG_MEM, .off = CFG_OFF(proto_max_bulk_len),
     .dflt = "512mb", .min = 1024 * 1024, .max = LLONG_MAX,
     .desc = "Largest bulk string a client may send."},
    {.name = "client-query-buffer-limit", .type = CFG_MEM,
     .off = CFG_OFF(client_query_buffer_limit), .dflt = "1gb", .min = 1024 * 1024,
     .max = LLONG_MAX, .desc = "Largest query buffer of one client; beyond it the client is closed."},
    {.name = "client-output-buffer-limit", .type = CFG_SPECIAL,
     .dflt = "normal 1gb 256mb 60 replica 256mb 64mb 60 pubsub 32mb 8mb 60", .set = obuf_set,
     .format = obuf_format, .range_help = "`class hard soft soft-seconds`, repeated",
     .desc = "Output buffer limits per client class (normal, replica, pubsub); 0 = no limit. "
             "Unlike Redis, normal clients are limited by default (1gb hard, 256mb for 60s)."},

    /* memory budget */
    {.name = "maxmemory", .type = CFG_MEM, .off = CFG_OFF(maxmemory), .dflt = "0", .min = 0,
     .max = LLONG_MAX,
     .desc = "DRAM budget for everything the server holds (keys, values, stubs of cold keys, "
             "indexes, buffers, dictionaries); 0 = no limit."},
    {.name = "maxmemory-policy", .type = CFG_ENUM, .off = CFG_OFF(maxmemory_policy), .dflt = "noeviction",
     .enums = policy_enum,
     .desc = "Victims when over maxmemory: with a tier they are demoted, without (or when the last "
             "tier is full) evicted; noeviction answers -OOM to writes instead."},
    {.name = "maxmemory-samples", .type = CFG_INT, .off = CFG_OFF(maxmemory_samples), .dflt = "5",
     .min = 1, .max = 64, .desc = "Keys sampled per round by the approximate LRU/LFU/TTL policies."},
    {.name = "lfu-log-factor", .type = CFG_INT, .off = CFG_OFF(lfu_log_factor), .dflt = "10", .min = 0,
     .max = INT_MAX, .desc = "LFU counter growth: higher needs more hits to reach 255."},
    {.name = "lfu-decay-time", .type = CFG_INT, .off = CFG_OFF(lfu_decay_time), .dflt = "1", .min = 0,
     .max = INT_MAX, .desc = "Minutes of idleness that take one from a key's LFU counter; 0 never decays."},

    /* tiers */
    {.name = "pmem-path", .type = CFG_STRING, .flags = CFG_IMMUTABLE, .off = CFG_OFF(pmem_path),
     .dflt = "", .range_help = "path",
     .desc = "libpmemobj pool file of the PMem tier (created if absent); empty = no PMem tier."},
    {.name = "pmem-size", .type = CFG_MEM, .flags = CFG_IMMUTABLE, .off = CFG_OFF(pmem_size),
     .dflt = "1gb", .min = 8 * 1024 * 1024, .max = LLONG_MAX, .desc = "Size of a new PMem pool."},
    {.name = "pmem-on-start", .type = CFG_ENUM, .flags = CFG_IMMUTABLE, .off = CFG_OFF(pmem_on_start),
     .dflt = "attach", .enums = pmem_start_enum,
     .desc = "What start-up does with the records a previous run left in the pool: attach (warm "
             "restart: a record the recovered snapshot names, same key, generation and CRC, is the "
             "key's value again without a copy; the others are freed, logged) or clear (all freed)."},
    {.name = "pmem-cascade-watermark", .type = CFG_INT, .off = CFG_OFF(pmem_cascade_watermark), .dflt = "90",
     .min = 1, .max = 100,
     .desc = "With an SSD tier too: while the PMem pool is fuller than this (percent), its coldest keys "
             "move on to SSD (record bytes as they are), keeping room for new demotions."},
    {.name = "ssd-path", .type = CFG_STRING, .flags = CFG_IMMUTABLE, .off = CFG_OFF(ssd_path), .dflt = "",
     .range_help = "directory",
     .desc = "Directory of the SSD tier's segment files (created if absent); empty = no SSD tier."},
    {.name = "ssd-size", .type = CFG_MEM, .flags = CFG_IMMUTABLE, .off = CFG_OFF(ssd_size), .dflt = "1gb",
     .min = 4 * 1024 * 1024, .max = LLONG_MAX,
     .desc = "Bytes of segment files the SSD tier may hold; past it, compaction, then the oldest "
             "segments are evicted with their keys."},
    {.name = "ssd-segment-size", .type = CFG_MEM, .flags = CFG_IMMUTABLE, .off = CFG_OFF(ssd_segment_size),
     .dflt = "64mb", .min = 1024 * 1024, .max = 1024LL * 1024 * 1024,
     .desc = "Size of one SSD segment file (a multiple of 4 KiB)."},
    {.name = "ssd-write-buffer", .type = CFG_MEM, .flags = CFG_IMMUTABLE, .off = CFG_OFF(ssd_write_buffer),
     .dflt = "1mb", .min = 4096, .max = 1024LL * 1024 * 1024,
     .desc = "Bytes of records gathered before one aligned write to a segment (a multiple of 4 KiB)."},
    {.name = "ssd-io-threads", .type = CFG_INT, .flags = CFG_IMMUTABLE, .off = CFG_OFF(ssd_io_threads),
     .dflt = "2", .min = 1, .max = 64, .desc = "Threads that read cold keys from the SSD tier."},
    {.name = "ssd-compact-live-ratio", .type = CFG_INT, .flags = CFG_IMMUTABLE,
     .off = CFG_OFF(ssd_compact_live_ratio), .dflt = "50", .min = 1, .max = 99,
     .desc = "A full segment whose live records fall below this percent of it is compacted."},
    {.name = "ssd-direct-io", .type = CFG_BOOL, .flags = CFG_IMMUTABLE, .off = CFG_OFF(ssd_direct_io),
     .dflt = "yes", .desc = "Bypass the page cache (O_DIRECT) where the file system allows it."},
    {.name = "ssd-fsync", .type = CFG_BOOL, .flags = CFG_IMMUTABLE, .off = CFG_OFF(ssd_fsync), .dflt = "yes",
     .desc = "Sync each buffer written to a segment."},
    {.name = "ssd-flush-ms", .type = CFG_INT, .flags = CFG_IMMUTABLE, .off = CFG_OFF(ssd_flush_ms),
     .dflt = "100", .min = 1, .max = 60000,
     .desc = "A partly filled write buffer reaches the device after at most this long."},
    {.name = "ssd-on-start", .type = CFG_ENUM, .flags = CFG_IMMUTABLE, .off = CFG_OFF(ssd_on_start),
     .dflt = "attach", .enums = ssd_start_enum,
     .desc = "What start-up does with the segments a previous run left: attach (their current records "
             "are keys again; damaged records are logged and skipped) or clear (logged)."},
    {.name = "mem-tier-size", .type = CFG_MEM, .flags = CFG_IMMUTABLE, .off = CFG_OFF(mem_tier_size),
     .dflt = "0", .min = 0, .max = LLONG_MAX,
     .desc = "A heap tier of this many bytes, for tests (not counted in maxmemory); 0 = none."},
    {.name = "mem-tier-indexed", .type = CFG_BOOL, .flags = CFG_IMMUTABLE, .off = CFG_OFF(mem_tier_indexed),
     .dflt = "no",
     .desc = "The heap test tier keeps its own index, as the SSD tier does: its keys have no DRAM stub "
             "and reads of them complete on another thread."},
    {.name = "mem-tier-read-delay-us", .type = CFG_INT, .flags = CFG_IMMUTABLE,
     .off = CFG_OFF(mem_tier_read_delay_us), .dflt = "0", .min = 0, .max = 10000000,
     .desc = "An indexed heap tier's reads complete this many microseconds after they were asked for "
             "(tests of suspended clients)."},
    {.name = "tier-zstd-level", .type = CFG_INT, .off = CFG_OFF(tier_zstd_level), .dflt = "3", .min = 1,
     .max = 19, .desc = "zstd level of values demoted to a tier."},
    {.name = "tier-dict-size", .type = CFG_MEM, .flags = CFG_IMMUTABLE, .off = CFG_OFF(tier_dict_size),
     .dflt = "16kb", .min = 0, .max = 1024 * 1024,
     .desc = "Size of the trained compression dictionary for small values; 0 = no dictionary."},
    {.name = "tier-dict-value-max", .type = CFG_MEM, .flags = CFG_IMMUTABLE,
     .off = CFG_OFF(tier_dict_value_max), .dflt = "4kb", .min = 0, .max = 1024 * 1024,
     .desc = "Values up to this size are compressed with the dictionary (and sampled to train it)."},
    {.name = "tier-promote-window", .type = CFG_INT, .off = CFG_OFF(tier_promote_window), .dflt = "60",
     .min = -1, .max = INT_MAX,
     .desc = "A cold key read again within this many seconds moves back to DRAM; 0 = on every read, "
             "-1 = reads never promote (writes always do)."},
    {.name = "tier-demote-on-write", .type = CFG_BOOL, .off = CFG_OFF(tier_demote_on_write), .dflt = "no",
     .desc = "Demote every key as soon as a command has written it (the all-cold test configuration)."},

    /* persistence */
    {.name = "dir", .type = CFG_STRING, .flags = CFG_IMMUTABLE, .off = CFG_OFF(dir), .dflt = ".",
     .range_help = "directory",
     .desc = "Directory of the snapshot, the append log and the backups (created if absent)."},
    {.name = "dbfilename", .type = CFG_STRING, .off = CFG_OFF(dbfilename), .dflt = "dump.sts",
     .range_help = "file name", .desc = "The snapshot file, in dir (SAVE, BGSAVE, save rules, shutdown)."},
    {.name = "save", .type = CFG_SPECIAL, .dflt = "", .set = save_set,
     .format = save_format, .range_help = "\"\" or up to 16 pairs",
     .desc = "Snapshot rules: \"<seconds> <changes>\" pairs, a BGSAVE when at least that many "
             "changes happened in that many seconds since the last snapshot; \"\" = none (the "
             "default: a cache persists when asked to; redis.conf's \"3600 1 300 100 60 10000\" "
             "works as in Redis). SHUTDOWN and SIGTERM save when rules are set. A later value "
             "replaces the rules."},
    {.name = "stop-writes-on-bgsave-error", .type = CFG_BOOL, .off = CFG_OFF(stop_writes_on_bgsave_error),
     .dflt = "yes",
     .desc = "While the last background snapshot failed (and save rules are set), write commands "
             "answer -MISCONF."},
    {.name = "appendonly", .type = CFG_BOOL, .flags = CFG_IMMUTABLE, .off = CFG_OFF(appendonly), .dflt = "no",
     .desc = "Keep the append log: every write command that changed data, checksummed, in "
             "<dir>/<appenddirname>."},
    {.name = "appendfsync", .type = CFG_ENUM, .off = CFG_OFF(appendfsync), .dflt = "everysec",
     .enums = fsync_enum,
     .desc = "always: a reply waits until its write is durable (group commit); everysec: synced "
             "every second; no: synced every 30 s."},
    {.name = "appendfilename", .type = CFG_STRING, .flags = CFG_IMMUTABLE, .off = CFG_OFF(appendfilename),
     .dflt = "appendonly.aof", .range_help = "file name",
     .desc = "Base name of the append log's files and manifest."},
    {.name = "appenddirname", .type = CFG_STRING, .flags = CFG_IMMUTABLE, .off = CFG_OFF(appenddirname),
     .dflt = "appendonlydir", .range_help = "directory name", .desc = "The append log's directory, in dir."},
    {.name = "aof-load-truncated", .type = CFG_BOOL, .off = CFG_OFF(aof_load_truncated), .dflt = "yes",
     .desc = "A log whose last record was cut off by a crash: drop that record, log it, start (yes) "
             "or refuse to start (no)."},
    {.name = "aof-load-damaged", .type = CFG_ENUM, .off = CFG_OFF(aof_load_damaged), .dflt = "refuse",
     .enums = damaged_enum,
     .desc = "A log damaged before its end (a bad checksum with whole records after it): refuse to "
             "start, naming the file and offset, or truncate there (every later record is lost)."},
    {.name = "auto-aof-rewrite-percentage", .type = CFG_INT, .off = CFG_OFF(auto_aof_rewrite_percentage),
     .dflt = "100", .min = 0, .max = INT_MAX,
     .desc = "BGREWRITEAOF by itself when the log grew by this percent since the last rewrite; 0 = never."},
    {.name = "auto-aof-rewrite-min-size", .type = CFG_MEM, .off = CFG_OFF(auto_aof_rewrite_min_size),
     .dflt = "64mb", .min = 0, .max = LLONG_MAX, .desc = "... and is at least this big."},
    {.name = "backup-interval", .type = CFG_INT, .off = CFG_OFF(backup_interval), .dflt = "0", .min = 0,
     .max = INT_MAX,
     .desc = "Seconds between automatic backups (a snapshot kept as a timestamped file in "
             "backup-dir); 0 = none."},
    {.name = "backup-keep", .type = CFG_INT, .off = CFG_OFF(backup_keep), .dflt = "7", .min = 1, .max = 100000,
     .desc = "Backups kept; older ones are removed after each new one."},
    {.name = "backup-dir", .type = CFG_STRING, .flags = CFG_IMMUTABLE, .off = CFG_OFF(backup_dir),
     .dflt = "backups", .range_help = "directory", .desc = "Where backups go (relative to dir)."},

    /* security */
    {.name = "requirepass", .type = CFG_STRING, .flags = CFG_SENSITIVE,
     .off = CFG_OFF(requirepass), .dflt = "", .range_help = "string",
     .desc = "Password of the default user; empty = no AUTH needed."},

    /* logging */
    {.name = "loglevel", .type = CFG_ENUM, .off = CFG_OFF(loglevel), .dflt = "notice",
     .enums = loglevel_enum, .desc = "Log verbosity."},
    {.name = "logfile", .type = CFG_STRING, .flags = CFG_IMMUTABLE, .off = CFG_OFF(logfile),
     .dflt = "", .range_help = "path", .desc = "Log file path; empty = standard error."},
};

#define CFG_COUNT (sizeof(cfg_table) / sizeof(cfg_table[0]))

/* ---- helpers ---------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Prefixes err with prefix (err keeps as much of its text as fits). */
static void prefix_err(char *err, size_t errlen, const char *prefix)
{
    char tmp[2048];

    if (err == NULL || errlen == 0)
        return;
    snprintf(tmp, sizeof(tmp), "%s", err);
    snprintf(err, errlen, "%s%s", prefix, tmp);
}

static const struct cfg_def *cfg_find(const char *name)
{
    for (size_t i = 0; i < CFG_COUNT; i++)
        if (strcasecmp(cfg_table[i].name, name) == 0)
            return &cfg_table[i];
    return NULL;
}

static long long default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        return 1;
    return n > 256 ? 256 : n;
}

/* Writes v as the shortest redis.conf memory size ("1gb", "512mb", "123"). */
static void fmt_memsize(char *buf, size_t len, long long v)
{
    static const struct { const char *unit; long long mul; } units[] = {
        {"gb", 1024LL * 1024 * 1024}, {"mb", 1024LL * 1024}, {"kb", 1024}};

    for (size_t i = 0; i < 3; i++) {
        if (v != 0 && v % units[i].mul == 0) {
            snprintf(buf, len, "%lld%s", v / units[i].mul, units[i].unit);
            return;
        }
    }
    snprintf(buf, len, "%lld", v);
}

static int parse_int(const char *s, long long *out)
{
    return util_str2ll(s, strlen(s), out);
}

/* Parses one scalar value for d. Returns 0 or ST_EINVAL with the reason. */
static int parse_scalar(const struct cfg_def *d, const char *s, long long *out, char *err,
                        size_t errlen)
{
    long long v;
    char lo[32], hi[32];

    switch (d->type) {
    case CFG_BOOL:
        if (strcasecmp(s, "yes") == 0)
            v = 1;
        else if (strcasecmp(s, "no") == 0)
            v = 0;
        else {
            set_err(err, errlen, "argument must be 'yes' or 'no'");
            return ST_EINVAL;
        }
        break;
    case CFG_INT:
        if (parse_int(s, &v) != 0) {
            set_err(err, errlen, "not an integer");
            return ST_EINVAL;
        }
        if (v < d->min || v > d->max) {
            set_err(err, errlen, "argument out of range (%lld..%lld)", d->min, d->max);
            return ST_EINVAL;
        }
        if ((d->flags & CFG_POW2) && (v & (v - 1)) != 0) {
            set_err(err, errlen, "argument must be a power of two");
            return ST_EINVAL;
        }
        break;
    case CFG_MEM:
        if (util_parse_memsize(s, &v) != 0) {
            set_err(err, errlen, "not a memory size (e.g. 100mb, 1gb)");
            return ST_EINVAL;
        }
        if (v < d->min || v > d->max) {
            fmt_memsize(lo, sizeof(lo), d->min);
            if (d->max == LLONG_MAX)
                set_err(err, errlen, "argument out of range (>= %s)", lo);
            else {
                fmt_memsize(hi, sizeof(hi), d->max);
                set_err(err, errlen, "argument out of range (%s..%s)", lo, hi);
            }
            return ST_EINVAL;
        }
        break;
    case CFG_ENUM: {
        const struct cfg_enum_val *e;
        char names[256];
        size_t n = 0;

        for (e = d->enums; e->name != NULL; e++)
            if (strcasecmp(e->name, s) == 0)
                break;
        if (e->name == NULL) {
            names[0] = '\0';
            for (e = d->enums; e->name != NULL && n < sizeof(names); e++)
                n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
                                      n ? ", " : "", e->name);
            set_err(err, errlen, "argument must be one of: %s", names);
            return ST_EINVAL;
        }
        v = e->value;
        break;
    }
    default:
        set_err(err, errlen, "internal error: not a scalar");
        return ST_EINVAL;
    }
    *out = v;
    return 0;
}

/* ---- special: bind ---------------------------------------------------- */

static int bind_set(struct config *cfg, const struct cfg_def *d, char **args, int nargs,
                    char *err, size_t errlen)
{
    char *copy[CFG_MAX_BIND];
    char *old[CFG_MAX_BIND];
    int nold;

    (void)d;
    if (nargs < 1 || nargs > CFG_MAX_BIND) {
        set_err(err, errlen, "expected 1..%d addresses, got %d", CFG_MAX_BIND, nargs);
        return ST_EINVAL;
    }
    for (int i = 0; i < nargs; i++) {
        size_t len = strlen(args[i]);

        if (len == 0 || len > 255) {
            set_err(err, errlen, "invalid address '%.64s'", args[i]);
            return ST_EINVAL;
        }
    }
    for (int i = 0; i < nargs; i++) {
        copy[i] = strdup(args[i]);
        if (copy[i] == NULL) {
            while (i-- > 0)
                free(copy[i]);
            set_err(err, errlen, "out of memory");
            return ST_ENOMEM;
        }
    }
    pthread_mutex_lock(&cfg->lock);
    nold = cfg->nbind;
    for (int i = 0; i < nold; i++)
        old[i] = cfg->bind[i];
    for (int i = 0; i < CFG_MAX_BIND; i++)
        cfg->bind[i] = i < nargs ? copy[i] : NULL;
    cfg->nbind = nargs;
    pthread_mutex_unlock(&cfg->lock);
    for (int i = 0; i < nold; i++)
        free(old[i]);
    return 0;
}

/* Called with cfg->lock held. */
static void bind_format(struct config *cfg, const struct cfg_def *d, char *buf, size_t len)
{
    size_t n = 0;

    (void)d;
    buf[0] = '\0';
    for (int i = 0; i < cfg->nbind && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " " : "", cfg->bind[i]);
}

/* ---- special: client-output-buffer-limit ------------------------------ */

struct obuf_class {
    const char *name;  /* printed by CONFIG GET */
    const char *alias; /* also accepted (Redis's old name) */
    size_t hard, soft, secs;
};

static const struct obuf_class obuf_classes[] = {
    {"normal", NULL, CFG_OFF(obuf_hard), CFG_OFF(obuf_soft), CFG_OFF(obuf_soft_seconds)},
    {"replica", "slave", CFG_OFF(obuf_replica_hard), CFG_OFF(obuf_replica_soft),
     CFG_OFF(obuf_replica_soft_seconds)},
    {"pubsub", NULL, CFG_OFF(obuf_pubsub_hard), CFG_OFF(obuf_pubsub_soft),
     CFG_OFF(obuf_pubsub_soft_seconds)},
};

#define OBUF_NCLASSES (sizeof(obuf_classes) / sizeof(obuf_classes[0]))
#define OBUF_AT(cfg, off) ((long long *)(void *)((char *)(cfg) + (off)))

static int obuf_set(struct config *cfg, const struct cfg_def *d, char **args, int nargs,
                    char *err, size_t errlen)
{
    struct {
        const struct obuf_class *cls;
        long long hard, soft, secs;
    } v[CFG_MAX_ARGS / 4];
    int n = 0;

    (void)d;
    if (nargs < 4 || nargs % 4 != 0) {
        set_err(err, errlen, "expected <class> <hard> <soft> <soft-seconds>, repeated");
        return ST_EINVAL;
    }
    for (int i = 0; i < nargs; i += 4, n++) {
        const struct obuf_class *c = NULL;

        for (size_t k = 0; k < OBUF_NCLASSES; k++) {
            if (strcasecmp(args[i], obuf_classes[k].name) == 0 ||
                (obuf_classes[k].alias && strcasecmp(args[i], obuf_classes[k].alias) == 0))
                c = &obuf_classes[k];
        }
        if (c == NULL) {
            set_err(err, errlen, "invalid client class '%.64s' (normal, replica, pubsub)",
                    args[i]);
            return ST_EINVAL;
        }
        v[n].cls = c;
        if (util_parse_memsize(args[i + 1], &v[n].hard) != 0 || v[n].hard < 0 ||
            util_parse_memsize(args[i + 2], &v[n].soft) != 0 || v[n].soft < 0) {
            set_err(err, errlen, "invalid %s limit: hard and soft must be memory sizes", c->name);
            return ST_EINVAL;
        }
        if (parse_int(args[i + 3], &v[n].secs) != 0 || v[n].secs < 0 || v[n].secs > INT_MAX) {
            set_err(err, errlen, "invalid %s limit: soft-seconds must be an integer >= 0",
                    c->name);
            return ST_EINVAL;
        }
    }
    for (int i = 0; i < n; i++) {
        __atomic_store_n(OBUF_AT(cfg, v[i].cls->hard), v[i].hard, __ATOMIC_RELAXED);
        __atomic_store_n(OBUF_AT(cfg, v[i].cls->soft), v[i].soft, __ATOMIC_RELAXED);
        __atomic_store_n(OBUF_AT(cfg, v[i].cls->secs), v[i].secs, __ATOMIC_RELAXED);
    }
    return 0;
}

static void obuf_format(struct config *cfg, const struct cfg_def *d, char *buf, size_t len)
{
    size_t n = 0;

    (void)d;
    buf[0] = '\0';
    for (size_t k = 0; k < OBUF_NCLASSES && n < len; k++) {
        const struct obuf_class *c = &obuf_classes[k];

        n += (size_t)snprintf(buf + n, len - n, "%s%s %lld %lld %lld", k ? " " : "", c->name,
                              cfg_load(*OBUF_AT(cfg, c->hard)), cfg_load(*OBUF_AT(cfg, c->soft)),
                              cfg_load(*OBUF_AT(cfg, c->secs)));
    }
}

/* ---- special: save ---------------------------------------------------- */

static int save_set(struct config *cfg, const struct cfg_def *d, char **args, int nargs,
                    char *err, size_t errlen)
{
    long long secs[CFG_MAX_SAVE], changes[CFG_MAX_SAVE];
    int n = 0;

    (void)d;
    if (nargs == 1 && args[0][0] == '\0')
        nargs = 0; /* save "" */
    if (nargs % 2 != 0 || nargs / 2 > CFG_MAX_SAVE) {
        set_err(err, errlen, "expected \"\" or up to %d <seconds> <changes> pairs", CFG_MAX_SAVE);
        return ST_EINVAL;
    }
    for (int i = 0; i < nargs; i += 2, n++) {
        if (parse_int(args[i], &secs[n]) != 0 || secs[n] < 1 || secs[n] > INT_MAX ||
            parse_int(args[i + 1], &changes[n]) != 0 || changes[n] < 0 || changes[n] > LLONG_MAX / 2) {
            set_err(err, errlen, "invalid pair '%.32s %.32s': seconds >= 1, changes >= 0", args[i],
                    args[i + 1]);
            return ST_EINVAL;
        }
    }
    pthread_mutex_lock(&cfg->lock);
    for (int i = 0; i < n; i++) {
        cfg->save_secs[i] = secs[i];
        cfg->save_changes[i] = changes[i];
    }
    cfg->nsave = n;
    pthread_mutex_unlock(&cfg->lock);
    return 0;
}

static void save_format(struct config *cfg, const struct cfg_def *d, char *buf, size_t len)
{
    size_t n = 0;

    (void)d;
    buf[0] = '\0';
    /* the caller holds cfg->lock */
    for (int i = 0; i < cfg->nsave && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%lld %lld", i ? " " : "", cfg->save_secs[i],
                              cfg->save_changes[i]);
}

/* ---- applying one directive ------------------------------------------- */

/* Splits s on blanks into toks (pointers into buf, a copy of s). Returns the
 * count or -1 when there are more than max tokens. */
static int split_blanks(const char *s, char *buf, size_t buflen, char **toks, int max)
{
    int n = 0;
    char *p = buf;

    snprintf(buf, buflen, "%s", s);
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            return n;
        if (n == max)
            return -1;
        toks[n++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
        if (*p != '\0')
            *p++ = '\0';
    }
}

/* Validates and stores args for d (invariant 1). args are borrowed. */
static int cfg_apply(struct config *cfg, const struct cfg_def *d, char **args, int nargs,
                     char *err, size_t errlen)
{
    long long v;
    char reason[256];

    if (d->type == CFG_SPECIAL) {
        char buf[CFG_MAX_STRING];
        char *toks[CFG_MAX_ARGS];

        /* CONFIG SET passes "a b c" as one argument, as Redis does. */
        if (nargs == 1 && strpbrk(args[0], " \t") != NULL) {
            if (strlen(args[0]) >= sizeof(buf)) {
                set_err(err, errlen, "value too long for '%s'", d->name);
                return ST_EINVAL;
            }
            nargs = split_blanks(args[0], buf, sizeof(buf), toks, CFG_MAX_ARGS);
            if (nargs < 0) {
                set_err(err, errlen, "too many arguments for '%s'", d->name);
                return ST_EINVAL;
            }
            args = toks;
        }
        int rc = d->set(cfg, d, args, nargs, reason, sizeof(reason));
        if (rc != 0)
            set_err(err, errlen, "invalid value for '%s': %s", d->name, reason);
        return rc;
    }

    if (nargs != 1) {
        set_err(err, errlen, "wrong number of arguments for '%s' (expected 1, got %d)", d->name,
                nargs);
        return ST_EINVAL;
    }

    if (d->type == CFG_STRING) {
        char **field = CFG_FIELD(cfg, d, char *);
        char *copy, *old;

        if (strlen(args[0]) > CFG_MAX_STRING) {
            set_err(err, errlen, "value too long for '%s' (max %d bytes)", d->name,
                    CFG_MAX_STRING);
            return ST_EINVAL;
        }
        copy = strdup(args[0]);
        if (copy == NULL) {
            set_err(err, errlen, "out of memory");
            return ST_ENOMEM;
        }
        pthread_mutex_lock(&cfg->lock);
        old = *field;
        *field = copy;
        pthread_mutex_unlock(&cfg->lock);
        free(old);
        return 0;
    }

    if (parse_scalar(d, args[0], &v, reason, sizeof(reason)) != 0) {
        if (d->flags & CFG_SENSITIVE)
            set_err(err, errlen, "invalid value for '%s': %s", d->name, reason);
        else
            set_err(err, errlen, "invalid value '%.128s' for '%s': %s", args[0], d->name,
                    reason);
        return ST_EINVAL;
    }
    __atomic_store_n(CFG_FIELD(cfg, d, long long), v, __ATOMIC_RELAXED);
    return 0;
}

/* ---- public API ------------------------------------------------------- */

/* Sets every field to its default through cfg_apply. cfg is caller storage;
 * on failure everything allocated is released. Returns 0 or ST_ENOMEM. */
int config_init(struct config *cfg)
{
    char err[256];
    int rc = 0;

    memset(cfg, 0, sizeof(*cfg));
    if (pthread_mutex_init(&cfg->lock, NULL) != 0)
        return ST_ENOMEM;
    for (size_t i = 0; i < CFG_COUNT && rc == 0; i++) {
        const struct cfg_def *d = &cfg_table[i];
        char buf[UTIL_LLSTR_SIZE];
        char *arg = buf;

        if (d->dflt_fn != NULL)
            snprintf(buf, sizeof(buf), "%lld", d->dflt_fn());
        else
            arg = (char *)d->dflt;
        rc = cfg_apply(cfg, d, &arg, 1, err, sizeof(err));
    }
    if (rc != 0) {
        config_deinit(cfg);
        return rc == ST_ENOMEM ? ST_ENOMEM : ST_EINVAL; /* EINVAL: a bad table default */
    }
    return 0;
}

/* Frees the owned strings and the lock. cfg must not be in use. */
void config_deinit(struct config *cfg)
{
    for (int i = 0; i < CFG_MAX_BIND; i++) {
        free(cfg->bind[i]);
        cfg->bind[i] = NULL;
    }
    cfg->nbind = 0;
    /* every string directive, from the table: a new one cannot be forgotten */
    for (size_t i = 0; i < CFG_COUNT; i++) {
        const struct cfg_def *d = &cfg_table[i];
        if (d->type != CFG_STRING)
            continue;
        char **field = CFG_FIELD(cfg, d, char *);
        free(*field);
        *field = NULL;
    }
    pthread_mutex_destroy(&cfg->lock);
}

/* args are borrowed; at_runtime refuses CFG_IMMUTABLE. On success with
 * at_runtime set, calls cfg->on_set (if any) outside the lock. */
int config_set(struct config *cfg, const char *name, const char *const *args, int nargs,
               int at_runtime, char *err, size_t errlen)
{
    const struct cfg_def *d = cfg_find(name);
    char *argv[CFG_MAX_ARGS];
    int rc;

    if (d == NULL) {
        set_err(err, errlen, "unknown directive '%.128s'", name);
        return ST_EINVAL;
    }
    if (at_runtime && (d->flags & CFG_IMMUTABLE)) {
        set_err(err, errlen, "can't set immutable config '%s'", d->name);
        return ST_EINVAL;
    }
    if (nargs < 0 || nargs > CFG_MAX_ARGS) {
        set_err(err, errlen, "too many arguments for '%s'", d->name);
        return ST_EINVAL;
    }
    for (int i = 0; i < nargs; i++)
        argv[i] = (char *)args[i]; /* cfg_apply never writes through them */
    rc = cfg_apply(cfg, d, argv, nargs, err, errlen);
    if (rc == 0 && at_runtime && cfg->on_set != NULL)
        cfg->on_set(cfg, d->name, cfg->on_set_ud);
    return rc;
}

static int load_file_depth(struct config *cfg, const char *path, int depth, int *located,
                           char *err, size_t errlen);

/* Resolves an include path relative to the directory of the including file.
 * Returns a malloc'd path or NULL. */
static char *include_path(const char *from, const char *inc)
{
    const char *slash = strrchr(from, '/');
    size_t dirlen;
    char *p;

    if (inc[0] == '/' || slash == NULL)
        return strdup(inc);
    dirlen = (size_t)(slash - from) + 1;
    p = malloc(dirlen + strlen(inc) + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, from, dirlen);
    strcpy(p + dirlen, inc);
    return p;
}

/* Handles one line; returns 0 or an error with the reason in err. Sets
 * *located when err already names an included file and line. */
static int load_line(struct config *cfg, const char *path, int depth, char *line, size_t len,
                     int *located, char *err, size_t errlen)
{
    struct util_span spans[CFG_MAX_ARGS];
    char *args[CFG_MAX_ARGS];
    char *store;
    size_t total = 0;
    int n, rc;

    n = util_splitargs(line, len, spans, CFG_MAX_ARGS);
    if (n < 0) {
        set_err(err, errlen, "unbalanced quotes or more than %d arguments", CFG_MAX_ARGS);
        return ST_EINVAL;
    }
    if (n == 0)
        return 0;
    for (int i = 0; i < n; i++)
        total += spans[i].len + 1;
    store = malloc(total);
    if (store == NULL) {
        set_err(err, errlen, "out of memory");
        return ST_ENOMEM;
    }
    total = 0;
    for (int i = 0; i < n; i++) {
        args[i] = store + total;
        memcpy(args[i], line + spans[i].off, spans[i].len);
        args[i][spans[i].len] = '\0';
        total += spans[i].len + 1;
        if (strlen(args[i]) != spans[i].len) {
            set_err(err, errlen, "argument %d contains a NUL byte", i + 1);
            rc = ST_EINVAL;
            goto out_free;
        }
    }

    if (strcasecmp(args[0], "include") == 0) {
        char *inc;

        if (n != 2) {
            set_err(err, errlen, "wrong number of arguments for 'include' (expected 1)");
            rc = ST_EINVAL;
            goto out_free;
        }
        if (depth >= CFG_MAX_INCLUDE_DEPTH) {
            set_err(err, errlen, "includes nested deeper than %d", CFG_MAX_INCLUDE_DEPTH);
            rc = ST_EINVAL;
            goto out_free;
        }
        inc = include_path(path, args[1]);
        if (inc == NULL) {
            set_err(err, errlen, "out of memory");
            rc = ST_ENOMEM;
            goto out_free;
        }
        rc = load_file_depth(cfg, inc, depth + 1, located, err, errlen);
        if (rc == ST_ENOENT)
            rc = ST_EINVAL; /* "can't open": reported at the include line */
        free(inc);
        goto out_free;
    }

    {
        const struct cfg_def *d = cfg_find(args[0]);

        if (d == NULL) {
            set_err(err, errlen, "unknown directive '%.128s'", args[0]);
            rc = ST_EINVAL;
            goto out_free;
        }
        rc = cfg_apply(cfg, d, args + 1, n - 1, err, errlen);
    }
out_free:
    free(store);
    return rc;
}

/* Loads one file. Errors are located once, at the innermost file: at depth 0
 * "line N: reason"; in an included file "in 'path': line N: reason", which
 * the top level then prefixes with its include line. Long include chains
 * thus never push the reason out of err. Returns ST_ENOENT (unlocated) when
 * the file cannot be opened. */
static int load_file_depth(struct config *cfg, const char *path, int depth, int *located,
                           char *err, size_t errlen)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int lineno = 0, rc = 0;

    f = fopen(path, "r");
    if (f == NULL) {
        set_err(err, errlen, "can't open '%s': %s", path, strerror(errno));
        return ST_ENOENT; /* unlocated: the include line reports it */
    }
    while ((got = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)got;
        char *p = line;
        lineno++;
        if (len > CFG_MAX_LINE) {
            set_err(err, errlen, "line longer than %d bytes", CFG_MAX_LINE);
            rc = ST_EINVAL;
            break;
        }
        while (len > 0 && isspace((unsigned char)p[len - 1]))
            len--;
        while (len > 0 && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        if (len == 0 || p[0] == '#')
            continue;
        rc = load_line(cfg, path, depth, p, len, located, err, errlen);
        if (rc != 0)
            break;
    }
    if (rc != 0 && (depth == 0 || !*located)) {
        char prefix[PATH_MAX + 64];

        if (depth == 0)
            snprintf(prefix, sizeof(prefix), "line %d: ", lineno);
        else
            snprintf(prefix, sizeof(prefix), "in '%s': line %d: ", path, lineno);
        prefix_err(err, errlen, prefix);
        *located = 1;
    }
    if (rc == 0 && ferror(f)) {
        set_err(err, errlen, "error reading '%s': %s", path, strerror(errno));
        rc = ST_EINVAL;
    }
    free(line);
    fclose(f);
    return rc;
}

/* path is borrowed. Stops at the first error: directives before it stay
 * applied (main refuses to start anyway). */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    int located = 0;
    int rc = load_file_depth(cfg, path, 0, &located, err, errlen);

    return rc == ST_ENOENT ? ST_EINVAL : rc;
}

/* argv is borrowed: `--name value [value...]`, values until the next "--". */
int config_load_argv(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    int i = 0;

    while (i < argc) {
        const char *opt = argv[i];
        char prefix[160];
        int first, rc;

        if (strncmp(opt, "--", 2) != 0 || opt[2] == '\0') {
            set_err(err, errlen, "argument '%.128s': expected --directive", opt);
            return ST_EINVAL;
        }
        first = ++i;
        while (i < argc && strncmp(argv[i], "--", 2) != 0)
            i++;
        rc = config_set(cfg, opt + 2, (const char *const *)argv + first, i - first, 0, err,
                        errlen);
        if (rc != 0) {
            snprintf(prefix, sizeof(prefix), "argument '%.128s': ", opt);
            prefix_err(err, errlen, prefix);
            return rc;
        }
    }
    return 0;
}

/* Formats d's current value into buf (strings copied under the lock). */
static void cfg_format(struct config *cfg, const struct cfg_def *d, char *buf, size_t len)
{
    long long v;

    switch (d->type) {
    case CFG_SPECIAL:
        pthread_mutex_lock(&cfg->lock);
        d->format(cfg, d, buf, len);
        pthread_mutex_unlock(&cfg->lock);
        return;
    case CFG_STRING: {
        char *s;

        pthread_mutex_lock(&cfg->lock);
        s = *CFG_FIELD(cfg, d, char *);
        snprintf(buf, len, "%s", s ? s : "");
        pthread_mutex_unlock(&cfg->lock);
        return;
    }
    default:
        break;
    }
    v = cfg_load(*CFG_FIELD(cfg, d, long long));
    if (d->type == CFG_BOOL) {
        snprintf(buf, len, "%s", v ? "yes" : "no");
    } else if (d->type == CFG_ENUM) {
        const struct cfg_enum_val *e;

        for (e = d->enums; e->name != NULL && e->value != v; e++)
            ;
        snprintf(buf, len, "%s", e->name ? e->name : "");
    } else {
        snprintf(buf, len, "%lld", v);
    }
}

/* pattern is a case-insensitive glob; fn is called once per match, in table
 * order, with strings valid only during the call; no lock is held. */
void config_get(struct config *cfg, const char *pattern, config_get_fn *fn, void *ud)
{
    char buf[CFG_MAX_STRING + 1];
    size_t plen = strlen(pattern);

    for (size_t i = 0; i < CFG_COUNT; i++) {
        const struct cfg_def *d = &cfg_table[i];

        if (!util_glob_match(pattern, plen, d->name, strlen(d->name), 1))
            continue;
        cfg_format(cfg, d, buf, sizeof(buf));
        fn(d->name, buf, ud);
    }
}

/* The "range/values" column of the help table. */
static void help_range(const struct cfg_def *d, char *buf, size_t len)
{
    char lo[32], hi[32];

    switch (d->type) {
    case CFG_BOOL:
        snprintf(buf, len, "yes, no");
        break;
    case CFG_INT:
        snprintf(buf, len, "%lld..%lld%s", d->min, d->max,
                 (d->flags & CFG_POW2) ? ", power of two" : "");
        break;
    case CFG_MEM:
        fmt_memsize(lo, sizeof(lo), d->min);
        fmt_memsize(hi, sizeof(hi), d->max);
        if (d->max == LLONG_MAX)
            snprintf(buf, len, ">= %s", lo);
        else
            snprintf(buf, len, "%s..%s", lo, hi);
        break;
    case CFG_ENUM: {
        size_t n = 0;

        buf[0] = '\0';
        for (const struct cfg_enum_val *e = d->enums; e->name != NULL && n < len; e++)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", e->name);
        break;
    }
    default:
        snprintf(buf, len, "%s", d->range_help ? d->range_help : "");
        break;
    }
}

/* Writes the Markdown table; out is borrowed. */
void config_print_help(FILE *out)
{
    char range[256];

    fprintf(out, "| directive | default | range/values | runtime-settable | description |\n");
    fprintf(out, "| --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < CFG_COUNT; i++) {
        const struct cfg_def *d = &cfg_table[i];
        char dflt[160];

        if (d->dflt_help != NULL)
            snprintf(dflt, sizeof(dflt), "%s", d->dflt_help);
        else
            snprintf(dflt, sizeof(dflt), "`%s`", d->dflt[0] ? d->dflt : "\"\"");
        help_range(d, range, sizeof(range));
        fprintf(out, "| `%s` | %s | %s | %s | %s |\n", d->name, dflt, range,
                (d->flags & CFG_IMMUTABLE) ? "no" : "yes", d->desc);
    }
}
