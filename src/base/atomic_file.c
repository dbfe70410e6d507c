/* atomic_file.c - see atomic_file.h. */
#include "base/atomic_file.h"

#include <fcntl.h>

/* Different names for the temporaries of one process (several files, retries). */
static unsigned tmp_serial;

int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode)
{
	return atomic_file_openat(f, AT_FDCWD, path, mode);
}

int atomic_file_openat(struct atomic_file *f, int dirfd, const char *path, mode_t mode)
{
	atomic_file_release(f);
	f->dirfd = dirfd;
	f->path = xstrdup(path);
	for (int tries = 0; tries < 100; tries++) {
		free(f->tmp);
		f->tmp = xasprintf("%s.zkeep-tmp.%ld.%u", path, (long)getpid(), tmp_serial++);
		f->fd = openat(f->dirfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (f->fd >= 0) {
			f->created = true;
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int atomic_file_write(struct atomic_file *f, const void *buf, size_t n)
{
	const char *p = buf;
	if (f->fd < 0)
		return -EBADF;
	while (n) {
		ssize_t w = write(f->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int atomic_file_commit(struct atomic_file *f)
{
	if (f->fd < 0)
		return -EBADF;
	if (fsync(f->fd) < 0 || close(steal_fd(&f->fd)) < 0 || renameat(f->dirfd, f->tmp, f->dirfd, f->path) < 0) {
		int r = -errno;
		atomic_file_release(f);
		return r;
	}
	f->created = false;  /* renamed: nothing to remove */
	return 0;
}

void atomic_file_release(struct atomic_file *f)
{
	int saved = errno;
	if (f->fd >= 0)
		close(steal_fd(&f->fd));
	if (f->created)
		unlinkat(f->dirfd, f->tmp, 0);
	f->created = false;
	free(f->tmp);
	free(f->path);
	f->tmp = f->path = NULL;
	f->dirfd = AT_FDCWD;
	errno = saved;
}

int write_file_atomic(const char *path, const void *buf, size_t n, mode_t mode)
{
	_cleanup_release_(atomic_file) struct atomic_file f = ATOMIC_FILE_INIT;
	int r = atomic_file_open(&f, path, mode);
	if (r >= 0)
		r = atomic_file_write(&f, buf, n);
	if (r >= 0)
		r = atomic_file_commit(&f);
	return r;
}
