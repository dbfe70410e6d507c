/*
 * The sandbox on the host kernel: ELF closures of real programs, and the
 * confinement applied in a forked worker, which then tries what it must not
 * do. Every check first shows the operation works unconfined, so that a
 * denial is the sandbox's doing and the test can fail.
 */
#include "unit.h"
#include "confine/sandbox.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static bool has(const struct strvec *sv, const char *s)
{
	return strvec_find(sv, s) >= 0;
}

static bool has_suffix(const struct strvec *sv, const char *suffix)
{
	for (size_t i = 0; i < sv->n; i++)
		if (ends_with(sv->v[i], suffix))
			return true;
	return false;
}

static void test_closure_of_zfs_and_ssh(void **state)
{
	_cleanup_sandbox_plan_ struct sandbox_plan p = SANDBOX_PLAN_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	const char *const progs[] = { "/usr/sbin/zfs", "ssh", NULL };
	struct sandbox_config cfg = { .programs = progs };
	if (access("/usr/sbin/zfs", X_OK) != 0 || access("/usr/bin/ssh", X_OK) != 0)
		skip();
	int r = sandbox_plan_build(&cfg, &p, &err);
	if (r < 0)
		fail_msg("plan: %s", err.buf);
	assert_true(has(&p.files, "/usr/sbin/zfs"));
	assert_true(has(&p.files, "/usr/bin/ssh"));
	/* Real paths, not the symlinked /lib ones. */
	assert_true(has_suffix(&p.files, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
	assert_true(has_suffix(&p.files, "/libzfs_core.so.3.0.0") ||
		    has_suffix(&p.files, "/libzfs_core.so.3"));
	assert_true(has_suffix(&p.files, "/libcrypto.so.3"));  /* ssh and zfs */
	assert_true(has_suffix(&p.files, "/libkeyutils.so.1.10") ||
		    has_suffix(&p.files, "/libkeyutils.so.1.9") ||
		    has_suffix(&p.files, "/libkeyutils.so.1")); /* indirect: via krb5 */
	assert_true(has(&p.files, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"));
	/* glibc's dlopen for pthread_cancel. */
	assert_true(has_suffix(&p.files, "/libgcc_s.so.1"));
	/* PT_INTERP's way: /lib64 -> usr/lib64, and the loader link in it. */
	ssize_t i = strvec_find(&p.link_paths, "/lib64");
	assert_true(i >= 0);
	assert_string_equal(p.link_targets.v[i], "usr/lib64");
	assert_true(has(&p.link_paths, "/lib"));
	for (size_t j = 0; j < p.files.n; j++) {
		struct stat st;
		assert_int_equal(lstat(p.files.v[j], &st), 0);
		assert_false(S_ISLNK(st.st_mode));
	}
	/* Nothing unrelated. */
	assert_false(has_suffix(&p.files, "/bash"));
}

static void test_closure_of_env_script(void **state)
{
	char path[] = "/tmp/zkeep-script-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "#!/usr/bin/env bash\necho hi\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	_cleanup_sandbox_plan_ struct sandbox_plan p = SANDBOX_PLAN_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	const char *const progs[] = { path, NULL };
	struct sandbox_config cfg = { .programs = progs };
	int r = sandbox_plan_build(&cfg, &p, &err);
	unlink(path);
	if (r < 0)
		fail_msg("plan: %s", err.buf);
	assert_true(has(&p.files, "/usr/bin/env"));
	assert_true(has_suffix(&p.files, "/bin/bash"));
	assert_true(has_suffix(&p.files, "/libtinfo.so.6.4") || has_suffix(&p.files, "/libtinfo.so.6"));
}

static void test_missing_program_is_an_error(void **state)
{
	_cleanup_sandbox_plan_ struct sandbox_plan p = SANDBOX_PLAN_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	const char *const progs[] = { "no-such-program-zkeep", NULL };
	struct sandbox_config cfg = { .programs = progs };
	assert_int_equal(sandbox_plan_build(&cfg, &p, &err), -ENOENT);
	assert_non_null(strstr(err.buf, "no-such-program-zkeep"));
}

/* ---- confinement ------------------------------------------------------------ */

struct probe {
	const char *state_dir;
	const char *outside;    /* a writable directory outside the state dir */
	bool privileged;
	bool host_localtime;    /* the host has /etc/localtime */
	int landlock_abi;
};

/* connect() to 127.0.0.1:port: 0 or errno. */
static int tcp_connect(unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int r = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? errno : 0;
	close(fd);
	return r;
}

#define CHECK(n, cond) do { if (!(cond)) { \
	fprintf(stderr, "check %d failed: %s (errno %d %s)\n", n, #cond, errno, strerror(errno)); \
	return n; } } while (0)

static int run_prog(const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *const argv[] = { (char *)path, NULL };
		char *const env[] = { NULL };
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 1);
		execve(path, argv, env);
		_exit(errno == EACCES ? 100 : errno == ENOENT ? 101 : 102);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

static int probe_fn(void *data)
{
	const struct probe *pr = data;
	int fd;

	/* 1: /root cannot be opened. */
	errno = 0;
	fd = open("/root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(1, fd < 0 && (pr->privileged ? errno == ENOENT : errno == EACCES));

	/* 2: cannot create a file outside the state directory. */
	_cleanup_free_ char *out = xasprintf("%s/escaped", pr->outside);
	errno = 0;
	fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(2, fd < 0 && (errno == EACCES || errno == ENOENT || errno == EROFS));

	/* 3: can inside it. */
	_cleanup_free_ char *in = xasprintf("%s/ok", pr->state_dir);
	fd = open(in, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(3, fd >= 0 && write(fd, "x", 1) == 1);
	close(fd);

	/* 4: no user namespace, by unshare or by clone. */
	errno = 0;
	CHECK(4, unshare(CLONE_NEWUSER) < 0 && errno == EPERM);
	errno = 0;
	CHECK(5, syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0) < 0 &&
		 errno == EPERM);
	errno = 0;
	CHECK(6, syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS);

	/* 7: a program of the closure runs; 8: one outside it does not. */
	CHECK(7, run_prog("/usr/bin/true") == 0);
	int r = run_prog("/usr/bin/id");
	CHECK(8, r == 100 || r == 101);

	/* 19: TCP only to the configured port (Landlock ABI 4+). */
	if (pr->landlock_abi >= 4) {
		CHECK(19, tcp_connect(9) == EACCES);
		CHECK(20, tcp_connect(2222) == ECONNREFUSED); /* allowed: nobody listens */
	}

	/* 9: no privilege: setuid(0) fails, no capabilities. */
	errno = 0;
	CHECK(9, setuid(0) < 0);
	errno = 0;
	CHECK(10, mount("none", "/tmp", "tmpfs", 0, NULL) < 0 && errno == EPERM);
	if (pr->privileged) {
		CHECK(11, getuid() == 61234 && getgid() == 61234 && getpid() == 1);
		cap_t now = cap_get_proc(), none = cap_init();
		CHECK(12, cap_compare(now, none) == 0);
		/* 13: the root is read-only; /tmp is private and writable. */
		errno = 0;
		CHECK(13, mkdir("/newdir", 0755) < 0 && (errno == EROFS || errno == EACCES));
		fd = open("/tmp/x", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		CHECK(14, fd >= 0);
		close(fd);
		/* 15: its own passwd entry, and nothing of the host's. */
		_cleanup_strbuf_ struct strbuf pw = STRBUF_INIT;
		CHECK(15, strbuf_read_file(&pw, "/etc/passwd") == 0 &&
			  strstr(pw.buf, "zkeep-test:x:61234:61234:") && !strstr(pw.buf, "daemon"));
		CHECK(16, access("/home", F_OK) < 0 && access("/usr/bin/id", F_OK) < 0);
		CHECK(17, access("/dev/null", W_OK) == 0 && access("/dev/sda", F_OK) < 0);
		/* 18: local time as on the host (snapshot names use it). */
		CHECK(18, !pr->host_localtime || access("/etc/localtime", R_OK) == 0);
	}
	return 0;
}

static void run_probe(bool privileged)
{
	char state_dir[] = "/tmp/zkeep-state-XXXXXX", outside[] = "/tmp/zkeep-out-XXXXXX";
	assert_non_null(mkdtemp(state_dir));
	assert_non_null(mkdtemp(outside));
	if (privileged) {
		assert_int_equal(chown(state_dir, 61234, 61234), 0);
		/* Unconfined, 61234 could write into this one: the sandbox must stop it. */
		assert_int_equal(chmod(outside, 0777), 0);
	}
	/* Unconfined, all of it works (root): so a denial is the sandbox's doing. */
	int fd = open("/root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(run_prog("/usr/bin/id"), 0);

	const char *const progs[] = { "/usr/bin/true", NULL };
	const unsigned ports[] = { 2222 };
	struct sandbox_config cfg = { .privileged = privileged, .uid = 61234, .gid = 61234,
		.user = "zkeep-test", .state_dir = state_dir, .programs = progs,
		.root_dir = "/run/zkeep-test-root", .tcp_ports = ports, .n_tcp_ports = 1 };
	_cleanup_sandbox_plan_ struct sandbox_plan p = SANDBOX_PLAN_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	if (sandbox_plan_build(&cfg, &p, &err) < 0)
		fail_msg("plan: %s", err.buf);
	if (p.landlock_abi <= 0 && !privileged)
		skip(); /* nothing to test on a kernel without Landlock */

	struct probe pr = { .state_dir = state_dir, .outside = outside, .privileged = privileged,
			    .host_localtime = access("/etc/localtime", R_OK) == 0,
			    .landlock_abi = p.landlock_abi };
	/* Unconfined, port 9 is reachable as far as the kernel's rules go. */
	assert_int_not_equal(tcp_connect(9), EACCES);
	struct sandbox_worker w = SANDBOX_WORKER_INIT;
	if (sandbox_worker_start(&p, probe_fn, &pr, NULL, 0, NULL, &w, &err) < 0)
		fail_msg("worker: %s", err.buf);
	int st;
	assert_int_equal(sandbox_worker_wait(&w, NULL, -1, &st), 0);
	assert_int_equal(st, 0);

	_cleanup_free_ char *escaped = xasprintf("%s/escaped", outside);
	assert_int_equal(access(escaped, F_OK), -1);
	_cleanup_free_ char *ok = xasprintf("%s/ok", state_dir);
	assert_int_equal(access(ok, F_OK), 0);
	unlink(ok);
	rmdir(state_dir);
	rmdir(outside);
}

static void test_unprivileged_worker_is_confined(void **state)
{
	run_probe(false);
}

static void test_privileged_worker_is_confined(void **state)
{
	if (geteuid() != 0)
		skip();
	run_probe(true);
}

static void test_setup_failure_is_reported(void **state)
{
	const char *const progs[] = { "/usr/bin/true", NULL };
	struct sandbox_config cfg = { .privileged = true, .uid = 61234, .gid = 61234,
		.programs = progs, .root_dir = "/proc/version/x" };
	_cleanup_sandbox_plan_ struct sandbox_plan p = SANDBOX_PLAN_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	if (geteuid() != 0)
		skip();
	assert_int_equal(sandbox_plan_build(&cfg, &p, &err), 0);
	struct sandbox_worker w = SANDBOX_WORKER_INIT;
	int r = sandbox_worker_start(&p, probe_fn, NULL, NULL, 0, NULL, &w, &err);
	assert_true(r < 0);
	assert_non_null(strstr(err.buf, "/proc/version"));
}

static void test_describe(void **state)
{
	const char *const progs[] = { "/usr/bin/true", NULL };
	const unsigned ports[] = { 22 };
	struct sandbox_config cfg = { .privileged = true, .uid = 61234, .gid = 61234,
		.programs = progs, .state_dir = "/tmp", .tcp_ports = ports, .n_tcp_ports = 1 };
	_cleanup_sandbox_plan_ struct sandbox_plan p = SANDBOX_PLAN_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	assert_int_equal(sandbox_plan_build(&cfg, &p, &err), 0);
	sandbox_describe(&p, &out);
	assert_non_null(strstr(out.buf, "bind ro   /usr/bin/true"));
	assert_non_null(strstr(out.buf, "zkeep:x:61234:61234:"));
	assert_non_null(strstr(out.buf, " ioctl "));
	assert_null(strstr(out.buf, " setuid "));
	assert_null(strstr(out.buf, " mount "));
	if (p.landlock_abi >= 5 && access("/dev/zfs", F_OK) == 0)
		assert_non_null(strstr(out.buf, "/dev/zfs: write_file,read_file,ioctl_dev"));
	if (p.landlock_abi >= 4)
		assert_non_null(strstr(out.buf, "tcp connect: 22;"));
}

/* passwd and group services, in order, once each; actions and comments are not services. */
static void test_nss_services(void **state)
{
	static const char text[] =
		"# /etc/nsswitch.conf\n"
		"passwd:         files systemd\n"
		"group:\tfiles [SUCCESS=merge] systemd # dynamic users\n"
		"shadow:         files\n"
		"hosts:          files mymachines dns\n"
		"passwdx: evil\n"
		"  passwd: ldap\n";
	_cleanup_strvec_ struct strvec sv = STRVEC_INIT;
	sandbox_nss_services(text, &sv);
	_cleanup_free_ char *joined = strvec_join(&sv, ",");
	assert_string_equal(joined, "files,systemd,ldap");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closure_of_zfs_and_ssh),
		cmocka_unit_test(test_closure_of_env_script),
		cmocka_unit_test(test_missing_program_is_an_error),
		cmocka_unit_test(test_unprivileged_worker_is_confined),
		cmocka_unit_test(test_privileged_worker_is_confined),
		cmocka_unit_test(test_setup_failure_is_reported),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_nss_services),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
