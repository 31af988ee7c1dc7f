/*
 * ins.h -- the internals of strata-inspect shared by its files. Not a
 * library for anyone else: tools/strata-inspect.c, tools/ins_*.c, their unit
 * tests (tests/unit/tools/) and fuzz harnesses (tests/fuzz/fuzz_ins_*.c)
 * include it.
 *
 *   ins_out.c     the output sink (buffered, a closed pipe ends the walk
 *                 quietly) and the encoders: terminal quoting, JSON strings,
 *                 RESP commands, times and sizes for humans
 *   ins_val.c     a key's value: decompress (cold), decode (engine/serial.h),
 *                 walk its elements in a type-independent way, print it
 *                 (redis-cli shape, JSON, RESP), hash its canonical content
 *   ins_src.c     the inputs: detect what a path is (snapshot, PMem pool, SSD
 *                 directory) and walk its current keys, one callback a key
 *   ins_pool.c    the PMem pool scanner (read-only, no libpmemobj)
 *   ins_ssdd.c    the SSD segment directory reader (read-only attach rules)
 *   ins_kset.c    bounded-memory key tables in hash partitions (diff, the
 *                 duplicate-key check of verify)
 *   ins_cmd.c     verify, info, keys, get, dump
 *   ins_diff.c    diff
 *   ins_report.c  report --html
 *   strata-inspect.c  main: subcommands, options, --help
 *
 * Conventions: functions return ST_* (engine/err.h); pointers are borrowed
 * for the call unless a comment says otherwise; no global mutable state (the
 * output sink and the "now" clock travel in struct ins_ctx). Memory is flat
 * in the size of the input: one snapshot block (about 1 MiB), one window of a
 * pool or segment, one decoded value at a time, plus what a command keeps by
 * design (diff's partitions, report's top lists), each bounded and stated.
 */
#ifndef STRATA_INS_H
#define STRATA_INS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/entry.h"
#include "engine/snap.h"
#include "engine/tier.h"
#include "engine/tlimits.h"

/* ---- output (ins_out.c) ------------------------------------------------- */

/* A buffered writer over a FILE. After the first failed write (EPIPE: the
 * reader went away) every call is a no-op and out->broken says why; walks
 * check out_ok() and stop. */
struct out {
    FILE *f;
    int broken; /* 0, or the errno of the failed write (EPIPE: quiet end) */
    /* a memory sink instead of f (unit tests, fuzzers): grows, owned */
    unsigned char *mem;
    size_t mlen, mcap;
};

void out_init_file(struct out *o, FILE *f);
void out_init_mem(struct out *o);
void out_fini(struct out *o); /* frees a memory sink; flushes a file */
static inline int out_ok(const struct out *o)
{
    return !o->broken;
}
void out_write(struct out *o, const void *p, size_t n);
void out_str(struct out *o, const char *s);
void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_flush(struct out *o);

/* Terminal quoting, as redis-cli quotes replies: a string whose bytes are all
 * printable ASCII (0x21..0x7e) other than '"', '\'' and '\\' is written as
 * it is; any other (empty, spaces, quotes, backslashes, control bytes,
 * bytes >= 0x7f) is written in double quotes with \" \\ \n \r \t \a \b and
 * \xNN (two lower-case hex digits) for every other byte outside 0x20..0x7e.
 * always = 1 quotes every string (redis-cli's value replies). */
void out_quoted(struct out *o, const void *s, size_t n, int always);

/* Parses the quoted form back (what --escaped accepts): a double-quoted
 * string with the escapes above, or bytes taken as they are. Writes at most
 * n bytes into dst (the result is never longer than the input) and returns
 * the length, or -1 for a malformed quoted string. */
long ins_unquote(const char *s, size_t n, char *dst);

/* JSON: a byte string is a JSON string when it is valid UTF-8 (", \ and
 * control characters escaped, \u00XX for the others below 0x20 and 0x7f),
 * else the object {"base64":"..."} (RFC 4648, with padding). Never lossy. */
void out_json_bytes(struct out *o, const void *s, size_t n);
/* A double as JSON: finite values with %.17g (round-trip exact), infinities
 * as the strings "inf" / "-inf". */
void out_json_double(struct out *o, double d);
int ins_utf8_valid(const unsigned char *s, size_t n);

/* RESP: one command's array header and its bulk strings. */
void out_resp_array(struct out *o, uint64_t n);
void out_resp_bulk(struct out *o, const void *s, size_t n);
void out_resp_bulk_ll(struct out *o, long long v);
void out_resp_bulk_str(struct out *o, const char *s);

/* Humans: "2023-11-14 22:13:20.000 UTC" into buf (>= 32), "1.5 MiB",
 * "3h 12m". */
void ins_fmt_time(char *buf, size_t cap, int64_t ms);
void ins_fmt_bytes(char *buf, size_t cap, uint64_t n);
void ins_fmt_dur(char *buf, size_t cap, int64_t ms);

/* ---- the context every command gets --------------------------------------- */

struct ins_ctx {
    struct out *out;      /* stdout (or a memory sink) */
    FILE *err;            /* diagnostics */
    int64_t now_ms;       /* "now" for expiry (--now, default the wall clock) */
    struct type_limits lim;
    uint64_t max_value;   /* largest serialised value decoded (--max-value) */
};

/* ---- sources (ins_src.c) ------------------------------------------------ */

enum src_kind { SRC_SNAP = 1, SRC_POOL = 2, SRC_SSD = 3 };

/* Where a key's value lives, as the source says. */
enum itier { ITIER_DRAM = 0, ITIER_PMEM = 1, ITIER_SSD = 2, ITIER_OTHER = 3, ITIER_N };

#define SRC_DB_UNKNOWN 0xffffffffu /* a PMem pool records no databases */

/* One current key, borrowed from the source until the callback returns. */
struct src_key {
    uint32_t db;           /* SRC_DB_UNKNOWN for a pool */
    const char *key;
    uint32_t klen;
    int type;              /* enum obj_type; -1 when unknown (a snapshot's cold key walked
                            * without its record) */
    uint8_t tier;          /* enum itier */
    int64_t expire_ms;     /* -1 none (snapshot COLD: the index's, authoritative) */
    int cold;              /* 1: a tier record (rec, when has_rec); 0: a serialised value */
    const void *ser;       /* hot: the serialised value */
    uint32_t serlen;
    int has_rec;           /* cold: rec/r below are filled */
    const void *rec;       /* cold: the whole tier record */
    size_t reclen;
    struct tier_rec r;     /* cold: its decoded header (key/val point into rec) */
    const char *where;     /* pool/ssd: the file; snapshot: NULL */
    uint64_t off;          /* pool: the record's offset; ssd: the entry's offset */
};

/* The bytes a key's value takes, raw (serialised) and stored (hot: the same;
 * cold: the record's value bytes, compressed or not). 0 for a cold key
 * without its record. */
static inline uint64_t src_key_raw(const struct src_key *k)
{
    return k->cold ? (k->has_rec ? k->r.rawlen : 0) : k->serlen;
}
static inline uint64_t src_key_stored(const struct src_key *k)
{
    return k->cold ? (k->has_rec ? k->r.vlen : 0) : k->serlen;
}

/* What a source is and says about itself. */
struct src_info {
    int kind;               /* enum src_kind */
    const char *path;
    uint64_t size;          /* file bytes; ssd: every segment and dictionary file */
    /* snapshot */
    struct snap_meta meta;  /* header and footer (meta.keys...) */
    /* pool */
    uint64_t pool_size;
    char layout[64];        /* libpmemobj layout name */
    uint64_t pool_deleted;  /* records with magic 0 (a delete begun, or freed space), last walk */
    uint64_t pool_dicts;
    /* ssd */
    uint64_t segments, dict_files, other_files;
    uint64_t ssd_puts, ssd_notes, ssd_superseded, ssd_expired; /* last walk */
};

/* Walk callbacks. Any non-zero return stops the walk and is returned. */
struct src_cbs {
    int (*key)(void *ud, const struct src_key *k);
    /* AUX field (name, value) and DICT (dict_id, bytes: name NULL) items */
    int (*aux)(void *ud, const char *name, uint32_t nlen, const void *val, uint32_t vlen, uint32_t dict_id);
    /* pool/ssd: a damaged object or entry that the walk skipped (file, offset,
     * what); a snapshot's damage ends the walk instead (src_error) */
    int (*damage)(void *ud, const char *where, uint64_t off, const char *what);
    void *ud;
};

/* src_each flags */
#define SRC_WITH_DATA 0x1 /* cold keys come with their records (a snapshot reads COLD part B) */

struct src;

/* Opens path read-only: a snapshot (by its header or footer magic), a PMem
 * pool (the libpmemobj signature) or an SSD directory (a directory; its
 * seg-*.dat files). force (0 or an enum src_kind) skips the detection.
 * Returns ST_OK with *out (owned: src_close); ST_ENOENT (no such path),
 * ST_EINVAL (not a kind strata-inspect reads: *why says what it is),
 * ST_EIO, ST_ENOMEM, or ST_ECORRUPT (it is of a kind, but its header is
 * damaged: *out is still returned, for verify). *why is static. */
int src_open(struct ins_ctx *cx, const char *path, int force, struct src **out, const char **why);
const struct src_info *src_info(const struct src *s);

/* Walks every current key (and the aux/dict items of a snapshot), calling
 * cbs. Returns ST_OK at a clean, verified end; the callback's non-zero
 * value; ST_ECORRUPT (a snapshot's damage; src_error says where);
 * ST_EIO; ST_ENOMEM. A pool or SSD directory reports damaged objects
 * through cbs->damage and goes on. May be called more than once. */
int src_each(struct src *s, unsigned flags, const struct src_cbs *cbs);
void src_error(const struct src *s, uint64_t *off, const char **what);

/* The decoded value of k (from a walk of s with SRC_WITH_DATA, or a hot
 * key): *out owned by the caller (entry_destroy). ST_OK; ST_ECORRUPT with
 * *why (the value does not decompress or decode, its dictionary is missing,
 * its type is not the key's); ST_ETOOBIG (larger than cx->max_value);
 * ST_ENOMEM. */
int src_value(struct src *s, const struct src_key *k, struct entry **out, const char **why);

void src_close(struct src **sp);

/* "dram", "pmem", "ssd", "other"; "string" .. "hash" (or "?"). */
const char *ins_tier_name(int tier);
const char *ins_type_name(int type);
/* Parses a --type / --tier argument; -1 when unknown. */
int ins_type_parse(const char *s);
int ins_tier_parse(const char *s);

/* ---- the readers behind the sources (ins_pool.c, ins_ssdd.c) -------------- */

/* A read window over a file opened O_RDONLY (ins_src.c): [base, base + len)
 * of the file is in buf. iwin_at makes [off, off + need) available (need <=
 * fsize - off: the caller checks it against the file first, so a buffer is
 * never larger than bytes the file really holds); it reads IWIN_SIZE bytes
 * at a time and grows only for a larger object, shrinking back after. */
#define IWIN_SIZE (1u << 20)
struct iwin {
    int fd;
    uint64_t fsize;
    unsigned char *buf;
    size_t cap;
    uint64_t base;
    size_t len;
};
int iwin_at(struct iwin *w, uint64_t off, size_t need, const unsigned char **p);
void iwin_free(struct iwin *w);

/* A budget for the CRC work spent on candidates that fail (a hostile file
 * full of plausible headers): 8 x the file + 64 MiB, as engine/aof.c's scan. */
static inline uint64_t ins_scan_budget(uint64_t fsize)
{
    return 8 * fsize + (64u << 20);
}

struct codec;

/* A PMem pool file, read-only (ins_pool.c's essay). pool_open checks the
 * pool header and fills info; ST_EINVAL (*why) when it is not a libpmemobj
 * pool of Strata's layout. pool_each walks every whole record (and, first,
 * every dictionary object into c when SRC_WITH_DATA), reporting damaged
 * ones. */
struct pool;
int pool_open(const char *path, struct pool **out, struct src_info *info, const char **why);
int pool_each(struct pool *p, struct codec *c, unsigned flags, const struct src_cbs *cbs);
void pool_close(struct pool **pp);

/* An SSD tier directory, read-only (ins_ssdd.c's essay): the attach rules
 * applied without changing anything. ssdd_each calls cbs->key for every
 * current key (as of now_ms), having loaded the dictionary files into c. */
struct ssdd;
int ssdd_open(const char *path, struct ssdd **out, struct src_info *info, const char **why);
int ssdd_each(struct ssdd *d, struct codec *c, int64_t now_ms, unsigned flags, const struct src_cbs *cbs);
void ssdd_close(struct ssdd **dp);

/* ---- values (ins_val.c) ------------------------------------------------- */

struct codec;

/* Decompresses (when cold) and decodes a value; the codec holds the
 * source's dictionaries. rec is a whole, checked tier record. */
int val_decode_rec(struct codec *c, const struct tier_rec *r, const struct type_limits *lim, uint64_t max_value,
                   int64_t expire_ms, struct entry **out, const char **why);
int val_decode_ser(int type, const void *ser, size_t len, const char *key, uint32_t klen, int64_t expire_ms,
                   const struct type_limits *lim, struct entry **out, const char **why);

/* The elements of a value, whatever its type and encoding: strings once
 * (a), lists and sets per element (a), sorted sets per member (a) with its
 * score, hashes per field (a) and value (b). Bytes are borrowed for the
 * call. A non-zero return stops the walk and is returned. */
typedef int val_elem_fn(void *ud, const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
                        double score);
int val_walk(struct entry *e, val_elem_fn *fn, void *ud);
/* Elements (string: 1). */
uint64_t val_count(const struct entry *e);
/* 1 when a string value is a HyperLogLog (Redis's "HYLL" header). */
int val_is_hll(struct entry *e);

/* Prints e like redis-cli prints GET / LRANGE 0 -1 / SMEMBERS / ZRANGE 0 -1
 * WITHSCORES / HGETALL: a quoted string, or numbered lines. */
int val_print_cli(struct out *o, struct entry *e);
/* The JSON value: a string (out_json_bytes), an array of strings (list,
 * set), an array of [member, score] pairs (zset) or of [field, value]
 * pairs (hash). */
int val_print_json(struct out *o, struct entry *e);
/* The RESP commands that rebuild e under its key in the current database:
 * SET for strings; DEL then RPUSH / SADD / ZADD / HSET with at most chunk
 * elements (pairs) a command; then PEXPIREAT when it has an expiry. */
int val_print_resp(struct out *o, struct entry *e, unsigned chunk, int del_first);

/* A 128-bit hash of e's content that does not depend on its encoding or
 * on the order a set or hash happens to iterate in (sums of per-element
 * hashes) nor on where it lives: a cold record and a hot value of the same
 * content hash the same. Type is mixed in; the key and expiry are not. */
struct val_hash {
    uint64_t lo, hi;
};
int val_hash(struct entry *e, struct val_hash *out);

/* ---- key tables in hash partitions (ins_kset.c) ---------------------------- */

/* One key: its 128-bit (db, key) hash and what a command keeps about it. */
struct kent {
    uint64_t klo, khi;   /* (db, key) hash; klo == khi == 0 marks a free slot */
    uint64_t clo, chi;   /* diff: the canonical content hash (val_hash) */
    int64_t expire_ms;
    int32_t type;
    uint32_t flags;
};

struct kset {
    struct kent *v;
    size_t cap, n; /* cap a power of two, n <= 3/4 cap */
};

/* Bytes a key costs in a kset at worst (a table just grown: 3/8 full). */
#define KSET_BYTES_PER_KEY 128u

void kset_hash_key(uint32_t db, const void *key, size_t klen, uint64_t *lo, uint64_t *hi);
/* The partition of a hash, of nparts (the passes a bounded-memory command
 * makes: ceil(keys * KSET_BYTES_PER_KEY / budget)). */
static inline unsigned kset_part(uint64_t klo, unsigned nparts)
{
    return nparts <= 1 ? 0 : (unsigned)((klo >> 17) % nparts);
}
unsigned kset_parts(uint64_t keys, uint64_t budget);
/* The entry of (lo, hi), or NULL. */
struct kent *kset_find(const struct kset *k, uint64_t lo, uint64_t hi);
/* The entry of (lo, hi), added zeroed (but for the hash) when new (*fresh
 * = 1). NULL when out of memory. */
struct kent *kset_add(struct kset *k, uint64_t lo, uint64_t hi, int *fresh);
/* Empties k and sizes it for n keys without growing (ST_OK, ST_ENOMEM). */
int kset_reserve(struct kset *k, size_t n);
void kset_clear(struct kset *k);
void kset_free(struct kset *k);

/* ---- subcommands (ins_cmd.c, ins_diff.c, ins_report.c) -------------------- */

/* Parsed arguments (strata-inspect.c); -1 / NULL / 0 when not given. */
struct iargs {
    const char *pos[4];
    int npos;
    int force_kind;      /* --as */
    const char *match;   /* --match GLOB */
    int type;            /* --type */
    long long db;        /* --db */
    int tier;            /* --tier */
    int json, long_fmt, raw, escaped, value_only, no_del, include_expired, peak_rss;
    const char *format;  /* dump --format */
    const char *html;    /* report --html */
    char sep;            /* report --sep (default ':') */
    unsigned top;        /* report --top (default 20) */
    unsigned chunk;      /* dump --chunk (default 1000) */
    uint64_t mem;        /* diff/verify --mem bytes (default 256 MiB) */
    unsigned max_damage; /* verify: damage lines listed (default 20) */
};

/* Exit statuses. */
#define INS_EXIT_OK 0
#define INS_EXIT_DAMAGED 1   /* verify: damaged; diff: different; get: no such key */
#define INS_EXIT_CANNOT 2    /* cannot read / bad usage */
#define INS_EXIT_PIPE 141    /* the output pipe closed (128 + SIGPIPE), quietly */

int cmd_verify(struct ins_ctx *cx, const struct iargs *a);
int cmd_info(struct ins_ctx *cx, const struct iargs *a);
int cmd_keys(struct ins_ctx *cx, const struct iargs *a);
int cmd_get(struct ins_ctx *cx, const struct iargs *a);
int cmd_dump(struct ins_ctx *cx, const struct iargs *a);
int cmd_diff(struct ins_ctx *cx, const struct iargs *a);
int cmd_report(struct ins_ctx *cx, const struct iargs *a);

/* Shared by the subcommands: open a source, or print why not (returns the
 * exit status: INS_EXIT_OK with *out, else the status to exit with). */
int cmd_open(struct ins_ctx *cx, const struct iargs *a, const char *path, struct src **out);
/* 1 when k passes --match, --type, --db, --tier. */
int cmd_filter(const struct iargs *a, const struct src_key *k);
/* One JSON line for k and its decoded value e (dump --format json, get
 * --json): {"db":..,"key":..,"type":..,"encoding":..,"tier":..,
 * "expire_ms":..,"value":..}. */
void cmd_json_key(struct out *o, const struct src_key *k, struct entry *e);

#endif
