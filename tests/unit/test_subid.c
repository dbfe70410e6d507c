/*
 * test_subid.c - subid_find(): which subordinate range holds an id, read no
 * narrower than shadow's tools read /etc/subuid (a range zkeep missed would
 * let its owner act as a run uid), malformed lines skipped as they skip them.
 */
#include "unit.h"
#include "base/subid.h"

/* subid_find() on a C string: the 1-based line that holds id, or 0. */
static unsigned line_of(const char *text, uint64_t id)
{
	struct subid_range r = { .line = 999 };
	int found = subid_find(text, strlen(text), id, &r);
	assert_true(found == 0 || found == 1);
	return found ? r.line : 0;
}

static void test_decimal_bounds(void **state)
{
	(void)state;
	const char *t = "root:100000:65536\nalice:165536:65536\n";
	assert_int_equal(line_of(t, 99999), 0);
	assert_int_equal(line_of(t, 100000), 1);
	assert_int_equal(line_of(t, 165535), 1);
	assert_int_equal(line_of(t, 165536), 2);
	assert_int_equal(line_of(t, 231071), 2);
	assert_int_equal(line_of(t, 231072), 0);
	/* no newline at the end, and the owner and range said */
	struct subid_range r;
	const char *two = "x:1:1\nbob:60700:100";
	assert_int_equal(subid_find(two, strlen(two), 60799, &r), 1);
	assert_string_equal(r.owner, "bob");
	assert_int_equal(r.first, 60700);
	assert_int_equal(r.count, 100);
	assert_int_equal(r.line, 2);
	assert_int_equal(subid_find("", 0, 0, &r), 0);
}

static void test_every_reading(void **state)
{
	(void)state;
	/* hex and octal as strtoul(..., 0) reads them (older shadow) */
	assert_int_equal(line_of("u:0xED1C:1\n", 60700), 1);
	assert_int_equal(line_of("u:0166434:1\n", 60700), 1);
	/* ... and the decimal reading of a leading 0 (newer shadow) too */
	assert_int_equal(line_of("u:060700:1\n", 60700), 1);
	/* blanks before a number and a sign, as strtoul takes them */
	assert_int_equal(line_of("u: 60700:1\n", 60700), 1);
	assert_int_equal(line_of("u:+60700:1\n", 60700), 1);
	/* "-1" is the largest count: everything from the first id on */
	assert_int_equal(line_of("u:60000:-1\n", 4000000000u), 1);
	assert_int_equal(line_of("u:60000:-1\n", 59999), 0);
	/* a range past 2^32 still holds what it holds below */
	assert_int_equal(line_of("u:4294967295:10\n", 4294967295u), 1);
}

static void test_skipped(void **state)
{
	(void)state;
	const char *bad[] = {
		"u:60700\n",           /* two fields */
		"u:60700:1:x\n",       /* four */
		"u:60700 :1\n",        /* trailing blank */
		"u:60700:1 \n",
		"u::1\n",              /* empty number */
		"u:60700:\n",
		"u:6x0700:1\n",        /* not a number */
		"u:99999999999999999999999:1\n", /* out of range */
		"u:60700:0\n",         /* an empty range */
		"u:60701:5\nu:60600:100\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(line_of(bad[i], 60700), 0);
	/* a line after skipped ones is still found, by its own number */
	assert_int_equal(line_of("junk\n\n#c:1:1\nu:60700:1\n", 60700), 4);
	/* a long owner is cut, not overflowed */
	char text[200];
	memset(text, 'a', 150);
	memcpy(text + 150, ":7:1\n", 6);
	struct subid_range r;
	assert_int_equal(subid_find(text, strlen(text), 7, &r), 1);
	assert_int_equal(strlen(r.owner), sizeof(r.owner) - 1);
}

static void test_file(void **state)
{
	(void)state;
	struct subid_range r;
	assert_int_equal(subid_file_find("/nonexistent/subuid", 1, &r), 0);
	char path[] = "/tmp/zkeep-subid-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "carol:60750:10\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(subid_file_find(path, 60755, &r), 1);
	assert_string_equal(r.owner, "carol");
	assert_int_equal(subid_file_find(path, 60760, &r), 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal_bounds),
		cmocka_unit_test(test_every_reading),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
