/*
 * zfs/root_request.h - how a confined worker asks root to run its `zfs receive`.
 *
 * OpenZFS checks a delegated `receive` on the name the ioctl is given and
 * receives into another name it never compares with it, so a worker that
 * holds `receive` anywhere and issues its own ioctl can receive into any
 * dataset of the host (docs/security.md). A worker that replicates into a
 * local target under root's supervision therefore holds no `receive` (nor
 * `create`, nor the received properties' permissions) at all, not even for
 * a new target's first receive: it asks root, over its channel,
 * to run the receive, and hands over the stream's read end and its stderr
 * file. Root checks the command against what the job may do
 * (root_recv_check()), runs it itself, and a small root process that waits
 * for it sends the exit status back.
 *
 * The request is one message: "receive", then each word of the argv after
 * a line break (no word may hold one), with three descriptors attached:
 * the socket for the answer, the stream (stdin) and the stderr file. The
 * answer, on that socket, is "exit N" once the receive ended, or
 * "refused WHY" at once.
 */
#ifndef ZKEEP_ROOT_REQUEST_H
#define ZKEEP_ROOT_REQUEST_H

#include "base/zkeep.h"
#include "base/spawn.h"
#include "base/strbuf.h"
#include "base/strvec.h"

#define ROOT_RECV_VERB "receive"
#define ROOT_RECV_MAX 8192 /* bytes in one request: the channel's limit */
#define ROOT_RECV_NFDS 3   /* answer socket, stdin, stderr */

/* The request for argv ("zfs", "receive", ...) into msg; -EINVAL or -E2BIG. */
int root_recv_encode(const char *const *argv, struct strbuf *msg);
/* argv of a request; -EINVAL when msg is not a receive request. */
int root_recv_decode(const char *msg, struct strvec *argv);

/*
 * The worker's side: start argv through root on channel as a child process
 * of the caller that ends with the receive's exit status, like
 * spawn_start() with in (SPAWN_PIPE or an fd) and err (an fd; the receive's
 * stderr, or the refusal, lands there); out must be SPAWN_NULL. -EINVAL for
 * other shapes, -E2BIG when the request is too long.
 */
int root_recv_start(int channel, const char *const *argv, int in, int out, int err,
		    struct child *c);

/*
 * What the keeper does after a receive that succeeded, before it answers:
 * fn(ctx, err_fd) returns the exit code to report instead of 0 (why it is
 * not 0 goes to err_fd, the receive's stderr). keep: descriptors of root's
 * that fn needs open in the keeper.
 */
struct root_recv_after {
	int (*fn)(void *ctx, int err_fd);
	void *ctx;
	const int *keep;
	size_t nkeep;
};

/*
 * Root's side, for a checked argv: start it with stdin in_fd, stdout
 * /dev/null and stderr err_fd, in a root process (*keeper) that waits for
 * it, runs after (may be NULL) when it succeeded, and writes "exit N" to
 * status_fd. The caller closes its own copies of the three descriptors and
 * reaps *keeper (it ends when the receive and after do). The keeper leads a
 * process group of its own, with the receive: kill(-*keeper) ends both.
 */
int root_recv_run(const char *const *argv, const char *const *env, int status_fd, int in_fd,
		  int err_fd, const struct root_recv_after *after, pid_t *keeper);

#endif
