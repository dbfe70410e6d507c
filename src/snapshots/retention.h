/*
 * snapshots/retention.h - which snapshots sanoid's rule prunes.
 *
 * Per type, oldest first: a snapshot is pruned when it is older than COUNT
 * periods of its type AND more than COUNT snapshots of the type remain
 * (each pruned one lowers that number). Periods: frequently =
 * frequent_period minutes, hourly 1 h, daily 1 d, weekly 7 d, monthly 31 d,
 * yearly 365.25 d. COUNT = 0 prunes every snapshot of the type older than
 * now. Only managed names (autosnap.h) are ever candidates.
 *
 * Beyond sanoid: a snapshot the caller marks `held` (it has user holds) or
 * `protected` (a replication still needs it) is never pruned; it is counted
 * as if it had been, so no newer snapshot is pruned in its place, and it is
 * reported as RETAIN_KEPT_HELD / RETAIN_KEPT_PROTECTED.
 *
 * prune_defer = N (1..100) skips pruning of a dataset while its pool's
 * capacity is N % or less: retention_deferred().
 *
 * Pure.
 */
#ifndef ZKEEP_RETENTION_H
#define ZKEEP_RETENTION_H

#include "base/zkeep.h"
#include "snapshots/sanoid_config.h"

#include <time.h>

enum retain_verdict {
	RETAIN_KEEP = 0,
	RETAIN_PRUNE,
	RETAIN_KEPT_HELD,      /* would be pruned, but has a user hold */
	RETAIN_KEPT_PROTECTED, /* would be pruned, but replication needs it */
};

struct retain_snap {
	const char *name;   /* short name (after '@') */
	int64_t ctime;      /* creation, seconds */
	bool held, protected_;
	enum retain_verdict verdict; /* output */
};

/* The period of a type in seconds. */
int64_t retention_period(const struct sanoid_policy *p, enum snap_type t);

/*
 * Set verdict of each of the n snapshots of one dataset (any order, any
 * names: unmanaged names are kept). Returns the number to prune. Nothing is
 * pruned when the policy has autoprune off or process_children_only.
 */
size_t retention_plan(const struct sanoid_policy *p, time_t now, struct retain_snap *snaps,
		      size_t n);

/* True when pruning waits: prune_defer set and capacity not above it. */
bool retention_deferred(const struct sanoid_policy *p, unsigned pool_capacity);

#endif
