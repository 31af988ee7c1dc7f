/*
 * vfs.c -- the POSIX file system behind engine/vfs.h, and the two helpers
 * every writer uses (vfs_pwrite_all, vfs_pread_full).
 *
 * What it owns: nothing. vfs_posix() returns a const instance whose calls
 * are the system calls, with errno turned into a negative return. O_DIRECT
 * is asked for when VFS_O_DIRECT is given and dropped (with *direct = 0)
 * when the file system refuses it (tmpfs answers EINVAL), so callers can
 * log the fallback once and go on.
 *
 * Threads: any. Durability: what the system calls give; sync is fdatasync,
 * sync_dir is fsync of the directory.
 */

#include "engine/vfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int posix_open(const struct vfs *v, const char *path, int flags, int vflags, int mode, int *direct)
{
    (void)v;
    int fd = -1;
    if (vflags & VFS_O_DIRECT) {
        do
            fd = open(path, flags | O_DIRECT | O_CLOEXEC, mode);
        while (fd < 0 && errno == EINTR);
        if (fd >= 0) {
            if (direct)
                *direct = 1;
            return fd;
        }
        if (errno != EINVAL)
            return -errno;
    }
    do
        fd = open(path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -errno;
    if (direct)
        *direct = 0;
    return fd;
}

static ssize_t posix_pread(const struct vfs *v, int h, void *buf, size_t n, uint64_t off)
{
    (void)v;
    ssize_t r;
    do
        r = pread(h, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static ssize_t posix_pwrite(const struct vfs *v, int h, const void *buf, size_t n, uint64_t off)
{
    (void)v;
    ssize_t r;
    do
        r = pwrite(h, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static int posix_sync(const struct vfs *v, int h)
{
    (void)v;
    return fdatasync(h) < 0 ? -errno : 0;
}

static int posix_truncate(const struct vfs *v, int h, uint64_t size)
{
    (void)v;
    int r;
    do
        r = ftruncate(h, (off_t)size);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

static int64_t posix_size(const struct vfs *v, int h)
{
    (void)v;
    struct stat st;
    if (fstat(h, &st) < 0)
        return -errno;
    return (int64_t)st.st_size;
}

static int posix_close(const struct vfs *v, int h)
{
    (void)v;
    return close(h) < 0 && errno != EINTR ? -errno : 0;
}

static int posix_rename(const struct vfs *v, const char *from, const char *to)
{
    (void)v;
    return rename(from, to) < 0 ? -errno : 0;
}

static int posix_unlink(const struct vfs *v, const char *path)
{
    (void)v;
    return unlink(path) < 0 ? -errno : 0;
}

static int posix_sync_dir(const struct vfs *v, const char *dir)
{
    (void)v;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

static int posix_mkdir(const struct vfs *v, const char *dir, int mode)
{
    (void)v;
    if (mkdir(dir, (mode_t)mode) == 0)
        return 0;
    if (errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(dir, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int posix_list(const struct vfs *v, const char *dir, int (*fn)(void *ud, const char *name), void *ud)
{
    (void)v;
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;

    if (!d)
        return -errno;
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno)
                rc = -errno;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        rc = fn(ud, de->d_name);
        if (rc)
            break;
    }
    closedir(d);
    return rc;
}

static const struct vfs_ops posix_ops = {
    .open = posix_open,
    .pread = posix_pread,
    .pwrite = posix_pwrite,
    .sync = posix_sync,
    .truncate = posix_truncate,
    .size = posix_size,
    .close = posix_close,
    .rename = posix_rename,
    .unlink = posix_unlink,
    .sync_dir = posix_sync_dir,
    .mkdir = posix_mkdir,
    .list = posix_list,
};

static const struct vfs posix_vfs = { .ops = &posix_ops, .ud = NULL };

const struct vfs *vfs_posix(void)
{
    return &posix_vfs;
}

int vfs_pwrite_all(const struct vfs *v, int h, const void *buf, size_t n, uint64_t off)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = v->ops->pwrite(v, h, p, n, off);
        if (w == -EINTR)
            continue;
        if (w < 0)
            return (int)w;
        if (w == 0)
            return -EIO;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

ssize_t vfs_pread_full(const struct vfs *v, int h, void *buf, size_t n, uint64_t off)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = v->ops->pread(v, h, p + got, n - got, off + got);
        if (r == -EINTR)
            continue;
        if (r < 0)
            return r;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}
