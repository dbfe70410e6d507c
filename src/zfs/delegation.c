/* delegation.c - see delegation.h. */
#include "base/zkeep.h"
#include "zfs/delegation.h"
#include "base/parse.h"

bool deleg_dataset_name_ok(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len >= 256 || name[0] == '/' || name[len - 1] == '/')
		return false;
	if (strpbrk(name, "@#%\t\n"))
		return false;
	for (const char *c = name; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || strchr("_-.: /", *c);
		if (!ok)
			return false;
		if (*c == '/' && c[1] == '/')
			return false;
	}
	/* No "." or ".." component. */
	const char *p = name;
	while (p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p = slash ? slash + 1 : NULL;
	}
	return true;
}

const char *deleg_prop_perm(const char *prop)
{
	return strchr(prop, ':') ? "userprop" : prop;
}

static struct deleg_grant *grant_for(struct deleg_set *s, const char *host, const char *dataset,
				     char scope)
{
	for (size_t i = 0; i < s->n; i++)
		if (streq(s->g[i].host, host) && streq(s->g[i].dataset, dataset) &&
		    s->g[i].scope == scope)
			return &s->g[i];
	s->g = xreallocarray(s->g, s->n + 1, sizeof(*s->g));
	struct deleg_grant *g = &s->g[s->n++];
	g->host = host ? xstrdup(host) : NULL;
	g->dataset = xstrdup(dataset);
	g->scope = scope;
	strvec_init(&g->perms);
	return g;
}

static void add_perm(struct deleg_grant *g, const char *perm)
{
	if (strvec_find(&g->perms, perm) < 0)
		strvec_push(&g->perms, perm);
}

static int cmp_grant(const void *a, const void *b)
{
	const struct deleg_grant *x = a, *y = b;
	const char *hx = x->host ? x->host : "", *hy = y->host ? y->host : "";
	int c = strcmp(hx, hy);
	if (!c)
		c = strcmp(x->dataset, y->dataset);
	return c ? c : x->scope - y->scope;
}

/*
 * The permissions one need asks for: fs receives what ZFS checks on the
 * filesystem, snap what it checks on snapshots (may be the same grant).
 */
/* receive:append on 2.4+ when the job never forces: it cannot roll back or replace. */
static const char *receive_perm(const struct deleg_need *nd, unsigned major, unsigned minor)
{
	bool v24 = major > 2 || (major == 2 && minor >= 4);
	return v24 && !(nd->ops & DELEG_RECV_FORCE) ? "receive:append" : "receive";
}

static void perms_of(const struct deleg_need *nd, unsigned major, unsigned minor,
		     struct deleg_grant *fs, struct deleg_grant *snap)
{
	bool v24 = major > 2 || (major == 2 && minor >= 4);
	unsigned ops = nd->ops;

	if (ops & DELEG_SNAPSHOT)
		add_perm(fs, "snapshot");
	if (ops & DELEG_DESTROY_SNAPS) {
		add_perm(snap, "destroy");
		add_perm(snap, "mount");
	}
	if (ops & DELEG_RECV_ABORT) {
		/* receive -A destroys the partial %recv child: a descendant. */
		add_perm(snap, "destroy");
		add_perm(snap, "mount");
	}
	if (ops & DELEG_RECV_ABORT_FULL) {
		/* the dataset itself, and with zfs destroy -r what is below it */
		add_perm(fs, "destroy");
		add_perm(fs, "mount");
		add_perm(snap, "destroy");
		add_perm(snap, "mount");
	}
	if (ops & (DELEG_SEND | DELEG_SEND_RAW))
		add_perm(snap, v24 && (ops & DELEG_SEND_RAW) && !(ops & DELEG_SEND) ? "send:raw"
										 : "send");
	if (ops & DELEG_HOLD) {
		add_perm(fs, "hold");
		add_perm(fs, "release");
	}
	if (ops & DELEG_BOOKMARK)
		add_perm(fs, "bookmark");
	/* root receives into it once it is there (a partial full receive, --force-delete: now) */
	bool by_root = (ops & DELEG_RECV_BY_ROOT) && (nd->exists || (ops & DELEG_RECV_ABORT_FULL));
	if ((ops & DELEG_RECEIVE) && !by_root) {
		add_perm(fs, receive_perm(nd, major, minor));
		add_perm(fs, "create");
		add_perm(fs, "mount");
	} else if (ops & DELEG_RECEIVE) {
		add_perm(fs, "mount");
	}
	if (ops & DELEG_RECV_FORCE)
		add_perm(fs, "rollback");
	if (ops & DELEG_RECV_RAW_ENC) {
		add_perm(fs, "change-key");
		add_perm(fs, "keylocation");
	}
	for (size_t i = 0; !by_root && nd->recv_props && nd->recv_props[i]; i++)
		add_perm(fs, deleg_prop_perm(nd->recv_props[i]));
}

int deleg_compute(const struct deleg_need *needs, size_t n, unsigned major, unsigned minor,
		  struct deleg_set *out, struct strbuf *err)
{
	struct deleg_set s = DELEG_SET_INIT;

	if (n > DELEG_MAX_NEEDS) {
		strbuf_addf(err, "a job touches more than %d datasets", DELEG_MAX_NEEDS);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct deleg_need *nd = &needs[i];
		size_t nprops = 0;

		if (!nd->dataset || !deleg_dataset_name_ok(nd->dataset)) {
			strbuf_addf(err, "'%s' is not a dataset name a job can be granted on",
				    nd->dataset ? nd->dataset : "(none)");
			goto fail;
		}
		if (!nd->ops || (nd->ops & ~DELEG_ALL_OPS)) {
			strbuf_addf(err, "no valid operation given for dataset '%s'", nd->dataset);
			goto fail;
		}
		while (nd->recv_props && nd->recv_props[nprops])
			if (++nprops > DELEG_MAX_PROPS) {
				strbuf_addf(err, "more than %d received properties for '%s'",
					    DELEG_MAX_PROPS, nd->dataset);
				goto fail;
			}
		/*
		 * A dataset there now: what the job does to it. That includes a
		 * new target that is there and may be destroyed and received anew
		 * (DELEG_RECV_ABORT_FULL: a partial full receive, which a resume
		 * continues; --force-delete, which may keep it).
		 */
		if (nd->exists || (nd->ops & DELEG_RECV_ABORT_FULL)) {
			bool split = !nd->recursive;
			/* Create both first: grant_for() may move the array. */
			grant_for(&s, nd->host, nd->dataset, split ? 'l' : 0);
			struct deleg_grant *gs = grant_for(&s, nd->host, nd->dataset, split ? 'd' : 0);
			struct deleg_grant *g = grant_for(&s, nd->host, nd->dataset, split ? 'l' : 0);
			perms_of(nd, major, minor, g, gs);
		}
		if (nd->exists)
			continue;
		const char *slash = strrchr(nd->dataset, '/');
		if (!slash) {
			strbuf_addf(err, "'%s' does not exist and has no parent to grant on "
				    "(create the pool first)", nd->dataset);
			goto fail;
		}
		/* Root's receive creates it: the parent gets nothing, the new
		 * dataset its grants once it exists (confine_grant_created()). */
		if (nd->ops & DELEG_RECV_BY_ROOT)
			continue;
		_cleanup_free_ char *parent = xstrndup(nd->dataset, (size_t)(slash - nd->dataset));
		/*
		 * The parent: only what ZFS checks there to create the child, and
		 * only there (-l): siblings get nothing. The new dataset (and each
		 * child a recursive receive creates) gets the rest from the
		 * parent's create-time set, copied to its creator as local grants.
		 */
		grant_for(&s, nd->host, parent, 'l');
		struct deleg_grant *gc = grant_for(&s, nd->host, parent, 'c');
		struct deleg_grant *gp = grant_for(&s, nd->host, parent, 'l');
		add_perm(gp, receive_perm(nd, major, minor));
		add_perm(gp, "create");
		add_perm(gp, "mount");
		perms_of(nd, major, minor, gc, gc);
		add_perm(gc, receive_perm(nd, major, minor));
		add_perm(gc, "create");
		add_perm(gc, "mount");
	}
	size_t kept = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (s.g[i].perms.n == 0) {
			free(s.g[i].host);
			free(s.g[i].dataset);
			strvec_release(&s.g[i].perms);
			continue;
		}
		strvec_sort(&s.g[i].perms);
		s.g[kept++] = s.g[i];
	}
	s.n = kept;
	if (s.n > 1)
		qsort(s.g, s.n, sizeof(*s.g), cmp_grant);
	*out = s;
	return 0;
fail:
	deleg_set_release(&s);
	return -EINVAL;
}

void deleg_set_release(struct deleg_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->g[i].host);
		free(s->g[i].dataset);
		strvec_release(&s->g[i].perms);
	}
	free(s->g);
	s->g = NULL;
	s->n = 0;
}

char *deleg_perms_join(const struct deleg_grant *g)
{
	return strvec_join(&g->perms, ",");
}

static const struct {
	const char *name;
	unsigned op;
} op_names[] = {
	{ "snapshot", DELEG_SNAPSHOT }, { "destroy", DELEG_DESTROY_SNAPS },
	{ "send", DELEG_SEND },		{ "send-raw", DELEG_SEND_RAW },
	{ "hold", DELEG_HOLD },		{ "bookmark", DELEG_BOOKMARK },
	{ "receive", DELEG_RECEIVE },	{ "force", DELEG_RECV_FORCE },
	{ "abort", DELEG_RECV_ABORT },	{ "raw-encrypted", DELEG_RECV_RAW_ENC },
};

int deleg_parse_need(const char *spec, struct deleg_need *need, struct strvec *store,
		     struct strvec *props_store, struct strbuf *err)
{
	const char *eq = strchr(spec, '=');
	*need = (struct deleg_need){ .exists = true };
	if (!eq || eq == spec || !eq[1]) {
		strbuf_addf(err, "'%s' is not DATASET=OPERATION,... (e.g. tank/data=send,hold)", spec);
		return -EINVAL;
	}
	_cleanup_free_ char *ds = xstrndup(spec, (size_t)(eq - spec));
	if (!deleg_dataset_name_ok(ds)) {
		strbuf_addf(err, "'%s' is not a dataset name", ds);
		return -EINVAL;
	}
	_cleanup_strvec_ struct strvec ops = STRVEC_INIT;
	strvec_split(&ops, eq + 1, ",");
	size_t props_start = props_store->n;
	for (size_t i = 0; i < ops.n; i++) {
		const char *o = ops.v[i], *prop;
		bool found = false;
		for (size_t j = 0; j < ARRAY_SIZE(op_names) && !found; j++)
			if (streq(o, op_names[j].name)) {
				need->ops |= op_names[j].op;
				found = true;
			}
		if (found)
			continue;
		if (streq(o, "recursive")) {
			need->recursive = true;
		} else if (streq(o, "new")) {
			need->exists = false;
		} else if ((prop = skip_prefix(o, "prop:")) && *prop && !strpbrk(prop, "=, \t")) {
			if (props_store->n - props_start >= DELEG_MAX_PROPS) {
				strbuf_addf(err, "more than %d properties for '%s'", DELEG_MAX_PROPS, ds);
				return -EINVAL;
			}
			strvec_push(props_store, prop);
		} else {
			strbuf_addf(err, "unknown operation '%s' for '%s' (known: snapshot, destroy, "
				    "send, send-raw, hold, bookmark, receive, force, abort, "
				    "raw-encrypted, recursive, new, prop:NAME)", o, ds);
			return -EINVAL;
		}
	}
	if (!need->ops) {
		strbuf_addf(err, "no operation given for '%s'", ds);
		return -EINVAL;
	}
	/* Props are a NULL-separated run in props_store: copy them into one array. */
	if (props_store->n > props_start) {
		size_t n = props_store->n - props_start;
		const char **v = xcalloc(n + 1, sizeof(*v));
		for (size_t i = 0; i < n; i++)
			v[i] = props_store->v[props_start + i];
		need->recv_props = v;
		/* The array itself is owned by store (freed with it as a string-sized block). */
		strvec_push_nodup(store, (char *)v);
	}
	strvec_push(store, ds);
	need->dataset = store->v[store->n - 1];
	return 0;
}

/* Whether the principal of an allow line ("user NAME", "group NAME", "everyone") is ours. */
static bool principal_matches(const char *line, const char **perms, const char *user, uid_t uid,
			      const char *const *groups)
{
	const char *rest;
	if ((rest = skip_prefix(line, "everyone "))) {
		*perms = rest;
		return true;
	}
	if ((rest = skip_prefix(line, "user "))) {
		char unknown[48];
		snprintf(unknown, sizeof(unknown), "(unknown: %u) ", (unsigned)uid);
		const char *p;
		if ((p = skip_prefix(rest, unknown))) {
			*perms = p;
			return true;
		}
		size_t n = user ? strlen(user) : 0;
		if (n && strncmp(rest, user, n) == 0 && rest[n] == ' ') {
			*perms = rest + n + 1;
			return true;
		}
		return false;
	}
	if ((rest = skip_prefix(line, "group "))) {
		for (size_t i = 0; groups && groups[i]; i++) {
			size_t n = strlen(groups[i]);
			if (strncmp(rest, groups[i], n) == 0 && rest[n] == ' ') {
				*perms = rest + n + 1;
				return true;
			}
		}
	}
	return false;
}

/*
 * Whether a `zfs allow` section header names dataset: "---- Permissions on
 * NAME " and dashes up to column 70 (none for a long name). A name may hold
 * spaces, and dashes after them.
 */
static bool header_names(const char *line, const char *dataset)
{
	const char *rest = skip_prefix(line, "---- Permissions on ");
	size_t n = strlen(dataset);
	if (!rest || strncmp(rest, dataset, n) != 0 || rest[n] != ' ')
		return false;
	return rest[n + 1 + strspn(rest + n + 1, "-")] == '\0';
}

void deleg_create_time(const char *text, const char *dataset, struct strvec *perms)
{
	_cleanup_strvec_ struct strvec lines = STRVEC_INIT;
	strvec_split(&lines, text, "\n");
	bool self = false, in_set = false;
	for (size_t i = 0; i < lines.n; i++) {
		const char *l = lines.v[i];
		if (skip_prefix(l, "---- Permissions on ")) {
			self = header_names(l, dataset);
			in_set = false;
		} else if (l[0] != '\t') {
			in_set = self && streq(l, "Create time permissions:");
		} else if (in_set) {
			/* "\tPERM,PERM,...": no principal (whoever creates) */
			_cleanup_strvec_ struct strvec pv = STRVEC_INIT;
			strvec_split(&pv, l + 1, ",");
			for (size_t j = 0; j < pv.n; j++)
				if (*pv.v[j] && strvec_find(perms, pv.v[j]) < 0)
					strvec_push(perms, pv.v[j]);
		}
	}
}

void deleg_unallow_all(const char *text, const char *dataset, struct strvec *out)
{
	_cleanup_strvec_ struct strvec lines = STRVEC_INIT;
	strvec_split(&lines, text, "\n");
	bool self = false;
	enum { NONE, SETS, CREATE, PRINCIPALS } section = NONE;
	for (size_t i = 0; i < lines.n; i++) {
		const char *l = lines.v[i];
		if (skip_prefix(l, "---- Permissions on ")) {
			self = header_names(l, dataset);
			section = NONE;
			continue;
		}
		if (l[0] != '\t') {
			section = streq(l, "Permission sets:") ? SETS
				: streq(l, "Create time permissions:") ? CREATE
				: streq(l, "Local permissions:") ||
						streq(l, "Descendent permissions:") ||
						streq(l, "Local+Descendent permissions:")
					? PRINCIPALS
					: NONE;
			continue;
		}
		if (!self || section == NONE)
			continue;
		/* "\tuser NAME PERMS", "\tgroup NAME PERMS", "\teveryone PERMS", "\t@SET PERMS" */
		const char *w = l + 1, *sp = strchr(w, ' ');
		_cleanup_free_ char *first = sp ? xstrndup(w, (size_t)(sp - w)) : xstrdup(w);
		_cleanup_free_ char *arg = NULL;
		if (section == CREATE) {
			arg = xstrdup("-c");
		} else if (section == SETS) {
			if (first[0] == '@' && first[1])
				arg = xasprintf("-s\t%s", first);
		} else if (streq(first, "everyone")) {
			arg = xstrdup("-e");
		} else if ((streq(first, "user") || streq(first, "group")) && sp) {
			/* a name, or "(unknown: ID)" for an id without one (a run uid) */
			const char *name = sp + 1, *id = skip_prefix(name, "(unknown: ");
			const char *end = id ? strchr(id, ')') : strchr(name, ' ');
			if (id)
				name = id;
			if (end && end > name)
				arg = xasprintf("%s\t%.*s", first[0] == 'u' ? "-u" : "-g",
						(int)(end - name), name);
		}
		if (arg && strvec_find(out, arg) < 0)
			strvec_push(out, arg);
	}
}

void deleg_missing(const struct deleg_grant *g, const char *text, const char *user, uid_t uid,
		   const char *const *groups, struct strvec *missing)
{
	/* have_l / have_d: per permission of g, held locally / for descendants. */
	size_t n = g->perms.n;
	bool *have_l = xcalloc(n + 1, sizeof(bool)), *have_d = xcalloc(n + 1, sizeof(bool));
	_cleanup_strvec_ struct strvec create_set = STRVEC_INIT;
	deleg_create_time(text, g->dataset, &create_set);
	_cleanup_strvec_ struct strvec lines = STRVEC_INIT;
	strvec_split(&lines, text, "\n");
	bool self = false, local = false, desc = false;
	for (size_t i = 0; i < lines.n; i++) {
		const char *l = lines.v[i];
		if (skip_prefix(l, "---- Permissions on ")) {
			self = header_names(l, g->dataset);
			local = desc = false;
			continue;
		}
		if (streq(l, "Local permissions:")) {
			local = self;
			desc = false;
			continue;
		}
		if (streq(l, "Descendent permissions:")) {
			local = !self; /* an ancestor's descendent grant covers the dataset itself */
			desc = true;
			continue;
		}
		if (streq(l, "Local+Descendent permissions:")) {
			local = true;
			desc = true;
			continue;
		}
		if (l[0] != '\t') {
			local = desc = false; /* create time, permission sets: below, not counted */
			continue;
		}
		const char *perms;
		if ((!local && !desc) || !principal_matches(l + 1, &perms, user, uid, groups))
			continue;
		_cleanup_strvec_ struct strvec pv = STRVEC_INIT;
		strvec_split(&pv, perms, ",");
		for (size_t j = 0; j < n; j++)
			if (strvec_find(&pv, g->perms.v[j]) >= 0) {
				have_l[j] |= local;
				have_d[j] |= desc;
			}
	}
	_cleanup_strvec_ struct strvec lack = STRVEC_INIT;
	for (size_t j = 0; j < n; j++) {
		/* create time: an own -d grant on the parent covers the new dataset too */
		bool ok = g->scope == 'l' ? have_l[j] : g->scope == 'd' ? have_d[j]
			: g->scope == 'c' ? strvec_find(&create_set, g->perms.v[j]) >= 0 || have_d[j]
			: have_l[j] && have_d[j];
		if (!ok)
			strvec_push(&lack, g->perms.v[j]);
	}
	if (lack.n) {
		_cleanup_free_ char *p = strvec_join(&lack, ",");
		if (g->scope == 'c')
			strvec_pushf(missing, "zfs allow -c %s %s", p, g->dataset);
		else
			strvec_pushf(missing, "zfs allow%s -u %s %s %s",
				     g->scope == 'l' ? " -l" : g->scope == 'd' ? " -d" : "",
				     user ? user : "YOU", p, g->dataset);
	}
	free(have_l);
	free(have_d);
}

/* How many of name's ancestors, from its parent up, are in `set` without a gap. */
static size_t new_ancestors(const char *name, const struct strvec *set)
{
	size_t n = 0;
	_cleanup_free_ char *up = xstrdup(name);
	char *slash;
	while ((slash = strrchr(up, '/'))) {
		*slash = '\0';
		if (strvec_find(set, up) < 0)
			break;
		n++;
	}
	return n;
}

int deleg_created_since(const char *listing, uint64_t after, struct strvec *out)
{
	_cleanup_strvec_ struct strvec made = STRVEC_INIT;
	struct zcursor c;
	struct zfields f;
	int r;
	zcursor_init(&c, listing, strlen(listing));
	while ((r = zcursor_next(&c, &f)) > 0) {
		uint64_t txg;
		if (f.n != 2 || zfield_u64(&f, 0, &txg) < 0 || f.f[1].len == 0)
			return -EINVAL;
		_cleanup_free_ char *name = span_dup(f.f[1]);
		if (txg > after && strvec_find(&made, name) < 0)
			strvec_push_nodup(&made, steal_pointer(&name));
	}
	if (r < 0)
		return r;
	/* unallow -r covers a dataset and its direct children: every second level */
	for (size_t i = 0; i < made.n; i++)
		if (new_ancestors(made.v[i], &made) % 2 == 0)
			strvec_push(out, made.v[i]);
	return 0;
}
