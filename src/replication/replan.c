/* replan.c - see replan.h. */
#include "base/zkeep.h"
#include "replication/replan.h"
#include "zfs/recvprops.h"
#include "snapshots/syncsnap.h"
#include "zfs/resume_token.h"

const char *const replan_source_props[] = { "syncoid:sync", "origin", "recordsize", "userrefs", NULL };
const char *const replan_target_props[] = { "receive_resume_token", "userrefs", NULL };

/* Properties never re-applied with receive -o: encryption is fixed at
 * creation (and a raw stream carries it), the rest cannot be set. */
static const char *const unpreservable[] = {
	"encryption", "keylocation", "keyformat", "pbkdf2iters", "keystatus", "encryptionroot",
	"readonly", "volsize", "volblocksize", "origin", "type", "creation", "used",
	"available", "referenced", "compressratio", "mounted", "createtxg", "guid",
	"receive_resume_token", "redact_snaps", "casesensitivity", "normalization", "utf8only",
	NULL,
};

bool replan_prop_preservable(const char *name)
{
	for (size_t i = 0; unpreservable[i]; i++)
		if (streq(name, unpreservable[i]))
			return false;
	return true;
}

char *replan_target_name(const char *source_root, const char *target_root, const char *source)
{
	const char *rest = skip_prefix(source, source_root);
	if (!rest)
		rest = "";
	return xasprintf("%s%s", target_root, rest);
}

/* ---- helpers on listings ------------------------------------------------ */

static const char *ds_prop(const struct zfs_tree *t, const struct zfs_dataset *d, const char *prop)
{
	ssize_t i = t ? zfs_tree_prop_index(t, prop) : -1;
	return i >= 0 && d->props ? d->props[i] : NULL;
}

static int snap_cmp(const void *a, const void *b)
{
	const struct zfs_snap *x = *(const struct zfs_snap *const *)a;
	const struct zfs_snap *y = *(const struct zfs_snap *const *)b;
	if (x->createtxg != y->createtxg && x->createtxg && y->createtxg)
		return x->createtxg < y->createtxg ? -1 : 1;
	if (x->creation != y->creation)
		return x->creation < y->creation ? -1 : 1;
	/* a snapshot before a bookmark of the same txg */
	return (int)x->type - (int)y->type;
}

/* Snapshots (or bookmarks) of d, oldest first. Caller frees the array. */
static const struct zfs_snap **sorted(const struct zfs_dataset *d, enum zfs_type type, size_t *n)
{
	const struct zfs_snap **v = xcalloc(d ? d->nsnaps + 1 : 1, sizeof(*v));
	*n = 0;
	for (size_t i = 0; d && i < d->nsnaps; i++)
		if (d->snaps[i].type == type)
			v[(*n)++] = &d->snaps[i];
	qsort(v, *n, sizeof(*v), snap_cmp);
	return v;
}

static bool any_match(const regex_t *re, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (regexec(&re[i], s, 0, NULL, 0) == 0)
			return true;
	return false;
}

static bool filters_active(const struct replan_opts *o)
{
	return o->n_include_snaps || o->n_exclude_snaps;
}

/* syncoid's snapisincluded(): an exclude wins over an include; the sync
 * snapshot is no exception. */
static bool snap_included(const struct replan_opts *o, const char *short_name)
{
	if (any_match(o->exclude_snaps, o->n_exclude_snaps, short_name))
		return false;
	return !o->n_include_snaps || any_match(o->include_snaps, o->n_include_snaps, short_name);
}

static struct replan_step *add_step(struct replan_ds *d, enum replan_step_kind kind)
{
	d->steps = xreallocarray(d->steps, d->nsteps + 1, sizeof(*d->steps));
	struct replan_step *s = &d->steps[d->nsteps++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	return s;
}

static void fail(struct replan_ds *d, enum replan_status st, char *msg)
{
	d->status = st;
	free(d->message);
	d->message = msg;
}

/* Incremental steps from `from` (full name) over the sendable names
 * names[0..n) (short, oldest first, all newer than from). */
static void add_incrementals(struct replan_ds *d, const struct replan_opts *o, const char *src,
			     const char *from, bool from_bookmark, char *const *names, size_t n)
{
	struct replan_step *s;
	if (n == 0)
		return;
	if (o->no_stream) {
		s = add_step(d, REPLAN_STEP_INCR);
		s->from = xstrdup(from);
		s->to = xasprintf("%s@%s", src, names[n - 1]);
		s->from_bookmark = from_bookmark;
		return;
	}
	if (filters_active(o)) {
		/* filtered snapshots must be stepped over one -i at a time */
		for (size_t i = 0; i < n; i++) {
			s = add_step(d, REPLAN_STEP_INCR);
			s->from = i ? xasprintf("%s@%s", src, names[i - 1]) : xstrdup(from);
			s->to = xasprintf("%s@%s", src, names[i]);
			s->from_bookmark = i == 0 && from_bookmark;
		}
		return;
	}
	if (from_bookmark) {
		/* a send from a bookmark cannot carry intermediates: -i to the next
		 * snapshot, then -I from there */
		s = add_step(d, REPLAN_STEP_INCR);
		s->from = xstrdup(from);
		s->to = xasprintf("%s@%s", src, names[0]);
		s->from_bookmark = true;
		if (n == 1)
			return;
		s = add_step(d, REPLAN_STEP_INCR);
		s->from = xasprintf("%s@%s", src, names[0]);
		s->to = xasprintf("%s@%s", src, names[n - 1]);
		s->intermediates = true;
		return;
	}
	s = add_step(d, REPLAN_STEP_INCR);
	s->from = xstrdup(from);
	s->to = xasprintf("%s@%s", src, names[n - 1]);
	s->intermediates = true;
}

void replan_ds_release(struct replan_ds *d)
{
	free(d->source);
	free(d->target);
	free(d->message);
	free(d->abort_why);
	free(d->rollback_to);
	strvec_release(&d->destroy_conflicts);
	free(d->common);
	free(d->common_target);
	free(d->final_snap);
	for (size_t i = 0; i < d->nsteps; i++) {
		free(d->steps[i].from);
		free(d->steps[i].to);
		free(d->steps[i].token);
	}
	free(d->steps);
	strvec_release(&d->recv_set_props);
	strvec_release(&d->prune_source);
	strvec_release(&d->prune_target);
	strvec_release(&d->delete_target);
	memset(d, 0, sizeof(*d));
}

void replan_release(struct replan *p)
{
	for (size_t i = 0; i < p->n; i++)
		replan_ds_release(&p->ds[i]);
	free(p->ds);
	p->ds = NULL;
	p->n = 0;
}

static bool has_guid(const struct zfs_snap *const *v, size_t n, uint64_t guid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]->guid == guid)
			return true;
	return false;
}

static void plan_props(const struct zfs_tree *src, const struct zfs_dataset *s,
		       const struct zfs_props *local, const struct replan_opts *o, struct replan_ds *d)
{
	if (o->preserve_properties && local) {
		for (size_t i = 0; i < local->n; i++) {
			const struct zfs_prop *p = &local->p[i];
			if (!streq(p->dataset, s->name) || p->source != ZFS_SRC_LOCAL)
				continue;
			if (!replan_prop_preservable(p->name) || !p->value || streq(p->value, "-"))
				continue;
			strvec_pushf(&d->recv_set_props, "%s=%s", p->name, p->value);
		}
	}
	if (o->preserve_recordsize && s->type == ZFS_TYPE_FILESYSTEM) {
		const char *rs = ds_prop(src, s, "recordsize");
		bool have = false;
		for (size_t i = 0; i < d->recv_set_props.n; i++)
			if (skip_prefix(d->recv_set_props.v[i], "recordsize="))
				have = true;
		if (rs && !have)
			strvec_pushf(&d->recv_set_props, "recordsize=%s", rs);
	}
	/* the source's setuid=on etc. are never preserved: recvprops.h */
	recv_guard_strip(&d->recv_set_props);
}

/*
 * What replan_dataset() works from: the dataset's listings sorted oldest
 * first, and the source snapshots it may send. ss and ts are filtered by
 * --include-snaps/--exclude-snaps (syncoid decides on filtered lists); ts_all
 * is what is really on the target (names collide, rollbacks destroy).
 */
struct ds_view {
	const struct zfs_snap **ss, **ts, **bm; /* source and target snapshots, source bookmarks */
	const struct zfs_snap **ts_all;
	size_t nss, nts, nbm, nts_all;
	char **names;   /* sendable source names, oldest first, with the sync snapshot last */
	uint64_t *txg;  /* their createtxg (UINT64_MAX for the sync snapshot to take) */
	size_t nn;
};

static void ds_view_release(struct ds_view *v)
{
	free(v->ss);
	free(v->ts);
	free(v->ts_all);
	free(v->bm);
	free(v->names);
	free(v->txg);
	memset(v, 0, sizeof(*v));
}

/* Keep the included snapshots of v[0..*n), in order. */
static void filter_snaps(const struct replan_opts *o, const struct zfs_snap **v, size_t *n)
{
	size_t k = 0;
	for (size_t i = 0; i < *n; i++)
		if (snap_included(o, v[i]->short_name))
			v[k++] = v[i];
	*n = k;
}

static void ds_view_init(struct ds_view *v, const struct zfs_dataset *s,
			 const struct zfs_dataset *t, const struct replan_opts *o)
{
	memset(v, 0, sizeof(*v));
	v->ss = sorted(s, ZFS_TYPE_SNAPSHOT, &v->nss);
	v->ts = sorted(t, ZFS_TYPE_SNAPSHOT, &v->nts);
	v->ts_all = sorted(t, ZFS_TYPE_SNAPSHOT, &v->nts_all);
	v->bm = sorted(s, ZFS_TYPE_BOOKMARK, &v->nbm);
	filter_snaps(o, v->ss, &v->nss);
	filter_snaps(o, v->ts, &v->nts);
	v->names = xcalloc(v->nss + 2, sizeof(char *));
	v->txg = xcalloc(v->nss + 2, sizeof(uint64_t));
	for (size_t i = 0; i < v->nss; i++) {
		if (o->sync_snap && streq(v->ss[i]->short_name, o->sync_snap))
			continue; /* taken already (a replan after resume): counted below */
		v->names[v->nn] = (char *)v->ss[i]->short_name;
		v->txg[v->nn++] = v->ss[i]->createtxg;
	}
	if (o->sync_snap && snap_included(o, o->sync_snap)) {
		v->names[v->nn] = (char *)o->sync_snap;
		v->txg[v->nn++] = UINT64_MAX;
	}
}

/* Older sync snapshots of this prefix on the source: pruned after success. */
static void plan_source_prune(const struct ds_view *v, const struct replan_opts *o,
			      struct replan_ds *d)
{
	if (!o->sync_prefix || !o->sync_snap)
		return;
	for (size_t i = 0; i < v->nss; i++)
		if (!streq(v->ss[i]->short_name, o->sync_snap) &&
		    syncsnap_matches(v->ss[i]->short_name, o->sync_prefix))
			strvec_push(&d->prune_source, v->ss[i]->short_name);
}

/*
 * A partial receive on the target (a resume token): resume it (true: the plan
 * is that one step, replanned after it), or abort it first. An interrupted
 * full receive leaves nothing to send onto, so *t becomes NULL then.
 */
/*
 * The token comes from the target, outside data: `zfs send -t` would send
 * whatever snapshot of the source pool its toguid names. It is resumed only
 * when toguid is a snapshot of this source dataset and fromguid one of the
 * source tree. Otherwise (the snapshot was destroyed since, or the token was
 * forged) nothing is sent with it: the partial state, the target's own, is
 * reset and the dataset planned anew, as when the resume fails. NULL: the
 * token may be resumed; else why not (caller frees).
 */
static char *token_not_resumable(const struct zfs_tree *src, const struct zfs_dataset *s,
				 const char *token)
{
	_cleanup_release_(resume_token) struct resume_token rt;
	_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
	_cleanup_free_ char *to_where = xasprintf("of %s", s->name);
	if (resume_token_parse(token, &rt) < 0)
		strbuf_addstr(&why, "is malformed (not a token zfs wrote)");
	else if (resume_token_check(&rt, src, s, to_where, "in the source tree", &why) == 0)
		return NULL;
	return strbuf_detach(&why);
}

static bool plan_partial_receive(const struct zfs_tree *src, const struct zfs_dataset *s,
				 const struct zfs_tree *tgt, const struct zfs_dataset **t,
				 const struct ds_view *v, const struct replan_opts *o,
				 struct replan_ds *d)
{
	const char *token = *t ? ds_prop(tgt, *t, "receive_resume_token") : NULL;
	if (!token || !*token || streq(token, "-"))
		return false;
	if (o->resume && !(d->abort_why = token_not_resumable(src, s, token))) {
		struct replan_step *st = add_step(d, REPLAN_STEP_RESUME);
		st->token = xstrdup(token);
		d->resume_then_replan = true;
		return true;
	}
	/* syncoid --no-resume never reads the token: the receive fails on the
	 * partial state, which is reset then and the receive retried; an
	 * interrupted full receive is a target with no snapshot in common. */
	if (!o->resume && o->syncoid)
		return false;
	d->abort_partial = true;
	/* An interrupted full receive: the partial state is the target
	 * itself, which has no snapshot yet, and `zfs receive -A` destroys
	 * it - plan as for a new target. */
	if (v->nts_all == 0) {
		*t = NULL;
		d->target_exists = false;
	}
	return false;
}

/* The newest snapshot source and target share (by guid), else the newest
 * target snapshot the source still has as a bookmark. False: none. */
static bool find_common(const struct ds_view *v, const struct zfs_snap **common,
			const struct zfs_snap **tcommon, bool *bookmark)
{
	*bookmark = false;
	for (size_t i = v->nss; i-- > 0;)
		for (size_t j = 0; j < v->nts; j++)
			if (v->ts[j]->guid == v->ss[i]->guid) {
				*common = v->ss[i];
				*tcommon = v->ts[j];
				return true;
			}
	for (size_t j = v->nts; j-- > 0;)
		for (size_t i = v->nbm; i-- > 0;)
			if (v->bm[i]->guid == v->ts[j]->guid) {
				*common = v->bm[i];
				*tcommon = v->ts[j];
				*bookmark = true;
				return true;
			}
	return false;
}

/* Whether a source snapshot named n arrives on the target with the planned steps. */
static bool arrives_with_steps(const struct replan_ds *d, const char *n)
{
	bool arrives = false;
	for (size_t k = 0; k < d->nsteps; k++) {
		const struct replan_step *st = &d->steps[k];
		const char *to = strchr(st->to, '@') + 1;
		if (streq(to, n))
			arrives = true;
		else if (st->intermediates)
			arrives = true; /* -I carries everything in between */
	}
	return arrives;
}

/* After success: the older sync snapshots on the target, and those this run
 * brings over (an interrupted run's sync snapshot arrives as an intermediate
 * of -I, or as a step) - except as syncoid, which prunes only what the target
 * had before the run and leaves those to the next one. */
static void plan_target_prune(const struct ds_view *v, const struct replan_opts *o,
			      const struct zfs_snap *common, const struct zfs_snap *tcommon,
			      struct replan_ds *d)
{
	if (!o->sync_prefix || !o->sync_snap)
		return;
	for (size_t j = 0; j < v->nts; j++)
		if ((!d->rollback_to || snap_cmp(&v->ts[j], &tcommon) <= 0) &&
		    !streq(v->ts[j]->short_name, o->sync_snap) &&
		    syncsnap_matches(v->ts[j]->short_name, o->sync_prefix))
			strvec_push(&d->prune_target, v->ts[j]->short_name);
	for (size_t i = 0; !o->syncoid && i < v->nss; i++) {
		const char *n = v->ss[i]->short_name;
		if (v->ss[i]->createtxg <= common->createtxg || streq(n, o->sync_snap) ||
		    !syncsnap_matches(n, o->sync_prefix) || strvec_find(&d->prune_target, n) >= 0)
			continue;
		if (arrives_with_steps(d, n))
			strvec_push(&d->prune_target, n);
	}
}

/* --delete-target-snapshots: target snapshots the source no longer has. */
static void plan_target_deletes(const struct ds_view *v, const struct zfs_snap *tcommon,
				struct replan_ds *d)
{
	for (size_t j = 0; j < v->nts; j++) {
		if (d->rollback_to && snap_cmp(&v->ts[j], &tcommon) > 0)
			continue;
		if (has_guid(v->ss, v->nss, v->ts[j]->guid))
			continue;
		if (strvec_find(&d->prune_target, v->ts[j]->short_name) >= 0)
			continue;
		strvec_push(&d->delete_target, v->ts[j]->short_name);
	}
}

/* The target snapshot named name (any guid: names collide), or NULL. */
static const struct zfs_snap *target_named(const struct ds_view *v, const char *name)
{
	for (size_t j = 0; j < v->nts_all; j++)
		if (streq(v->ts_all[j]->short_name, name))
			return v->ts_all[j];
	return NULL;
}

/*
 * Target snapshots named like a snapshot this run receives (names[first..]),
 * on which `zfs receive` fails with "destination already exists". The first
 * received name collides with any target snapshot; a later one only with
 * those up to the common snapshot, as the first receive -F destroys the
 * newer ones. force_delete: destroy them first (syncoid does one per retry).
 * True when the first received name collides.
 */
static bool plan_conflicts(const struct ds_view *v, const struct replan_opts *o,
			   const struct zfs_snap *tcommon, size_t first, struct replan_ds *d)
{
	bool first_conflicts = false;
	if (first >= v->nn)
		return false;
	size_t lo = o->no_stream ? v->nn - 1 : first; /* the first name received */
	for (size_t i = lo; i < v->nn; i++) {
		const struct zfs_snap *t = target_named(v, v->names[i]);
		if (!t || (i != lo && snap_cmp(&t, &tcommon) > 0))
			continue;
		if (i == lo)
			first_conflicts = true;
		if (o->force_delete)
			strvec_push(&d->destroy_conflicts, t->short_name);
	}
	return first_conflicts;
}

/* The target shares a snapshot (or a bookmark) with the source: roll back
 * what is newer on the target if allowed, then send what is newer. */
static void plan_from_common(const struct zfs_dataset *s, const struct zfs_dataset *t,
			     const struct ds_view *v, const struct replan_opts *o,
			     const struct zfs_snap *common, const struct zfs_snap *tcommon,
			     bool bookmark, struct replan_ds *d)
{
	d->common = xstrdup(common->name);
	d->common_target = xstrdup(tcommon->name);
	/* sendable snapshots newer than the common one */
	size_t first = 0;
	while (first < v->nn && v->txg[first] <= common->createtxg)
		first++;
	bool first_conflicts = plan_conflicts(v, o, tcommon, first, d);
	/* target snapshots after the common one, filtered or not: newer data
	 * on the target, which receive -F would destroy */
	_cleanup_strvec_ struct strvec newer = STRVEC_INIT;
	for (size_t j = 0; j < v->nts_all; j++)
		if (snap_cmp(&v->ts_all[j], &tcommon) > 0 &&
		    strvec_find(&d->destroy_conflicts, v->ts_all[j]->short_name) < 0)
			strvec_push(&newer, v->ts_all[j]->short_name);
	if (first_conflicts && !o->force_delete) {
		/* syncoid's receive -F fails on the name before it rolls anything
		 * back: so does ours, with the target untouched */
	} else if (newer.n) {
		if (!o->allow_rollback) {
			_cleanup_free_ char *list = strvec_join(&newer, ", ");
			fail(d, REPLAN_FAIL,
			     xasprintf("target %s has snapshots newer than the common snapshot "
				       "%s (%s): not rolling it back; allow the rollback "
				       "(syncoid: drop --no-rollback; zkeep replicate: "
				       "--rollback) or destroy them",
				       t->name, tcommon->short_name, list));
			return;
		}
		d->rollback_to = xstrdup(tcommon->name);
	}
	if (first == v->nn) {
		fail(d, REPLAN_UPTODATE,
		     o->syncoid ? xasprintf("no snapshots on source newer than %s on target. "
					    "Nothing to do, not syncing.",
					    common->short_name)
				: xasprintf("no snapshots on source newer than %s on target %s: "
					    "nothing to do",
					    common->short_name, t->name));
	} else {
		add_incrementals(d, o, s->name, common->name, bookmark, v->names + first,
				 v->nn - first);
	}
	plan_target_prune(v, o, common, tcommon, d);
	if (o->delete_target_snapshots)
		plan_target_deletes(v, tcommon, d);
}

/* The target exists but shares nothing with the source: destroy it and send
 * everything (true) only with --force-delete, and never a pool's root. */
static bool plan_no_common(const struct zfs_dataset *s, const struct zfs_dataset *t,
			   const struct ds_view *v, const struct replan_opts *o,
			   struct replan_ds *d)
{
	/* syncoid took its sync snapshot before it looked, and refuses a pool
	 * root in the same words as any target */
	if (o->syncoid && (!o->force_delete || !strchr(t->name, '/'))) {
		d->take_sync_snap = o->sync_snap != NULL;
		fail(d, REPLAN_FAIL,
		     xasprintf("\nTarget %s exists but has no snapshots matching with %s!\n"
			       "Replication to target would require destroying existing\n"
			       "target. Cowardly refusing to destroy your existing target.\n",
			       t->name, s->name));
		return false;
	}
	if (!o->force_delete) {
		fail(d, REPLAN_FAIL,
		     xasprintf("target %s exists but has no snapshot in common with %s: "
			       "replicating would need destroying the target; refusing "
			       "(%s; --force-delete destroys it and sends everything again)",
			       t->name, s->name,
			       v->nts_all ? "its snapshots do not match the source's"
					  : "it has no snapshots - was it created by hand? the "
					    "first replication must go to a dataset that does not "
					    "exist yet"));
		return false;
	}
	if (!strchr(t->name, '/')) {
		fail(d, REPLAN_FAIL,
		     xasprintf("target %s has no snapshot in common with %s, and it is the root "
			       "dataset of a pool: --force-delete never destroys a pool root",
			       t->name, s->name));
		return false;
	}
	d->destroy_target = true;
	d->abort_partial = false;
	d->target_exists = false;
	return true;
}

/* Full send: the oldest snapshot (or the newest with no_stream), a clone
 * from its origin, then incrementals on. */
static void plan_full_send(const struct zfs_tree *src, const struct zfs_dataset *s,
			   const struct ds_view *v, const struct replan_opts *o,
			   struct replan_ds *d)
{
	size_t first = o->no_stream ? v->nn - 1 : 0;
	struct replan_step *st = add_step(d, REPLAN_STEP_FULL);
	st->to = xasprintf("%s@%s", s->name, v->names[first]);
	const char *origin = ds_prop(src, s, "origin");
	if (o->clone_handling && origin && *origin && !streq(origin, "-")) {
		/* a clone: send it as an incremental from its origin, received as a
		 * clone of the origin's copy (the origin's dataset goes first) */
		_cleanup_free_ char *ods = xstrndup(origin, strcspn(origin, "@"));
		if (zfs_tree_find(src, ods)) {
			st->from = xstrdup(origin);
			st->clone = true;
		}
	}
	if (first + 1 < v->nn) {
		_cleanup_free_ char *from = xasprintf("%s@%s", s->name, v->names[first]);
		add_incrementals(d, o, s->name, from, false, v->names + first + 1,
				 v->nn - first - 1);
	}
}

static void plan_dataset(const struct zfs_tree *src, const struct zfs_dataset *s,
			 const struct zfs_tree *tgt, const struct zfs_dataset *t,
			 const struct zfs_props *local, const struct replan_opts *o,
			 const char *target_name, struct replan_ds *d)
{
	_cleanup_release_(ds_view) struct ds_view v;
	ds_view_init(&v, s, t, o);

	d->source = xstrdup(s->name);
	d->target = xstrdup(target_name);
	d->type = s->type;
	d->origin_index = SIZE_MAX;
	d->status = REPLAN_SYNC;
	d->target_exists = t != NULL;
	d->recv_force = o->allow_rollback;

	plan_props(src, s, local, o, d);
	plan_source_prune(&v, o, d);
	if (plan_partial_receive(src, s, tgt, &t, &v, o, d))
		return;
	if (v.nn == 0 && o->sync_snap && o->syncoid) {
		/* syncoid took its sync snapshot, which the filters exclude, and
		 * warns in the words of --no-sync-snap */
		fail(d, REPLAN_FAIL,
		     xasprintf("CRITICAL: no snapshots exist on source %s, and you asked for "
			       "--no-sync-snap.",
			       s->name));
		d->fail_warning = true;
		d->take_sync_snap = true;
		return;
	}
	if (v.nn == 0 && o->sync_snap) {
		fail(d, REPLAN_FAIL,
		     xasprintf("no snapshot of %s passes --include-snaps/--exclude-snaps, the "
			       "sync snapshot neither: nothing to send",
			       s->name));
		return;
	}
	if (v.nn == 0) {
		fail(d, REPLAN_FAIL,
		     xasprintf("no snapshots exist on source %s, and no sync snapshot is taken "
			       "(--no-sync-snap): take a snapshot first",
			       s->name));
		return;
	}
	d->final_snap = xstrdup(v.names[v.nn - 1]);

	if (t) {
		const struct zfs_snap *common, *tcommon;
		bool bookmark;
		if (find_common(&v, &common, &tcommon, &bookmark)) {
			plan_from_common(s, t, &v, o, common, tcommon, bookmark, d);
			return;
		}
		if (!plan_no_common(s, t, &v, o, d))
			return;
	}
	plan_full_send(src, s, &v, o, d);
}

void replan_dataset(const struct zfs_tree *src, const struct zfs_dataset *s,
		    const struct zfs_tree *tgt, const struct zfs_dataset *t,
		    const struct zfs_props *local, const struct replan_opts *o, const char *target_name,
		    struct replan_ds *d)
{
	plan_dataset(src, s, tgt, t, local, o, target_name, d);
	/* syncoid takes it before it knows whether it sends it; zkeep
	 * replicate only one it sends */
	if (o->sync_snap && (d->status == REPLAN_SYNC || d->status == REPLAN_UPTODATE) &&
	    (o->syncoid || snap_included(o, o->sync_snap)))
		d->take_sync_snap = true;
}

/* ---- the whole tree ----------------------------------------------------- */

static bool selected(const struct zfs_tree *src, const struct zfs_dataset *s,
		     const struct replan_opts *o, char **why)
{
	if (s->type != ZFS_TYPE_FILESYSTEM && s->type != ZFS_TYPE_VOLUME)
		return false;
	if (o->recursive && o->skip_parent && streq(s->name, o->source_root)) {
		*why = xasprintf("skipping %s (--skip-parent)", s->name);
		return false;
	}
	if (o->recursive && !streq(s->name, o->source_root) &&
	    any_match(o->exclude_datasets, o->n_exclude_datasets, s->name)) {
		*why = xasprintf("skipping %s (--exclude-datasets)", s->name);
		return false;
	}
	const char *sync = ds_prop(src, s, "syncoid:sync");
	if (!sync || !*sync || streq(sync, "-") || streq(sync, "true"))
		return true;
	if (streq(sync, "false")) {
		*why = xasprintf("skipping dataset (syncoid:sync=false): %s", s->name);
		return false;
	}
	_cleanup_strvec_ struct strvec hosts = STRVEC_INIT;
	strvec_split(&hosts, sync, ",");
	if (o->hostname && strvec_find(&hosts, o->hostname) >= 0)
		return true;
	*why = xasprintf("skipping dataset (syncoid:sync doesn't include %s): %s",
			 o->hostname ? o->hostname : "this host", s->name);
	return false;
}

static bool in_scope(const struct replan_opts *o, const char *name)
{
	if (streq(name, o->source_root))
		return true;
	if (!o->recursive)
		return false;
	const char *rest = skip_prefix(name, o->source_root);
	return rest && *rest == '/';
}

int replan_build(const struct zfs_tree *src, const struct zfs_tree *tgt,
		 const struct zfs_props *local, const struct replan_opts *o, struct replan *out,
		 struct strbuf *err)
{
	if (!zfs_tree_find(src, o->source_root)) {
		strbuf_addf(err, "source dataset %s does not exist", o->source_root);
		return -ENOENT;
	}
	size_t cap = src->nds;
	struct replan_ds *tmp = xcalloc(cap + 1, sizeof(*tmp));
	size_t n = 0;
	for (size_t i = 0; i < src->nds; i++) {
		const struct zfs_dataset *s = &src->ds[i];
		if (!in_scope(o, s->name))
			continue;
		char *why = NULL;
		struct replan_ds *d = &tmp[n];
		if (s->type != ZFS_TYPE_FILESYSTEM && s->type != ZFS_TYPE_VOLUME)
			continue;
		_cleanup_free_ char *tname = replan_target_name(o->source_root, o->target_root, s->name);
		if (!selected(src, s, o, &why)) {
			d->source = xstrdup(s->name);
			d->target = xstrdup(tname);
			d->origin_index = SIZE_MAX;
			d->status = REPLAN_SKIP;
			d->message = why;
			n++;
			continue;
		}
		const struct zfs_dataset *t = tgt ? zfs_tree_find(tgt, tname) : NULL;
		replan_dataset(src, s, tgt, t, local, o, tname, d);
		n++;
	}

	/* origins before clones: emit a dataset once its origin's dataset (when
	 * planned as well) has been emitted; parents keep coming first */
	struct replan_ds *ord = xcalloc(n + 1, sizeof(*ord));
	bool *done = xcalloc(n + 1, sizeof(bool));
	size_t m = 0;
	while (m < n) {
		bool progress = false;
		for (size_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			const struct replan_step *st0 = tmp[i].nsteps ? &tmp[i].steps[0] : NULL;
			size_t dep = SIZE_MAX;
			if (st0 && st0->clone) {
				_cleanup_free_ char *ods = xstrndup(st0->from, strcspn(st0->from, "@"));
				for (size_t j = 0; j < n; j++)
					if (streq(tmp[j].source, ods))
						dep = j;
				if (dep != SIZE_MAX && tmp[dep].status == REPLAN_SKIP)
					dep = SIZE_MAX;
			}
			/* a parent must precede its children */
			bool parent_pending = false;
			for (size_t j = 0; j < n; j++) {
				if (done[j] || j == i)
					continue;
				const char *rest = skip_prefix(tmp[i].source, tmp[j].source);
				if (rest && *rest == '/')
					parent_pending = true;
			}
			if ((dep != SIZE_MAX && !done[dep]) || parent_pending)
				continue;
			ord[m] = tmp[i];
			done[i] = true;
			if (dep != SIZE_MAX)
				for (size_t k = 0; k < m; k++)
					if (streq(ord[k].source, tmp[dep].source))
						ord[m].origin_index = k;
			m++;
			progress = true;
		}
		if (!progress) {
			/* a cycle cannot happen in ZFS; keep the rest in listing order */
			for (size_t i = 0; i < n; i++)
				if (!done[i]) {
					ord[m++] = tmp[i];
					done[i] = true;
				}
		}
	}
	free(done);
	free(tmp);
	out->ds = ord;
	out->n = n;
	return 0;
}

/* ---- description -------------------------------------------------------- */

static void list_names(struct strbuf *out, const char *what, const char *ds,
		       const struct strvec *names)
{
	if (!names->n)
		return;
	strbuf_addf(out, "  %s %s@", what, ds);
	for (size_t i = 0; i < names->n; i++)
		strbuf_addf(out, "%s%s", i ? "," : "", names->v[i]);
	strbuf_addch(out, '\n');
}

void replan_describe(const struct replan_ds *d, const uint64_t *estimates, struct strbuf *out)
{
	switch (d->status) {
	case REPLAN_SKIP:
		strbuf_addf(out, "%s: %s\n", d->source, d->message ? d->message : "skipped");
		return;
	case REPLAN_FAIL:
		strbuf_addf(out, "%s -> %s: cannot replicate: %s\n", d->source, d->target,
			    d->message ? d->message : "?");
		return;
	case REPLAN_UPTODATE:
		strbuf_addf(out, "%s -> %s: up to date (%s)\n", d->source, d->target,
			    d->message ? d->message : "");
		break;
	case REPLAN_SYNC:
		strbuf_addf(out, "%s -> %s:\n", d->source, d->target);
		break;
	}
	if (d->abort_partial)
		strbuf_addf(out, "  discard the partial receive on %s (zfs receive -A)\n", d->target);
	if (d->destroy_target)
		strbuf_addf(out, "  destroy %s and everything below it (--force-delete)\n", d->target);
	list_names(out, "destroy same-named snapshots (--force-delete)", d->target,
		   &d->destroy_conflicts);
	if (d->rollback_to)
		strbuf_addf(out, "  roll %s back to %s (zfs rollback -R)\n", d->target, d->rollback_to);
	for (size_t i = 0; i < d->nsteps; i++) {
		const struct replan_step *s = &d->steps[i];
		switch (s->kind) {
		case REPLAN_STEP_RESUME:
			strbuf_addf(out, "  resume the interrupted receive into %s (zfs send -t)", d->target);
			break;
		case REPLAN_STEP_FULL:
			if (s->clone)
				strbuf_addf(out, "  send %s in full as a clone of %s", s->to, s->from);
			else
				strbuf_addf(out, "  send %s in full", s->to);
			break;
		case REPLAN_STEP_INCR:
			strbuf_addf(out, "  send %s %s ... %s", s->intermediates ? "-I" : "-i", s->from,
				    s->to);
			break;
		}
		if (estimates && estimates[i] != UINT64_MAX) {
			strbuf_addstr(out, " (~ ");
			strbuf_add_bytes(out, (double)estimates[i], 1);
			strbuf_addstr(out, ")");
		} else if (estimates) {
			strbuf_addstr(out, " (size unknown)");
		}
		strbuf_addf(out, " -> receive %s%s%s\n", d->recv_force ? "-F " : "", d->target,
			    d->recv_set_props.n ? " with -o" : "");
	}
	for (size_t i = 0; i < d->recv_set_props.n; i++)
		strbuf_addf(out, "  receive -o %s\n", d->recv_set_props.v[i]);
	list_names(out, "then destroy old sync snapshots", d->source, &d->prune_source);
	list_names(out, "then destroy old sync snapshots", d->target, &d->prune_target);
	list_names(out, "then destroy target-only snapshots", d->target, &d->delete_target);
}

/* ---- is the target busy? ---------------------------------------------------- */

bool replan_argv_receives_into(const char *const *argv, size_t n, const char *target)
{
	size_t i = 0;
	if (i < n && (streq(argv[i], "sudo") || (strrchr(argv[i], '/') &&
						 streq(strrchr(argv[i], '/') + 1, "sudo"))))
		i++;
	if (i + 2 >= n) /* zfs receive DATASET at least */
		return false;
	const char *prog = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
	if (!streq(prog, "zfs") || !(streq(argv[i + 1], "receive") || streq(argv[i + 1], "recv")))
		return false;
	const char *ds = argv[n - 1];
	if (zfs_name_within(ds, target))
		return true;
	bool prefix_mode = false;
	for (size_t k = i + 2; k + 1 < n; k++)
		if (argv[k][0] == '-' && argv[k][1] != '-' && strpbrk(argv[k] + 1, "de"))
			prefix_mode = true; /* -d / -e: received under ds */
	return prefix_mode && zfs_name_within(target, ds);
}

void replan_lock_name(const char *target, struct strbuf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = out->len;
	strbuf_addstr(out, "replicate-");
	for (const unsigned char *p = (const unsigned char *)target; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '_' || *p == '-') {
			strbuf_addch(out, (char)*p);
		} else {
			strbuf_addch(out, '%');
			strbuf_addch(out, hex[*p >> 4]);
			strbuf_addch(out, hex[*p & 15]);
		}
	}
	if (out->len - start > 200) {
		uint64_t h = 14695981039346656037ull; /* FNV-1a 64 */
		for (const unsigned char *p = (const unsigned char *)target; *p; p++) {
			h ^= *p;
			h *= 1099511628211ull;
		}
		strbuf_setlen(out, start + 183);
		strbuf_addf(out, "~%016" PRIx64, h);
	}
}
