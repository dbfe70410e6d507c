/*
 * cli/perl_getopt.h - command lines parsed exactly as Perl's Getopt::Long
 * parses them, for the sanoid and syncoid personalities.
 *
 * sanoid and syncoid call GetOptions() with `:config auto_version
 * auto_help` and otherwise Getopt::Long's defaults. A drop-in must accept
 * and refuse the same command lines and read them the same way, so this is
 * an emulation of those defaults (Getopt::Long 2.52, checked against the
 * real module by tests/unit/test_perl_getopt_oracle.c):
 *
 *  - options start with "--", "-" or "+"; names ignore case; "--name=value"
 *    or "--name value" (also with one dash); no bundling;
 *  - a unique prefix of a name (aliases included) is that option; a prefix
 *    of several is "ambiguous", except that an exact name always wins and
 *    the automatic "version"/"help" give way to a single other match;
 *  - "=s" and "=i" options require a value: the next argument, whatever it
 *    looks like ("--identifier --debug" sets identifier to "--debug"), but
 *    an empty "--name=" is an error; "=i" takes Perl's integers only;
 *  - options and operands mix freely (permute); "--" ends the options;
 *  - "--help", "-?" and "--version" end the parse at once (the scripts
 *    print and exit there, after the errors seen so far);
 *  - every error is reported and parsing goes on, as GetOptions does.
 *
 * With POSIXLY_CORRECT in the environment (the caller reads it) Getopt::Long
 * switches to its POSIX defaults: the first operand ends the options, no
 * abbreviations, no "+" prefix, "=value" only after "--".
 *
 * zkeep's own options ("extras") are matched only where Getopt::Long would
 * say "Unknown option: NAME" with NAME their whole name: they are never
 * abbreviated and never make a script option's abbreviation ambiguous, so
 * every command line keeps the meaning it has for the Perl script.
 *
 * A pure library: no output, no environment. Messages are Perl's own words
 * ("Unknown option: x"), one line each, in the order Perl prints them.
 */
#ifndef ZKEEP_CLI_PERL_GETOPT_H
#define ZKEEP_CLI_PERL_GETOPT_H

#include "base/strbuf.h"
#include "base/strvec.h"

/*
 * One entry of a GetOptions list, in the script's own words: "verbose",
 * "recursive|r", "sshport=i", "sshoption|o=s@". Only flags, "=s", "=i" and
 * "=s@" are supported (all that sanoid and syncoid use).
 */
struct perl_opt {
	const char *spec;
	int id; /* the caller's; returned with each value */
};

struct perl_getopt {
	const struct perl_opt *opts; /* the script's options */
	size_t n_opts;
	const struct perl_opt *extras; /* zkeep's: flags, or "name=s" with a string value;
					* whole names only */
	size_t n_extras;
	bool posixly_correct; /* Getopt::Long's POSIX defaults */
};

enum perl_getopt_action {
	PERL_GETOPT_RUN,     /* go on with the options and operands parsed */
	PERL_GETOPT_HELP,    /* --help or -?: print the help, exit 0 */
	PERL_GETOPT_VERSION, /* --version: print the version, exit 0 */
};

/* One option given, in command-line order. */
struct perl_getopt_value {
	const struct perl_opt *opt; /* its table entry (script option or extra) */
	bool list;                  /* "=s@": values accumulate */
	char *value;                /* NULL for a flag; "=i" as Perl prints the number */
	int64_t number;             /* "=i": the value, clamped to int64 */
};

struct perl_getopt_result {
	struct perl_getopt_value *v; /* owned */
	size_t n, alloc;
	struct strvec operands;      /* what is left in @ARGV, in order */
	enum perl_getopt_action action;
};

#define PERL_GETOPT_RESULT_INIT { .v = NULL, .n = 0, .alloc = 0, .operands = STRVEC_INIT, \
				  .action = PERL_GETOPT_RUN }
void perl_getopt_result_release(struct perl_getopt_result *r);

/*
 * Parse argv[1..argc-1] into r (which must be PERL_GETOPT_RESULT_INIT).
 * Returns 0 when GetOptions would have returned true, -EINVAL when it would
 * have failed: the messages, each ending in "\n", are appended to err and r
 * holds what was parsed anyway. With r->action HELP or VERSION the parse
 * stopped there (err may still hold earlier errors: the scripts print them
 * and then the help). -EINVAL also for a spec this emulation does not know
 * (a bug, named in err).
 */
int perl_getopt_parse(const struct perl_getopt *g, int argc, char *const argv[],
		      struct perl_getopt_result *r, struct strbuf *err);

/* The canonical name of an option: its spec up to the first '|' or '='. */
size_t perl_opt_name_len(const struct perl_opt *o);

#endif
