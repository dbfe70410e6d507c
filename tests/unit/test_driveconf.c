/* Unit tests for driveconf: [drive NAME] sections of zkeep.conf. */
#include "unit.h"
#include "drive/driveconf.h"
#include "confine/jobconf.h"

static int parse(const char *text, struct driveconf *c, struct strbuf *err)
{
	strbuf_reset(err);
	return driveconf_parse(text, "zkeep.conf", c, err);
}

static void test_defaults(void **state)
{
	(void)state;
	struct driveconf c = DRIVECONF_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(parse("[zkeep]\nstate_dir = /x\n"
			       "[job a]\nsource = tank/a\n"
			       "[drive usb1]\npool = usbpool\nguid = 42\ndatasets = tank/data tank/home\n",
			       &c, &err),
			 0);
	assert_int_equal(c.n, 1);
	const struct drive *d = driveconf_find(&c, "usb1");
	assert_non_null(d);
	assert_null(driveconf_find(&c, "usb2"));
	assert_string_equal(d->pool, "usbpool");
	assert_int_equal(d->datasets.n, 2);
	assert_string_equal(d->datasets.v[1], "tank/home");
	/* the guide's semantics */
	assert_true(d->raw);
	assert_false(d->sync_snap);
	assert_true(d->delete_target_snapshots);
	assert_false(d->rollback);
	assert_true(d->readonly);
	assert_true(d->recursive);
	assert_true(d->hold);
	assert_false(d->scrub);
	assert_false(d->detach_loop);
	assert_int_equal(d->power_off, DRIVE_POWER_AUTO);
	assert_null(d->snapdir);
	assert_null(d->mountpoint);
	assert_null(d->canmount);
	_cleanup_free_ char *imp = drive_import_name(d);
	assert_string_equal(imp, "42");
	_cleanup_free_ char *alt = drive_altroot(d);
	assert_string_equal(alt, "/run/zkeep/drive/usb1");
	_cleanup_strbuf_ struct strbuf e2 = STRBUF_INIT;
	assert_int_equal(drive_check_pool_name(d, "usbpool", &e2), 0);
	assert_int_equal(drive_check_pool_name(d, "other", &e2), -EINVAL);
	assert_non_null(strstr(e2.buf, "named other, not usbpool"));
	_cleanup_free_ char *t = drive_target_of(d, d->pool, "tank/data");
	assert_string_equal(t, "usbpool/tank/data");
	driveconf_release(&c);
}

/* Long drive names and long dataset lists arrive whole (inih alone cuts both). */
static void test_long(void **state)
{
	(void)state;
	struct driveconf c = DRIVECONF_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	const char *n1 = "offsite-rotation-disk-number-one-in-the-bank-vault-box-17";
	const char *n2 = "offsite-rotation-disk-number-one-in-the-bank-vault-box-18";
	strbuf_addf(&text, "[drive %s]\npool = p1\nguid = 1\ndatasets =", n1);
	for (int i = 0; i < 40; i++)
		strbuf_addf(&text, " tank/projects/client-%02d", i);
	strbuf_addf(&text, "\n[drive %s]\npool = p2\nguid = 2\ndatasets = tank/a\n", n2);
	assert_int_equal(parse(text.buf, &c, &err), 0);
	assert_int_equal(c.n, 2);
	const struct drive *d = driveconf_find(&c, n1);
	assert_non_null(d);
	assert_int_equal(d->datasets.n, 40);
	assert_string_equal(d->datasets.v[39], "tank/projects/client-39");
	assert_string_equal(driveconf_find(&c, n2)->pool, "p2");
	driveconf_release(&c);
}

static void test_all_keys(void **state)
{
	(void)state;
	struct driveconf c = DRIVECONF_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int r = parse("[drive a]\n"
		      "guid = 1234567890123\n"
		      "datasets = tank/x,tank/y\n"
		      "target = bk/here\n"
		      "recursive = no\nraw = off\nsync_snap = yes\ndelete_target_snapshots = no\n"
		      "rollback = yes\nhold = no\nreadonly = no\nscrub = yes\n"
		      "detach_loop = yes\nsnapdir = visible\nmountpoint = /mnt/bk\ncanmount = noauto\n"
		      "search_dirs = /dev/disk/by-id /tmp/d\npower_off = no\nbwlimit = 2M\n",
		      &c, &err);
	assert_int_equal(r, 0);
	const struct drive *d = &c.drives[0];
	assert_null(d->pool);
	assert_true(d->guid == 1234567890123ULL);
	assert_false(d->recursive || d->raw || d->delete_target_snapshots || d->hold || d->readonly);
	assert_true(d->sync_snap && d->rollback && d->scrub && d->detach_loop);
	assert_string_equal(d->snapdir, "visible");
	assert_string_equal(d->mountpoint, "/mnt/bk");
	assert_string_equal(d->canmount, "noauto");
	assert_int_equal(d->search_dirs.n, 2);
	assert_string_equal(d->search_dirs.v[1], "/tmp/d");
	assert_int_equal(d->power_off, DRIVE_POWER_NO);
	assert_true(d->bwlimit == 2 << 20);
	_cleanup_free_ char *imp = drive_import_name(d);
	assert_string_equal(imp, "1234567890123");
	_cleanup_free_ char *t = drive_target_of(d, "bk", "tank/x");
	assert_string_equal(t, "bk/here/tank/x");
	/* the target decides the pool's name when pool = is not given */
	assert_int_equal(drive_check_pool_name(d, "bk", &err), 0);
	assert_int_equal(drive_check_pool_name(d, "other", &err), -EINVAL);
	driveconf_release(&c);
}

static void expect_error(const char *text, const char *what)
{
	struct driveconf c = DRIVECONF_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(parse(text, &c, &err), -EINVAL);
	if (!strstr(err.buf, what))
		fail_msg("error '%s' does not mention '%s'", err.buf, what);
	assert_int_equal(c.n, 0);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[drive a]\ndatasets = tank/a\n", "needs guid = GUID");
	/* a name alone is refused: anyone can name a stick's pool like that */
	expect_error("[drive a]\npool = p\ndatasets = tank/a\n", "`zpool import`");
	expect_error("[drive a]\npool = p\nguid = 1\ndatasets = t/a\nmount = yes\n",
		     "always imported without mounting");
	expect_error("[drive a]\npool = p\nguid = 7\n", "needs datasets");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = tank/a\nfoo = 1\n",
		     "unknown setting");
	expect_error("[drive a]\npool = 9p\ndatasets = tank/a\n", "not a pool name");
	expect_error("[drive a]\nguid = x1\ndatasets = tank/a\n", "not a pool guid");
	expect_error("[drive a]\nguid = 0\ndatasets = tank/a\n", "not a pool guid");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = tank/a tank//b\n",
		     "'tank//b' is not a dataset");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = tank/a tank/a\n", "listed twice");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = p/a\n", "on the drive's own pool");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = t/a\ntarget = q/x\n",
		     "not in pool p");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = t/a\nraw = maybe\n",
		     "not yes or no");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = t/a\nsnapdir = on\n",
		     "visible or hidden");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = t/a\ncanmount = yes\n",
		     "on, off or noauto");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = t/a\nmountpoint = rel\n",
		     "absolute path");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = t/a\nmountpoint = /a b\n",
		     "absolute path");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = t/a\nsearch_dirs = /ok ../x\n",
		     "absolute path");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = t/a\npower_off = later\n",
		     "auto, yes or no");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = t/a\nbwlimit = fast\n",
		     "not a rate");
	expect_error("[drive a/b]\npool = p\nguid = 7\n", "not a drive name");
	expect_error("[drive ..]\npool = p\nguid = 7\n", "not a drive name");
	expect_error("[drive a]\npool = p$q\ndatasets = t/a\n", "not a pool name");
	expect_error("[drive "
		     "a123456789b123456789c123456789d123456789e123456789f123456789g1234]\n"
		     "pool = p\n",
		     "not a drive name");
	expect_error("[drive a]\npool = p\nguid = 7\ndatasets = t/a\nnot a line\n",
		     "zkeep.conf:5: expected");
}

static void test_several(void **state)
{
	(void)state;
	struct driveconf c = DRIVECONF_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(parse("[drive a]\npool = pa\nguid = 1\ndatasets = t/a\n"
			       "[drive b]\npool = pb\nguid = 2\ndatasets = t/b\n"
			       "[drive a]\ndatasets = t/c\n",
			       &c, &err),
			 0);
	assert_int_equal(c.n, 2);
	/* a later value replaces the earlier one */
	assert_string_equal(driveconf_find(&c, "a")->datasets.v[0], "t/c");
	assert_string_equal(driveconf_find(&c, "b")->pool, "pb");
	driveconf_release(&c);
	driveconf_release(&c); /* idempotent */
	assert_int_equal(parse("", &c, &err), 0);
	assert_int_equal(c.n, 0);
}

/* One zkeep.conf holds both: jobconf skips the drive sections, driveconf the jobs. */
static void test_shared_file(void **state)
{
	(void)state;
	static const char text[] = "[zkeep]\nstate_dir = /var/lib/zkeep\n"
				   "[job offsite]\nsource = tank/data\ntarget = backup/data\n"
				   "[drive usb1]\npool = usbp\nguid = 3\ndatasets = tank/data\n";
	struct jobconf jc = JOBCONF_INIT;
	struct driveconf dc = DRIVECONF_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	if (jobconf_parse(text, "zkeep.conf", &jc, &err) != 0)
		fail_msg("jobconf: %s", err.buf);
	assert_int_equal(jc.njobs, 1);
	assert_int_equal(driveconf_parse(text, "zkeep.conf", &dc, &err), 0);
	assert_int_equal(dc.n, 1);
	jobconf_release(&jc);
	driveconf_release(&dc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_several),
		cmocka_unit_test(test_shared_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
