/* spawn.c - see spawn.h. */
#include "base/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

void spawn_env_default(struct strvec *env)
{
	/* The sanitizer settings matter only to a sanitizer build that runs itself
	 * (`zkeep serve --relay`): its defaults would turn LeakSanitizer on, which
	 * cannot work in the confined worker (no ptrace) and fails the relay. */
	static const char *const pass[] = { "HOME", "TZ", "SSH_AUTH_SOCK", "ASAN_OPTIONS",
					    "UBSAN_OPTIONS", "LSAN_OPTIONS" };
	strvec_pushf(env, "PATH=%s", default_path);
	strvec_push(env, "LC_ALL=C");
	for (size_t i = 0; i < ARRAY_SIZE(pass); i++) {
		const char *v = getenv(pass[i]);
		if (v)
			strvec_pushf(env, "%s=%s", pass[i], v);
	}
}

static const char *env_get(const char *const *env, const char *name)
{
	size_t n = strlen(name);
	for (; env && *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

int spawn_resolve(const char *argv0, const char *const *env, char **path_out)
{
	if (!argv0 || !*argv0)
		return -EINVAL;
	if (strchr(argv0, '/')) {
		*path_out = xstrdup(argv0);
		return 0;
	}
	const char *path = env_get(env, "PATH");
	if (!path)
		path = default_path;
	struct strvec dirs = STRVEC_INIT;
	strvec_split(&dirs, path, ":");
	int r = -ENOENT;
	for (size_t i = 0; i < dirs.n; i++) {
		char *cand = xasprintf("%s/%s", dirs.v[i], argv0);
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
			*path_out = cand;
			r = 0;
			break;
		}
		free(cand);
	}
	strvec_release(&dirs);
	return r;
}

/* In the child: report -errno to the parent and exit. */
static NORETURN void child_fail(int errpipe, int err)
{
	ssize_t UNUSED k = write(errpipe, &err, sizeof(err));
	_exit(127);
}

static int open_devnull(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC | O_NOCTTY);
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

int spawn_start(const struct spawn_req *req, struct child *c)
{
	struct strvec defenv = STRVEC_INIT;
	const char *const *env = req->env;
	char *path = NULL;
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, errpipe[2] = { -1, -1 };
	int src[3] = { -1, -1, -1 }; /* fds that become 0, 1, 2 in the child */
	int nullfd = -1, r;

	*c = (struct child)CHILD_INIT;
	if (!env) {
		spawn_env_default(&defenv);
		env = (const char *const *)defenv.v;
	}
	r = spawn_resolve(req->argv[0], env, &path);
	if (r < 0)
		goto out;

	const int want[3] = { req->in, req->out, req->err };
	int *pipes[3] = { pin, pout, perr };
	for (int i = 0; i < 3; i++) {
		if (want[i] == SPAWN_PIPE) {
			if (pipe2(pipes[i], O_CLOEXEC) < 0) {
				r = -errno;
				goto out;
			}
			src[i] = i == 0 ? pin[0] : pipes[i][1];
		} else if (want[i] == SPAWN_NULL) {
			if (nullfd < 0 && (nullfd = open_devnull(O_RDWR)) < 0) {
				r = -errno;
				goto out;
			}
			src[i] = nullfd;
		} else if (want[i] == SPAWN_INHERIT) {
			src[i] = i;
		} else {
			src[i] = want[i];
		}
	}
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}

	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0) {
		/* Child. Only async-signal-safe calls from here on. */
		sigset_t all;
		sigemptyset(&all);
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				signal(s, SIG_DFL);
		sigprocmask(SIG_SETMASK, &all, NULL);
		/* Move sources above 2 first so dup2 onto 0..2 cannot clobber one. */
		int hi[3];
		for (int i = 0; i < 3; i++)
			if ((hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3)) < 0)
				child_fail(errpipe[1], -errno);
		for (int i = 0; i < 3; i++)
			if (dup2(hi[i], i) < 0)
				child_fail(errpipe[1], -errno);
		/* Everything else closes at exec (the error pipe too, which tells
		 * the parent that exec worked). */
		if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
			long max = sysconf(_SC_OPEN_MAX);
			for (int fd = 3; fd < (max > 0 ? max : 1024); fd++)
				if (fd != errpipe[1])
					fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
		if (req->cwd && chdir(req->cwd) < 0)
			child_fail(errpipe[1], -errno);
		if (req->pre_exec) {
			int e = req->pre_exec(req->pre_exec_data);
			if (e < 0)
				child_fail(errpipe[1], e);
		}
		execve(path, (char *const *)req->argv, (char *const *)env);
		child_fail(errpipe[1], -errno);
	}

	/* Parent. */
	close(errpipe[1]);
	errpipe[1] = -1;
	int child_err = 0;
	ssize_t k;
	do
		k = read(errpipe[0], &child_err, sizeof(child_err));
	while (k < 0 && errno == EINTR);
	if (k == (ssize_t)sizeof(child_err)) {
		int UNUSED st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		r = child_err < 0 ? child_err : -EIO;
		goto out;
	}
	c->pid = pid;
	if (req->in == SPAWN_PIPE) {
		c->in = pin[1];
		pin[1] = -1;
	}
	if (req->out == SPAWN_PIPE) {
		c->out = pout[0];
		pout[0] = -1;
	}
	if (req->err == SPAWN_PIPE) {
		c->err = perr[0];
		perr[0] = -1;
	}
	r = 0;
out:
	close_pair(pin);
	close_pair(pout);
	close_pair(perr);
	close_pair(errpipe);
	if (nullfd >= 0)
		close(nullfd);
	free(path);
	strvec_release(&defenv);
	return r;
}

int spawn_wait(struct child *c, int *wstatus)
{
	int *fds[3] = { &c->in, &c->out, &c->err };
	for (int i = 0; i < 3; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	if (c->pid <= 0)
		return -ECHILD;
	int st;
	while (waitpid(c->pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	c->pid = 0;
	if (wstatus)
		*wstatus = st;
	return 0;
}

static void close_between(unsigned from, unsigned to)
{
	if (syscall(SYS_close_range, from, to, 0) == 0)
		return;
	for (unsigned fd = from; fd <= to && fd < 65536; fd++) /* kernels before 5.9 */
		close((int)fd);
}

/* The smallest descriptor of keep and more that is at least from, or -1. */
static long next_kept(const int *keep, size_t nkeep, const int *more, size_t nmore,
		      unsigned from)
{
	long next = -1;
	for (size_t i = 0; i < nkeep + nmore; i++) {
		int fd = i < nkeep ? keep[i] : more[i - nkeep];
		if (fd >= 0 && (unsigned)fd >= from && (next < 0 || fd < next))
			next = fd;
	}
	return next;
}

void spawn_close_fds_except(const int *keep, size_t nkeep, const int *more, size_t nmore)
{
	unsigned from = 3;
	long next;
	while ((next = next_kept(keep, nkeep, more, nmore, from)) >= 0) {
		if ((unsigned)next > from)
			close_between(from, (unsigned)next - 1);
		from = (unsigned)next + 1;
	}
	close_between(from, ~0U);
}

int spawn_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

void spawn_describe_status(struct strbuf *sb, int wstatus)
{
	if (WIFEXITED(wstatus))
		strbuf_addf(sb, "exit status %d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		strbuf_addf(sb, "killed by signal %d (%s)", WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	else
		strbuf_addf(sb, "wait status %#x", (unsigned)wstatus);
}

int spawn_run(const struct spawn_req *req0, const void *input, size_t input_len,
	      struct strbuf *out, struct strbuf *err, int *exit_code)
{
	struct spawn_req req = *req0;
	struct child c;
	req.in = input ? SPAWN_PIPE : SPAWN_NULL;
	req.out = out ? SPAWN_PIPE : SPAWN_NULL;
	req.err = err ? SPAWN_PIPE : SPAWN_NULL;
	int r = spawn_start(&req, &c);
	if (r < 0)
		return r;
	return spawn_communicate(&c, input, input_len, out, err, exit_code);
}

int spawn_communicate(struct child *cp, const void *input, size_t input_len,
		      struct strbuf *out, struct strbuf *err, int *exit_code)
{
	struct child c = *cp;
	int r = 0;
	*cp = (struct child)CHILD_INIT;

	/* A child that stops reading must not kill us. */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGPIPE, &ign, &old);

	size_t written = 0;
	bool too_big = false;
	if (c.in >= 0 && input_len == 0) {
		close(c.in);
		c.in = -1;
	}
	/* A blocking write of a large input would wait for a child that is
	 * itself waiting for us to drain its stdout. */
	if (c.in >= 0)
		fcntl(c.in, F_SETFL, fcntl(c.in, F_GETFL) | O_NONBLOCK);
	while (c.in >= 0 || c.out >= 0 || c.err >= 0) {
		struct pollfd p[3];
		int n = 0, idx_in = -1, idx_out = -1, idx_err = -1;
		if (c.in >= 0) {
			idx_in = n;
			p[n++] = (struct pollfd){ .fd = c.in, .events = POLLOUT };
		}
		if (c.out >= 0) {
			idx_out = n;
			p[n++] = (struct pollfd){ .fd = c.out, .events = POLLIN };
		}
		if (c.err >= 0) {
			idx_err = n;
			p[n++] = (struct pollfd){ .fd = c.err, .events = POLLIN };
		}
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (idx_in >= 0 && p[idx_in].revents) {
			ssize_t k = write(c.in, (const char *)input + written, input_len - written);
			if (k > 0)
				written += (size_t)k;
			if ((k < 0 && errno != EINTR && errno != EAGAIN) || written == input_len) {
				close(c.in);
				c.in = -1;
			}
		}
		struct { int idx; int *fd; struct strbuf *sb; } rd[2] = {
			{ idx_out, &c.out, out }, { idx_err, &c.err, err }
		};
		for (int i = 0; i < 2; i++) {
			if (rd[i].idx < 0 || !p[rd[i].idx].revents)
				continue;
			char buf[65536];
			ssize_t k = read(*rd[i].fd, buf, sizeof(buf));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				close(*rd[i].fd);
				*rd[i].fd = -1;
			} else if (!too_big && strbuf_add(rd[i].sb, buf, (size_t)k) < 0) {
				too_big = true;
				kill(c.pid, SIGKILL);
			}
		}
	}
	int st = 0;
	int wr = spawn_wait(&c, &st);
	sigaction(SIGPIPE, &old, NULL);
	if (r < 0)
		return r;
	if (wr < 0)
		return wr;
	if (too_big)
		return -E2BIG;
	*exit_code = spawn_exit_code(st);
	return 0;
}
