/*
 * cmd/serve.c - `zkeep serve --stdio`: answer one zfs request from a
 * remote zkeep over stdin/stdout (serve_proto.h), within the datasets this
 * key is allowed; and `zkeep serve --relay`, the local end of that
 * conversation used by the ssh runner (ssh.h).
 */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "base/log.h"
#include "base/parse.h"
#include "replication/pump.h"
#include "replication/serve_proto.h"
#include "base/spawn.h"
#include "zfs/zfs.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>

const char cmd_serve_help[] =
	"usage: zkeep serve --stdio [--allow-receive DATASET]... [--allow-send DATASET]...\n"
	"\n"
	"Answer zfs requests from a remote zkeep over stdin and stdout, without a shell.\n"
	"Meant as the forced command of an ssh key, so that the key can do nothing but\n"
	"replicate into (or out of) one dataset tree:\n"
	"\n"
	"  command=\"zkeep serve --stdio --allow-receive backup/host1\",restrict ssh-ed25519 AAAA...\n"
	"\n"
	"Each ssh session carries one request: a zfs or zpool command line, which is\n"
	"checked against a fixed list of allowed forms and run directly (no shell):\n"
	"\n"
	"  anywhere in an allowed tree: zfs list, get, holds, version; zpool get/list of\n"
	"      its pool; zfs snapshot, hold, release\n"
	"  --allow-send DATASET: zfs send (also resuming with -t, after checking what the\n"
	"      token sends), zfs bookmark, and destroying bookmarks and sync snapshots\n"
	"      (syncoid_*) only\n"
	"  --allow-receive DATASET: zfs receive (not -o mountpoint, sharenfs, sharesmb,\n"
	"      zoned; the server adds -x mountpoint so that received datasets stay under\n"
	"      DATASET's mountpoint), receive -A, rollback, destroy of snapshots and of\n"
	"      datasets below DATASET (never DATASET itself)\n"
	"\n"
	"Everything else, names outside the trees, '..' tricks and other pools are\n"
	"refused with a message. Both options may be repeated. Use it from the other\n"
	"side with `zkeep replicate --serve` (see docs/transport.md).\n"
	"\n"
	"options:\n"
	"  --stdio                  speak the protocol on stdin/stdout (required)\n"
	"  --allow-receive DATASET  allow receiving under DATASET\n"
	"  --allow-send DATASET     allow sending from DATASET\n";

#define IO_CHUNK ((size_t)256 << 10)

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

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
		int r = write_all(fd, hdr + w, sizeof(hdr) - (size_t)w);
		if (r)
			return r;
		return write_all(fd, p, n);
	}
	return write_all(fd, (const char *)p + ((size_t)w - sizeof(hdr)), n - ((size_t)w - sizeof(hdr)));
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

static void ignore_sigpipe(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigaction(SIGPIPE, &sa, NULL);
}

/* ---- the server ------------------------------------------------------------------------ */

/* stdin frames -> the child's stdin, in its own thread */
struct feed {
	int child_in; /* owned by the thread; -1 when the command reads nothing */
};

static void *server_feed(void *arg)
{
	struct feed *f = arg;
	_cleanup_free_ uint8_t *buf = NULL;
	for (;;) {
		enum serve_frame_type t;
		uint32_t len;
		int r = read_frame(0, &t, &buf, &len);
		if (r <= 0 || t != SERVE_STDIN || len == 0)
			break; /* EOF, end of input, or garbage: the command sees EOF */
		if (f->child_in >= 0 && write_all(f->child_in, buf, len) < 0) {
			close(f->child_in); /* the command stopped reading */
			f->child_in = -1;
		}
	}
	if (f->child_in >= 0)
		close(f->child_in);
	f->child_in = -1;
	return NULL;
}

static int refuse(const char *msg)
{
	/* only the frame: stderr of a forced command reaches the client too */
	(void)send_frame(1, SERVE_REFUSED, msg, (uint32_t)strnlen(msg, SERVE_REQUEST_MAX));
	return SERVE_EXIT_REFUSED;
}

/* `zfs send -nv -t TOKEN`: what would it send? 0 when in a send root. */
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
	const char *const probe[] = { "zfs", "send", "-nv", "-t", token, NULL };
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT, errout = STRBUF_INIT;
	struct spawn_req req = { .argv = probe };
	int code;
	int r = spawn_run(&req, NULL, 0, &out, &errout, &code);
	if (r < 0 || code != 0)
		return strbuf_addf(err, "the resume token cannot be read: %s", errout.buf), -EPERM;
	strbuf_addstr(&out, errout.buf);
	_cleanup_free_ char *toname = NULL;
	if (serve_token_toname(out.buf, &toname) < 0)
		return strbuf_addstr(err, "the resume token does not say what it sends"), -EPERM;
	for (size_t i = 0; i < pol->send_roots.n; i++)
		if (serve_name_in_root(toname, pol->send_roots.v[i]))
			return 0;
	return strbuf_addf(err, "the resume token sends '%s', outside the datasets this key may "
			   "send from", toname), -EPERM;
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
static void xpump_report(struct xpump *x, const char *what)
{
	pthread_mutex_lock(&x->mu);
	if (x->done && x->r < 0) {
		_cleanup_free_ char *m = xasprintf("zkeep serve: %s: %s\n", what, x->msg.buf);
		(void)send_frame(1, SERVE_STDERR, m, (uint32_t)strlen(m));
	}
	pthread_mutex_unlock(&x->mu);
}

static bool is_send(const char *const *argv)
{
	return streq(argv[0], "zfs") && streq(argv[1], "send");
}

static bool is_receive(const char *const *argv)
{
	return streq(argv[0], "zfs") && (streq(argv[1], "receive") || streq(argv[1], "recv"));
}

/* zfs receive gets -x mountpoint unless it is aborting or already says so. */
static void harden_receive(struct strvec *argv)
{
	for (size_t i = 2; i < argv->n; i++) {
		const char *w = argv->v[i];
		if (w[0] != '-')
			break;
		if (strchr(w, 'A') && !strpbrk(w, "ox"))
			return;
		if (strstr(w, "mountpoint") || (i + 1 < argv->n && strstr(argv->v[i + 1], "mountpoint") &&
						 strpbrk(w, "ox")))
			return;
	}
	_cleanup_strvec_ struct strvec v = STRVEC_INIT;
	strvec_push(&v, argv->v[0]);
	strvec_push(&v, argv->v[1]);
	strvec_push(&v, "-x");
	strvec_push(&v, "mountpoint");
	for (size_t i = 2; i < argv->n; i++)
		strvec_push(&v, argv->v[i]);
	strvec_release(argv);
	strvec_pushv(argv, (const char *const *)v.v);
}

static int serve_stdio(const struct serve_policy *pol)
{
	ignore_sigpipe();
	_cleanup_free_ uint8_t *payload = NULL;
	enum serve_frame_type t;
	uint32_t len;
	int r = read_frame(0, &t, &payload, &len);
	if (r == 0)
		return EXIT_OK; /* a connection probe: no request */
	if (r < 0 || t != SERVE_REQUEST)
		return refuse("protocol error: the first frame must be a request");

	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct pump_codec cin, cout;
	if (serve_decode_request(payload, len, &argv, &err) < 0 ||
	    serve_take_options(&argv, &cin, &cout, &err) < 0)
		return refuse(err.buf);
	r = serve_policy_check(pol, (const char *const *)argv.v, &err);
	if (r == SERVE_CHECK_TOKEN)
		r = check_token(pol, (const char *const *)argv.v, &err);
	if (r < 0)
		return refuse(err.buf);
	bool recv = is_receive((const char *const *)argv.v);
	if (cin.kind && !recv)
		return refuse("codec-in goes only with zfs receive");
	if (cout.kind && !is_send((const char *const *)argv.v))
		return refuse("codec-out goes only with zfs send");
	if (recv)
		harden_receive(&argv);

	struct spawn_req req = { .argv = (const char *const *)argv.v,
				 .in = recv ? SPAWN_PIPE : SPAWN_NULL, .out = SPAWN_PIPE,
				 .err = SPAWN_PIPE };
	struct child c = CHILD_INIT;
	r = spawn_start(&req, &c);
	if (r < 0) {
		_cleanup_free_ char *m = xasprintf("cannot run %s: %s", argv.v[0], strerror(-r));
		return refuse(m);
	}
	struct feed f = { .child_in = c.in };
	c.in = -1; /* the feeder (or the decompressing pump) owns it */
	static struct xpump xin, xout;
	int p[2];
	bool pin = false, pout = false;
	if (cin.kind && f.child_in >= 0 && pipe2(p, O_CLOEXEC) == 0) {
		/* frames -> pipe -> decompress -> zfs receive */
		xin.opts.decompress = cin;
		if (xpump_start(&xin, p[0], f.child_in) == 0) {
			f.child_in = p[1];
			pin = true;
		} else {
			close(p[0]);
			close(p[1]);
		}
	}
	if (cout.kind && pipe2(p, O_CLOEXEC) == 0) {
		/* zfs send -> compress -> pipe -> frames */
		xout.opts.compress = cout;
		if (xpump_start(&xout, c.out, p[1]) == 0) {
			c.out = p[0];
			pout = true;
		} else {
			close(p[0]);
			close(p[1]);
		}
	}
	if ((cin.kind && !pin) || (cout.kind && !pout)) {
		kill(c.pid, SIGTERM);
		return refuse("cannot set up the stream codec");
	}
	pthread_t ft;
	bool feeding = pthread_create(&ft, NULL, server_feed, &f) == 0;
	if (!feeding && f.child_in >= 0) {
		close(f.child_in);
		f.child_in = -1;
	}

	/* the command's stdout and stderr -> frames */
	_cleanup_free_ uint8_t *buf = xmalloc(IO_CHUNK);
	struct pollfd pf[2] = { { .fd = c.out, .events = POLLIN }, { .fd = c.err, .events = POLLIN } };
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
			    send_frame(1, i == 0 ? SERVE_STDOUT : SERVE_STDERR, buf, (uint32_t)n) < 0) {
				/* nobody listens: stop the command (a receive keeps its
				 * resumable state), and drain until it is gone */
				client_gone = true;
				kill(c.pid, SIGTERM);
			}
		}
	}
	int ws = 0;
	spawn_wait(&c, &ws);
	uint32_t code = (uint32_t)spawn_exit_code(ws);
	if (!client_gone && pout) {
		pthread_join(xout.t, NULL); /* done: its output reached EOF */
		xpump_report(&xout, "compressing the stream");
		if (xout.r < 0 && code == 0)
			code = 1;
	}
	if (!client_gone && pin)
		xpump_report(&xin, "decompressing the stream");
	uint8_t x[4] = { (uint8_t)(code >> 24), (uint8_t)(code >> 16), (uint8_t)(code >> 8), (uint8_t)code };
	if (!client_gone)
		(void)send_frame(1, SERVE_EXIT, x, 4);
	/* the feeder may still block on stdin: exiting ends it */
	return EXIT_OK;
}

/* ---- the relay (client side) -------------------------------------------------------------- */

struct relay_feed {
	int ssh_in;
};

static void *relay_feed(void *arg)
{
	struct relay_feed *f = arg;
	_cleanup_free_ uint8_t *buf = xmalloc(IO_CHUNK);
	for (;;) {
		ssize_t n = read(0, buf, IO_CHUNK);
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

static int serve_relay(int argc, char **argv)
{
	/* argv: --relay N SSH-ARGV(N) REQUEST... */
	unsigned n;
	if (argc < 3 || parse_uint_range(argv[1], 1, 1000, &n) < 0 || (unsigned)argc < 2 + n + 2) {
		log_error("serve --relay: bad arguments (internal use by the ssh transport)");
		return EXIT_FATAL;
	}
	ignore_sigpipe();
	_cleanup_strvec_ struct strvec ssh = STRVEC_INIT;
	for (unsigned i = 0; i < n; i++)
		strvec_push(&ssh, argv[2 + i]);
	const char *const *request = (const char *const *)argv + 2 + n;
	_cleanup_strbuf_ struct strbuf q = STRBUF_INIT;
	if (serve_encode_request(&q, request) < 0) {
		log_error("serve --relay: the request is too large");
		return EXIT_FATAL;
	}
	struct spawn_req req = { .argv = (const char *const *)ssh.v, .in = SPAWN_PIPE,
				 .out = SPAWN_PIPE, .err = SPAWN_INHERIT };
	struct child c = CHILD_INIT;
	int r = spawn_start(&req, &c);
	if (r < 0) {
		log_error("cannot run %s: %s", ssh.v[0], strerror(-r));
		return 255;
	}
	int code = 255;
	_cleanup_free_ uint8_t *payload = NULL;
	if (send_frame(c.in, SERVE_REQUEST, q.buf, (uint32_t)q.len) < 0)
		goto done;
	struct relay_feed f = { .ssh_in = c.in };
	pthread_t ft;
	if (pthread_create(&ft, NULL, relay_feed, &f) != 0)
		goto done;
	pthread_detach(ft);

	for (;;) {
		enum serve_frame_type t;
		uint32_t len;
		r = read_frame(c.out, &t, &payload, &len);
		if (r <= 0) {
			if (r < 0)
				fprintf(stderr, "zkeep: serve protocol error from the remote side (%s)\n",
					strerror(-r));
			break;
		}
		if (t == SERVE_STDOUT) {
			if (write_all(1, payload, len) < 0)
				break;
		} else if (t == SERVE_STDERR) {
			(void)write_all(2, payload, len);
		} else if (t == SERVE_REFUSED) {
			fprintf(stderr, "zkeep serve on the remote side refused the request: %.*s\n",
				(int)len, (const char *)payload);
			code = SERVE_EXIT_REFUSED;
			break;
		} else if (t == SERVE_EXIT) {
			code = (int)((uint32_t)payload[0] << 24 | (uint32_t)payload[1] << 16 |
				     (uint32_t)payload[2] << 8 | payload[3]);
			if (code > 255)
				code = 255;
			break;
		} else {
			fprintf(stderr, "zkeep: unexpected frame '%c' from the remote side\n", (char)t);
			break;
		}
	}
done:
	/* ssh exits when the server does; its stdin pipe is the feeder's */
	close(c.out);
	c.out = -1;
	int ws = 0;
	kill(c.pid, SIGTERM); /* after X there is nothing more to wait for */
	c.in = -1;            /* closed at exit; the detached feeder may be using it */
	spawn_wait(&c, &ws);
	return code;
}

/* ---- the command --------------------------------------------------------------------------- */

int cmd_serve(int argc, char **argv)
{
	if (argc >= 2 && streq(argv[1], "--relay"))
		return serve_relay(argc - 1, argv + 1);

	struct serve_policy pol = SERVE_POLICY_INIT;
	bool stdio = false;
	int ret = EXIT_FATAL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (streq(a, "--stdio")) {
			stdio = true;
			continue;
		}
		bool recv = false;
		if ((v = skip_prefix(a, "--allow-receive="))) {
			recv = true;
		} else if (streq(a, "--allow-receive") && i + 1 < argc) {
			recv = true;
			v = argv[++i];
		} else if ((v = skip_prefix(a, "--allow-send="))) {
		} else if (streq(a, "--allow-send") && i + 1 < argc) {
			v = argv[++i];
		} else {
			log_error("serve: unknown argument '%s' (see 'zkeep help serve')", a);
			goto out;
		}
		if (!zfs_name_valid(v, false)) {
			log_error("serve: '%s' is not a valid dataset name", v);
			goto out;
		}
		strvec_push(recv ? &pol.receive_roots : &pol.send_roots, v);
	}
	if (!stdio) {
		log_error("serve: --stdio is required (it is meant as an ssh forced command; see "
			  "'zkeep help serve')");
		goto out;
	}
	if (pol.receive_roots.n == 0 && pol.send_roots.n == 0) {
		log_error("serve: give at least one --allow-receive or --allow-send dataset");
		goto out;
	}
	ret = serve_stdio(&pol);
out:
	serve_policy_release(&pol);
	return ret;
}
