/* test_recvprops.c - the quarantine of received datasets (zfs/recvprops.h). */
#include "unit.h"
#include "zfs/recvprops.h"

static void test_name_exact(void **state)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
	assert_int_equal(recv_prop_name("com.x:mountpoint=1", true, &a), 0);
	assert_string_equal(a, "com.x:mountpoint");
	assert_false(recv_prop_guarded(a, true));
	assert_int_equal(recv_prop_name("a:mountpoint", false, &b), 0);
	assert_false(recv_prop_guarded(b, true));
	assert_int_equal(recv_prop_name("setuid=on", true, &c), 0);
	assert_true(recv_prop_guarded(c, false));
	char *x = NULL;
	assert_int_equal(recv_prop_name("setuid", true, &x), -EINVAL);     /* -o needs = */
	assert_int_equal(recv_prop_name("setuid=on", false, &x), -EINVAL); /* -x has none */
	assert_int_equal(recv_prop_name("=on", true, &x), -EINVAL);
	assert_int_equal(recv_prop_name("Setuid=on", true, &x), -EINVAL);
	assert_int_equal(recv_prop_name("set uid=on", true, &x), -EINVAL);
	assert_null(x);
	assert_true(recv_prop_guarded("mountpoint", true));
	assert_false(recv_prop_guarded("mountpoint", false)); /* own receives keep it */
}

static void test_is_override(void **state)
{
	assert_true(recv_prop_is_override("setuid=off", true, true));
	assert_false(recv_prop_is_override("setuid=on", true, true));
	assert_false(recv_prop_is_override("setuid=offx", true, true));
	assert_true(recv_prop_is_override("mountpoint", false, true));
	assert_false(recv_prop_is_override("mountpoint=/etc", true, true));
	assert_false(recv_prop_is_override("setuid", false, true));
	assert_true(recv_prop_is_override("volmode=none", true, true));
}

static char *joined(const struct strvec *v)
{
	_cleanup_strbuf_ struct strbuf b = STRBUF_INIT;
	for (size_t i = 0; i < v->n; i++)
		strbuf_addf(&b, "%s%s", i ? " " : "", v->v[i]);
	return strbuf_detach(&b);
}

static void test_args(void **state)
{
	_cleanup_strvec_ struct strvec set = STRVEC_INIT, ex = STRVEC_INIT;
	recv_guard_args(ZFS_TYPE_FILESYSTEM, false, NULL, NULL, &set, &ex);
	_cleanup_free_ char *s1 = joined(&set), *e1 = joined(&ex);
	assert_string_equal(s1, "setuid=off devices=off sharenfs=off sharesmb=off");
	assert_string_equal(e1, "zoned exec");
	strvec_release(&set);
	strvec_release(&ex);
	/* serve: mountpoint too; what the operator names is theirs */
	recv_guard_args(ZFS_TYPE_FILESYSTEM, true, ARGV("setuid=on"), ARGV("devices"), &set, &ex);
	_cleanup_free_ char *s2 = joined(&set), *e2 = joined(&ex);
	assert_string_equal(s2, "sharenfs=off sharesmb=off");
	assert_string_equal(e2, "zoned exec mountpoint");
	strvec_release(&set);
	strvec_release(&ex);
	recv_guard_args(ZFS_TYPE_VOLUME, true, NULL, NULL, &set, &ex);
	_cleanup_free_ char *s3 = joined(&set);
	assert_string_equal(s3, "volmode=none");
	assert_int_equal(ex.n, 0);
}

static void test_strip(void **state)
{
	_cleanup_strvec_ struct strvec set = STRVEC_INIT;
	recv_guard_strip(&set);
	assert_int_equal(set.n, 0);
	strvec_pushv(&set, ARGV("setuid=on", "compression=lz4", "devices=on", "org.x:setuid=1",
				"volmode=full"));
	recv_guard_strip(&set);
	_cleanup_free_ char *s = joined(&set);
	assert_string_equal(s, "compression=lz4 org.x:setuid=1");
	assert_null(set.v[set.n]);
}

static void props_of(const char *text, struct zfs_props *p)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(zfs_parse_get(text, strlen(text), p, &err), 0);
}

static const struct recv_repair *repair_of(const struct recv_repairs *rs, const char *ds,
					   const char *name)
{
	for (size_t i = 0; i < rs->n; i++)
		if (streq(rs->r[i].dataset, ds) && streq(rs->r[i].name, name))
			return &rs->r[i];
	return NULL;
}

/* What a worker holding the quarantine's grants may leave, and what root puts back. */
static void test_repairs(void **state)
{
	struct zfs_props before = { 0 }, after = { 0 };
	props_of("b/sib\tsetuid\toff\tlocal\n"
		 "b/sib\texec\toff\tlocal\n"
		 "b/sib\tdevices\ton\tdefault\n"     /* was unsafe, left so: not the worker's */
		 "b/sib\tsharenfs\toff\tdefault\n"
		 "b/sib\tzoned\toff\tdefault\n"
		 "b/sib\tvolmode\t-\t-\n"
		 "b/old\tsetuid\ton\tlocal\n"        /* the operator's, then the receive's off */
		 "b/vol\tvolmode\tnone\tlocal\n"
		 "b/vol\tsetuid\t-\t-\n",
		 &before);
	props_of("b/sib\tsetuid\ton\tlocal\n"         /* weakened: back to off */
		 "b/sib\texec\ton\tinherited from b\n" /* weakened: back to local off */
		 "b/sib\tdevices\ton\tdefault\n"
		 "b/sib\tsharenfs\trw\tlocal\n"        /* weakened: inherit again */
		 "b/sib\tzoned\toff\tdefault\n"
		 "b/sib\tvolmode\t-\t-\n"
		 "b/old\tsetuid\toff\tlocal\n"
		 "b/vol\tvolmode\tfull\tlocal\n"      /* weakened: back to none */
		 "b/vol\tsetuid\t-\t-\n"
		 "b/new\tsetuid\toff\tlocal\n"         /* new and quarantined: fine */
		 "b/new\texec\ton\tdefault\n"
		 "b/new\tdevices\ton\treceived\n"      /* new, not overridden: off */
		 "b/new\tzoned\ton\treceived\n"        /* new, -x not applied: inherit */
		 "b/newvol\tvolmode\tdefault\treceived\n",
		 &after);
	struct recv_repairs rs = RECV_REPAIRS_INIT;
	recv_guard_repairs(&before, &after, NULL, &rs);
	assert_int_equal(rs.n, 7);
	const struct recv_repair *r;
	assert_non_null(r = repair_of(&rs, "b/sib", "setuid"));
	assert_string_equal(r->value, "off");
	assert_string_equal(r->found, "on (local)");
	assert_non_null(r = repair_of(&rs, "b/sib", "exec"));
	assert_string_equal(r->value, "off");
	assert_non_null(r = repair_of(&rs, "b/sib", "sharenfs"));
	assert_null(r->value);
	assert_non_null(r = repair_of(&rs, "b/vol", "volmode"));
	assert_string_equal(r->value, "none");
	assert_non_null(r = repair_of(&rs, "b/new", "devices"));
	assert_string_equal(r->value, "off");
	assert_non_null(r = repair_of(&rs, "b/new", "zoned"));
	assert_null(r->value);
	assert_non_null(r = repair_of(&rs, "b/newvol", "volmode"));
	assert_string_equal(r->value, "none");
	assert_null(repair_of(&rs, "b/sib", "devices"));
	assert_null(repair_of(&rs, "b/old", "setuid"));
	assert_null(repair_of(&rs, "b/new", "exec"));
	recv_repairs_release(&rs);
	recv_repairs_release(&rs); /* released twice: safe */
	zfs_props_release(&before);
	zfs_props_release(&after);
}

/* The operator's own -o setuid=on is theirs; nothing before (an empty listing) is new. */
static void test_repairs_keep(void **state)
{
	struct zfs_props before = { 0 }, after = { 0 };
	props_of("t/r\tsetuid\ton\tlocal\nt/r\tdevices\ton\tlocal\n", &after);
	const char *const keep[] = { "setuid", NULL };
	struct recv_repairs rs = RECV_REPAIRS_INIT;
	recv_guard_repairs(&before, &after, keep, &rs);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.r[0].name, "devices");
	assert_string_equal(rs.r[0].value, "off");
	recv_repairs_release(&rs);
	zfs_props_release(&after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_exact),
		cmocka_unit_test(test_is_override),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_strip),
		cmocka_unit_test(test_repairs),
		cmocka_unit_test(test_repairs_keep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
