/* cli/snapshots_confined.c - see snapshots_confined.h. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/snapshots_confined.h"
#include "cli/confined.h"
#include "confine/confine.h"
#include "confine/jobconf.h"
#include "base/log.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct engine_work {
	struct engine *e;
	int (*fn)(struct engine *e, void *ctx);
	void *ctx;
	int report_fd; /* the worker's report of what it took and destroyed, or -1 */
};

static int engine_worker(void *data, const char *work_dir)
{
	struct engine_work *w = data;
	(void)work_dir;
	/*
	 * The supervisor keeps the cache and the run locks (it holds them
	 * across the run): the worker cannot reach either directory, and
	 * does not try.
	 */
	w->e->o.cache_dir = NULL;
	w->e->o.run_dir = NULL;
	w->e->o.cache_report = w->report_fd >= 0;
	w->e->o.cache_report_fd = w->report_fd;
	int status = w->fn(w->e, w->ctx);
	fflush(stdout); /* the worker leaves by _exit() */
	fflush(stderr);
	return status;
}

/* The first hook command of the config, or NULL. */
static const char *engine_hook(const struct engine *e)
{
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		const char *const hooks[] = { p->pre_snapshot_script, p->post_snapshot_script,
					      p->pre_pruning_script, p->pruning_script };
		for (size_t j = 0; j < ARRAY_SIZE(hooks); j++)
			if (hooks[j])
				return hooks[j];
	}
	return NULL;
}

/*
 * Whether the run has anything to take or prune (the engine's own plan).
 * A run with nothing to do changes nothing, so it needs no worker and no
 * grants - and leaves no `zfs allow` entries in the pool's history every
 * quarter of an hour.
 */
static bool engine_has_work(const struct engine *e)
{
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		_cleanup_strvec_ struct strvec prune = STRVEC_INIT;
		unsigned due = 0;
		size_t held = 0;
		engine_plan(e, p, &due, &prune, &held);
		if ((e->o.take && due && p->autosnap) || (e->o.prune && prune.n && p->autoprune))
			return true;
	}
	return false;
}

/* Whether the engine's listing has root (it lists what exists). */
static bool root_listed(const char *root, void *tree)
{
	return zfs_tree_find(tree, root) != NULL;
}

/* The most a worker may report: a line per snapshot it took or destroyed. */
#define REPORT_MAX (64u << 20)

/*
 * After a worker ran: apply its report to the cache (true), or, when there is
 * none or it does not check out (engine_cache_apply_report), remove the cache
 * so the next run lists again (false).
 */
static bool cache_from_worker(struct engine *e, int report_fd)
{
	_cleanup_strbuf_ struct strbuf report = STRBUF_INIT;
	struct stat st;
	bool applied = report_fd >= 0 && fstat(report_fd, &st) == 0 && st.st_size >= 0 &&
		       (uint64_t)st.st_size <= REPORT_MAX && lseek(report_fd, 0, SEEK_SET) == 0 &&
		       strbuf_read_fd(&report, report_fd) >= 0 && report.len <= REPORT_MAX &&
		       engine_cache_apply_report(e, report.buf, report.len) == 0;
	if (applied)
		return true;
	_cleanup_free_ char *cache = xasprintf("%s/snapshots.txt", e->o.cache_dir);
	if (unlink(cache) < 0 && errno != ENOENT)
		log_warning("cannot remove the stale snapshot cache %s: %s", cache, strerror(errno));
	return false;
}

/* The cache brought up to date after the run's changes, or why not (debug). */
static void cache_refresh(struct engine *e, const struct timespec *changes_done)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	if (engine_cache_refresh(e, changes_done, &err) < 0)
		log_debug("the snapshot cache was not listed again after this run's changes (%s); "
			  "the next run lists them", err.len ? err.buf : "no reason given");
}

/* fn in this process, then the cache brought up to date (engine_cache_refresh). */
static int run_here(struct engine *e, int (*fn)(struct engine *e, void *ctx), void *ctx)
{
	int status = fn(e, ctx);
	struct timespec done;
	clock_gettime(CLOCK_REALTIME, &done);
	cache_refresh(e, &done);
	return status;
}

int engine_run_confined(struct engine *e, int (*fn)(struct engine *e, void *ctx), void *ctx)
{
	if (confined_disabled()) {
		confined_warn_unconfined();
		return run_here(e, fn, ctx);
	}
	if (e->o.readonly || (!e->o.take && !e->o.prune))
		return run_here(e, fn, ctx); /* changes nothing */
	if (!engine_has_work(e))
		return run_here(e, fn, ctx); /* nothing due, nothing to prune: no grant, no worker */
	const char *hook = engine_hook(e);
	if (hook) {
		/*
		 * sanoid runs hooks as root, and they are arbitrary programs (stop a
		 * database, sync a file system): they cannot run in the worker.
		 */
		log_warning("*** sanoid.conf configures a pre/post snapshot or pruning script "
			    "('%s'): scripts run with this process's privileges, so this run is "
			    "NOT confined. Remove the scripts to confine it. ***", hook);
		return run_here(e, fn, ctx);
	}
	/* Each configured root that exists, with its descendants (the one rule, jobconf.h). */
	_cleanup_free_ struct deleg_need *needs =
		xcalloc(e->roots.n ? e->roots.n : 1, sizeof(*needs));
	size_t n = jobconf_snapshot_needs((const char *const *)e->roots.v, e->roots.n, e->o.take,
					  e->o.prune, root_listed, &e->tree, needs);
	if (!n)
		return run_here(e, fn, ctx); /* no dataset to change: the engine says so */
	struct confine_job job = {
		.name = "snapshots", .needs = needs, .nneeds = n,
		.state_dir = getenv("ZKEEP_STATE_DIR"),
	};
	/* Where the worker says what it took and destroyed, for the cache the supervisor keeps. */
	_cleanup_fd_ int report_fd = e->o.cache_dir ? memfd_create("zkeep-cache-report", MFD_CLOEXEC) : -1;
	if (report_fd >= 0) {
		job.keep_fds = &report_fd;
		job.nkeep_fds = 1;
	}
	struct engine_work w = { .e = e, .fn = fn, .ctx = ctx, .report_fd = report_fd };
	struct confine_info info = CONFINE_INFO_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int status = EXIT_FATAL;
	int r = confine_run(&job, engine_worker, &w, &status, &info, &err);
	if (e->o.cache_dir &&
	    cache_from_worker(e, r == 0 && status <= EXIT_FATAL ? report_fd : -1))
		cache_refresh(e, &info.worker_ended);
	confined_report(&info);
	if (err.len)
		log_error("%s", err.buf);
	confine_info_release(&info);
	if (r < 0)
		return EXIT_FATAL;
	if (status > EXIT_FATAL) {
		log_error("the confined worker ended with status %d%s; its grants are revoked",
			  status, status > 128 ? " (killed by a signal)" : "");
		return EXIT_FATAL;
	}
	return status;
}
