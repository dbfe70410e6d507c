/*
 * sanoid.c - zkeep run as `sanoid`: sanoid 2.3's command line over the
 * snapshot engine (snapshot_engine.h).
 *
 * Options are parsed as sanoid's Getopt::Long parses them
 * (cli/sanoid_cli.h). With nothing but --configdir, --cache-dir or --run-dir,
 * sanoid runs as --cron --verbose; any other option alone does nothing.
 * Output follows sanoid: --verbose lines on stdout, warnings on stderr,
 * monitor results as one Nagios line on stdout with exit status 0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 */
#include "base/zkeep.h"
#include "config.h"
#include "cli/commands.h"
#include "cli/confined.h"
#include "cli/sanoid_cli.h"
#include "cli/snapshots_confined.h"
#include "base/log.h"
#include "snapshots/sanoid_config.h"
#include "snapshots/schedule.h"
#include "snapshots/snapshot_engine.h"
#include "base/timeutil.h"

const char cmd_sanoid_help[] =
	"usage: sanoid [options]\n"
	"\n"
	"zkeep run as sanoid: takes and prunes ZFS snapshots by the policy in\n"
	"sanoid.conf, a drop-in for sanoid 2.3. Assumes --cron --verbose when no\n"
	"option but --configdir, --cache-dir and --run-dir is given; any other\n"
	"option alone (--verbose, --readonly, ...) does nothing.\n"
	"\n"
	"Options are parsed as sanoid's Perl Getopt::Long parses them: - or --,\n"
	"any case, unique abbreviations, anywhere on the line, -? for --help.\n"
	"zkeep's own --no-confine must be spelled in full.\n"
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
	"  --readonly            with an action: print what would be done, change nothing\n"
	"  --verbose             print what is done\n"
	"  --debug               print the effective policy and more detail\n"
	"  --quiet               print errors only\n"
	"\n"
	"  --monitor-snapshots   Nagios check: are the newest snapshots fresh\n"
	"  --monitor-health      Nagios check: zpool health\n"
	"  --monitor-capacity    Nagios check: zpool capacity\n"
	"\n"
	"  --no-confine          zkeep only: take and prune as this process, not as\n"
	"                        the confined worker (debugging only; warns on every\n"
	"                        run). Also ZKEEP_NO_CONFINE=1\n"
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

/*
 * sanoid's GetOptions(...) or pod2usage(2): Perl's messages, then the usage,
 * on stderr. -1 on a usage error, 1 when --help or --version was printed.
 */
static int parse_args(int argc, char **argv, struct sanoid_args *a)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int r = sanoid_args_parse(a, argc, argv, getenv("POSIXLY_CORRECT") != NULL, &err);

	fputs(err.buf, stderr);
	switch (a->parsed.action) {
	case PERL_GETOPT_HELP:
		fputs(cmd_sanoid_help, stdout);
		return 1;
	case PERL_GETOPT_VERSION:
		printf("sanoid version 2.3.0 (zkeep %s)\n", ZKEEP_VERSION);
		return 1;
	case PERL_GETOPT_RUN:
		break;
	}
	if (r < 0) {
		fputs("Usage: sanoid [options] (see sanoid --help)\n", stderr);
		return -1;
	}
	if (a->no_confine)
		confined_disable();
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
	_cleanup_release_(sanoid_args) struct sanoid_args a = { .parsed = PERL_GETOPT_RESULT_INIT };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT, line = STRBUF_INIT;
	struct engine_opts o = { 0 };
	struct engine e;
	bool monitor_only, any_monitor;
	int rc, status = EXIT_OK;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? EXIT_FATAL : EXIT_OK;
	monitor_only = !a.cron && !a.take && !a.prune && !a.force_update;
	any_monitor = a.mon_snapshots || a.mon_health || a.mon_capacity;
	if (a.cache_ttl < 0) {
		fprintf(stderr, "ERROR: cache-ttl needs to be positive!\n");
		return EXIT_FATAL;
	}
	if (!any_monitor && !a.cron && !a.take && !a.prune && !a.force_update && !a.debug) {
		/* Nothing to do (`sanoid --verbose`): sanoid only reads its config. */
		struct sanoid_config cfg = SANOID_CONFIG_INIT;
		rc = sanoid_config_load(&cfg, a.configdir, &err);
		if (rc < 0)
			fprintf(stderr, "FATAL: %s\n", err.buf);
		sanoid_config_release(&cfg);
		return rc < 0 ? EXIT_FATAL : EXIT_OK;
	}
	if (zkeep_now(&o.now) < 0) {
		fprintf(stderr, "sanoid: ZKEEP_NOW must be seconds since the epoch\n");
		return EXIT_FATAL;
	}
	o.name_time = zkeep_now_overridden();
	o.no_channel_programs = getenv("ZKEEP_NO_CHANNEL_PROGRAMS") != NULL;
	o.relist_chunk = engine_relist_chunk_env();
	o.config_dir = a.configdir;
	o.cache_dir = a.cache_dir;
	o.run_dir = a.run_dir;
	/* sanoid: 1200 s, or --cache-ttl when true (not 0); 18000 s when only monitoring */
	o.cache_ttl = a.cache_ttl ? a.cache_ttl : 1200;
	if (any_monitor && !a.cron && !a.force_update && !a.take && !a.prune && !a.cache_ttl)
		o.cache_ttl = 18000;
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
		if (!monitor_only || rc == -EINVAL)
			return EXIT_FATAL;
		/* A monitor that cannot look is UNKNOWN to Nagios, with a line to show
		 * (in the words sanoid's monitors use when their command fails). */
		if (any_monitor)
			printf("UNKNOWN 'zfs list' command returns no result! NOTE: This plugin needs OS "
			       "support for ZFS, and execution with root privileges.\n");
		return 3;
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

	if (!o.take && !o.prune) {
		engine_release(&e); /* --debug or --force-update alone: listed, nothing to change */
		return EXIT_OK;
	}
	/* Taking and pruning run in the confined worker (cli/snapshots_confined.h). */
	status = engine_run_confined(&e, sanoid_act, &a);
	engine_release(&e);
	return status;
}
