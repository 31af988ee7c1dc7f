/*
 * ssd_attach.c -- re-attaching the SSD tier's files at create: the
 * dictionaries, the segments, and the index rebuilt from them (or, with
 * attach = 0, deleting them). Runs once, single-threaded, before the tier's
 * threads start and before the tier is handed out.
 *
 * What it owns: the rules that turn a directory of segments back into the
 * tier's state. Not the format (tiers/ssd_fmt.c), not the scan (ssd_io.c).
 *
 * Steps:
 *  1. List the directory (through the vfs). Remove "*.tmp" (a dictionary
 *     write cut short). Load dictionary ids; a damaged dictionary file is
 *     logged and removed.
 *  2. Open each seg-*.dat and check its header block: a bad one (magic,
 *     CRC, a seq other than its name's, a file longer than its
 *     segment_size) is logged, the file removed (attach_removed). Every
 *     attached segment is sealed: new writes go to new segments, and both
 *     seq counters continue after the highest seen (file names included).
 *  3. Scan notes segments (class 6) for SWAPDB and FLUSHDB notes, sorted
 *     by seq: they say, for any entry, which database it is in now (its db
 *     mapped through every later SWAPDB) and whether a later FLUSHDB
 *     removed it. Reading the small notes segments first keeps the big
 *     scan single-pass.
 *  4. Scan notes segments for DEL notes, then PUT segments, into a
 *     temporary table keyed by (final db, full 64-bit key hash): for each
 *     key the entry with the highest seq wins (ssd_fmt.c "Order").
 *     Damaged entries are logged with segment and offset and skipped by
 *     resynchronising 8 bytes on (ssd_seg_scan); so is a PUT whose record
 *     fails its own checks. Two keys with the same 64-bit hash in one
 *     database would count as one (the loser is dropped): about n^2/2^65.
 *  5. Winners: a DEL, or a PUT a FLUSHDB removed, means absent. A PUT whose
 *     expiry passed is dropped unless an older PUT of the key exists on
 *     the device (then it stays indexed, so that whoever drops it later --
 *     a reader, compaction -- writes the DEL note that keeps the older one
 *     from coming back). The others are indexed and counted live in their
 *     segments. The temporary table is freed.
 *
 * Invariant: after attach every index entry names a PUT entry that
 * decoded whole (framing CRC, STR1 CRC) in a segment in the slot table,
 * and each segment's live count is the number of entries naming it.
 */
#include "tiers/ssd_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"

#define ROUNDUP(x) (((x) + SFMT_BLOCK - 1) & ~(uint64_t)(SFMT_BLOCK - 1))

/* ---- the directory listing ---------------------------------------------- */

struct names {
    char **v;
    size_t n, cap;
};

static int add_name(void *ud, const char *name)
{
    struct names *nm = ud;
    if (nm->n == nm->cap) {
        size_t nc = nm->cap ? nm->cap * 2 : 64;
        char **v = realloc(nm->v, nc * sizeof(*v));
        if (!v)
            return ST_ENOMEM;
        nm->v = v;
        nm->cap = nc;
    }
    nm->v[nm->n] = strdup(name);
    if (!nm->v[nm->n])
        return ST_ENOMEM;
    nm->n++;
    return 0;
}

static void free_names(struct names *nm)
{
    for (size_t i = 0; i < nm->n; i++)
        free(nm->v[i]);
    free(nm->v);
}

static int remove_file(struct ssd *t, const char *name)
{
    char *p = ssd_path(t, name);
    int rc;

    if (!p)
        return ST_ENOMEM;
    rc = t->vfs->ops->unlink(t->vfs, p);
    if (rc < 0 && rc != -ENOENT)
        ssd_log(t, SSD_LOG_WARNING, "ssd: cannot remove %s: %s", p, strerror(-rc));
    free(p);
    return rc < 0 && rc != -ENOENT ? ST_EIO : ST_OK;
}

/* ---- the temporary winners table (step 4) ------------------------------- */

#define TF_USED 1
#define TF_OLDER_PUT 2
#define TF_EXPIRED 4

struct tent {
    uint64_t h;
    uint64_t seq;
    uint64_t ent; /* PUT: the index entry it would get */
    int64_t expire_ms; /* PUT: the record's */
    uint16_t db;
    uint8_t kind;
    uint8_t flags;
};

struct ttab {
    struct tent *v;
    size_t cap, n; /* cap a power of two */
};

static size_t tpos(const struct ttab *tt, uint64_t h, uint16_t db)
{
    uint64_t x = h ^ ((uint64_t)db * 0x9E3779B97F4A7C15ull);
    x ^= x >> 29;
    return (size_t)(x & (tt->cap - 1));
}

static int tgrow(struct ttab *tt)
{
    size_t ncap = tt->cap ? tt->cap * 2 : 4096;
    struct tent *nv = calloc(ncap, sizeof(*nv)), *old = tt->v;
    size_t ocap = tt->cap;

    if (!nv)
        return ST_ENOMEM;
    tt->v = nv;
    tt->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!(old[i].flags & TF_USED))
            continue;
        size_t p = tpos(tt, old[i].h, old[i].db);
        while (tt->v[p].flags & TF_USED)
            p = (p + 1) & (tt->cap - 1);
        tt->v[p] = old[i];
    }
    free(old);
    return ST_OK;
}

static int tput(struct ttab *tt, uint64_t h, uint16_t db, uint64_t seq, uint8_t kind, uint64_t ent, int expired,
                int64_t expire_ms)
{
    size_t p;

    if ((tt->n + 1) * 10 > tt->cap * 7 && tgrow(tt) != ST_OK)
        return ST_ENOMEM;
    p = tpos(tt, h, db);
    while (tt->v[p].flags & TF_USED) {
        struct tent *e = &tt->v[p];
        if (e->h == h && e->db == db) {
            if (seq > e->seq) {
                int older = e->kind == SFMT_PUT || (e->flags & TF_OLDER_PUT);
                e->seq = seq;
                e->kind = kind;
                e->ent = ent;
                e->expire_ms = expire_ms;
                e->flags = TF_USED | (older ? TF_OLDER_PUT : 0) | (expired ? TF_EXPIRED : 0);
            } else if (kind == SFMT_PUT) {
                e->flags |= TF_OLDER_PUT;
            }
            return ST_OK;
        }
        p = (p + 1) & (tt->cap - 1);
    }
    tt->v[p] = (struct tent){.h = h, .db = db, .seq = seq, .kind = kind, .ent = ent, .expire_ms = expire_ms,
                             .flags = TF_USED | (expired ? TF_EXPIRED : 0)};
    tt->n++;
    return ST_OK;
}

/* ---- the scan ----------------------------------------------------------- */


struct actx {
    struct ssd *t;
    int64_t now;
    struct sfmt_dbnotes notes;
    int pass; /* 0: collect db notes; 1: entries */
    struct ttab tt;
    uint64_t max_seq;
    uint64_t bad_records, foreign_db;
};

static void summarise(struct seg *s, const struct sfmt_ent *e, const struct tier_rec *r)
{
    s->ent_bytes += sfmt_ent_size(e->plen);
    if (e->seq < s->min_seq)
        s->min_seq = e->seq;
    if (e->seq > s->max_seq)
        s->max_seq = e->seq;
    if (e->kind == SFMT_PUT) {
        s->total++;
        s->raw_sum += r->rawlen;
        s->stored_sum += r->vlen;
        if (r->expire_ms < 0)
            s->has_noexpire = 1;
        else if (r->expire_ms > s->max_expire)
            s->max_expire = r->expire_ms;
    } else {
        s->notes++;
        if (e->kind == SFMT_SWAPDB) {
            if (e->seq > s->max_swap_seq)
                s->max_swap_seq = e->seq;
        } else if (e->seq > s->max_kill_seq) {
            s->max_kill_seq = e->seq;
        }
    }
}

static int scan_entry(void *ud, struct seg *s, uint64_t off, const struct sfmt_ent *e)
{
    struct actx *c = ud;
    struct ssd *t = c->t;

    if (e->seq > c->max_seq)
        c->max_seq = e->seq;
    if (c->pass == 0) {
        return sfmt_dbnotes_add(&c->notes, e);
    }
    if (s->cls == SFMT_CLASS_NOTES) {
        if (e->kind == SFMT_PUT)
            return 0; /* never written there */
        summarise(s, e, NULL);
        if (e->kind != SFMT_DEL || e->db >= t->databases)
            return 0;
        int db = sfmt_dbnotes_final_db(&c->notes, e->seq, e->db);
        if (db < 0)
            return 0;
        uint64_t h = sidx_hash(t->idx, e->payload, e->plen);
        return tput(&c->tt, h, (uint16_t)db, e->seq, SFMT_DEL, 0, 0, -1);
    }
    if (e->kind != SFMT_PUT)
        return 0; /* never written there */
    struct tier_rec r;
    if (sfmt_put_check(e, &r) != ST_OK) {
        c->bad_records++;
        ssd_log(t, SSD_LOG_WARNING, "ssd: segment %016llx: damaged record at offset %llu skipped",
                (unsigned long long)s->seq, (unsigned long long)off);
        return 0;
    }
    summarise(s, e, &r);
    if (e->db >= t->databases) {
        c->foreign_db++;
        return 0;
    }
    int db = sfmt_dbnotes_final_db(&c->notes, e->seq, e->db);
    if (db < 0)
        return 0;
    uint64_t h = sidx_hash(t->idx, r.key, r.klen);
    uint64_t ent = sidx_ent(sidx_fp_of(h), r.expire_ms >= 0, sidx_sz_class(off, e->len), s->slot, off);
    return tput(&c->tt, h, (uint16_t)db, e->seq, SFMT_PUT, ent, r.expire_ms >= 0 && r.expire_ms <= c->now,
                r.expire_ms);
}

/* ---- step 2: one segment file ------------------------------------------- */

static int attach_seg(struct ssd *t, const char *name, uint64_t seq)
{
    struct seg tmp = {.t = t, .seq = seq, .fd = -1};
    struct sfmt_seg_hdr h;
    void *blk = NULL;
    int64_t size;
    ssize_t got;
    const char *why = NULL;
    struct seg *s;

    if (ssd_seg_open_file(t, &tmp, 0) != 0)
        return ST_OK; /* logged: leave the file alone */
    size = t->vfs->ops->size(t->vfs, tmp.fd);
    if (posix_memalign(&blk, SFMT_BLOCK, SFMT_HDR_SIZE) != 0) {
        vfs_close(t->vfs, tmp.fd);
        return ST_ENOMEM;
    }
    got = size >= (int64_t)SFMT_HDR_SIZE ? vfs_pread_full(t->vfs, tmp.fd, blk, SFMT_HDR_SIZE, 0) : 0;
    if (size < 0 || got < 0)
        why = "cannot be read";
    else if (got < (ssize_t)SFMT_HDR_SIZE || sfmt_seg_hdr_decode(blk, SFMT_HDR_SIZE, &h) != ST_OK)
        why = "has a bad header";
    else if (h.seq != seq)
        why = "names another segment in its header";
    else if ((uint64_t)size > h.segment_size)
        why = "is longer than its segment size";
    free(blk);
    if (why) {
        ssd_log(t, SSD_LOG_WARNING, "ssd: segment file %s %s: removed", name, why);
        vfs_close(t->vfs, tmp.fd);
        ssd_count(&t->st.attach_removed, 1);
        remove_file(t, name);
        return ST_OK;
    }
    pthread_mutex_lock(&t->seg_mu);
    s = ssd_seg_create_locked(t, h.cls, SEG_SEALED, h.segment_size);
    pthread_mutex_unlock(&t->seg_mu);
    if (!s) {
        vfs_close(t->vfs, tmp.fd);
        ssd_log(t, SSD_LOG_WARNING, "ssd: more segments than slots (%u): %s not attached", SIDX_SLOTS, name);
        return ST_EINVAL;
    }
    s->seq = seq;
    s->created_ms = h.created_ms;
    s->attached = 1;
    s->fd = tmp.fd;
    s->fill = s->dev_end = s->synced_end = (uint64_t)size;
    s->acct = ROUNDUP((uint64_t)size);
    __atomic_fetch_add(&t->used, s->acct, __ATOMIC_RELAXED);
    return ST_OK;
}

/* ---- step 1: dictionaries ----------------------------------------------- */

static int attach_dict(struct ssd *t, const char *name, uint32_t id)
{
    char *p = ssd_path(t, name);
    int fd = -1, rc = ST_OK;
    int64_t size;
    unsigned char *buf = NULL;
    const void *d;
    uint32_t did, len;

    if (!p)
        return ST_ENOMEM;
    fd = vfs_open(t->vfs, p, O_RDONLY, 0, 0, NULL);
    if (fd < 0) {
        ssd_log(t, SSD_LOG_WARNING, "ssd: cannot open dictionary %s: %s", p, strerror(-fd));
        goto out;
    }
    size = t->vfs->ops->size(t->vfs, fd);
    if (size >= (int64_t)SFMT_DICT_HDR && size <= (int64_t)SFMT_DICT_HDR + UINT32_MAX)
        buf = malloc((size_t)size);
    if (buf && vfs_pread_full(t->vfs, fd, buf, (size_t)size, 0) == size &&
        sfmt_dict_decode(buf, (size_t)size, &did, &d, &len) == ST_OK && did == id) {
        rc = ssd_dict_add_id(t, id);
    } else {
        ssd_log(t, SSD_LOG_WARNING, "ssd: damaged dictionary file %s: removed", p);
        ssd_count(&t->st.attach_removed, 1);
        ssd_count(&t->st.errors, 1);
        vfs_close(t->vfs, fd);
        fd = -1;
        remove_file(t, name);
    }
out:
    if (fd >= 0)
        vfs_close(t->vfs, fd);
    free(buf);
    free(p);
    return rc;
}

/* ---- the whole attach --------------------------------------------------- */

static int scan_all(struct ssd *t, struct actx *c, int notes_only, uint64_t *damaged)
{
    for (unsigned i = 0; i < SIDX_SLOTS; i++) {
        struct seg *s = t->segs[i];
        if (!s || (notes_only && s->cls != SFMT_CLASS_NOTES) || (!notes_only && s->cls == SFMT_CLASS_NOTES))
            continue;
        int rc = ssd_seg_scan(t, s, s->dev_end, scan_entry, c, damaged);
        if (rc == ST_EIO)
            continue; /* logged; what was read counts */
        if (rc != ST_OK)
            return rc;
    }
    return ST_OK;
}

static int build_index(struct ssd *t, struct actx *c)
{
    uint64_t n = 0;

    for (size_t i = 0; i < c->tt.cap; i++) {
        struct tent *e = &c->tt.v[i];
        if (!(e->flags & TF_USED) || e->kind != SFMT_PUT)
            continue;
        if ((e->flags & TF_EXPIRED) && !(e->flags & TF_OLDER_PUT))
            continue;
        struct sidx_stripe *st = sidx_lock(t->idx, e->db, e->h, 1);
        if (!st)
            return ST_ENOMEM;
        int rc = sidx_add_locked(st, e->ent);
        sidx_unlock(st);
        if (rc != ST_OK)
            return rc;
        struct seg *sg = t->segs[sidx_ent_slot(e->ent)];
        __atomic_fetch_add(&sg->live, 1, __ATOMIC_RELAXED);
        if (e->expire_ms >= 0) /* ssd_expire.c invariant 1 */
            ssd_exp_push(t, e->expire_ms, e->db, e->h, ssd_loc(sg, e->ent));
        n++;
    }
    ssd_count(&t->st.attach_records, n);
    return ST_OK;
}

int ssd_attach(struct ssd *t, int attach)
{
    struct names nm = {0};
    struct actx c = {.t = t, .now = ssd_now_ms(t)};
    uint64_t max_seg = 0, damaged = 0, nsegs = 0, ndicts = 0;
    int rc;

    rc = t->vfs->ops->list(t->vfs, t->dir, add_name, &nm);
    if (rc < 0) {
        ssd_log(t, SSD_LOG_WARNING, "ssd: cannot list %s: %s", t->dir, strerror(-rc));
        free_names(&nm);
        return ST_EIO;
    }
    if (rc != 0)
        goto out;
    for (size_t i = 0; i < nm.n; i++) {
        uint64_t seq;
        uint32_t id;
        if (sfmt_is_tmp_name(nm.v[i])) {
            remove_file(t, nm.v[i]);
        } else if (sfmt_seg_name_parse(nm.v[i], &seq)) {
            if (seq >= max_seg)
                max_seg = seq + 1;
            if (attach) {
                rc = attach_seg(t, nm.v[i], seq);
                nsegs++;
            } else {
                rc = remove_file(t, nm.v[i]);
                nsegs++;
            }
        } else if (sfmt_dict_name_parse(nm.v[i], &id)) {
            ndicts++;
            rc = attach ? attach_dict(t, nm.v[i], id) : remove_file(t, nm.v[i]);
        }
        if (rc != ST_OK)
            goto out;
    }
    t->next_seg_seq = max_seg > t->next_seg_seq ? max_seg : t->next_seg_seq;
    if (!attach) {
        if (nsegs || ndicts)
            ssd_log(t, SSD_LOG_NOTICE, "ssd: attach is off: removed %llu segments and %llu dictionaries from %s",
                    (unsigned long long)nsegs, (unsigned long long)ndicts, t->dir);
        goto out;
    }
    /* step 3, then 4 */
    c.pass = 0;
    rc = scan_all(t, &c, 1, &damaged);
    if (rc != ST_OK)
        goto out;
    if (c.notes.n) {
        sfmt_dbnotes_sort(&c.notes);
        __atomic_store_n(&t->remapped, 1, __ATOMIC_RELAXED);
    }
    c.pass = 1;
    damaged = 0; /* the notes segments are read twice: count their damage once */
    rc = scan_all(t, &c, 1, &damaged);
    if (rc == ST_OK)
        rc = scan_all(t, &c, 0, &damaged);
    if (rc == ST_OK)
        rc = build_index(t, &c);
    if (rc != ST_OK)
        goto out;
    damaged += c.bad_records;
    __atomic_store_n(&t->seq, c.max_seq, __ATOMIC_RELAXED);
    ssd_count(&t->st.attach_damaged, damaged);
    ssd_count(&t->st.errors, damaged);
    for (unsigned i = 0; i < SIDX_SLOTS; i++)
        if (t->segs[i])
            ssd_count(&t->st.attach_segments, 1);
    if (c.foreign_db)
        ssd_log(t, SSD_LOG_WARNING, "ssd: %llu records of databases >= %u (configured) ignored",
                (unsigned long long)c.foreign_db, t->databases);
    if (t->st.attach_segments || t->st.attach_removed)
        ssd_log(t, SSD_LOG_NOTICE,
                "ssd: attached %llu segments from %s: %llu records, %llu damaged entries skipped, %llu files "
                "removed, %zu dictionaries",
                (unsigned long long)t->st.attach_segments, t->dir, (unsigned long long)t->st.attach_records,
                (unsigned long long)damaged, (unsigned long long)t->st.attach_removed, t->ndicts);
out:
    free(c.tt.v);
    sfmt_dbnotes_free(&c.notes);
    free_names(&nm);
    return rc;
}
