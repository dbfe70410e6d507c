/*
 * cli/drive_confined.h - `zkeep drive backup`'s replication in a confined
 * worker.
 *
 * The supervisor (root) imports the drive's pool, creates the targets'
 * missing parents, and afterwards sets the targets' properties, scrubs,
 * exports and powers off (drive.h): zpool import and export cannot be
 * delegated. What reads the drive's datasets and writes into them, the
 * replication of every configured dataset, runs as a run uid under the
 * grants the one rule gives a replication (jobconf_repl_needs(), per source
 * and drive target), in the sandbox every confined job gets (confine.h).
 * The worker keeps its counts so far in an anonymous file, rewritten after
 * each dataset; root parses them as the worker's word (four numbers,
 * nothing else), also after a stop.
 *
 * Not confined: with --no-confine (warned), and inside a service whose own
 * sandbox leaves no room for a worker (one without CONFINE_SUPERVISOR_CAPS;
 * said at info level), where the replication runs in the process.
 */
#ifndef ZKEEP_CLI_DRIVE_CONFINED_H
#define ZKEEP_CLI_DRIVE_CONFINED_H

#include "drive/drive.h"

#include <pthread.h>

struct drive_confined {
	int stop_fd; /* > 2: readable once the backup must stop (the signal thread writes) */
	pthread_mutex_t *clone_lock; /* the signal thread's (sandbox_worker_start()) */
	const char *state_dir;       /* zkeep.conf's (or ZKEEP_STATE_DIR): the journals */
	unsigned uid_min, uid_max;   /* zkeep.conf's run_uids */
};

/* A drive_opts.replicate: data is a struct drive_confined. */
void drive_replicate_confined(void *data, struct zfs *z, const struct drive_opts *o,
			      const char *pool, const bool *skip, struct drive_result *res);

#endif
