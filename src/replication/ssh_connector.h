/*
 * replication/ssh_connector.h - root makes a systemd job unit's ssh connection.
 *
 * A job unit's run (a DynamicUser) has a network namespace of its own with
 * nothing in it (PrivateNetwork=yes), like root's confined workers: it
 * cannot reach any host, port or protocol. Its ssh gets the one TCP
 * connection it needs from root's connector service (`zkeep allow
 * --serve-connection`, on the job's connect socket, Accept=no), which
 * serves only the uid that holds the job's grants, connects to the host and
 * port the job's configuration names (never one the run asks for: the run
 * sends nothing) and passes the socket over, as root's supervisor does for
 * its own worker (ssh.h: ProxyCommand=- over a connected socket).
 *
 * The answer is one message on the SOCK_SEQPACKET connection: "ok" with the
 * connected socket attached (SCM_RIGHTS), or "error " and why.
 */
#ifndef ZKEEP_SSH_CONNECTOR_H
#define ZKEEP_SSH_CONNECTOR_H

#include "base/zkeep.h"
#include "base/strbuf.h"

/* Where a job unit's run finds its connector (units set it). */
#define SSH_CONNECTOR_ENV "ZKEEP_SSH_CONNECTOR"
#define SSH_CONNECTOR_MAX 4096 /* bytes of an answer */

/*
 * Root's side: answer conn with fd (>= 0, "ok") or with why (fd < 0).
 * 0 or -errno.
 */
int ssh_connector_answer(int conn, int fd, const char *why);

/*
 * The run's side: connect to the connector at path and take the socket it
 * passes (close-on-exec) into *fd, waiting at most timeout_ms for it. 0, or
 * -errno with why in err (root's refusal quoted as it came: the caller
 * escapes what it prints).
 */
int ssh_connector_fetch(const char *path, int timeout_ms, int *fd, struct strbuf *err);

#endif
