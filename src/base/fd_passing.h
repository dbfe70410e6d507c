/*
 * base/fd_passing.h - descriptors over an AF_UNIX socket (SCM_RIGHTS), one
 * way to build and to read them for every channel: a worker's requests to
 * root (zfs/root_request.c, confine/sandbox.c) and the ssh connector's
 * answer (replication/ssh_connector.c).
 */
#ifndef ZKEEP_BASE_FD_PASSING_H
#define ZKEEP_BASE_FD_PASSING_H

#include "base/zkeep.h"

#include <sys/socket.h>

#define FD_PASSING_MAX 4 /* descriptors one message carries at most */

/*
 * Send the len bytes at buf with the nfds (<= FD_PASSING_MAX) descriptors
 * fds attached (none when nfds is 0), MSG_NOSIGNAL. Async-signal-safe: no
 * allocation. 0 or -errno.
 */
int fd_passing_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

/*
 * The descriptors a received message carries: the first max of them into
 * fds, in order, and any beyond closed. How many it carried in all.
 */
size_t fd_passing_take(struct msghdr *mh, int *fds, size_t max);

#endif
