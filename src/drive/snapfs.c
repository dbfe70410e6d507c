/* snapfs.c - see snapfs.h. */
#include "base/zkeep.h"
#include "base/safe_path.h"
#include "drive/snapfs.h"
#include "base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#define BUFSZ (128 * 1024)

/* ---- open ------------------------------------------------------------------- */

int snapfs_open(struct zfs *z, const char *snapshot, struct snapfs_dir *out, struct strbuf *err)
{
	const char *at = strchr(snapshot, '@');
	*out = (struct snapfs_dir)SNAPFS_DIR_INIT;
	if (!at || !zfs_name_valid(snapshot, true)) {
		strbuf_addf(err, "'%s' is not a snapshot name (DATASET@SNAPSHOT)", snapshot);
		return -EINVAL;
	}
	_cleanup_free_ char *ds = xstrndup(snapshot, (size_t)(at - snapshot));
	_cleanup_free_ char *type = NULL, *mounted = NULL, *mp = NULL;
	if (zfs_get_prop(z, snapshot, "type", &type) < 0) {
		strbuf_addf(err, "%s", zfs_error(z));
		return -ENOENT;
	}
	if (!streq(type, "snapshot") || zfs_get_prop(z, ds, "type", &type) < 0 ||
	    !streq(type, "filesystem")) {
		strbuf_addf(err, "%s is not a snapshot of a filesystem (volumes have no files)",
			    snapshot);
		return -EINVAL;
	}
	if (zfs_get_prop(z, ds, "mounted", &mounted) == 0 && streq(mounted, "yes") &&
	    zfs_get_prop(z, ds, "mountpoint", &mp) == 0 && mp[0] == '/') {
		_cleanup_free_ char *p = xasprintf("%s%s.zfs/snapshot/%s", mp,
						   ends_with(mp, "/") ? "" : "/", at + 1);
		struct stat sb;
		if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			out->path = steal_pointer(&p);
			return 0;
		}
		/* .zfs hidden behind something else: fall back to a mount */
	}
	char tmpl[] = "/tmp/zkeep-snap.XXXXXX";
	if (!mkdtemp(tmpl)) {
		strbuf_addf(err, "cannot make a temporary directory: %s", strerror(errno));
		return -errno;
	}
	_cleanup_strbuf_ struct strbuf e = STRBUF_INIT;
	int code = 0;
	int r = runner_run(z->run, ARGV("mount", "-t", "zfs", "-o", "ro", snapshot, tmpl), NULL, 0,
			   NULL, &e, &code);
	if (r < 0 || code != 0) {
		strbuf_rtrim(&e);
		strbuf_addf(err, "cannot mount %s read-only on %s: %s (mounting needs root; or mount "
			    "the dataset and use its .zfs/snapshot)",
			    snapshot, tmpl, r < 0 ? strerror(-r) : e.buf);
		rmdir(tmpl);
		return -EIO;
	}
	out->path = xstrdup(tmpl);
	out->tmp_mount = xstrdup(tmpl);
	out->run = z->run;
	return 0;
}

void snapfs_release(struct snapfs_dir *d)
{
	if (d->tmp_mount && d->run) {
		int code = 0;
		if (runner_run(d->run, ARGV("umount", d->tmp_mount), NULL, 0, NULL, NULL, &code) == 0 &&
		    code == 0)
			rmdir(d->tmp_mount);
	}
	free(d->path);
	free(d->tmp_mount);
	*d = (struct snapfs_dir)SNAPFS_DIR_INIT;
}

/* ---- compare ---------------------------------------------------------------- */

struct cmp {
	unsigned flags;
	snapfs_diff_fn fn;
	void *data;
	struct snapfs_stats *st;
	char *ba, *bb;
};

static void diff(struct cmp *c, const char *path, const char *fmt, ...) PRINTF(3, 4);
static void diff(struct cmp *c, const char *path, const char *fmt, ...)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	c->st->differences++;
	if (c->fn)
		c->fn(path, sb.buf, c->data);
}

static const char *type_name(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink"
		: S_ISFIFO(m) ? "fifo" : S_ISSOCK(m) ? "socket" : S_ISCHR(m) ? "char device"
		: S_ISBLK(m) ? "block device" : "unknown";
}

static ssize_t read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static void cmp_file(struct cmp *c, int da, int db, const char *name, const char *path)
{
	_cleanup_fd_ int fa = openat(da, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_fd_ int fb = openat(db, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fa < 0 || fb < 0) {
		diff(c, path, "cannot open on the %s: %s", fa < 0 ? "source" : "target",
		     strerror(errno));
		return;
	}
	uint64_t off = 0;
	for (;;) {
		ssize_t na = read_full(fa, c->ba, BUFSZ);
		if (na < 0) {
			diff(c, path, "cannot read on the source at byte %" PRIu64 ": %s", off,
			     strerror(errno));
			return;
		}
		ssize_t nb = read_full(fb, c->bb, BUFSZ);
		if (nb < 0) {
			diff(c, path, "cannot read on the target at byte %" PRIu64 ": %s%s", off,
			     strerror(errno),
			     errno == EIO ? " (ZFS checksum error: the backup is damaged)" : "");
			return;
		}
		size_t n = (size_t)(na < nb ? na : nb);
		if (memcmp(c->ba, c->bb, n) != 0) {
			size_t i = 0;
			while (c->ba[i] == c->bb[i])
				i++;
			diff(c, path, "content differs from byte %" PRIu64, off + i);
			return;
		}
		if (na != nb) {
			diff(c, path, "content differs: one side ends at byte %" PRIu64, off + n);
			return;
		}
		off += (uint64_t)na;
		c->st->bytes += (uint64_t)na;
		if (na == 0)
			return;
	}
}

static void cmp_meta(struct cmp *c, const char *path, const struct stat *a, const struct stat *b)
{
	if (!(c->flags & SNAPFS_CMP_METADATA))
		return;
	if ((a->st_mode & 07777) != (b->st_mode & 07777))
		diff(c, path, "mode differs: %04o on the source, %04o on the target",
		     (unsigned)(a->st_mode & 07777), (unsigned)(b->st_mode & 07777));
	if (a->st_uid != b->st_uid || a->st_gid != b->st_gid)
		diff(c, path, "owner differs: %u:%u on the source, %u:%u on the target",
		     (unsigned)a->st_uid, (unsigned)a->st_gid, (unsigned)b->st_uid,
		     (unsigned)b->st_gid);
	if (!S_ISDIR(a->st_mode) && !S_ISLNK(a->st_mode) &&
	    (a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec))
		diff(c, path, "modification time differs");
}

static void cmp_dir(struct cmp *c, int da, int db, const char *prefix, int depth)
{
	_cleanup_strvec_ struct strvec na = STRVEC_INIT, nb = STRVEC_INIT;
	int r;
	if (depth > SNAPFS_MAX_DEPTH) {
		diff(c, prefix, "deeper than %d levels: not compared", SNAPFS_MAX_DEPTH);
		return;
	}
	if ((r = dir_names_at(da, &na)) < 0 || (r = dir_names_at(db, &nb)) < 0) {
		diff(c, prefix, "cannot list the directory: %s", strerror(-r));
		return;
	}
	size_t i = 0, k = 0;
	while (i < na.n || k < nb.n) {
		int order = i >= na.n ? 1 : k >= nb.n ? -1 : strcmp(na.v[i], nb.v[k]);
		const char *name = order <= 0 ? na.v[i] : nb.v[k];
		_cleanup_free_ char *path = xasprintf("%s%s%s", prefix, *prefix ? "/" : "", name);
		if (order < 0) {
			diff(c, path, "only on the source");
			i++;
			continue;
		}
		if (order > 0) {
			diff(c, path, "only on the target");
			k++;
			continue;
		}
		i++;
		k++;
		struct stat sa, sb;
		if (fstatat(da, name, &sa, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fstatat(db, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			diff(c, path, "cannot stat: %s", strerror(errno));
			continue;
		}
		if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) {
			diff(c, path, "a %s on the source, a %s on the target", type_name(sa.st_mode),
			     type_name(sb.st_mode));
			continue;
		}
		cmp_meta(c, path, &sa, &sb);
		if (S_ISREG(sa.st_mode)) {
			c->st->files++;
			if (sa.st_size != sb.st_size)
				diff(c, path, "size differs: %lld bytes on the source, %lld on the target",
				     (long long)sa.st_size, (long long)sb.st_size);
			else
				cmp_file(c, da, db, name, path);
		} else if (S_ISLNK(sa.st_mode)) {
			c->st->others++;
			char la[4096], lb[4096];
			ssize_t xa = readlinkat(da, name, la, sizeof(la));
			ssize_t xb = readlinkat(db, name, lb, sizeof(lb));
			if (xa < 0 || xb < 0 || xa != xb || memcmp(la, lb, (size_t)xa) != 0)
				diff(c, path, "symlink target differs");
		} else if (S_ISDIR(sa.st_mode)) {
			c->st->dirs++;
			_cleanup_fd_ int sda = openat(da, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_fd_ int sdb = openat(db, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sda < 0 || sdb < 0) {
				diff(c, path, "cannot open the directory: %s", strerror(errno));
				continue;
			}
			cmp_dir(c, sda, sdb, path, depth + 1);
		} else {
			c->st->others++;
			if ((S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) && sa.st_rdev != sb.st_rdev)
				diff(c, path, "device number differs");
		}
	}
}

int snapfs_compare(const char *a, const char *b, unsigned flags, snapfs_diff_fn fn, void *data,
		   struct snapfs_stats *stats, struct strbuf *err)
{
	memset(stats, 0, sizeof(*stats));
	_cleanup_fd_ int da = open(a, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (da < 0) {
		strbuf_addf(err, "cannot open %s: %s", a, strerror(errno));
		return -errno;
	}
	_cleanup_fd_ int db = open(b, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (db < 0) {
		strbuf_addf(err, "cannot open %s: %s", b, strerror(errno));
		return -errno;
	}
	_cleanup_free_ char *ba = xmalloc(BUFSZ), *bb = xmalloc(BUFSZ);
	struct cmp c = { .flags = flags, .fn = fn, .data = data, .st = stats, .ba = ba, .bb = bb };
	stats->dirs++;
	cmp_dir(&c, da, db, "", 0);
	return 0;
}

/* ---- copy ------------------------------------------------------------------- */

struct cp {
	unsigned flags;
	struct snapfs_stats *st;
	struct strbuf *err;
	char *buf;
	bool root;
};

static int fail_path(struct cp *c, const char *what, const char *path, int e)
{
	strbuf_addf(c->err, "%s %s: %s", what, path, strerror(e));
	return -e;
}

static void set_meta_fd(struct cp *c, int fd, const struct stat *sb)
{
	if (c->root && fchown(fd, sb->st_uid, sb->st_gid) < 0) {
		/* best effort: the data is what matters */
	}
	if (fchmod(fd, sb->st_mode & 07777) < 0) {
		/* idem */
	}
	struct timespec ts[2] = { sb->st_atim, sb->st_mtim };
	if (futimens(fd, ts) < 0) {
		/* idem */
	}
}

static int copy_file(struct cp *c, int sfd_dir, const char *sname, int ddir, const char *dname,
		     const char *dst, const struct stat *sb)
{
	_cleanup_fd_ int in = openat(sfd_dir, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return fail_path(c, "cannot open", sname, errno);
	_cleanup_release_(atomic_file) struct atomic_file out = ATOMIC_FILE_INIT;
	int r = atomic_file_openat(&out, ddir, dname, 0600);
	if (r < 0)
		return fail_path(c, "cannot create a temporary next to", dst, -r);
	for (;;) {
		ssize_t n = read(in, c->buf, BUFSZ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail_path(c, "cannot read", sname, errno);
		if (n == 0)
			break;
		if ((r = atomic_file_write(&out, c->buf, (size_t)n)) < 0)
			return fail_path(c, "cannot write", dst, -r);
		c->st->bytes += (uint64_t)n;
	}
	set_meta_fd(c, out.fd, sb);
	if ((r = atomic_file_commit(&out)) < 0)
		return fail_path(c, "cannot write", dst, -r);
	c->st->files++;
	return 0;
}

/* A directory entry of ddir, never through a symlink: -ELOOP/-ENOTDIR if it is one. */
static int open_dir_at(int ddir, const char *name)
{
	int fd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int copy_entry(struct cp *c, int sdir, const char *sname, int ddir, const char *dname,
		      const char *dst, int depth);

static int copy_dir(struct cp *c, int sdir, const char *sname, int ddir, const char *dname,
		    const char *dst, const struct stat *sb, int depth)
{
	if (depth > SNAPFS_MAX_DEPTH) {
		strbuf_addf(c->err, "%s: deeper than %d levels", dst, SNAPFS_MAX_DEPTH);
		return -ELOOP;
	}
	_cleanup_fd_ int fd = openat(sdir, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail_path(c, "cannot open", sname, errno);
	if (mkdirat(ddir, dname, 0700) < 0 && !(errno == EEXIST && (c->flags & SNAPFS_COPY_FORCE)))
		return fail_path(c, "cannot create", dst, errno);
	/* What is there now, if it is a real directory: a symlink raced in is refused. */
	_cleanup_fd_ int dfd = open_dir_at(ddir, dname);
	if (dfd < 0) {
		if (dfd == -ELOOP || dfd == -ENOTDIR) {
			strbuf_addf(c->err, "%s is no longer a directory (a symlink?): restore never "
				    "follows one", dst);
			return -ELOOP;
		}
		return fail_path(c, "cannot open", dst, -dfd);
	}
	_cleanup_strvec_ struct strvec names = STRVEC_INIT;
	int r = dir_names_at(fd, &names);
	if (r < 0)
		return fail_path(c, "cannot list", sname, -r);
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", dst, names.v[i]);
		r = copy_entry(c, fd, names.v[i], dfd, names.v[i], d, depth + 1);
		if (r < 0)
			return r;
	}
	set_meta_fd(c, dfd, sb); /* after the children: their creation touched mtime */
	c->st->dirs++;
	return 0;
}

/* A symlink as in the snapshot; owner and times set on the link itself, through an O_PATH fd. */
static int copy_symlink(struct cp *c, int sdir, const char *sname, int ddir, const char *dname,
			const char *dst, const struct stat *sb, bool exists)
{
	char target[4096];
	ssize_t n = readlinkat(sdir, sname, target, sizeof(target) - 1);
	if (n < 0)
		return fail_path(c, "cannot read link", sname, errno);
	target[n] = '\0';
	if (exists && unlinkat(ddir, dname, 0) < 0)
		return fail_path(c, "cannot replace", dst, errno);
	if (symlinkat(target, ddir, dname) < 0)
		return fail_path(c, "cannot create", dst, errno);
	_cleanup_fd_ int lfd = openat(ddir, dname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat ls;
	if (lfd >= 0 && fstat(lfd, &ls) == 0 && S_ISLNK(ls.st_mode)) {
		if (c->root && fchownat(lfd, "", sb->st_uid, sb->st_gid,
					AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
			/* best effort */
		}
		/* a link's own times cannot be set through a descriptor: by name, once
		 * checked to be ours, without following it */
		struct timespec ts[2] = { sb->st_atim, sb->st_mtim };
		utimensat(ddir, dname, ts, AT_SYMLINK_NOFOLLOW);
	}
	c->st->others++;
	return 0;
}

static int copy_entry(struct cp *c, int sdir, const char *sname, int ddir, const char *dname,
		      const char *dst, int depth)
{
	struct stat sb, db;
	if (fstatat(sdir, sname, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return fail_path(c, "cannot stat", sname, errno);
	bool exists = fstatat(ddir, dname, &db, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && !(c->flags & SNAPFS_COPY_FORCE)) {
		strbuf_addf(c->err, "%s exists (use --force to overwrite)", dst);
		return -EEXIST;
	}
	if (S_ISDIR(sb.st_mode)) {
		if (exists && !S_ISDIR(db.st_mode) && unlinkat(ddir, dname, 0) < 0)
			return fail_path(c, "cannot replace", dst, errno);
		return copy_dir(c, sdir, sname, ddir, dname, dst, &sb, depth);
	}
	if (exists && S_ISDIR(db.st_mode)) {
		strbuf_addf(c->err, "%s is a directory; the snapshot has a %s there: remove it first",
			    dst, type_name(sb.st_mode));
		return -EISDIR;
	}
	if (S_ISREG(sb.st_mode))
		return copy_file(c, sdir, sname, ddir, dname, dst, &sb);
	if (S_ISLNK(sb.st_mode))
		return copy_symlink(c, sdir, sname, ddir, dname, dst, &sb, exists);
	/* fifos, sockets, devices: not restored, said so */
	strbuf_addf(c->err, "%s: a %s is not restored (only files, directories and symlinks)",
		    sname, type_name(sb.st_mode));
	c->st->others++;
	return 0;
}

/*
 * The directory path, with no symlink anywhere on the way: openat2 with
 * RESOLVE_NO_SYMLINKS, or (older kernels) one O_NOFOLLOW component at a time.
 */
static int open_dir_no_symlinks(const char *path)
{
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd >= 0)
		return fd;
	if (errno != ENOSYS && errno != EPERM) /* EPERM: a seccomp filter without openat2 */
		return -errno;
	fd = open(path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_free_ char *copy = xstrdup(path);
	char *save = NULL;
	for (char *part = strtok_r(copy, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (next < 0)
			return -e;
		fd = next;
	}
	return fd;
}

int snapfs_copy(const char *src, const char *dst, unsigned flags, struct snapfs_stats *stats,
		struct strbuf *err)
{
	memset(stats, 0, sizeof(*stats));
	_cleanup_free_ char *s = xstrdup(src);
	size_t len = strlen(s);
	while (len > 1 && s[len - 1] == '/')
		s[--len] = '\0';
	char *slash = strrchr(s, '/');
	_cleanup_free_ char *dir = slash ? xstrndup(s, (size_t)(slash - s) + 1) : xstrdup(".");
	const char *base = slash ? slash + 1 : s;
	_cleanup_fd_ int sfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0) {
		strbuf_addf(err, "cannot open %s: %s", dir, strerror(errno));
		return -errno;
	}
	/* The destination: its parent without symlinks, then only entries of dirfds. */
	_cleanup_free_ char *d = xstrdup(dst);
	len = strlen(d);
	while (len > 1 && d[len - 1] == '/')
		d[--len] = '\0';
	slash = strrchr(d, '/');
	_cleanup_free_ char *ddir_path = slash ? xstrndup(d, (size_t)(slash - d) + 1) : xstrdup(".");
	const char *dbase = slash ? slash + 1 : d;
	if (!*dbase || streq(dbase, ".") || streq(dbase, "..")) {
		strbuf_addf(err, "%s: name the file or directory to create", dst);
		return -EINVAL;
	}
	_cleanup_fd_ int ddir = open_dir_no_symlinks(ddir_path);
	if (ddir < 0) {
		int e = -ddir;
		if (e == ELOOP)
			strbuf_addf(err, "cannot open %s: a symlink on the way (restore never follows "
				    "one; give the real path)", ddir_path);
		else
			strbuf_addf(err, "cannot open %s: %s", ddir_path, strerror(e));
		return -e;
	}
	_cleanup_free_ char *buf = xmalloc(BUFSZ);
	struct cp c = { .flags = flags, .st = stats, .err = err, .buf = buf, .root = geteuid() == 0 };
	return copy_entry(&c, sfd, base, ddir, dbase, dst, 0);
}
