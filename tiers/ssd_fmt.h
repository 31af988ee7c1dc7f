/*
 * ssd_fmt.h -- the SSD tier's on-device format (tiers/ssd_fmt.c has the
 * byte-by-byte description): segment headers, entry framing, note payloads,
 * dictionary files and file names. Pure functions: no I/O, no allocation,
 * no state; any thread.
 *
 * Internal to the SSD tier (tiers/ssd*.c and its tests).
 */
#ifndef STRATA_TIERS_SSD_FMT_H
#define STRATA_TIERS_SSD_FMT_H

#include <stddef.h>
#include <stdint.h>

#define SFMT_BLOCK 4096u            /* every write is this aligned, in offset and length */
#define SFMT_SEG_MAGIC "STRSEG01"   /* 8 bytes at offset 0 of a segment */
#define SFMT_VERSION 1u
#define SFMT_HDR_SIZE 4096u         /* the segment header block; entries start here */
#define SFMT_SEG_MIN (1u << 20)     /* segment_size bounds */
#define SFMT_SEG_MAX (1u << 30)
#define SFMT_SEG_F_COMPACT 0x1u     /* header flag: written by compaction */

#define SFMT_ENT_MAGIC 0x544e4553u  /* "SENT" as a little-endian u32 */
#define SFMT_ENT_HDR 32u
#define SFMT_ALIGN 8u

/* Entry kinds. */
#define SFMT_PUT 1u     /* payload: one STR1 record (engine/tier.h), bytes as given */
#define SFMT_DEL 2u     /* payload: the key; "this key was dropped at seq" */
#define SFMT_SWAPDB 3u  /* payload: u16 a, u16 b, u32 0 */
#define SFMT_FLUSHDB 4u /* no payload; db = the database, or SFMT_DB_ALL */
#define SFMT_DB_ALL 0xffffu

/* Expiry classes (segment header field "class"): one open segment each. */
#define SFMT_CLASS_NONE 0u  /* records without expiry */
#define SFMT_CLASS_1M 1u    /* remaining TTL < 1 minute */
#define SFMT_CLASS_10M 2u   /* < 10 minutes */
#define SFMT_CLASS_1H 3u    /* < 1 hour */
#define SFMT_CLASS_1D 4u    /* < 1 day */
#define SFMT_CLASS_LONG 5u  /* >= 1 day */
#define SFMT_CLASS_NOTES 6u /* DEL, SWAPDB and FLUSHDB notes only */
#define SFMT_NCLASSES 7u

/* Dictionary files. */
#define SFMT_DICT_MAGIC 0x31434453u /* "SDC1" */
#define SFMT_DICT_HDR 16u

struct sfmt_seg_hdr {
    uint64_t seq;          /* unique, increasing per segment created */
    int64_t created_ms;    /* unix ms */
    uint64_t segment_size; /* the file never grows past this */
    uint32_t cls;          /* SFMT_CLASS_* */
    uint32_t flags;        /* SFMT_SEG_F_* */
};

/* Writes the header block (SFMT_HDR_SIZE bytes at block, caller's) for h. */
void sfmt_seg_hdr_encode(const struct sfmt_seg_hdr *h, void *block);

/* Checks the header block at block (len bytes readable, borrowed): magic,
 * version, CRC, zero reserved bytes, class, segment_size in bounds. ST_OK
 * with *out filled, or ST_ECORRUPT. */
int sfmt_seg_hdr_decode(const void *block, size_t len, struct sfmt_seg_hdr *out);

/* A decoded entry; payload borrows the buffer it was decoded from. */
struct sfmt_ent {
    uint32_t len; /* whole entry before padding */
    uint8_t kind;
    uint8_t flags;
    uint16_t db;
    uint64_t seq;
    uint32_t seg_seq_lo;
    const unsigned char *payload;
    uint32_t plen; /* len - SFMT_ENT_HDR */
};

/* Bytes an entry with plen payload bytes takes, padding included. */
static inline size_t sfmt_ent_size(size_t plen)
{
    return (SFMT_ENT_HDR + plen + SFMT_ALIGN - 1) & ~(size_t)(SFMT_ALIGN - 1);
}

/* Writes the entry (header, payload, zero padding: sfmt_ent_size(plen)
 * bytes at dst, caller's) with its CRC. payload is borrowed and must not
 * overlap dst unless it already sits at dst + SFMT_ENT_HDR (then it is left
 * in place). */
void sfmt_ent_encode(unsigned char *dst, uint8_t kind, uint16_t db, uint64_t seq, uint32_t seg_seq_lo,
                     const void *payload, size_t plen);

/* Rewrites the segment generation of the whole, valid entry at ent (in
 * place) and its CRC: a PUT moved by compaction. */
void sfmt_ent_restamp(unsigned char *ent, uint32_t seg_seq_lo);

/* Checks the framing of the entry at buf (avail bytes readable, borrowed),
 * which may be at most max_len bytes long (the room left in its segment).
 * ST_OK with *out; ST_EAGAIN when the header is plausible but the entry
 * needs *need > avail bytes (read more and call again; at the end of the
 * file that is a truncated entry); ST_ECORRUPT (bad magic, length, kind,
 * flags, reserved bytes, payload shape or CRC). The PUT payload's own
 * record checks are sfmt_put_check's. */
int sfmt_ent_decode(const void *buf, size_t avail, uint64_t max_len, struct sfmt_ent *out, size_t *need);

/* The STR1 record of a decoded PUT entry: ST_OK when the payload decodes
 * (tier_rec_decode, CRC included) as exactly one record, else ST_ECORRUPT.
 * rec (may be NULL) borrows e's payload. */
struct tier_rec;
int sfmt_put_check(const struct sfmt_ent *e, struct tier_rec *rec);

/* SWAPDB payload (8 bytes at p, caller's) and its decoding from e. */
void sfmt_swap_payload(unsigned char *p, uint16_t a, uint16_t b);
int sfmt_swap_decode(const struct sfmt_ent *e, uint16_t *a, uint16_t *b);

/* Dictionary file header (SFMT_DICT_HDR bytes at hdr, caller's) for the
 * dictionary dict (len bytes, borrowed): the file is header then dict. */
void sfmt_dict_hdr_encode(unsigned char *hdr, uint32_t id, const void *dict, uint32_t len);

/* Checks a whole dictionary file image (buf, n bytes, borrowed): ST_OK with
 * *id, *dict (into buf) and *len, or ST_ECORRUPT. */
int sfmt_dict_decode(const void *buf, size_t n, uint32_t *id, const void **dict, uint32_t *len);

/* The database notes of a directory (SWAPDB, FLUSHDB), as attach applies
 * them: collected from the notes segments, sorted by seq, then asked where
 * an entry (seq, db) ends up. Shared by the tier's attach and strata-inspect
 * so that both read a directory by the same rule. */
struct sfmt_dbnote {
    uint64_t seq;
    uint8_t kind;
    uint16_t a, b; /* SWAPDB: a, b; FLUSHDB: a = db or SFMT_DB_ALL */
};
struct sfmt_dbnotes {
    struct sfmt_dbnote *v;
    size_t n, cap;
};
/* Keeps e when it is a SWAPDB or FLUSHDB note (a SWAPDB whose payload does
 * not decode is skipped). ST_OK or ST_ENOMEM. */
int sfmt_dbnotes_add(struct sfmt_dbnotes *l, const struct sfmt_ent *e);
void sfmt_dbnotes_sort(struct sfmt_dbnotes *l);
/* The database an entry (seq, db) is in after every later note, or -1 if a
 * later FLUSHDB removed it. After sfmt_dbnotes_sort. */
int sfmt_dbnotes_final_db(const struct sfmt_dbnotes *l, uint64_t seq, int db);
void sfmt_dbnotes_free(struct sfmt_dbnotes *l);

/* File names (no directory). Writers return the name's length (buf must
 * hold SFMT_NAME_MAX bytes); parsers return 1 with the number, else 0. */
#define SFMT_NAME_MAX 40
int sfmt_seg_name(char *buf, uint64_t seq);
int sfmt_seg_name_parse(const char *name, uint64_t *seq);
int sfmt_dict_name(char *buf, uint32_t id);
int sfmt_dict_name_parse(const char *name, uint32_t *id);
/* 1 for a temporary file a writer of this format leaves behind on a crash
 * ("*.tmp"). */
int sfmt_is_tmp_name(const char *name);

#endif
