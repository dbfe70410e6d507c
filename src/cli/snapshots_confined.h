/*
 * cli/snapshots_confined.h - taking and pruning snapshots in a confined
 * worker (confined.h).
 */
#ifndef ZKEEP_CLI_SNAPSHOTS_CONFINED_H
#define ZKEEP_CLI_SNAPSHOTS_CONFINED_H

#include "snapshots/snapshot_engine.h"

/*
 * The snapshot side (sanoid --cron/--take-snapshots/--prune-snapshots, zkeep
 * snapshot, zkeep prune): e is open (config read, run locks taken, datasets
 * listed - all by this process, the supervisor); fn(e, ctx) takes and/or
 * prunes, prints what it did and returns the exit status. It runs as the
 * worker, with `snapshot` (taking) and `destroy,mount` (pruning) granted on
 * each configured root dataset that exists, with descendants. The worker
 * neither reads nor writes the cache or the locks: the supervisor holds the
 * locks across the run and removes the cache file after it (the next run
 * lists). Output and exit status are fn's. Not confined, with a loud
 * warning: --no-confine, and configs with pre/post snapshot or pruning
 * scripts (sanoid runs them as root). --readonly runs fn directly. A worker
 * killed by a signal gives EXIT_FATAL.
 */
int engine_run_confined(struct engine *e, int (*fn)(struct engine *e, void *ctx), void *ctx);

#endif
