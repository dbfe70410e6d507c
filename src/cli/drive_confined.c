/* cli/drive_confined.c - see drive_confined.h. */
#include "base/zkeep.h"
#include "cli/drive_confined.h"
#include "cli/commands.h"
#include "cli/confined.h"
#include "cli/jobspec.h"
#include "cli/root_receives.h"
#include "confine/confine.h"
#include "confine/jobconf.h"
#include "base/log.h"
#include "base/parse.h"
#include "drive/driveconf.h"
#include "zfs/root_request.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/socket.h>

struct drive_work {
	struct zfs *z;
	const struct drive_opts *o;
	const char *pool;
	const bool *skip;
	int counts_fd; /* an anonymous file: the counts so far, rewritten after each dataset */
	int root_fd;   /* > 2: the channel on which root runs the worker's receives */
};

/* drive_replicate() one dataset at a time; the counts so far in w->counts_fd after each. */
static int replicate_each(struct drive_work *w)
{
	const struct drive *d = w->o->d;
	struct drive_result res = { 0 };
	_cleanup_free_ bool *others = xcalloc(d->datasets.n + 1, sizeof(*others));
	for (size_t i = 0; i < d->datasets.n && !res.interrupted; i++) {
		if (w->skip[i])
			continue;
		/* one at a time, so that a stop still leaves the counts of those done */
		for (size_t k = 0; k < d->datasets.n; k++)
			others[k] = k != i;
		drive_replicate(w->z, w->o, w->pool, others, &res);
		_cleanup_free_ char *counts = drive_counts_format(&res);
		size_t len = strlen(counts);
		if (pwrite(w->counts_fd, counts, len, 0) != (ssize_t)len ||
		    ftruncate(w->counts_fd, (off_t)len) < 0)
			return EXIT_FATAL;
	}
	return res.failed ? EXIT_PARTIAL : EXIT_OK;
}

static int drive_worker(void *data, const char *work_dir)
{
	struct drive_work *w = data;
	/*
	 * The worker's zfs through a local runner whose receives root runs.
	 * The drive runner's stop is the supervisor's (it kills the worker),
	 * and its import settings concern zpool import, root's.
	 */
	_cleanup_(runner_freep) struct runner *local = NULL;
	struct runner *drive_run = w->z->run;
	if (w->root_fd > 2) {
		local = runner_local_new();
		runner_local_receive_via_root(local, w->root_fd);
		w->z->run = local;
	}
	int status = replicate_each(w);
	w->z->run = drive_run;
	return status;
}

/*
 * Whether a worker can be started here: root with the capabilities the
 * sandbox needs. The drive unit keeps them (drive/drive_units.c); a unit of
 * the admin's own that bounds them away is the only confinement there.
 */
static bool can_confine(void)
{
	if (confined_disabled()) {
		confined_warn_unconfined();
		return false;
	}
	if (geteuid() != 0)
		return false; /* the import already needed root: nothing to confine */
	if (!confine_supervisor_caps_bounded()) {
		log_info("this service's own sandbox leaves no room for a confined worker (its "
			 "capabilities are bounded: a worker needs " CONFINE_SUPERVISOR_CAPS "): "
			 "the replication runs in this process, within that sandbox");
		return false;
	}
	return true;
}

/*
 * The grants of every dataset's replication (source and drive target), by
 * the one rule of a replication (jobconf_repl_needs()): their number.
 * targets and props (one per dataset) keep the strings needs point into.
 */
static size_t drive_needs(struct zfs *z, const struct drive *d, const char *pool,
			  const bool *skip, struct strvec *targets, struct strvec *props,
			  struct deleg_need *needs)
{
	size_t n = 0;
	for (size_t i = 0; i < d->datasets.n; i++)
		strvec_push_nodup(targets, drive_target_of(d, pool, d->datasets.v[i]));
	for (size_t i = 0; i < d->datasets.n; i++) {
		if (skip[i])
			continue; /* its parent is missing: no grant, no replication */
		struct repl_facts f = {
			.source = d->datasets.v[i], .target = targets->v[i],
			.recursive = d->recursive, .sendoptions = d->raw ? "w" : NULL,
			.recvoptions = "u", .rollback = d->rollback, .no_sync_snap = !d->sync_snap,
		};
		repl_target_facts(z, f.target, &f);
		n += jobconf_repl_needs(&f, &props[i], needs + n);
	}
	return n;
}

static void serve_request(void *ctx, const char *request, int *fds, size_t nfds,
			  struct strbuf *reply)
{
	(void)reply; /* refusals are answered on the request's own socket */
	root_receives_serve(ctx, request, fds, nfds);
}

/*
 * Run drive_replicate() as the confined worker of needs[0..n); its counts
 * into res. Root runs its receives (cli/root_receives.h): the worker holds
 * no receive permission on the drive.
 */
static void run_worker(struct drive_confined *dc, struct zfs *z, const struct drive_opts *o,
		       const char *pool, const bool *skip, const struct deleg_need *needs,
		       size_t n, struct drive_result *res)
{
	_cleanup_fd_ int counts_fd = memfd_create("zkeep-drive-counts", MFD_CLOEXEC);
	if (counts_fd < 0) {
		log_error("cannot make the worker's counts file: %s", strerror(errno));
		res->failed++;
		return;
	}
	struct confine_info info = CONFINE_INFO_INIT;
	struct root_receives rr;
	root_receives_init(&rr, z, &info);
	_cleanup_free_ struct root_recv_policy *policies = xcalloc(n + 1, sizeof(*policies));
	for (size_t i = 0; i < n; i++) {
		if (!(needs[i].ops & DELEG_RECV_BY_ROOT))
			continue;
		policies[i] = (struct root_recv_policy){
			.target = needs[i].dataset, .recursive = needs[i].recursive,
			.force = needs[i].ops & DELEG_RECV_FORCE, .props = needs[i].recv_props,
		};
		/* not there when the run began (or to be replaced): granted once received */
		root_receives_add(&rr, &policies[i], needs[i].exists ? NULL : &needs[i]);
	}
	int pair[2] = { -1, -1 };
	if (rr.ntargets && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		log_error("cannot make the worker's channel to root: %s", strerror(errno));
		root_receives_release(&rr);
		res->failed++;
		return;
	}
	const int keep[] = { counts_fd, pair[1] };
	struct sandbox_requests rq = { .fd = pair[0], .fn = serve_request,
				       .malformed = root_receives_malformed, .ctx = &rr };
	/* the job names the run's directory: "drive" when the drive's name is too long */
	_cleanup_free_ char *name = xasprintf("drive-%s", o->d->name);
	struct confine_job job = {
		.name = section_name_ok(name) ? name : "drive", .needs = needs, .nneeds = n,
		.state_dir = dc->state_dir, .uid_min = dc->uid_min, .uid_max = dc->uid_max,
		.keep_fds = keep, .nkeep_fds = pair[1] >= 0 ? 2 : 1,
		.requests = pair[0] >= 0 ? &rq : NULL,
		.stop_fd = dc->stop_fd, .clone_lock = dc->clone_lock,
	};
	struct drive_work w = { .z = z, .o = o, .pool = pool, .skip = skip, .counts_fd = counts_fd,
				.root_fd = pair[1] };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int status = EXIT_FATAL;
	int r = confine_run(&job, drive_worker, &w, &status, &info, &err);
	root_receives_release(&rr); /* root's receives end before the pool is exported */
	for (size_t i = 0; i < ARRAY_SIZE(pair); i++)
		if (pair[i] >= 0)
			close(pair[i]);
	char buf[DRIVE_COUNTS_MAX];
	ssize_t got = pread(counts_fd, buf, sizeof(buf), 0); /* the worker has ended */
	confined_report(&info);
	if (err.len)
		log_error("%s", err.buf);
	if (r == 0 && info.privileged)
		log_info("replicated to the drive as confined worker uid %u", (unsigned)info.uid);
	bool stopped = o->interrupted && atomic_load(o->interrupted);
	if (r == 0 && status == 128 + SIGKILL && !stopped)
		log_error("drive %s: the confined worker was killed (SIGKILL: out of memory?)",
			  o->d->name);
	/* the counts are the worker's word: four numbers, or none (then it failed) */
	bool counted = got > 0 && drive_counts_parse(buf, (size_t)got, res) == 0;
	if (!counted && !stopped && r == 0 && status != 128 + SIGKILL)
		log_error("drive %s: the confined worker ended (status %d) without its counts",
			  o->d->name, status);
	if ((!counted && !stopped) || r < 0 ||
	    (status != EXIT_OK && status != EXIT_PARTIAL && !stopped))
		res->failed++;
	confine_info_release(&info);
}

void drive_replicate_confined(void *data, struct zfs *z, const struct drive_opts *o,
			      const char *pool, const bool *skip, struct drive_result *res)
{
	const struct drive *d = o->d;
	if (!can_confine()) {
		drive_replicate(z, o, pool, skip, res);
		return;
	}
	if (d->datasets.n > DELEG_MAX_NEEDS / 2) {
		log_error("drive %s: more than %d datasets to confine", d->name, DELEG_MAX_NEEDS / 2);
		res->failed++;
		return;
	}
	_cleanup_strvec_ struct strvec targets = STRVEC_INIT;
	struct strvec *props = xcalloc(d->datasets.n + 1, sizeof(*props));
	struct deleg_need *needs = xcalloc(2 * d->datasets.n + 1, sizeof(*needs));
	for (size_t i = 0; i < d->datasets.n; i++)
		strvec_init(&props[i]);
	size_t n = drive_needs(z, d, pool, skip, &targets, props, needs);
	/* Root runs the receives onto the drive: the worker holds no receive (root_request.h). */
	for (size_t i = 0; i < n; i++)
		if (needs[i].ops & DELEG_RECEIVE)
			needs[i].ops |= DELEG_RECV_BY_ROOT;
	run_worker(data, z, o, pool, skip, needs, n, res);
	for (size_t i = 0; i < d->datasets.n; i++)
		strvec_release(&props[i]);
	free(props);
	free(needs);
}
