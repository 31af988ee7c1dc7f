/*
 * maxmem.h -- the DRAM budget: how much the server holds, and what it does
 * when that passes `maxmemory` (demote or evict victims, or refuse writes).
 */
#ifndef STRATA_MAXMEM_H
#define STRATA_MAXMEM_H

#include <stdint.h>

struct client;
struct cmd_entry;
struct server;
struct worker;

/* Bytes counted against maxmemory: everything the allocator has handed out,
 * minus what the mem test tier holds. Refreshed at most once a millisecond
 * (reading the allocator's totals costs microseconds); `fresh` forces it. */
uint64_t maxmem_used(struct server *srv, int fresh);

/* Before command e runs on c: when over budget, frees what it can within a
 * bounded time (demoting, else evicting, per maxmemory-policy). Returns 0 to
 * run the command, or -1 when it must be refused with -OOM (a command that
 * may grow memory, and nothing more can be freed). */
int maxmem_before_command(struct client *c, const struct cmd_entry *e);

/* From each worker's cron: keeps freeing towards the budget in the background
 * when over it (so memory comes down without traffic). */
void maxmem_cron(struct worker *w);

/* The cascade (DRAM -> PMem -> SSD): while a stub tier (PMem) holds more than
 * pmem-cascade-watermark percent of its capacity and an indexed tier (SSD)
 * follows it, moves that tier's coldest keys (approximate LRU over sampled
 * stubs) on, record bytes unchanged, for up to budget_us. Called from the
 * cron and, one key at a time, after each demotion into such a tier. */
#define MAXMEM_CASCADE_CRON_US 2000
void maxmem_cascade(struct worker *w, int64_t budget_us);

/* After a command: moves the keys it made DRAM-resident (inserts,
 * promotions; engine/keyspace.h note_born) into the worker's queue of
 * demotion candidates. */
void maxmem_note_born(struct worker *w);

/* Frees the worker's queue (worker_destroy). */
void maxmem_worker_deinit(struct worker *w);

/* Applies the access-tracking config (LFU or not) to the keyspace. */
void maxmem_apply_config(struct server *srv);

#endif
