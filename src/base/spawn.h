/*
 * base/spawn.h - start programs from an argv vector. Never a shell.
 *
 * After git's run-command and OpenSSH: the child gets exactly the
 * environment the caller gives (spawn_env_default() builds the usual one),
 * all signal dispositions reset and the mask cleared, and no descriptor but
 * 0, 1 and 2. argv[0] is an absolute path or a bare name looked up in the
 * PATH of the child's environment, in the parent, before fork. When exec (or
 * the pre_exec hook) fails, the child reports errno through a close-on-exec
 * pipe and spawn_start() returns that error: "no such program" never looks
 * like "the program failed".
 *
 * Descriptors for the child's stdin/stdout/stderr: SPAWN_NULL (/dev/null),
 * SPAWN_PIPE (a pipe whose parent end is returned in struct child),
 * SPAWN_INHERIT (the parent's own 0/1/2), or any open fd of the parent.
 */
#ifndef ZKEEP_SPAWN_H
#define ZKEEP_SPAWN_H

#include "base/strbuf.h"
#include "base/strvec.h"

#include <sys/types.h>

#define SPAWN_NULL (-1)
#define SPAWN_PIPE (-2)
#define SPAWN_INHERIT (-3)

struct spawn_req {
	const char *const *argv; /* NULL-terminated; argv[0] is the program */
	const char *const *env;  /* whole child environment; NULL = spawn_env_default() */
	int in, out, err;        /* SPAWN_* or a parent fd */
	const char *cwd;         /* NULL = inherit */
	/*
	 * Run in the child after the descriptors are set up, just before exec
	 * (the sandbox hooks in here). Returns 0 or -errno; an error is reported
	 * to the parent like an exec failure. Only async-signal-safe calls.
	 */
	int (*pre_exec)(void *data);
	void *pre_exec_data;
};

struct child {
	pid_t pid;     /* 0 when not running */
	int in;        /* write end of the child's stdin pipe, or -1 */
	int out, err;  /* read ends of its stdout/stderr pipes, or -1 */
};
#define CHILD_INIT { .pid = 0, .in = -1, .out = -1, .err = -1 }

/*
 * The default child environment: PATH (a fixed system path), LC_ALL=C so
 * that tools print parseable output, and HOME, TZ, SSH_AUTH_SOCK and the
 * sanitizers' ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS passed through when
 * set. Appends to env.
 */
void spawn_env_default(struct strvec *env);

/* Resolve argv0 as the child would: absolute path, or search PATH. */
int spawn_resolve(const char *argv0, const char *const *env, char **path_out);

/* Start a child. 0, or -errno from fork/pipe/exec/pre_exec. */
int spawn_start(const struct spawn_req *req, struct child *c);

/*
 * Close the parent's pipe ends still open and reap the child. *wstatus gets
 * waitpid's status. 0 or -errno.
 */
int spawn_wait(struct child *c, int *wstatus);

/* Exit code of a wait status; 128 + signal number for a killed child. */
int spawn_exit_code(int wstatus);

/*
 * In a forked child that does not exec (close-on-exec does not help it):
 * close every descriptor from 3 up but those in keep and more (any order;
 * more may be NULL). Async-signal-safe.
 */
void spawn_close_fds_except(const int *keep, size_t nkeep, const int *more, size_t nmore);
/* "exit status 3", "killed by signal 9 (Killed)" into sb. */
void spawn_describe_status(struct strbuf *sb, int wstatus);

/*
 * Run to completion: feed `input` (may be NULL) to stdin, collect stdout and
 * stderr into out/err (NULL: stdout discarded / stderr discarded). Returns
 * 0 with *exit_code set, or -errno when the child could not be started, or
 * -E2BIG when its output passed a buffer's cap (the child is killed).
 */
int spawn_run(const struct spawn_req *req, const void *input, size_t input_len,
	      struct strbuf *out, struct strbuf *err, int *exit_code);

/*
 * The second half of spawn_run() for a child started elsewhere (a runner):
 * c must have been started with stdin a pipe when input is non-NULL, stdout
 * a pipe when out is non-NULL, stderr a pipe when err is non-NULL. Always
 * reaps the child; *c is reset.
 */
int spawn_communicate(struct child *c, const void *input, size_t input_len,
		      struct strbuf *out, struct strbuf *err, int *exit_code);

#endif
