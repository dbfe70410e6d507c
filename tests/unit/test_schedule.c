/*
 * The schedule and the prune rule together, run as zkeep runs them: a model
 * dataset, runs at fixed intervals, each taking what is due (one timestamp)
 * and pruning by the list as it was before the run took anything (sanoid
 * does the same). The expectations are worked out by hand in the comments.
 */
#include "unit.h"
#include "snapshots/schedule.h"
#include "snapshots/retention.h"
#include "snapshots/autosnap.h"
#include "snapshots/snapshot_engine.h"
#include "base/timeutil.h"

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

struct sim {
	struct retain_snap *s;
	size_t n;
	unsigned taken_runs;
};

static bool sim_exists(void *ctx, const char *name)
{
	struct sim *sim = ctx;
	for (size_t i = 0; i < sim->n; i++)
		if (streq(sim->s[i].name, name))
			return true;
	return false;
}

static void sim_run(struct sim *sim, const struct sanoid_policy *p, time_t now)
{
	int64_t newest[SNAP_NTYPES];
	struct schedule sch;
	_cleanup_strvec_ struct strvec names = STRVEC_INIT;

	for (int t = 0; t < SNAP_NTYPES; t++)
		newest[t] = SCHEDULE_NONE;
	for (size_t i = 0; i < sim->n; i++) {
		int t = autosnap_type(sim->s[i].name);
		if (t >= 0 && sim->s[i].ctime > newest[t])
			newest[t] = sim->s[i].ctime;
	}
	schedule_due(p, now, newest, &sch);
	schedule_names(&sch, now, sim_exists, sim, &names, NULL);

	retention_plan(p, now, sim->s, sim->n);
	size_t j = 0;
	for (size_t i = 0; i < sim->n; i++) {
		if (sim->s[i].verdict == RETAIN_PRUNE)
			free((char *)sim->s[i].name);
		else
			sim->s[j++] = sim->s[i];
	}
	sim->n = j;
	if (names.n)
		sim->taken_runs++;
	for (size_t i = 0; i < names.n; i++) {
		sim->s = xreallocarray(sim->s, sim->n + 1, sizeof(*sim->s));
		sim->s[sim->n++] = (struct retain_snap){ .name = xstrdup(names.v[i]), .ctime = now };
	}
}

static void sim_free(struct sim *sim)
{
	for (size_t i = 0; i < sim->n; i++)
		free((char *)sim->s[i].name);
	free(sim->s);
}

static size_t sim_count(const struct sim *sim, enum snap_type t, const char **oldest)
{
	size_t c = 0;
	int64_t o = INT64_MAX;
	for (size_t i = 0; i < sim->n; i++) {
		if (autosnap_type(sim->s[i].name) != (int)t)
			continue;
		c++;
		if (sim->s[i].ctime < o) {
			o = sim->s[i].ctime;
			if (oldest)
				*oldest = sim->s[i].name;
		}
	}
	return c;
}

static struct sanoid_policy default_policy(void)
{
	/* the shipped defaults */
	struct sanoid_policy p = { 0 };
	p.autosnap = p.autoprune = true;
	p.count[SNAP_HOURLY] = 48;
	p.count[SNAP_DAILY] = 90;
	p.count[SNAP_MONTHLY] = 6;
	p.frequent_period = 15;
	p.hourly_min = 0;
	p.daily_hour = 23;
	p.daily_min = 59;
	p.weekly_wday = 1;
	p.weekly_hour = 23;
	p.weekly_min = 30;
	p.monthly_mday = 1;
	p.yearly_mon = 1;
	p.yearly_mday = 1;
	return p;
}

static void test_year_of_hourly_runs(void **state)
{
	struct sanoid_policy p = default_policy();
	struct sim sim = { 0 };
	const char *oldest = NULL;
	set_tz("Europe/Vienna");
	/* 2026-01-01 00:00 CET to 2027-01-01 00:00 CET, every hour: 8761 runs */
	time_t start = 1767222000, end = start + 365 * 86400;
	for (time_t t = start; t <= end; t += 3600)
		sim_run(&sim, &p, t);
	assert_int_equal(sim.taken_runs, 8761);
	/*
	 * Hourly: the run prunes from the list before its own snapshot, so the
	 * 48 of the last 48 h stay plus the new one.
	 */
	assert_int_equal(sim_count(&sim, SNAP_HOURLY, &oldest), 49);
	assert_string_equal(oldest, "autosnap_2026-12-30_00:00:00_hourly");
	/*
	 * Daily: taken by the 00:00 run (the first after 23:59). 90 kept plus
	 * the new one: Oct 3 .. Dec 31 and Jan 1.
	 */
	assert_int_equal(sim_count(&sim, SNAP_DAILY, &oldest), 91);
	assert_string_equal(oldest, "autosnap_2026-10-03_00:00:00_daily");
	/* Monthly: Jul 1 .. Dec 1 (6) plus Jan 1 2027. */
	assert_int_equal(sim_count(&sim, SNAP_MONTHLY, &oldest), 7);
	assert_string_equal(oldest, "autosnap_2026-07-01_00:00:00_monthly");
	assert_int_equal(sim_count(&sim, SNAP_WEEKLY, NULL) + sim_count(&sim, SNAP_YEARLY, NULL) +
				 sim_count(&sim, SNAP_FREQUENTLY, NULL), 0);
	assert_int_equal(sim.n, 49 + 91 + 7);
	sim_free(&sim);
}

/* Every UTC hour from..to has exactly one hourly; every run one frequently. */
static void check_dst_day(time_t from, time_t to, const char *dst_name, size_t ndst)
{
	struct sanoid_policy p = default_policy();
	struct sim sim = { 0 };
	size_t runs = 0, dsts = 0;
	p.count[SNAP_HOURLY] = 1000;
	p.count[SNAP_FREQUENTLY] = 1000;
	for (time_t t = from; t <= to; t += 900, runs++)
		sim_run(&sim, &p, t);
	assert_int_equal(sim_count(&sim, SNAP_FREQUENTLY, NULL), runs);
	assert_int_equal(sim_count(&sim, SNAP_HOURLY, NULL), (size_t)(to - from) / 3600 + 1);
	for (size_t i = 0; i < sim.n; i++) {
		int t = autosnap_type(sim.s[i].name);
		if (t == SNAP_HOURLY)
			assert_int_equal(sim.s[i].ctime % 3600, 0);
		if (strstr(sim.s[i].name, "dst_"))
			dsts++;
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(sim.s[i].name, sim.s[j].name);
	}
	if (dst_name)
		assert_true(sim_exists(&sim, dst_name));
	assert_int_equal(dsts, ndst);
	sim_free(&sim);
}

static void test_dst_end_vienna(void **state)
{
	set_tz("Europe/Vienna");
	/* 2026-10-25 00:00 CEST .. 2026-10-26 00:00 CET: 25 hours */
	check_dst_day(1792879200, 1792879200 + 25 * 3600,
		      "autosnap_2026-10-25_02:00:00dst_hourly", 1 + 4);
}

static void test_dst_start_vienna(void **state)
{
	set_tz("Europe/Vienna");
	/* 2026-03-29 00:00 CET .. 2026-03-30 00:00 CEST: 23 hours */
	check_dst_day(1774738800, 1774738800 + 23 * 3600, NULL, 0);
}

static void test_preferred_times(void **state)
{
	struct sanoid_policy p = default_policy();
	bool hd;
	set_tz("UTC");
	/* Wed 2026-07-01 12:34:56 UTC */
	time_t now = 1782909296;
	p.hourly_min = 40;
	assert_int_equal(schedule_last_preferred(&p, SNAP_HOURLY, now, &hd), 1782909296 - 34 * 60 - 56 - 20 * 60);
	p.daily_hour = 6, p.daily_min = 0;
	assert_int_equal(schedule_last_preferred(&p, SNAP_DAILY, now, &hd), 1782885600); /* 06:00 today */
	p.daily_hour = 23, p.daily_min = 59;
	assert_int_equal(schedule_last_preferred(&p, SNAP_DAILY, now, &hd), 1782863940); /* 23:59 yesterday */
	/* weekly: Monday 23:30 -> Mon 2026-06-29 23:30 */
	assert_int_equal(schedule_last_preferred(&p, SNAP_WEEKLY, now, &hd), 1782775800);
	/* monthly on the 15th: not yet this month -> 31 days before Jul 15 */
	p.monthly_mday = 15;
	assert_int_equal(schedule_last_preferred(&p, SNAP_MONTHLY, now, &hd), 1784073600 - 31 * 86400);
	p.monthly_mday = 1;
	assert_int_equal(schedule_last_preferred(&p, SNAP_MONTHLY, now, &hd), 1782864000);
	assert_int_equal(schedule_last_preferred(&p, SNAP_YEARLY, now, &hd), 1767225600);
	p.frequent_period = 15;
	assert_int_equal(schedule_last_preferred(&p, SNAP_FREQUENTLY, now, &hd), 1782909296 - 4 * 60 - 56);

	/* due: none existing -> every type with a count; one existing since -> not */
	int64_t newest[SNAP_NTYPES];
	struct schedule s;
	for (int t = 0; t < SNAP_NTYPES; t++)
		newest[t] = SCHEDULE_NONE;
	schedule_due(&p, now, newest, &s);
	assert_int_equal(s.due, (1u << SNAP_HOURLY) | (1u << SNAP_DAILY) | (1u << SNAP_MONTHLY));
	newest[SNAP_HOURLY] = now - 60;
	newest[SNAP_DAILY] = 1782863940;     /* exactly at the preferred time: fine */
	newest[SNAP_MONTHLY] = 1782864000 - 1; /* a second too early: due */
	schedule_due(&p, now, newest, &s);
	assert_int_equal(s.due, 1u << SNAP_MONTHLY);
	p.autosnap = false;
	schedule_due(&p, now, newest, &s);
	assert_int_equal(s.due, 0);
}

static void test_displaytime_matches_perl(void **state)
{
	/* perl: sanoid's displaytime() on 6000, 5400, 7, 172805, -1, 0, 3600, 2764800 */
	static const int64_t in[] = { 6000, 5400, 7, 172805, -1, 0, 3600, 2764800 };
	static const char *const want[] = { "1h 40m 0s", "1h 30m 0s", "7s", "2d 0h 0m 5s",
					    "-1s", "0s", "1h 0m 0s", "32d 0h 0m 0s" };
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
		sanoid_displaytime(&sb, in[i]);
		assert_string_equal(sb.buf, want[i]);
	}
}

/*
 * The year of tests/integration/30-sanoid-year.bats, which a real pool cannot
 * afford hour by hour under emulation: a policy of hourly 24, daily 14,
 * monthly 6 and, of the year's hourly runs, only those a result depends on -
 * every hour of the last 25 hours (the last run included), 00:00 of the last
 * 15 days, 00:00 on the 1st of every month: 50 runs instead of 8,761. It must keep exactly what the full year of
 * hourly runs keeps, and that is COUNT + 1 of each type (COUNT within the
 * type's period of the last run, plus the last run's own), the oldest COUNT
 * periods before the end. The bats test asserts the same rule on the pool.
 */
#define YEAR_HOURLY 24
#define YEAR_DAILY 14
#define YEAR_MONTHLY 6

static bool year_run_kept(time_t t, time_t end)
{
	struct tm tm;
	time_local(t, &tm);
	if (t > end - (YEAR_HOURLY + 1) * 3600)
		return true;
	if (tm.tm_hour || tm.tm_min)
		return false;
	return tm.tm_mday == 1 || t > end - (YEAR_DAILY + 1) * 86400;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct retain_snap *)a)->name, ((const struct retain_snap *)b)->name);
}

static void test_bounded_year_keeps_what_the_hourly_year_keeps(void **state)
{
	struct sanoid_policy p = default_policy();
	struct sim full = { 0 }, bounded = { 0 };
	const char *oldest = NULL;
	size_t runs = 0;
	set_tz("Europe/Vienna");
	p.count[SNAP_HOURLY] = YEAR_HOURLY;
	p.count[SNAP_DAILY] = YEAR_DAILY;
	p.count[SNAP_MONTHLY] = YEAR_MONTHLY;
	/* 2026-01-01 00:00 CET to 2027-01-01 00:00 CET */
	time_t start = 1767222000, end = start + 365 * 86400;
	for (time_t t = start; t <= end; t += 3600) {
		sim_run(&full, &p, t);
		if (year_run_kept(t, end)) {
			sim_run(&bounded, &p, t);
			runs++;
		}
	}
	/* the 1sts Jan 1 .. Dec 1, the midnights Dec 18 .. Dec 30, then Dec 31 00:00 .. Jan 1 00:00 */
	assert_int_equal(runs, 12 + 13 + 25);
	assert_int_equal(bounded.n, full.n);
	qsort(full.s, full.n, sizeof(*full.s), cmp_name);
	qsort(bounded.s, bounded.n, sizeof(*bounded.s), cmp_name);
	for (size_t i = 0; i < full.n; i++)
		assert_string_equal(bounded.s[i].name, full.s[i].name);
	assert_int_equal(sim_count(&bounded, SNAP_HOURLY, &oldest), YEAR_HOURLY + 1);
	assert_string_equal(oldest, "autosnap_2026-12-31_00:00:00_hourly");
	assert_int_equal(sim_count(&bounded, SNAP_DAILY, &oldest), YEAR_DAILY + 1);
	assert_string_equal(oldest, "autosnap_2026-12-18_00:00:00_daily");
	assert_int_equal(sim_count(&bounded, SNAP_MONTHLY, &oldest), YEAR_MONTHLY + 1);
	assert_string_equal(oldest, "autosnap_2026-07-01_00:00:00_monthly");
	assert_int_equal(bounded.n, YEAR_HOURLY + 1 + YEAR_DAILY + 1 + YEAR_MONTHLY + 1);
	sim_free(&full);
	sim_free(&bounded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_year_of_hourly_runs),
		cmocka_unit_test(test_bounded_year_keeps_what_the_hourly_year_keeps),
		cmocka_unit_test(test_dst_end_vienna),
		cmocka_unit_test(test_dst_start_vienna),
		cmocka_unit_test(test_preferred_times),
		cmocka_unit_test(test_displaytime_matches_perl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
