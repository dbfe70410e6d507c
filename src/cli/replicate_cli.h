/*
 * cmd/replicate_cli.h - what `syncoid` and `zkeep replicate` share: turn
 * parsed options into endpoints, backends and an engine run (replicate.h),
 * and report its events as log lines, a progress display or JSON.
 */
#ifndef ZKEEP_CMD_REPLICATE_CLI_H
#define ZKEEP_CMD_REPLICATE_CLI_H

#include "base/log.h"
#include "replication/replicate.h"
#include "base/strvec.h"

struct repl_cli {
	const char *source_arg, *target_arg; /* [[user@]host:]dataset */
	bool syncoid;                 /* syncoid's defaults and wording */
	bool recursive, skip_parent, no_sync_snap, keep_sync_snap, create_bookmark, use_hold;
	bool no_stream, no_resume, no_rollback, rollback, force_delete, delete_target_snapshots;
	bool no_clone_handling, preserve_properties, preserve_recordsize, dry_run, json, dumpsnaps;
	bool no_privilege_elevation;
	bool serve;                   /* remote side is `zkeep serve --stdio` (forced command) */
	const char *relay_path;       /* --serve: the zkeep that relays frames to ssh, as an
				       * absolute path (the confined worker's copy); NULL =
				       * /proc/self/exe */
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
/*
 * What the commands call: refuse a busy target (exit 1, as syncoid: another
 * replication into it holds its lock in the run dir, or a local zfs receive
 * into it is running), hold the target's lock, then run (confined when
 * possible, see cmd/confined.h).
 */
int repl_cli_run(struct repl_cli *c);

/*
 * Showing a replication's events; shared by `syncoid`, `zkeep replicate` and
 * `zkeep drive backup`.
 *
 * With json, every event is one JSON object on a line of stdout ("event":
 * info, warning, error, plan, send, progress, sent, debug - the last only
 * with --debug), plus "step" when step is set (drive backup). Otherwise
 * messages are logged (stderr) and a transfer shows: its estimated size when
 * it starts, its progress, and its totals when done, at log level `level`.
 * Progress is a bar redrawn in place with '\r' when stderr is a terminal
 * (and errors-only was not asked for), else a log line every line_interval
 * seconds (ZKEEP_PROGRESS_INTERVAL overrides it; 0 turns the lines off).
 * Before any other message a drawn bar is wiped, so lines never mix with it.
 */
struct repl_printer {
	bool json;
	const char *step;     /* json: the "step" member, or NULL */
	const char *indent;   /* before transfer lines and info messages */
	enum log_level level; /* of the transfer lines (size, progress, totals) */
	bool bar;             /* progress as a bar (a terminal), not as lines */
	double line_interval; /* seconds between progress lines; 0 none */
	/* state */
	double last_line;
	bool bar_drawn;
};

/* Defaults: bar when stderr is a terminal (and not quiet), lines every 10 s. */
void repl_printer_init(struct repl_printer *p, bool json, enum log_level level);
void repl_printer_event(struct repl_printer *p, const struct replicate_event *ev);
/* Finish a bar still on the screen (with a newline). */
void repl_printer_done(struct repl_printer *p);

#endif
