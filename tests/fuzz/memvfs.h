/*
 * memvfs.h -- a read-only, one-file struct vfs (engine/vfs.h) over a byte
 * buffer, for the fuzz harnesses: the readers under test see the fuzzer's
 * input as the file `name`, with no file system involved.
 *
 * The buffer is borrowed (it must outlive the vfs); opening any other path,
 * or for writing, fails (-ENOENT, -EROFS); every write-side call fails with
 * -EROFS. No state beyond the struct itself; one thread.
 */
#ifndef STRATA_MEMVFS_H
#define STRATA_MEMVFS_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "engine/vfs.h"

struct memvfs {
    struct vfs vfs;
    const char *name;
    const unsigned char *data;
    size_t size;
};

static int memvfs_open(const struct vfs *v, const char *path, int flags, int vflags, int mode, int *direct)
{
    const struct memvfs *m = v->ud;
    (void)vflags;
    (void)mode;
    if (strcmp(path, m->name) != 0)
        return -ENOENT;
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)))
        return -EROFS;
    if (direct)
        *direct = 0;
    return 3;
}

static ssize_t memvfs_pread(const struct vfs *v, int h, void *buf, size_t n, uint64_t off)
{
    const struct memvfs *m = v->ud;
    if (h != 3)
        return -EBADF;
    if (off >= m->size)
        return 0;
    size_t k = m->size - off < n ? (size_t)(m->size - off) : n;
    memcpy(buf, m->data + off, k);
    return (ssize_t)k;
}

static ssize_t memvfs_pwrite(const struct vfs *v, int h, const void *buf, size_t n, uint64_t off)
{
    (void)v, (void)h, (void)buf, (void)n, (void)off;
    return -EROFS;
}

static int memvfs_sync(const struct vfs *v, int h)
{
    (void)v, (void)h;
    return -EROFS;
}

static int memvfs_truncate(const struct vfs *v, int h, uint64_t size)
{
    (void)v, (void)h, (void)size;
    return -EROFS;
}

static int64_t memvfs_size(const struct vfs *v, int h)
{
    const struct memvfs *m = v->ud;
    return h == 3 ? (int64_t)m->size : -EBADF;
}

static int memvfs_close(const struct vfs *v, int h)
{
    (void)v;
    return h == 3 ? 0 : -EBADF;
}

static int memvfs_rename(const struct vfs *v, const char *a, const char *b)
{
    (void)v, (void)a, (void)b;
    return -EROFS;
}

static int memvfs_path_op(const struct vfs *v, const char *p)
{
    (void)v, (void)p;
    return -EROFS;
}

static int memvfs_mkdir(const struct vfs *v, const char *p, int mode)
{
    (void)v, (void)p, (void)mode;
    return -EROFS;
}

static const struct vfs_ops memvfs_ops = {
    .open = memvfs_open,
    .pread = memvfs_pread,
    .pwrite = memvfs_pwrite,
    .sync = memvfs_sync,
    .truncate = memvfs_truncate,
    .size = memvfs_size,
    .close = memvfs_close,
    .rename = memvfs_rename,
    .unlink = memvfs_path_op,
    .sync_dir = memvfs_path_op,
    .mkdir = memvfs_mkdir,
};

/* Makes m a vfs holding data[0..size) (borrowed) as the file name (borrowed). */
static inline const struct vfs *memvfs_init(struct memvfs *m, const char *name, const void *data, size_t size)
{
    m->vfs.ops = &memvfs_ops;
    m->vfs.ud = m;
    m->name = name;
    m->data = data;
    m->size = size;
    return &m->vfs;
}

#endif
