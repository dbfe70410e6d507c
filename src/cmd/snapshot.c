/*
 * snapshot.c - `zkeep snapshot`: take the snapshots that sanoid.conf says are
 * due now (sanoid --take-snapshots).
 */
#include "zkeep.h"
#include "cmd/commands.h"
#include "cmd/policy_cli.h"
#include "log.h"

const char cmd_snapshot_help[] =
	"usage: zkeep snapshot [options]\n"
	"\n"
	"Take the snapshots that are due by the policy in sanoid.conf (the same\n"
	"engine, names and schedule as `sanoid --take-snapshots`): for each\n"
	"configured dataset, every type whose newest snapshot is older than its\n"
	"last preferred time, all with one timestamp, in one `zfs snapshot` call\n"
	"(one `zfs snapshot -r` for recursive = zfs), with the pre/post snapshot\n"
	"scripts of the config.\n"
	"\n"
	POLICY_CLI_OPTIONS_HELP
	"\n"
	"Prints the snapshots taken. Exit status 0, 1 when a dataset or a hook\n"
	"failed, 2 for a config or ZFS error before anything was done.\n";

int cmd_snapshot(int argc, char **argv)
{
	struct policy_cli c;
	struct engine e;
	unsigned failures;
	if (policy_cli_parse(&c, argc, argv, NULL, NULL) < 0)
		return EXIT_FATAL;
	if (policy_cli_open(&c, &e, true, false) != EXIT_OK)
		return EXIT_FATAL;
	failures = engine_take(&e);
	for (size_t i = 0; i < e.taken.n; i++)
		printf("%s\n", e.taken.v[i]);
	engine_close(&e);
	return failures ? EXIT_PARTIAL : EXIT_OK;
}
