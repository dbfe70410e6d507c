/*
 * test-transport.c - drive the transport (ssh.h, pump.h, serve) from shell
 * tests and the benchmark, below the replication engine.
 *
 *   test-transport run [SSH-OPTS] HOST -- ARGV...
 *       run ARGV on HOST through the ssh runner; its stdout/stderr pass
 *       through; exit status: the remote command's. On an ssh failure,
 *       "error: ..." (classified) on stderr and exit 255.
 *   test-transport batch [SSH-OPTS] HOST < REQUESTS
 *       run each line of stdin (words split at spaces) on HOST, all over one
 *       connection; prints "EXIT<TAB>stderr" per request (stderr's newlines
 *       as " | ")
 *   test-transport connect [SSH-OPTS] HOST
 *       open the master connection; "ok" or "error: ..." (exit 1)
 *   test-transport pump [PUMP-OPTS]
 *       stdin to stdout through pump_run; stats on stderr
 *   test-transport send-recv [SSH-OPTS] [PUMP-OPTS] [-w] [-p] [-i FROM | -I FROM]
 *                  SRC-ENDPOINT@SNAP DST-ENDPOINT
 *       `zfs send` on the source's runner -> pump -> `zfs receive -s -F` on the
 *       target's; endpoints are syncoid's [[user@]host:]dataset. With a remote
 *       side and --compress, that side compresses (the zstd/lz4 tool in a
 *       pipeline, or zkeep serve in-process) and the local pump the other
 *       end (ssh_runner_start_coded()). Prints one line
 *       "bytes=N wire=N seconds=S spliced=0|1 spawned=N".
 *
 * SSH-OPTS: --sshport N --sshkey FILE --sshoption OPT (repeatable)
 *           --sshconfig FILE --serve (the remote side is `zkeep serve`)
 *           --zkeep PATH (the local zkeep for --serve's relay)
 *       --recv-arg WORD (repeatable) adds WORD to the receive's flags, as
 *       a hostile client crafts them ("-ocom.x:mountpoint=1").
 * PUMP-OPTS: --compress NAME --decompress NAME --bwlimit BYTES --buffer BYTES
 *            --no-splice --progress
 */
#include "base/zkeep.h"
#include "base/parse.h"
#include "replication/pump.h"
#include "replication/ssh.h"
#include "zfs/zfs.h"

#include <getopt.h>
#include <inttypes.h>
#include <sys/wait.h>

static struct ssh_opts sso;
static struct strvec sshoptions = STRVEC_INIT;
static struct pump_opts po;
static struct pump_codec codec; /* --compress for send-recv */
static struct strvec recv_extra = STRVEC_INIT; /* --recv-arg for send-recv */
static bool progress;
static bool send_props; /* -p */

static void on_progress(const struct pump_progress *p, void *data)
{
	fprintf(stderr, "progress: %" PRIu64 " bytes, %.0f B/s, eta %.1f s%s\n", p->stream_bytes,
		p->rate, p->eta, p->done ? " (done)" : "");
}

static NORETURN void usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of tests/tools/test-transport.c\n");
	exit(2);
}

static struct runner *ssh_for(const char *user, const char *host);

/* "[user@]host" */
static struct runner *ssh_for_arg(const char *arg)
{
	const char *at = strchr(arg, '@');
	if (!at)
		return ssh_for(NULL, arg);
	static char *user;
	user = xstrndup(arg, (size_t)(at - arg));
	return ssh_for(user, at + 1);
}

static struct runner *ssh_for(const char *user, const char *host)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	sso.user = user;
	sso.host = host;
	sso.options = (const char *const *)sshoptions.v;
	struct runner *r = ssh_runner_new(&sso, &err);
	if (!r) {
		fprintf(stderr, "error: %s\n", err.buf);
		exit(2);
	}
	return r;
}

static int cmd_run(int argc, char **argv)
{
	if (argc < 3 || !streq(argv[1], "--"))
		usage();
	struct runner *r = ssh_for_arg(argv[0]);
	struct child c = CHILD_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	strbuf_init(&err, 1 << 20);
	int rc = runner_start(r, (const char *const *)argv + 2, SPAWN_NULL, SPAWN_INHERIT, SPAWN_PIPE, &c);
	if (rc < 0) {
		fprintf(stderr, "error: cannot start: %s\n", strerror(-rc));
		return 2;
	}
	(void)strbuf_read_fd(&err, c.err);
	int ws;
	spawn_wait(&c, &ws);
	int code = spawn_exit_code(ws);
	fputs(err.buf, stderr);
	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	if (ssh_describe_failure(r->label, code, err.buf, &msg) < 0)
		fprintf(stderr, "error: %s\n", msg.buf);
	fprintf(stderr, "spawned=%u\n", r->spawned);
	runner_free(r);
	return code;
}

static int cmd_batch(int argc, char **argv)
{
	if (argc != 1)
		usage();
	struct runner *r = ssh_for_arg(argv[0]);
	_cleanup_strbuf_ struct strbuf in = STRBUF_INIT;
	(void)strbuf_read_fd(&in, 0);
	_cleanup_strvec_ struct strvec lines = STRVEC_INIT;
	strvec_split(&lines, in.buf, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		_cleanup_strvec_ struct strvec words = STRVEC_INIT;
		strvec_split(&words, lines.v[i], " ");
		_cleanup_strbuf_ struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
		int code = -1;
		int rc = runner_run(r, (const char *const *)words.v, NULL, 0, &out, &err, &code);
		if (rc < 0)
			code = rc;
		strbuf_rtrim(&err);
		for (size_t k = 0; k < err.len; k++)
			if (err.buf[k] == '\n')
				err.buf[k] = '|';
		printf("%d\t%s\n", code, err.buf);
	}
	fprintf(stderr, "spawned=%u\n", r->spawned);
	runner_free(r);
	return 0;
}

static int cmd_connect(int argc, char **argv)
{
	if (argc != 1)
		usage();
	struct runner *r = ssh_for_arg(argv[0]);
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int rc = ssh_runner_connect(r, &err);
	if (rc < 0)
		fprintf(stderr, "error: %s\n", err.buf);
	else
		printf("ok\n");
	runner_free(r);
	return rc < 0;
}

static int cmd_pump(int argc, char **argv)
{
	if (argc)
		usage();
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct pump_stats st;
	int rc = pump_run(0, 1, &po, &st, &err);
	fprintf(stderr, "bytes=%" PRIu64 " wire_in=%" PRIu64 " wire_out=%" PRIu64
		" seconds=%.3f spliced=%d\n", st.stream_bytes, st.wire_in, st.wire_out, st.seconds,
		st.spliced);
	if (rc < 0)
		fprintf(stderr, "error: %s\n", err.buf);
	return rc < 0;
}

static char **local_pools(void)
{
	const char *const argv[] = { "zpool", "list", "-H", "-o", "name", NULL };
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	struct spawn_req req = { .argv = argv };
	int code;
	struct strvec v = STRVEC_INIT;
	if (spawn_run(&req, NULL, 0, &out, NULL, &code) == 0 && code == 0)
		strvec_split(&v, out.buf, "\n");
	return v.v == strvec_empty ? NULL : v.v;
}

struct side {
	struct endpoint ep;
	struct runner *r;
};

static void side_init(struct side *s, const char *arg, char **pools)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	if (endpoint_parse(arg, (const char *const *)pools, &s->ep, &err) < 0) {
		fprintf(stderr, "error: %s\n", err.buf);
		exit(2);
	}
	if (s->ep.host) {
		s->r = ssh_for(s->ep.user, s->ep.host);
	} else {
		s->r = runner_local_new();
	}
}

static int cmd_send_recv(int argc, char **argv, bool raw, const char *from, bool inter)
{
	if (argc != 2)
		usage();
	char **pools = local_pools();
	struct side src, dst;
	side_init(&src, argv[0], pools);
	side_init(&dst, argv[1], pools);
	for (char **p = pools; p && *p; p++)
		free(*p);
	free(pools);

	struct zfs_send_args sa = { .snapshot = src.ep.dataset, .from = from, .intermediates = inter,
				    .raw = raw, .props = send_props };
	struct zfs_recv_args ra = { .target = dst.ep.dataset, .resumable = true, .force = true };
	_cleanup_strvec_ struct strvec sargv = STRVEC_INIT, rargv = STRVEC_INIT;
	zfs_send_argv(&sa, false, &sargv);
	zfs_recv_argv(&ra, &rargv);
	if (recv_extra.n) {
		/* zfs receive EXTRA... -sF TARGET */
		_cleanup_strvec_ struct strvec v = STRVEC_INIT;
		strvec_pushv(&v, ARGV(rargv.v[0], rargv.v[1]));
		strvec_pushv(&v, (const char *const *)recv_extra.v);
		strvec_pushv(&v, (const char *const *)rargv.v + 2);
		strvec_release(&rargv);
		strvec_pushv(&rargv, (const char *const *)v.v);
	}

	/* compression only across ssh; remote to remote the bytes just pass */
	bool zsrc = codec.kind && src.ep.host, zdst = codec.kind && dst.ep.host;
	if (zsrc && zdst)
		zsrc = zdst = false; /* remote to remote: the bytes just pass */
	if (zsrc)
		po.decompress = codec;
	if (zdst)
		po.compress = codec;

	struct child cs = CHILD_INIT, cd = CHILD_INIT;
	int rc = zsrc ? ssh_runner_start_coded(src.r, (const char *const *)sargv.v, &codec, true,
					       SPAWN_NULL, SPAWN_PIPE, SPAWN_INHERIT, &cs)
		      : runner_start(src.r, (const char *const *)sargv.v, SPAWN_NULL, SPAWN_PIPE,
				     SPAWN_INHERIT, &cs);
	if (rc < 0) {
		fprintf(stderr, "error: cannot start zfs send: %s\n", strerror(-rc));
		return 1;
	}
	rc = zdst ? ssh_runner_start_coded(dst.r, (const char *const *)rargv.v, &codec, false,
					   SPAWN_PIPE, SPAWN_NULL, SPAWN_INHERIT, &cd)
		  : runner_start(dst.r, (const char *const *)rargv.v, SPAWN_PIPE, SPAWN_NULL,
				 SPAWN_INHERIT, &cd);
	if (rc < 0) {
		fprintf(stderr, "error: cannot start zfs receive: %s\n", strerror(-rc));
		return 1;
	}
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct pump_stats st;
	int pr = pump_run(cs.out, cd.in, &po, &st, &err);
	close(cs.out);
	cs.out = -1;
	close(cd.in);
	cd.in = -1;
	int ws, wd;
	spawn_wait(&cs, &ws);
	spawn_wait(&cd, &wd);
	printf("bytes=%" PRIu64 " wire=%" PRIu64 " seconds=%.3f spliced=%d spawned=%u\n",
	       st.stream_bytes, zdst ? st.wire_out : st.wire_in, st.seconds, st.spliced,
	       src.r->spawned + (dst.r != src.r ? dst.r->spawned : 0));
	int fail = 0;
	if (pr < 0) {
		fprintf(stderr, "error: pump: %s\n", err.buf);
		fail = 1;
	}
	if (spawn_exit_code(ws)) {
		fprintf(stderr, "error: zfs send exited %d\n", spawn_exit_code(ws));
		fail = 1;
	}
	if (spawn_exit_code(wd)) {
		fprintf(stderr, "error: zfs receive exited %d\n", spawn_exit_code(wd));
		fail = 1;
	}
	runner_free(src.r);
	runner_free(dst.r);
	endpoint_release(&src.ep);
	endpoint_release(&dst.ep);
	return fail;
}

enum {
	O_PORT = 256, O_KEY, O_SSHOPT, O_CONFIG, O_SERVE, O_ZKEEP, O_COMPRESS, O_DECOMPRESS,
	O_BWLIMIT, O_BUFFER, O_NOSPLICE, O_PROGRESS, O_RECVARG,
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sshport", required_argument, NULL, O_PORT },
		{ "sshkey", required_argument, NULL, O_KEY },
		{ "sshoption", required_argument, NULL, O_SSHOPT },
		{ "sshconfig", required_argument, NULL, O_CONFIG },
		{ "serve", no_argument, NULL, O_SERVE },
		{ "zkeep", required_argument, NULL, O_ZKEEP },
		{ "compress", required_argument, NULL, O_COMPRESS },
		{ "decompress", required_argument, NULL, O_DECOMPRESS },
		{ "bwlimit", required_argument, NULL, O_BWLIMIT },
		{ "buffer", required_argument, NULL, O_BUFFER },
		{ "no-splice", no_argument, NULL, O_NOSPLICE },
		{ "progress", no_argument, NULL, O_PROGRESS },
		{ "recv-arg", required_argument, NULL, O_RECVARG },
		{ NULL, 0, NULL, 0 },
	};
	if (argc < 2)
		usage();
	const char *sub = argv[1];
	bool raw = false, inter = false;
	const char *from = NULL;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "+wpi:I:", longopts, NULL)) != -1) {
		switch (c) {
		case O_PORT: sso.port = optarg; break;
		case O_KEY: sso.key = optarg; break;
		case O_SSHOPT: strvec_push(&sshoptions, optarg); break;
		case O_CONFIG: sso.config = optarg; break;
		case O_SERVE: sso.mode = SSH_REMOTE_SERVE; break;
		case O_ZKEEP: sso.zkeep_path = optarg; break;
		case O_COMPRESS:
		case O_DECOMPRESS:
			if (pump_codec_from_syncoid(optarg, c == O_COMPRESS ? &codec : &po.decompress, &err) < 0) {
				fprintf(stderr, "error: %s\n", err.buf);
				return 2;
			}
			break;
		case O_BWLIMIT:
		case O_BUFFER: {
			uint64_t v;
			if (parse_size(optarg, &v) < 0)
				usage();
			if (c == O_BWLIMIT)
				po.bwlimit = v;
			else
				po.buffer_size = (size_t)v;
			break;
		}
		case O_NOSPLICE: po.no_splice = true; break;
		case O_PROGRESS: progress = true; break;
		case O_RECVARG: strvec_push(&recv_extra, optarg); break;
		case 'w': raw = true; break;
		case 'p': send_props = true; break;
		case 'i': from = optarg; inter = false; break;
		case 'I': from = optarg; inter = true; break;
		default: usage();
		}
	}
	if (progress) {
		po.progress = on_progress;
		po.progress_interval_ms = 1000;
	}
	argc -= optind;
	argv += optind;
	if (streq(sub, "run"))
		return cmd_run(argc, argv);
	if (streq(sub, "batch"))
		return cmd_batch(argc, argv);
	if (streq(sub, "connect"))
		return cmd_connect(argc, argv);
	if (streq(sub, "pump")) {
		po.compress = codec;
		return cmd_pump(argc, argv);
	}
	if (streq(sub, "send-recv"))
		return cmd_send_recv(argc, argv, raw, from, inter);
	usage();
}
