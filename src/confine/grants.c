/* grants.c - see grants.h. */
#include "base/zkeep.h"
#include "confine/grants.h"
#include "base/parse.h"
#include "base/subid.h"
#include "zfs/zfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>

/* 2 added "create" lines: a zkeep that knows only 1 refuses them, not drops them. */
#define HEADER "zkeep-grants 2\n"
#define HEADER_V1 "zkeep-grants 1\n"

struct runner *grants_same_runner(void *ctx, const char *host)
{
	return ctx;
}

static const char *host_label(const char *host)
{
	return host ? host : "this host";
}

/* The runner of host, or NULL with the reason in err (then fail with -EHOSTUNREACH). */
static struct runner *host_runner(grants_runner_fn runner_for, void *ctx, const char *host,
				  struct strbuf *err)
{
	struct runner *r = runner_for(ctx, host);
	if (!r)
		strbuf_addf(err, "no way to run commands on %s", host_label(host));
	return r;
}

/* Run a zfs command through the runner for host; ZFS's words in err on failure. */
static int run_zfs(grants_runner_fn runner_for, void *ctx, const char *host,
		   const struct strvec *argv, struct strbuf *err)
{
	struct runner *r = host_runner(runner_for, ctx, host, err);
	if (!r)
		return -EHOSTUNREACH;
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT, msg = STRBUF_INIT;
	strbuf_init(&out, 1 << 20);
	strbuf_init(&msg, 1 << 20);
	int code = 0;
	int rc = runner_run(r, (const char *const *)argv->v, NULL, 0, &out, &msg, &code);
	_cleanup_free_ char *cmd = strvec_join(argv, " ");
	if (rc < 0) {
		strbuf_addf(err, "cannot run '%s' on %s: %s", cmd, host_label(host), strerror(-rc));
		return rc;
	}
	if (code != 0) {
		strbuf_rtrim(&msg);
		strbuf_addf(err, "'%s' failed on %s: %s", cmd, host_label(host),
			    msg.len ? msg.buf : "no message");
		int e = zfs_errno_from_message(msg.buf);
		return e < 0 ? e : -EIO;
	}
	return 0;
}

/* ---- the journal ------------------------------------------------------------ */

static bool field_ok(const char *s)
{
	return *s && !strpbrk(s, "\t\n");
}

/* Append "KIND<TAB>HOST<TAB>NAME<TAB>VALUE" and fsync. */
static int journal_append(int fd, const char *kind, const char *host, const char *name,
			  const char *value, struct strbuf *err)
{
	if ((host && !field_ok(host)) || !field_ok(name) || !field_ok(value)) {
		strbuf_addf(err, "refusing to journal a grant on '%s': tab or newline in a name",
			    name);
		return -EINVAL;
	}
	_cleanup_free_ char *line = xasprintf("%s\t%s\t%s\t%s\n", kind, host ? host : "-", name,
					      value);
	size_t n = strlen(line);
	if (write(fd, line, n) != (ssize_t)n || fsync(fd) < 0) {
		int e = errno ? errno : EIO;
		strbuf_addf(err, "cannot write the grant journal: %s", strerror(e));
		return -e;
	}
	return 0;
}

struct jentry {
	char *host, *dataset;
	bool create;          /* a "create" line: dataset's create-time set */
	char *create_added;   /* ... the permissions this run added to it; NULL: none */
};

/* The pool a run's grants were made on: its name and guid on host. */
struct jpool {
	char *host, *pool;
	uint64_t guid;
};

struct journal {
	struct jentry *e;
	size_t n;
	struct jpool *p;
	size_t np;
	struct jpool *t;      /* "txg" lines: host, dataset, the tree's newest createtxg */
	size_t nt;
};

/* Whether a and b name the same host (NULL: this one). */
static bool same_host(const char *a, const char *b)
{
	return a == b || (a && b && streq(a, b));
}

static void journal_free(struct journal *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->e[i].host);
		free(j->e[i].dataset);
		free(j->e[i].create_added);
	}
	for (size_t i = 0; i < j->np; i++) {
		free(j->p[i].host);
		free(j->p[i].pool);
	}
	for (size_t i = 0; i < j->nt; i++) {
		free(j->t[i].host);
		free(j->t[i].pool);
	}
	free(j->e);
	free(j->p);
	free(j->t);
	*j = (struct journal){ 0 };
}

static char *pool_of(const char *dataset)
{
	return xstrndup(dataset, strcspn(dataset, "/"));
}

/* The guid journalled for (host, pool), or 0 (a journal of an older zkeep). */
static uint64_t journal_pool_guid(const struct journal *j, const char *host, const char *pool)
{
	for (size_t i = 0; i < j->np; i++)
		if (streq(j->p[i].host, host) && streq(j->p[i].pool, pool))
			return j->p[i].guid;
	return 0;
}

/* The txg journalled for the tree at (host, dataset): false when there is none. */
static bool journal_txg(const struct journal *j, const char *host, const char *dataset,
			uint64_t *txg)
{
	for (size_t i = 0; i < j->nt; i++)
		if (streq(j->t[i].host, host) && streq(j->t[i].pool, dataset)) {
			*txg = j->t[i].guid;
			return true;
		}
	return false;
}

/*
 * Parse a journal into unique (host, dataset) entries and the guids of their
 * pools ("pool<TAB>HOST<TAB>POOL<TAB>GUID" lines).
 */
static int journal_read(int fd, const char *path, struct journal *j, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 16 << 20);
	if (lseek(fd, 0, SEEK_SET) < 0 || strbuf_read_fd(&sb, fd) < 0) {
		strbuf_addf(err, "cannot read %s", path);
		return -EIO;
	}
	*j = (struct journal){ 0 };
	if (sb.len == 0)
		return 0; /* created, nothing granted yet */
	if (!skip_prefix(sb.buf, HEADER) && !skip_prefix(sb.buf, HEADER_V1)) {
		strbuf_addf(err, "%s is not a zkeep grant journal this zkeep knows", path);
		return -EINVAL;
	}
	struct zcursor c;
	struct zfields f;
	zcursor_init(&c, sb.buf + strlen(HEADER), sb.len - strlen(HEADER));
	while (zcursor_next(&c, &f) > 0) {
		/* A torn last line (crash mid-write) has fewer fields: its allow never ran. */
		if (f.n != 4 || j->n + j->np + j->nt >= GRANTS_MAX_ENTRIES)
			continue;
		_cleanup_free_ char *host = span_is_none(f.f[1]) ? NULL : span_dup(f.f[1]);
		_cleanup_free_ char *name = span_dup(f.f[2]);
		uint64_t guid;
		if (span_eq(f.f[0], "pool") && zfield_u64(&f, 3, &guid) == 0 && guid &&
		    !journal_pool_guid(j, host, name)) {
			j->p = xreallocarray(j->p, j->np + 1, sizeof(*j->p));
			j->p[j->np++] = (struct jpool){ steal_pointer(&host), steal_pointer(&name),
							guid };
			continue;
		}
		uint64_t seen;
		if (span_eq(f.f[0], "txg") && zfield_u64(&f, 3, &guid) == 0 &&
		    !journal_txg(j, host, name, &seen)) {
			j->t = xreallocarray(j->t, j->nt + 1, sizeof(*j->t));
			j->t[j->nt++] = (struct jpool){ steal_pointer(&host), steal_pointer(&name),
							guid };
			continue;
		}
		bool create = span_eq(f.f[0], "create");
		if (!create && !span_eq(f.f[0], "allow"))
			continue;
		bool dup = false;
		for (size_t i = 0; i < j->n && !dup; i++)
			dup = streq(j->e[i].host, host) && streq(j->e[i].dataset, name) &&
			      j->e[i].create == create;
		if (dup)
			continue;
		char *added = create && !span_is_none(f.f[3]) ? span_dup(f.f[3]) : NULL;
		j->e = xreallocarray(j->e, j->n + 1, sizeof(*j->e));
		j->e[j->n++] = (struct jentry){ steal_pointer(&host), steal_pointer(&name), create,
						added };
	}
	return 0;
}

/*
 * Whether the grants journalled on pool can be revoked now: 0 when the pool
 * of that name on host is the one granted on (the journalled guid, when the
 * journal has one); -ENXIO when it is not imported, or another pool of that
 * name is (a rotated drive): the grants stay on the exported pool, and so
 * does the journal entry, until that pool is imported again.
 */
static int pool_state(struct runner *r, const char *host, const char *pool, uint64_t guid,
		      struct strbuf *err)
{
	struct zfs z;
	zfs_init(&z, r);
	_cleanup_free_ char *v = NULL;
	uint64_t now = 0;
	int rc = zpool_get_prop(&z, pool, "guid", &v);
	if (rc == 0 && (parse_u64(v, &now) < 0 || now == 0)) {
		strbuf_addf(err, "pool '%s' on %s has no guid ('%s')", pool, host_label(host), v);
		rc = -EIO;
	} else if (rc == -ENOENT) {
		strbuf_addf(err, "pool '%s' is not imported on %s", pool, host_label(host));
		rc = -ENXIO;
	} else if (rc < 0) {
		strbuf_addf(err, "cannot check pool '%s' on %s: %s", pool, host_label(host),
			    zfs_error(&z));
	} else if (guid && now != guid) {
		strbuf_addf(err, "pool '%s' on %s is another pool (guid %" PRIu64 ", granted on "
			    "%" PRIu64 ")", pool, host_label(host), now, guid);
		rc = -ENXIO;
	}
	zfs_release(&z);
	return rc;
}

/* "CREATETXG<TAB>NAME" of each filesystem and volume of the tree at dataset. */
static int tree_createtxg(struct runner *r, const char *host, const char *dataset,
			  struct strbuf *listing, struct strbuf *err)
{
	strbuf_init(listing, 64 << 20);
	struct zfs z;
	zfs_init(&z, r);
	int rc = zfs_get_text(&z, ARGV(dataset), "value,name", ARGV("createtxg"), listing);
	if (rc < 0)
		strbuf_addf(err, "cannot list '%s' on %s: %s", dataset, host_label(host),
			    zfs_error(&z));
	zfs_release(&z);
	return rc;
}

/*
 * A create-time grant: take out of e->dataset's create-time set what the run
 * added (first, so that no dataset made from here on gets it), then the
 * uid's copies on each dataset made below it since the grant (the new
 * target, its children, anything else the worker created) - all of them
 * when the journal has no txg (a crash before it was written).
 */
static int revoke_created_since(const struct jentry *e, uint64_t txg, struct runner *r,
				uid_t uid, grants_runner_fn runner_for, void *ctx,
				struct strbuf *msg)
{
	_cleanup_strbuf_ struct strbuf listing = STRBUF_INIT;
	int rc = tree_createtxg(r, e->host, e->dataset, &listing, msg);
	_cleanup_strvec_ struct strvec made = STRVEC_INIT;
	if (rc == 0 && (rc = deleg_created_since(listing.buf, txg, &made)) < 0)
		strbuf_addf(msg, "cannot read the listing of '%s' on %s", e->dataset,
			    host_label(e->host));
	for (size_t i = 0; rc == 0 && i < made.n; i++) {
		_cleanup_strvec_ struct strvec un = STRVEC_INIT;
		_cleanup_strbuf_ struct strbuf m = STRBUF_INIT;
		zfs_unallow_argv(uid, true, made.v[i], &un);
		rc = run_zfs(runner_for, ctx, e->host, &un, &m);
		if (rc == -ENOENT)
			rc = 0; /* destroyed meanwhile: its grants went with it */
		if (rc < 0)
			strbuf_addstr(msg, m.buf);
	}
	return rc;
}

static int revoke_create_time(const struct journal *j, const struct jentry *e, struct runner *r,
			      uid_t uid, grants_runner_fn runner_for, void *ctx, struct strbuf *msg)
{
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	int rc;
	if (e->create_added) {
		zfs_unallow_create_argv(e->create_added, e->dataset, &argv);
		if ((rc = run_zfs(runner_for, ctx, e->host, &argv, msg)) < 0)
			return rc;
	}
	uint64_t txg = 0; /* none journalled (a crash before it): the whole tree */
	journal_txg(j, e->host, e->dataset, &txg);
	return revoke_created_since(e, txg, r, uid, runner_for, ctx, msg);
}

/* Whether the journal has a create-time grant on (host, dataset). */
static bool journal_creates(const struct journal *j, const char *host, const char *dataset)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->e[i].create && streq(j->e[i].host, host) && streq(j->e[i].dataset, dataset))
			return true;
	return false;
}

/*
 * Revoke one journalled grant: 0 when revoked, or when its dataset is gone
 * from the (imported, same) pool - the grants of a dataset live in it and go
 * with it; -ENXIO when its pool is not here (pending, message in why).
 */
static int revoke_one(const struct journal *j, size_t i, uid_t uid, grants_runner_fn runner_for,
		      void *ctx, struct strbuf *why)
{
	const struct jentry *e = &j->e[i];
	struct runner *r = host_runner(runner_for, ctx, e->host, why);
	if (!r)
		return -EHOSTUNREACH;
	_cleanup_free_ char *pool = pool_of(e->dataset);
	int rc = pool_state(r, e->host, pool, journal_pool_guid(j, e->host, pool), why);
	if (rc < 0)
		return rc;
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	uint64_t txg;
	if (e->create) {
		rc = revoke_create_time(j, e, r, uid, runner_for, ctx, &msg);
	} else {
		zfs_unallow_argv(uid, false, e->dataset, &argv);
		rc = run_zfs(runner_for, ctx, e->host, &argv, &msg);
		/*
		 * A grant with create: another run's create-time set on an ancestor
		 * gave this uid copies on what it created below (grants.h).
		 */
		if (rc == 0 && journal_txg(j, e->host, e->dataset, &txg) &&
		    !journal_creates(j, e->host, e->dataset))
			rc = revoke_created_since(e, txg, r, uid, runner_for, ctx, &msg);
	}
	if (rc == -ENOENT) {
		/* Gone, or its pool exported meanwhile: ask again. */
		struct zfs z;
		zfs_init(&z, r);
		bool exists = zfs_exists(&z, e->dataset);
		zfs_release(&z);
		rc = exists ? -EIO : pool_state(r, e->host, pool, journal_pool_guid(j, e->host, pool),
						 &msg);
	}
	if (rc < 0)
		strbuf_addstr(why, msg.buf);
	return rc;
}

/*
 * Revoke every entry. 0 when all are revoked; -ENXIO when the others are
 * but some wait for their pool (each listed in pending as "HOST DATASET uid
 * UID: REASON"); else the first error (the others are still tried).
 */
static int revoke_all(int fd, const char *path, uid_t uid, grants_runner_fn runner_for,
		      void *ctx, struct strvec *done, struct strvec *pending, struct strbuf *err)
{
	struct journal j = { 0 }; /* journal_read() can fail before it fills it */
	int r = journal_read(fd, path, &j, err), first = r;
	bool waiting = false;
	for (size_t i = 0; r == 0 && i < j.n; i++) {
		_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
		const char *host = j.e[i].host ? j.e[i].host : "-";
		int rr = revoke_one(&j, i, uid, runner_for, ctx, &msg);
		if (rr == -ENXIO) {
			waiting = true;
			if (pending)
				strvec_pushf(pending, "%s %s uid %u: %s", host, j.e[i].dataset,
					     (unsigned)uid, msg.buf);
		} else if (rr < 0 && first == 0) {
			first = rr;
			strbuf_addstr(err, msg.buf);
		}
		if (rr == 0 && done)
			strvec_pushf(done, "%s %s uid %u", host, j.e[i].dataset, (unsigned)uid);
	}
	journal_free(&j);
	return first < 0 ? first : waiting ? -ENXIO : 0;
}

/* Whether the file at path is still the one open as fd. */
static bool same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static int ensure_dir(const char *state_dir, char **dir, struct strbuf *err)
{
	*dir = xasprintf("%s/grants", state_dir);
	if (mkdir(*dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		strbuf_addf(err, "cannot create %s: %s", *dir, strerror(e));
		return -e;
	}
	return 0;
}

/* Uid of a journal file name: "UID.journal" or "job-NAME.UID.journal". */
static bool journal_uid(const char *name, const char *job, uint64_t *uid)
{
	if (!ends_with(name, ".journal"))
		return false;
	_cleanup_free_ char *base = xstrndup(name, strlen(name) - 8);
	const char *num = base;
	const char *rest = skip_prefix(base, "job-");
	if (rest) {
		char *dot = strrchr(base, '.');
		if (!dot || (job && (strlen(job) != (size_t)(dot - rest) ||
				     memcmp(rest, job, strlen(job)) != 0)))
			return false;
		num = dot + 1;
	} else if (job) {
		return false;
	}
	return parse_u64(num, uid) == 0 && *uid > 0 && *uid < UINT32_MAX;
}

/*
 * Revoke and remove the journals in dir that match: job == NULL: the
 * per-uid ones (and the job ones too when include_jobs); else those of job.
 * A journal whose grants wait for their pool stays (listed in pending).
 */
static int revoke_journals(const char *dir, const char *job, bool include_jobs,
			   grants_runner_fn runner_for, void *ctx, struct strvec *done,
			   struct strvec *pending, struct strbuf *err)
{
	int first = 0;
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		strbuf_addf(err, "cannot read %s: %s", dir, strerror(e));
		return -e;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t uid;
		bool is_job = skip_prefix(de->d_name, "job-") != NULL;
		if (!journal_uid(de->d_name, job, &uid))
			continue;
		if (!job && is_job && !include_jobs)
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
		_cleanup_fd_ int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		/*
		 * A live run holds its own journal locked: skipped. A job's journal
		 * is locked only for moments (--apply making it, root's receive
		 * service granting a new target on it): waited for, since skipping
		 * it would keep the job's grants after its --revoke.
		 */
		if (flock(fd, job ? LOCK_EX : LOCK_EX | LOCK_NB) < 0)
			continue;
		if (!same_file(fd, path))
			continue; /* removed and recreated meanwhile */
		_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
		_cleanup_strvec_ struct strvec wait = STRVEC_INIT;
		int r = revoke_all(fd, path, (uid_t)uid, runner_for, ctx, done, &wait, &msg);
		for (size_t i = 0; pending && i < wait.n; i++)
			strvec_pushf(pending, "%s (journal %s)", wait.v[i], path);
		if (r == 0) {
			unlink(path);
		} else if (r != -ENXIO && first == 0) {
			first = r;
			strbuf_addf(err, "leftover grants of uid %u stay (journal %s): %s",
				    (unsigned)uid, path, msg.buf);
		}
	}
	closedir(d);
	return first;
}

int grants_recover(const char *state_dir, bool include_jobs, grants_runner_fn runner_for,
		   void *ctx, struct strvec *done, struct strvec *pending, struct strbuf *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = ensure_dir(state_dir, &dir, err);
	return r < 0 ? r : revoke_journals(dir, NULL, include_jobs, runner_for, ctx, done,
					   pending, err);
}

int grants_revoke_job(const char *state_dir, const char *job, grants_runner_fn runner_for,
		      void *ctx, struct strvec *done, struct strvec *pending, struct strbuf *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = ensure_dir(state_dir, &dir, err);
	return r < 0 ? r : revoke_journals(dir, job, false, runner_for, ctx, done, pending, err);
}

int grants_job_journal(const char *state_dir, const char *job, uid_t *uid, int *fd,
		       struct strbuf *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/grants", state_dir);
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		strbuf_addf(err, "cannot read %s: %s", dir, strerror(e));
		return -e;
	}
	_cleanup_free_ char *name = NULL;
	uint64_t found = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t u;
		if (!skip_prefix(de->d_name, "job-") || !journal_uid(de->d_name, job, &u))
			continue;
		if (name) {
			strbuf_addf(err, "job %s has more than one grant journal in %s", job, dir);
			r = -EEXIST;
			break;
		}
		name = xstrdup(de->d_name);
		found = u;
	}
	closedir(d);
	if (r < 0)
		return r;
	if (!name) {
		strbuf_addf(err, "no run of job %s holds grants (no journal in %s)", job, dir);
		return -ENOENT;
	}
	*uid = (uid_t)found;
	if (!fd)
		return 0;
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	*fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0) {
		int e = errno;
		strbuf_addf(err, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/* Create, lock and initialise a journal. */
static int journal_create(const char *dir, const char *path, int *fd_out, struct strbuf *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;
		if (e != EEXIST)
			strbuf_addf(err, "cannot create %s: %s", path, strerror(e));
		return -e;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		/* A recovery that opened the file first. */
		close(fd);
		return -EEXIST;
	}
	if (write(fd, HEADER, strlen(HEADER)) != (ssize_t)strlen(HEADER) || fsync(fd) < 0) {
		int e = errno ? errno : EIO;
		strbuf_addf(err, "cannot write %s: %s", path, strerror(e));
		unlink(path);
		close(fd);
		return -e;
	}
	/* The new name must be durable before any grant relies on it. */
	_cleanup_fd_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	*fd_out = fd;
	return 0;
}

/*
 * Whether a local user can act as id through a user namespace of theirs:
 * 1 when a subordinate uid or gid range (/etc/subuid, /etc/subgid) holds
 * it or a user namespace maps onto it already (a mapping outlives the range
 * it was made from), with why said; 0; -errno when a file cannot be read
 * (then nothing is lent). Such a user would hold a run's grants and own its
 * files for as long as the run lasts, and pass a socket's peer check as the
 * run.
 */
static int id_mappable(uint64_t id, struct strbuf *why)
{
	static const char *const files[] = { SUBUID_PATH, SUBGID_PATH };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct subid_range hit;
		int r = subid_file_find(files[i], id, &hit);
		if (r < 0) {
			strbuf_addf(why, "cannot read %s: %s", files[i], strerror(-r));
			return r;
		}
		if (r > 0) {
			uint64_t last = hit.count - 1 > UINT64_MAX - hit.first
						? UINT64_MAX
						: hit.first + (hit.count - 1);
			strbuf_addf(why, "%" PRIu64 " is in the subordinate ids of '%s' "
				    "(%s line %u: %" PRIu64 "-%" PRIu64 "), which can act as it "
				    "through a user namespace", id, hit.owner, files[i], hit.line,
				    hit.first, last);
			return 1;
		}
	}
	pid_t pid;
	int r = subid_userns_find("/proc", id, &pid);
	if (r < 0) {
		strbuf_addf(why, "cannot read the user namespaces' id maps: %s", strerror(-r));
		return r;
	}
	if (r > 0) {
		strbuf_addf(why, "%" PRIu64 " is mapped into the user namespace of process %d, "
			    "which can act as it", id, (int)pid);
		return 1;
	}
	return 0;
}

int grants_begin_job(struct grants *g, const char *state_dir, const char *job, uid_t uid,
		     grants_runner_fn runner_for, void *ctx, struct strbuf *err)
{
	if (!*job || strchr(job, '/') || uid == 0) {
		strbuf_addf(err, "invalid job '%s' or uid %u", job, (unsigned)uid);
		return -EINVAL;
	}
	_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
	int m = id_mappable(uid, &why);
	if (m < 0) {
		strbuf_addf(err, "job %s's run uid is not lent grants: %s", job, why.buf);
		return m;
	}
	if (m > 0) {
		strbuf_addf(err, "job %s's run uid is not lent grants: %s (keep subordinate "
			    "ranges out of systemd's DynamicUser range, 61184-65519)", job, why.buf);
		return -EPERM;
	}
	_cleanup_strvec_ struct strvec pending = STRVEC_INIT;
	int r = grants_revoke_job(state_dir, job, runner_for, ctx, NULL, &pending, err);
	if (r < 0)
		return r;
	if (pending.n) {
		/* Its uid keeps grants on a pool that is away: never lend it more. */
		_cleanup_free_ char *list = strvec_join(&pending, "; ");
		strbuf_addf(err, "grants of job %s's last run wait for their pool to be imported "
			    "again (then this revokes them; remove the journal only if that pool "
			    "is gone for good): %s", job, list);
		return -EBUSY;
	}
	_cleanup_free_ char *dir = xasprintf("%s/grants", state_dir);
	_cleanup_free_ char *path = xasprintf("%s/job-%s.%u.journal", dir, job, (unsigned)uid);
	int fd;
	if ((r = journal_create(dir, path, &fd, err)) < 0) {
		if (r == -EEXIST)
			strbuf_addf(err, "%s is in use by another run of job %s", path, job);
		return r;
	}
	g->dir = steal_pointer(&dir);
	g->journal = steal_pointer(&path);
	g->uid = uid;
	g->fd = fd;
	g->applied = 0;
	return 0;
}

void grants_detach(struct grants *g)
{
	if (g->fd >= 0)
		close(g->fd);
	free(g->dir);
	free(g->journal);
	*g = (struct grants)GRANTS_INIT;
}

int grants_begin(struct grants *g, const char *state_dir, uid_t uid_min, uid_t uid_max,
		 struct strbuf *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = ensure_dir(state_dir, &dir, err);
	if (r < 0)
		return r;
	if (uid_min == 0 || uid_max < uid_min) {
		strbuf_addf(err, "invalid run uid range %u-%u", (unsigned)uid_min,
			    (unsigned)uid_max);
		return -EINVAL;
	}
	_cleanup_strbuf_ struct strbuf mapped = STRBUF_INIT;
	for (uint64_t u = uid_min; u <= uid_max; u++) {
		if (getpwuid((uid_t)u))
			continue; /* a real account: never lend it grants */
		_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
		if ((r = id_mappable(u, &why)) < 0) {
			strbuf_addstr(err, why.buf);
			return r;
		}
		if (r > 0) {
			if (!mapped.len)
				strbuf_addstr(&mapped, why.buf);
			continue;
		}
		_cleanup_free_ char *path = xasprintf("%s/%u.journal", dir, (unsigned)u);
		int fd;
		if ((r = journal_create(dir, path, &fd, err)) == -EEXIST)
			continue;
		if (r < 0)
			return r;
		g->dir = steal_pointer(&dir);
		g->journal = steal_pointer(&path);
		g->uid = (uid_t)u;
		g->fd = fd;
		g->applied = 0;
		return 0;
	}
	strbuf_addf(err, "every run uid in %u-%u is in use, has grants left to revoke (see %s) "
		    "or is another user's", (unsigned)uid_min, (unsigned)uid_max, dir);
	if (mapped.len)
		strbuf_addf(err, " (%s, and maybe more: move run_uids or that range)", mapped.buf);
	return -EAGAIN;
}

/* Whether set's grant h is the first on its host. */
static bool first_of_host(const struct deleg_set *set, size_t h)
{
	for (size_t k = 0; k < h; k++)
		if (same_host(set->g[k].host, set->g[h].host))
			return false;
	return true;
}

/* The pools of set's grants on the host of grant h (the first there), each once. */
static void host_pools(const struct deleg_set *set, size_t h, struct strvec *pools)
{
	for (size_t i = h; i < set->n; i++) {
		if (!same_host(set->g[i].host, set->g[h].host))
			continue;
		_cleanup_free_ char *pool = pool_of(set->g[i].dataset);
		if (strvec_find(pools, pool) < 0)
			strvec_push(pools, pool);
	}
}

/*
 * Once per (host, pool), in one zpool process per host: zpool get
 * delegation, and journal the pool's guid (revoked only on that pool:
 * another pool of the same name - a rotated drive - does not count).
 */
static int check_pools(int fd, const struct deleg_set *set, grants_runner_fn runner_for,
		       void *ctx, struct strbuf *err)
{
	for (size_t h = 0; h < set->n; h++) {
		if (!first_of_host(set, h))
			continue;
		const char *host = set->g[h].host;
		_cleanup_strvec_ struct strvec pools = STRVEC_INIT;
		host_pools(set, h, &pools);
		struct runner *r = host_runner(runner_for, ctx, host, err);
		if (!r)
			return -EHOSTUNREACH;
		struct zfs z;
		zfs_init(&z, r);
		const char *const props[] = { "delegation", "guid" };
		_cleanup_free_ char **vals = xcalloc(pools.n * 2, sizeof(*vals));
		int rc = zpool_get_pools_props(&z, (const char *const *)pools.v, pools.n, props, 2,
					       vals);
		if (rc < 0) {
			_cleanup_free_ char *list = strvec_join(&pools, "', '");
			strbuf_addf(err, "cannot check pool%s '%s' on %s: %s",
				    pools.n > 1 ? "s" : "", list, host_label(host), zfs_error(&z));
		}
		zfs_release(&z);
		for (size_t i = 0; rc == 0 && i < pools.n; i++) {
			const char *v = vals[2 * i], *guid = vals[2 * i + 1];
			if (streq(v, "on")) {
				rc = journal_append(fd, "pool", host, pools.v[i], guid, err);
				continue;
			}
			strbuf_addf(err, "pool '%s' on %s has delegation=%s: ZFS refuses every "
				    "delegated permission there, so the confined worker cannot work "
				    "on it. Run 'zpool set delegation=on %s' (as root), or run this "
				    "job with --no-confine.", pools.v[i], host_label(host), v,
				    pools.v[i]);
			rc = -EPERM;
		}
		for (size_t i = 0; i < pools.n * 2; i++)
			free(vals[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Journal "txg HOST DATASET NEWEST": the newest createtxg in the dataset's
 * tree now. What the revoke finds newer the run made (or another run made
 * meanwhile): the uid's grants there are copies of a create-time set.
 */
static int journal_tree_txg(struct grants *g, const struct deleg_grant *gr, struct runner *run,
			    struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf listing = STRBUF_INIT;
	int r = tree_createtxg(run, gr->host, gr->dataset, &listing, err);
	if (r < 0)
		return r;
	uint64_t newest = 0;
	struct zcursor c;
	struct zfields f;
	zcursor_init(&c, listing.buf, listing.len);
	while ((r = zcursor_next(&c, &f)) > 0) {
		uint64_t v;
		if (zfield_u64(&f, 0, &v) < 0) {
			strbuf_addf(err, "unexpected createtxg listing of '%s'", gr->dataset);
			return -EIO;
		}
		newest = v > newest ? v : newest;
	}
	_cleanup_free_ char *txg = xasprintf("%" PRIu64, newest);
	return journal_append(g->fd, "txg", gr->host, gr->dataset, txg, err);
}

/*
 * A create-time grant: add to the dataset's create-time set what it lacks,
 * journalled first as "txg HOST DATASET NEWEST" (the newest createtxg in its
 * tree: what is newer at the revoke, the run made) and "create HOST DATASET
 * ADDED" ("-": nothing added; the line still makes the revoke clear the
 * uid's copies below the dataset). What the set had before (the
 * operator's) is never removed.
 */
static int apply_create_time(struct grants *g, const struct deleg_grant *gr,
			     grants_runner_fn runner_for, void *ctx, struct strbuf *err)
{
	struct runner *run = host_runner(runner_for, ctx, gr->host, err);
	if (!run)
		return -EHOSTUNREACH;
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	strbuf_init(&text, 1 << 20);
	struct zfs z;
	zfs_init(&z, run);
	int r = zfs_allow_list(&z, gr->dataset, &text);
	if (r < 0)
		strbuf_addf(err, "cannot read the grants on '%s' on %s: %s", gr->dataset,
			    host_label(gr->host), zfs_error(&z));
	zfs_release(&z);
	if (r < 0)
		return r;
	if ((r = journal_tree_txg(g, gr, run, err)) < 0)
		return r;
	_cleanup_strvec_ struct strvec had = STRVEC_INIT, added = STRVEC_INIT;
	deleg_create_time(text.buf, gr->dataset, &had);
	for (size_t i = 0; i < gr->perms.n; i++)
		if (strvec_find(&had, gr->perms.v[i]) < 0)
			strvec_push(&added, gr->perms.v[i]);
	_cleanup_free_ char *perms = added.n ? strvec_join(&added, ",") : xstrdup("-");
	if ((r = journal_append(g->fd, "create", gr->host, gr->dataset, perms, err)) < 0)
		return r;
	if (added.n) {
		_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
		zfs_allow_argv('c', g->uid, perms, gr->dataset, &argv);
		if ((r = run_zfs(runner_for, ctx, gr->host, &argv, err)) < 0)
			return r;
	}
	g->applied++;
	return 0;
}

/* Whether set has a create-time grant on gr's host and dataset. */
static bool has_create_time(const struct deleg_set *set, const struct deleg_grant *gr)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->g[i].scope == 'c' && streq(set->g[i].host, gr->host) &&
		    streq(set->g[i].dataset, gr->dataset))
			return true;
	return false;
}

int grants_apply(struct grants *g, const struct deleg_set *set, grants_runner_fn runner_for,
		 void *ctx, struct strbuf *err)
{
	if (g->fd < 0) {
		strbuf_addstr(err, "grants_apply without grants_begin");
		return -EINVAL;
	}
	int r = check_pools(g->fd, set, runner_for, ctx, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < set->n; i++) {
		const struct deleg_grant *gr = &set->g[i];
		_cleanup_free_ char *perms = deleg_perms_join(gr);
		if (gr->scope == 'c') {
			if ((r = apply_create_time(g, gr, runner_for, ctx, err)) < 0)
				return r;
			continue;
		}
		/*
		 * A grant that lets the uid create datasets: what it creates gets the
		 * create-time sets of their ancestors (another run's new target's), to
		 * be revoked with the rest. Not on the parent of this run's own new
		 * target: its create-time grant covers the tree.
		 */
		if (strvec_find(&gr->perms, "create") >= 0 && !has_create_time(set, gr)) {
			struct runner *run = host_runner(runner_for, ctx, gr->host, err);
			if (!run)
				return -EHOSTUNREACH;
			if ((r = journal_tree_txg(g, gr, run, err)) < 0)
				return r;
		}
		if ((r = journal_append(g->fd, "allow", gr->host, gr->dataset, perms, err)) < 0)
			return r;
		_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
		zfs_allow_argv(gr->scope, g->uid, perms, gr->dataset, &argv);
		if ((r = run_zfs(runner_for, ctx, gr->host, &argv, err)) < 0)
			return r;
		g->applied++;
	}
	return 0;
}

int grants_end(struct grants *g, grants_runner_fn runner_for, void *ctx, struct strbuf *err)
{
	int r = 0;
	if (g->fd >= 0) {
		_cleanup_strvec_ struct strvec pending = STRVEC_INIT;
		r = revoke_all(g->fd, g->journal, g->uid, runner_for, ctx, NULL, &pending, err);
		if (r == 0)
			unlink(g->journal);
		if (r == -ENXIO) {
			_cleanup_free_ char *list = strvec_join(&pending, "; ");
			strbuf_addf(err, "grants stay journalled in %s until their pool is imported "
				    "again: %s", g->journal, list);
		}
		close(g->fd);
	}
	free(g->dir);
	free(g->journal);
	*g = (struct grants)GRANTS_INIT;
	return r;
}
