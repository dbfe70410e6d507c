/* zfs/root_request.c - see root_request.h. */
#include "zfs/root_request.h"
#include "base/fd_passing.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

int root_recv_encode(const char *const *argv, struct strbuf *msg)
{
	strbuf_addstr(msg, ROOT_RECV_VERB);
	for (size_t i = 0; argv[i]; i++) {
		if (!argv[i][0] || strchr(argv[i], '\n'))
			return -EINVAL;
		strbuf_addch(msg, '\n');
		strbuf_addstr(msg, argv[i]);
	}
	return msg->len > ROOT_RECV_MAX ? -E2BIG : 0;
}

int root_recv_decode(const char *msg, struct strvec *argv)
{
	const char *rest = skip_prefix(msg, ROOT_RECV_VERB "\n");
	if (!rest)
		return -EINVAL;
	for (;;) {
		size_t len = strcspn(rest, "\n");
		if (!len)
			return -EINVAL; /* an empty word: no argv has one */
		strvec_push_nodup(argv, xstrndup(rest, len));
		if (!rest[len])
			return 0;
		rest += len + 1;
	}
}

/* ---- the worker's side ------------------------------------------------------ */

static void say(int fd, const char *a, const char *b)
{
	if (write(fd, a, strlen(a)) < 0 || write(fd, b, strlen(b)) < 0 ||
	    write(fd, "\n", 1) < 0)
		return;
}

/*
 * The child that stands for the receive: send the request, then wait for
 * root's answer and end with its status. Async-signal-safe calls only: the
 * worker may have other threads.
 */
static _Noreturn void relay_child(int channel, const struct strbuf *msg, int st_mine,
				  int st_root, int in_fd, int err_fd)
{
	const int keep[] = { channel, st_mine, st_root, in_fd, err_fd };
	spawn_close_fds_except(keep, ARRAY_SIZE(keep), NULL, 0);
	/* nor the caller's stdout and stderr, which may be pipes someone waits on to close */
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	for (int fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++)
		if (fd != in_fd && fd != err_fd && fd != channel && fd != st_mine && fd != st_root &&
		    (null_fd < 0 || dup2(null_fd, fd) < 0))
			close(fd); /* it opens nothing more: a closed 1 or 2 stays free */
	if (null_fd > STDERR_FILENO)
		close(null_fd);
	const int pass[ROOT_RECV_NFDS] = { st_root, in_fd, err_fd };
	int r = fd_passing_send(channel, msg->buf, msg->len, pass, ROOT_RECV_NFDS);
	if (r < 0) {
		say(err_fd, "zkeep: cannot ask root to run the receive: ", strerror(-r));
		_exit(1);
	}
	close(st_root);
	close(in_fd);
	close(channel);
	char ans[ROOT_RECV_MAX + 1];
	ssize_t len;
	do
		len = recv(st_mine, ans, sizeof(ans) - 1, 0);
	while (len < 0 && errno == EINTR);
	if (len <= 0) {
		say(err_fd, "zkeep: root's receive ended without an exit status", "");
		_exit(1);
	}
	ans[len] = '\0';
	if (!strncmp(ans, "exit ", 5)) {
		int code = 0;
		for (const char *d = ans + 5; *d >= '0' && *d <= '9' && code < 256; d++)
			code = code * 10 + (*d - '0');
		_exit(code > 255 ? 255 : code);
	}
	const char *why = !strncmp(ans, "refused ", 8) ? ans + 8 : ans;
	say(err_fd, "zkeep: root refused to run this receive: ", why);
	_exit(1);
}

int root_recv_start(int channel, const char *const *argv, int in, int out, int err,
		    struct child *c)
{
	if (out != SPAWN_NULL || err < 0 || (in < 0 && in != SPAWN_PIPE))
		return -EINVAL;
	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	int r = root_recv_encode(argv, &msg);
	if (r < 0)
		return r;
	int pipefd[2] = { -1, -1 }, st[2];
	if (in == SPAWN_PIPE && pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, st) < 0) {
		r = -errno;
		goto fail;
	}
	int in_fd = in == SPAWN_PIPE ? pipefd[0] : in;
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		close(st[0]);
		close(st[1]);
		goto fail;
	}
	if (pid == 0)
		relay_child(channel, &msg, st[0], st[1], in_fd, err);
	close(st[0]);
	close(st[1]);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	*c = (struct child)CHILD_INIT;
	c->pid = pid;
	c->in = pipefd[1];
	return 0;
fail:
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
	return r;
}

/* ---- root's side ----------------------------------------------------------- */

static void answer(int fd, const char *text)
{
	if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0)
		return; /* the worker is gone: nobody waits for the answer */
}

int root_recv_run(const char *const *argv, const char *const *env, int status_fd, int in_fd,
		  int err_fd, const struct root_recv_after *after, pid_t *keeper)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		setpgid(pid, pid); /* as the keeper does: a group before anyone may kill it */
		*keeper = pid;
		return 0;
	}
	/* the keeper: root, outside the sandbox; it holds nothing else of root's. Its
	 * own process group, with its zfs receive: killed together (root_receives.h) */
	setpgid(0, 0);
	const int keep[] = { status_fd, in_fd, err_fd };
	spawn_close_fds_except(keep, ARRAY_SIZE(keep), after ? after->keep : NULL,
			       after ? after->nkeep : 0);
	signal(SIGPIPE, SIG_IGN);
	struct spawn_req req = { .argv = argv, .env = env, .in = in_fd, .out = SPAWN_NULL,
				 .err = err_fd };
	struct child ch = CHILD_INIT;
	int r = spawn_start(&req, &ch);
	if (r < 0) {
		char text[256];
		snprintf(text, sizeof(text), "refused cannot start zfs: %s", strerror(-r));
		answer(status_fd, text);
		_exit(1);
	}
	close(in_fd);
	int st = 0;
	r = spawn_wait(&ch, &st);
	int code = r < 0 ? 255 : spawn_exit_code(st);
	if (code == 0 && after)
		code = after->fn(after->ctx, err_fd);
	char text[32];
	snprintf(text, sizeof(text), "exit %d", code);
	answer(status_fd, text);
	_exit(0);
}
