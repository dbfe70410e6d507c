/* base/safe_path.c - see safe_path.h. */
#include "base/zkeep.h"
#include "base/safe_path.h"

#include <dirent.h>
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

/* The next component of *p (slashes skipped): its length, 0 at the end. */
static size_t next_component(const char **p)
{
	while (**p == '/')
		(*p)++;
	return strcspn(*p, "/");
}

static bool dot_component(const char *c, size_t n)
{
	return (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.');
}

bool path_within(const char *path, const char *dir)
{
	if (path[0] != '/' || dir[0] != '/')
		return false;
	for (const char *q = path; *q;) {
		size_t n = next_component(&q);
		if (dot_component(q, n))
			return false;
		q += n;
	}
	const char *p = path, *d = dir;
	for (;;) {
		size_t nd = next_component(&d);
		if (nd == 0)
			return true;
		size_t np = next_component(&p);
		if (np != nd || memcmp(p, d, nd) != 0 || dot_component(d, nd))
			return false;
		p += np;
		d += nd;
	}
}

/* ---- directories by fd ------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dir_names_at(int dfd, struct strvec *out)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	size_t first = out->n;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		strvec_push(out, de->d_name);
	}
	int e = errno;
	closedir(d);
	if (e)
		return -e;
	qsort(out->v + first, out->n - first, sizeof(char *), cmp_names);
	return 0;
}

int remove_tree_at(int at, const char *name, unsigned depth)
{
	if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
		return 0;
	if ((errno != EISDIR && errno != EPERM) || depth == 0)
		return -errno;
	_cleanup_fd_ int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_(strvec_release) struct strvec names = STRVEC_INIT;
	int r = dir_names_at(fd, &names);
	for (size_t i = 0; i < names.n; i++) {
		int rr = remove_tree_at(fd, names.v[i], depth - 1);
		if (rr < 0 && r == 0)
			r = rr;
	}
	if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}
