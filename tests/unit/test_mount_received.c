/*
 * test_mount_received.c - where root mounts what a confined run received
 * (zfs_mount_received()): only inside the given areas, and nothing at all
 * when the listing names a dataset twice or one outside the tree (a line
 * break in a mountpoint value can fake a line of `zfs list -H`). The
 * listing comes from a fake runner; the guest tests run the real zfs
 * (70-hostile-receive).
 */
#include "unit.h"
#include "zfs/zfs.h"
#include "base/spawn.h"

struct fake {
	struct runner base;
	const char *listing; /* what `zfs list` prints */
	struct strvec mounts; /* each `zfs mount NAME` asked */
};

static int fake_start(struct runner *r, const char *const *argv, int in, int out, int err,
		      struct child *c)
{
	struct fake *f = (struct fake *)r;
	_cleanup_free_ char *owned = NULL;
	const char *script = "exit 0";
	if (streq(argv[1], "list")) {
		owned = xasprintf("printf '%%s' '%s'", f->listing);
		script = owned;
	} else if (streq(argv[1], "mount")) {
		strvec_push(&f->mounts, argv[2]);
	}
	const char *const sh[] = { "/bin/sh", "-c", script, NULL };
	struct spawn_req req = { .argv = sh, .in = in, .out = out, .err = err };
	return spawn_start(&req, c);
}

static void fake_free(struct runner *r)
{
	strvec_release(&((struct fake *)r)->mounts);
}

static const struct runner_ops fake_ops = { .start = fake_start, .free = fake_free };

#define ROW(name, mp) name "\tfilesystem\t1\t2\t3\ton\tno\t" mp "\n"

static int mount_with(struct fake *f, const char *listing, struct strvec *elsewhere,
		      struct strvec *refused)
{
	*f = (struct fake){ .base = { .ops = &fake_ops, .label = (char *)"fake" },
			    .listing = listing, .mounts = STRVEC_INIT };
	struct zfs z;
	zfs_init(&z, &f->base);
	_cleanup_strvec_ struct strvec failed = STRVEC_INIT;
	static const char *const areas[] = { "/zk-area/tgt", NULL };
	int r = zfs_mount_received(&z, areas, "dst/tgt", true, &failed, elsewhere, refused);
	zfs_release(&z);
	return r;
}

static void test_inside_only(void **state)
{
	(void)state;
	struct fake f;
	_cleanup_strvec_ struct strvec elsewhere = STRVEC_INIT, refused = STRVEC_INIT;
	assert_int_equal(mount_with(&f, ROW("dst/tgt", "/zk-area/tgt") ROW("dst/tgt/a", "/zk-area/tgt/a")
				    ROW("dst/tgt/b", "/etc/cron.d") ROW("dst/tgt/c", "/zk-area/tgtc"),
				    &elsewhere, &refused), 0);
	assert_int_equal(f.mounts.n, 2);
	assert_string_equal(f.mounts.v[0], "dst/tgt");
	assert_string_equal(f.mounts.v[1], "dst/tgt/a");
	assert_int_equal(elsewhere.n, 2);
	assert_non_null(strstr(elsewhere.v[0], "dst/tgt/b: mountpoint /etc/cron.d lies outside"));
	assert_non_null(strstr(elsewhere.v[1], "dst/tgt/c: mountpoint /zk-area/tgtc lies outside"));
	assert_int_equal(refused.n, 0);
	fake_free(&f.base);
}

/* dst/tgt/x's mountpoint "/zk-area/tgt/x\ndst/tgt/b\t...\t/zk-area/tgt/b" adds a line
 * that says dst/tgt/b mounts inside, while it mounts at /etc/cron.d */
static void test_forged_line(void **state)
{
	(void)state;
	struct fake f;
	_cleanup_strvec_ struct strvec elsewhere = STRVEC_INIT, refused = STRVEC_INIT;
	assert_int_equal(mount_with(&f, ROW("dst/tgt", "/zk-area/tgt") ROW("dst/tgt/b", "/etc/cron.d")
				    ROW("dst/tgt/x", "/zk-area/tgt/x") ROW("dst/tgt/b", "/zk-area/tgt/b"),
				    &elsewhere, &refused), -EINVAL);
	assert_int_equal(f.mounts.n, 0);
	assert_int_equal(refused.n, 1);
	assert_non_null(strstr(refused.v[0], "names a dataset twice or one outside it"));
	fake_free(&f.base);
	/* a forged line for a dataset outside the tree */
	strvec_release(&refused);
	assert_int_equal(mount_with(&f, ROW("dst/tgt", "/zk-area/tgt") ROW("dst/other", "/zk-area/tgt/o"),
				    &elsewhere, &refused), -EINVAL);
	assert_int_equal(f.mounts.n, 0);
	fake_free(&f.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside_only),
		cmocka_unit_test(test_forged_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
