/* jobconf.c - see jobconf.h. */
#include "base/zkeep.h"
#include "confine/jobconf.h"
#include "confine/grants.h"
#include "base/ini_text.h"
#include "base/parse.h"

struct pstate {
	struct jobconf *c;
	struct strbuf *err;
	const char *origin;
	unsigned line;
};

/* OnCalendar values go into a unit file: one line, no specifiers or quotes. */
static bool calendar_ok(const char *s)
{
	return *s && strlen(s) <= 128 && only_alnum_or(s, " *:/,.~-+");
}

static bool host_ok(const char *s)
{
	return *s && *s != '-' && strlen(s) <= 255 && only_alnum_or(s, "_.-@[]:");
}

/* "zkeep.conf:12: [job a] schedule: " and the message; the parse fails. */
#define FAIL(...) \
	return ini_text_fail(st->err, st->origin, st->line, section, name, __VA_ARGS__)

static bool set_dataset(struct pstate *st, const char *section, const char *name,
			const char *value, char **out)
{
	if (!deleg_dataset_name_ok(value))
		FAIL("'%s' is not a dataset name", value);
	free(*out);
	*out = xstrdup(value);
	return true;
}

/* The job of a [job NAME] section, made at its first header. */
static struct job *job_get(struct jobconf *c, const char *jname)
{
	for (size_t i = 0; i < c->njobs; i++)
		if (streq(c->jobs[i].name, jname))
			return &c->jobs[i];
	if (c->njobs >= JOBCONF_MAX_JOBS)
		return NULL;
	c->jobs = xreallocarray(c->jobs, c->njobs + 1, sizeof(*c->jobs));
	struct job *j = &c->jobs[c->njobs++];
	*j = (struct job){ .name = xstrdup(jname), .randomized_delay = 300, .ssh_port = 22 };
	return j;
}

static bool handler(void *user, const char *section, const char *name, const char *value,
		    unsigned line)
{
	struct pstate *st = user;
	struct jobconf *c = st->c;
	st->line = line;
	/* [drive NAME] sections belong to `zkeep drive` (driveconf.h) */
	if (skip_prefix(section, "drive "))
		return true;
	if (streq(section, "zkeep")) {
		if (!name)
			return true;
		if (streq(name, "state_dir")) {
			if (value[0] != '/' || strstr(value, "/../") || strpbrk(value, " \t\n"))
				FAIL("'%s' is not an absolute path", value);
			free(c->state_dir);
			c->state_dir = xstrdup(value);
		} else if (streq(name, "run_uids")) {
			const char *dash = strchr(value, '-');
			_cleanup_free_ char *a = dash ? xstrndup(value, (size_t)(dash - value)) : NULL;
			unsigned lo, hi;
			if (!dash || parse_uint_range(a, 1000, 0x7ffffffe, &lo) < 0 ||
			    parse_uint_range(dash + 1, lo, 0x7ffffffe, &hi) < 0)
				FAIL("'%s' is not a uid range FIRST-LAST (at least 1000)", value);
			c->uid_min = lo;
			c->uid_max = hi;
		} else if (streq(name, "snapshot_schedule")) {
			if (!calendar_ok(value))
				FAIL("'%s' is not a systemd calendar expression", value);
			free(c->snapshot_schedule);
			c->snapshot_schedule = xstrdup(value);
		} else {
			FAIL("unknown setting (known: state_dir, run_uids, snapshot_schedule)");
		}
		return true;
	}
	const char *jname = skip_prefix(section, "job ");
	if (!jname || !section_name_ok(jname))
		FAIL("unknown section (sections: [zkeep], [job NAME] and [drive NAME], with NAME "
		     "of 1 to 64 letters, digits, '_', '.', '-')");
	struct job *j = job_get(c, jname);
	if (!j)
		FAIL("more than %d jobs", JOBCONF_MAX_JOBS);
	if (!name)
		return true;
	bool b;
	uint64_t secs;
	if (streq(name, "source")) {
		return set_dataset(st, section, name, value, &j->source);
	} else if (streq(name, "target")) {
		const char *colon = strchr(value, ':');
		const char *ds = value;
		free(j->target_host);
		j->target_host = NULL;
		if (colon && strchr(value, '/') > colon) {
			_cleanup_free_ char *host = xstrndup(value, (size_t)(colon - value));
			if (!host_ok(host))
				FAIL("'%s' is not [user@]host", host);
			j->target_host = steal_pointer(&host);
			ds = colon + 1;
		}
		return set_dataset(st, section, name, ds, &j->target);
	} else if (streq(name, "recursive") || streq(name, "raw") || streq(name, "force")) {
		if (parse_bool(value, &b) < 0)
			FAIL("'%s' is not yes or no", value);
		*(streq(name, "recursive") ? &j->recursive : streq(name, "raw") ? &j->raw
										 : &j->force) = b;
	} else if (streq(name, "schedule")) {
		if (!calendar_ok(value))
			FAIL("'%s' is not a systemd calendar expression", value);
		free(j->schedule);
		j->schedule = xstrdup(value);
	} else if (streq(name, "randomized_delay")) {
		if (parse_duration(value, 1, &secs) < 0 || secs > 7 * 86400)
			FAIL("'%s' is not a duration up to 7d (e.g. 10m)", value);
		j->randomized_delay = secs;
	} else if (streq(name, "ip_allow")) {
		if (!*value || strlen(value) > 1024 ||
		    strspn(value, "0123456789abcdefABCDEF.:/ ") != strlen(value))
			FAIL("'%s' is not a list of IP addresses or prefixes", value);
		free(j->ip_allow);
		j->ip_allow = xstrdup(value);
	} else if (streq(name, "ssh_port")) {
		if (parse_uint_range(value, 1, 65535, &j->ssh_port) < 0)
			FAIL("'%s' is not a TCP port", value);
	} else {
		FAIL("unknown setting (known: source, target, recursive, raw, force, schedule, "
		     "randomized_delay, ssh_port, ip_allow)");
	}
	return true;
}

int jobconf_parse(const char *text, const char *origin, struct jobconf *out, struct strbuf *err)
{
	struct jobconf c = JOBCONF_INIT;
	struct pstate st = { .c = &c, .err = err, .origin = origin };
	bool failed = ini_text_parse(text, strlen(text), origin, handler, &st, err) < 0;
	for (size_t i = 0; !failed && i < c.njobs; i++) {
		struct job *j = &c.jobs[i];
		if (!j->source || !j->target) {
			strbuf_addf(err, "%s: [job %s] needs both source and target", origin, j->name);
			failed = true;
		}
		if (!j->schedule)
			j->schedule = xstrdup("hourly");
	}
	if (failed) {
		jobconf_release(&c);
		return -EINVAL;
	}
	if (!c.state_dir)
		c.state_dir = xstrdup("/var/lib/zkeep");
	if (!c.snapshot_schedule)
		c.snapshot_schedule = xstrdup("*:0/15");
	if (!c.uid_min) {
		c.uid_min = GRANTS_UID_MIN_DEFAULT;
		c.uid_max = GRANTS_UID_MAX_DEFAULT;
	}
	*out = c;
	return 0;
}

void jobconf_release(struct jobconf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->njobs; i++) {
		struct job *j = &c->jobs[i];
		free(j->name);
		free(j->source);
		free(j->target);
		free(j->target_host);
		free(j->schedule);
		free(j->ip_allow);
	}
	free(c->jobs);
	free(c->state_dir);
	free(c->snapshot_schedule);
	*c = (struct jobconf)JOBCONF_INIT;
}

const struct job *jobconf_find(const struct jobconf *c, const char *name)
{
	for (size_t i = 0; i < c->njobs; i++)
		if (streq(c->jobs[i].name, name))
			return &c->jobs[i];
	return NULL;
}

size_t jobconf_needs(const struct job *j, bool target_exists, struct deleg_need needs[2])
{
	size_t n = 0;
	needs[n++] = (struct deleg_need){
		.dataset = j->source, .recursive = j->recursive, .exists = true,
		.ops = (j->raw ? DELEG_SEND_RAW : DELEG_SEND) | DELEG_SNAPSHOT | DELEG_HOLD |
		       DELEG_BOOKMARK | DELEG_DESTROY_SNAPS,
	};
	if (!j->target_host)
		needs[n++] = (struct deleg_need){
			.dataset = j->target, .recursive = j->recursive, .exists = target_exists,
			.ops = DELEG_RECEIVE | DELEG_RECV_ABORT | DELEG_DESTROY_SNAPS | DELEG_HOLD |
			       (j->force ? DELEG_RECV_FORCE : 0) |
			       (j->raw && j->recursive ? DELEG_RECV_RAW_ENC : 0),
		};
	return n;
}
