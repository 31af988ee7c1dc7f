/*
 * stats.h -- per-worker counters, summed when INFO runs.
 *
 * Each worker owns its struct worker_stats and is its only writer; INFO on
 * another worker reads it concurrently. Writers use STAT_ADD (a relaxed atomic
 * store of a plain add: no lock prefix on x86, no data race in C11), readers
 * STAT_GET. CONFIG RESETSTAT does not zero other threads' counters: it records
 * the current sums as a baseline that INFO subtracts.
 */
#ifndef STRATA_STATS_H
#define STRATA_STATS_H

#include <stdint.h>

#define STAT_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)
#define STAT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

struct cmd_stat {
    uint64_t calls;
    uint64_t usec;
    uint64_t rejected_calls; /* refused before running: arity, auth, ... */
    uint64_t failed_calls;   /* ran and replied an error */
};

#define STATS_MAX_ERROR_CODES 64
struct error_stat {
    char code[32];           /* "ERR", "WRONGTYPE"; empty = free slot */
    uint64_t count;
};

struct worker_stats {
    uint64_t connections_received;
    uint64_t rejected_connections;
    uint64_t commands_processed;
    uint64_t net_input_bytes;
    uint64_t net_output_bytes;
    uint64_t keyspace_hits;
    uint64_t keyspace_misses;
    uint64_t error_replies;
    uint64_t client_qbuf_limit_disconnections;
    uint64_t client_output_limit_disconnections;
    uint64_t protocol_errors;
    uint64_t expired_keys_active;
    uint64_t expire_cycle_us;
    uint64_t evicted_keys;
    uint64_t oom_rejections;     /* commands refused with -OOM */
    uint64_t cascade_moves;      /* keys moved PMem -> SSD by the cascade (maxmem.c) */
    struct cmd_stat *cmds;   /* [cmd_table.n], owned */
    struct error_stat errors[STATS_MAX_ERROR_CODES];
};

#endif
