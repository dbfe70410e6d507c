/*
 * base/log.h - messages for the user, by level.
 *
 * Only the command layer (src/cmd/, main.c) logs; library modules return
 * errors with a message (see zfs.h) and leave the wording to their caller.
 *
 * Levels, most to least severe: error, warning, notice (the default), info
 * (--verbose), debug (--debug). --quiet shows errors only. Everything goes to
 * stderr, so stdout stays clean for results (JSON, lists, monitor lines),
 * except in syncoid's style (log_set_style, below).
 *
 * On a terminal, messages are "error: ..." with colour; otherwise every line
 * has a plain prefix ("zkeep: error: ...") so logs from cron and systemd can
 * be grepped. Control characters in a message (quoted stderr of zfs, ssh or
 * a remote zkeep, names from a stream) are escaped (base/term.h).
 */
#ifndef ZKEEP_LOG_H
#define ZKEEP_LOG_H

#include "base/zkeep.h"

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARNING,
	LOG_LVL_NOTICE,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Name used in prefixes: "zkeep", "sanoid" or "syncoid". */
void log_set_program(const char *name);
/* Show `level` and everything more severe. */
void log_set_level(enum log_level level);
/*
 * Show exactly the levels in `mask` (LOG_MASK(l) | ...): syncoid's --debug
 * with --quiet shows errors and debug lines but no warnings or info.
 */
#define LOG_MASK(l) (1u << (l))
void log_set_mask(unsigned mask);
/* The least severe level shown. */
enum log_level log_get_level(void);
bool log_enabled(enum log_level l);
/* Force the tty/colour decision (tests); -1 = decide from isatty(2). */
void log_set_tty(int tty);

/*
 * How lines look. LOG_STYLE_ZKEEP is the above. LOG_STYLE_SYNCOID is syncoid
 * 2.3.0's writelog(), which scripts grep: errors "CRITICAL ERROR: ..." and
 * warnings "WARNING: ..." on stderr, "INFO: ..." and "DEBUG: ..." on stdout,
 * never colour. syncoid's INFO lines (shown unless --quiet) are only those
 * it prints itself, logged with log_tool(LOG_LVL_NOTICE, ...); zkeep's own
 * notices, info and debug lines are "DEBUG: ..." and shown only with --debug
 * (syncoid has no --verbose). stdout is flushed after each line, so a
 * confined worker's lines are neither lost nor held back behind its exit.
 */
enum log_style {
	LOG_STYLE_ZKEEP,
	LOG_STYLE_SYNCOID,
};
void log_set_style(enum log_style style);
enum log_style log_get_style(void);

void log_msg(enum log_level level, const char *fmt, ...) PRINTF(2, 3);
/* A line in the words of the tool zkeep stands in for (syncoid's INFO is
 * log_tool(LOG_LVL_NOTICE, ...)): a notice is not demoted to debug. */
void log_tool(enum log_level level, const char *fmt, ...) PRINTF(2, 3);
void log_vmsg(enum log_level level, const char *fmt, va_list ap) PRINTF(2, 0);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Log an error and exit with `code`. */
NORETURN void die_with(int code, const char *fmt, ...) PRINTF(2, 3);

#endif
