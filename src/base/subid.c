/* subid.c - see subid.h. */
#include "base/zkeep.h"
#include "base/subid.h"
#include "base/parse.h"
#include "base/strbuf.h"

/*
 * A field as strtoull() reads it in base, the whole field, or false. Like
 * the tools, it takes leading blanks and a sign ("-1" is the largest count).
 */
static bool field_number(const char *p, size_t n, int base, uint64_t *out)
{
	if (n == 0 || memchr(p, '\0', n))
		return false;
	_cleanup_free_ char *buf = xstrndup(p, n);
	return parse_c_unsigned(buf, base, out) == 0;
}

static bool holds(uint64_t first, uint64_t count, uint64_t id)
{
	return id >= first && id - first < count;
}

/* Whether the line [p, p+n) is a range that holds id under some reading. */
static bool line_holds(const char *p, size_t n, uint64_t id, struct subid_range *r)
{
	const char *c1 = memchr(p, ':', n);
	if (!c1)
		return false;
	const char *c2 = memchr(c1 + 1, ':', (size_t)(p + n - c1 - 1));
	if (!c2 || memchr(c2 + 1, ':', (size_t)(p + n - c2 - 1)))
		return false; /* exactly three fields */
	const char *f1 = c1 + 1, *f2 = c2 + 1;
	size_t n1 = (size_t)(c2 - f1), n2 = (size_t)(p + n - f2);
	static const int bases[] = { 10, 0 };
	for (size_t a = 0; a < ARRAY_SIZE(bases); a++)
		for (size_t b = 0; b < ARRAY_SIZE(bases); b++) {
			uint64_t first, count;
			if (field_number(f1, n1, bases[a], &first) &&
			    field_number(f2, n2, bases[b], &count) && holds(first, count, id)) {
				size_t on = (size_t)(c1 - p);
				if (on >= sizeof(r->owner))
					on = sizeof(r->owner) - 1;
				memcpy(r->owner, p, on);
				r->owner[on] = '\0';
				r->first = first;
				r->count = count;
				return true;
			}
		}
	return false;
}

int subid_find(const char *text, size_t len, uint64_t id, struct subid_range *hit)
{
	unsigned line = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		line++;
		struct subid_range r;
		if (line_holds(text + i, n, id, &r)) {
			r.line = line;
			*hit = r;
			return 1;
		}
		i += n + 1;
	}
	return 0;
}

int subid_file_find(const char *path, uint64_t id, struct subid_range *hit)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	int r = strbuf_read_file(&sb, path);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return subid_find(sb.buf, sb.len, id, hit);
}
