/* confine.c - see confine.h. */
#include "base/zkeep.h"
#include "base/safe_path.h"
#include "confine/confine.h"
#include "confine/prop_guard.h"
#include "zfs/zfs.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* zpool: the engines read pool properties (features) through it. */
static const char *const default_programs[] = { "zfs", "zpool", NULL };

void confine_info_release(struct confine_info *ci)
{
	if (!ci)
		return;
	free(ci->work_dir);
	deleg_set_release(&ci->grants);
	strvec_release(&ci->recovered);
	strvec_release(&ci->pending);
	strvec_release(&ci->missing);
	strvec_release(&ci->repaired);
	*ci = (struct confine_info)CONFINE_INFO_INIT;
}

static int probe_version(const struct confine_job *job, struct runner *run, unsigned *major,
			 unsigned *minor, struct strbuf *err)
{
	if (job->zfs_major) {
		*major = job->zfs_major;
		*minor = job->zfs_minor;
		return 0;
	}
	/* Here, the module says it without a `zfs version` process. */
	if (runner_is_local(run) && zfs_kmod_version(major, minor) == 0)
		return 0;
	struct zfs z;
	struct zfs_version v;
	zfs_init(&z, run);
	int r = zfs_get_version(&z, &v);
	if (r < 0)
		strbuf_addf(err, "cannot find the ZFS version: %s", zfs_error(&z));
	zfs_release(&z);
	if (r < 0)
		return r;
	/* The kernel module decides what it accepts; the tools may be newer. */
	*major = v.kmod_major ? v.kmod_major : v.major;
	*minor = v.kmod_major ? v.kmod_minor : v.minor;
	return 0;
}

static int check_job(const struct confine_job *job, struct strbuf *err)
{
	if (!section_name_ok(job->name)) {
		strbuf_addf(err, "'%s' is not a job name (letters, digits, '_', '.', '-')",
			    job->name ? job->name : "");
		return -EINVAL;
	}
	for (size_t i = 0; i < job->nneeds; i++)
		if (job->needs[i].host) {
			strbuf_addf(err, "dataset '%s' on %s: confining jobs with grants on another "
				    "host is not supported yet", job->needs[i].dataset,
				    job->needs[i].host);
			return -EOPNOTSUPP;
		}
	return 0;
}

static void fill_sandbox_config(const struct confine_job *job, bool privileged, uid_t uid,
				const char *work_dir, struct sandbox_config *sc)
{
	*sc = (struct sandbox_config){
		.privileged = privileged, .uid = uid, .gid = (gid_t)uid, .user = "zkeep",
		.state_dir = work_dir,
		.programs = job->programs ? job->programs : default_programs,
		.ro_paths = job->ro_paths, .tcp_ports = job->tcp_ports,
		.n_tcp_ports = job->n_tcp_ports, .root_dir = job->root_dir,
	};
}

int confine_preview(const struct confine_job *job, struct deleg_set *grants,
		    struct sandbox_plan *plan, unsigned *major, unsigned *minor,
		    struct strbuf *err)
{
	int r = check_job(job, err);
	if (r < 0)
		return r;
	struct runner *run = runner_local_new();
	r = probe_version(job, run, major, minor, err);
	runner_free(run);
	if (r < 0)
		return r;
	if ((r = deleg_compute(job->needs, job->nneeds, *major, *minor, grants, err)) < 0)
		return r;
	bool privileged = geteuid() == 0;
	const char *state = job->state_dir ? job->state_dir : CONFINE_STATE_DIR_DEFAULT;
	/* Each run gets a new STATE/work/JOB-XXXXXXXXXXXX: STATE/work stands for it. */
	_cleanup_free_ char *work = xasprintf("%s/work", state);
	struct sandbox_config sc;
	fill_sandbox_config(job, privileged, job->uid_min ? job->uid_min : GRANTS_UID_MIN_DEFAULT,
			    access(work, F_OK) == 0 ? work : NULL, &sc);
	return sandbox_plan_build(&sc, plan, err);
}

/* ---- running ------------------------------------------------------------------ */

static int make_dir(const char *path, mode_t mode, struct strbuf *err)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (mkdir(path, mode) < 0 && errno != EEXIST) {
		int e = errno;
		strbuf_addf(err, "cannot create %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/*
 * The run's own directory, STATE/work/JOB-XXXXXXXXXXXX: made fresh by root
 * for each run (never reused, so nothing a previous worker left is in it),
 * and removed after the run through dirfds only.
 */
struct run_dir {
	int parent;   /* STATE/work */
	int fd;       /* the run's directory */
	char *name;   /* its name in STATE/work */
};
#define RUN_DIR_INIT { .parent = -1, .fd = -1 }

/* STATE/work as a directory fd: a real directory, not writable by others (root). */
static int open_work_parent(const char *state, bool privileged, int *out, struct strbuf *err)
{
	int r;
	_cleanup_free_ char *work = xasprintf("%s/work", state);
	if ((r = make_dir(state, 0755, err)) < 0 || (r = make_dir(work, 0755, err)) < 0)
		return r;
	int fd = open(work, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		strbuf_addf(err, "cannot open %s: %s", work, strerror(e));
		return -e;
	}
	if (privileged && (st.st_uid != 0 || (st.st_mode & 022))) {
		close(fd);
		strbuf_addf(err, "%s must be root's and writable by root only", work);
		return -EPERM;
	}
	*out = fd;
	return 0;
}

/*
 * What runs that died with their supervisor (kill -9) left in STATE/work:
 * every entry whose directory no live run holds locked (each run holds a
 * flock on its own directory while it runs).
 */
static void remove_stale_run_dirs(int parent)
{
	_cleanup_(strvec_release) struct strvec names = STRVEC_INIT;
	if (dir_names_at(parent, &names) < 0)
		return;
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_fd_ int e = openat(parent, names.v[i],
					    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (e >= 0 && flock(e, LOCK_EX | LOCK_NB) < 0)
			continue; /* a live run's */
		remove_tree_at(parent, names.v[i], 64);
	}
}

static int make_locked_run_dir(const char *state, const char *job, bool privileged, uid_t uid,
			       struct run_dir *rd, char **path, struct strbuf *err)
{
	remove_stale_run_dirs(rd->parent);
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	for (int tries = 0; tries < 100; tries++) {
		unsigned char rnd[12];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -EIO;
		char suffix[sizeof(rnd) + 1];
		for (size_t i = 0; i < sizeof(rnd); i++)
			suffix[i] = alnum[rnd[i] % (sizeof(alnum) - 1)];
		suffix[sizeof(rnd)] = '\0';
		free(rd->name);
		rd->name = xasprintf("%s-%s", job, suffix);
		if (mkdirat(rd->parent, rd->name, 0700) == 0)
			break;
		if (errno != EEXIST || tries == 99) {
			int e = errno;
			strbuf_addf(err, "cannot create %s/work/%s: %s", state, rd->name, strerror(e));
			free(rd->name);
			rd->name = NULL;
			return -e;
		}
	}
	rd->fd = openat(rd->parent, rd->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rd->fd < 0 || flock(rd->fd, LOCK_EX | LOCK_NB) < 0 ||
	    (privileged && fchown(rd->fd, uid, (gid_t)uid) < 0)) {
		int e = errno;
		strbuf_addf(err, "cannot hand %s/work/%s to the run uid %u: %s", state, rd->name,
			    (unsigned)uid, strerror(e));
		return -e;
	}
	*path = xasprintf("%s/work/%s", state, rd->name);
	return 0;
}

/*
 * A new, empty STATE/work/JOB-XXXXXXXXXXXX for this run, owned by uid
 * (privileged), held locked until run_dir_release().
 */
static int make_run_dir(const char *state, const char *job, bool privileged, uid_t uid,
			struct run_dir *rd, char **path, struct strbuf *err)
{
	int r = open_work_parent(state, privileged, &rd->parent, err);
	if (r < 0)
		return r;
	/* One run at a time between the sweep and locking its new directory. */
	if (flock(rd->parent, LOCK_EX) < 0) {
		strbuf_addf(err, "cannot lock %s/work: %s", state, strerror(errno));
		return -errno;
	}
	r = make_locked_run_dir(state, job, privileged, uid, rd, path, err);
	flock(rd->parent, LOCK_UN);
	return r;
}

/* After the run (the worker and everything it started are gone): its directory goes. */
static void run_dir_release(struct run_dir *rd, struct strbuf *err)
{
	if (rd->parent >= 0 && rd->name) {
		int r = remove_tree_at(rd->parent, rd->name, 64);
		if (r < 0)
			strbuf_addf(err, "%scannot remove the worker's directory work/%s: %s",
				    err->len ? "; " : "", rd->name, strerror(-r));
	}
	if (rd->fd >= 0)
		close(rd->fd);
	if (rd->parent >= 0)
		close(rd->parent);
	free(rd->name);
	*rd = (struct run_dir)RUN_DIR_INIT;
}

/*
 * Copy one caller file into the run's directory, as NAME or DIR/NAME: DIR
 * is made root's (mode 0755: the worker cannot replace what is in it), the
 * file the run uid's, mode 0400.
 */
static int copy_file(const struct run_dir *rd, const struct confine_file *f, uid_t uid,
		     struct strbuf *err)
{
	const char *slash = f->name ? strchr(f->name, '/') : NULL;
	const char *base = slash ? slash + 1 : f->name;
	if (!f->name || !*f->name || f->name[0] == '/' || strstr(f->name, "..") || !*base ||
	    strchr(base, '/') || streq(base, ".") || slash == f->name) {
		strbuf_addf(err, "'%s' is not a file name for the worker's directory",
			    f->name ? f->name : "");
		return -EINVAL;
	}
	_cleanup_strbuf_ struct strbuf data = STRBUF_INIT;
	_cleanup_fd_ int in = open(f->src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0) {
		int e = errno;
		if (e == ENOENT && !f->required)
			return 0;
		strbuf_addf(err, "cannot read %s for the worker: %s", f->src, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFINE_MAX_FILE_SIZE) {
		strbuf_addf(err, "%s: not a regular file of at most %d bytes; the worker gets "
			    "no copy", f->src, CONFINE_MAX_FILE_SIZE);
		return -EINVAL;
	}
	int r = strbuf_read_fd(&data, in);
	if (r < 0) {
		strbuf_addf(err, "cannot read %s for the worker: %s", f->src, strerror(-r));
		return r;
	}
	_cleanup_fd_ int sub = -1;
	int at = rd->fd;
	if (slash) {
		_cleanup_free_ char *dir = xstrndup(f->name, (size_t)(slash - f->name));
		if (mkdirat(rd->fd, dir, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			strbuf_addf(err, "cannot create %s in the worker's directory: %s", dir,
				    strerror(e));
			return -e;
		}
		sub = openat(rd->fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			int e = errno;
			strbuf_addf(err, "cannot open %s in the worker's directory: %s", dir,
				    strerror(e));
			return -e;
		}
		at = sub;
	}
	_cleanup_fd_ int out = openat(at, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				      O_CLOEXEC, 0600);
	if (out < 0 || write(out, data.buf, data.len) != (ssize_t)data.len ||
	    fchown(out, uid, (gid_t)uid) < 0 || fchmod(out, 0400) < 0) {
		int e = errno;
		strbuf_addf(err, "cannot copy %s to the worker's %s: %s", f->src, f->name,
			    strerror(e));
		return -e;
	}
	return 0;
}

/* Not root: which of the grants the caller does not hold (zfs allow DATASET). */
static void find_missing(const struct deleg_set *set, struct runner *run, struct strvec *missing)
{
	uid_t uid = geteuid();
	struct passwd *pw = getpwuid(uid);
	_cleanup_free_ char *user = pw ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned)uid);
	_cleanup_strvec_ struct strvec groups = STRVEC_INIT;
	gid_t gids[256];
	int ng = getgroups(ARRAY_SIZE(gids), gids);
	for (int i = 0; i < ng; i++) {
		struct group *gr = getgrgid(gids[i]);
		if (gr)
			strvec_push(&groups, gr->gr_name);
	}
	_cleanup_release_(zfs) struct zfs z;
	zfs_init(&z, run);
	for (size_t i = 0; i < set->n; i++) {
		_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
		strbuf_init(&out, 1 << 20);
		if (zfs_allow_list(&z, set->g[i].dataset, &out) < 0)
			continue; /* the run itself will say what is wrong with the dataset */
		deleg_missing(&set->g[i], out.buf, user, uid, (const char *const *)groups.v, missing);
	}
}

/*
 * The confined run proper, once the job is checked: grants, work
 * directory, copies, sandbox, worker. What it set up is torn down by the
 * caller (copies, grants), also when a step failed.
 */
/* What the worker calls: fn(data, its directory). */
struct worker_call {
	confine_fn *fn;
	void *data;
	const char *work_dir;
};

static int worker_call(void *p)
{
	const struct worker_call *wc = p;
	return wc->fn(wc->data, wc->work_dir);
}

static int run_worker(const struct confine_job *job, confine_fn *fn, void *data, int *status,
		      struct confine_info *ci, struct grants *g, struct prop_guard *pg,
		      struct run_dir *rd, struct runner *run, struct strbuf *err)
{
	_cleanup_sandbox_plan_ struct sandbox_plan plan = SANDBOX_PLAN_INIT;
	const char *state = job->state_dir ? job->state_dir : CONFINE_STATE_DIR_DEFAULT;
	int r;

	if (ci->privileged) {
		if ((r = make_dir(state, 0755, err)) < 0)
			return r;
		_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
		r = grants_recover(state, false, grants_same_runner, run, &ci->recovered,
				   &ci->pending, &msg);
		if (r < 0) {
			/* Their uids stay blocked; this run can still go on. */
			strbuf_addf(err, "%s; ", msg.buf);
		}
	}
	/* no dataset here (both ends of a replication remote): no grant, no ZFS needed */
	if (job->nneeds && (r = probe_version(job, run, &ci->zfs_major, &ci->zfs_minor, err)) < 0)
		return r;
	if ((r = deleg_compute(job->needs, job->nneeds, ci->zfs_major, ci->zfs_minor, &ci->grants,
			       err)) < 0)
		return r;
	if (!ci->privileged)
		find_missing(&ci->grants, run, &ci->missing);
	if (ci->privileged) {
		if ((r = grants_begin(g, state, job->uid_min ? job->uid_min : GRANTS_UID_MIN_DEFAULT,
				      job->uid_max ? job->uid_max : GRANTS_UID_MAX_DEFAULT, err)) < 0)
			return r;
		ci->uid = g->uid;
		ci->journal_fd = g->fd;
	}
	if ((r = make_run_dir(state, job->name, ci->privileged, ci->uid, rd, &ci->work_dir,
			      err)) < 0)
		return r;
	if (job->nfiles > CONFINE_MAX_FILES) {
		strbuf_addf(err, "more than %d files to copy for the worker", CONFINE_MAX_FILES);
		return -E2BIG;
	}
	for (size_t i = 0; ci->privileged && i < job->nfiles; i++)
		if ((r = copy_file(rd, &job->files[i], ci->uid, err)) < 0)
			return r;
	struct sandbox_config sc;
	fill_sandbox_config(job, ci->privileged, ci->uid, ci->work_dir, &sc);
	if ((r = sandbox_plan_build(&sc, &plan, err)) < 0)
		return r;
	ci->landlock_abi = plan.landlock_abi;
	if (ci->privileged &&
	    (r = prop_guard_begin(pg, &ci->grants, job->guard_keep, run, err)) < 0)
		return r;
	if (ci->privileged && (r = grants_apply(g, &ci->grants, grants_same_runner, run, err)) < 0)
		return r;
	struct sandbox_worker w = SANDBOX_WORKER_INIT;
	struct worker_call wc = { .fn = fn, .data = data, .work_dir = ci->work_dir };
	if ((r = sandbox_worker_start(&plan, worker_call, &wc, job->keep_fds, job->nkeep_fds,
					 job->clone_lock, &w,
					 err)) < 0)
		return r;
	r = sandbox_worker_wait(&w, job->requests, job->stop_fd > 0 ? job->stop_fd : -1, status);
	clock_gettime(CLOCK_REALTIME, &ci->worker_ended);
	/* the worker is gone (or, if the wait failed, killed): its changes are final */
	int rg = prop_guard_end(pg, run, &ci->repaired, err);
	return r < 0 ? r : rg;
}

/* Revoke the grants of a run, if it made any; r is the run's result so far. */
static int end_grants(struct grants *g, struct runner *run, const struct confine_info *ci, int r,
		      struct strbuf *err)
{
	if (g->fd < 0)
		return r;
	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	int rr = grants_end(g, grants_same_runner, run, &msg);
	if (rr < 0) {
		strbuf_addf(err, "%scannot revoke the grants of uid %u: %s (the next run "
			    "retries)", err->len ? "; " : "", (unsigned)ci->uid, msg.buf);
		if (r == 0)
			r = rr;
	}
	return r;
}

int confine_run(const struct confine_job *job, confine_fn *fn, void *data, int *status,
		struct confine_info *info, struct strbuf *err)
{
	struct run_dir rd = RUN_DIR_INIT;
	_cleanup_release_(confine_info) struct confine_info local = CONFINE_INFO_INIT;
	struct confine_info *ci = info ? info : &local;
	struct grants g = GRANTS_INIT;
	_cleanup_release_(prop_guard) struct prop_guard pg = PROP_GUARD_INIT;
	int r;

	*status = 255;
	if ((r = check_job(job, err)) < 0)
		return r;
	if (job->no_confine) {
		*status = fn(data, NULL) & 0xff;
		clock_gettime(CLOCK_REALTIME, &ci->worker_ended);
		return 0;
	}
	ci->privileged = geteuid() == 0;
	_cleanup_(runner_freep) struct runner *run = runner_local_new();
	r = run_worker(job, fn, data, status, ci, &g, &pg, &rd, run, err);
	ci->journal_fd = -1;
	run_dir_release(&rd, err);
	return end_grants(&g, run, ci, r, err);
}

int confine_grant_created(const struct confine_info *ci, const struct deleg_need *need,
			  struct strbuf *err)
{
	if (!ci->privileged || ci->journal_fd < 0) {
		strbuf_addstr(err, "no confined run to grant to");
		return -EBADF;
	}
	struct deleg_need created = *need;
	created.exists = true;
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	int r = deleg_compute(&created, 1, ci->zfs_major, ci->zfs_minor, &set, err);
	if (r < 0)
		return r;
	/*
	 * The run's journal: grants_end() revokes what is appended here. A
	 * unit's is revoked by its ExecStopPost (`zkeep allow --revoke`, which
	 * locks it): locked meanwhile, and granted only while it is still
	 * there, since a revoke that came first removed it and a grant now
	 * would outlive the run. (confine_run()'s supervisor holds its own.)
	 */
	if (ci->unit_journal && flock(ci->journal_fd, LOCK_EX) < 0) {
		int e = errno;
		strbuf_addf(err, "cannot lock the run's grant journal: %s", strerror(e));
		return -e;
	}
	struct stat st;
	if (ci->unit_journal && (fstat(ci->journal_fd, &st) < 0 || st.st_nlink == 0)) {
		strbuf_addstr(err, "the run's grants were revoked already");
		r = -ESTALE;
	} else {
		struct grants g = { .fd = ci->journal_fd, .uid = ci->uid };
		_cleanup_(runner_freep) struct runner *run = runner_local_new();
		r = grants_apply(&g, &set, grants_same_runner, run, err);
	}
	if (ci->unit_journal)
		flock(ci->journal_fd, LOCK_UN);
	return r;
}

bool confine_supervisor_caps_bounded(void)
{
	_cleanup_free_ char *names = xstrdup(CONFINE_SUPERVISOR_CAPS);
	char *save = NULL;
	for (char *n = strtok_r(names, " ", &save); n; n = strtok_r(NULL, " ", &save)) {
		cap_value_t c;
		if (cap_from_name(n, &c) < 0)
			return false;
		if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0) != 1)
			return false;
	}
	return true;
}
