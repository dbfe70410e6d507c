/*
 * snapshots/snapshot_engine.h - taking, pruning and monitoring snapshots by sanoid
 * policy, shared by the `sanoid` personality and `zkeep snapshot|prune|
 * status|metrics|config check`.
 *
 * One run: engine_open() loads the config (sanoid_config.h), takes the run
 * locks it needs, reads every configured dataset with its snapshots in ONE
 * `zfs list` (or from the cache file, see below) and resolves the policy of
 * each dataset. Then engine_take(), engine_prune() and the monitors, in any
 * combination, and engine_release().
 *
 * Taking: for every dataset with something due (schedule.h), the
 * pre_snapshot_script, then ONE `zfs snapshot` with every name of every
 * dataset (and one `zfs snapshot -r` for all recursive = zfs roots), then
 * the post_snapshot_scripts. If a batch fails, each dataset is retried alone
 * so one bad dataset does not stop the others.
 *
 * Pruning decides on the listing as it was before this run took anything
 * (as sanoid does), skips datasets whose pool is not above prune_defer, keeps
 * snapshots with user holds (reported; a hold tagged syncoid_* or zkeep_* is
 * a replication's), runs pre_pruning_script per snapshot (a failure keeps
 * that snapshot), destroys with one batched `zfs destroy fs@a,b,c` per
 * dataset, and runs pruning_script per destroyed snapshot.
 *
 * Hooks: the command line of the config is run as Perl's system() runs a
 * string (sanoid's contract): split on blanks, or through /bin/sh -c when it
 * has shell metacharacters. Dataset and snapshot names are passed only in
 * the environment (SANOID_TARGET, SANOID_TARGETS, SANOID_SNAPNAME,
 * SANOID_SNAPNAMES, SANOID_TYPES, SANOID_SCRIPT, SANOID_PRE_FAILURE). A hook
 * still running after script_timeout seconds is killed with its process
 * group.
 *
 * Locks (flock in run_dir, pid on the first line): sanoid_taking.lock is held
 * from before the listing until the snapshots are in the cache, so a second
 * run waits and then sees them; sanoid_pruning.lock is tried without waiting
 * and a run that does not get it skips pruning; sanoid_cacheupdate.lock
 * guards changes of the cache file.
 *
 * Cache: cache_dir/snapshots.txt holds the listing (zkeep's own format; a
 * file in another format, like sanoid's, is simply refreshed), written
 * atomically (rename) and changed in place (under its lock) for the
 * snapshots a run took or destroyed (a confined worker reports them to its
 * supervisor, which changes the file: engine_cache_apply_report). On ZFS
 * 2.2+ the run then lists the datasets it changed once more
 * (engine_cache_refresh), and the cache is never trusted blindly: each run lists the dataset rows with
 * snapshots_changed and lists again the snapshots of the datasets whose
 * value moved since the cache was listed, whatever the cache's age; a quiet
 * run reads the dataset rows only. On ZFS 2.1 (no such property) the cache
 * is used as sanoid uses it, when younger than cache_ttl seconds. Either
 * way the age, on the run's clock (mtime = the run's now, so a faked now,
 * ZKEEP_NOW, works), decides what --verbose says, as sanoid's TTL does.
 *
 * The engine never prints: it reports through opts.event, with sanoid's
 * wording for what sanoid prints.
 */
#ifndef ZKEEP_SNAPSHOT_ENGINE_H
#define ZKEEP_SNAPSHOT_ENGINE_H

#include "base/zkeep.h"
#include "snapshots/sanoid_config.h"
#include "snapshots/monitor.h" /* sanoid_displaytime() for the commands */
#include "zfs/zfs.h"

#include <time.h>

enum engine_level {
	ENG_ERROR = 0, /* a dataset failed; the run goes on */
	ENG_WARN,
	ENG_INFO,      /* sanoid --verbose output */
	ENG_DEBUG,
};

struct engine_opts {
	const char *config_dir;  /* where sanoid.conf is */
	const char *cache_dir;   /* NULL: no cache */
	const char *run_dir;     /* NULL: no locks */
	int64_t cache_ttl;       /* seconds; 0 = always list (ZFS 2.1; see Cache above) */
	bool force_update;       /* list everything, whatever the cache says */
	bool readonly;           /* change nothing, report what would be done */
	bool force_prune;        /* prune even while zfs send/receive runs on the dataset */
	bool take, prune;        /* what the run will do (which locks to take) */
	time_t now;
	bool name_time;          /* snapshot times from autosnap names (test clock) */
	bool no_channel_programs; /* destroy per dataset even as root (ZKEEP_NO_CHANNEL_PROGRAMS) */
	unsigned relist_chunk;    /* datasets per `zfs list -d 1` listing again; 0: 200 (ZKEEP_RELIST_CHUNK) */
	/* In a confined worker: the supervisor keeps the cache. Say what sanoid says
	 * about it, and write what was taken and destroyed to cache_report_fd. */
	bool cache_report;
	int cache_report_fd;
	void (*event)(void *ctx, enum engine_level level, const char *msg);
	void *event_ctx;
};

/* Managed snapshots of one dataset, by type. */
struct engine_summary {
	size_t count[SNAP_NTYPES];
	int64_t newest[SNAP_NTYPES];  /* SCHEDULE_NONE when none */
	const char *newest_name[SNAP_NTYPES];
	size_t total;                 /* every snapshot, managed or not */
};

struct engine {
	struct engine_opts o;
	struct runner *run;
	struct zfs z;
	struct sanoid_config cfg;
	struct sanoid_policies pol;
	struct zfs_tree tree;
	ssize_t userrefs;        /* index of the userrefs property in tree */
	struct strvec roots;
	struct strvec warnings;  /* from config resolution */
	int take_fd, prune_fd;
	bool prune_locked_out;   /* another run is pruning */
	bool from_cache;
	bool cache_unchanged;    /* snapshots_changed: nothing re-listed, the cache is current */
	int64_t listed_at;       /* wall clock when the listing began (the cache keeps it) */
	struct strvec taken;     /* full names this run took */
	struct strvec pruned;    /* full names this run destroyed */
	struct strvec changed;   /* datasets whose snapshots this run changed (or its worker said it did) */
	struct strvec held_asked; /* held snapshots whose holds this run asked ZFS about */
	unsigned failures;       /* datasets or hooks that failed */
};

/* ZKEEP_RELIST_CHUNK (a test hook: 1 to 200), else 0. */
unsigned engine_relist_chunk_env(void);

/*
 * Open a run. Returns 0, -EINVAL for a config error (message in err, which
 * names file, line, section and key), or another -errno when ZFS could not
 * be listed or a lock could not be taken.
 */
int engine_open(struct engine *e, const struct engine_opts *o, struct strbuf *err);
void engine_release(struct engine *e);

/* Take what is due. Returns the number of failures (0 = all good). */
unsigned engine_take(struct engine *e);
/* Prune. Returns the number of failures. */
unsigned engine_prune(struct engine *e);

/*
 * In the supervisor, after a confined worker ran engine_take/engine_prune with
 * cache_report: apply its report (lines "+POOL/FS@autosnap_..._TYPE" taken,
 * "-..." destroyed) to the cache. The worker is not trusted: every line must
 * name a managed snapshot of a listed dataset, new to the listing for "+"
 * and in it for "-"; otherwise nothing is applied and -EINVAL returned (the
 * caller then removes the cache, so the next run lists).
 */
int engine_cache_apply_report(struct engine *e, const char *report, size_t len);
/*
 * ZFS 2.2+, after the run's takes and destroys (changes_done: when the last
 * of them had returned): list again, here, the datasets the run changed (their
 * snapshots by name, guid and txg; the other columns from the run's own listing
 * where it had the same snapshot, else from zfs get) and store their rows and
 * snapshots in the cache, so the next run finds their
 * snapshots_changed unmoved and lists dataset rows only. A worker's report
 * only chooses which listed datasets are read again; what is stored is what
 * ZFS lists. Waits for the second after changes_done first (snapshots_changed
 * has whole seconds). 0 (also: nothing to do, ZFS 2.1), or -errno: the cache
 * stays as the run's own update left it, the next run lists those datasets
 * again, and err says why.
 */
int engine_cache_refresh(struct engine *e, const struct timespec *changes_done,
			 struct strbuf *err);
/* Its parser (pure): the names taken into added, destroyed into removed; 0 or -EINVAL. */
int engine_cache_report_parse(const struct engine *e, const char *report, size_t len,
			      struct strvec *added, struct strvec *removed);

/* The dataset of a policy in the listing (NULL if it vanished). */
const struct zfs_dataset *engine_dataset(const struct engine *e, const struct sanoid_policy *p);
/* Count managed snapshots of a policy's dataset. */
void engine_summarize(const struct engine *e, const struct sanoid_policy *p,
		      struct engine_summary *s);
/*
 * What a run now would do to one dataset, without doing it: the due types
 * (bit per type, schedule.h) and the short names the retention rule would
 * prune (held ones excluded and counted in *held; prune_defer ignored).
 */
void engine_plan(const struct engine *e, const struct sanoid_policy *p, unsigned *due,
		 struct strvec *would_prune, size_t *held);
/* Snapshot time as the engine sees it (creation, or the name's time). */
int64_t engine_snap_time(const struct engine *e, const struct zfs_snap *s);

/*
 * The monitors: the one-line Nagios result into line (no newline), the
 * return value is the exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 */
int engine_monitor_snapshots(struct engine *e, struct strbuf *line);
int engine_monitor_health(struct engine *e, struct strbuf *line);
int engine_monitor_capacity(struct engine *e, struct strbuf *line);

#endif
