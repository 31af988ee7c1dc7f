/*
 * codec.h -- the zstd codec the engine uses when it demotes a value to a tier:
 * level option, per-thread contexts from a pool, and for small values a
 * dictionary trained from sampled values, retrained when the ratio drifts.
 *
 * A compressed value is one zstd frame; records name the dictionary by id
 * (tier.h: dict_id, 0 = none) and say whether the value was stored raw
 * (TIER_REC_F_RAW) because compression did not make it smaller. Every
 * dictionary ever made or loaded stays usable for decompression, so records
 * written under an old dictionary stay readable.
 *
 * Dictionaries are durable only through the tier: the codec hands each new
 * dictionary to conf.on_dict (which stores it with the tier) before any record
 * uses it, and at start the engine loads the stored ones with codec_add_dict.
 *
 * Threads: codec_compress, codec_decompress, codec_add_dict and codec_stats
 * may be called from any thread at any time; create/destroy from one thread
 * with no other call running. See codec.c for the design.
 */
#ifndef STRATA_CODEC_H
#define STRATA_CODEC_H

#include <stddef.h>
#include <stdint.h>

struct codec;

/* Called when a new dictionary is ready, before any record uses it, from the
 * thread that trained it (the codec's trainer thread, or with train_async = 0
 * the thread inside codec_compress), with no codec lock held. dict (len
 * bytes) is borrowed for the call. Returns 0 when the dictionary is stored;
 * non-zero means "not stored" and the codec then never uses it. */
typedef int codec_dict_fn(void *ud, uint32_t id, const void *dict, size_t len);

struct codec_conf {
    int level;                       /* zstd level; default 3 (0 = zstd's default, 3) */
    size_t dict_size;                /* target dictionary bytes; default 16 KiB (256 .. 16 MiB) */
    size_t small_max;                /* values up to this many bytes are "small": compressed with
                                      * the current dictionary and sampled for training; default
                                      * 4096; 0 turns dictionaries off */
    unsigned train_samples;          /* samples collected before training; default 1000 (>= 8) */
    size_t train_bytes_max;          /* cap on sample memory; default 1 MiB (>= 4 KiB) */
    double retrain_drift;            /* retrain when the recent ratio is worse than the ratio
                                      * right after training by more than this fraction;
                                      * default 0.10; negative: never retrain on drift */
    int64_t retrain_min_interval_ms; /* least time between trainings; default 60000 (>= 0) */
    unsigned drift_window;           /* dictionary compressions per recent-ratio measurement;
                                      * default 256 (>= 1) */
    int train_async;                 /* 1 (default): train on the codec's own thread; 0: inline in
                                      * the codec_compress call that completes the sample set */
    int checksum;                    /* 1: frames carry zstd's 4-byte content checksum, so any
                                      * damage decodes to ST_ECORRUPT; default 0, because every
                                      * tier record is already covered by a CRC32C (tier.h) and
                                      * without it damage may decode to wrong bytes */
    codec_dict_fn *on_dict;          /* may be NULL: every dictionary is then accepted */
    void *ud;                        /* passed to on_dict */
};

struct codec_stats {
    uint64_t compressions;       /* codec_compress calls that succeeded */
    uint64_t dict_compressions;  /* ... of which compressed with a dictionary */
    uint64_t decompressions;     /* codec_decompress calls that succeeded */
    uint64_t decompress_errors;  /* ... that answered ST_ECORRUPT or ST_ENOENT */
    uint64_t raw_in;             /* bytes given to codec_compress */
    uint64_t stored_out;         /* bytes it produced (raw values included) */
    uint64_t stored_raw;         /* values kept raw (output not smaller than input) */
    uint64_t dicts;              /* dictionaries held (made + loaded) */
    uint64_t dict_bytes;         /* DRAM they hold: raw bytes + prepared DDicts + the CDict of
                                  * the current one (ZSTD_sizeof_*) */
    uint64_t sample_bytes;       /* DRAM held by training samples */
    uint64_t ctx_bytes;          /* DRAM held by pooled contexts (measured when returned) */
    uint64_t trainings;          /* dictionaries trained and accepted */
    uint64_t train_failures;     /* ZDICT failed (too few / too uniform samples) */
    uint64_t dict_refusals;      /* on_dict answered non-zero */
    uint32_t dict_id;            /* current dictionary for compression, 0 for none */
    double train_ratio;          /* stored/raw of held-out samples with the dictionary, right
                                  * after the last training (or the first window after a load);
                                  * 0 when none */
    double train_ratio_nodict;   /* the same samples without a dictionary; 0 when none */
    double recent_ratio;         /* stored/raw of the last drift_window dictionary
                                  * compressions; 0 when none */
};

/* Fills conf with the defaults above (no callback). */
void codec_conf_init(struct codec_conf *conf);

/* Creates a codec. conf is borrowed (copied); NULL means the defaults.
 * Starts the trainer thread when conf->train_async. Returns ST_OK with *out
 * owned by the caller, ST_EINVAL (a conf field out of range), ST_ENOMEM. */
int codec_create(const struct codec_conf *conf, struct codec **out);

/* Stops the trainer thread (waiting for a training in progress), frees
 * everything and NULLs *cp. *cp may be NULL. No other call may run. */
void codec_destroy(struct codec **cp);

/* Worst-case output of codec_compress for a len-byte input: the size a
 * caller's dst needs. (Never more than len: a value that does not shrink is
 * stored raw.) */
size_t codec_bound(size_t len);

/* Compresses src[0..len) (borrowed) into dst (borrowed, cap >=
 * codec_bound(len)). Small values use the current dictionary when there is
 * one; a value whose compressed form is not smaller is copied as it is.
 * Sets *dlen (bytes written), *dict_id (0 when none was used) and *raw (1
 * when dst holds the input unchanged). Samples small values for training and
 * may train inline (train_async = 0) or wake the trainer. Returns ST_OK, or
 * ST_EINVAL (NULL pointers, cap too small); any compression failure falls
 * back to raw storage, so valid arguments always succeed. */
int codec_compress(struct codec *c, const void *src, size_t len, void *dst, size_t cap, size_t *dlen,
                   uint32_t *dict_id, int *raw);

/* Decompresses src[0..len) (borrowed), written with dictionary dict_id (0:
 * none) and raw flag raw, into dst (borrowed, rawlen bytes). Returns ST_OK
 * with exactly rawlen bytes written; ST_ENOENT (dict_id unknown);
 * ST_ECORRUPT (damaged input, or it does not decode to exactly rawlen bytes;
 * dst's contents are then unspecified); ST_ENOMEM (no context). Never reads
 * past src + len nor writes past dst + rawlen. Damage is always detected
 * when the frame carries a checksum (conf.checksum); without one, a damaged
 * literal may decode to wrong bytes of the right length (the record's CRC32C
 * is the check then). A raw value (raw = 1) is copied; dict_id is ignored. */
int codec_decompress(struct codec *c, uint32_t dict_id, int raw, const void *src, size_t len, void *dst,
                     size_t rawlen);

/* Loads a stored dictionary (dict, len bytes, borrowed and copied) under id
 * (> 0), usually at start, from the tier. The largest id held becomes the
 * current one for compression; ids of new dictionaries continue after the
 * largest seen. on_dict is not called. Returns ST_OK (also when id is already
 * held with the same bytes), ST_EEXIST (id held with other bytes), ST_EINVAL
 * (id 0, len 0 or over 16 MiB), ST_ECORRUPT (zstd refuses the dictionary),
 * ST_ENOMEM. */
int codec_add_dict(struct codec *c, uint32_t id, const void *dict, size_t len);

/* Fills *out (caller's) with a consistent-enough snapshot of the counters. */
void codec_stats(struct codec *c, struct codec_stats *out);

#endif
