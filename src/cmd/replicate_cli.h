/*
 * cmd/replicate_cli.h - what `syncoid` and `zkeep replicate` share: turn
 * parsed options into endpoints, backends and an engine run (replicate.h),
 * and report its events as log lines, a progress display or JSON.
 */
#ifndef ZKEEP_CMD_REPLICATE_CLI_H
#define ZKEEP_CMD_REPLICATE_CLI_H

#include "replicate.h"
#include "strvec.h"

struct repl_cli {
	const char *source_arg, *target_arg; /* [[user@]host:]dataset */
	bool syncoid;                 /* syncoid's defaults and wording */
	bool recursive, skip_parent, no_sync_snap, keep_sync_snap, create_bookmark, use_hold;
	bool no_stream, no_resume, no_rollback, rollback, force_delete, delete_target_snapshots;
	bool no_clone_handling, preserve_properties, preserve_recordsize, dry_run, json, dumpsnaps;
	bool no_privilege_elevation;
	bool serve;                   /* remote side is `zkeep serve --stdio` (forced command) */
	struct strvec exclude_datasets, include_snaps, exclude_snaps, ssh_options;
	const char *identifier, *sendoptions, *recvoptions, *compress;
	const char *mbuffer_size, *source_bwlimit, *target_bwlimit;
	const char *sshkey, *sshport, *sshcipher, *sshconfig;
};

void repl_cli_init(struct repl_cli *c);
void repl_cli_release(struct repl_cli *c);
/*
 * Parse argv (syncoid's options when c->syncoid, else zkeep replicate's)
 * into c. 0 to run, 1 when --help/--version was printed, -1 on a usage
 * error (reported).
 */
int repl_cli_parse(struct repl_cli *c, int argc, char **argv, const char *help);
/* Run; returns the exit status (EXIT_OK, EXIT_PARTIAL, EXIT_FATAL). */
int repl_cli_execute(struct repl_cli *c);

#endif
