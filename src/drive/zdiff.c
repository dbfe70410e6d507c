/* zdiff.c - see zdiff.h. */
#include "base/zkeep.h"
#include "drive/zdiff.h"
#include "base/parse.h"

char *zdiff_unescape(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0') {
			free(out);
			return NULL;
		}
		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		/* zfs writes "\\%04hho": four octal digits, at most 0377 */
		unsigned v = 0;
		if (len - i < 5) {
			free(out);
			return NULL;
		}
		for (size_t k = 1; k <= 4; k++) {
			if (s[i + k] < '0' || s[i + k] > '7') {
				free(out);
				return NULL;
			}
			v = v * 8 + (unsigned)(s[i + k] - '0');
		}
		if (v == 0 || v > 0377) {
			free(out);
			return NULL;
		}
		*o++ = (char)v;
		i += 4;
	}
	*o = '\0';
	return out;
}

static int parse_time(struct span f, int64_t *sec, uint32_t *nsec)
{
	const char *dot = memchr(f.s, '.', f.len);
	uint64_t s, ns = 0;
	size_t il = dot ? (size_t)(dot - f.s) : f.len;
	if (parse_u64_n(f.s, il, &s) < 0 || s > INT64_MAX)
		return -EINVAL;
	if (dot) {
		size_t fl = f.len - il - 1;
		if (fl == 0 || fl > 9 || parse_u64_n(dot + 1, fl, &ns) < 0)
			return -EINVAL;
		for (size_t k = fl; k < 9; k++)
			ns *= 10;
	}
	*sec = (int64_t)s;
	*nsec = (uint32_t)ns;
	return 0;
}

int zdiff_parse(const char *buf, size_t len, struct zdiff *out, struct strbuf *err)
{
	struct zcursor c;
	struct zfields z;
	struct zdiff d = ZDIFF_INIT;
	int r;
	zcursor_init(&c, buf, len);
	while ((r = zcursor_next(&c, &z)) > 0) {
		struct zdiff_entry e = { 0 };
		if (d.n >= ZDIFF_MAX_ENTRIES || z.n < 4 || z.n > 5 || z.f[1].len != 1 ||
		    z.f[2].len != 1 || !strchr("-+MR", z.f[1].s[0]) ||
		    !strchr("F/@|=BC>P", z.f[2].s[0]) || (z.n == 5) != (z.f[1].s[0] == 'R') ||
		    parse_time(z.f[0], &e.sec, &e.nsec) < 0)
			goto bad;
		e.change = z.f[1].s[0];
		e.type = z.f[2].s[0];
		e.path = zdiff_unescape(z.f[3].s, z.f[3].len);
		if (!e.path)
			goto bad;
		if (z.n == 5 && !(e.new_path = zdiff_unescape(z.f[4].s, z.f[4].len))) {
			free(e.path);
			goto bad;
		}
		d.e = xreallocarray(d.e, d.n + 1, sizeof(*d.e));
		d.e[d.n++] = e;
	}
	if (r < 0)
		goto bad;
	*out = d;
	return 0;
bad:
	strbuf_addf(err, "cannot understand line %u of zfs diff's output", c.line);
	zdiff_release(&d);
	return -EINVAL;
}

void zdiff_release(struct zdiff *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->e[i].path);
		free(d->e[i].new_path);
	}
	free(d->e);
	*d = (struct zdiff)ZDIFF_INIT;
}

const char *zdiff_change_name(char change)
{
	switch (change) {
	case '-': return "removed";
	case '+': return "created";
	case 'M': return "modified";
	case 'R': return "renamed";
	}
	return "changed";
}

const char *zdiff_type_name(char type)
{
	switch (type) {
	case 'F': return "file";
	case '/': return "directory";
	case '@': return "symlink";
	case '|': return "fifo";
	case '=': return "socket";
	case 'B': return "block device";
	case 'C': return "char device";
	case '>': return "door";
	case 'P': return "event port";
	}
	return "unknown";
}
