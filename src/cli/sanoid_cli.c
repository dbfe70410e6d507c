/* cli/sanoid_cli.c - see sanoid_cli.h. */
#include "base/zkeep.h"
#include "cli/sanoid_cli.h"

/* sanoid 2.3.0, `GetOptions(\%args, ...)`, in its order. */
static const struct perl_opt sanoid_opts[] = {
	{ "verbose", SANOID_VERBOSE },
	{ "debug", SANOID_DEBUG },
	{ "cron", SANOID_CRON },
	{ "readonly", SANOID_READONLY },
	{ "quiet", SANOID_QUIET },
	{ "configdir=s", SANOID_CONFIGDIR },
	{ "cache-dir=s", SANOID_CACHE_DIR },
	{ "run-dir=s", SANOID_RUN_DIR },
	{ "monitor-health", SANOID_MONITOR_HEALTH },
	{ "force-update", SANOID_FORCE_UPDATE },
	{ "monitor-snapshots", SANOID_MONITOR_SNAPSHOTS },
	{ "take-snapshots", SANOID_TAKE_SNAPSHOTS },
	{ "prune-snapshots", SANOID_PRUNE_SNAPSHOTS },
	{ "force-prune", SANOID_FORCE_PRUNE },
	{ "monitor-capacity", SANOID_MONITOR_CAPACITY },
	{ "cache-ttl=i", SANOID_CACHE_TTL },
};

static const struct perl_opt sanoid_extras[] = {
	{ "no-confine", SANOID_NO_CONFINE },
};

const struct perl_getopt sanoid_getopt = {
	.opts = sanoid_opts, .n_opts = ARRAY_SIZE(sanoid_opts),
	.extras = sanoid_extras, .n_extras = ARRAY_SIZE(sanoid_extras),
};

void sanoid_args_release(struct sanoid_args *a)
{
	perl_getopt_result_release(&a->parsed);
}

bool sanoid_default_action(const struct perl_getopt_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		int id = r->v[i].opt->id;
		if (id >= SANOID_NO_CONFINE)
			continue; /* an extra */
		if (id != SANOID_CONFIGDIR && id != SANOID_CACHE_DIR && id != SANOID_RUN_DIR)
			return false;
	}
	return true;
}

int sanoid_args_parse(struct sanoid_args *a, int argc, char *const argv[], bool posixly_correct,
		      struct strbuf *err)
{
	struct perl_getopt g = sanoid_getopt;
	*a = (struct sanoid_args){ .configdir = "/etc/sanoid", .cache_dir = "/var/cache/sanoid",
				   .run_dir = "/var/run/sanoid",
				   .parsed = (struct perl_getopt_result)PERL_GETOPT_RESULT_INIT };
	g.posixly_correct = posixly_correct;
	int r = perl_getopt_parse(&g, argc, argv, &a->parsed, err);
	if (r < 0 || a->parsed.action != PERL_GETOPT_RUN)
		return r;

	for (size_t i = 0; i < a->parsed.n; i++) {
		const struct perl_getopt_value *v = &a->parsed.v[i];
		switch ((enum sanoid_opt)v->opt->id) {
		case SANOID_VERBOSE: a->verbose = true; break;
		case SANOID_DEBUG: a->debug = true; break;
		case SANOID_CRON: a->cron = true; break;
		case SANOID_READONLY: a->readonly = true; break;
		case SANOID_QUIET: a->quiet = true; break;
		case SANOID_CONFIGDIR: a->configdir = v->value; break;
		case SANOID_CACHE_DIR: a->cache_dir = v->value; break;
		case SANOID_RUN_DIR: a->run_dir = v->value; break;
		case SANOID_MONITOR_HEALTH: a->mon_health = true; break;
		case SANOID_FORCE_UPDATE: a->force_update = true; break;
		case SANOID_MONITOR_SNAPSHOTS: a->mon_snapshots = true; break;
		case SANOID_TAKE_SNAPSHOTS: a->take = true; break;
		case SANOID_PRUNE_SNAPSHOTS: a->prune = true; break;
		case SANOID_FORCE_PRUNE: a->force_prune = true; break;
		case SANOID_MONITOR_CAPACITY: a->mon_capacity = true; break;
		case SANOID_CACHE_TTL: a->cache_ttl = v->number; break;
		case SANOID_NO_CONFINE: a->no_confine = true; break;
		}
	}
	a->default_action = sanoid_default_action(&a->parsed);
	if (a->default_action)
		a->cron = a->verbose = true;
	/* sanoid: `if ($args{'debug'}) { $args{'verbose'}=1; ... }`, then with
	 * --cron, `if ($args{'quiet'}) { $args{'verbose'} = 0; }` */
	if (a->debug)
		a->verbose = true;
	if (a->cron && a->quiet)
		a->verbose = false;
	return 0;
}
