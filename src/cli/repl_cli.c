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
	c->parsed = (struct perl_getopt_result)PERL_GETOPT_RESULT_INIT;
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
	perl_getopt_result_release(&c->parsed);
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
	OPT_QUIET, OPT_VERBOSE, OPT_HELP, OPT_DRY_RUN, OPT_JSON, OPT_SERVE, OPT_EXCLUDE, OPT_JOBS,
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
	{ "serve", no_argument, NULL, OPT_SERVE }, \
	{ "jobs", required_argument, NULL, OPT_JOBS }

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
 * One option of either command line. `arg` is its value (NULL for a flag).
 * Logging levels are the caller's: syncoid sets both --debug and --quiet.
 */
static void apply_option(struct repl_cli *c, int id, const char *arg)
{
	switch (id) {
	case 'r': c->recursive = true; break;
	case OPT_SKIP_PARENT: c->skip_parent = true; break;
	case OPT_EXCLUDE_DATASETS: strvec_push(&c->exclude_datasets, arg); break;
	case OPT_IDENTIFIER: c->identifier = arg; break;
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
	case OPT_INCLUDE_SNAPS: strvec_push(&c->include_snaps, arg); break;
	case OPT_EXCLUDE_SNAPS: strvec_push(&c->exclude_snaps, arg); break;
	case OPT_NO_CLONE_HANDLING: c->no_clone_handling = true; break;
	case OPT_SENDOPTIONS: c->sendoptions = arg; break;
	case OPT_RECVOPTIONS: c->recvoptions = arg; break;
	case OPT_PRESERVE_PROPERTIES: c->preserve_properties = true; break;
	case OPT_PRESERVE_RECORDSIZE: c->preserve_recordsize = true; break;
	case OPT_COMPRESS: c->compress = arg; break;
	case OPT_MBUFFER_SIZE: c->mbuffer_size = arg; break;
	case OPT_PV_OPTIONS: c->pv_options_given = true; break;
	case OPT_SOURCE_BWLIMIT: c->source_bwlimit = arg; break;
	case OPT_TARGET_BWLIMIT: c->target_bwlimit = arg; break;
	case OPT_BWLIMIT: c->source_bwlimit = arg; break;
	case OPT_SSHKEY: c->sshkey = arg; break;
	case OPT_SSHPORT: c->sshport = arg; break;
	case 'c': c->sshcipher = arg; break;
	case 'o': strvec_push(&c->ssh_options, arg); break;
	case OPT_SSHCONFIG: c->sshconfig = arg; break;
	case OPT_INSECURE_DIRECT: c->insecure_direct_given = true; break;
	case OPT_NO_PRIV_ELEVATION: c->no_privilege_elevation = true; break;
	case OPT_NO_COMMAND_CHECKS: break; /* zkeep needs no helper commands */
	case OPT_MONITOR_VERSION: break;   /* does nothing in syncoid either */
	case OPT_DUMPSNAPS: c->dumpsnaps = true; break;
	case 'n':
	case OPT_DRY_RUN: c->dry_run = true; break;
	case OPT_JSON: c->json = true; break;
	case OPT_SERVE: c->serve = true; break;
	case OPT_JOBS: c->jobs = arg; break;
	}
}

/* What syncoid says about options it takes and zkeep ignores, unless --quiet. */
static void warn_ignored(const struct repl_cli *c)
{
	if (c->pv_options_given)
		log_warning("--pv-options is ignored: zkeep shows progress itself (a bar on a terminal)");
	if (c->insecure_direct_given)
		log_warning("--insecure-direct-connection is ignored: zkeep always sends through ssh");
}

/* syncoid 2.3.0, `GetOptions(\%args, ...)`, in its order. */
static const struct perl_opt syncoid_opts[] = {
	{ "no-command-checks", OPT_NO_COMMAND_CHECKS },
	{ "monitor-version", OPT_MONITOR_VERSION },
	{ "compress=s", OPT_COMPRESS },
	{ "dumpsnaps", OPT_DUMPSNAPS },
	{ "recursive|r", 'r' },
	{ "sendoptions=s", OPT_SENDOPTIONS },
	{ "recvoptions=s", OPT_RECVOPTIONS },
	{ "source-bwlimit=s", OPT_SOURCE_BWLIMIT },
	{ "target-bwlimit=s", OPT_TARGET_BWLIMIT },
	{ "sshconfig=s", OPT_SSHCONFIG },
	{ "sshkey=s", OPT_SSHKEY },
	{ "sshport=i", OPT_SSHPORT },
	{ "sshcipher|c=s", 'c' },
	{ "sshoption|o=s@", 'o' },
	{ "debug", OPT_DEBUG },
	{ "quiet", OPT_QUIET },
	{ "no-stream", OPT_NO_STREAM },
	{ "no-sync-snap", OPT_NO_SYNC_SNAP },
	{ "no-resume", OPT_NO_RESUME },
	{ "exclude=s@", OPT_EXCLUDE },
	{ "skip-parent", OPT_SKIP_PARENT },
	{ "identifier=s", OPT_IDENTIFIER },
	{ "no-clone-handling", OPT_NO_CLONE_HANDLING },
	{ "no-privilege-elevation", OPT_NO_PRIV_ELEVATION },
	{ "force-delete", OPT_FORCE_DELETE },
	{ "no-rollback", OPT_NO_ROLLBACK },
	{ "create-bookmark", OPT_CREATE_BOOKMARK },
	{ "use-hold", OPT_USE_HOLD },
	{ "pv-options=s", OPT_PV_OPTIONS },
	{ "keep-sync-snap", OPT_KEEP_SYNC_SNAP },
	{ "preserve-recordsize", OPT_PRESERVE_RECORDSIZE },
	{ "mbuffer-size=s", OPT_MBUFFER_SIZE },
	{ "delete-target-snapshots", OPT_DELETE_TARGET_SNAPSHOTS },
	{ "insecure-direct-connection=s", OPT_INSECURE_DIRECT },
	{ "preserve-properties", OPT_PRESERVE_PROPERTIES },
	{ "include-snaps=s@", OPT_INCLUDE_SNAPS },
	{ "exclude-snaps=s@", OPT_EXCLUDE_SNAPS },
	{ "exclude-datasets=s@", OPT_EXCLUDE_DATASETS },
};

/* zkeep's own: whole names only (perl_getopt.h). */
static const struct perl_opt syncoid_extras[] = {
	{ "dry-run", OPT_DRY_RUN },
	{ "serve", OPT_SERVE },
	{ "no-clone-rollback", OPT_NO_CLONE_ROLLBACK },
	{ "jobs=s", OPT_JOBS },
};

const struct perl_getopt syncoid_getopt = {
	.opts = syncoid_opts, .n_opts = ARRAY_SIZE(syncoid_opts),
	.extras = syncoid_extras, .n_extras = ARRAY_SIZE(syncoid_extras),
};

/* syncoid: Getopt::Long with syncoid's list, then syncoid's own rules. */
static int syncoid_parse(struct repl_cli *c, int argc, char **argv, const char *help)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_strvec_ struct strvec exclude = STRVEC_INIT;
	struct perl_getopt g = syncoid_getopt;
	bool debug = false, quiet = false;

	g.posixly_correct = getenv("POSIXLY_CORRECT") != NULL;
	int r = perl_getopt_parse(&g, argc, argv, &c->parsed, &err);
	fputs(err.buf, stderr);
	if (c->parsed.action == PERL_GETOPT_HELP) {
		fputs(help, stdout);
		return 1;
	}
	if (c->parsed.action == PERL_GETOPT_VERSION) {
		printf("syncoid version 2.3.0 (zkeep %s)\n", ZKEEP_VERSION);
		return 1;
	}
	if (r < 0) {
		fputs("Usage: syncoid [options]... SOURCE TARGET (see syncoid --help)\n", stderr);
		return -1;
	}
	for (size_t i = 0; i < c->parsed.n; i++) {
		const struct perl_getopt_value *v = &c->parsed.v[i];
		if (v->opt->id == OPT_DEBUG)
			debug = true;
		else if (v->opt->id == OPT_QUIET)
			quiet = true;
		else if (v->opt->id == OPT_EXCLUDE)
			strvec_push(&exclude, v->value);
		else
			apply_option(c, v->opt->id, v->value);
	}
	/* syncoid warns before it reads --quiet, so this shows even with it */
	if (exclude.n) {
		log_warning("The --exclude option is deprecated, please use --exclude-datasets instead");
		if (!c->exclude_datasets.n) /* both given: --exclude is ignored */
			strvec_pushv(&c->exclude_datasets, (const char *const *)exclude.v);
	}
	/* syncoid's writelog(): --quiet hides INFO and WARN, --debug shows DEBUG; both may hold */
	if (debug && quiet)
		log_set_mask(LOG_MASK(LOG_LVL_ERROR) | LOG_MASK(LOG_LVL_DEBUG));
	else if (debug)
		log_set_level(LOG_LVL_DEBUG);
	else if (quiet)
		log_set_level(LOG_LVL_ERROR);
	warn_ignored(c);
	if (c->parsed.operands.n != 2) {
		log_error("need exactly a SOURCE and a TARGET dataset (got %zu argument%s); see --help",
			  c->parsed.operands.n, c->parsed.operands.n == 1 ? "" : "s");
		return -1;
	}
	c->source_arg = c->parsed.operands.v[0];
	c->target_arg = c->parsed.operands.v[1];
	return 0;
}

/*
 * Parse argv into c. Returns 0 to run, 1 when done (help/version printed),
 * -1 on a usage error (already reported).
 */
int repl_cli_parse(struct repl_cli *c, int argc, char **argv, const char *help)
{
	int ch;

	if (c->syncoid)
		return syncoid_parse(c, argc, argv, help);
	/* zkeep replicate: getopt_long, options before the operands */
	optind = 1;
	opterr = 1;
	c->use_hold = true;
	while ((ch = getopt_long(argc, argv, "+rc:o:nv", replicate_options, NULL)) != -1) {
		switch (ch) {
		case OPT_DEBUG: log_set_level(LOG_LVL_DEBUG); break;
		case OPT_QUIET: log_set_level(LOG_LVL_ERROR); break;
		case 'v':
		case OPT_VERBOSE: log_set_level(LOG_LVL_INFO); break;
		case OPT_HELP: fputs(help, stdout); return 1;
		case '?':
			fprintf(stderr, "see 'zkeep replicate --help'\n");
			return -1;
		default: apply_option(c, ch, optarg); break;
		}
	}
	warn_ignored(c);
	if (argc - optind != 2) {
		log_error("need exactly a SOURCE and a TARGET dataset (got %d argument%s); see --help",
			  argc - optind, argc - optind == 1 ? "" : "s");
		return -1;
	}
	c->source_arg = argv[optind];
	c->target_arg = argv[optind + 1];
	return 0;
}
