/* timeutil.c - see timeutil.h. */
#include "base/timeutil.h"
#include "base/parse.h"

static struct {
	bool given;   /* the variable was set, maybe empty */
	bool active;  /* it was set and not empty */
	int err;      /* 0, or -EINVAL when it was not a number */
	time_t value;
} fake_now;

void zkeep_now_override(const char *value)
{
	fake_now.given = value != NULL;
	fake_now.active = value && *value;
	fake_now.err = 0;
	fake_now.value = 0;
	if (fake_now.active) {
		int64_t v;
		if (parse_i64(value, &v) < 0)
			fake_now.err = -EINVAL;
		else
			fake_now.value = (time_t)v;
	}
}

bool zkeep_now_overridden(void)
{
	return fake_now.given;
}

int zkeep_now(time_t *out)
{
	if (fake_now.active) {
		if (fake_now.err < 0)
			return fake_now.err;
		*out = fake_now.value;
		return 0;
	}
	*out = time(NULL);
	return 0;
}

void time_local(time_t t, struct tm *tm)
{
	tzset();
	if (!localtime_r(&t, tm))
		memset(tm, 0, sizeof(*tm));
}

void time_format_sanoid(struct strbuf *sb, time_t t)
{
	struct tm tm;
	time_local(t, &tm);
	strbuf_addf(sb, "%04d-%02d-%02d_%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void time_format_gmt_offset(struct strbuf *sb, time_t t)
{
	struct tm tm;
	time_local(t, &tm);
	long off = tm.tm_gmtoff;
	const char *sign = off < 0 ? "-" : "";
	if (off < 0)
		off = -off;
	strbuf_addf(sb, "%s%02ld:%02ld", sign, off / 3600, (off / 60) % 60);
}

void time_format_iso(struct strbuf *sb, time_t t)
{
	struct tm tm;
	char buf[64];
	time_local(t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", &tm);
	/* %z gives +0100; ISO 8601 extended wants +01:00 */
	size_t n = strlen(buf);
	if (n >= 5) {
		strbuf_add(sb, buf, n - 2);
		strbuf_addch(sb, ':');
		strbuf_add(sb, buf + n - 2, 2);
	} else {
		strbuf_addstr(sb, buf);
	}
}

static int digits(const char *s, size_t n, unsigned min, unsigned max, int *out)
{
	uint64_t v;
	if (parse_u64_n(s, n, &v) < 0 || v < min || v > max)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int time_parse_sanoid(const char *s, time_t *out)
{
	/* YYYY-MM-DD_hh:mm:ss */
	static const char shape[] = "dddd-dd-dd_dd:dd:dd";
	struct tm tm = { 0 };
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (!s[i])
			return -EINVAL;
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return -EINVAL;
	}
	if (digits(s, 4, 1970, 9999, &tm.tm_year) < 0 || digits(s + 5, 2, 1, 12, &tm.tm_mon) < 0 ||
	    digits(s + 8, 2, 1, 31, &tm.tm_mday) < 0 || digits(s + 11, 2, 0, 23, &tm.tm_hour) < 0 ||
	    digits(s + 14, 2, 0, 59, &tm.tm_min) < 0 || digits(s + 17, 2, 0, 60, &tm.tm_sec) < 0)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	tzset();
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = t;
	return (int)(sizeof(shape) - 1);
}
