/*
 * test_safe_path.c - path_root_only(): only root's real directories lead to a
 * mountpoint; dir_names_at() and remove_tree_at() never follow a link out.
 */
#include "unit.h"
#include "base/safe_path.h"

#include <fcntl.h>
#include <sys/stat.h>

/* path_root_only(path): its result, and why contains `why` when it fails. */
static void expect(const char *path, int want, const char *why)
{
	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	int r = path_root_only(path, &msg);
	if (r != want || (why && !strstr(msg.buf, why)))
		fail_msg("%s: %d '%s', want %d '%s'", path, r, msg.buf, want, why ? why : "");
}

static void test_root_dirs(void **state)
{
	expect("/", 0, NULL);
	expect("/usr", 0, NULL);
	/* missing below a directory only root may write: root creates it */
	expect("/usr/zkeep-no-such-dir/x", 0, NULL);
}

static void test_refused(void **state)
{
	/* /proc/self is a symbolic link: never followed, wherever it is */
	expect("/proc/self", -ELOOP, "/proc/self is a symbolic link");
	expect("/proc/self/root/etc", -ELOOP, "/proc/self is a symbolic link");
	expect("/etc/hostname", -ENOTDIR, "/etc/hostname is not a directory");
	expect("usr/lib", -EPERM, "not an absolute path");
	expect("/usr/../etc", -EPERM, "'..'");
	expect("/usr/./lib", -EPERM, "'.'");
	/* /tmp is writable by anyone: a missing directory there could be planted first */
	expect("/tmp/zkeep-no-such-dir-here", -EPERM, "others than root may create it");
}

static void test_owner(void **state)
{
	char dir[] = "/tmp/zkeep-safe-path-XXXXXX";
	assert_non_null(mkdtemp(dir));
	if (geteuid() == 0) /* as root: a directory that a user owns */
		assert_int_equal(chown(dir, 65534, 65534), 0);
	expect(dir, -EPERM, "not root");
	rmdir(dir);
}

/*
 * A tree with a symbolic link to a directory outside it: remove_tree_at()
 * removes the tree and the link, never what the link points to;
 * dir_names_at() lists sorted names without "." and "..".
 */
static void test_remove_tree(void **state)
{
	char base[] = "/tmp/zkeep-remove-tree-XXXXXX";
	assert_non_null(mkdtemp(base));
	_cleanup_fd_ int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(bfd >= 0);
	assert_int_equal(mkdirat(bfd, "outside", 0700), 0);
	assert_int_equal(close(openat(bfd, "outside/keep", O_CREAT | O_WRONLY, 0600)), 0);
	assert_int_equal(mkdirat(bfd, "tree", 0700), 0);
	assert_int_equal(mkdirat(bfd, "tree/sub", 0700), 0);
	assert_int_equal(close(openat(bfd, "tree/sub/f", O_CREAT | O_WRONLY, 0600)), 0);
	assert_int_equal(symlinkat("../../outside", bfd, "tree/sub/link"), 0);
	assert_int_equal(close(openat(bfd, "tree/b", O_CREAT | O_WRONLY, 0600)), 0);

	_cleanup_fd_ int tfd = openat(bfd, "tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(strvec_release) struct strvec names = STRVEC_INIT;
	assert_int_equal(dir_names_at(tfd, &names), 0);
	assert_int_equal(names.n, 2);
	assert_string_equal(names.v[0], "b");
	assert_string_equal(names.v[1], "sub");

	assert_int_equal(remove_tree_at(bfd, "tree", 8), 0);
	assert_int_equal(faccessat(bfd, "tree", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(faccessat(bfd, "outside/keep", F_OK, 0), 0);
	/* a missing entry is not an error; depth 0 refuses to descend */
	assert_int_equal(remove_tree_at(bfd, "tree", 8), 0);
	assert_int_equal(remove_tree_at(bfd, "outside", 0), -EISDIR);
	assert_int_equal(remove_tree_at(bfd, "outside", 2), 0);
	assert_int_equal(rmdir(base), 0);
}

/* Where root may mount a received dataset: whole components only, no "..". */
static void test_within(void **state)
{
	(void)state;
	assert_true(path_within("/hdst/p", "/hdst/p"));
	assert_true(path_within("/hdst/p/c", "/hdst/p"));
	assert_true(path_within("//hdst//p/c/", "/hdst/p/"));
	assert_true(path_within("/anything", "/"));
	assert_false(path_within("/hdst/pc", "/hdst/p"));
	assert_false(path_within("/hdst", "/hdst/p"));
	assert_false(path_within("/etc/cron.d", "/hdst/p"));
	assert_false(path_within("/hdst/p/../../etc", "/hdst/p"));
	assert_false(path_within("/hdst/p/./c", "/hdst/p"));
	assert_false(path_within("/hdst/p/..", "/"));
	assert_false(path_within("hdst/p", "/hdst"));
	assert_false(path_within("/hdst/p", "hdst"));
	assert_false(path_within("/x/../y", "/x/.."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_dirs),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_remove_tree),
		cmocka_unit_test(test_within),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
