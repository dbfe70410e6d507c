/*
 * zfs_parse.c - the pure half of zfs.h: parsing zfs/zpool -Hp output, names,
 * argv building for send and receive. No I/O here; unit-tested and fuzzed.
 */
#include "zfs/zfs.h"
#include "base/parse.h"

#include <time.h>

/* Hard limits against hostile or broken output. */
#define MAX_DATASETS (1u << 20)
#define MAX_SNAPS_PER_DATASET (1u << 22)
#define MAX_ROWS (1u << 24) /* lines of zfs get / zfs holds / zpool list */

/*
 * Make room for one more element in an array of n elements with capacity
 * *alloc (doubling). -E2BIG past MAX_ROWS elements.
 */
static int grow_rows(void **arr, size_t n, size_t *alloc, size_t elem)
{
	if (n < *alloc)
		return 0;
	if (n >= MAX_ROWS)
		return -E2BIG;
	*alloc = *alloc ? *alloc * 2 : 16;
	*arr = xreallocarray(*arr, *alloc, elem);
	return 0;
}

/* The error of a line with more fields than ZFIELDS_MAX. */
static int too_many_fields(struct strbuf *err, const struct zcursor *c, const char *what)
{
	strbuf_addf(err, "line %u of %s output has too many fields", c->line, what);
	return -EINVAL;
}

bool zfs_name_below(const char *name, const char *root)
{
	const char *rest = skip_prefix(name, root);
	return rest && *rest == '/';
}

bool zfs_name_within(const char *name, const char *root)
{
	return streq(name, root) || zfs_name_below(name, root);
}

const char *zfs_type_name(enum zfs_type t)
{
	switch (t) {
	case ZFS_TYPE_FILESYSTEM: return "filesystem";
	case ZFS_TYPE_VOLUME: return "volume";
	case ZFS_TYPE_SNAPSHOT: return "snapshot";
	case ZFS_TYPE_BOOKMARK: return "bookmark";
	}
	return "unknown";
}

static int type_from_span(struct span s, enum zfs_type *t)
{
	static const enum zfs_type all[] = { ZFS_TYPE_FILESYSTEM, ZFS_TYPE_VOLUME, ZFS_TYPE_SNAPSHOT,
					     ZFS_TYPE_BOOKMARK };
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (span_eq(s, zfs_type_name(all[i]))) {
			*t = all[i];
			return 0;
		}
	return -EINVAL;
}

static void free_props(char **props, size_t n)
{
	if (!props)
		return;
	for (size_t i = 0; i < n; i++)
		free(props[i]);
	free(props);
}

void zfs_tree_release(struct zfs_tree *t)
{
	size_t np = t->props.n;
	for (size_t i = 0; i < t->nds; i++) {
		struct zfs_dataset *d = &t->ds[i];
		for (size_t j = 0; j < d->nsnaps; j++) {
			free(d->snaps[j].name);
			free_props(d->snaps[j].props, np);
		}
		free(d->snaps);
		free(d->name);
		free_props(d->props, np);
	}
	free(t->ds);
	free(t->by_name);
	strvec_release(&t->props);
	*t = (struct zfs_tree)ZFS_TREE_INIT;
}

static int cmp_by_name(const void *a, const void *b, void *tree)
{
	const struct zfs_tree *t = tree;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(t->ds[i].name, t->ds[j].name);
	return c ? c : (i > j) - (i < j);
}

/* The name index of t's datasets (a run looks datasets up by name per policy and job). */
static void index_by_name(struct zfs_tree *t)
{
	t->by_name = xreallocarray(t->by_name, t->nds + 1, sizeof(*t->by_name));
	for (size_t i = 0; i < t->nds; i++)
		t->by_name[i] = i;
	qsort_r(t->by_name, t->nds, sizeof(*t->by_name), cmp_by_name, t);
	t->nby_name = t->nds;
}

struct zfs_dataset *zfs_tree_find(const struct zfs_tree *t, const char *name)
{
	if (!t->by_name || t->nby_name != t->nds) { /* datasets added since: search them all */
		for (size_t i = 0; i < t->nds; i++)
			if (streq(t->ds[i].name, name))
				return &t->ds[i];
		return NULL;
	}
	size_t lo = 0, hi = t->nds; /* the first of the index not before name */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->ds[t->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nds && streq(t->ds[t->by_name[lo]].name, name) ? &t->ds[t->by_name[lo]]
								     : NULL;
}

ssize_t zfs_tree_prop_index(const struct zfs_tree *t, const char *prop)
{
	return strvec_find(&t->props, prop);
}

struct zfs_snap *zfs_dataset_find_snap(const struct zfs_dataset *ds, const char *short_name)
{
	for (size_t i = 0; i < ds->nsnaps; i++)
		if (ds->snaps[i].type == ZFS_TYPE_SNAPSHOT && streq(ds->snaps[i].short_name, short_name))
			return &ds->snaps[i];
	return NULL;
}

struct zfs_snap *zfs_tree_find_snap(const struct zfs_tree *t, const char *full_name)
{
	const char *at = strchr(full_name, '@');
	if (!at)
		return NULL;
	_cleanup_free_ char *ds_name = xstrndup(full_name, (size_t)(at - full_name));
	const struct zfs_dataset *ds = zfs_tree_find(t, ds_name);
	return ds ? zfs_dataset_find_snap(ds, at + 1) : NULL;
}

const struct zfs_snap *zfs_dataset_find_guid(const struct zfs_dataset *ds, uint64_t guid,
					     unsigned types)
{
	for (size_t i = 0; i < ds->nsnaps; i++)
		if ((ds->snaps[i].type & types) && ds->snaps[i].guid == guid)
			return &ds->snaps[i];
	return NULL;
}

const struct zfs_snap *zfs_tree_find_guid(const struct zfs_tree *t, uint64_t guid, unsigned types)
{
	const struct zfs_snap *s = NULL;
	for (size_t i = 0; i < t->nds && !s; i++)
		s = zfs_dataset_find_guid(&t->ds[i], guid, types);
	return s;
}

static int cmp_snap(const void *a, const void *b)
{
	const struct zfs_snap *x = a, *y = b;
	if (x->createtxg != y->createtxg)
		return x->createtxg < y->createtxg ? -1 : 1;
	if (x->type != y->type)
		return x->type == ZFS_TYPE_SNAPSHOT ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Every dataset's snapshots and bookmarks oldest first (cmp_snap). */
static void sort_snaps(struct zfs_tree *t)
{
	for (size_t i = 0; i < t->nds; i++)
		if (t->ds[i].nsnaps > 1)
			qsort(t->ds[i].snaps, t->ds[i].nsnaps, sizeof(struct zfs_snap), cmp_snap);
}

/* Datasets seen so far, looked up by name when snapshots arrive. zfs lists a
 * dataset's snapshots right after it, so the last one usually matches. */
static bool is_named(const struct zfs_dataset *d, const char *name, size_t len)
{
	return strlen(d->name) == len && memcmp(d->name, name, len) == 0;
}

/*
 * The dataset named name[0..len), *hint first: zfs lists a dataset's
 * snapshots together, so the one found last is nearly always the next one
 * too (a search of the whole tree per snapshot made 100,000 snapshots of
 * 1,000 datasets cost 0.4 s). *hint becomes the one found.
 */
static struct zfs_dataset *find_parent(struct zfs_tree *t, const char *name, size_t len,
				       size_t *hint)
{
	if (*hint < t->nds && is_named(&t->ds[*hint], name, len))
		return &t->ds[*hint];
	for (size_t k = t->nds; k-- > 0;)
		if (is_named(&t->ds[k], name, len)) {
			*hint = k;
			return &t->ds[k];
		}
	return NULL;
}

/* Append *s (its name from span `name`, which holds d's name and a separator) to d's
 * snapshots, unsorted. -E2BIG past MAX_SNAPS_PER_DATASET; s's props are then the caller's. */
static int add_snap(struct zfs_dataset *d, const struct zfs_snap *s, struct span name,
		    struct strbuf *err)
{
	if (d->nsnaps >= MAX_SNAPS_PER_DATASET) {
		strbuf_addf(err, "more than %u snapshots on %s", MAX_SNAPS_PER_DATASET, d->name);
		return -E2BIG;
	}
	/* Grow by doubling; capacity is not stored, so use powers of two. */
	if ((d->nsnaps & (d->nsnaps - 1)) == 0)
		d->snaps = xreallocarray(d->snaps, d->nsnaps ? d->nsnaps * 2 : 1, sizeof(*d->snaps));
	struct zfs_snap *n = &d->snaps[d->nsnaps++];
	*n = *s;
	n->name = span_dup(name);
	n->short_name = n->name + strlen(d->name) + 1;
	return 0;
}

int zfs_parse_list(const char *buf, size_t len, struct zfs_tree *out, struct strbuf *err)
{
	struct zcursor c;
	struct zfields f;
	size_t np = out->props.n, alloc = 0;
	size_t hint = SIZE_MAX; /* the dataset of the last snapshot */
	int r;

	if (np + 5 > ZFIELDS_MAX) {
		strbuf_addf(err, "too many properties requested (%zu)", np);
		return -EINVAL;
	}
	zcursor_init(&c, buf, len);
	while ((r = zcursor_next(&c, &f)) > 0) {
		enum zfs_type type;
		uint64_t guid, txg, creation;
		if (f.n != np + 5 || type_from_span(f.f[1], &type) < 0 ||
		    zfield_u64(&f, 2, &guid) < 0 || zfield_u64(&f, 3, &txg) < 0 ||
		    zfield_u64(&f, 4, &creation) < 0 || creation > INT64_MAX || f.f[0].len == 0) {
			strbuf_addf(err, "unexpected line %u of zfs list output: '%.*s'", c.line,
				    (int)(f.f[0].len > 200 ? 200 : f.f[0].len), f.f[0].s);
			return -EINVAL;
		}
		char **props = np ? xcalloc(np, sizeof(char *)) : NULL;
		for (size_t i = 0; i < np; i++)
			props[i] = span_is_none(f.f[5 + i]) ? NULL : span_dup(f.f[5 + i]);

		if (type == ZFS_TYPE_SNAPSHOT || type == ZFS_TYPE_BOOKMARK) {
			char sep = type == ZFS_TYPE_SNAPSHOT ? '@' : '#';
			const char *at = memchr(f.f[0].s, sep, f.f[0].len);
			size_t dlen = at ? (size_t)(at - f.f[0].s) : 0;
			struct zfs_dataset *d = at ? find_parent(out, f.f[0].s, dlen, &hint) : NULL;
			if (!d) {
				strbuf_addf(err, "zfs list printed %s '%.*s' before its dataset",
					    zfs_type_name(type), (int)f.f[0].len, f.f[0].s);
				free_props(props, np);
				return -EINVAL;
			}
			struct zfs_snap s = { .type = type, .guid = guid, .createtxg = txg,
					      .creation = (int64_t)creation, .props = props };
			if ((r = add_snap(d, &s, f.f[0], err)) < 0) {
				free_props(props, np);
				return r;
			}
		} else {
			if (out->nds >= MAX_DATASETS) {
				strbuf_addf(err, "more than %u datasets listed", MAX_DATASETS);
				free_props(props, np);
				return -E2BIG;
			}
			grow_rows((void **)&out->ds, out->nds, &alloc, sizeof(*out->ds));
			out->ds[out->nds++] = (struct zfs_dataset){
				.name = span_dup(f.f[0]), .type = type, .guid = guid, .createtxg = txg,
				.creation = (int64_t)creation, .props = props,
			};
		}
	}
	if (r < 0)
		return too_many_fields(err, &c, "zfs list");
	sort_snaps(out);
	index_by_name(out);
	return 0;
}

int zfs_parse_snapshot_ids(const char *buf, size_t len, struct zfs_tree *rows,
			   struct strbuf *err)
{
	struct zcursor c;
	struct zfields f;
	size_t np = rows->props.n;
	size_t hint = SIZE_MAX; /* the dataset of the last snapshot */
	int r;

	zcursor_init(&c, buf, len);
	while ((r = zcursor_next(&c, &f)) > 0) {
		uint64_t guid, txg;
		const char *at = f.n == 3 ? memchr(f.f[0].s, '@', f.f[0].len) : NULL;
		if (!at || zfield_u64(&f, 1, &guid) < 0 || zfield_u64(&f, 2, &txg) < 0) {
			strbuf_addf(err, "unexpected line %u of zfs list output: '%.*s'", c.line,
				    (int)(f.f[0].len > 200 ? 200 : f.f[0].len), f.f[0].s);
			return -EINVAL;
		}
		struct zfs_dataset *d = find_parent(rows, f.f[0].s, (size_t)(at - f.f[0].s), &hint);
		if (!d)
			continue; /* not asked for (created since its row was listed) */
		struct zfs_snap s = { .type = ZFS_TYPE_SNAPSHOT, .guid = guid, .createtxg = txg,
				      .props = np ? xcalloc(np, sizeof(char *)) : NULL };
		if ((r = add_snap(d, &s, f.f[0], err)) < 0) {
			free_props(s.props, np);
			return r;
		}
	}
	if (r < 0)
		return too_many_fields(err, &c, "zfs list");
	sort_snaps(rows);
	return 0;
}

void zfs_props_release(struct zfs_props *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->p[i].dataset);
		free(p->p[i].name);
		free(p->p[i].value);
		free(p->p[i].inherited_from);
	}
	free(p->p);
	p->p = NULL;
	p->n = 0;
}

/* The words of `zfs get`'s source column ("inherited from X" aside). */
static const struct { const char *word; unsigned src; } source_words[] = {
	{ "local", ZFS_SRC_LOCAL }, { "default", ZFS_SRC_DEFAULT },
	{ "received", ZFS_SRC_RECEIVED }, { "temporary", ZFS_SRC_TEMPORARY },
	{ "-", ZFS_SRC_NONE },
};

const char *zfs_source_word(unsigned source)
{
	if (source == ZFS_SRC_INHERITED)
		return "inherited";
	for (size_t i = 0; i < ARRAY_SIZE(source_words); i++)
		if (source_words[i].src == source)
			return source_words[i].word;
	return "-";
}

int zfs_source_parse(const char *s, size_t n, unsigned *src, char **from)
{
	static const char inh[] = "inherited from ";
	struct span sp = { s, n };
	*from = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(source_words); i++)
		if (span_eq(sp, source_words[i].word)) {
			*src = source_words[i].src;
			return 0;
		}
	if (n > sizeof(inh) - 1 && memcmp(s, inh, sizeof(inh) - 1) == 0) {
		*src = ZFS_SRC_INHERITED;
		*from = xstrndup(s + sizeof(inh) - 1, n - (sizeof(inh) - 1));
		return 0;
	}
	return -EINVAL;
}

static int source_from_span(struct span s, unsigned *src, char **from)
{
	return zfs_source_parse(s.s, s.len, src, from);
}

int zfs_parse_get(const char *buf, size_t len, struct zfs_props *out, struct strbuf *err)
{
	struct zcursor c;
	struct zfields f;
	size_t alloc = 0;
	int r;
	zcursor_init(&c, buf, len);
	while ((r = zcursor_next(&c, &f)) > 0) {
		unsigned src;
		char *from;
		/* A value may itself contain tabs (user properties): the source is
		 * the last field, the value all between. */
		if (f.n < 4 || source_from_span(f.f[f.n - 1], &src, &from) < 0) {
			strbuf_addf(err, "unexpected line %u of zfs get output", c.line);
			return -EINVAL;
		}
		if (grow_rows((void **)&out->p, out->n, &alloc, sizeof(*out->p)) < 0) {
			free(from);
			strbuf_addstr(err, "zfs get printed too many lines");
			return -E2BIG;
		}
		struct span v = { f.f[2].s, (size_t)(f.f[f.n - 2].s + f.f[f.n - 2].len - f.f[2].s) };
		out->p[out->n++] = (struct zfs_prop){
			.dataset = span_dup(f.f[0]), .name = span_dup(f.f[1]), .value = span_dup(v),
			.source = src, .inherited_from = from,
		};
	}
	if (r < 0)
		return too_many_fields(err, &c, "zfs get");
	return 0;
}

void zfs_holds_release(struct zfs_holds *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->h[i].snapshot);
		free(h->h[i].tag);
	}
	free(h->h);
	h->h = NULL;
	h->n = 0;
}

/*
 * The date `zfs holds -H` prints without -p (OpenZFS 2.1: strftime "%a %b %e
 * %H:%M %Y" in the C locale and local time, e.g. "Thu Dec  3 19:40 2026"), as
 * seconds since the epoch (minute precision). 0 or -EINVAL.
 */
static int parse_holds_date(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%a %b %e %H:%M %Y", &tm);
	if (!end || *end)
		return -EINVAL;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	tzset();
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = t;
	return 0;
}

int zfs_parse_holds(const char *buf, size_t len, struct zfs_holds *out, struct strbuf *err)
{
	struct zcursor c;
	struct zfields f;
	size_t alloc = 0;
	int r;
	zcursor_init(&c, buf, len);
	while ((r = zcursor_next(&c, &f)) > 0) {
		uint64_t ts = 0;
		if (f.n != 3 || f.f[0].len == 0 || f.f[1].len == 0) {
			strbuf_addf(err, "unexpected line %u of zfs holds output", c.line);
			return -EINVAL;
		}
		/* -p prints seconds; 2.1 has no -p and prints a local date to the minute. */
		if (zfield_u64(&f, 2, &ts) < 0 || ts > INT64_MAX) {
			_cleanup_free_ char *date = span_dup(f.f[2]);
			time_t t;
			ts = parse_holds_date(date, &t) == 0 ? (uint64_t)t : 0;
		}
		if (grow_rows((void **)&out->h, out->n, &alloc, sizeof(*out->h)) < 0) {
			strbuf_addstr(err, "zfs holds printed too many lines");
			return -E2BIG;
		}
		out->h[out->n++] = (struct zfs_hold){
			.snapshot = span_dup(f.f[0]), .tag = span_dup(f.f[1]), .timestamp = (int64_t)ts,
		};
	}
	if (r < 0)
		return too_many_fields(err, &c, "zfs holds");
	return 0;
}

int zfs_parse_send_estimate(const char *buf, size_t len, uint64_t *bytes)
{
	struct zcursor c;
	struct zfields f;
	int r;
	zcursor_init(&c, buf, len);
	while ((r = zcursor_next(&c, &f)) > 0)
		if (f.n == 2 && span_eq(f.f[0], "size"))
			return zfield_u64(&f, 1, bytes) < 0 ? -EINVAL : 0;
	return -ENODATA;
}

/* "2.3.2-2~bpo12+2" -> 2, 3, 2 */
static void parse_triple(const char *s, unsigned *a, unsigned *b, unsigned *c)
{
	unsigned *out[3] = { a, b, c };
	for (int i = 0; i < 3; i++) {
		size_t n = 0;
		uint64_t v;
		while (s[n] >= '0' && s[n] <= '9')
			n++;
		if (parse_u64_n(s, n, &v) < 0 || v > 10000)
			return;
		*out[i] = (unsigned)v;
		s += n;
		if (*s != '.')
			return;
		s++;
	}
}

int zfs_parse_version(const char *buf, struct zfs_version *v)
{
	*v = (struct zfs_version){ 0 };
	const char *user = strstr(buf, "zfs-");
	/* The first "zfs-" must not be the "zfs-kmod-" line. */
	while (user && skip_prefix(user, "zfs-kmod-"))
		user = strstr(user + 1, "zfs-");
	const char *kmod = strstr(buf, "zfs-kmod-");
	if (user)
		parse_triple(user + 4, &v->major, &v->minor, &v->patch);
	if (kmod)
		parse_triple(kmod + 9, &v->kmod_major, &v->kmod_minor, &v->kmod_patch);
	return v->major || v->minor ? 0 : -EINVAL;
}

/* The end of the first k tab-separated columns of [p, eol), or NULL. */
static const char *key_end(const char *p, const char *eol, unsigned k)
{
	const char *tab = p - 1;
	for (unsigned i = 0; i < k; i++)
		if (!(tab = memchr(tab + 1, '\t', (size_t)(eol - tab - 1))))
			return NULL;
	return tab;
}

int zpool_parse_keyed(const char *buf, size_t len, const char *const *keys, size_t n,
		      unsigned key_columns, char **values)
{
	for (size_t i = 0; i < n; i++)
		values[i] = NULL;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *tab = key_end(p, eol, key_columns);
		if (!tab)
			goto bad;
		for (size_t i = 0; i < n; i++)
			if (!values[i] && strlen(keys[i]) == (size_t)(tab - p) &&
			    memcmp(p, keys[i], (size_t)(tab - p)) == 0) {
				values[i] = xstrndup(tab + 1, (size_t)(eol - tab - 1));
				break;
			}
		p = nl ? nl + 1 : end;
	}
	for (size_t i = 0; i < n; i++)
		if (!values[i])
			goto bad;
	return 0;
bad:
	for (size_t i = 0; i < n; i++)
		free(steal_pointer(&values[i]));
	return -EINVAL;
}

int zpool_parse_props(const char *buf, size_t len, const char *const *props, size_t n,
		      char **values)
{
	return zpool_parse_keyed(buf, len, props, n, 1, values);
}

bool zfs_version_at_least(const struct zfs_version *v, unsigned major, unsigned minor)
{
	return v->major > major || (v->major == major && v->minor >= minor);
}

void zpool_infos_release(struct zpool_infos *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->p[i].name);
		free(p->p[i].health);
	}
	free(p->p);
	p->p = NULL;
	p->n = 0;
}

int zpool_parse_list(const char *buf, size_t len, struct zpool_infos *out, struct strbuf *err)
{
	struct zcursor c;
	struct zfields f;
	size_t alloc = 0;
	int r;
	zcursor_init(&c, buf, len);
	while ((r = zcursor_next(&c, &f)) > 0) {
		struct zpool_info p = { 0 };
		uint64_t cap = 0;
		if (f.n != 7 || zfield_u64(&f, 2, &p.guid) < 0) {
			strbuf_addf(err, "unexpected line %u of zpool list output", c.line);
			return -EINVAL;
		}
		/* size/alloc/free/capacity are "-" for an unavailable pool. */
		zfield_u64(&f, 3, &p.size);
		zfield_u64(&f, 4, &p.allocated);
		zfield_u64(&f, 5, &p.free);
		if (zfield_u64(&f, 6, &cap) == 0 && cap <= 100)
			p.capacity = (unsigned)cap;
		if (grow_rows((void **)&out->p, out->n, &alloc, sizeof(*out->p)) < 0) {
			strbuf_addstr(err, "zpool list printed too many lines");
			return -E2BIG;
		}
		p.name = span_dup(f.f[0]);
		p.health = span_dup(f.f[1]);
		out->p[out->n++] = p;
	}
	if (r < 0)
		return too_many_fields(err, &c, "zpool list");
	return 0;
}

int zfs_errno_from_message(const char *msg)
{
	static const struct { const char *words; int err; } map[] = {
		{ "dataset does not exist", -ENOENT },
		{ "no such pool", -ENOENT },
		{ "could not find any snapshots to destroy", -ENOENT },
		{ "does not exist", -ENOENT },
		{ "no such dataset", -ENOENT },
		{ "already exists", -EEXIST },
		{ "permission denied", -EPERM },
		{ "must be run as root", -EPERM },
		{ "delegated administration is disabled", -EPERM },
		{ "is busy", -EBUSY },
		{ "it's being held", -EBUSY },
		{ "out of space", -ENOSPC },
		{ "no space left", -ENOSPC },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcasestr(msg, map[i].words))
			return map[i].err;
	return -EIO;
}

/* ---- names ---- */

static bool component_valid(const char *s, size_t n)
{
	if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-' || ch == '.' || ch == ':' || ch == ' '))
			return false;
	}
	return true;
}

bool zfs_name_valid(const char *name, bool allow_snap)
{
	size_t len = strlen(name);
	if (len == 0 || len >= 256)
		return false;
	const char *sep = strpbrk(name, "@#");
	size_t dslen = sep ? (size_t)(sep - name) : len;
	if (sep) {
		if (!allow_snap || !component_valid(sep + 1, len - dslen - 1))
			return false;
	}
	const char *p = name, *end = name + dslen;
	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *ce = slash ? slash : end;
		if (!component_valid(p, (size_t)(ce - p)))
			return false;
		if (!slash)
			break;
		p = slash + 1;
	}
	/* A pool name must start with a letter. */
	return (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z');
}

char *zfs_pool_of(const char *name)
{
	return xstrndup(name, strcspn(name, "/@#"));
}

/* ---- argv builders ---- */

void zfs_send_argv(const struct zfs_send_args *a, bool estimate, struct strvec *argv)
{
	struct strbuf flags = STRBUF_INIT;
	strvec_push(argv, "zfs");
	strvec_push(argv, "send");
	if (estimate)
		strbuf_addstr(&flags, "nvP");
	if (a->resume_token) {
		if (flags.len) {
			strvec_pushf(argv, "-%s", flags.buf);
		}
		if (a->extra_flags && *a->extra_flags)
			strvec_pushf(argv, "-%s", a->extra_flags);
		strvec_push(argv, "-t");
		strvec_push(argv, a->resume_token);
		strbuf_release(&flags);
		return;
	}
	const struct { bool on; char flag; } bits[] = {
		{ a->raw, 'w' }, { a->replicate, 'R' }, { a->props, 'p' }, { a->large_blocks, 'L' },
		{ a->embed, 'e' }, { a->compressed, 'c' }, { a->holds, 'h' }, { a->saved, 'S' },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
		if (bits[i].on)
			strbuf_addch(&flags, bits[i].flag);
	if (a->extra_flags)
		for (const char *f = a->extra_flags; *f; f++)
			if (!strchr(flags.buf, *f))
				strbuf_addch(&flags, *f);
	if (flags.len)
		strvec_pushf(argv, "-%s", flags.buf);
	if (a->from) {
		strvec_push(argv, a->intermediates ? "-I" : "-i");
		strvec_push(argv, a->from);
	}
	strvec_push(argv, a->snapshot);
	strbuf_release(&flags);
}

void zfs_recv_argv(const struct zfs_recv_args *a, struct strvec *argv)
{
	struct strbuf flags = STRBUF_INIT;
	strvec_push(argv, "zfs");
	strvec_push(argv, "receive");
	const struct { bool on; char flag; } bits[] = {
		{ a->resumable, 's' }, { a->force, 'F' }, { a->no_mount, 'u' },
		{ a->discard_first, 'd' }, { a->verbose, 'v' },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
		if (bits[i].on)
			strbuf_addch(&flags, bits[i].flag);
	if (a->extra_flags)
		for (const char *f = a->extra_flags; *f; f++)
			if (!strchr(flags.buf, *f))
				strbuf_addch(&flags, *f);
	if (flags.len)
		strvec_pushf(argv, "-%s", flags.buf);
	for (const char *const *p = a->set_props; p && *p; p++) {
		strvec_push(argv, "-o");
		strvec_push(argv, *p);
	}
	for (const char *const *p = a->exclude_props; p && *p; p++) {
		strvec_push(argv, "-x");
		strvec_push(argv, *p);
	}
	strvec_push(argv, a->target);
	strbuf_release(&flags);
}

/* ---- zpool status ------------------------------------------------------------ */

void zpool_status_release(struct zpool_status *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].state);
		free(s->v[i].read);
		free(s->v[i].write);
		free(s->v[i].cksum);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
	strvec_release(&s->errors);
}

/* The config header: NAME STATE READ WRITE CKSUM. */
static bool status_header(const struct strvec *w)
{
	return w->n >= 5 && streq(w->v[0], "NAME") && streq(w->v[4], "CKSUM");
}

int zpool_parse_status(const char *buf, size_t len, struct zpool_status *out)
{
	_cleanup_free_ char *text = xstrndup(buf, len);
	size_t alloc = 0;
	bool in_config = false, first = false;
	*out = (struct zpool_status)ZPOOL_STATUS_INIT;
	for (char *l = text, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		const char *v;
		if ((nl = strchr(l, '\n')))
			*nl = '\0';
		unsigned indent = (unsigned)strspn(l, " \t");
		_cleanup_strvec_ struct strvec w = STRVEC_INIT;
		strvec_split(&w, l, " \t");
		if (status_header(&w)) {
			in_config = first = true;
			continue;
		}
		if ((v = skip_prefix(l + indent, "errors:"))) {
			in_config = false;
			strvec_push(&out->errors, v + strspn(v, " \t"));
			continue;
		}
		if (!in_config)
			continue;
		if (w.n == 0) {
			in_config = false;
			continue;
		}
		bool is_first = first;
		first = false;
		if (w.n < 5)
			continue;
		if (grow_rows((void **)&out->v, out->n, &alloc, sizeof(*out->v)) < 0)
			return -E2BIG;
		out->v[out->n++] = (struct zpool_status_vdev){
			.name = xstrdup(w.v[0]), .state = xstrdup(w.v[1]), .read = xstrdup(w.v[2]),
			.write = xstrdup(w.v[3]), .cksum = xstrdup(w.v[4]), .indent = indent,
			.pool = is_first,
		};
	}
	return 0;
}

/* ---- zfs allow / unallow ------------------------------------------------------ */

void zfs_allow_argv(char scope, uid_t uid, const char *perms, const char *dataset,
		    struct strvec *argv)
{
	strvec_pushv(argv, ARGV("zfs", "allow"));
	if (scope == 'c') {
		strvec_pushv(argv, ARGV("-c", perms, dataset));
		return;
	}
	if (scope == 'l')
		strvec_push(argv, "-l");
	else if (scope == 'd')
		strvec_push(argv, "-d");
	strvec_push(argv, "-u");
	strvec_pushf(argv, "%u", (unsigned)uid);
	strvec_push(argv, perms);
	strvec_push(argv, dataset);
}

void zfs_unallow_argv(uid_t uid, bool recursive, const char *dataset, struct strvec *argv)
{
	strvec_pushv(argv, ARGV("zfs", "unallow"));
	if (recursive)
		strvec_push(argv, "-r");
	strvec_push(argv, "-u");
	strvec_pushf(argv, "%u", (unsigned)uid);
	strvec_push(argv, dataset);
}

void zfs_unallow_create_argv(const char *perms, const char *dataset, struct strvec *argv)
{
	strvec_pushv(argv, ARGV("zfs", "unallow", "-c", perms, dataset));
}
