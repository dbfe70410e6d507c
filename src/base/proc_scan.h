/*
 * base/proc_scan.h - the processes running on this host, from /proc.
 *
 * proc_scan() calls fn once per process, other than this one, with its pid
 * and command line (/proc/PID/cmdline: its words, each ending in a NUL).
 * The "is a zfs receive into this target running?" checks of the
 * replication driver and of the pruning engine both walk /proc with it.
 */
#ifndef ZKEEP_BASE_PROC_SCAN_H
#define ZKEEP_BASE_PROC_SCAN_H

#include "base/zkeep.h"
#include "base/strvec.h"

/* The most of a command line that is read (64 KiB); the rest is cut. */
#define PROC_CMDLINE_MAX (64 << 10)

struct proc_entry {
	pid_t pid;
	const char *cmdline;  /* NUL-separated words, NUL-terminated; never NULL */
	size_t len;           /* bytes in cmdline; 0 for a kernel thread */
	int read_error;       /* 0; -E2BIG: longer than PROC_CMDLINE_MAX (cmdline holds
			       * its start); else -errno (gone meanwhile) */
};

/*
 * Call fn(entry, data) for each process of proc_dir ("/proc"; another
 * directory of PID/cmdline files in tests) but this one, in directory
 * order, until fn returns non-zero: that value is returned. 0 when every
 * process was seen, or -errno when proc_dir cannot be read.
 */
int proc_scan(const char *proc_dir, int (*fn)(const struct proc_entry *p, void *data),
	      void *data);

/* The words of a command line (cmdline, len as in struct proc_entry), appended to argv. */
void proc_cmdline_argv(const char *cmdline, size_t len, struct strvec *argv);

#endif
