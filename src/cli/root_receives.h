/*
 * cli/root_receives.h - root's side of a confined worker's receives.
 *
 * A worker that replicates into this host's datasets holds no `receive`
 * (zfs/root_request.h says why): it asks root on its channel, and root runs
 * each `zfs receive` that root_recv_check() allows for one of the job's
 * targets, in a keeper process that answers with the exit status. A target
 * that was not there when the run began (or that the worker may destroy
 * and receive anew) gets the worker's grants from the keeper of the receive
 * that made it, before the worker hears that it succeeded
 * (confine_grant_created()).
 *
 * Refusals are answered on the request's socket and logged, the worker's
 * words escaped. Root runs at most ROOT_RECV_MAX_RUNNING receives at once
 * for one worker.
 */
#ifndef ZKEEP_CLI_ROOT_RECEIVES_H
#define ZKEEP_CLI_ROOT_RECEIVES_H

#include "base/zkeep.h"
#include "confine/confine.h"
#include "zfs/root_receive.h"
#include "zfs/zfs.h"

#include <sys/types.h>

/* Receives root runs at once for one worker (an engine runs a few in parallel). */
#define ROOT_RECV_MAX_RUNNING 64

/* One target root receives into for the worker. */
struct root_target {
	struct root_recv_policy policy; /* its target, recursion, -F, properties */
	const struct deleg_need *need;  /* the worker's grants on it once root's
					   receive made it; NULL: it was there */
};

struct root_receives {
	struct zfs *z;                  /* this host's */
	const struct confine_info *info; /* the run's (its journal, while the worker lives) */
	struct root_target *targets;
	size_t ntargets;
	struct strvec env;              /* of root's zfs receive */
	pid_t *keepers;                 /* the processes waiting for root's receives */
	size_t nkeepers;
};

/* No target yet; info is filled by confine_run() while the worker runs. */
void root_receives_init(struct root_receives *rr, struct zfs *z,
			const struct confine_info *info);
/* A target (p and need are kept, not copied: they must outlive rr's use). */
void root_receives_add(struct root_receives *rr, const struct root_recv_policy *p,
		       const struct deleg_need *need);
/*
 * The target a receive into name is for: the one it is, else the deepest
 * recursive one it is below (zfs_name_within(), never a prefix test);
 * NULL when none. Pure.
 */
const struct root_target *root_receives_target(const struct root_receives *rr, const char *name);
/*
 * Serve one "receive" request of the worker (its three descriptors in
 * fds, which the caller closes): refuse it, or start root's receive.
 */
void root_receives_serve(struct root_receives *rr, const char *request, int *fds, size_t nfds);
/* A sandbox_malformed_fn: says in root's log that a request was malformed. */
void root_receives_malformed(void *ctx, const char *why);
/*
 * Ends every receive root started (call it once the worker is gone, before
 * anything received is mounted or the pool exported): those still running
 * are killed with their keeper, since the worker waited for the answer of
 * each it asked for. Then frees (safe after root_receives_init() only).
 */
void root_receives_release(struct root_receives *rr);

#endif
