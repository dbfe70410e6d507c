#include "unit.h"
#include "base/timeutil.h"

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void test_now_override(void **state)
{
	time_t t;
	zkeep_now_override("1700000000");
	assert_true(zkeep_now_overridden());
	assert_int_equal(zkeep_now(&t), 0);
	assert_int_equal(t, 1700000000);
	zkeep_now_override("17x");
	assert_int_equal(zkeep_now(&t), -EINVAL);
	zkeep_now_override("");
	assert_true(zkeep_now_overridden());
	assert_int_equal(zkeep_now(&t), 0);
	assert_true(t > 1700000000);
	zkeep_now_override(NULL);
	assert_false(zkeep_now_overridden());
	assert_int_equal(zkeep_now(&t), 0);
	assert_true(t > 1700000000);
}

static void test_sanoid_format_local_time(void **state)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	set_tz("Europe/Vienna");
	/* 2026-07-01 10:00:00 UTC is 12:00 in Vienna (CEST). */
	time_format_sanoid(&sb, 1782900000);
	assert_string_equal(sb.buf, "2026-07-01_12:00:00");
	strbuf_reset(&sb);
	time_format_gmt_offset(&sb, 1782900000);
	assert_string_equal(sb.buf, "02:00");
	set_tz("America/New_York");
	strbuf_reset(&sb);
	time_format_gmt_offset(&sb, 1782900000);
	assert_string_equal(sb.buf, "-04:00");
	strbuf_reset(&sb);
	time_format_iso(&sb, 1782900000);
	assert_string_equal(sb.buf, "2026-07-01T06:00:00-04:00");
	set_tz("UTC");
	strbuf_reset(&sb);
	time_format_gmt_offset(&sb, 1782900000);
	assert_string_equal(sb.buf, "00:00");
}

static void test_parse_round_trip(void **state)
{
	time_t t;
	set_tz("Europe/Vienna");
	assert_int_equal(time_parse_sanoid("2026-07-01_12:00:00_hourly", &t), 19);
	assert_int_equal(t, 1782900000);
	assert_int_equal(time_parse_sanoid("2026-13-01_12:00:00", &t), -EINVAL);
	assert_int_equal(time_parse_sanoid("2026-07-01 12:00:00", &t), -EINVAL);
	assert_int_equal(time_parse_sanoid("2026-07-01_12:00", &t), -EINVAL);
	assert_int_equal(time_parse_sanoid("", &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_now_override),
		cmocka_unit_test(test_sanoid_format_local_time),
		cmocka_unit_test(test_parse_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
