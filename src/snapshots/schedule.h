/*
 * snapshots/schedule.h - which snapshot types are due, exactly as sanoid decides.
 *
 * For each type with a count above 0, sanoid computes the "last preferred
 * time": the most recent moment, not after now, at which that type should
 * have been taken (hourly: this hour at hourly_min; daily: today at
 * daily_hour:daily_min, else yesterday; weekly: weekly_wday at
 * weekly_hour:weekly_min; monthly: monthly_mday of this month, else 31 days
 * before; yearly: yearly_mon/yearly_mday of this year; frequently: the start
 * of the current frequent_period slice of the hour). A type is due when its
 * newest snapshot is older than that moment, or there is none. The
 * arithmetic, including its corrections on the day DST ends, is ported from
 * sanoid's take_snapshots() line by line (with timelocal() from autosnap.h),
 * so that zkeep takes the same snapshots at the same runs. One deliberate
 * difference: in the hour repeated at the end of DST, sanoid takes no
 * frequently snapshots (its slice start lands in the first pass of the
 * hour); zkeep takes them, named with the "dst" form.
 *
 * Every type due in one run gets the same timestamp: the run's "now".
 *
 * Pure: now and the newest snapshot times are passed in.
 */
#ifndef ZKEEP_SCHEDULE_H
#define ZKEEP_SCHEDULE_H

#include "base/zkeep.h"
#include "snapshots/sanoid_config.h"
#include "base/strvec.h"

#include <time.h>

#define SCHEDULE_NONE INT64_MIN /* no snapshot of the type */

struct schedule {
	unsigned due;     /* bit (1 << type) for each due type */
	/*
	 * On the day DST ended, sanoid lets the first due type decide whether a
	 * name that exists already (the repeated hour) gets the "dst" form.
	 */
	bool handle_dst;
	time_t last_preferred[SNAP_NTYPES]; /* for types with count > 0 */
};

/*
 * Decide for one dataset. newest[t] is the creation time of its newest
 * managed snapshot of type t, or SCHEDULE_NONE. Nothing is due when the
 * policy has autosnap off or process_children_only set.
 */
void schedule_due(const struct sanoid_policy *p, time_t now, const int64_t newest[SNAP_NTYPES],
		  struct schedule *out);

/*
 * The snapshot names (short, after '@') for the due types of s, in type
 * order, all with the timestamp now: "autosnap_<now>_<type>". A name for
 * which exists(ctx, name) is true (the hour repeated at the end of DST) gets
 * the form "autosnap_<now>dst_<type>"; if that exists too, the type is left
 * out. types gets the type name of each entry (may be NULL).
 */
void schedule_names(const struct schedule *s, time_t now,
		    bool (*exists)(void *ctx, const char *name), void *ctx,
		    struct strvec *names, struct strvec *types);

/* sanoid's last preferred time of one type (see above). */
time_t schedule_last_preferred(const struct sanoid_policy *p, enum snap_type t, time_t now,
			       bool *handle_dst);

#endif
