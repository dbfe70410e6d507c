/*
 * test_ssh_connector.c - a unit's run takes from root's connector exactly one
 * connected stream socket, and nothing else: a refusal, a hang-up, an answer
 * without a socket or with another kind of descriptor, silence, or a
 * connector that is not root's all fail with why.
 */
#include "unit.h"
#include "replication/ssh_connector.h"
#include "base/fd_passing.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

enum answer { ANSWER_SOCKET, ANSWER_REFUSAL, ANSWER_HANGUP, ANSWER_PIPE, ANSWER_OK_ONLY,
	      ANSWER_NOTHING, ANSWER_TWO_SOCKETS, ANSWER_OK_TRAILING, ANSWER_ERROR_WITH_FD };

/* text with n copies of fd attached, as a forged answer */
static void send_raw(int c, const char *text, int fd, size_t n)
{
	const int fds[2] = { fd, fd };
	if (fd_passing_send(c, text, strlen(text), fds, n) < 0)
		_exit(1);
}

/* The descriptors this process has open. */
static size_t open_fds(void)
{
	size_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A connector at a fresh path that accepts once and answers as told (a child). */
static pid_t start_connector(enum answer how, char *path, size_t len)
{
	static unsigned n;
	snprintf(path, len, "/tmp/zkeep-test-connector.%d.%u", (int)getpid(), n++);
	unlink(path);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 4), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid > 0) {
		close(l);
		return pid;
	}
	int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		_exit(1);
	int sp[2], pp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 || pipe(pp) < 0)
		_exit(1);
	switch (how) {
	case ANSWER_SOCKET: ssh_connector_answer(c, sp[0], NULL); break;
	case ANSWER_REFUSAL: ssh_connector_answer(c, -1, "job x has no ssh host"); break;
	case ANSWER_HANGUP: break;
	case ANSWER_PIPE: ssh_connector_answer(c, pp[0], NULL); break;
	case ANSWER_OK_ONLY:
		if (send(c, "ok", 2, 0) < 0)
			_exit(1);
		break;
	case ANSWER_NOTHING: sleep(3); break;
	case ANSWER_TWO_SOCKETS: send_raw(c, "ok", sp[0], 2); break;
	case ANSWER_OK_TRAILING: send_raw(c, "ok please", sp[0], 1); break;
	case ANSWER_ERROR_WITH_FD: send_raw(c, "error but here is one", sp[0], 1); break;
	}
	_exit(0);
}

static int fetch(enum answer how, int timeout_ms, int *fd, struct strbuf *err)
{
	char path[108];
	pid_t pid = start_connector(how, path, sizeof(path));
	int r = ssh_connector_fetch(path, timeout_ms, fd, err);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(path);
	return r;
}

static void test_socket_taken(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* the connector must be root's: not testable as another user */
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int fd = -1, type = 0;
	socklen_t tlen = sizeof(type);
	assert_int_equal(fetch(ANSWER_SOCKET, 5000, &fd, &err), 0);
	assert_true(fd > STDERR_FILENO);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen), 0);
	assert_int_equal(type, SOCK_STREAM);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

static void test_anything_else_refused(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	static const struct {
		enum answer how;
		int r;
		const char *says;
	} cases[] = {
		{ ANSWER_REFUSAL, -ECONNREFUSED, "root's ssh connector: job x has no ssh host" },
		{ ANSWER_HANGUP, -ECONNREFUSED, "closed the connection unanswered" },
		{ ANSWER_PIPE, -EPROTO, "something else than one connected socket" },
		{ ANSWER_OK_ONLY, -EPROTO, "something else than one connected socket" },
		{ ANSWER_NOTHING, -ETIMEDOUT, "did not answer" },
		{ ANSWER_TWO_SOCKETS, -EPROTO, "something else than one connected socket" },
		{ ANSWER_OK_TRAILING, -EPROTO, "something else than one connected socket" },
		{ ANSWER_ERROR_WITH_FD, -EPROTO, "something else than one connected socket" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
		int fd = 12345;
		size_t before = open_fds();
		assert_int_equal(fetch(cases[i].how, 1000, &fd, &err), cases[i].r);
		assert_int_equal(fd, -1);
		assert_non_null(strstr(err.buf, cases[i].says));
		assert_int_equal(open_fds(), before); /* whatever came is closed */
	}
}

static void test_not_root(void **state)
{
	(void)state;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int fd = -1;
	if (geteuid() == 0) {
		/* a connector run by another uid: its socket is refused before anything is read */
		char path[108];
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
				_exit(2);
			pid_t srv = start_connector(ANSWER_SOCKET, path, sizeof(path));
			int r = ssh_connector_fetch(path, 5000, &fd, &err);
			kill(srv, SIGKILL);
			waitpid(srv, NULL, 0);
			unlink(path);
			_exit(r == -EPERM && fd == -1 && strstr(err.buf, "is not root's") ? 0 : 1);
		}
		int st = 0;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
		return;
	}
	assert_int_equal(fetch(ANSWER_SOCKET, 5000, &fd, &err), -EPERM);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err.buf, "is not root's"));
}

static void test_no_connector(void **state)
{
	(void)state;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int fd = 7;
	assert_int_equal(ssh_connector_fetch("/nonexistent/zkeep.sock", 1000, &fd, &err), -ENOENT);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err.buf, "cannot reach root's ssh connector at /nonexistent"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_taken),
		cmocka_unit_test(test_anything_else_refused),
		cmocka_unit_test(test_not_root),
		cmocka_unit_test(test_no_connector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
