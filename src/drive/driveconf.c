/* driveconf.c - see driveconf.h. */
#include "base/zkeep.h"
#include "drive/driveconf.h"
#include "base/ini_text.h"
#include "base/parse.h"
#include "zfs/zfs.h"

struct pstate {
	struct driveconf *c;
	struct strbuf *err;
	const char *origin;
	unsigned line;
};

/* A pool name as zpool accepts it: a letter first, then [A-Za-z0-9_.:-]. */
static bool pool_ok(const char *s)
{
	return *s && strlen(s) <= 255 && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) &&
	       only_alnum_or(s, "_.:-");
}

/* Datasets (and paths) from the config go to zfs as single argv words; no
 * spaces here, so that a space-separated list is unambiguous. */
static bool dataset_ok(const char *s)
{
	return zfs_name_valid(s, false) && !strchr(s, ' ');
}

static bool path_ok(const char *s)
{
	return s[0] == '/' && strlen(s) < 1024 && !strstr(s, "/../") && !ends_with(s, "/..") &&
	       !strpbrk(s, " \t\n\\\"'%");
}

#define FAIL(...) \
	return ini_text_fail(st->err, st->origin, st->line, section, name, __VA_ARGS__)

static struct drive *get_drive(struct driveconf *c, const char *dname)
{
	for (size_t i = 0; i < c->n; i++)
		if (streq(c->drives[i].name, dname))
			return &c->drives[i];
	if (c->n >= DRIVECONF_MAX_DRIVES)
		return NULL;
	c->drives = xreallocarray(c->drives, c->n + 1, sizeof(*c->drives));
	struct drive *d = &c->drives[c->n++];
	*d = (struct drive){
		.name = xstrdup(dname),
		.datasets = STRVEC_INIT,
		.search_dirs = STRVEC_INIT,
		.recursive = true,
		.raw = true,
		.sync_snap = false,
		.delete_target_snapshots = true,
		.rollback = false,
		.hold = true,
		.readonly = true,
		.power_off = DRIVE_POWER_AUTO,
	};
	return d;
}

static void set_str(char **out, const char *v)
{
	free(*out);
	*out = xstrdup(v);
}

static bool handler(void *user, const char *section, const char *name, const char *value,
		    unsigned line)
{
	struct pstate *st = user;
	st->line = line;
	const char *dname = skip_prefix(section, "drive ");
	if (!dname)
		return true; /* [zkeep], [job NAME]: jobconf's */
	if (!section_name_ok(dname))
		FAIL("'%s' is not a drive name (1 to 64 letters, digits, '_', '.', '-')", dname);
	struct drive *d = get_drive(st->c, dname);
	if (!d)
		FAIL("more than %d drives", DRIVECONF_MAX_DRIVES);
	if (!name) /* the header */
		return true;
	bool *flag = NULL;
	static const struct {
		const char *key;
		size_t off;
	} bools[] = {
		{ "recursive", offsetof(struct drive, recursive) },
		{ "raw", offsetof(struct drive, raw) },
		{ "sync_snap", offsetof(struct drive, sync_snap) },
		{ "delete_target_snapshots", offsetof(struct drive, delete_target_snapshots) },
		{ "rollback", offsetof(struct drive, rollback) },
		{ "hold", offsetof(struct drive, hold) },
		{ "readonly", offsetof(struct drive, readonly) },
		{ "scrub", offsetof(struct drive, scrub) },
		{ "detach_loop", offsetof(struct drive, detach_loop) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bools); i++)
		if (streq(name, bools[i].key))
			flag = (bool *)((char *)d + bools[i].off);
	if (flag) {
		if (parse_bool(value, flag) < 0)
			FAIL("'%s' is not yes or no", value);
	} else if (streq(name, "mount")) {
		FAIL("no longer supported: a drive's pool is always imported without mounting "
		     "anything (zpool import -N under %s/NAME); `zkeep restore` and `zkeep verify` "
		     "read its snapshots without mounting the datasets", DRIVE_ALTROOT_DIR);
	} else if (streq(name, "pool")) {
		if (!pool_ok(value))
			FAIL("'%s' is not a pool name", value);
		set_str(&d->pool, value);
	} else if (streq(name, "guid")) {
		if (parse_u64(value, &d->guid) < 0 || d->guid == 0)
			FAIL("'%s' is not a pool guid (a decimal number, see `zpool get guid`)",
			     value);
	} else if (streq(name, "datasets")) {
		_cleanup_strvec_ struct strvec v = STRVEC_INIT;
		if (strlen(value) > 16384)
			FAIL("too long");
		strvec_split(&v, value, " \t,");
		if (!v.n)
			FAIL("no dataset given");
		if (v.n > DRIVECONF_MAX_DATASETS)
			FAIL("more than %d datasets", DRIVECONF_MAX_DATASETS);
		for (size_t i = 0; i < v.n; i++) {
			if (!dataset_ok(v.v[i]))
				FAIL("'%s' is not a dataset name", v.v[i]);
			for (size_t k = 0; k < i; k++)
				if (streq(v.v[i], v.v[k]))
					FAIL("'%s' is listed twice", v.v[i]);
		}
		strvec_release(&d->datasets);
		strvec_pushv(&d->datasets, (const char *const *)v.v);
	} else if (streq(name, "target")) {
		if (!dataset_ok(value))
			FAIL("'%s' is not a dataset name", value);
		set_str(&d->target, value);
	} else if (streq(name, "snapdir")) {
		if (!streq(value, "visible") && !streq(value, "hidden"))
			FAIL("'%s': use visible or hidden", value);
		set_str(&d->snapdir, value);
	} else if (streq(name, "canmount")) {
		if (!streq(value, "on") && !streq(value, "off") && !streq(value, "noauto"))
			FAIL("'%s': use on, off or noauto", value);
		set_str(&d->canmount, value);
	} else if (streq(name, "mountpoint")) {
		if (!streq(value, "none") && !streq(value, "legacy") && !path_ok(value))
			FAIL("'%s': use none, legacy or an absolute path", value);
		set_str(&d->mountpoint, value);
	} else if (streq(name, "search_dirs")) {
		_cleanup_strvec_ struct strvec v = STRVEC_INIT;
		if (strlen(value) > 16384)
			FAIL("too long");
		strvec_split(&v, value, " \t");
		if (v.n > DRIVECONF_MAX_DIRS)
			FAIL("more than %d directories", DRIVECONF_MAX_DIRS);
		for (size_t i = 0; i < v.n; i++)
			if (!path_ok(v.v[i]))
				FAIL("'%s' is not an absolute path", v.v[i]);
		strvec_release(&d->search_dirs);
		strvec_pushv(&d->search_dirs, (const char *const *)v.v);
	} else if (streq(name, "bwlimit")) {
		if (parse_size(value, &d->bwlimit) < 0)
			FAIL("'%s' is not a rate in bytes per second (e.g. 20M)", value);
	} else if (streq(name, "power_off")) {
		bool b;
		if (streq(value, "auto"))
			d->power_off = DRIVE_POWER_AUTO;
		else if (parse_bool(value, &b) == 0)
			d->power_off = b ? DRIVE_POWER_YES : DRIVE_POWER_NO;
		else
			FAIL("'%s': use auto, yes or no", value);
	} else {
		FAIL("unknown setting (known: pool, guid, datasets, target, recursive, raw, "
		     "sync_snap, delete_target_snapshots, rollback, hold, readonly, snapdir, "
		     "mountpoint, canmount, scrub, search_dirs, power_off, detach_loop, bwlimit)");
	}
	return true;
}

static void drive_free(struct drive *d)
{
	free(d->name);
	free(d->pool);
	strvec_release(&d->datasets);
	free(d->target);
	free(d->snapdir);
	free(d->mountpoint);
	free(d->canmount);
	strvec_release(&d->search_dirs);
}

static int check_drive(const struct drive *d, const char *origin, struct strbuf *err)
{
	if (!d->guid) {
		/* a name costs nothing to forge: any stick named like the pool would be imported
		 * and written to */
		strbuf_addf(err,
			    "%s: [drive %s] needs guid = GUID, the pool guid of the drive (a pool "
			    "is never matched by its name alone, which any stick can carry): plug "
			    "the drive in and run `zpool import`, whose \"id:\" line under \"pool: %s\" "
			    "is the guid (or `zpool get -H -o value guid %s` while it is imported)",
			    origin, d->name, d->pool ? d->pool : "NAME", d->pool ? d->pool : "NAME");
		return -EINVAL;
	}
	if (!d->datasets.n) {
		strbuf_addf(err, "%s: [drive %s] needs datasets = DATASET...", origin, d->name);
		return -EINVAL;
	}
	if (!d->pool && !d->target) {
		/* fine: the name is learned when the pool is found */
	} else if (d->pool && d->target) {
		_cleanup_free_ char *p = zfs_pool_of(d->target);
		if (!streq(p, d->pool)) {
			strbuf_addf(err, "%s: [drive %s] target %s is not in pool %s", origin,
				    d->name, d->target, d->pool);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < d->datasets.n; i++) {
		_cleanup_free_ char *p = zfs_pool_of(d->datasets.v[i]);
		if (d->pool && streq(p, d->pool)) {
			strbuf_addf(err, "%s: [drive %s] dataset %s is on the drive's own pool",
				    origin, d->name, d->datasets.v[i]);
			return -EINVAL;
		}
	}
	return 0;
}

int driveconf_parse(const char *text, const char *origin, struct driveconf *out,
		    struct strbuf *err)
{
	struct driveconf c = DRIVECONF_INIT;
	struct pstate st = { .c = &c, .err = err, .origin = origin };
	bool failed = ini_text_parse(text, strlen(text), origin, handler, &st, err) < 0;
	for (size_t i = 0; !failed && i < c.n; i++)
		if (check_drive(&c.drives[i], origin, err) < 0)
			failed = true;
	if (failed) {
		driveconf_release(&c);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

void driveconf_release(struct driveconf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		drive_free(&c->drives[i]);
	free(c->drives);
	*c = (struct driveconf)DRIVECONF_INIT;
}

const struct drive *driveconf_find(const struct driveconf *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (streq(c->drives[i].name, name))
			return &c->drives[i];
	return NULL;
}

char *drive_import_name(const struct drive *d)
{
	return xasprintf("%" PRIu64, d->guid);
}

char *drive_altroot(const struct drive *d)
{
	return xasprintf("%s/%s", DRIVE_ALTROOT_DIR, d->name);
}

int drive_check_pool_name(const struct drive *d, const char *pool, struct strbuf *err)
{
	if (d->pool && !streq(pool, d->pool)) {
		strbuf_addf(err, "drive %s: the pool with guid %" PRIu64 " is named %s, not %s as "
			    "configured (fix pool = in zkeep.conf if it was renamed)", d->name,
			    d->guid, pool, d->pool);
		return -EINVAL;
	}
	_cleanup_free_ char *tp = d->target ? zfs_pool_of(d->target) : NULL;
	if (tp && !streq(tp, pool)) {
		strbuf_addf(err, "drive %s: target %s is not on the drive's pool %s", d->name,
			    d->target, pool);
		return -EINVAL;
	}
	return 0;
}

char *drive_target_of(const struct drive *d, const char *pool, const char *src)
{
	return xasprintf("%s/%s", d->target ? d->target : pool, src);
}
