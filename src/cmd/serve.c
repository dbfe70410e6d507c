/*
 * cmd/serve.c - `zkeep serve --stdio`: answer one zfs request from a
 * remote zkeep over stdin/stdout (serve_proto.h), within the datasets this
 * key is allowed; and `zkeep serve --relay`, the local end of that
 * conversation used by the ssh runner (ssh.h). Only the command: the
 * server and the relay are replication/serve.h, the policy serve_proto.h.
 */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "base/log.h"
#include "base/parse.h"
#include "replication/serve.h"
#include "zfs/zfs.h"

#include <signal.h>

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
	"      zoned, exec; the server adds -x mountpoint so that received datasets stay under\n"
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

static void ignore_sigpipe(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigaction(SIGPIPE, &sa, NULL);
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
	struct serve_relay rl = SERVE_RELAY_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT;
	int r = serve_relay_start(&rl, (const char *const *)ssh.v, request, &err);
	if (r == -E2BIG) {
		log_error("serve --relay: %s", err.buf);
		return EXIT_FATAL;
	}
	if (r < 0) {
		log_error("%s", err.buf);
		return 255;
	}
	int code = serve_relay_run(&rl, 0, 1, 2, &msg);
	if (msg.len)
		fprintf(stderr, "%s\n", msg.buf);
	serve_relay_finish(&rl);
	return code;
}

/* ---- the command --------------------------------------------------------------------------- */

int cmd_serve(int argc, char **argv)
{
	if (argc >= 2 && streq(argv[1], "--relay"))
		return serve_relay(argc - 1, argv + 1);

	_cleanup_release_(serve_policy) struct serve_policy pol = SERVE_POLICY_INIT;
	bool stdio = false;
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
			return EXIT_FATAL;
		}
		if (!zfs_name_valid(v, false)) {
			log_error("serve: '%s' is not a valid dataset name", v);
			return EXIT_FATAL;
		}
		strvec_push(recv ? &pol.receive_roots : &pol.send_roots, v);
	}
	if (!stdio) {
		log_error("serve: --stdio is required (it is meant as an ssh forced command; see "
			  "'zkeep help serve')");
		return EXIT_FATAL;
	}
	if (pol.receive_roots.n == 0 && pol.send_roots.n == 0) {
		log_error("serve: give at least one --allow-receive or --allow-send dataset");
		return EXIT_FATAL;
	}
	ignore_sigpipe();
	_cleanup_strbuf_ struct strbuf refusal = STRBUF_INIT;
	/* a refusal is only the frame: stderr of a forced command reaches the client too */
	return serve_answer(&pol, 0, 1, &refusal) == -EPERM ? SERVE_EXIT_REFUSED : EXIT_OK;
}
