#include "unit.h"
#include "snapshots/retention.h"

static struct sanoid_policy policy(void)
{
	struct sanoid_policy p = { 0 };
	p.autoprune = true;
	p.frequent_period = 15;
	p.count[SNAP_HOURLY] = 3;
	p.count[SNAP_DAILY] = 2;
	return p;
}

#define H 3600
static void test_rule(void **state)
{
	struct sanoid_policy p = policy();
	time_t now = 1000000;
	struct retain_snap s[] = {
		{ "autosnap_a_hourly", now - 6 * H },
		{ "autosnap_b_hourly", now - 5 * H },
		{ "autosnap_c_hourly", now - 4 * H },
		{ "autosnap_d_hourly", now - 3 * H }, /* exactly COUNT periods: kept */
		{ "autosnap_e_hourly", now - 2 * H },
		{ "keepme_hourly", now - 100 * H },   /* not sanoid's */
		{ "autosnap_x_daily", now - 10 * 86400 }, /* old but only 1 of 2 */
	};
	/* a and b go; c is old enough but then only 3 would be left */
	assert_int_equal(retention_plan(&p, now, s, ARRAY_SIZE(s)), 2);
	assert_int_equal(s[0].verdict, RETAIN_PRUNE);
	assert_int_equal(s[1].verdict, RETAIN_PRUNE);
	assert_int_equal(s[2].verdict, RETAIN_KEEP);
	assert_int_equal(s[3].verdict, RETAIN_KEEP);
	assert_int_equal(s[4].verdict, RETAIN_KEEP);
	assert_int_equal(s[5].verdict, RETAIN_KEEP);
	assert_int_equal(s[6].verdict, RETAIN_KEEP);
}

static void test_count_limits_age(void **state)
{
	/* all old, but never fewer than COUNT left: the newest COUNT stay */
	struct sanoid_policy p = policy();
	time_t now = 10000000;
	struct retain_snap s[] = {
		{ "autosnap_1_hourly", now - 90 * H }, { "autosnap_3_hourly", now - 70 * H },
		{ "autosnap_2_hourly", now - 80 * H }, { "autosnap_4_hourly", now - 60 * H },
	};
	assert_int_equal(retention_plan(&p, now, s, 4), 1);
	assert_int_equal(s[0].verdict, RETAIN_PRUNE);
	assert_int_equal(s[1].verdict + s[2].verdict + s[3].verdict, RETAIN_KEEP);
}

static void test_count_zero_prunes_all(void **state)
{
	struct sanoid_policy p = policy();
	time_t now = 10000000;
	struct retain_snap s[] = {
		{ "autosnap_1_weekly", now - 1 }, { "autosnap_2_weekly", now },
		{ "autosnap_3_frequently", now - 60 },
	};
	assert_int_equal(retention_plan(&p, now, s, 3), 2);
	assert_int_equal(s[0].verdict, RETAIN_PRUNE);
	assert_int_equal(s[1].verdict, RETAIN_KEEP); /* not older than now */
	assert_int_equal(s[2].verdict, RETAIN_PRUNE);
	p.autoprune = false;
	assert_int_equal(retention_plan(&p, now, s, 3), 0);
	p.autoprune = true;
	p.process_children_only = true;
	assert_int_equal(retention_plan(&p, now, s, 3), 0);
}

static void test_held_and_protected(void **state)
{
	struct sanoid_policy p = policy();
	time_t now = 10000000;
	struct retain_snap s[] = {
		{ "autosnap_1_hourly", now - 90 * H, .held = true },
		{ "autosnap_2_hourly", now - 80 * H, .protected_ = true },
		{ "autosnap_3_hourly", now - 70 * H },
		{ "autosnap_4_hourly", now - 60 * H },
		{ "autosnap_5_hourly", now - 50 * H },
		{ "autosnap_6_hourly", now - 1 * H },
	};
	/* sanoid would prune 1, 2, 3: 1 and 2 stay and no newer one goes instead */
	assert_int_equal(retention_plan(&p, now, s, 6), 1);
	assert_int_equal(s[0].verdict, RETAIN_KEPT_HELD);
	assert_int_equal(s[1].verdict, RETAIN_KEPT_PROTECTED);
	assert_int_equal(s[2].verdict, RETAIN_PRUNE);
	assert_int_equal(s[3].verdict, RETAIN_KEEP);
}

static void test_periods_and_defer(void **state)
{
	struct sanoid_policy p = policy();
	p.frequent_period = 5;
	assert_int_equal(retention_period(&p, SNAP_FREQUENTLY), 300);
	assert_int_equal(retention_period(&p, SNAP_WEEKLY), 604800);
	assert_int_equal(retention_period(&p, SNAP_MONTHLY), 31 * 86400);
	assert_int_equal(retention_period(&p, SNAP_YEARLY), 31557600);
	assert_false(retention_deferred(&p, 0));
	p.prune_defer = 60;
	assert_true(retention_deferred(&p, 10));
	assert_true(retention_deferred(&p, 60));
	assert_false(retention_deferred(&p, 61));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_count_limits_age),
		cmocka_unit_test(test_count_zero_prunes_all),
		cmocka_unit_test(test_held_and_protected),
		cmocka_unit_test(test_periods_and_defer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
