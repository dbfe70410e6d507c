#include "unit.h"
#include "base/term.h"

static char *esc(const char *s, size_t n, unsigned flags, size_t *used)
{
	struct strbuf sb = STRBUF_INIT;
	size_t u = term_escape(&sb, s, n, flags);
	if (used)
		*used = u;
	return strbuf_detach(&sb);
}

static void test_plain_text_and_utf8_pass(void **state)
{
	const char s[] = "tank/data@snap 1.5G\tok\n\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe";
	_cleanup_free_ char *o = esc(s, sizeof(s) - 1, TERM_FINAL, NULL);
	assert_string_equal(o, s);
}

/* Words quoted inside one log line: a line break cannot start a line of its own. */
static void test_one_line(void **state)
{
	const char s[] = "unmount x\nzkeep: error: forged\tline\r";
	_cleanup_free_ char *o = esc(s, sizeof(s) - 1, TERM_FINAL | TERM_ONE_LINE, NULL);
	assert_string_equal(o, "unmount x\\x0azkeep: error: forged\\x09line\\x0d");
}

static void test_controls_are_escaped(void **state)
{
	const char s[] = "a\033]0;title\007b\033[2Jc\rd\x7f" "e\x01";
	_cleanup_free_ char *o = esc(s, sizeof(s) - 1, TERM_FINAL, NULL);
	assert_string_equal(o, "a\\x1b]0;title\\x07b\\x1b[2Jc\\x0dd\\x7fe\\x01");
	/* C1 controls in UTF-8 (U+009B is CSI), raw C1 bytes, overlong forms, surrogates */
	const char c1[] = "x\xc2\x9b" "31my\x9b" "z\xc0\x80\xe0\x82\x9b\xed\xa0\x80";
	_cleanup_free_ char *o2 = esc(c1, sizeof(c1) - 1, TERM_FINAL, NULL);
	assert_string_equal(o2, "x\\xc2\\x9b31my\\x9bz\\xc0\\x80\\xe0\\x82\\x9b\\xed\\xa0\\x80");
}

static void test_progress_keeps_only_colour_and_erase(void **state)
{
	const char s[] = "\r[==>  ] 50%\033[K\033[1;31merror:\033[0m \033[2J\033[1;1H\033[?25l";
	_cleanup_free_ char *o = esc(s, sizeof(s) - 1, TERM_KEEP_PROGRESS | TERM_FINAL, NULL);
	assert_string_equal(o, "\r[==>  ] 50%\033[K\033[1;31merror:\033[0m \\x1b[2J\\x1b[1;1H"
			       "\\x1b[?25l");
	/* a long parameter list is no colour */
	char big[80] = "\033[";
	memset(big + 2, '1', 60);
	big[62] = 'm';
	_cleanup_free_ char *o2 = esc(big, strlen(big), TERM_KEEP_PROGRESS | TERM_FINAL, NULL);
	assert_int_equal(strncmp(o2, "\\x1b[111", 8), 0);
}

static void test_incomplete_tail_is_left_unless_final(void **state)
{
	size_t used;
	_cleanup_free_ char *a = esc("ok\xe2\x82", 4, 0, &used);
	assert_int_equal(used, 2);
	assert_string_equal(a, "ok");
	_cleanup_free_ char *b = esc("ok\033[1", 5, TERM_KEEP_PROGRESS, &used);
	assert_int_equal(used, 2);
	assert_string_equal(b, "ok");
	_cleanup_free_ char *c = esc("ok\033[1", 5, TERM_KEEP_PROGRESS | TERM_FINAL, &used);
	assert_int_equal(used, 5);
	assert_string_equal(c, "ok\\x1b[1");
	_cleanup_free_ char *d = esc("ok\xe2\x82", 4, TERM_FINAL, &used);
	assert_string_equal(d, "ok\\xe2\\x82");
	/* without TERM_KEEP_PROGRESS an ESC is never waited for */
	_cleanup_free_ char *e = esc("ok\033", 3, 0, &used);
	assert_int_equal(used, 3);
	assert_string_equal(e, "ok\\x1b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_and_utf8_pass),
		cmocka_unit_test(test_controls_are_escaped),
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_progress_keeps_only_colour_and_erase),
		cmocka_unit_test(test_incomplete_tail_is_left_unless_final),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
