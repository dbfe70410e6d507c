/*
 * snapshots/autosnap.h - sanoid's snapshot names, and local time as Perl's timelocal.
 *
 * A name sanoid takes is "autosnap_YYYY-MM-DD_hh:mm:ss_TYPE", the time in
 * local time; when that name exists already (the hour repeated at the end of
 * daylight saving time) it is "autosnap_YYYY-MM-DD_hh:mm:ssdst_TYPE".
 *
 * Which snapshots sanoid manages: a name that starts with "autosnap" and
 * ends in "_TYPE" with TYPE a known type. Only those are counted, monitored
 * and ever pruned; anything else is not zkeep's to destroy.
 *
 * All pure; local time follows TZ as libc does.
 */
#ifndef ZKEEP_AUTOSNAP_H
#define ZKEEP_AUTOSNAP_H

#include "base/zkeep.h"
#include "snapshots/sanoid_config.h"
#include "base/strbuf.h"

#include <time.h>

/* Append "autosnap_<local time of t>[dst]_<type>" to sb. */
void autosnap_format(struct strbuf *sb, time_t t, bool dst, enum snap_type type);

/* The type of a sanoid-managed snapshot name (the part after '@'), or -1. */
int autosnap_type(const char *short_name);

/*
 * The time written in a name of the full form above: 0 and *t, or -EINVAL
 * (a managed name need not carry a parseable time: "autosnap_foo_hourly").
 * A time of the repeated hour at the end of DST is the first occurrence, or
 * the second one for a "dst" name.
 */
int autosnap_time(const char *short_name, time_t *t);

/*
 * Perl's Time::Local::timelocal(sec, min, hour, mday, mon0, year), ported
 * step by step: local fields to seconds, the earlier instant for a time that
 * occurs twice, Time::Local's answer for a time in the gap of a DST jump.
 * mday past the end of the month is clamped to its last day (timelocal
 * would die there).
 */
time_t sanoid_timelocal(int sec, int min, int hour, int mday, int mon0, int year);

#endif
