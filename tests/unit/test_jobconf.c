#include "unit.h"
#include "confine/jobconf.h"

static const char conf_text[] =
	"[zkeep]\n"
	"state_dir = /var/lib/zk\n"
	"run_uids = 61000-61009\n"
	"\n"
	"[job offsite]\n"
	"source = tank/data\n"
	"target = backup@nas:pool/tank-data\n"
	"recursive = yes\n"
	"raw = yes\n"
	"schedule = *-*-* 02:00:00\n"
	"randomized_delay = 30m\n"
	"ssh_port = 2222\n"
	"ssh_key = /etc/zkeep/keys/offsite\n"
	"ssh_known_hosts = /etc/zkeep/known_hosts\n"
	"serve = yes\n"
	"\n"
	"[job local]\n"
	"source = tank/data\n"
	"target = backup/data\n"
	"force = yes\n"
	"receive_set = readonly=on canmount=noauto\n"
	"receive_inherit = atime\n";

static void test_parse(void **state)
{
	struct jobconf c;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(jobconf_parse(conf_text, "zkeep.conf", &c, &err), 0);
	assert_string_equal(c.state_dir, "/var/lib/zk");
	assert_int_equal(c.uid_min, 61000);
	assert_int_equal(c.uid_max, 61009);
	assert_string_equal(c.snapshot_schedule, "*:0/15");
	assert_int_equal(c.njobs, 2);
	const struct job *o = jobconf_find(&c, "offsite");
	assert_non_null(o);
	assert_string_equal(o->target_host, "backup@nas");
	assert_string_equal(o->target, "pool/tank-data");
	assert_true(o->recursive && o->raw && !o->force);
	assert_int_equal(o->randomized_delay, 1800);
	assert_int_equal(o->ssh_port, 2222);
	assert_string_equal(o->ssh_key, "/etc/zkeep/keys/offsite");
	assert_string_equal(o->ssh_known_hosts, "/etc/zkeep/known_hosts");
	assert_true(o->serve);
	assert_string_equal(o->schedule, "*-*-* 02:00:00");
	const struct job *l = jobconf_find(&c, "local");
	assert_null(l->target_host);
	assert_string_equal(l->schedule, "hourly");
	assert_int_equal(l->randomized_delay, 300);
	assert_null(l->ssh_key);
	assert_false(l->serve);
	/* the receive's own properties, as --recvoptions words after the unit's -u */
	assert_string_equal(l->recvoptions, "u o readonly=on o canmount=noauto x atime");
	assert_string_equal(o->recvoptions, "u");

	struct deleg_need n[2];
	_cleanup_strvec_ struct strvec props = STRVEC_INIT;
	/* A remote target: only the source side is granted here. */
	assert_int_equal(jobconf_needs(o, true, false, &props, n), 1);
	assert_int_equal(n[0].ops & DELEG_SEND_RAW, DELEG_SEND_RAW);
	assert_int_equal(jobconf_needs(l, false, false, &props, n), 2);
	assert_false(n[1].exists);
	assert_true(n[1].ops & DELEG_RECV_FORCE);
	/* its unit's run asks root's receive socket: no receive grant (units.c) */
	assert_true(n[1].ops & DELEG_RECV_BY_ROOT);
	/* what the job's receive sets or inherits is granted with the quarantine's */
	assert_true(strvec_find(&props, "readonly") >= 0);
	assert_true(strvec_find(&props, "canmount") >= 0);
	assert_true(strvec_find(&props, "atime") >= 0);
	assert_true(strvec_find(&props, "exec") >= 0);
	jobconf_release(&c);
}

/* A target is remote exactly when the endpoint parser says so: a ':' before the
 * first '/' names a host; one after it is part of a local dataset's name. */
static void test_target_endpoint(void **state)
{
	static const struct {
		const char *target, *host, *dataset;
	} cases[] = {
		{ "backup/b:c", NULL, "backup/b:c" },
		{ "nas:pool", "nas", "pool" },
		{ "nas:pool/x:y", "nas", "pool/x:y" },
		{ "@nas:pool/x", "nas", "pool/x" },
		{ "me@nas:pool/x", "me@nas", "pool/x" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *text = xasprintf("[job a]\nsource = tank\ntarget = %s\n",
						      cases[i].target);
		struct jobconf c;
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
		assert_int_equal(jobconf_parse(text, "zkeep.conf", &c, &err), 0);
		const struct job *j = jobconf_find(&c, "a");
		if (cases[i].host)
			assert_string_equal(j->target_host, cases[i].host);
		else
			assert_null(j->target_host);
		assert_string_equal(j->target, cases[i].dataset);
		jobconf_release(&c);
	}
}

static void test_errors(void **state)
{
	const char *bad[] = {
		"[job a]\nsource = tank\n",                           /* no target */
		"[job a]\nsource = tank\ntarget = b\nfrobnicate = 1\n", /* unknown key */
		"[job a/b]\nsource = tank\ntarget = b\n",             /* bad name */
		"[job ..]\nsource = tank\ntarget = b\n",
		"[job a]\nsource = t\ntarget = b\nschedule = daily;reboot\n",
		"[job a]\nsource = t\ntarget = h$x:pool/b\n",
		"[job a]\nsource = tank@x\ntarget = b\n",             /* snapshot as source */
		"[job a]\nsource = t\ntarget = b\nschedule = daily\nExecStart=/bin/sh\n",
		"[job a]\nsource = t\ntarget = b\nschedule = daily\\nExecStart=x\n",
		"[job a]\nsource = t\ntarget = b\nssh_port = 70000\n",
		/* key files go into LoadCredential=: absolute, no specifier, for ssh only */
		"[job a]\nsource = t\ntarget = h:b\nssh_key = keys/a\n",
		"[job a]\nsource = t\ntarget = h:b\nssh_key = /etc/%d/key\n",
		"[job a]\nsource = t\ntarget = h:b\nssh_known_hosts = /etc/k h\n",
		"[job a]\nsource = t\ntarget = h:b\nssh_key = /k;ExecStart=/bin/sh\n",
		"[job a]\nsource = t\ntarget = b\nssh_key = /etc/zkeep/keys/a\n",
		"[job a]\nsource = t\ntarget = b\nserve = yes\n",
		"[job a]\nsource = t\ntarget = h:b\nserve = maybe\n",
		"[zkeep]\nrun_uids = 0-10\n",
		"[other]\nx = y\n",
		"[job a]\nsource = t\ntarget = -oProxyCommand=x:pool/b\n",
		/* receive_set/receive_inherit go into ExecStart=: exact names, plain values */
		"[job a]\nsource = t\ntarget = b\nreceive_set = readonly\n",
		"[job a]\nsource = t\ntarget = b\nreceive_set = readonly=on\"\n",
		"[job a]\nsource = t\ntarget = b\nreceive_set = a:b=%d\n",
		"[job a]\nsource = t\ntarget = b\nreceive_set = a:b=$HOME\n",
		"[job a]\nsource = t\ntarget = b\nreceive_set = a:b=x\\\\y\n",
		"[job a]\nsource = t\ntarget = b\nreceive_set = origin=t@s\n",
		"[job a]\nsource = t\ntarget = b\nreceive_set = Exec=on\n",
		"[job a]\nsource = t\ntarget = b\nreceive_inherit = exec=off\n",
		"[job a]\nsource = t\ntarget = b\nreceive_inherit = \n",
	};
	/* a 64-character name is the longest accepted */
	struct jobconf ok;
	_cleanup_strbuf_ struct strbuf ok_err = STRBUF_INIT;
	assert_int_equal(jobconf_parse("[job a123456789b123456789c123456789d123456789e123456789f123456789g123]\n"
				       "source = tank\ntarget = b\n",
				       "zkeep.conf", &ok, &ok_err),
			 0);
	assert_int_equal(ok.njobs, 1);
	assert_string_equal(ok.jobs[0].name,
			    "a123456789b123456789c123456789d123456789e123456789f123456789g123");
	jobconf_release(&ok);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct jobconf c;
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
		if (jobconf_parse(bad[i], "zkeep.conf", &c, &err) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err.buf, "zkeep.conf"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_target_endpoint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
