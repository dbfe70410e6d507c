/* test_safe_path.c - path_root_only(): only root's real directories lead to a mountpoint. */
#include "unit.h"
#include "base/safe_path.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_dirs),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
