/*
 * snapshots/prune_batch.h - pruning a tree of datasets in one `zfs destroy -r`.
 *
 * Without root (channel programs are root only), `zfs destroy` removes the
 * snapshots of one dataset per call, with one exception: `zfs destroy -r
 * ROOT@NAME` removes the snapshot NAME of ROOT and of every dataset below it
 * in one call and one txg (the delegated `destroy` is still checked per
 * snapshot; ROOT itself need not have NAME). A run's snapshots have the same
 * name across a tree (sanoid takes them together), so a confined prune of
 * 200 datasets can be one process instead of 200.
 *
 * Such a call is planned only where it destroys exactly what the run chose,
 * as the run's listing shows the tree: every dataset below ROOT, and ROOT,
 * is covered by a policy of the run (so a dataset nobody configured, or one
 * that skip_children left out, stops it), and each of them that has a
 * snapshot NAME chose to destroy it (so one with autoprune off, a deferred
 * or busy one, one whose pre_pruning_script refused, or one that keeps NAME
 * by its own rule, stops it too). ROOT is the highest such dataset, and a
 * call is planned only when it destroys NAME in two datasets or more.
 *
 * What the listing cannot show is a dataset made below ROOT after it was
 * read that already has a snapshot NAME (a receive of a replica bringing the
 * same names); `-r` destroys that one too. Below a recursive policy such a
 * dataset gets the same rule; docs/sanoid.md says so.
 *
 * Pure.
 */
#ifndef ZKEEP_PRUNE_BATCH_H
#define ZKEEP_PRUNE_BATCH_H

#include "base/zkeep.h"
#include "base/strvec.h"
#include "zfs/zfs.h"

struct prune_batch {
	size_t root;      /* index of ROOT in the tree */
	const char *name; /* NAME: the caller's string (a chosen[] entry) */
	size_t *members;  /* tree indices of the datasets whose NAME the call destroys */
	size_t nmembers;  /* >= 2 */
};

struct prune_batches {
	struct prune_batch *b;
	size_t n;
};
#define PRUNE_BATCHES_INIT { NULL, 0 }

/*
 * The calls for tree t: managed[i] says a policy of the run covers
 * t->ds[i]; chosen[i] (NULL: nothing) the short names the run destroys in
 * it. Datasets whose names no call covers are left to the per-dataset way.
 */
void prune_batches_plan(const struct zfs_tree *t, const bool *managed,
			const struct strvec *const *chosen, struct prune_batches *out);
void prune_batches_release(struct prune_batches *b);

#endif
