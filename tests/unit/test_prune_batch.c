#include "unit.h"
#include "snapshots/prune_batch.h"

/*
 * A tree from lines "name type": datasets, and snapshots with a txg each. The
 * short names chosen for destruction per dataset come as "dataset=a,b;..."
 * and the datasets no policy covers as a list of names.
 */
struct fixture {
	struct zfs_tree t;
	bool *managed;
	struct strvec *chosen_v;
	const struct strvec **chosen;
};

static void setup_tree(struct fixture *f, const char *lines, const char *chosen,
		       const char *const *unmanaged)
{
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	_cleanup_strvec_ struct strvec rows = STRVEC_INIT;
	strvec_split(&rows, lines, "\n");
	for (size_t i = 0; i < rows.n; i++)
		strbuf_addf(&text, "%s\t%s\t%zu\t%zu\t1000\n", rows.v[i],
			    strchr(rows.v[i], '@') ? "snapshot" : "filesystem", i + 1, i + 1);
	f->t = (struct zfs_tree)ZFS_TREE_INIT;
	if (zfs_parse_list(text.buf, text.len, &f->t, &err))
		fail_msg("%s", err.buf);
	f->managed = xcalloc(f->t.nds, sizeof(*f->managed));
	f->chosen_v = xcalloc(f->t.nds, sizeof(*f->chosen_v));
	f->chosen = xcalloc(f->t.nds, sizeof(*f->chosen));
	for (size_t i = 0; i < f->t.nds; i++) {
		f->managed[i] = true;
		for (size_t j = 0; unmanaged && unmanaged[j]; j++)
			if (streq(unmanaged[j], f->t.ds[i].name))
				f->managed[i] = false;
	}
	_cleanup_strvec_ struct strvec sets = STRVEC_INIT;
	strvec_split(&sets, chosen, ";");
	for (size_t k = 0; k < sets.n; k++) {
		char *eq = strchr(sets.v[k], '=');
		assert_non_null(eq);
		*eq = '\0';
		struct zfs_dataset *ds = zfs_tree_find(&f->t, sets.v[k]);
		assert_non_null(ds);
		size_t i = (size_t)(ds - f->t.ds);
		strvec_split(&f->chosen_v[i], eq + 1, ",");
		f->chosen[i] = &f->chosen_v[i];
	}
}

static void fixture_release(struct fixture *f)
{
	for (size_t i = 0; i < f->t.nds; i++)
		strvec_release(&f->chosen_v[i]);
	free(f->chosen_v);
	free(f->chosen);
	free(f->managed);
	zfs_tree_release(&f->t);
}

/* The plan as text: "ROOT@NAME:member,member;..." in the plan's order. */
static char *plan_text(const char *lines, const char *chosen, const char *const *unmanaged)
{
	struct fixture f;
	setup_tree(&f, lines, chosen, unmanaged);
	_cleanup_release_(prune_batches) struct prune_batches b = PRUNE_BATCHES_INIT;
	prune_batches_plan(&f.t, f.managed, f.chosen, &b);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < b.n; i++) {
		strbuf_addf(&sb, "%s%s@%s:", i ? ";" : "", f.t.ds[b.b[i].root].name, b.b[i].name);
		assert_true(b.b[i].nmembers >= 2);
		for (size_t j = 0; j < b.b[i].nmembers; j++)
			strbuf_addf(&sb, "%s%s", j ? "," : "", f.t.ds[b.b[i].members[j]].name);
	}
	fixture_release(&f);
	return strbuf_detach(&sb);
}

#define TREE                                                                                    \
	"p/d\np/d/a\np/d/a@h1\np/d/a@h2\np/d/b\np/d/b@h1\np/d/b@h2\np/d/c\np/d/c@h1\np/d/c@h2\n" \
	"p/d/c/x\np/d/c/x@h1"

/* a parent without the name (process_children_only) roots the call */
static void test_children_of_a_parent(void **state)
{
	(void)state;
	_cleanup_free_ char *s = plan_text(TREE, "p/d/a=h1;p/d/b=h1;p/d/c=h1;p/d/c/x=h1", NULL);
	assert_string_equal(s, "p/d@h1:p/d/a,p/d/b,p/d/c,p/d/c/x");
}

/* one dataset that keeps the name (its own rule, a failed pre_pruning_script...) */
static void test_one_that_keeps_the_name(void **state)
{
	(void)state;
	_cleanup_free_ char *s = plan_text(TREE, "p/d/a=h1;p/d/b=h1;p/d/c=h1", NULL);
	/* p/d/c/x has h1 and keeps it: p/d and p/d/c are not clean; a and b are alone */
	assert_string_equal(s, "");
	_cleanup_free_ char *s2 = plan_text(TREE, "p/d/a=h1,h2;p/d/b=h1,h2;p/d/c=h1", NULL);
	/* h2: p/d/c has it and keeps it */
	assert_string_equal(s2, "");
	_cleanup_free_ char *s3 =
		plan_text(TREE, "p/d/a=h1,h2;p/d/b=h1,h2;p/d/c=h2,h1;p/d/c/x=h1", NULL);
	assert_string_equal(s3, "p/d@h1:p/d/a,p/d/b,p/d/c,p/d/c/x;p/d@h2:p/d/a,p/d/b,p/d/c");
}

/* a dataset no policy covers stops the call above it, even without the name */
static void test_unmanaged(void **state)
{
	(void)state;
	const char *const um[] = { "p/d/b", NULL };
	_cleanup_free_ char *s = plan_text(TREE, "p/d/a=h1;p/d/c=h1;p/d/c/x=h1", um);
	assert_string_equal(s, "p/d/c@h1:p/d/c,p/d/c/x");
	const char *const parent[] = { "p/d", NULL };
	_cleanup_free_ char *s2 =
		plan_text(TREE, "p/d/a=h1;p/d/b=h1;p/d/c=h1;p/d/c/x=h1", parent);
	/* the parent itself unmanaged: each child on its own but c with x */
	assert_string_equal(s2, "p/d/c@h1:p/d/c,p/d/c/x");
}

/* a single dataset is left to the per-dataset way; names apart stay apart */
static void test_single_and_sibling_names(void **state)
{
	(void)state;
	_cleanup_free_ char *s = plan_text(TREE, "p/d/a=h1", NULL);
	assert_string_equal(s, "");
	_cleanup_free_ char *s2 = plan_text("q/a\nq/a@x\nq/ab\nq/ab@x\nq/a-b\nq/a-b@x\nq/a/c\nq/a/c@x",
					    "q/a=x;q/a/c=x;q/a-b=x", NULL);
	/* q is not listed: q/a roots its own subtree only; q/ab keeps x, q/a-b is alone */
	assert_string_equal(s2, "q/a@x:q/a,q/a/c");
}

/* a bookmark of the name is not a snapshot: `zfs destroy -r` leaves it */
static void test_bookmark_does_not_stop(void **state)
{
	(void)state;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct zfs_tree t = ZFS_TREE_INIT;
	const char *text = "r\tfilesystem\t1\t1\t1\nr/a\tfilesystem\t2\t2\t1\n"
			   "r/a@n\tsnapshot\t3\t3\t1\nr/b\tfilesystem\t4\t4\t1\n"
			   "r/b@n\tsnapshot\t5\t5\t1\nr/c\tfilesystem\t6\t6\t1\n"
			   "r/c#n\tbookmark\t7\t7\t1\n";
	assert_int_equal(zfs_parse_list(text, strlen(text), &t, &err), 0);
	bool managed[4] = { true, true, true, true };
	struct strvec n = STRVEC_INIT;
	strvec_push(&n, "n");
	const struct strvec *chosen[4] = { NULL, &n, &n, NULL };
	struct prune_batches b;
	prune_batches_plan(&t, managed, chosen, &b);
	assert_int_equal(b.n, 1);
	assert_string_equal(t.ds[b.b[0].root].name, "r");
	assert_int_equal(b.b[0].nmembers, 2);
	prune_batches_release(&b);
	strvec_release(&n);
	zfs_tree_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_children_of_a_parent),
		cmocka_unit_test(test_one_that_keeps_the_name),
		cmocka_unit_test(test_unmanaged),
		cmocka_unit_test(test_single_and_sibling_names),
		cmocka_unit_test(test_bookmark_does_not_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
