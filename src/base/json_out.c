/* json_out.c - see json_out.h. */
#include "base/json_out.h"
#include "base/strbuf.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return len;
}

json_t *json_str(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	struct strbuf sb = STRBUF_INIT;
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	while (n) {
		size_t k = utf8_seq(p, n);
		if (k) {
			strbuf_add(&sb, p, k);
		} else {
			strbuf_addstr(&sb, "\xEF\xBF\xBD"); /* U+FFFD */
			k = 1;
		}
		p += k;
		n -= k;
	}
	j = json_string(sb.buf);
	strbuf_release(&sb);
	return j ? j : json_null();
}

static int emit(FILE *f, json_t *o, size_t flags)
{
	int r = 0;
	if (!o)
		return -EINVAL;
	if (json_dumpf(o, f, flags) < 0 || fputc('\n', f) == EOF || fflush(f) == EOF)
		r = -EIO;
	json_decref(o);
	return r;
}

int json_emit_line(FILE *f, json_t *o)
{
	return emit(f, o, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

int json_emit_doc(FILE *f, json_t *o)
{
	return emit(f, o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}
