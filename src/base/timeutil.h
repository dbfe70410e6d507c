/*
 * base/timeutil.h - what time it is, and time as sanoid and syncoid write it.
 *
 * zkeep_now() is the one source of "now" for all scheduling and naming. Tests
 * set ZKEEP_NOW (seconds since the epoch, UTC) to simulate a year of runs in
 * seconds; it is documented as a test hook, not a feature (docs/environment.md).
 * This library does not read the environment: main.c hands the variable's
 * value over once, through zkeep_now_override().
 *
 * Local time follows the TZ environment variable as libc does; names are in
 * local time (sanoid's rule), schedules are computed on local calendar fields.
 */
#ifndef ZKEEP_TIMEUTIL_H
#define ZKEEP_TIMEUTIL_H

#include "base/zkeep.h"
#include "base/strbuf.h"

#include <time.h>

/*
 * The faked clock: value is ZKEEP_NOW's text, NULL when the variable is unset.
 * A non-empty value is parsed here (seconds since the epoch); a bad one makes
 * every later zkeep_now() fail, so the command reports it where it asks.
 */
void zkeep_now_override(const char *value);
/* Whether an override was given (even an empty one): names then carry the time. */
bool zkeep_now_overridden(void);

/* Now, or the overriding value when one is set (a bad value aborts the run
 * with an error from the caller: returns -EINVAL then). */
int zkeep_now(time_t *out);

/* Local broken-down time of t (localtime_r). */
void time_local(time_t t, struct tm *tm);

/* "YYYY-MM-DD_hh:mm:ss" of local time t into sb. */
void time_format_sanoid(struct strbuf *sb, time_t t);

/*
 * The UTC offset of local time t as syncoid writes it after "GMT":
 * "+01:00" is written "01:00", "-05:00" stays "-05:00".
 */
void time_format_gmt_offset(struct strbuf *sb, time_t t);

/* ISO 8601 local time with offset for humans and JSON: "2026-11-22T16:02:21+01:00". */
void time_format_iso(struct strbuf *sb, time_t t);

/*
 * Parse "YYYY-MM-DD_hh:mm:ss" (local time) at s; returns the number of
 * characters consumed (19) with *out set, or -EINVAL. The result is the
 * mktime() of those fields with tm_isdst = -1 (libc picks; the ambiguous hour
 * at the end of DST is resolved by libc's choice).
 */
int time_parse_sanoid(const char *s, time_t *out);

#endif
