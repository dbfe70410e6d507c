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
 * (see repl_confined.c). --dry-run and --dumpsnaps (they change nothing) and
 * --no-confine: unconfined.
 */
int repl_execute_confined(struct repl_cli *c);

/*
 * A confined --force-delete worker's request to root, checked: "unmount
 * DATASET" where DATASET is the job's (local) target or below it - what
 * the worker may destroy anyway. 0 with *dataset pointing into request, or
 * -EPERM (anything else: another dataset, a path, a second word). Pure.
 */
int repl_unmount_request(const char *target, const char *request, const char **dataset);

/*
 * The facts of the run's options for the grant rule (jobconf_repl_needs()),
 * as the confined layer takes them; what only ZFS knows (the target's state,
 * --preserve-properties' local properties) it adds at run time. Pure.
 */
void repl_cli_grant_facts(const struct repl_cli *c, bool src_remote, bool dst_remote,
			  struct repl_facts *f);

#endif
