/*
 * cli/sanoid_cli.h - sanoid 2.3's command line: its GetOptions list, parsed
 * as Perl parses it (perl_getopt.h), and what the options then mean.
 */
#ifndef ZKEEP_CLI_SANOID_CLI_H
#define ZKEEP_CLI_SANOID_CLI_H

#include "cli/perl_getopt.h"

/* sanoid's options, one id per entry of its GetOptions list, and zkeep's extras. */
enum sanoid_opt {
	SANOID_VERBOSE, SANOID_DEBUG, SANOID_CRON, SANOID_READONLY, SANOID_QUIET,
	SANOID_CONFIGDIR, SANOID_CACHE_DIR, SANOID_RUN_DIR, SANOID_MONITOR_HEALTH,
	SANOID_FORCE_UPDATE, SANOID_MONITOR_SNAPSHOTS, SANOID_TAKE_SNAPSHOTS,
	SANOID_PRUNE_SNAPSHOTS, SANOID_FORCE_PRUNE, SANOID_MONITOR_CAPACITY, SANOID_CACHE_TTL,
	SANOID_NO_CONFINE, /* zkeep's extras from here on */
};

/* The table: sanoid's list verbatim, then the extras. */
extern const struct perl_getopt sanoid_getopt;

struct sanoid_args {
	bool verbose, debug, cron, readonly, quiet, force_update, force_prune;
	bool take, prune, mon_snapshots, mon_health, mon_capacity;
	bool no_confine;
	const char *configdir, *cache_dir, *run_dir; /* point into `parsed` or are literals */
	int64_t cache_ttl;     /* as given; 0 when not given (sanoid tests it for truth) */
	bool default_action;   /* nothing but directories given: --cron --verbose */
	struct perl_getopt_result parsed;
};

void sanoid_args_release(struct sanoid_args *a);

/*
 * Parse argv as sanoid does and apply its rules: the default action (see
 * sanoid_default_action()) and --debug implying --verbose. Operands are
 * ignored, as sanoid ignores them. 0, or -EINVAL with Perl's messages in err
 * (a->parsed.action says whether --help or --version stopped the parse).
 */
int sanoid_args_parse(struct sanoid_args *a, int argc, char *const argv[], bool posixly_correct,
		      struct strbuf *err);

/*
 * sanoid's `keys %args < 4` rule: %args starts with configdir, cache-dir and
 * run-dir, and every option given adds its name; fewer than four keys means
 * nothing but those three was given, and sanoid then runs as --cron
 * --verbose. Any other option alone (--verbose, --readonly, --quiet, --debug)
 * means no default action. zkeep's extras are not sanoid's and do not count.
 */
bool sanoid_default_action(const struct perl_getopt_result *r);

#endif
