/*
 * test_forked_tasks.c - tasks run in children, never more at once than asked,
 * never before what they wait for; their output reads in task order (stdout
 * and stderr apart, or interleaved exactly when they are one file), and
 * every task is reported once, in order, with its outcome - a child that
 * dies says so - and no task outlives the run that started it.
 */
#include "unit.h"
#include "base/forked_tasks.h"
#include "base/strbuf.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#define NTASKS 7
#define JOBS 3

/* What the children share with the test (a MAP_SHARED page). */
struct shared {
	atomic_int running, most;
	atomic_int ended[NTASKS];
	atomic_int task_pid;
};

struct run {
	struct shared *sh;
	size_t order[NTASKS];
	int outcome[NTASKS];
	uint64_t value[NTASKS];
	size_t reported;
	bool wait_on_zero; /* task 3 may start only after task 0 ended */
};

static void nap_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static bool may_start(void *data, size_t i, const bool *finished)
{
	struct run *r = data;
	return !(r->wait_on_zero && i == 3 && !finished[0]);
}

static int run_task(void *data, size_t i, uint64_t *value)
{
	struct run *r = data;
	int now = atomic_fetch_add(&r->sh->running, 1) + 1;
	for (int most = atomic_load(&r->sh->most); now > most;)
		if (atomic_compare_exchange_weak(&r->sh->most, &most, now))
			break;
	/* the first JOBS tasks wait (10 s at most) until JOBS run at once */
	for (int t = 0; i < JOBS && atomic_load(&r->sh->most) < JOBS && t < 1000; t++)
		nap_ms(10);
	int outcome = (int)i * 2;
	if (r->wait_on_zero && i == 3 && !atomic_load(&r->sh->ended[0]))
		outcome = 99; /* started before what it waits for */
	printf("out %zu a\n", i);
	fprintf(stderr, "err %zu\n", i);
	/* later tasks end first: their output must still wait its turn */
	nap_ms((long)(NTASKS - i) * 15);
	printf("out %zu b\n", i);
	atomic_fetch_sub(&r->sh->running, 1);
	atomic_store(&r->sh->ended[i], 1);
	if (i == 5)
		raise(SIGKILL); /* after its lines: they still count */
	if (i == 6) {
		fflush(stdout);
		_exit(3); /* ends without its answer */
	}
	*value = i * 100;
	return outcome;
}

static void done(void *data, size_t i, int outcome, uint64_t value)
{
	struct run *r = data;
	assert_true(r->reported < NTASKS);
	r->order[r->reported++] = i;
	r->outcome[i] = outcome;
	r->value[i] = value;
}

static char *read_fd(int fd)
{
	char *buf = xcalloc(4096, 1);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_true(read(fd, buf, 4095) >= 0);
	return buf;
}

/* Run the tasks with stdout and stderr in two files, or both in one. */
static void run_all(struct run *r, bool one_file, char **out, char **err)
{
	char o[] = "/tmp/zkeep-ft-out-XXXXXX", e[] = "/tmp/zkeep-ft-err-XXXXXX";
	int fo = mkstemp(o), fe = one_file ? fo : mkstemp(e);
	assert_true(fo >= 0 && fe >= 0);
	unlink(o);
	if (!one_file)
		unlink(e);
	fflush(NULL);
	int save1 = dup(1), save2 = dup(2);
	dup2(fo, 1);
	dup2(fe, 2);
	const struct forked_tasks_ops ops = {
		.may_start = may_start, .run = run_task, .done = done,
	};
	int rc = forked_tasks_run(NTASKS, JOBS, &ops, r);
	fflush(NULL);
	dup2(save1, 1);
	dup2(save2, 2);
	close(save1);
	close(save2);
	assert_int_equal(rc, 0);
	*out = read_fd(fo);
	*err = one_file ? NULL : read_fd(fe);
	close(fo);
	if (!one_file)
		close(fe);
}

static struct shared *shared_new(void)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	return sh;
}

static void check_reports(const struct run *r)
{
	assert_int_equal(r->reported, NTASKS);
	for (size_t i = 0; i < NTASKS; i++)
		assert_int_equal(r->order[i], i);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(r->outcome[i], (int)i * 2);
		assert_int_equal(r->value[i], i * 100);
	}
	assert_int_equal(r->outcome[5], FORKED_TASK_LOST); /* killed */
	assert_int_equal(r->outcome[6], FORKED_TASK_LOST); /* no answer */
	assert_int_equal(r->value[5], 0);
	assert_int_equal(atomic_load(&r->sh->most), JOBS); /* JOBS at once, never more */
}

static void test_two_files(void **state)
{
	(void)state;
	struct run r = { .sh = shared_new(), .wait_on_zero = true };
	char *out, *err;
	run_all(&r, false, &out, &err);
	assert_string_equal(out, "out 0 a\nout 0 b\nout 1 a\nout 1 b\nout 2 a\nout 2 b\n"
				 "out 3 a\nout 3 b\nout 4 a\nout 4 b\nout 5 a\nout 5 b\n"
				 "out 6 a\nout 6 b\n");
	assert_string_equal(err, "err 0\nerr 1\nerr 2\nerr 3\nerr 4\nerr 5\nerr 6\n");
	check_reports(&r);
	assert_int_equal(r.outcome[3], 6); /* not 99: it waited for task 0 */
	free(out);
	free(err);
	munmap(r.sh, sizeof(*r.sh));
}

static void test_one_file(void **state)
{
	(void)state;
	struct run r = { .sh = shared_new() };
	char *out, *err;
	run_all(&r, true, &out, &err);
	struct strbuf want = STRBUF_INIT;
	for (size_t i = 0; i < NTASKS; i++)
		strbuf_addf(&want, "out %zu a\nerr %zu\nout %zu b\n", i, i, i);
	assert_string_equal(out, want.buf);
	check_reports(&r);
	strbuf_release(&want);
	free(out);
	munmap(r.sh, sizeof(*r.sh));
}

/* A dependency that nothing running can free still lets the run finish. */
static bool never(void *data, size_t i, const bool *finished)
{
	(void)data, (void)i, (void)finished;
	return false;
}

static int quick(void *data, size_t i, uint64_t *value)
{
	(void)data;
	*value = i;
	return 1;
}

static void count_done(void *data, size_t i, int outcome, uint64_t value)
{
	size_t *n = data;
	assert_int_equal(i, *n);
	assert_int_equal(outcome, 1);
	assert_int_equal(value, i);
	(*n)++;
}

static void test_never_ready(void **state)
{
	(void)state;
	size_t n = 0;
	const struct forked_tasks_ops ops = { .may_start = never, .run = quick, .done = count_done };
	assert_int_equal(forked_tasks_run(4, 2, &ops, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(forked_tasks_run(0, 2, &ops, &n), 0);
}

/* A task that outlives nothing: it says who it is, then would sleep 30 s. */
static int sleeper(void *data, size_t i, uint64_t *value)
{
	struct shared *sh = data;
	(void)i, (void)value;
	atomic_store(&sh->task_pid, (int)getpid());
	for (int t = 0; t < 3000; t++)
		nap_ms(10);
	return 0;
}

static void ignore_done(void *data, size_t i, int outcome, uint64_t value)
{
	(void)data, (void)i, (void)outcome, (void)value;
}

/* The run is killed: its task goes with it (and does not finish its work alone). */
static void test_dies_with_run(void **state)
{
	(void)state;
	struct shared *sh = shared_new();
	/* orphans come to us, so that we can see how the task ended */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	fflush(NULL);
	pid_t run = fork();
	assert_true(run >= 0);
	if (run == 0) {
		const struct forked_tasks_ops ops = { .run = sleeper, .done = ignore_done };
		forked_tasks_run(1, 1, &ops, sh);
		_exit(0);
	}
	for (int t = 0; t < 1000 && !atomic_load(&sh->task_pid); t++)
		nap_ms(10);
	pid_t task = (pid_t)atomic_load(&sh->task_pid);
	assert_true(task > 0);
	int status;
	assert_int_equal(kill(run, SIGKILL), 0);
	assert_int_equal(waitpid(run, &status, 0), run);
	assert_int_equal(waitpid(task, &status, 0), task);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0), 0);
	munmap(sh, sizeof(*sh));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_files),
		cmocka_unit_test(test_one_file),
		cmocka_unit_test(test_never_ready),
		cmocka_unit_test(test_dies_with_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
