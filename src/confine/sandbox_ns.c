/*
 * sandbox_ns.c - the root-only stage: a tmpfs root with only what the worker
 * needs, pivot_root into it, then the run uid without capabilities.
 *
 * Runs in the worker, which clone() already put into new mount, pid, ipc and
 * uts namespaces (but the initial user namespace: ZFS 2.2+ shows no dataset
 * to any other). Kernel details this follows (see least-privilege.md):
 *   - "/" is made private first: pivot_root refuses a shared root, and no
 *     mount made here may propagate back to the host;
 *   - read-only binds are made with mount_setattr(AT_RECURSIVE): a
 *     MS_REMOUNT|MS_BIND|MS_RDONLY of a nosuid/nodev source fails with EPERM,
 *     and MS_REMOUNT is never recursive;
 *   - symlinks on the way to each file are recreated, not bound through
 *     (PT_INTERP is /lib64/ld-linux-x86-64.so.2, and /lib64 is a symlink).
 */
#include "base/zkeep.h"
#include "confine/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct zk_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static int fail_errno(struct strbuf *err, const char *what, const char *path)
{
	int e = errno;
	strbuf_addf(err, "%s %s: %s", what, path, strerror(e));
	return -e;
}

/* mkdir -p of path (absolute, inside the new root: root + path). */
static int mkdir_p(const char *root, const char *path, struct strbuf *err)
{
	_cleanup_free_ char *full = xasprintf("%s%s", root, path);
	for (char *s = full + strlen(root) + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(full, 0755) < 0 && errno != EEXIST)
			return fail_errno(err, "cannot create", full);
		*s = c;
		if (!c)
			break;
	}
	return 0;
}

static int parent_of(const char *root, const char *path, struct strbuf *err)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return mkdir_p(root, dir, err);
}

static int bind_file(const char *root, const char *src, struct strbuf *err)
{
	int r = parent_of(root, src, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *dst = xasprintf("%s%s", root, src);
	int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return fail_errno(err, "cannot create mount point", dst);
	close(fd);
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return fail_errno(err, "cannot bind", src);
	return 0;
}

static int bind_dir(const char *root, const char *src, bool recursive, struct strbuf *err)
{
	int r = mkdir_p(root, src, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *dst = xasprintf("%s%s", root, src);
	if (mount(src, dst, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
		return fail_errno(err, "cannot bind", src);
	return 0;
}

static int write_file(const char *root, const char *path, const char *content, struct strbuf *err)
{
	int r = parent_of(root, path, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *dst = xasprintf("%s%s", root, path);
	_cleanup_fd_ int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return fail_errno(err, "cannot write", dst);
	size_t n = strlen(content);
	if (write(fd, content, n) != (ssize_t)n)
		return fail_errno(err, "cannot write", dst);
	return 0;
}

static int set_attr(const char *path, uint64_t set, bool recursive, struct strbuf *err)
{
	struct zk_mount_attr a = { .attr_set = set };
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a,
		    sizeof(a)) < 0)
		return fail_errno(err, "cannot set mount attributes of", path);
	return 0;
}

static int build_root(const struct sandbox_plan *p, struct strbuf *err)
{
	const char *root = p->root_dir;
	int r;

	/* What is made here is the worker's to read: a caller's umask (a unit's UMask=0077)
	 * would leave it directories it cannot search. This is the worker's process. */
	umask(0022);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail_errno(err, "cannot make private", "/");
	if ((r = mkdir_p("", root, err)) < 0)
		return r;
	if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m") < 0)
		return fail_errno(err, "cannot mount a tmpfs on", root);

	for (size_t i = 0; i < p->link_paths.n; i++) {
		if ((r = parent_of(root, p->link_paths.v[i], err)) < 0)
			return r;
		_cleanup_free_ char *dst = xasprintf("%s%s", root, p->link_paths.v[i]);
		if (symlink(p->link_targets.v[i], dst) < 0 && errno != EEXIST)
			return fail_errno(err, "cannot create symlink", dst);
	}
	for (size_t i = 0; i < p->files.n; i++)
		if ((r = bind_file(root, p->files.v[i], err)) < 0)
			return r;
	for (size_t i = 0; i < p->dirs.n; i++)
		if ((r = bind_dir(root, p->dirs.v[i], true, err)) < 0)
			return r;
	for (size_t i = 0; i < p->devices.n; i++)
		if ((r = bind_file(root, p->devices.v[i], err)) < 0)
			return r;
	if ((r = write_file(root, "/etc/passwd", p->passwd, err)) < 0 ||
	    (r = write_file(root, "/etc/group", p->group, err)) < 0 ||
	    (r = write_file(root, "/etc/nsswitch.conf", p->nsswitch, err)) < 0)
		return r;
	if ((r = mkdir_p(root, "/proc", err)) < 0 || (r = mkdir_p(root, "/tmp", err)) < 0)
		return r;
	if (p->state_dir && (r = mkdir_p(root, p->state_dir, err)) < 0)
		return r;
	_cleanup_free_ char *proc = xasprintf("%s/proc", root);
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return fail_errno(err, "cannot mount", proc);

	/* Everything so far read-only and nosuid (devices keep dev). */
	if ((r = set_attr(root, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, true, err)) < 0)
		return r;
	/* Then the writable parts, on top. */
	_cleanup_free_ char *tmp = xasprintf("%s/tmp", root);
	if (mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") < 0)
		return fail_errno(err, "cannot mount a tmpfs on", tmp);
	if (p->state_dir) {
		if ((r = bind_dir(root, p->state_dir, false, err)) < 0)
			return r;
		_cleanup_free_ char *st = xasprintf("%s%s", root, p->state_dir);
		if ((r = set_attr(st, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, false, err)) < 0)
			return r;
	}

	if (chdir(root) < 0)
		return fail_errno(err, "cannot enter", root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail_errno(err, "cannot pivot_root into", root);
	if (umount2(".", MNT_DETACH) < 0)
		return fail_errno(err, "cannot detach the old root under", root);
	if (chdir(p->state_dir ? p->state_dir : "/") < 0)
		return fail_errno(err, "cannot enter", p->state_dir ? p->state_dir : "/");
	return 0;
}

static int drop_privileges(const struct sandbox_plan *p, struct strbuf *err)
{
	/* The bounding set first (needs CAP_SETPCAP, which we still have). */
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (CAP_IS_SUPPORTED(c) && cap_drop_bound((cap_value_t)c) < 0) {
			strbuf_addf(err, "cannot drop capability %d from the bounding set", c);
			return -errno;
		}
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
		return fail_errno(err, "cannot clear the", "ambient capabilities");
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return fail_errno(err, "cannot clear", "keepcaps");
	if (setgroups(0, NULL) < 0)
		return fail_errno(err, "cannot clear", "supplementary groups");
	if (setresgid(p->gid, p->gid, p->gid) < 0) {
		strbuf_addf(err, "cannot switch to gid %u: %s", (unsigned)p->gid, strerror(errno));
		return -errno;
	}
	if (setresuid(p->uid, p->uid, p->uid) < 0) {
		strbuf_addf(err, "cannot switch to uid %u: %s", (unsigned)p->uid, strerror(errno));
		return -errno;
	}
	/* Verify: no capability left in any set. */
	cap_t now = cap_get_proc(), none = cap_init();
	int differ = now && none ? cap_compare(now, none) : 1;
	cap_free(now);
	cap_free(none);
	if (differ) {
		strbuf_addstr(err, "capabilities remain after the uid change");
		return -EPERM;
	}
	return 0;
}

int sandbox_ns_enter(const struct sandbox_plan *p, struct strbuf *err)
{
	int r = build_root(p, err);
	return r < 0 ? r : drop_privileges(p, err);
}
