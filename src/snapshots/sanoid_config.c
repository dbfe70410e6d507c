/*
 * sanoid_config.c - sanoid.conf checking and policy resolution.
 *
 * The files are read as sanoid reads them (sanoid_ini.h: Config::IniFiles' rules);
 * this file checks every key, and every value against what sanoid 2.3.0 makes of it.
 */
#include "base/zkeep.h"
#include "snapshots/sanoid_config.h"
#include "snapshots/sanoid_ini.h"
#include "base/parse.h"
#include "zfs/zfs.h"

#include <ctype.h>
#include <fcntl.h>

const char *const snap_type_names[SNAP_NTYPES] = {
	"yearly", "monthly", "weekly", "daily", "hourly", "frequently",
};

int snap_type_from_name(const char *name, size_t len)
{
	for (int t = 0; t < SNAP_NTYPES; t++)
		if (strlen(snap_type_names[t]) == len && memcmp(snap_type_names[t], name, len) == 0)
			return t;
	return -1;
}

/* ---- the keys zkeep knows, with their types ----------------------------- */

enum key_type {
	KT_STRING,
	KT_BOOL,      /* empty = false */
	KT_RECURSIVE, /* bool or "zfs" */
	KT_UINT,      /* in [min, max] */
	KT_DURATION,  /* number with optional y w d h m s suffix */
};

enum key_id {
	K_PATH, K_RECURSIVE, K_USE_TEMPLATE, K_PROCESS_CHILDREN_ONLY, K_SKIP_CHILDREN,
	K_PRE_SNAPSHOT_SCRIPT, K_POST_SNAPSHOT_SCRIPT, K_PRE_PRUNING_SCRIPT, K_PRUNING_SCRIPT,
	K_SCRIPT_TIMEOUT, K_NO_INCONSISTENT_SNAPSHOT, K_FORCE_POST_SNAPSHOT_SCRIPT,
	K_FREQUENT_PERIOD, K_AUTOPRUNE, K_AUTOSNAP,
	K_YEARLY, K_MONTHLY, K_WEEKLY, K_DAILY, K_HOURLY, K_FREQUENTLY, /* snap_type order */
	K_PRUNE_DEFER, K_HOURLY_MIN, K_DAILY_HOUR, K_DAILY_MIN, K_WEEKLY_WDAY, K_WEEKLY_HOUR,
	K_WEEKLY_MIN, K_MONTHLY_MDAY, K_MONTHLY_HOUR, K_MONTHLY_MIN, K_YEARLY_MON, K_YEARLY_MDAY,
	K_YEARLY_HOUR, K_YEARLY_MIN, K_MONITOR, K_MONITOR_DONT_WARN, K_MONITOR_DONT_CRIT,
	K_YEARLY_WARN, K_YEARLY_CRIT, K_MONTHLY_WARN, K_MONTHLY_CRIT, K_WEEKLY_WARN,
	K_WEEKLY_CRIT, K_DAILY_WARN, K_DAILY_CRIT, K_HOURLY_WARN, K_HOURLY_CRIT,
	K_FREQUENTLY_WARN, K_FREQUENTLY_CRIT, /* snap_type order, warn then crit */
	K_CAPACITY_WARN, K_CAPACITY_CRIT,
	K_NKEYS,
};

struct key_def {
	const char *name;
	enum key_type type;
	unsigned min, max;
};

#define COUNT_MAX 1000000u
static const struct key_def keys[K_NKEYS] = {
	[K_PATH] = { "path", KT_STRING, 0, 0 },
	[K_RECURSIVE] = { "recursive", KT_RECURSIVE, 0, 0 },
	[K_USE_TEMPLATE] = { "use_template", KT_STRING, 0, 0 },
	[K_PROCESS_CHILDREN_ONLY] = { "process_children_only", KT_BOOL, 0, 0 },
	[K_SKIP_CHILDREN] = { "skip_children", KT_BOOL, 0, 0 },
	[K_PRE_SNAPSHOT_SCRIPT] = { "pre_snapshot_script", KT_STRING, 0, 0 },
	[K_POST_SNAPSHOT_SCRIPT] = { "post_snapshot_script", KT_STRING, 0, 0 },
	[K_PRE_PRUNING_SCRIPT] = { "pre_pruning_script", KT_STRING, 0, 0 },
	[K_PRUNING_SCRIPT] = { "pruning_script", KT_STRING, 0, 0 },
	[K_SCRIPT_TIMEOUT] = { "script_timeout", KT_UINT, 0, 86400 },
	[K_NO_INCONSISTENT_SNAPSHOT] = { "no_inconsistent_snapshot", KT_BOOL, 0, 0 },
	[K_FORCE_POST_SNAPSHOT_SCRIPT] = { "force_post_snapshot_script", KT_BOOL, 0, 0 },
	[K_FREQUENT_PERIOD] = { "frequent_period", KT_UINT, 1, 1440 },
	[K_AUTOPRUNE] = { "autoprune", KT_BOOL, 0, 0 },
	[K_AUTOSNAP] = { "autosnap", KT_BOOL, 0, 0 },
	[K_YEARLY] = { "yearly", KT_UINT, 0, COUNT_MAX },
	[K_MONTHLY] = { "monthly", KT_UINT, 0, COUNT_MAX },
	[K_WEEKLY] = { "weekly", KT_UINT, 0, COUNT_MAX },
	[K_DAILY] = { "daily", KT_UINT, 0, COUNT_MAX },
	[K_HOURLY] = { "hourly", KT_UINT, 0, COUNT_MAX },
	[K_FREQUENTLY] = { "frequently", KT_UINT, 0, COUNT_MAX },
	[K_PRUNE_DEFER] = { "prune_defer", KT_UINT, 0, 100 },
	[K_HOURLY_MIN] = { "hourly_min", KT_UINT, 0, 59 },
	[K_DAILY_HOUR] = { "daily_hour", KT_UINT, 0, 23 },
	[K_DAILY_MIN] = { "daily_min", KT_UINT, 0, 59 },
	/* 0 and 7 are both Sunday; sanoid's arithmetic accepts either. */
	[K_WEEKLY_WDAY] = { "weekly_wday", KT_UINT, 0, 7 },
	[K_WEEKLY_HOUR] = { "weekly_hour", KT_UINT, 0, 23 },
	[K_WEEKLY_MIN] = { "weekly_min", KT_UINT, 0, 59 },
	[K_MONTHLY_MDAY] = { "monthly_mday", KT_UINT, 1, 31 },
	[K_MONTHLY_HOUR] = { "monthly_hour", KT_UINT, 0, 23 },
	[K_MONTHLY_MIN] = { "monthly_min", KT_UINT, 0, 59 },
	[K_YEARLY_MON] = { "yearly_mon", KT_UINT, 1, 12 },
	[K_YEARLY_MDAY] = { "yearly_mday", KT_UINT, 1, 31 },
	[K_YEARLY_HOUR] = { "yearly_hour", KT_UINT, 0, 23 },
	[K_YEARLY_MIN] = { "yearly_min", KT_UINT, 0, 59 },
	[K_MONITOR] = { "monitor", KT_BOOL, 0, 0 },
	[K_MONITOR_DONT_WARN] = { "monitor_dont_warn", KT_BOOL, 0, 0 },
	[K_MONITOR_DONT_CRIT] = { "monitor_dont_crit", KT_BOOL, 0, 0 },
	[K_YEARLY_WARN] = { "yearly_warn", KT_DURATION, 0, 0 },
	[K_YEARLY_CRIT] = { "yearly_crit", KT_DURATION, 0, 0 },
	[K_MONTHLY_WARN] = { "monthly_warn", KT_DURATION, 0, 0 },
	[K_MONTHLY_CRIT] = { "monthly_crit", KT_DURATION, 0, 0 },
	[K_WEEKLY_WARN] = { "weekly_warn", KT_DURATION, 0, 0 },
	[K_WEEKLY_CRIT] = { "weekly_crit", KT_DURATION, 0, 0 },
	[K_DAILY_WARN] = { "daily_warn", KT_DURATION, 0, 0 },
	[K_DAILY_CRIT] = { "daily_crit", KT_DURATION, 0, 0 },
	[K_HOURLY_WARN] = { "hourly_warn", KT_DURATION, 0, 0 },
	[K_HOURLY_CRIT] = { "hourly_crit", KT_DURATION, 0, 0 },
	[K_FREQUENTLY_WARN] = { "frequently_warn", KT_DURATION, 0, 0 },
	[K_FREQUENTLY_CRIT] = { "frequently_crit", KT_DURATION, 0, 0 },
	[K_CAPACITY_WARN] = { "capacity_warn", KT_UINT, 0, 100 },
	[K_CAPACITY_CRIT] = { "capacity_crit", KT_UINT, 0, 100 },
};

static int key_lookup(const char *name)
{
	for (int k = 0; k < K_NKEYS; k++)
		if (streq(keys[k].name, name))
			return k;
	return -1;
}

/*
 * The unit of a bare warn/crit number is one period "down" from the type, as
 * sanoid's monitor does: hourly_warn = 90 means 90 minutes.
 */
static const uint64_t bare_unit[SNAP_NTYPES] = {
	[SNAP_YEARLY] = 31 * 86400, [SNAP_MONTHLY] = 7 * 86400, [SNAP_WEEKLY] = 86400,
	[SNAP_DAILY] = 3600, [SNAP_HOURLY] = 60, [SNAP_FREQUENTLY] = 1,
};

/* Empty is false, as an unset toggle is in Perl. */
static int value_bool(const char *v, bool *out)
{
	if (!*v) {
		*out = false;
		return 0;
	}
	return parse_bool(v, out);
}

static int value_recursive(const char *v, enum sanoid_recursive *out)
{
	bool b;
	if (strcasecmp(v, "zfs") == 0) {
		*out = RECURSIVE_ZFS;
		return 0;
	}
	if (value_bool(v, &b) < 0)
		return -EINVAL;
	*out = b ? RECURSIVE_YES : RECURSIVE_NO;
	return 0;
}

/* Check v against key k's type; the reason into err when it does not fit. */
static int value_check(int k, const char *v, struct strbuf *why)
{
	const struct key_def *d = &keys[k];
	unsigned u;
	uint64_t secs;
	bool b;
	enum sanoid_recursive r;

	switch (d->type) {
	case KT_STRING:
		return 0;
	case KT_BOOL:
		if (value_bool(v, &b) == 0)
			return 0;
		strbuf_addf(why, "'%s' is not a boolean (yes/no, true/false, on/off, 1/0)", v);
		return -EINVAL;
	case KT_RECURSIVE:
		if (value_recursive(v, &r) == 0)
			return 0;
		strbuf_addf(why, "'%s' is not one of no, yes, zfs", v);
		return -EINVAL;
	case KT_UINT:
		if (parse_uint_range(v, d->min, d->max, &u) == 0)
			return 0;
		strbuf_addf(why, "'%s' is not a whole number from %u to %u", v, d->min, d->max);
		return -EINVAL;
	case KT_DURATION:
		if (parse_duration(v, 1, &secs) == 0)
			return 0;
		strbuf_addf(why, "'%s' is not an age (a number with an optional y, w, d, h, m or s)", v);
		return -EINVAL;
	}
	return -EINVAL;
}

/* ---- what sanoid 2.3.0 makes of a value ----------------------------------- */

/* sanoid's @istrue and @isfalse: toggles are compared with these exactly (eq). */
static const char *const sanoid_true[] = { "1", "true", "True", "TRUE", "yes", "Yes", "YES",
					   "on", "On", "ON" };
static const char *const sanoid_false[] = { "0", "false", "False", "FALSE", "no", "No", "NO",
					    "off", "Off", "OFF" };

static bool in_list(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (streq(v, list[i]))
			return true;
	return false;
}

/*
 * The number Perl's numeric context makes of a string (how sanoid reads every
 * number): blanks skipped, the longest decimal number at the start, 0 when there is
 * none, printed as Perl prints it. Returns where the number ends.
 */
static const char *perl_number(const char *v, struct strbuf *out)
{
	const char *s = v, *p;
	bool any;

	while (perl_space(*s))
		s++;
	p = s + (*s == '+' || *s == '-');
	if (!strncasecmp(p, "inf", 3) || !strncasecmp(p, "nan", 3)) {
		strbuf_addf(out, "%s%s", *s == '-' ? "-" : "",
			    tolower((unsigned char)*p) == 'i' ? "Inf" : "NaN");
		return s; /* not a number zkeep takes */
	}
	const char *digits = p;
	while (isdigit((unsigned char)*p))
		p++;
	any = p > digits;
	if (*p == '.') {
		const char *frac = ++p;
		while (isdigit((unsigned char)*p))
			p++;
		any = any || p > frac;
	}
	if (!any) {
		strbuf_addstr(out, "0");
		return s;
	}
	if (*p == 'e' || *p == 'E') {
		const char *q = p + 1;
		q += *q == '+' || *q == '-';
		if (isdigit((unsigned char)*q)) {
			while (isdigit((unsigned char)*q))
				q++;
			p = q;
		}
	}
	_cleanup_free_ char *num = xstrndup(s, (size_t)(p - s));
	strbuf_addf(out, "%.15g", strtod(num, NULL));
	return p;
}

/*
 * "48 # two days": a whole number, blanks, then '#' or ';' and anything. Perl reads
 * the number (and warns that the rest is not numeric); zkeep reads it the same.
 */
static bool number_then_comment(const char *v, unsigned min, unsigned max, unsigned *out)
{
	const char *p = v;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == v || !perl_space(*p))
		return false;
	const char *c = p;
	while (perl_space(*c))
		c++;
	if (*c != '#' && *c != ';')
		return false;
	_cleanup_free_ char *num = xstrndup(v, (size_t)(p - v));
	return parse_uint_range(num, min, max, out) == 0;
}

/*
 * A whole number in [min, max] as sanoid reads it, and as written: "48", "+3", "1.0",
 * "" (0), "48 # two days". Not "abc" (0 for sanoid), "1.5", "5x".
 */
static bool sanoid_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	_cleanup_strbuf_ struct strbuf num = STRBUF_INIT;
	if (parse_uint_range(*v ? v : "0", min, max, out) == 0 ||
	    number_then_comment(v, min, max, out))
		return true;
	const char *end = perl_number(v, &num);
	while (perl_space(*end))
		end++;
	return end > v && !*end && parse_uint_range(num.buf, min, max, out) == 0;
}

/* convertTimePeriod: /^\d+[yYwWdDhHmMsS]?$/, anything else is 1 second. */
static bool sanoid_duration(const char *v)
{
	const char *p = v;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == v)
		return false;
	if (*p && strchr("yYwWdDhHmMsS", *p))
		p++;
	return !*p;
}

/* Keys that become Time::Local arguments, which croaks on a value out of range. */
static bool is_time_of_day(int k)
{
	return k == K_HOURLY_MIN || k == K_DAILY_HOUR || k == K_DAILY_MIN || k == K_WEEKLY_HOUR ||
	       k == K_WEEKLY_MIN || k == K_MONTHLY_MDAY || k == K_MONTHLY_HOUR ||
	       k == K_MONTHLY_MIN || k == K_YEARLY_MON || k == K_YEARLY_MDAY ||
	       k == K_YEARLY_HOUR || k == K_YEARLY_MIN;
}

/*
 * Whether v, the value of key k as sanoid gets it, means to sanoid 2.3.0 what zkeep
 * reads. When not, why says what is wrong and what sanoid would make of it, and
 * -EINVAL is returned: the sections using it are refused. Strings are always fine.
 */
static int value_as_sanoid_reads(int k, const char *v, struct strbuf *why)
{
	const struct key_def *d = &keys[k];
	_cleanup_strbuf_ struct strbuf num = STRBUF_INIT;
	unsigned u;

	switch (d->type) {
	case KT_STRING:
		return 0;
	case KT_BOOL:
		if (!*v || in_list(v, sanoid_true, ARRAY_SIZE(sanoid_true)) ||
		    in_list(v, sanoid_false, ARRAY_SIZE(sanoid_false)))
			return 0;
		strbuf_addf(why, "'%s' is not one of yes/no, Yes/No, YES/NO, true/false, on/off, "
			    "1/0 (sanoid 2.3.0 would read it as %s)", v,
			    k == K_SKIP_CHILDREN ? "no" : "yes: any other text is true in Perl");
		return -EINVAL;
	case KT_RECURSIVE:
		/* sanoid: /^VALUE$/ against @istrue, and /zfs/i */
		if (!*v || in_list(v, sanoid_true, ARRAY_SIZE(sanoid_true)) ||
		    in_list(v, sanoid_false, ARRAY_SIZE(sanoid_false)) || strcasecmp(v, "zfs") == 0)
			return 0;
		strbuf_addf(why, "'%s' is not one of no, yes, zfs (sanoid 2.3.0 would read it as %s)",
			    v, strcasestr(v, "zfs") ? "zfs" : "no");
		return -EINVAL;
	case KT_UINT:
		if (sanoid_uint(v, d->min, d->max, &u))
			return 0;
		perl_number(v, &num);
		strbuf_addf(why, "'%s' is not a whole number from %u to %u (sanoid 2.3.0 would read "
			    "it as %s%s)", v, d->min, d->max, num.buf,
			    k == K_FREQUENT_PERIOD && streq(num.buf, "0")
				    ? " and die dividing by it when it takes snapshots"
				    : is_time_of_day(k) ? ", and die if Time::Local refuses it when it "
							  "takes snapshots" : "");
		return -EINVAL;
	case KT_DURATION:
		if (sanoid_duration(v))
			return 0;
		strbuf_addf(why, "'%s' is not an age (digits and one of y, w, d, h, m, s, or digits "
			    "alone; sanoid 2.3.0 would read it as 1 second)", v);
		return -EINVAL;
	}
	return -EINVAL;
}

/* ---- sections ------------------------------------------------------------ */

static void section_release(struct sanoid_section *s)
{
	for (size_t i = 0; i < s->nkv; i++) {
		free(s->kv[i].key);
		free(s->kv[i].value);
		free(s->kv[i].raw);
	}
	free(s->kv);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

static const struct sanoid_kv *section_get(const struct sanoid_section *s, const char *key)
{
	for (size_t i = 0; i < s->nkv; i++)
		if (streq(s->kv[i].key, key))
			return &s->kv[i];
	return NULL;
}

static const struct sanoid_section *config_section(const struct sanoid_config *cfg,
						   const char *name)
{
	for (size_t i = 0; i < cfg->nsections; i++)
		if (streq(cfg->sections[i].name, name))
			return &cfg->sections[i];
	return NULL;
}

/* Perl's s/^\s+|\s+$//g, as sanoid trims the values of sanoid.conf. */
static char *perl_trim(const char *v)
{
	const char *e = v + strlen(v);
	while (perl_space(*v))
		v++;
	while (e > v && perl_space(e[-1]))
		e--;
	return xstrndup(v, (size_t)(e - v));
}

/* A section as sanoid uses it: the first value of each key (an empty heredoc, undef
 * for sanoid, as an empty value). */
static void section_from_ini(struct sanoid_section *out, const struct sanoid_ini_section *in)
{
	*out = (struct sanoid_section){ .name = xstrdup(in->name), .line = in->line };
	out->kv = xcalloc(in->nkeys ? in->nkeys : 1, sizeof(*out->kv));
	for (size_t i = 0; i < in->nkeys; i++) {
		const struct sanoid_ini_key *k = &in->keys[i];
		const char *first = k->values.n ? k->values.v[0] : "";
		out->kv[out->nkv++] = (struct sanoid_kv){ xstrdup(k->name), perl_trim(first),
							  xstrdup(first), k->line };
	}
}

void sanoid_config_release(struct sanoid_config *cfg)
{
	for (size_t i = 0; i < cfg->nsections; i++)
		section_release(&cfg->sections[i]);
	free(cfg->sections);
	section_release(&cfg->defaults);
	free(cfg->file);
	free(cfg->defaults_file);
	strvec_release(&cfg->warnings);
	memset(cfg, 0, sizeof(*cfg));
}

#define MIN_DEFAULTS_VERSION 2

/* The defaults file: zkeep's own (or the admin's copy of sanoid's); every value must
 * be good, since every section gets them. */
static int read_defaults(struct sanoid_config *cfg, const char *text, size_t len,
			 const char *name, struct strbuf *err)
{
	_cleanup_release_(sanoid_ini) struct sanoid_ini ini = SANOID_INI_INIT;
	const struct sanoid_ini_section *ver, *def;
	const struct sanoid_ini_key *vk;
	unsigned version = 1;

	if (sanoid_ini_parse(&ini, text, len, name, err) < 0)
		return -EINVAL;
	ver = sanoid_ini_section(&ini, "version");
	vk = ver ? sanoid_ini_key(ver, "version") : NULL;
	if (vk && vk->values.n && parse_uint_range(vk->values.v[0], 0, 1000, &version) < 0) {
		strbuf_addf(err, "%s:%u: [version] version: '%s' is not a number", name, vk->line,
			    vk->values.v[0]);
		return -EINVAL;
	}
	def = sanoid_ini_section(&ini, "template_default");
	if (!def) {
		strbuf_addf(err, "%s: no [template_default] section", name);
		return -EINVAL;
	}
	if (version < MIN_DEFAULTS_VERSION) {
		strbuf_addf(err, "%s: version %u of the defaults file; version %d or later is needed",
			    name, version, MIN_DEFAULTS_VERSION);
		return -EINVAL;
	}
	section_from_ini(&cfg->defaults, def);
	for (size_t i = 0; i < cfg->defaults.nkv; i++) {
		const struct sanoid_kv *kv = &cfg->defaults.kv[i];
		int k = key_lookup(kv->key);
		_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
		if (k >= 0 && *kv->value && value_check(k, kv->value, &why) < 0) {
			strbuf_addf(err, "%s:%u: [template_default] %s: %s", name, kv->line, kv->key,
				    why.buf);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The names of use_template as sanoid splits them: split(' *, *', ...) (spaces only,
 * empty names kept except at the end, as Perl's split does), then trailing blanks cut
 * from each; "a b" is one name.
 */
static void template_names(const char *v, struct strvec *names)
{
	size_t keep = 0;
	for (;;) {
		const char *comma = strchr(v, ',');
		const char *e = comma ? comma : v + strlen(v);
		while (e > v && (comma ? e[-1] == ' ' : perl_space(e[-1])))
			e--;
		_cleanup_free_ char *name = xstrndup(v, (size_t)(e - v));
		const char *t = name + strlen(name);
		while (t > name && perl_space(t[-1]))
			t--;
		name[t - name] = '\0';
		strvec_push(names, name);
		if (*name)
			keep = names->n;
		if (!comma)
			break;
		v = comma + 1;
		while (*v == ' ')
			v++;
	}
	while (names->n > keep)
		strvec_pop(names);
}

/* sanoid.conf: unknown keys are fatal (sanoid dies); the rest is sanoid's to warn
 * about, and resolution's to judge per section. */
static int read_user(struct sanoid_config *cfg, const char *text, size_t len, const char *name,
		     struct strbuf *err)
{
	_cleanup_release_(sanoid_ini) struct sanoid_ini ini = SANOID_INI_INIT;

	if (sanoid_ini_parse(&ini, text, len, name, err) < 0)
		return -EINVAL;
	cfg->sections = xcalloc(ini.nsections, sizeof(*cfg->sections));
	for (size_t i = 0; i < ini.nsections; i++) {
		const struct sanoid_ini_section *is = &ini.sections[i];
		section_from_ini(&cfg->sections[cfg->nsections++], is);
		for (size_t j = 0; j < is->nkeys; j++) {
			const struct sanoid_ini_key *ik = &is->keys[j];
			const struct sanoid_kv *kv = &cfg->sections[i].kv[j];
			int k = key_lookup(ik->name);
			unsigned u;
			if (!section_get(&cfg->defaults, ik->name)) {
				strbuf_addf(err, "%s:%u: [%s] %s: unknown setting (not in %s; check the "
					    "spelling)", name, ik->line, is->name, ik->name,
					    cfg->defaults_file);
				return -EINVAL;
			}
			if (ik->values.n > 1) /* sanoid's words, and its spelling */
				strvec_pushf(&cfg->warnings, "duplicate key '%s' in section '%s', using the "
					     "value from the first occurence and ignoring the others.",
					     ik->name, is->name);
			if (k >= 0 && keys[k].type == KT_UINT &&
			    number_then_comment(kv->value, keys[k].min, keys[k].max, &u))
				strvec_pushf(&cfg->warnings, "%s:%u: [%s] %s: '%s' is read as %u, as sanoid "
					     "2.3.0 reads it (text after a value is not a comment: put "
					     "comments on lines of their own)", name, ik->line, is->name,
					     ik->name, kv->value, u);
		}
	}
	/* sanoid skips a use_template name that has no [template_NAME]. */
	for (size_t i = 0; i < cfg->nsections; i++) {
		const struct sanoid_section *s = &cfg->sections[i];
		const struct sanoid_kv *kv = section_get(s, "use_template");
		_cleanup_strvec_ struct strvec names = STRVEC_INIT;
		if (!kv)
			continue;
		template_names(kv->value, &names);
		for (size_t j = 0; j < names.n; j++) {
			_cleanup_free_ char *t = xasprintf("template_%s", names.v[j]);
			if (!config_section(cfg, t))
				strvec_pushf(&cfg->warnings, "%s:%u: [%s] use_template: no section [%s]: "
					     "template '%s' is ignored, as sanoid 2.3.0 ignores it",
					     name, kv->line, s->name, t, names.v[j]);
		}
	}
	return 0;
}

int sanoid_config_parse(struct sanoid_config *cfg, const char *conf, size_t conf_len,
			const char *file_name, const char *defaults, size_t defaults_len,
			const char *defaults_name, struct strbuf *err)
{
	memset(cfg, 0, sizeof(*cfg));
	strvec_init(&cfg->warnings);
	cfg->file = xstrdup(file_name);
	cfg->defaults_file = xstrdup(defaults_name);
	if (read_defaults(cfg, defaults, defaults_len, defaults_name, err) < 0 ||
	    read_user(cfg, conf, conf_len, file_name, err) < 0) {
		sanoid_config_release(cfg);
		return -EINVAL;
	}
	return 0;
}

int sanoid_config_load(struct sanoid_config *cfg, const char *dir, struct strbuf *err)
{
	_cleanup_free_ char *file = xasprintf("%s/sanoid.conf", dir);
	_cleanup_free_ char *dfile = xasprintf("%s/sanoid.defaults.conf", dir);
	_cleanup_strbuf_ struct strbuf conf = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf defaults = STRBUF_INIT;
	const char *dtext = sanoid_defaults_conf, *dname = "(built-in sanoid.defaults.conf)";
	size_t dlen = strlen(sanoid_defaults_conf);
	int rc;

	strbuf_init(&conf, 16 << 20);
	strbuf_init(&defaults, 1 << 20);
	rc = strbuf_read_file(&conf, file);
	if (rc < 0) {
		strbuf_addf(err, "cannot read %s: %s%s", file, strerror(-rc),
			    rc == -ENOENT ? " (create it, or point --configdir at the directory that has it)" : "");
		return rc;
	}
	rc = strbuf_read_file(&defaults, dfile);
	if (rc == 0) {
		dtext = defaults.buf;
		dlen = defaults.len;
		dname = dfile;
	} else if (rc != -ENOENT) {
		strbuf_addf(err, "cannot read %s: %s", dfile, strerror(-rc));
		return rc;
	}
	return sanoid_config_parse(cfg, conf.buf, conf.len, file, dtext, dlen, dname, err);
}

void sanoid_config_roots(const struct sanoid_config *cfg, struct strvec *roots)
{
	for (size_t i = 0; i < cfg->nsections; i++) {
		const struct sanoid_section *s = &cfg->sections[i];
		const struct sanoid_kv *p;
		const char *path;
		if (skip_prefix(s->name, "template_"))
			continue;
		p = section_get(s, "path");
		path = p && *p->value ? p->value : s->name;
		if (strvec_find(roots, path) < 0)
			strvec_push(roots, path);
	}
}

/* ---- resolution ---------------------------------------------------------- */

/* The effective raw values of one dataset while resolving. */
struct eff {
	char *path;
	const struct sanoid_section *section; /* where its values come from */
	bool own_section;
	bool initialized;
	bool zfs_recursion;
	bool missing;
	bool refused; /* a value sanoid misreads, here or in the section it inherits from */
	enum sanoid_recursive recursive;
	char *v[K_NKEYS]; /* NULL = unset */
};

static void eff_set(struct eff *e, int k, const char *value)
{
	free(e->v[k]);
	e->v[k] = value ? xstrdup(value) : NULL;
}

static void eff_release(struct eff *e)
{
	for (int k = 0; k < K_NKEYS; k++)
		free(e->v[k]);
	free(e->path);
}

/* Apply a section's keys except those matching `skip` (sanoid's regexes). */
static void eff_apply(struct eff *e, const struct sanoid_section *s, bool skip_template_recursive,
		      bool skip_children_key, const char *what, struct strvec *warnings)
{
	for (size_t i = 0; i < s->nkv; i++) {
		const char *key = s->kv[i].key;
		int k = key_lookup(key);
		if (k < 0)
			continue; /* allowed by a newer defaults file, unknown to zkeep */
		if (skip_template_recursive && (strstr(key, "template") || strstr(key, "recursive"))) {
			if (warnings && what)
				strvec_pushf(warnings, "ignored key '%s' from %s", key, what);
			continue;
		}
		if (skip_children_key && streq(key, "skip_children"))
			continue;
		eff_set(e, k, s->kv[i].value);
	}
}

static unsigned eff_uint(const struct eff *e, int k)
{
	unsigned u = 0;
	if (e->v[k] && *e->v[k] && !sanoid_uint(e->v[k], keys[k].min, keys[k].max, &u))
		u = 0; /* refused (value_as_sanoid_reads) */
	return u;
}

static bool eff_bool(const struct eff *e, int k)
{
	bool b = false;
	if (e->v[k])
		value_bool(e->v[k], &b);
	return b;
}

static char *eff_str(const struct eff *e, int k)
{
	return e->v[k] && *e->v[k] ? xstrdup(e->v[k]) : NULL;
}

static void eff_to_policy(const struct eff *e, struct sanoid_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->path = xstrdup(e->path);
	p->section = xstrdup(e->section->name);
	p->line = e->section->line;
	p->own_section = e->own_section;
	p->missing = e->missing;
	p->refused = e->refused;
	p->recursive = e->recursive;
	p->zfs_recursion = e->zfs_recursion;
	p->autosnap = eff_bool(e, K_AUTOSNAP);
	p->autoprune = eff_bool(e, K_AUTOPRUNE);
	p->monitor = eff_bool(e, K_MONITOR);
	p->monitor_dont_warn = eff_bool(e, K_MONITOR_DONT_WARN);
	p->monitor_dont_crit = eff_bool(e, K_MONITOR_DONT_CRIT);
	p->process_children_only = eff_bool(e, K_PROCESS_CHILDREN_ONLY);
	p->skip_children = eff_bool(e, K_SKIP_CHILDREN);
	p->no_inconsistent_snapshot = eff_bool(e, K_NO_INCONSISTENT_SNAPSHOT);
	p->force_post_snapshot_script = eff_bool(e, K_FORCE_POST_SNAPSHOT_SCRIPT);
	for (int t = 0; t < SNAP_NTYPES; t++) {
		uint64_t s = 0;
		p->count[t] = eff_uint(e, K_YEARLY + t);
		if (e->v[K_YEARLY_WARN + 2 * t])
			parse_duration(e->v[K_YEARLY_WARN + 2 * t], bare_unit[t], &s);
		p->warn[t] = s;
		s = 0;
		if (e->v[K_YEARLY_CRIT + 2 * t])
			parse_duration(e->v[K_YEARLY_CRIT + 2 * t], bare_unit[t], &s);
		p->crit[t] = s;
	}
	p->frequent_period = eff_uint(e, K_FREQUENT_PERIOD);
	if (!p->frequent_period)
		p->frequent_period = 15;
	p->hourly_min = eff_uint(e, K_HOURLY_MIN);
	p->daily_hour = eff_uint(e, K_DAILY_HOUR);
	p->daily_min = eff_uint(e, K_DAILY_MIN);
	p->weekly_wday = eff_uint(e, K_WEEKLY_WDAY);
	p->weekly_hour = eff_uint(e, K_WEEKLY_HOUR);
	p->weekly_min = eff_uint(e, K_WEEKLY_MIN);
	p->monthly_mday = eff_uint(e, K_MONTHLY_MDAY);
	p->monthly_hour = eff_uint(e, K_MONTHLY_HOUR);
	p->monthly_min = eff_uint(e, K_MONTHLY_MIN);
	p->yearly_mon = eff_uint(e, K_YEARLY_MON);
	p->yearly_mday = eff_uint(e, K_YEARLY_MDAY);
	p->yearly_hour = eff_uint(e, K_YEARLY_HOUR);
	p->yearly_min = eff_uint(e, K_YEARLY_MIN);
	if (!p->monthly_mday)
		p->monthly_mday = 1;
	if (!p->yearly_mon)
		p->yearly_mon = 1;
	if (!p->yearly_mday)
		p->yearly_mday = 1;
	p->prune_defer = eff_uint(e, K_PRUNE_DEFER);
	p->capacity_warn = eff_uint(e, K_CAPACITY_WARN);
	p->capacity_crit = eff_uint(e, K_CAPACITY_CRIT);
	p->script_timeout = eff_uint(e, K_SCRIPT_TIMEOUT);
	p->pre_snapshot_script = eff_str(e, K_PRE_SNAPSHOT_SCRIPT);
	p->post_snapshot_script = eff_str(e, K_POST_SNAPSHOT_SCRIPT);
	p->pre_pruning_script = eff_str(e, K_PRE_PRUNING_SCRIPT);
	p->pruning_script = eff_str(e, K_PRUNING_SCRIPT);
	if (p->refused) { /* nothing is done for it */
		p->autosnap = false;
		p->autoprune = false;
	}
}

static struct eff *effs_find(struct eff *effs, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (effs[i].path && streq(effs[i].path, path))
			return &effs[i];
	return NULL;
}

static size_t depth(const char *path)
{
	size_t d = 0;
	for (; *path; path++)
		d += *path == '/';
	return d;
}

static const char *section_path(const struct sanoid_section *s)
{
	const struct sanoid_kv *p = section_get(s, "path");
	return p && *p->value ? p->value : s->name;
}

/* The effective settings of every dataset met so far. */
struct effs {
	struct eff *v;
	size_t n;
};

static void effs_release(struct effs *es)
{
	for (size_t i = 0; i < es->n; i++)
		eff_release(&es->v[i]);
	free(es->v);
	es->v = NULL;
	es->n = 0;
}

/* The entry of path, added empty if new (pointers into es->v move then). */
static struct eff *effs_get(struct effs *es, const char *path)
{
	struct eff *e = effs_find(es->v, es->n, path);
	if (e)
		return e;
	es->v = xreallocarray(es->v, es->n + 1, sizeof(*es->v));
	e = &es->v[es->n++];
	memset(e, 0, sizeof(*e));
	e->path = xstrdup(path);
	return e;
}

/* Dataset sections, parents before children, file order otherwise. */
static const struct sanoid_section **sections_by_depth(const struct sanoid_config *cfg,
						       size_t *n)
{
	const struct sanoid_section **order = xcalloc(cfg->nsections ? cfg->nsections : 1,
						      sizeof(*order));
	size_t nsecs = 0;
	for (size_t i = 0; i < cfg->nsections; i++)
		if (!skip_prefix(cfg->sections[i].name, "template_"))
			order[nsecs++] = &cfg->sections[i];
	for (size_t i = 1; i < nsecs; i++) { /* stable insertion sort by depth */
		const struct sanoid_section *s = order[i];
		size_t j = i, d = depth(section_path(s));
		for (; j > 0 && depth(section_path(order[j - 1])) > d; j--)
			order[j] = order[j - 1];
		order[j] = s;
	}
	*n = nsecs;
	return order;
}

static bool dataset_listed(const char *const *datasets, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (streq(datasets[i], path))
			return true;
	return false;
}

/* Shipped defaults, then the user's [template_default] (warnings: NULL for quiet). */
static void eff_apply_defaults(struct eff *e, const struct sanoid_config *cfg,
			       struct strvec *warnings)
{
	const struct sanoid_section *user_default = config_section(cfg, "template_default");
	for (size_t i = 0; i < cfg->defaults.nkv; i++) {
		const char *key = cfg->defaults.kv[i].key;
		int k = key_lookup(key);
		if (k >= 0 && !strstr(key, "template") && !strstr(key, "recursive") &&
		    !strstr(key, "children_only"))
			eff_set(e, k, cfg->defaults.kv[i].value);
	}
	if (user_default)
		eff_apply(e, user_default, true, false, "the user-defined default template",
			  warnings);
}

/* The templates a section names in use_template, in order. */
static void eff_apply_templates(struct eff *e, const struct sanoid_config *cfg,
				const struct sanoid_section *s, struct strvec *warnings)
{
	const struct sanoid_kv *kv = section_get(s, "use_template");
	if (!kv)
		return;
	_cleanup_strvec_ struct strvec names = STRVEC_INIT;
	template_names(kv->value, &names);
	for (size_t j = 0; j < names.n; j++) {
		_cleanup_free_ char *t = xasprintf("template_%s", names.v[j]);
		_cleanup_free_ char *what = xasprintf("template '%s'", names.v[j]);
		const struct sanoid_section *ts = config_section(cfg, t);
		if (ts && !streq(t, "template_default"))
			eff_apply(e, ts, true, false, what, warnings);
		else if (ts)
			eff_apply(e, ts, true, false, NULL, NULL);
	}
}

/* Recursion, from the section's own keys only. */
static void section_recursion(const struct sanoid_section *s, enum sanoid_recursive *rec,
			      bool *skip_children)
{
	const struct sanoid_kv *kv = section_get(s, "recursive");
	*rec = RECURSIVE_NO;
	*skip_children = false;
	if (kv)
		value_recursive(kv->value, rec);
	kv = section_get(s, "skip_children");
	if (kv)
		value_bool(kv->value, skip_children);
}

/*
 * The children of a recursive section (es->v[pi], the section s at path) get
 * its values; with skip_children (and no zfs recursion) sanoid deletes the
 * child's config instead, own section or not.
 */
static void inherit_to_children(struct effs *es, size_t pi, const struct sanoid_section *s,
				const char *path, enum sanoid_recursive rec, bool skip_children,
				const char *const *datasets, size_t ndatasets)
{
	/* Snapshot the parent's values: es->v may move while children are added. */
	struct eff parent = { .zfs_recursion = es->v[pi].zfs_recursion, .section = s,
			      .refused = es->v[pi].refused };
	for (int k = 0; k < K_NKEYS; k++)
		parent.v[k] = es->v[pi].v[k] ? xstrdup(es->v[pi].v[k]) : NULL;

	for (size_t i = 0; i < ndatasets; i++) {
		const char *ds = datasets[i];
		struct eff *c;
		if (!zfs_name_below(ds, path))
			continue;
		if (rec != RECURSIVE_ZFS && skip_children) {
			c = effs_find(es->v, es->n, ds);
			if (c) {
				eff_release(c);
				memset(c, 0, sizeof(*c));
			}
			continue;
		}
		c = effs_get(es, ds);
		for (int k = 0; k < K_NKEYS; k++) {
			if (k == K_USE_TEMPLATE || k == K_RECURSIVE || k == K_PROCESS_CHILDREN_ONLY)
				continue;
			if (rec == RECURSIVE_ZFS && k == K_AUTOSNAP)
				continue;
			eff_set(c, k, parent.v[k]);
		}
		if (rec == RECURSIVE_ZFS)
			eff_set(c, K_AUTOSNAP, "0");
		eff_set(c, K_PATH, ds);
		c->zfs_recursion = parent.zfs_recursion;
		c->refused = parent.refused;
		c->section = s;
		c->own_section = false;
		c->initialized = true;
	}
	eff_release(&parent);
}

/*
 * The values sanoid takes from src for the section user (src: the section itself, a
 * template it uses or [template_default]), each as sanoid gets it: trimmed, unless src
 * is a template that comes after user in the file (sanoid trims section by section,
 * in file order). The first one sanoid would misread is described in why.
 */
static int source_refusal(const struct sanoid_config *cfg, const struct sanoid_section *src,
			  const struct sanoid_section *user, struct strbuf *why)
{
	bool is_template = src != user, trimmed = src <= user;
	for (size_t i = 0; i < src->nkv; i++) {
		const struct sanoid_kv *kv = &src->kv[i];
		int k = key_lookup(kv->key);
		_cleanup_strbuf_ struct strbuf reason = STRBUF_INIT;
		if (k < 0 || (is_template && (strstr(kv->key, "template") || strstr(kv->key, "recursive"))))
			continue; /* sanoid does not use it */
		if (value_as_sanoid_reads(k, trimmed ? kv->value : kv->raw, &reason) == 0)
			continue;
		strbuf_addf(why, "%s:%u: [%s] %s: %s", cfg->file, kv->line, src->name, kv->key,
			    reason.buf);
		if (!trimmed && !streq(kv->value, kv->raw))
			strbuf_addf(why, " (sanoid does not trim the values of a template that comes "
				    "after the section using it: remove the blanks around the value)");
		if (is_template)
			strbuf_addf(why, "; [%s] uses it", user->name);
		return -EINVAL;
	}
	return 0;
}

/* Whether sanoid would misread a value section s uses: its own, its templates',
 * [template_default]'s. */
static int section_refusal(const struct sanoid_config *cfg, const struct sanoid_section *s,
			   struct strbuf *why)
{
	const struct sanoid_section *user_default = config_section(cfg, "template_default");
	const struct sanoid_kv *kv = section_get(s, "use_template");
	if (user_default && source_refusal(cfg, user_default, s, why) < 0)
		return -EINVAL;
	if (kv) {
		_cleanup_strvec_ struct strvec names = STRVEC_INIT;
		template_names(kv->value, &names);
		for (size_t j = 0; j < names.n; j++) {
			_cleanup_free_ char *t = xasprintf("template_%s", names.v[j]);
			const struct sanoid_section *ts = config_section(cfg, t);
			if (ts && source_refusal(cfg, ts, s, why) < 0)
				return -EINVAL;
		}
	}
	return source_refusal(cfg, s, s, why);
}

int sanoid_config_resolve(const struct sanoid_config *cfg, const char *const *datasets,
			  size_t ndatasets, struct sanoid_policies *out,
			  struct strvec *warnings)
{
	_cleanup_release_(effs) struct effs es = { NULL, 0 };
	size_t nsecs = 0;
	_cleanup_free_ const struct sanoid_section **order = sections_by_depth(cfg, &nsecs);

	out->p = NULL;
	out->n = 0;
	strvec_init(&out->problems);
	for (size_t i = 0; warnings && i < cfg->warnings.n; i++)
		strvec_push(warnings, cfg->warnings.v[i]);

	for (size_t si = 0; si < nsecs; si++) {
		const struct sanoid_section *s = order[si];
		const char *path = section_path(s);
		bool missing = !dataset_listed(datasets, ndatasets, path);

		if (missing) {
			const struct sanoid_kv *kv = section_get(s, "path");
			strvec_pushf(&out->problems, "%s:%u: [%s]%s: dataset '%s' does not exist "
				     "(create it, import its pool, or remove the section)",
				     cfg->file, kv ? kv->line : s->line, s->name, kv ? " path" : "", path);
		}

		struct eff *e = effs_get(&es, path);
		e->section = s;
		e->own_section = true;
		if (!e->initialized) {
			eff_apply_defaults(e, cfg, si == 0 ? warnings : NULL);
			e->initialized = true;
		}
		eff_apply_templates(e, cfg, s, warnings);
		eff_apply(e, s, true, true, NULL, NULL);
		eff_set(e, K_PATH, path);
		e->missing = missing;
		if (missing)
			continue; /* it has no children to pass its settings to */
		_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
		if (section_refusal(cfg, s, &why) < 0) {
			strvec_push(&out->problems, why.buf);
			e->refused = true;
		}
		if (e->zfs_recursion && eff_bool(e, K_AUTOSNAP)) {
			if (warnings)
				strvec_pushf(warnings, "ignored autosnap configuration for '%s' because it's part of a zfs recursion", s->name);
			eff_set(e, K_AUTOSNAP, "0");
		}

		enum sanoid_recursive rec;
		bool skip_children;
		section_recursion(s, &rec, &skip_children);
		e->recursive = rec;
		if (rec == RECURSIVE_NO && !skip_children)
			continue;
		if (rec == RECURSIVE_ZFS)
			e->zfs_recursion = true;
		inherit_to_children(&es, (size_t)(e - es.v), s, path, rec, skip_children, datasets,
				    ndatasets);
	}

	out->p = xcalloc(es.n ? es.n : 1, sizeof(*out->p));
	for (size_t i = 0; i < es.n; i++) {
		if (!es.v[i].path)
			continue; /* dropped by skip_children */
		eff_to_policy(&es.v[i], &out->p[out->n++]);
	}
	return 0;
}

static void policy_release(struct sanoid_policy *p)
{
	free(p->path);
	free(p->section);
	free(p->pre_snapshot_script);
	free(p->post_snapshot_script);
	free(p->pre_pruning_script);
	free(p->pruning_script);
}

void sanoid_policies_release(struct sanoid_policies *p)
{
	for (size_t i = 0; i < p->n; i++)
		policy_release(&p->p[i]);
	free(p->p);
	p->p = NULL;
	p->n = 0;
	strvec_release(&p->problems);
}

const struct sanoid_policy *sanoid_policies_find(const struct sanoid_policies *p, const char *path)
{
	for (size_t i = 0; i < p->n; i++)
		if (streq(p->p[i].path, path))
			return &p->p[i];
	return NULL;
}
