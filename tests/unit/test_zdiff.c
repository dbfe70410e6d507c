/* Unit tests for zdiff: parsing `zfs diff -FHt` output. */
#include "unit.h"
#include "drive/zdiff.h"

static void test_parse(void **state)
{
	(void)state;
	static const char out[] =
		"1700000000.123456789\tM\t/\t/tank/a\n"
		"1700000001.5\t+\tF\t/tank/a/new\\0040file\n"
		"1700000002.000000001\t-\t@\t/tank/a/link\n"
		"1700000003.000000000\tR\tF\t/tank/a/old\t/tank/a/d\\0303\\0251j\\0303\\0240\n";
	struct zdiff d = ZDIFF_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(zdiff_parse(out, strlen(out), &d, &err), 0);
	assert_int_equal(d.n, 4);
	assert_true(d.e[0].sec == 1700000000 && d.e[0].nsec == 123456789);
	assert_int_equal(d.e[0].change, 'M');
	assert_int_equal(d.e[0].type, '/');
	assert_string_equal(d.e[1].path, "/tank/a/new file");
	assert_int_equal(d.e[1].nsec, 500000000);
	assert_string_equal(zdiff_change_name(d.e[2].change), "removed");
	assert_string_equal(zdiff_type_name(d.e[2].type), "symlink");
	assert_string_equal(d.e[3].new_path, "/tank/a/d\xc3\xa9j\xc3\xa0");
	assert_string_equal(zdiff_change_name('R'), "renamed");
	zdiff_release(&d);
	assert_int_equal(zdiff_parse("", 0, &d, &err), 0);
	assert_int_equal(d.n, 0);
}

static void test_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"x\tM\tF\t/a\n",                  /* time */
		"1.5\tX\tF\t/a\n",                /* change */
		"1.5\tM\tQ\t/a\n",                /* type */
		"1.5\tM\tF\n",                    /* no path */
		"1.5\tR\tF\t/a\n",                /* rename without new path */
		"1.5\tM\tF\t/a\t/b\n",            /* new path without rename */
		"1.5\tM\tF\t/a\\0098\n",           /* bad escape */
		"1.5\tM\tF\t/a\\0400\n",           /* too large */
		"1.5\tM\tF\t/a\\040\n",            /* three digits */
		"1.5\tM\tF\t/a\\\n",              /* truncated escape */
		"1.5\tM\tF\t/a\\0000\n",          /* NUL */
		"1.1234567890\tM\tF\t/a\n",       /* too many decimals */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct zdiff d = ZDIFF_INIT;
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
		if (zdiff_parse(bad[i], strlen(bad[i]), &d, &err) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err.buf, "line 1"));
		assert_int_equal(d.n, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
