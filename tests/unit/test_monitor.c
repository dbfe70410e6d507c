/* sanoid's monitor verdicts (snapshots/monitor.h), without a pool. */
#include "unit.h"
#include "snapshots/monitor.h"

static int age(int64_t elapsed, int64_t warn, int64_t crit, bool dont_warn, bool dont_crit,
	       const char *want)
{
	_cleanup_strbuf_ struct strbuf m = STRBUF_INIT;
	int l = monitor_snapshot_age("tank/fs", "hourly", elapsed, warn, crit, dont_warn, dont_crit,
				     &m);
	assert_string_equal(m.buf, want);
	return l;
}

static void test_snapshot_age(void **state)
{
	/* fresh */
	assert_int_equal(age(600, 5400, 21600, false, false, ""), 0);
	/* older than warn */
	assert_int_equal(age(6000, 5400, 21600, false, false,
			     "WARN: tank/fs newest hourly snapshot is 1h 40m 0s old (should be < 1h 30m 0s)"),
			 1);
	assert_int_equal(age(6000, 5400, 21600, true, false,
			     "WARN: tank/fs newest hourly snapshot is 1h 40m 0s old (should be < 1h 30m 0s)"),
			 0);
	/* warn not checked */
	assert_int_equal(age(6000, 0, 21600, false, false, ""), 0);
	/* older than crit */
	assert_int_equal(age(172805, 5400, 21600, false, false,
			     "CRIT: tank/fs newest hourly snapshot is 2d 0h 0m 5s old (should be < 6h 0m 0s)"),
			 2);
	assert_int_equal(age(172805, 5400, 21600, false, true,
			     "CRIT: tank/fs newest hourly snapshot is 2d 0h 0m 5s old (should be < 6h 0m 0s)"),
			 0);
	/* none at all */
	assert_int_equal(age(-1, 5400, 21600, false, false, "CRIT: tank/fs has no hourly snapshots at all!"),
			 2);
	/* crit not checked: an old or missing snapshot is not even a warning (sanoid) */
	assert_int_equal(age(172805, 5400, 0, false, false, ""), 0);
	assert_int_equal(age(-1, 5400, 0, false, false, ""), 0);
}

static void test_parse_zpool_list(void **state)
{
	_cleanup_strbuf_ struct strbuf size = STRBUF_INIT, cap = STRBUF_INIT, health = STRBUF_INIT,
				       fr = STRBUF_INIT;
	const char *text = "NAME    SIZE  CAP  HEALTH  FREE\n"
			   "tank2    1G   3%  ONLINE  990M\n"
			   "tank   960M  12%  DEGRADED  845M\n";
	monitor_parse_zpool_list(text, "tank", &size, &cap, &health, &fr);
	assert_string_equal(size.buf, "960M");
	assert_string_equal(cap.buf, "12%");
	assert_string_equal(health.buf, "DEGRADED");
	assert_string_equal(fr.buf, "845M");
	/* the header is never the pool, a missing pool leaves health empty */
	strbuf_reset(&health);
	monitor_parse_zpool_list("tank SIZE CAP HEALTH FREE\n", "tank", &size, &cap, &health, &fr);
	assert_string_equal(health.buf, "");
	monitor_parse_zpool_list(text, "nosuch", &size, &cap, &health, &fr);
	assert_string_equal(health.buf, "");
}

static void test_vdev_damage(void **state)
{
	_cleanup_release_(zpool_status) struct zpool_status st = ZPOOL_STATUS_INIT;
	const char *text = "  pool: tank\n"
			   " state: DEGRADED\n"
			   "config:\n"
			   "\n"
			   "\tNAME        STATE     READ WRITE CKSUM\n"
			   "\ttank        DEGRADED     0     0     0\n"
			   "\t  mirror-0  DEGRADED     0     0     0\n"
			   "\t    /f/a    ONLINE       0     0     3\n"
			   "\t    /f/b    FAULTED      0     0     0\n"
			   "\n"
			   "errors: No known data errors\n";
	assert_int_equal(zpool_parse_status(text, strlen(text), &st), 0);
	_cleanup_strbuf_ struct strbuf dmge = STRBUF_INIT;
	int level = 1; /* DEGRADED */
	monitor_vdev_damage(&st, &level, &dmge);
	assert_int_equal(level, 1);
	assert_non_null(strstr(dmge.buf, "(/f/a:cksum errors)"));
	assert_non_null(strstr(dmge.buf, "/f/b:FAULTED"));
	assert_null(strstr(dmge.buf, "tank:"));

	/* an ONLINE pool with a checksum error becomes WARNING */
	_cleanup_release_(zpool_status) struct zpool_status ok = ZPOOL_STATUS_INIT;
	const char *t2 = "  pool: tank\n"
			 " state: ONLINE\n"
			 "config:\n"
			 "\n"
			 "\tNAME        STATE     READ WRITE CKSUM\n"
			 "\ttank        ONLINE       0     0     0\n"
			 "\t  /f/a      ONLINE       0     2     0\n"
			 "\n"
			 "errors: No known data errors\n";
	assert_int_equal(zpool_parse_status(t2, strlen(t2), &ok), 0);
	strbuf_reset(&dmge);
	level = 0;
	monitor_vdev_damage(&ok, &level, &dmge);
	assert_int_equal(level, 1);
	assert_string_equal(dmge.buf, "(/f/a:write errors) ");
}

static void test_capacity_state(void **state)
{
	assert_int_equal(monitor_capacity_state(50, 80, 95), 0);
	assert_int_equal(monitor_capacity_state(80, 80, 95), 1);
	assert_int_equal(monitor_capacity_state(96, 80, 95), 2);
	assert_int_equal(monitor_capacity_state(96, 0, 95), 2);
	assert_int_equal(monitor_capacity_state(96, 80, 0), 1);
	assert_int_equal(monitor_capacity_state(100, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_age),
		cmocka_unit_test(test_parse_zpool_list),
		cmocka_unit_test(test_vdev_damage),
		cmocka_unit_test(test_capacity_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
