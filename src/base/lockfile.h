/*
 * base/lockfile.h - exclusive locks on files (flock), as the run locks of the
 * snapshot engine and the replication driver use them: a file per lock,
 * created when missing, locked while its descriptor is open (closing it, or
 * exiting, releases the lock), holding the pid of its holder on its first
 * line.
 */
#ifndef ZKEEP_BASE_LOCKFILE_H
#define ZKEEP_BASE_LOCKFILE_H

#include "base/zkeep.h"
#include "base/strbuf.h"

/* Open path for locking, creating it (mode 0644), never through a symlink: fd or -errno. */
int lockfile_open(const char *path);
/*
 * Lock fd exclusively: wait for the lock when wait, else -EWOULDBLOCK when
 * another holds it. 0 or -errno.
 */
int lockfile_lock(int fd, bool wait);
/* lockfile_open() and lockfile_lock(): the locked descriptor, or -errno. */
int lockfile_take(const char *path, bool wait);
/* Make our pid the content of a held lock ("PID\n"). 0 or -errno. */
int lockfile_write_pid(int fd);
/* The first line of the lock file (its holder's pid; "" when none) into out. */
void lockfile_holder(int fd, struct strbuf *out);

#endif
