/*
 * base/mountinfo.h - what is mounted where, from /proc/self/mountinfo.
 *
 * Where a ZFS dataset is really mounted can differ from its mountpoint
 * property: a property changed without a remount (a receive into a mounted
 * dataset, a worker's own ioctl) moves nothing. Root decides where it may
 * mount received data from the real mounts.
 */
#ifndef ZKEEP_BASE_MOUNTINFO_H
#define ZKEEP_BASE_MOUNTINFO_H

#include "base/zkeep.h"
#include "base/strvec.h"

struct mount_entry {
	char *root;   /* the path inside the filesystem that is mounted ("/": all of it) */
	char *path;   /* where, unescaped */
	char *fstype; /* "zfs" */
	char *source; /* for zfs, the dataset */
};

struct mount_table {
	struct mount_entry *m;
	size_t n;
};
#define MOUNT_TABLE_INIT { 0 }

/*
 * Parse mountinfo text into out (appended); the number of lines skipped
 * because they do not have the kernel's shape (ten or more fields with "-"
 * three before the last, an absolute path, escapes of three octal digits).
 * A mount left out only takes a place away from where root mounts.
 */
size_t mountinfo_parse(const char *buf, size_t len, struct mount_table *out);
/* The calling process's mount table (/proc/self/mountinfo); -errno. */
int mountinfo_read(struct mount_table *out);
void mount_table_release(struct mount_table *t);

/* Each path where the ZFS dataset is mounted as a whole (root "/"), appended to paths. */
void mount_table_zfs_paths(const struct mount_table *t, const char *dataset,
			   struct strvec *paths);

#endif
