/* log.c - see log.h. */
#include "base/log.h"
#include "base/term.h"

static const char *program = "zkeep";
static unsigned shown = (LOG_MASK(LOG_LVL_NOTICE) << 1) - 1; /* notice and more severe */
static int tty = -1;
static enum log_style style = LOG_STYLE_ZKEEP;

void log_set_program(const char *name) { program = name; }
void log_set_level(enum log_level l) { shown = (LOG_MASK(l) << 1) - 1; }
void log_set_mask(unsigned mask) { shown = mask; }
bool log_enabled(enum log_level l) { return (shown & LOG_MASK(l)) != 0; }

enum log_level log_get_level(void)
{
	enum log_level l = LOG_LVL_ERROR;
	for (enum log_level i = LOG_LVL_ERROR; i <= LOG_LVL_DEBUG; i++)
		if (shown & LOG_MASK(i))
			l = i;
	return l;
}
void log_set_tty(int t) { tty = t; }
void log_set_style(enum log_style s) { style = s; }
enum log_style log_get_style(void) { return style; }

static const char *const names[] = { "error", "warning", "notice", "info", "debug" };
static const char *const colours[] = { "\033[1;31m", "\033[1;33m", "", "", "\033[2m" };

/* syncoid's writelog(): its words for each level, and its stream. */
static void syncoid_line(enum log_level l, const char *text)
{
	static const char *const prefix[] = { "CRITICAL ERROR", "WARNING", "INFO", "DEBUG", "DEBUG" };
	FILE *f = l <= LOG_LVL_WARNING ? stderr : stdout;
	flockfile(f);
	fprintf(f, "%s: %s\n", prefix[l], text);
	fflush(f);
	funlockfile(f);
}

static void vmsg(enum log_level l, const char *fmt, va_list ap) PRINTF(2, 0);
static void vmsg(enum log_level l, const char *fmt, va_list ap)
{
	if (!log_enabled(l))
		return;
	/* Messages quote what other hosts, streams and the worker said: a terminal
	 * shows their control characters, it does not obey them. */
	_cleanup_strbuf_ struct strbuf raw = STRBUF_INIT, text = STRBUF_INIT;
	strbuf_vaddf(&raw, fmt, ap);
	term_escape_str(&text, raw.buf);
	if (style == LOG_STYLE_SYNCOID) {
		syncoid_line(l, text.buf);
		return;
	}
	if (tty < 0)
		tty = term_stderr_tty() && !streq(getenv("TERM"), "dumb") && !getenv("NO_COLOR");
	/* One fprintf per line part; stderr is unbuffered, so flockfile keeps
	 * the line whole when several threads log. */
	flockfile(stderr);
	if (tty) {
		if (l == LOG_LVL_ERROR || l == LOG_LVL_WARNING)
			fprintf(stderr, "%s%s:\033[0m ", colours[l], names[l]);
		else if (l == LOG_LVL_DEBUG)
			fputs(colours[l], stderr);
		fputs(text.buf, stderr);
		if (l == LOG_LVL_DEBUG)
			fputs("\033[0m", stderr);
	} else {
		fprintf(stderr, "%s: %s: ", program, names[l]);
		fputs(text.buf, stderr);
	}
	fputc('\n', stderr);
	funlockfile(stderr);
}

void log_vmsg(enum log_level l, const char *fmt, va_list ap)
{
	/* syncoid says INFO only about what it does: zkeep's notices are details */
	if (style == LOG_STYLE_SYNCOID && l == LOG_LVL_NOTICE)
		l = LOG_LVL_DEBUG;
	vmsg(l, fmt, ap);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(l, fmt, ap);
	va_end(ap);
}

void log_tool(enum log_level l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(l, fmt, ap);
	va_end(ap);
}

void die_with(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(code);
}
