/*
 * replication/replicate.h - the replication engine: executes plans (replan.h) through
 * the ZFS backend (zfs.h) of a source and a target, which may be the same
 * host or another one (ssh.h runners).
 *
 * One run: list the source tree and the target tree once each, plan, take
 * the sync snapshot of every planned dataset in ONE atomic `zfs snapshot`,
 * then per dataset: discard/destroy/roll back as planned, and for each step
 * `zfs send` -> pump (pump.h) -> `zfs receive` (-s when both pools support
 * resumable receives, -F when rolling back is allowed). An interrupted
 * receive (receive_resume_token) is resumed with `zfs send -t`; when its
 * snapshot is gone ("used in the initial send no longer exists",
 * "incremental source ... no longer exists") the partial state is discarded
 * with `zfs receive -A` and the dataset is synced normally. After a good
 * sync: holds (--use-hold), bookmark (--create-bookmark), older sync
 * snapshots of this prefix destroyed on both sides (unless --keep-sync-snap),
 * target-only snapshots destroyed (--delete-target-snapshots).
 *
 * Protection: with use_hold, the newest snapshot both sides have is held on
 * both sides with hold_tag after each good sync and the tag is released from
 * every other snapshot, so at any time exactly the snapshot the next
 * incremental needs is held - no pruner can destroy it and force a full
 * resend - and nothing else stays held. A dataset that is not replicated
 * any more keeps its last hold until `zfs release TAG` (documented).
 *
 * The engine never logs: it reports through opts->event (which may be NULL).
 * It returns 0 when the run happened (see the result for per-dataset
 * failures) or -errno with a message in err when nothing could be done
 * (source missing, listing failed, sync snapshot failed).
 */
#ifndef ZKEEP_REPLICATE_H
#define ZKEEP_REPLICATE_H

#include "base/zkeep.h"
#include "replication/replan.h"
#include "replication/pump.h"
#include "replication/sendopts.h"
#include "zfs/zfs.h"

enum replicate_event_kind {
	REPL_EV_INFO,       /* message: something done or skipped */
	REPL_EV_WARNING,    /* message: something went wrong, the run goes on */
	REPL_EV_ERROR,      /* message: a dataset failed */
	REPL_EV_PLAN,       /* message: the description of one dataset's plan (dry run) */
	REPL_EV_SEND_START, /* source/target/from/to/expected_bytes */
	REPL_EV_PROGRESS,   /* bytes/expected_bytes/rate/eta */
	REPL_EV_SEND_DONE,  /* bytes, seconds */
	REPL_EV_DEBUG,      /* message: a command about to run */
	REPL_EV_STEP,       /* message: a send about to start (ds, step, expected_bytes) */
};

/* What a message is about, for printers that word it as another tool does
 * (cli/syncoid_lines.h); the message is zkeep's own words. */
enum replicate_topic {
	REPL_TOPIC_NONE,
	REPL_TOPIC_STATUS,         /* ds->message: skipped, failed or up to date */
	REPL_TOPIC_DESTROY_TARGET, /* a target that shares nothing is destroyed */
	REPL_TOPIC_RESET_PARTIAL,  /* a partial receive is discarded (zfs receive -A) */
	REPL_TOPIC_RESUME_GONE,    /* the same, as the resumed snapshot is gone */
	REPL_TOPIC_CLONE_FALLBACK, /* a clone is sent in full instead */
	REPL_TOPIC_BOOKMARK_RETRY, /* a bookmark is made under a guid-suffixed name */
};

struct replicate_event {
	enum replicate_event_kind kind;
	const char *source, *target; /* datasets, or NULL */
	const char *from, *to;       /* for sends: snapshots (from NULL = full; to NULL = resume) */
	const char *message;
	uint64_t bytes, expected_bytes; /* expected 0 = unknown */
	double rate, eta, seconds;
	enum replicate_topic topic;
	const struct replan_ds *ds;     /* the dataset's plan, or NULL */
	const struct replan_step *step; /* REPL_EV_STEP: the send */
};

struct replicate_opts {
	struct replan_opts plan;      /* roots, recursion, rules; plan.sync_snap is set by the engine */
	bool take_sync_snap;          /* not --no-sync-snap */
	bool keep_sync_snap;
	bool create_bookmark;
	bool use_hold;
	const char *hold_tag;         /* with use_hold */
	const char *sync_prefix;      /* "syncoid_[ID_]HOST" */
	time_t now;                   /* names the sync snapshot */
	const struct sendopts *send, *recv; /* may be NULL */
	bool dry_run;                 /* plan, estimate, print; change nothing */
	bool no_estimate;             /* nobody reads sizes or progress: no zfs send -nvP
				       * per send (the dry run still estimates) */
	unsigned jobs;                /* datasets replicated at once, each in a process of
				       * its own (forked_tasks.h: the output stays in plan
				       * order) whose transfers get 1/jobs of bwlimit;
				       * 0 or 1: one after the other, in-process */
	size_t buffer_size;           /* pump ring, 0 = default */
	uint64_t bwlimit;             /* bytes/s, 0 = none */
	/* Stream compression on the wire: src_codec when the source is remote
	 * (it compresses, we decompress), tgt_codec when the target is remote.
	 * NONE for a local side. */
	struct pump_codec src_codec, tgt_codec;
	void (*event)(const struct replicate_event *ev, void *data);
	void *event_data;
	/*
	 * Before `zfs destroy -r` of a target (--force-delete): may unmount it
	 * (a confined worker asks root, which Linux cannot delegate). 0 or
	 * -errno with the reason in err (the destroy is not tried). NULL: none.
	 */
	int (*before_destroy)(void *data, const char *dataset, struct strbuf *err);
	void *before_destroy_data;
};

struct replicate_result {
	unsigned synced, uptodate, skipped, failed;
	uint64_t bytes;
};

int replicate_run(struct zfs *src, struct zfs *tgt, const struct replicate_opts *o,
		  struct replicate_result *res, struct strbuf *err);

/* ---- for pruning: is a snapshot needed by a replication? ---------------- */

/*
 * Whether a snapshot (full name) carries a replication hold: 1 yes, 0 no,
 * -errno with the message in zfs_error(z). One `zfs holds` call; callers
 * with many snapshots should list holds once (zfs_list_holds) and use
 * syncsnap_hold_tag_protects() (syncsnap.h) on each.
 */
int replicate_snapshot_needed(struct zfs *z, const char *snapshot);

/*
 * The engine's pure decisions: they take what a run saw and say what it does
 * next. Public so that tests/unit/test_replicate.c reaches them without a pool.
 */

/* How one send -> pump -> receive ended. */
enum replicate_xfer {
	REPL_XFER_OK,
	REPL_XFER_FAILED,
	REPL_XFER_RESUME_GONE,    /* a resume whose snapshot is gone: abort it, replan */
	REPL_XFER_PARTIAL_STATE,  /* the target holds a partial receive: abort it, retry */
};
/*
 * From the three parts' results (0 or -errno) and the stderr of zfs send and
 * zfs receive; resume_step: the step was a `zfs send -t`; resumable: the run
 * receives with -s.
 */
enum replicate_xfer replicate_xfer_outcome(int send_rc, int recv_rc, int pump_rc,
					   bool resume_step, bool resumable,
					   const char *send_err, const char *recv_err);

/* The line that announces a step ("Sending incremental a ... b to t"). */
void replicate_describe_step(struct strbuf *sb, const struct replan_ds *d,
			     const struct replan_step *st);

/*
 * The bookmark syncoid makes when SOURCE#SNAP exists already: the name with
 * the first six digits of the snapshot's guid appended ("0" when the snapshot
 * is not in the listing, sn NULL). Returns the name; *suffix gets the digits.
 */
char *replicate_bookmark_retry_name(const char *source, const char *snap,
				    const struct zfs_snap *sn, char **suffix);

/*
 * Snapshots of ds, other than keep, with user holds (userrefs, the listing's
 * property at index userrefs, is not "0"): those whose hold of our tag is
 * released after a good sync. Full names appended to out.
 */
void replicate_held_snapshots(const struct zfs_dataset *ds, ssize_t userrefs, const char *keep,
			      struct strvec *out);

#endif
