#include "unit.h"
#include "base/parse.h"

static void test_u64(void **state)
{
	uint64_t v;
	assert_int_equal(parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(parse_u64("", &v), -EINVAL);
	assert_int_equal(parse_u64("-1", &v), -EINVAL);
	assert_int_equal(parse_u64("+1", &v), -EINVAL);
	assert_int_equal(parse_u64(" 1", &v), -EINVAL);
	assert_int_equal(parse_u64("1 ", &v), -EINVAL);
	assert_int_equal(parse_u64("12abc", &v), -EINVAL);
	assert_int_equal(parse_u64("0x10", &v), -EINVAL);
}

static void test_i64_and_range(void **state)
{
	int64_t v;
	unsigned u;
	assert_int_equal(parse_i64("-9223372036854775808", &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(parse_i64("9223372036854775808", &v), -ERANGE);
	assert_int_equal(parse_i64("-42", &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(parse_i64("-", &v), -EINVAL);
	assert_int_equal(parse_uint_range("59", 0, 59, &u), 0);
	assert_int_equal(u, 59);
	assert_int_equal(parse_uint_range("60", 0, 59, &u), -ERANGE);
	assert_int_equal(parse_uint_range("0", 1, 31, &u), -ERANGE);
}

static void test_size(void **state)
{
	uint64_t v;
	assert_int_equal(parse_size("16M", &v), 0);
	assert_true(v == 16ULL << 20);
	assert_int_equal(parse_size("512k", &v), 0);
	assert_true(v == 512ULL << 10);
	assert_int_equal(parse_size("1GiB", &v), 0);
	assert_true(v == 1ULL << 30);
	assert_int_equal(parse_size("100", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(parse_size("1.5G", &v), -EINVAL);
	assert_int_equal(parse_size("M", &v), -EINVAL);
	assert_int_equal(parse_size("5X", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999P", &v), -ERANGE);
}

static void test_duration(void **state)
{
	uint64_t v;
	assert_int_equal(parse_duration("90m", 1, &v), 0);
	assert_int_equal(v, 5400);
	assert_int_equal(parse_duration("28h", 1, &v), 0);
	assert_int_equal(v, 28 * 3600);
	assert_int_equal(parse_duration("1d12h", 1, &v), 0);
	assert_int_equal(v, 36 * 3600);
	assert_int_equal(parse_duration("2w", 1, &v), 0);
	assert_int_equal(v, 14 * 86400);
	assert_int_equal(parse_duration("1y", 1, &v), 0);
	assert_int_equal(v, 365 * 86400);
	assert_int_equal(parse_duration("15", 60, &v), 0);
	assert_int_equal(v, 900);
	assert_int_equal(parse_duration("", 1, &v), -EINVAL);
	assert_int_equal(parse_duration("m", 1, &v), -EINVAL);
	assert_int_equal(parse_duration("5x", 1, &v), -EINVAL);
	assert_int_equal(parse_duration("-5m", 1, &v), -EINVAL);
}

static void test_bool(void **state)
{
	bool b;
	const char *yes[] = { "1", "yes", "YES", "True", "on" };
	const char *no[] = { "0", "no", "FALSE", "Off" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		assert_int_equal(parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		assert_int_equal(parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	assert_int_equal(parse_bool("2", &b), -EINVAL);
	assert_int_equal(parse_bool("", &b), -EINVAL);
	assert_int_equal(parse_bool("yess", &b), -EINVAL);
}

static void test_cursor(void **state)
{
	/* zfs list -Hp output: tabs between fields, "-" for none, names with spaces. */
	const char out[] = "pool\tfilesystem\t123\n"
			   "\n"
			   "pool/my data\tfilesystem\t-\n"
			   "pool/my data@a b\tsnapshot\t18446744073709551615";
	struct zcursor c;
	struct zfields z;
	uint64_t v;
	zcursor_init(&c, out, sizeof(out) - 1);
	assert_int_equal(zcursor_next(&c, &z), 1);
	assert_int_equal(z.n, 3);
	assert_true(span_eq(z.f[0], "pool"));
	assert_int_equal(zfield_u64(&z, 2, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(zcursor_next(&c, &z), 1);
	assert_int_equal(c.line, 3);
	assert_true(span_eq(z.f[0], "pool/my data"));
	assert_true(span_is_none(z.f[2]));
	assert_int_equal(zfield_u64(&z, 2, &v), -ENODATA);
	assert_int_equal(zfield_u64(&z, 7, &v), -EINVAL);
	assert_int_equal(zcursor_next(&c, &z), 1);
	char *name = span_dup(z.f[0]);
	assert_string_equal(name, "pool/my data@a b");
	free(name);
	assert_int_equal(zfield_u64(&z, 2, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(zcursor_next(&c, &z), 0);
}

static void test_cursor_too_many_fields(void **state)
{
	char line[ZFIELDS_MAX * 2 + 2];
	size_t n = 0;
	for (int i = 0; i <= ZFIELDS_MAX; i++) {
		line[n++] = 'x';
		line[n++] = '\t';
	}
	line[n - 1] = '\n';
	struct zcursor c;
	struct zfields z;
	zcursor_init(&c, line, n);
	assert_int_equal(zcursor_next(&c, &z), -EINVAL);
}

static void test_perl_int(void **state)
{
	static const struct {
		const char *in, *text;
		int64_t value;
	} ok[] = {
		{ "22", "22", 22 }, { "+7", "7", 7 }, { "007", "7", 7 }, { "-0", "0", 0 },
		{ "0_5", "5", 5 }, { "_5", "5", 5 }, { "1__", "1", 1 }, { "-_3", "-3", -3 },
		{ "5\n", "5", 5 },
		{ "18446744073709551615", "18446744073709551615", INT64_MAX },
		{ "18446744073709551616", "1.84467440737096e+19", INT64_MAX },
		{ "-9223372036854775808", "-9223372036854775808", INT64_MIN },
		{ "-9223372036854775809", "-9.22337203685478e+18", INT64_MIN },
		{ "99999999999999999999999", "1e+23", INT64_MAX },
	};
	static const char *const bad[] = { "", "-", "+", "_", "x", "1e3", " 5", "5 ", "0x10", "5\n\n", "1-" };
	char text[PERL_INT_TEXT_MAX];
	int64_t v;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_int_equal(parse_perl_int(ok[i].in, text, &v), 0);
		assert_string_equal(text, ok[i].text);
		assert_true(v == ok[i].value);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(parse_perl_int(bad[i], text, &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perl_int),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_i64_and_range),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_cursor_too_many_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
