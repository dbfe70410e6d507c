/* Unit tests for the pure parts of drive.h and drive_units.h, and the drive runner. */
#include "unit.h"
#include "drive/drive.h"
#include "drive/drive_units.h"
#include "drive/drive_runner.h"

#include <signal.h>
#include <sys/wait.h>

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_import_scan(void **state)
{
	(void)state;
	static const char out[] =
		"   pool: usbp\n"
		"     id: 1234567890123\n"
		"  state: ONLINE\n"
		" action: The pool can be imported using its name or numeric identifier.\n"
		" config:\n"
		"\n"
		"\tusbp        ONLINE\n"
		"\t  loop0     ONLINE\n"
		"\n"
		"   pool: other\n"
		"     id: 42\n"
		"  state: DEGRADED\n"
		"status: One or more devices are missing.\n";
	struct zpool_scan_entry *e = NULL;
	size_t n = 0;
	assert_int_equal(drive_parse_import_scan(out, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].name, "usbp");
	assert_true(e[0].guid == 1234567890123ULL);
	assert_string_equal(e[0].state, "ONLINE");
	assert_string_equal(e[1].name, "other");
	assert_true(e[1].guid == 42);
	assert_string_equal(e[1].state, "DEGRADED");
	drive_scan_free(e, n);
	assert_int_equal(drive_parse_import_scan("no pools available to import\n", &e, &n), 0);
	assert_int_equal(n, 0);
	drive_scan_free(e, n);
	assert_int_equal(drive_parse_import_scan("   pool: x\n     id: 12x\n", &e, &n), -EINVAL);
}

static void test_vdevs(void **state)
{
	(void)state;
	static const char out[] = "usbp\t125829120\t1000\t-\t-\t0\t0\t1.00\tONLINE\t-\n"
				  "\t/dev/loop0\t125829120\t1000\t-\t-\t0\t0\t-\tONLINE\n"
				  "\tmirror-1\t1\t2\n"
				  "\t/tmp/file vdev.img\t1\t2\n";
	_cleanup_strvec_ struct strvec v = STRVEC_INIT;
	drive_parse_vdevs(out, &v);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.v[0], "/dev/loop0");
	assert_string_equal(v.v[1], "/tmp/file vdev.img");
}

static void test_problems(void **state)
{
	(void)state;
	static const char good[] = "  pool: usbp\n state: ONLINE\n  scan: scrub repaired 0B\n"
				   "config:\n\n\tNAME          STATE     READ WRITE CKSUM\n"
				   "\tusbp          ONLINE       0     0     0\n"
				   "\t  /dev/loop0  ONLINE       0     0     0\n\n"
				   "errors: No known data errors\n";
	static const char bad[] = "  pool: usbp\n state: ONLINE\nconfig:\n\n"
				  "\tNAME          STATE     READ WRITE CKSUM\n"
				  "\tusbp          ONLINE       0     0     0\n"
				  "\t  /dev/loop0  ONLINE       0     1     4  (repairing)\n\n"
				  "errors: 1 data errors, use '-v' for a list\n";
	_cleanup_strvec_ struct strvec p = STRVEC_INIT;
	assert_int_equal(drive_parse_pool_problems(good, &p), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(drive_parse_pool_problems(bad, &p), 2);
	assert_string_equal(p.v[0], "/dev/loop0: 0 read, 1 write, 4 checksum errors");
	assert_string_equal(p.v[1], "pool errors: 1 data errors, use '-v' for a list");
}

static void test_units(void **state)
{
	(void)state;
	struct driveconf c = DRIVECONF_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT, rule = STRBUF_INIT, unit = STRBUF_INIT;
	assert_int_equal(driveconf_parse("[drive usb1]\npool = usbp\nguid = 99\ndatasets = tank/a\n"
					 "[drive g]\nguid = 77\ndatasets = tank/a\n",
					 "c", &c, &err),
			 0);
	assert_int_equal(drive_units_render(&c.drives[0], "/usr/bin/zkeep", "/etc/zkeep/zkeep.conf",
					    "/var/lib/zkeep", &rule, &unit, &err),
			 0);
	assert_non_null(strstr(rule.buf, "ENV{ID_FS_TYPE}==\"zfs_member\", ENV{ID_FS_UUID}==\"99\""));
	assert_null(strstr(rule.buf, "ID_FS_LABEL")); /* never by the name */
	assert_non_null(strstr(rule.buf, "ENV{SYSTEMD_WANTS}+=\"zkeep-drive-usb1.service\""));
	assert_non_null(strstr(unit.buf, "\nExecStart=/usr/bin/zkeep drive backup --config "
					 "/etc/zkeep/zkeep.conf usb1\n"));
	assert_non_null(strstr(unit.buf, "Type=oneshot\n"));
	/* the confined worker's: its state directory, made by systemd under /var/lib */
	assert_non_null(strstr(unit.buf, "\nEnvironment=ZKEEP_STATE_DIR=/var/lib/zkeep\n"));
	assert_non_null(strstr(unit.buf, "\nStateDirectory=zkeep\nStateDirectoryMode=0700\n"));
	assert_non_null(strstr(unit.buf, " CAP_SETUID "));
	strbuf_reset(&rule);
	strbuf_reset(&unit);
	assert_int_equal(drive_units_render(&c.drives[1], "/usr/bin/zkeep", "/etc/z.conf", "/srv/zk",
					    &rule, &unit, &err),
			 0);
	assert_non_null(strstr(rule.buf, "ENV{ID_FS_UUID}==\"77\""));
	/* elsewhere: it must exist, and is made writable */
	assert_non_null(strstr(unit.buf, "\nReadWritePaths=-/srv/zk\n"));
	assert_null(strstr(unit.buf, "StateDirectory="));
	assert_int_equal(drive_units_render(&c.drives[1], "/usr/bin/zkeep", "/etc/my conf", "/s",
					    &rule, &unit, &err),
			 -EINVAL);
	assert_int_equal(drive_units_render(&c.drives[1], "zkeep", "/etc/z.conf", "/s", &rule,
					    &unit, &err),
			 -EINVAL);
	assert_int_equal(drive_units_render(&c.drives[1], "/usr/bin/zkeep", "/etc/z.conf", "s",
					    &rule, &unit, &err),
			 -EINVAL);
	_cleanup_free_ char *un = drive_unit_name(&c.drives[0]), *rn = drive_rule_name(&c.drives[0]);
	assert_string_equal(un, "zkeep-drive-usb1.service");
	assert_string_equal(rn, "90-zkeep-drive-usb1.rules");
	driveconf_release(&c);
}

static void test_import_not_found(void **state)
{
	(void)state;
	assert_true(drive_import_not_found("cannot import 'usbp': no such pool available"));
	assert_false(drive_import_not_found("cannot import 'usbp': pool was previously in use from "
					    "another system."));
	assert_false(drive_import_not_found(""));
}

static void test_runner(void **state)
{
	(void)state;
	assert_true(drive_runner_spared(ARGV("zpool", "import", "-N", "usbp")));
	assert_true(drive_runner_spared(ARGV("zpool", "export", "usbp")));
	assert_false(drive_runner_spared(ARGV("zpool", "scrub", "-w", "usbp")));
	assert_false(drive_runner_spared(ARGV("zfs", "receive", "-s", "usbp/x")));
	assert_false(drive_runner_spared(ARGV("zpool")));
	assert_true(drive_runner_allowed_after_stop(ARGV("zpool", "list")));
	assert_false(drive_runner_allowed_after_stop(ARGV("zfs", "receive", "-A", "usbp/x")));

	/* a running child is terminated by stop; nothing but zpool starts afterwards */
	struct runner *r = drive_runner_new();
	struct child c = CHILD_INIT;
	assert_int_equal(runner_start(r, ARGV("sleep", "30"), SPAWN_NULL, SPAWN_NULL, SPAWN_NULL, &c), 0);
	assert_false(drive_runner_stopped(r));
	assert_int_equal(drive_runner_stop(r), 1);
	assert_true(drive_runner_stopped(r));
	int st = 0;
	assert_int_equal(spawn_wait(&c, &st), 0);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGTERM);
	struct child c2 = CHILD_INIT;
	assert_int_equal(runner_start(r, ARGV("sleep", "1"), SPAWN_NULL, SPAWN_NULL, SPAWN_NULL, &c2),
			 -ECANCELED);
	/* the reaped child is forgotten: a second stop signals nothing */
	assert_int_equal(drive_runner_stop(r), 0);
	runner_free(r);
}

/* What a confined worker reports to root: taken exactly, or not at all. */
static void test_counts(void **state)
{
	(void)state;
	struct drive_result in = { .synced = 3, .uptodate = 1, .failed = 2, .bytes = 1ull << 40 };
	char *text = drive_counts_format(&in);
	assert_string_equal(text, "3 1 2 1099511627776\n");
	struct drive_result out = { .synced = 1 };
	assert_int_equal(drive_counts_parse(text, strlen(text), &out), 0);
	assert_int_equal(out.synced, 4);
	assert_int_equal(out.uptodate, 1);
	assert_int_equal(out.failed, 2);
	assert_true(out.bytes == 1ull << 40);
	free(text);
	static const char *const bad[] = {
		"", "\n", "1 2 3\n", "1 2 3 4", "1 2 3 4 5\n", "1  2 3 4\n", " 1 2 3 4\n",
		"1 2 3 4\n\n", "1 2 3 -4\n", "1 2 3 +4\n", "1 2 3 4x\n", "4294967296 0 0 0\n",
		"0 0 0 18446744073709551616\n", "1\t2 3 4\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct drive_result r = { 0 };
		assert_int_equal(drive_counts_parse(bad[i], strlen(bad[i]), &r), -EINVAL);
		assert_int_equal(r.synced + r.uptodate + r.failed, 0);
	}
	/* a NUL inside is not a number's end */
	struct drive_result r = { 0 };
	assert_int_equal(drive_counts_parse("1\0002 3 4\n", 9, &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_scan),
		cmocka_unit_test(test_vdevs),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_import_not_found),
		cmocka_unit_test(test_runner),
		cmocka_unit_test(test_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
