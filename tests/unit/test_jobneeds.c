/*
 * test_jobneeds.c - one rule for the grants a job needs (jobconf.h): the
 * grants `zkeep units` makes its ExecStartPre=+ apply (`zkeep allow --apply
 * --job NAME`: jobconf_parse, jobconf_needs) equal the grants the live
 * worker of that unit's ExecStart= run computes (its command line through
 * repl_cli_parse and the confined layer's repl_cli_grant_facts, then
 * jobconf_repl_needs), for every kind of job; and pins the rule itself for
 * the runs zkeep.conf cannot describe.
 */
#include "unit.h"
#include "confine/jobconf.h"
#include "cli/repl_confined.h"

/* "HOST DATASET SCOPE PERMS" per grant, for ZFS major.minor. */
static void grants_text(const struct deleg_need *n, size_t nn, unsigned minor, struct strbuf *out)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	if (deleg_compute(n, nn, 2, minor, &set, &err) < 0)
		fail_msg("deleg_compute: %s", err.buf);
	for (size_t i = 0; i < set.n; i++) {
		_cleanup_free_ char *perms = deleg_perms_join(&set.g[i]);
		strbuf_addf(out, "%s %s %c %s\n", set.g[i].host ? set.g[i].host : "-",
			    set.g[i].dataset, set.g[i].scope ? set.g[i].scope : '0', perms);
	}
}

/* The grants of the unit's ExecStartPre=+ for [job j] of conf, with these run-time facts. */
static void unit_grants(const char *conf, bool exists, bool partial, unsigned minor,
			struct strbuf *out)
{
	struct jobconf c;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_strvec_ struct strvec props = STRVEC_INIT;
	if (jobconf_parse(conf, "zkeep.conf", &c, &err) < 0)
		fail_msg("%s", err.buf);
	struct deleg_need n[2];
	size_t nn = jobconf_needs(jobconf_find(&c, "j"), exists, partial, &props, n);
	grants_text(n, nn, minor, out);
	jobconf_release(&c);
}

/*
 * The grants the confined worker of `zkeep ARGS...` (replicate or syncoid)
 * computes, with these run-time facts (what it reads from ZFS).
 */
static void worker_grants(const char *const *args, bool src_remote, bool dst_remote,
			  bool exists, bool partial, const char *const *local_props, unsigned minor,
			  bool by_root, struct strbuf *out)
{
	struct repl_cli c;
	repl_cli_init(&c);
	c.syncoid = streq(args[0], "syncoid");
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	strvec_pushv(&argv, args);
	if (repl_cli_parse(&c, (int)argv.n, argv.v, "") != 0)
		fail_msg("%s: options refused", args[0]);
	struct repl_facts f;
	repl_cli_grant_facts(&c, src_remote, dst_remote, &f);
	f.source_props = local_props;
	f.target_exists = !dst_remote && exists;
	f.target_partial_full = !dst_remote && partial;
	/* as root, or a unit's run with root's receive socket (repl_confined.c) */
	f.receives_by_root = !dst_remote && by_root;
	_cleanup_strvec_ struct strvec props = STRVEC_INIT;
	struct deleg_need n[2];
	size_t nn = jobconf_repl_needs(&f, &props, n);
	grants_text(n, nn, minor, out);
	repl_cli_release(&c);
}

struct unit_case {
	const char *what;
	const char *conf;
	/* the unit's ExecStart= (cmd/units.c), after the path of zkeep */
	const char *exec[8];
	bool target_remote;
};

static const struct unit_case unit_cases[] = {
	{ "local push", "[job j]\nsource = tank/a\ntarget = backup/a\n",
	  { "replicate", "--recvoptions=u", "tank/a", "backup/a" } },
	{ "push to a remote", "[job j]\nsource = tank/a\ntarget = me@nas:pool/a\n",
	  { "replicate", "--recvoptions=u", "tank/a", "me@nas:pool/a" }, true },
	{ "raw", "[job j]\nsource = tank/a\ntarget = backup/a\nraw = yes\n",
	  { "replicate", "--recvoptions=u", "--sendoptions=w", "tank/a", "backup/a" } },
	{ "recursive", "[job j]\nsource = tank/a\ntarget = backup/a\nrecursive = yes\n",
	  { "replicate", "--recvoptions=u", "--recursive", "tank/a", "backup/a" } },
	{ "raw recursive forced",
	  "[job j]\nsource = tank/a\ntarget = backup/a\nrecursive = yes\nraw = yes\nforce = yes\n",
	  { "replicate", "--recvoptions=u", "--recursive", "--sendoptions=w", "--rollback",
	    "tank/a", "backup/a" } },
	{ "raw push to a remote", "[job j]\nsource = tank/a\ntarget = nas:pool/a\nraw = yes\n",
	  { "replicate", "--recvoptions=u", "--sendoptions=w", "tank/a", "nas:pool/a" }, true },
};

static void test_units_equal_worker(void **state)
{
	/* every run-time state of the target: there, new, an interrupted full receive */
	static const bool facts[][2] = { { true, false }, { false, false }, { true, true } };
	for (size_t i = 0; i < ARRAY_SIZE(unit_cases); i++)
		for (size_t k = 0; k < ARRAY_SIZE(facts); k++)
			for (unsigned minor = 3; minor <= 4; minor++) {
				const struct unit_case *uc = &unit_cases[i];
				_cleanup_strbuf_ struct strbuf u = STRBUF_INIT, w = STRBUF_INIT;
				bool exists = !uc->target_remote && facts[k][0];
				bool partial = !uc->target_remote && facts[k][1];
				unit_grants(uc->conf, exists, partial, minor, &u);
				/* the unit's run has root's receive socket for a local target */
				worker_grants(uc->exec, false, uc->target_remote, exists, partial,
					      NULL, minor, !uc->target_remote, &w);
				if (!streq(u.buf, w.buf))
					fail_msg("%s (exists %d, partial %d, 2.%u): unit\n%sworker\n%s",
						 uc->what, facts[k][0], facts[k][1], minor, u.buf,
						 w.buf);
				assert_true(u.len > 0);
				/* and so is granted no receive anywhere, the target's parent
				 * included */
				if (strstr(u.buf, "receive"))
					fail_msg("%s (exists %d, partial %d): a unit's run holds "
						 "receive:\n%s", uc->what, facts[k][0], facts[k][1],
						 u.buf);
			}
}

/* The rule itself, for runs zkeep.conf cannot describe (and the ones it can). */
static void expect(const char *const *args, bool src_remote, bool dst_remote, bool exists,
		   bool partial, const char *const *local_props, const char *want)
{
	_cleanup_strbuf_ struct strbuf got = STRBUF_INIT;
	worker_grants(args, src_remote, dst_remote, exists, partial, local_props, 3, false, &got);
	if (!streq(got.buf, want))
		fail_msg("%s: got\n%swant\n%s", args[0], got.buf, want);
}

static void test_rule(void **state)
{
	/*
	 * every receive sets the quarantine (zfs/recvprops.h): devices, exec, setuid,
	 * sharenfs, sharesmb, volmode and zoned are granted on the target
	 */
	/* local push, target there */
	expect(ARGV("replicate", "tank/a", "backup/a"), false, false, true, false, NULL,
	       "- backup/a d destroy,mount\n"
	       "- backup/a l create,devices,exec,hold,mount,receive,release,setuid,sharenfs,"
	       "sharesmb,volmode,zoned\n"
	       "- tank/a d destroy,mount,send\n"
	       "- tank/a l bookmark,hold,release,snapshot\n");
	/*
	 * an interrupted full receive: granted as new - on the parent only what
	 * creating it needs (l), the rest in the parent's create-time set (c) -
	 * and as the target it is now (a resume continues it), with destroy
	 */
	const char *new_target =
		"- backup c create,destroy,devices,exec,hold,mount,receive,release,setuid,"
		"sharenfs,sharesmb,volmode,zoned\n"
		"- backup l create,mount,receive\n";
	const char *source = "- tank/a d destroy,mount,send\n"
			     "- tank/a l bookmark,hold,release,snapshot\n";
	_cleanup_free_ char *partial = xasprintf(
		"%s- backup/a d destroy,mount\n"
		"- backup/a l create,destroy,devices,exec,hold,mount,receive,release,setuid,sharenfs,"
		"sharesmb,volmode,zoned\n%s", new_target, source);
	expect(ARGV("replicate", "tank/a", "backup/a"), false, false, true, true, NULL, partial);
	/* --force-delete may destroy the target (zfs destroy -r) and receive it anew:
	 * granted as new, with destroy on the target when it is there */
	_cleanup_free_ char *absent = xasprintf("%s%s", new_target, source);
	for (int there = 0; there <= 1; there++)
		expect(ARGV("replicate", "--force-delete", "tank/a", "backup/a"), false, false,
		       there, false, NULL, there ? partial : absent);
	/* ... pulled from a remote: only the target, here */
	expect(ARGV("syncoid", "--force-delete", "me@nas:pool/a", "backup/a"), true, false, true,
	       false, NULL,
	       "- backup c create,destroy,devices,exec,hold,mount,receive,release,rollback,setuid,"
	       "sharenfs,sharesmb,volmode,zoned\n"
	       "- backup l create,mount,receive\n"
	       "- backup/a d destroy,mount\n"
	       "- backup/a l create,destroy,devices,exec,hold,mount,receive,release,rollback,setuid,"
	       "sharenfs,sharesmb,volmode,zoned\n");
	/* both ends remote: nothing at all here (the worker gets no ZFS) */
	expect(ARGV("replicate", "--force-delete", "me@a:pool/a", "me@b:pool/a"), true, true,
	       false, false, NULL, "");
	/* syncoid rolls back unless --no-rollback */
	expect(ARGV("syncoid", "tank/a", "backup/a"), false, false, true, false, NULL,
	       "- backup/a d destroy,mount\n"
	       "- backup/a l create,devices,exec,hold,mount,receive,release,rollback,setuid,"
	       "sharenfs,sharesmb,volmode,zoned\n"
	       "- tank/a d destroy,mount,send\n"
	       "- tank/a l bookmark,hold,release,snapshot\n");
	/* pull from a remote: only the target, here */
	expect(ARGV("replicate", "me@nas:pool/a", "backup/a"), true, false, true, false, NULL,
	       "- backup/a d destroy,mount\n"
	       "- backup/a l create,devices,exec,hold,mount,receive,release,setuid,sharenfs,"
	       "sharesmb,volmode,zoned\n");
	/* no sync snapshot: the source takes and destroys none */
	expect(ARGV("replicate", "--no-sync-snap", "tank/a", "nas:pool/a"), false, true, false,
	       false, NULL,
	       "- tank/a d send\n"
	       "- tank/a l bookmark,hold,release\n");
	/* received properties: --recvoptions "o k=v", --preserve-properties, --preserve-recordsize */
	static const char *const local[] = { "compression", "org.example:tag", NULL };
	expect(ARGV("replicate", "--recvoptions=u o atime=off", "--preserve-properties",
		    "--preserve-recordsize", "tank/a", "backup/a"),
	       false, false, true, false, local,
	       "- backup/a d destroy,mount\n"
	       "- backup/a l atime,compression,create,devices,exec,hold,mount,receive,recordsize,"
	       "release,setuid,sharenfs,sharesmb,userprop,volmode,zoned\n"
	       "- tank/a d destroy,mount,send\n"
	       "- tank/a l bookmark,hold,release,snapshot\n");
}

static bool exists_in(const char *name, void *ctx)
{
	for (const char *const *p = ctx; *p; p++)
		if (streq(*p, name))
			return true;
	return false;
}

static void test_snapshots_job(void **state)
{
	/* sanoid.conf's sections in file order; the engine's roots are those not below another */
	static const char *const conf_roots[] = { "tank/a", "tank/a/b", "gone/x", "tank/c" };
	static const char *const engine_roots[] = { "gone/x", "tank/a", "tank/c" };
	static const char *const pool[] = { "tank", "tank/a", "tank/a/b", "tank/c", NULL };
	struct deleg_need u[4], w[3];
	/* ExecStartPre=+: sanoid --cron takes and prunes */
	size_t nu = jobconf_snapshot_needs(conf_roots, 4, true, true, exists_in, (void *)pool, u);
	/* the worker of sanoid --cron: the engine's roots, existence from its listing */
	size_t nw = jobconf_snapshot_needs(engine_roots, 3, true, true, exists_in, (void *)pool, w);
	_cleanup_strbuf_ struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	grants_text(u, nu, 3, &a);
	grants_text(w, nw, 3, &b);
	assert_string_equal(a.buf, b.buf);
	assert_string_equal(a.buf, "- tank/a 0 destroy,mount,snapshot\n"
				   "- tank/c 0 destroy,mount,snapshot\n");
	/* --take-snapshots alone: snapshot only */
	strbuf_reset(&b);
	nw = jobconf_snapshot_needs(engine_roots, 3, true, false, exists_in, (void *)pool, w);
	grants_text(w, nw, 3, &b);
	assert_string_equal(b.buf, "- tank/a 0 snapshot\n- tank/c 0 snapshot\n");
}

/* What root unmounts when a confined --force-delete worker asks: its target's tree only. */
static void test_unmount_request(void **state)
{
	const char *ds = NULL;
	assert_int_equal(repl_unmount_request("bk/a", "unmount bk/a", &ds), 0);
	assert_string_equal(ds, "bk/a");
	assert_int_equal(repl_unmount_request("bk/a", "unmount bk/a/kid", &ds), 0);
	assert_string_equal(ds, "bk/a/kid");
	const char *bad[] = {
		"unmount bk/ab",         /* a sibling that shares a prefix */
		"unmount bk",            /* the parent */
		"unmount bk/b",
		"unmount /etc",          /* a path */
		"unmount bk/a/../b",
		"unmount bk/a@snap",
		"unmount  bk/a",         /* exact words only */
		"unmount bk/a\n",
		"unmount bk/a x",
		"umount bk/a",
		"unmount",
		"",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (repl_unmount_request("bk/a", bad[i], &ds) != -EPERM)
			fail_msg("accepted '%s'", bad[i]);
	/* a pool's root is never destroyed: its job's worker gets no unmount */
	assert_int_equal(repl_unmount_request("bk", "unmount bk", &ds), -EPERM);
	assert_int_equal(repl_unmount_request("bk", "unmount bk/x", &ds), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units_equal_worker),
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_snapshots_job),
		cmocka_unit_test(test_unmount_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
