/*
 * base/atomic_file.h - replace a file all at once: readers see the old content or
 * the new, never a part.
 *
 * The new content goes to a temporary file in the same directory, created
 * O_EXCL|O_NOFOLLOW|O_CLOEXEC (a planted file or symlink is never opened),
 * named "PATH.zkeep-tmp.PID.N"; commit fsyncs it and renames it over PATH. A
 * file released without commit is closed and unlinked, so a failed write
 * leaves PATH as it was and no temporary behind.
 *
 *	_cleanup_release_(atomic_file) struct atomic_file f = ATOMIC_FILE_INIT;
 *	if ((r = atomic_file_open(&f, path, 0644)) < 0 ||
 *	    (r = atomic_file_write(&f, buf, len)) < 0 || (r = atomic_file_commit(&f)) < 0)
 *		... -errno in r, f.tmp names the temporary ...
 *
 * write_file_atomic() does the three steps for content in memory.
 */
#ifndef ZKEEP_ATOMIC_FILE_H
#define ZKEEP_ATOMIC_FILE_H

#include "base/zkeep.h"

#include <fcntl.h>
#include <sys/types.h>

struct atomic_file {
	int dirfd;   /* the directory path is relative to (AT_FDCWD; not owned) */
	int fd;      /* the temporary, open for writing (fchmod, futimens...); -1 when closed */
	char *path;  /* the file to replace */
	char *tmp;   /* the temporary's name (set from open on, also when open failed) */
	bool created; /* tmp is ours to remove */
};
#define ATOMIC_FILE_INIT { .dirfd = AT_FDCWD, .fd = -1, .path = NULL, .tmp = NULL, .created = false }

/* Create the temporary for path with mode (before umask). 0 or -errno. */
int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode);
/* The same for name relative to the directory dirfd (kept open by the caller until
 * commit or release): no path is resolved again, a symlinked parent cannot redirect it. */
int atomic_file_openat(struct atomic_file *f, int dirfd, const char *name, mode_t mode);
/* Write all of buf (retrying short writes and EINTR). 0 or -errno. */
int atomic_file_write(struct atomic_file *f, const void *buf, size_t n);
/* fsync, close and rename over path. 0 or -errno (the temporary is then removed). */
int atomic_file_commit(struct atomic_file *f);
/* Close and remove the temporary if not committed; free the names. */
void atomic_file_release(struct atomic_file *f);

/* Replace path with the n bytes at buf, mode as for atomic_file_open. 0 or -errno. */
int write_file_atomic(const char *path, const void *buf, size_t n, mode_t mode);

#endif
