#include "unit.h"
#include "snapshots/sanoid_config.h"

static int parse(struct sanoid_config *cfg, const char *text, struct strbuf *err)
{
	return sanoid_config_parse(cfg, text, strlen(text), "sanoid.conf", sanoid_defaults_conf,
				   strlen(sanoid_defaults_conf), "defaults", err);
}

static void expect_error(const char *text, const char *needle)
{
	struct sanoid_config cfg;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(parse(&cfg, text, &err), -EINVAL);
	if (!strstr(err.buf, needle))
		fail_msg("error '%s' does not contain '%s'", err.buf, needle);
}

static int resolve(const char *text, const char *const *ds, struct sanoid_policies *out,
		   struct strbuf *err)
{
	struct sanoid_config cfg;
	size_t n = 0;
	int rc = parse(&cfg, text, err);
	if (rc < 0)
		return rc;
	while (ds[n])
		n++;
	rc = sanoid_config_resolve(&cfg, ds, n, out, NULL);
	sanoid_config_release(&cfg);
	return rc;
}

static void test_defaults_embedded(void **state)
{
	/* The shipped defaults, as compat.md lists them. */
	static const char *const ds[] = { "tank", NULL };
	struct sanoid_policies pol;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(resolve("[tank]\n", ds, &pol, &err), 0);
	assert_int_equal(pol.n, 1);
	const struct sanoid_policy *p = &pol.p[0];
	assert_string_equal(p->path, "tank");
	assert_true(p->autosnap && p->autoprune && p->monitor);
	assert_false(p->monitor_dont_warn || p->monitor_dont_crit || p->process_children_only);
	assert_int_equal(p->count[SNAP_FREQUENTLY], 0);
	assert_int_equal(p->count[SNAP_HOURLY], 48);
	assert_int_equal(p->count[SNAP_DAILY], 90);
	assert_int_equal(p->count[SNAP_WEEKLY], 0);
	assert_int_equal(p->count[SNAP_MONTHLY], 6);
	assert_int_equal(p->count[SNAP_YEARLY], 0);
	assert_int_equal(p->frequent_period, 15);
	assert_int_equal(p->script_timeout, 5);
	assert_int_equal(p->daily_hour, 23);
	assert_int_equal(p->daily_min, 59);
	assert_int_equal(p->weekly_wday, 1);
	assert_int_equal(p->weekly_hour, 23);
	assert_int_equal(p->weekly_min, 30);
	assert_int_equal(p->monthly_mday, 1);
	assert_int_equal(p->yearly_mon, 1);
	assert_int_equal(p->warn[SNAP_HOURLY], 90 * 60);
	assert_int_equal(p->crit[SNAP_HOURLY], 360 * 60);
	assert_int_equal(p->warn[SNAP_DAILY], 28 * 3600);
	assert_int_equal(p->crit[SNAP_DAILY], 32 * 3600);
	assert_int_equal(p->warn[SNAP_MONTHLY], 32 * 86400);
	assert_int_equal(p->crit[SNAP_MONTHLY], 40 * 86400);
	assert_int_equal(p->crit[SNAP_YEARLY], 0);
	assert_int_equal(p->capacity_warn, 80);
	assert_int_equal(p->capacity_crit, 95);
	assert_int_equal(p->prune_defer, 0);
	assert_null(p->pre_snapshot_script);
	sanoid_policies_release(&pol);
}

static void test_templates_in_order(void **state)
{
	static const char *const ds[] = { "tank", "tank/a-very-long-dataset-name-that-inih-would-truncate-at-fifty-bytes", NULL };
	static const char conf[] =
		"# comment\n"
		"[template_default]\n"
		"\thourly = 10\n"
		"\tdaily = 11\n"
		"[template_a]\n"
		"\thourly = 20\n"
		"\tmonthly = 21\n"
		"\trecursive = yes\n" /* ignored in a template */
		"[template_b]\n"
		"    hourly = 30\n"
		"    monitor = OFF\n"
		"[tank/a-very-long-dataset-name-that-inih-would-truncate-at-fifty-bytes]\n"
		"\tuse_template = a, b\n"
		"\tyearly = 2\n"
		"\tpre_snapshot_script = /usr/local/bin/a-hook-with-a-very-long-path/and/arguments --one --two --three --four --five --six --seven --eight --nine --ten --eleven --twelve --thirteen\n"
		"[tank]\n"
		"\tuse_template = b,a\n";
	struct sanoid_policies pol;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(resolve(conf, ds, &pol, &err), 0);
	const struct sanoid_policy *t = sanoid_policies_find(&pol, "tank");
	const struct sanoid_policy *c = sanoid_policies_find(&pol, ds[1]);
	assert_non_null(t);
	assert_non_null(c);
	/* a then b: b wins; own key wins over both; template_default under both */
	assert_int_equal(c->count[SNAP_HOURLY], 30);
	assert_int_equal(c->count[SNAP_MONTHLY], 21);
	assert_int_equal(c->count[SNAP_DAILY], 11);
	assert_int_equal(c->count[SNAP_YEARLY], 2);
	assert_false(c->monitor);
	assert_int_equal(c->recursive, RECURSIVE_NO);
	assert_true(strstr(c->pre_snapshot_script, "--thirteen") != NULL);
	/* b then a: a wins */
	assert_int_equal(t->count[SNAP_HOURLY], 20);
	assert_int_equal(t->count[SNAP_DAILY], 11);
	sanoid_policies_release(&pol);
}

static void test_recursive_yes_child_overrides(void **state)
{
	static const char *const ds[] = { "tank", "tank/a", "tank/a/x", "tank/b", "other", NULL };
	/* The child section comes first: it still wins over its parent. */
	static const char conf[] =
		"[tank/a]\nhourly = 5\n"
		"[tank]\nrecursive = yes\nhourly = 7\ndaily = 3\nprocess_children_only = yes\n";
	struct sanoid_policies pol;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(resolve(conf, ds, &pol, &err), 0);
	assert_int_equal(pol.n, 4);
	const struct sanoid_policy *t = sanoid_policies_find(&pol, "tank");
	const struct sanoid_policy *a = sanoid_policies_find(&pol, "tank/a");
	const struct sanoid_policy *x = sanoid_policies_find(&pol, "tank/a/x");
	const struct sanoid_policy *b = sanoid_policies_find(&pol, "tank/b");
	assert_true(t->process_children_only);
	assert_int_equal(t->recursive, RECURSIVE_YES);
	assert_false(a->process_children_only); /* not inherited */
	assert_int_equal(a->count[SNAP_HOURLY], 5);
	assert_int_equal(a->count[SNAP_DAILY], 3); /* the rest from the parent */
	assert_true(a->own_section);
	assert_int_equal(x->count[SNAP_HOURLY], 7);
	assert_int_equal(b->count[SNAP_HOURLY], 7);
	assert_true(b->autosnap);
	assert_false(b->own_section);
	assert_null(sanoid_policies_find(&pol, "other"));
	sanoid_policies_release(&pol);
}

static void test_recursive_zfs_and_skip(void **state)
{
	static const char *const ds[] = { "tank", "tank/a", "tank/a/x", "pool", "pool/c", NULL };
	static const char conf[] =
		"[tank]\nrecursive = zfs\nhourly = 7\n"
		"[tank/a]\ndaily = 4\nautosnap = yes\n"
		"[pool]\nskip_children = yes\n";
	struct sanoid_policies pol;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(resolve(conf, ds, &pol, &err), 0);
	const struct sanoid_policy *t = sanoid_policies_find(&pol, "tank");
	const struct sanoid_policy *a = sanoid_policies_find(&pol, "tank/a");
	const struct sanoid_policy *x = sanoid_policies_find(&pol, "tank/a/x");
	assert_true(t->autosnap && t->zfs_recursion);
	assert_int_equal(t->recursive, RECURSIVE_ZFS);
	/* children are covered by the parent's snapshot -r: never taken alone */
	assert_false(a->autosnap);
	assert_false(x->autosnap);
	assert_true(a->zfs_recursion && x->zfs_recursion);
	assert_int_equal(a->count[SNAP_DAILY], 4);
	assert_int_equal(a->count[SNAP_HOURLY], 7);
	assert_int_equal(x->count[SNAP_DAILY], 90);
	assert_true(x->autoprune);
	assert_non_null(sanoid_policies_find(&pol, "pool"));
	assert_null(sanoid_policies_find(&pol, "pool/c"));
	sanoid_policies_release(&pol);
}

static void test_path_key_and_roots(void **state)
{
	static const char *const ds[] = { "tank/home", NULL };
	struct sanoid_config cfg;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_strvec_ struct strvec roots = STRVEC_INIT;
	assert_int_equal(parse(&cfg, "[home]\npath = tank/home\n[template_x]\n[tank/home]\n", &err), 0);
	sanoid_config_roots(&cfg, &roots);
	assert_int_equal(roots.n, 1);
	assert_string_equal(roots.v[0], "tank/home");
	struct sanoid_policies pol;
	assert_int_equal(sanoid_config_resolve(&cfg, ds, 1, &pol, NULL), 0);
	assert_int_equal(pol.n, 1);
	sanoid_policies_release(&pol);
	sanoid_config_release(&cfg);
}

/* The one problem of resolving text against ds, which must contain needle; the policy
 * of refused_path must be refused, that of good_path not. */
static void expect_refused(const char *text, const char *needle, const char *refused_path,
			   const char *good_path)
{
	static const char *const ds[] = { "tank", "tank/a", "pool", NULL };
	struct sanoid_policies pol;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(resolve(text, ds, &pol, &err), 0);
	if (pol.problems.n != 1 || !strstr(pol.problems.v[0], needle))
		fail_msg("%zu problems, the first '%s'; expected one with '%s'", pol.problems.n,
			 pol.problems.n ? pol.problems.v[0] : "", needle);
	const struct sanoid_policy *r = sanoid_policies_find(&pol, refused_path);
	assert_non_null(r);
	assert_true(r->refused);
	assert_false(r->autosnap);
	assert_false(r->autoprune);
	if (good_path) {
		const struct sanoid_policy *g = sanoid_policies_find(&pol, good_path);
		assert_non_null(g);
		assert_false(g->refused);
		assert_true(g->autosnap);
	}
	sanoid_policies_release(&pol);
}

static void test_errors(void **state)
{
	/* Fatal, as for sanoid: an unknown key, a file Config::IniFiles cannot read. */
	expect_error("[tank]\nhourly = 1\nhoutly = 3\n", "sanoid.conf:3: [tank] houtly: unknown setting");
	expect_error("hourly = 3\n", "sanoid.conf:1: 'hourly' comes before the first [section]");
	expect_error("[tank]\njust words\n", "sanoid.conf:2: expected");
	expect_error("[tank\n", "sanoid.conf:1: bad section header");
	expect_error("[tank] # pool\n", "sanoid.conf:1: bad section header");
	expect_error("[tank]\nhourly = <<EOT\n5\n", "sanoid.conf:2: 'hourly = <<EOT' has no end");
	expect_error("# nothing\n", "no [section]");
	expect_error("\xEF\xBB\xBF[tank]\n", "sanoid.conf:1: the file starts with a UTF-8 byte order mark");

	/* A value sanoid would misread refuses its section, and only that one. */
	expect_refused("[tank]\nhourly = many\n[pool]\n",
		       "sanoid.conf:2: [tank] hourly: 'many' is not a whole number from 0 to 1000000 "
		       "(sanoid 2.3.0 would read it as 0)", "tank", "pool");
	expect_refused("[pool]\n[tank]\nhourly = -1.5\n", "would read it as -1.5", "tank", "pool");
	expect_refused("[tank]\ndaily_hour = 25\n[pool]\n",
		       "[tank] daily_hour: '25' is not a whole number from 0 to 23 (sanoid 2.3.0 would "
		       "read it as 25, and die if Time::Local refuses it", "tank", "pool");
	expect_refused("[tank]\nautosnap = no ; paused\n[pool]\n",
		       "sanoid.conf:2: [tank] autosnap: 'no ; paused' is not one of yes/no", "tank", "pool");
	expect_refused("[tank]\nautosnap = no # paused\n[pool]\n", "would read it as yes", "tank", "pool");
	expect_refused("[tank]\nautoprune = nO\n[pool]\n", "would read it as yes", "tank", "pool");
	expect_refused("[tank]\nrecursive = deep\n[pool]\n",
		       "[tank] recursive: 'deep' is not one of no, yes, zfs (sanoid 2.3.0 would read it as no)",
		       "tank", "pool");
	expect_refused("[tank]\n\nhourly_warn = 90x\n[pool]\n",
		       "sanoid.conf:3: [tank] hourly_warn: '90x' is not an age", "tank", "pool");
	expect_refused("[tank]\nhourly_warn = 1d12h\n[pool]\n", "would read it as 1 second", "tank", "pool");
	expect_refused("[tank]\nfrequent_period = 0\n[pool]\n", "die dividing by it", "tank", "pool");
	/* A bad template refuses the sections that use it; its children get nothing either. */
	expect_refused("[template_t]\nhourly = x\n[tank]\nuse_template = t\nrecursive = yes\n[pool]\n",
		       "sanoid.conf:2: [template_t] hourly: 'x' is not a whole number", "tank/a", "pool");
	expect_refused("[template_default]\nmonitor = maybe\n[tank]\n",
		       "[template_default] monitor: 'maybe'", "tank", NULL);
	/* sanoid trims a template's values only when it has come to it in the file. */
	expect_refused("[tank]\nuse_template = t\n[template_t]\nautosnap = no \n[pool]\n",
		       "'no ' is not one of", "tank", "pool");
	/* A missing dataset stops nothing: its policy is marked, the problem names
	 * file, line and section, and the other sections resolve as before. */
	static const char *const ds[] = { "tank", "tank/c", NULL };
	struct sanoid_policies pol;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(resolve("[tank]\nrecursive = yes\nhourly = 5\n\n[tank/gone]\nhourly = 1\n"
				 "[usb/x]\ndaily = 2\n", ds, &pol, &err), 0);
	assert_int_equal(pol.problems.n, 2);
	assert_non_null(strstr(pol.problems.v[0], "sanoid.conf:5: [tank/gone]: dataset 'tank/gone' does not exist"));
	assert_non_null(strstr(pol.problems.v[1], "sanoid.conf:7: [usb/x]: dataset 'usb/x' does not exist"));
	const struct sanoid_policy *gone = sanoid_policies_find(&pol, "tank/gone");
	assert_non_null(gone);
	assert_true(gone->missing);
	assert_int_equal(gone->count[SNAP_HOURLY], 1);
	const struct sanoid_policy *c = sanoid_policies_find(&pol, "tank/c");
	assert_non_null(c);
	assert_false(c->missing);
	assert_int_equal(c->count[SNAP_HOURLY], 5);
	assert_false(sanoid_policies_find(&pol, "tank")->missing);
	sanoid_policies_release(&pol);
}

/* What sanoid reads as intended, zkeep reads the same; sanoid's warnings are kept. */
static void test_read_as_sanoid(void **state)
{
	static const char *const ds[] = { "tank", "pool", NULL };
	struct sanoid_config cfg;
	struct sanoid_policies pol;
	_cleanup_strvec_ struct strvec warnings = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;

	strbuf_init(&text, 1 << 20);
	strbuf_addstr(&text, "[tank]\r\n  hourly = 5 # five\r\n  hourly = 7\r\n  daily = <<EOT\r\n 3 \r\n"
		      "4\r\nEOT\r\n  use_template = nosuch, t\r\n  pre_snapshot_script = /bin/");
	for (int i = 0; i < 5000; i++) /* no line length limit */
		strbuf_addch(&text, 'x');
	strbuf_addstr(&text, "\r\n[template_t]\r\nmonthly = 2\r\n[pool]\r\nautosnap = No\r\n"
		      "[tank]\r\nweekly = 1\r\nhourly = 9\r\n");
	assert_int_equal(sanoid_config_parse(&cfg, text.buf, text.len, "sanoid.conf",
					     sanoid_defaults_conf, strlen(sanoid_defaults_conf),
					     "defaults", &err), 0);
	assert_int_equal(sanoid_config_resolve(&cfg, ds, 2, &pol, &warnings), 0);
	assert_int_equal(pol.problems.n, 0);
	const struct sanoid_policy *tank = sanoid_policies_find(&pol, "tank");
	assert_int_equal(tank->count[SNAP_HOURLY], 5);  /* the first value, its comment ignored */
	assert_int_equal(tank->count[SNAP_DAILY], 3);   /* the heredoc's first line, trimmed */
	assert_int_equal(tank->count[SNAP_WEEKLY], 1);  /* a repeated section continues */
	assert_int_equal(tank->count[SNAP_MONTHLY], 2); /* the unknown template is skipped */
	assert_int_equal(strlen(tank->pre_snapshot_script), 5005);
	assert_false(sanoid_policies_find(&pol, "pool")->autosnap);
	_cleanup_free_ char *all = strvec_join(&warnings, "\n");
	assert_non_null(strstr(all, "duplicate key 'hourly' in section 'tank', using the value from "
				    "the first occurence and ignoring the others."));
	assert_non_null(strstr(all, "duplicate key 'daily' in section 'tank'"));
	assert_non_null(strstr(all, "sanoid.conf:2: [tank] hourly: '5 # five' is read as 5"));
	assert_non_null(strstr(all, "sanoid.conf:8: [tank] use_template: no section [template_nosuch]"));
	sanoid_policies_release(&pol);
	sanoid_config_release(&cfg);
}

/* use_template is split as sanoid splits it: at commas only. */
static void test_template_names_as_sanoid(void **state)
{
	static const char *const ds[] = { "tank", NULL };
	struct sanoid_policies pol;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(resolve("[template_a b]\nhourly = 3\n[template_c]\ndaily = 4\n"
				 "[template_a]\nhourly = 9\n[tank]\nuse_template = a b ,c,\n",
				 ds, &pol, &err), 0);
	assert_int_equal(pol.problems.n, 0);
	assert_int_equal(pol.p[0].count[SNAP_HOURLY], 3);
	assert_int_equal(pol.p[0].count[SNAP_DAILY], 4);
	sanoid_policies_release(&pol);
}

/* Numbers sanoid reads as written are read the same, however they are written. */
static void test_numbers_as_perl(void **state)
{
	static const char *const ds[] = { "tank", NULL };
	struct sanoid_policies pol;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(resolve("[tank]\nhourly = 05\ndaily = +3\nweekly = 1.0\nmonthly = 2e0\n"
				 "yearly = 1 ; one\n", ds, &pol, &err), 0);
	assert_int_equal(pol.problems.n, 0);
	assert_int_equal(pol.p[0].count[SNAP_HOURLY], 5);
	assert_int_equal(pol.p[0].count[SNAP_DAILY], 3);
	assert_int_equal(pol.p[0].count[SNAP_WEEKLY], 1);
	assert_int_equal(pol.p[0].count[SNAP_MONTHLY], 2);
	assert_int_equal(pol.p[0].count[SNAP_YEARLY], 1);
	sanoid_policies_release(&pol);
	expect_refused("[tank]\nhourly = 5x\n[pool]\n", "would read it as 5)", "tank", "pool");
}

static void test_defaults_file_rules(void **state)
{
	struct sanoid_config cfg;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	static const char old[] = "[template_default]\nhourly = 1\n";
	assert_int_equal(sanoid_config_parse(&cfg, "", 0, "c", old, strlen(old), "d", &err), -EINVAL);
	assert_non_null(strstr(err.buf, "version 1"));
	/* A key the defaults file does not list is unknown to sanoid. */
	static const char small[] = "[version]\nversion = 2\n[template_default]\nhourly = 1\n";
	strbuf_reset(&err);
	assert_int_equal(sanoid_config_parse(&cfg, "[t]\ndaily = 3\n", 11, "c", small, strlen(small), "d", &err), -EINVAL);
	assert_non_null(strstr(err.buf, "c:2: [t] daily: unknown setting"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_embedded),
		cmocka_unit_test(test_templates_in_order),
		cmocka_unit_test(test_recursive_yes_child_overrides),
		cmocka_unit_test(test_recursive_zfs_and_skip),
		cmocka_unit_test(test_path_key_and_roots),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_read_as_sanoid),
		cmocka_unit_test(test_template_names_as_sanoid),
		cmocka_unit_test(test_numbers_as_perl),
		cmocka_unit_test(test_defaults_file_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
