/* base/term.c - see term.h. */
#include "base/zkeep.h"
#include "base/term.h"

#include <sys/ioctl.h>
#include <sys/stat.h>

#define MAX_KEPT_SEQ 32 /* "ESC[" + parameters: longer is not a colour but a trick */

static void hex(struct strbuf *out, unsigned char c)
{
	strbuf_addf(out, "\\x%02x", c);
}

/*
 * Length of a kept sequence at s (ESC [ [0-9;]* (m|K)), 0 if it is not one,
 * -1 if s ends before it can tell.
 */
static ssize_t kept_seq(const unsigned char *s, size_t n)
{
	if (n < 2)
		return -1;
	if (s[1] != '[')
		return 0;
	for (size_t i = 2; i < n && i < MAX_KEPT_SEQ; i++) {
		if (s[i] == 'm' || s[i] == 'K')
			return (ssize_t)i + 1;
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == ';'))
			return 0;
	}
	return n < MAX_KEPT_SEQ ? -1 : 0;
}

/* Length of a UTF-8 character at s that is no C1 control, 0 if none, -1 if cut short. */
static ssize_t utf8_char(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f, min = 0xa0; /* U+0080..U+009F: C1 controls */
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (i >= n)
			return -1;
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return (ssize_t)len;
}

size_t term_escape(struct strbuf *out, const char *str, size_t n, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)str;
	bool progress = flags & TERM_KEEP_PROGRESS, final = flags & TERM_FINAL;
	bool lines = !(flags & TERM_ONE_LINE);
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x7f) {
			size_t j = i;
			while (j < n && s[j] >= 0x20 && s[j] < 0x7f)
				j++;
			strbuf_add(out, str + i, j - i);
			i = j;
			continue;
		}
		ssize_t len = 0;
		if (((c == '\n' || c == '\t') && lines) || (c == '\r' && progress))
			len = 1;
		else if (c == 0x1b && progress)
			len = kept_seq(s + i, n - i);
		else if (c >= 0x80)
			len = utf8_char(s + i, n - i);
		if (len < 0 && !final)
			break; /* the rest comes with the next bytes */
		if (len > 0) {
			strbuf_add(out, str + i, (size_t)len);
			i += (size_t)len;
		} else {
			hex(out, c);
			i++;
		}
	}
	return i;
}

void term_escape_str(struct strbuf *out, const char *s)
{
	term_escape(out, s, strlen(s), TERM_FINAL);
}

static int stderr_tty = -1;
static unsigned stderr_cols;

void term_stderr_pin(void)
{
	if (stderr_tty >= 0)
		return;
	stderr_tty = isatty(STDERR_FILENO);
	struct winsize ws;
	if (stderr_tty && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0)
		stderr_cols = ws.ws_col;
}

bool term_stderr_tty(void)
{
	term_stderr_pin();
	return stderr_tty;
}

unsigned term_stderr_cols(void)
{
	term_stderr_pin();
	return stderr_cols;
}

bool term_stdout_is_stderr(void)
{
	struct stat a, b;
	if (fstat(STDOUT_FILENO, &a) < 0 || fstat(STDERR_FILENO, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}
