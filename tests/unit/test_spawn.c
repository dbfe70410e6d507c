#include "unit.h"
#include "base/spawn.h"

#include <fcntl.h>
#include <sys/wait.h>

static int run(const char *const *argv, const char *input, struct strbuf *out,
	       struct strbuf *err, int *code)
{
	struct spawn_req req = { .argv = argv };
	return spawn_run(&req, input, input ? strlen(input) : 0, out, err, code);
}

static void test_captures_stdout_stderr_and_status(void **state)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int code = -1;
	const char *const argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	assert_int_equal(run(argv, NULL, &out, &err, &code), 0);
	assert_string_equal(out.buf, "out\n");
	assert_string_equal(err.buf, "err\n");
	assert_int_equal(code, 3);
}

static void test_argv_is_never_a_shell(void **state)
{
	/* A name with shell metacharacters reaches the program as one word. */
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	int code;
	char marker[] = "/tmp/zkeep-pwned-XXXXXX";
	int fd = mkstemp(marker);
	assert_true(fd >= 0);
	close(fd);
	unlink(marker);
	char *evil = xasprintf("pool/a b;$(touch %s)`touch %s`", marker, marker);
	const char *const argv[] = { "printf", "%s", evil, NULL };
	assert_int_equal(run(argv, NULL, &out, NULL, &code), 0);
	assert_int_equal(code, 0);
	assert_string_equal(out.buf, evil);
	assert_int_equal(access(marker, F_OK), -1);
	free(evil);
}

static void test_input_is_fed(void **state)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	int code;
	const char *const argv[] = { "cat", NULL };
	/* Larger than a pipe buffer, to exercise the poll loop. */
	struct strbuf in = STRBUF_INIT;
	for (int i = 0; i < 20000; i++)
		strbuf_addstr(&in, "0123456789");
	assert_int_equal(run(argv, in.buf, &out, NULL, &code), 0);
	assert_int_equal(out.len, in.len);
	assert_memory_equal(out.buf, in.buf, in.len);
	strbuf_release(&in);
}

static void test_exec_failure_is_reported(void **state)
{
	int code = -1;
	const char *const argv[] = { "zkeep-no-such-program", NULL };
	assert_int_equal(run(argv, NULL, NULL, NULL, &code), -ENOENT);
	const char *const argv2[] = { "/nonexistent/bin/zfs", NULL };
	assert_int_equal(run(argv2, NULL, NULL, NULL, &code), -ENOENT);
	char plain[] = "/tmp/zkeep-noexec-XXXXXX"; /* a file without x bits */
	int fd = mkstemp(plain);
	assert_true(fd >= 0);
	close(fd);
	const char *const argv3[] = { plain, NULL };
	assert_int_equal(run(argv3, NULL, NULL, NULL, &code), -EACCES);
	unlink(plain);
}

static void test_environment_is_explicit(void **state)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	int code;
	setenv("ZKEEP_SECRET_TEST", "leak", 1);
	const char *const env[] = { "PATH=/usr/bin:/bin", "ONLY=this", NULL };
	const char *const argv[] = { "env", NULL };
	struct spawn_req req = { .argv = argv, .env = env };
	assert_int_equal(spawn_run(&req, NULL, 0, &out, NULL, &code), 0);
	assert_string_equal(out.buf, "PATH=/usr/bin:/bin\nONLY=this\n");
	unsetenv("ZKEEP_SECRET_TEST");

	strbuf_reset(&out);
	const char *const argv2[] = { "sh", "-c", "echo $LC_ALL", NULL };
	struct spawn_req req2 = { .argv = argv2 };
	assert_int_equal(spawn_run(&req2, NULL, 0, &out, NULL, &code), 0);
	assert_string_equal(out.buf, "C\n");
}

static void test_descriptors_are_closed(void **state)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	int code;
	int fd = open("/dev/null", O_RDONLY); /* deliberately not O_CLOEXEC */
	assert_true(fd >= 3);
	const char *const argv[] = { "ls", "/proc/self/fd", NULL };
	assert_int_equal(run(argv, NULL, &out, NULL, &code), 0);
	/* ls itself opens one directory fd (3); nothing of ours beyond. */
	char *ours = xasprintf("\n%d\n", fd);
	if (fd != 3)
		assert_null(strstr(out.buf, ours));
	free(ours);
	assert_string_equal(strstr(out.buf, "2\n") ? "ok" : out.buf, "ok");
	close(fd);
}

static void test_output_cap_kills_child(void **state)
{
	struct strbuf out;
	int code;
	strbuf_init(&out, 1000);
	const char *const argv[] = { "yes", NULL };
	assert_int_equal(run(argv, NULL, &out, NULL, &code), -E2BIG);
	assert_true(out.len <= 1000);
	strbuf_release(&out);
}

static void test_signal_status(void **state)
{
	int code;
	const char *const argv[] = { "sh", "-c", "kill -9 $$", NULL };
	assert_int_equal(run(argv, NULL, NULL, NULL, &code), 0);
	assert_int_equal(code, 128 + 9);
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	spawn_describe_status(&sb, 9); /* raw wait status for SIGKILL */
	assert_non_null(strstr(sb.buf, "signal 9"));
}

static void test_start_with_pipes(void **state)
{
	const char *const argv[] = { "tr", "a-z", "A-Z", NULL };
	struct spawn_req req = { .argv = argv, .in = SPAWN_PIPE, .out = SPAWN_PIPE, .err = SPAWN_NULL };
	struct child c;
	assert_int_equal(spawn_start(&req, &c), 0);
	assert_int_equal(write(c.in, "tank/home\n", 10), 10);
	close(c.in);
	c.in = -1;
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	assert_int_equal(strbuf_read_fd(&out, c.out), 0);
	int st;
	assert_int_equal(spawn_wait(&c, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(out.buf, "TANK/HOME\n");
}

/* A forked child that does not exec keeps exactly the descriptors it names. */
static void test_close_fds_except(void **state)
{
	int fds[6];
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		assert_true((fds[i] = open("/dev/null", O_RDONLY)) >= 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const int keep[] = { fds[4], fds[1] }, more[] = { fds[1], -1 };
		spawn_close_fds_except(keep, ARRAY_SIZE(keep), more, ARRAY_SIZE(more));
		int bits = 0;
		for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
			if (fcntl(fds[i], F_GETFD) >= 0)
				bits |= 1 << i;
		/* 0..2 are never closed */
		_exit(fcntl(2, F_GETFD) >= 0 ? bits : 255);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), (1 << 1) | (1 << 4));
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captures_stdout_stderr_and_status),
		cmocka_unit_test(test_argv_is_never_a_shell),
		cmocka_unit_test(test_input_is_fed),
		cmocka_unit_test(test_exec_failure_is_reported),
		cmocka_unit_test(test_environment_is_explicit),
		cmocka_unit_test(test_descriptors_are_closed),
		cmocka_unit_test(test_output_cap_kills_child),
		cmocka_unit_test(test_signal_status),
		cmocka_unit_test(test_start_with_pipes),
		cmocka_unit_test(test_close_fds_except),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
