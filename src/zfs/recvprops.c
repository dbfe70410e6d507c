/* zfs/recvprops.c - see recvprops.h. */
#include "base/zkeep.h"
#include "zfs/recvprops.h"
#include "zfs/delegation.h"

/* The overrides: value NULL means -x (inherit from the target's parent). */
static const struct recv_override {
	const char *name;
	const char *value;
	enum zfs_type type;
	bool serve_only;
} overrides[] = {
	{ "setuid", "off", ZFS_TYPE_FILESYSTEM, false },
	{ "devices", "off", ZFS_TYPE_FILESYSTEM, false },
	{ "sharenfs", "off", ZFS_TYPE_FILESYSTEM, false },
	{ "sharesmb", "off", ZFS_TYPE_FILESYSTEM, false },
	{ "zoned", NULL, ZFS_TYPE_FILESYSTEM, false },
	{ "exec", NULL, ZFS_TYPE_FILESYSTEM, false },
	{ "volmode", "none", ZFS_TYPE_VOLUME, false },
	{ "mountpoint", NULL, ZFS_TYPE_FILESYSTEM, true },
};

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == ':' ||
	       c == '.' || c == '-';
}

int recv_prop_name(const char *word, bool assignment, char **name)
{
	size_t n = 0;
	while (word[n] && name_char(word[n]))
		n++;
	if (n == 0 || n > 256)
		return -EINVAL;
	if (assignment ? word[n] != '=' : word[n] != '\0')
		return -EINVAL;
	*name = xstrndup(word, n);
	return 0;
}

bool recv_prop_guarded(const char *name, bool serve)
{
	for (size_t i = 0; i < ARRAY_SIZE(overrides); i++)
		if (streq(overrides[i].name, name) && (serve || !overrides[i].serve_only))
			return true;
	return false;
}

bool recv_prop_is_override(const char *word, bool assignment, bool serve)
{
	for (size_t i = 0; i < ARRAY_SIZE(overrides); i++) {
		const struct recv_override *o = &overrides[i];
		if (o->serve_only && !serve)
			continue;
		if (assignment ? o->value && skip_prefix(word, o->name) &&
					 word[strlen(o->name)] == '=' &&
					 streq(word + strlen(o->name) + 1, o->value)
			       : !o->value && streq(word, o->name))
			return true;
	}
	return false;
}

/* Whether one of words (k=v when assignment, else k) names property name. */
static bool names(const char *const *words, bool assignment, const char *name)
{
	for (size_t i = 0; words && words[i]; i++) {
		_cleanup_free_ char *k = NULL;
		if (recv_prop_name(words[i], assignment, &k) == 0 && streq(k, name))
			return true;
	}
	return false;
}

void recv_guard_args(enum zfs_type type, bool serve, const char *const *keep_set,
		     const char *const *keep_ex, struct strvec *set, struct strvec *ex)
{
	for (size_t i = 0; i < ARRAY_SIZE(overrides); i++) {
		const struct recv_override *o = &overrides[i];
		if (o->type != type || (o->serve_only && !serve) ||
		    names(keep_set, true, o->name) || names(keep_ex, false, o->name))
			continue;
		if (o->value)
			strvec_pushf(set, "%s=%s", o->name, o->value);
		else
			strvec_push(ex, o->name);
	}
}

void recv_guard_strip(struct strvec *set)
{
	size_t j = 0;
	for (size_t i = 0; i < set->n; i++) {
		_cleanup_free_ char *k = NULL;
		if (recv_prop_name(set->v[i], true, &k) == 0 && recv_prop_guarded(k, false)) {
			free(set->v[i]);
			continue;
		}
		set->v[j++] = set->v[i];
	}
	if (j < set->n) {
		set->n = j;
		set->v[j] = NULL;
	}
}

void recv_guard_names(struct strvec *names_out)
{
	for (size_t i = 0; i < ARRAY_SIZE(overrides); i++)
		if (!overrides[i].serve_only && strvec_find(names_out, overrides[i].name) < 0)
			strvec_push(names_out, overrides[i].name);
}

void recv_repairs_release(struct recv_repairs *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->r[i].dataset);
		free(r->r[i].name);
		free(r->r[i].value);
		free(r->r[i].found);
	}
	free(r->r);
	*r = (struct recv_repairs)RECV_REPAIRS_INIT;
}

void guard_rows_release(struct guard_rows *rows)
{
	if (!rows)
		return;
	for (size_t i = 0; i < rows->n; i++) {
		free(rows->r[i].dataset);
		free(rows->r[i].name);
		free(rows->r[i].value);
	}
	free(rows->r);
	*rows = (struct guard_rows)GUARD_ROWS_INIT;
}

void recv_guard_list_props(struct strvec *props)
{
	strvec_push(props, "type");
	recv_guard_names(props);
}

static bool within_roots(const char *dataset, const char *const *roots)
{
	for (size_t i = 0; roots && roots[i]; i++)
		if (zfs_name_within(dataset, roots[i]))
			return true;
	return false;
}

/* A real source word; "inherited from X" only with a dataset name for X. */
static bool guard_source(const char *s, size_t n, unsigned *src)
{
	_cleanup_free_ char *from = NULL;
	return zfs_source_parse(s, n, src, &from) == 0 && (!from || deleg_dataset_name_ok(from));
}

/* A row's start: DATASET \t PROPERTY \t SOURCE \t VALUE, each checked. */
static bool row_start(const char *line, size_t len, const char *const *roots,
		      const struct strvec *props, struct guard_row *row)
{
	const char *end = line + len, *f[3];
	const char *p = line;
	for (int i = 0; i < 3; i++) {
		f[i] = memchr(p, '\t', (size_t)(end - p));
		if (!f[i])
			return false;
		p = f[i] + 1;
	}
	_cleanup_free_ char *ds = xstrndup(line, (size_t)(f[0] - line));
	_cleanup_free_ char *name = xstrndup(f[0] + 1, (size_t)(f[1] - f[0] - 1));
	unsigned src;
	if (!deleg_dataset_name_ok(ds) || !within_roots(ds, roots) ||
	    strvec_find(props, name) < 0 ||
	    !guard_source(f[1] + 1, (size_t)(f[2] - f[1] - 1), &src))
		return false;
	*row = (struct guard_row){ .dataset = steal_pointer(&ds), .name = steal_pointer(&name),
		.value = xstrndup(f[2] + 1, (size_t)(end - f[2] - 1)), .source = src };
	return true;
}

static int cmp_guard_row(const void *a, const void *b)
{
	const struct guard_row *x = a, *y = b;
	int c = strcmp(x->dataset, y->dataset);
	return c ? c : strcmp(x->name, y->name);
}

#define GUARD_MAX_ROWS 1000000

int recv_guard_parse(const char *buf, size_t len, const char *const *roots,
		     struct guard_rows *out)
{
	_cleanup_strvec_ struct strvec props = STRVEC_INIT;
	recv_guard_list_props(&props);
	guard_rows_release(out);
	size_t alloc = 0;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct guard_row row;
		if (memchr(p, '\0', n)) {
			/* no row holds a NUL; as a value's text it ends there */
		} else if (row_start(p, n, roots, &props, &row)) {
			if (out->n >= GUARD_MAX_ROWS) {
				free(row.dataset);
				free(row.name);
				free(row.value);
				guard_rows_release(out);
				return -E2BIG;
			}
			if (out->n == alloc) {
				alloc = alloc ? alloc * 2 : 64;
				out->r = xreallocarray(out->r, alloc, sizeof(*out->r));
			}
			out->r[out->n++] = row;
		} else if (out->n && !(nl == NULL && n == 0)) {
			/* a line break inside the previous row's value */
			struct guard_row *last = &out->r[out->n - 1];
			char *v = xasprintf("%s\n%.*s", last->value, (int)n, p);
			free(last->value);
			last->value = v;
		}
		p = nl ? nl + 1 : end;
	}
	if (out->n > 1)
		qsort(out->r, out->n, sizeof(*out->r), cmp_guard_row);
	/* one row per pair: a repeated one is ambiguous */
	size_t kept = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (kept && cmp_guard_row(&out->r[kept - 1], &out->r[i]) == 0) {
			out->r[kept - 1].ambiguous = true;
			free(out->r[i].dataset);
			free(out->r[i].name);
			free(out->r[i].value);
			continue;
		}
		out->r[kept++] = out->r[i];
	}
	out->n = kept;
	return 0;
}

static const struct guard_row *guard_find(const struct guard_rows *rows, const char *dataset,
					  const char *name)
{
	struct guard_row key = { .dataset = (char *)dataset, .name = (char *)name };
	return rows->n ? bsearch(&key, rows->r, rows->n, sizeof(*rows->r), cmp_guard_row) : NULL;
}

static bool listed(const char *const *list, const char *word)
{
	for (size_t i = 0; list && list[i]; i++)
		if (streq(list[i], word))
			return true;
	return false;
}

/* The operator's own -o value for name in keep ("name=value"), or NULL. */
static const char *kept_value(const char *const *keep, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; keep && keep[i]; i++)
		if (strncmp(keep[i], name, n) == 0 && keep[i][n] == '=')
			return keep[i] + n + 1;
	return NULL;
}

static const struct recv_override *guarded_override(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(overrides); i++)
		if (!overrides[i].serve_only && streq(overrides[i].name, name))
			return &overrides[i];
	return NULL;
}

/* ZFS_TYPE_FILESYSTEM or _VOLUME from a dataset's type row; 0 when unknown or forged. */
static int row_type(const struct guard_rows *rows, const char *dataset)
{
	const struct guard_row *t = guard_find(rows, dataset, "type");
	if (!t || t->ambiguous)
		return 0;
	return streq(t->value, "filesystem") ? ZFS_TYPE_FILESYSTEM
	       : streq(t->value, "volume")   ? ZFS_TYPE_VOLUME
					     : 0;
}

/*
 * A row as the property is, not as the mount shows it: on a mounted
 * filesystem `zfs get` prints a mount option that differs from setuid,
 * devices or exec (nosuid...) as the value, source "temporary". The
 * property is then the other value; its source is not shown (counted as
 * set here).
 */
static struct guard_row stored(const struct guard_row *r)
{
	struct guard_row s = *r;
	if (r->source == ZFS_SRC_TEMPORARY && (streq(r->value, "on") || streq(r->value, "off"))) {
		s.value = (char *)(streq(r->value, "on") ? "off" : "on"); /* not freed: a view */
		s.source = ZFS_SRC_LOCAL;
	}
	return s;
}

void recv_guard_repairs(const struct guard_rows *before, const struct guard_rows *after,
			const char *const *keep, struct recv_repairs *out)
{
	for (size_t i = 0; i < after->n; i++) {
		const struct guard_row shown = after->r[i], sp = stored(&shown), *p = &sp;
		const struct recv_override *o = guarded_override(p->name);
		if (!o || (streq(p->value, "-") && !p->ambiguous))
			continue;
		int type = row_type(after, p->dataset);
		if (type && (int)o->type != type)
			continue; /* volmode of a filesystem, setuid of a volume */
		const struct guard_row *bl = guard_find(before, p->dataset, p->name), *b = NULL;
		struct guard_row sb;
		if (bl && !bl->ambiguous && row_type(before, p->dataset) == type) {
			sb = stored(bl);
			b = &sb;
		} /* else: a listing not to trust, or a new dataset under an old name */
		const char *mine = kept_value(keep, p->name);
		bool set_here = p->source & (ZFS_SRC_LOCAL | ZFS_SRC_RECEIVED);
		if (!p->ambiguous) {
			/* inheriting is what -x makes, unless it dropped a local value (a
			 * receive's -x drops only a received one) */
			bool inherits = !set_here && !(b && (b->source & ZFS_SRC_LOCAL) &&
						       !streq(b->value, p->value));
			bool acceptable = o->value ? streq(p->value, o->value) : inherits;
			if (mine && streq(p->value, mine))
				acceptable = true;
			if (listed(keep, p->name) && inherits)
				acceptable = true; /* the operator's -x */
			if (acceptable)
				continue;
			if (b && streq(b->value, p->value) && (o->value || b->source == p->source))
				continue; /* as it was */
		}
		out->r = xreallocarray(out->r, out->n + 1, sizeof(*out->r));
		struct recv_repair *rp = &out->r[out->n++];
		rp->dataset = xstrdup(p->dataset);
		rp->name = xstrdup(p->name);
		if (b)
			rp->value = b->source & (ZFS_SRC_LOCAL | ZFS_SRC_RECEIVED) ? xstrdup(b->value)
										 : NULL;
		else if (mine)
			rp->value = xstrdup(mine);
		else
			rp->value = o->value && !listed(keep, p->name) ? xstrdup(o->value) : NULL;
		rp->found = xasprintf("%s (%s%s)", p->value,
				      shown.source == ZFS_SRC_TEMPORARY ? "shadowed by a mount option"
									: zfs_source_word(p->source),
				      p->ambiguous ? ", listed more than once" : "");
	}
}
