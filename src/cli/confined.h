/*
 * cmd/confined.h - the commands that change ZFS, run in a confined worker.
 *
 * Each wrapper says what its command's job touches (datasets, sides,
 * operations: delegation.h) and runs the command's own execute function as
 * the worker of confine_run() (confine.h): as root with a transient run
 * uid holding only those grants, in namespaces on the closure of zfs, with
 * no_new_privs + Landlock + seccomp; started by another user with the last
 * three only. Confinement is the default. `zkeep --no-confine COMMAND` or
 * ZKEEP_NO_CONFINE=1 (for the sanoid/syncoid personalities) turns it off,
 * loudly.
 */
#ifndef ZKEEP_CMD_CONFINED_H
#define ZKEEP_CMD_CONFINED_H

#include "cli/replicate_cli.h"
#include "snapshots/snapshot_engine.h"

/* --no-confine given (global option) or ZKEEP_NO_CONFINE=1 in the environment. */
void confined_disable(void);
bool confined_disabled(void);

/*
 * repl_cli_execute(c), confined: grants for this host's side only; over ssh
 * the worker runs ssh too, with copies of the caller's ssh files in its home
 * (see confined.c). Both ends remote, --force-delete, --dry-run: unconfined.
 */
int repl_cli_execute_confined(struct repl_cli *c);

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
