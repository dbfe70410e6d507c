/* cmd/confine.c - `zkeep confine`: show or use the sandbox of a job. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/confined.h"
#include "cli/jobspec.h"
#include "base/log.h"
#include "base/spawn.h"

const char cmd_confine_help[] =
	"usage: zkeep confine --print JOB\n"
	"       zkeep confine --run [--no-confine] JOB -- PROGRAM [ARGS...]\n"
	"\n"
	"--print shows the sandbox the job's worker gets: the grants, its uid and\n"
	"namespaces, every path bound into its root, the Landlock rules and the\n"
	"allowed syscalls.\n"
	"\n"
	"--run (for tests and debugging) runs PROGRAM as the job's worker: as root\n"
	"with a transient run uid, the job's grants (journalled, revoked after),\n"
	"namespaces, the pivot_root'ed closure, no_new_privs, Landlock and seccomp;\n"
	"otherwise with no_new_privs, Landlock and seccomp only. PROGRAM is added to\n"
	"the worker's programs. The exit status is PROGRAM's. The worker has no\n"
	"terminal: its stdin is /dev/null, its output is relayed with control\n"
	"characters escaped.\n"
	"--no-confine runs PROGRAM without any of it (debugging only).\n"
	"\n" JOBSPEC_HELP;

struct exec_data {
	const char *const *argv;
};

/* In the worker: run the program (HOME: the run's directory), return its status. */
static int exec_fn(void *data, const char *home)
{
	const struct exec_data *ex = data;
	struct strvec env = STRVEC_INIT;
	(void)home; /* already the worker's HOME (sandbox.c): one HOME, not two */
	spawn_env_default(&env);
	strvec_push(&env, "USER=zkeep");
	strvec_push(&env, "LOGNAME=zkeep");
	struct spawn_req req = { .argv = ex->argv, .env = (const char *const *)env.v,
				 .in = SPAWN_INHERIT, .out = SPAWN_INHERIT, .err = SPAWN_INHERIT };
	struct child c = CHILD_INIT;
	int r = spawn_start(&req, &c);
	strvec_release(&env);
	if (r < 0) {
		log_error("worker: cannot run %s: %s", ex->argv[0], strerror(-r));
		return 127;
	}
	int st;
	if (spawn_wait(&c, &st) < 0)
		return 127;
	return spawn_exit_code(st);
}

static int confine_print(struct jobspec *js)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	_cleanup_sandbox_plan_ struct sandbox_plan plan = SANDBOX_PLAN_INIT;
	unsigned major, minor;
	if (confine_preview(&js->job, &set, &plan, &major, &minor, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	printf("job %s (ZFS %u.%u)\ngrants (revoked after each run):\n", js->job.name, major,
	       minor);
	jobspec_print_grants(&set, geteuid() == 0 ? "UID" : "YOU");
	sandbox_describe(&plan, &out);
	fputs(out.buf, stdout);
	return EXIT_OK;
}

static int confine_exec(struct jobspec *js, const char *const *argv)
{
	if (js->job.no_confine)
		log_warning("*** --no-confine: the worker runs WITHOUT any confinement, with all "
			    "of zkeep's privileges. Use it for debugging only. ***");
	else if (geteuid() != 0)
		log_notice("not root: the worker gets no_new_privs, Landlock and seccomp, and "
			   "needs grants an admin made (see `zkeep allow --print`)");
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct exec_data ex = { .argv = argv };
	struct confine_info info = CONFINE_INFO_INIT;
	int status = 255;
	int r = confine_run(&js->job, exec_fn, &ex, &status, &info, &err);
	confined_report(&info);
	if (info.privileged && info.uid)
		log_info("worker ran as uid %u", (unsigned)info.uid);
	if (err.len)
		log_error("%s", err.buf);
	confine_info_release(&info);
	return r < 0 ? EXIT_FATAL : status;
}

int cmd_confine(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "print", no_argument, NULL, 'p' },
		{ "run", no_argument, NULL, 'r' },
		{ "no-confine", no_argument, NULL, 'n' },
		JOBSPEC_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct jobspec js;
	bool print = false, run = false, ok = true;
	int ch, rc = EXIT_FATAL;
	jobspec_init(&js);
	while (ok && (ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': print = true; break;
		case 'r': run = true; break;
		case 'n': js.job.no_confine = true; break;
		default: ok = ch >= 1000 && jobspec_option(&js, ch, optarg) == 0;
		}
	}
	if (ok && (print == run || (run && optind >= argc) || (print && optind != argc))) {
		log_error("usage: zkeep confine --print JOB | --run JOB -- PROGRAM [ARGS...]");
		ok = false;
	}
	if (ok && run) {
		/* The worker always may run zfs and zpool; PROGRAM and --program come on top. */
		if (strvec_find(&js.programs, "zfs") < 0)
			strvec_push(&js.programs, "zfs");
		if (strvec_find(&js.programs, "zpool") < 0)
			strvec_push(&js.programs, "zpool");
		if (strvec_find(&js.programs, argv[optind]) < 0)
			strvec_push(&js.programs, argv[optind]);
	}
	if (ok && jobspec_finish(&js) == 0)
		rc = print ? confine_print(&js) : confine_exec(&js, (const char *const *)argv + optind);
	jobspec_release(&js);
	return rc;
}
