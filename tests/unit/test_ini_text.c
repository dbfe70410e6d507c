/* Unit tests for ini_text: inih without its 50-byte section names and 200-byte lines. */
#include "unit.h"
#include "base/ini_text.h"
#include "base/strvec.h"

/* Every call as "LINE [SECTION]" or "LINE [SECTION] KEY=VALUE". */
static bool record(void *user, const char *section, const char *key, const char *value,
                   unsigned line)
{
	struct strvec *calls = user;
	if (key)
		strvec_pushf(calls, "%u [%s] %s=%s", line, section, key, value);
	else
		strvec_pushf(calls, "%u [%s]", line, section);
	return true;
}

static int run(const char *text, struct strvec *calls, struct strbuf *err)
{
	strvec_release(calls);
	strbuf_reset(err);
	return ini_text_parse(text, strlen(text), "t.conf", record, calls, err);
}

static void test_lines(void **state)
{
	(void)state;
	_cleanup_strvec_ struct strvec calls = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(run("\xEF\xBB\xBF# comment\n"
	                     "[ tank/home ]\n"
	                     "\thourly = 24\n"
	                     "\n"
	                     "; another\n"
	                     "   daily=7  \n"
	                     "[empty]\n"
	                     "[tank/home]\n"
	                     "monthly = 3\r\n",
	                     &calls, &err),
	                 0);
	const char *want[] = {"2 [tank/home]",         "3 [tank/home] hourly=24",
	                      "6 [tank/home] daily=7", "7 [empty]",
	                      "8 [tank/home]",         "9 [tank/home] monthly=3"};
	assert_int_equal(calls.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(calls.v[i], want[i]);
}

/* inih alone cuts these: a 150-byte section name and a 1,000-byte value. */
static void test_long(void **state)
{
	(void)state;
	_cleanup_strvec_ struct strvec calls = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf name = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf list = STRBUF_INIT;
	for (int i = 0; i < 10; i++)
		strbuf_addf(&name, "%sdataset-%05d", i ? "/" : "", i);
	for (int i = 0; i < 50; i++)
		strbuf_addf(&list, "%stank/data%04d", i ? " " : "", i);
	/* two names alike in their first 50 bytes stay two sections */
	strbuf_addf(&text, "[%s]\nx = %s\n[%s/other]\ny = 1\n", name.buf, list.buf, name.buf);
	assert_true(name.len > 100 && list.len > 500);
	assert_int_equal(run(text.buf, &calls, &err), 0);
	assert_int_equal(calls.n, 4);
	_cleanup_free_ char *want = xasprintf("2 [%s] x=%s", name.buf, list.buf);
	assert_string_equal(calls.v[1], want);
	_cleanup_free_ char *want2 = xasprintf("3 [%s/other]", name.buf);
	assert_string_equal(calls.v[2], want2);
}

static void test_errors(void **state)
{
	(void)state;
	_cleanup_strvec_ struct strvec calls = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"x = 1\n", "t.conf:1: 'x' is outside any [section]"},
	    {"[a]\nnot a line\n", "t.conf:2: expected 'key = value'"},
	    {"[a\nx = 1\n", "t.conf:1: section header without ']'"},
	    {"[a] b\n", "t.conf:1: text after the section header"},
	    {"[a]\n[  ]\n", "t.conf:2: empty section name"},
	    {"[a]\nx = \001"
	     "0\n",
	     "t.conf:2: the line contains a control character"},
	    {"[a]\nx = 1\0\n", "t.conf:2: the file contains a NUL byte"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t len = strlen(bad[i].text);
		if (i == ARRAY_SIZE(bad) - 1)
			len = 11; /* through the NUL */
		strvec_release(&calls);
		strbuf_reset(&err);
		assert_int_equal(ini_text_parse(bad[i].text, len, "t.conf", record, &calls, &err),
		                 -EINVAL);
		if (!strstr(err.buf, bad[i].msg))
			fail_msg("'%s': got '%s'", bad[i].msg, err.buf);
	}
	/* a line over the limit, even a comment */
	_cleanup_strbuf_ struct strbuf big = STRBUF_INIT;
	strbuf_addstr(&big, "[a]\n#");
	for (int i = 0; i < INI_TEXT_MAX_LINE; i++)
		strbuf_addch(&big, 'x');
	assert_int_equal(run(big.buf, &calls, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "t.conf:2: line longer than"));
}

static bool refuse_b(void *user, const char *section, const char *key, const char *value,
                     unsigned line)
{
	(void)value;
	struct strbuf *err = user;
	if (streq(section, "b")) {
		strbuf_addf(err, "line %u: no b%s", line, key ? " keys" : "");
		return false;
	}
	return true;
}

/* The handler's false ends the parse: no call after it, no second message. */
static void test_handler_fails(void **state)
{
	(void)state;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	const char *text = "[a]\nx = 1\n[b]\ny = 2\n[b]\nbroken\n";
	assert_int_equal(ini_text_parse(text, strlen(text), "t.conf", refuse_b, &err, &err),
	                 -EINVAL);
	assert_string_equal(err.buf, "line 3: no b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_long),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_handler_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
