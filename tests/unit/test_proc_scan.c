#include "unit.h"
#include "base/proc_scan.h"
#include "base/strbuf.h"
#include "base/strvec.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

static char dir[] = "/tmp/zkeep-proc-XXXXXX";

/* A fake /proc: DIR/PID/cmdline holding len bytes of cmdline. */
static void fake(const char *pid, const char *cmdline, size_t len)
{
	_cleanup_free_ char *d = xasprintf("%s/%s", dir, pid);
	_cleanup_free_ char *f = xasprintf("%s/cmdline", d);
	assert_int_equal(mkdir(d, 0755), 0);
	_cleanup_fd_ int fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, cmdline, len), (ssize_t)len);
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	fake("10", "zfs\0receive\0-s\0tank/x\0", 22);
	fake("11", "", 0); /* a kernel thread */
	fake("12", "sleep\0" "60\0", 9);
	_cleanup_free_ char *self = xasprintf("%ld", (long)getpid());
	fake(self, "me\0", 3);
	_cleanup_free_ char *notpid = xasprintf("%s/self", dir);
	return mkdir(notpid, 0755);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct seen {
	struct strvec lines;
	pid_t stop_at;
};

static int collect(const struct proc_entry *p, void *data)
{
	struct seen *s = data;
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	proc_cmdline_argv(p->cmdline, p->len, &argv);
	_cleanup_free_ char *words = strvec_join(&argv, " ");
	strvec_pushf(&s->lines, "%d %d [%s]", (int)p->pid, p->read_error, words);
	return p->pid == s->stop_at ? 100 + (int)p->pid : 0;
}

static void test_every_process_but_self(void **state)
{
	struct seen s = { .lines = STRVEC_INIT, .stop_at = 0 };
	assert_int_equal(proc_scan(dir, collect, &s), 0);
	strvec_sort(&s.lines);
	assert_int_equal(s.lines.n, 3);
	assert_string_equal(s.lines.v[0], "10 0 [zfs receive -s tank/x]");
	assert_string_equal(s.lines.v[1], "11 0 []");
	assert_string_equal(s.lines.v[2], "12 0 [sleep 60]");
	strvec_release(&s.lines);
}

static void test_stops_with_fn_value(void **state)
{
	struct seen s = { .lines = STRVEC_INIT, .stop_at = 10 };
	assert_int_equal(proc_scan(dir, collect, &s), 110);
	strvec_release(&s.lines);
}

static void test_long_cmdline_is_cut(void **state)
{
	size_t n = PROC_CMDLINE_MAX + 10;
	_cleanup_free_ char *big = xcalloc(n, 1);
	memset(big, 'a', n - 1);
	fake("13", big, n);
	struct seen s = { .lines = STRVEC_INIT, .stop_at = 0 };
	assert_int_equal(proc_scan(dir, collect, &s), 0);
	bool found = false;
	for (size_t i = 0; i < s.lines.n; i++)
		if (!strncmp(s.lines.v[i], "13 ", 3)) {
			_cleanup_free_ char *want = xasprintf("13 %d [", -E2BIG);
			assert_true(!strncmp(s.lines.v[i], want, strlen(want)));
			/* the start, cut at the cap */
			assert_int_equal(strlen(s.lines.v[i]), strlen(want) + PROC_CMDLINE_MAX + 1);
			found = true;
		}
	assert_true(found);
	strvec_release(&s.lines);
}

static void test_missing_dir(void **state)
{
	struct seen s = { .lines = STRVEC_INIT, .stop_at = 0 };
	assert_int_equal(proc_scan("/nonexistent-zkeep-proc", collect, &s), -ENOENT);
	assert_int_equal(s.lines.n, 0);
}

static int count(const struct proc_entry *p, void *data)
{
	(*(size_t *)data)++;
	return 0;
}

static void test_real_proc(void **state)
{
	size_t n = 0;
	assert_int_equal(proc_scan("/proc", count, &n), 0);
	assert_true(n >= 1); /* at least init, or our parent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_process_but_self),
		cmocka_unit_test(test_stops_with_fn_value),
		cmocka_unit_test(test_long_cmdline_is_cut),
		cmocka_unit_test(test_missing_dir),
		cmocka_unit_test(test_real_proc),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
