/*
 * persist.c -- the persistence thread (BGSAVE, SAVE, save rules, backups,
 * BGREWRITEAOF) and recovery at start (contract in persist.h).
 *
 * Files, all under `dir`:
 *   <dbfilename>                     the snapshot SAVE/BGSAVE/rules write
 *   <backup-dir>/<stem>-YYYYmmdd-HHMMSS.sts   backups, backup-keep of them
 *   <appenddirname>/...              the append log (wlog.c)
 *
 * Recovery picks one starting state, in this order:
 *   1. --restore FILE: that snapshot (it must be whole and valid);
 *   2. appendonly yes and a log manifest: its base snapshot, if any, then
 *      every record of its incr files, in order (a torn tail is dropped with
 *      a log line; damage in the middle stops start-up with the offset,
 *      unless aof-load-damaged truncate);
 *   3. otherwise dbfilename; if it is damaged, the newest valid backup (the
 *      log says so); if none is valid, start-up stops.
 * With a PMem tier and pmem-on-start attach, the snapshot's cold items
 * whose records are still in the pool become stubs for them without
 * reading them (tiering_persist.c); what no snapshot item names is freed.
 * The SSD tier's re-attached keys are dropped whenever a snapshot or log
 * is loaded (the snapshot holds every key of that tier as of its T0 and the
 * log the rest); with neither, they are kept (issue 5's warm SSD).
 *
 * Replaying a record runs its command through client_run on a client with
 * no socket (CLIENT_REPLAY: it never blocks), at the record's time (so TTLs
 * and expiries come out the same), with the append log not yet open.
 *
 * Threads: the persistence thread; callers of the commands (workers), who
 * take `mu`; the start-up and shutdown thread.
 */
#include "server/persist.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/aof.h"
#include "engine/err.h"
#include "engine/keyspace.h"
#include "engine/util.h"
#include "engine/vfs.h"
#include "server/client.h"
#include "server/client_internal.h"
#include "server/cmd.h"
#include "server/config.h"
#include "server/log.h"
#include "server/server.h"
#include "server/snapshot.h"
#include "server/tiering.h"
#include "server/wlog.h"

enum job { JOB_NONE = 0, JOB_SAVE = 1, JOB_REWRITE = 2, JOB_BACKUP = 3 };

struct persist {
    struct server *srv;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* mu: a request, or stop */
    pthread_cond_t done; /* mu: a job ended */
    pthread_t thread;
    int started, stop;
    /* mu: */
    int want_save, want_rewrite, want_backup;
    int running;                 /* enum job */
    uint64_t saves_begun, saves_done; /* SAVE waits until saves_done passes its number */
    int last_save_rc;
    int64_t lastsave_s;          /* unix seconds of the last successful snapshot (LASTSAVE) */
    int64_t last_try_ms;         /* the last attempt (a failed one is retried after 5 s) */
    int last_bgsave_ok;
    _Atomic int save_failed;     /* the last snapshot failed (read without mu by every write) */
    int64_t last_bgsave_secs, cur_start_ms;
    uint64_t dirty_at_save;      /* the change count at the last successful snapshot's T0 */
    uint64_t rdb_saves;
    struct snapshot_result last;
    int last_rewrite_ok;
    int64_t last_rewrite_secs;
    uint64_t rewrites, rewrite_failures_in_row;
    uint64_t aof_base_offset, aof_base_size;
    int64_t last_backup_ms;
    uint64_t backups;
    /* start-up */
    int64_t load_ms;
    uint64_t loaded_keys, loaded_expired, attached, replayed;
    int loaded_from;             /* 0 nothing, 1 snapshot, 2 log */
};

static struct persist *P(struct server *srv)
{
    return srv->persist;
}

/* ---- paths ---------------------------------------------------------------- */

static char *path_in_dir(struct server *srv, const char *name)
{
    char *p = NULL;
    pthread_mutex_lock(&srv->cfg.lock);
    const char *d = srv->cfg.dir && srv->cfg.dir[0] ? srv->cfg.dir : ".";
    if (asprintf(&p, "%s/%s", d, name) < 0)
        p = NULL;
    pthread_mutex_unlock(&srv->cfg.lock);
    return p;
}

static char *dump_path(struct server *srv)
{
    pthread_mutex_lock(&srv->cfg.lock);
    char *name = strdup(srv->cfg.dbfilename);
    pthread_mutex_unlock(&srv->cfg.lock);
    char *p = name ? path_in_dir(srv, name) : NULL;
    free(name);
    return p;
}

static char *backup_dir(struct server *srv)
{
    return path_in_dir(srv, srv->cfg.backup_dir);
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static uint64_t changes_now(struct server *srv)
{
    struct ks_stats st;
    ks_stats(srv->ks, &st);
    return st.dirty;
}

/* ---- backups ---------------------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The backups in the backup directory, oldest first (names sort by time). */
static char **list_backups(struct server *srv, size_t *n)
{
    *n = 0;
    char *d = backup_dir(srv);
    DIR *dir = d ? opendir(d) : NULL;
    char **v = NULL;
    size_t cap = 0;
    if (dir) {
        struct dirent *de;
        while ((de = readdir(dir))) {
            size_t l = strlen(de->d_name);
            if (l < 21 || strncmp(de->d_name, "backup-", 7) != 0 || strcmp(de->d_name + l - 4, ".sts") != 0)
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                char **nv = realloc(v, cap * sizeof(*nv));
                if (!nv)
                    break;
                v = nv;
            }
            char *full = NULL;
            if (asprintf(&full, "%s/%s", d, de->d_name) >= 0)
                v[(*n)++] = full;
        }
        closedir(dir);
    }
    free(d);
    if (*n)
        qsort(v, *n, sizeof(*v), name_cmp);
    return v;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void prune_backups(struct server *srv)
{
    size_t n = 0;
    char **v = list_backups(srv, &n);
    long long keep = cfg_load(srv->cfg.backup_keep);
    for (size_t i = 0; keep > 0 && i + (size_t)keep < n; i++) {
        if (unlink(v[i]) == 0)
            log_notice("backup: removed %s (backup-keep %lld)", v[i], keep);
    }
    free_list(v, n);
}

/* ---- leftovers of a crash ---------------------------------------------------
 *
 * A process killed while it writes a snapshot leaves its temporary file
 * (<final>.tmp-<pid>, engine/snap.c never renames a partial one), and one
 * killed between a rewrite's base and its manifest swap leaves a finished
 * base no manifest names, or the manifest's own temporary. None of them is
 * ever read (recovery goes by the final names and the manifest), but each
 * crash would leave another, as large as a snapshot. So once recovery has
 * read what it needs, they are removed, each with a log line. Log files are
 * removed only when a manifest was read and does not name them: without a
 * manifest, files there may be all that is left of the data. */

struct sweep {
    const char *prefix;          /* names start with it */
    const struct wlog_manifest *m; /* log directory: keep what it names */
};

static int named_by(const struct wlog_manifest *m, const char *name)
{
    if (m->base && strcmp(m->base, name) == 0)
        return 1;
    for (size_t i = 0; i < m->nincr; i++)
        if (strcmp(m->incr[i], name) == 0)
            return 1;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t l = strlen(s), n = strlen(suffix);
    return l >= n && strcmp(s + l - n, suffix) == 0;
}

static int is_leftover(const char *name, const struct sweep *w)
{
    size_t pl = strlen(w->prefix);
    if (strncmp(name, w->prefix, pl) != 0)
        return 0;
    if (strstr(name + pl, ".tmp-") || (w->m && strcmp(name + pl, ".manifest.tmp") == 0))
        return 1;
    /* <appendfilename>.<seq>.base.sts / .incr.log the manifest does not name */
    return w->m && name[pl] == '.' && (ends_with(name, ".base.sts") || ends_with(name, ".incr.log")) &&
           !named_by(w->m, name);
}

static void sweep_dir(const char *dir, const struct sweep *w)
{
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_leftover(de->d_name, w))
            continue;
        char *full = NULL;
        if (asprintf(&full, "%s/%s", dir, de->d_name) < 0)
            continue;
        if (unlink(full) == 0)
            log_notice("removed %s, left by an interrupted save or rewrite", full);
        else
            log_warn("cannot remove %s (left by an interrupted save or rewrite): %s", full, strerror(errno));
        free(full);
    }
    closedir(d);
}

/* m: the manifest recovery read, or NULL when there was none. */
static void remove_leftovers(struct server *srv, const struct wlog_manifest *m)
{
    pthread_mutex_lock(&srv->cfg.lock);
    char *db = strdup(srv->cfg.dbfilename), *aof = strdup(srv->cfg.appendfilename);
    pthread_mutex_unlock(&srv->cfg.lock);
    char *dir = path_in_dir(srv, "."), *bdir = backup_dir(srv), *ldir = wlog_path(srv, ".");
    if (db && aof) {
        sweep_dir(dir, &(struct sweep){ .prefix = db });
        sweep_dir(bdir, &(struct sweep){ .prefix = "backup-" });
        sweep_dir(ldir, &(struct sweep){ .prefix = aof, .m = m });
    }
    free(db);
    free(aof);
    free(dir);
    free(bdir);
    free(ldir);
}

/* ---- the jobs ------------------------------------------------------------- */

static char *rewrite_base_name(struct server *srv, uint64_t seq)
{
    char *n = NULL;
    if (asprintf(&n, "%s.%" PRIu64 ".base.sts", srv->cfg.appendfilename, seq) < 0)
        n = NULL;
    return n;
}

static int run_job(struct persist *p, int job)
{
    struct server *srv = p->srv;
    struct snapshot_opts o = { .rotate = job == JOB_REWRITE };
    struct snapshot_result res;
    char *path = NULL, *name = NULL;
    int rc;
    if (job == JOB_REWRITE) {
        /* the base is named for the generation the rotation starts */
        name = rewrite_base_name(srv, wlog_generation(srv->wlog) + 1);
        path = name ? wlog_path(srv, name) : NULL;
    } else if (job == JOB_BACKUP) {
        char *d = backup_dir(srv);
        if (d && mkdir(d, 0755) != 0 && errno != EEXIST)
            log_warn("backup: cannot create %s: %s", d, strerror(errno));
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
        if (d && asprintf(&path, "%s/backup-%s.sts", d, stamp) < 0)
            path = NULL;
        free(d);
    } else {
        path = dump_path(srv);
    }
    if (!path) {
        free(name);
        return ST_ENOMEM;
    }
    log_notice("%s started", job == JOB_REWRITE ? "Background append only file rewriting"
                             : job == JOB_BACKUP ? "Backup" : "Background saving");
    rc = snapshot_write(srv, path, &o, &res);
    if (rc == ST_OK && job == JOB_REWRITE)
        rc = wlog_rewrite_done(srv->wlog, res.log_seq, name, res.log_offset);
    double secs = (double)res.elapsed_us / 1e6;
    if (rc == ST_OK)
        log_notice("%s: %s, %" PRIu64 " keys (%" PRIu64 " hot, %" PRIu64 " cold), %" PRIu64
                   " bytes in %.3f s (%.1f MB/s); %" PRIu64 " values copied for writers, peak %" PRIu64 " bytes",
                   job == JOB_REWRITE ? "Append only file rewritten" : "DB saved on disk", path, res.keys, res.hot,
                   res.cold, res.bytes, secs, secs > 0 ? (double)res.bytes / 1e6 / secs : 0.0, res.captured,
                   res.capture_peak);
    else
        log_warn("%s failed (%s): %s", job == JOB_REWRITE ? "Append only file rewrite" : "Snapshot",
                 st_strerror(rc), path);
    pthread_mutex_lock(&p->mu);
    if (job == JOB_REWRITE) {
        p->last_rewrite_ok = rc == ST_OK;
        p->last_rewrite_secs = (int64_t)(secs + 0.5);
        if (rc == ST_OK) {
            p->rewrites++;
            p->rewrite_failures_in_row = 0;
            p->aof_base_offset = res.log_offset;
            p->aof_base_size = res.bytes;
        } else {
            p->rewrite_failures_in_row++;
        }
    }
    if (job != JOB_REWRITE) {
        p->last_bgsave_ok = rc == ST_OK;
        atomic_store_explicit(&p->save_failed, rc != ST_OK, memory_order_relaxed);
        p->last_bgsave_secs = (int64_t)(secs + 0.5);
    }
    /* any whole snapshot of the data counts for the save rules and LASTSAVE */
    if (rc == ST_OK) {
        p->lastsave_s = res.t0_ms / 1000;
        p->dirty_at_save = res.dirty_at_t0;
        p->rdb_saves++;
        p->last = res;
        if (job == JOB_BACKUP)
            p->backups++;
    }
    pthread_mutex_unlock(&p->mu);
    if (rc == ST_OK && job == JOB_BACKUP)
        prune_backups(srv);
    free(path);
    free(name);
    return rc;
}

/* Whether a save rule fires now (mu held) with `now_changes` the change
 * count read before mu was taken: reading it takes every shard lock, and a
 * worker may hold a shard lock (deferred, keyspace.h) while it waits for mu
 * in INFO. */
static int rule_due(struct persist *p, int64_t now_ms, uint64_t now_changes)
{
    struct server *srv = p->srv;
    uint64_t changes = now_changes - p->dirty_at_save;
    if (now_changes < p->dirty_at_save || changes == 0)
        return 0;
    if (!p->last_bgsave_ok && now_ms - p->last_try_ms < 5000)
        return 0; /* a failed snapshot is retried after 5 s, as Redis does */
    int due = 0;
    pthread_mutex_lock(&srv->cfg.lock);
    for (int i = 0; i < srv->cfg.nsave && !due; i++)
        due = (long long)changes >= srv->cfg.save_changes[i] &&
              now_ms / 1000 - p->lastsave_s >= srv->cfg.save_secs[i];
    pthread_mutex_unlock(&srv->cfg.lock);
    return due;
}

static int rewrite_due(struct persist *p)
{
    struct server *srv = p->srv;
    long long pct = cfg_load(srv->cfg.auto_aof_rewrite_percentage);
    if (!srv->wlog || pct <= 0 || p->rewrite_failures_in_row > 0)
        return 0;
    uint64_t incr = wlog_offset(srv->wlog) - p->aof_base_offset;
    uint64_t base = p->aof_base_size ? p->aof_base_size : 1;
    return incr >= (uint64_t)cfg_load(srv->cfg.auto_aof_rewrite_min_size) && incr * 100 >= base * (uint64_t)pct;
}

static void *persist_main(void *arg)
{
    struct persist *p = arg;
    struct server *srv = p->srv;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        pthread_mutex_lock(&srv->cfg.lock);
        int rules = srv->cfg.nsave > 0;
        pthread_mutex_unlock(&srv->cfg.lock);
        uint64_t now_changes = 0;
        if (rules) {
            pthread_mutex_unlock(&p->mu); /* no shard lock under mu (rule_due) */
            now_changes = changes_now(srv);
            pthread_mutex_lock(&p->mu);
        }
        int64_t now = util_time_ms();
        long long bi = cfg_load(srv->cfg.backup_interval);
        if (bi > 0 && now - p->last_backup_ms >= bi * 1000)
            p->want_backup = 1;
        if (rules && !p->want_save && rule_due(p, now, now_changes))
            p->want_save = 1;
        if (!p->want_rewrite && rewrite_due(p))
            p->want_rewrite = 1;
        int job = p->want_save ? JOB_SAVE : p->want_rewrite ? JOB_REWRITE : p->want_backup ? JOB_BACKUP : JOB_NONE;
        if (job == JOB_NONE) {
            struct timespec until;
            util_deadline(&until, 100);
            pthread_cond_timedwait(&p->wake, &p->mu, &until);
            continue;
        }
        if (job == JOB_SAVE)
            p->want_save = 0;
        else if (job == JOB_REWRITE)
            p->want_rewrite = 0;
        else {
            p->want_backup = 0;
            p->last_backup_ms = now;
        }
        uint64_t num = job == JOB_SAVE ? p->saves_begun : 0;
        p->running = job;
        p->cur_start_ms = now;
        p->last_try_ms = now;
        pthread_mutex_unlock(&p->mu);
        int rc = run_job(p, job);
        pthread_mutex_lock(&p->mu);
        p->running = JOB_NONE;
        if (job == JOB_SAVE) {
            p->saves_done = num;
            p->last_save_rc = rc;
        }
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the commands ----------------------------------------------------------- */

int persist_bgsave(struct server *srv, int schedule)
{
    struct persist *p = P(srv);
    pthread_mutex_lock(&p->mu);
    int r;
    if (p->running == JOB_SAVE || p->running == JOB_BACKUP || p->want_save) {
        r = PERSIST_BUSY;
    } else if (p->running == JOB_REWRITE) {
        r = schedule ? PERSIST_SCHEDULED : PERSIST_REWRITING;
        if (schedule) {
            p->want_save = 1;
            p->saves_begun++;
        }
    } else {
        p->want_save = 1;
        p->saves_begun++;
        r = PERSIST_STARTED;
        pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&p->mu);
    return r;
}

int persist_save(struct server *srv)
{
    struct persist *p = P(srv);
    pthread_mutex_lock(&p->mu);
    if (p->running != JOB_NONE || p->want_save) {
        pthread_mutex_unlock(&p->mu);
        return ST_EAGAIN;
    }
    p->want_save = 1;
    uint64_t mine = ++p->saves_begun;
    pthread_cond_signal(&p->wake);
    while (p->saves_done < mine && !p->stop)
        pthread_cond_wait(&p->done, &p->mu);
    int rc = p->saves_done >= mine ? p->last_save_rc : ST_EIO;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int persist_bgrewriteaof(struct server *srv)
{
    struct persist *p = P(srv);
    if (!srv->wlog)
        return PERSIST_NOLOG;
    pthread_mutex_lock(&p->mu);
    int r;
    if (p->running == JOB_REWRITE || (p->want_rewrite && p->running == JOB_NONE)) {
        r = PERSIST_BUSY;
    } else if (p->running != JOB_NONE) {
        p->want_rewrite = 1;
        r = PERSIST_SCHEDULED;
    } else {
        p->want_rewrite = 1;
        r = PERSIST_STARTED;
        pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&p->mu);
    return r;
}

int64_t persist_lastsave(struct server *srv)
{
    struct persist *p = P(srv);
    pthread_mutex_lock(&p->mu);
    int64_t s = p->lastsave_s;
    pthread_mutex_unlock(&p->mu);
    return s;
}

int persist_misconf(struct server *srv)
{
    struct persist *p = P(srv);
    if (!p || !atomic_load_explicit(&p->save_failed, memory_order_relaxed) ||
        !cfg_load(srv->cfg.stop_writes_on_bgsave_error))
        return 0;
    pthread_mutex_lock(&srv->cfg.lock);
    int rules = srv->cfg.nsave > 0;
    pthread_mutex_unlock(&srv->cfg.lock);
    return rules;
}

void persist_wait_snapshot(struct server *srv)
{
    struct persist *p = P(srv);
    if (!p || pthread_equal(pthread_self(), p->thread))
        return;
    pthread_mutex_lock(&p->mu);
    while (p->running != JOB_NONE && !p->stop)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/* ---- INFO persistence --------------------------------------------------------- */

void persist_info(struct server *srv, void (*add)(void *ud, const char *line), void *ud)
{
    struct persist *p = P(srv);
    char line[256];
    pthread_mutex_lock(&p->mu);
    struct persist c;
    memcpy(&c, p, sizeof(c));
    pthread_mutex_unlock(&p->mu);
    int64_t now = util_time_ms();
    int saving = c.running == JOB_SAVE || c.running == JOB_BACKUP;
#define LINE(...)                                 \
    do {                                          \
        snprintf(line, sizeof(line), __VA_ARGS__); \
        add(ud, line);                            \
    } while (0)
    LINE("loading:0\r\n");
    LINE("async_loading:0\r\n");
    LINE("current_cow_peak:0\r\n");
    LINE("current_cow_size:0\r\n");
    LINE("current_fork_perc:0.00\r\n");
    LINE("rdb_changes_since_last_save:%" PRIu64 "\r\n", changes_now(srv) - c.dirty_at_save);
    LINE("rdb_bgsave_in_progress:%d\r\n", saving);
    LINE("rdb_last_save_time:%" PRId64 "\r\n", c.lastsave_s);
    LINE("rdb_last_bgsave_status:%s\r\n", c.last_bgsave_ok ? "ok" : "err");
    LINE("rdb_last_bgsave_time_sec:%" PRId64 "\r\n", c.last_bgsave_secs);
    LINE("rdb_current_bgsave_time_sec:%" PRId64 "\r\n", saving ? (now - c.cur_start_ms) / 1000 : -1);
    LINE("rdb_saves:%" PRIu64 "\r\n", c.rdb_saves);
    /* no fork: what writers made the snapshot copy is the copy-on-write size */
    LINE("rdb_last_cow_size:%" PRIu64 "\r\n", c.last.capture_peak);
    LINE("rdb_last_load_keys_expired:%" PRIu64 "\r\n", c.loaded_expired);
    LINE("rdb_last_load_keys_loaded:%" PRIu64 "\r\n", c.loaded_keys);
    LINE("aof_enabled:%d\r\n", srv->wlog != NULL);
    LINE("aof_rewrite_in_progress:%d\r\n", c.running == JOB_REWRITE);
    LINE("aof_rewrite_scheduled:%d\r\n", c.want_rewrite);
    LINE("aof_last_rewrite_time_sec:%" PRId64 "\r\n", c.last_rewrite_secs);
    LINE("aof_current_rewrite_time_sec:%" PRId64 "\r\n",
         c.running == JOB_REWRITE ? (now - c.cur_start_ms) / 1000 : -1);
    LINE("aof_last_bgrewrite_status:%s\r\n", c.last_rewrite_ok ? "ok" : "err");
    LINE("aof_rewrites:%" PRIu64 "\r\n", c.rewrites);
    LINE("aof_rewrites_consecutive_failures:%" PRIu64 "\r\n", c.rewrite_failures_in_row);
    if (srv->wlog) {
        uint64_t off = wlog_offset(srv->wlog);
        LINE("aof_current_size:%" PRIu64 "\r\n", c.aof_base_size + (off - c.aof_base_offset));
        LINE("aof_base_size:%" PRIu64 "\r\n", c.aof_base_size);
        wlog_info(srv->wlog, add, ud);
    } else {
        LINE("aof_last_write_status:ok\r\n");
    }
    LINE("snapshot_last_keys:%" PRIu64 "\r\n", c.last.keys);
    LINE("snapshot_last_bytes:%" PRIu64 "\r\n", c.last.bytes);
    LINE("snapshot_last_ms:%" PRId64 "\r\n", c.last.elapsed_us / 1000);
    LINE("snapshot_last_captured:%" PRIu64 "\r\n", c.last.captured);
    LINE("snapshot_last_capture_peak_bytes:%" PRIu64 "\r\n", c.last.capture_peak);
    LINE("backups:%" PRIu64 "\r\n", c.backups);
    LINE("recovery_source:%s\r\n", c.loaded_from == 1 ? "snapshot" : c.loaded_from == 2 ? "log" : "none");
    LINE("recovery_ms:%" PRId64 "\r\n", c.load_ms);
    LINE("recovery_pmem_attached:%" PRIu64 "\r\n", c.attached);
    LINE("recovery_log_records:%" PRIu64 "\r\n", c.replayed);
#undef LINE
}

/* ---- recovery ----------------------------------------------------------------- */

static void empty_everything(struct server *srv)
{
    ks_flush(srv->ks, -1, 0);
}

static int load_one(struct server *srv, struct persist *p, const char *path, struct snap_meta *meta)
{
    struct snapshot_load_stats ls;
    log_notice("loading the snapshot %s", path);
    int rc = snapshot_load(srv, path, SNAPSHOT_LOAD_ATTACH, meta, &ls);
    if (rc != ST_OK) {
        log_warn("the snapshot %s cannot be loaded (%s)%s", path, st_strerror(rc),
                 rc == ST_ECORRUPT ? ": it is damaged (strata-inspect verify shows where)" : "");
        empty_everything(srv);
        return rc;
    }
    p->loaded_keys += ls.hot + ls.cold - ls.duplicates;
    p->loaded_expired += ls.expired;
    p->attached += ls.attached;
    log_notice("snapshot %s loaded in %.3f s: %" PRIu64 " hot keys, %" PRIu64 " cold (%" PRIu64
               " re-attached in PMem, %" PRIu64 " stored in a tier, %" PRIu64 " into DRAM), %" PRIu64
               " expired skipped, log offset %" PRIu64,
               path, (double)ls.elapsed_us / 1e6, ls.hot, ls.cold, ls.attached, ls.stored, ls.decoded, ls.expired,
               meta->log_offset);
    return ST_OK;
}

/* The replay client: no socket, never blocks, replies dropped. */
static struct client *replay_client(struct server *srv)
{
    struct client *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = -1;
    c->srv = srv;
    c->w = srv->workers[0];
    c->resp = 2;
    c->flags = CLIENT_AUTHED | CLIENT_REPLAY;
    snprintf(c->addr, sizeof(c->addr), "replay");
    return c;
}

static void replay_client_free(struct client *c)
{
    if (!c)
        return;
    free(c->obuf);
    free(c->argv);
    free(c->pins);
    free(c);
}

/* Runs one record. ST_OK, or ST_ECORRUPT for a record no command matches. */
static int replay_one(struct server *srv, struct client *c, const struct aof_rec *r)
{
    const struct cmd_entry *e = cmd_lookup(srv->cmds, r->argv[0], r->argvlen[0]);
    if (e && e->def->subcmds && r->argc >= 2)
        e = cmd_lookup_sub(e, r->argv[1], r->argvlen[1]);
    if (!e || !(e->def->flags & CMD_WRITE) || r->db >= srv->ks->databases) {
        log_warn("append log: the record at offset %" PRIu64 " is not a write command this server knows ('%.*s')",
                 r->offset, (int)(r->argvlen[0] > 32 ? 32 : r->argvlen[0]), r->argv[0]);
        return ST_ECORRUPT;
    }
    if ((int)r->argc > c->argv_cap) {
        struct arg *na = realloc(c->argv, r->argc * sizeof(*na));
        if (!na)
            return ST_ENOMEM;
        c->argv = na;
        c->argv_cap = (int)r->argc;
    }
    for (uint32_t i = 0; i < r->argc; i++) {
        c->argv[i].p = r->argv[i] ? r->argv[i] : "";
        c->argv[i].len = r->argvlen[i];
    }
    c->argc = (int)r->argc;
    c->db = (int)r->db;
    c->now_ms = r->time_ms;
    c->cmd = e;
    client_run(c, e);
    c->olen = c->osent = 0;
    c->cmd = NULL;
    return ST_OK;
}

/* Replays the incr files of m from offset `from`. *next gets the offset a
 * writer continues at. */
static int replay_log(struct server *srv, struct persist *p, const struct wlog_manifest *m, uint64_t from,
                      uint64_t *next)
{
    struct client *c = replay_client(srv);
    if (!c)
        return ST_ENOMEM;
    const struct vfs *v = vfs_posix();
    uint64_t expect = from;
    int have_expect = m->base != NULL;
    int rc = ST_OK;
    for (size_t i = 0; rc == ST_OK && i < m->nincr; i++) {
        char *path = wlog_path(srv, m->incr[i]);
        struct aof_reader *r = NULL;
        struct aof_meta am;
        int last = i + 1 == m->nincr;
        rc = path ? aof_reader_open(v, path, &r, &am) : ST_ENOMEM;
        if (rc == ST_OK && am.lineage != m->lineage) {
            log_warn("append log: %s belongs to another lineage (%016" PRIx64 ", the manifest says %016" PRIx64 ")",
                     path, am.lineage, m->lineage);
            rc = ST_ECORRUPT;
        }
        if (rc == ST_OK && have_expect && am.start_offset != expect) {
            log_warn("append log: %s starts at offset %" PRIu64 ", expected %" PRIu64 ": a file is missing", path,
                     am.start_offset, expect);
            rc = ST_ECORRUPT;
        }
        if (rc == ST_OK) {
            expect = am.start_offset;
            have_expect = 1;
        }
        struct aof_rec rec;
        while (rc == ST_OK && (rc = aof_next(r, &rec)) == ST_OK) {
            rc = replay_one(srv, c, &rec);
            expect = rec.end_offset;
            p->replayed++;
        }
        if (rc == ST_ENOENT) {
            rc = ST_OK;
        } else if (rc == ST_ECORRUPT && r) {
            struct aof_damage d;
            aof_reader_damage(r, &d);
            if (d.kind == AOF_TORN_TAIL && last && cfg_load(srv->cfg.aof_load_truncated)) {
                log_warn("append log: %s ends in a torn record at offset %" PRIu64 " (file offset %" PRIu64
                         ", %s): the crash cut it before it was durable; dropped",
                         path, d.offset, d.pos, d.what ? d.what : "?");
                rc = aof_truncate(v, path, d.pos);
            } else if (d.kind == AOF_DAMAGED && last && cfg_load(srv->cfg.aof_load_damaged) == 1) {
                log_warn("append log: %s is damaged at offset %" PRIu64 " (file offset %" PRIu64
                         ", %s); aof-load-damaged truncate: everything from there on is dropped",
                         path, d.offset, d.pos, d.what ? d.what : "?");
                rc = aof_truncate(v, path, d.pos);
            } else if (d.kind == AOF_TORN_TAIL || d.kind == AOF_DAMAGED) {
                log_warn("append log: %s is %s at offset %" PRIu64 " (file offset %" PRIu64 ", %s). "
                         "Start-up stops: nothing is lost yet. %s",
                         path, d.kind == AOF_TORN_TAIL ? "cut" : "damaged", d.offset, d.pos,
                         d.what ? d.what : "?",
                         d.kind == AOF_TORN_TAIL ? "Set aof-load-truncated yes to drop the torn record."
                                                 : "Set aof-load-damaged truncate to start from the records "
                                                   "before it (the rest is lost).");
                rc = ST_ECORRUPT;
            } else {
                log_warn("append log: %s cannot be read (%s)", path, d.what ? d.what : "bad header");
            }
        } else if (rc != ST_OK) {
            log_warn("append log: %s cannot be read (%s)", path ? path : "?", st_strerror(rc));
        }
        aof_reader_close(&r);
        free(path);
    }
    replay_client_free(c);
    *next = expect;
    return rc;
}

static uint64_t ks_stats_keys(struct server *srv)
{
    uint64_t n = 0;
    for (unsigned db = 0; db < srv->ks->databases; db++)
        n += ks_dbsize(srv->ks, (int)db);
    return n;
}

static uint64_t new_lineage(void)
{
    uint64_t l = 0;
    if (getrandom(&l, sizeof(l), 0) != (ssize_t)sizeof(l))
        l = (uint64_t)util_time_us() * 0x9E3779B97F4A7C15ull;
    return l ? l : 1;
}

int persist_recover(struct server *srv, const char *restore_path)
{
    struct persist *p = calloc(1, sizeof(*p));
    if (!p)
        return ST_ENOMEM;
    p->srv = srv;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->last_bgsave_ok = 1;
    p->last_rewrite_ok = 1;
    p->last_bgsave_secs = -1;
    p->last_rewrite_secs = -1;
    p->lastsave_s = util_time_ms() / 1000;
    p->last_backup_ms = util_time_ms();
    srv->persist = p;
    int64_t t0 = util_mono_us();

    pthread_mutex_lock(&srv->cfg.lock);
    const char *dir = srv->cfg.dir && srv->cfg.dir[0] ? srv->cfg.dir : ".";
    int mk = mkdir(dir, 0755);
    pthread_mutex_unlock(&srv->cfg.lock);
    if (mk != 0 && errno != EEXIST) {
        log_warn("cannot create dir %s: %s", dir, strerror(errno));
        return ST_EIO;
    }

    int aof = (int)cfg_load(srv->cfg.appendonly);
    struct wlog_manifest m;
    memset(&m, 0, sizeof(m));
    int man = aof && !restore_path ? wlog_manifest_load(srv, &m) : ST_ENOENT;
    if (man != ST_OK && man != ST_ENOENT) {
        log_warn("append log: the manifest cannot be read; start-up stops (fix or move %s/%s)", dir,
                 srv->cfg.appenddirname);
        return ST_ECORRUPT;
    }
    char *snap = NULL;
    int from_dump = 0;
    if (restore_path) {
        snap = strdup(restore_path);
    } else if (man == ST_OK) {
        snap = m.base ? wlog_path(srv, m.base) : NULL;
    } else {
        char *d = dump_path(srv);
        if (d && file_exists(d)) {
            snap = d;
            from_dump = 1;
        } else {
            free(d);
        }
        if (!snap) {
            /* no dump: the newest backup, if any (a lost dump.sts) */
            size_t n = 0;
            char **v = list_backups(srv, &n);
            if (n) {
                snap = strdup(v[n - 1]);
                from_dump = 1;
                log_notice("no %s: starting from the newest backup, %s", srv->cfg.dbfilename, snap);
            }
            free_list(v, n);
        }
    }
    int anything = snap || man == ST_OK;
    if (anything && srv->tiering)
        tiering_drop_indexed(srv->tiering, "a snapshot or the append log holds the data");

    struct snap_meta meta;
    memset(&meta, 0, sizeof(meta));
    int rc = ST_OK, loaded = 0;
    if (snap) {
        rc = load_one(srv, p, snap, &meta);
        if (rc == ST_OK) {
            loaded = 1;
        } else if (from_dump) {
            /* the newest valid backup instead */
            size_t n = 0;
            char **v = list_backups(srv, &n);
            for (size_t i = n; i-- > 0 && !loaded;) {
                if (strcmp(v[i], snap) == 0)
                    continue;
                log_warn("trying the backup %s", v[i]);
                if (load_one(srv, p, v[i], &meta) == ST_OK)
                    loaded = 1;
            }
            free_list(v, n);
            rc = loaded ? ST_OK : rc;
        }
        if (!loaded) {
            log_warn("no valid snapshot to start from; start-up stops (nothing was changed on disk)");
            free(snap);
            wlog_manifest_free(&m);
            return rc;
        }
        p->loaded_from = 1;
        p->lastsave_s = meta.created_ms / 1000;
    }
    if (srv->tiering) {
        uint64_t claimed = 0, freed = 0;
        tiering_pmem_attach_end(srv->tiering, &claimed, &freed);
        if (claimed || freed)
            log_notice("pmem tier: warm restart: %" PRIu64 " records re-attached, %" PRIu64
                       " no snapshot item named freed",
                       claimed, freed);
    }

    if (man == ST_OK) {
        uint64_t next = 0;
        if (m.base && meta.lineage != m.lineage)
            log_warn("append log: the base %s names lineage %016" PRIx64 ", the manifest %016" PRIx64, m.base,
                     meta.lineage, m.lineage);
        rc = replay_log(srv, p, &m, m.base ? m.base_offset : 0, &next);
        if (rc != ST_OK) {
            free(snap);
            wlog_manifest_free(&m);
            return rc;
        }
        if (p->replayed)
            p->loaded_from = p->loaded_from ? p->loaded_from : 2;
        log_notice("append log: %" PRIu64 " records replayed; continuing at offset %" PRIu64, p->replayed, next);
        p->aof_base_offset = m.base ? m.base_offset : 0;
        if (m.base) {
            struct stat st;
            char *bp = wlog_path(srv, m.base);
            if (bp && stat(bp, &st) == 0)
                p->aof_base_size = (uint64_t)st.st_size;
            free(bp);
        }
        remove_leftovers(srv, &m);
        rc = wlog_open(srv, &m, next, m.lineage, &srv->wlog);
    } else if (aof) {
        remove_leftovers(srv, NULL);
        /* a new lineage; its first base is written at once when there is
         * data (the log alone would not hold it) */
        uint64_t off = loaded ? meta.log_offset : 0;
        rc = wlog_open(srv, NULL, off, new_lineage(), &srv->wlog);
        p->aof_base_offset = off;
        if (rc == ST_OK && ks_stats_keys(srv) > 0)
            p->want_rewrite = 1;
    } else {
        remove_leftovers(srv, NULL);
    }
    free(snap);
    wlog_manifest_free(&m);
    if (rc != ST_OK)
        return rc;
    p->dirty_at_save = changes_now(srv);
    p->load_ms = (util_mono_us() - t0) / 1000;
    if (anything)
        log_notice("recovery done in %.3f s", (double)p->load_ms / 1000.0);
    if (pthread_create(&p->thread, NULL, persist_main, p) != 0)
        return ST_ENOMEM;
    p->started = 1;
    return ST_OK;
}

/* ---- shutdown and DEBUG RELOAD ---------------------------------------------- */

void persist_shutdown(struct server *srv)
{
    struct persist *p = P(srv);
    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->wake);
        pthread_cond_broadcast(&p->done);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL); /* a running snapshot finishes first */
        p->started = 0;
    }
    int want = srv->shutdown_save;
    if (want == 0) {
        pthread_mutex_lock(&srv->cfg.lock);
        want = srv->cfg.nsave > 0 ? 1 : -1;
        pthread_mutex_unlock(&srv->cfg.lock);
    }
    if (want > 0) {
        log_notice("Saving the final snapshot before exit");
        if (run_job(p, JOB_SAVE) != ST_OK)
            log_warn("the final snapshot failed: the previous one (if any) is kept");
    }
    if (srv->wlog) {
        wlog_close(&srv->wlog);
        log_notice("append log: synced and closed");
    }
}

void persist_free(struct server *srv)
{
    struct persist *p = P(srv);
    if (!p)
        return;
    if (srv->wlog)
        wlog_close(&srv->wlog);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    free(p);
    srv->persist = NULL;
}

int persist_debug_reload(struct server *srv)
{
    int rc = persist_save(srv);
    if (rc != ST_OK)
        return rc;
    char *path = dump_path(srv);
    if (!path)
        return ST_ENOMEM;
    struct persist *p = P(srv);
    /* no snapshot may run while the keyspace is emptied and refilled */
    pthread_mutex_lock(&p->mu);
    while (p->running != JOB_NONE)
        pthread_cond_wait(&p->done, &p->mu);
    p->running = JOB_SAVE;
    pthread_mutex_unlock(&p->mu);
    empty_everything(srv);
    struct snap_meta meta;
    struct snapshot_load_stats ls;
    rc = snapshot_load(srv, path, 0, &meta, &ls);
    if (rc != ST_OK)
        log_warn("DEBUG RELOAD: %s cannot be loaded back (%s)", path, st_strerror(rc));
    uint64_t ch = changes_now(srv); /* shard locks: not under mu */
    pthread_mutex_lock(&p->mu);
    p->running = JOB_NONE;
    p->dirty_at_save = ch;
    pthread_cond_broadcast(&p->done);
    pthread_mutex_unlock(&p->mu);
    free(path);
    return rc;
}
