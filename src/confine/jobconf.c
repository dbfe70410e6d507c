/* jobconf.c - see jobconf.h. */
#include "base/zkeep.h"
#include "confine/jobconf.h"
#include "zfs/recvprops.h"
#include "confine/grants.h"
#include "base/ini_text.h"
#include "base/parse.h"
#include "replication/sendopts.h"
#include "replication/ssh.h"
#include "confine/unit_hardening.h"

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

/* A property value that goes into a unit's ExecStart= inside double quotes. */
static bool unit_value_ok(const char *v)
{
	return *v && strlen(v) <= 256 && only_alnum_or(v, "_.:,/@+=-");
}

/*
 * receive_set ("k=v k=v", set: true) or receive_inherit ("k k") as --recvoptions
 * words ("o k=v o k=v", "x k x k") into out. Names are parsed exactly
 * (recv_prop_name); origin is refused (a receive -o origin= clones from any
 * snapshot of the pool). 0, or -EINVAL with why.
 */
static int receive_words(const char *value, bool set, struct strbuf *out, struct strbuf *why)
{
	_cleanup_strvec_ struct strvec words = STRVEC_INIT;
	strvec_split(&words, value, " \t");
	if (!words.n || words.n > 32)
		return strbuf_addf(why, "'%s': give 1 to 32 %s, separated by spaces", value,
				   set ? "property=value" : "property names"), -EINVAL;
	for (size_t i = 0; i < words.n; i++) {
		_cleanup_free_ char *k = NULL;
		const char *w = words.v[i];
		if (recv_prop_name(w, set, &k) < 0)
			return strbuf_addf(why, "'%s' is not %s", w,
					   set ? "property=value" : "a property name"), -EINVAL;
		if (set && !unit_value_ok(w + strlen(k) + 1))
			return strbuf_addf(why, "'%s': the value may have letters, digits and "
					   "_ . : , / @ + = - only (it goes into the unit)", w),
			       -EINVAL;
		if (streq(k, "origin"))
			return strbuf_addstr(why, "origin cannot be set on a receive here (it "
					     "would clone from any snapshot of the pool)"), -EINVAL;
		strbuf_addf(out, "%s%s %s", out->len ? " " : "", set ? "o" : "x", w);
	}
	return 0;
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
		/* Remote or not is the endpoint parser's answer, as for the command line
		 * the unit runs (no pool list here: "host:pool/x" is remote). */
		_cleanup_release_(endpoint) struct endpoint ep = ENDPOINT_INIT;
		_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
		if (endpoint_parse(value, NULL, &ep, &why) < 0)
			FAIL("%s", why.buf);
		free(j->target_host);
		j->target_host = !ep.host ? NULL
			       : ep.user ? xasprintf("%s@%s", ep.user, ep.host)
					 : xstrdup(ep.host);
		return set_dataset(st, section, name, ep.dataset, &j->target);
	} else if (streq(name, "recursive") || streq(name, "raw") || streq(name, "force") ||
		   streq(name, "serve")) {
		if (parse_bool(value, &b) < 0)
			FAIL("'%s' is not yes or no", value);
		*(streq(name, "recursive") ? &j->recursive : streq(name, "raw") ? &j->raw
			: streq(name, "force") ? &j->force : &j->serve) = b;
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
	} else if (streq(name, "ssh_key") || streq(name, "ssh_known_hosts")) {
		if (!unit_path_ok(value))
			FAIL("'%s' is not an absolute path without spaces, quotes, '%%', '$', ';' "
			     "or '\\' (it goes into the unit's LoadCredential=)", value);
		char **out = streq(name, "ssh_key") ? &j->ssh_key : &j->ssh_known_hosts;
		free(*out);
		*out = xstrdup(value);
	} else if (streq(name, "receive_set") || streq(name, "receive_inherit")) {
		bool set = streq(name, "receive_set");
		_cleanup_strbuf_ struct strbuf words = STRBUF_INIT, why = STRBUF_INIT;
		if (receive_words(value, set, &words, &why) < 0)
			FAIL("%s", why.buf);
		char **out = set ? &j->receive_set : &j->receive_inherit;
		free(*out);
		*out = strbuf_detach(&words);
	} else {
		FAIL("unknown setting (known: source, target, recursive, raw, force, serve, "
		     "schedule, randomized_delay, ssh_port, ssh_key, ssh_known_hosts, ip_allow, "
		     "receive_set, receive_inherit)");
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
		if (!failed && !j->target_host && (j->ssh_key || j->ssh_known_hosts || j->serve)) {
			strbuf_addf(err, "%s: [job %s]: ssh_key, ssh_known_hosts and serve are for "
				    "an ssh target (user@host:dataset)", origin, j->name);
			failed = true;
		}
		if (!j->schedule)
			j->schedule = xstrdup("hourly");
		/* Linux cannot delegate mounting: the unit receives with -u. */
		j->recvoptions = xasprintf("u%s%s%s%s", j->receive_set ? " " : "",
					   j->receive_set ? j->receive_set : "",
					   j->receive_inherit ? " " : "",
					   j->receive_inherit ? j->receive_inherit : "");
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
		free(j->ssh_key);
		free(j->ssh_known_hosts);
		free(j->receive_set);
		free(j->receive_inherit);
		free(j->recvoptions);
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

/* The names of the properties a run's receive sets ("userprop" etc.: deleg_prop_perm). */
static void recv_props(const struct repl_facts *f, struct strvec *props)
{
	/* --recvoptions "o k=v" and "x k": receiving with -x k inherits k, which takes
	 * k's permission if the stream has it */
	recvopts_prop_names(f->recvoptions, props);
	for (size_t i = 0; f->source_props && f->source_props[i] && props->n < DELEG_MAX_PROPS;
	     i++)
		if (strvec_find(props, f->source_props[i]) < 0)
			strvec_push(props, f->source_props[i]);
	if (f->preserve_recordsize && strvec_find(props, "recordsize") < 0)
		strvec_push(props, "recordsize");
	/* the receive's quarantine: -o setuid=off etc. (zfs/recvprops.h) */
	recv_guard_names(props);
}

size_t jobconf_repl_needs(const struct repl_facts *f, struct strvec *props,
			  struct deleg_need out[2])
{
	struct sendopts so = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	bool raw = sendopts_parse(f->sendoptions, false, &so, &err) == 0 && sendopts_has(&so, 'w');
	sendopts_release(&so);
	recv_props(f, props);
	/*
	 * An interrupted full receive left only partial state: aborting it
	 * destroys the target, which is then received anew - granted like a
	 * target that does not exist yet (delegation.h: its parent's create-time
	 * set), plus destroy on the target as it is now. --force-delete may do
	 * the same with `zfs destroy -r` (recursive).
	 */
	bool partial_full = f->target_exists && strchr(f->target, '/') &&
			    (f->target_partial_full || f->force_delete);
	size_t n = 0;
	if (!f->source_remote)
		out[n++] = (struct deleg_need){
			.dataset = f->source, .recursive = f->recursive, .exists = true,
			.ops = (raw ? DELEG_SEND_RAW : DELEG_SEND) | DELEG_HOLD | DELEG_BOOKMARK |
			       (f->no_sync_snap ? 0 : DELEG_SNAPSHOT | DELEG_DESTROY_SNAPS),
		};
	if (!f->target_remote)
		out[n++] = (struct deleg_need){
			.dataset = f->target, .recursive = f->recursive,
			.exists = f->target_exists && !partial_full,
			.ops = DELEG_RECEIVE | DELEG_RECV_ABORT | DELEG_DESTROY_SNAPS | DELEG_HOLD |
			       (partial_full ? DELEG_RECV_ABORT_FULL : 0) |
			       (f->rollback ? DELEG_RECV_FORCE : 0) |
			       (f->receives_by_root ? DELEG_RECV_BY_ROOT : 0) |
			       (raw && f->recursive ? DELEG_RECV_RAW_ENC : 0),
			.recv_props = props->n ? (const char *const *)props->v : NULL,
		};
	return n;
}

void jobconf_repl_facts(const struct job *j, bool target_exists, bool target_partial_full,
			struct repl_facts *f)
{
	*f = (struct repl_facts){
		.source = j->source, .target = j->target,
		.target_remote = j->target_host != NULL,
		.recursive = j->recursive,
		.sendoptions = j->raw ? "w" : NULL,
		.recvoptions = j->recvoptions ? j->recvoptions : "u",
		.rollback = j->force,
		/* its unit's receive socket: root's service runs them (cmd/units.c) */
		.receives_by_root = j->target_host == NULL,
		.target_exists = target_exists,
		.target_partial_full = target_partial_full,
	};
}

size_t jobconf_needs(const struct job *j, bool target_exists, bool target_partial_full,
		     struct strvec *props, struct deleg_need needs[2])
{
	struct repl_facts f;
	jobconf_repl_facts(j, target_exists, target_partial_full, &f);
	return jobconf_repl_needs(&f, props, needs);
}

size_t jobconf_snapshot_needs(const char *const *roots, size_t n, bool take, bool prune,
			      bool (*exists)(const char *name, void *ctx), void *ctx,
			      struct deleg_need *out)
{
	unsigned ops = (take ? DELEG_SNAPSHOT : 0) | (prune ? DELEG_DESTROY_SNAPS : 0);
	size_t k = 0;
	for (size_t i = 0; i < n && k < DELEG_MAX_NEEDS; i++) {
		bool nested = false;
		for (size_t j = 0; j < n && !nested; j++)
			nested = zfs_name_below(roots[i], roots[j]);
		if (nested || !deleg_dataset_name_ok(roots[i]) || !exists(roots[i], ctx))
			continue;
		/* Recursive: sections may recurse (yes or zfs). */
		out[k++] = (struct deleg_need){ .dataset = roots[i], .recursive = true,
						.exists = true, .ops = ops };
	}
	return k;
}
