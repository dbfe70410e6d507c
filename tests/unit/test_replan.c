#include "unit.h"
#include "replication/replan.h"

/* Build a tree from lines "name|type|guid|txg|creation|props..." */
static void mktree(struct zfs_tree *t, const char *const *props, const char *text)
{
	_cleanup_free_ char *buf = xstrdup(text);
	for (char *p = buf; *p; p++)
		if (*p == '|')
			*p = '\t';
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	*t = (struct zfs_tree)ZFS_TREE_INIT;
	strvec_pushv(&t->props, props);
	int r = zfs_parse_list(buf, strlen(buf), t, &err);
	if (r)
		fail_msg("%s", err.buf);
}

static void defaults(struct replan_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->source_root = "src/fs";
	o->target_root = "dst/fs";
	o->resume = true;
	o->allow_rollback = true;
	o->clone_handling = true;
	o->hostname = "h1";
	o->sync_snap = "syncoid_h1_2026-11-22_12:00:00-GMT00:00";
	o->sync_prefix = "syncoid_h1";
}

#define SRC_ROOT "src/fs|filesystem|1|10|1000|-|-|131072|-\n"

static void plan(const char *src_text, const char *tgt_text, const struct replan_opts *o,
		 struct replan *p)
{
	struct zfs_tree s, t;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	mktree(&s, replan_source_props, src_text);
	mktree(&t, replan_target_props, tgt_text);
	*p = (struct replan)REPLAN_INIT;
	assert_int_equal(replan_build(&s, &t, NULL, o, p, &err), 0);
	zfs_tree_release(&s);
	zfs_tree_release(&t);
}

static void assert_step(const struct replan_step *s, enum replan_step_kind k, const char *from,
			const char *to, bool inter)
{
	assert_int_equal(s->kind, k);
	if (from)
		assert_string_equal(s->from, from);
	else
		assert_null(s->from);
	assert_string_equal(s->to, to);
	assert_int_equal(s->intermediates, inter);
}

static const char src_abc[] = SRC_ROOT
	"src/fs@a|snapshot|101|11|1001|-|-|-|-\n"
	"src/fs@b|snapshot|102|12|1002|-|-|-|-\n"
	"src/fs@syncoid_h1_2026-11-21_12:00:00-GMT00:00|snapshot|103|13|1003|-|-|-|-\n"
	"src/fs@syncoid_h2_2026-11-21_12:00:00-GMT00:00|snapshot|104|14|1004|-|-|-|-\n";

static void test_full_when_target_missing(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	plan(src_abc, "", &o, &p);
	assert_int_equal(p.n, 1);
	struct replan_ds *d = &p.ds[0];
	assert_int_equal(d->status, REPLAN_SYNC);
	assert_string_equal(d->target, "dst/fs");
	assert_false(d->target_exists);
	assert_int_equal(d->nsteps, 2);
	assert_step(&d->steps[0], REPLAN_STEP_FULL, NULL, "src/fs@a", false);
	assert_step(&d->steps[1], REPLAN_STEP_INCR, "src/fs@a",
		    "src/fs@syncoid_h1_2026-11-22_12:00:00-GMT00:00", true);
	assert_string_equal(d->final_snap, o.sync_snap);
	/* only this host's older sync snapshot is pruned */
	assert_int_equal(d->prune_source.n, 1);
	assert_string_equal(d->prune_source.v[0], "syncoid_h1_2026-11-21_12:00:00-GMT00:00");
	replan_release(&p);

	o.no_stream = true;
	plan(src_abc, "", &o, &p);
	assert_int_equal(p.ds[0].nsteps, 1);
	assert_step(&p.ds[0].steps[0], REPLAN_STEP_FULL, NULL,
		    "src/fs@syncoid_h1_2026-11-22_12:00:00-GMT00:00", false);
	replan_release(&p);

	/* no sync snap and no snapshots: fails */
	o.sync_snap = NULL;
	plan(SRC_ROOT, "", &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_FAIL);
	assert_non_null(strstr(p.ds[0].message, "no snapshots"));
	replan_release(&p);
}

static void test_incremental_newest_common_by_guid(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	o.sync_snap = NULL;
	/* target has a and b; b on the target is renamed but has b's guid */
	plan(src_abc,
	     "dst/fs|filesystem|9|5|900|-|-\n"
	     "dst/fs@a|snapshot|101|6|901|-|-\n"
	     "dst/fs@renamed|snapshot|102|7|902|-|-\n",
	     &o, &p);
	struct replan_ds *d = &p.ds[0];
	assert_int_equal(d->status, REPLAN_SYNC);
	assert_string_equal(d->common, "src/fs@b");
	assert_string_equal(d->common_target, "dst/fs@renamed");
	assert_null(d->rollback_to);
	assert_int_equal(d->nsteps, 1);
	assert_step(&d->steps[0], REPLAN_STEP_INCR, "src/fs@b",
		    "src/fs@syncoid_h2_2026-11-21_12:00:00-GMT00:00", true);
	assert_true(d->recv_force);
	replan_release(&p);

	o.no_stream = true;
	o.allow_rollback = false;
	plan(src_abc, "dst/fs|filesystem|9|5|900|-|-\ndst/fs@b|snapshot|102|7|902|-|-\n", &o, &p);
	assert_step(&p.ds[0].steps[0], REPLAN_STEP_INCR, "src/fs@b",
		    "src/fs@syncoid_h2_2026-11-21_12:00:00-GMT00:00", false);
	assert_false(p.ds[0].recv_force);
	replan_release(&p);

	/* up to date */
	plan(src_abc,
	     "dst/fs|filesystem|9|5|900|-|-\n"
	     "dst/fs@syncoid_h2_2026-11-21_12:00:00-GMT00:00|snapshot|104|7|902|-|-\n",
	     &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_UPTODATE);
	assert_int_equal(p.ds[0].nsteps, 0);
	replan_release(&p);
}

static void test_interrupted_sync_snapshot_pruned_on_arrival(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	/* the target has a and the h1 sync snapshot of an interrupted run is only on the
	 * source: it arrives with -I and must be pruned afterwards on both sides */
	plan(src_abc, "dst/fs|filesystem|9|5|900|-|-\ndst/fs@a|snapshot|101|6|901|-|-\n", &o, &p);
	struct replan_ds *d = &p.ds[0];
	assert_true(d->steps[0].intermediates);
	assert_int_equal(d->prune_target.n, 1);
	assert_string_equal(d->prune_target.v[0], "syncoid_h1_2026-11-21_12:00:00-GMT00:00");
	replan_release(&p);
	/* with --no-stream it never arrives: not destroyed there */
	o.no_stream = true;
	plan(src_abc, "dst/fs|filesystem|9|5|900|-|-\ndst/fs@a|snapshot|101|6|901|-|-\n", &o, &p);
	assert_int_equal(p.ds[0].prune_target.n, 0);
	assert_int_equal(p.ds[0].prune_source.n, 1);
	replan_release(&p);
	/* syncoid prunes only what the target had before the run: the arrival
	 * stays until the next run */
	o.no_stream = false;
	o.syncoid = true;
	plan(src_abc, "dst/fs|filesystem|9|5|900|-|-\ndst/fs@a|snapshot|101|6|901|-|-\n", &o, &p);
	assert_int_equal(p.ds[0].prune_target.n, 0);
	assert_int_equal(p.ds[0].prune_source.n, 1);
	replan_release(&p);
}

static void test_createtxg_orders_not_creation(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	o.sync_snap = NULL;
	/* creation times go backwards (clock change); createtxg decides */
	plan(SRC_ROOT "src/fs@x|snapshot|201|20|5000|-|-|-|-\n"
		      "src/fs@y|snapshot|202|21|4000|-|-|-|-\n"
		      "src/fs@z|snapshot|203|22|3000|-|-|-|-\n",
	     "dst/fs|filesystem|9|5|900|-|-\n"
	     "dst/fs@x|snapshot|201|6|901|-|-\n"
	     "dst/fs@y|snapshot|202|7|902|-|-\n",
	     &o, &p);
	assert_string_equal(p.ds[0].common, "src/fs@y");
	assert_step(&p.ds[0].steps[0], REPLAN_STEP_INCR, "src/fs@y", "src/fs@z", true);
	replan_release(&p);
}

static void test_bookmark_fallback(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	o.sync_snap = NULL;
	const char *src = SRC_ROOT "src/fs#b|bookmark|102|12|1002|-|-|-|-\n"
				   "src/fs@c|snapshot|105|15|1005|-|-|-|-\n"
				   "src/fs@d|snapshot|106|16|1006|-|-|-|-\n"
				   "src/fs@e|snapshot|107|17|1007|-|-|-|-\n";
	const char *tgt = "dst/fs|filesystem|9|5|900|-|-\n"
			  "dst/fs@a|snapshot|101|6|901|-|-\n"
			  "dst/fs@b|snapshot|102|7|902|-|-\n";
	plan(src, tgt, &o, &p);
	struct replan_ds *d = &p.ds[0];
	assert_int_equal(d->status, REPLAN_SYNC);
	assert_string_equal(d->common, "src/fs#b");
	assert_int_equal(d->nsteps, 2);
	assert_step(&d->steps[0], REPLAN_STEP_INCR, "src/fs#b", "src/fs@c", false);
	assert_true(d->steps[0].from_bookmark);
	assert_step(&d->steps[1], REPLAN_STEP_INCR, "src/fs@c", "src/fs@e", true);
	replan_release(&p);

	o.no_stream = true;
	plan(src, tgt, &o, &p);
	assert_int_equal(p.ds[0].nsteps, 1);
	assert_step(&p.ds[0].steps[0], REPLAN_STEP_INCR, "src/fs#b", "src/fs@e", false);
	replan_release(&p);
}

static void test_target_newer(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	o.sync_snap = NULL;
	const char *tgt = "dst/fs|filesystem|9|5|900|-|-\n"
			  "dst/fs@a|snapshot|101|6|901|-|-\n"
			  "dst/fs@local|snapshot|555|7|902|-|-\n";
	o.allow_rollback = false;
	plan(src_abc, tgt, &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_FAIL);
	assert_non_null(strstr(p.ds[0].message, "newer"));
	assert_non_null(strstr(p.ds[0].message, "local"));
	assert_int_equal(p.ds[0].nsteps, 0);
	replan_release(&p);

	o.allow_rollback = true;
	o.delete_target_snapshots = true;
	plan(src_abc, tgt, &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_SYNC);
	assert_string_equal(p.ds[0].rollback_to, "dst/fs@a");
	assert_step(&p.ds[0].steps[0], REPLAN_STEP_INCR, "src/fs@a",
		    "src/fs@syncoid_h2_2026-11-21_12:00:00-GMT00:00", true);
	/* gone with the rollback: not destroyed again */
	assert_int_equal(p.ds[0].delete_target.n, 0);
	replan_release(&p);
}

static void test_no_common(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	const char *tgt = "dst/fs|filesystem|9|5|900|-|-\n"
			  "dst/fs@other|snapshot|999|6|901|-|-\n";
	plan(src_abc, tgt, &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_FAIL);
	assert_non_null(strstr(p.ds[0].message, "--force-delete"));
	replan_release(&p);

	o.force_delete = true;
	plan(src_abc, tgt, &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_SYNC);
	assert_true(p.ds[0].destroy_target);
	assert_step(&p.ds[0].steps[0], REPLAN_STEP_FULL, NULL, "src/fs@a", false);
	replan_release(&p);

	/* never a pool root */
	o.target_root = "dst";
	plan(src_abc, "dst|filesystem|9|5|900|-|-\ndst@other|snapshot|999|6|901|-|-\n", &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_FAIL);
	assert_false(p.ds[0].destroy_target);
	assert_non_null(strstr(p.ds[0].message, "pool"));
	replan_release(&p);
	/* syncoid refuses it as any target with nothing in common, after taking
	 * its sync snapshot */
	o.syncoid = true;
	plan(src_abc, "dst|filesystem|9|5|900|-|-\ndst@other|snapshot|999|6|901|-|-\n", &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_FAIL);
	assert_false(p.ds[0].destroy_target);
	assert_true(p.ds[0].take_sync_snap);
	assert_non_null(strstr(p.ds[0].message, "Cowardly refusing"));
	replan_release(&p);
}

/* Made with tests/tools/test-token: toname src/fs@c (a label), toguid 103
 * fromguid 101; toguid 999; toguid 103 fromguid 999. */
#define TOKEN_C_FROM_A "1-bc16c8059-118-789c636064000310a501c4ec5036271097e4e725e6a63230141725eba7153b2433408102923a0eb0baf4d2cc14068674a8bc06543f4c3ead283f17a20202527198939f94959a5c02e163954f4b2b4e2d618003903c1b927c5265496a31484200222f011587f92f35372935253f1bac8f1b493c393fb7a028b5b81828050700d2421c01"
#define TOKEN_GUID_999 "1-939e6f59d-b8-789c636064000310a501c4ec5036271097e4e725e6a63230141725eba7153b2433408102923a0eb0baf4d2cc140686e7ccd8e5f393b252934b207cacf26969c5a9250c0cc8e6b321c9275596a416832404106a008382111e"
#define TOKEN_FROM_999 "1-9bbdeaae8-e0-789c636064000310a501c4ec5036271097e4e725e6a63230141725eba7153b2433408102923a0eb0baf4d2cc14068674a8bc06543f4c3ead283f17a202029e336337273f292b35b904c2c72a9f96569c5ac2000720793624f9a4ca92d462908400420d00c51d151c"

static void test_resume(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	const char *tgt = "dst/fs|filesystem|9|5|900|" TOKEN_C_FROM_A "|-\n"
			  "dst/fs@a|snapshot|101|6|901|-|-\n";
	plan(src_abc, tgt, &o, &p);
	assert_int_equal(p.ds[0].nsteps, 1);
	assert_int_equal(p.ds[0].steps[0].kind, REPLAN_STEP_RESUME);
	assert_string_equal(p.ds[0].steps[0].token, TOKEN_C_FROM_A);
	assert_true(p.ds[0].resume_then_replan);
	replan_release(&p);

	/* the target's token is outside data: a toguid that is no snapshot of this
	 * source dataset, a fromguid outside the source tree, or garbage is never
	 * resumed: the partial state (the target's own) is reset, saying why, and
	 * the dataset planned anew */
	const char *hostile[] = { TOKEN_GUID_999, TOKEN_FROM_999, "1-abc-def" };
	const char *why[] = { "sends snapshot guid 999, which is not a snapshot of src/fs",
			      "incremental source (guid 999)", "malformed" };
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		_cleanup_free_ char *t = xasprintf("dst/fs|filesystem|9|5|900|%s|-\n"
						   "dst/fs@a|snapshot|101|6|901|-|-\n", hostile[i]);
		plan(src_abc, t, &o, &p);
		assert_int_equal(p.ds[0].status, REPLAN_SYNC);
		assert_true(p.ds[0].abort_partial);
		assert_non_null(p.ds[0].abort_why);
		assert_non_null(strstr(p.ds[0].abort_why, why[i]));
		assert_false(p.ds[0].resume_then_replan);
		assert_true(p.ds[0].nsteps > 0);
		for (size_t k = 0; k < p.ds[0].nsteps; k++)
			assert_int_not_equal(p.ds[0].steps[k].kind, REPLAN_STEP_RESUME);
		replan_release(&p);
	}

	o.resume = false;
	plan(src_abc, tgt, &o, &p);
	assert_true(p.ds[0].abort_partial);
	assert_int_equal(p.ds[0].steps[0].kind, REPLAN_STEP_INCR);
	replan_release(&p);

	/* an interrupted FULL receive (the target has no snapshot yet): with
	 * --no-resume it is aborted (which destroys it) and sent in full, not
	 * refused as a target with nothing in common */
	plan(src_abc, "dst/fs|filesystem|9|5|900|1-abc-def|-\n", &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_SYNC);
	assert_true(p.ds[0].abort_partial);
	assert_false(p.ds[0].target_exists);
	assert_false(p.ds[0].destroy_target);
	assert_int_equal(p.ds[0].steps[0].kind, REPLAN_STEP_FULL);
	replan_release(&p);
}

static void test_sync_property_and_recursion(void **state)
{
	struct replan_opts o;
	struct replan p;
	regex_t ex;
	defaults(&o);
	o.recursive = true;
	assert_int_equal(regcomp(&ex, "junk$", REG_EXTENDED | REG_NOSUB), 0);
	o.exclude_datasets = &ex;
	o.n_exclude_datasets = 1;
	const char *src = SRC_ROOT "src/fs/a|filesystem|2|10|1000|false|-|-|-\n"
				   "src/fs/b|filesystem|3|10|1000|h2,h1|-|-|-\n"
				   "src/fs/c|filesystem|4|10|1000|h2,h3|-|-|-\n"
				   "src/fs/junk|filesystem|5|10|1000|-|-|-|-\n"
				   "src/fs/junk/deeper|filesystem|6|10|1000|-|-|-|-\n"
				   "src/fsx|filesystem|7|10|1000|-|-|-|-\n"
				   "src/fs/my data|volume|8|10|1000|true|-|-|-\n";
	plan(src, "", &o, &p);
	assert_int_equal(p.n, 7);
	const char *expect[][3] = {
		{ "src/fs", "dst/fs", "s" },
		{ "src/fs/a", "dst/fs/a", "k" },
		{ "src/fs/b", "dst/fs/b", "s" },
		{ "src/fs/c", "dst/fs/c", "k" },
		{ "src/fs/junk", "dst/fs/junk", "k" },
		{ "src/fs/junk/deeper", "dst/fs/junk/deeper", "s" }, /* regex anchored at the end */
		{ "src/fs/my data", "dst/fs/my data", "s" },
	};
	for (size_t i = 0; i < p.n; i++) {
		assert_string_equal(p.ds[i].source, expect[i][0]);
		assert_string_equal(p.ds[i].target, expect[i][1]);
		assert_int_equal(p.ds[i].status, expect[i][2][0] == 's' ? REPLAN_SYNC : REPLAN_SKIP);
	}
	replan_release(&p);

	o.skip_parent = true;
	plan(src, "", &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_SKIP);
	replan_release(&p);

	o.recursive = false;
	plan(src, "", &o, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.ds[0].status, REPLAN_SYNC);
	replan_release(&p);
	regfree(&ex);
}

static void test_snapshot_filters(void **state)
{
	struct replan_opts o;
	struct replan p;
	regex_t inc;
	defaults(&o);
	o.sync_snap = NULL;
	assert_int_equal(regcomp(&inc, "^keep", REG_EXTENDED | REG_NOSUB), 0);
	o.include_snaps = &inc;
	o.n_include_snaps = 1;
	const char *src = SRC_ROOT "src/fs@keep1|snapshot|1|11|1|-|-|-|-\n"
				   "src/fs@drop1|snapshot|2|12|2|-|-|-|-\n"
				   "src/fs@keep2|snapshot|3|13|3|-|-|-|-\n"
				   "src/fs@keep3|snapshot|4|14|4|-|-|-|-\n";
	plan(src, "", &o, &p);
	struct replan_ds *d = &p.ds[0];
	assert_int_equal(d->nsteps, 3);
	assert_step(&d->steps[0], REPLAN_STEP_FULL, NULL, "src/fs@keep1", false);
	assert_step(&d->steps[1], REPLAN_STEP_INCR, "src/fs@keep1", "src/fs@keep2", false);
	assert_step(&d->steps[2], REPLAN_STEP_INCR, "src/fs@keep2", "src/fs@keep3", false);
	replan_release(&p);
	regfree(&inc);
}

/* syncoid decides on filtered lists of both sides (its getsnaps()): the
 * common snapshot is the newest INCLUDED one the target has, whatever newer
 * excluded one both share, and what lies after it on the target goes */
static void test_filters_both_sides(void **state)
{
	struct replan_opts o;
	struct replan p;
	regex_t inc, ex;
	defaults(&o);
	o.syncoid = true;
	assert_int_equal(regcomp(&inc, "^keep", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&ex, "2$", REG_EXTENDED | REG_NOSUB), 0);
	o.include_snaps = &inc;
	o.n_include_snaps = 1;
	const char *src = SRC_ROOT "src/fs@keep1|snapshot|1|11|1|-|-|-|-\n"
				   "src/fs@drop1|snapshot|2|12|2|-|-|-|-\n"
				   "src/fs@keep2|snapshot|3|13|3|-|-|-|-\n"
				   "src/fs@keep3|snapshot|4|14|4|-|-|-|-\n";
	const char *tgt = "dst/fs|filesystem|9|5|900|-|-\n"
			  "dst/fs@keep1|snapshot|1|6|901|-|-\n"
			  "dst/fs@drop1|snapshot|2|7|902|-|-\n";
	plan(src, tgt, &o, &p);
	struct replan_ds *d = &p.ds[0];
	assert_int_equal(d->status, REPLAN_SYNC);
	assert_string_equal(d->common, "src/fs@keep1");
	/* drop1 (excluded, common) is newer than keep1 on the target: rolled back */
	assert_string_equal(d->rollback_to, "dst/fs@keep1");
	/* the sync snapshot is taken but, not included, never sent */
	assert_true(d->take_sync_snap);
	assert_string_equal(d->final_snap, "keep3");
	assert_int_equal(d->nsteps, 2);
	assert_step(&d->steps[0], REPLAN_STEP_INCR, "src/fs@keep1", "src/fs@keep2", false);
	assert_step(&d->steps[1], REPLAN_STEP_INCR, "src/fs@keep2", "src/fs@keep3", false);
	replan_release(&p);

	/* an exclude wins over an include */
	o.exclude_snaps = &ex;
	o.n_exclude_snaps = 1;
	plan(src, tgt, &o, &p);
	d = &p.ds[0];
	assert_int_equal(d->nsteps, 1);
	assert_step(&d->steps[0], REPLAN_STEP_INCR, "src/fs@keep1", "src/fs@keep3", false);
	replan_release(&p);

	/* --no-stream: one -i to the newest included */
	o.n_exclude_snaps = 0;
	o.no_stream = true;
	plan(src, tgt, &o, &p);
	d = &p.ds[0];
	assert_int_equal(d->nsteps, 1);
	assert_step(&d->steps[0], REPLAN_STEP_INCR, "src/fs@keep1", "src/fs@keep3", false);
	replan_release(&p);
	o.no_stream = false;

	/* the newest included is there: up to date, in syncoid's words, and the
	 * sync snapshot is taken all the same */
	const char *tgt3 = "dst/fs|filesystem|9|5|900|-|-\n"
			   "dst/fs@keep1|snapshot|1|6|901|-|-\n"
			   "dst/fs@keep3|snapshot|4|7|902|-|-\n";
	plan(src, tgt3, &o, &p);
	d = &p.ds[0];
	assert_int_equal(d->status, REPLAN_UPTODATE);
	assert_true(d->take_sync_snap);
	assert_string_equal(d->message,
			    "no snapshots on source newer than keep3 on target. Nothing to do, not syncing.");
	replan_release(&p);
	/* zkeep replicate takes no sync snapshot that it does not send */
	o.syncoid = false;
	plan(src, tgt3, &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_UPTODATE);
	assert_false(p.ds[0].take_sync_snap);
	replan_release(&p);
	plan(src, tgt, &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_SYNC);
	assert_false(p.ds[0].take_sync_snap);
	replan_release(&p);
	o.syncoid = true;

	/* nothing included on the source: syncoid's warning, sync snapshot taken */
	o.include_snaps = &ex;
	plan(SRC_ROOT "src/fs@a|snapshot|1|11|1|-|-|-|-\n", "", &o, &p);
	d = &p.ds[0];
	assert_int_equal(d->status, REPLAN_FAIL);
	assert_true(d->fail_warning);
	assert_true(d->take_sync_snap);
	assert_string_equal(d->message, "CRITICAL: no snapshots exist on source src/fs, and you "
					"asked for --no-sync-snap.");
	replan_release(&p);

	/* a new target: the oldest included in full, then one -i at a time */
	o.include_snaps = &inc;
	plan(src, "", &o, &p);
	d = &p.ds[0];
	assert_int_equal(d->nsteps, 3);
	assert_step(&d->steps[0], REPLAN_STEP_FULL, NULL, "src/fs@keep1", false);
	assert_step(&d->steps[2], REPLAN_STEP_INCR, "src/fs@keep2", "src/fs@keep3", false);
	replan_release(&p);

	/* the target's included snapshots have no match: nothing in common */
	plan(src, "dst/fs|filesystem|9|5|900|-|-\ndst/fs@drop1|snapshot|2|7|902|-|-\n", &o, &p);
	assert_int_equal(p.ds[0].status, REPLAN_FAIL);
	assert_true(p.ds[0].take_sync_snap); /* syncoid took it before it looked */
	replan_release(&p);
	regfree(&inc);
	regfree(&ex);
}

/* A target snapshot named like one to receive (another guid): receive fails
 * with "destination already exists" - unless --force-delete removes it */
static void test_name_conflicts(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	o.syncoid = true;
	/* b' is newer than the common a: without --force-delete nothing is rolled
	 * back, so that receive fails on b as syncoid's does */
	const char *tgt = "dst/fs|filesystem|9|5|900|-|-\n"
			  "dst/fs@a|snapshot|101|6|901|-|-\n"
			  "dst/fs@b|snapshot|777|7|902|-|-\n";
	plan(src_abc, tgt, &o, &p);
	struct replan_ds *d = &p.ds[0];
	assert_int_equal(d->status, REPLAN_SYNC);
	assert_string_equal(d->common, "src/fs@a");
	assert_null(d->rollback_to);
	assert_int_equal(d->destroy_conflicts.n, 0);
	assert_step(&d->steps[0], REPLAN_STEP_INCR, "src/fs@a",
		    "src/fs@syncoid_h1_2026-11-22_12:00:00-GMT00:00", true);
	replan_release(&p);

	o.force_delete = true;
	plan(src_abc, tgt, &o, &p);
	d = &p.ds[0];
	assert_int_equal(d->destroy_conflicts.n, 1);
	assert_string_equal(d->destroy_conflicts.v[0], "b");
	assert_null(d->rollback_to); /* nothing else newer */
	assert_false(d->destroy_target);
	replan_release(&p);

	/* with another newer target snapshot, that one is rolled back */
	plan(src_abc,
	     "dst/fs|filesystem|9|5|900|-|-\n"
	     "dst/fs@a|snapshot|101|6|901|-|-\n"
	     "dst/fs@b|snapshot|777|7|902|-|-\n"
	     "dst/fs@mine|snapshot|778|8|903|-|-\n",
	     &o, &p);
	d = &p.ds[0];
	assert_int_equal(d->destroy_conflicts.n, 1);
	assert_string_equal(d->rollback_to, "dst/fs@a");
	replan_release(&p);

	/* a later name collides only with a snapshot up to the common one (the
	 * first receive -F destroys the newer ones) */
	plan(src_abc,
	     "dst/fs|filesystem|9|5|900|-|-\n"
	     "dst/fs@syncoid_h2_2026-11-21_12:00:00-GMT00:00|snapshot|779|5|899|-|-\n"
	     "dst/fs@a|snapshot|101|6|901|-|-\n",
	     &o, &p);
	d = &p.ds[0];
	assert_int_equal(d->destroy_conflicts.n, 1);
	assert_string_equal(d->destroy_conflicts.v[0], "syncoid_h2_2026-11-21_12:00:00-GMT00:00");
	replan_release(&p);
	plan(src_abc,
	     "dst/fs|filesystem|9|5|900|-|-\n"
	     "dst/fs@a|snapshot|101|6|901|-|-\n"
	     "dst/fs@syncoid_h2_2026-11-21_12:00:00-GMT00:00|snapshot|779|7|902|-|-\n",
	     &o, &p);
	d = &p.ds[0];
	assert_int_equal(d->destroy_conflicts.n, 0);
	assert_string_equal(d->rollback_to, "dst/fs@a");
	replan_release(&p);

	/* --no-stream receives only the newest: only its name counts */
	o.no_stream = true;
	plan(src_abc, tgt, &o, &p);
	assert_int_equal(p.ds[0].destroy_conflicts.n, 0);
	assert_string_equal(p.ds[0].rollback_to, "dst/fs@a");
	replan_release(&p);
}

/* syncoid --no-resume never reads the token: the receive fails on the partial
 * state and is retried after a reset (the engine); an interrupted full
 * receive is a target with nothing in common */
static void test_syncoid_no_resume(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	o.syncoid = true;
	o.resume = false;
	plan(src_abc,
	     "dst/fs|filesystem|9|5|900|" TOKEN_C_FROM_A "|-\n"
	     "dst/fs@a|snapshot|101|6|901|-|-\n",
	     &o, &p);
	struct replan_ds *d = &p.ds[0];
	assert_int_equal(d->status, REPLAN_SYNC);
	assert_false(d->abort_partial);
	assert_step(&d->steps[0], REPLAN_STEP_INCR, "src/fs@a",
		    "src/fs@syncoid_h1_2026-11-22_12:00:00-GMT00:00", true);
	replan_release(&p);

	const char *full = "dst/fs|filesystem|9|5|900|1-abc-def|-\n";
	plan(src_abc, full, &o, &p);
	d = &p.ds[0];
	assert_int_equal(d->status, REPLAN_FAIL);
	assert_false(d->abort_partial);
	assert_non_null(strstr(d->message, "Cowardly refusing to destroy your existing target."));
	replan_release(&p);

	o.force_delete = true;
	plan(src_abc, full, &o, &p);
	d = &p.ds[0];
	assert_int_equal(d->status, REPLAN_SYNC);
	assert_true(d->destroy_target);
	assert_false(d->abort_partial);
	assert_int_equal(d->steps[0].kind, REPLAN_STEP_FULL);
	replan_release(&p);
}

static void test_delete_target_snapshots(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	o.sync_snap = NULL;
	o.delete_target_snapshots = true;
	/* the source pruned old1 and old2; target still has them */
	plan(src_abc,
	     "dst/fs|filesystem|9|5|900|-|-\n"
	     "dst/fs@old1|snapshot|91|3|801|-|-\n"
	     "dst/fs@old2|snapshot|92|4|802|-|-\n"
	     "dst/fs@a|snapshot|101|6|901|-|-\n",
	     &o, &p);
	assert_int_equal(p.ds[0].delete_target.n, 2);
	assert_string_equal(p.ds[0].delete_target.v[0], "old1");
	assert_string_equal(p.ds[0].delete_target.v[1], "old2");
	replan_release(&p);
}

static void test_clone_after_origin(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	o.recursive = true;
	o.sync_snap = NULL;
	const char *src = SRC_ROOT "src/fs/clone|filesystem|2|30|1000|-|src/fs/z@base|-|-\n"
				   "src/fs/clone@c1|snapshot|21|31|1|-|-|-|-\n"
				   "src/fs/z|filesystem|3|20|1000|-|-|-|-\n"
				   "src/fs/z@base|snapshot|31|21|1|-|-|-|-\n"
				   "src/fs@r|snapshot|41|11|1|-|-|-|-\n";
	plan(src, "", &o, &p);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.ds[0].source, "src/fs");
	assert_string_equal(p.ds[1].source, "src/fs/z");
	assert_string_equal(p.ds[2].source, "src/fs/clone");
	assert_true(p.ds[2].steps[0].clone);
	assert_step(&p.ds[2].steps[0], REPLAN_STEP_FULL, "src/fs/z@base", "src/fs/clone@c1", false);
	assert_int_equal(p.ds[2].origin_index, 1);
	replan_release(&p);

	o.clone_handling = false;
	plan(src, "", &o, &p);
	for (size_t i = 0; i < p.n; i++)
		if (streq(p.ds[i].source, "src/fs/clone"))
			assert_false(p.ds[i].steps[0].clone);
	replan_release(&p);
}

static void test_preserve_properties(void **state)
{
	struct replan_opts o;
	struct zfs_tree s, t = ZFS_TREE_INIT;
	struct replan p = REPLAN_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	defaults(&o);
	o.preserve_properties = true;
	o.preserve_recordsize = true;
	const char local[] = "src/fs\tcompression\tzstd\tlocal\n"
			     "src/fs\tencryption\taes-256-gcm\tlocal\n"
			     "src/fs\tkeylocation\tfile:///k\tlocal\n"
			     "src/fs\tatime\toff\tinherited from src\n"
			     "src/fs\tuser:note\tx y\tlocal\n"
			     "src/other\tcompression\tgzip\tlocal\n";
	struct zfs_props lp = { 0 };
	assert_int_equal(zfs_parse_get(local, sizeof(local) - 1, &lp, &err), 0);
	mktree(&s, replan_source_props, src_abc);
	assert_int_equal(replan_build(&s, &t, &lp, &o, &p, &err), 0);
	struct strvec *v = &p.ds[0].recv_set_props;
	assert_int_equal(v->n, 3);
	assert_string_equal(v->v[0], "compression=zstd");
	assert_string_equal(v->v[1], "user:note=x y");
	assert_string_equal(v->v[2], "recordsize=131072");
	replan_release(&p);
	zfs_props_release(&lp);
	zfs_tree_release(&s);
	assert_false(replan_prop_preservable("encryptionroot"));
	assert_false(replan_prop_preservable("keyformat"));
	assert_true(replan_prop_preservable("mountpoint"));
}

static void test_describe(void **state)
{
	struct replan_opts o;
	struct replan p;
	defaults(&o);
	plan(src_abc, "", &o, &p);
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	uint64_t est[] = { 2048, UINT64_MAX };
	replan_describe(&p.ds[0], est, &sb);
	assert_non_null(strstr(sb.buf, "send src/fs@a in full (~ 2.0 KiB)"));
	assert_non_null(strstr(sb.buf, "-I src/fs@a ... src/fs@syncoid_h1_"));
	assert_non_null(strstr(sb.buf, "size unknown"));
	assert_non_null(strstr(sb.buf, "destroy old sync snapshots src/fs@syncoid_h1_2026-11-21"));
	replan_release(&p);
}

static void test_busy_receive_argv(void **state)
{
	(void)state;
#define RECV(t, ...)                                                                       \
	({                                                                                 \
		const char *const a[] = { __VA_ARGS__ };                                   \
		replan_argv_receives_into(a, ARRAY_SIZE(a), t);                            \
	})
	assert_true(RECV("dst/a", "zfs", "receive", "-s", "-F", "dst/a"));
	assert_true(RECV("dst/a", "/sbin/zfs", "recv", "dst/a/b"));
	assert_true(RECV("dst/a", "sudo", "zfs", "receive", "-o", "compression=lz4", "dst/a"));
	assert_true(RECV("dst/a/b", "zfs", "receive", "-Fd", "dst/a"));
	assert_false(RECV("dst/a/b", "zfs", "receive", "-F", "dst/a"));
	assert_false(RECV("dst/a", "zfs", "receive", "dst/ab"));
	assert_false(RECV("dst/a", "zfs", "send", "dst/a@s"));
	assert_false(RECV("dst/a", "zfs", "receive"));
	assert_false(RECV("dst/a", "zfsx", "receive", "dst/a"));
	assert_false(RECV("dst/a", "perl", "/usr/sbin/syncoid", "src/a", "dst/a"));
#undef RECV
}

static void test_lock_name(void **state)
{
	(void)state;
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	replan_lock_name("root@host:pool/a b_c-d.e", &sb);
	assert_string_equal(sb.buf, "replicate-root%40host%3Apool%2Fa%20b_c-d.e");
	strbuf_reset(&sb);
	char longname[256];
	memset(longname, '/', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	replan_lock_name(longname, &sb);
	assert_int_equal(sb.len, 200);
	assert_non_null(strchr(sb.buf, '~'));
	_cleanup_strbuf_ struct strbuf other = STRBUF_INIT;
	longname[254] = 'x';
	replan_lock_name(longname, &other);
	assert_int_equal(other.len, 200);
	assert_string_not_equal(sb.buf, other.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_when_target_missing),
		cmocka_unit_test(test_incremental_newest_common_by_guid),
		cmocka_unit_test(test_createtxg_orders_not_creation),
		cmocka_unit_test(test_interrupted_sync_snapshot_pruned_on_arrival),
		cmocka_unit_test(test_bookmark_fallback),
		cmocka_unit_test(test_target_newer),
		cmocka_unit_test(test_no_common),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_sync_property_and_recursion),
		cmocka_unit_test(test_snapshot_filters),
		cmocka_unit_test(test_delete_target_snapshots),
		cmocka_unit_test(test_clone_after_origin),
		cmocka_unit_test(test_preserve_properties),
		cmocka_unit_test(test_filters_both_sides),
		cmocka_unit_test(test_name_conflicts),
		cmocka_unit_test(test_syncoid_no_resume),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_busy_receive_argv),
		cmocka_unit_test(test_lock_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
