/*
 * faultfs.c -- a fault-injection file system (tests/crash/faultfs.h): the
 * vfs of engine/vfs.h over a real directory, which remembers every change
 * not yet made durable and simulates power losses. SQLite's test6.c ("crash
 * simulation") is the model; unlike it, writes reach the real file at once,
 * so the code under test reads back exactly what it wrote, and what a crash
 * would lose is kept as undo information instead.
 *
 * What it owns: the undo log below, the handles it gives out (each a real
 * descriptor), hidden backup files under the root (".faultfs-<n>"), the
 * fault plan. Not the files: they are the test's, under the root directory.
 *
 * ---------------------------------------------------------------------------
 * Data model
 *
 * A node is one file as faultfs knows it (an inode, not a name): its
 * current real path (a backup name once unlinked or replaced) and its
 * outstanding changes, in the order they were made:
 *
 *   WRITE (off, len, old_size, old[])  a pwrite of len bytes at off; the
 *         file was old_size bytes long before it, and old[] holds the bytes
 *         it overwrote, [off, min(off + len, old_size)) (nothing for an
 *         append);
 *   TRUNC (new_size, old_size, old[])  an ftruncate, or O_TRUNC at open;
 *         old[] holds the bytes a shrink cut off, [new_size, old_size). It
 *         touches every byte from new_size on (they are absent after it).
 *
 * sync(h) (fdatasync) makes a node's changes durable: they are forgotten.
 * Each change also carries a global sequence number (the order across files,
 * for faultfs_crash_plan).
 *
 * Directory operations are one list in the order they were made: CREATE
 * (open made the file), RENAME (from, to; a file it replaced is first
 * hard-linked to a backup name), UNLINK (done as a rename to a backup name),
 * MKDIR. sync_dir(d) makes durable the operations on entries of d (a rename
 * needs the sync of both its directories); durable ones are forgotten and
 * their backups removed.
 *
 * list answers what is on the real file system (F1: the state as if
 * nothing were lost, which is what the code under test must see) minus the
 * backups, whose names (".faultfs-*") the code under test never made. The
 * names are read under the mutex and handed to the caller's function after
 * it is released, so that function may call the vfs itself (a tier removing
 * a stale file as it finds it).
 *
 * Invariant F1: the real file system always holds the state as if nothing
 * were lost (the state KEEP_ALL leaves); the undo log holds exactly what is
 * needed to reach any state a power loss could leave, and nothing durable is
 * ever undone.
 *
 * ---------------------------------------------------------------------------
 * The crash model (faultfs_crash)
 *
 * 1. Each outstanding file change gets a fate: kept, dropped, or (a WRITE in
 *    TEAR mode) torn: a prefix ending at a 512-byte sector boundary of the
 *    file (possibly empty) kept, the rest either the old bytes or garbage.
 * 2. Per file, the surviving content of every byte x is the value the
 *    newest kept change touching x left there, or the durable value when no
 *    kept change touches x. With only undo information this is computed
 *    newest to oldest: the set of unresolved bytes starts as everything; a
 *    kept change resolves its range (the value there is already right: the
 *    current content, or what a newer dropped change restored); a dropped
 *    change writes its old bytes over the still unresolved part of its range
 *    (zeros where the file did not reach before it: a hole). What is left
 *    unresolved at the end holds the oldest change's old bytes, which are
 *    the durable ones (F1).
 * 3. The surviving size replays the size changes forward from the durable
 *    size: a kept or garbage-torn WRITE extends to its end, a torn one with
 *    old bytes to its kept prefix, a kept TRUNC sets it, dropped changes do
 *    nothing. So an append dropped before a kept one leaves a hole of zeros,
 *    as a real file system may after a power loss.
 * 4. Directory operations persist in order (a journalling file system
 *    commits them so): a prefix of the outstanding list is kept (all for
 *    KEEP_ALL, none for DROP_ALL, a uniformly random length otherwise) and
 *    the rest is undone newest first: a created file is unlinked, a rename
 *    is reversed and the file it replaced comes back from its backup, an
 *    unlinked file comes back, a made directory is removed (if empty).
 * 5. Reboot: handles open before become stale, the plans and "crash now"
 *    are cleared, the undo log is emptied (all is durable now).
 *
 * What it does not model: reordering of a single write's sectors other than
 * the prefix tear; lost metadata of a file whose data was synced (fdatasync
 * is taken to persist the size, as Linux does); media errors on read; the
 * real sync calls (skipped: durability is simulated, and tests stay fast).
 *
 * Threads: one mutex around every call (vfs.h allows calls from any thread).
 * Durability: none of its own, by design.
 *
 * References: SQLite src/test6.c (crash simulation: unsynced writes kept,
 * dropped or garbled per sector); "All File Systems Are Not Created Equal"
 * (Pillai et al., OSDI 2014) on which orderings file systems keep.
 */
#include "faultfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/err.h"

#define FFS_SECTOR 512u
#define FFS_NOPS 12 /* FAULTFS_OP_OPEN .. FAULTFS_OP_LIST, one bit each */
#define FFS_BACKUP_PREFIX ".faultfs-"

enum { EV_WRITE = 1, EV_TRUNC = 2 };
enum { FATE_KEEP = 0, FATE_DROP = 1, FATE_TEAR = 2 };
enum { DOP_CREATE = 1, DOP_RENAME = 2, DOP_UNLINK = 3, DOP_MKDIR = 4 };

struct ffs_event {
    int kind;
    uint64_t seq;
    uint64_t off, len;     /* WRITE: range; TRUNC: off = new size, len unused */
    uint64_t old_size;     /* file size before the change */
    unsigned char *old;    /* bytes the change replaced (see the essay) */
    uint64_t old_len;
    /* decided at crash time */
    int fate;
    uint64_t cut;          /* TEAR: bytes kept from off */
    int garbage;           /* TEAR: the rest is garbage (else old bytes) */
};

struct ffs_node {
    char *path;
    struct ffs_event *ev;
    size_t nev, cap;
    struct ffs_node *next;
};

struct ffs_dirop {
    int kind;
    char *path, *path2;    /* CREATE, UNLINK, MKDIR: path; RENAME: from, to */
    char *dir, *dir2;      /* directories whose sync_dir makes it durable (dir2 NULL: one) */
    int synced, synced2;
    char *backup;          /* UNLINK: where the file went; RENAME: link to the replaced file */
    struct ffs_node *node, *replaced;
};

struct ffs_handle {
    int used;
    int fd;                /* -1 once stale */
    int acc;               /* O_RDONLY, O_WRONLY, O_RDWR as the caller asked */
    struct ffs_node *node; /* NULL once stale */
};

struct faultfs {
    struct vfs vfs;
    pthread_mutex_t mu;
    char *root;
    size_t rootlen;
    struct ffs_node *nodes;
    struct ffs_dirop *dops;
    size_t ndops, capdops;
    struct ffs_handle *h;
    size_t nh;
    uint64_t seq;
    uint64_t backup_seq;
    uint64_t calls[FFS_NOPS];
    unsigned fail_ops;
    uint64_t fail_n;
    int fail_then_crash;
    unsigned crash_ops;
    uint64_t crash_n;
    int crashed;
    uint64_t rng;
    struct faultfs_stats st;
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static char *ffs_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* The directory part of path, newly allocated: "a/b" -> "a", "b" -> ".",
 * "/b" -> "/". Trailing slashes of path are ignored. NULL on ENOMEM. */
static char *ffs_dirname(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    while (n > 0 && path[n - 1] != '/')
        n--;
    if (n == 0)
        return ffs_strdup(".");
    while (n > 1 && path[n - 1] == '/')
        n--;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* 1 when the directory spelled a equals b, ignoring trailing slashes. */
static int ffs_same_dir(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    while (na > 1 && a[na - 1] == '/')
        na--;
    while (nb > 1 && b[nb - 1] == '/')
        nb--;
    return na == nb && memcmp(a, b, na) == 0;
}

static int under_root(const struct faultfs *fs, const char *path)
{
    if (strncmp(path, fs->root, fs->rootlen) != 0)
        return 0;
    if (path[fs->rootlen] != '/' && path[fs->rootlen] != '\0')
        return 0;
    if (strstr(path, "/../") || (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
        return 0;
    return 1;
}

static int op_index(unsigned op)
{
    int i = 0;
    while (op > 1) {
        op >>= 1;
        i++;
    }
    return i;
}

/* Entry of every vfs call (mutex held): refuses after "crash now", counts
 * the call, fails it when the fail plan says so. 0 to go on or -EIO. */
static int gate(struct faultfs *fs, unsigned op)
{
    if (fs->crashed) {
        fs->st.refused++;
        return -EIO;
    }
    fs->calls[op_index(op)]++;
    if (fs->fail_n && (fs->fail_ops & op) && --fs->fail_n == 0) {
        fs->st.injected++;
        if (fs->fail_then_crash)
            fs->crashed = 1;
        return -EIO;
    }
    return 0;
}

/* Exit of every call that passed the gate: the crash plan. */
static void after(struct faultfs *fs, unsigned op)
{
    if (fs->crash_n && (fs->crash_ops & op) && --fs->crash_n == 0)
        fs->crashed = 1;
}

static struct ffs_node *node_find(struct faultfs *fs, const char *path)
{
    for (struct ffs_node *n = fs->nodes; n; n = n->next)
        if (n->path && strcmp(n->path, path) == 0)
            return n;
    return NULL;
}

static struct ffs_node *node_get(struct faultfs *fs, const char *path)
{
    struct ffs_node *n = node_find(fs, path);
    if (n)
        return n;
    n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->path = ffs_strdup(path);
    if (!n->path) {
        free(n);
        return NULL;
    }
    n->next = fs->nodes;
    fs->nodes = n;
    return n;
}

static int node_set_path(struct ffs_node *n, const char *path)
{
    char *p = ffs_strdup(path);
    if (!p)
        return -ENOMEM;
    free(n->path);
    n->path = p;
    return 0;
}

static void node_forget_changes(struct ffs_node *n)
{
    for (size_t i = 0; i < n->nev; i++)
        free(n->ev[i].old);
    n->nev = 0;
}

static void nodes_free(struct faultfs *fs)
{
    struct ffs_node *n = fs->nodes;
    while (n) {
        struct ffs_node *next = n->next;
        node_forget_changes(n);
        free(n->ev);
        free(n->path);
        free(n);
        n = next;
    }
    fs->nodes = NULL;
}

/* Appends a change to n (taking old). -ENOMEM leaves n unchanged (and frees old). */
static int node_push(struct faultfs *fs, struct ffs_node *n, const struct ffs_event *e)
{
    if (n->nev == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 8;
        struct ffs_event *ev = realloc(n->ev, cap * sizeof(*ev));
        if (!ev) {
            free(e->old);
            return -ENOMEM;
        }
        n->ev = ev;
        n->cap = cap;
    }
    n->ev[n->nev] = *e;
    n->ev[n->nev].seq = fs->seq++;
    n->nev++;
    return 0;
}

/* Reads [off, off + len) of fd into a new buffer (*out; NULL when len is 0). */
static int read_range(int fd, uint64_t off, uint64_t len, unsigned char **out)
{
    *out = NULL;
    if (len == 0)
        return 0;
    unsigned char *b = malloc(len);
    if (!b)
        return -ENOMEM;
    uint64_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, b + got, len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(b);
            return r < 0 ? -errno : -EIO;
        }
        got += (uint64_t)r;
    }
    *out = b;
    return 0;
}

static int write_range(int fd, const unsigned char *b, uint64_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t w = pwrite(fd, b, len, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        b += w;
        len -= (uint64_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static int fd_size(int fd, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    *size = (uint64_t)st.st_size;
    return 0;
}

static int dirop_push(struct faultfs *fs, const struct ffs_dirop *d)
{
    if (fs->ndops == fs->capdops) {
        size_t cap = fs->capdops ? fs->capdops * 2 : 8;
        struct ffs_dirop *p = realloc(fs->dops, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        fs->dops = p;
        fs->capdops = cap;
    }
    fs->dops[fs->ndops++] = *d;
    return 0;
}

static void dirop_free(struct ffs_dirop *d)
{
    free(d->path);
    free(d->path2);
    free(d->dir);
    free(d->dir2);
    free(d->backup);
}

/* A durable (kept) operation: its backup is garbage now. */
static void dirop_finalize(struct ffs_dirop *d)
{
    if (d->backup)
        unlink(d->backup);
    if (d->replaced) {
        free(d->replaced->path);
        d->replaced->path = NULL;
    }
    if (d->kind == DOP_UNLINK && d->node) {
        free(d->node->path);
        d->node->path = NULL;
    }
    dirop_free(d);
}

static char *backup_name(struct faultfs *fs)
{
    size_t n = fs->rootlen + 48;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/" FFS_BACKUP_PREFIX "%d-%llu", fs->root, (int)getpid(),
                 (unsigned long long)fs->backup_seq++);
    return p;
}

/* Handle h of fs, or -EBADF / -EIO (stale). */
static int handle_get(struct faultfs *fs, int h, struct ffs_handle **out)
{
    if (h < 0 || (size_t)h >= fs->nh || !fs->h[h].used)
        return -EBADF;
    if (fs->h[h].fd < 0) {
        fs->st.refused++;
        return -EIO;
    }
    *out = &fs->h[h];
    return 0;
}

static int handle_alloc(struct faultfs *fs)
{
    for (size_t i = 0; i < fs->nh; i++)
        if (!fs->h[i].used)
            return (int)i;
    size_t n = fs->nh ? fs->nh * 2 : 16;
    struct ffs_handle *p = realloc(fs->h, n * sizeof(*p));
    if (!p)
        return -ENOMEM;
    memset(p + fs->nh, 0, (n - fs->nh) * sizeof(*p));
    fs->h = p;
    int h = (int)fs->nh;
    fs->nh = n;
    return h;
}

/* ------------------------------------------------------------------------ */
/* The vfs                                                                  */
/* ------------------------------------------------------------------------ */

static int ffs_open(const struct vfs *v, const char *path, int flags, int vflags, int mode, int *direct)
{
    struct faultfs *fs = v->ud;
    int rc, fd = -1, h = -1;
    struct ffs_dirop d = {0};
    (void)vflags;

    pthread_mutex_lock(&fs->mu);
    if ((rc = gate(fs, FAULTFS_OP_OPEN)) < 0)
        goto out_unlock;
    if (!under_root(fs, path)) {
        rc = -EPERM;
        goto out_after;
    }
    struct stat st;
    int existed = stat(path, &st) == 0;
    int acc = flags & O_ACCMODE;
    int rflags = (flags & ~(O_ACCMODE | O_TRUNC | O_APPEND)) | (acc == O_RDONLY ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    fd = open(path, rflags, mode);
    if (fd < 0) {
        rc = -errno;
        goto out_after;
    }
    h = handle_alloc(fs);
    struct ffs_node *n = h < 0 ? NULL : node_get(fs, path);
    if (!n) {
        rc = -ENOMEM;
        goto out_close;
    }
    if (!existed && (flags & O_CREAT)) {
        d.kind = DOP_CREATE;
        d.synced2 = 1;
        d.path = ffs_strdup(path);
        d.dir = ffs_dirname(path);
        d.node = n;
        if (!d.path || !d.dir || dirop_push(fs, &d) < 0) {
            dirop_free(&d);
            unlink(path);
            rc = -ENOMEM;
            goto out_close;
        }
    }
    if ((flags & O_TRUNC) && acc != O_RDONLY && existed) {
        uint64_t size = 0;
        struct ffs_event e = {.kind = EV_TRUNC, .off = 0};
        if ((rc = fd_size(fd, &size)) < 0)
            goto out_close;
        if (size > 0) {
            e.old_size = size;
            e.old_len = size;
            if ((rc = read_range(fd, 0, size, &e.old)) < 0 || (rc = node_push(fs, n, &e)) < 0)
                goto out_close;
            if (ftruncate(fd, 0) < 0) {
                rc = -errno;
                goto out_close;
            }
        }
    }
    fs->h[h].used = 1;
    fs->h[h].fd = fd;
    fs->h[h].acc = acc;
    fs->h[h].node = n;
    if (direct)
        *direct = 0;
    rc = h;
    goto out_after;

out_close:
    close(fd);
out_after:
    after(fs, FAULTFS_OP_OPEN);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static ssize_t ffs_pread(const struct vfs *v, int h, void *buf, size_t n, uint64_t off)
{
    struct faultfs *fs = v->ud;
    struct ffs_handle *hd;
    ssize_t rc;

    pthread_mutex_lock(&fs->mu);
    if ((rc = gate(fs, FAULTFS_OP_PREAD)) < 0)
        goto out_unlock;
    if ((rc = handle_get(fs, h, &hd)) < 0)
        goto out_after;
    if (hd->acc == O_WRONLY) {
        rc = -EBADF;
        goto out_after;
    }
    do
        rc = pread(hd->fd, buf, n, (off_t)off);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        rc = -errno;
out_after:
    after(fs, FAULTFS_OP_PREAD);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static ssize_t ffs_pwrite(const struct vfs *v, int h, const void *buf, size_t n, uint64_t off)
{
    struct faultfs *fs = v->ud;
    struct ffs_handle *hd;
    ssize_t rc;

    pthread_mutex_lock(&fs->mu);
    if ((rc = gate(fs, FAULTFS_OP_PWRITE)) < 0)
        goto out_unlock;
    if ((rc = handle_get(fs, h, &hd)) < 0)
        goto out_after;
    if (hd->acc == O_RDONLY) {
        rc = -EBADF;
        goto out_after;
    }
    uint64_t size = 0;
    if ((rc = fd_size(hd->fd, &size)) < 0)
        goto out_after;
    struct ffs_event e = {.kind = EV_WRITE, .off = off, .len = n, .old_size = size};
    if (off < size) {
        e.old_len = n < size - off ? n : size - off;
        if ((rc = read_range(hd->fd, off, e.old_len, &e.old)) < 0)
            goto out_after;
    }
    if ((rc = node_push(fs, hd->node, &e)) < 0)
        goto out_after;
    do
        rc = pwrite(hd->fd, buf, n, (off_t)off);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        rc = -errno;
        struct ffs_node *nd = hd->node;
        free(nd->ev[--nd->nev].old); /* nothing was written: no change to remember */
    }
out_after:
    after(fs, FAULTFS_OP_PWRITE);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ffs_sync(const struct vfs *v, int h)
{
    struct faultfs *fs = v->ud;
    struct ffs_handle *hd;
    int rc;

    pthread_mutex_lock(&fs->mu);
    if ((rc = gate(fs, FAULTFS_OP_SYNC)) < 0)
        goto out_unlock;
    if ((rc = handle_get(fs, h, &hd)) < 0)
        goto out_after;
    node_forget_changes(hd->node); /* durable now (the real fdatasync is skipped: see the essay) */
out_after:
    after(fs, FAULTFS_OP_SYNC);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ffs_truncate(const struct vfs *v, int h, uint64_t size)
{
    struct faultfs *fs = v->ud;
    struct ffs_handle *hd;
    int rc;

    pthread_mutex_lock(&fs->mu);
    if ((rc = gate(fs, FAULTFS_OP_TRUNCATE)) < 0)
        goto out_unlock;
    if ((rc = handle_get(fs, h, &hd)) < 0)
        goto out_after;
    if (hd->acc == O_RDONLY) {
        rc = -EINVAL;
        goto out_after;
    }
    uint64_t cur = 0;
    if ((rc = fd_size(hd->fd, &cur)) < 0)
        goto out_after;
    struct ffs_event e = {.kind = EV_TRUNC, .off = size, .old_size = cur};
    if (size < cur) {
        e.old_len = cur - size;
        if ((rc = read_range(hd->fd, size, e.old_len, &e.old)) < 0)
            goto out_after;
    }
    if ((rc = node_push(fs, hd->node, &e)) < 0)
        goto out_after;
    if (ftruncate(hd->fd, (off_t)size) < 0) {
        rc = -errno;
        struct ffs_node *nd = hd->node;
        free(nd->ev[--nd->nev].old);
    }
out_after:
    after(fs, FAULTFS_OP_TRUNCATE);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int64_t ffs_size(const struct vfs *v, int h)
{
    struct faultfs *fs = v->ud;
    struct ffs_handle *hd;
    int64_t rc;

    pthread_mutex_lock(&fs->mu);
    if ((rc = gate(fs, FAULTFS_OP_SIZE)) < 0)
        goto out_unlock;
    if ((rc = handle_get(fs, h, &hd)) < 0)
        goto out_after;
    uint64_t size = 0;
    int r = fd_size(hd->fd, &size);
    rc = r < 0 ? r : (int64_t)size;
out_after:
    after(fs, FAULTFS_OP_SIZE);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ffs_close(const struct vfs *v, int h)
{
    struct faultfs *fs = v->ud;
    int rc = 0;

    pthread_mutex_lock(&fs->mu);
    if (h < 0 || (size_t)h >= fs->nh || !fs->h[h].used) {
        rc = -EBADF;
        goto out_unlock;
    }
    /* close always releases the handle, even when it reports a failure */
    if (fs->h[h].fd >= 0)
        close(fs->h[h].fd);
    else
        rc = -EIO; /* stale: the "process" that opened it died */
    fs->h[h].used = 0;
    fs->h[h].fd = -1;
    fs->h[h].node = NULL;
    if (fs->crashed) {
        fs->st.refused++;
        rc = -EIO;
        goto out_unlock;
    }
    int g = gate(fs, FAULTFS_OP_CLOSE);
    if (g < 0)
        rc = g;
    after(fs, FAULTFS_OP_CLOSE);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ffs_rename(const struct vfs *v, const char *from, const char *to)
{
    struct faultfs *fs = v->ud;
    struct ffs_dirop d = {.kind = DOP_RENAME};
    int rc;

    pthread_mutex_lock(&fs->mu);
    if ((rc = gate(fs, FAULTFS_OP_RENAME)) < 0)
        goto out_unlock;
    if (!under_root(fs, from) || !under_root(fs, to)) {
        rc = -EPERM;
        goto out_after;
    }
    struct stat st;
    if (stat(from, &st) < 0) {
        rc = -errno;
        goto out_after;
    }
    if (strcmp(from, to) == 0) {
        rc = 0;
        goto out_after;
    }
    d.node = node_get(fs, from);
    d.path = ffs_strdup(from);
    d.path2 = ffs_strdup(to);
    d.dir = ffs_dirname(from);
    d.dir2 = ffs_dirname(to);
    if (!d.node || !d.path || !d.path2 || !d.dir || !d.dir2) {
        rc = -ENOMEM;
        goto out_free;
    }
    if (ffs_same_dir(d.dir, d.dir2)) {
        free(d.dir2);
        d.dir2 = NULL;
        d.synced2 = 1;
    }
    if (stat(to, &st) == 0) {
        d.replaced = node_get(fs, to);
        d.backup = backup_name(fs);
        if (!d.replaced || !d.backup) {
            rc = -ENOMEM;
            goto out_free;
        }
        if (link(to, d.backup) < 0) {
            rc = -errno;
            goto out_free;
        }
    }
    if (rename(from, to) < 0) {
        rc = -errno;
        if (d.backup)
            unlink(d.backup);
        goto out_free;
    }
    if ((rc = dirop_push(fs, &d)) < 0) {
        /* cannot remember it: put things back and report the failure */
        rename(to, from);
        if (d.backup)
            rename(d.backup, to);
        goto out_free;
    }
    if (d.replaced)
        node_set_path(d.replaced, d.backup);
    node_set_path(d.node, to);
    goto out_after;

out_free:
    dirop_free(&d);
out_after:
    after(fs, FAULTFS_OP_RENAME);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ffs_unlink(const struct vfs *v, const char *path)
{
    struct faultfs *fs = v->ud;
    struct ffs_dirop d = {.kind = DOP_UNLINK};
    int rc;

    pthread_mutex_lock(&fs->mu);
    if ((rc = gate(fs, FAULTFS_OP_UNLINK)) < 0)
        goto out_unlock;
    if (!under_root(fs, path)) {
        rc = -EPERM;
        goto out_after;
    }
    struct stat st;
    if (lstat(path, &st) < 0) {
        rc = -errno;
        goto out_after;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = -EISDIR;
        goto out_after;
    }
    d.node = node_get(fs, path);
    d.path = ffs_strdup(path);
    d.dir = ffs_dirname(path);
    d.backup = backup_name(fs);
    d.synced2 = 1;
    if (!d.node || !d.path || !d.dir || !d.backup) {
        rc = -ENOMEM;
        goto out_free;
    }
    if (rename(path, d.backup) < 0) {
        rc = -errno;
        goto out_free;
    }
    if ((rc = dirop_push(fs, &d)) < 0) {
        rename(d.backup, path);
        goto out_free;
    }
    node_set_path(d.node, d.backup);
    goto out_after;

out_free:
    dirop_free(&d);
out_after:
    after(fs, FAULTFS_OP_UNLINK);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ffs_sync_dir(const struct vfs *v, const char *dir)
{
    struct faultfs *fs = v->ud;
    int rc;

    pthread_mutex_lock(&fs->mu);
    if ((rc = gate(fs, FAULTFS_OP_SYNC_DIR)) < 0)
        goto out_unlock;
    if (!under_root(fs, dir)) {
        rc = -EPERM;
        goto out_after;
    }
    struct stat st;
    if (stat(dir, &st) < 0) {
        rc = -errno;
        goto out_after;
    }
    size_t j = 0;
    for (size_t i = 0; i < fs->ndops; i++) {
        struct ffs_dirop *d = &fs->dops[i];
        if (ffs_same_dir(d->dir, dir))
            d->synced = 1;
        if (d->dir2 && ffs_same_dir(d->dir2, dir))
            d->synced2 = 1;
        if (d->synced && d->synced2)
            dirop_finalize(d);
        else
            fs->dops[j++] = *d;
    }
    fs->ndops = j;
out_after:
    after(fs, FAULTFS_OP_SYNC_DIR);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ffs_mkdir(const struct vfs *v, const char *dir, int mode)
{
    struct faultfs *fs = v->ud;
    struct ffs_dirop d = {.kind = DOP_MKDIR, .synced2 = 1};
    int rc = 0;

    pthread_mutex_lock(&fs->mu);
    if ((rc = gate(fs, FAULTFS_OP_MKDIR)) < 0)
        goto out_unlock;
    if (!under_root(fs, dir)) {
        rc = -EPERM;
        goto out_after;
    }
    if (mkdir(dir, (mode_t)mode) < 0) {
        struct stat st;
        if (errno != EEXIST)
            rc = -errno;
        else if (stat(dir, &st) < 0)
            rc = -errno;
        else if (!S_ISDIR(st.st_mode))
            rc = -ENOTDIR;
        goto out_after;
    }
    d.path = ffs_strdup(dir);
    d.dir = ffs_dirname(dir);
    if (!d.path || !d.dir || dirop_push(fs, &d) < 0) {
        dirop_free(&d);
        rmdir(dir);
        rc = -ENOMEM;
    }
out_after:
    after(fs, FAULTFS_OP_MKDIR);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

/* Appends a copy of name to *names (n used, *cap allocated). 0 or -ENOMEM. */
static int names_push(char ***names, size_t *n, size_t *cap, const char *name)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        char **p = realloc(*names, nc * sizeof(*p));
        if (!p)
            return -ENOMEM;
        *names = p;
        *cap = nc;
    }
    if (!((*names)[*n] = ffs_strdup(name)))
        return -ENOMEM;
    (*n)++;
    return 0;
}

static int ffs_list(const struct vfs *v, const char *dir, int (*fn)(void *ud, const char *name), void *ud)
{
    struct faultfs *fs = v->ud;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc;

    pthread_mutex_lock(&fs->mu);
    if ((rc = gate(fs, FAULTFS_OP_LIST)) < 0)
        goto out_unlock;
    if (!under_root(fs, dir)) {
        rc = -EPERM;
        goto out_after;
    }
    DIR *d = opendir(dir);
    if (!d) {
        rc = -errno;
        goto out_after;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                rc = -errno;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strncmp(de->d_name, FFS_BACKUP_PREFIX, sizeof(FFS_BACKUP_PREFIX) - 1) == 0)
            continue;
        if ((rc = names_push(&names, &n, &cap, de->d_name)) < 0)
            break;
    }
    closedir(d);
out_after:
    after(fs, FAULTFS_OP_LIST);
out_unlock:
    pthread_mutex_unlock(&fs->mu);
    /* outside the mutex (see the essay); a failed listing calls fn for none */
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = fn(ud, names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

static const struct vfs_ops ffs_ops = {
    .open = ffs_open,
    .pread = ffs_pread,
    .pwrite = ffs_pwrite,
    .sync = ffs_sync,
    .truncate = ffs_truncate,
    .size = ffs_size,
    .close = ffs_close,
    .rename = ffs_rename,
    .unlink = ffs_unlink,
    .sync_dir = ffs_sync_dir,
    .mkdir = ffs_mkdir,
    .list = ffs_list,
};

/* ------------------------------------------------------------------------ */
/* The crash                                                                */
/* ------------------------------------------------------------------------ */

/* Unresolved byte ranges of one file: disjoint, sorted [a, b). */
struct ranges {
    uint64_t (*r)[2];
    size_t n, cap;
};

static int ranges_reserve(struct ranges *s, size_t extra)
{
    if (s->n + extra <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 8;
    while (cap < s->n + extra)
        cap *= 2;
    void *p = realloc(s->r, cap * sizeof(*s->r));
    if (!p)
        return -ENOMEM;
    s->r = p;
    s->cap = cap;
    return 0;
}

/* Removes [lo, hi) from s. */
static int ranges_remove(struct ranges *s, uint64_t lo, uint64_t hi)
{
    if (lo >= hi)
        return 0;
    if (ranges_reserve(s, 1) < 0)
        return -ENOMEM;
    size_t j = 0;
    uint64_t(*out)[2] = malloc((s->n + 1) * sizeof(*out));
    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < s->n; i++) {
        uint64_t a = s->r[i][0], b = s->r[i][1];
        if (b <= lo || a >= hi) {
            out[j][0] = a;
            out[j++][1] = b;
            continue;
        }
        if (a < lo) {
            out[j][0] = a;
            out[j++][1] = lo;
        }
        if (b > hi) {
            out[j][0] = hi;
            out[j++][1] = b;
        }
    }
    memcpy(s->r, out, j * sizeof(*out));
    s->n = j;
    free(out);
    return 0;
}

/* Writes over the unresolved part of [lo, hi) the value before change e:
 * e's old bytes where it had them, zeros where the file did not reach, or
 * garbage (rng) when garbage is set. */
static int restore_range(int fd, const struct ranges *s, const struct ffs_event *e, uint64_t lo, uint64_t hi,
                         int garbage, uint64_t *rng)
{
    unsigned char buf[4096];
    uint64_t old_lo = e->off; /* old[] starts at off in both kinds (a TRUNC's off is its new size) */

    for (size_t i = 0; i < s->n; i++) {
        uint64_t a = s->r[i][0] > lo ? s->r[i][0] : lo;
        uint64_t b = s->r[i][1] < hi ? s->r[i][1] : hi;
        for (uint64_t x = a; x < b;) {
            uint64_t n = b - x < sizeof(buf) ? b - x : sizeof(buf);
            for (uint64_t k = 0; k < n; k++) {
                uint64_t pos = x + k;
                if (garbage)
                    buf[k] = (unsigned char)rng_next(rng);
                else if (pos >= old_lo && pos - old_lo < e->old_len)
                    buf[k] = e->old[pos - old_lo];
                else
                    buf[k] = 0;
            }
            int rc = write_range(fd, buf, n, x);
            if (rc < 0)
                return rc;
            x += n;
        }
    }
    return 0;
}

/* Applies the decided fates of n's changes to its real file (steps 2, 3). */
static int node_crash(struct ffs_node *n, uint64_t *rng)
{
    struct ranges s = {0};
    int rc = 0, fd;

    if (n->nev == 0 || !n->path)
        return 0;
    fd = open(n->path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    if ((rc = ranges_reserve(&s, 1)) < 0)
        goto out;
    /* every byte any state of the file could hold lies below extent */
    uint64_t extent = 0;
    if ((rc = fd_size(fd, &extent)) < 0)
        goto out;
    for (size_t i = 0; i < n->nev; i++) {
        const struct ffs_event *e = &n->ev[i];
        uint64_t end = e->kind == EV_WRITE ? e->off + e->len : e->off;
        if (end > extent)
            extent = end;
        if (e->old_size > extent)
            extent = e->old_size;
    }
    s.r[0][0] = 0;
    s.r[0][1] = extent;
    s.n = 1;
    for (size_t i = n->nev; i-- > 0;) {
        const struct ffs_event *e = &n->ev[i];
        uint64_t lo, hi;
        if (e->kind == EV_WRITE) {
            lo = e->off;
            hi = e->off + e->len;
        } else {
            /* a truncation defines every byte from its new size on as absent
             * (a growth adds zeros only where nothing was: bytes below the new
             * size keep whatever the earlier surviving changes left) */
            lo = e->off;
            hi = extent;
        }
        if (e->fate == FATE_KEEP) {
            rc = ranges_remove(&s, lo, hi);
        } else if (e->fate == FATE_DROP) {
            rc = restore_range(fd, &s, e, lo, hi, 0, rng);
        } else {
            uint64_t mid = lo + e->cut;
            rc = restore_range(fd, &s, e, mid, hi, e->garbage, rng);
            if (rc == 0)
                rc = ranges_remove(&s, lo, mid);
        }
        if (rc < 0)
            goto out;
    }
    uint64_t size = n->ev[0].old_size;
    for (size_t i = 0; i < n->nev; i++) {
        const struct ffs_event *e = &n->ev[i];
        if (e->kind == EV_TRUNC) {
            if (e->fate == FATE_KEEP)
                size = e->off;
            continue;
        }
        uint64_t end = e->off + e->len;
        if (e->fate == FATE_TEAR && !e->garbage)
            end = e->cut ? e->off + e->cut : 0;
        if (e->fate != FATE_DROP && end > size)
            size = end;
    }
    if (ftruncate(fd, (off_t)size) < 0)
        rc = -errno;
out:
    free(s.r);
    close(fd);
    return rc;
}

static int undo_dirop(struct ffs_dirop *d)
{
    int rc = 0;
    switch (d->kind) {
    case DOP_CREATE:
        if (unlink(d->path) < 0 && errno != ENOENT)
            rc = -errno;
        break;
    case DOP_RENAME:
        if (rename(d->path2, d->path) < 0)
            rc = -errno;
        if (d->backup && rename(d->backup, d->path2) < 0)
            rc = -errno;
        break;
    case DOP_UNLINK:
        if (rename(d->backup, d->path) < 0)
            rc = -errno;
        break;
    case DOP_MKDIR:
        rmdir(d->path); /* fails (and stays) when not empty: allowed */
        break;
    }
    dirop_free(d);
    return rc;
}

static int event_cmp(const void *a, const void *b)
{
    const struct ffs_event *x = *(struct ffs_event *const *)a, *y = *(struct ffs_event *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The crash itself: fates are given by mode (plan < 0) or by keep_mask. */
static int crash_apply(struct faultfs *fs, uint64_t seed, int mode, uint64_t keep_mask, size_t dirops_kept)
{
    int rc = 0;
    size_t total = 0, k = 0;
    struct ffs_event **all = NULL;

    fs->rng = seed * 0x2545F4914F6CDD1Dull + 1;
    for (struct ffs_node *n = fs->nodes; n; n = n->next)
        total += n->nev;
    if (total) {
        all = malloc(total * sizeof(*all));
        if (!all)
            return ST_ENOMEM;
        for (struct ffs_node *n = fs->nodes; n; n = n->next)
            for (size_t i = 0; i < n->nev; i++)
                all[k++] = &n->ev[i];
        qsort(all, total, sizeof(*all), event_cmp);
    }
    for (size_t i = 0; i < total; i++) {
        struct ffs_event *e = all[i];
        uint64_t r = rng_next(&fs->rng);
        e->cut = 0;
        e->garbage = 0;
        if (mode < 0)
            e->fate = (i < 64 && (keep_mask >> i & 1)) ? FATE_KEEP : FATE_DROP;
        else if (mode == FAULTFS_KEEP_ALL)
            e->fate = FATE_KEEP;
        else if (mode == FAULTFS_DROP_ALL)
            e->fate = FATE_DROP;
        else if (mode == FAULTFS_TEAR && e->kind == EV_WRITE)
            e->fate = (int)(r % 3);
        else
            e->fate = (int)(r & 1);
        if (e->fate == FATE_TEAR) {
            /* a prefix ending at a sector boundary inside the write, or empty */
            uint64_t first = (e->off / FFS_SECTOR + 1) * FFS_SECTOR, end = e->off + e->len;
            uint64_t nb = first < end ? (end - 1 - first) / FFS_SECTOR + 1 : 0;
            uint64_t pick = rng_next(&fs->rng) % (nb + 1);
            e->cut = pick == 0 ? 0 : first + (pick - 1) * FFS_SECTOR - e->off;
            e->garbage = (int)(rng_next(&fs->rng) & 1);
            fs->st.torn++;
        } else if (e->fate == FATE_KEEP) {
            fs->st.kept++;
        } else {
            fs->st.dropped++;
        }
    }
    free(all);
    for (struct ffs_node *n = fs->nodes; n; n = n->next) {
        int r = node_crash(n, &fs->rng);
        if (r < 0 && rc == 0)
            rc = ST_EIO;
    }

    size_t keep;
    if (mode < 0)
        keep = dirops_kept < fs->ndops ? dirops_kept : fs->ndops;
    else if (mode == FAULTFS_KEEP_ALL)
        keep = fs->ndops;
    else if (mode == FAULTFS_DROP_ALL)
        keep = 0;
    else
        keep = (size_t)(rng_next(&fs->rng) % (fs->ndops + 1));
    for (size_t i = fs->ndops; i-- > keep;) {
        if (undo_dirop(&fs->dops[i]) < 0 && rc == 0)
            rc = ST_EIO;
        fs->st.dirops_undone++;
    }
    for (size_t i = 0; i < keep; i++) {
        dirop_finalize(&fs->dops[i]);
        fs->st.dirops_kept++;
    }
    fs->ndops = 0;

    /* reboot */
    for (size_t i = 0; i < fs->nh; i++) {
        if (fs->h[i].used && fs->h[i].fd >= 0) {
            close(fs->h[i].fd);
            fs->h[i].fd = -1;
        }
        fs->h[i].node = NULL;
    }
    nodes_free(fs);
    fs->crashed = 0;
    fs->fail_n = 0;
    fs->crash_n = 0;
    fs->st.crashes++;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Control                                                                  */
/* ------------------------------------------------------------------------ */

int faultfs_create(const char *root, struct faultfs **out)
{
    struct stat st;
    struct faultfs *fs;

    *out = NULL;
    if (!root || stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
        return ST_EINVAL;
    fs = calloc(1, sizeof(*fs));
    if (!fs)
        return ST_ENOMEM;
    fs->root = ffs_strdup(root);
    if (!fs->root) {
        free(fs);
        return ST_ENOMEM;
    }
    fs->rootlen = strlen(fs->root);
    while (fs->rootlen > 1 && fs->root[fs->rootlen - 1] == '/')
        fs->root[--fs->rootlen] = '\0';
    pthread_mutex_init(&fs->mu, NULL);
    fs->vfs.ops = &ffs_ops;
    fs->vfs.ud = fs;
    *out = fs;
    return ST_OK;
}

void faultfs_destroy(struct faultfs **fsp)
{
    struct faultfs *fs = fsp ? *fsp : NULL;
    if (!fs)
        return;
    for (size_t i = 0; i < fs->nh; i++)
        if (fs->h[i].used && fs->h[i].fd >= 0)
            close(fs->h[i].fd);
    free(fs->h);
    for (size_t i = 0; i < fs->ndops; i++) {
        if (fs->dops[i].backup)
            unlink(fs->dops[i].backup);
        dirop_free(&fs->dops[i]);
    }
    free(fs->dops);
    nodes_free(fs);
    pthread_mutex_destroy(&fs->mu);
    free(fs->root);
    free(fs);
    *fsp = NULL;
}

const struct vfs *faultfs_vfs(struct faultfs *fs)
{
    return &fs->vfs;
}

void faultfs_fail_nth(struct faultfs *fs, unsigned ops, uint64_t n, int then_crash)
{
    pthread_mutex_lock(&fs->mu);
    fs->fail_ops = ops;
    fs->fail_n = n;
    fs->fail_then_crash = then_crash;
    pthread_mutex_unlock(&fs->mu);
}

void faultfs_crash_after(struct faultfs *fs, unsigned ops, uint64_t n)
{
    pthread_mutex_lock(&fs->mu);
    fs->crash_ops = ops;
    fs->crash_n = n;
    pthread_mutex_unlock(&fs->mu);
}

void faultfs_crash_now(struct faultfs *fs)
{
    pthread_mutex_lock(&fs->mu);
    fs->crashed = 1;
    pthread_mutex_unlock(&fs->mu);
}

int faultfs_is_crashed(struct faultfs *fs)
{
    pthread_mutex_lock(&fs->mu);
    int c = fs->crashed;
    pthread_mutex_unlock(&fs->mu);
    return c;
}

uint64_t faultfs_calls(struct faultfs *fs, unsigned ops)
{
    uint64_t n = 0;
    pthread_mutex_lock(&fs->mu);
    for (int i = 0; i < FFS_NOPS; i++)
        if (ops & (1u << i))
            n += fs->calls[i];
    pthread_mutex_unlock(&fs->mu);
    return n;
}

int faultfs_crash(struct faultfs *fs, uint64_t seed, enum faultfs_mode mode)
{
    pthread_mutex_lock(&fs->mu);
    int rc = crash_apply(fs, seed, (int)mode, 0, 0);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int faultfs_crash_plan(struct faultfs *fs, uint64_t keep_mask, size_t dirops_kept)
{
    pthread_mutex_lock(&fs->mu);
    int rc = crash_apply(fs, 0, -1, keep_mask, dirops_kept);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

void faultfs_pending(struct faultfs *fs, size_t *file_changes, size_t *dirops)
{
    size_t n = 0;
    pthread_mutex_lock(&fs->mu);
    for (struct ffs_node *nd = fs->nodes; nd; nd = nd->next)
        n += nd->nev;
    if (file_changes)
        *file_changes = n;
    if (dirops)
        *dirops = fs->ndops;
    pthread_mutex_unlock(&fs->mu);
}

void faultfs_stats(struct faultfs *fs, struct faultfs_stats *out)
{
    pthread_mutex_lock(&fs->mu);
    *out = fs->st;
    pthread_mutex_unlock(&fs->mu);
}
