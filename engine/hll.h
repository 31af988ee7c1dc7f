/*
 * hll.h -- HyperLogLog values, byte-compatible with Redis's: the same header,
 * the same dense and sparse encodings, the same element hash and the same
 * estimator, so a value written by Strata reads the same in Redis (and back)
 * through GET/SET, DUMP/RESTORE or any tool. Layout and invariants are in the
 * essay at the top of hll.c.
 *
 * A HyperLogLog is a plain string value. Functions that only read or update
 * registers in place take the bytes directly (borrowed). Functions that may
 * change the length (sparse updates, promotion to dense) work on a struct
 * hll, a heap buffer this module may realloc.
 */
#ifndef STRATA_HLL_H
#define STRATA_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_P 14                          /* index bits */
#define HLL_REGISTERS (1u << HLL_P)       /* 16384 */
#define HLL_Q (64 - HLL_P)                /* 50: hash bits left for the run */
#define HLL_BITS 6                        /* bits per dense register */
#define HLL_REGISTER_MAX 63
#define HLL_HDR_SIZE 16
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) / 8) /* 12304 */
#define HLL_SPARSE_EMPTY_SIZE (HLL_HDR_SIZE + 2)                            /* 18 */
#define HLL_SPARSE_VAL_MAX 32             /* larger registers need the dense form */

enum hll_encoding {
    HLL_ENC_DENSE = 0,
    HLL_ENC_SPARSE = 1,
};

/* MurmurHash64A (Austin Appleby), as Redis uses it for elements, reading the
 * input as little-endian 64-bit blocks on every platform. */
uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed);

/* The register an element updates and the value it offers it: *index in
 * [0, HLL_REGISTERS), return value (run of zeros + 1) in [1, HLL_Q + 1]. */
unsigned hll_pattern(const void *ele, size_t len, unsigned *index);

/* 0 when v[0..len) is a HyperLogLog value as Redis accepts one (at least a
 * header, "HYLL" magic, encoding dense or sparse, and exactly
 * HLL_DENSE_SIZE bytes when dense); ST_EWRONGTYPE otherwise ("Key is not a
 * valid HyperLogLog string value."). The sparse opcodes are not checked
 * here: the operations that walk them report ST_ECORRUPT. */
int hll_check(const void *v, size_t len);

/* The encoding of a value that passed hll_check. */
enum hll_encoding hll_encoding_of(const void *v);

/* Writes the HLL_SPARSE_EMPTY_SIZE bytes of an empty sparse HyperLogLog
 * (cached cardinality 0, valid) to out, as Redis's createHLLObject. */
void hll_init_empty(void *out);

/* The cached cardinality in the header: hll_cache_get returns 1 and sets
 * *card when the cache is valid, 0 when it was invalidated. */
int hll_cache_get(const void *v, uint64_t *card);
void hll_cache_set(void *v, uint64_t card);
/* Marks the cache stale (sets the top bit of the last card byte, keeping the
 * other bytes, as Redis does). */
void hll_cache_invalidate(void *v);

/* Dense PFADD in place: v is a valid dense value (HLL_DENSE_SIZE bytes).
 * Returns 1 when a register grew, else 0. Does not touch the cache. */
int hll_dense_add(void *v, const void *ele, size_t len);

/* A HyperLogLog value in a heap buffer this module may grow (realloc). A
 * dense value never changes length, so a struct hll may also borrow a dense
 * value in place (p pointing into an entry, cap == len == HLL_DENSE_SIZE):
 * every function below then works in place, and hll_release must not be
 * called on it. */
struct hll {
    unsigned char *p;
    size_t len;
    size_t cap;
};

/* Initialises h with a copy of v[0..len). Returns 0 or ST_ENOMEM. */
int hll_load(struct hll *h, const void *v, size_t len);
/* Frees h's buffer (h may be zeroed or loaded) and zeroes h. */
void hll_release(struct hll *h);

/* PFADD of one element to h (dense or sparse; a sparse value grows past
 * sparse_max bytes only by becoming dense). Returns 1 when a register grew
 * (a sparse update also invalidates the cache), 0 when nothing changed,
 * ST_ECORRUPT when the sparse opcodes are malformed, ST_ENOMEM. */
int hll_add(struct hll *h, const void *ele, size_t len, size_t sparse_max);

/* Sets register idx to count when count is larger (same results as
 * hll_add). */
int hll_set(struct hll *h, unsigned idx, unsigned count, size_t sparse_max);

/* Converts a sparse h to dense (a dense h is left alone). Keeps the header's
 * cached cardinality bytes. Returns 1 when converted, 0 when already dense,
 * ST_ECORRUPT (h unchanged) or ST_ENOMEM. */
int hll_to_dense(struct hll *h);

/* Register-wise maximum of regs[HLL_REGISTERS] (one byte per register) and
 * the value v[0..len) (which passed hll_check), into regs. Returns 0 or
 * ST_ECORRUPT (regs then partly updated). */
int hll_merge_regs(uint8_t *regs, const void *v, size_t len);

/* PFMERGE's write: raises h's registers to regs[] in ascending order, as
 * Redis does (a sparse h may become dense on the way); with to_dense, h is
 * first made dense. Invalidates the cache. Returns 0, ST_ECORRUPT or
 * ST_ENOMEM. */
int hll_store_regs(struct hll *h, const uint8_t *regs, int to_dense, size_t sparse_max);

/* Estimated cardinality of v[0..len) (which passed hll_check) with the
 * estimator of Redis 7 (Ertl's). Returns 0 and *card, or ST_ECORRUPT for a
 * sparse value whose opcodes do not cover exactly HLL_REGISTERS registers. */
int hll_count(const void *v, size_t len, uint64_t *card);

/* The same estimator over one byte per register (PFCOUNT of several keys). */
uint64_t hll_count_regs(const uint8_t *regs);

/* Reads dense register idx of a dense value v. */
unsigned hll_dense_get(const void *v, unsigned idx);

/* PFDEBUG DECODE: writes the sparse opcodes of v[0..len) as "z:<n>" (ZERO),
 * "Z:<n>" (XZERO) and "v:<value>,<n>" (VAL) separated by single spaces into
 * out[0..cap) (NUL-terminated) and returns the length, or ST_ETOOBIG when
 * cap is too small (len * 12 + 1 is always enough). */
long hll_decode_sparse(const void *v, size_t len, char *out, size_t cap);

#endif
