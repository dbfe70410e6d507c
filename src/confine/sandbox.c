/* sandbox.c - the plan and the worker; see sandbox.h. */
#include "base/zkeep.h"
#include "confine/sandbox.h"
#include "base/fd_passing.h"
#include "base/spawn.h"
#include "base/term.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define DEFAULT_ROOT_DIR "/run/zkeep/root"

static const char *const devices[] = { "/dev/null", "/dev/zero", "/dev/urandom", "/dev/zfs" };
/* Read by ssh when it connects (host names, its own config). */
static const char *const net_files[] = { "/etc/hosts", "/etc/resolv.conf", "/etc/ssh/ssh_config",
					 "/etc/ssh/ssh_config.d" };
/* Host files the unprivileged worker reads in place of synthetic ones. */
static const char *const host_etc[] = { "/etc/passwd", "/etc/group", "/etc/nsswitch.conf" };

static void add_rule(struct sandbox_plan *p, const char *path, uint64_t access, bool dir)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (streq(p->rules[i].path, path)) {
			p->rules[i].access |= access;
			return;
		}
	p->rules = xreallocarray(p->rules, p->nrules + 1, sizeof(*p->rules));
	p->rules[p->nrules++] = (struct sandbox_rule){ .path = xstrdup(path), .access = access,
						       .dir = dir };
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* An extra read-only path: a directory bound whole, or a file (and its symlinks). */
static int add_ro_path(struct sandbox_plan *p, const char *path, struct strbuf *err)
{
	_cleanup_free_ char *real = NULL;
	int r = sandbox_closure_add_path(p, path, &real, err);
	if (r < 0)
		return r;
	if (is_dir(real)) {
		if (strvec_find(&p->dirs, real) < 0)
			strvec_push(&p->dirs, real);
		add_rule(p, real, SBX_RO, true);
	} else {
		if (strvec_find(&p->files, real) < 0)
			strvec_push(&p->files, real);
		add_rule(p, real, SBX_FS_READ_FILE, false);
	}
	return 0;
}

void sandbox_nss_services(const char *nsswitch, struct strvec *out)
{
	_cleanup_strvec_ struct strvec lines = STRVEC_INIT;
	strvec_split(&lines, nsswitch, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		char *line = lines.v[i] + strspn(lines.v[i], " \t");
		line[strcspn(line, "#")] = '\0';
		const char *rest = skip_prefix(line, "passwd:");
		if (!rest)
			rest = skip_prefix(line, "group:");
		if (!rest)
			continue;
		_cleanup_strvec_ struct strvec words = STRVEC_INIT;
		strvec_split(&words, rest, " \t");
		for (size_t j = 0; j < words.n; j++) {
			const char *w = words.v[j];
			bool name = *w && strspn(w, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(w);
			if (name && strvec_find(out, w) < 0)
				strvec_push(out, w);
		}
	}
}

/*
 * Unprivileged: the worker looks users up through the host's NSS. Its
 * modules (libnss_NAME.so.2 and their closure) become readable, and with
 * nss-systemd the userdb directory it finds its varlink services in.
 */
static int add_nss_modules(struct sandbox_plan *p, struct strbuf *err)
{
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT;
	if (strbuf_read_file(&text, "/etc/nsswitch.conf") < 0)
		return 0; /* glibc's built-in default: files only */
	_cleanup_strvec_ struct strvec services = STRVEC_INIT;
	sandbox_nss_services(text.buf, &services);
	for (size_t i = 0; i < services.n; i++) {
		_cleanup_free_ char *lib = xasprintf("libnss_%s.so.2", services.v[i]);
		_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
		size_t before = p->files.n;
		/* not installed: glibc skips that service, so may the worker */
		if (sandbox_closure_add_library(p, lib, &why) < 0)
			continue;
		for (size_t j = before; j < p->files.n; j++)
			add_rule(p, p->files.v[j], SBX_FS_EXECUTE | SBX_FS_READ_FILE, false);
		if (streq(services.v[i], "systemd") && is_dir("/run/systemd/userdb")) {
			int r = add_ro_path(p, "/run/systemd/userdb", err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int sandbox_plan_build(const struct sandbox_config *cfg, struct sandbox_plan *plan,
		       struct strbuf *err)
{
	struct sandbox_plan p = SANDBOX_PLAN_INIT;
	int r = 0;

	p.privileged = cfg->privileged;
	p.uid = cfg->uid;
	p.gid = cfg->gid;
	p.user = xstrdup(cfg->user ? cfg->user : "zkeep");
	p.root_dir = xstrdup(cfg->root_dir ? cfg->root_dir : DEFAULT_ROOT_DIR);
	if (cfg->state_dir) {
		if (cfg->state_dir[0] != '/' || !is_dir(cfg->state_dir)) {
			strbuf_addf(err, "state directory '%s' is not an existing absolute directory",
				    cfg->state_dir);
			r = -EINVAL;
			goto fail;
		}
		p.state_dir = realpath(cfg->state_dir, NULL);
		if (!p.state_dir) {
			r = -errno;
			strbuf_addf(err, "cannot resolve %s: %s", cfg->state_dir, strerror(-r));
			goto fail;
		}
	}
	if (cfg->privileged && (cfg->uid == 0 || cfg->gid == 0)) {
		strbuf_addstr(err, "the worker's run uid and gid must not be 0");
		r = -EINVAL;
		goto fail;
	}
	if (cfg->n_tcp_ports > SANDBOX_MAX_PORTS) {
		strbuf_addf(err, "more than %d ssh ports", SANDBOX_MAX_PORTS);
		r = -EINVAL;
		goto fail;
	}
	for (size_t i = 0; i < cfg->n_tcp_ports; i++) {
		if (cfg->tcp_ports[i] == 0 || cfg->tcp_ports[i] > 65535) {
			strbuf_addf(err, "%u is not a TCP port", cfg->tcp_ports[i]);
			r = -EINVAL;
			goto fail;
		}
		p.ports[p.nports++] = cfg->tcp_ports[i];
	}

	for (size_t i = 0; cfg->programs && cfg->programs[i]; i++) {
		size_t before = p.files.n;
		if ((r = sandbox_closure_add(&p, cfg->programs[i], err)) < 0)
			goto fail;
		strvec_push(&p.programs, cfg->programs[i]);
		for (size_t j = before; j < p.files.n; j++)
			add_rule(&p, p.files.v[j], SBX_FS_EXECUTE | SBX_FS_READ_FILE, false);
	}
	/* glibc's own dlopen (pthread_cancel, backtraces): libgcc_s, when libc is in. */
	bool has_libc = false;
	for (size_t i = 0; i < p.files.n && !has_libc; i++)
		has_libc = ends_with(p.files.v[i], "/libc.so.6");
	if (has_libc) {
		size_t before = p.files.n;
		if ((r = sandbox_closure_add_library(&p, "libgcc_s.so.1", err)) < 0)
			goto fail;
		for (size_t j = before; j < p.files.n; j++)
			add_rule(&p, p.files.v[j], SBX_FS_EXECUTE | SBX_FS_READ_FILE, false);
	}
	/* ld.so's cache: libraries are found in the sandbox where the host finds them. */
	if (access("/etc/ld.so.cache", R_OK) == 0 && (r = add_ro_path(&p, "/etc/ld.so.cache", err)) < 0)
		goto fail;
	/* Local time: sanoid and sync snapshot names use it (glibc falls back to UTC). */
	if (access("/etc/localtime", R_OK) == 0 && (r = add_ro_path(&p, "/etc/localtime", err)) < 0)
		goto fail;
	if (is_dir("/usr/share/zoneinfo") && (r = add_ro_path(&p, "/usr/share/zoneinfo", err)) < 0)
		goto fail;
	/* libzfs checks /sys/module/zfs to know the module is loaded. */
	if (is_dir("/sys/module/zfs") && (r = add_ro_path(&p, "/sys/module/zfs", err)) < 0)
		goto fail;
	if (p.nports)
		for (size_t i = 0; i < ARRAY_SIZE(net_files); i++)
			if (access(net_files[i], R_OK) == 0 &&
			    (r = add_ro_path(&p, net_files[i], err)) < 0)
				goto fail;
	for (size_t i = 0; cfg->ro_paths && cfg->ro_paths[i]; i++)
		if ((r = add_ro_path(&p, cfg->ro_paths[i], err)) < 0)
			goto fail;
	if (p.files.n + p.dirs.n > SANDBOX_MAX_PATHS) {
		strbuf_addf(err, "more than %d paths in the sandbox", SANDBOX_MAX_PATHS);
		r = -E2BIG;
		goto fail;
	}

	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		if (access(devices[i], F_OK) != 0)
			continue;
		strvec_push(&p.devices, devices[i]);
		uint64_t a = SBX_FS_READ_FILE;
		if (streq(devices[i], "/dev/null") || streq(devices[i], "/dev/zfs"))
			a |= SBX_FS_WRITE_FILE;
		if (streq(devices[i], "/dev/zfs"))
			a |= SBX_FS_IOCTL_DEV;
		add_rule(&p, devices[i], a, false);
	}
	add_rule(&p, "/proc", SBX_RO, true);
	if (p.privileged) {
		add_rule(&p, "/tmp", SBX_RW, true);
		for (size_t i = 0; i < ARRAY_SIZE(host_etc); i++)
			add_rule(&p, host_etc[i], SBX_FS_READ_FILE, false);
		const char *home = p.state_dir ? p.state_dir : "/";
		p.passwd = xasprintf("root:x:0:0:root:/root:/usr/sbin/nologin\n"
				     "%s:x:%u:%u:zkeep worker:%s:/usr/sbin/nologin\n",
				     p.user, (unsigned)p.uid, (unsigned)p.gid, home);
		p.group = xasprintf("root:x:0:\n%s:x:%u:\n", p.user, (unsigned)p.gid);
		p.nsswitch = xstrdup("passwd: files\ngroup: files\nshadow: files\n"
				     "hosts: files dns\n");
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(host_etc); i++)
			if (access(host_etc[i], R_OK) == 0)
				add_rule(&p, host_etc[i], SBX_FS_READ_FILE, false);
		if ((r = add_nss_modules(&p, err)) < 0)
			goto fail;
	}
	if (p.state_dir)
		add_rule(&p, p.state_dir, SBX_RW, true);
	p.landlock_abi = sandbox_landlock_abi();
	*plan = p;
	return 0;
fail:
	sandbox_plan_release(&p);
	return r;
}

void sandbox_plan_release(struct sandbox_plan *p)
{
	if (!p)
		return;
	free(p->user);
	free(p->state_dir);
	free(p->root_dir);
	strvec_release(&p->programs);
	strvec_release(&p->files);
	strvec_release(&p->dirs);
	strvec_release(&p->link_paths);
	strvec_release(&p->link_targets);
	strvec_release(&p->devices);
	free(p->passwd);
	free(p->group);
	free(p->nsswitch);
	for (size_t i = 0; i < p->nrules; i++)
		free(p->rules[i].path);
	free(p->rules);
	*p = (struct sandbox_plan)SANDBOX_PLAN_INIT;
}

void sandbox_describe(const struct sandbox_plan *p, struct strbuf *out)
{
	if (p->privileged) {
		strbuf_addf(out, "worker: uid %u gid %u (\"%s\"), no supplementary groups, "
			    "no capabilities (bounding and ambient sets empty)\n",
			    (unsigned)p->uid, (unsigned)p->gid, p->user);
		strbuf_addstr(out, "namespaces: new mount, pid, ipc, uts; initial user namespace "
			      "(ZFS 2.2+ hides datasets from others)\n");
		strbuf_addf(out, "root: tmpfs at %s, pivot_root, made read-only recursively\n",
			    p->root_dir);
		for (size_t i = 0; i < p->link_paths.n; i++)
			strbuf_addf(out, "  symlink   %s -> %s\n", p->link_paths.v[i],
				    p->link_targets.v[i]);
		for (size_t i = 0; i < p->files.n; i++)
			strbuf_addf(out, "  bind ro   %s\n", p->files.v[i]);
		for (size_t i = 0; i < p->dirs.n; i++)
			strbuf_addf(out, "  bind ro   %s/\n", p->dirs.v[i]);
		for (size_t i = 0; i < p->devices.n; i++)
			strbuf_addf(out, "  device    %s\n", p->devices.v[i]);
		strbuf_addstr(out, "  proc      /proc (of the new pid namespace)\n");
		strbuf_addstr(out, "  tmpfs rw  /tmp (private)\n");
		if (p->state_dir)
			strbuf_addf(out, "  bind rw   %s/ (state directory)\n", p->state_dir);
		strbuf_addstr(out, "  file      /etc/passwd:\n");
		strbuf_addstr(out, p->passwd);
		strbuf_addstr(out, "  file      /etc/group:\n");
		strbuf_addstr(out, p->group);
		strbuf_addstr(out, "  file      /etc/nsswitch.conf:\n");
		strbuf_addstr(out, p->nsswitch);
	} else {
		strbuf_addstr(out, "worker: the caller's uid (not root: no namespaces, no uid "
			      "change); the host's file system, limited by Landlock\n");
		for (size_t i = 0; i < p->files.n; i++)
			strbuf_addf(out, "  closure   %s\n", p->files.v[i]);
	}
	strbuf_addstr(out, "no_new_privs: yes\n");
	sandbox_landlock_describe(p, out);
	sandbox_seccomp_describe(out);
}

/* ---- entering ------------------------------------------------------------ */

int sandbox_enter(const struct sandbox_plan *p, struct strbuf *err)
{
	int r;
	if (p->privileged && (r = sandbox_ns_enter(p, err)) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		strbuf_addf(err, "cannot set no_new_privs: %s", strerror(-r));
		return r;
	}
	if ((r = sandbox_landlock_apply(p, err)) < 0)
		return r;
	return sandbox_seccomp_apply(err);
}

/* The child: report a setup failure as "errno message" on the pipe and exit. */
static NORETURN void child_fail(int fd, int r, const struct strbuf *msg)
{
	char num[16];
	int len = snprintf(num, sizeof(num), "%d ", -r);
	(void)fd_write_all(fd, num, (size_t)len);
	(void)fd_write_all(fd, msg->buf, msg->len);
	_exit(127);
}

/* In the worker: no terminal. Its own session, stdin /dev/null, stdout and stderr the relay's pipes. */
static int detach_stdio(int null_fd, int out_fd, int err_fd)
{
	if (setsid() < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(err_fd, STDERR_FILENO) < 0)
		return -errno;
	return 0;
}

static void close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

int sandbox_worker_start(const struct sandbox_plan *p, int (*fn)(void *), void *data,
			 const int *keep_fds, size_t nkeep, pthread_mutex_t *clone_lock,
			 struct sandbox_worker *w, struct strbuf *err)
{
	int report[2] = { -1, -1 }, alive[2] = { -1, -1 }, out[2] = { -1, -1 },
	    errp[2] = { -1, -1 };
	_cleanup_fd_ int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	/* One pipe for both when ours are one file: two would lose the lines' order. */
	bool merged = term_stdout_is_stderr();
	if (null_fd < 0 || pipe2(report, O_CLOEXEC) < 0 || pipe2(alive, O_CLOEXEC) < 0 ||
	    pipe2(out, O_CLOEXEC) < 0 || (!merged && pipe2(errp, O_CLOEXEC) < 0)) {
		int e = errno;
		strbuf_addf(err, "cannot prepare the worker's pipes: %s", strerror(e));
		close_pair(report);
		close_pair(alive);
		close_pair(out);
		close_pair(errp);
		return -e;
	}
	/* The worker's log and progress ask whether the admin's stderr is a terminal. */
	term_stderr_pin();
	fflush(NULL);
	unsigned long flags = SIGCHLD;
	if (p->privileged)
		flags |= CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
	/* No ssh port, no network: a namespace of its own, its loopback down. */
	if (p->privileged && p->nports == 0)
		flags |= CLONE_NEWNET;
	/* A raw clone: fork() cannot make the child pid 1 of a new pid namespace. */
	if (clone_lock)
		pthread_mutex_lock(clone_lock);
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
	int clone_errno = errno;
	if (clone_lock && pid != 0)
		pthread_mutex_unlock(clone_lock);
	if (pid < 0) {
		int e = clone_errno;
		strbuf_addf(err, "cannot start the worker: %s", strerror(e));
		close_pair(report);
		close_pair(alive);
		close_pair(out);
		close_pair(errp);
		return -e;
	}
	if (pid == 0) {
		_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
		int r = detach_stdio(null_fd, out[1], merged ? out[1] : errp[1]);
		const int pipe_ends[] = { report[1], alive[0] };
		spawn_close_fds_except(keep_fds, nkeep, pipe_ends, ARRAY_SIZE(pipe_ends));
		if (r < 0) {
			strbuf_addstr(&msg, "cannot detach the worker from the terminal");
			child_fail(report[1], r, &msg);
		}
		r = sandbox_enter(p, &msg);
		if (r < 0)
			child_fail(report[1], r, &msg);
		/* One home: the worker's directory, as in its passwd entry (not the caller's). */
		if (p->state_dir)
			setenv("HOME", p->state_dir, 1);
		else if (p->privileged)
			setenv("HOME", "/", 1);
		/* After the uid change (which clears it): die with the supervisor. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
			strbuf_addstr(&msg, "cannot set the parent-death signal");
			child_fail(report[1], -errno, &msg);
		}
		/* The supervisor may have died before that: then alive reads EOF. */
		struct pollfd pfd = { .fd = alive[0], .events = POLLIN };
		if (poll(&pfd, 1, 0) != 0)
			_exit(127);
		close(alive[0]);
		close(report[1]);
		_exit(fn(data) & 0xff);
	}
	close(report[1]);
	close(alive[0]);
	close(out[1]);
	close(errp[1]);
	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	strbuf_init(&msg, 64 << 10);
	strbuf_read_fd(&msg, report[0]);
	close(report[0]);
	close(alive[1]);
	if (msg.len) {
		int status;
		close(out[0]);
		close(errp[0]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		const char *sp = strchr(msg.buf, ' ');
		unsigned e = EIO;
		if (sp) {
			*(char *)sp = '\0';
			e = 0;
			for (const char *c = msg.buf; *c >= '0' && *c <= '9' && e < 4096; c++)
				e = e * 10 + (unsigned)(*c - '0');
			if (e == 0 || e >= 4096)
				e = EIO;
		}
		strbuf_addf(err, "cannot confine the worker: %s", sp ? sp + 1 : msg.buf);
		return -(int)e;
	}
	*w = (struct sandbox_worker){ .pid = pid, .out = out[0], .err = errp[0] };
	return 0;
}

/* ---- the relay ------------------------------------------------------------ */

#define RELAY_CHUNK (64 << 10)
#define RELAY_CARRY 64 /* > the longest sequence term_escape() leaves unconsumed */

struct relay {
	int from, to;
	char carry[RELAY_CARRY];
	size_t ncarry;
};

/* Escape and pass on buf[0..n) after what was carried; keep an unfinished tail. */
static void relay_pass(struct relay *rl, char *buf, size_t n, bool final)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 8 * (RELAY_CHUNK + RELAY_CARRY));
	size_t used = term_escape(&sb, buf, n, TERM_KEEP_PROGRESS | (final ? TERM_FINAL : 0));
	if (n - used > RELAY_CARRY) /* cannot happen: term_escape leaves less */
		used = n - RELAY_CARRY;
	rl->ncarry = n - used;
	memmove(rl->carry, buf + used, rl->ncarry);
	(void)fd_write_all(rl->to, sb.buf, sb.len);
}

/* One read from the worker; false at EOF or error (the relay's end is closed then). */
static bool relay_read(struct relay *rl)
{
	char buf[RELAY_CARRY + RELAY_CHUNK];
	memcpy(buf, rl->carry, rl->ncarry);
	ssize_t n;
	do
		n = read(rl->from, buf + rl->ncarry, RELAY_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		relay_pass(rl, buf, rl->ncarry, true);
		close(rl->from);
		rl->from = -1;
		return false;
	}
	relay_pass(rl, buf, rl->ncarry + (size_t)n, false);
	return true;
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/*
 * Answer one request of the worker (revents: what poll said of the channel);
 * false when the channel is closed or broken.
 */
static bool answer_request(const struct sandbox_requests *rq, short revents)
{
	char buf[SANDBOX_REQUEST_MAX + 1];
	union {
		char space[CMSG_SPACE(sizeof(int) * SANDBOX_REQUEST_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space,
			     .msg_controllen = sizeof(u.space) };
	ssize_t n = recvmsg(rq->fd, &mh, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	int fds[SANDBOX_REQUEST_FDS];
	size_t nfds = fd_passing_take(&mh, fds, SANDBOX_REQUEST_FDS);
	if (nfds > SANDBOX_REQUEST_FDS)
		nfds = SANDBOX_REQUEST_FDS; /* the rest are closed */
	/* the worker closed (or shut down) its end; an empty message alone is malformed */
	if (n == 0 && !nfds && (revents & (POLLHUP | POLLRDHUP)))
		return false;
	_cleanup_strbuf_ struct strbuf reply = STRBUF_INIT, why = STRBUF_INIT;
	if (mh.msg_flags & MSG_CTRUNC)
		strbuf_addf(&why, "more than %d descriptors", SANDBOX_REQUEST_FDS);
	else if (n == 0)
		strbuf_addstr(&why, "an empty message");
	else if ((size_t)n > SANDBOX_REQUEST_MAX)
		strbuf_addf(&why, "a message of %zd bytes (at most %d)", n, SANDBOX_REQUEST_MAX);
	else if (memchr(buf, '\0', (size_t)n))
		strbuf_addstr(&why, "a NUL byte in the message");
	if (why.len) {
		strbuf_addstr(&reply, "error malformed request");
		if (rq->malformed)
			rq->malformed(rq->ctx, why.buf);
	} else {
		buf[n] = '\0';
		rq->fn(rq->ctx, buf, fds, nfds, &reply);
	}
	for (size_t i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (!reply.len)
		return true;
	/* never blocks: a worker that does not read its answers loses the channel */
	return send(rq->fd, reply.buf, reply.len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0;
}

void sandbox_requests_serve(const struct sandbox_requests *rq, bool (*go_on)(void *ctx))
{
	bool asking = true;
	while (asking && go_on(rq->ctx)) {
		struct pollfd p = { .fd = rq->fd, .events = POLLIN | POLLRDHUP };
		int r = poll(&p, 1, 1000);
		if (r < 0 && errno != EINTR)
			return;
		if (r > 0 && go_on(rq->ctx))
			asking = answer_request(rq, p.revents);
	}
}

int sandbox_worker_wait(struct sandbox_worker *w, const struct sandbox_requests *rq, int stop_fd,
			int *status)
{
	struct sigaction sa = { .sa_handler = on_stop }, old[3];
	const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	sigemptyset(&sa.sa_mask);
	stop_signal = 0;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, &old[i]); /* no SA_RESTART: poll and waitpid return EINTR */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old_pipe); /* a closed stdout of ours must not kill the relay */
	struct relay rl[2] = { { .from = w->out, .to = STDOUT_FILENO },
			       { .from = w->err, .to = STDERR_FILENO } };
	w->out = w->err = -1;
	/* The worker's exit, even when something it left behind keeps the pipes open. */
	_cleanup_fd_ int pidfd = (int)syscall(SYS_pidfd_open, w->pid, 0);
	bool killed = false, exited = false, asking = rq && rq->fd >= 0 && rq->fn;
	while (!exited && (rl[0].from >= 0 || rl[1].from >= 0)) {
		if (stop_signal && !killed) {
			kill(w->pid, SIGKILL); /* pid 1 of its namespace: only SIGKILL reaches it */
			killed = true;
		}
		struct pollfd pfd[5];
		nfds_t n = 0;
		for (size_t i = 0; i < 2; i++)
			if (rl[i].from >= 0)
				pfd[n++] = (struct pollfd){ .fd = rl[i].from, .events = POLLIN };
		if (pidfd >= 0)
			pfd[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		if (asking)
			pfd[n++] = (struct pollfd){ .fd = rq->fd, .events = POLLIN | POLLRDHUP };
		if (stop_fd >= 0 && !killed)
			pfd[n++] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (nfds_t k = 0; k < n; k++) {
			if (!pfd[k].revents)
				continue;
			if (pfd[k].fd == pidfd) {
				exited = true;
				continue;
			}
			if (pfd[k].fd == stop_fd) {
				if (!killed)
					kill(w->pid, SIGKILL);
				killed = true;
				continue;
			}
			if (asking && pfd[k].fd == rq->fd) {
				asking = answer_request(rq, pfd[k].revents);
				continue;
			}
			for (size_t i = 0; i < 2; i++)
				if (rl[i].from == pfd[k].fd)
					relay_read(&rl[i]);
		}
	}
	/* What the worker wrote before it ended; nothing its leftovers write after. */
	for (size_t i = 0; i < 2; i++) {
		if (rl[i].from >= 0)
			fcntl(rl[i].from, F_SETFL, O_NONBLOCK);
		while (rl[i].from >= 0 && relay_read(&rl[i]))
			;
	}
	int st = 0;
	for (;;) {
		if (waitpid(w->pid, &st, 0) == w->pid)
			break;
		if (errno != EINTR) {
			st = 0;
			break;
		}
		if (stop_signal && !killed) {
			kill(w->pid, SIGKILL);
			killed = true;
		}
	}
	sigaction(SIGPIPE, &old_pipe, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &old[i], NULL);
	w->pid = -1;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
	return 0;
}
