/*
 * cli/repl_run.h - the replication driver that `syncoid` and `zkeep
 * replicate` call.
 */
#ifndef ZKEEP_CLI_REPL_RUN_H
#define ZKEEP_CLI_REPL_RUN_H

#include "cli/repl_cli.h"

/*
 * Refuse a busy target (exit 1, as syncoid: another replication into it
 * holds its lock in the run dir, or a local zfs receive into it is
 * running), hold the target's lock, then run (confined when possible, see
 * repl_confined.h).
 */
int repl_cli_run(struct repl_cli *c);

#endif
