/* Fuzz target: escaping bytes another party chose for a terminal (term.h). */
#include "base/zkeep.h"
#include "base/term.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whatever comes in, what goes out holds no control character but \n, \t (\r and the
 * kept sequences with TERM_KEEP_PROGRESS; none at all with TERM_ONE_LINE), and chunked
 * input escapes like whole input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct strbuf whole = STRBUF_INIT, parts = STRBUF_INIT;
	term_escape(&whole, s, size, TERM_FINAL);
	for (size_t i = 0; i < whole.len; i++) {
		unsigned char c = (unsigned char)whole.buf[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			abort();
	}
	struct strbuf line = STRBUF_INIT;
	term_escape(&line, s, size, TERM_FINAL | TERM_ONE_LINE);
	for (size_t i = 0; i < line.len; i++)
		if ((unsigned char)line.buf[i] < 0x20 || (unsigned char)line.buf[i] == 0x7f)
			abort();
	strbuf_release(&line);
	/* in two pieces, the unconsumed tail passed again */
	size_t cut = size / 2;
	size_t used = term_escape(&parts, s, cut, TERM_KEEP_PROGRESS);
	term_escape(&parts, s + used, size - used, TERM_KEEP_PROGRESS | TERM_FINAL);
	struct strbuf once = STRBUF_INIT;
	term_escape(&once, s, size, TERM_KEEP_PROGRESS | TERM_FINAL);
	if (parts.len != once.len || memcmp(parts.buf, once.buf, once.len) != 0)
		abort();
	strbuf_release(&whole);
	strbuf_release(&parts);
	strbuf_release(&once);
	return 0;
}
