/*
 * cli/confined.h - the commands that change ZFS, run in a confined worker.
 *
 * Each wrapper (repl_confined.h, snapshots_confined.h) says what its
 * command's job touches (datasets, sides, operations: delegation.h) and runs
 * the command's own execute function as the worker of confine_run()
 * (confine.h): as root with a transient run uid holding only those grants,
 * in namespaces on the closure of zfs, with no_new_privs + Landlock +
 * seccomp; started by another user with the last three only. Confinement is
 * the default. `zkeep --no-confine COMMAND` or ZKEEP_NO_CONFINE=1 (for the
 * sanoid/syncoid personalities) turns it off, loudly.
 */
#ifndef ZKEEP_CLI_CONFINED_H
#define ZKEEP_CLI_CONFINED_H

#include "confine/confine.h"

/* --no-confine given (global option) or ZKEEP_NO_CONFINE=1 in the environment. */
void confined_disable(void);
bool confined_disabled(void);

/* The loud warning of a run that confinement was turned off for. */
void confined_warn_unconfined(void);
/* Log what confine_run() reports: leftover grants revoked, grants still missing. */
void confined_report(const struct confine_info *info);

#endif
