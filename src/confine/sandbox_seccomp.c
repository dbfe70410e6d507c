/*
 * sandbox_seccomp.c - the syscall allow-list (libseccomp).
 *
 * The list is systemd's @system-service group (systemd 252, as
 * `systemd-analyze syscall-filter` expands it) minus @aio @chown @keyring
 * @memlock @privileged @resources @setuid: what the NixOS syncoid unit
 * allows, and userfaultfd (a tool for exploiting kernel races) left out.
 * ioctl stays (every ZFS operation is an ioctl on /dev/zfs). Refinements:
 *   - ioctl refuses TIOCSTI and TIOCLINUX: a worker must never type into a
 *     terminal (it has none: sandbox.c; this also covers one it might open);
 *   - personality only queries or sets the default PER_LINUX (no
 *     READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE and the like);
 *   - unshare and clone are allowed only without CLONE_NEWUSER: a user
 *     namespace would give the worker a root it does not have elsewhere
 *     (and ZFS 2.2+ would hide every dataset from it anyway);
 *   - clone3 passes its flags in memory seccomp cannot read: it answers
 *     ENOSYS so that glibc falls back to clone;
 *   - everything else fails with EPERM (not a kill: a program probing an
 *     optional syscall goes on).
 * The filter is inherited across execve: it covers the zfs and ssh clients
 * too, which is why the list is a whole service's and not zkeep's alone.
 * Names unknown to libseccomp or to this architecture are skipped.
 */
#include "base/zkeep.h"
#include "confine/sandbox.h"

#include <sched.h>
#include <sys/ioctl.h>
#include <seccomp.h>

static const char *const allowed[] = {
	"_llseek", "_newselect", "accept", "accept4", "access", "alarm", "arch_prctl",
	"arm_fadvise64_64", "bind", "brk", "cacheflush", "capget", "chdir", "chmod", "clock_getres",
	"clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
	"clock_nanosleep_time64", "clone", "clone3", "close", "close_range", "connect",
	"copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
	"epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old",
	"eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2",
	"fadvise64", "fadvise64_64", "fallocate", "fchdir", "fchmod", "fchmodat", "fchmodat2",
	"fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
	"fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
	"ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat", "get_mempolicy",
	"get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
	"getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
	"getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
	"getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "getrusage",
	"getsid", "getsockname", "getsockopt", "gettid", "gettimeofday", "getuid", "getuid32",
	"getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "ioctl",
	"ioprio_get", "ipc", "kcmp", "kill", "lgetxattr", "link", "linkat", "listen", "listxattr",
	"llistxattr", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
	"membarrier", "memfd_create", "mkdir", "mkdirat", "mknod", "mknodat", "mmap", "mmap2",
	"mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
	"mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
	"msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munmap", "name_to_handle_at", "nanosleep",
	"newfstatat", "oldfstat", "oldlstat", "oldolduname", "oldstat", "olduname", "open", "openat",
	"openat2", "pause", "personality", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "poll",
	"ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
	"process_madvise", "process_vm_readv", "process_vm_writev", "pselect6", "pselect6_time64",
	"pwrite64", "pwritev", "pwritev2", "read", "readahead", "readdir", "readlink", "readlinkat",
	"readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
	"removexattr", "rename", "renameat", "renameat2", "restart_syscall", "riscv_flush_icache",
	"riscv_hwprobe", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
	"rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
	"rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
	"sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
	"sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_yield",
	"select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
	"sendfile64", "sendmmsg", "sendmsg", "sendto", "set_robust_list", "set_thread_area",
	"set_tid_address", "set_tls", "setfsgid", "setfsgid32", "setitimer", "setns", "setpgid",
	"setsid", "setsockopt", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
	"sigaction", "sigaltstack", "signal", "signalfd", "signalfd4", "sigpending", "sigprocmask",
	"sigreturn", "sigsuspend", "socket", "socketcall", "socketpair", "splice", "stat", "stat64",
	"statfs", "statfs64", "statx", "swapcontext", "symlink", "symlinkat", "sync",
	"sync_file_range", "sync_file_range2", "syncfs", "sysinfo", "tee", "tgkill", "time",
	"timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
	"timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
	"timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
	"ugetrlimit", "umask", "uname", "unlink", "unlinkat", "unshare", "uretprobe",
	"utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid",
	"waitpid", "write", "writev",
};

/* Handled with argument checks or special answers below. */
static bool special(const char *name)
{
	return streq(name, "clone") || streq(name, "clone3") || streq(name, "unshare") ||
	       streq(name, "ioctl") || streq(name, "personality");
}

/* ioctl requests no worker may make: typing into a terminal, the console's selection. */
static const uint32_t refused_ioctls[] = { TIOCSTI, TIOCLINUX };

static bool has_refused_prefix(uint32_t prefix, uint32_t mask)
{
	for (size_t i = 0; i < ARRAY_SIZE(refused_ioctls); i++)
		if ((refused_ioctls[i] & mask) == prefix)
			return true;
	return false;
}

/*
 * Allow ioctl for every request but the refused ones. The kernel reads the
 * request as 32 bits (high bits of the register are dropped), and
 * libseccomp merges an unconditional allow over conditional refusals, so
 * the allowed requests are spelled out as the prefixes (top `bits` bits of
 * the low 32) that contain no refused request: at most 32 per refused one.
 */
static int allow_ioctls(scmp_filter_ctx ctx, int nr, uint32_t prefix, unsigned bits)
{
	uint32_t mask = bits ? (uint32_t)(0xffffffffULL << (32 - bits)) : 0;
	if (!has_refused_prefix(prefix, mask))
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A1(SCMP_CMP_MASKED_EQ, (scmp_datum_t)mask, prefix));
	if (bits == 32)
		return 0; /* a refused request */
	int r = allow_ioctls(ctx, nr, prefix, bits + 1);
	if (r < 0)
		return r;
	return allow_ioctls(ctx, nr, prefix | (uint32_t)(1ULL << (31 - bits)), bits + 1);
}

/* personality(2): only the query (0xffffffff) and the default PER_LINUX. */
static int allow_personality(scmp_filter_ctx ctx)
{
	int nr = seccomp_syscall_resolve_name("personality");
	int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, 0));
	if (r < 0)
		return r;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, 0xffffffffULL));
}

int sandbox_seccomp_apply(struct strbuf *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int r;
	if (!ctx) {
		strbuf_addstr(err, "cannot initialise the seccomp filter");
		return -ENOMEM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		if (special(allowed[i]))
			continue;
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue; /* not a syscall of this architecture */
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0) {
			strbuf_addf(err, "cannot allow syscall %s: %s", allowed[i], strerror(-r));
			goto out;
		}
	}
	const char *masked[] = { "clone", "unshare" };
	for (size_t i = 0; i < ARRAY_SIZE(masked); i++) {
		int nr = seccomp_syscall_resolve_name(masked[i]);
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, (scmp_datum_t)CLONE_NEWUSER, 0));
		if (r < 0) {
			strbuf_addf(err, "cannot add the seccomp rule for %s: %s", masked[i],
				    strerror(-r));
			goto out;
		}
	}
	if ((r = allow_ioctls(ctx, seccomp_syscall_resolve_name("ioctl"), 0, 0)) < 0) {
		strbuf_addf(err, "cannot add the seccomp rules for ioctl: %s", strerror(-r));
		goto out;
	}
	if ((r = allow_personality(ctx)) < 0) {
		strbuf_addf(err, "cannot add the seccomp rules for personality: %s", strerror(-r));
		goto out;
	}
	int nr3 = seccomp_syscall_resolve_name("clone3");
	if (nr3 != __NR_SCMP_ERROR && nr3 >= 0 &&
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr3, 0)) < 0) {
		strbuf_addf(err, "cannot add the seccomp rule for clone3: %s", strerror(-r));
		goto out;
	}
	if ((r = seccomp_load(ctx)) < 0)
		strbuf_addf(err, "cannot load the seccomp filter: %s", strerror(-r));
out:
	seccomp_release(ctx);
	return r < 0 ? r : 0;
}

void sandbox_seccomp_describe(struct strbuf *out)
{
	strbuf_addstr(out, "seccomp: allow-list (systemd @system-service minus @aio @chown "
		      "@keyring @memlock @privileged @resources @setuid); others fail with "
		      "EPERM\n  clone, unshare: only without CLONE_NEWUSER; clone3: ENOSYS\n"
		      "  ioctl: all but TIOCSTI and TIOCLINUX; personality: PER_LINUX and the "
		      "query only\n"
		      "  allowed:");
	size_t col = 11;
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue;
		size_t n = strlen(allowed[i]) + 1;
		if (col + n > 96) {
			strbuf_addstr(out, "\n   ");
			col = 3;
		}
		strbuf_addch(out, ' ');
		strbuf_addstr(out, allowed[i]);
		col += n;
	}
	strbuf_addch(out, '\n');
}
