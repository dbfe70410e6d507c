/*
 * replication/serve.h - the two ends of a `zkeep serve` conversation (the protocol and
 * its policy are in serve_proto.h).
 *
 * The server answers ONE request read from in_fd: it checks it against the
 * policy, runs it (no shell), and relays the command's stdin, stdout, stderr
 * and exit status as frames. The relay is the client's end: it starts ssh
 * (whose forced command is the server), sends the request, and relays its
 * own stdin, stdout and stderr to and from the frames, so that whoever
 * started the relay sees a plain zfs command.
 *
 * Both need SIGPIPE ignored (the caller does it: it is process-wide). Nothing
 * here logs: refusals go to the client as frames, and messages for the
 * caller come back in a strbuf.
 */
#ifndef ZKEEP_SERVE_H
#define ZKEEP_SERVE_H

#include "base/spawn.h"
#include "replication/serve_proto.h"

/*
 * Answer the request on in_fd, writing frames to out_fd. 0 when it was
 * answered (whatever the command's exit status, which the client gets) or
 * when the client sent nothing (a connection probe); -EPERM when it was
 * refused: the 'R' frame is sent, and the reason is also in refusal.
 */
int serve_answer(const struct serve_policy *pol, int in_fd, int out_fd, struct strbuf *refusal);

struct serve_relay {
	struct child c;     /* ssh */
	struct strbuf request;
	int in_fd;          /* relayed as 'I' frames by a detached thread */
};
#define SERVE_RELAY_INIT { .c = CHILD_INIT, .request = STRBUF_INIT, .in_fd = -1 }

/*
 * Encode the request and start ssh_argv. -E2BIG with "the request is too
 * large", or -ENOEXEC with "cannot run SSH: REASON", in err.
 */
int serve_relay_start(struct serve_relay *rl, const char *const *ssh_argv,
		      const char *const *request, struct strbuf *err);
/*
 * Send the request, relay in_fd to the server and its frames to out_fd and
 * err_fd until its exit status. Returns that status (0..255), or
 * SERVE_EXIT_REFUSED when the server refused, 255 on any other failure; a
 * message for the user (without newline) in msg when it did not end well.
 */
int serve_relay_run(struct serve_relay *rl, int in_fd, int out_fd, int err_fd, struct strbuf *msg);
/* Stop ssh (after 'X' there is nothing more to wait for) and reap it. */
void serve_relay_finish(struct serve_relay *rl);

#endif
