/*
 * snapshot.c - `zkeep snapshot`: take the snapshots that sanoid.conf says are
 * due now (sanoid --take-snapshots).
 */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/confined.h"
#include "cli/snapshots_confined.h"
#include "cli/policy_cli.h"
#include "base/log.h"

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
	POLICY_CLI_DRY_RUN_HELP
	"  --no-confine       not as the confined worker (debugging only; warns)\n"
	"\n"
	"As root, the snapshots are taken by zkeep's confined worker: a transient\n"
	"uid granted only `snapshot` on the configured datasets for the run. With\n"
	"pre/post snapshot scripts configured it runs unconfined, with a warning.\n"
	"\n"
	"Prints the snapshots taken. Exit status 0, 1 when a dataset or a hook\n"
	"failed or a section's dataset does not exist (the others are done), 2 for\n"
	"a config or ZFS error before anything was done.\n";

enum { SN_NO_CONFINE = 400 };
static const struct option snapshot_opts[] = {
	{ "no-confine", no_argument, NULL, SN_NO_CONFINE },
	{ NULL, 0, NULL, 0 },
};

static int snapshot_opt(struct policy_cli *c, int opt, const char *arg)
{
	if (opt != SN_NO_CONFINE)
		return -EINVAL;
	confined_disable();
	return 0;
}

/* What changes ZFS: run as the confined worker. */
static int snapshot_act(struct engine *e, void *ctx)
{
	unsigned failures = engine_take(e);
	for (size_t i = 0; i < e->taken.n; i++)
		printf("%s\n", e->taken.v[i]);
	return failures ? EXIT_PARTIAL : EXIT_OK;
}

int cmd_snapshot(int argc, char **argv)
{
	struct policy_cli c;
	struct engine e;
	if (policy_cli_parse(&c, argc, argv, true, snapshot_opts, snapshot_opt) < 0)
		return EXIT_FATAL;
	if (policy_cli_open(&c, &e, true, false) != EXIT_OK)
		return EXIT_FATAL;
	int status = policy_cli_status(&e, engine_run_confined(&e, snapshot_act, NULL));
	engine_release(&e);
	return status;
}
