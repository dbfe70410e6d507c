/* monitor.c - see monitor.h. */
#include "snapshots/monitor.h"
#include "base/strvec.h"

void sanoid_displaytime(struct strbuf *sb, int64_t elapsed)
{
	int64_t days = elapsed / 86400, hours, minutes;
	_cleanup_strbuf_ struct strbuf h = STRBUF_INIT;
	elapsed -= days * 86400;
	hours = elapsed / 3600;
	elapsed -= hours * 3600;
	minutes = elapsed / 60;
	elapsed -= minutes * 60;
	if (days)
		strbuf_addf(&h, " %lldd", (long long)days);
	if (hours || days)
		strbuf_addf(&h, " %lldh", (long long)hours);
	if (minutes || hours || days)
		strbuf_addf(&h, " %lldm", (long long)minutes);
	strbuf_addf(&h, " %llds", (long long)elapsed);
	strbuf_addstr(sb, h.buf + 1);
}

int monitor_snapshot_age(const char *path, const char *type, int64_t elapsed, int64_t warn,
			 int64_t crit, bool dont_warn, bool dont_crit, struct strbuf *msg)
{
	_cleanup_strbuf_ struct strbuf de = STRBUF_INIT, dw = STRBUF_INIT, dc = STRBUF_INIT;
	sanoid_displaytime(&de, elapsed);
	sanoid_displaytime(&dw, warn);
	sanoid_displaytime(&dc, crit);
	if (elapsed > crit || elapsed == -1) {
		if (crit <= 0)
			return 0;
		if (elapsed == -1)
			strbuf_addf(msg, "CRIT: %s has no %s snapshots at all!", path, type);
		else
			strbuf_addf(msg, "CRIT: %s newest %s snapshot is %s old (should be < %s)", path,
				    type, de.buf, dc.buf);
		return dont_crit ? 0 : 2;
	}
	if (elapsed > warn && warn > 0) {
		strbuf_addf(msg, "WARN: %s newest %s snapshot is %s old (should be < %s)", path, type,
			    de.buf, dw.buf);
		return dont_warn ? 0 : 1;
	}
	return 0;
}

/* Next whitespace-separated word of s into w; returns the rest or NULL. */
static const char *word(const char *s, struct strbuf *w)
{
	strbuf_reset(w);
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	while (*s && *s != ' ' && *s != '\t')
		strbuf_addch(w, *s++);
	return s;
}

void monitor_parse_zpool_list(const char *text, const char *pool, struct strbuf *size,
			      struct strbuf *cap, struct strbuf *health, struct strbuf *free_space)
{
	_cleanup_free_ char *buf = xstrdup(text);
	for (char *l = buf, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		const char *rest = skip_prefix(l, pool);
		if (!rest || (*rest != ' ' && *rest != '\t') || l == buf)
			continue;
		rest = word(rest, size);
		if (rest)
			rest = word(rest, cap);
		if (rest)
			rest = word(rest, health);
		if (rest)
			word(rest, free_space);
	}
}

void monitor_vdev_damage(const struct zpool_status *st, int *state, struct strbuf *dmge)
{
	for (size_t i = 0; i < st->n; i++) {
		const struct zpool_status_vdev *v = &st->v[i];
		unsigned ws = v->indent;
		if (v->pool || ws == 0 ||
		    (ws == 5 && (streq(v->name, "spare") || streq(v->name, "replacing"))))
			continue;
		if (*state == 0 && streq(v->state, "UNAVAIL"))
			*state = 1;
		if (*state == 0 || streq(v->state, "ONLINE") || streq(v->state, "AVAIL") ||
		    streq(v->state, "INUSE")) {
			_cleanup_strvec_ struct strvec errs = STRVEC_INIT;
			if (!streq(v->read, "0"))
				strvec_push(&errs, "read");
			if (!streq(v->write, "0"))
				strvec_push(&errs, "write");
			if (!streq(v->cksum, "0"))
				strvec_push(&errs, "cksum");
			if (errs.n) {
				_cleanup_free_ char *j = strvec_join(&errs, ", ");
				strbuf_addf(dmge, "(%s:%s errors) ", v->name, j);
				if (*state == 0)
					*state = 1;
			}
			continue;
		}
		if (ws == 3)
			strbuf_addf(dmge, "<%s:%s> ", v->name, v->state);
		else if (ws == 7)
			strbuf_addf(dmge, "(%s:%s) ", v->name, v->state);
		else
			strbuf_addf(dmge, "%s:%s ", v->name, v->state);
	}
}

int monitor_capacity_state(unsigned capacity, unsigned warn, unsigned crit)
{
	int state = 0;
	if (warn && capacity >= warn)
		state = 1;
	if (crit && capacity >= crit)
		state = 2;
	return state;
}
