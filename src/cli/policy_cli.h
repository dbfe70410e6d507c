/*
 * cli/policy_cli.h - options shared by the native snapshot-policy commands
 * (zkeep snapshot, prune, status, metrics, config check): where the config,
 * cache and locks are, --dry-run, and opening the engine with them.
 */
#ifndef ZKEEP_CMD_POLICY_CLI_H
#define ZKEEP_CMD_POLICY_CLI_H

#include "base/zkeep.h"
#include "snapshots/snapshot_engine.h"

#include <getopt.h>

/* The options text every policy command's help includes. */
#define POLICY_CLI_OPTIONS_HELP \
	"  --config-dir DIR   directory of sanoid.conf (default /etc/sanoid)\n" \
	"  --cache-dir DIR    the snapshot cache shared with sanoid runs, kept up to date\n" \
	"                     (default /var/cache/sanoid)\n" \
	"  --cache-ttl SECS   ZFS 2.1 only: read the cache instead of listing when it is\n" \
	"                     younger than this (default 0: always list); on 2.2+ only\n" \
	"                     datasets whose snapshots_changed moved are listed again\n" \
	"  --run-dir DIR      lock files, shared with sanoid (default /var/run/sanoid)\n" \
	"  -v, --verbose      say what is done\n"
/* ... and for the commands that change something (changes = true below). */
#define POLICY_CLI_DRY_RUN_HELP \
	"  -n, --dry-run      change nothing; print what would be done (--readonly)\n"

struct policy_cli {
	const char *config_dir, *cache_dir, *run_dir;
	int64_t cache_ttl;
	bool dry_run, verbose, force_prune, json;
	bool results_only;      /* stdout is for results: --dry-run plans go to the log */
	const char *prometheus; /* status --prometheus FILE */
};

/*
 * Parse argv with the common options, --dry-run when the command `changes`
 * something, plus `extra` (may be NULL; their
 * getopt values are handled by `handle`, which returns 0 or -EINVAL).
 * Returns 0, or -EINVAL after printing a usage error.
 */
int policy_cli_parse(struct policy_cli *c, int argc, char **argv, bool changes,
		     const struct option *extra,
		     int (*handle)(struct policy_cli *c, int opt, const char *arg));

/* Open the engine for `take`/`prune`; logs and returns EXIT_FATAL on error. */
int policy_cli_open(const struct policy_cli *c, struct engine *e, bool take, bool prune);

/*
 * A native command's exit status after a run that ended with `status`: a
 * section that could not be applied (its dataset missing) makes an otherwise
 * good run EXIT_PARTIAL, so a script sees it (sanoid itself exits 0 then).
 */
int policy_cli_status(const struct engine *e, int status);

#endif
