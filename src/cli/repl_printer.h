/*
 * cli/repl_printer.h - showing a replication's events (replicate.h).
 */
#ifndef ZKEEP_CLI_REPL_PRINTER_H
#define ZKEEP_CLI_REPL_PRINTER_H

#include "base/log.h"
#include "cli/syncoid_lines.h"
#include "replication/replicate.h"

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
 *
 * In syncoid's log style (base/log.h) what syncoid 2.3.0 itself prints for an
 * event is printed in its words (cli/syncoid_lines.h: "INFO: Sending
 * incremental ..."); zkeep's other messages keep their level, its notices
 * and transfer lines being debug lines there.
 */
struct repl_printer {
	bool json;
	const char *step;     /* json: the "step" member, or NULL */
	const char *indent;   /* before transfer lines and info messages */
	enum log_level level; /* of the transfer lines (size, progress, totals) */
	bool bar;             /* progress as a bar (a terminal), not as lines */
	double line_interval; /* seconds between progress lines; 0 none */
	bool syncoid;         /* syncoid's words (set from the log style) */
	struct syncoid_run run; /* what they depend on; the caller fills it */
	/* state */
	double last_line;
	bool bar_drawn;
};

/* Defaults: bar when stderr is a terminal (and not quiet), lines every 10 s. */
void repl_printer_init(struct repl_printer *p, bool json, enum log_level level);
void repl_printer_event(struct repl_printer *p, const struct replicate_event *ev);
/* Whether anyone sees sizes or progress (JSON, a bar, or transfer lines shown):
 * when not, the engine skips its size estimates. */
bool repl_printer_watched(const struct repl_printer *p);
/* Finish a bar still on the screen (with a newline). */
void repl_printer_done(struct repl_printer *p);

#endif
