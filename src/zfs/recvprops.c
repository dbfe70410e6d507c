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
