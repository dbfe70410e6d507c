/*
 * prune.c - `zkeep prune`: destroy the snapshots sanoid's retention rule
 * expires (sanoid --prune-snapshots), never one that is held.
 */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/confined.h"
#include "cli/snapshots_confined.h"
#include "cli/policy_cli.h"
#include "base/log.h"

const char cmd_prune_help[] =
	"usage: zkeep prune [options]\n"
	"\n"
	"Destroy expired snapshots by the policy in sanoid.conf (the same rule as\n"
	"`sanoid --prune-snapshots`): a snapshot of a type goes when it is older\n"
	"than COUNT periods of the type and more than COUNT of the type exist.\n"
	"Only names sanoid takes (autosnap_..._TYPE) are ever destroyed, with one\n"
	"batched `zfs destroy fs@a,b,c` per dataset. A snapshot with a user hold\n"
	"(for example a replication's) is kept and reported. prune_defer,\n"
	"pre_pruning_script and pruning_script apply as in sanoid.\n"
	"\n"
	POLICY_CLI_OPTIONS_HELP
	POLICY_CLI_DRY_RUN_HELP
	"  --force-prune      prune even while zfs send/receive runs on the dataset\n"
	"  --no-confine       not as the confined worker (debugging only; warns)\n"
	"\n"
	"As root, the snapshots are destroyed by zkeep's confined worker: a\n"
	"transient uid granted only `destroy,mount` on the configured datasets for\n"
	"the run. With pruning scripts configured it runs unconfined, with a warning.\n"
	"\n"
	"Prints the snapshots destroyed. Exit status 0, 1 when a dataset or a hook\n"
	"failed or a section's dataset does not exist (the others are done), 2 for\n"
	"a config or ZFS error before anything was done.\n";

enum { PR_FORCE = 400, PR_NO_CONFINE };
static const struct option prune_opts[] = {
	{ "force-prune", no_argument, NULL, PR_FORCE },
	{ "no-confine", no_argument, NULL, PR_NO_CONFINE },
	{ NULL, 0, NULL, 0 },
};

static int prune_opt(struct policy_cli *c, int opt, const char *arg)
{
	if (opt == PR_NO_CONFINE) {
		confined_disable();
		return 0;
	}
	if (opt != PR_FORCE)
		return -EINVAL;
	c->force_prune = true;
	return 0;
}

/* What changes ZFS: run as the confined worker. */
static int prune_act(struct engine *e, void *ctx)
{
	unsigned failures = engine_prune(e);
	/* in name order: the destroys' own order depends on how they were batched */
	strvec_sort(&e->pruned);
	for (size_t i = 0; i < e->pruned.n; i++)
		printf("%s\n", e->pruned.v[i]);
	return failures ? EXIT_PARTIAL : EXIT_OK;
}

int cmd_prune(int argc, char **argv)
{
	struct policy_cli c;
	struct engine e;
	if (policy_cli_parse(&c, argc, argv, true, prune_opts, prune_opt) < 0)
		return EXIT_FATAL;
	if (policy_cli_open(&c, &e, false, true) != EXIT_OK)
		return EXIT_FATAL;
	int status = policy_cli_status(&e, engine_run_confined(&e, prune_act, NULL));
	engine_release(&e);
	return status;
}
