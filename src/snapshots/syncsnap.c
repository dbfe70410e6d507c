/* syncsnap.c - see syncsnap.h. */
#include "base/zkeep.h"
#include "snapshots/syncsnap.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

bool syncsnap_identifier_valid(const char *id)
{
	if (!id || !*id)
		return false;
	for (const char *p = id; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '-' || c == '_' || c == ':' || c == '.';
		if (!ok)
			return false;
	}
	return true;
}

char *syncsnap_prefix(const char *id, const char *hostname)
{
	if (id && *id)
		return xasprintf("syncoid_%s_%s", id, hostname);
	return xasprintf("syncoid_%s", hostname);
}

char *syncsnap_name(const char *prefix, time_t t)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, prefix);
	strbuf_addch(&sb, '_');
	time_format_sanoid(&sb, t);
	strbuf_addstr(&sb, "-GMT");
	time_format_gmt_offset(&sb, t);
	return strbuf_detach(&sb);
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "YYYY-MM-DD[_:]hh:mm:ss-GMT[-]hh:mm", the whole string. */
static bool stamp_valid(const char *s)
{
	if (strlen(s) < 19 + 4 + 5)
		return false;
	if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
		return false;
	if (s[10] != '_' && s[10] != ':')
		return false;
	if (!digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' ||
	    !digits(s + 17, 2))
		return false;
	const char *p = skip_prefix(s + 19, "-GMT");
	if (!p)
		return false;
	if (*p == '-')
		p++;
	return strlen(p) == 5 && digits(p, 2) && p[2] == ':' && digits(p + 3, 2);
}

bool syncsnap_matches(const char *short_name, const char *prefix)
{
	const char *p = skip_prefix(short_name, prefix);
	return p && *p == '_' && stamp_valid(p + 1);
}

bool syncsnap_is_sync(const char *short_name)
{
	const char *p = skip_prefix(short_name, "syncoid_");
	if (!p)
		return false;
	/* the stamp is the last 28 or 29 characters, after a '_' */
	size_t n = strlen(p);
	for (size_t len = 28; len <= 29; len++)
		if (n > len && p[n - len - 1] == '_' && stamp_valid(p + n - len))
			return true;
	return false;
}

bool syncsnap_hold_tag_protects(const char *tag)
{
	return skip_prefix(tag, "syncoid_") || skip_prefix(tag, "zkeep_");
}
