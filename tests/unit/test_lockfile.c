#include "unit.h"
#include "base/lockfile.h"
#include "base/strbuf.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char dir[] = "/tmp/zkeep-lock-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Whether another process (a child: flock locks are per open file) can take path now. */
static int other_can_take(const char *path)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(lockfile_take(path, false) >= 0 ? 0 : 1);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_take_write_holder_release(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/a.lock", dir);
	int fd = lockfile_take(path, false);
	assert_true(fd >= 0);
	assert_false(other_can_take(path));
	/* a second open of the file in this process is another lock, refused too */
	_cleanup_fd_ int fd2 = lockfile_open(path);
	assert_true(fd2 >= 0);
	assert_int_equal(lockfile_lock(fd2, false), -EWOULDBLOCK);
	/* the holder's pid, first line */
	_cleanup_strbuf_ struct strbuf who = STRBUF_INIT;
	lockfile_holder(fd2, &who);
	assert_string_equal(who.buf, "");
	assert_int_equal(lockfile_write_pid(fd), 0);
	lockfile_holder(fd2, &who);
	_cleanup_free_ char *me = xasprintf("%ld", (long)getpid());
	assert_string_equal(who.buf, me);
	/* rewriting replaces: still one line */
	assert_int_equal(lockfile_write_pid(fd), 0);
	_cleanup_strbuf_ struct strbuf all = STRBUF_INIT;
	assert_int_equal(strbuf_read_file(&all, path), 0);
	_cleanup_free_ char *line = xasprintf("%s\n", me);
	assert_string_equal(all.buf, line);
	close(fd); /* releases */
	assert_true(other_can_take(path));
	assert_int_equal(lockfile_lock(fd2, false), 0);
}

static void test_holder_first_line_only(void **state)
{
	_cleanup_free_ char *path = xasprintf("%s/b.lock", dir);
	_cleanup_fd_ int fd = lockfile_open(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "1234\nrest\n", 10), 10);
	_cleanup_strbuf_ struct strbuf who = STRBUF_INIT;
	lockfile_holder(fd, &who);
	assert_string_equal(who.buf, "1234");
}

static void test_no_symlink_and_mode(void **state)
{
	_cleanup_free_ char *target = xasprintf("%s/target", dir);
	_cleanup_free_ char *link = xasprintf("%s/link", dir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(lockfile_take(link, false), -ELOOP);
	assert_int_equal(access(target, F_OK), -1);
	_cleanup_free_ char *path = xasprintf("%s/c.lock", dir);
	mode_t old = umask(0);
	_cleanup_fd_ int fd = lockfile_take(path, true);
	umask(old);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	_cleanup_free_ char *missing = xasprintf("%s/no/such/dir.lock", dir);
	assert_int_equal(lockfile_take(missing, false), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_write_holder_release),
		cmocka_unit_test(test_holder_first_line_only),
		cmocka_unit_test(test_no_symlink_and_mode),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
