#include "unit.h"
#include "base/strvec.h"

static void test_push_keeps_null_terminated(void **state)
{
	_cleanup_strvec_ struct strvec sv = STRVEC_INIT;
	assert_non_null(sv.v);
	assert_null(sv.v[0]);
	for (int i = 0; i < 100; i++) {
		strvec_pushf(&sv, "item%d", i);
		assert_null(sv.v[sv.n]);
	}
	assert_int_equal(sv.n, 100);
	assert_string_equal(sv.v[42], "item42");
	strvec_pop(&sv);
	assert_int_equal(sv.n, 99);
	assert_null(sv.v[99]);
	strvec_remove(&sv, 42);
	assert_int_equal(sv.n, 98);
	assert_string_equal(sv.v[41], "item41");
	assert_string_equal(sv.v[42], "item43");
	assert_string_equal(sv.v[97], "item98");
	assert_null(sv.v[98]);
	strvec_remove(&sv, 98); /* past the end: nothing */
	assert_int_equal(sv.n, 98);
}

static void test_push_copies(void **state)
{
	_cleanup_strvec_ struct strvec sv = STRVEC_INIT;
	char buf[] = "zfs";
	strvec_push(&sv, buf);
	buf[0] = 'X';
	assert_string_equal(sv.v[0], "zfs");
}

static void test_split_join_find_sort(void **state)
{
	_cleanup_strvec_ struct strvec sv = STRVEC_INIT;
	strvec_split(&sv, " hourly, daily,,monthly ", ", ");
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[0], "hourly");
	assert_string_equal(sv.v[2], "monthly");
	assert_int_equal(strvec_find(&sv, "daily"), 1);
	assert_int_equal(strvec_find(&sv, "weekly"), -1);
	strvec_sort(&sv);
	char *j = strvec_join(&sv, ",");
	assert_string_equal(j, "daily,hourly,monthly");
	free(j);
	strvec_release(&sv);
	assert_int_equal(sv.n, 0);
	j = strvec_join(&sv, ",");
	assert_string_equal(j, "");
	free(j);
}

static void test_pushv(void **state)
{
	_cleanup_strvec_ struct strvec sv = STRVEC_INIT;
	const char *const items[] = { "zfs", "list", "-Hp", NULL };
	strvec_pushv(&sv, items);
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[2], "-Hp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_keeps_null_terminated),
		cmocka_unit_test(test_push_copies),
		cmocka_unit_test(test_split_join_find_sort),
		cmocka_unit_test(test_pushv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
