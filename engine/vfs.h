/*
 * vfs.h -- the file operations every durable format goes through: the SSD
 * tier's segments now, snapshots and the append log later.
 *
 * A struct vfs is a small vtable over POSIX file calls. vfs_posix() is the
 * real one (a const instance: no state). Tests put another in its place at
 * the system boundary: one that fails a chosen call with EIO (the sticky
 * failed state of a tier), or one that keeps writes not yet fsynced in
 * memory and, at a simulated power loss, drops or tears them (SQLite's
 * test6.c is the model; tests/crash/). Code that writes durable state
 * therefore never calls write(2) or fsync(2) itself.
 *
 * Conventions: every call returns >= 0 on success and -errno on failure
 * (never sets errno for the caller to read). Handles are small non-negative
 * integers owned by the vfs that returned them. Short reads happen only at
 * the end of a file; short writes are retried inside pwrite_all.
 *
 * Threads: a vfs may be called from any thread; calls on one handle from two
 * threads at once are allowed for pread/pwrite at different offsets.
 */
#ifndef STRATA_VFS_H
#define STRATA_VFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VFS_O_DIRECT 0x1 /* open: try O_DIRECT; vfs_open reports whether it held */

struct vfs;

struct vfs_ops {
    /* Opens path with open(2) flags (O_RDONLY, O_RDWR, O_CREAT, O_EXCL,
     * O_TRUNC ...) and VFS_O_DIRECT in vflags. Returns a handle or -errno.
     * *direct (may be NULL) says whether O_DIRECT is in effect. */
    int (*open)(const struct vfs *v, const char *path, int flags, int vflags, int mode, int *direct);
    ssize_t (*pread)(const struct vfs *v, int h, void *buf, size_t n, uint64_t off);
    ssize_t (*pwrite)(const struct vfs *v, int h, const void *buf, size_t n, uint64_t off);
    /* fdatasync(2): the file's data written so far is durable. */
    int (*sync)(const struct vfs *v, int h);
    int (*truncate)(const struct vfs *v, int h, uint64_t size);
    /* Size of the open file, or -errno. */
    int64_t (*size)(const struct vfs *v, int h);
    int (*close)(const struct vfs *v, int h);
    int (*rename)(const struct vfs *v, const char *from, const char *to);
    int (*unlink)(const struct vfs *v, const char *path);
    /* Makes the directory's entries (creations, renames, unlinks) durable. */
    int (*sync_dir)(const struct vfs *v, const char *dir);
    /* mkdir -p of one level: 0 also when it exists as a directory. */
    int (*mkdir)(const struct vfs *v, const char *dir, int mode);
    /* Calls fn(ud, name) for each entry of dir but "." and ".." (name is
     * only valid during the call) until fn returns non-zero, which is then
     * returned; 0 at the end, or -errno. The order is unspecified. A vfs
     * that keeps files of its own there (a crash simulator's backups)
     * leaves those out. */
    int (*list)(const struct vfs *v, const char *dir, int (*fn)(void *ud, const char *name), void *ud);
};

struct vfs {
    const struct vfs_ops *ops;
    void *ud; /* the implementation's own state */
};

/* The real file system. Never NULL; no state. */
const struct vfs *vfs_posix(void);

/* Thin wrappers, so call sites read as plain calls. */
static inline int vfs_open(const struct vfs *v, const char *path, int flags, int vflags, int mode, int *direct)
{
    return v->ops->open(v, path, flags, vflags, mode, direct);
}
static inline ssize_t vfs_pread(const struct vfs *v, int h, void *buf, size_t n, uint64_t off)
{
    return v->ops->pread(v, h, buf, n, off);
}
static inline int vfs_sync(const struct vfs *v, int h)
{
    return v->ops->sync(v, h);
}
static inline int vfs_close(const struct vfs *v, int h)
{
    return v->ops->close(v, h);
}

/* Writes all n bytes at off (retrying short writes and EINTR). 0 or -errno. */
int vfs_pwrite_all(const struct vfs *v, int h, const void *buf, size_t n, uint64_t off);

/* Reads up to n bytes at off, retrying short reads until n or end of file.
 * Returns the bytes read (< n only at end of file) or -errno. */
ssize_t vfs_pread_full(const struct vfs *v, int h, void *buf, size_t n, uint64_t off);

#endif
