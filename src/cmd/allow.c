/* cmd/allow.c - `zkeep allow`: the zfs allow grants of a job. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/jobspec.h"
#include "base/log.h"
#include "base/parse.h"
#include "confine/prop_guard.h"

#include <pwd.h>

const char cmd_allow_help[] =
	"usage: zkeep allow --print JOB\n"
	"       zkeep allow --apply --user USER JOB\n"
	"       zkeep allow --revoke JOB\n"
	"       zkeep allow --recover [--state-dir DIR]\n"
	"\n"
	"The minimal `zfs allow` permissions a job needs, per dataset, for the ZFS\n"
	"version found here (2.4+: send:raw, receive:append).\n"
	"\n"
	"  --print    show them as zfs allow commands (run uid shown as UID: zkeep\n"
	"             picks a transient one per run). Not root: these are what an\n"
	"             admin must grant you.\n"
	"  --apply    grant them to USER (name or number), journalled first in\n"
	"             STATE/grants; a leftover of the job's last run is revoked before.\n"
	"             For systemd units (ExecStartPre=+).\n"
	"  --revoke   revoke what --apply granted for JOB (ExecStopPost=+).\n"
	"Between the two, the guarded properties of the granted datasets (setuid,\n"
	"devices, sharenfs, sharesmb, zoned, exec, volmode) are watched: --apply\n"
	"lists them, --revoke puts back as root what the run made less safe and\n"
	"then fails.\n"
	"  --recover  revoke the grants of every run that ended without revoking\n"
	"             (crash, kill -9): run at boot by zkeep-recover.service.\n"
	"A grant on a pool that is not imported stays journalled (a warning says\n"
	"so) until a --revoke, --recover or run after the pool is back; --apply\n"
	"refuses while the job's last grants are pending.\n"
	"\n" JOBSPEC_HELP;

enum { MODE_NONE, MODE_PRINT, MODE_APPLY, MODE_REVOKE, MODE_RECOVER };

static int resolve_user(const char *user, uid_t *uid)
{
	unsigned n;
	if (parse_uint_range(user, 1, 0x7ffffffe, &n) == 0) {
		*uid = n;
		return 0;
	}
	struct passwd *pw = getpwnam(user);
	if (!pw || pw->pw_uid == 0) {
		log_error("no user '%s' (a DynamicUser= name resolves only while its unit runs, "
			  "through nss-systemd)", user);
		return -ENOENT;
	}
	*uid = pw->pw_uid;
	return 0;
}

static int allow_print(struct jobspec *js)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	_cleanup_sandbox_plan_ struct sandbox_plan plan = SANDBOX_PLAN_INIT;
	unsigned major, minor;
	if (confine_preview(&js->job, &set, &plan, &major, &minor, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	printf("# job %s, ZFS %u.%u\n", js->job.name, major, minor);
	if (geteuid() == 0) {
		printf("# granted to a transient run uid (UID) before each run, revoked after\n");
		jobspec_print_grants(&set, "UID");
	} else {
		struct passwd *pw = getpwuid(geteuid());
		printf("# not root: an admin must grant these to you\n");
		jobspec_print_grants(&set, pw ? pw->pw_name : "YOU");
	}
	return EXIT_OK;
}

/* Where --apply keeps the guarded properties for --revoke (prop_guard.h). */
static char *guard_file(const char *state, const char *job)
{
	return xasprintf("%s/grants/job-%s.guard", state, job);
}

/*
 * The check of the job's last --apply, if its file is there: put back what
 * the run weakened, then remove the file (kept when the check failed). 0
 * (also when there was none), or -errno after logging (-EPERM: something
 * was put back).
 */
static int guard_check(const char *state, const struct jobspec *js, struct runner *run)
{
	_cleanup_free_ char *path = guard_file(state, js->job.name);
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_release_(prop_guard) struct prop_guard pg = PROP_GUARD_INIT;
	_cleanup_strvec_ struct strvec repaired = STRVEC_INIT;
	int r = prop_guard_load(&pg, path, js->job.guard_keep, &err);
	if (r == -ENOENT)
		return 0;
	if (r == 0)
		r = prop_guard_end(&pg, run, &repaired, &err);
	for (size_t i = 0; i < repaired.n; i++)
		log_error("the run weakened a guarded property, put back as root: %s",
			  repaired.v[i]);
	if (r < 0)
		log_error("%s", err.buf);
	/* kept when the check could not be made: the next --apply makes it, or refuses */
	if ((r == 0 || r == -EPERM) && unlink(path) < 0 && errno != ENOENT)
		log_error("cannot remove %s: %s", path, strerror(errno));
	return r;
}

static int allow_apply(struct jobspec *js, const char *user, struct runner *run)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	_cleanup_sandbox_plan_ struct sandbox_plan plan = SANDBOX_PLAN_INIT;
	const char *state = js->job.state_dir ? js->job.state_dir : CONFINE_STATE_DIR_DEFAULT;
	unsigned major, minor;
	uid_t uid;
	if (!user) {
		log_error("--apply needs --user USER (the unit's User=)");
		return EXIT_FATAL;
	}
	if (resolve_user(user, &uid) < 0)
		return EXIT_FATAL;
	if (confine_preview(&js->job, &set, &plan, &major, &minor, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	/* A last run whose --revoke never came: its check first. */
	if (guard_check(state, js, run) < 0)
		return EXIT_FATAL;
	_cleanup_release_(prop_guard) struct prop_guard pg = PROP_GUARD_INIT;
	_cleanup_free_ char *guard = guard_file(state, js->job.name);
	struct grants g = GRANTS_INIT;
	int r = grants_begin_job(&g, state, js->job.name, uid, grants_same_runner, run, &err);
	if (r == 0 && (r = prop_guard_begin(&pg, &set, js->job.guard_keep, run, &err)) == 0)
		r = prop_guard_save(&pg, guard, &err);
	if (r == 0)
		r = grants_apply(&g, &set, grants_same_runner, run, &err);
	bool began = g.fd >= 0;
	grants_detach(&g);
	if (r < 0) {
		log_error("%s", err.buf);
		strbuf_reset(&err);
		if (began && grants_revoke_job(state, js->job.name, grants_same_runner, run, NULL,
					       NULL, &err) < 0)
			log_error("%s", err.buf);
		(void)unlink(guard);
		return EXIT_FATAL;
	}
	log_info("granted %zu permission sets to uid %u for job %s", set.n, (unsigned)uid,
		 js->job.name);
	return EXIT_OK;
}

static int allow_revoke(struct jobspec *js, bool recover, struct runner *run)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_strvec_ struct strvec done = STRVEC_INIT, pending = STRVEC_INIT;
	const char *state = js->state_dir ? js->state_dir : CONFINE_STATE_DIR_DEFAULT;
	/* before the revoke: the run is over (ExecStopPost), its changes are final */
	int rg = recover ? 0 : guard_check(state, js, run);
	int r = recover ? grants_recover(state, true, grants_same_runner, run, &done, &pending,
					 &err)
			: grants_revoke_job(state, js->job.name, grants_same_runner, run, &done,
					    &pending, &err);
	for (size_t i = 0; i < done.n; i++)
		log_notice("revoked %s", done.v[i]);
	/* Not a failure: revoked when the pool is back (next start, --revoke, --recover). */
	for (size_t i = 0; i < pending.n; i++)
		log_warning("pending until its pool is imported again: %s", pending.v[i]);
	if (r < 0)
		log_error("%s", err.buf);
	return r < 0 ? (recover ? EXIT_PARTIAL : EXIT_FATAL) : rg < 0 ? EXIT_FATAL : EXIT_OK;
}

int cmd_allow(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "print", no_argument, NULL, 'p' },
		{ "apply", no_argument, NULL, 'a' },
		{ "revoke", no_argument, NULL, 'r' },
		{ "recover", no_argument, NULL, 'R' },
		{ "user", required_argument, NULL, 'u' },
		JOBSPEC_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct jobspec js;
	const char *user = NULL;
	int mode = MODE_NONE, ch, rc = EXIT_FATAL;
	bool ok = true;
	jobspec_init(&js);
	while (ok && (ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': mode = MODE_PRINT; break;
		case 'a': mode = MODE_APPLY; break;
		case 'r': mode = MODE_REVOKE; break;
		case 'R': mode = MODE_RECOVER; break;
		case 'u': user = optarg; break;
		default: ok = ch >= 1000 && jobspec_option(&js, ch, optarg) == 0;
		}
	}
	if (ok && (mode == MODE_NONE || optind != argc)) {
		log_error("usage: zkeep allow --print|--apply|--revoke|--recover ... (see --help)");
		ok = false;
	}
	if (ok && mode != MODE_PRINT && geteuid() != 0) {
		log_error("only root can change zfs allow grants");
		ok = false;
	}
	if (ok && mode != MODE_RECOVER && jobspec_finish(&js) < 0)
		ok = false;
	if (ok) {
		struct runner *run = runner_local_new();
		switch (mode) {
		case MODE_PRINT: rc = allow_print(&js); break;
		case MODE_APPLY: rc = allow_apply(&js, user, run); break;
		default: rc = allow_revoke(&js, mode == MODE_RECOVER, run); break;
		}
		runner_free(run);
	}
	jobspec_release(&js);
	return rc;
}
