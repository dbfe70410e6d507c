/*
 * autosnap.c - sanoid snapshot names and a port of Perl's timelocal.
 */
#include "base/zkeep.h"
#include "snapshots/autosnap.h"
#include "base/parse.h"
#include "base/timeutil.h"

void autosnap_format(struct strbuf *sb, time_t t, bool dst, enum snap_type type)
{
	strbuf_addstr(sb, "autosnap_");
	time_format_sanoid(sb, t);
	strbuf_addf(sb, "%s_%s", dst ? "dst" : "", snap_type_names[type]);
}

int autosnap_type(const char *short_name)
{
	const char *us;
	if (!skip_prefix(short_name, "autosnap"))
		return -1;
	us = strrchr(short_name, '_');
	if (!us)
		return -1;
	return snap_type_from_name(us + 1, strlen(us + 1));
}

static int num(const char *s, size_t len, unsigned max, int *out)
{
	uint64_t v;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	if (parse_u64_n(s, len, &v) < 0 || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int mon0, int year)
{
	static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return md[mon0] + (mon0 == 1 && is_leap(year));
}

/* timegm of the fields (proleptic Gregorian, no normalisation needed). */
static int64_t fields_gm(int sec, int min, int hour, int mday, int mon0, int year)
{
	/* days from civil, after Howard Hinnant */
	int y = year - (mon0 < 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int m = mon0 + 1;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + mday - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;
	return days * 86400 + hour * 3600 + min * 60 + sec;
}

/* Perl's _timegm(localtime(t)): t plus its UTC offset. */
static int64_t loc_gm(int64_t t)
{
	struct tm tm;
	time_local((time_t)t, &tm);
	return fields_gm(tm.tm_sec, tm.tm_min, tm.tm_hour, tm.tm_mday, tm.tm_mon, tm.tm_year + 1900);
}

time_t sanoid_timelocal(int sec, int min, int hour, int mday, int mon0, int year)
{
	int64_t ref_t, zone_off, loc_t, dst_off;
	struct tm tm;

	if (mday > month_days(mon0, year))
		mday = month_days(mon0, year);
	ref_t = fields_gm(sec, min, hour, mday, mon0, year);
	zone_off = loc_gm(ref_t) - ref_t;
	if (!zone_off)
		return (time_t)ref_t;
	loc_t = ref_t - zone_off;
	dst_off = ref_t - loc_gm(loc_t);
	/* The second hour after a backward DST change: take the earlier one. */
	if (!dst_off && (ref_t - 3600) - loc_gm(loc_t - 3600) < 0)
		return (time_t)(loc_t - 3600);
	loc_t += dst_off;
	if (dst_off > 0)
		return (time_t)loc_t;
	/* A time in the gap of a forward jump: undo the adjustment. */
	time_local((time_t)loc_t, &tm);
	if (tm.tm_sec != sec || tm.tm_min != min || tm.tm_hour != hour)
		loc_t -= dst_off;
	return (time_t)loc_t;
}

int autosnap_time(const char *short_name, time_t *t)
{
	const char *s = skip_prefix(short_name, "autosnap_");
	int y, mo, d, h, mi, se;
	bool dst;
	time_t r;
	struct tm tm;

	if (!s || strlen(s) < 20 || autosnap_type(short_name) < 0)
		return -EINVAL;
	if (s[4] != '-' || s[7] != '-' || s[10] != '_' || s[13] != ':' || s[16] != ':')
		return -EINVAL;
	if (num(s, 4, 9999, &y) || num(s + 5, 2, 12, &mo) || num(s + 8, 2, 31, &d) ||
	    num(s + 11, 2, 23, &h) || num(s + 14, 2, 59, &mi) || num(s + 17, 2, 60, &se))
		return -EINVAL;
	if (y < 1970 || mo < 1 || d < 1 || d > month_days(mo - 1, y))
		return -EINVAL;
	if (s[19] == '_')
		dst = false;
	else if (skip_prefix(s + 19, "dst_"))
		dst = true;
	else
		return -EINVAL;
	r = sanoid_timelocal(se, mi, h, d, mo - 1, y);
	if (dst) {
		/* the later of the two instants with these local fields, if any */
		time_local(r + 3600, &tm);
		if (tm.tm_hour == h && tm.tm_min == mi && tm.tm_mday == d)
			r += 3600;
	}
	*t = r;
	return 0;
}
