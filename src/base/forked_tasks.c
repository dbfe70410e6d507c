/* base/forked_tasks.c - see forked_tasks.h. */
#include "base/zkeep.h"
#include "base/forked_tasks.h"
#include "base/strbuf.h"
#include "base/term.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* The child's answer on its result pipe. */
struct task_answer {
	int32_t outcome;
	uint64_t value;
} __attribute__((packed));

enum { PIPE_OUT, PIPE_ERR, PIPE_RESULT, NPIPES };

struct task {
	pid_t pid;           /* 0: not running */
	int fd[NPIPES];      /* the parent's read ends, -1 once at EOF or unused */
	struct strbuf kept[2]; /* stdout, stderr not passed on yet */
	char answer[sizeof(struct task_answer)];
	size_t answer_len;
	bool started; /* ended: finished[] of struct tasks */
	int outcome;
	uint64_t value;
};

struct tasks {
	struct task *t;
	size_t n, jobs, running, next_report;
	bool *finished;
	bool merged; /* stdout and stderr are the same file: one pipe for both */
	/* read_some()'s poll set: jobs * NPIPES entries, whose task and pipe */
	struct pollfd *pfd;
	size_t *owner;
	int *which;
	const struct forked_tasks_ops *ops;
	void *data;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static _Noreturn void child_main(struct tasks *ts, size_t i, const int w[NPIPES], pid_t parent)
{
	/* a task never goes on without the run that started it (killed, say, by its supervisor) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		_exit(127);
	/* the siblings' read ends are not this child's */
	for (size_t j = 0; j < ts->n; j++)
		for (int k = 0; k < NPIPES; k++)
			close_fd(&ts->t[j].fd[k]);
	if (dup2(w[PIPE_OUT], STDOUT_FILENO) < 0 ||
	    dup2(w[ts->merged ? PIPE_OUT : PIPE_ERR], STDERR_FILENO) < 0)
		_exit(127);
	/* line by line, so that merged stdout and stderr keep their order (glibc takes a
	 * new mode on a stream already used: the parent flushed it before the fork) */
	setvbuf(stdout, NULL, _IOLBF, 0);
	uint64_t value = 0;
	struct task_answer a = { .outcome = ts->ops->run(ts->data, i, &value) };
	a.value = value;
	fflush(stdout);
	fflush(stderr);
	(void)fd_write_all(w[PIPE_RESULT], (const char *)&a, sizeof(a));
	_exit(0);
}

static int start(struct tasks *ts, size_t i)
{
	struct task *t = &ts->t[i];
	int p[NPIPES][2];
	int made = 0, r = 0;
	t->started = true;
	for (; made < NPIPES; made++) {
		if (made == PIPE_ERR && ts->merged) {
			p[made][0] = p[made][1] = -1;
			continue;
		}
		if (pipe2(p[made], O_CLOEXEC) < 0) {
			r = -errno;
			break;
		}
	}
	if (r == 0) {
		fflush(NULL); /* nothing of the parent's buffers goes out twice */
		pid_t parent = getpid();
		pid_t pid = fork();
		if (pid == 0) {
			int w[NPIPES];
			for (int k = 0; k < NPIPES; k++) {
				w[k] = p[k][1];
				if (p[k][0] >= 0)
					close(p[k][0]);
			}
			child_main(ts, i, w, parent);
		}
		if (pid < 0)
			r = -errno;
		else
			t->pid = pid;
	}
	for (int k = 0; k < made; k++) {
		if (p[k][1] >= 0)
			close(p[k][1]);
		if (r < 0 && p[k][0] >= 0)
			close(p[k][0]);
		t->fd[k] = r < 0 ? -1 : p[k][0];
	}
	if (r < 0) {
		t->outcome = FORKED_TASK_LOST;
		ts->finished[i] = true;
		return r;
	}
	ts->running++;
	return 0;
}

/* The oldest task not yet reported: what it prints goes out at once. */
static bool is_head(const struct tasks *ts, const struct task *t)
{
	return ts->next_report < ts->n && &ts->t[ts->next_report] == t;
}

static void pass_on(struct tasks *ts, struct task *t, int k, const char *buf, size_t len)
{
	if (k == PIPE_RESULT) {
		size_t room = sizeof(t->answer) - t->answer_len;
		len = len < room ? len : room;
		memcpy(t->answer + t->answer_len, buf, len);
		t->answer_len += len;
	} else if (is_head(ts, t)) {
		(void)fd_write_all(k == PIPE_OUT ? STDOUT_FILENO : STDERR_FILENO, buf, len);
	} else {
		strbuf_add(&t->kept[k], buf, len);
	}
}

/* After its pipes closed: reap the child and take its answer. */
static void reap(struct tasks *ts, size_t i)
{
	struct task *t = &ts->t[i];
	int status = 0;
	while (waitpid(t->pid, &status, 0) < 0 && errno == EINTR)
		;
	t->pid = 0;
	ts->running--;
	ts->finished[i] = true;
	struct task_answer a;
	if (t->answer_len == sizeof(a) && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		memcpy(&a, t->answer, sizeof(a));
		t->outcome = a.outcome < 0 ? FORKED_TASK_LOST : a.outcome;
		t->value = a.value;
	} else {
		t->outcome = FORKED_TASK_LOST;
	}
}

/* Report, in order, every ended task whose turn it is; the new head's kept output goes out. */
static void report_ready(struct tasks *ts)
{
	while (ts->next_report < ts->n) {
		struct task *t = &ts->t[ts->next_report];
		for (int k = 0; k < 2; k++) {
			(void)fd_write_all(k == 0 ? STDOUT_FILENO : STDERR_FILENO, t->kept[k].buf,
				  t->kept[k].len);
			strbuf_release(&t->kept[k]); /* its memory goes too, not only its text */
		}
		if (!ts->finished[ts->next_report])
			return;
		ts->ops->done(ts->data, ts->next_report, t->outcome, t->outcome < 0 ? 0 : t->value);
		ts->next_report++;
	}
}

/* How far past the oldest unreported task a task may start: what the others
 * print waits in memory until its turn. */
#define LOOKAHEAD 256

static void start_what_may(struct tasks *ts)
{
	bool seen_waiting = false;
	size_t end = ts->next_report + LOOKAHEAD < ts->n ? ts->next_report + LOOKAHEAD : ts->n;
	for (size_t i = ts->next_report; i < end && ts->running < ts->jobs; i++) {
		if (ts->t[i].started)
			continue;
		/* the first waiting task starts when nothing runs: nothing else could free it */
		bool force = !seen_waiting && ts->running == 0;
		seen_waiting = true;
		if (force || !ts->ops->may_start || ts->ops->may_start(ts->data, i, ts->finished))
			start(ts, i);
	}
}

/* One poll over every running task's pipes; reads what is there. */
static int read_some(struct tasks *ts)
{
	size_t cap = ts->jobs * NPIPES, np = 0;
	struct pollfd *pfd = ts->pfd;
	size_t *owner = ts->owner;
	int *which = ts->which;
	for (size_t i = 0; i < ts->n && np < cap; i++)
		for (int k = 0; k < NPIPES && ts->t[i].pid; k++)
			if (ts->t[i].fd[k] >= 0) {
				pfd[np] = (struct pollfd){ .fd = ts->t[i].fd[k], .events = POLLIN };
				owner[np] = i;
				which[np++] = k;
			}
	int r = 0;
	if (np && poll(pfd, np, -1) < 0 && errno != EINTR)
		r = -errno;
	for (size_t p = 0; r == 0 && p < np; p++) {
		if (!pfd[p].revents)
			continue;
		struct task *t = &ts->t[owner[p]];
		char buf[65536];
		ssize_t got = read(pfd[p].fd, buf, sizeof(buf));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			close_fd(&t->fd[which[p]]);
		else
			pass_on(ts, t, which[p], buf, (size_t)got);
	}
	/* a task whose pipes all closed has ended */
	for (size_t i = 0; i < ts->n; i++) {
		struct task *t = &ts->t[i];
		if (t->pid && t->fd[PIPE_OUT] < 0 && t->fd[PIPE_ERR] < 0 && t->fd[PIPE_RESULT] < 0)
			reap(ts, i);
	}
	return r;
}

/* When the parent cannot go on: its children go, and the rest is reported lost. */
static void abandon(struct tasks *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		struct task *t = &ts->t[i];
		if (t->pid) {
			kill(t->pid, SIGKILL);
			for (int k = 0; k < NPIPES; k++)
				close_fd(&t->fd[k]);
			t->answer_len = 0;
			reap(ts, i);
		}
		if (!ts->finished[i]) {
			t->started = ts->finished[i] = true;
			t->outcome = FORKED_TASK_LOST;
		}
	}
	report_ready(ts);
}

int forked_tasks_run(size_t n, size_t jobs, const struct forked_tasks_ops *ops, void *data)
{
	struct tasks ts = {
		.t = xcalloc(n ? n : 1, sizeof(struct task)),
		.n = n, .jobs = jobs ? jobs : 1, .ops = ops, .data = data,
		.finished = xcalloc(n ? n : 1, sizeof(bool)),
		.merged = term_stdout_is_stderr(),
	};
	ts.pfd = xcalloc(ts.jobs * NPIPES, sizeof(*ts.pfd));
	ts.owner = xcalloc(ts.jobs * NPIPES, sizeof(*ts.owner));
	ts.which = xcalloc(ts.jobs * NPIPES, sizeof(*ts.which));
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < NPIPES; k++)
			ts.t[i].fd[k] = -1;
		strbuf_init(&ts.t[i].kept[0], 0);
		strbuf_init(&ts.t[i].kept[1], 0);
	}
	while (ts.next_report < n) {
		start_what_may(&ts);
		report_ready(&ts);
		if (ts.next_report >= n)
			break;
		if (ts.running == 0)
			continue; /* what could not start was reported lost: go on */
		/* read until a task ends: only then may another start */
		for (size_t was = ts.running; r == 0 && ts.running == was;)
			r = read_some(&ts);
		if (r < 0) {
			abandon(&ts);
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		strbuf_release(&ts.t[i].kept[0]);
		strbuf_release(&ts.t[i].kept[1]);
	}
	free(ts.t);
	free(ts.finished);
	free(ts.pfd);
	free(ts.owner);
	free(ts.which);
	return r;
}
