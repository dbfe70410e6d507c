/*
 * drive/drive_runner.h - the local runner of `zkeep drive backup`: one that can
 * be stopped.
 *
 * It starts programs like runner_local_new() (spawn.h, the default
 * environment) with two differences:
 *
 *  - The child environment also carries ZPOOL_IMPORT_PATH and
 *    ZPOOL_IMPORT_UDEV_TIMEOUT_MS when zkeep itself has them, so that a user
 *    who tunes how `zpool import` searches for devices (zpool(8)) gets what
 *    she asked for from the imports zkeep runs. Every other variable is
 *    dropped as spawn_env_default() does.
 *
 *  - drive_runner_stop() ends the work in progress: it sends SIGTERM to
 *    every child it started that is still running, except `zpool import`
 *    and `zpool export` (killing those could leave a pool half imported or
 *    still imported when zkeep believes otherwise), and from then on the
 *    runner refuses to start anything but a `zpool` command (-ECANCELED),
 *    so the replication engine cannot start the next send, nor reset the
 *    partial receive state (`zfs receive -A`) an interrupted receive leaves
 *    for the next backup to resume from, while the drive engine can still
 *    export the pool. Children are tracked by pidfd (pidfd_open(2)), so a
 *    child reaped by its owner in the meantime is never confused with a
 *    new process that got its pid.
 *
 * drive_runner_stop() may be called from another thread (a signal-waiting
 * thread) while the runner is in use: a mutex orders it with starts. It is
 * not async-signal-safe: do not call it from a signal handler.
 *
 * The runner is freed with runner_free(); at most DRIVE_RUNNER_MAX_CHILDREN
 * running children are tracked at once (a drive backup runs a handful), a
 * start beyond that fails with -EAGAIN rather than leave a child that stop
 * could not reach.
 */
#ifndef ZKEEP_DRIVE_RUNNER_H
#define ZKEEP_DRIVE_RUNNER_H

#include "zfs/runner.h"

#define DRIVE_RUNNER_MAX_CHILDREN 64

struct runner *drive_runner_new(void);
/* Stop as described above; the number of children signalled. */
unsigned drive_runner_stop(struct runner *r);
bool drive_runner_stopped(struct runner *r);

/* Pure: whether drive_runner_stop() spares (and later allows) this argv. */
bool drive_runner_spared(const char *const *argv);
bool drive_runner_allowed_after_stop(const char *const *argv);

#endif
