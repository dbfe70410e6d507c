/*
 * tests/tools/test-tty-escape.c - a hostile worker's terminal tricks, for 72-hostile-worker-tty.bats.
 *
 * Run as a confined worker (`zkeep confine --run JOB -- test-tty-escape`), it
 * tries each way a worker could reach the admin's terminal or the kernel's
 * rarely needed attack surface, and prints one line per attempt:
 *   "tiocsti fd0: EPERM" (refused), "tiocsti fd0: INJECTED" (it worked), ...
 * The injected text is never printed by the tool itself: if it shows up in
 * the terminal's output, the terminal received it as input.
 * Targets: TIOCSTI and TIOCLINUX on fds 0, 1, 2 and /dev/tty; userfaultfd
 * (user-mode only, which needs no privilege); personality other than the
 * default; and whether it has a controlling terminal ("ctty none").
 * Exit status 0 always: the test judges the lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

static const char inject[] = "echo ZKEEP-TTY-INJECTED\n";

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOTTY: return "ENOTTY";
	case EBADF: return "EBADF";
	case ENXIO: return "ENXIO";
	case EINVAL: return "EINVAL";
	case EIO: return "EIO";
	case ENOSYS: return "ENOSYS";
	case EACCES: return "EACCES";
	default: return strerror(e);
	}
}

static void try_fd(const char *name, int fd)
{
	int e = 0;
	for (const char *c = inject; *c; c++)
		if (ioctl(fd, TIOCSTI, c) < 0) {
			e = errno;
			break;
		}
	printf("tiocsti %s: %s\n", name, e ? errname(e) : "INJECTED");
	char sub = 6; /* TIOCL_GETSHIFTSTATE: harmless; the filter must refuse the request */
	printf("tioclinux %s: %s\n", name, ioctl(fd, TIOCLINUX, &sub) < 0 ? errname(errno) : "ALLOWED");
}

int main(void)
{
	try_fd("fd0", 0);
	try_fd("fd1", 1);
	try_fd("fd2", 2);
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty < 0)
		printf("tiocsti tty: open %s\n", errname(errno));
	else
		try_fd("tty", tty);
	/* A request with high bits set: the kernel takes the low 32. */
	unsigned long wide = 0x100000000UL | TIOCSTI;
	printf("tiocsti wide: %s\n", syscall(SYS_ioctl, 0, wide, inject) < 0 ? errname(errno) : "INJECTED");
	long u = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	printf("userfaultfd: %s\n", u < 0 ? errname(errno) : "ALLOWED");
	int p = personality(0xffffffff);
	printf("personality query: %s\n", p < 0 ? errname(errno) : "ok");
	printf("personality addr_no_randomize: %s\n",
	       personality(PER_LINUX | ADDR_NO_RANDOMIZE) < 0 ? errname(errno) : "ALLOWED");
	/* the controlling terminal: field 7 (tty_nr) of /proc/self/stat, 0 for none */
	char stat[1024] = "";
	FILE *f = fopen("/proc/self/stat", "r");
	if (f) {
		if (!fgets(stat, sizeof(stat), f))
			stat[0] = '\0';
		fclose(f);
	}
	const char *rp = strrchr(stat, ')');
	int tty_nr = -1;
	if (!rp || sscanf(rp, ") %*c %*d %*d %*d %d", &tty_nr) != 1)
		printf("ctty unknown\n");
	else if (tty_nr == 0)
		printf("ctty none\n");
	else
		printf("ctty %d\n", tty_nr);
	fflush(stdout);
	return 0;
}
