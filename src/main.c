/*
 * main.c - dispatch on the program name and the subcommand.
 *
 * Installed as `zkeep`, the first argument names a subcommand from the table
 * below. Installed (symlinked) as `sanoid` or `syncoid`, zkeep is that
 * program, with its command line, as busybox dispatches on argv[0].
 */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/confined.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <libgen.h>

const struct command commands[] = {
	{ "help", cmd_help, "Show help for zkeep or one of its commands", cmd_help_help, false },
	{ "version", cmd_version, "Print zkeep's version", cmd_version_help, false },
	{ "allow", cmd_allow, "Show, grant or revoke a job's zfs allow permissions", cmd_allow_help, false },
	{ "confine", cmd_confine, "Show a job's sandbox, or run a program in it", cmd_confine_help, false },
	{ "units", cmd_units, "Write hardened systemd units for the configured jobs", cmd_units_help, false },
	{ "serve", cmd_serve, "Answer replication requests over ssh (a forced command)", cmd_serve_help, false },
	{ "replicate", cmd_replicate, "Replicate datasets to another pool or host (syncoid's engine)", cmd_replicate_help, false },
	{ "syncoid", cmd_syncoid, "syncoid 2.3's command line (run as `syncoid`)", cmd_syncoid_help, true },
	{ "drive", cmd_drive, "Back up to a removable drive: backup, status, units", cmd_drive_help, false },
	{ "verify", cmd_verify, "Check that a backup matches its source: snapshots, files, scrub", cmd_verify_help, false },
	{ "diff", cmd_diff, "What changed between two snapshots (zfs diff, readable)", cmd_diff_help, false },
	{ "restore", cmd_restore, "Get data back: list snapshots, restore a file or a whole dataset", cmd_restore_help, false },
	{ "snapshot", cmd_snapshot, "Take the snapshots sanoid.conf says are due", cmd_snapshot_help, false },
	{ "prune", cmd_prune, "Destroy snapshots expired by sanoid.conf's retention", cmd_prune_help, false },
	{ "status", cmd_status, "Show snapshots per dataset: newest, counts, due, prunable", cmd_status_help, false },
	{ "metrics", cmd_metrics, "Print snapshot policy metrics in Prometheus text format", cmd_metrics_help, false },
	{ "config", cmd_config, "Check sanoid.conf and print the effective policy (config check)", cmd_config_help, false },
	{ "sanoid", cmd_sanoid, "sanoid 2.3's command line (run as `sanoid`)", cmd_sanoid_help, true },
	{ NULL, NULL, NULL, NULL, false },
};

const struct command *command_find(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (streq(c->name, name))
			return c;
	return NULL;
}

void command_print_help(const struct command *cmd)
{
	fputs(cmd->help, stdout);
}

static const char *program_name(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	return slash ? slash + 1 : argv0;
}

/* Run a command with no arguments of its own (argv is {name, NULL}). */
static int run_bare(int (*fn)(int, char **), const char *name)
{
	char *argv[] = { (char *)name, NULL };
	return fn(1, argv);
}

int main(int argc, char **argv)
{
	const char *prog = argc > 0 ? program_name(argv[0]) : "zkeep";
	const struct command *cmd;

	/* The test clock (docs/environment.md); commands report a bad value. */
	zkeep_now_override(getenv("ZKEEP_NOW"));

	/* Drop-in personalities. */
	if (streq(prog, "sanoid") || streq(prog, "syncoid")) {
		cmd = command_find(prog);
		if (!cmd) {
			fprintf(stderr, "%s: this build of zkeep has no %s personality\n", prog, prog);
			return EXIT_FATAL;
		}
		log_set_program(prog);
		return cmd->fn(argc, argv);
	}

	log_set_program("zkeep");
	/* Global options before the command. */
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (streq(a, "--version") || streq(a, "-V"))
			return run_bare(cmd_version, "version");
		if (streq(a, "--help") || streq(a, "-h"))
			return run_bare(cmd_help, "help");
		if (streq(a, "--verbose") || streq(a, "-v"))
			log_set_level(LOG_LVL_INFO);
		else if (streq(a, "--debug"))
			log_set_level(LOG_LVL_DEBUG);
		else if (streq(a, "--no-confine"))
			confined_disable();
		else if (streq(a, "--quiet") || streq(a, "-q"))
			log_set_level(LOG_LVL_ERROR);
		else {
			log_error("unknown option '%s' (see 'zkeep help')", a);
			return EXIT_FATAL;
		}
	}
	if (i >= argc) {
		run_bare(cmd_help, "help");
		return EXIT_FATAL;
	}
	cmd = command_find(argv[i]);
	if (!cmd) {
		log_error("'%s' is not a zkeep command (see 'zkeep help')", argv[i]);
		return EXIT_FATAL;
	}
	/* `zkeep CMD --help` works for every command. */
	for (int j = i + 1; j < argc; j++) {
		if (streq(argv[j], "--"))
			break;
		if (streq(argv[j], "--help") || streq(argv[j], "-h")) {
			command_print_help(cmd);
			return EXIT_OK;
		}
	}
	return cmd->fn(argc - i, argv + i);
}
