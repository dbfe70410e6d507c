/*
 * drive/snapfs.h - the files of a snapshot: find them, compare two trees, copy a
 * tree out. Used by `zkeep verify` (content check) and `zkeep restore file`.
 *
 * A snapshot's files are read read-only, through the mounted dataset's
 * `.zfs/snapshot/NAME` (ZFS automounts it on access) or, when the dataset is
 * not mounted (a backup pool imported with -N, canmount=noauto), through a
 * temporary read-only mount of the snapshot itself (`mount -t zfs -o ro
 * ds@snap DIR`, root only) that snapfs_release() unmounts again.
 *
 * Tree walks use openat() relative to directory descriptors with O_NOFOLLOW:
 * a symlink is compared or copied as a link, never followed. Depth is limited
 * to SNAPFS_MAX_DEPTH. Nothing here logs.
 */
#ifndef ZKEEP_SNAPFS_H
#define ZKEEP_SNAPFS_H

#include "base/zkeep.h"
#include "zfs/zfs.h"

#define SNAPFS_MAX_DEPTH 512

struct snapfs_dir {
	char *path;      /* the snapshot's root directory */
	char *tmp_mount; /* the temporary mount point to remove, or NULL */
	struct runner *run;
};
#define SNAPFS_DIR_INIT { .path = NULL, .tmp_mount = NULL, .run = NULL }

/*
 * Find (or mount) the directory of snapshot "pool/fs@snap". 0, or -errno
 * with a message in err (-ENOENT: no such snapshot, -EINVAL: not a
 * filesystem snapshot, -EIO: the mount failed).
 */
int snapfs_open(struct zfs *z, const char *snapshot, struct snapfs_dir *out, struct strbuf *err);
/* Unmount a temporary mount and free; accepts an unopened dir. */
void snapfs_release(struct snapfs_dir *d);

/* ---- compare ---------------------------------------------------------------- */

/* Called for each difference: path relative to the roots ("" = the root). */
typedef void (*snapfs_diff_fn)(const char *path, const char *what, void *data);

struct snapfs_stats {
	uint64_t files, dirs, others, bytes, differences;
};

enum {
	SNAPFS_CMP_METADATA = 1 << 0, /* also mode, owner and mtime */
};

/*
 * Compare the trees at a (source) and b (target): names, types, sizes,
 * every byte of regular files (streaming both), symlink targets, and with
 * SNAPFS_CMP_METADATA mode/uid/gid/mtime. A file that cannot be read on
 * either side (EIO from a checksum error) is a difference. Returns 0 when
 * the comparison ran (see stats->differences), -errno with a message in
 * err when a root cannot be opened.
 */
int snapfs_compare(const char *a, const char *b, unsigned flags, snapfs_diff_fn fn, void *data,
		   struct snapfs_stats *stats, struct strbuf *err);

/* ---- copy ------------------------------------------------------------------- */

enum {
	SNAPFS_COPY_FORCE = 1 << 0, /* replace existing files (a directory is merged) */
};

/*
 * Copy src (a file, symlink or directory tree) to dst, preserving mode,
 * mtime/atime and, when running as root, owner. Without SNAPFS_COPY_FORCE
 * nothing is written when dst exists (-EEXIST). Files are written to a
 * temporary name and renamed, so an interrupted copy never leaves half a
 * file under the final name. 0 or -errno with the path in err.
 * The destination is never resolved by path twice: dst's parent is opened
 * with no symlink on the way (-ELOOP otherwise), everything below it is
 * created with mkdirat/openat(O_EXCL|O_NOFOLLOW)/symlinkat relative to
 * directory descriptors, descended into with O_NOFOLLOW (a directory raced
 * into a symlink stops the copy with -ELOOP), and owner, mode and times are
 * set on descriptors. A user who owns the destination cannot make root
 * write or chown anything outside it.
 */
int snapfs_copy(const char *src, const char *dst, unsigned flags, struct snapfs_stats *stats,
		struct strbuf *err);

#endif
