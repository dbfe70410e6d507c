/*
 * cli/repl_execute.h - one replication, unconfined: turn the parsed options
 * into endpoints, backends and an engine run (replicate.h), and report its
 * events (repl_printer.h).
 */
#ifndef ZKEEP_CLI_REPL_EXECUTE_H
#define ZKEEP_CLI_REPL_EXECUTE_H

#include "cli/repl_cli.h"

/*
 * Run, with the endpoints repl_cli_endpoints() parsed (their error, if
 * any, is reported here); returns the exit status (EXIT_OK, EXIT_PARTIAL,
 * EXIT_FATAL).
 */
int repl_execute(struct repl_cli *c);

#endif
