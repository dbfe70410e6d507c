/* snapshots/prune_batch.c - see prune_batch.h. */
#include "snapshots/prune_batch.h"

#include <stdlib.h>
#include <string.h>

/* The tree's datasets sorted by name, to find a parent by its name. */
struct by_name {
	const struct zfs_tree *t;
	size_t *ix;
};

static int cmp_ix(const void *a, const void *b, void *data)
{
	const struct zfs_tree *t = data;
	return strcmp(t->ds[*(const size_t *)a].name, t->ds[*(const size_t *)b].name);
}

/* The index of the dataset named by the first len bytes of name, or -1. */
static ssize_t find_name(const struct by_name *bn, const char *name, size_t len)
{
	size_t lo = 0, hi = bn->t->nds;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = bn->t->ds[bn->ix[mid]].name;
		int c = strncmp(m, name, len);
		if (c == 0 && m[len] != '\0')
			c = 1; /* m is longer: after the name */
		if (c == 0)
			return (ssize_t)bn->ix[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* parent[i]: the index of t->ds[i]'s parent dataset, -1 when not listed. */
static void parents(const struct zfs_tree *t, ssize_t *parent)
{
	struct by_name bn = { t, xcalloc(t->nds ? t->nds : 1, sizeof(size_t)) };
	for (size_t i = 0; i < t->nds; i++)
		bn.ix[i] = i;
	qsort_r(bn.ix, t->nds, sizeof(*bn.ix), cmp_ix, (void *)t);
	for (size_t i = 0; i < t->nds; i++) {
		const char *slash = strrchr(t->ds[i].name, '/');
		parent[i] = slash ? find_name(&bn, t->ds[i].name, (size_t)(slash - t->ds[i].name)) : -1;
	}
	free(bn.ix);
}

static bool chose(const struct strvec *const *chosen, size_t i, const char *name)
{
	return chosen[i] && strvec_find(chosen[i], name) >= 0;
}

/* The calls for one name: clean[], top[] and count[] are scratch of the tree's size. */
static void plan_name(const struct zfs_tree *t, const bool *managed,
		      const struct strvec *const *chosen, const ssize_t *parent, const char *name,
		      bool *clean, size_t *top, size_t *count, struct prune_batches *out)
{
	/* clean[i]: nothing in i's subtree stops a `zfs destroy -r` of name */
	for (size_t i = 0; i < t->nds; i++)
		clean[i] = true;
	for (size_t i = 0; i < t->nds; i++) {
		bool stops = !managed[i] ||
			     (zfs_dataset_find_snap(&t->ds[i], name) && !chose(chosen, i, name));
		/* an ancestor already marked had its own ancestors marked then */
		for (ssize_t j = (ssize_t)i; stops && j >= 0 && clean[j]; j = parent[j])
			clean[j] = false;
	}
	/* each dataset that destroys name under the highest clean ancestor it has */
	memset(count, 0, t->nds * sizeof(*count));
	for (size_t i = 0; i < t->nds; i++) {
		top[i] = SIZE_MAX;
		if (!chose(chosen, i, name) || !clean[i])
			continue;
		size_t r = i;
		while (parent[r] >= 0 && clean[parent[r]])
			r = (size_t)parent[r];
		top[i] = r;
		count[r]++;
	}
	for (size_t r = 0; r < t->nds; r++) {
		if (count[r] < 2)
			continue;
		struct prune_batch b = { .root = r, .name = name };
		b.members = xcalloc(count[r], sizeof(*b.members));
		for (size_t i = 0; i < t->nds; i++)
			if (top[i] == r)
				b.members[b.nmembers++] = i;
		out->b = xreallocarray(out->b, out->n + 1, sizeof(*out->b));
		out->b[out->n++] = b;
	}
}

void prune_batches_plan(const struct zfs_tree *t, const bool *managed,
			const struct strvec *const *chosen, struct prune_batches *out)
{
	*out = (struct prune_batches)PRUNE_BATCHES_INIT;
	if (!t->nds)
		return;
	/* the names, each once: the first chosen[] string that has it */
	_cleanup_free_ const char **names = NULL;
	size_t nnames = 0;
	for (size_t i = 0; i < t->nds; i++) {
		for (size_t j = 0; chosen[i] && j < chosen[i]->n; j++) {
			size_t k = 0;
			while (k < nnames && !streq(names[k], chosen[i]->v[j]))
				k++;
			if (k < nnames)
				continue;
			names = xreallocarray(names, nnames + 1, sizeof(*names));
			names[nnames++] = chosen[i]->v[j];
		}
	}
	ssize_t *parent = xcalloc(t->nds, sizeof(*parent));
	bool *clean = xcalloc(t->nds, sizeof(*clean));
	size_t *top = xcalloc(t->nds, sizeof(*top));
	size_t *count = xcalloc(t->nds, sizeof(*count));
	parents(t, parent);
	for (size_t k = 0; k < nnames; k++)
		plan_name(t, managed, chosen, parent, names[k], clean, top, count, out);
	free(parent);
	free(clean);
	free(top);
	free(count);
}

void prune_batches_release(struct prune_batches *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->b[i].members);
	free(b->b);
	*b = (struct prune_batches)PRUNE_BATCHES_INIT;
}
