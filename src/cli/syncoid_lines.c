/* cli/syncoid_lines.c - see syncoid_lines.h. The words are syncoid 2.3.0's (its
 * writelog() calls), typos and spacing included: scripts grep them. */
#include "base/zkeep.h"
#include "cli/syncoid_lines.h"

#include <assert.h>

void syncoid_lines_init(struct syncoid_lines *l)
{
	l->n = 0;
	for (size_t i = 0; i < SYNCOID_MAX_LINES; i++)
		l->text[i] = (struct strbuf)STRBUF_INIT;
}

void syncoid_lines_release(struct syncoid_lines *l)
{
	for (size_t i = 0; i < SYNCOID_MAX_LINES; i++)
		strbuf_release(&l->text[i]);
	l->n = 0;
}

static struct strbuf *line(struct syncoid_lines *l, int level)
{
	assert(l->n < SYNCOID_MAX_LINES);
	l->level[l->n] = level;
	return &l->text[l->n++];
}

void syncoid_size(struct strbuf *sb, uint64_t bytes)
{
	if (bytes == 0) {
		strbuf_addstr(sb, "UNKNOWN");
		return;
	}
	if (bytes < 4096)
		bytes = 4096; /* getsendsize(): "to avoid confusion with a zero size pv" */
	if (bytes > 1024ull * 1024 * 1024)
		strbuf_addf(sb, "%.1f GB", (double)bytes / 1024 / 1024 / 1024);
	else if (bytes > 1024ull * 1024)
		strbuf_addf(sb, "%.1f MB", (double)bytes / 1024 / 1024);
	else
		strbuf_addf(sb, "%llu KB", (unsigned long long)(bytes / 1024));
}

/* buildnicename(): "[user@]host:name" for a remote side. */
static char *nice_name(const char *host, const char *name)
{
	return host ? xasprintf("%s:%s", host, name) : xstrdup(name);
}

/* syncfull(), syncincremental(), syncclone(), syncresume(), syncbookmark(). */
static void step_lines(const struct syncoid_run *run, const struct replicate_event *ev,
		       struct syncoid_lines *out)
{
	const struct replan_step *st = ev->step;
	_cleanup_strbuf_ struct strbuf size = STRBUF_INIT;
	syncoid_size(&size, ev->expected_bytes);
	_cleanup_free_ char *tgt = nice_name(run->target_host, ev->target);
	_cleanup_free_ char *from = st->from ? nice_name(run->source_host, st->from) : NULL;
	_cleanup_free_ char *to = st->to ? nice_name(run->source_host, st->to) : NULL;
	struct strbuf *sb;
	switch (st->kind) {
	case REPLAN_STEP_RESUME: {
		_cleanup_free_ char *src = nice_name(run->source_host, ev->source);
		strbuf_addf(line(out, LOG_LVL_NOTICE),
			    "Resuming interrupted zfs send/receive from %s to %s (~ %s remaining):",
			    src, tgt, size.buf);
		break;
	}
	case REPLAN_STEP_FULL:
		sb = line(out, LOG_LVL_NOTICE);
		if (st->clone)
			strbuf_addf(sb, "Clone is recreated on target %s based on %s (~ %s):", tgt,
				    from, size.buf);
		else if (run->no_stream)
			strbuf_addf(sb,
				    "--no-stream selected; sending newest full snapshot %s to new "
				    "target filesystem %s: (~ %s)",
				    to, tgt, size.buf);
		else
			strbuf_addf(sb,
				    "Sending oldest full snapshot %s to new target filesystem %s (~ %s):",
				    to, tgt, size.buf);
		break;
	case REPLAN_STEP_INCR: {
		/* a filtered -I is a chain of -i sends, announced once at its start */
		const struct replan_ds *d = ev->ds;
		size_t i = d ? (size_t)(st - d->steps) : 0;
		bool chain_start = !st->from_bookmark &&
				   (i == 0 || d->steps[i - 1].kind != REPLAN_STEP_INCR ||
				    d->steps[i - 1].from_bookmark);
		if (run->snaps_filtered && !run->no_stream && chain_start)
			strbuf_addstr(line(out, LOG_LVL_NOTICE),
				      "--no-stream is omitted but snaps are filtered. Simulating -I "
				      "with filtered snaps");
		const char *tosnap = strchr(st->to, '@') + 1;
		sb = line(out, LOG_LVL_NOTICE);
		if (st->from_bookmark)
			strbuf_addf(sb, "Sending incremental %s ... %s to %s:", from, tosnap, tgt);
		else
			strbuf_addf(sb, "Sending incremental %s ... %s to %s (~ %s):", from, tosnap,
				    tgt, size.buf);
		break;
	}
	}
	if (!st->from_bookmark)
		strbuf_addf(line(out, LOG_LVL_DEBUG), "sync size: ~%s", size.buf);
}

/* What syncdataset() says about a dataset it skips, finds up to date or gives up on. */
static void status_lines(const struct syncoid_run *run, const struct replicate_event *ev,
			 struct syncoid_lines *out)
{
	const struct replan_ds *d = ev->ds;
	const char *why;
	switch (d->status) {
	case REPLAN_UPTODATE:
		strbuf_addf(line(out, LOG_LVL_NOTICE),
			    "no snapshots on source newer than %s on target. Nothing to do, not "
			    "syncing.",
			    d->final_snap);
		break;
	case REPLAN_SKIP:
		/* syncoid:sync says no; --exclude-datasets and --skip-parent are debug lines */
		why = d->message ? skip_prefix(d->message, "skipping dataset (") : NULL;
		if (why)
			strbuf_addf(line(out, LOG_LVL_NOTICE), "Skipping dataset (%s...", why);
		break;
	case REPLAN_FAIL:
		if (d->fail_warning) {
			/* the planner's message is syncoid's own warning */
			strbuf_addstr(line(out, LOG_LVL_WARNING), d->message);
		} else if (!d->final_snap && run->recursive) {
			strbuf_addstr(line(out, LOG_LVL_WARNING),
				      "--no-sync-snap is set, and getnewestsnapshot() could not find "
				      "any snapshots on source for current dataset. Continuing.");
			strbuf_addf(line(out, LOG_LVL_WARNING),
				    "CRITICAL: no snapshots exist on source %s, and you asked for "
				    "--no-sync-snap.",
				    d->source);
		} else if (!d->final_snap) {
			strbuf_addstr(line(out, SYNCOID_RAW),
				      "CRIT: --no-sync-snap is set, and getnewestsnapshot() could not "
				      "find any snapshots on source!");
		} else if (d->target_exists && !d->common) {
			/* a <<~ here-document whose lines keep one tab more than its end, chomped once */
			strbuf_addf(line(out, LOG_LVL_ERROR),
				    "\n\tTarget %s exists but has no snapshots matching with %s!\n"
				    "\tReplication to target would require destroying existing\n"
				    "\ttarget. Cowardly refusing to destroy your existing target.\n",
				    d->target, d->source);
		}
		break;
	case REPLAN_SYNC:
		break;
	}
}

size_t syncoid_event_lines(const struct syncoid_run *run, const struct replicate_event *ev,
			   struct syncoid_lines *out)
{
	for (size_t i = 0; i < out->n; i++)
		strbuf_reset(&out->text[i]);
	out->n = 0;
	if (ev->kind == REPL_EV_STEP && ev->step) {
		step_lines(run, ev, out);
		return out->n;
	}
	if (!ev->ds)
		return 0;
	switch (ev->topic) {
	case REPL_TOPIC_NONE:
		break;
	case REPL_TOPIC_STATUS:
		status_lines(run, ev, out);
		break;
	case REPL_TOPIC_DESTROY_TARGET:
		strbuf_addf(line(out, LOG_LVL_NOTICE),
			    "Removing %s because no matching snapshots were found", ev->target);
		break;
	case REPL_TOPIC_RESET_PARTIAL:
		strbuf_addstr(line(out, LOG_LVL_WARNING), "resetting partially receive state");
		strbuf_addf(line(out, LOG_LVL_DEBUG), "reset partial receive state of %s...",
			    ev->target);
		break;
	case REPL_TOPIC_RESUME_GONE:
		strbuf_addstr(line(out, LOG_LVL_WARNING),
			      "resetting partially receive state because the snapshot source no "
			      "longer exists");
		strbuf_addf(line(out, LOG_LVL_DEBUG), "reset partial receive state of %s...",
			    ev->target);
		break;
	case REPL_TOPIC_CLONE_FALLBACK:
		strbuf_addstr(line(out, LOG_LVL_NOTICE),
			      "clone creation failed, trying ordinary replication as fallback");
		break;
	case REPL_TOPIC_BOOKMARK_RETRY:
		strbuf_addf(line(out, LOG_LVL_NOTICE), "%s...", ev->message);
		break;
	}
	return out->n;
}
