/* The replication engine's pure decisions (replicate.h), without a pool. */
#include "unit.h"
#include "replication/replicate.h"

/* The structs hold char *; these tests never write through them. */
#define S(lit) ((char *)(lit))

static void test_xfer_outcome(void **state)
{
	const char *gone1 = "cannot resume send: 'src/fs@a' used in the initial send no longer exists";
	const char *gone2 = "cannot resume send: incremental source 0x1234 no longer exists";
	const char *partial = "cannot receive new filesystem stream: destination dst/fs contains "
			      "partially-complete state from \"zfs receive -s\".";
	/* all three parts good; a receive warning does not change that */
	assert_int_equal(replicate_xfer_outcome(0, 0, 0, false, true, "", "warning"), REPL_XFER_OK);
	/* a resume whose snapshot is gone, said by either side */
	assert_int_equal(replicate_xfer_outcome(-EIO, 0, 0, true, true, gone1, ""),
			 REPL_XFER_RESUME_GONE);
	assert_int_equal(replicate_xfer_outcome(0, -EIO, 0, true, true, "", gone2),
			 REPL_XFER_RESUME_GONE);
	/* ... but not when the step was no resume */
	assert_int_equal(replicate_xfer_outcome(-EIO, 0, 0, false, true, gone1, ""),
			 REPL_XFER_FAILED);
	/* a partial receive on the target: aborted and retried, except by a
	 * resumable run's own resume */
	assert_int_equal(replicate_xfer_outcome(0, -EIO, 0, false, true, "", partial),
			 REPL_XFER_PARTIAL_STATE);
	assert_int_equal(replicate_xfer_outcome(0, -EIO, 0, true, false, "", partial),
			 REPL_XFER_PARTIAL_STATE);
	assert_int_equal(replicate_xfer_outcome(0, -EIO, 0, true, true, "", partial),
			 REPL_XFER_FAILED);
	/* the pump alone failed */
	assert_int_equal(replicate_xfer_outcome(0, 0, -EPIPE, false, true, "", ""), REPL_XFER_FAILED);
}

static void test_describe_step(void **state)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	struct replan_ds d = { .source = S("src/fs"), .target = S("dst/fs") };
	struct replan_step full = { .kind = REPLAN_STEP_FULL, .to = S("src/fs@a") };
	struct replan_step clone = { .kind = REPLAN_STEP_FULL, .to = S("src/c@a"), .from = S("src/fs@o"),
				     .clone = true };
	struct replan_step incr = { .kind = REPLAN_STEP_INCR, .from = S("src/fs@a"), .to = S("src/fs@b"),
				    .intermediates = true };
	struct replan_step resume = { .kind = REPLAN_STEP_RESUME, .token = S("1-abc") };
	replicate_describe_step(&sb, &d, &full);
	assert_string_equal(sb.buf, "Sending oldest full snapshot src/fs@a to new target filesystem dst/fs");
	strbuf_reset(&sb);
	replicate_describe_step(&sb, &d, &clone);
	assert_string_equal(sb.buf, "Sending oldest full snapshot src/c@a to new target filesystem "
				    "dst/fs (as a clone of src/fs@o)");
	strbuf_reset(&sb);
	replicate_describe_step(&sb, &d, &incr);
	assert_string_equal(sb.buf, "Sending incremental src/fs@a ... b to dst/fs");
	strbuf_reset(&sb);
	replicate_describe_step(&sb, &d, &resume);
	assert_string_equal(sb.buf, "Resuming interrupted zfs send/receive from src/fs to dst/fs");
}

static void test_bookmark_retry_name(void **state)
{
	struct zfs_snap sn = { .name = S("src/fs@s1"), .type = ZFS_TYPE_SNAPSHOT, .guid = 12345678901ULL };
	_cleanup_free_ char *g1 = NULL, *g2 = NULL, *g3 = NULL;
	_cleanup_free_ char *a = replicate_bookmark_retry_name("src/fs", "s1", &sn, &g1);
	assert_string_equal(a, "src/fs#s1123456");
	assert_string_equal(g1, "123456");
	sn.guid = 42;
	_cleanup_free_ char *b = replicate_bookmark_retry_name("src/fs", "s1", &sn, &g2);
	assert_string_equal(b, "src/fs#s142");
	_cleanup_free_ char *c = replicate_bookmark_retry_name("src/fs", "s1", NULL, &g3);
	assert_string_equal(c, "src/fs#s10");
	assert_string_equal(g3, "0");
}

static void test_held_snapshots(void **state)
{
	/* props: index 0 some other property, index 1 userrefs */
	char *p_a[] = { S("x"), S("1") }, *p_b[] = { S("x"), S("0") }, *p_c[] = { S("x"), NULL },
	     *p_keep[] = { S("x"), S("2") }, *p_mark[] = { S("x"), S("1") }, *p_d[] = { S("x"), S("3") };
	struct zfs_snap snaps[] = {
		{ .name = S("fs@a"), .short_name = S("a"), .type = ZFS_TYPE_SNAPSHOT, .props = p_a },
		{ .name = S("fs@b"), .short_name = S("b"), .type = ZFS_TYPE_SNAPSHOT, .props = p_b },
		{ .name = S("fs@c"), .short_name = S("c"), .type = ZFS_TYPE_SNAPSHOT, .props = p_c },
		{ .name = S("fs@keep"), .short_name = S("keep"), .type = ZFS_TYPE_SNAPSHOT, .props = p_keep },
		{ .name = S("fs#m"), .short_name = S("m"), .type = ZFS_TYPE_BOOKMARK, .props = p_mark },
		{ .name = S("fs@d"), .short_name = S("d"), .type = ZFS_TYPE_SNAPSHOT, .props = p_d },
		{ .name = S("fs@e"), .short_name = S("e"), .type = ZFS_TYPE_SNAPSHOT, .props = NULL },
	};
	struct zfs_dataset ds = { .name = S("fs"), .snaps = snaps, .nsnaps = ARRAY_SIZE(snaps) };
	_cleanup_strvec_ struct strvec out = STRVEC_INIT;
	replicate_held_snapshots(&ds, 1, "keep", &out);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0], "fs@a");
	assert_string_equal(out.v[1], "fs@d");
	strvec_release(&out);
	/* no userrefs in the listing, or no dataset: nothing */
	replicate_held_snapshots(&ds, -1, "keep", &out);
	replicate_held_snapshots(NULL, 1, "keep", &out);
	assert_int_equal(out.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xfer_outcome),
		cmocka_unit_test(test_describe_step),
		cmocka_unit_test(test_bookmark_retry_name),
		cmocka_unit_test(test_held_snapshots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
