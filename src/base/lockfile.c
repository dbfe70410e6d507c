/* base/lockfile.c - see lockfile.h. */
#include "base/zkeep.h"
#include "base/lockfile.h"

#include <fcntl.h>
#include <sys/file.h>

int lockfile_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	return fd < 0 ? -errno : fd;
}

int lockfile_lock(int fd, bool wait)
{
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int lockfile_take(const char *path, bool wait)
{
	_cleanup_fd_ int fd = lockfile_open(path);
	if (fd < 0)
		return fd;
	int r = lockfile_lock(fd, wait);
	return r < 0 ? r : steal_fd(&fd);
}

int lockfile_write_pid(int fd)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0)
		return -errno;
	ssize_t k = pwrite(fd, pid, (size_t)n, 0);
	return k == n ? 0 : k < 0 ? -errno : -EIO;
}

void lockfile_holder(int fd, struct strbuf *out)
{
	strbuf_release(out);
	strbuf_init(out, 64);
	if (lseek(fd, 0, SEEK_SET) == 0)
		strbuf_read_fd(out, fd); /* what fits: a pid does */
	strbuf_setlen(out, strcspn(out->buf, "\n"));
}
