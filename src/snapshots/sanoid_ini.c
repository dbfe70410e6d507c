/* sanoid_ini.c - see sanoid_ini.h. Each rule names the Config::IniFiles code it follows. */
#include "base/zkeep.h"
#include "snapshots/sanoid_ini.h"

#include <stdarg.h>

struct ini_reader {
	const char *p, *end;   /* what is left of the text */
	char sep[3];           /* the line separator, from the first line */
	const char *origin;
	unsigned line;         /* number of the line last read */
	struct sanoid_ini *ini;
	struct sanoid_ini_section *cur; /* NULL before the first header */
	struct strbuf *err;
};

PRINTF(3, 4) static int reader_fail(struct ini_reader *r, unsigned line, const char *fmt, ...)
{
	va_list ap;
	strbuf_addf(r->err, "%s:%u: ", r->origin, line);
	va_start(ap, fmt);
	strbuf_vaddf(r->err, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * _nextline: the first line ends at the first \r, \n or \x15 (\r\n counts as one);
 * that is $/ for every later line, read as Perl's <FH> reads. No line end at all in
 * the file: not even one line.
 */
static bool next_raw_line(struct ini_reader *r, const char **s, const char **e)
{
	if (r->p >= r->end)
		return false;
	if (!r->sep[0]) {
		const char *t = r->p;
		while (t < r->end && *t != '\r' && *t != '\n' && *t != '\x15')
			t++;
		if (t == r->end)
			return false;
		r->sep[0] = *t;
		*s = r->p;
		*e = t + 1;
		r->p = t + 1;
		if (*t == '\r' && r->p < r->end && *r->p == '\n') {
			r->sep[1] = '\n';
			r->p++; /* read, and not part of the line (the peek in _nextline) */
		}
		return true;
	}
	size_t seplen = strlen(r->sep);
	const char *t = memmem(r->p, (size_t)(r->end - r->p), r->sep, seplen);
	*s = r->p;
	*e = t ? t + seplen : r->end;
	r->p = *e;
	return true;
}

/* _read_next_line: one line, without one trailing \r\n, \r, \n or \x15. */
static bool next_line(struct ini_reader *r, const char **s, const char **e)
{
	if (!next_raw_line(r, s, e))
		return false;
	r->line++;
	if (*e - *s >= 2 && (*e)[-2] == '\r' && (*e)[-1] == '\n')
		*e -= 2;
	else if (*e > *s && ((*e)[-1] == '\r' || (*e)[-1] == '\n' || (*e)[-1] == '\x15'))
		*e -= 1;
	return true;
}

static const char *skip_space(const char *s, const char *e)
{
	while (s < e && perl_space(*s))
		s++;
	return s;
}

static const char *rskip_space(const char *s, const char *e)
{
	while (e > s && perl_space(e[-1]))
		e--;
	return e;
}

/* /\A\s*\[\s*(\S|\S.*\S)\s*\]\s*\z/: the name, or NULL. */
static char *section_header(const char *s, const char *e)
{
	s = skip_space(s, e);
	e = rskip_space(s, e);
	if (e - s < 2 || *s != '[' || e[-1] != ']')
		return NULL;
	s = skip_space(s + 1, e - 1);
	e = rskip_space(s, e - 1);
	if (s == e || memchr(s, '\n', (size_t)(e - s))) /* '.' does not match \n */
		return NULL;
	return xstrndup(s, (size_t)(e - s));
}

/*
 * /^\s*([^=]*?[^=\s])\s*=\s*(.*)$/: key and value, or false. Without /m and /s, '.'
 * stops at \n and '$' matches at the end or before a final \n.
 */
static bool key_value(const char *s, const char *e, char **key, char **value)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));
	if (!eq)
		return false;
	const char *ks = skip_space(s, eq), *ke = rskip_space(ks, eq);
	if (ks == ke)
		return false;
	const char *vs = skip_space(eq + 1, e), *ve = e;
	const char *nl = memchr(vs, '\n', (size_t)(ve - vs));
	if (nl && nl != ve - 1)
		return false;
	if (nl)
		ve--;
	*key = xstrndup(ks, (size_t)(ke - ks));
	*value = xstrndup(vs, (size_t)(ve - vs));
	return true;
}

/* AddSection: a new section, or the one of that name continued. */
static int start_section(struct ini_reader *r, char *name)
{
	struct sanoid_ini *ini = r->ini;
	r->cur = (struct sanoid_ini_section *)sanoid_ini_section(ini, name);
	if (r->cur) {
		free(name);
		return 0;
	}
	if (ini->nsections >= SANOID_INI_MAX_SECTIONS) {
		free(name);
		return reader_fail(r, r->line, "more than %d sections", SANOID_INI_MAX_SECTIONS);
	}
	ini->sections = xreallocarray(ini->sections, ini->nsections + 1, sizeof(*ini->sections));
	r->cur = &ini->sections[ini->nsections++];
	*r->cur = (struct sanoid_ini_section){ .name = name, .line = r->line };
	return 0;
}

/* _ReadConfig_load_value: the key, added to the section when new (*is_new). */
static struct sanoid_ini_key *section_key(struct ini_reader *r, const char *name, unsigned line,
					  bool *is_new)
{
	struct sanoid_ini_section *sec = r->cur;
	*is_new = false;
	for (size_t i = 0; i < sec->nkeys; i++)
		if (streq(sec->keys[i].name, name))
			return &sec->keys[i];
	if (sec->nkeys >= SANOID_INI_MAX_KEYS) {
		reader_fail(r, line, "[%s] has more than %d keys", sec->name, SANOID_INI_MAX_KEYS);
		return NULL;
	}
	sec->keys = xreallocarray(sec->keys, sec->nkeys + 1, sizeof(*sec->keys));
	struct sanoid_ini_key *k = &sec->keys[sec->nkeys++];
	*k = (struct sanoid_ini_key){ .name = xstrdup(name), .line = line, .values = STRVEC_INIT };
	*is_new = true;
	return k;
}

/*
 * Config::IniFiles::push: the values go after the key's earlier ones - unless the key
 * came first with an empty heredoc: its value is then undef, and push() adds nothing
 * to an undef value, ever.
 */
static void add_values(struct sanoid_ini_key *k, bool is_new, const struct strvec *values)
{
	if (is_new || k->values.n)
		for (size_t i = 0; i < values->n; i++)
			strvec_push(&k->values, values->v[i]);
}

/* _ReadConfig_handle_here_doc_param: lines up to one that is exactly the mark. */
static int read_heredoc(struct ini_reader *r, const char *key, const char *mark,
			struct strvec *lines)
{
	unsigned start = r->line;
	const char *s, *e;
	size_t marklen = strlen(mark);

	while (next_line(r, &s, &e)) {
		if ((size_t)(e - s) == marklen && memcmp(s, mark, marklen) == 0)
			return 0;
		if (memchr(s, '\0', (size_t)(e - s)))
			return reader_fail(r, r->line, "the line contains a NUL byte");
		strvec_push_nodup(lines, xstrndup(s, (size_t)(e - s)));
	}
	return reader_fail(r, start, "'%s = <<%s' has no end: no line is exactly '%s' (sanoid "
			   "2.3.0 cannot read this file either)", key, mark, mark);
}

static int handle_line(struct ini_reader *r, const char *s, const char *e)
{
	const char *t = skip_space(s, e);
	_cleanup_free_ char *key = NULL, *value = NULL;
	char *name;

	if (t == e)
		return 0; /* blank */
	if (*t == '#' || *t == ';')
		return 0; /* comment */
	if (memchr(s, '\0', (size_t)(e - s)))
		return reader_fail(r, r->line, "the line contains a NUL byte");
	name = section_header(s, e);
	if (name)
		return start_section(r, name);
	if (!key_value(s, e, &key, &value)) {
		if (r->line == 1 && e - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
			return reader_fail(r, r->line, "the file starts with a UTF-8 byte order mark, "
					   "which sanoid 2.3.0 (Config::IniFiles) cannot read either; "
					   "remove it");
		if (*t == '[')
			return reader_fail(r, r->line, "bad section header: it must be '[NAME]', "
					   "NAME not empty and nothing but blanks after the last ']' "
					   "(sanoid 2.3.0 cannot read this file either)");
		return reader_fail(r, r->line, "expected '[section]', 'key = value' or a comment "
				   "(sanoid 2.3.0 cannot read this file either)");
	}
	if (!r->cur)
		return reader_fail(r, r->line, "'%s' comes before the first [section] (sanoid 2.3.0 "
				   "cannot read this file either)", key);
	bool is_new;
	struct sanoid_ini_key *k = section_key(r, key, r->line, &is_new);
	if (!k)
		return -EINVAL;
	_cleanup_strvec_ struct strvec values = STRVEC_INIT;
	if (value[0] == '<' && value[1] == '<') {
		int rc = read_heredoc(r, key, value + 2, &values);
		if (rc < 0)
			return rc;
	} else {
		strvec_push(&values, value);
	}
	add_values(k, is_new, &values);
	return 0;
}

static void section_release(struct sanoid_ini_section *s)
{
	for (size_t i = 0; i < s->nkeys; i++) {
		free(s->keys[i].name);
		strvec_release(&s->keys[i].values);
	}
	free(s->keys);
	free(s->name);
}

void sanoid_ini_release(struct sanoid_ini *ini)
{
	for (size_t i = 0; i < ini->nsections; i++)
		section_release(&ini->sections[i]);
	free(ini->sections);
	ini->sections = NULL;
	ini->nsections = 0;
}

int sanoid_ini_parse(struct sanoid_ini *ini, const char *text, size_t len, const char *origin,
		     struct strbuf *err)
{
	struct ini_reader r = { .p = text, .end = text + len, .origin = origin, .ini = ini,
				.err = err };
	const char *s, *e;
	int rc = 0;

	*ini = (struct sanoid_ini)SANOID_INI_INIT;
	while (rc == 0 && next_line(&r, &s, &e))
		rc = handle_line(&r, s, e);
	if (rc == 0 && ini->nsections == 0) {
		strbuf_addf(err, "%s: no [section] in the file (sanoid 2.3.0 refuses an empty "
			    "config too)", origin);
		rc = -EINVAL;
	}
	if (rc < 0)
		sanoid_ini_release(ini);
	return rc;
}

const struct sanoid_ini_section *sanoid_ini_section(const struct sanoid_ini *ini,
						    const char *name)
{
	for (size_t i = 0; i < ini->nsections; i++)
		if (streq(ini->sections[i].name, name))
			return &ini->sections[i];
	return NULL;
}

const struct sanoid_ini_key *sanoid_ini_key(const struct sanoid_ini_section *s, const char *name)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (streq(s->keys[i].name, name))
			return &s->keys[i];
	return NULL;
}
