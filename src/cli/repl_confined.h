/*
 * cli/repl_confined.h - a replication in a confined worker (confined.h).
 */
#ifndef ZKEEP_CLI_REPL_CONFINED_H
#define ZKEEP_CLI_REPL_CONFINED_H

#include "cli/repl_cli.h"
#include "confine/jobconf.h"

/*
 * repl_execute(c), confined: grants for this host's side only; over ssh
 * the worker runs ssh too, with copies of the caller's ssh files in its home
 * (see repl_confined.c). --force-delete, both ends remote, --dry-run and
 * --dumpsnaps (they change nothing), --no-confine: unconfined.
 */
int repl_execute_confined(struct repl_cli *c);

/*
 * The facts of the run's options for the grant rule (jobconf_repl_needs()),
 * as the confined layer takes them; what only ZFS knows (the target's state,
 * --preserve-properties' local properties) it adds at run time. Pure.
 */
void repl_cli_grant_facts(const struct repl_cli *c, bool src_remote, bool dst_remote,
			  struct repl_facts *f);

#endif
