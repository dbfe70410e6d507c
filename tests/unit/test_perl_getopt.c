#include "unit.h"
#include "base/log.h"
#include "cli/perl_getopt.h"
#include "cli/repl_cli.h"
#include "cli/sanoid_cli.h"

/* Parse a NULL-terminated list (argv[0] added) with a table. */
#define PARSE(g, r, err, ...) \
	perl_getopt_parse((g), (int)ARRAY_SIZE(((const char *[]){ "prog", __VA_ARGS__ })) - 1, \
			  (char *const *)(const char *[]){ "prog", __VA_ARGS__ }, (r), (err))

/* The value of the last option named `name` in r, "1" for a flag, or NULL. */
static const char *value_of(const struct perl_getopt_result *r, const char *name)
{
	const char *found = NULL;
	for (size_t i = 0; i < r->n; i++) {
		size_t len = perl_opt_name_len(r->v[i].opt);
		if (strlen(name) == len && strncmp(r->v[i].opt->spec, name, len) == 0)
			found = r->v[i].value ? r->v[i].value : "1";
	}
	return found;
}

static void test_known_cases(void **state)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct perl_getopt_result r = PERL_GETOPT_RESULT_INIT;

	/* options after the operands (permute) */
	assert_int_equal(PARSE(&syncoid_getopt, &r, &err, "pool/a", "pool/b", "-r", NULL), 0);
	assert_string_equal(value_of(&r, "recursive"), "1");
	assert_int_equal(r.operands.n, 2);
	assert_string_equal(r.operands.v[1], "pool/b");
	perl_getopt_result_release(&r);

	/* names ignore case */
	assert_int_equal(PARSE(&syncoid_getopt, &r, &err, "-R", "--Recursive", "--SKIP-parent", NULL), 0);
	assert_string_equal(value_of(&r, "skip-parent"), "1");
	perl_getopt_result_release(&r);
	assert_int_equal(PARSE(&sanoid_getopt, &r, &err, "--CRON", NULL), 0);
	assert_string_equal(value_of(&r, "cron"), "1");
	perl_getopt_result_release(&r);

	/* -? is help; -v and --ve are --verbose (the automatic version gives way) */
	assert_int_equal(PARSE(&sanoid_getopt, &r, &err, "-?", NULL), 0);
	assert_int_equal(r.action, PERL_GETOPT_HELP);
	perl_getopt_result_release(&r);
	assert_int_equal(PARSE(&sanoid_getopt, &r, &err, "--cron", "-v", NULL), 0);
	assert_string_equal(value_of(&r, "verbose"), "1");
	perl_getopt_result_release(&r);
	assert_int_equal(PARSE(&sanoid_getopt, &r, &err, "--ve", NULL), 0);
	assert_string_equal(value_of(&r, "verbose"), "1");
	assert_int_equal(r.action, PERL_GETOPT_RUN);
	perl_getopt_result_release(&r);
	assert_int_equal(PARSE(&sanoid_getopt, &r, &err, "--vers", NULL), 0);
	assert_int_equal(r.action, PERL_GETOPT_VERSION);
	perl_getopt_result_release(&r);

	/* zkeep's extras do not make syncoid's abbreviations ambiguous */
	assert_int_equal(PARSE(&syncoid_getopt, &r, &err, "--se=x", "--no-cl", "a", "b", NULL), 0);
	assert_string_equal(value_of(&r, "sendoptions"), "x");
	assert_string_equal(value_of(&r, "no-clone-handling"), "1");
	perl_getopt_result_release(&r);
	assert_string_equal(err.buf, "");
}

static void test_messages(void **state)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct perl_getopt_result r = PERL_GETOPT_RESULT_INIT;

	assert_int_equal(PARSE(&syncoid_getopt, &r, &err, "--identifier=", "a", "b", NULL), -EINVAL);
	assert_string_equal(err.buf, "Option identifier requires an argument\n");
	perl_getopt_result_release(&r);
	strbuf_reset(&err);

	assert_int_equal(PARSE(&syncoid_getopt, &r, &err, "--sshport", "x", "--e", "y", "--bogus", NULL),
			 -EINVAL);
	assert_string_equal(err.buf, "Value \"x\" invalid for option sshport (number expected)\n"
				     "Option e is ambiguous (exclude, exclude-datasets, exclude-snaps)\n"
				     "Unknown option: bogus\n");
	/* the ambiguous option took no value: y is an operand */
	assert_int_equal(r.operands.n, 1);
	assert_string_equal(r.operands.v[0], "y");
	perl_getopt_result_release(&r);
	strbuf_reset(&err);

	/* a value is the next argument, whatever it looks like */
	assert_int_equal(PARSE(&syncoid_getopt, &r, &err, "--identifier", "--debug", "-o", "--", NULL), 0);
	assert_string_equal(value_of(&r, "identifier"), "--debug");
	assert_string_equal(value_of(&r, "sshoption"), "--");
	assert_null(value_of(&r, "debug"));
	perl_getopt_result_release(&r);

	/* errors before --help are printed, then the help */
	assert_int_equal(PARSE(&sanoid_getopt, &r, &err, "--bogus", "--help", "--also-bogus", NULL), -EINVAL);
	assert_int_equal(r.action, PERL_GETOPT_HELP);
	assert_string_equal(err.buf, "Unknown option: bogus\n");
	perl_getopt_result_release(&r);
	strbuf_reset(&err);

	assert_int_equal(PARSE(&sanoid_getopt, &r, &err, "--debug=1", "+", NULL), -EINVAL);
	assert_string_equal(err.buf, "Option debug does not take an argument\nMissing option after +\n");
	perl_getopt_result_release(&r);
}

static void test_extras(void **state)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct perl_getopt_result r = PERL_GETOPT_RESULT_INIT;

	assert_int_equal(PARSE(&syncoid_getopt, &r, &err, "-DRY-RUN", "--serve", "a", "b", NULL), 0);
	assert_string_equal(value_of(&r, "dry-run"), "1");
	assert_string_equal(value_of(&r, "serve"), "1");
	perl_getopt_result_release(&r);

	/* an extra with a value: "=N" or the next argument, never an operand */
	assert_int_equal(PARSE(&syncoid_getopt, &r, &err, "a", "--jobs", "3", "b", "-JOBS=4", NULL),
			 0);
	assert_string_equal(value_of(&r, "jobs"), "4");
	assert_int_equal(r.operands.n, 2);
	assert_string_equal(r.operands.v[1], "b");
	perl_getopt_result_release(&r);
	assert_int_equal(PARSE(&syncoid_getopt, &r, &err, "--jobs=", "--job=2", "--jobs", NULL),
			 -EINVAL);
	assert_string_equal(err.buf, "Option jobs requires an argument\nUnknown option: job\n"
				     "Option jobs requires an argument\n");
	strbuf_reset(&err);
	perl_getopt_result_release(&r);

	/* whole names only, and no value */
	assert_int_equal(PARSE(&syncoid_getopt, &r, &err, "--dry", "--dry-run=1", NULL), -EINVAL);
	assert_string_equal(err.buf, "Unknown option: dry\nOption dry-run does not take an argument\n");
	perl_getopt_result_release(&r);

	/* an extra that were a prefix of a script option would change Perl's parse */
	const struct perl_getopt *tables[] = { &sanoid_getopt, &syncoid_getopt };
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
		for (size_t e = 0; e < tables[t]->n_extras; e++)
			for (size_t o = 0; o < tables[t]->n_opts; o++) {
				const struct perl_opt *x = &tables[t]->extras[e];
				assert_false(strncmp(tables[t]->opts[o].spec, x->spec,
						     perl_opt_name_len(x)) == 0);
			}
}

static void test_posixly_correct(void **state)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct perl_getopt_result r = PERL_GETOPT_RESULT_INIT;
	struct perl_getopt g = syncoid_getopt;
	g.posixly_correct = true;

	/* the first operand ends the options; no abbreviations, no "+" */
	assert_int_equal(PARSE(&g, &r, &err, "--Recursive", "a", "--debug", NULL), 0);
	assert_string_equal(value_of(&r, "recursive"), "1");
	assert_int_equal(r.operands.n, 2);
	assert_string_equal(r.operands.v[1], "--debug");
	perl_getopt_result_release(&r);
	assert_int_equal(PARSE(&g, &r, &err, "--Recurs", "-identifier=x", NULL), -EINVAL);
	assert_string_equal(err.buf, "Unknown option: Recurs\nUnknown option: identifier=x\n");
	perl_getopt_result_release(&r);
}

static void test_sanoid_default_action(void **state)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct sanoid_args a;

#define DEFAULT_ACTION(expect, ...) \
	do { \
		const char *av[] = { "sanoid", __VA_ARGS__ }; \
		assert_int_equal(sanoid_args_parse(&a, (int)ARRAY_SIZE(av) - 1, (char *const *)av, \
						   false, &err), 0); \
		assert_int_equal(sanoid_default_action(&a.parsed), (expect)); \
		if (expect) \
			assert_true(a.cron && a.verbose); \
		sanoid_args_release(&a); \
	} while (0)

	DEFAULT_ACTION(true, NULL);
	DEFAULT_ACTION(true, "--configdir=/x", "--cache-dir", "/c", "--run-dir=/r", NULL);
	DEFAULT_ACTION(true, "--configdir=/x", "--configdir=/y", NULL);
	DEFAULT_ACTION(true, "--no-confine", NULL); /* zkeep's, not sanoid's */
	DEFAULT_ACTION(true, "operand", NULL);      /* sanoid ignores operands */
	DEFAULT_ACTION(false, "--verbose", NULL);
	DEFAULT_ACTION(false, "--readonly", "--verbose", NULL);
	DEFAULT_ACTION(false, "--quiet", NULL);
	DEFAULT_ACTION(false, "--debug", NULL);
	DEFAULT_ACTION(false, "--cache-ttl=0", NULL);
	DEFAULT_ACTION(false, "--force-prune", NULL);

	/* the nothing-to-do case does nothing */
	const char *ro[] = { "sanoid", "--readonly", "--verbose", NULL };
	assert_int_equal(sanoid_args_parse(&a, 3, (char *const *)ro, false, &err), 0);
	assert_false(a.cron || a.take || a.prune);
	sanoid_args_release(&a);

	/* --debug --quiet --cron: both stay, --quiet wins over verbosity */
	const char *dq[] = { "sanoid", "--debug", "--quiet", "--cron", "extra", NULL };
	assert_int_equal(sanoid_args_parse(&a, 5, (char *const *)dq, false, &err), 0);
	assert_true(a.debug && a.quiet && a.cron);
	assert_false(a.verbose);
	sanoid_args_release(&a);

	/* --cache-ttl=0 is false for sanoid, and stays 0 */
	const char *ttl[] = { "sanoid", "--cache-ttl=0_0", "--monitor-snapshots", NULL };
	assert_int_equal(sanoid_args_parse(&a, 3, (char *const *)ttl, false, &err), 0);
	assert_int_equal(a.cache_ttl, 0);
	sanoid_args_release(&a);
	assert_string_equal(err.buf, "");
}

static void test_syncoid_rules(void **state)
{
	struct repl_cli c;
	const char *both[] = { "syncoid", "--exclude=old", "a", "--exclude-datasets=new", "b", "--sshport=0_22", NULL };
	const char *old[] = { "syncoid", "--exclude=old", "--exclude", "older", "a", "b", NULL };
	const char *dq[] = { "syncoid", "--debug", "--quiet", "a", "b", NULL };

	/* both: --exclude is ignored (after syncoid's deprecation warning) */
	repl_cli_init(&c);
	c.syncoid = true;
	assert_int_equal(repl_cli_parse(&c, 6, (char **)both, ""), 0);
	assert_int_equal(c.exclude_datasets.n, 1);
	assert_string_equal(c.exclude_datasets.v[0], "new");
	assert_string_equal(c.sshport, "22");
	assert_string_equal(c.source_arg, "a");
	assert_string_equal(c.target_arg, "b");
	repl_cli_release(&c);

	repl_cli_init(&c);
	c.syncoid = true;
	assert_int_equal(repl_cli_parse(&c, 6, (char **)old, ""), 0);
	assert_int_equal(c.exclude_datasets.n, 2);
	assert_string_equal(c.exclude_datasets.v[1], "older");
	repl_cli_release(&c);

	/* --debug --quiet: debug lines and errors, no warnings or info */
	repl_cli_init(&c);
	c.syncoid = true;
	assert_int_equal(repl_cli_parse(&c, 5, (char **)dq, ""), 0);
	assert_true(log_enabled(LOG_LVL_DEBUG));
	assert_true(log_enabled(LOG_LVL_ERROR));
	assert_false(log_enabled(LOG_LVL_WARNING));
	assert_false(log_enabled(LOG_LVL_INFO));
	repl_cli_release(&c);
	log_set_level(LOG_LVL_NOTICE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_cases),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_extras),
		cmocka_unit_test(test_posixly_correct),
		cmocka_unit_test(test_sanoid_default_action),
		cmocka_unit_test(test_syncoid_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
