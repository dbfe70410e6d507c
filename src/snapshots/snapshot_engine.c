/*
 * snapshot_engine.c - sanoid's take/prune/monitor orchestration over the
 * ZFS backend. See snapshot_engine.h for the contract.
 */
#include "base/zkeep.h"
#include "snapshots/snapshot_engine.h"
#include "snapshots/autosnap.h"
#include "base/parse.h"
#include "snapshots/syncsnap.h"
#include "snapshots/retention.h"
#include "snapshots/prune_batch.h"
#include "snapshots/schedule.h"
#include "snapshots/monitor.h"
#include "base/timeutil.h"
#include "base/atomic_file.h"
#include "base/lockfile.h"
#include "base/proc_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define CACHE_MAGIC "#zkeep-snapshots-v2"

PRINTF(3, 4) static void ev(struct engine *e, enum engine_level l, const char *fmt, ...)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	va_list ap;
	if (!e->o.event)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	e->o.event(e->o.event_ctx, l, sb.buf);
}

/* ---- small helpers ---------------------------------------------------------- */

static int mkdir_p(const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Take lock NAME in the run dir; -EWOULDBLOCK when !wait and it is held. */
static int lock_take(struct engine *e, const char *name, bool wait, int *fd_out)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", e->o.run_dir, name);
	int fd = lockfile_take(path, wait);
	if (fd < 0)
		return fd;
	lockfile_write_pid(fd);
	*fd_out = fd;
	return 0;
}

static void lock_release(int *fd)
{
	if (*fd >= 0) {
		close(*fd); /* releases the flock */
		*fd = -1;
	}
}

static char *pool_of(const char *name)
{
	size_t n = strcspn(name, "/@#");
	return xstrndup(name, n);
}

int64_t engine_snap_time(const struct engine *e, const struct zfs_snap *s)
{
	time_t t;
	if (e->o.name_time && autosnap_time(s->short_name, &t) == 0)
		return (int64_t)t;
	return s->creation;
}

const struct zfs_dataset *engine_dataset(const struct engine *e, const struct sanoid_policy *p)
{
	return zfs_tree_find(&e->tree, p->path);
}

void engine_summarize(const struct engine *e, const struct sanoid_policy *p,
		      struct engine_summary *s)
{
	const struct zfs_dataset *ds = engine_dataset(e, p);
	memset(s, 0, sizeof(*s));
	for (int t = 0; t < SNAP_NTYPES; t++)
		s->newest[t] = SCHEDULE_NONE;
	if (!ds)
		return;
	for (size_t i = 0; i < ds->nsnaps; i++) {
		const struct zfs_snap *sn = &ds->snaps[i];
		int t;
		if (sn->type != ZFS_TYPE_SNAPSHOT)
			continue;
		s->total++;
		t = autosnap_type(sn->short_name);
		if (t < 0)
			continue;
		s->count[t]++;
		int64_t ct = engine_snap_time(e, sn);
		if (s->newest[t] == SCHEDULE_NONE || ct >= s->newest[t]) {
			s->newest[t] = ct;
			s->newest_name[t] = sn->short_name;
		}
	}
}

/*
 * The snapshots of ds as retention_plan() input, times from engine_snap_time()
 * and held from the listed userrefs. Returns a new array (free()) of *n.
 */
static struct retain_snap *retain_input(const struct engine *e, const struct zfs_dataset *ds, size_t *n)
{
	struct retain_snap *rs = xcalloc(ds->nsnaps ? ds->nsnaps : 1, sizeof(*rs));
	size_t m = 0;
	for (size_t j = 0; j < ds->nsnaps; j++) {
		const struct zfs_snap *s = &ds->snaps[j];
		uint64_t refs = 0;
		if (s->type != ZFS_TYPE_SNAPSHOT)
			continue;
		if (e->userrefs >= 0 && s->props[e->userrefs])
			parse_u64(s->props[e->userrefs], &refs);
		rs[m++] = (struct retain_snap){ .name = s->short_name, .ctime = engine_snap_time(e, s),
						.held = refs > 0 };
	}
	*n = m;
	return rs;
}

/* The full names of the snapshots of p that its plan rs keeps only for their holds. */
static void push_held(const struct sanoid_policy *p, const struct retain_snap *rs, size_t m,
		      struct strvec *held)
{
	for (size_t j = 0; j < m; j++)
		if (rs[j].verdict == RETAIN_KEPT_HELD)
			strvec_pushf(held, "%s@%s", p->path, rs[j].name);
}

/*
 * A listed hold can be stale: the userrefs of a cached row, or of one the cache refresh
 * carried over from the run's listing, is as old as that listing, and a snapshot
 * released since (zkeep replicate releases its holds) would be kept for ever. So the
 * snapshots that pruning would remove but for a hold are asked about, with one
 * `zfs holds`; those with no hold left count as unheld from here on. Nothing to ask in
 * most runs: only policies that prune and snapshots that are due to go, each once a run
 * (at the start, for the plan, and before pruning, for what the run took since).
 */
static void recheck_held(struct engine *e)
{
	_cleanup_strvec_ struct strvec held = STRVEC_INIT;
	struct zfs_holds h = { 0 };
	for (size_t i = 0; e->userrefs >= 0 && i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		const struct zfs_dataset *ds = engine_dataset(e, p);
		if (!ds || !p->autoprune || p->process_children_only)
			continue;
		size_t m;
		struct retain_snap *rs = retain_input(e, ds, &m);
		retention_plan(p, e->o.now, rs, m);
		push_held(p, rs, m, &held);
		free(rs);
	}
	_cleanup_strvec_ struct strvec ask = STRVEC_INIT;
	for (size_t i = 0; i < held.n; i++)
		if (strvec_find(&e->held_asked, held.v[i]) < 0)
			strvec_push(&ask, held.v[i]);
	if (!ask.n)
		return;
	strvec_pushv(&e->held_asked, (const char *const *)ask.v);
	if (zfs_list_holds(&e->z, (const char *const *)ask.v, false, &h) < 0) {
		ev(e, ENG_DEBUG, "DEBUG: zfs holds: %s", zfs_error(&e->z));
		return;
	}
	for (size_t i = 0; i < ask.n; i++) {
		bool still = false;
		for (size_t j = 0; j < h.n && !still; j++)
			still = streq(h.h[j].snapshot, ask.v[i]);
		struct zfs_snap *s = zfs_tree_find_snap(&e->tree, ask.v[i]);
		if (still || !s)
			continue;
		free(s->props[e->userrefs]);
		s->props[e->userrefs] = xstrdup("0");
		ev(e, ENG_DEBUG, "DEBUG: %s is no longer held (its listing was older)", ask.v[i]);
	}
	zfs_holds_release(&h);
}

void engine_plan(const struct engine *e, const struct sanoid_policy *p, unsigned *due,
		 struct strvec *would_prune, size_t *held)
{
	const struct zfs_dataset *ds = engine_dataset(e, p);
	struct engine_summary sum;
	struct schedule sch;
	*due = 0;
	*held = 0;
	if (!ds)
		return;
	engine_summarize(e, p, &sum);
	schedule_due(p, e->o.now, sum.newest, &sch);
	*due = sch.due;
	size_t m;
	struct retain_snap *rs = retain_input(e, ds, &m);
	retention_plan(p, e->o.now, rs, m);
	for (size_t j = 0; j < m; j++) {
		if (rs[j].verdict == RETAIN_PRUNE)
			strvec_push(would_prune, rs[j].name);
		else if (rs[j].verdict != RETAIN_KEEP)
			(*held)++;
	}
	free(rs);
}

/* ---- the cache ---------------------------------------------------------------- */

static char *cache_path(const struct engine *e)
{
	return xasprintf("%s/snapshots.txt", e->o.cache_dir);
}

static void cache_header(const struct engine *e, struct strbuf *sb)
{
	strbuf_addstr(sb, CACHE_MAGIC);
	for (size_t i = 0; i < e->roots.n; i++)
		strbuf_addf(sb, "\t%s", e->roots.v[i]);
	strbuf_addch(sb, '\n');
}

/* What the cache and the listings hold besides name, type, guid, txg and creation. */
static const char *const list_props[] = { "userrefs", "snapshots_changed", NULL };
enum { PROP_USERREFS, PROP_SNAPSHOTS_CHANGED };

static void cache_line(struct strbuf *sb, const char *name, enum zfs_type type, uint64_t guid,
		       uint64_t txg, int64_t creation, const char *userrefs,
		       const char *snapshots_changed)
{
	strbuf_addf(sb, "%s\t%s\t%llu\t%llu\t%lld\t%s\t%s\n", name, zfs_type_name(type),
		    (unsigned long long)guid, (unsigned long long)txg, (long long)creation,
		    userrefs ? userrefs : "-", snapshots_changed ? snapshots_changed : "-");
}

/* The props of a listed dataset or snapshot, by list_props index (NULL: "-"). */
static const char *row_prop(const struct zfs_tree *t, char **props, int which)
{
	ssize_t i = zfs_tree_prop_index(t, list_props[which]);
	return i >= 0 ? props[i] : NULL;
}

/* A dataset's row, with the snapshots_changed to store (NULL: "-"), and its snapshots. */
static void cache_dataset_lines_as(struct strbuf *sb, const struct zfs_tree *t,
				   const struct zfs_dataset *d, const char *snapshots_changed,
				   bool with_snaps)
{
	cache_line(sb, d->name, d->type, d->guid, d->createtxg, d->creation,
		   row_prop(t, d->props, PROP_USERREFS), snapshots_changed);
	for (size_t j = 0; with_snaps && j < d->nsnaps; j++) {
		const struct zfs_snap *s = &d->snaps[j];
		cache_line(sb, s->name, s->type, s->guid, s->createtxg, s->creation,
			   row_prop(t, s->props, PROP_USERREFS), NULL);
	}
}

static void cache_dataset_lines(struct strbuf *sb, const struct zfs_tree *t,
				const struct zfs_dataset *d, bool with_snaps)
{
	cache_dataset_lines_as(sb, t, d, row_prop(t, d->props, PROP_SNAPSHOTS_CHANGED), with_snaps);
}

/* Write content atomically with mtime = mtime. */
static int cache_write(const struct engine *e, const struct strbuf *content, time_t mtime)
{
	_cleanup_free_ char *path = cache_path(e);
	_cleanup_release_(atomic_file) struct atomic_file f = ATOMIC_FILE_INIT;
	int r = atomic_file_open(&f, path, 0644);
	if (r < 0 || (r = atomic_file_write(&f, content->buf, content->len)) < 0)
		return r;
	struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };
	futimens(f.fd, ts);
	return atomic_file_commit(&f);
}

/* Write the run's listing to the cache; its mtime is now when expired, else it stays. */
static int cache_store(struct engine *e, bool expired)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	_cleanup_free_ char *path = cache_path(e);
	struct stat st;
	int fd = -1, r;
	time_t mtime = !expired && stat(path, &st) == 0 ? st.st_mtime : e->o.now;
	cache_header(e, &sb);
	strbuf_addf(&sb, "#listed-at\t%lld\n", (long long)e->listed_at);
	for (size_t i = 0; i < e->tree.nds; i++)
		cache_dataset_lines(&sb, &e->tree, &e->tree.ds[i], true);
	if (e->o.run_dir && lock_take(e, "sanoid_cacheupdate.lock", true, &fd) < 0)
		fd = -1;
	r = cache_write(e, &sb, mtime);
	lock_release(&fd);
	return r;
}

/* Whether the cache file is younger than ttl on the run's clock (sanoid's rule). */
static bool cache_young(const struct engine *e, int64_t ttl)
{
	_cleanup_free_ char *path = cache_path(e);
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	return (int64_t)e->o.now - (int64_t)st.st_mtime <= ttl &&
	       (int64_t)st.st_mtime <= (int64_t)e->o.now;
}

/*
 * Read the cache, whatever its age, if it is for the same roots: its listing
 * into *t and when it was listed (wall clock) into *listed_at. 1 read, 0 not.
 */
static int cache_read(const struct engine *e, struct zfs_tree *t, int64_t *listed_at)
{
	_cleanup_free_ char *path = cache_path(e);
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT, hdr = STRBUF_INIT, err = STRBUF_INIT;
	static const char at_key[] = "#listed-at\t";

	*t = (struct zfs_tree)ZFS_TREE_INIT;
	if (strbuf_read_file(&sb, path) < 0)
		return 0;
	cache_header(e, &hdr);
	if (sb.len < hdr.len || memcmp(sb.buf, hdr.buf, hdr.len) != 0)
		return 0; /* sanoid's format, an older zkeep's, or other roots */
	const char *p = sb.buf + hdr.len, *end = sb.buf + sb.len;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	uint64_t at;
	if (!nl || (size_t)(nl - p) <= strlen(at_key) || memcmp(p, at_key, strlen(at_key)) != 0 ||
	    parse_u64_n(p + strlen(at_key), (size_t)(nl - p) - strlen(at_key), &at) < 0 ||
	    at > INT64_MAX)
		return 0;
	*listed_at = (int64_t)at;
	strvec_pushv(&t->props, list_props);
	if (zfs_parse_list(nl + 1, (size_t)(end - nl - 1), t, &err) < 0) {
		zfs_tree_release(t);
		return 0;
	}
	return 1;
}

/* Load the cache if it is younger than ttl and for the same roots. 1 loaded, 0 not. */
static int cache_load(struct engine *e, int64_t ttl)
{
	int64_t at;
	if (!cache_young(e, ttl) || cache_read(e, &e->tree, &at) < 1)
		return 0;
	e->listed_at = at;
	return 1;
}

/*
 * Whether the snapshots a cached dataset row lists are still all there are:
 * its snapshots_changed (seconds) has not moved, and moved last before the
 * cache was listed (a change in the second of the listing may be missing).
 */
static bool snapshots_unchanged(const struct zfs_tree *now, const struct zfs_dataset *d,
				const struct zfs_tree *cached, const struct zfs_dataset *cd,
				int64_t listed_at)
{
	const char *v = row_prop(now, d->props, PROP_SNAPSHOTS_CHANGED);
	const char *cv = cd ? row_prop(cached, cd->props, PROP_SNAPSHOTS_CHANGED) : NULL;
	int64_t t;
	return v && cv && streq(v, cv) && parse_i64(v, &t) == 0 && t < listed_at &&
	       d->guid == cd->guid;
}

/* How many datasets one `zfs list -d 1` re-lists: well inside the argument limit. */
#define RELIST_CHUNK 200

unsigned engine_relist_chunk_env(void)
{
	const char *v = getenv("ZKEEP_RELIST_CHUNK");
	unsigned n;
	return v && parse_uint_range(v, 1, RELIST_CHUNK, &n) == 0 ? n : 0;
}

static size_t relist_chunk(const struct engine *e)
{
	return e->o.relist_chunk ? e->o.relist_chunk : RELIST_CHUNK;
}

/* Datasets listed again, each with its own snapshots: one tree per chunk of names. */
struct relisting {
	struct zfs_tree *t;
	size_t n;
	const struct strvec *names; /* what was asked, chunk names per tree */
	size_t chunk;
};

static void relisting_release(struct relisting *rl)
{
	for (size_t i = 0; i < rl->n; i++)
		zfs_tree_release(&rl->t[i]);
	free(rl->t);
	rl->t = NULL;
	rl->n = 0;
}

/* List names with `zfs list -d 1`, relist_chunk() at a time. A name destroyed meanwhile
 * is simply missing. 0 or -errno (zfs's message in err). */
static int relist(struct engine *e, const struct strvec *names, struct relisting *out,
		  struct strbuf *err)
{
	int r = 0;
	out->names = names;
	out->chunk = relist_chunk(e);
	for (size_t k = 0; k < names->n && r == 0; k += out->chunk) {
		size_t n = names->n - k < out->chunk ? names->n - k : out->chunk;
		_cleanup_free_ const char **chunk = xcalloc(n + 1, sizeof(*chunk));
		memcpy(chunk, names->v + k, n * sizeof(*chunk));
		out->t = xreallocarray(out->t, out->n + 1, sizeof(*out->t));
		r = zfs_list_tree(&e->z, chunk, ZFS_LIST_SNAPSHOTS, list_props, &out->t[out->n++]);
		if (r == -ENOENT)
			r = 0;
		else if (r < 0)
			strbuf_addf(err, "%s", zfs_error(&e->z));
	}
	return r;
}

/* A listed snapshot's creation and userrefs (value "-": none) from zfs get's props. */
static int snap_details_apply(struct zfs_tree *t, const struct zfs_props *got)
{
	ssize_t iu = zfs_tree_prop_index(t, list_props[PROP_USERREFS]);
	for (size_t i = 0; i < got->n; i++) {
		const struct zfs_prop *p = &got->p[i];
		struct zfs_snap *s = zfs_tree_find_snap(t, p->dataset);
		if (!s)
			return -EINVAL; /* zfs answered for a name it was not asked */
		if (streq(p->name, "creation") && parse_i64(p->value, &s->creation) < 0)
			return -EINVAL;
		if (streq(p->name, "userrefs") && iu >= 0 && !streq(p->value, "-")) {
			free(s->props[iu]);
			s->props[iu] = xstrdup(p->value);
		}
	}
	return 0;
}

/*
 * For the cache, after the run's own takes and destroys: the rows of names and their
 * snapshots, as relist() lists them, but without ZFS reading every snapshot's
 * properties (at 20,000 snapshots that full listing is most of a cold run). Three
 * steps: the dataset rows (snapshots_changed first: a snapshot made after it moves it,
 * so the next run lists that dataset again); every snapshot's name, guid and createtxg
 * (ZFS's fast listing); creation and userrefs of each snapshot this run's own listing
 * had with the same guid and createtxg from there, of the rest (the snapshots the run
 * took, anything made behind its back) from one `zfs get` per chunk. Into out as one
 * tree. 0 (a dataset destroyed meanwhile is missing), or -errno with err.
 */
static int relist_for_cache(struct engine *e, const struct strvec *names, struct relisting *out,
			    size_t *details, struct strbuf *err)
{
	static const char *const detail_props[] = { "creation", "userrefs", NULL };
	_cleanup_strvec_ struct strvec listed = STRVEC_INIT, detail = STRVEC_INIT;
	out->names = names;
	out->chunk = names->n;
	out->t = xcalloc(1, sizeof(*out->t));
	out->n = 1;
	struct zfs_tree *t = out->t;
	int r = zfs_list_tree(&e->z, (const char *const *)names->v, 0, list_props, t);
	ssize_t iu_before = zfs_tree_prop_index(&e->tree, list_props[PROP_USERREFS]);
	ssize_t iu = zfs_tree_prop_index(t, list_props[PROP_USERREFS]);
	for (size_t i = 0; (r == 0 || r == -ENOENT) && i < t->nds; i++)
		strvec_push(&listed, t->ds[i].name);
	if ((r == 0 || r == -ENOENT) && listed.n)
		r = zfs_list_snapshot_ids(&e->z, (const char *const *)listed.v, t);
	if (r < 0 && r != -ENOENT) {
		strbuf_addf(err, "%s", zfs_error(&e->z));
		return r;
	}
	for (size_t i = 0; i < t->nds; i++) {
		const struct zfs_dataset *d = &t->ds[i], *before = zfs_tree_find(&e->tree, d->name);
		/* both lists are oldest first: one walk, also at 100,000 snapshots */
		const struct zfs_snap *b = before ? before->snaps : NULL;
		size_t k = 0, nb = before ? before->nsnaps : 0;
		for (size_t j = 0; j < d->nsnaps; j++) {
			struct zfs_snap *s = &d->snaps[j];
			const struct zfs_snap *o = NULL;
			while (k < nb && b[k].createtxg < s->createtxg)
				k++;
			for (size_t q = k; q < nb && b[q].createtxg == s->createtxg; q++)
				if (!o && b[q].guid == s->guid && streq(b[q].name, s->name))
					o = &b[q];
			if (!o) {
				strvec_push(&detail, s->name);
				continue;
			}
			s->creation = o->creation;
			if (iu >= 0 && iu_before >= 0 && o->props[iu_before])
				s->props[iu] = xstrdup(o->props[iu_before]);
		}
	}
	*details = detail.n;
	for (size_t k = 0; k < detail.n; k += relist_chunk(e)) {
		size_t n = detail.n - k < relist_chunk(e) ? detail.n - k : relist_chunk(e);
		_cleanup_free_ const char **chunk = xcalloc(n + 1, sizeof(*chunk));
		memcpy(chunk, detail.v + k, n * sizeof(*chunk));
		struct zfs_props got = { 0 };
		r = zfs_get_props(&e->z, chunk, false, detail_props, 0, &got);
		if (r < 0)
			strbuf_addf(err, "%s", zfs_error(&e->z)); /* destroyed meanwhile, too */
		else if ((r = snap_details_apply(t, &got)) < 0)
			strbuf_addstr(err, "unexpected zfs get output for the cache");
		zfs_props_release(&got);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * A dataset that was asked for, from the listing of its own chunk (*t), or NULL.
 * Not from another chunk: `zfs list -d 1` of a parent lists its children's rows
 * too, but without their snapshots.
 */
static const struct zfs_dataset *relisting_find(const struct relisting *rl, const char *name,
						const struct zfs_tree **t)
{
	ssize_t k = rl->names ? strvec_find(rl->names, name) : -1;
	size_t chunk = k < 0 ? 0 : (size_t)k / rl->chunk;
	if (k < 0 || chunk >= rl->n)
		return NULL;
	*t = &rl->t[chunk];
	return zfs_tree_find(*t, name);
}

/*
 * ZFS 2.2+: list the datasets with their snapshots_changed; the snapshots of
 * a dataset whose value has not moved come from the cache, the others' are
 * listed (one `zfs list -d 1` for many datasets). Into e->tree. 0 (or
 * -ENOENT: a root is missing, the rest is listed) done; 1 no cache to start
 * from (the caller lists everything, with snapshots_changed); 2 ZFS has no
 * snapshots_changed (2.1: the caller lists everything without it); -errno.
 */
static int list_changed(struct engine *e, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT, perr = STRBUF_INIT;
	_cleanup_strvec_ struct strvec relisted = STRVEC_INIT;
	struct zfs_tree rows = ZFS_TREE_INIT, cached = ZFS_TREE_INIT;
	struct relisting fresh = { 0 };
	int64_t cached_at = 0;
	int64_t listed_at = (int64_t)time(NULL); /* before the listing: see snapshots_unchanged */
	int r = zfs_list_tree(&e->z, (const char *const *)e->roots.v, ZFS_LIST_RECURSIVE,
			      list_props, &rows);
	if (r < 0 && r != -ENOENT) {
		ev(e, ENG_DEBUG, "DEBUG: no snapshots_changed (%s): listing every snapshot",
		   zfs_error(&e->z));
		return 2;
	}
	int missing = r;
	_cleanup_free_ char *missing_msg = missing < 0 ? xstrdup(zfs_error(&e->z)) : NULL;
	if (cache_read(e, &cached, &cached_at) < 1) {
		zfs_tree_release(&rows);
		return 1; /* no cache: one listing of everything is cheaper */
	}
	_cleanup_free_ bool *reuse = xcalloc(rows.nds ? rows.nds : 1, sizeof(*reuse));
	for (size_t i = 0; i < rows.nds; i++) {
		const struct zfs_dataset *d = &rows.ds[i];
		reuse[i] = snapshots_unchanged(&rows, d, &cached, zfs_tree_find(&cached, d->name),
					       cached_at);
		if (!reuse[i])
			strvec_push(&relisted, d->name);
	}
	/* a dataset destroyed since the first listing is listed without snapshots */
	r = relist(e, &relisted, &fresh, err);
	if (r == 0) {
		for (size_t i = 0; i < rows.nds; i++) {
			const struct zfs_dataset *d = &rows.ds[i], *src = NULL;
			const struct zfs_tree *st = NULL;
			if (reuse[i]) {
				st = &cached;
				src = zfs_tree_find(&cached, d->name);
			}
			if (!src)
				src = relisting_find(&fresh, d->name, &st);
			cache_dataset_lines(&text, &rows, d, false);
			if (src)
				for (size_t j = 0; j < src->nsnaps; j++)
					cache_line(&text, src->snaps[j].name, src->snaps[j].type,
						   src->snaps[j].guid, src->snaps[j].createtxg,
						   src->snaps[j].creation,
						   row_prop(st, src->snaps[j].props, PROP_USERREFS), NULL);
		}
		e->tree = (struct zfs_tree)ZFS_TREE_INIT;
		strvec_pushv(&e->tree.props, list_props);
		if (zfs_parse_list(text.buf, text.len, &e->tree, &perr) < 0) {
			strbuf_addf(err, "the merged listing: %s", perr.buf);
			r = -EIO;
		} else {
			r = 0;
		}
	}
	ev(e, ENG_DEBUG, "DEBUG: snapshots of %zu of %zu datasets listed, the others' unchanged "
	   "since the cache (snapshots_changed)", relisted.n, rows.nds);
	/* Nothing re-listed: the cache stays as it is, listed_at included (still true). */
	e->listed_at = relisted.n ? listed_at : cached_at;
	e->cache_unchanged = relisted.n == 0;
	relisting_release(&fresh);
	zfs_tree_release(&rows);
	zfs_tree_release(&cached);
	if (r == 0 && missing == -ENOENT) {
		strbuf_reset(&e->z.err);
		strbuf_addstr(&e->z.err, missing_msg);
		return -ENOENT;
	}
	return r;
}

/*
 * Apply what this run did to the cache file: add `added` (full snapshot
 * names, created now) and drop `removed`. A cache in another state is
 * removed, so the next run lists.
 */
static void cache_apply(struct engine *e, const struct strvec *added, const struct strvec *removed)
{
	_cleanup_free_ char *path = cache_path(e);
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT, hdr = STRBUF_INIT, out = STRBUF_INIT;
	struct stat st;
	int fd = -1;

	if (e->o.run_dir && lock_take(e, "sanoid_cacheupdate.lock", true, &fd) < 0)
		fd = -1;
	cache_header(e, &hdr);
	if (stat(path, &st) < 0 || strbuf_read_file(&sb, path) < 0 || sb.len < hdr.len ||
	    memcmp(sb.buf, hdr.buf, hdr.len) != 0) {
		unlink(path);
		lock_release(&fd);
		return;
	}
	strbuf_add(&out, sb.buf, hdr.len);
	for (const char *p = sb.buf + hdr.len, *end = sb.buf + sb.len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl + 1 : end;
		size_t nlen = strcspn(p, "\t\n");
		bool drop = false;
		for (size_t i = 0; i < removed->n && !drop; i++)
			drop = strlen(removed->v[i]) == nlen && memcmp(removed->v[i], p, nlen) == 0;
		if (!drop)
			strbuf_add(&out, p, (size_t)(le - p));
		p = le;
	}
	for (size_t i = 0; i < added->n; i++)
		cache_line(&out, added->v[i], ZFS_TYPE_SNAPSHOT, 0, 0, e->o.now, "0", NULL);
	/* the mtime stays: the cache is as old as its listing (sanoid does the same) */
	if (cache_write(e, &out, st.st_mtime) < 0)
		unlink(path);
	lock_release(&fd);
}

/* In a worker: tell the supervisor, which keeps the cache, what changed. */
static void cache_report(struct engine *e, const struct strvec *added, const struct strvec *removed)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < added->n; i++)
		strbuf_addf(&sb, "+%s\n", added->v[i]);
	for (size_t i = 0; i < removed->n; i++)
		strbuf_addf(&sb, "-%s\n", removed->v[i]);
	/* a short report is refused by the supervisor */
	(void)fd_write_all(e->o.cache_report_fd, sb.buf, sb.len);
}

/* The datasets of full snapshot names, into e->changed (each once). */
static void note_changed(struct engine *e, const struct strvec *names)
{
	for (size_t i = 0; i < names->n; i++) {
		const char *at = strchr(names->v[i], '@');
		if (!at)
			continue;
		_cleanup_free_ char *ds = xstrndup(names->v[i], (size_t)(at - names->v[i]));
		if (strvec_find(&e->changed, ds) < 0)
			strvec_push(&e->changed, ds);
	}
}

/* What this run took or destroyed, into the cache (or the report of a worker). */
static void cache_update(struct engine *e, const struct strvec *added, const struct strvec *removed)
{
	if ((!e->o.cache_dir && !e->o.cache_report) || e->o.readonly || (!added->n && !removed->n))
		return;
	note_changed(e, added);
	note_changed(e, removed);
	if (added->n)
		ev(e, ENG_INFO, "INFO: adding taken snapshots to cache.");
	if (e->o.cache_report)
		cache_report(e, added, removed);
	else
		cache_apply(e, added, removed);
}

/* One line of a worker's report: +NAME taken, -NAME destroyed, checked against the listing. */
static int report_line_check(const struct engine *e, const char *line)
{
	if (line[0] != '+' && line[0] != '-')
		return -EINVAL;
	const char *name = line + 1;
	const char *at = strchr(name, '@');
	if (!at || !zfs_name_valid(name, true) || autosnap_type(at + 1) < 0)
		return -EINVAL;
	_cleanup_free_ char *ds_name = xstrndup(name, (size_t)(at - name));
	const struct zfs_dataset *ds = zfs_tree_find(&e->tree, ds_name);
	if (!ds)
		return -EINVAL;
	/* a run names what it takes with its time (a faked clock too) */
	time_t t;
	if (line[0] == '+' && autosnap_time(at + 1, &t) < 0)
		return -EINVAL;
	bool listed = false;
	for (size_t i = 0; i < ds->nsnaps && !listed; i++)
		listed = streq(ds->snaps[i].name, name);
	/* taken: new to the listing; destroyed: in it */
	return listed == (line[0] == '-') ? 0 : -EINVAL;
}

int engine_cache_report_parse(const struct engine *e, const char *report, size_t len,
			      struct strvec *added, struct strvec *removed)
{
	if (memchr(report, '\0', len) || (len && report[len - 1] != '\n'))
		return -EINVAL;
	for (const char *p = report, *end = report + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		_cleanup_free_ char *line = xstrndup(p, (size_t)(nl - p));
		if (report_line_check(e, line) < 0)
			return -EINVAL;
		strvec_push(line[0] == '+' ? added : removed, line + 1);
		p = nl + 1;
	}
	return 0;
}

int engine_cache_apply_report(struct engine *e, const char *report, size_t len)
{
	_cleanup_strvec_ struct strvec added = STRVEC_INIT, removed = STRVEC_INIT;
	if (!e->o.cache_dir || e->o.readonly)
		return 0;
	int r = engine_cache_report_parse(e, report, len, &added, &removed);
	if (r < 0)
		return r;
	if (added.n || removed.n)
		cache_apply(e, &added, &removed);
	note_changed(e, &added);
	note_changed(e, &removed);
	return 0;
}

/*
 * Sleep until time() is past the second of t. time() is the coarse clock that
 * ZFS stamps snapshots_changed with (it can lag the precise clock by a tick):
 * a listing begun after that compares right with every stamp until then.
 */
static void wait_second_after(const struct timespec *t)
{
	struct timespec now;
	while (time(NULL) <= t->tv_sec && clock_gettime(CLOCK_REALTIME, &now) == 0) {
		struct timespec d = { .tv_nsec = 2000000L }; /* past the second: the next tick */
		if (now.tv_sec <= t->tv_sec) {
			d.tv_sec = t->tv_sec - now.tv_sec;
			d.tv_nsec = 1000000000L - now.tv_nsec;
		}
		nanosleep(&d, NULL);
	}
}

int engine_cache_refresh(struct engine *e, const struct timespec *changes_done,
			 struct strbuf *err)
{
	_cleanup_strvec_ struct strvec names = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	_cleanup_free_ char *path = cache_path(e);
	struct zfs_tree cached = ZFS_TREE_INIT;
	struct relisting fresh = { 0 };
	int64_t cached_at = 0;
	struct stat st;
	int r, fd = -1;

	/* ZFS 2.1 lists no snapshots_changed: the run's own update is the cache, as in sanoid */
	if (!e->o.cache_dir || e->o.readonly || !e->changed.n || e->from_cache ||
	    zfs_tree_prop_index(&e->tree, "snapshots_changed") < 0)
		return 0;
	for (size_t i = 0; i < e->changed.n; i++)
		if (zfs_tree_find(&e->tree, e->changed.v[i]))
			strvec_push(&names, e->changed.v[i]);
	if (!names.n)
		return 0;
	/* a listing from the next second on is complete for every change until then */
	wait_second_after(changes_done);
	int64_t listed_at = (int64_t)time(NULL);
	size_t details = 0;
	/* a dataset destroyed since: its row goes */
	r = relist_for_cache(e, &names, &fresh, &details, err);
	if (r == 0 && e->o.run_dir && lock_take(e, "sanoid_cacheupdate.lock", true, &fd) < 0)
		fd = -1;
	if (r == 0 && (stat(path, &st) < 0 || cache_read(e, &cached, &cached_at) < 1)) {
		strbuf_addf(err, "%s was removed meanwhile", path);
		r = -ENOENT; /* the next run lists */
	}
	if (r == 0) {
		cache_header(e, &text);
		strbuf_addf(&text, "#listed-at\t%lld\n", (long long)listed_at);
		for (size_t i = 0; i < cached.nds; i++) {
			const struct zfs_dataset *d = &cached.ds[i], *now;
			const struct zfs_tree *t;
			if (strvec_find(&names, d->name) >= 0) {
				if ((now = relisting_find(&fresh, d->name, &t)))
					cache_dataset_lines(&text, t, now, true);
				continue;
			}
			/* Any other row keeps its value only if its snapshots were complete
			 * when the cache was listed: under the later listed-at it counts for longer. */
			const char *sc = row_prop(&cached, d->props, PROP_SNAPSHOTS_CHANGED);
			int64_t at;
			bool keep = sc && parse_i64(sc, &at) == 0 && at < cached_at;
			cache_dataset_lines_as(&text, &cached, d, keep ? sc : NULL, true);
		}
		r = cache_write(e, &text, st.st_mtime);
		if (r < 0)
			strbuf_addf(err, "cannot write %s: %s", path, strerror(-r));
		ev(e, ENG_DEBUG, "DEBUG: %zu dataset(s) this run changed listed again for the cache"
		   " (%zu snapshot(s) read in full)", names.n, details);
	}
	lock_release(&fd);
	relisting_release(&fresh);
	zfs_tree_release(&cached);
	return r;
}

/* ---- opening a run -------------------------------------------------------------- */

int engine_open(struct engine *e, const struct engine_opts *o, struct strbuf *err)
{
	static const char *const props[] = { "userrefs", NULL };
	_cleanup_strvec_ struct strvec all_roots = STRVEC_INIT;
	_cleanup_strvec_ struct strvec names = STRVEC_INIT;
	int r;

	memset(e, 0, sizeof(*e));
	e->o = *o;
	e->take_fd = e->prune_fd = -1;
	e->tree = (struct zfs_tree)ZFS_TREE_INIT;
	strvec_init(&e->roots);
	strvec_init(&e->warnings);
	strvec_init(&e->taken);
	strvec_init(&e->pruned);
	strvec_init(&e->changed);
	strvec_init(&e->held_asked);

	r = sanoid_config_load(&e->cfg, o->config_dir, err);
	if (r < 0)
		return r;

	/* The roots to list: every configured dataset not below another one. */
	sanoid_config_roots(&e->cfg, &all_roots);
	for (size_t i = 0; i < all_roots.n; i++) {
		bool below = false;
		for (size_t j = 0; j < all_roots.n && !below; j++)
			below = zfs_name_below(all_roots.v[i], all_roots.v[j]);
		if (!below)
			strvec_push(&e->roots, all_roots.v[i]);
	}
	strvec_sort(&e->roots);

	if (!o->readonly) {
		/* locks only for runs that change something: monitors run as any user */
		if (o->run_dir && (o->take || o->prune) && (r = mkdir_p(o->run_dir)) < 0) {
			strbuf_addf(err, "cannot create the run directory %s: %s", o->run_dir, strerror(-r));
			return r;
		}
		if (o->cache_dir && (r = mkdir_p(o->cache_dir)) < 0) {
			/* the cache only saves listing: go on without it */
			ev(e, ENG_WARN, "WARN: no snapshot cache: cannot create %s: %s", o->cache_dir, strerror(-r));
			e->o.cache_dir = NULL;
		}
		if (o->run_dir && o->take) {
			r = lock_take(e, "sanoid_taking.lock", true, &e->take_fd);
			if (r < 0) {
				strbuf_addf(err, "cannot lock %s/sanoid_taking.lock: %s", o->run_dir, strerror(-r));
				return r;
			}
		}
		if (o->run_dir && o->prune) {
			r = lock_take(e, "sanoid_pruning.lock", false, &e->prune_fd);
			if (r == -EWOULDBLOCK)
				e->prune_locked_out = true;
			else if (r < 0) {
				strbuf_addf(err, "cannot lock %s/sanoid_pruning.lock: %s", o->run_dir, strerror(-r));
				return r;
			}
		}
	}

	e->run = runner_local_new();
	zfs_init(&e->z, e->run);
	e->z.dry_run = o->readonly;

	/* sanoid's clock says when the cache has expired: say it as sanoid does (2.3.0
	 * keeps datasets and snapshots in two caches on one clock; zkeep in one) */
	bool expired = o->force_update || o->cache_ttl <= 0 || !cache_young(e, o->cache_ttl);
	if (e->roots.n && e->o.cache_dir && expired) {
		const char *why = o->force_update ? "forcibly expired" : "expired";
		ev(e, ENG_INFO, "INFO: dataset cache %s - updating from zfs list.", why);
		ev(e, ENG_INFO, "INFO: cache %s - updating from zfs list.", why);
	}
	r = 1;
	bool changed_only = e->o.cache_dir && !o->force_update;
	if (e->roots.n && changed_only)
		r = list_changed(e, err); /* what changed only, whatever the cache's age */
	if (!e->roots.n) {
		strvec_pushv(&e->tree.props, list_props);
		r = 0;
	} else if (r == 2 && !expired && cache_load(e, o->cache_ttl) == 1) {
		/* ZFS 2.1: the cache as sanoid uses it, within its time */
		e->from_cache = true;
		r = 0;
		ev(e, ENG_DEBUG, "DEBUG: snapshot list from the cache (%s/snapshots.txt)", o->cache_dir);
	} else if (r >= 1) {
		/* everything; with snapshots_changed for the next run, unless list_changed()
		 * found that this ZFS has none */
		bool without = r == 2;
		e->listed_at = (int64_t)time(NULL);
		r = zfs_list_tree(&e->z, (const char *const *)e->roots.v,
				  ZFS_LIST_RECURSIVE | ZFS_LIST_SNAPSHOTS,
				  without ? props : list_props, &e->tree);
		if (r < 0 && r != -ENOENT && !without && !changed_only) {
			ev(e, ENG_DEBUG, "DEBUG: no snapshots_changed (%s): listing without it",
			   zfs_error(&e->z));
			r = zfs_list_tree(&e->z, (const char *const *)e->roots.v,
					  ZFS_LIST_RECURSIVE | ZFS_LIST_SNAPSHOTS, props, &e->tree);
		}
	}
	if (r < 0 && r != -ENOENT) {
		if (!err->len)
			strbuf_addf(err, "%s", zfs_error(&e->z));
		return r;
	}
	/* -ENOENT: a root is missing; resolution names its section below. */
	if (r == 0 && e->roots.n && e->o.cache_dir && !o->readonly && !e->from_cache &&
	    !(e->cache_unchanged && !expired) && cache_store(e, expired) < 0)
		ev(e, ENG_WARN, "WARN: could not write the cache %s/snapshots.txt", o->cache_dir);
	e->userrefs = zfs_tree_prop_index(&e->tree, "userrefs");

	for (size_t i = 0; i < e->tree.nds; i++)
		strvec_push(&names, e->tree.ds[i].name);
	sanoid_config_resolve(&e->cfg, (const char *const *)names.v, names.n, &e->pol,
			      &e->warnings);
	for (size_t i = 0; i < e->warnings.n; i++)
		ev(e, ENG_WARN, "%s", e->warnings.v[i]);
	if (o->prune && !o->readonly)
		recheck_held(e);
	/* A section that cannot be applied stops nothing else (a pool not imported).
	 * Said by runs that take or prune; monitors and status show it their way. */
	for (size_t i = 0; (o->take || o->prune) && i < e->pol.problems.n; i++)
		ev(e, ENG_WARN, "WARN: %s: nothing is done for it", e->pol.problems.v[i]);
	return 0;
}

void engine_release(struct engine *e)
{
	lock_release(&e->take_fd);
	lock_release(&e->prune_fd);
	sanoid_policies_release(&e->pol);
	sanoid_config_release(&e->cfg);
	zfs_tree_release(&e->tree);
	if (e->run) {
		zfs_release(&e->z);
		runner_free(e->run);
		e->run = NULL;
	}
	strvec_release(&e->roots);
	strvec_release(&e->warnings);
	strvec_release(&e->taken);
	strvec_release(&e->pruned);
	strvec_release(&e->changed);
	strvec_release(&e->held_asked);
}

/* ---- hooks -------------------------------------------------------------------- */

/*
 * The argv Perl's system(STRING) would run: the words of the string, or
 * /bin/sh -c STRING when it has shell metacharacters (or starts with an
 * assignment).
 */
static void hook_argv(const char *cmd, struct strvec *argv)
{
	static const char meta[] = "$&*(){}[]'\";\\|?<>~`\n";
	bool shell = false;
	const char *s = cmd;
	while (*s == ' ' || *s == '\t')
		s++;
	for (const char *p = s; *p && !shell; p++)
		shell = strchr(meta, *p) != NULL;
	for (const char *p = s; *p && *p != ' ' && *p != '\t' && !shell; p++)
		shell = *p == '=';
	if (shell)
		strvec_pushv(argv, (const char *const[]){ "/bin/sh", "-c", cmd, NULL });
	else
		strvec_split(argv, s, " \t\n\r\f");
}

static int hook_pre_exec(void *data)
{
	/* its own process group, so a timeout kills everything it started */
	return setpgid(0, 0) < 0 ? -errno : 0;
}

/*
 * Run one hook with the SANOID_* variables in `vars` ("K=V", NULL-terminated)
 * added to zkeep's environment. 0 when it exited 0, else -1 (reported).
 */
static int run_hook(struct engine *e, const char *key, const char *cmd, unsigned timeout,
		    const char *const *vars)
{
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	struct child c = CHILD_INIT;
	int status = 0, r;

	hook_argv(cmd, &argv);
	if (!argv.n)
		return 0;
	for (char **p = environ; p && *p; p++)
		if (!skip_prefix(*p, "SANOID_"))
			strvec_push(&env, *p);
	strvec_pushv(&env, vars);
	struct spawn_req req = {
		.argv = (const char *const *)argv.v, .env = (const char *const *)env.v,
		.in = SPAWN_NULL, .out = SPAWN_INHERIT, .err = SPAWN_INHERIT,
		.pre_exec = hook_pre_exec,
	};
	fflush(stdout);
	r = spawn_start(&req, &c);
	if (r < 0) {
		ev(e, ENG_ERROR, "CRITICAL ERROR: %s '%s' could not be started: %s", key, cmd, strerror(-r));
		return -1;
	}
	/* Wait, at most timeout seconds (0 = no limit). */
	struct timespec start, nowts;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t w = waitpid(c.pid, &status, WNOHANG);
		if (w == c.pid)
			break;
		if (w < 0 && errno != EINTR) {
			status = 0;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &nowts);
		if (timeout && nowts.tv_sec - start.tv_sec >= (time_t)timeout) {
			kill(-c.pid, SIGKILL);
			kill(c.pid, SIGKILL);
			waitpid(c.pid, &status, 0);
			c.pid = 0;
			ev(e, ENG_WARN, "WARN: %s didn't finish in the allowed time! (killed after %u s)", key, timeout);
			return -1;
		}
		struct timespec d = { 0, 20 * 1000 * 1000 };
		nanosleep(&d, NULL);
	}
	c.pid = 0;
	spawn_wait(&c, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
		spawn_describe_status(&why, status);
		ev(e, ENG_WARN, "WARN: %s failed, %d (%s)", key, status, why.buf);
		return -1;
	}
	return 0;
}

/* ---- taking -------------------------------------------------------------------- */

struct take_group {
	const struct sanoid_policy *p;
	struct strvec names; /* short names */
	struct strvec types;
	bool recursive;
	bool skip;           /* pre script failed with no_inconsistent_snapshot */
	bool pre_failure;
	bool failed;
};

static bool snap_exists(void *ctx, const char *name)
{
	const struct zfs_dataset *ds = ctx;
	return zfs_dataset_find_snap(ds, name) != NULL;
}

static void group_env(const struct take_group *g, const char *script, struct strvec *vars,
		      bool with_failure)
{
	_cleanup_free_ char *names = strvec_join(&g->names, ",");
	_cleanup_free_ char *types = strvec_join(&g->types, ",");
	strvec_pushf(vars, "SANOID_TARGET=%s", g->p->path);
	strvec_pushf(vars, "SANOID_TARGETS=%s", g->p->path);
	strvec_pushf(vars, "SANOID_SNAPNAME=%s", g->names.n ? g->names.v[0] : "");
	strvec_pushf(vars, "SANOID_SNAPNAMES=%s", names);
	strvec_pushf(vars, "SANOID_TYPES=%s", types);
	strvec_pushf(vars, "SANOID_SCRIPT=%s", script);
	if (with_failure)
		strvec_pushf(vars, "SANOID_PRE_FAILURE=%d", g->pre_failure ? 1 : 0);
}

/* Record name j of g as taken (with -r: on the root and every dataset below it). */
static void take_done(struct engine *e, const struct take_group *g, size_t j, bool recursive)
{
	for (size_t i = 0; i < e->tree.nds; i++) {
		const char *d = e->tree.ds[i].name;
		if (streq(d, g->p->path) || (recursive && zfs_name_below(d, g->p->path)))
			strvec_pushf(&e->taken, "%s@%s", d, g->names.v[j]);
	}
}

/*
 * ZFS takes at most one snapshot per dataset in one call ("multiple snapshots
 * of same fs not allowed"), so the names go in rounds: round j has the j-th
 * name of every dataset, in ONE atomic call. When a round fails, each
 * dataset of it is retried alone, so one bad dataset does not stop the rest.
 */
static void take_batch(struct engine *e, struct take_group *gs, size_t n, bool recursive)
{
	for (size_t round = 0;; round++) {
		_cleanup_strvec_ struct strvec all = STRVEC_INIT;
		for (size_t i = 0; i < n; i++)
			if (!gs[i].skip && !gs[i].failed && gs[i].recursive == recursive && round < gs[i].names.n)
				strvec_pushf(&all, "%s@%s", gs[i].p->path, gs[i].names.v[round]);
		if (!all.n)
			return;
		if (zfs_snapshot(&e->z, (const char *const *)all.v, recursive, NULL) == 0) {
			for (size_t i = 0; i < n; i++)
				if (!gs[i].skip && !gs[i].failed && gs[i].recursive == recursive && round < gs[i].names.n)
					take_done(e, &gs[i], round, recursive);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *one = NULL;
			if (gs[i].skip || gs[i].failed || gs[i].recursive != recursive || round >= gs[i].names.n)
				continue;
			one = xasprintf("%s@%s", gs[i].p->path, gs[i].names.v[round]);
			if (zfs_snapshot(&e->z, (const char *const[]){ one, NULL }, recursive, NULL) == 0) {
				take_done(e, &gs[i], round, recursive);
			} else {
				gs[i].failed = true;
				e->failures++;
				ev(e, ENG_ERROR, "CRITICAL ERROR: zfs snapshot%s %s failed: %s",
				   recursive ? " -r" : "", one, zfs_error(&e->z));
			}
		}
	}
}

unsigned engine_take(struct engine *e)
{
	struct take_group *gs = NULL;
	size_t n = 0;
	unsigned before = e->failures;

	ev(e, ENG_INFO, "INFO: taking snapshots...");
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		const struct zfs_dataset *ds = engine_dataset(e, p);
		struct engine_summary sum;
		struct schedule sch;
		if (!ds || !p->autosnap || p->process_children_only)
			continue;
		engine_summarize(e, p, &sum);
		schedule_due(p, e->o.now, sum.newest, &sch);
		if (!sch.due)
			continue;
		gs = xreallocarray(gs, n + 1, sizeof(*gs));
		struct take_group *g = &gs[n++];
		*g = (struct take_group){ .p = p, .names = STRVEC_INIT, .types = STRVEC_INIT,
					  .recursive = p->zfs_recursion };
		schedule_names(&sch, e->o.now, snap_exists, (void *)ds, &g->names, &g->types);
		if (!g->names.n) {
			g->skip = true;
			g->failed = true;
			e->failures++;
			ev(e, ENG_ERROR, "CRITICAL ERROR: %s: the snapshot names for now exist already", p->path);
		}
	}

	/* pre_snapshot_script of each dataset */
	for (size_t i = 0; i < n; i++) {
		struct take_group *g = &gs[i];
		if (g->skip || !g->p->pre_snapshot_script)
			continue;
		ev(e, ENG_INFO, "executing pre_snapshot_script '%s' on dataset '%s'",
		   g->p->pre_snapshot_script, g->p->path);
		if (e->o.readonly)
			continue;
		_cleanup_strvec_ struct strvec vars = STRVEC_INIT;
		group_env(g, "pre", &vars, false);
		if (run_hook(e, "pre_snapshot_script", g->p->pre_snapshot_script,
			     g->p->script_timeout, (const char *const *)vars.v) < 0) {
			e->failures++;
			if (g->p->no_inconsistent_snapshot) {
				ev(e, ENG_WARN, "WARN: not taking snapshots of %s: its pre_snapshot_script failed (no_inconsistent_snapshot)", g->p->path);
				g->skip = true;
			} else {
				g->pre_failure = true;
			}
		}
	}

	for (size_t i = 0; i < n; i++) {
		if (gs[i].skip)
			continue;
		for (size_t j = 0; j < gs[i].names.n; j++)
			ev(e, ENG_INFO, "taking snapshot %s@%s%s", gs[i].p->path, gs[i].names.v[j],
			   gs[i].recursive ? " (zfs recursive)" : "");
	}
	if (!e->o.readonly) {
		take_batch(e, gs, n, false);
		take_batch(e, gs, n, true);
	}

	/* post_snapshot_script */
	for (size_t i = 0; i < n; i++) {
		struct take_group *g = &gs[i];
		if (!g->names.n || !g->p->post_snapshot_script || (g->skip && !g->pre_failure))
			continue;
		if (g->pre_failure && !g->p->force_post_snapshot_script)
			continue;
		ev(e, ENG_INFO, "executing post_snapshot_script '%s' on dataset '%s'",
		   g->p->post_snapshot_script, g->p->path);
		if (e->o.readonly)
			continue;
		_cleanup_strvec_ struct strvec vars = STRVEC_INIT;
		group_env(g, "post", &vars, true);
		if (run_hook(e, "post_snapshot_script", g->p->post_snapshot_script,
			     g->p->script_timeout, (const char *const *)vars.v) < 0)
			e->failures++;
	}

	{
		struct strvec none = STRVEC_INIT;
		cache_update(e, &e->taken, &none);
	}
	lock_release(&e->take_fd);
	for (size_t i = 0; i < n; i++) {
		strvec_release(&gs[i].names);
		strvec_release(&gs[i].types);
	}
	free(gs);
	return e->failures - before;
}

/* ---- pruning ------------------------------------------------------------------- */

/* Whether p's command line has `zfs send|receive|recv ... <fs>` (sanoid's test). */
static int zfs_busy_with(const struct proc_entry *p, void *fs)
{
	if (p->read_error < 0 && !p->len)
		return 0;
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_add(&sb, p->cmdline, p->len);
	for (size_t i = 0; i < sb.len; i++)
		if (sb.buf[i] == '\0')
			sb.buf[i] = ' ';
	for (const char *q, *s = sb.buf; (s = strstr(s, "zfs")); s += 3) {
		q = s + 3;
		while (*q == ' ')
			q++;
		if ((skip_prefix(q, "send") || skip_prefix(q, "receive") || skip_prefix(q, "recv")) &&
		    strstr(q, fs))
			return 1;
	}
	return 0;
}

/* sanoid's iszfsbusy(): a `zfs send|receive|recv ... <fs>` process is running. */
static bool zfs_busy(const char *fs)
{
	return proc_scan("/proc", zfs_busy_with, (void *)fs) > 0;
}

/*
 * Report why snapshots (full names) are kept: with reasons == NULL they are
 * known held (the listed userrefs) and only the holders are named; otherwise
 * their destroy failed with reasons[i], and the held ones - the hold may be
 * newer than a cached list - are kept and reported, the others are errors.
 * A hold with a replication's tag (replicate.h: zkeep replicate holds the
 * newest snapshot both sides have, so the next incremental can be sent) is
 * named as such. One `zfs holds` call. After any failure the cache is
 * dropped, so that the next run sees the holds.
 */
static void report_holds(struct engine *e, const struct strvec *names, const struct strvec *reasons)
{
	struct zfs_holds h = { 0 };
	if (zfs_list_holds(&e->z, (const char *const *)names->v, false, &h) < 0)
		ev(e, ENG_DEBUG, "DEBUG: zfs holds: %s", zfs_error(&e->z));
	for (size_t i = 0; i < names->n; i++) {
		_cleanup_strbuf_ struct strbuf tags = STRBUF_INIT;
		bool repl = false;
		for (size_t j = 0; j < h.n; j++) {
			if (!streq(h.h[j].snapshot, names->v[i]))
				continue;
			strbuf_addf(&tags, "%s'%s'", tags.len ? ", " : "", h.h[j].tag);
			repl |= syncsnap_hold_tag_protects(h.h[j].tag);
		}
		if (reasons && !tags.len) {
			ev(e, ENG_ERROR, "could not remove %s: %s", names->v[i], reasons->v[i]);
			e->failures++;
		} else {
			ev(e, ENG_INFO, "INFO: keeping %s: %s%s", names->v[i],
			   repl ? "a replication still needs it, held by " : "held by ",
			   tags.len ? tags.buf : "a user hold");
		}
	}
	zfs_holds_release(&h);
	if (reasons && names->n && e->o.cache_dir) {
		_cleanup_free_ char *path = cache_path(e);
		unlink(path);
	}
}

/*
 * Without channel programs: `zfs destroy ds@a,b,c`, which destroys none when
 * one cannot go. Then the held ones are kept and reported and the rest is
 * tried once more.
 */
static void destroy_one_dataset(struct engine *e, const char *ds, const struct strvec *names)
{
	_cleanup_strvec_ struct strvec full = STRVEC_INIT, held = STRVEC_INIT, rest = STRVEC_INIT;
	struct zfs_holds h = { 0 };
	if (zfs_destroy_snapshots(&e->z, ds, (const char *const *)names->v) == 0) {
		for (size_t j = 0; j < names->n; j++)
			strvec_pushf(&e->pruned, "%s@%s", ds, names->v[j]);
		return;
	}
	_cleanup_free_ char *why = xstrdup(zfs_error(&e->z));
	/* some batches may have gone: the cache cannot be trusted */
	if (e->o.cache_dir) {
		_cleanup_free_ char *path = cache_path(e);
		unlink(path);
	}
	for (size_t j = 0; j < names->n; j++)
		strvec_pushf(&full, "%s@%s", ds, names->v[j]);
	if (zfs_list_holds(&e->z, (const char *const *)full.v, false, &h) < 0)
		h = (struct zfs_holds){ 0 };
	for (size_t j = 0; j < names->n; j++) {
		bool is_held = false;
		for (size_t k = 0; k < h.n && !is_held; k++)
			is_held = streq(h.h[k].snapshot, full.v[j]);
		strvec_push(is_held ? &held : &rest, is_held ? full.v[j] : names->v[j]);
	}
	zfs_holds_release(&h);
	if (held.n)
		report_holds(e, &held, NULL);
	if (!held.n || (rest.n && zfs_destroy_snapshots(&e->z, ds, (const char *const *)rest.v) < 0)) {
		ev(e, ENG_ERROR, "could not remove snapshots of %s: %s", ds, held.n ? zfs_error(&e->z) : why);
		e->failures++;
		return;
	}
	for (size_t j = 0; j < rest.n; j++) {
		/* gone now, or already before the failed batch */
		strvec_pushf(&e->pruned, "%s@%s", ds, rest.v[j]);
	}
}

/* `zfs destroy` calls run at once when channel programs cannot be used. */
#define DESTROY_PARALLEL 8

struct prune_set {
	const struct sanoid_policy *p;
	const struct zfs_dataset *ds;
	struct retain_snap *snaps;
	size_t n;
	struct strvec ok; /* short names to destroy */
};

/* The datasets of one prune run. */
struct prune_sets {
	struct prune_set *s;
	size_t n;
};
#define PRUNE_SETS_INIT { NULL, 0 }

static void prune_sets_release(struct prune_sets *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->s[i].snaps);
		strvec_release(&ps->s[i].ok);
	}
	free(ps->s);
	*ps = (struct prune_sets)PRUNE_SETS_INIT;
}

/*
 * prune_defer: whether p's pool is under its capacity threshold (or not
 * found), so its pruning waits. The pools are listed once, on first use.
 */
static bool prune_deferred(struct engine *e, const struct sanoid_policy *p,
			   struct zpool_infos *pools, bool *pools_listed)
{
	_cleanup_free_ char *pool = pool_of(p->path);
	unsigned cap = 0;
	bool found = false;
	if (!*pools_listed) {
		if (zpool_list(&e->z, NULL, pools) < 0)
			ev(e, ENG_ERROR, "ERROR: cannot read pool capacity: %s", zfs_error(&e->z));
		*pools_listed = true;
	}
	for (size_t j = 0; j < pools->n && !found; j++)
		if (streq(pools->p[j].name, pool)) {
			cap = pools->p[j].capacity;
			found = true;
		}
	return !found || retention_deferred(p, cap);
}

/*
 * The datasets to prune, each with its retention plan; the held snapshots
 * that would go (full names) into held.
 */
static void prune_plan(struct engine *e, struct prune_sets *sets, struct strvec *held)
{
	_cleanup_release_(zpool_infos) struct zpool_infos pools = { 0 };
	bool pools_listed = false;
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		const struct zfs_dataset *ds = engine_dataset(e, p);
		if (!ds || !p->autoprune || p->process_children_only)
			continue;
		if (p->prune_defer && prune_deferred(e, p, &pools, &pools_listed)) {
			ev(e, ENG_INFO, "INFO: deferring snapshot pruning (%s)...", p->section);
			continue;
		}
		size_t m;
		struct retain_snap *rs = retain_input(e, ds, &m);
		retention_plan(p, e->o.now, rs, m);
		push_held(p, rs, m, held);
		sets->s = xreallocarray(sets->s, sets->n + 1, sizeof(*sets->s));
		sets->s[sets->n++] = (struct prune_set){ p, ds, rs, m, STRVEC_INIT };
	}
}

/* The pre_pruning_script of one snapshot: 0 when it may go. */
static int pre_prune_hook(struct engine *e, const struct sanoid_policy *p, const char *snap)
{
	if (!p->pre_pruning_script || e->o.readonly)
		return 0;
	_cleanup_strvec_ struct strvec vars = STRVEC_INIT;
	strvec_pushf(&vars, "SANOID_TARGET=%s", p->path);
	strvec_pushf(&vars, "SANOID_SNAPNAME=%s", snap);
	strvec_push(&vars, "SANOID_SCRIPT=pre-prune");
	if (run_hook(e, "pre_pruning_script", p->pre_pruning_script, p->script_timeout,
		     (const char *const *)vars.v) < 0) {
		ev(e, ENG_WARN, "WARN: keeping %s@%s: its pre_pruning_script failed", p->path, snap);
		e->failures++;
		return -1;
	}
	return 0;
}

/* One dataset: what goes (into s->ok), after the busy check and pre_pruning_script. */
static void prune_choose(struct engine *e, struct prune_set *s)
{
	const struct sanoid_policy *p = s->p;
	strvec_init(&s->ok);
	for (size_t j = 0; j < s->n; j++) {
		if (s->snaps[j].verdict != RETAIN_PRUNE)
			continue;
		if (!s->ok.n && !e->o.force_prune && zfs_busy(p->path)) {
			ev(e, ENG_INFO, "INFO: deferring pruning of %s - %s is currently in zfs send or receive.",
			   p->path, p->path);
			break;
		}
		ev(e, ENG_INFO, "INFO: pruning %s@%s ... ", p->path, s->snaps[j].name);
		if (pre_prune_hook(e, p, s->snaps[j].name) < 0)
			continue;
		strvec_push(&s->ok, s->snaps[j].name);
	}
}

/* Whether set k has something to destroy in pool. */
static bool set_in_pool(const struct prune_set *s, const char *pool)
{
	_cleanup_free_ char *pk = pool_of(s->p->path);
	return s->ok.n && streq(pk, pool);
}

/*
 * Without channel programs: first each tree of datasets that destroys a name in
 * one `zfs destroy -r ROOT@NAME` (prune_batch.h); rest[k] gets what set k has
 * left. A call that fails destroyed nothing (one txg), and its names are left
 * to the per-dataset way, which sorts out holds.
 */
static void destroy_trees(struct engine *e, struct prune_sets *sets, size_t first,
			  const char *pool, struct strvec *rest)
{
	size_t nds = e->tree.nds;
	_cleanup_free_ bool *managed = xcalloc(nds ? nds : 1, sizeof(*managed));
	_cleanup_free_ const struct strvec **chosen = xcalloc(nds ? nds : 1, sizeof(*chosen));
	_cleanup_free_ size_t *set_of = xcalloc(nds ? nds : 1, sizeof(*set_of));
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct zfs_dataset *ds = engine_dataset(e, &e->pol.p[i]);
		if (ds)
			managed[ds - e->tree.ds] = true;
	}
	for (size_t k = first; k < sets->n; k++) {
		strvec_init(&rest[k]);
		if (!set_in_pool(&sets->s[k], pool))
			continue;
		strvec_pushv(&rest[k], (const char *const *)sets->s[k].ok.v);
		size_t i = (size_t)(sets->s[k].ds - e->tree.ds);
		chosen[i] = &sets->s[k].ok;
		set_of[i] = k;
	}
	_cleanup_release_(prune_batches) struct prune_batches b = PRUNE_BATCHES_INIT;
	prune_batches_plan(&e->tree, managed, chosen, &b);
	for (size_t i = 0; i < b.n; i++) {
		const struct prune_batch *pb = &b.b[i];
		_cleanup_free_ char *spec = xasprintf("%s@%s", e->tree.ds[pb->root].name, pb->name);
		if (zfs_destroy(&e->z, spec, ZFS_DESTROY_RECURSIVE) < 0) {
			ev(e, ENG_DEBUG, "DEBUG: zfs destroy -r %s: %s; destroying per dataset",
			   spec, zfs_error(&e->z));
			continue;
		}
		ev(e, ENG_DEBUG, "DEBUG: destroyed %s in %zu datasets with one zfs destroy -r %s",
		   pb->name, pb->nmembers, spec);
		for (size_t j = 0; j < pb->nmembers; j++) {
			size_t m = pb->members[j];
			struct strvec *left = &rest[set_of[m]];
			ssize_t at = strvec_find(left, pb->name);
			strvec_pushf(&e->pruned, "%s@%s", e->tree.ds[m].name, pb->name);
			if (at >= 0)
				strvec_remove(left, (size_t)at);
		}
	}
}

/*
 * Without channel programs: whole trees first (destroy_trees()), then several
 * datasets' `zfs destroy` at once (they share txgs); what fails is done again
 * one by one, which sorts out holds and words errors. The sets from `first`
 * on that are in pool.
 */
static void destroy_pool_parallel(struct engine *e, struct prune_sets *sets, size_t first,
				  const char *pool)
{
	size_t nds = 0;
	struct strvec *rest = xcalloc(sets->n, sizeof(*rest));
	destroy_trees(e, sets, first, pool, rest);
	_cleanup_free_ const char **dsv = xcalloc(sets->n, sizeof(*dsv));
	_cleanup_free_ const char *const **namev = xcalloc(sets->n, sizeof(*namev));
	_cleanup_free_ size_t *setv = xcalloc(sets->n, sizeof(*setv));
	_cleanup_free_ bool *okv = xcalloc(sets->n, sizeof(*okv));
	for (size_t k = first; k < sets->n; k++) {
		if (!set_in_pool(&sets->s[k], pool) || !rest[k].n)
			continue;
		dsv[nds] = sets->s[k].p->path;
		namev[nds] = (const char *const *)rest[k].v;
		setv[nds++] = k;
	}
	zfs_destroy_snapshots_parallel(&e->z, dsv, namev, nds, DESTROY_PARALLEL, okv);
	for (size_t d = 0; d < nds; d++) {
		struct prune_set *ps = &sets->s[setv[d]];
		if (!okv[d]) {
			destroy_one_dataset(e, ps->p->path, &rest[setv[d]]);
			continue;
		}
		for (size_t j = 0; j < rest[setv[d]].n; j++)
			strvec_pushf(&e->pruned, "%s@%s", ps->p->path, rest[setv[d]].v[j]);
	}
	for (size_t k = first; k < sets->n; k++)
		strvec_release(&rest[k]);
	free(rest);
}

/*
 * Destroy the chosen snapshots of the sets from `first` on in one pool: one
 * channel program when allowed (root), else destroy_pool_parallel().
 */
static void destroy_pool(struct engine *e, struct prune_sets *sets, size_t first,
			 const char *pool, bool use_zcp)
{
	_cleanup_strvec_ struct strvec full = STRVEC_INIT, done = STRVEC_INIT, failed = STRVEC_INIT;
	_cleanup_strvec_ struct strvec reasons = STRVEC_INIT;
	for (size_t k = first; k < sets->n; k++) {
		_cleanup_free_ char *pk = pool_of(sets->s[k].p->path);
		if (!streq(pk, pool))
			continue;
		for (size_t j = 0; j < sets->s[k].ok.n; j++)
			strvec_pushf(&full, "%s@%s", sets->s[k].p->path, sets->s[k].ok.v[j]);
	}
	if (use_zcp && zfs_destroy_snapshots_zcp(&e->z, pool, (const char *const *)full.v, &done,
						 &failed, &reasons) == 0) {
		strvec_pushv(&e->pruned, (const char *const *)done.v);
		if (failed.n)
			report_holds(e, &failed, &reasons);
		return;
	}
	if (use_zcp)
		ev(e, ENG_DEBUG, "DEBUG: %s; destroying per dataset", zfs_error(&e->z));
	destroy_pool_parallel(e, sets, first, pool);
}

/* Destroy what was chosen, pool by pool. */
static void prune_destroy(struct engine *e, struct prune_sets *sets)
{
	_cleanup_strvec_ struct strvec pools_done = STRVEC_INIT;
	/* channel programs need root; the opt-out is for tests and odd setups */
	bool use_zcp = geteuid() == 0 && !e->o.no_channel_programs;
	for (size_t i = 0; i < sets->n; i++) {
		_cleanup_free_ char *pool = pool_of(sets->s[i].p->path);
		if (!sets->s[i].ok.n || strvec_find(&pools_done, pool) >= 0)
			continue;
		strvec_push(&pools_done, pool);
		destroy_pool(e, sets, i, pool, use_zcp);
	}
}

/* pruning_script for each destroyed snapshot */
static void prune_hooks(struct engine *e, const struct prune_sets *sets)
{
	for (size_t i = 0; i < sets->n; i++) {
		const struct sanoid_policy *p = sets->s[i].p;
		if (!p->pruning_script)
			continue;
		for (size_t j = 0; j < sets->s[i].ok.n; j++) {
			const char *snap = sets->s[i].ok.v[j];
			_cleanup_free_ char *full = xasprintf("%s@%s", p->path, snap);
			if (strvec_find(&e->pruned, full) < 0)
				continue;
			_cleanup_strvec_ struct strvec vars = STRVEC_INIT;
			strvec_pushf(&vars, "SANOID_TARGET=%s", p->path);
			strvec_pushf(&vars, "SANOID_SNAPNAME=%s", snap);
			strvec_push(&vars, "SANOID_SCRIPT=prune");
			ev(e, ENG_INFO, "executing pruning_script '%s' on dataset '%s'", p->pruning_script, p->path);
			if (run_hook(e, "pruning_script", p->pruning_script, p->script_timeout,
				     (const char *const *)vars.v) < 0)
				e->failures++;
		}
	}
}

/*
 * sanoid 2.3.0 updates its cache after each batch of one type of one dataset
 * that destroyed something, and says so each time with --verbose; zkeep
 * updates its cache once, but says it as often.
 */
static void say_cache_removals(struct engine *e, const struct prune_sets *sets)
{
	if (!e->o.cache_dir && !e->o.cache_report)
		return;
	for (size_t i = 0; i < sets->n; i++) {
		bool type_done[SNAP_NTYPES] = { false };
		for (size_t j = 0; j < sets->s[i].ok.n; j++) {
			const char *snap = sets->s[i].ok.v[j];
			int t = autosnap_type(snap);
			_cleanup_free_ char *full = xasprintf("%s@%s", sets->s[i].p->path, snap);
			if (t < 0 || type_done[t] || strvec_find(&e->pruned, full) < 0)
				continue;
			type_done[t] = true;
			ev(e, ENG_INFO, "INFO: removing destroyed snapshots from cache.");
		}
	}
}

unsigned engine_prune(struct engine *e)
{
	_cleanup_release_(prune_sets) struct prune_sets sets = PRUNE_SETS_INIT;
	_cleanup_strvec_ struct strvec held = STRVEC_INIT;
	unsigned before = e->failures;

	ev(e, ENG_INFO, "INFO: pruning snapshots...");
	if (e->prune_locked_out) {
		ev(e, ENG_INFO, "INFO: deferring snapshot pruning - valid pruning lock held by other sanoid process.");
		return 0;
	}
	recheck_held(e);
	prune_plan(e, &sets, &held);
	/* Who holds what: one call for every held snapshot that would go. */
	if (held.n)
		report_holds(e, &held, NULL);
	for (size_t i = 0; i < sets.n; i++)
		prune_choose(e, &sets.s[i]);
	if (!e->o.readonly) {
		prune_destroy(e, &sets);
		prune_hooks(e, &sets);
		say_cache_removals(e, &sets);
	}
	struct strvec none = STRVEC_INIT;
	cache_update(e, &none, &e->pruned);
	lock_release(&e->prune_fd);
	return e->failures - before;
}

/* ---- monitoring ------------------------------------------------------------------ */

static int cmp_ci(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

int engine_monitor_snapshots(struct engine *e, struct strbuf *line)
{
	_cleanup_strvec_ struct strvec msgs = STRVEC_INIT, paths = STRVEC_INIT;
	int level = 0;
	/* sanoid's order of types for messages before sorting */
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		struct engine_summary sum;
		if (!p->monitor || p->process_children_only)
			continue;
		strvec_push(&paths, p->path);
		if (p->refused) { /* its values are not what sanoid reads: none are checked */
			strvec_pushf(&msgs, "CRIT: %s is not snapshotted: zkeep refuses its section "
				     "[%s] (zkeep config check says why)", p->path, p->section);
			level = 2;
			continue;
		}
		engine_summarize(e, p, &sum);
		for (int t = 0; t < SNAP_NTYPES; t++) {
			int64_t elapsed = -1;
			_cleanup_strbuf_ struct strbuf m = STRBUF_INIT;
			if (!p->count[t])
				continue;
			if (sum.newest[t] != SCHEDULE_NONE)
				elapsed = (int64_t)e->o.now - sum.newest[t];
			int l = monitor_snapshot_age(p->path, snap_type_names[t], elapsed,
						     (int64_t)p->warn[t], (int64_t)p->crit[t],
						     p->monitor_dont_warn, p->monitor_dont_crit, &m);
			if (l > level)
				level = l;
			if (m.len)
				strvec_push(&msgs, m.buf);
		}
	}
	qsort(msgs.v, msgs.n, sizeof(char *), cmp_ci);
	qsort(paths.v, paths.n, sizeof(char *), cmp_ci);
	if (msgs.n) {
		_cleanup_free_ char *m = strvec_join(&msgs, ", ");
		strbuf_addstr(line, m);
	} else {
		_cleanup_free_ char *ps = strvec_join(&paths, ", ");
		strbuf_addf(line, "OK: all monitored datasets (%s) have fresh snapshots", ps);
	}
	return level;
}

/* The distinct pools of the configured datasets, sorted. */
static void config_pools(const struct engine *e, struct strvec *pools)
{
	for (size_t i = 0; i < e->pol.n; i++) {
		_cleanup_free_ char *pool = pool_of(e->pol.p[i].path);
		if (strvec_find(pools, pool) < 0)
			strvec_push(pools, pool);
	}
	strvec_sort(pools);
}

/* sanoid's check_zpool($pool, 2). Returns the level; msg without newline. */
static int check_zpool(struct engine *e, const char *pool, struct strbuf *msg, bool *fatal)
{
	static const char *const states[] = { "OK", "WARNING", "CRITICAL" };
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf size = STRBUF_INIT, cap = STRBUF_INIT, health = STRBUF_INIT,
				       avail = STRBUF_INIT, dmge = STRBUF_INIT;
	int state;

	*fatal = false;
	zpool_list_human(&e->z, pool, "name,size,cap,health,free", &out);
	monitor_parse_zpool_list(out.buf, pool, &size, &cap, &health, &avail);
	if (!health.len) {
		strbuf_addf(msg, "CRITICAL ZPOOL {%s} does not exist and/or is not responding!", pool);
		*fatal = true;
		return 2;
	}
	state = streq(health.buf, "ONLINE") ? 0 : streq(health.buf, "DEGRADED") ? 1 : 2;

	strbuf_reset(&out);
	int r = zpool_status(&e->z, pool, &out);
	if (r == -ENOEXEC || r == -E2BIG) {
		strbuf_addf(msg, "CRITICAL 'zpool status %s' command returns no result! NOTE: This plugin needs OS support for ZFS, and execution with root privileges.", pool);
		*fatal = true;
		return 2;
	}
	_cleanup_release_(zpool_status) struct zpool_status st = ZPOOL_STATUS_INIT;
	zpool_parse_status(out.buf, out.len, &st);
	monitor_vdev_damage(&st, &state, &dmge);
	strbuf_addf(msg, "%s ZPOOL %s : %s {Size:%s Free:%s Cap:%s} %s", states[state], pool,
		    health.buf, size.buf, avail.buf, cap.buf, dmge.buf);
	return state;
}

static const char *const level_prefix[] = { "", "*** WARNING *** ", "*** CRITICAL *** " };

int engine_monitor_health(struct engine *e, struct strbuf *line)
{
	_cleanup_strvec_ struct strvec pools = STRVEC_INIT, msgs = STRVEC_INIT;
	int level = 0;
	config_pools(e, &pools);
	for (size_t i = 0; i < pools.n; i++) {
		_cleanup_strbuf_ struct strbuf m = STRBUF_INIT;
		bool fatal;
		int l = check_zpool(e, pools.v[i], &m, &fatal);
		if (fatal) {
			strbuf_addstr(line, m.buf);
			return l;
		}
		if (l > level)
			level = l;
		strvec_push(&msgs, m.buf);
	}
	_cleanup_free_ char *j = strvec_join(&msgs, ", ");
	strbuf_addf(line, "%s%s", level_prefix[level], j);
	return level;
}

int engine_monitor_capacity(struct engine *e, struct strbuf *line)
{
	_cleanup_strvec_ struct strvec pools = STRVEC_INIT, msgs = STRVEC_INIT;
	unsigned *warn = NULL, *crit = NULL;
	bool *is_root = NULL;
	struct zpool_infos infos = { 0 };
	int level = 0;

	/* Limits per pool: from the pool's own section, else the first below it. */
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		const char *key = p->own_section ? p->section : p->path;
		_cleanup_free_ char *pool = pool_of(key);
		bool root = !strchr(key, '/');
		ssize_t k = strvec_find(&pools, pool);
		if (k < 0) {
			strvec_push(&pools, pool);
			k = (ssize_t)pools.n - 1;
			warn = xreallocarray(warn, pools.n, sizeof(*warn));
			crit = xreallocarray(crit, pools.n, sizeof(*crit));
			is_root = xreallocarray(is_root, pools.n, sizeof(*is_root));
			is_root[k] = false;
		} else if (!root || is_root[k]) {
			continue;
		}
		warn[k] = p->capacity_warn;
		crit[k] = p->capacity_crit;
		is_root[k] |= root;
	}
	/* a missing pool is reported below, as sanoid does */
	if (pools.n)
		zpool_list(&e->z, (const char *const *)pools.v, &infos);
	for (size_t k = 0; k < pools.n; k++) {
		const struct zpool_info *info = NULL;
		if (!warn[k] && !crit[k])
			continue;
		for (size_t j = 0; j < infos.n; j++)
			if (streq(infos.p[j].name, pools.v[k]))
				info = &infos.p[j];
		if (!info) {
			strbuf_reset(line);
			strbuf_addf(line, "CRITICAL ZPOOL {%s} does not exist and/or is not responding!", pools.v[k]);
			level = 2;
			goto out;
		}
		int state = monitor_capacity_state(info->capacity, warn[k], crit[k]);
		if (state > level)
			level = state;
		strvec_pushf(&msgs, "%s ZPOOL %s : %u%%", state == 0 ? "OK" : state == 1 ? "WARNING" : "CRITICAL",
			     pools.v[k], info->capacity);
	}
	{
		_cleanup_free_ char *j = strvec_join(&msgs, ", ");
		strbuf_addf(line, "%s%s", level_prefix[level], j);
	}
out:
	zpool_infos_release(&infos);
	free(warn);
	free(crit);
	free(is_root);
	return level;
}
