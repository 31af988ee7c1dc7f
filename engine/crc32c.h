/*
 * crc32c.h -- CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78),
 * the checksum of every tier record (engine/tier.h) and of the SSD tier's and
 * snapshots' blocks.
 *
 * The usual framing (initial value ~0, final xor ~0) is inside: callers start
 * at 0 and chain, crc32c(crc32c(0, a, n), b, m) == crc32c(0, a||b, n + m).
 * crc32c(0, "123456789", 9) == 0xE3069283.
 */
#ifndef STRATA_CRC32C_H
#define STRATA_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC32C of len bytes at buf (borrowed; may be NULL when len is 0), continued
 * from crc (0 to start). Uses the SSE4.2 instruction when the CPU has it,
 * else crc32c_sw; both give the same value. Thread-safe, no state. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The CRC of a || b from crc1 = crc32c(0, a, len_a) and crc2 = crc32c(0, b,
 * len2) alone: crc32c_combine(crc1, crc2, len2) == crc32c(crc1, b, len2),
 * without b's bytes, in O(log len2) steps (zlib's crc32_combine, for this
 * polynomial). Lets a writer checksum each piece of a file once and still
 * chain a CRC over the whole (engine/snap.c). Thread-safe, no state. */
uint32_t crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);

/* The portable table-driven version (slicing-by-8). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* 1 when this CPU has the CRC32 instruction crc32c uses, else 0. */
int crc32c_hw_available(void);

/* The instruction-based version; only call it when crc32c_hw_available()
 * (on other CPUs it falls back to crc32c_sw). */
uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len);

#endif
