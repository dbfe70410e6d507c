/* serve.c - see serve.h. */
#include "base/zkeep.h"
#include "base/term.h"
#include "replication/serve.h"
#include "replication/pump.h"
#include "zfs/zfs.h"
#include "zfs/resume_token.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/uio.h>

#define IO_CHUNK ((size_t)256 << 10)

/* ---- framing I/O ----------------------------------------------------------------------- */

/* Read exactly n bytes; returns n, fewer at EOF, or -errno. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int send_frame(int fd, enum serve_frame_type t, const void *p, uint32_t n)
{
	uint8_t hdr[SERVE_HDR_LEN];
	serve_put_header(hdr, t, n);
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)p, n } };
	size_t total = sizeof(hdr) + n;
	ssize_t w;
	do
		w = writev(fd, iov, n ? 2 : 1);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	if ((size_t)w == total)
		return 0;
	/* short write: finish by hand */
	if ((size_t)w < sizeof(hdr)) {
		int r = fd_write_all(fd, hdr + w, sizeof(hdr) - (size_t)w);
		if (r)
			return r;
		return fd_write_all(fd, p, n);
	}
	size_t done = (size_t)w - sizeof(hdr);
	return fd_write_all(fd, (const char *)p + done, n - done);
}

/*
 * Read one frame into *payload (grown as needed). 1 with a frame, 0 at a
 * clean EOF before a header, -EBADMSG for a bad or truncated frame.
 */
static int read_frame(int fd, enum serve_frame_type *t, uint8_t **payload, uint32_t *len)
{
	uint8_t hdr[SERVE_HDR_LEN];
	ssize_t r = read_full(fd, hdr, sizeof(hdr));
	if (r == 0)
		return 0;
	if (r < 0)
		return (int)r;
	if (r < (ssize_t)sizeof(hdr) || serve_parse_header(hdr, t, len) < 0)
		return -EBADMSG;
	*payload = xrealloc(*payload, *len ? *len : 1);
	r = read_full(fd, *payload, *len);
	if (r < 0)
		return (int)r;
	if ((uint32_t)r != *len)
		return -EBADMSG;
	return 1;
}

/* ---- the server ------------------------------------------------------------------------ */

/* in_fd frames -> the child's stdin, in its own thread */
struct feed {
	int in_fd;
	int child_in; /* owned by the thread; -1 when the command reads nothing */
};

static void *server_feed(void *arg)
{
	struct feed *f = arg;
	_cleanup_free_ uint8_t *buf = NULL;
	for (;;) {
		enum serve_frame_type t;
		uint32_t len;
		int r = read_frame(f->in_fd, &t, &buf, &len);
		if (r <= 0 || t != SERVE_STDIN || len == 0)
			break; /* EOF, end of input, or garbage: the command sees EOF */
		if (f->child_in >= 0 && fd_write_all(f->child_in, buf, len) < 0) {
			close(f->child_in); /* the command stopped reading */
			f->child_in = -1;
		}
	}
	if (f->child_in >= 0)
		close(f->child_in);
	f->child_in = -1;
	return NULL;
}

static int refuse(int out_fd, const char *msg, struct strbuf *refusal)
{
	(void)send_frame(out_fd, SERVE_REFUSED, msg, (uint32_t)strnlen(msg, SERVE_REQUEST_MAX));
	if (msg != refusal->buf) {
		strbuf_reset(refusal);
		strbuf_addstr(refusal, msg);
	}
	return -EPERM;
}

/*
 * `zfs send -t TOKEN`: zfs sends the snapshot of the token's toguid (from
 * fromguid), searched in the whole pool; its toname is only a label. Allowed
 * when both guids are snapshots or bookmarks listed under the send roots.
 */
static int check_token(const struct serve_policy *pol, const char *const *argv, struct strbuf *err)
{
	const char *token = NULL;
	for (size_t i = 2; argv[i]; i++) {
		if (streq(argv[i], "-t") && argv[i + 1])
			token = argv[i + 1];
		else if (skip_prefix(argv[i], "-t") && argv[i][2])
			token = argv[i] + 2;
	}
	if (!token)
		return strbuf_addstr(err, "zfs send -t without a token"), -EPERM;
	_cleanup_release_(resume_token) struct resume_token t;
	if (resume_token_parse(token, &t) < 0)
		return strbuf_addstr(err, "the resume token is malformed (not a token zfs wrote)"),
		       -EPERM;
	if (pol->send_roots.n == 0)
		return strbuf_addstr(err, "this key may not send"), -EPERM;
	_cleanup_(runner_freep) struct runner *run = runner_local_new();
	_cleanup_release_(zfs) struct zfs z;
	_cleanup_release_(zfs_tree) struct zfs_tree tree = ZFS_TREE_INIT;
	zfs_init(&z, run);
	int r = zfs_list_tree(&z, (const char *const *)pol->send_roots.v,
			      ZFS_LIST_RECURSIVE | ZFS_LIST_SNAPSHOTS | ZFS_LIST_BOOKMARKS, NULL, &tree);
	if (r < 0 && r != -ENOENT) /* a missing root: the others are listed */
		return strbuf_addf(err, "the datasets this key may send from cannot be listed: %s",
				   zfs_error(&z)), -EPERM;
	const char *where = "in the datasets this key may send from";
	_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
	if (resume_token_check(&t, &tree, NULL, where, where, &why) < 0)
		return strbuf_addf(err, "the resume token %s", why.buf), -EPERM;
	/* and its label too: zfs searches for the guid from toname's dataset up */
	for (size_t i = 0; i < pol->send_roots.n; i++)
		if (serve_name_in_root(t.toname, pol->send_roots.v[i]))
			return 0;
	return strbuf_addf(err, "the resume token names '%s', outside the datasets this key may "
			   "send from", t.toname), -EPERM;
}

/* A pump between two fds in its own thread (the codec of a request). */
struct xpump {
	int in_fd, out_fd;
	struct pump_opts opts;
	pthread_t t;
	pthread_mutex_t mu;
	bool done;
	int r;
	struct strbuf msg;
};

static void *xpump_main(void *arg)
{
	struct xpump *x = arg;
	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	int r = pump_run(x->in_fd, x->out_fd, &x->opts, NULL, &msg);
	close(x->in_fd);
	close(x->out_fd);
	pthread_mutex_lock(&x->mu);
	x->done = true;
	x->r = r;
	strbuf_addstr(&x->msg, msg.buf);
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

static int xpump_start(struct xpump *x, int in_fd, int out_fd)
{
	x->in_fd = in_fd;
	x->out_fd = out_fd;
	pthread_mutex_init(&x->mu, NULL);
	strbuf_init(&x->msg, 4096);
	return -pthread_create(&x->t, NULL, xpump_main, x);
}

/* The codec's error, if it finished with one (as an 'E' frame for the client). */
static void xpump_report(struct xpump *x, int out_fd, const char *what)
{
	pthread_mutex_lock(&x->mu);
	if (x->done && x->r < 0) {
		_cleanup_free_ char *m = xasprintf("zkeep serve: %s: %s\n", what, x->msg.buf);
		(void)send_frame(out_fd, SERVE_STDERR, m, (uint32_t)strlen(m));
	}
	pthread_mutex_unlock(&x->mu);
}

/*
 * The type of what a checked receive argv receives, as far as the server
 * can know it before the stream: a volume when its target exists and is
 * one (an incremental into a zvol), else a filesystem (a full stream of a
 * new zvol then fails on the filesystem overrides: refused, never
 * received unquarantined).
 */
static enum zfs_type receive_type(const char *const *argv, size_t n)
{
	_cleanup_(runner_freep) struct runner *run = runner_local_new();
	_cleanup_release_(zfs) struct zfs z;
	_cleanup_free_ char *type = NULL;
	zfs_init(&z, run);
	if (n > 2 && zfs_get_prop(&z, argv[n - 1], "type", &type) == 0 && streq(type, "volume"))
		return ZFS_TYPE_VOLUME;
	return ZFS_TYPE_FILESYSTEM;
}

/* Read and check the request: 0 with argv and the codecs, or -EPERM (refused). */
static int take_request(const struct serve_policy *pol, int in_fd, int out_fd,
			struct strvec *argv, struct pump_codec *cin, struct pump_codec *cout,
			struct strbuf *err)
{
	_cleanup_free_ uint8_t *payload = NULL;
	enum serve_frame_type t;
	uint32_t len;
	int r = read_frame(in_fd, &t, &payload, &len);
	if (r == 0)
		return 1; /* a connection probe: no request */
	if (r < 0 || t != SERVE_REQUEST)
		return refuse(out_fd, "protocol error: the first frame must be a request", err);
	if (serve_decode_request(payload, len, argv, err) < 0 ||
	    serve_take_options(argv, cin, cout, err) < 0)
		return refuse(out_fd, err->buf, err);
	r = serve_policy_check(pol, (const char *const *)argv->v, err);
	if (r == SERVE_CHECK_TOKEN)
		r = check_token(pol, (const char *const *)argv->v, err);
	if (r < 0)
		return refuse(out_fd, err->buf, err);
	bool recv = serve_is_receive((const char *const *)argv->v);
	if (cin->kind && !recv)
		return refuse(out_fd, "codec-in goes only with zfs receive", err);
	if (cout->kind && !serve_is_send((const char *const *)argv->v))
		return refuse(out_fd, "codec-out goes only with zfs send", err);
	if (recv)
		serve_harden_receive(argv, receive_type((const char *const *)argv->v, argv->n));
	return 0;
}

/*
 * The stream codecs of a request: frames -> pipe -> decompress -> zfs
 * receive, and zfs send -> compress -> pipe -> frames. false when one that
 * was asked for could not be set up.
 */
static bool start_codecs(const struct pump_codec *cin, const struct pump_codec *cout,
			 struct feed *f, struct child *c, struct xpump *xin, struct xpump *xout,
			 bool *pin, bool *pout)
{
	int p[2];
	*pin = *pout = false;
	if (cin->kind && f->child_in >= 0 && pipe2(p, O_CLOEXEC) == 0) {
		xin->opts.decompress = *cin;
		if (xpump_start(xin, p[0], f->child_in) == 0) {
			f->child_in = p[1];
			*pin = true;
		} else {
			close(p[0]);
			close(p[1]);
		}
	}
	if (cout->kind && pipe2(p, O_CLOEXEC) == 0) {
		xout->opts.compress = *cout;
		if (xpump_start(xout, c->out, p[1]) == 0) {
			c->out = p[0];
			*pout = true;
		} else {
			close(p[0]);
			close(p[1]);
		}
	}
	return !((cin->kind && !*pin) || (cout->kind && !*pout));
}

/*
 * The command's stdout and stderr -> frames until both end. false when the
 * client went away (the command was then stopped: a receive keeps its
 * resumable state).
 */
static bool relay_output(struct child *c, int out_fd)
{
	_cleanup_free_ uint8_t *buf = xmalloc(IO_CHUNK);
	struct pollfd pf[2] = { { .fd = c->out, .events = POLLIN }, { .fd = c->err, .events = POLLIN } };
	bool client_gone = false;
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			ssize_t n = read(pf[i].fd, buf, IO_CHUNK);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				pf[i].fd = -1;
				continue;
			}
			if (!client_gone &&
			    send_frame(out_fd, i == 0 ? SERVE_STDOUT : SERVE_STDERR, buf, (uint32_t)n) < 0) {
				/* nobody listens: stop the command, and drain until it is gone */
				client_gone = true;
				kill(c->pid, SIGTERM);
			}
		}
	}
	return !client_gone;
}

int serve_answer(const struct serve_policy *pol, int in_fd, int out_fd, struct strbuf *refusal)
{
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	struct pump_codec cin, cout;
	int r = take_request(pol, in_fd, out_fd, &argv, &cin, &cout, refusal);
	if (r)
		return r < 0 ? r : 0;

	bool recv = serve_is_receive((const char *const *)argv.v);
	struct spawn_req req = { .argv = (const char *const *)argv.v,
				 .in = recv ? SPAWN_PIPE : SPAWN_NULL, .out = SPAWN_PIPE,
				 .err = SPAWN_PIPE };
	struct child c = CHILD_INIT;
	r = spawn_start(&req, &c);
	if (r < 0) {
		_cleanup_free_ char *m = xasprintf("cannot run %s: %s", argv.v[0], strerror(-r));
		return refuse(out_fd, m, refusal);
	}
	static struct feed f;
	f = (struct feed){ .in_fd = in_fd, .child_in = c.in };
	c.in = -1; /* the feeder (or the decompressing pump) owns it */
	static struct xpump xin, xout;
	bool pin, pout;
	if (!start_codecs(&cin, &cout, &f, &c, &xin, &xout, &pin, &pout)) {
		kill(c.pid, SIGTERM);
		return refuse(out_fd, "cannot set up the stream codec", refusal);
	}
	pthread_t ft;
	bool feeding = pthread_create(&ft, NULL, server_feed, &f) == 0;
	if (!feeding && f.child_in >= 0) {
		close(f.child_in);
		f.child_in = -1;
	}

	bool client_here = relay_output(&c, out_fd);
	int ws = 0;
	spawn_wait(&c, &ws);
	uint32_t code = (uint32_t)spawn_exit_code(ws);
	if (client_here && pout) {
		pthread_join(xout.t, NULL); /* done: its output reached EOF */
		xpump_report(&xout, out_fd, "compressing the stream");
		if (xout.r < 0 && code == 0)
			code = 1;
	}
	if (client_here && pin)
		xpump_report(&xin, out_fd, "decompressing the stream");
	uint8_t x[4] = { (uint8_t)(code >> 24), (uint8_t)(code >> 16), (uint8_t)(code >> 8), (uint8_t)code };
	if (client_here)
		(void)send_frame(out_fd, SERVE_EXIT, x, 4);
	/* the feeder may still block on in_fd: the caller's exit ends it */
	return 0;
}

/* ---- the relay (client side) -------------------------------------------------------------- */

struct relay_feed {
	int in_fd, ssh_in;
};

static void *relay_feed(void *arg)
{
	struct relay_feed *f = arg;
	_cleanup_free_ uint8_t *buf = xmalloc(IO_CHUNK);
	for (;;) {
		ssize_t n = read(f->in_fd, buf, IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (send_frame(f->ssh_in, SERVE_STDIN, buf, (uint32_t)n) < 0)
			return NULL;
	}
	(void)send_frame(f->ssh_in, SERVE_STDIN, NULL, 0);
	return NULL;
}

/*
 * The relay's ssh ends with the relay: a run that kills a relay (its send
 * is not wanted after all) must not leave the session open, streaming into
 * nothing and counting against the connection's sessions (--jobs).
 */
static int die_with_relay(void *data)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0)
		return -errno;
	return getppid() == *(const pid_t *)data ? 0 : -ESRCH;
}

int serve_relay_start(struct serve_relay *rl, const char *const *ssh_argv,
		      const char *const *request, struct strbuf *err)
{
	if (serve_encode_request(&rl->request, request) < 0) {
		strbuf_addstr(err, "the request is too large");
		return -E2BIG;
	}
	pid_t self = getpid();
	struct spawn_req req = { .argv = ssh_argv, .in = SPAWN_PIPE, .out = SPAWN_PIPE,
				 .err = SPAWN_INHERIT, .pre_exec = die_with_relay,
				 .pre_exec_data = &self };
	int r = spawn_start(&req, &rl->c);
	if (r < 0) {
		strbuf_addf(err, "cannot run %s: %s", ssh_argv[0], strerror(-r));
		strbuf_release(&rl->request);
		return -ENOEXEC;
	}
	return 0;
}

/* The exit status of an 'X' frame, at most 255. */
static int exit_code(const uint8_t *p)
{
	int code = (int)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
	return code > 255 ? 255 : code;
}

int serve_relay_run(struct serve_relay *rl, int in_fd, int out_fd, int err_fd, struct strbuf *msg)
{
	_cleanup_free_ uint8_t *payload = NULL;
	if (send_frame(rl->c.in, SERVE_REQUEST, rl->request.buf, (uint32_t)rl->request.len) < 0)
		return 255;
	static struct relay_feed f;
	f = (struct relay_feed){ .in_fd = in_fd, .ssh_in = rl->c.in };
	pthread_t ft;
	if (pthread_create(&ft, NULL, relay_feed, &f) != 0)
		return 255;
	pthread_detach(ft);

	for (;;) {
		enum serve_frame_type t;
		uint32_t len;
		int r = read_frame(rl->c.out, &t, &payload, &len);
		if (r <= 0) {
			if (r < 0)
				strbuf_addf(msg, "zkeep: serve protocol error from the remote side (%s)",
					    strerror(-r));
			return 255;
		}
		if (t == SERVE_STDOUT) {
			if (fd_write_all(out_fd, payload, len) < 0)
				return 255;
		} else if (t == SERVE_STDERR) {
			/* the remote side's words: shown, never obeyed by a terminal */
			_cleanup_strbuf_ struct strbuf esc = STRBUF_INIT;
			term_escape(&esc, (const char *)payload, len, TERM_FINAL);
			(void)fd_write_all(err_fd, esc.buf, esc.len);
		} else if (t == SERVE_REFUSED) {
			strbuf_addstr(msg, "zkeep serve on the remote side refused the request: ");
			term_escape(msg, (const char *)payload, len, TERM_FINAL);
			return SERVE_EXIT_REFUSED;
		} else if (t == SERVE_EXIT) {
			return exit_code(payload);
		} else {
			strbuf_addf(msg, "zkeep: unexpected frame '%c' from the remote side", (char)t);
			return 255;
		}
	}
}

void serve_relay_finish(struct serve_relay *rl)
{
	/* ssh exits when the server does; its stdin pipe is the feeder's */
	close(rl->c.out);
	rl->c.out = -1;
	int ws = 0;
	kill(rl->c.pid, SIGTERM); /* after X there is nothing more to wait for */
	rl->c.in = -1;            /* closed at exit; the detached feeder may be using it */
	spawn_wait(&rl->c, &ws);
	strbuf_release(&rl->request);
}
