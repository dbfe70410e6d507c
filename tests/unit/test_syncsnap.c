#include "unit.h"
#include "snapshots/syncsnap.h"
#include "replication/sendopts.h"

static void test_names(void **state)
{
	setenv("TZ", "Europe/Vienna", 1);
	tzset();
	_cleanup_free_ char *p = syncsnap_prefix(NULL, "host1");
	assert_string_equal(p, "syncoid_host1");
	_cleanup_free_ char *pi = syncsnap_prefix("nightly", "host1");
	assert_string_equal(pi, "syncoid_nightly_host1");
	/* 2026-07-01 10:00:00 UTC = 12:00 CEST, offset +02:00 written without '+' */
	_cleanup_free_ char *n = syncsnap_name(p, 1782900000);
	assert_string_equal(n, "syncoid_host1_2026-07-01_12:00:00-GMT02:00");
	setenv("TZ", "America/New_York", 1);
	tzset();
	_cleanup_free_ char *m = syncsnap_name(pi, 1782900000);
	assert_string_equal(m, "syncoid_nightly_host1_2026-07-01_06:00:00-GMT-04:00");
	unsetenv("TZ");
	tzset();
}

static void test_recognition(void **state)
{
	const char *p = "syncoid_web";
	assert_true(syncsnap_matches("syncoid_web_2026-07-01_12:00:00-GMT02:00", p));
	assert_true(syncsnap_matches("syncoid_web_2026-07-01_12:00:00-GMT-04:00", p));
	/* the form of releases up to 2.3.0 */
	assert_true(syncsnap_matches("syncoid_web_2026-07-01:12:00:00-GMT02:00", p));
	/* another host whose name starts the same */
	assert_false(syncsnap_matches("syncoid_web2_2026-07-01_12:00:00-GMT02:00", p));
	assert_false(syncsnap_matches("syncoid_web_2026-07-01_12:00:00-GMT02:00x", p));
	assert_false(syncsnap_matches("syncoid_web_2026-07-01_12:00:00", p));
	assert_false(syncsnap_matches("autosnap_2026-07-01_12:00:00_hourly", p));
	assert_false(syncsnap_matches("syncoid_web_2026-07-01T12:00:00-GMT02:00", p));
	assert_true(syncsnap_is_sync("syncoid_a_b_2026-07-01_12:00:00-GMT-04:00"));
	assert_true(syncsnap_is_sync("syncoid_x_2026-07-01:12:00:00-GMT00:00"));
	assert_false(syncsnap_is_sync("syncoid_"));
	assert_false(syncsnap_is_sync("autosnap_2026-07-01_12:00:00_daily"));
}

static void test_identifier(void **state)
{
	assert_true(syncsnap_identifier_valid("abc-DEF_1:2.3"));
	assert_false(syncsnap_identifier_valid(""));
	assert_false(syncsnap_identifier_valid("a b"));
	assert_false(syncsnap_identifier_valid("a/b"));
	assert_false(syncsnap_identifier_valid("a@b"));
	assert_false(syncsnap_identifier_valid("a+b"));
}

static void test_sendopts_parse(void **state)
{
	struct sendopts o = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(sendopts_parse("ux recordsize o compression=lz4", true, &o, &err), 0);
	assert_int_equal(o.n, 3);
	assert_int_equal(o.flag[0], 'u');
	assert_int_equal(o.flag[1], 'x');
	assert_string_equal(o.value[1], "recordsize");
	assert_int_equal(o.flag[2], 'o');
	assert_string_equal(o.value[2], "compression=lz4");
	_cleanup_strbuf_ struct strbuf flags = STRBUF_INIT;
	_cleanup_strvec_ struct strvec set = STRVEC_INIT, ex = STRVEC_INIT;
	sendopts_args(&o, SENDOPTS_RECV, &flags, &set, &ex, NULL, NULL);
	assert_string_equal(flags.buf, "u");
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0], "compression=lz4");
	assert_string_equal(ex.v[0], "recordsize");
	sendopts_release(&o);

	/* recv flags are refused for send and vice versa */
	assert_int_equal(sendopts_parse("Lu", false, &o, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "'u'"));
	strbuf_reset(&err);
	assert_int_equal(sendopts_parse("F", true, &o, &err), -EINVAL);
	strbuf_reset(&err);
	assert_int_equal(sendopts_parse("o", true, &o, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "value"));
	strbuf_reset(&err);
	assert_int_equal(sendopts_parse("", false, &o, &err), 0);
	assert_int_equal(o.n, 0);
	assert_int_equal(sendopts_parse(NULL, false, &o, &err), 0);
}

static void test_sendopts_kinds(void **state)
{
	struct sendopts o = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(sendopts_parse("Lce pw X pool/skip", false, &o, &err), 0);
	struct {
		enum sendopts_kind k;
		const char *flags, *dropped;
		size_t nx;
	} cases[] = {
		{ SENDOPTS_FULL, "Lcepw", "", 1 },
		{ SENDOPTS_BOOKMARK, "Lcew", "pX", 0 },
		{ SENDOPTS_RESUME, "e", "LcpwX", 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_strbuf_ struct strbuf flags = STRBUF_INIT, dropped = STRBUF_INIT;
		_cleanup_strvec_ struct strvec x = STRVEC_INIT;
		sendopts_args(&o, cases[i].k, &flags, NULL, NULL, &x, &dropped);
		assert_string_equal(flags.buf, cases[i].flags);
		assert_string_equal(dropped.buf, cases[i].dropped);
		assert_int_equal(x.n, cases[i].nx);
	}
	assert_true(sendopts_has(&o, 'w'));
	assert_false(sendopts_has(&o, 'R'));
	sendopts_release(&o);
	for (const char *c = "LPVRXbcehpsvw"; *c; c++)
		assert_true(sendopts_allowed(SENDOPTS_FULL, *c));
	for (const char *c = "DnS"; *c; c++)
		assert_false(sendopts_allowed(SENDOPTS_FULL, *c));
	for (const char *c = "hoxuv"; *c; c++)
		assert_true(sendopts_allowed(SENDOPTS_RECV, *c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_recognition),
		cmocka_unit_test(test_identifier),
		cmocka_unit_test(test_sendopts_parse),
		cmocka_unit_test(test_sendopts_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
