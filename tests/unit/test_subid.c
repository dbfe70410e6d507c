/*
 * test_subid.c - subid_find(): which subordinate range holds an id, read no
 * narrower than shadow's tools read /etc/subuid (a range zkeep missed would
 * let its owner act as a run uid), malformed lines skipped as they skip them.
 */
#include "unit.h"
#include "base/subid.h"

#include <sys/stat.h>

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
	/* ... and the decimal reading of a leading 0 too (no reading is left out) */
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
	/* fields past the third are ignored, as shadow up to 4.17 does; a NUL ends a line */
	assert_int_equal(line_of("u:60700:1:x\n", 60700), 1);
	assert_int_equal(line_of("u:60700:100:\n", 60799), 1);
	struct subid_range n;
	assert_int_equal(subid_find("u:60700:1\0junk\n", 15, 60700, &n), 1);
	assert_int_equal(subid_find("u:60700:1\0", 10, 60700, &n), 1);
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

static void test_map(void **state)
{
	(void)state;
	const char *m = "         0      60740         10\n1 2\nx 5 6\n";
	assert_int_equal(subid_map_find(m, strlen(m), 60740), 1);
	assert_int_equal(subid_map_find(m, strlen(m), 60749), 1);
	assert_int_equal(subid_map_find(m, strlen(m), 60750), 0);
	assert_int_equal(subid_map_find(m, strlen(m), 5), 1); /* the inside field is not read */
	assert_int_equal(subid_map_find("0 1 x\n", 6, 1), 0);
	assert_int_equal(subid_map_find("", 0, 1), 0);
}

/* A /proc of three processes: one in another namespace mapping 60740-60749, one in
 * this process's namespace (its identity map is skipped), one without a namespace link. */
static void test_userns(void **state)
{
	(void)state;
	char dir[] = "/tmp/zkeep-proc-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	const char *const mk[] = { "self", "self/ns", "10", "10/ns", "11", "11/ns", "12" };
	for (size_t i = 0; i < ARRAY_SIZE(mk); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, mk[i]);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	const struct { const char *link, *target; } links[] = {
		{ "self/ns/user", "user:[4026531837]" },
		{ "10/ns/user", "user:[4026532001]" },
		{ "11/ns/user", "user:[4026531837]" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, links[i].link);
		assert_int_equal(symlink(links[i].target, path), 0);
	}
	const struct { const char *file, *text; } files[] = {
		{ "10/cmdline", "sleep" }, { "10/uid_map", "0 60740 10\n" },
		{ "10/gid_map", "0 70000 1\n" }, { "11/cmdline", "x" },
		{ "11/uid_map", "0 0 4294967295\n" }, { "12/cmdline", "y" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].file);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(files[i].text, f);
		fclose(f);
	}
	pid_t pid = 0;
	assert_int_equal(subid_userns_find(dir, 60745, &pid), 1);
	assert_int_equal(pid, 10);
	assert_int_equal(subid_userns_find(dir, 70000, &pid), 1); /* its gid map too */
	assert_int_equal(subid_userns_find(dir, 60750, &pid), 0);
	assert_int_equal(subid_userns_find(dir, 5, &pid), 0); /* 11's map: this namespace */
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].file);
		assert_int_equal(unlink(path), 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, links[i].link);
		assert_int_equal(unlink(path), 0);
	}
	for (size_t i = ARRAY_SIZE(mk); i-- > 0;) {
		snprintf(path, sizeof(path), "%s/%s", dir, mk[i]);
		assert_int_equal(rmdir(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal_bounds),
		cmocka_unit_test(test_every_reading),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_userns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
