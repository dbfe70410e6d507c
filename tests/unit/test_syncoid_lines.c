#include "unit.h"
#include "cli/syncoid_lines.h"

/* the plan's strings are owned (char *); these are literals */
#define S(x) ((char *)(x))

static char *size(uint64_t bytes)
{
	struct strbuf sb = STRBUF_INIT;
	syncoid_size(&sb, bytes);
	return strbuf_detach(&sb);
}

/* readablebytes() after getsendsize(): Perl's sprintf("%d") truncates, "%.1f" rounds. */
static void test_sizes_are_readablebytes(void **state)
{
	static const struct {
		uint64_t b;
		const char *s;
	} cases[] = {
		{ 0, "UNKNOWN" },
		{ 1, "4 KB" },
		{ 4095, "4 KB" },
		{ 43008, "42 KB" },
		{ 44031, "42 KB" },
		{ 1048576, "1024 KB" },
		{ 1048577, "1.0 MB" },
		{ 1572864, "1.5 MB" },
		{ 1073741824, "1024.0 MB" },
		{ 1610612736, "1.5 GB" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *s = size(cases[i].b);
		assert_string_equal(s, cases[i].s);
	}
}

static struct syncoid_lines L;

static int setup(void **state)
{
	syncoid_lines_init(&L);
	return 0;
}

static int teardown(void **state)
{
	syncoid_lines_release(&L);
	return 0;
}

static struct replicate_event step_ev(const struct replan_ds *d, size_t i, uint64_t expected)
{
	const struct replan_step *st = &d->steps[i];
	return (struct replicate_event){
		.kind = REPL_EV_STEP, .source = d->source, .target = d->target, .from = st->from,
		.to = st->to, .expected_bytes = expected, .ds = d, .step = st,
		.message = "zkeep's words",
	};
}

static void assert_line(size_t i, int level, const char *text)
{
	assert_true(i < L.n);
	assert_int_equal(L.level[i], level);
	assert_string_equal(L.text[i].buf, text);
}

static void test_full_incremental_clone_resume(void **state)
{
	struct replan_step steps[] = {
		{ .kind = REPLAN_STEP_FULL, .to = S("tank/a@s1") },
		{ .kind = REPLAN_STEP_INCR, .from = S("tank/a@s1"), .to = S("tank/a@s3"),
		  .intermediates = true },
	};
	struct replan_ds d = { .source = S("tank/a"), .target = S("bk/a"), .steps = steps, .nsteps = 2 };
	struct syncoid_run run = { 0 };
	struct replicate_event ev = step_ev(&d, 0, 43008);
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 2);
	assert_line(0, LOG_LVL_NOTICE,
		    "Sending oldest full snapshot tank/a@s1 to new target filesystem bk/a (~ 42 KB):");
	assert_line(1, LOG_LVL_DEBUG, "sync size: ~42 KB");
	ev = step_ev(&d, 1, 0);
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 2);
	assert_line(0, LOG_LVL_NOTICE, "Sending incremental tank/a@s1 ... s3 to bk/a (~ UNKNOWN):");

	run.no_stream = true;
	ev = step_ev(&d, 0, 2000000);
	syncoid_event_lines(&run, &ev, &L);
	assert_line(0, LOG_LVL_NOTICE,
		    "--no-stream selected; sending newest full snapshot tank/a@s1 to new target "
		    "filesystem bk/a: (~ 1.9 MB)");

	struct replan_step clone = { .kind = REPLAN_STEP_FULL, .from = S("tank/o@base"),
				     .to = S("tank/c@s1"), .clone = true };
	struct replan_step resume = { .kind = REPLAN_STEP_RESUME, .token = S("1-abc") };
	struct replan_ds c = { .source = S("tank/c"), .target = S("bk/c"), .steps = &clone, .nsteps = 1 };
	ev = step_ev(&c, 0, 5000);
	syncoid_event_lines(&run, &ev, &L);
	assert_line(0, LOG_LVL_NOTICE, "Clone is recreated on target bk/c based on tank/o@base (~ 4 KB):");
	c.steps = &resume;
	ev = step_ev(&c, 0, 0);
	syncoid_event_lines(&run, &ev, &L);
	assert_line(0, LOG_LVL_NOTICE,
		    "Resuming interrupted zfs send/receive from tank/c to bk/c (~ UNKNOWN remaining):");
	/* remote sides are named as the command line named them */
	run.source_host = "root@db";
	run.target_host = "nas";
	syncoid_event_lines(&run, &ev, &L);
	assert_line(0, LOG_LVL_NOTICE,
		    "Resuming interrupted zfs send/receive from root@db:tank/c to nas:bk/c "
		    "(~ UNKNOWN remaining):");
	c.steps = &clone;
	ev = step_ev(&c, 0, 5000);
	syncoid_event_lines(&run, &ev, &L);
	assert_line(0, LOG_LVL_NOTICE,
		    "Clone is recreated on target nas:bk/c based on root@db:tank/o@base (~ 4 KB):");
}

/* syncbookmark() says no size; a filtered -I is announced once, then -i by -i. */
static void test_bookmark_and_filtered_chain(void **state)
{
	struct replan_step steps[] = {
		{ .kind = REPLAN_STEP_INCR, .from = S("tank/a#s1"), .to = S("tank/a@s2"),
		  .from_bookmark = true },
		{ .kind = REPLAN_STEP_INCR, .from = S("tank/a@s2"), .to = S("tank/a@s3") },
		{ .kind = REPLAN_STEP_INCR, .from = S("tank/a@s3"), .to = S("tank/a@s4") },
	};
	struct replan_ds d = { .source = S("tank/a"), .target = S("bk/a"), .steps = steps, .nsteps = 3 };
	struct syncoid_run run = { .snaps_filtered = true };
	struct replicate_event ev = step_ev(&d, 0, 9999);
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 1);
	assert_line(0, LOG_LVL_NOTICE, "Sending incremental tank/a#s1 ... s2 to bk/a:");
	ev = step_ev(&d, 1, 9999);
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 3);
	assert_line(0, LOG_LVL_NOTICE,
		    "--no-stream is omitted but snaps are filtered. Simulating -I with filtered snaps");
	assert_line(1, LOG_LVL_NOTICE, "Sending incremental tank/a@s2 ... s3 to bk/a (~ 9 KB):");
	ev = step_ev(&d, 2, 9999);
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 2);
	assert_line(0, LOG_LVL_NOTICE, "Sending incremental tank/a@s3 ... s4 to bk/a (~ 9 KB):");
}

static struct replicate_event about(const struct replan_ds *d, enum replicate_event_kind kind,
				    enum replicate_topic topic)
{
	return (struct replicate_event){ .kind = kind, .source = d->source, .target = d->target,
					 .message = d->message, .topic = topic, .ds = d };
}

static void test_status_lines(void **state)
{
	struct syncoid_run run = { 0 };
	struct replan_ds d = { .source = S("tank/a"), .target = S("bk/a"), .status = REPLAN_UPTODATE,
			       .final_snap = S("s3"), .message = S("zkeep's words") };
	struct replicate_event ev = about(&d, REPL_EV_INFO, REPL_TOPIC_STATUS);
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 1);
	assert_line(0, LOG_LVL_NOTICE,
		    "no snapshots on source newer than s3 on target. Nothing to do, not syncing.");

	d.status = REPLAN_SKIP;
	d.message = S("skipping dataset (syncoid:sync=false): tank/a");
	ev = about(&d, REPL_EV_INFO, REPL_TOPIC_STATUS);
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 1);
	assert_line(0, LOG_LVL_NOTICE, "Skipping dataset (syncoid:sync=false): tank/a...");
	d.message = S("skipping tank/a (--skip-parent)");
	ev = about(&d, REPL_EV_INFO, REPL_TOPIC_STATUS);
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 0);

	d.status = REPLAN_FAIL;
	d.target_exists = true;
	ev = about(&d, REPL_EV_ERROR, REPL_TOPIC_STATUS);
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 1);
	assert_line(0, LOG_LVL_ERROR,
		    "\n\tTarget bk/a exists but has no snapshots matching with tank/a!\n"
		    "\tReplication to target would require destroying existing\n"
		    "\ttarget. Cowardly refusing to destroy your existing target.\n");
	d.common = S("tank/a@s1"); /* a rollback refused: zkeep's words */
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 0);

	d.common = NULL;
	d.final_snap = NULL; /* no snapshot, no sync snapshot */
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 1);
	assert_line(0, SYNCOID_RAW,
		    "CRIT: --no-sync-snap is set, and getnewestsnapshot() could not find any "
		    "snapshots on source!");
	run.recursive = true;
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 2);
	assert_line(1, LOG_LVL_WARNING,
		    "CRITICAL: no snapshots exist on source tank/a, and you asked for --no-sync-snap.");
}

static void test_topics(void **state)
{
	struct syncoid_run run = { 0 };
	struct replan_ds d = { .source = S("tank/a"), .target = S("bk/a"), .status = REPLAN_SYNC };
	struct replicate_event ev = about(&d, REPL_EV_INFO, REPL_TOPIC_DESTROY_TARGET);
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 1);
	assert_line(0, LOG_LVL_NOTICE, "Removing bk/a because no matching snapshots were found");
	ev = about(&d, REPL_EV_WARNING, REPL_TOPIC_RESET_PARTIAL);
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 2);
	assert_line(0, LOG_LVL_WARNING, "resetting partially receive state");
	assert_line(1, LOG_LVL_DEBUG, "reset partial receive state of bk/a...");
	ev = about(&d, REPL_EV_WARNING, REPL_TOPIC_RESUME_GONE);
	syncoid_event_lines(&run, &ev, &L);
	assert_line(0, LOG_LVL_WARNING,
		    "resetting partially receive state because the snapshot source no longer exists");
	ev = about(&d, REPL_EV_WARNING, REPL_TOPIC_CLONE_FALLBACK);
	syncoid_event_lines(&run, &ev, &L);
	assert_line(0, LOG_LVL_NOTICE, "clone creation failed, trying ordinary replication as fallback");
	ev = about(&d, REPL_EV_INFO, REPL_TOPIC_BOOKMARK_RETRY);
	ev.message = "bookmark creation failed, retrying with guid based suffix (123456)";
	syncoid_event_lines(&run, &ev, &L);
	assert_line(0, LOG_LVL_NOTICE,
		    "bookmark creation failed, retrying with guid based suffix (123456)...");
	/* zkeep's own messages have no syncoid words */
	ev = about(&d, REPL_EV_INFO, REPL_TOPIC_NONE);
	ev.message = "rolling back bk/a to bk/a@s1";
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 0);
	ev.ds = NULL;
	ev.topic = REPL_TOPIC_DESTROY_TARGET;
	assert_int_equal(syncoid_event_lines(&run, &ev, &L), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_are_readablebytes),
		cmocka_unit_test_setup_teardown(test_full_incremental_clone_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bookmark_and_filtered_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_topics, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
