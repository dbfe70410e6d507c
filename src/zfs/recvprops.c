/* zfs/recvprops.c - see recvprops.h. */
#include "base/zkeep.h"
#include "zfs/recvprops.h"

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

static int cmp_prop_row(const void *a, const void *b)
{
	const struct zfs_prop *x = *(const struct zfs_prop *const *)a;
	const struct zfs_prop *y = *(const struct zfs_prop *const *)b;
	int c = strcmp(x->dataset, y->dataset);
	return c ? c : strcmp(x->name, y->name);
}

static bool listed(const char *const *list, const char *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (streq(list[i], name))
			return true;
	return false;
}

static const struct recv_override *guarded_override(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(overrides); i++)
		if (!overrides[i].serve_only && streq(overrides[i].name, name))
			return &overrides[i];
	return NULL;
}

void recv_guard_repairs(const struct zfs_props *before, const struct zfs_props *after,
			const char *const *keep, struct recv_repairs *out)
{
	/* before, sorted by dataset and name, for a lookup per row of after */
	const struct zfs_prop **index = xcalloc(before->n + 1, sizeof(*index));
	for (size_t i = 0; i < before->n; i++)
		index[i] = &before->p[i];
	if (before->n > 1)
		qsort(index, before->n, sizeof(*index), cmp_prop_row);
	for (size_t i = 0; i < after->n; i++) {
		const struct zfs_prop *p = &after->p[i];
		const struct recv_override *o = guarded_override(p->name);
		if (!o || streq(p->value, "-") || listed(keep, p->name))
			continue;
		const struct zfs_prop *key = p;
		const struct zfs_prop **found =
			before->n ? bsearch(&key, index, before->n, sizeof(*index), cmp_prop_row)
				  : NULL;
		const struct zfs_prop *b = found ? *found : NULL;
		if (o->value) {
			if (streq(p->value, o->value) || (b && streq(b->value, p->value)))
				continue; /* the override's value, or as it was */
		} else {
			bool set_here = p->source & (ZFS_SRC_LOCAL | ZFS_SRC_RECEIVED);
			if (!b && !set_here)
				continue; /* new, and inheriting as -x makes it */
			if (b && streq(b->value, p->value) && b->source == p->source)
				continue; /* as it was */
			if (b && !set_here && !(b->source & ZFS_SRC_LOCAL))
				continue; /* a receive's -x cleared a received value */
		}
		out->r = xreallocarray(out->r, out->n + 1, sizeof(*out->r));
		struct recv_repair *rp = &out->r[out->n++];
		rp->dataset = xstrdup(p->dataset);
		rp->name = xstrdup(p->name);
		if (b)
			rp->value = b->source & (ZFS_SRC_LOCAL | ZFS_SRC_RECEIVED) ? xstrdup(b->value)
										 : NULL;
		else
			rp->value = o->value ? xstrdup(o->value) : NULL;
		rp->found = xasprintf("%s (%s)", p->value, zfs_source_word(p->source));
	}
	free(index);
}
