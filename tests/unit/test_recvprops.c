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

static const char *const roots_b[] = { "b", NULL };

static void rows_of(const char *text, struct guard_rows *rows)
{
	assert_int_equal(recv_guard_parse(text, strlen(text), roots_b, rows), 0);
}

static const struct recv_repair *repair_of(const struct recv_repairs *rs, const char *ds,
					   const char *name)
{
	for (size_t i = 0; i < rs->n; i++)
		if (streq(rs->r[i].dataset, ds) && streq(rs->r[i].name, name))
			return &rs->r[i];
	return NULL;
}

/* The repair that must be there; fails the test otherwise. cmocka's assertions do not tell
 * the compiler they return only on success, so an optimising build would warn below. */
static const struct recv_repair *must_repair(const struct recv_repairs *rs, const char *ds,
					     const char *name)
{
	const struct recv_repair *r = repair_of(rs, ds, name);
	if (!r)
		fail_msg("no repair of %s on %s", name, ds);
	return r;
}

/* What a worker holding the quarantine's grants may leave, and what root puts back. */
static void test_repairs(void **state)
{
	struct guard_rows before = GUARD_ROWS_INIT, after = GUARD_ROWS_INIT;
	rows_of("b/sib\ttype\t-\tfilesystem\n"
		"b/sib\tsetuid\tlocal\toff\n"
		"b/sib\texec\tlocal\toff\n"
		"b/sib\tdevices\tdefault\ton\n"     /* was unsafe, left so: not the worker's */
		"b/sib\tsharenfs\tdefault\toff\n"
		"b/sib\tzoned\tdefault\toff\n"
		"b/sib\tvolmode\tdefault\tdefault\n" /* a filesystem's: not guarded */
		"b/old\ttype\t-\tfilesystem\n"
		"b/old\tsetuid\tlocal\ton\n"        /* the operator's, then the receive's off */
		"b/vol\ttype\t-\tvolume\n"
		"b/vol\tvolmode\tlocal\tnone\n"
		"b/vol\tsetuid\t-\t-\n"
		"b/fs2vol\ttype\t-\tfilesystem\n"
		"b/fs2vol\tvolmode\tdefault\tdefault\n",
		&before);
	rows_of("b/sib\ttype\t-\tfilesystem\n"
		"b/sib\tsetuid\tlocal\ton\n"              /* weakened: back to off */
		"b/sib\texec\tinherited from b\ton\n"     /* weakened: back to local off */
		"b/sib\tdevices\tdefault\ton\n"
		"b/sib\tsharenfs\tlocal\trw\n"            /* weakened: inherit again */
		"b/sib\tzoned\tdefault\toff\n"
		"b/sib\tvolmode\tdefault\tdefault\n"
		"b/old\ttype\t-\tfilesystem\n"
		"b/old\tsetuid\tlocal\toff\n"
		"b/vol\ttype\t-\tvolume\n"
		"b/vol\tvolmode\tlocal\tfull\n"           /* weakened: back to none */
		"b/vol\tsetuid\t-\t-\n"
		"b/new\ttype\t-\tfilesystem\n"
		"b/new\tsetuid\tlocal\toff\n"              /* new and quarantined: fine */
		"b/new\texec\tdefault\ton\n"
		"b/new\tvolmode\tdefault\tdefault\n"       /* a new filesystem's: fine */
		"b/new\tdevices\treceived\ton\n"           /* new, not overridden: off */
		"b/new\tzoned\treceived\ton\n"             /* new, -x not applied: inherit */
		"b/newvol\ttype\t-\tvolume\n"
		"b/newvol\tvolmode\treceived\tdefault\n"
		"b/fs2vol\ttype\t-\tvolume\n"              /* destroyed, made again a zvol */
		"b/fs2vol\tvolmode\tdefault\tdefault\n",
		&after);
	struct recv_repairs rs = RECV_REPAIRS_INIT;
	recv_guard_repairs(&before, &after, NULL, &rs);
	assert_int_equal(rs.n, 8);
	const struct recv_repair *r;
	r = must_repair(&rs, "b/sib", "setuid");
	assert_string_equal(r->value, "off");
	assert_string_equal(r->found, "on (local)");
	r = must_repair(&rs, "b/sib", "exec");
	assert_string_equal(r->value, "off");
	r = must_repair(&rs, "b/sib", "sharenfs");
	assert_null(r->value);
	r = must_repair(&rs, "b/vol", "volmode");
	assert_string_equal(r->value, "none");
	r = must_repair(&rs, "b/new", "devices");
	assert_string_equal(r->value, "off");
	r = must_repair(&rs, "b/new", "zoned");
	assert_null(r->value);
	r = must_repair(&rs, "b/newvol", "volmode");
	assert_string_equal(r->value, "none");
	r = must_repair(&rs, "b/fs2vol", "volmode");
	assert_string_equal(r->value, "none");
	assert_null(repair_of(&rs, "b/sib", "devices"));
	assert_null(repair_of(&rs, "b/sib", "volmode"));
	assert_null(repair_of(&rs, "b/new", "volmode"));
	assert_null(repair_of(&rs, "b/old", "setuid"));
	assert_null(repair_of(&rs, "b/new", "exec"));
	recv_repairs_release(&rs);
	recv_repairs_release(&rs); /* released twice: safe */
	guard_rows_release(&before);
	guard_rows_release(&after);
}

/* The operator's own -o setuid=on is theirs, no other value; nothing before is new. */
static void test_repairs_keep(void **state)
{
	struct guard_rows before = GUARD_ROWS_INIT, after = GUARD_ROWS_INIT;
	rows_of("b/r\ttype\t-\tfilesystem\nb/r\tsetuid\tlocal\ton\nb/r\tdevices\tlocal\ton\n"
		"b/r\texec\tlocal\ton\nb/s\ttype\t-\tfilesystem\nb/s\tsharenfs\tlocal\trw\n",
		&after);
	const char *const keep[] = { "setuid=on", "exec", "sharenfs=ro", NULL };
	struct recv_repairs rs = RECV_REPAIRS_INIT;
	recv_guard_repairs(&before, &after, keep, &rs);
	assert_int_equal(rs.n, 3);
	assert_null(repair_of(&rs, "b/r", "setuid"));
	assert_string_equal(repair_of(&rs, "b/r", "devices")->value, "off");
	assert_null(repair_of(&rs, "b/r", "exec")->value); /* the operator's -x: inherit */
	assert_string_equal(repair_of(&rs, "b/s", "sharenfs")->value, "ro");
	recv_repairs_release(&rs);
	guard_rows_release(&after);
}

/*
 * A worker sets sharenfs to text with line breaks and tabs, forging rows: one that
 * repeats a real pair (ambiguous: repaired), one outside the listed tree and one
 * with a property not listed (a value's continuation, nothing more).
 */
/* Mounted nosuid while the property is on: zfs get shows off, "temporary". */
static void test_repairs_mounted(void **state)
{
	struct guard_rows before = GUARD_ROWS_INIT, after = GUARD_ROWS_INIT;
	rows_of("b/m\ttype\t-\tfilesystem\nb/m\tsetuid\tlocal\toff\nb/m\texec\tlocal\toff\n"
		"b/m\tdevices\ttemporary\toff\n", /* an admin's mount -o nodev */
		&before);
	rows_of("b/m\ttype\t-\tfilesystem\nb/m\tsetuid\ttemporary\toff\n"
		"b/m\texec\ttemporary\toff\nb/m\tdevices\ttemporary\toff\n",
		&after);
	struct recv_repairs rs = RECV_REPAIRS_INIT;
	recv_guard_repairs(&before, &after, NULL, &rs);
	assert_int_equal(rs.n, 2);
	assert_string_equal(repair_of(&rs, "b/m", "setuid")->value, "off");
	assert_string_equal(repair_of(&rs, "b/m", "setuid")->found,
			    "on (shadowed by a mount option)");
	assert_string_equal(repair_of(&rs, "b/m", "exec")->value, "off");
	assert_null(repair_of(&rs, "b/m", "devices")); /* as it was */
	recv_repairs_release(&rs);
	guard_rows_release(&before);
	guard_rows_release(&after);
}

static void test_parse_forged(void **state)
{
	struct guard_rows before = GUARD_ROWS_INIT, after = GUARD_ROWS_INIT;
	const char *text = "b/a\ttype\t-\tfilesystem\n"
			   "b/a\tsharenfs\tlocal\trw\tx\n"
			   "b/s\tsetuid\tlocal\toff\n"      /* forged */
			   "etc\tsetuid\tlocal\ton\n"       /* forged, outside b */
			   "b/s\tquota\tlocal\t1\n"         /* forged, not listed */
			   "\n"
			   "b/s\ttype\t-\tfilesystem\n"
			   "b/s\tsetuid\tlocal\ton\n";      /* the real one */
	rows_of(text, &after);
	assert_int_equal(after.n, 4);
	assert_string_equal(after.r[0].dataset, "b/a");
	assert_string_equal(after.r[0].name, "sharenfs");
	assert_string_equal(after.r[0].value, "rw\tx");
	assert_false(after.r[0].ambiguous);
	assert_string_equal(after.r[2].name, "setuid");
	assert_true(after.r[2].ambiguous);
	struct recv_repairs rs = RECV_REPAIRS_INIT;
	recv_guard_repairs(&before, &after, NULL, &rs);
	assert_int_equal(rs.n, 2);
	assert_string_equal(repair_of(&rs, "b/a", "sharenfs")->value, "off");
	assert_string_equal(repair_of(&rs, "b/s", "setuid")->value, "off");
	assert_null(repair_of(&rs, "etc", "setuid"));
	recv_repairs_release(&rs);
	/* nothing that is not a row: nothing */
	assert_int_equal(recv_guard_parse("x\ny\tz\n\n", 8, roots_b, &before), 0);
	assert_int_equal(before.n, 0);
	guard_rows_release(&after);
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
		cmocka_unit_test(test_parse_forged),
		cmocka_unit_test(test_repairs_mounted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
