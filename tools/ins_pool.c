/*
 * ins_pool.c -- the PMem tier's pool file (tiers/pmem.c), read-only, without
 * libpmemobj: pmemobj_open maps a pool for writing and may replay its redo
 * logs, so strata-inspect never calls it. The records are self-validating,
 * which makes a plain scan of the file enough to find them.
 *
 * What it owns: the scan. Not the pool's allocator metadata (libpmemobj's),
 * which it does not parse: it cannot tell an allocated object from freed
 * space, and does not need to, because the tier zeroes a record's magic
 * before it frees it (tiers/pmem.c invariant 3).
 *
 * What it reads (docs/formats.md "The PMem pool"):
 *
 *   offset 0      "PMEMOBJ\0"              libpmemobj's pool header signature
 *   offset 4096   the layout name, NUL-terminated, "strata-ptier-1"
 *   offset >= 4096, every 16-aligned offset: an object's first bytes may be
 *     "STR1"  a tier record (engine/tier.h): 44-byte header, key, value, its
 *             CRC32C over [8, 44 + klen + vlen)
 *     "STD1"  a dictionary object: u32 crc of [8, 16 + len), u32 id, u32 len,
 *             the dictionary
 *     0       with a whole record behind it (lengths, flags, CRC of [8, end)
 *             all right) and libpmemobj's compact allocation header before
 *             it naming type 1: a record whose delete had begun (magic
 *             zeroed, persisted, free not yet done) or freed space; counted
 *             as "deleted", never listed.
 *   Each object sits behind a 16-byte allocation header {u64 size | flags,
 *   u64 type number}; the scan reads it only for the magic-0 case.
 *
 * Invariants:
 *  1. The file is opened O_RDONLY and read with pread: nothing is mapped,
 *     locked or written.
 *  2. A record is reported only when its magic, lengths (in 64 bits against
 *     the bytes left in the file), flags, reserved bytes and CRC are right
 *     (tier_rec_decode); a dictionary only with its CRC. After a whole
 *     record the scan continues past its end (16-aligned), so bytes inside a
 *     record's value are never taken for objects.
 *  3. A "STR1" whose header or CRC is wrong is reported as damage at its
 *     offset and the scan goes on 16 bytes later (it may be real damage, or
 *     "STR1" text inside freed space: the report says "candidate").
 *  4. Bounded work and memory: one window (IWIN_SIZE) plus the largest
 *     object, never more than the file holds; the CRC work spent on
 *     candidates that fail is capped (ins_scan_budget), past which the scan
 *     stops with a damage report rather than run for hours.
 *
 * A pool records no databases (the DRAM stubs knew them): keys come with db
 * SRC_DB_UNKNOWN. Threads: one. Durability: nothing is written.
 *
 * References: tiers/pmem.c's essay; PMDK's memblock.h (the compact
 * allocation header) and pool_hdr.h (the signature).
 */
#include "tools/ins.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/codec.h"
#include "engine/crc32c.h"
#include "engine/err.h"

#define POOL_SIG "PMEMOBJ"
#define POOL_LAYOUT_OFF 4096u
#define POOL_FIRST 4096u
#define POOL_ALIGN 16u
#define DICT_MAGIC 0x31445453u /* "STD1" */
#define DICT_HDR 16u
#define DICT_MAX (16u << 20)

struct pool {
    int fd;
    uint64_t size;
    char *path;
    struct src_info *info;
};

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

int pool_open(const char *path, struct pool **out, struct src_info *info, const char **why)
{
    struct pool *p;
    struct stat st;
    unsigned char sig[8], layout[1024];

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (!p || !(p->path = strdup(path))) {
        free(p);
        return ST_ENOMEM;
    }
    p->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (p->fd < 0) {
        int e = errno;
        pool_close(&p);
        *why = e == ENOENT ? "no such file" : "cannot be opened";
        return e == ENOENT ? ST_ENOENT : ST_EIO;
    }
    if (fstat(p->fd, &st) != 0) {
        pool_close(&p);
        return ST_EIO;
    }
    p->size = (uint64_t)st.st_size;
    info->size = info->pool_size = p->size;
    p->info = info;
    if (p->size < POOL_LAYOUT_OFF + sizeof(layout) || pread(p->fd, sig, 8, 0) != 8 ||
        memcmp(sig, POOL_SIG, 8) != 0) {
        *why = "is not a libpmemobj pool (no PMEMOBJ signature, or shorter than its header)";
        pool_close(&p);
        return ST_EINVAL;
    }
    if (pread(p->fd, layout, sizeof(layout), POOL_LAYOUT_OFF) != (ssize_t)sizeof(layout)) {
        pool_close(&p);
        return ST_EIO;
    }
    layout[sizeof(layout) - 1] = 0;
    snprintf(info->layout, sizeof(info->layout), "%.63s", (const char *)layout);
    if (strcmp((const char *)layout, "strata-ptier-1") != 0) {
        *why = "is a libpmemobj pool of another layout than strata-ptier-1";
        pool_close(&p);
        return ST_EINVAL;
    }
    *out = p;
    return ST_OK;
}

void pool_close(struct pool **pp)
{
    struct pool *p = *pp;

    if (!p)
        return;
    if (p->fd >= 0)
        close(p->fd);
    free(p->path);
    free(p);
    *pp = NULL;
}

/* Plausible record header at h (44 bytes): lengths within the file from
 * off, known flags, zero reserved bytes. Returns the record's length or 0. */
static uint64_t rec_plausible(const unsigned char *h, uint64_t off, uint64_t fsize)
{
    uint64_t klen = rd32(h + 24), vlen = rd32(h + 28);
    uint64_t total = TIER_REC_HDR + klen + vlen;

    if (klen == 0 || klen > TIER_KEY_MAX || (h[41] & ~TIER_REC_F_RAW) || h[42] || h[43])
        return 0;
    if (total > fsize - off)
        return 0;
    return total;
}

struct scan {
    struct pool *p;
    struct codec *codec;
    const struct src_cbs *cbs;
    int dicts_only;
    int keys; /* call cbs->key */
    uint64_t budget;
    uint64_t deleted, dicts;
};

static int on_dict(struct scan *sc, uint64_t pos, const unsigned char *o)
{
    uint32_t id = rd32(o + 8), len = rd32(o + 12);
    if (sc->codec)
        codec_add_dict(sc->codec, id, o + DICT_HDR, len);
    sc->dicts++;
    if (sc->cbs->aux)
        return sc->cbs->aux(sc->cbs->ud, NULL, 0, o + DICT_HDR, len, id);
    (void)pos;
    return 0;
}

static int pool_scan(struct scan *sc)
{
    struct pool *p = sc->p;
    struct iwin w = {.fd = p->fd, .fsize = p->size};
    const unsigned char *h;
    uint64_t pos = POOL_FIRST;
    int rc = ST_OK;

    while (pos + 16 <= p->size) {
        if ((rc = iwin_at(&w, pos, 16, &h)) != ST_OK)
            break;
        uint32_t m = rd32(h);
        if (m == DICT_MAGIC) {
            uint64_t len = rd32(h + 12);
            if (len == 0 || len > DICT_MAX || DICT_HDR + len > p->size - pos) {
                if (!sc->dicts_only && sc->cbs->damage &&
                    (rc = sc->cbs->damage(sc->cbs->ud, p->path, pos, "dictionary candidate with impossible length")))
                    break;
                pos += POOL_ALIGN;
                continue;
            }
            if (sc->budget < len) {
                rc = ST_ECORRUPT;
                break;
            }
            if ((rc = iwin_at(&w, pos, (size_t)(DICT_HDR + len), &h)) != ST_OK)
                break;
            if (crc32c(0, h + 8, (size_t)(8 + len)) == rd32(h + 4) && rd32(h + 8) != 0) {
                if ((rc = on_dict(sc, pos, h)) != 0)
                    break;
                pos += (DICT_HDR + len + POOL_ALIGN - 1) & ~(uint64_t)(POOL_ALIGN - 1);
                continue;
            }
            sc->budget -= len;
            if (!sc->dicts_only && sc->cbs->damage &&
                (rc = sc->cbs->damage(sc->cbs->ud, p->path, pos, "dictionary candidate whose CRC does not match")))
                break;
            pos += POOL_ALIGN;
            continue;
        }
        if (sc->dicts_only || (m != TIER_REC_MAGIC && m != 0) || p->size - pos < TIER_REC_HDR) {
            pos += POOL_ALIGN;
            continue;
        }
        if (m == 0) {
            /* a deleted record? only behind an allocation header of type 1 */
            const unsigned char *ah;
            if (pos < POOL_FIRST + 16 || (rc = iwin_at(&w, pos - 16, 16 + TIER_REC_HDR, &ah)) != ST_OK) {
                rc = ST_OK;
                pos += POOL_ALIGN;
                continue;
            }
            if (rd64(ah + 8) != 1 || rd32(ah + 16 + 24) == 0) {
                pos += POOL_ALIGN;
                continue;
            }
        }
        if ((rc = iwin_at(&w, pos, TIER_REC_HDR, &h)) != ST_OK)
            break;
        uint64_t total = rec_plausible(h, pos, p->size);
        if (!total) {
            if (m == TIER_REC_MAGIC && sc->cbs->damage &&
                (rc = sc->cbs->damage(sc->cbs->ud, p->path, pos,
                                      "record candidate with impossible lengths, flags or reserved bytes")))
                break;
            pos += POOL_ALIGN;
            continue;
        }
        if (sc->budget < total) {
            rc = ST_ECORRUPT;
            break;
        }
        if ((rc = iwin_at(&w, pos, (size_t)total, &h)) != ST_OK)
            break;
        int whole = crc32c(0, h + 8, (size_t)total - 8) == rd32(h + 4);
        if (!whole) {
            sc->budget -= total;
            if (m == TIER_REC_MAGIC && sc->cbs->damage &&
                (rc = sc->cbs->damage(sc->cbs->ud, p->path, pos, "record candidate whose CRC does not match")))
                break;
            pos += POOL_ALIGN;
            continue;
        }
        if (m == 0) {
            sc->deleted++;
        } else if (sc->keys && sc->cbs->key) {
            struct src_key k = {.db = SRC_DB_UNKNOWN, .tier = ITIER_PMEM, .cold = 1, .has_rec = 1, .rec = h,
                                .reclen = (size_t)total, .where = p->path, .off = pos};
            size_t used;
            tier_rec_decode(h, (size_t)total, &k.r, &used); /* checked above */
            k.key = k.r.key;
            k.klen = k.r.klen;
            k.type = k.r.type;
            k.expire_ms = k.r.expire_ms;
            if ((rc = sc->cbs->key(sc->cbs->ud, &k)) != 0)
                break;
        }
        pos += (total + POOL_ALIGN - 1) & ~(uint64_t)(POOL_ALIGN - 1);
    }
    if (rc == ST_ECORRUPT && sc->cbs->damage)
        sc->cbs->damage(sc->cbs->ud, p->path, pos,
                        "scan stopped: too much CRC work on damaged candidates (a hostile or wiped file?)");
    iwin_free(&w);
    return rc;
}

int pool_each(struct pool *p, struct codec *c, unsigned flags, const struct src_cbs *cbs)
{
    struct src_cbs quiet = {.ud = cbs->ud};
    struct scan sc = {.p = p, .codec = c, .cbs = cbs, .keys = 1, .budget = ins_scan_budget(p->size)};
    int rc;

    if (flags & SRC_WITH_DATA) {
        /* dictionaries first: they may sit anywhere in the pool */
        struct scan d = {.p = p, .codec = c, .cbs = &quiet, .dicts_only = 1, .budget = sc.budget};
        rc = pool_scan(&d);
        if (rc != ST_OK)
            return rc;
    }
    rc = pool_scan(&sc);
    p->info->pool_deleted = sc.deleted;
    p->info->pool_dicts = sc.dicts;
    return rc;
}
