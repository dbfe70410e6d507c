/*
 * retention.c - sanoid's prune rule (prune_snapshots()), plus holds.
 */
#include "base/zkeep.h"
#include "snapshots/retention.h"
#include "snapshots/autosnap.h"

int64_t retention_period(const struct sanoid_policy *p, enum snap_type t)
{
	switch (t) {
	case SNAP_FREQUENTLY: return 60 * (int64_t)p->frequent_period;
	case SNAP_HOURLY: return 3600;
	case SNAP_DAILY: return 86400;
	case SNAP_WEEKLY: return 7 * 86400;
	case SNAP_MONTHLY: return 31 * 86400;
	case SNAP_YEARLY: return 31557600; /* 365.25 days */
	case SNAP_NTYPES: break;
	}
	return 0;
}

static int by_ctime(const void *a, const void *b)
{
	const struct retain_snap *const *x = a, *const *y = b;
	if ((*x)->ctime != (*y)->ctime)
		return (*x)->ctime < (*y)->ctime ? -1 : 1;
	return strcmp((*x)->name, (*y)->name);
}

size_t retention_plan(const struct sanoid_policy *p, time_t now, struct retain_snap *snaps,
		      size_t n)
{
	struct retain_snap **sorted;
	size_t pruned = 0;

	for (size_t i = 0; i < n; i++)
		snaps[i].verdict = RETAIN_KEEP;
	if (!p->autoprune || p->process_children_only || !n)
		return 0;
	sorted = xcalloc(n, sizeof(*sorted));
	for (int t = 0; t < SNAP_NTYPES; t++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (autosnap_type(snaps[i].name) == t)
				sorted[m++] = &snaps[i];
		if (!m)
			continue;
		qsort(sorted, m, sizeof(*sorted), by_ctime);
		int64_t maxage = (int64_t)now - (int64_t)p->count[t] * retention_period(p, t);
		size_t num = m;
		for (size_t i = 0; i < m; i++) {
			if (!(sorted[i]->ctime < maxage && num > p->count[t]))
				continue;
			num--;
			if (sorted[i]->held) {
				sorted[i]->verdict = RETAIN_KEPT_HELD;
			} else if (sorted[i]->protected_) {
				sorted[i]->verdict = RETAIN_KEPT_PROTECTED;
			} else {
				sorted[i]->verdict = RETAIN_PRUNE;
				pruned++;
			}
		}
	}
	free(sorted);
	return pruned;
}

bool retention_deferred(const struct sanoid_policy *p, unsigned pool_capacity)
{
	if (!p->prune_defer)
		return false;
	return !(p->prune_defer < pool_capacity);
}
