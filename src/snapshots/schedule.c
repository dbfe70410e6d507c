/*
 * schedule.c - sanoid's take_snapshots() decision, ported.
 *
 * Variable names follow the Perl so the two can be read side by side.
 */
#include "base/zkeep.h"
#include "snapshots/schedule.h"
#include "snapshots/autosnap.h"
#include "base/timeutil.h"

time_t schedule_last_preferred(const struct sanoid_policy *p, enum snap_type type, time_t now,
			       bool *handle_dst)
{
	struct tm ds, tmp;
	int64_t lastpreferred = 0, dst_offset = 0;
	int year;

	time_local(now, &ds);
	year = ds.tm_year + 1900;
	*handle_dst = false;

	/* DST ended today when the day started in DST and now is not. */
	time_t daystart = sanoid_timelocal(0, 0, 0, ds.tm_mday, ds.tm_mon, year);
	time_local(daystart, &tmp);
	if ((tmp.tm_isdst > 0) != (ds.tm_isdst > 0) && tmp.tm_isdst > 0)
		dst_offset = 3600;

	switch (type) {
	case SNAP_FREQUENTLY:
		/*
		 * sanoid: timelocal(0, slice * period, hour, mday, mon, year), less
		 * one period if later than now. In the hour repeated at the end of
		 * DST timelocal() answers the first pass of that hour, so sanoid
		 * takes no frequently snapshot for an hour. The start of the
		 * current slice is now less the minutes and seconds into it: the
		 * same instant at every other time, and the right one in that hour.
		 */
		lastpreferred = (int64_t)now - (int64_t)(ds.tm_min % (int)p->frequent_period) * 60 - ds.tm_sec;
		break;
	case SNAP_HOURLY:
		lastpreferred = sanoid_timelocal(0, (int)p->hourly_min, ds.tm_hour, ds.tm_mday,
						 ds.tm_mon, year);
		if (dst_offset) {
			lastpreferred += dst_offset;
			*handle_dst = true;
		}
		if (lastpreferred > now)
			lastpreferred -= 3600;
		break;
	case SNAP_DAILY:
		lastpreferred = sanoid_timelocal(0, (int)p->daily_min, (int)p->daily_hour, ds.tm_mday,
						 ds.tm_mon, year);
		lastpreferred += dst_offset;
		time_local((time_t)lastpreferred, &tmp);
		if ((tmp.tm_isdst > 0) != (ds.tm_isdst > 0) && !(tmp.tm_isdst > 0))
			lastpreferred -= 3600;
		if (lastpreferred > now) {
			lastpreferred -= 86400;
			if (dst_offset)
				lastpreferred -= 2 * dst_offset;
		}
		break;
	case SNAP_WEEKLY: {
		int offset = 0;
		if ((int)p->weekly_wday < ds.tm_wday)
			offset += 7;
		offset += (int)p->weekly_wday - ds.tm_wday;
		lastpreferred = sanoid_timelocal(0, (int)p->weekly_min, (int)p->weekly_hour, ds.tm_mday,
						 ds.tm_mon, year);
		lastpreferred += (int64_t)offset * 86400;
		if (lastpreferred > now)
			lastpreferred -= 7 * 86400;
		break;
	}
	case SNAP_MONTHLY:
		lastpreferred = sanoid_timelocal(0, (int)p->monthly_min, (int)p->monthly_hour,
						 (int)p->monthly_mday, ds.tm_mon, year);
		if (lastpreferred > now)
			lastpreferred -= 31 * 86400;
		break;
	case SNAP_YEARLY:
		lastpreferred = sanoid_timelocal(0, (int)p->yearly_min, (int)p->yearly_hour,
						 (int)p->yearly_mday, (int)p->yearly_mon - 1, year);
		/* sanoid subtracts 31 * 365.25 days here, not one year; kept as is */
		if (lastpreferred > now)
			lastpreferred -= (int64_t)86400 * 31 * 36525 / 100;
		break;
	case SNAP_NTYPES:
		break;
	}
	return (time_t)lastpreferred;
}

void schedule_due(const struct sanoid_policy *p, time_t now, const int64_t newest[SNAP_NTYPES],
		  struct schedule *out)
{
	bool first = true;

	memset(out, 0, sizeof(*out));
	if (!p->autosnap || p->process_children_only)
		return;
	for (int t = 0; t < SNAP_NTYPES; t++) {
		bool hd;
		if (!p->count[t])
			continue;
		out->last_preferred[t] = schedule_last_preferred(p, (enum snap_type)t, now, &hd);
		/* sanoid: due when (now - newest) > (now - lastpreferred) */
		if (newest[t] == SCHEDULE_NONE || newest[t] < (int64_t)out->last_preferred[t]) {
			out->due |= 1u << t;
			if (first)
				out->handle_dst = hd;
			first = false;
		}
	}
}

void schedule_names(const struct schedule *s, time_t now,
		    bool (*exists)(void *ctx, const char *name), void *ctx,
		    struct strvec *names, struct strvec *types)
{
	for (int t = 0; t < SNAP_NTYPES; t++) {
		_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
		if (!(s->due & (1u << t)))
			continue;
		autosnap_format(&sb, now, false, (enum snap_type)t);
		if (exists && exists(ctx, sb.buf)) {
			strbuf_reset(&sb);
			autosnap_format(&sb, now, true, (enum snap_type)t);
			if (exists(ctx, sb.buf))
				continue;
		}
		strvec_push(names, sb.buf);
		if (types)
			strvec_push(types, snap_type_names[t]);
	}
}
