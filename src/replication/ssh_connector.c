#include "replication/ssh_connector.h"
#include "base/fd_passing.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#define ANSWER_OK "ok"
#define ANSWER_ERROR "error "

int ssh_connector_answer(int conn, int fd, const char *why)
{
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	if (fd >= 0)
		strbuf_addstr(&text, ANSWER_OK);
	else
		strbuf_addf(&text, ANSWER_ERROR "%.*s", SSH_CONNECTOR_MAX - 16, why ? why : "");
	return fd_passing_send(conn, text.buf, text.len, &fd, fd >= 0 ? 1 : 0);
}

int ssh_connector_fetch(const char *path, int timeout_ms, int *fd, struct strbuf *err)
{
	*fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		strbuf_addf(err, "the connector's socket path is too long: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	_cleanup_fd_ int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	/* a connect that waits for room in the listening queue waits no longer either */
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000 };
	if (s >= 0)
		(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		strbuf_addf(err, "cannot reach root's ssh connector at %s: %s", path, strerror(e));
		return -e;
	}
	/*
	 * Made by root, or nothing it says is taken. (This is the listening
	 * socket's owner, systemd; only a process holding that socket can
	 * accept, and systemd hands it to root's service alone.)
	 */
	struct ucred peer = { .uid = (uid_t)-1 };
	socklen_t plen = sizeof(peer);
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &peer, &plen) < 0 || peer.uid != 0) {
		strbuf_addf(err, "the ssh connector at %s is not root's (uid %d)", path,
			    (int)peer.uid);
		return -EPERM;
	}
	struct pollfd p = { .fd = s, .events = POLLIN };
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		strbuf_addf(err, "root's ssh connector at %s did not answer in %d s", path,
			    timeout_ms / 1000);
		return -ETIMEDOUT;
	}
	char buf[SSH_CONNECTOR_MAX + 1];
	union {
		char space[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space,
			     .msg_controllen = sizeof(u.space) };
	ssize_t n;
	do
		n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		strbuf_addf(err, "root's ssh connector at %s: %s", path, strerror(e));
		return -e;
	}
	int got = -1;
	size_t nfds = fd_passing_take(&mh, &got, 1);
	buf[n] = '\0';
	if (n == 0 && !nfds) {
		strbuf_addf(err, "root's ssh connector at %s closed the connection unanswered "
			    "(its journal says why)", path);
		return -ECONNREFUSED;
	}
	if (!strncmp(buf, ANSWER_ERROR, strlen(ANSWER_ERROR)) && got < 0 &&
	    !memchr(buf, '\0', (size_t)n)) {
		strbuf_addf(err, "root's ssh connector: %s", buf + strlen(ANSWER_ERROR));
		return -ECONNREFUSED;
	}
	int type = 0;
	socklen_t tlen = sizeof(type);
	if ((size_t)n != strlen(ANSWER_OK) || memcmp(buf, ANSWER_OK, (size_t)n) || nfds != 1 ||
	    (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) ||
	    getsockopt(got, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_STREAM) {
		if (got >= 0)
			close(got);
		strbuf_addf(err, "root's ssh connector at %s answered something else than one "
			    "connected socket", path);
		return -EPROTO;
	}
	*fd = got;
	return 0;
}
