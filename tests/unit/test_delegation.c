#include "unit.h"
#include "zfs/delegation.h"

static char *perms(const struct deleg_set *s, size_t i)
{
	return deleg_perms_join(&s->g[i]);
}

static void assert_perms(const struct deleg_set *s, size_t i, const char *want)
{
	_cleanup_free_ char *got = perms(s, i);
	assert_string_equal(got, want);
}

static void test_source_side_21_vs_24(void **state)
{
	struct deleg_need n = { .dataset = "tank/data", .recursive = true, .exists = true,
		.ops = DELEG_SEND_RAW | DELEG_SNAPSHOT | DELEG_HOLD | DELEG_BOOKMARK |
		       DELEG_DESTROY_SNAPS };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_deleg_set_ struct deleg_set a = DELEG_SET_INIT, b = DELEG_SET_INIT;

	assert_int_equal(deleg_compute(&n, 1, 2, 3, &a, &err), 0);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.g[0].dataset, "tank/data");
	assert_int_equal(a.g[0].scope, 0);
	/* hold comes with release: NixOS's set lacks it and leaks holds. */
	assert_perms(&a, 0, "bookmark,destroy,hold,mount,release,send,snapshot");

	assert_int_equal(deleg_compute(&n, 1, 2, 4, &b, &err), 0);
	assert_perms(&b, 0, "bookmark,destroy,hold,mount,release,send:raw,snapshot");
}

static void test_non_raw_send_is_plain_send_on_24(void **state)
{
	struct deleg_need n = { .dataset = "tank", .exists = true, .ops = DELEG_SEND };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_deleg_set_ struct deleg_set s = DELEG_SET_INIT;
	assert_int_equal(deleg_compute(&n, 1, 2, 4, &s, &err), 0);
	/* Non-recursive: send is checked on the snapshot, a descendant (-d). */
	assert_int_equal(s.n, 1);
	assert_perms(&s, 0, "send");
	assert_int_equal(s.g[0].scope, 'd');
}

static void test_target_side(void **state)
{
	const char *const props[] = { "compression", "org.example:tag", "com.sun:auto-snapshot", NULL };
	struct deleg_need n = { .dataset = "backup/data", .exists = true,
		.ops = DELEG_RECEIVE | DELEG_RECV_FORCE | DELEG_RECV_ABORT, .recv_props = props };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_deleg_set_ struct deleg_set a = DELEG_SET_INIT, b = DELEG_SET_INIT,
		c = DELEG_SET_INIT;

	assert_int_equal(deleg_compute(&n, 1, 2, 2, &a, &err), 0);
	/* Non-recursive: split into what ZFS checks on snapshots (-d) and on the fs (-l). */
	assert_int_equal(a.n, 2);
	assert_int_equal(a.g[0].scope, 'd');
	assert_perms(&a, 0, "destroy,mount");
	assert_int_equal(a.g[1].scope, 'l');
	assert_perms(&a, 1, "compression,create,mount,receive,rollback,userprop");
	/* Forcing: 2.4 still needs full receive. */
	assert_int_equal(deleg_compute(&n, 1, 2, 4, &b, &err), 0);
	assert_perms(&b, 1, "compression,create,mount,receive,rollback,userprop");
	/* Never forcing: receive:append on 2.4+, no rollback. */
	n.ops = DELEG_RECEIVE;
	n.recv_props = NULL;
	assert_int_equal(deleg_compute(&n, 1, 3, 0, &c, &err), 0);
	assert_perms(&c, 0, "create,mount,receive:append");
}

/* Root runs the receives into an existing target: no receive, create or property grant. */
static void test_target_received_by_root(void **state)
{
	const char *const props[] = { "compression", "setuid", NULL };
	struct deleg_need n = { .dataset = "backup/data", .exists = true,
		.ops = DELEG_RECEIVE | DELEG_RECV_FORCE | DELEG_RECV_ABORT | DELEG_RECV_BY_ROOT,
		.recv_props = props };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_deleg_set_ struct deleg_set a = DELEG_SET_INIT, b = DELEG_SET_INIT;
	assert_int_equal(deleg_compute(&n, 1, 2, 2, &a, &err), 0);
	assert_int_equal(a.n, 2);
	assert_perms(&a, 0, "destroy,mount");
	assert_perms(&a, 1, "mount,rollback");
	/* a new target: nothing, not on its parent (root grants it once it exists) */
	n.exists = false;
	assert_int_equal(deleg_compute(&n, 1, 2, 2, &b, &err), 0);
	assert_int_equal(b.n, 0);
	/* one that is there and may be destroyed and received anew: as it is now, no receive */
	_cleanup_deleg_set_ struct deleg_set d = DELEG_SET_INIT;
	n.ops |= DELEG_RECV_ABORT_FULL;
	assert_int_equal(deleg_compute(&n, 1, 2, 2, &d, &err), 0);
	assert_int_equal(d.n, 2);
	for (size_t i = 0; i < d.n; i++)
		assert_string_equal(d.g[i].dataset, "backup/data");
	assert_perms(&d, 0, "destroy,mount");
	assert_perms(&d, 1, "destroy,mount,rollback");
	n.ops &= ~DELEG_RECV_ABORT_FULL;
	/* without root (zkeep allow, a unit's grants): the parent receives */
	_cleanup_deleg_set_ struct deleg_set c = DELEG_SET_INIT;
	n.ops &= ~DELEG_RECV_BY_ROOT;
	assert_int_equal(deleg_compute(&n, 1, 2, 2, &c, &err), 0);
	bool parent_receives = false;
	for (size_t i = 0; i < c.n; i++)
		if (streq(c.g[i].dataset, "backup") && c.g[i].scope == 'l') {
			_cleanup_free_ char *j = deleg_perms_join(&c.g[i]);
			parent_receives = strstr(j, "receive") != NULL;
		}
	assert_true(parent_receives);
}

static void test_new_target_goes_to_parent(void **state)
{
	struct deleg_need n = { .dataset = "backup/host/data", .exists = false,
		.ops = DELEG_RECEIVE | DELEG_RECV_RAW_ENC, .recursive = true };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_deleg_set_ struct deleg_set s = DELEG_SET_INIT;
	assert_int_equal(deleg_compute(&n, 1, 2, 3, &s, &err), 0);
	/* The parent: what ZFS checks there to create the child, locally only. */
	assert_int_equal(s.n, 2);
	assert_string_equal(s.g[1].dataset, "backup/host");
	assert_int_equal(s.g[1].scope, 'l');
	assert_perms(&s, 1, "create,mount,receive");
	/* The rest: the parent's create-time set, copied to the new datasets. */
	assert_string_equal(s.g[0].dataset, "backup/host");
	assert_int_equal(s.g[0].scope, 'c');
	assert_perms(&s, 0, "change-key,create,keylocation,mount,receive");

	/* 2.4, never forcing: receive:append, there too. */
	n.ops = DELEG_RECEIVE;
	_cleanup_deleg_set_ struct deleg_set a = DELEG_SET_INIT;
	assert_int_equal(deleg_compute(&n, 1, 2, 4, &a, &err), 0);
	assert_perms(&a, 0, "create,mount,receive:append");
	assert_perms(&a, 1, "create,mount,receive:append");

	/*
	 * There now, and maybe destroyed and received anew (a partial full
	 * receive): granted as it is too (a resume continues it), with destroy.
	 */
	n.ops = DELEG_RECEIVE | DELEG_RECV_ABORT_FULL;
	_cleanup_deleg_set_ struct deleg_set d = DELEG_SET_INIT;
	assert_int_equal(deleg_compute(&n, 1, 2, 3, &d, &err), 0);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.g[2].dataset, "backup/host/data");
	assert_int_equal(d.g[2].scope, 0); /* recursive */
	assert_perms(&d, 2, "create,destroy,mount,receive");
	assert_perms(&d, 1, "create,mount,receive");

	/* A pool cannot be a new target: nothing to grant on. */
	struct deleg_need p = { .dataset = "newpool", .exists = false, .ops = DELEG_RECEIVE };
	_cleanup_deleg_set_ struct deleg_set t = DELEG_SET_INIT;
	assert_int_equal(deleg_compute(&p, 1, 2, 3, &t, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "newpool"));
	assert_int_equal(t.n, 0);
}

static void test_merge_hosts_and_order(void **state)
{
	struct deleg_need n[] = {
		{ .host = "backup@nas", .dataset = "b/x", .exists = true, .ops = DELEG_RECEIVE },
		{ .dataset = "tank/b", .exists = true, .ops = DELEG_SNAPSHOT },
		{ .dataset = "tank/a", .exists = true, .ops = DELEG_SEND },
		{ .dataset = "tank/b", .exists = true, .recursive = true, .ops = DELEG_DESTROY_SNAPS },
	};
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_deleg_set_ struct deleg_set s = DELEG_SET_INIT;
	assert_int_equal(deleg_compute(n, ARRAY_SIZE(n), 2, 3, &s, &err), 0);
	assert_int_equal(s.n, 4);
	/* Local host (NULL) sorts first. */
	assert_null(s.g[0].host);
	assert_string_equal(s.g[0].dataset, "tank/a");
	assert_int_equal(s.g[0].scope, 'd');
	assert_string_equal(s.g[1].dataset, "tank/b");
	assert_int_equal(s.g[1].scope, 0); /* the recursive need */
	assert_perms(&s, 1, "destroy,mount");
	assert_int_equal(s.g[2].scope, 'l');
	assert_perms(&s, 2, "snapshot");
	assert_string_equal(s.g[3].host, "backup@nas");
}

static void test_rejects_bad_input(void **state)
{
	const char *bad[] = { "tank/a@snap", "tank/a#mark", "", "/tank", "tank//a", "tank/../x",
			      "tank/a;rm", "tank/a/" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct deleg_need n = { .dataset = bad[i], .exists = true, .ops = DELEG_SEND };
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
		_cleanup_deleg_set_ struct deleg_set s = DELEG_SET_INIT;
		assert_int_equal(deleg_compute(&n, 1, 2, 3, &s, &err), -EINVAL);
		assert_true(err.len > 0);
	}
	struct deleg_need none = { .dataset = "tank", .exists = true, .ops = 0 };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_deleg_set_ struct deleg_set s = DELEG_SET_INIT;
	assert_int_equal(deleg_compute(&none, 1, 2, 3, &s, &err), -EINVAL);
	assert_true(deleg_dataset_name_ok("pool/with space/x:y.z_1-2"));
}

static void test_parse_need(void **state)
{
	_cleanup_strvec_ struct strvec store = STRVEC_INIT, props = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct deleg_need n, m;
	assert_int_equal(deleg_parse_need("tank/a b=send-raw,hold,recursive", &n, &store, &props,
					  &err), 0);
	assert_string_equal(n.dataset, "tank/a b");
	assert_int_equal(n.ops, DELEG_SEND_RAW | DELEG_HOLD);
	assert_true(n.recursive && n.exists);
	assert_null(n.recv_props);
	assert_int_equal(deleg_parse_need("bk/x=receive,new,prop:compression,prop:a:b", &m, &store,
					  &props, &err), 0);
	assert_false(m.exists);
	assert_string_equal(m.recv_props[0], "compression");
	assert_string_equal(m.recv_props[1], "a:b");
	assert_null(m.recv_props[2]);
	assert_string_equal(n.dataset, "tank/a b"); /* still valid */
	const char *bad[] = { "tank", "=send", "tank=", "tank=fly", "tank@s=send", "tank=recursive",
			      "tank=prop:" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		strbuf_reset(&err);
		assert_int_equal(deleg_parse_need(bad[i], &n, &store, &props, &err), -EINVAL);
		assert_true(err.len > 0);
	}
}

static void test_missing_grants(void **state)
{
	const char text[] =
		"---- Permissions on tank/data -----------------------------------------\n"
		"Local permissions:\n"
		"\tuser alice snapshot\n"
		"Descendent permissions:\n"
		"\tuser (unknown: 1234) send\n"
		"---- Permissions on tank ----------------------------------------------\n"
		"Descendent permissions:\n"
		"\tgroup backup hold\n"
		"Local+Descendent permissions:\n"
		"\teveryone release\n"
		"\tuser bob bookmark\n";
	struct deleg_grant g = { .dataset = (char *)"tank/data", .scope = 'l', .perms = STRVEC_INIT };
	const char *const perms[] = { "bookmark", "hold", "release", "send", "snapshot", NULL };
	strvec_pushv(&g.perms, perms);
	const char *const groups[] = { "staff", "backup", NULL };
	_cleanup_strvec_ struct strvec m = STRVEC_INIT;
	/* alice (uid 1234): snapshot locally, hold via group from the ancestor,
	 * release from everyone, send only as descendent, bookmark is bob's. */
	deleg_missing(&g, text, "alice", 1234, groups, &m);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.v[0], "zfs allow -l -u alice bookmark,send tank/data");
	/* The -d part: send is there (by uid), snapshot only locally. */
	strvec_release(&m);
	g.scope = 'd';
	deleg_missing(&g, text, "alice", 1234, groups, &m);
	assert_string_equal(m.v[0], "zfs allow -d -u alice bookmark,snapshot tank/data");
	/* Nobody: only everyone's release. */
	strvec_release(&m);
	g.scope = 0;
	deleg_missing(&g, text, "carol", 99, NULL, &m);
	assert_string_equal(m.v[0], "zfs allow -u carol bookmark,hold,send,snapshot tank/data");
	/* Everything granted: nothing missing. */
	strvec_release(&m);
	deleg_missing(&g, "---- Permissions on tank ---\nLocal+Descendent permissions:\n"
		      "\teveryone bookmark,hold,release,send,snapshot\n", "x", 5, NULL, &m);
	assert_int_equal(m.n, 0);
	strvec_release(&g.perms);
}

static void test_create_time_set(void **state)
{
	/* As zfs allow prints it (2.1.11 and 2.3.2); a child's section comes first. */
	const char text[] =
		"---- Permissions on gdst/bk/new --------------------------------------\n"
		"Create time permissions:\n"
		"\tsnapshot\n"
		"Local permissions:\n"
		"\tuser (unknown: 61640) create,destroy,mount\n"
		"---- Permissions on gdst/bk ------------------------------------------\n"
		"Create time permissions:\n"
		"\tcreate,destroy,mount\n"
		"Local permissions:\n"
		"\tuser (unknown: 61640) create,mount,receive\n"
		"Descendent permissions:\n"
		"\tuser alice receive\n";
	_cleanup_strvec_ struct strvec set = STRVEC_INIT, none = STRVEC_INIT;
	deleg_create_time(text, "gdst/bk", &set);
	_cleanup_free_ char *got = strvec_join(&set, ",");
	assert_string_equal(got, "create,destroy,mount"); /* not the child's, not a user's */
	deleg_create_time(text, "gdst", &none);
	assert_int_equal(none.n, 0);
	/* names may hold spaces, and dashes after them; a long name has no dashes */
	const char spaced[] =
		"---- Permissions on gdst/a b - c ---------------------------------------\n"
		"Create time permissions:\n"
		"\tmount\n"
		"---- Permissions on gdst/a ------------------------------------------\n"
		"Create time permissions:\n"
		"\tsnapshot\n"
		"---- Permissions on gdst/a-very-long-name-that-fills-the-line-past-column-70 \n"
		"Create time permissions:\n"
		"\tdestroy\n";
	_cleanup_strvec_ struct strvec s1 = STRVEC_INIT, s2 = STRVEC_INIT, s3 = STRVEC_INIT,
				       s4 = STRVEC_INIT;
	deleg_create_time(spaced, "gdst/a b - c", &s1);
	assert_int_equal(s1.n, 1);
	assert_string_equal(s1.v[0], "mount");
	deleg_create_time(spaced, "gdst/a", &s2);
	assert_int_equal(s2.n, 1);
	assert_string_equal(s2.v[0], "snapshot");
	deleg_create_time(spaced, "gdst/a b", &s3);
	assert_int_equal(s3.n, 0);
	deleg_create_time(spaced, "gdst/a-very-long-name-that-fills-the-line-past-column-70", &s4);
	assert_int_equal(s4.n, 1);

	/* A create-time grant counts as held from the set, or by an own -d grant. */
	struct deleg_grant g = { .dataset = (char *)"gdst/bk", .scope = 'c', .perms = STRVEC_INIT };
	strvec_pushv(&g.perms, ARGV("destroy", "receive", "setuid"));
	_cleanup_strvec_ struct strvec m = STRVEC_INIT;
	deleg_missing(&g, text, "alice", 1000, NULL, &m);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.v[0], "zfs allow -c setuid gdst/bk");
	strvec_release(&g.perms);
}

static void test_created_since(void **state)
{
	_cleanup_strvec_ struct strvec out = STRVEC_INIT, all = STRVEC_INIT, bad = STRVEC_INIT;
	const char listing[] = "3\tgdst/bk\n"
			       "5\tgdst/bk/sib\n"
			       "9\tgdst/bk/new\n"
			       "10\tgdst/bk/new/a\n"
			       "11\tgdst/bk/new/a/b\n"
			       "12\tgdst/bk/new/a/b/c\n"
			       "13\tgdst/bk/new/z\n"
			       "14\tgdst/bk/planted\n";
	assert_int_equal(deleg_created_since(listing, 5, &out), 0);
	/* unallow -r takes a dataset and its children: every second level of the new */
	_cleanup_free_ char *got = strvec_join(&out, " ");
	assert_string_equal(got, "gdst/bk/new gdst/bk/new/a/b gdst/bk/planted");
	/* no txg journalled: the whole tree */
	assert_int_equal(deleg_created_since(listing, 0, &all), 0);
	_cleanup_free_ char *every = strvec_join(&all, " ");
	assert_string_equal(every, "gdst/bk gdst/bk/new/a gdst/bk/new/a/b/c gdst/bk/new/z");
	assert_int_equal(deleg_created_since("9\n", 0, &bad), -EINVAL);
	assert_int_equal(deleg_created_since("x\tgdst/a\n", 0, &bad), -EINVAL);
	assert_int_equal(bad.n, 0);
}

/* Everything made on the dataset itself, nothing of its ancestor's section. */
static void test_unallow_all(void **state)
{
	(void)state;
	const char *text =
		"---- Permissions on drv/a ---------------------------------------------------\n"
		"Permission sets:\n"
		"\t@evil receive,mount\n"
		"Create time permissions:\n"
		"\tdestroy\n"
		"Local permissions:\n"
		"\tuser 60700 receive\n"
		"\tgroup staff mount\n"
		"Descendent permissions:\n"
		"\teveryone receive,create\n"
		"Local+Descendent permissions:\n"
		"\tuser mallory @evil\n"
		"\tuser 60700 hold\n"
		"\tuser (unknown: 60701) mount,receive\n"
		"\tgroup (unknown: 60702) mount\n"
		"---- Permissions on drv -----------------------------------------------------\n"
		"Local+Descendent permissions:\n"
		"\tuser bob snapshot\n";
	struct strvec who = STRVEC_INIT;
	deleg_unallow_all(text, "drv/a", &who);
	_cleanup_free_ char *all = strvec_join(&who, "|");
	assert_string_equal(all, "-s\t@evil|-c|-u\t60700|-g\tstaff|-e|-u\tmallory|-u\t60701|"
				 "-g\t60702");
	strvec_release(&who);
	deleg_unallow_all(text, "drv", &who);
	assert_int_equal(who.n, 1);
	assert_string_equal(who.v[0], "-u\tbob");
	strvec_release(&who);
	deleg_unallow_all("", "drv", &who);
	assert_int_equal(who.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_side_21_vs_24),
		cmocka_unit_test(test_non_raw_send_is_plain_send_on_24),
		cmocka_unit_test(test_target_side),
		cmocka_unit_test(test_target_received_by_root),
		cmocka_unit_test(test_new_target_goes_to_parent),
		cmocka_unit_test(test_merge_hosts_and_order),
		cmocka_unit_test(test_rejects_bad_input),
		cmocka_unit_test(test_parse_need),
		cmocka_unit_test(test_missing_grants),
		cmocka_unit_test(test_create_time_set),
		cmocka_unit_test(test_created_since),
		cmocka_unit_test(test_unallow_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
