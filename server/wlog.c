/*
 * wlog.c -- the append log (contract in wlog.h).
 *
 * What it owns: the log directory <dir>/<appenddirname>, its manifest, the
 * incr file being appended to, the staging buffer workers append into, and
 * the log thread that writes and syncs. Not the record format (engine/aof.c)
 * nor the base snapshots (snapshot.c writes them; this file names them in
 * the manifest).
 *
 * The manifest, <appendfilename>.manifest, is a small text file, replaced
 * whole (temporary name, sync, rename, directory sync):
 *
 *   strata-aof-manifest 1
 *   lineage <16 hex digits>
 *   seq <n>                          the generation of the newest files
 *   base <file> <offset>             optional: the state at <offset>
 *   incr <file>                      one or more, in order: the records
 *                                    from the base's offset (or from the
 *                                    lineage's first offset) on
 *
 * Files are <appendfilename>.<seq>.base.sts (a snapshot, engine/snap.c) and
 * <appendfilename>.<seq>.incr.log (engine/aof.c). Offsets are logical: the
 * first incr file of a lineage starts where its header says, each later one
 * where the one before ended, so an offset names one place in the whole
 * history whatever the files.
 *
 * Ordering. A worker appends a command's record while it still holds the
 * shard locks of the command's keys (the keyspace's log hook fires at the
 * first unlock after a change), so two commands on one shard are appended
 * in the order they ran; commands on disjoint shards commute. Appending is a
 * memcpy into the staging buffer under `mu`; the record's logical offset is
 * computed there (engine/aof.h aof_rec_size), so a rotation knows at once
 * the offset it stands at.
 *
 * Durability (appendfsync):
 *   always   the log thread writes and syncs as soon as records are staged;
 *            a worker waits (wlog_wait_durable) until everything it appended
 *            is synced before writing its clients' replies: group commit.
 *   everysec written every few milliseconds, synced once a second: a crash
 *            loses at most about a second of acknowledged writes.
 *   no       written every few milliseconds, synced every 30 s (the log's
 *            synced horizon lets recovery tell a torn tail from damage).
 *
 * Rotation (BGREWRITEAOF): under every shard lock, rotate_locked records
 * the staged-record count and offset of the switch; the log thread writes
 * the records before it to the old file, syncs and closes it, creates the
 * new incr file starting at that offset and writes a manifest naming both
 * incr files, so a crash at any point finds every record. rewrite_done then
 * names the new base and only the new incr file, and removes the old files.
 *
 * Invariants:
 *  1. Records reach the files in staging order, and staging order per shard
 *     is execution order (above).
 *  2. staged >= written >= synced (record counts); a worker's log_need is
 *     the count of records staged when its last one was.
 *  3. The manifest on disk always names files that hold every record from
 *     its base's offset (or the lineage's start) to the last synced one.
 *  4. An I/O error is sticky (err): records keep being staged and dropped,
 *     INFO shows aof_last_write_status:err, waiters are released.
 *
 * Threads: workers (wlog_emit, wlog_append, wait), the log thread, and
 * whoever calls rotate/rewrite_done/info; `mu` guards everything marked so.
 */
#include "server/wlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/aof.h"
#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/util.h"
#include "engine/vfs.h"
#include "server/client.h"
#include "server/config.h"
#include "server/log.h"
#include "server/server.h"
#include "server/worker.h"

#define WLOG_WRITE_MS 5      /* everysec / no: how often staged records are written */
#define WLOG_NO_SYNC_MS 30000 /* no: how often the file is synced anyway */

enum { FSYNC_ALWAYS = 0, FSYNC_EVERYSEC = 1, FSYNC_NO = 2 };

struct wlog_rw {
    int argc;
    char **argv;
    size_t *lens;
};

struct wlog {
    struct server *srv;
    const struct vfs *vfs;
    char *dirpath;
    char *name;
    uint64_t lineage;
    pthread_mutex_t mu;
    pthread_cond_t work;    /* mu: staged records, a sync asked for, a rotation, stop */
    pthread_cond_t durable; /* mu: synced moved on */
    /* mu: */
    unsigned char *stage;
    size_t slen, scap;
    uint64_t staged;        /* records staged, ever */
    uint64_t next_off;      /* logical offset of the next record */
    uint64_t written, synced; /* records written to / durable in the files */
    int sync_wanted;
    int stop;
    int err;
    int rot_pending;
    uint64_t rot_at;        /* staged count at the rotation */
    uint64_t rot_off;
    uint64_t rot_seq;
    uint64_t seq;           /* generation of the current incr file */
    struct wlog_manifest man;
    uint64_t bytes_written, fsyncs;
    int64_t last_sync_ms;
    /* the log thread only: */
    struct aof_writer *w;
    pthread_t thread;
    int started;
};

/* ---- names and the manifest ---------------------------------------------- */

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static char *log_dir(struct server *srv)
{
    pthread_mutex_lock(&srv->cfg.lock);
    char *d = fmt("%s/%s", srv->cfg.dir && srv->cfg.dir[0] ? srv->cfg.dir : ".", srv->cfg.appenddirname);
    pthread_mutex_unlock(&srv->cfg.lock);
    return d;
}

char *wlog_path(struct server *srv, const char *name)
{
    char *d = log_dir(srv);
    char *p = d ? fmt("%s/%s", d, name) : NULL;
    free(d);
    return p;
}

static char *manifest_path(struct server *srv)
{
    char *m = fmt("%s.manifest", srv->cfg.appendfilename);
    char *p = m ? wlog_path(srv, m) : NULL;
    free(m);
    return p;
}

void wlog_manifest_free(struct wlog_manifest *m)
{
    free(m->base);
    for (size_t i = 0; i < m->nincr; i++)
        free(m->incr[i]);
    free(m->incr);
    memset(m, 0, sizeof(*m));
}

/* A file name a manifest may hold: no directory part, nothing odd. */
static int name_ok(const char *s)
{
    if (!*s || strlen(s) > 255 || strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 33 || (unsigned char)*p > 126)
            return 0;
    return 1;
}

int wlog_manifest_load(struct server *srv, struct wlog_manifest *m)
{
    memset(m, 0, sizeof(*m));
    char *path = manifest_path(srv);
    if (!path)
        return ST_ENOMEM;
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        free(path);
        return e == ENOENT ? ST_ENOENT : ST_EIO;
    }
    char line[1024];
    int rc = ST_OK, lines = 0, have_lineage = 0;
    while (rc == ST_OK && fgets(line, sizeof(line), f)) {
        size_t l = strlen(line);
        if (l == 0 || line[l - 1] != '\n') {
            rc = ST_ECORRUPT;
            break;
        }
        line[l - 1] = '\0';
        char a[300], b[300];
        unsigned long long n = 0;
        if (lines++ == 0) {
            if (strcmp(line, "strata-aof-manifest 1") != 0)
                rc = ST_ECORRUPT;
        } else if (sscanf(line, "lineage %16llx", &n) == 1) {
            m->lineage = n;
            have_lineage = 1;
        } else if (sscanf(line, "seq %llu", &n) == 1) {
            m->seq = n;
        } else if (sscanf(line, "base %299s %llu", a, &n) == 2 && name_ok(a) && !m->base) {
            m->base = strdup(a);
            m->base_offset = n;
            if (!m->base)
                rc = ST_ENOMEM;
        } else if (sscanf(line, "incr %299s", b) == 1 && name_ok(b)) {
            char **ni = realloc(m->incr, (m->nincr + 1) * sizeof(*ni));
            if (!ni || !(ni[m->nincr] = strdup(b))) {
                if (ni)
                    m->incr = ni;
                rc = ST_ENOMEM;
            } else {
                m->incr = ni;
                m->nincr++;
            }
        } else {
            rc = ST_ECORRUPT;
        }
    }
    fclose(f);
    if (rc == ST_OK && (!have_lineage || m->nincr == 0 || lines < 3))
        rc = ST_ECORRUPT;
    if (rc != ST_OK) {
        log_warn("append log: the manifest %s cannot be read (%s)", path, st_strerror(rc));
        wlog_manifest_free(m);
    }
    free(path);
    return rc;
}

/* Writes m as the manifest, atomically and durably. */
static int manifest_store(struct wlog *l, const struct wlog_manifest *m)
{
    char *path = manifest_path(l->srv), *tmp = path ? fmt("%s.tmp", path) : NULL;
    char *body = NULL;
    size_t blen = 0;
    FILE *mem = open_memstream(&body, &blen);
    int rc = ST_ENOMEM;
    if (!tmp || !mem)
        goto out;
    fprintf(mem, "strata-aof-manifest 1\nlineage %016" PRIx64 "\nseq %" PRIu64 "\n", m->lineage, m->seq);
    if (m->base)
        fprintf(mem, "base %s %" PRIu64 "\n", m->base, m->base_offset);
    for (size_t i = 0; i < m->nincr; i++)
        fprintf(mem, "incr %s\n", m->incr[i]);
    fclose(mem);
    mem = NULL;
    rc = ST_EIO;
    int h = vfs_open(l->vfs, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0, 0644, NULL);
    if (h < 0)
        goto out;
    int ok = vfs_pwrite_all(l->vfs, h, body, blen, 0) == 0 && vfs_sync(l->vfs, h) == 0;
    vfs_close(l->vfs, h);
    if (ok && l->vfs->ops->rename(l->vfs, tmp, path) == 0 && l->vfs->ops->sync_dir(l->vfs, l->dirpath) == 0)
        rc = ST_OK;
out:
    if (mem)
        fclose(mem);
    if (rc != ST_OK)
        log_warn("append log: cannot write the manifest %s (%s)", path ? path : "?", st_strerror(rc));
    free(body);
    free(tmp);
    free(path);
    return rc;
}

static int manifest_copy(struct wlog_manifest *dst, const struct wlog_manifest *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->lineage = src->lineage;
    dst->seq = src->seq;
    dst->base_offset = src->base_offset;
    if (src->base && !(dst->base = strdup(src->base)))
        return ST_ENOMEM;
    dst->incr = calloc(src->nincr ? src->nincr : 1, sizeof(char *));
    if (!dst->incr)
        return ST_ENOMEM;
    for (size_t i = 0; i < src->nincr; i++) {
        if (!(dst->incr[i] = strdup(src->incr[i])))
            return ST_ENOMEM;
        dst->nincr++;
    }
    return ST_OK;
}

static char *incr_name(const struct wlog *l, uint64_t seq)
{
    return fmt("%s.%" PRIu64 ".incr.log", l->name, seq);
}

/* ---- the log thread ----------------------------------------------------- */

static int policy(const struct wlog *l)
{
    return (int)cfg_load(l->srv->cfg.appendfsync);
}

static void set_err(struct wlog *l, int rc, const char *what)
{
    if (!l->err) {
        log_warn("append log: %s failed (%s); the log is in the failed state: writes go on, unlogged",
                 what, st_strerror(rc));
        l->err = rc;
    }
    pthread_cond_broadcast(&l->durable);
}

/* Appends the staged records of buf (n records) to the current file. */
static int drain(struct wlog *l, const unsigned char *buf, size_t len)
{
    size_t pos = 0;
    const char *argv_stack[16];
    size_t lens_stack[16];
    while (pos < len) {
        uint32_t rl, db, argc;
        int64_t t;
        memcpy(&rl, buf + pos, 4);
        memcpy(&t, buf + pos + 4, 8);
        memcpy(&db, buf + pos + 12, 4);
        memcpy(&argc, buf + pos + 16, 4);
        const char **argv = argc <= 16 ? argv_stack : malloc(argc * sizeof(*argv));
        size_t *lens = argc <= 16 ? lens_stack : malloc(argc * sizeof(*lens));
        if (!argv || !lens) {
            if (argv != argv_stack)
                free(argv);
            if (lens != lens_stack)
                free(lens);
            return ST_ENOMEM;
        }
        size_t p = pos + 20;
        for (uint32_t i = 0; i < argc; i++) {
            uint32_t al;
            memcpy(&al, buf + p, 4);
            lens[i] = al;
            argv[i] = (const char *)buf + p + 4;
            p += 4 + al;
        }
        int rc = aof_append(l->w, t, db, argc, argv, lens, NULL);
        if (argv != argv_stack)
            free(argv);
        if (lens != lens_stack)
            free(lens);
        if (rc != ST_OK)
            return rc;
        pos += 4 + rl;
    }
    return ST_OK;
}

/* Switches to a new incr file at offset off (generation seq): the thread's
 * part of a rotation. */
static int rotate_files(struct wlog *l, uint64_t off, uint64_t seq)
{
    int rc = aof_write(l->w);
    if (rc == ST_OK)
        rc = aof_sync(l->w);
    if (rc != ST_OK)
        return rc;
    char *name = incr_name(l, seq), *path = name ? wlog_path(l->srv, name) : NULL;
    if (!path) {
        free(name);
        return ST_ENOMEM;
    }
    struct aof_meta am = { .start_offset = off, .lineage = l->lineage, .created_ms = util_time_ms() };
    struct aof_writer *nw = NULL;
    rc = aof_writer_open(l->vfs, path, &am, &nw);
    free(path);
    if (rc != ST_OK) {
        free(name);
        return rc;
    }
    aof_writer_close(&l->w);
    l->w = nw;
    /* the manifest names the new file too before anything is written to it */
    pthread_mutex_lock(&l->mu);
    char **ni = realloc(l->man.incr, (l->man.nincr + 1) * sizeof(*ni));
    if (ni) {
        l->man.incr = ni;
        l->man.incr[l->man.nincr++] = name;
        name = NULL;
    }
    l->man.seq = seq;
    struct wlog_manifest copy;
    rc = ni ? manifest_copy(&copy, &l->man) : ST_ENOMEM;
    pthread_mutex_unlock(&l->mu);
    free(name);
    if (rc == ST_OK)
        rc = manifest_store(l, &copy);
    wlog_manifest_free(&copy);
    /* only now: wlog_rewrite_done waits for it and then writes the next
     * manifest, which must not race this one (one temporary name) nor be
     * replaced by it */
    pthread_mutex_lock(&l->mu);
    l->seq = seq;
    pthread_cond_broadcast(&l->durable);
    pthread_mutex_unlock(&l->mu);
    log_notice("append log: now appending to generation %" PRIu64 " at offset %" PRIu64, seq, off);
    return rc;
}

static void *log_main(void *arg)
{
    struct wlog *l = arg;
    unsigned char *spare = NULL;
    size_t spare_cap = 0;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        int pol = policy(l);
        int64_t now = util_time_ms();
        int sync_due = pol == FSYNC_EVERYSEC ? now - l->last_sync_ms >= 1000
                                             : pol == FSYNC_NO ? now - l->last_sync_ms >= WLOG_NO_SYNC_MS : 0;
        if (!l->stop && !l->slen && !l->sync_wanted && !l->rot_pending && !(sync_due && l->synced < l->written)) {
            struct timespec until;
            util_deadline(&until, pol == FSYNC_ALWAYS ? 50 : WLOG_WRITE_MS);
            pthread_cond_timedwait(&l->work, &l->mu, &until);
            if (!l->stop && !l->slen && !l->sync_wanted && !l->rot_pending)
                continue; /* re-evaluate the periodic sync */
        }
        /* take the staged records; with a rotation pending, only those
         * before it go to the old file */
        unsigned char *buf = l->stage;
        size_t len = l->slen, buf_cap = l->scap;
        uint64_t upto = l->staged;
        int rotate = 0;
        uint64_t rot_off = l->rot_off, rot_seq = l->rot_seq;
        if (l->rot_pending) {
            /* records after the rotation point stay staged */
            uint64_t keep = l->staged - l->rot_at, n = upto - l->written;
            size_t cut = 0;
            for (uint64_t i = 0; i + keep < n; i++) {
                uint32_t rl;
                memcpy(&rl, buf + cut, 4);
                cut += 4 + rl;
            }
            if (cut < len) {
                if (spare_cap < len - cut) {
                    unsigned char *ns = realloc(spare, len - cut);
                    if (ns) {
                        spare = ns;
                        spare_cap = len - cut;
                    }
                }
                if (spare_cap >= len - cut)
                    memcpy(spare, buf + cut, len - cut);
            }
            l->stage = spare;
            l->slen = len - cut;
            l->scap = spare_cap;
            spare = buf;
            spare_cap = buf_cap;
            len = cut;
            upto = l->rot_at;
            rotate = 1;
            l->rot_pending = 0;
        } else {
            l->stage = spare;
            l->scap = spare_cap;
            l->slen = 0;
            spare = buf;
            spare_cap = buf_cap;
        }
        int stopping = l->stop;
        int want = l->sync_wanted;
        l->sync_wanted = 0;
        int failed = l->err;
        pthread_mutex_unlock(&l->mu);

        int rc = ST_OK, synced = 0;
        if (!failed) {
            if (len)
                rc = drain(l, spare, len);
            if (rc == ST_OK)
                rc = aof_write(l->w);
            int do_sync = pol == FSYNC_ALWAYS || want || sync_due || stopping || rotate;
            if (rc == ST_OK && do_sync) {
                rc = aof_sync(l->w);
                synced = rc == ST_OK;
            }
            if (rc == ST_OK && rotate)
                rc = rotate_files(l, rot_off, rot_seq);
        }
        pthread_mutex_lock(&l->mu);
        if (rc != ST_OK)
            set_err(l, rc, "a write to the log");
        l->written = upto;
        l->bytes_written += len;
        if (synced) {
            l->synced = upto;
            l->fsyncs++;
            l->last_sync_ms = util_time_ms();
        } else if (pol == FSYNC_ALWAYS || failed || rc != ST_OK) {
            /* nothing more will become durable: let waiters go */
            l->synced = upto;
        }
        pthread_cond_broadcast(&l->durable);
        if (stopping && l->slen == 0 && !l->rot_pending)
            break;
    }
    pthread_mutex_unlock(&l->mu);
    free(spare);
    return NULL;
}

/* ---- appending ------------------------------------------------------------ */

/* Stages one record (mu held). */
static void stage_locked(struct wlog *l, int64_t time_ms, int db, int argc, const char *const *argv,
                         const size_t *lens)
{
    size_t body = 16;
    for (int i = 0; i < argc; i++)
        body += 4 + lens[i];
    if (l->slen + 4 + body > l->scap) {
        size_t nc = l->scap ? l->scap * 2 : 64 * 1024;
        while (nc < l->slen + 4 + body)
            nc *= 2;
        unsigned char *ns = realloc(l->stage, nc);
        if (!ns) {
            set_err(l, ST_ENOMEM, "staging a record");
            return;
        }
        l->stage = ns;
        l->scap = nc;
    }
    unsigned char *p = l->stage + l->slen;
    uint32_t rl = (uint32_t)body, d = (uint32_t)db, ac = (uint32_t)argc;
    memcpy(p, &rl, 4);
    memcpy(p + 4, &time_ms, 8);
    memcpy(p + 12, &d, 4);
    memcpy(p + 16, &ac, 4);
    size_t o = 20;
    for (int i = 0; i < argc; i++) {
        uint32_t al = (uint32_t)lens[i];
        memcpy(p + o, &al, 4);
        memcpy(p + o + 4, argv[i], lens[i]);
        o += 4 + lens[i];
    }
    l->slen += 4 + body;
    l->staged++;
    l->next_off += aof_rec_size((uint32_t)argc, lens);
    if (policy(l) == FSYNC_ALWAYS)
        pthread_cond_signal(&l->work);
}

/* Returns the record's place in the staging order (what log_need compares). */
static uint64_t stage(struct wlog *l, struct worker *w, int64_t time_ms, int db, int argc, const char *const *argv,
                      const size_t *lens)
{
    pthread_mutex_lock(&l->mu);
    stage_locked(l, time_ms, db, argc, argv, lens);
    uint64_t at = l->staged;
    if (w)
        w->log_need = at;
    pthread_mutex_unlock(&l->mu);
    return at;
}

/* The keyspace's log hook (ks->log_emit): the running command's record. */
static void emit(void *ud)
{
    struct wlog *l = ud;
    struct client *c = ks_log.cmd;
    if (!c)
        return;
    struct wlog_rw *rw = c->logrw;
    if (rw) {
        stage(l, c->w, c->now_ms, c->db, rw->argc, (const char *const *)rw->argv, rw->lens);
        return;
    }
    const char *argv_stack[16];
    size_t lens_stack[16];
    const char **argv = c->argc <= 16 ? argv_stack : malloc((size_t)c->argc * sizeof(*argv));
    size_t *lens = c->argc <= 16 ? lens_stack : malloc((size_t)c->argc * sizeof(*lens));
    if (!argv || !lens) {
        pthread_mutex_lock(&l->mu);
        set_err(l, ST_ENOMEM, "staging a record");
        pthread_mutex_unlock(&l->mu);
    } else {
        for (int i = 0; i < c->argc; i++) {
            argv[i] = c->argv[i].p;
            lens[i] = c->argv[i].len;
        }
        stage(l, c->w, c->now_ms, c->db, c->argc, argv, lens);
    }
    if (argv != argv_stack)
        free(argv);
    if (lens != lens_stack)
        free(lens);
}

void wlog_arm(struct client *c)
{
    ks_log.armed = 1;
    ks_log.changed = 0;
    ks_log.cmd = c;
}

static void rw_free(struct client *c)
{
    struct wlog_rw *rw = c->logrw;
    if (!rw)
        return;
    for (int i = 0; i < rw->argc; i++)
        free(rw->argv[i]);
    free(rw->argv);
    free(rw->lens);
    free(rw);
    c->logrw = NULL;
}

void wlog_disarm(struct client *c)
{
    /* a change with no unlock after it cannot happen (every change is made
     * under a shard lock), but a record is never lost for it */
    if (ks_log.armed && ks_log.changed)
        ks_log_fire(c->srv->ks);
    ks_log.armed = 0;
    ks_log.changed = 0;
    ks_log.cmd = NULL;
    rw_free(c);
}

void wlog_rewrite(struct client *c, int argc, const char *const *argv, const size_t *lens)
{
    if (!c->srv->wlog || !ks_log.armed)
        return;
    rw_free(c);
    struct wlog_rw *rw = calloc(1, sizeof(*rw));
    if (!rw)
        return; /* the command's own arguments get logged: see wlog.h */
    rw->argv = calloc((size_t)argc, sizeof(char *));
    rw->lens = calloc((size_t)argc, sizeof(size_t));
    if (!rw->argv || !rw->lens) {
        free(rw->argv);
        free(rw->lens);
        free(rw);
        return;
    }
    for (int i = 0; i < argc; i++) {
        rw->argv[i] = malloc(lens[i] ? lens[i] : 1);
        if (!rw->argv[i]) {
            rw->argc = i;
            c->logrw = rw;
            rw_free(c);
            return;
        }
        memcpy(rw->argv[i], argv[i], lens[i]);
        rw->lens[i] = lens[i];
    }
    rw->argc = argc;
    c->logrw = rw;
}

uint64_t wlog_append(struct wlog *l, int64_t time_ms, int db, int argc, const char *const *argv,
                     const size_t *lens)
{
    if (!l)
        return 0;
    /* the running command's own record comes first (it made this one) */
    if (ks_log.armed && ks_log.changed)
        ks_log_fire(l->srv->ks);
    struct client *c = ks_log.cmd;
    return stage(l, c ? c->w : NULL, time_ms, db, argc, argv, lens);
}

uint64_t wlog_append_key(struct wlog *l, int db, const char *name, const char *key, size_t klen, int n,
                         const char *const *args, const size_t *lens)
{
    uint64_t at = 0;
    if (!l)
        return 0;
    const char *argv_stack[16];
    size_t lens_stack[16];
    int argc = n + 2;
    const char **argv = argc <= 16 ? argv_stack : malloc((size_t)argc * sizeof(*argv));
    size_t *al = argc <= 16 ? lens_stack : malloc((size_t)argc * sizeof(*al));
    if (argv && al) {
        argv[0] = name;
        al[0] = strlen(name);
        argv[1] = key;
        al[1] = klen;
        for (int i = 0; i < n; i++) {
            argv[i + 2] = args[i];
            al[i + 2] = lens[i];
        }
        at = wlog_append(l, util_time_ms(), db, argc, argv, al);
    } else {
        pthread_mutex_lock(&l->mu);
        set_err(l, ST_ENOMEM, "staging a record");
        pthread_mutex_unlock(&l->mu);
    }
    if (argv != argv_stack)
        free(argv);
    if (al != lens_stack)
        free(al);
    return at;
}

void wlog_wait_durable(struct wlog *l, struct worker *w)
{
    if (!l || !w->log_need || policy(l) != FSYNC_ALWAYS)
        return;
    pthread_mutex_lock(&l->mu);
    if (l->synced < w->log_need) {
        l->sync_wanted = 1;
        pthread_cond_signal(&l->work);
        while (l->synced < w->log_need && !l->err && !l->stop)
            pthread_cond_wait(&l->durable, &l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    w->log_need = 0;
}

uint64_t wlog_offset(struct wlog *l)
{
    pthread_mutex_lock(&l->mu);
    uint64_t o = l->next_off;
    pthread_mutex_unlock(&l->mu);
    return o;
}

uint64_t wlog_lineage(struct wlog *l)
{
    return l->lineage;
}

uint64_t wlog_generation(struct wlog *l)
{
    pthread_mutex_lock(&l->mu);
    uint64_t s = l->rot_pending ? l->rot_seq : l->seq;
    pthread_mutex_unlock(&l->mu);
    return s;
}

/* ---- rotation (BGREWRITEAOF) ------------------------------------------------ */

int wlog_rotate_locked(struct wlog *l, uint64_t *offset, uint64_t *seq)
{
    pthread_mutex_lock(&l->mu);
    if (l->rot_pending || l->err) {
        int rc = l->err ? l->err : ST_EAGAIN;
        pthread_mutex_unlock(&l->mu);
        return rc;
    }
    l->rot_pending = 1;
    l->rot_at = l->staged;
    l->rot_off = l->next_off;
    l->rot_seq = l->seq + 1;
    *offset = l->rot_off;
    *seq = l->rot_seq;
    pthread_cond_signal(&l->work);
    pthread_mutex_unlock(&l->mu);
    return ST_OK;
}

int wlog_rewrite_done(struct wlog *l, uint64_t seq, const char *base, uint64_t base_offset)
{
    /* the rotation to seq must have happened (the log thread does it within
     * milliseconds of rotate_locked): wait for it */
    pthread_mutex_lock(&l->mu);
    while ((l->rot_pending || l->seq < seq) && !l->err)
        pthread_cond_wait(&l->durable, &l->mu);
    if (l->err) {
        int rc = l->err;
        pthread_mutex_unlock(&l->mu);
        return rc;
    }
    struct wlog_manifest old, next = { 0 };
    int rc = manifest_copy(&old, &l->man);
    next.lineage = l->lineage;
    next.seq = l->man.seq;
    next.base = strdup(base);
    next.base_offset = base_offset;
    next.incr = calloc(1, sizeof(char *));
    if (next.incr && l->man.nincr)
        next.incr[0] = strdup(l->man.incr[l->man.nincr - 1]);
    next.nincr = next.incr && next.incr[0] ? 1 : 0;
    pthread_mutex_unlock(&l->mu);
    if (rc != ST_OK || !next.base || next.nincr != 1) {
        wlog_manifest_free(&old);
        wlog_manifest_free(&next);
        return ST_ENOMEM;
    }
    rc = manifest_store(l, &next);
    if (rc == ST_OK) {
        /* what the new manifest no longer names goes */
        if (old.base && strcmp(old.base, base) != 0) {
            char *p = wlog_path(l->srv, old.base);
            if (p)
                l->vfs->ops->unlink(l->vfs, p);
            free(p);
        }
        for (size_t i = 0; i + 1 < old.nincr; i++) {
            char *p = wlog_path(l->srv, old.incr[i]);
            if (p)
                l->vfs->ops->unlink(l->vfs, p);
            free(p);
        }
        l->vfs->ops->sync_dir(l->vfs, l->dirpath);
        pthread_mutex_lock(&l->mu);
        wlog_manifest_free(&l->man);
        l->man = next;
        memset(&next, 0, sizeof(next));
        pthread_mutex_unlock(&l->mu);
        log_notice("append log: rewritten: base %s at offset %" PRIu64, base, base_offset);
    }
    wlog_manifest_free(&old);
    wlog_manifest_free(&next);
    return rc;
}

/* ---- lifecycle ------------------------------------------------------------ */

int wlog_open(struct server *srv, const struct wlog_manifest *m, uint64_t next_offset, uint64_t lineage,
              struct wlog **out)
{
    *out = NULL;
    struct wlog *l = calloc(1, sizeof(*l));
    if (!l)
        return ST_ENOMEM;
    l->srv = srv;
    l->vfs = vfs_posix();
    l->dirpath = log_dir(srv);
    l->name = strdup(srv->cfg.appendfilename);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->work, NULL);
    pthread_cond_init(&l->durable, NULL);
    l->next_off = next_offset;
    l->last_sync_ms = util_time_ms();
    int rc = ST_ENOMEM;
    if (!l->dirpath || !l->name)
        goto fail;
    if (l->vfs->ops->mkdir(l->vfs, l->dirpath, 0755) != 0) {
        log_warn("append log: cannot create the directory %s", l->dirpath);
        rc = ST_EIO;
        goto fail;
    }
    if (m) {
        if ((rc = manifest_copy(&l->man, m)) != ST_OK)
            goto fail;
        l->lineage = m->lineage;
        l->seq = m->seq;
        char *path = wlog_path(srv, m->incr[m->nincr - 1]);
        struct aof_meta am;
        rc = path ? aof_writer_reopen(l->vfs, path, &l->w, &am) : ST_ENOMEM;
        if (rc == ST_OK && aof_offset(l->w) != next_offset)
            rc = ST_ECORRUPT; /* recovery and the file disagree */
        if (rc != ST_OK)
            log_warn("append log: cannot continue %s (%s)", path ? path : "?", st_strerror(rc));
        free(path);
        if (rc != ST_OK)
            goto fail;
    } else {
        l->lineage = lineage;
        l->seq = 1;
        char *name = incr_name(l, 1), *path = name ? wlog_path(srv, name) : NULL;
        struct aof_meta am = { .start_offset = next_offset, .lineage = lineage, .created_ms = util_time_ms() };
        /* a left-over file of an abandoned lineage must not stop the start */
        if (path)
            l->vfs->ops->unlink(l->vfs, path);
        rc = path ? aof_writer_open(l->vfs, path, &am, &l->w) : ST_ENOMEM;
        free(path);
        if (rc != ST_OK) {
            free(name);
            log_warn("append log: cannot create the first log file (%s)", st_strerror(rc));
            goto fail;
        }
        l->man.lineage = lineage;
        l->man.seq = 1;
        l->man.incr = calloc(1, sizeof(char *));
        if (!l->man.incr) {
            free(name);
            rc = ST_ENOMEM;
            goto fail;
        }
        l->man.incr[0] = name;
        l->man.nincr = 1;
        if ((rc = manifest_store(l, &l->man)) != ST_OK)
            goto fail;
        log_notice("append log: started lineage %016" PRIx64 " at offset %" PRIu64 " in %s", lineage, next_offset,
                   l->dirpath);
    }
    if (pthread_create(&l->thread, NULL, log_main, l) != 0) {
        rc = ST_ENOMEM;
        goto fail;
    }
    l->started = 1;
    srv->ks->log_emit = emit;
    srv->ks->log_ud = l;
    *out = l;
    return ST_OK;
fail:
    if (l->w)
        aof_writer_close(&l->w);
    wlog_manifest_free(&l->man);
    pthread_cond_destroy(&l->durable);
    pthread_cond_destroy(&l->work);
    pthread_mutex_destroy(&l->mu);
    free(l->dirpath);
    free(l->name);
    free(l);
    return rc;
}

void wlog_close(struct wlog **lp)
{
    struct wlog *l = *lp;
    if (!l)
        return;
    l->srv->ks->log_emit = NULL;
    l->srv->ks->log_ud = NULL;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        pthread_cond_signal(&l->work);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    if (l->w && aof_writer_close(&l->w) != ST_OK)
        log_warn("append log: closing the log failed: its last records may not be durable");
    wlog_manifest_free(&l->man);
    free(l->stage);
    pthread_cond_destroy(&l->durable);
    pthread_cond_destroy(&l->work);
    pthread_mutex_destroy(&l->mu);
    free(l->dirpath);
    free(l->name);
    free(l);
    *lp = NULL;
}

void wlog_info(struct wlog *l, void (*add)(void *ud, const char *line), void *ud)
{
    char line[256];
    pthread_mutex_lock(&l->mu);
    const struct {
        const char *name;
        uint64_t v;
    } f[] = {
        { "aof_offset", l->next_off },          { "aof_generation", l->seq },
        { "aof_records_staged", l->staged },    { "aof_records_written", l->written },
        { "aof_records_synced", l->synced },    { "aof_bytes_written", l->bytes_written },
        { "aof_fsyncs", l->fsyncs },            { "aof_rotation_pending", (uint64_t)l->rot_pending },
    };
    int err = l->err;
    pthread_mutex_unlock(&l->mu);
    snprintf(line, sizeof(line), "aof_last_write_status:%s\r\n", err ? "err" : "ok");
    add(ud, line);
    snprintf(line, sizeof(line), "aof_lineage:%016" PRIx64 "\r\n", l->lineage);
    add(ud, line);
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        snprintf(line, sizeof(line), "%s:%" PRIu64 "\r\n", f[i].name, f[i].v);
        add(ud, line);
    }
}
