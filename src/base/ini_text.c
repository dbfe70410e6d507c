/* ini_text.c - see ini_text.h. */
#include "base/zkeep.h"
#include "base/ini_text.h"
#include "base/parse.h"
#include "base/strvec.h"

#include <ini.h>
#include <stdarg.h>

struct reader {
	const char *p, *end;
	const char *origin;
	unsigned line;
	ini_text_handler handler;
	void *user;
	struct strbuf *err;
	struct strvec sections;    /* by the index the reader gave inih */
	struct strvec long_values; /* values too long for inih's line buffer */
	bool failed;
};

PRINTF(2, 3) static void reader_fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	if (r->failed)
		return;
	r->failed = true;
	strbuf_addf(r->err, "%s:%u: ", r->origin, r->line);
	va_start(ap, fmt);
	strbuf_vaddf(r->err, fmt, ap);
	va_end(ap);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trimmed copy of [s, e). */
static char *trimmed(const char *s, const char *e)
{
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	return xstrndup(s, (size_t)(e - s));
}

/* An empty line for inih: nothing to parse (used after an error, too). */
static char *blank(char *str)
{
	str[0] = '\0';
	return str;
}

/* inih's reader callback: one line of the text into str (num bytes), rewritten so
 * that inih's limits never cut anything. */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	const char *s, *nl, *e;
	size_t len, room = (size_t)num - 2; /* leave space for "\n\0" */

	if (r->p >= r->end)
		return NULL;
	s = r->p;
	nl = memchr(s, '\n', (size_t)(r->end - s));
	e = nl ? nl : r->end;
	r->p = nl ? nl + 1 : r->end;
	r->line++;
	if (r->failed)
		return blank(str);
	if (memchr(s, '\0', (size_t)(e - s))) {
		reader_fail(r, "the file contains a NUL byte");
		return blank(str);
	}
	if (memchr(s, '\001', (size_t)(e - s))) {
		reader_fail(r, "the line contains a control character (\\001)");
		return blank(str);
	}
	if ((size_t)(e - s) > INI_TEXT_MAX_LINE) {
		reader_fail(r, "line longer than %d bytes", INI_TEXT_MAX_LINE);
		return blank(str);
	}
	while (s < e && is_space(*s))
		s++;
	len = (size_t)(e - s);

	if (len && *s == '[') {
		const char *close = memchr(s, ']', len);
		if (!close) {
			reader_fail(r, "section header without ']'");
			return blank(str);
		}
		for (const char *t = close + 1; t < e; t++) {
			if (!is_space(*t)) {
				reader_fail(r, "text after the section header");
				return blank(str);
			}
		}
		_cleanup_free_ char *name = trimmed(s + 1, close);
		if (!*name) {
			reader_fail(r, "empty section name");
			return blank(str);
		}
		if (!r->handler(r->user, name, NULL, NULL, r->line)) {
			r->failed = true;
			return blank(str);
		}
		strvec_push(&r->sections, name);
		snprintf(str, (size_t)num, "[%zu]\n", r->sections.n - 1);
		return str;
	}
	if (len <= room || *s == '#' || *s == ';') {
		if (len > room)
			len = room; /* a long comment: the rest does not matter */
		memcpy(str, s, len);
		str[len] = '\n';
		str[len + 1] = '\0';
		return str;
	}
	/* A long "key = value": keep the key, put the value aside. */
	const char *eq = memchr(s, '=', len);
	if (!eq || (size_t)(eq - s) > room / 2) {
		reader_fail(r, "expected 'key = value'");
		return blank(str);
	}
	_cleanup_free_ char *value = trimmed(eq + 1, e);
	strvec_push(&r->long_values, value);
	snprintf(str, (size_t)num, "%.*s= \001%zu\n", (int)(eq - s), s, r->long_values.n - 1);
	return str;
}

/* inih's handler callback: the real section name and value back in place. */
static int handle(void *user, const char *section, const char *key, const char *value)
{
	struct reader *r = user;
	uint64_t idx;

	if (r->failed || !key) /* !key: inih's own new-section call; the reader made it */
		return 1;
	if (!*section) {
		reader_fail(r, "'%s' is outside any [section]", key);
		return 1;
	}
	if (parse_u64(section, &idx) < 0 || idx >= r->sections.n) {
		reader_fail(r, "bad section header");
		return 1;
	}
	if (value[0] == '\001') {
		uint64_t v;
		if (parse_u64(value + 1, &v) < 0 || v >= r->long_values.n) {
			reader_fail(r, "bad value");
			return 1;
		}
		value = r->long_values.v[v];
	}
	if (!r->handler(r->user, r->sections.v[idx], key, value, r->line))
		r->failed = true;
	return 1;
}

bool ini_text_fail(struct strbuf *err, const char *origin, unsigned line, const char *section,
                   const char *key, const char *fmt, ...)
{
	va_list ap;
	strbuf_addf(err, "%s:%u: [%s]%s%s: ", origin, line, section, key ? " " : "",
	            key ? key : "");
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	return false;
}

int ini_text_parse(const char *text, size_t len, const char *origin, ini_text_handler handler,
                   void *user, struct strbuf *err)
{
	struct reader r = {.p = text,
	                   .end = text + len,
	                   .origin = origin,
	                   .handler = handler,
	                   .user = user,
	                   .err = err,
	                   .sections = STRVEC_INIT,
	                   .long_values = STRVEC_INIT};
	/* A UTF-8 byte order mark, which inih would skip too. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		r.p += 3;
	int rc = ini_parse_stream(read_line, &r, handle, &r);
	if (!r.failed && rc > 0) {
		r.line = (unsigned)rc;
		reader_fail(&r, "expected 'key = value', '[section]' or a comment");
	} else if (!r.failed && rc < 0) {
		reader_fail(&r, "cannot parse (inih error %d)", rc);
	}
	strvec_release(&r.sections);
	strvec_release(&r.long_values);
	return r.failed ? -EINVAL : 0;
}
