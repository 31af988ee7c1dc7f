/*
 * ins_ssdd.c -- the SSD tier's directory (tiers/ssd*.c), read-only: the
 * attach rules of tiers/ssd_attach.c applied without removing, creating or
 * writing anything, so that strata-inspect lists exactly the keys a server
 * attaching the directory now would find.
 *
 * What it owns: the read-only walk. The format and its checks are
 * tiers/ssd_fmt.c's (linked alone, as the strata_ssd_fmt library: no
 * libpmemobj, no tier threads); the rules are ssd_attach.c's, restated:
 *
 *  1. Dictionary files dict-<id>.zd: checked whole (sfmt_dict_decode, the id
 *     the name says); a damaged one is reported (attach would remove it).
 *     *.tmp files are counted, not read (attach removes them).
 *  2. Segment files seg-<seq>.dat: the 4096-byte header must decode, name
 *     the file's seq, and the file must not be longer than its
 *     segment_size; otherwise the segment is reported and skipped (attach
 *     would remove it).
 *  3. Notes segments (class 6): SWAPDB and FLUSHDB notes, sorted by seq. An
 *     entry's database is its db field mapped through every later SWAPDB;
 *     a later FLUSHDB of that database (or of all) removes it.
 *  4. DEL notes and PUT entries go into a table keyed by (final db, 128-bit
 *     key hash): for each key the entry with the highest seq wins (the
 *     first one met among equal seqs: a PUT that compaction copied keeps its
 *     seq, and only one copy is the winner). Damaged entries are reported
 *     with segment and offset (the first of a damaged stretch) and skipped
 *     8 bytes at a time; a PUT whose record fails its own checks too.
 *  5. Current keys: winners that are PUTs whose expiry has not passed at
 *     now_ms (attach keeps some expired ones indexed only to write their DEL
 *     notes later; no reader ever sees them). A third pass over the PUT
 *     segments hands each winner to the caller, in segment order, with its
 *     record read from the device.
 *
 * Invariants:
 *  1. Every file is opened O_RDONLY; the directory is only listed.
 *  2. Memory: the winners table, 48 bytes per distinct (db, key) the
 *     directory holds (at most 3/4 full: about 64 bytes a key; the tier's own
 *     DRAM index is about 11), the notes, and one window of a segment (plus
 *     the largest entry, never more than the file holds).
 *  3. Bounded work: the CRC work on entries that fail is capped per segment
 *     (ins_scan_budget); past it the segment's rest is reported and skipped.
 *  4. 128-bit key hashes: two keys of one database colliding would count as
 *     one (probability about n^2 / 2^129; attach's 64-bit table: n^2 / 2^65).
 *
 * Threads: one. Durability: nothing is written.
 */
#include "tools/ins.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "engine/codec.h"
#include "engine/err.h"
#include "tiers/ssd_fmt.h"

#define DICT_FILE_MAX (SFMT_DICT_HDR + (16u << 20))

struct sseg {
    uint64_t seq;
    char *name;  /* path */
    uint64_t size;
    uint64_t seg_size;
    uint32_t cls;
    int ok;      /* the header passed */
};

struct sdict {
    uint32_t id;
    char *name;
};

struct ssdd {
    char *dir;
    struct sseg *segs;
    size_t nsegs;
    struct sdict *dicts;
    size_t ndicts;
    struct src_info *info;
};

/* ---- the winners table -------------------------------------------------------- */

struct went {
    uint64_t hlo, hhi;
    uint64_t seq;
    uint64_t off;  /* PUT: entry offset */
    uint32_t seg;  /* PUT: index in segs, +1; 0 = empty slot */
    uint16_t db;
    uint8_t kind;
    uint8_t used;
};

struct wtab {
    struct went *v;
    size_t cap, n;
};

static size_t wpos(const struct wtab *t, uint64_t hlo, uint16_t db)
{
    uint64_t x = hlo ^ ((uint64_t)db * 0x9E3779B97F4A7C15ull);
    x ^= x >> 31;
    return (size_t)(x & (t->cap - 1));
}

static struct went *wfind(const struct wtab *t, uint64_t hlo, uint64_t hhi, uint16_t db)
{
    if (!t->cap)
        return NULL;
    for (size_t p = wpos(t, hlo, db);; p = (p + 1) & (t->cap - 1)) {
        struct went *e = &t->v[p];
        if (!e->used)
            return NULL;
        if (e->hlo == hlo && e->hhi == hhi && e->db == db)
            return e;
    }
}

static int wgrow(struct wtab *t)
{
    size_t nc = t->cap ? t->cap * 2 : 4096;
    struct went *nv = calloc(nc, sizeof(*nv)), *old = t->v;
    size_t oc = t->cap;

    if (!nv)
        return ST_ENOMEM;
    t->v = nv;
    t->cap = nc;
    for (size_t i = 0; i < oc; i++) {
        if (!old[i].used)
            continue;
        size_t p = wpos(t, old[i].hlo, old[i].db);
        while (t->v[p].used)
            p = (p + 1) & (nc - 1);
        t->v[p] = old[i];
    }
    free(old);
    return ST_OK;
}

static int wput(struct wtab *t, const struct went *in)
{
    if ((t->n + 1) * 4 > t->cap * 3 && wgrow(t) != ST_OK)
        return ST_ENOMEM;
    size_t p = wpos(t, in->hlo, in->db);
    for (;; p = (p + 1) & (t->cap - 1)) {
        struct went *e = &t->v[p];
        if (!e->used) {
            *e = *in;
            e->used = 1;
            t->n++;
            return ST_OK;
        }
        if (e->hlo == in->hlo && e->hhi == in->hhi && e->db == in->db) {
            if (in->seq > e->seq) {
                *e = *in;
                e->used = 1;
            }
            return ST_OK;
        }
    }
}

/* ---- the directory ---------------------------------------------------------------- */

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct sseg *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int ssdd_open(const char *path, struct ssdd **out, struct src_info *info, const char **why)
{
    struct ssdd *d;
    DIR *dh;
    struct dirent *de;
    size_t scap = 0, dcap = 0;
    int rc = ST_OK;

    *out = NULL;
    dh = opendir(path);
    if (!dh) {
        *why = errno == ENOENT ? "no such directory" : "cannot be listed";
        return errno == ENOENT ? ST_ENOENT : ST_EIO;
    }
    d = calloc(1, sizeof(*d));
    if (!d || !(d->dir = strdup(path))) {
        free(d);
        closedir(dh);
        return ST_ENOMEM;
    }
    d->info = info;
    while ((de = readdir(dh)) != NULL) {
        uint64_t seq;
        uint32_t id;
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = join(path, de->d_name);
        if (!p) {
            rc = ST_ENOMEM;
            break;
        }
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            info->other_files++;
            free(p);
            continue;
        }
        info->size += (uint64_t)st.st_size;
        if (sfmt_seg_name_parse(de->d_name, &seq)) {
            if (d->nsegs == scap) {
                size_t nc = scap ? scap * 2 : 16;
                struct sseg *v = realloc(d->segs, nc * sizeof(*v));
                if (!v) {
                    free(p);
                    rc = ST_ENOMEM;
                    break;
                }
                d->segs = v;
                scap = nc;
            }
            d->segs[d->nsegs++] = (struct sseg){.seq = seq, .name = p, .size = (uint64_t)st.st_size};
            info->segments++;
        } else if (sfmt_dict_name_parse(de->d_name, &id)) {
            if (d->ndicts == dcap) {
                size_t nc = dcap ? dcap * 2 : 8;
                struct sdict *v = realloc(d->dicts, nc * sizeof(*v));
                if (!v) {
                    free(p);
                    rc = ST_ENOMEM;
                    break;
                }
                d->dicts = v;
                dcap = nc;
            }
            d->dicts[d->ndicts++] = (struct sdict){.id = id, .name = p};
            info->dict_files++;
        } else {
            info->other_files++;
            free(p);
        }
    }
    closedir(dh);
    if (rc == ST_OK && d->nsegs == 0 && d->ndicts == 0) {
        *why = "is a directory without SSD tier files (seg-*.dat, dict-*.zd)";
        rc = ST_EINVAL;
    }
    if (rc != ST_OK) {
        ssdd_close(&d);
        return rc;
    }
    qsort(d->segs, d->nsegs, sizeof(*d->segs), cmp_seg);
    *out = d;
    return ST_OK;
}

void ssdd_close(struct ssdd **dp)
{
    struct ssdd *d = *dp;

    if (!d)
        return;
    for (size_t i = 0; i < d->nsegs; i++)
        free(d->segs[i].name);
    for (size_t i = 0; i < d->ndicts; i++)
        free(d->dicts[i].name);
    free(d->segs);
    free(d->dicts);
    free(d->dir);
    free(d);
    *dp = NULL;
}

/* ---- the walk ------------------------------------------------------------------------ */


struct walk {
    struct ssdd *d;
    const struct src_cbs *cbs;
    int64_t now;
    unsigned flags;
    int pass; /* 0 notes, 1 winners, 2 emit */
    struct sfmt_dbnotes notes;
    struct wtab t;
    uint64_t puts, notes_n, expired;
};

static int damage(struct walk *w, const struct sseg *s, uint64_t off, const char *what)
{
    if (w->pass != 1 || !w->cbs->damage)
        return 0;
    return w->cbs->damage(w->cbs->ud, s ? s->name : w->d->dir, off, what);
}

static int on_entry(struct walk *w, size_t si, uint64_t off, const struct sfmt_ent *e)
{
    struct sseg *s = &w->d->segs[si];
    int notes_seg = s->cls == SFMT_CLASS_NOTES;

    if (w->pass == 0)
        return notes_seg ? sfmt_dbnotes_add(&w->notes, e) : 0;
    if (notes_seg) {
        if (w->pass != 1 || e->kind != SFMT_DEL)
            return 0;
        w->notes_n++;
        int db = sfmt_dbnotes_final_db(&w->notes, e->seq, e->db);
        if (db < 0)
            return 0;
        XXH128_hash_t h = XXH3_128bits(e->payload, e->plen);
        struct went x = {.hlo = h.low64, .hhi = h.high64, .seq = e->seq, .db = (uint16_t)db, .kind = SFMT_DEL};
        return wput(&w->t, &x);
    }
    if (e->kind != SFMT_PUT)
        return 0;
    struct tier_rec r;
    if (sfmt_put_check(e, &r) != ST_OK)
        return damage(w, s, off, "PUT entry whose record fails its checks");
    int db = sfmt_dbnotes_final_db(&w->notes, e->seq, e->db);
    XXH128_hash_t h = XXH3_128bits(r.key, r.klen);
    if (w->pass == 1) {
        w->puts++;
        if (db < 0)
            return 0;
        struct went x = {.hlo = h.low64, .hhi = h.high64, .seq = e->seq, .off = off, .seg = (uint32_t)si + 1,
                         .db = (uint16_t)db, .kind = SFMT_PUT};
        return wput(&w->t, &x);
    }
    /* pass 2: hand out the winners */
    if (db < 0)
        return 0;
    struct went *x = wfind(&w->t, h.low64, h.high64, (uint16_t)db);
    if (!x || x->kind != SFMT_PUT || x->seg != si + 1 || x->off != off || x->seq != e->seq)
        return 0;
    if (r.expire_ms >= 0 && r.expire_ms <= w->now) {
        w->expired++;
        return 0;
    }
    if (!w->cbs->key)
        return 0;
    struct src_key k = {.db = (uint32_t)db, .key = r.key, .klen = r.klen, .type = r.type, .tier = ITIER_SSD,
                        .expire_ms = r.expire_ms, .cold = 1, .has_rec = 1, .rec = e->payload, .reclen = e->plen,
                        .r = r, .where = s->name, .off = off};
    return w->cbs->key(w->cbs->ud, &k);
}

/* One segment's entries, as ssd_io.c's ssd_seg_scan walks them. */
static int scan_seg(struct walk *w, size_t si)
{
    struct sseg *s = &w->d->segs[si];
    struct iwin win = {.fsize = s->size};
    uint64_t pos = SFMT_HDR_SIZE, budget = ins_scan_budget(s->size);
    int in_damage = 0, rc = ST_OK;

    win.fd = open(s->name, O_RDONLY | O_CLOEXEC);
    if (win.fd < 0)
        return damage(w, s, 0, "segment file cannot be opened");
    while (pos + 4 <= s->size) {
        const unsigned char *p;
        size_t avail = s->size - pos < SFMT_ENT_HDR ? (size_t)(s->size - pos) : SFMT_ENT_HDR;
        struct sfmt_ent e;
        size_t need = 0;
        int drc;

        if ((rc = iwin_at(&win, pos, avail, &p)) != ST_OK)
            break;
        avail = (size_t)(win.base + win.len - pos);
        if (p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0) {
            pos += SFMT_ALIGN;
            continue;
        }
        drc = sfmt_ent_decode(p, avail, s->seg_size - pos, &e, &need);
        if (drc == ST_EAGAIN && need > avail && need <= s->size - pos) {
            if (budget < need) {
                rc = damage(w, s, pos, "scan stopped: too much CRC work on damaged entries");
                break;
            }
            if ((rc = iwin_at(&win, pos, need, &p)) != ST_OK)
                break;
            avail = (size_t)(win.base + win.len - pos);
            drc = sfmt_ent_decode(p, avail, s->seg_size - pos, &e, &need);
            if (drc != ST_OK)
                budget -= need;
        }
        if (drc == ST_OK && e.seg_seq_lo != (uint32_t)s->seq)
            drc = ST_ECORRUPT;
        if (drc == ST_OK) {
            in_damage = 0;
            if ((rc = on_entry(w, si, pos, &e)) != 0)
                break;
            pos += sfmt_ent_size(e.plen);
            continue;
        }
        if (!in_damage) {
            in_damage = 1;
            if ((rc = damage(w, s, pos, drc == ST_EAGAIN ? "entry cut short by the end of the file" : "damaged entry")))
                break;
        }
        pos += SFMT_ALIGN;
    }
    close(win.fd);
    iwin_free(&win);
    return rc;
}

static int check_headers(struct walk *w)
{
    for (size_t i = 0; i < w->d->nsegs; i++) {
        struct sseg *s = &w->d->segs[i];
        unsigned char *blk = malloc(SFMT_HDR_SIZE);
        struct sfmt_seg_hdr h;
        const char *why = NULL;
        int fd;

        if (!blk)
            return ST_ENOMEM;
        s->ok = 0;
        fd = open(s->name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            why = "segment file cannot be opened";
        else if (s->size < SFMT_HDR_SIZE || pread(fd, blk, SFMT_HDR_SIZE, 0) != (ssize_t)SFMT_HDR_SIZE ||
                 sfmt_seg_hdr_decode(blk, SFMT_HDR_SIZE, &h) != ST_OK)
            why = "segment header is damaged (attach would remove the file)";
        else if (h.seq != s->seq)
            why = "segment header names another segment than its file name";
        else if (s->size > h.segment_size)
            why = "segment file is longer than its segment size";
        if (fd >= 0)
            close(fd);
        free(blk);
        if (why) {
            int rc = w->cbs->damage ? w->cbs->damage(w->cbs->ud, s->name, 0, why) : 0;
            if (rc)
                return rc;
            continue;
        }
        s->ok = 1;
        s->cls = h.cls;
        s->seg_size = h.segment_size;
    }
    return ST_OK;
}

static int load_dicts(struct walk *w, struct codec *c)
{
    for (size_t i = 0; i < w->d->ndicts; i++) {
        struct sdict *dd = &w->d->dicts[i];
        struct stat st;
        unsigned char *buf = NULL;
        const void *dict;
        uint32_t id, len;
        int fd = open(dd->name, O_RDONLY | O_CLOEXEC), ok = 0, rc = 0;

        if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size >= (off_t)SFMT_DICT_HDR && st.st_size <= (off_t)DICT_FILE_MAX &&
            (buf = malloc((size_t)st.st_size)) != NULL &&
            pread(fd, buf, (size_t)st.st_size, 0) == st.st_size &&
            sfmt_dict_decode(buf, (size_t)st.st_size, &id, &dict, &len) == ST_OK && id == dd->id) {
            ok = 1;
            codec_add_dict(c, id, dict, len);
            if (w->cbs->aux)
                rc = w->cbs->aux(w->cbs->ud, NULL, 0, dict, len, id);
        }
        if (fd >= 0)
            close(fd);
        free(buf);
        if (!ok && w->cbs->damage)
            rc = w->cbs->damage(w->cbs->ud, dd->name, 0, "damaged dictionary file (attach would remove it)");
        if (rc)
            return rc;
    }
    return ST_OK;
}

int ssdd_each(struct ssdd *d, struct codec *c, int64_t now_ms, unsigned flags, const struct src_cbs *cbs)
{
    struct walk w = {.d = d, .cbs = cbs, .now = now_ms, .flags = flags};
    int rc;

    w.pass = 1; /* header and dictionary damage is reported once, now */
    if ((rc = load_dicts(&w, c)) != ST_OK || (rc = check_headers(&w)) != ST_OK)
        goto out;
    for (w.pass = 0; w.pass < 3 && rc == ST_OK; w.pass++) {
        /* notes segments first in each pass: their DELs and db notes */
        for (int notes = 1; notes >= 0 && rc == ST_OK; notes--) {
            for (size_t i = 0; i < d->nsegs && rc == ST_OK; i++) {
                struct sseg *s = &d->segs[i];
                if (!s->ok || (s->cls == SFMT_CLASS_NOTES) != notes)
                    continue;
                if (w.pass == 0 && !notes)
                    continue;
                if (w.pass == 2 && notes)
                    continue;
                rc = scan_seg(&w, i);
            }
        }
        if (w.pass == 0)
            sfmt_dbnotes_sort(&w.notes);
    }
out:
    d->info->ssd_puts = w.puts;
    d->info->ssd_notes = w.notes_n;
    d->info->ssd_expired = w.expired;
    {
        uint64_t cur = 0;
        for (size_t i = 0; i < w.t.cap; i++)
            cur += w.t.v[i].used && w.t.v[i].kind == SFMT_PUT;
        d->info->ssd_superseded = w.puts >= cur ? w.puts - cur : 0;
    }
    free(w.t.v);
    sfmt_dbnotes_free(&w.notes);
    return rc;
}
