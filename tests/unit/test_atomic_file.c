#include "unit.h"
#include "base/atomic_file.h"
#include "base/strbuf.h"
#include "base/strvec.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

static char dir[] = "/tmp/zkeep-atomic-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			strvec_pushf(&argv, "%s/%s", dir, e->d_name);
	if (d)
		closedir(d);
	for (size_t i = 0; i < argv.n; i++)
		unlink(argv.v[i]);
	return rmdir(dir);
}

static char *slurp(const char *path)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	if (strbuf_read_file(&sb, path) < 0)
		return NULL;
	return strbuf_detach(&sb);
}

/* Files in dir, other than . and .. */
static size_t entries(void)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += !streq(e->d_name, ".") && !streq(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static void test_write_replaces(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/f", dir);
	_cleanup_free_ char *a = NULL, *b = NULL;
	struct stat st;
	assert_int_equal(write_file_atomic(path, "old\n", 4, 0644), 0);
	a = slurp(path);
	assert_string_equal(a, "old\n");
	assert_int_equal(write_file_atomic(path, "new content\n", 12, 0600), 0);
	b = slurp(path);
	assert_string_equal(b, "new content\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(entries(), 1);  /* no temporary left */
	unlink(path);
}

static void test_release_without_commit_keeps_old(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/g", dir);
	_cleanup_free_ char *c = NULL;
	assert_int_equal(write_file_atomic(path, "kept", 4, 0644), 0);
	{
		_cleanup_release_(atomic_file) struct atomic_file f = ATOMIC_FILE_INIT;
		assert_int_equal(atomic_file_open(&f, path, 0644), 0);
		assert_non_null(f.tmp);
		assert_int_equal(strncmp(f.tmp, path, strlen(path)), 0);
		assert_int_equal(atomic_file_write(&f, "partial", 7), 0);
		assert_int_equal(entries(), 2);
	}
	c = slurp(path);
	assert_string_equal(c, "kept");
	assert_int_equal(entries(), 1);
	unlink(path);
}

static void test_streaming_and_fd(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/h", dir);
	_cleanup_free_ char *c = NULL;
	_cleanup_release_(atomic_file) struct atomic_file f = ATOMIC_FILE_INIT;
	struct stat st;
	assert_int_equal(atomic_file_open(&f, path, 0600), 0);
	assert_int_equal(atomic_file_write(&f, "one ", 4), 0);
	assert_int_equal(atomic_file_write(&f, "two", 3), 0);
	struct timespec ts[2] = { { .tv_sec = 1000000 }, { .tv_sec = 1000000 } };
	assert_int_equal(futimens(f.fd, ts), 0);
	assert_int_equal(atomic_file_commit(&f), 0);
	assert_int_equal(f.fd, -1);
	c = slurp(path);
	assert_string_equal(c, "one two");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mtime, 1000000);
	assert_int_equal(atomic_file_commit(&f), -EBADF);
	assert_int_equal(entries(), 1);
	unlink(path);
}

static void test_failures(void **state)
{
	_cleanup_free_ char *missing = xasprintf("%s/nodir/f", dir);
	_cleanup_free_ char *target = xasprintf("%s/target", dir);
	_cleanup_free_ char *link = xasprintf("%s/link", dir);
	_cleanup_free_ char *c = NULL;
	_cleanup_release_(atomic_file) struct atomic_file f = ATOMIC_FILE_INIT;
	assert_int_equal(write_file_atomic(missing, "x", 1, 0644), -ENOENT);
	assert_int_equal(atomic_file_open(&f, missing, 0644), -ENOENT);
	assert_non_null(f.tmp);  /* named for the caller's message */
	atomic_file_release(&f);
	/* A symlink at the path is replaced, its target left alone. */
	assert_int_equal(write_file_atomic(target, "target", 6, 0644), 0);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(write_file_atomic(link, "file", 4, 0644), 0);
	c = slurp(target);
	assert_string_equal(c, "target");
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* Renaming over a directory fails and leaves no temporary. */
	_cleanup_free_ char *sub = xasprintf("%s/sub", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_true(write_file_atomic(sub, "x", 1, 0644) < 0);
	assert_int_equal(entries(), 3);
	rmdir(sub);
	unlink(link);
	unlink(target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_replaces),
		cmocka_unit_test(test_release_without_commit_keeps_old),
		cmocka_unit_test(test_streaming_and_fd),
		cmocka_unit_test(test_failures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
