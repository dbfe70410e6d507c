/*
 * base/term.h - bytes for a terminal: control sequences escaped, and whether stderr is one.
 *
 * Bytes another party chose (the confined worker's stdout and stderr, a
 * remote zkeep serve's refusals, the stderr of ssh and of remote commands)
 * are printed through term_escape(): a terminal then shows them, it does not
 * obey them (no title or clipboard writes, no cursor games, no "type this"
 * sequences). This is the one place that decides which bytes pass.
 *
 * The supervisor relays its worker's output through pipes, so in the worker
 * isatty(2) is false even when the admin watches a terminal. term_stderr_tty()
 * and term_stderr_cols() answer for the caller's real stderr: the supervisor
 * calls term_stderr_pin() before it starts the worker, which inherits the
 * answers.
 */
#ifndef ZKEEP_TERM_H
#define ZKEEP_TERM_H

#include "base/strbuf.h"

enum term_escape_flags {
	/* zkeep's own progress drawing passes: '\r', "ESC[K" (erase line) and SGR
	 * colours ("ESC[" digits and ';' "m"). Used for the worker relay only. */
	TERM_KEEP_PROGRESS = 1 << 0,
	/* The input ends here: an incomplete sequence at its end is escaped, not
	 * left for the next call. */
	TERM_FINAL = 1 << 1,
	/* '\n' and '\t' are escaped too: for words from elsewhere quoted inside one line of
	 * root's log, where a line break would start a line that looks like zkeep's own. */
	TERM_ONE_LINE = 1 << 2,
};

/*
 * Append s[0..n) to out with every control character escaped as "\xNN":
 * C0 controls but '\n' and '\t' (unless TERM_ONE_LINE; '\r' too with TERM_KEEP_PROGRESS), DEL, C1
 * controls (U+0080..U+009F in UTF-8) and bytes that are not UTF-8. Returns
 * how many bytes of s were consumed: all of them with TERM_FINAL, else an
 * incomplete UTF-8 character or kept sequence at the end is left for the
 * caller to pass again with the bytes that follow.
 */
size_t term_escape(struct strbuf *out, const char *s, size_t n, unsigned flags);

/* A whole string, as term_escape(..., TERM_FINAL). */
void term_escape_str(struct strbuf *out, const char *s);

/* Is the caller's stderr a terminal (through the worker relay too)? */
bool term_stderr_tty(void);
/* Whether fds 1 and 2 are the same file (a terminal, a log with 2>&1): then
 * who writes for us may write both through one pipe, and their lines keep
 * their order. */
bool term_stdout_is_stderr(void);
/* Its width in columns, 0 when unknown. */
unsigned term_stderr_cols(void);
/* Decide both now, from the real stderr; a forked worker keeps the answers. */
void term_stderr_pin(void);

#endif
