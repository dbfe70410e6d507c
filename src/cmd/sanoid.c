/*
 * sanoid.c - zkeep run as `sanoid`: sanoid 2.3's command line over the
 * snapshot engine (snapshot_engine.h).
 *
 * Options are parsed like Perl's Getopt::Long defaults: long options with
 * one or two dashes, unique abbreviations, "--opt=value" or "--opt value"
 * (glibc's getopt_long_only). With no action, sanoid runs as --cron
 * --verbose. Output follows sanoid: --verbose lines on stdout, warnings on
 * stderr, monitor results as one Nagios line on stdout with exit status
 * 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 */
#include "base/zkeep.h"
#include "config.h"
#include "cli/commands.h"
#include "cli/confined.h"
#include "cli/snapshots_confined.h"
#include "base/log.h"
#include "base/parse.h"
#include "snapshots/schedule.h"
#include "snapshots/snapshot_engine.h"
#include "base/timeutil.h"

#include <getopt.h>

const char cmd_sanoid_help[] =
	"usage: sanoid [options]\n"
	"\n"
	"zkeep run as sanoid: takes and prunes ZFS snapshots by the policy in\n"
	"sanoid.conf, a drop-in for sanoid 2.3. Assumes --cron --verbose if no\n"
	"action is given. Options may start with - or --, and may be abbreviated.\n"
	"\n"
	"  --configdir=DIR       directory of sanoid.conf (default /etc/sanoid); a\n"
	"                        sanoid.defaults.conf there replaces the built-in one\n"
	"  --cache-dir=DIR       where the snapshot list cache snapshots.txt lives\n"
	"                        (default /var/cache/sanoid)\n"
	"  --run-dir=DIR         where the lock files live (default /var/run/sanoid)\n"
	"  --cache-ttl=SECONDS   use the cache when younger than this (default 1200;\n"
	"                        18000 for runs that only monitor)\n"
	"\n"
	"  --cron                take snapshots, then prune expired ones\n"
	"  --take-snapshots      take the snapshots that are due\n"
	"  --prune-snapshots     destroy expired snapshots\n"
	"  --force-prune         prune even while zfs send/receive runs on a dataset\n"
	"  --force-update        refresh the snapshot cache from zfs list now\n"
	"  --readonly            print what would be done, change nothing\n"
	"  --verbose             print what is done\n"
	"  --debug               print the effective policy and more detail\n"
	"  --quiet               print errors only\n"
	"\n"
	"  --monitor-snapshots   Nagios check: are the newest snapshots fresh\n"
	"  --monitor-health      Nagios check: zpool health\n"
	"  --monitor-capacity    Nagios check: zpool capacity\n"
	"\n"
	"  --no-confine          take and prune as this process, not as the confined\n"
	"                        worker (debugging only; warns on every run). Also\n"
	"                        ZKEEP_NO_CONFINE=1\n"
	"\n"
	"  --help                print this text\n"
	"  --version             print the version\n"
	"\n"
	"Run as root, taking and pruning happen in zkeep's confined worker: a\n"
	"transient uid granted only snapshot (and destroy,mount to prune) on the\n"
	"configured datasets, revoked after the run (see docs/security.md). A\n"
	"sanoid.conf with pre/post snapshot or pruning scripts runs unconfined,\n"
	"with a warning: sanoid runs those scripts as root.\n"
	"\n"
	"The test hook ZKEEP_NOW=SECONDS sets the run's clock (and makes snapshot\n"
	"times come from their names); it is for tests, not for production.\n";

enum {
	OPT_VERBOSE = 256, OPT_DEBUG, OPT_CRON, OPT_READONLY, OPT_QUIET, OPT_CONFIGDIR,
	OPT_CACHE_DIR, OPT_RUN_DIR, OPT_MONITOR_HEALTH, OPT_FORCE_UPDATE, OPT_MONITOR_SNAPSHOTS,
	OPT_TAKE, OPT_PRUNE, OPT_FORCE_PRUNE, OPT_MONITOR_CAPACITY, OPT_CACHE_TTL, OPT_HELP,
	OPT_VERSION, OPT_NO_CONFINE,
};

static const struct option sanoid_options[] = {
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "cron", no_argument, NULL, OPT_CRON },
	{ "readonly", no_argument, NULL, OPT_READONLY },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "configdir", required_argument, NULL, OPT_CONFIGDIR },
	{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
	{ "run-dir", required_argument, NULL, OPT_RUN_DIR },
	{ "monitor-health", no_argument, NULL, OPT_MONITOR_HEALTH },
	{ "force-update", no_argument, NULL, OPT_FORCE_UPDATE },
	{ "monitor-snapshots", no_argument, NULL, OPT_MONITOR_SNAPSHOTS },
	{ "take-snapshots", no_argument, NULL, OPT_TAKE },
	{ "prune-snapshots", no_argument, NULL, OPT_PRUNE },
	{ "force-prune", no_argument, NULL, OPT_FORCE_PRUNE },
	{ "monitor-capacity", no_argument, NULL, OPT_MONITOR_CAPACITY },
	{ "cache-ttl", required_argument, NULL, OPT_CACHE_TTL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "no-confine", no_argument, NULL, OPT_NO_CONFINE },
	{ NULL, 0, NULL, 0 },
};

struct sanoid_args {
	bool verbose, debug, cron, readonly, quiet, force_update, force_prune;
	bool take, prune, mon_snapshots, mon_health, mon_capacity;
	const char *configdir, *cache_dir, *run_dir;
	int64_t cache_ttl; /* -1: default */
};

static void sanoid_event(void *ctx, enum engine_level level, const char *msg)
{
	const struct sanoid_args *a = ctx;
	switch (level) {
	case ENG_ERROR:
	case ENG_WARN:
		fflush(stdout);
		fprintf(stderr, "%s\n", msg);
		break;
	case ENG_INFO:
		if (a->verbose)
			printf("%s\n", msg);
		break;
	case ENG_DEBUG:
		if (a->debug)
			printf("%s\n", msg);
		break;
	}
}

static void print_policies(const struct engine *e)
{
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		struct engine_summary s;
		engine_summarize(e, p, &s);
		printf("Filesystem %s has:\n     %zu total snapshots (section [%s])\n", p->path, s.total, p->section);
		for (int t = 0; t < SNAP_NTYPES; t++) {
			if (!s.count[t] && !p->count[t])
				continue;
			printf("          %zu %s\n              desired: %u\n", s.count[t], snap_type_names[t], p->count[t]);
			if (s.newest[t] != SCHEDULE_NONE)
				printf("              newest: %.1f hours old, named %s\n",
				       (double)((int64_t)e->o.now - s.newest[t]) / 3600.0, s.newest_name[t]);
		}
		printf("\n\n");
	}
}

static int parse_args(int argc, char **argv, struct sanoid_args *a)
{
	int c, actions = 0;
	uint64_t ttl;

	opterr = 1;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "", sanoid_options, NULL)) != -1) {
		switch (c) {
		case OPT_VERBOSE: a->verbose = true; break;
		case OPT_DEBUG: a->debug = true; break;
		case OPT_CRON: a->cron = true; actions++; break;
		case OPT_READONLY: a->readonly = true; break;
		case OPT_QUIET: a->quiet = true; break;
		case OPT_CONFIGDIR: a->configdir = optarg; break;
		case OPT_CACHE_DIR: a->cache_dir = optarg; break;
		case OPT_RUN_DIR: a->run_dir = optarg; break;
		case OPT_MONITOR_HEALTH: a->mon_health = true; actions++; break;
		case OPT_FORCE_UPDATE: a->force_update = true; actions++; break;
		case OPT_MONITOR_SNAPSHOTS: a->mon_snapshots = true; actions++; break;
		case OPT_TAKE: a->take = true; actions++; break;
		case OPT_PRUNE: a->prune = true; actions++; break;
		case OPT_FORCE_PRUNE: a->force_prune = true; break;
		case OPT_MONITOR_CAPACITY: a->mon_capacity = true; actions++; break;
		case OPT_CACHE_TTL:
			if (parse_u64(optarg, &ttl) < 0 || ttl > INT32_MAX) {
				fprintf(stderr, "sanoid: --cache-ttl wants a number of seconds, not '%s'\n", optarg);
				return -EINVAL;
			}
			a->cache_ttl = (int64_t)ttl;
			break;
		case OPT_HELP:
			fputs(cmd_sanoid_help, stdout);
			exit(EXIT_OK);
		case OPT_NO_CONFINE: confined_disable(); break;
		case OPT_VERSION:
			printf("sanoid version 2.3.0 (zkeep %s)\n", ZKEEP_VERSION);
			exit(EXIT_OK);
		default:
			fputs("Usage: sanoid [options] (see sanoid --help)\n", stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sanoid: unexpected argument '%s' (see sanoid --help)\n", argv[optind]);
		return -EINVAL;
	}
	/* No action: --cron --verbose, as sanoid does. */
	if (!actions) {
		a->cron = true;
		a->verbose = true;
	}
	if (a->debug)
		a->verbose = true;
	if (a->cron && a->quiet)
		a->verbose = false;
	return 0;
}

/* What changes ZFS: run as the confined worker. */
static int sanoid_act(struct engine *e, void *ctx)
{
	const struct sanoid_args *a = ctx;
	unsigned failures = 0;
	if (e->o.take)
		failures += engine_take(e);
	if (e->o.prune)
		failures += engine_prune(e);
	if (a->debug)
		printf("DEBUG: %u zfs/zpool processes spawned\n", e->run ? e->run->spawned : 0);
	return failures ? EXIT_PARTIAL : EXIT_OK;
}

int cmd_sanoid(int argc, char **argv)
{
	struct sanoid_args a = { .configdir = "/etc/sanoid", .cache_dir = "/var/cache/sanoid",
				 .run_dir = "/var/run/sanoid", .cache_ttl = -1 };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT, line = STRBUF_INIT;
	struct engine_opts o = { 0 };
	struct engine e;
	bool monitor_only;
	int rc, status = EXIT_OK;

	if (parse_args(argc, argv, &a) < 0)
		return EXIT_FATAL;
	monitor_only = !a.cron && !a.take && !a.prune && !a.force_update;
	if (zkeep_now(&o.now) < 0) {
		fprintf(stderr, "sanoid: ZKEEP_NOW must be seconds since the epoch\n");
		return EXIT_FATAL;
	}
	o.name_time = zkeep_now_overridden();
	o.no_channel_programs = getenv("ZKEEP_NO_CHANNEL_PROGRAMS") != NULL;
	o.config_dir = a.configdir;
	o.cache_dir = a.cache_dir;
	o.run_dir = a.run_dir;
	o.cache_ttl = a.cache_ttl >= 0 ? a.cache_ttl : monitor_only ? 18000 : 1200;
	o.force_update = a.force_update;
	o.readonly = a.readonly;
	o.force_prune = a.force_prune;
	o.take = a.cron || a.take;
	o.prune = a.cron || a.prune;
	o.event = sanoid_event;
	o.event_ctx = &a;

	rc = engine_open(&e, &o, &err);
	if (rc < 0) {
		fflush(stdout);
		fprintf(stderr, "FATAL: %s\n", err.buf);
		engine_release(&e);
		/* a monitor that cannot look is UNKNOWN to Nagios */
		return monitor_only && rc != -EINVAL ? 3 : EXIT_FATAL;
	}
	if (a.debug)
		print_policies(&e);

	if (a.mon_snapshots || a.mon_health || a.mon_capacity) {
		if (a.mon_snapshots)
			status = engine_monitor_snapshots(&e, &line);
		else if (a.mon_health)
			status = engine_monitor_health(&e, &line);
		else
			status = engine_monitor_capacity(&e, &line);
		printf("%s\n", line.buf);
		engine_release(&e);
		return status;
	}

	/* Taking and pruning run in the confined worker (cli/snapshots_confined.h). */
	status = engine_run_confined(&e, sanoid_act, &a);
	engine_release(&e);
	return status;
}
