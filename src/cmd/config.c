/*
 * config.c - `zkeep config check`: validate sanoid.conf and print the
 * effective snapshot policy of every dataset it covers.
 */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/policy_cli.h"
#include "base/log.h"

const char cmd_config_help[] =
	"usage: zkeep config check [options]\n"
	"\n"
	"Read sanoid.conf (and sanoid.defaults.conf from the same directory, else\n"
	"the built-in defaults), check every key and value, every template named in\n"
	"use_template and that every dataset exists (one `zfs list`), then print\n"
	"the effective policy of each dataset: templates applied in order, children\n"
	"of recursive sections with their own sections on top.\n"
	"\n"
	"  --config-dir DIR   directory of sanoid.conf (default /etc/sanoid)\n"
	"  --offline          check the file alone, without ZFS (another machine, CI):\n"
	"                     every section's dataset is taken to exist, and children\n"
	"                     of recursive sections are not listed\n"
	"\n"
	"Exit status 0 when the config is good; 1 when a section's dataset does\n"
	"not exist (marked MISSING) or a section has a value sanoid 2.3.0 would\n"
	"misread (marked REFUSED, with file, line, section, key and what sanoid\n"
	"would make of it): snapshot runs skip those sections and do the others;\n"
	"2 when the file cannot be used at all (a syntax error, an unknown key).\n";

static void print_policy(const struct sanoid_policy *p)
{
	static const char *const rec[] = { "no", "yes", "zfs" };
	printf("[%s]\n", p->path);
	if (p->missing)
		printf("  MISSING        the dataset does not exist: nothing is done for it\n");
	if (p->refused)
		printf("  REFUSED        a value sanoid would misread (see above): nothing is done "
		       "for it\n");
	if (!p->own_section || !streq(p->section, p->path))
		printf("  from section   [%s] (line %u)\n", p->section, p->line);
	printf("  autosnap       %s%s\n", p->autosnap ? "yes" : "no",
	       p->zfs_recursion && !p->autosnap ? " (covered by a recursive = zfs parent)" : "");
	printf("  autoprune      %s\n", p->autoprune ? "yes" : "no");
	printf("  recursive      %s%s%s\n", rec[p->recursive],
	       p->process_children_only ? ", process_children_only" : "",
	       p->skip_children ? ", skip_children" : "");
	printf("  keep          ");
	for (int t = SNAP_NTYPES - 1; t >= 0; t--)
		printf(" %s=%u", snap_type_names[t], p->count[t]);
	printf("\n  times          frequent_period=%um hourly_min=%u daily=%02u:%02u weekly=wday %u %02u:%02u monthly=day %u %02u:%02u yearly=%u/%u %02u:%02u\n",
	       p->frequent_period, p->hourly_min, p->daily_hour, p->daily_min, p->weekly_wday,
	       p->weekly_hour, p->weekly_min, p->monthly_mday, p->monthly_hour, p->monthly_min,
	       p->yearly_mon, p->yearly_mday, p->yearly_hour, p->yearly_min);
	printf("  monitor        %s", p->monitor ? "yes" : "no");
	for (int t = SNAP_NTYPES - 1; t >= 0; t--)
		if (p->warn[t] || p->crit[t])
			printf(" %s=%llus/%llus", snap_type_names[t], (unsigned long long)p->warn[t],
			       (unsigned long long)p->crit[t]);
	printf("%s%s\n", p->monitor_dont_warn ? " dont_warn" : "", p->monitor_dont_crit ? " dont_crit" : "");
	printf("  capacity       warn=%u%% crit=%u%% prune_defer=%u%%\n", p->capacity_warn,
	       p->capacity_crit, p->prune_defer);
	if (p->pre_snapshot_script)
		printf("  pre_snapshot_script   %s\n", p->pre_snapshot_script);
	if (p->post_snapshot_script)
		printf("  post_snapshot_script  %s%s\n", p->post_snapshot_script,
		       p->force_post_snapshot_script ? " (forced)" : "");
	if (p->pre_pruning_script)
		printf("  pre_pruning_script    %s\n", p->pre_pruning_script);
	if (p->pruning_script)
		printf("  pruning_script        %s\n", p->pruning_script);
	if (p->pre_snapshot_script || p->post_snapshot_script || p->pre_pruning_script || p->pruning_script)
		printf("  script_timeout %us%s\n", p->script_timeout,
		       p->no_inconsistent_snapshot ? ", no_inconsistent_snapshot" : "");
}

enum { CF_OFFLINE = 600 };
static const struct option config_opts[] = {
	{ "offline", no_argument, NULL, CF_OFFLINE },
	{ NULL, 0, NULL, 0 },
};

static bool offline;

static int config_opt(struct policy_cli *c, int opt, const char *arg)
{
	if (opt != CF_OFFLINE)
		return -EINVAL;
	offline = true;
	return 0;
}

/* --offline: the file and its defaults alone; each section's dataset taken to exist. */
static int check_offline(const struct policy_cli *c)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct sanoid_config cfg;
	if (sanoid_config_load(&cfg, c->config_dir, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	_cleanup_strvec_ struct strvec roots = STRVEC_INIT, warnings = STRVEC_INIT;
	sanoid_config_roots(&cfg, &roots);
	struct sanoid_policies pol;
	sanoid_config_resolve(&cfg, (const char *const *)roots.v, roots.n, &pol, &warnings);
	for (size_t i = 0; i < warnings.n; i++)
		log_warning("%s", warnings.v[i]);
	for (size_t i = 0; i < pol.problems.n; i++)
		log_warning("%s: nothing is done for it", pol.problems.v[i]);
	if (pol.problems.n)
		printf("# %s: %zu sections, %zu with problems (offline: datasets not checked)\n",
		       cfg.file, pol.n, pol.problems.n);
	else
		printf("# %s: good (%zu sections; offline: datasets not checked)\n", cfg.file, pol.n);
	for (size_t i = 0; i < pol.n; i++)
		print_policy(&pol.p[i]);
	int rc = pol.problems.n ? EXIT_PARTIAL : EXIT_OK;
	sanoid_policies_release(&pol);
	sanoid_config_release(&cfg);
	return rc;
}

int cmd_config(int argc, char **argv)
{
	struct policy_cli c;
	struct engine e;
	if (argc < 2 || !streq(argv[1], "check")) {
		log_error("usage: zkeep config check [--config-dir DIR] (see 'zkeep help config')");
		return EXIT_FATAL;
	}
	/* errors name the command and its help page: "config", not "check" */
	char topic[] = "config";
	argv[1] = topic;
	if (policy_cli_parse(&c, argc - 1, argv + 1, false, config_opts, config_opt) < 0)
		return EXIT_FATAL;
	if (offline)
		return check_offline(&c);
	c.dry_run = true;
	c.results_only = true;
	if (policy_cli_open(&c, &e, false, false) != EXIT_OK)
		return EXIT_FATAL;
	for (size_t i = 0; i < e.pol.problems.n; i++)
		log_warning("%s: nothing is done for it", e.pol.problems.v[i]);
	if (e.pol.problems.n)
		printf("# %s: %zu datasets, %zu sections missing or refused (nothing is done for "
		       "those)\n", e.cfg.file, e.pol.n, e.pol.problems.n);
	else
		printf("# %s: good (%zu datasets)\n", e.cfg.file, e.pol.n);
	for (size_t i = 0; i < e.pol.n; i++)
		print_policy(&e.pol.p[i]);
	int rc = policy_cli_status(&e, EXIT_OK);
	engine_release(&e);
	return rc;
}
