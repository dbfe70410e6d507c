#include "unit.h"
#include "replication/ssh.h"
#include "base/parse.h"

#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* Words that would do something if a shell ever saw them unquoted. */
static const char *const nasty[] = {
	"pool/with space", "a'b", "'", "''", "\"dq\"", "$(touch MARK)", "`touch MARK`",
	"; touch MARK", "| touch MARK", "&& touch MARK", "$HOME", "${IFS}", "*", "~", "-n",
	"back\\slash", "tab\there", "", "pool/fs@snap#x", "\xc3\xa9t\xc3\xa9", "a\\'b", "!",
	"$'x'", "> MARK", NULL,
};

static char *marker_path(const char *dir)
{
	return xasprintf("%s/MARK", dir);
}

/* sh -c "printf '%s\n' QUOTED..." must print each word back, one per line. */
static void test_quoting_round_trips_through_sh(void **state)
{
	char dir[] = "/tmp/zkeep-ssh-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	_cleanup_strbuf_ struct strbuf cmd = STRBUF_INIT, out = STRBUF_INIT, expect = STRBUF_INIT;
	const char *head[] = { "printf", "%s\\n", NULL };
	assert_int_equal(ssh_quote_argv(&cmd, head), 0);
	/* printf's format with \n: it is quoted, so printf sees backslash-n and expands it */
	strbuf_addch(&cmd, ' ');
	assert_int_equal(ssh_quote_argv(&cmd, nasty), 0);
	for (size_t i = 0; nasty[i]; i++)
		strbuf_addf(&expect, "%s\n", nasty[i]);
	const char *const argv[] = { "sh", "-c", cmd.buf, NULL };
	struct spawn_req req = { .argv = argv, .cwd = dir };
	int code;
	assert_int_equal(spawn_run(&req, NULL, 0, &out, NULL, &code), 0);
	assert_int_equal(code, 0);
	assert_string_equal(out.buf, expect.buf);
	_cleanup_free_ char *mark = marker_path(dir);
	assert_int_equal(access(mark, F_OK), -1);
	rmdir(dir);
}

static void test_quoting_rules(void **state)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	assert_int_equal(ssh_quote_word(&sb, "it's"), 0);
	assert_string_equal(sb.buf, "'it'\\''s'");
	strbuf_reset(&sb);
	assert_int_equal(ssh_quote_word(&sb, ""), 0);
	assert_string_equal(sb.buf, "''");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "keep");
	assert_int_equal(ssh_quote_word(&sb, "new\nline"), -EINVAL);
	assert_string_equal(sb.buf, "keep");
	const char *argv[] = { "zfs", "list", "bad\nname", NULL };
	assert_int_equal(ssh_quote_argv(&sb, argv), -EINVAL);
	assert_string_equal(sb.buf, "keep");
}

static void check_ep(const char *arg, const char *const *pools, const char *user,
		     const char *host, const char *ds)
{
	struct endpoint e;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int r = endpoint_parse(arg, pools, &e, &err);
	if (r)
		print_error("%s: %s\n", arg, err.buf);
	assert_int_equal(r, 0);
	if (user)
		assert_string_equal(e.user, user);
	else
		assert_null(e.user);
	if (host)
		assert_string_equal(e.host, host);
	else
		assert_null(e.host);
	assert_string_equal(e.dataset, ds);
	assert_int_equal(endpoint_is_remote(&e), host != NULL);
	endpoint_release(&e);
}

static void check_ep_bad(const char *arg, const char *const *pools, const char *msg)
{
	struct endpoint e;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(endpoint_parse(arg, pools, &e, &err), -EINVAL);
	assert_non_null(strstr(err.buf, msg));
}

static void test_endpoints(void **state)
{
	const char *const pools[] = { "tank", "backup:tank", NULL };
	check_ep("tank/fs", pools, NULL, NULL, "tank/fs");
	check_ep("root@host1:tank/fs", pools, "root", "host1", "tank/fs");
	check_ep("@host1:tank/fs", pools, NULL, "host1", "tank/fs");
	check_ep("root@host1:tank/with space", pools, "root", "host1", "tank/with space");
	check_ep("host1:tank/fs", pools, NULL, "host1", "tank/fs");
	check_ep("host1:tank", NULL, NULL, "host1", "tank");
	/* a local pool named like "host:dataset" wins */
	check_ep("backup:tank/fs", pools, NULL, NULL, "backup:tank/fs");
	check_ep("backup:tank", pools, NULL, NULL, "backup:tank");
	check_ep("backup:tank/fs", NULL, NULL, "backup", "tank/fs");
	/* a colon after the first slash is part of a dataset name */
	check_ep("tank/a:b", pools, NULL, NULL, "tank/a:b");
	check_ep("tank/fs@snap", pools, NULL, NULL, "tank/fs@snap");
	check_ep("u@h.example.org:tank/x:y", pools, "u", "h.example.org", "tank/x:y");
	check_ep_bad("", pools, "empty");
	check_ep_bad("host1:", pools, "no dataset");
	check_ep_bad("-oProxyCommand=x:tank", pools, "invalid host");
	check_ep_bad("u;id@host:tank", pools, "invalid remote user");
	check_ep_bad("u@-host:tank", pools, "invalid host");
	check_ep_bad("u@ho$t:tank", pools, "invalid host");
}

static void test_describe_failure(void **state)
{
	_cleanup_strbuf_ struct strbuf m = STRBUF_INIT;
	assert_int_equal(ssh_describe_failure("root@h", 255, "root@h: Permission denied (publickey).\n", &m),
			 -EACCES);
	assert_non_null(strstr(m.buf, "authentication to root@h refused"));
	assert_non_null(strstr(m.buf, "Permission denied (publickey)."));
	strbuf_reset(&m);
	assert_int_equal(ssh_describe_failure("h", 255, "ssh: connect to host h port 22: Connection refused\n", &m),
			 -EHOSTUNREACH);
	assert_non_null(strstr(m.buf, "cannot reach h"));
	strbuf_reset(&m);
	assert_int_equal(ssh_describe_failure("h", 255, "ssh: Could not resolve hostname h: Name or service not known\n", &m),
			 -EHOSTUNREACH);
	strbuf_reset(&m);
	assert_int_equal(ssh_describe_failure("h", 255, "Host key verification failed.\n", &m), -EACCES);
	assert_non_null(strstr(m.buf, "host key of h"));
	strbuf_reset(&m);
	assert_int_equal(ssh_describe_failure("h", 255, "something else\n", &m), -EIO);
	assert_non_null(strstr(m.buf, "something else"));
	strbuf_reset(&m);
	/* a failing remote command is not an ssh failure */
	assert_int_equal(ssh_describe_failure("h", 1, "cannot open 'x': dataset does not exist\n", &m), 0);
	assert_int_equal(m.len, 0);
}

/* ---- the runner, with a fake ssh that runs the command with sh -c ---- */

static const char fake_ssh[] =
	"#!/bin/sh\n"
	"log=\"$(dirname \"$0\")/log\"\n"
	"for a in \"$@\"; do printf '%s\\n' \"$a\"; done >> \"$log\"\n"
	"echo -- >> \"$log\"\n"
	"for a in \"$@\"; do case \"$a\" in -Oexit) exit 0;; esac; done\n"
	"for a in \"$@\"; do case \"$a\" in -N) [ -S /dev/stdin ] && echo master-on-socket; exit 0;; esac; done\n"
	"if [ -e \"$(dirname \"$0\")/deny\" ]; then echo 'root@h: Permission denied (publickey).' >&2; exit 255; fi\n"
	"for a in \"$@\"; do last=\"$a\"; done\n"
	"exec sh -c \"$last\"\n";

struct fake {
	char dir[64];
	char *ssh, *log;
};

static void fake_setup(struct fake *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/zkeep-fakessh-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->ssh = xasprintf("%s/ssh", f->dir);
	f->log = xasprintf("%s/log", f->dir);
	int fd = open(f->ssh, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, fake_ssh, strlen(fake_ssh)), (ssize_t)strlen(fake_ssh));
	close(fd);
}

static void fake_teardown(struct fake *f)
{
	unlink(f->ssh);
	unlink(f->log);
	_cleanup_free_ char *deny = xasprintf("%s/deny", f->dir);
	unlink(deny);
	rmdir(f->dir);
	free(f->ssh);
	free(f->log);
}

static void test_runner_runs_argv_remotely_quoted_once(void **state)
{
	struct fake f;
	fake_setup(&f);
	const char *const o[] = { "StrictHostKeyChecking=yes", "Compression=no", NULL };
	struct ssh_opts so = { .user = "root", .host = "backuphost", .port = "2222", .key = "/k/id",
			       .cipher = "aes128-ctr", .config = "/etc/zk/ssh_config", .options = o,
			       .ssh_program = f.ssh, .runtime_dir = f.dir };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct runner *r = ssh_runner_new(&so, &err);
	assert_non_null(r);
	assert_string_equal(r->label, "root@backuphost");

	/* the argv ssh gets */
	const char *const cmd[] = { "zfs", "list", "-H", "tank/a b", NULL };
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	assert_int_equal(ssh_runner_argv(r, cmd, &argv), 0);
	_cleanup_free_ char *joined = strvec_join(&argv, "|");
	assert_non_null(strstr(joined, "|-oBatchMode=yes|"));
	assert_non_null(strstr(joined, "|-l|root|-p|2222|-i|/k/id|-c|aes128-ctr|"));
	assert_non_null(strstr(joined, "|-o|StrictHostKeyChecking=yes|-o|Compression=no|"));
	assert_non_null(strstr(joined, "|-F|/etc/zk/ssh_config|"));
	assert_non_null(strstr(joined, "|-oControlMaster=no|--|backuphost|'zfs' 'list' '-H' 'tank/a b'"));
	assert_string_equal(argv.v[argv.n - 1], "'zfs' 'list' '-H' 'tank/a b'");
	assert_string_equal(argv.v[argv.n - 2], "backuphost");
	assert_string_equal(argv.v[argv.n - 3], "--");

	/* nasty words arrive intact and run nothing */
	_cleanup_strvec_ struct strvec words = STRVEC_INIT;
	strvec_push(&words, "printf");
	strvec_push(&words, "%s\\n");
	strvec_pushv(&words, nasty);
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT, expect = STRBUF_INIT;
	for (size_t i = 0; nasty[i]; i++)
		strbuf_addf(&expect, "%s\n", nasty[i]);
	int code;
	assert_int_equal(runner_run(r, (const char *const *)words.v, NULL, 0, &out, NULL, &code), 0);
	assert_int_equal(code, 0);
	assert_string_equal(out.buf, expect.buf);
	_cleanup_free_ char *mark = xasprintf("MARK"); /* relative: the test's cwd */
	assert_int_equal(access(mark, F_OK), -1);

	/* a pipeline, each side quoted */
	const char *const a1[] = { "printf", "a b;c", NULL };
	const char *const a2[] = { "tr", "a-z", "A-Z", NULL };
	const char *const *pipeline[] = { a1, a2 };
	struct child c = CHILD_INIT;
	assert_int_equal(ssh_runner_start_pipeline(r, pipeline, 2, SPAWN_NULL, SPAWN_PIPE, SPAWN_NULL, &c), 0);
	strbuf_reset(&out);
	assert_int_equal(strbuf_read_fd(&out, c.out), 0);
	int ws;
	assert_int_equal(spawn_wait(&c, &ws), 0);
	assert_string_equal(out.buf, "A B;C");

	/* a coded start: the remote side compresses zfs send's output with the tool */
	struct pump_codec zc = { PUMP_CODEC_ZSTD, 3, 0 };
	const char *const cat[] = { "printf", "hello", NULL };
	c = (struct child)CHILD_INIT;
	assert_int_equal(ssh_runner_start_coded(r, cat, &zc, true, SPAWN_NULL, SPAWN_PIPE, SPAWN_NULL, &c), 0);
	strbuf_reset(&out);
	assert_int_equal(strbuf_read_fd(&out, c.out), 0);
	assert_int_equal(spawn_wait(&c, &ws), 0);
	assert_int_equal(spawn_exit_code(ws), 0);
	assert_true(out.len > 4 && memcmp(out.buf, "\x28\xb5\x2f\xfd", 4) == 0); /* a zstd frame */

	/* one master (connect) + 4 commands; the master used the private dir */
	assert_int_equal(r->spawned, 4); /* connect + runner_run + pipeline + coded */
	_cleanup_strbuf_ struct strbuf log = STRBUF_INIT;
	assert_int_equal(strbuf_read_file(&log, f.log), 0);
	assert_non_null(strstr(log.buf, "-oControlMaster=yes\n-oControlPersist=60\n"));
	const char *cp = strstr(log.buf, "-oControlPath=");
	assert_non_null(cp);
	_cleanup_free_ char *cpath = xstrndup(cp + 14, strcspn(cp + 14, "\n"));
	_cleanup_free_ char *cdir = xstrndup(cpath, strrchr(cpath, '/') - cpath);
	struct stat st;
	assert_int_equal(stat(cdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_true(strncmp(cdir, f.dir, strlen(f.dir)) == 0);

	runner_free(r);
	/* closed with -O exit, directory removed */
	strbuf_reset(&log);
	assert_int_equal(strbuf_read_file(&log, f.log), 0);
	assert_non_null(strstr(log.buf, "-Oexit\n--\nbackuphost\n--\n"));
	assert_non_null(strstr(log.buf, "'printf' 'hello' | 'zstd' '-q' '-c' '-3'\n"));
	assert_int_equal(stat(cdir, &st), -1);
	fake_teardown(&f);
}

static void test_connect_failure_is_named(void **state)
{
	struct fake f;
	fake_setup(&f);
	_cleanup_free_ char *deny = xasprintf("%s/deny", f.dir);
	close(open(deny, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	struct ssh_opts so = { .host = "h", .ssh_program = f.ssh, .runtime_dir = f.dir };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct runner *r = ssh_runner_new(&so, &err);
	assert_non_null(r);
	assert_int_equal(ssh_runner_connect(r, &err), -EACCES);
	assert_non_null(strstr(err.buf, "authentication to h refused"));
	runner_free(r);
	/* no master: no -O exit */
	_cleanup_strbuf_ struct strbuf log = STRBUF_INIT;
	assert_int_equal(strbuf_read_file(&log, f.log), 0);
	assert_null(strstr(log.buf, "-Oexit"));
	fake_teardown(&f);
}

/* A connected socket: the master runs over it (ProxyCommand=-, -N), the probe is a session. */
static void test_master_over_connected_socket(void **state)
{
	struct fake f;
	fake_setup(&f);
	int sp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	int mine = fcntl(sp[0], F_DUPFD_CLOEXEC, 3);
	close(sp[0]);
	struct ssh_opts so = { .host = "h", .ssh_program = f.ssh, .runtime_dir = f.dir,
			       .connected_fd = mine };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT, got = STRBUF_INIT, log = STRBUF_INIT;
	struct runner *r = ssh_runner_new(&so, &err);
	assert_non_null(r);
	assert_int_equal(ssh_runner_connect(r, &err), 0);
	/* the master had the socket as stdin and stdout; the runner closed its copy: EOF */
	assert_int_equal(strbuf_read_fd(&got, sp[1]), 0);
	assert_string_equal(got.buf, "master-on-socket\n");
	close(sp[1]);
	assert_int_equal(strbuf_read_file(&log, f.log), 0);
	assert_non_null(strstr(log.buf, "-oControlMaster=yes\n-oControlPersist=60\n"
					"-oProxyCommand=-\n-N\n--\nh\n--\n"));
	assert_non_null(strstr(log.buf, "-oControlMaster=no\n--\nh\ntrue\n--\n"));
	assert_int_equal(r->spawned, 2);
	runner_free(r);

	/* without multiplexing there is no master to hand it to: refused, and closed */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	mine = fcntl(sp[0], F_DUPFD_CLOEXEC, 3);
	close(sp[0]);
	so.connected_fd = mine;
	so.no_multiplex = true;
	strbuf_reset(&err);
	assert_null(ssh_runner_new(&so, &err));
	assert_non_null(strstr(err.buf, "multiplexing"));
	strbuf_reset(&got);
	assert_int_equal(strbuf_read_fd(&got, sp[1]), 0);
	assert_int_equal(got.len, 0);
	close(sp[1]);
	fake_teardown(&f);
}

/* `ssh -G` output: where ssh connects, and whether a proxy stands in between. */
static void test_destination_parse(void **state)
{
	_cleanup_release_(ssh_destination) struct ssh_destination d = SSH_DESTINATION_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(ssh_destination_parse("host b\nhostname backup.example\nport 2222\n"
					       "addressfamily inet6\nconnecttimeout 7\n"
					       "proxycommand none\nuser root\n", &d, &err), 0);
	assert_string_equal(d.hostname, "backup.example");
	assert_int_equal(d.port, 2222);
	assert_int_equal(d.family, AF_INET6);
	assert_int_equal(d.connect_timeout, 7);
	assert_null(d.proxy);
	assert_int_equal(ssh_destination_parse("hostname h\nport 22\nconnecttimeout none\n"
					       "addressfamily any\nproxyjump jump@gw:2200", &d, &err), 0);
	assert_int_equal(d.family, AF_UNSPEC);
	assert_int_equal(d.connect_timeout, 0);
	assert_string_equal(d.proxy, "proxyjump jump@gw:2200");
	assert_int_equal(ssh_destination_parse("hostname h\nport 22\nproxycommand nc %h %p\n", &d,
					       &err), 0);
	assert_string_equal(d.proxy, "proxycommand nc %h %p");
	assert_int_equal(ssh_destination_parse("hostname h\nport 0\n", &d, &err), -EINVAL);
	assert_int_equal(ssh_destination_parse("hostname h\nport 22x\n", &d, &err), -EINVAL);
	assert_int_equal(ssh_destination_parse("port 22\n", &d, &err), -EINVAL);
	assert_int_equal(ssh_destination_parse("", &d, &err), -EINVAL);
	assert_int_equal(ssh_destination_parse("hostname h\nport 22\nconnecttimeout -1\n", &d,
					       &err), -EINVAL);
	assert_null(d.hostname);
}

/* A refused port is named as ssh names it; a listener is connected. */
static void test_destination_connect(void **state)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
	struct ssh_destination d = { .hostname = (char *)"127.0.0.1", .port = ntohs(a.sin_port),
				     .family = AF_INET, .connect_timeout = 5 };
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int fd = -1;
	assert_int_equal(ssh_destination_connect(&d, &fd, &err), 0);
	assert_true(fd > 2 && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
	close(fd);
	close(l); /* nothing listens there now */
	fd = -1;
	assert_int_equal(ssh_destination_connect(&d, &fd, &err), -ECONNREFUSED);
	assert_int_equal(fd, -1);
	_cleanup_free_ char *want = xasprintf("ssh: connect to host 127.0.0.1 port %u: Connection "
					      "refused", d.port);
	assert_string_equal(err.buf, want);
	/* as the runner's error classifier words it */
	_cleanup_strbuf_ struct strbuf m = STRBUF_INIT;
	assert_int_equal(ssh_describe_failure("h", 255, err.buf, &m), -EHOSTUNREACH);
}

/* The control socket goes under runtime_dir, unless its path would not fit a socket. */
static void test_control_dir_fits_a_socket_path(void **state)
{
	struct fake f;
	fake_setup(&f);
	unsetenv("XDG_RUNTIME_DIR");
	const char *const cmd[] = { "true", NULL };
	_cleanup_free_ char *longdir = xasprintf("%s/%0100d", f.dir, 0);
	const char *const parents[] = { f.dir, longdir };
	const char *const expect[] = { f.dir, "/tmp" };
	for (size_t i = 0; i < ARRAY_SIZE(parents); i++) {
		struct ssh_opts so = { .host = "h", .ssh_program = f.ssh, .runtime_dir = parents[i] };
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
		struct runner *r = ssh_runner_new(&so, &err);
		assert_non_null(r);
		_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
		assert_int_equal(ssh_runner_argv(r, cmd, &argv), 0);
		_cleanup_free_ char *joined = strvec_join(&argv, "|");
		_cleanup_free_ char *want = xasprintf("|-oControlPath=%s/zkeep-ssh-", expect[i]);
		if (!strstr(joined, want))
			fail_msg("runtime_dir %s: %s", parents[i], joined);
		runner_free(r);
	}
	fake_teardown(&f);
}

static void test_elevate_and_serve_argv(void **state)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct ssh_opts so = { .host = "h", .elevate = true, .no_multiplex = true };
	struct runner *r = ssh_runner_new(&so, &err);
	assert_non_null(r);
	const char *const cmd[] = { "zfs", "receive", "-s", "b/x", NULL };
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	assert_int_equal(ssh_runner_argv(r, cmd, &argv), 0);
	assert_string_equal(argv.v[argv.n - 1], "sudo 'zfs' 'receive' '-s' 'b/x'");
	assert_int_equal(strvec_find(&argv, "-oControlMaster=no"), -1);
	runner_free(r);

	struct ssh_opts sv = { .host = "h", .mode = SSH_REMOTE_SERVE, .zkeep_path = "/usr/bin/zkeep",
			       .no_multiplex = true };
	r = ssh_runner_new(&sv, &err);
	assert_non_null(r);
	strvec_release(&argv);
	assert_int_equal(ssh_runner_argv(r, cmd, &argv), 0);
	/* zkeep serve --relay N <ssh argv> <request argv> */
	assert_string_equal(argv.v[0], "/usr/bin/zkeep");
	assert_string_equal(argv.v[1], "serve");
	assert_string_equal(argv.v[2], "--relay");
	unsigned n;
	assert_int_equal(parse_uint_range(argv.v[3], 1, 100, &n), 0);
	assert_string_equal(argv.v[4], "ssh");
	assert_string_equal(argv.v[3 + n], "zkeep serve --stdio");
	assert_string_equal(argv.v[4 + n], "zfs");
	assert_string_equal(argv.v[7 + n], "b/x");
	assert_int_equal(argv.n, 8 + n);
	const char *const *p1[] = { cmd };
	struct child c;
	assert_int_equal(ssh_runner_start_pipeline(r, p1, 1, SPAWN_NULL, SPAWN_NULL, SPAWN_NULL, &c), -ENOTSUP);
	runner_free(r);
}

static void test_bad_options_refused(void **state)
{
	const char *const badopt[] = { "-oProxyCommand=x", NULL };
	struct ssh_opts cases[] = {
		{ .host = "h", .port = "22x" },
		{ .host = "h", .port = "" },
		{ .host = "-oProxyCommand=sh" },
		{ .host = "h", .user = "a b" },
		{ .host = "h", .key = "-F/etc/passwd" },
		{ .host = "h", .options = badopt },
		{ .host = NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
		cases[i].no_multiplex = true;
		assert_null(ssh_runner_new(&cases[i], &err));
		assert_true(err.len > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoting_round_trips_through_sh),
		cmocka_unit_test(test_quoting_rules),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_describe_failure),
		cmocka_unit_test(test_runner_runs_argv_remotely_quoted_once),
		cmocka_unit_test(test_connect_failure_is_named),
		cmocka_unit_test(test_master_over_connected_socket),
		cmocka_unit_test(test_destination_parse),
		cmocka_unit_test(test_destination_connect),
		cmocka_unit_test(test_control_dir_fits_a_socket_path),
		cmocka_unit_test(test_elevate_and_serve_argv),
		cmocka_unit_test(test_bad_options_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
