#include "unit.h"
#include "zfs/zfs.h"

static void test_list_tree_snapshots_bookmarks(void **state)
{
	/* Real shape: zfs list -Hp -o name,type,guid,createtxg,creation,used -t all -r */
	const char out[] =
		"tank\tfilesystem\t111\t1\t1700000000\t1000\n"
		"tank@b\tsnapshot\t13\t30\t1700000300\t0\n"
		"tank@a\tsnapshot\t12\t20\t1700000200\t0\n"
		"tank#a\tbookmark\t12\t20\t1700000200\t-\n"
		"tank/my data\tfilesystem\t222\t5\t1700000100\t-\n"
		"tank/my data@x y\tsnapshot\t21\t25\t1700000250\t4096\n"
		"tank/vol\tvolume\t333\t6\t1700000101\t1\n";
	struct zfs_tree t = ZFS_TREE_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	strvec_push(&t.props, "used");
	assert_int_equal(zfs_parse_list(out, sizeof(out) - 1, &t, &err), 0);
	assert_int_equal(t.nds, 3);
	assert_string_equal(t.ds[0].name, "tank");
	assert_int_equal(t.ds[0].guid, 111);
	assert_string_equal(t.ds[0].props[0], "1000");
	/* Ordered by createtxg, the snapshot before the bookmark of the same txg. */
	assert_int_equal(t.ds[0].nsnaps, 3);
	assert_string_equal(t.ds[0].snaps[0].name, "tank@a");
	assert_int_equal(t.ds[0].snaps[0].type, ZFS_TYPE_SNAPSHOT);
	assert_string_equal(t.ds[0].snaps[1].name, "tank#a");
	assert_string_equal(t.ds[0].snaps[1].short_name, "a");
	assert_null(t.ds[0].snaps[1].props[0]);
	assert_string_equal(t.ds[0].snaps[2].short_name, "b");
	struct zfs_dataset *d = zfs_tree_find(&t, "tank/my data");
	assert_non_null(d);
	assert_null(d->props[0]);
	assert_non_null(zfs_dataset_find_snap(d, "x y"));
	assert_null(zfs_dataset_find_snap(d, "x"));
	assert_int_equal(zfs_tree_find(&t, "tank/vol")->type, ZFS_TYPE_VOLUME);
	assert_int_equal(zfs_tree_prop_index(&t, "used"), 0);
	assert_int_equal(zfs_tree_prop_index(&t, "compression"), -1);
	zfs_tree_release(&t);
	assert_int_equal(t.nds, 0);
}

static void test_list_rejects_garbage(void **state)
{
	const char *bad[] = {
		"tank\tfilesystem\t1\t1\n",                  /* missing a column */
		"tank\tbanana\t1\t1\t1\n",                   /* unknown type */
		"tank\tfilesystem\tx\t1\t1\n",               /* not a number */
		"tank@a\tsnapshot\t1\t1\t1\n",               /* snapshot before dataset */
		"\tfilesystem\t1\t1\t1\n",                   /* empty name */
		"tank\tfilesystem\t1\t1\t99999999999999999999\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct zfs_tree t = ZFS_TREE_INIT;
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
		assert_int_not_equal(zfs_parse_list(bad[i], strlen(bad[i]), &t, &err), 0);
		assert_true(err.len > 0);
		zfs_tree_release(&t);
	}
}

/* `zfs list -Hp -o name,guid,createtxg -t snapshot -d 1` onto dataset rows listed before. */
static void test_snapshot_ids(void **state)
{
	const char rows[] = "tank\tfilesystem\t111\t1\t1700000000\t5\n"
			    "tank/a b\tvolume\t222\t2\t1700000001\t-\n";
	const char ids[] = "tank@late\t13\t30\n"
			   "tank@early\t12\t20\n"
			   "tank/a b@x y\t21\t25\n"
			   "tank@mid\t14\t22\n"     /* back to an earlier dataset */
			   "tan@p\t15\t23\n"        /* a prefix of the last one's name: not it */
			   "tank/new@s\t31\t40\n"; /* its row was not listed: left out */
	struct zfs_tree t = ZFS_TREE_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	strvec_push(&t.props, "userrefs");
	assert_int_equal(zfs_parse_list(rows, sizeof(rows) - 1, &t, &err), 0);
	assert_int_equal(zfs_parse_snapshot_ids(ids, sizeof(ids) - 1, &t, &err), 0);
	assert_int_equal(t.nds, 2);
	assert_int_equal(t.ds[0].nsnaps, 3);
	const struct zfs_snap *s = &t.ds[0].snaps[0];
	assert_string_equal(s->name, "tank@early"); /* oldest first */
	assert_string_equal(s->short_name, "early");
	assert_int_equal(s->type, ZFS_TYPE_SNAPSHOT);
	assert_int_equal(s->guid, 12);
	assert_int_equal(s->createtxg, 20);
	assert_int_equal(s->creation, 0);
	assert_null(s->props[0]);
	assert_string_equal(t.ds[0].snaps[1].short_name, "mid");
	assert_string_equal(t.ds[0].snaps[2].short_name, "late");
	assert_int_equal(t.ds[1].nsnaps, 1);
	assert_string_equal(t.ds[1].snaps[0].short_name, "x y");
	const char *bad[] = {
		"tank@a\t1\n",        /* missing a column */
		"tank@a\t1\t2\t3\n",  /* one too many */
		"tank\t1\t2\n",      /* not a snapshot */
		"tank@a\tx\t2\n",    /* not a number */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		strbuf_reset(&err);
		assert_int_equal(zfs_parse_snapshot_ids(bad[i], strlen(bad[i]), &t, &err), -EINVAL);
		assert_true(err.len > 0);
	}
	zfs_tree_release(&t);
}

/* zfs_tree_find() by the name index: zfs's order is not strcmp's ('/' sorts after '-'). */
static void test_find_by_name(void **state)
{
	const char rows[] = "tank\tfilesystem\t1\t1\t1\n"
			    "tank/a\tfilesystem\t2\t1\t1\n"
			    "tank/a/b\tfilesystem\t3\t1\t1\n"
			    "tank/a-c\tfilesystem\t4\t1\t1\n"
			    "tank/a-c\tvolume\t5\t1\t1\n" /* twice: the first listed */
			    "tank/Z\tfilesystem\t6\t1\t1\n";
	struct zfs_tree t = ZFS_TREE_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(zfs_parse_list(rows, sizeof(rows) - 1, &t, &err), 0);
	assert_int_equal(t.nby_name, 6);
	const char *const names[] = { "tank", "tank/a", "tank/a/b", "tank/a-c", "tank/Z" };
	const uint64_t guids[] = { 1, 2, 3, 4, 6 };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const struct zfs_dataset *d = zfs_tree_find(&t, names[i]);
		if (!d)
			fail_msg("%s not found", names[i]);
		else
			assert_int_equal(d->guid, guids[i]);
	}
	const char *const absent[] = { "", "tan", "tank/", "tank/a/", "tank/b", "zzz", "A" };
	for (size_t i = 0; i < ARRAY_SIZE(absent); i++)
		assert_null(zfs_tree_find(&t, absent[i]));
	/* a dataset added without the parser: the index no longer covers all, all are searched */
	t.ds = xreallocarray(t.ds, t.nds + 1, sizeof(*t.ds));
	t.ds[t.nds++] = (struct zfs_dataset){ .name = xstrdup("tank/added"), .guid = 7 };
	const struct zfs_dataset *d = zfs_tree_find(&t, "tank/added");
	assert_non_null(d);
	assert_int_equal(d->guid, 7);
	zfs_tree_release(&t);
	assert_null(t.by_name);
}

static void test_get_sources(void **state)
{
	const char out[] = "tank/a\tcompression\tlz4\tlocal\n"
			   "tank/a\tatime\toff\tinherited from tank\n"
			   "tank/a\tused\t12345\t-\n"
			   "tank/a\tcom.sun:auto-snapshot\ttrue\treceived\n"
			   "tank/a\tuser:note\ta\tb\tlocal\n";
	struct zfs_props p = { 0 };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(zfs_parse_get(out, sizeof(out) - 1, &p, &err), 0);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.p[0].source, ZFS_SRC_LOCAL);
	assert_int_equal(p.p[1].source, ZFS_SRC_INHERITED);
	assert_string_equal(p.p[1].inherited_from, "tank");
	assert_int_equal(p.p[2].source, ZFS_SRC_NONE);
	assert_int_equal(p.p[3].source, ZFS_SRC_RECEIVED);
	assert_string_equal(p.p[4].value, "a\tb");
	zfs_props_release(&p);
	const char bad[] = "tank/a\tcompression\tlz4\tsomewhere\n";
	assert_int_equal(zfs_parse_get(bad, sizeof(bad) - 1, &p, &err), -EINVAL);
	zfs_props_release(&p);
}

static void test_holds_estimate_version_pools(void **state)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct zfs_holds h = { 0 };
	const char holds[] = "tank@a\tsyncoid_host\t1700000000\ntank@a\tkeep\t1700000001\n";
	assert_int_equal(zfs_parse_holds(holds, sizeof(holds) - 1, &h, &err), 0);
	assert_int_equal(h.n, 2);
	assert_string_equal(h.h[1].tag, "keep");
	assert_int_equal(h.h[0].timestamp, 1700000000);
	zfs_holds_release(&h);

	/* OpenZFS 2.1 has no -p: a local date to the minute (TZ=UTC here). */
	const char *tz = getenv("TZ");
	_cleanup_free_ char *old_tz = tz ? xstrdup(tz) : NULL;
	setenv("TZ", "UTC", 1);
	const char holds21[] = "tank@a\tkeep\tThu Dec  3 19:40 2026\ntank@b\tk2\tTue Nov 14 22:13 2023\n"
			       "tank@c\tk3\tnot a date\n";
	assert_int_equal(zfs_parse_holds(holds21, sizeof(holds21) - 1, &h, &err), 0);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.h[0].timestamp, 1796326800); /* 2026-12-03 19:40:00 UTC */
	assert_int_equal(h.h[1].timestamp, 1699999980); /* 2023-11-14 22:13:00 UTC */
	assert_int_equal(h.h[2].timestamp, 0);
	zfs_holds_release(&h);
	if (old_tz)
		setenv("TZ", old_tz, 1);
	else
		unsetenv("TZ");
	tzset();

	uint64_t bytes = 0;
	const char est[] = "incremental\t@a\ttank@b\t4096\nsize\t4096\n";
	assert_int_equal(zfs_parse_send_estimate(est, sizeof(est) - 1, &bytes), 0);
	assert_int_equal(bytes, 4096);
	assert_int_equal(zfs_parse_send_estimate("full\ttank@a\t1\n", 14, &bytes), -ENODATA);

	struct zfs_version v;
	assert_int_equal(zfs_parse_version("zfs-2.3.2-2~bpo12+2\nzfs-kmod-2.3.2-2~bpo12+2\n", &v), 0);
	assert_int_equal(v.major, 2);
	assert_int_equal(v.minor, 3);
	assert_int_equal(v.patch, 2);
	assert_int_equal(v.kmod_minor, 3);
	assert_true(zfs_version_at_least(&v, 2, 2));
	assert_false(zfs_version_at_least(&v, 2, 4));
	assert_int_equal(zfs_parse_version("zfs-kmod-2.1.11-1\n", &v), -EINVAL);
	assert_int_equal(zfs_parse_version("zfs-2.1.11-1\nzfs-kmod-2.1.11-1\n", &v), 0);
	assert_int_equal(v.minor, 1);
	assert_int_equal(v.patch, 11);

	struct zpool_infos pools = { 0 };
	const char pl[] = "tank\tONLINE\t987\t1000\t250\t750\t25\nsick\tUNAVAIL\t5\t-\t-\t-\t-\n";
	assert_int_equal(zpool_parse_list(pl, sizeof(pl) - 1, &pools, &err), 0);
	assert_int_equal(pools.n, 2);
	assert_int_equal(pools.p[0].capacity, 25);
	assert_string_equal(pools.p[1].health, "UNAVAIL");
	zpool_infos_release(&pools);
}

static void test_zpool_props(void **state)
{
	(void)state;
	const char *const props[] = { "delegation", "guid" };
	char *v[2];
	/* zpool's order need not be the asked one: matched by name */
	const char out[] = "guid\t1234567890\ndelegation\ton\n";
	assert_int_equal(zpool_parse_props(out, sizeof(out) - 1, props, 2, v), 0);
	assert_string_equal(v[0], "on");
	assert_string_equal(v[1], "1234567890");
	free(v[0]);
	free(v[1]);
	/* no trailing newline; a value with spaces kept whole */
	const char *const one[] = { "comment" };
	const char out1[] = "comment\ta b";
	assert_int_equal(zpool_parse_props(out1, sizeof(out1) - 1, one, 1, v), 0);
	assert_string_equal(v[0], "a b");
	free(v[0]);
	/* exact names: a prefix or a longer name is not the property */
	const char pre[] = "deleg\ton\ndelegationx\toff\nguid\t1\n";
	assert_int_equal(zpool_parse_props(pre, sizeof(pre) - 1, props, 2, v), -EINVAL);
	assert_null(v[0]);
	assert_null(v[1]);
	/* missing one, or a line without a tab: refused, nothing left set */
	const char miss[] = "guid\t1\n";
	assert_int_equal(zpool_parse_props(miss, sizeof(miss) - 1, props, 2, v), -EINVAL);
	assert_null(v[1]);
	const char notab[] = "delegation on\nguid\t1\n";
	assert_int_equal(zpool_parse_props(notab, sizeof(notab) - 1, props, 2, v), -EINVAL);
	/* the first of a repeated property counts */
	const char twice[] = "delegation\ton\ndelegation\toff\nguid\t2\n";
	assert_int_equal(zpool_parse_props(twice, sizeof(twice) - 1, props, 2, v), 0);
	assert_string_equal(v[0], "on");
	free(v[0]);
	free(v[1]);
	/* keyed by pool (`zpool get -o name,value PROP P1 P2`): a pool named like the
	 * start of another is not that pool */
	const char *const pools[] = { "tank", "tank2" };
	const char byname[] = "tank2\tenabled\ntank\tactive\n";
	assert_int_equal(zpool_parse_props(byname, sizeof(byname) - 1, pools, 2, v), 0);
	assert_string_equal(v[0], "active");
	assert_string_equal(v[1], "enabled");
	free(v[0]);
	free(v[1]);
	const char onlylonger[] = "tank2\tenabled\n";
	assert_int_equal(zpool_parse_props(onlylonger, sizeof(onlylonger) - 1, pools, 2, v), -EINVAL);
	/* keyed by pool and property (`zpool get -o name,property,value P1,P2 POOL...`) */
	const char *const keys[] = { "tank\tguid", "tank\tdelegation", "tank2\tguid" };
	char *w[3];
	const char rows[] = "tank2\tguid\t7\ntank\tdelegation\ton\ntank\tguid\t5\n";
	assert_int_equal(zpool_parse_keyed(rows, sizeof(rows) - 1, keys, 3, 2, w), 0);
	assert_string_equal(w[0], "5");
	assert_string_equal(w[1], "on");
	assert_string_equal(w[2], "7");
	for (size_t i = 0; i < 3; i++)
		free(w[i]);
	/* a row with one column too few, or another pool's row only: refused */
	const char short_row[] = "tank\tguid\ntank\tdelegation\ton\ntank2\tguid\t7\n";
	assert_int_equal(zpool_parse_keyed(short_row, sizeof(short_row) - 1, keys, 3, 2, w),
			 -EINVAL);
	assert_null(w[0]);
	const char other[] = "tank2\tguid\t7\ntank2\tdelegation\ton\ntank\tguid\t5\n";
	assert_int_equal(zpool_parse_keyed(other, sizeof(other) - 1, keys, 3, 2, w), -EINVAL);
}

static void test_errno_mapping(void **state)
{
	assert_int_equal(zfs_errno_from_message("cannot open 'x/y': dataset does not exist"), -ENOENT);
	assert_int_equal(zfs_errno_from_message("cannot create 'a': dataset already exists"), -EEXIST);
	assert_int_equal(zfs_errno_from_message("cannot destroy 'a': permission denied"), -EPERM);
	assert_int_equal(zfs_errno_from_message("cannot receive: pool or dataset is busy"), -EBUSY);
	assert_int_equal(zfs_errno_from_message("cannot destroy snapshot tank/a@keep: it's being held. "
						"Run 'zfs holds -r tank/a@keep' to see holders."), -EBUSY);
	assert_int_equal(zfs_errno_from_message("something odd"), -EIO);
}

static void test_names(void **state)
{
	assert_true(zfs_name_valid("tank", false));
	assert_true(zfs_name_valid("tank/my data/x.y:z-1_2", false));
	assert_true(zfs_name_valid("tank/a@snap 1", true));
	assert_true(zfs_name_valid("tank/a#mark", true));
	assert_false(zfs_name_valid("tank/a@snap", false));
	assert_false(zfs_name_valid("", false));
	assert_false(zfs_name_valid("tank//a", false));
	assert_false(zfs_name_valid("tank/a/", false));
	assert_false(zfs_name_valid("tank/../etc", false));
	assert_false(zfs_name_valid("tank/a;$(touch x)", false));
	assert_false(zfs_name_valid("1tank", false));
	assert_false(zfs_name_valid("tank/a@", true));
	char *pool = zfs_pool_of("tank/a/b@c");
	assert_string_equal(pool, "tank");
	free(pool);
}

static char *joined(struct strvec *sv)
{
	char *s = strvec_join(sv, " ");
	strvec_release(sv);
	return s;
}

static void test_send_recv_argv(void **state)
{
	struct strvec argv = STRVEC_INIT;
	char *s;
	struct zfs_send_args full = { .snapshot = "tank/a@s1", .raw = true };
	zfs_send_argv(&full, false, &argv);
	s = joined(&argv);
	assert_string_equal(s, "zfs send -w tank/a@s1");
	free(s);

	struct zfs_send_args inc = { .snapshot = "tank/a@s3", .from = "tank/a@s1", .intermediates = true,
				     .extra_flags = "Lcw", .raw = true };
	zfs_send_argv(&inc, true, &argv);
	s = joined(&argv);
	assert_string_equal(s, "zfs send -nvPwLc -I tank/a@s1 tank/a@s3");
	free(s);

	struct zfs_send_args bm = { .snapshot = "tank/a@s3", .from = "tank/a#s1" };
	zfs_send_argv(&bm, false, &argv);
	s = joined(&argv);
	assert_string_equal(s, "zfs send -i tank/a#s1 tank/a@s3");
	free(s);

	struct zfs_send_args res = { .resume_token = "1-abc", .snapshot = "ignored" };
	zfs_send_argv(&res, false, &argv);
	s = joined(&argv);
	assert_string_equal(s, "zfs send -t 1-abc");
	free(s);

	const char *const set[] = { "compression=lz4", NULL };
	const char *const ex[] = { "mountpoint", NULL };
	struct zfs_recv_args rcv = { .target = "backup/my data", .resumable = true, .force = true,
				     .no_mount = true, .set_props = set, .exclude_props = ex };
	zfs_recv_argv(&rcv, &argv);
	assert_int_equal(argv.n, 8);
	assert_string_equal(argv.v[7], "backup/my data");
	s = joined(&argv);
	assert_string_equal(s, "zfs receive -sFu -o compression=lz4 -x mountpoint backup/my data");
	free(s);
}

static void test_zpool_status(void **state)
{
	(void)state;
	static const char out[] =
		"  pool: tank\n state: DEGRADED\nstatus: One or more devices could not be used.\n"
		"  scan: scrub repaired 0B in 00:00:01 with 0 errors\nconfig:\n\n"
		"\tNAME          STATE     READ WRITE CKSUM\n"
		"\ttank          DEGRADED     0     0     0\n"
		"\t  mirror-0    DEGRADED     0     0     0\n"
		"\t    /dev/sdb  ONLINE       0     1     4  (repairing)\n"
		"\t    /dev/sdc  UNAVAIL      0     0     0  cannot open\n"
		"\tspares\n"
		"\t  /dev/sdd    AVAIL\n"
		"\n"
		"errors: No known data errors\n";
	_cleanup_release_(zpool_status) struct zpool_status st = ZPOOL_STATUS_INIT;
	assert_int_equal(zpool_parse_status(out, sizeof(out) - 1, &st), 0);
	assert_int_equal(st.n, 4);
	assert_string_equal(st.v[0].name, "tank");
	assert_true(st.v[0].pool);
	assert_int_equal(st.v[0].indent, 1);
	assert_string_equal(st.v[1].name, "mirror-0");
	assert_false(st.v[1].pool);
	assert_int_equal(st.v[1].indent, 3);
	assert_string_equal(st.v[2].name, "/dev/sdb");
	assert_int_equal(st.v[2].indent, 5);
	assert_string_equal(st.v[2].write, "1");
	assert_string_equal(st.v[2].cksum, "4");
	assert_string_equal(st.v[3].state, "UNAVAIL");
	assert_int_equal(st.errors.n, 1);
	assert_string_equal(st.errors.v[0], "No known data errors");

	/* no config, a truncated line, no trailing newline: nothing but the errors line */
	zpool_status_release(&st);
	static const char odd[] = "\tNAME STATE READ\n\tx ONLINE 0\nerrors:   3 data errors";
	assert_int_equal(zpool_parse_status(odd, sizeof(odd) - 1, &st), 0);
	assert_int_equal(st.n, 0);
	assert_int_equal(st.errors.n, 1);
	assert_string_equal(st.errors.v[0], "3 data errors");
	zpool_status_release(&st);
	assert_int_equal(zpool_parse_status("", 0, &st), 0);
	assert_int_equal(st.n, 0);
}

static void test_allow_argv(void **state)
{
	(void)state;
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	zfs_allow_argv('l', 61234, "send,hold", "tank/my data", &argv);
	_cleanup_free_ char *s = strvec_join(&argv, " ");
	assert_string_equal(s, "zfs allow -l -u 61234 send,hold tank/my data");
	strvec_release(&argv);
	zfs_allow_argv(0, 5, "mount", "tank", &argv);
	_cleanup_free_ char *t = strvec_join(&argv, " ");
	assert_string_equal(t, "zfs allow -u 5 mount tank");
	strvec_release(&argv);
	zfs_unallow_argv(5, false, "tank/a", &argv);
	_cleanup_free_ char *u = strvec_join(&argv, " ");
	assert_string_equal(u, "zfs unallow -u 5 tank/a");
	strvec_release(&argv);
	/* create time: for no user */
	zfs_allow_argv('c', 5, "create,receive", "tank/bk", &argv);
	_cleanup_free_ char *c = strvec_join(&argv, " ");
	assert_string_equal(c, "zfs allow -c create,receive tank/bk");
	strvec_release(&argv);
	zfs_unallow_create_argv("create,receive", "tank/bk", &argv);
	_cleanup_free_ char *uc = strvec_join(&argv, " ");
	assert_string_equal(uc, "zfs unallow -c create,receive tank/bk");
	strvec_release(&argv);
	zfs_unallow_argv(5, true, "tank/bk", &argv);
	_cleanup_free_ char *ur = strvec_join(&argv, " ");
	assert_string_equal(ur, "zfs unallow -r -u 5 tank/bk");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_tree_snapshots_bookmarks),
		cmocka_unit_test(test_find_by_name),
		cmocka_unit_test(test_list_rejects_garbage),
		cmocka_unit_test(test_snapshot_ids),
		cmocka_unit_test(test_get_sources),
		cmocka_unit_test(test_holds_estimate_version_pools),
		cmocka_unit_test(test_zpool_props),
		cmocka_unit_test(test_errno_mapping),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_send_recv_argv),
		cmocka_unit_test(test_zpool_status),
		cmocka_unit_test(test_allow_argv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
