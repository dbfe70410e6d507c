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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_exact),
		cmocka_unit_test(test_is_override),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_strip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
