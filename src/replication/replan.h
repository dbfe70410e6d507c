/*
 * replication/replan.h - replication planning (pure: no I/O, no clock).
 *
 * Input: ONE listing of the source tree and ONE of the target tree
 * (zfs_list_tree with snapshots and bookmarks and the properties in
 * replan_source_props / replan_target_props), the source's locally set
 * properties when --preserve-properties is on, and the options. Output: a
 * plan per dataset - what to destroy or roll back first, the sends in order,
 * what to prune afterwards - that the engine (replicate.h) executes and
 * --dry-run prints.
 *
 * Rules (syncoid 2.3, see docs/replicate.md):
 * - Snapshots are ordered by createtxg, then creation time.
 * - The newest common snapshot is found by guid. When the source no longer
 *   has it but has a bookmark with the guid of a target snapshot, the first
 *   send starts at that bookmark (-i, to the next snapshot), then goes on.
 * - Incremental sends use -I (every intermediate snapshot) unless no_stream
 *   (-i to the newest only).
 * - --include-snaps/--exclude-snaps filter the snapshot lists of BOTH sides
 *   before anything is decided, as syncoid's getsnaps() does: the common
 *   snapshot is the newest included one, what is sent is the included ones,
 *   one -i step at a time (unless no_stream), and the sync snapshot, when it
 *   is not included, is neither sent nor pruned (taken all the same with
 *   o->syncoid, as syncoid does; not taken otherwise).
 * - A target snapshot with the name of a snapshot to send (another guid)
 *   makes that receive fail ("destination already exists"); force_delete
 *   destroys such snapshots first (syncoid: "removing existing destination").
 * - A partial receive (resume token) is resumed; without resume it is
 *   discarded first, except with o->syncoid: then the receive fails on it
 *   and the engine resets it and retries, and an interrupted full receive is
 *   a target with nothing in common, as in syncoid 2.3.0.
 * - A target that does not exist gets a full send of the oldest snapshot and
 *   an incremental to the newest (no_stream: a full send of the newest).
 * - A target with snapshots newer than the common one is rolled back only
 *   when allow_rollback; otherwise the dataset fails with a message.
 * - A target with no common snapshot fails unless force_delete, which
 *   destroys it and sends in full - never a pool's root dataset.
 * - sync_snap (when set) is the short name of the snapshot this run takes on
 *   every planned source dataset before sending: the plan counts it as the
 *   newest source snapshot.
 *
 * Ownership: the plan owns every string in it; replan_release() frees it all.
 */
#ifndef ZKEEP_REPLAN_H
#define ZKEEP_REPLAN_H

#include "base/zkeep.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "zfs/zfs.h"

#include <regex.h>

/* Properties replan needs in the listings (NULL-terminated). */
extern const char *const replan_source_props[]; /* syncoid:sync origin recordsize userrefs */
extern const char *const replan_target_props[]; /* receive_resume_token userrefs */

#define REPLAN_MAX_REGEX 64

struct replan_opts {
	const char *source_root, *target_root;
	bool recursive, skip_parent;
	const regex_t *exclude_datasets; /* matched against full source names */
	size_t n_exclude_datasets;
	const regex_t *include_snaps;    /* matched against short snapshot names */
	size_t n_include_snaps;
	const regex_t *exclude_snaps;
	size_t n_exclude_snaps;
	bool no_stream;
	bool resume;          /* resume an interrupted receive (not --no-resume) */
	bool allow_rollback;  /* roll back target snapshots newer than the common one; recv -F */
	bool force_delete;
	bool delete_target_snapshots;
	bool clone_handling;
	bool preserve_properties; /* needs `local` in replan_build */
	bool preserve_recordsize;
	const char *hostname;     /* for the syncoid:sync property */
	const char *sync_snap;    /* short name of the snapshot this run takes, or NULL */
	const char *sync_prefix;  /* prune older sync snapshots with this prefix, or NULL */
	bool syncoid;             /* word refusals as syncoid 2.3.0 does */
};

enum replan_step_kind {
	REPLAN_STEP_FULL,   /* zfs send [-i origin] to */
	REPLAN_STEP_INCR,   /* zfs send -i|-I from to */
	REPLAN_STEP_RESUME, /* zfs send -t token */
};

struct replan_step {
	enum replan_step_kind kind;
	char *from;          /* full name: "fs@a", "fs#a" or, for a clone, the origin snapshot */
	char *to;            /* full name of the source snapshot; NULL for resume */
	bool intermediates;  /* -I */
	bool from_bookmark;  /* from is a bookmark */
	bool clone;          /* full send of a clone, from its origin (may fall back to plain) */
	char *token;         /* resume token */
};

enum replan_status {
	REPLAN_SYNC,     /* there is something to do */
	REPLAN_UPTODATE, /* the target has the newest source snapshot */
	REPLAN_SKIP,     /* not replicated (syncoid:sync, excluded, --skip-parent) */
	REPLAN_FAIL,     /* cannot be replicated: message says why */
};

struct replan_ds {
	char *source, *target;
	enum zfs_type type;      /* of the source: filesystem or volume */
	enum replan_status status;
	char *message;           /* SKIP, FAIL, UPTODATE: why (for the log) */
	bool fail_warning;       /* FAIL said as a warning (syncoid's WARN) */
	bool take_sync_snap;     /* the run takes opts.sync_snap on this source (syncoid: even unsent) */
	bool target_exists;
	bool abort_partial;      /* zfs receive -A target first (a token, but --no-resume) */
	char *abort_why;         /* with abort_partial: why the token was not resumed, or NULL */
	bool destroy_target;     /* --force-delete: zfs destroy -r target first */
	char *rollback_to;       /* zfs rollback -R this target snapshot first, or NULL */
	struct strvec destroy_conflicts; /* short names: target snapshots named like a snapshot
					  * to send (--force-delete), destroyed first */
	bool recv_force;         /* receive -F */
	bool resume_then_replan; /* the steps only resume; plan again afterwards */
	char *common;            /* full name of the newest common source snapshot/bookmark, or NULL */
	char *common_target;     /* full name of its target snapshot, or NULL */
	char *final_snap;        /* short name of the newest snapshot sent, or NULL */
	struct replan_step *steps;
	size_t nsteps;
	struct strvec recv_set_props;  /* "k=v" for receive -o (--preserve-*) */
	struct strvec prune_source;    /* short names: older sync snapshots, after success */
	struct strvec prune_target;
	struct strvec delete_target;   /* short names: --delete-target-snapshots, after success */
	size_t origin_index;           /* index in the plan of the clone origin's dataset, or SIZE_MAX */
};

struct replan {
	struct replan_ds *ds; /* origins before their clones, parents before children */
	size_t n;
};
#define REPLAN_INIT { .ds = NULL, .n = 0 }

/*
 * Plan every dataset under o->source_root (just the root unless recursive).
 * src must contain source_root; tgt may be empty (target missing). local
 * may be NULL unless preserve_properties. 0, or -EINVAL / -ENOENT with a
 * message in err when the plan cannot be made at all (source root missing).
 */
int replan_build(const struct zfs_tree *src, const struct zfs_tree *tgt,
		 const struct zfs_props *local, const struct replan_opts *o, struct replan *out,
		 struct strbuf *err);

/*
 * (Re)plan one dataset: s from the source tree, t from the target tree (NULL
 * when the target does not exist). Fills d, which must be zeroed or freed.
 */
void replan_dataset(const struct zfs_tree *src, const struct zfs_dataset *s,
		    const struct zfs_tree *tgt, const struct zfs_dataset *t,
		    const struct zfs_props *local, const struct replan_opts *o, const char *target_name,
		    struct replan_ds *d);

void replan_ds_release(struct replan_ds *d);
void replan_release(struct replan *p);

/* The target name of a source dataset: target_root + the part below source_root. */
char *replan_target_name(const char *source_root, const char *target_root, const char *source);

/* Whether a locally set property may be re-applied with receive -o. */
bool replan_prop_preservable(const char *name);

/*
 * Human description of one dataset's plan, one line per action, for
 * --dry-run. estimates (may be NULL) has one entry per step: bytes, or
 * UINT64_MAX when unknown.
 */
void replan_describe(const struct replan_ds *d, const uint64_t *estimates, struct strbuf *out);

/* ---- is the target busy? ------------------------------------------------- */

/*
 * Whether a command line (argv, n words, as in /proc/PID/cmdline) is a
 * `zfs receive` (or `zfs recv`, possibly under sudo) that writes into
 * target: its dataset argument is target or a dataset under it, or it
 * receives with -d/-e into a parent of target. syncoid 2.3 refuses to start
 * on such a target ("already target of a zfs receive process"); so does zkeep.
 */
bool replan_argv_receives_into(const char *const *argv, size_t n, const char *target);

/*
 * The lock file name (no directory) of replications into target (the TARGET
 * argument as given, "[[user@]host:]dataset"): "replicate-" + target with
 * every byte outside [A-Za-z0-9._-] written as %XX; over 200 bytes, cut and
 * followed by a hash of the whole, so it always fits a file name.
 */
void replan_lock_name(const char *target, struct strbuf *out);

#endif
