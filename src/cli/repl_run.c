/* cli/repl_run.c - see repl_run.h. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/repl_run.h"
#include "cli/repl_confined.h"
#include "base/log.h"
#include "base/lockfile.h"
#include "base/proc_scan.h"
#include "replication/replan.h"

#include <sys/stat.h>

/* ---- the target is busy ----------------------------------------------------- */

static int receives_into(const struct proc_entry *p, void *target)
{
	if (p->read_error < 0 || !p->len)
		return 0; /* gone, a kernel thread, or too long to be a zfs receive */
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	proc_cmdline_argv(p->cmdline, p->len, &argv);
	return replan_argv_receives_into((const char *const *)argv.v, argv.n, target) ? p->pid : 0;
}

/* pid of a local process receiving into target (zfs receive), or 0. */
static pid_t local_receiver(const char *target)
{
	int pid = proc_scan("/proc", receives_into, (void *)target);
	return pid > 0 ? (pid_t)pid : 0;
}

/* The directory of replication locks: $ZKEEP_RUN_DIR, /run/zkeep, or the user's. */
static char *lock_dir(void)
{
	const char *env = getenv("ZKEEP_RUN_DIR");
	if (env && *env)
		return xstrdup(env);
	if (mkdir("/run/zkeep", 0755) == 0 || errno == EEXIST) {
		if (access("/run/zkeep", W_OK) == 0)
			return xstrdup("/run/zkeep");
	}
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && *xdg) {
		char *dir = xasprintf("%s/zkeep", xdg);
		if (mkdir(dir, 0700) == 0 || errno == EEXIST)
			return dir;
		free(dir);
	}
	return NULL;
}

/*
 * Refuse to replicate into a target another run is receiving into: a lock
 * (flock, pid on the first line) per TARGET argument in the run dir, held
 * until we exit, and - like syncoid 2.3 - no local `zfs receive` into it may
 * be running (which catches syncoid and hand-made pipes too). Returns the
 * lock's descriptor (>= 0), -1 when no lock could be made (not fatal: the
 * check by process still ran), or -EBUSY (reported).
 */
static int busy(const struct repl_cli *c, const char *fmt, ...) PRINTF(2, 3);
static int busy(const struct repl_cli *c, const char *fmt, ...)
{
	_cleanup_strbuf_ struct strbuf why = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&why, fmt, ap);
	va_end(ap);
	if (!c->syncoid) {
		log_error("%s", why.buf);
		return -EBUSY;
	}
	/* syncoid's words, a warning; which run or process it is, a detail */
	log_tool(LOG_LVL_WARNING, "Cannot sync now: %s is already target of a zfs receive process.",
		 c->endpoints_r == 0 ? c->dst.dataset : c->target_arg);
	log_debug("%s", why.buf);
	return -EBUSY;
}

static int lock_target(const struct repl_cli *c)
{
	const char *t = c->target_arg;
	if (c->endpoints_r == 0 && !endpoint_is_remote(&c->dst)) {
		pid_t pid = local_receiver(c->dst.dataset);
		if (pid)
			return busy(c, "cannot replicate into %s now: it is the target of a running "
				    "zfs receive (pid %d); try again when that has finished",
				    t, (int)pid);
	}
	_cleanup_free_ char *dir = lock_dir();
	if (!dir) {
		log_debug("no run directory for a lock on %s: /run/zkeep is not writable and "
			  "XDG_RUNTIME_DIR is not set", t);
		return -1;
	}
	_cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/", dir);
	replan_lock_name(t, &path);
	_cleanup_fd_ int fd = lockfile_open(path.buf);
	if (fd < 0) {
		log_debug("cannot open the lock %s: %s", path.buf, strerror(-fd));
		return -1;
	}
	int r = lockfile_lock(fd, false);
	if (r == -EWOULDBLOCK) {
		_cleanup_strbuf_ struct strbuf who = STRBUF_INIT;
		lockfile_holder(fd, &who);
		return busy(c, "cannot replicate into %s now: another replication into it is "
			    "running (pid %s, lock %s); try again when it has finished",
			    t, who.len ? who.buf : "unknown", path.buf);
	}
	if (r < 0) {
		log_debug("cannot lock %s: %s", path.buf, strerror(-r));
		return -1;
	}
	r = lockfile_write_pid(fd);
	if (r < 0)
		log_debug("cannot write the pid into %s: %s", path.buf, strerror(-r));
	return steal_fd(&fd);
}

int repl_cli_run(struct repl_cli *c)
{
	int lock = -1;
	repl_cli_endpoints(c); /* a failure is repl_execute()'s to report */
	/* a dry run changes nothing: it may look at a busy target */
	if (!c->dry_run) {
		lock = lock_target(c);
		if (lock == -EBUSY)
			return EXIT_PARTIAL; /* syncoid's status for a busy target */
	}
	int ret = repl_execute_confined(c);
	if (lock >= 0)
		close(lock);
	return ret;
}
