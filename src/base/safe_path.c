/* base/safe_path.c - see safe_path.h. */
#include "base/zkeep.h"
#include "base/safe_path.h"

#include <fcntl.h>
#include <sys/stat.h>

static int check_dir(const struct stat *st, const char *sofar, bool last, struct strbuf *why)
{
	if (S_ISLNK(st->st_mode))
		return strbuf_addf(why, "%s is a symbolic link", sofar), -ELOOP;
	if (!S_ISDIR(st->st_mode))
		return strbuf_addf(why, "%s is not a directory", sofar), -ENOTDIR;
	if (st->st_uid != 0)
		return strbuf_addf(why, "%s is owned by uid %u, not root", sofar,
				   (unsigned)st->st_uid), -EPERM;
	if (!last && (st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
		return strbuf_addf(why, "%s is writable by others than root", sofar), -EPERM;
	return 0;
}

int path_root_only(const char *path, struct strbuf *why)
{
	if (path[0] != '/')
		return strbuf_addf(why, "%s is not an absolute path", path), -EPERM;
	_cleanup_fd_ int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return strbuf_addf(why, "/: %s", strerror(errno)), -errno;
	struct stat st;
	_cleanup_strbuf_ struct strbuf sofar = STRBUF_INIT;
	const char *p = path;
	for (;;) {
		while (*p == '/')
			p++;
		if (fstat(fd, &st) < 0)
			return strbuf_addf(why, "%s: %s", sofar.len ? sofar.buf : "/", strerror(errno)),
			       -errno;
		int r = check_dir(&st, sofar.len ? sofar.buf : "/", *p == '\0', why);
		if (r < 0)
			return r;
		if (*p == '\0')
			return 0;
		size_t n = strcspn(p, "/");
		_cleanup_free_ char *comp = xstrndup(p, n);
		strbuf_addf(&sofar, "/%s", comp);
		if (streq(comp, ".") || streq(comp, ".."))
			return strbuf_addf(why, "%s: '.' and '..' are not allowed", path), -EPERM;
		int nfd = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT) {
			/* root creates the rest: nobody else may create it first */
			if (st.st_mode & (S_IWGRP | S_IWOTH))
				return strbuf_addf(why, "%s does not exist and others than root "
						   "may create it", sofar.buf), -EPERM;
			return 0;
		}
		if (nfd < 0)
			return strbuf_addf(why, "%s: %s", sofar.buf, strerror(errno)), -errno;
		close(fd);
		fd = nfd;
		p += n;
	}
}
