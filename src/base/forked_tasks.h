/*
 * base/forked_tasks.h - run tasks in forked children, several at once, with
 * their output in task order.
 *
 * Each task runs in a child process of its own, at most `jobs` at a time.
 * A child's stdout and stderr are pipes to the parent, which passes them on
 * to its own stdout and stderr in task order: the output of the oldest task
 * not yet done goes out as it comes, the others' is kept until every task
 * before them is done. What a reader sees is therefore what the same tasks
 * run one after the other would print (when stdout and stderr are the same
 * file, a child gets one pipe for both, so their lines keep their order).
 *
 * The parent must have no other threads running (it forks). A child ends
 * with _exit(): it runs no atexit handler and no cleanup of the parent's
 * frames, so nothing the parent owns (a control socket, a lock) is undone
 * by a child.
 */
#ifndef ZKEEP_BASE_FORKED_TASKS_H
#define ZKEEP_BASE_FORKED_TASKS_H

#include "base/zkeep.h"

/* The outcome of a task whose child ended without reporting one (killed, or
 * it could not be started: fork or pipe failed). */
#define FORKED_TASK_LOST (-1)

struct forked_tasks_ops {
	/*
	 * In the parent: whether task i may start now; finished[j] says whether
	 * task j (any j < n) has ended. When no task runs, the first task not
	 * started starts whatever this says (nothing else could free it).
	 * NULL: any task may start at any time.
	 */
	bool (*may_start)(void *data, size_t i, const bool *finished);
	/* In the child: run task i; its outcome (>= 0), and a count to pass back in *value. */
	int (*run)(void *data, size_t i, uint64_t *value);
	/* In the parent, in task order, once task i's output is all passed on:
	 * its outcome (or FORKED_TASK_LOST, value 0). */
	void (*done)(void *data, size_t i, int outcome, uint64_t value);
};

/*
 * Run tasks 0 .. n-1 with at most jobs (>= 1) at once. Returns once every
 * task's done() was called: 0, or -errno when the parent could not wait for
 * its children (they are killed then, and the tasks not yet reported are
 * reported LOST).
 */
int forked_tasks_run(size_t n, size_t jobs, const struct forked_tasks_ops *ops, void *data);

#endif
