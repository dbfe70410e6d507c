/* drive.c - see drive.h. */
#include "base/zkeep.h"
#include "drive/drive.h"
#include "zfs/delegation.h"
#include "base/parse.h"
#include "replication/sendopts.h"
#include "snapshots/syncsnap.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define SCAN_MAX 256

/* ---- pure helpers ------------------------------------------------------------ */

static const char *trim_left(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

void drive_scan_free(struct zpool_scan_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].state);
	}
	free(e);
}

int drive_parse_import_scan(const char *buf, struct zpool_scan_entry **out, size_t *n)
{
	_cleanup_strvec_ struct strvec lines = STRVEC_INIT;
	struct zpool_scan_entry *e = NULL;
	size_t k = 0;
	strvec_split(&lines, buf, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		const char *l = trim_left(lines.v[i]), *v;
		if ((v = skip_prefix(l, "pool:"))) {
			if (k >= SCAN_MAX)
				break;
			e = xreallocarray(e, k + 1, sizeof(*e));
			e[k] = (struct zpool_scan_entry){ .name = xstrdup(trim_left(v)) };
			k++;
		} else if (k && (v = skip_prefix(l, "id:"))) {
			if (parse_u64(trim_left(v), &e[k - 1].guid) < 0) {
				drive_scan_free(e, k);
				return -EINVAL;
			}
		} else if (k && (v = skip_prefix(l, "state:")) && !e[k - 1].state) {
			e[k - 1].state = xstrdup(trim_left(v));
		}
	}
	*out = e;
	*n = k;
	return 0;
}

void drive_parse_vdevs(const char *buf, struct strvec *out)
{
	_cleanup_strvec_ struct strvec lines = STRVEC_INIT;
	strvec_split(&lines, buf, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		_cleanup_strvec_ struct strvec f = STRVEC_INIT;
		strvec_split(&f, lines.v[i], "\t");
		if (f.n && f.v[0][0] == '/' && strvec_find(out, f.v[0]) < 0)
			strvec_push(out, f.v[0]);
	}
}

size_t drive_parse_pool_problems(const char *status, struct strvec *problems)
{
	_cleanup_release_(zpool_status) struct zpool_status st = ZPOOL_STATUS_INIT;
	size_t n = 0;
	zpool_parse_status(status, strlen(status), &st);
	for (size_t i = 0; i < st.n; i++) {
		const struct zpool_status_vdev *v = &st.v[i];
		uint64_t c[3];
		if (parse_u64(v->read, &c[0]) < 0 || parse_u64(v->write, &c[1]) < 0 ||
		    parse_u64(v->cksum, &c[2]) < 0)
			continue;
		if (c[0] || c[1] || c[2]) {
			strvec_pushf(problems,
				     "%s: %" PRIu64 " read, %" PRIu64 " write, %" PRIu64
				     " checksum errors",
				     v->name, c[0], c[1], c[2]);
			n++;
		}
	}
	for (size_t i = 0; i < st.errors.n; i++)
		if (!streq(st.errors.v[i], "No known data errors")) {
			strvec_pushf(problems, "pool errors: %s", st.errors.v[i]);
			n++;
		}
	return n;
}

bool drive_import_not_found(const char *zpool_stderr)
{
	/* libzfs: "cannot import 'NAME': no such pool available" */
	return strstr(zpool_stderr, "no such pool available") != NULL;
}

/* ---- I/O helpers ---------------------------------------------------------- */

struct bctx {
	struct zfs *z;
	const struct drive_opts *o;
	const struct drive *d;
	struct drive_result *res;
	const char *step;
};

static void emitv(struct bctx *c, enum drive_event_kind kind, const char *fmt, va_list ap)
	PRINTF(3, 0);
static void emitv(struct bctx *c, enum drive_event_kind kind, const char *fmt, va_list ap)
{
	if (!c->o->event)
		return;
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_vaddf(&sb, fmt, ap);
	struct drive_event ev = { .kind = kind, .step = c->step, .message = sb.buf };
	c->o->event(&ev, c->o->event_data);
}

static void emit(struct bctx *c, enum drive_event_kind kind, const char *fmt, ...) PRINTF(3, 4);
static void emit(struct bctx *c, enum drive_event_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emitv(c, kind, fmt, ap);
	va_end(ap);
}

static void step(struct bctx *c, const char *name, const char *fmt, ...) PRINTF(3, 4);
static void step(struct bctx *c, const char *name, const char *fmt, ...)
{
	c->step = name;
	va_list ap;
	va_start(ap, fmt);
	emitv(c, DRIVE_EV_STEP, fmt, ap);
	va_end(ap);
}

/*
 * After a refusal that follows the import: export the pool again, said in
 * err (written: whether root changed the pool before, its delegations).
 */
static void export_again(struct zfs *z, const char *pool, bool written, struct strbuf *err)
{
	if (zpool_export(z, pool) < 0)
		strbuf_addf(err, "; exporting it again failed: %s (run `zpool export %s`)",
			    zfs_error(z), pool);
	else
		strbuf_addstr(err, written ? "; exported it again, no backup was written to it"
					   : "; exported it again, nothing was written");
}

/* The drive's pool's delegation property, "on" or "off" (in err on failure). */
static int set_delegation(struct zfs *z, const char *pool, const char *value, struct strbuf *err)
{
	if (zpool_set_prop(z, pool, "delegation", value) < 0) {
		strbuf_addf(err, "%s", zfs_error(z));
		return -EIO;
	}
	return 0;
}

/*
 * A drive is imported with delegation=off: any `zfs allow` it carries (an
 * entry for everyone, or for a run uid, that a forged or tampered drive
 * brought) gives nobody anything while root removes them all here. Then
 * delegation is turned on for the worker's own grants, the only ones.
 *
 * Also on the hidden clone an interrupted incremental receive leaves under a
 * dataset (D/%recv): ZFS lists no name with a '%', but `zfs allow` sets and
 * honours delegations on it (checked on OpenZFS 2.3.2). Another hidden name,
 * which only a raw ioctl could make, is not found (docs/security.md).
 */
static int strip_delegations(struct bctx *c, const char *pool, struct strbuf *err)
{
	_cleanup_release_(zfs_tree) struct zfs_tree tree = ZFS_TREE_INIT;
	const char *roots[] = { pool, NULL };
	if (zfs_list_tree(c->z, roots, ZFS_LIST_RECURSIVE, NULL, &tree) < 0) {
		strbuf_addf(err, "cannot list the datasets of %s: %s", pool, zfs_error(c->z));
		return -EIO;
	}
	_cleanup_strvec_ struct strvec names = STRVEC_INIT;
	for (size_t i = 0; i < tree.nds; i++) {
		strvec_push(&names, tree.ds[i].name);
		strvec_pushf(&names, "%s/%%recv", tree.ds[i].name);
	}
	size_t removed = 0;
	_cleanup_free_ bool *printed = xcalloc(names.n + 1, sizeof(*printed));
	for (size_t i = 0; i < names.n; i++) {
		const char *ds = names.v[i];
		_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
		_cleanup_strvec_ struct strvec who = STRVEC_INIT;
		int r = zfs_allow_list(c->z, ds, &text);
		if (r == -ENOENT && strchr(ds, '%'))
			continue; /* no interrupted receive there */
		if (r < 0) {
			strbuf_addf(err, "cannot list the delegations on %s: %s", ds,
				    zfs_error(c->z));
			return -EIO;
		}
		printed[i] = text.len > 0;
		deleg_unallow_all(text.buf, ds, &who);
		for (size_t k = 0; k < who.n; k++, removed++)
			if (zfs_unallow_who(c->z, who.v[k], ds) < 0) {
				strbuf_addf(err, "cannot remove a delegation the drive carries: %s",
					    zfs_error(c->z));
				return -EIO;
			}
	}
	/*
	 * Then `zfs allow` must print nothing at all for any dataset it printed
	 * something for, whatever the grammar of what it printed: zfs unallow
	 * of a name it cannot resolve exits 0, and names on a pool written by
	 * another zfs may be anything (a line that reads as a section header).
	 * Where it printed nothing, nothing was removed, and with delegation
	 * off no one but root can add anything meanwhile.
	 */
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
		if (!printed[i])
			continue;
		if (zfs_allow_list(c->z, names.v[i], &text) < 0) {
			strbuf_addf(err, "cannot list the delegations on %s: %s", names.v[i],
				    zfs_error(c->z));
			return -EIO;
		}
		if (text.len) {
			strbuf_addf(err, "the drive carries delegations on %s that could not be "
				    "removed (refused):\n%s", names.v[i], text.buf);
			return -EIO;
		}
	}
	if (removed)
		emit(c, DRIVE_EV_WARNING, "removed %zu delegation(s) (zfs allow) the drive carried: "
		     "only the backup's own grants are made on it", removed);
	return set_delegation(c->z, pool, "on", err);
}

/*
 * Whether a signal asked the backup to stop (o->interrupted, see drive.h).
 * The first time it is seen, says so: everything after goes straight to the
 * export.
 */
static bool interrupted(struct bctx *c)
{
	int sig = c->o->interrupted ? atomic_load(c->o->interrupted) : 0;
	if (!sig)
		return false;
	if (!c->res->interrupted) {
		c->res->interrupted = sig;
		emit(c, DRIVE_EV_ERROR, "interrupted by SIG%s: no further step but the export",
		     sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	}
	return true;
}

/* Run argv on z's runner; on failure the message (with stderr) goes to err. */
static int run_cmd(struct zfs *z, const char *const *argv, struct strbuf *out, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf e = STRBUF_INIT;
	int code = 0;
	strbuf_init(&e, 1 << 20);
	int r = runner_run(z->run, argv, NULL, 0, out, &e, &code);
	if (r < 0) {
		strbuf_addf(err, "cannot run %s: %s", argv[0], strerror(-r));
		return r;
	}
	if (code != 0) {
		strbuf_rtrim(&e);
		strbuf_addf(err, "'%s", argv[0]);
		for (size_t i = 1; argv[i]; i++)
			strbuf_addf(err, " %s", argv[i]);
		strbuf_addf(err, "' failed (exit status %d)%s%s", code, e.len ? ": " : "", e.buf);
		return -EIO;
	}
	return 0;
}

/* The imported pool with the drive's guid, or NULL: never matched by name. */
static struct zpool_info *find_pool(struct zpool_infos *p, const struct drive *d)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->p[i].guid == d->guid)
			return &p->p[i];
	return NULL;
}

/* `zpool import` scan: the entry for this drive, if any (caller frees the array). */
static int scan_for(struct zfs *z, const struct drive *d, struct zpool_scan_entry **all,
		    size_t *n, struct zpool_scan_entry **found, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	*found = NULL;
	*all = NULL;
	*n = 0;
	int r = zpool_import_scan(z, (const char *const *)d->search_dirs.v, &out);
	if (r < 0) {
		strbuf_addstr(err, zfs_error(z));
		return r;
	}
	if (drive_parse_import_scan(out.buf, all, n) < 0) {
		strbuf_addf(err, "cannot understand the output of 'zpool import'");
		return -EINVAL;
	}
	for (size_t i = 0; i < *n; i++)
		if ((*all)[i].guid == d->guid)
			*found = &(*all)[i];
	return 0;
}

/*
 * The drive's altroot DRIVE_ALTROOT_DIR/NAME, made by root through dirfds:
 * every component is opened with O_NOFOLLOW and must be a directory owned by
 * root that nobody else can write to; the last one is mode 0700. 0, or
 * -errno with a message in err.
 */
static int open_private_dir(int at, const char *name, mode_t mode, const char *path,
			    struct strbuf *err)
{
	if (mkdirat(at, name, mode) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create %s: %s", path, strerror(errno));
		return -errno;
	}
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		int e = errno;
		strbuf_addf(err, "cannot open %s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if (sb.st_uid != 0 || (sb.st_mode & 022)) {
		strbuf_addf(err, "%s is not root's own directory (owner %u, mode %04o): refusing "
			    "to import a drive under it", path, (unsigned)sb.st_uid,
			    (unsigned)(sb.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	return fd;
}

static int make_altroot(const struct drive *d, struct strbuf *err)
{
	_cleanup_free_ char *path = drive_altroot(d);
	_cleanup_fd_ int run = open("/run", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (run < 0) {
		strbuf_addf(err, "cannot open /run: %s", strerror(errno));
		return -errno;
	}
	_cleanup_fd_ int zk = open_private_dir(run, "zkeep", 0755, "/run/zkeep", err);
	if (zk < 0)
		return zk;
	_cleanup_fd_ int dr = open_private_dir(zk, "drive", 0700, DRIVE_ALTROOT_DIR, err);
	if (dr < 0)
		return dr;
	_cleanup_fd_ int top = open_private_dir(dr, d->name, 0700, path, err);
	if (top < 0)
		return top;
	if (fchmod(top, 0700) < 0) {
		strbuf_addf(err, "cannot chmod %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * After `zpool import GUID` found nothing: whether a pool with the drive's
 * name (but another guid) is plugged in. Then that is said loudly, and
 * -EPERM: it is another drive, or one made to look like this one, and it
 * was not imported.
 */
static int refuse_impostor(struct zfs *z, const struct drive *d, struct strbuf *err)
{
	struct zpool_scan_entry *all = NULL, *found = NULL;
	size_t n = 0;
	_cleanup_strbuf_ struct strbuf e = STRBUF_INIT;
	int ret = 0;
	if (!d->pool || scan_for(z, d, &all, &n, &found, &e) < 0)
		return 0;
	for (size_t i = 0; i < n && !ret; i++)
		if (streq(all[i].name, d->pool)) {
			strbuf_addf(err,
				    "drive %s: REFUSED: the plugged-in pool %s has guid %" PRIu64
				    ", not the configured guid %" PRIu64 ": it is another drive, or "
				    "one made to look like this one; it was not imported and nothing "
				    "was written to it", d->name, all[i].name, all[i].guid, d->guid);
			ret = -EPERM;
		}
	drive_scan_free(all, n);
	return ret;
}

/*
 * `zpool import ... NAME_OR_GUID` without a scan first: one device scan, not
 * two (each opens every block device, and without udev libzfs waits for it
 * on each). -ENXIO when zpool found no such pool (the drive is not plugged
 * in), -EIO with the message in err on any other failure.
 */
static int import_pool(struct zfs *z, const struct drive *d, struct strbuf *err)
{
	_cleanup_free_ char *name = drive_import_name(d);
	_cleanup_free_ char *altroot = drive_altroot(d);
	/*
	 * By guid, never by name; nothing mounted (-N), and an altroot, so that
	 * whatever is mounted later lies under it, never where the drive's own
	 * mountpoint properties say. A removable pool stays out of zpool.cache:
	 * nothing imports it at boot. Always with delegation=off, set before the
	 * pool can be opened by anyone else: no `zfs allow` the drive carries
	 * works while it is imported (with OpenZFS's receive-name hole, a
	 * `receive` for everyone would reach any dataset of the host). Also to
	 * look (status, --dry-run): a read-only import would be the alternative,
	 * but ZFS sets no pool property on one, so the drive's delegations would
	 * be live; the price is that looking writes the property and ZFS's own
	 * import record to the drive.
	 */
	unsigned flags = ZPOOL_IMPORT_NO_CACHEFILE | ZPOOL_IMPORT_NO_MOUNT |
			 ZPOOL_IMPORT_NO_DELEGATION;
	int r = make_altroot(d, err);
	if (r < 0)
		return -EIO;
	r = zpool_import(z, name, (const char *const *)d->search_dirs.v, altroot, flags);
	if (r == 0)
		return 0;
	if (r == -ENOEXEC) {
		strbuf_addstr(err, zfs_error(z));
		return r;
	}
	if (drive_import_not_found(zfs_error(z))) {
		if (refuse_impostor(z, d, err) < 0)
			return -EPERM;
		_cleanup_free_ char *dirs = strvec_join(&d->search_dirs, " ");
		strbuf_addf(err,
			    "drive %s: pool %s (guid %s) is not present (is the drive plugged in? "
			    "zpool import searched %s)",
			    d->name, d->pool ? d->pool : "-", name, dirs[0] ? dirs : "the default device directories");
		return -ENXIO;
	}
	strbuf_addstr(err, zfs_error(z));
	return -EIO;
}

/* ---- power off ------------------------------------------------------------ */

static bool have_program(const char *name)
{
	_cleanup_strvec_ struct strvec env = STRVEC_INIT;
	_cleanup_free_ char *path = NULL;
	spawn_env_default(&env);
	return spawn_resolve(name, (const char *const *)env.v, &path) == 0;
}

/* The whole-disk block device name of a block device node ("sdb" for /dev/sdb1). */
static char *whole_disk(const char *dev)
{
	struct stat sb;
	if (stat(dev, &sb) < 0 || !S_ISBLK(sb.st_mode))
		return NULL;
	_cleanup_free_ char *sys = xasprintf("/sys/dev/block/%u:%u", major(sb.st_rdev),
					     minor(sb.st_rdev));
	char real[PATH_MAX];
	if (!realpath(sys, real))
		return NULL;
	_cleanup_free_ char *part = xasprintf("%s/partition", real);
	if (access(part, F_OK) == 0) {
		char *slash = strrchr(real, '/');
		if (slash)
			*slash = '\0';
	}
	const char *base = strrchr(real, '/');
	return xstrdup(base ? base + 1 : real);
}

static int power_off_one(struct bctx *c, const char *vdev)
{
	struct stat sb;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	if (stat(vdev, &sb) < 0) {
		emit(c, DRIVE_EV_WARNING, "%s: %s; nothing to power off", vdev, strerror(errno));
		return 0;
	}
	if (S_ISREG(sb.st_mode)) {
		emit(c, DRIVE_EV_INFO, "%s is a file vdev: nothing to power off", vdev);
		return 0;
	}
	_cleanup_free_ char *disk = whole_disk(vdev);
	if (!disk) {
		emit(c, DRIVE_EV_WARNING, "%s: not a block device zkeep can find in /sys; not powered off",
		     vdev);
		return 0;
	}
	_cleanup_free_ char *dev = xasprintf("/dev/%s", disk);
	if (skip_prefix(disk, "loop")) {
		if (!c->d->detach_loop) {
			emit(c, DRIVE_EV_INFO,
			     "%s is a loop device: not detached (set detach_loop = yes to detach it)",
			     dev);
			return 0;
		}
		if (c->o->dry_run) {
			emit(c, DRIVE_EV_INFO, "would detach loop device %s (losetup -d)", dev);
			return 0;
		}
		if (run_cmd(c->z, ARGV("losetup", "-d", dev), NULL, &err) < 0) {
			emit(c, DRIVE_EV_ERROR, "detaching %s: %s", dev, err.buf);
			return -EIO;
		}
		emit(c, DRIVE_EV_INFO, "detached loop device %s", dev);
		c->res->powered_off = true;
		return 0;
	}
	if (skip_prefix(disk, "dm-")) {
		/* LUKS, LVM, multipath: the mapping must be closed before the disk under it goes */
		emit(c, DRIVE_EV_INFO,
		     "%s is a device-mapper device: not powered off (close the mapping, e.g. "
		     "`cryptsetup close`, then power off the disk under it)", dev);
		return 0;
	}
	if (have_program("udisksctl")) {
		if (c->o->dry_run) {
			emit(c, DRIVE_EV_INFO, "would power off %s (udisksctl power-off -b %s)", dev, dev);
			return 0;
		}
		if (run_cmd(c->z, ARGV("udisksctl", "power-off", "-b", dev), NULL, &err) < 0) {
			emit(c, DRIVE_EV_ERROR, "powering off %s: %s", dev, err.buf);
			return -EIO;
		}
	} else {
		_cleanup_free_ char *del = xasprintf("/sys/block/%s/device/delete", disk);
		if (c->o->dry_run) {
			emit(c, DRIVE_EV_INFO, "would remove %s (echo 1 > %s)", dev, del);
			return 0;
		}
		_cleanup_fd_ int fd = open(del, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "1\n", 2) != 2) {
			emit(c, DRIVE_EV_ERROR, "removing %s through %s: %s (install udisks2 to power "
			     "drives off)", dev, del, strerror(errno));
			return -EIO;
		}
	}
	emit(c, DRIVE_EV_INFO, "%s powered off: it can be unplugged", dev);
	c->res->powered_off = true;
	return 0;
}

/* ---- the backup ------------------------------------------------------------- */

static void on_repl(const struct replicate_event *ev, void *data)
{
	struct bctx *c = data;
	if (!c->o->event)
		return;
	struct drive_event de = { .kind = DRIVE_EV_REPL, .step = c->step, .repl = ev };
	c->o->event(&de, c->o->event_data);
}

static int check_sources(struct bctx *c, struct strbuf *err)
{
	struct zfs_tree t = ZFS_TREE_INIT;
	int r = zfs_list_tree(c->z, (const char *const *)c->d->datasets.v, 0, NULL, &t);
	zfs_tree_release(&t);
	if (r == -ENOENT) {
		strbuf_addf(err, "drive %s: source dataset missing: %s (fix datasets = in zkeep.conf)",
			    c->d->name, zfs_error(c->z));
		return r;
	}
	if (r < 0)
		strbuf_addf(err, "drive %s: listing the sources: %s", c->d->name, zfs_error(c->z));
	return r;
}

/* Create the missing parents of target (not mounted, inheriting encryption none). */
static int ensure_parent(struct bctx *c, const char *target)
{
	_cleanup_free_ char *parent = xstrdup(target);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	if (!strchr(parent, '/'))
		return 0; /* the pool's root exists */
	_cleanup_free_ char *v = NULL;
	if (zfs_get_prop(c->z, parent, "name", &v) == 0)
		return 0;
	if (c->o->dry_run) {
		emit(c, DRIVE_EV_INFO, "would create %s (canmount=off)", parent);
		return 0;
	}
	int r = zfs_create(c->z, parent, true, ARGV("canmount=off"));
	if (r < 0 && r != -EEXIST) {
		emit(c, DRIVE_EV_ERROR, "creating %s: %s", parent, zfs_error(c->z));
		return r;
	}
	emit(c, DRIVE_EV_INFO, "created %s (canmount=off)", parent);
	return 0;
}

static int replicate_one(struct bctx *c, const char *src, const char *tgt)
{
	struct replicate_opts ro;
	struct sendopts so = SENDOPTS_INIT, rcv = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_free_ char *prefix = syncsnap_prefix(NULL, c->o->hostname);
	_cleanup_free_ char *tag = xasprintf("zkeep_drive_%s", c->d->name);
	memset(&ro, 0, sizeof(ro));
	if (sendopts_parse(c->d->raw ? "w" : "", false, &so, &err) < 0 ||
	    sendopts_parse("u", true, &rcv, &err) < 0) {
		emit(c, DRIVE_EV_ERROR, "%s", err.buf);
		sendopts_release(&so);
		sendopts_release(&rcv);
		return -EINVAL;
	}
	ro.plan.source_root = src;
	ro.plan.target_root = tgt;
	ro.plan.recursive = c->d->recursive;
	ro.plan.resume = true;
	ro.plan.allow_rollback = c->d->rollback;
	ro.plan.delete_target_snapshots = c->d->delete_target_snapshots;
	ro.plan.clone_handling = true;
	ro.plan.hostname = c->o->hostname;
	ro.take_sync_snap = c->d->sync_snap;
	ro.use_hold = c->d->hold;
	ro.hold_tag = tag;
	ro.sync_prefix = prefix;
	ro.now = c->o->now;
	ro.send = &so;
	ro.recv = &rcv;
	ro.dry_run = c->o->dry_run;
	ro.bwlimit = c->d->bwlimit;
	ro.event = on_repl;
	ro.event_data = c;
	struct replicate_result rr;
	int r = replicate_run(c->z, c->z, &ro, &rr, &err);
	sendopts_release(&so);
	sendopts_release(&rcv);
	if (r < 0) {
		emit(c, DRIVE_EV_ERROR, "%s -> %s: %s", src, tgt, err.buf);
		c->res->failed++;
		return r;
	}
	c->res->synced += rr.synced;
	c->res->uptodate += rr.uptodate;
	c->res->failed += rr.failed;
	c->res->bytes += rr.bytes;
	return rr.failed ? -EIO : 0;
}

/* Each dataset but those skip marks to its copy (parents made as needed), counted in c->res. */
static void replicate_all(struct bctx *c, const bool *skip)
{
	const struct drive *d = c->d;
	for (size_t i = 0; i < d->datasets.n && !interrupted(c); i++) {
		if (skip && skip[i])
			continue;
		const char *src = d->datasets.v[i];
		_cleanup_free_ char *tgt = drive_target_of(d, c->res->pool, src);
		step(c, "replicate", "%s -> %s%s", src, tgt, d->raw ? " (raw)" : "");
		if (ensure_parent(c, tgt) < 0) {
			c->res->failed++;
			continue;
		}
		replicate_one(c, src, tgt); /* failures are counted in res */
	}
}

void drive_replicate(struct zfs *z, const struct drive_opts *o, const char *pool,
		     const bool *skip, struct drive_result *res)
{
	struct drive_result mine = { .pool = (char *)pool, .interrupted = res->interrupted };
	struct bctx c = { .z = z, .o = o, .d = o->d, .res = &mine };
	replicate_all(&c, skip);
	res->interrupted = mine.interrupted; /* said once */
	res->synced += mine.synced;
	res->uptodate += mine.uptodate;
	res->failed += mine.failed;
	res->bytes += mine.bytes;
}

char *drive_counts_format(const struct drive_result *res)
{
	return xasprintf("%u %u %u %" PRIu64 "\n", res->synced, res->uptodate, res->failed,
			 res->bytes);
}

int drive_counts_parse(const char *text, size_t len, struct drive_result *res)
{
	if (len == 0 || len >= DRIVE_COUNTS_MAX || text[len - 1] != '\n')
		return -EINVAL;
	uint64_t v[4];
	const char *p = text;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		size_t n = 0;
		while (p + n < text + len && p[n] >= '0' && p[n] <= '9')
			n++;
		char end = i + 1 < ARRAY_SIZE(v) ? ' ' : '\n';
		if (n == 0 || p + n >= text + len || p[n] != end || parse_u64_n(p, n, &v[i]) < 0)
			return -EINVAL;
		p += n + 1;
	}
	if (p != text + len || v[0] > UINT_MAX || v[1] > UINT_MAX || v[2] > UINT_MAX)
		return -EINVAL;
	res->synced += (unsigned)v[0];
	res->uptodate += (unsigned)v[1];
	res->failed += (unsigned)v[2];
	res->bytes += v[3];
	return 0;
}

static int set_target_props(struct bctx *c, const char *top)
{
	const struct drive *d = c->d;
	_cleanup_strvec_ struct strvec all = STRVEC_INIT, topv = STRVEC_INIT;
	if (d->readonly)
		strvec_push(&all, "readonly=on");
	if (d->snapdir)
		strvec_pushf(&all, "snapdir=%s", d->snapdir);
	if (d->canmount)
		strvec_pushf(&all, "canmount=%s", d->canmount);
	if (d->mountpoint)
		strvec_pushf(&topv, "mountpoint=%s", d->mountpoint);
	if (!all.n && !topv.n)
		return 0;
	struct zfs_tree t = ZFS_TREE_INIT;
	const char *const roots[] = { top, NULL };
	int r = zfs_list_tree(c->z, roots, d->recursive ? ZFS_LIST_RECURSIVE : 0, NULL, &t);
	if (r < 0) {
		emit(c, DRIVE_EV_ERROR, "listing %s: %s", top, zfs_error(c->z));
		zfs_tree_release(&t);
		return r;
	}
	int ret = 0;
	for (size_t i = 0; i < t.nds; i++) {
		_cleanup_strvec_ struct strvec set = STRVEC_INIT;
		strvec_pushv(&set, (const char *const *)all.v);
		if (streq(t.ds[i].name, top))
			strvec_pushv(&set, (const char *const *)topv.v);
		if (!set.n)
			continue;
		_cleanup_free_ char *j = strvec_join(&set, " ");
		if (c->o->dry_run) {
			emit(c, DRIVE_EV_INFO, "would set %s on %s", j, t.ds[i].name);
			continue;
		}
		if (zfs_set_props(c->z, t.ds[i].name, (const char *const *)set.v) < 0) {
			emit(c, DRIVE_EV_ERROR, "setting %s on %s: %s", j, t.ds[i].name, zfs_error(c->z));
			ret = -EIO;
		} else {
			emit(c, DRIVE_EV_INFO, "%s: %s", t.ds[i].name, j);
		}
	}
	zfs_tree_release(&t);
	return ret;
}

static int check_pool_health(struct bctx *c, const char *pool)
{
	_cleanup_strbuf_ struct strbuf st = STRBUF_INIT;
	_cleanup_strvec_ struct strvec problems = STRVEC_INIT;
	if (zpool_status(c->z, pool, &st) < 0) {
		emit(c, DRIVE_EV_ERROR, "%s", zfs_error(c->z));
		return -EIO;
	}
	if (drive_parse_pool_problems(st.buf, &problems)) {
		for (size_t i = 0; i < problems.n; i++)
			emit(c, DRIVE_EV_ERROR, "pool %s: %s", pool, problems.v[i]);
		c->res->scrub_errors = true;
		return -EIO;
	}
	emit(c, DRIVE_EV_INFO, "pool %s: no errors", pool);
	return 0;
}

int drive_backup(struct zfs *z, const struct drive_opts *o, struct drive_result *res,
		 struct strbuf *err)
{
	const struct drive *d = o->d;
	struct bctx c = { .z = z, .o = o, .d = d, .res = res };
	struct zpool_infos pools = { 0 };
	_cleanup_free_ char *import_name = drive_import_name(d);
	_cleanup_strvec_ struct strvec vdevs = STRVEC_INIT;
	int r;

	memset(res, 0, sizeof(*res));
	step(&c, "check", "checking the source datasets: %s",
	     (const char *)(d->datasets.n ? d->datasets.v[0] : ""));
	r = check_sources(&c, err);
	if (r < 0)
		return r;

	/* ---- import ---- */
	r = zpool_list(z, NULL, &pools);
	if (r < 0) {
		strbuf_addf(err, "listing pools: %s", zfs_error(z));
		return r;
	}
	struct zpool_info *pi = find_pool(&pools, d);
	if (pi) {
		if (drive_check_pool_name(d, pi->name, err) < 0) {
			zpool_infos_release(&pools);
			return -EINVAL;
		}
		res->pool = xstrdup(pi->name);
		step(&c, "import", "pool %s is imported already", pi->name);
		if (o->dry_run) {
			emit(&c, DRIVE_EV_INFO, "dry run: it will not be exported");
		} else if (set_delegation(z, res->pool, "off", err) < 0 ||
			   strip_delegations(&c, res->pool, err) < 0) {
			/* someone imported it: theirs to export */
			zpool_infos_release(&pools);
			return -EIO;
		}
	} else {
		step(&c, "import", "importing pool %s (guid %s) with delegation=off",
		     d->pool ? d->pool : "-", import_name);
		r = import_pool(z, d, err);
		if (r == -EIO)
			strbuf_addf(err, " (drive %s: the pool could not be imported; nothing was changed)",
				    d->name);
		if (r < 0) {
			zpool_infos_release(&pools);
			return r;
		}
		res->imported = true;
		/* its name, when only the guid is configured */
		zpool_infos_release(&pools);
		if (zpool_list(z, NULL, &pools) == 0 && (pi = find_pool(&pools, d)))
			res->pool = xstrdup(pi->name);
		else
			res->pool = xstrdup(import_name);
		zpool_infos_release(&pools);
		if (drive_check_pool_name(d, res->pool, err) < 0) {
			export_again(z, res->pool, false, err);
			return -EINVAL;
		}
		_cleanup_free_ char *altroot = drive_altroot(d);
		emit(&c, DRIVE_EV_INFO, "imported pool %s (guid %s) without mounting it, altroot %s",
		     res->pool, import_name, altroot);
		if (!o->dry_run && strip_delegations(&c, res->pool, err) < 0) {
			export_again(z, res->pool, true, err);
			return -EIO;
		}
	}
	zpool_infos_release(&pools);

	/* the vdevs, for the power-off after the export */
	{
		_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
		if (zpool_list_devices(z, res->pool, &out) == 0)
			drive_parse_vdevs(out.buf, &vdevs);
		else
			emit(&c, DRIVE_EV_WARNING, "cannot list the vdevs of %s: %s", res->pool,
			     zfs_error(z));
	}

	/* ---- replicate ---- */
	if (o->replicate && !o->dry_run) {
		/* elsewhere (a confined worker): the parents first, made here */
		_cleanup_free_ bool *skip = xcalloc(d->datasets.n + 1, sizeof(*skip));
		for (size_t i = 0; i < d->datasets.n; i++) {
			_cleanup_free_ char *tgt = drive_target_of(d, res->pool, d->datasets.v[i]);
			if (ensure_parent(&c, tgt) < 0) {
				skip[i] = true;
				res->failed++;
			}
		}
		if (!interrupted(&c))
			o->replicate(o->replicate_data, z, o, res->pool, skip, res);
	} else {
		replicate_all(&c, NULL);
	}
	/*
	 * The worker's grants are revoked by now: delegation goes off at once, for
	 * the rest of the import (root sets the properties and scrubs) and at
	 * rest: plugged in anywhere, even imported read-only, nothing on the drive
	 * is delegated.
	 */
	if (!o->dry_run) {
		_cleanup_strbuf_ struct strbuf e = STRBUF_INIT;
		if (set_delegation(z, res->pool, "off", &e) < 0) {
			emit(&c, DRIVE_EV_ERROR, "cannot turn delegation off again: %s", e.buf);
			res->step_failures++;
		}
	}
	for (size_t i = 0; i < d->datasets.n && !o->dry_run && !interrupted(&c); i++) {
		_cleanup_free_ char *tgt = drive_target_of(d, res->pool, d->datasets.v[i]);
		_cleanup_free_ char *v = NULL;
		if (zfs_get_prop(z, tgt, "name", &v) == 0) {
			step(&c, "properties", "properties of %s", tgt);
			if (set_target_props(&c, tgt) < 0)
				res->step_failures++;
		}
	}

	/* ---- scrub ---- */
	if (interrupted(&c)) {
		/* straight to the export */
	} else if (d->scrub && !o->dry_run) {
		step(&c, "scrub", "scrubbing pool %s (zpool scrub -w)", res->pool);
		if (zpool_scrub(z, res->pool, true) < 0) {
			emit(&c, DRIVE_EV_ERROR, "%s", zfs_error(z));
			res->step_failures++;
		} else if (check_pool_health(&c, res->pool) < 0) {
			res->step_failures++;
		}
	} else if (d->scrub) {
		step(&c, "scrub", "would scrub pool %s", res->pool);
	}

	/* ---- export: always, once imported ---- */
	if (res->imported || !o->dry_run) {
		step(&c, "export", "exporting pool %s", res->pool);
		int tries = 0;
		while ((r = zpool_export(z, res->pool)) == -EBUSY && ++tries < 5)
			sleep(1); /* a receive's mount or a scrub may still be letting go */
		if (r < 0) {
			emit(&c, DRIVE_EV_ERROR, "%s (the drive must not be unplugged: try `zpool export %s`)",
			     zfs_error(z), res->pool);
			res->step_failures++;
			return 0;
		}
		res->exported = true;
		emit(&c, DRIVE_EV_INFO, "exported pool %s", res->pool);
	}

	/* ---- power off ---- */
	if (!res->exported) {
		/* dry run on a pool that was imported before: nothing more to do */
	} else if (interrupted(&c)) {
		/* asked to stop: the pool is exported, which is what makes unplugging safe */
	} else if (d->power_off == DRIVE_POWER_NO) {
		step(&c, "power-off", "not powering off (power_off = no)");
	} else {
		step(&c, "power-off", "powering off the drive");
		for (size_t i = 0; i < vdevs.n; i++)
			if (power_off_one(&c, vdevs.v[i]) < 0 && d->power_off == DRIVE_POWER_YES)
				res->step_failures++;
	}
	return 0;
}

void drive_result_release(struct drive_result *r)
{
	free(r->pool);
	r->pool = NULL;
}

/* ---- status --------------------------------------------------------------- */

void drive_status_release(struct drive_status *st)
{
	for (size_t i = 0; i < st->nds; i++) {
		free(st->ds[i].source);
		free(st->ds[i].target);
		free(st->ds[i].newest_common);
	}
	free(st->ds);
	free(st->pool);
	free(st->health);
	memset(st, 0, sizeof(*st));
}

static void compare_ds(const struct zfs_dataset *s, const struct zfs_dataset *t,
		       struct drive_ds_status *o)
{
	const struct zfs_snap *common = NULL;
	for (size_t i = 0; s && i < s->nsnaps; i++) {
		const struct zfs_snap *sn = &s->snaps[i];
		if (sn->type != ZFS_TYPE_SNAPSHOT)
			continue;
		o->newest_source = sn->creation;
		for (size_t k = 0; t && k < t->nsnaps; k++)
			if (t->snaps[k].type == ZFS_TYPE_SNAPSHOT && t->snaps[k].guid == sn->guid)
				common = sn;
	}
	o->target_exists = t != NULL;
	if (common) {
		o->newest_common = xstrdup(common->short_name);
		o->common_creation = common->creation;
	}
	for (size_t i = 0; s && i < s->nsnaps; i++)
		if (s->snaps[i].type == ZFS_TYPE_SNAPSHOT &&
		    (!common || s->snaps[i].createtxg > common->createtxg))
			o->behind++;
}

/* The sources and their copies on the drive's pool st->pool, dataset by dataset. */
static int compare_drive(struct zfs *z, const struct drive *d, struct drive_status *st,
			 struct strbuf *err)
{
	_cleanup_strvec_ struct strvec troots = STRVEC_INIT;
	for (size_t i = 0; i < d->datasets.n; i++)
		strvec_push_nodup(&troots, drive_target_of(d, st->pool, d->datasets.v[i]));
	_cleanup_release_(zfs_tree) struct zfs_tree s = ZFS_TREE_INIT, t = ZFS_TREE_INIT;
	int r = zfs_list_tree(z, (const char *const *)d->datasets.v, ZFS_LIST_SNAPSHOTS, NULL, &s);
	if (r < 0 && r != -ENOENT) {
		strbuf_addf(err, "listing the sources: %s", zfs_error(z));
		return r;
	}
	r = zfs_list_tree(z, (const char *const *)troots.v, ZFS_LIST_SNAPSHOTS, NULL, &t);
	if (r < 0 && r != -ENOENT) {
		strbuf_addf(err, "listing the drive: %s", zfs_error(z));
		return r;
	}
	st->looked = true;
	st->ds = xcalloc(d->datasets.n, sizeof(*st->ds));
	st->nds = d->datasets.n;
	for (size_t i = 0; i < d->datasets.n; i++) {
		struct drive_ds_status *o = &st->ds[i];
		o->source = xstrdup(d->datasets.v[i]);
		o->target = xstrdup(troots.v[i]);
		compare_ds(zfs_tree_find(&s, o->source), zfs_tree_find(&t, o->target), o);
	}
	return 0;
}

int drive_get_status(struct zfs *z, const struct drive *d, bool no_import, struct drive_status *st,
		     struct strbuf *err)
{
	struct zpool_infos pools = { 0 };
	bool imported_here = false;
	int r;
	memset(st, 0, sizeof(*st));
	r = zpool_list(z, NULL, &pools);
	if (r < 0) {
		strbuf_addf(err, "listing pools: %s", zfs_error(z));
		return r;
	}
	struct zpool_info *pi = find_pool(&pools, d);
	if (pi) {
		st->presence = DRIVE_IMPORTED;
		st->pool = xstrdup(pi->name);
		st->guid = pi->guid;
		st->health = xstrdup(pi->health);
	}
	zpool_infos_release(&pools);
	if (!st->pool && no_import) {
		struct zpool_scan_entry *all = NULL, *found = NULL;
		size_t n = 0;
		r = scan_for(z, d, &all, &n, &found, err);
		if (r < 0)
			return r;
		if (found) {
			st->presence = DRIVE_IMPORTABLE;
			st->pool = xstrdup(found->name);
			st->guid = found->guid;
			st->health = xstrdup(found->state ? found->state : "-");
		}
		drive_scan_free(all, n);
		return 0;
	}
	if (!st->pool) {
		/* import right away: one device scan, not a scan and an import */
		_cleanup_strbuf_ struct strbuf e = STRBUF_INIT;
		r = import_pool(z, d, &e);
		if (r == -ENXIO)
			return 0; /* absent */
		if (r < 0) {
			strbuf_addstr(err, e.buf);
			return r;
		}
		imported_here = true;
		st->presence = DRIVE_IMPORTABLE;
		r = zpool_list(z, NULL, &pools);
		if (r == 0 && (pi = find_pool(&pools, d))) {
			st->pool = xstrdup(pi->name);
			st->guid = pi->guid;
			st->health = xstrdup(pi->health);
		}
		zpool_infos_release(&pools);
		if (!st->pool) {
			_cleanup_free_ char *name = drive_import_name(d);
			strbuf_addf(err, "pool %s was imported but zpool list does not show it", name);
			return -EIO;
		}
	}

	r = compare_drive(z, d, st, err);
	if (imported_here) {
		if (zpool_export(z, st->pool) < 0 && r == 0) {
			strbuf_addf(err, "exporting %s again: %s", st->pool, zfs_error(z));
			r = -EIO;
		}
	}
	return r;
}
