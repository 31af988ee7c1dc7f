/*
 * snapshot.c -- writing a snapshot of the whole keyspace while serving goes
 * on, and loading one (contract in snapshot.h).
 *
 * Writing, without fork(). Under every shard lock, T0: the keyspace's
 * snapshot parity flips (every entry alive now is "unwritten"), the indexed
 * tiers' sequence marks are taken, and the append log's offset is read (a
 * rewrite also rotates the log there). Then, with the locks released:
 *   1. the dictionaries of the tiers go first (a cold record names them);
 *   2. a cursor walk of every database (ks_scan, a few buckets under one
 *      shard lock at a time) writes each unwritten entry and marks it
 *      written: a hot value serialised, a stub's record copied as it is;
 *   3. each indexed tier's records of sequence <= its mark (they existed at
 *      T0 and are still current) are copied as they are;
 *   4. meanwhile a write command, delete or demotion that is about to change
 *      an unwritten entry hands its T0 value to capture() (keyspace.h
 *      "snapshots"), which queues a copy; the snapshot thread drains the
 *      queue between walk steps, so the extra memory is the values changed
 *      before the walk reached them, not a copy of everything;
 *   5. under every shard lock again the snapshot ends (parity stays: every
 *      entry now carries it), the queue is drained a last time and the file
 *      is committed (engine/snap.c: temporary name, sync, rename, dir sync).
 * A key promoted from an indexed tier after the walk of step 3 passed it is
 * captured again: the same T0 value twice, which the loader keeps once.
 *
 * FLUSHALL, FLUSHDB and SWAPDB wait for a running snapshot to end
 * (persist_wait_snapshot): they move whole tables under the walk.
 *
 * Threads: capture runs on workers under a shard lock; everything else on
 * the persistence thread (persist.c), or the start-up thread for loading.
 */
#include "server/snapshot.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/codec.h"
#include "engine/entry.h"
#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/serial.h"
#include "engine/snap.h"
#include "engine/tier.h"
#include "engine/tlimits.h"
#include "engine/util.h"
#include "engine/vfs.h"
#include "server/log.h"
#include "server/server.h"
#include "server/tiering.h"
#include "server/wlog.h"

/* A value on its way to the file: captured by a worker or met by the walk. */
struct item {
    struct item *next;
    uint32_t db;
    uint8_t cold;     /* val is a tier record */
    uint8_t type;
    uint8_t tier;     /* SNAP_TIER_* (cold) */
    int64_t expire_ms;
    uint32_t klen;
    size_t vlen;
    char data[];      /* key (hot only), then the value or record */
};

struct job {
    struct server *srv;
    struct snap_writer *w;
    int64_t now_ms;
    uint64_t marks[8];
    /* the queue of captured values (workers push under qmu) */
    pthread_mutex_t qmu;
    struct item *qhead, **qtail;
    size_t qbytes, qpeak;
    int failed;           /* qmu: a capture could not be copied (ST_ENOMEM): the snapshot fails */
    uint64_t captured;
    /* the walk's own batch (snapshot thread, or inside its ks_scan) */
    struct item *bhead, **btail;
    int rc;
    uint64_t lost;        /* stubs whose record could not be read */
    int walk_db;          /* the database the walk is in (ks_visit_fn has no db) */
};

/* A copy of e's value as an item, or NULL (no memory, or a stub whose
 * record is gone: *lost). */
static struct item *item_of(struct job *j, uint32_t db, const struct entry *e, int *lost)
{
    struct item *it = NULL;
    *lost = 0;
    if (e->enc == ENC_TIER) {
        void *rec = NULL;
        size_t len = 0;
        int is_pmem = 0;
        int rc = j->srv->tiering ? tiering_stub_record(j->srv->tiering, e, &rec, &len, &is_pmem) : ST_ENOENT;
        if (rc != ST_OK) {
            *lost = rc != ST_ENOMEM;
            return NULL;
        }
        it = malloc(sizeof(*it) + len);
        if (it) {
            memcpy(it->data, rec, len);
            it->cold = 1;
            it->tier = is_pmem ? SNAP_TIER_PMEM : SNAP_TIER_OTHER;
            it->klen = 0;
            it->vlen = len;
        }
        free(rec);
    } else {
        void *ser = NULL;
        size_t len = 0;
        if (serial_encode(e, &ser, &len) != ST_OK)
            return NULL;
        it = malloc(sizeof(*it) + e->klen + len);
        if (it) {
            memcpy(it->data, entry_key(e), e->klen);
            memcpy(it->data + e->klen, ser, len);
            it->cold = 0;
            it->tier = 0;
            it->klen = e->klen;
            it->vlen = len;
        }
        free(ser);
    }
    if (!it)
        return NULL;
    it->next = NULL;
    it->db = db;
    it->type = e->type;
    it->expire_ms = entry_expire(e);
    return it;
}

/* ks_snap_ops.capture: a worker, under e's shard lock. */
static void capture(void *ud, int db, const struct entry *e)
{
    struct job *j = ud;
    int lost = 0;
    struct item *it = item_of(j, (uint32_t)db, e, &lost);
    pthread_mutex_lock(&j->qmu);
    if (it) {
        *j->qtail = it;
        j->qtail = &it->next;
        j->qbytes += sizeof(*it) + it->klen + it->vlen;
        if (j->qbytes > j->qpeak)
            j->qpeak = j->qbytes;
        j->captured++;
    } else if (lost) {
        j->lost++;
    } else {
        j->failed = 1;
    }
    pthread_mutex_unlock(&j->qmu);
}

static int write_item(struct job *j, const struct item *it)
{
    if (it->cold)
        return snap_write_cold(j->w, it->db, it->tier, it->expire_ms, it->data, it->vlen);
    return snap_write_hot(j->w, it->db, it->type, it->expire_ms, it->data, it->klen, it->data + it->klen, it->vlen);
}

static int write_list(struct job *j, struct item *head)
{
    int rc = ST_OK;
    while (head) {
        struct item *next = head->next;
        if (rc == ST_OK)
            rc = write_item(j, head);
        free(head);
        head = next;
    }
    return rc;
}

static int drain_queue(struct job *j)
{
    pthread_mutex_lock(&j->qmu);
    struct item *head = j->qhead;
    j->qhead = NULL;
    j->qtail = &j->qhead;
    j->qbytes = 0;
    int failed = j->failed;
    pthread_mutex_unlock(&j->qmu);
    int rc = write_list(j, head);
    return failed ? ST_ENOMEM : rc;
}

/* ks_scan's visitor, under the shard lock: an entry the snapshot has not
 * written yet goes into the batch and is marked written. */
static void walk_visit(const struct entry *ce, void *ud)
{
    struct job *j = ud;
    struct keyspace *ks = j->srv->ks;
    if (ks_snap_written(ks, ce))
        return; /* born after T0, captured, or met earlier in the walk */
    /* the parity bit is the snapshot's to flip under the shard lock */
    struct entry *e = (struct entry *)ce;
    int lost = 0;
    struct item *it = item_of(j, (uint32_t)j->walk_db, e, &lost);
    if (!it) {
        if (lost)
            j->lost++;
        else if (j->rc == ST_OK)
            j->rc = ST_ENOMEM;
        return;
    }
    ks_snap_mark(ks, e);
    *j->btail = it;
    j->btail = &it->next;
}

static int walk_indexed(void *ud, int db, const void *rec, size_t len)
{
    struct job *j = ud;
    struct tier_rec r;
    size_t used = 0;
    if (tier_rec_decode(rec, len, &r, &used) != ST_OK)
        return 0;
    if (r.expire_ms >= 0 && r.expire_ms <= j->now_ms)
        return 0;
    int rc = snap_write_cold(j->w, (uint32_t)db, SNAP_TIER_SSD, r.expire_ms, rec, used);
    if (rc == ST_OK && (rc = drain_queue(j)) == ST_OK)
        return 0;
    j->rc = rc;
    return 1;
}

static int write_dict(void *ud, uint32_t id, const void *dict, size_t len)
{
    struct job *j = ud;
    return snap_write_dict(j->w, id, dict, len) == ST_OK ? 0 : -1;
}

int snapshot_write(struct server *srv, const char *final_path, const struct snapshot_opts *o,
                   struct snapshot_result *res)
{
    struct keyspace *ks = srv->ks;
    struct job j = { .srv = srv };
    memset(res, 0, sizeof(*res));
    pthread_mutex_init(&j.qmu, NULL);
    j.qtail = &j.qhead;
    j.btail = &j.bhead;
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp-%d", final_path, (int)getpid()) < 0) {
        pthread_mutex_destroy(&j.qmu);
        return ST_ENOMEM;
    }
    int64_t started_us = util_mono_us();

    /* T0 */
    struct ks_snap_ops ops = { .capture = capture, .ud = &j };
    struct snap_meta meta = { .databases = ks->databases };
    ks_lock_all(ks);
    ks_snap_begin_locked(ks, &ops);
    if (srv->tiering) {
        tiering_snap_begin_locked(srv->tiering);
        tiering_snap_marks(srv->tiering, j.marks);
    }
    meta.created_ms = util_time_ms();
    if (o->rotate && srv->wlog) {
        int rc = wlog_rotate_locked(srv->wlog, &meta.log_offset, &res->log_seq);
        if (rc != ST_OK) {
            ks_snap_end_locked(ks);
            if (srv->tiering)
                tiering_snap_end_locked(srv->tiering);
            ks_unlock_all(ks);
            free(tmp);
            pthread_mutex_destroy(&j.qmu);
            return rc;
        }
    } else if (srv->wlog) {
        meta.log_offset = wlog_offset(srv->wlog);
    }
    meta.lineage = srv->wlog ? wlog_lineage(srv->wlog) : o->lineage;
    for (unsigned i = 0; i < ks->nshards; i++)
        res->dirty_at_t0 += ks->shards[i].dirty;
    ks_unlock_all(ks);
    res->log_offset = meta.log_offset;
    res->lineage = meta.lineage;
    res->t0_ms = meta.created_ms;
    j.now_ms = meta.created_ms;

    int rc = snap_writer_open(vfs_posix(), tmp, &meta, &j.w);
    if (rc == ST_OK) {
        char buf[64];
        snap_write_aux(j.w, "strata-ver", STRATA_VERSION);
        snprintf(buf, sizeof(buf), "%" PRId64, meta.created_ms / 1000);
        snap_write_aux(j.w, "ctime", buf);
        snap_write_aux(j.w, "run-id", srv->run_id);
        if (srv->tiering && tiering_each_dict(srv->tiering, write_dict, &j) != 0)
            rc = ST_EIO;
    }
    for (unsigned db = 0; rc == ST_OK && db < ks->databases; db++) {
        uint64_t cur = 0;
        j.walk_db = (int)db;
        do {
            cur = ks_scan(ks, (int)db, cur, 64, util_time_ms(), walk_visit, &j);
            struct item *batch = j.bhead;
            j.bhead = NULL;
            j.btail = &j.bhead;
            int wrc = write_list(&j, batch);
            if (rc == ST_OK)
                rc = j.rc != ST_OK ? j.rc : wrc;
            if (rc == ST_OK)
                rc = drain_queue(&j);
        } while (cur != 0 && rc == ST_OK);
    }
    if (rc == ST_OK && srv->tiering) {
        j.now_ms = util_time_ms();
        tiering_snap_walk_indexed(srv->tiering, j.marks, walk_indexed, &j);
        rc = j.rc;
    }

    /* the end: nothing is captured after this */
    ks_lock_all(ks);
    ks_snap_end_locked(ks);
    if (srv->tiering)
        tiering_snap_end_locked(srv->tiering);
    ks_unlock_all(ks);
    int drc = drain_queue(&j);
    if (rc == ST_OK)
        rc = drc;
    if (j.w) {
        struct snap_stats st;
        snap_writer_stats(j.w, &st);
        res->keys = st.keys;
        res->hot = st.hot;
        res->cold = st.cold;
        res->bytes = st.bytes + st.buffered;
        if (rc == ST_OK)
            rc = snap_writer_commit(&j.w, final_path);
        else
            snap_writer_abort(&j.w);
    }
    res->captured = j.captured;
    res->capture_peak = j.qpeak;
    res->lost = j.lost;
    res->elapsed_us = util_mono_us() - started_us;
    if (j.lost)
        log_warn("snapshot: %" PRIu64 " cold keys whose records could not be read were left out", j.lost);
    free(tmp);
    pthread_mutex_destroy(&j.qmu);
    return rc;
}

/* ---- loading ---------------------------------------------------------------- */

/* Inserts e (owned) into db, replacing nothing: a key already there (the
 * same T0 value written twice: see above) keeps its first copy. */
static int insert_entry(struct server *srv, uint32_t db, struct entry *e, struct snapshot_load_stats *ls)
{
    struct keyspace *ks = srv->ks;
    struct ks_key k;
    ks_key_init(ks, &k, entry_key(e), e->klen);
    ks_lock(ks, k.shard);
    int rc = ST_OK;
    if (ks_find_ref(ks, (int)db, &k, INT64_MIN, KS_F_NOTOUCH | KS_F_STUB | KS_F_NOMISS)) {
        ls->duplicates++;
        /* a stub's record goes too: nothing else names it */
        if (e->enc == ENC_TIER && ks->cold.drop)
            ks->cold.drop(ks->cold.ud, e, 0);
        entry_destroy(e);
    } else if ((rc = ks_insert(ks, (int)db, &k, e)) != ST_OK) {
        if (e->enc == ENC_TIER && ks->cold.drop)
            ks->cold.drop(ks->cold.ud, e, 0);
        entry_destroy(e);
    }
    ks_unlock(ks, k.shard);
    return rc;
}

static int dram_has(struct server *srv, uint32_t db, const char *key, size_t klen)
{
    struct keyspace *ks = srv->ks;
    struct ks_key k;
    ks_key_init(ks, &k, key, klen);
    ks_lock(ks, k.shard);
    int has = ks_find_ref(ks, (int)db, &k, INT64_MIN, KS_F_NOTOUCH | KS_F_STUB | KS_F_NOMISS) != NULL;
    ks_unlock(ks, k.shard);
    return has;
}

int snapshot_load(struct server *srv, const char *path, unsigned flags, struct snap_meta *meta,
                  struct snapshot_load_stats *ls)
{
    struct snap_reader *r = NULL;
    struct tiering *tg = srv->tiering;
    int attach = (flags & SNAPSHOT_LOAD_ATTACH) && tg && tiering_pmem_attach_begin(tg) == ST_OK;
    memset(ls, 0, sizeof(*ls));
    int64_t t0 = util_mono_us();
    int rc = snap_reader_open(vfs_posix(), path, attach ? SNAP_SKIP_COLD_DATA : 0, &r, meta);
    struct codec *own = NULL;
    if (rc == ST_OK && !tg) {
        struct codec_conf cc;
        codec_conf_init(&cc);
        cc.small_max = 0;
        rc = codec_create(&cc, &own);
    }
    if (rc == ST_OK && meta->databases > srv->ks->databases) {
        log_warn("snapshot %s holds %u databases; this server has %u (set databases)", path, meta->databases,
                 srv->ks->databases);
        rc = ST_EINVAL;
    }
    int64_t now = util_time_ms();
    struct snap_item it;
    while (rc == ST_OK && (rc = snap_next(r, &it)) == ST_OK) {
        struct entry *e = NULL;
        if (it.kind == SNAP_DICT) {
            rc = tg ? tiering_load_dict(tg, it.dict_id, it.val, it.vlen) : codec_add_dict(own, it.dict_id, it.val, it.vlen);
            if (rc == ST_EEXIST)
                rc = ST_OK;
            ls->dicts++;
            continue;
        }
        if (it.kind != SNAP_HOT && it.kind != SNAP_COLD)
            continue;
        if (it.expire_ms >= 0 && it.expire_ms <= now) {
            ls->expired++;
            continue;
        }
        if (it.kind == SNAP_HOT) {
            struct type_limits lim;
            server_type_limits(srv, &lim);
            struct serial_dec_opts opts = { .flags = SERIAL_DEC_SEED, .seed = srv->ks->seed };
            rc = serial_decode_ex(it.type, it.val, it.vlen, it.key, it.klen, it.expire_ms, &lim, &opts, &e);
            if (rc != ST_OK) {
                log_warn("snapshot %s: the value of key '%.*s' does not decode (%s)", path,
                         (int)(it.klen > 64 ? 64 : it.klen), it.key, st_strerror(rc));
                rc = ST_ECORRUPT;
                break;
            }
            ls->hot++;
            rc = insert_entry(srv, it.db, e, ls);
            continue;
        }
        /* a cold key: its record in the pool as it was, or stored again */
        ls->cold++;
        if (attach && it.tier == SNAP_TIER_PMEM &&
            tiering_pmem_claim(tg, it.key, it.klen, it.expire_ms, it.gen, it.rec_crc, &e) == ST_OK) {
            ls->attached++;
            rc = insert_entry(srv, it.db, e, ls);
            continue;
        }
        if (dram_has(srv, it.db, it.key, it.klen)) {
            ls->duplicates++;
            continue;
        }
        const void *rec = NULL;
        size_t len = 0;
        if ((rc = snap_cold_data(r, &it, &rec, &len)) != ST_OK)
            break;
        if (tg) {
            rc = tiering_load_cold(tg, (int)it.db, rec, len, it.expire_ms, &e);
            if (rc == ST_OK) {
                ls->stored++;
                rc = e ? insert_entry(srv, it.db, e, ls) : ST_OK;
                continue;
            }
            if (rc != ST_EFULL && rc != ST_EIO)
                break;
        }
        /* no tier takes it: its value in DRAM */
        rc = tg ? tiering_load_entry(tg, rec, len, it.key, it.klen, it.expire_ms, &e)
                : tiering_decode_record(srv, own, rec, len, it.key, it.klen, it.expire_ms, &e);
        if (rc != ST_OK) {
            log_warn("snapshot %s: the record of key '%.*s' does not decode (%s)", path,
                     (int)(it.klen > 64 ? 64 : it.klen), it.key, st_strerror(rc));
            rc = ST_ECORRUPT;
            break;
        }
        ls->decoded++;
        rc = insert_entry(srv, it.db, e, ls);
    }
    if (rc == ST_ENOENT) {
        rc = ST_OK; /* the clean end: counts and checksums matched */
    } else if (r) {
        uint64_t off = 0;
        const char *what = NULL;
        snap_reader_error(r, &off, &what);
        if (what)
            log_warn("snapshot %s: damaged at offset %" PRIu64 ": %s", path, off, what);
        ls->bad_off = off;
    }
    snap_reader_close(&r);
    codec_destroy(&own);
    ls->elapsed_us = util_mono_us() - t0;
    ls->attach = attach;
    return rc;
}
