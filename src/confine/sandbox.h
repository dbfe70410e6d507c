/*
 * confine/sandbox.h - the confined worker: one interface, one backend per mechanism.
 *
 * After OpenSSH's privilege separation and bubblewrap. The supervisor (root,
 * or the admin who started zkeep) describes the worker in a sandbox_config:
 * the programs it will exec, its state directory, the files it may read, the
 * TCP ports it may connect to, and the run uid. sandbox_plan_build() turns
 * that into a plan, in the supervisor, before anything is forked: the
 * runtime closure of the programs (ELF interpreter and DT_NEEDED libraries
 * resolved the way ld.so resolves them, the interpreters of scripts, every
 * symlink on the way), the synthetic /etc files, the Landlock rules and the
 * syscall allow-list. sandbox_describe() prints a plan (`zkeep confine
 * --print`); sandbox_worker_start() forks a worker that enters the plan and
 * runs a function.
 *
 * Entering happens in stages, each a backend:
 *   sandbox_ns.c       (root only) new mount/pid/ipc/uts namespaces (and net
 *                      when the job has no TCP port: no network at all; an ssh
 *                      job's supervisor connects for it and passes the socket
 *                      in keep_fds) but the
 *                      initial user namespace (ZFS 2.2+ hides every dataset
 *                      from other user namespaces); a tmpfs root holding the
 *                      closure read-only, /dev/{null,zero,urandom,zfs}, /proc
 *                      of the new pid namespace, a private /tmp, the state
 *                      directory read-write and synthetic /etc/passwd, group,
 *                      nsswitch.conf; pivot_root into it; then the run uid
 *                      and gid with no supplementary groups and no
 *                      capabilities (bounding and ambient sets cleared).
 *   sandbox_landlock.c no_new_privs, then Landlock: read/exec on the closure,
 *                      read on the extra paths, read-write on /tmp and the
 *                      state directory, device ioctl on /dev/zfs only (ABI
 *                      5+), outgoing TCP only to the configured ports (ABI
 *                      4+), no signals or abstract sockets outside (ABI 6+).
 *                      Rights the running kernel lacks are left out.
 *   sandbox_seccomp.c  a libseccomp allow-list: systemd's @system-service
 *                      minus @aio @chown @keyring @memlock @privileged
 *                      @resources @setuid and userfaultfd; ioctl but
 *                      TIOCSTI and TIOCLINUX (no typing into a terminal);
 *                      personality only to query or to keep the default
 *                      (PER_LINUX); unshare and clone
 *                      only without CLONE_NEWUSER, clone3 answers ENOSYS so
 *                      libc falls back to clone. Everything else fails with
 *                      EPERM. Inherited by exec'd zfs and ssh.
 * Without root (cfg.privileged false) only the last two apply: the worker
 * keeps the caller's uid and sees the host's file system through Landlock.
 *
 * Ownership: a plan owns copies of everything in its config;
 * sandbox_plan_release() releases it (NULL-safe). Functions return 0 or -errno
 * with a message in err.
 */
#ifndef ZKEEP_SANDBOX_H
#define ZKEEP_SANDBOX_H

#include "base/strbuf.h"
#include "base/strvec.h"

#include <pthread.h>
#include <sys/types.h>

#define SANDBOX_MAX_PORTS 16
#define SANDBOX_MAX_PATHS 4096 /* closure entries: a runaway dependency graph is an error */

struct sandbox_config {
	bool privileged;             /* root: namespaces, pivot_root, run uid */
	uid_t uid;                   /* run uid and gid (privileged only) */
	gid_t gid;
	const char *user;            /* name in the synthetic passwd (default "zkeep") */
	const char *state_dir;       /* absolute; read-write; may be NULL */
	const char *const *programs; /* NULL-terminated names or paths the worker execs */
	const char *const *ro_paths; /* NULL-terminated extra read-only files/dirs */
	const unsigned *tcp_ports;   /* outgoing TCP ports allowed (ssh); n_tcp_ports of them */
	size_t n_tcp_ports;
	const char *root_dir;        /* where the new root is built; default /run/zkeep/root */
};

/* Landlock rights (the values of the kernel ABI, defined in sandbox.c). */
struct sandbox_rule {
	char *path;
	uint64_t access;
	bool dir;
};

struct sandbox_plan {
	bool privileged;
	uid_t uid;
	gid_t gid;
	char *user, *state_dir, *root_dir;
	struct strvec programs;  /* resolved absolute paths */
	struct strvec files;     /* closure: real files bound read-only */
	struct strvec dirs;      /* extra read-only directories bound (ro_paths, /sys/module/zfs) */
	struct strvec link_paths, link_targets; /* symlinks recreated in the new root */
	struct strvec devices;   /* /dev nodes bound */
	char *passwd, *group, *nsswitch; /* contents of the synthetic /etc files */
	struct sandbox_rule *rules;
	size_t nrules;
	unsigned ports[SANDBOX_MAX_PORTS];
	size_t nports;
	int landlock_abi;        /* of the running kernel; <= 0: Landlock unavailable */
};
#define SANDBOX_PLAN_INIT { .programs = STRVEC_INIT, .files = STRVEC_INIT, .dirs = STRVEC_INIT, \
	.link_paths = STRVEC_INIT, .link_targets = STRVEC_INIT, .devices = STRVEC_INIT }

int sandbox_plan_build(const struct sandbox_config *cfg, struct sandbox_plan *plan,
		       struct strbuf *err);
void sandbox_plan_release(struct sandbox_plan *plan);
static inline void cleanup_sandbox_plan(struct sandbox_plan *p) { sandbox_plan_release(p); }
#define _cleanup_sandbox_plan_ _cleanup_(cleanup_sandbox_plan)

/* Human-readable plan: binds, symlinks, /etc files, Landlock rules, syscalls. */
void sandbox_describe(const struct sandbox_plan *plan, struct strbuf *out);

/*
 * A started worker: its pid and the read ends of its stdout and stderr.
 * The worker has no terminal: it runs in its own session (setsid), its
 * stdin is /dev/null and its stdout and stderr are pipes that
 * sandbox_worker_wait() relays to the supervisor's, with control sequences
 * escaped (base/term.h). So a worker cannot type into the admin's shell
 * (TIOCSTI on an inherited terminal) nor send it escape sequences. When the
 * supervisor's stdout and stderr are one file (a terminal, 2>&1), the
 * worker's are one pipe (err is -1), relayed to stdout: two pipes would
 * reorder their lines.
 */
struct sandbox_worker {
	pid_t pid;
	int out, err;
};
#define SANDBOX_WORKER_INIT { .pid = -1, .out = -1, .err = -1 }

/*
 * Fork a worker that enters the plan and then returns fn(data) as its exit
 * status. The worker dies with the supervisor (SIGKILL on parent death).
 * Returns 0 with *w set once the worker is confined (setup errors come
 * back through a pipe as -errno with the message in err), or -errno.
 * With a privileged plan the worker is pid 1 of its pid namespace: stop it
 * with SIGKILL. The worker gets /dev/null and the two pipes as descriptors
 * 0, 1, 2, and keep_fds[0..nkeep) only: every other descriptor of the
 * supervisor (journal, locks, keys) is closed before anything else runs in
 * the worker. Its HOME is the state directory (the home of its passwd
 * entry when privileged), whatever the caller's was.
 *
 * The worker is a raw clone (pid 1 of a new pid namespace), which runs no
 * fork handlers: a lock another thread of the caller holds at that moment
 * (malloc's, stdio's) stays held forever in the worker. A caller with other
 * threads gives clone_lock (else NULL), held across the clone, and has
 * those threads hold it whenever they may take such a lock.
 */
int sandbox_worker_start(const struct sandbox_plan *plan, int (*fn)(void *), void *data,
			 const int *keep_fds, size_t nkeep, pthread_mutex_t *clone_lock,
			 struct sandbox_worker *w, struct strbuf *err);

/*
 * A channel on which the worker asks its supervisor for what it cannot do
 * itself (unmounting, which Linux cannot delegate): the supervisor's end
 * of an AF_UNIX SOCK_SEQPACKET pair, one request per message. fn answers
 * each request (at most SANDBOX_REQUEST_MAX bytes, NUL-free) with one
 * message in reply; the request is the worker's word, and fn must check
 * it. A malformed request (empty, too long, with a NUL byte, with more than
 * SANDBOX_REQUEST_FDS descriptors) gets "error malformed request" and no
 * call to fn; malformed (may be NULL) is told why, so that the caller can
 * log it (this library does not log). Descriptors that came with a request
 * (SCM_RIGHTS) are given to fn in fds (close-on-exec); fn takes one by
 * setting its slot to -1, the rest are closed after it. An empty reply is
 * not sent (fn answered on a descriptor of the request, or not at all).
 */
#define SANDBOX_REQUEST_MAX 8192
#define SANDBOX_REQUEST_FDS 4
typedef void sandbox_request_fn(void *ctx, const char *request, int *fds, size_t nfds,
				struct strbuf *reply);
typedef void sandbox_malformed_fn(void *ctx, const char *why);
struct sandbox_requests {
	int fd;
	sandbox_request_fn *fn;
	sandbox_malformed_fn *malformed;
	void *ctx;
};

/*
 * Answer the requests on rq->fd as sandbox_worker_wait() does, with no
 * worker of ours: a connection root's service accepted (a unit's run asks
 * on it), until the peer hangs up, the channel breaks, or go_on(rq->ctx),
 * asked before each request and at least once a second, says false.
 */
void sandbox_requests_serve(const struct sandbox_requests *rq, bool (*go_on)(void *ctx));

/*
 * Relay the worker's stdout and stderr to the supervisor's (escaped) until
 * it exits, then reap it: *status gets its exit status (128+N when killed by
 * signal N). A SIGINT, SIGTERM or SIGHUP to the supervisor meanwhile kills
 * the worker, and so does stop_fd (>= 0) becoming readable: a caller whose
 * signals another thread takes writes to it. Closes w's pipes. With rq (may
 * be NULL), answers the worker's requests meanwhile.
 */
int sandbox_worker_wait(struct sandbox_worker *w, const struct sandbox_requests *rq, int stop_fd,
			int *status);

/*
 * Enter the plan in the calling process (already forked). Used by
 * sandbox_worker_start(); exposed for tests. On failure the process is in an
 * undefined half-confined state and must exit.
 */
int sandbox_enter(const struct sandbox_plan *plan, struct strbuf *err);

/*
 * The NSS services nsswitch.conf text names for passwd and group ("files",
 * "systemd", ...; the [STATUS=action] words left out), deduplicated, into
 * out. An unprivileged worker keeps the host's passwd lookups, so it needs
 * their modules: ssh refuses to run when its uid has no passwd entry, and a
 * systemd DynamicUser has one only through nss-systemd.
 */
void sandbox_nss_services(const char *nsswitch, struct strvec *out);

/* ---- the backends (sandbox_*.c) ---------------------------------------- */

/* ELF/script closure of one program into files/links (sandbox_elf.c). */
int sandbox_closure_add(struct sandbox_plan *plan, const char *path, struct strbuf *err);
/* A library by soname, found like a DT_NEEDED of zkeep's own machine. */
int sandbox_closure_add_library(struct sandbox_plan *plan, const char *name, struct strbuf *err);
/* Record path and every symlink on its way; *real gets the final real path if non-NULL. */
int sandbox_closure_add_path(struct sandbox_plan *plan, const char *path, char **real,
			     struct strbuf *err);

/* The highest Landlock ABI of the running kernel, or -errno (-EOPNOTSUPP: disabled). */
int sandbox_landlock_abi(void);
/* Rights a file rule / directory rule may carry for an ABI. */
uint64_t sandbox_landlock_fs_mask(int abi);
int sandbox_landlock_apply(const struct sandbox_plan *plan, struct strbuf *err);
void sandbox_landlock_describe(const struct sandbox_plan *plan, struct strbuf *out);

int sandbox_seccomp_apply(struct strbuf *err);
void sandbox_seccomp_describe(struct strbuf *out);

int sandbox_ns_enter(const struct sandbox_plan *plan, struct strbuf *err);

/* Landlock access bits used in rules (values of the kernel ABI). */
#define SBX_FS_EXECUTE (1ULL << 0)
#define SBX_FS_WRITE_FILE (1ULL << 1)
#define SBX_FS_READ_FILE (1ULL << 2)
#define SBX_FS_READ_DIR (1ULL << 3)
#define SBX_FS_REMOVE_DIR (1ULL << 4)
#define SBX_FS_REMOVE_FILE (1ULL << 5)
#define SBX_FS_MAKE_CHAR (1ULL << 6)
#define SBX_FS_MAKE_DIR (1ULL << 7)
#define SBX_FS_MAKE_REG (1ULL << 8)
#define SBX_FS_MAKE_SOCK (1ULL << 9)
#define SBX_FS_MAKE_FIFO (1ULL << 10)
#define SBX_FS_MAKE_BLOCK (1ULL << 11)
#define SBX_FS_MAKE_SYM (1ULL << 12)
#define SBX_FS_REFER (1ULL << 13)    /* ABI 2 */
#define SBX_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define SBX_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */

#define SBX_RO (SBX_FS_READ_FILE | SBX_FS_READ_DIR)
#define SBX_RX (SBX_RO | SBX_FS_EXECUTE)
#define SBX_RW ((1ULL << 16) - 1 - SBX_FS_EXECUTE - SBX_FS_MAKE_CHAR - SBX_FS_MAKE_BLOCK - \
		SBX_FS_IOCTL_DEV)

#endif
