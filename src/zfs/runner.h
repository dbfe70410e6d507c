/*
 * zfs/runner.h - where a command runs: on this host, or on another one.
 *
 * The ZFS backend (zfs.h) never spawns programs itself; it hands an argv
 * vector ("zfs", "list", ...) to a runner. The local runner spawns it
 * directly (spawn.h). A remote runner (ssh, see the replication code) runs
 * the same argv on another host, quoting each word exactly once for the
 * remote shell, so a dataset name never becomes shell syntax.
 *
 * A runner is owned by whoever created it; runner_free() accepts NULL.
 */
#ifndef ZKEEP_RUNNER_H
#define ZKEEP_RUNNER_H

#include "base/spawn.h"

struct runner;

struct runner_ops {
	/*
	 * Start argv with the given stdio (SPAWN_* constants or fds, as in
	 * spawn.h). 0 or -errno; -ENOENT when the program does not exist.
	 */
	int (*start)(struct runner *r, const char *const *argv, int in, int out, int err,
		     struct child *c);
	void (*free)(struct runner *r);
};

struct runner {
	const struct runner_ops *ops;
	char *label;       /* "local", or "[user@]host" for messages */
	unsigned spawned;  /* number of processes started (benchmarks, --debug) */
	/* Told each argv runner_start() is about to start, or NULL: the command
	 * layer shows zkeep's own commands with --debug. */
	void (*trace)(const struct runner *r, const char *const *argv, void *data);
	void *trace_data;
};

/* A runner for this host: the default environment of spawn.h. */
struct runner *runner_local_new(void);
/* Whether r runs on this host (made by runner_local_new()). */
bool runner_is_local(const struct runner *r);
/*
 * A confined worker's local runner: every `zfs receive` it starts (but
 * -A) goes to root on channel (zfs/root_receive.h) instead of running here.
 */
void runner_local_receive_via_root(struct runner *r, int channel);
void runner_free(struct runner *r);
DEFINE_FREEP(runner)

int runner_start(struct runner *r, const char *const *argv, int in, int out, int err,
		 struct child *c);
/* Run to completion, as spawn_run(). */
int runner_run(struct runner *r, const char *const *argv, const void *input, size_t input_len,
	       struct strbuf *out, struct strbuf *err, int *exit_code);

#endif
