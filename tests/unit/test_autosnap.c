#include "unit.h"
#include "snapshots/autosnap.h"

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void test_format(void **state)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	set_tz("Europe/Vienna");
	/* 2026-07-01 10:00:00 UTC = 12:00 CEST */
	autosnap_format(&sb, 1782900000, false, SNAP_HOURLY);
	assert_string_equal(sb.buf, "autosnap_2026-07-01_12:00:00_hourly");
	strbuf_reset(&sb);
	autosnap_format(&sb, 1782900005, true, SNAP_FREQUENTLY);
	assert_string_equal(sb.buf, "autosnap_2026-07-01_12:00:05dst_frequently");
}

static void test_type(void **state)
{
	assert_int_equal(autosnap_type("autosnap_2026-07-01_12:00:00_hourly"), SNAP_HOURLY);
	assert_int_equal(autosnap_type("autosnap_2026-07-01_12:00:00dst_daily"), SNAP_DAILY);
	assert_int_equal(autosnap_type("autosnap_2026-07-01_12:00:00_yearly"), SNAP_YEARLY);
	assert_int_equal(autosnap_type("autosnap_foo_monthly"), SNAP_MONTHLY);
	/* not sanoid's: never counted, never pruned */
	assert_int_equal(autosnap_type("autosnap_2026-07-01_12:00:00_xhourly"), -1);
	assert_int_equal(autosnap_type("autosnap_2026-07-01_12:00:00_hourly.keep"), -1);
	assert_int_equal(autosnap_type("manual_2026-07-01_12:00:00_hourly"), -1);
	assert_int_equal(autosnap_type("syncoid_host_2026-07-01:12:00:00-GMT02:00"), -1);
	assert_int_equal(autosnap_type("autosnaphourly"), -1);
	assert_int_equal(autosnap_type("hourly"), -1);
	assert_int_equal(autosnap_type(""), -1);
}

static void test_timelocal_matches_perl(void **state)
{
	/* Values from perl -MTime::Local (Time::Local 1.30). */
	set_tz("Europe/Vienna");
	assert_int_equal(sanoid_timelocal(0, 30, 2, 25, 9, 2026), 1792888200); /* twice: earlier */
	assert_int_equal(sanoid_timelocal(0, 30, 2, 29, 2, 2026), 1774747800); /* gap */
	assert_int_equal(sanoid_timelocal(0, 0, 3, 29, 2, 2026), 1774746000);
	assert_int_equal(sanoid_timelocal(0, 0, 2, 29, 2, 2026), 1774746000);
	assert_int_equal(sanoid_timelocal(0, 59, 23, 25, 9, 2026), 1792969140);
	assert_int_equal(sanoid_timelocal(0, 0, 0, 1, 0, 2026), 1767222000);
	set_tz("America/New_York");
	assert_int_equal(sanoid_timelocal(0, 30, 1, 1, 10, 2026), 1793511000);
	assert_int_equal(sanoid_timelocal(0, 30, 2, 8, 2, 2026), 1772955000);
	set_tz("UTC");
	assert_int_equal(sanoid_timelocal(0, 0, 0, 1, 0, 1970), 0);
	/* past the end of the month: clamped */
	assert_int_equal(sanoid_timelocal(0, 0, 0, 31, 1, 2026), sanoid_timelocal(0, 0, 0, 28, 1, 2026));
}

static void test_time_from_name(void **state)
{
	time_t t;
	set_tz("Europe/Vienna");
	assert_int_equal(autosnap_time("autosnap_2026-07-01_12:00:00_hourly", &t), 0);
	assert_int_equal(t, 1782900000);
	/* the repeated hour: plain name is the first, dst name the second */
	assert_int_equal(autosnap_time("autosnap_2026-10-25_02:30:00_frequently", &t), 0);
	assert_int_equal(t, 1792888200);
	assert_int_equal(autosnap_time("autosnap_2026-10-25_02:30:00dst_frequently", &t), 0);
	assert_int_equal(t, 1792888200 + 3600);
	assert_int_equal(autosnap_time("autosnap_foo_hourly", &t), -EINVAL);
	assert_int_equal(autosnap_time("autosnap_2026-02-30_12:00:00_hourly", &t), -EINVAL);
	assert_int_equal(autosnap_time("autosnap_2026-07-01_12:00:00x_hourly", &t), -EINVAL);
	assert_int_equal(autosnap_time("autosnap_2026-07-01_12:00:00_weekly", &t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_timelocal_matches_perl),
		cmocka_unit_test(test_time_from_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
