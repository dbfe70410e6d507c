/* cli/repl_cli.c - see repl_cli.h. */
#include "base/zkeep.h"
#include "cli/repl_cli.h"
#include "config.h"
#include "base/log.h"
#include "zfs/runner.h"
#include "zfs/zfs.h"

#include <getopt.h>

void repl_cli_init(struct repl_cli *c)
{
	memset(c, 0, sizeof(*c));
	strvec_init(&c->exclude_datasets);
	strvec_init(&c->include_snaps);
	strvec_init(&c->exclude_snaps);
	strvec_init(&c->ssh_options);
	c->src = (struct endpoint)ENDPOINT_INIT;
	c->dst = (struct endpoint)ENDPOINT_INIT;
	c->endpoints_r = -EINVAL;
	strbuf_init(&c->endpoints_err, 0);
	strbuf_addstr(&c->endpoints_err, "the endpoints were not parsed");
}

void repl_cli_release(struct repl_cli *c)
{
	strvec_release(&c->exclude_datasets);
	strvec_release(&c->include_snaps);
	strvec_release(&c->exclude_snaps);
	strvec_release(&c->ssh_options);
	endpoint_release(&c->src);
	endpoint_release(&c->dst);
	strbuf_release(&c->endpoints_err);
}

/* The names of this host's pools (for syncoid's "host:" rule). */
static void local_pools(struct strvec *out)
{
	struct runner *run = runner_local_new();
	struct zfs z;
	zfs_init(&z, run);
	struct zpool_infos pools = { 0 };
	if (zpool_list(&z, NULL, &pools) == 0) {
		for (size_t i = 0; i < pools.n; i++)
			strvec_push(out, pools.p[i].name);
		zpool_infos_release(&pools);
	}
	zfs_release(&z);
	runner_free(run);
}

int repl_cli_endpoints(struct repl_cli *c)
{
	_cleanup_strvec_ struct strvec pools = STRVEC_INIT;
	endpoint_release(&c->src);
	endpoint_release(&c->dst);
	strbuf_reset(&c->endpoints_err);
	/* Without a ':' an argument is local whatever the pools: no need to list them. */
	if (strchr(c->source_arg, ':') || strchr(c->target_arg, ':'))
		local_pools(&pools);
	c->endpoints_r = endpoint_parse(c->source_arg, (const char *const *)pools.v, &c->src,
					&c->endpoints_err);
	if (c->endpoints_r == 0)
		c->endpoints_r = endpoint_parse(c->target_arg, (const char *const *)pools.v,
						&c->dst, &c->endpoints_err);
	return c->endpoints_r;
}

/* ---- options shared by syncoid and zkeep replicate -------------------------- */

enum {
	OPT_SKIP_PARENT = 256, OPT_EXCLUDE_DATASETS, OPT_IDENTIFIER, OPT_NO_SYNC_SNAP,
	OPT_KEEP_SYNC_SNAP, OPT_CREATE_BOOKMARK, OPT_USE_HOLD, OPT_NO_HOLD, OPT_NO_STREAM,
	OPT_NO_RESUME, OPT_NO_ROLLBACK, OPT_ROLLBACK, OPT_NO_CLONE_ROLLBACK, OPT_FORCE_DELETE,
	OPT_DELETE_TARGET_SNAPSHOTS, OPT_INCLUDE_SNAPS, OPT_EXCLUDE_SNAPS, OPT_NO_CLONE_HANDLING,
	OPT_SENDOPTIONS, OPT_RECVOPTIONS, OPT_PRESERVE_PROPERTIES, OPT_PRESERVE_RECORDSIZE,
	OPT_COMPRESS, OPT_MBUFFER_SIZE, OPT_PV_OPTIONS, OPT_SOURCE_BWLIMIT, OPT_TARGET_BWLIMIT,
	OPT_BWLIMIT, OPT_SSHKEY, OPT_SSHPORT, OPT_SSHCONFIG, OPT_INSECURE_DIRECT,
	OPT_NO_PRIV_ELEVATION, OPT_NO_COMMAND_CHECKS, OPT_MONITOR_VERSION, OPT_DUMPSNAPS, OPT_DEBUG,
	OPT_QUIET, OPT_VERBOSE, OPT_HELP, OPT_VERSION, OPT_DRY_RUN, OPT_JSON, OPT_SERVE,
};

#define COMMON_OPTIONS \
	{ "recursive", no_argument, NULL, 'r' }, \
	{ "skip-parent", no_argument, NULL, OPT_SKIP_PARENT }, \
	{ "exclude-datasets", required_argument, NULL, OPT_EXCLUDE_DATASETS }, \
	{ "identifier", required_argument, NULL, OPT_IDENTIFIER }, \
	{ "no-sync-snap", no_argument, NULL, OPT_NO_SYNC_SNAP }, \
	{ "keep-sync-snap", no_argument, NULL, OPT_KEEP_SYNC_SNAP }, \
	{ "create-bookmark", no_argument, NULL, OPT_CREATE_BOOKMARK }, \
	{ "no-stream", no_argument, NULL, OPT_NO_STREAM }, \
	{ "no-resume", no_argument, NULL, OPT_NO_RESUME }, \
	{ "force-delete", no_argument, NULL, OPT_FORCE_DELETE }, \
	{ "delete-target-snapshots", no_argument, NULL, OPT_DELETE_TARGET_SNAPSHOTS }, \
	{ "include-snaps", required_argument, NULL, OPT_INCLUDE_SNAPS }, \
	{ "exclude-snaps", required_argument, NULL, OPT_EXCLUDE_SNAPS }, \
	{ "no-clone-handling", no_argument, NULL, OPT_NO_CLONE_HANDLING }, \
	{ "sendoptions", required_argument, NULL, OPT_SENDOPTIONS }, \
	{ "recvoptions", required_argument, NULL, OPT_RECVOPTIONS }, \
	{ "preserve-properties", no_argument, NULL, OPT_PRESERVE_PROPERTIES }, \
	{ "preserve-recordsize", no_argument, NULL, OPT_PRESERVE_RECORDSIZE }, \
	{ "compress", required_argument, NULL, OPT_COMPRESS }, \
	{ "sshkey", required_argument, NULL, OPT_SSHKEY }, \
	{ "sshport", required_argument, NULL, OPT_SSHPORT }, \
	{ "sshcipher", required_argument, NULL, 'c' }, \
	{ "sshoption", required_argument, NULL, 'o' }, \
	{ "sshconfig", required_argument, NULL, OPT_SSHCONFIG }, \
	{ "debug", no_argument, NULL, OPT_DEBUG }, \
	{ "quiet", no_argument, NULL, OPT_QUIET }, \
	{ "help", no_argument, NULL, OPT_HELP }, \
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN }, \
	{ "serve", no_argument, NULL, OPT_SERVE }

static const struct option syncoid_options[] = {
	COMMON_OPTIONS,
	{ "exclude", required_argument, NULL, OPT_EXCLUDE_DATASETS },
	{ "use-hold", no_argument, NULL, OPT_USE_HOLD },
	{ "no-rollback", no_argument, NULL, OPT_NO_ROLLBACK },
	{ "no-clone-rollback", no_argument, NULL, OPT_NO_CLONE_ROLLBACK },
	{ "mbuffer-size", required_argument, NULL, OPT_MBUFFER_SIZE },
	{ "pv-options", required_argument, NULL, OPT_PV_OPTIONS },
	{ "source-bwlimit", required_argument, NULL, OPT_SOURCE_BWLIMIT },
	{ "target-bwlimit", required_argument, NULL, OPT_TARGET_BWLIMIT },
	{ "insecure-direct-connection", required_argument, NULL, OPT_INSECURE_DIRECT },
	{ "no-privilege-elevation", no_argument, NULL, OPT_NO_PRIV_ELEVATION },
	{ "no-command-checks", no_argument, NULL, OPT_NO_COMMAND_CHECKS },
	{ "monitor-version", no_argument, NULL, OPT_MONITOR_VERSION },
	{ "dumpsnaps", no_argument, NULL, OPT_DUMPSNAPS },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const struct option replicate_options[] = {
	COMMON_OPTIONS,
	{ "no-hold", no_argument, NULL, OPT_NO_HOLD },
	{ "rollback", no_argument, NULL, OPT_ROLLBACK },
	{ "buffer-size", required_argument, NULL, OPT_MBUFFER_SIZE },
	{ "bwlimit", required_argument, NULL, OPT_BWLIMIT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ NULL, 0, NULL, 0 },
};

/*
 * Parse argv into c. Returns 0 to run, 1 when done (help/version printed),
 * -1 on a usage error (already reported).
 */
int repl_cli_parse(struct repl_cli *c, int argc, char **argv, const char *help)
{
	const struct option *opts = c->syncoid ? syncoid_options : replicate_options;
	int ch;
	optind = 1;
	opterr = 1;
	if (!c->syncoid)
		c->use_hold = true;
	while ((ch = c->syncoid ? getopt_long_only(argc, argv, "+rc:o:", opts, NULL)
				: getopt_long(argc, argv, "+rc:o:nv", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': c->recursive = true; break;
		case OPT_SKIP_PARENT: c->skip_parent = true; break;
		case OPT_EXCLUDE_DATASETS: strvec_push(&c->exclude_datasets, optarg); break;
		case OPT_IDENTIFIER: c->identifier = optarg; break;
		case OPT_NO_SYNC_SNAP: c->no_sync_snap = true; break;
		case OPT_KEEP_SYNC_SNAP: c->keep_sync_snap = true; break;
		case OPT_CREATE_BOOKMARK: c->create_bookmark = true; break;
		case OPT_USE_HOLD: c->use_hold = true; break;
		case OPT_NO_HOLD: c->use_hold = false; break;
		case OPT_NO_STREAM: c->no_stream = true; break;
		case OPT_NO_RESUME: c->no_resume = true; break;
		case OPT_NO_ROLLBACK: c->no_rollback = true; break;
		case OPT_ROLLBACK: c->rollback = true; break;
		case OPT_NO_CLONE_ROLLBACK: break; /* zkeep rolls back with -r: clones are never destroyed */
		case OPT_FORCE_DELETE: c->force_delete = true; break;
		case OPT_DELETE_TARGET_SNAPSHOTS: c->delete_target_snapshots = true; break;
		case OPT_INCLUDE_SNAPS: strvec_push(&c->include_snaps, optarg); break;
		case OPT_EXCLUDE_SNAPS: strvec_push(&c->exclude_snaps, optarg); break;
		case OPT_NO_CLONE_HANDLING: c->no_clone_handling = true; break;
		case OPT_SENDOPTIONS: c->sendoptions = optarg; break;
		case OPT_RECVOPTIONS: c->recvoptions = optarg; break;
		case OPT_PRESERVE_PROPERTIES: c->preserve_properties = true; break;
		case OPT_PRESERVE_RECORDSIZE: c->preserve_recordsize = true; break;
		case OPT_COMPRESS: c->compress = optarg; break;
		case OPT_MBUFFER_SIZE: c->mbuffer_size = optarg; break;
		case OPT_PV_OPTIONS:
			log_warning("--pv-options is ignored: zkeep shows progress itself (a bar "
				    "on a terminal)");
			break;
		case OPT_SOURCE_BWLIMIT: c->source_bwlimit = optarg; break;
		case OPT_TARGET_BWLIMIT: c->target_bwlimit = optarg; break;
		case OPT_BWLIMIT: c->source_bwlimit = optarg; break;
		case OPT_SSHKEY: c->sshkey = optarg; break;
		case OPT_SSHPORT: c->sshport = optarg; break;
		case 'c': c->sshcipher = optarg; break;
		case 'o': strvec_push(&c->ssh_options, optarg); break;
		case OPT_SSHCONFIG: c->sshconfig = optarg; break;
		case OPT_INSECURE_DIRECT:
			log_warning("--insecure-direct-connection is ignored: zkeep always sends "
				    "through ssh");
			break;
		case OPT_NO_PRIV_ELEVATION: c->no_privilege_elevation = true; break;
		case OPT_NO_COMMAND_CHECKS: break; /* zkeep needs no helper commands */
		case OPT_MONITOR_VERSION: break;   /* does nothing in syncoid either */
		case OPT_DUMPSNAPS: c->dumpsnaps = true; break;
		case OPT_DEBUG: log_set_level(LOG_LVL_DEBUG); break;
		case OPT_QUIET: log_set_level(LOG_LVL_ERROR); break;
		case 'v':
		case OPT_VERBOSE: log_set_level(LOG_LVL_INFO); break;
		case 'n':
		case OPT_DRY_RUN: c->dry_run = true; break;
		case OPT_JSON: c->json = true; break;
		case OPT_SERVE: c->serve = true; break;
		case OPT_HELP: fputs(help, stdout); return 1;
		case OPT_VERSION: printf("syncoid version 2.3.0 (zkeep %s)\n", ZKEEP_VERSION); return 1;
		default:
			fprintf(stderr, "see '%s --help'\n", c->syncoid ? "syncoid" : "zkeep replicate");
			return -1;
		}
	}
	if (argc - optind != 2) {
		log_error("need exactly a SOURCE and a TARGET dataset (got %d argument%s); see --help",
			  argc - optind, argc - optind == 1 ? "" : "s");
		return -1;
	}
	c->source_arg = argv[optind];
	c->target_arg = argv[optind + 1];
	return 0;
}
