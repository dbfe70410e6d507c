/* replicate.c - see replicate.h. */
#include "base/zkeep.h"
#include "replication/replicate.h"
#include "zfs/recvprops.h"
#include "base/forked_tasks.h"
#include "base/parse.h"
#include "replication/pump.h"
#include "replication/ssh.h"
#include "snapshots/syncsnap.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <time.h>

#define MAX_REPLANS 3 /* resume, then a normal sync, then one more after a reset */

struct ctx {
	struct zfs *src, *tgt;
	const struct replicate_opts *o;
	struct replan_opts po;      /* o->plan with sync_snap set */
	struct replicate_result *res;
	struct zfs_tree stree, ttree;
	/* listings of single datasets made after a resume: they override the
	 * run's listings for those datasets (newest last) */
	struct extra_tree {
		struct zfs_tree t;
		bool source;
	} *extra;
	size_t nextra;
	struct zfs_props local;
	bool resumable;
	char *sync_snap;
};

/* The freshest listing of a dataset of one side, and the tree it is in. */
static const struct zfs_dataset *find_ds(const struct ctx *c, bool source, const char *name,
					 const struct zfs_tree **tree)
{
	for (size_t i = c->nextra; i-- > 0;) {
		const struct zfs_tree *t = &c->extra[i].t;
		if (c->extra[i].source != source)
			continue;
		const struct zfs_dataset *d = zfs_tree_find(t, name);
		if (d) {
			*tree = t;
			return d;
		}
	}
	*tree = source ? &c->stree : &c->ttree;
	return zfs_tree_find(*tree, name);
}

static const char *const extra_source_props[] = { "written", "referenced", NULL };

/* An event with a message (about a topic, replicate.h) to the caller. */
static void emit_about(struct ctx *c, enum replicate_event_kind kind, enum replicate_topic topic,
		       const struct replan_ds *d, const char *fmt, ...) PRINTF(5, 6);
static void emit_about(struct ctx *c, enum replicate_event_kind kind, enum replicate_topic topic,
		       const struct replan_ds *d, const char *fmt, ...)
{
	if (!c->o->event)
		return;
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	struct replicate_event ev = {
		.kind = kind,
		.source = d ? d->source : NULL,
		.target = d ? d->target : NULL,
		.message = sb.buf,
		.topic = topic,
		.ds = d,
	};
	c->o->event(&ev, c->o->event_data);
}
#define emit(c, kind, d, ...) emit_about(c, kind, REPL_TOPIC_NONE, d, __VA_ARGS__)

/* ---- the data path -------------------------------------------------------- */

struct progress_state {
	struct ctx *c;
	const struct replan_ds *d;
	const struct replan_step *st;
	uint64_t expected;
};

static void report_progress(struct progress_state *ps, uint64_t bytes, double elapsed, double rate)
{
	if (!ps->c->o->event)
		return;
	struct replicate_event ev = {
		.kind = REPL_EV_PROGRESS,
		.source = ps->d->source,
		.target = ps->d->target,
		.from = ps->st->from,
		.to = ps->st->to,
		.bytes = bytes,
		.expected_bytes = ps->expected,
		.rate = rate,
		.eta = (rate > 0 && ps->expected > bytes) ? (double)(ps->expected - bytes) / rate : -1,
		.seconds = elapsed,
	};
	ps->c->o->event(&ev, ps->c->o->event_data);
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_pump_progress(const struct pump_progress *p, void *data)
{
	report_progress(data, p->stream_bytes, p->elapsed, p->rate);
}

/*
 * Start a send (on_stdout) or receive through the side's runner, with the
 * stream compressed on the wire when that side is remote and a codec is set.
 * Fills p like zfs_send_start()/zfs_recv_start(), so zfs_proc_finish() works.
 */
static int start_coded(struct zfs *z, struct strvec *argv, const struct pump_codec *codec,
		       bool on_stdout, struct zfs_proc *p)
{
	*p = (struct zfs_proc)ZFS_PROC_INIT;
	strbuf_reset(&z->err);
	p->errfd = memfd_create("zkeep-zfs-stderr", MFD_CLOEXEC);
	if (p->errfd < 0) {
		strbuf_addf(&z->err, "memfd_create: %s", strerror(errno));
		return -errno;
	}
	_cleanup_free_ char *words = strvec_join(argv, " ");
	p->what = xasprintf("%s (on %s)", words, z->run->label);
	int in = on_stdout ? SPAWN_NULL : SPAWN_PIPE, out = on_stdout ? SPAWN_PIPE : SPAWN_NULL;
	int r = codec->kind == PUMP_CODEC_NONE
			? runner_start(z->run, (const char *const *)argv->v, in, out, p->errfd, &p->c)
			: ssh_runner_start_coded(z->run, (const char *const *)argv->v, codec, on_stdout,
						 in, out, p->errfd, &p->c);
	if (r < 0) {
		strbuf_addf(&z->err, "%s: cannot start: %s", p->what, strerror(-r));
		close(p->errfd);
		p->errfd = -1;
		free(p->what);
		p->what = NULL;
	}
	return r;
}

/* The send's argv with "-X a,b" (--sendoptions X) before the snapshot. */
static void send_argv(const struct zfs_send_args *sa, const struct strvec *excludes,
		      bool estimate, struct strvec *argv)
{
	zfs_send_argv(sa, estimate, argv);
	if (!excludes || !excludes->n || sa->resume_token)
		return;
	_cleanup_free_ char *last = xstrdup(argv->v[argv->n - 1]);
	_cleanup_free_ char *list = strvec_join(excludes, ",");
	strvec_pop(argv);
	strvec_push(argv, "-X");
	strvec_push(argv, list);
	strvec_push(argv, last);
}

static int start_send(struct ctx *c, const struct zfs_send_args *sa, const struct strvec *excludes,
		      struct zfs_proc *p)
{
	if (c->o->src_codec.kind == PUMP_CODEC_NONE && (!excludes || !excludes->n))
		return zfs_send_start(c->src, sa, SPAWN_PIPE, p);
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	send_argv(sa, excludes, false, &argv);
	return start_coded(c->src, &argv, &c->o->src_codec, true, p);
}

static int start_recv(struct ctx *c, const struct zfs_recv_args *ra, struct zfs_proc *p)
{
	if (c->o->tgt_codec.kind == PUMP_CODEC_NONE)
		return zfs_recv_start(c->tgt, ra, SPAWN_PIPE, p);
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	zfs_recv_argv(ra, &argv);
	return start_coded(c->tgt, &argv, &c->o->tgt_codec, false, p);
}

static bool resume_source_gone(const char *msg)
{
	if (strstr(msg, "used in the initial send no longer exists"))
		return true;
	const char *p = strstr(msg, "incremental source ");
	return p && strstr(p, "no longer exists");
}

enum replicate_xfer replicate_xfer_outcome(int send_rc, int recv_rc, int pump_rc,
					   bool resume_step, bool resumable,
					   const char *send_err, const char *recv_err)
{
	if (send_rc == 0 && recv_rc == 0 && pump_rc == 0)
		return REPL_XFER_OK;
	if (resume_step && (resume_source_gone(send_err) || resume_source_gone(recv_err)))
		return REPL_XFER_RESUME_GONE;
	if ((!resumable || !resume_step) && strstr(recv_err, "contains partially-complete state"))
		return REPL_XFER_PARTIAL_STATE;
	return REPL_XFER_FAILED;
}

static void fill_send_args(struct ctx *c, const struct replan_step *st, struct zfs_send_args *sa,
			   struct strbuf *flags, struct strvec *excludes, struct strbuf *dropped)
{
	enum sendopts_kind kind = st->kind == REPLAN_STEP_RESUME ? SENDOPTS_RESUME
				  : st->from_bookmark		  ? SENDOPTS_BOOKMARK
								  : SENDOPTS_FULL;
	if (c->o->send)
		sendopts_args(c->o->send, kind, flags, NULL, NULL, excludes, dropped);
	memset(sa, 0, sizeof(*sa));
	sa->snapshot = st->to;
	sa->from = st->from;
	sa->intermediates = st->intermediates;
	sa->resume_token = st->token;
	sa->extra_flags = flags->buf;
}

/* The receive's arguments: the plan's properties and --recvoptions. */
static void fill_recv_args(struct ctx *c, const struct replan_ds *d, struct zfs_recv_args *ra,
			   struct strbuf *flags, struct strvec *set, struct strvec *ex)
{
	_cleanup_strvec_ struct strvec own_set = STRVEC_INIT, own_ex = STRVEC_INIT;
	if (c->o->recv)
		sendopts_args(c->o->recv, SENDOPTS_RECV, flags, &own_set, &own_ex, NULL, NULL);
	/* the quarantine (recvprops.h), but what the operator's --recvoptions name */
	strvec_pushv(set, (const char *const *)d->recv_set_props.v);
	recv_guard_args(d->type, false, (const char *const *)own_set.v,
			(const char *const *)own_ex.v, set, ex);
	strvec_pushv(set, (const char *const *)own_set.v);
	strvec_pushv(ex, (const char *const *)own_ex.v);
	memset(ra, 0, sizeof(*ra));
	ra->target = d->target;
	ra->resumable = c->resumable;
	ra->force = d->recv_force;
	ra->set_props = (const char *const *)set->v;
	ra->exclude_props = (const char *const *)ex->v;
	ra->extra_flags = flags->buf;
}

/* REPL_EV_STEP (what: its description), REPL_EV_SEND_START or REPL_EV_SEND_DONE of a step. */
static void emit_send(struct ctx *c, enum replicate_event_kind kind, const struct replan_ds *d,
		      const struct replan_step *st, uint64_t expected, uint64_t bytes, double secs,
		      const char *what)
{
	if (!c->o->event)
		return;
	struct replicate_event ev = {
		.kind = kind,
		.source = d->source,
		.target = d->target,
		.from = st->from,
		.to = st->to,
		.message = what,
		.expected_bytes = expected,
		.ds = d,
		.step = st,
	};
	if (kind == REPL_EV_SEND_DONE) {
		ev.bytes = bytes;
		ev.seconds = secs;
		ev.rate = secs > 0 ? (double)bytes / secs : 0;
	}
	c->o->event(&ev, c->o->event_data);
}

/* What one send -> pump -> receive gave: the three results and messages. */
struct xfer_end {
	int send_rc, recv_rc, pump_rc;
	uint64_t bytes;
	double secs;
	struct strbuf send_err, recv_err, pump_err;
};

static void xfer_end_release(struct xfer_end *x)
{
	strbuf_release(&x->send_err);
	strbuf_release(&x->recv_err);
	strbuf_release(&x->pump_err);
}

/* Pump the started send into the started receive, then reap both. */
static void pump_and_finish(struct ctx *c, struct progress_state *ps, struct zfs_proc *sp,
			    struct zfs_proc *rp, struct xfer_end *x)
{
	double t0 = mono_now();
	struct pump_opts po = {
		.buffer_size = c->o->buffer_size,
		.bwlimit = c->o->bwlimit,
		.decompress = c->o->src_codec,
		.compress = c->o->tgt_codec,
		.expected_bytes = ps->expected,
		.progress = on_pump_progress,
		.progress_data = ps,
	};
	struct pump_stats stats = { 0 };
	x->pump_rc = pump_run(sp->c.out, rp->c.in, &po, &stats, &x->pump_err);
	x->bytes = stats.stream_bytes;
	/* closing our ends lets a blocked sender or a waiting receiver finish */
	close(sp->c.out);
	sp->c.out = -1;
	close(rp->c.in);
	rp->c.in = -1;
	x->send_rc = zfs_proc_finish(c->src, sp);
	strbuf_addstr(&x->send_err, zfs_error(c->src));
	x->recv_rc = zfs_proc_finish(c->tgt, rp);
	strbuf_addstr(&x->recv_err, zfs_error(c->tgt));
	x->secs = mono_now() - t0;
}

static enum replicate_xfer transfer(struct ctx *c, const struct replan_ds *d,
				    const struct replan_step *st, uint64_t expected)
{
	_cleanup_strbuf_ struct strbuf flags = STRBUF_INIT, dropped = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf rflags = STRBUF_INIT;
	_cleanup_strvec_ struct strvec set = STRVEC_INIT, ex = STRVEC_INIT;
	struct zfs_send_args sa;
	struct zfs_recv_args ra;

	_cleanup_strvec_ struct strvec excludes = STRVEC_INIT;
	fill_send_args(c, st, &sa, &flags, &excludes, &dropped);
	if (dropped.len)
		emit(c, REPL_EV_DEBUG, d, "send options '%s' do not apply to this kind of send: left out",
		     dropped.buf);
	fill_recv_args(c, d, &ra, &rflags, &set, &ex);
	emit_send(c, REPL_EV_SEND_START, d, st, expected, 0, 0, NULL);

	struct zfs_proc sp = ZFS_PROC_INIT, rp = ZFS_PROC_INIT;
	int r = start_send(c, &sa, &excludes, &sp);
	if (r < 0) {
		emit(c, REPL_EV_ERROR, d, "%s", zfs_error(c->src));
		return REPL_XFER_FAILED;
	}
	r = start_recv(c, &ra, &rp);
	if (r < 0) {
		emit(c, REPL_EV_ERROR, d, "%s", zfs_error(c->tgt));
		zfs_proc_kill(&sp);
		return REPL_XFER_FAILED;
	}
	struct progress_state ps = { c, d, st, expected };
	_cleanup_release_(xfer_end) struct xfer_end x = {
		.send_err = STRBUF_INIT, .recv_err = STRBUF_INIT, .pump_err = STRBUF_INIT,
	};
	pump_and_finish(c, &ps, &sp, &rp, &x);

	enum replicate_xfer out = replicate_xfer_outcome(x.send_rc, x.recv_rc, x.pump_rc,
							 st->kind == REPLAN_STEP_RESUME,
							 c->resumable, x.send_err.buf,
							 x.recv_err.buf);
	if (out == REPL_XFER_OK) {
		c->res->bytes += x.bytes;
		if (x.recv_err.len)
			emit(c, REPL_EV_WARNING, d, "zfs receive %s: %s", d->target, x.recv_err.buf);
		emit_send(c, REPL_EV_SEND_DONE, d, st, expected, x.bytes, x.secs, NULL);
	} else if (out == REPL_XFER_PARTIAL_STATE) {
		/* syncoid shows the failed receive before it resets and retries */
		emit(c, REPL_EV_ERROR, d, "%s", x.recv_err.buf);
	} else if (out == REPL_XFER_FAILED) {
		if (x.send_rc < 0)
			emit(c, REPL_EV_ERROR, d, "%s", x.send_err.buf);
		if (x.recv_rc < 0)
			emit(c, REPL_EV_ERROR, d, "%s", x.recv_err.buf);
		if (x.pump_rc < 0 && x.send_rc == 0 && x.recv_rc == 0)
			emit(c, REPL_EV_ERROR, d, "%s", x.pump_err.buf);
	}
	return out;
}

/* ---- estimates (dry run and progress) ------------------------------------- */

static const struct zfs_snap *newest_real(const struct zfs_dataset *s)
{
	const struct zfs_snap *best = NULL;
	for (size_t i = 0; s && i < s->nsnaps; i++)
		if (s->snaps[i].type == ZFS_TYPE_SNAPSHOT &&
		    (!best || s->snaps[i].createtxg > best->createtxg))
			best = &s->snaps[i];
	return best;
}

static uint64_t prop_u64(const struct zfs_tree *t, const struct zfs_dataset *s, const char *name)
{
	ssize_t i = zfs_tree_prop_index(t, name);
	uint64_t v = 0;
	if (i >= 0 && s->props && s->props[i])
		parse_u64(s->props[i], &v);
	return v;
}

static uint64_t estimate(struct ctx *c, const struct replan_ds *d, const struct replan_step *st)
{
	_cleanup_strbuf_ struct strbuf flags = STRBUF_INIT;
	struct zfs_send_args sa;
	uint64_t bytes = 0;
	if (c->o->no_estimate && !c->o->dry_run)
		return UINT64_MAX; /* unknown: a zfs process saved per send */
	fill_send_args(c, st, &sa, &flags, NULL, NULL);
	const struct zfs_tree *stt;
	const struct zfs_dataset *s = find_ds(c, true, d->source, &stt);
	bool virtual = st->to && c->sync_snap && s && !zfs_dataset_find_snap(s, c->sync_snap) &&
		       ends_with(st->to, c->sync_snap);
	if (!virtual)
		return zfs_send_estimate(c->src, &sa, &bytes) == 0 ? bytes : UINT64_MAX;
	/* the sync snapshot does not exist yet: what the newest snapshot
	 * holds plus what was written since it */
	const struct zfs_snap *n = newest_real(s);
	uint64_t written = prop_u64(stt, s, "written");
	if (!n)
		return prop_u64(stt, s, "referenced");
	if (st->from && streq(st->from, n->name))
		return written;
	sa.snapshot = n->name;
	if (zfs_send_estimate(c->src, &sa, &bytes) < 0)
		return UINT64_MAX;
	return bytes + written;
}

/* ---- after a good sync ---------------------------------------------------- */

void replicate_held_snapshots(const struct zfs_dataset *ds, ssize_t userrefs, const char *keep,
			      struct strvec *out)
{
	for (size_t i = 0; ds && userrefs >= 0 && i < ds->nsnaps; i++) {
		const struct zfs_snap *sn = &ds->snaps[i];
		if (sn->type != ZFS_TYPE_SNAPSHOT || streq(sn->short_name, keep))
			continue;
		if (sn->props && sn->props[userrefs] && !streq(sn->props[userrefs], "0"))
			strvec_push(out, sn->name);
	}
}

static void release_others(struct ctx *c, struct zfs *z, const struct replan_ds *d, bool source,
			   const char *dsname, const char *keep)
{
	const struct zfs_tree *t;
	const struct zfs_dataset *ds = find_ds(c, source, dsname, &t);
	_cleanup_strvec_ struct strvec cand = STRVEC_INIT;
	replicate_held_snapshots(ds, zfs_tree_prop_index(t, "userrefs"), keep, &cand);
	if (!cand.n)
		return;
	struct zfs_holds h = { 0 };
	if (zfs_list_holds(z, (const char *const *)cand.v, false, &h) < 0) {
		emit(c, REPL_EV_WARNING, d, "listing holds: %s", zfs_error(z));
		return;
	}
	_cleanup_strvec_ struct strvec mine = STRVEC_INIT;
	for (size_t i = 0; i < h.n; i++)
		if (streq(h.h[i].tag, c->o->hold_tag))
			strvec_push(&mine, h.h[i].snapshot);
	zfs_holds_release(&h);
	if (mine.n && zfs_hold_release(z, c->o->hold_tag, (const char *const *)mine.v, false) < 0)
		emit(c, REPL_EV_WARNING, d, "releasing old holds: %s", zfs_error(z));
	else if (mine.n)
		emit(c, REPL_EV_DEBUG, d, "released hold %s on %zu older snapshot(s)", c->o->hold_tag,
		     mine.n);
}

static int hold_one(struct ctx *c, struct zfs *z, const struct replan_ds *d, const char *snap)
{
	const char *const one[] = { snap, NULL };
	int r = zfs_hold(z, c->o->hold_tag, one, false);
	if (r == -EEXIST)
		return 0;
	if (r < 0)
		emit(c, REPL_EV_ERROR, d, "holding %s: %s", snap, zfs_error(z));
	return r;
}

char *replicate_bookmark_retry_name(const char *source, const char *snap,
				    const struct zfs_snap *sn, char **suffix)
{
	char *g = sn ? xasprintf("%llu", (unsigned long long)sn->guid) : xstrdup("0");
	g[strlen(g) > 6 ? 6 : strlen(g)] = '\0';
	*suffix = g;
	return xasprintf("%s#%s%s", source, snap, g);
}

static int after_sync(struct ctx *c, const struct replan_ds *d)
{
	int ret = 0;
	if (!d->final_snap)
		return 0;
	_cleanup_free_ char *ssnap = xasprintf("%s@%s", d->source, d->final_snap);
	_cleanup_free_ char *tsnap = xasprintf("%s@%s", d->target, d->final_snap);

	if (c->o->use_hold) {
		if (hold_one(c, c->src, d, ssnap) < 0 || hold_one(c, c->tgt, d, tsnap) < 0)
			ret = -EIO;
		else {
			release_others(c, c->src, d, true, d->source, d->final_snap);
			release_others(c, c->tgt, d, false, d->target, d->final_snap);
		}
	}
	if (c->o->create_bookmark && !c->o->take_sync_snap) {
		_cleanup_free_ char *bm = xasprintf("%s#%s", d->source, d->final_snap);
		int r = zfs_bookmark(c->src, ssnap, bm);
		if (r < 0) {
			/* a bookmark of that name exists: syncoid retries with a guid suffix */
			const struct zfs_tree *stt;
			const struct zfs_dataset *s = find_ds(c, true, d->source, &stt);
			const struct zfs_snap *sn = s ? zfs_dataset_find_snap(s, d->final_snap) : NULL;
			_cleanup_free_ char *g = NULL;
			free(bm);
			bm = replicate_bookmark_retry_name(d->source, d->final_snap, sn, &g);
			emit_about(c, REPL_EV_INFO, REPL_TOPIC_BOOKMARK_RETRY, d,
				   "bookmark creation failed, retrying with guid based suffix (%s)", g);
			if (zfs_bookmark(c->src, ssnap, bm) < 0) {
				emit(c, REPL_EV_ERROR, d, "creating bookmark %s: %s", bm, zfs_error(c->src));
				ret = -EIO;
			}
		}
	}
	if (c->sync_snap && !c->o->keep_sync_snap) {
		if (d->prune_source.n &&
		    zfs_destroy_snapshots(c->src, d->source, (const char *const *)d->prune_source.v) < 0)
			emit(c, REPL_EV_WARNING, d, "destroying old sync snapshots: %s", zfs_error(c->src));
		if (d->prune_target.n &&
		    zfs_destroy_snapshots(c->tgt, d->target, (const char *const *)d->prune_target.v) < 0)
			emit(c, REPL_EV_WARNING, d, "destroying old sync snapshots: %s", zfs_error(c->tgt));
	}
	if (d->delete_target.n) {
		emit(c, REPL_EV_INFO, d, "destroying %zu snapshot(s) of %s that the source no longer has",
		     d->delete_target.n, d->target);
		if (zfs_destroy_snapshots(c->tgt, d->target, (const char *const *)d->delete_target.v) < 0) {
			emit(c, REPL_EV_ERROR, d, "--delete-target-snapshots: %s", zfs_error(c->tgt));
			ret = -EIO;
		}
	}
	return ret;
}

/* ---- one dataset ---------------------------------------------------------- */

static const char *const *source_props(struct strvec *v)
{
	strvec_pushv(v, replan_source_props);
	strvec_pushv(v, extra_source_props);
	return (const char *const *)v->v;
}

/* List one dataset (not recursive) into a fresh tree. */
static int relist(struct zfs *z, const char *name, const char *const *props, struct zfs_tree *t)
{
	const char *const roots[] = { name, NULL };
	return zfs_list_tree(z, roots, ZFS_LIST_SNAPSHOTS | ZFS_LIST_BOOKMARKS, props, t);
}

void replicate_describe_step(struct strbuf *sb, const struct replan_ds *d,
			     const struct replan_step *st)
{
	switch (st->kind) {
	case REPLAN_STEP_RESUME:
		strbuf_addf(sb, "Resuming interrupted zfs send/receive from %s to %s", d->source,
			    d->target);
		break;
	case REPLAN_STEP_FULL:
		strbuf_addf(sb, "Sending oldest full snapshot %s to new target filesystem %s", st->to,
			    d->target);
		if (st->clone)
			strbuf_addf(sb, " (as a clone of %s)", st->from);
		break;
	case REPLAN_STEP_INCR:
		strbuf_addf(sb, "Sending incremental %s ... %s to %s", st->from,
			    strchr(st->to, '@') + 1, d->target);
		break;
	}
}

static int run_dataset(struct ctx *c, struct replan_ds *d, int depth);

static int replan_and_run(struct ctx *c, struct replan_ds *d, int depth)
{
	_cleanup_strvec_ struct strvec sp = STRVEC_INIT;
	struct zfs_tree st = ZFS_TREE_INIT, tt = ZFS_TREE_INIT;
	int r = relist(c->src, d->source, source_props(&sp), &st);
	if (r < 0) {
		emit(c, REPL_EV_ERROR, d, "%s", zfs_error(c->src));
		zfs_tree_release(&st);
		return r;
	}
	r = relist(c->tgt, d->target, replan_target_props, &tt);
	if (r < 0 && r != -ENOENT) {
		emit(c, REPL_EV_ERROR, d, "%s", zfs_error(c->tgt));
		zfs_tree_release(&st);
		zfs_tree_release(&tt);
		return r;
	}
	struct replan_ds nd = { 0 };
	_cleanup_free_ char *tname = xstrdup(d->target);
	replan_dataset(&st, zfs_tree_find(&st, d->source), &tt, zfs_tree_find(&tt, tname), &c->local,
		       &c->po, tname, &nd);
	/* the new listings override the run's for this dataset */
	c->extra = xreallocarray(c->extra, c->nextra + 2, sizeof(*c->extra));
	c->extra[c->nextra++] = (struct extra_tree){ st, true };
	c->extra[c->nextra++] = (struct extra_tree){ tt, false };
	replan_ds_release(d);
	*d = nd;
	return run_dataset(c, d, depth + 1);
}

static int run_dataset(struct ctx *c, struct replan_ds *d, int depth)
{
	if (depth > MAX_REPLANS) {
		emit(c, REPL_EV_ERROR, d, "giving up on %s after %d attempts", d->source, depth);
		return -ELOOP;
	}
	if (d->status == REPLAN_UPTODATE) {
		emit_about(c, REPL_EV_INFO, REPL_TOPIC_STATUS, d, "%s", d->message);
		/* still protect what both sides have, prune as asked */
		return after_sync(c, d) < 0 ? -EIO : 0;
	}
	if (d->status != REPLAN_SYNC) {
		emit_about(c, d->fail_warning ? REPL_EV_WARNING : REPL_EV_ERROR, REPL_TOPIC_STATUS, d,
			   "%s", d->message);
		return -EINVAL;
	}
	if (d->abort_partial) {
		if (d->abort_why)
			emit(c, REPL_EV_WARNING, d, "the resume token on %s %s: not resumed",
			     d->target, d->abort_why);
		emit_about(c, REPL_EV_INFO, REPL_TOPIC_RESET_PARTIAL, d,
			   "resetting partially receive state of %s", d->target);
		if (zfs_recv_abort(c->tgt, d->target) < 0) {
			emit(c, REPL_EV_ERROR, d, "%s", zfs_error(c->tgt));
			return -EIO;
		}
	}
	/* A child whose parent this run destroyed (-r) went with it: nothing to destroy. */
	if (d->destroy_target && zfs_exists(c->tgt, d->target) != 0) {
		emit_about(c, REPL_EV_INFO, REPL_TOPIC_DESTROY_TARGET, d,
			   "Removing %s because no matching snapshots were found", d->target);
		if (c->o->before_destroy) {
			_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
			if (c->o->before_destroy(c->o->before_destroy_data, d->target, &why) < 0) {
				emit(c, REPL_EV_ERROR, d, "cannot destroy %s: %s", d->target, why.buf);
				return -EIO;
			}
		}
		if (zfs_destroy(c->tgt, d->target, ZFS_DESTROY_RECURSIVE) < 0) {
			emit(c, REPL_EV_ERROR, d, "%s", zfs_error(c->tgt));
			return -EIO;
		}
	}
	if (d->destroy_conflicts.n) {
		for (size_t i = 0; i < d->destroy_conflicts.n; i++)
			emit(c, REPL_EV_WARNING, d, "removing existing destination: %s@%s", d->target,
			     d->destroy_conflicts.v[i]);
		if (zfs_destroy_snapshots(c->tgt, d->target,
					  (const char *const *)d->destroy_conflicts.v) < 0) {
			emit(c, REPL_EV_ERROR, d, "%s", zfs_error(c->tgt));
			return -EIO;
		}
	}
	if (d->rollback_to) {
		emit(c, REPL_EV_INFO, d, "rolling back %s to %s", d->target, d->rollback_to);
		if (zfs_rollback(c->tgt, d->rollback_to, true) < 0) {
			emit(c, REPL_EV_ERROR, d, "%s", zfs_error(c->tgt));
			return -EIO;
		}
	}
	for (size_t i = 0; i < d->nsteps; i++) {
		struct replan_step *st = &d->steps[i];
		_cleanup_strbuf_ struct strbuf what = STRBUF_INIT;
		uint64_t exp = estimate(c, d, st);
		replicate_describe_step(&what, d, st);
		emit_send(c, REPL_EV_STEP, d, st, exp == UINT64_MAX ? 0 : exp, 0, 0, what.buf);
		enum replicate_xfer x = transfer(c, d, st, exp == UINT64_MAX ? 0 : exp);
		if (x == REPL_XFER_FAILED && st->clone) {
			emit_about(c, REPL_EV_WARNING, REPL_TOPIC_CLONE_FALLBACK, d,
				   "receiving %s as a clone failed; sending it in full instead",
				   d->source);
			free(st->from);
			st->from = NULL;
			st->clone = false;
			x = transfer(c, d, st, 0);
		}
		if (x == REPL_XFER_PARTIAL_STATE) {
			emit_about(c, REPL_EV_WARNING, REPL_TOPIC_RESET_PARTIAL, d,
				   "resetting partially receive state of %s", d->target);
			if (zfs_recv_abort(c->tgt, d->target) < 0) {
				emit(c, REPL_EV_ERROR, d, "%s", zfs_error(c->tgt));
				return -EIO;
			}
			emit_send(c, REPL_EV_STEP, d, st, exp == UINT64_MAX ? 0 : exp, 0, 0, what.buf);
			x = transfer(c, d, st, exp == UINT64_MAX ? 0 : exp);
		}
		if (x == REPL_XFER_RESUME_GONE) {
			emit_about(c, REPL_EV_WARNING, REPL_TOPIC_RESUME_GONE, d,
				   "resetting partially receive state because the snapshot source "
				   "no longer exists");
			if (zfs_recv_abort(c->tgt, d->target) < 0) {
				emit(c, REPL_EV_ERROR, d, "%s", zfs_error(c->tgt));
				return -EIO;
			}
			return replan_and_run(c, d, depth);
		}
		if (x != REPL_XFER_OK)
			return -EIO;
		if (st->kind == REPLAN_STEP_RESUME)
			/* a resumed send only reaches its own snapshot: sync the rest */
			return replan_and_run(c, d, depth);
	}
	return after_sync(c, d) < 0 ? -EIO : 0;
}

/* ---- the run ------------------------------------------------------------- */

/* A pool can keep a partial receive: feature@extensible_dataset is on. */
static bool feature_on(const char *state)
{
	return state && (streq(state, "active") || streq(state, "enabled"));
}

static bool pool_resumable(struct zfs *z, const char *dataset)
{
	_cleanup_free_ char *pool = zfs_pool_of(dataset);
	_cleanup_free_ char *v = NULL;
	return zpool_get_prop(z, pool, "feature@extensible_dataset", &v) == 0 && feature_on(v);
}

/* Both pools resumable; one `zpool get` for both when both are on this host. */
static bool pools_resumable(struct ctx *c)
{
	if (!runner_is_local(c->src->run) || !runner_is_local(c->tgt->run))
		return pool_resumable(c->src, c->o->plan.source_root) &&
		       pool_resumable(c->tgt, c->o->plan.target_root);
	_cleanup_free_ char *sp = zfs_pool_of(c->o->plan.source_root);
	_cleanup_free_ char *tp = zfs_pool_of(c->o->plan.target_root);
	const char *pools[2] = { sp, tp };
	size_t n = streq(sp, tp) ? 1 : 2;
	char *v[2] = { NULL, NULL };
	bool on = zpool_get_prop_pools(c->src, "feature@extensible_dataset", pools, n, v) == 0 &&
		  feature_on(v[0]) && (n == 1 || feature_on(v[1]));
	free(v[0]);
	free(v[1]);
	return on;
}

static void describe_protection(struct ctx *c, const struct replan_ds *d, struct strbuf *sb)
{
	if (!d->final_snap || d->status != REPLAN_SYNC)
		return;
	if (c->o->use_hold)
		strbuf_addf(sb, "  then hold %s on %s@%s and %s@%s, release it elsewhere\n",
			    c->o->hold_tag, d->source, d->final_snap, d->target, d->final_snap);
	if (c->o->create_bookmark && !c->o->take_sync_snap)
		strbuf_addf(sb, "  then bookmark %s@%s as #%s\n", d->source, d->final_snap,
			    d->final_snap);
}

static void ctx_release(struct ctx *c)
{
	zfs_tree_release(&c->stree);
	zfs_tree_release(&c->ttree);
	for (size_t i = 0; i < c->nextra; i++)
		zfs_tree_release(&c->extra[i].t);
	free(c->extra);
	c->extra = NULL;
	c->nextra = 0;
	zfs_props_release(&c->local);
	free(c->sync_snap);
	c->sync_snap = NULL;
}

/* The run's listings: both trees once each, the source's local properties. */
static int list_both(struct ctx *c, struct strbuf *err)
{
	const struct replicate_opts *o = c->o;
	_cleanup_strvec_ struct strvec sprops = STRVEC_INIT;
	const char *const sroots[] = { o->plan.source_root, NULL };
	const char *const troots[] = { o->plan.target_root, NULL };
	unsigned flags = ZFS_LIST_SNAPSHOTS | ZFS_LIST_BOOKMARKS |
			 (o->plan.recursive ? ZFS_LIST_RECURSIVE : 0);
	int r = zfs_list_tree(c->src, sroots, flags, source_props(&sprops), &c->stree);
	if (r < 0) {
		strbuf_addf(err, "listing the source: %s", zfs_error(c->src));
		return r;
	}
	r = zfs_list_tree(c->tgt, troots, flags, replan_target_props, &c->ttree);
	if (r < 0 && r != -ENOENT) {
		strbuf_addf(err, "listing the target: %s", zfs_error(c->tgt));
		return r;
	}
	if (o->plan.preserve_properties) {
		r = zfs_get_props(c->src, sroots, o->plan.recursive, NULL, ZFS_SRC_LOCAL, &c->local);
		if (r < 0) {
			strbuf_addf(err, "reading the source's properties: %s", zfs_error(c->src));
			return r;
		}
	}
	return 0;
}

/* --dry-run: the plan of every dataset as a REPL_EV_PLAN event, counted as if done. */
static void report_plan(struct ctx *c, struct replan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		struct replan_ds *d = &plan->ds[i];
		_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
		_cleanup_free_ uint64_t *est = xcalloc(d->nsteps + 1, sizeof(uint64_t));
		for (size_t k = 0; k < d->nsteps; k++)
			est[k] = estimate(c, d, &d->steps[k]);
		if (d->take_sync_snap && c->sync_snap)
			strbuf_addf(&sb, "%s: take snapshot %s@%s\n", d->source, d->source,
				    c->sync_snap);
		replan_describe(d, est, &sb);
		describe_protection(c, d, &sb);
		emit(c, REPL_EV_PLAN, d, "%s", sb.buf);
		switch (d->status) {
		case REPLAN_SYNC: c->res->synced++; break;
		case REPLAN_UPTODATE: c->res->uptodate++; break;
		case REPLAN_SKIP: c->res->skipped++; break;
		case REPLAN_FAIL: c->res->failed++; break;
		}
	}
}

/* Take the sync snapshots (one atomic zfs snapshot), then run every dataset. */
/* ---- one dataset, or several at once ---------------------------------------- */

enum ds_outcome { DS_SYNCED, DS_UPTODATE, DS_SKIPPED, DS_FAILED };

static int run_one(struct ctx *c, struct replan_ds *d)
{
	if (d->status == REPLAN_SKIP) {
		emit_about(c, REPL_EV_INFO, REPL_TOPIC_STATUS, d, "%s", d->message);
		return DS_SKIPPED;
	}
	bool uptodate = d->status == REPLAN_UPTODATE;
	if (run_dataset(c, d, 0) < 0)
		return DS_FAILED;
	return uptodate ? DS_UPTODATE : DS_SYNCED;
}

static void count_outcome(struct replicate_result *res, int outcome)
{
	switch (outcome) {
	case DS_SYNCED: res->synced++; break;
	case DS_UPTODATE: res->uptodate++; break;
	case DS_SKIPPED: res->skipped++; break;
	default: res->failed++; break;
	}
}

struct parallel {
	struct ctx *c;
	struct replan *plan;
	size_t first_unfinished; /* every dataset before it has finished */
};

/*
 * Whether dataset i may start while the datasets before it that are not
 * finished run: not while one of them is its target's ancestor or
 * descendant (a parent is received, destroyed or rolled back before its
 * children), nor before its clone origin's dataset.
 */
static bool parallel_may_start(void *data, size_t i, const bool *finished)
{
	struct parallel *p = data;
	const struct replan_ds *d = &p->plan->ds[i];
	while (p->first_unfinished < i && finished[p->first_unfinished])
		p->first_unfinished++;
	for (size_t j = p->first_unfinished; j < i; j++) {
		const struct replan_ds *e = &p->plan->ds[j];
		if (finished[j] || e->status == REPLAN_SKIP)
			continue;
		if (j == d->origin_index || zfs_name_within(d->target, e->target) ||
		    zfs_name_within(e->target, d->target))
			return false;
	}
	return true;
}

/*
 * In the dataset's own process: its outcome, the bytes it moved in *value.
 * Its transfers get 1/jobs of the bandwidth limit: the limit is the run's.
 */
static int parallel_run(void *data, size_t i, uint64_t *value)
{
	const struct parallel *p = data;
	struct replicate_opts share = *p->c->o;
	share.bwlimit = share.bwlimit / share.jobs + (share.bwlimit % share.jobs != 0);
	p->c->o = &share;
	uint64_t before = p->c->res->bytes;
	int outcome = run_one(p->c, &p->plan->ds[i]);
	*value = p->c->res->bytes - before;
	return outcome;
}

static void parallel_done(void *data, size_t i, int outcome, uint64_t value)
{
	const struct parallel *p = data;
	if (outcome == FORKED_TASK_LOST)
		emit(p->c, REPL_EV_ERROR, &p->plan->ds[i],
		     "replicating %s did not finish: its process could not start, failed or was "
		     "killed", p->plan->ds[i].source);
	count_outcome(p->c->res, outcome);
	p->c->res->bytes += value;
}

/* Up to o->jobs datasets at once, each in a process of its own; the output in plan order. */
static int execute_parallel(struct ctx *c, struct replan *plan, struct strbuf *err)
{
	struct parallel p = { c, plan, 0 };
	const struct forked_tasks_ops ops = {
		.may_start = parallel_may_start, .run = parallel_run, .done = parallel_done,
	};
	int r = forked_tasks_run(plan->n, c->o->jobs, &ops, &p);
	if (r < 0)
		strbuf_addf(err, "waiting for the datasets' processes: %s", strerror(-r));
	return r;
}

static int execute_plan(struct ctx *c, struct replan *plan, struct strbuf *err)
{
	struct replicate_result *res = c->res;
	_cleanup_strvec_ struct strvec snaps = STRVEC_INIT;
	for (size_t i = 0; i < plan->n; i++)
		if (plan->ds[i].take_sync_snap && c->sync_snap)
			strvec_pushf(&snaps, "%s@%s", plan->ds[i].source, c->sync_snap);

	c->resumable = c->o->plan.resume && pools_resumable(c);

	if (snaps.n) {
		int r = zfs_snapshot(c->src, (const char *const *)snaps.v, false, NULL);
		if (r < 0) {
			strbuf_addf(err, "taking the sync snapshot: %s", zfs_error(c->src));
			return r;
		}
		emit(c, REPL_EV_DEBUG, NULL, "took %zu sync snapshot(s) %s", snaps.n, c->sync_snap);
	}

	if (c->o->jobs > 1 && plan->n > 1)
		return execute_parallel(c, plan, err);
	for (size_t i = 0; i < plan->n; i++) {
		int outcome = run_one(c, &plan->ds[i]);
		count_outcome(res, outcome);
	}
	return 0;
}

int replicate_run(struct zfs *src, struct zfs *tgt, const struct replicate_opts *o,
		  struct replicate_result *res, struct strbuf *err)
{
	_cleanup_release_(ctx) struct ctx c = {
		.src = src, .tgt = tgt, .o = o, .po = o->plan, .res = res,
		.stree = ZFS_TREE_INIT, .ttree = ZFS_TREE_INIT,
	};
	_cleanup_release_(replan) struct replan plan = REPLAN_INIT;

	memset(res, 0, sizeof(*res));
	int r = list_both(&c, err);
	if (r < 0)
		return r;
	if (o->take_sync_snap) {
		_cleanup_free_ char *p = xstrdup(o->sync_prefix);
		c.sync_snap = syncsnap_name(p, o->now);
	}
	c.po.sync_snap = c.sync_snap;
	c.po.sync_prefix = o->sync_prefix;
	r = replan_build(&c.stree, &c.ttree, &c.local, &c.po, &plan, err);
	if (r < 0)
		return r;
	if (o->dry_run) {
		report_plan(&c, &plan);
		return 0;
	}
	return execute_plan(&c, &plan, err);
}

int replicate_snapshot_needed(struct zfs *z, const char *snapshot)
{
	const char *const one[] = { snapshot, NULL };
	struct zfs_holds h = { 0 };
	int r = zfs_list_holds(z, one, false, &h);
	if (r < 0)
		return r;
	int needed = 0;
	for (size_t i = 0; i < h.n; i++)
		if (syncsnap_hold_tag_protects(h.h[i].tag))
			needed = 1;
	zfs_holds_release(&h);
	return needed;
}
