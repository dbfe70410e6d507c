/*
 * confine/confine.h - the supervisor: run a job's work in a confined worker.
 *
 * This is what commands that change ZFS wrap their work in. A command says
 * what its job touches - datasets, on which side, with which operations
 * (delegation.h's needs) - which programs its worker execs (zfs, ssh), what
 * it reads and where it may connect; and gives the function that does the
 * work. confine_run() then, as root:
 *   1. revokes grants left by crashed runs (grants_recover);
 *   2. probes the ZFS version (`zfs version`) and computes the minimal grants;
 *   3. takes a transient run uid, journals and applies the grants;
 *   4. makes the worker's own directory, new for each run:
 *      STATE/work/JOB-XXXXXXXXXXXX (random; owned by the run uid; STATE/work
 *      and the journal in STATE/grants stay root's, out of its reach), and
 *      copies job->files into it;
 *   5. starts the worker (sandbox.h) running fn(data, that directory),
 *      waits for it (a SIGINT/SIGTERM/SIGHUP to the supervisor kills the
 *      worker first);
 *   6. removes that directory (through dirfds: unlinkat() relative to
 *      directories opened O_NOFOLLOW, so nothing the worker left there, a
 *      symlink say, leads root outside it) and revokes the grants, success
 *      or not.
 * Started by another user, there is nothing to grant or switch to: the
 * worker gets no_new_privs + Landlock + seccomp and runs on the grants an
 * admin made; info->missing lists those the job lacks (from `zfs allow`).
 * With job->no_confine, fn runs unconfined in the caller (debugging only;
 * the command must say so loudly).
 *
 * The supervisor never parses data from another host: fn, in the worker,
 * does all of that. Grants on other hosts (needs with a host) are not
 * supported yet: confine_run() refuses them with -EOPNOTSUPP.
 */
#ifndef ZKEEP_CONFINE_H
#define ZKEEP_CONFINE_H

#include "zfs/delegation.h"
#include "confine/grants.h"
#include "confine/sandbox.h"

#include <time.h>

#define CONFINE_STATE_DIR_DEFAULT "/var/lib/zkeep"

/*
 * The capabilities root's supervisor starts a worker with: CAP_SYS_ADMIN
 * (namespaces, mounts, the ZFS ioctls) and what making the worker takes
 * (switching to the run uid, dropping its bounding set, owning its directory,
 * ending it). A systemd unit that hosts workers keeps these in its
 * CapabilityBoundingSet= (drive/drive_units.c).
 */
#define CONFINE_SUPERVISOR_CAPS \
	"CAP_SYS_ADMIN CAP_SETUID CAP_SETGID CAP_SETPCAP CAP_KILL CAP_CHOWN CAP_FOWNER " \
	"CAP_DAC_OVERRIDE"
/* Whether this process's bounding set still holds every one of them. */
bool confine_supervisor_caps_bounded(void);

/*
 * A file of the caller the worker needs but must not read in place (an ssh
 * key in a root-only directory): as root, copied before the worker starts to
 * WORK/NAME (WORK: the run's directory, which is also the worker's home),
 * mode 0400, owned by the run uid, and removed with WORK after the run. NAME
 * may have one directory part (".ssh/known_hosts"), made root's (mode 0755:
 * the worker cannot replace the copies in it). A missing source is skipped
 * unless required. Not root: nothing is copied; the command points at the
 * original (and adds it to ro_paths).
 */
struct confine_file {
	const char *src;
	const char *name;
	bool required;
};
#define CONFINE_MAX_FILES 64
#define CONFINE_MAX_FILE_SIZE (1 << 20)

struct confine_job {
	const char *name;              /* job name: [A-Za-z0-9_.-]+ (names the work dir) */
	const char *state_dir;         /* default CONFINE_STATE_DIR_DEFAULT */
	const struct deleg_need *needs;
	size_t nneeds;
	const char *const *programs;   /* default { "zfs", "zpool" } */
	const char *const *ro_paths;
	const unsigned *tcp_ports;
	size_t n_tcp_ports;
	const struct confine_file *files; /* copied into the worker's directory (root) */
	size_t nfiles;
	const int *keep_fds;           /* open files the worker keeps (e.g. one it reports into) */
	size_t nkeep_fds;
	uid_t uid_min, uid_max;        /* 0: GRANTS_UID_*_DEFAULT */
	bool no_confine;
	const char *root_dir;          /* tests; default in sandbox.h */
	unsigned zfs_major, zfs_minor; /* 0.0: probe `zfs version` */
	const char *const *guard_keep; /* the operator's own o k=v / x k words (prop_guard.h) */
	const struct sandbox_requests *requests; /* what root does for the worker on its asking;
						  * its worker end goes in keep_fds */
	int stop_fd;                   /* > 0: readable once the worker must be killed (a
					* caller whose signals another thread takes); 0 none */
	pthread_mutex_t *clone_lock;   /* a caller with other threads: sandbox_worker_start() */
};

struct confine_info {
	bool privileged;
	uid_t uid;                     /* the run uid (privileged) */
	char *work_dir;                /* the run's directory (removed after the run) */
	struct deleg_set grants;       /* what was (or would be) granted */
	struct strvec recovered;       /* leftovers of crashed runs revoked at start */
	struct strvec pending;         /* leftovers waiting for their pool to be imported */
	struct strvec missing;         /* not root: `zfs allow` commands an admin still must run */
	unsigned zfs_major, zfs_minor;
	int landlock_abi;              /* of the worker's plan; <= 0: it ran without Landlock */
	struct timespec worker_ended;  /* wall clock when the worker (or fn) had ended */
	struct strvec repaired;        /* guarded properties the worker weakened, put back */
	int journal_fd;                /* the run's grant journal while the worker runs, or -1 */
	bool unit_journal;             /* journal_fd is a unit's run's (grants_job_journal()),
					* which nobody here holds locked */
};
#define CONFINE_INFO_INIT { .grants = DELEG_SET_INIT, .recovered = STRVEC_INIT, \
	.pending = STRVEC_INIT, .missing = STRVEC_INIT, .repaired = STRVEC_INIT, \
	.journal_fd = -1 }
void confine_info_release(struct confine_info *ci);

/* The work of a job: work_dir is the run's directory (NULL with no_confine). */
typedef int confine_fn(void *data, const char *work_dir);

/*
 * Run fn(data, WORK) confined as described. *status gets the worker's exit status
 * (fn's return value; 128+N when killed by signal N). Returns 0 when the
 * worker ran (whatever its status) and every grant was revoked, else -errno
 * with the reason in err: -EPERM when the worker weakened a property of the
 * quarantine, which root has put back (prop_guard.h; info->repaired says
 * what). info (may be NULL) gets what was done.
 */
int confine_run(const struct confine_job *job, confine_fn *fn, void *data, int *status,
		struct confine_info *info, struct strbuf *err);

/*
 * While the worker of ci's run lives, in root or a process root forked (it
 * keeps ci->journal_fd open): grant the run uid what need asks for on a
 * dataset root has just created for it (a new receive target; need->exists
 * is taken as true), journalled and revoked with the run's other grants.
 * Also for a unit's run (ci->unit_journal): -ESTALE when its grants were
 * revoked meanwhile. -EBADF when no run is live; -errno with the reason in err.
 */
int confine_grant_created(const struct confine_info *ci, const struct deleg_need *need,
			  struct strbuf *err);

/*
 * Without running anything: the grants (for the given or probed ZFS
 * version) and the sandbox plan the job would get. The plan is privileged
 * when the caller is root.
 */
int confine_preview(const struct confine_job *job, struct deleg_set *grants,
		    struct sandbox_plan *plan, unsigned *zfs_major, unsigned *zfs_minor,
		    struct strbuf *err);

#endif
