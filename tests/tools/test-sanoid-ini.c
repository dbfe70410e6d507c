/*
 * test-sanoid-ini.c - print what sanoid_ini_parse() reads from a file, in the form
 * tests/unit/sanoid_ini_oracle.pl prints what Perl's Config::IniFiles reads:
 *
 *   [SECTION]        each section, in the order of its first header
 *   KEY              each of its keys, in the order of their first appearance
 *   =VALUE           each value of the key (duplicates and heredoc lines)
 *   error LINE       instead of all that when the file cannot be read (0: no line)
 *
 * Bytes outside printable ASCII, and '\', are written as \xHH.
 */
#include "base/zkeep.h"
#include "base/parse.h"
#include "base/strbuf.h"
#include "snapshots/sanoid_ini.h"

#include <limits.h>

static void put_escaped(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f || c == '\\')
			printf("\\x%02X", c);
		else
			putchar(c);
	}
	putchar('\n');
}

int main(int argc, char **argv)
{
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_release_(sanoid_ini) struct sanoid_ini ini = SANOID_INI_INIT;

	if (argc != 2) {
		fprintf(stderr, "usage: test-sanoid-ini FILE\n");
		return 2;
	}
	strbuf_init(&text, 64 << 20);
	if (strbuf_read_file(&text, argv[1]) < 0) {
		fprintf(stderr, "test-sanoid-ini: cannot read %s\n", argv[1]);
		return 2;
	}
	if (sanoid_ini_parse(&ini, text.buf, text.len, "f", &err) < 0) {
		/* "f:LINE: ..." or "f: ..." */
		unsigned line = 0;
		const char *p = err.buf + 2, *colon = strchr(p, ':');
		if (colon && colon > p) {
			_cleanup_free_ char *num = xstrndup(p, (size_t)(colon - p));
			if (parse_uint_range(num, 1, UINT_MAX, &line) < 0)
				line = 0;
		}
		printf("error %u\n", line);
		fprintf(stderr, "%s\n", err.buf);
		return 0;
	}
	for (size_t i = 0; i < ini.nsections; i++) {
		const struct sanoid_ini_section *s = &ini.sections[i];
		putchar('[');
		put_escaped(s->name);
		for (size_t j = 0; j < s->nkeys; j++) {
			put_escaped(s->keys[j].name);
			for (size_t v = 0; v < s->keys[j].values.n; v++) {
				putchar('=');
				put_escaped(s->keys[j].values.v[v]);
			}
		}
	}
	return 0;
}
