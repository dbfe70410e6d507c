/* sendopts.c - see sendopts.h. */
#include "base/zkeep.h"
#include "replication/sendopts.h"

static const char *allowed_for(enum sendopts_kind kind)
{
	switch (kind) {
	case SENDOPTS_FULL:
		return "LPVRXbcehpsvw";
	case SENDOPTS_BOOKMARK:
		return "LVcew";
	case SENDOPTS_RESUME:
		return "PVev";
	case SENDOPTS_RECV:
		return "hoxuv";
	}
	return "";
}

bool sendopts_allowed(enum sendopts_kind kind, char c)
{
	return c && strchr(allowed_for(kind), c) != NULL;
}

static bool takes_value(char c, bool recv)
{
	return recv ? (c == 'o' || c == 'x') : c == 'X';
}

void sendopts_release(struct sendopts *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->value[i]);
	o->n = 0;
}

void recvopts_prop_names(const char *recvoptions, struct strvec *names)
{
	_cleanup_strvec_ struct strvec words = STRVEC_INIT;
	recvopts_prop_words(recvoptions, &words);
	for (size_t i = 0; i < words.n; i++) {
		_cleanup_free_ char *k = xstrndup(words.v[i], strcspn(words.v[i], "="));
		if (strvec_find(names, k) < 0)
			strvec_push(names, k);
	}
}

void recvopts_prop_words(const char *recvoptions, struct strvec *words)
{
	struct sendopts ro = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	if (sendopts_parse(recvoptions, true, &ro, &err) == 0)
		for (size_t i = 0; i < ro.n; i++)
			if ((ro.flag[i] == 'o' || ro.flag[i] == 'x') && ro.value[i] &&
			    strvec_find(words, ro.value[i]) < 0)
				strvec_push(words, ro.value[i]);
	sendopts_release(&ro);
}

bool sendopts_has(const struct sendopts *o, char c)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->flag[i] == c)
			return true;
	return false;
}

int sendopts_parse(const char *s, bool recv, struct sendopts *o, struct strbuf *err)
{
	_cleanup_strvec_ struct strvec words = STRVEC_INIT;
	const char *what = recv ? "--recvoptions" : "--sendoptions";

	o->recv = recv;
	o->n = 0;
	if (!s)
		return 0;
	strvec_split(&words, s, " \t");
	for (size_t w = 0; w < words.n; w++) {
		const char *group = words.v[w];
		/* a leading '-' is harmless ("-w"), syncoid users write both */
		if (*group == '-')
			group++;
		for (const char *p = group; *p; p++) {
			char c = *p;
			bool ok = recv ? sendopts_allowed(SENDOPTS_RECV, c)
				       : sendopts_allowed(SENDOPTS_FULL, c);
			if (!ok) {
				strbuf_addf(err,
					    "%s: '%c' is not a flag zkeep can pass to zfs %s (allowed: %s)",
					    what, c, recv ? "receive" : "send",
					    recv ? allowed_for(SENDOPTS_RECV) : allowed_for(SENDOPTS_FULL));
				sendopts_release(o);
				return -EINVAL;
			}
			if (o->n >= SENDOPTS_MAX) {
				strbuf_addf(err, "%s: more than %d flags", what, SENDOPTS_MAX);
				sendopts_release(o);
				return -EINVAL;
			}
			o->flag[o->n] = c;
			o->value[o->n] = NULL;
			if (takes_value(c, recv)) {
				if (w + 1 >= words.n) {
					strbuf_addf(err, "%s: '%c' needs a value after it (e.g. \"%s\")",
						    what, c,
						    c == 'o'   ? "o compression=lz4"
						    : c == 'x' ? "x recordsize"
							       : "X pool/fs/skip");
					sendopts_release(o);
					return -EINVAL;
				}
				o->value[o->n] = xstrdup(words.v[++w]);
			}
			o->n++;
		}
	}
	return 0;
}

void sendopts_args(const struct sendopts *o, enum sendopts_kind kind, struct strbuf *flags,
		   struct strvec *set_props, struct strvec *exclude_props,
		   struct strvec *send_excludes, struct strbuf *dropped)
{
	for (size_t i = 0; i < o->n; i++) {
		char c = o->flag[i];
		if (!sendopts_allowed(kind, c)) {
			if (dropped)
				strbuf_addch(dropped, c);
			continue;
		}
		if (kind == SENDOPTS_RECV && c == 'o') {
			if (set_props)
				strvec_push(set_props, o->value[i]);
		} else if (kind == SENDOPTS_RECV && c == 'x') {
			if (exclude_props)
				strvec_push(exclude_props, o->value[i]);
		} else if (kind != SENDOPTS_RECV && c == 'X') {
			if (send_excludes)
				strvec_push(send_excludes, o->value[i]);
		} else if (!strchr(flags->buf, c)) {
			strbuf_addch(flags, c);
		}
	}
}
