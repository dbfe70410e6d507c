/* cmd/allow.c - `zkeep allow`: the zfs allow grants of a job. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/jobspec.h"
#include "base/log.h"
#include "base/parse.h"
#include "cli/root_receives.h"
#include "confine/grants.h"
#include "confine/prop_guard.h"
#include "confine/sandbox.h"
#include "replication/ssh.h"
#include "replication/ssh_connector.h"

#include <fcntl.h>
#include <poll.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <pwd.h>

const char cmd_allow_help[] =
	"usage: zkeep allow --print JOB\n"
	"       zkeep allow --apply --user USER JOB\n"
	"       zkeep allow --revoke JOB\n"
	"       zkeep allow --recover [--state-dir DIR]\n"
	"       zkeep allow --serve-receives --state-dir DIR JOB\n"
	"       zkeep allow --serve-connection --state-dir DIR JOB\n"
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
	"  --serve-receives  root's side of a unit's receives: a job with a local\n"
	"             target is granted no receive (a compromised run could receive\n"
	"             into any dataset through its own ioctl); its run asks root on\n"
	"             the job's receive socket instead (zkeep-receive-JOB.socket,\n"
	"             which systemd passes to this command, Accept=no). Only the uid\n"
	"             that holds the job's grants (--apply's) is served, one\n"
	"             connection, and only receives into the job's target, with its\n"
	"             options; a new target gets the run's grants once root's\n"
	"             receive made it. It ends when the run hangs up or is revoked.\n"
	"  --serve-connection  root's side of a unit's ssh connection: the run of an\n"
	"             ssh job has no network (PrivateNetwork=yes); it asks root on the\n"
	"             job's connect socket (zkeep-connect-JOB.socket, Accept=no), and\n"
	"             root connects to the job's host and port (ssh -G with the job's\n"
	"             ssh_port decides, as for ssh; a ProxyCommand or ProxyJump is\n"
	"             refused) and passes the connected socket to the uid that holds\n"
	"             the job's grants, once. The run asks for nothing: where it\n"
	"             connects is the configuration's alone.\n"
	"A grant on a pool that is not imported stays journalled (a warning says\n"
	"so) until a --revoke, --recover or run after the pool is back; --apply\n"
	"refuses while the job's last grants are pending.\n"
	"\n" JOBSPEC_HELP;

enum {
	MODE_NONE,
	MODE_PRINT,
	MODE_APPLY,
	MODE_REVOKE,
	MODE_RECOVER,
	MODE_SERVE_RECEIVES,
	MODE_SERVE_CONNECTION,
};

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

/*
 * The socket systemd passes (socket activation: LISTEN_PID, LISTEN_FDS, the
 * first at descriptor 3), which must be the job's receive socket: a
 * listening AF_UNIX SOCK_SEQPACKET one. -1 when there is none.
 */
static int listen_socket(void)
{
	unsigned pid, n;
	const char *p = getenv("LISTEN_PID"), *f = getenv("LISTEN_FDS");
	if (!p || !f || parse_uint_range(p, 1, INT_MAX, &pid) < 0 || pid != (unsigned)getpid() ||
	    parse_uint_range(f, 1, 1, &n) < 0)
		return -1;
	int type = 0, listening = 0;
	socklen_t tlen = sizeof(type), llen = sizeof(listening);
	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_SEQPACKET ||
	    getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) < 0 || !listening)
		return -1;
	fcntl(3, F_SETFD, FD_CLOEXEC);
	return 3;
}

/*
 * A --serve-* service's start: its job and state directory given, and the
 * listening socket systemd passed (the job's `kind` socket unit). The socket,
 * or -1 (said).
 */
static int service_socket(const struct jobspec *js, const char *option, const char *kind)
{
	if (!js->job_name || !js->state_dir) {
		log_error("%s needs --job NAME and --state-dir DIR (zkeep units writes both)",
			  option);
		return -1;
	}
	int lfd = listen_socket();
	if (lfd < 0)
		log_error("%s: no listening socket from systemd (LISTEN_FDS=1, an AF_UNIX "
			  "SOCK_SEQPACKET one: the job's %s socket unit)", option, kind);
	return lfd;
}

static void serve_receive(void *ctx, const char *request, int *fds, size_t nfds,
			  struct strbuf *reply)
{
	(void)reply; /* answered on the request's own socket, fds[0] */
	root_receives_serve(ctx, request, fds, nfds);
}

/* Whether the run is still on: its grants are not revoked (--revoke removes the journal). */
static bool run_still_on(void *ctx)
{
	struct root_receives *rr = ctx;
	struct stat st;
	if (fstat(rr->info->journal_fd, &st) == 0 && st.st_nlink > 0)
		return true;
	log_notice("the job's run is over (its grants are revoked): no more receives");
	return false;
}

/*
 * Which refusals are logged. Anyone may connect, and a line for each would
 * let a local user flood the journal until it drops this service's own
 * lines: the first refusal of each uid (of the first REFUSED_UIDS seen) and
 * for each kind of reason, then only the 2^k-th refusal. What was not
 * logged is counted and said once the run is served.
 */
#define REFUSED_UIDS 64
enum refusal_reason { REFUSED_PEER_UNKNOWN, REFUSED_NO_RUN, REFUSED_OTHER_UID, REFUSAL_REASONS };
struct refusals {
	unsigned long n, unlogged;
	uid_t uids[REFUSED_UIDS];
	size_t nuids;
	bool reason_seen[REFUSAL_REASONS];
};

static bool refusal_logged(struct refusals *rf, uid_t uid, enum refusal_reason reason)
{
	rf->n++;
	bool first_of_uid = true;
	for (size_t i = 0; i < rf->nuids; i++)
		first_of_uid &= rf->uids[i] != uid;
	if (first_of_uid && rf->nuids < REFUSED_UIDS)
		rf->uids[rf->nuids++] = uid;
	else
		first_of_uid = false;
	bool first_of_reason = !rf->reason_seen[reason];
	rf->reason_seen[reason] = true;
	if (first_of_uid || first_of_reason || (rf->n & (rf->n - 1)) == 0)
		return true;
	rf->unlogged++;
	return false;
}

/*
 * Accept on lfd until a connection comes from the uid that holds job's
 * grants now (the uid of its journal in state, which --apply made); refuse,
 * log (refusal_logged()) and close any other. The connection, with info's
 * uid and (journal) its journal open for appending; -1 when accepting fails,
 * -2 when no connection came for idle_ms (< 0: wait for ever).
 */
static int accept_run(int lfd, const char *state, const char *job, const char *what,
		      bool journal, int idle_ms, struct confine_info *info)
{
	struct refusals rf = { 0 };
	for (;;) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int n = poll(&p, 1, idle_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			log_notice("no connection for the %s of job %s's run in %d s: ending", what,
				   job, idle_ms / 1000);
			return -2;
		}
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
		struct ucred peer = { .uid = (uid_t)-1 };
		socklen_t plen = sizeof(peer);
		enum refusal_reason reason = REFUSED_PEER_UNKNOWN;
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			log_error("accept on %s's socket: %s", what, strerror(errno));
			return -1;
		}
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &peer, &plen) < 0) {
			strbuf_addf(&why, "a connection whose peer is unknown: %s", strerror(errno));
		} else if (grants_job_journal(state, job, &info->uid,
					      journal ? &info->journal_fd : NULL, &err) < 0) {
			reason = REFUSED_NO_RUN;
			strbuf_addf(&why, "the %s of uid %u (pid %d): %s", what, (unsigned)peer.uid,
				    (int)peer.pid, err.buf);
		} else if (peer.uid != info->uid) {
			reason = REFUSED_OTHER_UID;
			strbuf_addf(&why, "the %s of uid %u (pid %d): job %s's run is uid %u", what,
				    (unsigned)peer.uid, (int)peer.pid, job, (unsigned)info->uid);
			if (info->journal_fd >= 0)
				close(info->journal_fd);
			info->journal_fd = -1;
		}
		if (!why.len) {
			if (rf.unlogged)
				log_error("refused %lu connections before the run's, %lu of them "
					  "not logged", rf.n, rf.unlogged);
			log_notice("serving the %s of job %s's run (uid %u, pid %d)", what, job,
				   (unsigned)info->uid, (int)peer.pid);
			return c;
		}
		if (refusal_logged(&rf, peer.uid, reason))
			log_error("refused %s%s", why.buf,
				  rf.n > 4 ? " (one of many: from here on only new uids, new "
					     "reasons and the 2^k-th refusal are logged)"
					   : "");
		close(c);
	}
}

/*
 * --serve-receives: root's side of a job unit's receives. The unit's run
 * holds no receive grant and connects to the job's receive socket
 * (cmd/units.c; Accept=no, so root accepts here). Only a connection of the
 * uid that holds the job's grants now is served, one (accept_run()); the
 * job's configuration is read then, not before (anyone may start this).
 * Each zfs receive the run asks for is checked and run as for root's own
 * confined worker (cli/root_receives.h); a new target gets the run's
 * grants once root's receive made it, appended to its journal for
 * --revoke. It ends when the run hangs up or its grants are revoked, and
 * ends the receives still running then.
 */
static int allow_serve_receives(struct jobspec *js, struct runner *run)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int lfd = service_socket(js, "--serve-receives", "receive");
	if (lfd < 0)
		return EXIT_FATAL;
	struct confine_info info = CONFINE_INFO_INIT;
	info.privileged = info.unit_journal = true;
	_cleanup_fd_ int conn = accept_run(lfd, js->state_dir, js->job_name, "receives", true, -1,
					   &info);
	if (conn < 0)
		return EXIT_FATAL;
	_cleanup_fd_ int journal = info.journal_fd; /* closed with the rest on return */
	(void)journal;
	if (jobspec_finish(js) < 0)
		return EXIT_FATAL;
	const struct job *j = jobconf_find(&js->conf, js->job_name);
	if (!j || j->target_host) {
		log_error("--serve-receives: job %s receives on %s, not here", js->job_name,
			  j ? j->target_host : "no host (it is not a [job] of zkeep.conf)");
		return EXIT_FATAL;
	}
	/* the ZFS version the grants of a new target are computed for, as --apply's */
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	_cleanup_sandbox_plan_ struct sandbox_plan plan = SANDBOX_PLAN_INIT;
	if (confine_preview(&js->job, &set, &plan, &info.zfs_major, &info.zfs_minor, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	const struct deleg_need *need = NULL;
	for (size_t i = 0; i < js->job.nneeds; i++)
		if (js->job.needs[i].ops & DELEG_RECEIVE)
			need = &js->job.needs[i];
	const struct root_recv_policy policy = {
		.target = j->target, .recursive = j->recursive,
		.force = need && (need->ops & DELEG_RECV_FORCE),
		.props = js->props.n ? (const char *const *)js->props.v : NULL,
		.keep = js->keep.n ? (const char *const *)js->keep.v : NULL,
	};
	struct zfs z;
	zfs_init(&z, run);
	struct root_receives rr;
	root_receives_init(&rr, &z, &info);
	/* whether a receive may create the target (and grant it after) is asked per receive */
	root_receives_add(&rr, &policy, need);
	struct sandbox_requests rq = { .fd = conn, .fn = serve_receive,
				       .malformed = root_receives_malformed, .ctx = &rr };
	sandbox_requests_serve(&rq, run_still_on);
	root_receives_release(&rr); /* what still runs is killed: the run is over */
	zfs_release(&z);
	return EXIT_OK;
}

/*
 * Connect to job's ssh host for its run: the host, user and port of its
 * configuration, resolved by `ssh -G` as ssh would. The connected socket, or
 * -1 with why in err.
 */
static int connect_for_run(const struct job *j, struct strbuf *err)
{
	_cleanup_free_ char *arg = xasprintf("%s:%s", j->target_host, j->target);
	_cleanup_release_(endpoint) struct endpoint e = ENDPOINT_INIT;
	if (endpoint_parse(arg, NULL, &e, err) < 0 || !endpoint_is_remote(&e)) {
		if (!err->len)
			strbuf_addf(err, "job %s: %s is not a remote host", j->name, j->target_host);
		return -1;
	}
	_cleanup_free_ char *port = xasprintf("%u", j->ssh_port);
	const struct ssh_opts so = { .user = e.user, .host = e.host, .port = port };
	_cleanup_release_(ssh_destination) struct ssh_destination d = SSH_DESTINATION_INIT;
	if (ssh_destination_resolve(&so, &d, err) < 0)
		return -1;
	if (d.proxy) {
		strbuf_addf(err, "the ssh config of %s sets %s: a job unit's run has no network, "
			    "and root connects only directly", e.host, d.proxy);
		return -1;
	}
	int fd = -1;
	if (ssh_destination_connect(&d, &fd, err) < 0)
		return -1;
	log_notice("connected to %s port %u for job %s's ssh", d.hostname, d.port, j->name);
	return fd;
}

/*
 * How long a connector waits for its run: one started by another user's
 * connection does not linger (with an old configuration after an update).
 */
#define CONNECT_IDLE_MS (5 * 60 * 1000)

/*
 * --serve-connection: root's side of an ssh job unit's connection
 * (replication/ssh_connector.h). Only the uid that holds the job's grants
 * now is served, once (accept_run()); the job's configuration is read then
 * (anyone may start this), and root connects where it says, whatever the run
 * would like: the run sends nothing.
 */
static int allow_serve_connection(struct jobspec *js)
{
	int lfd = service_socket(js, "--serve-connection", "connect");
	if (lfd < 0)
		return EXIT_FATAL;
	/* the run's uid from its journal's name: this service writes nothing */
	struct confine_info info = CONFINE_INFO_INIT;
	_cleanup_fd_ int conn = accept_run(lfd, js->state_dir, js->job_name, "ssh connection",
					   false, CONNECT_IDLE_MS, &info);
	if (conn == -2)
		return EXIT_OK; /* started by someone else's connection: ends, as it came */
	if (conn < 0)
		return EXIT_FATAL;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_fd_ int fd = -1;
	const struct job *j = NULL;
	if (jobspec_finish(js) < 0)
		strbuf_addstr(&err, "the configuration cannot be read (root's journal says why)");
	else if (!(j = jobconf_find(&js->conf, js->job_name)) || !j->target_host)
		strbuf_addf(&err, "job %s has no ssh host", js->job_name);
	else
		fd = connect_for_run(j, &err);
	if (fd < 0)
		log_error("--serve-connection: %s", err.buf);
	int r = ssh_connector_answer(conn, fd, err.buf);
	if (r < 0)
		log_error("--serve-connection: cannot answer job %s's run: %s", js->job_name,
			  strerror(-r));
	return fd >= 0 && r == 0 ? EXIT_OK : EXIT_FATAL;
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
		{ "serve-receives", no_argument, NULL, 'S' },
		{ "serve-connection", no_argument, NULL, 'C' },
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
		case 'S': mode = MODE_SERVE_RECEIVES; break;
		case 'C': mode = MODE_SERVE_CONNECTION; break;
		case 'u': user = optarg; break;
		default: ok = ch >= 1000 && jobspec_option(&js, ch, optarg) == 0;
		}
	}
	if (ok && (mode == MODE_NONE || optind != argc)) {
		log_error("usage: zkeep allow --print|--apply|--revoke|--recover|--serve-receives"
			  "|--serve-connection ... (see --help)");
		ok = false;
	}
	if (ok && mode != MODE_PRINT && geteuid() != 0) {
		log_error("only root can change zfs allow grants");
		ok = false;
	}
	/* the services read the job once its run connected */
	if (ok && mode != MODE_RECOVER && mode != MODE_SERVE_RECEIVES &&
	    mode != MODE_SERVE_CONNECTION && jobspec_finish(&js) < 0)
		ok = false;
	if (ok) {
		struct runner *run = runner_local_new();
		switch (mode) {
		case MODE_PRINT: rc = allow_print(&js); break;
		case MODE_APPLY: rc = allow_apply(&js, user, run); break;
		case MODE_SERVE_RECEIVES: rc = allow_serve_receives(&js, run); break;
		case MODE_SERVE_CONNECTION: rc = allow_serve_connection(&js); break;
		default: rc = allow_revoke(&js, mode == MODE_RECOVER, run); break;
		}
		runner_free(run);
	}
	jobspec_release(&js);
	return rc;
}
