/*
 * policy_cli.c - the options of the native snapshot-policy commands.
 */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/policy_cli.h"
#include "base/log.h"
#include "base/parse.h"
#include "base/timeutil.h"

enum { PO_CONFIG_DIR = 300, PO_CACHE_DIR, PO_CACHE_TTL, PO_RUN_DIR, PO_DRY_RUN, PO_VERBOSE };

static const struct option common[] = {
	{ "config-dir", required_argument, NULL, PO_CONFIG_DIR },
	{ "configdir", required_argument, NULL, PO_CONFIG_DIR },
	{ "cache-dir", required_argument, NULL, PO_CACHE_DIR },
	{ "cache-ttl", required_argument, NULL, PO_CACHE_TTL },
	{ "run-dir", required_argument, NULL, PO_RUN_DIR },
	{ "verbose", no_argument, NULL, PO_VERBOSE },
};

/* Only for the commands that change something (snapshot, prune). */
static const struct option dry_run_opts[] = {
	{ "dry-run", no_argument, NULL, PO_DRY_RUN },
	{ "readonly", no_argument, NULL, PO_DRY_RUN },
};

int policy_cli_parse(struct policy_cli *c, int argc, char **argv, bool changes,
		     const struct option *extra,
		     int (*handle)(struct policy_cli *c, int opt, const char *arg))
{
	struct option opts[32];
	size_t n = 0;
	int o;
	uint64_t ttl;

	*c = (struct policy_cli){ .config_dir = "/etc/sanoid", .cache_dir = "/var/cache/sanoid",
				  .run_dir = "/var/run/sanoid", .cache_ttl = 0 };
	for (size_t i = 0; i < ARRAY_SIZE(common); i++)
		opts[n++] = common[i];
	for (size_t i = 0; changes && i < ARRAY_SIZE(dry_run_opts); i++)
		opts[n++] = dry_run_opts[i];
	for (const struct option *x = extra; x && x->name && n < ARRAY_SIZE(opts) - 1; x++)
		opts[n++] = *x;
	opts[n] = (struct option){ 0 };

	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, changes ? "+nv" : "+v", opts, NULL)) != -1) {
		switch (o) {
		case PO_CONFIG_DIR: c->config_dir = optarg; break;
		case PO_CACHE_DIR: c->cache_dir = optarg; break;
		case PO_RUN_DIR: c->run_dir = optarg; break;
		case 'n':
		case PO_DRY_RUN: c->dry_run = true; break;
		case 'v':
		case PO_VERBOSE:
			c->verbose = true;
			if (log_get_level() < LOG_LVL_INFO)
				log_set_level(LOG_LVL_INFO);
			break;
		case PO_CACHE_TTL:
			if (parse_u64(optarg, &ttl) < 0 || ttl > INT32_MAX) {
				log_error("--cache-ttl wants whole seconds, not '%s'", optarg);
				return -EINVAL;
			}
			c->cache_ttl = (int64_t)ttl;
			break;
		case '?':
			log_error("%s: unknown option or missing value '%s' (see 'zkeep help %s')", argv[0],
				  argv[optind - 1], argv[0]);
			return -EINVAL;
		default:
			if (!handle || handle(c, o, optarg) < 0)
				return -EINVAL;
		}
	}
	if (optind < argc) {
		log_error("%s: unexpected argument '%s' (see 'zkeep help %s')", argv[0], argv[optind], argv[0]);
		return -EINVAL;
	}
	return 0;
}

/*
 * The engine words its messages as sanoid prints them ("INFO: pruning ...");
 * zkeep's own commands log through log.h, which names the level itself
 * ("zkeep: info: pruning ..."), so sanoid's level word is dropped here.
 */
static const char *without_sanoid_prefix(enum engine_level level, const char *msg)
{
	static const char *const prefix[] = {
		[ENG_ERROR] = "ERROR: ", [ENG_WARN] = "WARN: ", [ENG_INFO] = "INFO: ", [ENG_DEBUG] = "DEBUG: ",
	};
	const char *rest = NULL;
	if ((unsigned)level < ARRAY_SIZE(prefix))
		rest = skip_prefix(msg, prefix[level]);
	return rest ? rest : msg;
}

static void native_event(void *ctx, enum engine_level level, const char *msg)
{
	const struct policy_cli *c = ctx;
	msg = without_sanoid_prefix(level, msg);
	switch (level) {
	case ENG_ERROR: log_error("%s", msg); break;
	case ENG_WARN: log_warning("%s", msg); break;
	case ENG_INFO:
		/* with --dry-run, what would be done is the result */
		if (c->dry_run && !c->results_only)
			printf("%s\n", msg);
		else
			log_info("%s", msg);
		break;
	case ENG_DEBUG: log_debug("%s", msg); break;
	}
}

int policy_cli_open(const struct policy_cli *c, struct engine *e, bool take, bool prune)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct engine_opts o = {
		.config_dir = c->config_dir, .cache_dir = c->cache_dir, .run_dir = c->run_dir,
		.cache_ttl = c->cache_ttl, .readonly = c->dry_run,
		.force_prune = c->force_prune, .take = take, .prune = prune,
		.event = native_event, .event_ctx = (void *)c,
	};
	if (zkeep_now(&o.now) < 0) {
		log_error("ZKEEP_NOW must be seconds since the epoch");
		return EXIT_FATAL;
	}
	o.name_time = zkeep_now_overridden();
	o.no_channel_programs = getenv("ZKEEP_NO_CHANNEL_PROGRAMS") != NULL;
	o.relist_chunk = engine_relist_chunk_env();
	if (engine_open(e, &o, &err) < 0) {
		log_error("%s", err.buf);
		engine_release(e);
		return EXIT_FATAL;
	}
	return EXIT_OK;
}

int policy_cli_status(const struct engine *e, int status)
{
	return status == EXIT_OK && e->pol.problems.n ? EXIT_PARTIAL : status;
}
