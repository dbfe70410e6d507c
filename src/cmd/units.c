/* cmd/units.c - `zkeep units --output DIR`: hardened systemd units for the jobs. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "drive/drive_units.h"
#include "confine/jobconf.h"
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
	"  zkeep-recover.service            at boot: revoke grants of runs a crash cut\n"
	"  zkeep-drive-NAME.service         each [drive NAME]: `zkeep drive backup NAME`,\n"
	"  90-zkeep-drive-NAME.rules        started by this udev rule when the drive's\n"
	"                                   pool is plugged in (install it in\n"
	"                                   /etc/udev/rules.d)\n"
	"Each job and the snapshots run as a DynamicUser with systemd's sandboxing\n"
	"as a second layer around zkeep's own (no_new_privs, Landlock, seccomp).\n"
	"ExecStartPre=+ grants the job's minimal `zfs allow` set to that user\n"
	"(journalled first), and ExecStopPost=+ revokes it, also after a failure or\n"
	"kill -9. The drive services run as root (they import and export pools).\n"
	"Check a unit with `systemd-analyze security --offline=true UNIT`.\n";

/*
 * The hardening every unit gets, whoever it runs as. Not set, and why:
 *   PrivateUsers=   ZFS 2.2+ shows no dataset to another user namespace;
 *   PrivateDevices= /dev/zfs is needed (DeviceAllow= limits to it instead);
 *   RootDirectory=  zkeep's own worker sandbox does the chroot part.
 */
static const char hardening_common[] =
	"NoNewPrivileges=yes\n"
	"UMask=0077\n"
	"DevicePolicy=closed\n"
	"DeviceAllow=/dev/zfs rw\n"
	"PrivateTmp=yes\n"
	"PrivateMounts=yes\n"
	"PrivateIPC=yes\n"
	"ProtectSystem=strict\n"
	"ProtectHome=yes\n"
	"ProtectKernelTunables=yes\n"
	"ProtectKernelModules=yes\n"
	"ProtectKernelLogs=yes\n"
	"ProtectControlGroups=yes\n"
	"ProtectClock=yes\n"
	"ProtectHostname=yes\n"
	"ProtectProc=invisible\n"
	"ProcSubset=pid\n"
	"RestrictNamespaces=yes\n"
	"RestrictRealtime=yes\n"
	"RestrictSUIDSGID=yes\n"
	"LockPersonality=yes\n"
	"MemoryDenyWriteExecute=yes\n"
	"RemoveIPC=yes\n"
	"KeyringMode=private\n"
	"SystemCallArchitectures=native\n"
	"SystemCallFilter=@system-service\n"
	"SystemCallFilter=~@aio @chown @keyring @memlock @privileged @resources @setuid\n"
	"SystemCallErrorNumber=EPERM\n";

/* The jobs: a DynamicUser without any capability. */
static const char hardening_user[] =
	"DynamicUser=yes\n"
	"CapabilityBoundingSet=\n"
	"AmbientCapabilities=\n";

/* Network: none for local jobs; for ssh jobs, inet sockets (Landlock limits the port). */
static const char net_local[] =
	"PrivateNetwork=yes\n"
	"RestrictAddressFamilies=AF_UNIX\n"
	"IPAddressDeny=any\n";
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

/* A path or name for a unit line: no whitespace, quotes, '%' or '$'. */
static bool unit_word_ok(const char *s)
{
	return *s && !strpbrk(s, " \t\n\"'\\%$;");
}

/* For each [drive NAME]: its udev rule and service (drive_units.h). */
static int write_drive_units(const char *out, const char *text, const char *config,
			     const char *zkeep)
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
		if (drive_units_render(d, zkeep, config, &rule, &unit, &err) < 0) {
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

int cmd_units(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' },
		{ "configdir", required_argument, NULL, 'd' },
		{ "zkeep", required_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *config = "/etc/zkeep/zkeep.conf", *sanoid_dir = "/etc/sanoid";
	const char *zkeep = "/usr/bin/zkeep";
	int ch;
	while ((ch = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'c': config = optarg; break;
		case 'd': sanoid_dir = optarg; break;
		case 'z': zkeep = optarg; break;
		default: return EXIT_FATAL;
		}
	}
	if (!out || optind != argc) {
		log_error("usage: zkeep units --output DIR [--config FILE]");
		return EXIT_FATAL;
	}
	if (config[0] != '/' || sanoid_dir[0] != '/' || zkeep[0] != '/' ||
	    !unit_word_ok(config) || !unit_word_ok(sanoid_dir) || !unit_word_ok(zkeep)) {
		log_error("--config, --configdir and --zkeep must be absolute paths without "
			  "spaces, quotes, '%%' or '$' (they go into unit files)");
		return EXIT_FATAL;
	}
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	strbuf_init(&text, 1 << 20);
	int r = strbuf_read_file(&text, config);
	if (r < 0) {
		log_error("cannot read %s: %s", config, strerror(-r));
		return EXIT_FATAL;
	}
	struct jobconf conf;
	if (jobconf_parse(text.buf, config, &conf, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	if (mkdir(out, 0755) < 0 && errno != EEXIST) {
		log_error("cannot create %s: %s", out, strerror(errno));
		jobconf_release(&conf);
		return EXIT_FATAL;
	}
	int rc = EXIT_OK;
	const char *state = conf.state_dir;
	_cleanup_free_ char *common = xasprintf("--config %s --state-dir %s", config, state);

	/* Snapshots: sanoid --cron, with grants on every sanoid.conf dataset. */
	_cleanup_free_ char *snap_svc = xasprintf(
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
		"%s%s%s",
		zkeep, sanoid_dir, common, zkeep, sanoid_dir, zkeep, sanoid_dir, common,
		hardening_user, hardening_common, net_local);
	_cleanup_free_ char *snap_timer = xasprintf(
		"[Unit]\nDescription=zkeep: snapshots on schedule\n\n"
		"[Timer]\nOnCalendar=%s\nPersistent=yes\nAccuracySec=1s\n\n"
		"[Install]\nWantedBy=timers.target\n", conf.snapshot_schedule);
	_cleanup_free_ char *recover = xasprintf(
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
		"%s%s"
		"\n[Install]\nWantedBy=multi-user.target\n", zkeep, state, state, hardening_common,
		net_local);
	if (write_unit(out, "zkeep-snapshots.service", snap_svc) < 0 ||
	    write_unit(out, "zkeep-snapshots.timer", snap_timer) < 0 ||
	    write_unit(out, "zkeep-recover.service", recover) < 0)
		rc = EXIT_FATAL;

	for (size_t i = 0; rc == EXIT_OK && i < conf.njobs; i++) {
		const struct job *j = &conf.jobs[i];
		if (!unit_word_ok(j->source) || !unit_word_ok(j->target)) {
			log_error("[job %s]: dataset names with spaces cannot go into a unit yet",
				  j->name);
			rc = EXIT_FATAL;
			break;
		}
		_cleanup_free_ char *allow = j->target_host ? ip_allow_line(j) : xstrdup("");
		if (!allow) {
			log_error("[job %s]: cannot resolve the address of %s for IPAddressAllow=; "
				  "set ip_allow in the job", j->name, j->target_host);
			rc = EXIT_FATAL;
			break;
		}
		_cleanup_free_ char *target = j->target_host
			? xasprintf("%s:%s", j->target_host, j->target) : xstrdup(j->target);
		_cleanup_free_ char *svc = xasprintf(
			"[Unit]\n"
			"Description=zkeep: replication job %s (%s -> %s)\n"
			"After=zfs.target network-online.target zkeep-recover.service\n"
			"Wants=network-online.target zkeep-recover.service\n"
			"\n[Service]\n"
			"Type=oneshot\n"
			"User=zkeep-job-%s\n"
			"ExecStartPre=+%s allow --apply --user zkeep-job-%s --job %s %s\n"
			/* Linux cannot delegate mounting: receive with -u. */
			"ExecStart=%s replicate --recvoptions=u%s%s%s %s %s\n"
			"ExecStopPost=+%s allow --revoke --job %s %s\n"
			/* The worker's own directory; the grant journals stay root's. */
			"StateDirectory=zkeep-work/job-%s\n"
			"Environment=ZKEEP_STATE_DIR=/var/lib/zkeep-work/job-%s\n"
			"%s%s%s%s",
			j->name, j->source, target, j->name, zkeep, j->name, j->name, common, zkeep,
			j->recursive ? " --recursive" : "", j->raw ? " --sendoptions=w" : "",
			j->force ? " --rollback" : "",
			j->source, target, zkeep, j->name, common, j->name, j->name, hardening_user,
			hardening_common, j->target_host ? net_ssh : net_local, allow);
		_cleanup_free_ char *timer = xasprintf(
			"[Unit]\nDescription=zkeep: replication job %s on schedule\n\n"
			"[Timer]\nOnCalendar=%s\nRandomizedDelaySec=%llu\nPersistent=yes\n\n"
			"[Install]\nWantedBy=timers.target\n",
			j->name, j->schedule, (unsigned long long)j->randomized_delay);
		_cleanup_free_ char *sname = xasprintf("zkeep-job-%s.service", j->name);
		_cleanup_free_ char *tname = xasprintf("zkeep-job-%s.timer", j->name);
		if (write_unit(out, sname, svc) < 0 || write_unit(out, tname, timer) < 0)
			rc = EXIT_FATAL;
	}
	jobconf_release(&conf);
	if (rc == EXIT_OK)
		rc = write_drive_units(out, text.buf, config, zkeep);
	return rc;
}
