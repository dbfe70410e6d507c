/*
 * cli/repl_confined.h - a replication in a confined worker (confined.h).
 */
#ifndef ZKEEP_CLI_REPL_CONFINED_H
#define ZKEEP_CLI_REPL_CONFINED_H

#include "cli/repl_cli.h"

/*
 * repl_execute(c), confined: grants for this host's side only; over ssh
 * the worker runs ssh too, with copies of the caller's ssh files in its home
 * (see repl_confined.c). Both ends remote, --force-delete, --dry-run: unconfined.
 */
int repl_execute_confined(struct repl_cli *c);

#endif
