/* cli/root_receives.c - see root_receives.h. */
#include "base/zkeep.h"
#include "cli/root_receives.h"
#include "base/log.h"
#include "base/spawn.h"
#include "base/term.h"
#include "confine/sandbox.h"
#include "zfs/root_request.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

_Static_assert(ROOT_RECV_MAX == SANDBOX_REQUEST_MAX && ROOT_RECV_NFDS <= SANDBOX_REQUEST_FDS,
	       "a receive request fits the worker's channel to root");

void root_receives_init(struct root_receives *rr, struct zfs *z, const struct confine_info *info)
{
	*rr = (struct root_receives){ .z = z, .info = info, .env = STRVEC_INIT };
	spawn_env_default(&rr->env);
}

void root_receives_add(struct root_receives *rr, const struct root_recv_policy *p,
		       const struct deleg_need *need)
{
	rr->targets = xrealloc(rr->targets, (rr->ntargets + 1) * sizeof(*rr->targets));
	rr->targets[rr->ntargets++] = (struct root_target){ .policy = *p, .need = need };
}

static void reap_keepers(struct root_receives *rr, bool wait_all)
{
	size_t kept = 0;
	for (size_t i = 0; i < rr->nkeepers; i++) {
		pid_t r;
		do
			r = waitpid(rr->keepers[i], NULL, wait_all ? 0 : WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			rr->keepers[kept++] = rr->keepers[i];
	}
	rr->nkeepers = kept;
}

void root_receives_release(struct root_receives *rr)
{
	/*
	 * The worker (or the unit's run) is gone, and it waited for the answer
	 * of each receive it asked for: what still runs is a receive it wedged
	 * (a stream pipe whose write end it gave as the receive's stderr) or
	 * one whose stream it cut. Neither may keep root waiting.
	 */
	reap_keepers(rr, false);
	for (size_t i = 0; i < rr->nkeepers; i++) {
		kill(-rr->keepers[i], SIGKILL);
		kill(rr->keepers[i], SIGKILL);
	}
	reap_keepers(rr, true);
	free(rr->keepers);
	free(rr->targets);
	strvec_release(&rr->env);
	rr->keepers = NULL;
	rr->targets = NULL;
	rr->nkeepers = rr->ntargets = 0;
}

void root_receives_malformed(void *ctx, const char *why)
{
	(void)ctx;
	log_warning("refused a malformed request of the confined worker: %s", why);
}

static void refuse_receive(int answer_fd, const char *why)
{
	_cleanup_strbuf_ struct strbuf quoted = STRBUF_INIT;
	term_escape(&quoted, why, strlen(why), TERM_FINAL | TERM_ONE_LINE);
	log_warning("refused the confined worker's zfs receive: %s", quoted.buf);
	if (answer_fd < 0)
		return;
	_cleanup_free_ char *text = xasprintf("refused %s", why);
	if (send(answer_fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return; /* the worker is gone */
}

const struct root_target *root_receives_target(const struct root_receives *rr, const char *name)
{
	const struct root_target *best = NULL;
	for (size_t i = 0; i < rr->ntargets; i++) {
		const struct root_recv_policy *p = &rr->targets[i].policy;
		if (streq(name, p->target))
			return &rr->targets[i];
		if (p->recursive && zfs_name_within(name, p->target) &&
		    (!best || strlen(p->target) > strlen(best->policy.target)))
			best = &rr->targets[i];
	}
	return best;
}

struct grant_ctx {
	const struct root_receives *rr;
	const struct root_target *t;
};

/*
 * In the keeper of a receive that ran while its target was not there: if
 * it made it, the worker gets its grants there (the ones an existing target
 * gets) before it hears that its receive succeeded.
 */
static int grant_new_target(void *ctx, int err_fd)
{
	const struct grant_ctx *g = ctx;
	const char *target = g->t->policy.target;
	if (zfs_exists(g->rr->z, target) != 1)
		return 0; /* not this receive's doing (a child before its parent fails) */
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	if (confine_grant_created(g->rr->info, g->t->need, &err) == 0)
		return 0;
	dprintf(err_fd, "zkeep: received %s, but cannot grant the confined worker on it: %s\n",
		target, err.buf);
	return 1;
}

/*
 * "receive\nzfs\nreceive\n...": root runs the worker's zfs receive into one
 * of its targets (zfs/root_receive.h), checked against the job's own
 * options; the answer goes on the request's first descriptor.
 */
void root_receives_serve(struct root_receives *rr, const char *request, int *fds, size_t nfds)
{
	reap_keepers(rr, false);
	if (rr->nkeepers >= ROOT_RECV_MAX_RUNNING && nfds) {
		/* a worker's requests must not become an unbounded number of root's processes */
		refuse_receive(fds[0], "too many receives at once");
		return;
	}
	if (nfds != ROOT_RECV_NFDS) {
		_cleanup_free_ char *why = xasprintf("%zu descriptors with the request (%d wanted)",
						     nfds, ROOT_RECV_NFDS);
		refuse_receive(nfds ? fds[0] : -1, why);
		return;
	}
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT, run = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
	const struct root_target *t = NULL;
	if (!rr->ntargets)
		strbuf_addstr(&why, "root runs no receive in this run");
	else if (root_recv_decode(request, &argv) < 0)
		strbuf_addstr(&why, "not a receive request");
	else {
		/* none: the first target's check says why */
		t = root_receives_target(rr, argv.n ? argv.v[argv.n - 1] : "");
		root_recv_check(t ? &t->policy : &rr->targets[0].policy,
				(const char *const *)argv.v, &run, &why);
	}
	if (!why.len && !t) /* the check passes only a target's tree; never crash root on a slip */
		strbuf_addstr(&why, "not one of the job's targets");
	if (why.len) {
		refuse_receive(fds[0], why.buf);
		return;
	}
	/* a receive while the target is not there (yet, or any more) may make it: grant after */
	bool may_create = t->need && zfs_exists(rr->z, t->policy.target) != 1;
	const int journal[] = { rr->info->journal_fd };
	struct grant_ctx g = { .rr = rr, .t = t };
	struct root_recv_after after = { .fn = grant_new_target, .ctx = &g, .keep = journal,
					 .nkeep = 1 };
	pid_t keeper;
	int r = root_recv_run((const char *const *)run.v, (const char *const *)rr->env.v, fds[0],
			      fds[1], fds[2], may_create ? &after : NULL, &keeper);
	if (r < 0) {
		_cleanup_free_ char *text = xasprintf("cannot start it: %s", strerror(-r));
		refuse_receive(fds[0], text);
		return;
	}
	rr->keepers = xrealloc(rr->keepers, (rr->nkeepers + 1) * sizeof(*rr->keepers));
	rr->keepers[rr->nkeepers++] = keeper;
	_cleanup_free_ char *words = strvec_join(&run, " ");
	_cleanup_strbuf_ struct strbuf quoted = STRBUF_INIT;
	term_escape(&quoted, words, strlen(words), TERM_FINAL | TERM_ONE_LINE);
	log_debug("root runs the confined worker's receive: %s", quoted.buf);
}
