/* mountinfo.c - see mountinfo.h. */
#include "base/zkeep.h"
#include "base/mountinfo.h"
#include "base/strbuf.h"

/*
 * One field (up to a space or the end) unescaped: the kernel writes space,
 * tab, newline and backslash as \040, \011, \012, \134. NULL when an escape
 * is not three octal digits or yields a NUL.
 */
static char *unescape_field(const char *p, size_t n)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\\') {
			strbuf_addch(&out, p[i]);
			continue;
		}
		unsigned v = 0;
		for (size_t k = 1; k <= 3; k++) {
			if (i + k >= n || p[i + k] < '0' || p[i + k] > '7')
				return NULL;
			v = v * 8 + (unsigned)(p[i + k] - '0');
		}
		if (v == 0 || v > 0xff)
			return NULL;
		strbuf_addch(&out, (char)v);
		i += 3;
	}
	return strbuf_detach(&out);
}

/* The fields of one line, each up to a space (the kernel writes "none" for no source). */
static int split_line(const char *p, const char *eol, struct strvec *f)
{
	for (;;) {
		const char *sp = memchr(p, ' ', (size_t)(eol - p));
		const char *end = sp ? sp : eol;
		char *v = unescape_field(p, (size_t)(end - p));
		if (!v)
			return -EINVAL;
		strvec_push_nodup(f, v);
		if (!sp)
			return 0;
		p = sp + 1;
	}
}

static int parse_line(const char *p, const char *eol, struct mount_table *out)
{
	_cleanup_strvec_ struct strvec f = STRVEC_INIT;
	int r = split_line(p, eol, &f);
	if (r < 0)
		return r;
	/* ID PARENT MAJ:MIN ROOT PATH OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS */
	size_t dash = 6;
	while (dash < f.n && !streq(f.v[dash], "-"))
		dash++;
	if (dash + 4 != f.n || f.v[4][0] != '/')
		return -EINVAL;
	out->m = xreallocarray(out->m, out->n + 1, sizeof(*out->m));
	out->m[out->n++] = (struct mount_entry){
		.root = xstrdup(f.v[3]),
		.path = xstrdup(f.v[4]),
		.fstype = xstrdup(f.v[dash + 1]),
		.source = xstrdup(f.v[dash + 2]),
	};
	return 0;
}

size_t mountinfo_parse(const char *buf, size_t len, struct mount_table *out)
{
	size_t skipped = 0;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		if (memchr(p, '\0', (size_t)(eol - p)) || parse_line(p, eol, out) < 0)
			skipped++;
		p = nl ? nl + 1 : end;
	}
	return skipped;
}

int mountinfo_read(struct mount_table *out)
{
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	int r = strbuf_read_file(&text, "/proc/self/mountinfo");
	if (r < 0)
		return r;
	mountinfo_parse(text.buf ? text.buf : "", text.len, out);
	return 0;
}

void mount_table_release(struct mount_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->m[i].root);
		free(t->m[i].path);
		free(t->m[i].fstype);
		free(t->m[i].source);
	}
	free(t->m);
	*t = (struct mount_table)MOUNT_TABLE_INIT;
}

void mount_table_zfs_paths(const struct mount_table *t, const char *dataset,
			   struct strvec *paths)
{
	for (size_t i = 0; i < t->n; i++)
		if (streq(t->m[i].fstype, "zfs") && streq(t->m[i].source, dataset) &&
		    streq(t->m[i].root, "/"))
			strvec_push(paths, t->m[i].path);
}
