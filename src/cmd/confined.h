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

#include "cmd/replicate_cli.h"

/* --no-confine given (global option) or ZKEEP_NO_CONFINE=1 in the environment. */
void confined_disable(void);
bool confined_disabled(void);

/* repl_cli_execute(c), confined (both ends local; ssh jobs: not yet, run as before). */
int repl_cli_execute_confined(struct repl_cli *c);

#endif
