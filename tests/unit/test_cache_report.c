/*
 * test_cache_report.c - engine_cache_report_parse(): what a confined worker
 * reports it took and destroyed is taken only when every line names a
 * managed snapshot of a listed dataset, new for "+", listed for "-".
 */
#include "unit.h"
#include "snapshots/snapshot_engine.h"

static const char listing[] =
	"p/a\tfilesystem\t1\t1\t100\n"
	"p/a@autosnap_2026-01-01_00:00:00_hourly\tsnapshot\t2\t2\t100\n"
	"p/a@manual\tsnapshot\t3\t3\t100\n"
	"p/a/b\tfilesystem\t4\t4\t100\n";

/* parse report against the listing: its result, and the names it took */
static int parse(const char *report, size_t len, struct strvec *added, struct strvec *removed)
{
	struct engine e;
	memset(&e, 0, sizeof(e));
	e.tree = (struct zfs_tree)ZFS_TREE_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(zfs_parse_list(listing, strlen(listing), &e.tree, &err), 0);
	int r = engine_cache_report_parse(&e, report, len, added, removed);
	zfs_tree_release(&e.tree);
	return r;
}

static void expect(const char *report, int want, size_t nadded, size_t nremoved)
{
	_cleanup_strvec_ struct strvec added = STRVEC_INIT, removed = STRVEC_INIT;
	int r = parse(report, strlen(report), &added, &removed);
	if (r != want || (r == 0 && (added.n != nadded || removed.n != nremoved)))
		fail_msg("'%s': %d (+%zu -%zu), want %d (+%zu -%zu)", report, r, added.n,
			 removed.n, want, nadded, nremoved);
}

static void test_accepted(void **state)
{
	expect("", 0, 0, 0);
	expect("+p/a@autosnap_2026-01-01_01:00:00_hourly\n", 0, 1, 0);
	expect("+p/a/b@autosnap_2026-01-01_01:00:00_daily\n"
	       "-p/a@autosnap_2026-01-01_00:00:00_hourly\n", 0, 1, 1);
}

static void test_refused(void **state)
{
	/* taken, but already listed; destroyed, but never listed */
	expect("+p/a@autosnap_2026-01-01_00:00:00_hourly\n", -EINVAL, 0, 0);
	expect("-p/a@autosnap_2026-01-01_05:00:00_hourly\n", -EINVAL, 0, 0);
	/* not a snapshot zkeep manages: never the worker's to report */
	expect("-p/a@manual\n", -EINVAL, 0, 0);
	expect("+p/a@manual2\n", -EINVAL, 0, 0);
	/* a dataset outside the listing, or no dataset at all */
	expect("+p/other@autosnap_2026-01-01_01:00:00_hourly\n", -EINVAL, 0, 0);
	expect("+q@autosnap_2026-01-01_01:00:00_hourly\n", -EINVAL, 0, 0);
	expect("+@autosnap_2026-01-01_01:00:00_hourly\n", -EINVAL, 0, 0);
	expect("+p/a\n", -EINVAL, 0, 0);
	/* names zfs would refuse */
	expect("+p/a/../b@autosnap_2026-01-01_01:00:00_hourly\n", -EINVAL, 0, 0);
	expect("+p/a@autosnap_2026-01-01_01:00:00_hourly@x_hourly\n", -EINVAL, 0, 0);
	expect("+p/a@autosnap_2026 01-01_01:00:00_hourly\n", -EINVAL, 0, 0);
	/* the form: a sign, a name, a newline; one bad line refuses the whole report */
	expect("p/a@autosnap_2026-01-01_01:00:00_hourly\n", -EINVAL, 0, 0);
	expect("*p/a@autosnap_2026-01-01_01:00:00_hourly\n", -EINVAL, 0, 0);
	expect("+p/a@autosnap_2026-01-01_01:00:00_hourly", -EINVAL, 0, 0);
	expect("+p/a@autosnap_2026-01-01_01:00:00_hourly\n\n", -EINVAL, 0, 0);
	expect("+p/a@autosnap_2026-01-01_01:00:00_hourly\n-p/a@manual\n", -EINVAL, 0, 0);
}

static void test_nul(void **state)
{
	static const char report[] = "+p/a@autosnap_2026-01-01_01:00:00_hourly\0\n";
	_cleanup_strvec_ struct strvec added = STRVEC_INIT, removed = STRVEC_INIT;
	assert_int_equal(parse(report, sizeof(report) - 1, &added, &removed), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_nul),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
