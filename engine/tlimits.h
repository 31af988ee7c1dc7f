/*
 * tlimits.h -- the thresholds at which small collections leave their compact
 * encodings. The server fills one from its configuration for each command
 * (server_type_limits); engine type code takes it as a parameter and holds no
 * configuration of its own.
 */
#ifndef STRATA_TLIMITS_H
#define STRATA_TLIMITS_H

#include <stdint.h>

struct type_limits {
    uint32_t hash_max_lp_entries;
    uint32_t hash_max_lp_value;
    int32_t list_max_lp_size;     /* > 0 entries per node; -1..-5 bytes (4..64 KB) */
    uint32_t set_max_intset_entries;
    uint32_t set_max_lp_entries;
    uint32_t set_max_lp_value;
    uint32_t zset_max_lp_entries;
    uint32_t zset_max_lp_value;
    uint32_t hll_sparse_max_bytes;
};

/* Redis's defaults, for unit tests and tools. */
#define TYPE_LIMITS_DEFAULT                                                                          \
    {                                                                                                \
        .hash_max_lp_entries = 512, .hash_max_lp_value = 64, .list_max_lp_size = -2,                 \
        .set_max_intset_entries = 512, .set_max_lp_entries = 128, .set_max_lp_value = 64,            \
        .zset_max_lp_entries = 128, .zset_max_lp_value = 64, .hll_sparse_max_bytes = 3000            \
    }

#endif
