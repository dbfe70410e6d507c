/* cli/jobspec.c - see jobspec.h. */
#include "base/zkeep.h"
#include "cli/jobspec.h"
#include "base/log.h"
#include "base/parse.h"
#include "replication/sendopts.h"
#include "snapshots/sanoid_config.h"
#include "zfs/zfs.h"

void jobspec_init(struct jobspec *js)
{
	memset(js, 0, sizeof(*js));
	strvec_init(&js->store);
	strvec_init(&js->props);
	strvec_init(&js->programs);
	strvec_init(&js->ro);
	strvec_init(&js->keep);
}

void jobspec_release(struct jobspec *js)
{
	jobconf_release(&js->conf);
	strvec_release(&js->store);
	strvec_release(&js->props);
	strvec_release(&js->programs);
	strvec_release(&js->ro);
	strvec_release(&js->keep);
	free(js->name_buf);
}

int jobspec_option(struct jobspec *js, int ch, const char *arg)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	switch (ch) {
	case 1001:
		js->config = arg;
		return 0;
	case 1002:
		js->job_name = arg;
		return 0;
	case 1003:
		if (js->job.nneeds >= DELEG_MAX_NEEDS) {
			log_error("too many --grant options");
			return -EINVAL;
		}
		if (deleg_parse_need(arg, &js->needs[js->job.nneeds], &js->store, &js->props,
				     &err) < 0) {
			log_error("--grant: %s", err.buf);
			return -EINVAL;
		}
		js->job.nneeds++;
		return 0;
	case 1004:
		strvec_push(&js->programs, arg);
		return 0;
	case 1005:
		strvec_push(&js->ro, arg);
		return 0;
	case 1006:
		if (js->job.n_tcp_ports >= SANDBOX_MAX_PORTS ||
		    parse_uint_range(arg, 1, 65535, &js->ports[js->job.n_tcp_ports]) < 0) {
			log_error("--port: '%s' is not a TCP port (or too many ports)", arg);
			return -EINVAL;
		}
		js->job.n_tcp_ports++;
		return 0;
	case 1007:
		if (arg[0] != '/') {
			log_error("--state-dir: '%s' is not an absolute path", arg);
			return -EINVAL;
		}
		js->state_dir = arg;
		return 0;
	case 1008: {
		const char *dash = strchr(arg, '-');
		_cleanup_free_ char *a = dash ? xstrndup(arg, (size_t)(dash - arg)) : NULL;
		unsigned lo, hi;
		if (!dash || parse_uint_range(a, 1000, 0x7ffffffe, &lo) < 0 ||
		    parse_uint_range(dash + 1, lo, 0x7ffffffe, &hi) < 0) {
			log_error("--uid-range: '%s' is not FIRST-LAST (uids from 1000)", arg);
			return -EINVAL;
		}
		js->job.uid_min = lo;
		js->job.uid_max = hi;
		return 0;
	}
	case 1010:
		js->sanoid_dir = arg;
		return 0;
	case 1009: {
		const char *dot = strchr(arg, '.');
		_cleanup_free_ char *a = dot ? xstrndup(arg, (size_t)(dot - arg)) : NULL;
		if (!dot || parse_uint_range(a, 0, 99, &js->job.zfs_major) < 0 ||
		    parse_uint_range(dot + 1, 0, 99, &js->job.zfs_minor) < 0 || !js->job.zfs_major) {
			log_error("--zfs-version: '%s' is not X.Y (e.g. 2.3)", arg);
			return -EINVAL;
		}
		return 0;
	}
	}
	return -EINVAL;
}

void repl_target_facts(struct zfs *z, const char *target, struct repl_facts *f)
{
	zfs_receive_target_state(z, target, &f->target_exists, &f->target_partial_full);
}

static bool root_exists(const char *name, void *ctx)
{
	return zfs_exists(ctx, name) == 1;
}

/*
 * sanoid's job: the grants of `sanoid --cron` (takes and prunes), through
 * the worker's rule. Which roots exist is read now: ExecStartPre=+ runs
 * right before the run, as the worker reads it from its listing.
 */
static int snapshots_job(struct jobspec *js)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	const char *dir = js->sanoid_dir ? js->sanoid_dir : "/etc/sanoid";
	_cleanup_release_(sanoid_config) struct sanoid_config sc = SANOID_CONFIG_INIT;
	if (sanoid_config_load(&sc, dir, &err) < 0) {
		log_error("%s", err.buf);
		return -EINVAL;
	}
	size_t first = js->store.n;
	sanoid_config_roots(&sc, &js->store);
	if (js->store.n == first) {
		log_error("%s/sanoid.conf names no dataset", dir);
		return -EINVAL;
	}
	_cleanup_(runner_freep) struct runner *run = runner_local_new();
	_cleanup_release_(zfs) struct zfs z;
	zfs_init(&z, run);
	js->job.nneeds = jobconf_snapshot_needs((const char *const *)js->store.v + first,
						js->store.n - first, true, true, root_exists, &z,
						js->needs);
	if (!js->job.nneeds) {
		log_error("no dataset of %s/sanoid.conf exists", dir);
		return -EINVAL;
	}
	return 0;
}

/* A [job NAME] of zkeep.conf: its grants, ports, programs, state and uids. */
static int config_job(struct jobspec *js)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	if (!js->job_name) {
		log_error("say which job: --config FILE --job NAME, or --grant DATASET=OPS");
		return -EINVAL;
	}
	const char *file = js->config ? js->config : "/etc/zkeep/zkeep.conf";
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	strbuf_init(&text, 1 << 20);
	int r = strbuf_read_file(&text, file);
	if (r < 0) {
		log_error("cannot read %s: %s", file, strerror(-r));
		return r;
	}
	if (jobconf_parse(text.buf, file, &js->conf, &err) < 0) {
		log_error("%s", err.buf);
		return -EINVAL;
	}
	const struct job *j = jobconf_find(&js->conf, js->job_name);
	if (!j) {
		log_error("%s has no [job %s]", file, js->job_name);
		return -EINVAL;
	}
	/*
	 * The run-time facts of the target, read now: under systemd this is
	 * ExecStartPre=+, right before the run whose worker reads the same
	 * (repl_target_facts) and computes with the same rule.
	 */
	struct repl_facts f;
	jobconf_repl_facts(j, false, false, &f);
	/* not root (--print): no root service receives for whoever runs it */
	if (geteuid() != 0)
		f.receives_by_root = false;
	if (!f.target_remote) {
		_cleanup_(runner_freep) struct runner *run = runner_local_new();
		_cleanup_release_(zfs) struct zfs z;
		zfs_init(&z, run);
		repl_target_facts(&z, j->target, &f);
	}
	js->job.nneeds = jobconf_repl_needs(&f, &js->props, js->needs);
	/* what its receive_set / recvoptions set is the operator's (prop_guard.h) */
	recvopts_prop_words(j->recvoptions, &js->keep);
	if (js->keep.n)
		js->job.guard_keep = (const char *const *)js->keep.v;
	if (!js->state_dir)
		js->state_dir = js->conf.state_dir;
	if (!js->job.uid_min) {
		js->job.uid_min = js->conf.uid_min;
		js->job.uid_max = js->conf.uid_max;
	}
	if (j->target_host && js->job.n_tcp_ports < SANDBOX_MAX_PORTS)
		js->ports[js->job.n_tcp_ports++] = j->ssh_port;
	if (j->target_host && js->programs.n == 0) {
		strvec_push(&js->programs, "zfs");
		strvec_push(&js->programs, "zpool");
		strvec_push(&js->programs, "ssh");
	}
	return 0;
}

int jobspec_finish(struct jobspec *js)
{
	if (js->job.nneeds == 0 && streq(js->job_name, "snapshots") && snapshots_job(js) < 0)
		return -EINVAL;
	if (js->job.nneeds == 0) {
		int r = config_job(js);
		if (r < 0)
			return r;
	}
	js->job.name = js->job_name ? js->job_name : "adhoc";
	js->job.state_dir = js->state_dir;
	js->job.needs = js->needs;
	js->job.tcp_ports = js->ports;
	if (js->programs.n)
		js->job.programs = (const char *const *)js->programs.v;
	if (js->ro.n)
		js->job.ro_paths = (const char *const *)js->ro.v;
	return 0;
}

void jobspec_print_grants(const struct deleg_set *set, const char *who)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct deleg_grant *g = &set->g[i];
		_cleanup_free_ char *perms = deleg_perms_join(g);
		if (g->scope == 'c') {
			/* create time: for whoever creates below, no user */
			printf("%s%szfs allow -c %s %s\n", g->host ? g->host : "", g->host ? ": " : "",
			       perms, g->dataset);
			continue;
		}
		printf("%s%szfs allow%s -u %s %s %s\n", g->host ? g->host : "",
		       g->host ? ": " : "", g->scope == 'l' ? " -l" : g->scope == 'd' ? " -d" : "",
		       who, perms, g->dataset);
	}
}
