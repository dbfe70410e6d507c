/*
 * test_mountinfo.c - mountinfo_parse(): the kernel's escapes undone, a line
 * of another shape left out (it only takes a place away from root's
 * mounts), and mount_table_zfs_paths() names whole-dataset mounts only.
 */
#include "unit.h"
#include "base/mountinfo.h"

static void test_parse(void **state)
{
	(void)state;
	const char text[] =
		"25 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
		/* no optional field at all; a space in the path and the dataset */
		"80 25 0:45 / /tank/my\\040data rw,noatime - zfs tank/my\\040data rw,xattr\n"
		/* several optional fields */
		"81 25 0:46 / /srv/b rw master:3 shared:4 propagate_from:1 - zfs tank/b rw\n"
		/* a bind mount of a directory inside tank/b: not where tank/b is */
		"82 25 0:46 /sub /elsewhere rw - zfs tank/b rw\n"
		/* a FUSE mount whose name is empty */
		"83 25 0:50 / /home/u/mnt rw,nosuid - fuse.sshfs  rw,user_id=1000\n";
	struct mount_table t = MOUNT_TABLE_INIT;
	assert_int_equal(mountinfo_parse(text, sizeof(text) - 1, &t), 0);
	assert_int_equal(t.n, 5);
	assert_string_equal(t.m[1].path, "/tank/my data");
	assert_string_equal(t.m[1].source, "tank/my data");
	assert_string_equal(t.m[2].fstype, "zfs");
	assert_string_equal(t.m[2].source, "tank/b");
	assert_string_equal(t.m[4].source, "");
	struct strvec p = STRVEC_INIT;
	mount_table_zfs_paths(&t, "tank/b", &p);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.v[0], "/srv/b");
	strvec_release(&p);
	/* exact names: "tank" is not "tank/b" or "tank/my data" */
	mount_table_zfs_paths(&t, "tank", &p);
	assert_int_equal(p.n, 0);
	mount_table_zfs_paths(&t, "tank/my data", &p);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.v[0], "/tank/my data");
	strvec_release(&p);
	mount_table_release(&t);
}

static void test_malformed_lines_left_out(void **state)
{
	(void)state;
	const char text[] =
		/* no "-" separator */
		"80 25 0:45 / /tank rw shared:1 zfs tank rw\n"
		/* one field too many after "-" */
		"81 25 0:45 / /a rw - zfs tank/a rw extra\n"
		/* an escape of two digits, one past a byte, one of NUL */
		"82 25 0:45 / /b\\04 rw - zfs tank/b rw\n"
		"83 25 0:45 / /c\\777 rw - zfs tank/c rw\n"
		"84 25 0:45 / /d\\000 rw - zfs tank/d rw\n"
		/* a relative path */
		"85 25 0:45 / e rw - zfs tank/e rw\n"
		"\n"
		"86 25 0:45 / /ok rw - zfs tank/ok rw";
	struct mount_table t = MOUNT_TABLE_INIT;
	assert_int_equal(mountinfo_parse(text, sizeof(text) - 1, &t), 7);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.m[0].path, "/ok");
	mount_table_release(&t);
	/* a NUL inside a line: that line is left out */
	const char nul[] = "86 25 0:45 / /ok rw - zfs tank/ok rw\n"
			   "87 25 0:45 / /x\0y rw - zfs t rw\n";
	assert_int_equal(mountinfo_parse(nul, sizeof(nul) - 1, &t), 1);
	assert_int_equal(t.n, 1);
	mount_table_release(&t);
}

static void test_this_process(void **state)
{
	(void)state;
	struct mount_table t = MOUNT_TABLE_INIT;
	assert_int_equal(mountinfo_read(&t), 0);
	bool root = false;
	for (size_t i = 0; i < t.n; i++)
		root = root || streq(t.m[i].path, "/");
	assert_true(root);
	mount_table_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_malformed_lines_left_out),
		cmocka_unit_test(test_this_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
