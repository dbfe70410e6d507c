/* cmd/units.c - `zkeep units --output DIR`: hardened systemd units for the jobs. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "drive/drive_units.h"
#include "confine/jobconf.h"
#include "confine/unit_hardening.h"
#include "replication/ssh_connector.h"
#include "base/atomic_file.h"
#include "base/log.h"

#include <fcntl.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <sys/stat.h>

const char cmd_units_help[] =
	"usage: zkeep units --output DIR [--config FILE] [--configdir DIR] [--zkeep PATH]\n"
	"\n"
	"Write systemd units for zkeep.conf (default /etc/zkeep/zkeep.conf) into DIR:\n"
	"  zkeep-snapshots.service/.timer   sanoid --cron on [zkeep] snapshot_schedule\n"
	"  zkeep-job-NAME.service/.timer    each [job NAME], on its own schedule with\n"
	"                                   its RandomizedDelaySec\n"
	"  zkeep-receive-NAME.socket/.service\n"
	"                                   a job with a local target: root runs\n"
	"                                   its receives (zkeep allow --serve-receives);\n"
	"                                   the job's user holds no receive grant\n"
	"  zkeep-recover.service            at boot: revoke grants of runs a crash cut\n"
	"  zkeep-drive-NAME.service         each [drive NAME]: `zkeep drive backup NAME`,\n"
	"  90-zkeep-drive-NAME.rules        started by this udev rule when the drive's\n"
	"                                   pool is plugged in (install it in\n"
	"                                   /etc/udev/rules.d)\n"
	"Each job and the snapshots run as a DynamicUser with systemd's sandboxing\n"
	"as a second layer around zkeep's own (no_new_privs, Landlock, seccomp).\n"
	"ExecStartPre=+ grants the job's minimal `zfs allow` set to that user\n"
	"(journalled first), and ExecStopPost=+ revokes it, also after a failure or\n"
	"kill -9. An ssh job's ssh_key and ssh_known_hosts reach its run as\n"
	"credentials (LoadCredential=: copied for the run, readable by its user alone).\n"
	"Every job's run has no network (PrivateNetwork=yes): an ssh job's gets its\n"
	"one TCP connection from root's zkeep-connect-NAME service, which connects to\n"
	"the job's host and port and passes the socket to the run's uid alone; a job\n"
	"with a local target has its receives run by root's zkeep-receive-NAME service.\n"
	"The drive services run as root (they import and export pools).\n"
	"Check a unit with `systemd-analyze security --offline=true UNIT`.\n";

/* The jobs: a DynamicUser without any capability. */
static const char hardening_user[] =
	"DynamicUser=yes\n"
	"CapabilityBoundingSet=\n"
	"AmbientCapabilities=\n";

/* Network for root's ssh connector of a job (write_connect_units()): TCP to its host. */
static const char net_ssh[] =
	"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"
	"IPAddressDeny=any\n";

/* IPAddressAllow= for an ssh job: ip_allow, else the host's addresses now. */
static char *ip_allow_line(const struct job *j)
{
	if (j->ip_allow)
		return xasprintf("IPAddressAllow=%s\n", j->ip_allow);
	const char *at = strrchr(j->target_host, '@');
	_cleanup_free_ char *host = xstrdup(at ? at + 1 : j->target_host);
	size_t len = strlen(host);
	if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
		memmove(host, host + 1, len - 2);
		host[len - 2] = '\0';
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "IPAddressAllow=");
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		char buf[INET6_ADDRSTRLEN];
		const void *src = a->ai_family == AF_INET
			? (const void *)&((struct sockaddr_in *)(void *)a->ai_addr)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)(void *)a->ai_addr)->sin6_addr;
		if (inet_ntop(a->ai_family, src, buf, sizeof(buf)) && !strstr(sb.buf, buf))
			strbuf_addf(&sb, "%s ", buf);
	}
	freeaddrinfo(res);
	strbuf_rtrim(&sb);
	strbuf_addch(&sb, '\n');
	return strbuf_detach(&sb);
}

static int write_unit(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	int r = write_file_atomic(path, text, strlen(text), 0644);
	if (r < 0) {
		log_error("cannot write %s: %s", path, strerror(-r));
		return -1;
	}
	printf("%s\n", path);
	return 0;
}

/* For each [drive NAME]: its udev rule and service (drive_units.h). */
static int write_drive_units(const char *out, const char *text, const char *config,
			     const char *zkeep, const char *state)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct driveconf dc = DRIVECONF_INIT;
	if (driveconf_parse(text, config, &dc, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	int rc = EXIT_OK;
	for (size_t i = 0; rc == EXIT_OK && i < dc.n; i++) {
		const struct drive *d = &dc.drives[i];
		_cleanup_strbuf_ struct strbuf rule = STRBUF_INIT, unit = STRBUF_INIT;
		if (drive_units_render(d, zkeep, config, state, &rule, &unit, &err) < 0) {
			log_error("[drive %s]: %s", d->name, err.buf);
			rc = EXIT_FATAL;
			break;
		}
		_cleanup_free_ char *rname = drive_rule_name(d);
		_cleanup_free_ char *uname = drive_unit_name(d);
		if (write_unit(out, rname, rule.buf) < 0 || write_unit(out, uname, unit.buf) < 0)
			rc = EXIT_FATAL;
	}
	driveconf_release(&dc);
	return rc;
}

struct units_opts {
	const char *out, *config, *sanoid_dir, *zkeep;
	const char *state;      /* zkeep.conf's state_dir */
	const char *common;     /* "--config FILE --state-dir DIR" of every zkeep allow */
	const char *hardening;  /* unit_hardening(UNIT_ZFS) */
};

static int units_parse_options(int argc, char **argv, struct units_opts *o)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' },
		{ "configdir", required_argument, NULL, 'd' },
		{ "zkeep", required_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': o->out = optarg; break;
		case 'c': o->config = optarg; break;
		case 'd': o->sanoid_dir = optarg; break;
		case 'z': o->zkeep = optarg; break;
		default: return -EINVAL;
		}
	}
	if (!o->out || optind != argc) {
		log_error("usage: zkeep units --output DIR [--config FILE]");
		return -EINVAL;
	}
	if (!unit_path_ok(o->config) || !unit_path_ok(o->sanoid_dir) || !unit_path_ok(o->zkeep)) {
		log_error("--config, --configdir and --zkeep must be absolute paths without "
			  "spaces, quotes, '%%' or '$' (they go into unit files)");
		return -EINVAL;
	}
	return 0;
}

/* Snapshots: sanoid --cron, with grants on every sanoid.conf dataset; on its schedule. */
static int write_snapshot_units(const struct units_opts *o, const struct jobconf *conf)
{
	_cleanup_free_ char *svc = xasprintf(
		"[Unit]\n"
		"Description=zkeep: take and prune snapshots (sanoid --cron)\n"
		"Documentation=man:zkeep(8)\n"
		"After=zfs.target zkeep-recover.service\n"
		"Wants=zkeep-recover.service\n"
		"\n[Service]\n"
		"Type=oneshot\n"
		"User=zkeep-snapshots\n"
		"Environment=TZ=:/etc/localtime\n"
		"ExecStartPre=+%s allow --apply --user zkeep-snapshots --job snapshots "
		"--configdir %s %s\n"
		"ExecStart=%s sanoid --cron --configdir %s --cache-dir /var/cache/zkeep-snapshots "
		"--run-dir /run/zkeep-snapshots\n"
		"CacheDirectory=zkeep-snapshots\n"
		"RuntimeDirectory=zkeep-snapshots\n"
		"ExecStopPost=+%s allow --revoke --job snapshots --configdir %s %s\n"
		/* The worker's own directory (zkeep confines sanoid --cron itself too). */
		"StateDirectory=zkeep-work/snapshots\n"
		"Environment=ZKEEP_STATE_DIR=/var/lib/zkeep-work/snapshots\n"
		"%s%s" UNIT_NET_LOCAL,
		o->zkeep, o->sanoid_dir, o->common, o->zkeep, o->sanoid_dir, o->zkeep,
		o->sanoid_dir, o->common, hardening_user, o->hardening);
	_cleanup_free_ char *timer = xasprintf(
		"[Unit]\nDescription=zkeep: snapshots on schedule\n\n"
		"[Timer]\nOnCalendar=%s\nPersistent=yes\nAccuracySec=1s\n\n"
		"[Install]\nWantedBy=timers.target\n", conf->snapshot_schedule);
	if (write_unit(o->out, "zkeep-snapshots.service", svc) < 0 ||
	    write_unit(o->out, "zkeep-snapshots.timer", timer) < 0)
		return -EIO;
	return 0;
}

/* At boot: revoke the grants of runs a crash cut short. */
static int write_recover_unit(const struct units_opts *o)
{
	_cleanup_free_ char *svc = xasprintf(
		"[Unit]\n"
		"Description=zkeep: revoke zfs allow grants of runs a crash cut short\n"
		"After=zfs.target\n"
		"Before=timers.target\n"
		"\n[Service]\n"
		"Type=oneshot\n"
		"RemainAfterExit=yes\n"
		"ExecStart=%s allow --recover --state-dir %s\n"
		/* Root, for zfs unallow (CAP_SYS_ADMIN in ZFS's policy), and nothing else. */
		"CapabilityBoundingSet=CAP_SYS_ADMIN\n"
		"ReadWritePaths=-%s\n"
		"%s" UNIT_NET_LOCAL
		"\n[Install]\nWantedBy=multi-user.target\n", o->zkeep, o->state, o->state,
		o->hardening);
	return write_unit(o->out, "zkeep-recover.service", svc) < 0 ? -EIO : 0;
}

/*
 * An ssh job's key and known_hosts, handed over as systemd hands secrets to a
 * DynamicUser: LoadCredential= copies each file (root's, 0600 is fine) into the
 * run's own credentials directory, readable by that user alone and gone when
 * the run ends; ExecStart names them there (%d). Lines and arguments, or "".
 */
static void ssh_credentials(const struct job *j, char **lines, char **args)
{
	_cleanup_strbuf_ struct strbuf l = STRBUF_INIT, a = STRBUF_INIT;
	if (j->target_host && j->ssh_key) {
		strbuf_addf(&l, "LoadCredential=ssh-key:%s\n", j->ssh_key);
		strbuf_addstr(&a, " --sshkey=%d/ssh-key");
	}
	if (j->target_host && j->ssh_known_hosts) {
		strbuf_addf(&l, "LoadCredential=ssh-known-hosts:%s\n", j->ssh_known_hosts);
		strbuf_addstr(&a, " --sshoption=UserKnownHostsFile=%d/ssh-known-hosts"
				  " --sshoption=StrictHostKeyChecking=yes");
	}
	*lines = strbuf_detach(&l);
	*args = strbuf_detach(&a);
}

/*
 * The socket of one of root's services for a job's run: anyone may connect,
 * and any connection starts the service (Accept=no: one root process), which
 * serves only the uid that holds the job's grants; FlushPending= drops what
 * waited meanwhile, so no connection outlives the service that refused or
 * served its run.
 */
static char *service_socket_unit(const char *what, const struct job *j, const char *path)
{
	return xasprintf("[Unit]\n"
			 "Description=zkeep: %s for replication job %s\n"
			 "Documentation=man:zkeep(8)\n"
			 "\n[Socket]\n"
			 "ListenSequentialPacket=%s\n"
			 "SocketMode=0666\n"
			 "DirectoryMode=0755\n"
			 "RemoveOnStop=yes\n"
			 "Accept=no\n"
			 "FlushPending=yes\n", what, j->name, path);
}

/* Where a job's run asks root for its receives (ZKEEP_ROOT_RECEIVES). */
static char *receive_socket_path(const struct job *j)
{
	return xasprintf("/run/zkeep/receive/job-%s.sock", j->name);
}

/*
 * A job with a local target: its run (a DynamicUser) holds no receive
 * grant, since a delegated receive reaches any dataset through the ioctl
 * (zfs/root_receive.h); root's service on this socket runs its receives
 * (`zkeep allow --serve-receives`; service_socket_unit()), one connection,
 * and ends when that run hangs up or is revoked. Named zkeep-receive-NAME
 * (and zkeep-connect-NAME): no job's own unit name can be one of them.
 */
static int write_receive_units(const struct units_opts *o, const struct job *j)
{
	_cleanup_free_ char *path = receive_socket_path(j);
	_cleanup_free_ char *sock = service_socket_unit("root's receives", j, path);
	_cleanup_free_ char *svc = xasprintf(
		"[Unit]\n"
		"Description=zkeep: root runs the receives of replication job %s\n"
		"Documentation=man:zkeep(8)\n"
		"After=zfs.target\n"
		"Requires=zkeep-receive-%s.socket\n"
		/* stopped when the job's unit is stopped (it ends by itself after a run) */
		"PartOf=zkeep-job-%s.service\n"
		"\n[Service]\n"
		"Type=simple\n"
		"ExecStart=%s allow --serve-receives --job %s %s\n"
		/* Root, for zfs receive (CAP_SYS_ADMIN in ZFS's policy), and nothing else;
		 * the job's grant journal, for a new target's grants. */
		"CapabilityBoundingSet=CAP_SYS_ADMIN\n"
		"ReadWritePaths=-%s\n"
		"%s" UNIT_NET_LOCAL, j->name, j->name, j->name, o->zkeep, j->name, o->common,
		o->state, o->hardening);
	_cleanup_free_ char *sname = xasprintf("zkeep-receive-%s.socket", j->name);
	_cleanup_free_ char *vname = xasprintf("zkeep-receive-%s.service", j->name);
	if (write_unit(o->out, sname, sock) < 0 || write_unit(o->out, vname, svc) < 0)
		return -EIO;
	return 0;
}

/* Where an ssh job's run gets its connection (replication/ssh_connector.h). */
static char *connect_socket_path(const struct job *j)
{
	return xasprintf("/run/zkeep/connect/job-%s.sock", j->name);
}

/*
 * An ssh job: its run has no network (PrivateNetwork=yes, as a local job's);
 * root's service on this socket connects to the job's host and port and
 * passes the socket to the run's uid alone, once (`zkeep allow
 * --serve-connection`). Root without any capability, with the network the
 * job's unit had before: TCP to the host's addresses only. As the receive
 * service: Accept=no, FlushPending=; ends by itself once it answered, or
 * after 5 minutes without its run's connection.
 */
static int write_connect_units(const struct units_opts *o, const struct job *j,
			       const char *allow)
{
	_cleanup_free_ char *path = connect_socket_path(j);
	_cleanup_strbuf_ struct strbuf hardening = STRBUF_INIT;
	unit_hardening(UNIT_CONNECT, &hardening);
	_cleanup_free_ char *sock = service_socket_unit("root's ssh connection", j, path);
	_cleanup_free_ char *svc = xasprintf(
		"[Unit]\n"
		"Description=zkeep: root connects replication job %s to %s\n"
		"Documentation=man:zkeep(8)\n"
		"After=network-online.target\n"
		"Wants=network-online.target\n"
		"Requires=zkeep-connect-%s.socket\n"
		"PartOf=zkeep-job-%s.service\n"
		"\n[Service]\n"
		"Type=simple\n"
		"ExecStart=%s allow --serve-connection --job %s %s\n"
		/* it reads the run's uid off its grant journal's name, and writes nothing */
		"CapabilityBoundingSet=\n"
		"AmbientCapabilities=\n"
		"%s%s%s", j->name, j->target_host, j->name, j->name, o->zkeep, j->name, o->common,
		hardening.buf, net_ssh, allow);
	_cleanup_free_ char *sname = xasprintf("zkeep-connect-%s.socket", j->name);
	_cleanup_free_ char *vname = xasprintf("zkeep-connect-%s.service", j->name);
	if (write_unit(o->out, sname, sock) < 0 || write_unit(o->out, vname, svc) < 0)
		return -EIO;
	return 0;
}

/* A [job NAME]: its service (grants around a confined zkeep replicate) and timer. */
static int write_job_units(const struct units_opts *o, const struct job *j)
{
	if (!unit_word_ok(j->source) || !unit_word_ok(j->target)) {
		log_error("[job %s]: dataset names with spaces cannot go into a unit yet", j->name);
		return -EINVAL;
	}
	_cleanup_free_ char *allow = j->target_host ? ip_allow_line(j) : xstrdup("");
	if (!allow) {
		log_error("[job %s]: cannot resolve the address of %s for IPAddressAllow=; "
			  "set ip_allow in the job", j->name, j->target_host);
		return -EINVAL;
	}
	_cleanup_free_ char *target = j->target_host
		? xasprintf("%s:%s", j->target_host, j->target) : xstrdup(j->target);
	/* The run whose grants ExecStartPre=+ makes: jobconf_repl_facts() says both. */
	struct repl_facts f;
	jobconf_repl_facts(j, false, false, &f);
	/* ssh_port is where the job's ssh connects (and all Landlock lets it reach). */
	_cleanup_free_ char *port = j->target_host && j->ssh_port != 22
		? xasprintf(" --sshport=%u%s", j->ssh_port, j->serve ? " --serve" : "")
		: xstrdup(j->serve ? " --serve" : "");
	_cleanup_free_ char *cred_lines = NULL, *cred_args = NULL;
	ssh_credentials(j, &cred_lines, &cred_args);
	/* one argument: quoted when receive_set/receive_inherit added words (their
	 * characters are checked: no quote, '%', '$' or backslash, jobconf.c) */
	_cleanup_free_ char *recvopt = strchr(f.recvoptions, ' ')
		? xasprintf("\"--recvoptions=%s\"", f.recvoptions)
		: xasprintf("--recvoptions=%s", f.recvoptions);
	/* a local target: root's receive service (write_receive_units()) */
	_cleanup_free_ char *sock = j->target_host ? NULL : receive_socket_path(j);
	/* an ssh target: root's connector (write_connect_units()) */
	_cleanup_free_ char *csock = j->target_host ? connect_socket_path(j) : NULL;
	_cleanup_free_ char *recv_deps = xasprintf(
		"Requires=zkeep-%s-%s.socket\n"
		"After=zkeep-%s-%s.socket\n", sock ? "receive" : "connect", j->name,
		sock ? "receive" : "connect", j->name);
	_cleanup_free_ char *recv_env = sock
		? xasprintf("Environment=ZKEEP_ROOT_RECEIVES=%s\n", sock)
		: xasprintf("Environment=" SSH_CONNECTOR_ENV "=%s\n", csock);
	if (j->target_host && !j->ssh_key)
		log_warning("[job %s]: no ssh_key: its unit runs as a DynamicUser, which has "
			    "no key of its own to log in to %s with", j->name, j->target_host);
	_cleanup_free_ char *svc = xasprintf(
		"[Unit]\n"
		"Description=zkeep: replication job %s (%s -> %s)\n"
		"After=zfs.target network-online.target zkeep-recover.service\n"
		"Wants=network-online.target zkeep-recover.service\n"
		"%s"
		"\n[Service]\n"
		"Type=oneshot\n"
		"User=zkeep-job-%s\n"
		"ExecStartPre=+%s allow --apply --user zkeep-job-%s --job %s %s\n"
		"%s"
		"ExecStart=%s replicate %s%s%s%s%s%s%s %s %s\n"
		"ExecStopPost=+%s allow --revoke --job %s %s\n"
		/* The worker's own directory; the grant journals stay root's. */
		"StateDirectory=zkeep-work/job-%s\n"
		"Environment=ZKEEP_STATE_DIR=/var/lib/zkeep-work/job-%s\n"
		"%s%s%s" UNIT_NET_LOCAL,
		j->name, j->source, target, recv_deps, j->name, o->zkeep, j->name, j->name,
		o->common,
		cred_lines, o->zkeep, recvopt, f.recursive ? " --recursive" : "",
		f.sendoptions ? " --sendoptions=" : "", f.sendoptions ? f.sendoptions : "",
		f.rollback ? " --rollback" : "", port, cred_args, j->source, target, o->zkeep, j->name, o->common,
		j->name, j->name, recv_env, hardening_user, o->hardening);
	_cleanup_free_ char *timer = xasprintf(
		"[Unit]\nDescription=zkeep: replication job %s on schedule\n\n"
		"[Timer]\nOnCalendar=%s\nRandomizedDelaySec=%llu\nPersistent=yes\n\n"
		"[Install]\nWantedBy=timers.target\n",
		j->name, j->schedule, (unsigned long long)j->randomized_delay);
	_cleanup_free_ char *sname = xasprintf("zkeep-job-%s.service", j->name);
	_cleanup_free_ char *tname = xasprintf("zkeep-job-%s.timer", j->name);
	if (write_unit(o->out, sname, svc) < 0 || write_unit(o->out, tname, timer) < 0)
		return -EIO;
	return sock ? write_receive_units(o, j) : write_connect_units(o, j, allow);
}

int cmd_units(int argc, char **argv)
{
	struct units_opts o = { .config = "/etc/zkeep/zkeep.conf", .sanoid_dir = "/etc/sanoid",
				.zkeep = "/usr/bin/zkeep" };
	if (units_parse_options(argc, argv, &o) < 0)
		return EXIT_FATAL;
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	strbuf_init(&text, 1 << 20);
	int r = strbuf_read_file(&text, o.config);
	if (r < 0) {
		log_error("cannot read %s: %s", o.config, strerror(-r));
		return EXIT_FATAL;
	}
	_cleanup_release_(jobconf) struct jobconf conf = JOBCONF_INIT;
	if (jobconf_parse(text.buf, o.config, &conf, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	if (mkdir(o.out, 0755) < 0 && errno != EEXIST) {
		log_error("cannot create %s: %s", o.out, strerror(errno));
		return EXIT_FATAL;
	}
	o.state = conf.state_dir;
	_cleanup_free_ char *common = xasprintf("--config %s --state-dir %s", o.config, o.state);
	_cleanup_strbuf_ struct strbuf hardening = STRBUF_INIT;
	unit_hardening(UNIT_ZFS, &hardening);
	o.common = common;
	o.hardening = hardening.buf;
	if (write_snapshot_units(&o, &conf) < 0 || write_recover_unit(&o) < 0)
		return EXIT_FATAL;
	for (size_t i = 0; i < conf.njobs; i++)
		if (write_job_units(&o, &conf.jobs[i]) < 0)
			return EXIT_FATAL;
	return write_drive_units(o.out, text.buf, o.config, o.zkeep, o.state);
}
